/*
 * The tiles of the meeting's stage and the pieces they share.
 *
 *   selfTile     one's own camera (data-testid="tile", data-self="true"),
 *                muted and mirrored.
 *   RemoteTile   another member's camera and sound (data-testid="tile",
 *                data-participant): its <video> plays the member's audio
 *                too, so it stays in the page when the tile is paged out.
 *   ScreenTile   a member's screen share (data-testid="screen-tile",
 *                data-participant), shown large (ui/stage.ts).
 *
 * Indicators on a tile:
 *   quality-limited   the server holds this video below what the tile
 *                     asks for, or paused it, because of the bandwidth
 *                     (`video_quality` reason "bandwidth"); audio goes on.
 *   net-quality       data-level 0..3: the network quality the member
 *                     reports for its own link (media/netQuality.ts); also
 *                     on roster entries. Hidden until a level is known.
 */
import type { NetLevel } from '../e2ee/session';
import type { MessageKey } from '../i18n';
import type { LocalMedia } from '../media/local';
import type { QualityReason, Participant, Role } from '../signaling/protocol';
import { h } from './dom';
import { tattr, tx } from './i18nDom';
import { showStream } from './video';

export interface SelfTileDeps {
  readonly media: LocalMedia;
  readonly participant: string;
  readonly name: string;
  readonly role: Role;
}

/** The network-quality mark of a tile or roster entry. */
export class NetMark {
  readonly el: HTMLElement;

  constructor() {
    this.el = h(
      'span',
      { class: 'net-quality', 'data-testid': 'net-quality', role: 'img', hidden: true },
      h('span', { class: 'net-bar' }),
      h('span', { class: 'net-bar' }),
      h('span', { class: 'net-bar' }),
    );
  }

  set(level: NetLevel | null): void {
    if (level === null) {
      this.el.hidden = true;
      this.el.removeAttribute('data-level');
      return;
    }
    this.el.hidden = false;
    this.el.setAttribute('data-level', String(level));
    tattr(this.el, 'aria-label', `net.level.${level}`);
  }
}

/** The "video reduced / paused: poor connection" note of a tile. */
export class QualityNote {
  readonly el: HTMLElement;

  constructor() {
    this.el = h('p', { class: 'tile-quality', 'data-testid': 'quality-limited', hidden: true });
  }

  set(layer: number, reason: QualityReason): void {
    if (reason !== 'bandwidth') {
      this.el.hidden = true;
      return;
    }
    this.el.hidden = false;
    tx(this.el, layer < 0 ? 'quality.paused' : 'quality.reduced');
  }

  clear(): void {
    this.el.hidden = true;
  }
}

/** The raised-hand marker of a tile or roster entry; shown while data-hand="raised". */
export function handMark(): HTMLElement {
  return tx(h('span', { class: 'hand-mark tag' }), 'meeting.handRaised');
}

export function setHandAttr(el: HTMLElement, raised: boolean): void {
  if (raised) el.setAttribute('data-hand', 'raised');
  else el.removeAttribute('data-hand');
}

export function nameCaption(name: string, role: Role, self: boolean): HTMLElement {
  return h(
    'figcaption',
    { class: 'tile-name' },
    self ? tx(h('span'), 'meeting.you', { name }) : h('span', {}, name),
    role === 'host' ? tx(h('span', { class: 'badge' }), 'meeting.host') : null,
  );
}

export function selfTile(deps: SelfTileDeps): { tile: HTMLElement; net: NetMark; update: () => void; setRole: (role: Role) => void } {
  const video = h('video', { autoplay: true, playsinline: true, muted: true });
  const off = tx(h('p', { class: 'tile-off' }), 'meeting.cameraOff');
  let caption = nameCaption(deps.name, deps.role, true);
  const net = new NetMark();
  const tile = h(
    'figure',
    { class: 'tile', 'data-testid': 'tile', 'data-participant': deps.participant, 'data-self': 'true' },
    video,
    off,
    handMark(),
    net.el,
    caption,
  );
  const update = (): void => {
    showStream(video, deps.media.stream);
    tile.classList.toggle('is-off', !deps.media.isLive('video'));
  };
  const setRole = (role: Role): void => {
    const next = nameCaption(deps.name, role, true);
    caption.replaceWith(next);
    caption = next;
  };
  update();
  return { tile, net, update, setRole };
}

/** Marks a tile as the active speaker's, or not. */
export function markSpeaking(tile: HTMLElement, on: boolean): void {
  tile.classList.toggle('is-speaking', on);
  if (on) tile.setAttribute('data-speaking', 'true');
  else tile.removeAttribute('data-speaking');
}

/** Sound policy shared by all remote tiles. */
export interface Sound {
  blocked: boolean;
  onBlocked(): void;
}

