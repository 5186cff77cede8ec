/*
 * dtls — DTLS 1.2 server for DTLS-SRTP over OpenSSL 3 (see dtls.h).
 *
 * Why custom BIOs: OpenSSL 3.0 (Debian 12) has no datagram memory BIO, and a
 * plain memory BIO loses datagram boundaries in both directions. So each
 * conn has two tiny BIOs of its own:
 *  - the read BIO holds at most one datagram, the one dtls_conn_input() was
 *    given; a read returns it whole (or truncated, as a UDP socket would)
 *    and then reports "retry";
 *  - the write BIO packs the records OpenSSL writes into a DTLS_MTU buffer
 *    and emits the buffer as one datagram when the next record would not
 *    fit, on BIO_flush (OpenSSL flushes at the end of each flight and after
 *    an alert), and at the end of every call into this module. OpenSSL's
 *    fragmentation counts BIO_wpending() as part of the current datagram,
 *    so several handshake messages share a datagram (RFC 6347 §4.1.1 allows
 *    several records per datagram) and none exceeds the MTU.
 *
 * Why the fingerprint check is a cert_verify_callback: the browser's
 * certificate is self-signed and means nothing by itself; what
 * authenticates it is the SHA-256 fingerprint in its SDP (RFC 8122,
 * RFC 5763 §5). Checking it while OpenSSL processes the Certificate message
 * makes a mismatch a fatal bad_certificate alert, before any key exists.
 *
 * Why a ClientHello callback: OpenSSL simply continues without use_srtp
 * when the client offers none of our profiles; DTLS-SRTP has nothing to do
 * with such a handshake, so it is refused with handshake_failure (RFC 5764
 * §4.1.3 lets the server proceed without SRTP, but then there are no keys).
 *
 * Cookies (RFC 6347 §4.2.1): HMAC-SHA256 under a per-context random secret
 * over the peer address key the conn was made with. The HelloVerifyRequest
 * is not buffered for retransmission, so a ClientHello with a spoofed
 * source costs one small reply and no handshake state.
 *
 * Timers: OpenSSL keeps the retransmission timer (DTLSv1_get_timeout), fed
 * by on_timer() for the initial value and the backoff; this module adds one
 * deadline for the whole handshake. Both surface as dtls_conn_timeout_ms().
 */
#include "dtls/dtls.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/ratelimit.h"

enum {
	/* First retransmission timeout. RFC 6347 §4.2.4.1 recommends 1 s for
	 * the general case; here ICE has just proven the path and measured a
	 * round trip in the tens of milliseconds, so a lost flight is resent
	 * sooner. Doubled on each retransmission (RFC 6347 §4.2.4.1). */
	DTLS_INITIAL_RTO_MS = 400,
	/* Backoff cap: RFC 6347 §4.2.4.1 asks for at least 60 s as the upper
	 * limit; the handshake deadline below ends the handshake long before
	 * that matters, so a small cap just keeps retrying while it lasts. */
	DTLS_MAX_RTO_MS = 4000,
	/* A handshake not finished this long after the conn was made fails:
	 * it bounds the memory a stalled or hostile peer can hold. Browsers
	 * finish in a few round trips. */
	DTLS_HANDSHAKE_DEADLINE_MS = 20000,
	/* Cookie length: one HMAC-SHA256 output (RFC 6347 §4.2.1 allows up to
	 * 255 bytes). */
	DTLS_COOKIE_LEN = 32,
	DTLS_COOKIE_SECRET_LEN = 32,
	/* Cap on the peer's certificate chain (OpenSSL's default is 100 KiB);
	 * browser certificates are well under 2 KiB. */
	DTLS_MAX_CERT_LIST = 16384,
	/* Our certificate: valid from a day ago (clock skew) for 30 days. A
	 * worker that runs longer makes a new dtls_ctx; browsers do not check
	 * the validity of DTLS-SRTP certificates, the fingerprint is what
	 * counts (RFC 8827 §6.5). */
	DTLS_CERT_BACKDATE_S = 24 * 3600,
	DTLS_CERT_VALIDITY_S = 30 * 24 * 3600,
	DTLS_CERT_SERIAL_LEN = 16,     /* RFC 5280 §4.1.2.2: at most 20 */
	/* Record layer (RFC 6347 §4.1) and handshake header (§4.2.2). */
	DTLS_RECORD_HDR_LEN = 13,
	DTLS_HS_HDR_LEN = 12,
	DTLS_CT_MIN = 20,              /* RFC 7983 §7: DTLS if 20..63 */
	DTLS_CT_MAX = 63,
	DTLS_CT_HANDSHAKE = 22,        /* RFC 5246 §6.2.1 */
	DTLS_HS_CLIENT_HELLO = 1,      /* RFC 5246 §7.4 */
	DTLS_VERSION_1_0 = 0xfeff,     /* RFC 6347 §4.1 (ClientHello may use it) */
	DTLS_VERSION_1_2 = 0xfefd,
	/* Scratch for discarded application data in SSL_read. */
	DTLS_DRAIN_BUF = 2048,
};

