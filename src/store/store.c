/* store — SQLite persistence (see store.h). */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "util/log.h"

struct store {
	sqlite3 *db;
};

/* store_meeting_lookup's second lookups: a row that always exists (made
 * with the schema) and an id that never does ('~' sorts after every
 * base64url character, so it lands at the far end of the index as the
 * decoy does at the near end) */
#define STORE_DECOY_ROOM ""
#define STORE_MISSING_ROOM "~"

/* Schema version 1. Later versions add ALTERs keyed on user_version. */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meetings ("
	"  room TEXT PRIMARY KEY,"
	"  host_hash BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL DEFAULT 0,"
	"  ended_at INTEGER NOT NULL DEFAULT 0,"
	"  locked INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE IF NOT EXISTS settings ("
	"  name TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL"
	");"
	/* the decoy of store_meeting_lookup: an id no request can carry (room
	 * ids are 22 base64url characters), ended, never listed */
	"INSERT OR IGNORE INTO meetings(room, host_hash, created_at, ended_at)"
	"  VALUES ('" STORE_DECOY_ROOM "', zeroblob(32), 0, 1);"
	"PRAGMA user_version = 1;";

static int sq_err(struct store *st, const char *what)
{
	log_error("store", "%s: %s", what, sqlite3_errmsg(st->db));
	return -EIO;
}

int store_open(const char *dir, struct store **out)
{
	char path[4096];
	struct store *st;
	char *msg = NULL;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(path, sizeof(path), "%s/conclave.db", dir) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_error("store", "cannot open database in %s: %s", dir,
			  st->db ? sqlite3_errmsg(st->db) : "out of memory");
		sqlite3_close(st->db);
		free(st);
		return -EIO;
	}
	/* the database holds the rejoin-token key: owner only */
	if (chmod(path, 0600) != 0)
		log_warn("store", "cannot restrict the database file's permissions");
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (sqlite3_exec(st->db,
			 "PRAGMA journal_mode = WAL;"
			 "PRAGMA synchronous = FULL;"
			 "PRAGMA foreign_keys = ON;",
			 NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(st->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("store", "cannot prepare database: %s",
			  msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(st->db);
		free(st);
		return -EIO;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st);
}

int store_meeting_create(struct store *st, int64_t expires_at,
			 char room[ROOM_ID_CHARS + 1],
			 char host_key[SECRET_CHARS + 1])
{
	uint8_t key[HOST_CRED_BYTES], hash[HASH_BYTES];
	char r[ROOM_ID_CHARS + 1];
	sqlite3_stmt *s = NULL;
	int rc, tries;

	for (tries = 0; tries < 3; tries++) {
		if (secret_random_b64url(ROOM_ID_BYTES, r) ||
		    secret_random(key, sizeof(key)) ||
		    secret_sha256(key, sizeof(key), hash))
			return -EIO;
		if (sqlite3_prepare_v2(st->db,
				       "INSERT INTO meetings(room, host_hash, "
				       "created_at, expires_at) VALUES (?,?,?,?)",
				       -1, &s, NULL) != SQLITE_OK)
			return sq_err(st, "prepare insert");
		sqlite3_bind_text(s, 1, r, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 2, hash, sizeof(hash), SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
		sqlite3_bind_int64(s, 4, expires_at);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc == SQLITE_DONE) {
			memcpy(room, r, sizeof(r));
			b64url_encode(key, sizeof(key), host_key);
			secret_wipe(key, sizeof(key));
			return 0;
		}
		if (rc != SQLITE_CONSTRAINT) /* a 2^-128 collision: retry */
			break;
	}
	secret_wipe(key, sizeof(key));
	return sq_err(st, "insert meeting");
}

static void row_to_rec(sqlite3_stmt *s, struct meeting_rec *m)
{
	const unsigned char *room = sqlite3_column_text(s, 0);
	const void *h = sqlite3_column_blob(s, 1);

	memset(m, 0, sizeof(*m));
	if (room)
		snprintf(m->room, sizeof(m->room), "%s", (const char *)room);
	if (h && sqlite3_column_bytes(s, 1) == HASH_BYTES)
		memcpy(m->host_hash, h, HASH_BYTES);
	m->created_at = sqlite3_column_int64(s, 2);
	m->expires_at = sqlite3_column_int64(s, 3);
	m->ended_at = sqlite3_column_int64(s, 4);
	m->locked = sqlite3_column_int(s, 5) != 0;
}

#define MEETING_COLS "room, host_hash, created_at, expires_at, ended_at, locked"

int store_meeting_get(struct store *st, const char *room,
		      struct meeting_rec *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT " MEETING_COLS " FROM meetings WHERE room = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return sq_err(st, "prepare select");
	sqlite3_bind_text(s, 1, room, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row_to_rec(s, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = -ENOENT;
	} else {
		rc = sq_err(st, "select meeting");
	}
	sqlite3_finalize(s);
	return rc;
}

int store_meeting_lookup(struct store *st, const char *room,
			 struct meeting_rec *out)
{
	struct meeting_rec other;
	int rc = store_meeting_get(st, room, out);

	/* one lookup that finds a row and one that does not, either way */
	(void)store_meeting_get(st, rc == 0 ? STORE_MISSING_ROOM : STORE_DECOY_ROOM,
				&other);
	return rc;
}

bool meeting_is_live(const struct meeting_rec *m, int64_t now)
{
	return m->ended_at == 0 && (m->expires_at == 0 || now < m->expires_at);
}

bool meeting_host_key_ok(const struct meeting_rec *m, const char *host_key)
{
	uint8_t key[HOST_CRED_BYTES], hash[HASH_BYTES];
	bool ok;

	if (!host_key || b64url_decode(host_key, key, sizeof(key)) != 0)
		return false;
	ok = secret_sha256(key, sizeof(key), hash) == 0 &&
	     secret_equal(hash, m->host_hash, HASH_BYTES);
	secret_wipe(key, sizeof(key));
	return ok;
}

static int exec_room(struct store *st, const char *sql, const char *room,
		     int64_t arg)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return sq_err(st, "prepare update");
	sqlite3_bind_int64(s, 1, arg);
	sqlite3_bind_text(s, 2, room, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return sq_err(st, "update meeting");
	return sqlite3_changes(st->db) > 0 ? 0 : -ENOENT;
}

int store_meeting_end(struct store *st, const char *room, int64_t now)
{
	return exec_room(st,
			 "UPDATE meetings SET ended_at = ? WHERE room = ?"
			 " AND ended_at = 0",
			 room, now);
}

int store_meeting_delete(struct store *st, const char *room)
{
	return exec_room(st, "DELETE FROM meetings WHERE room = ?2",
			 room, 0);
}

int store_meeting_set_locked(struct store *st, const char *room, bool locked)
{
	return exec_room(st, "UPDATE meetings SET locked = ? WHERE room = ?",
			 room, locked ? 1 : 0);
}

int store_meeting_list(struct store *st, store_meeting_h *h, void *arg)
{
	sqlite3_stmt *s = NULL;
	struct meeting_rec m;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT " MEETING_COLS
			       " FROM meetings WHERE room <> '" STORE_DECOY_ROOM "'"
			       " ORDER BY created_at, room",
			       -1, &s, NULL) != SQLITE_OK)
		return sq_err(st, "prepare list");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_to_rec(s, &m);
		h(&m, arg);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : sq_err(st, "list meetings");
}

int store_secret(struct store *st, const char *name, uint8_t *out, size_t len)
{
	sqlite3_stmt *s = NULL;
	uint8_t fresh[STORE_SETTING_MAX];
	int rc;

	if (len > sizeof(fresh))
		return -EINVAL;
	if (secret_random(fresh, len))
		return -EIO;
	/* insert-if-absent, then read back: two processes agree on one value */
	if (sqlite3_prepare_v2(st->db,
			       "INSERT OR IGNORE INTO settings(name, value)"
			       " VALUES (?, ?)",
			       -1, &s, NULL) != SQLITE_OK)
		return sq_err(st, "prepare secret");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, fresh, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	secret_wipe(fresh, len);
	if (rc != SQLITE_DONE)
		return sq_err(st, "insert secret");

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM settings WHERE name = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return sq_err(st, "prepare secret read");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && (size_t)sqlite3_column_bytes(s, 0) == len) {
		memcpy(out, sqlite3_column_blob(s, 0), len);
		rc = 0;
	} else {
		rc = rc == SQLITE_ROW ? -EINVAL : sq_err(st, "read secret");
	}
	sqlite3_finalize(s);
	return rc;
}
