/*
 * server — HTTPS, the JSON API and WebSocket signaling on libwebsockets
 * (see server.h).
 *
 * Routes:
 *   GET  /, /m/<anything>, /assets/...   the web app (in memory, static.c)
 *   GET  /healthz                        "ok"
 *   GET  /metrics                        Prometheus text (loopback only by default)
 *   POST /api/meetings                   create a meeting (from create_from only,
 *                                        rate-limited per address)
 *   GET  /ws  (Upgrade: websocket)       signaling, docs/protocol.md
 *
 * Every response carries a strict Content-Security-Policy and the usual
 * hardening headers. The WebSocket side keeps a bounded queue per
 * connection: a reader that stops reading is cut off once its queue passes
 * ws_max_outq, so one slow client cannot make the server buffer without
 * bound.
 *
 * Timers (all per connection, run by libwebsockets):
 *   hello deadline   ws_hello_timeout s after the upgrade, lifted by hello
 *   keepalive ping   after ws_ping_interval s of silence
 *   idle hang-up     after ws_idle_timeout s of silence (half-open peers)
 *   close linger     WS_CLOSE_LINGER_MS after the server starts a close
 *
 * Closing a connection with a code (sig asks for 1008 on a flood, 1009 on
 * an oversize message; a reader too slow gets 1008 too) is staged, because
 * the peer is usually still sending: closing the socket with unread input makes the kernel answer
 * with a TCP reset, which destroys the close frame not yet delivered and
 * leaves the client with 1006 instead of the code. So the server stops
 * handing input to sig, sends the close frame itself, shuts down its
 * write side once the frame is out (TLS close_notify, then FIN), and
 * discards what still arrives until the peer's close frame or EOF. A peer
 * that keeps sending gets WS_CLOSE_LINGER_MS and WS_CLOSE_DRAIN_MAX bytes,
 * then the connection is dropped as it was before. (lws's own close
 * handshake hides the discarded input and has fixed 5 s timers, hence
 * our own.)
 *
 * The loop: libwebsockets runs in a libev loop of ours (epoll), so a
 * wake-up costs the descriptors that are ready, not the poll() over every
 * connection that lws's own loop makes (0.2 ms at 1,300 connections,
 * docs/benchmarks.md). If lws cannot load its libev plugin
 * (libwebsockets-evlib-ev), the server says so and uses lws's own loop.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "conf/conf.h"
#include "http/static.h"
#include "metrics/metrics.h"
#include "room/room.h"
#include "sfu/sfu.h"
#include "sig/sig.h"
#include "store/store.h"
#include "tls/cert.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/log.h"
#include "util/ratelimit.h"
#include "util/secret.h"

enum {
	ADDR_KEY_MAX = 16,          /* IPv4 (4 bytes) or an IPv6 /64 (8 bytes) */
	IPTAB_BUCKETS = 4096,
	CREATE_RL_SLOTS = 4096,
	KNOCK_DEFER_US = 5000,      /* hosts hear of a knock 5 ms after the guest's answer */
	API_CREATE_BODY_MAX = 160,  /* POST /api/meetings answer: 22 + 43 chars
				     * of id and key, a 20-digit time, names */
};

/* The Content-Security-Policy of every response: nothing from any other
 * origin, no inline script or style, no framing. */
static const char csp[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data: blob:; media-src 'self' blob:; "
	"connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

struct addr_key {
	uint8_t b[ADDR_KEY_MAX];
	uint8_t len;
};

/* Open WebSockets per address, for ws_conns_per_ip. */
struct ipcount {
	struct addr_key key;
	unsigned n;
	struct ipcount *next;
};

struct outmsg {
	struct outmsg *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
};

/* The stages of a close the server starts (see the top of the file). */
enum ws_closing {
	WS_OPEN = 0,
	WS_CLOSE_PENDING,   /* close frame to be written */
	WS_CLOSE_SENT,      /* written; lws still holds part of it */
	WS_CLOSE_SHUT,      /* out, write side shut: discard until close/EOF */
};

/*
 * lws's opcode for writing a close frame (LWS_WRITE_CLOSE in its private
 * headers, left out of the public enum); lws_write frames it like PING.
 */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)4)

/* Per-connection state; libwebsockets allocates and zeroes it. */
struct pss {
	/* HTTP */
	const unsigned char *body;
	size_t body_len, body_pos;
	char *owned;                 /* body we allocated (JSON, metrics) */
	bool owned_secret;           /* it holds a secret: wiped before it is freed */
	char post[API_MAX_BODY + 1];
	size_t post_len;
	bool post_too_big;
	bool responded;              /* a response was written: ignore the body */
	char route[32];
	/* WebSocket */
	struct http_server *srv;
	struct sig_conn *sig;
	struct wbuf rx;
	bool rx_overflow;
	struct outmsg *outq, **outq_tail;
	size_t outq_bytes;
	int close_code;              /* our close frame (ws_close) */
	char close_reason[64];
	enum ws_closing closing;     /* a close with a code, in stages */
	size_t drained;              /* input bytes discarded while closing */
	lws_sorted_usec_list_t close_timer; /* WS_CLOSE_LINGER_MS */
	bool ws;
	bool counted;
	struct addr_key addr;
	struct lws *wsi;
};

