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
 * Frames of an epoch whose key is not here yet wait for it, up to
 * KEY_WAIT_MS per episode: a member that processes a commit later than the
 * sender (every epoch change races like this), or a newcomer whose media
 * connection is up before its Welcome is processed, would otherwise drop
 * frames, key frames among them, and need a new key frame from the sender.
 * A receiver's frames pass one at a time (the stream awaits each), so those
 * behind a waiting frame wait too and keep their order; the browser bounds
 * that queue. A frame that is still not decryptable when the key came, or
 * when the wait is over, is dropped, and so is every further frame of an
 * unknown epoch until one decrypts again: garbage from a broken or hostile
 * sender costs one wait, not one per frame.
 *
 * Key frames: when a receiver's first good frame, or the first after
 * frames were dropped, is not a key frame, it asks for one
 * (RTCRtpScriptTransformer.sendKeyFrameRequest, at most once per
 * KEYFRAME_REQUEST_MIN_MS), since Chromium's sender side cannot generate
 * one on demand. An epoch change alone needs none: the frames waited for
 * their key instead of being dropped, so the decoder missed nothing. (The
 * SFU starts a new viewer's simulcast video at a key frame, so its first
 * frames usually need no request either: every request is a key frame
 * that the publisher encodes and every subscriber decodes.)
 */
import { parseHeader } from './sframe';
import { type EpochKey, type SFrameKeyStore, isKeyFrameCtr, kidFields } from './sframe-keys';
import type { EpochCounters, SFrameStats, TransformOptions, TransformStats } from './sframe-protocol';

export const KEYFRAME_REQUEST_MIN_MS = 1000;

/**
 * How long frames of a not yet known epoch wait for its key (per episode,
 * see above): longer than a busy member takes to process a commit or a
 * Welcome, short enough to be a freeze rather than an outage if the key
 * never comes.
 */
export const KEY_WAIT_MS = 1500;

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
  /** Until when frames of an unknown epoch may wait for their key (null: no wait begun since the last good frame). */
  waitUntil: number | null;
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
  /** Frames that waited for their epoch's key, and how many of them then decrypted. */
  private waited = 0;
  private waitedOk = 0;
  /** Receivers waiting for the next key: each is called once when one is installed. */
  private keyWaiters: (() => void)[] = [];

  constructor(
    private readonly store: SFrameKeyStore,
    private readonly now: () => number = () => Date.now(),
    private readonly keyWaitMs: number = KEY_WAIT_MS,
  ) {}

  /** Installs an epoch's key (SFrameKeyStore.setEpoch) and wakes the frames waiting for one. */
  setEpoch(k: EpochKey): void {
    this.store.setEpoch(k);
    const waiters = this.keyWaiters;
    this.keyWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when the next key is installed (true) or after `ms` (false). */
  private nextKey(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.keyWaiters = this.keyWaiters.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      this.keyWaiters.push(wake);
    });
  }

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
      waitUntil: null,
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
      waited: this.waited, waitedOk: this.waitedOk,
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
    const bits = h ? kidFields(h.kid).epochBits : null;
    if (bits !== null) {
      counters = this.byEpochBits.get(bits) ?? { received: 0, decrypted: 0 };
      this.byEpochBits.set(bits, counters);
      counters.received++;
    } else {
      this.unparsed++;
    }
    let opened = await this.store.decrypt(data);
    // an epoch whose key is not here (yet): wait for the next key, within
    // this episode's budget
    let waited = false;
    while (!opened && bits !== null && !this.store.hasEpochBits(bits)) {
      const t = this.now();
      e.waitUntil ??= t + this.keyWaitMs;
      if (t >= e.waitUntil) break;
      waited = true;
      if (!(await this.nextKey(e.waitUntil - t))) break;
      opened = await this.store.decrypt(data);
    }
    if (waited) {
      this.waited++;
      if (opened) this.waitedOk++;
    }
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
    // A key frame starts decoding by itself. Not frame.type, which the
    // browser read from the (encrypted) payload before we saw it, but the
    // counter's half in the SFrame header, authenticated as AAD: what the
    // sending member marked.
    const startsClean = h !== null && isKeyFrameCtr(h.ctr);
    const needKey = (e.lastEpoch === null || e.failedSinceOk > 0) && !startsClean;
    e.lastEpoch = opened.epoch;
    e.failedSinceOk = 0;
    e.waitUntil = null;
    if (needKey && e.options.kind === 'video') this.requestKeyFrame(e, requester);
  }

  private requestKeyFrame(e: Entry, requester?: KeyFrameRequester): void {
    const t = this.now();
    if (!requester?.sendKeyFrameRequest || t - e.lastKeyFrameRequest < KEYFRAME_REQUEST_MIN_MS) return;
    e.lastKeyFrameRequest = t;
    this.keyFrameRequests++;
    requester.sendKeyFrameRequest().catch(() => undefined);
  }
}
