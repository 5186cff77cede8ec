// Drives one build/bench/loadgen process (the media half of the load
// generator, see bench/loadgen.c) over its stdin/stdout line protocol.

import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { pinned } from './util.mjs';

export class Loadgen {
	/** Starts the process, pinned with taskset to `cpus` (e.g. "1"). */
	static async start(bin, { cpus } = {}) {
		const [cmd, args] = pinned(bin, [], cpus);
		const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
		const lg = new Loadgen(proc);
		const first = await lg.expect((w) => w[0] === 'fp', 5000, 'loadgen fingerprint');
		lg.fp = first[1];
		return lg;
	}

	constructor(proc) {
		this.proc = proc;
		this.waiters = [];
		this.events = [];
		this.handlers = new Map(); // "up"/"fail" -> fn(words)
		this.upWaiters = new Map(); // id -> { resolve, reject }
		this.upInfo = new Map();    // id -> { profile, ms } | { error }
		const settle = (id, info) => {
			this.upInfo.set(id, info);
			const w = this.upWaiters.get(id);
			if (w) { this.upWaiters.delete(id); info.error ? w.reject(new Error(`transport ${id}: ${info.error}`)) : w.resolve(info); }
		};
		this.handlers.set('up', (w) => settle(w[1], { profile: w[2], ms: Number(w[3]) }));
		this.handlers.set('fail', (w) => settle(w[1], { error: w.slice(2).join(' ') }));
		this.exited = new Promise((r) => proc.on('exit', (code, sig) => { this.exitInfo = { code, sig }; r(this.exitInfo); }));
		const rl = readline.createInterface({ input: proc.stdout });
		rl.on('line', (line) => this._line(line));
	}

	get pid() { return this.proc.pid; }

	_line(line) {
		const words = line.split(' ');
		if (words[0] === 'stats') {
			words.json = JSON.parse(line.slice(6));
		}
		const h = this.handlers.get(words[0]);
		if (h) h(words);
		const i = this.waiters.findIndex((w) => w.match(words));
		if (i >= 0) {
			const [w] = this.waiters.splice(i, 1);
			clearTimeout(w.timer);
			w.resolve(words);
		} else if (!h) {
			this.events.push(words);
			if (this.events.length > 10000) this.events.shift();
		}
	}

	expect(match, ms, what) {
		const i = this.events.findIndex(match);
		if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]);
		return new Promise((resolve, reject) => {
			const w = { match, resolve };
			w.timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				reject(new Error(`loadgen: no ${what} within ${ms} ms`));
			}, ms);
			this.waiters.push(w);
		});
	}

	send(line) { this.proc.stdin.write(line + '\n'); }

	/** A new transport; resolves { id, port, ufrag, pwd }. */
	async ep(id, role, bindIp) {
		const p = this.expect((w) => (w[0] === 'ep' || w[0] === 'error') && w[1 + (w[0] === 'error')] === String(id), 5000, `ep ${id}`);
		this.send(`ep ${id} ${role} ${bindIp}`);
		const w = await p;
		if (w[0] === 'error') throw new Error(`loadgen: ${w.join(' ')}`);
		return { id, port: Number(w[2]), ufrag: w[3], pwd: w[4] };
	}

	remote(id, { ip, port, ufrag, pwd, fp, role }) {
		this.send(`remote ${id} ${ip} ${port} ${ufrag} ${pwd} ${fp} ${role}`);
	}

	/** Resolves { profile, ms } once the transport has DTLS-SRTP keys. */
	waitUp(id, ms = 20000) {
		const info = this.upInfo.get(String(id));
		if (info) return info.error ? Promise.reject(new Error(`transport ${id}: ${info.error}`)) : Promise.resolve(info);
		return new Promise((resolve, reject) => {
			const t = setTimeout(() => { this.upWaiters.delete(String(id)); reject(new Error(`transport ${id}: not up within ${ms} ms`)); }, ms);
			this.upWaiters.set(String(id), { resolve: (v) => { clearTimeout(t); resolve(v); }, reject: (e) => { clearTimeout(t); reject(e); } });
		});
	}

	stream(id, kind, ssrc, pt, periodUs) { this.send(`stream ${id} ${kind} ${ssrc} ${pt}${periodUs ? ` ${periodUs}` : ''}`); }
	sending(id, on) { this.send(`send ${id} ${on ? 1 : 0}`); }
	close(id) { this.send(`close ${id}`); }

	async mark() { const p = this.expect((w) => w[0] === 'mark', 30000, 'mark'); this.send('mark'); return Number((await p)[1]); }
	/** Closes the window; with `hold`, every publisher also stops sending until the next mark. */
	async stop(hold = false) { const p = this.expect((w) => w[0] === 'stop', 30000, 'stop'); this.send(hold ? 'stop hold' : 'stop'); return Number((await p)[1]); }
	async stats() { const p = this.expect((w) => w[0] === 'stats', 60000, 'stats'); this.send('stats'); return (await p).json; }

	async quit() {
		if (this.exitInfo) return;
		this.send('quit');
		const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
		await this.exited;
		clearTimeout(t);
	}
}
