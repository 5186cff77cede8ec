import { describe, expect, it } from 'vitest';
import { linkFromStats, NET_MIN_INTERVAL_MS, netLevel, NetReporter } from './netQuality';

describe('network quality', () => {
  it('reads round trip, loss and the outgoing estimate from a stats report', () => {
    const report = [
      { type: 'candidate-pair', nominated: false, state: 'succeeded', currentRoundTripTime: 0.9 },
      { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.042, availableOutgoingBitrate: 1_200_000 },
      { type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.05, fractionLost: 0.01 },
      { type: 'remote-inbound-rtp', kind: 'video', roundTripTime: 0.06, fractionLost: 0.04 },
      { type: 'outbound-rtp', kind: 'video' },
      null,
    ];
    expect(linkFromStats(report)).toEqual({ rttMs: 42, lossFraction: 0.04, outBitrate: 1_200_000 });
    // without a selected pair the RTCP round trip serves
    expect(linkFromStats([{ type: 'remote-inbound-rtp', roundTripTime: 0.25 }])).toEqual({ rttMs: 250, lossFraction: null, outBitrate: null });
    expect(linkFromStats([])).toEqual({ rttMs: null, lossFraction: null, outBitrate: null });
  });

  it('rates a link by the worst of what is known', () => {
    expect(netLevel({ rttMs: 40, lossFraction: 0, outBitrate: 2_000_000 })).toBe(3);
    expect(netLevel({ rttMs: 200, lossFraction: 0, outBitrate: 2_000_000 })).toBe(2);
    expect(netLevel({ rttMs: 40, lossFraction: 0.08, outBitrate: 2_000_000 })).toBe(1);
    expect(netLevel({ rttMs: 40, lossFraction: 0, outBitrate: 20_000 })).toBe(0);
    expect(netLevel({ rttMs: 700, lossFraction: null, outBitrate: null })).toBe(0);
    expect(netLevel({ rttMs: null, lossFraction: 0.03, outBitrate: null })).toBe(2);
    expect(netLevel({ rttMs: null, lossFraction: null, outBitrate: null })).toBeNull();
    // the boundaries belong to the better level
    expect(netLevel({ rttMs: 150, lossFraction: 0.02, outBitrate: 300_000 })).toBe(3);
  });

  it('reports a change at most every 2 s, and repeats for newcomers', () => {
    const r = new NetReporter();
    expect(r.sample(null, 0)).toBeNull();
    expect(r.sample(3, 0)).toBe(3);
    r.sent(3, 0);
    expect(r.sample(3, 5000)).toBeNull(); // unchanged
    expect(r.sample(1, 1000)).toBeNull(); // changed, but too soon
    expect(r.sample(1, NET_MIN_INTERVAL_MS)).toBe(1);
    r.sent(1, NET_MIN_INTERVAL_MS);
    r.repeat();
    expect(r.sample(1, NET_MIN_INTERVAL_MS + 100)).toBeNull();
    expect(r.sample(1, 2 * NET_MIN_INTERVAL_MS)).toBe(1);
    r.sent(1, 2 * NET_MIN_INTERVAL_MS);
    expect(r.sample(1, 10 * NET_MIN_INTERVAL_MS)).toBeNull();
  });
});
