/*
 * The end-to-end encryption protocol of one participant (docs/protocol.md,
 * "End-to-end encryption: the MLS delivery service"; DESIGN.md §4–§5).
 *
 * The app forwards the server messages listed in E2eeInbound to handle()
 * and sends what this class passes to `send`. The class runs the MLS side
 * of a meeting from there:
 *
 *   joining    the first member (`joined.mls.create`) creates the group;
 *              everyone else publishes a KeyPackage, with the invite proof
 *              when it holds INVITE, already from the lobby, and waits for
 *              a Welcome. On `joined` the same KeyPackage is published again
 *              (members drop duplicates: a KeyPackage whose signature key is
 *              already in the group is done). While in the lobby it is sent
 *              again every `lobbyRepublishMs`, because the server relays a
 *              lobby KeyPackage only to a group that exists at that moment.
 *   committing the deterministic committer is the member with the lowest
 *              leaf index, not counting members the server said left. It
 *              adds a waiting KeyPackage at once if its invite proof checks
 *              out; or if a member vouched for it in an MLS message — a
 *              host's admit(participant) by name, or a member holding INVITE
 *              that checked the proof for a committer who cannot (it came
 *              in by name, without the link): that member sends `admit`
 *              bound to the KeyPackage's signature key when the committer
 *              has not added it after ENDORSE_AFTER_MS; or if it proves that
 *              its owner held a leaf seen in the group during this session
 *              under the same participant id and name (mls.ts,
 *              EXT_SUCCESSOR: a reconnect, a server restart), unless a host
 *              revoked that participant (revoke(), on "remove"). A host's
 *              admit is bound to the KeyPackage the host's client holds for
 *              that participant, if any, and used up by the add.
 *              allowWithoutProof() lets a participant in on the caller's
 *              word (not used by the app: the server's `participant_joined`
 *              is not a member's word). It removes members who left
 *              (`participant_left`), and a leaf whose successor waits (a
 *              rejoin) is replaced; a live member's leaf is never replaced
 *              on the server's word. A
 *              KeyPackage must name its sender: its identity is the
 *              server's participant id for it, or a lobby identity that the
 *              commit maps to that id (mls.ts), and its display name must be
 *              the one the server shows; anything else is ignored.
 *   ordering   one commit of ours at a time. `mls_commit_ok` moves us to its
 *              epoch; `mls_commit_rejected` means another commit was first:
 *              we drop ours, wait until we have processed the accepted one
 *              (our epoch reaches the server's), then reconsider what is
 *              still to be done and commit again.
 *   messages   chat, hand raises, network quality levels (sendNet),
 *              admissions (admit()) and revocations (revoke()) are MLS
 *              application messages, JSON {kind:
 *              'chat'|'hand'|'net'|'admit'|'revoke', text?, raised?, level?,
 *              participant?, key?, ts}; the sender shown is the one MLS
 *              authenticates, never the server's `from`; one of an earlier
 *              epoch counts only while its sender is still a member.
 *
 * Events: `epoch` (every new epoch: number, security code, SFrame base key,
 * own leaf, members), `roster` (the members, from MLS), `chat`, `hand`, `net`,
 * `status` (lobby → joining → in-group; removed; closed) and `error`
 * (diagnostics only; nothing secret).
 *
 * All work is serialised on one queue, so MLS operations never interleave.
 * When this client loses track of the group (a commit for a later epoch it
 * cannot process) it drops its group state and publishes a new KeyPackage
 * that names its old leaf; the committer then replaces that leaf.
 */
import { base64urlDecode, base64urlEncode } from '../util/base64url';
import { fromUtf8, utf8 } from './bytes';
import {
  type AddRequest,
  type CommitOutcome,
  type CommitRequest,
  type EpochState,
  type KeyPackageInfo,
  type Member,
  type MlsApi,
  PARTICIPANT_ID_RE,
  isLobbyIdentity,
  lobbyIdentity,
} from './mls-protocol';
import { makeProof, proofKeyFromInvite, verifyProof } from './proof';

// ---- messages (docs/protocol.md) ---------------------------------------------

export interface JoinedMlsInfo {
  readonly create: boolean;
  readonly epoch: number;
}

