/*
 * Unit tests for src/rtcp: compound iteration, SR/RR/SDES/BYE, NACK, PLI,
 * FIR, REMB and transport-wide CC feedback, hand-built in hex; writer
 * output checked byte for byte where the encoding is unique, and
 * write -> parse round trips for TWCC over synthetic traffic (losses,
 * reordering, large gaps, sequence wrap). Malformed compounds must fail
 * cleanly (run under ASan to see "never a crash").
 */
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "rtcp/rtcp.h"

static size_t hx(const char *hex, uint8_t *buf, size_t cap)
{
	long n = test_hex(hex, buf, cap);
	return n < 0 ? 0 : (size_t)n;
}

/* SR (1 report block) + SDES CNAME "abcd" */
#define SR_SDES_HEX                                                           \
	"81 c8 000c 11223344"                                                 \
	"e54d1a2b 3c4d5e6f 00001000 0000000a 00000400"                        \
	"55667788 40 fffffe 00010005 00000010 1a2b3c4d 00008000"              \
	"81 ca 0003 11223344 01 04 61626364 0000"

int test_rtcp_sr_sdes(void)
{
	uint8_t b[128];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtcp_sr sr;
	struct rtcp_rb rb;
	size_t n = hx(SR_SDES_HEX, b, sizeof(b));

	TEST_EQ(n, 52 + 16);
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_SR);
	TEST_EQ(pkt.fmt, 1);
	TEST_EQ(pkt.sender_ssrc, 0x11223344);
	TEST_EQ(pkt.raw_len, 52);
	TEST_EQ(pkt.body_len, 44);
	TEST_EQ(rtcp_sr_parse(&pkt, &sr), 0);
	TEST_EQ(sr.ntp, 0xe54d1a2b3c4d5e6fULL);
	TEST_EQ(sr.rtp_ts, 0x1000);
	TEST_EQ(sr.pkt_count, 10);
	TEST_EQ(sr.octet_count, 1024);
	TEST_EQ(rtcp_report_block(&pkt, 0, &rb), 0);
	TEST_EQ(rb.ssrc, 0x55667788);
	TEST_EQ(rb.fraction_lost, 0x40);
	TEST_EQ(rb.cum_lost, -2);
	TEST_EQ(rb.ext_highest_seq, 0x10005);
	TEST_EQ(rb.jitter, 16);
	TEST_EQ(rb.lsr, 0x1a2b3c4d);
	TEST_EQ(rb.dlsr, 0x8000);
	TEST_EQ(rtcp_report_block(&pkt, 1, &rb), -ENOENT);

	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_SDES);
	TEST_EQ(pkt.fmt, 1);
	TEST_EQ(pkt.sender_ssrc, 0x11223344);
	TEST_EQ(pkt.body_len, 12);
	TEST_EQ(rtcp_sr_parse(&pkt, &sr), -EINVAL);
	TEST_EQ(rtcp_report_block(&pkt, 0, &rb), -EINVAL);
	TEST_EQ(rtcp_next(&it, &pkt), 0);
	TEST_EQ(rtcp_next(&it, &pkt), 0);

	/* the writers reproduce both packets */
	{
		uint8_t w[128];
		size_t l1, l2;
		TEST_EQ(rtcp_sr_write(w, sizeof(w), 0x11223344, &sr, &rb, 1,
				      &l1), 0);
		TEST_EQ(rtcp_sdes_cname_write(w + l1, sizeof(w) - l1,
					      0x11223344, "abcd", 4, &l2), 0);
		TEST_EQ(l1 + l2, n);
		TEST_MEMEQ(w, b, n);
		TEST_EQ(rtcp_sr_write(w, 51, 0x11223344, &sr, &rb, 1, &l1),
			-ENOSPC);
	}
	return 0;
}

