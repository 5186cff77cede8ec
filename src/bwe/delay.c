/*
 * delay — inter-arrival groups, trendline and overuse detector (see
 * delay.h). Constants not in struct bwe_config are here, each with its
 * source.
 */
#include "bwe/delay.h"

#include <string.h>

/* A packet whose arrival follows the group's last arrival within 5 ms and
 * that arrived "early" relative to its send time belongs to the same burst
 * even if sent later (libwebrtc InterArrival, kBurstDeltaThresholdMs) ... */
#define BURST_US 5000
/* ... as long as the burst stays under 100 ms (kMaxBurstDurationMs). */
#define BURST_MAX_US 100000
/* An arrival delta 3 s beyond the send delta means the receiver's clock
 * jumped: start over (libwebrtc kArrivalTimeOffsetThresholdMs). */
#define ARRIVAL_JUMP_US 3000000
/* Consecutive negative arrival deltas before starting over (libwebrtc
 * kReorderedResetThreshold). */
#define REORDER_RESET 3
/* The trend is scaled by the number of deltas seen, up to 60, so a young
 * estimator is not trigger-happy (libwebrtc TrendlineEstimator
 * kMinNumDeltas), and the count stops at 1000 (kDeltaCounterMax). */
#define TREND_DELTAS_SCALE 60
#define TREND_DELTAS_MAX 1000
/* Threshold adaptation skips samples this far above it (a sudden spike is
 * not a new normal; gcc-02 §5.4, libwebrtc kMaxAdaptOffsetMs), uses at
 * most 100 ms of elapsed time per step (kMaxTimeDeltaMs), and stays within
 * 6..600 (gcc-02 §5.4's clamp). */
#define THR_MAX_ADAPT_OFFSET 15.0
#define THR_MAX_DT_MS 100.0
#define THR_MIN 6.0
#define THR_MAX 600.0

void bwe__delay_init(struct bwe__delay *d, const struct bwe_config *c)
{
	uint64_t resets = d->resets;

	memset(d, 0, sizeof(*d));
	d->resets = resets;
	d->threshold = c->threshold_ms;
	d->over_ms = -1;
	d->state = BWE_NORMAL;
}

static void reset(struct bwe__delay *d, const struct bwe_config *c)
{
	d->resets++;
	bwe__delay_init(d, c);
}

/* Least-squares slope of the window; keeps the old trend if degenerate. */
static double slope(const struct bwe__delay *d, double old)
{
	double sx = 0, sy = 0, mx, my, num = 0, den = 0;

	for (unsigned i = 0; i < d->hn; i++) {
		sx += d->hx[i];
		sy += d->hy[i];
	}
	mx = sx / d->hn;
	my = sy / d->hn;
	for (unsigned i = 0; i < d->hn; i++) {
		num += (d->hx[i] - mx) * (d->hy[i] - my);
		den += (d->hx[i] - mx) * (d->hx[i] - mx);
	}
	return den > 0 ? num / den : old;
}

static void threshold_update(struct bwe__delay *d, const struct bwe_config *c,
			     double m, int64_t now_us)
{
	double am = m < 0 ? -m : m, k, dt;

	if (!d->thr_started) {
		d->thr_started = true;
		d->thr_last_us = now_us;
	}
	if (am > d->threshold + THR_MAX_ADAPT_OFFSET) {
		d->thr_last_us = now_us;
		return;
	}
	k = am < d->threshold ? c->k_down : c->k_up;
	dt = (double)(now_us - d->thr_last_us) / 1000.0;
	if (dt > THR_MAX_DT_MS)
		dt = THR_MAX_DT_MS;
	if (dt < 0)
		dt = 0;
	d->threshold += k * (am - d->threshold) * dt;
	if (d->threshold < THR_MIN)
		d->threshold = THR_MIN;
	if (d->threshold > THR_MAX)
		d->threshold = THR_MAX;
	d->thr_last_us = now_us;
}

