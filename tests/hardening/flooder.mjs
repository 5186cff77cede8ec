// A UDP flooder for the hardening tests, run as its own process so that its
// busy loop does not delay the measuring peers of the test.
//
//   node flooder.mjs '{"bind":"10.77.0.2","host":"10.77.0.1","port":N,
//                      "seconds":3,"rate":40000,"ufrag":"SERVERUFRAG"}'
//
// Sends, round robin, from one address (a few sockets on `bind`):
//   stun-unknown  STUN binding requests with random ICE usernames
//   stun-badmi    STUN binding requests for a real ufrag of the server
//                 (`ufrag`, from an SDP the test peers got) with a wrong
//                 MESSAGE-INTEGRITY and a correct FINGERPRINT, so the server
//                 has to compute the HMAC before it can drop them
//   dtls-hello    DTLS 1.2 ClientHellos (with use_srtp)
//   rtp           RTP packets with random SSRCs and payloads
// It aims at `rate` packets per second for `seconds` and prints one JSON
// line when done: {"sent":{kind:count},"total":N,"seconds":S,"rate":R}.
import crypto from 'node:crypto';
import dgram from 'node:dgram';

const cfg = JSON.parse(process.argv[2]);
const SOCKETS = cfg.sockets ?? 4;
const KINDS = ['stun-unknown', 'stun-badmi', 'dtls-hello', 'rtp'];

// ---- packet builders ---------------------------------------------------------

const CRC_TABLE = (() => {
	const t = new Int32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		t[n] = c;
	}
	return t;
})();

function crc32(buf) {
	let c = -1;
	for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
	return (c ^ -1) >>> 0;
}

function attr(type, value) {
	const pad = (4 - (value.length % 4)) % 4;
	const a = Buffer.alloc(4 + value.length + pad);
	a.writeUInt16BE(type, 0);
	a.writeUInt16BE(value.length, 2);
	value.copy(a, 4);
	return a;
}

const rand = (n) => crypto.randomBytes(n);
const ufragChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/';
const randomUfrag = (n) => Array.from(rand(n), (b) => ufragChars[b & 63]).join('');

/** An ICE connectivity check (RFC 8445 §7.2.2) with a wrong MESSAGE-INTEGRITY. */
function stunCheck(username) {
	const prio = Buffer.alloc(4);
	prio.writeUInt32BE(0x6e7f1eff);
	const body = Buffer.concat([
		attr(0x0006, Buffer.from(username)),   // USERNAME
		attr(0x0024, prio),                    // PRIORITY
		attr(0x802a, rand(8)),                 // ICE-CONTROLLING
		attr(0x0025, Buffer.alloc(0)),         // USE-CANDIDATE
		attr(0x0008, rand(20)),                // MESSAGE-INTEGRITY (wrong)
	]);
	const h = Buffer.alloc(20);
	h.writeUInt16BE(0x0001, 0);                // Binding request
	h.writeUInt16BE(body.length + 8, 2);       // length includes FINGERPRINT
	h.writeUInt32BE(0x2112a442, 4);
	rand(12).copy(h, 8);
	const msg = Buffer.concat([h, body]);
	const fp = Buffer.alloc(4);
	fp.writeUInt32BE((crc32(msg) ^ 0x5354554e) >>> 0);
	return Buffer.concat([msg, attr(0x8028, fp)]);
}

/** A DTLS 1.2 ClientHello in one record, offering SRTP profiles. */
function dtlsClientHello() {
	const suites = Buffer.from([0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x2f]);
	const ext = Buffer.concat([
		Buffer.from([0x00, 0x0e, 0x00, 0x07, 0x00, 0x04, 0x00, 0x07, 0x00, 0x01, 0x00]), // use_srtp
		Buffer.from([0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17]),                   // supported_groups
		Buffer.from([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]),                               // ec_point_formats
		Buffer.from([0x00, 0x17, 0x00, 0x00]),                                           // extended_master_secret
	]);
	const len16 = (n) => Buffer.from([n >> 8, n & 0xff]);
	const hello = Buffer.concat([
		Buffer.from([0xfe, 0xfd]), rand(32),
		Buffer.from([0x00]),       // session id
		Buffer.from([0x00]),       // cookie
		len16(suites.length), suites,
		Buffer.from([0x01, 0x00]), // compression: null
		len16(ext.length), ext,
	]);
	const hs = Buffer.alloc(12);
	hs[0] = 1;                                      // client_hello
	hs.writeUIntBE(hello.length, 1, 3);
	hs.writeUInt16BE(0, 4);                         // message_seq
	hs.writeUIntBE(0, 6, 3);                        // fragment_offset
	hs.writeUIntBE(hello.length, 9, 3);             // fragment_length
	const rec = Buffer.alloc(13);
	rec[0] = 22;                                    // handshake
	rec.writeUInt16BE(0xfeff, 1);                   // DTLS 1.0 record version, as browsers send
	rec.writeUIntBE(crypto.randomInt(2 ** 32), 5, 6);
	rec.writeUInt16BE(hs.length + hello.length, 11);
	return Buffer.concat([rec, hs, hello]);
}

function rtp() {
	const p = rand(12 + 100 + crypto.randomInt(1000));
	p[0] = 0x80;
	p[1] = (p[1] & 0x80) | 96 | (p[1] & 0x1f); // PT 96..127, marker random
	return p;
}

// a pool of prebuilt packets per kind, so building them does not limit the rate
const POOL = 256;
const pools = {
	'stun-unknown': Array.from({ length: POOL }, () => stunCheck(`${randomUfrag(8)}:${randomUfrag(4)}`)),
	'stun-badmi': Array.from({ length: POOL }, () => stunCheck(`${cfg.ufrag}:${randomUfrag(4)}`)),
	'dtls-hello': Array.from({ length: POOL }, dtlsClientHello),
	rtp: Array.from({ length: POOL }, rtp),
};

// ---- the flood ---------------------------------------------------------------

const socks = await Promise.all(Array.from({ length: SOCKETS }, () => new Promise((resolve, reject) => {
	const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
	s.once('error', reject);
	s.bind(0, cfg.bind, () => resolve(s));
})));

const sent = Object.fromEntries(KINDS.map((k) => [k, 0]));
const errors = { count: 0 };
let total = 0, inflight = 0;
const MAX_INFLIGHT = 2048;
const t0 = process.hrtime.bigint();
const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ event: 'started' }) + '\n');

await new Promise((resolve) => {
	function pump() {
		const now = elapsed();
		if (now >= cfg.seconds) {
			if (inflight === 0) resolve();
			else setTimeout(pump, 1);
			return;
		}
		// catch up with the schedule, without too much in flight
		const due = Math.floor(now * cfg.rate);
		while (total < due && inflight < MAX_INFLIGHT) {
			const kind = KINDS[total % KINDS.length];
			const pkt = pools[kind][(total >> 2) % POOL];
			inflight++;
			socks[total % SOCKETS].send(pkt, cfg.port, cfg.host, (e) => {
				inflight--;
				if (e) errors.count++;
			});
			sent[kind]++;
			total++;
		}
		setImmediate(pump);
	}
	pump();
});

const seconds = elapsed();
process.stdout.write(JSON.stringify({
	event: 'done', sent, total, errors: errors.count, seconds, rate: Math.round(total / seconds),
	ports: socks.map((s) => s.address().port),
}) + '\n');
for (const s of socks) s.close();
