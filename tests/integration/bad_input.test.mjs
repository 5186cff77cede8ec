// Bad input over the signaling WebSocket: every kind gets its documented
// outcome (docs: src/sig/sig.h error table), and a well-behaved client on the
// same server keeps working after each one.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, pollUntil, randomRoomId, withDeadline, connectWs } from './lib/server.mjs';

/** The good client must still be open and answer a ping within a deadline. */
async function assertUnaffected(srv, good, what) {
	assert.ok(good.isOpen, `good client closed after: ${what}`);
	await good.ping(2000).catch((e) => assert.fail(`good client after ${what}: ${e.message}`));
	const h = await srv.get('/healthz');
	assert.equal(h.status, 200, `healthz after ${what}`);
}

const ROOM = 'AAAAAAAAAAAAAAAAAAAAAA';
const hello = { type: 'hello', v: 1 };

// [name, hello first?, message to send, expected error (partial), text that must not appear in the reply]
const ERROR_CASES = [
	['invalid JSON', true, 'not json at all', { code: 'bad_json' }],
	['truncated JSON', true, '{"type":"ping"', { code: 'bad_json' }],
	['JSON array', true, '[1,2,3]', { code: 'bad_json' }],
	['JSON number', true, '42', { code: 'bad_json' }],
	['JSON string', true, '"ping"', { code: 'bad_json' }],
	['JSON null', true, 'null', { code: 'bad_json' }],
	['empty text frame', true, '', { code: 'bad_json' }],
	['duplicate keys', true, '{"type":"ping","type":"ping"}', { code: 'bad_json' }],
	['missing type', true, '{}', { code: 'bad_type' }],
	['type not a string', true, '{"type":7}', { code: 'bad_type' }],
	['unknown type (not echoed)', true, '{"type":"frobnicate_zq"}', { code: 'unknown_type' }, 'frobnicate'],
	['ping id a string', true, { type: 'ping', id: 'x' }, { code: 'bad_field', field: 'id', ref: 'ping' }],
	['ping id negative', true, { type: 'ping', id: -1 }, { code: 'bad_field', field: 'id', ref: 'ping' }],
	['ping id 2^53', true, '{"type":"ping","id":9007199254740992}', { code: 'bad_field', field: 'id', ref: 'ping' }],
	['ping id fractional', true, '{"type":"ping","id":1.5}', { code: 'bad_field', field: 'id', ref: 'ping' }],
	['join room too short', true, { type: 'join', room: ROOM.slice(1), name: 'a' }, { code: 'bad_field', field: 'room', ref: 'join' }],
	['join room too long', true, { type: 'join', room: ROOM + 'A', name: 'a' }, { code: 'bad_field', field: 'room', ref: 'join' }],
	['join room not base64url', true, { type: 'join', room: 'AAAAAAAAAAAAAAAAAAAAA+', name: 'a' }, { code: 'bad_field', field: 'room', ref: 'join' }],
	['join room a number', true, { type: 'join', room: 5, name: 'a' }, { code: 'bad_field', field: 'room', ref: 'join' }],
	['join name with a control character', true, { type: 'join', room: ROOM, name: 'bell\u0007' }, { code: 'bad_field', field: 'name', ref: 'join' }],
	['join name with DEL', true, { type: 'join', room: ROOM, name: 'x\u007f' }, { code: 'bad_field', field: 'name', ref: 'join' }],
	['join name empty', true, { type: 'join', room: ROOM, name: '' }, { code: 'bad_field', field: 'name', ref: 'join' }],
	['join name over 64 bytes', true, { type: 'join', room: ROOM, name: 'é'.repeat(33) }, { code: 'bad_field', field: 'name', ref: 'join' }],
	['join host_key wrong length', true, { type: 'join', room: ROOM, name: 'a', host_key: 'A'.repeat(42) }, { code: 'bad_field', field: 'host_key', ref: 'join' }],
	['join missing name', true, { type: 'join', room: ROOM }, { code: 'missing_field', field: 'name', ref: 'join' }],
	['join missing room', true, { type: 'join', name: 'a' }, { code: 'missing_field', field: 'room', ref: 'join' }],
	['admit missing participant', true, { type: 'admit' }, { code: 'missing_field', field: 'participant', ref: 'admit' }],
	['deny participant wrong length', true, { type: 'deny', participant: 'abc' }, { code: 'bad_field', field: 'participant', ref: 'deny' }],
	['unknown field (not echoed)', true, { type: 'ping', id: 1, zqxfield: 1 }, { code: 'unknown_field', ref: 'ping' }, 'zqxfield'],
	['leave with a field', true, { type: 'leave', zqxfield: true }, { code: 'unknown_field', ref: 'leave' }, 'zqxfield'],
	['ping before hello', false, { type: 'ping', id: 1 }, { code: 'hello_first', ref: 'ping' }],
	['join before hello', false, { type: 'join', room: ROOM, name: 'a' }, { code: 'hello_first', ref: 'join' }],
	['hello v 2', false, { type: 'hello', v: 2 }, { code: 'bad_version', ref: 'hello' }],
	['hello v 0', false, { type: 'hello', v: 0 }, { code: 'bad_version', ref: 'hello' }],
	['hello v a string', false, { type: 'hello', v: '1' }, { code: 'bad_field', field: 'v', ref: 'hello' }],
	['hello without v', false, { type: 'hello' }, { code: 'missing_field', field: 'v', ref: 'hello' }],
	['binary frame', true, { binary: Buffer.from('{"type":"ping","id":1}') }, { code: 'binary_frame' }],
	['binary frame before hello', false, { binary: Buffer.from([0, 1, 2, 255]) }, { code: 'binary_frame' }],
	['leave before join', true, { type: 'leave' }, { code: 'not_joined', ref: 'leave' }],
	['admit when not a host', true, { type: 'admit', participant: 'AAAAAAAAAAA' }, { code: 'forbidden', ref: 'admit' }],
	['deny when not a host', true, { type: 'deny', participant: 'AAAAAAAAAAA' }, { code: 'forbidden', ref: 'deny' }],
];

