// Writes docs/benchmarks.md and docs/benchmarks-cpu.png from a full run's
// results (build/bench/results.json). The hand-written analysis (profile,
// findings) lives in bench/notes.md and is included as it is.
//
//   node bench/report.mjs [results.json]    re-renders without re-running

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantiles } from './lib/util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const f = (x, d = 1) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(d));
const mmm = (q, d = 1) => (q && !Number.isNaN(q.median) ? `${f(q.min, d)} / **${f(q.median, d)}** / ${f(q.max, d)}` : '–');
// conclave's own delay histogram (kernel receive to end of send), median of the repetitions
const serverDelay = (x) => (x.sp99 && !Number.isNaN(x.sp99.median) ? `${f(x.sp50.median, 3)} / ${f(x.sp99.median, 3)}` : '–');
const kpps = (x) => (x == null || Number.isNaN(x) ? '–' : x >= 10000 ? `${(x / 1000).toFixed(0)}k` : `${(x / 1000).toFixed(1)}k`);

/** Per (scenario, server): quantiles of each measure over the good repetitions. */
function summarise(out) {
	const rows = [];
	for (const name of out.cfg.scenarios) {
		const sc = out.scenarios[name];
		const row = { name, ...sc, servers: {} };
		for (const server of out.cfg.servers) {
			const rs = out.results.filter((r) => r.scenario === name && r.server === server);
			const skipped = rs.find((r) => r.skipped);
			const ok = rs.filter((r) => r.ok);
			const q = (k) => quantiles(ok.map((r) => r[k]).filter((x) => x != null));
			row.servers[server] = skipped ? { skipped: skipped.skipped } : {
				runs: rs.length, ok: ok.length, errors: rs.filter((r) => !r.ok).map((r) => r.error),
				pps: q('pps'), us: q('usPerPacket'), cpu: q('serverCpu'), gen: q('genCpu'),
				loss: q('loss'), p50: q('delayP50'), p99: q('delayP99'),
				sp50: q('serverDelayP50'), sp99: q('serverDelayP99'),
				kf: quantiles(ok.map((r) => r.keyframeMs?.median).filter((x) => x != null)),
				kfMax: quantiles(ok.map((r) => r.keyframeMs?.max).filter((x) => x != null)),
				mem: q('memPerParticipant'), other: q('otherOnServerCore'), runq: q('serverRunqWait'),
				undelivered: q('undelivered'), dropsServer: q('udpDropsServer'),
				metricsRatio: quantiles(ok.filter((r) => r.metricsForwarded != null && r.received)
					.map((r) => r.metricsForwarded / r.received)),
				profile: [...new Set(ok.map((r) => r.profile))].join(','),
			};
		}
		rows.push(row);
	}
	return rows;
}

function chart(rows, servers, pngPath, tmpDir) {
	const fan = rows.filter((r) => r.kind === 'fanout');
	const dat = path.join(tmpDir, 'bench-cpu.dat');
	const lines = ['# N ' + servers.map((s) => `${s}_min ${s}_med ${s}_max`).join(' ')];
	for (const r of fan)
		lines.push([r.n, ...servers.flatMap((s) => {
			const x = r.servers[s];
			return x && !x.skipped && x.ok ? [x.us.min, x.us.median, x.us.max] : ['NaN', 'NaN', 'NaN'];
		})].join(' '));
	fs.writeFileSync(dat, lines.join('\n') + '\n');
	const colors = { conclave: '#1f6feb', janus: '#d1242f' };
	const plots = servers.map((s, i) =>
		`'${dat}' using 1:${3 + 3 * i}:${2 + 3 * i}:${4 + 3 * i} with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '${colors[s] ?? '#555'}' title '${s}'`);
	const gp = [
		`set terminal pngcairo size 900,540 font 'sans,11'`,
		`set output '${pngPath}'`,
		`set title 'Server CPU time per forwarded packet, one publisher to N subscribers (median, min–max of the repetitions)'`,
		`set xlabel 'subscribers (N)'`,
		`set ylabel 'CPU µs per forwarded packet'`,
		'set logscale x 2',
		fan.length ? `set xtics (${fan.map((r) => r.n).join(', ')})` : '',
		fan.length ? `set xrange [${fan[0].n / 1.4}:${fan[fan.length - 1].n * 1.4}]` : '',
		'set yrange [0:*]',
		'set grid',
		'set key top right',
		`plot ${plots.join(', ')}`,
	].filter(Boolean).join('\n');
	execFileSync('gnuplot', [], { input: gp });
}

