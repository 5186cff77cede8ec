/*
 * Unit tests for src/mls (the clear MLS header) and the MLS delivery
 * service in src/room/e2ee.c: commit ordering, Welcome release, admission
 * by the group, routing of application messages.
 */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "mls/mls_hdr.h"
#include "room/room.h"
#include "sig/sig.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/secret.h"

/* Builds an MLS message header by hand (RFC 9420 §6) into out. */
static size_t mls_msg(uint8_t *out, uint16_t wf, const char *group,
		      uint64_t epoch, uint8_t ct)
{
	size_t n = 0, gl = group ? strlen(group) : 0;

	out[n++] = 0;
	out[n++] = 1;                 /* mls10 */
	out[n++] = 0;
	out[n++] = (uint8_t)wf;
	if (wf != MLS_WF_PUBLIC && wf != MLS_WF_PRIVATE) {
		memcpy(out + n, "opaque", 6);
		return n + 6;
	}
	if (gl < 64) {                /* minimal varint (RFC 9420 §2.1.2) */
		out[n++] = (uint8_t)gl;
	} else {
		out[n++] = (uint8_t)(0x40 | (gl >> 8));
		out[n++] = (uint8_t)gl;
	}
	memcpy(out + n, group, gl);
	n += gl;
	for (int i = 7; i >= 0; i--)
		out[n++] = (uint8_t)(epoch >> (8 * i));
	if (wf == MLS_WF_PUBLIC) {
		out[n++] = MLS_SENDER_MEMBER;
		out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = 2; /* leaf 2 */
		out[n++] = 0;             /* authenticated_data<V>, empty */
		out[n++] = ct;
	} else {
		out[n++] = ct;
	}
	memcpy(out + n, "rest", 4);
	return n + 4;
}

int test_mls_hdr_parse(void)
{
	uint8_t m[512];
	struct mls_hdr h;
	size_t n;

	n = mls_msg(m, MLS_WF_PUBLIC, "conclave/abc", 7, MLS_CT_COMMIT);
	TEST_EQ(mls_hdr_parse(m, n, &h), 0);
	TEST_EQ(h.wire_format, MLS_WF_PUBLIC);
	TEST_EQ(h.epoch, 7);
	TEST_EQ(h.content_type, MLS_CT_COMMIT);
	TEST_EQ(h.sender_leaf, 2);
	TEST_EQ(h.group_id_len, 12);
	TEST_MEMEQ(h.group_id, "conclave/abc", 12);
	n = mls_msg(m, MLS_WF_PRIVATE, "g", 1ull << 40, MLS_CT_APPLICATION);
	TEST_EQ(mls_hdr_parse(m, n, &h), 0);
	TEST_EQ(h.epoch, 1ull << 40);
	TEST_EQ(h.content_type, MLS_CT_APPLICATION);
	n = mls_msg(m, MLS_WF_WELCOME, NULL, 0, 0);
	TEST_EQ(mls_hdr_parse(m, n, &h), 0);
	TEST_EQ(h.wire_format, MLS_WF_WELCOME);
	/* every truncation of a valid header fails cleanly */
	n = mls_msg(m, MLS_WF_PUBLIC, "conclave/abc", 7, MLS_CT_COMMIT) - 4;
	for (size_t k = 0; k < n; k++)
		TEST_ASSERT(mls_hdr_parse(m, k, &h) < 0);
	/* bad version, wire format, content type, empty group, long varint */
	n = mls_msg(m, MLS_WF_PRIVATE, "g", 1, MLS_CT_COMMIT);
	m[1] = 2;
	TEST_ASSERT(mls_hdr_parse(m, n, &h) < 0);
	m[1] = 1;
	m[3] = 9;
	TEST_ASSERT(mls_hdr_parse(m, n, &h) < 0);
	n = mls_msg(m, MLS_WF_PRIVATE, "g", 1, 4);
	TEST_ASSERT(mls_hdr_parse(m, n, &h) < 0);
	n = mls_msg(m, MLS_WF_PRIVATE, "", 1, 1);
	TEST_ASSERT(mls_hdr_parse(m, n, &h) < 0);
	n = mls_msg(m, MLS_WF_PRIVATE, "g", 1, 1);
	m[4] = 0xC1;                  /* varint prefix 0b11 is invalid */
	TEST_ASSERT(mls_hdr_parse(m, n, &h) < 0);
	return 0;
}

