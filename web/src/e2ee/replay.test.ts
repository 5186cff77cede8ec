import { describe, expect, it } from 'vitest';
import { REPLAY_WINDOW, ReplayWindow } from './replay';

describe('replay window', () => {
  it('accepts each counter once, in any order within the window', () => {
    const w = new ReplayWindow();
    for (const c of [100n, 103n, 101n, 105n, 102n]) expect(w.accept(c)).toBe(true);
    for (const c of [100n, 101n, 102n, 103n, 105n]) {
      expect(w.check(c)).toBe(false);
      expect(w.accept(c)).toBe(false);
    }
    expect(w.accept(104n)).toBe(true); // skipped over, still welcome
  });

  it('refuses what fell out of the window, and forgets nothing a jump passed over', () => {
    const w = new ReplayWindow();
    const W = BigInt(REPLAY_WINDOW);
    expect(w.accept(10n)).toBe(true);
    expect(w.accept(10n + W)).toBe(true); // 10 is now exactly one window behind
    expect(w.accept(10n)).toBe(false);
    expect(w.accept(11n)).toBe(true); // within the window, never seen
    // a slot reused by the jump starts clear: counters passed over are new
    expect(w.accept(11n + W)).toBe(true);
    expect(w.accept(12n + W + 5n)).toBe(true);
    expect(w.accept(12n + W)).toBe(true);
    // a jump of more than a window clears everything, and the old ones are too old
    expect(w.accept(100n * W)).toBe(true);
    expect(w.accept(12n + W)).toBe(false);
    expect(w.accept(100n * W - 1n)).toBe(true);
    expect(w.accept(100n * W - 1n)).toBe(false);
  });

  it('works at the top of the 64-bit counter space', () => {
    const w = new ReplayWindow();
    const top = (1n << 64n) - 1n;
    expect(w.accept(top - 1n)).toBe(true);
    expect(w.accept(top)).toBe(true);
    expect(w.accept(top - 1n)).toBe(false);
  });
});
