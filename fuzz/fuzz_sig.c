/*
 * fuzz_sig — the signaling protocol as a whole: JSON parsing, schema
 * validation, rate limits and dispatch into the room layer (lobby, host
 * actions, rejoin tokens, the MLS delivery service).
 *
 * The input is split at newlines into lines. A line is one message on
 * connection 0, unless it starts with '@':
 *   @1 TEXT, @2 TEXT   TEXT is a message on connection 1 or 2
 *   @t                 a minute passes and the room layer's tick runs
 *   @x1, @x2 (@x0)     that connection closes and a new one takes its place
 *   @b0 … @b2          a binary frame arrives on that connection
 *   @B0 … @B2          a message over the size limit arrives on it
 * Three connections from three addresses, so that a host, a guest and a
 * stranger can meet.
 *
 * The meeting's room id, its host credential and the participant ids the
 * server hands out are random, so an input cannot contain them. Before a
 * message is delivered these placeholders are replaced:
 *   $R  the room id of the one live meeting       $K  its host credential
 *   $0 … $7  the participant ids the server has sent so far in this input,
 *            in order of first appearance
 *   $J  the last rejoin token the server sent
 *   $V  the version of the last subscribe offer the server sent
 *   $<HEX>  the bytes HEX (pairs of hex digits; G stands for the meeting's
 *           MLS group id "conclave/" + room id) as base64url, for MLS
 *           messages of this meeting's group
 * The meeting is made live and unlocked again before each input, so that
 * an input that ends or locks it does not change the next one.
 *
 * The room layer has a real media plane (sfu_new: one worker thread on a
 * loopback UDP port), so that publish, subscribe answers and views go
 * through SDP parsing, answers and subscribe offers; what the worker does
 * with its commands is fuzz_demux's business.
 *
 * Every reply the server sends must itself be a JSON object with a string
 * "type"; a connection may only be closed for policy or size; anything
 * else aborts. With FUZZ_SIG_TRACE set in the environment, the messages
 * and replies are printed (to check what a seed reaches).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "room/room.h"
#include "sfu/sfu.h"
#include "sig/sig.h"
#include "store/store.h"
#include "util/log.h"
#include "util/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	NCONN = 3,
	MAX_IDS = 8,
	MSG_STEP_MS = 1000,        /* time between two messages */
	TICK_STEP_MS = 61000,      /* what "@t" lets pass */
	EXPAND_MAX = 1 << 18,      /* bytes of one message after expansion */
	BLOCK_MAX = 1 << 16,       /* bytes of one $<...> block */
	HARVEST_DEPTH = 4,         /* reply nesting searched for ids */
};

static const char group_prefix[] = "conclave/";

struct conn {
	struct sig_conn *c;
	int closed;
};

static struct conf conf;
static struct store *store;
static struct room_mgr *rooms;
static struct sig_server *sig;
static struct sfu *sfu;
static struct conn conns[NCONN];
static char room[ROOM_ID_CHARS + 1], host_key[SECRET_CHARS + 1];
static char ids[MAX_IDS][PARTICIPANT_ID_CHARS + 1];
static int n_ids;
static char rejoin[REJOIN_TOKEN_CHARS + 1];
static char version[24];
static int trace;
static char line[EXPAND_MAX];
static uint8_t block[BLOCK_MAX];
static char block_b64[B64URL_LEN(BLOCK_MAX) + 1];

static void check(int ok)
{
	if (!ok)
		abort();
}

static void note_id(const char *s)
{
	for (int i = 0; i < n_ids; i++)
		if (strcmp(ids[i], s) == 0)
			return;
	if (n_ids < MAX_IDS)
		snprintf(ids[n_ids++], sizeof(ids[0]), "%s", s);
}

