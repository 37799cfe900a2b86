import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ICAL from 'ical.js';
import type { ParsedMail } from 'mailparser';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { londonFields } from '../../src/common/london-time';
import { DEMO_CONTENT_DIR } from '../../src/demo/demo.seeder';
import { AttendanceService } from '../../src/webinars/attendance.service';
import { Webinar, WebinarQuestion } from '../../src/webinars/entities';
import { Answer, MultipartPart, startTestApp, TestApp, Visitor } from '../support/app';
import { topic } from '../support/courses';
import { startSmtpServer } from '../support/smtp';
import { waitFor } from '../support/wait';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const MP4 = readFileSync(join(DEMO_CONTENT_DIR, 'media', 'what-is-a-clinical-hazard.mp4'));
const VTT = readFileSync(join(DEMO_CONTENT_DIR, 'media', 'what-is-a-clinical-hazard.vtt'));
/** A Windows executable's first bytes. */
const EXE = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(3000, 0)]);

type Signed = Visitor & { userId: number; email: string; password: string };

const idIn = (answer: Answer) => Number(/\/author\/webinars\/(\d+)/.exec(String(answer.headers.location))?.[1]);
const file = (filename: string, content: Buffer, contentType = 'application/octet-stream'): MultipartPart => ({ name: 'file', filename, content, contentType });

/** The .ics a mail carries, read back with ical.js. */
function calendarOf(mail: ParsedMail) {
  const attachment = mail.attachments.find((a) => a.contentType.startsWith('text/calendar'));
  expect(attachment).toBeDefined();
  const calendar = new ICAL.Component(ICAL.parse(attachment!.content.toString('utf8')));
  const vevent = calendar.getFirstSubcomponent('vevent')!;
  return { method: calendar.getFirstPropertyValue('method'), sequence: Number(vevent.getFirstPropertyValue('sequence')), start: new ICAL.Event(vevent).startDate.toJSDate() };
}

