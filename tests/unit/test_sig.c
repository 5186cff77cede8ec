/*
 * Unit tests for src/sig and src/room: the protocol table, each error code,
 * rate limits and the lobby flows, over a fake transport.
 */
#include "test.h"

#include <stdlib.h>
#include <time.h>
#include <stdarg.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "room/room.h"
#include "room/room_int.h"   /* white-box: the join's check counters */
#include "sig/sig.h"
#include "store/store.h"
#include "util/log.h"

enum { FAKE_MAX = 64 };

struct fake {
	json_t *msgs[FAKE_MAX];
	int n;
	int close_code;
	int hello;
};

static void f_send(void *t, const char *text, size_t len)
{
	struct fake *f = t;
	json_error_t e;
	if (f->n < FAKE_MAX)
		f->msgs[f->n++] = json_loadb(text, len, 0, &e);
}

static void f_close(void *t, int code, const char *reason)
{
	struct fake *f = t;
	(void)reason;
	f->close_code = code;
}

static void f_hello(void *t)
{
	((struct fake *)t)->hello++;
}

static const struct sig_transport fops = { f_send, f_close, f_hello };

static void fake_clear(struct fake *f)
{
	for (int i = 0; i < f->n; i++)
		json_decref(f->msgs[i]);
	f->n = 0;
}

static const char *last_type(struct fake *f)
{
	return f->n ? json_string_value(json_object_get(f->msgs[f->n - 1], "type"))
		    : "";
}

static const char *last_str(struct fake *f, const char *field)
{
	const char *s = f->n ? json_string_value(
				       json_object_get(f->msgs[f->n - 1], field))
			     : NULL;
	return s ? s : "";
}

/* A test world: a store in a temp dir, a room manager, a sig server. */
struct world {
	struct conf conf;
	struct store *st;
	struct room_mgr *rooms;
	struct sig_server *sig;
	char room[ROOM_ID_CHARS + 1];
	char key[SECRET_CHARS + 1];
	uint64_t now;
};

static int world_open(struct world *w)
{
	char dir[] = "/tmp/conclave-sig-XXXXXX";

	memset(w, 0, sizeof(*w));
	conf_defaults(&w->conf);
	w->conf.ws_rate = 10;
	w->conf.ws_burst = 20;
	w->conf.knock_per_minute = 6;
	w->now = 1000000;
	log_set_level(LOG_WARN);
	if (!mkdtemp(dir) || store_open(dir, &w->st) ||
	    room_mgr_new(w->st, &w->rooms) ||
	    sig_server_new(&w->conf, w->rooms, &w->sig) ||
	    store_meeting_create(w->st, 0, w->room, w->key))
		return -1;
	return 0;
}

static void world_close(struct world *w)
{
	sig_server_free(w->sig);
	room_mgr_free(w->rooms);
	store_close(w->st);
	log_set_level(LOG_INFO);
}

static int say(struct world *w, struct sig_conn *c, const char *text)
{
	w->now += 200; /* well under the rate limit */
	return sig_conn_input(c, text, strlen(text), w->now);
}

