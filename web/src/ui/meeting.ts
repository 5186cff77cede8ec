/*
 * The meeting (data-testid="in-meeting"): a grid of participant tiles, a side
 * panel with the roster and (for hosts) the guests waiting in the lobby, and
 * a control bar.
 *
 * Stable hooks (DESIGN.md §9): every member has a tile (data-testid="tile",
 * data-participant=ID, data-self="true" on one's own) holding its <video>,
 * and a roster entry (data-testid="member", data-participant=ID,
 * data-in-group="true|false"). Each waiting guest is a data-testid="knock"
 * entry with "admit" and "deny" buttons.
 *
 * End-to-end encryption made visible (DESIGN.md §5): the roster is the MLS
 * group's member list (setGroup), with the names the group carries. A
 * participant the server has in the meeting but the group does not is
 * flagged "not in the encrypted group" on its tile and roster entry
 * (data-in-group="false"); a group member the server does not show is
 * listed too ("in the encrypted group, not connected"). The security code
 * of the current epoch (data-testid="security-code") sits in the side
 * panel with how to compare it; a change is announced politely.
 *
 * Chat (data-testid chat-input, chat-send, chat-message) and the raised
 * hand (toggle "hand"; a marker data-hand="raised" on tile and roster
 * entry) are MLS application messages; sending waits for the group.
 *
 * One's own tile shows the local stream, muted and mirrored. A remote tile
 * plays that participant's audio and video through its <video>; if the
 * browser refuses to autoplay sound, the tiles play muted and a "Turn on
 * sound" button appears (a click is the permission browsers wait for).
 *
 * Controls are toggle buttons whose accessible name stays fixed
 * ("Microphone") while aria-pressed tells whether it is on.
 *
 * Hosts (DESIGN.md §4, §9) also get, on every other member's roster entry,
 * "Ask to mute", "Make host" (guests only) and "Remove" (data-testid
 * "ask-mute", "promote", "remove"; removing asks first), and in the control
 * bar a "lock" toggle (aria-pressed = locked) and "end" (asks first). A
 * member promoted during the meeting gets all of this, and the lobby list,
 * at once. Everyone sees whether the meeting is locked.
 *
 * The active speaker's tile has the class is-speaking and
 * data-speaking="true"; no other tile has either. While the connection to
 * the server is being re-established a banner (data-testid="reconnecting")
 * says so; the tiles stay, the roster is brought up to date when the
 * meeting takes us back (resync).
 *
 * The tiles live on a stage (ui/stage.ts): a grid, or the speaker view
 * (toggle "layout-toggle", data-layout="grid|speaker") with one large tile
 * and a filmstrip; past what fits, pages ("page-prev", "page-next",
 * "page-indicator"). A member's screen share is a tile of its own
 * (data-testid="screen-tile", data-participant), always the large one.
 * Our own share is started and stopped with the "screen" toggle. What the
 * stage shows, and how large, is reported through onViewChange so that the
 * server forwards only that (media/view.ts). Tiles and roster entries
 * carry the member's network quality ("net-quality", data-level 0..3),
 * and a tile whose video the server holds back for bandwidth says so
 * ("quality-limited"). Tiles themselves are in ui/tiles.ts.
 */
