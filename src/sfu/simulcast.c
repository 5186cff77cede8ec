/*
 * simulcast — which layer of each video track every subscriber gets.
 *
 * A publisher may send a video track as up to three simulcast layers
 * (RFC 8853), lowest quality first. Every SFU_ALLOC_MS, and whenever its
 * view or its subscriptions change, each subscriber's bandwidth estimate
 * (congestion.c) is shared out among its outs:
 *
 *   1. audio first: every audio out is counted at its measured rate
 *      (SFU_AUDIO_BPS until measured, nothing while silent) and is never
 *      held back;
 *   2. every video out the view shows gets its lowest available layer, in
 *      subscription order, while the estimate lasts; the rest are paused
 *      ("bandwidth");
 *   3. then outs move up one layer at a time, round by round, up to what
 *      their view asks for (the tile size, sfu_set_view), while the
 *      estimate lasts.
 *
 * Keeping a layer an out already has may use SFU_ALLOC_SLACK more than the
 * estimate, so an estimate that wobbles around a layer's rate does not
 * make the picture flap. A change of layer waits for a key frame of the
 * new layer (forward.c switches there), which is asked for at once.
 *
 * Layers that no subscriber needs are paused at the publisher
 * (SFU_EV_LAYERS → `layers` on signaling) after SFU_LAYERS_HOLD_MS; the
 * lowest layer always stays on, so a new viewer starts at once.
 *
 * Everything here reads RTP headers and what the publisher's SDP said,
 * never a payload: it works the same with end-to-end encrypted media.
 */
#include "sfu/sfu_int.h"

#include <stdint.h>
#include <string.h>

enum {
	/* the web app's sendEncodings maxBitrate (web/src/media/transport.ts),
	 * used for a layer until it flows and can be measured */
	SFU_NOMINAL_LOW_BPS = 150000,
	SFU_NOMINAL_MID_BPS = 500000,
	SFU_NOMINAL_HIGH_BPS = 1500000,
	SFU_NOMINAL_SINGLE_BPS = 1000000, /* a video track without simulcast */
	SFU_AUDIO_BPS = 64000,       /* an audio stream not measured yet: Opus
				      * at its usual 32-50 kbit/s, plus
				      * RTP/SRTP/UDP/IP overhead at 50 p/s */
	SFU_LAYER_START_MS = 2000,   /* a layer just asked for may take this
				      * long to start (encoder restart) */
	SFU_PROBE_GAP_MS = 250,      /* probes of one subscriber at least this
				      * far apart (the estimator also waits
				      * for a probe's feedback) */
};

/* Keeping a layer may exceed the estimate by 1/8 (12.5 %); moving up
 * needs 1/8 to spare: an estimate that wobbles by less than a quarter does
 * not make the picture flap. */
#define SFU_ALLOC_SLACK(b) ((b) / 8)
#define SFU_ALLOC_MARGIN(b) ((b) / 8)

static const uint32_t nominal_bps[SFU_MAX_LAYERS] = {
	SFU_NOMINAL_LOW_BPS, SFU_NOMINAL_MID_BPS, SFU_NOMINAL_HIGH_BPS,
};

static bool flowing(const struct sfu_worker *w, const struct sfu_track *tr,
		    int k)
{
	const struct sfu_stream *st = &tr->st[k];
	return st->last_rx_ms && w->now - st->last_rx_ms < SFU_LAYER_IDLE_MS;
}

/* A layer an out may be given: one that flows, one the publisher was told
 * to pause (asking for it starts it) or one just asked for. A track of one
 * layer always qualifies: there is nothing else to choose. */
static bool available(const struct sfu_worker *w, const struct sfu_track *tr,
		      int k)
{
	if (tr->nlayers == 1 || flowing(w, tr, k))
		return true;
	if (!(tr->layers_sent & (1u << k)))
		return true;
	return w->now - tr->layers_on_ms[k] < SFU_LAYER_START_MS;
}

