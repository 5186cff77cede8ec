import { describe, expect, it } from 'vitest';
import { problemOf } from '../media/local';
import { mediaProblemKeys } from './prejoin';

describe('camera and microphone problems', () => {
  it('classifies getUserMedia errors by name', () => {
    const err = (name: string) => Object.assign(new Error('x'), { name });
    expect(problemOf(err('NotAllowedError'))).toBe('denied');
    expect(problemOf(err('SecurityError'))).toBe('denied');
    expect(problemOf(err('NotFoundError'))).toBe('no-device');
    expect(problemOf(err('OverconstrainedError'))).toBe('no-device');
    expect(problemOf(err('NotReadableError'))).toBe('failed');
    expect(problemOf({ name: 'NotAllowedError' })).toBe('denied');
    expect(problemOf('weird')).toBe('failed');
  });

  it('explains each case, and refusal of both in one sentence', () => {
    expect(mediaProblemKeys({})).toEqual([]);
    expect(mediaProblemKeys({ video: 'denied', audio: 'denied' })).toEqual(['media.denied']);
    expect(mediaProblemKeys({ video: 'no-device' })).toEqual(['media.noCamera']);
    expect(mediaProblemKeys({ video: 'no-device', audio: 'failed' })).toEqual(['media.noCamera', 'media.micFailed']);
    expect(mediaProblemKeys({ audio: 'denied' })).toEqual(['media.micDenied']);
    expect(mediaProblemKeys({ video: 'unsupported', audio: 'unsupported' })).toEqual(['media.unsupported']);
  });
});
