/*
 * The shape of the tile grid for a number of participants: as close to
 * square as the count allows, wider than tall when it cannot be square, so
 * 16:9 tiles use a landscape screen well. Past MAX_COLS the grid keeps its
 * width and grows downwards; in the app a page never holds more than
 * GRID_PER_PAGE tiles (below), so that does not happen there.
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

/*
 * Pages and arrangements of the stage (ui/stage.ts).
 *
 * Grid: every tile the same size, GRID_PER_PAGE to a page (3×3 on a laptop;
 * past nine, 16:9 tiles at 1280×800 fall below ~300 CSS px and faces stop
 * being readable), GRID_PER_PAGE_NARROW (2×2) on a phone-sized screen.
 * Speaker: one main tile (a screen share first, else the active speaker,
 * else the first other member) and a filmstrip of the rest, FILM_PER_PAGE
 * (FILM_PER_PAGE_NARROW) at a time. A screen share always takes the main
 * tile, in either arrangement. Tiles not on the page are not shown, so the
 * view (media/view.ts) leaves them out and the server pauses their video.
 */

export const GRID_PER_PAGE = 9;
export const GRID_PER_PAGE_NARROW = 4;
export const FILM_PER_PAGE = 6;
export const FILM_PER_PAGE_NARROW = 3;
/** Narrow: the phone breakpoint of styles.css (36rem at 16 px). */
export const NARROW_MAX_PX = 576;

export type LayoutMode = 'grid' | 'speaker';

export interface StageInput {
  /** Every tile key, in the order they are shown. */
  readonly tiles: readonly string[];
  readonly mode: LayoutMode;
  /** The key of the screen-share tile to show large, if anyone shares. */
  readonly screen: string | null;
  /** The key of the active speaker's tile, if known. */
  readonly speaker: string | null;
  /** A key to prefer as main in speaker view when nobody is known to speak (the first other member). */
  readonly fallbackMain: string | null;
  readonly narrow: boolean;
  /** The page asked for (clamped). */
  readonly page: number;
}

export interface StagePlan {
  readonly arrangement: LayoutMode;
  /** The tile shown large (speaker arrangement), or null. */
  readonly main: string | null;
  /** The other tiles on this page, in order. */
  readonly shown: readonly string[];
  readonly page: number;
  readonly pages: number;
  readonly cols: number;
  readonly rows: number;
}

export function planStage(i: StageInput): StagePlan {
  const present = (k: string | null): k is string => k !== null && i.tiles.includes(k);
  let main: string | null = null;
  if (present(i.screen)) main = i.screen;
  else if (i.mode === 'speaker') main = present(i.speaker) ? i.speaker : present(i.fallbackMain) ? i.fallbackMain : (i.tiles[0] ?? null);
  const rest = i.tiles.filter((k) => k !== main);
  const arrangement: LayoutMode = main === null ? 'grid' : 'speaker';
  const per = arrangement === 'grid' ? (i.narrow ? GRID_PER_PAGE_NARROW : GRID_PER_PAGE) : i.narrow ? FILM_PER_PAGE_NARROW : FILM_PER_PAGE;
  const pages = Math.max(1, Math.ceil(rest.length / per));
  const page = Math.min(pages - 1, Math.max(0, Math.floor(Number.isFinite(i.page) ? i.page : 0)));
  const shown = rest.slice(page * per, page * per + per);
  if (arrangement === 'speaker') return { arrangement, main, shown, page, pages, cols: Math.max(1, shown.length), rows: 1 };
  const shape = gridShape(shown.length);
  const cols = i.narrow ? Math.min(2, shape.cols) : shape.cols;
  return { arrangement, main, shown, page, pages, cols, rows: Math.ceil(Math.max(1, shown.length) / cols) };
}
