import { describe, expect, it } from 'vitest';
import { ScreenShare } from './screen';

class FakeTrack extends EventTarget {
  stopped = false;
  contentHint = '';
  constructor(readonly kind: string) {
    super();
  }
  stop(): void {
    this.stopped = true;
  }
}

const streamOf = (...tracks: FakeTrack[]) =>
  ({ getVideoTracks: () => tracks.filter((t) => t.kind === 'video'), getTracks: () => tracks }) as unknown as MediaStream;

describe('ScreenShare', () => {
  it('shares the display track, drops any audio, and stops on request', async () => {
    const video = new FakeTrack('video');
    const audio = new FakeTrack('audio');
    const s = new ScreenShare({ getDisplayMedia: () => Promise.resolve(streamOf(video, audio)) });
    const seen: Array<unknown> = [];
    s.onChange((t) => seen.push(t));
    expect(await s.start()).toBeNull();
    expect(s.track).toBe(video);
    expect(audio.stopped).toBe(true);
    expect(video.contentHint).toBe('detail');
    s.stop();
    expect(video.stopped).toBe(true);
    expect(seen).toEqual([video, null]);
  });

  it('notices the browser ending the share (its own stop button)', async () => {
    const video = new FakeTrack('video');
    const s = new ScreenShare({ getDisplayMedia: () => Promise.resolve(streamOf(video)) });
    const seen: Array<unknown> = [];
    s.onChange((t) => seen.push(t));
    await s.start();
    video.dispatchEvent(new Event('ended'));
    expect(s.track).toBeNull();
    expect(seen).toEqual([video, null]);
  });

  it('says why it could not share', async () => {
    const refused = new ScreenShare({ getDisplayMedia: () => Promise.reject(Object.assign(new Error('no'), { name: 'NotAllowedError' })) });
    expect(await refused.start()).toBe('denied');
    const broken = new ScreenShare({ getDisplayMedia: () => Promise.reject(new Error('boom')) });
    expect(await broken.start()).toBe('failed');
    expect(await new ScreenShare(null).start()).toBe('unsupported');
    expect(new ScreenShare(null).supported).toBe(false);
  });
});
