/*
 * The member's two media connections to the SFU (docs/protocol.md, "Media
 * negotiation").
 *
 *   publish    ours to offer: one sendonly transceiver per local kind
 *              (microphone, camera) → `publish {sdp}` → `publish_answer`.
 *              The camera is simulcast (media/simulcast.ts): three
 *              encodings of one track; the server's `layers` switches them
 *              on and off (setParameters, on the same queue as the
 *              negotiation). A screen share is one more video transceiver,
 *              named in `publish.sources`; stopping it turns its
 *              transceiver inactive and publishes again (the server ends
 *              the track), sharing again reuses it.
 *              Created when there is something to send; a kind that appears
 *              later (camera turned on after joining without one) adds a
 *              transceiver and publishes again. Turning a kind off or on
 *              again only swaps the sender's track (replaceTrack), and
 *              muting only disables the track: no renegotiation.
 *   subscribe  the server's to offer: made on the first `subscribe_offer`;
 *              every offer is answered (`subscribe_answer {sdp, version}`)
 *              one at a time, in the order they came.
 *
 * Whose media is on which m-line comes from the offer itself (remote.ts):
 * each active m-line names its publisher as the msid stream id, which is
 * also what `ontrack` reports as event.streams[0].id; the offer message's
 * `tracks` says which video is a camera and which a screen. Slots are
 * reused, so the mapping is rebuilt after every offer and each
 * participant's tracks are handed to the UI as a fresh MediaStream
 * whenever they change: microphone and camera together (`remote`), a
 * screen share apart (`screen`).
 *
 * End-to-end encryption (DESIGN.md §5): every sender and receiver gets the
 * SFrame transform of the page (FrameCrypto, e2ee/transform.ts) before its
 * first frame: a sender right after addTransceiver, before the offer; a
 * receiver synchronously in ontrack (and, for certainty, every receiver the
 * offer made, right after it is applied). Both connections are created
 * with the transform's peer connection options. Video prefers VP8, then
 * VP9: whole-frame SFrame survives only those packetizers.
 *
 * ICE: the server is ICE-lite and the browser drives the checks. When a
 * connection goes `disconnected` (for DISCONNECTED_GRACE_MS) or `failed`,
 * publish restarts ICE with a new offer and subscribe asks the server for
 * one (`subscribe_restart`); this repeats every RESTART_RETRY_MS until the
 * connection is back. If media stays lost the server removes the member
 * with `left {reason}`, which the session handles.
 *
 * Nothing here touches the DOM; the browser API is reached through
 * MediaEnv so the negotiation logic can be tested with fakes.
 */
import type { MediaKind } from './local';
import { linkFromStats, type LinkSample } from './netQuality';
import { inboundByMid, parseOfferSlots, RemoteBindings, statsByParticipant, type Binding, type InboundInfo, type OfferSlot, type ParticipantStats } from './remote';
import { SerialQueue } from './serial';
import { cameraEncodings, withActiveLayers } from './simulcast';
import type { PublishMsg, SourceName, SubscribeAnswerMsg, SubscribeRestartMsg, TrackInfo } from '../signaling/protocol';

export const DISCONNECTED_GRACE_MS = 2_000;
export const RESTART_RETRY_MS = 8_000;
export const PUBLISH_ANSWER_TIMEOUT_MS = 15_000;

/** Both connections: no ICE servers (the SFU's host candidates suffice), one transport, rtcp-mux. */
export const PC_CONFIG: RTCConfiguration = { iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };

export type MediaMessage = PublishMsg | SubscribeAnswerMsg | SubscribeRestartMsg;

export interface MediaEnv {
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection;
  createStream(tracks: readonly MediaStreamTrack[]): MediaStream;
  /** The video codecs this browser can use, if it says (RTCRtpReceiver.getCapabilities). */
  videoCodecs?(): readonly RTCRtpCodec[] | null;
}

export const browserEnv: MediaEnv = {
  createPeerConnection: (config) => new RTCPeerConnection(config),
  createStream: (tracks) => new MediaStream([...tracks]),
  videoCodecs: () => (typeof RTCRtpReceiver !== 'undefined' ? (RTCRtpReceiver.getCapabilities?.('video')?.codecs ?? null) : null),
};

/**
 * The frame encryption every sender and receiver must go through
 * (e2ee/transform.ts's MediaEncryption). There is no way to make a
 * transport without it.
 */
