// create_from: who may POST /api/meetings. An address outside the list gets
// 403 forbidden before the rate limiter and before the database (nothing is
// created, no rate-limit token is spent), counted in
// conclave_api_create_refused_total and not logged above debug level; an
// address inside works as before. IPv4 clients of a dual-stack listener
// (::ffff:127.0.0.1) are matched as IPv4. A bad list stops the start.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { SANITIZER_ENV, pollUntil, serverBinary, startServer } from './lib/server.mjs';

const JSON_CT = { 'content-type': 'application/json' };

function create(srv, body = '{}', headers = JSON_CT) {
	return srv.request('POST', '/api/meetings', { headers, body });
}

async function meetingCount(srv) {
	const r = await srv.cli(['meeting', 'list', '--data', srv.dataDir, '--json']);
	assert.equal(r.code, 0, r.stderr);
	return JSON.parse(r.stdout).length;
}

describe('create_from excludes the test\'s address (127.0.0.1)', () => {
	let srv;
	before(async () => {
		// one creation per minute: a refusal that reached the rate
		// limiter would spend it, and the second request would be a 429
		srv = await startServer({ flags: ['--create-from', '10.0.0.0/8, 2001:db8::/32, ::1/128', '--create-per-minute', '1'] });
	});
	after(async () => { await srv?.stop(); });

	test('403 forbidden, nothing created, no rate-limit token spent, counted, not logged at info', async () => {
		for (let i = 0; i < 5; i++) {
			const r = await create(srv);
			assert.equal(r.status, 403, r.body);
			assert.deepEqual(JSON.parse(r.body), { error: 'forbidden' });
			assert.equal(r.headers['cache-control'], 'no-store');
		}
		// refused before anything else is looked at: a bad body, another
		// origin or a missing content type get the same answer
		for (const [body, headers] of [['{', JSON_CT], ['{}', { ...JSON_CT, origin: 'https://evil.example' }], ['{}', {}]]) {
			const r = await create(srv, body, headers);
			assert.equal(r.status, 403, r.body);
			assert.deepEqual(JSON.parse(r.body), { error: 'forbidden' });
		}
		assert.equal(await srv.metric('conclave_api_create_refused_total'), 8);
		assert.equal(await srv.metric('conclave_api_rate_limited_total'), 0);
		assert.equal(await srv.metric('conclave_meetings_created_total'), 0);
		assert.equal(await meetingCount(srv), 0);
		assert.doesNotMatch(srv.stderr, /create_from|creation refused/, 'no log line per refusal at info');
		// the CLI still creates meetings, and they work
		await srv.createMeeting();
		assert.equal(await meetingCount(srv), 1);
		assert.equal((await srv.get('/healthz')).status, 200);
	});
});

describe('create_from = none', () => {
	let srv;
	before(async () => { srv = await startServer({ flags: ['--create-from', 'none'], logLevel: 'debug' }); });
	after(async () => { await srv?.stop(); });

	test('every request is refused; one debug line each, without the address', async () => {
		for (let i = 0; i < 3; i++) assert.equal((await create(srv)).status, 403);
		assert.equal(await srv.metric('conclave_api_create_refused_total'), 3);
		assert.equal(await meetingCount(srv), 0);
		const refusals = () => srv.stderrLines.filter((l) => /creation refused/.test(l));
		await pollUntil(async () => refusals().length >= 3, 5000, 'three debug lines');
		const lines = refusals();
		assert.equal(lines.length, 3, srv.stderr);
		for (const l of lines) {
			assert.match(l, / debug /);
			assert.doesNotMatch(l, /127\.0\.0\.1/);
		}
	});
});

describe('create_from includes the test\'s address', () => {
	let srv;
	before(async () => { srv = await startServer({ flags: ['--create-from', '10.0.0.0/8,127.0.0.0/8'] }); });
	after(async () => { await srv?.stop(); });

	test('201 as before, not counted as refused', async () => {
		const r = await create(srv);
		assert.equal(r.status, 201, r.body);
		const j = JSON.parse(r.body);
		assert.match(j.room, /^[A-Za-z0-9_-]{22}$/);
		assert.equal(await srv.metric('conclave_api_create_refused_total'), 0);
		assert.equal(await srv.metric('conclave_meetings_created_total'), 1);
		assert.equal(await meetingCount(srv), 1);
	});
});

describe('the default (any)', () => {
	let srv;
	before(async () => { srv = await startServer(); });
	after(async () => { await srv?.stop(); });

	test('creation is open, the counter is there at 0', async () => {
		assert.equal((await create(srv)).status, 201);
		assert.equal(await srv.metric('conclave_api_create_refused_total'), 0);
	});
});

describe('dual-stack listener: IPv4 clients arrive as ::ffff:a.b.c.d', () => {
	test('an IPv4 entry matches them', async () => {
		const srv = await startServer({ listenHost: '::', flags: ['--create-from', '127.0.0.1/32'] });
		try {
			const r = await create(srv);
			assert.equal(r.status, 201, r.body);
		} finally {
			await srv.stop();
		}
	});

	test('an IPv6 entry covering them (::/0) does not: ::/0 is IPv6 clients only', async () => {
		const srv = await startServer({ listenHost: '::', flags: ['--create-from', '::/0'] });
		try {
			const r = await create(srv);
			assert.equal(r.status, 403, r.body);
			assert.equal(await srv.metric('conclave_api_create_refused_total'), 1);
		} finally {
			await srv.stop();
		}
	});
});

test('a bad create_from stops the start with the setting named', async () => {
	for (const v of ['10.1.2.3/8', '10.0.0.0/33', '10.0.0.0', 'any,10.0.0.0/8', '']) {
		const r = await new Promise((resolve) => {
			execFile(serverBinary(), ['serve', '--create-from', v, '--listen', '127.0.0.1:1', '--data', '/nonexistent/conclave-test'],
				{ env: { ...process.env, ...SANITIZER_ENV }, timeout: 20000 },
				(err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal) : 0, stderr }));
		});
		assert.notEqual(r.code, 0, `accepted ${JSON.stringify(v)}`);
		assert.match(r.stderr, /create_from: /, `${JSON.stringify(v)}: ${r.stderr}`);
		assert.doesNotMatch(r.stderr, /listening/);
	}
});
