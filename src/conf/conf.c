/*
 * conf — settings table, flags and config file (see conf.h).
 */
#include "conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "room/room.h"
#include "sfu/sfu.h"
#include "util/cidr.h"

enum conf_type { CT_STR, CT_INT };

enum {
	CONF_WHY_MAX = 256,   /* a check's reason for refusing a value */
};

struct conf_opt {
	const char *name;
	enum conf_type type;
	size_t off;
	size_t size;        /* for strings */
	const char *def;
	int min, max;       /* for ints */
	const char *help;
	/* for strings: checks a value before it is taken; 0, or -EINVAL
	 * with a reason in why[0..cap) */
	int (*check)(const char *value, char *why, size_t cap);
};

static int check_cidr_list(const char *value, char *why, size_t cap)
{
	struct cidr_list l;
	return cidr_list_parse(value, &l, why, cap);
}

#define S(field, def, help) \
	{ #field, CT_STR, offsetof(struct conf, field), \
	  sizeof(((struct conf *)0)->field), def, 0, 0, help, NULL }
/* a string checked by `check` when it is set */
#define SC(field, def, check, help) \
	{ #field, CT_STR, offsetof(struct conf, field), \
	  sizeof(((struct conf *)0)->field), def, 0, 0, help, check }
#define I(field, def, lo, hi, help) \
	{ #field, CT_INT, offsetof(struct conf, field), 0, #def, lo, hi, help, NULL }

static const struct conf_opt opts[] = {
	S(listen, "0.0.0.0:8443", "HTTPS address and port (ADDR:PORT)"),
	S(data, "./data", "data directory: database and self-signed certificate"),
	S(public_url, "", "base URL for printed links (default: https://<first address>:<port>)"),
	S(public_ip, "", "address announced as media candidate (default: the host's addresses)"),
	S(media_bind, "", "IPv4 address the media UDP ports are bound to (default: all)"),
	S(cert, "", "TLS certificate (PEM); default: self-signed, made at first start"),
	S(key, "", "TLS private key (PEM) for --cert"),
	S(web_root, "", "directory of the built web app (default: web/ next to the binary)"),
	S(log_level, "info", "debug | info | warn | error"),
	S(metrics_from, "loopback", "who may read /metrics: loopback | any"),
	SC(create_from, "any", check_cidr_list, "who may create meetings over POST /api/meetings: any | none | prefixes, e.g. 10.0.0.0/8,2001:db8::/32 (the CLI always may)"),
	I(media_port, 10000, 0, 65535, "first UDP port for media, one per worker (0: any free ports, for tests)"),
	I(media_workers, 0, 0, 64, "media worker threads (0: one per core)"),
	I(media_timeout, 15, 2, 3600, "seconds without ICE consent before a participant's media counts as lost"),
	I(ws_max_message, 524288, 1024, 16777216, "largest signaling message, bytes (the largest SDP, 384 KiB, with its JSON escaping)"),
	I(ws_rate, 50, 1, 100000, "signaling messages per second per connection"),
	I(ws_burst, 100, 1, 100000, "signaling burst per connection"),
	I(ws_conns_per_ip, 20, 1, 100000, "open WebSocket connections per address"),
	I(ws_hello_timeout, 10, 1, 3600, "seconds a new connection has to send hello"),
	I(ws_ping_interval, 20, 1, 3600, "seconds of silence before the server pings"),
	I(ws_idle_timeout, 45, 2, 7200, "seconds of silence before the server hangs up"),
	I(ws_max_outq, 4194304, 65536, 1073741824, "bytes queued for one slow reader before it is cut off"),
	I(ws_max_conns, 5000, 1, 1000000, "open WebSocket connections in total"),
	I(create_per_minute, 10, 1, 100000, "meetings created per address per minute"),
	I(knock_per_minute, 30, 1, 1000000, "joins and knocks per address per minute"),
	I(max_meetings, 100, 1, 100000, "meetings open at once (with members or knocking guests)"),
	I(meeting_max_members, 100, 2, ROOM_MAX_MEMBERS, "admitted participants per meeting (100 at most)"),
	I(meeting_max_lobby, 50, 1, ROOM_MAX_LOBBY, "guests knocking on one meeting (50 at most)"),
	I(max_tracks, 8, 1, SFU_MAX_TRACKS, "tracks (microphone, camera, screen...) one participant may publish (8 at most)"),
	I(mls_max_message, 196608, 4096, ROOM_MLS_MAX, "largest MLS message, bytes (decoded; 192 KiB at most)"),
	I(media_cache_mib, 384, 8, 65536, "MiB of retransmission (NACK) packet caches per media worker"),
	S(test_tap, "", "TESTS ONLY: record every forwarded media payload and relayed MLS message in this directory"),
	I(test_intruder, 0, 0, 1, "TESTS ONLY: let a join with \"intruder\" into the meeting without lobby or MLS"),
	I(insecure_test, 0, 0, 1, "must be 1 for the TESTS ONLY settings to be accepted"),
};

#undef S
#undef SC
#undef I

static const struct conf_opt *opt_find(const char *name)
{
	char norm[64];
	size_t i;

	for (i = 0; name[i] && i < sizeof(norm) - 1; i++)
		norm[i] = name[i] == '-' ? '_' : name[i];
	norm[i] = '\0';
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(opts[i].name, norm) == 0)
			return &opts[i];
	return NULL;
}

