// A stand-alone media participant for tests: joins a meeting over signaling
// (as host, with the host key), publishes one VP8-like video track from
// libdatachannel and keeps sending RTP until killed. It prints one JSON line
// per milestone on stdout ({"event":"joined"}, {"event":"open"}).
// Run as its own process so a test can freeze it (SIGSTOP) to cut it off.
//   node peer.mjs PORT ROOM HOSTKEY NAME
import crypto from 'node:crypto';
import ndc from 'node-datachannel';
import WebSocket from 'ws';

const [port, room, hostKey, name] = process.argv.slice(2);
const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\n');
const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { rejectUnauthorized: false });
const send = (m) => ws.send(JSON.stringify(m));

const ssrc = crypto.randomInt(1, 2 ** 31);
const pc = new ndc.PeerConnection('peer', { iceServers: [] });
const video = new ndc.Video('v0', 'SendOnly');
video.addVP8Codec(96);
video.addSSRC(ssrc, 'peer', 'peerstream', 'peertrack');
const track = pc.addTrack(video);
let seq = crypto.randomInt(65536), ts = crypto.randomInt(2 ** 31);

track.onOpen(() => {
	say('open');
	setInterval(() => {
		const h = Buffer.alloc(12);
		h[0] = 0x80; h[1] = 96;
		h.writeUInt16BE(seq++ & 0xffff, 2);
		h.writeUInt32BE((ts += 3000) >>> 0, 4);
		h.writeUInt32BE(ssrc, 8);
		track.sendMessageBinary(Buffer.concat([h, crypto.randomBytes(500)]));
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
