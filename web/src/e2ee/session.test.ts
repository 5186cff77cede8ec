/*
 * The e2ee session driver end to end, against a fake delivery service that
 * follows src/room/e2ee.c (testing/fake-ds.ts): joins by invite proof and by
 * host admission, security codes, leaves, racing commits, replayed proofs,
 * chat and hands, what a malicious server can make up (KeyPackages under
 * members' ids and names, a new group), and the time a leave takes to rekey
 * everyone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../util/base64url';
import { toHex, utf8 } from './bytes';
import { newInviteSecret } from './invite';
import { MlsClient } from './mls';
import { SFrameKeyStore } from './sframe-keys';
import type { ChatEvent, E2eeInbound, HandEvent, NetEvent } from './session';
import { type FakeClient, FakeRoom } from './testing/fake-ds';

const rooms: FakeRoom[] = [];
afterEach(async () => {
  for (const r of rooms.splice(0)) await Promise.all(r.clients.map((c) => c.session.close()));
});

function newRoom(): FakeRoom {
  const r = new FakeRoom();
  rooms.push(r);
  return r;
}

/** Every client is in the group, at one epoch, with one code and one roster of exactly them. */
function expectConverged(cs: readonly FakeClient[]): { epoch: number; code: string } {
  const states = cs.map((c) => c.session.current);
  for (const [i, s] of states.entries()) {
    expect(cs[i]!.session.status, cs[i]!.name).toBe('in-group');
    expect(s?.epoch, cs[i]!.name).toBe(states[0]?.epoch);
    expect(s?.securityCode, cs[i]!.name).toBe(states[0]?.securityCode);
    expect(s?.members.map((m) => m.participant).sort(), cs[i]!.name).toEqual(cs.map((c) => c.id).sort());
  }
  return { epoch: states[0]!.epoch, code: states[0]!.securityCode };
}

async function group(room: FakeRoom, n: number, invite: string): Promise<FakeClient[]> {
  const cs = [await room.connect('Member 0', { host: true, invite })];
  await room.settle();
  for (let i = 1; i < n; i++) cs.push(await room.connect(`Member ${i}`, { invite }));
  await room.settle();
  expectConverged(cs);
  return cs;
}

/** base64url text of an mls_app the client sent last. */
function lastApp(c: FakeClient): string {
  const m = [...c.sent].reverse().find((x) => x.type === 'mls_app');
  if (!m || m.type !== 'mls_app') throw new Error('no application message sent');
  return m.msg;
}

/** A KeyPackage the server makes itself under someone's id and name, as the server would relay it. */
async function madeUp(participant: string, name: string): Promise<E2eeInbound> {
  const kp = await (await MlsClient.create()).keyPackage(participant, name);
  return { type: 'mls_keypackage', participant, name, keypackage: base64urlEncode(kp), lobby: false };
}

