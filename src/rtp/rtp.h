/*
 * rtp — RTP header parsing and in-place rewriting for the SFU hot path.
 *
 * The SFU sees media after SRTP unprotect, but the payload is still SFrame
 * ciphertext: routing, simulcast switching, key-frame detection and
 * active-speaker selection must come from the RTP header, its header
 * extensions (RFC 8285) and the few codec bytes that stay in the clear
 * (VP8 payload descriptor, H.264 NAL header). This module parses those into
 * caller-provided value structs, rewrites fields in place (SSRC, sequence
 * number, timestamp, payload type, marker, transport-wide sequence number,
 * VP8 picture id) and builds/unpacks RTX packets (RFC 4588) into caller
 * buffers. Nothing here allocates.
 *
 * A parsed `struct rtp_hdr` holds offsets, not pointers, into the packet, so
 * it stays valid when the packet bytes are copied to another buffer (the SFU
 * copies a packet once per subscriber and then rewrites the copy).
 */
#ifndef CONCLAVE_RTP_RTP_H
#define CONCLAVE_RTP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- wire constants -------------------------------------------------- */

enum {
	RTP_VERSION = 2,          /* RFC 3550 §5.1 */
	RTP_HDR_LEN = 12,         /* fixed header, RFC 3550 §5.1 */
	RTP_MAX_CSRC = 15,        /* 4-bit CC field, RFC 3550 §5.1 */
	RTP_EXT_HDR_LEN = 4,      /* profile + length words, RFC 3550 §5.3.1 */
	RTP_MAX_PT = 127,         /* 7-bit PT field, RFC 3550 §5.1 */

	/* RFC 8285 §4.2: one-byte header form ("0xBEDE"), ids 1..14 */
	RTP_EXT_PROFILE_ONE_BYTE = 0xBEDE,
	RTP_EXT_ONE_BYTE_ID_MAX = 14,
	RTP_EXT_ONE_BYTE_ID_STOP = 15, /* reserved: stops parsing, §4.2 */
	RTP_EXT_ONE_BYTE_LEN_MAX = 16, /* 4-bit L field holds length-1 */
	/* RFC 8285 §4.3: two-byte form, profile 0x100 followed by 4 app bits */
	RTP_EXT_PROFILE_TWO_BYTE = 0x1000,
	RTP_EXT_PROFILE_TWO_BYTE_MASK = 0xFFF0,
	RTP_EXT_TWO_BYTE_ID_MAX = 255,
	RTP_EXT_PAD = 0,               /* padding byte, RFC 8285 §4.2/§4.3 */

	/* RFC 5761 §4: RTCP packet types 192..223 clash with RTP PT 64..95 */
	RTP_RTCP_DEMUX_MIN = 192,
	RTP_RTCP_DEMUX_MAX = 223,

	/* RFC 6464 §3: audio level = 7 bits of -dBov, V flag in the MSB */
	RTP_AUDIO_LEVEL_MAX = 127,

	/* RFC 4588 §4: RTX payload starts with the 2-byte original seq */
	RTP_RTX_OSN_LEN = 2,
};

/* ---- RTP header ------------------------------------------------------ */

/*
 * A parsed RTP header (value type, no ownership). Offsets are from the first
 * byte of the packet passed to rtp_parse().
 */
struct rtp_hdr {
	uint8_t version;       /* always 2 after a successful parse */
	bool padding;          /* P bit */
	bool extension;        /* X bit */
	bool marker;           /* M bit */
	uint8_t cc;            /* CSRC count */
	uint8_t pt;            /* payload type, 0..127 */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	size_t hdr_len;        /* fixed + CSRCs + extension = payload offset */
	size_t payload_off;    /* == hdr_len */
	size_t payload_len;    /* without padding */
	size_t pad_len;        /* padding bytes at the end (incl. count byte) */
	uint16_t ext_profile;  /* "defined by profile" word, 0 if no X bit */
	size_t ext_off;        /* offset of the extension data (after the
				  4-byte extension header), 0 if none */
	size_t ext_len;        /* extension data length in bytes */
};

/*
 * Parses the RTP header of p[0..len) into *h. Strict: version 2, CSRC list,
 * extension block and padding must lie inside the packet, and a padding count
 * must be at least 1 and not exceed the bytes after the header (a
 * padding-only packet, payload_len 0, is valid). Returns 0 or -EBADMSG;
 * *h is written only on success.
 */
int rtp_parse(const uint8_t *p, size_t len, struct rtp_hdr *h);

/*
 * RFC 5761 §4 demultiplexing on an rtcp-mux port: true when the second byte
 * (RTCP packet type / RTP M+PT) is in 192..223, i.e. the packet is RTCP.
 * Needs len >= 2; shorter input is reported as not RTCP.
 */