uint32_t sfu__layer_bps(const struct sfu_worker *w, const struct sfu_track *tr,
			int layer)
{
	if (layer < 0)
		return 0;
	if (tr->st[layer].bps && flowing(w, tr, layer))
		return tr->st[layer].bps;
	return tr->nlayers > 1 ? nominal_bps[layer] : SFU_NOMINAL_SINGLE_BPS;
}

int sfu__start_layer(const struct sfu_worker *w, const struct sfu_out *o)
{
	for (int k = 0; k <= o->target && k < o->track->nlayers; k++)
		if (flowing(w, o->track, k))
			return k;
	return o->target;
}

static uint32_t audio_bps(const struct sfu_worker *w, const struct sfu_track *tr)
{
	if (!flowing(w, tr, 0))
		return 0;
	return tr->st[0].bps ? tr->st[0].bps : SFU_AUDIO_BPS;
}

static struct sfu_out *find_out(struct sfu_worker *w, uint32_t transport,
				uint32_t track)
{
	struct sfu_transport *sub = sfu__transport_find(w, transport);
	if (!sub || sub->publisher)
		return NULL;
	for (struct sfu_out *o = sub->outs; o; o = o->next_in_sub)
		if (o->track->id == track)
			return o;
	return NULL;
}

void sfu__set_view(struct sfu_worker *w, uint32_t transport, uint32_t track,
		   int max_layer)
{
	struct sfu_out *o = find_out(w, transport, track);

	if (!o || o->track->kind != SFU_VIDEO)
		return;
	if (max_layer < SFU_LAYER_PAUSED)
		max_layer = SFU_LAYER_PAUSED;
	if (max_layer >= o->track->nlayers)
		max_layer = o->track->nlayers - 1;
	if (o->view == max_layer)
		return;
	o->view = (int8_t)max_layer;
	sfu__allocate(w, o->sub);
}

/* The highest layer the view asks for that can be had. */
static int wanted(const struct sfu_worker *w, const struct sfu_out *o)
{
	int k = o->view;
	while (k > 0 && !available(w, o->track, k))
		k--;
	return k;
}

static int lowest(const struct sfu_worker *w, const struct sfu_out *o)
{
	for (int k = 0; k <= o->view; k++)
		if (available(w, o->track, k))
			return k;
	return 0;
}

static bool fits(const struct sfu_out *o, int layer, uint64_t used,
		 uint64_t cost, uint32_t budget)
{
	uint64_t limit = budget;
	if (budget == UINT32_MAX)
		return true;
	if (layer <= o->map.layer || layer <= o->target)
		limit += SFU_ALLOC_SLACK(budget);   /* keeping what it has */
	else
		limit -= SFU_ALLOC_MARGIN(budget);  /* moving up */
	return used + cost <= limit;
}

static void set_target(struct sfu_worker *w, struct sfu_out *o, int layer)
{
	if (layer == o->target && (layer < 0 || layer == o->map.layer || o->need_key))
		return;
	o->target = (int8_t)layer;
	if (layer < 0) {
		/* paused: what comes next must start with a key frame */
		if (o->map.layer >= 0) {
			o->prev = o->map;
			o->map.layer = -1;
		}
		o->need_key = false;
		w->c.layer_pauses++;
		return;
	}
	o->need_key = layer != o->map.layer;
	if (!o->need_key || !o->sub->srtp)
		return;
	/* a subscriber that shows nothing of a simulcast track yet must not
	 * wait out the publisher's throttle (SFU_PLI_MIN_MS only); a switch
	 * between layers asks with the next tick, within the throttle
	 * (SFU_PLI_INTERVAL_MS) */
	if (o->map.layer < 0 && o->track->nlayers > 1) {
		/* and of the lowest layer that flows, so the picture starts
		 * at once and moves up at the target's key frame */
		int start = sfu__start_layer(w, o);
		sfu__want_keyframe(w, o->track, layer, SFU_PLI_MIN_MS);
		if (start >= 0 && start != layer)
			sfu__want_keyframe(w, o->track, start, SFU_PLI_MIN_MS);
	} else {
		o->track->st[layer].pli_pending = true;
		w->tick_soon = true;
	}
}

