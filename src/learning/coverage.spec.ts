import { ValidationFailed } from '../common/errors';
import {
  addInterval,
  ALLOWANCE_CAP_SECONDS,
  applyHeartbeat,
  checkInterval,
  coveragePercent,
  coveredSeconds,
  MAX_PLAYBACK_RATE,
  MAX_SPAN_SECONDS,
  recordHeartbeat,
  resumePosition,
  uncovered,
  type Allowance,
  type Interval,
  type WatchState,
} from './coverage';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);
const fresh: Allowance = { seconds: 0, at: null };

describe('video coverage', () => {
  it('merges overlapping and touching intervals and keeps them sorted', () => {
    let intervals: Interval[] = [];
    for (const i of [[20, 30], [0, 10], [10, 15], [25, 40], [50, 60]] as Interval[]) intervals = addInterval(intervals, i);
    expect(intervals).toEqual([[0, 15], [20, 40], [50, 60]]);
    expect(coveredSeconds(intervals)).toBe(45);
    expect(addInterval(intervals, [5, 55])).toEqual([[0, 60]]);
    expect(uncovered(intervals, [10, 55])).toEqual([[15, 20], [40, 50]]);
  });

  it('counts a replayed minute once', () => {
    let result = recordHeartbeat([], [0, 10], fresh, at(0));
    for (let t = 1; t <= 5; t++) result = recordHeartbeat(result.intervals, [0, 10], result.allowance, at(10 * t));
    expect(result.seconds).toBe(10);
  });

  it('credits an honest viewer in full, heartbeat after heartbeat', () => {
    let result = recordHeartbeat([], [0, 10], fresh, at(10));
    for (let t = 1; t < 30; t++) result = recordHeartbeat(result.intervals, [10 * t, 10 * t + 10], result.allowance, at(10 * t + 10));
    expect(result.seconds).toBe(300);
  });

  it('credits no more than real time allows: 16x playback is cut to the maximum rate', () => {
    let result = recordHeartbeat([], [0, 10], fresh, at(0));
    for (let t = 1; t <= 6; t++) result = recordHeartbeat(result.intervals, [10 + 160 * (t - 1), 10 + 160 * t], result.allowance, at(10 * t));
    // One minute of real time: at most 2x of it, plus what the allowance held at the start.
    expect(result.seconds).toBeLessThanOrEqual(60 * MAX_PLAYBACK_RATE + ALLOWANCE_CAP_SECONDS);
    expect(result.seconds).toBeGreaterThanOrEqual(60 * MAX_PLAYBACK_RATE);
  });

  it('gives a first heartbeat a bounded allowance, not the whole video', () => {
    expect(recordHeartbeat([], [0, 60], fresh, at(0)).seconds).toBe(ALLOWANCE_CAP_SECONDS);
  });

  it('lets heartbeats sent at the same instant share the allowance, each second counted once', () => {
    let result = recordHeartbeat([], [0, 10], fresh, at(0));
    result = recordHeartbeat(result.intervals, [10, 20], result.allowance, at(0));
    result = recordHeartbeat(result.intervals, [0, 10], result.allowance, at(0));
    expect(result.seconds).toBe(20);
    expect(result.allowance.seconds).toBe(ALLOWANCE_CAP_SECONDS - 20);
  });
});

describe('checkInterval', () => {
  const refused = (from: number, to: number, duration: number) => {
    try {
      checkInterval(from, to, duration);
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationFailed);
      return (err as ValidationFailed).message;
    }
    throw new Error(`[${from}, ${to}) of ${duration} seconds was accepted`);
  };

  it('accepts a sensible stretch, including one ending up to a second past the end', () => {
    expect(() => checkInterval(0, 10, 73)).not.toThrow();
    expect(() => checkInterval(63, 73.9, 73)).not.toThrow();
    expect(() => checkInterval(10, 10 + MAX_SPAN_SECONDS, 600)).not.toThrow();
  });

  it('refuses what no player could have played, each with a clear message', () => {
    expect(refused(Number.NaN, 10, 73)).toBe('from and to must be numbers of seconds');
    expect(refused(0, Number.POSITIVE_INFINITY, 73)).toBe('from and to must be numbers of seconds');
    expect(refused(-5, 5, 73)).toBe('from must not be negative');
    expect(refused(20, 10, 73)).toBe('to must be greater than from');
    expect(refused(10, 10, 73)).toBe('to must be greater than from');
    expect(refused(0, MAX_SPAN_SECONDS + 0.5, 600)).toBe(`A heartbeat covers at most ${MAX_SPAN_SECONDS} seconds of video`);
    expect(refused(73, 80, 73)).toBe('from is past the end of the video (73 seconds long)');
    expect(refused(60, 75, 73)).toBe('to is past the end of the video (73 seconds long)');
    expect(refused(0, 10, 0)).toContain('past the end');
  });
});

