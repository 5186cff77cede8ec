// Signaling for simulcast and views (docs/protocol.md, "Media"): `view`
// and `publish.sources` are checked like every other message; a member
// without media may send a view (nothing to apply yet).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

test('view: members only, entries checked, well-formed views accepted', async () => {
	const mt = await srv.createMeeting();
	const stranger = await srv.wsHello();
	stranger.send({ type: 'view', tiles: [] });
	assert.equal((await stranger.next('error')).code, 'forbidden', 'like publish: members only');

	const host = await srv.wsHello();
	host.join(mt.room, 'Host', mt.hostKey);
	await host.next('joined');
	const bad = [
		{ tiles: 'all' },
		{ tiles: [{ mid: 's0', width: 320 }] },
		{ tiles: [{ mid: 's0', width: 320, height: 180, extra: 1 }] },
		{ tiles: [{ mid: 'x0', width: 320, height: 180 }] },
		{ tiles: [{ mid: 's', width: 320, height: 180 }] },
		{ tiles: [{ mid: 's-1', width: 320, height: 180 }] },
		{ tiles: [{ mid: 's +1', width: 320, height: 180 }] },
		{ tiles: [{ mid: 's1x', width: 320, height: 180 }] },
		{ tiles: [{ mid: 's99999999999999999999', width: 320, height: 180 }] },
		{ tiles: [{ mid: 's0', width: -1, height: 180 }] },
		{ tiles: [{ mid: 's0', width: 320, height: 8193 }] },
		{ tiles: [{ mid: 's0', width: 1.5, height: 180 }] },
		{ tiles: Array.from({ length: 65 }, (_, i) => ({ mid: `s${i}`, width: 1, height: 1 })) },
	];
	for (const b of bad) {
		host.send({ type: 'view', ...b });
		const err = await host.next('error');
		assert.equal(err.code, 'bad_field', JSON.stringify(b).slice(0, 80));
		assert.equal(err.ref, 'view');
	}
	host.send({ type: 'view', tiles: [{ mid: 's0', width: 640, height: 360 }, { mid: 's3', width: 0, height: 0 }] });
	host.send({ type: 'view', tiles: [] });
	await host.ping();
	assert.deepEqual(host.queue.filter((m) => m.type === 'error'), [], 'valid views answer nothing');
	await host.close();
	await stranger.close();
});

test('publish.sources must map mids to microphone, camera or screen', async () => {
	const mt = await srv.createMeeting();
	const host = await srv.wsHello();
	host.join(mt.room, 'Host', mt.hostKey);
	await host.next('joined');
	for (const sources of ['camera', { 0: 'projector' }, { 0: 7 }, { ['m'.repeat(33)]: 'camera' }]) {
		host.send({ type: 'publish', sdp: 'v=0\r\n', sources });
		const err = await host.next('error');
		assert.equal(err.code, 'bad_field', JSON.stringify(sources));
		assert.equal(err.ref, 'publish');
	}
	await host.close();
});
