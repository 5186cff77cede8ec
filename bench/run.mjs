#!/usr/bin/env node
// make bench: forwarding cost and capacity of conclave, side by side with
// Janus VideoRoom, on this machine, in one run.
//
//   node bench/run.mjs                  the full run (about 35 minutes):
//                                       build/bench/results.json, then
//                                       docs/benchmarks.md and
//                                       docs/benchmarks-cpu.png
//   BENCH_SMOKE=1 node bench/run.mjs    a ~20 s end-to-end check (conclave,
//                                       1 publisher -> 5 subscribers, and
//                                       1 -> 80 with 79 sinks, with and
//                                       without the server splitting its
//                                       GSO messages itself): no
//                                       thresholds, only that every packet
//                                       sent was received by every
//                                       subscriber (or counted at the
//                                       sinks); exits non-zero otherwise.
//                                       Never touches docs/.
//
// Knobs (environment): BENCH_SERVERS=conclave,janus  BENCH_SCENARIOS=a,b
// BENCH_REPS=3  BENCH_DURATION=10 (seconds measured)  BENCH_FANOUT=5,10,...
// BENCH_CAPACITY=8,12,... (the capacity sweep's meeting counts; "" none)
// BENCH_KEEP_LOGS=1 (keep every server log under build/bench/logs).
// BENCH_PERF=1: profile the server over each measured window (perf record,
// build/bench/perf-*.data; node bench/perf-summary.mjs FILE sorts it;
// BENCH_PERF_HZ=1000 its sampling rate).
// BENCH_SRTP=cm: the load generator offers only AES_CM_128_HMAC_SHA1_80
// instead of AES-GCM first (the results say which ran).
// BENCH_WORKERS=2: conclave runs two media workers on cores 0 and 1 (the
// load generator keeps core 1 as well: on two cores the comparison with
// one worker is a lower bound; conclave only; bench/README.md, "Media
// workers").
// A run narrowed by BENCH_SERVERS, BENCH_SCENARIOS or BENCH_REPS < 3 (or
// with BENCH_PARTIAL=1) is a partial run: it writes
// build/bench/partial.json and prints its tables (bench/report.mjs
// partialTables) instead of replacing results.json and docs/, so the full
// run's figures stay as they are.
//
// How: it re-runs itself inside a network namespace made by
// scripts/netns.sh (lo and a veth pair, 10.77.0.1 for the servers,
// 10.77.0.2 for the load generator; nothing leaves the machine). Each
// repetition starts a fresh server pinned to core 0 and a fresh load
// generator (build/bench/loadgen, C) pinned to core 1, both at nice -20
// (the machine may be shared); this script also pins itself to core 1. Participants join over each server's real
// signaling, publishers send paced audio and video, and after a warm-up a
// window of BENCH_DURATION seconds is measured:
//   - forwarded packets: counted at the receivers, per publisher stream, by
//     the send time carried in each payload (exact at the window's edges);
//   - server CPU: run time of all its threads (/proc/PID/task/*/schedstat,
//     ns; utime+stime from /proc/PID/stat kept as a cross-check) across the window,
//     divided by the forwarded packets; the load generator's own CPU is
//     reported beside it;
//   - conclave's /metrics conclave_media_rtp_forwarded_total as a cross-check;
//   - loss (received vs sent x subscribers), delay p50/p99 through the
//     server, time from a subscriber's DTLS-SRTP up to its first key frame,
//     server memory per participant (RSS after setup minus RSS at start).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConclaveServer } from './lib/conclave.mjs';
import { JanusServer, janusBinary } from './lib/janus.mjs';
import { Loadgen } from './lib/loadgen.mjs';
import { histQuantile, pinned, pool, procStat, quantiles, sleep, waitFor } from './lib/util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '..');
const env = process.env;
const SMOKE = env.BENCH_SMOKE === '1' || process.argv.includes('--smoke');

