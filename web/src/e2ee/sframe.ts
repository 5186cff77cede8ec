/*
 * SFrame (RFC 9605): the frame format, key derivation and AEAD, nothing more.
 *
 * Every audio and video frame a participant sends is encrypted end to end
 * with SFrame, so the SFU (and whoever runs it) forwards ciphertext only.
 * This module is the RFC, section by section:
 *
 *   §4.3   header: one config byte |X|KKK|Y|CCC| followed by the KID and the
 *          CTR as minimal big-endian integers when they do not fit in three
 *          bits; values are 64-bit, so they are BigInts here;
 *   §4.4.2 derive_key_salt: sframe_secret = HKDF-Extract("", base_key);
 *          sframe_key = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret key "
 *          + KID(8 bytes) + cipher_suite(2 bytes), Nk), and the salt likewise
 *          with "SFrame 1.0 Secret salt " and Nn;
 *   §4.4.3 nonce = sframe_salt XOR CTR (big-endian, Nn bytes); AAD = header
 *          + metadata; output = header + AEAD ciphertext (tag included);
 *   §4.5   the cipher suites; AES-GCM directly from WebCrypto, and the
 *          AES-CTR + HMAC compound AEAD of §4.5.1 built from WebCrypto's
 *          AES-CTR and HMAC (encrypt-then-MAC, tag truncated to Nt).
 *
 * conclave uses AES_128_GCM_SHA256_128 (0x0004) for media (DESIGN.md §5); the
 * other suites are here because the RFC's test vectors cover them and they
 * cost a few lines.
 *
 * Keys stay inside WebCrypto wherever the API allows it: the base key is an
 * HKDF key and the AES-GCM frame key is derived straight into a
 * non-extractable CryptoKey. Only the salt (which is not secret on its own)
 * and, for the CTR+HMAC suites, the key bytes during import exist as plain
 * bytes, and the latter are wiped at once.
 *
 * What this module refuses: frames that fail to authenticate, truncated or
 * non-minimal headers, and counters beyond 64 bits. It returns null for them
 * and never throws on untrusted input.
 *
 * Which key belongs to which KID (the MLS-based scheme of §5.2, epochs,
 * counters, grace periods) is sframe-keys.ts.
 */
import { type Bytes, bytes, concat, utf8, wipe } from './bytes';

export interface SFrameSuite {
  /** The IANA value (RFC 9605 §8.1), two bytes in the key labels. */
  readonly id: number;
  readonly name: string;
  readonly hash: 'SHA-256' | 'SHA-512';
  /** Hash output size in bytes. */
  readonly nh: number;
  /** Size of sframe_key in bytes (for CTR+HMAC: the AES key plus the HMAC key). */
  readonly nk: number;
  /** Nonce size in bytes. */
  readonly nn: number;
  /** Authentication tag size in bytes. */
  readonly nt: number;
  /** AES key size inside the compound CTR+HMAC key; 0 for the GCM suites. */
  readonly nka: number;
}

export const AES_128_CTR_HMAC_SHA256_80: SFrameSuite = {
  id: 0x0001, name: 'AES_128_CTR_HMAC_SHA256_80', hash: 'SHA-256', nh: 32, nk: 48, nn: 12, nt: 10, nka: 16,
};
export const AES_128_CTR_HMAC_SHA256_64: SFrameSuite = {
  id: 0x0002, name: 'AES_128_CTR_HMAC_SHA256_64', hash: 'SHA-256', nh: 32, nk: 48, nn: 12, nt: 8, nka: 16,
};
export const AES_128_CTR_HMAC_SHA256_32: SFrameSuite = {
  id: 0x0003, name: 'AES_128_CTR_HMAC_SHA256_32', hash: 'SHA-256', nh: 32, nk: 48, nn: 12, nt: 4, nka: 16,
};
/** The suite conclave uses for media. */
export const AES_128_GCM_SHA256_128: SFrameSuite = {
  id: 0x0004, name: 'AES_128_GCM_SHA256_128', hash: 'SHA-256', nh: 32, nk: 16, nn: 12, nt: 16, nka: 0,
};
export const AES_256_GCM_SHA512_128: SFrameSuite = {
  id: 0x0005, name: 'AES_256_GCM_SHA512_128', hash: 'SHA-512', nh: 64, nk: 32, nn: 12, nt: 16, nka: 0,
};

