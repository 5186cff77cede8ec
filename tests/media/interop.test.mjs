// An independent WebRTC stack (libdatachannel, through node-datachannel)
// publishes RTP through the conclave SFU and another one receives it: every
// packet must arrive, in sequence, with a byte-identical payload.
//
// libdatachannel gathers no candidates on loopback either, so this runs in
// the network namespace of scripts/netns.sh (make test does that).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import ndc from 'node-datachannel';
import { startServer, pollUntil, withDeadline } from '../integration/lib/server.mjs';

const PACKETS = 300;
const servers = [];
after(async () => {
	for (const s of servers) await s.stop().catch(() => {});
	// libdatachannel keeps threads alive until told to clean up
	ndc.cleanup();
});

/** A signaling client that joined `room` as host or guest. */
async function member(srv, meeting, name, host) {
	const c = await srv.wsHello();
	const msg = { type: 'join', room: meeting.room, name };
	if (host) msg.host_key = meeting.hostKey;
	c.send(msg);
	return c;
}

function rtpPacket(seq, ts, ssrc, payload) {
	const h = Buffer.alloc(12);
	h[0] = 0x80;
	h[1] = 96 | (seq % 30 === 29 ? 0x80 : 0);
	h.writeUInt16BE(seq & 0xffff, 2);
	h.writeUInt32BE(ts >>> 0, 4);
	h.writeUInt32BE(ssrc >>> 0, 8);
	return Buffer.concat([h, payload]);
}

