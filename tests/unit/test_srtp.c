/*
 * test_srtp — SRTP/SRTCP sessions keyed by a real DTLS-SRTP handshake
 * (dtls_testpeer.c) and by fixed keys: round trips both ways for both
 * profiles, tampering, replay, rollover, wrong keys, limits, the key
 * direction checked against libsrtp2 keyed by hand, and the EVP AES-GCM
 * engine against RFC 7714's vectors and byte for byte against libsrtp2.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "dtls/dtls.h"
#include "dtls_testpeer.h"
#include "srtp/srtp_gcm.h"
#include "srtp/srtp_session.h"

enum { PKT_CAP = 1500 };

/* A plain RTP packet (RFC 3550 §5.1): PT 111, the given seq and SSRC,
 * `payload` bytes of a pattern. Returns its length. */
static size_t make_rtp(uint8_t *b, uint16_t seq, uint32_t ssrc, size_t payload)
{
	size_t i;

	memset(b, 0, 12);
	b[0] = 0x80;
	b[1] = 111;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[4] = 0x00;
	b[5] = 0x01;
	b[6] = (uint8_t)(seq >> 4);
	b[7] = (uint8_t)seq;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	for (i = 0; i < payload; i++)
		b[12 + i] = (uint8_t)(i * 7 + seq);
	return 12 + payload;
}

/* An RTCP sender report (RFC 3550 §6.4.1) without report blocks. */
static size_t make_rtcp_sr(uint8_t *b, uint32_t ssrc)
{
	size_t i;

	memset(b, 0, 28);
	b[0] = 0x80;
	b[1] = 200;
	b[3] = 6;   /* length in 32-bit words minus one */
	b[4] = (uint8_t)(ssrc >> 24);
	b[5] = (uint8_t)(ssrc >> 16);
	b[6] = (uint8_t)(ssrc >> 8);
	b[7] = (uint8_t)ssrc;
	for (i = 8; i < 28; i++)
		b[i] = (uint8_t)(i * 13);
	return 28;
}