struct http_server {
	const struct conf *conf;
	struct lws_context *ctx;
	struct store *store;
	struct room_mgr *rooms;
	struct sig_server *sig;
	struct sfu *sfu;
	struct static_files *web;
	struct ratelimit *create_rl;
	struct cidr_list create_from;        /* who may POST /api/meetings */
	struct ipcount *iptab[IPTAB_BUCKETS];
	lws_retry_bo_t retry;
	lws_sorted_usec_list_t room_timer;   /* room_tick every ROOM_CHECK_MS */
	lws_sorted_usec_list_t knock_timer;  /* room_flush_knocks, KNOCK_DEFER_US */
	char cert_path[1024], key_path[1024];
	struct ev_loop *loop;                /* NULL: lws's own poll() loop */
	volatile sig_atomic_t stop;
	/* counters (signaling thread only) */
	uint64_t ws_open, ws_total, ws_refused, ws_slow_cut, ws_no_hello;
	uint64_t http_requests, http_errors, meetings_created, api_limited;
	uint64_t api_create_refused;
	uint64_t loop_passes;
};

static const struct sig_transport ws_ops;

/* ---- addresses ---------------------------------------------------------- */

/* The peer's address; 0, or -1 (ss untouched) when there is none. */
static int peer_addr(struct lws *wsi, struct sockaddr_storage *ss)
{
	socklen_t sl = sizeof(*ss);
	int fd = lws_get_socket_fd(lws_get_network_wsi(wsi));

	if (fd < 0 || getpeername(fd, (struct sockaddr *)ss, &sl) != 0)
		return -1;
	return 0;
}

static void peer_key(struct lws *wsi, struct addr_key *k)
{
	struct sockaddr_storage ss;

	memset(k, 0, sizeof(*k));
	if (peer_addr(wsi, &ss))
		return;
	if (ss.ss_family == AF_INET) {
		memcpy(k->b, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		k->len = 4;
	} else if (ss.ss_family == AF_INET6) {
		const uint8_t *a =
			((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
		static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0,
						      0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a, v4mapped, 12) == 0) {
			memcpy(k->b, a + 12, 4);
			k->len = 4;
		} else {
			/* one key per /64: a host controls a whole /64 */
			memcpy(k->b, a, 8);
			k->len = 8;
		}
	}
}

static bool peer_is_loopback(struct lws *wsi)
{
	struct addr_key k;
	static const uint8_t v6lo[8] = { 0 };

	peer_key(wsi, &k);
	if (k.len == 4)
		return k.b[0] == 127;
	/* ::1 lies in the all-zero /64; no other client address does */
	return k.len == 8 && memcmp(k.b, v6lo, 8) == 0;
}

static size_t ip_hash(const struct addr_key *k)
{
	size_t h = 2166136261u;
	for (int i = 0; i < k->len; i++)
		h = (h ^ k->b[i]) * 16777619u;
	return h % IPTAB_BUCKETS;
}

static struct ipcount **ip_find(struct http_server *s, const struct addr_key *k)
{
	struct ipcount **pp = &s->iptab[ip_hash(k)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->key.len == k->len && memcmp((*pp)->key.b, k->b, k->len) == 0)
			break;
	return pp;
}

static bool ip_acquire(struct http_server *s, const struct addr_key *k)
{
	struct ipcount **pp = ip_find(s, k);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return false;
		(*pp)->key = *k;
	}
	if ((*pp)->n >= (unsigned)s->conf->ws_conns_per_ip)
		return false;
	(*pp)->n++;
	return true;
}

static void ip_release(struct http_server *s, const struct addr_key *k)
{
	struct ipcount **pp = ip_find(s, k), *e = *pp;

	if (!e)
		return;
	if (--e->n == 0) {
		*pp = e->next;
		free(e);
	}
}

/* ---- HTTP responses ----------------------------------------------------- */

static int add_header(struct lws *wsi, const char *name, const char *value,
		      unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)value,
					   (int)strlen(value), p, end);
}

/*
 * Writes the status line and headers, and arranges for the body to be
 * written from the writeable callback. `owned` bodies are freed when sent.
 */
