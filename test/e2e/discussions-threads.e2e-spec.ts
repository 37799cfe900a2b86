import { DataSource } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import { AuditEntry } from '../../src/audit/audit-entry.entity';
import { Clock } from '../../src/common/clock';
import { PostingStanding } from '../../src/discussions/core/posting-standing';
import { ConductAcceptance, DiscussionFollow, DiscussionMention, DiscussionPost, DiscussionSuspension, DiscussionThread, DiscussionVote, type DiscussionSpace } from '../../src/discussions/entities';
import { handleOf } from '../../src/discussions/threads/post-body';
import { POSTING_WINDOW_MS, POSTS_PER_WINDOW } from '../../src/discussions/threads/posting-rules';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { saveCommunity, saveMember, savePost, saveThread, trustedPoster } from '../support/discussions';
import { decodeHtml } from '../support/html-forms';
import { selectsDuring } from '../support/queries';

type Person = Visitor & { userId: number; name: string };

/** The visible text of a page fragment: tags dropped, references decoded, spaces collapsed. */
const text = (html: string) => decodeHtml(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
/** One post's element on a thread page. */
const postOf = (html: string, postId: number) => {
  const match = new RegExp(`<li class="discussion-post[^"]*" id="post-${postId}"[\\s\\S]*?</li>\\s*(?=<li class="discussion-post|</ol>)`).exec(html);
  if (!match) throw new Error(`the page has no post ${postId}`);
  return match[0];
};

describe('discussions: threads, replies and the posting rules', () => {
  let t: TestApp;
  let ds: DataSource;
  let space: DiscussionSpace;
  let moderator: Person;
  let sequence = 0;

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    space = await saveCommunity(t, { title: 'Clinical safety officers', access: 'open' });
    moderator = await person('moderator');
  });
  afterAll(() => t?.close());

  async function person(role: 'learner' | 'moderator' | 'admin' = 'learner', trusted = true): Promise<Person> {
    const name = `Poster ${String.fromCharCode(65 + (sequence % 26))}${++sequence} Smith`;
    const visitor = await t.signedIn(role, { name });
    if (trusted) await trustedPoster(t, visitor.userId);
    return Object.assign(visitor, { name });
  }
  const thread = (authorId: number, fields: { kind?: 'discussion' | 'question'; title?: string } = {}) => saveThread(t, { spaceId: space.id, authorId, ...fields });
  const postsOf = (threadId: number) => ds.getRepository(DiscussionPost).find({ where: { threadId }, order: { id: 'ASC' } });
  const reply = (who: Visitor, threadId: number, body: string, extra: Record<string, string> = {}) => who.submit(`/discussions/threads/${threadId}/replies`, { body, ...extra });

  it('starts a thread through the form: it is listed, its author follows it, and bad input is refused with messages', async () => {
    const asker = await person();
    const form = await asker.get(`/discussions/spaces/${space.id}/new`);
    expect(form.status).toBe(200);
    const empty = await asker.submit(`/discussions/spaces/${space.id}/new`, { kind: 'question', title: '', body: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.body).toContain('There is a problem');
    expect(empty.body).toContain('Enter a title');
    expect(empty.body).toContain('Enter your message');
    const long = await asker.submit(`/discussions/spaces/${space.id}/new`, { kind: 'question', title: 'x'.repeat(201), body: 'y'.repeat(20_001) });
    expect(long.status).toBe(400);
    expect(long.body).toContain('Title must be 200 characters or fewer');
    expect(long.body).toContain('Message must be 20,000 characters or fewer');
    expect(await ds.getRepository(DiscussionThread).countBy({ authorId: asker.userId })).toBe(0);

    const started = await asker.submit(`/discussions/spaces/${space.id}/new`, { kind: 'question', title: 'How do you run a hazard workshop?', body: 'We are **new** to this.\n\n## Context\n\nA new EPR module.' });
    expect(started.status).toBe(303);
    const created = await ds.getRepository(DiscussionThread).findOneByOrFail({ authorId: asker.userId });
    expect(started.headers.location).toBe(`/discussions/threads/${created.id}?notice=started`);
    expect(created).toMatchObject({ status: 'visible', kind: 'question' });
    const [opening] = await postsOf(created.id);
    expect(opening).toMatchObject({ isOpening: true, status: 'visible', id: created.openingPostId });
    expect(opening.bodyHtml).toContain('<strong>new</strong>');
    expect(opening.bodyHtml).toContain('<h3>Context</h3>');
    expect(opening.searchText).toContain('How do you run a hazard workshop?');
    expect(opening.searchText).toContain('A new EPR module.');
    expect(await ds.getRepository(DiscussionFollow).existsBy({ userId: asker.userId, threadId: created.id })).toBe(true);
    const list = await (await person()).get(`/communities/${space.slug}`);
    expect(list.body).toContain('How do you run a hazard workshop?');
    expect(text(list.body)).toContain('Question');
  });

  it('asks for the code of conduct before a first post, goes back afterwards, and then the post goes through', async () => {
    const newcomer = await person();
    await ds.getRepository(ConductAcceptance).delete({ userId: newcomer.userId });
    await t.app.get(PostingStanding).forget(newcomer.userId);
    const { thread: th } = await thread(moderator.userId);
    const page = await newcomer.get(`/discussions/threads/${th.id}`);
    expect(page.body).toContain('data-cannot-reply="conduct"');
    const refused = await reply(newcomer, th.id, 'My first post');
    expect(refused.status).toBe(303);
    expect(refused.headers.location).toBe(`/discussions/conduct?returnTo=${encodeURIComponent(`/discussions/threads/${th.id}#reply`)}`);
    expect(await postsOf(th.id)).toHaveLength(1);
    const api = await newcomer.get(`/discussions/spaces/${space.id}/new`);
    expect(api.headers.location).toContain('/discussions/conduct?returnTo=');

    const conduct = await newcomer.get(refused.headers.location as string);
    expect(conduct.body).toContain('patient');
    expect(conduct.body).toContain('Declare your interests');
    const unticked = await newcomer.submit('/discussions/conduct', { returnTo: `/discussions/threads/${th.id}#reply` });
    expect(unticked.status).toBe(400);
    expect(unticked.body).toContain('Confirm that you will follow the code of conduct');
    const accepted = await newcomer.submit('/discussions/conduct', { returnTo: `/discussions/threads/${th.id}#reply`, accept: 'yes' });
    expect(accepted.status).toBe(303);
    expect(accepted.headers.location).toBe(`/discussions/threads/${th.id}#reply`);
    expect(await ds.getRepository(ConductAcceptance).existsBy({ userId: newcomer.userId })).toBe(true);
    expect((await reply(newcomer, th.id, 'My first post')).status).toBe(303);
    expect(await postsOf(th.id)).toHaveLength(2);

    // Only same-site paths are followed back.
    for (const elsewhere of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const answer = await newcomer.submit('/discussions/conduct', { returnTo: elsewhere, accept: 'yes' });
      expect(answer.headers.location).toBe('/communities');
    }
  });

  it('refuses replies to a locked thread (moderators may still post), and only moderators pin and lock, each in the audit log', async () => {
    const learner = await person();
    const { thread: th } = await thread(learner.userId, { title: 'A thread to lock' });
    expect((await learner.submit(`/discussions/threads/${th.id}/lock`, {})).status).toBe(403);
    expect((await learner.submit(`/discussions/threads/${th.id}/pin`, {})).status).toBe(403);
    expect(await ds.getRepository(AuditEntry).countBy({ targetType: 'discussion_thread', targetId: th.id })).toBe(0);

    await moderator.get(`/discussions/threads/${th.id}`);
    expect((await moderator.submit(`/discussions/threads/${th.id}/lock`, {})).status).toBe(303);
    expect((await moderator.submit(`/discussions/threads/${th.id}/pin`, {})).status).toBe(303);
    expect(await ds.getRepository(DiscussionThread).findOneByOrFail({ id: th.id })).toMatchObject({ locked: true, pinned: true });
    const actions = (await ds.getRepository(AuditEntry).find({ where: { targetType: 'discussion_thread', targetId: th.id }, order: { id: 'ASC' } })).map((e) => [e.action, e.actorId]);
    expect(actions).toEqual([['discussion.thread.locked', moderator.userId], ['discussion.thread.pinned', moderator.userId]]);
    // Locking again changes nothing and records nothing.
    await moderator.submit(`/discussions/threads/${th.id}/lock`, {});
    expect(await ds.getRepository(AuditEntry).countBy({ targetType: 'discussion_thread', targetId: th.id })).toBe(2);

    const page = await learner.get(`/discussions/threads/${th.id}`);
    expect(page.body).toContain('data-cannot-reply="locked"');
    const refused = await reply(learner, th.id, 'Can I still reply?');
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('This thread is locked');
    expect(await postsOf(th.id)).toHaveLength(1);
    expect((await reply(moderator, th.id, 'Locked: the question is answered elsewhere.')).status).toBe(303);

    // Pinned first in the list, whatever the activity of the others.
    await thread(learner.userId, { title: 'A newer thread' });
    const list = await learner.get(`/communities/${space.slug}`);
    expect(list.body.indexOf('A thread to lock')).toBeLessThan(list.body.indexOf('A newer thread'));

    await moderator.submit(`/discussions/threads/${th.id}/unlock`, {});
    await moderator.submit(`/discussions/threads/${th.id}/unpin`, {});
    expect((await ds.getRepository(AuditEntry).find({ where: { targetType: 'discussion_thread', targetId: th.id }, order: { id: 'ASC' } })).map((e) => e.action).slice(2)).toEqual(['discussion.thread.unlocked', 'discussion.thread.unpinned']);
    expect((await reply(learner, th.id, 'Now I can reply.')).status).toBe(303);
  });

  it('refuses a suspended person with the end date and the reason; a lifted or ended suspension does not stop them', async () => {
    const suspended = await person();
    const { thread: th } = await thread(moderator.userId);
    const now = new Date();
    const endsAt = new Date(Date.UTC(2099, 5, 1, 14, 30));
    const suspension = await ds.getRepository(DiscussionSuspension).save({ userId: suspended.userId, reason: 'Posting patient details', suspendedById: moderator.userId, startsAt: new Date(now.getTime() - 60_000), endsAt, liftedAt: null, createdAt: now });
    await t.app.get(PostingStanding).forget(suspended.userId);
    const page = await suspended.get(`/discussions/threads/${th.id}`);
    expect(page.body).toContain('data-cannot-reply="suspended"');
    const refused = await reply(suspended, th.id, 'Let me explain');
    expect(refused.status).toBe(403);
    expect(text(refused.body)).toContain('suspended from posting in discussions until 1 June 2099 at 3:30pm');
    expect(text(refused.body)).toContain('Posting patient details');
    expect((await suspended.submit(`/discussions/spaces/${space.id}/new`, { kind: 'discussion', title: 'Hello', body: 'Hello' })).status).toBe(403);
    expect(await postsOf(th.id)).toHaveLength(1);
    expect(await ds.getRepository(DiscussionThread).countBy({ authorId: suspended.userId })).toBe(0);

    await ds.getRepository(DiscussionSuspension).update({ id: suspension.id }, { liftedAt: new Date() });
    expect((await reply(suspended, th.id, 'Thank you')).status).toBe(303);
  });

  it('keeps a reader\'s standing with its times: a suspension that starts or ends later changes the page when it does', async () => {
    const later = await person();
    const { thread: th } = await thread(moderator.userId);
    const clock = t.app.get(Clock);
    const now = clock.now();
    const hour = 3_600_000;
    await ds.getRepository(DiscussionSuspension).save({ userId: later.userId, reason: 'Starts in an hour', suspendedById: moderator.userId, startsAt: new Date(now.getTime() + hour), endsAt: new Date(now.getTime() + 3 * hour), liftedAt: null, createdAt: now });
    await t.app.get(PostingStanding).forget(later.userId);
    const refusal = async () => (await later.get(`/discussions/threads/${th.id}`)).body.includes('data-cannot-reply="suspended"');
    expect(await refusal()).toBe(false);
    expect(await refusal()).toBe(false); // kept now
    clock.travel(2 * hour);
    try {
      expect(await refusal()).toBe(true);
      clock.travel(2 * hour);
      expect(await refusal()).toBe(false);
    } finally {
      clock.travel(-4 * hour);
    }
  });

  it(`allows ${POSTS_PER_WINDOW} posts in ${POSTING_WINDOW_MS / 60_000} minutes, then says when the person can post again; moderators are not limited`, async () => {
    const busy = await person();
    const { thread: th } = await thread(moderator.userId);
    for (let i = 0; i < POSTS_PER_WINDOW; i++) expect((await reply(busy, th.id, `Reply ${i}`)).status).toBe(303);
    const refused = await reply(busy, th.id, 'One more');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(text(refused.body)).toMatch(/You can post again at \d{1,2}(:\d\d)?(am|pm)|You can post again at (midday|midnight)/);
    expect((await busy.submit(`/discussions/spaces/${space.id}/new`, { kind: 'discussion', title: 'Too fast', body: 'Too fast' })).status).toBe(429);
    expect(await ds.getRepository(DiscussionPost).countBy({ authorId: busy.userId })).toBe(POSTS_PER_WINDOW);

    for (let i = 0; i < POSTS_PER_WINDOW + 1; i++) expect((await reply(moderator, th.id, `Moderator note ${i}`)).status).toBe(303);

    const clock = t.app.get(Clock);
    clock.travel(POSTING_WINDOW_MS + 1000);
    try {
      expect((await reply(busy, th.id, 'Later')).status).toBe(303);
    } finally {
      clock.travel(-(POSTING_WINDOW_MS + 1000));
    }
  });

  it('holds the posts of new and unverified accounts: their author and moderators see them, others do not, until approved', async () => {
    const { thread: th } = await thread(moderator.userId);
    const reader = await person();
    const unverified = await person('learner', false);
    await trustedPoster(t, unverified.userId);
    await ds.getRepository(User).update({ id: unverified.userId }, { emailVerifiedAt: null });
    await t.app.get(AccountsService).identitiesChanged([unverified.userId]);
    const brandNew = await person('learner', false);
    await trustedPoster(t, brandNew.userId);
    await ds.getRepository(User).update({ id: brandNew.userId }, { createdAt: new Date(Date.now() - 3600_000) });
    await t.app.get(AccountsService).identitiesChanged([brandNew.userId]);

    const held = await reply(unverified, th.id, 'An unverified reply');
    expect(held.headers.location).toContain('notice=reply_held');
    expect((await reply(brandNew, th.id, 'A brand-new reply')).headers.location).toContain('notice=reply_held');
    const posts = await postsOf(th.id);
    expect(posts.slice(1).map((p) => [p.status, p.statusReason])).toEqual([
      ['held', 'unverified'],
      ['held', 'new-account'],
    ]);
    expect(await ds.getRepository(DiscussionThread).findOneByOrFail({ id: th.id })).toMatchObject({ replyCount: 0 });

    const seenByReader = await reader.get(`/discussions/threads/${th.id}`);
    expect(seenByReader.body).not.toContain('An unverified reply');
    expect(seenByReader.body).not.toContain('A brand-new reply');
    const seenByAuthor = await unverified.get(`/discussions/threads/${th.id}`);
    expect(postOf(seenByAuthor.body, posts[1].id)).toContain('Waiting for a moderator');
    expect(seenByAuthor.body).toContain('An unverified reply');
    expect(seenByAuthor.body).not.toContain('A brand-new reply');
    const seenByModerator = await moderator.get(`/discussions/threads/${th.id}`);
    expect(seenByModerator.body).toContain('An unverified reply');
    expect(seenByModerator.body).toContain('A brand-new reply');
    expect(seenByModerator.body).toContain(`/moderation/discussions/posts/${posts[1].id}`);

    // A held opening post holds its thread.
    const started = await brandNew.submit(`/discussions/spaces/${space.id}/new`, { kind: 'discussion', title: 'A held thread', body: 'Hello' });
    expect(started.headers.location).toContain('notice=started_held');
    const heldThread = await ds.getRepository(DiscussionThread).findOneByOrFail({ authorId: brandNew.userId });
    expect(heldThread.status).toBe('held');
    expect((await reader.get(`/discussions/threads/${heldThread.id}`)).status).toBe(404);
    expect((await reader.get(`/communities/${space.slug}`)).body).not.toContain('A held thread');
  });

  it('records mentions of people who can read the thread only, names them in bold, and ignores handles in code', async () => {
    const closed = await saveCommunity(t, { title: 'EPR leads', access: 'members' });
    const writer = await person();
    const member = await person();
    const outsider = await person();
    await saveMember(t, closed.id, writer.userId);
    await saveMember(t, closed.id, member.userId);
    const { thread: th } = await saveThread(t, { spaceId: closed.id, authorId: writer.userId });
    const body = `Thanks @${handleOf({ id: member.userId, name: member.name })} and @${handleOf({ id: outsider.userId, name: outsider.name })}; and \`@someone-${member.userId}\` in code.`;
    expect((await reply(writer, th.id, body)).status).toBe(303);
    const [, post] = await postsOf(th.id);
    expect((await ds.getRepository(DiscussionMention).find({ where: { postId: post.id } })).map((m) => m.userId)).toEqual([member.userId]);
    expect(post.bodyHtml).toContain(`<strong>@${member.name}</strong>`);
    expect(post.bodyHtml).toContain(`@${handleOf({ id: outsider.userId, name: outsider.name })}`);
    expect(post.bodyHtml).not.toContain(outsider.name);
    expect(post.bodyHtml).toContain(`<code>@someone-${member.userId}</code>`);
    // The thread page lists who takes part, with their handles.
    const page = await member.get(`/discussions/threads/${th.id}`);
    expect(page.body).toContain(`@${handleOf({ id: writer.userId, name: writer.name })}`);
  });

  it('quotes a post of the same thread only, showing its author and a link to it', async () => {
    const first = await person();
    const second = await person();
    const { thread: th, opening } = await thread(first.userId);
    const { opening: elsewhere } = await thread(first.userId);
    const form = await second.get(`/discussions/threads/${th.id}?quote=${opening.id}#reply`);
    expect(form.body).toContain(`name="quotedPostId" value="${opening.id}"`);
    const refused = await reply(second, th.id, 'Quoting another thread', { quotedPostId: String(elsewhere.id) });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('You can only quote a post that is shown in this thread');
    expect(await postsOf(th.id)).toHaveLength(1);
    expect((await reply(second, th.id, 'I agree with this', { quotedPostId: String(opening.id) })).status).toBe(303);
    const [, quoting] = await postsOf(th.id);
    expect(quoting.quotedPostId).toBe(opening.id);
    const shown = postOf((await first.get(`/discussions/threads/${th.id}`)).body, quoting.id);
    expect(shown).toContain(`href="#post-${opening.id}"`);
    expect(text(shown)).toContain(`${first.name} wrote`);
    expect(text(shown)).toContain('hazard workshop');
  });

  it('edits one\'s own post with an "edited" mark; saving it unchanged changes nothing; nobody edits or deletes another\'s', async () => {
    const writer = await person();
    const other = await person();
    const { thread: th, opening } = await thread(writer.userId, { title: 'Original title' });
    const editForm = await writer.get(`/discussions/posts/${opening.id}/edit`);
    expect(editForm.status).toBe(200);
    const unchanged = await writer.submit(`/discussions/posts/${opening.id}/edit`, { title: 'Original title', body: opening.body });
    expect(unchanged.headers.location).toContain('notice=unchanged');
    expect((await ds.getRepository(DiscussionPost).findOneByOrFail({ id: opening.id })).editedAt).toBeNull();

    expect((await writer.submit(`/discussions/posts/${opening.id}/edit`, { title: 'A better title', body: 'A clearer question' })).headers.location).toContain('notice=edited');
    const edited = await ds.getRepository(DiscussionPost).findOneByOrFail({ id: opening.id });
    expect(edited.editedAt).not.toBeNull();
    expect(edited.searchText).toContain('A better title');
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ id: th.id })).title).toBe('A better title');
    expect(postOf((await other.get(`/discussions/threads/${th.id}`)).body, opening.id)).toContain('data-edited');
    const again = await writer.submit(`/discussions/posts/${opening.id}/edit`, { title: 'A better title', body: 'A clearer question' });
    expect(again.headers.location).toContain('notice=unchanged');
    expect((await ds.getRepository(DiscussionPost).findOneByOrFail({ id: opening.id })).editedAt?.getTime()).toBe(edited.editedAt?.getTime());

    expect((await other.get(`/discussions/posts/${opening.id}/edit`)).status).toBe(403);
    expect((await other.submit(`/discussions/posts/${opening.id}/edit`, { body: 'Vandalised' })).status).toBe(403);
    expect((await other.submit(`/discussions/posts/${opening.id}/delete`, {})).status).toBe(403);
    expect(await ds.getRepository(DiscussionPost).findOneByOrFail({ id: opening.id })).toMatchObject({ body: 'A clearer question', status: 'visible' });
    const invalid = await writer.submit(`/discussions/posts/${opening.id}/edit`, { title: '', body: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toContain('Enter your message');
  });

  it('deletes one\'s own posts: a placeholder stays; an opening post without replies takes its thread out of the list', async () => {
    const writer = await person();
    const replier = await person();
    const { thread: answered, opening } = await thread(writer.userId, { title: 'Answered thread' });
    const answer = await savePost(t, { threadId: answered.id, authorId: replier.userId, body: 'Here is how we did it' });
    expect((await writer.get(`/discussions/posts/${opening.id}/delete`)).status).toBe(200);
    expect((await writer.submit(`/discussions/posts/${opening.id}/delete`, {})).status).toBe(303);
    const page = await replier.get(`/discussions/threads/${answered.id}`);
    expect(page.status).toBe(200);
    expect(postOf(page.body, opening.id)).toContain('This post was deleted by its author');
    expect(page.body).toContain('Here is how we did it');
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ id: answered.id })).status).toBe('visible');

    expect((await replier.submit(`/discussions/posts/${answer.id}/delete`, {})).status).toBe(303);
    expect(postOf((await writer.get(`/discussions/threads/${answered.id}`)).body, answer.id)).toContain('This post was deleted by its author');
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ id: answered.id })).replyCount).toBe(0);

    const { thread: lonely, opening: lonelyOpening } = await thread(writer.userId, { title: 'Nobody answered this' });
    const deleted = await writer.submit(`/discussions/posts/${lonelyOpening.id}/delete`, {});
    expect(deleted.headers.location).toBe(`/communities/${space.slug}?notice=thread_deleted`);
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ id: lonely.id })).status).toBe('deleted');
    expect((await replier.get(`/communities/${space.slug}`)).body).not.toContain('Nobody answered this');
    expect((await replier.get(`/discussions/threads/${lonely.id}`)).status).toBe(404);
  });

  it('counts "helpful" once per person, never on one\'s own post, exactly when two vote at once', async () => {
    const writer = await person();
    const { thread: th, opening } = await thread(writer.userId);
    const own = await writer.submit(`/discussions/posts/${opening.id}/helpful`, {});
    expect(own.status).toBe(409);
    expect(own.body).toContain('your own post');
    const voter = await person();
    await voter.get(`/discussions/threads/${th.id}`);
    expect((await voter.submit(`/discussions/posts/${opening.id}/helpful`, {})).status).toBe(303);
    expect((await voter.submit(`/discussions/posts/${opening.id}/helpful`, {})).status).toBe(303);
    expect((await ds.getRepository(DiscussionPost).findOneByOrFail({ id: opening.id })).helpfulCount).toBe(1);

    const [a, b] = await Promise.all([person(), person()]);
    await Promise.all([a.get(`/discussions/threads/${th.id}`), b.get(`/discussions/threads/${th.id}`)]);
    const answers = await Promise.all([a.submit(`/discussions/posts/${opening.id}/helpful`, {}), b.submit(`/discussions/posts/${opening.id}/helpful`, {}), a.submit(`/discussions/posts/${opening.id}/helpful`, {})]);
    expect(answers.map((r) => r.status)).toEqual([303, 303, 303]);
    const votes = await ds.getRepository(DiscussionVote).countBy({ postId: opening.id });
    expect(votes).toBe(3);
    expect((await ds.getRepository(DiscussionPost).findOneByOrFail({ id: opening.id })).helpfulCount).toBe(3);

    expect((await voter.submit(`/discussions/posts/${opening.id}/helpful/remove`, {})).status).toBe(303);
    expect((await voter.submit(`/discussions/posts/${opening.id}/helpful/remove`, {})).status).toBe(303);
    expect((await ds.getRepository(DiscussionPost).findOneByOrFail({ id: opening.id })).helpfulCount).toBe(2);
    expect(text(postOf((await writer.get(`/discussions/threads/${th.id}`)).body, opening.id))).toContain('2 people found this helpful');
  });

  it('lets the asker or a moderator accept a reply of a question, shown first; nobody else, and never on a discussion or the question itself', async () => {
    const asker = await person();
    const helper = await person();
    const bystander = await person();
    const { thread: question, opening } = await thread(asker.userId, { kind: 'question', title: 'Which hazard log template?' });
    const early = await savePost(t, { threadId: question.id, authorId: helper.userId, body: 'An early guess', createdAt: new Date(Date.now() - 2000) });
    const best = await savePost(t, { threadId: question.id, authorId: bystander.userId, body: 'The best answer', createdAt: new Date(Date.now() - 1000) });

    await bystander.get(`/discussions/threads/${question.id}`);
    expect((await bystander.submit(`/discussions/posts/${early.id}/accept`, {})).status).toBe(403);
    expect((await asker.submit(`/discussions/posts/${opening.id}/accept`, {})).status).toBe(409);
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ id: question.id })).acceptedPostId).toBeNull();

    expect((await asker.submit(`/discussions/posts/${best.id}/accept`, {})).status).toBe(303);
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ id: question.id })).acceptedPostId).toBe(best.id);
    const page = (await helper.get(`/discussions/threads/${question.id}`)).body;
    expect(page.indexOf(`id="post-${opening.id}"`)).toBeLessThan(page.indexOf(`id="post-${best.id}"`));
    expect(page.indexOf(`id="post-${best.id}"`)).toBeLessThan(page.indexOf(`id="post-${early.id}"`));
    expect(postOf(page, best.id)).toContain('Accepted answer');
    expect((await helper.get(`/communities/${space.slug}`)).body).toContain('Answered');

    await moderator.get(`/discussions/threads/${question.id}`);
    expect((await moderator.submit(`/discussions/posts/${early.id}/accept`, {})).status).toBe(303);
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ id: question.id })).acceptedPostId).toBe(early.id);
    expect((await bystander.submit(`/discussions/threads/${question.id}/accepted/remove`, {})).status).toBe(403);
    expect((await asker.submit(`/discussions/threads/${question.id}/accepted/remove`, {})).status).toBe(303);
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ id: question.id })).acceptedPostId).toBeNull();

    const { thread: chat } = await thread(asker.userId, { kind: 'discussion' });
    const chatReply = await savePost(t, { threadId: chat.id, authorId: helper.userId });
    expect((await asker.submit(`/discussions/posts/${chatReply.id}/accept`, {})).status).toBe(409);
  });

  it('pages replies 25 at a time with the opening post on every page, and the DOM the live script needs', async () => {
    const writer = await person();
    const { thread: th, opening } = await thread(writer.userId);
    const base = Date.now() - 60_000;
    for (let i = 0; i < 27; i++) await savePost(t, { threadId: th.id, authorId: writer.userId, body: `Reply number ${i}`, createdAt: new Date(base + i * 10) });
    const first = (await writer.get(`/discussions/threads/${th.id}`)).body;
    expect(first).toContain('data-live="notice"');
    expect(first).toContain(`data-events-url="/discussions/threads/${th.id}/events"`);
    expect(first).toContain('<span id="discussion-reply-count">27</span>');
    expect(first).toContain('id="discussion-live-status"');
    expect(first).toContain('<script type="module" src="/public/js/discussion-live.js"></script>');
    expect(first).toContain('Reply number 24<');
    expect(first).not.toContain('Reply number 25<');
    const second = (await writer.get(`/discussions/threads/${th.id}?page=2`)).body;
    expect(second).toContain('data-live="append"');
    expect(second).toContain(`id="post-${opening.id}"`);
    expect(second).toContain('Reply number 26<');
    expect(second).not.toContain('Reply number 24<');
    // A page past the last (an old link) shows the last page; the count is the replies this viewer sees.
    const past = (await writer.get(`/discussions/threads/${th.id}?page=9`)).body;
    expect(past).toContain('Reply number 26<');
    expect(past).toContain('<span id="discussion-reply-count">27</span>');
  });

  it('reads a page of a thread in four SELECTs, whoever wrote its replies and however many there are', async () => {
    const writers = [await person(), await person(), await person()];
    const { thread: th, opening } = await thread(writers[0].userId);
    const base = Date.now() - 60_000;
    for (let i = 0; i < 30; i++) await savePost(t, { threadId: th.id, authorId: writers[i % 3].userId, body: `Reply ${i}`, createdAt: new Date(base + i * 10) });
    const reader = await person();
    await reader.get(`/discussions/threads/${th.id}`);
    expect((await reader.submit(`/discussions/posts/${opening.id}/helpful`, {})).status).toBe(303);
    for (const path of [`/discussions/threads/${th.id}`, `/discussions/threads/${th.id}?page=2`]) {
      await reader.get(path); // what is kept per person and per thread version is kept now
      let status = 0;
      const selects = await selectsDuring(ds, async () => {
        status = (await reader.get(path)).status;
      });
      expect(status).toBe(200);
      // The thread with its space, the reader's membership and follow; the page of replies with its count and the
      // reader's votes; the opening post (and accepted answer) with them; the people named. (Not the session: on
      // embedded defaults sessions are in the database, with Redis they are not.)
      const page = selects.filter((sql) => !sql.includes('SessionRecord'));
      expect([path, page.length]).toEqual([path, 4]);
    }
  });

  it('shows each reader their own votes and follow on every page, and nobody else\'s', async () => {
    const writer = await person();
    const { thread: th, opening } = await thread(writer.userId);
    const base = Date.now() - 60_000;
    const replies = [];
    for (let i = 0; i < 26; i++) replies.push(await savePost(t, { threadId: th.id, authorId: writer.userId, body: `Answer ${i}`, createdAt: new Date(base + i * 10) }));
    const [fan, other] = await Promise.all([person(), person()]);
    await fan.get(`/discussions/threads/${th.id}`);
    expect((await fan.submit(`/discussions/posts/${opening.id}/helpful`, {})).status).toBe(303);
    expect((await fan.submit(`/discussions/posts/${replies[25].id}/helpful`, {})).status).toBe(303);
    expect((await fan.submit(`/discussions/threads/${th.id}/follow`, {})).status).toBe(303);
    const removeForm = (postId: number) => `action="/discussions/posts/${postId}/helpful/remove"`;
    const fanFirst = (await fan.get(`/discussions/threads/${th.id}`)).body;
    expect(postOf(fanFirst, opening.id)).toContain(removeForm(opening.id));
    expect(postOf(fanFirst, replies[0].id)).not.toContain(removeForm(replies[0].id));
    expect(fanFirst).toContain('Stop following');
    const fanSecond = (await fan.get(`/discussions/threads/${th.id}?page=2`)).body;
    expect(postOf(fanSecond, replies[25].id)).toContain(removeForm(replies[25].id));
    expect(postOf(fanSecond, opening.id)).toContain(removeForm(opening.id));
    const otherSecond = (await other.get(`/discussions/threads/${th.id}?page=2`)).body;
    expect(otherSecond).not.toContain('/helpful/remove');
    expect(otherSecond).not.toContain('Stop following');
    expect(postOf(otherSecond, replies[25].id)).toContain('1 person found this helpful');
  });
});
