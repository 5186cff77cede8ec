import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ViewMsg, ViewTile } from '../signaling/protocol';
import { computeView, MAX_VIEW_SIDE, MAX_VIEW_TILES, sameView, VIEW_DEBOUNCE_MS, ViewReporter, type ShownTile } from './view';

const mids: Record<string, string> = { 'a/camera': 's1', 'b/camera': 's3', 'b/screen': 's5', 'c/camera': 's10' };
const midOf = (p: string, source: string): string | null => mids[`${p}/${source}`] ?? null;

describe('computeView', () => {
  it('names each shown video by its subscribe mid, in device pixels, sorted by mid', () => {
    const shown: ShownTile[] = [
      { participant: 'c', source: 'camera', width: 320, height: 180 },
      { participant: 'b', source: 'screen', width: 960.4, height: 540.2 },
      { participant: 'a', source: 'camera', width: 160, height: 90 },
    ];
    expect(computeView(shown, midOf, 2)).toEqual([
      { mid: 's1', width: 320, height: 180 },
      { mid: 's10', width: 640, height: 360 },
      { mid: 's5', width: 1921, height: 1080 },
    ]);
  });

  it('leaves out tiles whose video is not forwarded to us (oneself, no camera yet)', () => {
    const shown: ShownTile[] = [
      { participant: 'me', source: 'camera', width: 300, height: 200 },
      { participant: 'a', source: 'screen', width: 300, height: 200 },
      { participant: 'b', source: 'camera', width: 300, height: 200 },
    ];
    expect(computeView(shown, midOf, 1)).toEqual([{ mid: 's3', width: 300, height: 200 }]);
  });

  it('keeps sizes within 0..8192 and the list within 64 entries; a bad ratio counts as 1', () => {
    expect(computeView([{ participant: 'a', source: 'camera', width: 9000, height: -5 }], midOf, 1)).toEqual([{ mid: 's1', width: MAX_VIEW_SIDE, height: 0 }]);
    expect(computeView([{ participant: 'a', source: 'camera', width: 100, height: 50 }], midOf, Number.NaN)).toEqual([{ mid: 's1', width: 100, height: 50 }]);
    const many = Array.from({ length: 100 }, (_, i): ShownTile => ({ participant: `p${i}`, source: 'camera', width: 10, height: 10 }));
    expect(computeView(many, (p) => `m${p}`, 1)).toHaveLength(MAX_VIEW_TILES);
  });

  it('reports one video shown twice once, at the larger size', () => {
    const shown: ShownTile[] = [
      { participant: 'a', source: 'camera', width: 100, height: 300 },
      { participant: 'a', source: 'camera', width: 200, height: 100 },
    ];
    expect(computeView(shown, midOf, 1)).toEqual([{ mid: 's1', width: 200, height: 300 }]);
  });

  it('compares views by content', () => {
    const v: ViewTile[] = [{ mid: 's1', width: 1, height: 2 }];
    expect(sameView(null, v)).toBe(false);
    expect(sameView([{ mid: 's1', width: 1, height: 2 }], v)).toBe(true);
    expect(sameView([{ mid: 's1', width: 1, height: 3 }], v)).toBe(false);
    expect(sameView([], v)).toBe(false);
  });
});

describe('ViewReporter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(ok = true) {
    vi.useFakeTimers();
    const sent: ViewMsg[] = [];
    let tiles: ViewTile[] = [{ mid: 's1', width: 640, height: 360 }];
    const r = new ViewReporter({
      send: (m) => {
        sent.push(m);
        return ok;
      },
      current: () => tiles,
    });
    return { r, sent, set: (t: ViewTile[]) => (tiles = t) };
  }

  it('sends nothing before the first subscribe answer', async () => {
    const { r, sent } = setup();
    r.changed();
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS * 2);
    expect(sent).toEqual([]);
    r.now();
    expect(sent).toHaveLength(1);
  });

  it('debounces changes and sends only what differs from the last view', async () => {
    const { r, sent, set } = setup();
    r.now();
    set([{ mid: 's1', width: 320, height: 180 }]);
    r.changed();
    r.changed();
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS - 1);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.at(-1)).toEqual({ type: 'view', tiles: [{ mid: 's1', width: 320, height: 180 }] });
    expect(sent).toHaveLength(2);
    // nothing changed: nothing sent
    r.changed();
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS);
    expect(sent).toHaveLength(2);
    // a page change: the hidden tile goes, the new one comes
    set([{ mid: 's3', width: 640, height: 360 }]);
    r.changed();
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS);
    expect(sent.at(-1)).toEqual({ type: 'view', tiles: [{ mid: 's3', width: 640, height: 360 }] });
    expect(r.last).toEqual([{ mid: 's3', width: 640, height: 360 }]);
  });

  it('reports at once after a subscribe answer, even if unchanged, and drops the pending report', async () => {
    const { r, sent } = setup();
    r.now();
    r.changed();
    r.now();
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS * 2);
    expect(sent).toHaveLength(2);
  });

  it('stops for good once disabled (a server without `view`)', async () => {
    const { r, sent } = setup();
    r.now();
    sent.length = 0;
    r.changed();
    r.disable();
    r.now();
    r.changed();
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS * 2);
    expect(sent).toEqual([]);
    expect(r.disabled).toBe(true);
  });

  it('tries again when a view could not be sent', async () => {
    const { r, sent } = setup(false);
    r.now();
    sent.length = 0;
    r.changed();
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS);
    r.changed();
    await vi.advanceTimersByTimeAsync(VIEW_DEBOUNCE_MS);
    expect(sent).toHaveLength(2);
    expect(r.last).toBeNull();
  });
});
