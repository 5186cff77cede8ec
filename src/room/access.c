/*
 * access — what hosts can do to members, rejoin tokens, and the periodic
 * checks of meetings and lobbies (DESIGN.md §4, docs/security.md).
 *
 * Rejoin tokens. A member that loses its connection (network change,
 * server restart) must come back without a new lobby round. On `joined`
 * and with every `pong` the server hands each member a token:
 *
 *   token = base64url( room (16) | participant (8) | role (1) |
 *                      expiry (8, big-endian Unix s) | MAC (16) )
 *   MAC   = HMAC-SHA256(rejoin key, the 33 bytes before it), first 16 bytes
 *
 * The rejoin key is a server secret kept in the store, so tokens survive a
 * restart; tokens live REJOIN_TTL_S. A token only brings a member back into
 * the same meeting under the same id and role; a member removed by a host
 * is remembered (in memory, by the room manager, for as long as a token
 * issued before the removal lives: "removals" below) and its token no
 * longer works.
 */
#include "room/room_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"

enum {
	TOKEN_BODY = ROOM_ID_BYTES + PARTICIPANT_ID_BYTES + 1 + 8,
	TOKEN_MAC = 16,
	TOKEN_BYTES = TOKEN_BODY + TOKEN_MAC,   /* 49: 66 base64url chars */
};

_Static_assert(B64URL_LEN(TOKEN_BYTES) == REJOIN_TOKEN_CHARS,
	       "token length and its text length agree");

/* ---- rejoin tokens ------------------------------------------------------ */

static int token_mac(const struct room_mgr *m, const uint8_t *body,
		     uint8_t mac[TOKEN_MAC])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), m->rejoin_key, sizeof(m->rejoin_key), body,
		  TOKEN_BODY, full, &n) || n < TOKEN_MAC)
		return -EIO;
	memcpy(mac, full, TOKEN_MAC);
	secret_wipe(full, sizeof(full));
	return 0;
}

int room_rejoin_token(const struct participant *p, char *out)
{
	uint8_t t[TOKEN_BYTES];
	uint64_t exp = (uint64_t)time(NULL) + REJOIN_TTL_S;

	out[0] = '\0';
	if (p->state != PS_MEMBER || !p->room)
		return -EPERM;
	if (b64url_decode(p->room->id, t, ROOM_ID_BYTES) ||
	    b64url_decode(p->id, t + ROOM_ID_BYTES, PARTICIPANT_ID_BYTES))
		return -EINVAL;
	t[ROOM_ID_BYTES + PARTICIPANT_ID_BYTES] = p->host ? 1 : 0;
	put_u32(t + ROOM_ID_BYTES + PARTICIPANT_ID_BYTES + 1, (uint32_t)(exp >> 32));
	put_u32(t + ROOM_ID_BYTES + PARTICIPANT_ID_BYTES + 5, (uint32_t)exp);
	if (token_mac(p->mgr, t, t + TOKEN_BODY))
		return -EIO;
	b64url_encode(t, sizeof(t), out);
	return 0;
}

bool room__rejoin_ok(struct room_mgr *m, const char *room_id, const char *token,
		     char pid[PARTICIPANT_ID_CHARS + 1], bool *host,
		     int64_t *expiry)
{
	uint8_t t[TOKEN_BYTES], mac[TOKEN_MAC], room[ROOM_ID_BYTES];
	uint64_t exp;
	bool ok;

	if (b64url_decode(token, t, sizeof(t)) ||
	    b64url_decode(room_id, room, sizeof(room)))
		return false;
	m->rejoin_checks++;
	if (token_mac(m, t, mac))
		return false;
	ok = secret_equal(mac, t + TOKEN_BODY, TOKEN_MAC) &&
	     secret_equal(room, t, ROOM_ID_BYTES);
	exp = ((uint64_t)get_u32(t + ROOM_ID_BYTES + PARTICIPANT_ID_BYTES + 1) << 32) |
	      get_u32(t + ROOM_ID_BYTES + PARTICIPANT_ID_BYTES + 5);
	if (!ok || exp < (uint64_t)time(NULL))
		return false;
	b64url_encode(t + ROOM_ID_BYTES, PARTICIPANT_ID_BYTES, pid);
	*host = t[ROOM_ID_BYTES + PARTICIPANT_ID_BYTES] == 1;
	*expiry = exp > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)exp;
	return true;
}

bool room__host_key_ok(struct room_mgr *m, const struct meeting_rec *rec,
		       const char *host_key)
{
	m->host_key_checks++;
	return meeting_host_key_ok(rec, host_key);
}

bool room_rejoin_valid(struct room_mgr *m, const char *room, const char *token)
{
	char pid[PARTICIPANT_ID_CHARS + 1];
	int64_t expiry;
	bool host;

	return room__rejoin_ok(m, room, token, pid, &host, &expiry);
}

/* ---- removals ----------------------------------------------------------- */

