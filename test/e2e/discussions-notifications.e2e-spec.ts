import { DataSource, In, IsNull } from 'typeorm';
import { User } from '../../src/accounts/entities/user.entity';
import { Clock } from '../../src/common/clock';
import { londonIsoDate, londonToUtc } from '../../src/common/london-time';
import { Follows } from '../../src/discussions/core/follows';
import { DiscussionMention, DiscussionPost, DiscussionSpaceMember, DiscussionThread } from '../../src/discussions/entities';
import { PostFanOut } from '../../src/discussions/fan-out/post-fan-out';
import { handleOf } from '../../src/discussions/threads/post-body';
import { PostEvents } from '../../src/discussions/core/post-events';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { InAppNotification, NotificationSetting } from '../../src/notifications/entities';
import { InAppNotifications } from '../../src/notifications/in-app';
import { InAppEmails } from '../../src/notifications/in-app/in-app-emails';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { saveCommunity, saveMember, savePost, saveThread, trustedPoster } from '../support/discussions';
import { usingRealEngines } from '../support/engines';
import { run } from '../support/processes';
import { startSmtpServer, type ReceivedMail } from '../support/smtp';
import { waitFor } from '../support/wait';

type Person = Visitor & { userId: number; email: string; password: string; name: string };

const HOUR = 3600_000;
const header = (mail: ReceivedMail, name: string) => mail.headerLines.find((h) => h.key === name)?.line.slice(name.length + 1).trim();
/** The visible text of a page: tags dropped, spaces collapsed. */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&#x27;|&#39;/g, "'").replace(/\s+/g, ' ').trim();