static int respond(struct lws *wsi, struct pss *pss, unsigned int status,
		   const char *mime, const void *body, size_t len, bool owned,
		   const char *cache)
{
	unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start,
					  *end = hdr + sizeof(hdr) - 1;

	pss->responded = true;
	pss->body = body;
	pss->body_len = len;
	pss->body_pos = 0;
	if (owned)
		pss->owned = (char *)body;
	if (status >= 400)
		pss->srv->http_errors++;

	if (lws_add_http_common_headers(wsi, status, mime, (lws_filepos_t)len,
					&p, end) ||
	    add_header(wsi, "content-security-policy:", csp, &p, end) ||
	    add_header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
	    add_header(wsi, "referrer-policy:", "no-referrer", &p, end) ||
	    add_header(wsi, "x-frame-options:", "DENY", &p, end) ||
	    add_header(wsi, "cross-origin-opener-policy:", "same-origin", &p,
		       end) ||
	    add_header(wsi, "cross-origin-resource-policy:", "same-origin", &p,
		       end) ||
	    add_header(wsi, "permissions-policy:",
		       "camera=(self), microphone=(self), display-capture=(self), "
		       "geolocation=(), payment=(), usb=()",
		       &p, end) ||
	    add_header(wsi, "strict-transport-security:",
		       "max-age=31536000", &p, end) ||
	    add_header(wsi, "cache-control:", cache, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (len == 0)
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	lws_callback_on_writable(wsi);
	return 0;
}

static int respond_text(struct lws *wsi, struct pss *pss, unsigned int status,
			const char *text)
{
	return respond(wsi, pss, status, "text/plain; charset=utf-8", text,
		       strlen(text), false, "no-store");
}

static int respond_json(struct lws *wsi, struct pss *pss, unsigned int status,
			json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!text)
		return respond_text(wsi, pss, 500, "internal error\n");
	return respond(wsi, pss, status, "application/json", text, strlen(text),
		       true, "no-store");
}

/* Frees the body we allocated; one holding a secret (a new meeting's host
 * credential) is wiped first. */
static void owned_free(struct pss *pss)
{
	if (pss->owned && pss->owned_secret)
		secret_wipe(pss->owned, pss->body_len);
	free(pss->owned);
	pss->owned = NULL;
	pss->owned_secret = false;
}

static int write_body_chunk(struct lws *wsi, struct pss *pss)
{
	unsigned char buf[LWS_PRE + HTTP_CHUNK];
	size_t n = pss->body_len - pss->body_pos;
	bool last;
	int rc;

	if (!pss->body)
		return 0;
	if (n > HTTP_CHUNK)
		n = HTTP_CHUNK;
	last = pss->body_pos + n == pss->body_len;
	memcpy(buf + LWS_PRE, pss->body + pss->body_pos, n);
	rc = lws_write(wsi, buf + LWS_PRE, n,
		       last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
	if (pss->owned_secret)
		secret_wipe(buf + LWS_PRE, n);
	if (rc != (int)n)
		return -1;
	pss->body_pos += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	owned_free(pss);
	pss->body = NULL;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- HTTP routes -------------------------------------------------------- */

static void render_metrics(struct http_server *s, struct wbuf *b);

static int route_metrics(struct lws *wsi, struct pss *pss)
{
	struct http_server *s = pss->srv;
	struct wbuf b;

	if (strcmp(s->conf->metrics_from, "any") != 0 && !peer_is_loopback(wsi))
		return respond_text(wsi, pss, 403, "forbidden\n");
	wbuf_init(&b, 0);
	render_metrics(s, &b);
	if (b.err) {
		wbuf_free(&b);
		return respond_text(wsi, pss, 500, "internal error\n");
	}
	return respond(wsi, pss, 200, "text/plain; version=0.0.4; charset=utf-8",
		       b.data, b.len, true, "no-store");
}

/* Same-origin check for requests that change state: a browser always sends
 * Origin on a cross-origin POST or WebSocket; it must name this host. */
static bool origin_ok(struct lws *wsi)
{
	char origin[256], host[256], want[300];

	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return true; /* not a browser: no ambient credentials to abuse */
	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return false;
	snprintf(want, sizeof(want), "https://%s", host);
	return strcmp(origin, want) == 0;
}

static int route_create(struct lws *wsi, struct pss *pss)
{
	struct http_server *s = pss->srv;
	char room[ROOM_ID_CHARS + 1], key[SECRET_CHARS + 1], *body;
	json_error_t jerr;
	json_t *req, *v;
	int64_t expires_at = 0;
	const char *k;
	int n = -1;

	if (pss->post_too_big)
		return respond_json(wsi, pss, 413,
				    json_pack("{s:s}", "error", "too_large"));
	req = json_loadb(pss->post, pss->post_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(req)) {
		json_decref(req);
		return respond_json(wsi, pss, 400,
				    json_pack("{s:s}", "error", "bad_json"));
	}
	json_object_foreach(req, k, v) {
		if (strcmp(k, "expires_in") != 0 || !json_is_integer(v) ||
		    json_integer_value(v) < 60 ||
		    json_integer_value(v) > API_MAX_EXPIRES_IN) {
			json_decref(req);
			return respond_json(wsi, pss, 400,
					    json_pack("{s:s}", "error",
						      "bad_field"));
		}
		expires_at = (int64_t)time(NULL) + json_integer_value(v);
	}
	json_decref(req);
	if (store_meeting_create(s->store, expires_at, room, key))
		return respond_json(wsi, pss, 500,
				    json_pack("{s:s}", "error", "internal"));
	s->meetings_created++;
	log_info("http", "meeting created over the API");
	/* The body is written by hand, not through jansson, so that the host
	 * credential lives only in buffers we wipe: `key`, this body (wiped
	 * when sent or dropped: owned_free) and the chunk copy made to send
	 * it. Room id and key are base64url: nothing to escape. */
	body = malloc(API_CREATE_BODY_MAX);
	if (body) {
		if (expires_at)
			n = snprintf(body, API_CREATE_BODY_MAX,
				     "{\"room\":\"%s\",\"host_key\":\"%s\","
				     "\"expires_at\":%lld}",
				     room, key, (long long)expires_at);
		else
			n = snprintf(body, API_CREATE_BODY_MAX,
				     "{\"room\":\"%s\",\"host_key\":\"%s\","
				     "\"expires_at\":null}",
				     room, key);
	}
	secret_wipe(key, sizeof(key));
	if (!body || n < 0 || (size_t)n >= API_CREATE_BODY_MAX) {
		if (body)
			secret_wipe(body, API_CREATE_BODY_MAX);
		free(body);
		return respond_text(wsi, pss, 500, "internal error\n");
	}
	pss->owned_secret = true;
	return respond(wsi, pss, 201, "application/json", body, (size_t)n, true,
		       "no-store");
}

static bool header_starts(struct lws *wsi, enum lws_token_indexes h,
			  const char *prefix)
{
	char v[128];
	return lws_hdr_copy(wsi, v, sizeof(v), h) > 0 &&
	       strncasecmp(v, prefix, strlen(prefix)) == 0;
}

static int on_http(struct lws *wsi, struct pss *pss, const char *path)
{
	struct http_server *s = lws_context_user(lws_get_context(wsi));
	const struct static_file *f;
	bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
	bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;

	owned_free(pss);
	memset(pss, 0, sizeof(*pss));
	pss->srv = s;
	s->http_requests++;

	if (post && strcmp(path, "/api/meetings") == 0) {
		struct sockaddr_storage ss;
		struct addr_key k;

		/* create_from first: an address outside it costs a getpeername
		 * and a short answer, no rate-limit slot, no database work.
		 * Logged at debug level only: strangers can repeat it at will. */
		if (!cidr_list_allows(&s->create_from,
				      peer_addr(wsi, &ss) ? NULL
							  : (struct sockaddr *)&ss)) {
			s->api_create_refused++;
			log_debug("http", "meeting creation refused: address "
				  "outside create_from");
			return respond_json(wsi, pss, 403,
					    json_pack("{s:s}", "error",
						      "forbidden"));
		}
		if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
			return respond_json(wsi, pss, 411,
					    json_pack("{s:s}", "error",
						      "length_required"));
		if (!origin_ok(wsi) ||
		    !header_starts(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
				   "application/json"))
			return respond_json(wsi, pss, 403,
					    json_pack("{s:s}", "error",
						      "forbidden"));
		peer_key(wsi, &k);
		if (!ratelimit_take(s->create_rl, k.b, k.len, now_ms())) {
			s->api_limited++;
			return respond_json(wsi, pss, 429,
					    json_pack("{s:s}", "error",
						      "rate_limited"));
		}
		snprintf(pss->route, sizeof(pss->route), "create");
		return 0; /* wait for the body */
	}
	if (!get)
		return respond_text(wsi, pss, 405, "method not allowed\n");
	if (strcmp(path, "/healthz") == 0)
		return respond_text(wsi, pss, 200, "ok\n");
	if (strcmp(path, "/metrics") == 0)
		return route_metrics(wsi, pss);
	if (strcmp(path, "/ws") == 0)
		return respond_text(wsi, pss, 426, "upgrade required\n");
	f = static_lookup(s->web, path);
	if (!f)
		return respond_text(wsi, pss, 404, "not found\n");
	return respond(wsi, pss, 200, f->mime, f->data, f->len, false,
		       f->immutable ? "public, max-age=31536000, immutable"
				    : "no-cache");
}

/* ---- WebSocket ---------------------------------------------------------- */

static void ws_drop_queue(struct pss *pss)
{
	struct outmsg *m, *n;
	for (m = pss->outq; m; m = n) {
		n = m->next;
		free(m);
	}
	pss->outq = NULL;
	pss->outq_tail = &pss->outq;
	pss->outq_bytes = 0;
}

/* The peer had WS_CLOSE_LINGER_MS to answer our close frame: drop it. */
static void ws_close_timer_cb(lws_sorted_usec_list_t *sul)
{
	struct pss *pss = (struct pss *)(void *)((char *)sul -
			  offsetof(struct pss, close_timer));

	log_info("ws", "close: no answer in time, dropping the connection");
	lws_set_timeout(pss->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/*
 * A close with a code (sig: flood, oversize message; ws_send: a reader too
 * slow): nothing more goes to sig or to the peer but the close frame,
 * written from the writeable callback.
 */
static void ws_close(void *t, int code, const char *reason)
{
	struct pss *pss = t;

	if (pss->closing)
		return;
	pss->close_code = code;
	snprintf(pss->close_reason, sizeof(pss->close_reason), "%s", reason);
	pss->closing = WS_CLOSE_PENDING;
	ws_drop_queue(pss);
	lws_sul_schedule(lws_get_context(pss->wsi), 0, &pss->close_timer,
			 ws_close_timer_cb,
			 (lws_usec_t)WS_CLOSE_LINGER_MS * 1000);
	lws_callback_on_writable(pss->wsi);
}

static void ws_send(void *t, const char *text, size_t len)
{
	struct pss *pss = t;
	struct http_server *s = pss->srv;
	struct outmsg *m;

	if (pss->closing)
		return;
	if (pss->outq_bytes + len > (size_t)s->conf->ws_max_outq) {
		/* the peer does not read: cut it off, drop its queue; the
		 * close frame reaches it if it reads again within the linger */
		s->ws_slow_cut++;
		log_warn("ws", "cutting off a connection that stopped reading");
		ws_close(pss, SIG_CLOSE_POLICY, "reader too slow");
		return;
	}
	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (!m)
		return;
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	*pss->outq_tail = m;
	pss->outq_tail = &m->next;
	pss->outq_bytes += len;
	lws_callback_on_writable(pss->wsi);
}

/*
 * Our close frame is out of lws: end our half of the connection, so that
 * the peer sees EOF after the frame and nothing can reset it. Returns 0.
 */
static int ws_shut_write(struct lws *wsi, struct pss *pss)
{
	SSL *ssl = lws_get_ssl(wsi);
	int fd = lws_get_socket_fd(wsi);

	pss->closing = WS_CLOSE_SHUT;
	/* a close_notify that did not go out whole: leave the rest to lws */
	if (ssl && SSL_shutdown(ssl) < 0)
		return 0;
	if (fd >= 0)
		shutdown(fd, SHUT_WR);
	return 0;
}

/* Writes the close frame: code, then reason (RFC 6455 §5.5.1). */
static int ws_send_close(struct lws *wsi, struct pss *pss)
{
	unsigned char buf[LWS_PRE + 2 + sizeof(pss->close_reason)];
	unsigned char *p = buf + LWS_PRE;
	size_t n = strlen(pss->close_reason);

	p[0] = (unsigned char)(pss->close_code >> 8);
	p[1] = (unsigned char)pss->close_code;
	memcpy(p + 2, pss->close_reason, n);
	if (lws_write(wsi, p, 2 + n, WS_WRITE_CLOSE) < 0)
		return -1;
	pss->closing = WS_CLOSE_SENT;
	if (lws_partial_buffered(wsi)) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	return ws_shut_write(wsi, pss);
}

static void ws_hello_done(void *t)
{
	struct pss *pss = t;
	lws_set_timeout(pss->wsi, NO_PENDING_TIMEOUT, 0);
}

static const struct sig_transport ws_ops = {
	.send = ws_send,
	.close = ws_close,
	.hello_done = ws_hello_done,
};

/*
 * Answers an upgrade request we refuse with a complete HTTP response
 * (docs/protocol.md, "Limits"), written at once: the request has been read
 * whole, so closing right after sends it and then a FIN (no reset). The
 * caller returns nonzero and libwebsockets closes the connection.
 */
static int refuse_upgrade(struct lws *wsi, unsigned int status,
			  const char *text)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start,
					 *end = buf + sizeof(buf) - 1;
	size_t n = strlen(text);

	if (lws_add_http_common_headers(wsi, status, "text/plain; charset=utf-8",
					(lws_filepos_t)n, &p, end) ||
	    add_header(wsi, "cache-control:", "no-store", &p, end) ||
	    add_header(wsi, "connection:", "close", &p, end) ||
	    lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < n)
		return 1;
	memcpy(p, text, n);
	p += n;
	lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS);
	return 1;
}

static int ws_filter(struct lws *wsi)
{
	struct http_server *s = lws_context_user(lws_get_context(wsi));
	struct addr_key k;
	struct ipcount *e;
	char uri[64];

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
	    strcmp(uri, "/ws") != 0 || !origin_ok(wsi)) {
		s->ws_refused++;
		return 1;
	}
	if (s->ws_open >= (uint64_t)s->conf->ws_max_conns) {
		s->ws_refused++;
		log_warn("ws", "refusing a connection: server limit reached");
		return refuse_upgrade(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
				      "too many connections\n");
	}
	/* the per-address limit is taken in ws_established; asking here too
	 * lets the refusal be a clear answer instead of a closed socket */
	peer_key(wsi, &k);
	e = *ip_find(s, &k);
	if (e && e->n >= (unsigned)s->conf->ws_conns_per_ip) {
		s->ws_refused++;
		log_warn("ws", "refusing a connection: per-address limit reached");
		return refuse_upgrade(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
				      "too many connections from this address\n");
	}
	return 0;
}

static int ws_established(struct lws *wsi, struct pss *pss)
{
	struct http_server *s = lws_context_user(lws_get_context(wsi));

	memset(pss, 0, sizeof(*pss));
	pss->srv = s;
	pss->wsi = wsi;
	pss->ws = true;
	pss->outq_tail = &pss->outq;
	peer_key(wsi, &pss->addr);
	if (!ip_acquire(s, &pss->addr)) {
		s->ws_refused++;
		log_warn("ws", "refusing a connection: per-address limit reached");
		return -1;
	}
	pss->counted = true;
	wbuf_init(&pss->rx, (size_t)s->conf->ws_max_message);
	pss->sig = sig_conn_new(s->sig, &ws_ops, pss, pss->addr.b, pss->addr.len);
	if (!pss->sig)
		return -1;
	s->ws_open++;
	s->ws_total++;
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, s->conf->ws_hello_timeout);
	log_debug("ws", "connection opened");
	return 0;
}

static void ws_closed(struct pss *pss)
{
	struct http_server *s = pss->srv;

	if (!pss->ws)
		return;
	lws_sul_cancel(&pss->close_timer);
	if (pss->closing)
		log_debug("ws", "closed with %d after discarding %zu bytes",
			  pss->close_code, pss->drained);
	if (pss->sig) {
		sig_conn_free(pss->sig);
		pss->sig = NULL;
		s->ws_open--;
	}
	if (pss->counted)
		ip_release(s, &pss->addr);
	ws_drop_queue(pss);
	wbuf_free(&pss->rx);
	pss->ws = false;
}

static int ws_receive(struct lws *wsi, struct pss *pss, const void *in,
		      size_t len)
{
	uint64_t now = now_ms();
	int rc = 0;

	if (pss->closing) {
		/* waiting for the peer's close: discard, within bounds */
		pss->drained += len;
		if (pss->drained > WS_CLOSE_DRAIN_MAX) {
			log_info("ws", "close: too much input, dropping the connection");
			return -1;
		}
		return 0;
	}
	if (lws_is_first_fragment(wsi)) {
		pss->rx.len = 0;
		pss->rx.err = 0;
		pss->rx_overflow = false;
	}
	if (!pss->rx_overflow && wbuf_append(&pss->rx, in, len) != 0)
		pss->rx_overflow = true;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;

	if (pss->rx_overflow)
		rc = sig_conn_reject(pss->sig, SIG_E_TOO_LARGE, now);
	else if (lws_frame_is_binary(wsi))
		rc = sig_conn_reject(pss->sig, SIG_E_BINARY, now);
	else
		rc = sig_conn_input(pss->sig, pss->rx.data ? pss->rx.data : "",
				    pss->rx.len, now);
	pss->rx.len = 0;
	if (pss->rx.cap > 65536) {
		/* do not keep a large buffer for a connection that sent one
		 * large message */
		size_t max = pss->rx.max;
		wbuf_free(&pss->rx);
		wbuf_init(&pss->rx, max);
	}
	if (pss->closing)
		return 0; /* the close goes on from the writeable callback */
	return rc < 0 ? -1 : 0;
}

static int ws_writeable(struct lws *wsi, struct pss *pss)
{
	struct outmsg *m = pss->outq;

	switch (pss->closing) {
	case WS_CLOSE_PENDING:
		return ws_send_close(wsi, pss);
	case WS_CLOSE_SENT:
		return ws_shut_write(wsi, pss);
	case WS_CLOSE_SHUT:
		return 0;
	case WS_OPEN:
		break;
	}
	/* as many queued messages as the socket takes now */
	while ((m = pss->outq)) {
		if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) <
		    (int)m->len)
			return -1;
		pss->outq = m->next;
		if (!pss->outq)
			pss->outq_tail = &pss->outq;
		pss->outq_bytes -= m->len;
		free(m);
		if (lws_send_pipe_choked(wsi))
			break;
	}
	if (pss->outq)
		lws_callback_on_writable(wsi);
	return 0;
}

