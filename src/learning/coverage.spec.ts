import { addInterval, ALLOWANCE_CAP_SECONDS, coveredSeconds, MAX_PLAYBACK_RATE, recordHeartbeat, uncovered, type Allowance, type Interval } from './coverage';

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
