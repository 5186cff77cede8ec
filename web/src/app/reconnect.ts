/*
 * Coming back after the signaling connection dropped (docs/protocol.md,
 * "Rejoining").
 *
 * The server hands every member a rejoin token in `joined` and in every
 * `pong`. It is a bearer credential for a few minutes (anyone holding it can
 * take the member's place), so it lives in memory only: never in
 * localStorage, sessionStorage, the URL or a log. RejoinToken keeps the
 * newest one and forgets it when it is too old to work or when the visit is
 * over (left, removed, ended, denied).
 *
 * Reconnector runs the retries: the first attempt BACKOFF_FIRST_MS after the
 * drop, then doubling up to BACKOFF_MAX_MS (0.5 s, 1 s, 2 s, 4 s, 5 s, 5 s …),
 * each delay stretched by up to BACKOFF_JITTER so that the members of a
 * meeting do not all knock at the same instant after a server restart. One
 * attempt opens a connection and sends `join` with the token; the session
 * then reports how it went: success() on `joined`, retry() when it failed
 * or the new connection dropped too. After GIVE_UP_MS without success it
 * stops and calls onGiveUp. wake() tries at once (the browser says it is
 * online again).
 *
 * Timers and the clock are injected, so the schedule is tested with fakes.
 */

export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_MAX_MS = 5_000;
/** Up to this fraction is added to each delay at random. */
export const BACKOFF_JITTER = 0.2;
/** A token lives 5 minutes on the server (docs/security.md, "Rejoin tokens"). */
export const REJOIN_TOKEN_TTL_MS = 5 * 60_000;
/** Retrying longer is pointless: by then the last token has expired. */
export const GIVE_UP_MS = REJOIN_TOKEN_TTL_MS;

/**
 * The delay before attempt `n` (0 for the first after a drop), without
 * jitter: first · 2^n, at most max.
 */
export function backoffDelay(n: number, first = BACKOFF_FIRST_MS, max = BACKOFF_MAX_MS): number {
  if (!Number.isFinite(n) || n <= 0) return Math.min(first, max);
  // 2^n overflows to Infinity for large n, which min() caps.
  return Math.min(max, first * 2 ** Math.floor(n));
}

/** backoffDelay stretched by a random share (random() in [0, 1)) of BACKOFF_JITTER. */
export function jittered(delay: number, random: () => number = Math.random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(delay * (1 + BACKOFF_JITTER * r));
}

/** The newest rejoin token, in memory only. */
export class RejoinToken {
  readonly #now: () => number;
  readonly #ttl: number;
  #token: string | null = null;
  #at = 0;

  constructor(now: () => number = () => Date.now(), ttlMs = REJOIN_TOKEN_TTL_MS) {
    this.#now = now;
    this.#ttl = ttlMs;
  }

  /** Keeps a token from `joined` or `pong`; an absent one changes nothing. */
  update(token: string | undefined): void {
    if (token === undefined || token === '') return;
    this.#token = token;
    this.#at = this.#now();
  }

  /** The token, or null if there is none or it has expired. */
  get(): string | null {
    if (this.#token !== null && this.#now() - this.#at >= this.#ttl) this.clear();
    return this.#token;
  }

  get present(): boolean {
    return this.get() !== null;
  }

  /** Forgets the token (the visit is over, or the server refused it). */
  clear(): void {
    this.#token = null;
    this.#at = 0;
  }
}

export type TimerHandle = unknown;

export interface ReconnectorOptions {
  /**
   * One attempt: opens a connection and sends join. Resolves true if the
   * join went out (the session reports the outcome later), false if no
   * connection could be made (try again after the next delay).
   */
  readonly attempt: () => Promise<boolean>;
  /** Called once when retrying stops for good. */
  readonly onGiveUp: () => void;
  readonly now?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => TimerHandle;
  readonly clearTimer?: (h: TimerHandle) => void;
  readonly random?: () => number;
  readonly giveUpMs?: number;
}

export type ReconnectorState = 'idle' | 'waiting' | 'trying' | 'stopped';

export class Reconnector {
  readonly #o: ReconnectorOptions;
  readonly #now: () => number;
  readonly #setTimer: (fn: () => void, ms: number) => TimerHandle;
  readonly #clearTimer: (h: TimerHandle) => void;
  #state: ReconnectorState = 'idle';
  #attempts = 0;
  #since: number | null = null;
  #timer: TimerHandle | null = null;

  constructor(opts: ReconnectorOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => Date.now());
    this.#setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get state(): ReconnectorState {
    return this.#state;
  }

  /** Attempts made since the connection was last good. */
  get attempts(): number {
    return this.#attempts;
  }

  /**
   * The connection dropped, or an attempt did not get back in: try again
   * after the next delay. Does nothing once stopped or while waiting.
   */
  retry(): void {
    if (this.#state === 'stopped' || this.#state === 'waiting') return;
    this.#since ??= this.#now();
    if (this.#now() - this.#since >= (this.#o.giveUpMs ?? GIVE_UP_MS)) {
      this.#giveUp();
      return;
    }
    this.#state = 'waiting';
    const delay = jittered(backoffDelay(this.#attempts), this.#o.random);
    this.#timer = this.#setTimer(() => {
      this.#timer = null;
      void this.#try();
    }, delay);
  }

  /** Tries at once if waiting for the next attempt (e.g. the browser is back online). */
  wake(): void {
    if (this.#state !== 'waiting') return;
    this.#cancelTimer();
    void this.#try();
  }

  /** Back in: the next drop starts the schedule from the beginning. */
  success(): void {
    if (this.#state === 'stopped') return;
    this.#cancelTimer();
    this.#state = 'idle';
    this.#attempts = 0;
    this.#since = null;
  }

  /** Stops for good, without calling onGiveUp (the visit ended). */
  stop(): void {
    this.#cancelTimer();
    this.#state = 'stopped';
  }

  async #try(): Promise<void> {
    if (this.#state !== 'waiting') return;
    this.#state = 'trying';
    this.#attempts++;
    let sent = false;
    try {
      sent = await this.#o.attempt();
    } catch {
      sent = false;
    }
    if (this.#state !== 'trying') return; // stopped or succeeded meanwhile
    if (sent) {
      // The join is out; the session calls success() or retry().
      this.#state = 'idle';
      return;
    }
    this.#state = 'idle';
    this.retry();
  }

  #giveUp(): void {
    this.stop();
    this.#o.onGiveUp();
  }

  #cancelTimer(): void {
    if (this.#timer !== null) this.#clearTimer(this.#timer);
    this.#timer = null;
  }
}
