// Kill during writes (issue 9: "SQLite writes are transactional and survive
// a kill at any moment"). ITERATIONS times in a row, on one data dir:
//   - meetings are created continuously, through the CLI (`conclave meeting
//     create --json`, separate processes writing the same database) and
//     through POST /api/meetings, in parallel;
//   - at a random moment the server and every CLI process still running are
//     killed with SIGKILL;
//   - the server is started again on the same data dir: the database opens,
//     `conclave meeting list --json` holds every meeting whose creation was
//     acknowledged (CLI exit 0 with its JSON; HTTP 201) before the kill, in
//     this iteration and all earlier ones, SQLite's integrity check passes
//     (when the sqlite3 shell is there), and the server serves: a host key
//     acknowledged before a kill still makes its holder host.
// No network namespace needed; runs with the other hardening tests.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, removeDirs, freePort, serverBinary, SANITIZER_ENV } from '../integration/lib/server.mjs';

const ITERATIONS = Number(process.env.KILLWRITE_ITERATIONS || 100);
const CLI_WRITERS = 2;
const API_WRITERS = 3;
const MAX_WRITE_MS = 400;
const FIRST_START_KILLS = Number(process.env.KILLWRITE_FIRST_START || 20);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-killwrite-'));
let current = null;
after(async () => {
	if (current && !current.exitInfo) {
		current.proc.kill('SIGKILL');
		await current.exited;
	}
	if (current) removeDirs(current);
	fs.rmSync(dataDir, { recursive: true, force: true });
});

