// A server-initiated close must reach the client as a close frame with its
// code and reason (issue #9): a client that keeps flooding while the server
// closes it sees 1008 "rate limit", one that sends an oversize message and
// keeps sending sees 1009 "message too large", never 1006 (a TCP reset that
// swallowed the close frame). A client that ignores the close frame and
// keeps sending is dropped after WS_CLOSE_DRAIN_MAX bytes or
// WS_CLOSE_LINGER_MS (src/http/server.h). Other connections are not
// disturbed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import tls from 'node:tls';
import { startServer, pollUntil, withDeadline } from './lib/server.mjs';

const RUNS = 5;
const QUEUE_LIMIT = 256 * 1024; // bytes the client keeps queued at most

/**
 * Sends `make(i)` over and over, as fast as the socket takes it (at most
 * QUEUE_LIMIT bytes queued in the client), until the connection leaves the
 * OPEN state. Resolves the number of messages sent.
 */
function floodUntilClosed(c, make) {
	return new Promise((resolve) => {
		let i = 0;
		const pump = () => {
			while (c.isOpen && c.ws.bufferedAmount < QUEUE_LIMIT) c.send(make(i++));
			if (c.isOpen) setImmediate(pump);
			else resolve(i);
		};
		pump();
	});
}

/** One masked client text frame (RFC 6455 §5.2), payload under 64 KiB. */
function clientFrame(text) {
	const payload = Buffer.from(text);
	const mask = crypto.randomBytes(4);
	const head = payload.length < 126
		? Buffer.from([0x81, 0x80 | payload.length])
		: Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
	for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
	return Buffer.concat([head, mask, payload]);
}

/**
 * A client that ignores the close handshake: it upgrades by hand, says
 * hello, then writes pings whatever the server sends: for as long as the
 * socket takes them, or (trickle) a burst that gets it closed and then one
 * ping every 20 ms. Resolves { code, reason, closeFrameAt, endAt } once the
 * server has dropped the connection.
 */