int test_mls_varint_minimal(void)
{
	uint8_t a[] = { 0x40, 0x3f }, b[] = { 0x40, 0x40 }, c4[] = { 0x80, 0, 0x3f, 0xff };
	struct cur c;
	uint64_t v;

	c = cur_make(a, 2);
	TEST_ASSERT(mls_varint(&c, &v) < 0);      /* 63 fits in one byte */
	c = cur_make(b, 2);
	TEST_EQ(mls_varint(&c, &v), 0);
	TEST_EQ(v, 64);
	c = cur_make(c4, 4);
	TEST_ASSERT(mls_varint(&c, &v) < 0);      /* 16383 fits in two */
	return 0;
}

/* ---- the delivery service over a fake transport ------------------------- */

enum { FMAX = 64 };
struct fk {
	json_t *m[FMAX];
	int n;
};

static void fk_send(void *t, const char *text, size_t len)
{
	struct fk *f = t;
	json_error_t e;
	if (f->n < FMAX)
		f->m[f->n++] = json_loadb(text, len, 0, &e);
}
static void fk_close(void *t, int c, const char *r) { (void)t; (void)c; (void)r; }
static void fk_hello(void *t) { (void)t; }
static const struct sig_transport fkops = { fk_send, fk_close, fk_hello };

static void fk_clear(struct fk *f)
{
	for (int i = 0; i < f->n; i++)
		json_decref(f->m[i]);
	f->n = 0;
}

static json_t *fk_find(struct fk *f, const char *type)
{
	for (int i = f->n - 1; i >= 0; i--)
		if (strcmp(json_string_value(json_object_get(f->m[i], "type")), type) == 0)
			return f->m[i];
	return NULL;
}

struct ds {
	struct conf conf;
	struct store *st;
	struct room_mgr *rooms;
	struct sig_server *sig;
	char room[ROOM_ID_CHARS + 1], key[SECRET_CHARS + 1];
	char group[64];
	uint64_t now;
};