bool rtp_is_rtcp(const uint8_t *p, size_t len);

/* CSRC number i (< h->cc) of a parsed packet. */
uint32_t rtp_csrc(const uint8_t *p, const struct rtp_hdr *h, unsigned i);

/* ---- header extensions (RFC 8285) ------------------------------------ */

/*
 * Finds the header extension element with local id `id` in a parsed packet
 * and points *val and *vlen at its value (inside p, no copy). Handles the
 * one-byte (0xBEDE, ids 1..14; id 15 stops parsing) and two-byte (0x100x,
 * ids 1..255) forms and skips padding bytes. Returns 0, -ENOENT (no such
 * element, no extension block, another profile or an id the form cannot
 * carry), -EINVAL (id 0) or -EBADMSG (an element runs past the block before
 * `id` was found).
 */
int rtp_ext_find(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		 const uint8_t **val, size_t *vlen);

/*
 * RFC 6464 client-to-mixer audio level: *voice is the V flag, *level the
 * level in -dBov (0 = loudest, 127 = silence). Returns 0, -ENOENT or
 * -EBADMSG (empty value).
 */
int rtp_ext_audio_level(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
			bool *voice, uint8_t *level);

/*
 * Transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01 §2): the first 16 bits of the element. Returns 0, -ENOENT
 * or -EBADMSG (value shorter than 2 bytes).
 */
int rtp_ext_twcc_seq(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		     uint16_t *seq);

/*
 * Overwrites the first 16 bits of the existing element `id` with v
 * (big-endian), in place; used to renumber the transport-wide sequence per
 * subscriber. Never changes the packet length. Returns 0, -ENOENT or
 * -EBADMSG (value shorter than 2 bytes).
 */
int rtp_ext_write_u16(uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		      uint16_t v);

/*
 * A string-valued element such as the MID (RFC 8843 §15) or RtpStreamId /
 * RepairedRtpStreamId (RFC 8852 §3): points *s and *n at the bytes (not
 * NUL-terminated). Returns 0, -ENOENT or -EBADMSG (empty value).
 */
int rtp_ext_str(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		const char **s, size_t *n);

/* ---- in-place rewriting ---------------------------------------------- */

/*
 * These write one field of the header of a packet that rtp_parse() accepted
 * (so at least RTP_HDR_LEN bytes). They touch only those bits; a struct
 * rtp_hdr parsed earlier keeps the old value.
 */
void rtp_set_seq(uint8_t *p, uint16_t seq);
void rtp_set_ts(uint8_t *p, uint32_t ts);
void rtp_set_ssrc(uint8_t *p, uint32_t ssrc);
void rtp_set_pt(uint8_t *p, uint8_t pt);        /* keeps the marker bit */
void rtp_set_marker(uint8_t *p, bool marker);   /* keeps the payload type */

/* ---- VP8 payload descriptor (RFC 7741 §4.2) --------------------------- */

enum {
	RTP_VP8_PICID_7BIT_MAX = 0x7F,   /* M=0 form, RFC 7741 §4.2 */
	RTP_VP8_PICID_15BIT_MAX = 0x7FFF /* M=1 form */
};

/* A parsed VP8 payload descriptor (value type). */
struct rtp_vp8 {
	bool x;                /* extension byte present */
	bool n;                /* non-reference frame */
	bool s;                /* start of a VP8 partition */
	uint8_t pid;           /* partition index, 0..7 */
	bool has_picture_id;   /* I */
	bool picture_id_15bit; /* M: 15-bit (2-byte) form */
	uint16_t picture_id;
	bool has_tl0picidx;    /* L */
	uint8_t tl0picidx;
	bool has_tid;          /* T: tid and y valid */
	uint8_t tid;           /* temporal layer index, 0..3 */
	bool y;                /* layer sync */
	bool has_keyidx;       /* K */
	uint8_t keyidx;        /* 0..31 */
	size_t desc_len;       /* descriptor length; VP8 payload follows */
	bool is_keyframe;      /* S=1, PID=0 and P bit of payload header 0 */
	uint8_t picture_id_at; /* offsets in the payload (valid when present) */
	uint8_t tl0picidx_at;
};

/*
 * Parses the VP8 payload descriptor at the start of an RTP payload. At least
 * one payload byte must follow the descriptor. Returns 0 or -EBADMSG.
 */
int rtp_vp8_parse(const uint8_t *payload, size_t len, struct rtp_vp8 *out);

/*
 * Rewrites the picture id in place (layer switches need a continuous
 * sequence). For the 15-bit form all 15 bits are written; for the 7-bit form
 * the low 7 bits of picture_id (receivers compare 7-bit ids modulo 128).
 * Returns 0, -EBADMSG (descriptor malformed) or -ENOENT (no picture id).
 */
