/*
 * e2ee — the MLS delivery service (RFC 9420 §14; DESIGN.md §5).
 *
 * The server holds no MLS key and cannot read what it relays. It does three
 * things, reading only the clear header of each message (src/mls):
 *
 *   ordering   each meeting has one MLS group and an epoch counter; the
 *              first commit that carries the current epoch is accepted and
 *              relayed, every other one is refused with `mls_commit_rejected`
 *              (the committer then waits for the accepted commit and
 *              retries);
 *   routing    KeyPackages of newcomers go to the group's members; commits
 *              and application messages go to the group's members only; a
 *              Welcome goes only to the participants its commit added, and
 *              only after that commit was accepted;
 *   admission  a guest in the lobby whom the group added (the members
 *              checked its invite proof) is admitted at that moment — if
 *              the meeting has room for it and is not locked; a commit
 *              that would admit more is refused (adds_refused).
 *
 * The group id of a meeting is the text "conclave/" followed by the room id,
 * so a message of one meeting cannot be replayed into another.
 *
 * Who is in the group is known here only from what committers declare
 * (`add`, `remove`); it decides routing, never what a user is shown: the
 * web app builds its roster from the MLS group itself.
 */
#include "room/room_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mls/mls_hdr.h"
#include "util/log.h"

static const char group_prefix[] = "conclave/";

static bool group_id_ok(const struct room *r, const struct mls_hdr *h)
{
	size_t pl = sizeof(group_prefix) - 1;
	return h->group_id_len == pl + ROOM_ID_CHARS &&
	       memcmp(h->group_id, group_prefix, pl) == 0 &&
	       memcmp(h->group_id + pl, r->id, ROOM_ID_CHARS) == 0;
}

/* Decodes base64url text and parses its MLS header: 0, -EMSGSIZE (longer
 * than mls_max_message) or -EBADMSG. */
static int parse(const struct room_mgr *m, const char *b64, struct mls_hdr *h)
{
	static uint8_t buf[ROOM_MLS_MAX];   /* signaling thread only */
	size_t len = strlen(b64), n;

	/* 4 characters carry 3 bytes; a trailing 2 or 3 carry 1 or 2 */
	if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > m->lim.mls_max)
		return -EMSGSIZE;
	if (b64url_decode_any(b64, len, buf, sizeof(buf), &n) ||
	    mls_hdr_parse(buf, n, h))
		return -EBADMSG;
	/* the header points into buf: only scalar fields are used after this,
	 * and group_id is compared before the next parse */
	return 0;
}

static void to_group(struct room *r, json_t *msg, const struct participant *skip)
{
	room__broadcast(r, msg, TO_GROUP, skip);
}

/* May the group let a waiting guest in now? Not past meeting_max_members,
 * and not while the meeting is locked: then only a host's `admit` lets a
 * guest in. While it may not, the guests' KeyPackages are not handed to
 * the group either, so no committer tries (they come again with the
 * guests' next republish). */
static bool lobby_open(const struct room *r, const struct room_mgr *m)
{
	return !r->locked && r->nmembers < m->lim.max_members;
}

static json_t *keypackage_json(const struct participant *p)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b}", "type",
			      "mls_keypackage", "participant", p->id, "name",
			      p->name, "keypackage", p->keypackage, "lobby",
			      p->state == PS_LOBBY);
	if (j && p->proof)
		json_object_set_new(j, "proof", json_string(p->proof));
	return j;
}

void e2ee__on_admitted(struct participant *p)
{
	struct room *r = p->room;

	p->in_group = false;
	p->mls_create = false;
	/* its first KeyPackage as a member goes out at once, even the one it
	 * sent from the lobby (that may have gone nowhere) */
	p->kp_sent = false;
	if (!r->mls_group) {
		/* the first member makes the group (epoch 0) */
		r->mls_group = true;
		r->mls_epoch = 0;
		p->in_group = true;
		p->mls_create = true;
	}
}

void e2ee__after_joined(struct participant *p)
{
	struct participant *o;

	if (!p->mls_create)
		return;
	/* the new group's creator learns who already waits: KeyPackages sent
	 * before the group existed went nowhere */
	for (o = p->room->members; o; o = o->next)
		if (o != p && !o->in_group && o->keypackage)
			room__send_json(p, keypackage_json(o));
	if (!lobby_open(p->room, p->mgr))
		return;
	for (o = p->room->lobby; o; o = o->next)
		if (o->keypackage)
			room__send_json(p, keypackage_json(o));
}