/*
 * Removals live in the room manager, not in the room: a meeting that
 * empties is freed and made again by the next join, and a removed member's
 * token (still valid for up to REJOIN_TTL_S) must not work in the new one.
 * Each removal is kept until every token issued before it has expired.
 *
 * The table is bounded and never forgets a removal early. A meeting with
 * ROOM_REVOKED_PER_MEETING removals in REJOIN_TTL_S, or one that needs a
 * slot while the table is full, has its entries merged into one that voids
 * every token of the meeting issued so far (its members still connected
 * get new ones with their next pong; one that reconnects before that knocks
 * like a guest). If the table is full and the meeting has no entry to
 * merge, every token of every meeting issued so far is voided instead.
 * Both refuse rejoins that would have been fine; neither lets a removed
 * member back.
 */

static void revoked_expire(struct room_mgr *m, int64_t now)
{
	for (size_t i = 0; i < m->nrevoked;) {
		if (now > m->revoked[i].at + REJOIN_TTL_S)
			m->revoked[i] = m->revoked[--m->nrevoked];
		else
			i++;
	}
	if (m->revoked_all_at && now > m->revoked_all_at + REJOIN_TTL_S)
		m->revoked_all_at = 0;
}

void room__revoke(struct room_mgr *m, const char *room_id, const char *pid,
		  int64_t now)
{
	struct revoked e = { .at = now };
	size_t mine = 0;

	if (b64url_decode(room_id, e.room, sizeof(e.room)) ||
	    b64url_decode(pid, e.pid, sizeof(e.pid)))
		return; /* ids the server made: cannot happen */
	revoked_expire(m, now);
	for (size_t i = 0; i < m->nrevoked; i++)
		mine += memcmp(m->revoked[i].room, e.room, sizeof(e.room)) == 0;
	if (mine >= ROOM_REVOKED_PER_MEETING ||
	    (mine > 0 && m->nrevoked == ROOM_REVOKED_MAX)) {
		/* one entry for the meeting, covering its earlier removals and
		 * this one: every token of it issued up to now */
		for (size_t i = 0; i < m->nrevoked;) {
			if (memcmp(m->revoked[i].room, e.room, sizeof(e.room)) == 0)
				m->revoked[i] = m->revoked[--m->nrevoked];
			else
				i++;
		}
		e.any = true;
		memset(e.pid, 0, sizeof(e.pid));
		log_warn("room", "a meeting had many removals: its rejoin tokens "
			 "issued so far no longer work");
	} else if (m->nrevoked == ROOM_REVOKED_MAX) {
		/* full, and nothing of this meeting's to merge: rather than
		 * forget a removal, void every token issued so far */
		m->revoked_all_at = now;
		m->nrevoked = 0;
		log_warn("room", "too many removals: every rejoin token issued so "
			 "far no longer works");
		return;
	}
	m->revoked[m->nrevoked++] = e;
}

bool room__revoked(struct room_mgr *m, const char *room_id, const char *pid,
		   int64_t token_exp, int64_t now)
{
	uint8_t room[ROOM_ID_BYTES], raw[PARTICIPANT_ID_BYTES];

	if (b64url_decode(room_id, room, sizeof(room)) ||
	    b64url_decode(pid, raw, sizeof(raw)))
		return true;
	revoked_expire(m, now);
	/* a token issued up to `at` expires by at + REJOIN_TTL_S */
	if (m->revoked_all_at && token_exp <= m->revoked_all_at + REJOIN_TTL_S)
		return true;
	for (size_t i = 0; i < m->nrevoked; i++) {
		const struct revoked *e = &m->revoked[i];
		if (memcmp(e->room, room, sizeof(room)) != 0)
			continue;
		if (e->any ? token_exp <= e->at + REJOIN_TTL_S
			   : memcmp(e->pid, raw, sizeof(raw)) == 0)
			return true;
	}
	return false;
}

/* ---- host actions on members -------------------------------------------- */

static int host_member(struct participant *host, const char *target,
		       struct participant **out)
{
	struct participant *t;

	if (host->state != PS_MEMBER || !host->host || !host->room)
		return -EPERM;
	t = room__find(host->room->members, target);
	if (!t)
		return -ENOENT;
	*out = t;
	return 0;
}

int room_remove(struct participant *host, const char *target)
{
	struct participant *t;
	struct room *r = host->room;
	int rc = host_member(host, target, &t);

	if (rc)
		return rc;
	if (t == host)
		return -EPERM; /* leave instead */
	room__revoke(host->mgr, r->id, t->id, (int64_t)time(NULL));
	host->mgr->removes++;
	/* room_leave stops its media at once and tells the others */
	room_leave(t);
	t->state = PS_DENIED;
	room__send_json(t, json_pack("{s:s}", "type", "removed"));
	log_info("room", "host %s removed participant %s", host->id, t->id);
	return 0;
}

int room_promote(struct participant *host, const char *target)
{
	struct participant *t, *g;
	int rc = host_member(host, target, &t);

	if (rc)
		return rc;
	if (t->host)
		return 0;
	t->host = true;
	room__broadcast(host->room,
			json_pack("{s:s, s:s, s:s}", "type", "role", "participant",
				  t->id, "role", "host"), TO_MEMBERS, NULL);
	/* the new host sees who is waiting */
	for (g = host->room->lobby; g; g = g->next)
		room__send_json(t, json_pack("{s:s, s:s, s:s}", "type", "knock",
					     "participant", g->id, "name", g->name));
	log_info("room", "host %s made participant %s a host", host->id, t->id);
	return 0;
}