if (!env.CONCLAVE_NETNS) {
	// the namespace is made and removed by scripts/netns.sh around us;
	// the driver, the servers and the load generator each hold a socket or
	// more per participant, past a soft limit of 1,024 descriptors: raise
	// it to the hard limit (a server under systemd has LimitNOFILE=65536,
	// packaging/conclave.service)
	const r = spawnSync('sh', ['-c', 'ulimit -n "$(ulimit -H -n)" && exec "$@"', 'sh', path.join(REPO, 'scripts/netns.sh'),
		process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
		{ stdio: 'inherit', env: { ...env, BENCH_SMOKE: SMOKE ? '1' : env.BENCH_SMOKE ?? '',
			NETNS_SERVER: env.BENCH_TOPOLOGY === 'shared' ? '0' : '1' } });
	process.exit(r.status ?? 1);
}

const SERVER_IP = env.CONCLAVE_TEST_ADDR ?? '10.77.0.1';
const CLIENT_IP = '10.77.0.2';
const SERVER_CPU = 0, GEN_CPU = 1;
// conclave's media workers, on cores SERVER_CPU.. (BENCH_WORKERS)
const WORKERS = Number(env.BENCH_WORKERS || 1);
const SERVER_CPUS = Array.from({ length: WORKERS }, (_, i) => SERVER_CPU + i);
// the server's own namespace (scripts/netns.sh NETNS_SERVER=1), or '' when
// the server shares the load generator's (BENCH_TOPOLOGY=shared)
const SERVER_NS = env.CONCLAVE_SERVER_NETNS ?? '';
// BENCH_NAPI=1: the veth ends receive in NAPI threads, one per side, on
// that side's core, as a NIC would (default: in the sender's softirq,
// steered to the receiver's core by RPS unless BENCH_RPS=0)
const NAPI = SERVER_NS !== '' && env.BENCH_NAPI === '1';
const BUILD = path.join(REPO, 'build');
const LOADGEN = path.join(BUILD, 'bench/loadgen');
const CONCLAVE = env.CONCLAVE_BIN ?? path.join(BUILD, 'conclave');
const LOGS = path.join(BUILD, 'bench/logs');

const DEFAULT_FANOUT = [5, 10, 20, 40, 80, 160, 320, 640];
// capacity-K: K meetings of one publisher to 80 subscribers, 79 of them
// sinks (see scenario()); the sweep goes on until loss or saturation.
// capacity-K-split: the same with the server's kernel splitting its UDP GSO
// messages itself (BENCH_CAPACITY_SPLIT, its own sweep)
const DEFAULT_CAPACITY = [8, 12, 16, 20, 24, 28];
const DEFAULT_CAPACITY_SPLIT = [8, 12, 16, 20, 24];
const cfg = {
	servers: (env.BENCH_SERVERS || (SMOKE ? 'conclave' : 'conclave,janus')).split(',').filter(Boolean),
	reps: Number(env.BENCH_REPS || (SMOKE ? 1 : 3)),
	duration: Number(env.BENCH_DURATION || (SMOKE ? 5 : 10)),
	warmup: SMOKE ? 1 : 2,
	fanout: env.BENCH_FANOUT ? env.BENCH_FANOUT.split(',').map(Number) : DEFAULT_FANOUT,
	capacity: env.BENCH_CAPACITY != null ? env.BENCH_CAPACITY.split(',').filter(Boolean).map(Number) : DEFAULT_CAPACITY,
	capacitySplit: env.BENCH_CAPACITY_SPLIT != null ? env.BENCH_CAPACITY_SPLIT.split(',').filter(Boolean).map(Number)
		: DEFAULT_CAPACITY_SPLIT,
	workers: WORKERS,
};
const PARTIAL = !SMOKE && (env.BENCH_PARTIAL === '1' || Boolean(env.BENCH_SERVERS) ||
	Boolean(env.BENCH_SCENARIOS) || cfg.reps < 3);
cfg.scenarios = env.BENCH_SCENARIOS ? env.BENCH_SCENARIOS.split(',')
	: SMOKE ? ['fanout-5', 'capacity-1', 'capacity-1-split']
		: [...cfg.fanout.map((n) => `fanout-${n}`), ...cfg.capacity.map((k) => `capacity-${k}`),
			...cfg.capacitySplit.map((k) => `capacity-${k}-split`), 'meeting-6', 'meeting-12', 'meetings-50x4', 'audio-100'];

const FANOUT_PER_MEETING = 80; // conclave admits 100 members per meeting
const DTX_PERIOD_US = 400000;  // a muted microphone on Opus DTX

/** A scenario: meetings of participants { audio, video, subscribe, audioPeriodUs }. */
function scenario(name) {
	const pubAV = { audio: true, video: true, subscribe: false };
	const viewer = { audio: false, video: false, subscribe: true };
	const member = { audio: true, video: true, subscribe: true };
	let m;
	if ((m = /^fanout-(\d+)$/.exec(name))) {
		const n = Number(m[1]);
		const k = Math.ceil(n / FANOUT_PER_MEETING);
		const meetings = [];
		for (let i = 0; i < k; i++) {
			const subs = Math.floor(n / k) + (i < n % k ? 1 : 0);
			meetings.push([pubAV, ...Array.from({ length: subs }, () => viewer)]);
		}
		return { name, kind: 'fanout', n, meetings,
			label: k === 1 ? `1 → ${n}` : `${k} × (1 → ${Math.round(n / k)})`,
			about: k === 1 ? `one publisher (audio+video) fanned out to ${n} subscribers`
				: `${k} meetings, each one publisher fanned out to ${n / k} subscribers (${n} in all; a meeting holds at most 100)` };
	}
	if ((m = /^capacity-(\d+)(-split)?$/.exec(name))) {
		// Capacity beyond what the load generator can receive: in each
		// meeting one subscriber receives and checks everything, the other
		// 79 are sinks, real transports (ICE, DTLS-SRTP, consent) whose
		// RTP from the server the generator's kernel counts and drops before
		// any socket (installSinks).
		// The server cannot tell them apart and does the same work for each.
		const k = Number(m[1]), split = Boolean(m[2]);
		const sink = { ...viewer, sink: true };
		const meetings = Array.from({ length: k }, () =>
			[pubAV, viewer, ...Array.from({ length: FANOUT_PER_MEETING - 1 }, () => sink)]);
		return { name, kind: 'capacity', split, n: k * FANOUT_PER_MEETING, meetings,
			label: `${k} × (1 → ${FANOUT_PER_MEETING}), sinks${split ? ', split by the server' : ''}`,
			about: `${k} meetings, each one publisher fanned out to ${FANOUT_PER_MEETING} subscribers (${k * FANOUT_PER_MEETING} in all), ` +
				`of which one receives and checks every packet and ${FANOUT_PER_MEETING - 1} are sinks: real transports whose RTP ` +
				'the load generator\'s kernel counts, datagram by datagram, and drops before any socket (tc), as it could not ' +
				'receive it all; the server does the same work for a sink as for any subscriber' +
				(split ? '. Its veth end offers no UDP segmentation offload in these runs: the server\'s kernel splits each UDP GSO ' +
					'message into datagrams itself, in software, as for a NIC without USO'
					: '; its UDP GSO messages cross the veth whole, as to a NIC with UDP segmentation offload (USO), like in the other scenarios') };
	}
	if ((m = /^meeting-(\d+)$/.exec(name))) {
		const n = Number(m[1]);
		return { name, kind: 'meeting', n, meetings: [Array.from({ length: n }, () => member)],
			label: `meeting of ${n}`, about: `${n} participants, each publishing audio+video and receiving all others` };
	}
	if ((m = /^meetings-(\d+)x(\d+)$/.exec(name))) {
		const k = Number(m[1]), n = Number(m[2]);
		return { name, kind: 'meetings', n: k * n,
			meetings: Array.from({ length: k }, () => Array.from({ length: n }, () => member)),
			label: `${k} meetings of ${n}`, about: `${k} meetings of ${n}, everyone publishing audio+video and receiving the others` };
	}
	if ((m = /^audio-(\d+)$/.exec(name))) {
		const n = Number(m[1]), talking = Math.min(10, n);
		return { name, kind: 'audio', n,
			meetings: [Array.from({ length: n }, (_, i) => ({ audio: true, video: false, subscribe: true,
				audioPeriodUs: i < talking ? undefined : DTX_PERIOD_US }))],
			label: `audio-only meeting of ${n}`,
			about: `${n} participants, audio only, everyone receiving everyone: ${talking} talking (50 packets/s), ${n - talking} muted on Opus DTX (one packet per 400 ms)` };
	}
	throw new Error(`unknown scenario ${name}`);
}

function makeServer(name, logFile) {
	if (name === 'conclave')
		return new ConclaveServer({ bin: CONCLAVE, host: SERVER_IP, port: 8443, cpus: SERVER_CPUS.join(','), workers: WORKERS, logFile });
	if (name === 'janus')
		return new JanusServer({ bin: janusBinary(), host: SERVER_IP, port: 8188, cpus: SERVER_CPU, iface: 'cv0', logFile });
	throw new Error(`unknown server ${name}`);
}

// what to stop if we are interrupted
const live = { srv: null, lg: null };
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
	process.on(sig, () => {
		try { live.lg?.proc.kill('SIGKILL'); } catch { /* gone */ }
		try { live.srv?.proc?.kill('SIGKILL'); } catch { /* gone */ }
		process.exit(130);
	});

function log(...a) {
	console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
}

/** One repetition of one scenario on one server. */
async function runOnce(serverName, sc, rep) {
	fs.mkdirSync(LOGS, { recursive: true });
	const logFile = path.join(LOGS, `${serverName}-${sc.name}-${rep}.log`);
	fs.rmSync(logFile, { force: true });
	const srv = makeServer(serverName, logFile);
	live.srv = srv;
	const res = { server: serverName, scenario: sc.name, rep, ok: false };
	let lg = null;
	const parts = [];
	const uso = sc.kind === 'capacity' && sc.split;
	try {
		if (sc.kind === 'capacity' && SERVER_NS === '') throw new Error('the capacity scenarios need the two-namespace topology');
		if (uso) serverUso(false);
		await srv.start();
		await sleep(300);
		const idle = procStat(srv.pid);
		lg = await Loadgen.start(LOADGEN, { cpus: GEN_CPU });
		live.lg = lg;
		let nextId = 1;
		const ids = () => nextId++;
		const tSetup = performance.now();
		// meetings and their participants
		const meetings = [];
		for (const spec of sc.meetings) {
			const meeting = await srv.newMeeting();
			const ps = spec.map((o, i) => ({ o, part: srv.participant(lg, meeting,
				{ ...o, name: `p${i}`, ids, clientIp: o.sink ? SINK_IP : CLIENT_IP }) }));
			meetings.push({ meeting, ps });
			parts.push(...ps);
		}
		// publishers first, sending as soon as they are up
		const pubs = parts.filter((p) => p.o.audio || p.o.video);
		await pool(pubs, 8, async (p) => {
			await p.part.join();
			await p.part.publish();
			lg.sending(p.part.pubId, true);
		});
		// Janus lets nobody subscribe to a feed before its publisher's
		// DTLS-SRTP is up ("No such feed")
		await Promise.all(pubs.map((p) => lg.waitUp(p.part.pubId, 30000)));
		// then the subscribers (conclave offers them every track by itself;
		// Janus needs a subscriber handle per participant)
		const subs = parts.filter((p) => p.o.subscribe);
		await pool(subs, 16, async (p) => {
			if (!p.part.ws && !p.part.c) await p.part.join();
			await p.part.subscribe();
		});
		await waitFor(() => subs.every((p) => p.part.subId !== null), 30000, 'every subscriber has a subscribe offer');
		await Promise.all(subs.map((p) => lg.waitUp(p.part.subId, 30000)));
		const sinks = subs.filter((p) => p.o.sink);
		if (sinks.length) installSinks();
		// every subscriber receives every stream it should
		const expect = new Map(); // subId -> [stream keys]
		for (const { ps } of meetings)
			for (const s of ps.filter((p) => p.o.subscribe && !p.o.sink)) {
				const keys = [];
				for (const q of ps) {
					if (q === s || !(q.o.audio || q.o.video)) continue;
					if (q.o.audio) keys.push(`${q.part.pubId}/a`);
					if (q.o.video) keys.push(`${q.part.pubId}/v`);
				}
				expect.set(s.part.subId, keys);
			}
		// (a server may never deliver some streams: then, once nothing new
		// has arrived for a while, measure what does flow and say so)
		let st = null, have = 0, last = -1, lastChange = Date.now();
		const total = [...expect.values()].reduce((a, k) => a + k.length, 0);
		await waitFor(async () => {
			st = await lg.stats();
			have = 0;
			for (const e of st.eps) if (!e.pub) for (const k of expect.get(e.id) ?? []) if (k in e.from) have++;
			if (have === total) return true;
			if (have !== last) { last = have; lastChange = Date.now(); }
			return Date.now() - lastChange > 8000;
		}, 90000, 'every subscriber receives every stream');
		res.undelivered = total - have;
		if (res.undelivered) log(`${serverName} ${sc.name} #${rep}: ${res.undelivered} of ${total} (subscriber, stream) pairs never delivered`);
		// a subscriber's video starts at a key frame, and the publishers
		// answer the requests of many new subscribers one at a time, spaced
		// (the sinks are not asked above): the window opens once every
		// stream has started, where the server can say so
		await waitFor(async () => ((await srv.counters()).starting ?? 0) === 0, 30000,
			'every video stream has started on a key frame');
		res.setupSeconds = (performance.now() - tSetup) / 1000;
		await sleep(cfg.warmup * 1000);
		const loaded = procStat(srv.pid);
		// --- the measured window
		// The sinks count by arrival, the window by send time: their counter
		// is read with every publisher held and all they sent arrived, so
		// that it falls between the window's edges exactly (read while the
		// publishers went on, a frame sent between the read and the edge
		// was counted on the wrong side, one frame for every sink)
		const c0 = sinks.length ? (await lg.stop(true), await sinkSettled()) : 0;
		const m0 = await srv.counters();
		const { forwarded: fwd0, delay: h0, sendErrors: e0 } = m0;
		const d0 = udpDrops(srv.pid);
		const k0 = coreTimes();
		const s0 = procStat(srv.pid), g0 = procStat(lg.pid), n0 = procStat(process.pid);
		const q0 = napiCpu();
		const markUs = await lg.mark();
		const perf = env.BENCH_PERF === '1' ? startPerf(srv.pid, `${serverName}-${sc.name}-${rep}`) : null;
		await sleep(cfg.duration * 1000);
		const stopUs = await lg.stop(sinks.length > 0);
		if (perf) res.perf = await stopPerf(perf);
		const s1 = procStat(srv.pid), g1 = procStat(lg.pid), n1 = procStat(process.pid);
		const q1 = napiCpu();
		const k1 = coreTimes();
		const c1 = sinks.length ? await sinkSettled() : 0;
		const m1 = await srv.counters();
		const { forwarded: fwd1, delay: h1, sendErrors: e1 } = m1;
		const d1 = udpDrops(srv.pid);
		// packets sent before `stop` may still be on their way (a stalled
		// core holds them in socket buffers): wait until the counts settle
		await sleep(500);
		const rxTotal = (x) => x.eps.reduce((a, e) => a + (e.pub ? 0 : e.rx), 0);
		st = await lg.stats();
		for (let i = 0, prev = -1; i < 20 && rxTotal(st) !== prev; i++) {
			prev = rxTotal(st);
			await sleep(250);
			st = await lg.stats();
		}
		// --- numbers
		const win = (stopUs - markUs) / 1e6;
		const pubStats = new Map(st.eps.filter((e) => e.pub).map((e) => [e.id, e]));
		const sentOf = (key) => {
			const [id, k] = key.split('/');
			const p = pubStats.get(Number(id));
			return p ? p.sent_win[k === 'a' ? 0 : 1] : 0;
		};
		// loss over the streams that flow; streams never delivered are counted apart
		let expected = 0, received = 0, worst = 0, lostSeq = 0, authFail = 0, late = 0;
		const kf = [], upMs = [];
		const sinkIds = new Set(sinks.map((p) => p.part.subId));
		for (const e of st.eps) {
			if (e.pub || sinkIds.has(e.id)) continue; // sinks: below
			let ee = 0, rr = 0;
			for (const k of expect.get(e.id) ?? []) {
				if (!(k in e.from)) continue;
				ee += sentOf(k);
				rr += Math.min(e.from[k] ?? 0, sentOf(k));
			}
			expected += ee;
			received += rr;
			worst = Math.max(worst, ee ? 1 - rr / ee : 0);
			lostSeq += e.lost;
			late += e.late;
			authFail += e.auth_fail;
			if (e.kf_ms >= 0) kf.push(e.kf_ms);
			upMs.push(e.t_up_ms);
		}
		// the sinks: what each meeting's publisher sent in the window, once
		// per sink, against the RTP packets counted for them between just
		// before `mark` and just before `stop` (at either edge a millisecond
		// or so of traffic falls on the wrong side)
		let sinkExpected = 0;
		for (const { ps } of meetings) {
			const n = ps.filter((p) => p.o.sink).length;
			for (const q of ps.filter((p) => p.o.audio || p.o.video))
				sinkExpected += n * ((q.o.audio ? sentOf(`${q.part.pubId}/a`) : 0) + (q.o.video ? sentOf(`${q.part.pubId}/v`) : 0));
		}
		const sinkGot = c1 - c0;
		const sinkReceived = Math.min(sinkGot, sinkExpected);
		expected += sinkExpected;
		received += sinkReceived;
		// the server's receive path (its veth end's NAPI thread) is its CPU
		const napiSrv = q1.cv0 - q0.cv0, napiGen = q1.cv1 - q0.cv1;
		const cpu = s1.cpu - s0.cpu + napiSrv, wall = s1.t - s0.t;
		Object.assign(res, {
			ok: true,
			participants: parts.length,
			subscribers: subs.length,
			publishers: pubs.length,
			window: win,
			sent: [...pubStats.values()].reduce((a, p) => a + p.sent_win[0] + p.sent_win[1], 0),
			expected, received,
			loss: expected ? 1 - received / expected : 1,
			worstSubscriberLoss: worst,
			seqLost: lostSeq, late, authFail,
			pps: received / win,
			serverCpu: cpu / wall,
			// seconds per second the server's threads were runnable but not
			// running (the core was given to something else)
			serverRunqWait: (s1.runqWait - s0.runqWait) / wall,
			// share of the server's CPU in its media workers (the rest:
			// signaling, its timers); null when no thread is named media*
			mediaShare: s1.cpu > s0.cpu && s1.mediaCpu > s0.mediaCpu ? (s1.mediaCpu - s0.mediaCpu) / (s1.cpu - s0.cpu) : null,
			usPerPacket: received ? (cpu * 1e6) / received : null,
			// share of the server's CPU spent in the kernel (system calls, UDP)
			serverSysShare: s1.ticksCpu > s0.ticksCpu ? (s1.stime - s0.stime) / (s1.ticksCpu - s0.ticksCpu) : null,
			usPerPacketTicks: received ? ((s1.ticksCpu - s0.ticksCpu) * 1e6) / received : null,
			metricsForwarded: fwd0 != null && fwd1 != null ? fwd1 - fwd0 : null,
			// datagrams the kernel dropped for full receive buffers in the
			// window: at the server's socket, at the load generator's
			udpDropsServer: d1.server - d0.server, udpDropsGen: d1.gen - d0.gen,
			// datagrams conclave's sendmmsg could not send (socket buffer full)
			serverSendErrors: e0 != null && e1 != null ? e1 - e0 : null,
			// the send path (conclave only): datagrams per sendmmsg message
			// and per call, padding bytes per forwarded packet
			...sendPath(m0, m1, fwd0 != null && fwd1 != null ? fwd1 - fwd0 : null, wall),
			// the machine is shared: how busy each core was, and how much of
			// the server's core went to other processes
			coreBusy: k1.map((b, i) => (b.busy - k0[i].busy) / (b.total - k0[i].total)),
			// (with BENCH_WORKERS=2, of its two cores, per core)
			otherOnServerCore: Math.max(0, SERVER_CPUS.reduce((a, c) => a + (k1[c].busy - k0[c].busy) / (k1[c].total - k0[c].total), 0) / WORKERS -
				cpu / wall / WORKERS),
			genCpu: (g1.cpu - g0.cpu + napiGen) / (g1.t - g0.t),
			// of serverCpu: the NAPI thread receiving the server's datagrams
			serverNapiCpu: NAPI ? napiSrv / wall : null,
			driverCpu: (n1.cpu - n0.cpu) / (n1.t - n0.t),
			delayP50: st.delay.p50, delayP99: st.delay.p99, delayMax: st.delay.max,
			// how late the publishers sent against their schedule: the share
			// of frames and audio packets sent more than 2 ms late, the latest
			genLateOver2ms: st.send_late?.n ? st.send_late.over2ms / st.send_late.n : null,
			genLateMaxMs: st.send_late?.max_ms ?? null,
			// conclave's own histogram: kernel receive time to end of send
			serverDelayP50: histQuantile(h0, h1, 0.5), serverDelayP99: histQuantile(h0, h1, 0.99),
			serverDelayCount: h0 && h1 ? h1[h1.length - 1][1] - h0[h0.length - 1][1] : null,
			keyframeMs: kf.length ? quantiles(kf) : null,
			keyframeMissing: subs.length - sinks.length - kf.length,
			sinks: sinks.length, sinkExpected, sinkReceived: sinkGot,
			dtlsUpMs: quantiles(upMs),
			memPerParticipant: (loaded.rss - idle.rss) / parts.length,
			rssIdle: idle.rss, rssLoaded: loaded.rss,
			profile: lg.upInfo.size ? [...new Set([...lg.upInfo.values()].map((u) => u.profile))].join(',') : null,
		});
	} catch (e) {
		res.error = e.message;
		log(`${serverName} ${sc.name} #${rep}: ERROR ${e.message}`);
	} finally {
		removeSinks();
		if (uso) serverUso(true);
		for (const p of parts) await p.part.leave().catch(() => {});
		if (lg) await lg.quit();
		const ex = await srv.stop().catch((e) => ({ error: e.message }));
		if (ex && (ex.sig && ex.sig !== 'SIGTERM' || (ex.code != null && ex.code !== 0))) {
			res.serverExit = ex;
			if (res.ok) { res.ok = false; res.error = `server exit ${JSON.stringify(ex)}`; }
		}
		if (res.ok && !env.BENCH_KEEP_LOGS) fs.rmSync(logFile, { force: true });
		else res.log = path.relative(REPO, logFile);
	}
	return res;
}

/**
 * BENCH_PERF=1: a call-graph profile of the server's threads over the
 * measured window (perf record, BENCH_PERF_HZ samples per second of CPU,
 * 1000 unless set: a lightly loaded server needs more), to
 * build/bench/perf-<run>.data; the
 * CPU figures of a profiled run include perf's own sampling cost.
 * bench/perf-summary.mjs sorts a profile into where the time goes.
 */
function startPerf(pid, name) {
	const file = path.join(BUILD, 'bench', `perf-${name}.data`);
	const proc = spawn('perf', ['record', '-q', '-F', env.BENCH_PERF_HZ ?? '1000', '-g', '-p', String(pid), '-o', file],
		{ stdio: ['ignore', 'ignore', 'inherit'] });
	return { proc, file, done: new Promise((r) => proc.on('exit', r)) };
}

async function stopPerf(p) {
	p.proc.kill('SIGINT');
	await p.done;
	return path.relative(REPO, p.file);
}

/** How late 1 ms sleeps wake up on the server's core at the server's priority. */
function jitterProbe(seconds) {
	const [cmd, args] = pinned(LOADGEN, ['--jitter', String(seconds)], SERVER_CPU);
	try {
		const j = JSON.parse(execFileSync(cmd, args, { encoding: 'utf8' }));
		log(`scheduler probe (${seconds} s on core ${SERVER_CPU}): max wake-up delay ${j.maxLateMs.toFixed(1)} ms, ` +
			`${j.over10ms} wake-ups > 10 ms, ${j.over100ms} > 100 ms`);
		return j;
	} catch (e) {
		return { error: e.message };
	}
}

/** Busy and total jiffies per core, from /proc/stat. */
// The capacity scenarios' sinks (scenario()): their transports use an
// address of their own on the load generator's veth end (SINK_IP), and a tc
// filter on its ingress takes the RTP the server sends there (UDP payload
// of RTP version 2 with a dynamic payload type, 96-127: the second octet's
// bit 0x20 is set, which no RTCP packet type, 200-206, has) before any socket
// and redirects it to a veth end whose peer is down, where it is dropped.
// STUN, DTLS and RTCP pass, so the sinks' transports live on like any
// subscriber's. The redirect action counts datagrams, not packets: a UDP
// GSO message, which crosses the veth whole and would be split only at the
// receiving socket, counts as the datagrams it carries (tc's byte and
// packet statistics count a GSO packet's segments). nftables could not do
// that, so until 2026-11-28 the server's veth end had to split the messages
// itself for the sinks to be counted (now the -split scenarios).
const SINK_IP = '10.77.0.4';
const SINK_DEV = 'cvsink0';
const SINK_ACTION = 4077;

function installSinks() {
	removeSinks();
	const sh = (cmd) => execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
	sh(`ip link add ${SINK_DEV} type veth peer name cvsink1 && ip link set ${SINK_DEV} up && tc qdisc add dev cv1 clsact && ` +
		`tc filter add dev cv1 ingress prio 1 protocol ip u32 match ip src ${SERVER_IP}/32 match ip dst ${SINK_IP}/32 ` +
		'match ip protocol 17 0xff match u8 0x80 0xc0 at 28 match u8 0x20 0x20 at 29 ' +
		`action mirred egress redirect dev ${SINK_DEV} index ${SINK_ACTION}`);
}

/** RTP datagrams the sinks' filter has taken so far. */
function sinkCount() {
	const j = JSON.parse(execFileSync('tc', ['-s', '-j', 'actions', 'get', 'action', 'mirred', 'index', String(SINK_ACTION)],
		{ encoding: 'utf8' }));
	for (const item of j)
		for (const a of item.actions ?? [])
			if (a.index === SINK_ACTION && a.stats) return a.stats.packets;
	throw new Error('no statistics for the sinks\' filter');
}

/** The sinks' counter once it stops moving (the publishers held). */
async function sinkSettled() {
	let prev = -1;
	const { n } = await waitFor(() => {
		const n = sinkCount();
		if (n === prev) return { n };
		prev = n;
		return null;
	}, 10000, 'the sinks\' counter settles with the publishers held', 100);
	return n;
}

function removeSinks() {
	spawnSync('tc', ['qdisc', 'del', 'dev', 'cv1', 'clsact'], { stdio: 'ignore' });
	spawnSync('ip', ['link', 'del', SINK_DEV], { stdio: 'ignore' });
}

/** UDP segmentation offload of the server's veth end, on or off. */
function serverUso(on) {
	execFileSync('ip', ['netns', 'exec', SERVER_NS, 'ethtool', '-K', 'cv0', 'tx-udp-segmentation', on ? 'on' : 'off']);
}

/** Threads (pids) of dev's threaded NAPI: named napi/<dev>-<id>. */
function napiThreads(dev) {
	const pids = [];
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		try {
			if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').startsWith(`napi/${dev}-`)) pids.push(Number(d));
		} catch { /* gone */ }
	}
	return pids;
}

