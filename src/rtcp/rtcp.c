/*
 * rtcp — compound iteration, parsers and writers (see rtcp.h for the why).
 *
 * rtcp_next() validates the framing of each packet once (version, length,
 * padding, and the minimum size its type needs), so the per-type parsers
 * below can rely on those sizes; everything past them is read through the
 * bounds-checked cursor of util/buf.h. Writers check the whole size against
 * the caller's capacity before writing a byte.
 */
#include "rtcp/rtcp.h"

#include <errno.h>
#include <string.h>

#include "util/buf.h"

/* First-byte bit layout, RFC 3550 §6.4.1 */
#define RTCP_V_SHIFT 6
#define RTCP_P_BIT 0x20
#define RTCP_COUNT_MASK 0x1F

/* REMB unique identifier, draft-alvestrand-rmcat-remb-03 §2.2 */
static const uint8_t remb_id[4] = { 'R', 'E', 'M', 'B' };
#define REMB_FIXED_LEN 8 /* "REMB" + num SSRC + exp/mantissa */
#define REMB_MANTISSA_MASK ((1u << RTCP_REMB_MANTISSA_BITS) - 1)

/* TWCC chunk layout, draft-holmer-...-01 §3.1.3 and §3.1.4 */
#define TWCC_FIXED_LEN 8        /* base seq, count, ref time, fb count */
#define TWCC_CHUNK_VECTOR 0x8000 /* T bit: status vector chunk */
#define TWCC_VECTOR_2BIT 0x4000  /* S bit of a vector: 2-bit symbols */
#define TWCC_RUN_SYM_SHIFT 13
#define TWCC_VEC1_SYMS 14
#define TWCC_VEC2_SYMS 7
#define TWCC_TICKS_PER_REF (RTCP_TWCC_REF_US / RTCP_TWCC_DELTA_US) /* 256 */
/*
 * Packet status symbols, §3.1.1. A symbol's value is also the size in bytes
 * of its receive delta (0, 1 or 2), which the walkers below rely on.
 */
enum { TWCC_NOT_RECEIVED = 0, TWCC_SMALL = 1, TWCC_LARGE = 2,
       TWCC_RESERVED = 3 };

/* ---- iteration ------------------------------------------------------- */

void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *p, size_t len)
{
	it->p = p;
	it->len = len;
	it->pos = 0;
	it->err = 0;
}

/* Minimum size a packet of this type needs beyond the 4-byte header. */
static size_t min_body(uint8_t type, uint8_t count)
{
	switch (type) {
	case RTCP_SR:
		return 4 + RTCP_SENDER_INFO_LEN +
		       (size_t)count * RTCP_REPORT_BLOCK_LEN;
	case RTCP_RR:
		return 4 + (size_t)count * RTCP_REPORT_BLOCK_LEN;
	case RTCP_RTPFB:
	case RTCP_PSFB:
		return RTCP_FB_HDR_LEN - RTCP_HDR_LEN;
	case RTCP_BYE:
		return (size_t)count * 4;
	default:
		return 0;
	}
}

static int iter_fail(struct rtcp_iter *it)
{
	it->err = -EBADMSG;
	return it->err;
}

int rtcp_next(struct rtcp_iter *it, struct rtcp_pkt *pkt)
{
	struct cur c;
	struct rtcp_pkt r;
	uint8_t b0, pt;
	uint16_t words;
	size_t plen, content;

	if (it->err)
		return it->err;
	if (it->pos >= it->len)
		return 0;
	c = cur_make(it->p + it->pos, it->len - it->pos);
	if (cur_u8(&c, &b0) || cur_u8(&c, &pt) || cur_u16(&c, &words))
		return iter_fail(it);
	if ((b0 >> RTCP_V_SHIFT) != RTCP_VERSION)
		return iter_fail(it);
	plen = ((size_t)words + 1) * 4;
	if (plen > cur_left(&c) + RTCP_HDR_LEN)
		return iter_fail(it);

	memset(&r, 0, sizeof(r));
	r.type = pt;
	r.fmt = b0 & RTCP_COUNT_MASK;
	r.padding = (b0 & RTCP_P_BIT) != 0;
	r.raw = it->p + it->pos;
	r.raw_len = plen;
	content = plen - RTCP_HDR_LEN;
	if (r.padding) {
		/* RFC 3550 §6.4.1: last octet counts padding, itself too */
		uint8_t cnt = r.raw[plen - 1];
		if (content == 0 || cnt == 0 || cnt > content)
			return iter_fail(it);
		content -= cnt;
	}
	if (content < min_body(pt, r.fmt))
		return iter_fail(it);

	r.body = r.raw + RTCP_HDR_LEN;
	r.body_len = content;
	if (content >= 4) {
		r.sender_ssrc = get_u32(r.body);
		if (pt == RTCP_SR || pt == RTCP_RR || pt == RTCP_RTPFB ||
		    pt == RTCP_PSFB) {
			r.body += 4;
			r.body_len -= 4;
		}
	}
	if (pt == RTCP_RTPFB || pt == RTCP_PSFB) {
		r.media_ssrc = get_u32(r.body);
		r.body += 4;
		r.body_len -= 4;
	}
	it->pos += plen;
	*pkt = r;
	return 1;
}

