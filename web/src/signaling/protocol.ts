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
}
export interface LeaveMsg { readonly type: 'leave' }

export type ClientMessage = HelloMsg | PingMsg | JoinMsg | LeaveMsg;

// ---- server → client -------------------------------------------------------

export interface Limits {
  readonly max_message_bytes: number;
  readonly messages_per_second: number;
}
export interface WelcomeMsg { readonly type: 'welcome'; readonly v: number; readonly server: string; readonly limits: Limits }
export interface PongMsg { readonly type: 'pong'; readonly id: number }
export interface LobbyMsg { readonly type: 'lobby' }
export type Role = 'host' | 'guest';
export interface JoinedMsg { readonly type: 'joined'; readonly participant: string; readonly role: Role }
export interface DeniedMsg { readonly type: 'denied' }
export interface EndedMsg { readonly type: 'ended' }
export interface ErrorMsg {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
  /** Type of the offending client message, if the server names one. */
  readonly ref?: string;
}

export type ServerMessage = WelcomeMsg | PongMsg | LobbyMsg | JoinedMsg | DeniedMsg | EndedMsg | ErrorMsg;
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

function obj(o: Obj, key: string): Obj {
  const v = o[key];
  if (!isObj(v)) throw new FieldError(`${key}: expected object`);
  return v;
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
  pong: (o) => ({ type: 'pong', id: uint(o, 'id') }),
  lobby: () => ({ type: 'lobby' }),
  joined: (o) => ({
    type: 'joined',
    participant: str(o, 'participant', { nonEmpty: true, max: SHORT }),
    role: oneOf(o, 'role', ['host', 'guest'] as const),
  }),
  denied: () => ({ type: 'denied' }),
  ended: () => ({ type: 'ended' }),
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
