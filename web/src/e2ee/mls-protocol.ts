/*
 * The boundary between the UI thread and the MLS worker: the values that
 * cross it, the operations (MlsApi), and the request/response messages that
 * carry them.
 *
 * MLS runs in mls-worker.ts so that key generation, commits and Welcomes
 * never stall the page; the group state and every private key stay in the
 * worker. What comes out is public (KeyPackages, commits, the roster, the
 * security code) except the SFrame base key of each epoch, which comes out
 * as a non-extractable CryptoKey (structured clone keeps it so) and goes
 * straight on to the SFrame worker.
 *
 * This module imports nothing from ts-mls, so the UI bundle stays free of
 * it: session.ts and mls-remote.ts depend on this file only.
 */

/** The participant id format of docs/protocol.md (11 base64url characters). */
export const PARTICIPANT_ID_RE = /^[A-Za-z0-9_-]{11}$/;
/** Credential identity of a KeyPackage made in the lobby, before we know our id. */
export const LOBBY_PREFIX = 'lobby:';
export const LOBBY_ID_RE = /^lobby:[A-Za-z0-9_-]{22}$/;

export function isLobbyIdentity(identity: string): boolean {
  return LOBBY_ID_RE.test(identity);
}

/** A fresh lobby identity: "lobby:" + 16 random bytes in base64url. */
export function lobbyIdentity(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return LOBBY_PREFIX + btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** One member of the group as the roster shows it. */
export interface Member {
  readonly leaf: number;
  /** The participant id, or '' if the group has no mapping for this leaf. */
  readonly participant: string;
  readonly name: string;
  readonly self: boolean;
  /** Hex of the leaf's signature key: identifies the client instance. */
  readonly signatureKey: string;
}

/** What the rest of the client needs to know about the current epoch. */
export interface EpochState {
  readonly epoch: number;
  readonly securityCode: string;
  /** SFrame base_key of this epoch, a non-extractable HKDF CryptoKey. */
  readonly baseKey: CryptoKey;
  readonly ownLeaf: number;
  readonly members: readonly Member[];
}

export interface KeyPackageInfo {
  /** Credential identity: a participant id, or "lobby:…" for a guest in the lobby. */
  readonly identity: string;
  readonly name: string;
  /** Hex of the signature public key: identifies the client instance. */
  readonly signatureKey: string;
  /**
   * Hex of the signature key of the leaf this KeyPackage's owner held in our
   * group, when it proves that (mls.ts, EXT_SUCCESSOR): a member back after
   * a reconnect or a server restart.
   */
  readonly predecessor?: string;
}

export interface AddRequest {
  /** The KeyPackage MLSMessage bytes as received. */
  readonly keyPackage: Uint8Array;
  /** Whom the server named as its sender. */
  readonly participant: string;
}

export interface CommitRequest {
  readonly add?: readonly AddRequest[];
  readonly removeLeaves?: readonly number[];
}

export interface CommitResult {
  readonly commit: Uint8Array;
  readonly welcome: Uint8Array | null;
  /** The epoch the commit is for (the current one). */
  readonly epoch: number;
}

export type CommitOutcome =
  | { readonly kind: 'epoch'; readonly state: EpochState }
  /** The commit removed us: everything is wiped. */
  | { readonly kind: 'removed' };

export interface AppMessage {
  readonly epoch: number;
  /** The authenticated sender (from the MLS tree of that epoch). */
  readonly sender: Member;
  readonly data: Uint8Array;
}

/**
 * The MLS operations, all asynchronous so that an in-process client (tests)
 * and the worker proxy (the app) look the same. See mls.ts for each.
 */
export interface MlsApi {
  keyPackage(identity: string, name: string): Promise<Uint8Array>;
  inspectKeyPackage(keyPackage: Uint8Array, roomId: string): Promise<KeyPackageInfo | null>;
  createGroup(roomId: string): Promise<EpochState>;
  joinFromWelcome(welcome: Uint8Array, roomId: string): Promise<EpochState | null>;
  current(): Promise<EpochState | null>;
  createCommit(req: CommitRequest): Promise<CommitResult>;
  confirmCommit(): Promise<CommitOutcome>;
  discardCommit(): Promise<void>;
  processCommit(commit: Uint8Array): Promise<CommitOutcome | null>;
  encrypt(data: Uint8Array): Promise<Uint8Array>;
  decrypt(msg: Uint8Array): Promise<AppMessage | null>;
  exportState(): Promise<Uint8Array | null>;
  importState(state: Uint8Array): Promise<EpochState>;
  leave(): Promise<void>;
  wipe(): Promise<void>;
}

export type MlsMethod = keyof MlsApi;

export const MLS_METHODS: readonly MlsMethod[] = [
  'keyPackage', 'inspectKeyPackage', 'createGroup', 'joinFromWelcome', 'current', 'createCommit', 'confirmCommit',
  'discardCommit', 'processCommit', 'encrypt', 'decrypt', 'exportState', 'importState', 'leave', 'wipe',
];

/** UI thread → MLS worker. */
export type MlsRequest = {
  [K in MlsMethod]: { readonly id: number; readonly method: K; readonly args: Parameters<MlsApi[K]> };
}[MlsMethod];

/** MLS worker → UI thread, one per request, in any order. */
export type MlsResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

export function isMlsRequest(v: unknown): v is MlsRequest {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as { id?: unknown; method?: unknown; args?: unknown };
  return typeof r.id === 'number' && typeof r.method === 'string' &&
    (MLS_METHODS as readonly string[]).includes(r.method) && Array.isArray(r.args);
}

export function isMlsResponse(v: unknown): v is MlsResponse {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as { id?: unknown; ok?: unknown; error?: unknown };
  return typeof r.id === 'number' && (r.ok === true || (r.ok === false && typeof r.error === 'string'));
}