describe('discussion notifications: fan-out, in-app list, e-mails and the daily digest', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ds: DataSource;
  let events: PostEvents;
  let follows: Follows;
  let inApp: InAppNotifications;
  let clock: Clock;
  let counter = 0;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ SMTP_URL: smtp.url });
    ds = t.app.get(DataSource);
    events = t.app.get(PostEvents);
    follows = t.app.get(Follows);
    inApp = t.app.get(InAppNotifications);
    clock = t.app.get(Clock);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const person = async (first: string): Promise<Person> => {
    const name = `${first} Tester${++counter}`;
    const visitor = await t.signedIn('learner', { name });
    return Object.assign(visitor, { name });
  };

  /*
   * Posts as the posting service leaves them once committed (written by the factories, so that these tests depend on
   * the fan-out's contract only): visible, not yet fanned out, the author following the thread, mentions of the people
   * named recorded, then PostEvents.published as after the commit.
   */
  const startThread = async (author: Person, spaceId: number, fields: { title: string; body: string; kind?: 'discussion' | 'question' }) => {
    const { thread, opening } = await saveThread(t, { spaceId, authorId: author.userId, ...fields });
    await ds.getRepository(DiscussionPost).update({ id: opening.id }, { fannedOutAt: null });
    await follows.follow(author.userId, { threadId: thread.id });
    await events.published(opening);
    return { thread, post: opening };
  };
  const reply = async (author: Person, threadId: number, body: string, mentioned: Person[] = []) => {
    const post = await savePost(t, { threadId, authorId: author.userId, body });
    await ds.getRepository(DiscussionPost).update({ id: post.id }, { fannedOutAt: null });
    if (mentioned.length) await ds.getRepository(DiscussionMention).insert(mentioned.map((p) => ({ postId: post.id, userId: p.userId })));
    await follows.follow(author.userId, { threadId });
    await events.published(post);
    return { post };
  };
  const accept = async (post: DiscussionPost) => {
    await ds.getRepository(DiscussionThread).update({ id: post.threadId }, { acceptedPostId: post.id });
    await events.accepted(post);
  };
  const mailsTo = (email: string) => smtp.received.filter((m) => JSON.stringify(m.to).includes(email));
  const notificationsOf = (userId: number) => ds.getRepository(InAppNotification).find({ where: { userId }, order: { id: 'ASC' } });
  /** Everything the post's publication set going: its fan-out, then the e-mails. */
  const settle = async () => {
    await t.drainJobs();
    await t.drainJobs();
  };
  const members = async (spaceId: number, people: Person[]) => {
    for (const p of people) await saveMember(t, spaceId, p.userId);
  };

  it('tells a thread’s followers of a reply once each, never its author nor someone who lost access, with one instant e-mail each', async () => {
    const space = await saveCommunity(t, { title: 'EPR programme leads', access: 'members' });
    const [ada, bob, cara, dan] = [await person('Ada'), await person('Bob'), await person('Cara'), await person('Dan')];
    await members(space.id, [ada, bob, cara, dan]);
    const { thread } = await startThread(ada, space.id, { title: 'Hazard workshops', body: 'How do you run yours?' });
    await follows.follow(bob.userId, { threadId: thread.id });
    await follows.follow(cara.userId, { threadId: thread.id });
    await settle();
    // Cara leaves the members-only community: she still follows, but can no longer read it.
    await ds.getRepository(DiscussionSpaceMember).delete({ spaceId: space.id, userId: cara.userId });

    const { post } = await reply(dan, thread.id, 'We run ours **with the supplier** in the room, and write the hazard log as we go.');
    await settle();

    for (const who of [ada, bob]) {
      const mine = await notificationsOf(who.userId);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        kind: 'discussion-reply',
        dedupeKey: `post:${post.id}`,
        title: `${dan.name} replied in “Hazard workshops”`,
        excerpt: 'We run ours with the supplier in the room, and write the hazard log as we go.',
        url: `/discussions/threads/${thread.id}#post-${post.id}`,
        actorId: dan.userId,
        email: 'instant',
        readAt: null,
      });
      expect(mine[0].emailedAt).not.toBeNull();
      await waitFor(() => mailsTo(who.email).length === 1);
      const mail = mailsTo(who.email)[0];
      expect(mail.subject).toBe(`${dan.name} replied in “Hazard workshops”`);
      expect(mail.text).toContain(`http://academy.test/discussions/threads/${thread.id}#post-${post.id}`);
      expect(mail.text).toContain('You follow this thread.');
      expect(header(mail, 'list-unsubscribe')).toMatch(new RegExp(`^<http://academy\\.test/api/v1/unsubscribe\\?u=${who.userId}&k=discussion-reply&x=\\d+&s=[\\w-]+>$`));
      expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    }
    expect(await notificationsOf(cara.userId)).toHaveLength(0);
    expect(await notificationsOf(dan.userId)).toHaveLength(0);
    expect((await ds.getRepository(DiscussionPost).findOneByOrFail({ id: post.id })).fannedOutAt).not.toBeNull();

    // Run again (a retry, the sweep): nothing new, no second e-mail.
    await t.app.get(PostFanOut).fanOut(post.id);
    await settle();
    expect(await notificationsOf(ada.userId)).toHaveLength(1);
    expect(await ds.getRepository(MailMessage).countBy({ template: 'discussion-notification', toAddress: In([ada.email, bob.email]) })).toBe(2);
    expect(mailsTo(ada.email)).toHaveLength(1);
  });

  it('through the thread pages: a reply tells the followers, an @mention its reader, and each notification opens the page the post is on', async () => {
    const space = await saveCommunity(t, { title: 'Interoperability', access: 'open' });
    const [ada, bob, cara, dan, filler] = [await person('Ada'), await person('Bob'), await person('Cara'), await person('Dan'), await person('Fay')];
    for (const p of [ada, bob, dan]) await trustedPoster(t, p.userId);
    await ada.get(`/discussions/spaces/${space.id}/new`);
    const started = await ada.submit(`/discussions/spaces/${space.id}/new`, { kind: 'discussion', title: 'FHIR profiles', body: 'Which UK Core profiles do you use?' });
    expect(started.status).toBe(303);
    const threadId = Number(/^\/discussions\/threads\/(\d+)/.exec(started.headers.location as string)![1]);
    await bob.get(`/discussions/threads/${threadId}`);
    expect((await bob.submit(`/discussions/threads/${threadId}/follow`, {})).status).toBe(303);
    // Enough replies before it that the next one is on the thread's second page.
    for (let i = 0; i < 25; i++) await savePost(t, { threadId, authorId: filler.userId, body: `Earlier reply ${i}`, createdAt: new Date(Date.now() - (30 - i) * 1000) });
    await settle();

    await dan.get(`/discussions/threads/${threadId}`);
    const replied = await dan.submit(`/discussions/threads/${threadId}/replies`, { body: `We use Patient and Encounter. @${handleOf({ id: cara.userId, name: cara.name })}, you too?` });
    expect(replied.status).toBe(303);
    const [, page, postId] = /^\/discussions\/threads\/\d+\?page=(\d+)[^#]*#post-(\d+)$/.exec(replied.headers.location as string)!;
    expect(page).toBe('2');
    await settle();

    const url = `/discussions/threads/${threadId}?page=2#post-${postId}`;
    expect(await notificationsOf(ada.userId)).toEqual([expect.objectContaining({ kind: 'discussion-reply', url })]);
    expect(await notificationsOf(bob.userId)).toEqual([expect.objectContaining({ kind: 'discussion-reply', url })]);
    expect(await notificationsOf(cara.userId)).toEqual([expect.objectContaining({ kind: 'discussion-mention', url, title: `${dan.name} mentioned you in “FHIR profiles”` })]);
    expect(await notificationsOf(dan.userId)).toHaveLength(0);

    const [mention] = await notificationsOf(cara.userId);
    const list = await cara.get('/notifications');
    expect(list.body).toContain(`href="/notifications/${mention.id}/open"`);
    const open = await cara.get(`/notifications/${mention.id}/open`);
    expect(open.headers.location).toBe(url);
    const threadPage = await cara.get(url.split('#')[0]);
    expect(threadPage.status).toBe(200);
    expect(threadPage.body).toContain(`id="post-${postId}"`);
    expect(await inApp.unreadCount(cara.userId)).toBe(0);
  });

  it('mentions notify only people who can read the thread, and a mention wins over following', async () => {
    const space = await saveCommunity(t, { title: 'Clinical safety officers', access: 'members' });
    const [ada, bob, outsider, dan] = [await person('Ada'), await person('Bob'), await person('Olive'), await person('Dan')];
    await members(space.id, [ada, bob, dan]);
    const { thread } = await startThread(ada, space.id, { title: 'DCB0129 templates', body: 'Which template do you use?' });
    await follows.follow(bob.userId, { threadId: thread.id });
    await settle();

    // Olive's mention is recorded as if she could read the thread (she was a member when it was written): she cannot now.
    const { post } = await reply(dan, thread.id, 'Bob and Olive, what do you think?', [bob, outsider]);
    await settle();
    const bobs = await notificationsOf(bob.userId);
    expect(bobs).toHaveLength(1);
    expect(bobs[0]).toMatchObject({ kind: 'discussion-mention', title: `${dan.name} mentioned you in “DCB0129 templates”`, dedupeKey: `post:${post.id}` });
    await waitFor(() => mailsTo(bob.email).length === 1);
    expect(mailsTo(bob.email)[0].text).toContain('Someone mentioned you in a discussion you can read.');
    expect(await notificationsOf(outsider.userId)).toHaveLength(0);
    expect(await notificationsOf(ada.userId)).toEqual([expect.objectContaining({ kind: 'discussion-reply' })]);

    // A follower not mentioned hears of the next reply as a reply; the author of a post is never told of it.
    const { post: second } = await reply(ada, thread.id, 'Thanks Bob', [bob, ada]);
    await settle();
    expect((await notificationsOf(bob.userId)).map((n) => [n.dedupeKey, n.kind])).toEqual([[`post:${post.id}`, 'discussion-mention'], [`post:${second.id}`, 'discussion-mention']]);
    expect((await notificationsOf(ada.userId)).map((n) => n.dedupeKey)).toEqual([`post:${post.id}`]);
    expect((await notificationsOf(dan.userId)).map((n) => [n.dedupeKey, n.kind])).toEqual([[`post:${second.id}`, 'discussion-reply']]);
  });

  it('tells a space’s followers of a new thread: by the daily digest by default, at once when chosen, never when off', async () => {
    const space = await saveCommunity(t, { title: 'Cyber security', access: 'open' });
    const [starter, daily, instant, off] = [await person('Sam'), await person('Dee'), await person('Ian'), await person('Otto')];
    for (const p of [daily, instant, off, starter]) await follows.follow(p.userId, { spaceId: space.id });
    await inApp.saveSettings(instant.userId, { 'discussion-new-thread': 'instant' });
    await inApp.saveSettings(off.userId, { 'discussion-new-thread': 'off' });

    const { thread, post } = await startThread(starter, space.id, { kind: 'question', title: 'Phishing drills', body: 'How often do you run them?' });
    await settle();
    const expected = { kind: 'discussion-new-thread', title: `${starter.name} started “Phishing drills” in Cyber security`, url: `/discussions/threads/${thread.id}#post-${post.id}`, excerpt: 'How often do you run them?' };
    expect(await notificationsOf(daily.userId)).toEqual([expect.objectContaining({ ...expected, email: 'daily', emailedAt: null })]);
    expect(await notificationsOf(instant.userId)).toEqual([expect.objectContaining({ ...expected, email: 'instant' })]);
    expect(await notificationsOf(off.userId)).toEqual([expect.objectContaining({ ...expected, email: 'off', emailedAt: null })]);
    expect(await notificationsOf(starter.userId)).toHaveLength(0);
    await waitFor(() => mailsTo(instant.email).length === 1);
    expect(mailsTo(instant.email)[0].text).toContain('You follow this discussion.');
    expect(header(mailsTo(instant.email)[0], 'list-unsubscribe')).toContain('k=discussion-new-thread');
    expect(mailsTo(daily.email)).toHaveLength(0);
    expect(mailsTo(off.email)).toHaveLength(0);
  });

  it('tells a reply’s author when it is accepted as the answer, but not the asker who accepts their own reply', async () => {
    const space = await saveCommunity(t, { title: 'Informatics nurses', access: 'open' });
    const [asker, answerer] = [await person('Asha'), await person('Ben')];
    const { thread } = await startThread(asker, space.id, { kind: 'question', title: 'Smartcard readers', body: 'Which readers work with the new EPR?' });
    const { post: answer } = await reply(answerer, thread.id, 'The Omnikey 3121 works for us.');
    const { post: own } = await reply(asker, thread.id, 'Update: we went with the 3121 too.');
    await settle();
    const before = (await notificationsOf(answerer.userId)).length;

    await accept(answer);
    await settle();
    const accepted = (await notificationsOf(answerer.userId)).filter((n) => n.kind === 'discussion-accepted');
    expect(accepted).toEqual([expect.objectContaining({ dedupeKey: `accepted:${answer.id}`, title: 'Your reply was accepted as the answer to “Smartcard readers”', url: `/discussions/threads/${thread.id}#post-${answer.id}`, email: 'instant' })]);
    await waitFor(() => mailsTo(answerer.email).some((m) => m.subject === 'Your reply was accepted as the answer to “Smartcard readers”'));

    // The asker accepts their own reply instead: nobody to tell. Accepting the first again tells nobody twice.
    const askerBefore = await notificationsOf(asker.userId);
    await accept(own);
    await settle();
    expect((await notificationsOf(asker.userId)).filter((n) => n.kind === 'discussion-accepted')).toHaveLength(0);
    expect(await notificationsOf(asker.userId)).toHaveLength(askerBefore.length);
    await accept(answer);
    await settle();
    expect((await notificationsOf(answerer.userId)).filter((n) => n.kind === 'discussion-accepted')).toHaveLength(1);
    expect((await notificationsOf(answerer.userId)).length).toBe(before + 1);
  });

  it('stops a kind of e-mail from its one-click unsubscribe link; the notification still appears in the list', async () => {
    const space = await saveCommunity(t, { title: 'Pharmacy systems', access: 'open' });
    const [ada, bob] = [await person('Ada'), await person('Bob')];
    const { thread } = await startThread(ada, space.id, { title: 'Dose range checking', body: 'Who has tuned theirs?' });
    await reply(bob, thread.id, 'We did, last spring.');
    await settle();
    await waitFor(() => mailsTo(ada.email).length === 1);
    const link = /^<(.+)>$/.exec(header(mailsTo(ada.email)[0], 'list-unsubscribe')!)![1];
    const oneClick = await t.visitor().request('POST', link.replace('http://academy.test', ''), { raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(oneClick.status).toBe(200);
    expect(oneClick.json()).toEqual({ unsubscribed: 'discussion-reply' });
    expect((await inApp.settingsOf(ada.userId))['discussion-reply']).toBe('off');

    // The page of the link in the e-mail's text says what it stops.
    const pageLink = /Stop these e-mails: (\S+)/.exec(mailsTo(ada.email)[0].text!)![1];
    const page = await t.visitor().get(pageLink.replace('http://academy.test', ''));
    expect(page.status).toBe(200);
    expect(text(page.body)).toContain('e-mails about replies in discussions you follow');

    const { post } = await reply(bob, thread.id, 'And again this winter.');
    await settle();
    expect((await notificationsOf(ada.userId)).pop()).toMatchObject({ dedupeKey: `post:${post.id}`, email: 'off', emailedAt: null });
    expect(mailsTo(ada.email)).toHaveLength(1);
  });

  it('tells a members-only community’s moderators of each request to join, once however often it is asked, with an e-mail as it happens', async () => {
    const community = await saveCommunity(t, { title: `Chief clinical information officers ${counter}`, access: 'members' });
    const [mona, asha, mel] = [await person('Mona'), await person('Asha'), await person('Mel')];
    await saveMember(t, community.id, mona.userId, { role: 'moderator' });
    await saveMember(t, community.id, mel.userId);
    await asha.get('/communities');
    for (let i = 0; i < 2; i++) expect((await asha.submit(`/communities/${community.slug}/join`, {})).status).toBe(303);
    await Promise.all([asha.submit(`/communities/${community.slug}/join`, {}), asha.submit(`/communities/${community.slug}/join`, {})]);
    const told = await notificationsOf(mona.userId);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ kind: 'community-join-request', title: `${asha.name} asked to join “${community.title}”`, url: `/communities/${community.slug}/members#requests`, actorId: asha.userId, email: 'instant' });
    expect(await notificationsOf(mel.userId)).toHaveLength(0);
    expect(await notificationsOf(asha.userId)).toHaveLength(0);
    await settle();
    const mails = mailsTo(mona.email);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toContain(`${asha.name} asked to join`);
    expect(mails[0].text).toContain('You moderate this community.');
    // The link leads to the request, waiting on the members page.
    const requests = await mona.get(told[0].url.split('#')[0]);
    expect(requests.status).toBe(200);
    expect(text(requests.body)).toContain(asha.name);

    // Withdrawn and asked again: a new request, told again.
    await asha.submit(`/communities/${community.slug}/leave`, {});
    await asha.submit(`/communities/${community.slug}/join`, {});
    expect(await notificationsOf(mona.userId)).toHaveLength(2);
    // Joining an open community asks nobody.
    const open = await saveCommunity(t, { title: `Open to all ${counter}`, access: 'open' });
    await saveMember(t, open.id, mona.userId, { role: 'moderator' });
    await asha.submit(`/communities/${open.slug}/join`, {});
    expect(await notificationsOf(mona.userId)).toHaveLength(2);
  });

  it('tells the site’s moderators and administrators of a request to a community that has no moderators yet', async () => {
    const orphan = await saveCommunity(t, { title: `No moderators yet ${counter}`, access: 'members' });
    const [siteModerator, admin] = [await t.signedIn('moderator', { name: `Sid Moderator${++counter}` }), await t.signedIn('admin', { name: `Ann Admin${++counter}` })];
    const asker = await person('Asif');
    await asker.get('/communities');
    expect((await asker.submit(`/communities/${orphan.slug}/join`, {})).status).toBe(303);
    for (const decider of [siteModerator, admin]) {
      const told = await notificationsOf(decider.userId);
      expect(told).toHaveLength(1);
      expect(told[0]).toMatchObject({ kind: 'community-join-request', url: `/communities/${orphan.slug}/members#requests` });
      expect((await decider.get(`/communities/${orphan.slug}/members`)).status).toBe(200);
    }
    expect(await notificationsOf(asker.userId)).toHaveLength(0);
  });

  it('chooses each kind’s e-mail on the preferences page; saving unchanged changes nothing; a made-up choice is refused', async () => {
    const ada = await person('Ada');
    const page = await ada.get('/account/email-preferences');
    expect(page.status).toBe(200);
    for (const [kind, value] of [['discussion-reply', 'instant'], ['discussion-mention', 'instant'], ['discussion-accepted', 'instant'], ['discussion-new-thread', 'daily'], ['community-join-request', 'instant']]) {
      expect(page.body).toMatch(new RegExp(`id="notify-${kind}-${value}" name="notify-${kind}" type="radio" value="${value}" checked`));
    }
    const form = { emails: 'course-nudges', 'notify-discussion-reply': 'daily', 'notify-discussion-mention': 'instant', 'notify-discussion-accepted': 'off', 'notify-discussion-new-thread': 'daily' };
    expect((await ada.submit('/account/email-preferences', form)).status).toBe(303);
    expect(await inApp.settingsOf(ada.userId)).toEqual({ 'discussion-reply': 'daily', 'discussion-mention': 'instant', 'discussion-accepted': 'off', 'discussion-new-thread': 'daily', 'community-join-request': 'instant' });
    const rows = await ds.getRepository(NotificationSetting).find({ where: { userId: ada.userId }, order: { kind: 'ASC' } });
    // Only what differs from the defaults is written.
    expect(rows.map((r) => [r.kind, r.delivery])).toEqual([['discussion-accepted', 'off'], ['discussion-reply', 'daily']]);

    clock.travel(1000);
    await ada.get('/account/email-preferences');
    expect((await ada.submit('/account/email-preferences', form)).status).toBe(303);
    expect(await ds.getRepository(NotificationSetting).find({ where: { userId: ada.userId }, order: { kind: 'ASC' } })).toEqual(rows);
    const saved = await ada.get('/account/email-preferences?saved=1');
    expect(saved.body).toContain('id="notify-discussion-reply-daily" name="notify-discussion-reply" type="radio" value="daily" checked');

    const refused = await ada.submit('/account/email-preferences', { ...form, 'notify-discussion-mention': 'hourly' });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('There is a problem');
    expect(refused.body).toContain('href="#notify-discussion-mention-instant"');
    expect(await inApp.settingsOf(ada.userId)).toMatchObject({ 'discussion-mention': 'instant' });
  });

  describe('the list, reading and the header', () => {
    let ada: Person;
    let bob: Person;
    let adaIds: number[];

    beforeAll(async () => {
      [ada, bob] = [await person('Ada'), await person('Bob')];
      const entries = Array.from({ length: 23 }, (_, i) => ({
        userId: ada.userId,
        kind: 'discussion-reply' as const,
        dedupeKey: `test-list:${ada.userId}:${i}`,
        title: `Reply number ${i}`,
        excerpt: `Excerpt ${i}`,
        url: i === 22 ? 'https://elsewhere.example/phish' : `/discussions/threads/1#post-${i}`,
        actorId: bob.userId,
      }));
      await inApp.saveSettings(ada.userId, { 'discussion-reply': 'off' });
      // One at a time, a moment apart, so that newest first is a known order.
      for (const entry of entries) {
        await inApp.notify([entry]);
        clock.travel(1000);
      }
      await inApp.notify([{ ...entries[0], userId: bob.userId, dedupeKey: `test-list:${bob.userId}` }]);
      adaIds = (await notificationsOf(ada.userId)).map((n) => n.id);
    });

    it('counts the unread in the header of signed-in pages only, and lists them newest first, twenty a page, unread ones marked', async () => {
      const home = await ada.get('/account');
      expect(home.body).toMatch(/<a class="nhsuk-header__account-link" href="\/notifications"[^>]*>Notifications \(23 unread\)<\/a>/);
      expect((await t.visitor().get('/sign-in')).body).not.toContain('href="/notifications"');

      const first = await ada.get('/notifications');
      expect(first.status).toBe(200);
      expect(text(first.body)).toContain('You have 23 unread notifications.');
      const listed = [...first.body.matchAll(/data-notification="(\d+)" data-read="(true|false)"/g)].map((m) => [Number(m[1]), m[2]]);
      expect(listed.map(([id]) => id)).toEqual([...adaIds].reverse().slice(0, 20));
      expect(listed.every(([, read]) => read === 'false')).toBe(true);
      expect(first.body).toContain('<span class="nhsuk-u-visually-hidden">Unread: </span>Reply number 22');
      expect(first.body).toContain('href="/notifications?page&#x3D;2"');
      const second = await ada.get('/notifications?page=2');
      expect([...second.body.matchAll(/data-notification="(\d+)"/g)].map((m) => Number(m[1]))).toEqual(adaIds.slice(0, 3).reverse());
      expect((await ada.get('/notifications?page=zero')).status).toBe(400);
    });

    it('marks one read and unread again, all read, and opens one through its same-site link only', async () => {
      const [oldest, , , newestOwn] = [adaIds[0], adaIds[1], adaIds[2], adaIds[21]];
      await ada.get('/notifications?page=2');
      const read = await ada.submit(`/notifications/${oldest}/read`, { page: '2' });
      expect(read.status).toBe(303);
      expect(read.headers.location).toBe(`/notifications?page=2&notice=read#notification-${oldest}`);
      const after = await ada.get('/notifications?page=2&notice=read');
      expect(text(after.body)).toContain('Marked as read.');
      expect(after.body).toContain(`data-notification="${oldest}" data-read="true"`);
      expect(after.body).toMatch(/Notifications \(22 unread\)/);
      expect(after.body).toContain(`action="/notifications/${oldest}/unread"`);
      expect((await ada.submit(`/notifications/${oldest}/unread`, { page: '2' })).status).toBe(303);
      expect(await inApp.unreadCount(ada.userId)).toBe(23);

      const open = await ada.get(`/notifications/${newestOwn}/open`);
      expect(open.status).toBe(303);
      expect(open.headers.location).toBe('/discussions/threads/1#post-21');
      expect(await inApp.unreadCount(ada.userId)).toBe(22);
      const offsite = await ada.get(`/notifications/${adaIds[22]}/open`);
      expect(offsite.status).toBe(303);
      expect(offsite.headers.location).toBe('/notifications');

      // Without the CSRF token: refused, nothing changed.
      expect((await ada.submit(`/notifications/${oldest}/read`, {}, { withCsrf: false })).status).toBe(403);
      expect(await inApp.unreadCount(ada.userId)).toBe(21);

      await ada.get('/notifications');
      const all = await ada.submit('/notifications/read-all', {});
      expect(all.status).toBe(303);
      expect(all.headers.location).toBe('/notifications?notice=all-read');
      expect(await inApp.unreadCount(ada.userId)).toBe(0);
      const none = await ada.get('/notifications?notice=all-read');
      expect(text(none.body)).toContain('You have no unread notifications.');
      expect(none.body).toMatch(/>Notifications<\/a>/);
      expect(none.body).not.toContain('action="/notifications/read-all"');
    });

    it('refuses someone else’s notification as not found, on the pages and the API, changing nothing', async () => {
      const bobsId = (await notificationsOf(bob.userId))[0].id;
      await ada.get('/notifications');
      for (const answer of [await ada.get(`/notifications/${bobsId}/open`), await ada.submit(`/notifications/${bobsId}/read`, {}), await ada.submit(`/notifications/${bobsId}/unread`, {}), await ada.get('/notifications/999999999/open'), await ada.get('/notifications/nope/open')]) {
        expect(answer.status).toBe(404);
      }
      const api = await t.apiClient(ada.email, ada.password);
      for (const path of [`/api/v1/notifications/${bobsId}/read`, `/api/v1/notifications/${bobsId}/unread`, '/api/v1/notifications/abc/read']) {
        const answer = await api.request('POST', path);
        expect(answer.status).toBe(404);
        expect(answer.headers['content-type']).toContain('application/problem+json');
        expect(answer.json()).toMatchObject({ code: 'not_found', detail: 'There is no such notification' });
      }
      expect((await notificationsOf(bob.userId))[0].readAt).toBeNull();
      expect((await t.visitor().get('/notifications')).status).toBe(303);
      expect((await t.visitor().request('GET', '/api/v1/notifications')).status).toBe(401);
    });

    it('serves the list, read, unread and read-all on the API', async () => {
      const api = await t.apiClient(bob.email, bob.password);
      const list = await api.request('GET', '/api/v1/notifications');
      expect(list.status).toBe(200);
      const body = list.json();
      expect(body).toMatchObject({ unreadCount: 1, page: 1, pages: 1, total: 1 });
      expect(body.items).toEqual([{ id: expect.any(Number), kind: 'discussion-reply', title: 'Reply number 0', excerpt: 'Excerpt 0', url: '/discussions/threads/1#post-0', read: false, createdAt: expect.any(String) }]);
      const id = body.items[0].id;
      expect((await api.request('POST', `/api/v1/notifications/${id}/read`)).json()).toMatchObject({ notification: { id, read: true }, unreadCount: 0 });
      expect((await api.request('POST', `/api/v1/notifications/${id}/read`)).json()).toMatchObject({ notification: { id, read: true }, unreadCount: 0 });
      expect((await api.request('GET', '/api/v1/notifications?unread=true')).json()).toMatchObject({ items: [], unreadCount: 0, total: 0, pages: 1 });
      expect((await api.request('POST', `/api/v1/notifications/${id}/unread`)).json()).toMatchObject({ notification: { id, read: false }, unreadCount: 1 });
      expect((await api.request('POST', '/api/v1/notifications/read-all')).json()).toEqual({ marked: 1, unreadCount: 0 });
      expect((await api.request('GET', '/api/v1/notifications?unread=maybe')).status).toBe(400);
      expect((await api.request('GET', '/api/v1/notifications?page=0')).status).toBe(400);

      const adas = await (await t.apiClient(ada.email, ada.password)).request('GET', '/api/v1/notifications?page=2');
      expect(adas.json()).toMatchObject({ page: 2, pages: 2, total: 23 });
      expect(adas.json().items).toHaveLength(3);
    });
  });

  it('sends each instant e-mail once however many runs claim it at once, and the sweeps pick up what was lost', async () => {
    const space = await saveCommunity(t, { title: 'Digital midwives', access: 'open' });
    const author = await person('Ava');
    const now = new Date();
    const users = await ds.getRepository(User).save(
      Array.from({ length: 30 }, (_, i) => ({ email: `follower.${i}.${now.getTime()}@example.nhs.uk`, name: `Follower ${i}`, passwordHash: 'x', role: 'learner' as const, organisationId: null, jobRole: 'Midwife', createdAt: now, lastSignInAt: null })),
    );
    for (const u of users) await follows.follow(u.id, { spaceId: space.id });
    await ds.getRepository(NotificationSetting).insert(users.map((u) => ({ userId: u.id, kind: 'discussion-new-thread' as const, delivery: 'instant' as const, updatedAt: now })));
    const { thread, post } = await startThread(author, space.id, { title: 'Maternity EPR go-live', body: 'Tips?' });
    await settle();
    const emails = t.app.get(InAppEmails);
    const fanOut = t.app.get(PostFanOut);
    const ids = (await ds.getRepository(InAppNotification).find({ where: { dedupeKey: `post:${post.id}` }, select: { id: true }, order: { id: 'ASC' } })).map((n) => n.id);
    expect(ids).toHaveLength(30);
    // Everything already sent: more runs, at once, send nothing.
    expect(await Promise.all([emails.sendInstant(ids), emails.sendInstant(ids), emails.sendInstant(ids)])).toEqual([0, 0, 0]);

    // Lost work: the fan-out of a second post, and the e-mails of a third, never ran.
    const { post: lost } = await reply(author, thread.id, 'Anyone?');
    await settle();
    await ds.getRepository(DiscussionPost).update({ id: lost.id }, { fannedOutAt: null, createdAt: new Date(clock.now().getTime() - 2 * 60_000) });
    for (const u of users.slice(0, 10)) await follows.follow(u.id, { threadId: thread.id });
    await Promise.all([fanOut.sweep(), fanOut.sweep()]);
    await settle();
    const lostIds = (await ds.getRepository(InAppNotification).find({ where: { dedupeKey: `post:${lost.id}` }, select: { id: true } })).map((n) => n.id);
    expect(lostIds).toHaveLength(10);
    expect((await ds.getRepository(DiscussionPost).findOneByOrFail({ id: lost.id })).fannedOutAt).not.toBeNull();

    await ds.getRepository(InAppNotification).update({ id: In(lostIds) }, { emailedAt: null, createdAt: new Date(clock.now().getTime() - 2 * 60_000) });
    await ds.getRepository(MailMessage).delete({ dedupeKey: In(lostIds.map((id) => `in-app-notification:${id}`)) });
    const before = smtp.received.length;
    await Promise.all([emails.sweep(), emails.sendInstant(lostIds), emails.sendInstant(lostIds)]);
    await settle();
    await waitFor(() => smtp.received.length - before === 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.received.length - before).toBe(10);

    for (const u of users) {
      const mine = mailsTo(u.email);
      expect(mine.filter((m) => m.subject === `${author.name} started “Maternity EPR go-live” in Digital midwives`)).toHaveLength(1);
    }
    expect(await ds.getRepository(MailMessage).countBy({ dedupeKey: In([...ids, ...lostIds].map((id) => `in-app-notification:${id}`)) })).toBe(40);
  });

  // Last: it moves the clock a day on.
  it('sends one daily digest at or after 7am London time listing the day’s notifications, none before and none again', async () => {
    const space = await saveCommunity(t, { title: 'Radiology IT', access: 'open' });
    const [starter, reader] = [await person('Rae'), await person('Dev')];
    await follows.follow(reader.userId, { spaceId: space.id });
    const first = await startThread(starter, space.id, { title: 'PACS migration', body: 'Lessons from ours.' });
    const second = await startThread(starter, space.id, { title: 'Voice recognition', body: 'Worth it?' });
    await settle();
    expect((await notificationsOf(reader.userId)).map((n) => n.email)).toEqual(['daily', 'daily']);
    const emails = t.app.get(InAppEmails);
    const digestsTo = () => mailsTo(reader.email).filter((m) => /^Your discussions on /.test(m.subject ?? ''));

    // To the next 06:30 in London after the notifications: nothing yet.
    const made = clock.now();
    let sixThirty = londonToUtc(londonIsoDate(made), '06:30');
    if (sixThirty.getTime() <= made.getTime()) sixThirty = londonToUtc(londonIsoDate(new Date(made.getTime() + 24 * HOUR)), '06:30');
    clock.travel(sixThirty.getTime() - made.getTime());
    await emails.sendDigests();
    await settle();
    expect(digestsTo()).toHaveLength(0);

    clock.travel(35 * 60_000); // 07:05
    // Two runs at once (two workers): one digest.
    await Promise.all([emails.sendDigests(), emails.sendDigests()]);
    await settle();
    expect(await ds.getRepository(MailMessage).countBy({ template: 'discussion-digest', toAddress: reader.email })).toBe(1);
    await waitFor(() => digestsTo().length === 1);
    const digest = digestsTo()[0];
    expect(digest.subject).toMatch(/: 2 new$/);
    expect(digest.text).toContain(`${starter.name} started “Voice recognition” in Radiology IT`);
    expect(digest.text).toContain(`http://academy.test/discussions/threads/${first.thread.id}#post-${first.post.id}`);
    expect(digest.text).toContain(`http://academy.test/discussions/threads/${second.thread.id}#post-${second.post.id}`);
    expect(header(digest, 'list-unsubscribe')).toContain('k=discussion-digest');
    expect((await notificationsOf(reader.userId)).every((n) => n.emailedAt !== null)).toBe(true);

    clock.travel(HOUR);
    await emails.sendDigests();
    await settle();
    expect(await ds.getRepository(MailMessage).countBy({ template: 'discussion-digest', toAddress: reader.email })).toBe(1);
    expect(digestsTo()).toHaveLength(1);

    // The digest's own one-click link turns off every kind it carries.
    const link = /^<(.+)>$/.exec(header(digest, 'list-unsubscribe')!)![1];
    expect((await t.visitor().request('POST', link.replace('http://academy.test', ''))).json()).toEqual({ unsubscribed: 'discussion-digest' });
    expect(await inApp.settingsOf(reader.userId)).toMatchObject({ 'discussion-new-thread': 'off', 'discussion-reply': 'instant' });
  });
});

