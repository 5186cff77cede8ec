// The conclave side of the benchmark: starts `conclave serve` pinned to a
// core, creates meetings with the CLI, and runs participants over the real
// signaling protocol (docs/protocol.md): hello, join with the host key (a
// host skips the lobby), publish -> publish_answer, subscribe_offer ->
// subscribe_answer. Media goes through the load generator (loadgen.mjs).

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { parseSdp, pickCandidate, publisherOffer, subscriberAnswer, ourRoleAfterAnswer } from './sdp.mjs';
import { Queue, pinned, waitFor } from './util.mjs';

function get(host, port, p) {
	return new Promise((resolve, reject) => {
		const req = https.get({ host, port, path: p, rejectUnauthorized: false, agent: false, timeout: 5000 }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode, body }));
		});
		req.on('error', reject);
		req.on('timeout', () => req.destroy(new Error(`GET ${p}: timeout`)));
	});
}

export class ConclaveServer {
	constructor({ bin, host, port, cpus, workers = 1, logFile }) {
		Object.assign(this, { bin, host, port, cpus, workers, logFile });
		this.name = 'conclave';
	}

	async start() {
		this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-conclave-data-'));
		this.webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-conclave-web-'));
		fs.writeFileSync(path.join(this.webRoot, 'index.html'), '<!doctype html><title>bench</title>\n');
		const origin = `https://${this.host}:${this.port}`;
		const args = ['serve', '--listen', `${this.host}:${this.port}`, '--public-url', origin,
			'--data', this.dataDir, '--web-root', this.webRoot,
			'--media-port', '0', '--media-workers', String(this.workers),
			'--public-ip', this.host,
			'--metrics-from', 'any', '--log-level', 'warn',
			// one address runs every simulated participant
			'--ws-conns-per-ip', '5000', '--knock-per-minute', '100000',
			'--ws-rate', '1000', '--ws-burst', '2000'];
		const [cmd, full] = pinned(this.bin, args, this.cpus, { netns: process.env.CONCLAVE_SERVER_NETNS });
		this.log = fs.openSync(this.logFile ?? '/dev/null', 'a');
		this.proc = spawn(cmd, full, { stdio: ['ignore', this.log, this.log] });
		this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => { this.exitInfo = { code, sig }; r(this.exitInfo); }));
		await waitFor(async () => {
			if (this.exitInfo) throw Object.assign(new Error(`conclave exited: ${JSON.stringify(this.exitInfo)}`), { fatal: true });
			return (await get(this.host, this.port, '/healthz')).status === 200;
		}, 15000, 'conclave /healthz');
		this.pid = this.proc.pid;
	}

	async stop() {
		if (!this.exitInfo) this.proc.kill('SIGTERM');
		const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
		await this.exited;
		clearTimeout(t);
		fs.closeSync(this.log);
		fs.rmSync(this.dataDir, { recursive: true, force: true });
		fs.rmSync(this.webRoot, { recursive: true, force: true });
		return this.exitInfo;
	}

	/** Prometheus text -> Map. */
	async metrics() {
		const r = await get(this.host, this.port, '/metrics');
		const m = new Map();
		for (const line of r.body.split('\n')) {
			if (!line || line.startsWith('#')) continue;
			const i = line.lastIndexOf(' ');
			m.set(line.slice(0, i), Number(line.slice(i + 1)));
		}
		return m;
	}

	/** Forwarded RTP packets so far, from /metrics. */
	/**
	 * The counters the benchmark reads, from one scrape of /metrics (read
	 * apart, a media worker's tick could publish between them):
	 *   forwarded   conclave_media_rtp_forwarded_total
	 *   delay       conclave_media_forward_delay_seconds: the cumulative
	 *               buckets as [upper bound in seconds, count], lowest first
	 *               (the last is +Inf); the time each datagram spent in the
	 *               server
	 *   sendErrors  datagrams the media workers could not send
	 *   sent, messages, calls, padBytes, tucked
	 *               datagrams sent, the sendmmsg messages they went in
	 *               (UDP GSO: a subscriber's run of equal-size datagrams
	 *               is one), the sendmmsg calls, the RTP padding added
	 *               to make a frame's packets one run, and the shorter
	 *               packets sent as the last of another stream's run
	 *               (docs/media.md)
	 *   wakeups, reads, received
	 *               the media workers' wake-ups, their recvmmsg calls that
	 *               returned datagrams, and the datagrams received
	 *   ticksEarly  idle ticks run early, in a wake-up for datagrams
	 */
	async counters() {
		const m = await this.metrics();
		const b = [];
		for (const [k, v] of m) {
			const x = /^conclave_media_forward_delay_seconds_bucket\{le="([^"]+)"\}$/.exec(k);
			if (x) b.push([x[1] === '+Inf' ? Infinity : Number(x[1]), v]);
		}
		return {
			forwarded: m.get('conclave_media_rtp_forwarded_total') ?? null,
			delay: b.length ? b.sort((p, q) => p[0] - q[0]) : null,
			sendErrors: m.get('conclave_media_send_errors_total') ?? null,
			sent: m.get('conclave_media_tx_packets_total') ?? null,
			messages: m.get('conclave_media_send_messages_total') ?? null,
			calls: m.get('conclave_media_sendmmsg_calls_total') ?? null,
			padBytes: m.get('conclave_media_gso_pad_bytes_total') ?? null,
			tucked: m.get('conclave_media_gso_tucked_total') ?? null,
			wakeups: m.get('conclave_media_wakeups_total') ?? null,
			reads: m.get('conclave_media_recv_calls_total') ?? null,
			received: m.get('conclave_media_rx_packets_total') ?? null,
			ticksEarly: m.get('conclave_media_ticks_early_total') ?? null,
			starting: m.get('conclave_media_starting_streams') ?? null,
		};
	}

	newMeeting() {
		return new Promise((resolve, reject) => {
			execFile(this.bin, ['meeting', 'create', '--data', this.dataDir, '--public-url', `https://${this.host}:${this.port}`, '--json'],
				{ timeout: 10000 }, (err, stdout, stderr) => {
					if (err) return reject(new Error(`meeting create: ${stderr || err.message}`));
					const j = JSON.parse(stdout);
					const [invite, hostKey] = new URL(j.host_link).hash.slice(1).split('.');
					resolve({ room: j.room, invite, hostKey });
				});
		});
	}

	participant(lg, meeting, opts) {
		return new ConclaveParticipant(this, lg, meeting, opts);
	}
}

