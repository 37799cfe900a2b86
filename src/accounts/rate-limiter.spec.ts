import { Clock } from '../common/clock';
import { TooManyRequests } from '../common/errors';
import { RateLimiter } from './rate-limiter';

describe('RateLimiter (in-process counters)', () => {
  const limiter = (clock = new Clock()) => new RateLimiter({ client: null, key: (...p: unknown[]) => p.join(':') } as never, clock);

  it('allows the limit, then refuses with the time left in the window', async () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) await l.hit('k', 3, 60);
    const error = await l.hit('k', 3, 60).catch((e) => e);
    expect(error).toBeInstanceOf(TooManyRequests);
    expect(error.retryAfterSeconds).toBeGreaterThan(50);
    await expect(l.hit('other', 3, 60)).resolves.toBeUndefined();
  });

  it('starts a new window once the old one is over', async () => {
    const clock = new Clock();
    const l = limiter(clock);
    await l.hit('w', 1, 60);
    await expect(l.hit('w', 1, 60)).rejects.toBeInstanceOf(TooManyRequests);
    clock.travel(59_000);
    await expect(l.hit('w', 1, 60)).rejects.toBeInstanceOf(TooManyRequests);
    clock.travel(2_000);
    await expect(l.hit('w', 1, 60)).resolves.toBeUndefined();
  });
});

describe('RateLimiter refunds (in-process counters)', () => {
  const limiter = (clock = new Clock()) => new RateLimiter({ client: null, key: (...p: unknown[]) => p.join(':') } as never, clock);

  it('gives back one attempt, so a budget of failures is not spent by successes', async () => {
    const l = limiter();
    for (let i = 0; i < 5; i++) {
      await l.hit('f', 2, 60);
      await l.refund('f');
    }
    await l.hit('f', 2, 60);
    await l.hit('f', 2, 60);
    await expect(l.hit('f', 2, 60)).rejects.toBeInstanceOf(TooManyRequests);
  });

  it('never refunds below zero or into an unknown key', async () => {
    const l = limiter();
    await l.refund('nothing');
    await l.refund('nothing');
    await l.hit('nothing', 1, 60);
    await expect(l.hit('nothing', 1, 60)).rejects.toBeInstanceOf(TooManyRequests);
  });
});
