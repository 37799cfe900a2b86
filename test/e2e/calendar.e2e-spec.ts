import ICAL from 'ical.js';
import { DataSource, In } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import type { CurrentUser } from '../../src/accounts/identity';
import { Clock } from '../../src/common/clock';
import { londonFields } from '../../src/common/london-time';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { MailService } from '../../src/mail/mail.service';
import { Webinar, WebinarRegistration } from '../../src/webinars/entities';
import type { WebinarDetailsDto } from '../../src/webinars/webinars.dto';
import { WebinarsService } from '../../src/webinars/webinars.service';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { startSmtpServer, type ReceivedMail } from '../support/smtp';
import { waitFor } from '../support/wait';
import { saveWebinar } from '../support/webinars';

/*
 * Calendars as Outlook and Google read them (RFC 5546, iTIP): the MIME shape of invitation e-mails, the
 * SEQUENCE and DTSTAMP of every calendar object a learner receives, no REQUEST for a place a learner does not
 * hold, and PUBLISH for the public file. Every .ics is read back with ical.js; the MIME is walked from the raw
 * bytes the SMTP server received, so the structure is the one mail clients see.
 */

type Learner = Visitor & { userId: number; email: string; password: string; api: Visitor };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const REMINDERS = [1440, 60];

// ---- A small MIME reader (RFC 2045/2046), enough to see where each part sits ------------------------------

interface MimePart {
  type: string;
  params: Record<string, string>;
  disposition: string | null;
  filename: string | null;
  children: MimePart[];
  body: Buffer;
}

function headerParams(value: string): { value: string; params: Record<string, string> } {
  const [first, ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const match of (';' + rest.join(';')).matchAll(/;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g)) params[match[1].toLowerCase()] = match[2].trim().replace(/^"(.*)"$/, '$1');
  return { value: first.trim().toLowerCase(), params };
}

function decodeBody(body: string, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(soft.charCodeAt(i));
    }
    return Buffer.from(bytes);
  }
  return Buffer.from(body, 'latin1');
}