static int sayf(struct world *w, struct sig_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sayf(struct world *w, struct sig_conn *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return say(w, c, buf);
}

static struct sig_conn *conn(struct world *w, struct fake *f, uint8_t ip)
{
	uint8_t addr[4] = { 192, 0, 2, ip };
	memset(f, 0, sizeof(*f));
	return sig_conn_new(w->sig, &fops, f, addr, sizeof(addr));
}

int test_sig_errors(void)
{
	static const struct {
		const char *msg;
		const char *code;
	} cases[] = {
		{ "not json", "bad_json" },
		{ "[1,2]", "bad_json" },
		{ "42", "bad_json" },
		{ "{\"v\":1}", "bad_type" },
		{ "{\"type\":7}", "bad_type" },
		{ "{\"type\":\"launch_missiles\"}", "unknown_type" },
		{ "{\"type\":\"ping\",\"id\":\"x\"}", "bad_field" },
		{ "{\"type\":\"ping\",\"id\":-1}", "bad_field" },
		{ "{\"type\":\"ping\",\"zzz\":1}", "unknown_field" },
		{ "{\"type\":\"join\",\"name\":\"a\"}", "missing_field" },
		{ "{\"type\":\"join\",\"room\":\"short\",\"name\":\"a\"}", "bad_field" },
		{ "{\"type\":\"join\",\"room\":\"AAAAAAAAAAAAAAAAAAAA+/\",\"name\":\"a\"}",
		  "bad_field" },
		{ "{\"type\":\"join\",\"room\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"name\":\"\"}",
		  "bad_field" },
		{ "{\"type\":\"join\",\"room\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"name\":\"a\\u0007\"}",
		  "bad_field" },
		{ "{\"type\":\"hello\",\"v\":2}", "bad_version" },
		{ "{\"type\":\"hello\",\"type\":\"hello\",\"v\":1}", "bad_json" },
		{ "{\"type\":\"leave\"}", "not_joined" },
		{ "{\"type\":\"admit\",\"participant\":\"AAAAAAAAAAA\"}", "forbidden" },
	};
	struct world w;
	struct fake f;
	struct sig_conn *c;

	TEST_EQ(world_open(&w), 0);
	c = conn(&w, &f, 1);
	TEST_ASSERT(c);
	TEST_EQ(say(&w, c, "{\"type\":\"ping\"}"), 0);
	TEST_ASSERT(strcmp(last_str(&f, "code"), "hello_first") == 0);
	TEST_EQ(say(&w, c, "{\"type\":\"hello\",\"v\":1}"), 0);
	TEST_ASSERT(strcmp(last_type(&f), "welcome") == 0);
	TEST_EQ(f.hello, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_clear(&f);
		TEST_EQ(say(&w, c, cases[i].msg), 0);
		TEST_EQ(f.n, 1);
		if (strcmp(last_str(&f, "code"), cases[i].code) != 0) {
			fprintf(stderr, "    %s -> %s, want %s\n", cases[i].msg,
				last_str(&f, "code"), cases[i].code);
			return -1;
		}
		TEST_ASSERT(strcmp(last_type(&f), "error") == 0);
	}
	/* an unknown type is never echoed back */
	fake_clear(&f);
	say(&w, c, "{\"type\":\"<script>\"}");
	TEST_ASSERT(json_object_get(f.msgs[0], "ref") == NULL);
	/* oversize and binary as the transport reports them */
	fake_clear(&f);
	TEST_EQ(sig_conn_reject(c, SIG_E_BINARY, w.now += 200), 0);
	TEST_ASSERT(strcmp(last_str(&f, "code"), "binary_frame") == 0);
	TEST_ASSERT(sig_conn_reject(c, SIG_E_TOO_LARGE, w.now += 200) < 0);
	TEST_EQ(f.close_code, SIG_CLOSE_TOO_BIG);
	fake_clear(&f);
	sig_conn_free(c);
	world_close(&w);
	return 0;
}

int test_sig_ping_pong(void)
{
	struct world w;
	struct fake f;
	struct sig_conn *c;

	TEST_EQ(world_open(&w), 0);
	c = conn(&w, &f, 1);
	say(&w, c, "{\"type\":\"hello\",\"v\":1}");
	fake_clear(&f);
	say(&w, c, "{\"type\":\"ping\",\"id\":9007199254740991}");
	TEST_ASSERT(strcmp(last_type(&f), "pong") == 0);
	TEST_EQ(json_integer_value(json_object_get(f.msgs[0], "id")),
		9007199254740991LL);
	fake_clear(&f);
	sig_conn_free(c);
	world_close(&w);
	return 0;
}

int test_sig_rate_limit(void)
{
	struct world w;
	struct fake f;
	struct sig_conn *c;
	int pongs = 0, limited = 0, i, rc = 0;

	TEST_EQ(world_open(&w), 0);
	c = conn(&w, &f, 1);
	say(&w, c, "{\"type\":\"hello\",\"v\":1}");
	fake_clear(&f);
	/* 60 messages in the same millisecond: the burst (20) passes, the
	 * rest is dropped with at most one rate_limited reply per second */
	for (i = 0; i < 60; i++)
		sig_conn_input(c, "{\"type\":\"ping\"}", 15, w.now);
	for (i = 0; i < f.n; i++) {
		const char *t = json_string_value(json_object_get(f.msgs[i], "type"));
		pongs += strcmp(t, "pong") == 0;
		limited += strcmp(t, "error") == 0;
	}
	TEST_EQ(pongs, 19); /* the hello took one token */
	TEST_EQ(limited, 1);
	TEST_EQ(f.close_code, 0);
	/* after a pause the connection works again */
	fake_clear(&f);
	w.now += 2000;
	TEST_EQ(sig_conn_input(c, "{\"type\":\"ping\"}", 15, w.now), 0);
	TEST_ASSERT(strcmp(last_type(&f), "pong") == 0);
	/* a sustained flood closes only this connection, with 1008 */
	fake_clear(&f);
	for (i = 0; i < 1000 && rc == 0; i++)
		rc = sig_conn_input(c, "{\"type\":\"ping\"}", 15, w.now);
	TEST_ASSERT(rc < 0);
	TEST_EQ(f.close_code, SIG_CLOSE_POLICY);
	fake_clear(&f);
	sig_conn_free(c);
	world_close(&w);
	return 0;
}

/* Finds the first message of `type` in f, or NULL. */
static json_t *find(struct fake *f, const char *type)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(json_string_value(json_object_get(f->msgs[i], "type")),
			   type) == 0)
			return f->msgs[i];
	return NULL;
}

