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
 * ICE-lite (RFC 8445 §2.5): the server never sends checks; it answers them.
 * The first valid check sets the transport's address; a check carrying
 * USE-CANDIDATE (the browser's nomination) moves it, which is also how an
 * ICE restart or a network change lands on a new address. Consent
 * freshness (RFC 7675): a transport that gets no valid check for
 * media_timeout seconds is reported lost.
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

static void set_peer(struct sfu_worker *w, struct sfu_transport *t,
		     const struct sockaddr_storage *a, socklen_t len)
{
	struct sfu_transport *other = by_addr(w, a);

	if (other == t)
		return;
	if (other) {
		/* the address moved to another transport (a reconnect from the
		 * same port): the old one loses it */
		addr_remove(w, other);
		other->have_peer = false;
	}
	addr_remove(w, t);
	memcpy(&t->peer, a, len);
	t->peerlen = len;
	t->have_peer = true;
	t->next_addr = w->by_addr[hash_addr(a)];
	w->by_addr[hash_addr(a)] = t;
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

static void dtls_out(const uint8_t *p, size_t len, void *arg)
{
	struct sfu_transport *t = arg;
	uint8_t *slot;

	if (!t->have_peer || len > SFU_MTU)
		return;
	slot = sfu__send_slot(t->w);
	memcpy(slot, p, len);
	sfu__send_to(t->w, t, len);
}

static void dtls_start(struct sfu_transport *t)
{
	if (t->dtls || !t->have_remote_fp || !t->have_peer)
		return;
	if (dtls_conn_new(t->w->dtls, t->remote_fp, &t->peer, t->peerlen,
			  dtls_out, t, &t->dtls)) {
		log_warn("sfu", "transport %u: cannot start DTLS", t->id);
		t->dtls = NULL;
	}
}

/* DTLS from the peer before its fingerprint is known: the latest datagram
 * is kept (one per transport, from the 5-tuple that passed ICE, so a
 * stranger cannot make us hold anything) for sfu__transport_remote_fp. */
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
	t->last_consent_ms = w->now;
	if (!t->have_peer || m.use_candidate) {
		set_peer(w, t, from, fromlen);
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

void sfu__packet(struct sfu_worker *w, const struct sockaddr_storage *from,
		 socklen_t fromlen, uint8_t *p, size_t len)
{
	struct sfu_transport *t;
	uint8_t b0;
	size_t n = len;

	if (len < 1)
		return;
	b0 = p[0];
	/* one lookup tells a peer that passed ICE from a stranger; a stranger
	 * over its junk budget gets nothing more, not even a STUN decode */
	t = by_addr(w, from);
	if (!t && srclimit_blocked(w->junk, (const struct sockaddr *)from,
				   w->now)) {
		w->c.junk_limited++;
		return;
	}
	if (b0 < 4) {
		on_stun(w, from, fromlen, p, len);
		return;
	}
	if (!t) {
		w->c.unknown_source++;
		junk(w, from);
		return;
	}
	if (b0 >= 20 && b0 <= 63) {
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
		return;
	}
	if (b0 < 128 || b0 > 191 || !t->srtp)
		return;
	if (rtp_is_rtcp(p, len)) {
		if (srtps_unprotect_rtcp(t->srtp, p, &n) != 0) {
			w->c.srtp_errors++;
			return;
		}
		sfu__rtcp_in(w, t, p, n);
		return;
	}
	if (!t->publisher)
		return; /* subscribers send no media */
	if (srtps_unprotect_rtp(t->srtp, p, &n) != 0) {
		w->c.srtp_errors++;
		return;
	}
	sfu__rtp_in(w, t, p, n);
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
	snprintf(t->pwd, sizeof(t->pwd), "%s", pwd);
	ufrag_insert(w, t);
	/* consent restarts with the new credentials; DTLS and SRTP stay */
	t->last_consent_ms = w->now;
	t->timeout_sent = false;
}

static void transport_free(struct sfu_worker *w, struct sfu_transport *t)
{
	struct sfu_out *o, *next;

	ufrag_remove(w, t);
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
