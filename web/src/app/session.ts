/*
 * One visit to a meeting link: pre-join → (lobby) → meeting → left.
 *
 * The session owns the signaling client and the local media. It sends the
 * room, the display name and (on host links) the host credential; the invite
 * secret stays in this.link and is never put in a message.
 *
 * States and the view shown:
 *   prejoin       prejoinView              (join=1 skips it)
 *   connecting    prejoin busy / "Connecting…"
 *   lobby         lobbyView                ← {"type":"lobby"}
 *   meeting       meetingView              ← {"type":"joined"}
 *   reconnecting  meetingView with a banner (the connection dropped)
 *   over          noticeView (left, denied, removed, ended, lost, media lost)
 *
 * In the meeting the session also owns the media transport (the publish and
 * subscribe connections to the SFU) and routes the roster, lobby, host and
 * media messages to the view and the transport. The server removing us
 * because our media was lost ({"type":"left","reason":…}) ends the meeting
 * with a way to join again.
 *
 * Reconnecting (docs/protocol.md, "Rejoining"): the newest rejoin token
 * (from `joined` and every `pong`) is kept in memory only (reconnect.ts).
 * When the signaling connection drops without us, the server or a host
 * ending the visit, the media connections are closed (the server has let
 * them go with the connection), the meeting view stays with a banner, and a
 * Reconnector retries with backoff, each time opening a new connection and
 * sending `join` with the token. `joined` brings the roster up to date and
 * starts new media connections with the same local tracks; `lobby` means
 * the token was refused, and the visit continues in the lobby like any
 * knock. The token is forgotten when the visit ends (leave, removed, ended,
 * denied, left).
 *
 * End-to-end encryption (app/encryption.ts): each visit gets its own MLS
 * worker, SFrame worker and e2ee session, made before `join` (a guest sends
 * its KeyPackage from the lobby) and kept across reconnects. The server's
 * lobby, joined, mls_* and participant_left messages go to the e2ee
 * session, and what it sends goes out on the current connection. Its
 * epochs give the view the security code and the members of the encrypted
 * group (the roster marks everyone else as not in it); chat and raised
 * hands travel as MLS application messages. A host's "admit" is also told
 * to the group (session.admit), so the committer adds that guest without an
 * invite proof — the server's word (`participant_joined`) alone never adds
 * anyone; a host's "remove" is told to the group too (session.revoke), so
 * that the removed participant is not re-added as a returning member. Media flows only through the encryption: if this browser cannot
 * encrypt frames, no media connection is made at all and the view says so.
 *
 * Simulcast, views and screen share (docs/protocol.md): the server's
 * `layers` goes to the transport (which encodings of our camera to send),
 * `video_quality` to the tile it concerns. What the stage shows is sent as
 * `view` (media/view.ts) whenever it changes and after every subscribe
 * answer; a server that answers `unknown_type` does not know it, and the
 * view is not sent again on that connection. The screen share (one per
 * visit, media/screen.ts) is published on every media connection while it
 * lasts and stopped when the meeting ends for us.
 *
 * Network quality (media/netQuality.ts): every NET_MIN_INTERVAL_MS the
 * publish connection's statistics are rated; our own tile shows the level
 * and the group is told of a change (and of the level again after someone
 * joined), at most that often, as an MLS application message.
 */
import { t, type MessageKey } from '../i18n';
import type { JoinOptions, MeetingLink } from '../links/meetingLink';
import type { LocalMedia } from '../media/local';
import { NET_MIN_INTERVAL_MS, netLevel, NetReporter } from '../media/netQuality';
import { ScreenShare } from '../media/screen';
import { installTestHook } from '../media/testHook';
import { MediaTransport, type MediaEnv } from '../media/transport';
import { computeView, ViewReporter } from '../media/view';
import { ProtocolError, SignalingClient, type TransportFactory } from '../signaling/client';
import type { ClientMessage, ErrorMsg, JoinedMsg, MuteRequestMsg } from '../signaling/protocol';
import { MAX_CHAT_CHARS } from '../e2ee/session';
import { VisitEncryption } from './encryption';
import { lobbyView } from '../ui/lobby';
import { meetingView, type MeetingView } from '../ui/meeting';
import { noticeView } from '../ui/notice';
import { prejoinView } from '../ui/prejoin';
import type { Shell } from '../ui/shell';
import type { Prefs } from './prefs';
import { Reconnector, RejoinToken } from './reconnect';

