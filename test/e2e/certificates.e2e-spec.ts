import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Certificate } from '../../src/certificates/certificate.entity';
import { CertificatesService } from '../../src/certificates/certificates.service';
import { Clock } from '../../src/common/clock';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { fullCourse } from '../support/courses';
import { addMember, createOrganisation } from '../support/organisations';
import { inspectPdf } from '../support/pdf';
import { startSmtpServer } from '../support/smtp';
import { waitFor } from '../support/wait';

type Signed = Visitor & { userId: number; email: string; password: string };

describe('certificates', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ds: DataSource;
  let author: Signed;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ SMTP_URL: smtp.url, VERIFY_RATE_LIMIT_PER_MINUTE: '60' });
    ds = t.app.get(DataSource);
    author = await t.signedIn('author');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** Enrols a new learner (or the one given) and completes every required lesson through the API, as a learner would. */
  async function completedCourse(name = 'Ada Lovelace', existing?: { learner: Signed; api: Visitor }) {
    const c = await fullCourse(t, author.userId, `Safety case writing ${Math.random().toString(36).slice(2, 6)}`);
    const learner = existing?.learner ?? (await t.signedIn('learner', { name }));
    const api = existing?.api ?? (await t.apiClient(learner.email, learner.password));
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
    const last = await api.request('POST', `/api/v1/lessons/${c.resource.id}/complete`);
    expect(last.json().courseComplete).toBe(true);
    const enrolment = await ds.getRepository(Enrolment).findOneByOrFail({ userId: learner.userId, courseId: c.course.id });
    return { ...c, learner, api, enrolment };
  }

  it('issues one certificate in the background, stores its PDF and e-mails the learner', async () => {
    const done = await completedCourse('Mary Seacole');
    const before = await done.learner.get(`/courses/${done.course.slug}`);
    // Until the job has run the page says so; a BullMQ worker may already have issued it, and then the page offers it.
    expect(before.body).toMatch(/Your certificate is being prepared|Download your certificate/);
    if (!before.body.includes('Your certificate is being prepared')) expect(await ds.getRepository(Certificate).existsBy({ userId: done.learner.userId })).toBe(true);

    await t.drainJobs();
    const certificate = await ds.getRepository(Certificate).findOneByOrFail({ userId: done.learner.userId });
    expect(certificate).toMatchObject({ subjectType: 'course', subjectId: done.course.id, holderName: 'Mary Seacole', cpdMinutes: 60, status: 'valid', revision: 1 });
    expect(certificate.code).toMatch(/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    expect((await ds.getRepository(Enrolment).findOneByOrFail({ id: done.enrolment.id })).completionRecordedAt).not.toBeNull();

    // The PDF: A4 landscape, the name, course and code in its text, and a QR code of the verification URL.
    const download = await done.learner.get(`/certificates/${certificate.code}.pdf`);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.headers['content-disposition']).toContain(certificate.code);
    expect(createHash('sha256').update(download.bytes).digest('hex')).toBe(certificate.sha256);
    const pdf = inspectPdf(download.bytes);
    expect(pdf.pages).toBe(1);
    expect(pdf.size.width).toBeGreaterThan(pdf.size.height);
    expect(pdf.text).toContain('Mary Seacole');
    expect(pdf.text).toContain(done.course.title);
    expect(pdf.text).toContain(certificate.code);
    expect(pdf.text).toContain('CPD: 1 hour');
    expect(pdf.qrCodes).toEqual([`http://academy.test/verify/${certificate.code}`]);

    // The e-mail, received by a real SMTP server, with the download and verification links.
    await waitFor(() => smtp.received.some((m) => JSON.stringify(m.to).includes(done.learner.email)));
    const mail = smtp.received.find((m) => JSON.stringify(m.to).includes(done.learner.email))!;
    expect(mail.subject).toBe(`Your certificate: ${done.course.title}`);
    expect(mail.text).toContain(`http://academy.test/certificates/${certificate.code}.pdf`);
    expect(mail.text).toContain(`http://academy.test/verify/${certificate.code}`);

    const after = await done.learner.get(`/courses/${done.course.slug}`);
    expect(after.body).toContain(`href="/certificates/${certificate.code}.pdf"`);
    const mine = await done.learner.get('/my-certificates');
    expect(mine.body).toContain(done.course.title);
    expect(mine.body).toContain('1 hour');
    const csv = await done.learner.get('/my-certificates/cpd.csv');
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body).toContain(`${done.course.title},Course,1,${certificate.code}`);
    const api = (await done.api.get('/api/v1/certificates')).json();
    expect(api).toEqual([expect.objectContaining({ code: certificate.code, status: 'valid', cpdHours: 1, subject: { type: 'course', id: done.course.id, title: done.course.title }, downloadUrl: `http://academy.test/certificates/${certificate.code}.pdf` })]);
  });

  it('prints the name the learner corrected on "Your account" on their next certificate; one already issued keeps its name', async () => {
    const first = await completedCourse('Mary Secole');
    await t.drainJobs();
    const old = await ds.getRepository(Certificate).findOneByOrFail({ userId: first.learner.userId });
    expect(old.holderName).toBe('Mary Secole');
    await first.learner.get('/account');
    expect((await first.learner.submit('/account/details', { name: 'Mary Seacole', organisation: 'Test Trust', jobRole: 'Tester' })).status).toBe(303);
    // A second course, completed by the same learner.
    const second = await completedCourse('unused', first);
    await t.drainJobs();
    const fresh = await ds.getRepository(Certificate).findOneByOrFail({ userId: first.learner.userId, subjectId: second.course.id });
    expect(fresh.holderName).toBe('Mary Seacole');
    expect(inspectPdf((await first.learner.get(`/certificates/${fresh.code}.pdf`)).bytes).text).toContain('Mary Seacole');
    expect((await ds.getRepository(Certificate).findOneByOrFail({ id: old.id })).holderName).toBe('Mary Secole');
  });

  it('issues exactly once when the job runs twice at the same time, or again later', async () => {
    const done = await completedCourse();
    const service = t.app.get(CertificatesService);
    const results = await Promise.all([service.issue('course', done.enrolment.id), service.issue('course', done.enrolment.id), service.issue('course', done.enrolment.id)]);
    expect(new Set(results.map((c) => c!.id)).size).toBe(1);
    await t.drainJobs();
    await service.issue('course', done.enrolment.id);
    expect(await ds.getRepository(Certificate).countBy({ userId: done.learner.userId })).toBe(1);
    const files = readdirSync(join(t.config.dataDir, 'files', 'certificates'));
    expect(files.filter((f) => f.startsWith(results[0]!.code))).toHaveLength(1);
    expect(files.some((f) => f.includes('.partial'))).toBe(false);
    const certificates = await ds.getRepository(Certificate).find();
    expect(files.length).toBe(certificates.length); // one file per certificate, named by its code
    expect(await ds.getRepository(MailMessage).countBy({ dedupeKey: `certificate-issued:${results[0]!.id}` })).toBe(1);
  });

  it('records the certificate, its e-mail and the completion together; an e-mail the SMTP server refuses at issue goes later, once', async () => {
    smtp.refuse(true);
    let done: Awaited<ReturnType<typeof completedCourse>>;
    try {
      done = await completedCourse('Grace Hopper');
      await t.drainJobs();
      const certificate = await ds.getRepository(Certificate).findOneByOrFail({ userId: done.learner.userId });
      expect(certificate.status).toBe('valid');
      const message = await ds.getRepository(MailMessage).findOneByOrFail({ dedupeKey: `certificate-issued:${certificate.id}` });
      expect(message).toMatchObject({ status: 'pending', attempts: 1, lockedUntil: null });
      expect(message.lastError).toContain('451');
      expect((await ds.getRepository(Enrolment).findOneByOrFail({ id: done.enrolment.id })).completionRecordedAt).not.toBeNull();
    } finally {
      smtp.refuse(false);
    }
    // The delivery job retries it after its delay.
    await waitFor(() => smtp.received.some((m) => JSON.stringify(m.to).includes(done.learner.email)), 15_000);
    await t.drainJobs();
    expect(smtp.received.filter((m) => JSON.stringify(m.to).includes(done.learner.email))).toHaveLength(1);
  });

  it('finishes a certificate whose issuing was cut short, with the same code, file and a single e-mail', async () => {
    const done = await completedCourse();
    await t.drainJobs();
    const repo = ds.getRepository(Certificate);
    const issued = await repo.findOneByOrFail({ userId: done.learner.userId });
    // A row an earlier release left "issuing" (it recorded the row before storing the PDF) when its worker died.
    await repo.update({ id: issued.id }, { status: 'issuing', sha256: '' });
    const storage = join(t.config.dataDir, 'files', issued.fileKey);
    const { rmSync } = await import('node:fs');
    rmSync(storage);
    expect((await t.visitor().get(`/verify/${issued.code}`)).status).toBe(404);
    const again = await t.app.get(CertificatesService).issue('course', done.enrolment.id);
    expect(again).toMatchObject({ id: issued.id, code: issued.code, status: 'valid', sha256: issued.sha256 }); // the same bytes again
    expect(existsSync(storage)).toBe(true);
    expect(await ds.getRepository(MailMessage).countBy({ dedupeKey: `certificate-issued:${issued.id}` })).toBe(1);
  });

  it('lets only the holder, admins and the holder’s organisation managers download it (everyone else 404)', async () => {
    const done = await completedCourse();
    await t.drainJobs();
    const { code } = await ds.getRepository(Certificate).findOneByOrFail({ userId: done.learner.userId });
    const url = `/certificates/${code}.pdf`;
    expect((await (await t.signedIn('learner')).get(url)).status).toBe(404);
    expect((await (await t.signedIn('author')).get(url)).status).toBe(404);
    expect((await (await t.signedIn('admin')).get(url)).status).toBe(200);
    // A manager of an organisation the holder is an active member of may download; one elsewhere may not, nor a
    // manager of an organisation the holder has left.
    const trust = await createOrganisation(t);
    await addMember(t, trust.id, done.learner.userId);
    const manager = await t.signedIn('org_manager');
    await addMember(t, trust.id, manager.userId, { manager: true });
    expect((await manager.get(url)).status).toBe(200);
    const elsewhere = await t.signedIn('org_manager');
    await addMember(t, (await createOrganisation(t)).id, elsewhere.userId, { manager: true });
    expect((await elsewhere.get(url)).status).toBe(404);
    await addMember(t, trust.id, done.learner.userId, { status: 'left' });
    expect((await manager.get(url)).status).toBe(404);
    expect((await t.visitor().get(url)).status).toBe(303);
    expect((await done.learner.get('/certificates/NOT-A-CODE.pdf')).status).toBe(404);
    expect((await done.learner.get(`/certificates/${code}`)).status).toBe(404);
  });

  it('verifies publicly by code, with no other personal data, and the same answer for unknown and malformed codes', async () => {
    const done = await completedCourse('Florence Nightingale');
    await t.drainJobs();
    const { code } = await ds.getRepository(Certificate).findOneByOrFail({ userId: done.learner.userId });
    const visitor = t.visitor();
    const page = await visitor.get(`/verify/${code.toLowerCase().replace(/-/g, '')}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('This certificate is valid');
    expect(page.body).toContain('Florence Nightingale');
    expect(page.body).not.toContain(done.learner.email);
    const form = await visitor.get(`/verify?code=${encodeURIComponent(` ${code.toLowerCase()} `)}`);
    expect(form.status).toBe(303);
    expect(form.headers.location).toBe(`/verify/${code}`);
    const json = (await visitor.get(`/api/v1/verify/${code}`)).json();
    expect(json).toMatchObject({ code, status: 'valid', holderName: 'Florence Nightingale', cpdHours: 1, subject: { type: 'course', title: done.course.title } });
    expect(JSON.stringify(json)).not.toContain('@');

    // A well-formed code that no certificate has: said plainly, not "Page not found", with the form to try again.
    const unknown = await visitor.get('/verify/2222-3333-4444');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('<title>No certificate has that code');
    expect(unknown.body).toContain('<h1 class="nhsuk-heading-l">No certificate has that code</h1>');
    expect(unknown.body).toContain('No Peer Academy certificate has the code <strong>2222-3333-4444</strong>. Check it and try again.');
    expect(unknown.body).not.toContain('Page not found');
    expect(unknown.body).toMatch(/<form method="get" action="\/verify" novalidate>[\s\S]*name="code" type="text" value="2222-3333-4444"/);
    // Typed into the form, in any case and spacing, it leads to the same answer.
    const typed = await visitor.get('/verify?code=2222%20333344%2044');
    expect(typed.headers.location).toBe('/verify/2222-3333-4444');
    // Something that cannot be a code: the same answer, without echoing it.
    const malformed = await visitor.get("/verify/' OR 1=1 --");
    expect(malformed.status).toBe(404);
    expect(malformed.body).toContain('<h1 class="nhsuk-heading-l">No certificate has that code</h1>');
    expect(malformed.body).toContain('No Peer Academy certificate has that code. Check it and try again.');
    expect(malformed.body).not.toContain('OR 1=1');
    const apiUnknown = await visitor.get('/api/v1/verify/2222-3333-4444');
    const apiMalformed = await visitor.get('/api/v1/verify/x');
    expect([apiUnknown.status, apiMalformed.status]).toEqual([404, 404]);
    expect(apiUnknown.headers['content-type']).toContain('application/problem+json');
    expect(apiUnknown.json()).toMatchObject({ status: 404, detail: 'No certificate has that code. Check it and try again.' });
    expect(apiUnknown.json().detail).toBe(apiMalformed.json().detail);
  });

  it('publishes an Open Badges 2.0 assertion whose BadgeClass and Issuer resolve', async () => {
    const done = await completedCourse();
    await t.drainJobs();
    const { code } = await ds.getRepository(Certificate).findOneByOrFail({ userId: done.learner.userId });
    const visitor = t.visitor();
    const assertion = await visitor.get(`/badges/assertions/${code}`);
    expect(assertion.headers['content-type']).toContain('application/ld+json');
    const a = assertion.json();
    expect(a).toMatchObject({ '@context': 'https://w3id.org/openbadges/v2', type: 'Assertion', id: `http://academy.test/badges/assertions/${code}`, verification: { type: 'hosted' } });
    expect(new Date(a.issuedOn).toISOString()).toBe(a.issuedOn);
    expect(a.recipient).toMatchObject({ type: 'email', hashed: true });
    expect(a.recipient.identity).toBe(`sha256$${createHash('sha256').update(done.learner.email + a.recipient.salt).digest('hex')}`);
    expect(assertion.body).not.toContain(done.learner.email);
    const badge = (await visitor.get(new URL(a.badge).pathname)).json();
    expect(badge).toMatchObject({ '@context': 'https://w3id.org/openbadges/v2', type: 'BadgeClass', id: a.badge, name: done.course.title });
    expect(badge.criteria.narrative).toBeTruthy();
    expect(badge.image).toMatch(/^http:\/\/academy\.test\//);
    expect((await visitor.get(new URL(badge.image).pathname)).status).toBe(200);
    const issuer = (await visitor.get(new URL(badge.issuer).pathname)).json();
    expect(issuer).toMatchObject({ type: 'Issuer', id: badge.issuer, name: 'Peer Academy', url: 'http://academy.test' });
    expect((await visitor.get('/badges/classes/course-99999999')).status).toBe(404);
  });

  it('lets admins revoke with a reason and re-issue; learners cannot', async () => {
    const done = await completedCourse();
    await t.drainJobs();
    const { code } = await ds.getRepository(Certificate).findOneByOrFail({ userId: done.learner.userId });
    await done.learner.get(`/verify/${code}`);
    expect((await done.learner.submit(`/admin/certificates/${code}/revoke`, { reason: 'mine' })).status).toBe(403);
    const admin = await t.signedIn('admin');
    expect((await done.learner.get('/admin/certificates')).status).toBe(403);
    const byEmail = await admin.get(`/admin/certificates?q=${encodeURIComponent(done.learner.email)}`);
    expect(byEmail.body).toContain(`href="/verify/${code}"`);
    expect((await admin.get(`/admin/certificates?q=${code.toLowerCase()}`)).body).toContain(`href="/verify/${code}"`);
    expect((await admin.get('/admin/certificates?q=nobody@example.nhs.uk')).body).toContain('No certificates found.');
    await admin.get(`/verify/${code}`);
    expect((await admin.submit(`/admin/certificates/${code}/revoke`, { reason: '' })).status).toBe(400);
    expect((await admin.submit(`/admin/certificates/${code}/revoke`, { reason: 'Completed under another learner’s account' })).status).toBe(303);
    const revoked = await t.visitor().get(`/verify/${code}`);
    expect(revoked.body).toContain('This certificate has been revoked');
    expect(revoked.body).toContain('Completed under another learner’s account');
    expect((await t.visitor().get(`/api/v1/verify/${code}`)).json()).toMatchObject({ status: 'revoked', revokedReason: 'Completed under another learner’s account' });
    const gone = await t.visitor().get(`/badges/assertions/${code}`);
    expect(gone.status).toBe(410);
    expect(gone.json()).toMatchObject({ revoked: true });
    expect((await done.learner.get(`/certificates/${code}.pdf`)).status).toBe(200); // the holder keeps their copy

    await admin.get(`/verify/${code}`);
    const reissued = await admin.submit(`/admin/certificates/${code}/reissue`, {});
    expect(reissued.status).toBe(303);
    const fresh = await ds.getRepository(Certificate).findOneByOrFail({ userId: done.learner.userId, revision: 2 });
    expect(fresh.code).not.toBe(code);
    expect(reissued.headers.location).toBe(`/verify/${fresh.code}`);
    expect((await t.visitor().get(`/verify/${fresh.code}`)).body).toContain('This certificate is valid');
    expect(existsSync(join(t.config.dataDir, 'files', fresh.fileKey))).toBe(true);
  });

  it('throttles verification, unknown codes on the page counting as much as in the API', async () => {
    const visitor = t.visitor();
    const statuses: number[] = [];
    for (let i = 0; i < 70 && statuses.at(-1) !== 429; i++) statuses.push((await visitor.get(`/verify/2222-3333-${4444 + (i % 5)}`)).status);
    expect(statuses.at(-1)).toBe(429);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([404]));
    expect((await visitor.get('/api/v1/verify/2222-3333-4444')).status).toBe(429);
  });
});