int test_room_lobby_flow(void)
{
	struct world w;
	struct fake fh, fg, fu, fd;
	struct sig_conn *host, *guest, *unknown, *denied;
	json_t *k, *j;
	char gid[PARTICIPANT_ID_CHARS + 1], did[PARTICIPANT_ID_CHARS + 1];
	char lobby_text_a[128], lobby_text_b[128];

	TEST_EQ(world_open(&w), 0);
	host = conn(&w, &fh, 1);
	guest = conn(&w, &fg, 2);
	unknown = conn(&w, &fu, 3);
	denied = conn(&w, &fd, 4);
	say(&w, host, "{\"type\":\"hello\",\"v\":1}");
	say(&w, guest, "{\"type\":\"hello\",\"v\":1}");
	say(&w, unknown, "{\"type\":\"hello\",\"v\":1}");
	say(&w, denied, "{\"type\":\"hello\",\"v\":1}");
	fake_clear(&fh);
	fake_clear(&fg);
	fake_clear(&fu);
	fake_clear(&fd);

	sayf(&w, host, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Hana\",\"host_key\":\"%s\"}",
	     w.room, w.key);
	j = find(&fh, "joined");
	TEST_ASSERT(j);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "role")), "host") == 0);

	/* a guest of a live meeting and a guest of an unknown one get the same
	 * answer, byte for byte */
	sayf(&w, guest, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Gus\"}", w.room);
	say(&w, unknown, "{\"type\":\"join\",\"room\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"name\":\"Uma\"}");
	TEST_ASSERT(strcmp(last_type(&fg), "lobby") == 0);
	{
		char *a = json_dumps(fg.msgs[fg.n - 1], JSON_COMPACT);
		char *b = json_dumps(fu.msgs[fu.n - 1], JSON_COMPACT);
		snprintf(lobby_text_a, sizeof(lobby_text_a), "%s", a);
		snprintf(lobby_text_b, sizeof(lobby_text_b), "%s", b);
		free(a);
		free(b);
	}
	TEST_ASSERT(strcmp(lobby_text_a, lobby_text_b) == 0);
	/* the wrong host key is just a guest */
	k = find(&fh, "knock");
	TEST_ASSERT(k);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(k, "name")), "Gus") == 0);
	snprintf(gid, sizeof(gid), "%s",
		 json_string_value(json_object_get(k, "participant")));
	/* the guest in the lobby sees nothing of the meeting */
	TEST_ASSERT(!find(&fg, "participant_joined") && !find(&fg, "knock"));

	/* a guest cannot admit; a host can */
	sayf(&w, guest, "{\"type\":\"admit\",\"participant\":\"%s\"}", gid);
	TEST_ASSERT(strcmp(last_str(&fg, "code"), "forbidden") == 0);
	fake_clear(&fh);
	sayf(&w, host, "{\"type\":\"admit\",\"participant\":\"%s\"}", gid);
	TEST_ASSERT(find(&fh, "knock_gone") && find(&fh, "participant_joined"));
	j = find(&fg, "joined");
	TEST_ASSERT(j);
	TEST_EQ(json_array_size(json_object_get(j, "participants")), 2);
	TEST_EQ(json_array_size(json_object_get(j, "knocks")), 0); /* not a host */
	sayf(&w, host, "{\"type\":\"admit\",\"participant\":\"%s\"}", gid);
	TEST_ASSERT(strcmp(last_str(&fh, "code"), "no_such_participant") == 0);

	/* deny: the guest is told, and may not knock again on this connection */
	sayf(&w, denied, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Dan\"}", w.room);
	k = json_object_get(fh.msgs[fh.n - 1], "participant");
	TEST_ASSERT(k);
	snprintf(did, sizeof(did), "%s", json_string_value(k));
	sayf(&w, host, "{\"type\":\"deny\",\"participant\":\"%s\"}", did);
	TEST_ASSERT(strcmp(last_type(&fd), "denied") == 0);
	sayf(&w, denied, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Dan\"}", w.room);
	TEST_ASSERT(strcmp(last_str(&fd, "code"), "forbidden") == 0);

	/* leaving tells the others */
	fake_clear(&fh);
	sig_conn_free(guest);
	j = find(&fh, "participant_left");
	TEST_ASSERT(j);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "participant")), gid) == 0);

	fake_clear(&fh);
	fake_clear(&fg);
	fake_clear(&fu);
	fake_clear(&fd);
	sig_conn_free(host);
	sig_conn_free(unknown);
	sig_conn_free(denied);
	world_close(&w);
	return 0;
}

