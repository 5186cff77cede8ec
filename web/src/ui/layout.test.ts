import { describe, expect, it } from 'vitest';
import { FILM_PER_PAGE, FILM_PER_PAGE_NARROW, GRID_PER_PAGE, GRID_PER_PAGE_NARROW, gridShape, MAX_COLS, planStage, type StageInput } from './layout';

describe('grid shape', () => {
  it('grows from one tile to a square, wider than tall in between', () => {
    expect(gridShape(1)).toEqual({ cols: 1, rows: 1 });
    expect(gridShape(2)).toEqual({ cols: 2, rows: 1 });
    expect(gridShape(3)).toEqual({ cols: 2, rows: 2 });
    expect(gridShape(4)).toEqual({ cols: 2, rows: 2 });
    expect(gridShape(5)).toEqual({ cols: 3, rows: 2 });
    expect(gridShape(9)).toEqual({ cols: 3, rows: 3 });
    expect(gridShape(10)).toEqual({ cols: 4, rows: 3 });
  });

  it('never has more columns than MAX_COLS and always room for everyone', () => {
    for (let n = 1; n <= 100; n++) {
      const s = gridShape(n);
      expect(s.cols).toBeLessThanOrEqual(MAX_COLS);
      expect(s.cols * s.rows).toBeGreaterThanOrEqual(n);
      expect(s.cols * (s.rows - 1)).toBeLessThan(n);
    }
  });

  it('treats nonsense counts as one', () => {
    expect(gridShape(0)).toEqual({ cols: 1, rows: 1 });
    expect(gridShape(-3)).toEqual({ cols: 1, rows: 1 });
  });
});

describe('stage plan (pages and arrangements)', () => {
  const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `p${i}`);
  const base: StageInput = { tiles: keys(4), mode: 'grid', screen: null, speaker: null, fallbackMain: null, narrow: false, page: 0 };

  it('shows everyone on one page while they fit', () => {
    expect(planStage({ ...base, tiles: keys(GRID_PER_PAGE) })).toMatchObject({ arrangement: 'grid', main: null, pages: 1, page: 0, cols: 3, rows: 3 });
    expect(planStage({ ...base, tiles: keys(4), narrow: true })).toMatchObject({ pages: 1, cols: 2, rows: 2 });
  });

  it('pages past nine on a laptop and past four on a phone, clamping the page asked for', () => {
    const wide = planStage({ ...base, tiles: keys(10), page: 1 });
    expect(wide).toMatchObject({ pages: 2, page: 1, shown: ['p9'] });
    const phone = planStage({ ...base, tiles: keys(6), narrow: true, page: 0 });
    expect(phone).toMatchObject({ pages: 2, page: 0, shown: ['p0', 'p1', 'p2', 'p3'], cols: 2, rows: 2 });
    expect(planStage({ ...base, tiles: keys(6), narrow: true, page: 7 })).toMatchObject({ page: 1, shown: ['p4', 'p5'] });
    expect(planStage({ ...base, tiles: keys(6), narrow: true, page: -2 })).toMatchObject({ page: 0 });
    expect(GRID_PER_PAGE_NARROW).toBe(4);
  });

  it('speaker view: the active speaker large, the others in a paged filmstrip', () => {
    const p = planStage({ ...base, tiles: keys(9), mode: 'speaker', speaker: 'p3' });
    expect(p.arrangement).toBe('speaker');
    expect(p.main).toBe('p3');
    expect(p.shown).toEqual(['p0', 'p1', 'p2', 'p4', 'p5', 'p6'].slice(0, FILM_PER_PAGE));
    expect(p.pages).toBe(2);
    // nobody speaks yet: the fallback, else the first
    expect(planStage({ ...base, mode: 'speaker', fallbackMain: 'p2' }).main).toBe('p2');
    expect(planStage({ ...base, mode: 'speaker', speaker: 'gone' }).main).toBe('p0');
    expect(planStage({ ...base, tiles: keys(5), mode: 'speaker', narrow: true }).shown).toHaveLength(FILM_PER_PAGE_NARROW);
  });

  it('a screen share is the main tile in either arrangement', () => {
    const tiles = ['screen:p1', ...keys(3)];
    expect(planStage({ ...base, tiles, screen: 'screen:p1' })).toMatchObject({ arrangement: 'speaker', main: 'screen:p1', shown: keys(3) });
    expect(planStage({ ...base, tiles, mode: 'speaker', speaker: 'p2', screen: 'screen:p1' }).main).toBe('screen:p1');
    // a share that has no tile (yet) changes nothing
    expect(planStage({ ...base, screen: 'screen:x' }).arrangement).toBe('grid');
  });
});
