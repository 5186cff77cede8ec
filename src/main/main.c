/*
 * conclave — one binary: the server and its administration commands.
 *
 *   conclave serve [settings]           run the server
 *   conclave meeting create [--json] [--expires-in S] [settings]
 *   conclave meeting list [--json] [settings]
 *   conclave meeting end ROOM [settings]
 *   conclave meeting delete ROOM [settings]
 *
 * The meeting commands work on the same SQLite database as a running
 * server (WAL mode), so an administrator can create or end meetings while
 * it runs. The invite secret of a new meeting is made here, printed in the
 * link's fragment, and never written anywhere.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "conf/conf.h"
#include "http/server.h"
#include "store/store.h"
#include "util/log.h"
#include "util/secret.h"

static struct http_server *running;

static void usage(FILE *out)
{
	fprintf(out,
		"conclave %s — end-to-end encrypted video meetings\n\n"
		"usage:\n"
		"  conclave serve [settings]             run the server\n"
		"  conclave meeting create [--json] [--expires-in SECONDS] [settings]\n"
		"  conclave meeting list [--json] [settings]\n"
		"  conclave meeting end ROOM [settings]\n"
		"  conclave meeting delete ROOM [settings]\n"
		"  conclave --version | --help\n\n"
		"settings (flags, or name = value lines in --config FILE):\n",
		CONCLAVE_VERSION);
	conf_print_help(out);
}

/* The base URL for links: --public-url, else https://ADDR:PORT with the
 * listen address or, for a wildcard, the first non-loopback IPv4 address. */
static void public_base(const struct conf *c, char *out, size_t cap)
{
	char host[256] = "127.0.0.1";
	struct ifaddrs *ifs = NULL, *i;
	int port = 8443;

	if (c->public_url[0]) {
		size_t n = strlen(c->public_url);
		while (n && c->public_url[n - 1] == '/')
			n--;
		snprintf(out, cap, "%.*s", (int)n, c->public_url);
		return;
	}
	conf_listen_split(c, host, sizeof(host), &port);
	if (strcmp(host, "0.0.0.0") == 0 || !host[0]) {
		snprintf(host, sizeof(host), "127.0.0.1");
		if (getifaddrs(&ifs) == 0) {
			for (i = ifs; i; i = i->ifa_next) {
				struct sockaddr_in *sin = (void *)i->ifa_addr;
				if (!sin || sin->sin_family != AF_INET ||
				    (ntohl(sin->sin_addr.s_addr) >> 24) == 127)
					continue;
				inet_ntop(AF_INET, &sin->sin_addr, host,
					  sizeof(host));
				break;
			}
			freeifaddrs(ifs);
		}
	}
	if (strchr(host, ':'))
		snprintf(out, cap, "https://[%s]:%d", host, port);
	else
		snprintf(out, cap, "https://%s:%d", host, port);
}

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		http_server_stop(running);
}

static int cmd_serve(struct conf *c)
{
	struct sigaction sa;
	char base[CONF_STR_MAX];
	enum log_level lvl;
	int rc;

	if (log_level_parse(c->log_level, &lvl) == 0)
		log_set_level(lvl);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);   /* a closed terminal does not stop a server */
	rc = http_server_new(c, &running);
	if (rc)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	public_base(c, base, sizeof(base));
	log_info("main", "conclave %s ready at %s", CONCLAVE_VERSION, base);
	http_server_run(running);
	http_server_free(running);
	running = NULL;
	log_info("main", "stopped");
	return 0;
}

/* Pulls `--name VALUE` (or --name alone when `flag`) out of argv. */
static const char *take_opt(int *argc, char **argv, const char *name,
			    bool flag, bool *found)
{
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], name) != 0)
			continue;
		const char *v = flag ? "" : (i + 1 < *argc ? argv[i + 1] : NULL);
		int drop = flag ? 1 : 2;
		if (!v)
			return NULL;
		for (int j = i; j + drop < *argc; j++)
			argv[j] = argv[j + drop];
		*argc -= drop;
		*found = true;
		return v;
	}
	*found = false;
	return NULL;
}

static void print_meeting(const struct meeting_rec *m, void *arg)
{
	json_t *arr = arg;
	int64_t now = (int64_t)time(NULL);
	const char *state = m->ended_at ? "ended"
			    : !meeting_is_live(m, now) ? "expired"
			    : m->locked ? "locked" : "open";

	if (arr) {
		json_array_append_new(
			arr, json_pack("{s:s, s:I, s:I, s:I, s:s}", "room",
				       m->room, "created_at",
				       (json_int_t)m->created_at, "expires_at",
				       (json_int_t)m->expires_at, "ended_at",
				       (json_int_t)m->ended_at, "state", state));
		return;
	}
	printf("%s  created %lld  %s\n", m->room, (long long)m->created_at,
	       state);
}

