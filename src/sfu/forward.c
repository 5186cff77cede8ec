/*
 * forward — tracks, subscriptions and the forwarding of RTP and RTCP.
 *
 * A publisher's RTP packet, once SRTP-unprotected, is matched to its track
 * by SSRC (known from the SDP, or learned from the MID header extension,
 * RFC 8843 §15). For each subscriber of the track it is rewritten into the
 * next slot of the send batch: the subscriber's own SSRC, a sequence number
 * and timestamp offset chosen at the subscriber's first packet (so later
 * source switches can stay continuous), the subscriber's payload type, and
 * a rebuilt header-extension block carrying only what the subscriber
 * negotiated. Then it is SRTP-protected with the subscriber's keys and
 * queued. No allocation, no lock: one copy of the payload per subscriber.
 *
 * Payloads are never read: with end-to-end encryption they are SFrame
 * ciphertext, and the SFU needs nothing from them here.
 *
 * RTCP from subscribers: PLI and FIR become one key frame request to the
 * publisher, coalesced to at most one per SFU_PLI_INTERVAL_MS per track
 * (a receiver that cannot decode asks every few hundred ms; a publisher
 * must not be driven into a key-frame storm). RTCP from publishers is
 * consumed here; the SFU sends its own receiver reports to publishers and
 * sender reports to subscribers.
 */
#include "sfu/sfu_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "srtp/srtp_session.h"
#include "util/log.h"
#include "util/ratelimit.h"
#include "util/secret.h"

enum {
	RTP_FIXED = 12,
	ONE_BYTE_PROFILE = 0xBEDE,      /* RFC 8285 §4.2 */
	NTP_UNIX_OFFSET = 2208988800u,  /* seconds from 1900 to 1970 */
};

/* ---- lookups ------------------------------------------------------------ */

static struct sfu_track *track_find(struct sfu_worker *w, uint32_t id)
{
	struct sfu_transport *t;
	for (t = w->all; t; t = t->next_all)
		if (t->publisher)
			for (size_t i = 0; i < SFU_MAX_TRACKS; i++)
				if (t->tracks[i] && t->tracks[i]->id == id)
					return t->tracks[i];
	return NULL;
}

/* ---- tracks and subscriptions ------------------------------------------- */

void sfu__track_add(struct sfu_worker *w, const struct sfu_track_params *p)
{
	struct sfu_transport *t = sfu__transport_find(w, p->transport);
	struct sfu_track *tr;
	size_t i, slot = SFU_MAX_TRACKS;

	if (!t || !t->publisher || track_find(w, p->track))
		return;
	for (i = 0; i < SFU_MAX_TRACKS; i++)
		if (!t->tracks[i]) {
			slot = i;
			break;
		}
	if (slot == SFU_MAX_TRACKS)
		return;
	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return;
	tr->pub = t;
	tr->id = p->track;
	tr->kind = p->kind;
	memcpy(tr->mid, p->mid, sizeof(tr->mid));
	memcpy(tr->ssrcs, p->ssrcs, sizeof(tr->ssrcs));
	memcpy(tr->rtx_ssrcs, p->rtx_ssrcs, sizeof(tr->rtx_ssrcs));
	tr->pt = p->pt;
	tr->rtx_pt = p->rtx_pt;
	memcpy(tr->ext_id, p->ext_id, sizeof(tr->ext_id));
	if (tr->kind == SFU_VIDEO) {
		/* allocated once per track, never per packet */
		tr->cache = calloc(SFU_CACHE, sizeof(*tr->cache));
		if (!tr->cache) {
			free(tr);
			return;
		}
	}
	t->tracks[slot] = tr;
}

void sfu__out_free(struct sfu_out *o)
{
	struct sfu_out **pp;

	for (pp = &o->track->outs; *pp; pp = &(*pp)->next_in_track)
		if (*pp == o) {
			*pp = o->next_in_track;
			break;
		}
	for (pp = &o->sub->outs; *pp; pp = &(*pp)->next_in_sub)
		if (*pp == o) {
			*pp = o->next_in_sub;
			break;
		}
	free(o);
}