describe('bad input matrix (default rates, --ws-max-message 4096)', () => {
	let srv, good;
	before(async () => {
		srv = await startServer({ flags: ['--ws-max-message', '4096'] });
		good = await srv.wsHello();
	});
	after(async () => { await srv?.stop(); });

	for (const [name, sayHello, msg, want, secret] of ERROR_CASES) {
		test(`${name} -> error ${want.code}, connection stays open`, async () => {
			const bad = await srv.ws();
			if (sayHello) await bad.hello();
			if (msg.binary) bad.ws.send(msg.binary, { binary: true });
			else bad.send(msg);
			const e = await bad.next('error');
			for (const [k, v] of Object.entries(want)) assert.equal(e[k], v, `${k} in ${e.raw}`);
			if (!('ref' in want)) assert.equal(e.ref, undefined, `no ref expected: ${e.raw}`);
			if (!('field' in want)) assert.equal(e.field, undefined, `no field expected: ${e.raw}`);
			assert.equal(typeof e.message, 'string');
			assert.deepEqual(Object.keys(e).filter((k) => !['type', 'code', 'message', 'ref', 'field'].includes(k)), []);
			if (secret) assert.ok(!e.raw.includes(secret), `reply echoes the sender's text: ${e.raw}`);
			// the offender's own connection is still usable
			if (!sayHello && want.code !== 'binary_frame') {
				bad.send({ type: 'ping', id: 5 });
				assert.equal((await bad.next('error')).code, 'hello_first', 'still needs hello');
				await bad.hello();
			} else if (!sayHello) {
				await bad.hello();
			}
			await bad.ping();
			assert.deepEqual(bad.queue.map((m) => m.raw), [], 'exactly one reply per bad message');
			await assertUnaffected(srv, good, name);
			await bad.close();
		});
	}

	test('error counters by code are exported', async () => {
		const m = await srv.metrics();
		for (const code of ['bad_json', 'bad_type', 'unknown_type', 'bad_field', 'missing_field', 'unknown_field',
			'hello_first', 'bad_version', 'binary_frame', 'not_joined', 'forbidden'])
			assert.ok(m.get(`conclave_sig_errors_total{code="${code}"}`) >= 1, `errors{code="${code}"}`);
	});

	test('a message of exactly --ws-max-message bytes is accepted', async () => {
		const c = await srv.wsHello();
		const text = JSON.stringify({ type: 'ping', id: 77 }).padEnd(4096, ' ');
		assert.equal(Buffer.byteLength(text), 4096);
		c.send(text);
		assert.equal((await c.next('pong')).id, 77);
		await assertUnaffected(srv, good, 'max-size message');
		await c.close();
	});

	test('a fragmented message is reassembled', async () => {
		const c = await srv.wsHello();
		const text = JSON.stringify({ type: 'ping', id: 78 });
		c.ws.send(text.slice(0, 5), { fin: false });
		c.ws.send(text.slice(5, 12), { fin: false });
		c.ws.send(text.slice(12), { fin: true });
		assert.equal((await c.next('pong')).id, 78);
		await c.close();
	});

	test('oversize message (5000 > 4096 bytes) -> closed with 1009', async () => {
		const before_ = await srv.metric('conclave_sig_errors_total{code="too_large"}');
		const c = await srv.wsHello();
		c.send(JSON.stringify({ type: 'ping', id: 1 }).padEnd(5000, ' '));
		const { code } = await c.waitClosed(3000);
		assert.equal(code, 1009);
		assert.equal(await srv.metric('conclave_sig_errors_total{code="too_large"}'), before_ + 1);
		await assertUnaffected(srv, good, 'oversize message');
	});

	test('oversize message in fragments -> closed with 1009', async () => {
		const c = await srv.wsHello();
		for (let i = 0; i < 5; i++) c.ws.send(' '.repeat(1000), { fin: false });
		c.ws.send('{"type":"ping"}', { fin: true });
		assert.equal((await c.waitClosed(3000)).code, 1009);
		await assertUnaffected(srv, good, 'fragmented oversize message');
	});

	test('invalid UTF-8 in a text frame -> connection closed (1007)', async () => {
		const c = await srv.wsHello();
		c.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
		assert.equal((await c.waitClosed(3000)).code, 1007);
		await assertUnaffected(srv, good, 'invalid UTF-8');
	});

	test('upgrade on another path or from another origin is refused', async () => {
		await assert.rejects(connectWs(srv.port, { path: '/not-ws' }));
		await assert.rejects(connectWs(srv.port, { origin: 'https://evil.example' }));
		const same = await srv.ws({ origin: srv.origin });
		await same.hello();
		await same.close();
		await assertUnaffected(srv, good, 'refused upgrades');
	});

	test('GET /ws without an upgrade -> 426', async () => {
		const r = await srv.get('/ws');
		assert.equal(r.status, 426);
	});
});