/* ---- the callback ------------------------------------------------------- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_http(wsi, pss, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		if (pss->responded || !len)
			return 0;
		if (pss->post_len + len > API_MAX_BODY) {
			pss->post_too_big = true;
			return 0;
		}
		memcpy(pss->post + pss->post_len, in, len);
		pss->post_len += len;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		/* a request refused before its body (403, 429, 405) was
		 * answered already: one response per request */
		if (pss->responded)
			return 0;
		if (strcmp(pss->route, "create") == 0)
			return route_create(wsi, pss);
		return respond_text(wsi, pss, 404, "not found\n");
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return write_body_chunk(wsi, pss);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss && !pss->ws)
			owned_free(pss);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return ws_filter(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return ws_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return ws_receive(wsi, pss, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws_writeable(wsi, pss);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* the answer to our close frame: no echo, just close */
		return pss && pss->closing ? 1 : 0;
	case LWS_CALLBACK_CLOSED:
		ws_closed(pss);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
		struct http_server *s = lws_context_user(lws_get_context(wsi));
		if (s && s->sfu)
			sfu_poll_events(s->sfu);
		return 0;
	}
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ "conclave", callback, sizeof(struct pss), WS_RX_BUFFER, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 } /* terminator */
};

/* ---- metrics ------------------------------------------------------------ */