function parseMime(raw: string): MimePart {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const contentType = headerParams(headers.get('content-type') ?? 'text/plain');
  const disposition = headers.has('content-disposition') ? headerParams(headers.get('content-disposition')!) : null;
  const part: MimePart = {
    type: contentType.value,
    params: contentType.params,
    disposition: disposition?.value ?? null,
    filename: disposition?.params.filename ?? contentType.params.name ?? null,
    children: [],
    body: Buffer.alloc(0),
  };
  if (part.type.startsWith('multipart/')) {
    const boundary = contentType.params.boundary;
    const sections = body.split(`--${boundary}`);
    // Before the first boundary is the preamble; after the closing `--boundary--` the epilogue.
    for (const section of sections.slice(1)) {
      if (section.startsWith('--')) break;
      part.children.push(parseMime(section.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
    }
  } else {
    part.body = decodeBody(body, (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase());
  }
  return part;
}

const flatten = (part: MimePart): MimePart[] => [part, ...part.children.flatMap(flatten)];

/** Where the calendar sits in a received e-mail: the text/calendar alternative(s) and the .ics attachment(s). */
function calendarParts(mail: ReceivedMail) {
  const root = parseMime(mail.raw.toString('latin1'));
  const parts = flatten(root);
  const alternatives = parts.filter((p) => p.type === 'multipart/alternative');
  const inline = alternatives.flatMap((a) => a.children.filter((p) => p.type === 'text/calendar'));
  const attached = parts.filter((p) => p.disposition === 'attachment' && /\.ics$/i.test(p.filename ?? ''));
  const any = parts.filter((p) => p.type === 'text/calendar' || p.type === 'application/ics' || /\.ics$/i.test(p.filename ?? ''));
  return { root, alternatives, inline, attached, any };
}

/** The parts of an .ics that matter, read back by ical.js (an independent RFC 5545 parser). */
function readCalendar(ics: string) {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  const vevents = calendar.getAllSubcomponents('vevent');
  expect(vevents).toHaveLength(1);
  const event = new ICAL.Event(vevents[0]);
  const organizer = vevents[0].getFirstProperty('organizer');
  return {
    method: String(calendar.getFirstPropertyValue('method')),
    uid: event.uid,
    sequence: event.sequence,
    stamp: (vevents[0].getFirstPropertyValue('dtstamp') as InstanceType<typeof ICAL.Time>).toJSDate().toISOString(),
    start: event.startDate.toJSDate().toISOString(),
    status: String(vevents[0].getFirstPropertyValue('status')),
    attendees: event.attendees.map((a) => String(a.getFirstValue())),
    organizer: organizer ? String(organizer.getFirstValue()) : null,
  };
}

/**
 * The one calendar object of an e-mail, checked for shape on the way: inside multipart/alternative as
 * `text/calendar; method=…` (what Outlook and Gmail act on) and attached as an .ics file, the same bytes, the
 * METHOD property matching the Content-Type's method.
 */
function invitationIn(mail: ReceivedMail) {
  const { root, alternatives, inline, attached } = calendarParts(mail);
  expect(root.type).toBe('multipart/mixed');
  expect(alternatives).toHaveLength(1);
  expect(alternatives[0].children.map((p) => p.type)).toEqual(['text/plain', 'text/html', 'text/calendar']);
  expect(inline).toHaveLength(1);
  expect(attached).toHaveLength(1);
  expect(root.children).toContain(attached[0]); // the attachment is beside the alternative, not inside it
  expect(inline[0].disposition).not.toBe('attachment');
  const text = inline[0].body.toString('utf8');
  expect(attached[0].body.toString('utf8')).toBe(text);
  expect(inline[0].params.charset?.toLowerCase()).toBe('utf-8');
  const calendar = readCalendar(text);
  expect(inline[0].params.method).toBe(calendar.method);
  return { ...calendar, text };
}

/** DTSTAMP is written to the second: the moment, truncated, must lie between these two readings of the clock. */
function expectStampBetween(stamp: string, before: Date, after: Date) {
  const at = new Date(stamp).getTime();
  expect(at).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 1000) * 1000);
  expect(at).toBeLessThanOrEqual(after.getTime());
}

describe('calendars (RFC 5546)', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ds: DataSource;
  let clock: Clock;
  let webinars: WebinarsService;
  let authorUser: CurrentUser;
  let authorId: number;
  let n = 0;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ SMTP_URL: smtp.url, WEBINAR_REMINDER_MINUTES: '1440,60' });
    ds = t.app.get(DataSource);
    clock = t.app.get(Clock);
    webinars = t.app.get(WebinarsService);
    const author = await t.signedIn('author', { name: 'Dr Grace Hopper' });
    authorId = author.userId;
    authorUser = (await t.app.get(AccountsService).currentUser(author.userId))!;
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  async function webinar(fields: Partial<Webinar> = {}): Promise<Webinar> {
    const startsAt = new Date(Math.floor((clock.now().getTime() + 10 * DAY) / MINUTE) * MINUTE);
    return saveWebinar(t, { title: `Calendars in practice ${++n}`, startsAt, authorId, ...fields });
  }

  async function learner(name: string): Promise<Learner> {
    const signed = await t.signedIn('learner', { name });
    return Object.assign(signed, { api: await t.apiClient(signed.email, signed.password) });
  }

  function detailsOf(w: Webinar, startsAt: Date): WebinarDetailsDto {
    const { date, time } = londonFields(startsAt);
    return {
      title: w.title,
      summary: w.summary,
      description: w.description,
      presenters: w.presenters,
      date,
      time,
      durationMinutes: w.durationMinutes,
      capacity: w.capacity,
      joinUrl: w.joinUrl ?? undefined,
      cpdHours: String(w.cpdMinutes / 60),
      minAttendanceMinutes: w.minAttendanceMinutes,
    };
  }

  const mailsTo = (email: string, subject?: string) => smtp.received.filter((m) => JSON.stringify(m.to).includes(email) && (!subject || m.subject?.startsWith(subject)));
  async function delivered(emails: string[]) {
    await t.drainJobs();
    await waitFor(async () => (await ds.getRepository(MailMessage).countBy({ toAddress: In(emails), status: 'pending' })) === 0, 15000);
  }
  const register = (who: Learner, w: Webinar) => who.api.request('POST', `/api/v1/webinars/${w.id}/registrations`);
  const leave = (who: Learner, w: Webinar) => who.api.request('DELETE', `/api/v1/webinars/${w.id}/registrations/me`);
  const registrationOf = (who: Learner, w: Webinar) => ds.getRepository(WebinarRegistration).findOneByOrFail({ webinarId: w.id, userId: who.userId });

  /** Runs `act` with the clock moved on by `ms`, and returns the clock's readings around it. */
  async function later<T>(ms: number, act: () => Promise<T>): Promise<{ before: Date; after: Date; result: T }> {
    clock.travel(ms);
    const before = clock.now();
    const result = await act();
    return { before, after: clock.now(), result };
  }

  it('puts the invitation in multipart/alternative as text/calendar; method=REQUEST and attaches the same .ics; CANCEL alike', async () => {
    const w = await webinar();
    const ada = await learner('Ada Alternative');
    expect((await register(ada, w)).status).toBe(201);
    await delivered([ada.email]);
    const [invitation] = mailsTo(ada.email, 'You have a place');
    const request = invitationIn(invitation);
    expect(request).toMatchObject({ method: 'REQUEST', status: 'CONFIRMED', attendees: [`mailto:${ada.email}`], organizer: expect.stringMatching(/^mailto:/) });
    const { attached, inline } = calendarParts(invitation);
    expect(attached[0].filename).toBe('webinar.ics');
    expect(inline[0].params.method).toBe('REQUEST');
    // mailparser (what many mail clients are built like) sees the invitation too.
    expect(invitation.attachments.some((a) => a.contentType === 'text/calendar')).toBe(true);

    expect((await leave(ada, w)).status).toBe(200);
    await delivered([ada.email]);
    const [cancellation] = mailsTo(ada.email, 'Place cancelled');
    const cancel = invitationIn(cancellation);
    expect(cancel).toMatchObject({ method: 'CANCEL', status: 'CANCELLED', uid: request.uid });
    expect(calendarParts(cancellation).inline[0].params.method).toBe('CANCEL');

  });

  it('keeps the calendar composed with the message: a delivery retried later sends the same bytes, DTSTAMP the composing time', async () => {
    const w = await webinar();
    const bea = await learner('Bea Retry');
    smtp.refuse(true);
    let composed: { before: Date; after: Date };
    try {
      composed = await later(HOUR, () => register(bea, w));
      const row = () => ds.getRepository(MailMessage).findOneByOrFail({ toAddress: bea.email, template: 'webinar-invitation' });
      await waitFor(async () => (await row()).lastError !== null, 15000);
      expect((await row()).status).toBe('pending');
    } finally {
      smtp.refuse(false);
    }
    // Delivered three hours on: the invitation is still the one made at registering.
    clock.travel(3 * HOUR);
    const pending = await ds.getRepository(MailMessage).findOneByOrFail({ toAddress: bea.email, template: 'webinar-invitation' });
    await t.app.get(MailService).deliver(pending.id);
    await waitFor(async () => (await ds.getRepository(MailMessage).findOneByOrFail({ id: pending.id })).status === 'sent', 15000);
    await delivered([bea.email]);
    const mails = mailsTo(bea.email, 'You have a place');
    expect(mails).toHaveLength(1);
    const invitation = invitationIn(mails[0]);
    expectStampBetween(invitation.stamp, composed.before, composed.after);
    expect(new Date(invitation.stamp).getTime()).toBeLessThan(clock.now().getTime() - 2 * HOUR);
    // The stored message holds the calendar's bytes, which is what makes the retry send the same ones.
    expect(pending.payload).toContain(JSON.stringify(invitation.text).slice(1, -1));
  });

  it('raises SEQUENCE on every change to a learner’s event (cancel, re-register, time change, webinar cancelled), one UID, DTSTAMP when each message was made', async () => {
    const w = await webinar({ capacity: 5 });
    const cal = await learner('Cal Sequence');
    const steps: Array<{ what: string; subject: string; method: string; before: Date; after: Date }> = [];
    const step = async (what: string, subject: string, method: string, act: () => Promise<unknown>) => {
      const { before, after } = await later(2 * HOUR, act);
      await delivered([cal.email]);
      steps.push({ what, subject, method, before, after });
    };

    await step('registers', 'You have a place', 'REQUEST', () => register(cal, w));
    await step('cancels', 'Place cancelled', 'CANCEL', () => leave(cal, w));
    await step('registers again', 'You have a place', 'REQUEST', () => register(cal, w));
    const newStart = new Date(w.startsAt.getTime() + DAY);
    await step('the time changes', 'Changed:', 'REQUEST', () => webinars.update(authorUser, w.id, detailsOf(w, newStart), REMINDERS));
    await step('the webinar is cancelled', 'Cancelled:', 'CANCEL', () => webinars.cancel(authorUser, w.id, 'The presenter is unwell'));

    const received = new Map<string, ReceivedMail[]>();
    const calendars = steps.map(({ what, subject, method, before, after }) => {
      const mails = received.get(subject) ?? mailsTo(cal.email, subject);
      received.set(subject, mails);
      const mail = mails.shift();
      expect([what, mail?.subject?.startsWith(subject)]).toEqual([what, true]);
      const calendar = invitationIn(mail!);
      expect([what, calendar.method]).toEqual([what, method]);
      expectStampBetween(calendar.stamp, before, after);
      return calendar;
    });
    const registration = await registrationOf(cal, w);
    expect(new Set(calendars.map((c) => c.uid))).toEqual(new Set([`webinar-${w.id}-registration-${registration.id}@academy.test`]));
    const sequences = calendars.map((c) => c.sequence);
    for (let i = 1; i < sequences.length; i++) expect([steps[i].what, sequences[i] > sequences[i - 1]]).toEqual([steps[i].what, true]);
    expect(calendars[3].start).toBe(newStart.toISOString());
  });

  it('gives the learner’s own download the current SEQUENCE of their event, DTSTAMP the moment it was made', async () => {
    const w = await webinar();
    const dot = await learner('Dot Download');
    await register(dot, w);
    await leave(dot, w);
    await register(dot, w);
    await delivered([dot.email]);
    const lastMail = invitationIn(mailsTo(dot.email, 'You have a place').at(-1)!);
    const { before, after, result } = await later(5 * HOUR, () => dot.get(`/webinars/${w.slug}/calendar.ics`));
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('text/calendar; charset=utf-8; method=REQUEST');
    const download = readCalendar(result.body);
    expect(download).toMatchObject({ method: 'REQUEST', uid: lastMail.uid, sequence: lastMail.sequence, attendees: [`mailto:${dot.email}`] });
    expect(download.sequence).toBeGreaterThan(0);
    expectStampBetween(download.stamp, before, after);
  });

  it('sends no REQUEST for a place a waitlisted learner does not hold, says they are waitlisted, and invites them when promoted', async () => {
    const w = await webinar({ capacity: 1 });
    const [ann, ben, cat] = [await learner('Ann Holder'), await learner('Ben Waiting'), await learner('Cat Waiting')];
    for (const who of [ann, ben, cat]) expect((await register(who, w)).status).toBe(201);
    expect((await registrationOf(ben, w)).status).toBe('waitlisted');
    await delivered([ann.email, ben.email, cat.email]);
    const [benWaitlisted] = mailsTo(ben.email, 'You are on the waitlist');
    expect(calendarParts(benWaitlisted).any).toHaveLength(0);

    // The page says where they stand instead of offering an invitation; the file it would fetch is no REQUEST.
    const page = await ben.get(`/webinars/${w.slug}`);
    expect(page.body).toContain('You are number 1 on the waitlist');
    expect(page.body).not.toContain('>Add to calendar');
    expect(page.body).toMatch(/on the waitlist, so there is no invitation for your calendar yet/);
    const benFile = await ben.get(`/webinars/${w.slug}/calendar.ics`);
    expect(benFile.headers['content-type']).toBe('text/calendar; charset=utf-8; method=PUBLISH');
    expect(readCalendar(benFile.body)).toMatchObject({ method: 'PUBLISH', uid: `webinar-${w.id}@academy.test`, attendees: [] });
    expect((await ann.get(`/webinars/${w.slug}`)).body).toContain('>Add to calendar');

    // The time changes: Ann's calendar is updated; Ben and Cat are told, as waitlisted learners, with nothing to add.
    const newStart = new Date(w.startsAt.getTime() + 2 * HOUR);
    await webinars.update(authorUser, w.id, detailsOf(w, newStart), REMINDERS);
    await delivered([ann.email, ben.email, cat.email]);
    expect(invitationIn(mailsTo(ann.email, 'Changed:')[0])).toMatchObject({ method: 'REQUEST', start: newStart.toISOString() });
    for (const who of [ben, cat]) {
      const [changed] = mailsTo(who.email, 'Changed:');
      expect(calendarParts(changed).any).toHaveLength(0);
      expect(changed.raw.toString('latin1')).not.toMatch(/METHOD:REQUEST/);
      expect(changed.text).toMatch(/You are on the waitlist/);
      expect(changed.text).not.toMatch(/invitation is attached/);
      expect(changed.html).toMatch(/You are on the waitlist/);
    }

    // Ann gives up her place: Ben, first on the waitlist, now gets the REQUEST for his own registration.
    await leave(ann, w);
    await delivered([ann.email, ben.email, cat.email]);
    const promoted = invitationIn(mailsTo(ben.email, 'A place has come up')[0]);
    const benRegistration = await registrationOf(ben, w);
    expect(promoted).toMatchObject({ method: 'REQUEST', uid: `webinar-${w.id}-registration-${benRegistration.id}@academy.test`, start: newStart.toISOString(), attendees: [`mailto:${ben.email}`] });
    expect((await ben.get(`/webinars/${w.slug}`)).body).toContain('>Add to calendar');

    // Cat leaves the waitlist: she held no place, so there is nothing to cancel in her calendar.
    await leave(cat, w);
    await delivered([cat.email]);
    const [catLeft] = mailsTo(cat.email, 'Left the waitlist');
    expect(calendarParts(catLeft).any).toHaveLength(0);
    expect(catLeft.text).toMatch(/You have left the waitlist/);

    // Every e-mail Cat ever had, as a waitlisted learner, is free of calendar objects.
    for (const mail of mailsTo(cat.email)) expect(calendarParts(mail).any).toHaveLength(0);
  });

  it('tells waitlisted learners of a cancelled webinar without a calendar object; registrants get the CANCEL', async () => {
    const w = await webinar({ capacity: 1 });
    const [eve, fay] = [await learner('Eve Holder'), await learner('Fay Waiting')];
    for (const who of [eve, fay]) await register(who, w);
    await webinars.cancel(authorUser, w.id, 'Room flooded');
    await delivered([eve.email, fay.email]);
    expect(invitationIn(mailsTo(eve.email, 'Cancelled:')[0])).toMatchObject({ method: 'CANCEL', status: 'CANCELLED' });
    const [fayMail] = mailsTo(fay.email, 'Cancelled:');
    expect(calendarParts(fayMail).any).toHaveLength(0);
    expect(fayMail.text).toContain('Room flooded');
    expect(fayMail.text).toMatch(/You were on the waitlist/);
    expect(fayMail.text).not.toMatch(/attached cancellation/);
  });

  it('answers METHOD:PUBLISH for anyone without a place: anonymous, signed in but not registered, after cancelling', async () => {
    const w = await webinar();
    const [gil, hal] = [await learner('Gil Browsing'), await learner('Hal Cancelled')];
    await register(hal, w);
    await leave(hal, w);
    for (const [who, visitor] of [['anonymous', t.visitor()], ['not registered', gil], ['cancelled', hal]] as const) {
      const { before, after, result } = await later(MINUTE, () => visitor.get(`/webinars/${w.slug}/calendar.ics`));
      expect([who, result.status, result.headers['content-type']]).toEqual([who, 200, 'text/calendar; charset=utf-8; method=PUBLISH']);
      const file = readCalendar(result.body);
      expect([who, file]).toEqual([who, expect.objectContaining({ method: 'PUBLISH', uid: `webinar-${w.id}@academy.test`, status: 'CONFIRMED', attendees: [], sequence: 0 })]);
      expect(result.body).not.toMatch(/^ATTENDEE/m);
      expect(result.body).not.toMatch(/RSVP/);
      expectStampBetween(file.stamp, before, after);
    }
    const hals = await registrationOf(hal, w);
    expect((await t.visitor().get(`/webinars/${w.slug}/calendar.ics`)).body).not.toContain(`registration-${hals.id}`);

    // A cancelled webinar's public file is still PUBLISH, marked CANCELLED.
    await webinars.cancel(authorUser, w.id, 'Moved online elsewhere');
    const gone = await t.visitor().get(`/webinars/${w.slug}/calendar.ics`);
    expect(gone.headers['content-type']).toBe('text/calendar; charset=utf-8; method=PUBLISH');
    expect(readCalendar(gone.body)).toMatchObject({ method: 'PUBLISH', status: 'CANCELLED', uid: `webinar-${w.id}@academy.test`, sequence: 1 });
  });
});