import type { Prefs } from '../app/prefs';
import type { MessageKey } from '../i18n';
import type { LocalMedia, MediaKind } from '../media/local';
import type { E2eeStatus, NetLevel } from '../e2ee/session';
import type { EpochState, Member } from '../e2ee/mls-protocol';
import type { ShownTile } from '../media/view';
import type { Knock, MediaKindName, Participant, QualityReason, Role } from '../signaling/protocol';
import { confirmAction } from './confirm';
import { h, uid } from './dom';
import { tattr, tx } from './i18nDom';
import type { LayoutMode } from './layout';
import { diffRoster, hostActions, placeLeaves, SpeakerMark } from './roster';
import type { Shell, View } from './shell';
import { Stage } from './stage';
import { handMark, markSpeaking, NetMark, RemoteTile, ScreenTile, selfTile, setHandAttr, toggleButton, type Sound } from './tiles';

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
  /** Whether the meeting is locked at the time of joining. */
  readonly locked?: boolean;
  readonly onLeave: () => void;
  readonly onAdmit?: (participant: string) => void;
  readonly onDeny?: (participant: string) => void;
  /** Host actions (sent only after the host confirmed where that is asked). */
  readonly onRemove?: (participant: string) => void;
  readonly onPromote?: (participant: string) => void;
  readonly onAskMute?: (participant: string, kind: MediaKindName) => void;
  readonly onLock?: (locked: boolean) => void;
  readonly onEnd?: () => void;
  /** Send a chat message to the group (the view shows it once sent: addChat). */
  readonly onChat?: (text: string) => void;
  /** Raise or lower our hand. */
  readonly onHand?: (raised: boolean) => void;
  /** Start (true) or stop sharing our screen; the view learns the outcome through setSharing. */
  readonly onScreen?: (share: boolean) => void;
  /** Whether this browser can share a screen (no button otherwise). */
  readonly screenSupported?: boolean;
  /** What the stage shows, or its sizes, may have changed (see shownTiles). */
  readonly onViewChange?: () => void;
}

/** One chat message as shown. */
export interface ChatLine {
  /** The sender's participant id (from MLS). */
  readonly from: string;
  readonly name: string;
  readonly text: string;
  readonly self: boolean;
}

/** What the server says about the meeting when it takes us (back) in. */
export interface MeetingSnapshot {
  readonly role: Role;
  readonly participants: readonly Participant[];
  readonly knocks: readonly Knock[];
  readonly locked: boolean;
}

export interface MeetingView extends View {
  readonly grid: HTMLElement;
  /** A member's screen share as it arrives (null: it stopped). */
  setScreenStream(id: string, stream: MediaStream | null): void;
  /** Whether we share our screen now. */
  setSharing(on: boolean): void;
  /** The received videos on screen now, at their CSS sizes. */
  shownTiles(): ShownTile[];
  /** The server's `video_quality` for a member's camera or screen. */
  setQuality(id: string, source: ShownTile['source'], layer: number, reason: QualityReason): void;
  /** A member's network quality (oneself included). */
  setNet(id: string, level: NetLevel): void;
  /** Grid or speaker view. */
  readonly layout: LayoutMode;
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
  /** A member's role changed (oneself included: a new host gets the host controls). */
  setRole(id: string, role: Role): void;
  /** The meeting was locked or unlocked (announce: say so). */
  setLocked(locked: boolean, announce: boolean): void;
  /** The member who speaks now. */
  setSpeaker(id: string): void;
  /** Shows or hides the "reconnecting" banner. */
  setReconnecting(on: boolean): void;
  /** Forgets every remote stream (the media connections are gone). */
  clearRemoteStreams(): void;
  /** Brings roster, lobby list, role and lock up to date after a reconnect. */
  resync(s: MeetingSnapshot): void;
  /** Our own role now. */
  readonly role: Role;
  /** Our own participant id. */
  readonly participant: string;
  /** The name shown for a member, if it is one. */
  nameOf(id: string): string | undefined;
  /** A new MLS epoch: its security code. */
  setEpoch(es: EpochState): void;
  /** The members of the encrypted group (empty: we are not in it). */
  setGroup(members: readonly Member[]): void;
  /** Where we stand with the encrypted group. */
  setEncryptionStatus(status: E2eeStatus): void;
  /** This browser cannot encrypt media: no audio or video here. */
  encryptionUnsupported(): void;
  addChat(line: ChatLine): void;
  /** The last chat message was sent (true) or not. */
  chatSent(ok: boolean): void;
  setHand(id: string, raised: boolean, name: string): void;
}


