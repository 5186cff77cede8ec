// Shared helpers for the integration tests: start a real conclave server
// (the ASan build by default), speak HTTPS and WebSocket to it, stop it and
// check that it exited cleanly with no sanitizer report.
//
// No fixed sleeps: everything waits for an event or polls with a deadline.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

import { pollUntil } from '../../lib/poll.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');

export const SANITIZER_ENV = {
	ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1',
	UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
};

/** The server binary: $CONCLAVE_BIN, else build/asan/conclave, else build/conclave. */
export function serverBinary() {
	if (process.env.CONCLAVE_BIN) return path.resolve(process.env.CONCLAVE_BIN);
	const asan = path.join(REPO, 'build/asan/conclave');
	if (fs.existsSync(asan)) return asan;
	const plain = path.join(REPO, 'build/conclave');
	if (fs.existsSync(plain)) return plain;
	throw new Error('no server binary: build build/asan/conclave or set CONCLAVE_BIN');
}

/** Resolves after `ms` milliseconds; only for deadlines, never as a wait. */
function timer(ms) {
	let t;
	const p = new Promise((resolve) => { t = setTimeout(resolve, ms); });
	p.cancel = () => clearTimeout(t);
	return p;
}

/** Rejects with `what` if `promise` does not settle within `ms`. */
export async function withDeadline(promise, ms, what) {
	const t = timer(ms);
	try {
		return await Promise.race([
			promise,
			t.then(() => { throw new Error(`timed out after ${ms} ms: ${what}`); }),
		]);
	} finally {
		t.cancel();
	}
}

// pollUntil(fn, ms, what, interval = 25): tests/lib/poll.mjs, shared with
// the browser tests and the benchmark; re-exported for the tests that
// import it from here.
export { pollUntil };

