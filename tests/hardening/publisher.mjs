// A publishing participant for the hardening tests, in its own process:
// joins a meeting with the host key, publishes one VP8-like video track from
// libdatachannel and sends an RTP packet every 20 ms (50 packets/s) until
// killed. Each payload starts with a magic number, the packet's index and
// the wall-clock time it was sent (ms, float64), so a receiver can tell a
// gap made on the way (the server) from a gap in sending (this process not
// getting the CPU on a busy machine). One JSON line per milestone on stdout.
//   node publisher.mjs PORT ROOM HOSTKEY NAME
import crypto from 'node:crypto';
import ndc from 'node-datachannel';
import WebSocket from 'ws';

const MAGIC = 0xc0ffee01; // PUBLISHER_MAGIC in lib.mjs
const [port, room, hostKey, name] = process.argv.slice(2);
const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\n');
const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { rejectUnauthorized: false });
const send = (m) => ws.send(JSON.stringify(m));

const ssrc = crypto.randomInt(1, 2 ** 31);
const pc = new ndc.PeerConnection('publisher', { iceServers: [] });
const video = new ndc.Video('v0', 'SendOnly');
video.addVP8Codec(96);
video.addSSRC(ssrc, 'pub', 'pubstream', 'pubtrack');
const track = pc.addTrack(video);
let seq = crypto.randomInt(65536), ts = crypto.randomInt(2 ** 31), index = 0;

track.onOpen(() => {
	say('open');
	setInterval(() => {
		const h = Buffer.alloc(12);
		h[0] = 0x80;
		h[1] = 96;
		h.writeUInt16BE(seq++ & 0xffff, 2);
		h.writeUInt32BE((ts += 3000) >>> 0, 4);
		h.writeUInt32BE(ssrc, 8);
		const p = crypto.randomBytes(400);
		p.writeUInt32BE(MAGIC, 0);
		p.writeUInt32BE(index++, 4);
		p.writeDoubleBE(Date.now(), 8);
		track.sendMessageBinary(Buffer.concat([h, p]));
	}, 20);
});
pc.onLocalDescription((sdp, type) => { if (type === 'offer') send({ type: 'publish', sdp }); });

ws.on('open', () => send({ type: 'hello', v: 1 }));
ws.on('message', (data) => {
	const m = JSON.parse(data.toString());
	if (m.type === 'welcome') send({ type: 'join', room, name, host_key: hostKey });
	else if (m.type === 'joined') { say('joined', { participant: m.participant }); pc.setLocalDescription(); }
	else if (m.type === 'publish_answer') pc.setRemoteDescription(m.sdp, 'answer');
	else if (m.type === 'left') say('left', { reason: m.reason });
});
ws.on('close', () => { say('closed'); process.exit(0); });
