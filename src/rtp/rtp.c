/*
 * rtp — RTP header parsing, header extensions, in-place rewriting, codec
 * key-frame hints and RTX (see rtp.h for the why).
 *
 * Every read of packet bytes goes through the bounds-checked cursor of
 * util/buf.h or is guarded by a length already validated by rtp_parse().
 * Nothing allocates; callers own every buffer.
 */
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>

#include "util/buf.h"

/* First-byte bit layout, RFC 3550 §5.1 */
#define RTP_V_SHIFT 6
#define RTP_P_BIT 0x20
#define RTP_X_BIT 0x10
#define RTP_CC_MASK 0x0F
#define RTP_M_BIT 0x80
#define RTP_PT_MASK 0x7F

/* Byte offsets of the fixed header fields, RFC 3550 §5.1 */
#define RTP_OFF_SEQ 2
#define RTP_OFF_TS 4
#define RTP_OFF_SSRC 8

int rtp_parse(const uint8_t *p, size_t len, struct rtp_hdr *h)
{
	struct cur c = cur_make(p, len);
	struct rtp_hdr r;
	uint8_t b0, b1;

	memset(&r, 0, sizeof(r));
	if (cur_u8(&c, &b0) || cur_u8(&c, &b1) || cur_u16(&c, &r.seq) ||
	    cur_u32(&c, &r.ts) || cur_u32(&c, &r.ssrc))
		return -EBADMSG;
	r.version = b0 >> RTP_V_SHIFT;
	if (r.version != RTP_VERSION)
		return -EBADMSG;
	r.padding = (b0 & RTP_P_BIT) != 0;
	r.extension = (b0 & RTP_X_BIT) != 0;
	r.cc = b0 & RTP_CC_MASK;
	r.marker = (b1 & RTP_M_BIT) != 0;
	r.pt = b1 & RTP_PT_MASK;

	if (cur_skip(&c, (size_t)r.cc * 4))
		return -EBADMSG;
	if (r.extension) {
		uint16_t words;
		if (cur_u16(&c, &r.ext_profile) || cur_u16(&c, &words))
			return -EBADMSG;
		r.ext_off = c.pos;
		r.ext_len = (size_t)words * 4;
		if (cur_skip(&c, r.ext_len))
			return -EBADMSG;
	}
	r.hdr_len = c.pos;
	r.payload_off = c.pos;
	r.payload_len = cur_left(&c);
	if (r.padding) {
		/* RFC 3550 §5.1: the last octet counts the padding, itself
		 * included, so it is at least 1. */
		uint8_t cnt;
		if (r.payload_len == 0)
			return -EBADMSG;
		cnt = p[len - 1];
		if (cnt == 0 || cnt > r.payload_len)
			return -EBADMSG;
		r.pad_len = cnt;
		r.payload_len -= cnt;
	}
	*h = r;
	return 0;
}

bool rtp_is_rtcp(const uint8_t *p, size_t len)
{
	return len >= 2 && p[1] >= RTP_RTCP_DEMUX_MIN &&
	       p[1] <= RTP_RTCP_DEMUX_MAX;
}

uint32_t rtp_csrc(const uint8_t *p, const struct rtp_hdr *h, unsigned i)
{
	if (i >= h->cc)
		return 0;
	return get_u32(p + RTP_HDR_LEN + 4 * (size_t)i);
}

/* ---- header extensions ----------------------------------------------- */

static bool ext_two_byte(uint16_t profile)
{
	return (profile & RTP_EXT_PROFILE_TWO_BYTE_MASK) ==
	       RTP_EXT_PROFILE_TWO_BYTE;
}

/*
 * Walks the RFC 8285 elements. Returns the offset (from p) of the value of
 * element `id` in *off and its length in *vlen.
 */
static int ext_locate(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		      size_t *off, size_t *vlen)
{
	struct cur c;
	bool two;

	if (id == 0)
		return -EINVAL;
	if (!h->extension || h->ext_len == 0)
		return -ENOENT;
	if (h->ext_profile == RTP_EXT_PROFILE_ONE_BYTE)
		two = false;
	else if (ext_two_byte(h->ext_profile))
		two = true;
	else
		return -ENOENT;
	if (!two && id > RTP_EXT_ONE_BYTE_ID_MAX)
		return -ENOENT;

	c = cur_make(p + h->ext_off, h->ext_len);
	while (cur_left(&c) > 0) {
		uint8_t b, eid;
		size_t n;

		cur_u8(&c, &b);
		if (b == RTP_EXT_PAD)
			continue;
		if (!two) {
			eid = b >> 4;
			/* RFC 8285 §4.2: id 0 is padding (one byte, length
			 * ignored); id 15 ends the block. */
			if (eid == 0)
				continue;
			if (eid == RTP_EXT_ONE_BYTE_ID_STOP)
				return -ENOENT;
			n = (size_t)(b & 0x0F) + 1;
		} else {
			uint8_t l;
			eid = b;
			if (cur_u8(&c, &l))
				return -EBADMSG;
			n = l;
		}
		if (n > cur_left(&c))
			return -EBADMSG;
		if (eid == id) {
			*off = h->ext_off + c.pos;
			*vlen = n;
			return 0;
		}
		cur_skip(&c, n);
	}
	return -ENOENT;
}

