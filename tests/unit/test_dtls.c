/*
 * test_dtls — the DTLS-SRTP server against an in-process OpenSSL client
 * (dtls_testpeer.c): cookie exchange, profile choice, fingerprint check,
 * client certificate requirement, MTU, retransmission, deadline, alerts,
 * and the record peek used for demux and rate limiting.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtls/dtls.h"
#include "dtls_testpeer.h"

enum {
	CT_CCS = 20,
	CT_HANDSHAKE = 22,
	HS_HELLO_VERIFY_REQUEST = 3,   /* RFC 6347 §4.2.1 */
	REC_HDR = 13,
};

static const char both[] = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

static struct tlink *link_new(const struct tlink_opts *o)
{
	struct tlink *l = calloc(1, sizeof(*l));

	if (l != NULL && tlink_open(l, o) != 0) {
		tlink_close(l);
		free(l);
		return NULL;
	}
	return l;
}

static void link_free(struct tlink *l)
{
	if (l != NULL) {
		tlink_close(l);
		free(l);
	}
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* First handshake type in a datagram's first record, or -1. */
static int first_hs_type(const struct tdgram *d)
{
	struct dtls_record_info ri;

	if (dtls_record_peek(d->b, d->len, &ri) != 0 ||
	    ri.content_type != CT_HANDSHAKE || ri.length < 1)
		return -1;
	return d->b[REC_HDR];
}

static int check_keys_match(struct tlink *l, enum dtls_srtp_profile want)
{
	struct dtls_srtp_keys s, c;

	TEST_EQ(dtls_conn_srtp_profile(l->srv), want);
	TEST_EQ(dtls_conn_srtp_keys(l->srv, &s), 0);
	TEST_EQ(tlink_client_keys(l, &c), 0);
	TEST_EQ(s.profile, want);
	TEST_EQ(s.key_len, DTLS_SRTP_KEY_LEN);
	TEST_EQ(s.salt_len, want == DTLS_SRTP_AEAD_AES_128_GCM
				    ? DTLS_SRTP_SALT_LEN_GCM
				    : DTLS_SRTP_SALT_LEN_CM);
	TEST_MEMEQ(s.client_key, c.client_key, DTLS_SRTP_KEY_LEN);
	TEST_MEMEQ(s.server_key, c.server_key, DTLS_SRTP_KEY_LEN);
	TEST_MEMEQ(s.client_salt, c.client_salt, s.salt_len);
	TEST_MEMEQ(s.server_salt, c.server_salt, s.salt_len);
	TEST_ASSERT(memcmp(s.client_key, s.server_key, DTLS_SRTP_KEY_LEN) != 0);
	TEST_ASSERT(!all_zero(s.server_key, DTLS_SRTP_KEY_LEN));
	/* handed out once */
	TEST_EQ(dtls_conn_srtp_keys(l->srv, &c), -EALREADY);
	dtls_srtp_keys_wipe(&s);
	dtls_srtp_keys_wipe(&c);
	TEST_ASSERT(all_zero(&s, sizeof(s)));
	return 0;
}

int test_dtls_fingerprint_text(void)
{
	struct dtls_ctx *a = NULL, *b = NULL;
	const char *fa, *fb;
	size_t i;

	TEST_EQ(dtls_ctx_new(&a), 0);
	TEST_EQ(dtls_ctx_new(&b), 0);
	fa = dtls_ctx_fingerprint(a);
	fb = dtls_ctx_fingerprint(b);
	TEST_EQ(strlen(fa), DTLS_FP_TEXT_LEN - 1);
	for (i = 0; fa[i]; i++) {
		if (i % 3 == 2)
			TEST_EQ(fa[i], ':');
		else
			TEST_ASSERT((fa[i] >= '0' && fa[i] <= '9') ||
				    (fa[i] >= 'A' && fa[i] <= 'F'));
	}
	TEST_ASSERT(strcmp(fa, fb) != 0);   /* a fresh certificate each time */
	dtls_ctx_free(a);
	dtls_ctx_free(b);
	return 0;
}

int test_dtls_handshake_gcm(void)
{
	struct tlink_opts o = { .profiles = both };
	struct tlink *l = link_new(&o);
	char fp[DTLS_FP_TEXT_LEN];

	TEST_ASSERT(l != NULL);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_HANDSHAKING);
	TEST_EQ(dtls_conn_srtp_keys(l->srv, &(struct dtls_srtp_keys){ 0 }),
		-ENOTCONN);
	tlink_pump(l);
	TEST_ASSERT(tlink_client_done(l));
	TEST_EQ(l->srv_err, 0);
	TEST_EQ(l->srv_completed, 1);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_EQ(dtls_conn_timeout_ms(l->srv), -1);
	/* cookie exchange: the first reply is a HelloVerifyRequest, and the
	 * client sent two ClientHellos */
	TEST_ASSERT(l->srv_n >= 3);
	TEST_EQ(first_hs_type(&l->srv_log[0]), HS_HELLO_VERIFY_REQUEST);
	TEST_EQ(first_hs_type(&l->cli_log[0]), 1);
	TEST_EQ(first_hs_type(&l->cli_log[1]), 1);
	/* MTU on both directions */
	TEST_ASSERT(l->max_srv_dgram <= DTLS_MTU);
	TEST_ASSERT(l->max_cli_dgram <= DTLS_MTU);
	/* the client saw the certificate the SDP will advertise */
	TEST_EQ(tlink_server_fp_text(l, fp), 0);
	TEST_ASSERT(strcmp(fp, dtls_ctx_fingerprint(l->ctx)) == 0);
	TEST_EQ(check_keys_match(l, DTLS_SRTP_AEAD_AES_128_GCM), 0);
	link_free(l);
	return 0;
}

