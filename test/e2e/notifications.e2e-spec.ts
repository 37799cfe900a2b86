import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { MailPreferences } from '../../src/notifications/entities';
import { isoWeek, NotificationsService } from '../../src/notifications/notifications.service';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { course, fullCourse, topic } from '../support/courses';
import { startSmtpServer } from '../support/smtp';
import { waitFor } from '../support/wait';

type Signed = Visitor & { userId: number; email: string; password: string };
const DAY = 24 * 3600 * 1000;
const header = (mail: { headerLines: ReadonlyArray<{ key: string; line: string }> }, name: string) => mail.headerLines.find((h) => h.key === name)?.line.slice(name.length + 1).trim();

describe('e-mail preferences, course reminders, weekly digest and unsubscribing', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ds: DataSource;
  let clock: Clock;
  let notifications: NotificationsService;
  let authorId: number;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ SMTP_URL: smtp.url, NUDGE_AFTER_DAYS: '7' });
    ds = t.app.get(DataSource);
    clock = t.app.get(Clock);
    notifications = t.app.get(NotificationsService);
    authorId = (await t.signedIn('author')).userId;
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const mailsTo = (email: string) => smtp.received.filter((m) => JSON.stringify(m.to).includes(email));
  async function enrolled(): Promise<{ learner: Signed; c: Awaited<ReturnType<typeof fullCourse>> }> {
    const c = await fullCourse(t, authorId);
    const learner = await t.signedIn('learner');
    await learner.get(`/courses/${c.course.slug}`);
    await learner.submit(`/courses/${c.course.slug}/enrol`, {});
    return { learner, c };
  }
  async function sendAndDeliver(run: () => Promise<number>) {
    const sent = await run();
    await t.drainJobs();
    return sent;
  }

  it('reminds once about a course gone quiet, with a continue link and one-click unsubscribe headers', async () => {
    const { learner, c } = await enrolled();
    await sendAndDeliver(() => notifications.sendNudges());
    expect(mailsTo(learner.email)).toHaveLength(0); // not idle yet

    clock.travel(8 * DAY);
    await sendAndDeliver(() => notifications.sendNudges());
    await waitFor(() => mailsTo(learner.email).length === 1);
    const mail = mailsTo(learner.email)[0];
    expect(mail.subject).toBe(`Carry on with ${c.course.title}`);
    expect(mail.text).toContain(`http://academy.test/courses/${c.course.slug}/lessons/${c.text.id}`);
    expect(header(mail, 'list-unsubscribe')).toMatch(/^<http:\/\/academy\.test\/api\/v1\/unsubscribe\?u=\d+&k=course-nudges&x=\d+&s=[\w-]+>$/);
    expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    // Still idle: no second reminder, however often the job runs.
    clock.travel(8 * DAY);
    await sendAndDeliver(() => notifications.sendNudges());
    await sendAndDeliver(() => notifications.sendNudges());
    expect(mailsTo(learner.email)).toHaveLength(1);

    // Active again (signing in afresh: 16 days have passed), then quiet again for a week: a new reminder.
    await learner.signIn(learner.email, learner.password);
    await learner.submit(`/courses/${c.course.slug}/lessons/${c.text.id}/complete`, {});
    clock.travel(8 * DAY);
    await sendAndDeliver(() => notifications.sendNudges());
    await waitFor(() => mailsTo(learner.email).length === 2);
  });

  it('never reminds after completion or withdrawal, nor those who turned reminders off', async () => {
    const finished = await enrolled();
    await ds.getRepository(Enrolment).update({ userId: finished.learner.userId }, { status: 'completed', completedAt: clock.now() });
    const withdrawn = await enrolled();
    await withdrawn.learner.submit(`/courses/${withdrawn.c.course.slug}/withdraw`, {});
    const quiet = await enrolled();
    await quiet.learner.get('/account/email-preferences');
    expect((await quiet.learner.submit('/account/email-preferences', { emails: 'weekly-digest' })).status).toBe(303);
    expect(await ds.getRepository(MailPreferences).findOneBy({ userId: quiet.learner.userId })).toMatchObject({ courseNudges: false, weeklyDigest: true });

    clock.travel(8 * DAY);
    await sendAndDeliver(() => notifications.sendNudges());
    for (const who of [finished, withdrawn, quiet]) expect(mailsTo(who.learner.email)).toHaveLength(0);
  });

  it('unsubscribes through a signed link, and refuses forged or expired ones, changing nothing', async () => {
    const { learner } = await enrolled();
    const query = notifications.unsubscribeQuery(learner.userId, 'course-nudges');
    const visitor = t.visitor();
    const page = await visitor.get(`/unsubscribe?${query}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Stop reminders about courses you have started?');
    expect((await notifications.preferencesOf(learner.userId)).courseNudges).toBe(true); // a GET changes nothing

    const forged = query.replace(/s=[\w-]+/, 's=AAAA' + 'A'.repeat(39));
    const otherUser = query.replace(/u=\d+/, `u=${learner.userId + 1}`);
    for (const bad of [forged, otherUser, query.replace('k=course-nudges', 'k=weekly-digest'), 'u=1&k=course-nudges']) {
      const answer = await visitor.get(`/unsubscribe?${bad}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('This link does not work');
      expect((await visitor.request('POST', `/api/v1/unsubscribe?${bad}`)).status).toBe(404);
    }
    expect((await notifications.preferencesOf(learner.userId)).courseNudges).toBe(true);

    const done = await visitor.submit(`/unsubscribe?${query}`, {});
    expect(done.status).toBe(200);
    expect(done.body).toContain('You are unsubscribed');
    expect((await notifications.preferencesOf(learner.userId)).courseNudges).toBe(false);

    // One click from a mail client: no cookie, no CSRF token, just the signed link.
    const digest = notifications.unsubscribeQuery(learner.userId, 'weekly-digest');
    await notifications.savePreferences(learner.userId, { courseNudges: false, weeklyDigest: true, managerDigest: true, topicIds: [] });
    const oneClick = await t.visitor().request('POST', `/api/v1/unsubscribe?${digest}`, { raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(oneClick.status).toBe(200);
    expect((await notifications.preferencesOf(learner.userId)).weeklyDigest).toBe(false);

    clock.travel(181 * DAY);
    expect((await visitor.get(`/unsubscribe?${query}`)).status).toBe(400);
  });

  it('sends the weekly digest to those who asked, once per week, with new courses in followed topics', async () => {
    const { learner, c } = await enrolled();
    const followed = await topic(t, 'Interoperability');
    await learner.get('/account/email-preferences');
    await learner.request('POST', '/account/email-preferences', {
      raw: `_csrf=${learner.csrf}&emails=weekly-digest&emails=course-nudges&topics=${followed.id}&topics=99999999&topics=abc`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(await notifications.preferencesOf(learner.userId)).toEqual({ courseNudges: true, weeklyDigest: true, managerDigest: false, topicIds: [followed.id] });
    const fresh = await course(t, { title: 'FHIR profiles in practice', topic: 'Interoperability', authorId, publishedAt: clock.now() });
    const notOptedIn = await enrolled();

    await sendAndDeliver(() => notifications.sendDigests());
    await waitFor(() => mailsTo(learner.email).length === 1);
    const mail = mailsTo(learner.email)[0];
    expect(mail.subject).toBe('Your week at Peer Academy');
    expect(mail.text).toContain(c.course.title);
    expect(mail.text).toContain(`http://academy.test/courses/${fresh.slug}`);
    expect(header(mail, 'list-unsubscribe')).toContain('k=weekly-digest');
    await sendAndDeliver(() => notifications.sendDigests());
    expect(mailsTo(learner.email)).toHaveLength(1);
    expect(mailsTo(notOptedIn.learner.email)).toHaveLength(0);
    expect(isoWeek(new Date('2026-11-24T12:00:00Z'))).toBe('2026-W48');
  });

  it('keeps preferences to their owner', async () => {
    expect((await t.visitor().get('/account/email-preferences')).status).toBe(303);
    const learner = await t.signedIn('learner');
    await learner.get('/account/email-preferences');
    expect((await learner.submit('/account/email-preferences', { emails: 'weekly-digest' }, { withCsrf: false })).status).toBe(403);
  });
});