static int opt_apply(struct conf *c, const struct conf_opt *o,
		     const char *value, FILE *err)
{
	char *end;
	long v;

	if (o->type == CT_STR) {
		char why[CONF_WHY_MAX];

		if (strlen(value) >= o->size) {
			fprintf(err, "conclave: value for %s is too long\n", o->name);
			return -EINVAL;
		}
		if (o->check && o->check(value, why, sizeof(why))) {
			fprintf(err, "conclave: %s: %s\n", o->name, why);
			return -EINVAL;
		}
		memcpy((char *)c + o->off, value, strlen(value) + 1);
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < o->min || v > o->max) {
		fprintf(err, "conclave: %s must be a whole number from %d to %d\n",
			o->name, o->min, o->max);
		return -EINVAL;
	}
	*(int *)(void *)((char *)c + o->off) = (int)v;
	return 0;
}

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		opt_apply(c, &opts[i], opts[i].def, stderr);
}

int conf_set(struct conf *c, const char *name, const char *value, FILE *err)
{
	const struct conf_opt *o = opt_find(name);
	if (!o) {
		fprintf(err, "conclave: unknown setting '%s' (see --help)\n", name);
		return -EINVAL;
	}
	return opt_apply(c, o, value, err);
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * The value of a `name = value` line, from the text after '=' (see
 * conf.h): "quoted" (any character, '#' too; \" and \\ escape), or bare,
 * ending at a '#' that follows a blank (a comment). A bare value with a
 * '#' inside a word is refused rather than cut short there: a path like
 * /etc/tls/a#1.pem silently read as /etc/tls/a would be a trap.
 * Returns the value (in place) or NULL with *why set.
 */
static char *file_value(char *s, const char **why)
{
	char *r, *w;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '"') {
		for (r = w = s + 1; *r != '"'; r++) {
			if (!*r || *r == '\n') {
				*why = "a quoted value without its closing quote";
				return NULL;
			}
			if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
				r++;
			*w++ = *r;
		}
		*w = '\0';   /* w <= r: at worst over the closing quote */
		for (r++; isspace((unsigned char)*r); r++)
			;
		if (*r && *r != '#') {
			*why = "text after a quoted value";
			return NULL;
		}
		return s + 1;
	}
	for (r = s; *r; r++) {
		if (*r != '#')
			continue;
		if (r > s && !isspace((unsigned char)r[-1])) {
			*why = "a '#' inside a value (put the value in \"quotes\")";
			return NULL;
		}
		*r = '\0';
		break;
	}
	return trim(s);
}

int conf_load_file(struct conf *c, const char *path, FILE *err)
{
	const char *why = NULL;
	char line[CONF_LIST_MAX + 128], *eq, *k, *v;
	int lineno = 0, rc = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(err, "conclave: cannot read config file %s: %s\n", path,
			strerror(errno));
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(err, "conclave: %s:%d: line too long\n", path, lineno);
			rc = -EINVAL;
			break;
		}
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			fprintf(err, "conclave: %s:%d: expected name = value\n", path,
				lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		v = file_value(eq + 1, &why);
		if (!v) {
			fprintf(err, "conclave: %s:%d: %s\n", path, lineno, why);
			rc = -EINVAL;
			break;
		}
		k = trim(k);
		if (conf_set(c, k, v, err)) {
			fprintf(err, "conclave: in %s line %d\n", path, lineno);
			rc = -EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

int conf_parse_args(struct conf *c, int argc, char **argv, int first,
		    bool *help, FILE *err)
{
	int i, rc;

	*help = false;
	/* the config file first, so that flags override it */
	for (i = first; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(err, "conclave: --config needs a file\n");
				return -EINVAL;
			}
			rc = conf_load_file(c, argv[i + 1], err);
			if (rc)
				return rc;
		}
	}
	for (i = first; i < argc; i++) {
		const char *a = argv[i], *val;
		char name[64];
		const char *eq;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(err, "conclave: unexpected argument '%s'\n", a);
			return -EINVAL;
		}
		a += 2;
		eq = strchr(a, '=');
		if (eq) {
			if ((size_t)(eq - a) >= sizeof(name))
				return -EINVAL;
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = '\0';
			val = eq + 1;
		} else {
			if (strlen(a) >= sizeof(name))
				return -EINVAL;
			strcpy(name, a);
			if (i + 1 >= argc) {
				fprintf(err, "conclave: --%s needs a value\n", name);
				return -EINVAL;
			}
			val = argv[++i];
		}
		if (strcmp(name, "config") == 0)
			continue;
		rc = conf_set(c, name, val, err);
		if (rc)
			return rc;
	}
	if ((c->test_tap[0] || c->test_intruder) && !c->insecure_test) {
		fprintf(err, "conclave: --test-tap and --test-intruder break the "
			     "meeting's guarantees and need --insecure-test 1\n");
		return -EINVAL;
	}
	return 0;
}