int rtp_ext_find(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		 const uint8_t **val, size_t *vlen)
{
	size_t off, n;
	int err = ext_locate(p, h, id, &off, &n);

	if (err)
		return err;
	*val = p + off;
	*vlen = n;
	return 0;
}

int rtp_ext_audio_level(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
			bool *voice, uint8_t *level)
{
	const uint8_t *v;
	size_t n;
	int err = rtp_ext_find(p, h, id, &v, &n);

	if (err)
		return err;
	if (n < 1)
		return -EBADMSG;
	*voice = (v[0] & 0x80) != 0;
	*level = v[0] & RTP_AUDIO_LEVEL_MAX;
	return 0;
}

int rtp_ext_twcc_seq(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		     uint16_t *seq)
{
	const uint8_t *v;
	size_t n;
	int err = rtp_ext_find(p, h, id, &v, &n);

	if (err)
		return err;
	if (n < 2)
		return -EBADMSG;
	*seq = get_u16(v);
	return 0;
}

int rtp_ext_write_u16(uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		      uint16_t v)
{
	size_t off, n;
	int err = ext_locate(p, h, id, &off, &n);

	if (err)
		return err;
	if (n < 2)
		return -EBADMSG;
	put_u16(p + off, v);
	return 0;
}

int rtp_ext_str(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		const char **s, size_t *n)
{
	const uint8_t *v;
	size_t vl;
	int err = rtp_ext_find(p, h, id, &v, &vl);

	if (err)
		return err;
	if (vl == 0)
		return -EBADMSG;
	*s = (const char *)v;
	*n = vl;
	return 0;
}

/* ---- in-place rewriting ---------------------------------------------- */

void rtp_set_seq(uint8_t *p, uint16_t seq)
{
	put_u16(p + RTP_OFF_SEQ, seq);
}

void rtp_set_ts(uint8_t *p, uint32_t ts)
{
	put_u32(p + RTP_OFF_TS, ts);
}

void rtp_set_ssrc(uint8_t *p, uint32_t ssrc)
{
	put_u32(p + RTP_OFF_SSRC, ssrc);
}

void rtp_set_pt(uint8_t *p, uint8_t pt)
{
	p[1] = (uint8_t)((p[1] & RTP_M_BIT) | (pt & RTP_PT_MASK));
}

void rtp_set_marker(uint8_t *p, bool marker)
{
	p[1] = (uint8_t)((p[1] & RTP_PT_MASK) | (marker ? RTP_M_BIT : 0));
}

/* ---- VP8 ------------------------------------------------------------- */

/* RFC 7741 §4.2 descriptor bits */
#define VP8_X 0x80
#define VP8_N 0x20
#define VP8_S 0x10
#define VP8_PID_MASK 0x07
#define VP8_I 0x80
#define VP8_L 0x40
#define VP8_T 0x20
#define VP8_K 0x10
#define VP8_M 0x80
#define VP8_TID_SHIFT 6
#define VP8_Y 0x20
#define VP8_KEYIDX_MASK 0x1F
/* RFC 7741 §4.3: P bit of the VP8 payload header, 0 for a key frame */
#define VP8_HDR_P 0x01

/*
 * Parses the descriptor and also reports where the picture id and
 * TL0PICIDX live, for the in-place rewriters.
 */
