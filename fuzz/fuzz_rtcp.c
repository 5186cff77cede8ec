/*
 * fuzz_rtcp — libFuzzer target for src/rtcp.
 *
 * Iterates the input as a compound RTCP packet and runs every parser on
 * every packet. Where a writer exists, what parsed is written again and
 * parsed back, and must come out equal: TWCC feedback (every status and
 * arrival time), NACK (same set of sequence numbers), REMB (bitrate unless
 * saturated, SSRCs), FIR entries, and SR/RR (byte-identical when the packet
 * has no padding or profile extension). abort() on any broken invariant.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp/rtcp.h"

#define NACK_CAP 512

static struct rtcp_twcc_status st1[RTCP_TWCC_MAX_STATUS];
static struct rtcp_twcc_status st2[RTCP_TWCC_MAX_STATUS];
static uint8_t out[RTCP_MAX_WORDS * 4];

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Parses the single packet in out[0..len) with rtcp_next. */
static void reparse(size_t len, struct rtcp_pkt *pkt)
{
	struct rtcp_iter it;
	struct rtcp_pkt end;

	rtcp_iter_init(&it, out, len);
	check(rtcp_next(&it, pkt) == 1);
	check(rtcp_next(&it, &end) == 0);
}

static void fuzz_twcc(const struct rtcp_pkt *pkt)
{
	struct rtcp_twcc fb, fb2;
	struct rtcp_pkt p2;
	size_t len;
	int rc = rtcp_twcc_parse(pkt, &fb, st1, RTCP_TWCC_MAX_STATUS);

	if (rc != 0)
		return;
	check(fb.status_count >= 1 && fb.status_count <= RTCP_TWCC_MAX_STATUS);
	/* too small an output array is refused */
	check(rtcp_twcc_parse(pkt, &fb2, st2, fb.status_count - 1u) ==
	      -ENOSPC);
	rc = rtcp_twcc_write(out, sizeof(out), pkt->sender_ssrc,
			     pkt->media_ssrc, &fb, st1, fb.status_count, &len);
	check(rc == 0);
	reparse(len, &p2);
	check(p2.sender_ssrc == pkt->sender_ssrc &&
	      p2.media_ssrc == pkt->media_ssrc);
	check(rtcp_twcc_parse(&p2, &fb2, st2, RTCP_TWCC_MAX_STATUS) == 0);
	check(fb2.base_seq == fb.base_seq &&
	      fb2.status_count == fb.status_count &&
	      fb2.ref_time == fb.ref_time && fb2.fb_count == fb.fb_count);
	for (size_t i = 0; i < fb.status_count; i++) {
		check(st2[i].seq == st1[i].seq);
		check(st2[i].received == st1[i].received);
		check(st2[i].arrival_us == st1[i].arrival_us);
		check(st2[i].delta_us == st1[i].delta_us);
	}
}

