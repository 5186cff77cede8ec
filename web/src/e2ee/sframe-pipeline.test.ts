import { afterEach, describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from './bytes';
import { importBaseKey } from './sframe';
import { SFrameKeyStore } from './sframe-keys';
import { type EncodedFrame, FramePipeline, KEYFRAME_REQUEST_MIN_MS } from './sframe-pipeline';
import type { TransformOptions } from './sframe-protocol';

const stores: SFrameKeyStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.wipe();
});

function newStore(): SFrameKeyStore {
  const s = new SFrameKeyStore();
  stores.push(s);
  return s;
}

const members = new Map([[0, 'alice-00000'], [1, 'bob-0000000'], [2, 'carol-00000']]);

/** Pushes frames through a transform and collects what comes out. */
async function run(t: TransformStream<EncodedFrame, EncodedFrame>, frames: EncodedFrame[]): Promise<EncodedFrame[]> {
  const out: EncodedFrame[] = [];
  const reading = t.readable.pipeTo(new WritableStream({ write: (f) => void out.push(f) }));
  const w = t.writable.getWriter();
  for (const f of frames) await w.write(f);
  await w.close();
  await reading;
  return out;
}

const frame = (text: string, type = 'delta'): EncodedFrame => ({ data: utf8(text).buffer, type });
const text = (f: EncodedFrame): string | null => fromUtf8(new Uint8Array(f.data));

