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

static struct room *room_find(struct room_mgr *m, const char *id)
{
	struct room *r;
	for (r = m->buckets[room_hash(id)]; r; r = r->hnext)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static struct room *room_get_or_make(struct room_mgr *m, const char *id)
{
	struct room *r = room_find(m, id);
	size_t h;

	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->worker = m->sfu ? sfu_worker_for(m->sfu, id) : 0;
	h = room_hash(id);
	r->hnext = m->buckets[h];
	m->buckets[h] = r;
	m->nrooms++;
	return r;
}

static void room_maybe_free(struct room_mgr *m, struct room *r)
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

static struct participant *list_find(struct participant *head, const char *id)
{
	for (; head; head = head->next)
		if (strcmp(head->id, id) == 0)
			return head;
	return NULL;
}

/* ---- messages ----------------------------------------------------------- */

void room__send_json(struct participant *p, json_t *msg)
{
	char *text;

	if (!msg)
		return;
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return;
	p->send(p->transport, text, strlen(text));
	free(text);
}

static json_t *participant_json(const struct participant *p)
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
		json_array_append_new(list, participant_json(o));
	if (p->host)
		for (o = p->room->lobby; o; o = o->next)
			json_array_append_new(knocks,
					      json_pack("{s:s, s:s}", "participant",
							o->id, "name", o->name));
	room__send_json(p, json_pack("{s:s, s:s, s:s, s:o, s:o}", "type", "joined",
			       "participant", p->id, "role",
			       p->host ? "host" : "guest", "participants", list,
			       "knocks", knocks));
}

/* Sends a copy of msg to every member (hosts only if `hosts_only`),
 * except `skip`. Takes ownership of msg. */
static void broadcast(struct room *r, json_t *msg, bool hosts_only,
		      const struct participant *skip)
{
	struct participant *o;
	char *text;

	if (!msg)
		return;
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return;
	for (o = r->members; o; o = o->next)
		if (o != skip && (!hosts_only || o->host))
			o->send(o->transport, text, strlen(text));
	free(text);
}

/* ---- API ---------------------------------------------------------------- */

int room_mgr_new(struct store *st, struct room_mgr **out)
{
	struct room_mgr *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->store = st;
	*out = m;
	return 0;
}

void room_mgr_set_sfu(struct room_mgr *m, struct sfu *sfu)
{
	m->sfu = sfu;
}

void room_mgr_free(struct room_mgr *m)
{
	/* participants are owned by their connections, which close first */
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
	return p;
}

void room_participant_free(struct participant *p)
{
	if (!p)
		return;
	room_leave(p);
	p->mgr->nparticipants--;
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

static void admit(struct room *r, struct participant *p)
{
	struct room_mgr *m = p->mgr;

	list_append(&r->members, p);
	r->nmembers++;
	m->nmembers++;
	p->state = PS_MEMBER;
	send_joined(p);
	broadcast(r,
		  json_pack("{s:s, s:o}", "type", "participant_joined",
			    "participant", participant_json(p)),
		  false, p);
	media__on_admitted(p);
}

int room_join(struct room_mgr *m, struct participant *p, const char *room_id,
	      const char *name, const char *host_key)
{
	struct meeting_rec rec;
	struct room *r;
	bool live;
	int rc;

	if (p->state != PS_NEW)
		return p->state == PS_DENIED ? -EPERM : -EALREADY;
	snprintf(p->name, sizeof(p->name), "%s", name);

	/* The same work and the same answer for every room id: one lookup,
	 * then "lobby" unless the caller holds the host credential. */
	rc = store_meeting_get(m->store, room_id, &rec);
	if (rc && rc != -ENOENT)
		return rc;
	live = rc == 0 && meeting_is_live(&rec, (int64_t)time(NULL));

	if (live && host_key && meeting_host_key_ok(&rec, host_key)) {
		r = room_get_or_make(m, room_id);
		if (!r)
			return -ENOMEM;
		if (r->nmembers >= ROOM_MAX_MEMBERS) {
			room_maybe_free(m, r);
			return -ENOSPC;
		}
		p->room = r;
		p->host = true;
		m->host_joins++;
		m->joins++;
		admit(r, p);
		log_info("room", "participant %s joined a meeting as host", p->id);
		return 0;
	}

	m->knocks++;
	p->state = PS_LOBBY;
	if (live && !rec.locked) {
		r = room_get_or_make(m, room_id);
		if (!r)
			return -ENOMEM;
		if (r->nlobby >= ROOM_MAX_LOBBY) {
			/* newest knocks are refused; earlier guests stay visible */
			room_maybe_free(m, r);
			p->state = PS_NEW;
			return -ENOSPC;
		}
		p->room = r;
		list_append(&r->lobby, p);
		r->nlobby++;
		m->nlobby++;
		broadcast(r,
			  json_pack("{s:s, s:s, s:s}", "type", "knock",
				    "participant", p->id, "name", p->name),
			  true, NULL);
	}
	room__send_json(p, json_pack("{s:s}", "type", "lobby"));
	log_info("room", "participant %s waits in a lobby", p->id);
	return 0;
}

static int host_target(struct participant *host, const char *target,
		       struct participant **out)
{
	struct participant *t;

	if (host->state != PS_MEMBER || !host->host || !host->room)
		return -EPERM;
	t = list_find(host->room->lobby, target);
	if (!t)
		return -ENOENT;
	list_remove(&host->room->lobby, t);
	host->room->nlobby--;
	host->mgr->nlobby--;
	broadcast(host->room,
		  json_pack("{s:s, s:s}", "type", "knock_gone", "participant",
			    t->id),
		  true, NULL);
	*out = t;
	return 0;
}

int room_admit(struct participant *host, const char *target)
{
	struct participant *t;
	int rc = host_target(host, target, &t);

	if (rc)
		return rc;
	if (host->room->nmembers >= ROOM_MAX_MEMBERS) {
		/* put the guest back at the head of the lobby: nothing is lost */
		t->next = host->room->lobby;
		host->room->lobby = t;
		host->room->nlobby++;
		host->mgr->nlobby++;
		return -ENOSPC;
	}
	host->mgr->admits++;
	host->mgr->joins++;
	admit(host->room, t);
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
	room_maybe_free(host->mgr, host->room);
	return 0;
}

void room_leave(struct participant *p)
{
	struct room_mgr *m = p->mgr;
	struct room *r = p->room;

	if (r) {
		if (p->state == PS_MEMBER) {
			media__on_leave(p);
			list_remove(&r->members, p);
			r->nmembers--;
			m->nmembers--;
			broadcast(r,
				  json_pack("{s:s, s:s}", "type",
					    "participant_left", "participant",
					    p->id),
				  false, NULL);
		} else if (p->state == PS_LOBBY) {
			list_remove(&r->lobby, p);
			r->nlobby--;
			m->nlobby--;
			broadcast(r,
				  json_pack("{s:s, s:s}", "type", "knock_gone",
					    "participant", p->id),
				  true, NULL);
		}
		p->room = NULL;
		room_maybe_free(m, r);
	}
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
}