/** Markdown tables of a partial run (bench/run.mjs with fewer scenarios,
 * servers or repetitions): CPU per packet and quality, for pasting into
 * bench/notes.md beside the full run's tables. */
export function partialTables(out) {
	const rows = summarise(out);
	const servers = out.cfg.servers;
	const L = [];
	const cell = (x, fn) => (!x ? '–' : x.skipped ? 'not run' : !x.ok ? `failed (${x.errors[0] ?? '?'})` : fn(x));
	L.push(`Partial run of ${out.started.slice(0, 10)} (${out.started.slice(11, 16)}–${out.finished.slice(11, 16)} UTC): ` +
		`${servers.join(', ')}; ${out.cfg.reps} repetition(s) of ${out.cfg.duration} s; SRTP profile ` +
		`${[...new Set(rows.flatMap((r) => servers.map((s) => r.servers[s]?.profile).filter(Boolean)))].join(', ') || '?'}.`);
	L.push('');
	L.push(`| scenario | forwarded packets/s | ${servers.map((s) => `${s} µs/packet`).join(' | ')} | ${servers.map((s) => `${s} CPU`).join(' | ')} | Janus ÷ conclave |`);
	L.push(`|---|---|${servers.map(() => '---').join('|')}|${servers.map(() => '---').join('|')}|---|`);
	for (const r of rows) {
		const c = r.servers.conclave, j = r.servers.janus;
		const ratio = c?.ok && j?.ok && c.us.median ? `${(j.us.median / c.us.median).toFixed(1)}×` : '–';
		L.push(`| ${r.label} | ${servers.map((s) => cell(r.servers[s], (x) => kpps(x.pps.median))).join(' / ')} | ` +
			`${servers.map((s) => cell(r.servers[s], (x) => mmm(x.us, 2))).join(' | ')} | ` +
			`${servers.map((s) => cell(r.servers[s], (x) => `${f(x.cpu.median * 100, 0)} %`)).join(' | ')} | ${ratio} |`);
	}
	L.push('');
	L.push('| scenario | server | loss | delay p50 / p99 ms | in the server p50 / p99 ms | first key frame ms | other load on server core | server waited for its core |');
	L.push('|---|---|---|---|---|---|---|---|');
	for (const r of rows)
		for (const s of servers) {
			const x = r.servers[s];
			if (!x || x.skipped || !x.ok) continue;
			const und = x.undelivered.median ? ` (+${f(x.undelivered.median, 0)} streams never delivered)` : '';
			L.push(`| ${r.label} | ${s} | ${f(x.loss.median * 100, 2)} %${und} | ${f(x.p50.median, 2)} / ${f(x.p99.median, 2)} | ` +
				`${serverDelay(x)} | ${f(x.kf.median, 0)} (${f(x.kfMax.median, 0)}) | ${f(x.other.median * 100, 0)} % | ` +
				`${Number.isNaN(x.runq.median) ? '–' : `${f(x.runq.median * 1000, 0)} ms/s`} |`);
		}
	return L;
}