describe('frame pipeline', () => {
  it('encrypts whole frames on send and decrypts them on receive, counting both', async () => {
    const key = await importBaseKey(crypto.getRandomValues(new Uint8Array(16)));
    const a = newStore();
    const b = newStore();
    a.setEpoch({ epoch: 4, baseKey: key, ownLeaf: 0, members });
    b.setEpoch({ epoch: 4, baseKey: key, ownLeaf: 1, members });
    const pa = new FramePipeline(a);
    const pb = new FramePipeline(b);
    const send: TransformOptions = { role: 'send', kind: 'video', id: 1 };
    const sent = await run(pa.transform(send), [frame('key frame', 'key'), frame('delta one'), frame('delta two')]);
    expect(sent).toHaveLength(3);
    for (const f of sent) expect(text(f) ?? '').not.toContain('frame'); // nothing in clear
    let requests = 0;
    const got = await run(
      pb.transform({ role: 'recv', kind: 'video', id: 2, participant: 'alice-00000' }, { sendKeyFrameRequest: async () => void requests++ }),
      sent,
    );
    expect(got.map(text)).toEqual(['key frame', 'delta one', 'delta two']);
    expect(pa.stats()).toMatchObject({ encrypted: 3, unsent: 0 });
    expect(pb.stats()).toMatchObject({ decrypted: 3, failed: 0 });
    expect(requests).toBe(0); // it started at a key frame: nothing to ask for
  });

  it('drops outgoing frames before the first key and incoming frames it cannot open', async () => {
    const a = newStore();
    const pa = new FramePipeline(a);
    expect(await run(pa.transform({ role: 'send', kind: 'audio', id: 1 }), [frame('hello')])).toEqual([]);
    expect(pa.stats()).toMatchObject({ encrypted: 0, unsent: 1 });

    // a stranger's frames, and plaintext, never reach the decoder
    const stranger = newStore();
    stranger.setEpoch({ epoch: 0, baseKey: await importBaseKey(new Uint8Array(16).fill(1)), ownLeaf: 2 });
    const forged = await run(new FramePipeline(stranger).transform({ role: 'send', kind: 'audio', id: 1 }), [frame('x')]);
    const b = newStore();
    b.setEpoch({ epoch: 0, baseKey: await importBaseKey(new Uint8Array(16).fill(2)), ownLeaf: 1, members });
    const pb = new FramePipeline(b, undefined, 20); // the plaintext reads as an unknown epoch: a short wait
    const got = await run(pb.transform({ role: 'recv', kind: 'audio', id: 3 }), [...forged, frame('plain audio')]);
    expect(got).toEqual([]);
    expect(pb.stats()).toMatchObject({ decrypted: 0, failed: 2 });
    expect(pb.stats().transforms[0]).toMatchObject({ frames: 2, passed: 0, dropped: 2 });
  });

  it("drops a member's frames on a receiver that carries another participant", async () => {
    const key = await importBaseKey(crypto.getRandomValues(new Uint8Array(16)));
    const carol = newStore();
    const bob = newStore();
    carol.setEpoch({ epoch: 1, baseKey: key, ownLeaf: 2, members });
    bob.setEpoch({ epoch: 1, baseKey: key, ownLeaf: 1, members });
    const fromCarol = await run(new FramePipeline(carol).transform({ role: 'send', kind: 'video', id: 1 }), [frame('carol')]);
    const pb = new FramePipeline(bob);
    expect(await run(pb.transform({ role: 'recv', kind: 'video', id: 9, participant: 'alice-00000' }), fromCarol)).toEqual([]);
    expect(pb.stats().failed).toBe(1);
  });

  it('holds frames of an epoch whose key comes later, in order, instead of dropping them', async () => {
    const key4 = await importBaseKey(crypto.getRandomValues(new Uint8Array(16)));
    const key5 = await importBaseKey(crypto.getRandomValues(new Uint8Array(16)));
    const a = newStore();
    const b = newStore();
    a.setEpoch({ epoch: 4, baseKey: key4, ownLeaf: 0, members });
    b.setEpoch({ epoch: 4, baseKey: key4, ownLeaf: 1, members });
    const pa = new FramePipeline(a);
    const send = pa.transform({ role: 'send', kind: 'video', id: 1 });
    const sendW = send.writable.getWriter();
    const sent: EncodedFrame[] = [];
    const sending = send.readable.pipeTo(new WritableStream({ write: (f) => void sent.push(f) }));
    await sendW.write(frame('key under 4', 'key'));
    await sendW.write(frame('delta under 4'));
    // the sender processes the commit first and goes on under epoch 5
    pa.setEpoch({ epoch: 5, baseKey: key5, ownLeaf: 0, members });
    await sendW.write(frame('delta under 5'));
    await sendW.write(frame('another under 5'));
    await sendW.close();
    await sending;

    const pb = new FramePipeline(b);
    let requests = 0;
    // the receiver gets epoch 5 only while its frames already arrive
    setTimeout(() => pb.setEpoch({ epoch: 5, baseKey: key5, ownLeaf: 1, members }), 30);
    const got = await run(
      pb.transform({ role: 'recv', kind: 'video', id: 2, participant: 'alice-00000' }, { sendKeyFrameRequest: async () => void requests++ }),
      sent,
    );
    expect(got.map(text)).toEqual(['key under 4', 'delta under 4', 'delta under 5', 'another under 5']);
    expect(pb.stats()).toMatchObject({ decrypted: 4, failed: 0, waited: 1, waitedOk: 1 });
    // it started at a key frame and lost nothing at the epoch change: no key frame asked for
    expect(requests).toBe(0);
  });

  it('waits for an unknown epoch once, then drops its frames at once, and asks for a key frame when frames decrypt again', async () => {
    const key = await importBaseKey(crypto.getRandomValues(new Uint8Array(16)));
    const other = await importBaseKey(crypto.getRandomValues(new Uint8Array(16)));
    const a = newStore();
    a.setEpoch({ epoch: 7, baseKey: other, ownLeaf: 0, members }); // an epoch the receiver never gets
    const junk = await run(new FramePipeline(a).transform({ role: 'send', kind: 'video', id: 1 }), [frame('x'), frame('y'), frame('z')]);
    const good = newStore();
    good.setEpoch({ epoch: 3, baseKey: key, ownLeaf: 0, members });
    const fine = await run(new FramePipeline(good).transform({ role: 'send', kind: 'video', id: 1 }), [frame('fine'), frame('fine again')]);
    const b = newStore();
    b.setEpoch({ epoch: 3, baseKey: key, ownLeaf: 1, members });
    let skew = 0; // moves the pipeline's clock past the key frame request throttle
    const pb = new FramePipeline(b, () => Date.now() + skew, 40);
    let requests = 0;
    const t = pb.transform({ role: 'recv', kind: 'video', id: 2, participant: 'alice-00000' }, { sendKeyFrameRequest: async () => void requests++ });
    const got: EncodedFrame[] = [];
    const reading = t.readable.pipeTo(new WritableStream({ write: (f) => void got.push(f) }));
    const w = t.writable.getWriter();
    await w.write(fine[0]!);
    skew += 2 * KEYFRAME_REQUEST_MIN_MS;
    for (const f of junk) await w.write(f);
    await w.write(fine[1]!);
    await w.close();
    await reading;
    expect(got.map(text)).toEqual(['fine', 'fine again']);
    // one of the three waited (the first); the others were dropped without a wait
    expect(pb.stats()).toMatchObject({ decrypted: 2, failed: 3, waited: 1, waitedOk: 0 });
    expect(requests).toBe(2); // the first good frame, and the first after the dropped ones
  });
});
