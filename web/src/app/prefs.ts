/*
 * Remembered preferences: display name, language, device choices and whether
 * camera and microphone were on. Nothing from the meeting link is stored.
 */
import { isLanguage, type Language } from '../i18n';
import { localStore, type KeyValueStore } from '../util/storage';

const K = {
  name: 'conclave.name',
  lang: 'conclave.lang',
  cameraId: 'conclave.cameraId',
  micId: 'conclave.micId',
  cameraOn: 'conclave.cameraOn',
  micOn: 'conclave.micOn',
} as const;

export class Prefs {
  constructor(private readonly store: KeyValueStore = localStore) {}

  get name(): string {
    return this.store.get(K.name) ?? '';
  }
  set name(v: string) {
    this.store.set(K.name, v);
  }

  get language(): Language | null {
    const v = this.store.get(K.lang);
    return isLanguage(v) ? v : null;
  }
  set language(v: Language) {
    this.store.set(K.lang, v);
  }

  get cameraId(): string | null {
    return this.store.get(K.cameraId);
  }
  set cameraId(v: string | null) {
    if (v) this.store.set(K.cameraId, v);
    else this.store.remove(K.cameraId);
  }

  get micId(): string | null {
    return this.store.get(K.micId);
  }
  set micId(v: string | null) {
    if (v) this.store.set(K.micId, v);
    else this.store.remove(K.micId);
  }

  get cameraOn(): boolean {
    return this.store.get(K.cameraOn) !== '0';
  }
  set cameraOn(v: boolean) {
    this.store.set(K.cameraOn, v ? '1' : '0');
  }

  get micOn(): boolean {
    return this.store.get(K.micOn) !== '0';
  }
  set micOn(v: boolean) {
    this.store.set(K.micOn, v ? '1' : '0');
  }
}
