import { FreshCoalescer } from './fresh-coalescer';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('FreshCoalescer', () => {
  it('runs alone at once, and forgets the key when done', async () => {
    const coalescer = new FreshCoalescer<number>();
    await expect(coalescer.run('a', async () => 1)).resolves.toBe(1);
    expect(coalescer.size).toBe(0);
    await expect(coalescer.run('a', async () => 2)).resolves.toBe(2);
  });

  it('gives asks made while a computation runs the next one, shared, never the running one', async () => {
    const coalescer = new FreshCoalescer<string>();
    const first = deferred<string>();
    const second = deferred<string>();
    const computations = [first, second];
    let started = 0;
    const compute = () => computations[started++].promise;
    const a = coalescer.run('k', compute);
    const b = coalescer.run('k', compute);
    const c = coalescer.run('k', compute);
    expect(started).toBe(1);
    first.resolve('before');
    await expect(a).resolves.toBe('before');
    await Promise.resolve();
    expect(started).toBe(2);
    second.resolve('after');
    await expect(b).resolves.toBe('after');
    await expect(c).resolves.toBe('after');
    expect(coalescer.size).toBe(0);
  });

  it('keeps keys apart, and passes a failure to those who shared it only', async () => {
    const coalescer = new FreshCoalescer<number>();
    const failing = deferred<number>();
    const a = coalescer.run('x', () => failing.promise);
    const other = coalescer.run('y', async () => 7);
    const b = coalescer.run('x', async () => 3);
    failing.reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(other).resolves.toBe(7);
    await expect(b).resolves.toBe(3);
    const thrown = coalescer.run('z', () => {
      throw new Error('sync');
    });
    const after = coalescer.run('z', async () => 1);
    await expect(thrown).rejects.toThrow('sync');
    await expect(after).resolves.toBe(1);
  });
});
