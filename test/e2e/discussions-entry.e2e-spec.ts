import { DataSource } from 'typeorm';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { NO_SUCH_DISCUSSION } from '../../src/discussions/core/discussion-access';
import { DiscussionSpaces } from '../../src/discussions/core/discussion-spaces';
import { DiscussionSpace } from '../../src/discussions/entities';
import { LearningService } from '../../src/learning/learning.service';
import { WebinarsService } from '../../src/webinars/webinars.service';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { course } from '../support/courses';
import { createItem } from '../support/exchange';
import { decodeHtml } from '../support/html-forms';
import { createOrganisation } from '../support/organisations';
import { saveWebinar } from '../support/webinars';

type Person = Visitor & { userId: number };

const DAY = 86_400_000;

describe('discussions: the way in from a course, a lesson, a webinar and an exchange item', () => {
  let t: TestApp;
  let ds: DataSource;
  let author: Person;
  let learner: Person;
  let stranger: Person;
  let moderator: Person;
  let admin: Person;

  const spaceOf = async (kind: 'course' | 'lesson' | 'webinar' | 'exchange', id: number) => (await t.app.get(DiscussionSpaces).forSubject(kind, id)).space.id;
  const spaceCount = () => ds.getRepository(DiscussionSpace).count();

  /** The viewer is sent to the space page. */
  const entersSpace = async (who: Visitor, url: string, spaceId: number) => {
    const answer = await who.get(url);
    expect({ url, status: answer.status, location: answer.headers.location }).toEqual({ url, status: 303, location: `/discussions/spaces/${spaceId}` });
  };
  /** The viewer gets the usual not-found page, saying nothing of the discussion. */
  const notFound = async (who: Visitor, url: string) => {
    const answer = await who.get(url);
    expect({ url, status: answer.status }).toEqual({ url, status: 404 });
    expect(answer.headers['content-type']).toContain('text/html');
    expect(answer.body).toContain('Page not found');
    return decodeHtml(answer.body);
  };

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    author = await t.signedIn('author');
    learner = await t.signedIn('learner');
    stranger = await t.signedIn('learner');
    moderator = await t.signedIn('moderator');
    admin = await t.signedIn('admin');
  });
  afterAll(() => t?.close());

  it('lets a course’s learners, its author, moderators and administrators into its discussion, and nobody else', async () => {
    const c = await course(t, { title: 'Hazard logs in practice', authorId: author.userId });
    await t.app.get(LearningService).enrol(learner.userId, c.id);
    const url = `/courses/${c.slug}/discussion`;
    const spaceId = await spaceOf('course', c.id);
    for (const who of [learner, author, moderator, admin]) await entersSpace(who, url, spaceId);
    expect(await notFound(stranger, url)).toContain(NO_SUCH_DISCUSSION);

    // The course page links to it for those who may read it only.
    expect((await learner.get(`/courses/${c.slug}`)).body).toContain(`href="${url}"`);
    expect((await moderator.get(`/courses/${c.slug}`)).body).toContain(`href="${url}"`);
    expect((await stranger.get(`/courses/${c.slug}`)).body).not.toContain(`href="${url}"`);
    // The existing routes under /courses/{slug} still answer as before.
    expect((await learner.get(`/courses/${c.slug}`)).status).toBe(200);

    // Withdrawing ends it.
    await t.app.get(LearningService).withdraw(learner.userId, c.id);
    await notFound(learner, url);
  });

  it('answers 404 for an unknown course and for a draft course to anyone but its author and administrators, and sends visitors to sign in', async () => {
    await notFound(learner, '/courses/no-such-course/discussion');
    const draft = await course(t, { title: 'Not ready yet', authorId: author.userId, status: 'draft' });
    await notFound(learner, `/courses/${draft.slug}/discussion`);
    await entersSpace(author, `/courses/${draft.slug}/discussion`, await spaceOf('course', draft.id));
    const anonymous = await t.visitor().get(`/courses/${draft.slug}/discussion`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe(`/sign-in?next=${encodeURIComponent(`/courses/${draft.slug}/discussion`)}`);
  });

  it('lets a lesson’s readers into its own discussion, only at the address of its own course', async () => {
    const c = await course(t, { title: 'Safety cases', authorId: author.userId });
    const other = await course(t, { title: 'Another course', authorId: author.userId });
    const enrolled = await t.signedIn('learner');
    await t.app.get(LearningService).enrol(enrolled.userId, c.id);
    const [lesson] = await ds.getRepository(Lesson).find({ where: { courseId: c.id }, order: { position: 'ASC' } });
    const lessonId = lesson.id;
    const url = `/courses/${c.slug}/lessons/${lessonId}/discussion`;
    const spaceId = await spaceOf('lesson', lessonId);
    expect(spaceId).not.toBe(await spaceOf('course', c.id));
    for (const who of [enrolled, author, moderator, admin]) await entersSpace(who, url, spaceId);
    await notFound(stranger, url);

    // Another course's address, an unknown lesson or a lesson id that is not a number: not found.
    await notFound(enrolled, `/courses/${other.slug}/lessons/${lessonId}/discussion`);
    await notFound(enrolled, `/courses/${c.slug}/lessons/99999999/discussion`);
    await notFound(enrolled, `/courses/${c.slug}/lessons/first/discussion`);

    // The lesson page links to it; the lesson page itself is unchanged.
    const page = await enrolled.get(`/courses/${c.slug}/lessons/${lessonId}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`href="${url}"`);
  });

  it('lets a webinar’s registrants, its waiting list and its author in, not people who cancelled or never registered', async () => {
    const webinar = await saveWebinar(t, { authorId: author.userId, startsAt: new Date(Date.now() + 7 * DAY), capacity: 1 });
    const registered = await t.signedIn('learner');
    const waiting = await t.signedIn('learner');
    const cancelled = await t.signedIn('learner');
    const webinars = t.app.get(WebinarsService);
    await webinars.register(registered.userId, webinar.id);
    await webinars.register(waiting.userId, webinar.id);
    await webinars.register(cancelled.userId, webinar.id);
    await webinars.cancelRegistration(cancelled.userId, webinar.id);
    const url = `/webinars/${webinar.slug}/discussion`;
    const spaceId = await spaceOf('webinar', webinar.id);
    for (const who of [registered, waiting, author, moderator, admin]) await entersSpace(who, url, spaceId);
    await notFound(cancelled, url);
    await notFound(stranger, url);
    await notFound(registered, '/webinars/no-such-webinar/discussion');

    expect((await registered.get(`/webinars/${webinar.slug}`)).body).toContain(`href="${url}"`);
    expect((await stranger.get(`/webinars/${webinar.slug}`)).body).not.toContain(`href="${url}"`);
    // The webinar's other routes are untouched.
    expect((await registered.get(`/webinars/${webinar.slug}/calendar.ics`)).status).toBe(200);

    const draft = await saveWebinar(t, { authorId: author.userId, startsAt: new Date(Date.now() + 7 * DAY), status: 'draft' });
    await notFound(registered, `/webinars/${draft.slug}/discussion`);
    await entersSpace(author, `/webinars/${draft.slug}/discussion`, await spaceOf('webinar', draft.id));
  });

  it('lets every signed-in member into a published exchange item’s discussion; an unpublished one is its moderators’ only', async () => {
    const organisation = await createOrganisation(t);
    const item = await createItem(t, { authorId: author.userId, organisationId: organisation.id, title: 'Virtual ward onboarding' });
    const url = `/exchange/${item.slug}/discussion`;
    const spaceId = await spaceOf('exchange', item.id);
    for (const who of [stranger, author, moderator]) await entersSpace(who, url, spaceId);
    const page = await stranger.get(`/exchange/${item.slug}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`href="${url}"`);
    // Signed-out visitors see the item but no link to its discussion.
    expect((await t.visitor().get(`/exchange/${item.slug}`)).body).not.toContain(`href="${url}"`);

    const draft = await createItem(t, { authorId: author.userId, organisationId: organisation.id, status: 'submitted' });
    expect(await notFound(stranger, `/exchange/${draft.slug}/discussion`)).toContain(NO_SUCH_DISCUSSION);
    await entersSpace(moderator, `/exchange/${draft.slug}/discussion`, await spaceOf('exchange', draft.id));
    const before = await spaceCount();
    expect(await notFound(stranger, '/exchange/no-such-item/discussion')).toContain(NO_SUCH_DISCUSSION);
    expect(await spaceCount()).toBe(before);
  });
});
