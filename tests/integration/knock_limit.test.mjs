// Joins and knocks are rate-limited per address (DESIGN.md §4): with
// --knock-per-minute 20, a stranger trying 200 room ids gets about 20
// lobby answers and then rate_limited, and the server stays responsive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, randomRoomId } from './lib/server.mjs';

const LIMIT = 20;
const ATTEMPTS = 200;
const CONNS = 10;

test(`--knock-per-minute ${LIMIT}: ${ATTEMPTS} joins on random rooms from one address`, async (t) => {
	const srv = await startServer({ flags: ['--knock-per-minute', `${LIMIT}`] });
	try {
		// several connections, so that the per-connection message rate is not what limits
		const conns = [];
		for (let i = 0; i < CONNS; i++) conns.push(await srv.wsHello());
		const outcomes = [];
		const t0 = Date.now();
		for (let n = 0; n < ATTEMPTS; n++) {
			const c = conns[n % CONNS];
			c.join(randomRoomId(), `knocker ${n}`);
			const m = await c.next((x) => x.type === 'lobby' || x.type === 'error', 3000);
			if (m.type === 'lobby') {
				outcomes.push('lobby');
				c.send({ type: 'leave' });
				await c.next('left');
			} else {
				assert.equal(m.code, 'rate_limited', m.raw);
				assert.equal(m.ref, 'join', m.raw);
				outcomes.push('limited');
			}
			if (n % 25 === 0) {
				const h = await srv.get('/healthz', { timeoutMs: 2000 });
				assert.equal(h.status, 200, `healthz after ${n} attempts`);
			}
		}
		const elapsedS = (Date.now() - t0) / 1000;
		const lobby = outcomes.filter((o) => o === 'lobby').length;
		t.diagnostic(`${lobby} lobby, ${ATTEMPTS - lobby} rate_limited in ${elapsedS.toFixed(1)} s`);
		assert.deepEqual(outcomes.slice(0, LIMIT), Array(LIMIT).fill('lobby'), 'the first burst gets the lobby');
		// the bucket refills at LIMIT per minute while the test runs
		const refill = Math.ceil((elapsedS * LIMIT) / 60) + 1;
		assert.ok(lobby >= LIMIT && lobby <= LIMIT + refill, `${lobby} lobby answers (expected ${LIMIT}..${LIMIT + refill})`);
		assert.equal(outcomes[LIMIT + refill], 'limited');
		assert.ok((await srv.metric('conclave_sig_errors_total{code="rate_limited"}')) >= ATTEMPTS - lobby);

		// every connection is still usable
		for (const c of conns) await c.ping();
		assert.equal((await srv.get('/healthz')).status, 200);
		for (const c of conns) await c.close();
	} finally {
		await srv.stop();
	}
});
