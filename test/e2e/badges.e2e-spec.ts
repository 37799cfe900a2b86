import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { CertificateRecipientSalt1765000000000 } from '../../migrations/1765000000000-certificate-recipient-salt';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { fullCourse } from '../support/courses';
import { provisionEngines, TestEngines } from '../support/engines';

type Signed = Visitor & { userId: number; email: string; password: string };

const OB2 = 'https://w3id.org/openbadges/v2';

/** The chunks of a PNG, each CRC checked: a reader of our own, so the test does not trust the app's. */
function pngChunks(png: Buffer): Array<{ type: string; data: Buffer }> {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const chunks: Array<{ type: string; data: Buffer }> = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    chunks.push({ type, data });
    at += 12 + length;
  }
  expect(chunks[0].type).toBe('IHDR');
  expect(chunks.at(-1)!.type).toBe('IEND');
  return chunks;
}

/** An iTXt chunk's fields (PNG §11.3.4.5): keyword, compression flag and method, language tag, translated keyword, text. */
function iTXt(data: Buffer) {
  const keywordEnd = data.indexOf(0);
  const languageEnd = data.indexOf(0, keywordEnd + 3);
  const translatedEnd = data.indexOf(0, languageEnd + 1);
  return {
    keyword: data.toString('latin1', 0, keywordEnd),
    compressed: data[keywordEnd + 1],
    method: data[keywordEnd + 2],
    language: data.toString('latin1', keywordEnd + 3, languageEnd),
    translated: data.toString('utf8', languageEnd + 1, translatedEnd),
    text: data.toString('utf8', translatedEnd + 1),
  };
}

const openBadgesChunks = (png: Buffer) => pngChunks(png).filter((c) => c.type === 'iTXt' && iTXt(c.data).keyword === 'openbadges');

/** The fields Open Badges 2.0 requires of a hosted Assertion. */
function expectOpenBadgesAssertion(a: any, id: string) {
  expect(a['@context']).toBe(OB2);
  expect(a.type).toBe('Assertion');
  expect(a.id).toBe(id);
  expect(a.recipient).toEqual({ type: 'email', hashed: true, salt: expect.stringMatching(/^[0-9a-f]{32}$/), identity: expect.stringMatching(/^sha256\$[0-9a-f]{64}$/) });
  expect(a.badge).toMatch(/^http:\/\/academy\.test\/badges\/classes\/course-\d+$/);
  expect(a.verification).toEqual({ type: 'hosted' });
  expect(new Date(a.issuedOn).toISOString()).toBe(a.issuedOn);
}

function expectReadableCrossOrigin(answer: { headers: Record<string, unknown> }) {
  expect(answer.headers['access-control-allow-origin']).toBe('*');
  expect(answer.headers['cross-origin-resource-policy']).toBe('cross-origin');
}

function expectSameOriginOnly(answer: { headers: Record<string, unknown> }) {
  expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  expect(answer.headers['cross-origin-resource-policy']).toBe('same-origin');
}

