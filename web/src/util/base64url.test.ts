import { describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode, base64urlLength, isBase64urlOfLength } from './base64url';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Reference encoding through the platform's btoa. */
function viaBtoa(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

describe('base64url', () => {
  it('matches the RFC 4648 §10 vectors without padding', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, enc] of vectors) {
      expect(base64urlEncode(ascii(plain))).toBe(enc);
      expect(base64urlDecode(enc)).toEqual(ascii(plain));
    }
  });

  it('uses the URL-safe alphabet', () => {
    expect(base64urlEncode(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(base64urlDecode('-_8')).toEqual(new Uint8Array([0xfb, 0xff]));
  });

  it('agrees with btoa on random inputs of every length up to 64', () => {
    for (let n = 0; n <= 64; n++) {
      const b = crypto.getRandomValues(new Uint8Array(n));
      const enc = base64urlEncode(b);
      expect(enc).toBe(viaBtoa(b));
      expect(enc.length).toBe(base64urlLength(n));
      expect(base64urlDecode(enc)).toEqual(b);
    }
  });

  it('rejects padding, standard alphabet, whitespace and impossible lengths', () => {
    for (const bad of ['Zg==', 'Zm9v+A', 'Zm9v/A', 'Zm 9v', 'Z', 'Zm9vY', 'Zm9v\n', 'Zé', '%41AA']) {
      expect(base64urlDecode(bad), bad).toBeNull();
    }
  });

  it('rejects non-canonical trailing bits', () => {
    expect(base64urlDecode('Zg')).not.toBeNull();
    expect(base64urlDecode('Zh')).toBeNull(); // 'f' with a stray low bit
    expect(base64urlDecode('Zm8')).not.toBeNull();
    expect(base64urlDecode('Zm9')).toBeNull();
  });

  it('checks exact byte lengths', () => {
    const room = base64urlEncode(new Uint8Array(16).fill(7));
    expect(room.length).toBe(22);
    expect(isBase64urlOfLength(room, 16)).toBe(true);
    expect(isBase64urlOfLength(room, 32)).toBe(false);
    expect(isBase64urlOfLength(room.slice(1), 16)).toBe(false);
    const secret = base64urlEncode(new Uint8Array(32).fill(255));
    expect(secret.length).toBe(43);
    expect(isBase64urlOfLength(secret, 32)).toBe(true);
  });
});
