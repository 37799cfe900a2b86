/**
 * Honest video coverage: which seconds of a video a learner has really watched.
 *
 * The player reports what it played as intervals [from, to) in seconds. Coverage is the union of the
 * intervals, so replaying a minute counts once and seeking to the end counts nothing. New coverage is
 * also paid for from a time allowance (a token bucket) that fills at MAX_PLAYBACK_RATE seconds of video
 * per second of real time, up to ALLOWANCE_CAP_SECONDS: a player at 16x, or a script, is credited with
 * what a person could have watched. Concurrent heartbeats draw from the same allowance in turn, so
 * together they are credited exactly what they cover, once.
 *
 * The same rules serve every watchable thing: `applyHeartbeat` applies one heartbeat to a stored WatchState
 * (a video lesson's progress row, a webinar recording's viewing row), and `coveragePercent` and
 * `resumePosition` are what a page shows for that state when it loads.
 */
import { ValidationFailed } from '../common/errors';

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

/** The watch state a heartbeat updates, as stored on a lesson's progress row or a webinar recording's viewing row. */
export interface WatchState {
  /** The covered intervals as JSON ([[from, to], …], seconds); null before the first heartbeat. */
  watchedIntervals: string | null;
  /** Whole seconds covered (the intervals' total, rounded down), kept for queries and reports. */
  coveredSeconds: number;
  /** Where the last heartbeat ended, whole seconds: where the player resumes. */
  positionSeconds: number;
  /** The allowance left after the last heartbeat, in milliseconds. */
  watchAllowanceMs: number;
  /** When the last heartbeat was applied; null before the first. */
  heartbeatAt: Date | null;
}

/** The bad heartbeats: each a clear 400 (ValidationFailed), to be refused before anything is written. */
export function checkInterval(from: number, to: number, durationSeconds: number): void {
  const problem = (message: string) => new ValidationFailed({ from: message }, message);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw problem('from and to must be numbers of seconds');
  if (from < 0) throw problem('from must not be negative');
  if (to <= from) throw problem('to must be greater than from');
  if (to - from > MAX_SPAN_SECONDS) throw problem(`A heartbeat covers at most ${MAX_SPAN_SECONDS} seconds of video`);
  if (from >= durationSeconds) throw problem(`from is past the end of the video (${durationSeconds} seconds long)`);
  if (to > durationSeconds + 1) throw problem(`to is past the end of the video (${durationSeconds} seconds long)`);
}

/**
 * One heartbeat of a player: the viewer watched [from, to) seconds of a video `durationSeconds` long.
 * Validates the claim (checkInterval: a ValidationFailed, and `state` untouched, if it is bad), then merges
 * what the allowance pays for into the state, in place, and moves the resume position to where the claim
 * ended (never past the end). The caller stores the state, under whatever lock keeps heartbeats in turn.
 */
export function applyHeartbeat(state: WatchState, claim: { from: number; to: number }, durationSeconds: number, now: Date): { coveredSeconds: number; coveredPercent: number } {
  checkInterval(claim.from, claim.to, durationSeconds);
  const to = Math.min(claim.to, durationSeconds);
  const allowance: Allowance = { seconds: state.watchAllowanceMs / 1000, at: state.heartbeatAt };
  const coverage = recordHeartbeat(parseIntervals(state.watchedIntervals), [claim.from, to], allowance, now);
  state.watchedIntervals = JSON.stringify(coverage.intervals);
  state.coveredSeconds = Math.floor(coverage.seconds);
  state.positionSeconds = Math.floor(to);
  state.watchAllowanceMs = Math.floor(coverage.allowance.seconds * 1000);
  state.heartbeatAt = now;
  return { coveredSeconds: coverage.seconds, coveredPercent: percentOf(coverage.seconds, durationSeconds) };
}

/**
 * The covered share of the video, in whole percent, as a page shows it on load. Counted from the intervals
 * themselves, as the heartbeat's answer counts it, so the bar does not jump when the page is reloaded.
 */
export function coveragePercent(state: { watchedIntervals: string | null }, durationSeconds: number): number {
  return percentOf(coveredSeconds(parseIntervals(state.watchedIntervals)), durationSeconds);
}

/** Where the player should start: where the viewer stopped, unless that is (within 2 seconds of) the end. */
export function resumePosition(state: { positionSeconds: number } | undefined | null, durationSeconds: number): number {
  return state && state.positionSeconds < durationSeconds - 2 ? state.positionSeconds : 0;
}

const percentOf = (seconds: number, durationSeconds: number) => (durationSeconds > 0 ? Math.min(100, Math.floor((seconds / durationSeconds) * 100)) : 0);