/* ---- SR / RR --------------------------------------------------------- */

int rtcp_sr_parse(const struct rtcp_pkt *pkt, struct rtcp_sr *sr)
{
	struct cur c;
	struct rtcp_sr s;

	if (pkt->type != RTCP_SR)
		return -EINVAL;
	c = cur_make(pkt->body, pkt->body_len);
	if (cur_u64(&c, &s.ntp) || cur_u32(&c, &s.rtp_ts) ||
	    cur_u32(&c, &s.pkt_count) || cur_u32(&c, &s.octet_count))
		return -EBADMSG;
	*sr = s;
	return 0;
}

static int32_t sign24(uint32_t v)
{
	v &= 0xFFFFFF;
	return (v & 0x800000) ? (int32_t)v - (1 << 24) : (int32_t)v;
}

int rtcp_report_block(const struct rtcp_pkt *pkt, unsigned i,
		      struct rtcp_rb *rb)
{
	struct cur c;
	struct rtcp_rb b;
	size_t off;
	uint32_t w;

	if (pkt->type == RTCP_SR)
		off = RTCP_SENDER_INFO_LEN;
	else if (pkt->type == RTCP_RR)
		off = 0;
	else
		return -EINVAL;
	if (i >= pkt->fmt)
		return -ENOENT;
	c = cur_make(pkt->body, pkt->body_len);
	if (cur_skip(&c, off + (size_t)i * RTCP_REPORT_BLOCK_LEN) ||
	    cur_u32(&c, &b.ssrc) || cur_u32(&c, &w) ||
	    cur_u32(&c, &b.ext_highest_seq) || cur_u32(&c, &b.jitter) ||
	    cur_u32(&c, &b.lsr) || cur_u32(&c, &b.dlsr))
		return -EBADMSG;
	b.fraction_lost = (uint8_t)(w >> 24);
	b.cum_lost = sign24(w);
	*rb = b;
	return 0;
}

/* ---- BYE ------------------------------------------------------------- */

int rtcp_bye_parse(const struct rtcp_pkt *pkt, struct rtcp_bye *bye)
{
	struct cur c;
	struct rtcp_bye b;
	uint8_t rl;

	if (pkt->type != RTCP_BYE)
		return -EINVAL;
	memset(&b, 0, sizeof(b));
	c = cur_make(pkt->body, pkt->body_len);
	for (b.n_ssrc = 0; b.n_ssrc < pkt->fmt; b.n_ssrc++)
		if (cur_u32(&c, &b.ssrc[b.n_ssrc]))
			return -EBADMSG;
	/* RFC 3550 §6.6: optional length-prefixed reason */
	if (cur_u8(&c, &rl) == 0) {
		const uint8_t *s;
		if (cur_bytes(&c, rl, &s))
			return -EBADMSG;
		b.reason = (const char *)s;
		b.reason_len = rl;
	}
	*bye = b;
	return 0;
}

/* ---- NACK ------------------------------------------------------------ */

static bool is_nack(const struct rtcp_pkt *pkt)
{
	return pkt->type == RTCP_RTPFB && pkt->fmt == RTCP_FMT_NACK;
}

/*
 * Walks the FCI entries; with h == NULL stores into seqs (bounded by cap,
 * counting past it so the caller learns the total).
 */
