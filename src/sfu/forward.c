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
 * Simulcast: a track may arrive as up to three layers (RFC 8853), each its
 * own RTP stream; every out forwards one of them at a time and switches
 * only at a key frame of the new layer, keeping its sequence numbers,
 * timestamps and VP8 picture ids continuous (simulcast.c chooses the layer).
 *
 * RTCP from subscribers: PLI and FIR become one key frame request to the
 * publisher, coalesced to at most one per SFU_PLI_INTERVAL_MS per track
 * (a receiver that cannot decode asks every few hundred ms; a publisher
 * must not be driven into a key-frame storm). RTCP from publishers is
 * consumed here; the SFU sends its own receiver reports to publishers and
 * sender reports to subscribers.
 */
#include "sfu/sfu_int.h"

#include <errno.h>
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

/* Packets kept for NACKs on simulcast layer `layer` of `n`: SFU_CACHE on
 * the top one, half as many on each one below, at least a quarter. */
static size_t cache_slots(size_t layer, size_t n)
{
	size_t below = n - 1 - layer;
	return SFU_CACHE >> (below < 2 ? below : 2);
}

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
	tr->codec = p->codec;
	tr->nlayers = 1;
	tr->layers_sent = 1;
	if (tr->kind == SFU_VIDEO && p->nlayers > 1) {
		tr->nlayers = p->nlayers > SFU_MAX_LAYERS ? SFU_MAX_LAYERS : p->nlayers;
		memcpy(tr->rids, p->rids, sizeof(tr->rids));
		for (i = 0; i < SFU_MAX_LAYERS; i++) {
			tr->rids[i][SFU_RID_MAX] = '\0';
			tr->layers_on_ms[i] = w->now;
		}
		/* a browser starts sending every layer */
		tr->layers_sent = (uint8_t)((1u << tr->nlayers) - 1);
	}
	if (tr->kind == SFU_VIDEO) {
		/* allocated once per layer, never per packet; past the worker's
		 * budget (media_cache_mib) the track is forwarded without one:
		 * its subscribers' NACKs go unanswered (cache_misses) and their
		 * decoders ask for a key frame instead */
		size_t need = 0;

		for (i = 0; i < tr->nlayers; i++)
			need += cache_slots(i, tr->nlayers) * sizeof(struct sfu_cached);
		if (w->cache_bytes + need > w->cache_budget) {
			w->c.cache_refused++;
			log_warn("sfu", "worker %u: a video track without a "
				 "retransmission cache: %zu MiB held "
				 "(media_cache_mib)", w->index, w->cache_bytes >> 20);
		} else {
			for (i = 0; i < tr->nlayers; i++) {
				tr->st[i].cache_slots =
					(uint16_t)cache_slots(i, tr->nlayers);
				tr->st[i].cache = calloc(tr->st[i].cache_slots,
							 sizeof(*tr->st[i].cache));
				if (!tr->st[i].cache) {
					while (i--)
						free(tr->st[i].cache);
					free(tr);
					return;
				}
			}
			w->cache_bytes += need;
		}
	}
	t->tracks[slot] = tr;
}

/* One of an out's SSRCs will not be sent again: retired from its
 * subscriber's outbound SRTP session, which frees the stream and refuses
 * the SSRC from then on (srtps_retire_out; the control plane draws a new
 * random SSRC for every subscription). Not while another out of the same
 * subscriber carries it (random SSRCs may collide, and they share one
 * stream), nor the SFU's own RTCP SSRC. */
static void retire_ssrc(struct sfu_out *o, uint32_t ssrc)
{
	struct sfu_transport *sub = o->sub;
	int err;

	if (!ssrc || ssrc == SFU_SSRC_SFU || !sub->srtp)
		return;
	for (const struct sfu_out *x = sub->outs; x; x = x->next_in_sub)
		if (x != o && (x->ssrc == ssrc || x->rtx_ssrc == ssrc))
			return;
	err = srtps_retire_out(sub->srtp, ssrc);
	if (err == 0)
		sub->w->c.ssrc_retired++;
	else if (err != -ENOENT)
		sub->w->c.ssrc_kept++;   /* -ENOSPC, -ENOMEM: the stream stays */
}

