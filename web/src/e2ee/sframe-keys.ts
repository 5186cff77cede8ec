/*
 * SFrame keys from MLS (RFC 9605 §5.2): which key encrypts and decrypts a
 * frame, for how long, and with which counter.
 *
 * Per MLS epoch there is one base_key = MLS-Exporter("SFrame 1.0 Base Key",
 * "", AEAD.Nk) (mls.ts exports it). Every member sends under its own KID
 *
 *     KID = (sender leaf index << E) + (epoch mod 2^E),   E = EPOCH_BITS = 4
 *
 * (context 0, which gives the shortest header), so each sender has its own
 * sframe_key and sframe_salt and no two members ever share a nonce space.
 * E = 4 lets 16 epochs be told apart on the wire, far more than the few
 * that live at once (the current one plus those in their grace period); a
 * new epoch with the same low bits replaces an old one, as §5.2 requires.
 * With leaf indices below 100 a KID fits in two bytes of header.
 *
 * Counters: one counter space per KID and epoch, shared by everything this
 * client sends (audio, camera with all simulcast layers, screen), which is
 * why every sender transform must run in the one store of one worker
 * (§9.1: a (base_key, KID, CTR) triple is used at most once). A counter is
 * taken synchronously before any await, so concurrent frames never share one.
 *
 * The space is split in two by the length of the CTR's (minimal) encoding,
 * and so by the lowest bit of the SFrame header's first byte: video key
 * frames take counters of 3, 5 or 7 bytes (from 2^16), everything else of
 * 4, 6 or 8 bytes (from 2^24). The reason is VP8: its RTP payload carries
 * no key-frame flag of its own, so a receiving browser reads the lowest bit
 * of the frame's first byte (the VP8 frame tag's P bit, 0 = key frame) —
 * which, the whole frame being encrypted, is that header bit. With the
 * split, receivers see key frames as key frames (and can start decoding and
 * recover from loss at the next one) although no byte of the frame itself
 * is in the clear. What it tells the network, key frame or not, the frame
 * sizes and the SFU's key-frame requests tell anyway (docs/security.md).
 *
 * Old epochs: when a new epoch's key arrives the client sends under it at once
 * and keeps the previous keys for decryption only, for KEY_GRACE_MS (frames in
 * flight, members that process the commit a little later), then drops them.
 * CryptoKeys cannot be zeroed from script; dropping every reference is what
 * WebCrypto allows, and the salts we hold as bytes are overwritten.
 *
 * A base_key is never used both ways for one KID (§4.4.1): our own KID only
 * encrypts, frames that carry it are refused on receipt.
 */
import { wipe } from './bytes';
import { ReplayWindow } from './replay';
import {
  AES_128_GCM_SHA256_128,
  type SFrameKey,
  type SFrameSuite,
  decryptFrame,
  deriveKeySalt,
  encryptFrame,
  parseHeader,
} from './sframe';

/** Low-order bits of the MLS epoch carried in every KID. */
export const EPOCH_BITS = 4;
const EPOCH_MASK = (1 << EPOCH_BITS) - 1;

/** How long the keys of a replaced epoch still decrypt, in milliseconds. */
export const KEY_GRACE_MS = 10_000;

/** First counter of each kind (minimal encodings of 3 and 4 bytes). */
export const KEY_FRAME_CTR_START = 1n << 16n;
export const OTHER_CTR_START = 1n << 24n;

/** Bytes of the minimal big-endian encoding of v (as sframe.ts writes it). */
function ctrBytes(v: bigint): number {
  let n = 1;
  while (v >= 1n << BigInt(8 * n)) n++;
  return n;
}

/**
 * The counter after `ctr` in its half of the space: odd encoded lengths for
 * key frames, even ones for the rest. Null when the space is used up (2^64).
 */
export function nextCtr(ctr: bigint, keyFrame: boolean): bigint | null {
  let c = ctr + 1n;
  const len = ctrBytes(c);
  if ((len % 2 === 1) !== keyFrame) c = 1n << BigInt(8 * len);
  return c >= 1n << 64n ? null : c;
}

/** Whether a counter belongs to the key-frame half (odd encoded length, ≥ 2^16). */
export function isKeyFrameCtr(ctr: bigint): boolean {
  return ctr >= 1n << 8n && ctrBytes(ctr) % 2 === 1;
}