static void report(struct sfu_worker *w, struct sfu_out *o)
{
	struct sfu_event ev;

	if (o->target == o->reported_layer && o->reason == o->reported_reason)
		return;
	o->reported_layer = o->target;
	o->reported_reason = o->reason;
	memset(&ev, 0, sizeof(ev));
	ev.type = SFU_EV_QUALITY;
	ev.transport = o->sub->id;
	ev.track = o->track->id;
	ev.layer = o->target;
	ev.reason = o->reason;
	sfu__event_post(w, &ev);
}

/* Tells the publisher which layers of a track anyone needs: more at once,
 * fewer only after SFU_LAYERS_HOLD_MS. */
static void layers_update(struct sfu_worker *w, struct sfu_track *tr)
{
	uint8_t need = 1; /* the lowest layer always stays on */
	struct sfu_event ev;

	if (tr->nlayers < 2)
		return;
	for (const struct sfu_out *o = tr->outs; o; o = o->next_in_track) {
		if (o->target >= 0)
			need |= (uint8_t)(1u << o->target);
		if (o->map.layer >= 0)
			need |= (uint8_t)(1u << o->map.layer);
	}
	if (need == tr->layers_sent) {
		tr->layers_less_since_ms = 0;
		return;
	}
	if ((need & ~tr->layers_sent) == 0) {
		/* only fewer: wait before pausing an encoder */
		if (!tr->layers_less_since_ms) {
			tr->layers_less_since_ms = w->now ? w->now : 1;
			return;
		}
		if (w->now - tr->layers_less_since_ms < SFU_LAYERS_HOLD_MS)
			return;
	} else {
		/* more are needed: ask now (and keep what is on until the
		 * hold says otherwise) */
		need |= tr->layers_sent;
	}
	for (int k = 0; k < tr->nlayers; k++)
		if ((need & (1u << k)) && !(tr->layers_sent & (1u << k)))
			tr->layers_on_ms[k] = w->now;
	tr->layers_sent = need;
	tr->layers_less_since_ms = 0;
	memset(&ev, 0, sizeof(ev));
	ev.type = SFU_EV_LAYERS;
	ev.transport = tr->pub->id;
	ev.track = tr->id;
	ev.mask = need;
	sfu__event_post(w, &ev);
}

