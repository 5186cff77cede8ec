/*
 * The MLS client (RFC 9420) of one participant, on top of ts-mls 1.6.4.
 *
 * It holds this device's keys and its view of the meeting's group and turns
 * the byte strings of docs/protocol.md ("End-to-end encryption") into state
 * changes: KeyPackages, a group created at epoch 0, Welcomes, commits that
 * add and remove, application messages, and per epoch the SFrame base key,
 * the security code and the member list. It runs inside mls-worker.ts (off
 * the UI thread, behind the typed messages of mls-protocol.ts); tests use it
 * in-process. It does no networking and makes no policy decisions: who is
 * added or removed, and when, is session.ts.
 *
 * Choices, all fixed for the meeting:
 *
 *   suite      MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 (DESIGN.md §5);
 *   group id   the ASCII text "conclave/" + room id;
 *   identity   a BasicCredential whose identity is the participant id the
 *              server gave us (UTF-8). A guest still in the lobby does not
 *              know its id yet (`lobby` carries none), so its KeyPackage says
 *              "lobby:" + 22 random base64url characters instead; the member
 *              who adds it records "lobby:… → participant id" (as the server
 *              named the sender of that KeyPackage) in a group context
 *              extension of the same commit, so every member, newcomers too,
 *              can map each leaf to a participant;
 *   name       the display name, UTF-8, in a private leaf node extension
 *              (EXT_DISPLAY_NAME), so the roster's names come from the group
 *              and not from the server; ts-mls keeps leaf extensions across
 *              path updates;
 *   keys       a fresh signature key pair with every KeyPackage: a client
 *              instance is recognised by its signature key. One that had
 *              to rejoin (new KeyPackage) proves that it held its old leaf:
 *              the new KeyPackage's leaf carries EXT_SUCCESSOR, the old
 *              leaf's signature public key and a signature with its private
 *              key (SignWithLabel, label "conclave successor") over the
 *              group id and the new signature public key. The client keeps
 *              that one private key when it leaves a group (leave()) and
 *              wipes it only at the end of the visit (wipe()); a server
 *              cannot make such a KeyPackage for someone else's leaf;
 *   wire       commits as PrivateMessages, Welcomes with the ratchet tree in
 *              the GroupInfo (the protocol carries no separate tree);
 *   exporter   SFrame base_key = MLS-Exporter("SFrame 1.0 Base Key", "", 16)
 *              per epoch (RFC 9605 §5.2), handed out as a non-extractable
 *              HKDF CryptoKey.
 *
 * Gotchas of ts-mls 1.6.4 handled here: the epoch is a BigInt (converted to
 * a number at this boundary); group state cannot be structured-cloned, so
 * exportState/importState use encodeGroupState/decodeGroupState and
 * re-attach the client config; a removed member's commit processing does not
 * throw, so groupActiveState is checked and everything is wiped; the
 * `consumed` secrets of our own commit are zeroed only once the server
 * accepted it (they belong to the state we fall back to if it refuses);
 * application messages are opened with ts-mls' unprotectPrivateMessage so the
 * authenticated sender leaf is known (processMessage does not return it);
 * and ts-mls encrypts an UpdatePath under the group context from before a
 * GroupContextExtensions proposal while receivers use the one after it, so a
 * commit that changes the lobby map carries adds only (no path), never
 * removes (createCommit refuses the mix; session.ts commits removes first).
 */
