// /metrics carries the standard process metrics of Prometheus client
// libraries (src/metrics/process.c), and their values agree with what
// /proc says about the server process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer } from './lib/server.mjs';

let srv;
after(async () => { await srv?.stop(); });

const PAGE = Number(execFileSync('getconf', ['PAGESIZE']).toString().trim());

function procStat(pid) {
	const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
	// proc(5) field n is f[n - 3]
	return { threads: Number(f[17]), vsize: Number(f[20]), rss: Number(f[21]) * PAGE };
}

test('process_* metrics are present, typed and plausible', async () => {
	const startedAt = Date.now() / 1000;
	srv = await startServer();
	const pid = srv.proc.pid;
	const text = await srv.metricsText();
	const types = {
		process_cpu_seconds_total: 'counter',
		process_resident_memory_bytes: 'gauge',
		process_virtual_memory_bytes: 'gauge',
		process_open_fds: 'gauge',
		process_max_fds: 'gauge',
		process_start_time_seconds: 'gauge',
		process_threads: 'gauge',
	};
	for (const [name, type] of Object.entries(types))
		assert.ok(text.includes(`# TYPE ${name} ${type}\n`), `${name} is a ${type}`);

	const m = await srv.metrics();
	const p = procStat(pid);
	const get = (n) => {
		assert.ok(m.has(n), `${n} present`);
		return m.get(n);
	};
	const rss = get('process_resident_memory_bytes'), vsz = get('process_virtual_memory_bytes');
	assert.ok(rss > 1 << 20 && rss < 4 * 2 ** 30, `resident ${rss}`);
	assert.ok(Math.abs(rss - p.rss) <= 0.25 * p.rss, `resident ${rss} vs /proc ${p.rss}`);
	assert.ok(vsz >= rss, `virtual ${vsz} >= resident ${rss}`);
	assert.ok(Math.abs(vsz - p.vsize) <= 0.25 * p.vsize, `virtual ${vsz} vs /proc ${p.vsize}`);
	assert.equal(get('process_threads'), p.threads);

	const start = get('process_start_time_seconds');
	assert.ok(start >= startedAt - 5 && start <= Date.now() / 1000 + 1, `start ${start}, test began ${startedAt}`);
	const cpu0 = get('process_cpu_seconds_total');
	assert.ok(cpu0 >= 0 && cpu0 <= (Date.now() / 1000 - startedAt) * 4 + 1, `cpu ${cpu0}`);

	const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
	const soft = /^Max open files\s+(\d+)/m.exec(limits)[1];
	assert.equal(get('process_max_fds'), Number(soft));

	// open fds follow the connections
	const fds0 = get('process_open_fds');
	assert.ok(fds0 >= 3, `open fds ${fds0}`);
	const clients = [];
	for (let i = 0; i < 5; i++) clients.push(await srv.wsHello());
	// busy the server a little so that its CPU time moves
	for (const c of clients) for (let k = 0; k < 40; k++) await c.ping();
	const m1 = await srv.metrics();
	const fds1 = m1.get('process_open_fds');
	const procFds = fs.readdirSync(`/proc/${pid}/fd`).length;
	assert.ok(fds1 >= fds0 + 5, `open fds ${fds0} -> ${fds1} with 5 more connections`);
	assert.ok(Math.abs(fds1 - procFds) <= 2, `open fds ${fds1} vs /proc ${procFds}`);
	assert.ok(m1.get('process_cpu_seconds_total') >= cpu0, 'CPU time does not go backwards');
	for (const c of clients) await c.close();
});
