/*
 * Meeting links (DESIGN.md §4, §9).
 *
 *   guest: https://HOST/m/ROOM#INVITE
 *   host:  https://HOST/m/ROOM#INVITE.HOSTKEY
 *   automation: https://HOST/m/ROOM?name=NAME&join=1[&cam=0][&mic=0]#INVITE
 *
 * ROOM is 16 random bytes, INVITE and HOSTKEY 32 random bytes, all canonical
 * unpadded base64url. The fragment never reaches the server; of what it holds
 * only HOSTKEY is ever sent (in the join message), the INVITE stays here.
 *
 * A link without a fragment (just /m/ROOM, e.g. a meeting id read off a
 * screenshot) is still a way to knock: such a guest cannot prove the invite,
 * so it waits in the lobby until a host admits it by name (DESIGN.md §4).
 */
import { INVITE_BYTES } from '../e2ee/invite';
import { isBase64urlOfLength } from '../util/base64url';

export const ROOM_BYTES = 16;
export const HOST_KEY_BYTES = 32;
/** Longest display name, in UTF-8 bytes (the server's NAME_MAX_BYTES). */
export const MAX_NAME_BYTES = 64;

export type Route =
  | { readonly kind: 'landing' }
  | { readonly kind: 'meeting'; readonly roomText: string }
  | { readonly kind: 'not-found' };

/** Maps a location pathname to a page of the app. */
export function routeOf(pathname: string): Route {
  if (pathname === '/' || pathname === '/index.html') return { kind: 'landing' };
  const m = /^\/m\/([^/]*)\/?$/.exec(pathname);
  if (m) return { kind: 'meeting', roomText: m[1] ?? '' };
  return { kind: 'not-found' };
}

export interface MeetingLink {
  readonly room: string;
  /** The invite secret; null when the link had no fragment. */
  readonly invite: string | null;
  /** Present only on host links. */
  readonly hostKey?: string;
}

export type LinkError = 'bad-room' | 'bad-invite' | 'bad-host-key';

export type LinkParse =
  | { readonly ok: true; readonly link: MeetingLink }
  | { readonly ok: false; readonly error: LinkError };

export function isRoomId(text: string): boolean {
  return isBase64urlOfLength(text, ROOM_BYTES);
}

/**
 * Parses the room from the path's last segment and the secrets from the
 * fragment ("#INVITE" or "#INVITE.HOSTKEY"; the leading '#' is optional).
 * No fragment at all gives a link without invite (a knock only).
 */
export function parseMeetingLink(roomText: string, hash: string): LinkParse {
  if (!isRoomId(roomText)) return { ok: false, error: 'bad-room' };
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  if (fragment === '') return { ok: true, link: { room: roomText, invite: null } };
  const parts = fragment.split('.');
  const invite = parts[0] ?? '';
  if (!isBase64urlOfLength(invite, INVITE_BYTES)) return { ok: false, error: 'bad-invite' };
  if (parts.length === 1) return { ok: true, link: { room: roomText, invite } };
  const hostKey = parts[1] ?? '';
  if (parts.length !== 2 || !isBase64urlOfLength(hostKey, HOST_KEY_BYTES)) {
    return { ok: false, error: 'bad-host-key' };
  }
  return { ok: true, link: { room: roomText, invite, hostKey } };
}

export function guestLink(origin: string, room: string, invite: string): string {
  return `${origin}/m/${room}#${invite}`;
}

export function hostLink(origin: string, room: string, invite: string, hostKey: string): string {
  return `${origin}/m/${room}#${invite}.${hostKey}`;
}

/** The query options of DESIGN.md §9. */
export interface JoinOptions {
  /** join=1: skip the pre-join page. */
  readonly autoJoin: boolean;
  /** name=NAME, trimmed; null if absent or empty. */
  readonly name: string | null;
  /** Camera on unless cam=0. */
  readonly camera: boolean;
  /** Microphone on unless mic=0. */
  readonly mic: boolean;
}

/**
 * Collapses whitespace, trims, and cuts a display name to MAX_NAME_BYTES of
 * UTF-8 without splitting a character; null if nothing is left.
 */
export function cleanName(raw: string): string | null {
  const enc = new TextEncoder();
  let name = '';
  let bytes = 0;
  for (const ch of raw.replace(/\s+/g, ' ').trim()) {
    bytes += enc.encode(ch).length;
    if (bytes > MAX_NAME_BYTES) break;
    name += ch;
  }
  name = name.trim();
  return name === '' ? null : name;
}

export function parseJoinOptions(search: string): JoinOptions {
  const q = new URLSearchParams(search);
  return {
    autoJoin: q.get('join') === '1',
    name: cleanName(q.get('name') ?? ''),
    camera: q.get('cam') !== '0',
    mic: q.get('mic') !== '0',
  };
}