/* RFC 5764 §4.2 exporter label. */
static const char dtls_srtp_label[] = "EXTRACTOR-dtls_srtp";

/* Server preference order: AEAD first (RFC 7714), AES-CM as fallback. */
static const char dtls_srtp_profiles[] =
	"SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

/* ECDHE with AEAD only. ECDSA because our certificate is P-256. */
static const char dtls_ciphers[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
	"ECDHE-ECDSA-AES256-GCM-SHA384";

static const char dtls_groups[] = "X25519:P-256";

struct dtls_ctx {
	SSL_CTX *ssl_ctx;
	uint8_t cookie_secret[DTLS_COOKIE_SECRET_LEN];
	char fingerprint[DTLS_FP_TEXT_LEN];
	unsigned initial_rto_ms;
	unsigned deadline_ms;
	bool cookies;
};

/* Owned by the worker that made it; freed by dtls_conn_free(). The two
 * BIOs belong to `ssl`. */
struct dtls_conn {
	struct dtls_ctx *ctx;
	SSL *ssl;
	enum dtls_state state;
	enum dtls_srtp_profile profile;
	const char *reason;
	uint8_t expected_fp[DTLS_FP_LEN];
	uint8_t addr[DTLS_ADDR_KEY_MAX];
	size_t addr_len;
	dtls_send_h send;
	void *arg;
	uint64_t deadline;          /* now_ms() clock */
	unsigned initial_rto_us;
	bool keys_taken;
	bool fp_mismatch;
	bool peer_fatal;            /* a fatal alert was received */
	/* Current input datagram, valid during dtls_conn_input(). */
	const uint8_t *in;
	size_t in_len;
	/* Output datagram being packed. */
	size_t out_len;
	uint8_t out[DTLS_MTU];
};

/* ---- BIOs ------------------------------------------------------------- */

static pthread_once_t bio_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *bio_in_method;
static BIO_METHOD *bio_out_method;

static void out_flush(struct dtls_conn *c)
{
	if (c->out_len > 0) {
		size_t n = c->out_len;
		c->out_len = 0;
		c->send(c->out, n, c->arg);
	}
}

static int bio_in_read(BIO *b, char *buf, int size)
{
	struct dtls_conn *c = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (c == NULL || c->in == NULL || size <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = c->in_len < (size_t)size ? c->in_len : (size_t)size;
	memcpy(buf, c->in, n);
	/* Datagram semantics: whatever did not fit is gone. */
	c->in = NULL;
	c->in_len = 0;
	return (int)n;
}

static int bio_out_write(BIO *b, const char *buf, int size)
{
	struct dtls_conn *c = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (c == NULL || size < 0)
		return -1;
	n = (size_t)size;
	if (c->out_len + n > sizeof(c->out))
		out_flush(c);
	if (n > sizeof(c->out)) {
		/* OpenSSL fragments to the MTU, so this does not happen; if it
		 * did, the record still goes out whole rather than being cut. */
		c->send((const uint8_t *)buf, n, c->arg);
		return size;
	}
	memcpy(c->out + c->out_len, buf, n);
	c->out_len += n;
	return size;
}

static long bio_in_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dtls_conn *c = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_PENDING:
		return c != NULL ? (long)c->in_len : 0;
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;   /* no peer address, no socket timeouts, no MTU query */
	}
}

