import { describe, expect, it } from 'vitest';
import { createMeeting, type FetchLike } from './meetings';

const ROOM = 'AAAAAAAAAAAAAAAAAAAAAA';
const HOST = 'B'.repeat(42) + 'A';

function respond(status: number, body: unknown): { fetch: FetchLike; calls: { url: string; init: RequestInit }[] } {
  const calls: { url: string; init: RequestInit }[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      calls.push({ url, init });
      return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    },
  };
}

describe('createMeeting', () => {
  it('posts {} and returns room and host key', async () => {
    const f = respond(201, { room: ROOM, host_key: HOST });
    expect(await createMeeting(f.fetch)).toEqual({ ok: true, meeting: { room: ROOM, hostKey: HOST } });
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]?.url).toBe('/api/meetings');
    expect(f.calls[0]?.init.method).toBe('POST');
    expect(f.calls[0]?.init.body).toBe('{}');
  });

  it('reports 403 (address outside create_from) as forbidden, not as a server failure', async () => {
    expect(await createMeeting(respond(403, { error: 'forbidden' }).fetch)).toEqual({ ok: false, error: 'forbidden', status: 403 });
  });

  it('reports rate limiting', async () => {
    expect(await createMeeting(respond(429, { error: 'rate_limited' }).fetch)).toEqual({ ok: false, error: 'rate-limited', status: 429 });
  });

  it('reports other statuses', async () => {
    expect(await createMeeting(respond(503, { error: 'unavailable' }).fetch)).toEqual({ ok: false, error: 'server', status: 503 });
  });

  it('reports network failure', async () => {
    const fail: FetchLike = () => Promise.reject(new TypeError('Failed to fetch'));
    expect(await createMeeting(fail)).toEqual({ ok: false, error: 'network' });
  });

  it.each([
    ['not JSON', 'oops'],
    ['missing host key', { room: ROOM }],
    ['short room', { room: ROOM.slice(1), host_key: HOST }],
    ['bad host key', { room: ROOM, host_key: 'x' }],
    ['array', [ROOM, HOST]],
  ])('rejects a malformed answer: %s', async (_n, body) => {
    expect(await createMeeting(respond(201, body).fetch)).toMatchObject({ ok: false, error: 'bad-response' });
  });
});