static void fixed_keys(enum dtls_srtp_profile p, struct dtls_srtp_keys *k)
{
	uint8_t block[DTLS_SRTP_BLOCK_MAX];
	size_t i;

	for (i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(0xa0 + i * 3);
	dtls_srtp_keys_split(p, block, dtls_srtp_block_len(p), k);
}

static int make_pair(enum dtls_srtp_profile p, struct srtps **srv,
		     struct srtps **cli)
{
	struct dtls_srtp_keys k;

	fixed_keys(p, &k);
	TEST_EQ(srtps_new(&k, true, srv), 0);
	TEST_EQ(srtps_new(&k, false, cli), 0);
	dtls_srtp_keys_wipe(&k);
	return 0;
}

/* a protects, b unprotects: RTP (plain, with CSRCs and an extension) and
 * RTCP. Buffers are heap blocks of exactly the needed size, so ASan sees
 * any write past what the profile appends. */
static int one_way(struct srtps *a, struct srtps *b, uint32_t ssrc)
{
	size_t ov = srtps_rtp_overhead(a), ovc = srtps_rtcp_overhead(a);
	uint8_t plain[PKT_CAP];
	uint8_t *buf;
	size_t len, n;
	uint16_t seq;

	for (seq = 1; seq <= 3; seq++) {
		n = make_rtp(plain, seq, ssrc, 160 * seq);
		if (seq == 2) {   /* two CSRCs */
			plain[0] |= 2;
		} else if (seq == 3) {   /* RFC 8285 one-byte extension block */
			plain[0] |= 0x10;
			plain[12] = 0xbe;
			plain[13] = 0xde;
			plain[14] = 0;
			plain[15] = 1;
		}
		buf = malloc(n + ov);
		TEST_ASSERT(buf != NULL);
		memcpy(buf, plain, n);
		len = n;
		TEST_EQ(srtps_protect_rtp(a, buf, &len, n + ov), 0);
		TEST_EQ(len, n + ov);
		TEST_MEMEQ(buf, plain, 12);   /* header stays clear */
		TEST_ASSERT(memcmp(buf + n - 16, plain + n - 16, 16) != 0);
		TEST_EQ(srtps_unprotect_rtp(b, buf, &len), 0);
		TEST_EQ(len, n);
		TEST_MEMEQ(buf, plain, n);
		free(buf);
	}
	n = make_rtcp_sr(plain, ssrc);
	buf = malloc(n + ovc);
	TEST_ASSERT(buf != NULL);
	memcpy(buf, plain, n);
	len = n;
	TEST_EQ(srtps_protect_rtcp(a, buf, &len, n + ovc), 0);
	TEST_EQ(len, n + ovc);
	TEST_ASSERT(memcmp(buf + 8, plain + 8, n - 8) != 0);   /* encrypted */
	TEST_EQ(srtps_unprotect_rtcp(b, buf, &len), 0);
	TEST_EQ(len, n);
	TEST_MEMEQ(buf, plain, n);
	free(buf);
	return 0;
}

/* Full path: DTLS handshake, keys on both sides, SRTP both ways. */
static int from_dtls(const char *offer, enum dtls_srtp_profile want)
{
	struct tlink_opts o = { .profiles = offer };
	struct tlink *l = calloc(1, sizeof(*l));
	struct dtls_srtp_keys sk, ck;
	struct srtps *srv = NULL, *cli = NULL;

	TEST_ASSERT(l != NULL);
	TEST_EQ(tlink_open(l, &o), 0);
	tlink_pump(l);
	TEST_EQ(dtls_conn_state(l->srv), DTLS_STATE_CONNECTED);
	TEST_EQ(dtls_conn_srtp_keys(l->srv, &sk), 0);
	TEST_EQ(tlink_client_keys(l, &ck), 0);
	TEST_EQ(sk.profile, want);
	TEST_EQ(srtps_new(&sk, true, &srv), 0);
	TEST_EQ(srtps_new(&ck, false, &cli), 0);
	dtls_srtp_keys_wipe(&sk);
	dtls_srtp_keys_wipe(&ck);
	TEST_EQ(srtps_profile(srv), want);
	TEST_EQ(one_way(srv, cli, 0x11223344), 0);
	TEST_EQ(one_way(cli, srv, 0x55667788), 0);
	srtps_free(srv);
	srtps_free(cli);
	tlink_close(l);
	free(l);
	return 0;
}

int test_srtp_dtls_gcm(void)
{
	TEST_EQ(from_dtls("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
			  DTLS_SRTP_AEAD_AES_128_GCM), 0);
	return 0;
}

/* The server's order decides (conclave lists GCM first): a client that
 * prefers AES-CM but also offers GCM, as Chromium does, gets GCM, i.e.
 * the EVP engine. */
int test_srtp_dtls_prefers_gcm(void)
{
	TEST_EQ(from_dtls("SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32:"
			  "SRTP_AEAD_AES_128_GCM", DTLS_SRTP_AEAD_AES_128_GCM), 0);
	return 0;
}

int test_srtp_dtls_cm80(void)
{
	TEST_EQ(from_dtls("SRTP_AES128_CM_SHA1_80", DTLS_SRTP_AES128_CM_SHA1_80),
		0);
	return 0;
}

int test_srtp_overheads(void)
{
	struct srtps *s = NULL, *c = NULL;

	TEST_EQ(make_pair(DTLS_SRTP_AEAD_AES_128_GCM, &s, &c), 0);
	TEST_EQ(srtps_rtp_overhead(s), 16);
	TEST_EQ(srtps_rtcp_overhead(s), 20);
	srtps_free(s);
	srtps_free(c);
	TEST_EQ(make_pair(DTLS_SRTP_AES128_CM_SHA1_80, &s, &c), 0);
	TEST_EQ(srtps_rtp_overhead(s), 10);
	TEST_EQ(srtps_rtcp_overhead(s), 14);
	srtps_free(s);
	srtps_free(c);
	srtps_free(NULL);
	return 0;
}

/* The server's packets are readable with the server write key and the
 * client's with the client write key (RFC 5764 §4.2), checked with
 * libsrtp2 keyed by hand, not through srtps. */
static int direction(enum dtls_srtp_profile p)
{
	struct dtls_srtp_keys k;
	struct srtps *s = NULL, *c = NULL;
	srtp_policy_t pol;
	srtp_t raw_srv = NULL, raw_cli = NULL;
	uint8_t key_srv[30], key_cli[30], buf[PKT_CAP], copy[PKT_CAP];
	size_t len;
	int n;

	fixed_keys(p, &k);
	TEST_EQ(srtps_new(&k, true, &s), 0);
	TEST_EQ(srtps_new(&k, false, &c), 0);
	memcpy(key_srv, k.server_key, 16);
	memcpy(key_srv + 16, k.server_salt, k.salt_len);
	memcpy(key_cli, k.client_key, 16);
	memcpy(key_cli + 16, k.client_salt, k.salt_len);
	memset(&pol, 0, sizeof(pol));
	if (p == DTLS_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	}
	pol.ssrc.type = ssrc_any_inbound;
	pol.key = key_srv;
	TEST_EQ(srtp_create(&raw_srv, &pol), srtp_err_status_ok);
	pol.key = key_cli;
	TEST_EQ(srtp_create(&raw_cli, &pol), srtp_err_status_ok);

	/* (a failed unprotect may leave the buffer garbled: use copies) */
	len = make_rtp(buf, 7, 1234, 100);
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), 0);
	memcpy(copy, buf, len);
	n = (int)len;
	TEST_EQ(srtp_unprotect(raw_cli, copy, &n), srtp_err_status_auth_fail);
	n = (int)len;
	TEST_EQ(srtp_unprotect(raw_srv, buf, &n), srtp_err_status_ok);
	TEST_EQ(n, 112);

	len = make_rtp(buf, 7, 4321, 100);
	TEST_EQ(srtps_protect_rtp(c, buf, &len, sizeof(buf)), 0);
	memcpy(copy, buf, len);
	n = (int)len;
	TEST_EQ(srtp_unprotect(raw_srv, copy, &n), srtp_err_status_auth_fail);
	n = (int)len;
	TEST_EQ(srtp_unprotect(raw_cli, buf, &n), srtp_err_status_ok);
	TEST_EQ(n, 112);

	/* and the server cannot read its own packets */
	len = make_rtp(buf, 8, 1234, 100);
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), 0);
	TEST_EQ(srtps_unprotect_rtp(s, buf, &len), -EBADMSG);

	srtp_dealloc(raw_srv);
	srtp_dealloc(raw_cli);
	srtps_free(s);
	srtps_free(c);
	dtls_srtp_keys_wipe(&k);
	return 0;
}

int test_srtp_key_direction(void)
{
	TEST_EQ(direction(DTLS_SRTP_AEAD_AES_128_GCM), 0);
	TEST_EQ(direction(DTLS_SRTP_AES128_CM_SHA1_80), 0);
	return 0;
}

/* Every single-bit change anywhere in a protected packet is caught. */
static int tamper(enum dtls_srtp_profile p)
{
	struct srtps *s = NULL, *c = NULL;
	uint8_t good[PKT_CAP], buf[PKT_CAP];
	size_t glen, len, i;

	TEST_EQ(make_pair(p, &s, &c), 0);
	glen = make_rtp(good, 100, 0xabcdef01, 60);
	TEST_EQ(srtps_protect_rtp(s, good, &glen, sizeof(good)), 0);
	for (i = 0; i < glen; i++) {
		memcpy(buf, good, glen);
		buf[i] ^= (uint8_t)(1u << (i % 8));
		len = glen;
		TEST_EQ(srtps_unprotect_rtp(c, buf, &len), -EBADMSG);
		TEST_EQ(len, glen);
	}
	/* shortened */
	memcpy(buf, good, glen);
	len = glen - 1;
	TEST_EQ(srtps_unprotect_rtp(c, buf, &len), -EBADMSG);
	/* the original still passes */
	memcpy(buf, good, glen);
	len = glen;
	TEST_EQ(srtps_unprotect_rtp(c, buf, &len), 0);

	glen = make_rtcp_sr(good, 0xabcdef01);
	TEST_EQ(srtps_protect_rtcp(s, good, &glen, sizeof(good)), 0);
	for (i = 0; i < glen; i++) {
		memcpy(buf, good, glen);
		buf[i] ^= (uint8_t)(1u << (i % 8));
		len = glen;
		TEST_EQ(srtps_unprotect_rtcp(c, buf, &len), -EBADMSG);
	}
	memcpy(buf, good, glen);
	len = glen;
	TEST_EQ(srtps_unprotect_rtcp(c, buf, &len), 0);
	srtps_free(s);
	srtps_free(c);
	return 0;
}

