// The Janus side of the benchmark: Debian's Janus 1.1.2 with its VideoRoom
// plugin, default settings except what running it here needs (a private
// config folder, only the VideoRoom plugin and the WebSocket transport
// loaded, ICE on the benchmark's veth address). Participants speak the
// Janus WebSocket API: create a session, attach janus.plugin.videoroom,
// join as publisher and publish with a JSEP offer; subscribe by joining as
// subscriber to the room's feeds and answering Janus's offer with `start`.
// Media goes through the same load generator as conclave's.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { parseSdp, pickCandidate, publisherOffer, subscriberAnswer, ourRoleAfterAnswer } from './sdp.mjs';
import { Queue, pinned, waitFor } from './util.mjs';

const LIBDIR = '/usr/lib/x86_64-linux-gnu/janus';

export function janusBinary() {
	for (const p of ['/usr/bin/janus', '/usr/local/bin/janus', '/opt/janus/bin/janus'])
		if (fs.existsSync(p)) return p;
	return null;
}

export class JanusServer {
	constructor({ bin, host, port, cpus, logFile, iface }) {
		Object.assign(this, { bin, host, port, cpus, logFile, iface });
		this.name = 'janus';
		this.nextRoom = 1000;
	}

	async start() {
		const dir = this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-janus-'));
		for (const d of ['plugins', 'transports', 'events', 'loggers']) fs.mkdirSync(path.join(dir, d));
		fs.symlinkSync(path.join(LIBDIR, 'plugins', 'libjanus_videoroom.so'), path.join(dir, 'plugins', 'libjanus_videoroom.so'));
		fs.symlinkSync(path.join(LIBDIR, 'transports', 'libjanus_websockets.so'), path.join(dir, 'transports', 'libjanus_websockets.so'));
		fs.writeFileSync(path.join(dir, 'janus.jcfg'), `general: {
	configs_folder = "${dir}"
	plugins_folder = "${dir}/plugins"
	transports_folder = "${dir}/transports"
	events_folder = "${dir}/events"
	loggers_folder = "${dir}/loggers"
	debug_level = 4
	interface = "${this.host}"
	admin_secret = "bench-${process.pid}"
}
certificates: {
}
media: {
}
nat: {
	nice_debug = ${process.env.BENCH_NICE_DEBUG ? "true" : "false"}
	ice_enforce_list = "${this.iface}"
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
}
`);
		fs.writeFileSync(path.join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
		fs.writeFileSync(path.join(dir, 'janus.transport.websockets.jcfg'), `general: {
	json = "plain"
	ws = true
	ws_port = ${this.port}
	ws_ip = "${this.host}"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
`);
		const args = ['-C', path.join(dir, 'janus.jcfg'), '-F', dir, '--disable-colors'];
		const [cmd, full] = pinned(this.bin, args, this.cpus, { netns: process.env.CONCLAVE_SERVER_NETNS });
		this.log = fs.openSync(this.logFile ?? '/dev/null', 'a');
		this.proc = spawn(cmd, full, { stdio: ['ignore', this.log, this.log] });
		this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => { this.exitInfo = { code, sig }; r(this.exitInfo); }));
		await waitFor(() => new Promise((resolve, reject) => {
			if (this.exitInfo) return reject(Object.assign(new Error(`janus exited: ${JSON.stringify(this.exitInfo)}`), { fatal: true }));
			const s = net.connect(this.port, this.host);
			s.once('connect', () => { s.destroy(); resolve(true); });
			s.once('error', () => resolve(false));
		}), 20000, 'janus WebSocket port');
		this.pid = this.proc.pid;
		this.admin = await JanusClient.connect(this);
	}

	async stop() {
		this.admin?.close();
		if (!this.exitInfo) this.proc.kill('SIGTERM');
		const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
		await this.exited;
		clearTimeout(t);
		fs.closeSync(this.log);
		fs.rmSync(this.dir, { recursive: true, force: true });
		return this.exitInfo;
	}

	// Janus has no such counters (ConclaveServer.counters)
	async counters() { return { forwarded: null, delay: null, sendErrors: null, starting: null }; }

	async newMeeting() {
		const room = this.nextRoom++;
		const h = await this.admin.attach();
		const r = await this.admin.request(h, { request: 'create', room, publishers: 100, bitrate: 0,
			fir_freq: 0, audiocodec: 'opus', videocodec: 'vp8', notify_joining: false, permanent: false });
		const d = r.plugindata?.data;
		if (d?.videoroom !== 'created') throw new Error(`janus create room: ${JSON.stringify(r)}`);
		return { room, feeds: [] };
	}

	participant(lg, meeting, opts) {
		return new JanusParticipant(this, lg, meeting, opts);
	}
}

/** One WebSocket to Janus with one session; requests matched by transaction. */
class JanusClient {
	static async connect(srv) {
		const ws = new WebSocket(`ws://${srv.host}:${srv.port}/`, 'janus-protocol', { handshakeTimeout: 10000 });
		await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
		const c = new JanusClient(ws);
		const r = await c.call({ janus: 'create' });
		c.session = r.data.id;
		c.keepalive = setInterval(() => c.send({ janus: 'keepalive', session_id: c.session, transaction: c.tx() }), 20000);
		return c;
	}

