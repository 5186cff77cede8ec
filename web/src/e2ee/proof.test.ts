import { describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../util/base64url';
import { concat, toHex, utf8 } from './bytes';
import { newInviteSecret } from './invite';
import { deriveProofKey, makeProof, proofKeyFromInvite, verifyProof } from './proof';

const ROOM = 'AAAAAAAAAAAAAAAAAAAAAA';
const OTHER_ROOM = 'BBBBBBBBBBBBBBBBBBBBBB';
const kpA = crypto.getRandomValues(new Uint8Array(300));
const kpB = crypto.getRandomValues(new Uint8Array(300));

async function key(invite = newInviteSecret()): Promise<CryptoKey> {
  return (await proofKeyFromInvite(invite))!;
}

describe('invite proof', () => {
  it('is exactly HMAC-SHA256(HKDF(INVITE, "conclave", "invite proof key"), label || room || KeyPackage)', async () => {
    const invite = new Uint8Array(32).fill(7);
    // the same computation spelled out with WebCrypto primitives
    const ikm = await crypto.subtle.importKey('raw', invite, 'HKDF', false, ['deriveBits']);
    const k = new Uint8Array(
      await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: utf8('conclave'), info: utf8('invite proof key') }, ikm, 256),
    );
    const hk = await crypto.subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = await crypto.subtle.sign('HMAC', hk, concat(utf8('conclave invite proof v1'), utf8(ROOM), kpA));
    const proof = await makeProof(await deriveProofKey(invite), ROOM, kpA);
    expect(toHex(base64urlDecode(proof)!)).toBe(toHex(new Uint8Array(mac)));
    expect(proof).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('verifies for the same secret, room and KeyPackage', async () => {
    const invite = newInviteSecret();
    const proof = await makeProof(await key(invite), ROOM, kpA);
    expect(await verifyProof(await key(invite), ROOM, kpA, proof)).toBe(true);
  });

  it('fails with a wrong secret', async () => {
    const proof = await makeProof(await key(), ROOM, kpA);
    expect(await verifyProof(await key(), ROOM, kpA, proof)).toBe(false);
  });

  it('fails in another room', async () => {
    const k = await key();
    expect(await verifyProof(k, OTHER_ROOM, kpA, await makeProof(k, ROOM, kpA))).toBe(false);
  });

  it("fails for another KeyPackage (a replay of another guest's proof)", async () => {
    const k = await key();
    const proofOfA = await makeProof(k, ROOM, kpA);
    expect(await verifyProof(k, ROOM, kpB, proofOfA)).toBe(false);
  });

  it('fails for missing, malformed or altered proofs', async () => {
    const k = await key();
    const proof = await makeProof(k, ROOM, kpA);
    expect(await verifyProof(k, ROOM, kpA, undefined)).toBe(false);
    expect(await verifyProof(k, ROOM, kpA, '')).toBe(false);
    expect(await verifyProof(k, ROOM, kpA, 'not base64url!')).toBe(false);
    expect(await verifyProof(k, ROOM, kpA, proof.slice(0, 42))).toBe(false);
    const bytes = base64urlDecode(proof)!;
    bytes[31]! ^= 1;
    expect(await verifyProof(k, ROOM, kpA, base64urlEncode(bytes))).toBe(false);
  });

  it('rejects a malformed invite secret and keeps the key non-extractable', async () => {
    expect(await proofKeyFromInvite('short')).toBeNull();
    expect((await key()).extractable).toBe(false);
  });
});
