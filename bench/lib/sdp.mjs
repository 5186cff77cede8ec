// Session descriptions for the load generator's participants: a publisher's
// offer (Opus and VP8, sendonly, one SSRC each, our one host candidate) and
// a subscriber's answer to a server's offer (recvonly for every m-line the
// server sends on, the first codec of each). Plus the few fields read from
// the server's side: ICE credentials, fingerprint, setup role, candidates.
//
// Written for the two servers measured; not a general SDP library.

/** Parses what the benchmark needs from a server's SDP. */
export function parseSdp(sdp) {
	const lines = sdp.split(/\r?\n/);
	const res = { ufrag: null, pwd: null, fp: null, setup: null, candidates: [], media: [] };
	let m = null;
	for (const l of lines) {
		if (l.startsWith('m=')) {
			const [kind, port, proto, ...pts] = l.slice(2).split(' ');
			m = { kind, port: Number(port), proto, pts: pts.map(Number), codecs: new Map(), fmtp: new Map(),
				rtcpfb: [], mid: null, dir: 'sendrecv', ssrcs: [], msid: null, exts: [] };
			res.media.push(m);
			continue;
		}
		const a = l.startsWith('a=') ? l.slice(2) : null;
		if (a === null) continue;
		const [k, ...rest] = a.split(':');
		const v = rest.join(':');
		const set = (name, val) => { if (m && m[name] === undefined) m[name] = val; if (res[name] === null) res[name] = val; };
		switch (k) {
		case 'ice-ufrag': if (m) m.ufrag = v; res.ufrag ??= v; break;
		case 'ice-pwd': if (m) m.pwd = v; res.pwd ??= v; break;
		case 'fingerprint': { const [h, f] = v.split(' '); if (h.toLowerCase() === 'sha-256') { if (m) m.fp = f; res.fp ??= f; } break; }
		case 'setup': if (m) m.setup = v; res.setup ??= v; break;
		case 'mid': if (m) m.mid = v; break;
		case 'msid': if (m) m.msid = v; break;
		case 'sendonly': case 'recvonly': case 'sendrecv': case 'inactive': if (m) m.dir = k; break;
		case 'rtpmap': { const [pt, codec] = v.split(' '); if (m) m.codecs.set(Number(pt), codec); break; }
		case 'fmtp': { const i = v.indexOf(' '); if (m) m.fmtp.set(Number(v.slice(0, i)), v.slice(i + 1)); break; }
		case 'extmap': if (m) m.exts.push(v); break;
		case 'ssrc': { const ssrc = Number(v.split(' ')[0]); if (m && !m.ssrcs.includes(ssrc)) m.ssrcs.push(ssrc); break; }
		case 'candidate': {
			// foundation component transport priority ip port typ type
			const f = v.split(' ');
			if (f[2].toLowerCase() === 'udp' && f[1] === '1')
				res.candidates.push({ ip: f[4], port: Number(f[5]), type: f[7], priority: Number(f[3]) });
			break;
		}
		default: void set;
		}
	}
	return res;
}

/** The server address to send to: its candidate on `ip` if any, else the first IPv4 host one. */
export function pickCandidate(desc, ip) {
	const v4 = desc.candidates.filter((c) => /^\d+\.\d+\.\d+\.\d+$/.test(c.ip));
	return v4.find((c) => c.ip === ip) ?? v4[0] ?? null;
}

/**
 * A publisher's offer. `ep` is the load generator's endpoint
 * { port, ufrag, pwd }, `fp` its certificate fingerprint, `ip` its address.
 */
