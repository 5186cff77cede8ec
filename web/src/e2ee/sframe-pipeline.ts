/*
 * The frame path inside the SFrame worker: a TransformStream per sender or
 * receiver that encrypts or decrypts every encoded frame with the one
 * SFrameKeyStore, and the counters tests read. Kept apart from the worker
 * entry so it runs under Vitest too.
 *
 * The whole frame is encrypted, codec payload header included: the SFU
 * forwards by RTP header and header extensions only and never parses a
 * payload (DESIGN.md §3), so no byte needs to stay in the clear, and a VP8
 * decoder at the SFU (or anywhere else) gets nothing usable. The SFrame
 * header (KID, CTR) is the only cleartext in the payload; it is
 * authenticated as AAD.
 *
 * Fail closed, both ways: an outgoing frame without a key is dropped, not
 * sent in clear; an incoming frame that does not decrypt (unknown epoch,
 * not a member, forged, or from a participant other than the one this
 * receiver carries) is dropped, never handed to the decoder.
 *
 * Key frames: when a receiver starts decrypting a sender's new epoch (and on
 * its first good frame, or the first after failures) it asks for a key
 * frame (RTCRtpScriptTransformer.sendKeyFrameRequest, at most once per
 * KEYFRAME_REQUEST_MIN_MS), so a key frame follows every key change even
 * though Chromium's sender side cannot generate one on demand.
 */
import { parseHeader } from './sframe';
import { type SFrameKeyStore, kidFields } from './sframe-keys';
import type { EpochCounters, SFrameStats, TransformOptions, TransformStats } from './sframe-protocol';

export const KEYFRAME_REQUEST_MIN_MS = 1000;

/** The part of an encoded audio or video frame we touch. */
export interface EncodedFrame {
  data: ArrayBuffer;
  readonly type?: string;
}

/** The part of RTCRtpScriptTransformer we use (receiver side). */
export interface KeyFrameRequester {
  sendKeyFrameRequest?: () => Promise<void>;
}

interface Entry {
  readonly options: TransformOptions;
  participant: string | null;
  frames: number;
  passed: number;
  dropped: number;
  lastEpoch: number | null;
  failedSinceOk: number;
  lastKeyFrameRequest: number;
}

export class FramePipeline {
  private readonly entries = new Map<number, Entry>();
  private encrypted = 0;
  private decrypted = 0;
  private failed = 0;
  private unsent = 0;
  private keyFrameRequests = 0;
  /** The epoch of the last frame we encrypted, and since when we send under it. */
  private sentEpoch: number | null = null;
  private sentEpochSince: number | null = null;
  /** Received frames by the epoch bits of their KID (what the wire says), and how many of them decrypted. */
  private readonly byEpochBits = new Map<number, { received: number; decrypted: number }>();
  /** Received frames without a well-formed SFrame header. */
  private unparsed = 0;

