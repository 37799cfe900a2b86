import { once } from 'node:events';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { PostEvents } from '../../src/discussions/core/post-events';
import { DiscussionThread } from '../../src/discussions/entities';
import { CATCH_UP_LIMIT } from '../../src/discussions/live/live-posts';
import { ThreadsService } from '../../src/discussions/threads/threads.service';
import { MAX_STREAMS_PER_SESSION } from '../../src/live/event-stream';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { acceptConduct, saveCommunity, saveMember, savePost, saveThread, trustedPoster } from '../support/discussions';

interface Frame {
  event: string;
  id: string | null;
  data: any;
}

/** An event stream opened over real HTTP, its frames parsed as they arrive. */
interface OpenStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** The whole body so far (for answers that are not streams: the page). */
  body(): string;
  frames(event?: string): Frame[];
  /** Resolves once `test` holds for what has arrived; fails after 10 s with what did. */
  until(test: () => boolean, what: string): Promise<void>;
  close(): void;
  /** Forgets what has arrived so far. */
  forget(): void;
}

describe('discussions: new replies on open thread pages (server-sent events)', () => {
  let t: TestApp;
  let ds: DataSource;
  let port: number;
  let events: PostEvents;
  const open: ClientRequest[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    events = t.app.get(PostEvents);
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });

  afterEach(() => {
    for (const request of open.splice(0)) request.destroy();
  });

  afterAll(async () => {
    await t?.close();
  });

  async function stream(visitor: Visitor, threadId: number | string, options: { lastEventId?: string; query?: string } = {}): Promise<OpenStream> {
    const cookie = [...visitor.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const headers: Record<string, string> = { cookie, accept: 'text/event-stream' };
    if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
    const request = httpRequest({ host: '127.0.0.1', port, path: `/discussions/threads/${threadId}/events${options.query ?? ''}`, headers });
    open.push(request);
    request.end();
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    response.setEncoding('utf8');
    let body = '';
    const waiters: Array<() => void> = [];
    response.on('data', (chunk: string) => {
      body += chunk;
      for (const wake of waiters.splice(0)) wake();
    });
    response.on('error', () => undefined);
    if (response.statusCode !== 200) await once(response, 'end');
    const frames = (event?: string) =>
      body
        .split('\n\n')
        .slice(0, -1)
        .map((text) => {
          const lines = text.split('\n');
          const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? null;
          const data = field('data');
          return { event: field('event') ?? '', id: field('id'), data: data === null ? null : JSON.parse(data) };
        })
        .filter((f) => f.event && (event === undefined || f.event === event));
    return {
      status: response.statusCode!,
      headers: response.headers,
      body: () => body,
      frames,
      until: (test, what) =>
        Promise.race([
          new Promise<void>((resolve) => {
            const check = () => (test() ? resolve() : waiters.push(check));
            check();
          }),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}; got: ${body}`)), 10_000).unref()),
        ]),
      close: () => request.destroy(),
      forget: () => {
        body = '';
      },
    };
  }

  /**
   * Waits until the pages hear the thread's channel (with Redis, the subscription is acknowledged a moment after the
   * stream opens): tells them of a change until each has heard one, then forgets it.
   */
  async function listening(threadId: number, ...pages: OpenStream[]) {
    const deadline = Date.now() + 10_000;
    while (!pages.every((p) => p.frames('changed').length > 0)) {
      if (Date.now() > deadline) throw new Error('the pages never heard the thread');
      await events.changed({ type: 'thread-changed', threadId });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Let any message still on its way arrive before forgetting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const page of pages) page.forget();
  }

  /** A reply made visible as the posting service does it: written, then published once committed. */
  async function publishReply(threadId: number, authorId: number, body: string, status: 'visible' | 'held' = 'visible') {
    const post = await savePost(t, { threadId, authorId, body, status });
    await events.published({ id: post.id, threadId });
    return post;
  }

  const named = (role: 'learner' | 'moderator' | 'admin', name: string) => t.signedIn(role, { name });

  /** A reply through the posting service, as the reply form and the API make one. */
  const reply = (person: { userId: number }, name: string, threadId: number, body: string) =>
    t.app.get(ThreadsService).reply({ id: person.userId, role: 'learner', name }, threadId, { body });

  it('sends a published reply to a reader with its author, sanitised body, times, link and count; held replies never; changes as notices', async () => {
    const asker = await named('learner', 'Asha Asker');
    const replier = await named('learner', 'Rafi Replier');
    const reader = await named('learner', 'Rita Reader');
    const community = await saveCommunity(t, { title: 'Live replies' });
    const { thread } = await saveThread(t, { spaceId: community.id, authorId: asker.userId });

    const live = await stream(reader, thread.id);
    expect(live.status).toBe(200);
    expect(live.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(live.headers['cache-control']).toBe('no-store, no-transform');
    await listening(thread.id, live);

    // A brand-new, unverified account's reply is held for a moderator; a trusted one's is published.
    const newcomer = await named('learner', 'Nell Newcomer');
    await acceptConduct(t, newcomer.userId);
    const held = await reply(newcomer, 'Nell Newcomer', thread.id, 'Waiting for a moderator');
    expect(held.held).toBe(true);
    // Even told of it (as if by mistake), the hub sends nothing of a post that is not visible.
    await events.published({ id: held.post.id, threadId: thread.id });
    await trustedPoster(t, replier.userId);
    const { post: published, held: wasHeld } = await reply(replier, 'Rafi Replier', thread.id, 'We ran one **last month**. <script>alert(1)</script>');
    expect(wasHeld).toBe(false);
    await live.until(() => live.frames('post').length > 0, 'the reply');
    const [frame] = live.frames('post');
    expect(frame.id).toBe(String(published.id));
    expect(frame.data).toEqual({
      id: published.id,
      threadId: thread.id,
      author: { name: 'Rafi Replier', roleLabel: 'Learner', organisationName: 'Test Trust', handle: `rafi-replier-${replier.userId}` },
      bodyHtml: expect.stringContaining('<strong>last month</strong>'),
      createdAt: published.createdAt.toISOString(),
      createdLabel: expect.stringMatching(/^\d{1,2} [A-Z][a-z]+ \d{4} at (\d{1,2}(:\d\d)?(am|pm)|midday|midnight)$/),
      href: `/discussions/threads/${thread.id}#post-${published.id}`,
      lastPageHref: `/discussions/threads/${thread.id}#post-${published.id}`,
      replyCount: 1,
    });
    expect(frame.data.bodyHtml).not.toContain('<script');
    // Handled in order: the held post's message came first and sent nothing of it.
    expect(live.body()).not.toContain('Waiting for a moderator');
    expect(live.frames('post').map((f) => f.data.id)).toEqual([published.id]);
    expect(held.post.id).toBeLessThan(published.id);

    await events.changed({ type: 'post-changed', threadId: thread.id, postId: published.id });
    await events.changed({ type: 'thread-changed', threadId: thread.id });
    await live.until(() => live.frames('changed').length >= 2, 'two changes');
    expect(live.frames('changed').map((f) => f.data)).toEqual([
      { type: 'post-changed', threadId: thread.id, postId: published.id },
      { type: 'thread-changed', threadId: thread.id },
    ]);
    // Changes carry no id: a reconnect carries on from the last reply.
    expect(live.frames('changed').every((f) => f.id === null)).toBe(true);

    // Another thread's replies do not reach this page.
    const { thread: other } = await saveThread(t, { spaceId: community.id, authorId: asker.userId, title: 'Another thread' });
    await publishReply(other.id, replier.userId, 'Elsewhere entirely');
    const last = await reply(replier, 'Rafi Replier', thread.id, 'Second reply here');
    await live.until(() => live.frames('post').length >= 2, 'the second reply');
    expect(live.frames('post').map((f) => f.data.id)).toEqual([published.id, last.post.id]);
    expect(live.frames('post')[1].data.replyCount).toBe(2);
    expect(live.body()).not.toContain('Elsewhere entirely');
  });

  it('sends one reply to every page open on the thread, from one read of it', async () => {
    const asker = await named('learner', 'Asha Asker');
    const community = await saveCommunity(t, { title: 'Many pages' });
    const { thread } = await saveThread(t, { spaceId: community.id, authorId: asker.userId });
    const readers = await Promise.all([1, 2, 3].map((n) => named('learner', `Reader ${n}`)));
    const pages = [];
    for (const reader of readers) for (let i = 0; i < 2; i++) pages.push(await stream(reader, thread.id));
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await listening(thread.id, ...pages);

    const reply = await publishReply(thread.id, asker.userId, 'Everyone sees this');
    for (const page of pages) await page.until(() => page.frames('post').length > 0, 'the reply on every page');
    expect(new Set(pages.map((p) => JSON.stringify(p.frames('post')[0].data))).size).toBe(1);
    expect(pages[0].frames('post')[0].data.id).toBe(reply.id);
  });

  it('answers 404 before any stream to people who may not read the thread, and to threads that do not exist', async () => {
    const member = await named('learner', 'Mina Member');
    const outsider = await named('learner', 'Otto Outsider');
    const pending = await named('learner', 'Pat Pending');
    const moderator = await named('moderator', 'Mo Moderator');
    const closed = await saveCommunity(t, { title: 'Members only', access: 'members' });
    await saveMember(t, closed.id, member.userId);
    await saveMember(t, closed.id, pending.userId, { status: 'requested' });
    const { thread } = await saveThread(t, { spaceId: closed.id, authorId: member.userId });

    for (const visitor of [outsider, pending]) {
      const refused = await stream(visitor, thread.id);
      expect(refused.status).toBe(404);
      expect(refused.headers['content-type']).toMatch(/^text\/html/);
      expect(refused.body()).toContain('There is no such discussion, or you cannot see it');
      expect(refused.body()).not.toContain('retry:');
    }
    expect((await stream(member, thread.id)).status).toBe(200);
    expect((await stream(moderator, thread.id)).status).toBe(200);

    // A held thread: its author and moderators only. A hidden one likewise; a deleted one, moderators.
    const open = await saveCommunity(t, { title: 'Open to all' });
    const reader = await named('learner', 'Rita Reader');
    const { thread: heldThread } = await saveThread(t, { spaceId: open.id, authorId: member.userId, status: 'held' });
    expect((await stream(reader, heldThread.id)).status).toBe(404);
    expect((await stream(member, heldThread.id)).status).toBe(200);
    expect((await stream(moderator, heldThread.id)).status).toBe(200);
    await ds.getRepository(DiscussionThread).update({ id: heldThread.id }, { status: 'deleted' });
    expect((await stream(member, heldThread.id)).status).toBe(404);
    expect((await stream(moderator, heldThread.id)).status).toBe(200);

    expect((await stream(reader, 987654321)).status).toBe(404);
    expect((await stream(reader, 'not-a-number')).status).toBe(404);
    // Signed-out visitors are sent to sign in, not streamed.
    const anonymous = await stream(t.visitor(), thread.id);
    expect(anonymous.status).not.toBe(200);
    expect(anonymous.body()).not.toContain('retry:');
  });

  it('sends a thread that is not visible only to the pages of its author and moderators', async () => {
    const author = await named('learner', 'Asha Author');
    const reader = await named('learner', 'Rita Reader');
    const moderator = await named('moderator', 'Mo Moderator');
    const community = await saveCommunity(t, { title: 'Hidden later' });
    const { thread } = await saveThread(t, { spaceId: community.id, authorId: author.userId });
    const readerPage = await stream(reader, thread.id);
    const authorPage = await stream(author, thread.id);
    const moderatorPage = await stream(moderator, thread.id);
    await listening(thread.id, readerPage, authorPage, moderatorPage);
    // A moderator hides the thread while the pages are open; a reply of it published meanwhile reaches only theirs.
    await ds.getRepository(DiscussionThread).update({ id: thread.id }, { status: 'hidden' });
    const reply = await publishReply(thread.id, moderator.userId, 'Seen by the privileged');
    await moderatorPage.until(() => moderatorPage.frames('post').length > 0, 'the reply on the moderator page');
    await authorPage.until(() => authorPage.frames('post').length > 0, 'the reply on the author page');
    const marker = await publishReply(thread.id, moderator.userId, 'Marker');
    // Read and sent while the thread is still hidden (with Redis the message arrives after publishing returns).
    await authorPage.until(() => authorPage.frames('post').length >= 2, 'the marker on the author page');
    await ds.getRepository(DiscussionThread).update({ id: thread.id }, { status: 'visible' });
    await events.changed({ type: 'thread-changed', threadId: thread.id });
    await readerPage.until(() => readerPage.frames('changed').length > 0, 'the change on the reader page');
    expect(readerPage.frames('post').map((f) => f.data.id)).toEqual([]);
    expect(authorPage.frames('post').map((f) => f.data.id)).toEqual([reply.id, marker.id]);
  });

  it('sends the replies a page missed when it reconnects with Last-Event-ID, or first connects with ?after=', async () => {
    const asker = await named('learner', 'Asha Asker');
    const reader = await named('learner', 'Rita Reader');
    const community = await saveCommunity(t, { title: 'Reconnects' });
    const { thread } = await saveThread(t, { spaceId: community.id, authorId: asker.userId });
    const seen = await savePost(t, { threadId: thread.id, authorId: asker.userId, body: 'Seen already' });
    const missed1 = await savePost(t, { threadId: thread.id, authorId: asker.userId, body: 'Missed one' });
    await savePost(t, { threadId: thread.id, authorId: asker.userId, body: 'Held, never sent', status: 'held' });
    await savePost(t, { threadId: thread.id, authorId: asker.userId, body: 'Hidden, never sent', status: 'hidden' });
    const missed2 = await savePost(t, { threadId: thread.id, authorId: asker.userId, body: 'Missed two' });

    const again = await stream(reader, thread.id, { lastEventId: String(seen.id) });
    await again.until(() => again.frames('post').length >= 2, 'the missed replies');
    expect(again.frames('post').map((f) => [f.id, f.data.id])).toEqual([
      [String(missed1.id), missed1.id],
      [String(missed2.id), missed2.id],
    ]);
    expect(again.body()).not.toContain('never sent');
    expect(again.frames('post')[1].data).toMatchObject({ replyCount: 3, author: { name: 'Asha Asker' } });

    // The page's newest reply on first connection; Last-Event-ID wins over it on a reconnect.
    const first = await stream(reader, thread.id, { query: `?after=${missed1.id}` });
    await first.until(() => first.frames('post').length >= 1, 'the reply after the page');
    const reconnect = await stream(reader, thread.id, { query: `?after=${seen.id}`, lastEventId: String(missed2.id) });
    await first.until(() => first.frames('post').length >= 1, 'the reply after the page');
    await listening(thread.id, reconnect);
    const marker = await publishReply(thread.id, asker.userId, 'Marker after reconnecting');
    await reconnect.until(() => reconnect.frames('post').length >= 1, 'the live reply');
    expect(first.frames('post').map((f) => f.data.id).slice(0, 1)).toEqual([missed2.id]);
    expect(reconnect.frames('post').map((f) => f.data.id)).toEqual([marker.id]);
    // Nonsense ids are no ids.
    const nonsense = await stream(reader, thread.id, { lastEventId: '1e3', query: '?after=-4' });
    expect(nonsense.status).toBe(200);
  });

  it(`tells a page that missed more than ${CATCH_UP_LIMIT} replies to reload instead of sending them`, async () => {
    const asker = await named('learner', 'Asha Asker');
    const community = await saveCommunity(t, { title: 'Busy thread' });
    const { thread } = await saveThread(t, { spaceId: community.id, authorId: asker.userId });
    const seen = await savePost(t, { threadId: thread.id, authorId: asker.userId, body: 'Seen' });
    let newest = seen;
    for (let i = 0; i <= CATCH_UP_LIMIT; i++) newest = await savePost(t, { threadId: thread.id, authorId: asker.userId, body: `Missed ${i}` });
    const page = await stream(asker, thread.id, { lastEventId: String(seen.id) });
    await page.until(() => page.frames('changed').length > 0, 'the notice');
    expect(page.frames('post')).toEqual([]);
    expect(page.frames('changed')).toEqual([{ event: 'changed', id: String(newest.id), data: { type: 'thread-changed', threadId: thread.id } }]);
  });

  it(`holds at most ${MAX_STREAMS_PER_SESSION} streams per sign-in and answers the next with the 429 page`, async () => {
    const reader = await named('learner', 'Rita Reader');
    const community = await saveCommunity(t, { title: 'Slots' });
    const { thread } = await saveThread(t, { spaceId: community.id, authorId: reader.userId });
    const pages = [];
    for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) pages.push(await stream(reader, thread.id));
    expect(pages.every((p) => p.status === 200)).toBe(true);
    const refused = await stream(reader, thread.id);
    expect(refused.status).toBe(429);
    expect(refused.body()).toContain(`You have ${MAX_STREAMS_PER_SESSION} live pages open already`);
  });
});
