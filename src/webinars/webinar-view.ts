import type { CurrentUser } from '../accounts/identity';
import { londonDateTime } from '../common/london-time';
import type { Webinar } from './entities';
import { joinOpensAt, joinWindowOpen } from './webinar-phase';
import type { WebinarCard } from './webinars.service';

/** A webinar as the API and the page describe it (no author id, no join link: that is for registrants in the window). */
/** `card` is the webinar's card (see WebinarsService.cards): its phase, end, places and CPD are taken from it. */
export function webinarDetail(webinar: Webinar, card: WebinarCard) {
  return {
    id: webinar.id,
    slug: webinar.slug,
    title: webinar.title,
    summary: webinar.summary,
    description: webinar.description,
    presenters: presentersOf(webinar),
    topic: card.topic ? { slug: card.topic.slug, name: card.topic.name } : null,
    startsAt: webinar.startsAt.toISOString(),
    endsAt: card.endsAt.toISOString(),
    startsAtLondon: londonDateTime(webinar.startsAt),
    timeZone: 'Europe/London',
    durationMinutes: webinar.durationMinutes,
    status: card.phase,
    capacity: webinar.capacity,
    placesLeft: card.placesLeft,
    cpdHours: card.cpdHours,
    minAttendanceMinutes: webinar.minAttendanceMinutes,
    joinOpensAt: joinOpensAt(webinar).toISOString(),
    recording: webinar.recordingKey ? { kind: 'video' as const, durationSeconds: webinar.recordingSeconds } : webinar.recordingUrl ? { kind: 'link' as const, url: webinar.recordingUrl } : null,
    cancelReason: webinar.status === 'cancelled' ? webinar.cancelReason : null,
    calendarUrl: `/webinars/${webinar.slug}/calendar.ics`,
  };
}

export const presentersOf = (webinar: Pick<Webinar, 'presenters'>) =>
  webinar.presenters
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

/** The join link, for a registered learner while the window is open; null otherwise. */
export const joinLinkFor = (webinar: Webinar, registered: boolean, now: Date, viewer: CurrentUser | null) =>
  viewer && registered && joinWindowOpen(webinar, now) ? `/webinars/${webinar.slug}/join` : null;
