import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MediaKind } from './local';
import {
  DISCONNECTED_GRACE_MS,
  MediaTransport,
  PC_CONFIG,
  RESTART_RETRY_MS,
  preferredVideoCodecs,
  type FrameCrypto,
  type LocalSource,
  type MediaEnv,
  type MediaMessage,
} from './transport';

// ---- fakes of the browser's WebRTC ------------------------------------------------

class FakeTrack {
  readyState = 'live';
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {}
}

class FakeSender {
  replaced: Array<FakeTrack | null> = [];
  params: RTCRtpSendParameters = { transactionId: 't', codecs: [], headerExtensions: [], rtcp: {}, encodings: [] } as unknown as RTCRtpSendParameters;
  setCalls = 0;
  constructor(public track: FakeTrack | null) {}
  getParameters(): RTCRtpSendParameters {
    return this.params;
  }
  setParameters(p: RTCRtpSendParameters): Promise<void> {
    this.params = p;
    this.setCalls++;
    return Promise.resolve();
  }
  replaceTrack(t: FakeTrack | null): Promise<void> {
    this.track = t;
    this.replaced.push(t);
    return Promise.resolve();
  }
}

class FakeTransceiver {
  readonly sender: FakeSender;
  readonly receiver: { track: FakeTrack };
  codecPrefs: RTCRtpCodec[] | null = null;
  setCodecPreferences(c: RTCRtpCodec[]): void {
    this.codecPrefs = c;
  }
  constructor(
    public mid: string | null,
    readonly kind: string,
    public direction: string,
    track: FakeTrack | null,
  ) {
    this.sender = new FakeSender(track);
    this.receiver = { track: new FakeTrack(kind, `recv-${mid ?? kind}`) };
  }
}

/** Records the calls; descriptions are applied as given, optionally held back by a gate. */
class FakePC {
  static all: FakePC[] = [];
  readonly calls: string[] = [];
  readonly transceivers: FakeTransceiver[] = [];
  iceConnectionState = 'new';
  signalingState = 'stable';
  localDescription: { type: string; sdp: string } | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  ontrack: ((ev: unknown) => void) | null = null;
  srdGate: Promise<void> | null = null;
  stats: unknown[] = [];
  restarts = 0;
  #offers = 0;

  constructor(readonly config: RTCConfiguration) {
    FakePC.all.push(this);
  }
  addTransceiver(track: FakeTrack, init: { direction: string; sendEncodings?: RTCRtpEncodingParameters[] }): FakeTransceiver {
    const t = new FakeTransceiver(null, track.kind, init.direction, track);
    if (init.sendEncodings) t.sender.params = { ...t.sender.params, encodings: init.sendEncodings };
    this.transceivers.push(t);
    this.calls.push(`addTransceiver ${track.kind} ${init.direction}`);
    return t;
  }
  getTransceivers(): FakeTransceiver[] {
    return this.transceivers;
  }
  restartIce(): void {
    this.restarts++;
  }
  async createOffer(opts: { iceRestart?: boolean }): Promise<{ type: string; sdp: string }> {
    this.#offers++;
    this.calls.push(`createOffer${opts.iceRestart ? ' iceRestart' : ''}`);
    return { type: 'offer', sdp: `offer ${this.#offers} ${this.transceivers.map((t) => t.kind).join(',')}` };
  }
  async createAnswer(): Promise<{ type: string; sdp: string }> {
    this.calls.push('createAnswer');
    return { type: 'answer', sdp: `answer to ${this.calls.length}` };
  }
  sldGate: Promise<void> | null = null;
  async setLocalDescription(d: { type: string; sdp?: string }): Promise<void> {
    this.calls.push(`setLocalDescription ${d.type}`);
    if (this.sldGate) await this.sldGate;
    if (d.type === 'rollback') {
      this.signalingState = 'stable';
      this.localDescription = null;
      return;
    }
    this.localDescription = { type: d.type, sdp: d.sdp ?? '' };
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
    this.transceivers.forEach((t, i) => {
      if (t.mid === null) t.mid = String(i);
    });
  }
  async setRemoteDescription(d: { type: string; sdp: string }): Promise<void> {
    this.calls.push(`setRemoteDescription ${d.type} ${d.sdp.split('\n')[0]}`);
    if (this.srdGate) await this.srdGate;
    if (d.sdp.includes('BROKEN')) throw new Error('bad description');
    if (d.type === 'offer') {
      // One transceiver per m-line, found by mid, as JSEP does.
      for (const m of d.sdp.matchAll(/m=(audio|video)[^\n]*\n(?:[^m][^\n]*\n)*?a=mid:(\S+)/g)) {
        const [, kind = '', mid = ''] = m;
        if (!this.transceivers.some((t) => t.mid === mid)) this.transceivers.push(new FakeTransceiver(mid, kind, 'recvonly', null));
      }
      this.signalingState = 'have-remote-offer';
    } else {
      this.signalingState = 'stable';
    }
  }
  async getStats(): Promise<Map<string, unknown>> {
    return new Map(this.stats.map((s, i) => [String(i), s]));
  }
  setIce(state: string): void {
    this.iceConnectionState = state;
    this.oniceconnectionstatechange?.();
  }
  close(): void {
    this.calls.push('close');
    this.iceConnectionState = 'closed';
  }
}

