/*
 * sig — signaling protocol v1: validation, limits, dispatch (see sig.h).
 *
 * The message table below is the protocol's client-to-server half: one
 * schema and one handler per type. docs/protocol.md documents the same
 * table; tests/unit/test_sig.c checks every row.
 */
#include "sig/sig.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf/conf.h"
#include "metrics/metrics.h"
#include "room/room.h"
#include "sdp/sdp.h"
#include "sig/schema.h"
#include "util/json.h"
#include "util/log.h"
#include "util/ratelimit.h"
#include "util/secret.h"

enum {
	SIG_KNOCK_SLOTS = 4096,       /* per-address knock buckets (bounded) */
	SIG_PING_ID_MAX = 9007199254740991LL, /* 2^53-1: exact in JavaScript */
	SIG_SDP_MAX = SDP_MAX_SIZE,   /* bytes of SDP in one message */
	/* base64url characters of a KeyPackage. The web client's (suite
	 * MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, a basic credential
	 * of 11 or 28 characters, a display name of up to 64 bytes in a leaf
	 * extension): 295-403 bytes over 600 made with ts-mls 1.6.4; at most
	 * about 570 bytes (760 characters) with every GREASE value ts-mls
	 * may add and a returning member's 96-byte successor extension.
	 * 2,048 is about 2.7 times that. Each one relayed is copied to every
	 * group member (docs/security.md, "Signaling input"). */
	SIG_KEYPACKAGE_CHARS = 2048,
	SIG_PROOF_CHARS = 64,         /* the invite proof: 43 (HMAC-SHA256) */
};

struct sig_server {
	const struct conf *conf;
	struct room_mgr *rooms;
	struct ratelimit *knock_rl;
	uint64_t msgs_in, msgs_out, closed_flood;
	uint64_t errors[SIG_E_COUNT];
};

struct sig_conn {
	struct sig_server *srv;
	const struct sig_transport *ops;
	void *t;
	struct participant *p;
	struct bucket rate;
	uint64_t last_rate_error_ms;
	uint64_t dropped;             /* consecutive messages over the rate */
	bool hello;
	uint8_t addr[32];
	size_t addrlen;
};

static const char *const err_codes[SIG_E_COUNT] = {
	[SIG_OK] = "ok",
#define X(id, code, text) [SIG_E_##id] = code,
	SIG_ERRORS(X)
#undef X
};

static const char *const err_texts[SIG_E_COUNT] = {
	[SIG_OK] = "ok",
#define X(id, code, text) [SIG_E_##id] = text,
	SIG_ERRORS(X)
#undef X
};

const char *sig_err_code(enum sig_err e)
{
	return e < SIG_E_COUNT ? err_codes[e] : "internal";
}

/* ---- the declared message table ---------------------------------------- */

static const struct field f_hello[] = {
	{ "v", FT_INT, true, 0, 1000 },
};
static const struct field f_ping[] = {
	{ "id", FT_INT, false, 0, SIG_PING_ID_MAX },
};
static const struct field f_join[] = {
	{ "room", FT_B64URL, true, ROOM_ID_CHARS, ROOM_ID_CHARS },
	{ "name", FT_STRING, true, 1, NAME_MAX_BYTES },
	{ "host_key", FT_B64URL, false, SECRET_CHARS, SECRET_CHARS },
	{ "rejoin", FT_B64URL, false, REJOIN_TOKEN_CHARS, REJOIN_TOKEN_CHARS },
	{ "intruder", FT_BOOL, false, 0, 0 },  /* --test-intruder only */
};
static const struct field f_mute[] = {
	{ "participant", FT_B64URL, true, PARTICIPANT_ID_CHARS,
	  PARTICIPANT_ID_CHARS },
	{ "kind", FT_STRING, true, 5, 5 },  /* "audio" | "video" */
};
static const struct field f_mls_kp[] = {
	{ "keypackage", FT_B64URL, true, 1, SIG_KEYPACKAGE_CHARS },
	{ "proof", FT_B64URL, false, 1, SIG_PROOF_CHARS },
};
static const struct field f_mls_commit[] = {
	{ "commit", FT_B64URL, true, 1, 87382 },       /* 64 KiB decoded */
	{ "welcome", FT_B64URL, false, 1, 262144 },    /* 192 KiB decoded */
	{ "add", FT_ARRAY, false, 0, ROOM_MAX_MEMBERS },
	{ "remove", FT_ARRAY, false, 0, ROOM_MAX_MEMBERS },
};
static const struct field f_mls_app[] = {
	{ "msg", FT_B64URL, true, 1, 21846 },          /* 16 KiB decoded */
};
static const struct field f_lock[] = {
	{ "locked", FT_BOOL, true, 0, 0 },
};
static const struct field f_target[] = {
	{ "participant", FT_B64URL, true, PARTICIPANT_ID_CHARS,
	  PARTICIPANT_ID_CHARS },
};