/**
 * One simulated member. opts: { name, audio, video (publish these),
 * subscribe (answer subscribe offers), ids: () => unique transport id,
 * clientIp }.
 */
class ConclaveParticipant {
	constructor(srv, lg, meeting, opts) {
		Object.assign(this, { srv, lg, meeting, opts });
		this.pubId = null;
		this.subId = null;
		this.subUp = null;
		this.chain = Promise.resolve();
	}

	async join() {
		const { host, port } = this.srv;
		this.ws = new WebSocket(`wss://${host}:${port}/ws`, { rejectUnauthorized: false, handshakeTimeout: 10000 });
		this.q = new Queue();
		this.ws.on('message', (d) => {
			const m = JSON.parse(d.toString());
			if (m.type === 'subscribe_offer') {
				this.chain = this.chain.then(() => this.onOffer(m)).catch((e) => { this.error = e; });
			} else {
				this.q.push(m);
			}
		});
		this.ws.on('error', (e) => { this.error = e; });
		await new Promise((resolve, reject) => { this.ws.once('open', resolve); this.ws.once('error', reject); });
		this.send({ type: 'hello', v: 1 });
		await this.q.next((m) => m.type === 'welcome', 10000);
		this.send({ type: 'join', room: this.meeting.room, name: this.opts.name, host_key: this.meeting.hostKey });
		const j = await this.q.next((m) => m.type === 'joined' || m.type === 'lobby' || m.type === 'error', 10000);
		if (j.type !== 'joined') throw new Error(`join: ${JSON.stringify(j)}`);
		this.pingTimer = setInterval(() => this.send({ type: 'ping' }), 15000);
	}

	send(m) {
		if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
	}

	async publish() {
		const { lg, opts } = this;
		this.pubId = opts.ids();
		const ep = await lg.ep(this.pubId, 'pub', opts.clientIp);
		const audioSsrc = opts.audio ? (this.pubId * 2 + 1) >>> 0 : 0;
		const videoSsrc = opts.video ? (this.pubId * 2 + 2) >>> 0 : 0;
		this.send({ type: 'publish', sdp: publisherOffer({ ep, fp: lg.fp, ip: opts.clientIp, audioSsrc, videoSsrc }) });
		const a = await this.q.next((m) => m.type === 'publish_answer' || m.type === 'error', 10000);
		if (a.type !== 'publish_answer') throw new Error(`publish: ${JSON.stringify(a)}`);
		const ans = parseSdp(a.sdp);
		const c = pickCandidate(ans, this.srv.host);
		lg.remote(this.pubId, { ip: c.ip, port: c.port, ufrag: ans.ufrag, pwd: ans.pwd, fp: ans.fp, role: ourRoleAfterAnswer(ans) });
		if (audioSsrc) lg.stream(this.pubId, 'audio', audioSsrc, 111, opts.audioPeriodUs);
		if (videoSsrc) lg.stream(this.pubId, 'video', videoSsrc, 96);
		await lg.waitUp(this.pubId);
	}

	/** Conclave subscribes every member to every other member's tracks by itself. */
	async subscribe() {
		this.wantSub = true;
	}

	async onOffer(m) {
		const { lg, opts } = this;
		if (!opts.subscribe) return;
		const off = parseSdp(m.sdp);
		if (this.subId === null) {
			this.subId = opts.ids();
			this.subEp = await lg.ep(this.subId, 'sub', opts.clientIp);
		}
		this.send({ type: 'subscribe_answer', sdp: subscriberAnswer(m.sdp, { ep: this.subEp, fp: lg.fp, ip: opts.clientIp }), version: m.version });
		if (!this.subStarted) {
			this.subStarted = true;
			const c = pickCandidate(off, this.srv.host);
			lg.remote(this.subId, { ip: c.ip, port: c.port, ufrag: off.ufrag, pwd: off.pwd, fp: off.fp, role: 'client' });
		}
		this.offers = (this.offers ?? 0) + 1;
		this.lastOfferStreams = off.media.filter((x) => x.dir === 'sendonly').length;
	}

	async leave() {
		clearInterval(this.pingTimer);
		try { this.ws.terminate(); } catch { /* gone */ }
	}
}