export type SessionState = 'prejoin' | 'connecting' | 'lobby' | 'meeting' | 'reconnecting' | 'over';

export interface SessionDeps {
  readonly shell: Shell;
  readonly link: MeetingLink;
  readonly options: JoinOptions;
  readonly prefs: Prefs;
  readonly media: LocalMedia;
  readonly signalingUrl: string;
  readonly transport?: TransportFactory;
  /** The browser's WebRTC by default; fakes in tests. */
  readonly mediaEnv?: MediaEnv;
  /** The browser's getDisplayMedia by default. */
  readonly screen?: ScreenShare;
}

/** Client messages whose error replies belong to the media transport. */
const MEDIA_REFS: ReadonlySet<string> = new Set(['publish', 'subscribe_answer', 'subscribe_restart']);
/**
 * The error a server sends for a message type it does not know (it names no
 * ref). In a meeting the only such message we send is `view`, to servers
 * older than it.
 */
const UNKNOWN_TYPE = 'unknown_type';
/** Host actions: an error reply re-enables their buttons and is announced. */
const HOST_REFS: ReadonlySet<string> = new Set(['admit', 'deny', 'remove', 'promote', 'mute', 'lock', 'end']);

/** Server error codes with a message of their own (docs/protocol.md, "Errors"). */
const ERROR_KEYS: { readonly [code: string]: MessageKey } = {
  rate_limited: 'error.rateLimited',
  busy: 'error.busy',
  full: 'error.full',
  too_many_tracks: 'error.tooManyTracks',
};

/** The message to show for a server error reply. */
export function serverErrorKey(code: string): MessageKey {
  return Object.hasOwn(ERROR_KEYS, code) ? ERROR_KEYS[code]! : 'error.server';
}

/** How a visit ends when the server says so. */
export type Ending = 'left' | 'denied' | 'ended' | 'removed' | 'replaced';

export const ENDINGS: { readonly [E in Ending]: { readonly title: MessageKey; readonly text?: MessageKey } } = {
  left: { title: 'left.title' },
  denied: { title: 'denied.title', text: 'denied.text' },
  ended: { title: 'ended.title', text: 'ended.text' },
  removed: { title: 'removed.title', text: 'removed.text' },
  replaced: { title: 'replaced.title', text: 'replaced.text' },
};

/**
 * What to do when the signaling connection drops without anyone meaning
 * it to: in (or coming back to) the meeting with a way back in, reconnect;
 * anywhere else, say the connection was lost.
 */
export function afterDrop(state: SessionState, canRejoin: boolean): 'reconnect' | 'fail' | 'ignore' {
  if (state === 'over' || state === 'prejoin') return 'ignore';
  if ((state === 'meeting' || state === 'reconnecting') && canRejoin) return 'reconnect';
  return 'fail';
}

/** What a host's mute request does to our own media. */
export function muteRequestKey(m: Pick<MuteRequestMsg, 'kind'>): MessageKey {
  return m.kind === 'audio' ? 'meeting.muteRequest.audio' : 'meeting.muteRequest.video';
}