describe('message flood (--ws-rate 5 --ws-burst 10)', () => {
	let srv, good;
	before(async () => {
		srv = await startServer({ flags: ['--ws-rate', '5', '--ws-burst', '10'] });
		good = await srv.wsHello();
	});
	after(async () => { await srv?.stop(); });

	test('30 pings at once: a burst of pongs, then rate_limited; 200 more: closed with 1008', async () => {
		const flood = await srv.wsHello(); // hello takes one token
		for (let id = 1; id <= 30; id++) flood.send({ type: 'ping', id });
		const err = await flood.next('error');
		assert.equal(err.code, 'rate_limited');
		assert.equal(err.ref, undefined);
		// replies keep their order: every pong that made it came before the error
		const pongs = flood.queue.splice(0).map((m) => (m.type === 'pong' ? m.id : m.raw));
		assert.ok(pongs.length >= 9 && pongs.length <= 12, `pongs ${pongs}`);
		assert.deepEqual(pongs, Array.from({ length: pongs.length }, (_, i) => i + 1), 'first pings answered in order');
		assert.ok(flood.isOpen, 'one burst over the limit does not close the connection');
		await assertUnaffected(srv, good, 'first flood');

		for (let id = 100; id < 300; id++) flood.send({ type: 'ping', id });
		const closed = await flood.waitClosed(3000);
		assert.equal(closed.code, 1008);
		assert.equal(closed.reason, 'rate limit');
		assert.equal(await srv.metric('conclave_sig_flood_closes_total'), 1);
		await assertUnaffected(srv, good, 'sustained flood');
	});

	test('rate_limited replies are themselves limited (at most one per second)', async () => {
		const c = await srv.wsHello();
		for (let id = 1; id <= 40; id++) c.send({ type: 'ping', id }); // 10 pass, 30 dropped: under the close threshold
		await c.next('error');
		// one more message round trip on another connection orders us after the server handled all 40
		await good.ping();
		assert.equal(c.queue.filter((m) => m.type === 'error').length, 0, 'one rate_limited reply, not thirty');
		assert.ok(c.isOpen);
		await c.close();
	});
});

