/*
 * transport — one RTCPeerConnection as the worker sees it: ICE-lite,
 * DTLS-SRTP, and the demultiplexing of the worker's one UDP port.
 *
 * Demultiplexing (RFC 7983 §7, RFC 8445): the first byte of a datagram says
 * what it is. STUN (0–3) is matched to its transport by the USERNAME's
 * local ufrag; everything else (DTLS 20–63, RTP/RTCP 128–191) by the
 * 5-tuple that passed ICE. A datagram from an address no transport owns, a
 * STUN request with an unknown ufrag or a bad MESSAGE-INTEGRITY costs one
 * table lookup (plus one HMAC for a known ufrag) and is dropped and
 * counted, without a reply.
 *
 * Cheap rejection (the under-load path of WireGuard's receive.c): each such
 * drop is junk charged to its source address (util/srclimit.h). A source
 * over SFU_JUNK_RATE junk datagrams per second has everything it sends
 * from a 5-tuple that did not pass ICE dropped before any decoding, ufrag
 * lookup or HMAC (counter junk_limited). Good datagrams are never charged,
 * and the 5-tuples of transports that passed ICE are never limited, so
 * participants, even many behind one NAT address, do not feel a flood.
 *
 * ICE-lite (RFC 8445 §2.5): the server never sends checks; it answers them
 * (to wherever they came from), so a valid check proves only that its
 * sender knows the password, not that it receives at its source address:
 * a member knows its own credentials and can forge a check from anyone's
 * address, and anyone can replay one it recorded. So:
 *  - the first valid check sets the transport's address while it has no
 *    SRTP keys (nothing is sent there but DTLS until the handshake with
 *    the browser's certificate completes);
 *  - after that, a nominating check (USE-CANDIDATE: Chrome puts it on the
 *    checks of the pair it selected, and selects anew on a network change
 *    or an ICE restart) from another address only makes that address the
 *    candidate. The media path moves there once the address has proven
 *    that the browser is there and holds the keys: the DTLS handshake
 *    completes with it, or an SRTP or SRTCP packet from it authenticates
 *    and passes the replay window (promote). A recorded packet replayed
 *    from elsewhere fails the replay check. The browser there waits for
 *    us first (Chrome's publisher for transport-cc feedback on what it
 *    sent, a subscriber for media to report on), so meanwhile copies of
 *    what goes to the transport's address go to the candidate too, a few
 *    kilobytes a second at most (SFU_CAND_RATE, sfu__send_to);
 *  - an address another transport uses is never taken by a check either:
 *    it becomes a candidate like any other, the owner keeps it, and the
 *    claimant's DTLS or authenticated SRTP from it decides (the owner is
 *    `contested` meanwhile: its packets that fail to authenticate are tried
 *    with the claimant's keys);
 *  - consent (RFC 7675): only checks from the media path's own address
 *    refresh it; a transport that gets none for media_timeout seconds is
 *    reported lost.
 * The one case this slows down: a browser that changes networks while it
 * sends nothing at all on that connection (a subscriber with no stream)
 * has nothing to prove the new address with, and times out.
 */
#include "sfu/sfu_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"
#include "rtp/rtp.h"
#include "srtp/srtp_session.h"
#include "stun/stun.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/srclimit.h"

static size_t hash_str(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h % SFU_HASH;
}

/* Hash of the address and port only (not the whole sockaddr padding). */
static size_t hash_addr(const struct sockaddr_storage *a)
{
	uint32_t h = 2166136261u;
	const uint8_t *p;
	size_t n;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)a;
		p = (const uint8_t *)&s->sin_addr;
		n = 4;
		h = (h ^ s->sin_port) * 16777619u;
	} else {
		const struct sockaddr_in6 *s = (const void *)a;
		p = s->sin6_addr.s6_addr;
		n = 16;
		h = (h ^ s->sin6_port) * 16777619u;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % SFU_HASH;
}

