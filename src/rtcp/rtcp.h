/*
 * rtcp — RTCP compound packet iteration, parsers and writers for the SFU.
 *
 * After SRTCP unprotect the SFU walks each compound packet (RFC 3550 §6.1)
 * and acts on a few kinds: receiver reports and sender reports (RFC 3550
 * §6.4), BYE, generic NACK answered from the packet cache (RFC 4585
 * §6.2.1), PLI and FIR relayed to publishers (RFC 4585 §6.3.1, RFC 5104
 * §4.3.1), REMB (draft-alvestrand-rmcat-remb-03) and transport-wide
 * congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01 §3.1). It also writes its own feedback to publishers.
 *
 * Everything runs per packet, so nothing allocates: parsers decode into
 * caller structs and arrays with an explicit capacity, writers write into a
 * caller buffer and return -ENOSPC when it is too small. A compound packet is
 * built by writing several packets back to back.
 */
#ifndef CONCLAVE_RTCP_RTCP_H
#define CONCLAVE_RTCP_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- wire constants -------------------------------------------------- */

enum {
	RTCP_VERSION = 2,     /* RFC 3550 §6.4.1 */
	RTCP_HDR_LEN = 4,     /* V/P/count, PT, length: RFC 3550 §6.4.1 */
	RTCP_MAX_COUNT = 31,  /* 5-bit RC / SC / FMT field */
	RTCP_MAX_WORDS = 65536, /* 16-bit length field counts words - 1 */

	/* packet types */
	RTCP_SR = 200,        /* RFC 3550 §6.4.1 */
	RTCP_RR = 201,        /* RFC 3550 §6.4.2 */
	RTCP_SDES = 202,      /* RFC 3550 §6.5 */
	RTCP_BYE = 203,       /* RFC 3550 §6.6 */
	RTCP_APP = 204,       /* RFC 3550 §6.7 */
	RTCP_RTPFB = 205,     /* RFC 4585 §6.1: transport layer feedback */
	RTCP_PSFB = 206,      /* RFC 4585 §6.1: payload-specific feedback */
	RTCP_XR = 207,        /* RFC 3611 §2 */

	/* RTPFB FMT values */
	RTCP_FMT_NACK = 1,    /* RFC 4585 §6.2.1 generic NACK */
	RTCP_FMT_TWCC = 15,   /* draft-holmer-rmcat-transport-wide-cc-
				 extensions-01 §3.1 */
	/* PSFB FMT values */
	RTCP_FMT_PLI = 1,     /* RFC 4585 §6.3.1 */
	RTCP_FMT_FIR = 4,     /* RFC 5104 §4.3.1 */
	RTCP_FMT_AFB = 15,    /* RFC 4585 §6.4: application layer FB (REMB) */

	/* fixed sizes */
	RTCP_SENDER_INFO_LEN = 20, /* RFC 3550 §6.4.1 */
	RTCP_REPORT_BLOCK_LEN = 24, /* RFC 3550 §6.4.1 */
	RTCP_FB_HDR_LEN = 12,       /* header + sender + media SSRC, RFC 4585
				       §6.1 */
	RTCP_NACK_FCI_LEN = 4,      /* PID + BLP, RFC 4585 §6.2.1 */
	RTCP_NACK_MAX_PER_FCI = 17, /* PID and the 16 BLP bits */
	RTCP_FIR_FCI_LEN = 8,       /* SSRC + seq nr + reserved, RFC 5104
				       §4.3.1.1 */
	RTCP_SDES_CNAME = 1,        /* RFC 3550 §6.5.1 */
	RTCP_SDES_MAX_TEXT = 255,   /* 8-bit item length, RFC 3550 §6.5 */

	/* REMB, draft-alvestrand-rmcat-remb-03 §2.2 */
	RTCP_REMB_MAX_SSRC = 255,   /* 8-bit "Num SSRC" */
	RTCP_REMB_MANTISSA_BITS = 18,
	RTCP_REMB_EXP_MAX = 63,     /* 6-bit exponent */

