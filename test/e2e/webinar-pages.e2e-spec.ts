import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { londonFields, londonToUtc } from '../../src/common/london-time';
import { FileStorage } from '../../src/storage/file-storage';
import { Webinar, type WebinarStatus } from '../../src/webinars/entities';
import { saveWebinar } from '../support/webinars';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { topic } from '../support/courses';

type Signed = Visitor & { userId: number; email: string; password: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('webinar pages', () => {
  let t: TestApp;
  let ds: DataSource;
  let clock: Clock;
  let author: Signed;
  let n = 0;

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    clock = t.app.get(Clock);
    author = await t.signedIn('author', { name: 'Ada Author' });
  });
  afterAll(() => t?.close());

  /** A webinar written straight to the database, starting `inMs` from the app's now. */
  async function webinar(options: { title?: string; inMs: number; status?: WebinarStatus; capacity?: number; topicSlug?: string; durationMinutes?: number } & Partial<Webinar>): Promise<Webinar> {
    const { inMs, topicSlug, ...fields } = options;
    const k = ++n;
    const title = options.title ?? `Webinar ${k}`;
    const now = clock.now();
    const topicRow = topicSlug ? await topic(t, topicSlug) : null;
    return saveWebinar(t, {
      description: `## Agenda\n\n*${title}* in depth.`,
      presenters: 'Priya Presenter, CCIO, Test Trust\nSam Second, CSO, Other Trust',
      topicId: topicRow?.id ?? null,
      startsAt: new Date(now.getTime() + inMs),
      capacity: 50,
      joinUrl: 'https://meet.example.org/webinar-room',
      minAttendanceMinutes: 30,
      authorId: author.userId,
      ...fields,
      title,
    });
  }

  async function register(who: Signed, w: Webinar) {
    await who.get(`/webinars/${w.slug}`);
    return who.submit(`/webinars/${w.slug}/register`, {});
  }

  it('lists upcoming and past webinars, filters by topic and refuses a bad query with a clear 400', async () => {
    const a = await webinar({ title: 'Alerts that clinicians trust', inMs: 2 * DAY, topicSlug: 'Clinical safety', capacity: 30 });
    const b = await webinar({ title: 'Cyber basics for trusts', inMs: 3 * DAY, topicSlug: 'Cyber security' });
    const past = await webinar({ title: 'Last year in review', inMs: -3 * DAY, recordingUrl: 'https://video.example.org/review' });
    const live = await webinar({ title: 'Happening right now', inMs: -10 * MINUTE });
    const full = await webinar({ title: 'Tiny room session', inMs: 4 * DAY, capacity: 1 });
    await register(await t.signedIn('learner'), full);

    const upcoming = await t.visitor().get('/webinars');
    expect(upcoming.status).toBe(200);
    expect(upcoming.body).toContain(`href="/webinars/${a.slug}"`);
    expect(upcoming.body).toContain(`href="/webinars/${b.slug}"`);
    expect(upcoming.body).not.toContain(`href="/webinars/${past.slug}"`);
    expect(upcoming.body).toContain('30 places left');
    expect(upcoming.body).toMatch(/Live now/);
    expect(upcoming.body).toContain(`href="/webinars/${live.slug}"`);
    expect(upcoming.body).toContain('Full – join the waitlist');
    expect(upcoming.body).toContain('(UK time)');
    expect(upcoming.body).toContain('1 hour · 1 hour CPD');
    expect(upcoming.body).not.toContain('href="/my-webinars"');

    const pastPage = await t.visitor().get('/webinars?when=past');
    expect(pastPage.status).toBe(200);
    expect(pastPage.body).toContain(`href="/webinars/${past.slug}"`);
    expect(pastPage.body).not.toContain(`href="/webinars/${a.slug}"`);
    expect(pastPage.body).toMatch(/nhsuk-tag--blue">Recording</);

    const filtered = await t.visitor().get('/webinars?topic=clinical-safety');
    expect(filtered.body).toContain(`href="/webinars/${a.slug}"`);
    expect(filtered.body).not.toContain(`href="/webinars/${b.slug}"`);
    expect(filtered.body).toMatch(/<option value="clinical-safety" selected>/);

    const bad = await t.visitor().get('/webinars?when=later');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('when must be upcoming or past');
    expect((await t.visitor().get('/webinars?page=0')).status).toBe(400);

    const learner = await t.signedIn('learner');
    expect((await learner.get('/webinars')).body).toContain('href="/my-webinars"');
  });

  it('shows a webinar to anonymous visitors with a sign-in link, and lets a learner register and cancel', async () => {
    const w = await webinar({ title: 'Safety cases <b>explained</b>', inMs: 2 * DAY, topicSlug: 'Clinical safety' });
    const anonymous = await t.visitor().get(`/webinars/${w.slug}`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toContain('Safety cases &lt;b&gt;explained&lt;/b&gt;');
    expect(anonymous.body).toContain('<h3>Agenda</h3>');
    expect(anonymous.body).toContain('Priya Presenter, CCIO, Test Trust');
    expect(anonymous.body).toContain('Sam Second, CSO, Other Trust');
    expect(anonymous.body).toContain(`href="/sign-in?next=/webinars/${w.slug}"`);
    expect(anonymous.body).toContain('Sign in to register');
    expect(anonymous.body).toContain(`href="/webinars/${w.slug}/calendar.ics"`);
    expect(anonymous.body).toContain('>Scheduled<');
    expect(anonymous.body).toContain('50 of 50');

    const learner = await t.signedIn('learner');
    const page = await learner.get(`/webinars/${w.slug}`);
    expect(page.body).toContain(`action="/webinars/${w.slug}/register"`);
    expect(page.body).not.toContain('Sign in to register');

    const registered = await learner.submit(`/webinars/${w.slug}/register`, {});
    expect(registered.status).toBe(303);
    expect(registered.headers.location).toBe(`/webinars/${w.slug}?notice=registered`);
    const after = await learner.get(registered.headers.location as string);
    expect(after.body).toContain('nhsuk-notification-banner--success');
    expect(after.body).toContain('You have a place');
    expect(after.body).toContain('Cancel my place');
    expect(after.body).toContain('49 of 50');
    expect(after.body).not.toContain('Join the webinar'); // not in the join window yet

    // Without a CSRF token the POST is refused.
    expect((await learner.submit(`/webinars/${w.slug}/cancel`, {}, { withCsrf: false })).status).toBe(403);
    const cancelled = await learner.submit(`/webinars/${w.slug}/cancel`, {});
    expect(cancelled.status).toBe(303);
    expect(cancelled.headers.location).toBe(`/webinars/${w.slug}?notice=cancelled`);
    const gone = await learner.get(cancelled.headers.location as string);
    expect(gone.body).toContain('Your place has been cancelled');
    expect(gone.body).toContain(`action="/webinars/${w.slug}/register"`);

    // Anonymous POSTs go to sign in.
    const stranger = t.visitor();
    await stranger.get(`/webinars/${w.slug}`);
    const anonymousPost = await stranger.submit(`/webinars/${w.slug}/register`, {});
    expect([303, 401, 403]).toContain(anonymousPost.status);
    expect(await ds.getRepository('WebinarRegistration').countBy({ webinarId: w.id, status: 'registered' })).toBe(0);
  });

  it('writes times as people read them, "12:30pm" not "0:30 pm", on every page and in the e-mail', async () => {
    // Half past twelve and midday, London time, a few days ahead (whatever the clock change).
    const day = londonFields(new Date(clock.now().getTime() + 5 * DAY)).date;
    const halfPast = await webinar({ title: 'Lunchtime learning', inMs: 0, startsAt: londonToUtc(day, '12:30') });
    const midday = await webinar({ title: 'Midday briefing', inMs: 0, startsAt: londonToUtc(day, '12:00') });
    const longDay = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${day}T12:00:00Z`));
    const expected = `${longDay} at 12:30pm`;

    const list = await t.visitor().get('/webinars');
    expect(list.body).toContain(`${expected} (UK time)`);
    expect(list.body).toContain(`${longDay} at midday (UK time)`);
    expect(list.body).not.toMatch(/\b0:\d\d ?[ap]m/);
    expect((await t.visitor().get(`/webinars/${halfPast.slug}`)).body).toContain(`${expected} (UK time)`);
    expect((await t.visitor().get(`/webinars/${midday.slug}`)).body).toContain(`${longDay} at midday (UK time)`);

    const learner = await t.signedIn('learner');
    expect((await register(learner, halfPast)).status).toBe(303);
    expect((await learner.get('/my-webinars')).body).toContain(`${expected} (UK time)`);
    await t.drainJobs();
    const [mail] = await ds.query('SELECT payload FROM mail_messages WHERE to_address = ? AND template = ?', [learner.email, 'webinar-invitation']);
    expect(JSON.parse(mail.payload).startsAt).toBe(expected);

    const authoring = await author.get('/author/webinars');
    expect(authoring.body).toContain(expected);
    expect(authoring.body).not.toMatch(/\b0:\d\d ?[ap]m/);
    expect((await author.get(`/author/webinars/${halfPast.id}`)).body).toContain(`${expected} (UK time)`);
  });

  it('waitlists learners when full, in order, and promotes the first when a place is freed', async () => {
    const w = await webinar({ title: 'Popular session', inMs: 3 * DAY, capacity: 1 });
    const first = await t.signedIn('learner');
    const second = await t.signedIn('learner');
    const third = await t.signedIn('learner');
    expect((await register(first, w)).headers.location).toContain('notice=registered');
    expect((await register(second, w)).headers.location).toContain('notice=waitlisted');
    clock.travel(5);
    expect((await register(third, w)).headers.location).toContain('notice=waitlisted');

    const secondPage = await second.get(`/webinars/${w.slug}`);
    expect(secondPage.body).toContain('You are number 1 on the waitlist');
    expect(secondPage.body).toContain('Leave the waitlist');
    expect((await third.get(`/webinars/${w.slug}`)).body).toContain('You are number 2 on the waitlist');
    expect((await t.visitor().get(`/webinars/${w.slug}`)).body).toContain('the webinar is full');

    expect((await first.submit(`/webinars/${w.slug}/cancel`, {})).status).toBe(303);
    expect((await second.get(`/webinars/${w.slug}`)).body).toContain('You have a place');
    expect((await third.get(`/webinars/${w.slug}`)).body).toContain('You are number 1 on the waitlist');

    const left = await third.submit(`/webinars/${w.slug}/cancel`, {});
    expect(left.headers.location).toBe(`/webinars/${w.slug}?notice=left`);
    expect((await third.get(left.headers.location as string)).body).toContain('You have left the waitlist');

    const mine = await second.get('/my-webinars');
    expect(mine.status).toBe(200);
    expect(mine.body).toContain(`href="/webinars/${w.slug}"`);
    expect(mine.body).toContain('You have a place');
  });

  it('refuses registration for a cancelled webinar with a friendly 409, and shows the reason', async () => {
    const w = await webinar({ title: 'Called off', inMs: 2 * DAY, status: 'cancelled', cancelReason: 'The presenter is unwell' });
    const learner = await t.signedIn('learner');
    const page = await learner.get(`/webinars/${w.slug}`);
    expect(page.body).toContain('This webinar has been cancelled');
    expect(page.body).toContain('The presenter is unwell');
    expect(page.body).not.toContain(`action="/webinars/${w.slug}/register"`);
    const refused = await learner.submit(`/webinars/${w.slug}/register`, {});
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('This webinar has been cancelled, so it is not taking registrations');
  });

  it('hides drafts from learners (404) and shows them to their author', async () => {
    const w = await webinar({ title: 'Still drafting', inMs: 5 * DAY, status: 'draft' });
    const learner = await t.signedIn('learner');
    expect((await learner.get(`/webinars/${w.slug}`)).status).toBe(404);
    expect((await t.visitor().get(`/webinars/${w.slug}`)).status).toBe(404);
    expect((await learner.submit(`/webinars/${w.slug}/register`, {})).status).toBe(404);
    const preview = await author.get(`/webinars/${w.slug}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toContain('This webinar is a draft');
    expect(preview.body).not.toContain(`action="/webinars/${w.slug}/register"`);
    expect((await author.get('/webinars')).body).not.toContain(`href="/webinars/${w.slug}"`);
  });

  it('sends a registrant to the meeting only in the join window', async () => {
    const w = await webinar({ title: 'Join me', inMs: HOUR });
    const learner = await t.signedIn('learner');
    await register(learner, w);
    const early = await learner.get(`/webinars/${w.slug}/join`);
    expect(early.status).toBe(409);
    expect(early.body).toContain('The join link opens 15 minutes before the start');
    expect((await learner.get(`/webinars/${w.slug}`)).body).toContain('The join link appears on this page from');

    const outsider = await t.signedIn('learner');
    const denied = await outsider.get(`/webinars/${w.slug}/join`);
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('Only learners with a place can join this webinar');

    clock.travel(50 * MINUTE);
    const page = await learner.get(`/webinars/${w.slug}`);
    expect(page.body).toContain(`href="/webinars/${w.slug}/join"`);
    expect(page.body).toContain('Join the webinar');
    expect(page.body).toContain(`href="/webinars/${w.slug}/live"`);
    const joined = await learner.get(`/webinars/${w.slug}/join`);
    expect(joined.status).toBe(303);
    expect(joined.headers.location).toBe('https://meet.example.org/webinar-room');
    const row = await ds.getRepository('WebinarAttendance').findOneByOrFail({ webinarId: w.id, userId: learner.userId });
    expect(row.joinCount).toBe(1);
  });

  describe('live questions', () => {
    let w: Webinar;
    let asker: Signed;
    let voter: Signed;

    beforeAll(async () => {
      // Starts in 10 minutes: the join window (and the questions) are open.
      w = await webinar({ title: 'Live Q and A', inMs: 10 * MINUTE, streamUrl: 'https://stream.example.org/live' });
      asker = await t.signedIn('learner', { name: 'Asha Asker' });
      voter = await t.signedIn('learner', { name: 'Victor Voter' });
      await register(asker, w);
      await register(voter, w);
    });

    it('is only for registrants, the author and admins', async () => {
      const outsider = await t.signedIn('learner');
      const denied = await outsider.get(`/webinars/${w.slug}/live`);
      expect(denied.status).toBe(404);
      expect(denied.body).toContain('Register for this webinar');
      expect((await outsider.get(`/webinars/${w.slug}/questions/stream`)).status).toBe(404);
      expect((await t.visitor().get(`/webinars/${w.slug}/live`)).status).toBe(303);

      const page = await asker.get(`/webinars/${w.slug}/live`);
      expect(page.status).toBe(200);
      expect(page.body).toContain(`action="/webinars/${w.slug}/questions"`);
      expect(page.body).toContain('Refresh questions');
      expect(page.body).toContain('href="https://stream.example.org/live"');
      expect(page.body).toContain(`href="/webinars/${w.slug}/join"`);
      expect(page.body).toContain('/public/js/webinar-live.js');
      expect((await author.get(`/webinars/${w.slug}/live`)).status).toBe(200);
    });

    it('shows questions escaped, refuses bad ones and second votes, and lets the author moderate', async () => {
      const asked = await asker.submit(`/webinars/${w.slug}/questions`, { body: '<script>alert(1)</script> Is it safe?' });
      expect(asked.status).toBe(303);
      expect(asked.headers.location).toBe(`/webinars/${w.slug}/live#questions`);
      const page = await voter.get(`/webinars/${w.slug}/live`);
      expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Is it safe?');
      expect(page.body).not.toContain('<script>alert(1)');
      expect(page.body).toContain('Asked by Asha Asker');
      const id = Number(/id="question-(\d+)"/.exec(page.body)![1]);
      expect(page.body).toContain(`action="/webinars/${w.slug}/questions/${id}/vote"`);

      // The asker gets no vote button for their own question, and a vote anyway is refused clearly.
      const own = await asker.get(`/webinars/${w.slug}/live`);
      expect(own.body).not.toContain(`questions/${id}/vote`);
      expect(own.body).toContain('Asked by Asha Asker (you)');
      const ownVote = await asker.submit(`/webinars/${w.slug}/questions/${id}/vote`, {});
      expect(ownVote.status).toBe(409);
      expect(ownVote.body).toContain('You cannot vote for your own question');

      const voted = await voter.submit(`/webinars/${w.slug}/questions/${id}/vote`, {});
      expect(voted.status).toBe(303);
      const afterVote = await voter.get(`/webinars/${w.slug}/live`);
      expect(afterVote.body).toContain('1 vote');
      expect(afterVote.body).toContain('You voted for this');
      expect(afterVote.body).not.toContain(`questions/${id}/vote`);
      const again = await voter.submit(`/webinars/${w.slug}/questions/${id}/vote`, {});
      expect(again.status).toBe(409);
      expect(again.body).toContain('You have already voted for this question');
      expect(again.body).toContain('nhsuk-error-summary');

      const empty = await voter.submit(`/webinars/${w.slug}/questions`, { body: '   ' });
      expect(empty.status).toBe(400);
      expect(empty.body).toContain('Type your question');
      expect(empty.body).toContain('href="#body"');
      const long = await voter.submit(`/webinars/${w.slug}/questions`, { body: 'x'.repeat(501) });
      expect(long.status).toBe(400);
      expect(long.body).toContain('Questions must be 500 characters or fewer');
      expect(long.body).toContain('x'.repeat(501)); // kept in the form

      // Learners cannot moderate; the author can.
      expect((await voter.submit(`/webinars/${w.slug}/questions/${id}/status`, { status: 'answered' })).status).toBe(403);
      const moderatorPage = await author.get(`/webinars/${w.slug}/live`);
      expect(moderatorPage.body).toContain('Mark answered');
      expect((await author.submit(`/webinars/${w.slug}/questions/${id}/status`, { status: 'bogus' })).status).toBe(400);
      const answered = await author.submit(`/webinars/${w.slug}/questions/${id}/status`, { status: 'answered' });
      expect(answered.status).toBe(303);
      const shown = await voter.get(`/webinars/${w.slug}/live`);
      expect(shown.body).toMatch(/nhsuk-tag--green">Answered</);
      expect((await author.get(`/webinars/${w.slug}/live`)).body).toContain('Reopen');
    });

    it('streams the question list and its changes as server-sent events', async () => {
      await t.app.listen(0, '127.0.0.1');
      const port = (t.app.getHttpServer().address() as AddressInfo).port;
      const cookie = [...voter.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const request: ClientRequest = httpRequest({ host: '127.0.0.1', port, path: `/webinars/${w.slug}/questions/stream`, headers: { cookie, accept: 'text/event-stream' } });
      request.end();
      try {
        const [response] = (await once(request, 'response')) as [IncomingMessage];
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        response.setEncoding('utf8');
        let body = '';
        const waiters: Array<() => void> = [];
        response.on('data', (chunk: string) => {
          body += chunk;
          for (const wake of waiters.splice(0)) wake();
        });
        const frames = () => body.split('\n\n').filter((f) => f.startsWith('event: questions\n'));
        const until = (test: () => boolean, what: string) =>
          Promise.race([
            new Promise<void>((resolve) => {
              const check = () => (test() ? resolve() : waiters.push(check));
              check();
            }),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}; got: ${body}`)), 10_000).unref()),
          ]);

        await until(() => frames().length >= 1, 'the first questions frame');
        const first = JSON.parse(frames()[0].split('\n').find((l) => l.startsWith('data: '))!.slice(6));
        expect(Array.isArray(first)).toBe(true);
        expect(first[0]).toEqual(expect.objectContaining({ body: '<script>alert(1)</script> Is it safe?', askedBy: 'Asha Asker', status: 'answered' }));
        expect(Object.keys(first[0]).sort()).toEqual(['askedAt', 'askedBy', 'body', 'id', 'status', 'votes']);

        expect((await asker.submit(`/webinars/${w.slug}/questions`, { body: 'What about the DCB0129 hazard log?' })).status).toBe(303);
        await until(() => frames().some((f) => f.includes('DCB0129')), 'a frame with the new question');
        const latest = frames().find((f) => f.includes('DCB0129'))!;
        expect(JSON.parse(latest.split('\n').find((l) => l.startsWith('data: '))!.slice(6))).toEqual(
          expect.arrayContaining([expect.objectContaining({ body: 'What about the DCB0129 hazard log?', votes: 0, status: 'open' })]),
        );
      } finally {
        request.destroy();
      }
    });
  });

  it('plays an uploaded recording to signed-in users, with the tracked player, and lists it in My webinars', async () => {
    const key = `webinars/test-recording-${process.pid}-${Date.now()}.mp4`;
    const bytes = Buffer.alloc(4096, 7);
    await t.app.get(FileStorage).put(key, Readable.from([bytes]));
    const w = await webinar({ title: 'Recorded session', inMs: -2 * DAY, recordingKey: key, recordingType: 'video/mp4', recordingSeconds: 120, recordingAddedAt: clock.now() });
    const none = await webinar({ title: 'Unrecorded session', inMs: -2 * DAY });
    const learner = await t.signedIn('learner');
    // Registered when it was upcoming: written straight to the database.
    await ds.getRepository('WebinarRegistration').save({ webinarId: w.id, userId: learner.userId, status: 'registered', queuedAt: new Date(w.startsAt.getTime() - DAY), promotedAt: null, cancelledAt: null });

    const anonymous = await t.visitor().get(`/webinars/${w.slug}`);
    expect(anonymous.body).toContain('Sign in to watch the recording');
    expect(anonymous.body).not.toContain('<video');
    expect((await t.visitor().get(`/webinars/${w.slug}/recording`)).status).toBe(303);

    const page = await learner.get(`/webinars/${w.slug}`);
    expect(page.body).toContain('id="recording-video"');
    expect(page.body).toContain(`data-heartbeat-url="/api/v1/webinars/${w.id}/recording/heartbeat"`);
    expect(page.body).toContain('data-tracking="on"');
    expect(page.body).toContain('id="video-coverage"');
    expect(page.body).toContain('Watch most of the recording to earn the certificate');
    expect(page.body).toContain('/public/js/video-tracking.js');
    // Opening the player makes the learner's attendance row, so heartbeats only ever update it.
    expect(await ds.getRepository('WebinarAttendance').findOneBy({ webinarId: w.id, userId: learner.userId })).toMatchObject({ coveredSeconds: 0, creditedAt: null });
    expect(page.body).not.toContain(`action="/webinars/${w.slug}/register"`);

    const range = await learner.get(`/webinars/${w.slug}/recording`, { range: 'bytes=0-99' });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe('bytes 0-99/4096');
    expect((await learner.get(`/webinars/${none.slug}/recording`)).status).toBe(404);

    const mine = await learner.get('/my-webinars');
    expect(mine.body).toContain(`href="/webinars/${w.slug}"`);
    expect(mine.body).toContain('You did not join it live.');
    expect(mine.body).toContain('0% complete');
  });
});