static long bio_out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dtls_conn *c = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		if (c != NULL)
			out_flush(c);
		return 1;
	case BIO_CTRL_WPENDING:
		return c != NULL ? (long)c->out_len : 0;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
		return 0;   /* DTLS_MTU already is the UDP payload size */
	default:
		return 0;
	}
}

static void bio_init_methods(void)
{
	int idx_in = BIO_get_new_index();
	int idx_out = BIO_get_new_index();

	if (idx_in < 0 || idx_out < 0)
		return;
	bio_in_method = BIO_meth_new(idx_in | BIO_TYPE_SOURCE_SINK,
				     "conclave dtls in");
	bio_out_method = BIO_meth_new(idx_out | BIO_TYPE_SOURCE_SINK,
				      "conclave dtls out");
	if (bio_in_method == NULL || bio_out_method == NULL ||
	    !BIO_meth_set_read(bio_in_method, bio_in_read) ||
	    !BIO_meth_set_ctrl(bio_in_method, bio_in_ctrl) ||
	    !BIO_meth_set_write(bio_out_method, bio_out_write) ||
	    !BIO_meth_set_ctrl(bio_out_method, bio_out_ctrl)) {
		BIO_meth_free(bio_in_method);
		BIO_meth_free(bio_out_method);
		bio_in_method = bio_out_method = NULL;
	}
}

/* ---- certificate and fingerprint ---------------------------------------- */

static int cert_digest(X509 *x, uint8_t md[DTLS_FP_LEN])
{
	unsigned int n = 0;

	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != DTLS_FP_LEN)
		return -EIO;
	return 0;
}

/* Constant-time: the expected value is not secret, but there is no reason
 * to leak how much of it an attacker's certificate matched. */
static bool cert_matches(X509 *x, const uint8_t expected[DTLS_FP_LEN])
{
	uint8_t md[DTLS_FP_LEN];
	bool ok;

	if (cert_digest(x, md) < 0)
		return false;
	ok = CRYPTO_memcmp(md, expected, DTLS_FP_LEN) == 0;
	OPENSSL_cleanse(md, sizeof(md));
	return ok;
}

static void fp_format(const uint8_t md[DTLS_FP_LEN], char out[DTLS_FP_TEXT_LEN])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < DTLS_FP_LEN; i++) {
		if (i > 0)
			out[o++] = ':';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 15];
	}
	out[o] = '\0';
}

/* A fresh self-signed ECDSA P-256 certificate, CN "conclave". */
static int cert_make(EVP_PKEY **pkey_out, X509 **x_out)
{
	uint8_t serial[DTLS_CERT_SERIAL_LEN];
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	BIGNUM *bn = NULL;
	int err = -EIO;

	pkey = EVP_EC_gen("P-256");
	x = X509_new();
	if (pkey == NULL || x == NULL)
		goto out;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;   /* positive */
	serial[0] |= 0x40;   /* and of full length */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -(long)DTLS_CERT_BACKDATE_S) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)DTLS_CERT_VALIDITY_S) == NULL)
		goto out;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)"conclave", -1,
				       -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pkey) != 1 ||
	    X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;
	*pkey_out = pkey;
	*x_out = x;
	pkey = NULL;
	x = NULL;
	err = 0;
out:
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return err;
}

/* ---- OpenSSL callbacks -------------------------------------------------- */

static struct dtls_conn *conn_of(SSL *ssl)
{
	return ssl != NULL ? SSL_get_app_data(ssl) : NULL;
}

static void fail(struct dtls_conn *c, const char *reason)
{
	if (c->state == DTLS_STATE_HANDSHAKING ||
	    c->state == DTLS_STATE_CONNECTED) {
		c->state = DTLS_STATE_FAILED;
		if (c->reason[0] == '\0')
			c->reason = reason;
	}
}