static void tell(struct ds *d, struct sig_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void tell(struct ds *d, struct sig_conn *c, const char *fmt, ...)
{
	static char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	d->now += 100;
	sig_conn_input(c, buf, strlen(buf), d->now);
}

static const char *b64(uint16_t wf, const char *group, uint64_t epoch, uint8_t ct)
{
	static char out[4][1024];
	static int k;
	uint8_t m[512];
	size_t n = mls_msg(m, wf, group, epoch, ct);
	k = (k + 1) % 4;
	b64url_encode(m, n, out[k]);
	return out[k];
}

static struct sig_conn *dconn(struct ds *d, struct fk *f, uint8_t ip)
{
	uint8_t a[4] = { 198, 51, 100, ip };
	struct sig_conn *c;
	memset(f, 0, sizeof(*f));
	c = sig_conn_new(d->sig, &fkops, f, a, 4);
	tell(d, c, "{\"type\":\"hello\",\"v\":1}");
	return c;
}

int test_mls_delivery_service(void)
{
	char dir[] = "/tmp/conclave-mls-XXXXXX";
	struct ds d;
	struct fk fa, fb, fg;
	struct sig_conn *a, *b, *g;
	json_t *j;
	char bid[PARTICIPANT_ID_CHARS + 1], gid[PARTICIPANT_ID_CHARS + 1];

	memset(&d, 0, sizeof(d));
	conf_defaults(&d.conf);
	log_set_level(LOG_WARN);
	TEST_ASSERT(mkdtemp(dir));
	TEST_EQ(store_open(dir, &d.st), 0);
	TEST_EQ(room_mgr_new(d.st, &d.rooms), 0);
	TEST_EQ(sig_server_new(&d.conf, d.rooms, &d.sig), 0);
	TEST_EQ(store_meeting_create(d.st, 0, d.room, d.key), 0);
	snprintf(d.group, sizeof(d.group), "conclave/%s", d.room);

	/* the first member is told to create the group */
	a = dconn(&d, &fa, 1);
	tell(&d, a, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"A\",\"host_key\":\"%s\"}",
	     d.room, d.key);
	j = fk_find(&fa, "joined");
	TEST_ASSERT(j);
	TEST_ASSERT(json_is_true(json_object_get(json_object_get(j, "mls"), "create")));

	/* a second host joins: not told to create; its KeyPackage goes to A */
	b = dconn(&d, &fb, 2);
	tell(&d, b, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"B\",\"host_key\":\"%s\"}",
	     d.room, d.key);
	j = fk_find(&fb, "joined");
	TEST_ASSERT(j && json_is_false(json_object_get(json_object_get(j, "mls"), "create")));
	snprintf(bid, sizeof(bid), "%s", json_string_value(json_object_get(j, "participant")));
	fk_clear(&fa);
	tell(&d, b, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\"}",
	     b64(MLS_WF_KEY_PACKAGE, NULL, 0, 0));
	j = fk_find(&fa, "mls_keypackage");
	TEST_ASSERT(j && strcmp(json_string_value(json_object_get(j, "participant")), bid) == 0);
	/* a commit is not a KeyPackage */
	tell(&d, b, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\"}",
	     b64(MLS_WF_PUBLIC, d.group, 0, MLS_CT_COMMIT));
	TEST_ASSERT(strcmp(json_string_value(json_object_get(fk_find(&fb, "error"), "code")), "bad_mls") == 0);

	/* B is not in the group: it may not commit or send application data */
	fk_clear(&fb);
	tell(&d, b, "{\"type\":\"mls_commit\",\"commit\":\"%s\"}",
	     b64(MLS_WF_PUBLIC, d.group, 0, MLS_CT_COMMIT));
	TEST_ASSERT(strcmp(json_string_value(json_object_get(fk_find(&fb, "error"), "code")), "forbidden") == 0);

	/* A commits B's add at epoch 0 with a Welcome: accepted, B welcomed */
	fk_clear(&fa);
	fk_clear(&fb);
	tell(&d, a, "{\"type\":\"mls_commit\",\"commit\":\"%s\",\"welcome\":\"%s\",\"add\":[\"%s\"]}",
	     b64(MLS_WF_PUBLIC, d.group, 0, MLS_CT_COMMIT),
	     b64(MLS_WF_WELCOME, NULL, 0, 0), bid);
	j = fk_find(&fa, "mls_commit_ok");
	TEST_ASSERT(j && json_integer_value(json_object_get(j, "epoch")) == 1);
	TEST_ASSERT(fk_find(&fb, "mls_welcome"));
	TEST_ASSERT(!fk_find(&fb, "mls_commit")); /* it was not in the group yet */

	/* two commits for epoch 1: the first wins, the second is refused */
	fk_clear(&fa);
	fk_clear(&fb);
	tell(&d, b, "{\"type\":\"mls_commit\",\"commit\":\"%s\"}",
	     b64(MLS_WF_PRIVATE, d.group, 1, MLS_CT_COMMIT));
	tell(&d, a, "{\"type\":\"mls_commit\",\"commit\":\"%s\"}",
	     b64(MLS_WF_PUBLIC, d.group, 1, MLS_CT_COMMIT));
	TEST_ASSERT(fk_find(&fb, "mls_commit_ok"));
	TEST_ASSERT(fk_find(&fa, "mls_commit"));
	j = fk_find(&fa, "mls_commit_rejected");
	TEST_ASSERT(j && json_integer_value(json_object_get(j, "epoch")) == 2);
	/* a commit of another meeting's group is refused outright */
	fk_clear(&fa);
	tell(&d, a, "{\"type\":\"mls_commit\",\"commit\":\"%s\"}",
	     b64(MLS_WF_PUBLIC, "conclave/AAAAAAAAAAAAAAAAAAAAAA", 2, MLS_CT_COMMIT));
	TEST_ASSERT(strcmp(json_string_value(json_object_get(fk_find(&fa, "error"), "code")), "bad_mls") == 0);

	/* a guest in the lobby sends its KeyPackage with a proof; the group
	 * (A) adds it: the server admits it and hands it the Welcome */
	g = dconn(&d, &fg, 3);
	tell(&d, g, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"G\"}", d.room);
	TEST_ASSERT(fk_find(&fg, "lobby"));
	fk_clear(&fa);
	tell(&d, g, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\",\"proof\":\"cHJvb2Y\"}",
	     b64(MLS_WF_KEY_PACKAGE, NULL, 0, 0));
	j = fk_find(&fa, "mls_keypackage");
	TEST_ASSERT(j && json_is_true(json_object_get(j, "lobby")));
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "proof")), "cHJvb2Y") == 0);
	snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(j, "participant")));
	/* the guest receives nothing of the group while it waits */
	TEST_ASSERT(!fk_find(&fg, "mls_commit") && !fk_find(&fg, "mls_app"));
	fk_clear(&fg);
	tell(&d, a, "{\"type\":\"mls_commit\",\"commit\":\"%s\",\"welcome\":\"%s\",\"add\":[\"%s\"]}",
	     b64(MLS_WF_PUBLIC, d.group, 2, MLS_CT_COMMIT),
	     b64(MLS_WF_WELCOME, NULL, 0, 0), gid);
	TEST_ASSERT(fk_find(&fg, "joined"));
	TEST_ASSERT(fk_find(&fg, "mls_welcome"));

	/* application messages reach the other group members only */
	fk_clear(&fa);
	fk_clear(&fb);
	fk_clear(&fg);
	tell(&d, b, "{\"type\":\"mls_app\",\"msg\":\"%s\"}",
	     b64(MLS_WF_PRIVATE, d.group, 3, MLS_CT_APPLICATION));
	TEST_ASSERT(fk_find(&fa, "mls_app") && fk_find(&fg, "mls_app"));
	TEST_ASSERT(!fk_find(&fb, "mls_app"));
	tell(&d, b, "{\"type\":\"mls_app\",\"msg\":\"%s\"}",
	     b64(MLS_WF_PUBLIC, d.group, 3, MLS_CT_APPLICATION));
	TEST_ASSERT(strcmp(json_string_value(json_object_get(fk_find(&fb, "error"), "code")), "bad_mls") == 0);

	sig_conn_free(g);
	sig_conn_free(b);
	sig_conn_free(a);
	fk_clear(&fa);
	fk_clear(&fb);
	fk_clear(&fg);
	sig_server_free(d.sig);
	room_mgr_free(d.rooms);
	store_close(d.st);
	log_set_level(LOG_INFO);
	return 0;
}