int test_rtcp_rr(void)
{
	uint8_t b[128], w[128];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtcp_rb rb[2], got;
	size_t n, wl;

	/* empty RR (RC=0), as sent by a receive-only endpoint */
	n = hx("80 c9 0001 0badcafe", b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_RR);
	TEST_EQ(pkt.fmt, 0);
	TEST_EQ(pkt.sender_ssrc, 0x0badcafe);
	TEST_EQ(pkt.body_len, 0);
	TEST_EQ(rtcp_report_block(&pkt, 0, &got), -ENOENT);
	TEST_EQ(rtcp_next(&it, &pkt), 0);

	n = hx("81 c9 0007 0badcafe"
	       "01020304 ff 7fffff ffffffff 00000000 00000001 ffffffff",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_report_block(&pkt, 0, &got), 0);
	TEST_EQ(got.ssrc, 0x01020304);
	TEST_EQ(got.fraction_lost, 255);
	TEST_EQ(got.cum_lost, 0x7fffff);
	TEST_EQ(got.ext_highest_seq, 0xffffffff);
	TEST_EQ(got.lsr, 1);
	TEST_EQ(got.dlsr, 0xffffffff);

	/* write 2 blocks, clamp an out-of-range loss, parse back */
	memset(rb, 0, sizeof(rb));
	rb[0].ssrc = 7;
	rb[0].cum_lost = -0x800000;
	rb[0].jitter = 99;
	rb[1].ssrc = 8;
	rb[1].cum_lost = 0x1000000; /* clamped to 0x7fffff */
	rb[1].fraction_lost = 3;
	TEST_EQ(rtcp_rr_write(w, sizeof(w), 42, rb, 2, &wl), 0);
	TEST_EQ(wl, 8 + 48);
	rtcp_iter_init(&it, w, wl);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.fmt, 2);
	TEST_EQ(pkt.sender_ssrc, 42);
	TEST_EQ(rtcp_report_block(&pkt, 0, &got), 0);
	TEST_EQ(got.ssrc, 7);
	TEST_EQ(got.cum_lost, -0x800000);
	TEST_EQ(got.jitter, 99);
	TEST_EQ(rtcp_report_block(&pkt, 1, &got), 0);
	TEST_EQ(got.cum_lost, 0x7fffff);
	TEST_EQ(got.fraction_lost, 3);
	TEST_EQ(rtcp_next(&it, &pkt), 0);
	TEST_EQ(rtcp_rr_write(w, sizeof(w), 42, rb, 32, &wl), -EINVAL);
	TEST_EQ(rtcp_rr_write(w, 55, 42, rb, 2, &wl), -ENOSPC);
	return 0;
}

int test_rtcp_bye(void)
{
	uint8_t b[64], w[64];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtcp_bye bye;
	uint32_t ss[2] = { 0xaaaaaaaa, 0xbbbbbbbb };
	size_t n, wl;

	n = hx("82 cb 0003 aaaaaaaa bbbbbbbb 03 627965", b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_BYE);
	TEST_EQ(pkt.sender_ssrc, 0xaaaaaaaa);
	TEST_EQ(rtcp_bye_parse(&pkt, &bye), 0);
	TEST_EQ(bye.n_ssrc, 2);
	TEST_EQ(bye.ssrc[0], 0xaaaaaaaa);
	TEST_EQ(bye.ssrc[1], 0xbbbbbbbb);
	TEST_EQ(bye.reason_len, 3);
	TEST_MEMEQ(bye.reason, "bye", 3);

	/* reason length past the end */
	n = hx("81 cb 0002 aaaaaaaa 09 627965", b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_bye_parse(&pkt, &bye), -EBADMSG);

	TEST_EQ(rtcp_bye_write(w, sizeof(w), ss, 2, &wl), 0);
	TEST_EQ(wl, 12);
	TEST_MEMEQ(w, "\x82\xcb\x00\x02\xaa\xaa\xaa\xaa\xbb\xbb\xbb\xbb", 12);
	rtcp_iter_init(&it, w, wl);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_bye_parse(&pkt, &bye), 0);
	TEST_EQ(bye.n_ssrc, 2);
	TEST_ASSERT(bye.reason == NULL);
	TEST_EQ(rtcp_bye_write(w, sizeof(w), ss, 0, &wl), -EINVAL);
	return 0;
}

struct nack_acc {
	uint16_t seq[64];
	size_t n;
};

static bool nack_cb(uint16_t seq, void *arg)
{
	struct nack_acc *a = arg;
	if (a->n < 64)
		a->seq[a->n++] = seq;
	return true;
}

/* Stops after three. */
static bool nack_cb3(uint16_t seq, void *arg)
{
	struct nack_acc *a = arg;
	a->seq[a->n++] = seq;
	return a->n < 3;
}

