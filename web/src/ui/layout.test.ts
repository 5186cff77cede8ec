import { describe, expect, it } from 'vitest';
import { gridShape, MAX_COLS } from './layout';

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
