// HTTP front: health, web app with hardening headers, caching, errors,
// Prometheus metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, randomB64url } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

function assertHardened(r, what) {
	const csp = r.headers['content-security-policy'];
	assert.ok(csp, `${what}: no content-security-policy`);
	assert.match(csp, /(^|;\s*)default-src 'self'(;|$)/, `${what}: CSP ${csp}`);
	assert.match(csp, /(^|;\s*)frame-ancestors 'none'(;|$)/, `${what}: CSP ${csp}`);
	assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, `${what}: CSP too loose: ${csp}`);
	assert.equal(r.headers['x-content-type-options'], 'nosniff', what);
	assert.equal(r.headers['referrer-policy'], 'no-referrer', what);
}

test('/healthz answers 200 "ok"', async () => {
	const r = await srv.get('/healthz');
	assert.equal(r.status, 200);
	assert.equal(r.body.trim(), 'ok');
});

test('/ and /m/<room> serve index.html with the hardening headers', async () => {
	const root = await srv.get('/');
	assert.equal(root.status, 200);
	assert.match(root.body, /test index/);
	assert.match(root.headers['content-type'], /^text\/html/);
	assertHardened(root, '/');
	assert.doesNotMatch(root.headers['cache-control'] ?? '', /immutable/, 'index.html must not be immutable');

	const room = await srv.get(`/m/${randomB64url(16)}`);
	assert.equal(room.status, 200);
	assert.equal(room.body, root.body, '/m/<room> serves the same index.html');
	assertHardened(room, '/m/<room>');
});

test('assets are served with immutable caching', async () => {
	const r = await srv.get('/assets/app.js');
	assert.equal(r.status, 200);
	assert.match(r.body, /conclaveTestAsset/);
	assert.match(r.headers['content-type'], /javascript/);
	assert.match(r.headers['cache-control'], /immutable/);
	assert.match(r.headers['cache-control'], /max-age=\d{6,}/);
	assertHardened(r, '/assets/app.js');
});

test('unknown path is 404; PUT and DELETE are 405; all still hardened', async () => {
	const nf = await srv.get('/no/such/thing.txt');
	assert.equal(nf.status, 404);
	assertHardened(nf, '404');
	const nfAsset = await srv.get('/assets/missing.js');
	assert.equal(nfAsset.status, 404);

	for (const method of ['PUT', 'DELETE']) {
		const r = await srv.request(method, '/');
		assert.equal(r.status, 405, method);
		assert.equal(r.body, 'method not allowed\n', method);
		assertHardened(r, `${method} 405`);
	}
	// the server is still fine after the odd requests
	assert.equal((await srv.get('/healthz')).status, 200);
});

test('a refused request that carries a body gets exactly one well-formed response', async () => {
	// PUT with a body: the 405 must be followed by its own body, not by a
	// second response for the body's bytes
	const put = await srv.request('PUT', '/', { headers: { 'content-type': 'text/plain' }, body: 'x' });
	assert.equal(put.status, 405);
	assert.equal(put.body, 'method not allowed\n');
	assertHardened(put, 'PUT 405 with body');
	const post = await srv.request('POST', '/healthz', { headers: { 'content-type': 'application/json' }, body: '{}' });
	assert.equal(post.status, 405);
	assert.equal(post.body, 'method not allowed\n');
});

test('/metrics is well-formed Prometheus text with the documented families', async () => {
	const r = await srv.get('/metrics');
	assert.equal(r.status, 200);
	assert.match(r.headers['content-type'], /^text\/plain/);
	const text = r.body;
	for (const name of [
		'conclave_ws_connections',
		'conclave_meetings_active',
		'conclave_participants',
		'conclave_sig_messages_in_total',
		'conclave_ws_slow_reader_cutoffs_total',
	])
		assert.match(text, new RegExp(`^${name} \\d+$`, 'm'), `sample ${name}`);
	assert.match(text, /^conclave_sig_errors_total\{code="bad_json"\} \d+$/m);

	// text format: comments are HELP/TYPE; every other line is a sample
	const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
	const label = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"';
	const sample = new RegExp(`^(${name})(\\{${label}(,${label})*\\})? (-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?|NaN|[+-]Inf)$`);
	const typed = new Map();
	const histograms = new Set();
	assert.ok(text.endsWith('\n'), 'ends with a newline');
	for (const line of text.split('\n').slice(0, -1)) {
		if (line.startsWith('#')) {
			const m = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
			assert.ok(m, `bad comment line: ${JSON.stringify(line)}`);
			if (m[1] === 'TYPE') {
				assert.match(m[3], /^(counter|gauge|histogram|summary|untyped)$/, line);
				assert.ok(!typed.has(m[2]), `TYPE declared twice for ${m[2]}`);
				typed.set(m[2], m[3]);
			}
			continue;
		}
		const m = sample.exec(line);
		assert.ok(m, `bad sample line: ${JSON.stringify(line)}`);
		// a histogram's samples are its name + _bucket (with le), _sum, _count
		const h = /^(.*)_(bucket|sum|count)$/.exec(m[1]);
		if (h && typed.get(h[1]) === 'histogram') {
			if (h[2] === 'bucket') assert.match(line, /\{le="[^"]+"\}/, `bucket without le: ${line}`);
			histograms.add(h[1]);
			continue;
		}
		assert.ok(typed.has(m[1]), `sample ${m[1]} has no # TYPE before it`);
		if (typed.get(m[1]) === 'counter') assert.match(m[1], /_total$/, `counter ${m[1]} should end in _total`);
	}
	// the media plane's delay histogram, with its +Inf bucket, sum and count
	assert.ok(histograms.has('conclave_media_forward_delay_seconds'), 'conclave_media_forward_delay_seconds histogram');
	assert.match(text, /^conclave_media_forward_delay_seconds_bucket\{le="\+Inf"\} \d+$/m);
	assert.match(text, /^conclave_media_forward_delay_seconds_count \d+$/m);
});