int test_room_knock_limit(void)
{
	struct world w;
	struct fake f;
	struct sig_conn *c;
	int lobby = 0, limited = 0;

	TEST_EQ(world_open(&w), 0);
	/* knock_per_minute = 6: one address cycling through connections */
	for (int i = 0; i < 20; i++) {
		c = conn(&w, &f, 9);
		say(&w, c, "{\"type\":\"hello\",\"v\":1}");
		say(&w, c, "{\"type\":\"join\",\"room\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"name\":\"x\"}");
		lobby += strcmp(last_type(&f), "lobby") == 0;
		limited += strcmp(last_str(&f, "code"), "rate_limited") == 0;
		fake_clear(&f);
		sig_conn_free(c);
	}
	TEST_EQ(lobby, 6);
	TEST_EQ(limited, 14);
	/* another address is not affected */
	c = conn(&w, &f, 10);
	say(&w, c, "{\"type\":\"hello\",\"v\":1}");
	say(&w, c, "{\"type\":\"join\",\"room\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"name\":\"x\"}");
	TEST_ASSERT(strcmp(last_type(&f), "lobby") == 0);
	fake_clear(&f);
	sig_conn_free(c);
	world_close(&w);
	return 0;
}

int test_sig_metrics_text(void)
{
	struct world w;
	struct wbuf b;

	TEST_EQ(world_open(&w), 0);
	wbuf_init(&b, 0);
	sig_metrics(w.sig, &b);
	room_metrics(w.rooms, &b);
	TEST_ASSERT(b.err == 0);
	TEST_ASSERT(strstr(b.data, "conclave_sig_errors_total{code=\"bad_json\"} 0"));
	TEST_ASSERT(strstr(b.data, "# TYPE conclave_participants gauge"));
	wbuf_free(&b);
	world_close(&w);
	return 0;
}

/* Joins conn c to the world's meeting as host; returns its joined message. */
static json_t *join_host(struct world *w, struct sig_conn *c, struct fake *f,
			 const char *name)
{
	sayf(w, c, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"%s\",\"host_key\":\"%s\"}",
	     w->room, name, w->key);
	return find(f, "joined");
}

int test_access_rejoin_token(void)
{
	struct world w;
	struct fake fa, fb, fc;
	struct sig_conn *a, *b, *c;
	json_t *j;
	char id[PARTICIPANT_ID_CHARS + 1], token[REJOIN_TOKEN_CHARS + 1];

	TEST_EQ(world_open(&w), 0);
	w.conf.knock_per_minute = 100;
	a = conn(&w, &fa, 1);
	say(&w, a, "{\"type\":\"hello\",\"v\":1}");
	j = join_host(&w, a, &fa, "Ann");
	TEST_ASSERT(j);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "participant")));
	snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(j, "rejoin")));
	TEST_EQ(strlen(token), REJOIN_TOKEN_CHARS);
	/* pong carries a fresh token for members */
	fake_clear(&fa);
	say(&w, a, "{\"type\":\"ping\",\"id\":1}");
	TEST_EQ(strlen(last_str(&fa, "rejoin")), REJOIN_TOKEN_CHARS);

	/* the connection drops; a new one with the token is back at once,
	 * under the same id and role, without a lobby round */
	sig_conn_free(a);
	fake_clear(&fa);
	b = conn(&w, &fb, 2);
	say(&w, b, "{\"type\":\"hello\",\"v\":1}");
	sayf(&w, b, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Ann\",\"rejoin\":\"%s\"}",
	     w.room, token);
	j = find(&fb, "joined");
	TEST_ASSERT(j);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "participant")), id) == 0);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "role")), "host") == 0);

	/* a token for another room, or a forged one, is just a knock */
	c = conn(&w, &fc, 3);
	say(&w, c, "{\"type\":\"hello\",\"v\":1}");
	sayf(&w, c, "{\"type\":\"join\",\"room\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"name\":\"X\",\"rejoin\":\"%s\"}",
	     token);
	TEST_ASSERT(strcmp(last_type(&fc), "lobby") == 0);
	sig_conn_free(c);
	fake_clear(&fc);
	token[10] = token[10] == 'A' ? 'B' : 'A';
	c = conn(&w, &fc, 4);
	say(&w, c, "{\"type\":\"hello\",\"v\":1}");
	sayf(&w, c, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"X\",\"rejoin\":\"%s\"}",
	     w.room, token);
	TEST_ASSERT(strcmp(last_type(&fc), "lobby") == 0);
	sig_conn_free(c);
	sig_conn_free(b);
	fake_clear(&fb);
	fake_clear(&fc);
	world_close(&w);
	return 0;
}