/* Remembers the participant ids and rejoin tokens in a reply. */
static void harvest(json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > HARVEST_DEPTH)
		return;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			harvest(v, depth + 1);
		return;
	}
	json_object_foreach(j, k, v) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);

		if (!s) {
			harvest(v, depth + 1);
			continue;
		}
		if (n == PARTICIPANT_ID_CHARS &&
		    (!strcmp(k, "participant") || !strcmp(k, "id") || !strcmp(k, "from")))
			note_id(s);
		else if (n == REJOIN_TOKEN_CHARS && !strcmp(k, "rejoin"))
			memcpy(rejoin, s, sizeof(rejoin));
	}
}

static void harvest_version(json_t *j)
{
	const char *type = json_string_value(json_object_get(j, "type"));
	json_t *v = json_object_get(j, "version");

	if (type && !strcmp(type, "subscribe_offer") && json_is_integer(v))
		snprintf(version, sizeof(version), "%lld",
			 (long long)json_integer_value(v));
}

static void t_send(void *t, const char *text, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(text, len, 0, &e);

	if (trace)
		fprintf(stderr, "  %d< %.*s\n", (int)((struct conn *)t - conns),
			(int)len, text);
	check(json_is_object(j) && json_is_string(json_object_get(j, "type")));
	harvest(j, 0);
	harvest_version(j);
	json_decref(j);
}

static void t_close(void *t, int code, const char *reason)
{
	struct conn *c = t;

	(void)reason;
	check(code == SIG_CLOSE_POLICY || code == SIG_CLOSE_TOO_BIG);
	c->closed = 1;
}

static void t_hello(void *t)
{
	(void)t;
}

static const struct sig_transport ops = { t_send, t_close, t_hello };

