import { Injectable } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service';
import { Clock } from '../common/clock';
import { londonDateTime } from '../common/london-time';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { MailService } from '../mail/mail.service';
import { calendarFile, type CalendarEvent, type CalendarMethod, type CalendarPerson } from './calendar';
import type { Webinar, WebinarRegistration } from './entities';
import { endsAt } from './webinar-phase';

/** The e-mails of a registration; those that change the learner's calendar carry an iTIP invitation or cancellation. */
export type WebinarMailKind = 'invitation' | 'promoted' | 'waitlisted' | 'updated' | 'cancelled' | 'left' | 'reminder' | 'recording';

/** The iTIP method of each kind, for a learner who holds (or, for a CANCEL, held) a place. */
const CALENDAR_METHOD: Partial<Record<WebinarMailKind, Exclude<CalendarMethod, 'PUBLISH'>>> = { invitation: 'REQUEST', promoted: 'REQUEST', updated: 'REQUEST', cancelled: 'CANCEL', left: 'CANCEL' };

type Registration = Pick<WebinarRegistration, 'id' | 'userId' | 'status' | 'sequence' | 'queuedAt' | 'cancelledAt'>;

export interface WebinarMail {
  kind: WebinarMailKind;
  /** What makes this message unique for its registration (e.g. the sequence of an update), so it goes once. */
  occasion: string | number;
  extra?: Record<string, unknown>;
  /**
   * Whether the learner holds a place (for `left`: held one until now). Only they have the event in their
   * calendar: a waitlisted learner gets no REQUEST for a place they do not hold, nor a CANCEL for one they
   * never had, and the e-mail says they are (or were) on the waitlist. By default, whether the registration
   * is `registered`.
   */
  holdsPlace?: boolean;
}

/**
 * The SEQUENCE of a registration's calendar event (its UID is the registration's): the webinar's sequence
 * (raised by each change registrants are told of) plus the registration's own (raised by the learner's own
 * cancelling, registering again and promotion). Both only grow, so the sum does, across cancel and
 * re-register too.
 */
export const registrationSequence = (webinar: Pick<Webinar, 'sequence'>, registration: Pick<WebinarRegistration, 'sequence'>) => webinar.sequence + registration.sequence;

const FILENAME = 'webinar.ics';

/**
 * Sends the e-mails of webinar registrations. Each is keyed by (kind, registration, occasion) in the
 * outbox, so a retried job, a second worker or a restart never sends one twice.
 */
@Injectable()
export class WebinarMailer {
  constructor(
    private readonly mail: MailService,
    private readonly accounts: AccountsService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async send(webinar: Webinar, registrations: Registration[], message: WebinarMail | ((r: Registration) => WebinarMail)): Promise<void> {
    if (!registrations.length) return;
    const contacts = await this.accounts.contactsOf([...new Set(registrations.map((r) => r.userId))]);
    const mails = registrations.flatMap((registration) => {
      const contact = contacts.get(registration.userId);
      if (!contact) return [];
      const { kind, occasion, extra, holdsPlace = registration.status === 'registered' } = typeof message === 'function' ? message(registration) : message;
      const method = holdsPlace ? CALENDAR_METHOD[kind] : undefined;
      return [
        {
          to: contact.email,
          template: `webinar-${kind}`,
          dedupeKey: `webinar-${kind}:${registration.id}:${occasion}`,
          data: { name: contact.name, ...this.facts(webinar), waitlisted: !holdsPlace, ...extra },
          ...(method && { calendar: { method, filename: FILENAME, content: this.registrantCalendar(webinar, registration, contact, method) } }),
        },
      ];
    });
    await this.mail.sendMany(mails);
  }

  /**
   * A registrant's own copy of the event (RFC 5546): their registration's UID and SEQUENCE, them as the
   * ATTENDEE, DTSTAMP now. For the e-mails, and for the page's "Add to calendar" while they hold a place.
   */
  registrantCalendar(webinar: Webinar, registration: Pick<WebinarRegistration, 'id' | 'sequence'>, attendee: CalendarPerson, method: 'REQUEST' | 'CANCEL'): string {
    const host = new URL(this.config.publicUrl).hostname;
    return this.file(webinar, { uid: `webinar-${webinar.id}-registration-${registration.id}@${host}`, sequence: registrationSequence(webinar, registration), method, attendee });
  }

  /**
   * The webinar as a public listing (METHOD:PUBLISH), for anyone without a place: a UID of the webinar's own
   * (no registration's), its sequence, no ATTENDEE; STATUS:CANCELLED once it is cancelled.
   */
  publicCalendar(webinar: Webinar): string {
    const host = new URL(this.config.publicUrl).hostname;
    return this.file(webinar, { uid: `webinar-${webinar.id}@${host}`, sequence: webinar.sequence, method: 'PUBLISH', cancelled: webinar.status === 'cancelled' });
  }

  private file(webinar: Webinar, who: Pick<CalendarEvent, 'uid' | 'sequence' | 'method' | 'attendee' | 'cancelled'>): string {
    const page = `${this.config.publicUrl}/webinars/${webinar.slug}`;
    return calendarFile(
      {
        ...who,
        start: webinar.startsAt,
        end: endsAt(webinar),
        // When this object is made: for an e-mail, when it is composed (the stored bytes are what a retry sends).
        stamp: this.clock.now(),
        summary: webinar.title,
        description: `${webinar.summary}\n\nJoin from the webinar page, from 15 minutes before the start: ${page}`,
        url: page,
        location: `Online – join from ${page}`,
        organizer: { name: this.config.academyName, email: fromAddress(this.config.mail.from) },
      },
      this.config.academyName,
    );
  }

  private facts(webinar: Webinar) {
    return {
      webinarTitle: webinar.title,
      startsAt: londonDateTime(webinar.startsAt),
      durationMinutes: webinar.durationMinutes,
      webinarUrl: `${this.config.publicUrl}/webinars/${webinar.slug}`,
      myWebinarsUrl: `${this.config.publicUrl}/my-webinars`,
      cancelReason: webinar.cancelReason,
    };
  }
}

/** "Peer Academy <no-reply@x>" → "no-reply@x" */
const fromAddress = (from: string) => /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