int test_dtls_handshake_cm80(void)
{
	struct tlink_opts o = { .profiles = "SRTP_AES128_CM_SHA1_80" };
	struct tlink *l = link_new(&o);

	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_ASSERT(tlink_client_done(l));
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_EQ(check_keys_match(l, DTLS_SRTP_AES128_CM_SHA1_80), 0);
	link_free(l);
	return 0;
}

/* Server preference wins even when the client lists AES-CM first. */
int test_dtls_profile_server_pref(void)
{
	struct tlink_opts o = {
		.profiles = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM",
		.no_cookies = true,
	};
	struct tlink *l = link_new(&o);

	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	/* without cookies the first reply is the ServerHello flight */
	TEST_EQ(first_hs_type(&l->srv_log[0]), 2);
	TEST_EQ(dtls_conn_srtp_profile(l->srv), DTLS_SRTP_AEAD_AES_128_GCM);
	link_free(l);
	return 0;
}

int test_dtls_wrong_fingerprint(void)
{
	struct tlink_opts o = { .profiles = both, .wrong_fp = true };
	struct tlink *l = link_new(&o);
	struct dtls_srtp_keys k;

	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_EQ(l->srv_err, -EACCES);
	TEST_EQ(l->srv_completed, 0);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_FAILED);
	TEST_ASSERT(strstr(dtls_conn_reason(l->srv), "fingerprint") != NULL);
	TEST_EQ(dtls_conn_srtp_keys(l->srv, &k), -ENOTCONN);
	TEST_EQ(dtls_conn_srtp_profile(l->srv), DTLS_SRTP_NONE);
	/* the client got a fatal alert, not a finished handshake */
	TEST_ASSERT(!tlink_client_done(l));
	TEST_ASSERT(l->cli_failed);
	TEST_EQ(dtls_conn_input(l->srv, l->cli_log[0].b, l->cli_log[0].len),
		-ENOTCONN);
	TEST_EQ(dtls_conn_timeout_ms(l->srv), -1);
	link_free(l);
	return 0;
}

int test_dtls_no_client_cert(void)
{
	struct tlink_opts o = { .profiles = both, .no_client_cert = true };
	struct tlink *l = link_new(&o);

	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_EQ(l->srv_err, -EPROTO);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_FAILED);
	TEST_ASSERT(!tlink_client_done(l));
	link_free(l);
	return 0;
}