export interface FrameCrypto {
  /** Options every RTCPeerConnection must be created with. */
  peerConnectionConfig(): RTCConfiguration;
  encryptSender(sender: RTCRtpSender, kind: MediaKind): void;
  decryptReceiver(receiver: RTCRtpReceiver, kind: MediaKind, participant: string | null): void;
}

/** Rank of a codec in our preference (VP8, VP9 profile 0, their RTX), or -1 to leave it out. */
function codecRank(c: RTCRtpCodec): number {
  const mime = c.mimeType.toLowerCase();
  if (mime === 'video/vp8') return 0;
  if (mime === 'video/vp9') return /profile-id=(?!0\b)/.test(c.sdpFmtpLine ?? '') ? -1 : 1;
  if (mime === 'video/rtx') return 2;
  return -1;
}

/** VP8 first, then VP9, nothing else: the codecs whole-frame SFrame survives. */
export function preferredVideoCodecs(all: readonly RTCRtpCodec[]): RTCRtpCodec[] {
  const ranked = all.map((c) => [codecRank(c), c] as const).filter(([r]) => r >= 0);
  if (!ranked.some(([r]) => r === 0)) return [];
  return ranked.sort((a, b) => a[0] - b[0]).map(([, c]) => c);
}

export type Side = 'publish' | 'subscribe';

export interface TransportEvents {
  /** What arrives from a participant now (microphone and camera); null once nothing does. */
  remote(participant: string, stream: MediaStream | null): void;
  /** A participant's screen share as it arrives now; null once it stopped. */
  screen?(participant: string, stream: MediaStream | null): void;
  /** A subscribe answer went out (the moment to tell the server our view). */
  answered?(): void;
  /** Negotiation failed; the detail names a step or an error code, never SDP. */
  problem?(side: Side, detail: string): void;
}

/** What the transport needs of the local media (media/local.ts's LocalMedia). */
export interface LocalSource {
  readonly stream: MediaStream;
  track(kind: MediaKind): MediaStreamTrack | null;
  onChange(fn: () => void): () => void;
}

export interface TransportOptions {
  readonly local: LocalSource;
  readonly crypto: FrameCrypto;
  readonly send: (msg: MediaMessage) => boolean;
  readonly events: TransportEvents;
  readonly env?: MediaEnv;
}

const KINDS: readonly MediaKind[] = ['audio', 'video'];

class NegotiationError extends Error {}

export class MediaTransport {
  readonly #local: LocalSource;
  readonly #send: (msg: MediaMessage) => boolean;
  readonly #events: TransportEvents;
  readonly #env: MediaEnv;
  readonly #crypto: FrameCrypto;
  /** Receivers that have their decrypting transform. */
  readonly #decrypting = new WeakSet<RTCRtpReceiver>();
  #closed = false;
  #unsubscribeLocal: (() => void) | null = null;

  #pub: RTCPeerConnection | null = null;
  readonly #senders = new Map<MediaKind, RTCRtpSender>();
  /** The screen share's transceiver, once there was one (inactive while not sharing). */
  #screen: RTCRtpTransceiver | null = null;
  readonly #pubQueue: SerialQueue;
  #pubAnswer: { resolve: (sdp: string) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> } | null = null;
  #noMedia = false;

  #sub: RTCPeerConnection | null = null;
  readonly #subQueue: SerialQueue;
  #subVersion = -1;
  readonly #bindings = new RemoteBindings();
  /** The slots (and the server's track list) of the last offer applied. */
  #slots: readonly OfferSlot[] = [];
  #tracks: Readonly<Record<string, TrackInfo>> | undefined = undefined;
  /** The tracks last handed to the UI per participant: camera and microphone, and screen. */
  readonly #shown = new Map<string, readonly MediaStreamTrack[]>();
  readonly #shownScreen = new Map<string, MediaStreamTrack>();

  readonly #iceTimers: Record<Side, ReturnType<typeof setTimeout> | null> = { publish: null, subscribe: null };

  constructor(opts: TransportOptions) {
    this.#local = opts.local;
    this.#send = opts.send;
    this.#events = opts.events;
    this.#env = opts.env ?? browserEnv;
    this.#crypto = opts.crypto;
    this.#pubQueue = new SerialQueue((e) => this.#problem('publish', e));
    this.#subQueue = new SerialQueue((e) => this.#problem('subscribe', e));
  }

