import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CLOSE_PING_TIMEOUT,
  MAX_MISSED_PONGS,
  PING_INTERVAL_MS,
  ProtocolError,
  SignalingClient,
  WELCOME_TIMEOUT_MS,
  signalingUrl,
  type CloseInfo,
  type Transport,
  type TransportEvents,
} from './client';

/** A scripted stand-in for the server end of the socket. */
class FakeServer {
  url = '';
  events: TransportEvents | null = null;
  sent: unknown[] = [];
  closed: { code: number | undefined } | null = null;

  factory = (url: string, events: TransportEvents): Transport => {
    this.url = url;
    this.events = events;
    return {
      send: (text) => this.sent.push(JSON.parse(text)),
      close: (code) => {
        this.closed = { code };
      },
    };
  };

  open(): void {
    this.events?.open();
  }
  push(msg: unknown): void {
    this.events?.message(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }
  drop(info: CloseInfo = { code: 1006, reason: '', wasClean: false }): void {
    this.events?.closed(info);
  }
}

const WELCOME = { type: 'welcome', v: 1, server: 'conclave/0.1.0', limits: { max_message_bytes: 200, messages_per_second: 20 } };

async function connected(): Promise<{ server: FakeServer; client: SignalingClient }> {
  const server = new FakeServer();
  const client = new SignalingClient({ url: 'wss://h/ws', transport: server.factory });
  const p = client.connect();
  server.open();
  server.push(WELCOME);
  await p;
  return { server, client };
}

describe('signaling client', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('builds the /ws URL from the page location', () => {
    expect(signalingUrl({ protocol: 'https:', host: 'meet.example:8443' })).toBe('wss://meet.example:8443/ws');
    expect(signalingUrl({ protocol: 'http:', host: '127.0.0.1:5173' })).toBe('ws://127.0.0.1:5173/ws');
  });

  it('sends hello first and resolves with the welcome', async () => {
    const server = new FakeServer();
    const client = new SignalingClient({ url: 'wss://h/ws', transport: server.factory });
    const p = client.connect();
    expect(server.url).toBe('wss://h/ws');
    expect(server.sent).toEqual([]);
    server.open();
    expect(server.sent).toEqual([{ type: 'hello', v: 1 }]);
    server.push(WELCOME);
    const w = await p;
    expect(w.limits.max_message_bytes).toBe(200);
    expect(client.state).toBe('open');
    expect(client.serverName).toBe('conclave/0.1.0');
  });

  it('rejects a welcome of another protocol version', async () => {
    const server = new FakeServer();
    const client = new SignalingClient({ url: 'wss://h/ws', transport: server.factory });
    const p = client.connect();
    server.open();
    server.push({ ...WELCOME, v: 2 });
    await expect(p).rejects.toMatchObject({ reason: 'version' });
    expect(client.state).toBe('closed');
  });

  it('rejects when no welcome comes in time', async () => {
    const server = new FakeServer();
    const client = new SignalingClient({ url: 'wss://h/ws', transport: server.factory });
    const p = client.connect();
    server.open();
    const check = expect(p).rejects.toBeInstanceOf(ProtocolError);
    vi.advanceTimersByTime(WELCOME_TIMEOUT_MS + 1);
    await check;
    expect(server.closed).not.toBeNull();
  });

  it('rejects when the socket closes before the welcome', async () => {
    const server = new FakeServer();
    const client = new SignalingClient({ url: 'wss://h/ws', transport: server.factory });
    const p = client.connect();
    server.drop();
    await expect(p).rejects.toMatchObject({ reason: 'closed' });
  });

  it('dispatches typed messages, ignores unknown types and reports malformed ones', async () => {
    const { server, client } = await connected();
    const lobby = vi.fn();
    const joined = vi.fn();
    const invalid = vi.fn();
    client.on('lobby', lobby);
    client.on('joined', (m) => joined(m.participant, m.role));
    client.onInvalid(invalid);

    server.push({ type: 'roster', members: [] });
    server.push('not json');
    server.push({ type: 'joined', participant: 'p', role: 'owner' });
    server.push({ type: 'lobby' });
    server.push({ type: 'joined', participant: 'p7', role: 'guest', participants: [{ id: 'p7', name: 'G', role: 'guest' }], knocks: [] });

    expect(lobby).toHaveBeenCalledTimes(1);
    expect(joined).toHaveBeenCalledExactlyOnceWith('p7', 'guest');
    expect(invalid).toHaveBeenCalledTimes(2);
    expect(client.state).toBe('open');
  });

  it('sends join with host_key only on host links, and leave', async () => {
    const { server, client } = await connected();
    client.join('ROOM', 'Ada');
    client.join('ROOM', 'Ada', 'HOSTKEY');
    client.join('ROOM', 'Ada', undefined, 'TOKEN');
    client.leave();
    expect(server.sent.slice(1)).toEqual([
      { type: 'join', room: 'ROOM', name: 'Ada' },
      { type: 'join', room: 'ROOM', name: 'Ada', host_key: 'HOSTKEY' },
      { type: 'join', room: 'ROOM', name: 'Ada', rejoin: 'TOKEN' },
      { type: 'leave' },
    ]);
  });

  it('refuses to send a message larger than the server allows', async () => {
    const { server, client } = await connected();
    expect(client.join('ROOM', 'x'.repeat(300))).toBe(false);
    expect(server.sent).toHaveLength(1); // only the hello
  });

  it('pings every 20 s and gives up after missed pongs', async () => {
    const { server, client } = await connected();
    const closed = vi.fn();
    client.onClose(closed);

    vi.advanceTimersByTime(PING_INTERVAL_MS);
    expect(server.sent.at(-1)).toEqual({ type: 'ping', id: 1 });
    server.push({ type: 'pong', id: 1 });
    vi.advanceTimersByTime(PING_INTERVAL_MS);
    expect(server.sent.at(-1)).toEqual({ type: 'ping', id: 2 });

    vi.advanceTimersByTime(PING_INTERVAL_MS * MAX_MISSED_PONGS);
    expect(closed).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ code: CLOSE_PING_TIMEOUT }));
    expect(client.state).toBe('closed');
  });

  it('reports a dropped connection once, but not a close of its own', async () => {
    const a = await connected();
    const closedA = vi.fn();
    a.client.onClose(closedA);
    a.server.drop({ code: 1011, reason: 'bye', wasClean: true });
    a.server.drop();
    expect(closedA).toHaveBeenCalledTimes(1);

    const b = await connected();
    const closedB = vi.fn();
    b.client.onClose(closedB);
    b.client.close();
    b.server.drop({ code: 1000, reason: '', wasClean: true });
    expect(closedB).not.toHaveBeenCalled();
    expect(b.server.closed).toEqual({ code: 1000 });
    vi.advanceTimersByTime(PING_INTERVAL_MS * 5);
    expect(b.server.sent).toHaveLength(1); // no pings after close
  });

  it('ignores messages before the welcome except errors', async () => {
    const server = new FakeServer();
    const client = new SignalingClient({ url: 'wss://h/ws', transport: server.factory });
    const lobby = vi.fn();
    const error = vi.fn();
    client.on('lobby', lobby);
    client.on('error', error);
    const p = client.connect();
    server.open();
    server.push({ type: 'lobby' });
    server.push({ type: 'error', code: 'bad_request', message: 'hello first' });
    server.push(WELCOME);
    await p;
    expect(lobby).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledTimes(1);
  });
});
