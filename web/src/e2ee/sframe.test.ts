/*
 * RFC 9605 test vectors (testdata/sframe-rfc9605.json, Appendix C of the
 * RFC) against sframe.ts: header encoding, the CTR+HMAC AEAD, and for every
 * suite key/salt derivation, nonce, AAD and encryption/decryption.
 * KID and CTR are 64-bit, so they are read as BigInt from the JSON text.
 */
import { describe, expect, it } from 'vitest';
import raw from './testdata/sframe-rfc9605.json?raw';
import { concat, fromHex, toHex } from './bytes';
import {
  AES_128_GCM_SHA256_128,
  SUITES,
  aeadDecrypt,
  aeadEncrypt,
  decryptFrame,
  deriveKeySalt,
  deriveKeySaltBytes,
  encodeHeader,
  encryptFrame,
  hkdfExtract,
  importAeadKey,
  importBaseKey,
  keyLabel,
  makeNonce,
  parseHeader,
  saltLabel,
  suiteById,
} from './sframe';

interface HeaderVector { kid: string; ctr: string; encoded: string }
interface AeadVector { cipher_suite: number; key: string; enc_key: string; auth_key: string; nonce: string; aad: string; pt: string; ct: string }
interface SFrameVector {
  cipher_suite: number; kid: string; ctr: string; base_key: string; sframe_key_label: string; sframe_salt_label: string;
  sframe_secret: string; sframe_key: string; sframe_salt: string; metadata: string; nonce: string; aad: string; pt: string; ct: string;
}
interface Vectors { header: HeaderVector[]; aes_ctr_hmac: AeadVector[]; aes_256_ctr_hmac: AeadVector[]; sframe: SFrameVector[] }

// 64-bit integers would lose precision as JS numbers: quote them first
const vectors = JSON.parse(raw.replace(/"(kid|ctr)":\s*(\d+)/g, '"$1":"$2"')) as Vectors;

describe('RFC 9605 header (§4.3)', () => {
  it('has the vectors', () => expect(vectors.header.length).toBeGreaterThan(200));

  it.each(vectors.header.map((v) => [v.kid, v.ctr, v.encoded] as const))('KID %s CTR %s → %s', (kid, ctr, encoded) => {
    const h = encodeHeader(BigInt(kid), BigInt(ctr));
    expect(toHex(h)).toBe(encoded);
    const parsed = parseHeader(concat(h, new Uint8Array([0xaa, 0xbb])));
    expect(parsed).toEqual({ kid: BigInt(kid), ctr: BigInt(ctr), length: h.length });
  });

  it('refuses truncated and non-minimal headers', () => {
    expect(parseHeader(new Uint8Array(0))).toBeNull();
    expect(parseHeader(fromHex('80'))).toBeNull(); // KID length 1, no KID byte
    expect(parseHeader(fromHex('0f01020304050607'))).toBeNull(); // CTR needs 8 bytes
    expect(parseHeader(fromHex('8005'))).toBeNull(); // KID 5 must sit in the config byte
    expect(parseHeader(fromHex('900012'))).toBeNull(); // KID 0x12 in two bytes
    expect(parseHeader(fromHex('0803'))).toBeNull(); // CTR 3 must sit in the config byte
  });

  it('refuses values beyond 64 bits', () => {
    expect(() => encodeHeader(1n << 64n, 0n)).toThrow(RangeError);
    expect(() => encodeHeader(0n, -1n)).toThrow(RangeError);
  });
});