describe('e2ee session against the delivery service', () => {
  it('admits a guest with the invite proof at once, and one without it only after a host did', async () => {
    const room = newRoom();
    const invite = newInviteSecret();
    const alice = await room.connect('Alice', { host: true, invite });
    await room.settle();
    expect(alice.session.current?.epoch).toBe(0);
    expect(alice.session.isCommitter()).toBe(true);

    const bob = await room.connect('Bob', { invite });
    await room.settle();
    expect(bob.state).toBe('member'); // admitted by the group, no host action
    expectConverged([alice, bob]);

    const carol = await room.connect('Carol'); // no invite secret
    await room.settle();
    expect(carol.state).toBe('lobby');
    expect(carol.session.status).toBe('lobby');
    expect(alice.session.current!.members.map((m) => m.name)).toEqual(['Alice', 'Bob']);

    room.admit(carol); // a host admits her by name
    await room.settle();
    const three = expectConverged([alice, bob, carol]);
    expect(three.code).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(carol.session.current!.members.map((m) => [m.participant, m.name])).toEqual([
      [alice.id, 'Alice'],
      [bob.id, 'Bob'],
      [carol.id, 'Carol'],
    ]);

    const dave = await room.connect('Dave', { invite });
    await room.settle();
    const four = expectConverged([alice, bob, carol, dave]);
    expect(four.epoch).toBe(three.epoch + 1);
    expect(four.code).not.toBe(three.code);
  });

  it('admits by name through an MLS message of the admitting member, without trusting participant_joined', async () => {
    const room = newRoom();
    room.allowOnJoined = false;
    const invite = newInviteSecret();
    const [alice, bob] = await group(room, 2, invite);
    const carol = await room.connect('Carol');
    await room.settle();
    room.admit(carol); // the server lets her in, but nobody's app vouches for her
    await room.settle();
    expect(carol.session.status).toBe('joining');
    expectConverged([alice!, bob!]);
    // Bob (not the committer) admits her by name: Alice, the committer, adds her
    expect(await bob!.session.admit(carol.id)).toBe(true);
    await room.settle();
    expectConverged([alice!, bob!, carol]);
  });

  it('moves the others to a new epoch when a member leaves, and the leaver can read none of it', async () => {
    const room = newRoom();
    const [alice, bob, carol] = await group(room, 3, newInviteSecret());
    const carolState = carol!.mls.exportState()!; // what a leaver could keep
    const before = expectConverged([alice!, bob!, carol!]);

    room.leave(carol!);
    await room.settle();
    const after = expectConverged([alice!, bob!]);
    expect(after.epoch).toBe(before.epoch + 1);
    expect(after.code).not.toBe(before.code);

    // chat of the new epoch: Bob reads it, Carol's kept state does not
    const chats: ChatEvent[] = [];
    bob!.session.on('chat', (c) => chats.push(c));
    expect(await alice!.session.sendChat('after Carol left')).toBe(true);
    await room.settle();
    expect(chats.map((c) => [c.from.participant, c.text])).toEqual([[alice!.id, 'after Carol left']]);
    const kept = await MlsClient.create();
    const keptEpoch = await kept.importState(carolState);
    expect(await kept.decrypt(base64urlDecode(lastApp(alice!))!)).toBeNull();

    // media of the new epoch: Carol's last key does not open it
    const now = alice!.session.current!;
    const sender = new SFrameKeyStore();
    const leaver = new SFrameKeyStore();
    sender.setEpoch({ epoch: now.epoch, baseKey: now.baseKey, ownLeaf: now.ownLeaf });
    leaver.setEpoch({ epoch: keptEpoch.epoch, baseKey: keptEpoch.baseKey, ownLeaf: keptEpoch.ownLeaf });
    expect(await leaver.decrypt((await sender.encrypt(utf8('a frame')))!)).toBeNull();
    sender.wipe();
    leaver.wipe();
  });

  it('hands the committer role to the next leaf when the committer leaves', async () => {
    const room = newRoom();
    const [alice, bob, carol] = await group(room, 3, newInviteSecret());
    expect([alice!, bob!, carol!].map((c) => c.session.isCommitter())).toEqual([true, false, false]);
    room.leave(alice!);
    await room.settle();
    expectConverged([bob!, carol!]);
    // the one with the lower leaf takes over (join order decides the leaves)
    const lowest = bob!.session.current!.members[0]!.participant;
    expect([bob!, carol!].map((c) => c.session.isCommitter())).toEqual([bob!.id === lowest, carol!.id === lowest]);
    const dave = await room.connect('Dave', { invite: null });
    await room.settle();
    room.admit(dave);
    await room.settle();
    expectConverged([bob!, carol!, dave]);
  });

  it('replaces the leaf of a member who reconnects, the committer too', async () => {
    const room = newRoom();
    const invite = newInviteSecret();
    const cs = await group(room, 3, invite);
    const before = expectConverged(cs);
    const middle = cs.find((c) => c.session.current!.ownLeaf === 1)!;
    room.rejoin(middle);
    await room.settle();
    const after = expectConverged(cs);
    expect(after.epoch).toBe(before.epoch + 1); // one commit: remove the old leaf, add the new
    const first = cs.find((c) => c.session.current!.ownLeaf === 0)!;
    const commitsBy = (c: FakeClient): number => c.sent.filter((m) => m.type === 'mls_commit').length;
    const firstCommits = commitsBy(first);
    room.rejoin(first); // the committer itself: the next leaf does the replacement
    await room.settle();
    expect(expectConverged(cs).epoch).toBe(after.epoch + 1);
    expect(commitsBy(first)).toBe(firstCommits);
    // its new leaf fills the freed slot 0, so it is the committer again
    expect(cs.map((c) => c.session.isCommitter())).toEqual(cs.map((c) => c.session.current!.ownLeaf === 0));
  });

  it('has a member with INVITE vouch for a proof when the committer came in by name and cannot check it', async () => {
    const room = newRoom();
    room.allowOnJoined = false;
    const invite = newInviteSecret();
    const alice = await room.connect('Alice', { host: true, invite: null }); // a host link without the secret
    await room.settle();
    const bob = await room.connect('Bob', { invite, endorseAfterMs: 30 });
    await room.settle();
    expect(bob.state).toBe('lobby'); // Alice cannot check his proof
    room.admit(bob);
    expect(await alice.session.admit(bob.id)).toBe(true);
    await room.settle();
    expectConverged([alice, bob]);
    // Carol has the link: Alice still cannot check it, Bob can and vouches for exactly her KeyPackage
    const carol = await room.connect('Carol', { invite });
    await room.settle();
    await new Promise((r) => setTimeout(r, 60));
    await room.settle();
    expect(carol.state).toBe('member');
    expectConverged([alice, bob, carol]);
    const vouch = bob.sent.filter((m) => m.type === 'mls_app').length;
    expect(vouch).toBe(1);
    // a wrong secret gets no vouching
    const mallory = await room.connect('Mallory', { invite: newInviteSecret() });
    await room.settle();
    await new Promise((r) => setTimeout(r, 60));
    await room.settle();
    expect(mallory.state).toBe('lobby');
    expect(bob.sent.filter((m) => m.type === 'mls_app').length).toBe(vouch);
  });

  it('re-forms the group after a server restart, members admitted by name included, but not one a host removed', async () => {
    const room = newRoom();
    room.allowOnJoined = false;
    const invite = newInviteSecret();
    const host = await room.connect('Hanna', { host: true, invite });
    await room.settle();
    const guests: FakeClient[] = [];
    for (const name of ['Gustav', 'Grete', 'Rudi']) {
      const g = await room.connect(name); // no secret: admitted by name
      await room.settle();
      room.admit(g);
      await host.session.admit(g.id);
      await room.settle();
      guests.push(g);
    }
    const [gustav, grete, rudi] = guests as [FakeClient, FakeClient, FakeClient];
    const before = expectConverged([host, gustav, grete, rudi]);
    // the host removes Rudi: the group forgets him
    expect(await host.session.revoke(rudi.id)).toBe(true);
    room.leave(rudi);
    await room.settle();
    expectConverged([host, gustav, grete]);
    // the server restarts; a guest without the secret is back first and makes the new group
    // KeyPackages of members that are in the group already, arriving late (the
    // republish on `joined`): nobody may keep them as waiting
    for (const c of [gustav, grete]) room.relayKeyPackageAgain(c);
    await room.settle();
    expect(expectConverged([host, gustav, grete]).epoch).toBe(before.epoch + 1); // only Rudi's removal
    const mark = new Map([host, gustav, grete].map((c) => [c, c.received.length]));
    room.restart([grete, host, gustav]);
    await room.settle();
    const after = expectConverged([host, gustav, grete]);
    expect(after.code).not.toBe(before.code);
    // straight there: a new group and two adds, nobody replaced on the way
    expect(after.epoch).toBe(2);
    for (const c of [host, gustav, grete]) {
      const welcomes = c.received.slice(mark.get(c)).filter((m) => m.type === 'mls_welcome');
      expect(welcomes, c.name).toHaveLength(c === grete ? 0 : 1);
    }
    // a KeyPackage under Rudi's old id and name (the server can make one) is not taken back
    const fake = await room.connect('Rudi');
    (fake as { id: string }).id = rudi.id;
    room.admit(fake);
    await room.settle();
    expect(fake.session.status).toBe('joining');
    expectConverged([host, gustav, grete]);
  });

  it('never lets the server swap a live member for a KeyPackage of its own under that id and name', async () => {
    const room = newRoom();
    const cs = await group(room, 3, newInviteSecret());
    const [alice, bob] = cs as [FakeClient, FakeClient, FakeClient];
    const before = expectConverged(cs);
    const keys = alice.session.current!.members.map((m) => m.signatureKey);
    const commits = (): number => cs.flatMap((c) => c.sent).filter((m) => m.type === 'mls_commit').length;
    const made = commits();
    // to every member, committer first: "Bob" is back with a new KeyPackage
    for (const c of cs) if (c !== bob) room.inject(c, await madeUp(bob.id, bob.name));
    await room.settle();
    expect(expectConverged(cs)).toEqual(before); // nobody replaced
    expect(alice.session.current!.members.map((m) => m.signatureKey)).toEqual(keys);
    expect(commits()).toBe(made);
  });

  it('adds none of the server\'s KeyPackages to a member it told to start a new group', async () => {
    const room = newRoom();
    const cs = await group(room, 3, newInviteSecret());
    const [alice, bob, carol] = cs as [FakeClient, FakeClient, FakeClient];
    // the server tells Carol she is the first in a meeting without a group
    room.inject(carol, { type: 'joined', participant: carol.id, mls: { create: true, epoch: 0 } });
    await room.settle();
    expect(carol.session.current!.members.map((m) => m.participant)).toEqual([carol.id]);
    room.inject(carol, await madeUp(alice.id, alice.name));
    room.inject(carol, await madeUp(bob.id, bob.name));
    await room.settle();
    expect(carol.session.current!.members.map((m) => m.participant)).toEqual([carol.id]);
    expect(carol.sent.filter((m) => m.type === 'mls_commit')).toHaveLength(0);
  });

  it('binds a host\'s admit to the KeyPackage the host saw', async () => {
    const room = newRoom();
    room.allowOnJoined = false;
    const [alice, bob] = (await group(room, 2, newInviteSecret())) as [FakeClient, FakeClient];
    const gina = await room.connect('Gina'); // by name, in the lobby: her KeyPackage reaches both
    await room.settle();
    room.admit(gina); // the server lets her in (she publishes again on joined); nobody has vouched yet
    await room.settle();
    // the committer gets another KeyPackage under her id and name from the server
    const fake = await madeUp(gina.id, gina.name);
    room.inject(alice, fake);
    await room.settle();
    expect(await bob.session.admit(gina.id)).toBe(true); // Bob admits the Gina whose KeyPackage he holds
    await room.settle();
    expectConverged([alice, bob]);
    expect(gina.session.status).toBe('joining');
    // her own KeyPackage comes again: that one is in
    room.relayKeyPackageAgain(gina);
    await room.settle();
    expectConverged([alice, bob, gina]);
    const ginaKey = gina.session.current!.members.find((m) => m.self)!.signatureKey;
    expect(alice.session.current!.members.find((m) => m.participant === gina.id)!.signatureKey).toBe(ginaKey);
  });

  it('lets nobody in on the word of a member removed since, from the epoch it still holds', async () => {
    const room = newRoom();
    room.allowOnJoined = false;
    const invite = newInviteSecret();
    const [alice, bob, carol] = (await group(room, 3, invite)) as [FakeClient, FakeClient, FakeClient];
    const kept = carol.mls.exportState()!;
    expect(await alice.session.revoke(carol.id)).toBe(true);
    room.leave(carol);
    await room.settle();
    expectConverged([alice, bob]);
    const mallory = await room.connect('Mallory'); // no secret, waits in the lobby
    await room.settle();
    room.admit(mallory);
    // Carol's kept state still encrypts for the epoch before her removal
    const old = await MlsClient.create();
    await old.importState(kept);
    const chats: ChatEvent[] = [];
    alice.session.on('chat', (c) => chats.push(c));
    for (const payload of [{ kind: 'admit', participant: mallory.id }, { kind: 'chat', text: 'still here' }]) {
      const msg = base64urlEncode(await old.encrypt(utf8(JSON.stringify({ ...payload, ts: Date.now() }))));
      for (const c of [alice, bob]) room.inject(c, { type: 'mls_app', msg, from: carol.id, epoch: 0 });
    }
    await room.settle();
    expect(chats).toEqual([]);
    expect(mallory.session.status).toBe('joining');
    expectConverged([alice, bob]);
    old.wipe();
  });

  it('settles racing commits: one is rejected, it retries, and all converge', async () => {
    const room = newRoom();
    const invite = newInviteSecret();
    const [alice, bob, carol] = await group(room, 3, invite);
    const before = expectConverged([alice!, bob!, carol!]);
    await Promise.all([bob!.session.updateKeys(), carol!.session.updateKeys()]);
    await room.settle();
    expect(room.rejected).toBeGreaterThanOrEqual(1);
    const after = expectConverged([alice!, bob!, carol!]);
    expect(after.epoch).toBe(before.epoch + 2); // both updates went in, one after the other

    // the committer adding a newcomer while a member updates
    const rejectedBefore = room.rejected;
    const dave = await room.connect('Dave', { invite });
    void bob!.session.updateKeys();
    await room.settle();
    const four = expectConverged([alice!, bob!, carol!, dave]);
    expect(four.epoch).toBe(after.epoch + 2);
    expect(room.rejected).toBeGreaterThanOrEqual(rejectedBefore);
  });

  it("does not admit a guest who replays another guest's proof, or holds a wrong secret", async () => {
    const room = newRoom();
    const invite = newInviteSecret();
    const [alice, bob] = await group(room, 2, invite);
    const bobsProof = bob!.proof!;
    expect(bobsProof).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const eve = await room.connect('Eve', {
      tamper: (m) => (m.type === 'mls_keypackage' ? { ...m, proof: bobsProof } : m),
    });
    const frank = await room.connect('Frank', { invite: newInviteSecret() });
    await room.settle();
    expect(eve.sent.some((m) => m.type === 'mls_keypackage' && m.proof === bobsProof)).toBe(true);
    expect([eve.state, frank.state]).toEqual(['lobby', 'lobby']);
    expect(alice!.session.current!.members.map((m) => m.name)).toEqual(['Member 0', 'Member 1']);
    expectConverged([alice!, bob!]);
  });

  it('carries chat and hand raises as MLS application messages, never in clear', async () => {
    const room = newRoom();
    const invite = newInviteSecret();
    const [alice, bob] = await group(room, 2, invite);
    const hands: HandEvent[] = [];
    const chats: ChatEvent[] = [];
    alice!.session.on('chat', (c) => chats.push(c));
    alice!.session.on('hand', (h) => hands.push(h));
    const sentence = 'the budget figures stay in this room';
    await bob!.session.sendChat(sentence);
    await bob!.session.raiseHand(true);
    await room.settle();
    expect(chats.map((c) => [c.from.participant, c.from.name, c.text])).toEqual([[bob!.id, 'Member 1', sentence]]);
    expect(hands.map((h) => [h.from.participant, h.raised])).toEqual([[bob!.id, true]]);
    // what the server relayed holds no trace of the sentence
    const relayed = alice!.received.filter((m) => m.type === 'mls_app').map((m) => (m.type === 'mls_app' ? m.msg : ''));
    expect(relayed).toHaveLength(2);
    for (const r of relayed) {
      expect(r).not.toContain('budget');
      expect(toHex(base64urlDecode(r)!)).not.toContain(toHex(utf8('budget')));
    }
    // a newcomer learns of the raised hand
    const carol = await room.connect('Carol', { invite });
    const carolHands: HandEvent[] = [];
    carol.session.on('hand', (h) => carolHands.push(h));
    await room.settle();
    expect(carolHands.map((h) => [h.from.participant, h.raised])).toEqual([[bob!.id, true]]);
  });

  it('carries network quality levels as MLS application messages', async () => {
    const room = newRoom();
    const [alice, bob] = await group(room, 2, newInviteSecret());
    const levels: NetEvent[] = [];
    alice!.session.on('net', (n) => levels.push(n));
    expect(await bob!.session.sendNet(1)).toBe(true);
    expect(await bob!.session.sendNet(3)).toBe(true);
    await room.settle();
    expect(levels.map((n) => [n.from.participant, n.level])).toEqual([
      [bob!.id, 1],
      [bob!.id, 3],
    ]);
    expect(bob!.session.appSent).toEqual({ net: 2 });
  });

  it.each([3, 10])('rekeys everyone after a leave (%i members), timed', async (n) => {
    const room = newRoom();
    const cs = await group(room, n, newInviteSecret());
    const before = cs[0]!.session.current!.epoch;
    const leaver = cs[Math.floor(n / 2)]!;
    const rest = cs.filter((c) => c !== leaver);
    const saved = rest.map((c) => c.mls.exportState()!);
    for (const c of rest) c.timings.length = 0;
    const done = rest.map(
      (c) => new Promise<number>((resolve) => c.session.on('epoch', (s) => s.epoch > before && resolve(performance.now()))),
    );
    const t0 = performance.now();
    room.leave(leaver);
    const last = Math.max(...(await Promise.all(done)));
    await room.settle();
    expectConverged(rest);

    // All members share one thread here, so the wall time above serialises
    // their work. On real devices they process in parallel: the critical path
    // is the committer's commit plus one member processing it (timed alone).
    const committer = rest[0]!;
    const create = committer.timings.filter((t) => t.op === 'createCommit' || t.op === 'confirmCommit').reduce((a, t) => a + t.ms, 0);
    const commit = rest[1]!.received.filter((m) => m.type === 'mls_commit').at(-1);
    if (commit?.type !== 'mls_commit') throw new Error('no commit relayed');
    const alone: number[] = [];
    for (const st of saved.slice(1)) {
      const m = await MlsClient.create();
      await m.importState(st);
      const t = performance.now();
      expect((await m.processCommit(base64urlDecode(commit.commit)!))?.kind).toBe('epoch');
      alone.push(performance.now() - t);
      m.wipe();
    }
    const median = [...alone].sort((a, b) => a - b)[Math.floor(alone.length / 2)]!;
    console.log(
      `rekey after a leave, ${n} members: every remaining member holds the new epoch's key ${(last - t0).toFixed(1)} ms ` +
        `after participant_left with all ${n - 1} on one thread; on separate devices: commit ${create.toFixed(1)} ms + ` +
        `processing ${median.toFixed(1)} ms (median member alone; max ${Math.max(...alone).toFixed(1)}) = ` +
        `${(create + median).toFixed(1)} ms plus two network hops`,
    );
  });
});