int test_srtp_tamper(void)
{
	TEST_EQ(tamper(DTLS_SRTP_AEAD_AES_128_GCM), 0);
	TEST_EQ(tamper(DTLS_SRTP_AES128_CM_SHA1_80), 0);
	return 0;
}

static int replay(enum dtls_srtp_profile p)
{
	struct srtps *s = NULL, *c = NULL;
	uint8_t pkt[PKT_CAP], old[PKT_CAP], buf[PKT_CAP];
	size_t plen, olen, len;

	TEST_EQ(make_pair(p, &s, &c), 0);
	/* the same packet twice */
	plen = make_rtp(pkt, 500, 42, 100);
	TEST_EQ(srtps_protect_rtp(s, pkt, &plen, sizeof(pkt)), 0);
	memcpy(buf, pkt, plen);
	len = plen;
	TEST_EQ(srtps_unprotect_rtp(c, buf, &len), 0);
	memcpy(buf, pkt, plen);
	len = plen;
	TEST_EQ(srtps_unprotect_rtp(c, buf, &len), -EALREADY);
	TEST_EQ(len, plen);

	/* reordering inside the window is fine, behind it is not */
	olen = make_rtp(old, 501, 42, 100);
	TEST_EQ(srtps_protect_rtp(s, old, &olen, sizeof(old)), 0);
	plen = make_rtp(pkt, 502, 42, 100);
	TEST_EQ(srtps_protect_rtp(s, pkt, &plen, sizeof(pkt)), 0);
	TEST_EQ(srtps_unprotect_rtp(c, pkt, &plen), 0);
	memcpy(buf, old, olen);
	len = olen;
	TEST_EQ(srtps_unprotect_rtp(c, buf, &len), 0);
	olen = make_rtp(old, 503, 42, 100);
	TEST_EQ(srtps_protect_rtp(s, old, &olen, sizeof(old)), 0);
	plen = make_rtp(pkt, 503 + SRTPS_REPLAY_WINDOW + 10, 42, 100);
	TEST_EQ(srtps_protect_rtp(s, pkt, &plen, sizeof(pkt)), 0);
	TEST_EQ(srtps_unprotect_rtp(c, pkt, &plen), 0);
	TEST_EQ(srtps_unprotect_rtp(c, old, &olen), -EALREADY);

	/* protecting a sequence number twice would reuse a nonce */
	plen = make_rtp(pkt, 500, 42, 100);
	TEST_EQ(srtps_protect_rtp(s, pkt, &plen, sizeof(pkt)), -EALREADY);

	/* SRTCP */
	plen = make_rtcp_sr(pkt, 42);
	TEST_EQ(srtps_protect_rtcp(s, pkt, &plen, sizeof(pkt)), 0);
	memcpy(buf, pkt, plen);
	len = plen;
	TEST_EQ(srtps_unprotect_rtcp(c, buf, &len), 0);
	memcpy(buf, pkt, plen);
	len = plen;
	TEST_EQ(srtps_unprotect_rtcp(c, buf, &len), -EALREADY);
	srtps_free(s);
	srtps_free(c);
	return 0;
}

int test_srtp_replay(void)
{
	TEST_EQ(replay(DTLS_SRTP_AEAD_AES_128_GCM), 0);
	TEST_EQ(replay(DTLS_SRTP_AES128_CM_SHA1_80), 0);
	return 0;
}

int test_srtp_bad_input(void)
{
	struct srtps *s = NULL, *c = NULL;
	struct dtls_srtp_keys k;
	uint8_t buf[PKT_CAP];
	size_t len, n;

	TEST_EQ(make_pair(DTLS_SRTP_AEAD_AES_128_GCM, &s, &c), 0);
	/* no room for the tag */
	n = make_rtp(buf, 1, 9, 20);
	len = n;
	TEST_EQ(srtps_protect_rtp(s, buf, &len, n + 15), -ENOSPC);
	TEST_EQ(len, n);
	len = make_rtcp_sr(buf, 9);
	TEST_EQ(srtps_protect_rtcp(s, buf, &len, len + 19), -ENOSPC);
	/* too short, wrong version, CSRCs or extension past the end */
	len = 11;
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), -EBADMSG);
	n = make_rtp(buf, 1, 9, 20);
	buf[0] = 0x40;
	len = n;
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), -EBADMSG);
	buf[0] = 0x86;   /* 6 CSRCs = 24 bytes > 20 */
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), -EBADMSG);
	buf[0] = 0x90;
	buf[14] = 0;
	buf[15] = 5;     /* 20-byte extension > 16 left */
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), -EBADMSG);
	len = SRTPS_MAX_PACKET + 1;
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf) * 2), -EBADMSG);
	/* unprotect: shorter than header + tag, or a header into the tag */
	for (len = 0; len < 12 + 16; len++) {
		n = len;
		make_rtp(buf, 1, 9, 20);
		TEST_EQ(srtps_unprotect_rtp(c, buf, &n), -EBADMSG);
	}
	for (len = 0; len < 8 + 20; len++) {
		n = len;
		make_rtcp_sr(buf, 9);
		TEST_EQ(srtps_unprotect_rtcp(c, buf, &n), -EBADMSG);
	}
	n = make_rtp(buf, 1, 9, 20);
	buf[0] = 0x83;   /* 12 CSRC bytes: 24 > 32 - 16 */
	TEST_EQ(srtps_unprotect_rtp(c, buf, &n), -EBADMSG);
	TEST_EQ(srtps_protect_rtp(s, NULL, &n, 100), -EINVAL);
	srtps_free(s);
	srtps_free(c);

	/* keys that do not fit the profile */
	fixed_keys(DTLS_SRTP_AEAD_AES_128_GCM, &k);
	k.salt_len = 14;
	TEST_EQ(srtps_new(&k, true, &s), -EINVAL);
	k.salt_len = 12;
	k.profile = DTLS_SRTP_NONE;
	TEST_EQ(srtps_new(&k, true, &s), -EINVAL);
	k.profile = DTLS_SRTP_AES128_CM_SHA1_80;
	TEST_EQ(srtps_new(&k, true, &s), -EINVAL);
	TEST_EQ(srtps_new(NULL, true, &s), -EINVAL);
	dtls_srtp_keys_wipe(&k);
	return 0;
}

