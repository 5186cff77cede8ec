/*
 * room_int.h — the objects of the control plane, shared by room.c (lobby,
 * membership) and media.c (media negotiation). Signaling thread only.
 */
#ifndef CONCLAVE_ROOM_INT_H
#define CONCLAVE_ROOM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "room/room.h"
#include "sfu/sfu.h"
#include "util/secret.h"

#include <jansson.h>

struct media_state;

enum { ROOM_HASH_BUCKETS = 1024 };

enum {
	/* removals remembered (access.c): all meetings together, and one
	 * meeting's before they are merged into one entry */
	ROOM_REVOKED_MAX = 4096,
	ROOM_REVOKED_PER_MEETING = 64,
	REJOIN_KEY_BYTES = 32,          /* HMAC-SHA256 key for rejoin tokens */
};

/*
 * A removal by a host (access.c). It is kept REJOIN_TTL_S after it, the
 * longest a token issued before it can live, whether or not its meeting is
 * still in memory: a meeting that empties is freed, a removal must not go
 * with it. `any`: every token of the meeting issued up to `at` is void (a
 * meeting's removals merged into one).
 */
struct revoked {
	uint8_t room[ROOM_ID_BYTES];
	uint8_t pid[PARTICIPANT_ID_BYTES];
	bool any;
	int64_t at;                     /* unix s */
};

struct room {
	char id[ROOM_ID_CHARS + 1];
	bool locked;                    /* cached from the store */
	char speaker[PARTICIPANT_ID_CHARS + 1];      /* active speaker (media.c) */
	char speaker_next[PARTICIPANT_ID_CHARS + 1]; /* candidate taking over */
	uint64_t speaker_since_ms;      /* since when the candidate leads */
	bool mls_group;                 /* an MLS group exists (e2ee.c) */
	uint64_t mls_epoch;             /* the epoch the next commit must carry */
	unsigned worker;                /* media worker the meeting lives on */
	struct participant *members;   /* arrival order */
	struct participant *lobby;     /* arrival order */
	size_t nmembers, nlobby;
	struct room *hnext;
};

struct participant {
	struct room_mgr *mgr;
	struct room *room;             /* NULL unless member or knocking on a live room */
	struct participant *next;      /* in room->members or room->lobby */
	enum participant_state state;
	bool host;
	char id[PARTICIPANT_ID_CHARS + 1];
	char name[NAME_MAX_BYTES + 1];
	participant_send_h *send;
	void *transport;
	struct media_state *media;      /* media.c; NULL until publishing */
	int64_t lobby_since;            /* unix s when it started to wait */
	bool in_group;                  /* in the meeting's MLS group, as commits said */
	bool knock_pending;             /* hosts not told yet (room_flush_knocks) */
	char knock_later[ROOM_ID_CHARS + 1]; /* the live meeting it knocked on
					  * while max_meetings were open ("":
					  * none); room_tick knocks again */
	bool mls_create;                /* told to create the group on joining */
	char *keypackage;               /* latest KeyPackage (base64url), owned */
	char *proof;                    /* its invite proof (base64url), owned */
	uint64_t kp_at_ms;              /* when one last went out (e2ee.c) */
	bool kp_sent;                   /* kp_at_ms is set (since admission) */
	bool kp_due;                    /* to the group at room_flush_knocks */
	bool kp_held;                   /* to the group once ROOM_KP_RELAY_MS
					 * after kp_at_ms (room_tick) */
	struct participant *all_next, **all_pprev; /* in mgr->all */
};

struct room_mgr {
	struct store *store;
	struct sfu *sfu;                /* NULL: no media plane (tests) */
	uint32_t next_id;               /* transport and track ids */
	struct room *buckets[ROOM_HASH_BUCKETS];
	size_t nrooms, nmembers, nlobby, nparticipants;
	uint64_t joins, knocks, admits, denies, host_joins;
	uint64_t rejoins, removes, ends, lobby_timeouts, lobby_refused;
	uint64_t speaker_changes, busy_refused;
	uint64_t rejoin_checks, host_key_checks; /* MACs and hashes computed for
					  * joins (tests: the same for every
					  * kind of room id) */
	struct room_limits lim;         /* room_mgr_set_limits */
	uint8_t rejoin_key[REJOIN_KEY_BYTES];
	struct revoked revoked[ROOM_REVOKED_MAX]; /* removals, unordered */
	size_t nrevoked;
	int64_t revoked_all_at;         /* the table was full: every token
					 * issued up to then is void (0: no) */
	void (*defer)(void *arg);       /* schedules room_flush_knocks soon */
	void *defer_arg;
	bool flush_scheduled;           /* defer was asked, flush not run yet */
	FILE *test_tap;                 /* --test-tap: relayed MLS messages */
	bool test_intruder;             /* --test-intruder */
	struct participant *all;        /* every participant, for timers */
};


/* room.c */
void room__send_json(struct participant *p, json_t *msg);
enum room_who { TO_MEMBERS, TO_HOSTS, TO_GROUP };
void room__broadcast(struct room *r, json_t *msg, enum room_who who,
		     const struct participant *skip);
void room__admit(struct room *r, struct participant *p);
void room__admit_from_lobby(struct room *r, struct participant *t);
void room__maybe_free(struct room_mgr *m, struct room *r);
struct room *room__find_room(struct room_mgr *m, const char *id);
int room__get_or_make(struct room_mgr *m, const char *id, struct room **out);
/* Puts guest p (PS_LOBBY) in the lobby of room_id, opening the room:
 * -EBUSY at max_meetings, -ENOSPC when its lobby is full (p stays out). */
int room__knock(struct room_mgr *m, struct participant *p, const char *room_id);
struct participant *room__find(struct participant *head, const char *id);
json_t *room__participant_json(const struct participant *p);
/* Runs room_flush_knocks soon (through defer: once until it ran), or at
 * once without defer. */
void room__flush_soon(struct room_mgr *m);

/* access.c */
/* Is `token` authentic, unexpired and for room_id? Writes the member's id,
 * role and the token's expiry (unix s) if so. */
bool room__rejoin_ok(struct room_mgr *m, const char *room_id, const char *token,
		     char pid[PARTICIPANT_ID_CHARS + 1], bool *host,
		     int64_t *expiry);
/* Remembers that a host removed `pid` from room_id (at `now`, unix s). */
void room__revoke(struct room_mgr *m, const char *room_id, const char *pid,
		  int64_t now);
/* Was `pid` removed from room_id, or is its token (expiring at
 * token_exp) one of those voided with a merged entry? */
bool room__revoked(struct room_mgr *m, const char *room_id, const char *pid,
		   int64_t token_exp, int64_t now);
struct meeting_rec;
/* meeting_host_key_ok, counted in host_key_checks. */
bool room__host_key_ok(struct room_mgr *m, const struct meeting_rec *rec,
		       const char *host_key);

/* e2ee.c */
void e2ee__on_admitted(struct participant *p);
void e2ee__after_joined(struct participant *p);
void e2ee__on_leave(struct participant *p);
json_t *e2ee__joined_info(const struct participant *p);
/* A KeyPackage due (kp_due) or held (kp_held, once its time came) goes to
 * the group. */
void e2ee__flush(struct participant *p);
void e2ee__tick(struct participant *p, uint64_t now_ms);

/* media.c */
void media__on_admitted(struct participant *p);
void media__on_leave(struct participant *p);

#endif
