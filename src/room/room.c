/*
 * room — lobby, admission and membership (see room.h).
 *
 * Rooms are kept in a small chained hash table keyed by room id. Each room
 * keeps two lists: admitted members and knocking guests, both in arrival
 * order. All messages are built with jansson and sent through the
 * participant's transport callback; a failure to build one (out of memory)
 * loses that message, never the room.
 */
#include "room/room.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "metrics/metrics.h"
#include "store/store.h"
#include "util/log.h"
#include "util/json.h"
#include "util/secret.h"

#include "room/room_int.h"

/* ---- lists and table ---------------------------------------------------- */

static size_t room_hash(const char *id)
{
	size_t h = 5381;
	while (*id)
		h = h * 33 + (unsigned char)*id++;
	return h % ROOM_HASH_BUCKETS;
}

struct room *room__find_room(struct room_mgr *m, const char *id)
{
	struct room *r;
	for (r = m->buckets[room_hash(id)]; r; r = r->hnext)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

/* The media worker for a meeting that opens: the one carrying the fewest
 * members and guests now, then the fewest meetings, then the first. A
 * worker is one core, so the busiest one sets the server's capacity. (A
 * hash of the meeting id, the rule until 2026-11-29, puts 10 or more of
 * 16 meetings on one of two workers 45 % of the time.) */
static unsigned place(const struct room_mgr *m)
{
	size_t people[SFU_MAX_WORKERS] = { 0 }, rooms[SFU_MAX_WORKERS] = { 0 };
	unsigned n = sfu_workers(m->sfu), best = 0, w;
	const struct room *r;

	if (n <= 1)
		return 0;
	for (size_t b = 0; b < ROOM_HASH_BUCKETS; b++)
		for (r = m->buckets[b]; r; r = r->hnext)
			if (r->worker < n) {
				people[r->worker] += r->nmembers + r->nlobby;
				rooms[r->worker]++;
			}
	for (w = 1; w < n; w++)
		if (people[w] < people[best] ||
		    (people[w] == people[best] && rooms[w] < rooms[best]))
			best = w;
	return best;
}

int room__get_or_make(struct room_mgr *m, const char *id, struct room **out)
{
	struct room *r = room__find_room(m, id);
	size_t h;

	if (r) {
		*out = r;
		return 0;
	}
	if (m->nrooms >= m->lim.max_meetings)
		return -EBUSY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->worker = m->sfu ? place(m) : 0;
	h = room_hash(id);
	r->hnext = m->buckets[h];
	m->buckets[h] = r;
	m->nrooms++;
	*out = r;
	return 0;
}

void room__maybe_free(struct room_mgr *m, struct room *r)
{
	struct room **pp;

	if (r->members || r->lobby)
		return;
	for (pp = &m->buckets[room_hash(r->id)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == r) {
			*pp = r->hnext;
			break;
		}
	}
	m->nrooms--;
	free(r);
}

static void list_append(struct participant **head, struct participant *p)
{
	while (*head)
		head = &(*head)->next;
	p->next = NULL;
	*head = p;
}

static void list_remove(struct participant **head, struct participant *p)
{
	for (; *head; head = &(*head)->next) {
		if (*head == p) {
			*head = p->next;
			p->next = NULL;
			return;
		}
	}
}

struct participant *room__find(struct participant *head, const char *id)
{
	for (; head; head = head->next)
		if (strcmp(head->id, id) == 0)
			return head;
	return NULL;
}

/* ---- messages ----------------------------------------------------------- */

void room__send_json(struct participant *p, json_t *msg)
{
	char *text = json_take_text(msg);

	if (!text)
		return;
	p->send(p->transport, text, strlen(text));
	free(text);
}

json_t *room__participant_json(const struct participant *p)
{
	return json_pack("{s:s, s:s, s:s}", "id", p->id, "name", p->name,
			 "role", p->host ? "host" : "guest");
}

static void send_joined(struct participant *p)
{
	json_t *list = json_array(), *knocks = json_array();
	struct participant *o;

	if (!list || !knocks) {
		json_decref(list);
		json_decref(knocks);
		return;
	}
	for (o = p->room->members; o; o = o->next)
		json_array_append_new(list, room__participant_json(o));
	if (p->host)
		for (o = p->room->lobby; o; o = o->next)
			json_array_append_new(knocks,
					      json_pack("{s:s, s:s}", "participant",
							o->id, "name", o->name));
	char token[REJOIN_TOKEN_CHARS + 1] = "";
	json_t *j;

	room_rejoin_token(p, token);
	j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:o}", "type", "joined",
		      "participant", p->id, "role", p->host ? "host" : "guest",
		      "participants", list, "knocks", knocks, "locked",
		      p->room->locked, "rejoin", token, "mls",
		      e2ee__joined_info(p));
	secret_wipe(token, sizeof(token));
	room__send_json(p, j);
}