/* New SSRCs beyond the per-direction limits are refused; known ones keep
 * working. */
int test_srtp_ssrc_limit(void)
{
	struct srtps *s = NULL, *c = NULL;
	uint8_t buf[PKT_CAP];
	size_t len;
	uint32_t i;

	TEST_EQ(make_pair(DTLS_SRTP_AEAD_AES_128_GCM, &s, &c), 0);
	for (i = 0; i <= SRTPS_MAX_SSRCS_IN; i++) {
		len = make_rtp(buf, 1, 1000 + i * 7919, 40);
		TEST_EQ(srtps_protect_rtp(c, buf, &len, sizeof(buf)), 0);
		TEST_EQ(srtps_unprotect_rtp(s, buf, &len),
			i < SRTPS_MAX_SSRCS_IN ? 0 : -EMFILE);
	}
	len = make_rtp(buf, 2, 1000, 40);
	TEST_EQ(srtps_protect_rtp(c, buf, &len, sizeof(buf)), 0);
	TEST_EQ(srtps_unprotect_rtp(s, buf, &len), 0);
	/* RTCP from an unknown sender SSRC counts against the same limit */
	len = make_rtcp_sr(buf, 77);
	TEST_EQ(srtps_protect_rtcp(c, buf, &len, sizeof(buf)), 0);
	TEST_EQ(srtps_unprotect_rtcp(s, buf, &len), -EMFILE);
	/* a packet that fails authentication does not take a slot */
	srtps_free(s);
	srtps_free(c);
	TEST_EQ(make_pair(DTLS_SRTP_AEAD_AES_128_GCM, &s, &c), 0);
	for (i = 0; i < 2 * SRTPS_MAX_SSRCS_IN; i++) {
		len = make_rtp(buf, 1, 5000 + i, 40);
		TEST_EQ(srtps_protect_rtp(c, buf, &len, sizeof(buf)), 0);
		buf[len - 1] ^= 1;
		TEST_EQ(srtps_unprotect_rtp(s, buf, &len), -EBADMSG);
	}
	len = make_rtp(buf, 2, 5000, 40);
	TEST_EQ(srtps_protect_rtp(c, buf, &len, sizeof(buf)), 0);
	TEST_EQ(srtps_unprotect_rtp(s, buf, &len), 0);
	/* outbound */
	for (i = 0; i <= SRTPS_MAX_SSRCS_OUT; i++) {
		len = make_rtp(buf, 1, 0x10000 + i, 40);
		TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)),
			i < SRTPS_MAX_SSRCS_OUT ? 0 : -EMFILE);
	}
	len = make_rtp(buf, 2, 0x10000, 40);
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), 0);
	srtps_free(s);
	srtps_free(c);
	return 0;
}