export const SUITES: readonly SFrameSuite[] = [
  AES_128_CTR_HMAC_SHA256_80,
  AES_128_CTR_HMAC_SHA256_64,
  AES_128_CTR_HMAC_SHA256_32,
  AES_128_GCM_SHA256_128,
  AES_256_GCM_SHA512_128,
];

export function suiteById(id: number): SFrameSuite | undefined {
  return SUITES.find((s) => s.id === id);
}

const isGcm = (s: SFrameSuite): boolean => s.nka === 0;

// ---- §4.3 header -------------------------------------------------------------

export const MAX_UINT64 = (1n << 64n) - 1n;

/** Bytes needed for v as a minimal big-endian integer (1…8). */
function byteLength(v: bigint): number {
  let n = 1;
  while (v >= 1n << BigInt(8 * n)) n++;
  return n;
}

function putUint(out: Uint8Array, at: number, v: bigint, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function getUint(b: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}

function checkUint64(v: bigint, what: string): void {
  if (v < 0n || v > MAX_UINT64) throw new RangeError(`SFrame ${what} out of range`);
}

/** The SFrame header for a KID and a CTR (both 0 … 2^64−1). */
export function encodeHeader(kid: bigint, ctr: bigint): Bytes {
  checkUint64(kid, 'KID');
  checkUint64(ctr, 'CTR');
  const klen = kid < 8n ? 0 : byteLength(kid);
  const clen = ctr < 8n ? 0 : byteLength(ctr);
  const out = new Uint8Array(1 + klen + clen);
  const k = klen ? 0x80 | ((klen - 1) << 4) : Number(kid) << 4;
  const c = clen ? 0x08 | (clen - 1) : Number(ctr);
  out[0] = k | c;
  if (klen) putUint(out, 1, kid, klen);
  if (clen) putUint(out, 1 + klen, ctr, clen);
  return out;
}

export interface SFrameHeader {
  readonly kid: bigint;
  readonly ctr: bigint;
  /** Encoded length in bytes. */
  readonly length: number;
}

/**
 * Parses the header at the start of an SFrame ciphertext. Null if the input
 * is too short or the header is not in its minimal form (RFC 9605 §4.3: a
 * value that fits in three bits is carried in the config byte, a longer one
 * in the fewest bytes).
 */
export function parseHeader(data: Uint8Array): SFrameHeader | null {
  if (data.length < 1) return null;
  const cfg = data[0]!;
  const x = (cfg & 0x80) !== 0;
  const y = (cfg & 0x08) !== 0;
  const klen = x ? ((cfg >> 4) & 7) + 1 : 0;
  const clen = y ? (cfg & 7) + 1 : 0;
  const length = 1 + klen + clen;
  if (data.length < length) return null;
  const kid = x ? getUint(data, 1, klen) : BigInt((cfg >> 4) & 7);
  const ctr = y ? getUint(data, 1 + klen, clen) : BigInt(cfg & 7);
  if (x && (kid < 8n || byteLength(kid) !== klen)) return null;
  if (y && (ctr < 8n || byteLength(ctr) !== clen)) return null;
  return { kid, ctr, length };
}

// ---- §4.4.2 key derivation -----------------------------------------------------

function uint64(v: bigint): Bytes {
  const out = new Uint8Array(8);
  putUint(out, 0, v, 8);
  return out;
}

function uint16(v: number): Bytes {
  return new Uint8Array([(v >> 8) & 0xff, v & 0xff]);
}

/** "SFrame 1.0 Secret key " + KID (8 bytes, big-endian) + cipher suite (2 bytes). */
export function keyLabel(suite: SFrameSuite, kid: bigint): Bytes {
  return concat(utf8('SFrame 1.0 Secret key '), uint64(kid), uint16(suite.id));
}

/** "SFrame 1.0 Secret salt " + KID (8 bytes, big-endian) + cipher suite (2 bytes). */
export function saltLabel(suite: SFrameSuite, kid: bigint): Bytes {
  return concat(utf8('SFrame 1.0 Secret salt '), uint64(kid), uint16(suite.id));
}

const EMPTY: Bytes = new Uint8Array(0);

/**
 * Imports base_key as a non-extractable HKDF key. WebCrypto's HKDF with an
 * empty salt is exactly HKDF-Extract("", base_key) followed by HKDF-Expand
 * (RFC 5869: an absent salt is HashLen zero bytes, and HMAC pads an empty key
 * with zeros to the same value), so sframe_secret itself never exists outside
 * WebCrypto.
 */
export async function importBaseKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', bytes(raw), 'HKDF', false, ['deriveBits', 'deriveKey']);
}