static int nack_walk(const struct rtcp_pkt *pkt, rtcp_nack_h *h, void *arg,
		     uint16_t *seqs, size_t cap, size_t *total)
{
	struct cur c;
	size_t n = 0;

	if (!is_nack(pkt))
		return -EINVAL;
	/* RFC 4585 §6.2.1: at least one PID+BLP entry, whole entries only */
	if (pkt->body_len == 0 || pkt->body_len % RTCP_NACK_FCI_LEN)
		return -EBADMSG;
	c = cur_make(pkt->body, pkt->body_len);
	while (cur_left(&c) >= RTCP_NACK_FCI_LEN) {
		uint16_t pid, blp;
		if (cur_u16(&c, &pid) || cur_u16(&c, &blp))
			return -EBADMSG;
		for (unsigned i = 0; i < RTCP_NACK_MAX_PER_FCI; i++) {
			uint16_t s;
			if (i > 0 && !(blp & (1u << (i - 1))))
				continue;
			s = (uint16_t)(pid + i);
			if (h) {
				n++;
				if (!h(s, arg))
					goto out;
				continue;
			}
			if (n < cap)
				seqs[n] = s;
			n++;
		}
	}
out:
	*total = n;
	return 0;
}

int rtcp_nack_foreach(const struct rtcp_pkt *pkt, rtcp_nack_h *h, void *arg)
{
	size_t n;
	int err;

	if (!h)
		return -EINVAL;
	err = nack_walk(pkt, h, arg, NULL, 0, &n);
	return err ? err : (int)n;
}

int rtcp_nack_expand(const struct rtcp_pkt *pkt, uint16_t *seqs, size_t cap,
		     size_t *n)
{
	size_t total;
	int err;

	if (!is_nack(pkt))
		return -EINVAL;
	if (pkt->body_len == 0 || pkt->body_len % RTCP_NACK_FCI_LEN)
		return -EBADMSG;
	/* Worst case fits? Then one pass; else count first, write nothing. */
	if ((pkt->body_len / RTCP_NACK_FCI_LEN) * RTCP_NACK_MAX_PER_FCI > cap) {
		err = nack_walk(pkt, NULL, NULL, seqs, 0, &total);
		if (err)
			return err;
		if (total > cap)
			return -ENOSPC;
	}
	err = nack_walk(pkt, NULL, NULL, seqs, cap, &total);
	if (err)
		return err;
	*n = total;
	return 0;
}

/* ---- PLI / FIR ------------------------------------------------------- */

bool rtcp_is_pli(const struct rtcp_pkt *pkt)
{
	return pkt->type == RTCP_PSFB && pkt->fmt == RTCP_FMT_PLI;
}

static bool is_fir(const struct rtcp_pkt *pkt)
{
	return pkt->type == RTCP_PSFB && pkt->fmt == RTCP_FMT_FIR;
}

int rtcp_fir_count(const struct rtcp_pkt *pkt)
{
	if (!is_fir(pkt))
		return -EINVAL;
	/* RFC 5104 §4.3.1.2: one or more whole FCI entries */
	if (pkt->body_len == 0 || pkt->body_len % RTCP_FIR_FCI_LEN)
		return -EBADMSG;
	return (int)(pkt->body_len / RTCP_FIR_FCI_LEN);
}

int rtcp_fir_entry(const struct rtcp_pkt *pkt, unsigned i,
		   struct rtcp_fir *e)
{
	struct cur c;
	struct rtcp_fir f;

	int n = rtcp_fir_count(pkt);

	if (n < 0)
		return n;
	if (i >= (unsigned)n)
		return -ENOENT;
	c = cur_make(pkt->body, pkt->body_len);
	if (cur_skip(&c, (size_t)i * RTCP_FIR_FCI_LEN) ||
	    cur_u32(&c, &f.ssrc) || cur_u8(&c, &f.seq))
		return -EBADMSG;
	*e = f;
	return 0;
}

/* ---- REMB ------------------------------------------------------------ */

