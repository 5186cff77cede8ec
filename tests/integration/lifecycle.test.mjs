// Server life cycle: the self-signed certificate made at first start, a
// restart on the same data dir, SIGTERM with everything open, IPv6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startServer, withDeadline } from './lib/server.mjs';

function peerCert(host, port) {
	return new Promise((resolve, reject) => {
		const s = tls.connect({ host, port, rejectUnauthorized: false, servername: undefined }, () => {
			const c = s.getPeerCertificate();
			const proto = s.getProtocol();
			s.end();
			resolve({ cert: c, proto });
		});
		s.on('error', reject);
	});
}

test('first start makes a self-signed certificate; a restart keeps it and the meetings', async () => {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-it-restart-'));
	try {
		const a = await startServer({ dataDir });
		let first, created;
		try {
			first = await peerCert('127.0.0.1', a.port);
			assert.match(first.proto, /^TLSv1\.[23]$/);
			assert.match(first.cert.subjectaltname, /IP Address:127\.0\.0\.1/);
			assert.ok(fs.readdirSync(dataDir).some((f) => /\.pem$|\.crt$|cert/.test(f)), `cert in ${fs.readdirSync(dataDir)}`);
			const r = await a.request('POST', '/api/meetings', { headers: { 'content-type': 'application/json' }, body: '{}' });
			assert.equal(r.status, 201, r.body);
			created = JSON.parse(r.body);
		} finally {
			await a.stop();
		}
		assert.doesNotMatch(a.stderr, /making a self-signed certificate[\s\S]*making a self-signed certificate/);
		// the signaling loop is libev's epoll, not lws's poll() over every
		// connection (without libwebsockets-evlib-ev it falls back, with only a warning)
		assert.match(a.stderr, /listening on https:\S+ \(event loop: libev, epoll\)/);

		const b = await startServer({ dataDir });
		try {
			const again = await peerCert('127.0.0.1', b.port);
			assert.equal(again.cert.fingerprint256, first.cert.fingerprint256, 'same certificate after a restart');
			assert.doesNotMatch(b.stderr, /making a self-signed certificate/);
			const host = await b.wsHello();
			host.join(created.room, 'Host after restart', created.host_key);
			const j = await host.next('joined');
			assert.equal(j.role, 'host', 'the meeting and its host key survived the restart');
			await host.close();
		} finally {
			await b.stop();
		}
	} finally {
		fs.rmSync(dataDir, { recursive: true, force: true });
	}
});

test('SIGTERM with meetings, lobby, half-open and keep-alive connections: clean exit', async () => {
	const srv = await startServer();
	let clients;
	const raw = [];
	try {
		const mt = await srv.createMeeting();
		const host = await srv.wsHello();
		host.join(mt.room, 'Host', mt.hostKey);
		await host.next('joined');
		const member = await srv.wsHello();
		member.join(mt.room, 'Member');
		await member.next('lobby');
		const k = await host.next('knock');
		host.send({ type: 'admit', participant: k.participant });
		await member.next('joined');
		const waiting = await srv.wsHello();
		waiting.join(mt.room, 'Waiting');
		await waiting.next('lobby');
		await host.next('knock');
		const noHello = await srv.ws();
		const mute = await srv.ws({ autoPong: false });
		await mute.hello();
		// a TLS connection with no request, and one with half a request
		for (const send of [null, 'GET / HTTP/1.1\r\nHost: x\r\n']) {
			await new Promise((resolve) => {
				const s = tls.connect({ host: '127.0.0.1', port: srv.port, rejectUnauthorized: false }, () => {
					if (send) s.write(send);
					resolve();
				});
				s.on('error', () => {});
				raw.push(s);
			});
		}
		clients = [host, member, waiting, noHello, mute];
		assert.equal(await srv.metric('conclave_ws_connections'), 5);
	} catch (e) {
		await srv.stop().catch(() => {});
		throw e;
	}
	// stop() checks exit code 0 and that no sanitizer report was printed
	await srv.stop();
	for (const c of clients) {
		const { code } = await withDeadline(c.closed, 3000, 'client sees the server go');
		assert.ok(!c.terminatedByTest, 'the client noticed the server going away');
		assert.ok(code >= 1000, `close code ${code}`);
	}
	for (const s of raw) s.destroy();
});

test('IPv6: listens on [::1], serves the API, WebSocket and /metrics to loopback', async () => {
	const srv = await startServer({ host: '::1' });
	try {
		assert.equal((await srv.get('/healthz')).status, 200);
		const { cert } = await peerCert('::1', srv.port);
		assert.match(cert.subjectaltname, /IP Address:0:0:0:0:0:0:0:1|IP Address:::1/);
		const r = await srv.request('POST', '/api/meetings', {
			headers: { 'content-type': 'application/json', origin: srv.origin },
			body: '{}',
		});
		assert.equal(r.status, 201, r.body);
		const { room, host_key: hostKey } = JSON.parse(r.body);
		const host = await srv.wsHello({ origin: srv.origin });
		host.join(room, 'v6 host', hostKey);
		assert.equal((await host.next('joined')).role, 'host');
		const m = await srv.metrics();
		assert.equal(m.get('conclave_ws_connections'), 1);
		await host.close();
	} finally {
		await srv.stop();
	}
});