void sfu__track_free(struct sfu_track *tr)
{
	struct sfu_transport *t = tr->pub;

	while (tr->outs)
		sfu__out_free(tr->outs);
	for (size_t i = 0; i < SFU_MAX_TRACKS; i++)
		if (t->tracks[i] == tr)
			t->tracks[i] = NULL;
	free(tr->cache);
	free(tr);
}

void sfu__track_remove(struct sfu_worker *w, uint32_t transport, uint32_t track)
{
	struct sfu_track *tr = track_find(w, track);
	if (tr && tr->pub->id == transport)
		sfu__track_free(tr);
}

void sfu__subscribe(struct sfu_worker *w, const struct sfu_sub_params *p)
{
	struct sfu_transport *sub = sfu__transport_find(w, p->transport);
	struct sfu_track *tr = track_find(w, p->track);
	struct sfu_out *o;

	if (!sub || sub->publisher || !tr)
		return;
	for (o = sub->outs; o; o = o->next_in_sub)
		if (o->track == tr)
			return;
	o = calloc(1, sizeof(*o));
	if (!o)
		return;
	o->sub = sub;
	o->track = tr;
	o->ssrc = p->ssrc;
	o->rtx_ssrc = p->rtx_ssrc;
	o->rtx_pt = p->rtx_pt;
	secret_random(&o->rtx_seq, sizeof(o->rtx_seq));
	memcpy(o->pt_in, p->pt_in, sizeof(o->pt_in));
	memcpy(o->pt_out, p->pt_out, sizeof(o->pt_out));
	o->audio_level_id = p->audio_level_id;
	o->next_in_track = tr->outs;
	tr->outs = o;
	o->next_in_sub = sub->outs;
	sub->outs = o;
	/* a new viewer needs a key frame to start decoding — but only once it
	 * can receive one: if its transport is not up yet, the request is
	 * made when it connects (sfu_request_keyframe with now = true) */
	if (tr->kind == SFU_VIDEO && sub->srtp)
		tr->pli_pending = true;
}

void sfu__unsubscribe(struct sfu_worker *w, uint32_t transport, uint32_t track)
{
	struct sfu_transport *sub = sfu__transport_find(w, transport);
	struct sfu_out *o;

	if (!sub)
		return;
	for (o = sub->outs; o; o = o->next_in_sub)
		if (o->track->id == track) {
			sfu__out_free(o);
			return;
		}
}

/* ---- key frames --------------------------------------------------------- */

static void send_pli(struct sfu_worker *w, struct sfu_track *tr)
{
	struct sfu_transport *pub = tr->pub;
	size_t len;
	uint8_t *slot;

	if (!pub->srtp || !pub->have_peer)
		return;
	for (size_t i = 0; i < SFU_MAX_TRACK_SSRCS; i++) {
		if (!tr->ssrcs[i])
			continue;
		slot = sfu__send_slot(w);
		if (rtcp_pli_write(slot, SFU_MTU - 64, SFU_SSRC_SFU, tr->ssrcs[i],
				   &len) != 0 ||
		    srtps_protect_rtcp(pub->srtp, slot, &len, SFU_MTU) != 0)
			continue;
		sfu__send_to(w, pub, len);
		w->c.pli_out++;
	}
}

/* Asks for a key frame now, or as soon as the throttle allows. */
static void want_keyframe(struct sfu_worker *w, struct sfu_track *tr)
{
	if (tr->kind != SFU_VIDEO)
		return;
	if (w->now - tr->last_pli_ms >= SFU_PLI_INTERVAL_MS) {
		tr->last_pli_ms = w->now;
		tr->pli_pending = false;
		send_pli(w, tr);
	} else {
		tr->pli_pending = true;
	}
}

void sfu__request_keyframe(struct sfu_worker *w, uint32_t track, bool now)
{
	struct sfu_track *tr = track_find(w, track);

	if (!tr)
		return;
	if (now && tr->kind == SFU_VIDEO && tr->ssrcs[0] &&
	    w->now - tr->last_pli_ms >= SFU_PLI_MIN_MS) {
		tr->last_pli_ms = w->now;
		tr->pli_pending = false;
		send_pli(w, tr);
		return;
	}
	want_keyframe(w, tr);
}