/** How the server and the load generator were connected (bench/run.mjs). */
function topologyText(topology) {
	if (topology === 'veth+napi')
		return 'They run in two network namespaces joined by a veth pair, like two hosts on a link; each veth end ' +
			'receives in a NAPI thread of its own, pinned to its side\'s core, as a NIC\'s receive queue would ' +
			'(BENCH_NAPI=1): the server\'s CPU includes the thread that receives its datagrams, and a busy link ' +
			'costs no interrupt per datagram.';
	if (topology === 'veth+rps' || topology === 'veth')
		return 'They run in two network namespaces joined by a veth pair, like two hosts on a link' +
			(topology === 'veth+rps' ? ', and each side\'s receive path (the softirq that queues a datagram to its socket ' +
				'and wakes the reader) is steered to that side\'s own core with RPS: the server pays for sending its ' +
				'datagrams and receiving its own, not for the load generator receiving them. Handing a datagram to the ' +
				'other core costs the sender an inter-processor interrupt, which a real NIC does not (see "Where ' +
				'conclave\'s time goes").' : ' (no RPS: each datagram\'s receive path runs on the sender\'s core).');
	return 'Both ran in one network namespace, so their datagrams went over `lo` and the kernel delivered each into the ' +
		'receiving socket on the sender\'s core, charging the receiver\'s work to the sender (BENCH_TOPOLOGY=shared).';
}