describe('connections per address (--ws-conns-per-ip 4)', () => {
	let srv;
	before(async () => { srv = await startServer({ flags: ['--ws-conns-per-ip', '4'] }); });
	after(async () => { await srv?.stop(); });

	test('the fifth connection is refused, the four keep working, a slot frees on close', async () => {
		const four = [];
		for (let i = 0; i < 4; i++) four.push(await srv.wsHello());
		const refused0 = await srv.metric('conclave_ws_refused_total');

		// refused: either at the upgrade, or closed before it can say anything
		const fifth = await srv.ws().catch((e) => e);
		if (!(fifth instanceof Error)) {
			fifth.send({ type: 'hello', v: 1 });
			await assert.rejects(fifth.next('welcome', 3000), /closed/);
			assert.notEqual(fifth.closeInfo?.code, undefined);
		}
		assert.equal(await srv.metric('conclave_ws_refused_total'), refused0 + 1);
		assert.equal(await srv.metric('conclave_ws_connections'), 4);
		for (const c of four) await c.ping();

		await four.pop().close();
		// the slot is released once the server has seen the close
		const fresh = await pollUntil(async () => {
			const c = await srv.ws();
			c.send({ type: 'hello', v: 1 });
			try {
				await c.next('welcome', 1000);
				return c;
			} catch {
				return null;
			}
		}, 5000, 'a new connection after one closed');
		await fresh.ping();
		for (const c of four) await c.ping();
		await fresh.close();
		for (const c of four) await c.close();
	});
});

describe('slow reader (--ws-max-outq 65536)', () => {
	let srv;
	before(async () => {
		srv = await startServer({ flags: ['--ws-max-outq', '65536', '--ws-rate', '100000', '--ws-burst', '100000'] });
	});
	after(async () => { await srv?.stop(); });

	test('a client that stops reading is cut off; a twin that reads the same traffic and others are not', async (t) => {
		const good = await srv.wsHello();
		const slow = await srv.wsHello();
		const twin = await srv.wsHello();
		const cut0 = await srv.metric('conclave_ws_slow_reader_cutoffs_total');
		assert.equal(cut0, 0);
		let twinGot = 0;
		twin.ws.on('message', () => { twinGot++; });
		slow.ws.pause(); // stop reading the socket; keep writing

		// Batches whose replies (~25 KB of welcome messages) fit the queue
		// easily; each batch is sent to both, and the next one only after the
		// twin has read all its replies, so the server had time to write them
		// to the slow client too, as long as its socket took them.
		const batch = [];
		for (let i = 0; i < 199; i++) batch.push(JSON.stringify({ type: 'hello', v: 1 }));
		let batches = 0;
		let cut = false;
		const deadline = Date.now() + 20000;
		while (!cut) {
			assert.ok(Date.now() < deadline && batches < 2000, `not cut off after ${batches} batches`);
			batches++;
			const id = batches;
			for (const t of batch) {
				slow.send(t);
				twin.send(t);
			}
			slow.send({ type: 'ping', id });
			twin.send({ type: 'ping', id });
			await twin.next((m) => m.type === 'pong' && m.id === id, 5000);
			twin.queue.length = 0;
			cut = (await srv.metric('conclave_ws_slow_reader_cutoffs_total')) > cut0;
		}
		t.diagnostic(`cut off after ${batches} batches (~${batches * 25} KB of replies)`);
		assert.equal(await srv.metric('conclave_ws_slow_reader_cutoffs_total'), 1, 'only the slow reader was cut off');
		assert.ok(twin.isOpen, 'the reading twin is still connected');
		assert.equal(twinGot, batches * 200, 'the twin got every reply');
		await twin.ping();
		await good.ping();
		assert.ok(good.isOpen);
		slow.ws.resume();
		const closed = await slow.waitClosed(5000);
		assert.equal(closed.code, 1008, 'the close frame reaches a reader that reads again');
		assert.equal(closed.reason, 'reader too slow');
		await pollUntil(async () => (await srv.metric('conclave_ws_connections')) === 2, 3000, 'slow reader gone');
		twin.queue.length = 0;
		await twin.close();
		await good.close();
	});
});

describe('one join per connection', () => {
	let srv;
	before(async () => { srv = await startServer(); });
	after(async () => { await srv?.stop(); });

	test('a second join while waiting in a lobby -> already_joined', async () => {
		const c = await srv.wsHello();
		c.join(randomRoomId(), 'x');
		await c.next('lobby');
		c.join(randomRoomId(), 'x');
		const e = await c.next('error');
		assert.equal(e.code, 'already_joined');
		await withDeadline(c.ping(), 2000, 'ping');
		await c.close();
	});
});
