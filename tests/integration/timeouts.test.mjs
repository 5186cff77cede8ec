// Half-open and silent peers are hung up by the server's timers
// (src/http/server.c: "Timers"; info.timeout_secs = 20 for the TLS
// handshake and the HTTP request). The tests run concurrently, so the
// 20-second ones overlap.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { startServer, withDeadline } from './lib/server.mjs';

const HTTP_TIMEOUT_S = 20; // server.c: info.timeout_secs
const HELLO_S = 2;
const PING_S = 1;
const IDLE_S = 3;
const SLACK_MS = 2500; // lws checks its timeouts once a second

/** A raw TLS connection; resolves { closedAfterMs, data } when the server closes it. */
function rawTls(port, send) {
	return new Promise((resolve, reject) => {
		let data = '';
		let t0;
		const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
			t0 = Date.now();
			if (send) s.write(send);
		});
		s.on('data', (d) => { data += d; });
		s.on('error', () => { /* a reset is a close too */ });
		s.on('close', () => (t0 ? resolve({ closedAfterMs: Date.now() - t0, data }) : reject(new Error('TLS handshake failed'))));
	});
}

describe('timeouts', { concurrency: true }, () => {
	let srv;
	before(async () => {
		srv = await startServer({
			flags: ['--ws-hello-timeout', `${HELLO_S}`, '--ws-ping-interval', `${PING_S}`, '--ws-idle-timeout', `${IDLE_S}`],
		});
	});
	after(async () => { await srv?.stop(); });

	test('a TLS connection that never sends a request is closed within the HTTP timeout', async () => {
		const r = await withDeadline(rawTls(srv.port), HTTP_TIMEOUT_S * 1000 + SLACK_MS, 'server closing an idle TLS connection');
		assert.equal(r.data, '', 'nothing was sent to it');
		assert.ok(r.closedAfterMs >= 1000, `closed too early (${r.closedAfterMs} ms)`);
		assert.equal((await srv.get('/healthz')).status, 200);
	});

	test('a request whose header never ends is closed within the HTTP timeout', async () => {
		const r = await withDeadline(rawTls(srv.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nX-Slow: `),
			HTTP_TIMEOUT_S * 1000 + SLACK_MS, 'server closing a slow request header');
		assert.equal(r.data, '');
	});

	test('a request whose body never comes is closed within the HTTP timeout', async () => {
		const r = await withDeadline(rawTls(srv.port,
			`POST /api/meetings HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`),
		HTTP_TIMEOUT_S * 1000 + SLACK_MS, 'server closing a slow request body');
		assert.doesNotMatch(r.data, /201/, 'no meeting was made from half a body');
	});

	test('an idle keep-alive connection is closed within the HTTP timeout', async () => {
		const r = await withDeadline(rawTls(srv.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`),
			HTTP_TIMEOUT_S * 1000 + SLACK_MS, 'server closing an idle keep-alive connection');
		assert.match(r.data, /^HTTP\/1\.1 200/);
	});

	test(`a WebSocket that never sends hello is closed after --ws-hello-timeout ${HELLO_S}`, async () => {
		const c = await srv.ws();
		const t0 = Date.now();
		const closed = await c.waitClosed(HELLO_S * 1000 + SLACK_MS);
		const ms = closed.at - t0;
		assert.ok(ms >= HELLO_S * 1000 - 600, `closed after ${ms} ms, before the hello timeout`);
		assert.deepEqual(c.queue.map((m) => m.raw), []);
	});

	test('hello lifts the hello deadline', async () => {
		const c = await srv.ws();
		await c.hello();
		// still there after the hello deadline has passed: wait for the
		// keepalive pings that prove time went by
		await withDeadline(new Promise((resolve) => {
			const check = () => (c.pings >= HELLO_S / PING_S + 1 ? resolve() : c.ws.once('ping', () => setImmediate(check)));
			check();
		}), (HELLO_S + 2) * 1000 + SLACK_MS, 'keepalive pings');
		assert.ok(c.isOpen);
		await c.ping();
		await c.close();
	});

	test(`a client that stops answering pings is hung up after --ws-idle-timeout ${IDLE_S}; one that answers stays`, async () => {
		const mute = await srv.ws({ autoPong: false });
		const alive = await srv.ws();
		await mute.hello();
		await alive.hello();
		const t0 = Date.now();
		const closed = await mute.waitClosed(IDLE_S * 1000 + SLACK_MS);
		const ms = closed.at - t0;
		assert.ok(ms >= IDLE_S * 1000 - 600, `hung up after ${ms} ms, before the idle timeout`);
		assert.ok(mute.pings >= 1, 'the server pinged before hanging up');

		// the silent-but-answering client outlives several idle periods
		await withDeadline(new Promise((resolve) => {
			const check = () => (alive.pings >= IDLE_S / PING_S + 2 ? resolve() : alive.ws.once('ping', () => setImmediate(check)));
			check();
		}), (IDLE_S + 3) * 1000 + SLACK_MS, 'keepalive pings to the answering client');
		assert.ok(alive.isOpen, 'a client that answers pings was hung up');
		await alive.ping();
		await alive.close();
	});
});