const env: MediaEnv = {
  createPeerConnection: (config) => new FakePC(config) as unknown as RTCPeerConnection,
  createStream: (tracks) => ({ tracks: [...tracks] }) as unknown as MediaStream,
};

class FakeLocal implements LocalSource {
  readonly stream = { id: 'local' } as unknown as MediaStream;
  tracks: { [K in MediaKind]: FakeTrack | null } = { audio: new FakeTrack('audio', 'mic'), video: new FakeTrack('video', 'cam') };
  #fns = new Set<() => void>();
  track(kind: MediaKind): MediaStreamTrack | null {
    return this.tracks[kind] as unknown as MediaStreamTrack | null;
  }
  onChange(fn: () => void): () => void {
    this.#fns.add(fn);
    return () => this.#fns.delete(fn);
  }
  set(kind: MediaKind, t: FakeTrack | null): void {
    this.tracks[kind] = t;
    for (const f of this.#fns) f();
  }
}

function subscribeOffer(slots: ReadonlyArray<{ kind: 'audio' | 'video'; stream?: string; ssrc?: number }>, first = 'offer'): string {
  // (FakePC reads `m=<kind>` … `a=mid:` pairs from this)
  const lines = [first, 'a=ice-lite'];
  slots.forEach((s, i) => {
    lines.push(`m=${s.kind} 10000 UDP/TLS/RTP/SAVPF 96`, `a=mid:s${i}`, s.stream ? 'a=sendonly' : 'a=inactive');
    if (s.stream) lines.push(`a=msid:${s.stream} t${i}`, `a=ssrc:${s.ssrc ?? i + 100} msid:${s.stream} t${i}`);
  });
  return lines.join('\n') + '\n';
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** Records which senders and receivers got the frame transform, in order. */
class FakeCrypto implements FrameCrypto {
  readonly calls: string[] = [];
  readonly receivers = new Map<unknown, string | null>();
  peerConnectionConfig(): RTCConfiguration {
    return { encodedInsertableStreams: true } as RTCConfiguration;
  }
  encryptSender(sender: RTCRtpSender, kind: MediaKind): void {
    this.calls.push(`encrypt ${kind} ${(sender as unknown as FakeSender).track?.id ?? '-'}`);
  }
  decryptReceiver(receiver: RTCRtpReceiver, kind: MediaKind, participant: string | null): void {
    this.receivers.set(receiver, participant);
    this.calls.push(`decrypt ${kind} ${participant ?? '-'}`);
  }
}

function setup(local = new FakeLocal(), crypto = new FakeCrypto()) {
  const sent: MediaMessage[] = [];
  const remote: Array<[string, string[] | null]> = [];
  const screens: Array<[string, string[] | null]> = [];
  let answers = 0;
  const problems: string[] = [];
  let sendOk = true;
  const t = new MediaTransport({
    local,
    crypto,
    send: (m) => {
      sent.push(m);
      return sendOk;
    },
    events: {
      remote: (p, s) => remote.push([p, s ? (s as unknown as { tracks: FakeTrack[] }).tracks.map((x) => x.id) : null]),
      screen: (p, s) => screens.push([p, s ? (s as unknown as { tracks: FakeTrack[] }).tracks.map((x) => x.id) : null]),
      answered: () => answers++,
      problem: (side, detail) => problems.push(`${side}: ${detail}`),
    },
    env,
  });
  return {
    t,
    local,
    crypto,
    sent,
    remote,
    screens,
    answers: () => answers,
    problems,
    failSends: () => {
      sendOk = false;
    },
  };
}

beforeEach(() => {
  FakePC.all = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('publish connection', () => {
  it('offers audio then video as sendonly and applies the answer', async () => {
    const { t, sent } = setup();
    t.start();
    await flush();
    expect(FakePC.all).toHaveLength(1);
    const pc = FakePC.all[0]!;
    expect(pc.config).toEqual({ ...PC_CONFIG, encodedInsertableStreams: true });
    expect(pc.config).toMatchObject({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers: [] });
    expect(pc.calls).toEqual(['addTransceiver audio sendonly', 'addTransceiver video sendonly', 'createOffer', 'setLocalDescription offer']);
    expect(sent).toEqual([{ type: 'publish', sdp: 'offer 1 audio,video' }]);
    t.onPublishAnswer('answer-sdp');
    await flush();
    expect(pc.calls.at(-1)).toBe('setRemoteDescription answer answer-sdp');
    expect(pc.signalingState).toBe('stable');
  });

  it('publishes nothing without tracks, and again when a kind appears later', async () => {
    const local = new FakeLocal();
    local.tracks = { audio: new FakeTrack('audio', 'mic'), video: null };
    const { t, sent } = setup(local);
    t.start();
    await flush();
    t.onPublishAnswer('a1');
    await flush();
    expect(sent.map((m) => m.type)).toEqual(['publish']);
    local.set('video', new FakeTrack('video', 'cam'));
    await flush();
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual({ type: 'publish', sdp: 'offer 2 audio,video' });

    const none = new FakeLocal();
    none.tracks = { audio: null, video: null };
    const s2 = setup(none);
    s2.t.start();
    await flush();
    expect(s2.sent).toEqual([]);
    expect(FakePC.all).toHaveLength(1); // only the first setup's
  });

  it('turns the camera off and on by swapping the track, without a new offer', async () => {
    const { t, local, sent } = setup();
    t.start();
    await flush();
    t.onPublishAnswer('a1');
    await flush();
    const video = FakePC.all[0]!.transceivers[1]!;
    local.set('video', null);
    const again = new FakeTrack('video', 'cam2');
    local.set('video', again);
    await flush();
    expect(video.sender.replaced).toEqual([null, again]);
    expect(sent).toHaveLength(1);
  });

  it('rolls back and reports when the server refuses the offer', async () => {
    const { t, problems } = setup();
    t.start();
    await flush();
    t.onServerError('publish', 'bad_sdp');
    await flush();
    const pc = FakePC.all[0]!;
    expect(pc.calls.at(-1)).toBe('setLocalDescription rollback');
    expect(pc.signalingState).toBe('stable');
    expect(problems).toEqual(['publish: server: bad_sdp']);
  });

  it('ignores an answer nobody asked for', async () => {
    const { t } = setup();
    t.onPublishAnswer('stray');
    t.start();
    await flush();
    expect(FakePC.all[0]!.calls.some((c) => c.startsWith('setRemoteDescription'))).toBe(false);
  });

  it('restarts ICE with a new offer when the connection fails', async () => {
    const { t, sent } = setup();
    t.start();
    await flush();
    t.onPublishAnswer('a1');
    await flush();
    const pc = FakePC.all[0]!;
    pc.setIce('failed');
    await flush();
    expect(pc.restarts).toBe(1);
    expect(pc.calls).toContain('createOffer iceRestart');
    expect(sent.map((m) => m.type)).toEqual(['publish', 'publish']);
  });
});

describe('subscribe connection', () => {
  const A = 'AAAAAAAAAAA';
  const B = 'BBBBBBBBBBB';

  it('answers offers one at a time, in order, with their versions', async () => {
    const { t, sent } = setup(Object.assign(new FakeLocal(), { tracks: { audio: null, video: null } }));
    let open!: () => void;
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: A }], 'offer-1'), 1);
    await flush();
    const pc = FakePC.all[0]!;
    pc.srdGate = new Promise((r) => (open = r));
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: A }, { kind: 'audio', stream: B }], 'offer-2'), 2);
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: A }, { kind: 'audio', stream: B }, { kind: 'video', stream: B }], 'offer-3'), 3);
    await flush();
    // Offer 2 is being applied; offer 3 has not been touched.
    expect(pc.calls.filter((c) => c.startsWith('setRemoteDescription'))).toEqual(['setRemoteDescription offer offer-1', 'setRemoteDescription offer offer-2']);
    open();
    pc.srdGate = null;
    await flush();
    expect(sent.map((m) => (m.type === 'subscribe_answer' ? m.version : m.type))).toEqual([1, 2, 3]);
    expect(pc.calls.filter((c) => c.startsWith('setRemoteDescription'))).toHaveLength(3);
    expect(t.answeredVersion).toBe(3);
    expect(FakePC.all).toHaveLength(1); // one subscribe connection for all offers
  });

  it('sends its answer without waiting for setLocalDescription to finish', async () => {
    // ICE starts with setLocalDescription and DTLS right after ICE: the
    // server must have the answer's fingerprint by then
    const { t, sent } = setup(Object.assign(new FakeLocal(), { tracks: { audio: null, video: null } }));
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: A }], 'offer-1'), 1);
    await flush();
    const pc = FakePC.all[0]!;
    let open!: () => void;
    pc.sldGate = new Promise((r) => (open = r));
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: A }, { kind: 'audio', stream: B }], 'offer-2'), 2);
    await flush();
    expect(pc.calls.at(-1)).toBe('setLocalDescription answer');
    const answers = sent.filter((m) => m.type === 'subscribe_answer');
    expect(answers.map((m) => m.type === 'subscribe_answer' && m.version)).toEqual([1, 2]);
    expect(t.answeredVersion).toBe(1); // counted once it is applied
    open();
    pc.sldGate = null;
    await flush();
    expect(t.answeredVersion).toBe(2);
  });

  it('hands each participant its tracks, and follows slots that change hands', async () => {
    const { t, remote } = setup(Object.assign(new FakeLocal(), { tracks: { audio: null, video: null } }));
    t.onSubscribeOffer(subscribeOffer([{ kind: 'audio', stream: A }, { kind: 'video', stream: A }]), 1);
    await flush();
    expect(remote).toEqual([[A, ['recv-s0', 'recv-s1']]]);
    // B arrives: A is not told again.
    t.onSubscribeOffer(subscribeOffer([{ kind: 'audio', stream: A }, { kind: 'video', stream: A }, { kind: 'audio', stream: B }, { kind: 'video', stream: B }]), 2);
    await flush();
    expect(remote.slice(1)).toEqual([[B, ['recv-s2', 'recv-s3']]]);
    // A leaves; its slots turn inactive.
    t.onSubscribeOffer(subscribeOffer([{ kind: 'audio' }, { kind: 'video' }, { kind: 'audio', stream: B }, { kind: 'video', stream: B }]), 3);
    await flush();
    expect(remote.slice(2)).toEqual([[A, null]]);
    // C reuses A's old slots: same receivers, new owner.
    const C = 'CCCCCCCCCCC';
    t.onSubscribeOffer(subscribeOffer([{ kind: 'audio', stream: C }, { kind: 'video', stream: C }, { kind: 'audio', stream: B }, { kind: 'video', stream: B }]), 4);
    await flush();
    expect(remote.slice(3)).toEqual([[C, ['recv-s0', 'recv-s1']]]);
  });

  it('reports an offer it cannot apply and keeps the previous owners', async () => {
    const { t, sent, problems } = setup(Object.assign(new FakeLocal(), { tracks: { audio: null, video: null } }));
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: A, ssrc: 7 }]), 1);
    await flush();
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: B, ssrc: 8 }], 'BROKEN'), 2);
    await flush();
    expect(problems).toEqual(['subscribe: bad description']);
    expect(sent.map((m) => m.type === 'subscribe_answer' && m.version)).toEqual([1]);
    FakePC.all[0]!.stats = [{ type: 'inbound-rtp', kind: 'video', ssrc: 7, framesDecoded: 3 }];
    expect({ ...(await t.stats()) }).toEqual({ [A]: { framesDecoded: 3, audioBytesReceived: 0 } });
  });

  it('maps receive statistics to participants by SSRC', async () => {
    const { t } = setup(Object.assign(new FakeLocal(), { tracks: { audio: null, video: null } }));
    expect(await t.stats()).toEqual({});
    t.onSubscribeOffer(
      subscribeOffer([
        { kind: 'audio', stream: A, ssrc: 11 },
        { kind: 'video', stream: A, ssrc: 12 },
        { kind: 'video', stream: B, ssrc: 13 },
      ]),
      1,
    );
    await flush();
    FakePC.all[0]!.stats = [
      { type: 'inbound-rtp', kind: 'audio', ssrc: 11, bytesReceived: 4000 },
      { type: 'inbound-rtp', kind: 'video', ssrc: 12, framesDecoded: 25 },
      { type: 'inbound-rtp', kind: 'video', ssrc: 13, framesDecoded: 0 },
    ];
    expect({ ...(await t.stats()) }).toEqual({
      [A]: { framesDecoded: 25, audioBytesReceived: 4000 },
      [B]: { framesDecoded: 0, audioBytesReceived: 0 },
    });
  });

  it('asks for a new offer when ICE fails, and again while it stays down', async () => {
    vi.useFakeTimers();
    const { t, sent } = setup(Object.assign(new FakeLocal(), { tracks: { audio: null, video: null } }));
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: A }]), 1);
    await flush();
    const pc = FakePC.all[0]!;
    pc.setIce('connected');
    pc.setIce('disconnected');
    await vi.advanceTimersByTimeAsync(DISCONNECTED_GRACE_MS - 100);
    expect(sent.filter((m) => m.type === 'subscribe_restart')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(sent.filter((m) => m.type === 'subscribe_restart')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(RESTART_RETRY_MS);
    expect(sent.filter((m) => m.type === 'subscribe_restart')).toHaveLength(2);
    pc.setIce('connected');
    await vi.advanceTimersByTimeAsync(RESTART_RETRY_MS * 3);
    expect(sent.filter((m) => m.type === 'subscribe_restart')).toHaveLength(2);
    // A short blip does nothing.
    pc.setIce('disconnected');
    await vi.advanceTimersByTimeAsync(500);
    pc.setIce('connected');
    await vi.advanceTimersByTimeAsync(DISCONNECTED_GRACE_MS * 2);
    expect(sent.filter((m) => m.type === 'subscribe_restart')).toHaveLength(2);
    t.close();
  });

  it('close() ends both connections and sends nothing more', async () => {
    const { t, sent } = setup();
    t.start();
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: A }]), 1);
    await flush();
    t.close();
    const n = sent.length;
    t.onSubscribeOffer(subscribeOffer([{ kind: 'video', stream: B }]), 2);
    await flush();
    expect(sent).toHaveLength(n);
    expect(FakePC.all.every((pc) => pc.calls.at(-1) === 'close')).toBe(true);
    expect(await t.stats()).toEqual({});
  });
});