int room_mute(struct participant *host, const char *target, bool video)
{
	struct participant *t;
	int rc = host_member(host, target, &t);

	if (rc)
		return rc;
	room__send_json(t, json_pack("{s:s, s:s, s:s}", "type", "mute_request",
				     "kind", video ? "video" : "audio", "by",
				     host->id));
	return 0;
}

int room_lock(struct participant *host, bool locked)
{
	struct room *r = host->room;
	int rc;

	if (host->state != PS_MEMBER || !host->host || !r)
		return -EPERM;
	rc = store_meeting_set_locked(host->mgr->store, r->id, locked);
	if (rc)
		return rc == -ENOENT ? -EPERM : rc;
	r->locked = locked;
	room__broadcast(r, json_pack("{s:s, s:b}", "type", "locked", "locked", locked), TO_MEMBERS, NULL);
	log_info("room", "host %s %s a meeting", host->id,
		 locked ? "locked" : "unlocked");
	return 0;
}

/* Ends a meeting in memory: members get "ended", guests "denied". The
 * last leave frees the room, so the participants are collected first. */
static void end_room(struct room_mgr *m, struct room *r)
{
	struct participant *all[ROOM_MAX_LOBBY + ROOM_MAX_MEMBERS + 1], *p;
	bool member[ROOM_MAX_LOBBY + ROOM_MAX_MEMBERS + 1];
	size_t n = 0, i;

	m->ends++;
	for (p = r->lobby; p && n < sizeof(all) / sizeof(all[0]); p = p->next) {
		member[n] = false;
		all[n++] = p;
	}
	for (p = r->members; p && n < sizeof(all) / sizeof(all[0]); p = p->next) {
		member[n] = true;
		all[n++] = p;
	}
	for (i = 0; i < n; i++) {
		room_leave(all[i]);
		all[i]->state = PS_DENIED;
		room__send_json(all[i], json_pack("{s:s}", "type",
						  member[i] ? "ended" : "denied"));
	}
}

int room_end(struct participant *host)
{
	struct room_mgr *m = host->mgr;
	struct room *r = host->room;
	int rc;

	if (host->state != PS_MEMBER || !host->host || !r)
		return -EPERM;
	rc = store_meeting_end(m->store, r->id, (int64_t)time(NULL));
	if (rc && rc != -ENOENT)
		return rc;
	log_info("room", "host %s ended a meeting", host->id);
	end_room(m, r);
	return 0;
}

/* ---- periodic checks ---------------------------------------------------- */

/* A guest that knocked on a live meeting while max_meetings were open:
 * once one is free (and its meeting still live and open) its knock
 * reaches the hosts as if made now; it has waited since its first. */
static void knock_again(struct room_mgr *m, struct participant *p, int64_t now)
{
	struct meeting_rec rec;
	int rc;

	if (m->nrooms >= m->lim.max_meetings && !room__find_room(m, p->knock_later))
		return;
	rc = store_meeting_get(m->store, p->knock_later, &rec);
	if (rc == 0 && meeting_is_live(&rec, now) && !rec.locked) {
		rc = room__knock(m, p, p->knock_later);
		if (rc == -EBUSY)
			return; /* at max_meetings still */
		if (rc == 0)
			log_info("room", "participant %s knocks once a meeting closed",
				 p->id);
	}
	p->knock_later[0] = '\0';
	if (p->knock_pending)
		room_flush_knocks(m);
}

void room_tick(struct room_mgr *m, uint64_t now_ms)
{
	int64_t now = (int64_t)time(NULL);
	struct participant *p, *next;
	struct meeting_rec rec;

	/* meetings ended or expired in the store (by `conclave meeting end`,
	 * or by their expiry) end for their members too */
	for (size_t b = 0; b < ROOM_HASH_BUCKETS; b++) {
		struct room *r = m->buckets[b], *rn;
		for (; r; r = rn) {
			int rc;
			rn = r->hnext;
			rc = store_meeting_get(m->store, r->id, &rec);
			if (rc == -ENOENT || (rc == 0 && !meeting_is_live(&rec, now))) {
				log_info("room", "a meeting ended or expired in the store");
				end_room(m, r);
			} else if (rc == 0) {
				r->locked = rec.locked;
			}
		}
	}
	/* guests nobody admitted — including those knocking on meetings that
	 * do not exist, so the two cases still look alike */
	for (p = m->all; p; p = next) {
		next = p->all_next;
		if (p->state == PS_LOBBY && p->knock_later[0])
			knock_again(m, p, now);
		if (p->state == PS_LOBBY && now - p->lobby_since >= LOBBY_TIMEOUT_S) {
			m->lobby_timeouts++;
			room_leave(p);
			p->state = PS_DENIED;
			room__send_json(p, json_pack("{s:s}", "type", "denied"));
		}
		if (p->kp_held)
			e2ee__tick(p, now_ms);
	}
}
