/*
 * fuzz_srtp — SRTP/SRTCP sessions on untrusted packets.
 *
 * Input layout: byte 0 = flags (bit 0: AES_CM_128_HMAC_SHA1_80 instead of
 * AEAD_AES_128_GCM; bit 1: RTCP instead of RTP; bit 2: retire the SSRC in
 * step 3), the rest one packet.
 *
 * All sessions use fixed keys (the client and server sides of one
 * transport). Then:
 *  1. the packet, taken as received SRTP, is unprotected by a long-lived
 *     server session (its replay and SSRC state carry across inputs):
 *     whatever the result, no crash, and on success the length shrank by
 *     exactly the overhead;
 *  2. the packet, taken as plain RTP/RTCP, is protected by the client into
 *     a buffer of exactly the needed size (so ASan sees any overrun) by a
 *     fresh client session; if that succeeds a fresh server session must
 *     unprotect it back to the same bytes — abort() otherwise;
 *  3. the packet, as plain RTP/RTCP, is protected by a long-lived server
 *     session (its outbound SSRC set, with retired SSRCs, carries across
 *     inputs): an RTP packet protected once is refused the second time (no
 *     index twice); with bit 2 its SSRC is then retired, after which that
 *     SSRC is refused (-ESTALE) whatever comes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"
#include "srtp/srtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FLAG_CM = 1, FLAG_RTCP = 2, FLAG_RETIRE = 4 };

/* Step 3: protects p (plain, n bytes) on s; abort()s on a broken
 * invariant. */
static void outbound(struct srtps *s, const uint8_t *p, size_t n, bool rtcp,
		     bool retire)
{
	size_t ov = rtcp ? srtps_rtcp_overhead(s) : srtps_rtp_overhead(s);
	uint8_t *buf = malloc(n + ov);
	uint32_t ssrc;
	size_t len;
	int r, r2;

	if (buf == NULL)
		abort();
	memcpy(buf, p, n);
	len = n;
	r = rtcp ? srtps_protect_rtcp(s, buf, &len, n + ov)
		 : srtps_protect_rtp(s, buf, &len, n + ov);
	if (r != 0) {
		free(buf);
		return;
	}
	ssrc = rtcp ? (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
			      (uint32_t)p[6] << 8 | p[7]
		    : (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
			      (uint32_t)p[10] << 8 | p[11];
	if (!rtcp) {
		/* the same sequence number again: never the same index */
		memcpy(buf, p, n);
		len = n;
		if (srtps_protect_rtp(s, buf, &len, n + ov) != -EALREADY)
			abort();
	}
	if (retire) {
		r = srtps_retire_out(s, ssrc);
		if (r != 0 && r != -ENOSPC && r != -ENOMEM)
			abort();
		memcpy(buf, p, n);
		len = n;
		r2 = rtcp ? srtps_protect_rtcp(s, buf, &len, n + ov)
			  : srtps_protect_rtp(s, buf, &len, n + ov);
		if (r == 0 && r2 != -ESTALE)
			abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t block[DTLS_SRTP_BLOCK_MAX];
	struct dtls_srtp_keys keys;
	static struct srtps *srv[2], *out[2];
	struct srtps *srv2 = NULL, *cli = NULL;
	enum dtls_srtp_profile prof;
	uint8_t *buf;
	size_t len, ov, i;
	bool rtcp, retire;
	int cm;
	int r;

	if (size < 1 || size - 1 > SRTPS_MAX_PACKET)
		return 0;
	cm = (data[0] & FLAG_CM) != 0;
	prof = cm ? DTLS_SRTP_AES128_CM_SHA1_80 : DTLS_SRTP_AEAD_AES_128_GCM;
	rtcp = (data[0] & FLAG_RTCP) != 0;
	retire = (data[0] & FLAG_RETIRE) != 0;
	data++;
	size--;
	for (i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(0x5a ^ (i * 11));
	if (dtls_srtp_keys_split(prof, block, dtls_srtp_block_len(prof), &keys) != 0 ||
	    (srv[cm] == NULL && srtps_new(&keys, true, &srv[cm]) != 0) ||
	    (out[cm] == NULL && srtps_new(&keys, true, &out[cm]) != 0) ||
	    srtps_new(&keys, true, &srv2) != 0 || srtps_new(&keys, false, &cli) != 0)
		abort();
	ov = rtcp ? srtps_rtcp_overhead(cli) : srtps_rtp_overhead(cli);

	/* 1: as received SRTP/SRTCP */
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	len = size;
	r = rtcp ? srtps_unprotect_rtcp(srv[cm], buf, &len)
		 : srtps_unprotect_rtp(srv[cm], buf, &len);
	if (r == 0 ? len + ov != size : len != size)
		abort();
	free(buf);

	/* 2: as plain RTP/RTCP: protect, then it must come back intact */
	buf = malloc(size + ov);
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	len = size;
	r = rtcp ? srtps_protect_rtcp(cli, buf, &len, size + ov)
		 : srtps_protect_rtp(cli, buf, &len, size + ov);
	if (r == 0) {
		if (len != size + ov)
			abort();
		r = rtcp ? srtps_unprotect_rtcp(srv2, buf, &len)
			 : srtps_unprotect_rtp(srv2, buf, &len);
		if (r != 0 || len != size || memcmp(buf, data, size) != 0)
			abort();
	} else if (len != size) {   /* unchanged on error */
		abort();
	}
	free(buf);

	/* 3: outbound, with retirement */
	outbound(out[cm], data, size, rtcp, retire);

	srtps_free(srv2);
	srtps_free(cli);
	dtls_srtp_keys_wipe(&keys);
	return 0;
}
