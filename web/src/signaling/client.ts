/*
 * The signaling connection: one WebSocket to the server's /ws, speaking
 * protocol v1 (protocol.ts).
 *
 * Lifecycle: connect() opens the socket and sends hello first; it resolves
 * with the server's welcome (which carries the limits we must respect) or
 * rejects if the socket closes, the version differs, or no welcome arrives in
 * time. After that a ping goes out every 20 s; if two pings in a row go
 * unanswered the connection is declared dead. Inbound frames are validated
 * before dispatch; unknown types are ignored; malformed ones are reported to
 * onInvalid and otherwise dropped.
 *
 * Timers (all owned by one client and cleared when it closes):
 *   welcome timer  — WELCOME_TIMEOUT_MS, once, from connect() to welcome
 *   ping interval  — PING_INTERVAL_MS, from welcome until close
 */
import {
  PROTOCOL_VERSION,
  encodeClientMessage,
  parseServerMessage,
  type ClientMessage,
  type Limits,
  type ServerMessage,
  type ServerMessageOf,
  type ServerType,
  type WelcomeMsg,
} from './protocol';

export const PING_INTERVAL_MS = 20_000;
export const WELCOME_TIMEOUT_MS = 10_000;
/** Unanswered pings after which the connection counts as dead. */
export const MAX_MISSED_PONGS = 2;
/** Close codes this client uses for its own reasons (4000–4999 are private). */
export const CLOSE_PING_TIMEOUT = 4000;
export const CLOSE_WELCOME_TIMEOUT = 4001;
export const CLOSE_PROTOCOL = 4002;

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** What the client needs from a socket; webSocketTransport adapts the browser's. */
export interface Transport {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface TransportEvents {
  open(): void;
  message(data: unknown): void;
  closed(info: CloseInfo): void;
}

export type TransportFactory = (url: string, events: TransportEvents) => Transport;

export const webSocketTransport: TransportFactory = (url, events) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => events.open();
  ws.onmessage = (ev: MessageEvent<unknown>) => events.message(ev.data);
  ws.onclose = (ev: CloseEvent) => events.closed({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
  ws.onerror = () => {
    /* always followed by a close event, which carries what we need */
  };
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
  };
};

/** wss://host/ws for an https page (ws:// only for plain-http development). */
export function signalingUrl(loc: { readonly protocol: string; readonly host: string }): string {
  return `${loc.protocol === 'http:' ? 'ws:' : 'wss:'}//${loc.host}/ws`;
}

export class ProtocolError extends Error {
  constructor(
    readonly reason: 'closed' | 'timeout' | 'version',
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'closed';

type AnyHandler = (msg: ServerMessage) => void;

export interface SignalingOptions {
  readonly url: string;
  readonly transport?: TransportFactory;
}

export class SignalingClient {
  readonly #url: string;
  readonly #factory: TransportFactory;
  #state: ClientState = 'idle';
  #transport: Transport | null = null;
  #limits: Limits | null = null;
  #server = '';
  #nextPingId = 1;
  #missedPongs = 0;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #welcomeTimer: ReturnType<typeof setTimeout> | null = null;
  #pending: { resolve: (w: WelcomeMsg) => void; reject: (e: ProtocolError) => void } | null = null;
  readonly #handlers = new Map<ServerType, Set<AnyHandler>>();
  readonly #closeHandlers = new Set<(info: CloseInfo) => void>();
  readonly #invalidHandlers = new Set<(reason: string) => void>();

  constructor(opts: SignalingOptions) {
    this.#url = opts.url;
    this.#factory = opts.transport ?? webSocketTransport;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The limits from the server's welcome, once connected. */
  get limits(): Limits | null {
    return this.#limits;
  }

  get serverName(): string {
    return this.#server;
  }

  /** Subscribes to one server message type; returns an unsubscribe function. */
  on<K extends ServerType>(type: K, handler: (msg: ServerMessageOf<K>) => void): () => void {
    const wrapped: AnyHandler = (msg) => {
      if (msg.type === type) handler(msg as ServerMessageOf<K>);
    };
    let set = this.#handlers.get(type);
    if (!set) {
      set = new Set();
      this.#handlers.set(type, set);
    }
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  /** Called once when an open connection ends without close() being called. */
  onClose(handler: (info: CloseInfo) => void): () => void {
    this.#closeHandlers.add(handler);
    return () => this.#closeHandlers.delete(handler);
  }

  /** Called with a short reason for every malformed inbound frame. */
  onInvalid(handler: (reason: string) => void): () => void {
    this.#invalidHandlers.add(handler);
    return () => this.#invalidHandlers.delete(handler);
  }

  connect(): Promise<WelcomeMsg> {
    if (this.#state !== 'idle') return Promise.reject(new ProtocolError('closed', 'connect() called twice'));
    this.#state = 'connecting';
    return new Promise<WelcomeMsg>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#welcomeTimer = setTimeout(() => {
        this.#fail({ code: CLOSE_WELCOME_TIMEOUT, reason: 'no welcome', wasClean: false }, 'timeout');
      }, WELCOME_TIMEOUT_MS);
      this.#transport = this.#factory(this.#url, {
        open: () => this.#onOpen(),
        message: (data) => this.#onMessage(data),
        closed: (info) => this.#onClosed(info),
      });
    });
  }