const hasSqlite3 = (() => {
	try {
		execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
})();

function runCli(bin, args, procs) {
	return new Promise((resolve) => {
		const p = spawn(bin, args, { env: { ...process.env, ...SANITIZER_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
		procs.add(p);
		let out = '', err = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { err += d; });
		p.on('close', (code, signal) => {
			procs.delete(p);
			resolve({ code, signal, stdout: out, stderr: err });
		});
	});
}

test(`${ITERATIONS} kills during meeting creation: every acknowledged meeting survives`, { timeout: 15 * 60 * 1000 }, async (t) => {
	const acked = new Map(); // room -> { via, hostKey?, iteration }
	const t0 = Date.now();
	let killedCli = 0, cliErrors = 0, apiErrors = 0, inflightAtKill = 0;
	current = await startServer({ dataDir, logLevel: 'warn', flags: ['--create-per-minute', '100000'] });

	for (let it = 0; it < ITERATIONS; it++) {
		const srv = current;
		const procs = new Set();
		let stop = false;
		const pending = [];
		let inflight = 0;

		// writers: each loops until the kill
		for (let w = 0; w < CLI_WRITERS; w++) {
			pending.push((async () => {
				while (!stop) {
					const r = await runCli(srv.bin, ['meeting', 'create', '--json', '--data', dataDir, '--public-url', srv.origin], procs);
					if (r.signal === 'SIGKILL') { killedCli++; continue; }
					if (r.code !== 0) {
						// not acknowledged; a busy database is the only expected reason
						cliErrors++;
						if (!/database|busy|locked/i.test(r.stderr)) throw new Error(`meeting create failed: ${r.code} ${r.stderr}`);
						continue;
					}
					const j = JSON.parse(r.stdout);
					acked.set(j.room, { via: 'cli', iteration: it });
				}
			})());
		}
		for (let w = 0; w < API_WRITERS; w++) {
			pending.push((async () => {
				while (!stop) {
					let r;
					inflight++;
					try {
						r = await srv.request('POST', '/api/meetings', {
							headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5000,
						});
					} catch {
						apiErrors++;
						continue; // killed while the request was on its way: not acknowledged
					} finally {
						inflight--;
					}
					if (r.status !== 201) throw new Error(`POST /api/meetings: HTTP ${r.status} ${r.body}`);
					const j = JSON.parse(r.body);
					acked.set(j.room, { via: 'api', hostKey: j.host_key, iteration: it });
				}
			})());
		}

		// SIGKILL at a random moment, the CLI writers too
		await new Promise((r) => setTimeout(r, Math.random() * MAX_WRITE_MS));
		srv.proc.kill('SIGKILL');
		for (const p of procs) p.kill('SIGKILL');
		inflightAtKill += inflight;
		stop = true;
		await srv.exited;
		await Promise.all(pending);
		removeDirs(srv); // the web root; the data dir is kept
		assert.equal(srv.exitInfo.signal, 'SIGKILL');

		// restart on the same data dir: startServer waits for /healthz
		current = await startServer({ dataDir, logLevel: 'warn', flags: ['--create-per-minute', '100000'] });
		const list = await current.cli(['meeting', 'list', '--json', '--data', dataDir]);
		assert.equal(list.code, 0, `iteration ${it}: meeting list: ${list.stderr}`);
		const listed = new Set(JSON.parse(list.stdout).map((m) => m.room));
		const lost = [...acked.keys()].filter((room) => !listed.has(room));
		assert.deepEqual(lost, [], `iteration ${it}: acknowledged meetings lost after a kill: ` +
			lost.map((r) => JSON.stringify({ room: r, ...acked.get(r), hostKey: undefined })).join(', '));
		if (hasSqlite3) {
			const ic = execFileSync('sqlite3', ['-cmd', '.timeout 5000', path.join(dataDir, 'conclave.db'), 'PRAGMA integrity_check;']).toString().trim();
			assert.equal(ic, 'ok', `iteration ${it}: integrity_check`);
		}
		// the server serves: a host key from an API creation acknowledged before a kill works
		const viaApi = [...acked.entries()].filter(([, v]) => v.via === 'api');
		if (viaApi.length) {
			const [room, { hostKey }] = viaApi[Math.floor(Math.random() * viaApi.length)];
			const host = await current.wsHello();
			host.join(room, 'Host after kill', hostKey);
			const j = await host.next((m) => m.type === 'joined' || m.type === 'lobby' || m.type === 'error', 5000);
			assert.equal(j.type, 'joined', `iteration ${it}: ${j.raw}`);
			assert.equal(j.role, 'host');
			await host.close();
		}
	}
	await current.stop();
	const secs = (Date.now() - t0) / 1000;
	const byVia = [...acked.values()].reduce((a, v) => ({ ...a, [v.via]: (a[v.via] ?? 0) + 1 }), {});
	t.diagnostic(`${ITERATIONS} kills in ${secs.toFixed(1)} s (${(secs / ITERATIONS).toFixed(2)} s each); ` +
		`${acked.size} acknowledged meetings (${JSON.stringify(byVia)}) all kept; ` +
		`${killedCli} CLI writers killed mid-run, ${cliErrors} CLI errors, ${apiErrors} API requests cut by a kill (${inflightAtKill} in flight at the kills); ` +
		`integrity_check ${hasSqlite3 ? 'after every kill' : 'skipped (no sqlite3 shell)'}`);
	assert.ok(acked.size >= ITERATIONS, 'meetings were created');
});

// The first start writes the self-signed certificate, its key and the
// server secrets (rejoin key). A kill at any moment of it must leave a data
// dir that the next start uses (or completes), never one it refuses.
test(`${FIRST_START_KILLS} kills during a first start: the next start works`, { timeout: 5 * 60 * 1000 }, async (t) => {
	const web = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-killwrite-web-'));
	fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>t</title>\n');
	const delays = [];
	try {
		for (let i = 0; i < FIRST_START_KILLS; i++) {
			const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-killfirst-'));
			try {
				const port = await freePort();
				const bin = serverBinary();
				const p = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data', dir, '--web-root', web,
					'--media-port', '0', '--media-workers', '1', '--log-level', 'warn'],
				{ env: { ...process.env, ...SANITIZER_ENV }, stdio: 'ignore' });
				const exited = new Promise((r) => p.on('exit', r));
				// spread the kills over a first start (tens to a few hundred ms)
				const ms = Math.random() * 300;
				delays.push(ms);
				await new Promise((r) => setTimeout(r, ms));
				p.kill('SIGKILL');
				await exited;
				const files = fs.readdirSync(dir).sort().join(' ');
				const srv = await startServer({ dataDir: dir, logLevel: 'warn' }).catch((e) => {
					throw new Error(`kill ${i} after ${ms.toFixed(0)} ms (files: ${files}): the next start fails: ${e.message}`);
				});
				const r = await srv.request('POST', '/api/meetings', { headers: { 'content-type': 'application/json' }, body: '{}' });
				assert.equal(r.status, 201, r.body);
				await srv.stop();
			} finally {
				fs.rmSync(dir, { recursive: true, force: true });
			}
		}
	} finally {
		fs.rmSync(web, { recursive: true, force: true });
	}
	t.diagnostic(`${FIRST_START_KILLS} first starts killed after ${Math.min(...delays).toFixed(0)}..${Math.max(...delays).toFixed(0)} ms; every next start worked`);
});