/** Two worker processes on MariaDB and Redis work a new thread's fan-out and its e-mails: each sent once. */
if (usingRealEngines() && process.env.REDIS_URL) describe('discussion e-mails with two workers (MariaDB + Redis)', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const workers: Array<ReturnType<typeof run>> = [];
  const FOLLOWERS = 120;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    // This process serves and enqueues; the two workers run the jobs.
    t = await startTestApp({ PROCESS_ROLE: 'web', SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await t?.close();
    await smtp?.close();
  });

  it('sends every follower’s instant e-mail exactly once', async () => {
    const ds = t.app.get(DataSource);
    const space = await saveCommunity(t, { title: 'Shared care records', access: 'open' });
    const starter = await t.signedIn('learner', { name: 'Stella Starter' });
    const now = new Date();
    const users = await ds.getRepository(User).save(
      Array.from({ length: FOLLOWERS }, (_, i) => ({ email: `worker.follower.${i}.${now.getTime()}@example.nhs.uk`, name: `Follower ${i}`, passwordHash: 'x', role: 'learner' as const, organisationId: null, jobRole: 'Analyst', createdAt: now, lastSignInAt: null })),
      { chunk: 100 },
    );
    const follows = t.app.get(Follows);
    for (const u of users) await follows.follow(u.id, { spaceId: space.id });
    await ds.getRepository(NotificationSetting).insert(users.map((u) => ({ userId: u.id, kind: 'discussion-new-thread' as const, delivery: 'instant' as const, updatedAt: now })));

    const env = { ...t.engines.env, PROCESS_ROLE: 'worker', MIGRATE_ON_BOOT: 'false', SMTP_URL: smtp.url, JOBS_CONCURRENCY: '4', LOG_LEVEL: 'info' };
    workers.push(run('src/main.ts', env), run('src/main.ts', env));
    await waitFor(() => workers.every((w) => /Consuming jobs/.test(w.output().stdout)), 60_000, 100);

    // A new thread as the posting service leaves it: committed, then published.
    const { opening: post } = await saveThread(t, { spaceId: space.id, authorId: starter.userId, title: 'GP access', body: 'How did you set it up?' });
    await ds.getRepository(DiscussionPost).update({ id: post.id }, { fannedOutAt: null });
    await t.app.get(PostEvents).published(post);
    const emails = new Set(users.map((u) => u.email));
    const received = () => smtp.received.filter((m) => emails.has((m.to as { text: string }).text));
    await waitFor(() => new Set(received().map((m) => (m.to as { text: string }).text)).size === FOLLOWERS, 90_000, 100);
    // A moment more for any late second copy.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(received()).toHaveLength(FOLLOWERS);
    expect(await ds.getRepository(InAppNotification).countBy({ dedupeKey: `post:${post.id}`, emailedAt: IsNull() })).toBe(0);
    expect(await ds.getRepository(MailMessage).countBy({ template: 'discussion-notification', status: 'sent' })).toBe(FOLLOWERS);
    expect((await ds.getRepository(DiscussionThread).findOneByOrFail({ openingPostId: post.id })).title).toBe('GP access');
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect(await w.exited).toBe(0);
  }, 180_000);
});
