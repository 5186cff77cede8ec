import { describe, expect, it } from 'vitest';
import { CAMERA_ENCODINGS, cameraEncodings, withActiveLayers } from './simulcast';

const params = (active: Array<boolean | undefined>): RTCRtpSendParameters =>
  ({
    transactionId: 'x',
    codecs: [],
    headerExtensions: [],
    rtcp: {},
    encodings: active.map((a, i) => ({ rid: ['q', 'h', 'f'][i], ...(a === undefined ? {} : { active: a }) })),
  }) as RTCRtpSendParameters;

describe('simulcast', () => {
  it('publishes the camera as q, h, f: lowest first, with the contract bitrates', () => {
    expect(CAMERA_ENCODINGS.map((e) => [e.rid, e.scaleResolutionDownBy, e.maxBitrate])).toEqual([
      ['q', 4, 150_000],
      ['h', 2, 500_000],
      ['f', 1, 1_500_000],
    ]);
    const copy = cameraEncodings();
    copy[0]!.active = false;
    expect(CAMERA_ENCODINGS[0]!.active).toBeUndefined();
  });

  it('switches encodings on and off as `layers` says, keeping the rest of the parameters', () => {
    const next = withActiveLayers(params([undefined, true, true]), [true, false, false]);
    expect(next?.encodings.map((e) => e.active)).toEqual([true, false, false]);
    expect(next?.encodings.map((e) => e.rid)).toEqual(['q', 'h', 'f']);
    expect(next?.transactionId).toBe('x');
    // all off: the camera pauses
    expect(withActiveLayers(params([true, true, true]), [false, false, false])?.encodings.every((e) => e.active === false)).toBe(true);
  });

  it('changes nothing when nothing changes, or when the shape does not match', () => {
    expect(withActiveLayers(params([true, true, undefined]), [true, true, true])).toBeNull();
    expect(withActiveLayers(params([true, true, true]), [true, false])).toBeNull();
    expect(withActiveLayers(params([true]), [false])).toBeNull();
  });
});