void sfu__keyframes_tick(struct sfu_worker *w)
{
	struct sfu_transport *t;

	for (t = w->all; t; t = t->next_all) {
		if (!t->publisher)
			continue;
		for (size_t i = 0; i < SFU_MAX_TRACKS; i++) {
			struct sfu_track *tr = t->tracks[i];
			if (tr && tr->pli_pending && tr->ssrcs[0])
				want_keyframe(w, tr);
		}
	}
}

/* ---- RTP ---------------------------------------------------------------- */

static struct sfu_track *track_for(struct sfu_worker *w, struct sfu_transport *t,
				   const uint8_t *p, const struct rtp_hdr *h,
				   size_t *layer, bool *rtx)
{
	const char *mid;
	size_t n, i, k;

	*rtx = false;
	for (i = 0; i < SFU_MAX_TRACKS; i++) {
		struct sfu_track *tr = t->tracks[i];
		if (!tr)
			continue;
		for (k = 0; k < SFU_MAX_TRACK_SSRCS; k++) {
			if (tr->ssrcs[k] && tr->ssrcs[k] == h->ssrc) {
				*layer = k;
				return tr;
			}
			if (tr->rtx_ssrcs[k] && tr->rtx_ssrcs[k] == h->ssrc) {
				*layer = k;
				*rtx = true;
				return tr;
			}
		}
	}
	/* unknown SSRC: learn it from the MID extension (RFC 8843 §15) */
	for (i = 0; i < SFU_MAX_TRACKS; i++) {
		struct sfu_track *tr = t->tracks[i];
		if (!tr || !tr->ext_id[SFU_EXT_MID] ||
		    rtp_ext_str(p, h, tr->ext_id[SFU_EXT_MID], &mid, &n) != 0 ||
		    n != strlen(tr->mid) || memcmp(mid, tr->mid, n) != 0)
			continue;
		for (k = 0; k < SFU_MAX_TRACK_SSRCS; k++)
			if (!tr->ssrcs[k]) {
				tr->ssrcs[k] = h->ssrc;
				*layer = k;
				if (k == 0 && tr->outs)
					tr->pli_pending = true;
				return tr;
			}
	}
	w->c.unknown_ssrc++;
	return NULL;
}

static void count_received(struct sfu_track *tr, uint16_t seq)
{
	if (!tr->have_seq) {
		tr->have_seq = true;
		tr->max_seq = seq;
		tr->base_seq = seq;
	} else if ((uint16_t)(seq - tr->max_seq) < 0x8000) {
		if (seq < tr->max_seq)
			tr->cycles += 0x10000;
		tr->max_seq = seq;
	}
	tr->received++;
}

static uint8_t map_pt(const struct sfu_out *o, uint8_t pt)
{
	for (size_t i = 0; i < sizeof(o->pt_in) && o->pt_in[i]; i++)
		if (o->pt_in[i] == pt)
			return o->pt_out[i];
	return 0;
}