  constructor(
    private readonly store: SFrameKeyStore,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The transform for one sender or receiver. */
  transform(options: TransformOptions, requester?: KeyFrameRequester): TransformStream<EncodedFrame, EncodedFrame> {
    const e: Entry = {
      options,
      participant: options.participant ?? null,
      frames: 0,
      passed: 0,
      dropped: 0,
      lastEpoch: null,
      failedSinceOk: 0,
      lastKeyFrameRequest: -Infinity,
    };
    this.entries.set(options.id, e);
    const step = options.role === 'send'
      ? (f: EncodedFrame, c: TransformStreamDefaultController<EncodedFrame>) => this.send(e, f, c)
      : (f: EncodedFrame, c: TransformStreamDefaultController<EncodedFrame>) => this.receive(e, f, c, requester);
    return new TransformStream<EncodedFrame, EncodedFrame>({ transform: step });
  }

  /** Connects readable → transform → writable (the fallback streams, or a transformer's). */
  attach(options: TransformOptions, readable: ReadableStream, writable: WritableStream, requester?: KeyFrameRequester): void {
    (readable as ReadableStream<EncodedFrame>)
      .pipeThrough(this.transform(options, requester))
      .pipeTo(writable as WritableStream<EncodedFrame>)
      .catch(() => this.entries.delete(options.id));
  }

  setParticipant(id: number, participant: string | null): void {
    const e = this.entries.get(id);
    if (e) {
      e.participant = participant;
      e.lastEpoch = null;
    }
  }

  stats(): SFrameStats {
    const transforms: TransformStats[] = [...this.entries.values()].map((e) => ({
      id: e.options.id, role: e.options.role, kind: e.options.kind, participant: e.participant,
      frames: e.frames, passed: e.passed, dropped: e.dropped,
    }));
    return {
      encrypted: this.encrypted, decrypted: this.decrypted, failed: this.failed, unsent: this.unsent,
      keyFrameRequests: this.keyFrameRequests, epoch: this.store.currentEpoch, liveEpochs: this.store.liveEpochs, transforms,
      sentEpoch: this.sentEpoch, sentEpochSince: this.sentEpochSince, unparsed: this.unparsed,
      byEpochBits: Object.fromEntries([...this.byEpochBits].map(([bits, c]): [string, EpochCounters] => [String(bits), { ...c }])),
    };
  }

  private async send(e: Entry, frame: EncodedFrame, c: TransformStreamDefaultController<EncodedFrame>): Promise<void> {
    e.frames++;
    const epoch = this.store.currentEpoch; // encrypt() takes its epoch synchronously too
    const keyFrame = e.options.kind === 'video' && frame.type === 'key';
    const out = await this.store.encrypt(new Uint8Array(frame.data), undefined, keyFrame);
    if (!out) {
      e.dropped++;
      this.unsent++;
      return;
    }
    if (epoch !== this.sentEpoch) {
      this.sentEpoch = epoch;
      this.sentEpochSince = this.now();
    }
    frame.data = out.buffer;
    c.enqueue(frame);
    e.passed++;
    this.encrypted++;
  }

  private async receive(
    e: Entry,
    frame: EncodedFrame,
    c: TransformStreamDefaultController<EncodedFrame>,
    requester?: KeyFrameRequester,
  ): Promise<void> {
    e.frames++;
    const data = new Uint8Array(frame.data);
    const h = parseHeader(data);
    let counters: { received: number; decrypted: number } | null = null;
    if (h) {
      const bits = kidFields(h.kid).epochBits;
      counters = this.byEpochBits.get(bits) ?? { received: 0, decrypted: 0 };
      this.byEpochBits.set(bits, counters);
      counters.received++;
    } else {
      this.unparsed++;
    }
    const opened = await this.store.decrypt(data);
    if (!opened || (e.participant !== null && opened.participant !== null && opened.participant !== e.participant)) {
      e.dropped++;
      e.failedSinceOk++;
      this.failed++;
      return;
    }
    frame.data = opened.plaintext.buffer;
    c.enqueue(frame);
    e.passed++;
    this.decrypted++;
    if (counters) counters.decrypted++;
    const changed = e.lastEpoch !== opened.epoch || e.failedSinceOk > 0;
    e.lastEpoch = opened.epoch;
    e.failedSinceOk = 0;
    // not conditioned on frame.type: on the receive side it is read from the
    // (encrypted) payload before we see it, so it cannot be trusted here
    if (changed && e.options.kind === 'video') this.requestKeyFrame(e, requester);
  }

  private requestKeyFrame(e: Entry, requester?: KeyFrameRequester): void {
    const t = this.now();
    if (!requester?.sendKeyFrameRequest || t - e.lastKeyFrameRequest < KEYFRAME_REQUEST_MIN_MS) return;
    e.lastKeyFrameRequest = t;
    this.keyFrameRequests++;
    requester.sendKeyFrameRequest().catch(() => undefined);
  }
}
