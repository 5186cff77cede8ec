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
 *   over        noticeView (left, denied, ended, lost)
 */
import type { MessageKey } from '../i18n';
import type { JoinOptions, MeetingLink } from '../links/meetingLink';
import type { LocalMedia } from '../media/local';
import { ProtocolError, SignalingClient, type TransportFactory } from '../signaling/client';
import type { ErrorMsg, JoinedMsg } from '../signaling/protocol';
import { lobbyView } from '../ui/lobby';
import { meetingView } from '../ui/meeting';
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
}

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

  constructor(deps: SessionDeps) {
    this.#d = deps;
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
      if (current()) this.#showMeeting(m);
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

  #showMeeting(m: JoinedMsg): void {
    this.#state = 'meeting';
    this.#d.shell.show(
      meetingView({
        shell: this.#d.shell,
        media: this.#d.media,
        prefs: this.#d.prefs,
        participant: m.participant,
        role: m.role,
        name: this.#name,
        onLeave: () => this.#leave(),
      }),
    );
  }

  #leave(): void {
    this.#client?.leave();
    this.#end('left.title', undefined);
  }

  /** Closes everything and shows a final page with a way back in. */
  #end(titleKey: MessageKey, textKey: MessageKey | undefined): void {
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
    const media = this.#d.media;
    this.#resume = { video: media.has('video'), audio: media.isLive('audio') };
    this.#client = null;
    media.stop();
    this.#showFailure('conn.lost.text');
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
