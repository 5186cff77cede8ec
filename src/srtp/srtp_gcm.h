/*
 * srtp_gcm — AEAD_AES_128_GCM for SRTP and SRTCP (RFC 7714) on Nettle's
 * GCM, internal to src/srtp (srtp_session.c chooses it by profile).
 *
 * Why not libsrtp2 for this profile: Debian builds libsrtp2 on NSS, which
 * sets up and tears down a PKCS#11 context, with allocations and locks,
 * for every packet (docs/benchmarks.md: ≈ 9,600 instructions per
 * protect). Here each direction keys one GCM context for RTP and one for
 * RTCP once; a packet costs an IV, the AAD, one pass and the tag.
 *
 * Why Nettle and not OpenSSL's EVP (which this file used before): the
 * same AES-NI and carry-less-multiply code paths, but no parameter layer
 * between the call and the cipher. OpenSSL 3.0 looks parameters up by
 * name for every IV and tag, and a media worker that wakes with cold
 * caches pays for that code and data each time: 14-23 % of the server's
 * CPU per forwarded packet went with the switch (docs/benchmarks.md).
 * Nettle's contexts hold a 4 KiB GHASH table, of which the PCLMUL code
 * reads a few lines; its GCM runs in constant time where the CPU has
 * AES-NI and PCLMUL (Debian builds it with run-time CPU detection).
 *
 * Split of work: srtp_session.c checks headers, finds the per-SSRC stream
 * and admits new SSRCs; this file derives the session keys (RFC 3711
 * §4.3 with the AES-CM PRF, as RFC 7714 §11 prescribes), builds IVs (RFC
 * 7714 §8.1, §9.1), estimates the packet index (RFC 3711 §3.3.1) and keeps
 * the replay windows (RFC 6479 ring of 64-bit blocks).
 */
#ifndef CONCLAVE_SRTP_SRTP_GCM_H
#define CONCLAVE_SRTP_SRTP_GCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/gcm.h>

#include "srtp/srtp_session.h"

enum {
	SRTP_GCM_KEY_LEN = 16,     /* AES-128 master and session key */
	SRTP_GCM_SALT_LEN = 12,    /* RFC 7714 §11: 96-bit master and session salt */
	SRTP_GCM_TAG_LEN = 16,     /* RFC 7714 §14.2: AEAD_AES_128_GCM, 16-octet tag */
	SRTP_GCM_ESRTCP_LEN = 4,   /* RFC 7714 §17: E flag and 31-bit SRTCP index */
	/* Replay windows as rings of 64-bit blocks, one block more than the
	 * window so a whole window survives the block being cleared ahead
	 * (RFC 6479 §3). SRTCP: 128 packets, as libsrtp2. */
	SRTP_GCM_RTP_WINDOW = SRTPS_REPLAY_WINDOW,
	SRTP_GCM_RTCP_WINDOW = 128,
	SRTP_GCM_RTP_BLOCKS = SRTP_GCM_RTP_WINDOW / 64 + 1,
	SRTP_GCM_RTCP_BLOCKS = SRTP_GCM_RTCP_WINDOW / 64 + 1,
};

/* A replay window over 48-bit (SRTP) or 31-bit (SRTCP) packet indexes:
 * `top` is the highest index accepted, bit i of the ring says whether
 * index i (within the window below top) was seen. */
struct srtp_gcm_window {
	uint64_t top;
	bool any;          /* false until the first packet */
};

/* The state of one SSRC in one direction. Owned by srtp_session.c's SSRC
 * set; a zeroed struct is a stream that has seen nothing yet. */
struct srtp_gcm_stream {
	struct srtp_gcm_window rtp;
	uint64_t rtp_ring[SRTP_GCM_RTP_BLOCKS];
	struct srtp_gcm_window rtcp;
	uint64_t rtcp_ring[SRTP_GCM_RTCP_BLOCKS];
	uint32_t rtcp_sent;  /* outbound: last SRTCP index used, 0 = none */
};

/* One direction's keys: session keys in two cipher contexts and the
 * session salts. Embedded in struct srtps, which frees it. */
struct srtp_gcm_dir {
	struct gcm_aes128_ctx rtp;
	struct gcm_aes128_ctx rtcp;
	uint8_t rtp_salt[SRTP_GCM_SALT_LEN];
	uint8_t rtcp_salt[SRTP_GCM_SALT_LEN];
};

/* Derives the SRTP and SRTCP session keys and salts from a master key and
 * 96-bit master salt (RFC 3711 §4.3.1, key derivation rate 0) and keys
 * the two contexts (GCM uses the same key schedule to seal and to open).
 * Returns 0, -ENOMEM or -EIO (the derivation runs on OpenSSL); on error
 * *d holds nothing to free beyond what srtp_gcm__dir_free() handles. */
int srtp_gcm__dir_init(struct srtp_gcm_dir *d, const uint8_t *master_key,
		       const uint8_t *master_salt);

/* Keys the contexts with session keys and salts as they are (RFC 7714's
 * test vectors are given that way); srtp_gcm__dir_init() derives them. */
void srtp_gcm__dir_keys(struct srtp_gcm_dir *d, const uint8_t *rtp_key,
			const uint8_t *rtp_salt, const uint8_t *rtcp_key,
			const uint8_t *rtcp_salt);

/* Wipes the keys, GHASH keys and salts. */
void srtp_gcm__dir_free(struct srtp_gcm_dir *d);

/*
 * The transforms. buf holds *len bytes; hdr is the RTP header length
 * (fixed header, CSRCs, extension), already checked to lie inside the
 * packet (for unprotect: before the tag); ssrc is the packet's. Protect
 * needs room for the overhead after *len (the caller checked it).
 * Returns 0 and the new *len; -EALREADY for an index already used (or
 * behind the replay window); -EBADMSG if authentication fails or the
 * packet is too short; -EKEYEXPIRED when the index space is used up.
 * The stream advances only on success.
 */
int srtp_gcm__protect_rtp(struct srtp_gcm_dir *d, struct srtp_gcm_stream *st,
			  uint8_t *buf, size_t *len, size_t hdr, uint32_t ssrc);
int srtp_gcm__unprotect_rtp(struct srtp_gcm_dir *d, struct srtp_gcm_stream *st,
			    uint8_t *buf, size_t *len, size_t hdr, uint32_t ssrc);
int srtp_gcm__protect_rtcp(struct srtp_gcm_dir *d, struct srtp_gcm_stream *st,
			   uint8_t *buf, size_t *len, uint32_t ssrc);
int srtp_gcm__unprotect_rtcp(struct srtp_gcm_dir *d, struct srtp_gcm_stream *st,
			     uint8_t *buf, size_t *len, uint32_t ssrc);

#endif