export function meetingView(deps: MeetingDeps): MeetingView {
  const { media, prefs, shell } = deps;
  let role: Role = deps.role;
  let locked = deps.locked ?? false;
  const isHost = (): boolean => role === 'host';
  const headingId = uid('meeting-title');
  const heading = tx(h('h1', { id: headingId, class: 'visually-hidden', tabindex: -1 }), 'meeting.title');

  // ---- tiles ----------------------------------------------------------------
  const self = selfTile(deps);
  const stage = new Stage({ onChange: () => deps.onViewChange?.() });
  const grid = stage.grid;
  const tiles = new Map<string, RemoteTile>();
  const screens = new Map<string, ScreenTile>();
  /** Network levels by participant, and the marks on roster entries. */
  const netLevels = new Map<string, NetLevel>();
  const memberNet = new Map<string, NetMark>();
  const streams = new Map<string, MediaStream>();
  const speaker = new SpeakerMark();
  const tileOf = (id: string): HTMLElement | null => (id === deps.participant ? self.tile : (tiles.get(id)?.tile ?? null));

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
  stage.add({ key: deps.participant, el: self.tile, participant: deps.participant, source: 'camera', remote: false, resume: () => self.update() });

  const reconnectBar = h(
    'div',
    { class: 'reconnect-bar warning', 'data-testid': 'reconnecting', role: 'status', hidden: true },
    h('span', { class: 'spinner small', 'aria-hidden': 'true' }),
    tx(h('span'), 'reconnect.banner'),
  );

  const screenKey = (id: string): string => `screen:${id}`;
  const setScreenStream = (id: string, stream: MediaStream | null): void => {
    const had = screens.get(id);
    if (!stream) {
      if (!had) return;
      had.dispose();
      screens.delete(id);
      stage.remove(screenKey(id));
      return;
    }
    if (had) {
      had.setStream(stream);
      return;
    }
    // the name its MLS leaf carries, as on the camera tile
    const name = group.get(id)?.name || nameOf(id) || '';
    const st = new ScreenTile(id, name);
    screens.set(id, st);
    st.setStream(stream);
    stage.add({ key: screenKey(id), el: st.tile, participant: id, source: 'screen', remote: true, resume: () => st.resume() });
    if (name !== '') shell.announce('meeting.screen.announce', { name });
  };

  // ---- roster -----------------------------------------------------------------
  const rosterHeadingId = uid('roster-title');
  const rosterHeading = h('h2', { id: rosterHeadingId });
  const rosterList = h('ul', { class: 'member-list' });
  const lockedNote = tx(h('p', { class: 'locked-note', 'data-testid': 'locked-state', hidden: true }), 'meeting.lockedNote');
  const roster = h('section', { class: 'roster', 'data-testid': 'roster', 'aria-labelledby': rosterHeadingId }, rosterHeading, lockedNote, rosterList);
  /** Every member shown, oneself included. */
  const people = new Map<string, Participant>();
  const members = new Map<string, HTMLElement>();
  /** The encrypted group: its members by participant id (from MLS, never the server). */
  let group = new Map<string, Member>();
  /** Leaves of the group that stand for no participant, or for one that has a leaf already (roster.ts). */
  let unplaced: ReadonlyMap<string, Member> = new Map();
  let e2eeStatus: E2eeStatus = 'idle';
  /** Group members the server does not show: listed apart. */
  const ghosts = new Map<string, HTMLElement>();
  /** Raised hands by participant id. */
  const hands = new Set<string>();
  const inGroup = (id: string): boolean => (id === deps.participant ? e2eeStatus === 'in-group' : group.has(id));
  const updateRosterHeading = (): void => {
    tx(rosterHeading, 'meeting.roster', { n: members.size });
  };
  const nameOf = (id: string): string | undefined => people.get(id)?.name;

  const askRemove = (p: Participant): void => {
    confirmAction(root, {
      titleKey: 'confirm.remove.title',
      textKey: 'confirm.remove.text',
      confirmKey: 'confirm.remove.ok',
      params: { name: p.name },
      danger: true,
      onConfirm: () => deps.onRemove?.(p.id),
    });
  };

  const memberEntry = (p: Participant): HTMLElement => {
    const isSelf = p.id === deps.participant;
    const nameId = uid('member-name');
    const can = hostActions(role, deps.participant, p);
    const actions = h('span', { class: 'member-actions' });
    const action = (testid: string, key: MessageKey, onClick: () => void): void => {
      const b = tx(h('button', { type: 'button', class: 'button small', 'data-testid': testid, 'aria-describedby': nameId }), key);
      b.addEventListener('click', onClick);
      actions.append(b);
    };
    if (can.askMute) {
      action('ask-mute', 'meeting.askMute', () => {
        deps.onAskMute?.(p.id, 'audio');
        shell.announce('meeting.askMute.sent', { name: p.name });
      });
    }
    if (can.promote) action('promote', 'meeting.promote', () => deps.onPromote?.(p.id));
    if (can.remove) action('remove', 'meeting.remove', () => askRemove(p));
    const ok = inGroup(p.id);
    const net = new NetMark();
    net.set(netLevels.get(p.id) ?? null);
    memberNet.set(p.id, net);
    // in the group, the name is the one its MLS leaf carries
    const name = group.get(p.id)?.name || p.name;
    const entry = h(
      'li',
      { class: 'member', 'data-testid': 'member', 'data-participant': p.id, 'data-in-group': ok ? 'true' : 'false', 'data-self': isSelf ? 'true' : undefined },
      h(
        'span',
        { class: 'member-info' },
        isSelf ? tx(h('span', { class: 'member-name', id: nameId }), 'meeting.you', { name }) : h('span', { class: 'member-name', id: nameId }, name),
        p.role === 'host' ? tx(h('span', { class: 'badge' }), 'meeting.host') : null,
        !ok && !isSelf ? tx(h('span', { class: 'tag tag-warn', 'data-testid': 'not-in-group' }), 'e2ee.notInGroup') : null,
        handMark(),
        net.el,
      ),
      actions.childElementCount > 0 ? actions : null,
    );
    setHandAttr(entry, hands.has(p.id));
    return entry;
  };

  /** Draws (or redraws) one roster entry in place. */
  const drawMember = (p: Participant): void => {
    const entry = memberEntry(p);
    const old = members.get(p.id);
    if (old) old.replaceWith(entry);
    else if (p.id === deps.participant) rosterList.prepend(entry);
    else rosterList.append(entry);
    members.set(p.id, entry);
  };

  // ---- lobby (hosts) ------------------------------------------------------------
  const lobbyHeadingId = uid('lobby-list-title');
  const lobbyHeading = h('h2', { id: lobbyHeadingId });
  const lobbyList = h('ul', { class: 'knock-list' });
  const lobby = h('section', { class: 'lobby-list', 'aria-labelledby': lobbyHeadingId, hidden: true }, lobbyHeading, lobbyList);
  const knocks = new Map<string, HTMLElement>();
  const updateLobby = (): void => {
    tx(lobbyHeading, 'meeting.lobby', { n: knocks.size });
    lobby.hidden = !isHost() || knocks.size === 0;
  };

  // ---- end-to-end encryption ------------------------------------------------------
  const securityHeadingId = uid('security-title');
  const securityState = tx(h('p', { class: 'security-state', 'data-testid': 'e2ee-state' }), 'e2ee.state.joining');
  const codeText = h('p', { class: 'security-code', 'data-testid': 'security-code' });
  const codeNone = tx(h('p', { class: 'security-code-none' }), 'e2ee.code.none');
  const security = h(
    'section',
    { class: 'security', 'data-testid': 'security', 'aria-labelledby': securityHeadingId },
    tx(h('h2', { id: securityHeadingId }), 'e2ee.title'),
    securityState,
    tx(h('p', { class: 'security-code-label' }), 'e2ee.code.label'),
    codeText,
    codeNone,
    tx(h('p', { class: 'help' }), 'e2ee.code.help'),
  );
  const unsupportedNote = tx(h('p', { class: 'warning', 'data-testid': 'e2ee-unsupported', role: 'alert', hidden: true }), 'e2ee.unsupported');
  let shownCode: string | null = null;

  // ---- chat ---------------------------------------------------------------------------
  const chatHeadingId = uid('chat-title');
  const chatInputId = uid('chat-input');
  // the live region (role=log) wraps the list, so that the list stays a
  // list; both sit in a box of fixed height that scrolls by itself, so
  // arriving messages never move the input and the send button (nor
  // scroll the page) under the pointer of someone about to click
  const chatLog = h('ol', { class: 'chat-log' });
  const chatLive = h('div', { role: 'log', 'aria-labelledby': chatHeadingId }, chatLog);
  const chatEmpty = tx(h('p', { class: 'chat-empty help' }), 'chat.empty');
  const chatBody = h('div', { class: 'chat-body', 'data-testid': 'chat-body' }, chatEmpty, chatLive);
  const chatInput = h('input', { id: chatInputId, class: 'chat-input', 'data-testid': 'chat-input', type: 'text', maxlength: 2000, autocomplete: 'off' });
  const chatSend = tx(h('button', { type: 'submit', class: 'button primary small', 'data-testid': 'chat-send' }), 'chat.send');
  const chatHint = tx(h('p', { class: 'help chat-hint' }), 'chat.notReady');
  const chatForm = h(
    'form',
    { class: 'chat-form' },
    tx(h('label', { for: chatInputId, class: 'visually-hidden' }), 'chat.label'),
    chatInput,
    chatSend,
  );
  const chat = h('section', { class: 'chat', 'data-testid': 'chat', 'aria-labelledby': chatHeadingId }, tx(h('h2', { id: chatHeadingId }), 'chat.title'), chatBody, chatHint, chatForm);
  let chatBusy = false;
  const syncChat = (): void => {
    const ready = e2eeStatus === 'in-group';
    chatSend.disabled = !ready || chatBusy;
    chatHint.hidden = ready;
  };
  chatForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = chatInput.value.trim();
    if (text === '' || chatBusy || e2eeStatus !== 'in-group') return;
    chatBusy = true;
    syncChat();
    deps.onChat?.(text);
  });

  const side = h('aside', { class: 'side' }, lobby, security, roster, chat);

  // ---- controls -----------------------------------------------------------------
  const mic = toggleButton('mic', 'meeting.mic');
  const camera = toggleButton('camera', 'meeting.camera');
  const hand = toggleButton('hand', 'meeting.hand');
  const screenButton = toggleButton('screen', 'meeting.screen');
  screenButton.button.hidden = deps.screenSupported !== true;
  const layoutButton = toggleButton('layout-toggle', 'meeting.layout');
  const applyLayout = (): void => {
    const speakerView = stage.mode === 'speaker';
    layoutButton.setOn(speakerView, true);
    layoutButton.button.setAttribute('data-layout', stage.mode);
  };
  layoutButton.button.addEventListener('click', () => {
    stage.setMode(stage.mode === 'speaker' ? 'grid' : 'speaker');
    applyLayout();
    shell.announce(stage.mode === 'speaker' ? 'meeting.layout.speaker' : 'meeting.layout.grid');
  });
  let sharing = false;
  screenButton.button.addEventListener('click', () => {
    // the session answers with setSharing once the browser said yes or no
    screenButton.button.disabled = !sharing;
    deps.onScreen?.(!sharing);
  });
  const lock = toggleButton('lock', 'meeting.lock');
  lock.button.classList.add('host-only');
  const end = tattr(
    h('button', { type: 'button', class: 'control control-end host-only', 'data-testid': 'end' }, tx(h('span', { class: 'control-label' }), 'meeting.end')),
    'aria-label',
    'meeting.end.label',
  );
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
  lock.button.addEventListener('click', () => {
    if (!isHost()) return;
    // The server's `locked` confirms it; until then the button waits.
    lock.button.disabled = true;
    deps.onLock?.(!locked);
  });
  end.addEventListener('click', () => {
    if (!isHost()) return;
    confirmAction(root, {
      titleKey: 'confirm.end.title',
      textKey: 'confirm.end.text',
      confirmKey: 'confirm.end.ok',
      danger: true,
      onConfirm: () => deps.onEnd?.(),
    });
  });
  leave.addEventListener('click', deps.onLeave);
  hand.button.addEventListener('click', () => {
    if (e2eeStatus !== 'in-group') {
      shell.announce('chat.notReady');
      return;
    }
    deps.onHand?.(!hands.has(deps.participant));
  });

  const unsubscribe = media.onChange(sync);

  const controls = tattr(
    h('div', { class: 'controls', role: 'group' }, mic.button, camera.button, screenButton.button, hand.button, layoutButton.button, lock.button, end, leave),
    'aria-label',
    'meeting.controls',
  );

  const root = h(
    'section',
    { class: 'meeting', 'data-testid': 'in-meeting', 'aria-labelledby': headingId },
    heading,
    reconnectBar,
    unsupportedNote,
    soundBar,
    h('div', { class: 'meeting-body' }, stage.root, side),
    controls,
  );

  /** Shows or hides everything that only hosts have. */
  const applyRole = (): void => {
    lock.button.hidden = !isHost();
    end.hidden = !isHost();
    root.classList.toggle('is-host', isHost());
    updateLobby();
  };

  const applyLocked = (): void => {
    lock.setOn(locked, true);
    lock.button.disabled = false;
    lockedNote.hidden = !locked;
    root.classList.toggle('is-locked', locked);
  };

  // ---- encryption state on tiles and roster ---------------------------------------------
  const drawTileFlag = (id: string): void => {
    const remote = tiles.get(id);
    if (!remote) return;
    const tile = remote.tile;
    tile.setAttribute('data-in-group', inGroup(id) ? 'true' : 'false');
    setHandAttr(tile, hands.has(id));
    // in the group, the caption shows the name its MLS leaf carries
    const p = people.get(id);
    const name = group.get(id)?.name;
    if (p && name) remote.setInfo({ ...p, name });
    const shown = name || p?.name;
    if (shown) screens.get(id)?.setName(shown);
  };

  /** Group members the server does not show, listed after the others. */
  const drawGhosts = (): void => {
    const want = new Map<string, Member>();
    for (const [id, m] of group) if (!m.self && !people.has(id)) want.set(id, m);
    for (const [key, m] of unplaced) want.set(key, m);
    for (const [id, el] of [...ghosts]) {
      if (!want.has(id)) {
        el.remove();
        ghosts.delete(id);
      }
    }
    for (const [id, m] of want) {
      if (ghosts.has(id)) continue;
      const el = h(
        'li',
        { class: 'member is-ghost', 'data-testid': 'member', 'data-participant': m.participant, 'data-in-group': 'true' },
        h(
          'span',
          { class: 'member-info' },
          h('span', { class: 'member-name' }, m.name),
          tx(h('span', { class: 'tag tag-muted' }), 'e2ee.notConnected'),
        ),
      );
      rosterList.append(el);
      ghosts.set(id, el);
    }
  };

  /** Redraws every roster entry and tile flag after the group changed. */
  const redrawGroup = (): void => {
    for (const q of people.values()) drawMember(q);
    for (const id of tiles.keys()) drawTileFlag(id);
    drawGhosts();
  };

  const setHand = (id: string, raised: boolean, name: string): void => {
    const had = hands.has(id);
    if (raised) hands.add(id);
    else hands.delete(id);
    if (id === deps.participant) {
      hand.setOn(raised, true);
      setHandAttr(self.tile, raised);
    }
    drawTileFlag(id);
    const entry = members.get(id);
    if (entry) setHandAttr(entry, raised);
    if (raised && !had && id !== deps.participant) shell.announce('meeting.hand.announce', { name });
  };

  // ---- the view's operations --------------------------------------------------------
  /** Ids that were members before a reconnect: their coming back is not news. */
  const returning = new Set<string>();

  const addMember = (p: Participant, announce: boolean): void => {
    const isSelf = p.id === deps.participant;
    if (!isSelf && !tiles.has(p.id)) {
      const tile = new RemoteTile(p, sound);
      tiles.set(p.id, tile);
      const s = streams.get(p.id);
      if (s) tile.setStream(s);
      tile.net.set(netLevels.get(p.id) ?? null);
      markSpeaking(tile.tile, speaker.is(p.id));
      stage.add({ key: p.id, el: tile.tile, participant: p.id, source: 'camera', remote: true, resume: () => tile.resume() });
    } else if (!isSelf) {
      tiles.get(p.id)?.setInfo(p);
    }
    people.set(p.id, p);
    drawMember(p);
    drawTileFlag(p.id);
    drawGhosts();
    updateRosterHeading();
    const back = returning.delete(p.id);
    if (announce && !isSelf && !back) shell.announce('meeting.joined.announce', { name: p.name });
  };

  const dropMember = (id: string, announce: boolean): void => {
    if (id === deps.participant) return;
    const tile = tiles.get(id);
    if (tile) {
      tile.dispose();
      tiles.delete(id);
      stage.remove(id);
    }
    setScreenStream(id, null);
    netLevels.delete(id);
    memberNet.delete(id);
    streams.delete(id);
    speaker.forget(id);
    const entry = members.get(id);
    if (entry) {
      entry.remove();
      members.delete(id);
      updateRosterHeading();
    }
    const name = nameOf(id);
    people.delete(id);
    hands.delete(id);
    if (announce && name !== undefined) shell.announce('meeting.left.announce', { name });
    drawGhosts();
  };

  const addKnock = (k: Knock, announce: boolean): void => {
    if (!isHost() || knocks.has(k.participant)) return;
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

  const removeKnock = (id: string): void => {
    const entry = knocks.get(id);
    if (!entry) return;
    entry.remove();
    knocks.delete(id);
    updateLobby();
  };

  const setRole = (id: string, next: Role, announce: boolean): void => {
    if (id === deps.participant) {
      if (role === next) return;
      role = next;
      self.setRole(next);
      people.set(id, { id, name: deps.name, role: next });
      // Every entry's buttons depend on our own role.
      for (const q of people.values()) drawMember(q);
      if (!isHost()) for (const k of [...knocks.keys()]) removeKnock(k);
      applyRole();
      if (announce && next === 'host') shell.announce('meeting.role.self');
      return;
    }
    const p = people.get(id);
    if (!p || p.role === next) return;
    const updated: Participant = { ...p, role: next };
    people.set(id, updated);
    tiles.get(id)?.setInfo(updated);
    drawTileFlag(id);
    drawMember(updated);
    if (announce && next === 'host') shell.announce('meeting.role.announce', { name: updated.name });
  };

  const view: MeetingView = {
    root,
    titleKey: 'meeting.title',
    focus: heading,
    grid,
    get layout() {
      return stage.mode;
    },
    setScreenStream,
    setSharing(on) {
      const was = sharing;
      sharing = on;
      screenButton.setOn(on, true);
      screenButton.button.disabled = false;
      if (on && !was) shell.announce('meeting.screen.self');
    },
    shownTiles: () => stage.shown(),
    setQuality(id, source, layer, reason) {
      const note = source === 'screen' ? screens.get(id)?.quality : tiles.get(id)?.quality;
      note?.set(layer, reason);
    },
    setNet(id, level) {
      netLevels.set(id, level);
      if (id === deps.participant) self.net.set(level);
      else tiles.get(id)?.net.set(level);
      memberNet.get(id)?.set(level);
    },
    get role() {
      return role;
    },
    participant: deps.participant,
    nameOf,
    addParticipant: (p) => addMember(p, true),
    removeParticipant: (id) => dropMember(id, true),
    setRemoteStream(id, stream) {
      if (stream) streams.set(id, stream);
      else streams.delete(id);
      tiles.get(id)?.setStream(stream);
    },
    addKnock: (k) => addKnock(k, true),
    removeKnock,
    knockActionFailed() {
      for (const entry of knocks.values()) for (const b of entry.querySelectorAll('button')) b.disabled = false;
      lock.button.disabled = false;
    },
    mediaProblem() {
      shell.announce('meeting.mediaProblem');
    },
    setRole: (id, next) => setRole(id, next, true),
    setLocked(next, announce) {
      const changed = next !== locked;
      locked = next;
      applyLocked();
      if (announce && changed) shell.announce(next ? 'meeting.locked.announce' : 'meeting.unlocked.announce');
    },
    setSpeaker(id) {
      const before = speaker.set(id);
      if (before !== null) {
        const t = tileOf(before);
        if (t) markSpeaking(t, false);
      }
      const t = tileOf(id);
      if (t) markSpeaking(t, true);
      stage.setSpeaker(id);
    },
    setReconnecting(on) {
      reconnectBar.hidden = !on;
      root.classList.toggle('is-reconnecting', on);
    },
    clearRemoteStreams() {
      streams.clear();
      for (const t of tiles.values()) {
        t.setStream(null);
        t.quality.clear();
      }
      for (const id of [...screens.keys()]) setScreenStream(id, null);
      const was = speaker.current;
      speaker.clear();
      if (was !== null) {
        const t = tileOf(was);
        if (t) markSpeaking(t, false);
      }
    },
    resync(snap) {
      const list = snap.participants.some((p) => p.id === deps.participant)
        ? snap.participants
        : [{ id: deps.participant, name: deps.name, role: snap.role }, ...snap.participants];
      const diff = diffRoster(people, list);
      // Members missing now may come back in a moment (everyone reconnects
      // after a server restart): quietly take them out, and do not announce
      // their return as news.
      for (const id of diff.gone) {
        returning.add(id);
        dropMember(id, false);
      }
      if (snap.role !== role) setRole(deps.participant, snap.role, true);
      for (const p of diff.changed) {
        if (p.id === deps.participant) continue;
        setRole(p.id, p.role, false);
      }
      for (const p of diff.added) addMember(p, false);
      for (const id of [...knocks.keys()]) if (!snap.knocks.some((k) => k.participant === id)) removeKnock(id);
      for (const k of snap.knocks) addKnock(k, false);
      view.setLocked(snap.locked, false);
    },
    setEpoch(es) {
      const changed = shownCode !== null && shownCode !== es.securityCode;
      shownCode = es.securityCode;
      codeText.textContent = es.securityCode;
      codeNone.hidden = true;
      if (changed) shell.announce('e2ee.code.changed');
    },
    setGroup(list) {
      const placed = placeLeaves(list);
      group = new Map(placed.byParticipant);
      unplaced = placed.unplaced;
      // hands of those who left the group are down
      for (const id of [...hands]) if (id !== deps.participant && !group.has(id)) setHand(id, false, '');
      redrawGroup();
    },
    setEncryptionStatus(status) {
      const was = e2eeStatus;
      e2eeStatus = status;
      const inside = status === 'in-group';
      tx(securityState, inside ? 'e2ee.state.inGroup' : status === 'removed' ? 'e2ee.state.out' : 'e2ee.state.joining');
      root.classList.toggle('is-unencrypted', !inside);
      if (!inside) {
        shownCode = null;
        codeText.textContent = '';
        codeNone.hidden = false;
        if (status === 'joining' && was === 'in-group') shell.announce('e2ee.lost');
      }
      syncChat();
      redrawGroup();
    },
    encryptionUnsupported() {
      unsupportedNote.hidden = false;
    },
    addChat(line) {
      const item = h(
        'li',
        { class: 'chat-message', 'data-testid': 'chat-message', 'data-from': line.from, 'data-self': line.self ? 'true' : undefined },
        line.self ? tx(h('span', { class: 'chat-from' }), 'meeting.you', { name: line.name }) : h('span', { class: 'chat-from' }, line.name),
        h('span', { class: 'chat-text' }, line.text),
      );
      // follow the newest message unless the reader scrolled up to older ones
      const following = line.self || chatBody.scrollHeight - chatBody.scrollTop - chatBody.clientHeight < 8;
      chatLog.append(item);
      chatEmpty.hidden = true;
      if (following) chatBody.scrollTop = chatBody.scrollHeight;
    },
    chatSent(ok) {
      chatBusy = false;
      if (ok) chatInput.value = '';
      syncChat();
    },
    setHand,
    dispose() {
      unsubscribe();
      stage.dispose();
      for (const t of tiles.values()) t.dispose();
      for (const t of screens.values()) t.dispose();
    },
  };

  addMember({ id: deps.participant, name: deps.name, role: deps.role }, false);
  for (const p of deps.participants ?? []) addMember(p, false);
  for (const k of deps.knocks ?? []) addKnock(k, false);
  updateLobby();
  applyRole();
  applyLocked();
  applyLayout();
  screenButton.setOn(false, true);
  sync();
  hand.setOn(false, true);
  syncChat();
  return view;
}