static void forward_one(struct sfu_worker *w, struct sfu_out *o,
			const uint8_t *p, const struct rtp_hdr *h, bool have_level,
			bool voice, uint8_t level, bool retransmit)
{
	uint16_t out_seq;
	struct sfu_transport *sub = o->sub;
	uint8_t *out, pt;
	size_t len, hl = RTP_FIXED;

	if (!sub->srtp || !sub->have_peer)
		return;
	pt = map_pt(o, h->pt);
	if (!pt)
		return;
	if (!o->started) {
		uint16_t r16;
		uint32_t r32;
		secret_random(&r16, sizeof(r16));
		secret_random(&r32, sizeof(r32));
		o->seq_off = (uint16_t)(r16 - h->seq);
		o->ts_off = r32 - h->ts;
		o->last_seq = (uint16_t)(h->seq + o->seq_off - 1);
		o->started = true;
	}
	if (h->payload_len + RTP_FIXED + 8 +
		    srtps_rtp_overhead(sub->srtp) > SFU_MTU)
		return;
	out = sfu__send_slot(w);
	out[0] = 0x80;
	out[1] = (uint8_t)((h->marker ? 0x80 : 0) | pt);
	out_seq = (uint16_t)(h->seq + o->seq_off);
	if (!retransmit && (uint16_t)(out_seq - o->last_seq) < 0x8000) {
		/* a late packet keeps the newest sequence number and time */
		o->last_seq = out_seq;
		o->last_ts = h->ts + o->ts_off;
		o->last_ts_ms = w->now;
	}
	put_u16(out + 2, out_seq);
	put_u32(out + 4, h->ts + o->ts_off);
	put_u32(out + 8, o->ssrc);
	if (have_level && o->audio_level_id) {
		/* one one-byte element (RFC 8285 §4.2), padded to a word */
		out[0] |= 0x10;
		put_u16(out + 12, ONE_BYTE_PROFILE);
		put_u16(out + 14, 1);
		out[16] = (uint8_t)(o->audio_level_id << 4);
		out[17] = (uint8_t)((voice ? 0x80 : 0) | level);
		out[18] = out[19] = 0;
		hl = 20;
	}
	memcpy(out + hl, p + h->payload_off, h->payload_len);
	len = hl + h->payload_len;
	if (retransmit) {
		/* RFC 4588: a retransmission travels in the RTX stream with a
		 * sequence number of its own, never as a repeat of the original
		 * (SRTP must never encrypt two packets under one index) */
		struct rtp_hdr rh;
		if (rtp_parse(out, len, &rh) != 0 ||
		    rtp_rtx_wrap(out, len, &rh, out, SFU_MTU - SRTPS_MAX_OVERHEAD,
				 o->rtx_pt, o->rtx_ssrc, o->rtx_seq++, &len) != 0)
			return;
	}
	if (srtps_protect_rtp(sub->srtp, out, &len, SFU_MTU) != 0) {
		w->c.srtp_errors++;
		return;
	}
	sfu__send_to(w, sub, len);
	if (retransmit) {
		w->c.retransmits++;
		return;
	}
	if (w->tap) {
		/* --test-tap: what the SFU forwards, for tests that check it is
		 * ciphertext: ssrc, seq, pt, marker, length, payload */
		uint8_t rec[10];
		put_u32(rec, h->ssrc);
		put_u16(rec + 4, h->seq);
		rec[6] = h->pt;
		rec[7] = h->marker;
		put_u16(rec + 8, (uint16_t)h->payload_len);
		fwrite(rec, 1, sizeof(rec), w->tap);
		fwrite(p + h->payload_off, 1, h->payload_len, w->tap);
	}
	o->packets++;
	o->octets += (uint32_t)h->payload_len;
	w->c.rtp_forwarded++;
	w->c.bytes_forwarded += len;
}

/* ---- loss recovery ------------------------------------------------------ */

static void cache_put(struct sfu_track *tr, const uint8_t *p, size_t len,
		      uint16_t seq)
{
	struct sfu_cached *c = &tr->cache[seq & (SFU_CACHE - 1)];
	if (len > sizeof(c->data))
		return;
	c->seq = seq;
	c->len = (uint16_t)len;
	memcpy(c->data, p, len);
}

/* Notes which sequence numbers the publisher's leg lost; returns true if
 * the loss is too large to repair (ask for a key frame instead). */
static bool note_loss(struct sfu_track *tr, uint16_t seq)
{
	uint16_t gap;

	if (!tr->have_seq)
		return false;
	gap = (uint16_t)(seq - tr->max_seq);
	if (gap == 0 || gap >= 0x8000) {
		/* a late or repeated packet: no longer missing */
		tr->nack_tries[seq % SFU_NACK_WINDOW] = 0;
		return false;
	}
	if (gap >= SFU_NACK_WINDOW) {
		memset(tr->nack_tries, 0, sizeof(tr->nack_tries));
		return true;
	}
	for (uint16_t s = (uint16_t)(tr->max_seq + 1); s != seq; s++)
		tr->nack_tries[s % SFU_NACK_WINDOW] = 1;
	tr->nack_tries[seq % SFU_NACK_WINDOW] = 0;
	return false;
}