/* Sets up a meeting with host A (the group's creator) and limits `lim`. */
static int ds_open(struct ds *d, const struct room_limits *lim)
{
	char dir[] = "/tmp/conclave-mls-XXXXXX";

	memset(d, 0, sizeof(*d));
	conf_defaults(&d->conf);
	log_set_level(LOG_WARN);
	if (!mkdtemp(dir) || store_open(dir, &d->st) ||
	    room_mgr_new(d->st, &d->rooms) ||
	    sig_server_new(&d->conf, d->rooms, &d->sig) ||
	    store_meeting_create(d->st, 0, d->room, d->key))
		return -1;
	room_mgr_set_limits(d->rooms, lim);
	snprintf(d->group, sizeof(d->group), "conclave/%s", d->room);
	return 0;
}

static void ds_close(struct ds *d)
{
	sig_server_free(d->sig);
	room_mgr_free(d->rooms);
	store_close(d->st);
	log_set_level(LOG_INFO);
}

/* A guest on a new connection knocks and sends its KeyPackage; its id. */
static int knock_with_kp(struct ds *d, struct sig_conn **c, struct fk *f,
			 uint8_t ip, char *id, struct fk *host)
{
	json_t *j;

	*c = dconn(d, f, ip);
	tell(d, *c, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"G\"}", d->room);
	TEST_ASSERT(fk_find(f, "lobby"));
	j = fk_find(host, "knock");
	TEST_ASSERT(j);
	snprintf(id, PARTICIPANT_ID_CHARS + 1, "%s",
		 json_string_value(json_object_get(j, "participant")));
	tell(d, *c, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\",\"proof\":\"cHJvb2Y\"}",
	     b64(MLS_WF_KEY_PACKAGE, NULL, 0, 0));
	return 0;
}