/** Run time (s) of each veth end's NAPI threads; zeros without BENCH_NAPI. */
function napiCpu() {
	const out = { cv0: 0, cv1: 0 };
	if (!NAPI) return out;
	for (const dev of ['cv0', 'cv1'])
		for (const pid of napiThreads(dev)) {
			try { out[dev] += procStat(pid).cpu; } catch { /* gone */ }
		}
	return out;
}

function coreTimes() {
	const out = [];
	for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
		const m = /^cpu(\d+) (.*)$/.exec(line);
		if (!m) continue;
		const v = m[2].trim().split(/\s+/).map(Number);
		const idle = v[3] + v[4];
		const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
		out[Number(m[1])] = { busy: total - idle, total };
	}
	return out;
}

/** Receive-buffer drops per side, from /proc/net/udp of each side's namespace. */
function udpDrops(serverPid) {
	let server = 0, gen = 0;
	const files = SERVER_NS ? ['/proc/net/udp', `/proc/${serverPid}/net/udp`] : ['/proc/net/udp'];
	for (const file of files)
		for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
			const f = line.trim().split(/\s+/);
			if (f.length < 13) continue;
			const drops = Number(f[f.length - 1]);
			const ours = file === '/proc/net/udp';
			if (f[1].startsWith('02004D0A:')) { if (ours) gen += drops; } // 10.77.0.2, little-endian hex
			else if (!ours || !SERVER_NS) server += drops;
		}
	return { server, gen };
}

