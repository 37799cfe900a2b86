/**
 * iCalendar (RFC 5545) invitations for webinar registrations, written by hand: one VEVENT, no dependency.
 *
 * Times are written as UTC date-times (`…Z`) rather than with a VTIMEZONE: RFC 5545 allows them, every
 * client converts them to the viewer's own zone (Europe/London included, across BST), and there is no
 * time-zone definition to get wrong. Updates keep the UID and carry a higher SEQUENCE (RFC 5546), so
 * calendars replace the event instead of adding a second one; CANCEL with the same UID removes it.
 */

export type CalendarMethod = 'REQUEST' | 'CANCEL' | 'PUBLISH';

export interface CalendarPerson {
  name: string;
  email: string;
}

export interface CalendarEvent {
  /** Stable per registration, e.g. `webinar-12-registration-34@academy.example` */
  uid: string;
  /** Bumped on every change of time (RFC 5546): updates carry a higher SEQUENCE. */
  sequence: number;
  method: CalendarMethod;
  /** Written in UTC: DTSTART:20261201T140000Z */
  start: Date;
  end: Date;
  stamp: Date;
  summary: string;
  /** Plain text: newlines, commas, semicolons and backslashes are escaped here. */
  description: string;
  /** The webinar page. */
  url: string;
  /** E.g. "Online – join from <url>" */
  location: string;
  organizer: CalendarPerson;
  /** The registrant, for a REQUEST or CANCEL sent to them. */
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
  const cancelled = event.method === 'CANCEL';
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
    ...(event.attendee ? [person('ATTENDEE', event.attendee, ';ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE')] : []),
    `STATUS:${cancelled ? 'CANCELLED' : 'CONFIRMED'}`,
    'TRANSP:OPAQUE',
    ...(cancelled ? [] : ['BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT15M', `DESCRIPTION:${text(event.summary)}`, 'END:VALARM']),
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(fold).join('\r\n') + '\r\n';
}
