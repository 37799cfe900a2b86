import { Injectable } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service';
import { londonDateTime } from '../common/london-time';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { MailService } from '../mail/mail.service';
import { CALENDAR_CONTENT_TYPE, calendarFile, type CalendarMethod } from './calendar';
import type { Webinar, WebinarRegistration } from './entities';
import { endsAt } from './webinar-phase';

/** The e-mails of a registration; those that change the learner's calendar carry an .ics invitation or cancellation. */
export type WebinarMailKind = 'invitation' | 'promoted' | 'waitlisted' | 'updated' | 'cancelled' | 'left' | 'reminder' | 'recording';

const CALENDAR_METHOD: Partial<Record<WebinarMailKind, CalendarMethod>> = { invitation: 'REQUEST', promoted: 'REQUEST', updated: 'REQUEST', cancelled: 'CANCEL', left: 'CANCEL' };

type Registration = Pick<WebinarRegistration, 'id' | 'userId' | 'queuedAt' | 'cancelledAt'>;

export interface WebinarMail {
  kind: WebinarMailKind;
  /** What makes this message unique for its registration (e.g. the sequence of an update), so it goes once. */
  occasion: string | number;
  extra?: Record<string, unknown>;
}

/**
 * Sends the e-mails of webinar registrations. Each is keyed by (kind, registration, occasion) in the
 * outbox, so a retried job, a second worker or a restart never sends one twice.
 */
@Injectable()
export class WebinarMailer {
  constructor(
    private readonly mail: MailService,
    private readonly accounts: AccountsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async send(webinar: Webinar, registrations: Registration[], message: WebinarMail | ((r: Registration) => WebinarMail)): Promise<void> {
    if (!registrations.length) return;
    const contacts = await this.accounts.contactsOf([...new Set(registrations.map((r) => r.userId))]);
    const mails = registrations.flatMap((registration) => {
      const contact = contacts.get(registration.userId);
      if (!contact) return [];
      const { kind, occasion, extra } = typeof message === 'function' ? message(registration) : message;
      const method = CALENDAR_METHOD[kind];
      return [
        {
          to: contact.email,
          template: `webinar-${kind}`,
          dedupeKey: `webinar-${kind}:${registration.id}:${occasion}`,
          data: { name: contact.name, ...this.facts(webinar), ...extra },
          ...(method && { attachments: [{ filename: 'webinar.ics', contentType: CALENDAR_CONTENT_TYPE(method), content: this.calendar(webinar, method, { registrationId: registration.id, attendee: contact }) }] }),
        },
      ];
    });
    await this.mail.sendMany(mails);
  }

  /** The .ics of a webinar: per registration (stable UID) when there is one, else for the webinar itself. */
  calendar(webinar: Webinar, method: CalendarMethod, who?: { registrationId: number; attendee: { name: string; email: string } }): string {
    const host = new URL(this.config.publicUrl).hostname;
    const page = `${this.config.publicUrl}/webinars/${webinar.slug}`;
    return calendarFile(
      {
        uid: who ? `webinar-${webinar.id}-registration-${who.registrationId}@${host}` : `webinar-${webinar.id}@${host}`,
        sequence: webinar.sequence,
        method,
        start: webinar.startsAt,
        end: endsAt(webinar),
        stamp: webinar.updatedAt,
        summary: webinar.title,
        description: `${webinar.summary}\n\nJoin from the webinar page, from 15 minutes before the start: ${page}`,
        url: page,
        location: `Online – join from ${page}`,
        organizer: { name: this.config.academyName, email: fromAddress(this.config.mail.from) },
        ...(who && { attendee: who.attendee }),
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