import {
  type ClientConfig,
  type ClientState,
  type CiphersuiteImpl,
  type Credential,
  type Extension,
  type KeyPackage,
  type MLSMessage,
  type PrivateKeyPackage,
  type Proposal,
  type RatchetTree,
  acceptAll,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultKeyPackageEqualityConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  mlsExporter,
  processMessage,
} from 'ts-mls';
import { generateKeyPackageWithKey, verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { signWithLabel, verifyWithLabel } from 'ts-mls/crypto/signature.js';
import { unprotectPrivateMessage } from 'ts-mls/messageProtection.js';
import { type Bytes, bytes, equalBytes, fromUtf8, toHex, utf8, wipe } from './bytes';
import {
  type AppMessage,
  type CommitOutcome,
  type CommitRequest,
  type CommitResult,
  type EpochState,
  type KeyPackageInfo,
  type Member,
  type MlsApi,
  LOBBY_ID_RE,
  LOBBY_PREFIX,
  PARTICIPANT_ID_RE,
} from './mls-protocol';
import { securityCode } from './security-code';
import { importBaseKey } from './sframe';

export const MLS_SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
/** RFC 9605 §5.2 exporter label and length (AEAD.Nk of AES_128_GCM_SHA256_128). */
export const SFRAME_EXPORTER_LABEL = 'SFrame 1.0 Base Key';
export const SFRAME_BASE_KEY_BYTES = 16;
/** Private-use extension types (RFC 9420 §17.3: 0xF000–0xFFFF). */
export const EXT_DISPLAY_NAME = 0xf0cc;
export const EXT_LOBBY_MAP = 0xf0cd;
export const EXT_SUCCESSOR = 0xf0ce;
/** SignWithLabel label of EXT_SUCCESSOR's signature. */
const SUCCESSOR_LABEL = 'conclave successor';
/** Ed25519: public key and signature sizes. */
const SIG_PUBLIC_BYTES = 32;
const SIG_BYTES = 64;
/** Display names are 1–64 bytes, as the server's `join` requires. */
export const MAX_NAME_BYTES = 64;

export type { AppMessage, CommitOutcome, CommitRequest, CommitResult, EpochState, KeyPackageInfo, Member, MlsApi };

/** Older epochs whose application messages still open (messages in flight). */
const RETAIN_EPOCHS = 2;
/** KeyPackages we keep the private keys of until a Welcome uses one. */
const MAX_OUTSTANDING_KEYPACKAGES = 4;
/** KeyPackage lifetime around now (RFC 9420 §10), in seconds. */
const KEYPACKAGE_BACKDATE_S = 3600n;
const KEYPACKAGE_LIFETIME_S = 7n * 24n * 3600n;

export function groupIdFor(roomId: string): string {
  return `conclave/${roomId}`;
}

/** Every member of a meeting's group supports our two extensions. */
function capabilities(): ReturnType<typeof defaultCapabilities> {
  const c = defaultCapabilities();
  c.ciphersuites = [MLS_SUITE];
  c.extensions = [...c.extensions, EXT_DISPLAY_NAME, EXT_LOBBY_MAP, EXT_SUCCESSOR];
  return c;
}

/** Credentials must be basic, with a participant id or a lobby id. */
const authService = {
  async validateCredential(credential: Credential): Promise<boolean> {
    if (credential.credentialType !== 'basic') return false;
    const id = fromUtf8(credential.identity);
    return id !== null && (PARTICIPANT_ID_RE.test(id) || LOBBY_ID_RE.test(id));
  },
};

const clientConfig: ClientConfig = {
  keyRetentionConfig: { retainKeysForGenerations: 10, retainKeysForEpochs: RETAIN_EPOCHS, maximumForwardRatchetSteps: 200 },
  lifetimeConfig: defaultLifetimeConfig,
  keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
  paddingConfig: defaultPaddingConfig,
  authService,
};

function decode(data: Uint8Array): MLSMessage | null {
  try {
    const r = decodeMlsMessage(data, 0);
    return r && r[1] === data.length ? r[0] : null;
  } catch {
    return null;
  }
}

function encodeLobbyMap(map: ReadonlyMap<string, string>): Bytes {
  const o: Record<string, string> = {};
  for (const k of [...map.keys()].sort()) o[k] = map.get(k)!;
  return utf8(JSON.stringify(o));
}

function decodeLobbyMap(extensions: readonly Extension[]): Map<string, string> {
  const map = new Map<string, string>();
  const ext = extensions.find((e) => e.extensionType === EXT_LOBBY_MAP);
  const text = ext ? fromUtf8(ext.extensionData) : null;
  if (!text) return map;
  try {
    const o: unknown = JSON.parse(text);
    if (o && typeof o === 'object') {
      for (const [k, v] of Object.entries(o)) if (LOBBY_ID_RE.test(k) && typeof v === 'string' && PARTICIPANT_ID_RE.test(v)) map.set(k, v);
    }
  } catch {
    /* a malformed map maps nothing */
  }
  return map;
}

function leafName(extensions: readonly Extension[]): string {
  const ext = extensions.find((e) => e.extensionType === EXT_DISPLAY_NAME);
  const name = ext ? fromUtf8(ext.extensionData) : null;
  return name !== null && name.length > 0 && ext!.extensionData.length <= MAX_NAME_BYTES ? name : '';
}

function identityOf(credential: Credential): string {
  return credential.credentialType === 'basic' ? (fromUtf8(credential.identity) ?? '') : '';
}

function membersOf(tree: RatchetTree, extensions: readonly Extension[], ownLeaf: number): Member[] {
  const lobby = decodeLobbyMap(extensions);
  const out: Member[] = [];
  tree.forEach((node, i) => {
    if (node?.nodeType !== 'leaf') return;
    const leaf = i / 2;
    const id = identityOf(node.leaf.credential);
    const participant = id.startsWith(LOBBY_PREFIX) ? (lobby.get(id) ?? '') : id;
    out.push({
      leaf,
      participant,
      name: leafName(node.leaf.extensions),
      self: leaf === ownLeaf,
      signatureKey: toHex(node.leaf.signaturePublicKey),
    });
  });
  return out;
}

/** Zeroes every byte array reachable from a state we are done with. */
function wipeDeep(root: unknown): void {
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof Uint8Array) {
      v.fill(0);
    } else if (v instanceof Map) {
      for (const x of v.values()) visit(x);
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x);
    } else {
      for (const x of Object.values(v)) visit(x);
    }
  };
  visit(root);
}