void sfu__nack_tick(struct sfu_worker *w)
{
	uint16_t lost[SFU_NACK_MAX];
	struct sfu_transport *t;
	size_t len, n;
	uint8_t *slot;

	for (t = w->all; t; t = t->next_all) {
		if (!t->publisher || !t->srtp || !t->have_peer)
			continue;
		for (size_t i = 0; i < SFU_MAX_TRACKS; i++) {
			struct sfu_track *tr = t->tracks[i];
			bool gave_up = false;

			if (!tr || !tr->cache || !tr->have_seq ||
			    w->now - tr->nack_last_ms < SFU_NACK_RETRY_MS)
				continue;
			n = 0;
			/* oldest first: walk back from the newest */
			for (int k = SFU_NACK_WINDOW - 1; k >= 1 && n < SFU_NACK_MAX; k--) {
				uint16_t s = (uint16_t)(tr->max_seq - k);
				uint8_t *tries = &tr->nack_tries[s % SFU_NACK_WINDOW];
				if (!*tries)
					continue;
				if (*tries > SFU_NACK_TRIES) {
					*tries = 0;
					gave_up = true;
					continue;
				}
				(*tries)++;
				lost[n++] = s;
			}
			if (gave_up)
				want_keyframe(w, tr);
			if (!n)
				continue;
			tr->nack_last_ms = w->now;
			slot = sfu__send_slot(w);
			if (rtcp_nack_write(slot, SFU_MTU - 64, SFU_SSRC_SFU, tr->ssrcs[0],
					    lost, n, &len) == 0 &&
			    srtps_protect_rtcp(t->srtp, slot, &len, SFU_MTU) == 0) {
				sfu__send_to(w, t, len);
				w->c.nack_out += n;
			}
		}
	}
}

struct nack_ctx {
	struct sfu_worker *w;
	struct sfu_out *o;
};

/* One packet a subscriber lost: resend it from the cache, rewritten for
 * that subscriber exactly as the first time. */
static void on_nack(uint16_t out_seq, void *arg)
{
	struct nack_ctx *x = arg;
	struct sfu_track *tr = x->o->track;
	uint16_t seq = (uint16_t)(out_seq - x->o->seq_off);
	struct sfu_cached *c;
	struct rtp_hdr h;

	x->w->c.nack_in++;
	/* a subscriber may not make the SFU send more than a budget of
	 * retransmissions (duplicate or endless NACKs would otherwise
	 * amplify its requests into the server's bandwidth) */
	if (!bucket_take(&x->o->rtx_budget, SFU_RTX_RATE, SFU_RTX_BURST, x->w->now)) {
		x->w->c.rtx_refused++;
		return;
	}
	if (!tr->cache || !x->o->rtx_ssrc) {
		x->w->c.cache_misses++;
		return;
	}
	c = &tr->cache[seq & (SFU_CACHE - 1)];
	if (!c->len || c->seq != seq || rtp_parse(c->data, c->len, &h) != 0) {
		x->w->c.cache_misses++;
		return;
	}
	forward_one(x->w, x->o, c->data, &h, false, false, 127, true);
}

/* ---- transport-wide congestion control feedback ------------------------- */

/* Records the arrival of a publisher's packet with transport-wide sequence
 * number `seq`, keeping the list ordered (reordered packets are rare). */
static void twcc_note(struct sfu_worker *w, struct sfu_transport *t,
		      uint16_t seq, uint32_t ssrc)
{
	struct sfu_twcc *tw = t->twcc;
	size_t i;

	if (!tw) {
		tw = t->twcc = calloc(1, sizeof(*tw)); /* once per transport */
		if (!tw)
			return;
	}
	if (!tw->have_base) {
		tw->base = seq;
		tw->have_base = true;
	}
	if ((uint16_t)(seq - tw->base) >= 0x8000 || tw->n == SFU_TWCC_MAX)
		return; /* already reported, or too many before the next tick */
	tw->media_ssrc = ssrc;
	for (i = tw->n; i > 0; i--) {
		uint16_t d = (uint16_t)(tw->seq[i - 1] - tw->base);
		if (d < (uint16_t)(seq - tw->base))
			break;
		if (tw->seq[i - 1] == seq)
			return; /* duplicate */
	}
	memmove(&tw->seq[i + 1], &tw->seq[i], (tw->n - i) * sizeof(tw->seq[0]));
	memmove(&tw->arrival_us[i + 1], &tw->arrival_us[i],
		(tw->n - i) * sizeof(tw->arrival_us[0]));
	tw->seq[i] = seq;
	tw->arrival_us[i] = (int64_t)(w->now_us - t->created_us);
	tw->n++;
}

