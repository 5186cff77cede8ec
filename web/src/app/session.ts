/*
 * One visit to a meeting link: pre-join → (lobby) → meeting → left.
 *
 * The session owns the signaling client and the local media. It sends the
 * room, the display name and (on host links) the host credential; the invite
 * secret stays in this.link and is never put in a message.
 *
 * States and the view shown:
 *   prejoin     prejoinView              (join=1 skips it)
 *   connecting  prejoin busy / "Connecting…"
 *   lobby       lobbyView                ← {"type":"lobby"}
 *   meeting     meetingView              ← {"type":"joined"}
 *   over        noticeView (left, denied, ended, lost, media lost)
 *
 * In the meeting the session also owns the media transport (the publish and
 * subscribe connections to the SFU) and routes the roster, lobby and media
 * messages to the view and the transport. The server removing us because
 * our media was lost ({"type":"left","reason":…}) ends the meeting with a
 * way to join again.
 */
import type { MessageKey } from '../i18n';
import type { JoinOptions, MeetingLink } from '../links/meetingLink';
import type { LocalMedia } from '../media/local';
import { installTestHook } from '../media/testHook';
import { MediaTransport, type MediaEnv } from '../media/transport';
import { ProtocolError, SignalingClient, type TransportFactory } from '../signaling/client';
import type { ErrorMsg, JoinedMsg } from '../signaling/protocol';
import { lobbyView } from '../ui/lobby';
import { meetingView, type MeetingView } from '../ui/meeting';
import { noticeView } from '../ui/notice';
import { prejoinView } from '../ui/prejoin';
import type { Shell } from '../ui/shell';
import type { Prefs } from './prefs';

export type SessionState = 'prejoin' | 'connecting' | 'lobby' | 'meeting' | 'over';

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
}

/** Client messages whose error replies belong to the media transport. */
const MEDIA_REFS: ReadonlySet<string> = new Set(['publish', 'subscribe_answer', 'subscribe_restart']);
const HOST_REFS: ReadonlySet<string> = new Set(['admit', 'deny']);