/* Sends a copy of msg to the members `who` names, except `skip`. Takes
 * ownership of msg. */
void room__broadcast(struct room *r, json_t *msg, enum room_who who,
		     const struct participant *skip)
{
	struct participant *o;
	char *text = json_take_text(msg);

	if (!text)
		return;
	if (who == TO_GROUP && r->members && r->members->mgr->test_tap) {
		/* --test-tap: what the server relays, to show it is ciphertext */
		fprintf(r->members->mgr->test_tap, "%s\n", text);
		fflush(r->members->mgr->test_tap);
	}
	for (o = r->members; o; o = o->next)
		if (o != skip && (who == TO_MEMBERS || (who == TO_HOSTS && o->host) ||
				  (who == TO_GROUP && o->in_group)))
			o->send(o->transport, text, strlen(text));
	free(text);
}

/* ---- API ---------------------------------------------------------------- */

int room_mgr_new(struct store *st, struct room_mgr **out)
{
	struct room_mgr *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	m->store = st;
	room_mgr_set_limits(m, &(struct room_limits){ 0 });
	/* the rejoin key survives restarts, so tokens issued before one still
	 * work after it (docs/security.md, "Rejoin tokens") */
	rc = store_secret(st, "rejoin-key", m->rejoin_key, sizeof(m->rejoin_key));
	if (rc) {
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static size_t clamp(size_t v, size_t cap)
{
	return v == 0 || v > cap ? cap : v;
}

void room_mgr_set_limits(struct room_mgr *m, const struct room_limits *l)
{
	m->lim.max_meetings = l->max_meetings ? l->max_meetings : ROOM_MEETINGS_DEFAULT;
	m->lim.max_members = clamp(l->max_members, ROOM_MAX_MEMBERS);
	m->lim.max_lobby = clamp(l->max_lobby, ROOM_MAX_LOBBY);
	m->lim.max_tracks = clamp(l->max_tracks, SFU_MAX_TRACKS);
	m->lim.mls_max = clamp(l->mls_max, ROOM_MLS_MAX);
}

int room_mgr_set_test(struct room_mgr *m, const char *tap_dir, bool intruder)
{
	m->test_intruder = intruder;
	if (tap_dir && *tap_dir) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/mls.tap", tap_dir);
		m->test_tap = fopen(path, "w");
		if (!m->test_tap)
			return -errno;
		log_warn("room", "TEST TAP: recording relayed MLS messages in %s", path);
	}
	if (intruder)
		log_warn("room", "TEST INTRUDER: joins marked intruder skip the lobby");
	return 0;
}

void room_mgr_set_sfu(struct room_mgr *m, struct sfu *sfu)
{
	m->sfu = sfu;
}

void room_mgr_free(struct room_mgr *m)
{
	/* participants are owned by their connections, which close first */
	secret_wipe(m->rejoin_key, sizeof(m->rejoin_key));
	if (m->test_tap)
		fclose(m->test_tap);
	free(m);
}

struct participant *room_participant_new(struct room_mgr *m,
					 participant_send_h *send,
					 void *transport)
{
	uint8_t raw[PARTICIPANT_ID_BYTES];
	struct participant *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (secret_random(raw, sizeof(raw))) {
		free(p);
		return NULL;
	}
	b64url_encode(raw, sizeof(raw), p->id);
	p->mgr = m;
	p->send = send;
	p->transport = transport;
	p->state = PS_NEW;
	m->nparticipants++;
	p->all_next = m->all;
	if (m->all)
		m->all->all_pprev = &p->all_next;
	p->all_pprev = &m->all;
	m->all = p;
	return p;
}

void room_participant_free(struct participant *p)
{
	if (!p)
		return;
	room_leave(p);
	free(p->keypackage);
	free(p->proof);
	p->mgr->nparticipants--;
	*p->all_pprev = p->all_next;
	if (p->all_next)
		p->all_next->all_pprev = p->all_pprev;
	secret_wipe(p->name, sizeof(p->name));
	free(p);
}

enum participant_state room_participant_state(const struct participant *p)
{
	return p->state;
}

const char *room_participant_id(const struct participant *p)
{
	return p->id;
}

void room__admit(struct room *r, struct participant *p)
{
	struct room_mgr *m = p->mgr;

	list_append(&r->members, p);
	r->nmembers++;
	m->nmembers++;
	p->state = PS_MEMBER;
	e2ee__on_admitted(p);
	send_joined(p);
	e2ee__after_joined(p);
	room__broadcast(r,
		  json_pack("{s:s, s:o}", "type", "participant_joined",
			    "participant", room__participant_json(p)),
		  TO_MEMBERS, p);
	media__on_admitted(p);
}

/* A room that could not be opened for a host or a rejoining member: at
 * max_meetings it is counted and said ("busy"). */
static int busy(struct room_mgr *m, int rc)
{
	if (rc == -EBUSY) {
		m->busy_refused++;
		log_warn("room", "a meeting could not open: %zu meetings open "
			 "(max_meetings)", m->nrooms);
	}
	return rc;
}

int room_join(struct room_mgr *m, struct participant *p, const char *room_id,
	      const char *name, const char *host_key, const char *rejoin,
	      bool intruder)
{
	char pid[PARTICIPANT_ID_CHARS + 1];
	struct meeting_rec rec;
	struct participant *old;
	struct room *r;
	bool live, as_host = false, rejoin_ok, host_ok;
	int64_t token_exp = 0;
	int rc;

	if (p->state != PS_NEW)
		return p->state == PS_DENIED ? -EPERM : -EALREADY;
	snprintf(p->name, sizeof(p->name), "%s", name);

	/* The same work and the same answer for every room id: one lookup,
	 * then "lobby" unless the caller holds the host credential. */
	rc = store_meeting_lookup(m->store, room_id, &rec);
	if (rc && rc != -ENOENT)
		return rc;
	if (rc == -ENOENT) {
		/* like the lookup's decoy row: ended, and a host hash that no
		 * credential has; the checks below run against it */
		memset(&rec, 0, sizeof(rec));
		rec.ended_at = 1;
	}
	live = rc == 0 && meeting_is_live(&rec, (int64_t)time(NULL));
	/* Both credentials are checked whatever the meeting, before `live`
	 * decides anything: an HMAC and a SHA-256 that ran only for live
	 * meetings made a bogus token or key answer later there. */
	rejoin_ok = rejoin && room__rejoin_ok(m, room_id, rejoin, pid, &as_host,
					     &token_exp);
	host_ok = host_key && room__host_key_ok(m, &rec, host_key);

	/* a rejoin token brings a member back (after a reconnect or a server
	 * restart) under its old id and role, past the lobby and the lock */
	if (live && rejoin_ok) {
		/* removed by a host (kept even if the room was freed since):
		 * back to the lobby */
		if (room__revoked(m, room_id, pid, token_exp, (int64_t)time(NULL)))
			goto knock;
		rc = room__get_or_make(m, room_id, &r);
		if (rc)
			return busy(m, rc);
		old = room__find(r->members, pid);
		if (old) {
			/* the same member on a connection that has not noticed
			 * yet that it is gone: the new one replaces it */
			room_leave(old);
			room__send_json(old, json_pack("{s:s, s:s}", "type", "left",
						       "reason", "replaced"));
			/* it may have been the last one: the room went with it */
			rc = room__get_or_make(m, room_id, &r);
			if (rc)
				return busy(m, rc);
		}
		if (r->nmembers >= m->lim.max_members) {
			room__maybe_free(m, r);
			return -ENOSPC;
		}
		memcpy(p->id, pid, sizeof(p->id));
		p->room = r;
		p->host = as_host;
		r->locked = rec.locked;
		m->rejoins++;
		room__admit(r, p);
		log_info("room", "participant %s rejoined a meeting", p->id);
		return 0;
	}

	if (live && intruder && m->test_intruder) {
		/* tests of end-to-end encryption only: a connection in the
		 * meeting at the server but not in its MLS group */
		rc = room__get_or_make(m, room_id, &r);
		if (rc)
			return busy(m, rc);
		p->room = r;
		log_warn("room", "TEST INTRUDER %s let into a meeting", p->id);
		room__admit(r, p);
		return 0;
	}

	if (live && host_ok) {
		rc = room__get_or_make(m, room_id, &r);
		if (rc)
			return busy(m, rc);
		if (r->nmembers >= m->lim.max_members) {
			room__maybe_free(m, r);
			return -ENOSPC;
		}
		p->room = r;
		p->host = true;
		r->locked = rec.locked;
		m->host_joins++;
		m->joins++;
		room__admit(r, p);
		log_info("room", "participant %s joined a meeting as host", p->id);
		return 0;
	}

knock:
	m->knocks++;
	p->state = PS_LOBBY;
	p->lobby_since = (int64_t)time(NULL);
	if (live && !rec.locked) {
		rc = room__knock(m, p, room_id);
		if (rc == -EBUSY) {
			/* the server holds max_meetings: the guest waits like a
			 * knock on an unknown meeting (it may not learn whether
			 * this one exists) and knocks again once meetings close
			 * (room_tick); hosts hear "busy" */
			m->busy_refused++;
			snprintf(p->knock_later, sizeof(p->knock_later), "%s", room_id);
		} else if (rc == -ENOSPC) {
			/* the newest knocks are refused — earlier guests stay
			 * visible to the hosts — and refused exactly like a knock
			 * on an unknown meeting, so a full lobby tells nothing */
			m->lobby_refused++;
		} else if (rc) {
			return rc;
		}
	}
	room__send_json(p, json_pack("{s:s}", "type", "lobby"));
	log_info("room", "participant %s waits in a lobby", p->id);
	if (p->knock_pending)
		room__flush_soon(m);
	return 0;
}

int room__knock(struct room_mgr *m, struct participant *p, const char *room_id)
{
	struct room *r;
	int rc;

	rc = room__get_or_make(m, room_id, &r);
	if (rc)
		return rc;
	if (r->nlobby >= m->lim.max_lobby) {
		room__maybe_free(m, r);
		return -ENOSPC;
	}
	p->room = r;
	list_append(&r->lobby, p);
	r->nlobby++;
	m->nlobby++;
	p->knock_pending = true;
	return 0;
}

void room_mgr_set_defer(struct room_mgr *m, void (*defer)(void *arg), void *arg)
{
	m->defer = defer;
	m->defer_arg = arg;
}

void room__flush_soon(struct room_mgr *m)
{
	if (!m->defer) {
		room_flush_knocks(m);
	} else if (!m->flush_scheduled) {
		/* asked once: re-arming the timer for every knock would let
		 * a steady stream of them put the flush off for ever */
		m->flush_scheduled = true;
		m->defer(m->defer_arg);
	}
}

void room_flush_knocks(struct room_mgr *m)
{
	struct participant *p;

	m->flush_scheduled = false;
	for (p = m->all; p; p = p->all_next) {
		if (p->knock_pending) {
			p->knock_pending = false;
			if (p->state == PS_LOBBY && p->room)
				room__broadcast(p->room,
						json_pack("{s:s, s:s, s:s}", "type",
							  "knock", "participant",
							  p->id, "name", p->name),
						TO_HOSTS, NULL);
		}
		/* after its knock: hosts see who a KeyPackage is from */
		if (p->kp_due)
			e2ee__flush(p);
	}
}

static int host_target(struct participant *host, const char *target,
		       struct participant **out)
{
	struct participant *t;

	if (host->state != PS_MEMBER || !host->host || !host->room)
		return -EPERM;
	t = room__find(host->room->lobby, target);
	if (!t)
		return -ENOENT;
	list_remove(&host->room->lobby, t);
	host->room->nlobby--;
	host->mgr->nlobby--;
	room__broadcast(host->room,
		  json_pack("{s:s, s:s}", "type", "knock_gone", "participant",
			    t->id), TO_HOSTS, NULL);
	*out = t;
	return 0;
}

void room__admit_from_lobby(struct room *r, struct participant *t)
{
	list_remove(&r->lobby, t);
	r->nlobby--;
	t->mgr->nlobby--;
	room__broadcast(r,
			json_pack("{s:s, s:s}", "type", "knock_gone", "participant",
				  t->id), TO_HOSTS, NULL);
	t->mgr->admits++;
	t->mgr->joins++;
	room__admit(r, t);
}

int room_admit(struct participant *host, const char *target)
{
	struct participant *t;
	int rc;

	if (host->state == PS_MEMBER && host->host && host->room &&
	    host->room->nmembers >= host->mgr->lim.max_members)
		return -ENOSPC; /* the guest stays in the lobby, seen by all hosts */
	rc = host_target(host, target, &t);
	if (rc)
		return rc;
	host->mgr->admits++;
	host->mgr->joins++;
	room__admit(host->room, t);
	log_info("room", "host %s admitted participant %s", host->id, t->id);
	return 0;
}

int room_deny(struct participant *host, const char *target)
{
	struct participant *t;
	int rc = host_target(host, target, &t);

	if (rc)
		return rc;
	host->mgr->denies++;
	t->state = PS_DENIED;
	t->room = NULL;
	room__send_json(t, json_pack("{s:s}", "type", "denied"));
	log_info("room", "host %s denied participant %s", host->id, t->id);
	room__maybe_free(host->mgr, host->room);
	return 0;
}

void room_leave(struct participant *p)
{
	struct room_mgr *m = p->mgr;
	struct room *r = p->room;

	if (r) {
		if (p->state == PS_MEMBER) {
			media__on_leave(p);
			e2ee__on_leave(p);
			list_remove(&r->members, p);
			r->nmembers--;
			m->nmembers--;
			room__broadcast(r,
				  json_pack("{s:s, s:s}", "type",
					    "participant_left", "participant",
					    p->id),
				  TO_MEMBERS, NULL);
		} else if (p->state == PS_LOBBY) {
			list_remove(&r->lobby, p);
			r->nlobby--;
			m->nlobby--;
			room__broadcast(r,
				  json_pack("{s:s, s:s}", "type", "knock_gone",
					    "participant", p->id), TO_HOSTS, NULL);
		}
		p->room = NULL;
		room__maybe_free(m, r);
	}
	/* a KeyPackage waiting to go out was for that room's group */
	p->kp_due = false;
	p->kp_held = false;
	if (p->state != PS_DENIED)
		p->state = PS_NEW;
	p->host = false;
}

void room_metrics(struct room_mgr *m, struct wbuf *b)
{
	metrics_gauge(b, "conclave_meetings_active",
		      "meetings with at least one member or knocking guest",
		      m->nrooms);
	metrics_gauge(b, "conclave_participants",
		      "admitted participants in meetings", m->nmembers);
	metrics_gauge(b, "conclave_lobby_waiting",
		      "guests waiting in a lobby of a live meeting", m->nlobby);
	metrics_counter(b, "conclave_joins_total",
			"participants admitted to meetings (hosts and guests)",
			m->joins);
	metrics_counter(b, "conclave_knocks_total",
			"join requests that went to a lobby", m->knocks);
	metrics_counter(b, "conclave_admits_total", "guests admitted by a host",
			m->admits);
	metrics_counter(b, "conclave_denies_total", "guests denied by a host",
			m->denies);
	metrics_counter(b, "conclave_lobby_refused_total",
			"knocks refused (silently) because a lobby was full",
			m->lobby_refused);
	metrics_counter(b, "conclave_meetings_refused_total",
			"meetings that could not open because max_meetings were open",
			m->busy_refused);
	metrics_counter(b, "conclave_rejoins_total",
			"members back with a rejoin token", m->rejoins);
	metrics_counter(b, "conclave_removes_total",
			"members removed by a host", m->removes);
	metrics_counter(b, "conclave_meetings_ended_total",
			"meetings ended (host, administrator or expiry)", m->ends);
}