/* ---- AEAD_AES_128_GCM on EVP ---------------------------------------------- */

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	unsigned v;

	while (hex[0] != '\0' && hex[1] != '\0' && n < cap) {
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

/* RFC 7714 §16.1.1 (SRTP) and §17.1, §17.3 (SRTCP): session key
 * 00..0f, session salt "Quid pro quo", used for RTP and RTCP alike. */
int test_srtp_gcm_rfc7714(void)
{
	static const char rtp[] =
		"8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e6973"
		"2064697669736120696e207061727465732074726573";
	static const char srtp[] =
		"8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bca"
		"be633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb1"
		"6a9152cf765ee4390cce";
	static const char rtcp[] =
		"81c8000d4d6172734e5450314e545032525450200000042a0000e930"
		"4c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
	static const char srtcp[] =
		"81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f7"
		"6c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa458"
		"96cf4d2fc5abf87245d9eade800005d4";
	static const char srtcp_auth_only[] =
		"81c8000d4d6172734e5450314e545032525450200000042a0000e930"
		"4c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef841dd968"
		"3dd78ec92ae58790125f62b3000005d4";
	uint8_t key[16], salt[12], plain[128], want[128], buf[128];
	struct srtp_gcm_dir enc, dec;
	struct srtp_gcm_stream st;
	size_t pn, wn, len;

	TEST_EQ(unhex(key, sizeof(key), "000102030405060708090a0b0c0d0e0f"), 16);
	TEST_EQ(unhex(salt, sizeof(salt), "517569642070726f2071756f"), 12);
	srtp_gcm__dir_keys(&enc, key, salt, key, salt);
	srtp_gcm__dir_keys(&dec, key, salt, key, salt);

	pn = unhex(plain, sizeof(plain), rtp);
	wn = unhex(want, sizeof(want), srtp);
	TEST_EQ(wn, pn + 16);
	memset(&st, 0, sizeof(st));   /* ROC 0 */
	memcpy(buf, plain, pn);
	len = pn;
	TEST_EQ(srtp_gcm__protect_rtp(&enc, &st, buf, &len, 12, 0x5501a0b2), 0);
	TEST_EQ(len, wn);
	TEST_MEMEQ(buf, want, wn);
	memset(&st, 0, sizeof(st));
	TEST_EQ(srtp_gcm__unprotect_rtp(&dec, &st, buf, &len, 12, 0x5501a0b2), 0);
	TEST_EQ(len, pn);
	TEST_MEMEQ(buf, plain, pn);

	pn = unhex(plain, sizeof(plain), rtcp);
	wn = unhex(want, sizeof(want), srtcp);
	TEST_EQ(wn, pn + 20);
	memset(&st, 0, sizeof(st));
	st.rtcp_sent = 0x5d4 - 1;   /* the vectors' SRTCP index is 0x5d4 */
	memcpy(buf, plain, pn);
	len = pn;
	TEST_EQ(srtp_gcm__protect_rtcp(&enc, &st, buf, &len, 0x4d617273), 0);
	TEST_EQ(len, wn);
	TEST_MEMEQ(buf, want, wn);
	memset(&st, 0, sizeof(st));
	TEST_EQ(srtp_gcm__unprotect_rtcp(&dec, &st, buf, &len, 0x4d617273), 0);
	TEST_EQ(len, pn);
	TEST_MEMEQ(buf, plain, pn);
	/* §17.3: E = 0, authenticated only */
	wn = unhex(want, sizeof(want), srtcp_auth_only);
	memset(&st, 0, sizeof(st));
	len = wn;
	TEST_EQ(srtp_gcm__unprotect_rtcp(&dec, &st, want, &len, 0x4d617273), 0);
	TEST_EQ(len, pn);
	TEST_MEMEQ(want, plain, pn);
	srtp_gcm__dir_free(&enc);
	srtp_gcm__dir_free(&dec);
	return 0;
}

/* libsrtp2 session for one direction keyed with key || salt. */
static int raw_session(srtp_t *out, enum dtls_srtp_profile p,
		       const uint8_t *key, const uint8_t *salt, size_t salt_len,
		       bool outbound)
{
	uint8_t ks[30];
	srtp_policy_t pol;

	memcpy(ks, key, 16);
	memcpy(ks + 16, salt, salt_len);
	memset(&pol, 0, sizeof(pol));
	if (p == DTLS_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	}
	pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	pol.key = ks;
	pol.window_size = 1024;
	TEST_EQ(srtp_create(out, &pol), srtp_err_status_ok);
	return 0;
}

/* The EVP engine against libsrtp2, both ways, for RTP across two ROC
 * rollovers and for RTCP: srtps's output must be byte for byte what
 * libsrtp2 makes of the same packet with the same key, and each side must
 * read the other's. */
/* srtps protects plain[0..n) into a (*alen), and libsrtp2's `lib`, keyed
 * alike, must make the same bytes. */
static int protect_alike(struct srtps *s, srtp_t lib, const uint8_t *plain,
			 size_t n, uint8_t *a, size_t *alen)
{
	uint8_t b[PKT_CAP];
	int blen = (int)n;

	memcpy(a, plain, n);
	*alen = n;
	TEST_EQ(srtps_protect_rtp(s, a, alen, PKT_CAP), 0);
	memcpy(b, plain, n);
	TEST_EQ(srtp_protect(lib, b, &blen), srtp_err_status_ok);
	TEST_EQ((size_t)blen, *alen);
	TEST_MEMEQ(a, b, *alen);
	return 0;
}

/* libsrtp2's `lib` protects plain[0..n) into b (*blen), as a peer would,
 * and srtps must read it back. */
static int unprotect_from(struct srtps *s, srtp_t lib, const uint8_t *plain,
			  size_t n, uint8_t *b, size_t *blen)
{
	uint8_t c[PKT_CAP];
	int len = (int)n;
	size_t clen;

	memcpy(b, plain, n);
	TEST_EQ(srtp_protect(lib, b, &len), srtp_err_status_ok);
	*blen = (size_t)len;
	memcpy(c, b, *blen);
	clen = *blen;
	TEST_EQ(srtps_unprotect_rtp(s, c, &clen), 0);
	TEST_EQ(clen, n);
	TEST_MEMEQ(c, plain, n);
	return 0;
}

int test_srtp_gcm_libsrtp(void)
{
	enum dtls_srtp_profile p = DTLS_SRTP_AEAD_AES_128_GCM;
	struct dtls_srtp_keys k;
	struct srtps *s = NULL;
	srtp_t lib_tx_srv = NULL, lib_rx_srv = NULL, lib_tx_cli = NULL;
	uint8_t plain[PKT_CAP], a[PKT_CAP], b[PKT_CAP];
	size_t n, alen;
	uint32_t i;
	uint16_t seq;
	int blen;

	fixed_keys(p, &k);
	TEST_EQ(srtps_new(&k, true, &s), 0);
	/* what the server sends: libsrtp2 with the server key */
	TEST_EQ(raw_session(&lib_tx_srv, p, k.server_key, k.server_salt, 12, true), 0);
	TEST_EQ(raw_session(&lib_rx_srv, p, k.server_key, k.server_salt, 12, false), 0);
	/* what the client sends */
	TEST_EQ(raw_session(&lib_tx_cli, p, k.client_key, k.client_salt, 12, true), 0);

	/* seq 65000 .. 65535, 0 .. 65535, 0 .. 999: ROC 0, 1, 2, sparse
	 * steps so the test stays short but crosses each wrap closely */
	seq = 65000;
	for (i = 0; i < 700; i++) {
		n = make_rtp(plain, seq, 0x0badcafe, 100 + (i % 7) * 150);
		if (i % 5 == 1)
			plain[0] |= 0x10, plain[12] = 0xbe, plain[13] = 0xde,
			plain[14] = 0, plain[15] = 1;
		/* srtps protects; libsrtp2 makes the same bytes and reads it */
		TEST_EQ(protect_alike(s, lib_tx_srv, plain, n, a, &alen), 0);
		blen = (int)alen;
		TEST_EQ(srtp_unprotect(lib_rx_srv, a, &blen), srtp_err_status_ok);
		TEST_EQ((size_t)blen, n);
		TEST_MEMEQ(a, plain, n);
		/* libsrtp2 protects as the client; srtps reads it */
		n = make_rtp(plain, seq, 0x0badf00d, 100 + (i % 7) * 150);
		TEST_EQ(unprotect_from(s, lib_tx_cli, plain, n, b, &alen), 0);
		seq = (uint16_t)(seq + (i < 100 || i > 600 ? 7 : 331));
	}
	/* RTCP, both ways, several indexes */
	for (i = 0; i < 5; i++) {
		n = make_rtcp_sr(plain, 0x0badcafe);
		memcpy(a, plain, n);
		alen = n;
		TEST_EQ(srtps_protect_rtcp(s, a, &alen, sizeof(a)), 0);
		memcpy(b, plain, n);
		blen = (int)n;
		TEST_EQ(srtp_protect_rtcp(lib_tx_srv, b, &blen), srtp_err_status_ok);
		TEST_EQ((size_t)blen, alen);
		TEST_MEMEQ(a, b, alen);
		blen = (int)alen;
		TEST_EQ(srtp_unprotect_rtcp(lib_rx_srv, a, &blen), srtp_err_status_ok);
		TEST_EQ((size_t)blen, n);
		TEST_MEMEQ(a, plain, n);
		n = make_rtcp_sr(plain, 0x0badf00d);
		memcpy(b, plain, n);
		blen = (int)n;
		TEST_EQ(srtp_protect_rtcp(lib_tx_cli, b, &blen), srtp_err_status_ok);
		alen = (size_t)blen;
		TEST_EQ(srtps_unprotect_rtcp(s, b, &alen), 0);
		TEST_EQ(alen, n);
		TEST_MEMEQ(b, plain, n);
	}
	/* a packet libsrtp2 refuses after a bit flip is refused here too */
	n = make_rtp(plain, 5, 0x0badf00d, 200);
	memcpy(b, plain, n);
	blen = (int)n;
	TEST_EQ(srtp_protect(lib_tx_cli, b, &blen), srtp_err_status_ok);
	b[20] ^= 4;
	alen = (size_t)blen;
	TEST_EQ(srtps_unprotect_rtp(s, b, &alen), -EBADMSG);
	srtp_dealloc(lib_tx_srv);
	srtp_dealloc(lib_rx_srv);
	srtp_dealloc(lib_tx_cli);
	srtps_free(s);
	dtls_srtp_keys_wipe(&k);
	return 0;
}

/* Reordering across a sequence-number wrap: a late packet from before the
 * wrap is still read with the old ROC, a replay of either side of the wrap
 * is refused, and the sender refuses to go back. */
static int rollover(enum dtls_srtp_profile p)
{
	struct srtps *s = NULL, *c = NULL;
	uint8_t late[PKT_CAP], buf[PKT_CAP], copy[PKT_CAP];
	size_t llen = 0, len, clen = 0;
	uint32_t i;

	TEST_EQ(make_pair(p, &s, &c), 0);
	for (i = 65530; i <= 65535; i++) {
		len = make_rtp(buf, (uint16_t)i, 77, 50);
		TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), 0);
		if (i == 65534) {   /* held back */
			memcpy(late, buf, len);
			llen = len;
			continue;
		}
		TEST_EQ(srtps_unprotect_rtp(c, buf, &len), 0);
	}
	for (i = 0; i < 4; i++) {
		len = make_rtp(buf, (uint16_t)i, 77, 50);
		TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), 0);
		memcpy(copy, buf, len);
		clen = len;
		TEST_EQ(srtps_unprotect_rtp(c, buf, &len), 0);
		TEST_EQ(len, 12 + 50u);
		TEST_EQ(buf[12], (uint8_t)i);   /* payload pattern of seq i */
	}
	memcpy(buf, late, llen);
	len = llen;
	TEST_EQ(srtps_unprotect_rtp(c, buf, &len), 0);   /* ROC 0, late */
	TEST_EQ(srtps_unprotect_rtp(c, late, &llen), -EALREADY);  /* again */
	memcpy(buf, copy, clen);
	len = clen;
	TEST_EQ(srtps_unprotect_rtp(c, buf, &len), -EALREADY);  /* seq 3, ROC 1 */
	/* the sender's seq 65535 of ROC 0 is behind it now */
	len = make_rtp(buf, 65535, 77, 50);
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), -EALREADY);
	srtps_free(s);
	srtps_free(c);
	return 0;
}

