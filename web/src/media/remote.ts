/*
 * Whose media arrives on which m-line of the subscribe connection.
 *
 * The server's subscribe offer has one m-line per forwarded track, each with
 * `a=msid:<publisher participant id> t<track id>` and its SSRC (docs/
 * protocol.md, "Media negotiation"). m-lines are never removed: a slot whose
 * track ended turns `inactive`, and the next track of the same kind reuses
 * it with a new msid and a new SSRC. So the owner of a slot is whatever the
 * latest offer says, and it changes over time.
 *
 * What a slot carries (microphone, camera or screen) comes from the offer
 * message's `tracks` (newer servers). Without it, a participant's first
 * video slot in m-line order is its camera and any further one its screen.
 *
 * This module is pure: it reads offers (parseOfferSlots), keeps the current
 * slot → participant picture (RemoteBindings), and attributes inbound RTP
 * statistics to participants by SSRC (statsByParticipant). The transport
 * applies the result to the receivers' tracks.
 */
import type { SourceName, TrackInfo } from '../signaling/protocol';

export type SlotKind = 'audio' | 'video';

export interface OfferSlot {
  readonly mid: string;
  readonly kind: SlotKind | 'other';
  /** True if the server sends on it (sendonly/sendrecv with a port). */
  readonly active: boolean;
  /** The MediaStream id: the publishing participant's id. */
  readonly stream: string | null;
  /** The track id of the msid (the server's "t<id>"). */
  readonly track: string | null;
  readonly ssrcs: readonly number[];
}

/** Reads the m-lines of a session description. Never throws. */
export function parseOfferSlots(sdp: string): OfferSlot[] {
  const slots: OfferSlot[] = [];
  type Draft = { mid: string; kind: OfferSlot['kind']; port: number; dir: string; stream: string | null; track: string | null; ssrcs: number[]; ssrcStream: string | null; ssrcTrack: string | null };
  let cur: Draft | null = null;
  let sessionDir = 'sendrecv';
  const finish = (): void => {
    if (!cur) return;
    const stream = cur.stream ?? cur.ssrcStream;
    const track = cur.stream !== null ? cur.track : cur.ssrcTrack;
    const dir = cur.dir || sessionDir;
    slots.push({
      mid: cur.mid,
      kind: cur.kind,
      active: cur.port !== 0 && (dir === 'sendonly' || dir === 'sendrecv'),
      stream: stream === '-' ? null : stream,
      track,
      ssrcs: cur.ssrcs,
    });
  };
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.startsWith('m=')) {
      finish();
      const [kind = '', port = '0'] = line.slice(2).split(' ');
      cur = {
        mid: '',
        kind: kind === 'audio' || kind === 'video' ? kind : 'other',
        port: Number.parseInt(port, 10) || 0,
        dir: '',
        stream: null,
        track: null,
        ssrcs: [],
        ssrcStream: null,
        ssrcTrack: null,
      };
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const attr = line.slice(2);
    const colon = attr.indexOf(':');
    const name = colon < 0 ? attr : attr.slice(0, colon);
    const value = colon < 0 ? '' : attr.slice(colon + 1);
    if (name === 'sendonly' || name === 'recvonly' || name === 'sendrecv' || name === 'inactive') {
      if (cur) cur.dir = name;
      else sessionDir = name;
      continue;
    }
    if (!cur) continue;
    if (name === 'mid') {
      cur.mid = value.trim();
    } else if (name === 'msid') {
      const [stream = '', track = null] = value.trim().split(/\s+/);
      if (stream !== '' && cur.stream === null) {
        cur.stream = stream;
        cur.track = track;
      }
    } else if (name === 'ssrc') {
      const m = /^(\d+)\s+(\S+?)(?::(.*))?$/.exec(value.trim());
      if (!m) continue;
      const ssrc = Number(m[1]);
      if (!Number.isSafeInteger(ssrc) || ssrc > 0xffffffff) continue;
      if (!cur.ssrcs.includes(ssrc)) cur.ssrcs.push(ssrc);
      if (m[2] === 'msid' && m[3] !== undefined && cur.ssrcStream === null) {
        const [stream = '', track = null] = m[3].trim().split(/\s+/);
        if (stream !== '') {
          cur.ssrcStream = stream;
          cur.ssrcTrack = track;
        }
      }
    }
  }
  finish();
  return slots;
}

