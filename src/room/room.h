/*
 * room — meetings in memory: who is in the lobby, who was admitted, who is
 * a host (DESIGN.md §4). This is the control plane; it runs on the
 * signaling thread only and never holds a media key or an invite secret.
 *
 * Access model in brief: everyone enters through the lobby. A participant
 * whose join carries the meeting's host credential is admitted as a host at
 * once; anyone else waits until a host admits them. A join for an unknown,
 * ended, expired or locked meeting gets exactly the same answer as a join for
 * a live one ("lobby") and then simply never sees a host: the server gives a
 * stranger no way to tell whether the meeting exists.
 *
 * Ownership: the room_mgr owns every room; a room lives while it has
 * members or knocking guests. A participant is owned by its connection (the
 * signaling layer), which calls room_participant_free when it closes.
 */
#ifndef CONCLAVE_ROOM_H
#define CONCLAVE_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct room_mgr;
struct participant;
struct store;

enum {
	PARTICIPANT_ID_BYTES = 8,     /* 64 random bits, unique per server */
	PARTICIPANT_ID_CHARS = 11,
	NAME_MAX_BYTES = 64,          /* display name, UTF-8 bytes */
	/* hard caps; the settings meeting_max_lobby, meeting_max_members and
	 * mls_max_message (conf.h) choose at most these */
	ROOM_MAX_LOBBY = 50,          /* knocking guests shown to hosts */
	ROOM_MAX_MEMBERS = 100,       /* admitted participants per meeting */
	ROOM_MLS_MAX = 196608,        /* bytes of one decoded MLS message */
	ROOM_MEETINGS_DEFAULT = 100,  /* meetings in memory at once */
	REJOIN_TTL_S = 300,           /* a rejoin token lasts five minutes */
	REJOIN_TOKEN_CHARS = 66,      /* base64url of 49 bytes */
	LOBBY_TIMEOUT_S = 600,        /* a guest nobody admits is sent away */
	ROOM_CHECK_MS = 2000,         /* period of room_tick */
	/* a participant's KeyPackage reaches the group at most this often
	 * (the web client sends its own again every 10 s from the lobby:
	 * web/src/e2ee/session.ts, LOBBY_REPUBLISH_MS) */
	ROOM_KP_RELAY_MS = 5000,
};

/* Delivers one signaling message (JSON text) to a participant's transport. */
typedef void (participant_send_h)(void *transport, const char *text,
				  size_t len);

enum participant_state {
	PS_NEW,       /* connected, has not asked to join */
	PS_LOBBY,     /* waiting to be admitted */
	PS_MEMBER,    /* admitted */
	PS_DENIED,    /* refused by a host; this connection may not knock again */
};

int room_mgr_new(struct store *st, struct room_mgr **out);
void room_mgr_free(struct room_mgr *m);

/* Capacity limits (conf.h's settings of the same names; docs/protocol.md,
 * "Limits"). room_mgr_new starts with the hard caps and
 * ROOM_MEETINGS_DEFAULT meetings. */
struct room_limits {
	size_t max_meetings;            /* meetings in memory at once */
	size_t max_members;             /* <= ROOM_MAX_MEMBERS */
	size_t max_lobby;               /* <= ROOM_MAX_LOBBY */
	size_t max_tracks;              /* <= SFU_MAX_TRACKS (sfu.h) */
	size_t mls_max;                 /* <= ROOM_MLS_MAX */
};

/* Sets the limits; a field that is 0 or above its hard cap takes the cap
 * (max_meetings: ROOM_MEETINGS_DEFAULT). They apply to what comes next:
 * nobody already in is sent away. */
void room_mgr_set_limits(struct room_mgr *m, const struct room_limits *l);

/* A new participant for a connection. NULL on allocation failure. */
struct participant *room_participant_new(struct room_mgr *m,
					 participant_send_h *send,
					 void *transport);
/* Leaves whatever room the participant is in, tells the others, frees it. */
void room_participant_free(struct participant *p);

enum participant_state room_participant_state(const struct participant *p);
const char *room_participant_id(const struct participant *p);

/*
 * Joins (or knocks on) meeting `room` under display name `name`, with an
 * optional host credential or rejoin token. Returns 0 (the participant was
 * told "joined" or "lobby"), -EALREADY if it already joined, -ENOSPC if the
 * meeting's member list is full, -EBUSY if the meeting is not open and the
 * server already holds max_meetings (to a host or a rejoin only: a guest's
 * knock then waits like a knock on an unknown meeting), or -EIO on a
 * storage failure.
 */
int room_join(struct room_mgr *m, struct participant *p, const char *room,
	      const char *name, const char *host_key, const char *rejoin,
	      bool intruder);

/* Host actions on a guest in the lobby, by participant id. Return 0,
 * -EPERM (caller is not a host in a meeting) or -ENOENT (no such guest). */
int room_admit(struct participant *host, const char *target);
int room_deny(struct participant *host, const char *target);