void sfu__out_free(struct sfu_out *o)
{
	struct sfu_out **pp;

	retire_ssrc(o, o->ssrc);
	if (o->rtx_ssrc != o->ssrc)
		retire_ssrc(o, o->rtx_ssrc);

	for (pp = &o->track->outs; *pp; pp = &(*pp)->next_in_track)
		if (*pp == o) {
			*pp = o->next_in_track;
			o->track->nouts--;
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
	for (unsigned i = 0; i < t->w->npend; i++)
		if (t->w->pend[i].tr == tr)
			t->w->pend[i].tr = NULL;
	for (size_t i = 0; i < SFU_MAX_TRACKS; i++)
		if (t->tracks[i] == tr)
			t->tracks[i] = NULL;
	for (size_t i = 0; i < SFU_MAX_LAYERS; i++) {
		if (tr->st[i].cache)
			t->w->cache_bytes -= tr->st[i].cache_slots *
					     sizeof(struct sfu_cached);
		free(tr->st[i].cache);
	}
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
	o->map.layer = o->prev.layer = -1;
	o->view = (int8_t)(tr->nlayers - 1);
	o->reported_layer = -2;
	o->next_in_track = tr->outs;
	tr->outs = o;
	tr->nouts++;
	o->next_in_sub = sub->outs;
	sub->outs = o;
	if (p->twcc_id && sfu__congestion_enable(sub, p->twcc_id) == 0)
		o->twcc_id = p->twcc_id;
	/* the layer it starts with, and a key frame to start decoding — but
	 * only once it can receive one: if its transport is not up yet, the
	 * request is made when it connects (sfu_request_keyframe, now) */
	sfu__allocate(w, sub);
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

static void send_pli(struct sfu_worker *w, struct sfu_track *tr, size_t layer)
{
	struct sfu_transport *pub = tr->pub;
	size_t len;
	uint8_t *slot;

	if (!pub->srtp || !pub->have_peer || !tr->ssrcs[layer])
		return;
	slot = sfu__send_slot(w);
	if (rtcp_pli_write(slot, SFU_MTU - 64, SFU_SSRC_SFU, tr->ssrcs[layer],
			   &len) != 0 ||
	    srtps_protect_rtcp(pub->srtp, slot, &len, SFU_MTU) != 0)
		return;
	sfu__send_to(w, pub, len);
	w->c.pli_out++;
}

/* Asks for a key frame of one layer: now if the last request went out at
 * least `gap_ms` ago, else as soon as that allows (the tick sends it). The
 * gaps: SFU_PLI_INTERVAL_MS for ordinary requests, SFU_PLI_REPAIR_MS when
 * a loss could not be repaired, SFU_PLI_MIN_MS when a subscriber cannot
 * show anything (it must not wait a second). */
void sfu__want_keyframe(struct sfu_worker *w, struct sfu_track *tr,
			int layer, unsigned gap_ms)
{
	struct sfu_stream *st;

	if (tr->kind != SFU_VIDEO || layer < 0 || layer >= tr->nlayers)
		return;
	st = &tr->st[layer];
	/* a request keeps the shortest gap asked for while it waits */
	if (st->pli_pending && st->pli_gap_ms < gap_ms)
		gap_ms = st->pli_gap_ms;
	if (w->now - st->last_pli_ms >= gap_ms && tr->ssrcs[layer]) {
		st->last_pli_ms = w->now;
		st->pli_pending = false;
		st->pli_gap_ms = SFU_PLI_INTERVAL_MS;
		/* sent again unanswered only where the answer can be seen:
		 * the codecs whose key frames starts_keyframe() knows */
		if (tr->codec == SFU_CODEC_VP8 || tr->codec == SFU_CODEC_VP9)
			st->pli_retries = SFU_PLI_RETRIES;
		else
			st->pli_retries = 0;
		send_pli(w, tr, (size_t)layer);
	} else {
		st->pli_pending = true;
		st->pli_gap_ms = (uint16_t)gap_ms;
		w->tick_soon = true;
	}
}

/* A request no key frame has answered while the layer kept sending: the
 * PLI or the first packets of the key frame were lost on the way (a lossy
 * uplink), and subscribers may be frozen until one comes. It goes again, a
 * few times. A layer that has sent nothing since the request is waited
 * for: it may be slow (a still screen sends a frame a second) or paused
 * (it starts with a key frame when it resumes); after SFU_LAYER_IDLE_MS of
 * silence, gone. */
static void retry_keyframe(struct sfu_worker *w, struct sfu_track *tr,
			   int layer)
{
	struct sfu_stream *st = &tr->st[layer];

	/* (a key frame's first packet clears pli_retries: sfu__rtp_in) */
	if (st->pli_pending || !st->pli_retries)
		return;
	if (st->last_rx_ms <= st->last_pli_ms) {
		/* (a packet of the same millisecond is taken as before it:
		 * the tick runs after the wake-up's packets) */
		if (w->now - st->last_pli_ms >= SFU_LAYER_IDLE_MS)
			st->pli_retries = 0;
		return;
	}
	if (w->now - st->last_pli_ms < SFU_PLI_RETRY_MS)
		return;
	st->pli_retries--;
	st->last_pli_ms = w->now;
	w->c.pli_retries++;
	send_pli(w, tr, (size_t)layer);
}

/* The layers its subscribers forward or wait for (layer 0 if none). */
static unsigned layers_in_use(const struct sfu_worker *w,
			      const struct sfu_track *tr)
{
	unsigned mask = 0;
	for (const struct sfu_out *o = tr->outs; o; o = o->next_in_track) {
		if (o->map.layer >= 0)
			mask |= 1u << o->map.layer;
		if (o->target >= 0)
			mask |= 1u << o->target;
		/* a viewer that shows nothing yet starts at the lowest layer
		 * that flows (forward_video) */
		if (o->map.layer < 0 && o->target >= 0)
			mask |= 1u << sfu__start_layer(w, o);
	}
	return mask ? mask : 1u;
}

void sfu__request_keyframe(struct sfu_worker *w, uint32_t track, bool now)
{
	struct sfu_track *tr = track_find(w, track);
	unsigned mask;

	if (!tr)
		return;
	mask = layers_in_use(w, tr);
	for (int k = 0; k < tr->nlayers; k++)
		if (mask & (1u << k))
			sfu__want_keyframe(w, tr, k, now ? SFU_PLI_MIN_MS :
							     SFU_PLI_INTERVAL_MS);
}

bool sfu__keyframes_tick(struct sfu_worker *w)
{
	struct sfu_transport *t;
	bool waiting = false;

	for (t = w->all; t; t = t->next_all) {
		if (!t->publisher)
			continue;
		for (size_t i = 0; i < SFU_MAX_TRACKS; i++) {
			struct sfu_track *tr = t->tracks[i];
			if (!tr)
				continue;
			for (int k = 0; k < tr->nlayers; k++) {
				struct sfu_stream *st = &tr->st[k];
				if (st->pli_pending && tr->ssrcs[k])
					sfu__want_keyframe(w, tr, k,
							   SFU_PLI_INTERVAL_MS);
				retry_keyframe(w, tr, k);
				/* (a silent layer's retry waits for its next
				 * packet, and the next idle tick) */
				waiting = waiting || st->pli_pending ||
					  (st->pli_retries &&
					   st->last_rx_ms > st->last_pli_ms);
			}
		}
	}
	return waiting;
}

/* ---- RTP ---------------------------------------------------------------- */

static bool ext_is(const uint8_t *p, const struct rtp_hdr *h, uint8_t id,
		   const char *want)
{
	const char *v;
	size_t n;

	return id && rtp_ext_str(p, h, id, &v, &n) == 0 && n == strlen(want) &&
	       memcmp(v, want, n) == 0;
}

/* The layer a rid names, or -1. */
static int layer_of_rid(const struct sfu_track *tr, const uint8_t *p,
			const struct rtp_hdr *h, uint8_t id)
{
	for (int k = 0; k < tr->nlayers; k++)
		if (tr->rids[k][0] && ext_is(p, h, id, tr->rids[k]))
			return k;
	return -1;
}

static struct sfu_track *track_for(struct sfu_worker *w, struct sfu_transport *t,
				   const uint8_t *p, const struct rtp_hdr *h,
				   size_t *layer, bool *rtx)
{
	size_t i, k;
	int l;

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
	/* unknown SSRC: a simulcast layer names itself with its rid, its RTX
	 * stream with the repaired rid (RFC 8852 §3); a single stream is
	 * learned from the MID extension (RFC 8843 §15) */
	for (i = 0; i < SFU_MAX_TRACKS; i++) {
		struct sfu_track *tr = t->tracks[i];
		if (!tr || !ext_is(p, h, tr->ext_id[SFU_EXT_MID], tr->mid))
			continue;
		if (tr->nlayers > 1) {
			if ((l = layer_of_rid(tr, p, h, tr->ext_id[SFU_EXT_RID])) >= 0 &&
			    !tr->ssrcs[l]) {
				tr->ssrcs[l] = h->ssrc;
				*layer = (size_t)l;
				return tr;
			}
			if ((l = layer_of_rid(tr, p, h, tr->ext_id[SFU_EXT_RRID])) >= 0 &&
			    !tr->rtx_ssrcs[l] && tr->rtx_pt && h->pt == tr->rtx_pt) {
				tr->rtx_ssrcs[l] = h->ssrc;
				*layer = (size_t)l;
				*rtx = true;
				return tr;
			}
			continue;
		}
		if (tr->rtx_pt && h->pt == tr->rtx_pt) {
			/* an RTX stream announced by mid only */
			if (!tr->rtx_ssrcs[0]) {
				tr->rtx_ssrcs[0] = h->ssrc;
				*layer = 0;
				*rtx = true;
				return tr;
			}
			continue;
		}
		for (k = 0; k < SFU_MAX_TRACK_SSRCS; k++)
			if (!tr->ssrcs[k]) {
				tr->ssrcs[k] = h->ssrc;
				*layer = k;
				if (k == 0 && tr->outs) {
					tr->st[0].pli_pending = true;
					w->tick_soon = true;
				}
				return tr;
			}
	}
	w->c.unknown_ssrc++;
	return NULL;
}

static void count_received(struct sfu_stream *st, uint16_t seq)
{
	if (!st->have_seq) {
		st->have_seq = true;
		st->max_seq = seq;
		st->base_seq = seq;
	} else if ((uint16_t)(seq - st->max_seq) < 0x8000) {
		if (seq < st->max_seq)
			st->cycles += 0x10000;
		st->max_seq = seq;
	}
	st->received++;
}

/* Bitrate of a stream, over windows of SFU_RATE_MS. */
static void count_rate(struct sfu_worker *w, struct sfu_stream *st, size_t len)
{
	if (w->now - st->rate_start_ms >= SFU_RATE_MS) {
		uint64_t span = w->now - st->rate_start_ms;
		st->bps = span < 2 * SFU_RATE_MS
				  ? (uint32_t)((uint64_t)st->rate_bytes * 8000u / span)
				  : 0;
		st->rate_start_ms = w->now;
		st->rate_bytes = 0;
	}
	st->rate_bytes += (uint32_t)len;
	st->last_rx_ms = w->now;
}

static uint8_t map_pt(const struct sfu_out *o, uint8_t pt)
{
	for (size_t i = 0; i < sizeof(o->pt_in) && o->pt_in[i]; i++)
		if (o->pt_in[i] == pt)
			return o->pt_out[i];
	return 0;
}

/* Header extensions for a subscriber: RFC 6464 audio level (audio) and the
 * transport-wide sequence number, one-byte form (RFC 8285 §4.2), padded to
 * a word. Returns the header length. */
static size_t put_exts(struct sfu_out *o, uint8_t *out, bool have_level,
		       bool voice, uint8_t level, bool *twcc)
{
	size_t n = 16;

	*twcc = false;
	if (have_level && o->audio_level_id) {
		out[n++] = (uint8_t)(o->audio_level_id << 4);
		out[n++] = (uint8_t)((voice ? 0x80 : 0) | level);
	}
	if (o->twcc_id && o->sub->bwe) {
		out[n++] = (uint8_t)(o->twcc_id << 4 | 1);
		put_u16(out + n, o->sub->twcc_seq);
		n += 2;
		*twcc = true;
	}
	if (n == 16)
		return RTP_FIXED;
	while (n % 4)
		out[n++] = 0;
	out[0] |= 0x10;
	put_u16(out + 12, ONE_BYTE_PROFILE);
	put_u16(out + 14, (uint16_t)((n - 16) / 4));
	return n;
}

/* VP8: the picture id and TL0PICIDX of the copy, shifted like the
 * sequence number so a layer switch looks continuous to the decoder. */
static void rewrite_vp8(struct sfu_out *o, const struct sfu_map *m,
			const struct rtp_vp8 *d, uint8_t *payload, bool retransmit)
{
	if (d->has_picture_id) {
		uint16_t pic = (uint16_t)((d->picture_id + m->pic_off) & 0x7fff);
		if (m->pic_off)
			rtp_vp8_set_picture_id(payload, d, pic);
		if (!retransmit && (!o->have_pic ||
				    ((pic - o->last_pic) & 0x7fff) < 0x4000)) {
			o->last_pic = pic;
			o->have_pic = true;
		}
	}
	if (d->has_tl0picidx) {
		uint8_t tl0 = (uint8_t)(d->tl0picidx + m->tl0_off);
		if (m->tl0_off)
			rtp_vp8_set_tl0picidx(payload, d, tl0);
		if (!retransmit && (!o->have_tl0 || (uint8_t)(tl0 - o->last_tl0) < 0x80)) {
			o->last_tl0 = tl0;
			o->have_tl0 = true;
		}
	}
}

/* Whether a subscriber can be sent media: its DTLS-SRTP is up and its
 * address passed ICE. Until then none of its outs starts (switch_to): its
 * picture begins at a key frame it can receive, and it counts as a new
 * viewer (new_viewer) from then, not from before it could see anything. */
static bool can_send(const struct sfu_transport *sub)
{
	return sub->srtp && sub->have_peer;
}

/* `vp8`: the packet's VP8 payload descriptor when the caller parsed it
 * (once for all its copies), else NULL. */
static void forward_one(struct sfu_worker *w, struct sfu_out *o,
			const struct sfu_map *m, const uint8_t *p,
			const struct rtp_hdr *h, const struct rtp_vp8 *vp8,
			bool have_level, bool voice, uint8_t level,
			bool retransmit)
{
	struct rtp_vp8 d;
	uint16_t out_seq;
	struct sfu_transport *sub = o->sub;
	uint8_t *out, pt;
	size_t len, hl;
	bool twcc, same_frame;

	if (!can_send(sub))
		return;
	pt = map_pt(o, h->pt);
	if (!pt)
		return;
	if (h->payload_len + RTP_FIXED + 12 +
		    srtps_rtp_overhead(sub->srtp) > SFU_MTU)
		return;
	out = sfu__send_slot(w);
	out[0] = 0x80;
	out[1] = (uint8_t)((h->marker ? 0x80 : 0) | pt);
	out_seq = (uint16_t)(h->seq + m->seq_off);
	same_frame = out_seq == (uint16_t)(o->last_seq + 1) &&
		     h->ts + m->ts_off == o->last_ts;
	if (!retransmit && (uint16_t)(out_seq - o->last_seq) < 0x8000) {
		/* a late packet keeps the newest sequence number and time */
		o->last_seq = out_seq;
		o->last_ts = h->ts + m->ts_off;
		o->last_ts_ms = w->now;
	}
	put_u16(out + 2, out_seq);
	put_u32(out + 4, h->ts + m->ts_off);
	put_u32(out + 8, o->ssrc);
	hl = put_exts(o, out, have_level, voice, level, &twcc);
	memcpy(out + hl, p + h->payload_off, h->payload_len);
	if (o->track->codec == SFU_CODEC_VP8) {
		if (!vp8 && rtp_vp8_parse(p + h->payload_off, h->payload_len, &d) == 0)
			vp8 = &d;
		if (vp8)
			rewrite_vp8(o, m, vp8, out + hl, retransmit);
	}
	len = hl + h->payload_len;
	if (!retransmit && o->track->kind == SFU_VIDEO) {
		/* A packetizer cuts a frame into about equal parts, the larger
		 * first ([n+1, n+1, n, n, n]); UDP GSO sends a subscriber's run
		 * of equal-size datagrams as one message, but only the last may
		 * be shorter. So a packet of the frame that is not its last is
		 * padded (RFC 3550 §5.1) up to the one before it if that is in
		 * this send batch: one message per frame instead of two. The
		 * last is padded too when an audio packet to the subscriber
		 * waits in the batch: the audio then ends the run (gso_tuck). */
		if (same_frame &&
		    (!h->marker || sub->audio_flush == w->flushes + 1) &&
		    !w->gso_off &&
		    o->gso_flush == w->flushes && len < o->gso_len &&
		    o->gso_len - len <= SFU_GSO_PAD_MAX) {
			size_t pad = o->gso_len - len;
			memset(out + len, 0, pad - 1);
			out[len + pad - 1] = (uint8_t)pad;
			out[0] |= 0x20; /* P */
			len += pad;
			w->c.gso_pad_bytes += pad;
		}
		o->gso_flush = w->flushes;
		o->gso_len = (uint16_t)len;
	}
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
	if (twcc)
		sfu__congestion_sent(w, sub, len, 0);
	if (retransmit) {
		w->c.retransmits++;
		return;
	}
	if (o->track->kind == SFU_AUDIO)
		sub->audio_flush = w->flushes + 1;
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

/* Starts forwarding `layer` to `o` at this packet (the first of a key
 * frame, or any audio packet): the new mapping continues the sequence
 * numbers, timestamps and picture ids the subscriber has seen. */
static void switch_to(struct sfu_worker *w, struct sfu_out *o, int layer,
		      const struct rtp_hdr *h, const struct rtp_vp8 *vp8)
{
	struct sfu_map *m = &o->map;
	uint32_t clock = o->track->kind == SFU_AUDIO ? 48000 : 90000;

	o->prev = *m;
	m->layer = (int8_t)layer;
	if (!o->started) {
		uint16_t r16;
		uint32_t r32;
		secret_random(&r16, sizeof(r16));
		secret_random(&r32, sizeof(r32));
		m->seq_off = (uint16_t)(r16 - h->seq);
		m->ts_off = r32 - h->ts;
		m->pic_off = m->tl0_off = 0;
		o->last_seq = (uint16_t)(h->seq + m->seq_off - 1);
		o->started = true;
		o->started_ms = w->now;
	} else {
		/* time goes on by what passed since the last packet sent (at
		 * least one tick of the clock: a new frame) */
		uint64_t dt = (w->now - o->last_ts_ms) * clock / 1000;
		m->seq_off = (uint16_t)(o->last_seq + 1 - h->seq);
		m->ts_off = o->last_ts + (uint32_t)(dt ? dt : 1) - h->ts;
		if (vp8) {
			if (vp8->has_picture_id && o->have_pic)
				m->pic_off = (uint16_t)((o->last_pic + 1 -
							 vp8->picture_id) & 0x7fff);
			if (vp8->has_tl0picidx && o->have_tl0)
				m->tl0_off = (uint8_t)(o->last_tl0 + 1 -
						       vp8->tl0picidx);
		}
		w->c.layer_switches++;
	}
	m->first_seq = (uint16_t)(h->seq + m->seq_off);
	o->need_key = false;
}

/* Whether this packet starts a key frame (video payload descriptors are
 * outside the end-to-end encrypted frame; docs/media.md); `vp8` is its
 * parsed VP8 descriptor, or NULL. */
static bool starts_keyframe(const struct sfu_track *tr, const uint8_t *p,
			    const struct rtp_hdr *h, const struct rtp_vp8 *vp8)
{
	switch (tr->codec) {
	case SFU_CODEC_VP8:
		return vp8 && vp8->is_keyframe;
	case SFU_CODEC_VP9:
		return rtp_vp9_is_keyframe(p + h->payload_off, h->payload_len);
	default:
		return false;
	}
}

/* One video packet of `layer` for one subscriber: forwarded when it is the
 * layer the subscriber gets, or switched to when it is the key frame the
 * subscriber waits for. */
static void forward_video(struct sfu_worker *w, struct sfu_out *o, int layer,
			  bool key, const uint8_t *p, const struct rtp_hdr *h,
			  const struct rtp_vp8 *vp8)
{
	if (o->target < 0 || !can_send(o->sub))
		return;
	/* a layer switch lands on a key frame; a track of one layer starts
	 * (or resumes) at once: the receiver asks for a key frame if it needs
	 * one, and one was asked for already */
	if (layer == o->target && o->need_key &&
	    (key || o->track->nlayers == 1))
		switch_to(w, o, layer, h, vp8);
	else if (o->map.layer < 0 && key && layer < o->target) {
		/* nothing shown yet: a lower layer's key frame that comes first
		 * starts the picture; the target's key frame is still awaited */
		switch_to(w, o, layer, h, vp8);
		o->need_key = true;
	}
	/* a late packet from before the switch point would take a sequence
	 * number the previous layer already used */
	if (layer == o->map.layer &&
	    (uint16_t)(h->seq + o->map.seq_off - o->map.first_seq) < 0x8000)
		forward_one(w, o, &o->map, p, h, vp8, false, false, 127, false);
}

/* ---- loss recovery ------------------------------------------------------ */

static void cache_put(struct sfu_stream *st, const uint8_t *p, size_t len,
		      uint16_t seq)
{
	struct sfu_cached *c = &st->cache[seq & (st->cache_slots - 1)];
	if (len > sizeof(c->data))
		return;
	c->seq = seq;
	c->len = (uint16_t)len;
	memcpy(c->data, p, len);
}

/* Notes which sequence numbers the publisher's leg lost; returns true if
 * the loss is too large to repair (ask for a key frame instead). */
static bool note_loss(struct sfu_worker *w, struct sfu_stream *st, uint16_t seq)
{
	uint16_t gap;

	if (!st->have_seq)
		return false;
	gap = (uint16_t)(seq - st->max_seq);
	if (gap == 0 || gap >= 0x8000) {
		/* a late or repeated packet: no longer missing */
		st->nack_tries[seq % SFU_NACK_WINDOW] = 0;
		return false;
	}
	if (gap >= SFU_NACK_WINDOW) {
		memset(st->nack_tries, 0, sizeof(st->nack_tries));
		return true;
	}
	for (uint16_t s = (uint16_t)(st->max_seq + 1); s != seq; s++)
		st->nack_tries[s % SFU_NACK_WINDOW] = 1;
	st->nack_tries[seq % SFU_NACK_WINDOW] = 0;
	if (gap > 1) {
		st->nack_open = true;
		w->tick_soon = true;
	}
	return false;
}

/* Asks the publisher for what its leg lost of one stream, each missing
 * packet at most SFU_NACK_TRIES times SFU_NACK_RETRY_MS apart; returns
 * whether any is still missing. */
static bool nack_stream(struct sfu_worker *w, struct sfu_track *tr, int layer)
{
	struct sfu_stream *st = &tr->st[layer];
	uint16_t lost[SFU_NACK_MAX];
	bool gave_up = false;
	size_t len, n = 0;
	uint8_t *slot;

	if (!st->nack_open)
		return false;
	if (!st->cache || !st->have_seq || !tr->ssrcs[layer])
		return st->nack_open = false;
	if (w->now - st->nack_last_ms < SFU_NACK_RETRY_MS)
		return true;
	/* oldest first: walk back from the newest (all of the window: a
	 * missing packet that slid out of it is forgotten) */
	st->nack_open = false;
	for (int k = SFU_NACK_WINDOW - 1; k >= 1; k--) {
		uint16_t s = (uint16_t)(st->max_seq - k);
		uint8_t *tries = &st->nack_tries[s % SFU_NACK_WINDOW];
		if (!*tries)
			continue;
		if (*tries > SFU_NACK_TRIES) {
			*tries = 0;
			gave_up = true;
			continue;
		}
		st->nack_open = true;
		if (n == SFU_NACK_MAX)
			continue; /* the next NACK asks for the rest */
		(*tries)++;
		lost[n++] = s;
	}
	if (gave_up)
		sfu__want_keyframe(w, tr, layer, SFU_PLI_REPAIR_MS);
	if (!n)
		return st->nack_open;
	st->nack_last_ms = w->now;
	slot = sfu__send_slot(w);
	if (rtcp_nack_write(slot, SFU_MTU - 64, SFU_SSRC_SFU, tr->ssrcs[layer],
			    lost, n, &len) == 0 &&
	    srtps_protect_rtcp(tr->pub->srtp, slot, &len, SFU_MTU) == 0) {
		sfu__send_to(w, tr->pub, len);
		w->c.nack_out += n;
	}
	return st->nack_open;
}

bool sfu__nack_tick(struct sfu_worker *w)
{
	struct sfu_transport *t;
	bool open = false;

	for (t = w->all; t; t = t->next_all) {
		if (!t->publisher || !t->srtp || !t->have_peer)
			continue;
		for (size_t i = 0; i < SFU_MAX_TRACKS; i++)
			if (t->tracks[i])
				for (int k = 0; k < t->tracks[i]->nlayers; k++)
					open |= nack_stream(w, t->tracks[i], k);
	}
	return open;
}

struct nack_ctx {
	struct sfu_worker *w;
	struct sfu_out *o;
};

/* One packet a subscriber lost: resend it from the cache, rewritten for
 * that subscriber exactly as the first time (under the mapping it was
 * sent with: the current one, or the one before the last switch). Returns
 * false once the subscriber's NACKs are over SFU_NACK_IN_RATE: the rest
 * of the NACK is not even expanded. */
static bool on_nack(uint16_t out_seq, void *arg)
{
	struct nack_ctx *x = arg;
	struct sfu_out *o = x->o;
	const struct sfu_map *m = &o->map;
	const struct sfu_stream *st;
	struct sfu_cached *c;
	struct rtp_hdr h;
	uint16_t seq;
	size_t k;

	if (!bucket_take(&o->sub->nack_budget, SFU_NACK_IN_RATE,
			 SFU_NACK_IN_BURST, x->w->now)) {
		x->w->c.nack_limited++;
		return false;
	}
	x->w->c.nack_in++;
	/* a packet retransmitted moments ago is on its way: asked for again
	 * (a NACK that names it twice, or one resent before our answer could
	 * arrive) it is not sent twice */
	k = out_seq % SFU_RTX_RECENT;
	if (o->rtx_recent_seq[k] == out_seq &&
	    (uint32_t)x->w->now - o->rtx_recent_ms[k] < SFU_RTX_DEDUP_MS) {
		x->w->c.rtx_dup++;
		return true;
	}
	/* a subscriber may not make the SFU send more than a budget of
	 * retransmissions, all its streams together (endless NACKs would
	 * otherwise amplify its requests into the server's bandwidth, more
	 * so the more streams it gets) */
	if (!bucket_take(&o->sub->rtx_budget, SFU_RTX_RATE, SFU_RTX_BURST,
			 x->w->now)) {
		x->w->c.rtx_refused++;
		return true;
	}
	if ((uint16_t)(out_seq - m->first_seq) >= 0x8000)
		m = &o->prev;
	if (m->layer < 0 || !o->track->st[m->layer].cache || !o->rtx_ssrc) {
		x->w->c.cache_misses++;
		return true;
	}
	seq = (uint16_t)(out_seq - m->seq_off);
	st = &o->track->st[m->layer];
	c = &st->cache[seq & (st->cache_slots - 1)];
	if (!c->len || c->seq != seq || rtp_parse(c->data, c->len, &h) != 0) {
		x->w->c.cache_misses++;
		return true;
	}
	o->rtx_recent_seq[k] = out_seq;
	o->rtx_recent_ms[k] = (uint32_t)x->w->now;
	forward_one(x->w, o, m, c->data, &h, NULL, false, false, 127, true);
	return true;
}

/* ---- transport-wide congestion control feedback ------------------------- */

/* Records the arrival of a publisher's packet with transport-wide sequence
 * number `seq`, keeping the list ordered (reordered packets are rare). */
static void twcc_note(struct sfu_worker *w, struct sfu_transport *t,
		      uint16_t seq, uint32_t ssrc)
{
	struct sfu_twcc *tw = t->twcc;
	uint64_t rx_us = sfu__rx_us(w);
	size_t i;

	if (rx_us < t->created_us)
		rx_us = t->created_us;
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
	tw->arrival_us[i] = (int64_t)(rx_us - t->created_us);
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

/*
 * Subscriber-major fan-out. A video frame arrives as a burst of packets (a
 * key frame as 20 or more), and the worker reads the burst in one batch.
 * Copied packet by packet, every subscriber's copies of the first packet
 * wait until the last packet has been copied to every subscriber, and the
 * batch is sent only then: with 80 subscribers a key frame is 1,600
 * copies, milliseconds of work, and its first packet waited all of it.
 * So while the worker reads a batch (w->defer), a video packet's input
 * path runs at once (loss, cache, statistics, key frame detection) and its
 * copies wait; at the end of the batch sfu__fanout() copies each track's
 * packets to one subscriber after another, and sends what it queued every
 * SFU_SEND_EARLY datagrams, between two subscribers. The first subscriber
 * has the frame after a fraction of the work, each subscriber's copies of
 * a frame stay together (one UDP GSO message), and each subscriber still
 * gets its packets in the order they came.
 */
static void defer_video(struct sfu_worker *w, struct sfu_track *tr,
			size_t layer, bool key, const uint8_t *p, size_t len,
			const struct rtp_hdr *h, const struct rtp_vp8 *vp8)
{
	struct sfu_pending *e;

	if (!tr->outs)
		return;
	if (w->npend == SFU_PEND)
		sfu__fanout(w);
	e = &w->pend[w->npend++];
	e->tr = tr;
	e->rx_ns = w->cur_rx_ns;
	e->h = *h;
	e->have_vp8 = vp8 != NULL;
	if (vp8)
		e->vp8 = *vp8;
	e->key = key;
	e->layer = (uint8_t)layer;
	memcpy(e->p, p, len);
	w->pend_copies += tr->nouts;
}

_Static_assert(SFU_PEND <= 256, "sfu__fanout indexes the queue with bytes");

void sfu__fanout(struct sfu_worker *w)
{
	uint64_t rx_ns = w->cur_rx_ns;
	uint8_t idx[SFU_PEND];
	unsigned i, j, n;

	for (i = 0; i < w->npend; i++) {
		struct sfu_track *tr = w->pend[i].tr;
		struct sfu_out *o;

		if (!tr)
			continue;
		/* this track's packets, in the order they came, taken once */
		for (n = 0, j = i; j < w->npend; j++)
			if (w->pend[j].tr == tr) {
				w->pend[j].tr = NULL;
				idx[n++] = (uint8_t)j;
			}
		for (o = tr->outs; o; o = o->next_in_track) {
			for (j = 0; j < n; j++) {
				struct sfu_pending *e = &w->pend[idx[j]];
				w->cur_rx_ns = e->rx_ns;
				forward_video(w, o, e->layer, e->key, e->p, &e->h,
					      e->have_vp8 ? &e->vp8 : NULL);
			}
			if (w->nsend >= SFU_SEND_EARLY) {
				sfu__flush(w);
				/* the next copies leave later than the read:
				 * their send times (the subscribers' estimates,
				 * congestion.c) must say so */
				w->now_us = sfu__now_us();
			}
		}
	}
	w->npend = 0;
	w->pend_copies = 0;
	w->cur_rx_ns = rx_ns;
}

void sfu__rtp_in(struct sfu_worker *w, struct sfu_transport *t, uint8_t *p,
		 size_t len)
{
	static _Thread_local uint8_t orig[SFU_MTU];
	struct rtp_hdr h;
	struct sfu_track *tr;
	struct sfu_stream *st;
	struct sfu_out *o;
	size_t layer = 0, olen;
	bool voice = false, have_level = false, rtx, key;
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
	if (layer >= tr->nlayers)
		return; /* a stream the SDP did not announce */
	st = &tr->st[layer];
	if (rtx) {
		/* RFC 4588: rebuild the original packet and carry on with it */
		if (!tr->pt || !tr->ssrcs[layer] ||
		    rtp_rtx_unwrap(p, len, &h, orig, sizeof(orig), tr->pt,
				   tr->ssrcs[layer], &olen) != 0 ||
		    rtp_parse(orig, olen, &h) != 0)
			return;
		w->c.rtx_in++;
		p = orig;
		len = olen;
	}
	if (rtx && (!st->cache || !st->have_seq ||
		    (uint16_t)(st->max_seq - h.seq) >= SFU_NACK_WINDOW ||
		    !st->nack_tries[h.seq % SFU_NACK_WINDOW]))
		return; /* a repair of nothing we lost (probes, duplicates) */
	if (st->cache) {
		if (note_loss(w, st, h.seq))
			sfu__want_keyframe(w, tr, (int)layer, SFU_PLI_REPAIR_MS);
		cache_put(st, p, len, h.seq);
	}
	count_received(st, h.seq);
	count_rate(w, st, len);
	if (h.payload_len == 0)
		return; /* padding-only probes end here */
	if (tr->kind == SFU_VIDEO) {
		struct rtp_vp8 d, *vp8 = NULL;

		/* the descriptor is read once here for every copy */
		if (tr->codec == SFU_CODEC_VP8 &&
		    rtp_vp8_parse(p + h.payload_off, h.payload_len, &d) == 0)
			vp8 = &d;
		key = starts_keyframe(tr, p, &h, vp8);
		if (key) {
			st->last_key_ms = w->now;
			st->pli_retries = 0; /* answered */
		}
		if (w->defer) {
			defer_video(w, tr, layer, key, p, len, &h, vp8);
			return;
		}
		for (o = tr->outs; o; o = o->next_in_track)
			forward_video(w, o, (int)layer, key, p, &h, vp8);
		return;
	}
	if (tr->ext_id[SFU_EXT_AUDIO_LEVEL]) {
		have_level = rtp_ext_audio_level(p, &h, tr->ext_id[SFU_EXT_AUDIO_LEVEL],
						 &voice, &level) == 0;
		if (have_level) {
			tr->loud_acc += 127u - level;
			tr->loud_n++;
		}
	}
	for (o = tr->outs; o; o = o->next_in_track) {
		if (!can_send(o->sub))
			continue;
		if (o->map.layer < 0)
			switch_to(w, o, 0, &h, NULL);
		forward_one(w, o, &o->map, p, &h, NULL, have_level, voice, level, false);
	}
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

/* The layer a subscriber's key frame request is about: the one it gets,
 * else the one it waits for. */
static int out_layer(const struct sfu_out *o)
{
	if (o->map.layer >= 0)
		return o->map.layer;
	return o->target >= 0 ? o->target : 0;
}

/* Whether a subscriber's key frame request for this out is worth passing
 * on: not for a video it is not sent (paused by its view or by bandwidth:
 * a key frame would change nothing for it, and its requests would still
 * cost the publisher key frames), nor for audio. */
static bool wants_keyframe(const struct sfu_out *o)
{
	return o->track->kind == SFU_VIDEO && o->target >= 0;
}

/* The gap a subscriber's key frame request may follow the last one with:
 * one that waits for the key frame its picture starts with and can
 * receive it, or that started less than SFU_NEW_VIEWER_MS ago (its first
 * key frame may have been encrypted under a key it could not have yet),
 * passes the 1 s throttle (SFU_PLI_MIN_MS only). Anything else waits the
 * second: an out that never starts (paused from the first, or whose
 * subscriber is not connected) must not keep the short gap for ever. */
static unsigned viewer_gap(const struct sfu_worker *w, const struct sfu_out *o)
{
	if (o->target < 0 || !can_send(o->sub))
		return SFU_PLI_INTERVAL_MS;
	if (!o->started)
		return o->need_key ? SFU_PLI_MIN_MS : SFU_PLI_INTERVAL_MS;
	return w->now - o->started_ms < SFU_NEW_VIEWER_MS ? SFU_PLI_MIN_MS
							   : SFU_PLI_INTERVAL_MS;
}

void sfu__rtcp_in(struct sfu_worker *w, struct sfu_transport *t, uint8_t *p,
		  size_t len)
{
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct sfu_out *o;
	struct rtcp_fir fir;

	/* a peer's RTCP that authenticated, but more than any browser sends:
	 * dropped before it costs more (its parts are cheap each, but a
	 * compound packet holds many) */
	if (!bucket_take(&t->rtcp_budget, SFU_RTCP_RATE, SFU_RTCP_BURST, w->now)) {
		w->c.rtcp_limited++;
		return;
	}
	rtcp_iter_init(&it, p, len);
	while (rtcp_next(&it, &pkt) == 1) {
		w->c.rtcp_in++;
		if (t->publisher)
			continue; /* SR/SDES from publishers: nothing to do yet */
		if (pkt.type == RTCP_RTPFB && pkt.fmt == RTCP_FMT_NACK) {
			struct nack_ctx x = { w, out_by_ssrc(t, pkt.media_ssrc) };
			if (x.o)
				rtcp_nack_foreach(&pkt, on_nack, &x);
		} else if (pkt.type == RTCP_RTPFB && pkt.fmt == RTCP_FMT_TWCC) {
			sfu__congestion_feedback(w, t, &pkt);
		} else if (rtcp_is_pli(&pkt)) {
			w->c.pli_in++;
			o = out_by_ssrc(t, pkt.media_ssrc);
			if (o && wants_keyframe(o))
				sfu__want_keyframe(w, o->track, out_layer(o),
						   viewer_gap(w, o));
		} else if (rtcp_fir_count(&pkt) > 0) {
			w->c.pli_in++;
			for (int i = 0; i < rtcp_fir_count(&pkt); i++)
				if (rtcp_fir_entry(&pkt, (unsigned)i, &fir) == 0 &&
				    (o = out_by_ssrc(t, fir.ssrc)) && wants_keyframe(o))
					sfu__want_keyframe(w, o->track, out_layer(o),
							   viewer_gap(w, o));
		} else {
			sfu__congestion_remb(w, t, &pkt);
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

enum {
	SFU_SR_BYTES = 1000,          /* a compound packet of SRs stays under
				       * this (plus SRTCP's overhead: well
				       * within any path MTU) */
};

static void send_rtcp_slot(struct sfu_worker *w, struct sfu_transport *t,
			   uint8_t *slot, size_t len)
{
	if (srtps_protect_rtcp(t->srtp, slot, &len, SFU_MTU) == 0)
		sfu__send_to(w, t, len);
}

/* The reports of one transport: an RR to a publisher, SRs to a
 * subscriber. */
static void report(struct sfu_worker *w, struct sfu_transport *t, uint64_t ntp)
{
	size_t len;
	uint8_t *slot;

	if (t->publisher) {
		/* RR: one report block per stream received */
		struct rtcp_rb rb[SFU_MAX_TRACKS * SFU_MAX_LAYERS];
		size_t n = 0;
		for (size_t i = 0; i < SFU_MAX_TRACKS; i++) {
			struct sfu_track *tr = t->tracks[i];
			for (int k = 0; tr && k < tr->nlayers; k++) {
				const struct sfu_stream *st = &tr->st[k];
				if (!st->have_seq || !tr->ssrcs[k])
					continue;
				memset(&rb[n], 0, sizeof(rb[n]));
				rb[n].ssrc = tr->ssrcs[k];
				rb[n].ext_highest_seq = st->cycles | st->max_seq;
				n++;
			}
		}
		if (!n)
			return;
		slot = sfu__send_slot(w);
		if (rtcp_rr_write(slot, SFU_MTU - 64, SFU_SSRC_SFU, rb, n, &len) == 0 &&
		    srtps_protect_rtcp(t->srtp, slot, &len, SFU_MTU) == 0)
			sfu__send_to(w, t, len);
		return;
	}
	/* SR per forwarded stream, so receivers can map RTP time to
	 * wall-clock time (audio/video synchronisation); as many as fit in
	 * one compound packet (RFC 3550 §6.1), one protect and one datagram
	 * for each SFU_SR_BYTES of them */
	slot = NULL;
	len = 0;
	for (struct sfu_out *o = t->outs; o; o = o->next_in_sub) {
		struct rtcp_sr sr;
		uint32_t clock = o->track->kind == SFU_AUDIO ? 48000 : 90000;
		size_t n;

		if (!o->started)
			continue;
		sr.ntp = ntp;
		sr.rtp_ts = o->last_ts +
			    (uint32_t)((w->now - o->last_ts_ms) * clock / 1000);
		sr.pkt_count = o->packets;
		sr.octet_count = o->octets;
		if (!slot)
			slot = sfu__send_slot(w);
		if (rtcp_sr_write(slot + len, SFU_MTU - 64 - len, o->ssrc, &sr, NULL,
				  0, &n) != 0)
			continue;
		len += n;
		if (len + n > SFU_SR_BYTES) {
			send_rtcp_slot(w, t, slot, len);
			slot = NULL;
			len = 0;
		}
	}
	if (slot && len)
		send_rtcp_slot(w, t, slot, len);
}

void sfu__reports_tick(struct sfu_worker *w)
{
	uint64_t ntp = ntp_now();

	for (struct sfu_transport *t = w->all; t; t = t->next_all)
		if (t->srtp && t->have_peer)
			report(w, t, ntp);
}

void sfu__reports_due(struct sfu_worker *w)
{
	uint64_t ntp = 0;

	for (struct sfu_transport *t = w->all; t; t = t->next_all) {
		if (!t->srtp || !t->have_peer)
			continue;
		if (!t->next_report_ms) {
			/* a phase of its own, so that a worker's reports are
			 * spread over the period instead of sent in one burst
			 * that delays the media of that tick */
			uint16_t r;
			secret_random(&r, sizeof(r));
			t->next_report_ms = w->now + r % SFU_REPORT_MS;
		}
		if (w->now < t->next_report_ms)
			continue;
		t->next_report_ms += SFU_REPORT_MS;
		if (t->next_report_ms <= w->now)
			t->next_report_ms = w->now + SFU_REPORT_MS;
		if (!ntp)
			ntp = ntp_now();
		report(w, t, ntp);
	}
}