describe('applyHeartbeat', () => {
  /** A webinar recording's viewing row, say: any object with the watch state's fields will do. */
  interface RecordingView extends WatchState {
    recordingId: number;
    credited: boolean;
  }
  const newView = (): RecordingView => ({ recordingId: 7, credited: false, watchedIntervals: null, coveredSeconds: 0, positionSeconds: 0, watchAllowanceMs: 0, heartbeatAt: null });

  it('updates any stored watch state in place, not only a lesson progress row', () => {
    const view = newView();
    expect(applyHeartbeat(view, { from: 0, to: 10.5 }, 200, at(10))).toEqual({ coveredSeconds: 10.5, coveredPercent: 5 });
    expect(view).toEqual({
      recordingId: 7,
      credited: false,
      watchedIntervals: '[[0,10.5]]',
      coveredSeconds: 10,
      positionSeconds: 10,
      watchAllowanceMs: (ALLOWANCE_CAP_SECONDS - 10.5) * 1000,
      heartbeatAt: at(10),
    });
  });

  it('refuses a bad claim and leaves the state untouched', () => {
    const view = newView();
    applyHeartbeat(view, { from: 0, to: 10 }, 73, at(10));
    const before = { ...view };
    for (const [from, to] of [[20, 10], [-5, 5], [0, 1e9], [70, 120], [Number.NaN, 5]]) {
      expect(() => applyHeartbeat(view, { from, to }, 73, at(20))).toThrow(ValidationFailed);
    }
    expect(view).toEqual(before);
  });

  it('clips the position and the coverage to the end of the video', () => {
    const view = newView();
    const result = applyHeartbeat(view, { from: 65, to: 73.8 }, 73, at(10));
    expect(view.positionSeconds).toBe(73);
    expect(view.watchedIntervals).toBe('[[65,73]]');
    expect(result).toEqual({ coveredSeconds: 8, coveredPercent: 10 });
  });

  it('carries the allowance from one call to the next', () => {
    const view = newView();
    // The first heartbeat spends the whole allowance; the next, at the same instant, gets nothing new.
    expect(applyHeartbeat(view, { from: 0, to: 60 }, 600, at(0)).coveredSeconds).toBe(ALLOWANCE_CAP_SECONDS);
    expect(view.watchAllowanceMs).toBe(0);
    expect(applyHeartbeat(view, { from: 60, to: 70 }, 600, at(0)).coveredSeconds).toBe(ALLOWANCE_CAP_SECONDS);
    expect(view.positionSeconds).toBe(70);
    // Five seconds later, ten more seconds may be credited (at MAX_PLAYBACK_RATE), and no more.
    expect(applyHeartbeat(view, { from: 60, to: 120 }, 600, at(5)).coveredSeconds).toBe(ALLOWANCE_CAP_SECONDS + 5 * MAX_PLAYBACK_RATE);
    expect(view.watchAllowanceMs).toBe(0);
    expect(view.heartbeatAt).toEqual(at(5));
  });

  it('credits an honest viewer to the end, heartbeat after heartbeat, and answers 100%', () => {
    const view = newView();
    let result = { coveredSeconds: 0, coveredPercent: 0 };
    for (let t = 0; t < 30; t++) result = applyHeartbeat(view, { from: 10 * t, to: 10 * t + 10 }, 300, at(10 * t + 10));
    expect(result).toEqual({ coveredSeconds: 300, coveredPercent: 100 });
    expect(view.coveredSeconds).toBe(300);
    expect(coveragePercent(view, 300)).toBe(100);
  });
});

describe('what a page shows on load', () => {
  it('coveragePercent counts the stored intervals, in whole percent, never over 100', () => {
    expect(coveragePercent({ watchedIntervals: null }, 73)).toBe(0);
    expect(coveragePercent({ watchedIntervals: '[[0,10.5],[20,30]]' }, 200)).toBe(10);
    expect(coveragePercent({ watchedIntervals: '[[0,80]]' }, 73)).toBe(100);
    expect(coveragePercent({ watchedIntervals: '[[0,10]]' }, 0)).toBe(0);
  });

  it('coveragePercent agrees with what the last heartbeat answered', () => {
    const view: WatchState = { watchedIntervals: null, coveredSeconds: 0, positionSeconds: 0, watchAllowanceMs: 0, heartbeatAt: null };
    const answered = applyHeartbeat(view, { from: 3.3, to: 17.9 }, 91, at(20));
    expect(coveragePercent(view, 91)).toBe(answered.coveredPercent);
  });

  it('resumePosition starts where the viewer stopped, or at the beginning near the end or with no state', () => {
    expect(resumePosition(undefined, 73)).toBe(0);
    expect(resumePosition(null, 73)).toBe(0);
    expect(resumePosition({ positionSeconds: 0 }, 73)).toBe(0);
    expect(resumePosition({ positionSeconds: 30 }, 73)).toBe(30);
    expect(resumePosition({ positionSeconds: 70 }, 73)).toBe(70);
    expect(resumePosition({ positionSeconds: 71 }, 73)).toBe(0);
    expect(resumePosition({ positionSeconds: 73 }, 73)).toBe(0);
  });
});