/* The whole certificate check (replaces chain building): the leaf must hash
 * to the fingerprint from the peer's SDP. Self-signed is expected. */
static int on_verify_cert(X509_STORE_CTX *sctx, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sctx,
					      SSL_get_ex_data_X509_STORE_CTX_idx());
	struct dtls_conn *c = conn_of(ssl);
	X509 *leaf = X509_STORE_CTX_get0_cert(sctx);

	(void)arg;
	if (c == NULL || leaf == NULL) {
		X509_STORE_CTX_set_error(sctx, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	if (!cert_matches(leaf, c->expected_fp)) {
		c->fp_mismatch = true;
		c->reason = "certificate does not match the SDP fingerprint";
		X509_STORE_CTX_set_error(sctx, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	X509_STORE_CTX_set_error(sctx, X509_V_OK);
	return 1;
}

/* Does a use_srtp extension body (RFC 5764 §4.1.1) offer one of our
 * profiles? Untrusted bytes: read through a cursor, exact length. */
static bool use_srtp_acceptable(const uint8_t *p, size_t len)
{
	struct cur c = cur_make(p, len);
	struct cur list;
	const uint8_t *profiles, *mki;
	uint16_t n, id;
	uint8_t mki_len;
	bool found = false;

	if (cur_u16(&c, &n) < 0 || n < 2 || (n & 1) != 0 ||
	    cur_bytes(&c, n, &profiles) < 0 || cur_u8(&c, &mki_len) < 0 ||
	    cur_bytes(&c, mki_len, &mki) < 0 || cur_left(&c) != 0)
		return false;
	(void)mki;
	list = cur_make(profiles, n);
	while (cur_u16(&list, &id) == 0)
		if (id == DTLS_SRTP_AEAD_AES_128_GCM ||
		    id == DTLS_SRTP_AES128_CM_SHA1_80)
			found = true;
	return found;
}

static int on_client_hello(SSL *ssl, int *al, void *arg)
{
	struct dtls_conn *c = conn_of(ssl);
	const unsigned char *ext = NULL;
	size_t len = 0;

	(void)arg;
	if (c == NULL) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_use_srtp, &ext, &len) != 1 ||
	    !use_srtp_acceptable(ext, len)) {
		c->reason = "client offers no acceptable SRTP profile";
		*al = SSL_AD_HANDSHAKE_FAILURE;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

static int cookie_compute(const struct dtls_conn *c, uint8_t out[DTLS_COOKIE_LEN])
{
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), c->ctx->cookie_secret,
		 (int)sizeof(c->ctx->cookie_secret), c->addr, c->addr_len, out,
		 &n) == NULL ||
	    n != DTLS_COOKIE_LEN)
		return -EIO;
	return 0;
}

static int on_cookie_generate(SSL *ssl, unsigned char *cookie,
			      unsigned int *cookie_len)
{
	struct dtls_conn *c = conn_of(ssl);

	if (c == NULL || cookie_compute(c, cookie) < 0)
		return 0;
	*cookie_len = DTLS_COOKIE_LEN;
	return 1;
}