int test_srtp_rollover(void)
{
	TEST_EQ(rollover(DTLS_SRTP_AEAD_AES_128_GCM), 0);
	TEST_EQ(rollover(DTLS_SRTP_AES128_CM_SHA1_80), 0);
	return 0;
}

/* Three SSRCs each way, interleaved irregularly (the last one found is
 * remembered apart from its slot): every packet must come out as
 * libsrtp2 makes it, one stream crossing a sequence number wrap (its
 * rollover counter is its own state), and a packet replayed right after
 * another stream's must be refused. */
int test_srtp_gcm_interleaved(void)
{
	enum dtls_srtp_profile p = DTLS_SRTP_AEAD_AES_128_GCM;
	static const uint32_t ssrc[3] = { 0x0a0a0a0a, 0x0b0b0b0b, 0x0c0c0c0c };
	static const uint8_t order[] = { 0, 0, 1, 0, 2, 2, 1, 0, 1, 2, 0, 0, 0, 1 };
	uint16_t seq[3] = { 65530, 100, 40000 };
	struct dtls_srtp_keys k;
	struct srtps *s = NULL;
	srtp_t lib_tx_srv = NULL, lib_tx_cli = NULL;
	uint8_t plain[PKT_CAP], a[PKT_CAP], b[PKT_CAP], old[PKT_CAP];
	size_t n, alen, oldlen = 0;
	unsigned i;

	fixed_keys(p, &k);
	TEST_EQ(srtps_new(&k, true, &s), 0);
	TEST_EQ(raw_session(&lib_tx_srv, p, k.server_key, k.server_salt, 12, true), 0);
	TEST_EQ(raw_session(&lib_tx_cli, p, k.client_key, k.client_salt, 12, true), 0);
	for (i = 0; i < 5 * sizeof(order); i++) {
		unsigned x = order[i % sizeof(order)];

		n = make_rtp(plain, seq[x], ssrc[x], 100 + (i % 5) * 200);
		TEST_EQ(protect_alike(s, lib_tx_srv, plain, n, a, &alen), 0);
		/* the client's streams, the other way */
		TEST_EQ(unprotect_from(s, lib_tx_cli, plain, n, b, &alen), 0);
		if (x == 0 && i > 20 && oldlen == 0) {
			memcpy(old, b, alen);   /* replayed below */
			oldlen = alen;
		}
		if (x != 0 && oldlen) {
			memcpy(b, old, oldlen);
			alen = oldlen;
			TEST_EQ(srtps_unprotect_rtp(s, b, &alen), -EALREADY);
		}
		seq[x]++;
	}
	TEST_ASSERT(seq[0] < 100);   /* stream 0 wrapped */
	TEST_ASSERT(oldlen > 0);
	srtp_dealloc(lib_tx_srv);
	srtp_dealloc(lib_tx_cli);
	dtls_srtp_keys_wipe(&k);
	srtps_free(s);
	return 0;
}

