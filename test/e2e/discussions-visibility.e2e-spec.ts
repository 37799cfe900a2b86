import { DataSource } from 'typeorm';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { DiscussionSpaces } from '../../src/discussions/core/discussion-spaces';
import { DiscussionPost, DiscussionThread } from '../../src/discussions/entities';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { LearningService } from '../../src/learning/learning.service';
import { WebinarRegistration } from '../../src/webinars/entities';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { course } from '../support/courses';
import { saveCommunity, saveMember, saveThread, trustedPoster } from '../support/discussions';
import { createItem } from '../support/exchange';
import { createOrganisation } from '../support/organisations';
import { saveWebinar } from '../support/webinars';

type Person = Visitor & { userId: number };

/**
 * Who may read which discussion, through the pages: a space, a thread in it and a reply posted to it answer 404 (and
 * write nothing) to everyone the subject or the community does not let in, and open to everyone it does.
 */
describe('discussions: who can see which discussion', () => {
  let t: TestApp;
  let ds: DataSource;
  let author: Person;
  let moderator: Person;

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    author = await t.signedIn('author');
    moderator = await t.signedIn('moderator');
  });
  afterAll(() => t?.close());

  const person = async (role: 'learner' | 'author' | 'moderator' | 'admin' = 'learner'): Promise<Person> => {
    const visitor = await t.signedIn(role);
    await trustedPoster(t, visitor.userId);
    return visitor;
  };
  const postsOf = (threadId: number) => ds.getRepository(DiscussionPost).countBy({ threadId });

  /** Space page, thread page and a reply, as `who` sees them: 200s and a 303 for a reader, 404s and nothing written otherwise. */
  async function expectReader(who: Visitor, spaceId: number, threadId: number, spaceHref = `/discussions/spaces/${spaceId}`) {
    expect((await who.get(spaceHref)).status).toBe(200);
    const page = await who.get(`/discussions/threads/${threadId}`);
    expect(page.status).toBe(200);
    const before = await postsOf(threadId);
    const answer = await who.submit(`/discussions/threads/${threadId}/replies`, { body: 'Thanks, that helps.' });
    expect(answer.status).toBe(303);
    expect(await postsOf(threadId)).toBe(before + 1);
  }

  async function expectNotFound(who: Visitor, spaceId: number, threadId: number, spaceHref = `/discussions/spaces/${spaceId}`) {
    expect((await who.get(spaceHref)).status).toBe(404);
    expect((await who.get(`/discussions/threads/${threadId}`)).status).toBe(404);
    expect((await who.get(`/discussions/spaces/${spaceId}/new`)).status).toBe(404);
    await who.get('/account');
    const before = await postsOf(threadId);
    const threadsBefore = await ds.getRepository(DiscussionThread).countBy({ spaceId });
    expect((await who.submit(`/discussions/threads/${threadId}/replies`, { body: 'Can I see this?' })).status).toBe(404);
    expect((await who.submit(`/discussions/spaces/${spaceId}/new`, { kind: 'discussion', title: 'Hello', body: 'Hello' })).status).toBe(404);
    expect((await who.submit(`/discussions/threads/${threadId}/follow`, {})).status).toBe(404);
    expect(await postsOf(threadId)).toBe(before);
    expect(await ds.getRepository(DiscussionThread).countBy({ spaceId })).toBe(threadsBefore);
  }

  it('a course discussion is open to its enrolled and completed learners, its author and moderators; 404 to others and a sign-in for visitors', async () => {
    const c = await course(t, { authorId: author.userId, title: 'Hazard logs' });
    const { space } = await t.app.get(DiscussionSpaces).forSubject('course', c.id);
    await trustedPoster(t, author.userId);
    const { thread } = await saveThread(t, { spaceId: space.id, authorId: author.userId, title: 'Welcome to the course' });
    const enrolled = await person();
    const completed = await person();
    const outsider = await person();
    await t.app.get(LearningService).enrol(enrolled.userId, c.id);
    await t.app.get(LearningService).enrol(completed.userId, c.id);
    await ds.getRepository(Enrolment).update({ userId: completed.userId, courseId: c.id }, { status: 'completed' });

    for (const reader of [enrolled, completed, author, moderator]) {
      if (reader === moderator) await trustedPoster(t, moderator.userId);
      await expectReader(reader, space.id, thread.id);
    }
    await expectNotFound(outsider, space.id, thread.id);
    const visitor = t.visitor();
    const answer = await visitor.get(`/discussions/threads/${thread.id}`);
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toMatch(/^\/sign-in/);
    expect((await visitor.get(`/discussions/spaces/${space.id}`)).status).toBe(303);

    // A lesson's discussion follows its course.
    const lesson = await ds.getRepository(Lesson).findOneOrFail({ where: { courseId: c.id }, order: { position: 'ASC' } });
    const lessonSpace = (await t.app.get(DiscussionSpaces).forSubject('lesson', lesson.id)).space;
    const lessonThread = (await saveThread(t, { spaceId: lessonSpace.id, authorId: author.userId, title: 'About this lesson' })).thread;
    await expectReader(enrolled, lessonSpace.id, lessonThread.id);
    await expectNotFound(outsider, lessonSpace.id, lessonThread.id);
  });

  it('a webinar discussion is open to its registrants, its waiting list and its author; 404 to others', async () => {
    const webinar = await saveWebinar(t, { authorId: author.userId, startsAt: new Date(Date.now() + 7 * 86_400_000) });
    const { space } = await t.app.get(DiscussionSpaces).forSubject('webinar', webinar.id);
    const { thread } = await saveThread(t, { spaceId: space.id, authorId: author.userId, title: 'Questions before the webinar' });
    const registered = await person();
    const waitlisted = await person();
    const cancelled = await person();
    const outsider = await person();
    const now = new Date();
    for (const [who, status] of [[registered, 'registered'], [waitlisted, 'waitlisted'], [cancelled, 'cancelled']] as const) {
      await ds.getRepository(WebinarRegistration).insert({ webinarId: webinar.id, userId: who.userId, status, queuedAt: now, promotedAt: null, cancelledAt: status === 'cancelled' ? now : null });
    }
    await trustedPoster(t, author.userId);
    for (const reader of [registered, waitlisted, author]) await expectReader(reader, space.id, thread.id);
    await expectNotFound(cancelled, space.id, thread.id);
    await expectNotFound(outsider, space.id, thread.id);
  });

  it('an exchange item discussion is open to every signed-in member once the item is published; a draft item has none', async () => {
    const organisation = await createOrganisation(t);
    const item = await createItem(t, { authorId: author.userId, organisationId: organisation.id, title: 'Our EPR go-live checklist' });
    const { space } = await t.app.get(DiscussionSpaces).forSubject('exchange', item.id);
    const { thread } = await saveThread(t, { spaceId: space.id, authorId: author.userId });
    await expectReader(await person(), space.id, thread.id);

    const draft = await createItem(t, { authorId: author.userId, organisationId: organisation.id, title: 'Not ready yet', status: 'draft' });
    const draftSpace = (await t.app.get(DiscussionSpaces).forSubject('exchange', draft.id)).space;
    const draftThread = (await saveThread(t, { spaceId: draftSpace.id, authorId: author.userId })).thread;
    await expectNotFound(await person(), draftSpace.id, draftThread.id);
  });

  it('an open community is open to anyone signed in; a members-only one to its members, moderators and administrators only', async () => {
    const open = await saveCommunity(t, { title: 'EPR programme leads', access: 'open' });
    const openThread = (await saveThread(t, { spaceId: open.id, authorId: author.userId })).thread;
    await expectReader(await person(), open.id, openThread.id, `/communities/${open.slug}`);
    // The space's id address sends a community to its own address.
    const bySpaceId = await (await person()).get(`/discussions/spaces/${open.id}`);
    expect(bySpaceId.status).toBe(303);
    expect(bySpaceId.headers.location).toBe(`/communities/${open.slug}`);

    const closed = await saveCommunity(t, { title: 'Cyber security leads', access: 'members' });
    const closedThread = (await saveThread(t, { spaceId: closed.id, authorId: author.userId, title: 'Phishing drills' })).thread;
    const member = await person();
    const requested = await person();
    const outsider = await person();
    const admin = await person('admin');
    await saveMember(t, closed.id, member.userId);
    await saveMember(t, closed.id, requested.userId, { status: 'requested' });
    const memberPage = await member.get(`/communities/${closed.slug}`);
    expect(memberPage.body).toContain('Phishing drills');
    expect(memberPage.body).toContain(`action="/communities/${closed.slug}/leave"`);
    for (const reader of [member, moderator, admin]) await expectReader(reader, closed.id, closedThread.id, `/communities/${closed.slug}`);
    for (const denied of [requested, outsider]) await expectNotFound(denied, closed.id, closedThread.id, `/communities/${closed.slug}`);
    // The open community offers to join; a member's own panel offers to leave.
    const openPage = await outsider.get(`/communities/${open.slug}`);
    expect(openPage.body).toContain(`action="/communities/${open.slug}/join"`);
  });

  it('a held thread is seen by its author and moderators only', async () => {
    const open = await saveCommunity(t, { access: 'open' });
    const writer = await person();
    const { thread } = await saveThread(t, { spaceId: open.id, authorId: writer.userId, title: 'Waiting for review', status: 'held' });
    const other = await person();
    expect((await other.get(`/discussions/threads/${thread.id}`)).status).toBe(404);
    expect((await other.get(`/communities/${open.slug}`)).body).not.toContain('Waiting for review');
    const own = await writer.get(`/communities/${open.slug}`);
    expect(own.body).toContain('Waiting for review');
    expect(own.body).toContain('Waiting for a moderator');
    expect((await writer.get(`/discussions/threads/${thread.id}`)).status).toBe(200);
    expect((await moderator.get(`/discussions/threads/${thread.id}`)).status).toBe(200);
  });
});
