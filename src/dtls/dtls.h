/*
 * dtls — the DTLS 1.2 server side of DTLS-SRTP (RFC 5763, RFC 5764,
 * RFC 8827), on OpenSSL 3.
 *
 * After ICE-lite has seen a valid binding request, the browser (the DTLS
 * client: the server's SDP says a=setup:passive) starts a DTLS handshake on
 * the same 5-tuple. This module runs the server side of that handshake with
 * the use_srtp extension, checks the browser's certificate against the
 * SHA-256 fingerprint from its SDP, and hands out the SRTP master keys
 * exported with the "EXTRACTOR-dtls_srtp" label (RFC 5764 §4.2).
 *
 * It never touches a socket: datagrams come in through dtls_conn_input()
 * and go out through a dtls_send_h callback, one call per datagram. That
 * keeps the media worker in charge of its UDP socket and its event loop,
 * and makes the handshake testable in-process.
 *
 * What it refuses to do: DTLS 1.0 and TLS-style renegotiation, session
 * resumption, a handshake without use_srtp or without a client certificate,
 * and application data (no WebRTC data channels: received application data
 * is discarded).
 *
 * Threads: a dtls_ctx belongs to one media worker and is used by that
 * worker's thread only, as are the conns made from it.
 */
#ifndef CONCLAVE_DTLS_DTLS_H
#define CONCLAVE_DTLS_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	/* SHA-256 digest size: the a=fingerprint hash (RFC 8122 §5, RFC 8827
	 * §6.5 requires SHA-256 support). */
	DTLS_FP_LEN = 32,
	/* "AB:CD:…": two hex digits per byte, colons between, NUL. */
	DTLS_FP_TEXT_LEN = DTLS_FP_LEN * 3,
	/* Largest datagram this module emits (UDP payload). 1200 bytes fits
	 * the IPv6 minimum MTU of 1280 (RFC 8200 §5) less IPv6 and UDP
	 * headers with room to spare, and is what ICE/TURN deployments assume;
	 * a larger certificate flight is fragmented (RFC 6347 §4.2.3). */
	DTLS_MTU = 1200,
	/* Largest opaque peer-address key accepted by dtls_conn_new (a
	 * sockaddr_in6 is 28 bytes). */
	DTLS_ADDR_KEY_MAX = 64,
};

/* SRTP protection profiles (IANA "DTLS-SRTP Protection Profiles"). */
enum dtls_srtp_profile {
	DTLS_SRTP_NONE = 0,
	DTLS_SRTP_AES128_CM_SHA1_80 = 0x0001,   /* RFC 5764 §4.1.2 */
	DTLS_SRTP_AEAD_AES_128_GCM = 0x0007,    /* RFC 7714 §14.2 */
};

enum {
	/* Both profiles use a 128-bit master key (RFC 5764 §4.1.2,
	 * RFC 7714 §12). */
	DTLS_SRTP_KEY_LEN = 16,
	/* Master salt: 112 bits for AES-CM (RFC 5764 §4.1.2), 96 bits for
	 * AEAD_AES_128_GCM (RFC 7714 §12). */
	DTLS_SRTP_SALT_LEN_CM = 14,
	DTLS_SRTP_SALT_LEN_GCM = 12,
	DTLS_SRTP_SALT_MAX = 14,
	/* Exported block: client_key|server_key|client_salt|server_salt
	 * (RFC 5764 §4.2). */
	DTLS_SRTP_BLOCK_MAX = 2 * (DTLS_SRTP_KEY_LEN + DTLS_SRTP_SALT_MAX),
};

/*
 * SRTP master keys for one DTLS association, as RFC 5764 §4.2 names them:
 * the client writes with client_key/client_salt, the server with
 * server_key/server_salt. For a dtls_conn (always the server) the local
 * keys are server_* and the remote keys client_*. Value type; it holds
 * secrets, so wipe it with dtls_srtp_keys_wipe() when done.
 */
struct dtls_srtp_keys {
	enum dtls_srtp_profile profile;
	size_t key_len;                 /* DTLS_SRTP_KEY_LEN */
	size_t salt_len;                /* 14 (AES-CM) or 12 (GCM) */
	uint8_t client_key[DTLS_SRTP_KEY_LEN];
	uint8_t client_salt[DTLS_SRTP_SALT_MAX];
	uint8_t server_key[DTLS_SRTP_KEY_LEN];
	uint8_t server_salt[DTLS_SRTP_SALT_MAX];
};

