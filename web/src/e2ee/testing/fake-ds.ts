/*
 * Test double of the server's MLS delivery service (src/room/e2ee.c) and of
 * the little of the room logic around it, for session tests in Vitest.
 *
 * What it imitates, rule for rule: the first member admitted to a meeting
 * without a group is told to create it (epoch 0); KeyPackages are stored and
 * relayed to the group's members; a commit is accepted only if its clear
 * header carries the current epoch (the sender gets mls_commit_ok with the
 * new epoch, the other group members the commit), otherwise the sender gets
 * mls_commit_rejected with the current epoch; `remove` takes participants out
 * of the group, `add` puts them in, admits them from the lobby and sends them
 * the Welcome and the KeyPackages of everyone still waiting; application
 * messages go to the other group members. Each connection gets its messages
 * in order, one macrotask apart, like a socket.
 *
 * The app around each session is imitated too: `lobby` and `joined` are
 * handed to the session. With allowOnJoined (the default here) a host's
 * admission (participant_joined) makes every member call allowWithoutProof;
 * the real app does not trust participant_joined and instead has the
 * admitting host's client call session.admit (allowOnJoined = false plus
 * an explicit admit() in a test).
 */
import { decodeMlsMessage } from 'ts-mls';
import { base64urlDecode } from '../../util/base64url';
import { MlsClient, inProcessMls } from '../mls';
import type { MlsApi } from '../mls-protocol';
import { E2eeSession, type E2eeInbound, type E2eeOutbound } from '../session';

export const FAKE_ROOM = 'FakeRoomFakeRoomFakeRo';

export interface FakeClient {
  readonly id: string;
  readonly name: string;
  readonly session: E2eeSession;
  readonly mls: MlsClient;
  state: 'lobby' | 'member' | 'gone';
  inGroup: boolean;
  mlsCreate: boolean;
  keypackage: string | null;
  proof: string | null;
  /** Everything the server sent it, in order. */
  readonly received: E2eeInbound[];
  /** Everything it sent. */
  readonly sent: E2eeOutbound[];
  /** How long each MLS operation of this client took (ms). */
  readonly timings: { readonly op: string; readonly ms: number }[];
  inbox: (() => void)[];
  pumping: boolean;
}

/** The in-process MLS client, timing every call. */
function timed(mls: MlsClient, timings: { op: string; ms: number }[]): MlsApi {
  const api = inProcessMls(mls);
  const out = {} as Record<string, unknown>;
  for (const [op, fn] of Object.entries(api) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    out[op] = async (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return await fn(...args);
      } finally {
        timings.push({ op, ms: performance.now() - t0 });
      }
    };
  }
  return out as unknown as MlsApi;
}

export interface ConnectOptions {
  readonly invite?: string | null;
  /** Enters with the host credential: joined at once, no lobby. */
  readonly host?: boolean;
  /** Sends this instead of what its session sends (a misbehaving client). */
  readonly tamper?: (msg: E2eeOutbound) => E2eeOutbound;
  /** The session's endorseAfterMs. */
  readonly endorseAfterMs?: number;
}

function headerEpoch(b64: string): number | null {
  const bytes = base64urlDecode(b64);
  const m = bytes ? decodeMlsMessage(bytes, 0)?.[0] : undefined;
  if (!m) return null;
  if (m.wireformat === 'mls_private_message') return Number(m.privateMessage.epoch);
  if (m.wireformat === 'mls_public_message') return Number(m.publicMessage.content.epoch);
  return null;
}

export class FakeRoom {
  /** Imitate an app that calls allowWithoutProof on participant_joined. */
  allowOnJoined = true;
  group = false;
  epoch = 0;
  readonly clients: FakeClient[] = [];
  rejected = 0;
  private seq = 0;
  private inFlight = 0;

  get members(): FakeClient[] {
    return this.clients.filter((c) => c.state === 'member');
  }

  async connect(name: string, opts: ConnectOptions = {}): Promise<FakeClient> {
    const id = `p${String(++this.seq).padStart(10, '0')}`;
    const mls = await MlsClient.create();
    const timings: { op: string; ms: number }[] = [];
    const c: FakeClient = {
      id, name, mls, state: 'lobby', inGroup: false, mlsCreate: false, keypackage: null, proof: null,
      received: [], sent: [], timings, inbox: [], pumping: false,
      session: new E2eeSession({
        roomId: FAKE_ROOM,
        name,
        mls: timed(mls, timings),
        invite: opts.invite ?? null,
        lobbyRepublishMs: 0,
        ...(opts.endorseAfterMs !== undefined ? { endorseAfterMs: opts.endorseAfterMs } : {}),
        send: (m) => {
          const out = opts.tamper ? opts.tamper(m) : m;
          c.sent.push(out);
          this.fromClient(c, out);
        },
      }),
    };
    this.clients.push(c);
    if (opts.host) this.admit(c);
    else this.deliver(c, { type: 'lobby' });
    return c;
  }

  /** A host admits a guest by name (or a host enters). */
  admit(c: FakeClient): void {
    c.state = 'member';
    c.inGroup = false;
    c.mlsCreate = false;
    if (!this.group) {
      this.group = true;
      this.epoch = 0;
      c.inGroup = true;
      c.mlsCreate = true;
    }
    this.deliver(c, { type: 'joined', participant: c.id, mls: { create: c.mlsCreate, epoch: this.epoch } });
    // participant_joined: the app of every other member lets the group add it
    if (this.allowOnJoined) for (const o of this.members) if (o !== c) this.act(o, () => void o.session.allowWithoutProof(c.id));
  }