static int on_cookie_verify(SSL *ssl, const unsigned char *cookie,
			    unsigned int cookie_len)
{
	struct dtls_conn *c = conn_of(ssl);
	uint8_t want[DTLS_COOKIE_LEN];
	int ok;

	if (c == NULL || cookie_len != DTLS_COOKIE_LEN ||
	    cookie_compute(c, want) < 0)
		return 0;
	ok = CRYPTO_memcmp(want, cookie, DTLS_COOKIE_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* Retransmission timer: initial value, then doubling up to the cap
 * (RFC 6347 §4.2.4.1). Times are in microseconds. */
static unsigned int on_timer(SSL *ssl, unsigned int timer_us)
{
	struct dtls_conn *c = conn_of(ssl);
	unsigned int cap = DTLS_MAX_RTO_MS * 1000u;

	if (timer_us == 0)
		return c != NULL ? c->initial_rto_us : DTLS_INITIAL_RTO_MS * 1000u;
	return timer_us >= cap / 2 ? cap : timer_us * 2;
}

/* Notes a received fatal alert so the failure says so. */
static void on_info(const SSL *ssl, int where, int ret)
{
	struct dtls_conn *c = SSL_get_app_data(ssl);

	if (c == NULL || (where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT)
		return;
	if ((ret >> 8) == SSL3_AL_FATAL)
		c->peer_fatal = true;
}

/* ---- context ------------------------------------------------------------ */

int dtls_ctx_new(struct dtls_ctx **out)
{
	struct dtls_ctx *ctx;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	SSL_CTX *s = NULL;
	uint8_t md[DTLS_FP_LEN];
	int err;

	if (pthread_once(&bio_once, bio_init_methods) != 0 ||
	    bio_in_method == NULL)
		return -ENOMEM;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return -ENOMEM;
	ctx->initial_rto_ms = DTLS_INITIAL_RTO_MS;
	ctx->deadline_ms = DTLS_HANDSHAKE_DEADLINE_MS;
	ctx->cookies = true;

	err = cert_make(&pkey, &x);
	if (err < 0)
		goto fail;
	err = -EIO;
	if (cert_digest(x, md) < 0 ||
	    RAND_bytes(ctx->cookie_secret, sizeof(ctx->cookie_secret)) != 1)
		goto fail;
	fp_format(md, ctx->fingerprint);

	s = SSL_CTX_new(DTLS_server_method());
	if (s == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(s, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(s, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate(s, x) != 1 ||
	    SSL_CTX_use_PrivateKey(s, pkey) != 1 ||
	    SSL_CTX_check_private_key(s) != 1 ||
	    SSL_CTX_set_cipher_list(s, dtls_ciphers) != 1 ||
	    SSL_CTX_set1_groups_list(s, dtls_groups) != 1 ||
	    /* returns 0 on success */
	    SSL_CTX_set_tlsext_use_srtp(s, dtls_srtp_profiles) != 0)
		goto fail;
	SSL_CTX_set_options(s, SSL_OP_NO_QUERY_MTU | SSL_OP_COOKIE_EXCHANGE |
				       SSL_OP_CIPHER_SERVER_PREFERENCE |
				       SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
				       SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_max_cert_list(s, DTLS_MAX_CERT_LIST);
	SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   NULL);
	SSL_CTX_set_cert_verify_callback(s, on_verify_cert, NULL);
	SSL_CTX_set_client_hello_cb(s, on_client_hello, NULL);
	SSL_CTX_set_cookie_generate_cb(s, on_cookie_generate);
	SSL_CTX_set_cookie_verify_cb(s, on_cookie_verify);
	SSL_CTX_set_info_callback(s, on_info);

	X509_free(x);       /* the SSL_CTX holds its own references */
	EVP_PKEY_free(pkey);
	ctx->ssl_ctx = s;
	*out = ctx;
	return 0;
fail:
	ERR_clear_error();
	SSL_CTX_free(s);
	X509_free(x);
	EVP_PKEY_free(pkey);
	OPENSSL_cleanse(ctx->cookie_secret, sizeof(ctx->cookie_secret));
	free(ctx);
	return err;
}

void dtls_ctx_free(struct dtls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	OPENSSL_cleanse(ctx->cookie_secret, sizeof(ctx->cookie_secret));
	free(ctx);
}

const char *dtls_ctx_fingerprint(const struct dtls_ctx *ctx)
{
	return ctx->fingerprint;
}

void dtls_ctx_set_timers(struct dtls_ctx *ctx, unsigned initial_rto_ms,
			 unsigned deadline_ms)
{
	if (initial_rto_ms > 0)
		ctx->initial_rto_ms = initial_rto_ms < DTLS_MAX_RTO_MS
					      ? initial_rto_ms
					      : DTLS_MAX_RTO_MS;
	if (deadline_ms > 0)
		ctx->deadline_ms = deadline_ms;
}

void dtls_ctx_set_cookie_exchange(struct dtls_ctx *ctx, bool on)
{
	ctx->cookies = on;
}

/* ---- connection --------------------------------------------------------- */

int dtls_conn_new(struct dtls_ctx *ctx, const uint8_t expected_fp[DTLS_FP_LEN],
		  const void *peer_addr_key, size_t keylen, dtls_send_h send,
		  void *arg, struct dtls_conn **out)
{
	struct dtls_conn *c;
	BIO *rb = NULL, *wb = NULL;

	if (ctx == NULL || expected_fp == NULL || send == NULL ||
	    keylen > DTLS_ADDR_KEY_MAX || (keylen > 0 && peer_addr_key == NULL))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->ctx = ctx;
	c->state = DTLS_STATE_HANDSHAKING;
	c->reason = "";
	memcpy(c->expected_fp, expected_fp, DTLS_FP_LEN);
	if (keylen > 0)
		memcpy(c->addr, peer_addr_key, keylen);
	c->addr_len = keylen;
	c->send = send;
	c->arg = arg;
	c->initial_rto_us = ctx->initial_rto_ms * 1000u;
	c->deadline = now_ms() + ctx->deadline_ms;

	c->ssl = SSL_new(ctx->ssl_ctx);
	rb = BIO_new(bio_in_method);
	wb = BIO_new(bio_out_method);
	if (c->ssl == NULL || rb == NULL || wb == NULL)
		goto fail;
	BIO_set_data(rb, c);
	BIO_set_init(rb, 1);
	BIO_set_data(wb, c);
	BIO_set_init(wb, 1);
	SSL_set_bio(c->ssl, rb, wb);   /* the SSL owns both from here */
	rb = wb = NULL;
	if (SSL_set_app_data(c->ssl, c) != 1 ||
	    SSL_set_mtu(c->ssl, DTLS_MTU) <= 0)   /* returns the MTU */
		goto fail;
	if (!ctx->cookies)
		SSL_clear_options(c->ssl, SSL_OP_COOKIE_EXCHANGE);
	DTLS_set_timer_cb(c->ssl, on_timer);
	SSL_set_accept_state(c->ssl);
	*out = c;
	return 0;
fail:
	ERR_clear_error();
	BIO_free(rb);
	BIO_free(wb);
	SSL_free(c->ssl);
	free(c);
	return -ENOMEM;
}

void dtls_conn_free(struct dtls_conn *c)
{
	if (c == NULL)
		return;
	/* SSL_free cleanses OpenSSL's own key material. */
	SSL_free(c->ssl);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* The handshake finished: fingerprint (again, belt and braces) and SRTP
 * profile must be right before the conn counts as connected. */
static int handshake_done(struct dtls_conn *c)
{
	const SRTP_PROTECTION_PROFILE *prof;
	X509 *peer = SSL_get0_peer_certificate(c->ssl);

	if (peer == NULL || !cert_matches(peer, c->expected_fp)) {
		fail(c, "certificate does not match the SDP fingerprint");
		return -EACCES;
	}
	prof = SSL_get_selected_srtp_profile(c->ssl);
	if (prof == NULL || (prof->id != DTLS_SRTP_AEAD_AES_128_GCM &&
			     prof->id != DTLS_SRTP_AES128_CM_SHA1_80)) {
		fail(c, "no SRTP profile negotiated");
		return -EPROTO;
	}
	c->profile = (enum dtls_srtp_profile)prof->id;
	c->state = DTLS_STATE_CONNECTED;
	return 1;
}

/* After SSL_do_handshake/SSL_read returned n <= 0: classify. */
static int ssl_failed(struct dtls_conn *c, int n)
{
	int e = SSL_get_error(c->ssl, n);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN) {
		/* close_notify: answer it (RFC 5246 §7.2.1) and stop. */
		if (c->state == DTLS_STATE_CONNECTED)
			(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
		c->state = DTLS_STATE_CLOSED;
		c->reason = "peer closed";
		return 0;
	}
	if (c->fp_mismatch) {
		fail(c, "certificate does not match the SDP fingerprint");
		return -EACCES;
	}
	fail(c, c->peer_fatal ? "peer sent a fatal alert" : "handshake failed");
	return -EPROTO;
}

/* Reads whatever records remain once connected: alerts, close_notify, a
 * retransmitted client flight (which makes OpenSSL resend its last
 * flight), application data (discarded). */
static int drain(struct dtls_conn *c)
{
	uint8_t buf[DTLS_DRAIN_BUF];
	int n;

	for (;;) {
		ERR_clear_error();
		n = SSL_read(c->ssl, buf, (int)sizeof(buf));
		if (n <= 0)
			break;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return ssl_failed(c, n);
}

int dtls_conn_input(struct dtls_conn *c, const uint8_t *p, size_t len)
{
	int ret = 0, n;

	if (c->state != DTLS_STATE_HANDSHAKING &&
	    c->state != DTLS_STATE_CONNECTED)
		return -ENOTCONN;
	if (len == 0 || len > INT_MAX)
		return 0;
	c->in = p;
	c->in_len = len;
	if (c->state == DTLS_STATE_HANDSHAKING) {
		ERR_clear_error();
		n = SSL_do_handshake(c->ssl);
		if (n == 1)
			ret = handshake_done(c);
		else
			ret = ssl_failed(c, n);
	}
	/* Records after the client's Finished in the same datagram, or any
	 * datagram once connected. */
	if (c->state == DTLS_STATE_CONNECTED && ret >= 0) {
		int r = drain(c);
		if (r < 0)
			ret = r;
	}
	c->in = NULL;
	c->in_len = 0;
	out_flush(c);
	ERR_clear_error();
	return ret;
}

int dtls_conn_timeout_ms(struct dtls_conn *c)
{
	struct timeval tv;
	uint64_t now, left, rto;

	if (c->state != DTLS_STATE_HANDSHAKING)
		return -1;
	now = now_ms();
	left = c->deadline > now ? c->deadline - now : 0;
	if (DTLSv1_get_timeout(c->ssl, &tv) == 1) {
		rto = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
		if (rto < left)
			left = rto;
	}
	return left > INT_MAX ? INT_MAX : (int)left;
}

int dtls_conn_handle_timeout(struct dtls_conn *c)
{
	int n;

	if (c->state != DTLS_STATE_HANDSHAKING)
		return 0;
	if (now_ms() >= c->deadline) {
		fail(c, "handshake deadline passed");
		return -ETIMEDOUT;
	}
	ERR_clear_error();
	n = DTLSv1_handle_timeout(c->ssl);
	out_flush(c);
	ERR_clear_error();
	if (n < 0) {
		fail(c, "retransmissions exhausted");
		return -ETIMEDOUT;
	}
	return 0;
}

void dtls_conn_close(struct dtls_conn *c)
{
	if (c->state == DTLS_STATE_CONNECTED) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
		out_flush(c);
		ERR_clear_error();
	}
	if (c->state == DTLS_STATE_HANDSHAKING || c->state == DTLS_STATE_CONNECTED) {
		c->state = DTLS_STATE_CLOSED;
		c->reason = "closed locally";
	}
}

enum dtls_state dtls_conn_state(const struct dtls_conn *c)
{
	return c->state;
}

const char *dtls_conn_reason(const struct dtls_conn *c)
{
	return c->reason;
}

enum dtls_srtp_profile dtls_conn_srtp_profile(const struct dtls_conn *c)
{
	return c->state == DTLS_STATE_CONNECTED ? c->profile : DTLS_SRTP_NONE;
}

/* ---- SRTP keys ---------------------------------------------------------- */

size_t dtls_srtp_block_len(enum dtls_srtp_profile profile)
{
	switch (profile) {
	case DTLS_SRTP_AES128_CM_SHA1_80:
		return 2 * (DTLS_SRTP_KEY_LEN + DTLS_SRTP_SALT_LEN_CM);
	case DTLS_SRTP_AEAD_AES_128_GCM:
		return 2 * (DTLS_SRTP_KEY_LEN + DTLS_SRTP_SALT_LEN_GCM);
	default:
		return 0;
	}
}

int dtls_srtp_keys_split(enum dtls_srtp_profile profile, const uint8_t *block,
			 size_t len, struct dtls_srtp_keys *out)
{
	size_t need = dtls_srtp_block_len(profile);
	size_t k = DTLS_SRTP_KEY_LEN, s;
	struct dtls_srtp_keys keys;

	if (need == 0 || block == NULL || len != need)
		return -EINVAL;
	s = need / 2 - k;
	memset(&keys, 0, sizeof(keys));
	keys.profile = profile;
	keys.key_len = k;
	keys.salt_len = s;
	memcpy(keys.client_key, block, k);
	memcpy(keys.server_key, block + k, k);
	memcpy(keys.client_salt, block + 2 * k, s);
	memcpy(keys.server_salt, block + 2 * k + s, s);
	*out = keys;
	OPENSSL_cleanse(&keys, sizeof(keys));
	return 0;
}

void dtls_srtp_keys_wipe(struct dtls_srtp_keys *keys)
{
	OPENSSL_cleanse(keys, sizeof(*keys));
}

int dtls_conn_srtp_keys(struct dtls_conn *c, struct dtls_srtp_keys *out)
{
	uint8_t block[DTLS_SRTP_BLOCK_MAX];
	size_t n;
	int err;

	if (c->state != DTLS_STATE_CONNECTED)
		return -ENOTCONN;
	if (c->keys_taken)
		return -EALREADY;
	n = dtls_srtp_block_len(c->profile);
	if (n == 0)
		return -EIO;
	if (SSL_export_keying_material(c->ssl, block, n, dtls_srtp_label,
				       sizeof(dtls_srtp_label) - 1, NULL, 0,
				       0) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	err = dtls_srtp_keys_split(c->profile, block, n, out);
	OPENSSL_cleanse(block, sizeof(block));
	if (err == 0)
		c->keys_taken = true;
	return err;
}

/* ---- record demux ------------------------------------------------------- */

/* A handshake fragment (RFC 6347 §4.2.2) that is a ClientHello and whose
 * fragment header is consistent with the record it sits in. */
static bool is_client_hello(const uint8_t *p, size_t len)
{
	struct cur c = cur_make(p, len);
	uint8_t type;
	uint16_t msg_seq;
	uint32_t msg_len, frag_off, frag_len;

	if (cur_u8(&c, &type) < 0 || cur_u24(&c, &msg_len) < 0 ||
	    cur_u16(&c, &msg_seq) < 0 || cur_u24(&c, &frag_off) < 0 ||
	    cur_u24(&c, &frag_len) < 0)
		return false;
	(void)msg_seq;
	return type == DTLS_HS_CLIENT_HELLO && frag_len <= cur_left(&c) &&
	       frag_off <= msg_len && frag_len <= msg_len - frag_off;
}

int dtls_record_peek(const uint8_t *p, size_t len, struct dtls_record_info *out)
{
	struct cur c = cur_make(p, len);
	struct dtls_record_info info;
	const uint8_t *frag;
	uint8_t type;
	uint16_t version, epoch, seq_hi, flen;
	uint32_t seq_lo;

	if (p == NULL)
		return -EBADMSG;
	if (cur_u8(&c, &type) < 0 || type < DTLS_CT_MIN || type > DTLS_CT_MAX ||
	    cur_u16(&c, &version) < 0 ||
	    (version != DTLS_VERSION_1_0 && version != DTLS_VERSION_1_2) ||
	    cur_u16(&c, &epoch) < 0 || cur_u16(&c, &seq_hi) < 0 ||
	    cur_u32(&c, &seq_lo) < 0 || cur_u16(&c, &flen) < 0 ||
	    cur_bytes(&c, flen, &frag) < 0)
		return -EBADMSG;
	memset(&info, 0, sizeof(info));
	info.content_type = type;
	info.version = version;
	info.epoch = epoch;
	info.seq = ((uint64_t)seq_hi << 32) | seq_lo;
	info.length = flen;
	info.record_len = DTLS_RECORD_HDR_LEN + (size_t)flen;
	info.client_hello = type == DTLS_CT_HANDSHAKE && epoch == 0 &&
			    flen >= DTLS_HS_HDR_LEN && is_client_hello(frag, flen);
	*out = info;
	return 0;
}