/* gcc-02 §5.5 with libwebrtc's trendline scaling. */
static bool detect(struct bwe__delay *d, const struct bwe_config *c,
		   double send_ms, int64_t now_us)
{
	unsigned n = d->n_deltas < TREND_DELTAS_SCALE ? d->n_deltas
						       : TREND_DELTAS_SCALE;
	double m;
	bool fired = false;

	if (d->n_deltas < 2)
		return false;
	m = (double)n * d->trend * c->trend_gain;
	d->modified = m;
	if (m > d->threshold) {
		if (d->over_ms < 0)
			d->over_ms = send_ms / 2;
		else
			d->over_ms += send_ms;
		d->over_count++;
		if (d->over_ms > (double)c->overuse_us / 1000.0 &&
		    d->over_count > 1 && d->trend >= d->prev_trend) {
			d->over_ms = 0;
			d->over_count = 0;
			d->state = BWE_OVERUSE;
			fired = true;
		}
	} else if (m < -d->threshold) {
		d->over_ms = -1;
		d->over_count = 0;
		d->state = BWE_UNDERUSE;
	} else {
		d->over_ms = -1;
		d->over_count = 0;
		d->state = BWE_NORMAL;
	}
	d->prev_trend = d->trend;
	threshold_update(d, c, m, now_us);
	return fired;
}

static bool trend_update(struct bwe__delay *d, const struct bwe_config *c,
			 double recv_ms, double send_ms, int64_t arr_us)
{
	unsigned w = c->trend_window;

	if (d->n_deltas < TREND_DELTAS_MAX)
		d->n_deltas++;
	if (d->n_deltas == 1)
		d->first_arr = arr_us;
	d->acc_delay_ms += recv_ms - send_ms;
	d->smoothed_ms = c->trend_smoothing * d->smoothed_ms +
			 (1 - c->trend_smoothing) * d->acc_delay_ms;
	d->hx[d->hhead] = (double)(arr_us - d->first_arr) / 1000.0;
	d->hy[d->hhead] = d->smoothed_ms;
	d->hhead = (d->hhead + 1) % w;
	if (d->hn < w)
		d->hn++;
	if (d->hn == w)
		d->trend = slope(d, d->trend);
	return detect(d, c, send_ms, arr_us);
}

/* Whether the packet joins the current group (libwebrtc InterArrival's
 * rule: same 5 ms send burst, or an arrival burst). */
static bool same_group(const struct bwe__delay *d, const struct bwe_config *c,
		       uint64_t send_us, int64_t arr_us)
{
	const struct bwe__group *g = &d->cur;
	int64_t arr_d, prop_d;

	if (send_us - g->first_send <= c->group_us)
		return true;
	arr_d = arr_us - g->last_arr;
	prop_d = arr_d - (int64_t)(send_us - g->last_send);
	return arr_d >= 0 && arr_d <= BURST_US && prop_d < 0 &&
	       arr_us - g->first_arr < BURST_MAX_US;
}

static void group_start(struct bwe__delay *d, uint64_t send_us,
			int64_t arr_us)
{
	d->cur = (struct bwe__group){ send_us, send_us, arr_us, arr_us };
	d->have_cur = true;
}

bool bwe__delay_packet(struct bwe__delay *d, const struct bwe_config *c,
		       uint64_t send_us, int64_t arr_us)
{
	bool fired = false;

	if (!d->have_cur) {
		group_start(d, send_us, arr_us);
		return false;
	}
	if (send_us < d->cur.first_send)
		return false; /* older than the current group: too late */
	if (same_group(d, c, send_us, arr_us)) {
		if (send_us > d->cur.last_send)
			d->cur.last_send = send_us;
		if (arr_us > d->cur.last_arr)
			d->cur.last_arr = arr_us;
		return false;
	}
	/* the current group is complete: compare it with the previous one */
	if (d->have_prev) {
		int64_t send_d =
			(int64_t)(d->cur.last_send - d->prev.last_send);
		int64_t arr_d = d->cur.last_arr - d->prev.last_arr;

		if (arr_d - send_d > ARRIVAL_JUMP_US) {
			reset(d, c);
			group_start(d, send_us, arr_us);
			return false;
		}
		if (arr_d < 0) {
			if (++d->reordered >= REORDER_RESET) {
				reset(d, c);
				group_start(d, send_us, arr_us);
				return false;
			}
		} else {
			d->reordered = 0;
			fired = trend_update(d, c, (double)arr_d / 1000.0,
					     (double)send_d / 1000.0,
					     d->cur.last_arr);
		}
	}
	d->prev = d->cur;
	d->have_prev = true;
	group_start(d, send_us, arr_us);
	return fired;
}