int test_dtls_no_srtp(void)
{
	struct tlink_opts o = { .profiles = NULL };
	struct tlink *l = link_new(&o);

	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_EQ(l->srv_err, -EPROTO);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_FAILED);
	TEST_ASSERT(strstr(dtls_conn_reason(l->srv), "SRTP") != NULL);
	TEST_ASSERT(l->cli_failed);
	link_free(l);

	/* only profiles we do not support */
	o.profiles = "SRTP_AES128_CM_SHA1_32";
	l = link_new(&o);
	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_FAILED);
	link_free(l);
	return 0;
}

/* The client refuses our certificate: its fatal alert fails the conn. */
int test_dtls_peer_alert(void)
{
	struct tlink_opts o = { .profiles = both, .client_rejects = true };
	struct tlink *l = link_new(&o);

	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_EQ(l->srv_err, -EPROTO);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_FAILED);
	TEST_ASSERT(strstr(dtls_conn_reason(l->srv), "alert") != NULL);
	link_free(l);
	return 0;
}

/* The first datagram of the server's ServerHello flight is lost; the
 * client waits (long timer), the server's timer resends the flight. */
int test_dtls_retransmit_server_flight(void)
{
	struct tlink_opts o = {
		.profiles = both, .server_rto_ms = 30, .client_rto_ms = 20000,
	};
	struct tlink *l = link_new(&o);
	size_t sent;
	int t;

	TEST_ASSERT(l != NULL);
	l->drop_srv = 1;   /* 0 is the HelloVerifyRequest */
	tlink_pump(l);
	TEST_ASSERT(!tlink_client_done(l));
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_HANDSHAKING);
	t = dtls_conn_timeout_ms(l->srv);
	TEST_ASSERT(t >= 0 && t <= 30);
	sent = l->srv_n;
	/* early: nothing happens */
	if (t > 5) {
		TEST_EQ(dtls_conn_handle_timeout(l->srv), 0);
		TEST_EQ(l->srv_n, sent);
	}
	tlink_run(l, 2000);
	TEST_ASSERT(l->srv_n > sent);
	TEST_ASSERT(tlink_client_done(l));
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_ASSERT(l->max_srv_dgram <= DTLS_MTU);
	TEST_EQ(check_keys_match(l, DTLS_SRTP_AEAD_AES_128_GCM), 0);
	link_free(l);
	return 0;
}

/* The server's last flight (CCS, Finished) is lost: the server is already
 * connected, the client's timer resends its flight and the server answers
 * it from the connected state. */
int test_dtls_retransmit_final_flight(void)
{
	struct tlink_opts o = { .profiles = both, .client_rto_ms = 30 };
	struct tlink *l = link_new(&o);

	TEST_ASSERT(l != NULL);
	l->drop_srv_ccs = true;
	tlink_pump(l);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_ASSERT(!tlink_client_done(l));
	tlink_run(l, 2000);
	TEST_ASSERT(tlink_client_done(l));
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_EQ(l->srv_completed, 1);
	TEST_EQ(check_keys_match(l, DTLS_SRTP_AEAD_AES_128_GCM), 0);
	link_free(l);
	return 0;
}

/* A lost client datagram (its second ClientHello) is recovered by the
 * client's own timer; the server still completes once. */
int test_dtls_retransmit_client_hello(void)
{
	struct tlink_opts o = { .profiles = both, .client_rto_ms = 20 };
	struct tlink *l = link_new(&o);

	TEST_ASSERT(l != NULL);
	l->drop_cli = 1;
	tlink_run(l, 2000);
	TEST_ASSERT(tlink_client_done(l));
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_EQ(l->srv_completed, 1);
	link_free(l);
	return 0;
}

static void drop_send(const uint8_t *p, size_t len, void *arg)
{
	(void)p;
	(void)len;
	(*(int *)arg)++;
}