interface OwnKeyPackage {
  readonly publicPackage: KeyPackage;
  readonly privatePackage: PrivateKeyPackage;
  readonly bytes: Bytes;
}

interface Continuity {
  readonly signKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly groupId: Uint8Array;
}

/** What EXT_SUCCESSOR's signature covers: the group id and the new leaf's signature key, each length-prefixed. */
function successorContent(groupId: Uint8Array, newKey: Uint8Array): Uint8Array {
  return new Uint8Array([groupId.length >> 8, groupId.length & 0xff, ...groupId, newKey.length >> 8, newKey.length & 0xff, ...newKey]);
}

interface Pending {
  readonly state: ClientState;
  readonly consumed: readonly Uint8Array[];
}

export class MlsClient {
  private state: ClientState | null = null;
  private pending: Pending | null = null;
  private keyPackages: OwnKeyPackage[] = [];
  private epochCache: EpochState | null = null;
  /** The signature key of the leaf we held last (see leave()). */
  private continuity: Continuity | null = null;

  private constructor(private readonly cs: CiphersuiteImpl) {}

  static async create(): Promise<MlsClient> {
    return new MlsClient(await getCiphersuiteImpl(getCiphersuiteFromName(MLS_SUITE)));
  }

  /**
   * A new KeyPackage (MLSMessage bytes) with fresh signature, HPKE and init
   * keys. Its private keys are kept until a Welcome uses it or wipe(). After
   * leave(), it names the leaf we held as its predecessor (EXT_SUCCESSOR).
   */
  async keyPackage(identity: string, name: string): Promise<Uint8Array> {
    if (!PARTICIPANT_ID_RE.test(identity) && !LOBBY_ID_RE.test(identity)) throw new Error('bad MLS identity');
    const nameBytes = utf8(name);
    if (nameBytes.length < 1 || nameBytes.length > MAX_NAME_BYTES) throw new Error('bad display name');
    const now = BigInt(Math.floor(Date.now() / 1000));
    const keys = await this.cs.signature.keygen();
    const leafExtensions: Extension[] = [{ extensionType: EXT_DISPLAY_NAME, extensionData: nameBytes }];
    const prev = this.continuity;
    if (prev) {
      const sig = await signWithLabel(prev.signKey, SUCCESSOR_LABEL, successorContent(prev.groupId, keys.publicKey), this.cs.signature);
      leafExtensions.push({ extensionType: EXT_SUCCESSOR, extensionData: bytes(new Uint8Array([...prev.publicKey, ...sig])) });
    }
    const kp = await generateKeyPackageWithKey(
      { credentialType: 'basic', identity: utf8(identity) },
      capabilities(),
      { notBefore: now - KEYPACKAGE_BACKDATE_S, notAfter: now + KEYPACKAGE_LIFETIME_S },
      [],
      keys,
      this.cs,
      leafExtensions,
    );
    const encoded = bytes(encodeMlsMessage({ keyPackage: kp.publicPackage, wireformat: 'mls_key_package', version: 'mls10' }));
    this.keyPackages.push({ ...kp, bytes: encoded });
    while (this.keyPackages.length > MAX_OUTSTANDING_KEYPACKAGES) wipeDeep(this.keyPackages.shift()!.privatePackage);
    return encoded;
  }

