/*
 * loadgen — the media half of the benchmark's load generator.
 *
 * bench/run.mjs speaks signaling (conclave's WebSocket, Janus's API) and
 * writes session descriptions; this process does the media of every
 * simulated participant: ICE (the checking side: USE-CANDIDATE, consent
 * every CONSENT_MS, and answers to a full-ICE server's own checks),
 * DTLS 1.2 (client or server role, OpenSSL with memory BIOs, use_srtp),
 * SRTP (libsrtp2), and then:
 *
 *   publishers  send paced RTP: video at 30 frames/s, VIDEO_PKTS packets per
 *               frame (marker on the last), a key frame of VIDEO_KEY_PKTS
 *               packets every KEYFRAME_EVERY frames or after a PLI/FIR;
 *               audio every 20 ms. Each payload starts with a clear
 *               (inside SRTP) header: send time, publisher id, packet
 *               counter, flags.
 *   subscribers count what arrives per SSRC, check the sequence numbers
 *               (the RTP header is clear in SRTP), decrypt to read the
 *               send time (delay histogram) and flags (first key frame).
 *
 * Why C: the load generator must outrun the server it measures on one
 * core of a two-core machine; libdatachannel through node delivers every
 * packet to JavaScript, which costs several times what the server spends.
 * Here a subscriber packet costs one recvmmsg slot and one AES-GCM
 * decryption.
 *
 * Control: one command per line on stdin, answers and events one per line
 * on stdout (see the table in cmd()). Single-threaded: one epoll loop over
 * one UDP socket per transport (an ICE transport is a 5-tuple) and stdin.
 *
 * Counting windows: `mark` starts a window, `stop` ends it. A packet counts
 * for the window by its *send time* (read from the payload), so packets in
 * flight at either edge are attributed exactly: a subscriber must receive,
 * per publisher, exactly what that publisher sent in the window.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <srtp2/srtp.h>

#include "stun/stun.h"

enum {
	MAX_EPS = 4096,            /* transports per process */
	MTU = 1500,
	RECV_BATCH = 64,
	DTLS_MTU = 1200,           /* datagrams we emit while handshaking */
	CHECK_FAST_MS = 50,        /* ICE checks until the first success */
	CONSENT_MS = 2500,         /* then consent checks (RFC 7675: < 5 s) */
	TICK_US = 1000,            /* pacing granularity */
	VIDEO_FPS = 30,
	VIDEO_PKTS = 5,            /* packets of an ordinary frame */
	VIDEO_KEY_PKTS = 20,       /* packets of a key frame */
	KEYFRAME_EVERY = 60,       /* frames: a key frame every 2 s */
	VIDEO_PAYLOAD = 1100,      /* + 0..99 bytes, + 12 RTP + 16 tag ≈ 1.2 kB */
	AUDIO_PERIOD_US = 20000,
	AUDIO_PAYLOAD = 100,
	PAY_HDR = 20,              /* our header at the start of each payload */
	MAX_CATCHUP_US = 200000,   /* publishing late by more than this: skip ahead */
	SSRC_SLOTS = 1024,         /* per-subscriber SSRC table (power of 2) */
	MAX_STREAMS = 2,           /* per publisher: audio, video */
	HIST_FINE = 20000,         /* delay buckets of 1 µs up to 20 ms */
	HIST_COARSE = 2000,        /* then 1 ms up to 2 s */
	SOCK_BUF = 2 << 20,
};

enum flag { F_KEY = 1, F_FIRST = 2, F_VIDEO = 4 };

struct pstream {
	bool on, video;
	uint32_t ssrc;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint64_t next_us;
	uint32_t period_us;      /* audio: AUDIO_PERIOD_US, or longer for DTX */
	uint32_t frame;
	uint32_t counter;
	uint64_t sent, sent_win;
};

struct sstat {                    /* one received SSRC of one subscriber */
	uint32_t ssrc;            /* 0 = free slot */
	uint32_t pub;             /* publisher id, from the payload */
	bool video;
	uint32_t ext_max;         /* extended highest sequence number */
	uint32_t first;
	uint64_t rx, rx_win, lost, late;
	bool have_kf;
};

struct ep {
	bool used, pub;
	uint32_t id;
	int fd;
	uint16_t lport;
	char lufrag[12], lpwd[28];
	char rufrag[160], rpwd[160];
	struct sockaddr_in raddr;
	bool have_remote;
	bool dtls_server;
	uint8_t rfp[32];
	SSL *ssl;
	BIO *rbio, *wbio;
	bool ice_ok, up, failed;
	bool controlled;              /* lost a role conflict (RFC 8445 §7.3.1.1) */
	uint32_t profile;
	srtp_t tx, rx;
	uint64_t next_check_ms;
	uint64_t t_remote_us, t_up_us, t_kf_us;   /* ICE start, SRTP up, first key frame */
	/* publisher */
	struct pstream st[MAX_STREAMS];
	bool sending, kf_request;
	uint64_t plis;
	/* subscriber */
	struct sstat *ss;             /* SSRC_SLOTS entries, lazily */
	uint32_t nss;
	uint64_t rx_rtp, rx_rtcp, rx_bytes, auth_fail, rx_win, not_ours;
};

