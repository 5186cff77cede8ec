import { generateKeyPackageWithKey } from 'ts-mls/keyPackage.js';
import { defaultCapabilities, getCiphersuiteFromName, getCiphersuiteImpl } from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { fromUtf8, toHex, utf8 } from './bytes';
import { EXT_DISPLAY_NAME, EXT_LOBBY_MAP, EXT_SUCCESSOR, type EpochState, MLS_SUITE, MlsClient } from './mls';
import { lobbyIdentity } from './mls-protocol';
import { SFrameKeyStore } from './sframe-keys';

const ROOM = 'RoomRoomRoomRoomRoom01';
const ID = { alice: 'alice-00000', bob: 'bob-0000000', carol: 'carol-00000' };

/** A fingerprint of a non-extractable base key: equal keys, equal fingerprints. */
async function fingerprint(k: CryptoKey): Promise<string> {
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8('test') }, k, 128);
  return toHex(new Uint8Array(bits));
}

function expectSameEpoch(states: EpochState[]): void {
  const [first, ...rest] = states;
  for (const s of rest) {
    expect(s.epoch).toBe(first!.epoch);
    expect(s.securityCode).toBe(first!.securityCode);
  }
}

async function trio(): Promise<{ a: MlsClient; b: MlsClient; c: MlsClient; states: EpochState[] }> {
  const a = await MlsClient.create();
  const b = await MlsClient.create();
  const c = await MlsClient.create();
  await a.keyPackage(ID.alice, 'Alice');
  await a.createGroup(ROOM);
  const kpB = await b.keyPackage(ID.bob, 'Bob');
  const kpC = await c.keyPackage(lobbyIdentity(), 'Carol'); // a guest in the lobby
  const r = await a.createCommit({ add: [{ keyPackage: kpB, participant: ID.bob }, { keyPackage: kpC, participant: ID.carol }] });
  expect(r.epoch).toBe(0);
  expect(r.welcome).not.toBeNull();
  const sa = await a.confirmCommit();
  if (sa.kind !== 'epoch') throw new Error('alice left');
  const sb = (await b.joinFromWelcome(r.welcome!, ROOM))!;
  const sc = (await c.joinFromWelcome(r.welcome!, ROOM))!;
  return { a, b, c, states: [sa.state, sb, sc] };
}