/* Host actions on members (access.c). Same returns; room_end and
 * room_lock may also return -EIO (storage). */
int room_remove(struct participant *host, const char *target);
int room_promote(struct participant *host, const char *target);
int room_mute(struct participant *host, const char *target, bool video);
int room_lock(struct participant *host, bool locked);
int room_end(struct participant *host);

/* Is `token` a well-formed, authentic, unexpired rejoin token for `room`?
 * (An HMAC and no database work: it may run before the rate limit.) */
bool room_rejoin_valid(struct room_mgr *m, const char *room, const char *token);

/* A fresh rejoin token for a member into out[REJOIN_TOKEN_CHARS + 1];
 * -EPERM if it is not a member. */
int room_rejoin_token(const struct participant *p, char *out);

/* Periodic work (every ROOM_CHECK_MS; now_ms: the clock of sig_conn_input):
 * meetings ended or expired in the store end for their members; guests
 * waiting longer than LOBBY_TIMEOUT_S are sent away; KeyPackages held back
 * by ROOM_KP_RELAY_MS go to the group. */
void room_tick(struct room_mgr *m, uint64_t now_ms);

/* ---- media (media.c) ---------------------------------------------------- */

struct sfu;
struct sfu_event;

/* Test-only switches (conf: insecure_test): record relayed MLS messages in
 * tap_dir/mls.tap; let joins marked "intruder" in without lobby or MLS.
 * Returns 0 or -errno. */
int room_mgr_set_test(struct room_mgr *m, const char *tap_dir, bool intruder);

/*
 * Hosts learn of a knock a few milliseconds after the guest got its answer,
 * so that the guest's answer takes exactly as long whether the meeting has
 * hosts, exists or not (no timing oracle); KeyPackages go to the group the
 * same way. `defer` schedules a call of room_flush_knocks on the signaling
 * thread (it is asked once until that call: a stream of knocks cannot put
 * the call off); without one, hosts are told at once (tests).
 */
void room_mgr_set_defer(struct room_mgr *m, void (*defer)(void *arg), void *arg);
void room_flush_knocks(struct room_mgr *m);

/* Gives the room layer the media plane (NULL: signaling only). */
void room_mgr_set_sfu(struct room_mgr *m, struct sfu *sfu);

struct json_t;

/*
 * The member's publish offer (SDP text): answers with "publish_answer",
 * opens or updates its publisher transport and offers its tracks to the
 * others. `sources` (a JSON object mid -> "microphone"|"camera"|"screen",
 * may be NULL) says what each m-line carries. Returns 0, -EPERM (not a
 * member), -EBADMSG (SDP unusable), -EINVAL (bad sources), -EDQUOT (more
 * than max_tracks tracks) or -ENOMEM.
 */
int room_publish(struct participant *p, const char *sdp, size_t len,
		 const struct json_t *sources);
/* 0 if `sources` (may be NULL) is well-formed, else -EINVAL. */
int room_sources_check(const struct json_t *sources);

/* The member's answer to subscribe offer `version`. Same returns. */
int room_subscribe_answer(struct participant *p, const char *sdp, size_t len,
			  int64_t version);

/*
 * The video the member shows now (`view`): `tiles`, a JSON array of
 * {mid, width, height} (subscribe m-lines, device pixels). Listed videos
 * get the simulcast layer that fits, the others pause. Returns 0, -EPERM
 * (not a member with media) or -EINVAL (an entry is malformed).
 */
int room_view(struct participant *p, const struct json_t *tiles);

/* The member asks for an ICE restart of its subscribe connection: a new
 * subscribe offer with new ICE credentials follows. */
int room_subscribe_restart(struct participant *p);

/* An event from the media plane (transport up, failed, lost). */
void room_media_event(struct room_mgr *m, const struct sfu_event *ev);

/* ---- MLS delivery service (e2ee.c) ---------------------------------------- */

/* A participant's KeyPackage (base64url MLSMessage) and optional invite
 * proof, at now_ms; relayed to the group's members, at most once per
 * ROOM_KP_RELAY_MS (a repeat within that time is dropped, a new one is
 * held until then). -EPERM, -EBADMSG, -ENOMEM, or -EAGAIN: one is held
 * already (this one is dropped). */
int room_mls_keypackage(struct participant *p, const char *kp,
			const char *proof, uint64_t now_ms);

/* A commit (and its Welcome) from a group member, with the participant ids
 * it adds and removes (JSON arrays of strings, may be NULL). Accepted if
 * its epoch is current, else refused with mls_commit_rejected. */
int room_mls_commit(struct participant *p, const char *commit,
		    const char *welcome, struct json_t *add, struct json_t *remove);

/* An application message (chat, hand raise): relayed to the group. */
int room_mls_app(struct participant *p, const char *msg);

/* Leaves the meeting or lobby; the participant returns to PS_NEW. */
void room_leave(struct participant *p);

/* Appends the module's Prometheus metrics. */
void room_metrics(struct room_mgr *m, struct wbuf *b);

#endif