static struct ep eps[MAX_EPS];
static int epfd, tfd;
static SSL_CTX *ctx_client, *ctx_server;
static char fp_text[32 * 3];
static uint64_t mark_us, stop_us;     /* window; stop_us 0 = open */
static bool window;
static bool held;                      /* every publisher paused ("stop hold") */
static uint64_t hist_fine[HIST_FINE], hist_coarse[HIST_COARSE], hist_over, hist_n;
/* how late publishers sent in the window, against their schedule (a
 * frame or an audio packet per item; the pacing tick is TICK_US): items,
 * how many more than 1, 2 and 5 ms late, the latest (µs) */
static uint64_t late_n, late_over[3], late_max_us;
static uint64_t tx_packets, tx_errors;
static uint32_t rng = 2463534242u;
static bool debug;
#define DBG(...) do { if (debug) { fprintf(stderr, "loadgen: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void rand_text(char *dst, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[64];
	RAND_bytes(r, (int)n);
	for (size_t i = 0; i < n; i++)
		dst[i] = a[r[i] % 62];
	dst[n] = 0;
}

/* ---- DTLS ---------------------------------------------------------------- */

static int verify_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1; /* the fingerprint is checked once the handshake is done */
}

/* The SRTP profiles offered: AES-GCM first, as libdatachannel does
 * (Chromium offers both with AES-CM first; either way a server that lists
 * GCM first, as conclave and Janus do, picks GCM). BENCH_SRTP=cm offers
 * only AES_CM_128_HMAC_SHA1_80, to measure servers on that path. */
static const char *srtp_profiles(void)
{
	const char *v = getenv("BENCH_SRTP");

	if (v != NULL && strcmp(v, "cm") == 0)
		return "SRTP_AES128_CM_SHA1_80";
	return "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
}

static SSL_CTX *make_ctx(bool server, EVP_PKEY *key, X509 *cert)
{
	SSL_CTX *c = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
	if (!c || SSL_CTX_use_certificate(c, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c, key) != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(c, srtp_profiles()) != 0)
		return NULL;
	SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION);
	SSL_CTX_set_options(c, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
	SSL_CTX_set_read_ahead(c, 1);
	return c;
}

static int dtls_init(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	uint8_t md[32];
	unsigned n = 0;

	if (!key || !x)
		return -1;
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(xrand() & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"loadgen", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) <= 0 ||
	    X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++)
		sprintf(fp_text + 3 * i, i == 31 ? "%02X" : "%02X:", md[i]);
	ctx_client = make_ctx(false, key, x);
	ctx_server = make_ctx(true, key, x);
	return ctx_client && ctx_server ? 0 : -1;
}

static void ep_sendto(struct ep *e, const uint8_t *p, size_t len)
{
	if (sendto(e->fd, p, len, 0, (struct sockaddr *)&e->raddr, sizeof(e->raddr)) < 0)
		tx_errors++;
	else
		tx_packets++;
}

/* Sends what OpenSSL wrote, cut at record boundaries into datagrams. */
static void dtls_flush(struct ep *e)
{
	uint8_t buf[16384], dg[DTLS_MTU + 64];
	int n;
	size_t off = 0, dl = 0;

	while ((n = BIO_read(e->wbio, buf, sizeof(buf))) > 0) {
		off = 0;
		while (off + 13 <= (size_t)n) {
			size_t rl = 13 + get16(buf + off + 11);
			if (off + rl > (size_t)n)
				break;
			if (dl && dl + rl > DTLS_MTU) {
				ep_sendto(e, dg, dl);
				dl = 0;
			}
			if (rl > sizeof(dg)) { /* cannot happen with our MTU */
				off += rl;
				continue;
			}
			memcpy(dg + dl, buf + off, rl);
			dl += rl;
			off += rl;
		}
	}
	if (dl)
		ep_sendto(e, dg, dl);
}

static int srtp_make(srtp_t *s, uint32_t profile, const uint8_t *key,
		     const uint8_t *salt, size_t salt_len, bool inbound)
{
	srtp_policy_t p;
	uint8_t master[16 + 14];

	memset(&p, 0, sizeof(p));
	if (profile == SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
	}
	memcpy(master, key, 16);
	memcpy(master + 16, salt, salt_len);
	p.key = master;
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.window_size = 1024;
	p.allow_repeat_tx = 0;
	int rc = srtp_create(s, &p);
	OPENSSL_cleanse(master, sizeof(master));
	return rc == srtp_err_status_ok ? 0 : -1;
}

static void ep_fail(struct ep *e, const char *why)
{
	if (e->failed)
		return;
	e->failed = true;
	out("fail %u %s", e->id, why);
}