  /**
   * Identity, name and signature key of a received KeyPackage, and the leaf
   * it succeeds if it proves one (EXT_SUCCESSOR, for this meeting's group);
   * null if it is not a valid one of our suite.
   */
  async inspectKeyPackage(data: Uint8Array, roomId: string): Promise<KeyPackageInfo | null> {
    const m = decode(data);
    if (!m || m.wireformat !== 'mls_key_package') return null;
    const kp = m.keyPackage;
    if (kp.cipherSuite !== MLS_SUITE) return null;
    try {
      if (!(await verifyKeyPackage(kp, this.cs.signature))) return null;
    } catch {
      return null;
    }
    if (!(await authService.validateCredential(kp.leafNode.credential))) return null;
    const name = leafName(kp.leafNode.extensions);
    if (!name) return null;
    const info: KeyPackageInfo = { identity: identityOf(kp.leafNode.credential), name, signatureKey: toHex(kp.leafNode.signaturePublicKey) };
    const predecessor = await this.successorOf(kp.leafNode.extensions, kp.leafNode.signaturePublicKey, utf8(groupIdFor(roomId)));
    return predecessor ? { ...info, predecessor } : info;
  }

  /** Hex of the leaf key a KeyPackage's EXT_SUCCESSOR proves it held, or null. */
  private async successorOf(extensions: readonly Extension[], newKey: Uint8Array, groupId: Uint8Array): Promise<string | null> {
    const ext = extensions.find((e) => e.extensionType === EXT_SUCCESSOR);
    if (!ext || ext.extensionData.length !== SIG_PUBLIC_BYTES + SIG_BYTES) return null;
    const prevKey = ext.extensionData.subarray(0, SIG_PUBLIC_BYTES);
    const sig = ext.extensionData.subarray(SIG_PUBLIC_BYTES);
    try {
      if (!(await verifyWithLabel(prevKey, SUCCESSOR_LABEL, successorContent(groupId, newKey), sig, this.cs.signature))) return null;
    } catch {
      return null;
    }
    return toHex(prevKey);
  }

  /** Creates the meeting's group at epoch 0 with our latest KeyPackage. */
  async createGroup(roomId: string): Promise<EpochState> {
    const own = this.keyPackages.at(-1);
    if (!own) throw new Error('no KeyPackage to create the group with');
    this.dropGroup();
    this.state = await createGroup(utf8(groupIdFor(roomId)), own.publicPackage, own.privatePackage, [], this.cs, clientConfig);
    this.forgetKeyPackages(own);
    return this.epochState();
  }

  /**
   * Joins from a Welcome made for one of our KeyPackages into the group of
   * this meeting (its group id); null if none fits.
   */
  async joinFromWelcome(data: Uint8Array, roomId: string): Promise<EpochState | null> {
    const m = decode(data);
    if (!m || m.wireformat !== 'mls_welcome') return null;
    const groupId = utf8(groupIdFor(roomId));
    for (const own of [...this.keyPackages].reverse()) {
      try {
        const state = await joinGroup(m.welcome, own.publicPackage, own.privatePackage, emptyPskIndex, this.cs, undefined, undefined, clientConfig);
        if (!equalBytes(state.groupContext.groupId, groupId)) {
          // another group's: its secrets go (the rest shares our KeyPackage's keys)
          wipeDeep(state.keySchedule);
          wipeDeep(state.secretTree);
          return null;
        }
        this.dropGroup();
        this.state = state;
        this.forgetKeyPackages(own);
        return this.epochState();
      } catch {
        /* made for another KeyPackage, or invalid */
      }
    }
    return null;
  }

  /** The current epoch, or null outside a group. */
  async current(): Promise<EpochState | null> {
    return this.state ? this.epochState() : null;
  }

  /** True while a commit of ours waits for the server's answer. */
  get hasPendingCommit(): boolean {
    return this.pending !== null;
  }

