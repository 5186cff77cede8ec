/* Unit tests for src/store: meetings, host credentials, secrets. */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/log.h"

/* Makes a fresh temporary data directory; the path stays valid. */
static const char *tmpdir(void)
{
	static char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/conclave-store-XXXXXX");
	return mkdtemp(dir);
}

struct count {
	int n;
	char last[ROOM_ID_CHARS + 1];
};

static void count_h(const struct meeting_rec *m, void *arg)
{
	struct count *c = arg;
	c->n++;
	memcpy(c->last, m->room, sizeof(c->last));
}

int test_store_meetings(void)
{
	const char *dir = tmpdir();
	struct store *st, *st2;
	struct meeting_rec m;
	char room[ROOM_ID_CHARS + 1], key[SECRET_CHARS + 1], bad[SECRET_CHARS + 1];
	struct count cnt = { 0 };
	int64_t now = (int64_t)time(NULL);

	TEST_ASSERT(dir);
	TEST_EQ(store_open(dir, &st), 0);
	TEST_EQ(store_meeting_create(st, 0, room, key), 0);
	TEST_EQ(strlen(room), ROOM_ID_CHARS);
	TEST_EQ(strlen(key), SECRET_CHARS);
	TEST_EQ(store_meeting_get(st, room, &m), 0);
	TEST_ASSERT(meeting_is_live(&m, now));
	TEST_ASSERT(meeting_host_key_ok(&m, key));
	memcpy(bad, key, sizeof(bad));
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	TEST_ASSERT(!meeting_host_key_ok(&m, bad));
	TEST_ASSERT(!meeting_host_key_ok(&m, "short"));
	TEST_ASSERT(!meeting_host_key_ok(&m, NULL));
	TEST_EQ(store_meeting_get(st, "AAAAAAAAAAAAAAAAAAAAAA", &m), -ENOENT);

	/* a second handle (the CLI while the server runs) sees the same rows */
	TEST_EQ(store_open(dir, &st2), 0);
	TEST_EQ(store_meeting_set_locked(st2, room, true), 0);
	TEST_EQ(store_meeting_get(st, room, &m), 0);
	TEST_ASSERT(m.locked);
	TEST_EQ(store_meeting_end(st2, room, now), 0);
	TEST_EQ(store_meeting_end(st2, room, now), -ENOENT); /* already ended */
	TEST_EQ(store_meeting_get(st, room, &m), 0);
	TEST_ASSERT(!meeting_is_live(&m, now));

	TEST_EQ(store_meeting_create(st, now + 100, room, key), 0);
	TEST_EQ(store_meeting_get(st, room, &m), 0);
	TEST_ASSERT(meeting_is_live(&m, now));
	TEST_ASSERT(!meeting_is_live(&m, now + 100));
	TEST_EQ(store_meeting_list(st, count_h, &cnt), 0);
	TEST_EQ(cnt.n, 2);
	TEST_EQ(store_meeting_delete(st, room), 0);
	TEST_EQ(store_meeting_delete(st, room), -ENOENT);
	store_close(st2);
	store_close(st);
	return 0;
}

/* The knock path's lookup answers like store_meeting_get; its decoy row
 * is never live, never listed, and not duplicated by reopening. */
int test_store_lookup_decoy(void)
{
	const char *dir = tmpdir();
	struct store *st;
	struct meeting_rec m, g;
	char room[ROOM_ID_CHARS + 1], key[SECRET_CHARS + 1];
	struct count cnt = { 0 };
	int64_t now = (int64_t)time(NULL);

	TEST_ASSERT(dir);
	TEST_EQ(store_open(dir, &st), 0);
	TEST_EQ(store_meeting_create(st, 0, room, key), 0);
	TEST_EQ(store_meeting_lookup(st, room, &m), 0);
	TEST_EQ(store_meeting_get(st, room, &g), 0);
	TEST_MEMEQ(&m, &g, sizeof(m));
	TEST_ASSERT(meeting_is_live(&m, now));
	TEST_EQ(store_meeting_lookup(st, "AAAAAAAAAAAAAAAAAAAAAA", &m), -ENOENT);
	/* the decoy exists for the lookup's sake only */
	TEST_EQ(store_meeting_get(st, "", &g), 0);
	TEST_ASSERT(!meeting_is_live(&g, now));
	TEST_ASSERT(!meeting_host_key_ok(&g, key));
	store_close(st);
	TEST_EQ(store_open(dir, &st), 0);
	TEST_EQ(store_meeting_list(st, count_h, &cnt), 0);
	TEST_EQ(cnt.n, 1);
	TEST_EQ(strcmp(cnt.last, room), 0);
	store_close(st);
	return 0;
}

int test_store_secret_stable(void)
{
	const char *dir = tmpdir();
	struct store *a, *b;
	uint8_t s1[32], s2[32], s3[32];

	TEST_ASSERT(dir);
	TEST_EQ(store_open(dir, &a), 0);
	TEST_EQ(store_secret(a, "rejoin", s1, sizeof(s1)), 0);
	TEST_EQ(store_secret(a, "rejoin", s2, sizeof(s2)), 0);
	TEST_MEMEQ(s1, s2, sizeof(s1));
	store_close(a);
	TEST_EQ(store_open(dir, &b), 0); /* survives a restart */
	TEST_EQ(store_secret(b, "rejoin", s3, sizeof(s3)), 0);
	TEST_MEMEQ(s1, s3, sizeof(s1));
	TEST_EQ(store_secret(b, "other", s3, sizeof(s3)), 0);
	TEST_ASSERT(memcmp(s1, s3, sizeof(s1)) != 0);
	TEST_ASSERT(store_secret(b, "rejoin", s3, 16) < 0); /* wrong size */
	store_close(b);
	return 0;
}

int test_store_open_fails_cleanly(void)
{
	struct store *st = NULL;
	log_set_level(LOG_ERROR);
	/* a data "directory" that is a file */
	TEST_ASSERT(store_open("/dev/null/x", &st) < 0);
	TEST_ASSERT(st == NULL);
	log_set_level(LOG_INFO);
	return 0;
}