	constructor(ws) {
		this.ws = ws;
		this.n = 0;
		this.q = new Queue();
		ws.on('message', (d) => this.q.push(JSON.parse(d.toString())));
		ws.on('error', (e) => { this.error = e; });
	}

	tx() { return `t${++this.n}`; }
	send(m) { if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m)); }

	/** A request answered by success/error with the same transaction. */
	async call(m, ms = 10000) {
		const transaction = this.tx();
		this.send({ ...m, transaction });
		const r = await this.q.next((x) => x.transaction === transaction && x.janus !== 'ack', ms, `janus ${m.janus}`);
		if (r.janus === 'error') throw new Error(`janus ${m.janus}: ${JSON.stringify(r.error)}`);
		return r;
	}

	async attach() {
		const r = await this.call({ janus: 'attach', session_id: this.session, plugin: 'janus.plugin.videoroom' });
		return r.data.id;
	}

	/** A plugin message; resolves the success or the event carrying its answer. */
	request(handle, body, jsep, ms = 15000) {
		const m = { janus: 'message', session_id: this.session, handle_id: handle, body };
		if (jsep) m.jsep = jsep;
		return this.call(m, ms);
	}

	trickleDone(handle) {
		this.send({ janus: 'trickle', session_id: this.session, handle_id: handle, transaction: this.tx(), candidate: { completed: true } });
	}

	close() {
		clearInterval(this.keepalive);
		try { this.ws.terminate(); } catch { /* gone */ }
	}
}

class JanusParticipant {
	constructor(srv, lg, meeting, opts) {
		Object.assign(this, { srv, lg, meeting, opts });
		this.pubId = null;
		this.subId = null;
	}

	async join() {
		this.c = await JanusClient.connect(this.srv);
	}

	async publish() {
		const { lg, opts, c, meeting } = this;
		this.pubHandle = await c.attach();
		const j = await c.request(this.pubHandle, { request: 'join', ptype: 'publisher', room: meeting.room, display: opts.name });
		const d = j.plugindata?.data;
		if (d?.videoroom !== 'joined') throw new Error(`janus join: ${JSON.stringify(j)}`);
		this.feed = d.id;
		this.pubId = opts.ids();
		const ep = await lg.ep(this.pubId, 'pub', opts.clientIp);
		const audioSsrc = opts.audio ? (this.pubId * 2 + 1) >>> 0 : 0;
		const videoSsrc = opts.video ? (this.pubId * 2 + 2) >>> 0 : 0;
		const offer = publisherOffer({ ep, fp: lg.fp, ip: opts.clientIp, audioSsrc, videoSsrc });
		const r = await c.request(this.pubHandle, { request: 'publish' }, { type: 'offer', sdp: offer });
		if (!r.jsep) throw new Error(`janus publish: ${JSON.stringify(r)}`);
		c.trickleDone(this.pubHandle);
		if (process.env.BENCH_DEBUG) console.error(r.jsep.sdp);
		const ans = parseSdp(r.jsep.sdp);
		const cand = pickCandidate(ans, this.srv.host);
		if (!cand) throw new Error('janus answer without a usable candidate');
		if (process.env.BENCH_DEBUG) console.error('remote', cand, ans.ufrag, ans.pwd);
		lg.remote(this.pubId, { ip: cand.ip, port: cand.port, ufrag: ans.ufrag, pwd: ans.pwd, fp: ans.fp, role: ourRoleAfterAnswer(ans) });
		if (audioSsrc) lg.stream(this.pubId, 'audio', audioSsrc, 111, opts.audioPeriodUs);
		if (videoSsrc) lg.stream(this.pubId, 'video', videoSsrc, 96);
		meeting.feeds.push(this.feed);
		await lg.waitUp(this.pubId);
	}

	/** Subscribes to every feed of the meeting but our own (one handle, one PeerConnection). */
	async subscribe() {
		const { lg, opts, c, meeting } = this;
		const feeds = meeting.feeds.filter((f) => f !== this.feed);
		if (!feeds.length || !opts.subscribe) return;
		this.subHandle = await c.attach();
		const r = await c.request(this.subHandle, { request: 'join', ptype: 'subscriber', room: meeting.room,
			streams: feeds.map((feed) => ({ feed })) }, null, 30000);
		if (!r.jsep) throw new Error(`janus subscribe: ${JSON.stringify(r)}`);
		this.subId = opts.ids();
		const ep = this.subEp = await lg.ep(this.subId, 'sub', opts.clientIp);
		const off = parseSdp(r.jsep.sdp);
		const s = await c.request(this.subHandle, { request: 'start' },
			{ type: 'answer', sdp: subscriberAnswer(r.jsep.sdp, { ep, fp: lg.fp, ip: opts.clientIp }) });
		if (s.plugindata?.data?.started !== 'ok') throw new Error(`janus start: ${JSON.stringify(s)}`);
		c.trickleDone(this.subHandle);
		const cand = pickCandidate(off, this.srv.host);
		if (!cand) throw new Error('janus offer without a usable candidate');
		lg.remote(this.subId, { ip: cand.ip, port: cand.port, ufrag: off.ufrag, pwd: off.pwd, fp: off.fp,
			role: 'client' });
	}

	async leave() {
		this.c?.close();
	}
}