  /**
   * Builds a commit that removes the given leaves and adds the given
   * KeyPackages (an empty request is a self-update). The new state is held
   * as pending until confirmCommit (server said mls_commit_ok) or
   * discardCommit (mls_commit_rejected, or someone else's commit came first).
   */
  async createCommit(req: CommitRequest): Promise<CommitResult> {
    const state = this.requireState();
    if (this.pending) throw new Error('a commit is already pending');
    const proposals: Proposal[] = [];
    const removed = new Set(req.removeLeaves ?? []);
    for (const leaf of removed) proposals.push({ proposalType: 'remove', remove: { removed: leaf } });

    // Adds of lobby guests carry their "lobby:… → participant" entries in a
    // GroupContextExtensions proposal. ts-mls 1.6.4 encrypts an UpdatePath to
    // the group context *before* that proposal while receivers decrypt with
    // the one after it, so such a commit must not have a path: only adds, no
    // removes (adds alone need no path). session.ts commits removes first.
    const map = decodeLobbyMap(state.groupContext.extensions);
    let lobbyAdds = 0;
    const addedIds = new Set<string>();
    for (const a of req.add ?? []) {
      const m = decode(a.keyPackage);
      if (!m || m.wireformat !== 'mls_key_package') throw new Error('not a KeyPackage');
      const id = identityOf(m.keyPackage.leafNode.credential);
      addedIds.add(id);
      if (id.startsWith(LOBBY_PREFIX)) {
        map.set(id, a.participant);
        lobbyAdds++;
      } else if (id !== a.participant) {
        throw new Error('KeyPackage identity does not match its sender');
      }
      proposals.push({ proposalType: 'add', add: { keyPackage: m.keyPackage } });
    }
    if (lobbyAdds > 0) {
      if (removed.size > 0) throw new Error('adds from the lobby cannot share a commit with removes');
      // entries of members no longer in the tree go (the map only grows here)
      const present = new Set<string>();
      for (const node of state.ratchetTree) if (node?.nodeType === 'leaf') present.add(identityOf(node.leaf.credential));
      for (const id of [...map.keys()]) if (!present.has(id) && !addedIds.has(id)) map.delete(id);
      const others = state.groupContext.extensions.filter((e) => e.extensionType !== EXT_LOBBY_MAP);
      proposals.push({
        proposalType: 'group_context_extensions',
        groupContextExtensions: { extensions: [...others, { extensionType: EXT_LOBBY_MAP, extensionData: encodeLobbyMap(map) }] },
      });
    }

    const r = await createCommit({ state, cipherSuite: this.cs }, { extraProposals: proposals, ratchetTreeExtension: true });
    this.pending = { state: r.newState, consumed: r.consumed };
    return {
      commit: bytes(encodeMlsMessage(r.commit)),
      welcome: r.welcome ? bytes(encodeMlsMessage({ welcome: r.welcome, wireformat: 'mls_welcome', version: 'mls10' })) : null,
      epoch: Number(state.groupContext.epoch),
    };
  }

  /** The server accepted our commit: move to its epoch. */
  async confirmCommit(): Promise<CommitOutcome> {
    const p = this.pending;
    if (!p) throw new Error('no pending commit');
    this.pending = null;
    const old = this.state;
    if (old && p.state.groupActiveState.kind !== 'active') this.keepContinuity(old);
    this.state = p.state;
    this.epochCache = null;
    for (const c of p.consumed) c.fill(0);
    if (old) this.wipeHistoricalOnly(old);
    if (p.state.groupActiveState.kind !== 'active') {
      this.leave();
      return { kind: 'removed' };
    }
    return { kind: 'epoch', state: await this.epochState() };
  }

  /** The server refused our commit: forget it, the current state stays valid. */
  discardCommit(): void {
    this.pending = null;
  }

