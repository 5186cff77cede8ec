import { describe, expect, it } from 'vitest';
import { BACKOFF_JITTER, BACKOFF_MAX_MS, GIVE_UP_MS, Reconnector, RejoinToken, backoffDelay, jittered, type ReconnectorOptions } from './reconnect';

describe('backoff schedule', () => {
  it('starts at 0.5 s, doubles and stays at 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffDelay(n))).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000]);
  });

  it('treats odd attempt numbers as the first', () => {
    expect(backoffDelay(-1)).toBe(500);
    expect(backoffDelay(Number.NaN)).toBe(500);
    expect(backoffDelay(Number.POSITIVE_INFINITY)).toBe(500);
    expect(backoffDelay(2.7)).toBe(2000);
  });

  it('takes other bounds', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, 100, 250))).toEqual([100, 200, 250, 250]);
  });

  it('only ever lengthens a delay, by at most the jitter share', () => {
    expect(jittered(1000, () => 0)).toBe(1000);
    expect(jittered(1000, () => 0.5)).toBe(1000 * (1 + BACKOFF_JITTER / 2));
    expect(jittered(1000, () => 0.999999)).toBeLessThanOrEqual(1000 * (1 + BACKOFF_JITTER));
    expect(jittered(1000, () => 7)).toBe(1000 * (1 + BACKOFF_JITTER));
    expect(jittered(1000, () => -3)).toBe(1000);
  });
});

describe('rejoin token', () => {
  it('keeps the newest token and ignores absent ones', () => {
    let now = 0;
    const t = new RejoinToken(() => now);
    expect(t.get()).toBeNull();
    t.update('first');
    t.update(undefined);
    expect(t.get()).toBe('first');
    now = 1000;
    t.update('second');
    t.update('');
    expect(t.get()).toBe('second');
    expect(t.present).toBe(true);
  });

  it('forgets a token once it is too old to work, counted from the last refresh', () => {
    let now = 0;
    const t = new RejoinToken(() => now, 300_000);
    t.update('a');
    now = 200_000;
    t.update('b');
    now = 499_999;
    expect(t.get()).toBe('b');
    now = 500_000;
    expect(t.get()).toBeNull();
    expect(t.present).toBe(false);
  });

  it('is cleared on demand', () => {
    const t = new RejoinToken();
    t.update('a');
    t.clear();
    expect(t.get()).toBeNull();
  });

  it('is not written anywhere but memory', () => {
    // The class has no storage dependency: a token must never reach localStorage.
    const t = new RejoinToken();
    t.update('secret-token');
    expect(JSON.stringify(t)).not.toContain('secret-token');
  });
});

/** A hand-driven clock and timer queue. */
class FakeTime {
  now = 0;
  timers: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  setTimer = (fn: () => void, ms: number): number => {
    const id = ++this.#id;
    this.timers.push({ at: this.now + ms, fn, id });
    return id;
  };
  clearTimer = (h: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== h);
  };
  /** The delay of the single pending timer. */
  pending(): number | null {
    if (this.timers.length === 0) return null;
    expect(this.timers).toHaveLength(1);
    return (this.timers[0]?.at ?? 0) - this.now;
  }
  /** Runs the next timer (advancing the clock to it) and lets promises settle. */
  async fire(): Promise<void> {
    this.timers.sort((a, b) => a.at - b.at);
    const t = this.timers.shift();
    if (!t) throw new Error('no timer');
    this.now = t.at;
    t.fn();
    await flush();
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function setup(results: boolean[], extra: Partial<ReconnectorOptions> = {}) {
  const time = new FakeTime();
  const calls: number[] = [];
  let gaveUp = 0;
  const r = new Reconnector({
    attempt: async () => {
      calls.push(time.now);
      const next = results.shift();
      if (next === undefined) throw new Error('unexpected attempt');
      return next;
    },
    onGiveUp: () => gaveUp++,
    now: () => time.now,
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
    random: () => 0,
    ...extra,
  });
  return { r, time, calls, gaveUp: () => gaveUp };
}

describe('reconnector', () => {
  it('retries on the backoff schedule while no connection can be made', async () => {
    const { r, time, calls } = setup([false, false, false, false, false, true]);
    r.retry();
    const delays: (number | null)[] = [];
    for (let i = 0; i < 6; i++) {
      delays.push(time.pending());
      await time.fire();
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect(calls).toEqual([500, 1500, 3500, 7500, 12500, 17500]);
    // The join went out: it waits for the session's verdict.
    expect(r.state).toBe('idle');
    expect(time.pending()).toBeNull();
    expect(r.attempts).toBe(6);
  });

  it('an attempt that throws counts as failed', async () => {
    const { r, time, calls } = setup([]);
    r.retry();
    await time.fire(); // attempt throws ("unexpected attempt")
    expect(calls).toHaveLength(1);
    expect(time.pending()).toBe(1000);
  });

  it('continues the schedule when the new connection fails after the join went out', async () => {
    const { r, time } = setup([true, true]);
    r.retry();
    await time.fire();
    expect(r.state).toBe('idle');
    r.retry(); // e.g. the join was refused with rate_limited, or the socket dropped again
    expect(time.pending()).toBe(1000);
    await time.fire();
    r.success();
    expect(r.attempts).toBe(0);
    r.retry(); // a later drop starts from the beginning
    expect(time.pending()).toBe(500);
  });

  it('ignores a second retry while one is already scheduled', () => {
    const { r, time } = setup([]);
    r.retry();
    r.retry();
    expect(time.timers).toHaveLength(1);
  });

  it('wake() tries at once', async () => {
    const { r, time, calls } = setup([false, true]);
    r.retry();
    await time.fire();
    expect(time.pending()).toBe(1000);
    time.now += 10;
    r.wake();
    await flush();
    expect(calls).toEqual([500, 510]);
    expect(time.pending()).toBeNull();
    r.wake(); // not waiting: nothing happens
    expect(calls).toHaveLength(2);
  });

  it('gives up after GIVE_UP_MS and calls onGiveUp once', async () => {
    const results = Array.from({ length: 100 }, () => false);
    const { r, time, gaveUp, calls } = setup(results);
    r.retry();
    while (r.state !== 'stopped') await time.fire();
    expect(gaveUp()).toBe(1);
    expect(time.now).toBeGreaterThanOrEqual(GIVE_UP_MS);
    expect(time.now).toBeLessThan(GIVE_UP_MS + BACKOFF_MAX_MS * (1 + BACKOFF_JITTER) + 1);
    const n = calls.length;
    r.retry();
    expect(time.pending()).toBeNull();
    expect(calls).toHaveLength(n);
  });

  it('stop() cancels the pending attempt and ignores a late answer', async () => {
    let release: (v: boolean) => void = () => undefined;
    const time = new FakeTime();
    let gaveUp = 0;
    const r = new Reconnector({
      attempt: () => new Promise<boolean>((res) => (release = res)),
      onGiveUp: () => gaveUp++,
      now: () => time.now,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      random: () => 0,
    });
    r.retry();
    await time.fire();
    expect(r.state).toBe('trying');
    r.stop();
    release(false);
    await flush();
    expect(r.state).toBe('stopped');
    expect(time.pending()).toBeNull();
    expect(gaveUp).toBe(0);
  });

  it('jitter spreads the delays', () => {
    const { r, time } = setup([], { random: () => 0.5 });
    r.retry();
    expect(time.pending()).toBe(500 * (1 + BACKOFF_JITTER / 2));
  });
});