/** Highest leaf index we derive keys for when the member list is unknown. */
const MAX_UNLISTED_LEAF = 0xffff;

/** KID of the sender at leaf index `leaf` in MLS epoch `epoch` (§5.2, context 0). */
export function mlsKid(epoch: number, leaf: number): bigint {
  return (BigInt(leaf) << BigInt(EPOCH_BITS)) | BigInt(epoch & EPOCH_MASK);
}

/** The two fields of a KID: the low epoch bits and the sender's leaf index. */
export function kidFields(kid: bigint): { epochBits: number; leaf: bigint } {
  return { epochBits: Number(kid & BigInt(EPOCH_MASK)), leaf: kid >> BigInt(EPOCH_BITS) };
}

/** What the MLS side hands over for each epoch. */
export interface EpochKey {
  readonly epoch: number;
  /** base_key as a non-extractable HKDF CryptoKey (sframe.ts importBaseKey). */
  readonly baseKey: CryptoKey;
  /** Our own leaf index in this epoch. */
  readonly ownLeaf: number;
  /** Leaf index → participant id of every member in this epoch, when known. */
  readonly members?: ReadonlyMap<number, string>;
}

interface Epoch {
  readonly epoch: number;
  readonly baseKey: CryptoKey;
  readonly ownLeaf: number;
  members: ReadonlyMap<number, string> | null;
  readonly keys: Map<number, Promise<SFrameKey>>;
  /** Next counters for our own KID: for video key frames, and for all other frames. */
  keyCtr: bigint | null;
  ctr: bigint | null;
  /** When this epoch stops decrypting (null: current). */
  retireAt: number | null;
  /** Anti-replay per sender leaf: one window per counter half (key frames, all else). */
  readonly replay: Map<number, { readonly key: ReplayWindow; readonly other: ReplayWindow }>;
}

export interface OpenedFrame {
  readonly plaintext: Uint8Array<ArrayBuffer>;
  readonly epoch: number;
  readonly leaf: number;
  /** The sender's participant id, if the member list of that epoch is known. */
  readonly participant: string | null;
}

export interface KeyStoreOptions {
  readonly suite?: SFrameSuite;
  readonly graceMs?: number;
  readonly now?: () => number;
}

export class SFrameKeyStore {
  readonly suite: SFrameSuite;
  private readonly graceMs: number;
  private readonly now: () => number;
  /** Live epochs by their low EPOCH_BITS (what a KID carries). */
  private readonly epochs = new Map<number, Epoch>();
  private current: Epoch | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(opts: KeyStoreOptions = {}) {
    this.suite = opts.suite ?? AES_128_GCM_SHA256_128;
    this.graceMs = opts.graceMs ?? KEY_GRACE_MS;
    this.now = opts.now ?? (() => Date.now());
  }

  /** The epoch we send under, or null before the first key. */
  get currentEpoch(): number | null {
    return this.current?.epoch ?? null;
  }

  /** Epochs that still decrypt (current first). */
  get liveEpochs(): number[] {
    this.expire();
    return [...this.epochs.values()].sort((a, b) => b.epoch - a.epoch).map((e) => e.epoch);
  }

  /**
   * Installs the key of a new epoch and sends under it from now on. The same
   * epoch again only refreshes the member list (its counter goes on). A
   * lower epoch than the current one means a new group (after a rejoin or a
   * restart of the meeting's group): everything held so far is wiped first.
   */
  setEpoch(k: EpochKey): void {
    const members = k.members ? new Map(k.members) : null;
    const cur = this.current;
    if (cur && k.epoch === cur.epoch) {
      if (members) cur.members = members;
      return;
    }
    if (cur && k.epoch < cur.epoch) this.wipe();
    const bits = k.epoch & EPOCH_MASK;
    const clash = this.epochs.get(bits);
    if (clash) this.drop(clash);
    const retireAt = this.now() + this.graceMs;
    for (const e of this.epochs.values()) if (e.retireAt === null) e.retireAt = retireAt;
    const e: Epoch = {
      epoch: k.epoch,
      baseKey: k.baseKey,
      ownLeaf: k.ownLeaf,
      members,
      keys: new Map(),
      keyCtr: KEY_FRAME_CTR_START,
      ctr: OTHER_CTR_START,
      retireAt: null,
      replay: new Map(),
    };
    this.epochs.set(bits, e);
    this.current = e;
    this.schedule();
  }