static const struct field f_publish[] = {
	{ "sdp", FT_STRING_ML, true, 1, SIG_SDP_MAX },
	{ "sources", FT_OBJECT, false, 0, 0 },     /* mid -> source (media.c) */
};
static const struct field f_view[] = {
	{ "tiles", FT_ARRAY, true, 0, 64 },        /* {mid, width, height} */
};
static const struct field f_sub_answer[] = {
	{ "sdp", FT_STRING_ML, true, 1, SIG_SDP_MAX },
	{ "version", FT_INT, true, 0, SIG_PING_ID_MAX },
};

typedef enum sig_err (sig_handler_h)(struct sig_conn *c, json_t *msg,
				     uint64_t now);

static sig_handler_h on_hello, on_ping, on_join, on_leave, on_admit, on_deny,
	on_publish, on_sub_answer, on_sub_restart, on_remove, on_promote, on_mute,
	on_lock, on_end, on_mls_kp, on_mls_commit, on_mls_app, on_view;

#define ROW(name, fields, h) { { name, fields, sizeof(fields) / sizeof(fields[0]) }, h }
#define ROW0(name, h) { { name, NULL, 0 }, h }

static const struct {
	struct msg_schema schema;
	sig_handler_h *handler;
} msg_table[] = {
	ROW("hello", f_hello, on_hello),
	ROW("ping", f_ping, on_ping),
	ROW("join", f_join, on_join),
	ROW0("leave", on_leave),
	ROW("admit", f_target, on_admit),
	ROW("deny", f_target, on_deny),
	ROW("remove", f_target, on_remove),
	ROW("promote", f_target, on_promote),
	ROW("mute", f_mute, on_mute),
	ROW("lock", f_lock, on_lock),
	ROW0("end", on_end),
	ROW("mls_keypackage", f_mls_kp, on_mls_kp),
	ROW("mls_commit", f_mls_commit, on_mls_commit),
	ROW("mls_app", f_mls_app, on_mls_app),
	ROW("publish", f_publish, on_publish),
	ROW("subscribe_answer", f_sub_answer, on_sub_answer),
	ROW0("subscribe_restart", on_sub_restart),
	ROW("view", f_view, on_view),
};

#undef ROW
#undef ROW0

/* ---- sending ------------------------------------------------------------ */

static void send_json(struct sig_conn *c, json_t *msg)
{
	char *text = json_take_text(msg);

	if (!text)
		return;
	c->srv->msgs_out++;
	c->ops->send(c->t, text, strlen(text));
	free(text);
}

/* Room messages pass through here so that they are counted. */
static void participant_send(void *t, const char *text, size_t len)
{
	struct sig_conn *c = t;
	c->srv->msgs_out++;
	c->ops->send(c->t, text, len);
}

static void send_error(struct sig_conn *c, enum sig_err e, const char *ref,
		       const char *field)
{
	json_t *m;

	c->srv->errors[e]++;
	m = json_pack("{s:s, s:s, s:s}", "type", "error", "code", err_codes[e],
		      "message", err_texts[e]);
	if (m && ref)
		json_object_set_new(m, "ref", json_string(ref));
	if (m && field)
		json_object_set_new(m, "field", json_string(field));
	send_json(c, m);
}

/* ---- handlers ----------------------------------------------------------- */

/*
 * The stable error code for a room-layer result. `bad_input` is what an
 * unusable value in the message means for this type (bad_field, bad_sdp,
 * bad_mls).
 */
static enum sig_err from_errno(enum sig_err bad_input, int rc)
{
	switch (rc) {
	case 0:
		return SIG_OK;
	case -EPERM:
		return SIG_E_FORBIDDEN;
	case -ENOENT:
		return SIG_E_NO_PARTICIPANT;
	case -ENOSPC:
		return SIG_E_FULL;
	case -EALREADY:
		return SIG_E_ALREADY_JOINED;
	case -ENOTSUP:
		return SIG_E_NO_MEDIA;
	case -EBUSY:
		return SIG_E_BUSY;
	case -EMSGSIZE:
		return SIG_E_TOO_LARGE;
	case -EDQUOT:
		return SIG_E_TOO_MANY_TRACKS;
	case -EAGAIN:
		return SIG_E_RATE_LIMITED;
	case -EBADMSG:
	case -E2BIG:
	case -EINVAL:
		return bad_input;
	default:
		return SIG_E_INTERNAL;
	}
}

