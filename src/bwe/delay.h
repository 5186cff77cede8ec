/*
 * delay — the delay-based detector inside bwe (internal to src/bwe/).
 *
 * Packets (send time, arrival time, size), fed in send order, are grouped
 * into bursts; each new group gives one inter-group delay variation (how
 * much longer the group took to arrive than to send), which is accumulated
 * into a one-way queueing delay, smoothed, and fitted with a least-squares
 * line over the last N groups (draft-ietf-rmcat-gcc-02 §5.3 describes a
 * Kalman filter here; libwebrtc replaced it with this trendline, which we
 * follow). The slope, scaled, is compared with an adaptive threshold
 * (gcc-02 §5.4, §5.5) to say overuse, normal or underuse.
 *
 * A value type embedded in struct bwe; no allocation.
 */
#ifndef CONCLAVE_BWE_DELAY_H
#define CONCLAVE_BWE_DELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bwe/bwe.h"

enum { BWE_UNDERUSE = -1, BWE_NORMAL = 0, BWE_OVERUSE = 1 };

struct bwe__group {
	uint64_t first_send, last_send;
	int64_t first_arr, last_arr;
};

struct bwe__delay {
	/* inter-arrival grouping */
	bool have_cur, have_prev;
	struct bwe__group cur, prev;
	unsigned reordered;       /* consecutive negative arrival deltas */
	/* trendline */
	unsigned n_deltas;
	double acc_delay_ms, smoothed_ms;
	int64_t first_arr;
	double hx[BWE_TREND_MAX], hy[BWE_TREND_MAX];
	unsigned hn, hhead;
	double trend, prev_trend, modified;
	/* overuse detector */
	double threshold;
	int64_t thr_last_us;
	bool thr_started;
	double over_ms;           /* time above the threshold, < 0: not */
	unsigned over_count;
	int state;
	uint64_t resets;
};

void bwe__delay_init(struct bwe__delay *d, const struct bwe_config *c);

/*
 * Feeds one acknowledged packet. Returns true if this packet made the
 * detector signal overuse; d->state holds the current hypothesis.
 */
bool bwe__delay_packet(struct bwe__delay *d, const struct bwe_config *c,
		       uint64_t send_us, int64_t arr_us);

#endif