int rtcp_remb_parse(const struct rtcp_pkt *pkt, struct rtcp_remb *r)
{
	struct cur c;
	const uint8_t *id;
	uint8_t nssrc;
	uint32_t w, mant;
	unsigned exp;

	if (pkt->type != RTCP_PSFB || pkt->fmt != RTCP_FMT_AFB)
		return -EINVAL;
	c = cur_make(pkt->body, pkt->body_len);
	if (cur_bytes(&c, sizeof(remb_id), &id) ||
	    memcmp(id, remb_id, sizeof(remb_id)) != 0)
		return -EINVAL;
	if (cur_u8(&c, &nssrc) || cur_u24(&c, &w))
		return -EBADMSG;
	if ((size_t)nssrc * 4 > cur_left(&c))
		return -EBADMSG;
	exp = w >> RTCP_REMB_MANTISSA_BITS;
	mant = w & REMB_MANTISSA_MASK;
	/* an 18-bit mantissa shifted by up to 63 may not fit 64 bits */
	if (exp > 0 && ((uint64_t)mant >> (64 - exp)) != 0)
		r->bitrate = UINT64_MAX;
	else
		r->bitrate = (uint64_t)mant << exp;
	r->n_ssrc = nssrc;
	for (size_t i = 0; i < nssrc; i++)
		cur_u32(&c, &r->ssrc[i]);
	return 0;
}

/* ---- TWCC parse ------------------------------------------------------ */

static bool is_twcc(const struct rtcp_pkt *pkt)
{
	return pkt->type == RTCP_RTPFB && pkt->fmt == RTCP_FMT_TWCC;
}

/* Symbols a chunk describes (run length or vector capacity). */
static unsigned chunk_len(uint16_t ch)
{
	if (!(ch & TWCC_CHUNK_VECTOR))
		return ch & RTCP_TWCC_RUN_MAX;
	return (ch & TWCC_VECTOR_2BIT) ? TWCC_VEC2_SYMS : TWCC_VEC1_SYMS;
}

/* Symbol k (< chunk_len) of a chunk. */
static unsigned chunk_sym(uint16_t ch, unsigned k)
{
	if (!(ch & TWCC_CHUNK_VECTOR))
		return (ch >> TWCC_RUN_SYM_SHIFT) & 3;
	if (ch & TWCC_VECTOR_2BIT)
		return (ch >> (12 - 2 * k)) & 3;
	return (ch >> (13 - k)) & 1;
}

/* Status `done` (symbol s, not reserved) into o, its delta read from *dc;
 * *t is the running arrival time. */
static int twcc_status(struct rtcp_twcc_status *o, const struct rtcp_twcc *fb,
		       unsigned done, unsigned s, struct cur *dc, int64_t *t)
{
	o->seq = (uint16_t)(fb->base_seq + done);
	o->received = s != TWCC_NOT_RECEIVED;
	o->delta_us = 0;
	o->arrival_us = 0;
	if (s == TWCC_SMALL) {
		uint8_t d;
		if (cur_u8(dc, &d))
			return -EBADMSG;
		o->delta_us = d * RTCP_TWCC_DELTA_US;
	} else if (s == TWCC_LARGE) {
		uint16_t d;
		if (cur_u16(dc, &d))
			return -EBADMSG;
		o->delta_us = (int16_t)d * RTCP_TWCC_DELTA_US;
	}
	if (o->received) {
		*t += o->delta_us;
		o->arrival_us = *t;
	}
	return 0;
}

/*
 * Walks chunks covering `count` statuses. With st == NULL only validates and
 * sums the delta bytes needed; otherwise also fills st and reads deltas from
 * *dc. Chunk bytes are read from *cc.
 *
 * Cost: validating a run-length chunk is one step whatever its length, so
 * pass 1 is bounded by the packet's size; decoding writes every status
 * (the caller bounds count with cap), a run of "not received" (no deltas)
 * without decoding each symbol, and every received one has a delta byte
 * in the packet to pay for it.
 */
static int twcc_walk(struct cur *cc, struct cur *dc, unsigned count,
		     const struct rtcp_twcc *fb, struct rtcp_twcc_status *st,
		     size_t *delta_bytes)
{
	unsigned done = 0;
	size_t need = 0;
	int64_t t = (int64_t)fb->ref_time * RTCP_TWCC_REF_US;

	while (done < count) {
		uint16_t ch;
		unsigned n, m;

		if (cur_u16(cc, &ch))
			return -EBADMSG;
		n = chunk_len(ch);
		m = n < count - done ? n : count - done;
		if (!(ch & TWCC_CHUNK_VECTOR)) {
			/* a run: one symbol for all of it */
			unsigned s = chunk_sym(ch, 0);
			if (s == TWCC_RESERVED)
				return -EBADMSG;
			need += (size_t)m * s;
			if (!st) {
				done += m;
			} else if (s == TWCC_NOT_RECEIVED) {
				for (unsigned k = 0; k < m; k++, done++) {
					st[done].seq = (uint16_t)(fb->base_seq + done);
					st[done].received = false;
					st[done].delta_us = 0;
					st[done].arrival_us = 0;
				}
			} else {
				for (unsigned k = 0; k < m; k++, done++)
					if (twcc_status(&st[done], fb, done, s, dc, &t))
						return -EBADMSG;
			}
			continue;
		}
		for (unsigned k = 0; k < m; k++, done++) {
			unsigned s = chunk_sym(ch, k);

			if (s == TWCC_RESERVED)
				return -EBADMSG;
			need += s;
			if (st && twcc_status(&st[done], fb, done, s, dc, &t))
				return -EBADMSG;
		}
	}
	*delta_bytes = need;
	return 0;
}

