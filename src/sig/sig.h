/*
 * sig — the signaling protocol, version 1 (docs/protocol.md).
 *
 * One `sig_conn` per WebSocket connection. The transport (src/http) hands
 * it each complete text message; sig parses the JSON, validates it against
 * the declared schema of its type, applies the connection's rate limit, and
 * dispatches it to the room layer. Replies and errors go back through the
 * transport callbacks. Nothing here knows about sockets or TLS, so the whole
 * protocol is unit-testable and fuzzable without a network.
 *
 * A bad message costs its sender an error reply with a stable code; it never
 * affects another connection. Only persistent abuse (a flood far past the
 * rate limit) closes the sender's own connection.
 */
#ifndef CONCLAVE_SIG_H
#define CONCLAVE_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct conf;
struct room_mgr;
struct sig_server;
struct sig_conn;

enum {
	SIG_VERSION = 1,              /* the protocol version this server speaks */
	SIG_FLOOD_CLOSE_FACTOR = 4,   /* close after dropping this many bursts */
	SIG_RATE_ERROR_MS = 1000,     /* at most one rate_limited reply per second */
	SIG_CLOSE_POLICY = 1008,      /* RFC 6455 §7.4.1 policy violation */
	SIG_CLOSE_TOO_BIG = 1009,     /* RFC 6455 §7.4.1 message too big */
};

/* Stable error codes sent to clients (docs/protocol.md, "Errors"). */
#define SIG_ERRORS(X)                                                         \
	X(BAD_JSON, "bad_json", "message is not a JSON object")               \
	X(BAD_TYPE, "bad_type", "message has no string field \"type\"")       \
	X(UNKNOWN_TYPE, "unknown_type", "unknown message type")               \
	X(MISSING_FIELD, "missing_field", "a required field is missing")      \
	X(BAD_FIELD, "bad_field", "a field has the wrong type, shape or size") \
	X(UNKNOWN_FIELD, "unknown_field", "a field this message does not have") \
	X(HELLO_FIRST, "hello_first", "the first message must be hello")      \
	X(BAD_VERSION, "bad_version", "protocol version not supported")       \
	X(RATE_LIMITED, "rate_limited", "too many messages; slow down")       \
	X(TOO_LARGE, "too_large", "message larger than the limit")            \
	X(BINARY, "binary_frame", "binary frames are not part of the protocol") \
	X(ALREADY_JOINED, "already_joined", "this connection already joined") \
	X(NOT_JOINED, "not_joined", "join a meeting first")                   \
	X(FORBIDDEN, "forbidden", "not allowed for this participant")         \
	X(NO_PARTICIPANT, "no_such_participant", "no such participant")       \
	X(FULL, "full", "the meeting is full")                                 \
	X(BUSY, "busy", "the server holds as many meetings as it may; try later") \
	X(TOO_MANY_TRACKS, "too_many_tracks", "more tracks than one participant may publish") \
	X(BAD_SDP, "bad_sdp", "the session description cannot be used")      \
	X(NO_MEDIA, "no_media", "media is not available on this server")      \
	X(BAD_MLS, "bad_mls", "not an MLS message of this meeting's group")    \
	X(INTERNAL, "internal", "the server could not do that; try again")

enum sig_err {
	SIG_OK = 0,
#define X(id, code, text) SIG_E_##id,
	SIG_ERRORS(X)
#undef X
	SIG_E_COUNT
};

const char *sig_err_code(enum sig_err e);

/* What the transport provides. All are called on the signaling thread. */
struct sig_transport {
	/* queue one text message for the peer */
	void (*send)(void *t, const char *text, size_t len);
	/* close the connection with a WebSocket close code and reason */
	void (*close)(void *t, int code, const char *reason);
	/* the peer said hello: lift the hello deadline */
	void (*hello_done)(void *t);
};

int sig_server_new(const struct conf *c, struct room_mgr *rooms,
		   struct sig_server **out);
void sig_server_free(struct sig_server *s);

/*
 * A new protocol state for one connection from address `addr` (opaque
 * bytes, at most 32, used for per-address limits). NULL on allocation
 * failure. The transport owns the returned object and frees it with
 * sig_conn_free when the connection closes.
 */
struct sig_conn *sig_conn_new(struct sig_server *s,
			      const struct sig_transport *ops, void *t,
			      const void *addr, size_t addrlen);
void sig_conn_free(struct sig_conn *c);

/*
 * One complete text message. Returns 0, or -ECONNRESET when the connection
 * was closed (transport close() already called) and must not be used.
 */
int sig_conn_input(struct sig_conn *c, const char *text, size_t len,
		   uint64_t now_ms);

/* A binary message, or a message over the size limit (`too_large`). */
int sig_conn_reject(struct sig_conn *c, enum sig_err why, uint64_t now_ms);

/* Counts an error that the transport answered itself. */
void sig_count_error(struct sig_server *s, enum sig_err e);

void sig_metrics(struct sig_server *s, struct wbuf *b);

#endif
