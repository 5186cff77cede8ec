import { describe, expect, it } from 'vitest';
import { inboundByMid, parseOfferSlots, RemoteBindings, statsByParticipant } from './remote';

/** A subscribe offer as the server writes it (src/room/media.c, offer_now). */
function offer(slots: ReadonlyArray<{ kind: 'audio' | 'video'; stream?: string; track?: string; ssrc?: number }>): string {
  const lines = ['v=0', 'o=- 1 2 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=ice-lite', `a=group:BUNDLE ${slots.map((_, i) => `s${i}`).join(' ')}`, 'a=msid-semantic: WMS *'];
  slots.forEach((s, i) => {
    lines.push(s.kind === 'audio' ? 'm=audio 10000 UDP/TLS/RTP/SAVPF 111' : 'm=video 10000 UDP/TLS/RTP/SAVPF 96');
    lines.push('c=IN IP4 10.77.0.1', `a=mid:s${i}`, s.stream ? 'a=sendonly' : 'a=inactive', 'a=rtcp-mux');
    if (s.stream) {
      lines.push(`a=msid:${s.stream} ${s.track ?? 't1'}`);
      lines.push(`a=ssrc:${s.ssrc ?? 1000 + i} cname:${s.stream}`, `a=ssrc:${s.ssrc ?? 1000 + i} msid:${s.stream} ${s.track ?? 't1'}`);
    }
  });
  return lines.join('\r\n') + '\r\n';
}