int test_rtcp_nack(void)
{
	uint8_t b[64], w[64];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct nack_acc acc = { { 0 }, 0 };
	uint16_t seqs[40];
	size_t n, k, wl;

	/* PID 100, BLP 0x8001 -> 100, 101, 116; then PID 65535 BLP 0x0001 */
	n = hx("81 cd 0004 00000001 00000002 0064 8001 ffff 0001", b,
	       sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_RTPFB);
	TEST_EQ(pkt.fmt, RTCP_FMT_NACK);
	TEST_EQ(pkt.sender_ssrc, 1);
	TEST_EQ(pkt.media_ssrc, 2);
	TEST_EQ(pkt.body_len, 8);
	TEST_EQ(rtcp_nack_expand(&pkt, seqs, 40, &k), 0);
	TEST_EQ(k, 5);
	TEST_EQ(seqs[0], 100);
	TEST_EQ(seqs[1], 101);
	TEST_EQ(seqs[2], 116);
	TEST_EQ(seqs[3], 65535);
	TEST_EQ(seqs[4], 0);
	TEST_EQ(rtcp_nack_foreach(&pkt, nack_cb, &acc), 5);
	TEST_EQ(acc.n, 5);
	TEST_MEMEQ(acc.seq, seqs, 5 * sizeof(uint16_t));
	/* a callback that stops: three handed over, then nothing */
	acc.n = 0;
	TEST_EQ(rtcp_nack_foreach(&pkt, nack_cb3, &acc), 3);
	TEST_EQ(acc.n, 3);
	TEST_MEMEQ(acc.seq, seqs, 3 * sizeof(uint16_t));
	acc.n = 0;
	/* exactly enough room, and one too few */
	k = 99;
	TEST_EQ(rtcp_nack_expand(&pkt, seqs, 5, &k), 0);
	TEST_EQ(k, 5);
	k = 99;
	TEST_EQ(rtcp_nack_expand(&pkt, seqs, 4, &k), -ENOSPC);
	TEST_EQ(k, 99);
	TEST_ASSERT(!rtcp_is_pli(&pkt));

	/* writer: the same two entries from a sorted list */
	{
		const uint16_t lost[] = { 100, 101, 116, 65535, 0 };
		TEST_EQ(rtcp_nack_write(w, sizeof(w), 1, 2, lost, 5, &wl), 0);
		TEST_EQ(wl, n);
		TEST_MEMEQ(w, b, n);
	}
	/* gaps wider than 16 start new entries; duplicates collapse */
	{
		const uint16_t lost[] = { 10, 10, 26, 27, 28, 65534, 3 };
		TEST_EQ(rtcp_nack_write(w, sizeof(w), 1, 2, lost, 7, &wl), 0);
		TEST_EQ(wl, 12 + 3 * 4);
		TEST_MEMEQ(w + 12, "\x00\x0a\x80\x00" "\x00\x1b\x00\x01"
				   "\xff\xfe\x00\x10", 12);
		rtcp_iter_init(&it, w, wl);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_EQ(rtcp_nack_expand(&pkt, seqs, 40, &k), 0);
		TEST_EQ(k, 6);
		TEST_EQ(seqs[0], 10);
		TEST_EQ(seqs[1], 26);
		TEST_EQ(seqs[2], 27);
		TEST_EQ(seqs[3], 28);
		TEST_EQ(seqs[4], 65534);
		TEST_EQ(seqs[5], 3);
	}
	TEST_EQ(rtcp_nack_write(w, sizeof(w), 1, 2, seqs, 0, &wl), -EINVAL);
	TEST_EQ(rtcp_nack_write(w, 15, 1, 2, seqs, 1, &wl), -ENOSPC);

	/* FCI that is not a whole number of entries (padding stripped) */
	n = hx("a1 cd 0003 00000001 00000002 0064 0002", b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.body_len, 2);
	TEST_EQ(rtcp_nack_expand(&pkt, seqs, 40, &k), -EBADMSG);
	/* no FCI entry at all (found by fuzz_rtcp): RFC 4585 needs one */
	n = hx("81 cd 0002 00000001 00000002", b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_nack_expand(&pkt, seqs, 40, &k), -EBADMSG);
	acc.n = 0;
	TEST_EQ(rtcp_nack_foreach(&pkt, nack_cb, &acc), -EBADMSG);
	TEST_EQ(acc.n, 0);
	return 0;
}

