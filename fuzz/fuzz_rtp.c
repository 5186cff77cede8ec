/*
 * fuzz_rtp — libFuzzer target for src/rtp.
 *
 * Parses the input as an RTP packet; on success looks up every extension id
 * (value must lie inside the header's extension block), rewrites header
 * fields and the transport-wide sequence number on a copy (the structure
 * must parse identically afterwards), parses the payload as a VP8 descriptor
 * and as H.264, and wraps the packet into RTX and back (must equal the
 * original minus padding). The input is also fed straight to the VP8/H.264
 * parsers and to the sequence unwrapper. abort() on any broken invariant.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp/rtp.h"

#define MAXPKT 4096

static uint8_t cp[MAXPKT], w[MAXPKT + 2], u[MAXPKT + 2];

static void check(int ok)
{
	if (!ok)
		abort();
}

static bool same_shape(const struct rtp_hdr *a, const struct rtp_hdr *b)
{
	return a->version == b->version && a->padding == b->padding &&
	       a->extension == b->extension && a->cc == b->cc &&
	       a->hdr_len == b->hdr_len && a->payload_len == b->payload_len &&
	       a->pad_len == b->pad_len && a->ext_profile == b->ext_profile &&
	       a->ext_off == b->ext_off && a->ext_len == b->ext_len;
}

static void fuzz_vp8(const uint8_t *p, size_t n)
{
	struct rtp_vp8 d, d2;
	uint8_t b[64];

	if (rtp_vp8_parse(p, n, &d) != 0)
		return;
	check(d.desc_len >= 1 && d.desc_len < n && d.desc_len <= 6);
	check(d.pid <= 7 && d.tid <= 3 && d.keyidx <= 31);
	if (n > sizeof(b))
		n = sizeof(b);
	memcpy(b, p, n);
	if (d.has_picture_id) {
		check(rtp_vp8_rewrite_picture_id(b, n, 0x5a5a) == 0);
		check(rtp_vp8_parse(b, n, &d2) == 0);
		check(d2.desc_len == d.desc_len &&
		      d2.picture_id_15bit == d.picture_id_15bit);
		check(d2.picture_id ==
		      (d.picture_id_15bit ? 0x5a5a : (0x5a5a & 0x7f)));
	} else {
		check(rtp_vp8_rewrite_picture_id(b, n, 1) == -ENOENT);
	}
	if (d.has_tl0picidx) {
		check(rtp_vp8_rewrite_tl0picidx(b, n, 0xa5) == 0);
		check(rtp_vp8_parse(b, n, &d2) == 0);
		check(d2.tl0picidx == 0xa5 && d2.desc_len == d.desc_len);
	}
}

static void fuzz_ext(const uint8_t *p, size_t n, const struct rtp_hdr *h)
{
	for (unsigned id = 0; id <= 255; id++) {
		const uint8_t *v;
		size_t vl;
		bool voice;
		uint8_t level;
		uint16_t s;
		const char *str;
		int rc = rtp_ext_find(p, h, (uint8_t)id, &v, &vl);

		if (id == 0)
			check(rc == -EINVAL);
		if (rc == 0) {
			check(v >= p + h->ext_off &&
			      v + vl <= p + h->ext_off + h->ext_len);
			check(h->ext_off + h->ext_len <= n);
		}
		rtp_ext_audio_level(p, h, (uint8_t)id, &voice, &level);
		rtp_ext_str(p, h, (uint8_t)id, &str, &vl);
		if (rtp_ext_twcc_seq(p, h, (uint8_t)id, &s) == 0) {
			struct rtp_hdr h2;
			uint16_t s2;
			memcpy(cp, p, n);
			check(rtp_ext_write_u16(cp, h, (uint8_t)id,
						(uint16_t)~s) == 0);
			check(rtp_parse(cp, n, &h2) == 0 &&
			      same_shape(h, &h2));
			check(rtp_ext_twcc_seq(cp, &h2, (uint8_t)id, &s2) ==
				      0 &&
			      s2 == (uint16_t)~s);
		}
	}
}

static void fuzz_rewrite(const uint8_t *p, size_t n, const struct rtp_hdr *h)
{
	struct rtp_hdr h2;

	memcpy(cp, p, n);
	rtp_set_seq(cp, (uint16_t)(h->seq + 1));
	rtp_set_ts(cp, h->ts ^ 0xffffffffu);
	rtp_set_ssrc(cp, h->ssrc + 7);
	rtp_set_pt(cp, (uint8_t)(h->pt ^ 0x55));
	rtp_set_marker(cp, !h->marker);
	check(rtp_parse(cp, n, &h2) == 0 && same_shape(h, &h2));
	check(h2.seq == (uint16_t)(h->seq + 1) &&
	      h2.ts == (h->ts ^ 0xffffffffu) && h2.ssrc == h->ssrc + 7 &&
	      h2.pt == ((h->pt ^ 0x55) & 0x7f) && h2.marker == !h->marker);
}

static void fuzz_rtx(const uint8_t *p, size_t n, const struct rtp_hdr *h)
{
	struct rtp_hdr hw;
	size_t wl, ul, ol = h->hdr_len + h->payload_len;

	/* the original as RTX delivers it: no padding, P cleared */
	check(rtp_rtx_wrap(p, n, h, w, sizeof(w), 99, 0x12345678,
			   (uint16_t)(h->seq ^ 0xabcd), &wl) == 0);
	check(wl == ol + 2);
	check(rtp_parse(w, wl, &hw) == 0);
	check(hw.pt == 99 && hw.ssrc == 0x12345678 && !hw.padding &&
	      hw.seq == (uint16_t)(h->seq ^ 0xabcd) && hw.ts == h->ts &&
	      hw.marker == h->marker && hw.cc == h->cc &&
	      hw.hdr_len == h->hdr_len && hw.payload_len == h->payload_len + 2);
	check(rtp_rtx_unwrap(w, wl, &hw, u, sizeof(u), h->pt, h->ssrc, &ul) ==
	      0);
	check(ul == ol);
	check(u[0] == (p[0] & ~0x20));
	check(memcmp(u + 1, p + 1, ol - 1) == 0);
	/* too small a buffer is refused, never overrun */
	check(rtp_rtx_wrap(p, n, h, w, wl - 1, 99, 1, 1, &wl) == -ENOSPC);

	/* in place, both ways */
	memcpy(cp, p, n);
	if (n + 2 <= sizeof(cp)) {
		check(rtp_rtx_wrap(cp, n, h, cp, sizeof(cp), 99, 0x12345678,
				   (uint16_t)(h->seq ^ 0xabcd), &wl) == 0);
		check(memcmp(cp, w, wl) == 0);
		check(rtp_rtx_unwrap(cp, wl, &hw, cp, sizeof(cp), h->pt,
				     h->ssrc, &ul) == 0);
		check(memcmp(cp, u, ul) == 0);
	}
}