static void dtls_done(struct ep *e)
{
	X509 *peer = SSL_get1_peer_certificate(e->ssl);
	const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(e->ssl);
	uint8_t md[32], block[60];
	unsigned n = 0;
	size_t salt;

	if (!peer || X509_digest(peer, EVP_sha256(), md, &n) != 1 ||
	    memcmp(md, e->rfp, 32) != 0) {
		X509_free(peer);
		ep_fail(e, "fingerprint");
		return;
	}
	X509_free(peer);
	if (!sp || (sp->id != SRTP_AEAD_AES_128_GCM && sp->id != SRTP_AES128_CM_SHA1_80)) {
		ep_fail(e, "srtp-profile");
		return;
	}
	e->profile = (uint32_t)sp->id;
	salt = sp->id == SRTP_AEAD_AES_128_GCM ? 12 : 14;
	if (SSL_export_keying_material(e->ssl, block, 2 * (16 + salt),
				       "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) != 1) {
		ep_fail(e, "export");
		return;
	}
	/* client_key | server_key | client_salt | server_salt (RFC 5764 §4.2) */
	const uint8_t *ck = block, *sk = block + 16, *cs = block + 32, *ssalt = block + 32 + salt;
	bool srv = e->dtls_server;
	if (srtp_make(&e->tx, e->profile, srv ? sk : ck, srv ? ssalt : cs, salt, false) ||
	    srtp_make(&e->rx, e->profile, srv ? ck : sk, srv ? cs : ssalt, salt, true)) {
		OPENSSL_cleanse(block, sizeof(block));
		ep_fail(e, "srtp");
		return;
	}
	OPENSSL_cleanse(block, sizeof(block));
	e->up = true;
	e->t_up_us = now_us();
	out("up %u %s %.3f", e->id, e->profile == SRTP_AEAD_AES_128_GCM ? "gcm" : "cm",
	    (double)(e->t_up_us - e->t_remote_us) / 1000.0);
}

static void dtls_drive(struct ep *e)
{
	int rc;

	if (e->up || e->failed)
		return;
	rc = SSL_do_handshake(e->ssl);
	dtls_flush(e);
	if (rc == 1) {
		dtls_done(e);
		return;
	}
	int err = SSL_get_error(e->ssl, rc);
	DBG("ep %u: handshake rc %d err %d", e->id, rc, err);
	if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
		ep_fail(e, "dtls");
}

static void dtls_start(struct ep *e)
{
	if (e->ssl)
		return;
	e->ssl = SSL_new(e->dtls_server ? ctx_server : ctx_client);
	e->rbio = BIO_new(BIO_s_mem());
	e->wbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(e->rbio, -1);
	SSL_set_bio(e->ssl, e->rbio, e->wbio);
	SSL_set_mtu(e->ssl, DTLS_MTU);
	if (e->dtls_server)
		SSL_set_accept_state(e->ssl);
	else
		SSL_set_connect_state(e->ssl);
	dtls_drive(e);
}

/* ---- ICE ----------------------------------------------------------------- */

static void ice_check(struct ep *e, uint64_t now_ms)
{
	uint8_t buf[512], tid[STUN_TID_LEN];
	char user[200];
	size_t len;
	struct stun_binding_request req;

	RAND_bytes(tid, sizeof(tid));
	snprintf(user, sizeof(user), "%s:%s", e->rufrag, e->lufrag);
	memset(&req, 0, sizeof(req));
	req.tid = tid;
	req.username = user;
	req.priority = 0x6e0001ff;
	req.role = e->controlled ? STUN_ROLE_CONTROLLED : STUN_ROLE_CONTROLLING;
	req.tiebreaker = ((uint64_t)xrand() << 32) | xrand();
	req.use_candidate = !e->controlled;
	if (stun_write_binding_request(buf, sizeof(buf), &req, e->rpwd,
				       strlen(e->rpwd), &len) == 0)
		ep_sendto(e, buf, len);
	e->next_check_ms = now_ms + (e->ice_ok ? CONSENT_MS : CHECK_FAST_MS);
}

/* The path works: a check of ours was answered, or the server's check to
 * us arrived (a full-ICE server that offered is the controlling agent). */
static void ice_up(struct ep *e)
{
	if (e->ice_ok)
		return;
	e->ice_ok = true;
	e->next_check_ms = now_us() / 1000 + CONSENT_MS;
	if (!e->dtls_server)
		dtls_start(e);
}

static void on_stun(struct ep *e, const uint8_t *p, size_t len,
		    const struct sockaddr_in *from)
{
	struct stun_msg m;
	uint8_t buf[512];
	size_t olen;

	if (stun_decode(p, len, &m) != 0 || m.method != STUN_METHOD_BINDING) {
		DBG("ep %u: undecodable STUN", e->id);
		return;
	}
	DBG("ep %u: STUN class %d", e->id, (int)m.cls);
	if (m.cls == STUN_CLASS_SUCCESS) {
		if (stun_check_integrity(&m, p, e->rpwd, strlen(e->rpwd)) != 0)
			return;
		ice_up(e);
	} else if (m.cls == STUN_CLASS_ERROR) {
		if (m.has_error && m.error_code == STUN_ERR_ROLE_CONFLICT && !e->controlled) {
			DBG("ep %u: role conflict, now controlled", e->id);
			e->controlled = true;
		}
	} else if (m.cls == STUN_CLASS_REQUEST) {
		/* a full-ICE server checks us too (its triggered checks) */
		if (stun_check_integrity(&m, p, e->lpwd, strlen(e->lpwd)) != 0) {
			DBG("ep %u: check with bad integrity", e->id);
			return;
		}
		if (stun_write_binding_success(buf, sizeof(buf), m.tid,
					       (const struct sockaddr *)from, NULL,
					       e->lpwd, strlen(e->lpwd), &olen) == 0)
			sendto(e->fd, buf, olen, 0, (const struct sockaddr *)from, sizeof(*from));
		if (e->have_remote)
			ice_up(e);
	}
}

/* ---- publishing ----------------------------------------------------------- */

static void send_rtp(struct ep *e, struct pstream *s, bool marker, size_t paylen,
		     uint8_t flags)
{
	uint8_t buf[MTU];
	uint64_t t = now_us();
	int len;

	buf[0] = 0x80;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | s->pt);
	put16(buf + 2, s->seq++);
	put32(buf + 4, s->ts);
	put32(buf + 8, s->ssrc);
	uint8_t *pl = buf + 12;
	put64(pl, t);
	put32(pl + 8, e->id);
	put32(pl + 12, s->counter++);
	pl[16] = flags;
	pl[17] = pl[18] = pl[19] = 0;
	memset(pl + PAY_HDR, 0xa5, paylen - PAY_HDR);
	len = (int)(12 + paylen);
	if (srtp_protect(e->tx, buf, &len) != srtp_err_status_ok) {
		tx_errors++;
		return;
	}
	ep_sendto(e, buf, (size_t)len);
	s->sent++;
	if (window && t >= mark_us && !stop_us)
		s->sent_win++;
}