int test_dtls_deadline(void)
{
	struct dtls_ctx *ctx = NULL;
	struct dtls_conn *c = NULL;
	uint8_t fp[DTLS_FP_LEN] = { 1 };
	struct timespec ts = { 0, 60 * 1000000L };
	int sent = 0, t;

	TEST_EQ(dtls_ctx_new(&ctx), 0);
	dtls_ctx_set_timers(ctx, 10, 50);
	TEST_EQ(dtls_conn_new(ctx, fp, "k", 1, drop_send, &sent, &c), 0);
	t = dtls_conn_timeout_ms(c);
	TEST_ASSERT(t > 0 && t <= 50);
	TEST_EQ(dtls_conn_handle_timeout(c), 0);
	nanosleep(&ts, NULL);
	TEST_EQ(dtls_conn_timeout_ms(c), 0);
	TEST_EQ(dtls_conn_handle_timeout(c), -ETIMEDOUT);
	TEST_EQ(dtls_conn_state(c), DTLS_STATE_FAILED);
	TEST_ASSERT(strstr(dtls_conn_reason(c), "deadline") != NULL);
	TEST_EQ(dtls_conn_timeout_ms(c), -1);
	TEST_EQ(sent, 0);
	dtls_conn_free(c);
	dtls_ctx_free(ctx);
	return 0;
}

int test_dtls_close_notify(void)
{
	struct tlink_opts o = { .profiles = both };
	struct tlink *l = link_new(&o);
	size_t sent;

	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	sent = l->srv_n;
	TEST_ASSERT(SSL_shutdown(l->cli) >= 0);
	tlink_pump(l);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CLOSED);
	TEST_EQ(l->srv_err, 0);
	TEST_EQ(l->srv_n, sent + 1);   /* our close_notify answer */
	TEST_EQ(dtls_conn_srtp_keys(l->srv, &(struct dtls_srtp_keys){ 0 }),
		-ENOTCONN);
	link_free(l);

	/* and a local close sends one */
	l = link_new(&o);
	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	sent = l->srv_n;
	dtls_conn_close(l->srv);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CLOSED);
	TEST_EQ(l->srv_n, sent + 1);
	tlink_pump(l);
	TEST_EQ(SSL_get_shutdown(l->cli) & SSL_RECEIVED_SHUTDOWN,
		SSL_RECEIVED_SHUTDOWN);
	link_free(l);
	return 0;
}

/* Junk and truncated records never break the conn: it stays handshaking
 * and still completes a real handshake; once connected, records of another
 * association (wrong keys, stale handshake) are ignored. (Before that, a
 * well-formed handshake message injected with the peer's address can spoil
 * the handshake, as with any DTLS implementation.) */
int test_dtls_input_junk(void)
{
	struct tlink_opts o = { .profiles = both };
	struct tlink *l = link_new(&o), *other = link_new(&o);
	uint8_t junk[300];
	size_t i;

	TEST_ASSERT(l != NULL && other != NULL);
	tlink_pump(other);
	TEST_EQ(dtls_conn_state(other->srv), DTLS_STATE_CONNECTED);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	TEST_EQ(dtls_conn_input(l->srv, junk, sizeof(junk)), 0);
	TEST_EQ(dtls_conn_input(l->srv, junk, 0), 0);
	/* the other link's client datagrams, cut inside their first record */
	for (i = 0; i < other->cli_n && i < TLINK_MAX_DGRAMS; i++) {
		const struct tdgram *d = &other->cli_log[i];
		struct dtls_record_info ri;
		TEST_EQ(dtls_record_peek(d->b, d->len, &ri), 0);
		TEST_EQ(dtls_conn_input(l->srv, d->b, ri.record_len / 2), 0);
		TEST_EQ(dtls_conn_input(l->srv, d->b, ri.record_len - 1), 0);
	}
	TEST_EQ(l->srv_n, 0);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_HANDSHAKING);
	tlink_pump(l);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_ASSERT(tlink_client_done(l));
	/* after the handshake: junk and the other association's flights */
	TEST_EQ(dtls_conn_input(l->srv, junk, sizeof(junk)), 0);
	for (i = 0; i < other->cli_n && i < TLINK_MAX_DGRAMS; i++) {
		const struct tdgram *d = &other->cli_log[i];
		TEST_EQ(dtls_conn_input(l->srv, d->b, d->len), 0);
	}
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_EQ(check_keys_match(l, DTLS_SRTP_AEAD_AES_128_GCM), 0);
	link_free(l);
	link_free(other);
	return 0;
}