void sfu__twcc_tick(struct sfu_worker *w)
{
	struct rtcp_twcc_status st[SFU_TWCC_MAX];
	struct sfu_transport *t;
	struct rtcp_twcc fb;
	size_t len;
	uint8_t *slot;

	for (t = w->all; t; t = t->next_all) {
		struct sfu_twcc *tw = t->twcc;
		if (!tw || !tw->n || !t->srtp || !t->have_peer)
			continue;
		for (size_t i = 0; i < tw->n; i++) {
			st[i].seq = tw->seq[i];
			st[i].received = true;
			st[i].arrival_us = tw->arrival_us[i];
			st[i].delta_us = 0;
		}
		memset(&fb, 0, sizeof(fb));
		fb.base_seq = tw->base;
		fb.ref_time = (int32_t)((tw->arrival_us[0] / 64000) & 0x7fffff);
		fb.fb_count = tw->fb_count++;
		slot = sfu__send_slot(w);
		if (rtcp_twcc_write(slot, SFU_MTU - 64, SFU_SSRC_SFU, tw->media_ssrc,
				    &fb, st, tw->n, &len) == 0 &&
		    srtps_protect_rtcp(t->srtp, slot, &len, SFU_MTU) == 0) {
			sfu__send_to(w, t, len);
			w->c.twcc_out++;
		}
		tw->base = (uint16_t)(tw->seq[tw->n - 1] + 1);
		tw->n = 0;
	}
}

/* ---- audio levels ------------------------------------------------------- */

void sfu__levels_tick(struct sfu_worker *w)
{
	struct sfu_transport *t;

	for (t = w->all; t; t = t->next_all) {
		if (!t->publisher)
			continue;
		for (size_t i = 0; i < SFU_MAX_TRACKS; i++) {
			struct sfu_track *tr = t->tracks[i];
			if (!tr || tr->kind != SFU_AUDIO || !tr->loud_n)
				continue;
			sfu__event_level(w, SFU_EV_LEVEL, t->id, tr->id,
					 (uint8_t)(tr->loud_acc / tr->loud_n));
			tr->loud_acc = tr->loud_n = 0;
		}
	}
}

void sfu__rtp_in(struct sfu_worker *w, struct sfu_transport *t, uint8_t *p,
		 size_t len)
{
	static _Thread_local uint8_t orig[SFU_MTU];
	struct rtp_hdr h;
	struct sfu_track *tr;
	struct sfu_out *o;
	size_t layer = 0, olen;
	bool voice = false, have_level = false, rtx;
	uint8_t level = 127;

	if (rtp_parse(p, len, &h) != 0)
		return;
	w->c.rtp_in++;
	tr = track_for(w, t, p, &h, &layer, &rtx);
	if (!tr)
		return;
	if (tr->ext_id[SFU_EXT_TWCC]) {
		uint16_t tseq;
		if (rtp_ext_twcc_seq(p, &h, tr->ext_id[SFU_EXT_TWCC], &tseq) == 0)
			twcc_note(w, t, tseq, h.ssrc);
	}
	if (rtx) {
		/* RFC 4588: rebuild the original packet and carry on with it */
		if (!tr->pt || rtp_rtx_unwrap(p, len, &h, orig, sizeof(orig), tr->pt,
					      tr->ssrcs[layer], &olen) != 0 ||
		    rtp_parse(orig, olen, &h) != 0)
			return;
		w->c.rtx_in++;
		p = orig;
		len = olen;
	}
	if (layer != 0)
		return; /* one layer per track until simulcast selection */
	if (rtx && (!tr->cache || !tr->have_seq ||
		    (uint16_t)(tr->max_seq - h.seq) >= SFU_NACK_WINDOW ||
		    !tr->nack_tries[h.seq % SFU_NACK_WINDOW]))
		return; /* a repair of nothing we lost (probes, duplicates) */
	if (tr->cache) {
		if (note_loss(tr, h.seq))
			want_keyframe(w, tr);
		cache_put(tr, p, len, h.seq);
	}
	count_received(tr, h.seq);
	if (h.payload_len == 0)
		return; /* padding-only probes end here */
	if (tr->ext_id[SFU_EXT_AUDIO_LEVEL]) {
		have_level = rtp_ext_audio_level(p, &h, tr->ext_id[SFU_EXT_AUDIO_LEVEL],
						 &voice, &level) == 0;
		if (have_level) {
			tr->loud_acc += 127u - level;
			tr->loud_n++;
		}
	}
	for (o = tr->outs; o; o = o->next_in_track)
		forward_one(w, o, p, &h, have_level, voice, level, false);
}

