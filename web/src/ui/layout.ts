/*
 * The shape of the tile grid for a number of participants: as close to
 * square as the count allows, wider than tall when it cannot be square, so
 * 16:9 tiles use a landscape screen well. Past MAX_COLS the grid keeps its
 * width and grows downwards (the page scrolls).
 */

export const MAX_COLS = 5;

export interface GridShape {
  readonly cols: number;
  readonly rows: number;
}

export function gridShape(n: number): GridShape {
  const count = Math.max(1, Math.floor(n));
  const cols = Math.min(MAX_COLS, Math.ceil(Math.sqrt(count)));
  return { cols, rows: Math.ceil(count / cols) };
}