int test_rtcp_pli_fir(void)
{
	uint8_t b[64], w[64];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtcp_fir f[2] = { { 0x2a2a2a2a, 42 }, { 0x01010101, 255 } };
	struct rtcp_fir e;
	size_t n, wl;

	n = hx("81 ce 0002 00000001 00000002"
	       "84 ce 0004 00000001 00000000 2a2a2a2a 2a000000",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_ASSERT(rtcp_is_pli(&pkt));
	TEST_EQ(pkt.media_ssrc, 2);
	TEST_EQ(pkt.body_len, 0);
	TEST_EQ(rtcp_fir_count(&pkt), -EINVAL);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_ASSERT(!rtcp_is_pli(&pkt));
	TEST_EQ(rtcp_fir_count(&pkt), 1);
	TEST_EQ(rtcp_fir_entry(&pkt, 0, &e), 0);
	TEST_EQ(e.ssrc, 0x2a2a2a2a);
	TEST_EQ(e.seq, 42);
	TEST_EQ(rtcp_fir_entry(&pkt, 1, &e), -ENOENT);
	TEST_EQ(rtcp_next(&it, &pkt), 0);

	TEST_EQ(rtcp_pli_write(w, sizeof(w), 1, 2, &wl), 0);
	TEST_EQ(wl, 12);
	TEST_MEMEQ(w, b, 12);
	TEST_EQ(rtcp_pli_write(w, 11, 1, 2, &wl), -ENOSPC);
	TEST_EQ(rtcp_fir_write(w, sizeof(w), 1, f, 1, &wl), 0);
	TEST_EQ(wl, 20);
	TEST_MEMEQ(w, b + 12, 20);
	TEST_EQ(rtcp_fir_write(w, sizeof(w), 1, f, 2, &wl), 0);
	rtcp_iter_init(&it, w, wl);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_fir_count(&pkt), 2);
	TEST_EQ(rtcp_fir_entry(&pkt, 1, &e), 0);
	TEST_EQ(e.ssrc, 0x01010101);
	TEST_EQ(e.seq, 255);
	TEST_EQ(rtcp_fir_write(w, 27, 1, f, 2, &wl), -ENOSPC);
	TEST_EQ(rtcp_fir_write(w, sizeof(w), 1, f, 0, &wl), -EINVAL);
	/* empty FCI, and a half entry after a whole one */
	n = hx("84 ce 0002 00000001 00000000"
	       "84 ce 0005 00000001 00000000 2a2a2a2a 2a000000 01020304",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_fir_count(&pkt), -EBADMSG);
	TEST_EQ(rtcp_fir_entry(&pkt, 0, &e), -EBADMSG);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_fir_count(&pkt), -EBADMSG);
	return 0;
}

int test_rtcp_remb(void)
{
	uint8_t b[64], w[64];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtcp_remb r;
	uint32_t ss[2] = { 0x11111111, 0x22222222 };
	size_t n, wl;

	/* 1 Mbit/s = 250000 << 2: exp 2, mantissa 0x3d090 -> 0b d0 90 */
	n = hx("8f ce 0005 00000001 00000000 52454d42 01 0bd090 11111111",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_remb_parse(&pkt, &r), 0);
	TEST_EQ(r.bitrate, 1000000);
	TEST_EQ(r.n_ssrc, 1);
	TEST_EQ(r.ssrc[0], 0x11111111);
	TEST_EQ(rtcp_remb_write(w, sizeof(w), 1, 1000000, ss, 1, &wl), 0);
	TEST_EQ(wl, n);
	TEST_MEMEQ(w, b, n);

	/* rounding down to an 18-bit mantissa; zero; huge */
	TEST_EQ(rtcp_remb_write(w, sizeof(w), 1, 1234567891, ss, 2, &wl), 0);
	rtcp_iter_init(&it, w, wl);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_remb_parse(&pkt, &r), 0);
	TEST_ASSERT(r.bitrate <= 1234567891);
	TEST_ASSERT(r.bitrate > 1234567891 - (1234567891 >> 17));
	TEST_EQ(r.n_ssrc, 2);
	TEST_EQ(r.ssrc[1], 0x22222222);
	TEST_EQ(rtcp_remb_write(w, sizeof(w), 1, 0, ss, 0, &wl), 0);
	rtcp_iter_init(&it, w, wl);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_remb_parse(&pkt, &r), 0);
	TEST_EQ(r.bitrate, 0);
	TEST_EQ(r.n_ssrc, 0);
	TEST_EQ(rtcp_remb_write(w, sizeof(w), 1, UINT64_MAX, ss, 0, &wl), 0);
	rtcp_iter_init(&it, w, wl);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_remb_parse(&pkt, &r), 0);
	TEST_ASSERT(r.bitrate == (UINT64_MAX >> 46) << 46);

	/* exponent 63 saturates instead of overflowing */
	n = hx("8f ce 0004 00000001 00000000 52454d42 00 ffffff", b,
	       sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_remb_parse(&pkt, &r), 0);
	TEST_ASSERT(r.bitrate == UINT64_MAX);
	/* more SSRCs announced than present */
	n = hx("8f ce 0005 00000001 00000000 52454d42 02 0bd090 11111111",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_remb_parse(&pkt, &r), -EBADMSG);
	/* another AFB, not REMB */
	n = hx("8f ce 0004 00000001 00000000 41424344 00 000000", b,
	       sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_remb_parse(&pkt, &r), -EINVAL);
	return 0;
}

/*
 * TWCC, base 100, 24 packets, ref time 16 (1.024 s), fb count 7:
 *  chunk D491: 2-bit vector  100 S, 101 S, 102 -, 103 L, 104 S, 105 -,
 *                            106 S
 *  chunk 2003: run of 3 S    107..109
 *  chunk A001: 1-bit vector  110 S, 111..122 -, 123 S
 *  deltas: 04 08 fff0 00 ff 01 02 03 04 10, then 3 bytes zero padding
 */
