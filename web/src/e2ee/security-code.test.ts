import { describe, expect, it } from 'vitest';
import { securityCode } from './security-code';

describe('security code', () => {
  it('renders SHA-256("conclave security code v1" || authenticator) as 6 groups of 5 digits', async () => {
    // known answers computed independently (Python hashlib)
    expect(await securityCode(new Uint8Array(32))).toBe('77334 36271 96703 18226 76771 59499');
    expect(await securityCode(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe('55322 13315 68219 45951 40841 46524');
  });

  it('differs when the authenticator differs', async () => {
    const a = crypto.getRandomValues(new Uint8Array(32));
    const b = new Uint8Array(a);
    b[0]! ^= 1;
    const [ca, cb] = [await securityCode(a), await securityCode(b)];
    expect(ca).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(ca).not.toBe(cb);
  });
});
