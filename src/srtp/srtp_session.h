/*
 * srtp_session — SRTP and SRTCP (RFC 3711, RFC 7714) for one DTLS-SRTP
 * transport, keyed from dtls_conn_srtp_keys().
 *
 * A struct srtps is the pair of sessions one ICE transport needs: inbound
 * (unprotect what the peer sent, under the peer's write key) and outbound
 * (protect what we send, under our write key). Any SSRC is accepted, up to
 * a fixed number per direction, because a browser's SSRCs are announced in
 * its SDP but the media path must not depend on it having been parsed.
 *
 * The prefix is `srtps_` because libsrtp2 owns `srtp_`. The profile
 * chooses the engine: AEAD_AES_128_GCM runs on Nettle's AES-GCM with
 * contexts keyed once per session (srtp_gcm.c), AES_CM_128_HMAC_SHA1_80
 * on libsrtp2. Callers see neither: keys in, packets transformed
 * in place in a caller-owned buffer, errno-style results, overheads as
 * constants.
 *
 * Threads: srtps_init() may be called from any thread; a struct srtps is
 * used by one media worker thread only. Nothing here allocates per packet
 * except when a new SSRC is admitted (its index and replay state; libsrtp2
 * clones a stream with cipher contexts).
 *
 * Outbound SSRCs are retired when their subscription ends
 * (srtps_retire_out): the stream is freed and the SSRC refused from then
 * on. Inbound streams stay for the session: a browser sends again on the
 * SSRC of a transceiver it reuses (a screen share shared anew), continuing
 * its index, and forgetting the stream would lose its rollover counter and
 * reopen its replay window.
 */
#ifndef CONCLAVE_SRTP_SRTP_SESSION_H
#define CONCLAVE_SRTP_SRTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls/dtls.h"

enum {
	/* Bytes protect adds. RTP: the auth tag, 80 bits for
	 * AES_CM_128_HMAC_SHA1_80 (RFC 3711 §5.2), 128 bits for
	 * AEAD_AES_128_GCM (RFC 7714 §14.2). RTCP adds the 32-bit E flag and
	 * SRTCP index before the tag (RFC 3711 §3.4, RFC 7714 §17). No MKI. */
	SRTPS_RTP_OVERHEAD_CM = 10,
	SRTPS_RTP_OVERHEAD_GCM = 16,
	SRTPS_RTCP_OVERHEAD_CM = 14,
	SRTPS_RTCP_OVERHEAD_GCM = 20,
	SRTPS_MAX_OVERHEAD = 20,
	/* Smallest packets: the fixed RTP header (RFC 3550 §5.1) and the RTCP
	 * common header plus sender SSRC (RFC 3550 §6.4). */
	SRTPS_RTP_MIN = 12,
	SRTPS_RTCP_MIN = 8,
	/* Largest packet handled, protected or not: a UDP payload that fits
	 * an Ethernet MTU with room to spare (RFC 8285 and RFC 3550 set no
	 * bound; anything bigger is not real-time media). */
	SRTPS_MAX_PACKET = 2048,
	/* Replay window for SRTP (RFC 3711 §3.3.2 requires at least 64). Big
	 * enough for the reordering of video bursts and RTX on a busy path;
	 * libsrtp2 accepts up to 2^15. SRTCP uses 128, libsrtp2's fixed size. */
	SRTPS_REPLAY_WINDOW = 1024,
	/* SSRCs per direction. Inbound: one browser publishes audio, up to
	 * three simulcast layers with their RTX, and a screen share, plus the
	 * sender SSRCs of its RTCP: 32 is ample. Outbound: the streams the
	 * SFU sends to one subscriber, one per forwarded source (audio of
	 * every participant, visible video with RTX); 1024 covers large
	 * meetings. A stream costs ≈ 190 bytes with GCM, a cipher context
	 * with libsrtp2. */
	SRTPS_MAX_SSRCS_IN = 32,
	SRTPS_MAX_SSRCS_OUT = 1024,
	/* Outbound SSRCs retired (srtps_retire_out) and remembered so that
	 * they are never protected again under the same key: 16,384 is
	 * some 5,000 reconnects of other participants (3 streams each)
	 * while one subscriber stays, or a member publishing its 8 tracks
	 * anew 2,000 times. 4 bytes each, in a table that grows as needed
	 * (128 KiB at most). */
	SRTPS_RETIRED_MAX = 16384,
};