static void render_metrics(struct http_server *s, struct wbuf *b)
{
	metrics_gauge(b, "conclave_ws_connections", "open WebSocket connections",
		      s->ws_open);
	metrics_counter(b, "conclave_ws_connections_total",
			"WebSocket connections accepted", s->ws_total);
	metrics_counter(b, "conclave_ws_refused_total",
			"WebSocket upgrades refused (path, origin or limits)",
			s->ws_refused);
	metrics_counter(b, "conclave_ws_slow_reader_cutoffs_total",
			"connections cut off because they stopped reading",
			s->ws_slow_cut);
	metrics_counter(b, "conclave_http_requests_total", "HTTP requests",
			s->http_requests);
	metrics_counter(b, "conclave_http_errors_total",
			"HTTP responses with status 400 or above", s->http_errors);
	metrics_counter(b, "conclave_meetings_created_total",
			"meetings created over the API", s->meetings_created);
	metrics_counter(b, "conclave_api_rate_limited_total",
			"API requests refused by the per-address limit",
			s->api_limited);
	metrics_counter(b, "conclave_api_create_refused_total",
			"meeting creations refused: address outside create_from",
			s->api_create_refused);
	metrics_counter(b, "conclave_control_loop_passes_total",
			"passes of the control loop (signaling, rooms, media events)",
			s->loop_passes);
	sig_metrics(s->sig, b);
	room_metrics(s->rooms, b);
	if (s->sfu)
		sfu_metrics(s->sfu, b);
	metrics_process(b);
}

