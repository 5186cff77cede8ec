// Logs carry no names, no host credentials and no invite secrets
// (DESIGN.md §7 "Private"), even at --log-level debug and even when a
// client puts them where they do not belong; the store keeps none of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, randomRoomId } from './lib/server.mjs';

const NAME = 'Zebediah Quux';

test('server logs contain neither names, host keys nor invite secrets, at debug level', async () => {
	const srv = await startServer({ logLevel: 'debug' });
	let mt, apiKey;
	try {
		mt = await srv.createMeeting();
		assert.match(mt.invite, /^[A-Za-z0-9_-]{43}$/);
		assert.match(mt.hostKey, /^[A-Za-z0-9_-]{43}$/);

		// a meeting over the API too: its host key must not be logged either
		const api = await srv.request('POST', '/api/meetings', {
			headers: { 'content-type': 'application/json', origin: srv.origin },
			body: '{}',
		});
		assert.equal(api.status, 201, api.body);
		apiKey = JSON.parse(api.body).host_key;

		// the page of the meeting (the browser never sends the fragment, but try the path)
		assert.equal((await srv.get(`/m/${mt.room}`)).status, 200);
		assert.equal((await srv.get(`/m/${mt.room}?name=${encodeURIComponent(NAME)}&join=1`)).status, 200);

		const host = await srv.wsHello();
		host.join(mt.room, `${NAME} (host)`, mt.hostKey);
		const hj = await host.next('joined');
		assert.equal(hj.role, 'host');

		const guest = await srv.wsHello();
		guest.join(mt.room, NAME);
		await guest.next('lobby');
		const knock = await host.next('knock');
		assert.equal(knock.name, NAME);
		host.send({ type: 'admit', participant: knock.participant });
		await guest.next('joined');
		await host.next('participant_joined');

		// a second guest who is denied, with the name again
		const denied = await srv.wsHello();
		denied.join(mt.room, NAME);
		await denied.next('lobby');
		const k2 = await host.next('knock');
		host.send({ type: 'deny', participant: k2.participant });
		await denied.next('denied');

		// wrong host keys, and the secrets and the name where they do not belong
		const prober = await srv.wsHello();
		prober.join(mt.room, NAME, mt.invite);
		await prober.next('lobby');
		prober.send({ type: 'leave' });
		await prober.next('left');
		prober.join(randomRoomId(), NAME, mt.hostKey);
		await prober.next('lobby');
		prober.send({ type: 'leave' });
		await prober.next('left');
		prober.send({ type: mt.invite });
		await prober.next('error');
		prober.send({ type: 'ping', [mt.hostKey]: 1 });
		await prober.next('error');
		prober.send({ type: 'ping', [NAME]: mt.invite });
		await prober.next('error');
		prober.send(`{"type":"join","room":"${mt.room}","name":"${NAME}","host_key":"${mt.invite}"`); // not JSON
		await prober.next('error');
		prober.send({ type: 'join', room: mt.room, name: `${NAME}\u0001`, host_key: mt.hostKey });
		await prober.next('error');
		prober.ws.send(Buffer.from(`${NAME} ${mt.invite} ${mt.hostKey}`), { binary: true });
		await prober.next('error');
		// an HTTP request with them in the path, the query and headers
		await srv.get(`/no/${mt.invite}?k=${mt.hostKey}&n=${encodeURIComponent(NAME)}`, {
			headers: { 'x-name': NAME, referer: mt.host_link },
		});
		await srv.request('POST', '/api/meetings', {
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ [NAME]: mt.invite, host_key: mt.hostKey }),
		});

		await guest.close();
		await host.next('participant_left');
		await denied.close();
		await prober.close();
		await host.close();
	} finally {
		await srv.stop();
	}

	const logs = srv.stderr + '\n' + srv.stdoutText;
	assert.ok(srv.stderrLines.some((l) => /\bdebug\b/.test(l)) || srv.stderrLines.length > 5, 'the server did log');
	const secrets = { name: NAME, 'name (first word)': 'Zebediah', 'invite secret': mt.invite, 'CLI host key': mt.hostKey, 'API host key': apiKey };
	for (const [what, s] of Object.entries(secrets)) {
		const line = srv.stderrLines.find((l) => l.includes(s));
		assert.ok(!logs.includes(s), `the log contains the ${what}: ${line}`);
		assert.ok(!logs.includes(encodeURIComponent(s)), `the log contains the ${what} (URL-encoded)`);
	}
});

test('the data dir keeps no names, host keys or invite secrets', async () => {
	const srv = await startServer();
	let files = [];
	const mt = await srv.createMeeting();
	try {
		const host = await srv.wsHello();
		host.join(mt.room, NAME, mt.hostKey);
		await host.next('joined');
		const guest = await srv.wsHello();
		guest.join(mt.room, NAME);
		await guest.next('lobby');
		await host.next('knock');
		await guest.close();
		await host.close();
		const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
			e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
		files = walk(srv.dataDir).map((f) => [f, fs.readFileSync(f)]);
	} finally {
		await srv.stop();
	}
	assert.ok(files.some(([f]) => /conclave\.db/.test(f)), `database present: ${files.map(([f]) => f)}`);
	for (const [f, bytes] of files) {
		for (const [what, s] of Object.entries({ name: NAME, 'invite secret': mt.invite, 'host key': mt.hostKey })) {
			assert.ok(!bytes.includes(Buffer.from(s)), `${path.basename(f)} contains the ${what}`);
			assert.ok(!bytes.includes(Buffer.from(s, 'utf16le')), `${path.basename(f)} contains the ${what} (UTF-16)`);
		}
	}
});
