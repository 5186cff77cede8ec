/*
 * Anti-replay for received SFrame frames (RFC 9605 §9.3 leaves it to the
 * application; here the SFU is the party that could replay, and it must
 * not be able to show a member's old frames again as new).
 *
 * One sliding window per sender counter space: a sender's counters only
 * grow, but its frames reach us through several receivers (audio, camera,
 * screen) that run at their own pace, so a frame may come after frames
 * with higher counters. A counter is accepted once: above everything seen
 * so far, or within REPLAY_WINDOW below the highest and not seen before.
 * Only counters of frames that decrypted are recorded (a forged frame
 * cannot move the window), and the check is repeated when recording, so
 * two copies decrypted concurrently are not both accepted.
 */

/**
 * Counters kept below the highest one seen. A sender uses roughly 150
 * counters a second (audio, three simulcast layers, a screen): 4096 covers
 * a receiver running 25 s behind another, far more than any jitter buffer
 * or retransmission delays a frame.
 */
export const REPLAY_WINDOW = 4096;
const SPAN = BigInt(REPLAY_WINDOW);

export class ReplayWindow {
  /** Highest counter accepted (null: none yet). */
  private max: bigint | null = null;
  /** Bit (ctr mod REPLAY_WINDOW) set: that counter was accepted. */
  private readonly seen = new Uint32Array(REPLAY_WINDOW / 32);

  /** Whether `ctr` would be accepted now (too old or already seen: false). */
  check(ctr: bigint): boolean {
    if (this.max === null || ctr > this.max) return true;
    const behind = this.max - ctr;
    if (behind >= SPAN) return false;
    return !this.bit(ctr);
  }

  /** Records `ctr` if it is acceptable; returns whether it was. */
  accept(ctr: bigint): boolean {
    if (!this.check(ctr)) return false;
    if (this.max === null || ctr > this.max) {
      // the counters passed over leave the window's slots they reuse clear
      const start = this.max === null ? ctr : this.max + 1n;
      if (ctr - start >= SPAN) this.seen.fill(0);
      else for (let c = start; c < ctr; c++) this.set(c, false);
      this.max = ctr;
    }
    this.set(ctr, true);
    return true;
  }

  private bit(ctr: bigint): boolean {
    const i = Number(ctr % SPAN);
    return ((this.seen[i >> 5]! >>> (i & 31)) & 1) === 1;
  }

  private set(ctr: bigint, on: boolean): void {
    const i = Number(ctr % SPAN);
    if (on) this.seen[i >> 5]! |= 1 << (i & 31);
    else this.seen[i >> 5]! &= ~(1 << (i & 31));
  }
}
