/*
 * srtp_bench — CPU time per SRTP protect of a 1,200-byte RTP packet:
 * libsrtp2 (as the distribution builds it) against conclave's srtps
 * sessions (AEAD_AES_128_GCM on Nettle, AES-CM-HMAC on libsrtp2).
 *
 *   make srtp-bench            (B=build; not part of make test)
 *   build/bench/srtp_bench [packets per run] [runs] [cold]
 *
 * Each run protects `packets` packets with consecutive sequence numbers
 * (copying the plain packet in first, as the forwarder does) and is
 * timed with CLOCK_THREAD_CPUTIME_ID, so time the thread spends waiting
 * for a shared core is not counted. Prints min / median / max µs per
 * protect over the runs.
 *
 * With `cold`, the caches are flushed before every packet (a 32 MiB
 * buffer is written, untimed) and each protect is timed alone, with the
 * monotonic clock (the thread clock is a system call, which would warm
 * what it measures): the state of a media worker that wakes up for a few
 * packets after other work ran on its core.
 *
 * Two lines time bare primitives on OpenSSL's EVP, contexts keyed once:
 * AES-128-GCM called as srtp_gcm.c did before it moved to Nettle (IV,
 * AAD, one update, final, tag), and the AES-CM-HMAC profile's AES-128-CTR
 * over the payload with HMAC-SHA1 over packet and ROC. Neither is an SRTP
 * implementation, only what such an engine would cost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <srtp2/srtp.h>

#include "dtls/dtls.h"
#include "srtp/srtp_session.h"

enum {
	PAYLOAD = 1188,          /* 12-byte header + 1188 = 1,200 bytes, issue 8 */
	DEFAULT_PACKETS = 20000,
	DEFAULT_RUNS = 15,
	MAX_RUNS = 1000,
	CAP = 1500,
	FLUSH_BYTES = 32 << 20,
	CACHE_LINE = 64,
	GCM_TAG = 16,
};

enum kind {
	LIBSRTP,                  /* libsrtp2 directly */
	SRTPS,                    /* conclave's sessions */
	PRIM_GCM,                 /* EVP AES-128-GCM primitive only */
	PRIM_CM,                  /* EVP AES-CTR + HMAC-SHA1 primitives only */
};

struct engine {
	const char *name;
	enum dtls_srtp_profile profile;
	enum kind kind;
	srtp_t lib;
	struct srtps *s;
	EVP_CIPHER_CTX *ctr;      /* AES-CTR or AES-GCM */
	EVP_MAC_CTX *hmac;
};

static uint8_t plain[CAP];
static uint8_t *flush_buf;    /* cold runs: written before each packet */

static void make_packet(uint16_t seq)
{
	plain[0] = 0x80;
	plain[1] = 96;
	plain[2] = (uint8_t)(seq >> 8);
	plain[3] = (uint8_t)seq;
	plain[8] = 0x12;
	plain[9] = 0x34;
	plain[10] = 0x56;
	plain[11] = 0x78;
}

static int setup(struct engine *e)
{
	uint8_t block[DTLS_SRTP_BLOCK_MAX], ks[30];
	struct dtls_srtp_keys k;
	srtp_policy_t pol;
	size_t i;

	for (i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(i * 37 + 11);
	if (dtls_srtp_keys_split(e->profile, block,
				 dtls_srtp_block_len(e->profile), &k) != 0)
		return -EINVAL;
	if (e->kind == PRIM_GCM) {
		e->ctr = EVP_CIPHER_CTX_new();
		if (e->ctr == NULL ||
		    EVP_EncryptInit_ex(e->ctr, EVP_aes_128_gcm(), NULL,
				       k.server_key, NULL) != 1)
			return -EIO;
		return 0;
	}
	if (e->kind == PRIM_CM) {
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		OSSL_PARAM par[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							 "SHA1", 0),
			OSSL_PARAM_construct_end(),
		};
		e->ctr = EVP_CIPHER_CTX_new();
		e->hmac = mac ? EVP_MAC_CTX_new(mac) : NULL;
		EVP_MAC_free(mac);
		if (e->ctr == NULL || e->hmac == NULL ||
		    EVP_EncryptInit_ex(e->ctr, EVP_aes_128_ctr(), NULL, k.server_key,
				       NULL) != 1 ||
		    EVP_MAC_init(e->hmac, block, 20, par) != 1)
			return -EIO;
		return 0;
	}
	if (e->kind == SRTPS)
		return srtps_new(&k, true, &e->s);
	memcpy(ks, k.server_key, 16);
	memcpy(ks + 16, k.server_salt, k.salt_len);
	memset(&pol, 0, sizeof(pol));
	if (e->profile == DTLS_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	}
	pol.ssrc.type = ssrc_any_outbound;
	pol.key = ks;
	pol.window_size = SRTPS_REPLAY_WINDOW;
	return srtp_create(&e->lib, &pol) == srtp_err_status_ok ? 0 : -EIO;
}