	/* Transport-wide CC feedback, draft-holmer-...-01 §3.1 */
	RTCP_TWCC_DELTA_US = 250,   /* receive delta unit */
	RTCP_TWCC_REF_US = 64000,   /* reference time unit (64 ms) */
	RTCP_TWCC_REF_MIN = -(1 << 23), /* 24-bit signed */
	RTCP_TWCC_REF_MAX = (1 << 23) - 1,
	RTCP_TWCC_RUN_MAX = 8191,   /* 13-bit run length */
	/*
	 * Limit on "packet status count" that we decode or write. The field
	 * is 16 bits, but one feedback covers well under a second of
	 * traffic, and keeping a message within half the sequence space
	 * keeps "which is newer" comparisons between feedbacks unambiguous
	 * modulo 2^16. Bigger counts are rejected as malformed.
	 */
	RTCP_TWCC_MAX_STATUS = 0x7FFF,
};

/* ---- compound iteration ---------------------------------------------- */

/*
 * One packet of a compound, as rtcp_next() found it. Pointers point into the
 * caller's buffer. Fields by type:
 *   SR, RR      sender_ssrc; body = sender info (SR) + report blocks (+ any
 *               profile extension)
 *   RTPFB, PSFB sender_ssrc, media_ssrc; body = FCI
 *   others      sender_ssrc = first 32-bit word if any (BYE: first SSRC,
 *               SDES: first chunk's SSRC, APP: SSRC); body = all after the
 *               4-byte header
 * body_len excludes padding.
 */
struct rtcp_pkt {
	uint8_t type;          /* PT, 200..207 or any other value */
	uint8_t fmt;           /* 5-bit field: RC, SC, FMT or APP subtype */
	bool padding;          /* P bit */
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	const uint8_t *raw;    /* whole packet, header included */
	size_t raw_len;        /* (length + 1) * 4 */
	const uint8_t *body;
	size_t body_len;
};

/* Iterator over a compound packet (value type; does not own the bytes). */
struct rtcp_iter {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int err;               /* sticky error once rtcp_next failed */
};

/* Starts iterating over p[0..len). */
void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *p, size_t len);

/*
 * Returns 1 and fills *pkt with the next packet, 0 at the end of the
 * compound, or -EBADMSG when the rest is malformed: fewer than 4 bytes
 * left, version != 2, a length field beyond the buffer, padding count 0 or
 * larger than the packet, or a packet shorter than its type needs (SR/RR
 * with fewer bytes than RC report blocks, feedback without both SSRCs,
 * BYE with fewer than SC SSRCs). The error is sticky: later calls return it
 * again. An empty buffer is an empty compound (returns 0).
 */
int rtcp_next(struct rtcp_iter *it, struct rtcp_pkt *pkt);

/* ---- SR / RR --------------------------------------------------------- */

/* SR sender info, RFC 3550 §6.4.1. */
struct rtcp_sr {
	uint64_t ntp;          /* NTP timestamp, 32.32 fixed point */
	uint32_t rtp_ts;
	uint32_t pkt_count;
	uint32_t octet_count;
};

/* A report block, RFC 3550 §6.4.1. */
struct rtcp_rb {
	uint32_t ssrc;
	uint8_t fraction_lost;
	int32_t cum_lost;      /* 24-bit signed on the wire */
	uint32_t ext_highest_seq;
	uint32_t jitter;
	uint32_t lsr;          /* middle 32 bits of the last SR's NTP time */
	uint32_t dlsr;         /* 1/65536 s */
};

/* Sender info of an SR. Returns 0, or -EINVAL if pkt is not an SR. */
int rtcp_sr_parse(const struct rtcp_pkt *pkt, struct rtcp_sr *sr);

/*
 * Report block i (< pkt->fmt) of an SR or RR. Returns 0, -EINVAL (not SR/RR)
 * or -ENOENT (i out of range).
 */
int rtcp_report_block(const struct rtcp_pkt *pkt, unsigned i,
		      struct rtcp_rb *rb);

/* ---- BYE ------------------------------------------------------------- */