export async function writeReport(out, { repo = path.resolve(here, '..') } = {}) {
	const rows = summarise(out);
	const servers = out.cfg.servers;
	const docs = path.join(repo, 'docs');
	const png = path.join(docs, 'benchmarks-cpu.png');
	chart(rows, servers, png, path.join(repo, 'build', 'bench'));
	const m = out.machine;
	const L = [];
	L.push('# Benchmarks: forwarding cost and capacity, conclave and Janus');
	L.push('');
	L.push('<!-- Generated by `make bench` (bench/run.mjs, bench/report.mjs) from build/bench/results.json;');
	L.push('     the analysis at the end comes from bench/notes.md. Do not edit by hand. -->');
	L.push('');
	L.push(`Run of ${out.started.slice(0, 10)} (${out.started.slice(11, 16)}–${out.finished.slice(11, 16)} UTC) on ${m.cpu}, ` +
		`${m.cores} cores, ${m.memGiB} GiB, Linux ${m.kernel}. conclave ${m.conclave ?? '?'}; Janus ${m.janus ?? 'not installed'} ` +
		`(Debian package, VideoRoom plugin, default settings); libsrtp2 ${m.libsrtp ?? '?'}; ${m.nettle ? `Nettle ${m.nettle}; ` : ''}${m.openssl ?? ''}; Node.js ${m.node}.` +
		// a sweep run again apart and merged in (said, never hidden)
		(out.capacityRun ? ` The capacity sweep's rows (\`capacity-K\`) are of a second invocation right after, ` +
			`${out.capacityRun.started.slice(11, 16)}–${out.capacityRun.finished.slice(11, 16)} UTC, same build and method: ${out.capacityRun.why}.` : ''));
	L.push('');
	L.push(`Each scenario ran ${out.cfg.reps} times per server, ${out.cfg.duration} s measured after a ${out.cfg.warmup} s warm-up; ` +
		'figures are **min / median / max** over the repetitions. The server is pinned to core 0, the load generator ' +
		'(and the driver) to core 1, so the server has one core. ' + topologyText(out.topology));
	L.push('');
	const jb = out.jitter?.before, ja = out.jitter?.after;
	if (jb && ja && !jb.error && !ja.error)
		L.push(`The machine is a shared two-core virtual machine. A probe that sleeps 1 ms at a time on the server's core, ` +
			`at the server's priority, woke up to ${f(Math.max(jb.maxLateMs, ja.maxLateMs), 0)} ms late before and after the run ` +
			`(${jb.over10ms + ja.over10ms} of ${jb.wakeups + ja.wakeups} wake-ups more than 10 ms late, ${jb.over100ms + ja.over100ms} more than 100 ms): ` +
			'delay percentiles here include such stalls of the machine itself, for both servers alike. CPU time per packet is not affected by them.');
	L.push('');
	L.push('![CPU µs per forwarded packet vs subscribers](benchmarks-cpu.png)');
	L.push('');
	L.push('## CPU time per forwarded packet');
	L.push('');
	L.push('Server CPU (run time of all the server\'s threads over the measured window, from `/proc/PID/task/*/schedstat`; `utime+stime` from `/proc/PID/stat` agrees but counts in 10 ms ticks) divided by the ' +
		'RTP packets the subscribers received in it. Lower is better; the last column is how many times more Janus spends.');
	L.push('');
	L.push(`| scenario | forwarded packets/s | ${servers.map((s) => `${s} µs/packet`).join(' | ')} | ${servers.map((s) => `${s} CPU (of one core)`).join(' | ')} | Janus ÷ conclave |`);
	L.push(`|---|---|${servers.map(() => '---').join('|')}|${servers.map(() => '---').join('|')}|---|`);
	// (a sweep's steps after it stopped on every server are left out)
	const ran = rows.filter((r) => servers.some((s) => r.servers[s] && !r.servers[s].skipped));
	for (const r of ran) {
		const c = r.servers.conclave, j = r.servers.janus;
		const cell = (x, fn) => (!x ? '–' : x.skipped ? 'not run' : !x.ok ? `failed (${x.errors[0] ?? '?'})` : fn(x));
		const ratio = c?.ok && j?.ok && c.us.median ? `${(j.us.median / c.us.median).toFixed(1)}×` : '–';
		const pps = servers.map((s) => cell(r.servers[s], (x) => kpps(x.pps.median))).join(' / ');
		L.push(`| ${r.label} | ${pps} | ${servers.map((s) => cell(r.servers[s], (x) => mmm(x.us, 2))).join(' | ')} | ` +
			`${servers.map((s) => cell(r.servers[s], (x) => `${f(x.cpu.median * 100, 0)} %`)).join(' | ')} | ${ratio} |`);
	}
	L.push('');
	L.push(`Forwarded packets/s are given as ${servers.join(' / ')}; they are what was received in the window. A fan-out of N ` +
		'normally forwards about 207 × N packets/s; less means the load generator itself was held off its core and skipped ' +
		'frames (it never bursts to catch up), which changes nothing in the cost per packet. Scenarios:');
	L.push('');
	for (const r of ran) L.push(`- **${r.label}**: ${r.about}.`);
	L.push('');
	L.push('Publishers send video at 30 frames/s, 5 packets per frame of about 1.2 kB (20 in a key frame, every 2 s or ' +
		'after a PLI/FIR), about 157 packets/s, and Opus-sized audio at 50 packets/s (about 100 bytes).');
	L.push('');
	L.push('## Quality: loss, delay, first key frame, memory');
	L.push('');
	L.push('Loss: packets sent in the window that a subscriber did not receive (median over repetitions). Delay: from the ' +
		'publisher\'s send call to the subscriber\'s receive, through the server, on this machine (p50 / p99 over all packets ' +
		'of the window, median over repetitions), so it includes the load generator\'s own queueing. In the server: conclave\'s ' +
		'histogram `conclave_media_forward_delay_seconds`, from the kernel\'s receive timestamp of a datagram (SO_TIMESTAMPNS) to ' +
		'the end of the `sendmmsg` that sent what it caused, over the window (quantiles interpolated in its buckets; Janus has no ' +
		'such measure). First key frame: from a subscriber\'s DTLS-SRTP being up to the first ' +
		'packet of a key frame (median over subscribers; the worst subscriber in brackets). Memory: server RSS after setup ' +
		'minus RSS at start, per participant. "Other load" is how busy the server\'s core was with processes other than the ' +
		'server, and "waited for its core" how long per second the server\'s threads were runnable but not running, summed ' +
		'over its threads (`/proc/PID/task/*/schedstat`; Janus\'s thread per handle also makes its threads wait for each other): ' +
		'the machine is shared, and high values make loss, throughput and delay figures pessimistic.');
	L.push('');
	L.push('| scenario | server | loss | delay p50 / p99 ms | in the server p50 / p99 ms | first key frame ms | KiB / participant | generator CPU | other load on server core | server waited for its core |');
	L.push('|---|---|---|---|---|---|---|---|---|---|');
	for (const r of rows)
		for (const s of servers) {
			const x = r.servers[s];
			if (!x || x.skipped || !x.ok) continue;
			const und = x.undelivered.median ? ` (+${f(x.undelivered.median, 0)} streams never delivered)` : '';
			L.push(`| ${r.label} | ${s} | ${f(x.loss.median * 100, 2)} %${und} | ${f(x.p50.median, 2)} / ${f(x.p99.median, 2)} | ` +
				`${serverDelay(x)} | ${f(x.kf.median, 0)} (${f(x.kfMax.median, 0)}) | ${f(x.mem.median / 1024, 0)} | ${f(x.gen.median * 100, 0)} % | ${f(x.other.median * 100, 0)} % | ` +
				`${Number.isNaN(x.runq.median) ? '–' : `${f(x.runq.median * 1000, 0)} ms/s`} |`);
		}
	L.push('');
	const c = rows.filter((r) => r.servers.conclave?.ok);
	const cross = quantiles(c.map((r) => r.servers.conclave.metricsRatio.median).filter((x) => !Number.isNaN(x)));
	if (!Number.isNaN(cross.median))
		L.push(`Cross-check: conclave's own counter \`conclave_media_rtp_forwarded_total\` over the same windows was ` +
			`${f(cross.min, 3)}–${f(cross.max, 3)} × the packets counted at the receivers.`);
	L.push('');
	// targets
	L.push('## Targets (issue 8)');
	L.push('');
	const both = rows.filter((r) => r.servers.conclave?.ok && r.servers.janus?.ok);
	const ratios = both.map((r) => ({ label: r.label, v: r.servers.janus.us.median / r.servers.conclave.us.median }));
	const worst = ratios.reduce((a, b) => (a && a.v < b.v ? a : b), null);
	if (worst)
		L.push(`- **CPU per forwarded packet at most 1/6 of Janus's in every scenario**: ${ratios.every((x) => x.v >= 6) ? 'met' : 'missed'}. ` +
			`Janus spends ${f(Math.min(...ratios.map((x) => x.v)), 1)}–${f(Math.max(...ratios.map((x) => x.v)), 1)}× conclave's; the weakest ` +
			`is ${worst.label} (${f(worst.v, 1)}×, ${f((6 / worst.v), 1)}× short of 6×).`);
	// capacity: what was driven, and what the cost per packet extrapolates
	// to; "met" only when 400k/s was actually forwarded under 1 % loss
	const video = c.filter((r) => r.kind !== 'audio').map((r) => ({ r, us: r.servers.conclave.us.median })).sort((a, b) => a.us - b.us);
	// (the -split capacity runs, where the server's kernel splits its UDP
	// GSO messages itself, are reported apart below)
	const maxPps = c.filter((r) => !r.split).map((r) => ({ r, pps: r.servers.conclave.pps.median, loss: r.servers.conclave.loss.median }))
		.filter((x) => x.loss < 0.01).sort((a, b) => b.pps - a.pps)[0];
	if (video.length) {
		const best = video[0], heavy = maxPps && video.find((x) => x.r === maxPps.r);
		const per = (x) => `${f(x.us, 2)} µs per packet in ${x.r.label}, about ${kpps(1e6 / x.us)} packets/s`;
		const met = maxPps && maxPps.pps >= 400000;
		const cap = c.filter((r) => r.kind === 'capacity' && !r.split);
		const split = c.filter((r) => r.kind === 'capacity' && r.split);
		const most = maxPps ? `${kpps(maxPps.pps)} packets/s (${maxPps.r.label}, ${f(maxPps.r.servers.conclave.cpu.median * 100, 0)} % of the core, ` +
			`${f(maxPps.r.servers.conclave.us.median, 2)} µs per packet, the load generator at ${f(maxPps.r.servers.conclave.gen.median * 100, 0)} % of its own)` : '–';
		if (met || !cap.length)
			L.push(`- **≥ 400,000 forwarded packets/s per core at < 1 % loss**: ${met ? 'met' : 'not shown'}. The most driven under 1 % loss was ${most}` +
				(met ? '.' : `: the load generator has one core (twice the load would need more than it has), so capacity is extrapolated from the cost per packet: ` +
					`${per(best)} (the cheapest)${heavy && heavy !== best ? `, ${per(heavy)} (the heaviest fan-out)` : ''}; ` +
					`target 2.5 µs (${video.filter((x) => x.us <= 2.5).length} of ${video.length} video scenarios at or under it).`));
		else {
			// the capacity sweep (subscribers as sinks) measured it; the
			// same fan-out with real receivers shows what sinks cost extra
			const stop = out.stopped?.conclave;
			const same = (r) => c.find((x) => x.kind === 'fanout' && x.n === r.n);
			const pair = cap.map((r) => ({ r, real: same(r) })).find((x) => x.real);
			L.push(`- **≥ 400,000 forwarded packets/s per core at < 1 % loss**: missed, by ${f(400000 / maxPps.pps, 1)}× as measured. The ` +
				`capacity sweep (most subscribers sinks, so that the load generator is not the limit) forwarded at most ${most} under 1 % loss` +
				(stop ? `; the sweep stopped at the next step (${stop})` : '') + '. Per packet: ' +
				cap.map((r) => `${f(r.servers.conclave.us.median, 2)} µs at ${kpps(r.servers.conclave.pps.median)}/s`).join(', ') +
				(pair ? `; the same ${pair.real.label} with real receivers cost ${f(pair.real.servers.conclave.us.median, 2)} µs, ` +
					`so sinks make each packet ${f(pair.r.servers.conclave.us.median / pair.real.servers.conclave.us.median, 2)}× as dear to send ` +
					`(bench/notes.md: why) and the measured capacity is a lower bound; at the real receivers' cost the core would carry about ` +
					`${kpps(1e6 / pair.real.servers.conclave.us.median)} packets/s` : '') + '.' +
				(split.length ? ' With the server splitting its UDP GSO messages in software (a NIC without segmentation offload): ' +
					split.map((r) => `${f(r.servers.conclave.us.median, 2)} µs at ${kpps(r.servers.conclave.pps.median)}/s ` +
						`(loss ${f(r.servers.conclave.loss.median * 100, 2)} %)`).join(', ') + '.' : ''));
		}
	}
	// delay at about half saturation: the repetitions that had the core to
	// themselves (other load < 10 %) and used a quarter to three quarters of
	// it, with a load generator that kept up (a saturated one starves its
	// core's softirq, which also hands the server its incoming datagrams:
	// the server's own histogram then counts tens of ms it never caused)
	const quiet = out.results.filter((r) => r.ok && r.server === 'conclave' && r.otherOnServerCore < 0.1 &&
		r.serverCpu >= 0.25 && r.serverCpu <= 0.75 && r.genCpu < 0.9);
	if (quiet.length) {
		// the server's own histogram decides where there is one; the
		// end-to-end figure also holds the load generator's queueing
		const p99 = (r) => r.serverDelayP99 ?? r.delayP99;
		const inServer = quiet.every((r) => r.serverDelayP99 != null);
		// the capacity runs' sinks make each send dearer (bench/notes.md):
		// their verdict is given apart
		const isSink = (r) => out.scenarios[r.scenario]?.kind === 'capacity';
		const verdict = (rs) => (rs.every((r) => p99(r) < 5) ? 'met' : 'missed');
		const real = quiet.filter((r) => !isSink(r)), sinks = quiet.filter(isSink);
		L.push(`- **Added delay p99 < 5 ms at half of saturation**: ${real.length ? `${verdict(real)} with real receivers` : ''}` +
			`${real.length && sinks.length ? '; ' : ''}${sinks.length ? `${verdict(sinks)} in the capacity runs with sinks` : ''}, in the ` +
			'repetitions where conclave had its core to itself (other load < 10 %) and used 25–75 % of it, and the load ' +
			'generator less than 90 % of its own, ' +
			(inServer ? 'by the server\'s own histogram (kernel receive to end of send): ' : 'end to end: ') +
			quiet.map((r) => `${out.scenarios[r.scenario]?.label ?? r.scenario} #${r.rep} at ${f(r.serverCpu * 100, 0)} %: ` +
				(r.serverDelayP99 != null ? `in the server p50 ${f(r.serverDelayP50, 2)} ms, p99 ${f(r.serverDelayP99, 2)} ms; ` : '') +
				`end to end p50 ${f(r.delayP50, 2)} ms, p99 ${f(r.delayP99, 2)} ms`).join('; ') +
			'. End to end is from the publisher\'s send call to the subscriber\'s receive call, so it includes the ' +
			'load generator\'s own queueing and the machine\'s stalls.');
	}
	else
		L.push('- **Added delay p99 < 5 ms at half of saturation**: not measurable in this run: no repetition had the server\'s ' +
			'core to itself (other load < 10 %) while using 25–75 % of it (see "other load" and "waited for its core").');
	L.push('- **Two media workers forward ≥ 1.8× one**: not in this run, which gives the server one core and the load ' +
		'generator the other. `BENCH_WORKERS=2` gives conclave both cores (the load generator shares the second), ' +
		'measured apart: bench/notes.md, "One media worker and two".');
	L.push('');
	const stopped = Object.entries(out.stopped ?? {});
	if (stopped.length) {
		L.push('Sweeps ended: ' + stopped.map(([s, why]) => `${s} — ${why}`).join('; ') + '.');
		L.push('');
	}
	const notes = path.join(here, 'notes.md');
	if (fs.existsSync(notes)) {
		L.push(fs.readFileSync(notes, 'utf8').trim());
		L.push('');
	}
	L.push('## Reproduce');
	L.push('');
	L.push('```');
	L.push('make bench                       # installs Janus and gnuplot if missing (root), builds, runs, writes this file');
	L.push('BENCH_SMOKE=1 node bench/run.mjs # the 10-second check that make test runs (conclave, 1 -> 5)');
	L.push('BENCH_SERVERS=conclave BENCH_SCENARIOS=fanout-40,meeting-12 BENCH_REPS=1 node bench/run.mjs  # partial: build/bench/partial.md');
	L.push('make srtp-bench                  # µs per SRTP protect, libsrtp2 vs conclave (bench/srtp_bench.c; cold: build/bench/srtp_bench 200 15 cold)');
	L.push('node bench/report.mjs            # re-render this file from build/bench/results.json');
	L.push('```');
	L.push('');
	L.push('Needs root (network namespace, `taskset`), Debian\'s `janus` and `gnuplot-nox`. The full run takes about 25 minutes; ' +
		'every measure of every repetition is in `build/bench/results.json`. See `bench/README.md` for the method.');
	L.push('');
	fs.writeFileSync(path.join(docs, 'benchmarks.md'), L.join('\n'));
	console.log(`[bench] wrote docs/benchmarks.md and docs/benchmarks-cpu.png`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const file = process.argv[2] ?? path.resolve(here, '../build/bench/results.json');
	await writeReport(JSON.parse(fs.readFileSync(file, 'utf8')));
}