static void publish_due(struct ep *e, uint64_t t)
{
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct pstream *s = &e->st[i];
		if (!s->on)
			continue;
		/* after a stall of this process, skip what is long overdue instead
		 * of bursting it out (an encoder would drop those frames too) */
		if (t > s->next_us + MAX_CATCHUP_US)
			s->next_us = t;
		while (s->next_us <= t) {
			if (window && t >= mark_us && !stop_us) {
				uint64_t late = t - s->next_us;
				late_n++;
				late_over[0] += late > 1000;
				late_over[1] += late > 2000;
				late_over[2] += late > 5000;
				if (late > late_max_us)
					late_max_us = late;
			}
			if (!s->video) {
				send_rtp(e, s, false, AUDIO_PAYLOAD, 0);
				s->ts += 960;
				s->next_us += s->period_us;
				continue;
			}
			bool key = s->frame % KEYFRAME_EVERY == 0 || e->kf_request;
			if (key && s->frame % KEYFRAME_EVERY != 0)
				s->frame = 0; /* a requested key frame restarts the GOP */
			e->kf_request = false;
			int n = key ? VIDEO_KEY_PKTS : VIDEO_PKTS;
			/* a frame of n x (VIDEO_PAYLOAD + 0..99) + 0..n-1 bytes, cut
			 * about equally as WebRTC's VP8 packetizer does: sizes
			 * differ by at most one byte, the larger packets first
			 * (until 2026-11-28 the frame was a multiple of n, all
			 * its packets of one size) */
			size_t frame = (size_t)n * (VIDEO_PAYLOAD + xrand() % 100) +
				       xrand() % (unsigned)n;
			for (int k = 0; k < n; k++)
				send_rtp(e, s, k == n - 1, frame / (size_t)n + ((size_t)k < frame % (size_t)n),
					 (uint8_t)(F_VIDEO | (key ? F_KEY : 0) | (k == 0 ? F_FIRST : 0)));
			s->ts += 90000 / VIDEO_FPS;
			s->frame++;
			s->next_us += 1000000 / VIDEO_FPS;
		}
	}
}

/* PLI (PSFB FMT 1) and FIR (PSFB FMT 4) in a compound RTCP packet. */
static void publisher_rtcp(struct ep *e, uint8_t *p, size_t len)
{
	int n = (int)len;

	if (srtp_unprotect_rtcp(e->rx, p, &n) != srtp_err_status_ok) {
		e->auth_fail++;
		return;
	}
	for (size_t off = 0; off + 4 <= (size_t)n;) {
		uint8_t fmt = p[off] & 0x1f, pt = p[off + 1];
		size_t plen = 4 + 4 * (size_t)get16(p + off + 2);
		if (pt == 206 && (fmt == 1 || fmt == 4)) {
			e->kf_request = true;
			e->plis++;
		}
		off += plen;
	}
}