void sfu__allocate(struct sfu_worker *w, struct sfu_transport *sub)
{
	uint32_t budget = sfu__congestion_estimate(w, sub);
	uint64_t used = 0, media = 0;
	bool limited = false, more;
	struct sfu_out *o;

	sub->next_alloc_ms = w->now + SFU_ALLOC_MS;
	/* 1. audio first, at what it measures (a muted microphone sends
	 * nothing and costs nothing) */
	for (o = sub->outs; o; o = o->next_in_sub)
		if (o->track->kind == SFU_AUDIO)
			used += audio_bps(w, o->track);
	/* 2. the lowest layer for every video the view shows */
	for (o = sub->outs; o; o = o->next_in_sub) {
		uint32_t cost;
		int k;

		if (o->track->kind != SFU_VIDEO)
			continue;
		o->alloc = -1;
		o->reason = SFU_REASON_VIEW;
		if (o->view < 0)
			continue;
		k = lowest(w, o);
		cost = sfu__layer_bps(w, o->track, k);
		if (fits(o, k, used, cost, budget)) {
			o->alloc = (int8_t)k;
			o->reason = SFU_REASON_OK;
			used += cost;
		} else {
			o->reason = SFU_REASON_BANDWIDTH;
			limited = true;
		}
	}
	/* 3. one layer up at a time, round by round */
	do {
		more = false;
		for (o = sub->outs; o; o = o->next_in_sub) {
			uint64_t cost;
			int next;

			if (o->track->kind != SFU_VIDEO || o->alloc < 0 ||
			    o->reason == SFU_REASON_BANDWIDTH)
				continue;
			next = o->alloc + 1;
			while (next <= wanted(w, o) && !available(w, o->track, next))
				next++;
			if (next > wanted(w, o))
				continue;
			cost = sfu__layer_bps(w, o->track, next) -
			       (uint64_t)sfu__layer_bps(w, o->track, o->alloc);
			if (sfu__layer_bps(w, o->track, next) <
			    sfu__layer_bps(w, o->track, o->alloc))
				cost = 0;
			if (fits(o, next, used, cost, budget)) {
				o->alloc = (int8_t)next;
				used += cost;
				more = true;
			} else {
				o->reason = SFU_REASON_BANDWIDTH;
				limited = true;
			}
		}
	} while (more);
	for (o = sub->outs; o; o = o->next_in_sub) {
		if (o->track->kind != SFU_VIDEO)
			continue;
		if (o->alloc >= 0 && o->reason == SFU_REASON_OK &&
		    o->view < o->track->nlayers - 1)
			o->reason = SFU_REASON_VIEW;
		set_target(w, o, o->alloc);
		if (o->target >= 0)
			media += sfu__layer_bps(w, o->track, o->target);
		report(w, o);
		layers_update(w, o->track);
	}
	/* a subscriber held back by its estimate: find out whether the path
	 * can carry more, with padding, rather than by trying a layer */
	if (limited && budget != UINT32_MAX && sub->srtp &&
	    w->now - sub->probe_last_ms >= SFU_PROBE_GAP_MS) {
		uint32_t rate;
		(void)media;
		if (sfu__congestion_probe_wanted(w, sub, &rate) && rate > used) {
			/* padding makes up the difference to the probe rate */
			sub->probe_last_ms = w->now;
			sfu__probe_start(w, sub, (uint32_t)(rate - used));
		}
	}
}

static void count_gauges(struct sfu_worker *w, const struct sfu_transport *t)
{
	struct sfu_gauges *g = &w->g;

	if (t->bwe && t->fb_seen) {
		uint64_t e = sfu__congestion_estimate(w, t);
		g->estimated_subscribers++;
		g->estimate_sum_bps += e;
		if (!g->estimate_min_bps || e < g->estimate_min_bps)
			g->estimate_min_bps = e;
	}
	for (const struct sfu_out *o = t->outs; o; o = o->next_in_sub) {
		if (o->track->kind != SFU_VIDEO)
			continue;
		g->video_streams++;
		if (o->target < 0)
			g->paused_streams++;
		else if (o->map.layer < 0)
			g->starting_streams++;
		if (o->reason == SFU_REASON_BANDWIDTH)
			g->bandwidth_limited_streams++;
		if (o->map.layer == 0)
			g->layer0_streams++;
		else if (o->map.layer == 1)
			g->layer1_streams++;
		else if (o->map.layer == 2)
			g->layer2_streams++;
	}
}

void sfu__alloc_tick(struct sfu_worker *w)
{
	memset(&w->g, 0, sizeof(w->g));
	w->g.cache_bytes = w->cache_bytes;
	for (struct sfu_transport *t = w->all; t; t = t->next_all) {
		if (t->publisher) {
			/* layers nobody needs any more pause after the hold */
			for (size_t i = 0; i < SFU_MAX_TRACKS; i++)
				if (t->tracks[i])
					layers_update(w, t->tracks[i]);
			continue;
		}
		sfu__congestion_tick(w, t);
		count_gauges(w, t);
		if (!t->outs || w->now < t->next_alloc_ms)
			continue;
		sfu__allocate(w, t);
		/* a key frame asked for and not come: ask again (throttled) */
		for (struct sfu_out *o = t->outs; o; o = o->next_in_sub)
			if (o->need_key && o->target >= 0 && t->srtp)
				sfu__want_keyframe(w, o->track, o->target,
						   SFU_PLI_INTERVAL_MS);
	}
}
