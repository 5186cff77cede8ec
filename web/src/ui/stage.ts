/*
 * The stage of the meeting: where the video tiles are, in a grid or as one
 * large tile with a filmstrip, a page at a time (ui/layout.ts planStage
 * decides which tile goes where; this module moves the elements).
 *
 *   .stage[data-arrangement=grid|speaker]
 *     .stage-main       the large tile (speaker view, or a screen share)
 *     .grid             the other tiles of this page (role=group)
 *     nav.pager         page-prev, page-indicator, page-next (only when
 *                       there is more than one page)
 *
 * Tiles off the page are `hidden`: they keep their <video> (its audio
 * plays on, the server keeps sending audio) but are left out of
 * shown(), so the view sent to the server (media/view.ts) pauses their
 * video. Every change of what is shown, or of the size it is shown at
 * (window resized, page turned, someone came or went, the speaker changed
 * in speaker view), calls onChange.
 *
 * Moving a playing <video> to another parent can pause it in some
 * browsers; each tile's resume() is called after a layout to make sure.
 */
import type { ShownTile } from '../media/view';
import { h } from './dom';
import { tattr, tx } from './i18nDom';
import { NARROW_MAX_PX, planStage, type LayoutMode, type StagePlan } from './layout';

export interface StageTile {
  readonly key: string;
  readonly el: HTMLElement;
  readonly participant: string;
  readonly source: ShownTile['source'];
  /** False for one's own tile: its video is not received from the server. */
  readonly remote: boolean;
  /** Plays the tile's video again if it stopped (after a move). */
  resume(): void;
}

export interface StageOptions {
  /** What is shown, or how large, may have changed. */
  readonly onChange: () => void;
}

const isNarrow = (): boolean => typeof window !== 'undefined' && window.innerWidth <= NARROW_MAX_PX;

export class Stage {
  readonly root: HTMLElement;
  readonly grid: HTMLElement;
  readonly #main: HTMLElement;
  readonly #pager: HTMLElement;
  readonly #prev: HTMLButtonElement;
  readonly #next: HTMLButtonElement;
  readonly #indicator: HTMLElement;
  readonly #tiles = new Map<string, StageTile>();
  readonly #onChange: () => void;
  readonly #resized = (): void => this.layout();
  #observer: ResizeObserver | null = null;
  #mode: LayoutMode = 'grid';
  #speaker: string | null = null;
  #page = 0;
  #plan: StagePlan | null = null;

