import { DataSource } from 'typeorm';
import { NO_SUCH_DISCUSSION } from '../../src/discussions/core/discussion-access';
import { DiscussionSpaces } from '../../src/discussions/core/discussion-spaces';
import { Follows } from '../../src/discussions/core/follows';
import { DiscussionPost, DiscussionThread, type DiscussionSpace } from '../../src/discussions/entities';
import { CONDUCT_VERSION } from '../../src/discussions/threads/conduct';
import { POSTS_PER_WINDOW } from '../../src/discussions/threads/posting-rules';
import { ThreadsService } from '../../src/discussions/threads/threads.service';
import { LearningService } from '../../src/learning/learning.service';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { course } from '../support/courses';
import { saveCommunity, saveMember, trustedPoster } from '../support/discussions';

type Person = Visitor & { userId: number; email: string; password: string; api: Visitor };

describe('discussions API: threads, replies, votes, follows, the code of conduct and subjects', () => {
  let t: TestApp;
  let ds: DataSource;
  let asker: Person;
  let answerer: Person;
  let outsider: Person;
  let admin: Person;
  let open: DiscussionSpace;
  let membersOnly: DiscussionSpace;
  let courseSpace: DiscussionSpace;
  let courseId: number;

  let sequence = 0;
  const person = async (role: 'learner' | 'admin' = 'learner', trusted = true): Promise<Person> => {
    const visitor = await t.signedIn(role, { name: `Pat Person ${++sequence}` });
    if (trusted) await trustedPoster(t, visitor.userId);
    return Object.assign(visitor, { api: await t.apiClient(visitor.email, visitor.password) });
  };
  const counts = async () => ({ threads: await ds.getRepository(DiscussionThread).count(), posts: await ds.getRepository(DiscussionPost).count() });
  const startThread = (who: Person, spaceId: number | string, json: unknown) => who.api.request('POST', `/api/v1/discussions/spaces/${spaceId}/threads`, { json });
  const replyTo = (who: Person, threadId: number | string, json: unknown) => who.api.request('POST', `/api/v1/discussions/threads/${threadId}/replies`, { json });
  const question = async (who: Person, space: DiscussionSpace, title = 'Who ran a hazard workshop?') => {
    const answer = await startThread(who, space.id, { kind: 'question', title, body: 'For an **ePMA** go-live.' });
    expect(answer.status).toBe(201);
    return answer.json();
  };

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    [asker, answerer, outsider, admin] = await Promise.all([person(), person(), person(), person('admin')]);
    open = await saveCommunity(t, { title: 'EPR programme leads' });
    membersOnly = await saveCommunity(t, { title: 'Cyber security leads', access: 'members' });
    await saveMember(t, membersOnly.id, asker.userId);
    const c = await course(t, { title: 'Clinical risk in practice', authorId: admin.userId });
    courseId = c.id;
    for (const who of [asker, answerer]) await t.app.get(LearningService).enrol(who.userId, c.id);
    courseSpace = (await t.app.get(DiscussionSpaces).forSubject('course', c.id)).space;
  });
  afterAll(() => t?.close());

  it('starts a question, lists it, replies quoting it, and reads the thread with each caller’s view of it', async () => {
    const started = await startThread(asker, courseSpace.id, { kind: 'question', title: 'Hazard workshops for ePMA', body: 'Has anyone run one? **Two** sessions?' });
    expect(started.status).toBe(201);
    const { thread, post, held } = started.json();
    expect(held).toBe(false);
    expect(thread).toEqual({
      id: expect.any(Number),
      spaceId: courseSpace.id,
      kind: 'question',
      title: 'Hazard workshops for ePMA',
      status: 'visible',
      pinned: false,
      locked: false,
      replyCount: 0,
      lastActivityAt: expect.any(String),
      createdAt: expect.any(String),
      author: { id: asker.userId, name: expect.stringMatching(/^Pat Person/), roleLabel: 'Learner', organisationName: 'Test Trust', handle: expect.stringMatching(new RegExp(`-${asker.userId}$`)) },
      acceptedPostId: null,
      url: `/discussions/threads/${thread.id}`,
    });
    expect(post).toMatchObject({ threadId: thread.id, isOpening: true, status: 'visible', body: 'Has anyone run one? **Two** sessions?', bodyHtml: expect.stringContaining('<strong>Two</strong>'), votedByMe: false, accepted: false, quotedPostId: null });

    const listed = await answerer.api.get(`/api/v1/discussions/spaces/${courseSpace.id}/threads`);
    expect(listed.status).toBe(200);
    expect(listed.json()).toEqual({ items: [thread], page: 1, pages: 1, total: 1 });

    const replied = await replyTo(answerer, thread.id, { body: 'We did, with the pharmacists.', quotedPostId: post.id });
    expect(replied.status).toBe(201);
    const reply = replied.json();
    expect(reply).toMatchObject({ held: false, url: `/discussions/threads/${thread.id}#post-${reply.post.id}`, post: { threadId: thread.id, isOpening: false, quotedPostId: post.id, body: 'We did, with the pharmacists.' } });

    const read = await asker.api.get(`/api/v1/discussions/threads/${thread.id}`);
    expect(read.status).toBe(200);
    const page = read.json();
    expect(page).toMatchObject({ thread: { id: thread.id, replyCount: 1 }, page: 1, pages: 1, total: 1, following: true, canReply: { allowed: true, reason: null, message: null }, accepted: null });
    expect(page.opening).toMatchObject({ id: post.id, body: 'Has anyone run one? **Two** sessions?' });
    // Another's post has its HTML and no source.
    expect(page.items).toEqual([expect.objectContaining({ id: reply.post.id, body: null, bodyHtml: expect.stringContaining('pharmacists'), quotedPostId: post.id, author: expect.objectContaining({ id: answerer.userId }) })]);
    expect(page.participants.map((p: { id: number }) => p.id).sort()).toEqual([asker.userId, answerer.userId].sort());
    expect((await answerer.api.get(`/api/v1/discussions/threads/${thread.id}`)).json().items[0].body).toBe('We did, with the pharmacists.');
  });

  it('answers 404, exactly as for nothing, for a discussion the caller may not read, and writes nothing', async () => {
    const inMembers = await question(asker, membersOnly, 'Members only question');
    const inCourse = await question(asker, courseSpace, 'Course only question');
    const before = await counts();
    for (const answer of [
      await outsider.api.get(`/api/v1/discussions/spaces/${membersOnly.id}/threads`),
      await outsider.api.get(`/api/v1/discussions/threads/${inMembers.thread.id}`),
      await outsider.api.get(`/api/v1/discussions/threads/${inCourse.thread.id}`),
      await startThread(outsider, membersOnly.id, { kind: 'discussion', title: 'Let me in', body: 'Please.' }),
      await replyTo(outsider, inCourse.thread.id, { body: 'Me too' }),
      await outsider.api.request('PUT', `/api/v1/discussions/posts/${inCourse.post.id}/helpful`),
      await outsider.api.request('PUT', `/api/v1/discussions/threads/${inMembers.thread.id}/follow`),
      await outsider.api.request('PUT', `/api/v1/discussions/spaces/${membersOnly.id}/follow`),
      await outsider.api.get(`/api/v1/discussions/subjects/course/${courseId}`),
      await outsider.api.get('/api/v1/discussions/threads/99999999'),
      await outsider.api.get('/api/v1/discussions/threads/first'),
      await outsider.api.get('/api/v1/discussions/subjects/planet/1'),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json().code).toBe('not_found');
    }
    expect((await outsider.api.get(`/api/v1/discussions/threads/${inMembers.thread.id}`)).json().detail).toBe(NO_SUCH_DISCUSSION);
    expect(await counts()).toEqual(before);
    expect(await t.app.get(Follows).isFollowing(outsider.userId, { spaceId: membersOnly.id })).toBe(false);
  });

  it('refuses what is not valid with 400 by field, and writes nothing', async () => {
    const before = await counts();
    const missing = await startThread(asker, open.id, { kind: 'poll', body: '' });
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'validation_failed', errors: { kind: expect.any(String), title: 'Enter a title', body: 'Enter your message' } });
    const { thread } = await question(asker, open);
    const afterThread = await counts();
    expect((await replyTo(answerer, thread.id, {})).json().errors).toEqual({ body: 'Enter your message' });
    expect((await replyTo(answerer, thread.id, { body: 'x'.repeat(20_001) })).status).toBe(400);
    expect((await replyTo(answerer, thread.id, { body: 'Quoting nothing', quotedPostId: 99999999 })).json().errors).toEqual({ quotedPostId: expect.any(String) });
    expect((await replyTo(answerer, thread.id, { body: 'Unknown field', colour: 'red' })).status).toBe(400);
    expect((await answerer.api.get(`/api/v1/discussions/spaces/${open.id}/threads?page=0`)).status).toBe(400);
    expect(await counts()).toEqual({ threads: before.threads + 1, posts: before.posts + 1 });
    expect(await counts()).toEqual(afterThread);
  });

  it('asks for the code of conduct first (403 conduct_not_accepted), takes it through POST /conduct, and holds a new account’s post', async () => {
    const newcomer = await person('learner', false);
    const { thread } = await question(asker, open, 'Welcome thread');
    const before = await counts();
    const refused = await replyTo(newcomer, thread.id, { body: 'Hello all' });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'conduct_not_accepted', detail: expect.stringContaining('code of conduct') });
    expect(await counts()).toEqual(before);

    const accepted = await newcomer.api.request('POST', '/api/v1/discussions/conduct');
    expect(accepted.status).toBe(200);
    expect(accepted.json()).toEqual({ accepted: true, version: CONDUCT_VERSION });
    expect((await newcomer.api.request('POST', '/api/v1/discussions/conduct')).status).toBe(200);

    const held = await replyTo(newcomer, thread.id, { body: 'Hello all' });
    expect(held.status).toBe(201);
    expect(held.json()).toMatchObject({ held: true, post: { status: 'held' } });
    // Others do not see it.
    expect((await outsider.api.get(`/api/v1/discussions/threads/${thread.id}`)).json().items).toEqual([]);

    // A session's API call is a browser's: it needs the CSRF token; a bearer token needs none.
    const viaSession = await newcomer.request('POST', '/api/v1/discussions/conduct', { json: {} });
    expect(viaSession.status).toBe(403);
    expect((await newcomer.request('POST', '/api/v1/discussions/conduct', { json: {}, headers: { 'x-csrf-token': newcomer.csrf } })).status).toBe(200);
  });

  it('refuses replies to a locked thread with 403 thread_locked, and too many posts with 429 and Retry-After', async () => {
    // Each test below asks with a person of its own: six posts in ten minutes is everyone's limit.
    const poser = await person();
    const { thread } = await question(poser, open, 'Soon locked');
    await t.app.get(ThreadsService).setLocked({ id: admin.userId, role: 'admin', name: 'Pat Admin' }, thread.id, true);
    const before = await counts();
    const refused = await replyTo(answerer, thread.id, { body: 'Too late?' });
    expect(refused.status).toBe(403);
    expect(refused.json().code).toBe('thread_locked');
    expect(await counts()).toEqual(before);
    expect((await answerer.api.get(`/api/v1/discussions/threads/${thread.id}`)).json()).toMatchObject({ thread: { locked: true }, canReply: { allowed: false, reason: 'locked' } });

    const busy = await person();
    const { thread: open2 } = await question(poser, open, 'A busy thread');
    for (let i = 0; i < POSTS_PER_WINDOW; i++) expect((await replyTo(busy, open2.id, { body: `Reply ${i}` })).status).toBe(201);
    const limited = await replyTo(busy, open2.id, { body: 'One more' });
    expect(limited.status).toBe(429);
    expect(limited.json().code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('marks posts helpful and takes it back, idempotently, never one’s own', async () => {
    const poser = await person();
    const { thread, post } = await question(poser, open, 'Helpful?');
    const url = `/api/v1/discussions/posts/${post.id}/helpful`;
    for (let i = 0; i < 2; i++) {
      const marked = await answerer.api.request('PUT', url);
      expect(marked.status).toBe(200);
      expect(marked.json()).toEqual({ postId: post.id, helpful: true, helpfulCount: 1 });
    }
    expect((await answerer.api.get(`/api/v1/discussions/threads/${thread.id}`)).json().opening).toMatchObject({ helpfulCount: 1, votedByMe: true });
    const own = await poser.api.request('PUT', url);
    expect(own.status).toBe(409);
    expect(own.json().code).toBe('own_post');
    for (let i = 0; i < 2; i++) expect((await answerer.api.request('DELETE', url)).json()).toEqual({ postId: post.id, helpful: false, helpfulCount: 0 });
  });

  it('follows and unfollows threads and spaces, idempotently', async () => {
    const follows = t.app.get(Follows);
    const { thread } = await question(await person(), open, 'Follow me');
    for (const [method, following] of [['PUT', true], ['PUT', true], ['DELETE', false], ['DELETE', false]] as const) {
      const answer = await outsider.api.request(method, `/api/v1/discussions/threads/${thread.id}/follow`);
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ threadId: thread.id, following });
      expect(await follows.isFollowing(outsider.userId, { threadId: thread.id })).toBe(following);
      const space = await outsider.api.request(method, `/api/v1/discussions/spaces/${open.id}/follow`);
      expect(space.json()).toEqual({ spaceId: open.id, following });
      expect(await follows.isFollowing(outsider.userId, { spaceId: open.id })).toBe(following);
    }
  });

  it('finds the discussion of a subject for its readers', async () => {
    const answer = await answerer.api.get(`/api/v1/discussions/subjects/course/${courseId}`);
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({
      id: courseSpace.id,
      kind: 'course',
      title: 'Clinical risk in practice',
      access: 'open',
      threadCount: expect.any(Number),
      subject: { kind: 'course', id: courseId, title: 'Clinical risk in practice', url: expect.stringMatching(/^\/courses\/clinical-risk-in-practice/) },
      following: false,
      canModerate: false,
      url: `/discussions/spaces/${courseSpace.id}`,
    });
    expect((await admin.api.get(`/api/v1/discussions/subjects/course/${courseId}`)).json().canModerate).toBe(true);
    expect((await answerer.api.get('/api/v1/discussions/subjects/course/99999999')).status).toBe(404);
  });
});