json_t *e2ee__joined_info(const struct participant *p)
{
	return json_pack("{s:s, s:b, s:I}", "group", "", "create", p->mls_create,
			 "epoch", (json_int_t)p->room->mls_epoch);
}

void e2ee__on_leave(struct participant *p)
{
	struct room *r = p->room;
	struct participant *o;
	bool any = false;

	p->in_group = false;
	for (o = r->members; o; o = o->next)
		if (o != p && o->in_group)
			any = true;
	if (!any) {
		/* nobody left who holds the group: the next member starts a
		 * new one (its keys are new anyway) */
		r->mls_group = false;
		r->mls_epoch = 0;
	}
}

/*
 * KeyPackages and the members' queues. Every KeyPackage relayed is copied
 * to each group member; unthrottled, a guest in the lobby (it needs only
 * the meeting's id) sending them at its message rate filled the members'
 * output queues past ws_max_outq, and the server cut the members off. So a
 * participant's KeyPackage goes to the group at most once per
 * ROOM_KP_RELAY_MS: within that time a byte-identical repeat is dropped
 * (nothing new: an honest client repeats itself, and gets no error for
 * it), a new one is kept and held until the time is over (room_tick), and
 * a further new one while one is held is refused (`rate_limited`). An
 * honest client never sends that: from the lobby it repeats the same
 * KeyPackage every 10 s, and a member makes a new one only after a Welcome
 * of the last (a resync), which takes a relay first.
 *
 * The steps here do not depend on the room: a guest knocking on a meeting
 * that does not exist, or is locked, has none, and its KeyPackage goes
 * nowhere, but it is checked, kept and queued exactly like one in a live
 * lobby. The relay itself runs in the deferred flush, after the sender's
 * message was handled, like a knock (no existence oracle).
 */
static void relay(struct participant *p)
{
	struct room *r = p->room;

	if (r && r->mls_group && p->keypackage &&
	    (p->state == PS_MEMBER ||
	     (p->state == PS_LOBBY && lobby_open(r, p->mgr))))
		to_group(r, keypackage_json(p), p);
}

void e2ee__flush(struct participant *p)
{
	p->kp_due = false;
	relay(p);
}

void e2ee__tick(struct participant *p, uint64_t now_ms)
{
	if (!p->kp_held || now_ms - p->kp_at_ms < ROOM_KP_RELAY_MS)
		return;
	p->kp_held = false;
	p->kp_at_ms = now_ms;
	relay(p);
}

int room_mls_keypackage(struct participant *p, const char *kp,
			const char *proof, uint64_t now_ms)
{
	struct mls_hdr h;
	char *k, *pr = NULL;
	bool same, recent;
	int rc;

	if (p->state != PS_MEMBER && p->state != PS_LOBBY)
		return -EPERM;
	rc = parse(p->mgr, kp, &h);
	if (rc || h.wire_format != MLS_WF_KEY_PACKAGE)
		return rc ? rc : -EBADMSG;
	same = p->keypackage && strcmp(p->keypackage, kp) == 0 &&
	       (p->proof && proof ? strcmp(p->proof, proof) == 0
				  : !p->proof && !proof);
	recent = p->kp_sent && now_ms - p->kp_at_ms < ROOM_KP_RELAY_MS;
	if (recent && same)
		return 0;       /* the group has it, or it is held */
	if (recent && p->kp_held)
		return -EAGAIN; /* one new one per ROOM_KP_RELAY_MS */
	k = strdup(kp);
	if (proof)
		pr = strdup(proof);
	if (!k || (proof && !pr)) {
		free(k);
		free(pr);
		return -ENOMEM;
	}
	free(p->keypackage);
	free(p->proof);
	p->keypackage = k;
	p->proof = pr;
	if (recent) {
		p->kp_held = true;
		return 0;
	}
	p->kp_sent = true;
	p->kp_at_ms = now_ms;
	p->kp_held = false;
	p->kp_due = true;
	room__flush_soon(p->mgr);
	return 0;
}

static struct participant *find_any(struct room *r, const char *id)
{
	struct participant *p = room__find(r->members, id);
	return p ? p : room__find(r->lobby, id);
}

/*
 * Would the commit's adds let waiting guests in past what the meeting may
 * take now (lobby_open)? Those it may not are named to the group in
 * `participant_left` (members forget their KeyPackages; the guests stay in
 * the lobby and are offered again once there is room), and true is
 * returned: the commit is then refused like a late one. The committer
 * gets `participant_left` first, so its retry leaves them out: no loop.
 */
