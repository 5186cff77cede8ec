/*
 * The meeting (data-testid="in-meeting"): a grid of participant tiles, a side
 * panel with the roster and (for hosts) the guests waiting in the lobby, and
 * a control bar.
 *
 * Stable hooks (DESIGN.md §9): every member has a tile (data-testid="tile",
 * data-participant=ID, data-self="true" on one's own) holding its <video>,
 * and a roster entry (data-testid="member", data-participant=ID,
 * data-in-group="true|false"). The MLS group does not exist yet, so every
 * entry says data-in-group="false". Each waiting guest is a
 * data-testid="knock" entry with "admit" and "deny" buttons.
 *
 * One's own tile shows the local stream, muted and mirrored. A remote tile
 * plays that participant's audio and video through its <video>; if the
 * browser refuses to autoplay sound, the tiles play muted and a "Turn on
 * sound" button appears (a click is the permission browsers wait for).
 *
 * Controls are toggle buttons whose accessible name stays fixed
 * ("Microphone") while aria-pressed tells whether it is on.
 */
import type { Prefs } from '../app/prefs';
import type { MessageKey } from '../i18n';
import type { LocalMedia, MediaKind } from '../media/local';
import type { Knock, Participant, Role } from '../signaling/protocol';
import { h, uid } from './dom';
import { tattr, tx } from './i18nDom';
import { gridShape } from './layout';
import type { Shell, View } from './shell';
import { showStream } from './video';

export interface MeetingDeps {
  readonly shell: Shell;
  readonly media: LocalMedia;
  readonly prefs: Prefs;
  /** One's own participant id. */
  readonly participant: string;
  readonly role: Role;
  readonly name: string;
  /** The members at the time of joining (oneself included). */
  readonly participants?: readonly Participant[];
  /** Guests waiting at the time of joining (hosts only). */
  readonly knocks?: readonly Knock[];
  readonly onLeave: () => void;
  readonly onAdmit?: (participant: string) => void;
  readonly onDeny?: (participant: string) => void;
}

export interface MeetingView extends View {
  readonly grid: HTMLElement;
  addParticipant(p: Participant): void;
  removeParticipant(id: string): void;
  /** What arrives from a participant (null: nothing). Kept until its tile exists. */
  setRemoteStream(id: string, stream: MediaStream | null): void;
  addKnock(k: Knock): void;
  removeKnock(id: string): void;
  /** A host action failed: the knock buttons work again. */
  knockActionFailed(): void;
  /** Media negotiation failed: say so once. */
  mediaProblem(): void;
}

function nameCaption(name: string, role: Role, self: boolean): HTMLElement {
  return h(
    'figcaption',
    { class: 'tile-name' },
    self ? tx(h('span'), 'meeting.you', { name }) : h('span', {}, name),
    role === 'host' ? tx(h('span', { class: 'badge' }), 'meeting.host') : null,
  );
}

function selfTile(deps: MeetingDeps): { tile: HTMLElement; update: () => void } {
  const video = h('video', { autoplay: true, playsinline: true, muted: true });
  const off = tx(h('p', { class: 'tile-off' }), 'meeting.cameraOff');
  const tile = h(
    'figure',
    { class: 'tile', 'data-testid': 'tile', 'data-participant': deps.participant, 'data-self': 'true' },
    video,
    off,
    nameCaption(deps.name, deps.role, true),
  );
  const update = (): void => {
    showStream(video, deps.media.stream);
    tile.classList.toggle('is-off', !deps.media.isLive('video'));
  };
  update();
  return { tile, update };
}

/** Sound policy shared by all remote tiles. */
interface Sound {
  blocked: boolean;
  onBlocked(): void;
}

class RemoteTile {
  readonly tile: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #sound: Sound;
  #stream: MediaStream | null = null;
  #unlisten: () => void = () => undefined;