static void media_event(const struct sfu_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static void conn_open(int i)
{
	uint8_t addr[4] = { 10, 0, 0, (uint8_t)(1 + i) };

	conns[i].closed = 0;
	conns[i].c = sig_conn_new(sig, &ops, &conns[i], addr, sizeof(addr));
	check(conns[i].c != NULL);
}

static void conn_close(int i)
{
	sig_conn_free(conns[i].c);
	conns[i].c = NULL;
}

static char store_dir[] = "/tmp/fuzz_sig.XXXXXX";

/* At exit: the scratch database goes (a crash leaves it for inspection). */
static void remove_store_dir(void)
{
	DIR *d = opendir(store_dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(store_dir);
}

static void setup(void)
{
	char *dir = store_dir;

	check(mkdtemp(dir) != NULL);
	atexit(remove_store_dir);
	log_set_level(LOG_ERROR);
	trace = getenv("FUZZ_SIG_TRACE") != NULL;
	conf_defaults(&conf);
	conf.media_port = 0;
	conf.media_workers = 1;
	/* small capacity limits, so that three connections reach them */
	conf.meeting_max_members = 2;
	conf.meeting_max_lobby = 1;
	conf.max_tracks = 2;
	conf.mls_max_message = 4096;
	conf.media_cache_mib = 8;
	check(store_open(dir, &store) == 0 && room_mgr_new(store, &rooms) == 0 &&
	      sig_server_new(&conf, rooms, &sig) == 0 &&
	      sfu_new(&conf, media_event, NULL, NULL, &sfu) == 0);
	{
		struct room_limits lim;
		conf_room_limits(&conf, &lim);
		room_mgr_set_limits(rooms, &lim);
	}
	room_mgr_set_sfu(rooms, sfu);
}

/* One live, unlocked meeting whose id and credential the placeholders name. */
static void fresh_meeting(void)
{
	struct meeting_rec m;

	if (room[0] && store_meeting_get(store, room, &m) == 0 &&
	    meeting_is_live(&m, time(NULL))) {
		if (m.locked)
			check(store_meeting_set_locked(store, room, false) == 0);
		return;
	}
	check(store_meeting_create(store, 0, room, host_key) == 0);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The base64url of the bytes named by p[0..n) (see $<...> above). */
static const char *block_text(const char *p, size_t n)
{
	size_t len = 0, i = 0;

	while (i < n && len < BLOCK_MAX) {
		int hi = hexval(p[i]), lo = i + 1 < n ? hexval(p[i + 1]) : -1;

		if (p[i] == 'G') {
			size_t pl = strlen(group_prefix);
			if (len + pl + ROOM_ID_CHARS > BLOCK_MAX)
				break;
			memcpy(block + len, group_prefix, pl);
			memcpy(block + len + pl, room, ROOM_ID_CHARS);
			len += pl + ROOM_ID_CHARS;
			i++;
		} else if (hi >= 0 && lo >= 0) {
			block[len++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else {
			i++;
		}
	}
	b64url_encode(block, len, block_b64);
	return block_b64;
}

static void append(size_t *len, const char *s, size_t n)
{
	if (n > EXPAND_MAX - *len)
		n = EXPAND_MAX - *len;
	memcpy(line + *len, s, n);
	*len += n;
}

/* Copies p[0..n) to line[] with the placeholders replaced. */
static size_t expand(const char *p, size_t n)
{
	size_t len = 0, i = 0;

	while (i < n) {
		const char *end;
		char c = i + 1 < n ? p[i + 1] : 0;

		if (p[i] != '$' || !c) {
			append(&len, p + i, 1);
			i++;
			continue;
		}
		i += 2;
		if (c == 'R') {
			append(&len, room, ROOM_ID_CHARS);
		} else if (c == 'K') {
			append(&len, host_key, SECRET_CHARS);
		} else if (c == 'J') {
			append(&len, rejoin, strlen(rejoin));
		} else if (c == 'V') {
			append(&len, version, strlen(version));
		} else if (c >= '0' && c < '0' + MAX_IDS) {
			if (c - '0' < n_ids)
				append(&len, ids[c - '0'], PARTICIPANT_ID_CHARS);
		} else if (c == '<' && (end = memchr(p + i, '>', n - i))) {
			const char *b = block_text(p + i, (size_t)(end - (p + i)));
			append(&len, b, strlen(b));
			i = (size_t)(end - p) + 1;
		} else {
			append(&len, p + i - 2, 2);
		}
	}
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now = 1000;
	const char *p = (const char *)data, *end = p + size, *nl;

	if (!sig)
		setup();
	fresh_meeting();
	n_ids = 0;
	rejoin[0] = 0;
	version[0] = 0;
	for (int i = 0; i < NCONN; i++)
		conn_open(i);
	for (; p < end; p = nl + 1) {
		const char *msg = p;
		size_t n;
		int who = 0;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		n = (size_t)(nl - p);
		now += MSG_STEP_MS;
		if (n >= 2 && p[0] == '@') {
			if (p[1] == 't') {
				now += TICK_STEP_MS;
				room_tick(rooms, now);
				continue;
			}
			if (n >= 3 && p[2] >= '0' && p[2] < '0' + NCONN &&
			    (p[1] == 'x' || p[1] == 'b' || p[1] == 'B')) {
				who = p[2] - '0';
				if (p[1] == 'x') {
					conn_close(who);
					conn_open(who);
				} else if (!conns[who].closed &&
					   sig_conn_reject(conns[who].c,
							   p[1] == 'b' ? SIG_E_BINARY
									: SIG_E_TOO_LARGE,
							   now) < 0) {
					check(conns[who].closed);
				}
				continue;
			}
			if (p[1] >= '1' && p[1] < '0' + NCONN) {
				who = p[1] - '0';
				msg = p + 2 + (n > 2 && p[2] == ' ');
				n -= (size_t)(msg - p);
			}
		}
		if (conns[who].closed)
			continue;
		n = expand(msg, n);
		if (trace)
			fprintf(stderr, "%d> %.*s\n", who, (int)n, line);
		if (sig_conn_input(conns[who].c, line, n, now) < 0)
			check(conns[who].closed);
	}
	for (int i = 0; i < NCONN; i++)
		conn_close(i);
	return 0;
}