/* ---- receiving ------------------------------------------------------------ */

static struct sstat *sstat_get(struct ep *e, uint32_t ssrc)
{
	if (!e->ss) {
		e->ss = calloc(SSRC_SLOTS, sizeof(*e->ss));
		if (!e->ss)
			return NULL;
	}
	uint32_t h = (ssrc * 2654435761u) & (SSRC_SLOTS - 1);
	for (uint32_t i = 0; i < SSRC_SLOTS; i++, h = (h + 1) & (SSRC_SLOTS - 1)) {
		if (e->ss[h].ssrc == ssrc)
			return &e->ss[h];
		if (e->ss[h].ssrc == 0) {
			e->ss[h].ssrc = ssrc;
			e->nss++;
			return &e->ss[h];
		}
	}
	return NULL;
}

static void hist_add(uint64_t d)
{
	if (d < HIST_FINE)
		hist_fine[d]++;
	else if (d / 1000 < HIST_COARSE)
		hist_coarse[d / 1000]++;
	else
		hist_over++;
	hist_n++;
}

static void subscriber_rtp(struct ep *e, uint8_t *p, size_t len, uint64_t t)
{
	uint32_t ssrc = get32(p + 8);
	uint16_t seq = get16(p + 2);
	int n = (int)len;
	struct sstat *s = sstat_get(e, ssrc);

	if (!s)
		return;
	/* sequence from the clear header */
	if (s->rx == 0 && s->lost == 0 && s->late == 0) {
		s->ext_max = seq;
		s->first = seq;
	} else {
		uint16_t d = (uint16_t)(seq - (uint16_t)s->ext_max);
		if (d == 0) {
			s->late++; /* duplicate */
			return;
		} else if (d < 0x8000) {
			s->lost += d - 1u;
			s->ext_max += d;
		} else {
			s->late++; /* older than the highest: reordered */
			if (s->lost)
				s->lost--;
		}
	}
	if (srtp_unprotect(e->rx, p, &n) != srtp_err_status_ok) {
		e->auth_fail++;
		return;
	}
	size_t hl = 12 + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if ((size_t)n < hl + 4)
			return;
		hl += 4 + 4u * get16(p + hl + 2);
	}
	if ((size_t)n < hl + PAY_HDR) {
		e->not_ours++;
		return;
	}
	const uint8_t *pl = p + hl;
	uint64_t sent = get64(pl);
	uint8_t flags = pl[16];
	s->pub = get32(pl + 8);
	s->video = flags & F_VIDEO;
	s->rx++;
	e->rx_rtp++;
	e->rx_bytes += len;
	if (!s->have_kf && (flags & F_KEY) && (flags & F_FIRST)) {
		s->have_kf = true;
		if (!e->t_kf_us)
			e->t_kf_us = t;
	}
	if (window && sent >= mark_us && (!stop_us || sent < stop_us)) {
		s->rx_win++;
		e->rx_win++;
		hist_add(t > sent ? t - sent : 0);
	}
}

static void on_datagram(struct ep *e, uint8_t *p, size_t len,
			const struct sockaddr_in *from, uint64_t t)
{
	uint8_t b0 = p[0];

	if (b0 < 4) {
		on_stun(e, p, len, from);
	} else if (b0 >= 20 && b0 <= 63) {
		if (!e->ssl) {
			if (!e->dtls_server)
				return;
			dtls_start(e);
		}
		BIO_write(e->rbio, p, (int)len);
		if (!e->up)
			dtls_drive(e);
		else {
			uint8_t junk[2048]; /* alerts, close_notify */
			(void)SSL_read(e->ssl, junk, sizeof(junk));
		}
	} else if (b0 >= 128 && b0 <= 191 && e->up) {
		uint8_t pt = p[1] & 0x7f;
		if (pt >= 64 && pt <= 95) {
			e->rx_rtcp++;
			if (e->pub)
				publisher_rtcp(e, p, len);
		} else if (!e->pub) {
			subscriber_rtp(e, p, len, t);
		}
	}
}