test('node-datachannel publishes through the SFU and another receives it intact', async () => {
	const srv = await startServer({ flags: ['--media-workers', '1', '--media-port', String(20000 + crypto.randomInt(20000))] });
	servers.push(srv);
	const meeting = await srv.createMeeting();
	const host = await member(srv, meeting, 'Publisher', true);
	const joinedHost = await host.next((m) => m.type === 'joined', 5000);
	const guest = await member(srv, meeting, 'Receiver', false);
	const knock = await host.next((m) => m.type === 'knock', 5000);
	host.send({ type: 'admit', participant: knock.participant });
	await guest.next((m) => m.type === 'joined', 5000);

	// --- the receiver: answers subscribe offers, collects RTP
	const received = [], rtxReceived = [];
	const rx = new ndc.PeerConnection('rx', { iceServers: [] });
	let rxTrackOpen = false, rxTrack = null;
	rx.onTrack((track) => {
		rxTrack = track;
		track.onOpen(() => { rxTrackOpen = true; });
		track.onMessage((msg) => {
			const b = Buffer.from(msg);
			const pt = b[1] & 0x7f;
			if (pt >= 64 && pt <= 95) return; // RTCP
			if (pt === 97) rtxReceived.push(b); // RTX (RFC 4588)
			else received.push(b);
		});
	});
	rx.onLocalDescription((sdp, type) => {
		if (type === 'answer') guest.send({ type: 'subscribe_answer', sdp, version: rx.version });
	});
	guest.on?.('message', () => {});
	(async () => {
		for (;;) {
			const off = await guest.next((m) => m.type === 'subscribe_offer', 30000).catch(() => null);
			if (!off) return;
			rx.version = off.version;
			rx.setRemoteDescription(off.sdp, 'offer');
		}
	})();

	// --- the publisher: one VP8 video track with a fixed SSRC
	const ssrc = 0x1234abcd;
	const tx = new ndc.PeerConnection('tx', { iceServers: [] });
	const video = new ndc.Video('v0', 'SendOnly');
	video.addVP8Codec(96);
	video.addSSRC(ssrc, 'pub', 'pubstream', 'pubtrack');
	const txTrack = tx.addTrack(video);
	let txOpen = false;
	txTrack.onOpen(() => { txOpen = true; });
	tx.onLocalDescription((sdp, type) => {
		if (type === 'offer') host.send({ type: 'publish', sdp });
	});
	tx.setLocalDescription();
	const answer = await host.next((m) => m.type === 'publish_answer' || m.type === 'error', 10000);
	assert.equal(answer.type, 'publish_answer', JSON.stringify(answer));
	tx.setRemoteDescription(answer.sdp, 'answer');

	await pollUntil(() => txOpen && rxTrackOpen, 15000, 'both tracks open (ICE + DTLS-SRTP)');

	// --- send PACKETS packets, paced like video (about 2 ms apart)
	const sent = [];
	const seq0 = crypto.randomInt(65536), ts0 = crypto.randomInt(2 ** 32);
	for (let i = 0; i < PACKETS; i++) {
		const payload = crypto.randomBytes(800 + (i % 300));
		payload.writeUInt32BE(i, 0);
		sent.push(payload);
		txTrack.sendMessageBinary(rtpPacket(seq0 + i, ts0 + Math.floor(i / 5) * 3000, ssrc, payload));
		await new Promise((r) => setTimeout(r, 2));
	}
	await pollUntil(() => received.length >= PACKETS, 10000, `all ${PACKETS} packets received (got ${received.length})`);

	// sequence-complete and byte-identical
	assert.equal(received.length, PACKETS);
	const outSsrc = received[0].readUInt32BE(8);
	assert.notEqual(outSsrc, ssrc, 'the subscriber sees its own SSRC');
	for (let i = 0; i < PACKETS; i++) {
		const b = received[i];
		assert.equal(b.readUInt32BE(8), outSsrc);
		assert.equal(b.readUInt16BE(2), (received[0].readUInt16BE(2) + i) & 0xffff, `sequence continuity at ${i}`);
		const cc = b[0] & 0x0f, x = (b[0] & 0x10) !== 0;
		let off = 12 + 4 * cc;
		if (x) off += 4 + 4 * b.readUInt16BE(off + 2);
		assert.ok(b.subarray(off).equals(sent[i]), `payload ${i} identical`);
	}
	// loss recovery: the receiver NACKs four packets it "lost" (RFC 4585
	// generic NACK: PID + bitmask); the SFU resends them from its cache in
	// the RTX stream it announced (RFC 4588: original sequence number first,
	// then the byte-identical payload)
	const base = received[0].readUInt16BE(2);
	const pid = (base + 100) & 0xffff;
	const nack = Buffer.alloc(16);
	nack[0] = 0x81; nack[1] = 205; nack.writeUInt16BE(3, 2);
	nack.writeUInt32BE(0x5eed, 4);
	nack.writeUInt32BE(outSsrc, 8);
	nack.writeUInt16BE(pid, 12);
	nack.writeUInt16BE(0b1011, 14);          // pid, pid+1, pid+2, pid+4
	rxTrack.sendMessageBinary(nack);
	await pollUntil(() => rtxReceived.length >= 4, 5000, 'retransmissions after NACK').catch(async (e) => {
		const m = await srv.metrics();
		const pick = [...m].filter(([k]) => /media_(rtcp_in|nack_in|retransmits|cache_misses|srtp_errors)/.test(k));
		throw new Error(`${e.message}; ${JSON.stringify(pick)}`);
	});
	// the original sequence number follows the header and its extensions
	// (the SFU adds a transport-wide sequence number to what it sends)
	const osn = (b) => {
		let off = 12 + 4 * (b[0] & 0x0f);
		if (b[0] & 0x10) off += 4 + 4 * b.readUInt16BE(off + 2);
		return b.readUInt16BE(off);
	};
	const again = rtxReceived.map(osn).sort((a, b) => a - b);
	assert.deepEqual(again, [pid, pid + 1, pid + 2, pid + 4].map((x) => x & 0xffff).sort((a, b) => a - b));
	const rtxSsrc = rtxReceived[0].readUInt32BE(8);
	assert.notEqual(rtxSsrc, outSsrc, 'RTX has an SSRC of its own');
	for (const b of rtxReceived) {
		assert.equal(b.readUInt32BE(8), rtxSsrc);
		const i = (osn(b) - base) & 0xffff;
		assert.ok(b.subarray(b.length - sent[i].length).equals(sent[i]), `retransmitted payload ${i} identical`);
	}

	// the workers publish their counters every tick (10 ms)
	await pollUntil(async () => {
		const m = await srv.metrics();
		return m.get('conclave_media_rtp_forwarded_total') >= PACKETS &&
			m.get('conclave_media_dtls_connected_total') >= 2 &&
			m.get('conclave_media_nack_in_total') >= 4 &&
			m.get('conclave_media_retransmits_total') >= 4;
	}, 5000, 'forwarding counted in /metrics');
	// stop the server first: closing libdatachannel peers while packets
	// still arrive has crashed node-datachannel here
	await srv.stop();
	tx.close();
	rx.close();
});