/* The group cannot add waiting guests past meeting_max_members or into a
 * locked meeting: such a commit is refused, the group told to forget the
 * guests (participant_left, before the refusal), the guests stay in the
 * lobby; their KeyPackages reach the group again once there is room. */
int test_mls_adds_limited(void)
{
	struct ds d;
	struct fk fa, fb, fg, fl;
	struct sig_conn *a, *b, *g, *l;
	char gid[PARTICIPANT_ID_CHARS + 1], lid[PARTICIPANT_ID_CHARS + 1];
	int left_at = -1, rejected_at = -1;

	TEST_EQ(ds_open(&d, &(struct room_limits){ .max_members = 2 }), 0);
	a = dconn(&d, &fa, 1);
	tell(&d, a, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"A\",\"host_key\":\"%s\"}",
	     d.room, d.key);
	TEST_ASSERT(fk_find(&fa, "joined"));
	b = dconn(&d, &fb, 2);
	tell(&d, b, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"B\",\"host_key\":\"%s\"}",
	     d.room, d.key);
	TEST_ASSERT(fk_find(&fb, "joined"));

	/* the meeting is full (A and B): a guest's KeyPackage is not offered */
	fk_clear(&fa);
	TEST_EQ(knock_with_kp(&d, &g, &fg, 3, gid, &fa), 0);
	TEST_ASSERT(!fk_find(&fa, "mls_keypackage"));
	/* a committer that adds it anyway (it had the KeyPackage from before)
	 * is refused; it hears participant_left for the guest first */
	fk_clear(&fa);
	tell(&d, a, "{\"type\":\"mls_commit\",\"commit\":\"%s\",\"welcome\":\"%s\",\"add\":[\"%s\"]}",
	     b64(MLS_WF_PUBLIC, d.group, 0, MLS_CT_COMMIT),
	     b64(MLS_WF_WELCOME, NULL, 0, 0), gid);
	for (int i = 0; i < fa.n; i++) {
		const char *t = json_string_value(json_object_get(fa.m[i], "type"));
		if (strcmp(t, "participant_left") == 0 && left_at < 0 &&
		    strcmp(json_string_value(json_object_get(fa.m[i], "participant")), gid) == 0)
			left_at = i;
		if (strcmp(t, "mls_commit_rejected") == 0)
			rejected_at = i;
	}
	TEST_ASSERT(left_at >= 0 && rejected_at > left_at);
	TEST_EQ(json_integer_value(json_object_get(fa.m[rejected_at], "epoch")), 0);
	TEST_ASSERT(!fk_find(&fa, "mls_commit_ok"));
	TEST_ASSERT(!fk_find(&fg, "joined") && !fk_find(&fg, "mls_welcome"));

	/* B leaves: there is room, the guest's next KeyPackage is offered and
	 * the group's add admits it */
	sig_conn_free(b);
	fk_clear(&fb);
	fk_clear(&fa);
	d.now += 10000; /* the web client sends it again every 10 s */
	tell(&d, g, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\",\"proof\":\"cHJvb2Y\"}",
	     b64(MLS_WF_KEY_PACKAGE, NULL, 0, 0));
	TEST_ASSERT(fk_find(&fa, "mls_keypackage"));
	tell(&d, a, "{\"type\":\"mls_commit\",\"commit\":\"%s\",\"welcome\":\"%s\",\"add\":[\"%s\"]}",
	     b64(MLS_WF_PUBLIC, d.group, 0, MLS_CT_COMMIT),
	     b64(MLS_WF_WELCOME, NULL, 0, 0), gid);
	TEST_ASSERT(fk_find(&fa, "mls_commit_ok"));
	TEST_ASSERT(fk_find(&fg, "joined") && fk_find(&fg, "mls_welcome"));

	/* locked: room or not, a waiting guest enters only by a host's admit */
	room_mgr_set_limits(d.rooms, &(struct room_limits){ 0 });
	sig_conn_free(g);
	fk_clear(&fg);
	fk_clear(&fa);
	TEST_EQ(knock_with_kp(&d, &l, &fl, 4, lid, &fa), 0);
	TEST_ASSERT(fk_find(&fa, "mls_keypackage")); /* offered before the lock */
	tell(&d, a, "{\"type\":\"lock\",\"locked\":true}");
	TEST_ASSERT(fk_find(&fa, "locked"));
	fk_clear(&fa);
	d.now += 10000;
	tell(&d, l, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\",\"proof\":\"cHJvb2Y\"}",
	     b64(MLS_WF_KEY_PACKAGE, NULL, 0, 0));
	TEST_ASSERT(!fk_find(&fa, "mls_keypackage"));
	tell(&d, a, "{\"type\":\"mls_commit\",\"commit\":\"%s\",\"welcome\":\"%s\",\"add\":[\"%s\"]}",
	     b64(MLS_WF_PUBLIC, d.group, 1, MLS_CT_COMMIT),
	     b64(MLS_WF_WELCOME, NULL, 0, 0), lid);
	TEST_ASSERT(fk_find(&fa, "participant_left"));
	TEST_ASSERT(fk_find(&fa, "mls_commit_rejected"));
	TEST_ASSERT(!fk_find(&fl, "joined"));
	/* the host's admit still lets it in */
	tell(&d, a, "{\"type\":\"admit\",\"participant\":\"%s\"}", lid);
	TEST_ASSERT(fk_find(&fl, "joined"));

	sig_conn_free(l);
	sig_conn_free(a);
	fk_clear(&fa);
	fk_clear(&fl);
	ds_close(&d);
	return 0;
}

