/*
 * The invite secret (DESIGN.md §4): 256 random bits made in the browser that
 * creates a meeting, carried only in the link's fragment (which browsers never
 * send to a server) and kept only in memory. Later it keys the proof that
 * lets members admit a newcomer automatically; the server never sees it.
 *
 * Never log it, never put it in storage, never send it in a message.
 */
import { base64urlEncode } from '../util/base64url';

export const INVITE_BYTES = 32;

export type RandomFill = (buf: Uint8Array) => void;

const cryptoFill: RandomFill = (buf) => {
  crypto.getRandomValues(buf);
};

/** A fresh invite secret as unpadded base64url (43 characters). */
export function newInviteSecret(fill: RandomFill = cryptoFill): string {
  const bytes = new Uint8Array(INVITE_BYTES);
  fill(bytes);
  const text = base64urlEncode(bytes);
  bytes.fill(0);
  return text;
}
