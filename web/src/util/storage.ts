/*
 * localStorage that never throws. Storage can be missing or refuse writes
 * (private windows, disabled site data, quota); preferences are a comfort,
 * so failures are silent and reads fall back to null.
 *
 * Only preferences live here (name, language, device choices). Secrets from
 * the meeting link never do.
 */

export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

function backing(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export const localStore: KeyValueStore = {
  get(key) {
    try {
      return backing()?.getItem(key) ?? null;
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      backing()?.setItem(key, value);
    } catch {
      /* preferences are optional */
    }
  },
  remove(key) {
    try {
      backing()?.removeItem(key);
    } catch {
      /* preferences are optional */
    }
  },
};

/** An in-memory store, for tests and for when storage is unavailable. */
export function memoryStore(): KeyValueStore {
  const m = new Map<string, string>();
  return {
    get: (k) => m.get(k) ?? null,
    set: (k, v) => void m.set(k, v),
    remove: (k) => void m.delete(k),
  };
}