/* Found by fuzz_sig (fuzz/corpus/sig/crash-946423ef): the only member of a
 * meeting comes back on a new connection before the server noticed the old
 * one is gone. Replacing the old connection emptied the room, which was
 * freed and then used. */
int test_access_rejoin_replaces_last_member(void)
{
	struct world w;
	struct fake fa, fb, fc;
	struct sig_conn *a, *b, *c;
	json_t *j;
	char id[PARTICIPANT_ID_CHARS + 1], token[REJOIN_TOKEN_CHARS + 1];

	TEST_EQ(world_open(&w), 0);
	w.conf.knock_per_minute = 100;
	a = conn(&w, &fa, 1);
	say(&w, a, "{\"type\":\"hello\",\"v\":1}");
	j = join_host(&w, a, &fa, "Ann");
	TEST_ASSERT(j);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "participant")));
	snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(j, "rejoin")));

	/* a is still connected; b comes back with the token */
	fake_clear(&fa);
	b = conn(&w, &fb, 1);
	say(&w, b, "{\"type\":\"hello\",\"v\":1}");
	sayf(&w, b, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Ann\",\"rejoin\":\"%s\"}",
	     w.room, token);
	j = find(&fb, "joined");
	TEST_ASSERT(j);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "participant")), id) == 0);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "role")), "host") == 0);
	TEST_ASSERT(strcmp(last_type(&fa), "left") == 0);
	TEST_ASSERT(strcmp(last_str(&fa, "reason"), "replaced") == 0);

	/* the meeting lives on around the new connection: a guest's knock
	 * reaches it */
	c = conn(&w, &fc, 3);
	say(&w, c, "{\"type\":\"hello\",\"v\":1}");
	sayf(&w, c, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Gil\"}", w.room);
	TEST_ASSERT(strcmp(last_type(&fc), "lobby") == 0);
	TEST_ASSERT(find(&fb, "knock"));
	sig_conn_free(c);
	sig_conn_free(a);
	sig_conn_free(b);
	fake_clear(&fa);
	fake_clear(&fb);
	fake_clear(&fc);
	world_close(&w);
	return 0;
}