/** The message to show for a server error reply. */
export function serverErrorKey(code: string): MessageKey {
  return code === 'rate_limited' ? 'error.rateLimited' : 'error.server';
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

  constructor(deps: SessionDeps) {
    this.#d = deps;
    installTestHook(() => this.#media);
  }

  get state(): SessionState {
    return this.#state;
  }

  /** True while connected or connecting (a hash change must not reroute). */
  get active(): boolean {
    return this.#state === 'connecting' || this.#state === 'lobby' || this.#state === 'meeting';
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
    this.#closeMeeting();
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
      initialName: this.#name || this.#d.options.name,
      onJoin: (name) => {
        view.setBusy(true);
        view.showError(null);
        void this.#connect(name, (key, params) => {
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

  /**
   * Opens signaling, waits for the welcome, sends join. Failures before the
   * server answers the join go to onFail; later ones end the session.
   */
  async #connect(name: string, onFail: (key: MessageKey, params?: Readonly<Record<string, string>>) => void): Promise<void> {
    this.#name = name;
    this.#state = 'connecting';
    this.#client?.close();
    const client = new SignalingClient(
      this.#d.transport ? { url: this.#d.signalingUrl, transport: this.#d.transport } : { url: this.#d.signalingUrl },
    );
    this.#client = client;
    const current = (): boolean => this.#client === client;

    client.onInvalid((reason) => {
      // The reason names a field, never message content.
      console.warn(`conclave: ignored a malformed signaling message (${reason})`);
    });
    client.on('lobby', () => {
      if (current()) this.#showLobby();
    });
    client.on('joined', (m) => {
      if (current()) this.#showMeeting(client, m);
    });
    client.on('participant_joined', (m) => {
      if (current()) this.#view?.addParticipant(m.participant);
    });
    client.on('participant_left', (m) => {
      if (current()) this.#view?.removeParticipant(m.participant);
    });
    client.on('knock', (m) => {
      if (current()) this.#view?.addKnock(m);
    });
    client.on('knock_gone', (m) => {
      if (current()) this.#view?.removeKnock(m.participant);
    });
    client.on('publish_answer', (m) => {
      if (current()) this.#media?.onPublishAnswer(m.sdp);
    });
    client.on('subscribe_offer', (m) => {
      if (current()) this.#media?.onSubscribeOffer(m.sdp, m.version);
    });
    client.on('left', (m) => {
      // Our own leave ends the session before this arrives; a reason means
      // the server took us out because our media was lost.
      if (current() && this.#state === 'meeting' && m.reason !== undefined) this.#mediaLost();
    });
    client.on('denied', () => {
      if (current()) this.#end('denied.title', 'denied.text');
    });
    client.on('ended', () => {
      if (current()) this.#end('ended.title', 'ended.text');
    });
    client.on('error', (m: ErrorMsg) => {
      if (!current()) return;
      const key = serverErrorKey(m.code);
      if (this.#state === 'meeting' && m.ref !== undefined && MEDIA_REFS.has(m.ref)) {
        this.#media?.onServerError(m.ref, m.code);
        return;
      }
      if (this.#state === 'meeting' && m.ref !== undefined && HOST_REFS.has(m.ref)) this.#view?.knockActionFailed();
      if (this.#state === 'connecting') {
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
      if (!current()) return;
      this.#client = null;
      onFail(e instanceof ProtocolError && e.reason === 'version' ? 'conn.protocol' : 'conn.lost.text');
      return;
    }
    if (!current()) return;
    const { room, hostKey } = this.#d.link;
    client.join(room, name, hostKey);
  }

  #showLobby(): void {
    this.#state = 'lobby';
    this.#d.shell.show(lobbyView(() => this.#leave()));
  }

  #showMeeting(client: SignalingClient, m: JoinedMsg): void {
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
      onLeave: () => this.#leave(),
      onAdmit: (participant) => client.send({ type: 'admit', participant }),
      onDeny: (participant) => client.send({ type: 'deny', participant }),
    });
    this.#view = view;
    this.#d.shell.show(view);
    let problemShown = false;
    const media = new MediaTransport({
      local: this.#d.media,
      send: (msg) => client.send(msg),
      events: {
        remote: (participant, stream) => view.setRemoteStream(participant, stream),
        problem: () => {
          if (problemShown) return;
          problemShown = true;
          view.mediaProblem();
        },
      },
      ...(this.#d.mediaEnv ? { env: this.#d.mediaEnv } : {}),
    });
    this.#media = media;
    media.start();
  }

  /** Closes the media connections and forgets the meeting view. */
  #closeMeeting(): void {
    this.#media?.close();
    this.#media = null;
    this.#view = null;
  }

  #leave(): void {
    this.#client?.leave();
    this.#end('left.title', undefined);
  }

  /** Closes everything and shows a final page with a way back in. */
  #end(titleKey: MessageKey, textKey: MessageKey | undefined): void {
    this.#closeMeeting();
    this.#client?.close();
    this.#client = null;
    this.#d.media.stop();
    this.#state = 'over';
    const actions = [
      { key: 'left.rejoin' as const, onClick: () => this.#showPrejoin() },
      { key: 'nav.home' as const, href: '/' },
    ];
    this.#d.shell.show(textKey ? noticeView({ titleKey, textKey, actions }) : noticeView({ titleKey, actions }));
  }

  #lost(): void {
    this.#closeMeeting();
    const media = this.#d.media;
    this.#resume = { video: media.has('video'), audio: media.isLive('audio') };
    this.#client = null;
    media.stop();
    this.#showFailure('conn.lost.text');
  }

  /** The server removed us: our audio and video stopped reaching it. */
  #mediaLost(): void {
    this.#closeMeeting();
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
    this.#state = 'over';
    this.#d.shell.show(
      noticeView({
        titleKey: key === 'conn.lost.text' ? 'conn.lost.title' : 'join.failed.title',
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