static void fuzz_seq(const uint8_t *d, size_t n)
{
	struct seq_unwrap su;
	uint64_t hi = 0;

	seq_unwrap_init(&su);
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint16_t s = (uint16_t)(d[i] << 8 | d[i + 1]);
		uint64_t peek = seq_unwrap_peek(&su, s);
		uint64_t v = seq_unwrap_update(&su, s);
		check(v == peek && (uint16_t)v == s);
		if (i > 0)
			check(v + 0x8000 >= hi && v <= hi + 0x8000);
		if (v > hi)
			hi = v;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_hdr h;

	if (size > MAXPKT)
		return 0;
	(void)rtp_is_rtcp(data, size);
	fuzz_vp8(data, size);
	(void)rtp_h264_is_keyframe(data, size);
	fuzz_seq(data, size);

	if (rtp_parse(data, size, &h) != 0)
		return 0;
	check(h.version == 2 && h.hdr_len >= 12 && h.payload_off == h.hdr_len);
	check(h.hdr_len + h.payload_len + h.pad_len == size);
	for (unsigned i = 0; i < h.cc; i++)
		(void)rtp_csrc(data, &h, i);
	fuzz_ext(data, size, &h);
	fuzz_rewrite(data, size, &h);
	fuzz_vp8(data + h.payload_off, h.payload_len);
	(void)rtp_h264_is_keyframe(data + h.payload_off, h.payload_len);
	fuzz_rtx(data, size, &h);
	return 0;
}
