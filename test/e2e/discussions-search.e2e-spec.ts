import { DataSource } from 'typeorm';
import { DiscussionSpaces } from '../../src/discussions/core/discussion-spaces';
import { NO_SUCH_DISCUSSION } from '../../src/discussions/core/discussion-access';
import { DiscussionPost, type DiscussionSpace } from '../../src/discussions/entities';
import { QUERY_MISSING, QUERY_TOO_LONG, QUERY_WITHOUT_WORDS } from '../../src/discussions/search/discussion-search.service';
import { LearningService } from '../../src/learning/learning.service';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { course } from '../support/courses';
import { saveCommunity, saveMember, savePost, saveThread, trustedPoster } from '../support/discussions';
import { decodeHtml } from '../support/html-forms';

type Person = Visitor & { userId: number; email: string; password: string; api: Visitor };

let sequence = 0;
/** A word nothing else in the database holds (letters only: digits would split no differently, but stay readable). */
const uniqueWord = (stem: string) => `${stem}${String.fromCharCode(97 + (++sequence % 26))}${'qxz'[sequence % 3]}${Date.now().toString(36).replace(/\d/g, (d) => 'abcdefghij'[Number(d)])}`;

describe('discussions search: the academy’s discussions and one space’s, with the exchange’s engine', () => {
  let t: TestApp;
  let poster: Person;
  let member: Person;
  let outsider: Person;
  let admin: Person;
  let open: DiscussionSpace;
  let membersOnly: DiscussionSpace;
  let courseSpace: DiscussionSpace;

  const person = async (role: 'learner' | 'admin' = 'learner'): Promise<Person> => {
    const visitor = await t.signedIn(role, { name: role === 'admin' ? 'Ada Admin' : `Lee Learner ${++sequence}` });
    await trustedPoster(t, visitor.userId);
    return Object.assign(visitor, { api: await t.apiClient(visitor.email, visitor.password) });
  };
  const search = (who: Person, params: Record<string, string>) => who.api.get(`/api/v1/discussions/search?${new URLSearchParams(params)}`);
  /**
   * A thread written straight to the database (posting itself is the threads part's to test), its opening post's
   * search text its title and body as ThreadsService writes it; a second later than the one before, so the order
   * of activity is certain.
   */
  let clock = Date.now();
  const at = () => new Date((clock += 1000));
  const start = async (who: Person, space: DiscussionSpace, title: string, body: string) => {
    const { thread, opening } = await saveThread(t, { spaceId: space.id, authorId: who.userId, title, body, createdAt: at() });
    await t.app.get(DataSource).getRepository(DiscussionPost).update({ id: opening.id }, { searchText: `${title}\n${body}` });
    return { thread, post: opening };
  };
  const reply = (who: Person, threadId: number, body: string) => savePost(t, { threadId, authorId: who.userId, body, createdAt: at() });
  const threadIds = (answer: { json(): { items: Array<{ threadId: number }> } }) => answer.json().items.map((i) => i.threadId);

  beforeAll(async () => {
    t = await startTestApp();
    [poster, member, outsider, admin] = await Promise.all([person(), person(), person(), person('admin')]);
    open = await saveCommunity(t, { title: 'EPR programme leads', access: 'open' });
    membersOnly = await saveCommunity(t, { title: 'Cyber security leads', access: 'members' });
    for (const who of [poster, member]) await saveMember(t, membersOnly.id, who.userId);
    const c = await course(t, { title: 'Clinical risk in practice', authorId: admin.userId });
    await t.app.get(LearningService).enrol(poster.userId, c.id);
    await t.app.get(LearningService).enrol(member.userId, c.id);
    courseSpace = (await t.app.get(DiscussionSpaces).forSubject('course', c.id)).space;
  });
  afterAll(() => t?.close());

  it('finds a thread by a word of its title and by a word of a reply, with its space, an excerpt, its replies and a link to the post', async () => {
    const titleWord = uniqueWord('hazard');
    const replyWord = uniqueWord('rostering');
    const { thread, post: opening } = await start(poster, open, `Running a ${titleWord} workshop`, 'We are planning our first one for the ePMA go-live.');
    const answer = await reply(member, thread.id, `We ran two sessions. The second covered ${replyWord} with the pharmacists, which found most of the hazards.`);

    const byTitle = await search(outsider, { q: titleWord });
    expect(byTitle.status).toBe(200);
    expect(byTitle.json()).toEqual({
      items: [
        {
          threadId: thread.id,
          title: `Running a ${titleWord} workshop`,
          kind: 'discussion',
          space: { id: open.id, kind: 'community', title: 'EPR programme leads' },
          postId: opening.id,
          excerpt: 'We are planning our first one for the ePMA go-live.',
          replyCount: 1,
          lastActivityAt: expect.any(String),
          url: `/discussions/threads/${thread.id}#post-${opening.id}`,
        },
      ],
      page: 1,
      pages: 1,
      total: 1,
      capped: false,
    });

    // A prefix finds it too ("rostering" from "roster…"), and the excerpt is of the reply that matched.
    const byReply = await search(outsider, { q: replyWord.slice(0, -2) });
    expect(byReply.json().items).toEqual([expect.objectContaining({ threadId: thread.id, postId: answer.id, url: `/discussions/threads/${thread.id}#post-${answer.id}`, excerpt: expect.stringContaining(replyWord) })]);

    // Both words at once: every word must match somewhere in one post.
    expect(threadIds(await search(outsider, { q: `${titleWord} ${replyWord}` }))).toEqual([]);

    // The page shows the same, with the search box filled in.
    const page = await outsider.get(`/discussions/search?q=${encodeURIComponent(replyWord)}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`href="/discussions/threads/${thread.id}#post-${answer.id}"`);
    expect(decodeHtml(page.body)).toContain(`Running a ${titleWord} workshop`);
    expect(page.body).toContain(`value="${replyWord}"`);
    expect(decodeHtml(page.body)).toContain('1 to 1 of 1 thread');
  });

  it('never finds threads of a members-only community or of a course the viewer may not read, nor counts them', async () => {
    const word = uniqueWord('phishing');
    const inOpen = await start(poster, open, `${word} drills in the open`, 'How often do you run them?');
    const inMembers = await start(poster, membersOnly, `${word} drills for members`, 'Our results, for members only.');
    const inCourse = await start(poster, courseSpace, `${word} and clinical risk`, 'A question about lesson two.');

    const outsiders = await search(outsider, { q: word });
    expect(threadIds(outsiders)).toEqual([inOpen.thread.id]);
    expect(outsiders.json().total).toBe(1);
    const page = decodeHtml((await outsider.get(`/discussions/search?q=${word}`)).body);
    expect(page).not.toContain('for members');
    expect(page).not.toContain('clinical risk');

    // Newest activity first.
    expect(threadIds(await search(member, { q: word }))).toEqual([inCourse.thread.id, inMembers.thread.id, inOpen.thread.id]);
    expect(threadIds(await search(admin, { q: word }))).toEqual([inCourse.thread.id, inMembers.thread.id, inOpen.thread.id]);

    // A reply moves its thread to the top.
    await reply(member, inOpen.thread.id, 'Every quarter.');
    expect(threadIds(await search(member, { q: word }))).toEqual([inOpen.thread.id, inCourse.thread.id, inMembers.thread.id]);
  });

  it('finds only visible posts of visible threads: not held, hidden or deleted ones', async () => {
    const word = uniqueWord('interoperability');
    const visible = await saveThread(t, { spaceId: open.id, authorId: poster.userId, title: 'Visible thread', body: `Shown: ${word}`, createdAt: at() });
    for (const status of ['held', 'hidden', 'deleted'] as const) {
      await saveThread(t, { spaceId: open.id, authorId: poster.userId, title: `A ${status} thread`, body: `Not shown: ${word}`, status });
      await savePost(t, { threadId: visible.thread.id, authorId: member.userId, body: `A ${status} reply: ${word} ${status}`, status });
    }
    const answer = await search(outsider, { q: word });
    expect(threadIds(answer)).toEqual([visible.thread.id]);
    expect(answer.json().items[0].postId).toBe(visible.opening.id);
    // Not even their own author finds them, nor a moderator: search lists what everyone reading sees.
    for (const who of [poster, admin]) expect(threadIds(await search(who, { q: `${word} hidden` }))).toEqual([]);
  });

  it('searches one space with ?space=, refusing one the viewer may not read as if it did not exist', async () => {
    const word = uniqueWord('telehealth');
    const inOpen = await start(member, open, `${word} in the open`, 'Tell us.');
    const inMembers = await start(member, membersOnly, `${word} for members`, 'Tell us.');
    expect(threadIds(await search(member, { q: word, space: String(membersOnly.id) }))).toEqual([inMembers.thread.id]);
    expect(threadIds(await search(member, { q: word, space: String(open.id) }))).toEqual([inOpen.thread.id]);

    const refused = await search(outsider, { q: word, space: String(membersOnly.id) });
    expect(refused.status).toBe(404);
    expect(refused.json()).toMatchObject({ code: 'not_found', detail: NO_SUCH_DISCUSSION });
    expect((await search(outsider, { q: word, space: '99999999' })).status).toBe(404);
    expect((await outsider.get(`/discussions/search?space=${membersOnly.id}&q=${word}`)).status).toBe(404);
    expect((await search(outsider, { q: word, space: 'members' })).status).toBe(400);

    // The space page carries a search form for it; the results page says which space it searched.
    const spacePage = await member.get(`/communities/${membersOnly.slug}`);
    expect(spacePage.body).toContain('action="/discussions/search"');
    expect(spacePage.body).toContain(`name="space" value="${membersOnly.id}"`);
    const results = decodeHtml((await member.get(`/discussions/search?space=${membersOnly.id}&q=${word}`)).body);
    expect(results).toContain('Cyber security leads');
    expect(results).toContain(`${word} for members`);
    expect(results).not.toContain(`${word} in the open`);
  });

  it('says what is wrong with a search: none, too long, or no word to search for (400 in the API, on the page with the box)', async () => {
    for (const [q, message] of [
      ['', QUERY_MISSING],
      ['   ', QUERY_MISSING],
      ['x'.repeat(201), QUERY_TOO_LONG],
      ['the of a', QUERY_WITHOUT_WORDS],
    ] as const) {
      const answer = await search(outsider, q ? { q } : {});
      expect(answer.status).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'validation_failed', errors: { q: message } });
      if (q.trim()) {
        const page = await outsider.get(`/discussions/search?q=${encodeURIComponent(q)}`);
        expect(page.status).toBe(400);
        expect(decodeHtml(page.body)).toContain(message);
        expect(page.body).toContain('href="#q"');
      }
    }
    // Arriving with no words is the empty search box, not an error.
    const empty = await outsider.get('/discussions/search');
    expect(empty.status).toBe(200);
    expect(empty.body).toContain('id="q"');
    expect(empty.body).not.toContain('nhsuk-error-summary');
    expect((await outsider.get('/discussions/search?page=0&q=hazard')).status).toBe(400);
    expect((await t.visitor().get('/discussions/search?q=hazard')).status).toBe(303);
    expect((await t.visitor().get('/api/v1/discussions/search?q=hazard')).status).toBe(401);
  });
});