int test_access_remove_lock_end(void)
{
	struct world w;
	struct fake fh, fg, fx;
	struct sig_conn *h, *g, *x;
	json_t *k, *j;
	char gid[PARTICIPANT_ID_CHARS + 1], gtoken[REJOIN_TOKEN_CHARS + 1];

	TEST_EQ(world_open(&w), 0);
	w.conf.knock_per_minute = 100;
	h = conn(&w, &fh, 1);
	g = conn(&w, &fg, 2);
	say(&w, h, "{\"type\":\"hello\",\"v\":1}");
	say(&w, g, "{\"type\":\"hello\",\"v\":1}");
	TEST_ASSERT(join_host(&w, h, &fh, "Hal"));
	sayf(&w, g, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Gil\"}", w.room);
	k = find(&fh, "knock");
	TEST_ASSERT(k);
	snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(k, "participant")));
	sayf(&w, h, "{\"type\":\"admit\",\"participant\":\"%s\"}", gid);
	j = find(&fg, "joined");
	TEST_ASSERT(j);
	snprintf(gtoken, sizeof(gtoken), "%s", json_string_value(json_object_get(j, "rejoin")));

	/* promote and mute requests */
	fake_clear(&fg);
	sayf(&w, h, "{\"type\":\"mute\",\"participant\":\"%s\",\"kind\":\"audio\"}", gid);
	TEST_ASSERT(strcmp(last_type(&fg), "mute_request") == 0);
	sayf(&w, h, "{\"type\":\"mute\",\"participant\":\"%s\",\"kind\":\"bogus\"}", gid);
	TEST_ASSERT(strcmp(last_str(&fh, "code"), "bad_field") == 0);
	sayf(&w, g, "{\"type\":\"remove\",\"participant\":\"%s\"}", gid);
	TEST_ASSERT(strcmp(last_str(&fg, "code"), "forbidden") == 0);

	/* remove: the guest is told, the others too, and its token no
	 * longer brings it back */
	fake_clear(&fh);
	fake_clear(&fg);
	sayf(&w, h, "{\"type\":\"remove\",\"participant\":\"%s\"}", gid);
	TEST_ASSERT(strcmp(last_type(&fg), "removed") == 0);
	TEST_ASSERT(find(&fh, "participant_left"));
	sayf(&w, g, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Gil\"}", w.room);
	TEST_ASSERT(strcmp(last_str(&fg, "code"), "forbidden") == 0);
	x = conn(&w, &fx, 3);
	say(&w, x, "{\"type\":\"hello\",\"v\":1}");
	fake_clear(&fh);
	sayf(&w, x, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Gil\",\"rejoin\":\"%s\"}",
	     w.room, gtoken);
	TEST_ASSERT(strcmp(last_type(&fx), "lobby") == 0);
	TEST_ASSERT(find(&fh, "knock")); /* back in the lobby, seen by the host */
	sig_conn_free(x);
	fake_clear(&fx);

	/* lock: a new guest is parked unseen; unlock: the next one knocks */
	fake_clear(&fh);
	say(&w, h, "{\"type\":\"lock\",\"locked\":true}");
	TEST_ASSERT(find(&fh, "locked"));
	fake_clear(&fh);
	x = conn(&w, &fx, 4);
	say(&w, x, "{\"type\":\"hello\",\"v\":1}");
	sayf(&w, x, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Lou\"}", w.room);
	TEST_ASSERT(strcmp(last_type(&fx), "lobby") == 0);
	TEST_ASSERT(!find(&fh, "knock"));
	sig_conn_free(x);
	fake_clear(&fx);
	say(&w, h, "{\"type\":\"lock\",\"locked\":false}");
	x = conn(&w, &fx, 5);
	say(&w, x, "{\"type\":\"hello\",\"v\":1}");
	sayf(&w, x, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Lou\"}", w.room);
	TEST_ASSERT(find(&fh, "knock"));

	/* end: members get "ended", waiting guests "denied", and the meeting
	 * answers like an unknown one afterwards */
	fake_clear(&fh);
	say(&w, h, "{\"type\":\"end\"}");
	TEST_ASSERT(strcmp(last_type(&fh), "ended") == 0);
	TEST_ASSERT(strcmp(last_type(&fx), "denied") == 0);
	sig_conn_free(x);
	fake_clear(&fx);
	x = conn(&w, &fx, 6);
	say(&w, x, "{\"type\":\"hello\",\"v\":1}");
	TEST_ASSERT(join_host(&w, x, &fx, "Hal") == NULL);
	TEST_ASSERT(strcmp(last_type(&fx), "lobby") == 0);

	fake_clear(&fh);
	fake_clear(&fg);
	fake_clear(&fx);
	sig_conn_free(x);
	sig_conn_free(g);
	sig_conn_free(h);
	world_close(&w);
	return 0;
}

int test_access_tick_ends_stored(void)
{
	struct world w;
	struct fake fh;
	struct sig_conn *h;

	TEST_EQ(world_open(&w), 0);
	h = conn(&w, &fh, 1);
	say(&w, h, "{\"type\":\"hello\",\"v\":1}");
	TEST_ASSERT(join_host(&w, h, &fh, "Hal"));
	/* `conclave meeting end` from the command line, while it runs */
	TEST_EQ(store_meeting_end(w.st, w.room, (int64_t)time(NULL)), 0);
	room_tick(w.rooms, w.now);
	TEST_ASSERT(strcmp(last_type(&fh), "ended") == 0);
	fake_clear(&fh);
	sig_conn_free(h);
	world_close(&w);
	return 0;
}

/* A knock with a bogus host credential and a bogus rejoin token costs the
 * same work for a live, unknown, ended or locked meeting: the HMAC of the
 * token and the hash of the key run in every case (no timing oracle). */
