/*
 * Signaling protocol v1 (docs/protocol.md): JSON text frames over one
 * WebSocket, one object per frame, discriminated by "type".
 *
 * Every server message is checked against a declared table of fields before
 * anything acts on it (the same discipline as the server's schema tables):
 * a frame that is not JSON, not an object, or whose known type has missing or
 * mistyped fields is rejected; a type we do not know is reported as unknown
 * and ignored, so a newer server can add messages without breaking us.
 * Extra fields on known types are dropped, never passed on.
 */

export const PROTOCOL_VERSION = 1;

/** Refuse to parse inbound frames longer than this many characters. */
export const MAX_INBOUND_CHARS = 1 << 20;

// ---- client → server -------------------------------------------------------

export interface HelloMsg { readonly type: 'hello'; readonly v: number }
export interface PingMsg { readonly type: 'ping'; readonly id: number }
export interface JoinMsg {
  readonly type: 'join';
  readonly room: string;
  readonly name: string;
  /** Only on host links. */
  readonly host_key?: string;
  /** A rejoin token from `joined` or `pong`: back in under the same id and role. */
  readonly rejoin?: string;
}
export interface LeaveMsg { readonly type: 'leave' }
/** Host only: let a waiting guest in, or turn it away. */
export interface AdmitMsg { readonly type: 'admit'; readonly participant: string }
export interface DenyMsg { readonly type: 'deny'; readonly participant: string }
/** Host only: what hosts can do to members and to the meeting. */
export interface RemoveMsg { readonly type: 'remove'; readonly participant: string }
export interface PromoteMsg { readonly type: 'promote'; readonly participant: string }
export type MediaKindName = 'audio' | 'video';
export interface MuteMsg { readonly type: 'mute'; readonly participant: string; readonly kind: MediaKindName }
export interface LockMsg { readonly type: 'lock'; readonly locked: boolean }
export interface EndMsg { readonly type: 'end' }
/** What a published m-line carries (docs/protocol.md, "Simulcast, views and screen share"). */
export type SourceName = 'microphone' | 'camera' | 'screen';
/**
 * Offer of the publish connection (docs/protocol.md, "Media negotiation").
 * `sources` maps an m-line's mid to what it carries; unlisted m-lines are
 * the microphone (audio) and the camera (video).
 */
export interface PublishMsg { readonly type: 'publish'; readonly sdp: string; readonly sources?: Readonly<Record<string, SourceName>> }
/** One video the client shows now, at this size in device pixels. */
export interface ViewTile { readonly mid: string; readonly width: number; readonly height: number }
/** The video this client shows: subscribe m-lines not listed are paused. */
export interface ViewMsg { readonly type: 'view'; readonly tiles: readonly ViewTile[] }
/** Answer to the subscribe offer of the same version. */
export interface SubscribeAnswerMsg { readonly type: 'subscribe_answer'; readonly sdp: string; readonly version: number }
/** Asks for a subscribe offer with new ICE credentials. */
export interface SubscribeRestartMsg { readonly type: 'subscribe_restart' }
/**
 * The MLS delivery service (docs/protocol.md, "End-to-end encryption"):
 * every value is the base64url text of a TLS-encoded MLSMessage.
 */
export interface MlsKeyPackageOut { readonly type: 'mls_keypackage'; readonly keypackage: string; readonly proof?: string }
export interface MlsCommitOut {
  readonly type: 'mls_commit';
  readonly commit: string;
  readonly welcome?: string;
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
}
export interface MlsAppOut { readonly type: 'mls_app'; readonly msg: string }

export type ClientMessage =
  | HelloMsg
  | PingMsg
  | JoinMsg
  | LeaveMsg
  | AdmitMsg
  | DenyMsg
  | RemoveMsg
  | PromoteMsg
  | MuteMsg
  | LockMsg
  | EndMsg
  | PublishMsg
  | SubscribeAnswerMsg
  | SubscribeRestartMsg
  | ViewMsg
  | MlsKeyPackageOut
  | MlsCommitOut
  | MlsAppOut;

// ---- server → client -------------------------------------------------------

