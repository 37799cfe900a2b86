/**
 * Honest video coverage: which seconds of a video a learner has really watched.
 *
 * The player reports what it played as intervals [from, to) in seconds. Coverage is the union of the
 * intervals, so replaying a minute counts once and seeking to the end counts nothing. New coverage is
 * also paid for from a time allowance (a token bucket) that fills at MAX_PLAYBACK_RATE seconds of video
 * per second of real time, up to ALLOWANCE_CAP_SECONDS: a player at 16x, or a script, is credited with
 * what a person could have watched. Concurrent heartbeats draw from the same allowance in turn, so
 * together they are credited exactly what they cover, once.
 */
export type Interval = [number, number];

export const MAX_SPAN_SECONDS = 60;
export const MAX_PLAYBACK_RATE = 2;
export const ALLOWANCE_CAP_SECONDS = 30;

export interface Allowance {
  /** Seconds of new coverage that may still be credited. */
  seconds: number;
  /** When it was last topped up; null before the first heartbeat (the allowance starts full). */
  at: Date | null;
}

export interface HeartbeatResult {
  intervals: Interval[];
  seconds: number;
  allowance: Allowance;
}

/** Adds an interval to a sorted, disjoint list, merging what overlaps or touches. */
export function addInterval(intervals: Interval[], [from, to]: Interval): Interval[] {
  const merged: Interval[] = [];
  let current: Interval = [from, to];
  let placed = false;
  for (const [a, b] of intervals) {
    if (b < current[0]) merged.push([a, b]);
    else if (a > current[1]) {
      if (!placed) {
        merged.push(current);
        placed = true;
      }
      merged.push([a, b]);
    } else current = [Math.min(a, current[0]), Math.max(b, current[1])];
  }
  if (!placed) merged.push(current);
  return merged;
}

export const coveredSeconds = (intervals: Interval[]) => intervals.reduce((sum, [a, b]) => sum + (b - a), 0);

/** The parts of [from, to) not yet covered, in order. */
export function uncovered(intervals: Interval[], [from, to]: Interval): Interval[] {
  const gaps: Interval[] = [];
  let cursor = from;
  for (const [a, b] of intervals) {
    if (b <= cursor) continue;
    if (a >= to) break;
    if (a > cursor) gaps.push([cursor, a]);
    cursor = Math.max(cursor, b);
  }
  if (cursor < to) gaps.push([cursor, to]);
  return gaps;
}

export function toppedUp(allowance: Allowance, now: Date): number {
  if (!allowance.at) return ALLOWANCE_CAP_SECONDS;
  const elapsed = Math.max(0, (now.getTime() - allowance.at.getTime()) / 1000);
  return Math.min(ALLOWANCE_CAP_SECONDS, allowance.seconds + elapsed * MAX_PLAYBACK_RATE);
}

/** Records a heartbeat: as much of the new part of [from, to) as the allowance pays for joins the coverage. */
export function recordHeartbeat(current: Interval[], claim: Interval, allowance: Allowance, now: Date): HeartbeatResult {
  let available = toppedUp(allowance, now);
  let intervals = current;
  for (const [a, b] of uncovered(current, roundInterval(claim))) {
    if (available <= 0) break;
    const end = Math.min(b, a + available);
    intervals = addInterval(intervals, roundInterval([a, end]));
    available -= end - a;
  }
  return { intervals, seconds: coveredSeconds(intervals), allowance: { seconds: Math.max(0, available), at: now } };
}

/** Intervals are kept to the millisecond: enough for any player. */
const roundInterval = ([a, b]: Interval): Interval => [Math.round(a * 1000) / 1000, Math.round(b * 1000) / 1000];

export function parseIntervals(json: string | null): Interval[] {
  if (!json) return [];
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? (value.filter((i) => Array.isArray(i) && i.length === 2 && i[1] > i[0]) as Interval[]) : [];
}
