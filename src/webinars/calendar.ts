/**
 * iCalendar (RFC 5545) objects for webinars, written by hand: one VEVENT, no dependency, with the iTIP
 * (RFC 5546) methods Outlook and Google act on.
 *
 * Times are written as UTC date-times (`…Z`) rather than with a VTIMEZONE: RFC 5545 allows them, every
 * client converts them to the viewer's own zone (Europe/London included, across BST), and there is no
 * time-zone definition to get wrong.
 *
 * - `REQUEST` invites one attendee to their own copy of the event (a UID per registration); updates keep the
 *   UID and carry a higher SEQUENCE, so calendars replace the event instead of adding a second one.
 * - `CANCEL` with the same UID and a higher SEQUENCE removes it.
 * - `PUBLISH` is the webinar as a public listing: no ATTENDEE, nobody invited, a UID of the webinar's own.
 *
 * DTSTAMP is when the object was made (RFC 5545 §3.8.7.2: with a METHOD, when that instance of the object
 * was created), never the time of the change it describes.
 */

export type CalendarMethod = 'REQUEST' | 'CANCEL' | 'PUBLISH';

export interface CalendarPerson {
  name: string;
  email: string;
}

export interface CalendarEvent {
  /** Stable per registration for a REQUEST or CANCEL (`webinar-12-registration-34@academy.example`); the webinar's own for PUBLISH. */
  uid: string;
  /** Raised by every change to the event as this UID's holder sees it (RFC 5546 §2.1.5): never goes back. */
  sequence: number;
  method: CalendarMethod;
  /** A PUBLISH of a cancelled webinar: STATUS:CANCELLED (CANCEL always is). */
  cancelled?: boolean;
  /** Written in UTC: DTSTART:20261201T140000Z */
  start: Date;
  end: Date;
  /** DTSTAMP: when this object was made (the Clock's now when the message is composed). */
  stamp: Date;
  summary: string;
  /** Plain text: newlines, commas, semicolons and backslashes are escaped here. */
  description: string;
  /** The webinar page. */
  url: string;
  /** E.g. "Online – join from <url>" */
  location: string;
  organizer: CalendarPerson;
  /** The registrant: required for a REQUEST or CANCEL (sent to them), never written in a PUBLISH. */
  attendee?: CalendarPerson;
}

export const CALENDAR_CONTENT_TYPE = (method: CalendarMethod): string => `text/calendar; charset=utf-8; method=${method}`;

// Control characters other than HTAB are not allowed in any value (RFC 5545 §3.1).
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** TEXT value (§3.3.11): backslash, semicolon, comma and newlines escaped. */
const text = (value: string) =>
  value
    .replace(/\r\n?/g, '\n')
    .replace(/[\\;,]/g, '\\$&')
    .replace(/\n/g, '\\n')
    .replace(CONTROLS, '');

/** URI value (§3.3.13): not escaped, but it must stay on its own content line. */
const uri = (value: string) => value.replace(CONTROLS, '').replace(/ /g, '%20');

/** Quoted parameter value (§3.2): a quoted-string cannot contain DQUOTE or control characters. */
const param = (value: string) => `"${value.replace(CONTROLS, ' ').replace(/"/g, '')}"`;

/** 20261201T140000Z */
const utc = (date: Date) => date.toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, '');

/** Folds a content line at 75 octets (§3.1), never inside a UTF-8 character; continuations start with a space. */
function fold(line: string): string {
  const lines: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    if (octets + size > 75) {
      lines.push(current);
      current = ' ';
      octets = 1;
    }
    current += char;
    octets += size;
  }
  lines.push(current);
  return lines.join('\r\n');
}

const person = (role: 'ORGANIZER' | 'ATTENDEE', who: CalendarPerson, extra = '') => `${role};CN=${param(who.name)}${extra}:mailto:${uri(who.email)}`;

/** The whole .ics file, CRLF line endings, folded, ending with CRLF. */
export function calendarFile(event: CalendarEvent, productName: string): string {
  if (!Number.isInteger(event.sequence) || event.sequence < 0) throw new RangeError(`SEQUENCE must be a non-negative integer, got ${event.sequence}`);
  // iTIP: a REQUEST or CANCEL is addressed to its attendee; a PUBLISH invites nobody (RFC 5546 §3.2.1–3.2.5).
  if (event.method !== 'PUBLISH' && !event.attendee) throw new TypeError(`A ${event.method} needs its attendee`);
  const attendee = event.method === 'PUBLISH' ? undefined : event.attendee;
  const cancelled = event.method === 'CANCEL' || !!event.cancelled;
  const product = text(productName.replace(CONTROLS, ' ').replace(/[\s/]+/g, ' ').trim());
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:-//${product}//Webinars//EN`,
    'CALSCALE:GREGORIAN',
    `METHOD:${event.method}`,
    'BEGIN:VEVENT',
    `UID:${text(event.uid)}`,
    `SEQUENCE:${event.sequence}`,
    `DTSTAMP:${utc(event.stamp)}`,
    `DTSTART:${utc(event.start)}`,
    `DTEND:${utc(event.end)}`,
    `SUMMARY:${text(event.summary)}`,
    `DESCRIPTION:${text(event.description)}`,
    `URL:${uri(event.url)}`,
    `LOCATION:${text(event.location)}`,
    person('ORGANIZER', event.organizer),
    ...(attendee ? [person('ATTENDEE', attendee, ';ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE')] : []),
    `STATUS:${cancelled ? 'CANCELLED' : 'CONFIRMED'}`,
    'TRANSP:OPAQUE',
    ...(cancelled ? [] : ['BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT15M', `DESCRIPTION:${text(event.summary)}`, 'END:VALARM']),
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(fold).join('\r\n') + '\r\n';
}