describe('end-to-end encryption', () => {
  it('puts the encrypting transform on every sender before the offer', async () => {
    const { t, crypto } = setup();
    t.start();
    await flush();
    const pc = FakePC.all[0]!;
    expect(crypto.calls).toEqual(['encrypt audio mic', 'encrypt video cam']);
    // both were attached before createOffer ran
    expect(pc.calls.indexOf('createOffer')).toBeGreaterThan(pc.calls.lastIndexOf('addTransceiver video sendonly'));
  });

  it('decrypts every receiver of the subscribe connection, naming its publisher', async () => {
    const { t, crypto } = setup();
    t.onSubscribeOffer(subscribeOffer([{ kind: 'audio', stream: 'alice' }, { kind: 'video', stream: 'alice' }, { kind: 'video' }]), 1);
    await flush();
    const sub = FakePC.all[0]!;
    const [a, v, idle] = sub.transceivers;
    expect(crypto.receivers.get(a!.receiver)).toBe('alice');
    expect(crypto.receivers.get(v!.receiver)).toBe('alice');
    // an inactive slot is covered too, for any member, until someone uses it
    expect(crypto.receivers.has(idle!.receiver)).toBe(true);
    expect(crypto.receivers.get(idle!.receiver)).toBeNull();
    // the slot is reused by bob: its receiver now carries bob's media
    t.onSubscribeOffer(subscribeOffer([{ kind: 'audio', stream: 'alice' }, { kind: 'video', stream: 'alice' }, { kind: 'video', stream: 'bob' }]), 2);
    await flush();
    expect(crypto.receivers.get(idle!.receiver)).toBe('bob');
  });

  it('prefers VP8, then VP9 profile 0, with their RTX, and nothing else', () => {
    const c = (mimeType: string, sdpFmtpLine?: string): RTCRtpCodec => ({ mimeType, clockRate: 90000, ...(sdpFmtpLine ? { sdpFmtpLine } : {}) });
    const all = [c('video/H264', 'profile-level-id=42e01f'), c('video/VP9', 'profile-id=2'), c('video/rtx'), c('video/VP9', 'profile-id=0'), c('video/AV1'), c('video/VP8'), c('video/red')];
    expect(preferredVideoCodecs(all).map((x) => `${x.mimeType} ${x.sdpFmtpLine ?? ''}`.trim())).toEqual(['video/VP8', 'video/VP9 profile-id=0', 'video/rtx']);
    expect(preferredVideoCodecs([c('video/H264')])).toEqual([]);
  });

  it('sets the codec preference on the camera transceiver', async () => {
    const prefs = [{ mimeType: 'video/H264', clockRate: 90000 }, { mimeType: 'video/VP8', clockRate: 90000 }];
    const withCodecs: MediaEnv = { ...env, videoCodecs: () => prefs };
    const t = new MediaTransport({ local: new FakeLocal(), crypto: new FakeCrypto(), send: () => true, events: { remote: () => undefined }, env: withCodecs });
    t.start();
    await flush();
    const video = FakePC.all[0]!.transceivers.find((x) => x.kind === 'video')!;
    expect(video.codecPrefs?.map((x) => x.mimeType)).toEqual(['video/VP8']);
    t.close();
  });
});