export function publisherOffer({ ep, fp, ip, audioSsrc, videoSsrc, cname = 'bench', sessId = Date.now() }) {
	const l = [
		'v=0',
		`o=- ${sessId} 2 IN IP4 ${ip}`,
		's=-',
		't=0 0',
	];
	const mids = [];
	if (audioSsrc) mids.push('0');
	if (videoSsrc) mids.push(String(mids.length));
	l.push(`a=group:BUNDLE ${mids.join(' ')}`, 'a=msid-semantic: WMS bench');
	const common = (mid) => [
		`c=IN IP4 ${ip}`,
		`a=rtcp:9 IN IP4 0.0.0.0`,
		`a=candidate:1 1 udp 2130706431 ${ip} ${ep.port} typ host`,
		'a=end-of-candidates',
		`a=ice-ufrag:${ep.ufrag}`,
		`a=ice-pwd:${ep.pwd}`,
		'a=ice-options:trickle',
		`a=fingerprint:sha-256 ${fp}`,
		'a=setup:actpass',
		`a=mid:${mid}`,
		'a=sendonly',
		'a=rtcp-mux',
	];
	let mid = 0;
	if (audioSsrc) {
		l.push(`m=audio ${ep.port} UDP/TLS/RTP/SAVPF 111`, ...common(String(mid)),
			`a=msid:bench a${mid}`,
			'a=rtpmap:111 opus/48000/2',
			'a=fmtp:111 minptime=10;useinbandfec=1',
			`a=ssrc:${audioSsrc} cname:${cname}`,
			`a=ssrc:${audioSsrc} msid:bench a${mid}`);
		mid++;
	}
	if (videoSsrc) {
		l.push(`m=video ${ep.port} UDP/TLS/RTP/SAVPF 96`, ...common(String(mid)),
			`a=msid:bench v${mid}`,
			'a=rtpmap:96 VP8/90000',
			'a=rtcp-fb:96 nack',
			'a=rtcp-fb:96 nack pli',
			'a=rtcp-fb:96 ccm fir',
			`a=ssrc:${videoSsrc} cname:${cname}`,
			`a=ssrc:${videoSsrc} msid:bench v${mid}`);
	}
	return l.join('\r\n') + '\r\n';
}

/** A subscriber's answer to `offerSdp` (a server's offer). */
export function subscriberAnswer(offerSdp, { ep, fp, ip, sessId = Date.now() }) {
	const off = parseSdp(offerSdp);
	const l = ['v=0', `o=- ${sessId} 2 IN IP4 ${ip}`, 's=-', 't=0 0'];
	const bundle = off.media.filter((m) => m.port !== 0).map((m) => m.mid);
	if (bundle.length) l.push(`a=group:BUNDLE ${bundle.join(' ')}`);
	l.push('a=msid-semantic: WMS');
	for (const m of off.media) {
		const pt = m.pts[0];
		const codec = m.codecs.get(pt);
		if (m.port === 0 || !codec || m.kind === 'application') {
			l.push(`m=${m.kind} 0 ${m.proto} ${m.pts[0] ?? 0}`, `c=IN IP4 0.0.0.0`, `a=mid:${m.mid}`, 'a=inactive');
			continue;
		}
		const dir = m.dir === 'sendonly' || m.dir === 'sendrecv' ? 'recvonly' : 'inactive';
		l.push(`m=${m.kind} ${ep.port} ${m.proto} ${pt}`,
			`c=IN IP4 ${ip}`,
			'a=rtcp:9 IN IP4 0.0.0.0',
			`a=candidate:1 1 udp 2130706431 ${ip} ${ep.port} typ host`,
			'a=end-of-candidates',
			`a=ice-ufrag:${ep.ufrag}`,
			`a=ice-pwd:${ep.pwd}`,
			`a=fingerprint:sha-256 ${fp}`,
			'a=setup:active',
			`a=mid:${m.mid}`,
			`a=${dir}`,
			'a=rtcp-mux',
			`a=rtpmap:${pt} ${codec}`);
		if (m.fmtp.has(pt)) l.push(`a=fmtp:${pt} ${m.fmtp.get(pt)}`);
		if (m.kind === 'video') l.push(`a=rtcp-fb:${pt} nack pli`);
	}
	return l.join('\r\n') + '\r\n';
}

/** DTLS role the load generator takes after the server's answer to our offer. */
export function ourRoleAfterAnswer(answer) {
	// the answerer says active (it is the DTLS client) or passive (we are)
	return answer.setup === 'active' ? 'server' : 'client';
}