  constructor(p: Participant, sound: Sound) {
    this.#sound = sound;
    this.video = h('video', { autoplay: true, playsinline: true });
    this.tile = h(
      'figure',
      { class: 'tile is-off', 'data-testid': 'tile', 'data-participant': p.id },
      this.video,
      tx(h('p', { class: 'tile-off' }), 'meeting.cameraOff'),
      nameCaption(p.name, p.role, false),
    );
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

function toggleButton(testid: string, labelKey: MessageKey): { button: HTMLButtonElement; setOn: (on: boolean, available: boolean) => void } {
  const state = h('span', { class: 'state', 'aria-hidden': 'true' });
  const button = tattr(
    h(
      'button',
      { type: 'button', class: `control control-${testid}`, 'data-testid': testid, 'aria-pressed': 'false' },
      tx(h('span', { class: 'control-label' }), labelKey),
      state,
    ),
    'aria-label',
    labelKey,
  );
  const setOn = (on: boolean, available: boolean): void => {
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.classList.toggle('is-on', on);
    button.classList.toggle('is-unavailable', !available);
    tx(state, on ? 'meeting.on' : 'meeting.off');
  };
  return { button, setOn };
}

export function meetingView(deps: MeetingDeps): MeetingView {
  const { media, prefs, shell } = deps;
  const isHost = deps.role === 'host';
  const headingId = uid('meeting-title');
  const heading = tx(h('h1', { id: headingId, class: 'visually-hidden', tabindex: -1 }), 'meeting.title');

  // ---- tiles ----------------------------------------------------------------
  const self = selfTile(deps);
  const grid = tattr(h('div', { class: 'grid', role: 'group' }, self.tile), 'aria-label', 'meeting.grid');
  const tiles = new Map<string, RemoteTile>();
  const streams = new Map<string, MediaStream>();
  const names = new Map<string, string>();

  const soundBar = h(
    'div',
    { class: 'sound-bar warning', hidden: true },
    tx(h('span'), 'meeting.soundBlocked'),
    tx(h('button', { type: 'button', class: 'button primary' }), 'meeting.soundOn'),
  );
  const sound: Sound = {
    blocked: false,
    onBlocked() {
      if (sound.blocked) return;
      sound.blocked = true;
      soundBar.hidden = false;
    },
  };
  soundBar.querySelector('button')?.addEventListener('click', () => {
    sound.blocked = false;
    soundBar.hidden = true;
    for (const t of tiles.values()) t.play();
  });

  const layout = (): void => {
    const { cols, rows } = gridShape(tiles.size + 1);
    grid.dataset['cols'] = String(cols);
    grid.dataset['rows'] = String(rows);
  };

  // ---- roster -----------------------------------------------------------------
  const rosterHeadingId = uid('roster-title');
  const rosterHeading = h('h2', { id: rosterHeadingId });
  const rosterList = h('ul', { class: 'member-list' });
  const roster = h('section', { class: 'roster', 'data-testid': 'roster', 'aria-labelledby': rosterHeadingId }, rosterHeading, rosterList);
  const members = new Map<string, HTMLElement>();
  const updateRosterHeading = (): void => {
    tx(rosterHeading, 'meeting.roster', { n: members.size });
  };
  const memberEntry = (p: Participant, isSelf: boolean): HTMLElement =>
    h(
      'li',
      { class: 'member', 'data-testid': 'member', 'data-participant': p.id, 'data-in-group': 'false', 'data-self': isSelf ? 'true' : undefined },
      isSelf ? tx(h('span', { class: 'member-name' }), 'meeting.you', { name: p.name }) : h('span', { class: 'member-name' }, p.name),
      p.role === 'host' ? tx(h('span', { class: 'badge' }), 'meeting.host') : null,
    );

  // ---- lobby (hosts) ------------------------------------------------------------
  const lobbyHeadingId = uid('lobby-list-title');
  const lobbyHeading = h('h2', { id: lobbyHeadingId });
  const lobbyList = h('ul', { class: 'knock-list' });
  const lobby = h('section', { class: 'lobby-list', 'aria-labelledby': lobbyHeadingId, hidden: true }, lobbyHeading, lobbyList);
  const knocks = new Map<string, HTMLElement>();
  const updateLobby = (): void => {
    tx(lobbyHeading, 'meeting.lobby', { n: knocks.size });
    lobby.hidden = knocks.size === 0;
  };

  const side = h('aside', { class: 'side' }, isHost ? lobby : null, roster);

  // ---- controls -----------------------------------------------------------------
  const mic = toggleButton('mic', 'meeting.mic');
  const camera = toggleButton('camera', 'meeting.camera');
  const leave = tattr(
    h('button', { type: 'button', class: 'control control-leave', 'data-testid': 'leave' }, tx(h('span', { class: 'control-label' }), 'meeting.leave')),
    'aria-label',
    'meeting.leave.label',
  );

  const sync = (): void => {
    mic.setOn(media.isLive('audio'), media.has('audio'));
    camera.setOn(media.isLive('video'), media.has('video'));
    self.update();
  };

  const report = (kind: MediaKind, problem: string | null): void => {
    if (problem === null) return;
    const keys: Record<string, MessageKey> =
      kind === 'video'
        ? { denied: 'media.cameraDenied', 'no-device': 'media.noCamera', failed: 'media.cameraFailed', unsupported: 'media.unsupported' }
        : { denied: 'media.micDenied', 'no-device': 'media.noMic', failed: 'media.micFailed', unsupported: 'media.unsupported' };
    const key = keys[problem];
    if (key) shell.announce(key);
  };

  mic.button.addEventListener('click', () => {
    if (media.has('audio')) media.setEnabled('audio', !media.isLive('audio'));
    else void media.enable('audio', prefs.micId).then((p) => report('audio', p));
  });
  camera.button.addEventListener('click', () => {
    // Off means off: stop the camera so its light goes out.
    if (media.has('video')) media.disable('video');
    else void media.enable('video', prefs.cameraId).then((p) => report('video', p));
  });
  leave.addEventListener('click', deps.onLeave);

  const unsubscribe = media.onChange(sync);

  const controls = tattr(h('div', { class: 'controls', role: 'group' }, mic.button, camera.button, leave), 'aria-label', 'meeting.controls');

  const root = h(
    'section',
    { class: 'meeting', 'data-testid': 'in-meeting', 'aria-labelledby': headingId },
    heading,
    soundBar,
    h('div', { class: 'meeting-body' }, h('div', { class: 'stage' }, grid), side),
    controls,
  );

  // ---- the view's operations --------------------------------------------------------
  const addMember = (p: Participant, announce: boolean): void => {
    const isSelf = p.id === deps.participant;
    if (!isSelf && !tiles.has(p.id)) {
      const tile = new RemoteTile(p, sound);
      tiles.set(p.id, tile);
      grid.append(tile.tile);
      const s = streams.get(p.id);
      if (s) tile.setStream(s);
      layout();
    }
    names.set(p.id, p.name);
    const entry = memberEntry(p, isSelf);
    const old = members.get(p.id);
    if (old) old.replaceWith(entry);
    else if (isSelf) rosterList.prepend(entry);
    else rosterList.append(entry);
    members.set(p.id, entry);
    updateRosterHeading();
    if (announce && !isSelf) shell.announce('meeting.joined.announce', { name: p.name });
  };

  const addKnock = (k: Knock, announce: boolean): void => {
    if (!isHost || knocks.has(k.participant)) return;
    const nameId = uid('knock-name');
    const admit = tx(h('button', { type: 'button', class: 'button primary small', 'data-testid': 'admit', 'aria-describedby': nameId }), 'meeting.admit');
    const deny = tx(h('button', { type: 'button', class: 'button small', 'data-testid': 'deny', 'aria-describedby': nameId }), 'meeting.deny');
    const entry = h(
      'li',
      { class: 'knock', 'data-testid': 'knock', 'data-participant': k.participant },
      h('span', { class: 'knock-name', id: nameId }, k.name),
      h('span', { class: 'knock-actions' }, admit, deny),
    );
    const act = (fn: ((id: string) => void) | undefined): void => {
      admit.disabled = true;
      deny.disabled = true;
      fn?.(k.participant);
    };
    admit.addEventListener('click', () => act(deps.onAdmit));
    deny.addEventListener('click', () => act(deps.onDeny));
    lobbyList.append(entry);
    knocks.set(k.participant, entry);
    updateLobby();
    if (announce) shell.announce('meeting.knock.announce', { name: k.name });
  };

  const view: MeetingView = {
    root,
    titleKey: 'meeting.title',
    focus: heading,
    grid,
    addParticipant: (p) => addMember(p, true),
    removeParticipant(id) {
      if (id === deps.participant) return;
      const tile = tiles.get(id);
      if (tile) {
        tile.dispose();
        tile.tile.remove();
        tiles.delete(id);
        layout();
      }
      streams.delete(id);
      const entry = members.get(id);
      if (entry) {
        entry.remove();
        members.delete(id);
        updateRosterHeading();
      }
      const name = names.get(id);
      names.delete(id);
      if (name !== undefined) shell.announce('meeting.left.announce', { name });
    },
    setRemoteStream(id, stream) {
      if (stream) streams.set(id, stream);
      else streams.delete(id);
      tiles.get(id)?.setStream(stream);
    },
    addKnock: (k) => addKnock(k, true),
    removeKnock(id) {
      const entry = knocks.get(id);
      if (!entry) return;
      entry.remove();
      knocks.delete(id);
      updateLobby();
    },
    knockActionFailed() {
      for (const entry of knocks.values()) for (const b of entry.querySelectorAll('button')) b.disabled = false;
    },
    mediaProblem() {
      shell.announce('meeting.mediaProblem');
    },
    dispose() {
      unsubscribe();
      for (const t of tiles.values()) t.dispose();
    },
  };

  addMember({ id: deps.participant, name: deps.name, role: deps.role }, false);
  for (const p of deps.participants ?? []) addMember(p, false);
  for (const k of deps.knocks ?? []) addKnock(k, false);
  updateLobby();
  layout();
  sync();
  return view;
}