static bool has(const uint16_t *v, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void fuzz_nack(const struct rtcp_pkt *pkt)
{
	uint16_t a[NACK_CAP], b[NACK_CAP];
	struct rtcp_pkt p2;
	size_t na, nb, len;
	int rc = rtcp_nack_expand(pkt, a, NACK_CAP, &na);

	if (rc != 0)
		return;
	check(na > 0 && na <= NACK_CAP);
	if (na > 1)
		check(rtcp_nack_expand(pkt, b, na - 1, &nb) == -ENOSPC);
	check(rtcp_nack_write(out, sizeof(out), pkt->sender_ssrc,
			      pkt->media_ssrc, a, na, &len) == 0);
	reparse(len, &p2);
	check(rtcp_nack_expand(&p2, b, NACK_CAP, &nb) == 0);
	for (size_t i = 0; i < nb; i++)
		check(has(a, na, b[i]));
	for (size_t i = 0; i < na; i++)
		check(has(b, nb, a[i]));
}

static void fuzz_remb(const struct rtcp_pkt *pkt)
{
	static struct rtcp_remb r, r2;
	struct rtcp_pkt p2;
	size_t len;

	if (rtcp_remb_parse(pkt, &r) != 0)
		return;
	check(rtcp_remb_write(out, sizeof(out), pkt->sender_ssrc, r.bitrate,
			      r.ssrc, r.n_ssrc, &len) == 0);
	reparse(len, &p2);
	check(rtcp_remb_parse(&p2, &r2) == 0);
	if (r.bitrate != UINT64_MAX)
		check(r2.bitrate == r.bitrate);
	check(r2.n_ssrc == r.n_ssrc);
	check(memcmp(r2.ssrc, r.ssrc, r.n_ssrc * sizeof(uint32_t)) == 0);
}

static void fuzz_fir(const struct rtcp_pkt *pkt)
{
	struct rtcp_fir e[64], e2;
	struct rtcp_pkt p2;
	size_t len;
	int n = rtcp_fir_count(pkt);

	if (n <= 0)
		return;
	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++)
		check(rtcp_fir_entry(pkt, (unsigned)i, &e[i]) == 0);
	check(rtcp_fir_entry(pkt, (unsigned)rtcp_fir_count(pkt), &e2) ==
	      -ENOENT);
	check(rtcp_fir_write(out, sizeof(out), pkt->sender_ssrc, e, (size_t)n,
			     &len) == 0);
	reparse(len, &p2);
	check(rtcp_fir_count(&p2) == n);
	for (int i = 0; i < n; i++) {
		check(rtcp_fir_entry(&p2, (unsigned)i, &e2) == 0);
		check(e2.ssrc == e[i].ssrc && e2.seq == e[i].seq);
	}
}

static void fuzz_reports(const struct rtcp_pkt *pkt)
{
	struct rtcp_rb rb[RTCP_MAX_COUNT];
	struct rtcp_sr sr;
	size_t len, exact;
	bool is_sr = pkt->type == RTCP_SR;

	if (pkt->type != RTCP_SR && pkt->type != RTCP_RR) {
		check(rtcp_report_block(pkt, 0, &rb[0]) == -EINVAL);
		return;
	}
	if (is_sr)
		check(rtcp_sr_parse(pkt, &sr) == 0);
	for (unsigned i = 0; i < pkt->fmt; i++)
		check(rtcp_report_block(pkt, i, &rb[i]) == 0);
	check(rtcp_report_block(pkt, pkt->fmt, &rb[0]) == -ENOENT);
	if (is_sr)
		check(rtcp_sr_write(out, sizeof(out), pkt->sender_ssrc, &sr, rb,
				    pkt->fmt, &len) == 0);
	else
		check(rtcp_rr_write(out, sizeof(out), pkt->sender_ssrc, rb,
				    pkt->fmt, &len) == 0);
	exact = (is_sr ? RTCP_SENDER_INFO_LEN : 0) +
		(size_t)pkt->fmt * RTCP_REPORT_BLOCK_LEN;
	if (!pkt->padding && pkt->body_len == exact) {
		/* identical bytes (the first byte's P bit is 0 in both) */
		check(len == pkt->raw_len);
		check(memcmp(out, pkt->raw, len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	int rc;

	rtcp_iter_init(&it, data, size);
	while ((rc = rtcp_next(&it, &pkt)) == 1) {
		struct rtcp_bye bye;
		struct rtcp_sr sr;

		check(pkt.raw >= data && pkt.raw + pkt.raw_len <= data + size);
		check(pkt.body >= pkt.raw &&
		      pkt.body + pkt.body_len <= pkt.raw + pkt.raw_len);
		check(pkt.raw_len % 4 == 0);
		if (pkt.type != RTCP_SR)
			check(rtcp_sr_parse(&pkt, &sr) == -EINVAL);
		fuzz_reports(&pkt);
		if (rtcp_bye_parse(&pkt, &bye) == 0)
			check(bye.n_ssrc == pkt.fmt);
		(void)rtcp_is_pli(&pkt);
		fuzz_nack(&pkt);
		fuzz_fir(&pkt);
		fuzz_remb(&pkt);
		fuzz_twcc(&pkt);
	}
	check(rc == 0 || rc == -EBADMSG);
	check(rtcp_next(&it, &pkt) == rc);
	return 0;
}
