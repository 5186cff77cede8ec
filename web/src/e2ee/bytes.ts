/*
 * Byte helpers shared by the e2ee modules (main thread and workers alike).
 *
 * WebCrypto takes BufferSource, which TypeScript (5.7+) types as views on a
 * plain ArrayBuffer; `Bytes` is that type, and `bytes()` turns any view into
 * one without copying when it already is.
 */

export type Bytes = Uint8Array<ArrayBuffer>;

/** The same bytes as a view on a plain ArrayBuffer (copied only if needed). */
export function bytes(u: Uint8Array): Bytes {
  return u.buffer instanceof ArrayBuffer ? (u as Bytes) : new Uint8Array(u);
}

export function concat(...parts: readonly Uint8Array[]): Bytes {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Bytes {
  return encoder.encode(text);
}

/** Strict UTF-8 decoding: null for invalid input. */
export function fromUtf8(b: Uint8Array): string | null {
  try {
    return decoder.decode(b);
  } catch {
    return null;
  }
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Bytes {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error('bad hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Plain (not constant-time) equality, for public values only. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Overwrites secrets we hold as plain bytes once they are no longer needed. */
export function wipe(...arrays: readonly (Uint8Array | null | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}
