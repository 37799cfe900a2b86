import { InProcessDriver } from './in-process.driver';

const options = { delayMs: 0, attempts: 1, backoffMs: 0, rerunFinished: false };

describe('in-process job runner', () => {
  it('closes as soon as its running jobs finish, though more are queued behind them', async () => {
    const driver = new InProcessDriver();
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await driver.consume(async (_name, data) => {
      started.push((data as { key: string }).key);
      await gate;
    }, 1);
    for (const key of ['running', 'queued-1', 'queued-2']) await driver.add('test', { key }, { ...options, jobId: key });
    expect(started).toEqual(['running']);

    const closed = driver.close(60_000).then(() => 'closed');
    setTimeout(release, 50);
    // The deadline is the outcome's, not a timing: a runner that waited for the queued jobs would wait out the full minute.
    const outcome = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))]);
    expect(outcome).toBe('closed');
    expect(started).toEqual(['running']);
  });

  it('closes at once when nothing is running', async () => {
    const driver = new InProcessDriver();
    await driver.add('test', {}, { ...options, jobId: 'never-consumed' });
    const outcome = await Promise.race([driver.close(60_000).then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))]);
    expect(outcome).toBe('closed');
  });
});
