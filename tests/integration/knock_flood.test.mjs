// Brute force (issue 5): thousands of knocks from one address on random room
// ids hit the per-address rate limit with the documented error, while a
// legitimate guest from another address still gets through to the host.
// Loopback is a /8: the attacker connects from 127.0.0.1, the guest from
// 127.0.0.2, both to the server on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, randomRoomId, WsClient } from './lib/server.mjs';

const KNOCKS = 3000;
const CONNS = 10;

function connectFrom(port, localAddress) {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`,
			{ rejectUnauthorized: false, localAddress, handshakeTimeout: 5000 });
		const c = new WsClient(ws);
		ws.once('open', () => resolve(c));
		ws.once('error', reject);
	});
}

test(`${KNOCKS} knocks on random rooms from one address: rate_limited; a guest from another address gets through`, async (t) => {
	const srv = await startServer({ flags: ['--knock-per-minute', '30', '--ws-rate', '100000', '--ws-burst', '100000'] });
	try {
		const meeting = await srv.createMeeting();
		const host = await srv.wsHello();
		host.send({ type: 'join', room: meeting.room, name: 'Host', host_key: meeting.hostKey });
		await host.next((m) => m.type === 'joined', 5000);

		const conns = [];
		for (let i = 0; i < CONNS; i++) conns.push(await srv.wsHello());
		const t0 = Date.now();
		// fire every knock at once (join then leave, so each knock is a new
		// one), then collect every answer in order
		for (let n = 0; n < KNOCKS; n++) {
			const c = conns[n % CONNS];
			c.send({ type: 'join', room: randomRoomId(), name: `k${n}` });
			c.send({ type: 'leave' });
		}
		const counts = { lobby: 0, rate_limited: 0, other: 0 };
		for (let n = 0; n < KNOCKS; n++) {
			const c = conns[n % CONNS];
			const m = await c.next((x) => x.type === 'lobby' || x.type === 'error', 10000);
			const k = m.type === 'lobby' ? 'lobby' : m.code;
			counts[k in counts ? k : 'other']++;
			// the leave's answer: left after a lobby, not_joined otherwise
			const l = await c.next((x) => x.type === 'left' || x.type === 'error', 10000);
			assert.equal(l.type === 'left' ? 'lobby' : 'limited', m.type === 'lobby' ? 'lobby' : 'limited', l.raw);
		}
		const secs = (Date.now() - t0) / 1000;
		t.diagnostic(`${KNOCKS} knocks answered in ${secs.toFixed(2)} s: ${JSON.stringify(counts)}`);
		assert.equal(counts.other, 0);
		assert.ok(counts.lobby <= 30 + Math.ceil(secs / 2) + 1, `at most the burst got through (${counts.lobby})`);
		assert.equal(counts.lobby + counts.rate_limited, KNOCKS, 'the rest was rate limited');
		assert.ok((await srv.metric('conclave_sig_errors_total{code="rate_limited"}')) >= counts.rate_limited);

		// a real guest from another address is not hurt by the flood
		const guest = await connectFrom(srv.port, '127.0.0.2');
		guest.send({ type: 'hello', v: 1 });
		await guest.next((m) => m.type === 'welcome', 3000);
		guest.send({ type: 'join', room: meeting.room, name: 'Real guest' });
		await guest.next((m) => m.type === 'lobby', 3000);
		const knock = await host.next((m) => m.type === 'knock' && m.name === 'Real guest', 3000);
		host.send({ type: 'admit', participant: knock.participant });
		await guest.next((m) => m.type === 'joined', 3000);
		assert.equal((await srv.get('/healthz')).status, 200);
		for (const c of [...conns, guest, host]) await c.close();
	} catch (e) {
		throw new Error(`${e.message}\n--- server log ---\n${srv.stderr.slice(-2000)}`);
	} finally {
		await srv.stop();
	}
});