describe('Open Badges', () => {
  let t: TestApp;
  let ds: DataSource;
  let author: Signed;
  let learner: Signed;
  let api: Visitor;
  let first: Certificate;
  let second: Certificate;

  beforeAll(async () => {
    t = await startTestApp({ VERIFY_RATE_LIMIT_PER_MINUTE: '60' });
    ds = t.app.get(DataSource);
    author = await t.signedIn('author');
    learner = await t.signedIn('learner', { name: 'Grace Hopper' });
    api = await t.apiClient(learner.email, learner.password);
    // One learner, two courses (one of 90 minutes' CPD): two certificates, two assertions for one e-mail address.
    await completeCourse(60);
    await completeCourse(90);
    await t.drainJobs();
    [first, second] = await ds.getRepository(Certificate).find({ where: { userId: learner.userId }, order: { id: 'ASC' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Completes a new course through the API, as a learner would. */
  async function completeCourse(cpdMinutes: number) {
    const c = await fullCourse(t, author.userId, `Open badges ${Math.random().toString(36).slice(2, 6)}`);
    if (cpdMinutes !== 60) await ds.getRepository(Course).update({ id: c.course.id }, { cpdMinutes });
    expect((await api.request('POST', '/api/v1/enrolments', { json: { courseId: c.course.id } })).status).toBe(201);
    await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`);
    const clock = t.app.get(Clock);
    for (let from = 0; from < 73; from += 10) {
      clock.travel(10_000);
      expect((await api.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from, to: Math.min(from + 10, 73) } })).status).toBe(200);
    }
    const [single, multiple] = c.questions;
    const answers = { [single.id]: [single.options[0].id], [multiple.id]: [multiple.options[0].id, multiple.options[1].id] };
    expect((await api.request('POST', `/api/v1/quizzes/${c.quiz.id}/attempts`, { json: { answers } })).json().passed).toBe(true);
    expect((await api.request('POST', `/api/v1/lessons/${c.resource.id}/complete`)).json().courseComplete).toBe(true);
    await ds.getRepository(Enrolment).findOneByOrFail({ userId: learner.userId, courseId: c.course.id });
  }

  it('hashes the recipient with a random salt stored on each certificate, different for every assertion', async () => {
    expect(first.recipientSalt).toMatch(/^[0-9a-f]{32}$/);
    expect(second.recipientSalt).toMatch(/^[0-9a-f]{32}$/);
    expect(first.recipientSalt).not.toBe(second.recipientSalt);
    const visitor = t.visitor();
    const identities = new Set<string>();
    for (const certificate of [first, second]) {
      const id = `http://academy.test/badges/assertions/${certificate.code}`;
      const answer = await visitor.get(new URL(id).pathname);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toContain('application/ld+json');
      const a = answer.json();
      expectOpenBadgesAssertion(a, id);
      expect(a.recipient.salt).toBe(certificate.recipientSalt);
      expect(a.recipient.identity).toBe(`sha256$${createHash('sha256').update(learner.email + certificate.recipientSalt).digest('hex')}`);
      expect(answer.body).not.toContain(learner.email);
      identities.add(a.recipient.identity);
    }
    expect(identities.size).toBe(2);
    // The salt is the certificate's, not derived from anything the server holds: the same document on every read.
    expect((await visitor.get(`/badges/assertions/${first.code}`)).json().recipient.salt).toBe(first.recipientSalt);
  });

  it('serves the badge baked (OB 2.0): an iTXt "openbadges" chunk holding the URL of an assertion that validates', async () => {
    const visitor = t.visitor();
    const assertion = (await visitor.get(`/badges/assertions/${second.code}`)).json();
    expect(assertion.image).toBe(`http://academy.test/badges/assertions/${second.code}/badge.png`);
    const baked = await visitor.get(new URL(assertion.image).pathname);
    expect(baked.status).toBe(200);
    expect(baked.headers['content-type']).toBe('image/png');
    expect(baked.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="Badge Open badges \\w+ ${second.code}\\.png"`));

    const chunks = openBadgesChunks(baked.bytes);
    expect(chunks).toHaveLength(1);
    const chunk = iTXt(chunks[0].data);
    expect(chunk).toEqual({ keyword: 'openbadges', compressed: 0, method: 0, language: '', translated: '', text: `http://academy.test/badges/assertions/${second.code}` });
    // Before the image data, so a reader that stops at the first openbadges chunk reads little.
    expect(pngChunks(baked.bytes).map((c) => c.type).indexOf('iTXt')).toBeLessThan(pngChunks(baked.bytes).map((c) => c.type).indexOf('IDAT'));
    const hosted = await visitor.get(new URL(chunk.text).pathname);
    expectOpenBadgesAssertion(hosted.json(), chunk.text);
    expect(hosted.json().recipient.salt).toBe(second.recipientSalt);

    // A real image: 400×400 RGBA, transparent corners, NHS blue inside the ring, white where the hours are drawn.
    const image = PNG.sync.read(baked.bytes);
    expect([image.width, image.height]).toEqual([400, 400]);
    const pixel = (x: number, y: number) => [...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 4)];
    expect(pixel(2, 2)[3]).toBe(0);
    expect(pixel(200, 40)).toEqual([0x00, 0x5e, 0xb8, 255]);
    let white = 0;
    for (let y = 150; y < 255; y++) for (let x = 60; x < 340; x++) if (pixel(x, y).every((v) => v === 255)) white++;
    expect(white).toBeGreaterThan(2000);

    // The BadgeClass points at the same badge unbaked; its hours are the course's (1.5 here, as on this certificate).
    const badgeClass = (await visitor.get(new URL(assertion.badge).pathname)).json();
    expect(badgeClass).toMatchObject({ '@context': OB2, type: 'BadgeClass', id: assertion.badge, image: `${assertion.badge}/image.png` });
    const unbaked = await visitor.get(new URL(badgeClass.image).pathname);
    expect(unbaked.status).toBe(200);
    expect(unbaked.headers['content-type']).toBe('image/png');
    expect(openBadgesChunks(unbaked.bytes)).toHaveLength(0);
    expect(PNG.sync.read(unbaked.bytes).data.equals(image.data)).toBe(true);
    // Another certificate's badge shows its own hours: other pixels.
    const other = await visitor.get(`/badges/assertions/${first.code}/badge.png`);
    expect(iTXt(openBadgesChunks(other.bytes)[0].data).text).toBe(`http://academy.test/badges/assertions/${first.code}`);
    expect(PNG.sync.read(other.bytes).data.equals(image.data)).toBe(false);
    expect((await visitor.get('/badges/assertions/2222-3333-4444/badge.png')).status).toBe(404);
    expect((await visitor.get('/badges/classes/course-99999999/image.png')).status).toBe(404);
  });

  it('gives the badge link in the API, on My certificates and on the verify page', async () => {
    const badgeUrl = (c: Certificate) => `http://academy.test/badges/assertions/${c.code}`;
    const list = (await api.get('/api/v1/certificates')).json();
    expect(list.map((c: { code: string; badgeUrl: string }) => [c.code, c.badgeUrl])).toEqual([second, first].map((c) => [c.code, badgeUrl(c)]));
    expect((await t.visitor().get(`/api/v1/verify/${first.code}`)).json().badgeUrl).toBe(badgeUrl(first));

    const mine = await learner.get('/my-certificates');
    for (const c of [first, second]) {
      expect(mine.body).toContain(`<a href="${badgeUrl(c)}">Open Badge link`);
      expect(mine.body).toContain(`<a href="/badges/assertions/${c.code}/badge.png" download>Download`);
    }
    const verify = await t.visitor().get(`/verify/${first.code}`);
    expect(verify.body).toContain(`<a href="${badgeUrl(first)}">${badgeUrl(first)}</a>`);
    expect(verify.body).toContain(`<a href="/badges/assertions/${first.code}/badge.png" download>Download the badge image (PNG)</a>`);
  });

  it('lets other sites read the public badge and verification documents (CORS, cross-origin resource policy), and only those', async () => {
    const visitor = t.visitor();
    const classPath = new URL((await visitor.get(`/badges/assertions/${first.code}`)).json().badge).pathname;
    const publicRoutes = [`/badges/assertions/${first.code}`, `/badges/assertions/${first.code}/badge.png`, classPath, `${classPath}/image.png`, '/badges/issuer', `/api/v1/verify/${first.code}`];
    for (const path of publicRoutes) {
      const answer = await visitor.get(path, { origin: 'https://backpack.example' });
      expect([path, answer.status]).toEqual([path, 200]);
      expectReadableCrossOrigin(answer);
      // Signed in or not, the same public answer, still readable elsewhere (no cookie is sent with `*`).
      expectReadableCrossOrigin(await learner.get(path));
      const preflight = await visitor.request('OPTIONS', path, { headers: { origin: 'https://backpack.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'accept, x-requested-with' } });
      expect([path, preflight.status]).toEqual([path, 204]);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
      expect(String(preflight.headers['access-control-allow-methods'])).toContain('GET');
      expect(preflight.headers['access-control-allow-headers']).toBe('accept, x-requested-with');
    }
    // An unknown code is readable too (a verifier should see the 404, not a CORS failure).
    const unknown = await visitor.get('/badges/assertions/2222-3333-4444', { origin: 'https://backpack.example' });
    expect(unknown.status).toBe(404);
    expectReadableCrossOrigin(unknown);
    // A program asked, so a program's answer: a problem document, not an HTML page.
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.json()).toMatchObject({ status: 404, code: 'not_found' });

    // Signed-in pages and API answers, and the other public pages, keep helmet's same-origin policy and no CORS.
    expectSameOriginOnly(await learner.get('/my-certificates'));
    expectSameOriginOnly(await learner.get('/my-certificates/cpd.csv'));
    expectSameOriginOnly(await learner.get(`/certificates/${first.code}.pdf`));
    expectSameOriginOnly(await api.get('/api/v1/certificates'));
    expectSameOriginOnly(await visitor.get(`/verify/${first.code}`));
    const noPreflight = await learner.request('OPTIONS', '/api/v1/certificates', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(noPreflight.status).not.toBe(204);
    expect(noPreflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a revoked certificate’s assertion and baked badge 410 with revoked: true, as Open Badges 2.0 says', async () => {
    const admin = await t.signedIn('admin');
    await admin.get(`/verify/${second.code}`);
    expect((await admin.submit(`/admin/certificates/${second.code}/revoke`, { reason: 'Awarded in error' })).status).toBe(303);
    const id = `http://academy.test/badges/assertions/${second.code}`;
    for (const path of [`/badges/assertions/${second.code}`, `/badges/assertions/${second.code}/badge.png`]) {
      const gone = await t.visitor().get(path);
      expect([path, gone.status]).toEqual([path, 410]);
      expect(gone.headers['content-type']).toContain('application/ld+json');
      expect(gone.json()).toEqual({ '@context': OB2, id, revoked: true, revocationReason: 'Awarded in error' });
      expectReadableCrossOrigin(gone);
    }
    const page = await t.visitor().get(`/verify/${second.code}`);
    expect(page.body).toContain('This certificate has been revoked');
    expect(page.body).not.toContain('Download the badge image');
    expect((await learner.get('/my-certificates')).body).not.toContain(`/badges/assertions/${second.code}/badge.png`);
    const listed = (await api.get('/api/v1/certificates')).json().find((c: { code: string }) => c.code === second.code);
    expect(listed).toMatchObject({ status: 'revoked', badgeUrl: id });
  });

  it('throttles badge lookups like verification: one budget per address, unknown codes counting, 429 with Retry-After', async () => {
    // A fresh address, so what the other tests looked up does not count here.
    const fromIp = async (url: string) => {
      const answer = await t.app.getHttpAdapter().getInstance().inject({ method: 'GET', url, remoteAddress: '203.0.113.7' });
      return { status: answer.statusCode, headers: answer.headers };
    };
    const lookups = ['/badges/assertions/2222-3333-4444', '/badges/assertions/2222-3333-4445/badge.png', '/badges/classes/course-99999999', '/badges/assertions/not-a-code'];
    const statuses: number[] = [];
    for (let i = 0; i < 70 && statuses.at(-1) !== 429; i++) statuses.push((await fromIp(lookups[i % lookups.length])).status);
    expect(statuses).toHaveLength(61);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([404]));
    // Every door to a certificate is shut for this address now, found or not, with Retry-After; others are not.
    for (const path of [...lookups, `/badges/assertions/${first.code}`, `/badges/assertions/${first.code}/badge.png`, `/badges/classes/course-${first.subjectId}`, `/verify/${first.code}`, `/api/v1/verify/${first.code}`]) {
      const refused = await fromIp(path);
      expect([path, refused.status]).toEqual([path, 429]);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    const refused = await fromIp(`/badges/assertions/${first.code}`);
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    expect(refused.headers['access-control-expose-headers']).toBe('Retry-After');
    expect((await t.visitor().get(`/badges/assertions/${first.code}`)).status).toBe(200);
  });
});

describe('the recipient salt migration', () => {
  let engines: TestEngines;
  beforeAll(async () => {
    engines = await provisionEngines();
  });
  afterAll(() => engines.dispose());

  it('gives every certificate issued before it a salt of its own, then makes the column required', async () => {
    const options = await dataSourceOptions(loadConfig(engines.env));
    const before = await new DataSource({ ...options, migrations: migrations.filter((m) => m !== CertificateRecipientSalt1765000000000) }).initialize();
    await before.runMigrations({ transaction: 'each' });
    const at = new Date('2025-11-20T10:00:00.000Z');
    await before.createQueryBuilder().insert().into('users').values({ email: 'old@example.nhs.uk', name: 'Old Holder', password_hash: 'x', role: 'learner', job_role: 'Tester', created_at: at }).execute();
    const [{ id: userId }] = await before.createQueryBuilder().select('u.id', 'id').from('users', 'u').getRawMany();
    const codes = ['AAAA-BBBB-CCCC', 'DDDD-EEEE-FFFF', 'GGGG-HHHH-JJJJ'];
    for (const [i, code] of codes.entries()) {
      await before
        .createQueryBuilder()
        .insert()
        .into('certificates')
        .values({ code, user_id: userId, subject_type: 'course', subject_id: i + 1, revision: 1, subject_title: `Course ${i}`, holder_name: 'Old Holder', cpd_minutes: 60, achieved_at: at, issued_at: at, file_key: `certificates/${code}.pdf`, sha256: 'f'.repeat(64), status: i === 2 ? 'revoked' : 'valid' })
        .execute();
    }
    const beforeRunner = before.createQueryRunner();
    const indicesBefore = (await beforeRunner.getTable('certificates'))!.indices.map((i) => i.name).sort();
    await beforeRunner.release();
    await before.destroy();

    const after = await new DataSource(options).initialize();
    try {
      expect((await after.runMigrations({ transaction: 'each' })).map((m) => m.name)).toContain('CertificateRecipientSalt1765000000000');
      const rows: Array<{ code: string; salt: string }> = await after.createQueryBuilder().select('c.code', 'code').addSelect('c.recipient_salt', 'salt').from('certificates', 'c').orderBy('c.code').getRawMany();
      expect(rows.map((r) => r.code)).toEqual(codes);
      for (const row of rows) expect(row.salt).toMatch(/^[0-9a-f]{32}$/);
      expect(new Set(rows.map((r) => r.salt)).size).toBe(3);
      const runner = after.createQueryRunner();
      try {
        const table = await runner.getTable('certificates');
        expect(table!.findColumnByName('recipient_salt')).toMatchObject({ isNullable: false, type: 'varchar', length: '32' });
        // Making the column required rebuilds the table on SQLite: every index survives it.
        expect(table!.indices.map((i) => i.name).sort()).toEqual(indicesBefore);
        expect(indicesBefore).toEqual(expect.arrayContaining(['idx_certificates_user_issued', 'uq_certificates_code', 'uq_certificates_holder_subject']));
        expect(table!.foreignKeys.map((f) => f.name)).toEqual(['fk_certificates_user']);
      } finally {
        await runner.release();
      }
      // And back down, and up again (the schema builder both ways).
      await after.undoLastMigration({ transaction: 'each' });
      await after.runMigrations({ transaction: 'each' });
    } finally {
      await after.destroy();
    }
  });
});