/* ---- life cycle --------------------------------------------------------- */

static void lws_log_bridge(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_msg(level & LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "%.*s", (int)n,
		line);
}

static int web_root_default(char *out, size_t cap)
{
	char exe[2048], probe[2100];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -EIO;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -EIO;
	*slash = '\0';
	/* build/conclave serves build/web; build/asan/conclave too */
	snprintf(probe, sizeof(probe), "%s/web/index.html", exe);
	if (access(probe, R_OK) == 0)
		return (size_t)snprintf(out, cap, "%s/web", exe) < cap ? 0
								  : -ENAMETOOLONG;
	return (size_t)snprintf(out, cap, "%s/../web", exe) < cap ? 0
								  : -ENAMETOOLONG;
}

static void room_timer_cb(lws_sorted_usec_list_t *sul)
{
	struct http_server *s = (struct http_server *)(void *)((char *)sul -
				offsetof(struct http_server, room_timer));
	room_tick(s->rooms, now_ms());
	lws_sul_schedule(s->ctx, 0, &s->room_timer, room_timer_cb,
			 (lws_usec_t)ROOM_CHECK_MS * 1000);
}

static void knock_timer_cb(lws_sorted_usec_list_t *sul)
{
	struct http_server *s = (struct http_server *)(void *)((char *)sul -
				offsetof(struct http_server, knock_timer));
	room_flush_knocks(s->rooms);
}