#define TWCC_HEX                                                              \
	"8f cd 0009 01020304 05060708"                                        \
	"0064 0018 000010 07"                                                 \
	"d491 2003 a001"                                                      \
	"04 08 fff0 00 ff 01 02 03 04 10"                                     \
	"000000"

int test_rtcp_twcc_parse(void)
{
	static const int64_t arr[24] = {
		1025000, 1027000, 0, 1023000, 1023000, 0, 1086750, 1087000,
		1087500, 1088250, 1089250, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1093250 };
	uint8_t b[64];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtcp_twcc fb;
	struct rtcp_twcc_status st[32];
	size_t n = hx(TWCC_HEX, b, sizeof(b));

	TEST_EQ(n, 40);
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_RTPFB);
	TEST_EQ(pkt.fmt, RTCP_FMT_TWCC);
	TEST_EQ(pkt.media_ssrc, 0x05060708);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), 0);
	TEST_EQ(fb.base_seq, 100);
	TEST_EQ(fb.status_count, 24);
	TEST_EQ(fb.ref_time, 16);
	TEST_EQ(fb.fb_count, 7);
	for (int i = 0; i < 24; i++) {
		TEST_EQ(st[i].seq, 100 + i);
		TEST_EQ(st[i].received, arr[i] != 0);
		TEST_EQ(st[i].arrival_us, arr[i]);
	}
	TEST_EQ(st[3].delta_us, -4000);
	TEST_EQ(st[6].delta_us, 63750);
	TEST_EQ(st[4].delta_us, 0);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 23), -ENOSPC);
	TEST_EQ(rtcp_nack_expand(&pkt, NULL, 0, &n), -EINVAL);

	/* same with RFC 3550 padding (P bit, count 3) instead of zeros */
	n = hx(TWCC_HEX, b, sizeof(b));
	b[0] |= 0x20;
	b[n - 1] = 3;
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), 0);
	TEST_EQ(st[23].arrival_us, 1093250);

	/* negative reference time: 0xfffffe = -2 -> -128 ms */
	n = hx("8f cd 0005 01020304 05060708 0000 0001 fffffe 00 2001 04 00",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), 0);
	TEST_EQ(fb.ref_time, -2);
	TEST_EQ(st[0].arrival_us, -128000 + 1000);
	return 0;
}

int test_rtcp_twcc_malformed(void)
{
	uint8_t b[64];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtcp_twcc fb, keep;
	struct rtcp_twcc_status st[32];
	size_t n;

	memset(&keep, 0x5a, sizeof(keep));
	fb = keep;
	/* deltas cut: 9 of 11 delta bytes present */
	n = hx("8f cd 0008 01020304 05060708 0064 0018 000010 07"
	       "d491 2003 a001 04 08 fff0 00 ff 01 02 03 00",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.body_len, 24);
	/* the trailing zero is taken as a delta; still one short */
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), -EBADMSG);
	TEST_MEMEQ(&fb, &keep, sizeof(fb));
	/* chunks cut: 24 statuses announced, chunks cover 10 */
	n = hx("8f cd 0005 01020304 05060708 0064 0018 000010 07 d491 2003",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), -EBADMSG);
	/* reserved symbol 3 in a 2-bit vector */
	n = hx("8f cd 0005 01020304 05060708 0000 0001 000000 00 f000 0000",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), -EBADMSG);
	/* reserved symbol 3 in a run */
	n = hx("8f cd 0005 01020304 05060708 0000 0001 000000 00 6001 0000",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), -EBADMSG);
	/* status count 0, and over the limit (run of lost covers it) */
	n = hx("8f cd 0005 01020304 05060708 0000 0000 000000 00 0000 0000",
	       b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), -EBADMSG);
	n = hx("8f cd 0008 01020304 05060708 0000 8000 000000 00"
	       "1fff 1fff 1fff 1fff 1fff 0005 0000 0000", b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), -EBADMSG);
	/* fixed fields cut */
	n = hx("8f cd 0003 01020304 05060708 0000 0001", b, sizeof(b));
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &fb, st, 32), -EBADMSG);
	TEST_MEMEQ(&fb, &keep, sizeof(fb));
	return 0;
}

/* A small deterministic PRNG so the synthetic traffic is reproducible. */
static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#define RT_MAX 20000

static struct rtcp_twcc_status rt_in[RT_MAX], rt_out[RTCP_TWCC_MAX_STATUS];
static uint8_t rt_buf[65536 * 4];

/*
 * Writes in[0..n) with base/ref, parses it back and checks every covered
 * sequence number. Returns 0 or -1.
 */
