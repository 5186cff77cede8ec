/*
 * store — what must survive a restart, in SQLite (DESIGN.md §2 "store").
 *
 * Meeting records (room id, SHA-256 of the host credential, creation,
 * expiry, end, lock) and server settings such as the key that signs rejoin
 * tokens. Nothing about media, chat, names or invite secrets is stored: the
 * server never learns the invite secret, and names live only in memory.
 *
 * The database runs in WAL mode with synchronous=FULL: every write is one
 * transaction that either happened or did not, even if the process is killed
 * mid-write, and the command-line tools can create or end meetings while the
 * server runs. A `struct store` belongs to one thread.
 */
#ifndef CONCLAVE_STORE_H
#define CONCLAVE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/secret.h"

struct store;

enum {
	STORE_BUSY_TIMEOUT_MS = 5000,   /* wait for a writer in another process */
	STORE_SETTING_MAX = 1024,       /* bytes in one setting value */
};

/* One meeting as stored. Value type. Times are Unix seconds; 0 = unset. */
struct meeting_rec {
	char room[ROOM_ID_CHARS + 1];
	uint8_t host_hash[HASH_BYTES];
	int64_t created_at;
	int64_t expires_at;
	int64_t ended_at;
	bool locked;
};

/* Opens (creating if needed) DIR/conclave.db. Returns 0 or -errno. */
int store_open(const char *dir, struct store **out);
void store_close(struct store *st);

/*
 * Creates a meeting with a fresh random room id and host credential.
 * `expires_at` is a Unix time or 0 for none. Writes the room id and the host
 * credential (base64url) to the caller's buffers; only the credential's
 * SHA-256 is stored. Returns 0 or -errno.
 */
int store_meeting_create(struct store *st, int64_t expires_at,
			 char room[ROOM_ID_CHARS + 1],
			 char host_key[SECRET_CHARS + 1]);

/* Reads a meeting; -ENOENT if there is none with that id. */
int store_meeting_get(struct store *st, const char *room,
		      struct meeting_rec *out);

/*
 * store_meeting_get for a lookup a stranger can time (a knock on a room
 * id): the same database work whether the meeting exists or not, so that
 * the answer's timing says nothing about it (DESIGN.md §4, no existence
 * oracle). Every call reads one row that exists and misses one id that
 * does not: the meeting asked for and then an id that never exists, or,
 * when the meeting is missing, a decoy row (made with the schema, ended,
 * never listed) after it.
 */
int store_meeting_lookup(struct store *st, const char *room,
			 struct meeting_rec *out);

/* Is the meeting usable at `now` (not ended, not expired)? */
bool meeting_is_live(const struct meeting_rec *m, int64_t now);

/* Constant-time check of a base64url host credential against the record. */
bool meeting_host_key_ok(const struct meeting_rec *m, const char *host_key);

int store_meeting_end(struct store *st, const char *room, int64_t now);
int store_meeting_delete(struct store *st, const char *room);
int store_meeting_set_locked(struct store *st, const char *room, bool locked);

typedef void (store_meeting_h)(const struct meeting_rec *m, void *arg);
/* Calls h for every stored meeting, oldest first. Returns 0 or -errno. */
int store_meeting_list(struct store *st, store_meeting_h *h, void *arg);

/*
 * Returns the named server secret of `len` bytes, making and storing a
 * random one the first time. Returns 0 or -errno.
 */
int store_secret(struct store *st, const char *name, uint8_t *out, size_t len);

#endif