export class RemoteTile {
  readonly tile: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly net = new NetMark();
  readonly quality = new QualityNote();
  readonly #sound: Sound;
  #caption: HTMLElement;
  #stream: MediaStream | null = null;
  #unlisten: () => void = () => undefined;

  constructor(p: Participant, sound: Sound) {
    this.#sound = sound;
    this.video = h('video', { autoplay: true, playsinline: true });
    this.#caption = nameCaption(p.name, p.role, false);
    this.tile = h(
      'figure',
      { class: 'tile is-off', 'data-testid': 'tile', 'data-participant': p.id, 'data-in-group': 'false' },
      this.video,
      tx(h('p', { class: 'tile-off' }), 'meeting.cameraOff'),
      tx(h('p', { class: 'tile-flag', 'data-testid': 'not-in-group' }), 'e2ee.notInGroup'),
      this.quality.el,
      handMark(),
      this.net.el,
      this.#caption,
    );
  }

  /** Name or role changed. */
  setInfo(p: Participant): void {
    const next = nameCaption(p.name, p.role, false);
    this.#caption.replaceWith(next);
    this.#caption = next;
  }

  setStream(stream: MediaStream | null): void {
    if (stream === this.#stream) return;
    this.#unlisten();
    this.#stream = stream;
    const v = this.video;
    v.srcObject = stream;
    const sync = (): void => {
      const video = stream?.getVideoTracks()[0];
      this.tile.classList.toggle('is-off', !video || video.muted || video.readyState === 'ended');
    };
    const tracks = stream?.getTracks() ?? [];
    for (const tr of tracks) {
      tr.addEventListener('mute', sync);
      tr.addEventListener('unmute', sync);
      tr.addEventListener('ended', sync);
    }
    this.#unlisten = () => {
      for (const tr of tracks) {
        tr.removeEventListener('mute', sync);
        tr.removeEventListener('unmute', sync);
        tr.removeEventListener('ended', sync);
      }
    };
    sync();
    if (stream) this.play();
  }

  /** Plays again if it stopped (the stage moved the tile). */
  resume(): void {
    if (this.video.srcObject && this.video.paused) this.play();
  }

  play(): void {
    const v = this.video;
    if (!v.srcObject) return;
    v.muted = this.#sound.blocked;
    void v.play().catch((e: unknown) => {
      if (v.muted || (e instanceof DOMException && e.name !== 'NotAllowedError')) return;
      // Sound needs a gesture first: play muted for now.
      this.#sound.onBlocked();
      v.muted = true;
      void v.play().catch(() => undefined);
    });
  }

  dispose(): void {
    this.#unlisten();
    this.video.srcObject = null;
  }
}

/** A member's screen share: video only, shown large. */
export class ScreenTile {
  readonly tile: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly quality = new QualityNote();
  readonly #label: HTMLElement;

  constructor(participant: string, name: string) {
    this.video = h('video', { autoplay: true, playsinline: true, muted: true });
    this.#label = tx(h('span'), 'meeting.screenOf', { name });
    this.tile = h(
      'figure',
      { class: 'tile screen-tile', 'data-testid': 'screen-tile', 'data-participant': participant },
      this.video,
      this.quality.el,
      h('figcaption', { class: 'tile-name' }, this.#label),
    );
  }

  setName(name: string): void {
    tx(this.#label, 'meeting.screenOf', { name });
  }

  setStream(stream: MediaStream): void {
    if (this.video.srcObject === stream) return;
    this.video.srcObject = stream;
    this.resume();
  }

  resume(): void {
    const v = this.video;
    // muted (a screen share has no sound), so autoplay is always allowed
    v.muted = true;
    if (v.srcObject && v.paused) void v.play().catch(() => undefined);
  }

  dispose(): void {
    this.video.srcObject = null;
  }
}

export function toggleButton(testid: string, labelKey: MessageKey): { button: HTMLButtonElement; setOn: (on: boolean, available: boolean) => void } {
  // The name comes from the label alone (the state is aria-hidden; aria-pressed
  // says it), so what is seen starts with what is heard (WCAG 2.5.3).
  const state = h('span', { class: 'state', 'aria-hidden': 'true' });
  const button = h(
    'button',
    { type: 'button', class: `control control-${testid}`, 'data-testid': testid, 'aria-pressed': 'false' },
    tx(h('span', { class: 'control-label' }), labelKey),
    state,
  );
  const setOn = (on: boolean, available: boolean): void => {
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.classList.toggle('is-on', on);
    button.classList.toggle('is-unavailable', !available);
    tx(state, on ? 'meeting.on' : 'meeting.off');
  };
  return { button, setOn };
}
