import ICAL from 'ical.js';
import { CALENDAR_CONTENT_TYPE, calendarFile, type CalendarEvent } from './calendar';

// Every file is read back with ical.js, an independent RFC 5545 parser, rather than by matching our own strings.

const PRODUCT = 'Peer Academy';
const DESCRIPTION = [
  'Agenda: intro, demo; questions.',
  'Paths like C:\\NHS\\share and a literal \\n stay as typed.',
  '“Quoted” café talk — naïve résumé 🎉🚀👩‍⚕️ ✓',
  'Long line: ' + 'é🎉, ;\\'.repeat(40),
].join('\n');

const base: CalendarEvent = {
  uid: 'webinar-12-registration-34@academy.example',
  sequence: 0,
  method: 'REQUEST',
  start: new Date('2026-06-10T13:00:00Z'), // 14:00 in London (BST)
  end: new Date('2026-06-10T14:30:00Z'),
  stamp: new Date('2026-05-01T09:15:42.123Z'),
  summary: 'FHIR, HL7; and “interop” \\ basics — café 🎉',
  description: DESCRIPTION,
  url: 'https://academy.example/webinars/12?ref=ics,cal;x',
  location: 'Online – join from https://academy.example/webinars/12',
  organizer: { name: 'Peer Academy', email: 'webinars@academy.example' },
  attendee: { name: 'Zoë "Zed" O’Neil, RN; MSc', email: 'zoe@example.org' },
};

function parse(ics: string) {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  const vevents = calendar.getAllSubcomponents('vevent');
  expect(vevents).toHaveLength(1);
  return { calendar, vevent: vevents[0], event: new ICAL.Event(vevents[0]) };
}