int rtp_vp8_rewrite_picture_id(uint8_t *payload, size_t len,
			       uint16_t picture_id);

/* Rewrites TL0PICIDX in place. Returns 0, -EBADMSG or -ENOENT (absent). */
int rtp_vp8_rewrite_tl0picidx(uint8_t *payload, size_t len, uint8_t tl0picidx);

/*
 * The same two rewrites for a payload parsed already (`d` from
 * rtp_vp8_parse of these bytes, or of a copy at another address), so that
 * a packet forwarded to many receivers is parsed once. Nothing is written
 * where `d` has no such field.
 */
void rtp_vp8_set_picture_id(uint8_t *payload, const struct rtp_vp8 *d,
			    uint16_t picture_id);
void rtp_vp8_set_tl0picidx(uint8_t *payload, const struct rtp_vp8 *d,
			   uint8_t tl0picidx);

/* ---- VP9 payload descriptor (RFC 9628 §4.2) ------------------------ */

/*
 * True when the payload starts a key frame: the descriptor's B bit (start
 * of a frame) set, its P bit (inter-picture predicted) clear, and, when
 * layer indices are present, spatial layer 0. The descriptor is outside
 * the (end-to-end encrypted) frame. Malformed payloads answer false.
 */
bool rtp_vp9_is_keyframe(const uint8_t *payload, size_t len);

/* ---- H.264 (RFC 6184) ------------------------------------------------ */

enum {
	RTP_H264_NAL_IDR = 5,    /* H.264 Table 7-1 */
	RTP_H264_NAL_SPS = 7,
	RTP_H264_STAP_A = 24,    /* RFC 6184 §5.4 */
	RTP_H264_FU_A = 28,
};

/*
 * True when the payload starts a key frame: a single NAL unit, any unit of
 * a STAP-A, or the start fragment of an FU-A whose NAL type is IDR (5) or
 * SPS (7). Malformed payloads answer false.
 */
bool rtp_h264_is_keyframe(const uint8_t *payload, size_t len);

/* ---- RTX (RFC 4588) -------------------------------------------------- */

/*
 * Builds the RTX packet for the original packet orig[0..len) (parsed into
 * *h) into out[0..cap): the header with CSRCs and extensions is copied, P
 * cleared, PT/SSRC/seq replaced by rtx_pt/rtx_ssrc/rtx_seq, then the 2-byte
 * original sequence number and the payload (without padding) follow.
 * out may equal orig (in place; cap then bounds the same buffer) but must
 * not otherwise overlap it. Returns 0 with *outlen set, -ENOSPC or -EINVAL
 * (rtx_pt > 127).
 */
int rtp_rtx_wrap(const uint8_t *orig, size_t len, const struct rtp_hdr *h,
		 uint8_t *out, size_t cap, uint8_t rtx_pt, uint32_t rtx_ssrc,
		 uint16_t rtx_seq, size_t *outlen);

/*
 * The reverse: from an RTX packet rtx[0..len) (parsed into *h), rebuilds the
 * original packet into out with orig_pt/orig_ssrc and the sequence number
 * taken from the OSN field; P is cleared and RTX padding dropped. out may
 * equal rtx. Returns 0 with *outlen set, -EBADMSG (payload shorter than the
 * OSN, e.g. a padding-only probe), -ENOSPC or -EINVAL (orig_pt > 127).
 */
int rtp_rtx_unwrap(const uint8_t *rtx, size_t len, const struct rtp_hdr *h,
		   uint8_t *out, size_t cap, uint8_t orig_pt, uint32_t orig_ssrc,
		   size_t *outlen);

/* ---- sequence number arithmetic -------------------------------------- */

/*
 * True when 16-bit sequence number a comes after b, modulo 2^16 (RFC 3550
 * Appendix A.1 style): a != b and a - b < 2^15. Exactly half way counts as
 * older.
 */
static inline bool seq_newer(uint16_t a, uint16_t b)
{
	return a != b && (uint16_t)(a - b) < 0x8000;
}

/*
 * Extends 16-bit sequence numbers to 64 bits, counting wrap-arounds. Value
 * type: zero-initialise (or seq_unwrap_init) and feed every sequence number
 * in arrival order. The reference is the newest number seen, so reordered
 * old packets map below it. The first number maps to 2^16 + seq so that
 * packets reordered just before it still unwrap to positive values.
 */
struct seq_unwrap {
	bool started;
	uint64_t last; /* newest unwrapped value */
};

void seq_unwrap_init(struct seq_unwrap *u);

/* Unwraps seq and, if it is the newest so far, makes it the reference. */
uint64_t seq_unwrap_update(struct seq_unwrap *u, uint16_t seq);

/* Unwraps seq against the current reference without changing it. */
uint64_t seq_unwrap_peek(const struct seq_unwrap *u, uint16_t seq);

#endif