int test_access_join_checks_alike(void)
{
	struct world w;
	struct fake f;
	struct sig_conn *c;
	char ended[ROOM_ID_CHARS + 1], locked[ROOM_ID_CHARS + 1];
	char key2[SECRET_CHARS + 1], bogus_key[SECRET_CHARS + 1];
	char bogus_token[REJOIN_TOKEN_CHARS + 1];
	const char *ids[4];
	uint64_t mac[4], hash[4];

	TEST_EQ(world_open(&w), 0);
	TEST_EQ(store_meeting_create(w.st, 0, ended, key2), 0);
	TEST_EQ(store_meeting_end(w.st, ended, (int64_t)time(NULL)), 0);
	TEST_EQ(store_meeting_create(w.st, 0, locked, key2), 0);
	TEST_EQ(store_meeting_set_locked(w.st, locked, true), 0);
	memset(bogus_key, 'A', SECRET_CHARS);
	bogus_key[SECRET_CHARS] = '\0';
	memset(bogus_token, 'A', REJOIN_TOKEN_CHARS);
	bogus_token[REJOIN_TOKEN_CHARS] = '\0';
	ids[0] = w.room;
	ids[1] = "CCCCCCCCCCCCCCCCCCCCCA";
	ids[2] = ended;
	ids[3] = locked;
	for (int i = 0; i < 4; i++) {
		uint64_t m0 = w.rooms->rejoin_checks, h0 = w.rooms->host_key_checks;

		c = conn(&w, &f, (uint8_t)(20 + i));
		say(&w, c, "{\"type\":\"hello\",\"v\":1}");
		sayf(&w, c, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"X\","
		     "\"host_key\":\"%s\",\"rejoin\":\"%s\"}",
		     ids[i], bogus_key, bogus_token);
		TEST_ASSERT(strcmp(last_type(&f), "lobby") == 0);
		mac[i] = w.rooms->rejoin_checks - m0;
		hash[i] = w.rooms->host_key_checks - h0;
		fake_clear(&f);
		sig_conn_free(c);
	}
	for (int i = 0; i < 4; i++) {
		TEST_ASSERT(mac[i] >= 1 && hash[i] == 1);
		TEST_EQ(mac[i], mac[0]);
	}
	world_close(&w);
	return 0;
}

/* Admits a guest on connection g (fresh) through host h; writes its id and
 * rejoin token. */
static int admit_guest(struct world *w, struct sig_conn *h, struct fake *fh,
		       struct sig_conn *g, struct fake *fg, char *gid,
		       char *token)
{
	json_t *k, *j;

	fake_clear(fh);
	say(w, g, "{\"type\":\"hello\",\"v\":1}");
	sayf(w, g, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Gil\"}", w->room);
	k = find(fh, "knock");
	TEST_ASSERT(k);
	snprintf(gid, PARTICIPANT_ID_CHARS + 1, "%s",
		 json_string_value(json_object_get(k, "participant")));
	sayf(w, h, "{\"type\":\"admit\",\"participant\":\"%s\"}", gid);
	j = find(fg, "joined");
	TEST_ASSERT(j);
	snprintf(token, REJOIN_TOKEN_CHARS + 1, "%s",
		 json_string_value(json_object_get(j, "rejoin")));
	fake_clear(fh);
	fake_clear(fg);
	return 0;
}

/* Does a new connection with `token` land in the lobby (1) or in the
 * meeting (0)? */
static int token_knocks(struct world *w, const char *token, uint8_t ip)
{
	struct fake f;
	struct sig_conn *c = conn(w, &f, ip);
	int lobby;

	say(w, c, "{\"type\":\"hello\",\"v\":1}");
	sayf(w, c, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"Gil\",\"rejoin\":\"%s\"}",
	     w->room, token);
	lobby = strcmp(last_type(&f), "lobby") == 0;
	fake_clear(&f);
	sig_conn_free(c);
	return lobby;
}

/* A removal outlives the room: the host removes X, everyone leaves, the
 * room is freed; X's still-valid token lands in the lobby of the meeting
 * made again. And a meeting's 65th removal does not forget its first. */
