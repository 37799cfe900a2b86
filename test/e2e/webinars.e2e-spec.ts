import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ICAL from 'ical.js';
import type { ParsedMail } from 'mailparser';
import { DataSource, In, IsNull, Like, Not } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import type { CurrentUser } from '../../src/accounts/identity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { londonFields } from '../../src/common/london-time';
import { toBullJobId } from '../../src/jobs/bullmq.driver';
import { InProcessDriver } from '../../src/jobs/in-process.driver';
import { JobsService } from '../../src/jobs/jobs.service';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { AttendanceService } from '../../src/webinars/attendance.service';
import { Webinar, WebinarAttendance, WebinarQuestion, WebinarRegistration } from '../../src/webinars/entities';
import type { WebinarDetailsDto } from '../../src/webinars/webinars.dto';
import { WebinarReminderJob, WebinarRemindersSweepJob } from '../../src/webinars/webinars.jobs';
import { WebinarsService } from '../../src/webinars/webinars.service';
import { saveWebinar } from '../support/webinars';
import { PASSWORD, startTestApp, TestApp, uniqueEmail, Visitor } from '../support/app';
import { topic } from '../support/courses';
import { inspectPdf } from '../support/pdf';
import { startSmtpServer } from '../support/smtp';
import { waitFor } from '../support/wait';

type Signed = Visitor & { userId: number; email: string; password: string };
type Learner = Signed & { api: Visitor };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const REMINDERS = [1440, 60];

/** The parts of an .ics that matter, read back by ical.js (an independent RFC 5545 parser). */
function readCalendar(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const vevents = calendar.getAllSubcomponents('vevent');
  expect(vevents).toHaveLength(1);
  const event = new ICAL.Event(vevents[0]);
  return {
    method: String(calendar.getFirstPropertyValue('method')),
    uid: event.uid,
    sequence: event.sequence,
    start: event.startDate.toJSDate().toISOString(),
    status: String(vevents[0].getFirstPropertyValue('status')),
    attendees: event.attendees.map((a) => String(a.getFirstValue())),
  };
}

/** The one calendar attachment of a received e-mail. */
function calendarOf(mail: ParsedMail) {
  const parts = mail.attachments.filter((a) => a.contentType === 'text/calendar');
  expect(parts).toHaveLength(1);
  return readCalendar(parts[0].content.toString('utf8'));
}

