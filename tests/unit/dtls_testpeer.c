/* dtls_testpeer — OpenSSL DTLS client wired to a dtls_conn (see .h). */
#include "dtls_testpeer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

enum { REC_CCS = 20 };

static void log_dgram(struct tdgram *log, size_t n, const uint8_t *p, size_t len)
{
	if (n < TLINK_MAX_DGRAMS && len <= TLINK_DGRAM_CAP) {
		memcpy(log[n].b, p, len);
		log[n].len = len;
	}
}

static void on_srv_send(const uint8_t *p, size_t len, void *arg)
{
	struct tlink *l = arg;
	struct dtls_record_info ri;
	size_t idx = l->srv_n++;

	log_dgram(l->srv_log, idx, p, len);
	if (len > l->max_srv_dgram)
		l->max_srv_dgram = len;
	if ((long)idx == l->drop_srv)
		return;
	if (l->drop_srv_ccs && dtls_record_peek(p, len, &ri) == 0) {
		/* look for a CCS in any record of the datagram */
		size_t off = 0;
		while (off < len && dtls_record_peek(p + off, len - off, &ri) == 0) {
			if (ri.content_type == REC_CCS) {
				l->drop_srv_ccs = false;
				return;
			}
			off += ri.record_len;
		}
	}
	if (l->qn < TLINK_MAX_DGRAMS && len <= TLINK_DGRAM_CAP) {
		memcpy(l->q[l->qn].b, p, len);
		l->q[l->qn].len = len;
		l->qn++;
	}
}

static int make_cert(EVP_PKEY **pk, X509 **xo)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;

	if (pkey == NULL || x == NULL)
		goto fail;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 12345);
	X509_set_version(x, X509_VERSION_3);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"test client", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, pkey);
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto fail;
	*pk = pkey;
	*xo = x;
	return 0;
fail:
	EVP_PKEY_free(pkey);
	X509_free(x);
	return -1;
}

static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

static int reject_all(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
	return 0;
}

static unsigned client_rto_us = 1000000;

static unsigned int cli_timer(SSL *s, unsigned int us)
{
	(void)s;
	return us == 0 ? client_rto_us : us * 2;
}