static int cmd_meeting(struct conf *c, const char *verb, const char *room,
		       bool json, long expires_in)
{
	char rid[ROOM_ID_CHARS + 1], key[SECRET_CHARS + 1];
	char invite[SECRET_CHARS + 1], base[CONF_STR_MAX];
	struct store *st;
	int rc = 0;

	log_set_level(LOG_WARN);
	if (store_open(c->data, &st)) {
		fprintf(stderr, "conclave: cannot open the database in %s\n",
			c->data);
		return 1;
	}
	if (strcmp(verb, "create") == 0) {
		int64_t exp = expires_in > 0 ? (int64_t)time(NULL) + expires_in : 0;
		if (store_meeting_create(st, exp, rid, key) ||
		    secret_random_b64url(INVITE_BYTES, invite)) {
			fprintf(stderr, "conclave: could not create a meeting\n");
			rc = 1;
		} else {
			char host_link[1024], guest_link[1024];
			public_base(c, base, sizeof(base));
			snprintf(guest_link, sizeof(guest_link), "%s/m/%s#%s", base,
				 rid, invite);
			snprintf(host_link, sizeof(host_link), "%s/m/%s#%s.%s",
				 base, rid, invite, key);
			if (json) {
				json_t *j = json_pack("{s:s, s:s, s:s}", "room", rid,
						      "host_link", host_link,
						      "guest_link", guest_link);
				char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
				if (t)
					printf("%s\n", t);
				free(t);
				json_decref(j);
			} else {
				printf("meeting %s\n\n"
				       "  host link (keep it to yourself):\n    %s\n\n"
				       "  guest link (share it with the participants):\n    %s\n",
				       rid, host_link, guest_link);
			}
			secret_wipe(host_link, sizeof(host_link));
			secret_wipe(guest_link, sizeof(guest_link));
		}
		secret_wipe(key, sizeof(key));
		secret_wipe(invite, sizeof(invite));
	} else if (strcmp(verb, "list") == 0) {
		json_t *arr = json ? json_array() : NULL;
		rc = store_meeting_list(st, print_meeting, arr) ? 1 : 0;
		if (arr) {
			char *t = json_dumps(arr, JSON_COMPACT);
			if (t)
				printf("%s\n", t);
			free(t);
			json_decref(arr);
		}
	} else if ((strcmp(verb, "end") == 0 || strcmp(verb, "delete") == 0) &&
		   room) {
		rc = strcmp(verb, "end") == 0
			     ? store_meeting_end(st, room, (int64_t)time(NULL))
			     : store_meeting_delete(st, room);
		if (rc == -ENOENT)
			fprintf(stderr, "conclave: no such meeting (or already ended)\n");
		else if (rc)
			fprintf(stderr, "conclave: could not %s the meeting\n", verb);
		rc = rc ? 1 : 0;
	} else {
		usage(stderr);
		rc = 2;
	}
	store_close(st);
	return rc;
}

int main(int argc, char **argv)
{
	struct conf c;
	bool help = false, json = false, found;
	const char *v;
	long expires_in = 0;

	conf_defaults(&c);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("conclave %s\n", CONCLAVE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0) {
		if (conf_parse_args(&c, argc, argv, 2, &help, stderr))
			return 2;
		if (help) {
			usage(stdout);
			return 0;
		}
		return cmd_serve(&c);
	}
	if (strcmp(argv[1], "meeting") == 0 && argc >= 3) {
		const char *verb = argv[2], *room = NULL;
		int first = 3;

		take_opt(&argc, argv, "--json", true, &json);
		v = take_opt(&argc, argv, "--expires-in", false, &found);
		if (found) {
			char *end;
			expires_in = v ? strtol(v, &end, 10) : -1;
			if (!v || *end || expires_in < 60) {
				fprintf(stderr, "conclave: --expires-in takes seconds (60 or more)\n");
				return 2;
			}
		}
		if ((strcmp(verb, "end") == 0 || strcmp(verb, "delete") == 0) &&
		    argc > 3 && strncmp(argv[3], "--", 2) != 0) {
			room = argv[3];
			first = 4;
		}
		if (conf_parse_args(&c, argc, argv, first, &help, stderr))
			return 2;
		if (help) {
			usage(stdout);
			return 0;
		}
		return cmd_meeting(&c, verb, room, json, expires_in);
	}
	usage(stderr);
	return 2;
}