/* A parsed BYE, RFC 3550 §6.6. reason points into the packet. */
struct rtcp_bye {
	size_t n_ssrc;
	uint32_t ssrc[RTCP_MAX_COUNT];
	const char *reason;    /* NULL if absent; not NUL-terminated */
	size_t reason_len;
};

/* Returns 0, -EINVAL (not a BYE) or -EBADMSG (reason past the end). */
int rtcp_bye_parse(const struct rtcp_pkt *pkt, struct rtcp_bye *bye);

/* ---- generic NACK ---------------------------------------------------- */

/* Called once per lost sequence number, in FCI order; returns true to go
 * on, false to stop there (a caller's budget is spent: one NACK of 1,500
 * bytes names up to ~6,000 packets). */
typedef bool(rtcp_nack_h)(uint16_t seq, void *arg);

/*
 * Expands every PID+BLP entry of a generic NACK into lost sequence numbers
 * (PID, then PID+i+1 for each set bit i of BLP) and calls h for each, until
 * h returns false. Returns the number of sequence numbers handed to h,
 * -EINVAL (not a generic NACK) or -EBADMSG (no FCI entry, or not a whole
 * number of entries: RFC 4585 §6.2.1 requires at least one). h is not
 * called on -EBADMSG.
 */
int rtcp_nack_foreach(const struct rtcp_pkt *pkt, rtcp_nack_h *h, void *arg);

/*
 * The same into seqs[0..cap): *n is the count. Returns 0, -EINVAL, -EBADMSG
 * or -ENOSPC (more lost packets than cap; nothing written to *n).
 */
int rtcp_nack_expand(const struct rtcp_pkt *pkt, uint16_t *seqs, size_t cap,
		     size_t *n);

/* ---- PLI, FIR -------------------------------------------------------- */

/* True for a PSFB PLI (media_ssrc names the stream). */
bool rtcp_is_pli(const struct rtcp_pkt *pkt);

/* A FIR FCI entry, RFC 5104 §4.3.1.1. */
struct rtcp_fir {
	uint32_t ssrc;
	uint8_t seq;
};

/*
 * Number of FIR entries in a PSFB FIR (>= 1), -EINVAL if pkt is not a FIR,
 * or -EBADMSG if the FCI is empty or not a whole number of 8-byte entries
 * (RFC 5104 §4.3.1.2).
 */
int rtcp_fir_count(const struct rtcp_pkt *pkt);

/* FIR entry i. Returns 0, -EINVAL (not a FIR), -EBADMSG or -ENOENT. */
int rtcp_fir_entry(const struct rtcp_pkt *pkt, unsigned i,
		   struct rtcp_fir *e);

/* ---- REMB ------------------------------------------------------------ */

/* A parsed REMB, draft-alvestrand-rmcat-remb-03 §2.2. */
struct rtcp_remb {
	uint64_t bitrate;      /* bits/s; mantissa << exp, saturated */
	size_t n_ssrc;
	uint32_t ssrc[RTCP_REMB_MAX_SSRC];
};

/*
 * Parses a PSFB FMT 15 packet whose FCI starts with "REMB". Returns 0,
 * -EINVAL (not an application-layer feedback carrying "REMB") or -EBADMSG
 * (SSRC list past the end).
 */
int rtcp_remb_parse(const struct rtcp_pkt *pkt, struct rtcp_remb *r);

/* ---- transport-wide congestion control feedback ---------------------- */

/* Header fields of a TWCC feedback packet. */
struct rtcp_twcc {
	uint16_t base_seq;
	uint16_t status_count; /* packets covered, from base_seq on */
	int32_t ref_time;      /* 24-bit signed, units of 64 ms */
	uint8_t fb_count;      /* feedback packet counter */
};

/*
 * Status of one transport-wide sequence number. arrival_us is the receive
 * time in µs on the feedback sender's clock: ref_time * 64 ms plus the sum
 * of the receive deltas so far; delta_us is this packet's own delta (each a
 * multiple of 250 µs). Both are 0 for a packet not received.
 */
struct rtcp_twcc_status {
	uint16_t seq;
	bool received;
	int32_t delta_us;
	int64_t arrival_us;
};

