/*
 * The security code every member shows (DESIGN.md §5, hook `security-code`).
 *
 * MLS gives every epoch an epoch_authenticator (RFC 9420 §8.7) that all
 * members of that epoch share and nobody else can compute. Members compare
 * a short rendering of it aloud or side by side: if the server had split
 * the group or slipped in a member, the codes would differ.
 *
 *     digest = SHA-256("conclave security code v1" || epoch_authenticator)
 *     code   = 6 groups of 5 digits; group i = uint40(digest[5i .. 5i+5]) mod 100000
 *
 * Each group is a 40-bit big-endian slice reduced mod 10^5 (the bias of
 * 2^40 mod 10^5 is negligible), so the 30 digits carry about 99.6 bits: far
 * beyond what an attacker could match by trying, while still readable aloud
 * ("48213 90571 …"). The code changes with every epoch.
 */
import { concat, utf8 } from './bytes';

const LABEL = 'conclave security code v1';
export const SECURITY_CODE_GROUPS = 6;
const GROUP_BYTES = 5;

export async function securityCode(epochAuthenticator: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(utf8(LABEL), epochAuthenticator)));
  const groups: string[] = [];
  for (let g = 0; g < SECURITY_CODE_GROUPS; g++) {
    let v = 0;
    for (let i = 0; i < GROUP_BYTES; i++) v = v * 256 + digest[g * GROUP_BYTES + i]!;
    groups.push(String(v % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}