describe('subscribe offer slots', () => {
  it('reads mid, kind, direction, msid and SSRC of every m-line', () => {
    const slots = parseOfferSlots(
      offer([
        { kind: 'audio', stream: 'AAAAAAAAAAA', track: 't5', ssrc: 111 },
        { kind: 'video', stream: 'AAAAAAAAAAA', track: 't6', ssrc: 222 },
        { kind: 'video' },
      ]),
    );
    expect(slots).toEqual([
      { mid: 's0', kind: 'audio', active: true, stream: 'AAAAAAAAAAA', track: 't5', ssrcs: [111] },
      { mid: 's1', kind: 'video', active: true, stream: 'AAAAAAAAAAA', track: 't6', ssrcs: [222] },
      { mid: 's2', kind: 'video', active: false, stream: null, track: null, ssrcs: [] },
    ]);
  });

  it('takes the stream from a=ssrc msid when there is no a=msid, and treats port 0 as inactive', () => {
    const sdp = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:v', 'a=sendonly', 'a=ssrc:4294967295 msid:BBB t9', 'm=audio 0 UDP/TLS/RTP/SAVPF 111', 'a=mid:a', 'a=sendonly', 'a=msid:CCC t1'].join('\n');
    expect(parseOfferSlots(sdp)).toEqual([
      { mid: 'v', kind: 'video', active: true, stream: 'BBB', track: 't9', ssrcs: [4294967295] },
      { mid: 'a', kind: 'audio', active: false, stream: 'CCC', track: 't1', ssrcs: [] },
    ]);
  });

  it('uses the session-level direction when a section has none; "-" is no stream', () => {
    const sdp = ['v=0', 'a=inactive', 'm=audio 9 RTP/AVP 0', 'a=mid:0', 'a=msid:- t', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:1', 'a=sendrecv'].join('\r\n');
    expect(parseOfferSlots(sdp)).toEqual([
      { mid: '0', kind: 'audio', active: false, stream: null, track: 't', ssrcs: [] },
      { mid: '1', kind: 'other', active: true, stream: null, track: null, ssrcs: [] },
    ]);
  });

  it('survives garbage', () => {
    expect(parseOfferSlots('')).toEqual([]);
    expect(parseOfferSlots('a=ssrc:x\nm=\na=ssrc:99999999999 msid:X t\na=ssrc:\n')).toEqual([
      { mid: '', kind: 'other', active: false, stream: null, track: null, ssrcs: [] },
    ]);
  });
});

describe('slot bindings', () => {
  const A = 'AAAAAAAAAAA';
  const B = 'BBBBBBBBBBB';
  const C = 'CCCCCCCCCCC';

  it('binds active slots to their publishers and reports who changed', () => {
    const b = new RemoteBindings();
    expect(b.apply(parseOfferSlots(offer([{ kind: 'audio', stream: A, ssrc: 1 }, { kind: 'video', stream: A, ssrc: 2 }])))).toEqual([A]);
    expect(b.slotsOf(A).map((x) => [x.mid, x.kind])).toEqual([
      ['s0', 'audio'],
      ['s1', 'video'],
    ]);
    expect(b.participantOfSsrc(2)).toBe(A);
    expect(b.ofMid('s1')?.participant).toBe(A);
    // B arrives: A is unchanged, so only B is reported.
    const two = offer([
      { kind: 'audio', stream: A, ssrc: 1 },
      { kind: 'video', stream: A, ssrc: 2 },
      { kind: 'audio', stream: B, ssrc: 3 },
      { kind: 'video', stream: B, ssrc: 4 },
    ]);
    expect(b.apply(parseOfferSlots(two))).toEqual([B]);
    expect(b.participants()).toEqual([A, B]);
    // The same offer again changes nothing.
    expect(b.apply(parseOfferSlots(two))).toEqual([]);
  });

  it('follows a slot from one owner to the next (inactive, then reused with a new msid and SSRC)', () => {
    const b = new RemoteBindings();
    b.apply(parseOfferSlots(offer([{ kind: 'audio', stream: A, ssrc: 1 }, { kind: 'video', stream: A, ssrc: 2 }])));
    // A left: its slots turn inactive.
    expect(b.apply(parseOfferSlots(offer([{ kind: 'audio' }, { kind: 'video' }])))).toEqual([A]);
    expect(b.slotsOf(A)).toEqual([]);
    expect(b.participantOfSsrc(1)).toBeNull();
    expect(b.ofMid('s0')).toBeNull();
    // C reuses them.
    expect(b.apply(parseOfferSlots(offer([{ kind: 'audio', stream: C, ssrc: 5 }, { kind: 'video', stream: C, ssrc: 6 }])))).toEqual([C]);
    expect(b.ofMid('s1')?.participant).toBe(C);
    expect(b.participantOfSsrc(2)).toBeNull();
    expect(b.participantOfSsrc(6)).toBe(C);
  });

  it('reports both owners when a slot changes hands within one offer', () => {
    const b = new RemoteBindings();
    b.apply(parseOfferSlots(offer([{ kind: 'video', stream: A, ssrc: 2 }])));
    expect(b.apply(parseOfferSlots(offer([{ kind: 'video', stream: B, ssrc: 9 }])))).toEqual([A, B]);
  });

  it('knows camera from screen: by the tracks of the offer message, else by order', () => {
    const b = new RemoteBindings();
    const sdp = parseOfferSlots(offer([{ kind: 'audio', stream: A }, { kind: 'video', stream: A }, { kind: 'video', stream: B }, { kind: 'video', stream: A }]));
    // no tracks: A's second video is its screen
    b.apply(sdp);
    expect([b.midOf(A, 'microphone'), b.midOf(A, 'camera'), b.midOf(A, 'screen'), b.midOf(B, 'camera'), b.midOf(B, 'screen')]).toEqual(['s0', 's1', 's3', 's2', null]);
    // the server says A shares its screen on s1 and its camera came later (s3): it decides
    const told = {
      s0: { participant: A, source: 'microphone' as const, track: 't1' },
      s1: { participant: A, source: 'screen' as const, track: 't2' },
      s2: { participant: B, source: 'camera' as const, track: 't3' },
      s3: { participant: A, source: 'camera' as const, track: 't4' },
    };
    expect(b.apply(sdp, told)).toEqual([A]);
    expect([b.midOf(A, 'camera'), b.midOf(A, 'screen')]).toEqual(['s3', 's1']);
    expect(b.ofMid('s1')?.source).toBe('screen');
    // a source that contradicts the m-line's kind is not believed
    b.apply(sdp, { ...told, s0: { participant: A, source: 'camera', track: 't1' } });
    expect(b.ofMid('s0')?.source).toBe('microphone');
  });

  it('clear() forgets everyone and says who was there', () => {
    const b = new RemoteBindings();
    b.apply(parseOfferSlots(offer([{ kind: 'video', stream: B, ssrc: 2 }, { kind: 'audio', stream: A, ssrc: 3 }])));
    expect(b.clear()).toEqual([A, B]);
    expect(b.participants()).toEqual([]);
  });
});

describe('statistics per participant', () => {
  const owners = new Map<number, string>([
    [1, 'A'],
    [2, 'A'],
    [3, 'B'],
  ]);
  const owner = (ssrc: number): string | null => owners.get(ssrc) ?? null;

  it('sums video frames decoded and audio bytes received by SSRC owner', () => {
    const reports = [
      { type: 'inbound-rtp', kind: 'audio', ssrc: 1, bytesReceived: 500 },
      { type: 'inbound-rtp', kind: 'video', ssrc: 2, framesDecoded: 30, bytesReceived: 90000 },
      { type: 'inbound-rtp', kind: 'video', ssrc: 3, framesDecoded: 7 },
      { type: 'inbound-rtp', kind: 'video', ssrc: 77, framesDecoded: 1000 }, // a slot's previous owner
      { type: 'outbound-rtp', kind: 'video', ssrc: 1, framesEncoded: 5 },
      { type: 'transport', bytesReceived: 1 },
      null,
      'x',
    ];
    const s = statsByParticipant(reports, owner, ['A', 'B', 'C']);
    expect({ ...s }).toEqual({
      A: { framesDecoded: 30, audioBytesReceived: 500 },
      B: { framesDecoded: 7, audioBytesReceived: 0 },
      C: { framesDecoded: 0, audioBytesReceived: 0 },
    });
  });

  it('understands the older mediaType field', () => {
    const s = statsByParticipant([{ type: 'inbound-rtp', mediaType: 'audio', ssrc: 3, bytesReceived: 12 }], owner);
    expect(s['B']).toEqual({ framesDecoded: 0, audioBytesReceived: 12 });
  });
});

describe('receive counters per m-line', () => {
  it('names each bound m-line with its participant and source, zeros where nothing arrived, and leaves the rest out', () => {
    const b = new RemoteBindings();
    b.apply(parseOfferSlots(offer([{ kind: 'audio', stream: 'A' }, { kind: 'video', stream: 'A' }, { kind: 'video', stream: 'A' }, { kind: 'video' }])));
    const report = [
      { type: 'inbound-rtp', mid: 's2', kind: 'video', framesDecoded: 40, bytesReceived: 9000 },
      { type: 'inbound-rtp', mid: 's0', kind: 'audio', bytesReceived: 500 },
      { type: 'inbound-rtp', mid: 's3', kind: 'video', framesDecoded: 1 },
      { type: 'outbound-rtp', mid: 's1' },
    ];
    // s2 was someone else's before: its old entry (SSRC 77) does not count
    const withOld = [{ type: 'inbound-rtp', mid: 's2', kind: 'video', ssrc: 1002, framesDecoded: 40, bytesReceived: 9000 }, { type: 'inbound-rtp', mid: 's2', kind: 'video', ssrc: 77, framesDecoded: 999 }];
    expect(inboundByMid(withOld, b.all(), (ssrc) => b.participantOfSsrc(ssrc)).find((x) => x.mid === 's2')?.framesDecoded).toBe(40);
    expect(inboundByMid([...withOld].reverse(), b.all(), (ssrc) => b.participantOfSsrc(ssrc)).find((x) => x.mid === 's2')?.framesDecoded).toBe(40);
    expect(inboundByMid(report, b.all())).toEqual([
      { mid: 's0', participant: 'A', source: 'microphone', kind: 'audio', framesDecoded: 0, bytesReceived: 500 },
      { mid: 's1', participant: 'A', source: 'camera', kind: 'video', framesDecoded: 0, bytesReceived: 0 },
      { mid: 's2', participant: 'A', source: 'screen', kind: 'video', framesDecoded: 40, bytesReceived: 9000 },
    ]);
  });
});
