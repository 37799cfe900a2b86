import type { Webinar } from './entities';

/** Where a webinar is in its life, as learners see it: `live` and `ended` follow from the clock. */
export type WebinarPhase = 'draft' | 'scheduled' | 'live' | 'ended' | 'cancelled';

/** The join link appears this long before the start. */
export const JOIN_OPENS_MINUTES = 15;
const MINUTE_MS = 60_000;

type Timing = Pick<Webinar, 'status' | 'startsAt' | 'durationMinutes'>;

export const endsAt = (w: Pick<Webinar, 'startsAt' | 'durationMinutes'>) => new Date(w.startsAt.getTime() + w.durationMinutes * MINUTE_MS);
export const joinOpensAt = (w: Pick<Webinar, 'startsAt'>) => new Date(w.startsAt.getTime() - JOIN_OPENS_MINUTES * MINUTE_MS);

export function webinarPhase(w: Timing, now: Date): WebinarPhase {
  if (w.status !== 'scheduled') return w.status;
  if (now < w.startsAt) return 'scheduled';
  return now < endsAt(w) ? 'live' : 'ended';
}

/** Registrants may join (and ask questions) from 15 minutes before the start to the end. */
export const joinWindowOpen = (w: Timing, now: Date) => w.status === 'scheduled' && now >= joinOpensAt(w) && now < endsAt(w);

/** Minutes of a live webinar a learner attended, counted from when they first joined (or the start) to the end. */
export function liveMinutes(w: Pick<Webinar, 'startsAt' | 'durationMinutes'>, firstJoinedAt: Date | null): number {
  if (!firstJoinedAt) return 0;
  const from = Math.max(firstJoinedAt.getTime(), w.startsAt.getTime());
  return Math.max(0, Math.floor((endsAt(w).getTime() - from) / MINUTE_MS));
}
