// Helpers shared by the hardening tests: CPU time of a process from /proc,
// kernel drop counts of a UDP port, subscribers made of node-datachannel peers.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import ndc from 'node-datachannel';

let clkTck = 0;
function ticksPerSecond() {
	if (!clkTck) {
		try {
			clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
		} catch {
			clkTck = 100;
		}
	}
	return clkTck;
}

/** utime + stime of /proc/<pid>/stat (or of one task), in seconds. */
function statCpu(file) {
	const s = fs.readFileSync(file, 'utf8');
	const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
	// fields after the command: state is field 3, utime 14, stime 15
	return (Number(f[11]) + Number(f[12])) / ticksPerSecond();
}

/** CPU seconds used so far by `pid`, in total and per thread. */
export function cpuSnapshot(pid) {
	const threads = {};
	for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
		try {
			threads[tid] = statCpu(`/proc/${pid}/task/${tid}/stat`);
		} catch { /* thread gone */ }
	}
	return { at: process.hrtime.bigint(), total: statCpu(`/proc/${pid}/stat`), threads };
}

/** CPU use between two snapshots: { total, busiestThread } as fractions of one core. */
export function cpuBetween(a, b) {
	const wall = Number(b.at - a.at) / 1e9;
	let busiest = 0;
	for (const [tid, v] of Object.entries(b.threads))
		busiest = Math.max(busiest, (v - (a.threads[tid] ?? 0)) / wall);
	return { wall, total: (b.total - a.total) / wall, busiestThread: busiest };
}

/** The kernel's count of datagrams dropped on the UDP socket bound to `port` (/proc/net/udp, last column). */
export function udpDrops(port) {
	const hex = port.toString(16).toUpperCase().padStart(4, '0');
	let drops = 0;
	for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
		let text;
		try {
			text = fs.readFileSync(file, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const f = line.trim().split(/\s+/);
			if (f.length > 5 && f[1].endsWith(`:${hex}`)) drops += Number(f[f.length - 1]);
		}
	}
	return drops;
}

/** First bytes of every payload tests/hardening/publisher.mjs sends. */
export const PUBLISHER_MAGIC = 0xc0ffee01;

/**
 * A member that only receives: joins with the host key (no admission
 * round), answers the server's subscribe offers with a node-datachannel
 * peer and records the arrival time (Date.now(), ms) of every RTP packet,
 * and for packets of tests/hardening/publisher.mjs their index and send time.
 * `offers` collects the server's SDP offers (they carry its ICE ufrag).
 */
export async function subscriber(srv, meeting, name) {
	const ws = await srv.wsHello();
	ws.join(meeting.room, name, meeting.hostKey);
	const joined = await ws.next('joined', 5000);
	const sub = { ws, joined, arrivals: [], rtcp: 0, offers: [], tracks: [], packets: [], open: false, pc: null, stopped: false };
	const pc = new ndc.PeerConnection(name, { iceServers: [] });
	sub.pc = pc;
	pc.onTrack((track) => {
		// keep a reference: a track object that is garbage-collected stops
		// calling back (and crashes node-datachannel at cleanup)
		sub.tracks.push(track);
		track.onOpen(() => { sub.open = true; });
		track.onMessage((msg) => {
			const b = Buffer.from(msg);
			const pt = b[1] & 0x7f;
			if (pt >= 64 && pt <= 95) {
				sub.rtcp++;
				return;
			}
			const at = Date.now();
			sub.arrivals.push(at);
			// the payload of tests/hardening/publisher.mjs: magic, index, send time
			let off = 12 + 4 * (b[0] & 0x0f);
			if (b[0] & 0x10) off += 4 + 4 * b.readUInt16BE(off + 2);
			if (b.length >= off + 16 && b.readUInt32BE(off) === PUBLISHER_MAGIC)
				sub.packets.push({ at, index: b.readUInt32BE(off + 4), sent: b.readDoubleBE(off + 8) });
		});
	});
	pc.onLocalDescription((sdp, type) => {
		if (type === 'answer') ws.send({ type: 'subscribe_answer', sdp, version: sub.version });
	});
	(async () => {
		while (!sub.stopped) {
			const off = await ws.next('subscribe_offer', 3600000).catch(() => null);
			if (!off) return;
			sub.version = off.version;
			sub.offers.push(off.sdp);
			pc.setRemoteDescription(off.sdp, 'offer');
		}
	})();
	return sub;
}

/** The largest gap (ms) between consecutive arrivals within [from, to], counting the edges. */
export function maxGap(arrivals, from, to) {
	let prev = from, gap = 0;
	for (const t of arrivals) {
		if (t < from) continue;
		if (t > to) break;
		gap = Math.max(gap, t - prev);
		prev = t;
	}
	return Math.max(gap, to - prev);
}

export function countBetween(arrivals, from, to) {
	return arrivals.filter((t) => t >= from && t <= to).length;
}

/**
 * The largest gap between consecutive packets received within [from, to]
 * that the way from publisher to subscriber (the server) is responsible for.
 * A gap between two packets the publisher sent one after the other is
 * excused by as much as the publisher itself paused between them (a busy
 * machine not scheduling it); a gap over which packets were lost is never
 * excused. Also returns the publisher's longest pause seen that way.
 */
export function gapsWithin(packets, from, to) {
	let server = 0, publisher = 0;
	const ps = packets.filter((p) => p.at >= from && p.at <= to);
	for (let i = 1; i < ps.length; i++) {
		const a = ps[i - 1], b = ps[i];
		const recv = b.at - a.at;
		if (b.index === a.index + 1) {
			publisher = Math.max(publisher, b.sent - a.sent);
			server = Math.max(server, recv - (b.sent - a.sent));
		} else {
			server = Math.max(server, recv);
		}
	}
	return { server, publisher };
}