function hkdfParams(suite: SFrameSuite, info: Bytes): HkdfParams {
  return { name: 'HKDF', hash: suite.hash, salt: EMPTY, info };
}

/**
 * HKDF-Extract(salt, ikm) as plain bytes. Only the test vectors need it (to
 * check sframe_secret); frame keys are derived inside WebCrypto.
 */
export async function hkdfExtract(suite: SFrameSuite, salt: Uint8Array, ikm: Uint8Array): Promise<Bytes> {
  const keyBytes = salt.length > 0 ? bytes(salt) : new Uint8Array(suite.nh);
  const k = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: suite.hash }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, bytes(ikm)));
}

/**
 * sframe_key and sframe_salt as plain bytes. For tests and for the CTR+HMAC
 * suites' import; GCM frame keys use deriveKeySalt, which never exposes the
 * key.
 */
export async function deriveKeySaltBytes(
  suite: SFrameSuite,
  baseKey: CryptoKey,
  kid: bigint,
): Promise<{ key: Bytes; salt: Bytes }> {
  const key = new Uint8Array(await crypto.subtle.deriveBits(hkdfParams(suite, keyLabel(suite, kid)), baseKey, suite.nk * 8));
  const salt = new Uint8Array(await crypto.subtle.deriveBits(hkdfParams(suite, saltLabel(suite, kid)), baseKey, suite.nn * 8));
  return { key, salt };
}

/** The AEAD key of a suite as WebCrypto keys: one AES-GCM key, or AES-CTR + HMAC. */
export interface AeadKey {
  readonly enc: CryptoKey;
  /** HMAC key of the CTR+HMAC suites; null for GCM. */
  readonly auth: CryptoKey | null;
}

/** A derived frame key for one KID: what encrypt and decrypt need. */
export interface SFrameKey extends AeadKey {
  readonly suite: SFrameSuite;
  readonly kid: bigint;
  readonly salt: Bytes;
}

/** Imports raw AEAD key bytes (Nk) as non-extractable keys (§4.5.1 split for CTR+HMAC). */
export async function importAeadKey(suite: SFrameSuite, raw: Uint8Array): Promise<AeadKey> {
  if (raw.length !== suite.nk) throw new RangeError('SFrame key has the wrong length');
  if (isGcm(suite)) {
    const enc = await crypto.subtle.importKey('raw', bytes(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
    return { enc, auth: null };
  }
  return importCtrHmacKey(raw.subarray(0, suite.nka), raw.subarray(suite.nka), suite.hash);
}

async function importCtrHmacKey(encKey: Uint8Array, authKey: Uint8Array, hash: string): Promise<AeadKey> {
  const enc = await crypto.subtle.importKey('raw', bytes(encKey), 'AES-CTR', false, ['encrypt', 'decrypt']);
  const auth = await crypto.subtle.importKey('raw', bytes(authKey), { name: 'HMAC', hash }, false, ['sign']);
  return { enc, auth };
}

/** derive_key_salt(KID, base_key) of RFC 9605 §4.4.2, keys kept non-extractable. */
export async function deriveKeySalt(suite: SFrameSuite, baseKey: CryptoKey, kid: bigint): Promise<SFrameKey> {
  checkUint64(kid, 'KID');
  const salt = new Uint8Array(
    await crypto.subtle.deriveBits(hkdfParams(suite, saltLabel(suite, kid)), baseKey, suite.nn * 8),
  );
  if (isGcm(suite)) {
    const enc = await crypto.subtle.deriveKey(
      hkdfParams(suite, keyLabel(suite, kid)),
      baseKey,
      { name: 'AES-GCM', length: suite.nk * 8 },
      false,
      ['encrypt', 'decrypt'],
    );
    return { suite, kid, salt, enc, auth: null };
  }
  const raw = new Uint8Array(await crypto.subtle.deriveBits(hkdfParams(suite, keyLabel(suite, kid)), baseKey, suite.nk * 8));
  try {
    return { suite, kid, salt, ...(await importAeadKey(suite, raw)) };
  } finally {
    wipe(raw);
  }
}

// ---- §4.4.3 nonce, §4.5 AEAD ---------------------------------------------------

/** nonce = sframe_salt XOR encode_big_endian(CTR, Nn). */
export function makeNonce(salt: Uint8Array, ctr: bigint): Bytes {
  const nonce = new Uint8Array(salt);
  let v = ctr;
  for (let i = nonce.length - 1; i >= 0 && v > 0n; i--) {
    nonce[i]! ^= Number(v & 0xffn);
    v >>= 8n;
  }
  return nonce;
}

/** Parameters of the compound AES-CTR + HMAC AEAD of §4.5.1. */
export interface CtrHmacParams {
  readonly nt: number;
}

async function ctrHmacTag(p: CtrHmacParams, auth: CryptoKey, nonce: Bytes, aad: Uint8Array, ct: Uint8Array): Promise<Bytes> {
  const authData = concat(uint64(BigInt(aad.length)), uint64(BigInt(ct.length)), uint64(BigInt(p.nt)), nonce, aad, ct);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', auth, authData));
  return mac.slice(0, p.nt);
}

function ctrParams(nonce: Bytes): AesCtrParams {
  // initial_counter = nonce + 0x00000000; the low 32 bits count blocks
  return { name: 'AES-CTR', counter: concat(nonce, new Uint8Array(4)), length: 32 };
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** AEAD.Encrypt of a suite: ciphertext with the tag appended. */
export async function aeadEncrypt(
  suite: SFrameSuite | CtrHmacParams,
  key: AeadKey,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Promise<Bytes> {
  const n = bytes(nonce);
  if (key.auth === null) {
    return new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: n, additionalData: bytes(aad), tagLength: 128 }, key.enc, bytes(plaintext)),
    );
  }
  const ct = new Uint8Array(await crypto.subtle.encrypt(ctrParams(n), key.enc, bytes(plaintext)));
  return concat(ct, await ctrHmacTag(suite, key.auth, n, aad, ct));
}

/** AEAD.Decrypt of a suite; null when the tag does not verify. */
export async function aeadDecrypt(
  suite: SFrameSuite | CtrHmacParams,
  key: AeadKey,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Promise<Bytes | null> {
  const n = bytes(nonce);
  if (ciphertext.length < suite.nt) return null;
  if (key.auth === null) {
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv: n, additionalData: bytes(aad), tagLength: 128 }, key.enc, bytes(ciphertext)),
      );
    } catch {
      return null;
    }
  }
  const inner = ciphertext.subarray(0, ciphertext.length - suite.nt);
  const tag = ciphertext.subarray(ciphertext.length - suite.nt);
  const expected = await ctrHmacTag(suite, key.auth, n, aad, inner);
  if (!constantTimeEqual(tag, expected)) return null;
  return new Uint8Array(await crypto.subtle.decrypt(ctrParams(n), key.enc, bytes(inner)));
}