static int twcc_roundtrip(uint16_t base, int32_t ref, uint8_t fbc,
			  const struct rtcp_twcc_status *in, size_t n,
			  size_t *bytes)
{
	struct rtcp_twcc fb = { base, 0, ref, fbc }, got;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	size_t len, k = 0;

	TEST_EQ(rtcp_twcc_write(rt_buf, sizeof(rt_buf), 0xaaaa, 0xbbbb, &fb,
				in, n, &len), 0);
	TEST_EQ(len % 4, 0);
	rtcp_iter_init(&it, rt_buf, len);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.sender_ssrc, 0xaaaa);
	TEST_EQ(pkt.media_ssrc, 0xbbbb);
	TEST_EQ(rtcp_next(&it, &pkt), 0);
	rtcp_iter_init(&it, rt_buf, len);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(rtcp_twcc_parse(&pkt, &got, rt_out, RTCP_TWCC_MAX_STATUS), 0);
	TEST_EQ(got.base_seq, base);
	TEST_EQ(got.ref_time, ref);
	TEST_EQ(got.fb_count, fbc);
	TEST_EQ(got.status_count,
		(uint16_t)(in[n - 1].seq - base) + 1);
	for (size_t i = 0; i < got.status_count; i++) {
		const struct rtcp_twcc_status *o = &rt_out[i];
		TEST_EQ(o->seq, (uint16_t)(base + i));
		if (k < n && in[k].seq == o->seq) {
			TEST_EQ(o->received, in[k].received);
			if (in[k].received) {
				int64_t d = o->arrival_us - in[k].arrival_us;
				TEST_ASSERT(d >= -125 && d <= 125);
				TEST_EQ(o->arrival_us % 250, 0);
			}
			k++;
		} else {
			TEST_ASSERT(!o->received);
		}
	}
	TEST_EQ(k, n);
	/* shorter buffers are refused: every size for small packets, else
	 * around the header, the middle and the end */
	for (size_t c = 0; c < len; c++) {
		if (len > 64 && c > 24 && c != len / 2 && c + 4 < len)
			continue;
		TEST_EQ(rtcp_twcc_write(rt_buf, c, 0xaaaa, 0xbbbb, &fb, in, n,
					&k), -ENOSPC);
	}
	if (bytes)
		*bytes = len;
	return 0;
}

int test_rtcp_twcc_roundtrip(void)
{
	uint32_t rng = 0x12345678;
	size_t n, len;
	int64_t t;

	/* 1. all received, steady small deltas, exact 250 µs multiples */
	t = 1024000;
	for (n = 0; n < 100; n++) {
		t += 250 * (rng_next(&rng) % 40);
		rt_in[n] = (struct rtcp_twcc_status){ (uint16_t)(1000 + n),
						      true, 0, t };
	}
	TEST_EQ(twcc_roundtrip(1000, 16, 1, rt_in, n, &len), 0);
	/* 100 small deltas -> one run chunk, padded to 32 bits */
	TEST_EQ(len, 20 + 2 + 100 + 2);

	/* 2. random losses (~25%), arbitrary µs (rounding), explicit and
	 * implicit (missing entry) losses */
	t = 5000000;
	n = 0;
	for (uint16_t s = 0; s < 3000; s++) {
		uint32_t r = rng_next(&rng);
		t += r % 3000;
		if (r % 4 == 0)
			continue; /* gap: not in the list */
		rt_in[n++] = (struct rtcp_twcc_status){ (uint16_t)(7 + s),
							r % 7 != 0, 0, t };
	}
	TEST_EQ(twcc_roundtrip(5, 78, 2, rt_in, n, NULL), 0);

	/* 3. reordering: arrival times go backwards (negative deltas,
	 * 2-bit vectors and large deltas), plus big gaps (> 64 ms) */
	t = 2000000;
	n = 0;
	for (uint16_t s = 0; s < 500; s++) {
		uint32_t r = rng_next(&rng);
		int64_t d = (int64_t)(r % 5000) - 1500;
		if (r % 50 == 0)
			d = 300000 + r % 100000; /* 300..400 ms */
		t += d;
		rt_in[n++] = (struct rtcp_twcc_status){ s, true, 0, t };
	}
	TEST_EQ(twcc_roundtrip(0, 31, 3, rt_in, n, NULL), 0);

	/* 4. sequence wrap-around, first packet after a lost head */
	t = 100;
	n = 0;
	for (uint32_t s = 65530; s < 65530 + 40; s++) {
		t += 1000;
		if (s % 3 == 0)
			continue;
		rt_in[n++] = (struct rtcp_twcc_status){ (uint16_t)s, true, 0,
							t };
	}
	TEST_EQ(twcc_roundtrip(65520, 0, 255, rt_in, n, NULL), 0);

	/* 5. long losses: runs longer than one run chunk (8191) */
	rt_in[0] = (struct rtcp_twcc_status){ 40000, true, 0, 64000 * 5 };
	rt_in[1] = (struct rtcp_twcc_status){ (uint16_t)(40000 + 17000),
					      true, 0, 64000 * 5 + 8000000 };
	TEST_EQ(twcc_roundtrip(40000, 5, 9, rt_in, 2, &len), 0);
	/* a 1-bit vector (offsets 0..13), three lost runs (8191 + 8191 +
	 * 604), a run of one large; one small and one large delta; pad 3 */
	TEST_EQ(len, 20 + 5 * 2 + 1 + 2 + 3);

	/* 6. negative reference time and arrival before it */
	rt_in[0] = (struct rtcp_twcc_status){ 9, true, 0, -200000 };
	rt_in[1] = (struct rtcp_twcc_status){ 10, true, 0, -199999 };
	TEST_EQ(twcc_roundtrip(9, -3, 0, rt_in, 2, NULL), 0);

	/* 7. single not-received entry, and a maximal count */
	rt_in[0] = (struct rtcp_twcc_status){ 3, false, 0, 0 };
	TEST_EQ(twcc_roundtrip(0, 0, 0, rt_in, 1, NULL), 0);
	rt_in[0] = (struct rtcp_twcc_status){ 0, true, 0, 0 };
	rt_in[1] = (struct rtcp_twcc_status){ RTCP_TWCC_MAX_STATUS - 1, true,
					      0, 8000000 };
	TEST_EQ(twcc_roundtrip(0, 0, 0, rt_in, 2, NULL), 0);

	/* 8. mixed random patterns, many seeds */
	for (int round = 0; round < 200; round++) {
		uint16_t base = (uint16_t)rng_next(&rng);
		uint16_t s = base;
		int32_t ref = (int32_t)(rng_next(&rng) % 2000) - 1000;
		size_t cnt = 1 + rng_next(&rng) % 300;
		t = (int64_t)ref * 64000 + (int64_t)(rng_next(&rng) % 64000);
		n = 0;
		for (size_t i = 0; i < cnt; i++) {
			uint32_t r = rng_next(&rng);
			s = (uint16_t)(s + 1 + (r % 8 == 0 ? r % 30 : 0));
			t += (int64_t)(r % 70000) - 3000;
			rt_in[n++] = (struct rtcp_twcc_status){
				s, r % 5 != 0, 0, t };
		}
		TEST_EQ(twcc_roundtrip(base, ref, (uint8_t)round, rt_in, n,
				       NULL), 0);
	}
	return 0;
}

