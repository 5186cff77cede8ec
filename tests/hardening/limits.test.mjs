// Limits return their documented errors (issue 9, docs/protocol.md "Errors"
// and "Limits") — the cases tests/integration/ does not cover yet:
//   ws_max_conns                further upgrades get HTTP 503, the others unaffected
//   ws_conns_per_ip             the same, per address
//   publish                     bad_sdp (not SDP, no DTLS fingerprint),
//                               bad_field (SDP over SDP_MAX_SIZE, 384 KiB; the
//                               message limit is raised so that it can arrive),
//                               forbidden (not a member)
//   subscribe_answer            forbidden (not a member)
//   MLS messages                bad_mls (not MLS), forbidden (not a group
//                               member), bad_field (over the declared size)
//   streams per participant     a publish offer with more m-lines than
//                               max_tracks (8) -> too_many_tracks
//   capacity settings, small    max_meetings (busy to a host; a guest's knock
//                               answered like an unknown meeting's),
//                               meeting_max_members (full), meeting_max_lobby
//                               (the next knock parked, unseen by hosts),
//                               max_tracks (too_many_tracks), mls_max_message
//                               (too_large)
// Every error leaves the sender's connection open and a bystander unaffected.
// (The slow reader cut off at ws_max_outq, the message size, rate, per-address,
// and the hard caps of lobby, members and knock limits are in
// tests/integration/.)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ndc from 'node-datachannel';
import { startServer, pollUntil, randomRoomId } from '../integration/lib/server.mjs';

/** SDP_MAX_SIZE of src/sdp/sdp.h (1536 bytes x 256 m-lines). */
const SDP_MAX_SIZE = 1536 * 256;

// offerers stay referenced until the end: node-datachannel objects that are
// garbage-collected or closed while in use have crashed node at exit
const offerers = [];
after(() => {
	for (const o of offerers) o.pc.close();
	ndc.cleanup();
});

async function assertUnaffected(srv, good, what) {
	assert.ok(good.isOpen, `bystander closed after: ${what}`);
	await good.ping(2000).catch((e) => assert.fail(`bystander after ${what}: ${e.message}`));
	assert.equal((await srv.get('/healthz')).status, 200, `healthz after ${what}`);
}

/** An SDP offer from an independent WebRTC stack with `n` video m-lines. */
function makeOffer(n) {
	return new Promise((resolve) => {
		const pc = new ndc.PeerConnection('offerer', { iceServers: [] });
		const tracks = [];
		for (let i = 0; i < n; i++) {
			const v = new ndc.Video(`v${i}`, 'SendOnly');
			v.addVP8Codec(96);
			v.addSSRC(1000 + i, `c${i}`, 'stream', `track${i}`);
			tracks.push(pc.addTrack(v));
		}
		offerers.push({ pc, tracks });
		pc.onLocalDescription((sdp, type) => {
			if (type === 'offer') resolve(sdp);
		});
		pc.setLocalDescription();
	});
}

/** Sends `msg` and expects exactly one error reply with these fields. */
async function expectError(c, msg, want) {
	c.send(msg);
	const e = await c.next((m) => m.type === 'error' || m.type === 'publish_answer', 5000);
	assert.equal(e.type, 'error', `expected an error, got ${e.raw.slice(0, 200)}`);
	for (const [k, v] of Object.entries(want)) assert.equal(e[k], v, `${k} in ${e.raw}`);
	assert.equal(typeof e.message, 'string');
	await c.ping();
	return e;
}

