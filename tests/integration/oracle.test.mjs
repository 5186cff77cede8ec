// No existence oracle (DESIGN.md §1 and §4, issue 5): a `join` (knock) on a
// room id that never existed, on a live meeting, on a locked one, on an ended
// one and on an expired one must get byte-identical answers, and the time the
// server takes to answer must have the same distribution for all of them.
//
// How the timing is measured:
//   - every sample is a fresh WebSocket (connect, hello, then the timed
//     `join` -> answer, then leave and close), so no connection state carries
//     over from one sample to the next;
//   - the kinds are interleaved: each round measures one sample of every kind
//     in a fresh random order, so a slow drift of the machine's load (other
//     tests, other sessions on a shared machine) falls on every kind alike
//     and the samples of all kinds are exchangeable unless the kind matters;
//   - an A/A baseline: two kinds that are the same thing (a random unknown
//     room id) are measured side by side in the same run. Every comparison is
//     made against the first one, and the second one shows what "no
//     difference" looks like on this machine today. A third control knocks
//     on one fixed unknown id every time (as the knocks on existing rooms
//     do), so that "the same id again" (warm caches) cannot pass for "the
//     room exists".
//
// How the distributions are compared, and why:
//   Latencies on a shared machine are skewed and heavy-tailed (scheduler
//   preemption, GC pauses, other processes), so a test on means (t-test)
//   would be driven by a few outliers. Rank-based tests are not: the
//   Mann–Whitney U test asks whether a sample of one kind tends to be larger
//   than one of another (it detects a shift, which is what extra server work
//   for a live room would cause), and the two-sample Kolmogorov–Smirnov test
//   asks whether the distributions differ anywhere (shape, tail). Both are
//   distribution-free; both only need the samples to be exchangeable under
//   "no difference", which the randomized interleaving gives us. We use a
//   conservative level (alpha = 0.001 per comparison, so about 1% for the
//   whole family of comparisons) and, as the effect-size check, the
//   difference of medians must stay within an absolute tolerance that is
//   small against the round trip (MEDIAN_TOL_MS), or within what the A/A
//   pair itself shows. If an attempt rejects, the whole measurement is
//   repeated (at most ATTEMPTS times): a real difference in the server
//   rejects every time, a burst of noise on the machine does not.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, randomRoomId } from './lib/server.mjs';

const SAMPLES = Number(process.env.ORACLE_SAMPLES || 200); // per kind and attempt
const WARMUP_ROUNDS = 20;
const ATTEMPTS = 3;
const ALPHA = 0.001;
const MEDIAN_TOL_MS = 0.25;

const servers = [];
after(async () => { for (const s of servers) await s.stop().catch(() => {}); });

// ---- statistics ------------------------------------------------------------

function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	const n = s.length;
	return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function quantile(xs, q) {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Complementary error function (Numerical Recipes' erfcc, |error| < 1.2e-7). */
function erfc(x) {
	const z = Math.abs(x);
	const t = 1 / (1 + 0.5 * z);
	const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
		t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
		t * (-0.82215223 + t * 0.17087277)))))))));
	return x >= 0 ? r : 2 - r;
}

/**
 * Two-sided Mann–Whitney U test with the normal approximation (n >= 20),
 * mid-ranks for ties and the tie correction of the variance.
 * Returns { u, z, p, auc } (auc = P(a > b) + P(a = b)/2, 0.5 = no shift).
 */
export function mannWhitney(a, b) {
	const all = [...a.map((v) => [v, 0]), ...b.map((v) => [v, 1])].sort((x, y) => x[0] - y[0]);
	const n1 = a.length, n2 = b.length, n = n1 + n2;
	let rankA = 0, tieTerm = 0;
	for (let i = 0; i < n;) {
		let j = i;
		while (j + 1 < n && all[j + 1][0] === all[i][0]) j++;
		const mid = (i + j) / 2 + 1, t = j - i + 1;
		for (let k = i; k <= j; k++) if (all[k][1] === 0) rankA += mid;
		tieTerm += t * t * t - t;
		i = j + 1;
	}
	const u = rankA - (n1 * (n1 + 1)) / 2;
	const mu = (n1 * n2) / 2;
	const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
	const z = sigma > 0 ? (u - mu - 0.5 * Math.sign(u - mu)) / sigma : 0; // continuity correction
	return { u, z, p: Math.min(1, erfc(Math.abs(z) / Math.SQRT2)), auc: u / (n1 * n2) };
}