static enum sig_err on_hello(struct sig_conn *c, json_t *msg, uint64_t now)
{
	const struct conf *cf = c->srv->conf;
	(void)now;

	if (json_integer_value(json_object_get(msg, "v")) != SIG_VERSION)
		return SIG_E_BAD_VERSION;
	if (!c->hello) {
		c->hello = true;
		c->ops->hello_done(c->t);
	}
	send_json(c, json_pack("{s:s, s:i, s:s, s:{s:i, s:i, s:i}}", "type",
			       "welcome", "v", SIG_VERSION, "server",
			       "conclave/" CONCLAVE_VERSION, "limits",
			       "max_message_bytes", cf->ws_max_message,
			       "messages_per_second", cf->ws_rate, "burst",
			       cf->ws_burst));
	return SIG_OK;
}

static enum sig_err on_ping(struct sig_conn *c, json_t *msg, uint64_t now)
{
	json_t *id = json_object_get(msg, "id"), *r;
	(void)now;

	char token[REJOIN_TOKEN_CHARS + 1];

	r = json_pack("{s:s}", "type", "pong");
	if (r && id)
		json_object_set(r, "id", id);
	/* members get a fresh rejoin token with every pong */
	if (r && room_rejoin_token(c->p, token) == 0)
		json_object_set_new(r, "rejoin", json_string(token));
	secret_wipe(token, sizeof(token));
	send_json(c, r);
	return SIG_OK;
}

static enum sig_err on_join(struct sig_conn *c, json_t *msg, uint64_t now)
{
	json_t *hk = json_object_get(msg, "host_key");
	json_t *rj = json_object_get(msg, "rejoin");
	int rc;

	if (room_participant_state(c->p) != PS_NEW)
		return room_participant_state(c->p) == PS_DENIED
			       ? SIG_E_FORBIDDEN
			       : SIG_E_ALREADY_JOINED;
	/* rate-limit before the database lookup: strangers pay first. A
	 * member coming back with an authentic token is no stranger (after a
	 * restart, many members behind one address return at once). */
	if (!(rj && room_rejoin_valid(c->srv->rooms,
				      json_string_value(json_object_get(msg, "room")),
				      json_string_value(rj))) &&
	    !ratelimit_take(c->srv->knock_rl, c->addr, c->addrlen, now))
		return SIG_E_RATE_LIMITED;
	rc = room_join(c->srv->rooms, c->p,
		       json_string_value(json_object_get(msg, "room")),
		       json_string_value(json_object_get(msg, "name")),
		       hk ? json_string_value(hk) : NULL,
		       rj ? json_string_value(rj) : NULL,
		       json_is_true(json_object_get(msg, "intruder")));
	return from_errno(SIG_E_BAD_FIELD, rc);
}

static enum sig_err on_leave(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)msg;
	(void)now;
	if (room_participant_state(c->p) == PS_NEW)
		return SIG_E_NOT_JOINED;
	room_leave(c->p);
	send_json(c, json_pack("{s:s}", "type", "left"));
	return SIG_OK;
}

static enum sig_err on_admit(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)now;
	return from_errno(SIG_E_BAD_FIELD, room_admit(
		c->p, json_string_value(json_object_get(msg, "participant"))));
}

static enum sig_err on_deny(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)now;
	return from_errno(SIG_E_BAD_FIELD, room_deny(
		c->p, json_string_value(json_object_get(msg, "participant"))));
}

static const char *target_of(json_t *msg)
{
	return json_string_value(json_object_get(msg, "participant"));
}

static enum sig_err on_remove(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)now;
	return from_errno(SIG_E_BAD_FIELD, room_remove(c->p, target_of(msg)));
}

static enum sig_err on_promote(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)now;
	return from_errno(SIG_E_BAD_FIELD, room_promote(c->p, target_of(msg)));
}

static enum sig_err on_mute(struct sig_conn *c, json_t *msg, uint64_t now)
{
	const char *kind = json_string_value(json_object_get(msg, "kind"));
	(void)now;
	if (strcmp(kind, "audio") != 0 && strcmp(kind, "video") != 0)
		return SIG_E_BAD_FIELD;
	return from_errno(SIG_E_BAD_FIELD, room_mute(c->p, target_of(msg), kind[0] == 'v'));
}