export interface Limits {
  readonly max_message_bytes: number;
  readonly messages_per_second: number;
}
export interface WelcomeMsg { readonly type: 'welcome'; readonly v: number; readonly server: string; readonly limits: Limits }
export interface PongMsg {
  readonly type: 'pong';
  readonly id: number;
  /** Members only: a fresh rejoin token. */
  readonly rejoin?: string;
}
export interface LobbyMsg { readonly type: 'lobby' }
export type Role = 'host' | 'guest';
export interface Participant { readonly id: string; readonly name: string; readonly role: Role }
export interface Knock { readonly participant: string; readonly name: string }
export interface JoinedMsg {
  readonly type: 'joined';
  readonly participant: string;
  readonly role: Role;
  /** Every member, oneself included. */
  readonly participants: readonly Participant[];
  /** Guests waiting in the lobby (hosts only; empty for guests). */
  readonly knocks: readonly Knock[];
  /** Whether the meeting is locked (false if the server does not say). */
  readonly locked: boolean;
  /** The rejoin token (docs/protocol.md, "Rejoining"). */
  readonly rejoin?: string;
  /** The MLS group's state: create it (first member) or wait for a Welcome. */
  readonly mls?: JoinedMlsInfo;
}
export interface JoinedMlsInfo { readonly create: boolean; readonly epoch: number }
export interface ParticipantJoinedMsg { readonly type: 'participant_joined'; readonly participant: Participant }
export interface ParticipantLeftMsg { readonly type: 'participant_left'; readonly participant: string }
export interface KnockMsg { readonly type: 'knock'; readonly participant: string; readonly name: string }
export interface KnockGoneMsg { readonly type: 'knock_gone'; readonly participant: string }
export interface DeniedMsg { readonly type: 'denied' }
export interface EndedMsg { readonly type: 'ended' }
/** A host removed us; this connection cannot join again. */
export interface RemovedMsg { readonly type: 'removed' }
/** A member's role changed. */
export interface RoleMsg { readonly type: 'role'; readonly participant: string; readonly role: Role }
export interface LockedMsg { readonly type: 'locked'; readonly locked: boolean }
/** A host asks us to mute the microphone (audio) or turn off the camera (video). */
export interface MuteRequestMsg { readonly type: 'mute_request'; readonly kind: MediaKindName; readonly by: string }
/** The member who speaks now (from the audio levels of its publish connection). */
export interface ActiveSpeakerMsg { readonly type: 'active_speaker'; readonly participant: string }
/** Reply to leave, or removal by the server (reason: media_timeout, media_failed, …). */
export interface LeftMsg { readonly type: 'left'; readonly reason?: string }
export interface PublishAnswerMsg { readonly type: 'publish_answer'; readonly sdp: string }
/** Whose track a subscribe m-line carries, and what it is. */
export interface TrackInfo { readonly participant: string; readonly source: SourceName; readonly track: string }
export interface SubscribeOfferMsg {
  readonly type: 'subscribe_offer';
  readonly sdp: string;
  readonly version: number;
  /** Subscribe mid → its track, for the active m-lines (newer servers). */
  readonly tracks?: Readonly<Record<string, TrackInfo>>;
}
/** Which simulcast encodings of a published track anyone needs now (lowest first). */
export interface LayersMsg { readonly type: 'layers'; readonly mid: string; readonly active: readonly boolean[] }
export type QualityReason = 'ok' | 'view' | 'bandwidth';
/** The layer a subscribe m-line gets now (-1: paused) and why. */
export interface VideoQualityMsg { readonly type: 'video_quality'; readonly mid: string; readonly layer: number; readonly reason: QualityReason }
/** A newcomer's KeyPackage, relayed to the group's members. */
export interface MlsKeyPackageMsg {
  readonly type: 'mls_keypackage';
  readonly participant: string;
  readonly name: string;
  readonly keypackage: string;
  readonly proof?: string;
  /** The sender still waits in the lobby. */
  readonly lobby: boolean;
}
/** Another member's commit, accepted for `epoch - 1`; `epoch` is the new one. */
export interface MlsCommitMsg { readonly type: 'mls_commit'; readonly commit: string; readonly from: string; readonly epoch: number }
/** Our commit was accepted; `epoch` is the new one. */
export interface MlsCommitOkMsg { readonly type: 'mls_commit_ok'; readonly epoch: number }
/** Another commit came first; `epoch` is the current one. */
export interface MlsCommitRejectedMsg { readonly type: 'mls_commit_rejected'; readonly epoch: number }
/** A commit added us: the Welcome into the group. */
export interface MlsWelcomeMsg { readonly type: 'mls_welcome'; readonly welcome: string; readonly epoch: number }
/** An application message (chat, hand) of another member. */
export interface MlsAppMsg { readonly type: 'mls_app'; readonly msg: string; readonly from: string; readonly epoch: number }
export interface ErrorMsg {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
  /** Type of the offending client message, if the server names one. */
  readonly ref?: string;
}

