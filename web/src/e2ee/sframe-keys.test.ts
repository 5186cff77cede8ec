import { afterEach, describe, expect, it } from 'vitest';
import { equalBytes, utf8 } from './bytes';
import { importBaseKey, parseHeader } from './sframe';
import { EPOCH_BITS, KEY_FRAME_CTR_START, KEY_GRACE_MS, OTHER_CTR_START, SFrameKeyStore, isKeyFrameCtr, kidFields, mlsKid, nextCtr } from './sframe-keys';

const stores: SFrameKeyStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.wipe();
});

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function store(now?: () => number): SFrameKeyStore {
  const s = new SFrameKeyStore(now ? { now } : {});
  stores.push(s);
  return s;
}

const randomKey = (): Promise<CryptoKey> => importBaseKey(crypto.getRandomValues(new Uint8Array(16)));
const members = new Map([[0, 'alice-id-00'], [1, 'bob-id-0000'], [2, 'carol-id-00']]);

describe('KIDs from MLS (RFC 9605 §5.2, E = 4)', () => {
  it('matches the RFC figure 9 examples', () => {
    expect(EPOCH_BITS).toBe(4);
    expect(mlsKid(14, 3)).toBe(0x3en);
    expect(mlsKid(14, 7)).toBe(0x7en);
    expect(mlsKid(14, 20)).toBe(0x14en);
    expect(mlsKid(15, 5)).toBe(0x5fn);
    expect(mlsKid(17, 33)).toBe(0x211n);
    expect(mlsKid(17, 51)).toBe(0x331n);
    expect(kidFields(0x331n)).toEqual({ epochBits: 1, leaf: 51n });
  });
});

