// Signaling v1, the happy path: hello, ping, host join, knock, admit, deny,
// leave; and the lobby answer that does not reveal whether a room exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, randomRoomId, pollUntil } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

test('hello -> welcome with version and limits; ping -> pong with the same id', async () => {
	const c = await srv.ws();
	c.send({ type: 'hello', v: 1 });
	const w = await c.next('welcome');
	assert.equal(w.v, 1);
	assert.match(w.server, /^conclave\//);
	assert.deepEqual(Object.keys(w.limits).sort(), ['burst', 'max_message_bytes', 'messages_per_second']);
	for (const v of Object.values(w.limits)) assert.ok(Number.isInteger(v) && v > 0, JSON.stringify(w.limits));
	assert.equal(w.limits.max_message_bytes, 524288, 'default --ws-max-message');

	for (const id of [0, 1, 42, 9007199254740991]) {
		c.send({ type: 'ping', id });
		const p = await c.next('pong');
		assert.equal(p.raw, JSON.stringify({ type: 'pong', id }));
	}
	c.send({ type: 'ping' });
	assert.equal((await c.next('pong')).raw, '{"type":"pong"}', 'ping without id');
	await c.close();
});

test('host joins, guest knocks, host admits, second guest is denied, guest leaves', async () => {
	const mt = await srv.createMeeting();
	const host = await srv.wsHello();
	host.join(mt.room, 'The Host', mt.hostKey);
	const hj = await host.next('joined');
	assert.equal(hj.role, 'host');
	const hostId = hj.participant;
	assert.deepEqual(hj.participants, [{ id: hostId, name: 'The Host', role: 'host' }]);

	// guest knocks
	const guest = await srv.wsHello();
	guest.join(mt.room, 'Guest Ünïcødé 🙂');
	const lobby = await guest.next('lobby');
	assert.equal(lobby.raw, '{"type":"lobby"}');
	const knock = await host.next('knock');
	assert.equal(knock.name, 'Guest Ünïcødé 🙂');
	assert.match(knock.participant, /^[A-Za-z0-9_-]{11}$/);
	assert.notEqual(knock.participant, hostId);
	const guestId = knock.participant;
	assert.equal(await srv.metric('conclave_lobby_waiting'), 1);

	// nothing about the meeting reaches the knocking guest
	await guest.ping();
	assert.deepEqual(guest.queue.map((m) => m.raw), [], 'a guest in the lobby gets nothing else');

	// a guest cannot admit itself or anyone
	guest.send({ type: 'admit', participant: guestId });
	const forb = await guest.next('error');
	assert.equal(forb.code, 'forbidden');
	assert.equal(forb.ref, 'admit');

	// admit
	host.send({ type: 'admit', participant: guestId });
	const gj = await guest.next('joined');
	assert.equal(gj.role, 'guest');
	assert.equal(gj.participant, guestId);
	assert.deepEqual(gj.knocks, [], 'guests are not shown the lobby');
	assert.deepEqual(
		[...gj.participants].sort((a, b) => a.id.localeCompare(b.id)),
		[{ id: hostId, name: 'The Host', role: 'host' }, { id: guestId, name: 'Guest Ünïcødé 🙂', role: 'guest' }]
			.sort((a, b) => a.id.localeCompare(b.id)));
	const gone = await host.next('knock_gone');
	assert.equal(gone.participant, guestId);
	const pj = await host.next('participant_joined');
	assert.deepEqual(pj.participant, { id: guestId, name: 'Guest Ünïcødé 🙂', role: 'guest' });
	assert.equal(await srv.metric('conclave_participants'), 2);
	assert.equal(await srv.metric('conclave_meetings_active'), 1);

	// admitting the same guest twice: no such participant in the lobby
	host.send({ type: 'admit', participant: guestId });
	const again = await host.next('error');
	assert.equal(again.code, 'no_such_participant');
	assert.equal(again.ref, 'admit');

	// a second guest knocks and is denied
	const third = await srv.wsHello();
	third.join(mt.room, 'Unwanted');
	await third.next('lobby');
	const k3 = await host.next('knock');
	assert.equal(k3.name, 'Unwanted');
	// the admitted guest, not a host, is not told about knocks
	host.send({ type: 'deny', participant: k3.participant });
	assert.equal((await third.next('denied')).raw, '{"type":"denied"}');
	assert.equal((await host.next('knock_gone')).participant, k3.participant);
	// a denied connection may not knock again
	third.join(mt.room, 'Unwanted');
	const e3 = await third.next('error');
	assert.equal(e3.code, 'forbidden');
	assert.equal(e3.ref, 'join');
	third.join(randomRoomId(), 'Elsewhere');
	assert.equal((await third.next('error')).code, 'forbidden', 'denied is final for the connection');
	await third.ping();

	// the guest saw neither the knock nor the denial
	await guest.ping();
	assert.deepEqual(guest.queue.map((m) => m.raw), []);

	// guest disconnects -> host is told
	await guest.close();
	const left = await host.next('participant_left');
	assert.equal(left.participant, guestId);
	await pollUntil(async () => (await srv.metric('conclave_participants')) === 1, 3000, 'participants gauge back to 1');

	// leave and join again as host
	host.send({ type: 'leave' });
	assert.equal((await host.next('left')).raw, '{"type":"left"}');
	host.join(mt.room, 'The Host', mt.hostKey);
	const hj2 = await host.next('joined');
	assert.equal(hj2.role, 'host');
	host.send({ type: 'join', room: mt.room, name: 'x', host_key: mt.hostKey });
	const aj = await host.next('error');
	assert.equal(aj.code, 'already_joined');
	assert.equal(aj.ref, 'join');

	await third.close();
	await host.close();
	await pollUntil(async () => (await srv.metric('conclave_meetings_active')) === 0, 3000, 'room freed');
	assert.equal(await srv.metric('conclave_lobby_waiting'), 0);
});

test('a host sees guests who knocked before it arrived; a host leaving is announced', async () => {
	const mt = await srv.createMeeting();
	const early = await srv.wsHello();
	early.join(mt.room, 'Early Bird');
	await early.next('lobby');
	const host = await srv.wsHello();
	host.join(mt.room, 'Host', mt.hostKey);
	const hj = await host.next('joined');
	assert.equal(hj.knocks.length, 1);
	assert.equal(hj.knocks[0].name, 'Early Bird');
	const earlyId = hj.knocks[0].participant;

	const host2 = await srv.wsHello();
	host2.join(mt.room, 'Co-host', mt.hostKey);
	const h2j = await host2.next('joined');
	assert.equal(h2j.role, 'host');
	assert.equal(h2j.participants.length, 2);
	assert.deepEqual(h2j.knocks, [{ participant: earlyId, name: 'Early Bird' }]);
	const pj = await host.next('participant_joined');
	assert.equal(pj.participant.role, 'host');

	// the knocking guest gives up: hosts are told
	early.send({ type: 'leave' });
	await early.next('left');
	assert.equal((await host.next('knock_gone')).participant, earlyId);
	assert.equal((await host2.next('knock_gone')).participant, earlyId);

	await host2.close();
	assert.equal((await host.next('participant_left')).participant, h2j.participant);
	await early.close();
	await host.close();
});

test('unknown room, existing room and wrong host key give byte-identical lobby answers', async () => {
	const mt = await srv.createMeeting();
	const answers = [];
	for (const [room, key] of [
		[randomRoomId(), undefined],
		[mt.room, undefined],
		[mt.room, mt.invite],
		[randomRoomId(), mt.hostKey],
	]) {
		const c = await srv.wsHello();
		c.join(room, 'Same Name', key);
		const m = await c.next((x) => x.type !== 'pong');
		answers.push(m.raw);
		// and nothing follows it
		await c.ping();
		assert.deepEqual(c.queue.map((x) => x.raw), []);
		await c.close();
	}
	assert.deepEqual(answers, Array(4).fill('{"type":"lobby"}'));
});
