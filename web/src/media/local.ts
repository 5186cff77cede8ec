/*
 * The local camera and microphone.
 *
 * One LocalMedia owns one MediaStream for the whole visit: the pre-join
 * preview and the meeting show the same stream, so the browser asks for
 * permission once. A kind (audio/video) is either absent (never asked, turned
 * off, refused, or missing) or present as one live track. Turning the camera
 * off stops its track, so the camera light goes out; muting the microphone
 * only disables its track, so unmuting is instant.
 *
 * No network transport lives here yet: the SFU connection will take tracks
 * from this stream.
 */

import { CAMERA_CONSTRAINTS } from './simulcast';

export type MediaKind = 'audio' | 'video';

/** Why a kind could not be started. */
export type MediaProblem = 'denied' | 'no-device' | 'failed' | 'unsupported';

export interface DeviceInfo {
  readonly id: string;
  readonly label: string;
}

export interface Devices {
  readonly cameras: readonly DeviceInfo[];
  readonly mics: readonly DeviceInfo[];
}

/** The part of navigator.mediaDevices we use. */
export interface MediaDevicesLike {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
}

export function problemOf(err: unknown): MediaProblem {
  const name = typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'no-device';
    default:
      return 'failed';
  }
}

function defaultDevices(): MediaDevicesLike | null {
  if (typeof navigator === 'undefined' || !navigator.mediaDevices) return null;
  return navigator.mediaDevices;
}

function constraint(kind: MediaKind, deviceId: string | null): MediaTrackConstraints | boolean {
  // A remembered device is preferred ("ideal"), never required: if it has
  // gone, the browser picks another instead of failing. The camera is asked
  // for 1280×720, the full simulcast layer (ideal too: a smaller camera works).
  const size = kind === 'video' ? CAMERA_CONSTRAINTS : null;
  if (!deviceId) return size ? { ...size } : true;
  return size ? { ...size, deviceId } : { deviceId };
}

export type StartResult = { readonly [K in MediaKind]?: MediaProblem };

export class LocalMedia {
  readonly stream: MediaStream;
  readonly #devices: MediaDevicesLike | null;
  readonly #listeners = new Set<() => void>();

  constructor(devices: MediaDevicesLike | null = defaultDevices()) {
    this.#devices = devices;
    this.stream = new MediaStream();
  }

  get supported(): boolean {
    return this.#devices !== null;
  }

  track(kind: MediaKind): MediaStreamTrack | null {
    return (kind === 'audio' ? this.stream.getAudioTracks() : this.stream.getVideoTracks())[0] ?? null;
  }

  has(kind: MediaKind): boolean {
    return this.track(kind) !== null;
  }

  /** True if the kind is present and not muted. */
  isLive(kind: MediaKind): boolean {
    return this.track(kind)?.enabled === true;
  }

  /** Subscribes to any change of tracks or their enabled state. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Starts the requested kinds, each with its preferred device (or null for
   * the default). Both are asked for in one request (one permission prompt);
   * if that fails, each is tried alone, so a missing camera does not cost
   * the microphone. Returns the problem per kind that could not start.
   */
  async start(want: { readonly video: string | null | false; readonly audio: string | null | false }): Promise<StartResult> {
    const kinds: MediaKind[] = [];
    if (want.video !== false) kinds.push('video');
    if (want.audio !== false) kinds.push('audio');
    if (kinds.length === 0) return {};
    if (!this.#devices) return Object.fromEntries(kinds.map((k) => [k, 'unsupported'])) as StartResult;
    const pick = (k: MediaKind): string | null => {
      const v = k === 'video' ? want.video : want.audio;
      return v === false ? null : v;
    };
    if (kinds.length === 2) {
      try {
        const s = await this.#devices.getUserMedia({ video: constraint('video', pick('video')), audio: constraint('audio', pick('audio')) });
        for (const tr of s.getTracks()) this.#put(tr);
        this.#changed();
        return {};
      } catch {
        /* fall through to one at a time */
      }
    }
    const result: { [K in MediaKind]?: MediaProblem } = {};
    for (const k of kinds) {
      const p = await this.#startOne(k, pick(k));
      if (p) result[k] = p;
    }
    this.#changed();
    return result;
  }

  /** Starts (or restarts on another device) one kind. */
  async enable(kind: MediaKind, deviceId: string | null): Promise<MediaProblem | null> {
    const p = await this.#startOne(kind, deviceId);
    this.#changed();
    return p;
  }

  /** Stops one kind and removes its track. */
  disable(kind: MediaKind): void {
    const tr = this.track(kind);
    if (!tr) return;
    tr.stop();
    this.stream.removeTrack(tr);
    this.#changed();
  }

  /** Mutes or unmutes a present kind without stopping it. */
  setEnabled(kind: MediaKind, enabled: boolean): void {
    const tr = this.track(kind);
    if (!tr || tr.enabled === enabled) return;
    tr.enabled = enabled;
    this.#changed();
  }

  /** The device id of the running track of a kind, if the browser says. */
  deviceOf(kind: MediaKind): string | null {
    return this.track(kind)?.getSettings().deviceId ?? null;
  }

  /** Lists cameras and microphones (labels are empty before permission). */
  async devices(): Promise<Devices> {
    if (!this.#devices) return { cameras: [], mics: [] };
    let all: MediaDeviceInfo[];
    try {
      all = await this.#devices.enumerateDevices();
    } catch {
      return { cameras: [], mics: [] };
    }
    const of = (kind: MediaDeviceKind): DeviceInfo[] =>
      all.filter((d) => d.kind === kind && d.deviceId !== '').map((d) => ({ id: d.deviceId, label: d.label }));
    return { cameras: of('videoinput'), mics: of('audioinput') };
  }

  /** Stops everything; the stream stays usable (empty) for a later start. */
  stop(): void {
    for (const tr of this.stream.getTracks()) {
      tr.stop();
      this.stream.removeTrack(tr);
    }
    this.#changed();
  }

  async #startOne(kind: MediaKind, deviceId: string | null): Promise<MediaProblem | null> {
    if (!this.#devices) return 'unsupported';
    try {
      const s = await this.#devices.getUserMedia(kind === 'video' ? { video: constraint('video', deviceId) } : { audio: constraint('audio', deviceId) });
      for (const tr of s.getTracks()) this.#put(tr);
      return null;
    } catch (e) {
      return problemOf(e);
    }
  }

  /** Replaces the track of the same kind, stopping the old one. */
  #put(tr: MediaStreamTrack): void {
    const kind: MediaKind = tr.kind === 'audio' ? 'audio' : 'video';
    const old = this.track(kind);
    if (old) {
      old.stop();
      this.stream.removeTrack(old);
    }
    this.stream.addTrack(tr);
    // A device unplugged or taken away ends its track: drop it and tell the UI.
    tr.addEventListener('ended', () => {
      if (this.track(kind) !== tr) return;
      this.stream.removeTrack(tr);
      this.#changed();
    });
  }

  #changed(): void {
    for (const fn of [...this.#listeners]) fn();
  }
}