describe('SFrameKeyStore', () => {
  it('lets members decrypt each other and names the sender', async () => {
    const base = await randomKey();
    const a = store();
    const b = store();
    a.setEpoch({ epoch: 3, baseKey: base, ownLeaf: 0, members });
    b.setEpoch({ epoch: 3, baseKey: base, ownLeaf: 1, members });
    const frame = utf8('a video frame');
    const ct = (await a.encrypt(frame))!;
    expect(parseHeader(ct)?.kid).toBe(mlsKid(3, 0));
    const opened = await b.decrypt(ct);
    expect(opened && equalBytes(opened.plaintext, frame)).toBe(true);
    expect(opened).toMatchObject({ epoch: 3, leaf: 0, participant: 'alice-id-00' });
    // never both ways: our own KID is refused on receipt
    expect(await a.decrypt(ct)).toBeNull();
  });

  it("refuses a frame it already opened (a replay by the server), also two copies at once, but not another sender's same counter", async () => {
    const base = await randomKey();
    const a = store();
    const c = store();
    const b = store();
    a.setEpoch({ epoch: 3, baseKey: base, ownLeaf: 0, members });
    c.setEpoch({ epoch: 3, baseKey: base, ownLeaf: 2, members });
    b.setEpoch({ epoch: 3, baseKey: base, ownLeaf: 1, members });
    const first = (await a.encrypt(utf8('one')))!;
    const key = (await a.encrypt(utf8('key'), undefined, true))!;
    const second = (await a.encrypt(utf8('two')))!;
    const fromCarol = (await c.encrypt(utf8('carol')))!; // the same counter as `first`, another KID
    // out of order is fine: each counter half has its own window
    expect(await b.decrypt(second.slice())).not.toBeNull();
    expect(await b.decrypt(key.slice())).not.toBeNull();
    const [x, y] = await Promise.all([b.decrypt(first.slice()), b.decrypt(first.slice())]);
    expect([x, y].filter((o) => o !== null)).toHaveLength(1);
    expect(await b.decrypt(second.slice())).toBeNull();
    expect(await b.decrypt(key.slice())).toBeNull();
    expect(await b.decrypt(fromCarol)).not.toBeNull();
  });

  it('uses one counter per KID for all frames, also concurrent ones', async () => {
    const a = store();
    a.setEpoch({ epoch: 1, baseKey: await randomKey(), ownLeaf: 2 });
    const cts = await Promise.all(Array.from({ length: 20 }, () => a.encrypt(utf8('x'))));
    const ctrs = cts.map((c) => parseHeader(c!)!.ctr);
    expect(new Set(ctrs).size).toBe(20);
    expect(ctrs.sort((x, y) => Number(x - y))).toEqual(Array.from({ length: 20 }, (_, i) => OTHER_CTR_START + BigInt(i)));
    // the same epoch again (e.g. a roster refresh) keeps counting
    a.setEpoch({ epoch: 1, baseKey: await randomKey(), ownLeaf: 2 });
    expect(parseHeader((await a.encrypt(utf8('x')))!)!.ctr).toBe(OTHER_CTR_START + 20n);
  });

  it('gives video key frames counters of odd length and all else even, so the header tells VP8 receivers the frame type', async () => {
    const a = store();
    const b = store();
    const key = await randomKey();
    a.setEpoch({ epoch: 3, baseKey: key, ownLeaf: 0 });
    b.setEpoch({ epoch: 3, baseKey: key, ownLeaf: 1 });
    const delta = (await a.encrypt(utf8('delta')))!;
    const keyFrame = (await a.encrypt(utf8('key'), undefined, true))!;
    const delta2 = (await a.encrypt(utf8('delta 2')))!;
    // the lowest bit of the first byte is VP8's P bit: 0 for a key frame
    expect(keyFrame[0]! & 1).toBe(0);
    expect(delta[0]! & 1).toBe(1);
    expect(delta2[0]! & 1).toBe(1);
    expect(parseHeader(keyFrame)!.ctr).toBe(KEY_FRAME_CTR_START);
    expect(parseHeader(delta2)!.ctr).toBe(OTHER_CTR_START + 1n);
    for (const ct of [delta, keyFrame, delta2]) expect(await b.decrypt(ct)).not.toBeNull();
  });

  it('moves a counter on to the next encoded length of its parity when one is used up', () => {
    expect(nextCtr(KEY_FRAME_CTR_START, true)).toBe(KEY_FRAME_CTR_START + 1n);
    expect(nextCtr((1n << 24n) - 1n, true)).toBe(1n << 32n); // 3 bytes → 5
    expect(nextCtr((1n << 32n) - 1n, false)).toBe(1n << 40n); // 4 bytes → 6
    expect(nextCtr((1n << 40n) - 1n, true)).toBe(1n << 48n); // 5 bytes → 7
    expect(nextCtr((1n << 56n) - 1n, true)).toBeNull(); // used up
    expect(nextCtr((1n << 64n) - 1n, false)).toBeNull();
    expect([KEY_FRAME_CTR_START, 1n << 32n, 1n << 48n].every(isKeyFrameCtr)).toBe(true);
    expect([0n, 7n, 200n, OTHER_CTR_START, 1n << 40n].some(isKeyFrameCtr)).toBe(false);
  });

  it('drops frames before the first key instead of sending them in clear', async () => {
    expect(await store().encrypt(utf8('x'))).toBeNull();
  });

  it('switches to a new epoch at once and keeps the old one only for the grace period', async () => {
    const c = clock();
    const [k1, k2] = [await randomKey(), await randomKey()];
    const a = store(c.now);
    const b = store(c.now);
    a.setEpoch({ epoch: 1, baseKey: k1, ownLeaf: 0 });
    b.setEpoch({ epoch: 1, baseKey: k1, ownLeaf: 1 });
    const old = (await a.encrypt(utf8('old')))!;
    a.setEpoch({ epoch: 2, baseKey: k2, ownLeaf: 0 });
    b.setEpoch({ epoch: 2, baseKey: k2, ownLeaf: 1 });
    const fresh = (await a.encrypt(utf8('new')))!;
    expect(kidFields(parseHeader(fresh)!.kid).epochBits).toBe(2);
    expect(parseHeader(fresh)!.ctr).toBe(OTHER_CTR_START);
    expect((await b.decrypt(old))?.epoch).toBe(1);
    expect(b.liveEpochs).toEqual([2, 1]);
    c.advance(KEY_GRACE_MS + 1);
    expect(await b.decrypt(old)).toBeNull();
    expect(b.liveEpochs).toEqual([2]);
    expect((await b.decrypt(fresh))?.epoch).toBe(2);
  });

  it('replaces an epoch with the same low bits (epoch + 16) at once', async () => {
    const [k1, k2] = [await randomKey(), await randomKey()];
    const a = store();
    const b = store();
    a.setEpoch({ epoch: 5, baseKey: k1, ownLeaf: 0 });
    b.setEpoch({ epoch: 5, baseKey: k1, ownLeaf: 1 });
    const old = (await a.encrypt(utf8('old')))!;
    b.setEpoch({ epoch: 21, baseKey: k2, ownLeaf: 1 });
    expect(b.liveEpochs).toEqual([21]);
    expect(await b.decrypt(old)).toBeNull();
  });

  it('refuses senders that are not members of the epoch', async () => {
    const base = await randomKey();
    const outsider = store();
    const b = store();
    outsider.setEpoch({ epoch: 0, baseKey: base, ownLeaf: 7 });
    b.setEpoch({ epoch: 0, baseKey: base, ownLeaf: 1, members });
    expect(await b.decrypt((await outsider.encrypt(utf8('x')))!)).toBeNull();
  });

  it('holds nothing after wipe', async () => {
    const base = await randomKey();
    const a = store();
    const b = store();
    a.setEpoch({ epoch: 0, baseKey: base, ownLeaf: 0 });
    b.setEpoch({ epoch: 0, baseKey: base, ownLeaf: 1 });
    const ct = (await a.encrypt(utf8('x')))!;
    b.wipe();
    a.wipe();
    expect(await b.decrypt(ct)).toBeNull();
    expect(await a.encrypt(utf8('x'))).toBeNull();
    expect(b.currentEpoch).toBeNull();
  });

  it('starts over when a lower epoch arrives (a new group)', async () => {
    const a = store();
    a.setEpoch({ epoch: 9, baseKey: await randomKey(), ownLeaf: 3 });
    a.setEpoch({ epoch: 0, baseKey: await randomKey(), ownLeaf: 0 });
    expect(a.liveEpochs).toEqual([0]);
  });
});