export function hostPort(host, port) {
	return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A TCP port that was free a moment ago (bind port 0, read it, close). */
export function freePort(host = '127.0.0.1') {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, host, () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

export function randomB64url(nbytes) {
	const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
	const n = Math.ceil((nbytes * 4) / 3);
	let s = '';
	for (let i = 0; i < n; i++) s += chars[Math.floor(Math.random() * 64)];
	return s;
}

/** A random (syntactically valid, almost surely unknown) 22-char room id. */
export function randomRoomId() {
	// 16 bytes -> 22 chars; the last char carries 2 bits, keep it canonical
	const id = randomB64url(16);
	return id.slice(0, 21) + 'AQgw'[Math.floor(Math.random() * 4)];
}

/** One HTTPS request; resolves { status, headers, body }. */
export function httpsRequest(port, method, urlPath, { headers = {}, body, chunked = false, timeoutMs = 10000, host = '127.0.0.1' } = {}) {
	if (body !== undefined && !chunked) headers = { 'content-length': Buffer.byteLength(body), ...headers };
	return new Promise((resolve, reject) => {
		const req = https.request(
			{
				host,
				port,
				method,
				path: urlPath,
				headers,
				rejectUnauthorized: false,
				agent: false,
			},
			(res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('end', () =>
					resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
				res.on('error', reject);
			},
		);
		req.on('error', (e) => {
			if (e.code && e.code.startsWith('HPE_'))
				e.message = `malformed HTTP response to ${method} ${urlPath}: ${e.message}` +
					(e.rawPacket ? ` (bytes after the response: ${JSON.stringify(e.rawPacket.toString('latin1').slice(0, 60))})` : '');
			reject(e);
		});
		req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${urlPath}: no answer in ${timeoutMs} ms`)));
		if (body !== undefined) req.write(body);
		req.end();
	});
}

/** Parses Prometheus text into a Map "name{labels}" -> number. */
export function parseMetrics(text) {
	const m = new Map();
	for (const line of text.split('\n')) {
		if (!line || line.startsWith('#')) continue;
		const i = line.lastIndexOf(' ');
		m.set(line.slice(0, i), Number(line.slice(i + 1)));
	}
	return m;
}

function matcher(pred) {
	if (typeof pred === 'function') return pred;
	if (typeof pred === 'string') return (m) => m && m.type === pred;
	if (pred && typeof pred === 'object')
		return (m) => m && Object.entries(pred).every(([k, v]) => m[k] === v);
	return () => true;
}

/**
 * A signaling client. Incoming messages are queued; next(pred) takes the
 * first queued message that matches (waiting for one if needed) and leaves
 * the others in the queue. Every message object carries its exact text as a
 * non-enumerable `raw` property.
 */
export class WsClient {
	constructor(ws) {
		this.ws = ws;
		this.queue = [];
		this.waiters = [];
		this.pings = 0;
		this.closeInfo = null;
		this.pingId = 1;
		this.closed = new Promise((resolve) => {
			ws.on('close', (code, reason) => {
				this.closeInfo = { code, reason: reason.toString(), at: Date.now() };
				for (const w of this.waiters.splice(0))
					w.reject(new Error(`connection closed (code ${code}) while waiting for ${w.what}`));
				resolve(this.closeInfo);
			});
		});
		ws.on('error', (e) => { this.lastError = e; });
		ws.on('ping', () => { this.pings++; });
		ws.on('message', (data, isBinary) => {
			const raw = data.toString('utf8');
			let msg;
			try {
				msg = JSON.parse(raw);
			} catch {
				msg = { type: '<not json>' };
			}
			if (msg === null || typeof msg !== 'object') msg = { type: '<not an object>' };
			Object.defineProperty(msg, 'raw', { value: raw, enumerable: false });
			Object.defineProperty(msg, 'binary', { value: isBinary, enumerable: false });
			const i = this.waiters.findIndex((w) => w.match(msg));
			if (i >= 0) {
				const [w] = this.waiters.splice(i, 1);
				w.resolve(msg);
			} else {
				this.queue.push(msg);
			}
		});
	}

	get isOpen() {
		return this.ws.readyState === WebSocket.OPEN;
	}

	send(msg) {
		this.ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg));
	}

	/** Takes the first message matching `pred` (type string, partial object or function). */
	next(pred, timeoutMs = 3000) {
		const match = matcher(pred);
		const what = typeof pred === 'function' ? 'a matching message' : JSON.stringify(pred);
		const i = this.queue.findIndex(match);
		if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
		if (this.closeInfo)
			return Promise.reject(new Error(`connection already closed (code ${this.closeInfo.code}); no ${what}`));
		let waiter;
		const p = new Promise((resolve, reject) => {
			waiter = { match, resolve, reject, what };
			this.waiters.push(waiter);
		});
		return withDeadline(p, timeoutMs, `${what}; queued: ${JSON.stringify(this.queue.map((m) => m.raw))}`).finally(() => {
			const j = this.waiters.indexOf(waiter);
			if (j >= 0) this.waiters.splice(j, 1);
		});
	}

	/** hello -> welcome */
	async hello(timeoutMs = 3000) {
		this.send({ type: 'hello', v: 1 });
		return this.next('welcome', timeoutMs);
	}

	/** One ping/pong round trip with a fresh id. */
	async ping(timeoutMs = 3000) {
		const id = this.pingId++;
		this.send({ type: 'ping', id });
		return this.next((m) => m.type === 'pong' && m.id === id, timeoutMs);
	}

	async join(room, name, hostKey) {
		const m = { type: 'join', room, name };
		if (hostKey) m.host_key = hostKey;
		this.send(m);
	}

	/** Waits for the close event; resolves { code, reason, at }. */
	waitClosed(timeoutMs = 5000) {
		return withDeadline(this.closed, timeoutMs, 'connection close');
	}

	close() {
		if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
		return withDeadline(this.closed, 5000, 'close handshake').catch(() => {
			this.ws.terminate();
			return this.closed;
		});
	}

	terminate() {
		this.ws.terminate();
		return this.closed;
	}
}

/** Opens a signaling WebSocket; resolves a WsClient once open. */
export function connectWs(port, { path: p = '/ws', origin, autoPong = true, headers, host = '127.0.0.1' } = {}) {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(`wss://${hostPort(host, port)}${p}`, {
			rejectUnauthorized: false,
			origin,
			autoPong,
			headers,
			handshakeTimeout: 5000,
		});
		const client = new WsClient(ws);
		ws.once('open', () => resolve(client));
		ws.once('unexpected-response', (req, res) => {
			const e = new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`);
			e.status = res.statusCode;
			res.resume();
			ws.terminate();
			reject(e);
		});
		ws.once('error', (e) => reject(e));
		ws.once('close', (code) => reject(new Error(`closed before open (code ${code})`)));
	});
}

function writeWebRoot(dir) {
	fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
	fs.writeFileSync(path.join(dir, 'index.html'),
		'<!doctype html><html><head><title>conclave test</title>' +
		'<script type="module" src="/assets/app.js"></script></head><body>test index</body></html>\n');
	fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'export const conclaveTestAsset = 1;\n');
}

const running = new Set();
process.on('exit', () => {
	for (const s of running) {
		try { s.proc.kill('SIGKILL'); } catch { /* gone */ }
	}
});

export class Server {
	constructor({ bin, host, port, dataDir, webRoot, proc, flags }) {
		Object.assign(this, { bin, host, port, dataDir, webRoot, proc, flags });
		this.stderrLines = [];
		this.stdoutText = '';
		this.clients = new Set();
		this.stopped = null;
		let partial = '';
		proc.stderr.setEncoding('utf8');
		proc.stderr.on('data', (d) => {
			partial += d;
			const lines = partial.split('\n');
			partial = lines.pop();
			this.stderrLines.push(...lines);
		});
		proc.stderr.on('end', () => {
			if (partial) this.stderrLines.push(partial);
			partial = '';
		});
		proc.stdout.setEncoding('utf8');
		proc.stdout.on('data', (d) => { this.stdoutText += d; });
		this.exited = new Promise((resolve) => {
			proc.on('exit', (code, signal) => {
				this.exitInfo = { code, signal };
				running.delete(this);
				resolve(this.exitInfo);
			});
		});
		// 'close' fires after stdio is drained: the complete stderr
		this.drained = new Promise((resolve) => proc.on('close', resolve));
	}

	get origin() {
		return `https://${hostPort(this.host, this.port)}`;
	}

	get stderr() {
		return this.stderrLines.join('\n');
	}

	request(method, urlPath, opts) {
		return httpsRequest(this.port, method, urlPath, { host: this.host, ...opts });
	}

	get(urlPath, opts) {
		return this.request('GET', urlPath, opts);
	}

	async metricsText() {
		const r = await this.get('/metrics');
		if (r.status !== 200) throw new Error(`/metrics: HTTP ${r.status}`);
		return r.body;
	}

	async metrics() {
		return parseMetrics(await this.metricsText());
	}

	async metric(name) {
		const m = await this.metrics();
		if (!m.has(name)) throw new Error(`metric ${name} missing`);
		return m.get(name);
	}

	/** Runs `conclave ARGS...` (the same binary) and resolves { code, stdout, stderr }. */
	cli(args) {
		return new Promise((resolve) => {
			execFile(this.bin, args, { env: { ...process.env, ...SANITIZER_ENV }, timeout: 20000 },
				(err, stdout, stderr) => {
					resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr });
				});
		});
	}

	/** `conclave meeting create --json` against this server's data dir. */
	async createMeeting(extra = []) {
		const r = await this.cli(['meeting', 'create', '--data', this.dataDir, '--public-url', this.origin, '--json', ...extra]);
		if (r.code !== 0) throw new Error(`meeting create failed (${r.code}): ${r.stderr}`);
		const j = JSON.parse(r.stdout);
		const hostFrag = new URL(j.host_link).hash.slice(1);
		const [invite, hostKey] = hostFrag.split('.');
		return { ...j, invite, hostKey, stdout: r.stdout };
	}

	/** A signaling client; tracked so that stop() can drop leftovers. */
	async ws(opts) {
		const c = await connectWs(this.port, { host: this.host, ...opts });
		this.clients.add(c);
		c.closed.then(() => this.clients.delete(c));
		return c;
	}

	/** A client that said hello. */
	async wsHello(opts) {
		const c = await this.ws(opts);
		await c.hello();
		return c;
	}

	/**
	 * SIGTERM, wait for exit, then check exit code 0 and no sanitizer report.
	 * Throws (with the end of stderr) if anything is wrong. Idempotent.
	 */
	stop() {
		if (!this.stopped) this.stopped = this._stop();
		return this.stopped;
	}

	async _stop() {
		if (!this.exitInfo) this.proc.kill('SIGTERM');
		let info;
		try {
			info = await withDeadline(this.exited, 20000, 'server exit after SIGTERM');
		} catch (e) {
			this.proc.kill('SIGKILL');
			await this.exited;
			throw new Error(`${e.message}\n--- stderr ---\n${this.stderr.slice(-4000)}`);
		} finally {
			// the server's exit closes its sockets; give the clients a moment
			// to notice, then drop whatever is left
			await withDeadline(Promise.all([...this.clients].map((c) => c.closed)), 3000, 'clients closed').catch(() => {});
			for (const c of this.clients) {
				c.terminatedByTest = true;
				c.terminate();
			}
		}
		await withDeadline(this.drained, 5000, 'server stdio drained').catch(() => {});
		const err = this.stderr;
		const problems = [];
		if (info.code !== 0) problems.push(`exit code ${info.code} signal ${info.signal}`);
		if (err.includes('ERROR: AddressSanitizer')) problems.push('AddressSanitizer report');
		if (err.includes('ERROR: LeakSanitizer')) problems.push('LeakSanitizer report');
		if (err.includes('runtime error')) problems.push('UBSan runtime error');
		if (problems.length)
			throw new Error(`server did not stop cleanly: ${problems.join(', ')}\n--- stderr ---\n${err.slice(-8000)}`);
		removeDirs(this);
		return info;
	}
}

/**
 * Starts `conclave serve` on `host` (127.0.0.1 by default) with a free port, a fresh data dir (or `dataDir`, kept afterwards) and
 * a tiny web root; resolves once /healthz answers 200. `listenHost` makes the server listen on another address than the
 * one the tests connect to (`::` for a dual-stack listener reached over 127.0.0.1).
 */
export async function startServer({ flags = [], logLevel = 'info', host = '127.0.0.1', listenHost = host, dataDir: keepData } = {}) {
	const bin = serverBinary();
	let lastErr;
	for (let attempt = 0; attempt < 3; attempt++) {
		const port = await freePort(host);
		const dataDir = keepData ?? fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-it-data-'));
		const webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-it-web-'));
		writeWebRoot(webRoot);
		const args = [
			'serve',
			'--listen', hostPort(listenHost, port),
			'--data', dataDir,
			'--web-root', webRoot,
			'--public-url', `https://${hostPort(host, port)}`,
			'--log-level', logLevel,
			// any free UDP ports for the media workers: several servers may run
			'--media-port', '0',
			'--media-workers', '1',
			...flags,
		];
		const proc = spawn(bin, args, {
			env: { ...process.env, ...SANITIZER_ENV },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const srv = new Server({ bin, host, port, dataDir, webRoot, proc, flags });
		srv.keepData = keepData !== undefined;
		running.add(srv);
		try {
			await pollUntil(async () => {
				if (srv.exitInfo) throw Object.assign(new Error('server exited during start'), { fatal: true });
				const r = await srv.get('/healthz');
				return r.status === 200;
			}, 20000, 'server /healthz', 30).catch(async (e) => {
				if (srv.exitInfo || /exited/.test(e.message)) {
					await srv.drained;
					throw Object.assign(new Error(`server exited during start: ${JSON.stringify(srv.exitInfo)}\n${srv.stderr}`),
						{ retry: /cannot listen/.test(srv.stderr) });
				}
				throw e;
			});
			return srv;
		} catch (e) {
			lastErr = e;
			if (!srv.exitInfo) {
				proc.kill('SIGKILL');
				await srv.exited;
			}
			if (!e.retry) break;
			removeDirs(srv);
		}
	}
	throw lastErr;
}

/** Cleans up temp dirs of a stopped server (best effort); keeps a data dir the caller passed in. */
export function removeDirs(srv) {
	for (const d of srv.keepData ? [srv.webRoot] : [srv.dataDir, srv.webRoot]) {
		try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
	}
}
