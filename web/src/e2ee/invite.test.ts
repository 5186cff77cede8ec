import { describe, expect, it } from 'vitest';
import { base64urlDecode } from '../util/base64url';
import { INVITE_BYTES, newInviteSecret } from './invite';

describe('invite secret', () => {
  it('is 32 random bytes as 43 characters of canonical base64url', () => {
    const s = newInviteSecret();
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(base64urlDecode(s)?.length).toBe(INVITE_BYTES);
  });

  it('is fresh each time', () => {
    const seen = new Set(Array.from({ length: 50 }, () => newInviteSecret()));
    expect(seen.size).toBe(50);
  });

  it('encodes exactly the bytes the random source gave, and wipes its buffer', () => {
    let given: Uint8Array | null = null;
    const s = newInviteSecret((buf) => {
      expect(buf.length).toBe(32);
      buf.fill(0xab);
      given = buf;
    });
    expect(base64urlDecode(s)).toEqual(new Uint8Array(32).fill(0xab));
    expect(given).toEqual(new Uint8Array(32)); // zeroed after use
  });
});
