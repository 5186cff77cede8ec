// Polling with a deadline: the one way the tests (integration, media,
// hardening, soak, browser) and the benchmark wait for a state that no
// event announces. Plain Node, no dependencies: bench/ imports it too,
// without tests/node_modules.

/**
 * Calls `fn` (sync or async) until it returns a truthy value and resolves
 * with that value; fn runs at once, then every `interval` ms. Past
 * `timeout` ms it throws an Error that says `what`, the time and what fn
 * said last: the value it returned (and the last error it threw before,
 * if any) or the error it threw.
 *
 * An error thrown by fn counts as "not yet" and polling goes on, unless it
 * has `fatal` set (thrown at once, e.g. "the server exited") or
 * `rethrow` is true (every error is thrown at once).
 */
export async function poll(fn, { timeout, what, interval = 25, rethrow = false }) {
	if (!Number.isFinite(timeout)) throw new TypeError(`poll: no timeout for ${what}`);
	const end = Date.now() + timeout;
	let last, lastErr, threw = false;
	for (;;) {
		try {
			last = await fn();
			if (last) return last;
			threw = false;
		} catch (e) {
			if (rethrow || e.fatal) throw e;
			lastErr = e;
			threw = true;
		}
		if (Date.now() > end) {
			const said = threw ? `last error: ${lastErr.message}`
				: `last: ${show(last)}` + (lastErr ? `; earlier error: ${lastErr.message}` : '');
			throw new Error(`timed out after ${timeout} ms: ${what} (${said})`);
		}
		await new Promise((r) => setTimeout(r, interval));
	}
}

/** Calls `fn` until it returns a truthy value, or throws after `ms` (poll with positional arguments). */
export function pollUntil(fn, ms, what, interval = 25) {
	return poll(fn, { timeout: ms, what, interval });
}

function show(v) {
	try {
		const s = JSON.stringify(v);
		return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}…` : s;
	} catch {
		return String(v);
	}
}
