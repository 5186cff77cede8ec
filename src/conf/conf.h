/*
 * conf — the server's settings: defaults, an optional config file, flags.
 *
 * One table (conf.c) declares every setting once: its name, type, default
 * and help text. The same table parses `--name VALUE` flags, `name = value`
 * lines of a config file, and prints --help, so the three never disagree.
 * Precedence: defaults < config file < flags.
 */
#ifndef CONCLAVE_CONF_H
#define CONCLAVE_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
	CONF_STR_MAX = 512,
	/* an address list: 64 IPv6 prefixes of up to 49 characters, commas
	 * and blanks (util/cidr.h, CIDR_LIST_MAX) */
	CONF_LIST_MAX = 4096,
};

/* Value type; the caller owns it. Limits are named after what they bound. */
struct conf {
	char listen[CONF_STR_MAX];      /* HTTPS listen address ADDR:PORT */
	char data[CONF_STR_MAX];        /* data directory (db, certificate) */
	char public_url[CONF_STR_MAX];  /* base of printed links; "" = derive */
	char public_ip[CONF_STR_MAX];   /* media candidate address; "" = all */
	char media_bind[CONF_STR_MAX];  /* media sockets' address; "" = any */
	char cert[CONF_STR_MAX];        /* PEM certificate; "" = self-signed */
	char key[CONF_STR_MAX];         /* PEM private key */
	char web_root[CONF_STR_MAX];    /* built web app; "" = next to binary */
	char log_level[16];
	char metrics_from[16];          /* "loopback" | "any" */
	char create_from[CONF_LIST_MAX]; /* who may POST /api/meetings:
					  * "any" | "none" | CIDR list
					  * (util/cidr.h); checked when set */
	int media_port;                 /* first UDP port of the media workers */
	int media_workers;              /* 0 = one per core */
	int media_timeout;              /* s without ICE consent: media lost */

	/* signaling limits (docs/protocol.md, "Limits") */
	int ws_max_message;             /* bytes in one message */
	int ws_rate;                    /* messages per second, sustained */
	int ws_burst;                   /* messages in a burst */
	int ws_conns_per_ip;            /* open WebSockets per address */
	int ws_hello_timeout;           /* s to send hello after connecting */
	int ws_ping_interval;           /* s idle before the server pings */
	int ws_idle_timeout;            /* s idle before the server hangs up */
	int ws_max_outq;                /* bytes queued to one slow reader */
	int ws_max_conns;               /* open WebSockets in total */
	int create_per_minute;          /* meetings created per address */
	int knock_per_minute;           /* joins/knocks per address */

	/* capacity limits (docs/protocol.md, "Limits") */
	int max_meetings;               /* meetings open at once (in memory) */
	int meeting_max_members;        /* admitted participants per meeting */
	int meeting_max_lobby;          /* knocking guests per meeting */
	int max_tracks;                 /* tracks one participant publishes */
	int mls_max_message;            /* bytes of one decoded MLS message */
	int media_cache_mib;            /* NACK packet caches per media worker */

	/* test-only switches; both refuse to be set without --insecure-test */
	char test_tap[CONF_STR_MAX];    /* dir: record relayed payloads */
	int test_intruder;              /* let `join` with "intruder" skip MLS */
	int insecure_test;
};

/* Fills c with the built-in defaults. */
void conf_defaults(struct conf *c);

/*
 * Parses flags from argv[first..argc). `--config FILE` is read first, then
 * the other flags override it. On error, writes a message to `err` and
 * returns -EINVAL. Sets *help when --help was given.
 */
int conf_parse_args(struct conf *c, int argc, char **argv, int first,
		    bool *help, FILE *err);

/*
 * Reads a config file of `name = value` lines. A line starting with '#' is
 * a comment, and so is a '#' after a blank (`listen = :8443  # note`). A
 * value with '#' in it, or with blanks at its ends, goes in double quotes
 * (`cert = "/etc/tls/a#1.pem"`; \" and \\ inside); a bare value with a
 * '#' inside a word is an error. Returns 0, or -EINVAL with a message
 * naming the line on `err`.
 */
int conf_load_file(struct conf *c, const char *path, FILE *err);

/* Sets one setting by name (dashes or underscores). Returns 0 or -EINVAL. */
int conf_set(struct conf *c, const char *name, const char *value, FILE *err);

struct room_limits;
/* The room layer's capacity limits from the settings of the same names. */
void conf_room_limits(const struct conf *c, struct room_limits *out);

/* Prints one line per setting with its default. */
void conf_print_help(FILE *out);

/* Splits c->listen into host and port; returns 0 or -EINVAL. */
int conf_listen_split(const struct conf *c, char *host, size_t hostcap,
		      int *port);

#endif