int test_dtls_conn_new_args(void)
{
	struct dtls_ctx *ctx = NULL;
	struct dtls_conn *c = NULL;
	uint8_t fp[DTLS_FP_LEN] = { 0 };
	uint8_t key[DTLS_ADDR_KEY_MAX + 1] = { 0 };
	int n = 0;

	TEST_EQ(dtls_ctx_new(&ctx), 0);
	TEST_EQ(dtls_conn_new(ctx, fp, key, sizeof(key), drop_send, &n, &c),
		-EINVAL);
	TEST_EQ(dtls_conn_new(ctx, fp, key, 4, NULL, &n, &c), -EINVAL);
	TEST_EQ(dtls_conn_new(ctx, fp, NULL, 4, drop_send, &n, &c), -EINVAL);
	TEST_ASSERT(c == NULL);
	TEST_EQ(dtls_conn_new(ctx, fp, NULL, 0, drop_send, &n, &c), 0);
	dtls_conn_close(c);   /* closing while handshaking sends nothing */
	TEST_EQ(dtls_conn_state(c), DTLS_STATE_CLOSED);
	TEST_EQ(n, 0);
	dtls_conn_free(c);
	dtls_conn_free(NULL);
	dtls_ctx_free(ctx);
	dtls_ctx_free(NULL);
	return 0;
}

int test_dtls_keys_split(void)
{
	uint8_t block[DTLS_SRTP_BLOCK_MAX];
	struct dtls_srtp_keys k;
	size_t i;

	for (i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)i;
	TEST_EQ(dtls_srtp_block_len(DTLS_SRTP_AEAD_AES_128_GCM), 56);
	TEST_EQ(dtls_srtp_block_len(DTLS_SRTP_AES128_CM_SHA1_80), 60);
	TEST_EQ(dtls_srtp_block_len(DTLS_SRTP_NONE), 0);
	TEST_EQ(dtls_srtp_keys_split(DTLS_SRTP_AEAD_AES_128_GCM, block, 60, &k),
		-EINVAL);
	TEST_EQ(dtls_srtp_keys_split(DTLS_SRTP_NONE, block, 0, &k), -EINVAL);
	/* RFC 5764 §4.2 layout: client_key|server_key|client_salt|server_salt */
	TEST_EQ(dtls_srtp_keys_split(DTLS_SRTP_AEAD_AES_128_GCM, block, 56, &k), 0);
	TEST_EQ(k.client_key[0], 0);
	TEST_EQ(k.server_key[0], 16);
	TEST_EQ(k.client_salt[0], 32);
	TEST_EQ(k.server_salt[0], 44);
	TEST_EQ(k.server_salt[11], 55);
	TEST_EQ(dtls_srtp_keys_split(DTLS_SRTP_AES128_CM_SHA1_80, block, 60, &k), 0);
	TEST_EQ(k.client_salt[0], 32);
	TEST_EQ(k.server_salt[0], 46);
	TEST_EQ(k.server_salt[13], 59);
	TEST_EQ(k.salt_len, 14);
	return 0;
}

/* dtls_record_peek on a real ClientHello, truncations and other
 * protocols' bytes. */
