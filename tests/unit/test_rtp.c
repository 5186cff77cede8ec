/*
 * Unit tests for src/rtp: header parsing (CSRCs, RFC 8285 extensions,
 * padding), malformed headers, in-place rewriting, VP8 descriptors, H.264
 * key frames, RTX wrap/unwrap and sequence arithmetic. Packets are written
 * out by hand in hex, field by field.
 */
#include "test.h"

#include <errno.h>
#include <stdint.h>

#include "rtp/rtp.h"

/* Decodes hex into buf; returns the length (tests assert it is > 0). */
static size_t hx(const char *hex, uint8_t *buf, size_t cap)
{
	long n = test_hex(hex, buf, cap);
	return n < 0 ? 0 : (size_t)n;
}

int test_rtp_plain(void)
{
	uint8_t p[64];
	struct rtp_hdr h;
	size_t n = hx("80 60 1234 00000064 deadbeef  010203", p, sizeof(p));

	TEST_EQ(n, 15);
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(h.version, 2);
	TEST_ASSERT(!h.padding && !h.extension && !h.marker);
	TEST_EQ(h.cc, 0);
	TEST_EQ(h.pt, 96);
	TEST_EQ(h.seq, 0x1234);
	TEST_EQ(h.ts, 100);
	TEST_EQ(h.ssrc, 0xdeadbeef);
	TEST_EQ(h.hdr_len, 12);
	TEST_EQ(h.payload_off, 12);
	TEST_EQ(h.payload_len, 3);
	TEST_EQ(h.pad_len, 0);
	TEST_EQ(h.ext_len, 0);
	TEST_ASSERT(!rtp_is_rtcp(p, n));

	/* header only, empty payload */
	TEST_EQ(rtp_parse(p, 12, &h), 0);
	TEST_EQ(h.payload_len, 0);
	return 0;
}

int test_rtp_csrc(void)
{
	uint8_t p[64];
	struct rtp_hdr h;
	size_t n = hx("82 e0 0001 00000002 00000003 11111111 22222222 aa",
		      p, sizeof(p));

	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(h.cc, 2);
	TEST_ASSERT(h.marker);
	TEST_EQ(h.pt, 96);
	TEST_EQ(h.hdr_len, 20);
	TEST_EQ(h.payload_len, 1);
	TEST_EQ(rtp_csrc(p, &h, 0), 0x11111111);
	TEST_EQ(rtp_csrc(p, &h, 1), 0x22222222);
	TEST_EQ(rtp_csrc(p, &h, 2), 0);
	/* CSRC list cut short */
	TEST_EQ(rtp_parse(p, 19, &h), -EBADMSG);
	return 0;
}

int test_rtp_ext_one_byte(void)
{
	uint8_t p[64];
	struct rtp_hdr h;
	const uint8_t *v;
	size_t n, vl;
	bool voice;
	uint8_t level;
	uint16_t tw;
	const char *s;

	/*
	 * BEDE, 3 words: id1 L0 = 0x85 (voice, -5 dBov); two padding bytes;
	 * id3 L1 = 0x0102 (transport-wide seq); one padding byte; id4 L1 =
	 * "a1" (mid); one padding byte.
	 */
	n = hx("90 6f 0005 00000010 0000abcd"
	       "bede 0003  10 85  00 00  31 0102  00  41 6131  00"
	       "cafe",
	       p, sizeof(p));
	TEST_EQ(n, 30);
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_ASSERT(h.extension);
	TEST_EQ(h.ext_profile, 0xBEDE);
	TEST_EQ(h.ext_off, 16);
	TEST_EQ(h.ext_len, 12);
	TEST_EQ(h.hdr_len, 28);
	TEST_EQ(h.payload_len, 2);

	TEST_EQ(rtp_ext_find(p, &h, 1, &v, &vl), 0);
	TEST_EQ(vl, 1);
	TEST_EQ(v[0], 0x85);
	TEST_EQ(rtp_ext_audio_level(p, &h, 1, &voice, &level), 0);
	TEST_ASSERT(voice);
	TEST_EQ(level, 5);
	TEST_EQ(rtp_ext_twcc_seq(p, &h, 3, &tw), 0);
	TEST_EQ(tw, 0x0102);
	TEST_EQ(rtp_ext_str(p, &h, 4, &s, &vl), 0);
	TEST_EQ(vl, 2);
	TEST_MEMEQ(s, "a1", 2);
	TEST_EQ(rtp_ext_find(p, &h, 2, &v, &vl), -ENOENT);
	TEST_EQ(rtp_ext_find(p, &h, 15, &v, &vl), -ENOENT);
	TEST_EQ(rtp_ext_find(p, &h, 200, &v, &vl), -ENOENT);
	TEST_EQ(rtp_ext_find(p, &h, 0, &v, &vl), -EINVAL);
	/* a 1-byte value is too short for a transport-wide seq */
	TEST_EQ(rtp_ext_twcc_seq(p, &h, 1, &tw), -EBADMSG);

	/* rewrite the transport-wide seq in place */
	TEST_EQ(rtp_ext_write_u16(p, &h, 3, 0xbeef), 0);
	TEST_EQ(rtp_ext_twcc_seq(p, &h, 3, &tw), 0);
	TEST_EQ(tw, 0xbeef);
	TEST_EQ(p[16 + 5], 0xbe);
	TEST_EQ(p[16 + 6], 0xef);
	TEST_EQ(rtp_ext_write_u16(p, &h, 9, 1), -ENOENT);
	TEST_EQ(rtp_ext_audio_level(p, &h, 1, &voice, &level), 0);
	TEST_EQ(level, 5); /* neighbours untouched */
	return 0;
}