export interface Binding {
  readonly mid: string;
  readonly kind: SlotKind;
  readonly participant: string;
  readonly source: SourceName;
}

/** What each active slot carries: the server's word if it gave one, else by order (see above). */
function sourcesOf(slots: readonly OfferSlot[], tracks: Readonly<Record<string, TrackInfo>> | undefined): Map<string, SourceName> {
  const out = new Map<string, SourceName>();
  const videoSeen = new Set<string>();
  for (const s of slots) {
    if (!s.active || s.stream === null || (s.kind !== 'audio' && s.kind !== 'video')) continue;
    const told = tracks?.[s.mid];
    if (told && (told.source === 'microphone') === (s.kind === 'audio')) {
      out.set(s.mid, told.source);
      if (told.source === 'camera') videoSeen.add(s.stream);
      continue;
    }
    if (s.kind === 'audio') {
      out.set(s.mid, 'microphone');
    } else {
      out.set(s.mid, videoSeen.has(s.stream) ? 'screen' : 'camera');
      videoSeen.add(s.stream);
    }
  }
  return out;
}

/**
 * The current owner of every active audio/video slot, as told by the latest
 * subscribe offer applied.
 */
export class RemoteBindings {
  #byMid = new Map<string, Binding>();
  #bySsrc = new Map<number, string>();

  /**
   * Takes the slots of a newly applied offer. Returns the participants whose
   * set of slots changed (gained, lost or swapped one), in a stable order.
   */
  apply(slots: readonly OfferSlot[], tracks?: Readonly<Record<string, TrackInfo>>): string[] {
    const before = this.#byMid;
    const byMid = new Map<string, Binding>();
    const bySsrc = new Map<number, string>();
    const sources = sourcesOf(slots, tracks);
    for (const s of slots) {
      if (!s.active || s.stream === null || s.mid === '' || (s.kind !== 'audio' && s.kind !== 'video')) continue;
      byMid.set(s.mid, { mid: s.mid, kind: s.kind, participant: s.stream, source: sources.get(s.mid) ?? (s.kind === 'audio' ? 'microphone' : 'camera') });
      for (const ssrc of s.ssrcs) bySsrc.set(ssrc, s.stream);
    }
    const changed = new Set<string>();
    for (const [mid, b] of before) {
      const now = byMid.get(mid);
      if (!now || now.participant !== b.participant || now.kind !== b.kind || now.source !== b.source) changed.add(b.participant);
    }
    for (const [mid, b] of byMid) {
      const was = before.get(mid);
      if (!was || was.participant !== b.participant || was.kind !== b.kind || was.source !== b.source) changed.add(b.participant);
    }
    this.#byMid = byMid;
    this.#bySsrc = bySsrc;
    return [...changed].sort();
  }

