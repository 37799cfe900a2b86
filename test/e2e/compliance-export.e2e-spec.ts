import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import ExcelJS from 'exceljs';
import { DataSource } from 'typeorm';
import { User } from '../../src/accounts/entities/user.entity';
import { AuditEntry } from '../../src/audit/audit-entry.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { londonIsoDate } from '../../src/common/london-time';
import { addDays } from '../../src/organisations/compliance-rules';
import { Membership } from '../../src/organisations/entities/membership.entity';
import { OrganisationRequirement } from '../../src/organisations/entities/requirement.entity';
import { startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';
import { course } from '../support/courses';
import { addMember, createOrganisation } from '../support/organisations';

type Signed = Visitor & { userId: number; email: string; password: string };
const DAY = 24 * 3600_000;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** RFC 4180 rows of a CSV file (quoted cells, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') endCell();
    else if (ch === '\r' && text[i + 1] === '\n') {
      endCell();
      rows.push(row);
      row = [];
      i++;
    } else cell += ch;
  }
  return rows;
}

describe('compliance exports: staff × requirements as CSV and XLSX', () => {
  let t: TestApp;
  let ds: DataSource;
  let manager: Signed;
  let otherManager: Signed;
  let learner: Signed;
  let org: number;
  let orgName: string;
  let today: string;
  let fire: { id: number; title: string };
  let ig: { id: number; title: string };
  const people = { amy: 0, bea: 0, cal: 0, evil: 0 };
  let certificateDay: string;

  async function person(name: string, jobRole: string): Promise<number> {
    const repo = ds.getRepository(User);
    return Number((await repo.insert(repo.create({ email: uniqueEmail('staff'), name, passwordHash: 'x', role: 'learner', organisationId: null, jobRole, createdAt: new Date(), lastSignInAt: null, emailVerifiedAt: null, deactivatedAt: null }))).identifiers[0].id);
  }

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    const now = t.app.get(Clock).now();
    today = londonIsoDate(now);
    [manager, otherManager, learner] = await Promise.all([t.signedIn('org_manager', { name: 'Zed Manager' }), t.signedIn('org_manager'), t.signedIn('learner')]);
    const author = await t.signedIn('author');
    orgName = `Export Trust ${process.pid}-${Date.now()}`;
    org = (await createOrganisation(t, { name: orgName })).id;
    const other = (await createOrganisation(t)).id;
    await addMember(t, org, manager.userId, { manager: true });
    await addMember(t, other, otherManager.userId, { manager: true });
    people.amy = await person('Amy Able', 'Staff nurse');
    people.bea = await person('Bea Baker, "the" nurse', 'Porter');
    people.cal = await person('Cal Cole', 'Staff nurse');
    people.evil = await person('=HYPERLINK("http://evil.example")', '+Staff nurse');
    for (const id of Object.values(people)) await addMember(t, org, id, { joinedAt: now });
    fire = await course(t, { authorId: author.userId, title: 'Fire safety' });
    ig = await course(t, { authorId: author.userId, title: 'Information governance' });
    const at = (days: number) => new Date(now.getTime() + days * DAY);
    await ds.getRepository(OrganisationRequirement).insert([
      { organisationId: org, courseId: fire.id, audience: 'everyone', dueKind: 'date', dueDays: null, dueDate: addDays(today, -3), renewalMonths: 12, createdById: manager.userId, createdAt: at(-30), updatedAt: at(-30), archivedAt: null },
      { organisationId: org, courseId: ig.id, audience: 'job_roles', dueKind: 'days', dueDays: 90, dueDate: null, renewalMonths: null, createdById: manager.userId, createdAt: now, updatedAt: now, archivedAt: null },
    ]);
    const igId = (await ds.getRepository(OrganisationRequirement).findOneByOrFail({ courseId: ig.id })).id;
    await ds.query('INSERT INTO requirement_job_roles (requirement_id, job_role) VALUES (?, ?)', [igId, 'Staff nurse']);
    const achievedAt = at(-100);
    certificateDay = londonIsoDate(achievedAt);
    await ds.getRepository(Certificate).insert({
      code: `EXP-${process.pid % 10000}-1`,
      userId: people.amy,
      subjectType: 'course',
      subjectId: fire.id,
      revision: 1,
      subjectTitle: 'Fire safety',
      holderName: 'Amy Able',
      cpdMinutes: 30,
      achievedAt,
      issuedAt: achievedAt,
      fileKey: 'test/none.pdf',
      sha256: '0'.repeat(64),
      recipientSalt: '0'.repeat(32),
      status: 'valid',
      revokedAt: null,
      revokedReason: null,
    });
  });
  afterAll(() => t?.close());

  it('streams the CSV: a row per active member by name, each requirement’s status and date, formulas defused', async () => {
    const answer = await manager.get(`/organisation/${org}/compliance.csv`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(answer.headers['content-disposition']).toBe(`attachment; filename="compliance-export-trust-${process.pid}-${orgName.split('-').pop()}-${today}.csv"`);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body.startsWith('\uFEFF')).toBe(true);
    expect(answer.body.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(answer.body.slice(1));
    expect(rows[0]).toEqual(['Name', 'E-mail', 'Job role', 'Fire safety: status', 'Fire safety: completed or due', 'Information governance: status', 'Information governance: completed or due']);
    const byName = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(rows.slice(1).map((r) => r[0])).toEqual(["'=HYPERLINK(\"http://evil.example\")", 'Amy Able', 'Bea Baker, "the" nurse', 'Cal Cole', 'Zed Manager']);
    expect(byName.get('Amy Able')!.slice(2)).toEqual(['Staff nurse', 'Complete', certificateDay, 'Not due yet', addDays(today, 90)]);
    expect(byName.get('Bea Baker, "the" nurse')!.slice(2)).toEqual(['Porter', 'Overdue', addDays(today, -3), 'Not required', '']);
    expect(byName.get('Cal Cole')!.slice(3)).toEqual(['Overdue', addDays(today, -3), 'Not due yet', addDays(today, 90)]);
    expect(byName.get("'=HYPERLINK(\"http://evil.example\")")![2]).toBe("'+Staff nurse");
    const audit = await ds.getRepository(AuditEntry).find({ where: { action: 'organisation.exported', targetId: org } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: manager.userId, targetType: 'organisation', targetLabel: orgName });
    expect(JSON.parse(audit[0].details)).toMatchObject({ what: 'compliance', format: 'csv' });
  });

  it('streams the XLSX workbook with the same rows, dates as dates; exceljs reads it back', async () => {
    const answer = await manager.get(`/organisation/${org}/compliance.xlsx`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(XLSX);
    expect(answer.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="compliance-export-trust-[0-9-]+-${today}\\.xlsx"$`));
    expect(answer.bytes.subarray(0, 2).toString()).toBe('PK');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(answer.bytes as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('Compliance')!;
    expect(sheet.rowCount).toBe(6);
    const values = (n: number) => (sheet.getRow(n).values as unknown[]).slice(1);
    expect(values(1)).toEqual(['Name', 'E-mail', 'Job role', 'Fire safety: status', 'Fire safety: completed or due', 'Information governance: status', 'Information governance: completed or due']);
    const amy = values(3);
    expect(amy[0]).toBe('Amy Able');
    expect(amy.slice(2, 4)).toEqual(['Staff nurse', 'Complete']);
    expect(amy[4]).toBeInstanceOf(Date);
    expect((amy[4] as Date).toISOString().slice(0, 10)).toBe(certificateDay);
    expect(amy[5]).toBe('Not due yet');
    expect((amy[6] as Date).toISOString().slice(0, 10)).toBe(addDays(today, 90));
    const bea = values(4);
    expect(bea.slice(0, 4)).toEqual(['Bea Baker, "the" nurse', expect.stringContaining('@example.nhs.uk'), 'Porter', 'Overdue']);
    expect(bea[5]).toBe('Not required');
    // A spreadsheet cell is not a formula however it starts: exceljs writes text, which it reads back as text.
    expect(values(2)[0]).toBe('=HYPERLINK("http://evil.example")');
    expect(sheet.getCell('A2').type).toBe(ExcelJS.ValueType.String);
    expect(await ds.getRepository(AuditEntry).count({ where: { action: 'organisation.exported', targetId: org } })).toBe(2);
  });

  it('leaves people who left out of the exports', async () => {
    await ds.getRepository(Membership).update({ organisationId: org, userId: people.cal }, { status: 'left' });
    const rows = parseCsv((await manager.get(`/organisation/${org}/compliance.csv`)).body.slice(1));
    expect(rows.map((r) => r[0])).not.toContain('Cal Cole');
    await ds.getRepository(Membership).update({ organisationId: org, userId: people.cal }, { status: 'active' });
  });

  it('answers 404 to a manager of another organisation and 403 to a learner, and writes no audit entry for them', async () => {
    const before = await ds.getRepository(AuditEntry).count({ where: { action: 'organisation.exported' } });
    for (const url of [`/organisation/${org}/compliance.csv`, `/organisation/${org}/compliance.xlsx`]) {
      expect((await otherManager.get(url)).status).toBe(404);
      expect((await learner.get(url)).status).toBe(403);
      expect((await t.visitor().get(url)).status).toBe(303);
    }
    expect(await ds.getRepository(AuditEntry).count({ where: { action: 'organisation.exported' } })).toBe(before);
  });

  it('exports 5,000 staff in under 5 s with the memory growth under 50 MB', async () => {
    const big = (await createOrganisation(t, { name: `Big Trust ${process.pid}-${Date.now()}` })).id;
    await addMember(t, big, manager.userId, { manager: true });
    const now = t.app.get(Clock).now();
    for (let batch = 0; batch < 10; batch++) {
      const users = Array.from({ length: 500 }, (_, i) => ({ email: uniqueEmail(`bulk${batch}-${i}`), name: `Staff ${String(batch * 500 + i).padStart(4, '0')}`, passwordHash: 'x', role: 'learner' as const, organisationId: null, jobRole: i % 3 ? 'Staff nurse' : 'Porter', createdAt: now, lastSignInAt: null, emailVerifiedAt: now, deactivatedAt: null }));
      const inserted = await ds.getRepository(User).insert(users);
      await ds.getRepository(Membership).insert(inserted.identifiers.map((row) => ({ organisationId: big, userId: Number(row.id), status: 'active' as const, isManager: false, requestedAt: now, joinedAt: now, updatedAt: now, decidedById: null })));
    }
    await ds.getRepository(OrganisationRequirement).insert([
      { organisationId: big, courseId: fire.id, audience: 'everyone', dueKind: 'days', dueDays: 30, dueDate: null, renewalMonths: 12, createdById: null, createdAt: now, updatedAt: now, archivedAt: null },
      { organisationId: big, courseId: ig.id, audience: 'everyone', dueKind: 'days', dueDays: 60, dueDate: null, renewalMonths: null, createdById: null, createdAt: now, updatedAt: now, archivedAt: null },
    ]);
    // Time and memory of one export: a full collection first, so that the baseline holds no garbage of the
    // arrangement, then the process's resident memory and the JS heap sampled while it runs.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    async function measured(url: string) {
      gc();
      const base = process.memoryUsage();
      const peaks = { rss: base.rss, heap: base.heapUsed, samples: 0 };
      const sampler = setInterval(() => {
        const now = process.memoryUsage();
        peaks.rss = Math.max(peaks.rss, now.rss);
        peaks.heap = Math.max(peaks.heap, now.heapUsed);
        peaks.samples++;
      }, 10);
      const started = performance.now();
      const answer = await manager.get(url);
      const ms = performance.now() - started;
      clearInterval(sampler);
      const growthMb = Math.max(peaks.rss - base.rss, peaks.heap - base.heapUsed) / 1048576;
      process.stdout.write(`5,000-staff export ${url.slice(-4)}: ${Math.round(ms)} ms, memory growth ${growthMb.toFixed(1)} MB (${peaks.samples} samples)\n`);
      return { answer, ms, growthMb, samples: peaks.samples };
    }

    const csv = await measured(`/organisation/${big}/compliance.csv`);
    expect(csv.answer.status).toBe(200);
    expect(csv.answer.body.split('\r\n').filter(Boolean)).toHaveLength(5002); // the heading, 5,000 staff and the manager
    expect(csv.ms).toBeLessThan(5000);
    expect(csv.samples).toBeGreaterThan(0); // the export let the sampler run: it does not hold the event loop
    expect(csv.growthMb).toBeLessThan(50);

    const xlsx = await measured(`/organisation/${big}/compliance.xlsx`);
    expect(xlsx.ms).toBeLessThan(5000);
    expect(xlsx.growthMb).toBeLessThan(50);
    const read = new ExcelJS.Workbook();
    await read.xlsx.load(xlsx.answer.bytes as unknown as ArrayBuffer);
    expect(read.getWorksheet('Compliance')!.rowCount).toBe(5002);

    // The requirement's page shows its 5,001 people 100 at a time.
    const rid = (await ds.getRepository(OrganisationRequirement).findOneByOrFail({ organisationId: big, courseId: fire.id })).id;
    const page = await manager.get(`/organisation/${big}/requirements/${rid}?page=2`);
    expect(page.status).toBe(200);
    expect([...page.body.matchAll(/data-status="/g)]).toHaveLength(100);
    expect(page.body).toContain('Page 1 of 51');
    expect(page.body).toContain('Page 3 of 51');
    expect(page.body).toContain('Staff 0100');
  }, 120_000);
});
