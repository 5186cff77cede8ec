/*
 * fuzz_sig — the signaling protocol as a whole: JSON parsing, schema
 * validation, rate limits and dispatch into the room layer.
 *
 * The input is split at newlines into successive messages on one
 * connection (so sequences such as hello, join, admit are explored). Every
 * reply the server sends must itself be a JSON object with a string "type";
 * anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "room/room.h"
#include "sig/sig.h"
#include "store/store.h"
#include "util/log.h"

static struct conf conf;
static struct store *store;
static struct room_mgr *rooms;
static struct sig_server *sig;
static int closed;

static void t_send(void *t, const char *text, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(text, len, 0, &e);
	(void)t;
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "type")))
		abort();
	json_decref(j);
}

static void t_close(void *t, int code, const char *reason)
{
	(void)t;
	(void)reason;
	if (code != SIG_CLOSE_POLICY && code != SIG_CLOSE_TOO_BIG)
		abort();
	closed = 1;
}

static void t_hello(void *t)
{
	(void)t;
}

static const struct sig_transport ops = { t_send, t_close, t_hello };

static void setup(void)
{
	char dir[] = "/tmp/fuzz_sig.XXXXXX";
	char room[32], key[64];

	if (!mkdtemp(dir))
		abort();
	log_set_level(LOG_ERROR);
	conf_defaults(&conf);
	if (store_open(dir, &store) || room_mgr_new(store, &rooms) ||
	    sig_server_new(&conf, rooms, &sig))
		abort();
	/* one real meeting, so that joins can find it: the fuzzer learns its
	 * id from the seed corpus only by luck, which is fine */
	store_meeting_create(store, 0, room, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now = 1000;
	const char *p = (const char *)data, *end = p + size, *nl;
	struct sig_conn *c, *other;
	uint8_t addr[4] = { 10, 0, 0, 1 };

	if (!sig)
		setup();
	closed = 0;
	c = sig_conn_new(sig, &ops, NULL, addr, sizeof(addr));
	other = sig_conn_new(sig, &ops, NULL, addr, sizeof(addr));
	if (!c || !other)
		abort();
	while (p < end && !closed) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		now += 1000;
		if (sig_conn_input(c, p, (size_t)(nl - p), now) < 0)
			break;
		p = nl + 1;
	}
	sig_conn_free(c);
	sig_conn_free(other);
	return 0;
}