void conf_print_help(FILE *out)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char flag[64];
		size_t j;

		for (j = 0; opts[i].name[j] && j < sizeof(flag) - 1; j++)
			flag[j] = opts[i].name[j] == '_' ? '-' : opts[i].name[j];
		flag[j] = '\0';
		fprintf(out, "  --%-20s %s", flag, opts[i].help);
		if (opts[i].def[0])
			fprintf(out, " [%s]", opts[i].def);
		fputc('\n', out);
	}
	fprintf(out, "  --%-20s %s\n", "config FILE",
		"read settings from FILE (name = value lines)");
}

int conf_listen_split(const struct conf *c, char *host, size_t hostcap,
		      int *port)
{
	const char *colon = strrchr(c->listen, ':');
	char *end;
	long p;
	size_t hl;

	if (!colon)
		return -EINVAL;
	hl = (size_t)(colon - c->listen);
	if (c->listen[0] == '[' && hl >= 2 && c->listen[hl - 1] == ']') {
		hl -= 2;
		if (hl >= hostcap)
			return -EINVAL;
		memcpy(host, c->listen + 1, hl);
	} else {
		if (hl >= hostcap)
			return -EINVAL;
		memcpy(host, c->listen, hl);
	}
	host[hl] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p < 1 || p > 65535)
		return -EINVAL;
	*port = (int)p;
	return 0;
}

void conf_room_limits(const struct conf *c, struct room_limits *out)
{
	*out = (struct room_limits){
		.max_meetings = (size_t)c->max_meetings,
		.max_members = (size_t)c->meeting_max_members,
		.max_lobby = (size_t)c->meeting_max_lobby,
		.max_tracks = (size_t)c->max_tracks,
		.mls_max = (size_t)c->mls_max_message,
	};
}