const london = (date: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' }).format(date);

describe('calendarFile', () => {
  it('writes a REQUEST that ical.js reads back field for field', () => {
    const ics = calendarFile(base, PRODUCT);
    const { calendar, vevent, event } = parse(ics);

    expect(calendar.getFirstPropertyValue('version')).toBe('2.0');
    expect(calendar.getFirstPropertyValue('prodid')).toBe('-//Peer Academy//Webinars//EN');
    expect(calendar.getFirstPropertyValue('calscale')).toBe('GREGORIAN');
    expect(calendar.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(event.uid).toBe(base.uid);
    expect(event.sequence).toBe(0);
    expect(event.summary).toBe(base.summary);
    expect(event.description).toBe(DESCRIPTION);
    expect(event.location).toBe(base.location);
    expect(vevent.getFirstPropertyValue('url')).toBe(base.url);
    expect(vevent.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(vevent.getFirstPropertyValue('transp')).toBe('OPAQUE');

    const organizer = vevent.getFirstProperty('organizer')!;
    expect(organizer.getFirstValue()).toBe('mailto:webinars@academy.example');
    expect(organizer.getParameter('cn')).toBe('Peer Academy');

    const attendees = event.attendees;
    expect(attendees).toHaveLength(1);
    expect(attendees[0].getFirstValue()).toBe('mailto:zoe@example.org');
    expect(attendees[0].getParameter('cn')).toBe('Zoë Zed O’Neil, RN; MSc');
    expect(attendees[0].getParameter('role')).toBe('REQ-PARTICIPANT');
    expect(attendees[0].getParameter('partstat')).toBe('NEEDS-ACTION');
    expect(attendees[0].getParameter('rsvp')).toBe('FALSE');

    const alarms = vevent.getAllSubcomponents('valarm');
    expect(alarms).toHaveLength(1);
    expect(alarms[0].getFirstPropertyValue('action')).toBe('DISPLAY');
    expect(String(alarms[0].getFirstPropertyValue('trigger'))).toBe('-PT15M');
    expect(alarms[0].getFirstPropertyValue('description')).toBe(base.summary);

    // TEXT is escaped, the URI is not.
    expect(ics).toContain('SUMMARY:FHIR\\, HL7\\; and “interop” \\\\ basics');
    expect(ics).toContain('URL:https://academy.example/webinars/12?ref=ics,cal;x\r\n');
    expect(ics).toContain('ORGANIZER;CN="Peer Academy":mailto:webinars@academy.example\r\n');
    expect(ics.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n')).toBe(true);
    expect(ics.endsWith('END:VEVENT\r\nEND:VCALENDAR\r\n')).toBe(true);
  });

  it.each([
    ['summer (BST, UTC+1)', '2026-06-10T13:00:00Z', '2026-06-10T14:30:00Z', 'DTSTART:20260610T130000Z', '14:00'],
    ['winter (GMT)', '2026-12-01T14:00:00Z', '2026-12-01T15:00:00Z', 'DTSTART:20261201T140000Z', '14:00'],
  ])('writes start and end as exact UTC instants in %s', (_season, start, end, line, londonTime) => {
    const ics = calendarFile({ ...base, start: new Date(start), end: new Date(end) }, PRODUCT);
    const { vevent, event } = parse(ics);

    expect(ics).toContain(`${line}\r\n`);
    expect(event.startDate.zone?.tzid).toBe('UTC');
    expect(event.endDate.zone?.tzid).toBe('UTC');
    expect(event.startDate.toJSDate().toISOString()).toBe(new Date(start).toISOString());
    expect(event.endDate.toJSDate().toISOString()).toBe(new Date(end).toISOString());
    expect(london(event.startDate.toJSDate())).toBe(londonTime);
    const stamp = vevent.getFirstPropertyValue('dtstamp') as InstanceType<typeof ICAL.Time>;
    expect(stamp.toJSDate().toISOString()).toBe('2026-05-01T09:15:42.000Z');
  });

  it('folds at 75 octets with CRLF, never inside a UTF-8 character', () => {
    const ics = calendarFile(base, PRODUCT);
    const bytes = Buffer.from(ics, 'utf8');
    expect(bytes.subarray(-2).toString()).toBe('\r\n');

    const lines = ics.slice(0, -2).split('\r\n');
    expect(lines.some((line) => line.startsWith(' '))).toBe(true); // the long description was folded
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let offset = 0;
    for (const line of lines) {
      expect(line).not.toMatch(/[\r\n]/);
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
      // Decoding each physical line on its own fails if a fold split a multi-byte sequence.
      const length = Buffer.byteLength(line);
      expect(decoder.decode(bytes.subarray(offset, offset + length))).toBe(line);
      expect(bytes.subarray(offset + length, offset + length + 2).toString()).toBe('\r\n');
      offset += length + 2;
    }
    expect(offset).toBe(bytes.length);
  });

  it('writes a CANCEL as CANCELLED, without an alarm', () => {
    const ics = calendarFile({ ...base, method: 'CANCEL', sequence: 2 }, PRODUCT);
    const { calendar, vevent, event } = parse(ics);

    expect(calendar.getFirstPropertyValue('method')).toBe('CANCEL');
    expect(vevent.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(vevent.getAllSubcomponents('valarm')).toHaveLength(0);
    expect(ics).not.toContain('VALARM');
    expect(event.uid).toBe(base.uid);
    expect(event.sequence).toBe(2);
  });

  it('writes a PUBLISH as CONFIRMED with an alarm, and leaves out the attendee when there is none', () => {
    const ics = calendarFile({ ...base, method: 'PUBLISH', attendee: undefined }, PRODUCT);
    const { calendar, vevent, event } = parse(ics);

    expect(calendar.getFirstPropertyValue('method')).toBe('PUBLISH');
    expect(vevent.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(vevent.getAllSubcomponents('valarm')).toHaveLength(1);
    expect(event.attendees).toHaveLength(0);
    expect(ics).not.toContain('ATTENDEE');
    expect(ics).not.toContain('zoe@example.org');
  });

  it('never invites anyone in a PUBLISH, and marks a cancelled listing CANCELLED without an alarm', () => {
    const listing = calendarFile({ ...base, method: 'PUBLISH' }, PRODUCT); // an attendee given by mistake is left out
    expect(parse(listing).event.attendees).toHaveLength(0);
    expect(listing).not.toContain('zoe@example.org');
    expect(parse(listing).vevent.getFirstProperty('organizer')!.getFirstValue()).toBe('mailto:webinars@academy.example');

    const cancelled = calendarFile({ ...base, method: 'PUBLISH', attendee: undefined, cancelled: true, sequence: 1 }, PRODUCT);
    const { calendar, vevent, event } = parse(cancelled);
    expect(calendar.getFirstPropertyValue('method')).toBe('PUBLISH');
    expect(vevent.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(vevent.getAllSubcomponents('valarm')).toHaveLength(0);
    expect(event.sequence).toBe(1);
  });

  it('refuses a REQUEST or CANCEL without its attendee (iTIP addresses them to one)', () => {
    expect(() => calendarFile({ ...base, attendee: undefined }, PRODUCT)).toThrow(TypeError);
    expect(() => calendarFile({ ...base, method: 'CANCEL', attendee: undefined }, PRODUCT)).toThrow(TypeError);
  });

  it('writes a higher SEQUENCE as given, with the same UID', () => {
    const first = parse(calendarFile(base, PRODUCT)).event;
    const moved = parse(calendarFile({ ...base, sequence: 3, start: new Date('2026-06-11T13:00:00Z'), end: new Date('2026-06-11T14:00:00Z') }, PRODUCT)).event;
    expect(moved.uid).toBe(first.uid);
    expect(moved.sequence).toBe(3);
    expect(moved.sequence).toBeGreaterThan(first.sequence);
    expect(() => calendarFile({ ...base, sequence: -1 }, PRODUCT)).toThrow(RangeError);
    expect(() => calendarFile({ ...base, sequence: 1.5 }, PRODUCT)).toThrow(RangeError);
  });

  it('cannot be made to inject lines through the product name, names or addresses', () => {
    const ics = calendarFile(
      {
        ...base,
        summary: 'Line one\r\nMETHOD:PUBLISH',
        url: 'https://academy.example/w/12\r\nSTATUS:CANCELLED',
        organizer: { name: 'Org"\r\nX-EVIL:1', email: 'org@academy.example' },
      },
      'Acme // Evil, Inc.\r\nMETHOD:PUBLISH',
    );
    const { calendar, vevent, event } = parse(ics);
    expect(calendar.getAllProperties('method')).toHaveLength(1);
    expect(calendar.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(calendar.getFirstPropertyValue('prodid')).toBe('-//Acme Evil, Inc. METHOD:PUBLISH//Webinars//EN');
    expect(vevent.getAllProperties('status')).toHaveLength(1);
    expect(vevent.getAllProperties('x-evil')).toHaveLength(0);
    expect(event.summary).toBe('Line one\nMETHOD:PUBLISH');
  });
});

describe('CALENDAR_CONTENT_TYPE', () => {
  it('names the method', () => {
    expect(CALENDAR_CONTENT_TYPE('REQUEST')).toBe('text/calendar; charset=utf-8; method=REQUEST');
    expect(CALENDAR_CONTENT_TYPE('CANCEL')).toBe('text/calendar; charset=utf-8; method=CANCEL');
    expect(CALENDAR_CONTENT_TYPE('PUBLISH')).toBe('text/calendar; charset=utf-8; method=PUBLISH');
  });
});