static int vp8_parse(const uint8_t *b, size_t len, struct rtp_vp8 *o)
{
	struct cur c = cur_make(b, len);
	uint8_t d, x = 0, v;

	memset(o, 0, sizeof(*o));
	if (cur_u8(&c, &d))
		return -EBADMSG;
	o->x = (d & VP8_X) != 0;
	o->n = (d & VP8_N) != 0;
	o->s = (d & VP8_S) != 0;
	o->pid = d & VP8_PID_MASK;
	if (o->x && cur_u8(&c, &x))
		return -EBADMSG;
	if (x & VP8_I) {
		o->has_picture_id = true;
		o->picture_id_at = (uint8_t)c.pos;
		if (cur_u8(&c, &v))
			return -EBADMSG;
		if (v & VP8_M) {
			uint8_t lo;
			if (cur_u8(&c, &lo))
				return -EBADMSG;
			o->picture_id_15bit = true;
			o->picture_id = (uint16_t)(((v & 0x7F) << 8) | lo);
		} else {
			o->picture_id = v & 0x7F;
		}
	}
	if (x & VP8_L) {
		o->has_tl0picidx = true;
		o->tl0picidx_at = (uint8_t)c.pos;
		if (cur_u8(&c, &o->tl0picidx))
			return -EBADMSG;
	}
	if (x & (VP8_T | VP8_K)) {
		if (cur_u8(&c, &v))
			return -EBADMSG;
		if (x & VP8_T) {
			o->has_tid = true;
			o->tid = v >> VP8_TID_SHIFT;
			o->y = (v & VP8_Y) != 0;
		}
		if (x & VP8_K) {
			o->has_keyidx = true;
			o->keyidx = v & VP8_KEYIDX_MASK;
		}
	}
	o->desc_len = c.pos;
	if (cur_left(&c) < 1)
		return -EBADMSG;
	o->is_keyframe = o->s && o->pid == 0 && !(b[c.pos] & VP8_HDR_P);
	return 0;
}

int rtp_vp8_parse(const uint8_t *payload, size_t len, struct rtp_vp8 *out)
{
	struct rtp_vp8 d;
	int err = vp8_parse(payload, len, &d);

	if (err)
		return err;
	*out = d;
	return 0;
}

void rtp_vp8_set_picture_id(uint8_t *payload, const struct rtp_vp8 *d,
			    uint16_t picture_id)
{
	uint8_t *at = payload + d->picture_id_at;

	if (!d->has_picture_id)
		return;
	if (d->picture_id_15bit) {
		at[0] = (uint8_t)(VP8_M | ((picture_id >> 8) & 0x7F));
		at[1] = (uint8_t)picture_id;
	} else {
		at[0] = (uint8_t)(picture_id & RTP_VP8_PICID_7BIT_MAX);
	}
}

void rtp_vp8_set_tl0picidx(uint8_t *payload, const struct rtp_vp8 *d,
			   uint8_t tl0picidx)
{
	if (d->has_tl0picidx)
		payload[d->tl0picidx_at] = tl0picidx;
}

int rtp_vp8_rewrite_picture_id(uint8_t *payload, size_t len,
			       uint16_t picture_id)
{
	struct rtp_vp8 d;
	int err = vp8_parse(payload, len, &d);

	if (err)
		return err;
	if (!d.has_picture_id)
		return -ENOENT;
	rtp_vp8_set_picture_id(payload, &d, picture_id);
	return 0;
}

int rtp_vp8_rewrite_tl0picidx(uint8_t *payload, size_t len, uint8_t tl0picidx)
{
	struct rtp_vp8 d;
	int err = vp8_parse(payload, len, &d);

	if (err)
		return err;
	if (!d.has_tl0picidx)
		return -ENOENT;
	rtp_vp8_set_tl0picidx(payload, &d, tl0picidx);
	return 0;
}

/* ---- H.264 ----------------------------------------------------------- */

#define H264_TYPE_MASK 0x1F
#define H264_FU_S 0x80 /* RFC 6184 §5.8: start of a fragmented NAL unit */

static bool h264_key_type(uint8_t nal)
{
	uint8_t t = nal & H264_TYPE_MASK;
	return t == RTP_H264_NAL_IDR || t == RTP_H264_NAL_SPS;
}

enum {
	VP9_I = 0x80, VP9_P = 0x40, VP9_L = 0x20, VP9_B = 0x08, /* RFC 9628 §4.2 */
	VP9_PICID_M = 0x80,
};

bool rtp_vp9_is_keyframe(const uint8_t *payload, size_t len)
{
	size_t pos = 1;

	if (len < 2 || !(payload[0] & VP9_B) || (payload[0] & VP9_P))
		return false;
	if (payload[0] & VP9_I)
		pos += (payload[1] & VP9_PICID_M) ? 2 : 1;
	if (payload[0] & VP9_L) {
		if (pos >= len)
			return false;
		if ((payload[pos] >> 1) & 0x07) /* SID */
			return false;
	}
	return pos < len;
}