  /**
   * Sends one message if the connection is open and the message fits the
   * server's size limit. Returns false if it was not sent.
   */
  send(msg: ClientMessage): boolean {
    if (this.#state !== 'open' || !this.#transport) return false;
    const text = encodeClientMessage(msg);
    const max = this.#limits?.max_message_bytes ?? Infinity;
    if (new TextEncoder().encode(text).length > max) return false;
    this.#transport.send(text);
    return true;
  }

  /**
   * Sends join. A host credential and a rejoin token are written only when
   * given; the token is sent only here, over this connection, never stored.
   */
  join(room: string, name: string, hostKey?: string, rejoin?: string): boolean {
    return this.send({
      type: 'join',
      room,
      name,
      ...(hostKey === undefined ? {} : { host_key: hostKey }),
      ...(rejoin === undefined ? {} : { rejoin }),
    });
  }

  leave(): boolean {
    return this.send({ type: 'leave' });
  }

  /** Closes the connection on purpose; close handlers are not called. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopTimers();
    this.#pending?.reject(new ProtocolError('closed', 'closed by the client'));
    this.#pending = null;
    this.#transport?.close(1000, 'bye');
  }

  #onOpen(): void {
    if (this.#state !== 'connecting' || !this.#transport) return;
    this.#transport.send(encodeClientMessage({ type: 'hello', v: PROTOCOL_VERSION }));
  }

  #onMessage(data: unknown): void {
    if (this.#state === 'closed') return;
    const parsed = parseServerMessage(data);
    if (parsed.kind === 'unknown') return;
    if (parsed.kind === 'invalid') {
      for (const h of this.#invalidHandlers) h(parsed.reason);
      return;
    }
    const msg = parsed.msg;
    if (this.#state === 'connecting') {
      if (msg.type === 'welcome') this.#onWelcome(msg);
      else if (msg.type === 'error') this.#dispatch(msg);
      return; // nothing else is meaningful before the welcome
    }
    if (msg.type === 'welcome') return; // only the first one counts
    if (msg.type === 'pong') this.#missedPongs = 0;
    this.#dispatch(msg);
  }

  #onWelcome(msg: WelcomeMsg): void {
    if (msg.v !== PROTOCOL_VERSION) {
      this.#fail({ code: CLOSE_PROTOCOL, reason: 'protocol version', wasClean: false }, 'version');
      return;
    }
    this.#state = 'open';
    this.#limits = msg.limits;
    this.#server = msg.server;
    if (this.#welcomeTimer !== null) clearTimeout(this.#welcomeTimer);
    this.#welcomeTimer = null;
    this.#pingTimer = setInterval(() => this.#ping(), PING_INTERVAL_MS);
    const p = this.#pending;
    this.#pending = null;
    p?.resolve(msg);
  }

  #ping(): void {
    if (this.#missedPongs >= MAX_MISSED_PONGS) {
      this.#fail({ code: CLOSE_PING_TIMEOUT, reason: 'ping timeout', wasClean: false }, 'timeout');
      return;
    }
    this.#missedPongs++;
    this.send({ type: 'ping', id: this.#nextPingId++ });
  }

  #dispatch(msg: ServerMessage): void {
    const set = this.#handlers.get(msg.type);
    if (!set) return;
    for (const h of [...set]) h(msg);
  }

  #onClosed(info: CloseInfo): void {
    if (this.#state === 'closed') return;
    this.#fail(info, 'closed');
  }

  /** Ends the connection for a reason of the network or the server. */
  #fail(info: CloseInfo, reason: ProtocolError['reason']): void {
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    this.#stopTimers();
    const p = this.#pending;
    this.#pending = null;
    try {
      this.#transport?.close(info.code >= 4000 && info.code <= 4999 ? info.code : 1000, 'closing');
    } catch {
      /* already closed */
    }
    if (p) {
      p.reject(new ProtocolError(reason, info.reason || `closed (${info.code})`));
      return;
    }
    if (wasOpen) for (const h of [...this.#closeHandlers]) h(info);
  }

  #stopTimers(): void {
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    if (this.#welcomeTimer !== null) clearTimeout(this.#welcomeTimer);
    this.#pingTimer = null;
    this.#welcomeTimer = null;
  }
}
