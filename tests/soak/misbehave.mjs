// The misbehaving client of the soak test (tests/soak/soak.mjs), in its own
// process. It joins the soak's meeting (host key) again and again and, in
// turn:
//   garbage   sends text that is not JSON, binary frames, unknown types and
//             fields, wrong field types and a message over ws_max_message;
//             expects error replies (and a close 1009 for the big one)
//   flood     sends SIGNALING_FLOOD pings at once; expects to be cut off
//             (docs/protocol.md, "Errors": close 1008 "rate limit", which
//             the server delivers before it closes; the server's
//             conclave_sig_flood_closes_total must count it once)
//   stall     joins, then stops reading its socket and stays silent; the
//             server must hang up after ws_idle_timeout (45 s by default)
// then waits PAUSE_MS and starts over. One JSON line per episode on stdout:
//   {"event":"episode","kind":K,"ok":BOOL,"detail":...}
//   node misbehave.mjs '{"port":8443,"room":R,"hostKey":K,"idleTimeout":45,"maxMessage":524288}'
import WebSocket from 'ws';
import { httpsRequest, parseMetrics } from '../integration/lib/server.mjs';

const cfg = JSON.parse(process.argv[2]);
/** More than 4 x ws_burst (100): enough to be cut off (docs/protocol.md). */
const SIGNALING_FLOOD = 1000;
const PAUSE_MS = 5000;
const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, at: Date.now(), ...extra }) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Opens a connection, says hello and joins; resolves { ws, msgs, closed }. */
function open(join = true) {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(`wss://127.0.0.1:${cfg.port}/ws`, { rejectUnauthorized: false, handshakeTimeout: 5000 });
		const c = { ws, msgs: [], closeCode: null };
		c.closed = new Promise((r) => ws.on('close', (code) => { c.closeCode = code; r(code); }));
		ws.on('error', (e) => reject(e));
		ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', v: 1 })));
		ws.on('message', (d) => {
			let m;
			try { m = JSON.parse(d.toString()); } catch { m = { type: '<not json>' }; }
			c.msgs.push(m);
			if (m.type === 'welcome') {
				if (!join) resolve(c);
				else ws.send(JSON.stringify({ type: 'join', room: cfg.room, name: 'Misbehaving', host_key: cfg.hostKey }));
			} else if (m.type === 'joined') {
				resolve(c);
			} else if (m.type === 'lobby' || (m.type === 'error' && !c.msgs.some((x) => x.type === 'joined'))) {
				reject(new Error(`join refused: ${JSON.stringify(m)}`));
			}
		});
		c.closed.then((code) => reject(new Error(`closed before joining (${code})`)));
	});
}

async function garbage() {
	const c = await open();
	const junk = [
		'this is not json', '{"type":', '[1,2,3]', '"a string"', '{}', '{"type":42}',
		'{"type":"no_such_type"}', '{"type":"ping","id":"x"}', '{"type":"ping","extra":1}',
		'{"type":"publish","sdp":"not an sdp"}', '{"type":"admit","participant":"AAAAAAAAAAA"}',
		'{"type":"mls_app","msg":"!!!"}', '{"type":"hello","v":1,"v":2}',
	];
	for (const j of junk) {
		c.ws.send(j);
		await sleep(100);
	}
	c.ws.send(Buffer.from([0, 1, 2, 3]), { binary: true });
	await sleep(300);
	const errors = c.msgs.filter((m) => m.type === 'error').length;
	c.ws.send('x'.repeat(cfg.maxMessage + 1000)); // over ws_max_message
	const code = await Promise.race([c.closed, sleep(5000).then(() => 'open')]);
	if (code === 'open') c.ws.terminate();
	return { ok: errors >= junk.length && code === 1009, detail: { errors, sent: junk.length + 1, close: code } };
}

async function floodCloses() {
	const r = await httpsRequest(cfg.port, 'GET', '/metrics', { timeoutMs: 5000 });
	return parseMetrics(r.body).get('conclave_sig_flood_closes_total') ?? NaN;
}

async function flood() {
	const closes0 = await floodCloses();
	const c = await open(false);
	for (let i = 0; i < SIGNALING_FLOOD && c.closeCode === null; i++) c.ws.send(JSON.stringify({ type: 'ping', id: i }));
	const code = await Promise.race([c.closed, sleep(10000).then(() => 'open')]);
	if (code === 'open') c.ws.terminate();
	const limited = c.msgs.filter((m) => m.type === 'error' && m.code === 'rate_limited').length;
	const counted = (await floodCloses()) - closes0;
	return { ok: code === 1008 && counted === 1,
		detail: { close: code, flood_closes: counted, rate_limited: limited, pongs: c.msgs.filter((m) => m.type === 'pong').length } };
}

async function stall() {
	const c = await open();
	const t0 = Date.now();
	c.ws._socket.pause();   // stop reading: no pongs, nothing consumed
	// wait past the idle timeout, then look: the close must be waiting for us
	await sleep((cfg.idleTimeout + 10) * 1000);
	c.ws._socket.resume();
	const code = await Promise.race([c.closed, sleep(5000).then(() => 'open')]);
	if (code === 'open') c.ws.terminate();
	return { ok: code !== 'open', detail: { close: code, stalled_s: Math.round((Date.now() - t0) / 1000) } };
}

const kinds = { garbage, flood, stall };
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
for (;;) {
	for (const [kind, fn] of Object.entries(kinds)) {
		try {
			const r = await fn();
			say('episode', { kind, ...r });
		} catch (e) {
			say('episode', { kind, ok: false, detail: e.message });
		}
		await sleep(PAUSE_MS);
	}
}