// ---- §4.4.3 / §4.4.4 frames ------------------------------------------------------

const NO_METADATA: Bytes = new Uint8Array(0);

/**
 * Encrypts one frame under key k with counter ctr: header + ciphertext.
 * The caller owns the counter and must never reuse a (key, CTR) pair
 * (RFC 9605 §9.1); sframe-keys.ts does that.
 */
export async function encryptFrame(
  k: SFrameKey,
  ctr: bigint,
  plaintext: Uint8Array,
  metadata: Uint8Array = NO_METADATA,
): Promise<Bytes> {
  const header = encodeHeader(k.kid, ctr);
  const ct = await aeadEncrypt(k.suite, k, makeNonce(k.salt, ctr), concat(header, metadata), plaintext);
  return concat(header, ct);
}

export interface DecryptedFrame {
  readonly kid: bigint;
  readonly ctr: bigint;
  readonly plaintext: Bytes;
}

/** Finds the key for a KID (null: none, the frame is dropped). */
export type KeyLookup = (kid: bigint) => SFrameKey | null | Promise<SFrameKey | null>;

/**
 * Decrypts one SFrame ciphertext. Null when the header is malformed, no key
 * is known for its KID, or authentication fails: such a frame must be
 * dropped, never passed on (RFC 9605 §4.4.4).
 */
export async function decryptFrame(
  lookup: KeyLookup,
  data: Uint8Array,
  metadata: Uint8Array = NO_METADATA,
): Promise<DecryptedFrame | null> {
  const h = parseHeader(data);
  if (!h) return null;
  const k = await lookup(h.kid);
  if (!k || k.kid !== h.kid) return null;
  if (data.length < h.length + k.suite.nt) return null;
  const header = data.subarray(0, h.length);
  const plaintext = await aeadDecrypt(
    k.suite,
    k,
    makeNonce(k.salt, h.ctr),
    concat(header, metadata),
    data.subarray(h.length),
  );
  return plaintext ? { kid: h.kid, ctr: h.ctr, plaintext } : null;
}