function sendPath(m0, m1, forwarded, wall) {
	const d = (k) => (m0[k] != null && m1[k] != null ? m1[k] - m0[k] : null);
	const sent = d('sent'), messages = d('messages'), calls = d('calls'), pad = d('padBytes');
	const tucked = d('tucked');
	const wakeups = d('wakeups'), reads = d('reads'), received = d('received');
	const early = d('ticksEarly');
	return {
		// the media worker's wake-ups: how many, what each one carries, and
		// what each read brings in; the idle ticks that ran early, in a
		// wake-up for datagrams, instead of waking the worker on their own
		wakeupsPerSec: wakeups != null ? wakeups / wall : null,
		ticksEarlyPerSec: early != null ? early / wall : null,
		forwardedPerWakeup: wakeups && forwarded ? forwarded / wakeups : null,
		datagramsPerRead: received != null && reads ? received / reads : null,
		datagramsPerMessage: sent != null && messages ? sent / messages : null,
		datagramsPerCall: sent != null && calls ? sent / calls : null,
		padBytesPerPacket: pad != null && forwarded ? pad / forwarded : null,
		// shorter packets (audio) sent as the last of another stream's run
		tuckedPerSec: tucked != null ? tucked / wall : null,
	};
}

function fmt(r) {
	if (!r.ok) return `FAILED: ${r.error}`;
	const f = (x, d = 1) => (x == null ? '-' : x.toFixed(d));
	return `${Math.round(r.pps)} pkt/s fwd, server ${f(r.serverCpu * 100)}% CPU = ${f(r.usPerPacket, 2)} µs/pkt` +
		`${r.metricsForwarded != null ? ` (/metrics ${r.metricsForwarded} vs ${r.received} counted)` : ''}, ` +
		`loss ${f(r.loss * 100, 3)}%, delay p50 ${f(r.delayP50, 2)} p99 ${f(r.delayP99, 2)} ms` +
		(r.serverDelayP99 != null ? ` (in the server p50 ${f(r.serverDelayP50, 3)} p99 ${f(r.serverDelayP99, 3)} ms)` : '') + ', ' +
		`key frame ${r.keyframeMs ? f(r.keyframeMs.median, 0) : '-'} ms, ${f(r.memPerParticipant / 1024, 0)} KiB/participant, ` +
		`generator ${f(r.genCpu * 100)}% CPU` +
		(r.genLateOver2ms != null ? ` (sent > 2 ms late ${f(r.genLateOver2ms * 100, 2)}%, latest ${f(r.genLateMaxMs, 1)} ms)` : '') +
		`, others on server core ${f(r.otherOnServerCore * 100)}%, ` +
		`server waited for its core ${f(r.serverRunqWait * 1000, 0)} ms/s` +
		(r.mediaShare != null ? `, media workers ${f(r.mediaShare * 100, 0)}% of server CPU` : '') +
		(r.udpDropsServer || r.udpDropsGen ? `, UDP drops server ${r.udpDropsServer} generator ${r.udpDropsGen}` : '') +
		(r.serverSendErrors ? `, server send errors ${r.serverSendErrors}` : '') +
		(r.datagramsPerMessage != null ? `, ${f(r.datagramsPerMessage, 2)} datagrams/message, ${f(r.datagramsPerCall, 0)}/call` +
			(r.padBytesPerPacket != null ? `, padding ${f(r.padBytesPerPacket, 3)} B/packet` : '') +
			(r.tuckedPerSec != null ? `, ${f(r.tuckedPerSec, 0)} tucked/s` : '') : '') +
		(r.forwardedPerWakeup != null ? `, ${f(r.wakeupsPerSec, 0)} wake-ups/s, ${f(r.forwardedPerWakeup, 1)} forwarded/wake-up, ${f(r.datagramsPerRead, 2)} datagrams/read` : '') +
		(r.ticksEarlyPerSec != null ? `, ${f(r.ticksEarlyPerSec, 1)} ticks early/s` : '') +
		(r.undelivered ? `, ${r.undelivered} streams never delivered` : '');
}