/** The server messages the session consumes (after the signaling layer validated them). */
export type E2eeInbound =
  | { readonly type: 'lobby' }
  | { readonly type: 'joined'; readonly participant: string; readonly mls: JoinedMlsInfo }
  | {
      readonly type: 'mls_keypackage';
      readonly participant: string;
      readonly name: string;
      readonly keypackage: string;
      readonly proof?: string;
      readonly lobby: boolean;
    }
  | { readonly type: 'mls_commit'; readonly commit: string; readonly from: string; readonly epoch: number }
  | { readonly type: 'mls_commit_ok'; readonly epoch: number }
  | { readonly type: 'mls_commit_rejected'; readonly epoch: number }
  | { readonly type: 'mls_welcome'; readonly welcome: string; readonly epoch: number }
  | { readonly type: 'mls_app'; readonly msg: string; readonly from: string; readonly epoch: number }
  | { readonly type: 'participant_left'; readonly participant: string };

/** The messages the session sends. */
export type E2eeOutbound =
  | { readonly type: 'mls_keypackage'; readonly keypackage: string; readonly proof?: string }
  | {
      readonly type: 'mls_commit';
      readonly commit: string;
      readonly welcome?: string;
      readonly add?: readonly string[];
      readonly remove?: readonly string[];
    }
  | { readonly type: 'mls_app'; readonly msg: string };

export const E2EE_INBOUND_TYPES: readonly E2eeInbound['type'][] = [
  'lobby', 'joined', 'mls_keypackage', 'mls_commit', 'mls_commit_ok', 'mls_commit_rejected', 'mls_welcome', 'mls_app',
  'participant_left',
];

// ---- events --------------------------------------------------------------------

export type E2eeStatus = 'idle' | 'lobby' | 'joining' | 'in-group' | 'removed' | 'closed';

export interface ChatEvent {
  readonly from: Member;
  readonly text: string;
  readonly ts: number;
}

export interface HandEvent {
  readonly from: Member;
  readonly raised: boolean;
  readonly ts: number;
}

/** A member's network quality (0 bad … 3 good), as it measures its own link. */
export interface NetEvent {
  readonly from: Member;
  readonly level: NetLevel;
  readonly ts: number;
}

export type NetLevel = 0 | 1 | 2 | 3;

export interface E2eeEvents {
  epoch: EpochState;
  roster: readonly Member[];
  chat: ChatEvent;
  hand: HandEvent;
  net: NetEvent;
  status: E2eeStatus;
  error: string;
}

export interface E2eeSessionOptions {
  readonly roomId: string;
  /** Our display name (exactly the one sent in `join`). */
  readonly name: string;
  readonly mls: MlsApi;
  readonly send: (msg: E2eeOutbound) => void;
  /** INVITE as in the link (base64url), when this client has it. */
  readonly invite?: string | null;
  /** Re-send our KeyPackage this often while in the lobby (ms); 0: never. */
  readonly lobbyRepublishMs?: number;
  /** Vouch for a proof the committer has not acted on after this long (ms); default ENDORSE_AFTER_MS. */
  readonly endorseAfterMs?: number;
  /** Commit a self-update this often (post-compromise security, ms); 0: never. */
  readonly selfUpdateMs?: number;
}

/** Longest chat message accepted, in UTF-16 code units. */
export const MAX_CHAT_CHARS = 2000;
export const LOBBY_REPUBLISH_MS = 10_000;
/**
 * A member holding INVITE vouches for a KeyPackage with a valid proof if
 * the committer has not added it this long after it arrived (the committer
 * may have come in by name and cannot check proofs).
 */
export const ENDORSE_AFTER_MS = 1500;

interface OwnKeyPackage {
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly proof: string | null;
}

interface Waiting {
  readonly participant: string;
  readonly bytes: Uint8Array;
  readonly info: KeyPackageInfo;
  readonly proofValid: boolean;
}

interface PendingCommit {
  readonly update: boolean;
  readonly adds: readonly Waiting[];
}

type Handler<T> = (value: T) => void;