int rtcp_twcc_parse(const struct rtcp_pkt *pkt, struct rtcp_twcc *fb,
		    struct rtcp_twcc_status *st, size_t cap)
{
	struct cur c, dc;
	struct rtcp_twcc f;
	uint32_t ref;
	size_t need, chunks_end;
	int err;

	if (!is_twcc(pkt))
		return -EINVAL;
	c = cur_make(pkt->body, pkt->body_len);
	if (cur_u16(&c, &f.base_seq) || cur_u16(&c, &f.status_count) ||
	    cur_u24(&c, &ref) || cur_u8(&c, &f.fb_count))
		return -EBADMSG;
	f.ref_time = sign24(ref);
	if (f.status_count == 0 || f.status_count > RTCP_TWCC_MAX_STATUS)
		return -EBADMSG;

	/* pass 1: validate chunks and that the deltas they call for exist */
	dc = c;
	err = twcc_walk(&dc, NULL, f.status_count, &f, NULL, &need);
	if (err)
		return err;
	if (need > cur_left(&dc))
		return -EBADMSG;
	if (cap < f.status_count)
		return -ENOSPC;

	/* pass 2: decode; deltas start where the chunks ended */
	chunks_end = dc.pos;
	dc = c;
	dc.pos = chunks_end;
	err = twcc_walk(&c, &dc, f.status_count, &f, st, &need);
	if (err)
		return err;
	*fb = f;
	return 0;
}

/* ---- writer helpers -------------------------------------------------- */

static void put_hdr(uint8_t *b, uint8_t count, uint8_t type, size_t len)
{
	b[0] = (uint8_t)((RTCP_VERSION << RTCP_V_SHIFT) |
			 (count & RTCP_COUNT_MASK));
	b[1] = type;
	put_u16(b + 2, (uint16_t)(len / 4 - 1));
}

static void put_rb(uint8_t *b, const struct rtcp_rb *rb)
{
	int32_t cl = rb->cum_lost;

	if (cl > 0x7FFFFF)
		cl = 0x7FFFFF;
	if (cl < -0x800000)
		cl = -0x800000;
	put_u32(b, rb->ssrc);
	put_u32(b + 4, ((uint32_t)rb->fraction_lost << 24) |
			       ((uint32_t)cl & 0xFFFFFF));
	put_u32(b + 8, rb->ext_highest_seq);
	put_u32(b + 12, rb->jitter);
	put_u32(b + 16, rb->lsr);
	put_u32(b + 20, rb->dlsr);
}

/* ---- simple writers -------------------------------------------------- */

int rtcp_pli_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		   uint32_t media_ssrc, size_t *outlen)
{
	const size_t len = RTCP_FB_HDR_LEN;

	if (cap < len)
		return -ENOSPC;
	put_hdr(buf, RTCP_FMT_PLI, RTCP_PSFB, len);
	put_u32(buf + 4, sender_ssrc);
	put_u32(buf + 8, media_ssrc);
	*outlen = len;
	return 0;
}

int rtcp_fir_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		   const struct rtcp_fir *e, size_t n, size_t *outlen)
{
	size_t len;
	uint8_t *q;

	if (n == 0 || n > (RTCP_MAX_WORDS * 4 - RTCP_FB_HDR_LEN) /
				  RTCP_FIR_FCI_LEN)
		return -EINVAL;
	len = RTCP_FB_HDR_LEN + n * RTCP_FIR_FCI_LEN;
	if (cap < len)
		return -ENOSPC;
	put_hdr(buf, RTCP_FMT_FIR, RTCP_PSFB, len);
	put_u32(buf + 4, sender_ssrc);
	put_u32(buf + 8, 0); /* RFC 5104 §4.3.1.2: media SSRC unused, 0 */
	q = buf + RTCP_FB_HDR_LEN;
	for (size_t i = 0; i < n; i++, q += RTCP_FIR_FCI_LEN) {
		put_u32(q, e[i].ssrc);
		put_u32(q + 4, (uint32_t)e[i].seq << 24);
	}
	*outlen = len;
	return 0;
}

