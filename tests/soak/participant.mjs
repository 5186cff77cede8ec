// One participant of the soak test (tests/soak/soak.mjs), in its own process:
// a node-datachannel client that joins a meeting with the host key,
// publishes one video track, subscribes to everyone else's, and — like the
// web app (web/src/app/reconnect.ts) — comes back by itself with its newest
// rejoin token whenever its connection drops (backoff 0.5 s doubling to 5 s,
// +20 % jitter).
//
//   node participant.mjs '{"port":8443,"room":R,"hostKey":K,"index":0,
//                          "mode":"steady"|"churn","pps":25}'
//
// Modes: `steady` stays the whole run; `churn` stays a random 20-40 s, then
// either leaves properly and joins again as a new participant after 2-6 s,
// or drops its connection without a word (as a network change would) and
// reconnects at once with its rejoin token; the two alternate. The line
// `steady` on stdin ends churning (the chaos phase), `quit` exits.
//
// Each RTP payload carries MAGIC, the publisher's index, a packet counter
// and the send time, so a receiver can tell a gap made on the way (server)
// from a pause of the sender, and knows whose media it got.
//
// stdout, one JSON line each:
//   joined      {participant, rejoined, token}    (token: whether one was used)
//   open        the publish connection is up
//   media       {from, ms}   first packet from publisher `from` since this
//               participant (re)joined, ms after the join began
//   gap         {from, ms, server}  a gap over GAP_REPORT_MS in `from`'s media
//               (`server`: the part not explained by the sender pausing)
//   dropped     {how}        this participant left on purpose (churn)
//   closed      {code}       the signaling connection closed (not on purpose)
//   error       {code, ref}  an error message from the server
import crypto from 'node:crypto';
import readline from 'node:readline';
import ndc from 'node-datachannel';
import WebSocket from 'ws';

const cfg = JSON.parse(process.argv[2]);
const MAGIC = 0x50a4c0de;
/** Gaps shorter than this are not worth a line (a packet every 40 ms at 25/s). */
const GAP_REPORT_MS = 250;
/** The web app's reconnect schedule (web/src/app/reconnect.ts). */
const BACKOFF_FIRST_MS = 500, BACKOFF_MAX_MS = 5000, BACKOFF_JITTER = 0.2;
/** Clients ping every 20 s (docs/protocol.md, "Connection"); each pong brings a fresh rejoin token. */
const PING_MS = 20000;
/** Churn: time up, and time away after a proper leave. */
const CHURN_UP_MS = [20000, 40000], CHURN_AWAY_MS = [2000, 6000];

const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, at: Date.now(), ...extra }) + '\n');
const between = ([a, b]) => a + Math.random() * (b - a);

let mode = cfg.mode;
let token = null;          // newest rejoin token, in memory only
let participant = null;    // our id in the meeting
let ws = null, pub = null, sub = null;
let attempt = 0, joinStarted = 0;
let churnTimer = null, reconnectTimer = null, pingTimer = null;
let churnAbrupt = false;   // alternates graceful leave / abrupt drop
let quitting = false;

const ssrc = crypto.randomInt(1, 2 ** 31);
let seq = crypto.randomInt(65536), ts = crypto.randomInt(2 ** 31), counter = 0;
// node-datachannel objects that are garbage-collected while native code
// still calls back crash node: closed connections stay referenced a while
const graveyard = [];
const bury = (x) => { graveyard.push(x); if (graveyard.length > 40) graveyard.shift(); };

function send(m) {
	if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
}

// ---- media -------------------------------------------------------------------

function startPublish() {
	const pc = new ndc.PeerConnection(`pub${cfg.index}`, { iceServers: [] });
	const video = new ndc.Video('v0', 'SendOnly');
	video.addVP8Codec(96);
	video.addSSRC(ssrc, `p${cfg.index}`, `s${cfg.index}`, `t${cfg.index}`);
	const track = pc.addTrack(video);
	const me = { pc, track, timer: null };
	track.onOpen(() => {
		if (pub !== me) return;
		say('open');
		me.timer = setInterval(() => {
			const h = Buffer.alloc(12);
			h[0] = 0x80;
			h[1] = 96;
			h.writeUInt16BE(seq++ & 0xffff, 2);
			h.writeUInt32BE((ts += 3600) >>> 0, 4);
			h.writeUInt32BE(ssrc, 8);
			const p = Buffer.alloc(300);
			p.writeUInt32BE(MAGIC, 0);
			p.writeUInt32BE(cfg.index, 4);
			p.writeUInt32BE(counter++ >>> 0, 8);
			p.writeDoubleBE(Date.now(), 12);
			try { track.sendMessageBinary(Buffer.concat([h, p])); } catch { /* closing */ }
		}, 1000 / cfg.pps);
	});
	pc.onLocalDescription((sdp, type) => { if (type === 'offer' && pub === me) send({ type: 'publish', sdp }); });
	pc.setLocalDescription();
	return me;
}