static int count_type(struct fk *f, const char *type)
{
	int n = 0;
	for (int i = 0; i < f->n; i++)
		n += strcmp(json_string_value(json_object_get(f->m[i], "type")), type) == 0;
	return n;
}

/* A KeyPackage message of `n` bytes (an MLS header, then `fill`). */
static const char *kp_of(size_t n, uint8_t fill)
{
	static char out[8192];
	uint8_t m[6000];
	size_t h = mls_msg(m, MLS_WF_KEY_PACKAGE, NULL, 0, 0);
	memset(m + h, fill, n - h);
	b64url_encode(m, n, out);
	return out;
}

static const char *last_error(struct fk *f)
{
	json_t *e = fk_find(f, "error");
	return e ? json_string_value(json_object_get(e, "code")) : "";
}

/* A guest's (and a member's) KeyPackages reach the group at most once per
 * ROOM_KP_RELAY_MS: repeats are dropped, a new one is held, a flood gets
 * `rate_limited` and costs the members one copy per 5 s. A guest of an
 * unknown meeting hears exactly the same. KeyPackages are capped at
 * what a real one needs, with margin. */
int test_mls_keypackage_throttled(void)
{
	struct ds d;
	struct fk fa, fb, fg, fu;
	struct sig_conn *a, *b, *g, *u;
	json_t *j;
	static char kp2[8192];
	char gid[PARTICIPANT_ID_CHARS + 1];
	uint64_t t0;
	int replies_g[4], replies_u[4];

	TEST_EQ(ds_open(&d, &(struct room_limits){ 0 }), 0);
	a = dconn(&d, &fa, 1);
	tell(&d, a, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"A\",\"host_key\":\"%s\"}",
	     d.room, d.key);
	TEST_ASSERT(fk_find(&fa, "joined"));
	g = dconn(&d, &fg, 3);
	tell(&d, g, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"G\"}", d.room);
	u = dconn(&d, &fu, 4);
	tell(&d, u, "{\"type\":\"join\",\"room\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"name\":\"U\"}");
	TEST_ASSERT(fk_find(&fg, "lobby") && fk_find(&fu, "lobby"));
	j = fk_find(&fa, "knock");
	TEST_ASSERT(j);
	snprintf(gid, sizeof(gid), "%s", json_string_value(json_object_get(j, "participant")));
	snprintf(kp2, sizeof(kp2), "%s", kp_of(400, 2));

	/* the same four messages from a guest of the live meeting and from
	 * one of an unknown meeting get the same answers */
	fk_clear(&fa);
	fk_clear(&fg);
	fk_clear(&fu);
	t0 = d.now + 100; /* when the first one arrives (tell: 100 ms a message) */
	for (int i = 0; i < 4; i++) {
		const char *kp = i < 2 ? kp_of(400, 1) : i == 2 ? kp2 : kp_of(400, 3);
		int ng = fg.n, nu = fu.n;
		tell(&d, g, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\"}", kp);
		tell(&d, u, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\"}", kp);
		replies_g[i] = fg.n - ng;
		replies_u[i] = fu.n - nu;
		TEST_EQ(replies_g[i], replies_u[i]);
	}
	/* the first went to the group at once; the repeat was dropped and the
	 * second one held, both silently; the third was refused */
	TEST_EQ(count_type(&fa, "mls_keypackage"), 1);
	TEST_EQ(replies_g[0] + replies_g[1] + replies_g[2], 0);
	TEST_EQ(replies_g[3], 1);
	TEST_ASSERT(strcmp(last_error(&fg), "rate_limited") == 0);
	TEST_ASSERT(strcmp(last_error(&fu), "rate_limited") == 0);
	/* the held one goes out once its time has come */
	room_tick(d.rooms, t0 + ROOM_KP_RELAY_MS - 1);
	TEST_EQ(count_type(&fa, "mls_keypackage"), 1);
	room_tick(d.rooms, t0 + ROOM_KP_RELAY_MS);
	TEST_EQ(count_type(&fa, "mls_keypackage"), 2);
	j = fk_find(&fa, "mls_keypackage");
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "keypackage")), kp2) == 0);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(j, "participant")), gid) == 0);

	/* a flood of new ones, at the connection's message rate for 10 s:
	 * the member gets at most one per 5 s, and keeps its connection */
	d.now = t0 + 2 * ROOM_KP_RELAY_MS;
	t0 = d.now;
	fk_clear(&fa);
	for (int i = 0; i < 100; i++) {
		tell(&d, g, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\"}",
		     kp_of(1500, (uint8_t)(10 + i)));
		if (i % 20 == 19)
			room_tick(d.rooms, d.now);
		fk_clear(&fg);
	}
	TEST_ASSERT(d.now - t0 <= 2 * ROOM_KP_RELAY_MS);
	TEST_ASSERT(count_type(&fa, "mls_keypackage") <= 3);
	sig_conn_free(g);
	sig_conn_free(u);
	fk_clear(&fg);
	fk_clear(&fu);

	/* a member's KeyPackages: the first at once, then the same pace */
	b = dconn(&d, &fb, 2);
	tell(&d, b, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"B\",\"host_key\":\"%s\"}",
	     d.room, d.key);
	fk_clear(&fa);
	tell(&d, b, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\"}", kp_of(400, 7));
	TEST_EQ(count_type(&fa, "mls_keypackage"), 1);
	tell(&d, b, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\"}", kp_of(400, 8));
	TEST_EQ(count_type(&fa, "mls_keypackage"), 1);
	room_tick(d.rooms, d.now + ROOM_KP_RELAY_MS);
	TEST_EQ(count_type(&fa, "mls_keypackage"), 2);

	/* a KeyPackage far larger than a real one is refused */
	fk_clear(&fb);
	d.now += 2 * ROOM_KP_RELAY_MS;
	tell(&d, b, "{\"type\":\"mls_keypackage\",\"keypackage\":\"%s\"}", kp_of(3000, 9));
	TEST_ASSERT(strcmp(last_error(&fb), "bad_field") == 0);
	TEST_EQ(count_type(&fa, "mls_keypackage"), 2);

	sig_conn_free(b);
	sig_conn_free(a);
	fk_clear(&fa);
	fk_clear(&fb);
	ds_close(&d);
	return 0;
}