/* Number of PID+BLP entries rtcp_nack_write packs seqs into. */
static size_t nack_entries(const uint16_t *seqs, size_t n, uint8_t *out,
			   size_t cap_entries)
{
	size_t k = 0, i = 0;

	while (i < n) {
		uint16_t pid = seqs[i], blp = 0;
		for (i++; i < n; i++) {
			uint16_t d = (uint16_t)(seqs[i] - pid);
			if (d == 0)
				continue; /* duplicate */
			if (d > RTCP_NACK_MAX_PER_FCI - 1)
				break;
			blp |= (uint16_t)(1u << (d - 1));
		}
		if (out && k < cap_entries) {
			put_u16(out + k * RTCP_NACK_FCI_LEN, pid);
			put_u16(out + k * RTCP_NACK_FCI_LEN + 2, blp);
		}
		k++;
	}
	return k;
}

int rtcp_nack_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		    uint32_t media_ssrc, const uint16_t *seqs, size_t n,
		    size_t *outlen)
{
	size_t k, len;

	if (n == 0)
		return -EINVAL;
	k = nack_entries(seqs, n, NULL, 0);
	if (k > (RTCP_MAX_WORDS * 4 - RTCP_FB_HDR_LEN) / RTCP_NACK_FCI_LEN)
		return -EINVAL;
	len = RTCP_FB_HDR_LEN + k * RTCP_NACK_FCI_LEN;
	if (cap < len)
		return -ENOSPC;
	put_hdr(buf, RTCP_FMT_NACK, RTCP_RTPFB, len);
	put_u32(buf + 4, sender_ssrc);
	put_u32(buf + 8, media_ssrc);
	nack_entries(seqs, n, buf + RTCP_FB_HDR_LEN, k);
	*outlen = len;
	return 0;
}

int rtcp_rr_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		  const struct rtcp_rb *rb, size_t n, size_t *outlen)
{
	size_t len;

	if (n > RTCP_MAX_COUNT)
		return -EINVAL;
	len = 8 + n * RTCP_REPORT_BLOCK_LEN;
	if (cap < len)
		return -ENOSPC;
	put_hdr(buf, (uint8_t)n, RTCP_RR, len);
	put_u32(buf + 4, sender_ssrc);
	for (size_t i = 0; i < n; i++)
		put_rb(buf + 8 + i * RTCP_REPORT_BLOCK_LEN, &rb[i]);
	*outlen = len;
	return 0;
}

int rtcp_sr_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		  const struct rtcp_sr *sr, const struct rtcp_rb *rb, size_t n,
		  size_t *outlen)
{
	size_t len;
	uint8_t *q;

	if (n > RTCP_MAX_COUNT)
		return -EINVAL;
	len = 8 + RTCP_SENDER_INFO_LEN + n * RTCP_REPORT_BLOCK_LEN;
	if (cap < len)
		return -ENOSPC;
	put_hdr(buf, (uint8_t)n, RTCP_SR, len);
	put_u32(buf + 4, sender_ssrc);
	put_u32(buf + 8, (uint32_t)(sr->ntp >> 32));
	put_u32(buf + 12, (uint32_t)sr->ntp);
	put_u32(buf + 16, sr->rtp_ts);
	put_u32(buf + 20, sr->pkt_count);
	put_u32(buf + 24, sr->octet_count);
	q = buf + 8 + RTCP_SENDER_INFO_LEN;
	for (size_t i = 0; i < n; i++)
		put_rb(q + i * RTCP_REPORT_BLOCK_LEN, &rb[i]);
	*outlen = len;
	return 0;
}

