/*
 * room_int.h — the objects of the control plane, shared by room.c (lobby,
 * membership) and media.c (media negotiation). Signaling thread only.
 */
#ifndef CONCLAVE_ROOM_INT_H
#define CONCLAVE_ROOM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "room/room.h"
#include "sfu/sfu.h"
#include "util/secret.h"

#include <jansson.h>

struct media_state;

enum { ROOM_HASH_BUCKETS = 1024 };

struct room {
	char id[ROOM_ID_CHARS + 1];
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
};

struct room_mgr {
	struct store *store;
	struct sfu *sfu;                /* NULL: no media plane (tests) */
	uint32_t next_id;               /* transport and track ids */
	struct room *buckets[ROOM_HASH_BUCKETS];
	size_t nrooms, nmembers, nlobby, nparticipants;
	uint64_t joins, knocks, admits, denies, host_joins;
};


/* room.c */
void room__send_json(struct participant *p, json_t *msg);

/* media.c */
void media__on_admitted(struct participant *p);
void media__on_leave(struct participant *p);

#endif
