import { describe, expect, it } from 'vitest';
import { base64urlEncode } from '../util/base64url';
import { cleanName, guestLink, hostLink, parseJoinOptions, parseMeetingLink, routeOf, MAX_NAME_BYTES } from './meetingLink';

const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const ROOM = base64urlEncode(bytes(16, 1)); // 22 chars
const INVITE = base64urlEncode(bytes(32, 2)); // 43 chars
const HOST = base64urlEncode(bytes(32, 3)); // 43 chars

describe('routes', () => {
  it('maps paths to pages', () => {
    expect(routeOf('/')).toEqual({ kind: 'landing' });
    expect(routeOf('/index.html')).toEqual({ kind: 'landing' });
    expect(routeOf(`/m/${ROOM}`)).toEqual({ kind: 'meeting', roomText: ROOM });
    expect(routeOf(`/m/${ROOM}/`)).toEqual({ kind: 'meeting', roomText: ROOM });
    expect(routeOf('/m/')).toEqual({ kind: 'meeting', roomText: '' });
    expect(routeOf('/x')).toEqual({ kind: 'not-found' });
    expect(routeOf(`/m/${ROOM}/extra`)).toEqual({ kind: 'not-found' });
  });
});

describe('meeting links', () => {
  it('parses a guest link', () => {
    expect(parseMeetingLink(ROOM, `#${INVITE}`)).toEqual({ ok: true, link: { room: ROOM, invite: INVITE } });
  });

  it('parses a host link', () => {
    expect(parseMeetingLink(ROOM, `#${INVITE}.${HOST}`)).toEqual({ ok: true, link: { room: ROOM, invite: INVITE, hostKey: HOST } });
  });

  it('accepts a fragment without the leading #', () => {
    expect(parseMeetingLink(ROOM, INVITE).ok).toBe(true);
  });

  it('round-trips the links it builds', () => {
    const origin = 'https://meet.example';
    for (const link of [guestLink(origin, ROOM, INVITE), hostLink(origin, ROOM, INVITE, HOST)]) {
      const u = new URL(link);
      const r = routeOf(u.pathname);
      expect(r.kind).toBe('meeting');
      if (r.kind !== 'meeting') return;
      expect(parseMeetingLink(r.roomText, u.hash).ok).toBe(true);
    }
    expect(guestLink(origin, ROOM, INVITE)).toBe(`${origin}/m/${ROOM}#${INVITE}`);
    expect(hostLink(origin, ROOM, INVITE, HOST)).toBe(`${origin}/m/${ROOM}#${INVITE}.${HOST}`);
  });

  it('takes a link without fragment as a knock without invite', () => {
    expect(parseMeetingLink(ROOM, '')).toEqual({ ok: true, link: { room: ROOM, invite: null } });
    expect(parseMeetingLink(ROOM, '#')).toEqual({ ok: true, link: { room: ROOM, invite: null } });
    expect(parseMeetingLink(`${ROOM.slice(1)}`, '')).toEqual({ ok: false, error: 'bad-room' });
  });

  it.each([
    ['short room', ROOM.slice(1), `#${INVITE}`, 'bad-room'],
    ['long room', `${ROOM}A`, `#${INVITE}`, 'bad-room'],
    ['room with bad character', `${ROOM.slice(0, 21)}+`, `#${INVITE}`, 'bad-room'],
    ['room with non-canonical end', `${ROOM.slice(0, 21)}B`, `#${INVITE}`, 'bad-room'],
    ['empty room', '', `#${INVITE}`, 'bad-room'],
    ['short invite', ROOM, `#${INVITE.slice(1)}`, 'bad-invite'],
    ['invite with padding', ROOM, `#${INVITE}=`, 'bad-invite'],
    ['invite in standard base64', ROOM, `#${INVITE.slice(0, 42)}/`, 'bad-invite'],
    ['percent-encoded invite', ROOM, `#%41${INVITE.slice(3)}`, 'bad-invite'],
    ['empty invite before host key', ROOM, `#.${HOST}`, 'bad-invite'],
    ['empty host key', ROOM, `#${INVITE}.`, 'bad-host-key'],
    ['short host key', ROOM, `#${INVITE}.${HOST.slice(2)}`, 'bad-host-key'],
    ['three parts', ROOM, `#${INVITE}.${HOST}.${HOST}`, 'bad-host-key'],
  ])('rejects %s', (_name, room, hash, error) => {
    expect(parseMeetingLink(room, hash)).toEqual({ ok: false, error });
  });
});

describe('join options (DESIGN.md §9)', () => {
  it('defaults to the pre-join page with camera and microphone on', () => {
    expect(parseJoinOptions('')).toEqual({ autoJoin: false, name: null, camera: true, mic: true });
  });

  it('reads name, join, cam and mic', () => {
    expect(parseJoinOptions('?name=Ada%20L.&join=1')).toEqual({ autoJoin: true, name: 'Ada L.', camera: true, mic: true });
    expect(parseJoinOptions('?name=Kiosk&join=1&cam=0&mic=0')).toEqual({ autoJoin: true, name: 'Kiosk', camera: false, mic: false });
    expect(parseJoinOptions('?join=0&cam=1')).toEqual({ autoJoin: false, name: null, camera: true, mic: true });
    expect(parseJoinOptions('?name=+++&join=1').name).toBeNull();
  });

  it('cleans display names', () => {
    expect(cleanName('  Ada   Lovelace ')).toBe('Ada Lovelace');
    expect(cleanName('   ')).toBeNull();
    const bytes = (s: string | null): number => new TextEncoder().encode(s ?? '').length;
    expect(cleanName('x'.repeat(200))?.length).toBe(MAX_NAME_BYTES);
    // Cut to the server's byte limit, never inside a character.
    expect(cleanName('ä'.repeat(100))).toBe('ä'.repeat(32));
    expect(cleanName('😀'.repeat(100))).toBe('😀'.repeat(16));
    expect(bytes(cleanName('a' + 'ü'.repeat(40)))).toBe(63);
    expect(cleanName('Jürgen')).toBe('Jürgen');
  });
});