int rtcp_remb_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		    uint64_t bitrate, const uint32_t *ssrcs, size_t n,
		    size_t *outlen)
{
	unsigned exp = 0;
	size_t len;
	uint8_t *q;

	if (n > RTCP_REMB_MAX_SSRC)
		return -EINVAL;
	len = RTCP_FB_HDR_LEN + REMB_FIXED_LEN + n * 4;
	if (cap < len)
		return -ENOSPC;
	while ((bitrate >> exp) > REMB_MANTISSA_MASK)
		exp++;
	put_hdr(buf, RTCP_FMT_AFB, RTCP_PSFB, len);
	put_u32(buf + 4, sender_ssrc);
	put_u32(buf + 8, 0); /* remb-03 §2.2: media SSRC always 0 */
	q = buf + RTCP_FB_HDR_LEN;
	memcpy(q, remb_id, sizeof(remb_id));
	put_u32(q + 4, ((uint32_t)n << 24) |
			       ((uint32_t)exp << RTCP_REMB_MANTISSA_BITS) |
			       (uint32_t)(bitrate >> exp));
	for (size_t i = 0; i < n; i++)
		put_u32(q + REMB_FIXED_LEN + 4 * i, ssrcs[i]);
	*outlen = len;
	return 0;
}

int rtcp_sdes_cname_write(uint8_t *buf, size_t cap, uint32_t ssrc,
			  const char *cname, size_t cname_len, size_t *outlen)
{
	size_t items, len;

	if (cname_len > RTCP_SDES_MAX_TEXT)
		return -EINVAL;
	/* RFC 3550 §6.5: SSRC, items, then at least one null octet padding
	 * the chunk to a 32-bit boundary. */
	items = 2 + cname_len + 1;
	len = RTCP_HDR_LEN + 4 + ((items + 3) & ~(size_t)3);
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, len);
	put_hdr(buf, 1, RTCP_SDES, len);
	put_u32(buf + 4, ssrc);
	buf[8] = RTCP_SDES_CNAME;
	buf[9] = (uint8_t)cname_len;
	memcpy(buf + 10, cname, cname_len);
	*outlen = len;
	return 0;
}

int rtcp_bye_write(uint8_t *buf, size_t cap, const uint32_t *ssrcs, size_t n,
		   size_t *outlen)
{
	size_t len;

	if (n == 0 || n > RTCP_MAX_COUNT)
		return -EINVAL;
	len = RTCP_HDR_LEN + 4 * n;
	if (cap < len)
		return -ENOSPC;
	put_hdr(buf, (uint8_t)n, RTCP_BYE, len);
	for (size_t i = 0; i < n; i++)
		put_u32(buf + 4 + 4 * i, ssrcs[i]);
	*outlen = len;
	return 0;
}

/* ---- TWCC writer ----------------------------------------------------- */

/*
 * A forward-only stream of the status symbols of offsets 0..count-1 that
 * rtcp_twcc_write encodes. Copying the struct gives a look-ahead.
 */
struct symstream {
	const struct rtcp_twcc_status *st;
	size_t n;
	uint16_t base;
	size_t i;          /* next entry in st */
	uint32_t off;      /* next offset */
	int64_t last_tick; /* arrival of the previous received packet */
};

/* arrival_us rounded to the nearest 250 µs tick (floor of x + 1/2). */
static int64_t to_tick(int64_t us)
{
	int64_t a = us + RTCP_TWCC_DELTA_US / 2;
	int64_t q = a / RTCP_TWCC_DELTA_US;

	if (a % RTCP_TWCC_DELTA_US != 0 && a < 0)
		q--;
	return q;
}

static unsigned delta_sym(int64_t d)
{
	return (d >= 0 && d <= UINT8_MAX) ? TWCC_SMALL : TWCC_LARGE;
}

static unsigned sym_next(struct symstream *s)
{
	unsigned sym = TWCC_NOT_RECEIVED;

	if (s->i < s->n && (uint16_t)(s->st[s->i].seq - s->base) == s->off) {
		const struct rtcp_twcc_status *e = &s->st[s->i++];
		if (e->received) {
			int64_t t = to_tick(e->arrival_us);
			sym = delta_sym(t - s->last_tick);
			s->last_tick = t;
		}
	}
	s->off++;
	return sym;
}