static enum sig_err on_lock(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)now;
	return from_errno(SIG_E_BAD_FIELD, 
		room_lock(c->p, json_is_true(json_object_get(msg, "locked"))));
}

static enum sig_err on_end(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)msg;
	(void)now;
	return from_errno(SIG_E_BAD_FIELD, room_end(c->p));
}

/* Every element of an id list must be a participant id. */
static bool ids_ok(json_t *arr)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		if (!s || strlen(s) != PARTICIPANT_ID_CHARS)
			return false;
		for (const char *q = s; *q; q++)
			if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
			      (*q >= '0' && *q <= '9') || *q == '-' || *q == '_'))
				return false;
	}
	return true;
}

static enum sig_err on_mls_kp(struct sig_conn *c, json_t *msg, uint64_t now)
{
	json_t *pr = json_object_get(msg, "proof");
	return from_errno(SIG_E_BAD_MLS, room_mls_keypackage(
		c->p, json_string_value(json_object_get(msg, "keypackage")),
		pr ? json_string_value(pr) : NULL, now));
}

static enum sig_err on_mls_commit(struct sig_conn *c, json_t *msg, uint64_t now)
{
	json_t *w = json_object_get(msg, "welcome");
	json_t *add = json_object_get(msg, "add"), *rm = json_object_get(msg, "remove");
	(void)now;
	if ((add && !ids_ok(add)) || (rm && !ids_ok(rm)))
		return SIG_E_BAD_FIELD;
	return from_errno(SIG_E_BAD_MLS, room_mls_commit(
		c->p, json_string_value(json_object_get(msg, "commit")),
		w ? json_string_value(w) : NULL, add, rm));
}

static enum sig_err on_mls_app(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)now;
	return from_errno(SIG_E_BAD_MLS, 
		room_mls_app(c->p, json_string_value(json_object_get(msg, "msg"))));
}

static enum sig_err on_publish(struct sig_conn *c, json_t *msg, uint64_t now)
{
	json_t *sdp = json_object_get(msg, "sdp");
	(void)now;
	if (room_sources_check(json_object_get(msg, "sources")))
		return SIG_E_BAD_FIELD;
	return from_errno(SIG_E_BAD_SDP, room_publish(c->p, json_string_value(sdp),
					 json_string_length(sdp),
					 json_object_get(msg, "sources")));
}

static enum sig_err on_view(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)now;
	return from_errno(SIG_E_BAD_FIELD, room_view(c->p, json_object_get(msg, "tiles")));
}

static enum sig_err on_sub_answer(struct sig_conn *c, json_t *msg, uint64_t now)
{
	json_t *sdp = json_object_get(msg, "sdp");
	(void)now;
	return from_errno(SIG_E_BAD_SDP, room_subscribe_answer(
		c->p, json_string_value(sdp), json_string_length(sdp),
		(int64_t)json_integer_value(json_object_get(msg, "version"))));
}

static enum sig_err on_sub_restart(struct sig_conn *c, json_t *msg, uint64_t now)
{
	(void)msg;
	(void)now;
	return from_errno(SIG_E_BAD_SDP, room_subscribe_restart(c->p));
}

/* ---- connection --------------------------------------------------------- */