/* ---- RTCP --------------------------------------------------------------- */

static struct sfu_out *out_by_ssrc(struct sfu_transport *sub, uint32_t ssrc)
{
	struct sfu_out *o;
	for (o = sub->outs; o; o = o->next_in_sub)
		if (o->ssrc == ssrc)
			return o;
	return NULL;
}

void sfu__rtcp_in(struct sfu_worker *w, struct sfu_transport *t, uint8_t *p,
		  size_t len)
{
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct sfu_out *o;
	struct rtcp_fir fir;

	rtcp_iter_init(&it, p, len);
	while (rtcp_next(&it, &pkt) == 1) {
		w->c.rtcp_in++;
		if (t->publisher)
			continue; /* SR/SDES from publishers: nothing to do yet */
		if (pkt.type == RTCP_RTPFB && pkt.fmt == RTCP_FMT_NACK) {
			struct nack_ctx x = { w, out_by_ssrc(t, pkt.media_ssrc) };
			if (x.o)
				rtcp_nack_foreach(&pkt, on_nack, &x);
		} else if (rtcp_is_pli(&pkt)) {
			w->c.pli_in++;
			o = out_by_ssrc(t, pkt.media_ssrc);
			if (o)
				want_keyframe(w, o->track);
		} else if (rtcp_fir_count(&pkt) > 0) {
			w->c.pli_in++;
			for (int i = 0; i < rtcp_fir_count(&pkt); i++)
				if (rtcp_fir_entry(&pkt, (unsigned)i, &fir) == 0 &&
				    (o = out_by_ssrc(t, fir.ssrc)))
					want_keyframe(w, o->track);
		}
	}
}

/* ---- reports ------------------------------------------------------------ */

static uint64_t ntp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)(ts.tv_sec + NTP_UNIX_OFFSET) << 32) |
	       (uint64_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000u);
}

void sfu__reports_tick(struct sfu_worker *w)
{
	struct sfu_transport *t;
	uint64_t ntp = ntp_now();
	size_t len;
	uint8_t *slot;

	for (t = w->all; t; t = t->next_all) {
		if (!t->srtp || !t->have_peer)
			continue;
		if (t->publisher) {
			/* RR: one report block per track's first SSRC */
			struct rtcp_rb rb[SFU_MAX_TRACKS];
			size_t n = 0;
			for (size_t i = 0; i < SFU_MAX_TRACKS; i++) {
				struct sfu_track *tr = t->tracks[i];
				if (!tr || !tr->have_seq)
					continue;
				memset(&rb[n], 0, sizeof(rb[n]));
				rb[n].ssrc = tr->ssrcs[0];
				rb[n].ext_highest_seq = tr->cycles | tr->max_seq;
				n++;
			}
			if (!n)
				continue;
			slot = sfu__send_slot(w);
			if (rtcp_rr_write(slot, SFU_MTU - 64, SFU_SSRC_SFU, rb, n,
					  &len) == 0 &&
			    srtps_protect_rtcp(t->srtp, slot, &len, SFU_MTU) == 0)
				sfu__send_to(w, t, len);
			continue;
		}
		/* SR per forwarded stream, so receivers can map RTP time to
		 * wall-clock time (audio/video synchronisation) */
		for (struct sfu_out *o = t->outs; o; o = o->next_in_sub) {
			struct rtcp_sr sr;
			uint32_t clock = o->track->kind == SFU_AUDIO ? 48000 : 90000;
			if (!o->started)
				continue;
			sr.ntp = ntp;
			sr.rtp_ts = o->last_ts +
				    (uint32_t)((w->now - o->last_ts_ms) * clock / 1000);
			sr.pkt_count = o->packets;
			sr.octet_count = o->octets;
			slot = sfu__send_slot(w);
			if (rtcp_sr_write(slot, SFU_MTU - 64, o->ssrc, &sr, NULL, 0,
					  &len) == 0 &&
			    srtps_protect_rtcp(t->srtp, slot, &len, SFU_MTU) == 0)
				sfu__send_to(w, t, len);
		}
	}
}