int rtcp_twcc_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		    uint32_t media_ssrc, const struct rtcp_twcc *fb,
		    const struct rtcp_twcc_status *st, size_t n,
		    size_t *outlen)
{
	struct symstream ss;
	uint32_t count, prev = 0;
	int64_t tick, ref_tick;
	size_t pos, len;

	if (n == 0 || fb->ref_time < RTCP_TWCC_REF_MIN ||
	    fb->ref_time > RTCP_TWCC_REF_MAX)
		return -EINVAL;
	/* validate order and range of every delta before writing */
	ref_tick = (int64_t)fb->ref_time * TWCC_TICKS_PER_REF;
	tick = ref_tick;
	for (size_t i = 0; i < n; i++) {
		uint32_t off = (uint16_t)(st[i].seq - fb->base_seq);
		if (i > 0 && off <= prev)
			return -EINVAL;
		prev = off;
		if (st[i].received) {
			int64_t t, d;
			if (st[i].arrival_us > INT64_MAX / 2 ||
			    st[i].arrival_us < INT64_MIN / 2)
				return -ERANGE;
			t = to_tick(st[i].arrival_us);
			d = t - tick;
			if (d < INT16_MIN || d > INT16_MAX)
				return -ERANGE;
			tick = t;
		}
	}
	count = prev + 1;
	if (count > RTCP_TWCC_MAX_STATUS)
		return -EINVAL;

	pos = RTCP_FB_HDR_LEN + TWCC_FIXED_LEN;
	if (cap < pos)
		return -ENOSPC;
	ss = (struct symstream){ st, n, fb->base_seq, 0, 0, ref_tick };

	/* packet chunks */
	while (ss.off < count) {
		uint32_t left = count - ss.off;
		struct symstream la = ss;
		unsigned s0 = sym_next(&la), run = 1, k;
		bool has_large = s0 == TWCC_LARGE;
		uint16_t ch;

		while (run < left && run < RTCP_TWCC_RUN_MAX) {
			struct symstream t = la;
			if (sym_next(&t) != s0)
				break;
			la = t;
			run++;
		}
		if (run < TWCC_VEC1_SYMS && run < left) {
			/* is there a large delta among the next 14? */
			la = ss;
			for (k = 0; k < TWCC_VEC1_SYMS && k < left; k++)
				if (sym_next(&la) == TWCC_LARGE)
					has_large = true;
		}
		if (run >= TWCC_VEC1_SYMS || run == left ||
		    (has_large && run >= TWCC_VEC2_SYMS)) {
			ch = (uint16_t)((s0 << TWCC_RUN_SYM_SHIFT) | run);
			for (k = 0; k < run; k++)
				sym_next(&ss);
		} else if (!has_large) {
			ch = TWCC_CHUNK_VECTOR;
			for (k = 0; k < TWCC_VEC1_SYMS && ss.off < count; k++)
				ch |= (uint16_t)(sym_next(&ss) << (13 - k));
		} else {
			ch = TWCC_CHUNK_VECTOR | TWCC_VECTOR_2BIT;
			for (k = 0; k < TWCC_VEC2_SYMS && ss.off < count; k++)
				ch |= (uint16_t)(sym_next(&ss)
						 << (12 - 2 * k));
		}
		if (cap - pos < 2)
			return -ENOSPC;
		put_u16(buf + pos, ch);
		pos += 2;
	}

	/* receive deltas */
	tick = ref_tick;
	for (size_t i = 0; i < n; i++) {
		int64_t t, d;
		if (!st[i].received)
			continue;
		t = to_tick(st[i].arrival_us);
		d = t - tick;
		tick = t;
		if (delta_sym(d) == TWCC_SMALL) {
			if (cap - pos < 1)
				return -ENOSPC;
			buf[pos++] = (uint8_t)d;
		} else {
			if (cap - pos < 2)
				return -ENOSPC;
			put_u16(buf + pos, (uint16_t)(int16_t)d);
			pos += 2;
		}
	}

	/* zero padding to 32 bits, draft-holmer-...-01 §3.1 */
	len = (pos + 3) & ~(size_t)3;
	if (cap < len)
		return -ENOSPC;
	memset(buf + pos, 0, len - pos);

	put_hdr(buf, RTCP_FMT_TWCC, RTCP_RTPFB, len);
	put_u32(buf + 4, sender_ssrc);
	put_u32(buf + 8, media_ssrc);
	put_u16(buf + 12, fb->base_seq);
	put_u16(buf + 14, (uint16_t)count);
	put_u32(buf + 16, ((uint32_t)fb->ref_time << 8) | fb->fb_count);
	*outlen = len;
	return 0;
}
