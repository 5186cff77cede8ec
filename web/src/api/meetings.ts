/*
 * POST /api/meetings: the server makes a room id and a host credential and
 * keeps only the credential's hash. The invite secret is not part of this
 * exchange: the caller makes it locally (e2ee/invite.ts) afterwards.
 */
import { HOST_KEY_BYTES, isRoomId } from '../links/meetingLink';
import { isBase64urlOfLength } from '../util/base64url';

export interface CreatedMeeting {
  readonly room: string;
  readonly hostKey: string;
}

/** 'forbidden': the server takes new meetings only from some networks
 * (its create_from setting), and this browser's address is not among them. */
export type CreateError = 'forbidden' | 'rate-limited' | 'network' | 'server' | 'bad-response';

export type CreateResult =
  | { readonly ok: true; readonly meeting: CreatedMeeting }
  | { readonly ok: false; readonly error: CreateError; readonly status?: number };

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export async function createMeeting(fetchFn: FetchLike = (i, o) => fetch(i, o)): Promise<CreateResult> {
  let res: Response;
  try {
    res = await fetchFn('/api/meetings', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    return { ok: false, error: 'network' };
  }
  if (res.status === 403) return { ok: false, error: 'forbidden', status: 403 };
  if (res.status === 429) return { ok: false, error: 'rate-limited', status: 429 };
  if (res.status !== 201 && res.status !== 200) return { ok: false, error: 'server', status: res.status };
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { ok: false, error: 'bad-response', status: res.status };
  }
  if (typeof body !== 'object' || body === null) return { ok: false, error: 'bad-response', status: res.status };
  const room: unknown = Reflect.get(body, 'room');
  const hostKey: unknown = Reflect.get(body, 'host_key');
  if (typeof room !== 'string' || !isRoomId(room) || typeof hostKey !== 'string' || !isBase64urlOfLength(hostKey, HOST_KEY_BYTES)) {
    return { ok: false, error: 'bad-response', status: res.status };
  }
  return { ok: true, meeting: { room, hostKey } };
}