function rudeFlooder(port, { trickle = false } = {}) {
	return new Promise((resolve, reject) => {
		const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, allowHalfOpen: true });
		const key = crypto.randomBytes(16).toString('base64');
		let rx = Buffer.alloc(0);
		let upgraded = false;
		const out = { code: undefined, reason: undefined, closeFrameAt: undefined, endAt: undefined };
		const hello = clientFrame(JSON.stringify({ type: 'hello', v: 1 }));
		const pings = Buffer.concat(Array.from({ length: 512 }, (_, i) => clientFrame(JSON.stringify({ type: 'ping', id: i }))));
		let timer;
		const pump = () => {
			if (trickle) {
				s.write(Buffer.concat([pings, pings])); // 1024 pings: over the rate limit and the close threshold
				let i = 0;
				timer = setInterval(() => {
					if (!s.destroyed && s.writable) s.write(clientFrame(JSON.stringify({ type: 'ping', id: i++ })));
				}, 20);
				return;
			}
			while (!s.destroyed && s.writable && s.write(pings));
		};
		if (!trickle) s.on('drain', pump);
		s.on('error', () => {}); // the reset at the end is expected
		s.on('close', () => {
			clearInterval(timer);
			out.endAt = Date.now();
			resolve(out);
		});
		s.once('secureConnect', () => {
			s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
				`Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
		});
		s.on('data', (d) => {
			rx = Buffer.concat([rx, d]);
			if (!upgraded) {
				const end = rx.indexOf('\r\n\r\n');
				if (end < 0) return;
				if (!/^HTTP\/1\.1 101/.test(rx.toString('latin1', 0, end))) {
					reject(new Error(`upgrade refused: ${rx.toString('latin1', 0, end)}`));
					s.destroy();
					return;
				}
				upgraded = true;
				rx = rx.subarray(end + 4);
				s.write(hello);
				pump();
			}
			// server frames are unmasked; ours are short (< 126 bytes)
			while (rx.length >= 2 && rx.length >= 2 + (rx[1] & 0x7f) && (rx[1] & 0x7f) < 126) {
				const len = rx[1] & 0x7f;
				if ((rx[0] & 0x0f) === 0x8 && out.code === undefined) {
					out.code = rx.readUInt16BE(2);
					out.reason = rx.toString('utf8', 4, 2 + len);
					out.closeFrameAt = Date.now();
				}
				rx = rx.subarray(2 + len);
			}
		});
	});
}

describe('server-initiated close under a flood (default rates, --ws-max-message 4096)', () => {
	let srv, good;
	before(async () => {
		srv = await startServer({ flags: ['--ws-max-message', '4096'] });
		good = await srv.wsHello();
	});
	after(async () => { await srv?.stop(); });

	test(`a client that never stops sending sees 1008 "rate limit", ${RUNS} times in a row`, async (t) => {
		for (let run = 1; run <= RUNS; run++) {
			const before = await srv.metric('conclave_sig_flood_closes_total');
			const c = await srv.wsHello();
			const sent = floodUntilClosed(c, (i) => JSON.stringify({ type: 'ping', id: i }));
			const closed = await c.waitClosed(10000);
			t.diagnostic(`run ${run}: ${await sent} pings sent, close ${closed.code}`);
			assert.equal(closed.code, 1008, `run ${run}: close code (1006 means the close frame was lost)`);
			assert.equal(closed.reason, 'rate limit', `run ${run}: close reason`);
			assert.equal(await srv.metric('conclave_sig_flood_closes_total'), before + 1, `run ${run}: flood closes`);
			assert.ok(good.isOpen, `run ${run}: the other client is still open`);
			await good.ping(3000);
		}
	});

	test(`a client that sends an oversize message and keeps sending sees 1009, ${RUNS} times in a row`, async (t) => {
		const big = JSON.stringify({ type: 'ping', pad: 'x'.repeat(8000) });
		for (let run = 1; run <= RUNS; run++) {
			const c = await srv.wsHello();
			const sent = floodUntilClosed(c, () => big);
			const closed = await c.waitClosed(10000);
			t.diagnostic(`run ${run}: ${await sent} messages sent, close ${closed.code}`);
			assert.equal(closed.code, 1009, `run ${run}: close code (1006 means the close frame was lost)`);
			assert.equal(closed.reason, 'message too large', `run ${run}: close reason`);
			await good.ping(3000);
		}
	});

	test('a flooder that ignores the close frame gets it, and is dropped after WS_CLOSE_DRAIN_MAX bytes', async (t) => {
		const before = await srv.metric('conclave_sig_flood_closes_total');
		const r = await withDeadline(rudeFlooder(srv.port), 15000, 'the server drops the rude flooder');
		t.diagnostic(`close frame ${r.code} "${r.reason}", dropped ${r.endAt - r.closeFrameAt} ms later`);
		assert.equal(r.code, 1008, 'the close frame arrived first');
		assert.equal(r.reason, 'rate limit');
		assert.ok(r.endAt - r.closeFrameAt < 2000, `dropped after ${r.endAt - r.closeFrameAt} ms`);
		await pollUntil(() => srv.stderr.includes('close: too much input'), 3000, 'the byte bound in the log');
		assert.equal(await srv.metric('conclave_sig_flood_closes_total'), before + 1);
		await good.ping(3000);
	});

	test('a trickling flooder that ignores the close frame is dropped after WS_CLOSE_LINGER_MS', async (t) => {
		const r = await withDeadline(rudeFlooder(srv.port, { trickle: true }), 15000, 'the server drops the rude flooder');
		const lag = r.endAt - r.closeFrameAt;
		t.diagnostic(`close frame ${r.code} "${r.reason}", dropped ${lag} ms later`);
		assert.equal(r.code, 1008, 'the close frame arrived first');
		assert.equal(r.reason, 'rate limit');
		// WS_CLOSE_LINGER_MS (2 s) counts from the close decision
		assert.ok(lag > 1500 && lag < 4000, `dropped after ${lag} ms`);
		await pollUntil(() => srv.stderr.includes('close: no answer in time'), 3000, 'the time bound in the log');
		await good.ping(3000);
	});

	test('the closed connections are gone from the server', async () => {
		await pollUntil(async () => (await srv.metric('conclave_ws_connections')) === 1, 5000,
			'only the good client left');
		await good.ping();
	});
});