describe('ws_max_conns (--ws-max-conns 3)', () => {
	let srv;
	before(async () => { srv = await startServer({ flags: ['--ws-max-conns', '3', '--ws-conns-per-ip', '100'] }); });
	after(async () => { await srv?.stop(); });

	test('the fourth connection is refused, the three keep working, a slot frees on close', async (t) => {
		const three = [];
		for (let i = 0; i < 3; i++) three.push(await srv.wsHello());
		const refused0 = await srv.metric('conclave_ws_refused_total');
		const fourth = await srv.ws().catch((e) => e);
		assert.ok(fourth instanceof Error, 'the upgrade is refused');
		// refused at the upgrade with a clear answer (docs/protocol.md, "Limits")
		t.diagnostic(`the fourth upgrade: ${fourth.status ? `HTTP ${fourth.status}` : fourth.message}`);
		assert.equal(fourth.status, 503, fourth.message);
		const raw = await srv.get('/ws', { headers: { connection: 'Upgrade', upgrade: 'websocket',
			'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
		assert.equal(raw.status, 503);
		assert.equal(raw.body, 'too many connections\n');
		assert.equal(await srv.metric('conclave_ws_refused_total'), refused0 + 2);
		assert.equal(await srv.metric('conclave_ws_connections'), 3);
		for (const c of three) await c.ping();
		assert.equal((await srv.get('/healthz')).status, 200, 'HTTP is not limited by the WebSocket limit');
		await three.pop().close();
		const fresh = await pollUntil(() => srv.wsHello().catch(() => null), 5000, 'a connection after one closed');
		await fresh.ping();
		for (const c of three) await c.ping();
		await fresh.close();
		for (const c of three) await c.close();
	});
});

describe('ws_conns_per_ip (--ws-conns-per-ip 2)', () => {
	let srv;
	before(async () => { srv = await startServer({ flags: ['--ws-conns-per-ip', '2'] }); });
	after(async () => { await srv?.stop(); });

	test('the third connection from one address gets HTTP 503, the two keep working', async () => {
		const two = [await srv.wsHello(), await srv.wsHello()];
		const refused0 = await srv.metric('conclave_ws_refused_total');
		const third = await srv.ws().catch((e) => e);
		assert.ok(third instanceof Error, 'the upgrade is refused');
		assert.equal(third.status, 503, third.message);
		assert.equal(await srv.metric('conclave_ws_refused_total'), refused0 + 1);
		assert.equal(await srv.metric('conclave_ws_connections'), 2);
		for (const c of two) await c.ping();
		for (const c of two) await c.close();
	});
});

describe('media and MLS messages', () => {
	let srv, mt, host, guest, good;
	before(async () => {
		srv = await startServer({ flags: ['--media-workers', '1', '--media-port', '0', '--ws-max-message', String(1 << 20)] });
		mt = await srv.createMeeting();
		host = await srv.wsHello();
		host.join(mt.room, 'Host', mt.hostKey);
		await host.next('joined');
		guest = await srv.wsHello();
		guest.join(mt.room, 'Waiting guest');
		await guest.next('lobby');
		await host.next('knock');
		good = await srv.wsHello();
	});
	after(async () => { await srv?.stop(); });

	test('publish: not SDP -> bad_sdp', async () => {
		await expectError(host, { type: 'publish', sdp: 'this is not a session description' }, { code: 'bad_sdp', ref: 'publish' });
		await assertUnaffected(srv, good, 'bad SDP');
	});

	test('publish: an offer without a DTLS fingerprint -> bad_sdp', async () => {
		const sdp = (await makeOffer(1)).split(/\r?\n/).filter((l) => !l.startsWith('a=fingerprint')).join('\r\n');
		await expectError(host, { type: 'publish', sdp }, { code: 'bad_sdp', ref: 'publish' });
		await assertUnaffected(srv, good, 'SDP without fingerprint');
	});

	test('publish: SDP over 384 KiB -> bad_field sdp', async () => {
		const sdp = (await makeOffer(1)) + `a=x-pad:${'x'.repeat(SDP_MAX_SIZE)}\r\n`;
		await expectError(host, { type: 'publish', sdp }, { code: 'bad_field', field: 'sdp', ref: 'publish' });
		await assertUnaffected(srv, good, 'oversize SDP');
	});

	test('publish and subscribe_answer from a guest in the lobby -> forbidden', async () => {
		const sdp = await makeOffer(1);
		await expectError(guest, { type: 'publish', sdp }, { code: 'forbidden', ref: 'publish' });
		await expectError(guest, { type: 'subscribe_answer', sdp, version: 1 }, { code: 'forbidden', ref: 'subscribe_answer' });
		assert.deepEqual(guest.queue.map((m) => m.raw), [], 'nothing else for the guest');
		await assertUnaffected(srv, good, 'publish from the lobby');
	});

	test('MLS: not MLS -> bad_mls; from the lobby -> forbidden; over the declared size -> bad_field', async () => {
		const junk = Buffer.from('definitely not an MLS message').toString('base64url');
		await expectError(host, { type: 'mls_commit', commit: junk }, { code: 'bad_mls', ref: 'mls_commit' });
		await expectError(host, { type: 'mls_app', msg: junk }, { code: 'bad_mls', ref: 'mls_app' });
		await expectError(guest, { type: 'mls_commit', commit: junk }, { code: 'forbidden', ref: 'mls_commit' });
		await expectError(guest, { type: 'mls_app', msg: junk }, { code: 'forbidden', ref: 'mls_app' });
		await expectError(host, { type: 'mls_keypackage', keypackage: 'A'.repeat(2049) },
			{ code: 'bad_field', field: 'keypackage', ref: 'mls_keypackage' });
		await expectError(host, { type: 'mls_keypackage', keypackage: 'A'.repeat(2048), proof: 'A'.repeat(65) },
			{ code: 'bad_field', field: 'proof', ref: 'mls_keypackage' });
		await expectError(host, { type: 'mls_app', msg: 'A'.repeat(21847) }, { code: 'bad_field', field: 'msg', ref: 'mls_app' });
		await assertUnaffected(srv, good, 'bad MLS messages');
	});

	test('streams per participant: an offer with more m-lines than the SFU takes gets an error, not a half-made state', async () => {
		const pub = await srv.wsHello();
		pub.join(mt.room, 'Greedy publisher', mt.hostKey);
		await pub.next('joined');
		const sdp = await makeOffer(9);
		pub.send({ type: 'publish', sdp });
		const r = await pub.next((m) => m.type === 'error' || m.type === 'publish_answer', 5000);
		// the other member must not be offered tracks of a publish that failed
		await host.ping();
		const offers = host.queue.filter((m) => m.type === 'subscribe_offer');
		host.queue.length = 0;
		assert.equal(r.type, 'error', r.raw.slice(0, 200));
		assert.equal(r.ref, 'publish', r.raw);
		assert.equal(r.code, 'too_many_tracks', r.raw);
		assert.deepEqual(offers.map((o) => (o.sdp.match(/^m=/gm) || []).length), [],
			'the publish failed but the other member was offered its tracks anyway');
		await assertUnaffected(srv, good, 'too many streams');
		await pub.close();
	});
});

describe('capacity settings (--max-meetings 1 --meeting-max-members 2 --meeting-max-lobby 1 --max-tracks 2 --mls-max-message 4096)', () => {
	let srv, good;
	before(async () => {
		srv = await startServer({ flags: ['--media-workers', '1', '--media-port', '0', '--max-meetings', '1',
			'--meeting-max-members', '2', '--meeting-max-lobby', '1', '--max-tracks', '2', '--mls-max-message', '4096'] });
		good = await srv.wsHello();
	});
	after(async () => { await srv?.stop(); });

	test('max_meetings: a second meeting cannot open (busy to its host; its guest waits like at an unknown meeting, and knocks once it can) until the first closes', async () => {
		const [a, b] = [await srv.createMeeting(), await srv.createMeeting()];
		const hostA = await srv.wsHello();
		hostA.join(a.room, 'Host A', a.hostKey);
		await hostA.next('joined');
		assert.equal(await srv.metric('conclave_meetings_active'), 1);
		const refused0 = await srv.metric('conclave_meetings_refused_total');
		const hostB = await srv.wsHello();
		hostB.join(b.room, 'Host B', b.hostKey);
		const e = await hostB.next((m) => m.type !== 'pong');
		assert.equal(e.type, 'error', e.raw);
		assert.equal(e.code, 'busy', e.raw);
		assert.equal(e.ref, 'join', e.raw);
		assert.equal(typeof e.message, 'string');
		// a guest of the meeting that cannot open learns nothing from it
		const guest = await srv.wsHello();
		guest.join(b.room, 'Guest');
		const guestAnswer = await guest.next((m) => m.type !== 'pong');
		const stranger = await srv.wsHello();
		stranger.join(randomRoomId(), 'Guest');
		const unknownAnswer = await stranger.next((m) => m.type !== 'pong');
		assert.equal(guestAnswer.raw, unknownAnswer.raw, 'a refused knock must look like a knock on an unknown meeting');
		assert.equal(await srv.metric('conclave_meetings_refused_total'), refused0 + 2);
		assert.equal(await srv.metric('conclave_meetings_active'), 1);
		await hostA.ping();
		await assertUnaffected(srv, good, 'max_meetings');
		// the limit counts open meetings: once A is empty, B opens — first
		// for the guest who knocked on it while it could not (the server's
		// room check, every 2 s, knocks again), then for its host, who sees
		// that guest waiting; the stranger's unknown meeting never opens
		await hostA.close();
		await pollUntil(async () => (await srv.metric('conclave_meetings_active')) === 1 &&
			(await srv.metric('conclave_lobby_waiting')) === 1, 10000, 'meeting B opened for its waiting guest');
		const hostB2 = await srv.wsHello();
		hostB2.join(b.room, 'Host B', b.hostKey);
		const joined = await hostB2.next('joined');
		assert.deepEqual(joined.knocks.map((k) => k.name), ['Guest'], joined.raw);
		hostB2.send({ type: 'admit', participant: joined.knocks[0].participant });
		await guest.next('joined');
		assert.equal(await srv.metric('conclave_meetings_active'), 1);
		for (const c of [hostB, hostB2, guest, stranger]) await c.close();
		await pollUntil(async () => (await srv.metric('conclave_meetings_active')) === 0, 5000, 'meeting B closed');
	});

	test('meeting_max_lobby and meeting_max_members: the next knock is parked unseen, the next admit and host join get full', async () => {
		const mt = await srv.createMeeting();
		const host = await srv.wsHello();
		host.join(mt.room, 'Host', mt.hostKey);
		await host.next('joined');
		const g1 = await srv.wsHello();
		g1.join(mt.room, 'First guest');
		await g1.next('lobby');
		const k1 = await host.next('knock');
		const g2 = await srv.wsHello();
		g2.join(mt.room, 'Second guest');
		await g2.next('lobby');
		await host.ping();
		assert.equal(host.queue.filter((m) => m.type === 'knock').length, 0, 'a knock past meeting_max_lobby reached the host');
		assert.equal(await srv.metric('conclave_lobby_waiting'), 1);
		host.send({ type: 'admit', participant: k1.participant });
		await g1.next('joined');
		// two members now: a third guest may knock (the lobby is empty), but
		// not come in
		const g3 = await srv.wsHello();
		g3.join(mt.room, 'Third guest');
		await g3.next('lobby');
		const k3 = await host.next('knock');
		host.send({ type: 'admit', participant: k3.participant });
		const e = await host.next('error');
		assert.equal(e.code, 'full', e.raw);
		assert.equal(e.ref, 'admit', e.raw);
		const host2 = await srv.wsHello();
		host2.join(mt.room, 'Second host', mt.hostKey);
		const e2 = await host2.next((m) => m.type !== 'pong');
		assert.equal(e2.code, 'full', e2.raw);
		await g3.ping();
		assert.deepEqual(g3.queue.filter((m) => m.type === 'joined'), [], 'the guest stayed in the lobby');
		await assertUnaffected(srv, good, 'member and lobby limits');
		for (const c of [host, g1, g2, g3, host2]) await c.close();
		await pollUntil(async () => (await srv.metric('conclave_meetings_active')) === 0, 5000, 'the meeting closed');
	});

	test('max_tracks and mls_max_message: too_many_tracks and too_large, then a publish within the limit works', async () => {
		const mt = await srv.createMeeting();
		const host = await srv.wsHello();
		host.join(mt.room, 'Host', mt.hostKey);
		await host.next('joined');
		await expectError(host, { type: 'publish', sdp: await makeOffer(3) }, { code: 'too_many_tracks', ref: 'publish' });
		host.send({ type: 'publish', sdp: await makeOffer(2) });
		const ans = await host.next('publish_answer', 5000);
		assert.equal(ans.sdp.split(/\r?\n/).filter((l) => /^m=video [1-9]/.test(l)).length, 2);
		// 5,464 base64url characters decode to 4,098 bytes: over 4,096
		// (an application message: a KeyPackage is capped lower, at 2,048)
		await expectError(host, { type: 'mls_app', msg: 'A'.repeat(5464) },
			{ code: 'too_large', ref: 'mls_app' });
		// 5,460 decode to 4,095: within the limit, so it is read (and is not MLS)
		await expectError(host, { type: 'mls_app', msg: 'A'.repeat(5460) },
			{ code: 'bad_mls', ref: 'mls_app' });
		await assertUnaffected(srv, good, 'track and MLS limits');
		await host.close();
	});
});