bool rtp_h264_is_keyframe(const uint8_t *payload, size_t len)
{
	struct cur c = cur_make(payload, len);
	uint8_t nal, t;

	if (cur_u8(&c, &nal))
		return false;
	t = nal & H264_TYPE_MASK;
	if (t == RTP_H264_STAP_A) {
		/* RFC 6184 §5.7.1: 16-bit size, then the NAL unit */
		while (cur_left(&c) > 0) {
			uint16_t sz;
			const uint8_t *u;
			if (cur_u16(&c, &sz) || sz == 0 ||
			    cur_bytes(&c, sz, &u))
				return false;
			if (h264_key_type(u[0]))
				return true;
		}
		return false;
	}
	if (t == RTP_H264_FU_A) {
		uint8_t fu;
		if (cur_u8(&c, &fu))
			return false;
		return (fu & H264_FU_S) && h264_key_type(fu);
	}
	return h264_key_type(nal);
}

/* ---- RTX ------------------------------------------------------------- */

int rtp_rtx_wrap(const uint8_t *orig, size_t len, const struct rtp_hdr *h,
		 uint8_t *out, size_t cap, uint8_t rtx_pt, uint32_t rtx_ssrc,
		 uint16_t rtx_seq, size_t *outlen)
{
	size_t need;

	if (rtx_pt > RTP_MAX_PT)
		return -EINVAL;
	if (h->hdr_len + h->payload_len > len || h->hdr_len < RTP_HDR_LEN)
		return -EINVAL;
	need = h->hdr_len + RTP_RTX_OSN_LEN + h->payload_len;
	if (need > cap)
		return -ENOSPC;
	/* Payload first: in place it moves right by the OSN. */
	memmove(out + h->hdr_len + RTP_RTX_OSN_LEN, orig + h->hdr_len,
		h->payload_len);
	if (out != orig)
		memcpy(out, orig, h->hdr_len);
	put_u16(out + h->hdr_len, h->seq);
	out[0] &= (uint8_t)~RTP_P_BIT;
	rtp_set_pt(out, rtx_pt);
	rtp_set_ssrc(out, rtx_ssrc);
	rtp_set_seq(out, rtx_seq);
	*outlen = need;
	return 0;
}

int rtp_rtx_unwrap(const uint8_t *rtx, size_t len, const struct rtp_hdr *h,
		   uint8_t *out, size_t cap, uint8_t orig_pt, uint32_t orig_ssrc,
		   size_t *outlen)
{
	size_t need, plen;
	uint16_t osn;

	if (orig_pt > RTP_MAX_PT)
		return -EINVAL;
	if (h->hdr_len + h->payload_len > len || h->hdr_len < RTP_HDR_LEN)
		return -EINVAL;
	if (h->payload_len < RTP_RTX_OSN_LEN)
		return -EBADMSG;
	plen = h->payload_len - RTP_RTX_OSN_LEN;
	need = h->hdr_len + plen;
	if (need > cap)
		return -ENOSPC;
	osn = get_u16(rtx + h->hdr_len);
	if (out != rtx)
		memcpy(out, rtx, h->hdr_len);
	/* In place the payload moves left over the OSN. */
	memmove(out + h->hdr_len, rtx + h->hdr_len + RTP_RTX_OSN_LEN, plen);
	out[0] &= (uint8_t)~RTP_P_BIT;
	rtp_set_pt(out, orig_pt);
	rtp_set_ssrc(out, orig_ssrc);
	rtp_set_seq(out, osn);
	*outlen = need;
	return 0;
}

/* ---- sequence numbers ------------------------------------------------ */

/* Initial offset: one full cycle, so early reordering stays positive. */
#define SEQ_UNWRAP_BASE ((uint64_t)1 << 16)

void seq_unwrap_init(struct seq_unwrap *u)
{
	u->started = false;
	u->last = 0;
}

uint64_t seq_unwrap_peek(const struct seq_unwrap *u, uint16_t seq)
{
	int16_t d;

	if (!u->started)
		return SEQ_UNWRAP_BASE + seq;
	d = (int16_t)(uint16_t)(seq - (uint16_t)u->last);
	/* last >= 2^16 and only grows, so last + d cannot underflow */
	return (uint64_t)((int64_t)u->last + d);
}

uint64_t seq_unwrap_update(struct seq_unwrap *u, uint16_t seq)
{
	uint64_t v = seq_unwrap_peek(u, seq);

	if (!u->started || v > u->last) {
		u->last = v;
		u->started = true;
	}
	return v;
}