  /** Whether a live epoch carries these low epoch bits (a KID's), i.e. its key is here. */
  hasEpochBits(bits: number): boolean {
    this.expire();
    return this.epochs.has(bits);
  }

  /** Drops every key (the group ended, we left or were removed). */
  wipe(): void {
    for (const e of [...this.epochs.values()]) this.drop(e);
    this.current = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Drops the epochs whose grace period is over. */
  expire(): void {
    const now = this.now();
    for (const e of [...this.epochs.values()]) if (e.retireAt !== null && e.retireAt <= now) this.drop(e);
  }

  /**
   * Encrypts a frame under the current epoch with our own KID. Null before
   * the first key (or once this epoch's counters are used up): the caller
   * drops the frame, it never goes out in clear. `keyFrame` for video key
   * frames (see the counters above).
   */
  async encrypt(plaintext: Uint8Array, metadata?: Uint8Array, keyFrame = false): Promise<Uint8Array<ArrayBuffer> | null> {
    const e = this.current;
    if (!e) return null;
    // taken before any await: never shared by two frames
    const ctr = keyFrame ? e.keyCtr : e.ctr;
    if (ctr === null) return null;
    if (keyFrame) e.keyCtr = nextCtr(ctr, true);
    else e.ctr = nextCtr(ctr, false);
    const key = await this.keyFor(e, e.ownLeaf);
    if (!key) return null;
    return encryptFrame(key, ctr, plaintext, metadata);
  }

  /**
   * Decrypts a frame from another member. Null for anything that must be
   * dropped: malformed, an unknown or expired epoch, a sender that is not a
   * member, our own KID, a failed authentication, or a counter of that
   * sender's already accepted or too old (replay.ts).
   */
  async decrypt(data: Uint8Array, metadata?: Uint8Array): Promise<OpenedFrame | null> {
    const h = parseHeader(data);
    if (!h) return null;
    this.expire();
    const { epochBits, leaf } = kidFields(h.kid);
    const e = this.epochs.get(epochBits);
    if (!e || leaf > BigInt(MAX_UNLISTED_LEAF)) return null;
    const l = Number(leaf);
    if (l === e.ownLeaf) return null;
    if (e.members && !e.members.has(l)) return null;
    const window = this.replayWindow(e, l, isKeyFrameCtr(h.ctr));
    if (!window.check(h.ctr)) return null; // seen before, or too old
    const key = await this.keyFor(e, l);
    if (!key) return null;
    const out = await decryptFrame(() => key, data, metadata);
    // recorded only once authentic; checked again, for a copy decrypted meanwhile
    if (!out || !window.accept(h.ctr)) return null;
    return { plaintext: out.plaintext, epoch: e.epoch, leaf: l, participant: e.members?.get(l) ?? null };
  }

  private replayWindow(e: Epoch, leaf: number, keyFrame: boolean): ReplayWindow {
    let w = e.replay.get(leaf);
    if (!w) {
      w = { key: new ReplayWindow(), other: new ReplayWindow() };
      e.replay.set(leaf, w);
    }
    return keyFrame ? w.key : w.other;
  }

  private keyFor(e: Epoch, leaf: number): Promise<SFrameKey | null> {
    if (this.epochs.get(e.epoch & EPOCH_MASK) !== e) return Promise.resolve(null);
    let p = e.keys.get(leaf);
    if (!p) {
      p = deriveKeySalt(this.suite, e.baseKey, mlsKid(e.epoch, leaf));
      e.keys.set(leaf, p);
    }
    return p;
  }

  private drop(e: Epoch): void {
    const bits = e.epoch & EPOCH_MASK;
    if (this.epochs.get(bits) === e) this.epochs.delete(bits);
    if (this.current === e) this.current = null;
    for (const p of e.keys.values()) void p.then((k) => wipe(k.salt), () => undefined);
    e.keys.clear();
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.expire();
    }, this.graceMs + 1);
  }
}
