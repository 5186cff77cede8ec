// JSON API: POST /api/meetings — shape, validation, same-origin checks and
// the per-address creation limit.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

const JSON_CT = { 'content-type': 'application/json' };

function create(srv, body, headers = JSON_CT) {
	return srv.request('POST', '/api/meetings', { headers, body });
}

function parse(r) {
	try {
		return JSON.parse(r.body);
	} catch {
		assert.fail(`not JSON (HTTP ${r.status}): ${r.body}`);
	}
}

describe('POST /api/meetings', () => {
	let srv;
	before(async () => { srv = await startServer({ flags: ['--create-per-minute', '1000'] }); });
	after(async () => { await srv?.stop(); });

	test('{} -> 201 with room and host_key', async () => {
		const r = await create(srv, '{}');
		assert.equal(r.status, 201, r.body);
		assert.match(r.headers['content-type'], /^application\/json/);
		assert.equal(r.headers['cache-control'], 'no-store');
		const j = parse(r);
		assert.match(j.room, /^[A-Za-z0-9_-]{22}$/);
		assert.match(j.host_key, /^[A-Za-z0-9_-]{43}$/);
		assert.equal(j.expires_at, null);
		assert.deepEqual(Object.keys(j).sort(), ['expires_at', 'host_key', 'room']);

		// the credential works: its holder joins as host
		const host = await srv.wsHello();
		host.join(j.room, 'api host', j.host_key);
		const joined = await host.next('joined');
		assert.equal(joined.role, 'host');
		await host.close();

		const again = parse(await create(srv, '{}'));
		assert.notEqual(again.room, j.room);
		assert.notEqual(again.host_key, j.host_key);
	});

	test('expires_in 3600 -> expires_at about now + 3600', async () => {
		const before_ = Math.floor(Date.now() / 1000);
		const r = await create(srv, JSON.stringify({ expires_in: 3600 }));
		const after_ = Math.ceil(Date.now() / 1000);
		assert.equal(r.status, 201, r.body);
		const j = parse(r);
		assert.ok(Number.isInteger(j.expires_at), `expires_at ${j.expires_at}`);
		assert.ok(j.expires_at >= before_ + 3600 - 1 && j.expires_at <= after_ + 3600 + 1,
			`expires_at ${j.expires_at} not within [${before_ + 3600}, ${after_ + 3600}]`);
	});

	test('bad JSON, non-object and bad fields -> 400', async () => {
		for (const body of ['{', 'not json', '{"expires_in":3600,"expires_in":60}']) {
			const r = await create(srv, body);
			assert.equal(r.status, 400, `body ${JSON.stringify(body)}: ${r.body}`);
			assert.deepEqual(parse(r), { error: 'bad_json' }, `body ${JSON.stringify(body)}`);
		}
		for (const body of ['[]', '42', '"x"', 'null']) {
			const r = await create(srv, body);
			assert.equal(r.status, 400, `body ${body}`);
			assert.deepEqual(parse(r), { error: 'bad_json' }, `body ${body}`);
		}
		for (const body of [
			{ unknown_field: 1 },
			{ expires_in: '3600' },
			{ expires_in: 59 },
			{ expires_in: 90 * 86400 + 1 },
			{ expires_in: 3600.5 },
			{ expires_in: 3600, extra: true },
		]) {
			const r = await create(srv, JSON.stringify(body));
			assert.equal(r.status, 400, `body ${JSON.stringify(body)}: ${r.body}`);
			assert.deepEqual(parse(r), { error: 'bad_field' }, `body ${JSON.stringify(body)}`);
			assert.doesNotMatch(r.body, /unknown_field|extra/, 'the field name is not echoed');
		}
	});

	test('a body over the limit -> 413', async () => {
		const r = await create(srv, JSON.stringify({ pad: 'x'.repeat(5000) }));
		assert.equal(r.status, 413, r.body);
		assert.deepEqual(parse(r), { error: 'too_large' });
	});

	test('wrong or missing content-type -> 403', async () => {
		for (const headers of [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, {}]) {
			const r = await create(srv, '{}', headers);
			assert.equal(r.status, 403, `${JSON.stringify(headers)}: ${r.body}`);
			assert.deepEqual(parse(r), { error: 'forbidden' });
		}
	});

	test('cross-origin Origin -> 403; same origin is accepted', async () => {
		const evil = await create(srv, '{}', { ...JSON_CT, origin: 'https://evil.example' });
		assert.equal(evil.status, 403, evil.body);
		assert.deepEqual(parse(evil), { error: 'forbidden' });
		// a look-alike of our own origin (other scheme, other port) is refused too
		for (const origin of [`http://127.0.0.1:${srv.port}`, `https://127.0.0.1:${srv.port + 1}`, 'null']) {
			const r = await create(srv, '{}', { ...JSON_CT, origin });
			assert.equal(r.status, 403, `origin ${origin}`);
		}
		const same = await create(srv, '{}', { ...JSON_CT, origin: srv.origin });
		assert.equal(same.status, 201, same.body);
	});

	test('a chunked body gets an answer (created, or 411) within 3 s', async () => {
		const r = await srv.request('POST', '/api/meetings', { headers: JSON_CT, body: '{}', chunked: true, timeoutMs: 3000 });
		assert.ok(r.status === 201 || r.status === 411, `HTTP ${r.status}: ${r.body}`);
	});

	test('GET /api/meetings is not a way in', async () => {
		const r = await srv.get('/api/meetings');
		assert.ok(r.status === 404 || r.status === 405, `HTTP ${r.status}`);
	});
});

describe('empty request body', () => {
	// its own server: this request used to take the ASan build down
	let srv;
	before(async () => { srv = await startServer(); });
	after(async () => { await srv?.stop(); });

	test('Content-Length: 0 -> 400 bad_json, server keeps running', async () => {
		const r = await create(srv, '');
		assert.equal(r.status, 400, r.body);
		assert.deepEqual(parse(r), { error: 'bad_json' });
		assert.equal((await srv.get('/healthz')).status, 200);
	});
});

describe('meeting creation limit per address', () => {
	let srv;
	before(async () => { srv = await startServer({ flags: ['--create-per-minute', '3'] }); });
	after(async () => { await srv?.stop(); });

	test('over --create-per-minute 3 -> 429 rate_limited', async () => {
		const statuses = [];
		for (let i = 0; i < 6; i++) statuses.push((await create(srv, '{}')).status);
		assert.deepEqual(statuses.slice(0, 3), [201, 201, 201]);
		assert.deepEqual(statuses.slice(3), [429, 429, 429]);
		const r = await create(srv, '{}');
		assert.equal(r.status, 429);
		assert.deepEqual(parse(r), { error: 'rate_limited' });
		assert.ok((await srv.metric('conclave_api_rate_limited_total')) >= 4);
		assert.equal(await srv.metric('conclave_meetings_created_total'), 3);
		// the rest of the server is unaffected
		assert.equal((await srv.get('/healthz')).status, 200);
	});
});