int sig_server_new(const struct conf *cf, struct room_mgr *rooms,
		   struct sig_server **out)
{
	struct sig_server *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->conf = cf;
	s->rooms = rooms;
	s->knock_rl = ratelimit_new(SIG_KNOCK_SLOTS, cf->knock_per_minute / 60.0,
				    cf->knock_per_minute);
	if (!s->knock_rl) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void sig_server_free(struct sig_server *s)
{
	if (!s)
		return;
	ratelimit_free(s->knock_rl);
	free(s);
}

struct sig_conn *sig_conn_new(struct sig_server *s,
			      const struct sig_transport *ops, void *t,
			      const void *addr, size_t addrlen)
{
	struct sig_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->srv = s;
	c->ops = ops;
	c->t = t;
	c->p = room_participant_new(s->rooms, participant_send, c);
	if (!c->p) {
		free(c);
		return NULL;
	}
	c->addrlen = addrlen < sizeof(c->addr) ? addrlen : sizeof(c->addr);
	memcpy(c->addr, addr, c->addrlen);
	return c;
}

void sig_conn_free(struct sig_conn *c)
{
	if (!c)
		return;
	room_participant_free(c->p);
	free(c);
}

/* Applies the per-connection rate limit. Returns false to drop the
 * message; closes the connection on a sustained flood. */
static bool rate_ok(struct sig_conn *c, uint64_t now, int *closed)
{
	const struct conf *cf = c->srv->conf;

	*closed = 0;
	if (bucket_take(&c->rate, cf->ws_rate, cf->ws_burst, now)) {
		c->dropped = 0;
		return true;
	}
	c->dropped++;
	if (c->dropped > (uint64_t)cf->ws_burst * SIG_FLOOD_CLOSE_FACTOR) {
		c->srv->closed_flood++;
		c->srv->errors[SIG_E_RATE_LIMITED]++;
		log_warn("sig", "closing a connection that kept flooding");
		c->ops->close(c->t, SIG_CLOSE_POLICY, "rate limit");
		*closed = 1;
		return false;
	}
	if (now - c->last_rate_error_ms >= SIG_RATE_ERROR_MS) {
		c->last_rate_error_ms = now;
		send_error(c, SIG_E_RATE_LIMITED, NULL, NULL);
	} else {
		c->srv->errors[SIG_E_RATE_LIMITED]++;
	}
	return false;
}

int sig_conn_reject(struct sig_conn *c, enum sig_err why, uint64_t now)
{
	int closed;

	c->srv->msgs_in++;
	if (why == SIG_E_TOO_LARGE) {
		c->srv->errors[why]++;
		c->ops->close(c->t, SIG_CLOSE_TOO_BIG, "message too large");
		return -ECONNRESET;
	}
	if (!rate_ok(c, now, &closed))
		return closed ? -ECONNRESET : 0;
	send_error(c, why, NULL, NULL);
	return 0;
}

int sig_conn_input(struct sig_conn *c, const char *text, size_t len,
		   uint64_t now)
{
	const struct msg_schema *schema = NULL;
	const char *type, *field = NULL;
	json_error_t jerr;
	enum sig_err e;
	json_t *msg;
	size_t i;
	int closed;

	c->srv->msgs_in++;
	if (!rate_ok(c, now, &closed))
		return closed ? -ECONNRESET : 0;

	msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!msg || !json_is_object(msg)) {
		json_decref(msg);
		send_error(c, SIG_E_BAD_JSON, NULL, NULL);
		return 0;
	}
	type = json_string_value(json_object_get(msg, "type"));
	if (!type) {
		send_error(c, SIG_E_BAD_TYPE, NULL, NULL);
		goto out;
	}
	for (i = 0; i < sizeof(msg_table) / sizeof(msg_table[0]); i++) {
		if (strcmp(msg_table[i].schema.type, type) == 0) {
			schema = &msg_table[i].schema;
			break;
		}
	}
	if (!schema) {
		/* never echo an unknown type back: it is the sender's text */
		send_error(c, SIG_E_UNKNOWN_TYPE, NULL, NULL);
		goto out;
	}
	if (!c->hello && msg_table[i].handler != on_hello) {
		send_error(c, SIG_E_HELLO_FIRST, schema->type, NULL);
		goto out;
	}
	switch (schema_validate(schema, msg, &field)) {
	case SCHEMA_OK:
		break;
	case SCHEMA_MISSING:
		send_error(c, SIG_E_MISSING_FIELD, schema->type, field);
		goto out;
	case SCHEMA_UNKNOWN:
		/* the field name is the sender's text: do not echo it */
		send_error(c, SIG_E_UNKNOWN_FIELD, schema->type, NULL);
		goto out;
	default:
		send_error(c, SIG_E_BAD_FIELD, schema->type, field);
		goto out;
	}
	e = msg_table[i].handler(c, msg, now);
	if (e != SIG_OK)
		send_error(c, e, schema->type, NULL);
out:
	json_decref(msg);
	return 0;
}

void sig_count_error(struct sig_server *s, enum sig_err e)
{
	if (e < SIG_E_COUNT)
		s->errors[e]++;
}

void sig_metrics(struct sig_server *s, struct wbuf *b)
{
	metrics_counter(b, "conclave_sig_messages_in_total",
			"signaling messages received", s->msgs_in);
	metrics_counter(b, "conclave_sig_messages_out_total",
			"signaling messages sent", s->msgs_out);
	metrics_counter(b, "conclave_sig_flood_closes_total",
			"connections closed for flooding", s->closed_flood);
	metrics_family(b, "conclave_sig_errors_total", "counter",
		       "signaling protocol errors by stable code");
	for (int e = 1; e < SIG_E_COUNT; e++)
		metrics_sample_l(b, "conclave_sig_errors_total", "code",
				 err_codes[e], s->errors[e]);
}
