/*
 * Messages between the UI thread (transform.ts) and the SFrame worker
 * (sframe-worker.ts). Keys arrive as non-extractable CryptoKeys; frames never
 * cross this boundary (they flow worker-side through the transforms).
 */

export type MediaKind = 'audio' | 'video';
export type Role = 'send' | 'recv';

/** Given to RTCRtpScriptTransform (and with the fallback streams). */
export interface TransformOptions {
  readonly role: Role;
  readonly kind: MediaKind;
  /** Unique per transform, chosen by transform.ts. */
  readonly id: number;
  /** recv only: the participant whose media this receiver carries, if known. */
  readonly participant?: string | null;
}

export interface KeyMessage {
  readonly type: 'key';
  readonly epoch: number;
  /** SFrame base_key of the epoch (non-extractable HKDF key). */
  readonly baseKey: CryptoKey;
  readonly ownLeaf: number;
  /** [leaf index, participant id] of every member of the epoch. */
  readonly members: readonly (readonly [number, string])[];
}

export type SFrameRequest =
  | KeyMessage
  /** Forget every key: outgoing frames are dropped until the next key. */
  | { readonly type: 'wipe' }
  /** Fallback (createEncodedStreams): the streams of one sender or receiver. */
  | { readonly type: 'streams'; readonly options: TransformOptions; readonly readable: ReadableStream; readonly writable: WritableStream }
  /** A reused receiver now carries another participant's media. */
  | { readonly type: 'participant'; readonly id: number; readonly participant: string | null }
  | { readonly type: 'stats'; readonly id: number };

export interface TransformStats {
  readonly id: number;
  readonly role: Role;
  readonly kind: MediaKind;
  readonly participant: string | null;
  /** Frames in. */
  readonly frames: number;
  /** Frames out (encrypted, or decrypted and passed on). */
  readonly passed: number;
  /** Frames dropped (no key to send with, or failed to decrypt). */
  readonly dropped: number;
}

/** Received frames of one KID epoch-bits value (sframe-keys.ts), and how many of them decrypted. */
export interface EpochCounters {
  readonly received: number;
  readonly decrypted: number;
}

export interface SFrameStats {
  readonly encrypted: number;
  readonly decrypted: number;
  /** Received frames that did not decrypt (dropped, never decoded). */
  readonly failed: number;
  /** Outgoing frames dropped because no key was installed yet. */
  readonly unsent: number;
  readonly keyFrameRequests: number;
  readonly epoch: number | null;
  readonly liveEpochs: readonly number[];
  readonly transforms: readonly TransformStats[];
  /** Epoch of the last frame we encrypted (null: none yet). */
  readonly sentEpoch: number | null;
  /** When (Date.now() of the worker) the first frame under sentEpoch went out. */
  readonly sentEpochSince: number | null;
  /** Received frames by the low epoch bits of their KID, as the wire says (keys: "0"…"15"). */
  readonly byEpochBits: Readonly<Record<string, EpochCounters>>;
  /** Received frames without a well-formed SFrame header. */
  readonly unparsed: number;
  /** Received frames that waited for their epoch's key (sframe-pipeline.ts), and how many of them then decrypted. */
  readonly waited: number;
  readonly waitedOk: number;
}

export type SFrameReply = { readonly type: 'stats'; readonly id: number; readonly stats: SFrameStats };

export function isTransformOptions(v: unknown): v is TransformOptions {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (o['role'] === 'send' || o['role'] === 'recv') && (o['kind'] === 'audio' || o['kind'] === 'video') &&
    typeof o['id'] === 'number' && (o['participant'] === undefined || o['participant'] === null || typeof o['participant'] === 'string');
}