/* State of a dtls_conn. */
enum dtls_state {
	DTLS_STATE_HANDSHAKING = 0,
	DTLS_STATE_CONNECTED,   /* handshake done, fingerprint and profile ok */
	DTLS_STATE_FAILED,      /* error, fatal alert, or deadline: terminal */
	DTLS_STATE_CLOSED,      /* close_notify sent or received: terminal */
};

/* Called once per outgoing datagram (len <= DTLS_MTU). The bytes are valid
 * only during the call, which happens from inside dtls_conn_input(),
 * dtls_conn_handle_timeout() or dtls_conn_close(); it must not call back
 * into the conn. A send failure is like a lost datagram: the
 * retransmission timer recovers it. */
typedef void (*dtls_send_h)(const uint8_t *p, size_t len, void *arg);

struct dtls_ctx;
struct dtls_conn;

/*
 * Makes a DTLS 1.2 server context: a fresh self-signed ECDSA P-256
 * certificate (CN "conclave", random serial, short validity), use_srtp with
 * AEAD_AES_128_GCM preferred over AES128_CM_SHA1_80, a required client
 * certificate checked only against the fingerprint given to each conn,
 * ECDHE (X25519, P-256) with AES-GCM or ChaCha20-Poly1305, and stateless
 * cookie exchange keyed by a per-context random secret. The caller owns
 * *out and frees it with dtls_ctx_free() after every conn made from it.
 * Returns 0, -ENOMEM or -EIO (OpenSSL failure).
 */
int dtls_ctx_new(struct dtls_ctx **out);

/* Frees the context (NULL is fine). All its conns must be freed first. */
void dtls_ctx_free(struct dtls_ctx *ctx);

/* The certificate's SHA-256 fingerprint as SDP wants it after
 * "a=fingerprint:sha-256 " (RFC 8122 §5): upper-case hex pairs joined by
 * colons. The string lives as long as the context. */
const char *dtls_ctx_fingerprint(const struct dtls_ctx *ctx);

/* Retransmission and deadline timers for conns created afterwards:
 * initial_rto_ms is the first retransmission timeout (doubled on each
 * retransmission, capped at DTLS_MAX_RTO_MS), deadline_ms bounds the whole
 * handshake. 0 keeps the current value. Defaults: DTLS_INITIAL_RTO_MS,
 * DTLS_HANDSHAKE_DEADLINE_MS (dtls.c). Meant for tests and tuning. */
void dtls_ctx_set_timers(struct dtls_ctx *ctx, unsigned initial_rto_ms,
			 unsigned deadline_ms);

/* Turns the cookie exchange (RFC 6347 §4.2.1) on (the default) or off for
 * conns created afterwards. Off costs one round trip less; use it only for
 * tests and fuzzing, or where the peer address is already verified. */
void dtls_ctx_set_cookie_exchange(struct dtls_ctx *ctx, bool on);

/*
 * Makes the server side of one DTLS association (one ICE transport).
 * expected_fp is the SHA-256 fingerprint of the peer's certificate from its
 * SDP; the handshake fails unless the certificate matches it. peer_addr_key
 * is an opaque encoding of the peer's transport address (at most
 * DTLS_ADDR_KEY_MAX bytes), bound into the cookie. `send` is called for
 * each outgoing datagram with `arg`. The handshake deadline starts now.
 * The caller owns *out; free it with dtls_conn_free(). Returns 0, -EINVAL
 * or -ENOMEM.
 */
int dtls_conn_new(struct dtls_ctx *ctx, const uint8_t expected_fp[DTLS_FP_LEN],
		  const void *peer_addr_key, size_t keylen, dtls_send_h send,
		  void *arg, struct dtls_conn **out);

/* Frees the conn and wipes its secrets (NULL is fine). Sends nothing: call
 * dtls_conn_close() first for a close_notify. */
void dtls_conn_free(struct dtls_conn *conn);