export type ServerMessage =
  | WelcomeMsg
  | PongMsg
  | LobbyMsg
  | JoinedMsg
  | ParticipantJoinedMsg
  | ParticipantLeftMsg
  | KnockMsg
  | KnockGoneMsg
  | DeniedMsg
  | EndedMsg
  | RemovedMsg
  | RoleMsg
  | LockedMsg
  | MuteRequestMsg
  | ActiveSpeakerMsg
  | LeftMsg
  | PublishAnswerMsg
  | SubscribeOfferMsg
  | LayersMsg
  | VideoQualityMsg
  | MlsKeyPackageMsg
  | MlsCommitMsg
  | MlsCommitOkMsg
  | MlsCommitRejectedMsg
  | MlsWelcomeMsg
  | MlsAppMsg
  | ErrorMsg;
export type ServerType = ServerMessage['type'];
export type ServerMessageOf<K extends ServerType> = Extract<ServerMessage, { type: K }>;

export type Parsed =
  | { readonly kind: 'message'; readonly msg: ServerMessage }
  | { readonly kind: 'unknown'; readonly type: string }
  | { readonly kind: 'invalid'; readonly reason: string };

// ---- field readers ---------------------------------------------------------

type Obj = Readonly<Record<string, unknown>>;

class FieldError extends Error {}

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(o: Obj, key: string, opts: { nonEmpty?: boolean; max?: number } = {}): string {
  const v = o[key];
  if (typeof v !== 'string') throw new FieldError(`${key}: expected string`);
  if (opts.nonEmpty && v === '') throw new FieldError(`${key}: empty`);
  if (opts.max !== undefined && v.length > opts.max) throw new FieldError(`${key}: too long`);
  return v;
}

function optStr(o: Obj, key: string, max: number): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, { max });
}

function uint(o: Obj, key: string, opts: { min?: number } = {}): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (opts.min ?? 0)) {
    throw new FieldError(`${key}: expected integer ≥ ${opts.min ?? 0}`);
  }
  return v;
}

function bool(o: Obj, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new FieldError(`${key}: expected boolean`);
  return v;
}

/**
 * A rejoin token: opaque base64url text (66 characters today: 49 bytes). Only
 * the alphabet and a bound are checked, so a longer token of a later server
 * still works; it is only ever sent back to the server that made it.
 */
export const REJOIN_TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;

function optToken(o: Obj, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !REJOIN_TOKEN_RE.test(v)) throw new FieldError(`${key}: expected a rejoin token`);
  return v;
}

/**
 * An MLS value: base64url text, at most MLS_TEXT characters (the server's
 * 256 KiB message limit bounds it anyway).
 */
const MLS_TEXT = 300_000;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;

function b64(o: Obj, key: string): string {
  const v = str(o, key, { nonEmpty: true, max: MLS_TEXT });
  if (!BASE64URL_RE.test(v)) throw new FieldError(`${key}: expected base64url`);
  return v;
}

function obj(o: Obj, key: string): Obj {
  const v = o[key];
  if (!isObj(v)) throw new FieldError(`${key}: expected object`);
  return v;
}

function arr<T>(o: Obj, key: string, max: number, item: (x: Obj) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new FieldError(`${key}: expected array`);
  if (v.length > max) throw new FieldError(`${key}: too many entries`);
  return v.map((x: unknown) => {
    if (!isObj(x)) throw new FieldError(`${key}: expected objects`);
    return item(x);
  });
}

/** An object used as a map: at most `max` keys of at most SHORT characters, each value read by `item`. */
function record<T>(o: Obj, key: string, max: number, item: (x: Obj) => T): Record<string, T> {
  const v = obj(o, key);
  const keys = Object.keys(v);
  if (keys.length > max) throw new FieldError(`${key}: too many entries`);
  // no prototype: a mid can never collide with an Object method
  const out = Object.create(null) as Record<string, T>;
  for (const k of keys) {
    if (k === '' || k.length > SHORT) throw new FieldError(`${key}: bad key`);
    const x = v[k];
    if (!isObj(x)) throw new FieldError(`${key}: expected objects`);
    out[k] = item(x);
  }
  return out;
}

function oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[]): T {
  const v = o[key];
  const found = allowed.find((a) => a === v);
  if (found === undefined) throw new FieldError(`${key}: expected one of ${allowed.join(', ')}`);
  return found;
}

// ---- the schema table -------------------------------------------------------

const SHORT = 256; // ids, codes, versions
const TEXT = 4096; // human-readable text
/** A session description (the server accepts up to 64 KiB; offers are smaller). */
const SDP = 256 * 1024;
/** Entries of a member or lobby list (the server caps them at 100 and 50). */
const LIST = 1000;
/** Simulcast encodings of one track (the contract sends three; a bound, not a rule). */
const MAX_LAYERS = 16;
/** Lowest layer index a video_quality may name: -1 is "paused". */
const PAUSED_LAYER = -1;
/** Display names: 64 bytes on the server; characters here. */
const NAME = 256;

const SOURCES: readonly SourceName[] = ['microphone', 'camera', 'screen'];

const participant = (o: Obj): Participant => ({
  id: str(o, 'id', { nonEmpty: true, max: SHORT }),
  name: str(o, 'name', { max: NAME }),
  role: oneOf(o, 'role', ['host', 'guest'] as const),
});
const knock = (o: Obj): Knock => ({
  participant: str(o, 'participant', { nonEmpty: true, max: SHORT }),
  name: str(o, 'name', { max: NAME }),
});

