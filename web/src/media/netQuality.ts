/*
 * The network-quality indicator (issue #7): each client rates its own link
 * to the server from the publish connection's statistics and tells the
 * group its level (an MLS application message {kind:'net', level}); every
 * tile and roster entry shows the level its member reported.
 *
 *   linkFromStats  a getStats() report → round trip (the selected
 *                  candidate pair's, else the remote-inbound-rtp one), the
 *                  worst loss fraction the server reports for our streams
 *                  (remote-inbound-rtp fractionLost, from its RTCP receiver
 *                  reports) and the congestion controller's outgoing
 *                  estimate (availableOutgoingBitrate).
 *   netLevel       0 (bad) … 3 (good): the worst of the three ratings below
 *                  that are known; null if none is.
 *   NetReporter    says when to send: when the level changed, or when asked
 *                  to repeat it for members who joined since, and never more
 *                  often than every NET_MIN_INTERVAL_MS.
 *
 * Thresholds (where they come from):
 *   round trip   150 / 300 / 600 ms: ITU-T G.114 puts the one-way delay at
 *                which conversation starts to suffer at 150 ms; a round
 *                trip of 150 ms keeps well inside it, 600 ms (300 ms each
 *                way) is where people talk over each other.
 *   loss         2 / 5 / 10 %: Opus with in-band FEC and video with NACK
 *                hide a couple of percent; past 10 % speech breaks up.
 *   outgoing     300 / 150 / 50 kbit/s: the lowest camera layer (150 kbit/s,
 *                media/simulcast.ts) with audio, that layer alone, and
 *                audio alone (Opus speech ≈ 32 kbit/s).
 */
import type { NetLevel } from '../e2ee/session';

/** How often a client measures, and the least time between two reports to the group (the brief's 2 s). */
export const NET_MIN_INTERVAL_MS = 2_000;

export interface LinkSample {
  readonly rttMs: number | null;
  readonly lossFraction: number | null;
  readonly outBitrate: number | null;
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : null);

export function linkFromStats(reports: Iterable<unknown>): LinkSample {
  let pairRtt: number | null = null;
  let remoteRtt: number | null = null;
  let loss: number | null = null;
  let out: number | null = null;
  for (const r of reports) {
    if (typeof r !== 'object' || r === null) continue;
    const s = r as Record<string, unknown>;
    if (s['type'] === 'candidate-pair' && s['nominated'] === true && s['state'] === 'succeeded') {
      pairRtt = num(s['currentRoundTripTime']) ?? pairRtt;
      out = num(s['availableOutgoingBitrate']) ?? out;
    } else if (s['type'] === 'remote-inbound-rtp') {
      const rtt = num(s['roundTripTime']);
      if (rtt !== null) remoteRtt = Math.max(remoteRtt ?? 0, rtt);
      const fl = num(s['fractionLost']);
      if (fl !== null) loss = Math.max(loss ?? 0, Math.min(1, fl));
    }
  }
  const rtt = pairRtt ?? remoteRtt;
  return { rttMs: rtt === null ? null : rtt * 1000, lossFraction: loss, outBitrate: out };
}

function rate(value: number | null, good: number, fair: number, poor: number, higherIsBetter: boolean): NetLevel | null {
  if (value === null) return null;
  const ok = (limit: number): boolean => (higherIsBetter ? value >= limit : value <= limit);
  if (ok(good)) return 3;
  if (ok(fair)) return 2;
  if (ok(poor)) return 1;
  return 0;
}

export function netLevel(s: LinkSample): NetLevel | null {
  const ratings = [
    rate(s.rttMs, 150, 300, 600, false),
    rate(s.lossFraction, 0.02, 0.05, 0.1, false),
    rate(s.outBitrate, 300_000, 150_000, 50_000, true),
  ].filter((x): x is NetLevel => x !== null);
  if (ratings.length === 0) return null;
  return Math.min(...ratings) as NetLevel;
}

export class NetReporter {
  #sent: NetLevel | null = null;
  #sentAt = -Infinity;
  #repeat = false;

  /** Members joined: tell them the level at the next chance. */
  repeat(): void {
    this.#repeat = true;
  }

  /** The level measured now: the level to send, or null to send nothing. */
  sample(level: NetLevel | null, now: number): NetLevel | null {
    if (level === null) return null;
    if (level === this.#sent && !this.#repeat) return null;
    if (now - this.#sentAt < NET_MIN_INTERVAL_MS) return null;
    return level;
  }

  /** The level went out (only then does it count as told). */
  sent(level: NetLevel, now: number): void {
    this.#sent = level;
    this.#sentAt = now;
    this.#repeat = false;
  }
}
