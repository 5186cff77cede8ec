// The administration CLI working on the database of a running server:
// create, list, end, delete; the links it prints; what a host sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, randomRoomId } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

async function list() {
	const r = await srv.cli(['meeting', 'list', '--data', srv.dataDir, '--json']);
	assert.equal(r.code, 0, r.stderr);
	return JSON.parse(r.stdout);
}

async function hostJoin(room, hostKey, name = 'cli host') {
	const c = await srv.wsHello();
	c.join(room, name, hostKey);
	const m = await c.next((x) => x.type === 'joined' || x.type === 'lobby' || x.type === 'error');
	return { c, m };
}

test('meeting create --json prints room and links of the documented shape', async () => {
	const r = await srv.cli(['meeting', 'create', '--data', srv.dataDir, '--public-url', srv.origin, '--json']);
	assert.equal(r.code, 0, r.stderr);
	const lines = r.stdout.trim().split('\n');
	assert.equal(lines.length, 1, 'one JSON line');
	const j = JSON.parse(lines[0]);
	assert.deepEqual(Object.keys(j).sort(), ['guest_link', 'host_link', 'room']);
	assert.match(j.room, /^[A-Za-z0-9_-]{22}$/);
	const esc = srv.origin.replace(/[.]/g, '\\.');
	const guest = new RegExp(`^${esc}/m/${j.room}#([A-Za-z0-9_-]{43})$`).exec(j.guest_link);
	assert.ok(guest, `guest link ${j.guest_link}`);
	const host = new RegExp(`^${esc}/m/${j.room}#([A-Za-z0-9_-]{43})\\.([A-Za-z0-9_-]{43})$`).exec(j.host_link);
	assert.ok(host, `host link ${j.host_link}`);
	assert.equal(host[1], guest[1], 'host link carries the same invite as the guest link');
	assert.notEqual(host[2], host[1], 'host key differs from the invite');

	// a second meeting gets fresh values everywhere
	const k = await srv.createMeeting();
	assert.notEqual(k.room, j.room);
	assert.notEqual(k.invite, guest[1]);
	assert.notEqual(k.hostKey, host[2]);
});

test('--public-url with a trailing slash, and the human-readable output', async () => {
	const r = await srv.cli(['meeting', 'create', '--data', srv.dataDir, '--public-url', `${srv.origin}/`]);
	assert.equal(r.code, 0, r.stderr);
	assert.match(r.stdout, new RegExp(`${srv.origin.replace(/[.]/g, '\\.')}/m/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{43}`));
	assert.doesNotMatch(r.stdout, /\/\/m\//, 'no double slash');
});

test('a meeting made by the CLI: list, host join, end, delete', async () => {
	const mt = await srv.createMeeting();
	let entry = (await list()).find((e) => e.room === mt.room);
	assert.ok(entry, 'listed');
	assert.equal(entry.state, 'open');
	assert.equal(entry.ended_at, 0);
	assert.ok(Math.abs(entry.created_at - Date.now() / 1000) < 60, `created_at ${entry.created_at}`);

	// the running server sees it: the host key admits as host
	const { c: host, m: joined } = await hostJoin(mt.room, mt.hostKey);
	assert.equal(joined.type, 'joined', joined.raw);
	assert.equal(joined.role, 'host');
	assert.match(joined.participant, /^[A-Za-z0-9_-]{11}$/);
	assert.deepEqual(joined.participants, [{ id: joined.participant, name: 'cli host', role: 'host' }]);
	assert.deepEqual(joined.knocks, []);

	// the invite secret is not a host key
	const { c: notHost, m: m2 } = await hostJoin(mt.room, mt.invite, 'invite as key');
	assert.equal(m2.type, 'lobby', m2.raw);
	await notHost.close();
	await host.close();

	// a stranger's answer, for comparison
	const stranger = await srv.wsHello();
	stranger.join(randomRoomId(), 'stranger');
	const unknownLobby = await stranger.next('lobby');
	await stranger.close();

	let r = await srv.cli(['meeting', 'end', mt.room, '--data', srv.dataDir]);
	assert.equal(r.code, 0, r.stderr);
	entry = (await list()).find((e) => e.room === mt.room);
	assert.equal(entry.state, 'ended');
	assert.ok(entry.ended_at > 0);

	// ended: even the host key only gets the lobby, same text as an unknown room
	const { c: late, m: m3 } = await hostJoin(mt.room, mt.hostKey);
	assert.equal(m3.type, 'lobby', m3.raw);
	assert.equal(m3.raw, unknownLobby.raw, 'ended meeting answers exactly like an unknown one');
	await late.close();

	r = await srv.cli(['meeting', 'end', mt.room, '--data', srv.dataDir]);
	assert.notEqual(r.code, 0, 'ending twice fails');
	assert.match(r.stderr, /no such meeting/);

	r = await srv.cli(['meeting', 'delete', mt.room, '--data', srv.dataDir]);
	assert.equal(r.code, 0, r.stderr);
	assert.equal((await list()).find((e) => e.room === mt.room), undefined, 'gone from the list');
	r = await srv.cli(['meeting', 'delete', mt.room, '--data', srv.dataDir]);
	assert.notEqual(r.code, 0, 'deleting twice fails');
});

test('ending a meeting while people are inside: members get ended, waiting guests denied', async () => {
	const mt = await srv.createMeeting();
	const { c: host, m } = await hostJoin(mt.room, mt.hostKey);
	assert.equal(m.type, 'joined');
	const guest = await srv.wsHello();
	guest.join(mt.room, 'waiting guest');
	await guest.next('lobby');
	await host.next('knock');
	const r = await srv.cli(['meeting', 'end', mt.room, '--data', srv.dataDir]);
	assert.equal(r.code, 0, r.stderr);
	// docs/protocol.md: "a host (or an administrator, or the expiry) ended the
	// meeting"; the server notices the store change on its periodic check (2 s)
	assert.equal((await host.next('ended', 5000)).raw, '{"type":"ended"}');
	assert.equal((await guest.next('denied', 5000)).raw, '{"type":"denied"}');
	// nobody new gets in as host, and the answer is the plain lobby
	const { c: h2, m: m2 } = await hostJoin(mt.room, mt.hostKey, 'second host');
	assert.equal(m2.raw, '{"type":"lobby"}');
	// the server stays healthy and the old connections still answer
	await host.ping();
	await guest.ping();
	await Promise.all([h2, host, guest].map((c) => c.close()));
});

test('--expires-in is honoured and bad values are refused', async () => {
	const mt = await srv.createMeeting(['--expires-in', '3600']);
	const entry = (await list()).find((e) => e.room === mt.room);
	assert.ok(Math.abs(entry.expires_at - (Date.now() / 1000 + 3600)) < 60, `expires_at ${entry.expires_at}`);
	for (const v of ['59', 'abc', '-5']) {
		const r = await srv.cli(['meeting', 'create', '--data', srv.dataDir, '--expires-in', v]);
		assert.equal(r.code, 2, `--expires-in ${v}: ${r.stdout}${r.stderr}`);
	}
});
