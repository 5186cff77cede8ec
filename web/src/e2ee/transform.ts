/*
 * Media encryption on the UI thread's side: starts the one SFrame worker of
 * this page and puts it into every RTCRtpSender and RTCRtpReceiver.
 *
 * When to call (so that no frame ever passes unencrypted, DESIGN.md §5):
 *
 *   senders    encryptSender(transceiver.sender, kind) right after
 *              pc.addTransceiver(track, …) (or addTrack), before the offer is
 *              made: the transform is then in place before the encoder
 *              produces its first frame. Until the first epoch key arrives
 *              (setEpoch) the worker drops outgoing frames.
 *   receivers  decryptReceiver(ev.receiver, kind, participant) synchronously
 *              in the subscribe connection's `ontrack` (participant = the
 *              MediaStream id, which docs/protocol.md makes the publisher's
 *              participant id). A reused receiver (the server reuses inactive
 *              m-lines) fires ontrack again: calling again only updates the
 *              participant.
 *   keys       setEpoch(state) on every `epoch` event of the e2ee session;
 *              wipe() when the group is left or lost; close() at the end.
 *
 * Two mechanisms, chosen once per page:
 *
 *   RTCRtpScriptTransform (standard; Chromium has it without flags): the
 *   transform is created with options {role, kind, id, participant} and the
 *   worker sees an `rtctransform` event.
 *
 *   createEncodedStreams() (older Chromium): only available on connections
 *   created with `encodedInsertableStreams: true`, so the caller must build
 *   its RTCPeerConnections with peerConnectionConfig() merged in. The
 *   streams are transferred to the worker.
 *
 * If neither exists, supported() is false and attaching throws: the caller
 * must not send or receive media at all rather than send it in clear.
 */
import type { EpochState } from './mls-protocol';
import type { MediaKind, SFrameReply, SFrameRequest, SFrameStats, TransformOptions } from './sframe-protocol';

interface EncodedStreams {
  readonly readable: ReadableStream;
  readonly writable: WritableStream;
}

/** Sender/receiver of Chromium's legacy encoded-streams API (not in lib.dom). */
interface LegacyEncodedStreams {
  createEncodedStreams?: () => EncodedStreams;
}

function hasScriptTransform(): boolean {
  return typeof (globalThis as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform === 'function';
}

function hasEncodedStreams(): boolean {
  const proto = (globalThis as { RTCRtpSender?: { prototype: object } }).RTCRtpSender?.prototype;
  return !!proto && 'createEncodedStreams' in proto;
}

export class MediaEncryption {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly receivers = new WeakMap<RTCRtpReceiver, number>();
  private readonly senders = new WeakSet<RTCRtpSender>();
  private readonly statsWaiting = new Map<number, (s: SFrameStats) => void>();

  /** `worker` for tests; the app lets it start the SFrame worker. */
  constructor(worker?: Worker) {
    this.worker = worker ?? new Worker(new URL('./sframe-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<unknown>) => {
      const r = ev.data as SFrameReply | null;
      if (r && typeof r === 'object' && r.type === 'stats') {
        this.statsWaiting.get(r.id)?.(r.stats);
        this.statsWaiting.delete(r.id);
      }
    };
  }

  /** True if this browser can run the frame transform at all. */
  static supported(): boolean {
    return hasScriptTransform() || hasEncodedStreams();
  }

  /**
   * Options every RTCPeerConnection of the page must be created with: empty
   * where RTCRtpScriptTransform exists, `encodedInsertableStreams: true`
   * for the createEncodedStreams fallback.
   */
  static peerConnectionConfig(): RTCConfiguration & { encodedInsertableStreams?: boolean } {
    return hasScriptTransform() ? {} : { encodedInsertableStreams: true };
  }

  /** Encrypts everything this sender sends. Call before the first frame (after addTransceiver). */
  encryptSender(sender: RTCRtpSender, kind: MediaKind): void {
    if (this.senders.has(sender)) return;
    this.senders.add(sender);
    this.attach(sender, { role: 'send', kind, id: this.nextId++ });
  }

  /**
   * Decrypts everything this receiver receives, and drops what does not
   * decrypt. Call in ontrack, before the first frame. `participant` (the
   * sender's participant id) makes it also drop frames of anyone else.
   */
  decryptReceiver(receiver: RTCRtpReceiver, kind: MediaKind, participant: string | null = null): void {
    const known = this.receivers.get(receiver);
    if (known !== undefined) {
      this.post({ type: 'participant', id: known, participant });
      return;
    }
    const id = this.nextId++;
    this.receivers.set(receiver, id);
    this.attach(receiver, { role: 'recv', kind, id, participant });
  }

  /** Installs the SFrame key of an MLS epoch; we send under it at once. */
  setEpoch(state: EpochState): void {
    const members: [number, string][] = state.members.filter((m) => m.participant !== '').map((m) => [m.leaf, m.participant]);
    this.post({ type: 'key', epoch: state.epoch, baseKey: state.baseKey, ownLeaf: state.ownLeaf, members });
  }

  /** Forgets every key (outgoing media stops, incoming is dropped). */
  wipe(): void {
    this.post({ type: 'wipe' });
  }

  /** Frame counters of the worker (tests, diagnostics). */
  stats(): Promise<SFrameStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.statsWaiting.set(id, resolve);
      this.post({ type: 'stats', id });
    });
  }

  /** Wipes the keys and stops the worker. */
  close(): void {
    this.wipe();
    this.worker.terminate();
  }

  private attach(target: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): void {
    if (hasScriptTransform()) {
      target.transform = new RTCRtpScriptTransform(this.worker, options);
      return;
    }
    const legacy = target as unknown as LegacyEncodedStreams;
    if (!legacy.createEncodedStreams) throw new Error('this browser cannot encrypt media frames');
    const { readable, writable } = legacy.createEncodedStreams();
    this.worker.postMessage({ type: 'streams', options, readable, writable } satisfies SFrameRequest, [readable, writable]);
  }

  private post(msg: SFrameRequest): void {
    this.worker.postMessage(msg);
  }
}