export class MeetingSession {
  readonly #d: SessionDeps;
  #state: SessionState = 'prejoin';
  #client: SignalingClient | null = null;
  #name = '';
  /** Which kinds were live when the connection dropped, to restore on retry. */
  #resume: { video: boolean; audio: boolean } = { video: false, audio: false };
  /** While in the meeting: its view and its media connections. */
  #view: MeetingView | null = null;
  #media: MediaTransport | null = null;
  /** The newest rejoin token: memory only, never stored. */
  readonly #rejoin = new RejoinToken();
  #reconnector: Reconnector | null = null;
  readonly #online = (): void => this.#reconnector?.wake();
  /** The end-to-end encryption of this visit (null between visits). */
  #e2ee: VisitEncryption | null = null;
  /** Our own raised hand, as last confirmed sent. */
  #handRaised = false;
  /** Our screen share (one per visit, published on every media connection). */
  readonly #screen: ScreenShare;
  /** The `view` of the current media connection. */
  #views: ViewReporter | null = null;
  /** Measures our link and tells the group (see above). */
  #netTimer: ReturnType<typeof setInterval> | null = null;
  readonly #net = new NetReporter();

  constructor(deps: SessionDeps) {
    this.#d = deps;
    this.#screen = deps.screen ?? new ScreenShare();
    this.#screen.onChange((track) => {
      this.#media?.setScreen(track);
      this.#view?.setSharing(track !== null);
    });
    installTestHook(() => this.#media, () => this.#e2ee);
  }

  get state(): SessionState {
    return this.#state;
  }

  /** True while connected or connecting (a hash change must not reroute). */
  get active(): boolean {
    return this.#state === 'connecting' || this.#state === 'lobby' || this.#state === 'meeting' || this.#state === 'reconnecting';
  }

  start(): void {
    const { options, prefs } = this.#d;
    const name = options.name ?? (options.autoJoin ? (prefs.name.trim() || null) : null);
    if (options.autoJoin && name !== null) {
      void this.#autoJoin(name);
      return;
    }
    this.#showPrejoin();
  }

  /** Leaves quietly (page closing). */
  dispose(): void {
    this.#stopReconnecting();
    this.#rejoin.clear();
    this.#closeMeeting();
    this.#dropEncryption();
    this.#client?.leave();
    this.#client?.close();
    this.#client = null;
    this.#d.media.stop();
    this.#state = 'over';
  }

  #showPrejoin(): void {
    this.#state = 'prejoin';
    const view = prejoinView({
      media: this.#d.media,
      prefs: this.#d.prefs,
      asHost: this.#d.link.hostKey !== undefined,
      noInvite: this.#d.link.invite === null,
      initialName: this.#name || this.#d.options.name,
      onJoin: (name) => {
        view.setBusy(true);
        view.showError(null);
        void this.#connect(name, (key, params) => {
          this.#dropEncryption();
          this.#state = 'prejoin';
          view.setBusy(false);
          view.showError(key, params);
        });
      },
    });
    this.#d.shell.show(view);
  }

  async #autoJoin(name: string): Promise<void> {
    const { options, prefs, media } = this.#d;
    this.#state = 'connecting';
    this.#d.shell.show(noticeView({ titleKey: 'conn.connecting', busy: true }));
    // Whatever the camera and microphone say, join: a kiosk must not hang on a prompt.
    await media.start({ video: options.camera ? prefs.cameraId : false, audio: options.mic ? prefs.micId : false });
    await this.#connect(name, (key, params) => this.#showFailure(key, params));
  }

  /** Sends on the current connection (false if there is none). */
  #send(msg: ClientMessage): boolean {
    return this.#client?.send(msg) ?? false;
  }

  /**
   * Opens signaling, waits for the welcome, sends join (with the rejoin
   * token if we hold one). Failures before the server answers the join go
   * to onFail; later ones end the session or, in the meeting, reconnect.
   * Resolves true once the join is sent.
   */
  async #connect(name: string, onFail: (key: MessageKey, params?: Readonly<Record<string, string>>) => void): Promise<boolean> {
    this.#name = name;
    if (this.#state !== 'reconnecting') {
      this.#state = 'connecting';
      this.#newEncryption(); // a new visit
    }
    this.#client?.close();
    const client = new SignalingClient(
      this.#d.transport ? { url: this.#d.signalingUrl, transport: this.#d.transport } : { url: this.#d.signalingUrl },
    );
    this.#client = client;
    const current = (): boolean => this.#client === client;
    /** The server has answered our join (joined, lobby or denied). */
    let answered = false;

    client.onInvalid((reason) => {
      // The reason names a field, never message content.
      console.warn(`conclave: ignored a malformed signaling message (${reason})`);
    });
    client.on('lobby', (m) => {
      if (!current()) return;
      answered = true;
      this.#onLobby();
      void this.#e2ee?.session.handle(m);
    });
    client.on('joined', (m) => {
      if (!current()) return;
      answered = true;
      this.#rejoin.update(m.rejoin);
      const view = this.#view;
      if (this.#state === 'reconnecting' && view && view.participant === m.participant) this.#resumeMeeting(client, view, m);
      else this.#showMeeting(client, m);
      void this.#e2ee?.session.handle({ type: 'joined', participant: m.participant, mls: m.mls ?? { create: false, epoch: 0 } });
    });
    client.on('mls_keypackage', (m) => {
      if (current()) void this.#e2ee?.session.handle(m);
    });
    client.on('mls_commit', (m) => {
      if (current()) void this.#e2ee?.session.handle(m);
    });
    client.on('mls_commit_ok', (m) => {
      if (current()) void this.#e2ee?.session.handle(m);
    });
    client.on('mls_commit_rejected', (m) => {
      if (current()) void this.#e2ee?.session.handle(m);
    });
    client.on('mls_welcome', (m) => {
      if (current()) void this.#e2ee?.session.handle(m);
    });
    client.on('mls_app', (m) => {
      if (current()) void this.#e2ee?.session.handle(m);
    });
    client.on('pong', (m) => {
      if (current()) this.#rejoin.update(m.rejoin);
    });
    client.on('participant_joined', (m) => {
      if (current()) this.#view?.addParticipant(m.participant);
    });
    client.on('participant_left', (m) => {
      if (!current()) return;
      this.#view?.removeParticipant(m.participant);
      void this.#e2ee?.session.handle(m);
    });
    client.on('knock', (m) => {
      if (current()) this.#view?.addKnock(m);
    });
    client.on('knock_gone', (m) => {
      if (current()) this.#view?.removeKnock(m.participant);
    });
    client.on('role', (m) => {
      if (current()) this.#view?.setRole(m.participant, m.role);
    });
    client.on('locked', (m) => {
      if (current()) this.#view?.setLocked(m.locked, true);
    });
    client.on('mute_request', (m) => {
      if (current()) this.#muteRequested(m);
    });
    client.on('active_speaker', (m) => {
      if (current()) this.#view?.setSpeaker(m.participant);
    });
    client.on('publish_answer', (m) => {
      if (current()) this.#media?.onPublishAnswer(m.sdp);
    });
    client.on('subscribe_offer', (m) => {
      if (current()) this.#media?.onSubscribeOffer(m.sdp, m.version, m.tracks);
    });
    client.on('layers', (m) => {
      if (current()) this.#media?.onLayers(m.mid, m.active);
    });
    client.on('video_quality', (m) => {
      if (!current()) return;
      const b = this.#media?.bindingOf(m.mid);
      if (b && b.kind === 'video') this.#view?.setQuality(b.participant, b.source === 'screen' ? 'screen' : 'camera', m.layer, m.reason);
    });
    client.on('left', (m) => {
      // Our own leave ends the session before this arrives; a reason means
      // the server took us out: our media was lost, or the same member
      // came back on another connection (another window with our token).
      if (!current() || this.#state !== 'meeting' || m.reason === undefined) return;
      if (m.reason === 'replaced') this.#end('replaced');
      else this.#mediaLost();
    });
    client.on('denied', () => {
      if (current()) this.#end('denied');
    });
    client.on('ended', () => {
      if (current()) this.#end('ended');
    });
    client.on('removed', () => {
      if (current()) this.#end('removed');
    });
    client.on('error', (m: ErrorMsg) => {
      if (!current()) return;
      const key = serverErrorKey(m.code);
      if (this.#state === 'meeting' && m.ref !== undefined && MEDIA_REFS.has(m.ref)) {
        this.#media?.onServerError(m.ref, m.code);
        return;
      }
      if (this.#state === 'meeting' && m.ref === undefined && m.code === UNKNOWN_TYPE) {
        // an older server: the media still flows, at full quality
        console.warn('conclave: the server does not know `view`; not sending it any more');
        this.#views?.disable();
        return;
      }
      if (this.#state === 'meeting' && m.ref === 'view') {
        // not the person's business: the next view (or the next answer) corrects it
        console.warn(`conclave: the server did not take our view (${m.code})`);
        return;
      }
      if (this.#state === 'meeting' && m.ref !== undefined && HOST_REFS.has(m.ref)) {
        this.#view?.knockActionFailed();
        this.#d.shell.announce('meeting.hostActionFailed', { code: m.code });
        return;
      }
      if (!answered && (this.#state === 'connecting' || this.#state === 'reconnecting')) {
        client.close();
        this.#client = null;
        onFail(key, { code: m.code });
      } else {
        this.#d.shell.announce(key, { code: m.code });
      }
    });
    client.onClose(() => {
      if (current()) this.#lost();
    });

    try {
      await client.connect();
    } catch (e) {
      if (!current()) return false;
      this.#client = null;
      onFail(e instanceof ProtocolError && e.reason === 'version' ? 'conn.protocol' : 'conn.lost.text');
      return false;
    }
    if (!current()) return false;
    const { room, hostKey } = this.#d.link;
    return client.join(room, name, hostKey, this.#rejoin.get() ?? undefined);
  }

  #onLobby(): void {
    if (this.#state === 'reconnecting') {
      // The token was refused (expired, or the meeting changed its mind):
      // from here on this is a knock like any other.
      this.#stopReconnecting();
      this.#rejoin.clear();
      this.#closeMeeting();
      this.#newEncryption(); // a knock like any other: a new KeyPackage from the lobby
    }
    this.#showLobby();
  }

  #showLobby(): void {
    this.#state = 'lobby';
    this.#d.shell.show(lobbyView(() => this.#leave()));
  }

  #showMeeting(client: SignalingClient, m: JoinedMsg): void {
    this.#stopReconnecting();
    this.#closeMeeting();
    this.#state = 'meeting';
    const view = meetingView({
      shell: this.#d.shell,
      media: this.#d.media,
      prefs: this.#d.prefs,
      participant: m.participant,
      role: m.role,
      name: this.#name,
      participants: m.participants,
      knocks: m.knocks,
      locked: m.locked,
      onLeave: () => this.#leave(),
      onAdmit: (participant) => {
        this.#send({ type: 'admit', participant });
        // the group adds a guest without an invite proof only on a member's word
        void this.#e2ee?.session.admit(participant);
      },
      onDeny: (participant) => this.#send({ type: 'deny', participant }),
      onRemove: (participant) => {
        this.#send({ type: 'remove', participant });
        // nobody in the group takes it back as a returning member
        void this.#e2ee?.session.revoke(participant);
      },
      onPromote: (participant) => this.#send({ type: 'promote', participant }),
      onAskMute: (participant, kind) => this.#send({ type: 'mute', participant, kind }),
      onLock: (locked) => this.#send({ type: 'lock', locked }),
      onEnd: () => this.#send({ type: 'end' }),
      onChat: (text) => this.#sendChat(text),
      onHand: (raised) => this.#raiseHand(raised),
      onScreen: (share) => this.#share(share),
      screenSupported: this.#screen.supported,
      onViewChange: () => this.#views?.changed(),
    });
    this.#view = view;
    this.#d.shell.show(view);
    this.#showEncryption(view);
    this.#startMedia(client, view);
  }

  // ---- end-to-end encryption ------------------------------------------------------

  /** Starts the encryption of a new visit (the old one, if any, is wiped). */
  #newEncryption(): void {
    this.#dropEncryption();
    const e = new VisitEncryption({
      roomId: this.#d.link.room,
      name: this.#name,
      invite: this.#d.link.invite,
      send: (msg) => {
        this.#send(msg);
      },
    });
    this.#e2ee = e;
    this.#handRaised = false;
    const mine = (): boolean => this.#e2ee === e;
    e.session.on('epoch', (es) => {
      if (mine()) this.#view?.setEpoch(es);
    });
    e.session.on('roster', (members) => {
      if (mine()) this.#view?.setGroup(members);
    });
    e.session.on('status', (status) => {
      if (mine()) this.#view?.setEncryptionStatus(status);
    });
    e.session.on('chat', (c) => {
      if (mine()) this.#view?.addChat({ from: c.from.participant, name: c.from.name, text: c.text, self: false });
    });
    e.session.on('hand', (hnd) => {
      if (mine()) this.#view?.setHand(hnd.from.participant, hnd.raised, hnd.from.name);
    });
    e.session.on('net', (n) => {
      if (mine() && n.from.participant !== '') this.#view?.setNet(n.from.participant, n.level);
    });
    let groupSize = 0;
    e.session.on('roster', (members) => {
      // newcomers have not heard our level yet
      if (mine() && members.length > groupSize) this.#net.repeat();
      groupSize = members.length;
    });
  }

  /** Wipes and stops the visit's encryption. */
  #dropEncryption(): void {
    this.#e2ee?.close();
    this.#e2ee = null;
  }

  /** A new view learns where the encryption stands. */
  #showEncryption(view: MeetingView): void {
    const e = this.#e2ee;
    if (!e) return;
    view.setEncryptionStatus(e.session.status);
    const es = e.session.current;
    if (es) {
      view.setEpoch(es);
      view.setGroup(es.members);
    }
  }

  #sendChat(text: string): void {
    const e = this.#e2ee;
    const view = this.#view;
    if (!e || !view) return;
    if (text.length > MAX_CHAT_CHARS) {
      this.#d.shell.announce('chat.tooLong');
      return;
    }
    void e.session.sendChat(text).then((sent) => {
      if (this.#e2ee !== e || this.#view !== view) return;
      // the group does not echo our own messages: show it here, once sent
      if (sent) view.addChat({ from: view.participant, name: this.#name, text, self: true });
      else this.#d.shell.announce('chat.failed');
      view.chatSent(sent);
    });
  }

  #raiseHand(raised: boolean): void {
    const e = this.#e2ee;
    const view = this.#view;
    if (!e || !view) return;
    void e.session.raiseHand(raised).then((sent) => {
      if (this.#e2ee !== e || this.#view !== view) return;
      if (sent) this.#handRaised = raised;
      view.setHand(view.participant, this.#handRaised, this.#name);
    });
  }

  /** Back in after a reconnect: same view, fresh roster, new media connections. */
  #resumeMeeting(client: SignalingClient, view: MeetingView, m: JoinedMsg): void {
    this.#reconnector?.success();
    this.#stopReconnecting();
    this.#state = 'meeting';
    view.resync(m);
    view.setReconnecting(false);
    this.#startMedia(client, view);
    this.#d.shell.announce('reconnect.done');
  }

  /** Starts or stops our screen share (the view hears the outcome through the share's onChange). */
  #share(on: boolean): void {
    const view = this.#view;
    if (!on) {
      this.#screen.stop();
      return;
    }
    void this.#screen.start().then((problem) => {
      if (problem === null) return;
      if (this.#view === view) view?.setSharing(false);
      this.#d.shell.announce(problem === 'denied' ? 'meeting.screen.denied' : 'meeting.screen.failed');
    });
  }

  /** Rates our link now; shows it and tells the group if it is time (see above). */
  async #measureNet(media: MediaTransport, view: MeetingView): Promise<void> {
    const sample = await media.link().catch(() => null);
    if (!sample || this.#media !== media || this.#view !== view) return;
    const level = netLevel(sample);
    if (level === null) return;
    view.setNet(view.participant, level);
    const now = Date.now();
    const send = this.#net.sample(level, now);
    const e = this.#e2ee;
    if (send === null || !e) return;
    // counted as told only once it went out; until then the next tick tries again
    if (await e.session.sendNet(send)) this.#net.sent(send, now);
  }

  #stopMediaExtras(): void {
    this.#views?.close();
    this.#views = null;
    if (this.#netTimer !== null) clearInterval(this.#netTimer);
    this.#netTimer = null;
  }

  /** New publish and subscribe connections for this signaling connection. */
  #startMedia(client: SignalingClient, view: MeetingView): void {
    this.#stopMediaExtras();
    this.#media?.close();
    this.#media = null;
    const e = this.#e2ee;
    if (!e || !VisitEncryption.supported()) {
      // media only ever goes through the end-to-end encryption: none at all
      view.encryptionUnsupported();
      return;
    }
    let problemShown = false;
    const media = new MediaTransport({
      local: this.#d.media,
      crypto: e.frameCrypto,
      send: (msg) => client.send(msg),
      events: {
        remote: (participant, stream) => view.setRemoteStream(participant, stream),
        screen: (participant, stream) => view.setScreenStream(participant, stream),
        answered: () => views.now(),
        problem: () => {
          if (problemShown) return;
          problemShown = true;
          view.mediaProblem();
        },
      },
      ...(this.#d.mediaEnv ? { env: this.#d.mediaEnv } : {}),
    });
    const dpr = (): number => (typeof window !== 'undefined' ? window.devicePixelRatio : 1);
    const views = new ViewReporter({
      send: (msg) => client.send(msg),
      current: () => computeView(view.shownTiles(), (p, source) => media.midOf(p, source), dpr()),
    });
    this.#views = views;
    this.#media = media;
    media.start();
    if (this.#screen.track) media.setScreen(this.#screen.track);
    this.#netTimer = setInterval(() => void this.#measureNet(media, view), NET_MIN_INTERVAL_MS);
  }

  /** A host asked us to mute: we do, say who asked, and the person can undo it. */
  #muteRequested(m: MuteRequestMsg): void {
    if (this.#state !== 'meeting') return;
    const media = this.#d.media;
    if (m.kind === 'audio') media.setEnabled('audio', false);
    else media.disable('video');
    const name = this.#view?.nameOf(m.by) ?? t('meeting.someHost');
    this.#d.shell.announce(muteRequestKey(m), { name });
  }

  /** Closes the media connections and forgets the meeting view; a screen share ends with them. */
  #closeMeeting(): void {
    this.#stopMediaExtras();
    this.#media?.close();
    this.#media = null;
    this.#view = null;
    this.#screen.stop();
  }

  #leave(): void {
    this.#client?.leave();
    this.#end('left');
  }

  /** Closes everything and shows a final page with a way back in. */
  #end(how: Ending): void {
    this.#stopReconnecting();
    this.#rejoin.clear();
    this.#closeMeeting();
    this.#dropEncryption();
    this.#client?.close();
    this.#client = null;
    this.#d.media.stop();
    this.#state = 'over';
    const { title, text } = ENDINGS[how];
    const actions = [
      { key: 'left.rejoin' as const, onClick: () => this.#showPrejoin() },
      { key: 'nav.home' as const, href: '/' },
    ];
    this.#d.shell.show(text ? noticeView({ titleKey: title, textKey: text, actions, testid: `ended-${how}` }) : noticeView({ titleKey: title, actions, testid: `ended-${how}` }));
  }

  /** The signaling connection dropped without us closing it. */
  #lost(): void {
    this.#client = null;
    const what = afterDrop(this.#state, this.#view !== null && (this.#rejoin.present || this.#d.link.hostKey !== undefined));
    if (what === 'ignore') return;
    if (what === 'reconnect') {
      this.#reconnect();
      return;
    }
    this.#stopReconnecting();
    this.#closeMeeting();
    this.#dropEncryption();
    const media = this.#d.media;
    this.#resume = { video: media.has('video'), audio: media.isLive('audio') };
    media.stop();
    this.#showFailure('conn.lost.text');
  }

  /** Starts (or continues) getting back into the meeting. */
  #reconnect(): void {
    const view = this.#view;
    if (!view) return;
    if (this.#state !== 'reconnecting') {
      this.#state = 'reconnecting';
      // The server let our media go with the connection: so do we. The
      // camera and microphone keep running for the new connections.
      this.#stopMediaExtras();
      this.#media?.close();
      this.#media = null;
      view.clearRemoteStreams();
      view.setReconnecting(true);
      this.#d.shell.announce('reconnect.banner');
      if (typeof window !== 'undefined') window.addEventListener('online', this.#online);
    }
    this.#reconnector ??= new Reconnector({
      attempt: () => this.#connect(this.#name, () => this.#reconnector?.retry()),
      onGiveUp: () => this.#gaveUp(),
    });
    this.#reconnector.retry();
  }

  #stopReconnecting(): void {
    this.#reconnector?.stop();
    this.#reconnector = null;
    if (typeof window !== 'undefined') window.removeEventListener('online', this.#online);
  }

  /** Retrying took too long: the token has expired by now. */
  #gaveUp(): void {
    this.#stopReconnecting();
    this.#rejoin.clear();
    this.#client?.close();
    this.#client = null;
    this.#closeMeeting();
    this.#dropEncryption();
    const media = this.#d.media;
    this.#resume = { video: media.has('video'), audio: media.isLive('audio') };
    media.stop();
    this.#showFailure('reconnect.failed');
  }

  /** The server removed us: our audio and video stopped reaching it. */
  #mediaLost(): void {
    this.#stopReconnecting();
    this.#rejoin.clear();
    this.#closeMeeting();
    this.#dropEncryption();
    this.#client?.close();
    const media = this.#d.media;
    this.#resume = { video: media.has('video'), audio: media.isLive('audio') };
    this.#client = null;
    media.stop();
    this.#state = 'over';
    this.#d.shell.show(
      noticeView({
        titleKey: 'media.lost.title',
        textKey: 'media.lost.text',
        actions: [
          { key: 'left.rejoin', onClick: () => void this.#retry() },
          { key: 'nav.home', href: '/' },
        ],
      }),
    );
  }

  #showFailure(key: MessageKey, params?: Readonly<Record<string, string>>): void {
    this.#dropEncryption();
    this.#state = 'over';
    this.#d.shell.show(
      noticeView({
        titleKey: key === 'conn.lost.text' || key === 'reconnect.failed' ? 'conn.lost.title' : 'join.failed.title',
        textKey: key,
        ...(params ? { textParams: params } : {}),
        actions: [
          { key: 'conn.retry', onClick: () => void this.#retry() },
          { key: 'nav.home', href: '/' },
        ],
      }),
    );
  }

  async #retry(): Promise<void> {
    const { media, prefs } = this.#d;
    this.#state = 'connecting';
    this.#d.shell.show(noticeView({ titleKey: 'conn.connecting', busy: true }));
    if (!media.has('video') && !media.has('audio')) {
      await media.start({ video: this.#resume.video ? prefs.cameraId : false, audio: this.#resume.audio ? prefs.micId : false });
    }
    await this.#connect(this.#name, (key, params) => this.#showFailure(key, params));
  }
}