describe('RFC 9605 AES-CTR + HMAC AEAD (§4.5.1)', () => {
  const all = [...vectors.aes_ctr_hmac, ...vectors.aes_256_ctr_hmac];
  it.each(all.map((v) => [v.cipher_suite, v] as const))('suite %i', async (_id, v) => {
    const key = fromHex(v.key);
    const enc = fromHex(v.enc_key);
    const nka = enc.length;
    expect(toHex(key.subarray(0, nka))).toBe(v.enc_key);
    expect(toHex(key.subarray(nka))).toBe(v.auth_key);
    const nt = fromHex(v.ct).length - fromHex(v.pt).length;
    // suites 1–3 are RFC 9605's; 6–8 (AES-256, SHA-512) are extra vectors in
    // the same file, checked through the same AEAD with their parameters
    const suite = suiteById(v.cipher_suite) ?? {
      id: v.cipher_suite, name: 'extra', hash: 'SHA-512' as const, nh: 64, nk: key.length, nn: 12, nt, nka,
    };
    expect(suite.nt).toBe(nt);
    const k = await importAeadKey(suite, key);
    const ct = await aeadEncrypt(suite, k, fromHex(v.nonce), fromHex(v.aad), fromHex(v.pt));
    expect(toHex(ct)).toBe(v.ct);
    const pt = await aeadDecrypt(suite, k, fromHex(v.nonce), fromHex(v.aad), fromHex(v.ct));
    expect(pt && toHex(pt)).toBe(v.pt);
    const bad = fromHex(v.ct);
    bad[0]! ^= 1;
    expect(await aeadDecrypt(suite, k, fromHex(v.nonce), fromHex(v.aad), bad)).toBeNull();
  });
});

describe('RFC 9605 SFrame encryption (§4.4)', () => {
  it('covers every suite we implement, among them AES_128_GCM_SHA256_128', () => {
    const ids = new Set(vectors.sframe.map((v) => v.cipher_suite));
    for (const s of SUITES) expect(ids.has(s.id)).toBe(true);
    expect(ids.has(AES_128_GCM_SHA256_128.id)).toBe(true);
  });

  it.each(vectors.sframe.map((v) => [suiteById(v.cipher_suite)?.name ?? String(v.cipher_suite), v] as const))(
    '%s',
    async (_name, v) => {
      const suite = suiteById(v.cipher_suite)!;
      const kid = BigInt(v.kid);
      const ctr = BigInt(v.ctr);
      const metadata = fromHex(v.metadata);

      expect(toHex(keyLabel(suite, kid))).toBe(v.sframe_key_label);
      expect(toHex(saltLabel(suite, kid))).toBe(v.sframe_salt_label);
      expect(toHex(await hkdfExtract(suite, new Uint8Array(0), fromHex(v.base_key)))).toBe(v.sframe_secret);

      const baseKey = await importBaseKey(fromHex(v.base_key));
      expect(baseKey.extractable).toBe(false);
      const raw = await deriveKeySaltBytes(suite, baseKey, kid);
      expect(toHex(raw.key)).toBe(v.sframe_key);
      expect(toHex(raw.salt)).toBe(v.sframe_salt);

      const k = await deriveKeySalt(suite, baseKey, kid);
      expect(k.enc.extractable).toBe(false);
      expect(toHex(k.salt)).toBe(v.sframe_salt);
      expect(toHex(makeNonce(k.salt, ctr))).toBe(v.nonce);
      expect(toHex(concat(encodeHeader(kid, ctr), metadata))).toBe(v.aad);

      const ct = await encryptFrame(k, ctr, fromHex(v.pt), metadata);
      expect(toHex(ct)).toBe(v.ct);

      const opened = await decryptFrame(() => k, fromHex(v.ct), metadata);
      expect(opened && toHex(opened.plaintext)).toBe(v.pt);
      expect(opened?.kid).toBe(kid);
      expect(opened?.ctr).toBe(ctr);

      // anything else is dropped: other metadata, a flipped bit, a cut frame, no key
      expect(await decryptFrame(() => k, fromHex(v.ct), new Uint8Array(0))).toBeNull();
      const flipped = fromHex(v.ct);
      flipped[flipped.length - 1]! ^= 0x80;
      expect(await decryptFrame(() => k, flipped, metadata)).toBeNull();
      expect(await decryptFrame(() => k, fromHex(v.ct).subarray(0, 8), metadata)).toBeNull();
      expect(await decryptFrame(() => null, fromHex(v.ct), metadata)).toBeNull();
    },
  );
});