static void ep_readable(struct ep *e)
{
	static struct mmsghdr msgs[RECV_BATCH];
	static struct iovec iov[RECV_BATCH];
	static struct sockaddr_in from[RECV_BATCH];
	static uint8_t bufs[RECV_BATCH][MTU];
	int n;

	do {
		for (int i = 0; i < RECV_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = MTU;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(e->fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		uint64_t t = now_us();
		for (int i = 0; i < n; i++)
			if (msgs[i].msg_len > 0)
				on_datagram(e, bufs[i], msgs[i].msg_len, &from[i], t);
	} while (n == RECV_BATCH);
}

/* ---- endpoints and commands ------------------------------------------------ */

static struct ep *ep_find(uint32_t id)
{
	for (int i = 0; i < MAX_EPS; i++)
		if (eps[i].used && eps[i].id == id)
			return &eps[i];
	return NULL;
}

static void ep_new(uint32_t id, bool pub, const char *bind_ip)
{
	struct ep *e = NULL;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int buf = SOCK_BUF;

	for (int i = 0; i < MAX_EPS; i++)
		if (!eps[i].used) {
			e = &eps[i];
			break;
		}
	if (!e || ep_find(id)) {
		out("error ep %u", id);
		return;
	}
	memset(e, 0, sizeof(*e));
	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(e->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(e->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, bind_ip, &sin.sin_addr);
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(e->fd, (struct sockaddr *)&sin, &sl) != 0) {
		out("error ep %u bind: %s", id, strerror(errno));
		if (e->fd >= 0)
			close(e->fd);
		return;
	}
	e->used = true;
	e->id = id;
	e->pub = pub;
	e->lport = ntohs(sin.sin_port);
	rand_text(e->lufrag, 8);
	rand_text(e->lpwd, 24);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = e };
	epoll_ctl(epfd, EPOLL_CTL_ADD, e->fd, &ev);
	out("ep %u %u %s %s", id, e->lport, e->lufrag, e->lpwd);
}

static int parse_fp(const char *s, uint8_t fp[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(s + 3 * i, "%2x", &v) != 1)
			return -1;
		fp[i] = (uint8_t)v;
	}
	return 0;
}

static void ep_close(struct ep *e)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL);
	close(e->fd);
	if (e->ssl)
		SSL_free(e->ssl);
	if (e->tx)
		srtp_dealloc(e->tx);
	if (e->rx)
		srtp_dealloc(e->rx);
	free(e->ss);
	memset(e, 0, sizeof(*e));
}

static double hist_pct(double q)
{
	uint64_t want = (uint64_t)(q * (double)hist_n), acc = 0;
	if (!hist_n)
		return -1;
	for (int i = 0; i < HIST_FINE; i++)
		if ((acc += hist_fine[i]) > want)
			return i / 1000.0;
	for (int i = 0; i < HIST_COARSE; i++)
		if ((acc += hist_coarse[i]) > want)
			return i;
	return 2000;
}

static void stats(void)
{
	char *buf;
	size_t cap;
	FILE *f = open_memstream(&buf, &cap);
	bool first = true;

	fprintf(f, "stats {\"t\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"tx_errors\":%" PRIu64
		   ",\"delay\":{\"n\":%" PRIu64 ",\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}"
		   ",\"send_late\":{\"n\":%" PRIu64 ",\"over1ms\":%" PRIu64 ",\"over2ms\":%" PRIu64
		   ",\"over5ms\":%" PRIu64 ",\"max_ms\":%.3f},\"eps\":[",
		now_us(), tx_packets, tx_errors, hist_n, hist_pct(0.5), hist_pct(0.9),
		hist_pct(0.99), hist_pct(0.999), hist_pct(1.0 - 1e-12),
		late_n, late_over[0], late_over[1], late_over[2], (double)late_max_us / 1000.0);
	for (int i = 0; i < MAX_EPS; i++) {
		struct ep *e = &eps[i];
		if (!e->used)
			continue;
		fprintf(f, "%s{\"id\":%u,\"pub\":%s,\"up\":%s,\"failed\":%s,\"t_up_ms\":%.3f,\"kf_ms\":%.3f",
			first ? "" : ",", e->id, e->pub ? "true" : "false", e->up ? "true" : "false",
			e->failed ? "true" : "false",
			e->up ? (double)(e->t_up_us - e->t_remote_us) / 1000.0 : -1.0,
			/* a key frame in the same receive batch as the handshake's
			 * end carries that batch's earlier time stamp: count 0 */
			e->t_kf_us ? (e->t_kf_us > e->t_up_us ? (double)(e->t_kf_us - e->t_up_us) / 1000.0 : 0.0) : -1.0);
		first = false;
		if (e->pub) {
			uint64_t sent = 0, win = 0;
			for (int k = 0; k < MAX_STREAMS; k++) {
				sent += e->st[k].sent;
				win += e->st[k].sent_win;
			}
			fprintf(f, ",\"sent\":%" PRIu64 ",\"sent_win\":[%" PRIu64 ",%" PRIu64 "],\"plis\":%" PRIu64 "}",
				sent, e->st[0].sent_win, e->st[1].sent_win, e->plis);
			(void)win;
			continue;
		}
		uint64_t lost = 0, late = 0;
		fprintf(f, ",\"rx\":%" PRIu64 ",\"rx_win\":%" PRIu64 ",\"rtcp\":%" PRIu64
			   ",\"auth_fail\":%" PRIu64 ",\"not_ours\":%" PRIu64 ",\"from\":{",
			e->rx_rtp, e->rx_win, e->rx_rtcp, e->auth_fail, e->not_ours);
		bool f2 = true;
		for (int k = 0; e->ss && k < SSRC_SLOTS; k++) {
			struct sstat *s = &e->ss[k];
			if (!s->ssrc)
				continue;
			lost += s->lost;
			late += s->late;
			fprintf(f, "%s\"%u/%c\":%" PRIu64, f2 ? "" : ",", s->pub, s->video ? 'v' : 'a', s->rx_win);
			f2 = false;
		}
		fprintf(f, "},\"lost\":%" PRIu64 ",\"late\":%" PRIu64 "}", lost, late);
	}
	fprintf(f, "]}");
	fclose(f);
	out("%s", buf);
	free(buf);
}