/*
 * Feeds one received datagram (all the DTLS records in it), drives the
 * handshake and sends whatever it produces through the send callback
 * before returning. Returns 1 if this datagram completed the handshake
 * (the conn is now DTLS_STATE_CONNECTED and dtls_conn_srtp_keys() will
 * answer), 0 if it was processed (or ignored) without completing it,
 * -EACCES if the peer certificate does not match the fingerprint,
 * -EPROTO if the handshake failed otherwise or a fatal alert arrived
 * (the conn is then DTLS_STATE_FAILED), -ENOTCONN if the conn was already
 * failed or closed. A close_notify moves the conn to DTLS_STATE_CLOSED and
 * returns 0.
 */
int dtls_conn_input(struct dtls_conn *conn, const uint8_t *p, size_t len);

/* Milliseconds until dtls_conn_handle_timeout() should be called (the next
 * retransmission or the handshake deadline, whichever is first; 0 if
 * already due), or -1 if no timer runs (connected, failed or closed). */
int dtls_conn_timeout_ms(struct dtls_conn *conn);

/* Retransmits the last flight if its timer expired, and fails the conn
 * once the handshake deadline has passed or retransmissions are exhausted.
 * Returns 0, or -ETIMEDOUT when the conn has just failed that way. Calling
 * it early is harmless. */
int dtls_conn_handle_timeout(struct dtls_conn *conn);

/* Sends close_notify (if connected) and moves the conn to
 * DTLS_STATE_CLOSED. */
void dtls_conn_close(struct dtls_conn *conn);

enum dtls_state dtls_conn_state(const struct dtls_conn *conn);

/* A short static text saying why the conn failed or closed ("" if it
 * did not); for logs. Never contains peer data. */
const char *dtls_conn_reason(const struct dtls_conn *conn);

/* The negotiated SRTP profile once connected, else DTLS_SRTP_NONE. */
enum dtls_srtp_profile dtls_conn_srtp_profile(const struct dtls_conn *conn);

/*
 * Exports the SRTP master keys and salts (RFC 5764 §4.2) into *out. The
 * keys are handed out once: the conn keeps no copy, and a second call
 * returns -EALREADY. Returns 0, -ENOTCONN if the conn is not connected, or
 * -EIO. The caller wipes *out (dtls_srtp_keys_wipe) once the SRTP sessions
 * are keyed.
 */
int dtls_conn_srtp_keys(struct dtls_conn *conn, struct dtls_srtp_keys *out);

/* Splits an exported key block (client_key|server_key|client_salt|
 * server_salt, RFC 5764 §4.2) of the length the profile needs into *out.
 * For the client side of a test or a native client. Returns 0 or -EINVAL. */
int dtls_srtp_keys_split(enum dtls_srtp_profile profile, const uint8_t *block,
			 size_t len, struct dtls_srtp_keys *out);

/* Length of the exported block for a profile, 0 if unknown. */
size_t dtls_srtp_block_len(enum dtls_srtp_profile profile);

/* Wipes a key struct with OPENSSL_cleanse. */
void dtls_srtp_keys_wipe(struct dtls_srtp_keys *keys);

/* What dtls_record_peek() learns from a record header. */
struct dtls_record_info {
	uint8_t content_type;   /* 20..63 (RFC 7983 §7 demux range) */
	uint16_t version;       /* 0xfeff (DTLS 1.0) or 0xfefd (DTLS 1.2) */
	uint16_t epoch;
	uint64_t seq;           /* 48 bits */
	size_t length;          /* fragment length */
	size_t record_len;      /* header + fragment: offset of the next record */
	bool client_hello;      /* handshake ClientHello at epoch 0 */
};

/*
 * Parses the first DTLS record header in a datagram (RFC 6347 §4.1) without
 * any crypto: the first byte must be in the RFC 7983 DTLS range 20..63, the
 * version a DTLS one, and the fragment length must fit in len. Says whether
 * the record is a ClientHello (handshake type 1, epoch 0, with a consistent
 * handshake fragment header, RFC 6347 §4.2.2), so a worker can rate-limit
 * ClientHellos from addresses that never passed ICE. Returns 0 and fills
 * *out, or -EBADMSG.
 */
int dtls_record_peek(const uint8_t *p, size_t len, struct dtls_record_info *out);

#endif
