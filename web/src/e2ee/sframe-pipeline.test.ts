import { afterEach, describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from './bytes';
import { importBaseKey } from './sframe';
import { SFrameKeyStore } from './sframe-keys';
import { type EncodedFrame, FramePipeline } from './sframe-pipeline';
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
    expect(requests).toBe(1); // the first frame of a new epoch from this sender
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
    const pb = new FramePipeline(b);
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
});