function machine() {
	const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown';
	const ver = (cmd, args, re = /^(.*)$/m) => {
		const p = spawnSync(cmd, args, { encoding: 'utf8' }); // janus --version exits non-zero
		return (re.exec(`${p.stdout ?? ''}${p.stderr ?? ''}`) ?? [])[1] ?? null;
	};
	return {
		cpu, cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30),
		kernel: os.release(), node: process.version,
		conclave: ver(CONCLAVE, ['--version'], /conclave (\S+)/),
		janus: janusBinary() ? ver(janusBinary(), ['--version'], /Janus version: \d+ \((.*)\)/) : null,
		libsrtp: ver('dpkg-query', ['-W', '-f=${Version}', 'libsrtp2-1']),
		nettle: ver('dpkg-query', ['-W', '-f=${Version}', 'libnettle8']),
		openssl: ver('openssl', ['version']),
	};
}

async function main() {
	for (const [what, p] of [['server', CONCLAVE], ['load generator', LOADGEN]])
		if (!fs.existsSync(p)) throw new Error(`no ${what} at ${p}: run make build/conclave build/bench/loadgen`);
	if (WORKERS !== 1 && (cfg.servers.join() !== 'conclave' || WORKERS < 1 || SERVER_CPU + WORKERS > os.cpus().length))
		throw new Error(`BENCH_WORKERS=${env.BENCH_WORKERS}: conclave only (BENCH_SERVERS=conclave), one core per worker`);
	if (cfg.servers.includes('janus') && !janusBinary())
		throw new Error('Janus is not installed: apt-get install janus (make bench installs it through scripts/deps.sh bench)');
	if (SERVER_NS) {
		// two hosts joined by the veth: each side's receive path (the
		// softirq that puts a datagram into a socket and wakes its reader)
		// runs on that side's core, steered there by RPS, and is not
		// charged to whoever sent the datagram
		if (NAPI) {
			// like a NIC: each side's veth end receives in a NAPI thread of
			// its own (GRO on makes a veth use NAPI; "threaded" moves the
			// poll out of the sender's softirq), pinned to that side's core
			// and counted as that side's CPU; it takes datagrams off its
			// ring in batches, so a busy link costs no interrupt per
			// datagram
			const on = (dev) => `ethtool -K ${dev} gro on rx-udp-gro-forwarding on && echo 1 > /sys/class/net/${dev}/threaded`;
			execFileSync('ip', ['netns', 'exec', SERVER_NS, 'sh', '-c', on('cv0')]);
			execFileSync('sh', ['-c', on('cv1')]);
			for (const [dev, cpu] of [['cv0', SERVER_CPU], ['cv1', GEN_CPU]]) {
				const pids = napiThreads(dev);
				if (!pids.length) throw new Error(`no NAPI thread for ${dev}`);
				for (const pid of pids) {
					execFileSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
					os.setPriority(pid, -20);
				}
			}
		} else if (env.BENCH_RPS !== '0') {
			// (a veth has a receive queue per CPU: every one of them)
			execFileSync('ip', ['netns', 'exec', SERVER_NS, 'sh', '-c',
				`for q in /sys/class/net/cv0/queues/rx-*; do echo ${SERVER_CPUS.reduce((a, c) => a | (1 << c), 0).toString(16)} > $q/rps_cpus; done`]);
			for (const q of fs.readdirSync('/sys/class/net/cv1/queues').filter((d) => d.startsWith('rx-')))
				fs.writeFileSync(`/sys/class/net/cv1/queues/${q}/rps_cpus`, `${1 << GEN_CPU}\n`);
		}
	} else {
		// both ends in one namespace (BENCH_TOPOLOGY=shared): Janus forces
		// its packets out of the veth (IP_UNICAST_IF) though both ends live
		// here: accept a local source address arriving on it
		execFileSync('sysctl', ['-q', '-w', 'net.ipv4.conf.all.accept_local=1', 'net.ipv4.conf.cv0.accept_local=1',
			'net.ipv4.conf.cv1.accept_local=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.cv0.rp_filter=0',
			'net.ipv4.conf.cv1.rp_filter=0']);
	}
	// the capacity scenarios' sinks have an address of their own
	if (SERVER_NS) execFileSync('ip', ['addr', 'replace', `${SINK_IP}/24`, 'dev', 'cv1']);
	execFileSync('taskset', ['-p', '-c', String(GEN_CPU), String(process.pid)], { stdio: 'ignore' });
	try { os.setPriority(-20); } catch { /* not root: keep going */ }
	const jitter = {};
	if (!SMOKE) jitter.before = jitterProbe(5);
	const started = new Date();
	log(`${SMOKE ? 'smoke' : PARTIAL ? 'partial' : 'full'} run: servers ${cfg.servers.join(', ')}${WORKERS > 1 ? ` (${WORKERS} media workers on cores ${SERVER_CPUS.join(', ')})` : ''}; ${cfg.reps} repetition(s) of ${cfg.duration} s; scenarios ${cfg.scenarios.join(', ')}`);
	const results = [];
	// each sweep -> why it stopped: "server, fan-out", "server" (the
	// capacity sweep) and "server, split by the server" (the capacity sweep
	// whose server splits its messages)
	const stopped = new Map();
	const fanoutStopped = new Map(); // server -> why (no capacity sweep then)
	for (const name of cfg.scenarios) {
		const sc = scenario(name);
		for (const server of cfg.servers) {
			const sweep = sc.kind === 'fanout' || sc.kind === 'capacity';
			const key = sc.kind === 'fanout' ? `${server}, fan-out` : sc.split ? `${server}, split by the server` : server;
			if (sweep && (stopped.has(key) || (sc.kind === 'capacity' && fanoutStopped.has(server)))) {
				results.push({ server, scenario: name, skipped: stopped.get(key) ?? fanoutStopped.get(server) });
				continue;
			}
			const runs = [];
			for (let rep = 1; rep <= cfg.reps; rep++) {
				const r = await runOnce(server, sc, rep);
				log(`${server} ${sc.label} #${rep}: ${fmt(r)}`);
				runs.push(r);
				results.push(r);
			}
			const ok = runs.filter((r) => r.ok);
			if (sweep && !SMOKE) {
				const med = (k) => quantiles(ok.map((r) => r[k])).median;
				if (!ok.length) stopped.set(key, `${name} failed`);
				// loss counts only where the server had its core: on a shared
				// machine another process's burst can cause it at any size
				else if (med('loss') > 0.01 && med('otherOnServerCore') < 0.3)
					stopped.set(key, `loss ${(med('loss') * 100).toFixed(1)}% at ${name}`);
				else if (med('serverCpu') > 0.95 * WORKERS)
					stopped.set(key, `server saturated (${(med('serverCpu') * 100).toFixed(0)}% of a core) at ${name}`);
				else if (med('genCpu') > 0.9) stopped.set(key, `load generator saturated at ${name}`);
				// the capacity sweep starts where the fan-out stopped, unless
				// what stopped it was the load generator, which the sinks
				// relieve (that is what they are for)
				if (sc.kind === 'fanout' && stopped.has(key) && !/load generator/.test(stopped.get(key)))
					fanoutStopped.set(server, stopped.get(key));
			}
		}
	}
	if (!SMOKE) jitter.after = jitterProbe(5);
	const topology = !SERVER_NS ? 'shared' : NAPI ? 'veth+napi' : env.BENCH_RPS === '0' ? 'veth' : 'veth+rps';
	const out = { smoke: SMOKE, partial: PARTIAL, jitter, topology, started: started.toISOString(), finished: new Date().toISOString(), cfg, machine: machine(),
		scenarios: Object.fromEntries(cfg.scenarios.map((n) => { const s = scenario(n); return [n, { label: s.label, about: s.about, kind: s.kind, split: s.split, n: s.n }]; })),
		stopped: Object.fromEntries(stopped), results };
	fs.mkdirSync(path.join(BUILD, 'bench'), { recursive: true });
	const file = path.join(BUILD, 'bench', SMOKE ? 'smoke.json' : PARTIAL ? 'partial.json' : 'results.json');
	fs.writeFileSync(file, JSON.stringify(out, null, 1));
	log(`results in ${path.relative(REPO, file)}`);
	if (SMOKE) return smokeVerdict(results);
	if (PARTIAL) {
		const { partialTables } = await import('./report.mjs');
		const md = partialTables(out).join('\n') + '\n';
		fs.writeFileSync(path.join(BUILD, 'bench', 'partial.md'), md);
		console.log(md);
		log('partial run: docs/ and results.json left as they were; tables in build/bench/partial.md');
		return 0;
	}
	const { writeReport } = await import('./report.mjs');
	await writeReport(out, { repo: REPO });
	return 0;
}