int test_rtp_ext_one_byte_stop(void)
{
	uint8_t p[64];
	struct rtp_hdr h;
	const uint8_t *v;
	size_t n, vl;

	/* id 1, then id 15 (stop), then an id 2 that must not be seen */
	n = hx("90 60 0001 00000000 00000001"
	       "bede 0002  10 01  f0  20 02  000000", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(rtp_ext_find(p, &h, 1, &v, &vl), 0);
	TEST_EQ(rtp_ext_find(p, &h, 2, &v, &vl), -ENOENT);

	/* element running past the block: id 1 L=3 needs 4 bytes, 3 left */
	n = hx("90 60 0001 00000000 00000001"
	       "bede 0001  13 010203", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(rtp_ext_find(p, &h, 1, &v, &vl), -EBADMSG);

	/* unknown profile: not an RFC 8285 block */
	n = hx("90 60 0001 00000000 00000001 abcd 0001 10 01 00 00",
	       p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(rtp_ext_find(p, &h, 1, &v, &vl), -ENOENT);

	/* no extension at all */
	n = hx("80 60 0001 00000000 00000001", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(rtp_ext_find(p, &h, 1, &v, &vl), -ENOENT);
	return 0;
}

int test_rtp_ext_two_byte(void)
{
	uint8_t p[64];
	struct rtp_hdr h;
	const uint8_t *v;
	size_t n, vl;
	bool voice;
	uint8_t level;
	const char *s;

	/*
	 * 0x1000, 3 words: id1 len1 = 0x7f (no voice, silence); padding;
	 * id5 len0; id200 len3 "abc"; padding.
	 */
	n = hx("90 60 0001 00000000 00000001"
	       "1000 0003  01 01 7f  00  05 00  c8 03 616263  00"
	       "ff", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(h.ext_profile, 0x1000);
	TEST_EQ(h.payload_len, 1);
	TEST_EQ(rtp_ext_audio_level(p, &h, 1, &voice, &level), 0);
	TEST_ASSERT(!voice);
	TEST_EQ(level, 127);
	TEST_EQ(rtp_ext_find(p, &h, 5, &v, &vl), 0);
	TEST_EQ(vl, 0);
	TEST_EQ(rtp_ext_str(p, &h, 5, &s, &vl), -EBADMSG);
	TEST_EQ(rtp_ext_str(p, &h, 200, &s, &vl), 0);
	TEST_EQ(vl, 3);
	TEST_MEMEQ(s, "abc", 3);
	TEST_EQ(rtp_ext_find(p, &h, 15, &v, &vl), -ENOENT);

	/* app bits in the low nibble still mean two-byte form */
	p[13] = 0x05;
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(rtp_ext_find(p, &h, 200, &v, &vl), 0);

	/* length byte missing at the end of the block */
	n = hx("90 60 0001 00000000 00000001 1000 0001 00 00 00 07",
	       p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(rtp_ext_find(p, &h, 9, &v, &vl), -EBADMSG);
	return 0;
}

int test_rtp_padding(void)
{
	uint8_t p[64];
	struct rtp_hdr h;
	size_t n;

	n = hx("a0 60 0001 00000000 00000001 aabb 0000 03", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_ASSERT(h.padding);
	TEST_EQ(h.payload_len, 2);
	TEST_EQ(h.pad_len, 3);

	/* padding-only packet (bandwidth probe) */
	n = hx("a0 60 0001 00000000 00000001 00 00 00 04", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(h.payload_len, 0);
	TEST_EQ(h.pad_len, 4);
	return 0;
}

int test_rtp_malformed(void)
{
	uint8_t p[64];
	struct rtp_hdr h, keep;
	size_t n;

	memset(&keep, 0x5a, sizeof(keep));
	h = keep;
	n = hx("80 60 0001 00000000 00000001", p, sizeof(p));
	for (size_t i = 0; i < n; i++)
		TEST_EQ(rtp_parse(p, i, &h), -EBADMSG); /* truncated */
	TEST_MEMEQ(&h, &keep, sizeof(h)); /* untouched on failure */

	/* version 1 and version 0 */
	n = hx("40 60 0001 00000000 00000001 00", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	n = hx("00 60 0001 00000000 00000001 00", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	/* 15 CSRCs announced, one present */
	n = hx("8f 60 0001 00000000 00000001 11111111", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	/* extension header cut */
	n = hx("90 60 0001 00000000 00000001 bede", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	/* extension length past the end: 2 words announced, 1 present */
	n = hx("90 60 0001 00000000 00000001 bede 0002 10 01 00 00",
	       p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	/* padding count larger than what follows the header */
	n = hx("a0 60 0001 00000000 00000001 aa 00 05", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	/* padding count 0 */
	n = hx("a0 60 0001 00000000 00000001 aa 00", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	/* P bit with no byte after the header */
	n = hx("a0 60 0001 00000000 00000001", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	/* padding may not reach back into the extension block */
	n = hx("b0 60 0001 00000000 00000001 bede 0001 10 01 00 00 02",
	       p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), -EBADMSG);
	return 0;
}

int test_rtp_demux(void)
{
	uint8_t p[4] = { 0x80, 200, 0, 6 };

	TEST_ASSERT(rtp_is_rtcp(p, 4));     /* SR */
	p[1] = 192;
	TEST_ASSERT(rtp_is_rtcp(p, 4));
	p[1] = 223;
	TEST_ASSERT(rtp_is_rtcp(p, 4));
	p[1] = 191;
	TEST_ASSERT(!rtp_is_rtcp(p, 4));
	p[1] = 224; /* marker + PT 96 */
	TEST_ASSERT(!rtp_is_rtcp(p, 4));
	p[1] = 111; /* PT 111 (opus) */
	TEST_ASSERT(!rtp_is_rtcp(p, 4));
	p[1] = 200;
	TEST_ASSERT(!rtp_is_rtcp(p, 1));
	return 0;
}

int test_rtp_rewrite(void)
{
	uint8_t p[64];
	struct rtp_hdr h;
	size_t n = hx("80 e0 1234 00000064 deadbeef 010203", p, sizeof(p));

	rtp_set_seq(p, 0xfffe);
	rtp_set_ts(p, 0x80000001);
	rtp_set_ssrc(p, 0x01020304);
	rtp_set_pt(p, 111);
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(h.seq, 0xfffe);
	TEST_EQ(h.ts, 0x80000001);
	TEST_EQ(h.ssrc, 0x01020304);
	TEST_EQ(h.pt, 111);
	TEST_ASSERT(h.marker); /* kept */
	rtp_set_marker(p, false);
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_ASSERT(!h.marker);
	TEST_EQ(h.pt, 111); /* kept */
	rtp_set_marker(p, true);
	TEST_EQ(p[1], 0x80 | 111);
	TEST_EQ(p[0], 0x80);
	return 0;
}

int test_rtp_vp8(void)
{
	uint8_t b[32];
	struct rtp_vp8 d;
	size_t n;

	/* X S PID0; I; 7-bit picture id 0x12; key frame (P bit 0) */
	n = hx("90 80 12 10 0203", b, sizeof(b));
	TEST_EQ(rtp_vp8_parse(b, n, &d), 0);
	TEST_ASSERT(d.x && d.s && !d.n);
	TEST_EQ(d.pid, 0);
	TEST_ASSERT(d.has_picture_id && !d.picture_id_15bit);
	TEST_EQ(d.picture_id, 0x12);
	TEST_ASSERT(!d.has_tl0picidx && !d.has_tid && !d.has_keyidx);
	TEST_EQ(d.desc_len, 3);
	TEST_ASSERT(d.is_keyframe);

	/* I L T; 15-bit id 0x0123; TL0PICIDX 5; TID 1 Y; delta frame */
	n = hx("90 e0 8123 05 60 01", b, sizeof(b));
	TEST_EQ(rtp_vp8_parse(b, n, &d), 0);
	TEST_ASSERT(d.picture_id_15bit);
	TEST_EQ(d.picture_id, 0x0123);
	TEST_ASSERT(d.has_tl0picidx);
	TEST_EQ(d.tl0picidx, 5);
	TEST_ASSERT(d.has_tid && d.y);
	TEST_EQ(d.tid, 1);
	TEST_ASSERT(!d.has_keyidx);
	TEST_EQ(d.desc_len, 6);
	TEST_ASSERT(!d.is_keyframe);

	/* rewrite the 15-bit picture id and TL0PICIDX in place */
	TEST_EQ(rtp_vp8_rewrite_picture_id(b, n, 0x7abc), 0);
	TEST_EQ(rtp_vp8_rewrite_tl0picidx(b, n, 0xfe), 0);
	TEST_EQ(rtp_vp8_parse(b, n, &d), 0);
	TEST_EQ(d.picture_id, 0x7abc);
	TEST_EQ(d.tl0picidx, 0xfe);
	TEST_EQ(d.tid, 1);
	TEST_EQ(b[2], 0xfa);
	TEST_EQ(b[3], 0xbc);

	/* K only, no start: KEYIDX 31, TID not valid */
	n = hx("80 10 ff 00", b, sizeof(b));
	TEST_EQ(rtp_vp8_parse(b, n, &d), 0);
	TEST_ASSERT(d.has_keyidx && !d.has_tid);
	TEST_EQ(d.keyidx, 31);
	TEST_EQ(d.desc_len, 3);
	TEST_ASSERT(!d.is_keyframe);
	TEST_EQ(rtp_vp8_rewrite_picture_id(b, n, 1), -ENOENT);
	TEST_EQ(rtp_vp8_rewrite_tl0picidx(b, n, 1), -ENOENT);

	/* minimal descriptor: S, PID 0, key frame */
	n = hx("10 00", b, sizeof(b));
	TEST_EQ(rtp_vp8_parse(b, n, &d), 0);
	TEST_EQ(d.desc_len, 1);
	TEST_ASSERT(d.is_keyframe);
	/* same with N and PID 1: not the start of a frame */
	n = hx("31 00", b, sizeof(b));
	TEST_EQ(rtp_vp8_parse(b, n, &d), 0);
	TEST_ASSERT(d.n);
	TEST_EQ(d.pid, 1);
	TEST_ASSERT(!d.is_keyframe);

	/* 7-bit id rewrite keeps the form, writes the low 7 bits */
	n = hx("90 80 12 10", b, sizeof(b));
	TEST_EQ(rtp_vp8_rewrite_picture_id(b, n, 0x1ff), 0);
	TEST_EQ(rtp_vp8_parse(b, n, &d), 0);
	TEST_ASSERT(!d.picture_id_15bit);
	TEST_EQ(d.picture_id, 0x7f);
	TEST_EQ(d.desc_len, 3);
	return 0;
}

int test_rtp_vp8_malformed(void)
{
	uint8_t b[16] = { 0 };
	struct rtp_vp8 d;
	size_t n;

	TEST_EQ(rtp_vp8_parse(b, 0, &d), -EBADMSG);
	n = hx("90", b, sizeof(b));             /* X without ext byte */
	TEST_EQ(rtp_vp8_parse(b, n, &d), -EBADMSG);
	n = hx("90 80", b, sizeof(b));          /* I without picture id */
	TEST_EQ(rtp_vp8_parse(b, n, &d), -EBADMSG);
	n = hx("90 80 81", b, sizeof(b));       /* M without second byte */
	TEST_EQ(rtp_vp8_parse(b, n, &d), -EBADMSG);
	n = hx("90 c0 81 02", b, sizeof(b));    /* L without TL0PICIDX */
	TEST_EQ(rtp_vp8_parse(b, n, &d), -EBADMSG);
	n = hx("90 20", b, sizeof(b));          /* T without TID byte */
	TEST_EQ(rtp_vp8_parse(b, n, &d), -EBADMSG);
	n = hx("90 80 81 02", b, sizeof(b));    /* no VP8 payload byte */
	TEST_EQ(rtp_vp8_parse(b, n, &d), -EBADMSG);
	TEST_EQ(rtp_vp8_rewrite_picture_id(b, n, 5), -EBADMSG);
	return 0;
}

int test_rtp_h264(void)
{
	uint8_t b[32];
	size_t n;

	n = hx("65 88 80", b, sizeof(b));       /* single NAL: IDR */
	TEST_ASSERT(rtp_h264_is_keyframe(b, n));
	n = hx("67 42 c0 1f", b, sizeof(b));    /* single NAL: SPS */
	TEST_ASSERT(rtp_h264_is_keyframe(b, n));
	n = hx("41 9a 00", b, sizeof(b));       /* non-IDR slice */
	TEST_ASSERT(!rtp_h264_is_keyframe(b, n));
	n = hx("68 ce 3c 80", b, sizeof(b));    /* PPS alone */
	TEST_ASSERT(!rtp_h264_is_keyframe(b, n));
	/* STAP-A: PPS then SPS */
	n = hx("78 0002 68ce 0003 6742c0", b, sizeof(b));
	TEST_ASSERT(rtp_h264_is_keyframe(b, n));
	/* STAP-A of two non-IDR slices */
	n = hx("78 0002 4101 0002 4102", b, sizeof(b));
	TEST_ASSERT(!rtp_h264_is_keyframe(b, n));
	/* STAP-A whose size runs past the end, SPS hidden behind it */
	n = hx("78 0005 67 42", b, sizeof(b));
	TEST_ASSERT(!rtp_h264_is_keyframe(b, n));
	/* STAP-A with a zero size */
	n = hx("78 0000 0002 6742", b, sizeof(b));
	TEST_ASSERT(!rtp_h264_is_keyframe(b, n));
	/* FU-A start of an IDR */
	n = hx("7c 85 b8 00", b, sizeof(b));
	TEST_ASSERT(rtp_h264_is_keyframe(b, n));
	/* FU-A middle of an IDR */
	n = hx("7c 05 00", b, sizeof(b));
	TEST_ASSERT(!rtp_h264_is_keyframe(b, n));
	/* FU-A start of a non-IDR slice */
	n = hx("5c 81 00", b, sizeof(b));
	TEST_ASSERT(!rtp_h264_is_keyframe(b, n));
	/* FU-A header missing */
	n = hx("7c", b, sizeof(b));
	TEST_ASSERT(!rtp_h264_is_keyframe(b, n));
	TEST_ASSERT(!rtp_h264_is_keyframe(b, 0));
	return 0;
}

int test_rtp_rtx(void)
{
	uint8_t p[64], w[64], u[64], ip[64];
	struct rtp_hdr h, hw, hu;
	size_t n, wl, ul;

	/* marker, PT 96, 1 CSRC, one-byte extension, 3 payload bytes,
	 * 2 bytes padding */
	n = hx("b1 e0 1234 00000064 deadbeef 11111111"
	       "bede 0001 31 0102 00"
	       "aabbcc 00 02", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(h.payload_len, 3);

	TEST_EQ(rtp_rtx_wrap(p, n, &h, w, sizeof(w), 97, 0xcafe0001, 7, &wl),
		0);
	TEST_EQ(wl, h.hdr_len + 2 + 3);
	TEST_EQ(rtp_parse(w, wl, &hw), 0);
	TEST_EQ(hw.pt, 97);
	TEST_ASSERT(hw.marker && !hw.padding);
	TEST_EQ(hw.ssrc, 0xcafe0001);
	TEST_EQ(hw.seq, 7);
	TEST_EQ(hw.ts, 100);
	TEST_EQ(hw.cc, 1);
	TEST_EQ(rtp_csrc(w, &hw, 0), 0x11111111);
	TEST_EQ(hw.ext_len, 4);
	TEST_MEMEQ(w + hw.ext_off, p + h.ext_off, 4);
	TEST_EQ(w[hw.payload_off], 0x12); /* OSN */
	TEST_EQ(w[hw.payload_off + 1], 0x34);
	TEST_MEMEQ(w + hw.payload_off + 2, "\xaa\xbb\xcc", 3);

	TEST_EQ(rtp_rtx_unwrap(w, wl, &hw, u, sizeof(u), 96, 0xdeadbeef, &ul),
		0);
	/* the original without its padding and P bit */
	TEST_EQ(ul, n - 2);
	TEST_EQ(u[0], p[0] & ~0x20);
	TEST_MEMEQ(u + 1, p + 1, ul - 1);
	TEST_EQ(rtp_parse(u, ul, &hu), 0);
	TEST_EQ(hu.seq, 0x1234);

	/* in place, both ways */
	memcpy(ip, p, n);
	TEST_EQ(rtp_rtx_wrap(ip, n, &h, ip, sizeof(ip), 97, 0xcafe0001, 7,
			     &wl), 0);
	TEST_MEMEQ(ip, w, wl);
	TEST_EQ(rtp_rtx_unwrap(ip, wl, &hw, ip, sizeof(ip), 96, 0xdeadbeef,
			       &ul), 0);
	TEST_MEMEQ(ip, u, ul);

	/* errors */
	TEST_EQ(rtp_rtx_wrap(p, n, &h, w, h.hdr_len + 4, 97, 1, 1, &wl),
		-ENOSPC);
	TEST_EQ(rtp_rtx_wrap(p, n, &h, w, sizeof(w), 128, 1, 1, &wl),
		-EINVAL);
	TEST_EQ(rtp_rtx_unwrap(w, wl, &hw, u, 10, 96, 1, &ul), -ENOSPC);
	/* a padding-only RTX probe has no OSN */
	n = hx("a0 61 0001 00000000 00000002 00 00 00 04", p, sizeof(p));
	TEST_EQ(rtp_parse(p, n, &h), 0);
	TEST_EQ(rtp_rtx_unwrap(p, n, &h, u, sizeof(u), 96, 1, &ul), -EBADMSG);
	return 0;
}

int test_rtp_seq(void)
{
	struct seq_unwrap u;
	uint64_t a, b, c, d, e;

	TEST_ASSERT(seq_newer(1, 0));
	TEST_ASSERT(seq_newer(0, 65535));
	TEST_ASSERT(seq_newer(5, 65530));
	TEST_ASSERT(!seq_newer(65535, 0));
	TEST_ASSERT(!seq_newer(7, 7));
	TEST_ASSERT(!seq_newer(0x8000, 0));
	TEST_ASSERT(!seq_newer(0, 0x8000));
	TEST_ASSERT(seq_newer(0x7fff, 0));

	seq_unwrap_init(&u);
	a = seq_unwrap_update(&u, 65534);
	b = seq_unwrap_update(&u, 65535);
	c = seq_unwrap_update(&u, 0);
	d = seq_unwrap_update(&u, 2);
	e = seq_unwrap_update(&u, 65533); /* late, before the first */
	TEST_EQ(b, a + 1);
	TEST_EQ(c, a + 2);
	TEST_EQ(d, a + 4);
	TEST_EQ(e, a - 1);
	TEST_EQ(seq_unwrap_update(&u, 1), a + 3); /* reordered */
	TEST_EQ(seq_unwrap_peek(&u, 3), a + 5);
	TEST_EQ(seq_unwrap_update(&u, 3), a + 5);
	/* many wraps in big steps */
	for (int i = 0; i < 10; i++) {
		uint64_t prev = seq_unwrap_peek(&u, 3);
		uint16_t s;
		for (s = 0x4003; s != 3; s = (uint16_t)(s + 0x4000))
			seq_unwrap_update(&u, s);
		TEST_EQ(seq_unwrap_update(&u, 3), prev + 65536);
	}
	return 0;
}