/*
 * Decodes a TWCC feedback (RTPFB FMT 15) into *fb and st[0..status_count).
 * Returns 0, -EINVAL (not TWCC), -EBADMSG (truncated chunks or deltas,
 * reserved symbol, status count 0 or above RTCP_TWCC_MAX_STATUS) or -ENOSPC
 * (cap < status_count). Outputs are written only on success.
 */
int rtcp_twcc_parse(const struct rtcp_pkt *pkt, struct rtcp_twcc *fb,
		    struct rtcp_twcc_status *st, size_t cap);

/*
 * Writes a TWCC feedback packet. Uses fb->base_seq, fb->ref_time and
 * fb->fb_count (fb->status_count is ignored and derived). st[0..n) must be
 * in increasing order of (seq - base_seq) mod 2^16; sequence numbers
 * missing between entries are reported as not received. For received
 * entries only arrival_us is used: it is rounded to the 250 µs grid and
 * encoded as deltas from ref_time * 64 ms and from one another, so that
 * rtcp_twcc_parse returns every arrival_us within 125 µs of the input.
 * Run-length chunks encode runs, 1-bit or 2-bit status vectors the rest;
 * deltas are 1 byte when they fit in 0..255 units and 2 bytes otherwise.
 * The packet is zero-padded to a 32-bit boundary (§3.1).
 * Returns 0 with *outlen set, -EINVAL (n == 0, order violated, more than
 * RTCP_TWCC_MAX_STATUS packets, ref_time out of 24-bit range),
 * -ERANGE (a delta beyond ±8.19 s) or -ENOSPC.
 */
int rtcp_twcc_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		    uint32_t media_ssrc, const struct rtcp_twcc *fb,
		    const struct rtcp_twcc_status *st, size_t n,
		    size_t *outlen);

/* ---- writers --------------------------------------------------------- */

/*
 * Each writes one RTCP packet at buf[0..cap) and returns 0 with *outlen set,
 * -ENOSPC if it does not fit, or -EINVAL for an input the format cannot
 * carry (too many report blocks, SSRCs or entries). Concatenate them to
 * build a compound packet.
 */

/* PLI, RFC 4585 §6.3.1. */
int rtcp_pli_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		   uint32_t media_ssrc, size_t *outlen);

/* FIR with n entries, RFC 5104 §4.3.1 (media SSRC field is 0). */
int rtcp_fir_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		   const struct rtcp_fir *e, size_t n, size_t *outlen);

/*
 * Generic NACK for the lost sequence numbers seqs[0..n), which should be in
 * increasing order modulo 2^16 (RFC 1982 style); each run that fits within
 * PID..PID+16 is packed into one PID+BLP entry, duplicates are dropped.
 * -EINVAL if n == 0.
 */
int rtcp_nack_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		    uint32_t media_ssrc, const uint16_t *seqs, size_t n,
		    size_t *outlen);

/* RR with n (<= 31) report blocks, RFC 3550 §6.4.2. */
int rtcp_rr_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		  const struct rtcp_rb *rb, size_t n, size_t *outlen);

/* SR with n (<= 31) report blocks, RFC 3550 §6.4.1. */
int rtcp_sr_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		  const struct rtcp_sr *sr, const struct rtcp_rb *rb, size_t n,
		  size_t *outlen);

/*
 * REMB for bitrate bits/s and ssrcs[0..n) (n <= 255). The bitrate is
 * encoded with the smallest exponent whose mantissa fits 18 bits, rounding
 * down.
 */
int rtcp_remb_write(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		    uint64_t bitrate, const uint32_t *ssrcs, size_t n,
		    size_t *outlen);

/* SDES with one chunk holding a CNAME item (cname_len <= 255). */
int rtcp_sdes_cname_write(uint8_t *buf, size_t cap, uint32_t ssrc,
			  const char *cname, size_t cname_len, size_t *outlen);

/* BYE for ssrcs[0..n) (1 <= n <= 31), without a reason. */
int rtcp_bye_write(uint8_t *buf, size_t cap, const uint32_t *ssrcs, size_t n,
		   size_t *outlen);

#endif
