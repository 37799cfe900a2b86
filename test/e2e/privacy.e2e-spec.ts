import { createHash } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { ApiToken } from '../../src/accounts/entities/api-token.entity';
import { PasswordReset } from '../../src/accounts/entities/password-reset.entity';
import { SessionRecord } from '../../src/accounts/entities/session.entity';
import { User } from '../../src/accounts/entities/user.entity';
import { SessionStore } from '../../src/accounts/session-store';
import { AuditEntry } from '../../src/audit/audit-entry.entity';
import { CourseModule } from '../../src/catalogue/entities/course-module.entity';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { EXPORT_PAGE_SIZE } from '../../src/common/personal-data';
import { Enrolment } from '../../src/learning/entities/enrolment.entity';
import { LessonProgress } from '../../src/learning/entities/lesson-progress.entity';
import { QuizAttempt } from '../../src/learning/entities/quiz-attempt.entity';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { MailPreferences, TopicFollow } from '../../src/notifications/entities';
import { NotificationsService } from '../../src/notifications/notifications.service';
import { Membership } from '../../src/organisations/entities/membership.entity';
import { RequirementNotice } from '../../src/organisations/entities/requirement-notice.entity';
import { RequirementPerson } from '../../src/organisations/entities/requirement-person.entity';
import { OrganisationRequirement } from '../../src/organisations/entities/requirement.entity';
import { FileStorage } from '../../src/storage/file-storage';
import { WebinarAttendance, WebinarQuestion, WebinarQuestionVote, WebinarRegistration } from '../../src/webinars/entities';
import { PASSWORD, startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';
import { course, fullCourse } from '../support/courses';
import { addMember, createOrganisation } from '../support/organisations';
import { saveWebinar } from '../support/webinars';

type Signed = Visitor & { userId: number; email: string; password: string };
type Learner = Signed & { api: Visitor };

const DAY = 24 * 3600_000;

describe("people's rights over their data", () => {
  let t: TestApp;
  let ds: DataSource;
  let clock: Clock;
  let author: Signed;

  beforeAll(async () => {
    t = await startTestApp({ VERIFY_RATE_LIMIT_PER_MINUTE: '600' });
    ds = t.app.get(DataSource);
    clock = t.app.get(Clock);
    author = await t.signedIn('author');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function learner(name: string): Promise<Learner> {
    const signed = await t.signedIn('learner', { name });
    return Object.assign(signed, { api: await t.apiClient(signed.email, signed.password) });
  }

  /** Completes a course through the API, as a learner would; the certificate is issued in the background. */
  async function completeCourse(person: Learner) {
    const c = await fullCourse(t, author.userId, `Hazard logs ${Math.random().toString(36).slice(2, 7)}`);
    expect((await person.api.request('POST', '/api/v1/enrolments', { json: { courseId: c.course.id } })).status).toBe(201);
    await person.api.request('POST', `/api/v1/lessons/${c.text.id}/complete`);
    for (let from = 0; from < 73; from += 10) {
      clock.travel(10_000);
      expect((await person.api.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from, to: Math.min(from + 10, 73) } })).status).toBe(200);
    }
    const [single, multiple] = c.questions;
    const answers = { [single.id]: [single.options[0].id], [multiple.id]: [multiple.options[0].id, multiple.options[1].id] };
    expect((await person.api.request('POST', `/api/v1/quizzes/${c.quiz.id}/attempts`, { json: { answers } })).json().passed).toBe(true);
    expect((await person.api.request('POST', `/api/v1/lessons/${c.resource.id}/complete`)).json().courseComplete).toBe(true);
    await t.drainJobs();
    const certificate = await ds.getRepository(Certificate).findOneByOrFail({ userId: person.userId, subjectId: c.course.id });
    return { ...c, certificate };
  }

  /**
   * A learner with something in every section: a completed course with its certificate, a membership, a place at a
   * webinar to come, attendance, a question asked and a vote given at a past webinar, e-mail preferences, a password
   * reset (and its e-mail); and a second learner with data of their own around the same things.
   */
  async function arrange() {
    const ada = await learner('Ada Lovelace');
    const grace = await learner('Grace Hopper');
    const done = await completeCourse(ada);
    expect((await grace.api.request('POST', '/api/v1/enrolments', { json: { courseId: done.course.id } })).status).toBe(201);
    const organisation = await createOrganisation(t);
    await addMember(t, organisation.id, ada.userId);
    await addMember(t, organisation.id, grace.userId);
    const now = clock.now();
    const upcoming = await saveWebinar(t, { authorId: author.userId, startsAt: new Date(now.getTime() + 2 * DAY), capacity: 1, title: 'Safety cases live' });
    expect((await ada.api.request('POST', `/api/v1/webinars/${upcoming.id}/registrations`, { json: {} })).json().status).toBe('registered');
    expect((await grace.api.request('POST', `/api/v1/webinars/${upcoming.id}/registrations`, { json: {} })).json().status).toBe('waitlisted');
    const past = await saveWebinar(t, { authorId: author.userId, startsAt: new Date(now.getTime() - 3 * DAY), title: 'Hazard workshop' });
    const attendance = ds.getRepository(WebinarAttendance);
    for (const userId of [ada.userId, grace.userId]) {
      await attendance.insert({ webinarId: past.id, userId, firstJoinedAt: past.startsAt, lastJoinedAt: past.startsAt, joinCount: 1, positionSeconds: 0, coveredSeconds: 0, watchedIntervals: null, watchAllowanceMs: 0, heartbeatAt: null, creditedAt: null, creditRecordedAt: null, updatedAt: past.startsAt });
    }
    const questions = ds.getRepository(WebinarQuestion);
    const adaQuestion = await questions.save(questions.create({ webinarId: past.id, userId: ada.userId, body: 'Who signs off the hazard log?', votes: 1, status: 'answered', createdAt: past.startsAt, answeredAt: past.startsAt }));
    const graceQuestion = await questions.save(questions.create({ webinarId: past.id, userId: grace.userId, body: 'Grace asks about DCB0129 in GP practices', votes: 1, status: 'open', createdAt: past.startsAt, answeredAt: null }));
    await ds.getRepository(WebinarQuestionVote).insert([
      { questionId: adaQuestion.id, userId: grace.userId, createdAt: past.startsAt },
      { questionId: graceQuestion.id, userId: ada.userId, createdAt: past.startsAt },
    ]);
    const requirement = await ds.getRepository(OrganisationRequirement).save(
      ds.getRepository(OrganisationRequirement).create({ organisationId: organisation.id, courseId: done.course.id, audience: 'people', dueKind: 'days', dueDays: 30, dueDate: null, renewalMonths: 12, createdById: null, createdAt: now, updatedAt: now, archivedAt: null }),
    );
    await ds.getRepository(RequirementPerson).insert([{ requirementId: requirement.id, userId: ada.userId, addedAt: now }, { requirementId: requirement.id, userId: grace.userId, addedAt: now }]);
    await ds.getRepository(RequirementNotice).insert({ requirementId: requirement.id, userId: ada.userId, stage: 'due_soon', dueDate: '2026-12-24', createdAt: now });
    await t.app.get(NotificationsService).savePreferences(ada.userId, { courseNudges: false, weeklyDigest: true, managerDigest: true, topicIds: [done.course.topicId] });
    const reset = t.visitor();
    await reset.get('/forgot-password');
    expect((await reset.submit('/forgot-password', { email: ada.email })).status).toBe(200);
    await reset.submit('/forgot-password', { email: grace.email });
    await t.drainJobs();
    return { ada, grace, done, organisation, upcoming, past, adaQuestion, graceQuestion };
  }

  /** The "Download your data" page's download, parsed; the raw body too. */
  async function downloadFromPage(person: Visitor) {
    await person.get('/account/data');
    const answer = await person.submit('/account/data', {});
    return { answer, document: answer.status === 200 ? answer.json() : null };
  }

  describe('download my data', () => {
    let world: Awaited<ReturnType<typeof arrange>>;
    beforeAll(async () => {
      world = await arrange();
    });

    it('explains what is included and gives everything held about the person as one JSON file, and nothing about anyone else', async () => {
      const { ada, grace, done, organisation, upcoming, past, graceQuestion } = world;
      const page = await ada.get('/account/data');
      expect(page.status).toBe(200);
      expect(page.body).toContain('Download your data');
      expect(page.body).toContain('Every quiz attempt');
      expect(page.body).toContain('action="/account/data"');
      expect((await ada.get('/account')).body).toContain('href="/account/data"');

      const { answer, document } = await downloadFromPage(ada);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(answer.headers['content-disposition']).toMatch(/^attachment; filename="peer-academy-data-\d{4}-\d{2}-\d{2}\.json"$/);
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(document.person).toEqual({ id: ada.userId, name: 'Ada Lovelace', email: ada.email });
      expect(new Date(document.generatedAt).getTime()).toBeGreaterThan(0);
      const s = document.sections;
      expect(Object.keys(s)).toEqual(
        expect.arrayContaining(['account', 'memberships', 'requiredLearning', 'sessions', 'apiTokens', 'passwordResets', 'emailPreferences', 'enrolments', 'lessonProgress', 'quizAttempts', 'certificates', 'webinarRegistrations', 'webinarAttendance', 'webinarQuestions', 'emails']),
      );
      expect(s.account).toMatchObject({ id: ada.userId, name: 'Ada Lovelace', email: ada.email, jobRole: 'Tester', organisationGiven: 'Test Trust', access: 'Learner' });
      expect(s.memberships).toEqual(expect.arrayContaining([expect.objectContaining({ organisation: { id: organisation.id, name: organisation.name }, status: 'active', manager: false })]));
      expect(s.memberships).toHaveLength(await ds.getRepository(Membership).countBy({ userId: ada.userId }));
      expect(s.requiredLearning).toEqual({
        namedIn: [expect.objectContaining({ organisation: { id: organisation.id, name: organisation.name }, course: { id: done.course.id, title: done.course.title }, due: { daysAfterJoining: 30 }, renewalMonths: 12 })],
        reminders: [expect.objectContaining({ course: { id: done.course.id, title: done.course.title }, stage: 'due_soon', dueDate: '2026-12-24' })],
        weeklyDigests: [],
      });
      expect(s.sessions.length).toBeGreaterThanOrEqual(1);
      expect(s.sessions[0]).toEqual({ createdAt: expect.any(String), expiresAt: expect.any(String), userAgent: expect.anything() });
      expect(s.apiTokens).toEqual([expect.objectContaining({ status: 'active', createdAt: expect.any(String), expiresAt: expect.any(String), revokedAt: null })]);
      expect(answer.body).not.toContain(ada.api.bearer!);
      expect(answer.body).not.toMatch(/tokenHash|passwordHash|\$argon2/);
      expect(s.passwordResets).toEqual([{ requestedAt: expect.any(String), expiresAt: expect.any(String), usedAt: null }]);
      expect(s.emailPreferences).toMatchObject({ courseReminders: false, weeklyDigest: true, topicsFollowed: [{ id: done.course.topicId, name: 'Clinical safety' }] });
      expect(s.enrolments).toEqual([expect.objectContaining({ course: { id: done.course.id, title: done.course.title, slug: done.course.slug }, status: 'completed', progressPercent: 100 })]);
      const video = s.lessonProgress.find((p: { lesson: { id: number } }) => p.lesson.id === done.video.id);
      expect(video).toMatchObject({ lesson: { title: 'What is a clinical hazard?', kind: 'video' }, watchedIntervals: [[0, 73]] });
      expect(s.lessonProgress.map((p: { lesson: { id: number } }) => p.lesson.id)).toEqual(expect.arrayContaining([done.text.id, done.video.id, done.quiz.id, done.resource.id]));
      expect(s.quizAttempts).toHaveLength(1);
      expect(s.quizAttempts[0]).toMatchObject({ lesson: { id: done.quiz.id, title: 'Check your understanding' }, scorePercent: 100, passed: true });
      expect(s.quizAttempts[0].answers).toEqual(
        expect.arrayContaining([
          { questionId: done.questions[0].id, question: 'What is a clinical hazard?', chosen: [{ optionId: done.questions[0].options[0].id, text: 'A potential source of harm' }] },
          expect.objectContaining({ question: 'Which are controls?', chosen: expect.arrayContaining([expect.objectContaining({ text: 'An allergy alert' }), expect.objectContaining({ text: 'Training' })]) }),
        ]),
      );
      expect(s.certificates).toEqual([expect.objectContaining({ code: done.certificate.code, holderName: 'Ada Lovelace', status: 'valid', cpdHours: 1, subject: { id: done.course.id, title: done.course.title }, verifyUrl: `http://academy.test/verify/${done.certificate.code}` })]);
      expect(s.webinarRegistrations).toEqual([expect.objectContaining({ webinar: expect.objectContaining({ id: upcoming.id, title: 'Safety cases live' }), status: 'registered' })]);
      expect(s.webinarAttendance).toEqual([expect.objectContaining({ webinar: expect.objectContaining({ id: past.id }), joinCount: 1 })]);
      expect(s.webinarQuestions.asked).toEqual([expect.objectContaining({ question: 'Who signs off the hazard log?', votes: 1, status: 'answered' })]);
      expect(s.webinarQuestions.votes).toEqual([expect.objectContaining({ questionId: graceQuestion.id, webinar: expect.objectContaining({ id: past.id }) })]);
      const subjects = s.emails.map((m: { subject: string }) => m.subject);
      expect(subjects).toContain(`Your certificate: ${done.course.title}`);
      expect(s.emails.map((m: { kind: string }) => m.kind)).toEqual(expect.arrayContaining(['certificate-issued', 'password-reset']));
      expect(s.emails.every((m: { status: string; createdAt: string }) => ['pending', 'sent', 'failed'].includes(m.status) && m.createdAt)).toBe(true);

      // Nothing of the other learner: not her name, address, question or e-mails.
      for (const foreign of [grace.email, 'Grace Hopper', 'Grace asks about DCB0129']) expect(answer.body).not.toContain(foreign);
    });

    it('gives the same document to an API client with a bearer token, and 401 without one', async () => {
      const { ada, grace } = world;
      const answer = await ada.api.get('/api/v1/me/data');
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      const document = answer.json();
      expect(document.person.email).toBe(ada.email);
      expect(document.sections.certificates).toHaveLength(1);
      expect(document.sections.enrolments).toHaveLength(1);
      expect(answer.body).not.toContain(grace.email);
      const theirs = (await grace.api.get('/api/v1/me/data')).json();
      expect(theirs.person.email).toBe(grace.email);
      expect(theirs.sections.certificates).toEqual([]);
      expect(JSON.stringify(theirs)).not.toContain(ada.email);
      const anonymous = await t.visitor().get('/api/v1/me/data');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('needs a signed-in session and the form’s CSRF token; a few downloads an hour', async () => {
      const anonymous = t.visitor();
      const page = await anonymous.get('/account/data');
      expect(page.status).toBe(303);
      expect(page.headers.location).toBe('/sign-in?next=%2Faccount%2Fdata');
      await anonymous.get('/sign-in');
      const posted = await anonymous.submit('/account/data', {});
      expect(posted.status).not.toBe(200);
      expect(posted.body).not.toContain('"sections"');

      const person = await learner('Rosalind Franklin');
      await person.get('/account/data');
      const forged = await person.submit('/account/data', {}, { withCsrf: false });
      expect(forged.status).toBe(403);
      expect(forged.body).not.toContain('"sections"');

      // Five an hour, page and API together.
      for (let i = 0; i < 4; i++) expect((await downloadFromPage(person)).answer.status).toBe(200);
      expect((await person.api.get('/api/v1/me/data')).status).toBe(200);
      const refused = await downloadFromPage(person);
      expect(refused.answer.status).toBe(429);
      expect(refused.answer.body).toContain('You can download your data 5 times an hour');
      const api = await person.api.get('/api/v1/me/data');
      expect(api.status).toBe(429);
      expect(Number(api.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('streams thousands of progress rows, read a page at a time, all of them in order', async () => {
      const person = await learner('Katherine Johnson');
      const big = await course(t, { authorId: author.userId, title: 'A very long course' });
      const mod = await ds.getRepository(CourseModule).findOneByOrFail({ courseId: big.id });
      const extra = EXPORT_PAGE_SIZE * 2 + 150;
      for (let at = 0; at < extra; at += 250) {
        await ds.getRepository(Lesson).insert(
          Array.from({ length: Math.min(250, extra - at) }, (_, i) => ({ moduleId: mod.id, courseId: big.id, position: 3 + at + i, kind: 'text' as const, title: `Lesson ${3 + at + i}`, minutes: 1, required: true, body: 'Text', fileKey: null, fileName: null, fileType: null, videoSeconds: null, passMark: null })),
        );
      }
      expect((await person.api.request('POST', '/api/v1/enrolments', { json: { courseId: big.id } })).status).toBe(201);
      const enrolment = await ds.getRepository(Enrolment).findOneByOrFail({ userId: person.userId, courseId: big.id });
      const lessons = await ds.getRepository(Lesson).find({ where: { courseId: big.id }, select: { id: true }, order: { id: 'ASC' } });
      const at = clock.now();
      for (let i = 0; i < lessons.length; i += 250) {
        await ds.getRepository(LessonProgress).insert(lessons.slice(i, i + 250).map((l) => ({ enrolmentId: enrolment.id, lessonId: l.id, positionSeconds: 0, coveredSeconds: 0, watchedIntervals: null, completedAt: at, watchAllowanceMs: 0, heartbeatAt: null, updatedAt: at })));
      }
      const document = (await person.api.get('/api/v1/me/data')).json();
      expect(document.sections.lessonProgress).toHaveLength(lessons.length);
      expect(lessons.length).toBeGreaterThan(EXPORT_PAGE_SIZE * 2);
      expect(document.sections.lessonProgress.map((p: { lesson: { id: number } }) => p.lesson.id)).toEqual(lessons.map((l) => l.id));
    });
  });

  describe('delete my account', () => {
    async function deleteAccount(person: Visitor, form: Record<string, string>) {
      await person.get('/account/delete');
      return person.submit('/account/delete', form);
    }

    it('refuses a wrong password, a missing choice and a forged form, and changes nothing', async () => {
      const person = await learner('Dorothy Hodgkin');
      expect((await person.api.request('POST', '/api/v1/enrolments', { json: { courseId: (await course(t, { authorId: author.userId })).id } })).status).toBe(201);
      const page = await person.get('/account/delete');
      expect(page.status).toBe(200);
      expect(page.body).toContain('Keep them verifiable under my name');
      expect(page.body).toContain('value="revoke"');
      expect(page.body).toContain('autocomplete="current-password"');
      expect((await person.get('/account')).body).toContain('href="/account/delete"');

      const wrong = await deleteAccount(person, { certificates: 'keep', password: 'not my password at all' });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toContain('Your password is not correct');
      expect(wrong.body).toContain('value="keep" aria-describedby="certificates-keep-hint" checked');
      const unchosen = await deleteAccount(person, { password: person.password });
      expect(unchosen.status).toBe(400);
      expect(unchosen.body).toContain('Choose whether your certificates stay verifiable or are revoked');
      await person.get('/account/delete');
      const forged = await person.submit('/account/delete', { certificates: 'keep', password: person.password }, { withCsrf: false });
      expect(forged.status).toBe(403);

      const user = await ds.getRepository(User).findOneByOrFail({ id: person.userId });
      expect(user).toMatchObject({ name: 'Dorothy Hodgkin', email: person.email, deactivatedAt: null });
      expect(await ds.getRepository(Enrolment).countBy({ userId: person.userId })).toBe(1);
      expect((await person.get('/account')).status).toBe(200);
      expect((await person.api.get('/api/v1/me')).status).toBe(200);
      expect(await ds.getRepository(AuditEntry).countBy({ action: 'user.deleted', targetId: person.userId })).toBe(0);
    });

    it('keeping the certificates: they verify under the printed name; everything else is gone, sessions and tokens dead, the audit entry has no name or address', async () => {
      const world = await arrange();
      const { ada, grace, done, upcoming, adaQuestion, graceQuestion } = world;
      const otherBrowser = t.visitor();
      await otherBrowser.signIn(ada.email, ada.password);
      const enrolmentIds = (await ds.getRepository(Enrolment).find({ where: { userId: ada.userId } })).map((e) => e.id);
      expect(await ds.getRepository(Enrolment).countBy({ courseId: done.course.id })).toBe(2);
      const adaMemberships = await ds.getRepository(Membership).countBy({ userId: ada.userId });
      const graceMemberships = await ds.getRepository(Membership).countBy({ userId: grace.userId });
      const enrolmentCountBefore = (await ds.getRepository(Course).findOneByOrFail({ id: done.course.id })).enrolmentCount;

      const deleted = await deleteAccount(ada, { certificates: 'keep', password: ada.password });
      expect(deleted.status).toBe(303);
      expect(deleted.headers.location).toBe('/account/deleted');
      const farewell = await ada.get('/account/deleted');
      expect(farewell.status).toBe(200);
      expect(farewell.body).toContain('Your account has been deleted');
      expect(farewell.body).not.toContain('Ada Lovelace');

      // Signed out everywhere, at once; the token and the password no longer work.
      expect((await ada.get('/account')).status).toBe(303);
      expect((await otherBrowser.get('/account')).status).toBe(303);
      expect((await ada.api.get('/api/v1/me')).status).toBe(401);
      const again = t.visitor();
      await again.get('/sign-in');
      expect((await again.submit('/sign-in', { email: ada.email, password: ada.password })).status).toBe(400);

      // The certificate still verifies, under the name printed on it.
      const verify = await t.visitor().get(`/verify/${done.certificate.code}`);
      expect(verify.status).toBe(200);
      expect(verify.body).toContain('This certificate is valid');
      expect(verify.body).toContain('Ada Lovelace');
      expect(await ds.getRepository(Certificate).findOneByOrFail({ id: done.certificate.id })).toMatchObject({ status: 'valid', holderName: 'Ada Lovelace' });
      expect(await t.app.get(FileStorage).size(done.certificate.fileKey)).toBeGreaterThan(0);
      // Its Open Badge still names her: the hashed recipient was frozen before her address was erased.
      const assertion = await t.visitor().get(`/badges/assertions/${done.certificate.code}`);
      expect(assertion.status).toBe(200);
      expect(assertion.json().recipient.identity).toBe(`sha256$${createHash('sha256').update(ada.email + done.certificate.recipientSalt).digest('hex')}`);

      // The account row says nothing about her; her rows are gone.
      const user = await ds.getRepository(User).findOneByOrFail({ id: ada.userId });
      expect(user).toMatchObject({ name: 'Deleted account', email: `deleted-${ada.userId}@deleted.invalid`, jobRole: '', organisationId: null, role: 'learner' });
      expect(user.deactivatedAt).not.toBeNull();
      expect(user.passwordHash).not.toMatch(/argon2/);
      expect(await ds.getRepository(Enrolment).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(LessonProgress).countBy({ enrolmentId: In(enrolmentIds) })).toBe(0);
      expect(await ds.getRepository(QuizAttempt).countBy({ enrolmentId: In(enrolmentIds) })).toBe(0);
      expect(await ds.getRepository(WebinarRegistration).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(WebinarAttendance).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(WebinarQuestion).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(WebinarQuestionVote).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(Membership).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(RequirementPerson).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(RequirementNotice).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(RequirementPerson).countBy({ userId: grace.userId })).toBe(1);
      expect(await ds.getRepository(MailPreferences).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(TopicFollow).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(MailMessage).countBy({ toAddress: ada.email })).toBe(0);
      expect(await ds.getRepository(SessionRecord).countBy({ userId: ada.userId })).toBe(0);
      expect(await t.app.get(SessionStore).listForUser(ada.userId)).toEqual([]);
      expect(await ds.getRepository(ApiToken).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(PasswordReset).countBy({ userId: ada.userId })).toBe(0);

      // Other people's data stays, made consistent: her question (and Grace's vote for it) gone, her vote off Grace's
      // question, her place at the webinar to come taken by Grace from the waitlist, the course's count one fewer.
      expect(await ds.getRepository(WebinarQuestion).findOneBy({ id: adaQuestion.id })).toBeNull();
      expect((await ds.getRepository(WebinarQuestion).findOneByOrFail({ id: graceQuestion.id })).votes).toBe(0);
      expect(await ds.getRepository(WebinarRegistration).findOneByOrFail({ webinarId: upcoming.id, userId: grace.userId })).toMatchObject({ status: 'registered' });
      expect(await ds.getRepository(Enrolment).countBy({ userId: grace.userId })).toBe(1);
      expect(await ds.getRepository(MailMessage).countBy({ toAddress: grace.email })).toBeGreaterThan(0);
      expect(await ds.getRepository(Membership).countBy({ userId: grace.userId })).toBe(graceMemberships);
      expect((await ds.getRepository(Course).findOneByOrFail({ id: done.course.id })).enrolmentCount).toBe(enrolmentCountBefore - 1);
      expect((await grace.get(`/courses/${done.course.slug}`)).status).toBe(200);

      // The audit log says it happened, with counts, without her name or address.
      const entry = await ds.getRepository(AuditEntry).findOneByOrFail({ action: 'user.deleted', targetId: ada.userId });
      expect(entry).toMatchObject({ actorId: ada.userId, actorName: 'Deleted account', targetType: 'user', targetLabel: 'Deleted account' });
      const details = JSON.parse(entry.details);
      expect(details).toMatchObject({ certificates: 'keep', counts: expect.objectContaining({ enrolments: 1, quizAttempts: 1, certificatesKept: 1, webinarRegistrations: 1, webinarQuestions: 1, webinarQuestionVotes: 1, webinarAttendance: 1, memberships: adaMemberships, apiTokens: 1, passwordResets: 1, sessions: 2, emailPreferences: 1, topicsFollowed: 1 }) });
      expect(details.counts.lessonProgress).toBeGreaterThanOrEqual(4);
      expect(details.counts.emails).toBeGreaterThanOrEqual(2);
      const written = JSON.stringify(entry);
      expect(written).not.toContain(ada.email);
      expect(written).not.toContain('Ada Lovelace');

      // Her address is free for a new account, which starts empty.
      const fresh = await t.visitor().request('POST', '/api/v1/auth/register', { json: { name: 'Ada Lovelace', email: ada.email, password: PASSWORD, organisation: 'Test Trust', jobRole: 'Tester' } });
      expect(fresh.status).toBe(201);
      expect(fresh.json().user.id).not.toBe(ada.userId);
      const client = new Visitor(t.app);
      client.bearer = fresh.json().token;
      const newDocument = (await client.get('/api/v1/me/data')).json();
      expect(newDocument.sections.enrolments).toEqual([]);
      expect(newDocument.sections.certificates).toEqual([]);
      // Only what was sent to the new account (a welcome, say): none of the old account's e-mails.
      expect(newDocument.sections.emails.map((m: { kind: string }) => m.kind)).not.toEqual(expect.arrayContaining(['certificate-issued']));
      expect(newDocument.sections.emails.map((m: { kind: string }) => m.kind)).not.toContain('password-reset');
    });

    it('revoking the certificates: the verify page says revoked because the account was deleted, without the name', async () => {
      const person = await learner('Mary Seacole');
      const done = await completeCourse(person);
      expect((await deleteAccount(person, { certificates: 'revoke', password: person.password })).status).toBe(303);
      const verify = await t.visitor().get(`/verify/${done.certificate.code}`);
      expect(verify.status).toBe(200);
      expect(verify.body).toContain('This certificate has been revoked');
      expect(verify.body).toContain('Reason: Account deleted');
      expect(verify.body).not.toContain('Mary Seacole');
      expect(await ds.getRepository(Certificate).findOneByOrFail({ id: done.certificate.id })).toMatchObject({ status: 'revoked', revokedReason: 'Account deleted', holderName: 'Deleted account' });
      expect(await t.app.get(FileStorage).size(done.certificate.fileKey)).toBeNull();
      const badge = await t.visitor().get(`/badges/assertions/${done.certificate.code}`);
      expect(badge.status).toBe(410);
      const entry = await ds.getRepository(AuditEntry).findOneByOrFail({ action: 'user.deleted', targetId: person.userId });
      expect(JSON.parse(entry.details)).toMatchObject({ certificates: 'revoke', counts: expect.objectContaining({ certificatesRevoked: 1 }) });
    });

    it('an author who deletes their account leaves their published course and webinar to the academy', async () => {
      const writer = await t.signedIn('author', { name: 'Sam Writer' });
      const published = await course(t, { authorId: writer.userId, title: 'Interoperability basics' });
      const webinar = await saveWebinar(t, { authorId: writer.userId, startsAt: new Date(clock.now().getTime() + DAY), title: 'FHIR for beginners' });
      expect((await deleteAccount(writer, { certificates: 'keep', password: writer.password })).status).toBe(303);
      const visitor = t.visitor();
      const coursePage = await visitor.get(`/courses/${published.slug}`);
      expect(coursePage.status).toBe(200);
      expect(coursePage.body).not.toContain('Sam Writer');
      expect((await visitor.get(`/webinars/${webinar.slug}`)).status).toBe(200);
      const admin = await t.signedIn('admin');
      expect((await admin.get(`/author/courses/${published.id}`)).status).toBe(200);
    });

    it('refuses the last active administrator, with the reason, and lets them go once there is another', async () => {
      const admin = await t.signedIn('admin', { name: 'Only Admin' });
      await ds.getRepository(User).createQueryBuilder().update().set({ deactivatedAt: clock.now() }).where('role = :admin AND id <> :id AND deactivated_at IS NULL', { admin: 'admin', id: admin.userId }).execute();
      const page = await admin.get('/account/delete');
      expect(page.status).toBe(200);
      expect(page.body).toContain('You are the only active administrator');
      expect(page.body).not.toContain('name="password"');
      const refused = await admin.submit('/account/delete', { certificates: 'keep', password: admin.password });
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('You are the only active administrator');
      expect(await ds.getRepository(User).findOneByOrFail({ id: admin.userId })).toMatchObject({ name: 'Only Admin', role: 'admin', deactivatedAt: null });
      expect((await admin.get('/account')).status).toBe(200);

      await t.signedIn('admin', { email: uniqueEmail('second-admin') });
      expect((await deleteAccount(admin, { certificates: 'keep', password: admin.password })).status).toBe(303);
      expect(await ds.getRepository(User).findOneByOrFail({ id: admin.userId })).toMatchObject({ name: 'Deleted account', role: 'learner' });
    });
  });
});