describe('webinar authoring', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let t: TestApp;
  let author: Signed;
  let otherAuthor: Signed;
  let admin: Signed;
  let learner: Signed;
  let formulaLearner: Signed;
  let waitlister: Signed;
  let topicId: number;
  let webinarId: number;
  let recordedId: number;
  const ds = () => t.app.get(DataSource);
  const clock = () => t.app.get(Clock);
  const webinar = (id: number) => ds().getRepository(Webinar).findOneByOrFail({ id });
  /** After the clock moves days ahead, the browsers' sessions have expired, as they would: those signed out sign in again. */
  const signInAgain = async () => {
    for (const who of [author, otherAuthor, admin, learner, formulaLearner, waitlister]) {
      if ((await who.get('/account')).status !== 200) await who.signIn(who.email, who.password);
    }
  };
  const filesUnder = (folder: string) => {
    const dir = join(t.engines.dataDir, 'files', folder);
    return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name) : [];
  };
  /** A start `days` from now (by the app's clock), on the hour, as the form's London date and time. */
  const startIn = (days: number, hour = 14) => {
    const { date } = londonFields(new Date(clock().now().getTime() + days * DAY));
    return { date, time: `${String(hour).padStart(2, '0')}:00` };
  };
  const details = (overrides: Record<string, string> = {}) => ({
    title: 'Interoperability in practice',
    summary: 'Connecting a community pharmacy to the shared care record',
    description: '## Agenda\n\nA **live** demo, then questions.',
    presenters: 'Priya Shah, integration lead, North Trust\nSam Okafor, pharmacist',
    topicId: String(topicId),
    ...startIn(3),
    durationMinutes: '60',
    capacity: '50',
    joinUrl: 'https://meet.example.org/interop',
    streamUrl: '',
    cpdHours: '1',
    minAttendanceMinutes: '45',
    ...overrides,
  });
  const mailsTo = (email: string, subject: string) => smtp.received.filter((m) => JSON.stringify(m.to).includes(email) && (m.subject ?? '').startsWith(subject));
  const waitForMail = async (email: string, subject: string) => {
    await waitFor(async () => {
      await t.drainJobs();
      return mailsTo(email, subject).length > 0;
    }, 15000);
    return mailsTo(email, subject)[0];
  };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    // A 2 MB limit: the demo MP4 (880 kB) fits.
    t = await startTestApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Peer Academy <no-reply@academy.test>', UPLOAD_MAX_MB: '2' });
    author = await t.signedIn('author', { name: 'Ada Author' });
    otherAuthor = await t.signedIn('author', { name: 'Otto Other' });
    admin = await t.signedIn('admin', { name: 'Ann Admin' });
    learner = await t.signedIn('learner', { name: 'Lee Learner' });
    formulaLearner = await t.signedIn('learner', { name: '=HYPERLINK("x")' });
    waitlister = await t.signedIn('learner', { name: 'Wes Waiting' });
    topicId = (await topic(t, 'Interoperability')).id;
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  describe('who may schedule webinars', () => {
    it('sends anonymous visitors to sign in and refuses learners with 403', async () => {
      const anonymous = await t.visitor().get('/author/webinars');
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.location).toBe(`/sign-in?next=${encodeURIComponent('/author/webinars')}`);
      expect((await learner.get('/author/webinars')).status).toBe(403);
      expect((await learner.get('/author/webinars/new')).status).toBe(403);
      expect((await learner.submit('/author/webinars/new', details())).status).toBe(403);
      expect(await ds().getRepository(Webinar).count()).toBe(0);
    });

    it('lists an author’s webinars and an admin’s view of all, linked from course authoring', async () => {
      const courses = await author.get('/author/courses');
      expect(courses.body).toContain('href="/author/webinars"');
      const mine = await author.get('/author/webinars');
      expect(mine.status).toBe(200);
      expect(mine.body).toContain('Your webinars');
      expect(mine.body).toContain('href="/author/webinars/new"');
      expect(mine.body).toContain('Schedule a webinar');
      const all = await admin.get('/author/webinars');
      expect(all.status).toBe(200);
      expect(all.body).toContain('All webinars');
    });
  });

  describe('scheduling', () => {
    it('refuses bad details with the NHS error summary and inline errors, keeping what was typed', async () => {
      const form = await author.get('/author/webinars/new');
      expect(form.status).toBe(200);
      expect(form.body).toContain('Start time (UK time)');
      expect(form.body).toContain('<option value="' + topicId + '">Interoperability</option>');

      const refused = await author.submit('/author/webinars/new', details({ title: '', time: '25:00', joinUrl: 'not a link', summary: 'Keeps this summary' }));
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('There is a problem');
      expect(refused.body).toContain('<a href="#title">Enter a title</a>');
      expect(refused.body).toContain('Enter the start time as HH:MM on the 24-hour clock');
      expect(refused.body).toContain('Enter the meeting link as a full web address starting with https://');
      expect(refused.body).toContain('id="time-error"');
      expect(refused.body).toContain('value="Keeps this summary"');
      expect(refused.body).toContain('value="25:00"');
      expect(refused.body).toContain('<title>Error: Schedule a webinar');

      const past = await author.submit('/author/webinars/new', details(startIn(-2)));
      expect(past.status).toBe(400);
      expect(past.body).toContain('The start must be in the future');

      const longer = await author.submit('/author/webinars/new', details({ durationMinutes: '30', minAttendanceMinutes: '45' }));
      expect(longer.status).toBe(400);
      expect(longer.body).toContain('The minimum attendance cannot be longer than the webinar');
      expect(await ds().getRepository(Webinar).count()).toBe(0);
    });

    it('creates a draft that learners cannot see, and that other authors get 404 for', async () => {
      const created = await author.submit('/author/webinars/new', details());
      expect(created.status).toBe(303);
      webinarId = idIn(created);
      expect(String(created.headers.location)).toBe(`/author/webinars/${webinarId}?notice=created`);
      const saved = await webinar(webinarId);
      expect(saved).toMatchObject({ slug: 'interoperability-in-practice', status: 'draft', authorId: author.userId, durationMinutes: 60, capacity: 50, cpdMinutes: 60, minAttendanceMinutes: 45, topicId, sequence: 0 });
      expect(londonFields(saved.startsAt)).toEqual(startIn(3));

      const page = await author.get(String(created.headers.location));
      expect(page.status).toBe(200);
      expect(page.body).toContain('Webinar created as a draft');
      expect(page.body).toContain('Draft');
      expect(page.body).toContain(`action="/author/webinars/${webinarId}/publish"`);
      expect(page.body).toContain(`value="${startIn(3).date}"`);
      expect(page.body).toContain('value="14:00"');
      expect(page.body).toContain('<strong>live</strong>');

      expect((await learner.get('/api/v1/webinars/interoperability-in-practice')).status).toBe(404);
      expect((await learner.get('/webinars/interoperability-in-practice')).status).toBe(404);
      expect((await t.visitor().get('/webinars/interoperability-in-practice')).status).toBe(404);

      for (const url of [`/author/webinars/${webinarId}`, `/author/webinars/${webinarId}/registrations.csv`]) expect((await otherAuthor.get(url)).status).toBe(404);
      await otherAuthor.get('/author/webinars');
      expect((await otherAuthor.submit(`/author/webinars/${webinarId}/publish`, {})).status).toBe(404);
      expect((await otherAuthor.submit(`/author/webinars/${webinarId}/cancel`, { reason: 'Mine now' })).status).toBe(404);
      expect((await otherAuthor.submit(`/author/webinars/${webinarId}`, details({ title: 'Taken over' }))).status).toBe(404);
      expect(await webinar(webinarId)).toMatchObject({ status: 'draft', title: 'Interoperability in practice' });
      expect((await otherAuthor.get('/author/webinars')).body).not.toContain('Interoperability in practice');

      const asAdmin = await admin.get(`/author/webinars/${webinarId}`);
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body).toContain('Webinar by another author');
      expect((await admin.get('/author/webinars')).body).toContain(`href="/author/webinars/${webinarId}"`);
    });

    it('publishes the draft; learners can then see it and register', async () => {
      await author.get(`/author/webinars/${webinarId}`);
      const published = await author.submit(`/author/webinars/${webinarId}/publish`, {});
      expect(published.status).toBe(303);
      expect((await webinar(webinarId)).status).toBe('scheduled');
      const again = await author.submit(`/author/webinars/${webinarId}/publish`, {});
      expect(again.status).toBe(409);
      expect(again.body).toContain('Only a draft can be published');
      expect((await learner.get('/api/v1/webinars/interoperability-in-practice')).status).toBe(200);

      const api = await t.apiClient(learner.email, learner.password);
      const registered = await api.request('POST', `/api/v1/webinars/${webinarId}/registrations`);
      expect(registered.status).toBe(201);
      expect(registered.json()).toMatchObject({ status: 'registered' });
      await waitForMail(learner.email, 'You have a place: ');
      const page = await author.get(`/author/webinars/${webinarId}`);
      expect(page.body).toContain('Lee Learner');
      expect(page.body).toContain(learner.email);
      expect(page.body).toContain('1 of 50 places taken');
      expect(page.body).toContain('receive an updated calendar invitation');
      expect((await author.get('/author/webinars')).body).toMatch(/1 of 50/);
    });

    it('moves the start: registrants get “Changed: …” with an updated invitation (SEQUENCE 1)', async () => {
      await author.get(`/author/webinars/${webinarId}`);
      const bad = await author.submit(`/author/webinars/${webinarId}`, details({ ...startIn(3, 15), capacity: 'lots' }));
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('Enter the number of places as a whole number');
      expect(bad.body).toContain('value="15:00"');
      expect((await webinar(webinarId)).sequence).toBe(0);

      const moved = await author.submit(`/author/webinars/${webinarId}`, details(startIn(3, 15)));
      expect(moved.status).toBe(303);
      const saved = await webinar(webinarId);
      expect(saved.sequence).toBe(1);
      expect(londonFields(saved.startsAt)).toEqual(startIn(3, 15));
      const mail = await waitForMail(learner.email, 'Changed: ');
      const ics = calendarOf(mail);
      expect(ics).toMatchObject({ method: 'REQUEST', sequence: 1 });
      expect(ics.start.getTime()).toBe(saved.startsAt.getTime());
    });

    it('cancels with a required reason: registrants get “Cancelled: …” with METHOD:CANCEL', async () => {
      const page = await author.get(`/author/webinars/${webinarId}`);
      expect(page.body).toContain('Registrants and the waitlist will be told and their calendars updated');
      const noReason = await author.submit(`/author/webinars/${webinarId}/cancel`, { reason: '  ' });
      expect(noReason.status).toBe(400);
      expect(noReason.body).toContain('Say why the webinar is cancelled');
      expect((await webinar(webinarId)).status).toBe('scheduled');

      const cancelled = await author.submit(`/author/webinars/${webinarId}/cancel`, { reason: 'The presenter is unwell' });
      expect(cancelled.status).toBe(303);
      expect(await webinar(webinarId)).toMatchObject({ status: 'cancelled', cancelReason: 'The presenter is unwell', sequence: 2 });
      const mail = await waitForMail(learner.email, 'Cancelled: ');
      expect(calendarOf(mail)).toMatchObject({ method: 'CANCEL', sequence: 2 });
      const after = await author.get(`/author/webinars/${webinarId}`);
      expect(after.body).toContain('The presenter is unwell');
      expect(after.body).not.toContain(`action="/author/webinars/${webinarId}/cancel"`);
    });
  });

  describe('after the webinar', () => {
    it('shows the waitlist in order and moderates questions', async () => {
      await author.get('/author/webinars/new');
      const created = await author.submit('/author/webinars/new', details({ title: 'Lessons from a weekend EPR go-live', capacity: '2', ...startIn(2, 10) }));
      expect(created.status).toBe(303);
      recordedId = idIn(created);
      await author.submit(`/author/webinars/${recordedId}/publish`, {});
      for (const who of [formulaLearner, learner, waitlister]) {
        const api = await t.apiClient(who.email, who.password);
        expect((await api.request('POST', `/api/v1/webinars/${recordedId}/registrations`)).status).toBe(201);
      }

      // Into the join window: one learner joins live, another asks a question.
      const saved = await webinar(recordedId);
      clock().travel(saved.startsAt.getTime() - clock().now().getTime() - 5 * MINUTE);
      await signInAgain(); // days have passed: a browser signs in afresh
      await t.app.get(AttendanceService).join(formulaLearner.userId, saved);
      const api = await t.apiClient(learner.email, learner.password);
      const asked = await api.request('POST', `/api/v1/webinars/${recordedId}/questions`, { json: { body: 'Which <b>standards</b> did you use?' } });
      expect(asked.status).toBe(201);
      const question = asked.json<{ id: number }>().id;

      const page = await author.get(`/author/webinars/${recordedId}`);
      expect(page.body).toContain('Which &lt;b&gt;standards&lt;/b&gt; did you use?');
      expect(page.body).toMatch(/Waitlisted \(number 1 on the waitlist\)/);
      expect(page.body).toContain('You can add the recording once the webinar has ended');
      expect(page.body).toContain(`action="/author/webinars/${recordedId}/questions/${question}/status"`);
      expect(page.body).toContain('Hide<span class="nhsuk-u-visually-hidden">: question from Lee Learner</span>');
      const hidden = await author.submit(`/author/webinars/${recordedId}/questions/${question}/status`, { status: 'hidden' });
      expect(hidden.status).toBe(303);
      expect((await ds().getRepository(WebinarQuestion).findOneByOrFail({ id: question })).status).toBe('hidden');
      const moderated = await author.get(`/author/webinars/${recordedId}`);
      expect(moderated.body).toContain('Which &lt;b&gt;standards&lt;/b&gt; did you use?');
      expect(moderated.body).toContain('Show again');
      expect((await author.submit(`/author/webinars/${recordedId}/questions/${question}/status`, { status: 'deleted' })).status).toBe(400);
      expect((await otherAuthor.submit(`/author/webinars/${recordedId}/questions/${question}/status`, { status: 'open' })).status).toBe(404);
      expect((await ds().getRepository(WebinarQuestion).findOneByOrFail({ id: question })).status).toBe('hidden');

      // Too early for a recording: refused before anything is stored.
      const early = await author.upload(`/author/webinars/${recordedId}/recording`, [file('recording.mp4', MP4, 'video/mp4')]);
      expect(early.status).toBe(400);
      expect(early.body).toContain('A recording can be added once the webinar has ended');
      expect(filesUnder('webinars')).toEqual([]);
    });

    it('refuses an .exe renamed .mp4, storing nothing; takes the real video and tells registrants', async () => {
      const saved = await webinar(recordedId);
      clock().travel(saved.startsAt.getTime() + (saved.durationMinutes + 5) * MINUTE - clock().now().getTime());
      await signInAgain(); // days have passed: a browser signs in afresh
      const page = await author.get(`/author/webinars/${recordedId}`);
      expect(page.body).toContain(`action="/author/webinars/${recordedId}/recording"`);
      expect(page.body).toContain('enctype="multipart/form-data"');

      const exe = await author.upload(`/author/webinars/${recordedId}/recording`, [file('recording.mp4', EXE, 'video/mp4')]);
      expect(exe.status).toBe(400);
      expect(exe.body).toContain('There is a problem');
      expect(exe.body).toContain('not a MP4 video');
      expect(filesUnder('webinars')).toEqual([]);
      expect(await webinar(recordedId)).toMatchObject({ recordingKey: null, recordingUrl: null });
      const wrongKind = await author.upload(`/author/webinars/${recordedId}/recording`, [file('slides.pdf', Buffer.from('%PDF-1.7'), 'application/pdf')]);
      expect(wrongKind.status).toBe(400);
      expect(wrongKind.body).toContain('The selected file must be an MP4 or WebM video');
      expect(mailsTo(learner.email, 'Catch up')).toHaveLength(0);

      const uploaded = await author.upload(`/author/webinars/${recordedId}/recording`, [file('recording.mp4', MP4, 'video/mp4')]);
      expect(uploaded.status).toBe(303);
      const recorded = await webinar(recordedId);
      expect(recorded).toMatchObject({ recordingType: 'video/mp4', recordingUrl: null });
      expect(recorded.recordingKey).toMatch(new RegExp(`^webinars/${recordedId}/`));
      expect(recorded.recordingSeconds).toBeGreaterThan(0);
      expect(filesUnder('webinars').filter((f) => f.endsWith('.mp4'))).toHaveLength(1);

      // Who joined live is thanked; who did not is told to catch up; the waitlist is not written to.
      const watchAgain = await waitForMail(formulaLearner.email, 'Watch again: the recording of Lessons from a weekend EPR go-live');
      expect(watchAgain).toBeDefined();
      await waitForMail(learner.email, 'Catch up: the recording of Lessons from a weekend EPR go-live');
      expect(smtp.received.filter((m) => JSON.stringify(m.to).includes(waitlister.email) && /recording/.test(m.subject ?? ''))).toHaveLength(0);
      const after = await author.get(`/author/webinars/${recordedId}?notice=recording`);
      expect(after.body).toContain('A video recording has been uploaded');

      // Captions: a .vtt is taken and played with the recording; anything else is refused.
      const notCaptions = await author.upload(`/author/webinars/${recordedId}/recording-captions`, [file('captions.vtt', Buffer.from('just some text'), 'text/vtt')]);
      expect(notCaptions.status).toBe(400);
      expect(notCaptions.body).toContain('WebVTT');
      const captioned = await author.upload(`/author/webinars/${recordedId}/recording-captions`, [file('captions.vtt', VTT, 'text/vtt')]);
      expect(captioned.status).toBe(303);
      const { slug, recordingCaptionsKey } = await webinar(recordedId);
      expect(recordingCaptionsKey).toMatch(new RegExp(`^webinars/${recordedId}/captions-`));
      expect((await learner.get(`/webinars/${slug}`)).body).toContain(`<track kind="captions" src="/webinars/${slug}/recording/captions.vtt"`);
      const track = await learner.get(`/webinars/${slug}/recording/captions.vtt`);
      expect(track.status).toBe(200);
      expect(track.headers['content-type']).toContain('text/vtt');
      expect(track.body).toBe(VTT.toString('utf8'));

      // A link instead replaces the uploaded file, which is removed.
      const badLink = await author.submit(`/author/webinars/${recordedId}/recording-link`, { recordingUrl: 'ftp://x' });
      expect(badLink.status).toBe(400);
      expect(badLink.body).toContain('Enter the recording link as a full web address');
      const link = await author.submit(`/author/webinars/${recordedId}/recording-link`, { recordingUrl: 'https://video.example.org/epr-go-live' });
      expect(link.status).toBe(303);
      expect(await webinar(recordedId)).toMatchObject({ recordingKey: null, recordingUrl: 'https://video.example.org/epr-go-live' });
      expect(filesUnder('webinars').filter((f) => f.endsWith('.mp4'))).toHaveLength(0);
      // …and back to the video, for the export below.
      expect((await author.upload(`/author/webinars/${recordedId}/recording`, [file('recording.mp4', MP4, 'video/mp4')])).status).toBe(303);
    });

    it('exports registrations and attendance as CSV, defusing spreadsheet formulas', async () => {
      const page = await author.get(`/author/webinars/${recordedId}`);
      expect(page.body).toContain(`href="/author/webinars/${recordedId}/registrations.csv"`);
      expect(page.body).toContain('Export registrations and attendance (CSV)');

      const csv = await author.get(`/author/webinars/${recordedId}/registrations.csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toBe('attachment; filename="lessons-from-a-weekend-epr-go-live-registrations.csv"');
      const saved = await webinar(recordedId);
      const attendance = await t.app.get(AttendanceService).forWebinar(recordedId);
      const joined = attendance.get(formulaLearner.userId)!.firstJoinedAt!.toISOString();
      const lines = csv.body.replace(/^\uFEFF/, '').split('\r\n');
      expect(lines[0]).toBe('name,email,status,registered_at,waitlist_position,joined_live_at,live_minutes,recording_watched_percent,credited_at');
      expect(lines).toHaveLength(5); // header, three registrations, and the final line break
      expect(lines[4]).toBe('');
      expect(lines[1]).toMatch(new RegExp(`^"'=HYPERLINK\\(""x""\\)",${formulaLearner.email.replace(/\./g, '\\.')},registered,\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z,,${joined},${saved.durationMinutes},0,$`));
      expect(lines[2]).toMatch(new RegExp(`^Lee Learner,${learner.email.replace(/\./g, '\\.')},registered,[^,]+Z,,,0,0,$`));
      expect(lines[3]).toMatch(new RegExp(`^Wes Waiting,${waitlister.email.replace(/\./g, '\\.')},waitlisted,[^,]+Z,1,,0,0,$`));
      // No cell starts with a formula character.
      expect(csv.body).not.toMatch(/(^|,)"?[=+\-@]/m);

      expect((await learner.get(`/author/webinars/${recordedId}/registrations.csv`)).status).toBe(403);
      expect((await otherAuthor.get(`/author/webinars/${recordedId}/registrations.csv`)).status).toBe(404);
      expect((await admin.get(`/author/webinars/${recordedId}/registrations.csv`)).status).toBe(200);
    });
  });
});
