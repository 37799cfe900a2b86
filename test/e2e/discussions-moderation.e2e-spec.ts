import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { londonDateTime } from '../../src/common/london-time';
import { DiscussionSpaces } from '../../src/discussions/core/discussion-spaces';
import { DiscussionPost, DiscussionReport, DiscussionSpace, DiscussionSuspension, DiscussionThread, DiscussionVote } from '../../src/discussions/entities';
import { ALREADY_HIDDEN, NO_OPEN_REPORTS, NOT_HELD, NOT_HIDDEN } from '../../src/discussions/moderation/discussion-moderation.service';
import { CHOOSE_REASON, DAYS_MESSAGE, DETAILS_NEEDED, DETAILS_TOO_LONG, HIDE_REASON_NEEDED, SUSPENSION_REASON_NEEDED, SUSPENSION_REASON_TOO_LONG } from '../../src/discussions/moderation/moderation.dto';
import { NOT_A_MODERATOR } from '../../src/discussions/moderation/post-context';
import { ALREADY_REPORTED, OWN_POST } from '../../src/discussions/moderation/reports.service';
import { alreadySuspended, MODERATORS_NOT_SUSPENDED, NOT_SUSPENDED } from '../../src/discussions/moderation/suspensions.service';
import { ThreadsService } from '../../src/discussions/threads/threads.service';
import { JobsService } from '../../src/jobs/jobs.service';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { MailTemplates } from '../../src/mail/mail-templates';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { course } from '../support/courses';
import { saveCommunity, saveMember, savePost, saveThread, trustedPoster } from '../support/discussions';
import { decodeHtml } from '../support/html-forms';

type Person = Visitor & { userId: number; email: string; password: string; name: string };