static void cmd(char *line)
{
	char w[8][160];
	int n = sscanf(line, "%159s %159s %159s %159s %159s %159s %159s %159s",
		       w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
	struct ep *e;

	if (n <= 0)
		return;
	/* ep ID pub|sub BIND_IP               -> ep ID PORT UFRAG PWD */
	if (!strcmp(w[0], "ep") && n == 4) {
		ep_new((uint32_t)strtoul(w[1], NULL, 10), !strcmp(w[2], "pub"), w[3]);
	/* remote ID IP PORT UFRAG PWD FP client|server  -> later: up ID / fail ID */
	} else if (!strcmp(w[0], "remote") && n == 8 && (e = ep_find((uint32_t)strtoul(w[1], NULL, 10)))) {
		memset(&e->raddr, 0, sizeof(e->raddr));
		e->raddr.sin_family = AF_INET;
		inet_pton(AF_INET, w[2], &e->raddr.sin_addr);
		e->raddr.sin_port = htons((uint16_t)atoi(w[3]));
		snprintf(e->rufrag, sizeof(e->rufrag), "%s", w[4]);
		snprintf(e->rpwd, sizeof(e->rpwd), "%s", w[5]);
		if (parse_fp(w[6], e->rfp)) {
			out("error remote %u fingerprint", e->id);
			return;
		}
		e->dtls_server = !strcmp(w[7], "server");
		e->have_remote = true;
		e->t_remote_us = now_us();
		ice_check(e, e->t_remote_us / 1000);
	/* stream ID audio|video SSRC PT [PERIOD_US]: audio every 20 ms, or
	 * every PERIOD_US (a muted microphone on Opus DTX: 400 ms) */
	} else if (!strcmp(w[0], "stream") && (n == 5 || n == 6) && (e = ep_find((uint32_t)strtoul(w[1], NULL, 10)))) {
		struct pstream *s = &e->st[!strcmp(w[2], "video") ? 1 : 0];
		s->video = !strcmp(w[2], "video");
		s->ssrc = (uint32_t)strtoul(w[3], NULL, 10);
		s->pt = (uint8_t)atoi(w[4]);
		s->period_us = n == 6 ? (uint32_t)strtoul(w[5], NULL, 10) : AUDIO_PERIOD_US;
		if (s->period_us < 1000)
			s->period_us = AUDIO_PERIOD_US;
		s->seq = (uint16_t)xrand();
		s->ts = xrand();
	/* send ID 0|1: start (at a random phase) or stop publishing */
	} else if (!strcmp(w[0], "send") && n == 3 && (e = ep_find((uint32_t)strtoul(w[1], NULL, 10)))) {
		bool on = atoi(w[2]) != 0;
		uint64_t t = now_us();
		for (int k = 0; k < MAX_STREAMS; k++) {
			struct pstream *s = &e->st[k];
			if (!s->ssrc)
				continue;
			if (on && !s->on)
				s->next_us = t + xrand() % (s->video ? 1000000 / VIDEO_FPS : s->period_us);
			s->on = on;
		}
		out("send %u %d", e->id, on);
	/* mark: the window opens (and publishers held by "stop hold" go on,
	 * at their old phase, with nothing sent for the time they were held:
	 * what they send from here is in the window) */
	} else if (!strcmp(w[0], "mark")) {
		window = true;
		mark_us = now_us();
		stop_us = 0;
		if (held)
			for (int i = 0; i < MAX_EPS; i++)
				for (int k = 0; eps[i].used && k < MAX_STREAMS; k++) {
					struct pstream *s = &eps[i].st[k];
					uint64_t period = s->video ? 1000000 / VIDEO_FPS : s->period_us;
					if (s->on && s->next_us < mark_us)
						s->next_us += (mark_us - s->next_us + period - 1) / period * period;
				}
		held = false;
		memset(hist_fine, 0, sizeof(hist_fine));
		memset(hist_coarse, 0, sizeof(hist_coarse));
		hist_over = hist_n = 0;
		late_n = late_max_us = 0;
		memset(late_over, 0, sizeof(late_over));
		for (int i = 0; i < MAX_EPS; i++) {
			if (!eps[i].used)
				continue;
			eps[i].rx_win = 0;
			for (int k = 0; k < MAX_STREAMS; k++)
				eps[i].st[k].sent_win = 0;
			for (int k = 0; eps[i].ss && k < SSRC_SLOTS; k++)
				eps[i].ss[k].rx_win = 0;
		}
		out("mark %" PRIu64, mark_us);
	/* stop [hold]: the window closes; with "hold" every publisher stops
	 * sending too, until the next mark (so that what is counted by arrival,
	 * the sinks, can be read once all sent before it has arrived, and
	 * before anything newer) */
	} else if (!strcmp(w[0], "stop")) {
		stop_us = now_us();
		held = n == 2 && !strcmp(w[1], "hold");
		out("stop %" PRIu64, stop_us);
	} else if (!strcmp(w[0], "stats")) {
		stats();
	} else if (!strcmp(w[0], "close") && n == 2 && (e = ep_find((uint32_t)strtoul(w[1], NULL, 10)))) {
		uint32_t id = e->id;
		ep_close(e);
		out("closed %u", id);
	} else if (!strcmp(w[0], "ping")) {
		out("pong");
	} else if (!strcmp(w[0], "quit")) {
		exit(0);
	} else {
		out("error unknown %s", w[0]);
	}
}

static void on_stdin(void)
{
	static char buf[1 << 16];
	static size_t have;
	ssize_t n = read(0, buf + have, sizeof(buf) - 1 - have);
	char *nl, *start;

	if (n <= 0)
		exit(0); /* the driver is gone */
	have += (size_t)n;
	buf[have] = 0;
	start = buf;
	while ((nl = strchr(start, '\n'))) {
		*nl = 0;
		cmd(start);
		start = nl + 1;
	}
	have -= (size_t)(start - buf);
	memmove(buf, start, have);
}

static void tick(void)
{
	uint64_t t = now_us(), ms = t / 1000;

	for (int i = 0; i < MAX_EPS; i++) {
		struct ep *e = &eps[i];
		if (!e->used || !e->have_remote || e->failed)
			continue;
		if (ms >= e->next_check_ms)
			ice_check(e, ms);
		if (e->ssl && !e->up) {
			struct timeval tv;
			if (DTLSv1_get_timeout(e->ssl, &tv) && tv.tv_sec == 0 && tv.tv_usec == 0) {
				DTLSv1_handle_timeout(e->ssl);
				dtls_flush(e);
			}
			if (t - e->t_remote_us > 20000000)
				ep_fail(e, "timeout");
		}
		if (e->pub && e->up && !held)
			publish_due(e, t);
	}
}

/*
 * `loadgen --jitter SECONDS`: sleeps 1 ms in a loop and reports how late
 * the wake-ups come (JSON on stdout). Run beside the benchmark on the
 * server's core at the same priority, it shows how much of a measured
 * delay the machine's own scheduling adds (a shared or virtual machine can
 * hold a runnable thread off its core for a long time).
 */
static int jitter(int secs)
{
	struct timespec d = { 0, 1000000 };
	uint64_t end = now_us() + (uint64_t)secs * 1000000u, n = 0, max = 0;
	uint64_t over[3] = { 0, 0, 0 };

	while (now_us() < end) {
		uint64_t a = now_us();
		nanosleep(&d, NULL);
		uint64_t late = now_us() - a;
		late = late > 1000 ? late - 1000 : 0;
		n++;
		if (late > max)
			max = late;
		over[0] += late > 1000;
		over[1] += late > 10000;
		over[2] += late > 100000;
	}
	printf("{\"seconds\":%d,\"wakeups\":%" PRIu64 ",\"maxLateMs\":%.3f,\"over1ms\":%" PRIu64
	       ",\"over10ms\":%" PRIu64 ",\"over100ms\":%" PRIu64 "}\n",
	       secs, n, (double)max / 1000.0, over[0], over[1], over[2]);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 65536, 65536 };
	struct epoll_event evs[256];
	uint64_t last_tick = 0;

	if (argc == 3 && !strcmp(argv[1], "--jitter"))
		return jitter(atoi(argv[2]));
	debug = getenv("LOADGEN_DEBUG") != NULL;
	setrlimit(RLIMIT_NOFILE, &rl);
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	rng ^= (uint32_t)now_us() ^ (uint32_t)getpid() << 16;
	if (srtp_init() != srtp_err_status_ok || dtls_init() != 0) {
		fprintf(stderr, "loadgen: cannot initialise libsrtp2/OpenSSL\n");
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec its = { { 0, TICK_US * 1000 }, { 0, TICK_US * 1000 } };
	timerfd_settime(tfd, 0, &its, NULL);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
	ev.data.ptr = &tfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	out("fp %s", fp_text);
	for (;;) {
		int n = epoll_wait(epfd, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				on_stdin();
			} else if (evs[i].data.ptr == &tfd) {
				uint64_t x;
				if (read(tfd, &x, sizeof(x)) < 0)
					(void)0;
			} else {
				ep_readable(evs[i].data.ptr);
			}
		}
		uint64_t t = now_us();
		if (t - last_tick >= TICK_US) {
			last_tick = t;
			tick();
		}
	}
}
