// Room limits (src/room/room.h): ROOM_MAX_LOBBY knocking guests and
// ROOM_MAX_MEMBERS admitted participants per meeting.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, randomRoomId } from './lib/server.mjs';

const MAX_LOBBY = 50;
const MAX_MEMBERS = 100;

describe('room limits', () => {
	let srv;
	before(async () => {
		srv = await startServer({ flags: ['--ws-conns-per-ip', '1000', '--knock-per-minute', '100000', '--ws-max-conns', '1000'] });
	});
	after(async () => { await srv?.stop(); });

	async function many(n) {
		return Promise.all(Array.from({ length: n }, () => srv.wsHello()));
	}

	// every test leaves the server as it found it, pass or fail
	async function closeAll() {
		await Promise.all([...srv.clients].map((c) => c.close()));
	}

	test(`a full lobby (${MAX_LOBBY}) answers a newcomer exactly like an unknown room does`, async () => {
		const mt = await srv.createMeeting();
		const host = await srv.wsHello();
		host.join(mt.room, 'Host', mt.hostKey);
		await host.next('joined');
		const guests = await many(MAX_LOBBY);
		for (const [i, g] of guests.entries()) {
			g.join(mt.room, `guest ${i}`);
			await g.next('lobby');
		}
		for (let i = 0; i < MAX_LOBBY; i++) await host.next('knock');
		assert.equal(await srv.metric('conclave_lobby_waiting'), MAX_LOBBY);

		const stranger = await srv.wsHello();
		stranger.join(randomRoomId(), 'newcomer');
		const unknownAnswer = await stranger.next((m) => m.type !== 'pong');

		const late = await srv.wsHello();
		late.join(mt.room, 'newcomer');
		const fullAnswer = await late.next((m) => m.type !== 'pong');
		await host.ping();
		const extraKnocks = host.queue.filter((m) => m.type === 'knock').length;
		await closeAll();
		// DESIGN.md §4: unknown and existing room ids answer alike. An answer
		// that differs only when the room is live would tell a stranger that
		// the room exists (fill the lobby of a guessed id, then compare).
		assert.equal(fullAnswer.raw, unknownAnswer.raw,
			'a full lobby is an existence oracle: live room answers differently from an unknown one');

		assert.equal(extraKnocks, 0, 'the host did not get a 51st knock');
	});

	test(`a meeting with ${MAX_MEMBERS} members refuses the next admit and the guest keeps waiting`, async () => {
		try {
			await fullRoom();
		} finally {
			await closeAll();
		}
	});

	async function fullRoom() {
		const mt = await srv.createMeeting();
		const host = await srv.wsHello();
		host.join(mt.room, 'Host', mt.hostKey);
		await host.next('joined');
		const members = [];
		// fill the room in lobby-sized rounds
		while (members.length < MAX_MEMBERS - 1) {
			const n = Math.min(MAX_LOBBY, MAX_MEMBERS - 1 - members.length);
			const round = await many(n);
			for (const [i, g] of round.entries()) g.join(mt.room, `member ${members.length + i}`);
			for (const g of round) await g.next('lobby');
			for (let i = 0; i < n; i++) {
				const k = await host.next('knock');
				host.send({ type: 'admit', participant: k.participant });
			}
			for (const g of round) await g.next('joined', 5000);
			for (let i = 0; i < n; i++) {
				await host.next('knock_gone');
				await host.next('participant_joined');
			}
			members.push(...round);
		}
		assert.equal(await srv.metric('conclave_participants'), MAX_MEMBERS);
		await host.ping();
		assert.deepEqual(host.queue.map((m) => m.raw), []);

		const extra = await srv.wsHello();
		extra.join(mt.room, 'one too many');
		await extra.next('lobby');
		const k = await host.next('knock');
		host.send({ type: 'admit', participant: k.participant });
		const e = await host.next('error');
		assert.equal(e.code, 'full');
		assert.equal(e.ref, 'admit');
		await host.ping();
		const goneAfterFull = host.queue.splice(0).filter((m) => m.type === 'knock_gone').map((m) => m.raw);
		assert.equal(await srv.metric('conclave_lobby_waiting'), 1);
		await extra.ping();
		assert.deepEqual(extra.queue.map((m) => m.raw), [], 'the waiting guest was told nothing');

		// once someone leaves, the same guest can be admitted
		await members.pop().close();
		await host.next('participant_left');
		host.send({ type: 'admit', participant: k.participant });
		const j = await extra.next('joined');
		assert.equal(j.participants.length, MAX_MEMBERS);

		// the guest stayed in the lobby all along, so hosts must not have been told it was gone
		assert.deepEqual(goneAfterFull, [], 'hosts were told knock_gone for a guest who is still waiting');
	}
});