  /**
   * Processes a commit the server relayed (someone else's, accepted). Null
   * if it is not a commit of our group's current epoch (stale, duplicate,
   * for a group we are not in) or does not verify. A pending commit of ours
   * for the same epoch has lost and is discarded.
   */
  async processCommit(data: Uint8Array): Promise<CommitOutcome | null> {
    const state = this.state;
    if (!state) return null;
    const m = decode(data);
    if (!m || (m.wireformat !== 'mls_private_message' && m.wireformat !== 'mls_public_message')) return null;
    const epoch = m.wireformat === 'mls_private_message' ? m.privateMessage.epoch : m.publicMessage.content.epoch;
    const contentType = m.wireformat === 'mls_private_message' ? m.privateMessage.contentType : m.publicMessage.content.contentType;
    if (epoch !== state.groupContext.epoch || contentType !== 'commit') return null;
    let r;
    try {
      r = await processMessage(m, state, emptyPskIndex, acceptAll, this.cs);
    } catch {
      return null;
    }
    if (r.kind !== 'newState' || r.actionTaken !== 'accept') return null;
    this.pending = null;
    if (r.newState.groupActiveState.kind !== 'active') this.keepContinuity(state);
    this.state = r.newState;
    this.epochCache = null;
    for (const c of r.consumed) c.fill(0);
    this.wipeHistoricalOnly(state);
    if (r.newState.groupActiveState.kind !== 'active') {
      this.leave();
      return { kind: 'removed' };
    }
    return { kind: 'epoch', state: await this.epochState() };
  }

  /** An application message (PrivateMessage bytes) to the group. */
  async encrypt(data: Uint8Array): Promise<Uint8Array> {
    const state = this.requireState();
    const r = await createApplicationMessage(state, data, this.cs);
    this.state = r.newState;
    for (const c of r.consumed) c.fill(0);
    return bytes(encodeMlsMessage({ privateMessage: r.privateMessage, wireformat: 'mls_private_message', version: 'mls10' }));
  }

  /**
   * Opens an application message of the current or a recent epoch and names
   * its authenticated sender. Null for anything else: not ours, too old,
   * forged, not an application message, or of a recent epoch from a sender
   * no longer in the group.
   */
  async decrypt(data: Uint8Array): Promise<AppMessage | null> {
    const state = this.state;
    if (!state) return null;
    const m = decode(data);
    if (!m || m.wireformat !== 'mls_private_message') return null;
    const pm = m.privateMessage;
    if (pm.contentType !== 'application' || !equalBytes(pm.groupId, state.groupContext.groupId)) return null;
    const isCurrent = pm.epoch === state.groupContext.epoch;
    const epochData = isCurrent
      ? { senderDataSecret: state.keySchedule.senderDataSecret, secretTree: state.secretTree, ratchetTree: state.ratchetTree, groupContext: state.groupContext }
      : state.historicalReceiverData.get(pm.epoch);
    if (!epochData) return null;
    let r;
    try {
      r = await unprotectPrivateMessage(
        epochData.senderDataSecret, pm, epochData.secretTree, epochData.ratchetTree, epochData.groupContext,
        state.clientConfig.keyRetentionConfig, this.cs,
      );
    } catch {
      return null;
    }
    const content = r.content.content;
    if (content.contentType !== 'application' || content.sender.senderType !== 'member') return null;
    const leaf = content.sender.leafIndex;
    if (isCurrent) {
      this.state = { ...state, secretTree: r.tree };
    } else {
      const historical = new Map(state.historicalReceiverData);
      historical.set(pm.epoch, { ...state.historicalReceiverData.get(pm.epoch)!, secretTree: r.tree });
      this.state = { ...state, historicalReceiverData: historical };
    }
    for (const c of r.consumed) c.fill(0);
    const sender = membersOf(epochData.ratchetTree, epochData.groupContext.extensions, state.privatePath.leafIndex).find((x) => x.leaf === leaf);
    if (!sender || sender.self) return null;
    // from an earlier epoch: only while its sender is still a member (a
    // removed member keeps that epoch's keys)
    if (!isCurrent && !state.ratchetTree.some((n) => n?.nodeType === 'leaf' && toHex(n.leaf.signaturePublicKey) === sender.signatureKey)) return null;
    return { epoch: Number(pm.epoch), sender, data: content.applicationData };
  }

  /** The whole group state as bytes (ts-mls encodeGroupState), e.g. to keep it across a worker boundary. */
  exportState(): Uint8Array | null {
    return this.state ? bytes(encodeGroupState(this.state)) : null;
  }

  /** Replaces the group state by one from exportState. */
  async importState(data: Uint8Array): Promise<EpochState> {
    const r = decodeGroupState(data, 0);
    if (!r) throw new Error('not an encoded group state');
    this.dropGroup();
    this.state = { ...r[0], clientConfig };
    return this.epochState();
  }

