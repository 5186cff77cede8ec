/*
 * The invite proof (docs/protocol.md, "End-to-end encryption"; DESIGN.md §4).
 *
 * A guest who opened the full link holds INVITE, the 32-byte secret of the
 * link's fragment, which the server never sees. With its KeyPackage it sends
 *
 *     key   = HKDF-SHA256(ikm = INVITE, salt = "conclave", info = "invite proof key"), 32 bytes
 *     proof = HMAC-SHA256(key, "conclave invite proof v1" || room id (ASCII) || KeyPackage bytes)
 *
 * as unpadded base64url. "KeyPackage bytes" are exactly the bytes sent in the
 * `keypackage` field (the TLS-encoded MLSMessage, before base64url). Members
 * who hold INVITE recompute it and add the guest without any host action.
 * The proof binds the room and that very KeyPackage, so a proof copied from
 * another guest, or from another meeting, does not verify.
 *
 * The key is derived into a non-extractable HMAC CryptoKey; INVITE itself is
 * only read here and never stored. Verification is WebCrypto's HMAC verify,
 * which compares in constant time.
 */
import { base64urlDecode, base64urlEncode } from '../util/base64url';
import { type Bytes, bytes, concat, utf8 } from './bytes';
import { INVITE_BYTES } from './invite';

const PROOF_SALT = 'conclave';
const PROOF_INFO = 'invite proof key';
const PROOF_LABEL = 'conclave invite proof v1';
/** HMAC-SHA256 output: the proof is 32 bytes, 43 base64url characters. */
export const PROOF_BYTES = 32;

/** The proof key from INVITE's 32 bytes. */
export async function deriveProofKey(invite: Uint8Array): Promise<CryptoKey> {
  if (invite.length !== INVITE_BYTES) throw new RangeError('the invite secret has 32 bytes');
  const ikm = await crypto.subtle.importKey('raw', bytes(invite), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8(PROOF_SALT), info: utf8(PROOF_INFO) },
    ikm,
    { name: 'HMAC', hash: 'SHA-256', length: PROOF_BYTES * 8 },
    false,
    ['sign', 'verify'],
  );
}

/** The proof key from INVITE as it appears in the link (base64url); null if malformed. */
export async function proofKeyFromInvite(invite: string): Promise<CryptoKey | null> {
  const raw = base64urlDecode(invite);
  if (!raw || raw.length !== INVITE_BYTES) return null;
  try {
    return await deriveProofKey(raw);
  } finally {
    raw.fill(0);
  }
}

function proofInput(roomId: string, keyPackage: Uint8Array): Bytes {
  if (!/^[\x20-\x7e]*$/.test(roomId)) throw new RangeError('room ids are ASCII');
  return concat(utf8(PROOF_LABEL), utf8(roomId), keyPackage);
}

/** proof for a KeyPackage in a room, as base64url. */
export async function makeProof(key: CryptoKey, roomId: string, keyPackage: Uint8Array): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', key, proofInput(roomId, keyPackage));
  return base64urlEncode(new Uint8Array(mac));
}

/** True only for the proof of exactly this room and KeyPackage under this key. */
export async function verifyProof(
  key: CryptoKey,
  roomId: string,
  keyPackage: Uint8Array,
  proof: string | null | undefined,
): Promise<boolean> {
  if (typeof proof !== 'string') return false;
  const mac = base64urlDecode(proof);
  if (!mac || mac.length !== PROOF_BYTES) return false;
  return crypto.subtle.verify('HMAC', key, bytes(mac), proofInput(roomId, keyPackage));
}