int test_dtls_record_peek(void)
{
	struct tlink_opts o = { .profiles = both };
	struct tlink *l = link_new(&o);
	struct dtls_record_info ri;
	const struct tdgram *ch;
	size_t i;
	/* STUN binding request header (RFC 8489 §5), RTP (RFC 3550 §5.1) */
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12,
					  0xa4, 0x42 };
	static const uint8_t rtp[12] = { 0x80, 0x60, 0x00, 0x01 };
	uint8_t buf[64];

	TEST_ASSERT(l != NULL);
	tlink_pump(l);
	TEST_ASSERT(tlink_client_done(l));
	ch = &l->cli_log[0];
	TEST_EQ(dtls_record_peek(ch->b, ch->len, &ri), 0);
	TEST_EQ(ri.content_type, CT_HANDSHAKE);
	TEST_ASSERT(ri.version == 0xfeff || ri.version == 0xfefd);
	TEST_EQ(ri.epoch, 0);
	TEST_EQ(ri.seq, 0);
	TEST_EQ(ri.record_len, ch->len);
	TEST_EQ(ri.length, ch->len - REC_HDR);
	TEST_ASSERT(ri.client_hello);
	/* the ClientHello with the cookie */
	TEST_EQ(dtls_record_peek(l->cli_log[1].b, l->cli_log[1].len, &ri), 0);
	TEST_ASSERT(ri.client_hello);
	TEST_EQ(ri.seq, 1);
	/* truncated anywhere: rejected */
	for (i = 0; i < ch->len; i++)
		TEST_EQ(dtls_record_peek(ch->b, i, &ri), -EBADMSG);
	TEST_EQ(dtls_record_peek(NULL, 0, &ri), -EBADMSG);
	/* the HelloVerifyRequest is a handshake record, not a ClientHello */
	TEST_EQ(dtls_record_peek(l->srv_log[0].b, l->srv_log[0].len, &ri), 0);
	TEST_ASSERT(!ri.client_hello);
	/* the client's later datagrams: whole records, no ClientHello, and
	 * one at epoch 1 (its Finished) */
	{
		bool saw_epoch1 = false;
		size_t k;
		for (k = 2; k < l->cli_n && k < TLINK_MAX_DGRAMS; k++) {
			const struct tdgram *d = &l->cli_log[k];
			size_t off = 0;
			while (off < d->len &&
			       dtls_record_peek(d->b + off, d->len - off, &ri) == 0) {
				TEST_ASSERT(!ri.client_hello);
				if (ri.epoch == 1)
					saw_epoch1 = true;
				off += ri.record_len;
			}
			TEST_EQ(off, d->len);
		}
		TEST_ASSERT(saw_epoch1);
	}
	/* other protocols on the same port (RFC 7983 §7) */
	TEST_EQ(dtls_record_peek(stun, sizeof(stun), &ri), -EBADMSG);
	TEST_EQ(dtls_record_peek(rtp, sizeof(rtp), &ri), -EBADMSG);
	/* a TLS (not DTLS) version, and a content type outside 20..63 */
	memcpy(buf, ch->b, REC_HDR);
	buf[11] = 0;
	buf[12] = 0;
	TEST_EQ(dtls_record_peek(buf, REC_HDR, &ri), 0);   /* empty fragment */
	TEST_ASSERT(!ri.client_hello);
	buf[1] = 0x03;
	buf[2] = 0x03;
	TEST_EQ(dtls_record_peek(buf, REC_HDR, &ri), -EBADMSG);
	memcpy(buf, ch->b, REC_HDR);
	buf[11] = 0;
	buf[12] = 0;
	buf[0] = 64;
	TEST_EQ(dtls_record_peek(buf, REC_HDR, &ri), -EBADMSG);
	buf[0] = 19;
	TEST_EQ(dtls_record_peek(buf, REC_HDR, &ri), -EBADMSG);
	/* a handshake fragment header that claims more than the record has */
	memcpy(buf, ch->b, REC_HDR + 12);
	buf[11] = 0;
	buf[12] = 12;
	TEST_EQ(dtls_record_peek(buf, REC_HDR + 12, &ri), 0);
	TEST_ASSERT(!ri.client_hello);
	/* a ClientHello at epoch 1 is not one we rate-limit as new */
	memcpy(buf, ch->b, REC_HDR + 12);
	buf[11] = 0;
	buf[12] = 12;
	buf[REC_HDR + 9] = buf[REC_HDR + 10] = buf[REC_HDR + 11] = 0;
	TEST_EQ(dtls_record_peek(buf, REC_HDR + 12, &ri), 0);
	TEST_ASSERT(ri.client_hello);   /* empty fragment, consistent */
	buf[4] = 1;
	TEST_EQ(dtls_record_peek(buf, REC_HDR + 12, &ri), 0);
	TEST_ASSERT(!ri.client_hello);
	link_free(l);
	return 0;
}