/* A session keyed differently refuses everything, RTP and RTCP. */
static int wrong_key(enum dtls_srtp_profile p)
{
	struct dtls_srtp_keys k;
	struct srtps *s = NULL, *other = NULL;
	uint8_t buf[PKT_CAP];
	size_t len;

	TEST_EQ(make_pair(p, &s, &other), 0);
	srtps_free(other);
	fixed_keys(p, &k);
	k.client_key[0] ^= 1;   /* the server's packets use the server key */
	k.server_key[5] ^= 0x80;
	TEST_EQ(srtps_new(&k, false, &other), 0);
	len = make_rtp(buf, 9, 31, 300);
	TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), 0);
	TEST_EQ(srtps_unprotect_rtp(other, buf, &len), -EBADMSG);
	len = make_rtcp_sr(buf, 31);
	TEST_EQ(srtps_protect_rtcp(s, buf, &len, sizeof(buf)), 0);
	TEST_EQ(srtps_unprotect_rtcp(other, buf, &len), -EBADMSG);
	/* and nothing was admitted: a correctly keyed peer still works */
	srtps_free(other);
	dtls_srtp_keys_wipe(&k);
	srtps_free(s);
	return 0;
}

int test_srtp_wrong_key(void)
{
	TEST_EQ(wrong_key(DTLS_SRTP_AEAD_AES_128_GCM), 0);
	TEST_EQ(wrong_key(DTLS_SRTP_AES128_CM_SHA1_80), 0);
	return 0;
}

/* ---- retiring outbound SSRCs ---------------------------------------------- */

/* Protects one RTP packet (seq, ssrc) on s: the result. */
static int protect_one(struct srtps *s, uint16_t seq, uint32_t ssrc)
{
	uint8_t buf[PKT_CAP];
	size_t len = make_rtp(buf, seq, ssrc, 40);

	return srtps_protect_rtp(s, buf, &len, sizeof(buf));
}

/* Subscriptions come and go far beyond SRTPS_MAX_SSRCS_OUT: each one's
 * packets reach the receiver, none is refused for a full set; a retired
 * SSRC is refused for RTP and RTCP, so no index of it is used twice. */
static int retire_cycles(enum dtls_srtp_profile p)
{
	struct srtps *s = NULL, *c = NULL;
	uint8_t buf[PKT_CAP];
	size_t len;
	uint32_t i, ssrc;

	TEST_EQ(make_pair(p, &s, &c), 0);
	/* a few that stay all along */
	for (i = 0; i < 8; i++)
		TEST_EQ(protect_one(s, 100, 0x7000 + i), 0);
	for (i = 0; i < 3 * SRTPS_MAX_SSRCS_OUT; i++) {
		ssrc = 0x100000u + i * 7919u;
		if (i % 16 == 0) {
			/* a receiver takes SRTPS_MAX_SSRCS_IN: a fresh one */
			struct dtls_srtp_keys k;
			srtps_free(c);
			fixed_keys(p, &k);
			TEST_EQ(srtps_new(&k, false, &c), 0);
			dtls_srtp_keys_wipe(&k);
		}
		for (uint16_t seq = 10; seq < 13; seq++) {
			len = make_rtp(buf, seq, ssrc, 40);
			TEST_EQ(srtps_protect_rtp(s, buf, &len, sizeof(buf)), 0);
			TEST_EQ(srtps_unprotect_rtp(c, buf, &len), 0);
		}
		len = make_rtcp_sr(buf, ssrc);
		TEST_EQ(srtps_protect_rtcp(s, buf, &len, sizeof(buf)), 0);
		TEST_EQ(srtps_unprotect_rtcp(c, buf, &len), 0);
		TEST_EQ(srtps_retire_out(s, ssrc), 0);
		/* gone for good: neither an index already used (10) nor a
		 * new one (13) is protected again under this SSRC */
		TEST_EQ(protect_one(s, 10, ssrc), -ESTALE);
		TEST_EQ(protect_one(s, 13, ssrc), -ESTALE);
		len = make_rtcp_sr(buf, ssrc);
		TEST_EQ(srtps_protect_rtcp(s, buf, &len, sizeof(buf)), -ESTALE);
		TEST_EQ(srtps_retire_out(s, ssrc), -ENOENT);
	}
	/* the first ones still are where they were: their indexes go on */
	for (i = 0; i < 8; i++) {
		TEST_EQ(protect_one(s, 100, 0x7000 + i), -EALREADY);
		TEST_EQ(protect_one(s, 101, 0x7000 + i), 0);
	}
	/* never sent: nothing to retire, and it may still be sent */
	TEST_EQ(srtps_retire_out(s, 0xdead), -ENOENT);
	TEST_EQ(protect_one(s, 1, 0xdead), 0);
	/* inbound streams are not touched by retiring */
	len = make_rtp(buf, 5, 0x4242, 40);
	TEST_EQ(srtps_protect_rtp(c, buf, &len, sizeof(buf)), 0);
	TEST_EQ(srtps_unprotect_rtp(s, buf, &len), 0);
	TEST_EQ(srtps_retire_out(s, 0x4242), -ENOENT);
	TEST_EQ(srtps_retire_out(NULL, 1), -EINVAL);
	srtps_free(s);
	srtps_free(c);
	return 0;
}

