/*
 * A queue that runs asynchronous jobs one at a time, in the order they were
 * pushed. Offer/answer exchanges on one RTCPeerConnection must not overlap
 * (JSEP: a new offer only in the stable state), so every negotiation step of
 * a connection goes through one of these.
 *
 * A job that throws does not stop the queue: the error goes to onError and
 * the next job runs. close() drops the jobs not yet started; the running one
 * finishes (it cannot be interrupted) and its result is ignored.
 */

export type Job = () => Promise<void>;

export class SerialQueue {
  readonly #jobs: Job[] = [];
  readonly #onError: (e: unknown) => void;
  #running = false;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(onError: (e: unknown) => void = () => undefined) {
    this.#onError = onError;
  }

  /** Jobs waiting, not counting the one running. */
  get pending(): number {
    return this.#jobs.length;
  }

  get busy(): boolean {
    return this.#running;
  }

  push(job: Job): void {
    if (this.#closed) return;
    this.#jobs.push(job);
    if (!this.#running) void this.#drain();
  }

  /** Resolves once no job is running or waiting. */
  idle(): Promise<void> {
    if (!this.#running && this.#jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  close(): void {
    this.#closed = true;
    this.#jobs.length = 0;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    for (let job = this.#jobs.shift(); job; job = this.#jobs.shift()) {
      try {
        await job();
      } catch (e) {
        if (!this.#closed) this.#onError(e);
      }
    }
    this.#running = false;
    const waiting = this.#idle;
    this.#idle = [];
    for (const w of waiting) w();
  }
}