  /** Forgets everything (the subscribe connection was closed). */
  clear(): string[] {
    const had = [...new Set([...this.#byMid.values()].map((b) => b.participant))].sort();
    this.#byMid = new Map();
    this.#bySsrc = new Map();
    return had;
  }

  ofMid(mid: string | null | undefined): Binding | null {
    return mid ? (this.#byMid.get(mid) ?? null) : null;
  }

  /** The mid of a participant's slot carrying `source` (the first, if several). */
  midOf(participant: string, source: SourceName): string | null {
    for (const b of this.#byMid.values()) if (b.participant === participant && b.source === source) return b.mid;
    return null;
  }

  participantOfSsrc(ssrc: number): string | null {
    return this.#bySsrc.get(ssrc) ?? null;
  }

  /** The slots of one participant. */
  slotsOf(participant: string): Binding[] {
    return [...this.#byMid.values()].filter((b) => b.participant === participant);
  }

  /** Every active slot, in m-line order of the offer. */
  all(): Binding[] {
    return [...this.#byMid.values()];
  }

  participants(): string[] {
    return [...new Set([...this.#byMid.values()].map((b) => b.participant))].sort();
  }
}

export interface ParticipantStats {
  /** inbound-rtp video framesDecoded, summed over the participant's video slots. */
  framesDecoded: number;
  /** inbound-rtp audio bytesReceived, summed over the participant's audio slots. */
  audioBytesReceived: number;
}

/**
 * Attributes the inbound-rtp entries of a getStats() report to
 * participants by SSRC. Every participant in `present` is listed (with
 * zeros if nothing arrived yet); entries whose SSRC belongs to nobody now
 * (a slot's previous owner) are left out.
 */
export function statsByParticipant(
  reports: Iterable<unknown>,
  owner: (ssrc: number) => string | null,
  present: readonly string[] = [],
): Record<string, ParticipantStats> {
  // No prototype: a participant id can never collide with an Object method.
  const out = Object.create(null) as Record<string, ParticipantStats>;
  for (const p of present) out[p] = { framesDecoded: 0, audioBytesReceived: 0 };
  for (const r of reports) {
    if (typeof r !== 'object' || r === null) continue;
    const s = r as Record<string, unknown>;
    if (s['type'] !== 'inbound-rtp' || typeof s['ssrc'] !== 'number') continue;
    const who = owner(s['ssrc']);
    if (who === null) continue;
    const entry = (out[who] ??= { framesDecoded: 0, audioBytesReceived: 0 });
    const kind = s['kind'] ?? s['mediaType'];
    if (kind === 'video' && typeof s['framesDecoded'] === 'number') entry.framesDecoded += s['framesDecoded'];
    if (kind === 'audio' && typeof s['bytesReceived'] === 'number') entry.audioBytesReceived += s['bytesReceived'];
  }
  return out;
}

/** One subscribe m-line's receive counters (the test hook's inbound()). */
export interface InboundInfo {
  readonly mid: string;
  readonly participant: string;
  readonly source: Binding['source'];
  readonly kind: SlotKind;
  readonly framesDecoded: number;
  readonly bytesReceived: number;
}

/**
 * Every bound m-line with the counters of its inbound-rtp entry in a
 * getStats() report (matched by `mid`; zeros while nothing arrived, as
 * for a video the server paused from the start). A reused m-line can have
 * an entry of its previous track too: an entry whose SSRC the offer gives
 * to the current owner wins.
 */
export function inboundByMid(reports: Iterable<unknown>, bindings: readonly Binding[], owner: (ssrc: number) => string | null = () => null): InboundInfo[] {
  const byMid = new Map<string, { framesDecoded: number; bytesReceived: number; current: boolean }>();
  const current = new Map(bindings.map((b) => [b.mid, b.participant]));
  const n = (x: unknown): number => (typeof x === 'number' ? x : 0);
  for (const r of reports) {
    if (typeof r !== 'object' || r === null) continue;
    const s = r as Record<string, unknown>;
    if (s['type'] !== 'inbound-rtp' || typeof s['mid'] !== 'string') continue;
    const mine = typeof s['ssrc'] === 'number' && owner(s['ssrc']) === current.get(s['mid']);
    if (byMid.get(s['mid'])?.current && !mine) continue;
    byMid.set(s['mid'], { framesDecoded: n(s['framesDecoded']), bytesReceived: n(s['bytesReceived']), current: mine });
  }
  return bindings
    .map((b) => {
      const c = byMid.get(b.mid);
      return { mid: b.mid, participant: b.participant, source: b.source, kind: b.kind, framesDecoded: c?.framesDecoded ?? 0, bytesReceived: c?.bytesReceived ?? 0 };
    })
    .sort((a, b) => (a.mid < b.mid ? -1 : a.mid > b.mid ? 1 : 0));
}