describe('MLS client', () => {
  it('creates conclave/<room> and adds members that agree on epoch, code, key and roster', async () => {
    const { states } = await trio();
    expectSameEpoch(states);
    expect(states[0]!.epoch).toBe(1);
    expect(states[0]!.securityCode).toMatch(/^\d{5}( \d{5}){5}$/);
    const fps = await Promise.all(states.map((s) => fingerprint(s.baseKey)));
    expect(new Set(fps).size).toBe(1);
    expect(states[0]!.baseKey.extractable).toBe(false);
    // the roster: participant ids (Carol's through the lobby map), names, leaves
    const roster = states[2]!.members.map((m) => [m.leaf, m.participant, m.name, m.self]);
    expect(roster).toEqual([
      [0, ID.alice, 'Alice', false],
      [1, ID.bob, 'Bob', false],
      [2, ID.carol, 'Carol', true],
    ]);
    expect(states.map((s) => s.ownLeaf)).toEqual([0, 1, 2]);
  });

  it('gives every member the same SFrame keys', async () => {
    const { states } = await trio();
    const [sa, sb] = states;
    const ka = new SFrameKeyStore();
    const kb = new SFrameKeyStore();
    ka.setEpoch({ epoch: sa!.epoch, baseKey: sa!.baseKey, ownLeaf: sa!.ownLeaf });
    kb.setEpoch({ epoch: sb!.epoch, baseKey: sb!.baseKey, ownLeaf: sb!.ownLeaf });
    const opened = await kb.decrypt((await ka.encrypt(utf8('frame')))!);
    expect(opened?.leaf).toBe(0);
    ka.wipe();
    kb.wipe();
  });

  it('carries application messages with the authenticated sender', async () => {
    const { a, b, c } = await trio();
    const msg = await b.encrypt(utf8('hello'));
    const atA = await a.decrypt(msg);
    expect(atA && fromUtf8(atA.data)).toBe('hello');
    expect(atA?.sender).toMatchObject({ participant: ID.bob, name: 'Bob', leaf: 1 });
    expect((await c.decrypt(msg))?.sender.participant).toBe(ID.bob);
    // a second copy (replay) does not open again, and a flipped byte never does
    expect(await a.decrypt(msg)).toBeNull();
    const other = await b.encrypt(utf8('x'));
    other[other.length - 1]! ^= 1;
    expect(await a.decrypt(other)).toBeNull();
  });

  it('removes a member, who then can decrypt nothing of the new epoch', async () => {
    const { a, b, c } = await trio();
    const carolOld = c.exportState()!;
    const r = await a.createCommit({ removeLeaves: [2] });
    expect(r.welcome).toBeNull();
    const sa = await a.confirmCommit();
    const sb = await b.processCommit(r.commit);
    const sc = await c.processCommit(r.commit);
    expect(sc).toEqual({ kind: 'removed' });
    expect(await c.current()).toBeNull(); // wiped
    if (sa.kind !== 'epoch' || sb?.kind !== 'epoch') throw new Error('expected a new epoch');
    expectSameEpoch([sa.state, sb.state]);
    expect(sa.state.members.map((m) => m.participant)).toEqual([ID.alice, ID.bob]);

    // Carol's state from before the removal, kept by an attacker
    const kept = await MlsClient.create();
    const keptState = await kept.importState(carolOld);
    expect(keptState.epoch).toBe(1);
    expect(await kept.processCommit(r.commit)).toEqual({ kind: 'removed' });
    const kept2 = await MlsClient.create();
    await kept2.importState(carolOld);
    expect(await kept2.decrypt(await a.encrypt(utf8('after removal')))).toBeNull();
    expect(await fingerprint(keptState.baseKey)).not.toBe(await fingerprint(sa.state.baseKey));
  });

  it('keeps the old state valid when its own commit loses', async () => {
    const { a, b, c } = await trio();
    const ra = await a.createCommit({}); // self-updates racing for epoch 1
    const rb = await b.createCommit({});
    expect([ra.epoch, rb.epoch]).toEqual([1, 1]);
    // the server took Alice's: Bob learns it by the relayed commit
    const sa = await a.confirmCommit();
    const sb = await b.processCommit(ra.commit);
    const sc = await c.processCommit(ra.commit);
    expect(b.hasPendingCommit).toBe(false);
    if (sa.kind !== 'epoch' || sb?.kind !== 'epoch' || sc?.kind !== 'epoch') throw new Error('expected epochs');
    expectSameEpoch([sa.state, sb.state, sc.state]);
    // Bob's commit for the old epoch is now stale everywhere
    expect(await c.processCommit(rb.commit)).toBeNull();
    // and Bob can commit again on top
    const rb2 = await b.createCommit({});
    const sb2 = await b.confirmCommit();
    const sa2 = await a.processCommit(rb2.commit);
    if (sb2.kind !== 'epoch' || sa2?.kind !== 'epoch') throw new Error('expected epochs');
    expect(sb2.state.epoch).toBe(3);
    expectSameEpoch([sb2.state, sa2.state]);
  });

  it('inspects KeyPackages and refuses one whose identity is not its sender', async () => {
    const a = await MlsClient.create();
    await a.keyPackage(ID.alice, 'Alice');
    await a.createGroup(ROOM);
    const m = await MlsClient.create();
    const kp = await m.keyPackage(ID.bob, 'Mallory');
    expect(await a.inspectKeyPackage(kp, ROOM)).toMatchObject({ identity: ID.bob, name: 'Mallory' });
    expect(await a.inspectKeyPackage(kp.subarray(0, 100), ROOM)).toBeNull();
    const tampered = new Uint8Array(kp);
    tampered[tampered.length - 5]! ^= 1;
    expect(await a.inspectKeyPackage(tampered, ROOM)).toBeNull();
    await expect(a.createCommit({ add: [{ keyPackage: kp, participant: ID.carol }] })).rejects.toThrow(/identity/);
  });

  it('keeps lobby adds (with their id map) out of commits that remove, then maps the next guest', async () => {
    const { a, b, c } = await trio();
    const dave = await MlsClient.create();
    const kpD = await dave.keyPackage(lobbyIdentity(), 'Dave');
    const addDave = { keyPackage: kpD, participant: 'dave-000000' };
    await expect(a.createCommit({ add: [addDave], removeLeaves: [2] })).rejects.toThrow(/lobby/);
    const r1 = await a.createCommit({ removeLeaves: [2] }); // Carol (a lobby guest) leaves
    await a.confirmCommit();
    await b.processCommit(r1.commit);
    expect(await c.processCommit(r1.commit)).toEqual({ kind: 'removed' });
    const r2 = await a.createCommit({ add: [addDave] });
    const sa = await a.confirmCommit();
    const sb = await b.processCommit(r2.commit);
    const sd = await dave.joinFromWelcome(r2.welcome!, ROOM);
    if (sa.kind !== 'epoch' || sb?.kind !== 'epoch' || !sd) throw new Error('expected epochs');
    expectSameEpoch([sa.state, sb.state, sd]);
    expect(sd.members.map((m) => [m.leaf, m.participant, m.name])).toEqual([
      [0, ID.alice, 'Alice'],
      [1, ID.bob, 'Bob'],
      [2, 'dave-000000', 'Dave'], // Carol's leaf is reused
    ]);
  });

  it('round-trips its state through encodeGroupState', async () => {
    const { a, states } = await trio();
    const copy = await MlsClient.create();
    const s = await copy.importState(a.exportState()!);
    expect(s.securityCode).toBe(states[0]!.securityCode);
    expect(await fingerprint(s.baseKey)).toBe(await fingerprint(states[0]!.baseKey));
  });

  it('proves a rejoin with the old leaf\'s key, and nothing else passes for one', async () => {
    const { a, b, states } = await trio();
    const bobLeaf = states[0]!.members.find((m) => m.participant === ID.bob)!.signatureKey;
    // Bob drops his group state (a reconnect): his next KeyPackage names his leaf
    b.leave();
    const kp = await b.keyPackage(ID.bob, 'Bob');
    const info = (await a.inspectKeyPackage(kp, ROOM))!;
    expect(info.predecessor).toBe(bobLeaf);
    expect(info.signatureKey).not.toBe(bobLeaf);
    // the proof is for this meeting's group only
    expect((await a.inspectKeyPackage(kp, 'AnotherRoomAnotherRoom'))!.predecessor).toBeUndefined();
    // a fresh client (what a server could make) names no leaf
    const fresh = await MlsClient.create();
    expect((await a.inspectKeyPackage(await fresh.keyPackage(ID.bob, 'Bob'), ROOM))!.predecessor).toBeUndefined();
    // a KeyPackage that claims Bob's leaf with a signature it cannot make
    const cs = await getCiphersuiteImpl(getCiphersuiteFromName(MLS_SUITE));
    const keys = await cs.signature.keygen();
    const claim = new Uint8Array(96);
    claim.set(Uint8Array.from(bobLeaf.match(/../g)!.map((h) => parseInt(h, 16))));
    claim.set(crypto.getRandomValues(new Uint8Array(64)), 32);
    const caps = defaultCapabilities();
    caps.ciphersuites = [MLS_SUITE];
    caps.extensions = [...caps.extensions, EXT_DISPLAY_NAME, EXT_LOBBY_MAP, EXT_SUCCESSOR];
    const now = BigInt(Math.floor(Date.now() / 1000));
    const forged = await generateKeyPackageWithKey(
      { credentialType: 'basic', identity: utf8(ID.bob) }, caps, { notBefore: now - 60n, notAfter: now + 3600n }, [], keys, cs,
      [{ extensionType: EXT_DISPLAY_NAME, extensionData: utf8('Bob') }, { extensionType: EXT_SUCCESSOR, extensionData: claim }],
    );
    const { encodeMlsMessage } = await import('ts-mls');
    const forgedBytes = encodeMlsMessage({ keyPackage: forged.publicPackage, wireformat: 'mls_key_package', version: 'mls10' });
    const forgedInfo = (await a.inspectKeyPackage(forgedBytes, ROOM))!;
    expect(forgedInfo.identity).toBe(ID.bob); // a valid KeyPackage…
    expect(forgedInfo.predecessor).toBeUndefined(); // …that succeeds nobody
    // at the end of the visit the key goes: no more proofs
    b.wipe();
    expect((await a.inspectKeyPackage(await b.keyPackage(ID.bob, 'Bob'), ROOM))!.predecessor).toBeUndefined();
  });

  it('keeps the proof when a commit removed us, and the chain goes on from the newest leaf', async () => {
    const { a, b, c, states } = await trio();
    const bobLeaf = states[0]!.members.find((m) => m.participant === ID.bob)!;
    const r = await a.createCommit({ removeLeaves: [bobLeaf.leaf] });
    await a.confirmCommit();
    await c.processCommit(r.commit);
    expect(await b.processCommit(r.commit)).toEqual({ kind: 'removed' });
    const kp = await b.keyPackage(ID.bob, 'Bob');
    const info = (await a.inspectKeyPackage(kp, ROOM))!;
    expect(info.predecessor).toBe(bobLeaf.signatureKey);
    // added back, then out again: the proof names the new leaf
    const r2 = await a.createCommit({ add: [{ keyPackage: kp, participant: ID.bob }] });
    await a.confirmCommit();
    await c.processCommit(r2.commit);
    expect(await b.joinFromWelcome(r2.welcome!, ROOM)).not.toBeNull();
    b.leave();
    expect((await a.inspectKeyPackage(await b.keyPackage(ID.bob, 'Bob'), ROOM))!.predecessor).toBe(info.signatureKey);
  });

  it('refuses a Welcome into another group than the meeting\'s, and still takes the right one', async () => {
    const a = await MlsClient.create();
    const b = await MlsClient.create();
    await a.keyPackage(ID.alice, 'Alice');
    await a.createGroup(ROOM);
    const kp = await b.keyPackage(ID.bob, 'Bob');
    const r = await a.createCommit({ add: [{ keyPackage: kp, participant: ID.bob }] });
    await a.confirmCommit();
    expect(await b.joinFromWelcome(r.welcome!, 'AnotherRoomAnotherRoom')).toBeNull();
    expect(await b.current()).toBeNull();
    const sb = await b.joinFromWelcome(r.welcome!, ROOM);
    expect(sb?.members.map((m) => m.participant)).toEqual([ID.alice, ID.bob]);
  });

  it('opens a message of an earlier epoch only while its sender is still a member', async () => {
    const { a, b, c, states } = await trio();
    const carol = states[0]!.members.find((m) => m.participant === ID.carol)!;
    const fromCarol = await c.encrypt(utf8('sent before she was removed'));
    const fromBob = await b.encrypt(utf8('sent before the commit'));
    const r = await a.createCommit({ removeLeaves: [carol.leaf] });
    await a.confirmCommit();
    await b.processCommit(r.commit);
    expect(await a.decrypt(fromCarol)).toBeNull();
    const m = await a.decrypt(fromBob);
    expect(m?.sender.participant).toBe(ID.bob);
    expect(fromUtf8(m!.data)).toBe('sent before the commit');
  });
});
