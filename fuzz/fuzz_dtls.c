/*
 * fuzz_dtls — the DTLS record peek and a fresh server conn on untrusted
 * datagrams.
 *
 * Input layout:
 *   byte 0        flags: bit 0 = split the rest into datagrams, each
 *                 prefixed by a 16-bit big-endian length (otherwise the
 *                 rest is one datagram); bit 1 = server without cookie
 *                 exchange (so a ClientHello reaches the full handshake
 *                 and the peer's Certificate reaches the fingerprint check);
 *                 bit 2 = the next 32 bytes are the expected peer
 *                 fingerprint (otherwise all zero).
 *   rest          datagram(s).
 *
 * Invariants checked (abort() on violation): dtls_record_peek never
 * reports a record longer than its input, and walking the records of a
 * datagram ends exactly at its end or at an invalid header; every datagram
 * the conn emits is at most DTLS_MTU bytes and parses as DTLS records; the
 * conn's return values and states are the documented ones; keys are
 * available only when connected.
 *
 * The two dtls_ctx (with and without cookies) are made once: certificate
 * generation is the slow part and does not look at the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "dtls/dtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FLAG_SPLIT = 1,
	FLAG_NO_COOKIES = 2,
	FLAG_FINGERPRINT = 4,
	MAX_DATAGRAMS = 32,
};

static struct dtls_ctx *ctx_cookies;
static struct dtls_ctx *ctx_plain;

static void check_records(const uint8_t *p, size_t len)
{
	struct dtls_record_info ri;
	size_t off = 0;

	while (off < len && dtls_record_peek(p + off, len - off, &ri) == 0) {
		if (ri.record_len != 13 + ri.length || ri.record_len > len - off ||
		    ri.content_type < 20 || ri.content_type > 63 ||
		    ri.seq >= ((uint64_t)1 << 48))
			abort();
		if (ri.client_hello && (ri.epoch != 0 || ri.content_type != 22))
			abort();
		off += ri.record_len;
	}
	if (off > len)
		abort();
}

static void on_send(const uint8_t *p, size_t len, void *arg)
{
	struct dtls_record_info ri;

	(void)arg;
	if (len == 0 || len > DTLS_MTU)
		abort();
	/* whatever we send is well-formed DTLS, record after record */
	{
		size_t off = 0;
		while (off < len) {
			if (dtls_record_peek(p + off, len - off, &ri) != 0)
				abort();
			off += ri.record_len;
		}
	}
}

static void feed(struct dtls_conn *c, const uint8_t *p, size_t len)
{
	enum dtls_state before = dtls_conn_state(c);
	enum dtls_state after;
	int r;

	check_records(p, len);
	r = dtls_conn_input(c, p, len);
	after = dtls_conn_state(c);
	switch (r) {
	case 1:
		if (after != DTLS_STATE_CONNECTED || before != DTLS_STATE_HANDSHAKING)
			abort();
		break;
	case 0:
		break;
	case -EACCES:
	case -EPROTO:
		if (after != DTLS_STATE_FAILED)
			abort();
		break;
	case -ENOTCONN:
		if (before != DTLS_STATE_FAILED && before != DTLS_STATE_CLOSED)
			abort();
		break;
	default:
		abort();
	}
	if (dtls_conn_srtp_profile(c) != DTLS_SRTP_NONE &&
	    after != DTLS_STATE_CONNECTED)
		abort();
	(void)dtls_conn_timeout_ms(c);
	r = dtls_conn_handle_timeout(c);
	if (r != 0 && r != -ETIMEDOUT)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t addr[] = { 192, 0, 2, 1, 0x13, 0x88 };
	uint8_t fp[DTLS_FP_LEN] = { 0 };
	struct dtls_conn *c = NULL;
	struct dtls_srtp_keys keys;
	struct dtls_record_info ri;
	uint8_t flags;
	size_t n = 0;

	if (ctx_cookies == NULL) {
		if (dtls_ctx_new(&ctx_cookies) != 0 ||
		    dtls_ctx_new(&ctx_plain) != 0)
			abort();
		dtls_ctx_set_cookie_exchange(ctx_plain, false);
	}
	/* the peek alone, on the raw input */
	if (dtls_record_peek(data, size, &ri) == 0 && ri.record_len > size)
		abort();
	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	if (flags & FLAG_FINGERPRINT) {
		if (size < DTLS_FP_LEN)
			return 0;
		memcpy(fp, data, DTLS_FP_LEN);
		data += DTLS_FP_LEN;
		size -= DTLS_FP_LEN;
	}
	if (dtls_conn_new((flags & FLAG_NO_COOKIES) ? ctx_plain : ctx_cookies,
			  fp, addr, sizeof(addr), on_send, NULL, &c) != 0)
		abort();
	if (!(flags & FLAG_SPLIT)) {
		feed(c, data, size);
	} else {
		while (size >= 2 && n++ < MAX_DATAGRAMS) {
			size_t len = (size_t)data[0] << 8 | data[1];
			data += 2;
			size -= 2;
			if (len > size)
				len = size;
			feed(c, data, len);
			data += len;
			size -= len;
		}
	}
	if (dtls_conn_state(c) == DTLS_STATE_CONNECTED) {
		if (dtls_conn_srtp_keys(c, &keys) != 0)
			abort();
		dtls_srtp_keys_wipe(&keys);
	} else if (dtls_conn_srtp_keys(c, &keys) != -ENOTCONN) {
		abort();
	}
	dtls_conn_close(c);
	dtls_conn_free(c);
	return 0;
}