int test_rtcp_twcc_write_errors(void)
{
	struct rtcp_twcc fb = { 100, 0, 0, 0 };
	struct rtcp_twcc_status st[3] = {
		{ 100, true, 0, 1000 }, { 102, true, 0, 2000 },
		{ 101, true, 0, 3000 } };
	uint8_t b[128];
	size_t len;

	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 0, &len),
		-EINVAL);
	/* out of order */
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 3, &len),
		-EINVAL);
	/* duplicate */
	st[2].seq = 102;
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 3, &len),
		-EINVAL);
	/* before the base: wraps to a huge offset, then order breaks */
	st[0].seq = 99;
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 2, &len),
		-EINVAL);
	/* a single entry 32767 past the base is over the limit */
	st[0].seq = (uint16_t)(100 + RTCP_TWCC_MAX_STATUS);
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 1, &len),
		-EINVAL);
	/* delta beyond the 16-bit signed range (8.19 s) */
	st[0] = (struct rtcp_twcc_status){ 100, true, 0, 0 };
	st[1] = (struct rtcp_twcc_status){ 101, true, 0, 8192000 };
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 2, &len),
		-ERANGE);
	st[1].arrival_us = 8191750; /* 32767 ticks: fits */
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 2, &len), 0);
	st[1].arrival_us = -8192000; /* -32768 ticks: fits */
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 2, &len), 0);
	st[1].arrival_us = INT64_MAX;
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 2, &len),
		-ERANGE);
	/* reference time outside 24 bits */
	fb.ref_time = 1 << 23;
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 1, &len),
		-EINVAL);
	fb.ref_time = -(1 << 23);
	st[0].arrival_us = (int64_t)fb.ref_time * 64000;
	TEST_EQ(rtcp_twcc_write(b, sizeof(b), 1, 2, &fb, st, 1, &len), 0);
	TEST_EQ(b[16], 0x80);
	TEST_EQ(b[17], 0x00);
	TEST_EQ(b[18], 0x00);
	return 0;
}