/** The smoke run's checks: it works end to end and counts correctly. */
function smokeVerdict(results) {
	let passed = 0, failed = 0;
	const check = (ok, what) => {
		if (ok) passed++;
		else failed++;
		console.log(`${ok ? 'ok' : 'FAIL'} - ${what}`);
	};
	for (const r of results) {
		const id = `${r.server} ${r.scenario} #${r.rep}`;
		check(r.ok, `${id}: ran end to end${r.ok ? '' : ` (${r.error})`}`);
		if (!r.ok) continue;
		check(r.sent > 0 && r.received > 0, `${id}: publishers sent (${r.sent}) and subscribers received (${r.received})`);
		// on a private path nothing is lost: every subscriber gets every
		// packet sent in the window (tolerance for a stray drop)
		check(r.expected > 0 && r.received >= r.expected * 0.995 && r.received <= r.expected,
			`${id}: received ${r.received} of ${r.expected} (= sent x subscribers)`);
		check(r.authFail === 0 && r.seqLost <= r.expected * 0.005,
			`${id}: every packet authenticated (${r.authFail} failures), sequence gaps ${r.seqLost}`);
		if (r.metricsForwarded != null)
			check(Math.abs(r.metricsForwarded - r.received) <= Math.max(50, r.received * 0.03),
				`${id}: /metrics forwarded ${r.metricsForwarded} agrees with ${r.received} counted`);
		if (r.serverDelayCount != null)
			check(r.metricsForwarded != null && r.serverDelayCount >= r.metricsForwarded && r.serverDelayP99 > 0,
				`${id}: the server's delay histogram counted ${r.serverDelayCount} sends (>= ${r.metricsForwarded} forwarded), ` +
				`p50 ${r.serverDelayP50?.toFixed(3)} ms, p99 ${r.serverDelayP99?.toFixed(3)} ms`);
		if (r.server === 'conclave')
			// video flows: some of it goes in UDP GSO messages of several
			// datagrams, and a sendmmsg call carries several messages
			check(r.datagramsPerMessage > 1 && r.datagramsPerCall >= r.datagramsPerMessage &&
				r.padBytesPerPacket >= 0 && r.padBytesPerPacket < 16,
				`${id}: send path ${r.datagramsPerMessage?.toFixed(2)} datagrams per message, ` +
				`${r.datagramsPerCall?.toFixed(1)} per sendmmsg call, padding ${r.padBytesPerPacket?.toFixed(3)} bytes per packet`);
		if (r.server === 'conclave')
			// every forwarded packet came in on a wake-up and a read
			check(r.forwardedPerWakeup > 0 && r.datagramsPerRead >= 1,
				`${id}: ${r.forwardedPerWakeup?.toFixed(1)} packets forwarded per wake-up of the media worker, ` +
				`${r.datagramsPerRead?.toFixed(2)} datagrams per read`);
		if (r.server === 'conclave')
			// media flows all through the window: the idle ticks run in
			// wake-ups for datagrams (docs/media.md, Timers)
			check(r.ticksEarlyPerSec > 0,
				`${id}: ${r.ticksEarlyPerSec?.toFixed(1)} idle ticks a second run early, in wake-ups for datagrams ` +
				`(${r.wakeupsPerSec?.toFixed(0)} wake-ups a second)`);
		check(r.undelivered === 0, `${id}: every subscriber receives every stream (${r.undelivered} missing)`);
		if (!/^audio/.test(r.scenario))
			check(r.keyframeMs != null && r.keyframeMissing === 0, `${id}: every subscriber got a key frame`);
	}
	console.log(`smoke: ${passed} passed, ${failed} failed`);
	return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
	console.error(`bench: ${e.stack ?? e.message}`);
	process.exit(1);
});