function startSubscribe() {
	const pc = new ndc.PeerConnection(`sub${cfg.index}`, { iceServers: [] });
	const me = { pc, tracks: [], version: 0, last: new Map(), since: joinStarted };
	pc.onTrack((track) => {
		me.tracks.push(track);
		track.onMessage((msg) => {
			if (sub !== me) return;
			const b = Buffer.from(msg);
			const pt = b[1] & 0x7f;
			if (pt >= 64 && pt <= 95) return; // RTCP
			let off = 12 + 4 * (b[0] & 0x0f);
			if (b[0] & 0x10) off += 4 + 4 * b.readUInt16BE(off + 2);
			if (b.length < off + 20 || b.readUInt32BE(off) !== MAGIC) return;
			const from = b.readUInt32BE(off + 4), n = b.readUInt32BE(off + 8), sent = b.readDoubleBE(off + 12);
			const at = Date.now();
			const prev = me.last.get(from);
			me.last.set(from, { at, n, sent });
			if (!prev) {
				say('media', { from, ms: at - me.since });
				return;
			}
			const recv = at - prev.at;
			if (recv < GAP_REPORT_MS) return;
			// consecutive packets: the sender's own pause is excused; a gap
			// over which packets were lost never is
			const server = n === prev.n + 1 ? recv - (sent - prev.sent) : recv;
			say('gap', { from, ms: recv, server, lost: Math.max(0, n - prev.n - 1) });
		});
	});
	pc.onLocalDescription((sdp, type) => {
		if (type === 'answer' && sub === me) send({ type: 'subscribe_answer', sdp, version: me.version });
	});
	return me;
}

function stopMedia() {
	for (const m of [pub, sub]) {
		if (!m) continue;
		if (m.timer) clearInterval(m.timer);
		try { m.pc.close(); } catch { /* already closed */ }
		bury(m);
	}
	pub = sub = null;
}

// ---- signaling and reconnecting ---------------------------------------------

function connect() {
	reconnectTimer = null;
	joinStarted = Date.now();
	const sock = new WebSocket(`wss://127.0.0.1:${cfg.port}/ws`, { rejectUnauthorized: false, handshakeTimeout: 5000 });
	ws = sock;
	sock.on('open', () => sock.send(JSON.stringify({ type: 'hello', v: 1 })));
	sock.on('error', () => { /* close follows */ });
	sock.on('message', (data) => {
		if (ws !== sock) return;
		let m;
		try { m = JSON.parse(data.toString()); } catch { return; }
		onMessage(m);
	});
	sock.on('close', (code) => {
		if (ws !== sock) return;
		ws = null;
		stopMedia();
		clearInterval(pingTimer);
		if (quitting) return;
		say('closed', { code });
		scheduleReconnect();
	});
}

function scheduleReconnect() {
	if (reconnectTimer || quitting) return;
	const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt) * (1 + BACKOFF_JITTER * Math.random());
	attempt++;
	reconnectTimer = setTimeout(connect, delay);
}

function onMessage(m) {
	switch (m.type) {
	case 'welcome': {
		const j = { type: 'join', room: cfg.room, name: `Soak ${cfg.index}` };
		if (token) j.rejoin = token;
		else j.host_key = cfg.hostKey;
		send(j);
		break;
	}
	case 'joined': {
		const rejoined = participant !== null && m.participant === participant;
		const usedToken = token !== null;
		participant = m.participant;
		token = m.rejoin ?? token;
		attempt = 0;
		say('joined', { participant, rejoined, token: usedToken, ms: Date.now() - joinStarted });
		stopMedia();
		sub = startSubscribe();
		pub = startPublish();
		clearInterval(pingTimer);
		pingTimer = setInterval(() => send({ type: 'ping', id: Date.now() }), PING_MS);
		if (mode === 'churn') scheduleChurn();
		break;
	}
	case 'lobby':
		// the token was refused (expired, or the meeting forgot us): the
		// connection cannot join again, so start over with the host key
		token = null;
		say('error', { code: 'lobby' });
		ws?.terminate();
		break;
	case 'pong':
		if (m.rejoin) token = m.rejoin;
		break;
	case 'publish_answer':
		pub?.pc.setRemoteDescription(m.sdp, 'answer');
		break;
	case 'subscribe_offer':
		if (!sub) break;
		sub.version = m.version;
		sub.pc.setRemoteDescription(m.sdp, 'offer');
		break;
	case 'left':
		// the server removed us (media lost): come back like after a drop
		say('closed', { code: 'left', reason: m.reason });
		ws?.terminate();
		break;
	case 'removed':
	case 'ended':
		say('error', { code: m.type });
		token = null;
		ws?.terminate();
		break;
	case 'error':
		say('error', { code: m.code, ref: m.ref });
		break;
	default:
		break;
	}
}

function scheduleChurn() {
	clearTimeout(churnTimer);
	churnTimer = setTimeout(() => {
		if (mode !== 'churn' || !ws) return;
		const sock = ws;
		churnAbrupt = !churnAbrupt;
		if (churnAbrupt) {
			// as if the network changed: no leave, reconnect with the token
			say('dropped', { how: 'abrupt' });
			ws = null;
			stopMedia();
			clearInterval(pingTimer);
			sock.terminate();
			attempt = 0;
			scheduleReconnect();
		} else {
			say('dropped', { how: 'leave' });
			send({ type: 'leave' });
			ws = null;
			stopMedia();
			clearInterval(pingTimer);
			sock.close();
			token = null;
			participant = null;
			attempt = 0;
			reconnectTimer = setTimeout(connect, between(CHURN_AWAY_MS));
		}
	}, between(CHURN_UP_MS));
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
	const cmd = line.trim();
	if (cmd === 'steady') {
		mode = 'steady';
		clearTimeout(churnTimer);
		if (!ws && !reconnectTimer) connect();
	} else if (cmd === 'quit') {
		quitting = true;
		clearTimeout(churnTimer);
		clearTimeout(reconnectTimer);
		clearInterval(pingTimer);
		stopMedia();
		ws?.terminate();
		setTimeout(() => { ndc.cleanup(); process.exit(0); }, 200);
	}
});
process.stdin.on('end', () => process.exit(0));

connect();
