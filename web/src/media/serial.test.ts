import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial';

/** A promise with its resolve/reject exposed. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('serial queue', () => {
  it('runs jobs one at a time, in the order pushed', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const first = deferred();
    q.push(async () => {
      log.push('1 start');
      await first.promise;
      log.push('1 end');
    });
    q.push(async () => {
      log.push('2');
    });
    await Promise.resolve();
    expect(log).toEqual(['1 start']);
    expect(q.busy).toBe(true);
    expect(q.pending).toBe(1);
    first.resolve();
    await q.idle();
    expect(log).toEqual(['1 start', '1 end', '2']);
    expect(q.busy).toBe(false);
  });

  it('reports a failing job and goes on with the next', async () => {
    const errors: unknown[] = [];
    const q = new SerialQueue((e) => errors.push(e));
    const log: number[] = [];
    q.push(async () => {
      throw new Error('boom');
    });
    q.push(async () => {
      log.push(2);
    });
    await q.idle();
    expect(log).toEqual([2]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('drops waiting jobs on close and accepts no more', async () => {
    const errors: unknown[] = [];
    const q = new SerialQueue((e) => errors.push(e));
    const gate = deferred();
    const log: number[] = [];
    q.push(async () => {
      await gate.promise;
      throw new Error('after close');
    });
    q.push(async () => {
      log.push(2);
    });
    q.close();
    q.push(async () => {
      log.push(3);
    });
    gate.resolve();
    await q.idle();
    expect(log).toEqual([]);
    expect(errors).toEqual([]); // errors after close are nobody's business
  });

  it('is idle at once when empty', async () => {
    await expect(new SerialQueue().idle()).resolves.toBeUndefined();
  });
});
