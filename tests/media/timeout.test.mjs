// A participant whose network is cut is removed after the media timeout and
// the others are told. The cut is real: the participant's process (an
// independent libdatachannel peer) is frozen with SIGSTOP, so it sends
// neither ICE consent checks nor media nor WebSocket frames.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startServer, pollUntil, withDeadline } from '../integration/lib/server.mjs';

const MEDIA_TIMEOUT_S = 3;
const cleanups = [];
after(async () => { for (const f of cleanups.reverse()) await f().catch(() => {}); });

function spawnPeer(srv, meeting, name) {
	const proc = spawn(process.execPath, [fileURLToPath(new URL('./peer.mjs', import.meta.url)),
		String(srv.port), meeting.room, meeting.hostKey, name], { stdio: ['ignore', 'pipe', 'inherit'] });
	const events = [];
	readline.createInterface({ input: proc.stdout }).on('line', (l) => events.push(JSON.parse(l)));
	cleanups.push(async () => proc.kill('SIGKILL'));
	return { proc, events };
}

test('a participant whose packets stop is removed after the media timeout; the others are told', async () => {
	const srv = await startServer({ flags: ['--media-workers', '1', '--media-port', '0',
		'--media-timeout', String(MEDIA_TIMEOUT_S)] });
	cleanups.push(() => srv.stop());
	const meeting = await srv.createMeeting();
	const observer = await srv.wsHello();
	observer.send({ type: 'join', room: meeting.room, name: 'Observer', host_key: meeting.hostKey });
	await observer.next((m) => m.type === 'joined', 5000);

	const victim = spawnPeer(srv, meeting, 'Victim');
	await pollUntil(() => victim.events.some((e) => e.event === 'open'), 15000, 'victim media connected');
	const vid = victim.events.find((e) => e.event === 'joined').participant;
	await observer.next((m) => m.type === 'participant_joined' && m.participant.id === vid, 5000);
	await pollUntil(async () => (await srv.metrics()).get('conclave_media_rtp_in_total') > 10, 5000, 'media flowing');

	const cutAt = Date.now();
	victim.proc.kill('SIGSTOP');
	const left = await observer.next((m) => m.type === 'participant_left' && m.participant === vid,
		(MEDIA_TIMEOUT_S + 5) * 1000);
	const took = Date.now() - cutAt;
	assert.ok(left);
	assert.ok(took >= MEDIA_TIMEOUT_S * 1000 - 500, `removed after ${took} ms, not before the timeout`);
	assert.ok(took <= (MEDIA_TIMEOUT_S + 3) * 1000, `removed after ${took} ms`);
	await pollUntil(async () => (await srv.metrics()).get('conclave_media_ice_timeouts_total') >= 1, 3000, 'timeout counted');
	// the meeting goes on: the observer is still served
	observer.send({ type: 'ping', id: 7 });
	await observer.next((m) => m.type === 'pong' && m.id === 7, 3000);
	victim.proc.kill('SIGKILL');
});