static double now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void flush_caches(void)
{
	for (size_t i = 0; i < FLUSH_BYTES; i += CACHE_LINE)
		flush_buf[i]++;
}

/* The EVP AES-GCM sequence srtp_gcm.c used per packet until it moved to
 * Nettle: IV in, header as AAD, payload in place, tag after it. */
static int evp_gcm_seal(EVP_CIPHER_CTX *c, uint8_t *buf)
{
	uint8_t iv[12] = { 0 };
	int ol;

	memcpy(iv + 2, buf + 8, 4);
	memcpy(iv + 10, buf + 2, 2);
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &ol, buf, 12) != 1 ||
	    EVP_EncryptUpdate(c, buf + 12, &ol, buf + 12, PAYLOAD) != 1 ||
	    EVP_EncryptFinal_ex(c, buf + 12 + PAYLOAD, &ol) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG,
				buf + 12 + PAYLOAD) != 1)
		return -1;
	return 0;
}

/* µs per protect over one run, or a negative value on error. Cold: the
 * caches are flushed before each packet, and only the protect is timed. */
static double run(struct engine *e, uint16_t *seq, unsigned packets,
		  bool cold)
{
	clockid_t clock = cold ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;
	uint8_t buf[CAP];
	double t0 = now_us(clock), spent = 0;
	size_t len;
	unsigned i;
	int n;

	for (i = 0; i < packets; i++) {
		make_packet((*seq)++);
		memcpy(buf, plain, 12 + PAYLOAD);
		if (cold) {
			flush_caches();
			t0 = now_us(clock);
		}
		if (e->kind == PRIM_GCM) {
			if (evp_gcm_seal(e->ctr, buf) != 0)
				return -1;
		} else if (e->kind == PRIM_CM) {
			uint8_t iv[16] = { 0 }, tag[EVP_MAX_MD_SIZE], roc[4] = { 0 };
			size_t tl;
			int ol;

			memcpy(iv + 4, buf + 8, 4);
			memcpy(iv + 12, buf + 2, 2);
			if (EVP_EncryptInit_ex(e->ctr, NULL, NULL, NULL, iv) != 1 ||
			    EVP_EncryptUpdate(e->ctr, buf + 12, &ol, buf + 12,
					      PAYLOAD) != 1 ||
			    EVP_MAC_init(e->hmac, NULL, 0, NULL) != 1 ||
			    EVP_MAC_update(e->hmac, buf, 12 + PAYLOAD) != 1 ||
			    EVP_MAC_update(e->hmac, roc, sizeof(roc)) != 1 ||
			    EVP_MAC_final(e->hmac, tag, &tl, sizeof(tag)) != 1)
				return -1;
			memcpy(buf + 12 + PAYLOAD, tag, 10);
		} else if (e->kind == LIBSRTP) {
			n = 12 + PAYLOAD;
			if (srtp_protect(e->lib, buf, &n) != srtp_err_status_ok)
				return -1;
		} else {
			len = 12 + PAYLOAD;
			if (srtps_protect_rtp(e->s, buf, &len, sizeof(buf)) != 0)
				return -1;
		}
		if (cold)
			spent += now_us(clock) - t0;
	}
	if (!cold)
		spent = now_us(clock) - t0;
	return spent / packets;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct engine eng[] = {
		{ "libsrtp2 AEAD_AES_128_GCM", DTLS_SRTP_AEAD_AES_128_GCM, LIBSRTP, NULL, NULL, NULL, NULL },
		{ "srtps AEAD_AES_128_GCM (Nettle)", DTLS_SRTP_AEAD_AES_128_GCM, SRTPS, NULL, NULL, NULL, NULL },
		{ "EVP AES-128-GCM (primitive)", DTLS_SRTP_AEAD_AES_128_GCM, PRIM_GCM, NULL, NULL, NULL, NULL },
		{ "libsrtp2 AES_CM_128_HMAC_SHA1_80", DTLS_SRTP_AES128_CM_SHA1_80, LIBSRTP, NULL, NULL, NULL, NULL },
		{ "srtps AES_CM_128_HMAC_SHA1_80 (libsrtp2)", DTLS_SRTP_AES128_CM_SHA1_80, SRTPS, NULL, NULL, NULL, NULL },
		{ "EVP AES-128-CTR + HMAC-SHA1 (primitives)", DTLS_SRTP_AES128_CM_SHA1_80, PRIM_CM, NULL, NULL, NULL, NULL },
	};
	static double t[sizeof(eng) / sizeof(eng[0])][MAX_RUNS];
	uint16_t seq[sizeof(eng) / sizeof(eng[0])] = { 0 };
	unsigned packets = argc > 1 ? (unsigned)atoi(argv[1]) : DEFAULT_PACKETS;
	unsigned runs = argc > 2 ? (unsigned)atoi(argv[2]) : DEFAULT_RUNS;
	bool cold = argc > 3 && strcmp(argv[3], "cold") == 0;
	size_t e, r;

	if (packets == 0 || runs == 0 || runs > MAX_RUNS ||
	    (argc > 3 && !cold)) {
		fprintf(stderr, "usage: srtp_bench [packets per run] "
			"[runs <= %d] [cold]\n", MAX_RUNS);
		return 2;
	}
	if (cold && (flush_buf = calloc(1, FLUSH_BYTES)) == NULL)
		return 1;
	if (srtps_init() != 0)
		return 1;
	memset(plain, 0x5a, sizeof(plain));
	for (e = 0; e < sizeof(eng) / sizeof(eng[0]); e++) {
		if (setup(&eng[e]) != 0) {
			fprintf(stderr, "srtp_bench: cannot set up %s\n", eng[e].name);
			return 1;
		}
		run(&eng[e], &seq[e], packets / 10 + 1, false);   /* warm up */
	}
	/* interleave the engines so a noisy moment hits all of them */
	for (r = 0; r < runs; r++) {
		for (e = 0; e < sizeof(eng) / sizeof(eng[0]); e++) {
			t[e][r] = run(&eng[e], &seq[e], packets, cold);
			if (t[e][r] < 0) {
				fprintf(stderr, "srtp_bench: %s failed\n", eng[e].name);
				return 1;
			}
		}
	}
	printf("µs per protect of a %d-byte RTP packet, %u runs of %u packets"
	       "%s (min / median / max)\n", 12 + PAYLOAD, runs, packets,
	       cold ? ", caches flushed before each" : "");
	for (e = 0; e < sizeof(eng) / sizeof(eng[0]); e++) {
		qsort(t[e], runs, sizeof(double), cmp);
		printf("  %-42s %.3f / %.3f / %.3f\n", eng[e].name, t[e][0],
		       t[e][runs / 2], t[e][runs - 1]);
		if (eng[e].kind == PRIM_GCM || eng[e].kind == PRIM_CM) {
			EVP_CIPHER_CTX_free(eng[e].ctr);
			EVP_MAC_CTX_free(eng[e].hmac);
		} else if (eng[e].kind == LIBSRTP) {
			srtp_dealloc(eng[e].lib);
		} else {
			srtps_free(eng[e].s);
		}
	}
	free(flush_buf);
	return 0;
}