  /**
   * The participant's connection drops and it comes back with its rejoin
   * token: admitted again at once, and (like e2ee__on_admitted) no longer
   * counted in the group.
   */
  rejoin(c: FakeClient): void {
    if (c.state !== 'member') throw new Error('only members rejoin');
    this.inFlight -= c.inbox.length;
    c.inbox = [];
    this.admit(c);
  }

  /**
   * The server restarts: the group is gone, every member's connection drops
   * and comes back with its rejoin token, in the given order (the first one
   * creates a new group).
   */
  restart(order: readonly FakeClient[] = this.members): void {
    for (const c of this.clients) {
      this.inFlight -= c.inbox.length;
      c.inbox = [];
      c.inGroup = false;
    }
    this.group = false;
    this.epoch = 0;
    for (const c of order) this.admit(c);
  }

  /** The server relays c's last KeyPackage to the group again (a late republish, as the app does on `joined`). */
  relayKeyPackageAgain(c: FakeClient): void {
    if (c.keypackage && this.group) this.toGroup(this.keyPackageMsg(c), c);
  }

  /** The server sends c a message of its own making (a malicious server). */
  inject(c: FakeClient, msg: E2eeInbound): void {
    this.deliver(c, msg);
  }

  /** The participant leaves (or times out): the others get participant_left. */
  leave(c: FakeClient): void {
    c.state = 'gone';
    c.inGroup = false;
    this.inFlight -= c.inbox.length;
    c.inbox = [];
    if (!this.members.some((o) => o.inGroup)) {
      this.group = false;
      this.epoch = 0;
    }
    for (const o of this.members) this.deliver(o, { type: 'participant_left', participant: c.id });
  }

  /** Waits until no message is in flight and every session is idle. */
  async settle(timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let quiet = 0;
    while (quiet < 3) {
      if (Date.now() > end) throw new Error('the fake room did not settle');
      await new Promise((r) => setTimeout(r, 1));
      await Promise.all(this.clients.filter((c) => c.state !== 'gone').map((c) => c.session.idle()));
      quiet = this.inFlight === 0 ? quiet + 1 : 0;
    }
  }

  private fromClient(c: FakeClient, m: E2eeOutbound): void {
    if (c.state === 'gone') return;
    switch (m.type) {
      case 'mls_keypackage':
        c.keypackage = m.keypackage;
        c.proof = m.proof ?? null;
        if (this.group) this.toGroup(this.keyPackageMsg(c), c);
        return;
      case 'mls_commit':
        this.commit(c, m);
        return;
      case 'mls_app': {
        if (c.state !== 'member' || !c.inGroup) return;
        const epoch = headerEpoch(m.msg);
        if (epoch === null) return;
        this.toGroup({ type: 'mls_app', msg: m.msg, from: c.id, epoch }, c);
        return;
      }
    }
  }

  private commit(c: FakeClient, m: Extract<E2eeOutbound, { type: 'mls_commit' }>): void {
    if (c.state !== 'member' || !c.inGroup) return;
    const epoch = headerEpoch(m.commit);
    if (epoch === null) return;
    if (epoch !== this.epoch) {
      this.rejected++;
      this.deliver(c, { type: 'mls_commit_rejected', epoch: this.epoch });
      return;
    }
    this.epoch++;
    this.deliver(c, { type: 'mls_commit_ok', epoch: this.epoch });
    this.toGroup({ type: 'mls_commit', commit: m.commit, from: c.id, epoch: this.epoch }, c);
    for (const id of m.remove ?? []) {
      const t = this.members.find((o) => o.id === id);
      if (t) t.inGroup = false;
    }
    for (const id of m.add ?? []) {
      const t = this.clients.find((o) => o.id === id && o.state !== 'gone');
      if (!t || !t.keypackage) continue;
      if (t.state === 'lobby') this.admitFromLobby(t);
      t.inGroup = true;
      if (m.welcome) this.deliver(t, { type: 'mls_welcome', welcome: m.welcome, epoch: this.epoch });
      for (const o of this.clients) {
        if (o !== t && o.state !== 'gone' && !o.inGroup && o.keypackage) this.deliver(t, this.keyPackageMsg(o));
      }
    }
  }

  private admitFromLobby(t: FakeClient): void {
    t.state = 'member';
    t.mlsCreate = false;
    this.deliver(t, { type: 'joined', participant: t.id, mls: { create: false, epoch: this.epoch } });
    if (this.allowOnJoined) for (const o of this.members) if (o !== t) this.act(o, () => void o.session.allowWithoutProof(t.id));
  }

  private keyPackageMsg(c: FakeClient): E2eeInbound {
    return {
      type: 'mls_keypackage', participant: c.id, name: c.name, keypackage: c.keypackage!,
      ...(c.proof ? { proof: c.proof } : {}), lobby: c.state === 'lobby',
    };
  }

  private toGroup(msg: E2eeInbound, skip: FakeClient): void {
    for (const o of this.members) if (o !== skip && o.inGroup) this.deliver(o, msg);
  }

  private deliver(c: FakeClient, msg: E2eeInbound): void {
    this.act(c, () => {
      c.received.push(msg);
      void c.session.handle(msg);
    });
  }

  /** Runs f for c after everything delivered to c before, a macrotask later. */
  private act(c: FakeClient, f: () => void): void {
    this.inFlight++;
    c.inbox.push(f);
    if (c.pumping) return;
    c.pumping = true;
    const pump = (): void => {
      const next = c.inbox.shift();
      if (!next) {
        c.pumping = false;
        return;
      }
      this.inFlight--;
      if (c.state !== 'gone') next();
      setTimeout(pump, 0);
    };
    setTimeout(pump, 0);
  }
}