const schema: { readonly [K in ServerType]: (o: Obj) => ServerMessageOf<K> } = {
  welcome: (o) => {
    const l = obj(o, 'limits');
    return {
      type: 'welcome',
      v: uint(o, 'v', { min: 1 }),
      server: str(o, 'server', { max: SHORT }),
      limits: {
        max_message_bytes: uint(l, 'max_message_bytes', { min: 1 }),
        messages_per_second: uint(l, 'messages_per_second', { min: 1 }),
      },
    };
  },
  pong: (o) => {
    const rejoin = optToken(o, 'rejoin');
    return rejoin === undefined ? { type: 'pong', id: uint(o, 'id') } : { type: 'pong', id: uint(o, 'id'), rejoin };
  },
  lobby: () => ({ type: 'lobby' }),
  joined: (o) => {
    const rejoin = optToken(o, 'rejoin');
    const base = {
      type: 'joined' as const,
      participant: str(o, 'participant', { nonEmpty: true, max: SHORT }),
      role: oneOf(o, 'role', ['host', 'guest'] as const),
      participants: arr(o, 'participants', LIST, participant),
      knocks: arr(o, 'knocks', LIST, knock),
      locked: o['locked'] === undefined ? false : bool(o, 'locked'),
    };
    const mlsObj = o['mls'] === undefined ? undefined : obj(o, 'mls');
    const mls = mlsObj ? { create: bool(mlsObj, 'create'), epoch: uint(mlsObj, 'epoch') } : undefined;
    return { ...base, ...(rejoin === undefined ? {} : { rejoin }), ...(mls === undefined ? {} : { mls }) };
  },
  participant_joined: (o) => ({ type: 'participant_joined', participant: participant(obj(o, 'participant')) }),
  participant_left: (o) => ({ type: 'participant_left', participant: str(o, 'participant', { nonEmpty: true, max: SHORT }) }),
  knock: (o) => ({ type: 'knock', ...knock(o) }),
  knock_gone: (o) => ({ type: 'knock_gone', participant: str(o, 'participant', { nonEmpty: true, max: SHORT }) }),
  denied: () => ({ type: 'denied' }),
  ended: () => ({ type: 'ended' }),
  removed: () => ({ type: 'removed' }),
  role: (o) => ({
    type: 'role',
    participant: str(o, 'participant', { nonEmpty: true, max: SHORT }),
    role: oneOf(o, 'role', ['host', 'guest'] as const),
  }),
  locked: (o) => ({ type: 'locked', locked: bool(o, 'locked') }),
  mute_request: (o) => ({
    type: 'mute_request',
    kind: oneOf(o, 'kind', ['audio', 'video'] as const),
    by: str(o, 'by', { max: SHORT }),
  }),
  active_speaker: (o) => ({ type: 'active_speaker', participant: str(o, 'participant', { nonEmpty: true, max: SHORT }) }),
  left: (o) => {
    const reason = optStr(o, 'reason', SHORT);
    return reason === undefined ? { type: 'left' } : { type: 'left', reason };
  },
  publish_answer: (o) => ({ type: 'publish_answer', sdp: str(o, 'sdp', { nonEmpty: true, max: SDP }) }),
  subscribe_offer: (o) => {
    const base = { type: 'subscribe_offer' as const, sdp: str(o, 'sdp', { nonEmpty: true, max: SDP }), version: uint(o, 'version') };
    if (o['tracks'] === undefined) return base;
    const tracks = record(o, 'tracks', LIST, (x) => ({
      participant: str(x, 'participant', { nonEmpty: true, max: SHORT }),
      source: oneOf(x, 'source', SOURCES),
      track: str(x, 'track', { nonEmpty: true, max: SHORT }),
    }));
    return { ...base, tracks };
  },
  layers: (o) => {
    const v = o['active'];
    if (!Array.isArray(v) || v.length === 0 || v.length > MAX_LAYERS || !v.every((x) => typeof x === 'boolean')) {
      throw new FieldError('active: expected 1 to 16 booleans');
    }
    return { type: 'layers', mid: str(o, 'mid', { nonEmpty: true, max: SHORT }), active: v as boolean[] };
  },
  video_quality: (o) => {
    const layer = o['layer'];
    if (typeof layer !== 'number' || !Number.isSafeInteger(layer) || layer < PAUSED_LAYER || layer >= MAX_LAYERS) {
      throw new FieldError('layer: expected an integer from -1');
    }
    return {
      type: 'video_quality',
      mid: str(o, 'mid', { nonEmpty: true, max: SHORT }),
      layer,
      reason: oneOf(o, 'reason', ['ok', 'view', 'bandwidth'] as const),
    };
  },
  mls_keypackage: (o) => {
    const proof = o['proof'] === undefined ? undefined : b64(o, 'proof');
    const base = {
      type: 'mls_keypackage' as const,
      participant: str(o, 'participant', { nonEmpty: true, max: SHORT }),
      name: str(o, 'name', { max: NAME }),
      keypackage: b64(o, 'keypackage'),
      lobby: o['lobby'] === undefined ? false : bool(o, 'lobby'),
    };
    return proof === undefined ? base : { ...base, proof };
  },
  mls_commit: (o) => ({
    type: 'mls_commit',
    commit: b64(o, 'commit'),
    from: str(o, 'from', { nonEmpty: true, max: SHORT }),
    epoch: uint(o, 'epoch'),
  }),
  mls_commit_ok: (o) => ({ type: 'mls_commit_ok', epoch: uint(o, 'epoch') }),
  mls_commit_rejected: (o) => ({ type: 'mls_commit_rejected', epoch: uint(o, 'epoch') }),
  mls_welcome: (o) => ({ type: 'mls_welcome', welcome: b64(o, 'welcome'), epoch: uint(o, 'epoch') }),
  mls_app: (o) => ({
    type: 'mls_app',
    msg: b64(o, 'msg'),
    from: str(o, 'from', { nonEmpty: true, max: SHORT }),
    epoch: uint(o, 'epoch'),
  }),
  error: (o) => {
    const ref = optStr(o, 'ref', SHORT);
    const base = {
      type: 'error' as const,
      code: str(o, 'code', { nonEmpty: true, max: SHORT }),
      message: str(o, 'message', { max: TEXT }),
    };
    return ref === undefined ? base : { ...base, ref };
  },
};

function isKnownType(t: string): t is ServerType {
  return Object.prototype.hasOwnProperty.call(schema, t);
}

/** Validates one inbound frame. Never throws. */
export function parseServerMessage(data: unknown): Parsed {
  if (typeof data !== 'string') return { kind: 'invalid', reason: 'not a text frame' };
  if (data.length > MAX_INBOUND_CHARS) return { kind: 'invalid', reason: 'frame too large' };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  if (!isObj(value)) return { kind: 'invalid', reason: 'not an object' };
  const type = value['type'];
  if (typeof type !== 'string' || type === '') return { kind: 'invalid', reason: 'type: expected string' };
  if (!isKnownType(type)) return { kind: 'unknown', type: type.slice(0, SHORT) };
  try {
    return { kind: 'message', msg: schema[type](value) };
  } catch (e) {
    if (e instanceof FieldError) return { kind: 'invalid', reason: `${type}.${e.message}` };
    throw e;
  }
}

/** Serialises a client message; host_key is written only when present. */
export function encodeClientMessage(msg: ClientMessage): string {
  return JSON.stringify(msg);
}
