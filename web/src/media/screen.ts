/*
 * The local screen share: one video track from getDisplayMedia, kept for
 * the whole visit (a reconnect publishes it again on the new connection).
 *
 * It ends three ways: our "Stop sharing" button (stop()), the browser's own
 * "Stop sharing" bar, or the shared window closing — the last two end the
 * track, which is noticed here and reported like stop(). The picture is
 * sent end-to-end encrypted like the camera (the transport gives its sender
 * the same frame transform).
 */

/** The part of navigator.mediaDevices this needs. */
export interface DisplayMediaLike {
  getDisplayMedia(constraints?: DisplayMediaStreamOptions): Promise<MediaStream>;
}

export type ShareProblem = 'denied' | 'unsupported' | 'failed';

function defaultDisplay(): DisplayMediaLike | null {
  if (typeof navigator === 'undefined') return null;
  const md = navigator.mediaDevices as (MediaDevices & Partial<DisplayMediaLike>) | undefined;
  return md && typeof md.getDisplayMedia === 'function' ? (md as DisplayMediaLike) : null;
}

export class ScreenShare {
  readonly #display: DisplayMediaLike | null;
  readonly #listeners = new Set<(track: MediaStreamTrack | null) => void>();
  #track: MediaStreamTrack | null = null;
  #starting = false;

  constructor(display: DisplayMediaLike | null = defaultDisplay()) {
    this.#display = display;
  }

  /** Whether this browser can share a screen at all (phones mostly cannot). */
  get supported(): boolean {
    return this.#display !== null;
  }

  get track(): MediaStreamTrack | null {
    return this.#track;
  }

  /** Called with the new track, or null once sharing stopped. */
  onChange(fn: (track: MediaStreamTrack | null) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Asks the browser for a screen (it shows its own picker); null once sharing, else why not. */
  async start(): Promise<ShareProblem | null> {
    if (!this.#display) return 'unsupported';
    if (this.#track || this.#starting) return null;
    this.#starting = true;
    let stream: MediaStream;
    try {
      stream = await this.#display.getDisplayMedia({ video: true, audio: false });
    } catch (e) {
      const name = typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : '';
      return name === 'NotAllowedError' || name === 'AbortError' ? 'denied' : 'failed';
    } finally {
      this.#starting = false;
    }
    const track = stream.getVideoTracks()[0] ?? null;
    for (const t of stream.getTracks()) if (t !== track) t.stop();
    if (!track) return 'failed';
    // text and lines stay sharp rather than smooth (a hint; browsers may ignore it)
    if ('contentHint' in track) track.contentHint = 'detail';
    track.addEventListener('ended', () => {
      if (this.#track === track) this.#set(null);
    });
    this.#set(track);
    return null;
  }

  stop(): void {
    const t = this.#track;
    if (!t) return;
    t.stop();
    this.#set(null);
  }

  #set(track: MediaStreamTrack | null): void {
    this.#track = track;
    for (const fn of [...this.#listeners]) fn(track);
  }
}
