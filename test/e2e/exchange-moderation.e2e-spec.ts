import { DataSource, LessThan } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import type { Role } from '../../src/accounts/roles';
import { searchWords, whereFullTextMatches } from '../../src/common/full-text';
import { ExchangeFile } from '../../src/exchange/entities/exchange-file.entity';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../../src/exchange/entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../../src/exchange/entities/exchange-revision.entity';
import { ExchangeSystem } from '../../src/exchange/entities/exchange-system.entity';
import { REVIEW_CHECKS } from '../../src/exchange/exchange-kinds';
import { CHECKS_MESSAGE, FEEDBACK_MESSAGE, QUEUE_PAGE_SIZE, REASON_MESSAGE } from '../../src/exchange/moderation/moderation.service';
import { reviewDueFrom } from '../../src/exchange/search-projection';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { FileStorage } from '../../src/storage/file-storage';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { createItem, createSystem } from '../support/exchange';
import { addMember, createOrganisation } from '../support/organisations';
import { startSmtpServer } from '../support/smtp';
import { waitFor } from '../support/wait';

type Signed = Visitor & { email: string; password: string; userId: number };

const ALL_CHECKS = REVIEW_CHECKS;
/** The decision form as a browser sends it: each ticked box one `checks` field. */
const decisionForm = (csrf: string, decision: string, checks: readonly string[], feedback = '') => {
  const form = new URLSearchParams({ _csrf: csrf, decision, feedback });
  for (const check of checks) form.append('checks', check);
  return form.toString();
};

/** Page HTML with the entities Handlebars writes read back. */
const decoded = (html: string) => html.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