static void defer_knocks(void *arg)
{
	struct http_server *s = arg;
	lws_sul_schedule(s->ctx, 0, &s->knock_timer, knock_timer_cb, KNOCK_DEFER_US);
}

static void on_media_event(const struct sfu_event *ev, void *arg)
{
	struct http_server *s = arg;
	room_media_event(s->rooms, ev);
}

/* Called on a media worker thread: wake the control loop, which then
 * drains the events in LWS_CALLBACK_EVENT_WAIT_CANCELLED. */
static void wake_control(void *arg)
{
	struct http_server *s = arg;
	if (s->ctx)
		lws_cancel_service(s->ctx);
}

int http_server_new(const struct conf *c, struct http_server **out)
{
	struct lws_context_creation_info info;
	struct http_server *s;
	char host[256], root[4096];
	int port, rc;

	if (conf_listen_split(c, host, sizeof(host), &port)) {
		log_error("http", "bad --listen address (want ADDR:PORT)");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->conf = c;
	if (cidr_list_parse(c->create_from, &s->create_from, NULL, 0)) {
		/* conf checked it when it was set; this is a struct conf
		 * filled in by hand */
		log_error("http", "bad create_from (see --help)");
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = store_open(c->data, &s->store)) ||
	    (rc = room_mgr_new(s->store, &s->rooms)) ||
	    (rc = sig_server_new(c, s->rooms, &s->sig)))
		goto fail;
	s->create_rl = ratelimit_new(CREATE_RL_SLOTS, c->create_per_minute / 60.0,
				     c->create_per_minute);
	if (!s->create_rl) {
		rc = -ENOMEM;
		goto fail;
	}
	if (c->web_root[0])
		snprintf(root, sizeof(root), "%s", c->web_root);
	else if ((rc = web_root_default(root, sizeof(root))))
		goto fail;
	if ((rc = static_load(root, &s->web)))
		goto fail;

	if (c->cert[0]) {
		snprintf(s->cert_path, sizeof(s->cert_path), "%s", c->cert);
		snprintf(s->key_path, sizeof(s->key_path), "%s", c->key);
	} else {
		char extra[256] = "";
		const char *u = strstr(c->public_url, "://");
		if (u) {
			/* the host of the public URL, without port or brackets */
			size_t i = 0;
			u += 3;
			if (*u == '[')
				u++;
			while (u[i] && u[i] != '/' && u[i] != ']' &&
			       !(u[i] == ':' && !strchr(u + i + 1, ':')) &&
			       i < sizeof(extra) - 1) {
				extra[i] = u[i];
				i++;
			}
			extra[i] = '\0';
		}
		if ((rc = cert_ensure_selfsigned(c->data, extra, s->cert_path,
						 s->key_path, sizeof(s->cert_path))))
			goto fail;
	}

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
	s->retry.secs_since_valid_ping = (uint16_t)c->ws_ping_interval;
	s->retry.secs_since_valid_hangup = (uint16_t)c->ws_idle_timeout;

	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = strcmp(host, "0.0.0.0") == 0 || !host[0] ? NULL : host;
	info.protocols = protocols;
	info.user = s;
	info.ssl_cert_filepath = s->cert_path;
	info.ssl_private_key_filepath = s->key_path;
	info.alpn = "http/1.1";
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (info.iface && !strchr(host, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.retry_and_idle_policy = &s->retry;
	info.timeout_secs = 20;           /* HTTP request and TLS handshake */
	info.max_http_header_pool = 256;
	info.pt_serv_buf_size = 32768;
	info.ssl_cipher_list = "ECDHE+AESGCM:ECDHE+CHACHA20";
	info.tls1_3_plus_cipher_list =
		"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
		"TLS_CHACHA20_POLY1305_SHA256";
	info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;

	s->loop = ev_loop_new(EVBACKEND_EPOLL);
	if (s->loop) {
		void *loops[1] = { s->loop };
		info.options |= LWS_SERVER_OPTION_LIBEV;
		info.foreign_loops = loops;
		s->ctx = lws_create_context(&info);
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
		info.foreign_loops = NULL;
		if (!s->ctx) {
			ev_loop_destroy(s->loop);
			s->loop = NULL;
		}
	}
	if (!s->ctx) {
		s->ctx = lws_create_context(&info);
		if (s->ctx)
			log_warn("http", "no libev event loop (is libwebsockets-evlib-ev "
				 "installed?): polling every connection instead");
	}
	if (!s->ctx) {
		log_error("http", "cannot listen on %s", c->listen);
		rc = -EADDRINUSE;
		goto fail;
	}
	if ((rc = room_mgr_set_test(s->rooms, c->test_tap, c->test_intruder != 0)))
		goto fail;
	if ((rc = sfu_new(c, on_media_event, s, wake_control, &s->sfu)))
		goto fail;
	{
		struct room_limits lim;
		conf_room_limits(c, &lim);
		room_mgr_set_limits(s->rooms, &lim);
	}
	room_mgr_set_sfu(s->rooms, s->sfu);
	room_mgr_set_defer(s->rooms, defer_knocks, s);
	lws_sul_schedule(s->ctx, 0, &s->room_timer, room_timer_cb,
			 (lws_usec_t)ROOM_CHECK_MS * 1000);
	log_info("http", "listening on https://%s (event loop: %s)", c->listen,
		 s->loop ? "libev, epoll" : "libwebsockets, poll");
	*out = s;
	return 0;
fail:
	http_server_free(s);
	return rc;
}

int http_server_run(struct http_server *s)
{
	while (!s->stop) {
		if (s->loop)
			ev_run(s->loop, EVRUN_ONCE);
		else if (lws_service(s->ctx, 0) < 0)
			break;
		s->loop_passes++;
	}
	log_info("http", "stopping");
	return 0;
}

void http_server_stop(struct http_server *s)
{
	s->stop = 1;
	if (s->ctx)
		lws_cancel_service(s->ctx);
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	if (s->ctx)
		lws_context_destroy(s->ctx);   /* closes every connection first */
	if (s->loop)
		ev_loop_destroy(s->loop);
	sfu_free(s->sfu);
	for (size_t i = 0; i < IPTAB_BUCKETS; i++) {
		struct ipcount *e, *n;
		for (e = s->iptab[i]; e; e = n) {
			n = e->next;
			free(e);
		}
	}
	static_free(s->web);
	ratelimit_free(s->create_rl);
	sig_server_free(s->sig);
	room_mgr_free(s->rooms);
	store_close(s->store);
	free(s);
}
