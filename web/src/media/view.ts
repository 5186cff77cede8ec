/*
 * The `view` message (docs/protocol.md, "Simulcast, views and screen
 * share"): which video the client shows now and at what size, so that the
 * server forwards each at the smallest simulcast layer that covers its tile
 * and pauses what nobody here sees (tiles on other pages, a hidden grid).
 *
 *   computeView   visible tiles (participant, source, CSS size) → the
 *                 message's tiles: subscribe mid and size in device pixels,
 *                 sorted by mid so that equal views compare equal.
 *   ViewReporter  sends it: at once after every subscribe answer (new
 *                 m-lines are forwarded at full quality until a view names
 *                 them), and after the visible tiles or their sizes change,
 *                 debounced (VIEW_DEBOUNCE_MS), only when it differs from
 *                 the last one sent. Nothing before the first answer: there
 *                 is no subscription to view yet (the server refuses it).
 *                 A server that does not know `view` answers
 *                 `unknown_type`: then disable() stops it for the rest of
 *                 the connection.
 */
import type { SourceName, ViewMsg, ViewTile } from '../signaling/protocol';

/** The contract's debounce: a window being resized sends one view, not fifty. */
export const VIEW_DEBOUNCE_MS = 200;
/** The contract's bounds: at most 64 tiles, each side 0..8192 device pixels. */
export const MAX_VIEW_TILES = 64;
export const MAX_VIEW_SIDE = 8192;

/** A video tile on screen now. */
export interface ShownTile {
  readonly participant: string;
  readonly source: Exclude<SourceName, 'microphone'>;
  /** CSS pixels, as laid out. */
  readonly width: number;
  readonly height: number;
}

/** The subscribe mid of a participant's camera or screen video, if it is forwarded to us. */
export type MidOf = (participant: string, source: ShownTile['source']) => string | null;

function side(css: number, dpr: number): number {
  const px = Math.round(css * dpr);
  return Number.isFinite(px) ? Math.min(MAX_VIEW_SIDE, Math.max(0, px)) : 0;
}

export function computeView(shown: readonly ShownTile[], midOf: MidOf, devicePixelRatio: number): ViewTile[] {
  const dpr = Number.isFinite(devicePixelRatio) && devicePixelRatio > 0 ? devicePixelRatio : 1;
  const byMid = new Map<string, ViewTile>();
  for (const s of shown) {
    const mid = midOf(s.participant, s.source);
    if (mid === null) continue;
    const w = side(s.width, dpr);
    const h = side(s.height, dpr);
    const had = byMid.get(mid);
    // the same video twice (should not happen): the larger size wins
    byMid.set(mid, had ? { mid, width: Math.max(had.width, w), height: Math.max(had.height, h) } : { mid, width: w, height: h });
  }
  return [...byMid.values()].sort((a, b) => (a.mid < b.mid ? -1 : a.mid > b.mid ? 1 : 0)).slice(0, MAX_VIEW_TILES);
}

export function sameView(a: readonly ViewTile[] | null, b: readonly ViewTile[]): boolean {
  return a !== null && a.length === b.length && a.every((t, i) => t.mid === b[i]?.mid && t.width === b[i]?.width && t.height === b[i]?.height);
}

export interface ViewReporterOptions {
  /** Sends on the current connection; false if there is none. */
  readonly send: (msg: ViewMsg) => boolean;
  /** The tiles to report now (computeView of what is on screen). */
  readonly current: () => ViewTile[];
}

export class ViewReporter {
  readonly #o: ViewReporterOptions;
  #last: ViewTile[] | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #disabled = false;
  /** A subscribe answer went out: there is something to view. */
  #armed = false;

  constructor(o: ViewReporterOptions) {
    this.#o = o;
  }

  /** The visible tiles or their sizes may have changed: report within VIEW_DEBOUNCE_MS if so. */
  changed(): void {
    if (this.#disabled || !this.#armed || this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#report(false);
    }, VIEW_DEBOUNCE_MS);
  }

  /** Reports now, even if the same (right after a subscribe answer). */
  now(): void {
    this.#armed = true;
    this.#cancel();
    this.#report(true);
  }

  /** The server does not know `view`: never send it again. */
  disable(): void {
    this.#disabled = true;
    this.#cancel();
  }

  get disabled(): boolean {
    return this.#disabled;
  }

  /** The last view sent (null: none yet). */
  get last(): readonly ViewTile[] | null {
    return this.#last;
  }

  close(): void {
    this.#cancel();
  }

  #report(always: boolean): void {
    if (this.#disabled) return;
    const tiles = this.#o.current();
    if (!always && sameView(this.#last, tiles)) return;
    if (this.#o.send({ type: 'view', tiles })) this.#last = tiles;
  }

  #cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