int test_access_removal_outlives_room(void)
{
	static char tokens[ROOM_REVOKED_PER_MEETING + 1][REJOIN_TOKEN_CHARS + 1];
	struct world w;
	struct fake fh, fg;
	struct sig_conn *h, *g;
	char gid[PARTICIPANT_ID_CHARS + 1], token[REJOIN_TOKEN_CHARS + 1];

	TEST_EQ(world_open(&w), 0);
	h = conn(&w, &fh, 1);
	say(&w, h, "{\"type\":\"hello\",\"v\":1}");
	TEST_ASSERT(join_host(&w, h, &fh, "Hal"));
	g = conn(&w, &fg, 2);
	TEST_EQ(admit_guest(&w, h, &fh, g, &fg, gid, token), 0);
	sayf(&w, h, "{\"type\":\"remove\",\"participant\":\"%s\"}", gid);
	TEST_ASSERT(strcmp(last_type(&fg), "removed") == 0);
	fake_clear(&fg);
	fake_clear(&fh);
	sig_conn_free(g);
	sig_conn_free(h);              /* the room empties and is freed */
	TEST_EQ(w.rooms->nrooms, 0);
	TEST_EQ(token_knocks(&w, token, 3), 1);

	/* a meeting with more removals than one meeting's share of the
	 * table: every one of them stays removed */
	h = conn(&w, &fh, 4);
	say(&w, h, "{\"type\":\"hello\",\"v\":1}");
	TEST_ASSERT(join_host(&w, h, &fh, "Hal"));
	for (int i = 0; i <= ROOM_REVOKED_PER_MEETING; i++) {
		g = conn(&w, &fg, (uint8_t)(100 + i));
		TEST_EQ(admit_guest(&w, h, &fh, g, &fg, gid, tokens[i]), 0);
		sayf(&w, h, "{\"type\":\"remove\",\"participant\":\"%s\"}", gid);
		TEST_ASSERT(strcmp(last_type(&fg), "removed") == 0);
		fake_clear(&fg);
		fake_clear(&fh);
		sig_conn_free(g);
	}
	for (int i = 0; i <= ROOM_REVOKED_PER_MEETING; i++)
		TEST_EQ(token_knocks(&w, tokens[i], 3), 1);
	TEST_EQ(token_knocks(&w, token, 3), 1);
	fake_clear(&fh);
	sig_conn_free(h);
	world_close(&w);
	return 0;
}

/* The removals table at its bound: a meeting's entries merge, and a full
 * table voids every token issued so far; no removal is forgotten. */
int test_access_removals_bounded(void)
{
	struct world w;
	struct room_mgr *m;
	char room[ROOM_ID_CHARS + 1], pid[PARTICIPANT_ID_CHARS + 1];
	char first_room[ROOM_ID_CHARS + 1], first_pid[PARTICIPANT_ID_CHARS + 1];
	uint8_t raw[ROOM_ID_BYTES] = { 0 }, praw[PARTICIPANT_ID_BYTES] = { 0 };
	int64_t now = 1000000, texp = now + REJOIN_TTL_S;

	TEST_EQ(world_open(&w), 0);
	m = w.rooms;
	/* one removal in each of ROOM_REVOKED_MAX meetings fills the table */
	for (uint32_t i = 0; i < ROOM_REVOKED_MAX; i++) {
		memcpy(raw, &i, sizeof(i));
		memcpy(praw, &i, sizeof(i));
		b64url_encode(raw, sizeof(raw), room);
		b64url_encode(praw, sizeof(praw), pid);
		if (i == 0) {
			memcpy(first_room, room, sizeof(room));
			memcpy(first_pid, pid, sizeof(pid));
		}
		room__revoke(m, room, pid, now);
	}
	TEST_EQ(m->nrevoked, ROOM_REVOKED_MAX);
	TEST_ASSERT(room__revoked(m, first_room, first_pid, texp, now));
	/* another pid of a meeting that has an entry: merged, not forgotten */
	praw[7] = 0xee;
	b64url_encode(praw, sizeof(praw), pid);
	room__revoke(m, first_room, pid, now + 1);
	TEST_ASSERT(m->nrevoked == ROOM_REVOKED_MAX);
	TEST_ASSERT(room__revoked(m, first_room, first_pid, texp, now + 1));
	TEST_ASSERT(room__revoked(m, first_room, pid, texp + 1, now + 1));
	/* a token issued after the merge works again */
	TEST_ASSERT(!room__revoked(m, first_room, "AAAAAAAAAAA", texp + 2, now + 2));
	/* full, and a meeting without an entry: every token issued so far is
	 * void, none of the earlier removals is forgotten */
	raw[15] = 0x77;
	b64url_encode(raw, sizeof(raw), room);
	room__revoke(m, room, pid, now + 2);
	TEST_ASSERT(m->revoked_all_at == now + 2);
	TEST_ASSERT(room__revoked(m, room, pid, texp + 2, now + 2));
	TEST_ASSERT(room__revoked(m, first_room, first_pid, texp, now + 2));
	TEST_ASSERT(room__revoked(m, first_room, "AAAAAAAAAAA", texp + 2, now + 2));
	TEST_ASSERT(!room__revoked(m, first_room, "AAAAAAAAAAA", texp + 3, now + 3));
	/* once every token issued before them has expired, they are gone */
	TEST_ASSERT(!room__revoked(m, room, pid, texp + REJOIN_TTL_S + 3,
				   now + REJOIN_TTL_S + 3));
	TEST_EQ(m->revoked_all_at, 0);
	world_close(&w);
	return 0;
}