/** Two-sample Kolmogorov–Smirnov test (asymptotic p with Stephens' correction). */
export function kolmogorovSmirnov(a, b) {
	const x = [...a].sort((p, q) => p - q), y = [...b].sort((p, q) => p - q);
	let i = 0, j = 0, d = 0;
	while (i < x.length && j < y.length) {
		const v = Math.min(x[i], y[j]);
		while (i < x.length && x[i] === v) i++;
		while (j < y.length && y[j] === v) j++;
		d = Math.max(d, Math.abs(i / x.length - j / y.length));
	}
	const ne = Math.sqrt((x.length * y.length) / (x.length + y.length));
	const lambda = (ne + 0.12 + 0.11 / ne) * d;
	let p = 0;
	for (let k = 1; k <= 100; k++) p += 2 * (k % 2 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
	return { d, p: Math.max(0, Math.min(1, lambda < 0.3 ? 1 : p)) };
}

function shuffle(xs) {
	for (let i = xs.length - 1; i > 0; i--) {
		const j = Math.floor(Math.random() * (i + 1));
		[xs[i], xs[j]] = [xs[j], xs[i]];
	}
	return xs;
}

// ---- the test --------------------------------------------------------------

test('knocks on unknown, live, locked, ended and expired rooms: identical answers, indistinguishable timing', async (t) => {
	const srv = await startServer({
		flags: ['--knock-per-minute', '1000000', '--ws-rate', '1000', '--ws-burst', '1000'],
		logLevel: 'warn',
	});
	servers.push(srv);

	// a live meeting nobody is in, a live meeting with its host present (a
	// guest who waits is shown to the host), a locked one, an ended one, an
	// expired one
	const idle = await srv.createMeeting();
	const live = await srv.createMeeting();
	const locked = await srv.createMeeting();
	const ended = await srv.createMeeting();
	const expired = await srv.createMeeting(['--expires-in', '60']);

	const liveHost = await srv.wsHello();
	liveHost.join(live.room, 'Host', live.hostKey);
	assert.equal((await liveHost.next('joined')).role, 'host');
	const lockHost = await srv.wsHello();
	lockHost.join(locked.room, 'Host', locked.hostKey);
	await lockHost.next('joined');
	lockHost.send({ type: 'lock', locked: true });
	assert.equal((await lockHost.next('locked')).locked, true);

	const r = await srv.cli(['meeting', 'end', ended.room, '--data', srv.dataDir]);
	assert.equal(r.code, 0, r.stderr);
	await expire(srv, expired, t);
	const states = Object.fromEntries(JSON.parse((await srv.cli(['meeting', 'list', '--data', srv.dataDir, '--json'])).stdout)
		.map((m) => [m.room, m.state]));
	assert.equal(states[idle.room], 'open');
	assert.equal(states[ended.room], 'ended');
	assert.equal(states[expired.room], 'expired');

	const fixedUnknown = randomRoomId();
	const KINDS = {
		unknown: () => randomRoomId(),
		'unknown (A/A)': () => randomRoomId(),
		// control: the same unknown id every time, as the existing rooms
		// are; tells "the room exists" apart from "the same id again"
		'unknown, one fixed id': () => fixedUnknown,
		'live, empty': () => idle.room,
		'live, host present': () => live.room,
		'locked, host present': () => locked.room,
		ended: () => ended.room,
		expired: () => expired.room,
	};
	const BASE = 'unknown';

	/** One sample: fresh connection, hello, timed join -> answer, leave, close. */
	async function sample(room) {
		const c = await srv.wsHello();
		let t1 = 0n;
		c.ws.once('message', () => { t1 = process.hrtime.bigint(); });
		const t0 = process.hrtime.bigint();
		c.send({ type: 'join', room, name: 'Knocker' });
		const answer = await c.next(() => true);
		const ms = Number(t1 - t0) / 1e6;
		c.send({ type: 'leave' });
		const left = await c.next(() => true);
		await c.close();
		return { ms, answer: answer.raw, left: left.raw };
	}

	// drain what the hosts get, so their queues stay small (and check that
	// the host of the locked meeting is never shown a knock)
	let liveKnocks = 0, lockedKnocks = 0;
	const drain = () => {
		liveKnocks += liveHost.queue.filter((m) => m.type === 'knock').length;
		lockedKnocks += lockHost.queue.filter((m) => m.type === 'knock').length;
		liveHost.queue.length = 0;
		lockHost.queue.length = 0;
	};

	const answers = new Map(Object.keys(KINDS).map((k) => [k, new Set()]));
	async function measure(rounds) {
		const ms = Object.fromEntries(Object.keys(KINDS).map((k) => [k, []]));
		for (let i = 0; i < rounds; i++) {
			for (const kind of shuffle(Object.keys(KINDS))) {
				const s = await sample(KINDS[kind]());
				ms[kind].push(s.ms);
				answers.get(kind).add(`${s.answer} then ${s.left}`);
			}
			drain();
		}
		return ms;
	}

	await measure(WARMUP_ROUNDS);
	let verdict;
	const report = [];
	for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
		const t0 = Date.now();
		const ms = await measure(SAMPLES);
		const base = ms[BASE];
		const rows = [];
		const aa = ms['unknown (A/A)'];
		const aaDelta = Math.abs(median(aa) - median(base));
		for (const kind of Object.keys(KINDS)) {
			if (kind === BASE) continue;
			const mw = mannWhitney(ms[kind], base);
			const ks = kolmogorovSmirnov(ms[kind], base);
			const delta = median(ms[kind]) - median(base);
			const ok = mw.p >= ALPHA && ks.p >= ALPHA && Math.abs(delta) <= Math.max(MEDIAN_TOL_MS, 2 * aaDelta);
			rows.push({ kind, ok, delta, mw, ks, med: median(ms[kind]), p90: quantile(ms[kind], 0.9) });
		}
		const lines = [`attempt ${attempt}: ${SAMPLES} samples per kind in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
			`${BASE}: median ${median(base).toFixed(3)} ms, p90 ${quantile(base, 0.9).toFixed(3)} ms`];
		for (const x of rows)
			lines.push(`  ${x.ok ? 'ok  ' : 'DIFF'} ${x.kind.padEnd(24)} median ${x.med.toFixed(3)} ms (${x.delta >= 0 ? '+' : ''}${(x.delta * 1000).toFixed(0)} µs), ` +
				`p90 ${x.p90.toFixed(3)} ms; Mann–Whitney z ${x.mw.z.toFixed(2)} p ${x.mw.p.toFixed(4)} AUC ${x.mw.auc.toFixed(3)}; ` +
				`KS D ${x.ks.d.toFixed(3)} p ${x.ks.p.toFixed(4)}`);
		for (const l of lines) t.diagnostic(l);
		report.push(...lines);
		verdict = rows;
		if (rows.every((x) => x.ok)) break;
	}

	// byte-identical answers: one distinct exchange for every kind, the same for all
	const texts = [...answers.values()].map((s) => [...s]);
	for (const [kind, s] of answers)
		assert.deepEqual([...s], texts[0], `the answers to a knock on "${kind}" differ from those on an unknown room`);
	assert.deepEqual(texts[0], ['{"type":"lobby"} then {"type":"left"}']);
	// the samples leave at once, before the hosts of the live meeting are
	// told (that happens a moment after the answer); a guest who stays is
	// shown to the hosts of the live meeting, never to those of the locked one
	for (const [room, host, shown] of [[live.room, liveHost, true], [locked.room, lockHost, false]]) {
		const g = await srv.wsHello();
		g.join(room, 'Stays a while');
		await g.next('lobby');
		const k = await host.next('knock', 2000).catch(() => null);
		assert.equal(k !== null, shown, `a knock shown to the host of the ${shown ? 'live' : 'locked'} meeting: ${k?.raw}`);
		await g.close();
	}
	drain();
	assert.equal(lockedKnocks, 0, 'the host of the locked meeting saw no knock');
	t.diagnostic(`knocks the live meeting's host saw during the measurement: ${liveKnocks}`);

	const bad = verdict.filter((x) => !x.ok);
	assert.deepEqual(bad.map((x) => x.kind), [],
		`timing differs from an unknown room in all ${ATTEMPTS} attempts:\n${report.join('\n')}`);
	await liveHost.close();
	await lockHost.close();
});

/**
 * Makes `mt` an expired meeting. The shortest expiry the CLI takes is 60 s,
 * so the record's expiry is moved into the past with the sqlite3 shell (the
 * server reads the record on every join); without the sqlite3 shell the test
 * waits for the real expiry.
 */
async function expire(srv, mt, t) {
	const db = `${srv.dataDir}/conclave.db`;
	try {
		execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, `UPDATE meetings SET expires_at = strftime('%s','now') - 1 WHERE room = '${mt.room}';`]);
		return;
	} catch (e) {
		if (e.code !== 'ENOENT') throw e;
	}
	t.diagnostic('no sqlite3 shell: waiting 61 s for the meeting to expire');
	await new Promise((r) => setTimeout(r, 61000));
}
