import { describe, expect, it } from 'vitest';
import { en } from '../i18n/en';
import { ENDINGS, afterDrop, muteRequestKey, serverErrorKey, type SessionState } from './session';

describe('after the signaling connection drops', () => {
  it('reconnects in the meeting, and while reconnecting, if there is a way back in', () => {
    expect(afterDrop('meeting', true)).toBe('reconnect');
    expect(afterDrop('reconnecting', true)).toBe('reconnect');
  });

  it('says the connection was lost where there is no way back in', () => {
    expect(afterDrop('meeting', false)).toBe('fail');
    expect(afterDrop('lobby', true)).toBe('fail');
    expect(afterDrop('connecting', true)).toBe('fail');
  });

  it('does nothing once the visit is over or before it began', () => {
    const quiet: SessionState[] = ['over', 'prejoin'];
    for (const s of quiet) expect(afterDrop(s, true)).toBe('ignore');
  });
});

describe('server messages that end a visit', () => {
  it('each has a title, and all but "left" an explanation, in the catalog', () => {
    for (const [how, e] of Object.entries(ENDINGS)) {
      expect(en[e.title], how).toBeTruthy();
      if (how !== 'left') expect(e.text && en[e.text], how).toBeTruthy();
    }
    expect(en[ENDINGS.removed.text ?? 'left.title']).toBe('A host removed you from the meeting.');
    expect(en[ENDINGS.ended.title]).toBe('The meeting has ended');
  });

  it('says which kind a host asked to mute', () => {
    expect(muteRequestKey({ kind: 'audio' })).toBe('meeting.muteRequest.audio');
    expect(muteRequestKey({ kind: 'video' })).toBe('meeting.muteRequest.video');
  });

  it('explains rate limits apart from other refusals', () => {
    expect(serverErrorKey('rate_limited')).toBe('error.rateLimited');
    expect(serverErrorKey('forbidden')).toBe('error.server');
  });

  it('explains the capacity limits', () => {
    expect(serverErrorKey('busy')).toBe('error.busy');
    expect(serverErrorKey('full')).toBe('error.full');
    expect(serverErrorKey('too_many_tracks')).toBe('error.tooManyTracks');
    expect(serverErrorKey('toString')).toBe('error.server');
  });
});