int tlink_open(struct tlink *l, const struct tlink_opts *o)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	uint8_t fp[DTLS_FP_LEN];
	unsigned int n = 0;
	static const uint8_t addr[] = { 127, 0, 0, 1, 0x30, 0x39 };

	memset(l, 0, sizeof(*l));
	l->drop_srv = -1;
	l->drop_cli = -1;
	if (dtls_ctx_new(&l->ctx) != 0)
		return -1;
	dtls_ctx_set_timers(l->ctx, o->server_rto_ms, 0);
	if (o->no_cookies)
		dtls_ctx_set_cookie_exchange(l->ctx, false);

	l->cctx = SSL_CTX_new(DTLS_client_method());
	if (l->cctx == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(l->cctx, DTLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(l->cctx, DTLS1_2_VERSION);
	SSL_CTX_set_verify(l->cctx, SSL_VERIFY_PEER,
			   o->client_rejects ? reject_all : accept_any);
	if (!o->no_client_cert) {
		if (make_cert(&pkey, &x) != 0)
			return -1;
		if (SSL_CTX_use_certificate(l->cctx, x) != 1 ||
		    SSL_CTX_use_PrivateKey(l->cctx, pkey) != 1)
			return -1;
		if (X509_digest(x, EVP_sha256(), fp, &n) != 1)
			return -1;
	} else {
		memset(fp, 0xab, sizeof(fp));
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	if (o->wrong_fp)
		fp[7] ^= 0x01;
	if (o->profiles != NULL &&
	    SSL_CTX_set_tlsext_use_srtp(l->cctx, o->profiles) != 0)
		return -1;
	SSL_CTX_set_options(l->cctx, SSL_OP_NO_QUERY_MTU);

	l->cli = SSL_new(l->cctx);
	l->crb = BIO_new(BIO_s_mem());
	l->cwb = BIO_new(BIO_s_mem());
	if (l->cli == NULL || l->crb == NULL || l->cwb == NULL)
		return -1;
	BIO_set_mem_eof_return(l->crb, -1);
	SSL_set_bio(l->cli, l->crb, l->cwb);
	SSL_set_mtu(l->cli, DTLS_MTU);
	client_rto_us = (o->client_rto_ms ? o->client_rto_ms : 1000) * 1000u;
	DTLS_set_timer_cb(l->cli, cli_timer);
	SSL_set_connect_state(l->cli);

	if (dtls_conn_new(l->ctx, fp, addr, sizeof(addr), on_srv_send, l,
			  &l->srv) != 0)
		return -1;
	return 0;
}

void tlink_close(struct tlink *l)
{
	dtls_conn_free(l->srv);
	dtls_ctx_free(l->ctx);
	SSL_free(l->cli);   /* frees the BIOs */
	SSL_CTX_free(l->cctx);
	ERR_clear_error();
	memset(l, 0, sizeof(*l));
}

bool tlink_client_done(const struct tlink *l)
{
	return SSL_is_init_finished(l->cli) == 1;
}

/* Hands one client datagram to the server (unless dropped). */
static void to_server(struct tlink *l, const uint8_t *p, size_t len)
{
	size_t idx = l->cli_n++;
	int r;

	log_dgram(l->cli_log, idx, p, len);
	if (len > l->max_cli_dgram)
		l->max_cli_dgram = len;
	if ((long)idx == l->drop_cli)
		return;
	r = dtls_conn_input(l->srv, p, len);
	if (r == 1)
		l->srv_completed++;
	else if (r < 0 && l->srv_err == 0)
		l->srv_err = r;
}

/* Runs the client once, then cuts its output into datagrams. */
static void client_step(struct tlink *l)
{
	static uint8_t out[65536];
	uint8_t junk[2048];
	size_t n = 0, off = 0, start = 0;
	int r;

	ERR_clear_error();
	if (!l->cli_failed) {
		if (!tlink_client_done(l)) {
			r = SSL_do_handshake(l->cli);
			if (r <= 0) {
				int e = SSL_get_error(l->cli, r);
				if (e != SSL_ERROR_WANT_READ &&
				    e != SSL_ERROR_WANT_WRITE)
					l->cli_failed = true;
			}
		} else {
			while (SSL_read(l->cli, junk, sizeof(junk)) > 0)
				;
		}
	}
	ERR_clear_error();
	while (n < sizeof(out)) {
		r = BIO_read(l->cwb, out + n, (int)(sizeof(out) - n));
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	/* Pack whole records into datagrams of at most DTLS_MTU. */
	while (off < n) {
		struct dtls_record_info ri;
		if (dtls_record_peek(out + off, n - off, &ri) != 0)
			break;
		if (off + ri.record_len - start > DTLS_MTU && off > start) {
			to_server(l, out + start, off - start);
			start = off;
		}
		off += ri.record_len;
	}
	if (off > start)
		to_server(l, out + start, off - start);
}

size_t tlink_pump(struct tlink *l)
{
	size_t moved = 0;

	client_step(l);
	while (l->qn > 0) {
		struct tdgram d = l->q[0];
		memmove(&l->q[0], &l->q[1], (l->qn - 1) * sizeof(l->q[0]));
		l->qn--;
		BIO_write(l->crb, d.b, (int)d.len);
		client_step(l);
		moved++;
	}
	return moved;
}

static long cli_timeout_ms(struct tlink *l)
{
	struct timeval tv;

	if (DTLSv1_get_timeout(l->cli, &tv) != 1)
		return -1;
	return tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void tlink_run(struct tlink *l, unsigned max_ms)
{
	long spent = 0;

	tlink_pump(l);
	while (spent < (long)max_ms && !l->cli_failed &&
	       dtls_conn_state(l->srv) <= DTLS_STATE_CONNECTED &&
	       !(tlink_client_done(l) &&
		 dtls_conn_state(l->srv) == DTLS_STATE_CONNECTED)) {
		long ts = dtls_conn_timeout_ms(l->srv);
		long tc = cli_timeout_ms(l);
		long t = ts < 0 ? tc : (tc < 0 ? ts : (ts < tc ? ts : tc));
		if (t < 0)
			break;
		if (t > 0) {
			sleep_ms(t);
			spent += t;
		} else {
			spent++;
		}
		if (ts >= 0 && ts <= t)
			dtls_conn_handle_timeout(l->srv);
		if (tc >= 0 && tc <= t)
			DTLSv1_handle_timeout(l->cli);
		tlink_pump(l);
	}
}

int tlink_client_retransmit(struct tlink *l, unsigned max_ms)
{
	long t = cli_timeout_ms(l);

	if (t < 0 || t > (long)max_ms)
		return -1;
	if (t > 0)
		sleep_ms(t);
	return DTLSv1_handle_timeout(l->cli);
}

int tlink_client_keys(struct tlink *l, struct dtls_srtp_keys *out)
{
	const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(l->cli);
	uint8_t block[DTLS_SRTP_BLOCK_MAX];
	size_t n;
	int err;

	if (p == NULL)
		return -ENOENT;
	n = dtls_srtp_block_len((enum dtls_srtp_profile)p->id);
	if (n == 0 || SSL_export_keying_material(l->cli, block, n,
						 "EXTRACTOR-dtls_srtp", 19,
						 NULL, 0, 0) != 1)
		return -EIO;
	err = dtls_srtp_keys_split((enum dtls_srtp_profile)p->id, block, n, out);
	OPENSSL_cleanse(block, sizeof(block));
	return err;
}

int tlink_server_fp_text(struct tlink *l, char out[DTLS_FP_TEXT_LEN])
{
	X509 *x = SSL_get0_peer_certificate(l->cli);
	uint8_t md[DTLS_FP_LEN];
	unsigned int n = 0;
	size_t i;

	if (x == NULL || X509_digest(x, EVP_sha256(), md, &n) != 1)
		return -1;
	for (i = 0; i < DTLS_FP_LEN; i++)
		snprintf(out + 3 * i, 4, i + 1 < DTLS_FP_LEN ? "%02X:" : "%02X",
			 md[i]);
	return 0;
}