  constructor(o: StageOptions) {
    this.#onChange = o.onChange;
    this.#main = h('div', { class: 'stage-main' });
    this.grid = tattr(h('div', { class: 'grid', role: 'group' }), 'aria-label', 'meeting.grid');
    this.#prev = tattr(h('button', { type: 'button', class: 'button small pager-button', 'data-testid': 'page-prev' }, h('span', { 'aria-hidden': 'true' }, '‹')), 'aria-label', 'meeting.page.prev');
    this.#next = tattr(h('button', { type: 'button', class: 'button small pager-button', 'data-testid': 'page-next' }, h('span', { 'aria-hidden': 'true' }, '›')), 'aria-label', 'meeting.page.next');
    this.#indicator = h('span', { class: 'page-indicator', 'data-testid': 'page-indicator', 'aria-live': 'polite' });
    this.#pager = tattr(h('nav', { class: 'pager', hidden: true }, this.#prev, this.#indicator, this.#next), 'aria-label', 'meeting.pages');
    this.root = h('div', { class: 'stage', 'data-arrangement': 'grid' }, this.#main, this.grid, this.#pager);
    this.#prev.addEventListener('click', () => this.turn(-1));
    this.#next.addEventListener('click', () => this.turn(1));
    if (typeof window !== 'undefined') window.addEventListener('resize', this.#resized);
    if (typeof ResizeObserver !== 'undefined') {
      // tile sizes change with the window, the side panel, the banner: report them
      this.#observer = new ResizeObserver(() => this.#onChange());
      this.#observer.observe(this.grid);
      this.#observer.observe(this.#main);
    }
  }

  get mode(): LayoutMode {
    return this.#mode;
  }

  get plan(): StagePlan | null {
    return this.#plan;
  }

  /** Adds a tile (screen shares go first, then in the order they come). */
  add(t: StageTile): void {
    if (this.#tiles.has(t.key)) return;
    this.#tiles.set(t.key, t);
    t.el.hidden = true;
    this.grid.append(t.el);
    this.layout();
  }

  remove(key: string): void {
    const t = this.#tiles.get(key);
    if (!t) return;
    this.#tiles.delete(key);
    t.el.remove();
    this.layout();
  }

  setMode(mode: LayoutMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    this.#page = 0;
    this.layout();
  }

  /**
   * The active speaker (by participant id). Speaking oneself does not put
   * one's own picture large: the last other speaker stays.
   */
  setSpeaker(participant: string | null): void {
    if (participant !== null && this.#tiles.get(participant)?.remote === false) return;
    this.#speaker = participant;
    if (this.#mode === 'speaker') this.layout();
  }

  /** Next (+1) or previous (-1) page. */
  turn(by: number): void {
    const plan = this.#plan;
    if (!plan) return;
    const page = Math.min(plan.pages - 1, Math.max(0, plan.page + by));
    if (page === plan.page) return;
    this.#page = page;
    this.layout();
  }

  /** Places every tile as planned now, and says that what is shown may have changed. */
  layout(): void {
    const all = [...this.#tiles.values()];
    const screens = all.filter((t) => t.source === 'screen');
    const order = [...screens, ...all.filter((t) => t.source !== 'screen')];
    const firstOther = all.find((t) => t.source === 'camera' && t.remote)?.key ?? null;
    const plan = planStage({
      tiles: order.map((t) => t.key),
      mode: this.#mode,
      screen: screens[0]?.key ?? null,
      speaker: this.#speaker,
      fallbackMain: firstOther,
      narrow: isNarrow(),
      page: this.#page,
    });
    this.#plan = plan;
    this.#page = plan.page;
    this.root.dataset['arrangement'] = plan.arrangement;
    this.grid.dataset['cols'] = String(plan.cols);
    this.grid.dataset['rows'] = String(plan.rows);
    const shown = new Set(plan.shown);
    for (const t of order) {
      const on = t.key === plan.main || shown.has(t.key);
      t.el.hidden = !on;
      t.el.classList.toggle('is-main', t.key === plan.main);
    }
    const mainTile = plan.main === null ? null : this.#tiles.get(plan.main);
    if (mainTile && mainTile.el.parentElement !== this.#main) this.#main.replaceChildren(mainTile.el);
    else if (!mainTile) this.#main.replaceChildren();
    for (const key of plan.shown) {
      const t = this.#tiles.get(key);
      if (t) this.grid.append(t.el); // in plan order
    }
    // hidden ones live in the grid too, after the shown ones
    for (const t of order) if (t.el.hidden && t.el.parentElement !== this.grid) this.grid.append(t.el);
    this.#main.hidden = mainTile === null;
    this.#pager.hidden = plan.pages <= 1;
    this.#prev.setAttribute('aria-disabled', plan.page === 0 ? 'true' : 'false');
    this.#next.setAttribute('aria-disabled', plan.page >= plan.pages - 1 ? 'true' : 'false');
    tx(this.#indicator, 'meeting.page.indicator', { page: plan.page + 1, pages: plan.pages });
    for (const t of order) if (!t.el.hidden) t.resume();
    this.#onChange();
  }

  /** The received videos on screen now and their CSS sizes (for the view). */
  shown(): ShownTile[] {
    const out: ShownTile[] = [];
    for (const t of this.#tiles.values()) {
      if (!t.remote || t.el.hidden) continue;
      const r = t.el.getBoundingClientRect();
      if (r.width <= 0 || r.height <= 0) continue;
      out.push({ participant: t.participant, source: t.source, width: r.width, height: r.height });
    }
    return out;
  }

  dispose(): void {
    if (typeof window !== 'undefined') window.removeEventListener('resize', this.#resized);
    this.#observer?.disconnect();
    this.#observer = null;
  }
}