struct srtps;

/* Initialises libsrtp2 (the AES-CM profile) once per process (thread-safe). Returns 0 or
 * -EIO. srtps_new() calls it too. */
int srtps_init(void);

/*
 * Makes the inbound and outbound sessions for one transport from DTLS-SRTP
 * keys. is_server says which side we are: the server protects with the
 * server write key and unprotects with the client's (RFC 5764 §4.2), a
 * client the other way round. Session keys are derived into cipher
 * contexts (or the master keys copied into libsrtp2), temporary copies
 * wiped; the caller still wipes *keys. The caller owns
 * *out and frees it with srtps_free(). Returns 0, -EINVAL (unknown
 * profile or lengths), -ENOMEM or -EIO.
 */
int srtps_new(const struct dtls_srtp_keys *keys, bool is_server,
	      struct srtps **out);

/* Frees both sessions, wiping their keys (NULL is fine). */
void srtps_free(struct srtps *s);

/* The profile the sessions were made for. */
enum dtls_srtp_profile srtps_profile(const struct srtps *s);

/* Bytes srtps_protect_rtp / srtps_protect_rtcp add for this session. */
size_t srtps_rtp_overhead(const struct srtps *s);
size_t srtps_rtcp_overhead(const struct srtps *s);

/*
 * Protects an RTP packet in place: buf holds *len bytes of plain RTP in a
 * buffer of cap bytes; on success *len grows by srtps_rtp_overhead().
 * Returns 0; -ENOSPC if cap is too small; -EBADMSG if the packet is not
 * RTP or too short/long; -EALREADY if this SSRC already sent this
 * sequence number (it would reuse a nonce); -ESTALE if the SSRC was
 * retired (srtps_retire_out); -EMFILE if the SSRC is new and
 * SRTPS_MAX_SSRCS_OUT are in use; -ENOMEM if a new SSRC's state cannot be
 * allocated; -EKEYEXPIRED if the stream's index space (2^48 packets, 2^31
 * for SRTCP) is used up; -EIO otherwise. *len is unchanged on error, the
 * buffer contents undefined.
 */
int srtps_protect_rtp(struct srtps *s, uint8_t *buf, size_t *len, size_t cap);

/*
 * Verifies and decrypts an SRTP packet in place; on success *len shrinks
 * to the plain RTP packet. Returns 0; -EBADMSG if malformed or the
 * authentication failed; -EALREADY if it is a replay or older than the
 * replay window; -EMFILE if the SSRC is new and SRTPS_MAX_SSRCS_IN are in
 * use; -ENOMEM or -EKEYEXPIRED as for protect; -EIO otherwise. *len is unchanged on error, but the buffer may
 * have been partly decrypted: drop the packet, do not forward it.
 */
int srtps_unprotect_rtp(struct srtps *s, uint8_t *buf, size_t *len);

/* As srtps_protect_rtp, for an RTCP (compound) packet; the SSRC is the
 * sender SSRC of the first RTCP packet. */
int srtps_protect_rtcp(struct srtps *s, uint8_t *buf, size_t *len, size_t cap);

/* As srtps_unprotect_rtp, for an SRTCP packet. */
int srtps_unprotect_rtcp(struct srtps *s, uint8_t *buf, size_t *len);

/*
 * Retires an outbound SSRC that will not be sent again (the subscription
 * it carried has ended): its stream state (index, replay window, with
 * libsrtp2 its cipher contexts) is wiped and freed and its place among
 * the SRTPS_MAX_SSRCS_OUT taken by nobody, so the SSRCs that come and go
 * over a long connection never fill the set. The SSRC itself is
 * remembered: protect refuses it from then on (-ESTALE, RTP and RTCP),
 * because a stream admitted anew would start its index again, and under
 * the same key and SSRC that reuses nonces (AES-GCM) or keystream
 * (AES-CM). Returns 0; -ENOENT if the SSRC never sent anything (there is
 * nothing to forget, and sending it later is safe); -ENOSPC when
 * SRTPS_RETIRED_MAX are remembered already, or -ENOMEM: then the stream
 * is kept as it is (and counts towards SRTPS_MAX_SSRCS_OUT). Allocates
 * (the remembered set grows); not for the per-packet path.
 */
int srtps_retire_out(struct srtps *s, uint32_t ssrc);

#endif