export class E2eeSession {
  private statusValue: E2eeStatus = 'idle';
  private selfId: string | null = null;
  /** We joined the group from the lobby before `joined` told us our id. */
  private welcomedInLobby = false;
  private epochState: EpochState | null = null;
  private ownKp: OwnKeyPackage | null = null;
  private readonly waiting = new Map<string, Waiting>();
  private readonly allowed = new Set<string>();
  /** Signature keys of KeyPackages a member vouched for: exactly those may be added. */
  private readonly allowedKeys = new Set<string>();
  /** Signature keys of leaves seen in the group during this session: whose, under which name. */
  private readonly known = new Map<string, { readonly participant: string; readonly name: string }>();
  private readonly endorseTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly departed = new Set<string>();
  private pending: PendingCommit | null = null;
  private retryAtEpoch: number | null = null;
  private wantUpdate = false;
  private handRaised = false;
  private readonly sentKinds: Partial<Record<AppPayload['kind'], number>> = {};
  private queue: Promise<void> = Promise.resolve();
  private readonly handlers = new Map<keyof E2eeEvents, Set<Handler<never>>>();
  private readonly proofKey: Promise<CryptoKey | null>;
  private lobbyTimer: ReturnType<typeof setInterval> | null = null;
  private updateTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly opts: E2eeSessionOptions) {
    this.proofKey = opts.invite ? proofKeyFromInvite(opts.invite) : Promise.resolve(null);
    const every = opts.selfUpdateMs ?? 0;
    if (every > 0) this.updateTimer = setInterval(() => void this.updateKeys(), every);
  }

  // ---- public API ----------------------------------------------------------------

  on<K extends keyof E2eeEvents>(type: K, fn: Handler<E2eeEvents[K]>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(fn as Handler<never>);
    return () => set.delete(fn as Handler<never>);
  }

  get status(): E2eeStatus {
    return this.statusValue;
  }

  /** The current epoch (security code, key, members), or null outside the group. */
  get current(): EpochState | null {
    return this.epochState;
  }

  get participantId(): string | null {
    return this.selfId;
  }

  /** Feeds one server message in; resolves when it has been dealt with. */
  handle(msg: E2eeInbound): Promise<void> {
    return this.run(() => this.dispatch(msg), undefined);
  }

  /**
   * Tells the group, in an MLS application message, that we admit this
   * participant by name; every member (the committer among them) then
   * allows it as with allowWithoutProof. For the host's own client when the
   * host clicks "admit": unlike `participant_joined`, this does not rest on
   * the server's word.
   */
  admit(participant: string): Promise<boolean> {
    if (!PARTICIPANT_ID_RE.test(participant)) return Promise.resolve(false);
    return this.run(async () => {
      // the KeyPackage we hold for it, if any, is the one admitted: the
      // server cannot hand the committer another under that id later
      const key = this.waiting.get(participant)?.info.signatureKey;
      if (key !== undefined) this.allowedKeys.add(key);
      else this.allowId(participant);
      const sent = await this.sendApp(key !== undefined ? { kind: 'admit', participant, key, ts: Date.now() } : { kind: 'admit', participant, ts: Date.now() });
      await this.reconcile();
      return sent;
    }, false);
  }

  /**
   * Tells the group, in an MLS application message, that a host removed
   * this participant: nobody re-adds it as a returning member, and any
   * admission of it is forgotten. For the host's own client when it removes
   * someone (the server's `participant_left` does not say why).
   */
  revoke(participant: string): Promise<boolean> {
    if (!PARTICIPANT_ID_RE.test(participant)) return Promise.resolve(false);
    return this.run(async () => {
      this.forget(participant);
      return this.sendApp({ kind: 'revoke', participant, ts: Date.now() });
    }, false);
  }

  /** A host admitted this participant by name: add it even without a valid invite proof. */
  allowWithoutProof(participant: string): Promise<void> {
    return this.run(async () => {
      this.allowId(participant);
      await this.reconcile();
    }, undefined);
  }

  /** Commits a self-update of our leaf (new keys, new epoch). */
  updateKeys(): Promise<void> {
    return this.run(async () => {
      this.wantUpdate = true;
      await this.reconcile();
    }, undefined);
  }

  /** Sends a chat message to the group; false when not in the group. */
  sendChat(text: string): Promise<boolean> {
    if (text.length === 0 || text.length > MAX_CHAT_CHARS) return Promise.resolve(false);
    return this.run(() => this.sendApp({ kind: 'chat', text, ts: Date.now() }), false);
  }

  /** Raises or lowers our hand; re-announced to members who join later. */
  raiseHand(raised: boolean): Promise<boolean> {
    return this.run(() => {
      this.handRaised = raised;
      return this.sendApp({ kind: 'hand', raised, ts: Date.now() });
    }, false);
  }

  /** Tells the group how good our network link is now (media/netQuality.ts); false when not in the group. */
  sendNet(level: NetLevel): Promise<boolean> {
    return this.run(() => this.sendApp({ kind: 'net', level, ts: Date.now() }), false);
  }

  /** True if we are the member who commits adds and removes now. */
  isCommitter(): boolean {
    const es = this.epochState;
    if (!es || this.statusValue !== 'in-group') return false;
    const gone = this.goneLeaves(es);
    return es.members.find((m) => !gone.has(m.leaf))?.self === true;
  }

  /**
   * Leaves that no longer count: members the server said left, and members
   * whose successor waits: a KeyPackage that proves it was made by the
   * holder of that leaf (it reconnected and starts over; its old leaf is
   * dead). A KeyPackage that merely has the same participant id replaces
   * nobody.
   */
  private goneLeaves(es: EpochState): Set<number> {
    const gone = new Set<number>();
    for (const m of es.members) {
      if (m.self) continue;
      const w = this.waiting.get(m.participant);
      if (this.departed.has(m.participant) || w?.info.predecessor === m.signatureKey) gone.add(m.leaf);
    }
    return gone;
  }

  /** Resolves once every message and action queued so far is done. */
  idle(): Promise<void> {
    return this.run(async () => undefined, undefined);
  }

  /** Ends the session: timers stop, the MLS client wipes everything. */
  close(): Promise<void> {
    return this.run(async () => {
      this.stopTimers();
      for (const t of this.endorseTimers) clearTimeout(t);
      this.endorseTimers.clear();
      await this.opts.mls.wipe();
      this.epochState = null;
      this.ownKp = null;
      this.waiting.clear();
      this.known.clear();
      this.allowed.clear();
      this.allowedKeys.clear();
      this.setStatus('closed');
    }, undefined);
  }

  // ---- the queue -------------------------------------------------------------------

  /**
   * Runs fn after everything queued before it. Never rejects: a failure is
   * reported as an `error` event and yields `fallback`.
   */
  private run<T>(fn: () => Promise<T>, fallback: T): Promise<T> {
    const p = this.queue.then(async () => {
      if (this.statusValue === 'closed') return fallback;
      try {
        return await fn();
      } catch (e) {
        this.emit('error', e instanceof Error ? e.message : String(e));
        return fallback;
      }
    });
    this.queue = p.then(() => undefined);
    return p;
  }

  private emit<K extends keyof E2eeEvents>(type: K, value: E2eeEvents[K]): void {
    for (const fn of this.handlers.get(type) ?? []) {
      try {
        (fn as Handler<E2eeEvents[K]>)(value);
      } catch {
        /* a listener's failure is not ours */
      }
    }
  }

  private setStatus(s: E2eeStatus): void {
    if (this.statusValue === s) return;
    this.statusValue = s;
    this.emit('status', s);
  }

  private async dispatch(msg: E2eeInbound): Promise<void> {
    switch (msg.type) {
      case 'lobby':
        return this.onLobby();
      case 'joined':
        return this.onJoined(msg.participant, msg.mls);
      case 'mls_keypackage':
        return this.onKeyPackage(msg.participant, msg.name, msg.keypackage, msg.proof);
      case 'mls_welcome':
        return this.onWelcome(msg.welcome);
      case 'mls_commit':
        return this.onCommit(msg.commit, msg.epoch);
      case 'mls_commit_ok':
        return this.onCommitOk();
      case 'mls_commit_rejected':
        return this.onCommitRejected(msg.epoch);
      case 'mls_app':
        return this.onApp(msg.msg);
      case 'participant_left':
        return this.onParticipantLeft(msg.participant);
    }
  }

  // ---- joining ----------------------------------------------------------------------

  private async onLobby(): Promise<void> {
    if (this.statusValue !== 'idle' && this.statusValue !== 'lobby') return;
    this.setStatus('lobby');
    await this.publishKeyPackage();
    const every = this.opts.lobbyRepublishMs ?? LOBBY_REPUBLISH_MS;
    if (every > 0 && this.lobbyTimer === null) {
      this.lobbyTimer = setInterval(() => {
        void this.run(async () => {
          if (this.statusValue === 'lobby') await this.publishKeyPackage();
        }, undefined);
      }, every);
    }
  }

  private async onJoined(participant: string, mls: JoinedMlsInfo): Promise<void> {
    this.selfId = participant;
    this.stopLobbyTimer();
    if (this.epochState && this.welcomedInLobby) {
      this.welcomedInLobby = false; // our own admission, only told late
      return;
    }
    if (this.epochState) {
      // a rejoin: the server counts us out of the group; start over
      await this.leaveGroup('joining');
    }
    if (mls.create) {
      this.resetBookkeeping();
      this.ownKp = null;
      await this.opts.mls.keyPackage(participant, this.opts.name);
      this.setEpoch(await this.opts.mls.createGroup(this.opts.roomId));
      await this.reconcile();
      return;
    }
    this.setStatus('joining');
    await this.publishKeyPackage();
  }

  private async publishKeyPackage(): Promise<void> {
    if (!this.ownKp) {
      const bytes = await this.opts.mls.keyPackage(this.selfId ?? lobbyIdentity(), this.opts.name);
      const key = await this.proofKey;
      this.ownKp = {
        bytes,
        text: base64urlEncode(bytes),
        proof: key ? await makeProof(key, this.opts.roomId, bytes) : null,
      };
    }
    const kp = this.ownKp;
    this.opts.send(kp.proof ? { type: 'mls_keypackage', keypackage: kp.text, proof: kp.proof } : { type: 'mls_keypackage', keypackage: kp.text });
  }

  private async onWelcome(welcomeText: string): Promise<void> {
    if (this.statusValue === 'in-group' || this.statusValue === 'closed') return;
    const bytes = base64urlDecode(welcomeText);
    const es = bytes ? await this.opts.mls.joinFromWelcome(bytes, this.opts.roomId) : null;
    if (!es) {
      // made for a KeyPackage we have since replaced (and wiped): the
      // committer replaces it by our current one, whose Welcome follows.
      // Making yet another KeyPackage here would start that over forever.
      this.emit('error', 'a Welcome did not fit our KeyPackage');
      return;
    }
    this.ownKp = null;
    this.welcomedInLobby = this.statusValue === 'lobby';
    this.stopLobbyTimer();
    this.setEpoch(es);
    await this.reconcile();
  }

  // ---- KeyPackages of others -----------------------------------------------------------

  private async onKeyPackage(participant: string, name: string, text: string, proof: string | undefined): Promise<void> {
    if (participant === this.selfId || !PARTICIPANT_ID_RE.test(participant)) return;
    const bytes = base64urlDecode(text);
    if (!bytes) return;
    const info = await this.opts.mls.inspectKeyPackage(bytes, this.opts.roomId);
    if (!info) return;
    // it must be the sender's own: its identity, and the name the server shows
    if (info.identity !== participant && !isLobbyIdentity(info.identity)) return;
    if (info.name !== name) return;
    // already in the group (a late republish): nothing waits. Kept as waiting,
    // it would later pass for a rejoin and get its owner's newer leaf replaced.
    if (this.epochState?.members.some((m) => m.signatureKey === info.signatureKey)) {
      if (this.waiting.get(participant)?.info.signatureKey === info.signatureKey) this.waiting.delete(participant);
      return;
    }
    const key = await this.proofKey;
    const proofValid = key !== null && (await verifyProof(key, this.opts.roomId, bytes, proof));
    this.waiting.set(participant, { participant, bytes, info, proofValid });
    this.departed.delete(participant);
    await this.reconcile();
    if (proofValid && !this.isCommitter()) this.endorseLater(participant, info.signatureKey);
  }

  /**
   * If the committer has not added this KeyPackage (valid proof) in a
   * while, vouch for it: it may lack INVITE and so cannot check proofs.
   */
  private endorseLater(participant: string, signatureKey: string): void {
    const t = setTimeout(() => {
      this.endorseTimers.delete(t);
      void this.run(async () => {
        const w = this.waiting.get(participant);
        const es = this.epochState;
        if (!w || w.info.signatureKey !== signatureKey || !w.proofValid || !es || this.statusValue !== 'in-group') return;
        if (es.members.some((m) => m.signatureKey === signatureKey) || this.isCommitter()) return;
        await this.sendApp({ kind: 'admit', participant, key: signatureKey, ts: Date.now() });
      }, undefined);
    }, this.opts.endorseAfterMs ?? ENDORSE_AFTER_MS);
    this.endorseTimers.add(t);
  }

  /** Whether the committer may add this waiting KeyPackage. */
  private admissible(w: Waiting): boolean {
    if (w.proofValid || this.allowed.has(w.participant) || this.allowedKeys.has(w.info.signatureKey)) return true;
    // a member back with a new KeyPackage that proves it held its old leaf,
    // under the same id and name
    const prev = w.info.predecessor !== undefined ? this.known.get(w.info.predecessor) : undefined;
    return w.info.identity === w.participant && prev?.participant === w.participant && prev.name === w.info.name;
  }

  /**
   * Admits the next KeyPackage under this id (used up by its add, setEpoch);
   * nothing if someone is in the group under it already (an admission that
   * came late).
   */
  private allowId(participant: string): void {
    if (this.epochState?.members.some((m) => m.participant === participant)) return;
    this.allowed.add(participant);
  }

  private forget(participant: string): void {
    this.allowed.delete(participant);
    for (const [key, k] of [...this.known]) if (k.participant === participant) this.known.delete(key);
    const w = this.waiting.get(participant);
    if (w) this.allowedKeys.delete(w.info.signatureKey);
  }

  private onParticipantLeft(participant: string): Promise<void> {
    this.waiting.delete(participant);
    this.allowed.delete(participant);
    if (this.epochState?.members.some((m) => !m.self && m.participant === participant)) this.departed.add(participant);
    return this.reconcile();
  }

  // ---- commits ------------------------------------------------------------------------

  private async onCommit(text: string, serverEpoch: number): Promise<void> {
    if (this.statusValue !== 'in-group' || !this.epochState) return;
    const bytes = base64urlDecode(text);
    const r = bytes ? await this.opts.mls.processCommit(bytes) : null;
    if (!r) {
      // stale duplicates are harmless; a later epoch we cannot follow is not
      if (serverEpoch > this.epochState.epoch) await this.resync();
      return;
    }
    // if we had a commit out for this epoch, it lost: mls_commit_rejected follows
    await this.apply(r);
  }

  private async onCommitOk(): Promise<void> {
    const p = this.pending;
    if (!p) return;
    const r = await this.opts.mls.confirmCommit();
    this.pending = null;
    if (p.update && r.kind === 'epoch') this.wantUpdate = false;
    await this.apply(r);
  }

  private async onCommitRejected(serverEpoch: number): Promise<void> {
    if (!this.pending) return;
    await this.opts.mls.discardCommit();
    this.pending = null;
    this.retryAtEpoch = serverEpoch;
    await this.reconcile();
  }

  private async apply(r: CommitOutcome): Promise<void> {
    if (r.kind === 'removed') {
      await this.leaveGroup('removed');
      return;
    }
    this.setEpoch(r.state);
    await this.reconcile();
  }

  /**
   * Does what the group needs next, if it falls to us: as committer, remove
   * the departed, replace rejoined members, add admitted KeyPackages; any
   * member: a requested self-update.
   */
  private async reconcile(): Promise<void> {
    const es = this.epochState;
    if (this.statusValue !== 'in-group' || !es || this.pending) return;
    if (this.retryAtEpoch !== null) {
      if (es.epoch < this.retryAtEpoch) return; // the accepted commit has not reached us yet
      this.retryAtEpoch = null;
    }
    if (this.isCommitter()) {
      const removeLeaves = this.goneLeaves(es);
      const removePids = new Set(es.members.filter((m) => removeLeaves.has(m.leaf)).map((m) => m.participant));
      const adds: Waiting[] = [];
      const lobbyAdds: Waiting[] = [];
      for (const w of this.waiting.values()) {
        if (!this.admissible(w)) continue;
        const existing = es.members.filter((m) => m.participant === w.participant);
        if (existing.some((m) => m.signatureKey === w.info.signatureKey)) {
          this.waiting.delete(w.participant); // already in: a duplicate
          continue;
        }
        if (existing.some((m) => m.self)) continue;
        // a live leaf under that id stays, and nothing joins beside it: it
        // goes when it left, or when this is its proven successor
        if (existing.some((m) => !removeLeaves.has(m.leaf))) continue;
        // a rejoin's old leaf is in removeLeaves already (goneLeaves);
        // lobby adds need a commit without removes (mls.ts); they follow next
        (isLobbyIdentity(w.info.identity) ? lobbyAdds : adds).push(w);
      }
      if (removeLeaves.size > 0 || adds.length > 0) {
        await this.commit({ add: adds.map(addRequest), removeLeaves: [...removeLeaves] }, adds, [...removePids], true);
        return;
      }
      if (lobbyAdds.length > 0) {
        await this.commit({ add: lobbyAdds.map(addRequest) }, lobbyAdds, [], false);
        return;
      }
    }
    if (this.wantUpdate) await this.commit({}, [], [], true);
  }

  private async commit(req: CommitRequest, adds: readonly Waiting[], removePids: readonly string[], update: boolean): Promise<void> {
    let r;
    try {
      r = await this.opts.mls.createCommit(req);
    } catch (e) {
      // a KeyPackage that inspected fine but cannot be added: do not retry it
      for (const w of adds) this.waiting.delete(w.participant);
      this.emit('error', `commit not possible: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.pending = { update, adds };
    const addPids = adds.map((w) => w.participant);
    this.opts.send({
      type: 'mls_commit',
      commit: base64urlEncode(r.commit),
      ...(r.welcome ? { welcome: base64urlEncode(r.welcome) } : {}),
      ...(addPids.length > 0 ? { add: addPids } : {}),
      ...(removePids.length > 0 ? { remove: removePids } : {}),
    });
  }

  private setEpoch(es: EpochState): void {
    const prev = this.epochState;
    this.epochState = es;
    for (const m of es.members) {
      if (m.self || m.participant === '' || m.name === '') continue;
      this.known.set(m.signatureKey, { participant: m.participant, name: m.name });
      // an admission by id is used up once someone is in under that id
      this.allowed.delete(m.participant);
    }
    this.setStatus('in-group');
    for (const w of [...this.waiting.values()]) {
      if (es.members.some((m) => m.signatureKey === w.info.signatureKey)) this.waiting.delete(w.participant);
    }
    for (const p of [...this.departed]) {
      if (!es.members.some((m) => m.participant === p)) this.departed.delete(p);
    }
    this.emit('epoch', es);
    this.emit('roster', es.members);
    const joined = prev !== null && es.members.some((m) => !prev.members.some((o) => o.signatureKey === m.signatureKey));
    if (joined && this.handRaised) void this.run(() => this.sendApp({ kind: 'hand', raised: true, ts: Date.now() }), false);
  }

  /**
   * Our group state is gone (removed, or a rejoin): drop it (the MLS client
   * keeps only our leaf's signature key, to prove the next KeyPackage is
   * ours), tell the app.
   */
  private async leaveGroup(status: 'removed' | 'joining'): Promise<void> {
    await this.opts.mls.leave();
    this.epochState = null;
    this.ownKp = null;
    this.resetBookkeeping();
    // KeyPackages relayed for that group: whoever still waits sends again,
    // and the server hands them to us when we are added
    this.waiting.clear();
    this.setStatus(status);
    this.emit('roster', []);
  }

  /** We cannot follow the group any more: start over with a new KeyPackage. */
  private async resync(): Promise<void> {
    this.emit('error', 'lost track of the group; asking to be added again');
    await this.leaveGroup('joining');
    if (this.selfId) await this.publishKeyPackage();
  }

  private resetBookkeeping(): void {
    this.welcomedInLobby = false;
    this.pending = null;
    this.retryAtEpoch = null;
    this.departed.clear();
  }

  // ---- application messages ---------------------------------------------------------------

  private async sendApp(payload: AppPayload): Promise<boolean> {
    if (this.statusValue !== 'in-group') return false;
    const msg = await this.opts.mls.encrypt(utf8(JSON.stringify(payload)));
    this.opts.send({ type: 'mls_app', msg: base64urlEncode(msg) });
    this.sentKinds[payload.kind] = (this.sentKinds[payload.kind] ?? 0) + 1;
    return true;
  }

  /** Application messages sent so far, by kind (diagnostics and tests: an observer sees only ciphertext). */
  get appSent(): Readonly<Partial<Record<AppPayload['kind'], number>>> {
    return { ...this.sentKinds };
  }

  private async onApp(text: string): Promise<void> {
    if (this.statusValue !== 'in-group') return;
    const bytes = base64urlDecode(text);
    const m = bytes ? await this.opts.mls.decrypt(bytes) : null;
    if (!m) return;
    const payload = parsePayload(fromUtf8(m.data));
    if (!payload) return;
    switch (payload.kind) {
      case 'chat':
        this.emit('chat', { from: m.sender, text: payload.text, ts: payload.ts });
        return;
      case 'hand':
        this.emit('hand', { from: m.sender, raised: payload.raised, ts: payload.ts });
        return;
      case 'net':
        this.emit('net', { from: m.sender, level: payload.level, ts: payload.ts });
        return;
      case 'admit':
        if (payload.key !== undefined) this.allowedKeys.add(payload.key);
        else this.allowId(payload.participant);
        await this.reconcile();
        return;
      case 'revoke':
        this.forget(payload.participant);
        return;
    }
  }

  private stopLobbyTimer(): void {
    if (this.lobbyTimer !== null) clearInterval(this.lobbyTimer);
    this.lobbyTimer = null;
  }

  private stopTimers(): void {
    this.stopLobbyTimer();
    if (this.updateTimer !== null) clearInterval(this.updateTimer);
    this.updateTimer = null;
  }
}

function addRequest(w: Waiting): AddRequest {
  return { keyPackage: w.bytes, participant: w.participant };
}

/** Hex of an Ed25519 signature public key (Member.signatureKey). */
const SIGNATURE_KEY_RE = /^[0-9a-f]{64}$/;

/** The JSON inside an application message. */
type AppPayload =
  | { readonly kind: 'chat'; readonly text: string; readonly ts: number }
  | { readonly kind: 'hand'; readonly raised: boolean; readonly ts: number }
  | { readonly kind: 'net'; readonly level: NetLevel; readonly ts: number }
  | { readonly kind: 'admit'; readonly participant: string; readonly key?: string; readonly ts: number }
  | { readonly kind: 'revoke'; readonly participant: string; readonly ts: number };

function parsePayload(text: string | null): AppPayload | null {
  if (text === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const ts = o['ts'];
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return null;
  if (o['kind'] === 'chat' && typeof o['text'] === 'string' && o['text'].length > 0 && o['text'].length <= MAX_CHAT_CHARS) {
    return { kind: 'chat', text: o['text'], ts };
  }
  if (o['kind'] === 'hand' && typeof o['raised'] === 'boolean') return { kind: 'hand', raised: o['raised'], ts };
  const level = o['level'];
  if (o['kind'] === 'net' && (level === 0 || level === 1 || level === 2 || level === 3)) return { kind: 'net', level, ts };
  if (o['kind'] === 'admit' && typeof o['participant'] === 'string' && PARTICIPANT_ID_RE.test(o['participant'])) {
    const key = o['key'];
    if (key === undefined) return { kind: 'admit', participant: o['participant'], ts };
    if (typeof key === 'string' && SIGNATURE_KEY_RE.test(key)) return { kind: 'admit', participant: o['participant'], key, ts };
    return null;
  }
  if (o['kind'] === 'revoke' && typeof o['participant'] === 'string' && PARTICIPANT_ID_RE.test(o['participant'])) {
    return { kind: 'revoke', participant: o['participant'], ts };
  }
  return null;
}