describe('exchange moderation: the review workflow', () => {
  let t: TestApp;
  let db: DataSource;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let moderator: Signed;
  let secondModerator: Signed;
  let admin: Signed;
  let author: Signed;
  let organisationId: number;
  let organisationName: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Peer Academy <no-reply@academy.test>' });
    db = t.app.get(DataSource);
    [moderator, secondModerator, admin, author] = await Promise.all([
      t.signedIn('moderator', { name: 'Mo Moderator' }),
      t.signedIn('moderator', { name: 'Sam Second' }),
      t.signedIn('admin', { name: 'Ada Admin' }),
      t.signedIn('learner', { name: 'Alex Author' }),
    ]);
    organisationName = `Moderated NHS Trust ${process.pid}-${Date.now()}`;
    organisationId = (await createOrganisation(t, { name: organisationName })).id;
    await addMember(t, organisationId, author.userId);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** A contribution waiting for review (its first version), submitted at `at`. */
  const submitted = (title: string, options: { at?: Date; body?: string; kind?: 'case_study' | 'tool' | 'hack'; authorId?: number } = {}) =>
    createItem(t, { authorId: options.authorId ?? author.userId, organisationId, title, status: 'submitted', publishedAt: options.at, body: options.body, kind: options.kind });

  /** A published item and its revision 2, copied from it with `changes`, waiting for review (as the author's "edit" leaves it). */
  async function publishedWithRevision(title: string, changes: Partial<ExchangeRevision>, at = new Date()): Promise<{ item: ExchangeItem; first: ExchangeRevision; second: ExchangeRevision }> {
    const item = await createItem(t, { authorId: author.userId, organisationId, title, publishedAt: new Date(at.getTime() - 86400_000) });
    const revisions = db.getRepository(ExchangeRevision);
    const first = await revisions.findOneByOrFail({ id: item.publishedRevisionId! });
    const { id: _id, ...copy } = first;
    const second = await revisions.save(revisions.create({ ...copy, number: 2, status: 'submitted', submittedAt: at, decidedAt: null, decidedById: null, checklist: null, feedback: null, createdAt: at, updatedAt: at, ...changes }));
    await db.getRepository(ExchangeItem).update({ id: item.id }, { latestRevisionId: second.id });
    return { item: await db.getRepository(ExchangeItem).findOneByOrFail({ id: item.id }), first, second };
  }

  const revisionOf = (id: number) => db.getRepository(ExchangeRevision).findOneByOrFail({ id });
  const itemOf = (id: number) => db.getRepository(ExchangeItem).findOneByOrFail({ id });
  const audit = async (action: string, targetId: number) =>
    (await db.query('SELECT actor_id, actor_name, details FROM audit_log WHERE action = ? AND target_id = ? ORDER BY id', [action, targetId])).map((r: { actor_id: number | null; actor_name: string; details: string }) => ({
      actorId: r.actor_id === null ? null : Number(r.actor_id),
      actorName: r.actor_name,
      details: JSON.parse(r.details),
    }));
  const outbox = (template: string, to: string) => db.getRepository(MailMessage).find({ where: { template, toAddress: to }, order: { id: 'ASC' } });
  const receivedBy = (email: string, subject: RegExp) => smtp.received.filter((m) => JSON.stringify(m.to).includes(email) && subject.test(m.subject ?? ''));

  /** Sends the decision form for the revision, from its page (so with the page's CSRF token). */
  async function decide(who: Signed, revisionId: number, decision: string, checks: readonly string[], feedback = '') {
    await who.get(`/moderation/exchange/${revisionId}`);
    return who.request('POST', `/moderation/exchange/${revisionId}/decision`, { raw: decisionForm(who.csrf, decision, checks, feedback), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  const search = async (text: string) => {
    const qb = db.getRepository(ExchangeItem).createQueryBuilder('i').select(['i.id', 'i.title']).where('i.status = :status', { status: 'published' });
    const score = whereFullTextMatches(qb, { alias: 'i', table: 'exchange_items', columns: ['title', 'summary', 'search_text'] }, searchWords(text));
    return (await qb.addSelect(score, 'score').orderBy('score', 'DESC').addOrderBy('i.id', 'ASC').getMany()).map((i) => i.id);
  };

  describe('the queue', () => {
    const base = Date.UTC(2001, 0, 1, 9);
    let oldest: ExchangeItem;
    let middle: ExchangeItem;
    let revised: { item: ExchangeItem; second: ExchangeRevision };
    let newest: ExchangeItem;
    beforeAll(async () => {
      // Created out of order: the queue is ordered by when each was submitted.
      newest = await submitted('Queue newest hack', { at: new Date(base + 3 * 3600_000), kind: 'hack' });
      oldest = await submitted('Queue oldest case study', { at: new Date(base) });
      revised = await publishedWithRevision('Queue revised tool', {}, new Date(base + 2 * 3600_000));
      middle = await submitted('Queue middle tool', { at: new Date(base + 3600_000), kind: 'tool' });
      // Not in the queue: a draft, and a submitted item since withdrawn.
      await createItem(t, { authorId: author.userId, organisationId, title: 'Queue draft', status: 'draft' });
      const gone = await submitted('Queue withdrawn', { at: new Date(base - 3600_000) });
      await db.getRepository(ExchangeItem).update({ id: gone.id }, { status: 'withdrawn' });
    });
    // The rest of the file's queue starts empty again: these go back to their authors' drafts.
    afterAll(() => db.getRepository(ExchangeRevision).update({ status: 'submitted', submittedAt: LessThan(new Date(Date.UTC(2003, 0, 1))) }, { status: 'draft' }));

    it('lists submitted revisions oldest first, with kind, organisation, author, date and whether it is a revision', async () => {
      const page = await moderator.get('/moderation');
      expect(page.status).toBe(200);
      const rows = [...page.body.matchAll(/data-revision="(\d+)"/g)].map((m) => Number(m[1]));
      expect(rows.slice(0, 4)).toEqual([oldest.latestRevisionId, middle.latestRevisionId, revised.second.id, newest.latestRevisionId]);
      const body = decoded(page.body);
      expect(body).not.toContain('Queue draft');
      expect(body).not.toContain('Queue withdrawn');
      const row = (revisionId: number | null) => body.slice(body.indexOf(`data-revision="${revisionId}"`)).split('</tr>')[0];
      expect(row(oldest.latestRevisionId)).toContain('Case study');
      expect(row(oldest.latestRevisionId)).toContain(organisationName);
      expect(row(oldest.latestRevisionId)).toContain('Alex Author');
      expect(row(oldest.latestRevisionId)).toContain('1 January 2001');
      expect(row(oldest.latestRevisionId)).toContain('First version');
      expect(row(middle.latestRevisionId)).toContain('Tool');
      expect(row(newest.latestRevisionId)).toContain('Hack');
      expect(row(revised.second.id)).toContain('Revision 2 of a published item');
      expect(body).toContain('href="/moderation/systems"');
    });

    it('counts what is waiting, first versions and revisions apart', async () => {
      const counts = decoded((await moderator.get('/moderation')).body).split('id="queue-counts"')[1].split('</dl>')[0];
      const waiting = await db.getRepository(ExchangeRevision).createQueryBuilder('r').innerJoin(ExchangeItem, 'i', 'i.id = r.item_id').where("r.status = 'submitted' AND i.status <> 'withdrawn'").getCount();
      expect(counts).toContain(`<strong>${waiting}</strong>`);
      expect(counts).toMatch(/1 revision of published items/);
    });

    it('pages the queue, refusing a malformed page number and showing the last page for one past it', async () => {
      for (let i = 0; i < QUEUE_PAGE_SIZE + 2; i++) await submitted(`Queue filler ${i}`, { at: new Date(base + 86400_000 + i * 60_000) });
      const first = await moderator.get('/moderation');
      expect([...first.body.matchAll(/data-revision="/g)]).toHaveLength(QUEUE_PAGE_SIZE);
      expect(decoded(first.body)).toContain('href="/moderation?page=2"');
      const second = await moderator.get('/moderation?page=2');
      expect(second.status).toBe(200);
      // Page 2 starts where page 1 stopped: 4 items of 2001, then 21 fillers on page 1.
      expect(decoded(second.body).indexOf('Queue filler 21<')).toBeGreaterThan(-1);
      expect(decoded(second.body)).not.toContain('Queue filler 20<');
      expect(decoded(second.body)).toContain('Page 1 of');
      const past = await moderator.get('/moderation?page=9999');
      expect(past.status).toBe(200);
      expect(past.body).toContain('data-revision=');
      for (const bad of ['abc', '0', '-1', '10001']) {
        const answer = await moderator.get(`/moderation?page=${bad}`);
        expect([bad, answer.status]).toEqual([bad, 400]);
        expect(answer.body).toMatch(/page must be/);
      }
    });
  });

  describe('who may', () => {
    let item: ExchangeItem;
    let revisionId: number;
    let fileId: number;
    let system: ExchangeSystem;
    let manager: Signed;
    beforeAll(async () => {
      item = await submitted('Denials case study');
      revisionId = item.latestRevisionId!;
      const stored = await t.app.get(FileStorage).putBytes(`exchange/${item.id}/denials.pdf`, Buffer.from('%PDF-1.4 denials'));
      fileId = Number((await db.getRepository(ExchangeFile).insert({ itemId: item.id, role: 'attachment', version: null, storageKey: stored.key, fileName: 'denials.pdf', contentType: 'application/pdf', bytes: stored.bytes, sha256: stored.sha256, uploadedById: author.userId, downloadCount: 0, createdAt: new Date() })).identifiers[0].id);
      await db.getRepository(ExchangeRevisionFile).insert({ revisionId, fileId, position: 0 });
      system = await createSystem(t, { name: 'Denials PAS' });
      manager = await t.signedIn('org_manager');
      await addMember(t, organisationId, manager.userId, { manager: true });
    });

    const pages = () => [
      '/moderation',
      '/moderation?page=2',
      `/moderation/exchange/${revisionId}`,
      `/moderation/exchange/${revisionId}/files/${fileId}`,
      `/moderation/exchange/items/${item.id}/withdraw`,
      '/moderation/systems',
      '/moderation/systems/new',
      `/moderation/systems/${system.id}/edit`,
    ];
    const forms = (): Array<[string, Record<string, string>]> => [
      [`/moderation/exchange/${revisionId}/decision`, { decision: 'publish', checks: ALL_CHECKS[0] }],
      [`/moderation/exchange/${revisionId}/decision`, { decision: 'return', feedback: 'No' }],
      [`/moderation/exchange/items/${item.id}/withdraw`, { reason: 'Because' }],
      ['/moderation/systems/new', { name: 'Sneaky', supplier: 'Sneaky Ltd', category: 'epr' }],
      [`/moderation/systems/${system.id}/edit`, { name: 'Renamed', supplier: 'Sneaky Ltd', category: 'epr' }],
      [`/moderation/systems/${system.id}/retire`, {}],
      [`/moderation/systems/${system.id}/restore`, {}],
    ];

    it('refuses learners, authors and organisation managers (the item’s own author and its organisation’s manager too) every page and form, changing nothing', async () => {
      const visitors: Array<[string, Signed]> = [['its author', author], ['its organisation’s manager', manager]];
      for (const role of ['learner', 'author', 'org_manager'] as Role[]) visitors.push([role, await t.signedIn(role)]);
      for (const [who, visitor] of visitors) {
        for (const url of pages()) expect([who, url, (await visitor.get(url)).status]).toEqual([who, url, 403]);
        for (const [url, form] of forms()) {
          await visitor.get('/account'); // a page with a form: a valid CSRF token, so the refusal is the role's
          const answer = await visitor.submit(url, form);
          expect([who, url, answer.status]).toEqual([who, url, 403]);
          expect(answer.body).not.toContain('This form has expired');
        }
      }
      expect((await revisionOf(revisionId)).status).toBe('submitted');
      expect((await itemOf(item.id)).status).toBe('submitted');
      expect(await db.getRepository(ExchangeSystem).findOneByOrFail({ id: system.id })).toMatchObject({ name: 'Denials PAS', retiredAt: null });
      expect(await db.getRepository(ExchangeSystem).countBy({ name: 'Sneaky' })).toBe(0);
      const entries = await db.query("SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'exchange.%' AND (target_id = ? OR target_id = ?)", [item.id, system.id]);
      expect(Number(entries[0].n)).toBe(0);
    });

    it('sends visitors who are not signed in to sign in', async () => {
      const anonymous = t.visitor();
      for (const url of pages()) {
        const answer = await anonymous.get(url);
        expect([url, answer.headers.location]).toEqual([url, expect.stringMatching(/^\/sign-in/)]);
      }
    });

    it('lets moderators and administrators in', async () => {
      for (const who of [moderator, admin]) {
        for (const url of pages()) expect([url, (await who.get(url)).status]).toEqual([url, 200]);
      }
      const download = await moderator.get(`/moderation/exchange/${revisionId}/files/${fileId}`);
      expect(download.headers['content-disposition']).toContain('attachment; filename="denials.pdf"');
      expect(download.body).toBe('%PDF-1.4 denials');
    });

    it('answers unknown or malformed ids 404, and a file of another item 404', async () => {
      const other = await submitted('Another item');
      for (const url of [
        '/moderation/exchange/999999',
        '/moderation/exchange/abc',
        '/moderation/exchange/0',
        `/moderation/exchange/${revisionId}/files/999999`,
        `/moderation/exchange/${other.latestRevisionId}/files/${fileId}`,
        '/moderation/exchange/999999/files/1',
        '/moderation/exchange/items/999999/withdraw',
        '/moderation/exchange/items/x/withdraw',
        '/moderation/systems/999999/edit',
        '/moderation/systems/abc/edit',
      ]) {
        const answer = await moderator.get(url);
        expect([url, answer.status]).toEqual([url, 404]);
        expect(answer.body).toMatch(/There is no/);
      }
      for (const [url, form] of [
        ['/moderation/exchange/999999/decision', { decision: 'publish', checks: ALL_CHECKS[0] }],
        ['/moderation/exchange/items/999999/withdraw', { reason: 'Because' }],
        ['/moderation/systems/999999/edit', { name: 'A', supplier: 'B', category: 'epr' }],
        ['/moderation/systems/999999/retire', {}],
        ['/moderation/systems/999999/restore', {}],
      ] as Array<[string, Record<string, string>]>) {
        const answer = await moderator.submit(url, form);
        expect([url, answer.status]).toEqual([url, 404]);
      }
    });

    it('refuses a decision without its CSRF token, even from a moderator', async () => {
      const answer = await moderator.submit(`/moderation/exchange/${revisionId}/decision`, { decision: 'return', feedback: 'x' }, { withCsrf: false });
      expect(answer.status).toBe(403);
      expect((await revisionOf(revisionId)).status).toBe('submitted');
    });
  });

  describe('appointing moderators', () => {
    it('an administrator makes someone a moderator on their page, audited, and they reach the queue', async () => {
      const person = await t.signedIn('learner', { name: 'Nina Newmod' });
      expect((await person.get('/moderation')).status).toBe(403);
      await admin.get(`/admin/users/${person.userId}`);
      const answer = await admin.submit(`/admin/users/${person.userId}/role`, { role: 'moderator' });
      expect(answer.status).toBe(303);
      expect((await db.getRepository(User).findOneByOrFail({ id: person.userId })).role).toBe('moderator');
      const entries = await db.query("SELECT actor_id, details FROM audit_log WHERE action = 'user.role_changed' AND target_id = ?", [person.userId]);
      expect(entries).toHaveLength(1);
      expect(Number(entries[0].actor_id)).toBe(admin.userId);
      expect(JSON.parse(entries[0].details)).toMatchObject({ role: { from: 'learner', to: 'moderator' } });
      expect((await person.get('/moderation')).status).toBe(200);
      expect((await person.get('/')).body).toContain('href="/moderation"');
    });

    it('a learner (or a moderator) cannot appoint one', async () => {
      const person = await t.signedIn('learner');
      for (const who of [author, moderator]) {
        expect((await who.submit(`/admin/users/${person.userId}/role`, { role: 'moderator' })).status).toBe(403);
        expect((await who.submit(`/admin/users/${who.userId}/role`, { role: 'moderator' })).status).toBe(403);
      }
      expect((await db.getRepository(User).findOneByOrFail({ id: person.userId })).role).toBe('learner');
      expect((await db.getRepository(User).findOneByOrFail({ id: author.userId })).role).toBe('learner');
      expect(await db.query("SELECT id FROM audit_log WHERE action = 'user.role_changed' AND target_id IN (?, ?)", [person.userId, author.userId])).toEqual([]);
    });
  });

  describe('deciding', () => {
    it('shows the revision as it would appear, with the checklist and both buttons', async () => {
      const item = await submitted('Reading page case study', { body: 'We **rebuilt** the rota. <script>alert(1)</script>' });
      const page = await moderator.get(`/moderation/exchange/${item.latestRevisionId}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<strong>rebuilt</strong>');
      expect(page.body).not.toContain('<script>alert(1)</script>');
      expect(page.body).toContain('name="checks"');
      expect([...page.body.matchAll(/name="checks" type="checkbox"/g)]).toHaveLength(4);
      expect(page.body).toContain('value="publish"');
      expect(page.body).toContain('value="return"');
      expect(page.body).toContain('name="_csrf"');
      expect(page.body).not.toContain('id="changes-heading"');

      // A tool shows its licence and its file (downloadable by moderators though unpublished); a hack its tip.
      const tool = await submitted('Reading page tool', { kind: 'tool', body: 'A checklist for go-live.' });
      const stored = await t.app.get(FileStorage).putBytes(`exchange/${tool.id}/go-live.xlsx`, Buffer.from('PK tool bytes'));
      const toolFileId = Number((await db.getRepository(ExchangeFile).insert({ itemId: tool.id, role: 'tool', version: 1, storageKey: stored.key, fileName: 'go-live.xlsx', contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', bytes: stored.bytes, sha256: stored.sha256, uploadedById: author.userId, downloadCount: 0, createdAt: new Date() })).identifiers[0].id);
      await db.getRepository(ExchangeRevision).update({ id: tool.latestRevisionId! }, { toolFileId });
      const toolPage = decoded((await moderator.get(`/moderation/exchange/${tool.latestRevisionId}`)).body);
      expect(toolPage).toContain('Open Government Licence v3.0');
      expect(toolPage).toContain('A checklist for go-live.');
      expect(toolPage).toContain(`href="/moderation/exchange/${tool.latestRevisionId}/files/${toolFileId}" download>go-live.xlsx</a> (1 KB, version 1)`);
      const download = await moderator.get(`/moderation/exchange/${tool.latestRevisionId}/files/${toolFileId}`);
      expect(download.status).toBe(200);
      expect(download.body).toBe('PK tool bytes');
      expect((await itemOf(tool.id)).downloadCount).toBe(0); // a moderator's reading is not a download
      const hack = await submitted('Reading page hack', { kind: 'hack', body: 'Press *Ctrl* and F.' });
      const hackPage = (await moderator.get(`/moderation/exchange/${hack.latestRevisionId}`)).body;
      expect(hackPage).toContain('Press <em>Ctrl</em> and F.');
      expect(hackPage).toContain('The tip');
    });

    it('refuses to publish with a box unticked, and to return without feedback, changing nothing', async () => {
      const item = await submitted('Refusals case study');
      const revisionId = item.latestRevisionId!;
      const unticked = await decide(moderator, revisionId, 'publish', ALL_CHECKS.slice(0, 3), 'Looks fine');
      expect(unticked.status).toBe(400);
      expect(decoded(unticked.body)).toContain(CHECKS_MESSAGE);
      // The form keeps what was ticked and written.
      expect(unticked.body).toMatch(new RegExp(`value="${ALL_CHECKS[0]}" checked`));
      expect(unticked.body).not.toMatch(new RegExp(`value="${ALL_CHECKS[3]}" checked`));
      expect(unticked.body).toContain('Looks fine');
      const none = await decide(moderator, revisionId, 'publish', []);
      expect(none.status).toBe(400);
      const bogus = await decide(moderator, revisionId, 'publish', [...ALL_CHECKS.slice(0, 3), 'made_up']);
      expect(bogus.status).toBe(400);
      const noFeedback = await decide(moderator, revisionId, 'return', [], '   \n ');
      expect(noFeedback.status).toBe(400);
      expect(decoded(noFeedback.body)).toContain(FEEDBACK_MESSAGE);
      const noDecision = await decide(moderator, revisionId, 'shrug', ALL_CHECKS, 'x');
      expect(noDecision.status).toBe(400);
      expect(decoded(noDecision.body)).toContain('Choose to publish it or to return it');
      const tooLong = await decide(moderator, revisionId, 'return', [], 'x'.repeat(5001));
      expect(tooLong.status).toBe(400);
      expect((await revisionOf(revisionId)).status).toBe('submitted');
      expect((await itemOf(item.id)).status).toBe('submitted');
      expect(await audit('exchange.published', item.id)).toEqual([]);
      expect(await audit('exchange.returned', item.id)).toEqual([]);
    });

    it('the whole workflow: submitted, returned with feedback, resubmitted, published; audited, and the author e-mailed each time', async () => {
      const item = await submitted('Workflow discharge letters', { body: 'Letters took a week.' });
      const revisionId = item.latestRevisionId!;

      const returned = await decide(moderator, revisionId, 'return', ALL_CHECKS.slice(0, 2), 'Please remove the **ward name** from the results.');
      expect(returned.status).toBe(303);
      expect(returned.headers.location).toBe('/moderation?notice=returned');
      let revision = await revisionOf(revisionId);
      expect(revision).toMatchObject({ status: 'returned', decidedById: moderator.userId, feedback: 'Please remove the **ward name** from the results.', checklist: `${ALL_CHECKS[0]},${ALL_CHECKS[1]}` });
      expect(revision.decidedAt).not.toBeNull();
      expect((await itemOf(item.id)).status).toBe('returned');
      expect((await moderator.get('/moderation')).body).not.toContain(`data-revision="${revisionId}"`);
      expect(await audit('exchange.returned', item.id)).toEqual([
        { actorId: moderator.userId, actorName: 'Mo Moderator', details: expect.objectContaining({ revisionId, revision: 1, feedback: 'Please remove the **ward name** from the results.' }) },
      ]);
      await waitFor(() => receivedBy(author.email, /needs changes/).length === 1);
      const returnMail = receivedBy(author.email, /needs changes/)[0];
      expect(returnMail.subject).toBe('“Workflow discharge letters” needs changes before it can be published');
      expect(returnMail.text).toContain('Please remove the **ward name** from the results.');
      expect(returnMail.text).toContain(`http://academy.test/exchange/${item.slug}/edit`);
      expect(returnMail.html).toContain('<strong>ward name</strong>');
      // The revision's page now says what was decided, and offers no form.
      const decidedPage = decoded((await moderator.get(`/moderation/exchange/${revisionId}`)).body);
      expect(decidedPage).toContain('Returned to its author by Mo Moderator');
      expect(decidedPage).not.toContain('value="publish"');

      // The author edits the returned revision in place and submits it again (the contributions part's pages).
      const resubmittedAt = new Date();
      await db.getRepository(ExchangeRevision).update({ id: revisionId }, { status: 'submitted', submittedAt: resubmittedAt, context: 'Letters took a week on one of our wards.', updatedAt: resubmittedAt });
      await db.getRepository(ExchangeItem).update({ id: item.id }, { status: 'submitted' });
      expect((await moderator.get('/moderation')).body).toContain(`data-revision="${revisionId}"`);

      const published = await decide(secondModerator, revisionId, 'publish', ALL_CHECKS);
      expect(published.status).toBe(303);
      expect(published.headers.location).toBe('/moderation?notice=published');
      expect(decoded((await secondModerator.get('/moderation?notice=published')).body)).toContain('It is published.');
      revision = await revisionOf(revisionId);
      expect(revision).toMatchObject({ status: 'published', decidedById: secondModerator.userId, checklist: ALL_CHECKS.join(',') });
      const after = await itemOf(item.id);
      expect(after).toMatchObject({ status: 'published', publishedRevisionId: revisionId, title: 'Workflow discharge letters', reviewRequestedAt: null });
      expect(after.searchText).toContain('one of our wards');
      expect(after.reviewDueAt!.getTime()).toBe(reviewDueFrom(revision.decidedAt!).getTime());
      expect(after.publishedAt!.getTime()).toBe(revision.decidedAt!.getTime());
      expect(await search('wards')).toContain(item.id);
      expect(await audit('exchange.published', item.id)).toEqual([
        { actorId: secondModerator.userId, actorName: 'Sam Second', details: expect.objectContaining({ revisionId, checklist: [...ALL_CHECKS], firstVersion: true, supersededRevisionId: null }) },
      ]);
      await waitFor(() => receivedBy(author.email, /is published/).length === 1);
      const publishedMail = receivedBy(author.email, /is published/)[0];
      expect(publishedMail.subject).toBe('“Workflow discharge letters” is published on the exchange');
      expect(publishedMail.text).toContain(`http://academy.test/exchange/${item.slug}`);
      // Each e-mail once, through the outbox.
      expect(await outbox('exchange-returned', author.email)).toHaveLength(1);
      expect((await outbox('exchange-published', author.email)).filter((m) => m.dedupeKey === `exchange-published:${revisionId}`)).toHaveLength(1);

      // The same form sent again (a second click, the back button): a clear message, nothing changed.
      const again = await decide(moderator, revisionId, 'publish', ALL_CHECKS);
      expect(again.status).toBe(409);
      expect(decoded(again.body)).toContain('This revision has already been published, by Sam Second');
      expect(decoded(again.body)).toContain('Nothing was changed.');
      const returnAfter = await decide(moderator, revisionId, 'return', [], 'Too late');
      expect(returnAfter.status).toBe(409);
      expect(await revisionOf(revisionId)).toMatchObject({ status: 'published', decidedById: secondModerator.userId });
      expect(await audit('exchange.published', item.id)).toHaveLength(1);
      expect(await audit('exchange.returned', item.id)).toHaveLength(1);
      expect(await outbox('exchange-published', author.email)).toHaveLength(1);
    });

    it('a second return of a resubmitted revision is a second e-mail (one per submission)', async () => {
      const item = await submitted('Returned twice hack', { kind: 'hack' });
      const revisionId = item.latestRevisionId!;
      expect((await decide(moderator, revisionId, 'return', [], 'First feedback')).status).toBe(303);
      await db.getRepository(ExchangeRevision).update({ id: revisionId }, { status: 'submitted', submittedAt: new Date(Date.now() + 1000) });
      expect((await decide(moderator, revisionId, 'return', [], 'Second feedback')).status).toBe(303);
      const mail = (await outbox('exchange-returned', author.email)).filter((m) => m.dedupeKey.startsWith(`exchange-returned:${revisionId}:`));
      expect(mail.map((m) => JSON.parse(m.payload).feedback)).toEqual(['First feedback', 'Second feedback']);
    });

    it('a revision of a published item: shows what changed, and publishing it supersedes the old one and changes what search finds', async () => {
      const system = await createSystem(t, { name: 'Quarkwell EPR', supplier: 'Quarkwell Ltd' });
      const { item, first, second } = await publishedWithRevision('Revised bed boards', { context: 'We now use Zorbleflux whiteboards.', summary: 'A new summary', systemIds: JSON.stringify([system.id]), changeNote: 'Updated for the new boards' });
      await db.getRepository(ExchangeRevision).update({ id: first.id }, { context: 'We used Glimmerquash paper boards.' });
      await db.getRepository(ExchangeItem).update({ id: item.id }, { searchText: 'We used Glimmerquash paper boards.' });
      expect(await search('Glimmerquash')).toContain(item.id);
      expect(await search('Zorbleflux')).not.toContain(item.id);

      const queue = decoded((await moderator.get('/moderation')).body);
      expect(queue.slice(queue.indexOf(`data-revision="${second.id}"`)).split('</tr>')[0]).toContain('Revision 2 of a published item');
      const page = decoded((await moderator.get(`/moderation/exchange/${second.id}`)).body);
      expect(page).toContain('What changed');
      expect(page).toContain('Updated for the new boards');
      const changes = page.split('id="changes"')[1].split('id="content-heading"')[0];
      expect(changes).toContain('Summary');
      expect(changes).toContain('The context and the problem');
      expect(changes).toMatch(/data-change="before"><p>We used Glimmerquash paper boards.<\/p>/);
      expect(changes).toMatch(/data-change="after"><p>We now use Zorbleflux whiteboards.<\/p>/);
      expect(changes).toContain('Added: Quarkwell EPR (Quarkwell Ltd)');
      expect(changes).not.toContain('What was done'); // unchanged sections are not listed

      expect((await decide(moderator, second.id, 'publish', ALL_CHECKS)).status).toBe(303);
      expect(await revisionOf(first.id)).toMatchObject({ status: 'superseded' });
      expect(await revisionOf(second.id)).toMatchObject({ status: 'published' });
      const after = await itemOf(item.id);
      expect(after).toMatchObject({ status: 'published', publishedRevisionId: second.id, latestRevisionId: second.id, summary: 'A new summary' });
      expect(after.firstPublishedAt!.getTime()).toBe(item.firstPublishedAt!.getTime());
      expect(after.publishedAt!.getTime()).toBeGreaterThan(item.publishedAt!.getTime());
      expect(await search('Zorbleflux')).toContain(item.id);
      expect(await search('Quarkwell')).toContain(item.id);
      expect(await search('Glimmerquash')).not.toContain(item.id);
      const facets = await db.query('SELECT system_id FROM exchange_item_systems WHERE item_id = ?', [item.id]);
      expect(facets.map((f: { system_id: number }) => Number(f.system_id))).toEqual([system.id]);
      expect(await audit('exchange.published', item.id)).toEqual([{ actorId: moderator.userId, actorName: 'Mo Moderator', details: expect.objectContaining({ revisionId: second.id, revision: 2, supersededRevisionId: first.id, firstVersion: false }) }]);
      await waitFor(() => receivedBy(author.email, /Your changes to “Revised bed boards” are published/).length === 1);
      // The superseded revision's page says so, and offers no decision.
      const old = decoded((await moderator.get(`/moderation/exchange/${first.id}`)).body);
      expect(old).toContain('Replaced by a newer revision');
      expect(old).not.toContain('value="publish"');
    });

    it('returning a revision of a published item keeps the published one up', async () => {
      const { item, first, second } = await publishedWithRevision('Kept up while returned', { context: 'Something dubious' });
      expect((await decide(moderator, second.id, 'return', [], 'Not yet')).status).toBe(303);
      expect(await revisionOf(second.id)).toMatchObject({ status: 'returned' });
      expect(await revisionOf(first.id)).toMatchObject({ status: 'published' });
      expect(await itemOf(item.id)).toMatchObject({ status: 'published', publishedRevisionId: first.id });
      await waitFor(() => receivedBy(author.email, /“Kept up while returned” needs changes/).length === 1);
      expect(receivedBy(author.email, /“Kept up while returned” needs changes/)[0].text).toContain('The version published before stays up meanwhile.');
    });

    it('two moderators deciding one revision at once: it is decided once, the other is told', async () => {
      for (const [a, b] of [
        ['publish', 'publish'],
        ['publish', 'return'],
      ]) {
        const item = await submitted(`At once ${a} ${b}`);
        const revisionId = item.latestRevisionId!;
        await Promise.all([moderator.get(`/moderation/exchange/${revisionId}`), secondModerator.get(`/moderation/exchange/${revisionId}`)]);
        const send = (who: Signed, decision: string) =>
          who.request('POST', `/moderation/exchange/${revisionId}/decision`, { raw: decisionForm(who.csrf, decision, ALL_CHECKS, 'Feedback at once'), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        const answers = await Promise.all([send(moderator, a), send(secondModerator, b)]);
        expect(answers.map((x) => x.status).sort()).toEqual([303, 409]);
        expect(decoded(answers.find((x) => x.status === 409)!.body)).toMatch(/This revision has already been (published|returned to its author), by (Mo Moderator|Sam Second)/);
        const decided = (await audit('exchange.published', item.id)).length + (await audit('exchange.returned', item.id)).length;
        expect(decided).toBe(1);
        const revision = await revisionOf(revisionId);
        expect(['published', 'returned']).toContain(revision.status);
        const mails = (await outbox('exchange-published', author.email)).concat(await outbox('exchange-returned', author.email)).filter((m) => JSON.parse(m.payload).title === `At once ${a} ${b}`);
        expect(mails).toHaveLength(1);
      }
    });

    it('will not decide a revision of a withdrawn item', async () => {
      const item = await submitted('Withdrawn before deciding');
      await db.getRepository(ExchangeItem).update({ id: item.id }, { status: 'withdrawn' });
      const answer = await decide(moderator, item.latestRevisionId!, 'publish', ALL_CHECKS);
      expect(answer.status).toBe(409);
      expect(decoded(answer.body)).toContain('This item has been withdrawn');
      expect((await revisionOf(item.latestRevisionId!)).status).toBe('submitted');
      expect((await itemOf(item.id)).status).toBe('withdrawn');
    });

    it('does not e-mail an author whose account is deactivated, and still decides', async () => {
      const gone = await t.signedIn('learner');
      await addMember(t, organisationId, gone.userId);
      const item = await submitted('Author deactivated', { authorId: gone.userId });
      await db.getRepository(User).update({ id: gone.userId }, { deactivatedAt: new Date() });
      await t.app.get(AccountsService).identitiesChanged([gone.userId]);
      expect((await decide(moderator, item.latestRevisionId!, 'publish', ALL_CHECKS)).status).toBe(303);
      expect((await itemOf(item.id)).status).toBe('published');
      expect(await outbox('exchange-published', gone.email)).toEqual([]);
    });
  });

  describe('withdrawing', () => {
    it('needs a reason; withdraws, audits and tells the author; a second time is refused, changing nothing', async () => {
      const item = await createItem(t, { authorId: author.userId, organisationId, title: 'To be withdrawn' });
      const form = await moderator.get(`/moderation/exchange/items/${item.id}/withdraw`);
      expect(form.status).toBe(200);
      expect(decoded(form.body)).toContain('Withdraw To be withdrawn');
      const empty = await moderator.submit(`/moderation/exchange/items/${item.id}/withdraw`, { reason: '  ' });
      expect(empty.status).toBe(400);
      expect(decoded(empty.body)).toContain(REASON_MESSAGE);
      const tooLong = await moderator.submit(`/moderation/exchange/items/${item.id}/withdraw`, { reason: 'x'.repeat(1001) });
      expect(tooLong.status).toBe(400);
      expect((await itemOf(item.id)).status).toBe('published');

      const done = await moderator.submit(`/moderation/exchange/items/${item.id}/withdraw`, { reason: 'It names a patient in the results.' });
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe('/moderation?notice=withdrawn');
      expect((await itemOf(item.id)).status).toBe('withdrawn');
      expect(await search('withdrawn')).not.toContain(item.id);
      expect(await audit('exchange.withdrawn', item.id)).toEqual([{ actorId: moderator.userId, actorName: 'Mo Moderator', details: expect.objectContaining({ by: 'moderator', previousStatus: 'published', reason: 'It names a patient in the results.' }) }]);
      await waitFor(() => receivedBy(author.email, /“To be withdrawn” has been withdrawn/).length === 1);
      expect(receivedBy(author.email, /“To be withdrawn” has been withdrawn/)[0].text).toContain('It names a patient in the results.');
      expect((await t.visitor().get(`/exchange/${item.slug}`)).status).toBe(404);

      const again = await moderator.submit(`/moderation/exchange/items/${item.id}/withdraw`, { reason: 'Again' });
      expect(again.status).toBe(409);
      expect(decoded(again.body)).toContain('already been withdrawn');
      expect(await audit('exchange.withdrawn', item.id)).toHaveLength(1);
      expect(await outbox('exchange-withdrawn', author.email)).toHaveLength(1);
    });
  });
});
