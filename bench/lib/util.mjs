// Small helpers shared by the benchmark's modules.

import { pollUntil } from '../../tests/lib/poll.mjs';

/** A message queue: next(pred) takes the first matching message, waiting if needed. */
export class Queue {
	constructor() { this.items = []; this.waiters = []; }
	push(m) {
		const i = this.waiters.findIndex((w) => w.pred(m));
		if (i >= 0) {
			const [w] = this.waiters.splice(i, 1);
			clearTimeout(w.timer);
			w.resolve(m);
		} else {
			this.items.push(m);
			if (this.items.length > 1000) this.items.shift();
		}
	}
	next(pred, ms, what = 'message') {
		const i = this.items.findIndex(pred);
		if (i >= 0) return Promise.resolve(this.items.splice(i, 1)[0]);
		return new Promise((resolve, reject) => {
			const w = { pred, resolve };
			w.timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				reject(new Error(`timed out after ${ms} ms waiting for ${what}; queued: ${JSON.stringify(this.items.slice(-5))}`));
			}, ms);
			this.waiters.push(w);
		});
	}
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls fn every `every` ms until truthy; throws after ms (immediately if
 * fn throws an error marked fatal). The tests' poll (tests/lib/poll.mjs).
 */
export function waitFor(fn, ms, what, every = 50) {
	return pollUntil(fn, ms, what, every);
}

/** Runs fn over items with at most `n` in flight. */
export async function pool(items, n, fn) {
	const res = new Array(items.length);
	let i = 0;
	await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
		while (i < items.length) {
			const k = i++;
			res[k] = await fn(items[k], k);
		}
	}));
	return res;
}

/** CPU time of a process (all threads), in seconds: schedstat and utime+stime; RSS in bytes. */
import fs from 'node:fs';
const TICK = 100; // USER_HZ on Linux
export function procStat(pid) {
	const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
	// fields from state (3rd): utime is 14th, stime 15th overall
	const utime = Number(f[11]), stime = Number(f[12]);
	const rssPages = Number(f[21]);
	// run time of every thread in ns (schedstat): the 10 ms ticks of
	// utime+stime are too coarse for a lightly loaded server
	// (its second field: time runnable but waiting for a CPU)
	// (mediaNs: conclave's media workers, threads named media0, media1, ...)
	let ns = 0, waitNs = 0, mediaNs = 0;
	for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
		try {
			const v = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
			ns += Number(v[0]);
			waitNs += Number(v[1]);
			if (/^media\d+$/.test(fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()))
				mediaNs += Number(v[0]);
		} catch { /* thread gone */ }
	}
	return { cpu: ns / 1e9, runqWait: waitNs / 1e9, mediaCpu: mediaNs / 1e9, ticksCpu: (utime + stime) / TICK, stime: stime / TICK, rss: rssPages * 4096, t: performance.now() / 1000 };
}

export function quantiles(xs) {
	const s = [...xs].sort((a, b) => a - b);
	if (!s.length) return { min: NaN, median: NaN, max: NaN };
	const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
	return { min: s[0], median: mid, max: s[s.length - 1] };
}

/**
 * The command line that runs `cmd` pinned to `cpus` at the highest
 * priority (nice -20), so a machine shared with other work disturbs the
 * measured processes as little as possible. The pid of the spawned process
 * is the program's own (ip netns exec, nice and taskset exec it). A server
 * runs in the server namespace when there is one (scripts/netns.sh,
 * NETNS_SERVER=1; `netns` is its name).
 */
export function pinned(cmd, args, cpus, { netns } = {}) {
	const run = cpus == null ? [cmd, args] : ['nice', ['-n', '-20', 'taskset', '-c', String(cpus), cmd, ...args]];
	return netns ? ['ip', ['netns', 'exec', netns, run[0], ...run[1]]] : run;
}

/**
 * The q-quantile (0..1), in milliseconds, of what a Prometheus histogram
 * counted between two readings (cumulative [upper bound s, count] buckets,
 * as ConclaveServer.counters().delay holds), interpolated linearly inside the
 * bucket it falls in; null when nothing was counted. Past the last finite
 * bound it answers that bound (a lower bound of the truth).
 */
export function histQuantile(before, after, q) {
	if (!before || !after || before.length !== after.length) return null;
	const d = after.map(([le, n], i) => [le, n - before[i][1]]);
	const total = d[d.length - 1][1];
	if (!total) return null;
	const want = q * total;
	let lo = 0, below = 0;
	for (const [le, cum] of d) {
		if (cum >= want) {
			if (le === Infinity) return lo * 1000;
			return (lo + (le - lo) * (cum > below ? (want - below) / (cum - below) : 1)) * 1000;
		}
		lo = le;
		below = cum;
	}
	return lo * 1000;
}