describe('webinars', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ds: DataSource;
  let clock: Clock;
  let webinars: WebinarsService;
  let attendance: AttendanceService;
  let author: Signed;
  let authorUser: CurrentUser;
  let authorApi: Visitor;
  let sequence = 0;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ SMTP_URL: smtp.url, WEBINAR_REMINDER_MINUTES: '1440,60', WEBINAR_RECORDING_CREDIT_PERCENT: '75' });
    ds = t.app.get(DataSource);
    clock = t.app.get(Clock);
    webinars = t.app.get(WebinarsService);
    attendance = t.app.get(AttendanceService);
    author = await t.signedIn('author', { name: 'Dr Grace Hopper' });
    authorUser = (await t.app.get(AccountsService).currentUser(author.userId))!;
    authorApi = await t.apiClient(author.email, author.password);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** A scheduled webinar written straight to the database; times relative to the app's clock, on the minute. */
  async function webinar(overrides: Partial<Webinar> & { startsIn?: number } = {}): Promise<Webinar> {
    const { startsIn = 2 * DAY, ...fields } = overrides;
    const n = ++sequence;
    const now = clock.now();
    const startsAt = new Date(Math.floor((now.getTime() + startsIn) / MINUTE) * MINUTE);
    return saveWebinar(t, { title: `Clinical safety in practice ${n}`, summary: 'What DCB0129 and DCB0160 ask of you', startsAt, authorId: author.userId, ...fields });
  }

  /** The author's form for a webinar, with a new start. */
  function detailsOf(w: Webinar, startsAt = w.startsAt): WebinarDetailsDto {
    const { date, time } = londonFields(startsAt);
    return {
      title: w.title,
      summary: w.summary,
      description: w.description,
      presenters: w.presenters,
      topicId: w.topicId ?? undefined,
      date,
      time,
      durationMinutes: w.durationMinutes,
      capacity: w.capacity,
      joinUrl: w.joinUrl ?? undefined,
      cpdHours: String(w.cpdMinutes / 60),
      minAttendanceMinutes: w.minAttendanceMinutes,
    };
  }

  async function learner(name = 'Mary Seacole'): Promise<Learner> {
    const signed = await t.signedIn('learner', { name });
    return Object.assign(signed, { api: await t.apiClient(signed.email, signed.password) });
  }

  /** An account made straight through the service, for back-end tests that need no HTTP client. */
  async function account(name = 'Florence Nightingale') {
    const email = uniqueEmail('learner');
    const user = await t.app.get(AccountsService).register({ email, password: PASSWORD, name, organisation: 'Test Trust', jobRole: 'Nurse' });
    return { userId: user.id, email, name };
  }

  const mailsTo = (email: string, subject?: string) => smtp.received.filter((m) => JSON.stringify(m.to).includes(email) && (!subject || m.subject?.startsWith(subject)));
  const rowsTo = (email: string, template: string) => ds.getRepository(MailMessage).findBy({ toAddress: email, template });
  /** Waits until every recorded message to these addresses has left the outbox (so the SMTP server has them all). */
  async function delivered(emails: string[]) {
    await t.drainJobs();
    await waitFor(async () => (await ds.getRepository(MailMessage).countBy({ toAddress: In(emails), status: 'pending' })) === 0, 15000);
  }
  const travelTo = (moment: number) => clock.travel(moment - clock.now().getTime());

  // ---- 1. The JSON API ----------------------------------------------------------------------------------

  it('lists upcoming and past webinars with places left and phase, filters by topic, refuses a bad `when`', async () => {
    const fhir = await topic(t, `Webinar interoperability ${Date.now()}`);
    const later = await webinar({ startsIn: 3 * DAY, topicId: fhir.id, capacity: 3 });
    const sooner = await webinar({ startsIn: DAY });
    const live = await webinar({ startsIn: -10 * MINUTE });
    const olderPast = await webinar({ startsIn: -3 * DAY, recordingUrl: 'https://video.example.org/rec' });
    const recentPast = await webinar({ startsIn: -DAY });
    const draft = await webinar({ status: 'draft', startsIn: 2 * DAY });
    const cancelled = await webinar({ status: 'cancelled', startsIn: 2 * DAY });
    const someone = await learner();
    expect((await someone.api.request('POST', `/api/v1/webinars/${later.id}/registrations`)).status).toBe(201);

    const visitor = t.visitor();
    const upcoming = await visitor.get('/api/v1/webinars?when=upcoming');
    expect(upcoming.status).toBe(200);
    const up = upcoming.json();
    const upIds = up.items.map((i: { id: number }) => i.id);
    expect(upIds).toEqual(expect.arrayContaining([later.id, sooner.id, live.id]));
    for (const hidden of [olderPast.id, recentPast.id, draft.id, cancelled.id]) expect(upIds).not.toContain(hidden);
    expect(upIds.indexOf(live.id)).toBeLessThan(upIds.indexOf(sooner.id));
    expect(upIds.indexOf(sooner.id)).toBeLessThan(upIds.indexOf(later.id));
    const starts = up.items.map((i: { startsAt: string }) => Date.parse(i.startsAt));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(up.items.find((i: { id: number }) => i.id === later.id)).toMatchObject({
      slug: later.slug,
      title: later.title,
      capacity: 3,
      placesLeft: 2,
      phase: 'scheduled',
      cpdHours: 1,
      durationMinutes: 60,
      topic: { id: fhir.id, slug: fhir.slug, name: fhir.name },
      hasRecording: false,
      startsAt: later.startsAt.toISOString(),
      endsAt: new Date(later.startsAt.getTime() + HOUR).toISOString(),
    });
    expect(up.items.find((i: { id: number }) => i.id === live.id)).toMatchObject({ phase: 'live', placesLeft: 10 });
    expect(up).toMatchObject({ page: 1, total: expect.any(Number), pages: expect.any(Number) });
    expect((await visitor.get('/api/v1/webinars')).json().items.map((i: { id: number }) => i.id)).toEqual(upIds); // upcoming by default

    const past = (await visitor.get('/api/v1/webinars?when=past')).json();
    const pastIds = past.items.map((i: { id: number }) => i.id);
    expect(pastIds.indexOf(recentPast.id)).toBeGreaterThanOrEqual(0);
    expect(pastIds.indexOf(recentPast.id)).toBeLessThan(pastIds.indexOf(olderPast.id)); // latest first
    for (const hidden of [later.id, sooner.id, live.id, draft.id, cancelled.id]) expect(pastIds).not.toContain(hidden);
    expect(past.items.find((i: { id: number }) => i.id === olderPast.id)).toMatchObject({ phase: 'ended', hasRecording: true });
    const pastStarts = past.items.map((i: { startsAt: string }) => Date.parse(i.startsAt));
    expect(pastStarts).toEqual([...pastStarts].sort((a, b) => b - a));

    const soon = await visitor.get('/api/v1/webinars?when=soon');
    expect(soon.status).toBe(400);
    expect(soon.json()).toMatchObject({ status: 400, errors: { when: 'when must be upcoming or past' } });
    expect(soon.json().detail).toEqual(expect.any(String));

    const byTopic = (await visitor.get(`/api/v1/webinars?topic=${fhir.slug}`)).json();
    expect(byTopic.items.map((i: { id: number }) => i.id)).toEqual([later.id]);
    expect(byTopic.total).toBe(1);
    expect((await visitor.get('/api/v1/webinars?topic=no-such-topic')).json()).toMatchObject({ items: [], total: 0 });
  });

  it('shows one webinar (drafts are 404) with the caller’s registration', async () => {
    const w = await webinar({ capacity: 1 });
    const draft = await webinar({ status: 'draft' });
    const first = await learner();
    const second = await learner();

    const anonymous = await t.visitor().get(`/api/v1/webinars/${w.slug}`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.json()).toMatchObject({ id: w.id, slug: w.slug, title: w.title, status: 'scheduled', capacity: 1, placesLeft: 1, registration: null, calendarUrl: `/webinars/${w.slug}/calendar.ics` });
    expect(anonymous.json().presenters).toEqual(['Dr Ada Byron, CCIO', 'Sam Patel, clinical safety officer']);
    expect(anonymous.body).not.toContain('meet.example.org'); // the join link is for registrants in the window

    for (const who of [t.visitor(), first.api]) {
      const hidden = await who.get(`/api/v1/webinars/${draft.slug}`);
      expect(hidden.status).toBe(404);
      expect(hidden.json().detail).toBe('There is no webinar at this address');
    }
    expect((await first.api.get('/api/v1/webinars/no-such-webinar')).status).toBe(404);

    const registered = (await first.api.request('POST', `/api/v1/webinars/${w.id}/registrations`)).json();
    const waitlisted = (await second.api.request('POST', `/api/v1/webinars/${w.id}/registrations`)).json();
    expect((await first.api.get(`/api/v1/webinars/${w.slug}`)).json()).toMatchObject({ placesLeft: 0, registration: { id: registered.registrationId, status: 'registered', waitlistPosition: null } });
    expect((await second.api.get(`/api/v1/webinars/${w.slug}`)).json()).toMatchObject({ registration: { id: waitlisted.registrationId, status: 'waitlisted', waitlistPosition: 1 } });
    expect((await t.visitor().get(`/api/v1/webinars/${w.slug}`)).json().registration).toBeNull();
  });

  it('registers idempotently, waitlists when full, promotes the first waitlisted when a place is freed', async () => {
    const w = await webinar({ capacity: 1 });
    const [ada, ben, cat] = [await learner('Ada Registered'), await learner('Ben Waitlisted'), await learner('Cat Waitlisted')];
    const path = `/api/v1/webinars/${w.id}/registrations`;

    const once = await ada.api.request('POST', path);
    const twice = await ada.api.request('POST', path);
    expect([once.status, twice.status]).toEqual([201, 201]);
    expect(once.json()).toEqual({ registrationId: expect.any(Number), status: 'registered', waitlistPosition: null });
    expect(twice.json()).toEqual(once.json());
    expect(await ds.getRepository(WebinarRegistration).countBy({ webinarId: w.id, userId: ada.userId })).toBe(1);

    expect((await ben.api.request('POST', path)).json()).toEqual({ registrationId: expect.any(Number), status: 'waitlisted', waitlistPosition: 1 });
    const catPlace = (await cat.api.request('POST', path)).json();
    expect(catPlace).toEqual({ registrationId: expect.any(Number), status: 'waitlisted', waitlistPosition: 2 });
    expect((await cat.api.request('POST', path)).json()).toEqual(catPlace);

    await delivered([ada.email, ben.email, cat.email]);
    expect(await rowsTo(ada.email, 'webinar-invitation')).toHaveLength(1);
    expect(mailsTo(ada.email, 'You have a place')).toHaveLength(1);
    expect(mailsTo(ben.email, 'You are on the waitlist')).toHaveLength(1);
    expect(mailsTo(ben.email, 'You have a place')).toHaveLength(0);
    expect(mailsTo(ben.email, 'You are on the waitlist')[0].attachments).toHaveLength(0); // no place, nothing for the calendar yet

    const left = await ada.api.request('DELETE', `${path}/me`);
    expect(left.status).toBe(200);
    expect(left.json()).toEqual({ cancelled: true });
    expect((await ada.api.request('DELETE', `${path}/me`)).json()).toEqual({ cancelled: false });
    const rows = await ds.getRepository(WebinarRegistration).find({ where: { webinarId: w.id }, order: { id: 'ASC' } });
    expect(rows.map((r) => [r.userId, r.status])).toEqual([
      [ada.userId, 'cancelled'],
      [ben.userId, 'registered'],
      [cat.userId, 'waitlisted'],
    ]);
    expect(rows[1].promotedAt).not.toBeNull();
    expect((await cat.api.get(`/api/v1/webinars/${w.slug}`)).json().registration).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect((await ben.api.get(`/api/v1/webinars/${w.slug}`)).json().registration).toMatchObject({ status: 'registered', waitlistPosition: null });

    await delivered([ada.email, ben.email, cat.email]);
    const promoted = mailsTo(ben.email, 'A place has come up');
    expect(promoted).toHaveLength(1);
    expect(promoted[0].subject).toContain(w.title);
    const invitation = calendarOf(promoted[0]);
    // Promotion is Ben's own change: SEQUENCE 1 (the webinar's 0 and his registration's 1).
    expect(invitation).toMatchObject({ method: 'REQUEST', sequence: 1, start: w.startsAt.toISOString(), status: 'CONFIRMED', attendees: [`mailto:${ben.email}`] });
    expect(mailsTo(cat.email, 'A place has come up')).toHaveLength(0);
    expect(calendarOf(mailsTo(ada.email, 'Place cancelled')[0])).toMatchObject({ method: 'CANCEL', status: 'CANCELLED' });
  });

  it('refuses registrations that cannot be taken, with a message, writing nothing', async () => {
    const open = await webinar();
    const cancelled = await webinar({ status: 'cancelled', cancelReason: 'Presenter unwell', cancelledAt: clock.now() });
    const ended = await webinar({ startsIn: -2 * HOUR });
    const draft = await webinar({ status: 'draft' });
    const learnerX = await learner();

    const anonymous = await t.visitor().request('POST', `/api/v1/webinars/${open.id}/registrations`);
    expect(anonymous.status).toBe(401);

    const cases: Array<[string, number, string]> = [
      [String(cancelled.id), 409, 'This webinar has been cancelled, so it is not taking registrations'],
      [String(ended.id), 409, 'This webinar has ended, so it is not taking registrations; watch the recording instead'],
      [String(draft.id), 404, 'There is no webinar with that id'],
      ['99999999', 404, 'There is no webinar with that id'],
      ['abc', 404, 'There is no webinar with that id'],
    ];
    for (const [id, status, detail] of cases) {
      const answer = await learnerX.api.request('POST', `/api/v1/webinars/${id}/registrations`);
      expect([id, answer.status, answer.json().detail]).toEqual([id, status, detail]);
    }
    expect(await ds.getRepository(WebinarRegistration).countBy({ userId: learnerX.userId })).toBe(0);
    expect(await ds.getRepository(MailMessage).countBy({ toAddress: learnerX.email })).toBe(0);
  });

  // ---- 2. The race for the last place --------------------------------------------------------------------

  it('gives the last place to exactly one of two learners registering at the same moment', async () => {
    const [one, two] = [await learner('Racer One'), await learner('Racer Two')];
    for (let round = 0; round < 5; round++) {
      const w = await webinar({ capacity: 1 });
      const answers = await Promise.all([one, two].map((who) => who.api.request('POST', `/api/v1/webinars/${w.id}/registrations`)));
      expect(answers.map((a) => a.status)).toEqual([201, 201]);
      const outcomes = answers.map((a) => a.json());
      expect(outcomes.map((o) => o.status).sort()).toEqual(['registered', 'waitlisted']);
      expect(outcomes.find((o) => o.status === 'waitlisted').waitlistPosition).toBe(1);
      const rows = await ds.getRepository(WebinarRegistration).findBy({ webinarId: w.id });
      expect(rows.map((r) => r.status).sort()).toEqual(['registered', 'waitlisted']);
    }
  });

  // ---- 3. Calendar invitations ----------------------------------------------------------------------------

  it('sends calendar invitations, updates and cancellations with one UID per registration', async () => {
    const w = await webinar({ capacity: 2 });
    const [ada, cat, ben] = [await learner('Ada Calendar'), await learner('Cat Calendar'), await learner('Ben Calendar')];
    for (const who of [ada, cat, ben]) expect((await who.api.request('POST', `/api/v1/webinars/${w.id}/registrations`)).status).toBe(201);
    const registrations = new Map((await ds.getRepository(WebinarRegistration).findBy({ webinarId: w.id })).map((r) => [r.userId, r]));
    expect(registrations.get(ben.userId)!.status).toBe('waitlisted');
    await delivered([ada.email, cat.email, ben.email]);

    const [mail] = mailsTo(ada.email, 'You have a place');
    expect(mail.subject).toContain(w.title);
    const invited = calendarOf(mail);
    expect(invited).toMatchObject({ method: 'REQUEST', sequence: 0, start: w.startsAt.toISOString(), status: 'CONFIRMED', attendees: [`mailto:${ada.email}`] });
    expect(invited.uid).toBe(`webinar-${w.id}-registration-${registrations.get(ada.userId)!.id}@academy.test`);

    const download = await ada.get(`/webinars/${w.slug}/calendar.ics`);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toMatch(/^text\/calendar/);
    expect(download.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="${w.slug}\\.ics"`));
    expect(readCalendar(download.body)).toEqual(invited);
    // Anyone without a place (here anonymous, and Ben on the waitlist) gets the public listing: PUBLISH, nobody invited.
    const anonymousCopy = readCalendar((await t.visitor().get(`/webinars/${w.slug}/calendar.ics`)).body);
    expect(anonymousCopy).toMatchObject({ method: 'PUBLISH', uid: `webinar-${w.id}@academy.test`, attendees: [] });
    expect(readCalendar((await ben.get(`/webinars/${w.slug}/calendar.ics`)).body)).toEqual(anonymousCopy);
    const catUid = calendarOf(mailsTo(cat.email, 'You have a place')[0]).uid;
    const benUid = `webinar-${w.id}-registration-${registrations.get(ben.userId)!.id}@academy.test`;
    expect(new Set([invited.uid, catUid, benUid, anonymousCopy.uid]).size).toBe(4);

    // The time changes: registrants get SEQUENCE 1 with the new start, same UIDs; Ben, waitlisted, is told without one.
    const newStart = new Date(w.startsAt.getTime() + DAY + 30 * MINUTE);
    await webinars.update(authorUser, w.id, detailsOf(w, newStart), REMINDERS);
    await delivered([ada.email, cat.email, ben.email]);
    for (const [who, uid] of [[ada, invited.uid], [cat, catUid]] as const) {
      const updates = mailsTo(who.email, 'Changed:');
      expect(updates).toHaveLength(1);
      expect(calendarOf(updates[0])).toMatchObject({ method: 'REQUEST', uid, sequence: 1, start: newStart.toISOString(), attendees: [`mailto:${who.email}`] });
    }
    expect(mailsTo(ben.email, 'Changed:')).toHaveLength(1);
    expect(mailsTo(ben.email, 'Changed:')[0].attachments).toHaveLength(0);
    expect(readCalendar((await ada.get(`/webinars/${w.slug}/calendar.ics`)).body)).toMatchObject({ uid: invited.uid, sequence: 1, start: newStart.toISOString() });

    // Cat gives up her place: her calendar loses it, and Ben, first on the waitlist, is invited.
    expect((await cat.api.request('DELETE', `/api/v1/webinars/${w.id}/registrations/me`)).json()).toEqual({ cancelled: true });
    await delivered([cat.email, ben.email]);
    expect(calendarOf(mailsTo(cat.email, 'Place cancelled')[0])).toMatchObject({ method: 'CANCEL', uid: catUid, sequence: 2, status: 'CANCELLED' });
    expect(readCalendar((await cat.get(`/webinars/${w.slug}/calendar.ics`)).body)).toMatchObject({ method: 'PUBLISH', uid: anonymousCopy.uid });
    expect(calendarOf(mailsTo(ben.email, 'A place has come up')[0])).toMatchObject({ method: 'REQUEST', uid: benUid, sequence: 2, start: newStart.toISOString() });

    // The author cancels: everyone still on it gets METHOD:CANCEL; Cat, already gone, gets nothing more.
    await webinars.cancel(authorUser, w.id, 'The presenter is unwell');
    await delivered([ada.email, cat.email, ben.email]);
    for (const [who, uid, sequence] of [[ada, invited.uid, 2], [ben, benUid, 3]] as const) {
      const cancellations = mailsTo(who.email, 'Cancelled:');
      expect(cancellations).toHaveLength(1);
      expect(cancellations[0].text).toContain('The presenter is unwell');
      expect(calendarOf(cancellations[0])).toMatchObject({ method: 'CANCEL', uid, sequence, status: 'CANCELLED', start: newStart.toISOString() });
    }
    expect(mailsTo(cat.email, 'Cancelled:')).toHaveLength(0);
    const gone = await ada.get(`/webinars/${w.slug}/calendar.ics`);
    expect(gone.headers['content-type']).toContain('method=CANCEL');
    expect(readCalendar(gone.body)).toMatchObject({ method: 'CANCEL', status: 'CANCELLED', uid: invited.uid });
  });

  // ---- 4. Reminders ------------------------------------------------------------------------------------

  it('sends each reminder exactly once to current registrants, however often and concurrently the sweep runs', async () => {
    const w = await webinar({ capacity: 4, startsIn: 2 * DAY });
    const [r1, r2, r3, quitter] = [await account('Reminded One'), await account('Reminded Two'), await account('Reminded Three'), await account('Quitter')];
    for (const who of [r1, r2, r3, quitter]) expect((await webinars.register(who.userId, w.id)).status).toBe('registered');
    await webinars.cancelRegistration(quitter.userId, w.id);
    await ds.getRepository(Webinar).update({ id: w.id }, { capacity: 3 });
    const waiting = await account('Waiting');
    expect((await webinars.register(waiting.userId, w.id)).status).toBe('waitlisted');
    const current = [r1, r2, r3];
    const everyone = [...current, quitter, waiting].map((a) => a.email);
    const sweep = t.app.get(WebinarRemindersSweepJob);
    const runSweep = async () => {
      await Promise.all([sweep.handle(), sweep.handle()]); // two workers at once
      await sweep.handle(); // and again after a "restart"
      await delivered(everyone);
    };
    const counts = async (template: string, subject: string) =>
      Promise.all(
        [...current, quitter, waiting].map(async (a) => [(await rowsTo(a.email, template)).filter((m) => JSON.parse(m.payload).when === subject).length, mailsTo(a.email, `Starts ${subject}:`).length]),
      );

    expect((await webinars.dueReminders(REMINDERS)).map((d) => d.webinar.id)).not.toContain(w.id);
    travelTo(w.startsAt.getTime() - DAY - MINUTE); // 24h01m before: not yet
    expect((await webinars.dueReminders(REMINDERS)).map((d) => d.webinar.id)).not.toContain(w.id);

    travelTo(w.startsAt.getTime() - (DAY - MINUTE)); // 23h59m before
    expect((await webinars.dueReminders(REMINDERS)).find((d) => d.webinar.id === w.id)?.minutes).toBe(1440);
    await runSweep();
    expect(await counts('webinar-reminder', 'tomorrow')).toEqual([[1, 1], [1, 1], [1, 1], [0, 0], [0, 0]]);
    const [tomorrow] = mailsTo(r1.email, 'Starts tomorrow:');
    expect(tomorrow.subject).toBe(`Starts tomorrow: ${w.title}`);

    travelTo(w.startsAt.getTime() - 59 * MINUTE);
    expect((await webinars.dueReminders(REMINDERS)).find((d) => d.webinar.id === w.id)?.minutes).toBe(60);
    await runSweep();
    expect(await counts('webinar-reminder', 'in 1 hour')).toEqual([[1, 1], [1, 1], [1, 1], [0, 0], [0, 0]]);
    expect(await counts('webinar-reminder', 'tomorrow')).toEqual([[1, 1], [1, 1], [1, 1], [0, 0], [0, 0]]);

    // Rescheduled a day later: the old start's reminders are no-ops, the new start's come at their time.
    const oldStart = w.startsAt.getTime();
    const newStart = new Date(oldStart + DAY);
    const rescheduled = await webinars.update(authorUser, w.id, { ...detailsOf(w, newStart), capacity: 3 }, REMINDERS);
    expect(rescheduled.startsAt.toISOString()).toBe(newStart.toISOString());
    expect(await webinars.sendReminder(w.id, 60, oldStart)).toBe(0);
    expect(await webinars.sendReminder(w.id, 1440, oldStart)).toBe(0);
    expect((await webinars.dueReminders(REMINDERS)).map((d) => d.webinar.id)).not.toContain(w.id);
    await runSweep();
    expect(await counts('webinar-reminder', 'tomorrow')).toEqual([[1, 1], [1, 1], [1, 1], [0, 0], [0, 0]]);

    travelTo(newStart.getTime() - (DAY - MINUTE));
    await runSweep();
    expect(await counts('webinar-reminder', 'tomorrow')).toEqual([[2, 2], [2, 2], [2, 2], [0, 0], [0, 0]]);

    // Cancelled: no more reminders, whatever runs.
    await webinars.cancel(authorUser, w.id, 'Cancelled for the test');
    travelTo(newStart.getTime() - 59 * MINUTE);
    expect((await webinars.dueReminders(REMINDERS)).map((d) => d.webinar.id)).not.toContain(w.id);
    await runSweep();
    expect(await webinars.sendReminder(w.id, 60, newStart.getTime())).toBe(0);
    expect(await counts('webinar-reminder', 'in 1 hour')).toEqual([[1, 1], [1, 1], [1, 1], [0, 0], [0, 0]]);
  });

  it('schedules each reminder as a delayed job, and a job for a stale start sends nothing', async () => {
    const jobs = t.app.get(JobsService);
    const enqueued = jest.spyOn(jobs, 'tryEnqueue');
    const start = new Date(Math.floor((clock.now().getTime() + 2 * DAY) / MINUTE) * MINUTE);
    const draft = await webinars.create(authorUser, {
      title: `Remote monitoring at scale ${Date.now()}`,
      summary: 'Lessons from a virtual ward',
      presenters: 'Dr Ada Byron, CCIO',
      ...londonFields(start),
      durationMinutes: 60,
      capacity: 50,
      joinUrl: 'https://meet.example.org/abc',
      cpdHours: '1',
      minAttendanceMinutes: 45,
    });
    expect(draft).toMatchObject({ status: 'draft', startsAt: start });
    const published = await webinars.publish(authorUser, draft.id, REMINDERS);
    expect(published.status).toBe('scheduled');
    const remindCalls = enqueued.mock.calls.filter(([name]) => name === 'webinars.remind');
    enqueued.mockRestore();
    expect(remindCalls.map(([, data]) => data)).toEqual([
      { webinarId: draft.id, minutes: 1440, startsAt: start.getTime() },
      { webinarId: draft.id, minutes: 60, startsAt: start.getTime() },
    ]);
    const now = clock.now().getTime();
    for (const [, data, options] of remindCalls) {
      const { minutes } = data as { minutes: number };
      expect(options!.jobId).toBe(`webinars.remind:${draft.id}:${start.getTime()}:${minutes}`);
      expect(Math.abs(options!.delayMs! - (start.getTime() - minutes * MINUTE - now))).toBeLessThan(10_000);
    }
    // The driver holds them as delayed jobs (not run yet).
    const driver = jobs.driver;
    for (const [, , options] of remindCalls) {
      if (driver instanceof InProcessDriver) {
        expect((driver as unknown as { jobs: Map<string, { state: string }> }).jobs.get(options!.jobId!)?.state).toBe('delayed');
      } else {
        const job = await (driver as unknown as { queue: { getJob(id: string): Promise<{ isDelayed(): Promise<boolean>; opts: { delay?: number } } | undefined> } }).queue.getJob(toBullJobId(options!.jobId!));
        expect(job).toBeDefined();
        expect(await job!.isDelayed()).toBe(true);
        expect(Math.abs(job!.opts.delay! - options!.delayMs!)).toBeLessThan(1000);
      }
    }

    const someone = await account('Delayed Job Learner');
    await webinars.register(someone.userId, draft.id);
    const later = new Date(start.getTime() + 2 * HOUR);
    await webinars.update(authorUser, draft.id, { ...detailsOf(published, later), description: '' }, REMINDERS);
    travelTo(later.getTime() - 45 * MINUTE);
    const handler = t.app.get(WebinarReminderJob);
    // Run directly, and as a queued job, for the old start: nothing is sent.
    await handler.handle({ webinarId: draft.id, minutes: 60, startsAt: start.getTime() });
    await jobs.enqueue('webinars.remind', { webinarId: draft.id, minutes: 60, startsAt: start.getTime() }, { jobId: `test-stale-${draft.id}` });
    await t.drainJobs();
    expect(await rowsTo(someone.email, 'webinar-reminder')).toHaveLength(0);
    // The same job for the current start sends, once.
    await jobs.enqueue('webinars.remind', { webinarId: draft.id, minutes: 60, startsAt: later.getTime() }, { jobId: `test-current-${draft.id}` });
    await waitFor(async () => (await rowsTo(someone.email, 'webinar-reminder')).length === 1);
    await handler.handle({ webinarId: draft.id, minutes: 60, startsAt: later.getTime() });
    await delivered([someone.email]);
    expect(await rowsTo(someone.email, 'webinar-reminder')).toHaveLength(1);
    expect(mailsTo(someone.email, 'Starts in 1 hour:')).toHaveLength(1);
  });

  // ---- 5. Joining and live attendance credit --------------------------------------------------------------

  it('opens the join link in the window to registrants only, and credits live attendance once, with a certificate', async () => {
    const w = await webinar({ startsIn: HOUR, durationMinutes: 60, minAttendanceMinutes: 45, capacity: 2, title: `Cyber resilience for GP practices ${Date.now()}` });
    const [early, late, outsider, waitlisted] = [await learner('Edith Early'), await learner('Larry Late'), await account('Olive Outsider'), await account('Wanda Waitlist')];
    for (const who of [early, late]) await webinars.register(who.userId, w.id);
    expect((await webinars.register(waitlisted.userId, w.id)).status).toBe('waitlisted');

    await expect(attendance.join(early.userId, w)).rejects.toMatchObject({ kind: 'conflict', message: 'The join link opens 15 minutes before the start' });
    travelTo(w.startsAt.getTime() - 10 * MINUTE);
    const joinedAt = clock.now();
    expect(await attendance.join(early.userId, w)).toBe('https://meet.example.org/abc');
    const row = await ds.getRepository(WebinarAttendance).findOneByOrFail({ webinarId: w.id, userId: early.userId });
    expect(Math.abs(row.firstJoinedAt!.getTime() - joinedAt.getTime())).toBeLessThan(1000);
    expect(row.joinCount).toBe(1);
    for (const who of [outsider, waitlisted]) await expect(attendance.join(who.userId, w)).rejects.toMatchObject({ kind: 'forbidden' });
    expect(await ds.getRepository(WebinarAttendance).countBy({ webinarId: w.id, userId: In([outsider.userId, waitlisted.userId]) })).toBe(0);

    travelTo(w.startsAt.getTime() + 20 * MINUTE); // 40 minutes left: less than the 45 needed
    expect(await attendance.join(late.userId, w)).toBe('https://meet.example.org/abc');
    expect(await attendance.join(early.userId, w)).toBe('https://meet.example.org/abc'); // rejoining keeps the first join
    const again = await ds.getRepository(WebinarAttendance).findOneByOrFail({ webinarId: w.id, userId: early.userId });
    expect(again.firstJoinedAt!.getTime()).toBe(row.firstJoinedAt!.getTime());
    expect(again.joinCount).toBe(2);
    await attendance.sweepCredits(); // not over yet: no credit
    expect(await ds.getRepository(WebinarAttendance).countBy({ webinarId: w.id, creditedAt: Not(IsNull()) })).toBe(0);

    travelTo(w.startsAt.getTime() + HOUR + MINUTE);
    await expect(attendance.join(early.userId, w)).rejects.toMatchObject({ kind: 'conflict', message: 'This webinar has ended; watch the recording when it is added' });
    await Promise.all([attendance.sweepCredits(), attendance.sweepCredits()]);
    const credited = await ds.getRepository(WebinarAttendance).find({ where: { webinarId: w.id }, order: { id: 'ASC' } });
    expect(credited.map((a) => [a.userId, !!a.creditedAt])).toEqual([
      [early.userId, true],
      [late.userId, false],
    ]);

    await waitFor(async () => (await ds.getRepository(Certificate).countBy({ userId: early.userId, subjectType: 'webinar' })) === 1, 15000);
    await attendance.sweepCredits();
    clock.travel(2 * MINUTE); // past the retry delay: the sweep asks for the certificate again, and nothing doubles
    await attendance.sweepCredits();
    await t.drainJobs();
    const certificates = await ds.getRepository(Certificate).findBy({ subjectType: 'webinar', subjectId: w.id });
    expect(certificates.map((c) => c.userId)).toEqual([early.userId]);
    await waitFor(async () => (await ds.getRepository(Certificate).findOneByOrFail({ id: certificates[0].id })).status === 'valid', 15000);
    const certificate = await ds.getRepository(Certificate).findOneByOrFail({ id: certificates[0].id });
    expect(certificate).toMatchObject({ holderName: 'Edith Early', cpdMinutes: 60 });
    expect((await ds.getRepository(WebinarAttendance).findOneByOrFail({ id: credited[0].id })).creditRecordedAt).not.toBeNull();
    const pdf = inspectPdf(readFileSync(join(t.config.dataDir, 'files', certificate.fileKey)));
    expect(pdf.text.replace(/\s+/g, ' ')).toContain(w.title);
    const download = await early.get(`/certificates/${certificate.code}.pdf`);
    expect(download.status).toBe(200);
    expect(await ds.getRepository(Certificate).countBy({ userId: late.userId })).toBe(0);
  });

  // ---- 6. Recording heartbeats -----------------------------------------------------------------------------

  it('counts recording coverage honestly and credits at 75%, once', async () => {
    const w = await webinar({ startsIn: -3 * HOUR, recordingKey: 'recordings/webinar.mp4', recordingType: 'video/mp4', recordingSeconds: 100, recordingAddedAt: clock.now(), title: `Digital maturity assessed ${Date.now()}` });
    const viewer = await learner('Rita Recording');
    const beat = (body: unknown, id: number | string = w.id) => viewer.api.request('POST', `/api/v1/webinars/${id}/recording/heartbeat`, { json: body });

    const bad: Array<[unknown, string | RegExp]> = [
      [{ from: -1, to: 5 }, 'from must not be negative'],
      [{ from: 10, to: 5 }, 'to must be greater than from'],
      [{ from: 0, to: 61 }, 'A heartbeat covers at most 60 seconds of video'],
      [{ from: 'abc', to: 5 }, /from must be a number of seconds/],
      [{ from: 0 }, /to must be a number of seconds/],
      [{}, /must be a number of seconds/],
      [{ from: 100, to: 101 }, /past the end/],
    ];
    for (const [body, message] of bad) {
      const answer = await beat(body);
      expect([JSON.stringify(body), answer.status]).toEqual([JSON.stringify(body), 400]);
      expect(`${answer.json().detail} ${JSON.stringify(answer.json().errors ?? {})}`).toMatch(message);
    }
    expect(await ds.getRepository(WebinarAttendance).countBy({ webinarId: w.id })).toBe(0);

    const covered = async (body: { from: number; to: number }, travelMs: number) => {
      clock.travel(travelMs);
      const answer = await beat(body);
      expect(answer.status).toBe(200);
      return answer.json();
    };
    expect(await covered({ from: 0, to: 10 }, 0)).toEqual({ coveredSeconds: 10, durationSeconds: 100, coveredPercent: 10, credited: false });
    expect(await covered({ from: 95, to: 100 }, 10_000)).toMatchObject({ coveredSeconds: 15, coveredPercent: 15, credited: false }); // seeking to the end
    expect(await covered({ from: 0, to: 10 }, 10_000)).toMatchObject({ coveredSeconds: 15 }); // a replay counts once
    expect(await covered({ from: 10, to: 58 }, 3_000)).toMatchObject({ coveredSeconds: 45, coveredPercent: 45 }); // 48 s in 3 s (16x): 30 s allowed
    expect(await covered({ from: 40, to: 60 }, 10_000)).toMatchObject({ coveredSeconds: 65, credited: false });
    expect(await covered({ from: 60, to: 70 }, 10_000)).toMatchObject({ coveredSeconds: 75, coveredPercent: 75, credited: true });
    expect(await covered({ from: 70, to: 80 }, 10_000)).toMatchObject({ coveredSeconds: 85, credited: true });
    const row = await ds.getRepository(WebinarAttendance).findOneByOrFail({ webinarId: w.id, userId: viewer.userId });
    expect(row).toMatchObject({ coveredSeconds: 85, positionSeconds: 80, firstJoinedAt: null });
    expect(JSON.parse(row.watchedIntervals!)).toEqual([
      [0, 80],
      [95, 100],
    ]);

    await waitFor(async () => (await ds.getRepository(Certificate).countBy({ userId: viewer.userId, subjectType: 'webinar', subjectId: w.id })) === 1, 15000);
    await attendance.sweepCredits();
    await t.drainJobs();
    expect(await ds.getRepository(Certificate).countBy({ userId: viewer.userId })).toBe(1);

    const draft = await webinar({ status: 'draft', startsIn: -3 * HOUR, recordingKey: 'recordings/d.mp4', recordingSeconds: 100 });
    const cancelled = await webinar({ status: 'cancelled', startsIn: -3 * HOUR, recordingKey: 'recordings/c.mp4', recordingSeconds: 100 });
    const noRecording = await webinar({ startsIn: -3 * HOUR });
    const linkOnly = await webinar({ startsIn: -3 * HOUR, recordingUrl: 'https://video.example.org/rec' });
    for (const [id, detail] of [
      [draft.id, 'There is no webinar with that id'],
      [cancelled.id, 'There is no webinar with that id'],
      [noRecording.id, 'This webinar has no recording to watch here'],
      [linkOnly.id, 'This webinar has no recording to watch here'],
      ['abc', 'There is no webinar with that id'],
    ] as const) {
      const answer = await beat({ from: 0, to: 10 }, id);
      expect([id, answer.status, answer.json().detail]).toEqual([id, 404, detail]);
    }
    expect(await ds.getRepository(WebinarAttendance).countBy({ userId: viewer.userId })).toBe(1);
    expect((await t.visitor().request('POST', `/api/v1/webinars/${w.id}/recording/heartbeat`, { json: { from: 0, to: 10 } })).status).toBe(401);
  });

  // ---- 7. Live questions ---------------------------------------------------------------------------------

  it('takes questions from registrants in the window, as plain text, with one vote each and moderation by the author', async () => {
    const w = await webinar({ startsIn: HOUR });
    const [asker, voter, outsider] = [await learner('Quentin Asker'), await learner('Vera Voter'), await learner('Otto Outsider')];
    for (const who of [asker, voter]) await webinars.register(who.userId, w.id);
    const ask = (who: Visitor, body: unknown) => who.request('POST', `/api/v1/webinars/${w.id}/questions`, { json: { body } });

    const early = await ask(asker.api, 'Too early?');
    expect([early.status, early.json().detail]).toEqual([409, 'Questions open 15 minutes before the start and close when the webinar ends']);
    travelTo(w.startsAt.getTime() - 10 * MINUTE);

    const notRegistered = await ask(outsider.api, 'May I?');
    expect([notRegistered.status, notRegistered.json().detail]).toEqual([403, 'Only learners with a place at this webinar can ask and vote']);
    for (const [body, message] of [
      ['', 'Type your question'],
      ['   ', 'Type your question'],
      ['x'.repeat(501), 'Questions must be 500 characters or fewer'],
    ] as const) {
      const answer = await ask(asker.api, body);
      expect(answer.status).toBe(400);
      expect(answer.json().errors).toEqual({ body: message });
    }
    expect((await ask(asker.api, 'y'.repeat(500))).status).toBe(201);
    expect(await ds.getRepository(WebinarQuestion).countBy({ webinarId: w.id })).toBe(1);

    const markup = '<img src=x onerror=alert(1)>';
    const asked = await ask(asker.api, markup);
    expect(asked.status).toBe(201);
    expect(asked.headers['content-type']).toMatch(/^application\/json/);
    expect(asked.json()).toMatchObject({ body: markup, votes: 0, status: 'open', askedBy: 'Quentin Asker' });
    expect(asked.json().askedBy).not.toContain('@');
    const questionId = asked.json().id;
    expect((await ds.getRepository(WebinarQuestion).findOneByOrFail({ id: questionId })).body).toBe(markup);
    const listed = await voter.api.get(`/api/v1/webinars/${w.id}/questions`);
    expect(listed.status).toBe(200);
    expect(listed.headers['content-type']).toMatch(/^application\/json/);
    expect(listed.json().find((q: { id: number }) => q.id === questionId).body).toBe(markup);
    expect((await outsider.api.get(`/api/v1/webinars/${w.id}/questions`)).status).toBe(404);

    const votePath = `/api/v1/webinars/${w.id}/questions/${questionId}/votes`;
    const vote = await voter.api.request('POST', votePath);
    expect([vote.status, vote.json()]).toEqual([201, { votes: 1 }]);
    const second = await voter.api.request('POST', votePath);
    expect([second.status, second.json().detail]).toEqual([409, 'You have already voted for this question']);
    const own = await asker.api.request('POST', votePath);
    expect([own.status, own.json().detail]).toEqual([409, 'You cannot vote for your own question']);
    expect((await ds.getRepository(WebinarQuestion).findOneByOrFail({ id: questionId })).votes).toBe(1);
    expect((await voter.api.get(`/api/v1/webinars/${w.id}/questions`)).json()[0]).toMatchObject({ id: questionId, votes: 1 }); // most votes first

    const statusPath = `/api/v1/webinars/${w.id}/questions/${questionId}/status`;
    const byLearner = await voter.api.request('POST', statusPath, { json: { status: 'hidden' } });
    expect([byLearner.status, byLearner.json().detail]).toEqual([403, 'Only the webinar’s author and admins can moderate its questions']);
    expect((await authorApi.request('POST', statusPath, { json: { status: 'sideways' } })).status).toBe(400);
    const hidden = await authorApi.request('POST', statusPath, { json: { status: 'hidden' } });
    expect([hidden.status, hidden.json()]).toEqual([200, { status: 'hidden' }]);
    const afterHiding = (await voter.api.get(`/api/v1/webinars/${w.id}/questions`)).json();
    expect(afterHiding.map((q: { id: number }) => q.id)).not.toContain(questionId);
    expect(afterHiding).toHaveLength(1);
    expect((await voter.api.request('POST', votePath)).status).toBe(404);
    expect((await authorApi.request('POST', `/api/v1/webinars/${w.id}/questions/99999999/status`, { json: { status: 'answered' } })).status).toBe(404);
    const answered = await authorApi.request('POST', `/api/v1/webinars/${w.id}/questions/${afterHiding[0].id}/status`, { json: { status: 'answered' } });
    expect(answered.status).toBe(200);
    expect((await voter.api.get(`/api/v1/webinars/${w.id}/questions`)).json()).toEqual([expect.objectContaining({ id: afterHiding[0].id, status: 'answered' })]);

    travelTo(w.startsAt.getTime() + HOUR + MINUTE);
    expect((await ask(asker.api, 'Too late?')).status).toBe(409);
    expect(await ds.getRepository(WebinarQuestion).countBy({ webinarId: w.id, body: Like('Too%') })).toBe(0);
  });
});
