// With several media workers, a meeting that opens goes to the worker that
// carries the fewest people (then the fewest meetings): each worker is one
// core, so the busiest sets the capacity (docs/media.md). The worker shows
// in the UDP port of the candidates of a publish answer.
//
// The offers are the benchmark's publisher offers (no media flows: only
// the answers are read); like the other media tests this runs in the
// network namespace of scripts/netns.sh, where the server has an address
// to offer (make test does that).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer } from '../integration/lib/server.mjs';
import { parseSdp, publisherOffer } from '../../bench/lib/sdp.mjs';

const servers = [];
let ssrc = 0x1000;
after(async () => {
	for (const s of servers) await s.stop().catch(() => {});
});

/** Joins `meeting`: as its host, or as a guest that `host` admits. */
async function join(srv, meeting, name, host = null) {
	const c = await srv.wsHello();
	if (!host) {
		c.send({ type: 'join', room: meeting.room, name, host_key: meeting.hostKey });
	} else {
		c.send({ type: 'join', room: meeting.room, name });
		const knock = await host.next((m) => m.type === 'knock', 5000);
		host.send({ type: 'admit', participant: knock.participant });
	}
	await c.next((m) => m.type === 'joined', 5000);
	return c;
}

/** Publishes a video track from `c`; the media port the server answers with. */
async function publishPort(c) {
	const ep = { port: 9, ufrag: crypto.randomBytes(4).toString('hex'), pwd: crypto.randomBytes(16).toString('hex') };
	const fp = [...crypto.randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
	c.send({ type: 'publish', sdp: publisherOffer({ ep, fp, ip: '10.77.0.2', videoSsrc: ssrc++ }) });
	const answer = await c.next((m) => m.type === 'publish_answer' || m.type === 'error', 10000);
	assert.equal(answer.type, 'publish_answer', JSON.stringify(answer));
	const ports = new Set(parseSdp(answer.sdp).candidates.map((x) => x.port));
	assert.equal(ports.size, 1, `one media port in the answer: ${[...ports]}`);
	return [...ports][0];
}

test('meetings go to the media worker with the fewest people, then the fewest meetings', async () => {
	const srv = await startServer({ flags: ['--media-workers', '2'] });
	servers.push(srv);
	const open = [];
	const meeting = async (guests) => {
		const mt = await srv.createMeeting();
		const host = await join(srv, mt, 'Host');
		open.push(host);
		for (let i = 0; i < guests; i++) open.push(await join(srv, mt, `Guest ${i}`, host));
		return publishPort(host);
	};

	const a = await meeting(2);        // 3 people: the first worker
	const b = await meeting(0);        // 3 against 0
	assert.notEqual(b, a, 'the second meeting goes to the idle worker');
	const c = await meeting(0);        // 3 against 1
	assert.equal(c, b, 'by people, not by meetings: the worker with one meeting of 3 is the busier');
	const d = await meeting(0);        // 3 against 2
	assert.equal(d, b);
	const e = await meeting(0);        // 3 against 3, one meeting against three
	assert.equal(e, a, 'equal people: the worker with fewer meetings');

	// a meeting that closes frees its place
	for (const ws of open.splice(0, 3)) await ws.close();
	const f = await meeting(0);        // 1 (meeting e) against 3
	assert.equal(f, a, 'the people who left no longer count');
	for (const ws of open) await ws.close();
});