  /** Publishes what the local media has, and follows its changes. */
  start(): void {
    if (this.#closed || this.#unsubscribeLocal) return;
    this.#unsubscribeLocal = this.#local.onChange(() => this.#syncLocal());
    this.#syncLocal();
  }

  /** The subscribe offer version last answered (-1: none). */
  get answeredVersion(): number {
    return this.#subVersion;
  }

  /** ICE state of each connection ('none' before it exists). */
  iceStates(): Record<Side, string> {
    return { publish: this.#pub?.iceConnectionState ?? 'none', subscribe: this.#sub?.iceConnectionState ?? 'none' };
  }

  onPublishAnswer(sdp: string): void {
    const p = this.#pubAnswer;
    if (!p) return; // not asked for: ignore
    this.#pubAnswer = null;
    clearTimeout(p.timer);
    p.resolve(sdp);
  }

  onSubscribeOffer(sdp: string, version: number, tracks?: Readonly<Record<string, TrackInfo>>): void {
    if (this.#closed) return;
    this.#subQueue.push(() => this.#answer(sdp, version, tracks));
  }

  /**
   * The server's `layers`: switches the simulcast encodings of the
   * published track on m-line `mid` on or off (in order with negotiation).
   */
  onLayers(mid: string, active: readonly boolean[]): void {
    if (this.#closed) return;
    this.#pubQueue.push(async () => {
      const pc = this.#pub;
      if (!pc || this.#closed) return;
      const tr = pc.getTransceivers().find((t) => t.mid === mid);
      if (!tr) return;
      const next = withActiveLayers(tr.sender.getParameters(), active);
      if (next) await tr.sender.setParameters(next);
    });
  }

  /**
   * Shares a screen (a video track from getDisplayMedia), or stops sharing
   * (null). Publishes again either way.
   */
  setScreen(track: MediaStreamTrack | null): void {
    if (this.#closed || this.#noMedia) return;
    this.#pubQueue.push(async () => {
      if (this.#closed) return;
      let tr = this.#screen;
      if (!track) {
        if (!tr || tr.direction === 'inactive') return;
        await tr.sender.replaceTrack(null);
        tr.direction = 'inactive';
      } else if (tr) {
        await tr.sender.replaceTrack(track);
        tr.direction = 'sendonly';
      } else {
        const pc = this.#publishConnection();
        tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [this.#env.createStream([track])] });
        // the same frame encryption as the camera, before the first frame
        this.#crypto.encryptSender(tr.sender, 'video');
        this.#preferVideoCodecs(tr);
        this.#screen = tr;
      }
      await this.#publish(false);
    });
  }

  /** Whether a screen share is being sent. */
  get sharing(): boolean {
    return this.#screen !== null && this.#screen.direction !== 'inactive' && this.#screen.sender.track !== null;
  }

  /** The subscribe mid that carries a participant's camera or screen, if any. */
  midOf(participant: string, source: SourceName): string | null {
    return this.#bindings.midOf(participant, source);
  }

  /** Whose media a subscribe mid carries (for `video_quality`). */
  bindingOf(mid: string): Binding | null {
    return this.#bindings.ofMid(mid);
  }

  /** The publish connection's view of our link (round trip, loss, outgoing estimate); null without one. */
  async link(): Promise<LinkSample | null> {
    const pc = this.#pub;
    if (!pc || this.#closed) return null;
    const report = await pc.getStats();
    return linkFromStats(report.values());
  }

  /** An error reply from the server whose ref is one of our messages. */
  onServerError(ref: string, code: string): void {
    if (ref === 'publish') {
      if (code === 'no_media') this.#noMedia = true;
      const p = this.#pubAnswer;
      this.#pubAnswer = null;
      if (p) {
        clearTimeout(p.timer);
        p.reject(new NegotiationError(`server: ${code}`));
      } else {
        this.#events.problem?.('publish', `server: ${code}`);
      }
    } else if (ref === 'subscribe_answer' || ref === 'subscribe_restart') {
      this.#events.problem?.('subscribe', `server: ${code}`);
    }
  }

  /** Per-participant receive counters of the subscribe connection. */
  async stats(): Promise<Record<string, ParticipantStats>> {
    const pc = this.#sub;
    if (!pc || this.#closed) return Object.create(null) as Record<string, ParticipantStats>;
    const report = await pc.getStats();
    return statsByParticipant(report.values(), (ssrc) => this.#bindings.participantOfSsrc(ssrc), this.#bindings.participants());
  }

  /** Receive counters of each active subscribe m-line (by the stats' mid), with whose media it is. */
  async inbound(): Promise<InboundInfo[]> {
    const pc = this.#sub;
    if (!pc || this.#closed) return [];
    const report = await pc.getStats();
    return inboundByMid(report.values(), this.#bindings.all(), (ssrc) => this.#bindings.participantOfSsrc(ssrc));
  }

  /**
   * What the publish connection sends: SSRC, kind and codec of each
   * outbound RTP stream, its simulcast rid (null without) and how many
   * frames it encoded.
   */
  async outbound(): Promise<{ ssrc: number; kind: string; mimeType: string | null; rid: string | null; framesEncoded: number }[]> {
    const pc = this.#pub;
    if (!pc || this.#closed) return [];
    const report = await pc.getStats();
    const all = [...report.values()] as Record<string, unknown>[];
    const codec = (id: unknown): string | null => {
      const c = all.find((x) => x['type'] === 'codec' && x['id'] === id);
      return typeof c?.['mimeType'] === 'string' ? c['mimeType'] : null;
    };
    return all
      .filter((x) => x['type'] === 'outbound-rtp' && typeof x['ssrc'] === 'number')
      .map((x) => ({
        ssrc: x['ssrc'] as number,
        kind: String(x['kind'] ?? x['mediaType'] ?? ''),
        mimeType: codec(x['codecId']),
        rid: typeof x['rid'] === 'string' ? x['rid'] : null,
        framesEncoded: typeof x['framesEncoded'] === 'number' ? x['framesEncoded'] : 0,
      }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribeLocal?.();
    this.#unsubscribeLocal = null;
    this.#pubQueue.close();
    this.#subQueue.close();
    for (const side of ['publish', 'subscribe'] as const) this.#clearIceTimer(side);
    const p = this.#pubAnswer;
    this.#pubAnswer = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(new NegotiationError('closed'));
    }
    for (const pc of [this.#pub, this.#sub]) {
      if (!pc) continue;
      pc.oniceconnectionstatechange = null;
      pc.ontrack = null;
      pc.close();
    }
    this.#pub = null;
    this.#sub = null;
    this.#senders.clear();
    this.#screen = null;
    this.#bindings.clear();
    this.#shown.clear();
    this.#shownScreen.clear();
  }

  // ---- publish --------------------------------------------------------------

  /** Matches the senders to the local tracks; publishes again if a kind is new. */
  #syncLocal(): void {
    if (this.#closed || this.#noMedia) return;
    let added = false;
    for (const kind of KINDS) {
      const track = this.#local.track(kind);
      const sender = this.#senders.get(kind);
      if (sender) {
        // Off, on again, or another device: swap the track, no renegotiation.
        if (sender.track !== track) void sender.replaceTrack(track).catch((e: unknown) => this.#problem('publish', e));
      } else if (track) {
        const pc = this.#publishConnection();
        const tr =
          kind === 'video'
            ? pc.addTransceiver(track, { direction: 'sendonly', streams: [this.#local.stream], sendEncodings: cameraEncodings() })
            : pc.addTransceiver(track, { direction: 'sendonly', streams: [this.#local.stream] });
        // before the offer, so before the encoder's first frame
        this.#crypto.encryptSender(tr.sender, kind);
        if (kind === 'video') this.#preferVideoCodecs(tr);
        this.#senders.set(kind, tr.sender);
        added = true;
      }
    }
    if (added) this.#queuePublish(false);
  }

  #preferVideoCodecs(tr: RTCRtpTransceiver): void {
    const codecs = preferredVideoCodecs(this.#env.videoCodecs?.() ?? []);
    if (codecs.length === 0 || typeof tr.setCodecPreferences !== 'function') return;
    try {
      tr.setCodecPreferences(codecs);
    } catch (e) {
      // the server offers VP8/VP9 only anyway; this is a preference
      console.warn(`conclave: could not prefer VP8: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #pcConfig(): RTCConfiguration {
    return { ...PC_CONFIG, ...this.#crypto.peerConnectionConfig() };
  }

  #publishConnection(): RTCPeerConnection {
    if (this.#pub) return this.#pub;
    const pc = this.#env.createPeerConnection(this.#pcConfig());
    pc.oniceconnectionstatechange = () => this.#iceChanged('publish', pc);
    this.#pub = pc;
    return pc;
  }

  #queuePublish(iceRestart: boolean): void {
    this.#pubQueue.push(() => this.#publish(iceRestart));
  }

  /** One offer/answer exchange of the publish connection (run on its queue). */
  async #publish(iceRestart: boolean): Promise<void> {
    const pc = this.#pub;
    if (!pc || this.#closed || this.#noMedia) return;
    if (iceRestart) pc.restartIce();
    const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : {});
    if (this.#closed) return;
    await pc.setLocalDescription(offer);
    const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
    let answer: string;
    try {
      answer = await this.#askPublish(sdp, this.#sources(pc));
    } catch (e) {
      // Back to stable so that the next attempt can offer again.
      if (!this.#closed && pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
      throw e;
    }
    if (this.#closed) return;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  /**
   * `publish.sources`: what each m-line carries. Only written once there is
   * a screen transceiver (the defaults cover microphone and camera), so a
   * server without the field still takes the plain publish.
   */
  #sources(pc: RTCPeerConnection): Record<string, SourceName> | undefined {
    if (!this.#screen?.mid) return undefined;
    const out: Record<string, SourceName> = {};
    for (const t of pc.getTransceivers()) {
      if (!t.mid) continue;
      if (t === this.#screen) out[t.mid] = 'screen';
      else if (t.sender === this.#senders.get('audio')) out[t.mid] = 'microphone';
      else if (t.sender === this.#senders.get('video')) out[t.mid] = 'camera';
    }
    return out;
  }

  #askPublish(sdp: string, sources?: Record<string, SourceName>): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pubAnswer?.timer !== timer) return;
        this.#pubAnswer = null;
        reject(new NegotiationError('no publish_answer'));
      }, PUBLISH_ANSWER_TIMEOUT_MS);
      this.#pubAnswer = { resolve, reject, timer };
      if (!this.#send(sources ? { type: 'publish', sdp, sources } : { type: 'publish', sdp })) {
        clearTimeout(timer);
        this.#pubAnswer = null;
        reject(new NegotiationError('publish not sent'));
      }
    });
  }

  // ---- subscribe ------------------------------------------------------------

  #subscribeConnection(): RTCPeerConnection {
    if (this.#sub) return this.#sub;
    const pc = this.#env.createPeerConnection(this.#pcConfig());
    pc.oniceconnectionstatechange = () => this.#iceChanged('subscribe', pc);
    pc.ontrack = (ev) => {
      // The offer already said whose track this is; the event must agree.
      const b = this.#bindings.ofMid(ev.transceiver.mid);
      const stream = ev.streams[0]?.id ?? null;
      // first, synchronously: no frame may reach the decoder undecrypted
      this.#decrypt(ev.receiver, ev.track.kind, stream ?? b?.participant ?? null);
      if (b && stream !== null && b.participant !== stream) {
        console.warn('conclave: a remote track and the offer disagree about its sender');
      }
      if (b) this.#show(b.participant);
    };
    this.#sub = pc;
    return pc;
  }

  async #answer(sdp: string, version: number, tracks: Readonly<Record<string, TrackInfo>> | undefined): Promise<void> {
    if (this.#closed) return;
    const pc = this.#subscribeConnection();
    // Bound before setRemoteDescription, so that ontrack (fired while it
    // completes) already sees the new owners; undone if the offer is refused.
    const slots = parseOfferSlots(sdp);
    const changed = this.#bindings.apply(slots, tracks);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
    } catch (e) {
      this.#bindings.apply(this.#slots, this.#tracks);
      throw e;
    }
    this.#slots = slots;
    this.#tracks = tracks;
    // every receiver of the offer, including any ontrack did not report
    for (const t of pc.getTransceivers()) {
      const b = this.#bindings.ofMid(t.mid);
      if (b) this.#decrypt(t.receiver, b.kind, b.participant);
      else if (!this.#decrypting.has(t.receiver)) this.#decrypt(t.receiver, t.receiver.track.kind, null);
    }
    const answer = await pc.createAnswer();
    if (this.#closed) return;
    // Sent before setLocalDescription completes: ICE starts with it, the
    // browser starts DTLS as soon as ICE connects, and the server can only
    // answer DTLS once it has the fingerprint in this answer (it holds the
    // first ClientHello until then). On a busy page the promise resolves
    // hundreds of milliseconds after ICE connected. The answer as created
    // is what is applied; the server (ICE-lite) needs no candidates.
    const applied = pc.setLocalDescription(answer);
    this.#send({ type: 'subscribe_answer', sdp: answer.sdp ?? '', version });
    await applied;
    if (this.#closed) return;
    this.#subVersion = version;
    for (const p of new Set([...changed, ...this.#shown.keys(), ...this.#shownScreen.keys()])) this.#show(p);
    this.#events.answered?.();
  }

  /** Puts the decrypting transform on a receiver, or tells it whose media it carries now. */
  #decrypt(receiver: RTCRtpReceiver, kind: string, participant: string | null): void {
    if (kind !== 'audio' && kind !== 'video') return;
    this.#decrypting.add(receiver);
    this.#crypto.decryptReceiver(receiver, kind, participant);
  }

  /** Hands the participant's current tracks to the UI if they changed. */
  #show(participant: string): void {
    const pc = this.#sub;
    if (!pc || this.#closed) return;
    const byMid = new Map<string, RTCRtpTransceiver>();
    for (const t of pc.getTransceivers()) if (t.mid !== null) byMid.set(t.mid, t);
    const tracks: MediaStreamTrack[] = [];
    let screen: MediaStreamTrack | null = null;
    // Audio first, then video, each in m-line order: a stable order.
    for (const kind of KINDS) {
      for (const b of this.#bindings.slotsOf(participant)) {
        const tr = b.kind === kind ? byMid.get(b.mid)?.receiver.track : undefined;
        if (!tr || tr.readyState === 'ended') continue;
        if (b.source === 'screen') screen ??= tr;
        else tracks.push(tr);
      }
    }
    this.#showScreen(participant, screen);
    const before = this.#shown.get(participant) ?? [];
    if (before.length === tracks.length && before.every((t, i) => t === tracks[i])) return;
    if (tracks.length === 0) {
      this.#shown.delete(participant);
      this.#events.remote(participant, null);
    } else {
      this.#shown.set(participant, tracks);
      this.#events.remote(participant, this.#env.createStream(tracks));
    }
  }

  #showScreen(participant: string, track: MediaStreamTrack | null): void {
    if ((this.#shownScreen.get(participant) ?? null) === track) return;
    if (track) this.#shownScreen.set(participant, track);
    else this.#shownScreen.delete(participant);
    this.#events.screen?.(participant, track ? this.#env.createStream([track]) : null);
  }

  // ---- ICE ------------------------------------------------------------------

  #iceChanged(side: Side, pc: RTCPeerConnection): void {
    if (this.#closed) return;
    const state = pc.iceConnectionState;
    if (state === 'connected' || state === 'completed' || state === 'closed') {
      this.#clearIceTimer(side);
    } else if (state === 'failed') {
      this.#clearIceTimer(side);
      this.#restart(side);
    } else if (state === 'disconnected' && this.#iceTimers[side] === null) {
      this.#iceTimers[side] = setTimeout(() => {
        this.#iceTimers[side] = null;
        this.#restart(side);
      }, DISCONNECTED_GRACE_MS);
    }
  }

  /** Restarts ICE of one side, and again later while it stays down. */
  #restart(side: Side): void {
    const pc = side === 'publish' ? this.#pub : this.#sub;
    if (this.#closed || !pc) return;
    const s = pc.iceConnectionState;
    if (s === 'connected' || s === 'completed' || s === 'closed') return;
    if (side === 'publish') this.#queuePublish(true);
    else this.#send({ type: 'subscribe_restart' });
    this.#clearIceTimer(side);
    this.#iceTimers[side] = setTimeout(() => {
      this.#iceTimers[side] = null;
      this.#restart(side);
    }, RESTART_RETRY_MS);
  }

  #clearIceTimer(side: Side): void {
    const t = this.#iceTimers[side];
    if (t !== null) clearTimeout(t);
    this.#iceTimers[side] = null;
  }

  #problem(side: Side, e: unknown): void {
    if (this.#closed) return;
    const detail = e instanceof Error ? e.message : String(e);
    console.warn(`conclave: ${side} negotiation failed: ${detail}`);
    this.#events.problem?.(side, detail);
  }
}