const DAY = 86_400_000;
/** The visible text of a page: tags dropped, references decoded, spaces collapsed. */
const text = (html: string) => decodeHtml(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
/** A queue row of a post, or undefined. */
const rowOf = (html: string, postId: number) => new RegExp(`<tr class="nhsuk-table__row" data-post="${postId}">[\\s\\S]*?</tr>`).exec(html)?.[0];
/** The held-posts table of the queue. */
const heldTable = (html: string) => /<table class="nhsuk-table-responsive" id="held-posts">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
const reportedTable = (html: string) => /<table class="nhsuk-table-responsive" id="reported-posts">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';

let counter = 0;
const unique = (title: string) => `${title} ${process.pid} ${++counter}`;

describe('discussion moderation: reports, the queue, hide, restore, approve, lock, suspensions and personal data', () => {
  let t: TestApp;
  let ds: DataSource;
  let admin: Person;
  let siteModerator: Person;
  /** A learner who moderates community A only. */
  let spaceModerator: Person;
  let author: Person;
  let reader: Person;
  let outsider: Person;
  let communityA: DiscussionSpace;
  let communityB: DiscussionSpace;
  let membersOnly: DiscussionSpace;

  const person = async (role: 'learner' | 'moderator' | 'admin', name: string): Promise<Person> => Object.assign(await t.signedIn(role, { name }), { name });
  const audit = async (action: string, targetId: number) =>
    (await ds.query('SELECT actor_id, actor_name, target_type, details FROM audit_log WHERE action = ? AND target_id = ? ORDER BY id', [action, targetId])).map(
      (r: { actor_id: number | null; actor_name: string; target_type: string; details: string }) => ({ actorId: r.actor_id === null ? null : Number(r.actor_id), actorName: r.actor_name, targetType: r.target_type, details: JSON.parse(r.details) }),
    );
  const post = (id: number) => ds.getRepository(DiscussionPost).findOneByOrFail({ id });
  const thread = (id: number) => ds.getRepository(DiscussionThread).findOneByOrFail({ id });
  const space = (id: number) => ds.getRepository(DiscussionSpace).findOneByOrFail({ id });
  const reportsOf = (postId: number) => ds.getRepository(DiscussionReport).find({ where: { postId }, order: { id: 'ASC' } });
  const outbox = (template: string, to: string) => ds.getRepository(MailMessage).find({ where: { template, toAddress: to }, order: { id: 'ASC' } });

  /** A visible thread with one reply by the author, in the space. */
  async function conversation(spaceId: number, title = unique('Hazard logs for a new EPR module')) {
    const { thread: th, opening } = await saveThread(t, { spaceId, authorId: reader.userId, title, body: `Opening of ${title}` });
    const reply = await savePost(t, { threadId: th.id, authorId: author.userId, body: `A reply in ${title}: our CSO keeps it in a spreadsheet.` });
    return { thread: th, opening, reply };
  }

  /** A report straight to the table, as if `by` had sent the form. */
  const saveReport = (postId: number, by: Person, reason: DiscussionReport['reason'] = 'spam', at = new Date()) =>
    ds.getRepository(DiscussionReport).save({ postId, reporterId: by.userId, reason, details: '', status: 'open', decidedById: null, decidedAt: null, createdAt: at });

  /** A held reply (a new account's), not yet fanned out. */
  async function heldReply(threadId: number, by: Person, body = unique('A held reply from a brand-new account')) {
    const held = await savePost(t, { threadId, authorId: by.userId, body, status: 'held' });
    await ds.getRepository(DiscussionPost).update({ id: held.id }, { statusReason: 'new-account', fannedOutAt: null });
    return post(held.id);
  }

  /** Sends a form from the page it is on (so with that page's CSRF token). */
  async function send(who: Person, page: string, action: string, form: Record<string, string> = {}) {
    await who.get(page);
    return who.submit(action, form);
  }

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    admin = await person('admin', 'Ada Administrator');
    siteModerator = await person('moderator', 'Mo Moderator');
    spaceModerator = await person('learner', 'Sam Spacemod');
    author = await person('learner', 'Alex Author');
    reader = await person('learner', 'Rita Reader');
    outsider = await person('learner', 'Olu Outsider');
    for (const p of [author, reader, outsider, spaceModerator]) await trustedPoster(t, p.userId);
    communityA = await saveCommunity(t, { title: unique('Clinical safety officers') });
    communityB = await saveCommunity(t, { title: unique('Cyber security leads') });
    membersOnly = await saveCommunity(t, { title: unique('EPR programme leads'), access: 'members' });
    await saveMember(t, communityA.id, spaceModerator.userId, { role: 'moderator' });
    await saveMember(t, membersOnly.id, author.userId);
    await saveMember(t, membersOnly.id, reader.userId);
  });
  afterAll(() => t?.close());

  describe('reporting a post', () => {
    it('records a reader’s report with its reason and details, back to the thread with a banner, once per person', async () => {
      const { thread: th, reply } = await conversation(communityA.id);
      expect(decodeHtml((await reader.get(`/discussions/threads/${th.id}`)).body)).toContain(`href="/discussions/posts/${reply.id}/report"`);
      const form = await reader.get(`/discussions/posts/${reply.id}/report`);
      expect(form.status).toBe(200);
      expect(text(form.body)).toContain('Shares personal or patient-identifiable data');
      expect(text(form.body)).toContain('Unsafe clinical or technical advice');
      expect(text(form.body)).toContain('our CSO keeps it in a spreadsheet');
      const sent = await reader.submit(`/discussions/posts/${reply.id}/report`, { reason: 'clinical-risk', details: 'Suggests turning off the drug interaction alerts.' });
      expect(sent.status).toBe(303);
      expect(sent.headers.location).toBe(`/discussions/threads/${th.id}?notice=reported#post-${reply.id}`);
      // Back on the thread, the banner says what happens next.
      expect(text((await reader.get(String(sent.headers.location).split('#')[0])).body)).toContain('Thank you for your report. A moderator will look at the post');
      expect(await reportsOf(reply.id)).toMatchObject([{ reporterId: reader.userId, reason: 'clinical-risk', details: 'Suggests turning off the drug interaction alerts.', status: 'open', decidedById: null }]);

      // Twice: refused with a clear message, nothing written twice.
      const again = await send(reader, `/discussions/threads/${th.id}`, `/discussions/posts/${reply.id}/report`, { reason: 'spam' });
      expect(again.status).toBe(409);
      expect(text(again.body)).toContain(ALREADY_REPORTED);
      expect(await reportsOf(reply.id)).toHaveLength(1);
      const formAgain = await reader.get(`/discussions/posts/${reply.id}/report`);
      expect(text(formAgain.body)).toContain('You have already reported this post');
      expect(formAgain.body).not.toContain(`action="/discussions/posts/${reply.id}/report"`);
    });

    it('needs a reason, and details for “something else” (at most 1,000 characters), writing nothing otherwise', async () => {
      const { reply } = await conversation(communityA.id);
      const cases: Array<[Record<string, string>, string]> = [
        [{}, CHOOSE_REASON],
        [{ reason: 'nonsense' }, CHOOSE_REASON],
        [{ reason: 'other' }, DETAILS_NEEDED],
        [{ reason: 'other', details: '   ' }, DETAILS_NEEDED],
        [{ reason: 'abuse', details: 'x'.repeat(1001) }, DETAILS_TOO_LONG],
      ];
      for (const [form, message] of cases) {
        const answer = await send(reader, `/discussions/posts/${reply.id}/report`, `/discussions/posts/${reply.id}/report`, form);
        expect([form, answer.status]).toEqual([form, 400]);
        expect(text(answer.body)).toContain(message);
        expect(answer.body).toContain('nhsuk-error-summary');
      }
      expect(await reportsOf(reply.id)).toEqual([]);
      const other = await send(reader, `/discussions/posts/${reply.id}/report`, `/discussions/posts/${reply.id}/report`, { reason: 'other', details: 'x'.repeat(1000) });
      expect(other.status).toBe(303);
    });

    it('answers 404 for a post the person cannot read (members-only, a course they are not enrolled in, held, hidden, unknown) and 403 for their own post, writing nothing', async () => {
      const secret = await conversation(membersOnly.id);
      const courseRow = await course(t, { authorId: admin.userId, title: unique('Clinical safety for EPR go-lives') });
      const { space: courseSpace } = await t.app.get(DiscussionSpaces).forSubject('course', courseRow.id);
      const inCourse = await saveThread(t, { spaceId: courseSpace.id, authorId: admin.userId, title: unique('Course question') });
      const visible = await conversation(communityA.id);
      const held = await heldReply(visible.thread.id, reader);
      const hidden = await savePost(t, { threadId: visible.thread.id, authorId: reader.userId, status: 'hidden' });
      for (const id of [String(secret.reply.id), String(inCourse.opening.id), String(held.id), String(hidden.id), '99999999', 'abc', '0']) {
        expect([id, (await outsider.get(`/discussions/posts/${id}/report`)).status]).toEqual([id, 404]);
        const answer = await send(outsider, '/account', `/discussions/posts/${id}/report`, { reason: 'spam' });
        expect([id, answer.status]).toEqual([id, 404]);
      }
      const own = await author.get(`/discussions/posts/${visible.reply.id}/report`);
      expect(own.status).toBe(403);
      expect(text(own.body)).toContain(OWN_POST);
      expect((await send(author, '/account', `/discussions/posts/${visible.reply.id}/report`, { reason: 'spam' })).status).toBe(403);
      for (const id of [secret.reply.id, inCourse.opening.id, held.id, hidden.id, visible.reply.id]) expect(await reportsOf(id)).toEqual([]);
      // A member reads the members-only community, so may report there.
      expect((await send(reader, `/discussions/posts/${secret.reply.id}/report`, `/discussions/posts/${secret.reply.id}/report`, { reason: 'off-topic' })).status).toBe(303);
      // Signed out: to sign in.
      expect((await t.visitor().get(`/discussions/posts/${visible.reply.id}/report`)).status).toBe(303);
    });
  });

  describe('the queue', () => {
    it('shows site moderators and administrators every reported and held post, a community’s moderators theirs only, and learners 403', async () => {
      const inA = await conversation(communityA.id);
      const inB = await conversation(communityB.id);
      const firstReport = new Date(Date.now() - 3 * DAY);
      await saveReport(inA.reply.id, reader, 'spam', firstReport);
      await saveReport(inA.reply.id, outsider, 'spam');
      await saveReport(inA.reply.id, spaceModerator, 'personal-data');
      await saveReport(inB.reply.id, reader, 'abuse');
      const heldA = await heldReply(inA.thread.id, outsider);
      const heldB = await heldReply(inB.thread.id, outsider);

      for (const who of [siteModerator, admin]) {
        const queue = await who.get('/moderation/discussions');
        expect(queue.status).toBe(200);
        const rowA = rowOf(reportedTable(queue.body), inA.reply.id)!;
        expect(rowA).toBeDefined();
        expect(text(rowA)).toContain('our CSO keeps it in a spreadsheet');
        expect(text(rowA)).toContain(inA.thread.title);
        expect(text(rowA)).toContain(`Community: ${communityA.title}`);
        expect(text(rowA)).toContain('Spam or advertising (2)');
        expect(text(rowA)).toContain('Shares personal or patient-identifiable data');
        expect(text(rowA)).toContain(londonDateTime(firstReport));
        expect(rowA).toContain(`href="/moderation/discussions/posts/${inA.reply.id}"`);
        expect(rowOf(reportedTable(queue.body), inB.reply.id)).toBeDefined();
        expect(rowOf(heldTable(queue.body), heldA.id)).toBeDefined();
        expect(rowOf(heldTable(queue.body), heldB.id)).toBeDefined();
        expect(text(rowOf(heldTable(queue.body), heldA.id)!)).toContain('A new account');
      }

      const own = await spaceModerator.get('/moderation/discussions');
      expect(own.status).toBe(200);
      expect(rowOf(reportedTable(own.body), inA.reply.id)).toBeDefined();
      expect(rowOf(heldTable(own.body), heldA.id)).toBeDefined();
      expect(rowOf(reportedTable(own.body), inB.reply.id)).toBeUndefined();
      expect(rowOf(heldTable(own.body), heldB.id)).toBeUndefined();
      expect(own.body).not.toContain(inB.thread.title);
      expect((await spaceModerator.get(`/moderation/discussions/posts/${inA.reply.id}`)).status).toBe(200);
      // Another community's post is not there for them, like one that does not exist.
      expect((await spaceModerator.get(`/moderation/discussions/posts/${inB.reply.id}`)).status).toBe(404);
      expect((await spaceModerator.get('/moderation/discussions/posts/99999999')).status).toBe(404);
      expect((await send(spaceModerator, '/moderation/discussions', `/moderation/discussions/posts/${inB.reply.id}/hide`, { reason: 'Spam' })).status).toBe(404);
      expect((await send(spaceModerator, '/moderation/discussions', `/moderation/discussions/posts/${heldB.id}/approve`)).status).toBe(404);
      expect((await post(inB.reply.id)).status).toBe('visible');
      expect((await post(heldB.id)).status).toBe('held');

      // Someone who moderates nothing: 403 everywhere, whether the post exists or not.
      for (const url of ['/moderation/discussions', `/moderation/discussions/posts/${inA.reply.id}`, '/moderation/discussions/posts/99999999']) {
        const answer = await reader.get(url);
        expect([url, answer.status]).toEqual([url, 403]);
        expect(answer.body).not.toContain(inA.thread.title);
      }
      expect(text((await reader.get('/moderation/discussions')).body)).toContain(NOT_A_MODERATOR);
      for (const action of ['hide', 'restore', 'approve', 'dismiss-reports', 'lock', 'unlock']) {
        const answer = await send(reader, '/account', `/moderation/discussions/posts/${inA.reply.id}/${action}`, { reason: 'Spam' });
        expect([action, answer.status]).toEqual([action, 403]);
      }
      expect((await post(inA.reply.id)).status).toBe('visible');
      expect(await reportsOf(inA.reply.id)).toHaveLength(3);
    });

    it('pages each list, oldest first, 25 to a page', async () => {
      const community = await saveCommunity(t, { title: unique('Digital nurses') });
      const moderator = await person('learner', 'Pat Pager');
      await saveMember(t, community.id, moderator.userId, { role: 'moderator' });
      const { thread: th } = await saveThread(t, { spaceId: community.id, authorId: reader.userId, title: unique('Paged thread') });
      const start = Date.now() - 40 * 60_000;
      const held: number[] = [];
      for (let i = 0; i < 26; i++) {
        const p = await savePost(t, { threadId: th.id, authorId: outsider.userId, body: `Held number ${i}`, status: 'held', createdAt: new Date(start + i * 60_000) });
        held.push(p.id);
      }
      const first = await moderator.get('/moderation/discussions');
      const ids = (html: string) => [...heldTable(html).matchAll(/data-post="(\d+)"/g)].map((m) => Number(m[1]));
      expect(ids(first.body)).toEqual(held.slice(0, 25));
      expect(text(first.body)).toContain('Waiting for approval 26');
      expect(decodeHtml(first.body)).toContain('href="/moderation/discussions?heldPage=2"');
      const second = await moderator.get('/moderation/discussions?heldPage=2');
      expect(ids(second.body)).toEqual([held[25]]);
      // A page past the last shows the last; a page that is not a number is refused.
      expect(ids((await moderator.get('/moderation/discussions?heldPage=9')).body)).toEqual([held[25]]);
      expect((await moderator.get('/moderation/discussions?heldPage=two')).status).toBe(400);
    });

    it('links the discussions queue from the exchange review queue', async () => {
      const exchange = await siteModerator.get('/moderation');
      expect(exchange.body).toContain('href="/moderation/discussions"');
    });

    it('shows the post in context: thread, author with role and organisation, reports with reporters, and the author’s history', async () => {
      const { thread: th, reply } = await conversation(communityA.id);
      await saveReport(reply.id, reader, 'other');
      await ds.getRepository(DiscussionReport).update({ postId: reply.id }, { details: 'Names a patient on ward 7.' });
      const earlier = await savePost(t, { threadId: th.id, authorId: author.userId, status: 'hidden', body: 'An earlier post' });
      await ds.getRepository(DiscussionPost).update({ id: earlier.id }, { statusReason: 'Advertising a product' });
      const page = await siteModerator.get(`/moderation/discussions/posts/${reply.id}`);
      expect(page.status).toBe(200);
      const words = text(page.body);
      expect(words).toContain(th.title);
      expect(words).toContain('Alex Author, Learner');
      expect(words).toContain('Tester');
      expect(words).toContain('our CSO keeps it in a spreadsheet');
      expect(words).toContain('Something else');
      expect(words).toContain('Names a patient on ward 7.');
      expect(words).toContain('By Rita Reader');
      expect(words).toContain('Advertising a product');
      expect(decodeHtml(page.body)).toContain(`href="/moderation/discussions/people/${author.userId}/suspend?post=${reply.id}"`);
    });
  });

  describe('decisions', () => {
    it('hides a post with the reason its author is told: counts drop, its reports are upheld, one audit entry with the moderator', async () => {
      const { thread: th, reply } = await conversation(communityA.id);
      await saveReport(reply.id, reader, 'abuse');
      await saveReport(reply.id, outsider, 'spam');
      expect((await thread(th.id)).replyCount).toBe(1);
      const page = `/moderation/discussions/posts/${reply.id}`;

      const empty = await send(siteModerator, page, `${page}/hide`, { reason: '  ' });
      expect(empty.status).toBe(400);
      expect(text(empty.body)).toContain(HIDE_REASON_NEEDED);
      expect((await post(reply.id)).status).toBe('visible');

      const hidden = await send(siteModerator, page, `${page}/hide`, { reason: 'Personal attack on another member' });
      expect(hidden.status).toBe(303);
      expect(hidden.headers.location).toBe(`${page}?notice=hidden`);
      expect(await post(reply.id)).toMatchObject({ status: 'hidden', statusReason: 'Personal attack on another member' });
      expect((await thread(th.id)).replyCount).toBe(0);
      expect((await thread(th.id)).status).toBe('visible');
      expect((await reportsOf(reply.id)).map((r) => [r.status, r.decidedById])).toEqual([
        ['upheld', siteModerator.userId],
        ['upheld', siteModerator.userId],
      ]);
      expect(await audit('discussion.post.hidden', reply.id)).toEqual([
        {
          actorId: siteModerator.userId,
          actorName: 'Mo Moderator',
          targetType: 'discussion_post',
          details: { threadId: th.id, spaceId: communityA.id, opening: false, authorId: author.userId, previousStatus: 'visible', reason: 'Personal attack on another member', reportsUpheld: 2 },
        },
      ]);
      expect(rowOf(reportedTable((await siteModerator.get('/moderation/discussions')).body), reply.id)).toBeUndefined();

      // Again: refused, nothing changed, still one entry.
      const again = await send(siteModerator, page, `${page}/hide`, { reason: 'Again' });
      expect(again.status).toBe(409);
      expect(text(again.body)).toContain(ALREADY_HIDDEN);
      expect((await post(reply.id)).statusReason).toBe('Personal attack on another member');
      expect(await audit('discussion.post.hidden', reply.id)).toHaveLength(1);

      // The thread as its readers see it: the placeholder, not the post's words; its author reads the reason.
      const forReader = text((await reader.get(`/discussions/threads/${th.id}`)).body);
      expect(forReader).toContain('This post was hidden by a moderator.');
      expect(forReader).not.toContain('our CSO keeps it in a spreadsheet');
      expect(forReader).not.toContain('Personal attack on another member');
      const forAuthor = text((await author.get(`/discussions/threads/${th.id}`)).body);
      expect(forAuthor).toContain("The moderator's reason: Personal attack on another member");
    });

    it('restores a hidden post (counts back, its reports left as decided), and refuses to restore one that is not hidden', async () => {
      const { thread: th, reply } = await conversation(communityA.id);
      await saveReport(reply.id, reader, 'abuse');
      const page = `/moderation/discussions/posts/${reply.id}`;
      expect((await send(siteModerator, page, `${page}/restore`)).status).toBe(409);
      await send(siteModerator, page, `${page}/hide`, { reason: 'Looks like spam' });
      const jobs = jest.spyOn(t.app.get(JobsService), 'tryEnqueue');
      try {
        const restored = await send(admin, page, `${page}/restore`);
        expect(restored.status).toBe(303);
        expect(await post(reply.id)).toMatchObject({ status: 'visible', statusReason: null });
        expect((await thread(th.id)).replyCount).toBe(1);
        expect((await reportsOf(reply.id)).map((r) => r.status)).toEqual(['upheld']);
        // It had been fanned out when first written: nobody is told again.
        expect(jobs.mock.calls.filter(([name]) => name === 'discussions.fan-out')).toEqual([]);
      } finally {
        jobs.mockRestore();
      }
      expect(await audit('discussion.post.restored', reply.id)).toMatchObject([{ actorId: admin.userId, details: { previousStatus: 'hidden' } }]);
      const again = await send(admin, page, `${page}/restore`);
      expect(again.status).toBe(409);
      expect(text(again.body)).toContain(NOT_HIDDEN);
    });

    it('hides and restores an opening post with its thread: the space’s count follows', async () => {
      const { thread: th, opening } = await conversation(communityB.id);
      const before = (await space(communityB.id)).threadCount;
      const page = `/moderation/discussions/posts/${opening.id}`;
      expect((await send(siteModerator, page, `${page}/hide`, { reason: 'Off-topic advert' })).status).toBe(303);
      expect((await thread(th.id)).status).toBe('hidden');
      expect((await space(communityB.id)).threadCount).toBe(before - 1);
      expect((await send(siteModerator, page, `${page}/restore`)).status).toBe(303);
      expect((await thread(th.id)).status).toBe('visible');
      expect((await space(communityB.id)).threadCount).toBe(before);
    });

    it('approves a held post: visible to readers, counted, audited, and its fan-out enqueued', async () => {
      const { thread: th } = await conversation(communityA.id);
      const held = await heldReply(th.id, outsider, 'Held: our trust uses a Datix form for this.');
      const page = `/moderation/discussions/posts/${held.id}`;
      expect(text((await spaceModerator.get(page)).body)).toContain('Waiting for approval');
      const jobs = jest.spyOn(t.app.get(JobsService), 'tryEnqueue');
      try {
        const approved = await send(spaceModerator, page, `${page}/approve`);
        expect(approved.status).toBe(303);
        expect(jobs.mock.calls.filter(([name]) => name === 'discussions.fan-out').map(([, data, options]) => [data, options?.jobId])).toEqual([[{ postId: held.id }, `discussions.fan-out:${held.id}`]]);
      } finally {
        jobs.mockRestore();
      }
      expect(await post(held.id)).toMatchObject({ status: 'visible', statusReason: null });
      expect((await thread(th.id)).replyCount).toBe(2);
      expect(await audit('discussion.post.approved', held.id)).toMatchObject([{ actorId: spaceModerator.userId, details: { previousStatus: 'held', spaceId: communityA.id } }]);
      const forReader = await t.app.get(ThreadsService).threadPage({ id: reader.userId, role: 'learner', name: reader.name }, th.id, 1);
      expect(JSON.stringify(forReader)).toContain('our trust uses a Datix form for this');
      const again = await send(spaceModerator, page, `${page}/approve`);
      expect(again.status).toBe(409);
      expect(text(again.body)).toContain(NOT_HELD);
      expect(await audit('discussion.post.approved', held.id)).toHaveLength(1);
    });

    it('fans out a post hidden while it was held when it is restored, since nobody was told of it before', async () => {
      const { thread: th } = await conversation(communityA.id);
      const held = await heldReply(th.id, outsider);
      const page = `/moderation/discussions/posts/${held.id}`;
      expect((await send(siteModerator, page, `${page}/hide`, { reason: 'Needs checking' })).status).toBe(303);
      expect(await audit('discussion.post.hidden', held.id)).toMatchObject([{ details: { previousStatus: 'held' } }]);
      const jobs = jest.spyOn(t.app.get(JobsService), 'tryEnqueue');
      try {
        expect((await send(siteModerator, page, `${page}/restore`)).status).toBe(303);
        expect(jobs.mock.calls.filter(([name]) => name === 'discussions.fan-out').map(([, data]) => data)).toEqual([{ postId: held.id }]);
      } finally {
        jobs.mockRestore();
      }
      expect((await post(held.id)).status).toBe('visible');
    });

    it('dismisses a post’s open reports, leaving the post, audited; dismissing again is refused', async () => {
      const { reply } = await conversation(communityA.id);
      await saveReport(reply.id, reader, 'off-topic');
      const page = `/moderation/discussions/posts/${reply.id}`;
      const dismissed = await send(spaceModerator, page, `${page}/dismiss-reports`);
      expect(dismissed.status).toBe(303);
      expect((await reportsOf(reply.id)).map((r) => [r.status, r.decidedById])).toEqual([['dismissed', spaceModerator.userId]]);
      expect((await post(reply.id)).status).toBe('visible');
      expect(await audit('discussion.reports.dismissed', reply.id)).toMatchObject([{ actorId: spaceModerator.userId, details: { dismissed: 1 } }]);
      const again = await send(spaceModerator, page, `${page}/dismiss-reports`);
      expect(again.status).toBe(409);
      expect(text(again.body)).toContain(NO_OPEN_REPORTS);
    });

    it('locks and unlocks the thread from the post’s page', async () => {
      const { thread: th, reply } = await conversation(communityA.id);
      const page = `/moderation/discussions/posts/${reply.id}`;
      const locked = await send(spaceModerator, page, `${page}/lock`);
      expect(locked.status).toBe(303);
      expect(locked.headers.location).toBe(`${page}?notice=locked`);
      expect((await thread(th.id)).locked).toBe(true);
      expect(text((await spaceModerator.get(page)).body)).toContain('Unlock the thread');
      await expect(t.app.get(ThreadsService).reply({ id: reader.userId, role: 'learner', name: reader.name }, th.id, { body: 'Can I still reply?' })).rejects.toMatchObject({ code: 'thread_locked' });
      expect((await send(spaceModerator, page, `${page}/unlock`)).status).toBe(303);
      expect((await thread(th.id)).locked).toBe(false);
      expect((await ds.query('SELECT action, actor_id FROM audit_log WHERE target_type = ? AND target_id = ? ORDER BY id', ['discussion_thread', th.id])).map((r: { action: string; actor_id: number }) => [r.action, Number(r.actor_id)])).toEqual([
        ['discussion.thread.locked', spaceModerator.userId],
        ['discussion.thread.unlocked', spaceModerator.userId],
      ]);
    });

    it('two moderators hiding the same post at once change it once, with one audit entry', async () => {
      for (let round = 0; round < 3; round++) {
        const { thread: th, reply } = await conversation(communityB.id);
        await saveReport(reply.id, reader, 'spam');
        const page = `/moderation/discussions/posts/${reply.id}`;
        await siteModerator.get(page);
        await admin.get(page);
        const answers = await Promise.all([siteModerator.submit(`${page}/hide`, { reason: 'First' }), admin.submit(`${page}/hide`, { reason: 'Second' })]);
        expect(answers.map((a) => a.status).sort()).toEqual([303, 409]);
        const entries = await audit('discussion.post.hidden', reply.id);
        expect(entries).toHaveLength(1);
        expect((await post(reply.id)).statusReason).toBe(entries[0].details.reason);
        expect((await thread(th.id)).replyCount).toBe(0);
        expect((await reportsOf(reply.id)).map((r) => [r.status, r.decidedById])).toEqual([['upheld', entries[0].actorId]]);
      }
    });
  });

  describe('suspensions', () => {
    it('suspends a person for N days with a reason they are e-mailed, blocks their posting, and lifts it', async () => {
      const { thread: th, reply } = await conversation(communityA.id);
      const target = await person('learner', 'Sue Suspended');
      await trustedPoster(t, target.userId);
      const form = `/moderation/discussions/people/${target.userId}/suspend`;
      const pageOfPost = `/moderation/discussions/posts/${reply.id}`;

      // Only site moderators and administrators suspend.
      for (const who of [reader, spaceModerator]) {
        expect((await who.get(form)).status).toBe(403);
        expect((await send(who, '/account', form, { days: '7', reason: 'No' })).status).toBe(403);
        expect((await send(who, '/account', `/moderation/discussions/people/${target.userId}/lift`)).status).toBe(403);
      }
      expect((await siteModerator.get('/moderation/discussions/people/99999999/suspend')).status).toBe(404);

      const bad: Array<[Record<string, string>, string]> = [
        [{ days: '', reason: 'Spam' }, DAYS_MESSAGE],
        [{ days: '0', reason: 'Spam' }, DAYS_MESSAGE],
        [{ days: '366', reason: 'Spam' }, DAYS_MESSAGE],
        [{ days: 'seven', reason: 'Spam' }, DAYS_MESSAGE],
        [{ days: '2.5', reason: 'Spam' }, DAYS_MESSAGE],
        [{ days: '7', reason: ' ' }, SUSPENSION_REASON_NEEDED],
        [{ days: '7', reason: 'x'.repeat(501) }, SUSPENSION_REASON_TOO_LONG],
      ];
      for (const [fields, message] of bad) {
        const answer = await send(siteModerator, form, form, fields);
        expect([fields.days, answer.status]).toEqual([fields.days, 400]);
        expect(text(answer.body)).toContain(message);
      }
      expect(await ds.getRepository(DiscussionSuspension).countBy({ userId: target.userId })).toBe(0);

      // The thread page offers the reply form until the suspension, says why not while it lasts, offers it again once lifted.
      const replyRefusal = async () => (await target.get(`/discussions/threads/${th.id}`)).body.includes('data-cannot-reply="suspended"');
      expect(await replyRefusal()).toBe(false);
      const suspended = await send(siteModerator, `${form}?post=${reply.id}`, form, { days: '7', reason: 'Repeated personal attacks after a warning', post: String(reply.id) });
      expect(suspended.status).toBe(303);
      expect(suspended.headers.location).toBe(`${pageOfPost}?notice=suspended`);
      const [row] = await ds.getRepository(DiscussionSuspension).findBy({ userId: target.userId });
      expect(row).toMatchObject({ reason: 'Repeated personal attacks after a warning', suspendedById: siteModerator.userId, liftedAt: null });
      expect(row.endsAt.getTime() - row.startsAt.getTime()).toBe(7 * DAY);
      const until = londonDateTime(row.endsAt);

      const mails = await outbox('discussion-suspended', target.email);
      expect(mails).toHaveLength(1);
      expect(JSON.parse(mails[0].payload)).toMatchObject({ name: 'Sue Suspended', reason: 'Repeated personal attacks after a warning', until, daysText: '7 days' });
      await t.drainJobs();
      expect((await outbox('discussion-suspended', target.email))[0].status).toBe('sent');
      const rendered = t.app.get(MailTemplates).render('discussion-suspended', { ...JSON.parse(mails[0].payload), academyName: 'Peer Academy', publicUrl: 'http://academy.test' });
      expect(rendered.subject).toBe(`You are suspended from posting in Peer Academy discussions until ${until}`);
      expect(rendered.text).toContain('for 7 days, until');
      expect(rendered.text).toContain('Repeated personal attacks after a warning');
      expect(rendered.text).toContain('http://academy.test/discussions/conduct');

      expect(await audit('discussion.person.suspended', target.userId)).toEqual([
        { actorId: siteModerator.userId, actorName: 'Mo Moderator', targetType: 'user', details: { suspensionId: row.id, days: 7, until: row.endsAt.toISOString(), reason: 'Repeated personal attacks after a warning' } },
      ]);

      expect(await replyRefusal()).toBe(true);
      // Posting is refused while it lasts, and nothing is written.
      const threads = t.app.get(ThreadsService);
      const before = await ds.getRepository(DiscussionPost).countBy({ threadId: th.id });
      const refused = await send(target, `/discussions/threads/${th.id}`, `/discussions/threads/${th.id}/replies`, { body: 'Let me reply anyway' });
      expect(refused.status).toBe(403);
      expect(text(refused.body)).toContain(`You are suspended from posting in discussions until ${until}. The moderators gave this reason: Repeated personal attacks after a warning`);
      await expect(threads.startThread({ id: target.userId, role: 'learner', name: target.name }, communityB.id, { kind: 'discussion', title: 'A new thread', body: 'Anyway' })).rejects.toMatchObject({ code: 'suspended' });
      expect(await ds.getRepository(DiscussionPost).countBy({ threadId: th.id })).toBe(before);
      expect(await ds.getRepository(DiscussionPost).countBy({ authorId: target.userId })).toBe(0);

      // Twice: refused, saying until when.
      const twice = await send(siteModerator, form, form, { days: '3', reason: 'More' });
      expect(twice.status).toBe(409);
      expect(text(twice.body)).toContain(alreadySuspended(row.endsAt));
      expect(await ds.getRepository(DiscussionSuspension).countBy({ userId: target.userId })).toBe(1);

      const onPostPage = text((await siteModerator.get(pageOfPost)).body);
      expect(onPostPage).not.toContain('Sue Suspended'); // the reply is Alex's; the suspended person's history is on their own page
      expect(text((await siteModerator.get(form)).body)).toContain(`Suspended until ${until}`);

      const lifted = await send(admin, form, `/moderation/discussions/people/${target.userId}/lift`);
      expect(lifted.status).toBe(303);
      expect((await ds.getRepository(DiscussionSuspension).findOneByOrFail({ id: row.id })).liftedAt).not.toBeNull();
      expect(await replyRefusal()).toBe(false);
      expect(await audit('discussion.person.suspension-lifted', target.userId)).toMatchObject([{ actorId: admin.userId, details: { suspensionIds: [row.id] } }]);
      const liftAgain = await send(admin, form, `/moderation/discussions/people/${target.userId}/lift`);
      expect(liftAgain.status).toBe(409);
      expect(text(liftAgain.body)).toContain(NOT_SUSPENDED);
      expect((await send(target, `/discussions/threads/${th.id}`, `/discussions/threads/${th.id}/replies`, { body: 'Sorry, everyone.' })).status).toBe(303);
      expect(await ds.getRepository(DiscussionPost).countBy({ authorId: target.userId, status: 'visible' })).toBe(1);
    });

    it('shows the author’s active suspension on a post’s page, and ends it by itself once its days have passed', async () => {
      const { reply } = await conversation(communityA.id);
      const target = await person('learner', 'Tim Timed');
      await trustedPoster(t, target.userId);
      const own = await savePost(t, { threadId: reply.threadId, authorId: target.userId, body: 'A post by Tim' });
      const form = `/moderation/discussions/people/${target.userId}/suspend`;
      expect((await send(siteModerator, form, form, { days: '1', reason: 'Cooling off' })).status).toBe(303);
      const page = await siteModerator.get(`/moderation/discussions/posts/${own.id}`);
      expect(text(page.body)).toContain('Suspended from posting until');
      expect(text(page.body)).toContain('Cooling off');
      expect(page.body).toContain(`action="/moderation/discussions/people/${target.userId}/lift"`);
      const threads = t.app.get(ThreadsService);
      const clock = t.app.get(Clock);
      clock.travel(DAY + 1000);
      try {
        const { post: replied } = await threads.reply({ id: target.userId, role: 'learner', name: target.name }, reply.threadId, { body: 'Back again.' });
        expect(replied.status).toBe('visible');
      } finally {
        clock.travel(-(DAY + 1000));
      }
    });

    it('refuses to suspend moderators and administrators', async () => {
      for (const target of [siteModerator, admin]) {
        const form = `/moderation/discussions/people/${target.userId}/suspend`;
        const page = await admin.get(form);
        expect(page.status).toBe(200);
        expect(text(page.body)).toContain(MODERATORS_NOT_SUSPENDED);
        const answer = await send(admin, form, form, { days: '7', reason: 'Testing' });
        expect(answer.status).toBe(403);
        expect(text(answer.body)).toContain(MODERATORS_NOT_SUSPENDED);
        expect(await ds.getRepository(DiscussionSuspension).countBy({ userId: target.userId })).toBe(0);
      }
    });
  });

  describe('the audit log', () => {
    it('lists the moderation actions with their labels on the admin audit page', async () => {
      const labels: Record<string, string> = {
        'discussion.post.hidden': 'Discussion post hidden by a moderator',
        'discussion.post.restored': 'Discussion post restored by a moderator',
        'discussion.post.approved': 'Held discussion post approved',
        'discussion.reports.dismissed': 'Reports of a discussion post dismissed',
        'discussion.person.suspended': 'Person suspended from posting in discussions',
        'discussion.person.suspension-lifted': 'Suspension from posting in discussions lifted',
        'discussion.thread.locked': 'Discussion thread locked',
      };
      for (const [action, label] of Object.entries(labels)) {
        const page = await admin.get(`/admin/audit?action=${encodeURIComponent(action)}`);
        expect([action, page.status]).toEqual([action, 200]);
        expect(text(page.body)).toContain(label);
        expect(page.body).toContain('<time datetime=');
      }
    });
  });

  describe('personal data', () => {
    it('exports a person’s posts, votes, follows, reports, memberships and suspensions, and keeps their posts as a former member’s when they delete their account', async () => {
      const leaver = await person('learner', 'Lee Leaver');
      await trustedPoster(t, leaver.userId);
      const { thread: th, reply } = await conversation(membersOnly.id, unique('Interoperability with GP systems'));
      await saveMember(t, membersOnly.id, leaver.userId);
      const threads = t.app.get(ThreadsService);
      const actor = { id: leaver.userId, role: 'learner' as const, name: leaver.name };
      const { post: written } = await threads.reply(actor, th.id, { body: 'We used the **GP Connect** APIs.' });
      await threads.markHelpful(actor, reply.id);
      await threads.followSpace(actor, membersOnly.id, true);
      await saveReport(th.openingPostId!, leaver, 'off-topic');
      await ds.getRepository(DiscussionSuspension).save({ userId: leaver.userId, reason: 'An old suspension', suspendedById: siteModerator.userId, startsAt: new Date(Date.now() - 20 * DAY), endsAt: new Date(Date.now() - 10 * DAY), liftedAt: null, createdAt: new Date(Date.now() - 20 * DAY) });

      await leaver.get('/account/data');
      const download = await leaver.submit('/account/data', {});
      expect(download.status).toBe(200);
      const { sections } = download.json();
      expect(sections.discussionPosts).toEqual([
        expect.objectContaining({ id: written.id, thread: { id: th.id, title: th.title, kind: 'discussion' }, space: { id: membersOnly.id, kind: 'community', title: membersOnly.title }, opening: false, body: 'We used the **GP Connect** APIs.', status: 'visible' }),
      ]);
      expect(sections.discussions.helpfulVotes).toEqual([expect.objectContaining({ postId: reply.id, thread: { id: th.id, title: th.title } })]);
      expect(sections.discussions.following).toEqual(expect.arrayContaining([expect.objectContaining({ thread: { id: th.id, title: th.title } }), expect.objectContaining({ space: { id: membersOnly.id, kind: 'community', title: membersOnly.title } })]));
      expect(sections.discussions.reportsMade).toEqual([expect.objectContaining({ postId: th.openingPostId, reason: 'off-topic', status: 'open' })]);
      expect(sections.discussions.memberships).toEqual([expect.objectContaining({ space: { id: membersOnly.id, kind: 'community', title: membersOnly.title }, status: 'member', role: 'member' })]);
      expect(sections.discussions.suspensions).toEqual([expect.objectContaining({ reason: 'An old suspension' })]);
      expect(sections.discussions.codeOfConduct).toEqual(expect.objectContaining({ version: expect.any(Number) }));

      await leaver.get('/account/delete');
      expect((await leaver.submit('/account/delete', { certificates: 'keep', password: leaver.password })).status).toBe(303);
      // The conversation still reads: the reply stays, without its author.
      expect(await post(written.id)).toMatchObject({ authorId: null, status: 'visible', body: 'We used the **GP Connect** APIs.' });
      expect((await thread(th.id)).replyCount).toBe(2);
      expect(await ds.getRepository(DiscussionVote).countBy({ userId: leaver.userId })).toBe(0);
      expect((await post(reply.id)).helpfulCount).toBe(0);
      expect(await ds.getRepository(DiscussionSuspension).countBy({ userId: leaver.userId })).toBe(0);
      expect(await reportsOf(th.openingPostId!)).toEqual([expect.objectContaining({ reporterId: null, reason: 'off-topic' })]);
      const seen = text((await reader.get(`/discussions/threads/${th.id}`)).body);
      expect(seen).toContain('A former member');
      expect(seen).toContain('We used the GP Connect APIs.');
      expect(seen).not.toContain('Lee Leaver');
    });
  });
});