describe('simulcast and screen share', () => {
  const A = 'AAAAAAAAAAA';

  it('publishes the camera as three encodings, lowest first, and the microphone as one', async () => {
    const { t } = setup();
    t.start();
    await flush();
    const [audio, video] = FakePC.all[0]!.transceivers;
    expect(audio!.sender.params.encodings).toEqual([]);
    expect(video!.sender.params.encodings.map((e) => e.rid)).toEqual(['q', 'h', 'f']);
  });

  it('switches encodings as `layers` says, after the negotiation in progress', async () => {
    const { t } = setup();
    t.start();
    await flush();
    const video = FakePC.all[0]!.transceivers[1]!;
    // the offer waits for its answer: the layers change waits behind it
    t.onLayers(video.mid!, [true, false, false]);
    await flush();
    expect(video.sender.setCalls).toBe(0);
    t.onPublishAnswer('a1');
    await flush();
    expect(video.sender.params.encodings.map((e) => e.active)).toEqual([true, false, false]);
    // all off pauses; the same again changes nothing; an unknown mid is ignored
    t.onLayers(video.mid!, [false, false, false]);
    t.onLayers(video.mid!, [false, false, false]);
    t.onLayers('nope', [true, true, true]);
    await flush();
    expect(video.sender.params.encodings.map((e) => e.active)).toEqual([false, false, false]);
    expect(video.sender.setCalls).toBe(2);
  });

  it('shares a screen as one more encrypted video m-line named in sources, and stops it', async () => {
    const { t, sent, crypto } = setup();
    t.start();
    await flush();
    t.onPublishAnswer('a1');
    await flush();
    expect(sent[0]).not.toHaveProperty('sources');
    const screen = new FakeTrack('video', 'screen');
    t.setScreen(screen as unknown as MediaStreamTrack);
    await flush();
    const pc = FakePC.all[0]!;
    const tr = pc.transceivers[2]!;
    expect(tr.sender.track).toBe(screen);
    expect(tr.sender.params.encodings).toEqual([]); // one layer
    expect(crypto.calls).toEqual(['encrypt audio mic', 'encrypt video cam', 'encrypt video screen']);
    expect(sent[1]).toMatchObject({ type: 'publish', sources: { '0': 'microphone', '1': 'camera', '2': 'screen' } });
    t.onPublishAnswer('a2');
    await flush();
    expect(t.sharing).toBe(true);
    // stop: no track, inactive, published again
    t.setScreen(null);
    await flush();
    expect(tr.sender.track).toBeNull();
    expect(tr.direction).toBe('inactive');
    expect(sent).toHaveLength(3);
    t.onPublishAnswer('a3');
    await flush();
    expect(t.sharing).toBe(false);
    // share again: the same transceiver, no new encryption needed
    const again = new FakeTrack('video', 'screen2');
    t.setScreen(again as unknown as MediaStreamTrack);
    await flush();
    expect(pc.transceivers).toHaveLength(3);
    expect(tr.direction).toBe('sendonly');
    expect(tr.sender.track).toBe(again);
    expect(sent).toHaveLength(4);
  });

  it('hands a remote screen share apart from camera and microphone, and names the mids', async () => {
    const { t, remote, screens, answers } = setup(Object.assign(new FakeLocal(), { tracks: { audio: null, video: null } }));
    const slots = [
      { kind: 'audio' as const, stream: A },
      { kind: 'video' as const, stream: A },
      { kind: 'video' as const, stream: A },
    ];
    t.onSubscribeOffer(subscribeOffer(slots), 1, {
      s0: { participant: A, source: 'microphone', track: 't0' },
      s1: { participant: A, source: 'screen', track: 't1' },
      s2: { participant: A, source: 'camera', track: 't2' },
    });
    await flush();
    expect(remote).toEqual([[A, ['recv-s0', 'recv-s2']]]);
    expect(screens).toEqual([[A, ['recv-s1']]]);
    expect([t.midOf(A, 'camera'), t.midOf(A, 'screen')]).toEqual(['s2', 's1']);
    expect(t.bindingOf('s1')).toMatchObject({ participant: A, source: 'screen' });
    expect(answers()).toBe(1);
    // the share ends: its slot turns inactive
    t.onSubscribeOffer(subscribeOffer([slots[0]!, { kind: 'video' }, slots[2]!]), 2, {
      s0: { participant: A, source: 'microphone', track: 't0' },
      s2: { participant: A, source: 'camera', track: 't2' },
    });
    await flush();
    expect(screens.at(-1)).toEqual([A, null]);
    expect(remote).toHaveLength(1);
    expect(answers()).toBe(2);
  });
});