static bool addr_eq(const struct sockaddr_storage *a,
		    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

/* ---- tables ------------------------------------------------------------- */

static void unlink_from(struct sfu_transport **head, struct sfu_transport *t,
			size_t next_off)
{
	struct sfu_transport **pp = head;
	while (*pp) {
		if (*pp == t) {
			*pp = *(struct sfu_transport **)(void *)((char *)t + next_off);
			return;
		}
		pp = (struct sfu_transport **)(void *)((char *)*pp + next_off);
	}
}

#define UNLINK(head, t, field) \
	unlink_from(head, t, offsetof(struct sfu_transport, field))

static void ufrag_insert(struct sfu_worker *w, struct sfu_transport *t)
{
	size_t h = hash_str(t->ufrag, strlen(t->ufrag));
	t->next_ufrag = w->by_ufrag[h];
	w->by_ufrag[h] = t;
}

static void ufrag_remove(struct sfu_worker *w, struct sfu_transport *t)
{
	UNLINK(&w->by_ufrag[hash_str(t->ufrag, strlen(t->ufrag))], t, next_ufrag);
}

static void addr_remove(struct sfu_worker *w, struct sfu_transport *t)
{
	if (t->have_peer)
		UNLINK(&w->by_addr[hash_addr(&t->peer)], t, next_addr);
}

static struct sfu_transport *by_addr(struct sfu_worker *w,
				     const struct sockaddr_storage *a)
{
	struct sfu_transport *t;
	for (t = w->by_addr[hash_addr(a)]; t; t = t->next_addr)
		if (addr_eq(&t->peer, a))
			return t;
	return NULL;
}

/* A transport other than `skip` whose candidate is `a`; with `keyed` 1,
 * one that has SRTP keys, 0 one that has none yet, ANY either. */
static struct sfu_transport *by_cand(struct sfu_worker *w,
				     const struct sockaddr_storage *a,
				     const struct sfu_transport *skip, int keyed)
{
	struct sfu_transport *t;
	for (t = w->by_cand[hash_addr(a)]; t; t = t->next_cand)
		if (t != skip && addr_eq(&t->cand, a) &&
		    (keyed < 0 || (t->srtp != NULL) == (keyed != 0)))
			return t;
	return NULL;
}

enum { ANY = -1 };

/* Whether another transport claims t's address as its candidate. */
static void check_contested(struct sfu_worker *w, struct sfu_transport *t)
{
	t->contested = t->have_peer && by_cand(w, &t->peer, t, ANY) != NULL;
}

static void cand_remove(struct sfu_worker *w, struct sfu_transport *t)
{
	struct sfu_transport *owner;

	if (!t->have_cand)
		return;
	UNLINK(&w->by_cand[hash_addr(&t->cand)], t, next_cand);
	t->have_cand = false;
	t->dtls_at_cand = false;
	if ((owner = by_addr(w, &t->cand)))
		check_contested(w, owner);
}

/* The browser nominated `a`: the candidate until it proves itself. */
static void cand_set(struct sfu_worker *w, struct sfu_transport *t,
		     const struct sockaddr_storage *a, socklen_t len)
{
	struct sfu_transport *owner;

	if (t->have_cand && addr_eq(&t->cand, a))
		return;
	cand_remove(w, t);
	memcpy(&t->cand, a, len);
	t->candlen = len;
	t->have_cand = true;
	t->next_cand = w->by_cand[hash_addr(a)];
	w->by_cand[hash_addr(a)] = t;
	if ((owner = by_addr(w, a)) && owner != t)
		owner->contested = true;
}

static void set_peer(struct sfu_worker *w, struct sfu_transport *t,
		     const struct sockaddr_storage *a, socklen_t len)
{
	struct sfu_transport *other = by_addr(w, a);
	struct sockaddr_storage to;

	if (other == t)
		return;
	memcpy(&to, a, len);   /* a may be t->cand, which cand_remove drops */
	if (other) {
		/* the address moved to another transport that proved it
		 * receives there (a reconnect from the same port): the old one
		 * loses it */
		addr_remove(w, other);
		other->have_peer = false;
		other->contested = false;
	}
	if (t->have_cand && addr_eq(&t->cand, &to))
		cand_remove(w, t);
	addr_remove(w, t);
	memcpy(&t->peer, &to, len);
	t->peerlen = len;
	t->have_peer = true;
	t->next_addr = w->by_addr[hash_addr(&to)];
	w->by_addr[hash_addr(&to)] = t;
	check_contested(w, t);
}

/* The candidate proved that the browser receives there and holds the
 * keys: it is the media path now, and consents. */
static void promote(struct sfu_worker *w, struct sfu_transport *t)
{
	if (!t->have_cand)
		return;
	set_peer(w, t, &t->cand, t->candlen);
	t->last_consent_ms = w->now;
	w->c.ice_moves++;
	log_debug("sfu", "transport %u: media path moved", t->id);
}

struct sfu_transport *sfu__transport_find(struct sfu_worker *w, uint32_t id)
{
	struct sfu_transport *t;
	for (t = w->all; t; t = t->next_all)
		if (t->id == id)
			return t;
	return NULL;
}

/* ---- DTLS --------------------------------------------------------------- */

/* DTLS goes to where the browser runs its handshake: the transport's
 * address, or the candidate while the handshake runs there. */
static void dtls_out(const uint8_t *p, size_t len, void *arg)
{
	struct sfu_transport *t = arg;
	uint8_t *slot;

	if (len > SFU_MTU)
		return;
	if (t->dtls_at_cand && t->have_cand) {
		slot = sfu__send_slot(t->w);
		memcpy(slot, p, len);
		sfu__send_commit(t->w, &t->cand, t->candlen, len);
		return;
	}
	if (!t->have_peer)
		return;
	slot = sfu__send_slot(t->w);
	memcpy(slot, p, len);
	sfu__send_to(t->w, t, len);
}

static void dtls_start(struct sfu_transport *t)
{
	const struct sockaddr_storage *a;
	socklen_t alen;

	if (t->dtls || !t->have_remote_fp)
		return;
	if (t->dtls_at_cand && t->have_cand) {
		a = &t->cand;
		alen = t->candlen;
	} else if (t->have_peer) {
		a = &t->peer;
		alen = t->peerlen;
	} else {
		return;
	}
	if (dtls_conn_new(t->w->dtls, t->remote_fp, a, alen,
			  dtls_out, t, &t->dtls)) {
		log_warn("sfu", "transport %u: cannot start DTLS", t->id);
		t->dtls = NULL;
	}
}

/* DTLS from the peer before its fingerprint is known: the latest datagram
 * is kept (one per transport, from the 5-tuple that passed ICE or the one
 * the browser nominated, so a stranger cannot make us hold anything) for
 * sfu__transport_remote_fp. */
static void hold_early_dtls(struct sfu_worker *w, struct sfu_transport *t,
			    const uint8_t *p, size_t len)
{
	if (len > SFU_MTU)
		return;
	if (!t->early_dtls && !(t->early_dtls = malloc(SFU_MTU)))
		return;
	memcpy(t->early_dtls, p, len);
	t->early_dtls_len = (uint16_t)len;
	w->c.dtls_early++;
}

static void drop_early_dtls(struct sfu_transport *t)
{
	free(t->early_dtls);
	t->early_dtls = NULL;
	t->early_dtls_len = 0;
}

static void dtls_check(struct sfu_worker *w, struct sfu_transport *t)
{
	struct dtls_srtp_keys keys;
	enum dtls_state st = dtls_conn_state(t->dtls);

	if (st == DTLS_STATE_CONNECTED && !t->srtp) {
		/* the handshake completed with the candidate: proof enough */
		if (t->dtls_at_cand)
			promote(w, t);
		if (dtls_conn_srtp_keys(t->dtls, &keys) == 0 &&
		    srtps_new(&keys, true, &t->srtp) == 0) {
			w->c.dtls_connected++;
			if (!t->connected_sent) {
				t->connected_sent = true;
				sfu__event(w, SFU_EV_CONNECTED, t->id);
			}
			log_debug("sfu", "transport %u: DTLS-SRTP up", t->id);
		}
		dtls_srtp_keys_wipe(&keys);
	} else if ((st == DTLS_STATE_FAILED || st == DTLS_STATE_CLOSED) &&
		   !t->failed_sent) {
		t->failed_sent = true;
		log_info("sfu", "transport %u: DTLS %s (%s)", t->id,
			 st == DTLS_STATE_FAILED ? "failed" : "closed",
			 dtls_conn_reason(t->dtls));
		/* a close_notify is a browser closing its connection (a tab
		 * closed, a leave): the signaling side ends the participant;
		 * only a failure removes it from here */
		if (st == DTLS_STATE_FAILED) {
			w->c.dtls_failed++;
			sfu__event(w, SFU_EV_FAILED, t->id);
		}
	}
}

/* ---- STUN --------------------------------------------------------------- */

/* A datagram we had to look at for nothing: charged to its source. */
static void junk(struct sfu_worker *w, const struct sockaddr_storage *from)
{
	srclimit_charge(w->junk, (const struct sockaddr *)from, w->now);
}

static void on_stun(struct sfu_worker *w, const struct sockaddr_storage *from,
		    socklen_t fromlen, const uint8_t *p, size_t len)
{
	struct stun_msg m;
	struct stun_str local, remote;
	struct sfu_transport *t;
	size_t outlen;
	uint8_t *slot;

	if (!stun_is_stun(p, len) || stun_decode(p, len, &m) != 0 ||
	    m.method != STUN_METHOD_BINDING || m.cls != STUN_CLASS_REQUEST ||
	    !m.has_username || !m.has_integrity ||
	    stun_ice_username_split(m.username, &local, &remote) != 0) {
		w->c.stun_dropped++;
		junk(w, from);
		return;
	}
	for (t = w->by_ufrag[hash_str((const char *)local.p, local.len)]; t;
	     t = t->next_ufrag)
		if (strlen(t->ufrag) == local.len &&
		    memcmp(t->ufrag, local.p, local.len) == 0)
			break;
	if (!t || stun_check_integrity(&m, p, t->pwd, strlen(t->pwd)) != 0 ||
	    (m.has_fingerprint && stun_check_fingerprint(&m, p) != 0)) {
		w->c.stun_dropped++;
		junk(w, from);
		return;
	}
	if (t->have_peer && addr_eq(&t->peer, from)) {
		/* RFC 7675: the media path's own address consents */
		t->last_consent_ms = w->now;
		if (m.use_candidate)
			cand_remove(w, t); /* the browser is back on this one */
	} else if (!t->have_peer && !t->srtp && !by_addr(w, from)) {
		/* the first path (nothing but DTLS goes there before the
		 * handshake completes, and it completes only with the browser
		 * that holds the certificate of the SDP) */
		set_peer(w, t, from, fromlen);
		t->last_consent_ms = w->now;
		dtls_start(t);
	} else if (m.use_candidate || !t->have_peer) {
		/* a nomination elsewhere, or an address another transport
		 * has: a candidate, until it proves itself (promote) */
		cand_set(w, t, from, fromlen);
		dtls_start(t);
	}
	/* the reply goes to where the check came from, even if that is not
	 * (yet) the transport's address */
	slot = sfu__send_slot(w);
	if (stun_write_binding_success(slot, SFU_MTU, m.tid,
				       (const struct sockaddr *)from, NULL, t->pwd,
				       strlen(t->pwd), &outlen) != 0)
		return;
	sfu__send_commit(w, from, fromlen, outlen);
	w->c.stun_ok++;
}

/* ---- the demultiplexer -------------------------------------------------- */

/* A DTLS datagram for t, from its address or (at_cand) its candidate. */
static void dtls_in(struct sfu_worker *w, struct sfu_transport *t,
		    bool at_cand, const uint8_t *p, size_t len)
{
	t->dtls_at_cand = at_cand;
	if (!t->dtls) {
		dtls_start(t);
		if (!t->dtls) {
			/* no fingerprint yet */
			hold_early_dtls(w, t, p, len);
			return;
		}
	}
	dtls_conn_input(t->dtls, p, len);
	dtls_check(w, t);
	/* its retransmission timer may run now */
	w->tick_soon = w->tick_soon || !t->srtp;
}

/* SRTP or SRTCP for t: unprotected and handled. Returns 0, or the error
 * of the unprotect (p may be garbled then). With `proof` the packet came
 * from t's candidate: once it authenticated (and passed the replay
 * window) the media path moves there, before the packet is handled. */
static int srtp_in(struct sfu_worker *w, struct sfu_transport *t, bool proof,
		   uint8_t *p, size_t len)
{
	size_t n = len;
	int err;

	if (rtp_is_rtcp(p, len)) {
		if ((err = srtps_unprotect_rtcp(t->srtp, p, &n)) != 0)
			return err;
		if (proof)
			promote(w, t);
		sfu__rtcp_in(w, t, p, n);
		return 0;
	}
	if (!t->publisher)
		return -EPROTO; /* subscribers send no media: not looked at */
	if ((err = srtps_unprotect_rtp(t->srtp, p, &n)) != 0)
		return err;
	if (proof)
		promote(w, t);
	sfu__rtp_in(w, t, p, n);
	return 0;
}

/* SRTP or SRTCP from `from` for a transport that claims it as its
 * candidate (other than `skip`): each claimant with keys tries its own on
 * a copy of the datagram. Returns whether one authenticated it. */
static bool srtp_to_claimant(struct sfu_worker *w,
			     const struct sockaddr_storage *from,
			     const struct sfu_transport *skip,
			     const uint8_t *orig, size_t len)
{
	uint8_t b[SFU_MTU];
	struct sfu_transport *c;

	if (len > sizeof(b))
		return false;
	for (c = w->by_cand[hash_addr(from)]; c; c = c->next_cand) {
		if (c == skip || !c->srtp || !addr_eq(&c->cand, from))
			continue;
		memcpy(b, orig, len);
		if (srtp_in(w, c, true, b, len) == 0)
			return true;
	}
	return false;
}

void sfu__packet(struct sfu_worker *w, const struct sockaddr_storage *from,
		 socklen_t fromlen, uint8_t *p, size_t len)
{
	static _Thread_local uint8_t orig[SFU_MTU];
	struct sfu_transport *t, *c = NULL;
	uint8_t b0;
	int err;

	if (len < 1)
		return;
	b0 = p[0];
	/* one lookup tells a peer that passed ICE from a stranger (and one
	 * more an address a transport's browser nominated); a stranger over
	 * its junk budget gets nothing more, not even a STUN decode */
	t = by_addr(w, from);
	if (!t)
		c = by_cand(w, from, NULL, ANY);
	if (!t && !c && srclimit_blocked(w->junk, (const struct sockaddr *)from,
					 w->now)) {
		w->c.junk_limited++;
		return;
	}
	if (b0 < 4) {
		on_stun(w, from, fromlen, p, len);
		return;
	}
	if (!t && !c) {
		w->c.unknown_source++;
		junk(w, from);
		return;
	}
	if (b0 >= 20 && b0 <= 63) {
		/* DTLS: the owner's, unless the owner is past its handshake
		 * and a claimant of the address is not (a new connection from
		 * the same 5-tuple); from a candidate only while its
		 * transport's handshake runs */
		if (t && t->srtp && t->contested &&
		    (c = by_cand(w, from, t, false)))
			dtls_in(w, c, true, p, len);
		else if (t)
			dtls_in(w, t, false, p, len);
		else if ((c = by_cand(w, from, NULL, false)))
			dtls_in(w, c, true, p, len);
		return;
	}
	if (b0 < 128 || b0 > 191)
		return;
	if (!t) {
		/* from a candidate: proof if it authenticates */
		if (!srtp_to_claimant(w, from, NULL, p, len)) {
			w->c.srtp_errors++;
			junk(w, from);
		}
		return;
	}
	if (t->contested) {
		/* the owner's keys first, then the claimants' on a copy (a
		 * failed unprotect may have garbled p) */
		if (len > sizeof(orig))
			return;
		memcpy(orig, p, len);
	}
	err = t->srtp ? srtp_in(w, t, false, p, len) : -ENOKEY;
	if (err == 0 || err == -EPROTO)
		return;
	if (t->contested && srtp_to_claimant(w, from, t, orig, len))
		return;
	if (t->srtp)
		w->c.srtp_errors++;
}

/* ---- life cycle --------------------------------------------------------- */

void sfu__transport_open(struct sfu_worker *w,
			 const struct sfu_transport_params *p)
{
	struct sfu_transport *t;

	if (sfu__transport_find(w, p->id))
		return;
	t = calloc(1, sizeof(*t));
	if (!t) {
		sfu__event(w, SFU_EV_FAILED, p->id);
		return;
	}
	t->w = w;
	t->id = p->id;
	t->publisher = p->publisher;
	memcpy(t->ufrag, p->ufrag, sizeof(t->ufrag));
	memcpy(t->pwd, p->pwd, sizeof(t->pwd));
	memcpy(t->remote_fp, p->remote_fp, sizeof(t->remote_fp));
	t->have_remote_fp = p->have_remote_fp;
	t->created_ms = w->now;
	t->created_us = sfu__now_us();
	t->last_consent_ms = w->now;
	ufrag_insert(w, t);
	t->next_all = w->all;
	w->all = t;
}

void sfu__transport_remote_fp(struct sfu_worker *w, uint32_t id,
			      const uint8_t fp[32])
{
	struct sfu_transport *t = sfu__transport_find(w, id);

	if (!t || t->have_remote_fp)
		return; /* the fingerprint of a transport never changes */
	memcpy(t->remote_fp, fp, 32);
	t->have_remote_fp = true;
	dtls_start(t);
	if (t->dtls && t->early_dtls) {
		dtls_conn_input(t->dtls, t->early_dtls, t->early_dtls_len);
		dtls_check(w, t);
		w->tick_soon = w->tick_soon || !t->srtp;
	}
	drop_early_dtls(t);
}

void sfu__transport_ice_restart(struct sfu_worker *w, uint32_t id,
				const char *ufrag, const char *pwd)
{
	struct sfu_transport *t = sfu__transport_find(w, id);

	if (!t)
		return;
	ufrag_remove(w, t);
	snprintf(t->ufrag, sizeof(t->ufrag), "%s", ufrag);
	/* a shorter password must not leave the old one's tail behind */
	secret_wipe(t->pwd, sizeof(t->pwd));
	snprintf(t->pwd, sizeof(t->pwd), "%s", pwd);
	ufrag_insert(w, t);
	/* consent restarts with the new credentials; DTLS and SRTP stay, and
	 * a candidate nominated under the old ones is forgotten */
	cand_remove(w, t);
	t->last_consent_ms = w->now;
	t->timeout_sent = false;
}

static void transport_free(struct sfu_worker *w, struct sfu_transport *t)
{
	struct sfu_out *o, *next;

	ufrag_remove(w, t);
	cand_remove(w, t);
	addr_remove(w, t);
	UNLINK(&w->all, t, next_all);
	for (size_t i = 0; i < SFU_MAX_TRACKS; i++)
		if (t->tracks[i])
			sfu__track_free(t->tracks[i]);
	/* its own outs need not retire their SSRCs: the session goes */
	srtps_free(t->srtp);
	t->srtp = NULL;
	for (o = t->outs; o; o = next) {
		next = o->next_in_sub;
		sfu__out_free(o);
	}
	if (t->dtls) {
		dtls_conn_close(t->dtls);
		dtls_conn_free(t->dtls);
	}
	drop_early_dtls(t);
	free(t->twcc);
	sfu__congestion_free(t);
	secret_wipe(t->pwd, sizeof(t->pwd));
	free(t);
}

void sfu__transport_close(struct sfu_worker *w, uint32_t id)
{
	struct sfu_transport *t = sfu__transport_find(w, id);
	if (t)
		transport_free(w, t);
}

void sfu__transports_free_all(struct sfu_worker *w)
{
	while (w->all)
		transport_free(w, w->all);
}

bool sfu__transports_tick(struct sfu_worker *w)
{
	struct sfu_transport *t;
	bool handshaking = false;

	for (t = w->all; t; t = t->next_all) {
		/* a transport with SRTP keys is past its handshake: its DTLS
		 * state is not read (a cache miss per transport and tick) */
		if (t->dtls && !t->srtp &&
		    dtls_conn_state(t->dtls) == DTLS_STATE_HANDSHAKING) {
			if (dtls_conn_timeout_ms(t->dtls) == 0) {
				dtls_conn_handle_timeout(t->dtls);
				dtls_check(w, t);
			}
			handshaking = true;
		}
		/* consent can only be lost once it was given: a transport that
		 * never connected (a participant without UDP, or one that has
		 * not answered yet) is left alone */
		if (!t->timeout_sent && t->have_peer &&
		    w->now - t->last_consent_ms > (uint64_t)w->media_timeout_ms) {
			t->timeout_sent = true;
			w->c.ice_timeouts++;
			log_info("sfu", "transport %u: no ICE consent for %d s",
				 t->id, w->media_timeout_ms / 1000);
			sfu__event(w, SFU_EV_TIMEOUT, t->id);
		}
	}
	return handshaking;
}