int test_srtp_retire(void)
{
	TEST_EQ(retire_cycles(DTLS_SRTP_AEAD_AES_128_GCM), 0);
	TEST_EQ(retire_cycles(DTLS_SRTP_AES128_CM_SHA1_80), 0);
	return 0;
}

/* The outbound set against a model, with SSRCs chosen to crowd a few
 * slots of the open-addressed table (and its wrap from the last slot to
 * the first), so that deletions shift long runs: after any sequence of
 * admissions and retirements every live SSRC still finds its own stream
 * (an index it used is refused, a new one taken), a retired one is
 * refused, and a new one is admitted while there is room. */
enum { MODEL_POOL = 1400, MODEL_OPS = 30000 };

struct model_ssrc {
	uint32_t ssrc;
	int state;          /* 0 never sent, 1 live, 2 retired */
	uint16_t next_seq;
};

static uint32_t model_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static int retire_model(enum dtls_srtp_profile p)
{
	static struct model_ssrc m[MODEL_POOL];
	struct srtps *s = NULL, *c = NULL;
	uint32_t x = 0x12345678u, cand = 1;
	size_t n = 0, live = 0;

	/* SSRCs whose home slot (the set's hash, 2048 slots) is one of
	 * 2044..2047 or 0..3 or 500..503 */
	while (n < MODEL_POOL) {
		uint32_t home = (cand * 2654435761u) & 2047u;
		if (home >= 2044 || home < 4 || (home >= 500 && home < 504)) {
			m[n].ssrc = cand;
			m[n].state = 0;
			m[n].next_seq = 1;
			n++;
		}
		cand++;
	}
	TEST_EQ(make_pair(p, &s, &c), 0);
	for (int op = 0; op < MODEL_OPS; op++) {
		struct model_ssrc *e = &m[model_rand(&x) % MODEL_POOL];
		int rc;

		switch (model_rand(&x) % 4) {
		case 0:
		case 1:   /* send on it */
			rc = protect_one(s, e->next_seq, e->ssrc);
			if (e->state == 2) {
				TEST_EQ(rc, -ESTALE);
			} else if (e->state == 0 && live == SRTPS_MAX_SSRCS_OUT) {
				TEST_EQ(rc, -EMFILE);
			} else {
				TEST_EQ(rc, 0);
				if (e->state == 0)
					live++;
				e->state = 1;
				e->next_seq++;
			}
			break;
		case 2:   /* an index it used: its own stream must refuse it */
			if (e->state != 1)
				break;
			TEST_EQ(protect_one(s, (uint16_t)(e->next_seq - 1), e->ssrc),
				-EALREADY);
			break;
		default:  /* retire it, mostly while the set is crowded */
			if (live < SRTPS_MAX_SSRCS_OUT / 2 && model_rand(&x) % 2)
				break;
			rc = srtps_retire_out(s, e->ssrc);
			if (e->state == 1) {
				TEST_EQ(rc, 0);
				e->state = 2;
				live--;
			} else {
				TEST_EQ(rc, -ENOENT);
			}
			break;
		}
	}
	/* and every one of them, once more */
	for (size_t i = 0; i < MODEL_POOL; i++) {
		if (m[i].state == 1)
			TEST_EQ(protect_one(s, (uint16_t)(m[i].next_seq - 1), m[i].ssrc),
				-EALREADY);
		else if (m[i].state == 2)
			TEST_EQ(protect_one(s, m[i].next_seq, m[i].ssrc), -ESTALE);
	}
	srtps_free(s);
	srtps_free(c);
	return 0;
}

int test_srtp_retire_model(void)
{
	TEST_EQ(retire_model(DTLS_SRTP_AEAD_AES_128_GCM), 0);
	TEST_EQ(retire_model(DTLS_SRTP_AES128_CM_SHA1_80), 0);
	return 0;
}

/* Retired SSRCs are remembered without forgetting any: past
 * SRTPS_RETIRED_MAX a stream is no longer retired but kept, and its index
 * goes on. */
int test_srtp_retire_limit(void)
{
	struct srtps *s = NULL, *c = NULL;
	uint32_t i;

	TEST_EQ(make_pair(DTLS_SRTP_AEAD_AES_128_GCM, &s, &c), 0);
	/* SSRC 0 is an SSRC like any other */
	TEST_EQ(protect_one(s, 1, 0), 0);
	TEST_EQ(srtps_retire_out(s, 0), 0);
	TEST_EQ(protect_one(s, 2, 0), -ESTALE);
	for (i = 1; i < SRTPS_RETIRED_MAX; i++) {
		TEST_EQ(protect_one(s, 1, i), 0);
		TEST_EQ(srtps_retire_out(s, i), 0);
	}
	TEST_EQ(protect_one(s, 1, i), 0);
	TEST_EQ(srtps_retire_out(s, i), -ENOSPC);
	TEST_EQ(protect_one(s, 1, i), -EALREADY);
	TEST_EQ(protect_one(s, 2, i), 0);
	/* all of them still refused */
	for (i = 0; i < SRTPS_RETIRED_MAX; i++)
		TEST_EQ(protect_one(s, 5, i), -ESTALE);
	srtps_free(s);
	srtps_free(c);
	return 0;
}