int test_rtcp_malformed(void)
{
	static const char *const bad[] = {
		"40 c9 0001 0badcafe",           /* version 1 */
		"80 c9 0002 0badcafe",           /* length past the end */
		"80 c9 0001 0badcafe 80 c9",     /* 2 trailing bytes */
		"81 c9 0001 0badcafe",           /* RC 1 without a block */
		"80 c8 0001 0badcafe",           /* SR without sender info */
		"81 cd 0001 00000001",           /* NACK without media SSRC */
		"81 ce 0000",                    /* PLI with no SSRCs */
		"82 cb 0001 aaaaaaaa",           /* BYE SC 2, one SSRC */
		"a0 c9 0001 0badcafe",           /* padding count 0xfe > 4 */
		"a0 c9 0001 0badca00",           /* padding count 0 */
		"a0 c9 0000",                    /* P bit, nothing to pad */
		"a0 c9 0001 00000004",           /* RR whose SSRC is padding */
		"80",                            /* one byte */
	};
	uint8_t b[64];
	struct rtcp_iter it;
	struct rtcp_pkt pkt;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = hx(bad[i], b, sizeof(b));
		int rc;
		TEST_ASSERT(n > 0);
		rtcp_iter_init(&it, b, n);
		while ((rc = rtcp_next(&it, &pkt)) == 1)
			;
		if (rc != -EBADMSG)
			fprintf(stderr, "    case %zu: %d\n", i, rc);
		TEST_EQ(rc, -EBADMSG);
		TEST_EQ(rtcp_next(&it, &pkt), -EBADMSG); /* sticky */
	}
	/* a good packet before a bad one is still returned */
	{
		size_t n = hx("80 c9 0001 0badcafe 40 c9 0001 0badcafe", b,
			      sizeof(b));
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_EQ(rtcp_next(&it, &pkt), -EBADMSG);
	}
	/* empty input is an empty compound; unknown types pass through */
	rtcp_iter_init(&it, b, 0);
	TEST_EQ(rtcp_next(&it, &pkt), 0);
	{
		size_t n = hx("80 cc 0000 81 d0 0001 01020304", b, sizeof(b));
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_EQ(pkt.type, RTCP_APP);
		TEST_EQ(pkt.body_len, 0);
		TEST_EQ(pkt.sender_ssrc, 0);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_EQ(pkt.type, 208);
		TEST_EQ(pkt.sender_ssrc, 0x01020304);
		TEST_EQ(pkt.body_len, 4);
		TEST_EQ(rtcp_next(&it, &pkt), 0);
	}
	return 0;
}

/* Runs every parser on every packet; returns the rtcp_next end code. */
static int drive_all(const uint8_t *p, size_t n)
{
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	static struct rtcp_twcc_status st[RTCP_TWCC_MAX_STATUS];
	int rc;

	rtcp_iter_init(&it, p, n);
	while ((rc = rtcp_next(&it, &pkt)) == 1) {
		struct rtcp_sr sr;
		struct rtcp_rb rb;
		struct rtcp_bye bye;
		struct rtcp_remb remb;
		struct rtcp_fir fir;
		struct rtcp_twcc fb;
		uint16_t seqs[64];
		size_t k;

		TEST_ASSERT(pkt.raw >= p && pkt.raw + pkt.raw_len <= p + n);
		TEST_ASSERT(pkt.body + pkt.body_len <= pkt.raw + pkt.raw_len);
		rtcp_sr_parse(&pkt, &sr);
		for (unsigned i = 0; i < 32; i++)
			rtcp_report_block(&pkt, i, &rb);
		rtcp_bye_parse(&pkt, &bye);
		rtcp_nack_expand(&pkt, seqs, 64, &k);
		rtcp_is_pli(&pkt);
		for (unsigned i = 0; i < 8; i++)
			rtcp_fir_entry(&pkt, i, &fir);
		rtcp_remb_parse(&pkt, &remb);
		rtcp_twcc_parse(&pkt, &fb, st, RTCP_TWCC_MAX_STATUS);
	}
	return rc;
}

int test_rtcp_truncate_and_flip(void)
{
	static const char *const good[] = { SR_SDES_HEX, TWCC_HEX,
		"81 cd 0004 00000001 00000002 0064 8001 ffff 0001",
		"8f ce 0005 00000001 00000000 52454d42 01 0bd090 11111111" };
	uint8_t b[128];

	for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		size_t n = hx(good[g], b, sizeof(b));
		TEST_EQ(drive_all(b, n), 0);
		/* every truncation fails cleanly or ends early */
		for (size_t i = 0; i < n; i++) {
			int rc = drive_all(b, i);
			TEST_ASSERT(rc == 0 || rc == -EBADMSG);
		}
		/* every single-bit flip is survived */
		for (size_t i = 0; i < n * 8; i++) {
			int rc;
			b[i / 8] ^= (uint8_t)(1u << (i % 8));
			rc = drive_all(b, n);
			b[i / 8] ^= (uint8_t)(1u << (i % 8));
			TEST_ASSERT(rc == 0 || rc == -EBADMSG);
		}
	}
	return 0;
}