  /**
   * Out of the group (removed, or starting over after a reconnect): group
   * state, pending commit and KeyPackage keys go; only the signature key of
   * the leaf we held stays, for the next KeyPackage's EXT_SUCCESSOR.
   */
  leave(): void {
    this.dropGroup();
    this.forgetKeyPackages(null);
  }

  /** Leaves nothing behind (the end of the visit): leave(), and the kept signature key. */
  wipe(): void {
    this.leave();
    this.dropContinuity();
  }

  private requireState(): ClientState {
    if (!this.state) throw new Error('not in a group');
    return this.state;
  }

  private forgetKeyPackages(except: OwnKeyPackage | null): void {
    for (const k of this.keyPackages) if (k !== except) wipeDeep(k.privatePackage);
    this.keyPackages = [];
    // the used one's init key has served its purpose; its other keys now live in the state
    if (except) wipe(except.privatePackage.initPrivateKey);
  }

  /** Keeps what proves we held our leaf in `state` (a copy: the state is about to be wiped). */
  private keepContinuity(state: ClientState): void {
    const node = state.ratchetTree[state.privatePath.leafIndex * 2];
    if (node?.nodeType !== 'leaf' || state.groupActiveState.kind !== 'active') return;
    this.dropContinuity();
    this.continuity = {
      signKey: new Uint8Array(state.signaturePrivateKey),
      publicKey: new Uint8Array(node.leaf.signaturePublicKey),
      groupId: new Uint8Array(state.groupContext.groupId),
    };
  }

  private dropContinuity(): void {
    if (this.continuity) wipe(this.continuity.signKey);
    this.continuity = null;
  }

  private dropGroup(): void {
    // first: the pending state may share the signature key's bytes
    if (this.state) this.keepContinuity(this.state);
    if (this.pending) wipeDeep(this.pending.state);
    if (this.state) wipeDeep(this.state);
    this.pending = null;
    this.state = null;
    this.epochCache = null;
  }

  /** After moving on from `old`, its historical receiver data live on in the new state; nothing else to keep. */
  private wipeHistoricalOnly(old: ClientState): void {
    const k = old.keySchedule;
    wipe(k.exporterSecret, k.epochAuthenticator, k.confirmationKey, k.membershipKey, k.externalSecret);
  }

  private async epochState(): Promise<EpochState> {
    const state = this.requireState();
    const epoch = Number(state.groupContext.epoch);
    if (this.epochCache?.epoch === epoch) return this.epochCache;
    const raw = await mlsExporter(state.keySchedule.exporterSecret, SFRAME_EXPORTER_LABEL, new Uint8Array(0), SFRAME_BASE_KEY_BYTES, this.cs);
    let baseKey: CryptoKey;
    try {
      baseKey = await importBaseKey(raw);
    } finally {
      wipe(raw);
    }
    const ownLeaf = state.privatePath.leafIndex;
    const es: EpochState = {
      epoch,
      securityCode: await securityCode(state.keySchedule.epochAuthenticator),
      baseKey,
      ownLeaf,
      members: membersOf(state.ratchetTree, state.groupContext.extensions, ownLeaf),
    };
    this.epochCache = es;
    return es;
  }
}

/** MlsApi over an in-process client (tests; the worker wraps one the same way). */
export function inProcessMls(client: MlsClient): MlsApi {
  return {
    keyPackage: (identity, name) => client.keyPackage(identity, name),
    inspectKeyPackage: (kp, roomId) => client.inspectKeyPackage(kp, roomId),
    createGroup: (roomId) => client.createGroup(roomId),
    joinFromWelcome: (w, roomId) => client.joinFromWelcome(w, roomId),
    current: () => client.current(),
    createCommit: (req) => client.createCommit(req),
    confirmCommit: () => client.confirmCommit(),
    discardCommit: async () => client.discardCommit(),
    processCommit: (c) => client.processCommit(c),
    encrypt: (d) => client.encrypt(d),
    decrypt: (m) => client.decrypt(m),
    exportState: async () => client.exportState(),
    importState: (st) => client.importState(st),
    leave: async () => client.leave(),
    wipe: async () => client.wipe(),
  };
}