static bool adds_refused(struct room *r, const struct room_mgr *m,
			 json_t *add)
{
	size_t admits = 0, i;
	bool refused = false;
	json_t *v;

	json_array_foreach(add, i, v) {
		struct participant *t = room__find(r->lobby, json_string_value(v));
		if (!t || !t->keypackage)
			continue; /* not one the commit would admit */
		if (!r->locked && r->nmembers + admits < m->lim.max_members) {
			admits++;
			continue;
		}
		refused = true;
		to_group(r, json_pack("{s:s, s:s}", "type", "participant_left",
				      "participant", t->id),
			 NULL);
	}
	return refused;
}

int room_mls_commit(struct participant *p, const char *commit,
		    const char *welcome, json_t *add, json_t *remove)
{
	struct room *r = p->room;
	struct mls_hdr h;
	struct participant *t;
	json_t *v;
	size_t i;
	int rc;

	if (p->state != PS_MEMBER || !r || !p->in_group)
		return -EPERM;
	rc = parse(p->mgr, commit, &h);
	if (rc == 0 &&
	    ((h.wire_format != MLS_WF_PUBLIC && h.wire_format != MLS_WF_PRIVATE) ||
	     h.content_type != MLS_CT_COMMIT || !group_id_ok(r, &h)))
		rc = -EBADMSG;
	if (rc)
		return rc;
	if (welcome) {
		struct mls_hdr wh;
		rc = parse(p->mgr, welcome, &wh);
		if (rc || wh.wire_format != MLS_WF_WELCOME)
			return rc ? rc : -EBADMSG;
	}
	if (h.epoch != r->mls_epoch || adds_refused(r, p->mgr, add)) {
		/* someone else's commit for this epoch came first, or it would
		 * admit guests the meeting may not take now */
		room__send_json(p, json_pack("{s:s, s:I}", "type",
					     "mls_commit_rejected", "epoch",
					     (json_int_t)r->mls_epoch));
		return 0;
	}
	r->mls_epoch++;
	room__send_json(p, json_pack("{s:s, s:I}", "type", "mls_commit_ok",
				     "epoch", (json_int_t)r->mls_epoch));
	to_group(r, json_pack("{s:s, s:s, s:s, s:I}", "type", "mls_commit",
			      "commit", commit, "from", p->id, "epoch",
			      (json_int_t)r->mls_epoch),
		 p);
	json_array_foreach(remove, i, v) {
		t = room__find(r->members, json_string_value(v));
		if (t)
			t->in_group = false;
	}
	json_array_foreach(add, i, v) {
		t = find_any(r, json_string_value(v));
		if (!t) {
			/* it left before its commit landed: the group must
			 * remove the leaf it just added */
			to_group(r, json_pack("{s:s, s:s}", "type", "participant_left",
					      "participant", json_string_value(v)),
				 NULL);
			continue;
		}
		if (!t->keypackage)
			continue;
		if (t->state == PS_LOBBY) {
			/* the group let it in: it checked the invite proof, or
			 * a host admitted it by name and it is joining the group */
			room__admit_from_lobby(r, t);
			log_info("room", "participant %s admitted by the group", t->id);
		}
		t->in_group = true;
		if (welcome)
			room__send_json(t, json_pack("{s:s, s:s, s:I}", "type",
						     "mls_welcome", "welcome",
						     welcome, "epoch",
						     (json_int_t)r->mls_epoch));
		/* the newcomer, now a member too, learns who still waits */
		for (struct participant *o = r->members; o; o = o->next)
			if (!o->in_group && o->keypackage && o != t)
				room__send_json(t, keypackage_json(o));
		for (struct participant *o = r->lobby; o && lobby_open(r, p->mgr);
		     o = o->next)
			if (o->keypackage)
				room__send_json(t, keypackage_json(o));
	}
	return 0;
}

int room_mls_app(struct participant *p, const char *msg)
{
	struct room *r = p->room;
	struct mls_hdr h;
	int rc;

	if (p->state != PS_MEMBER || !r || !p->in_group)
		return -EPERM;
	rc = parse(p->mgr, msg, &h);
	if (rc == 0 && (h.wire_format != MLS_WF_PRIVATE ||
			h.content_type != MLS_CT_APPLICATION || !group_id_ok(r, &h)))
		rc = -EBADMSG;
	if (rc)
		return rc;
	to_group(r, json_pack("{s:s, s:s, s:s, s:I}", "type", "mls_app", "msg",
			      msg, "from", p->id, "epoch", (json_int_t)h.epoch),
		 p);
	return 0;
}
