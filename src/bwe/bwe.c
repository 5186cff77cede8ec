/*
 * bwe — send history, feedback, acknowledged rate, AIMD and loss control,
 * probes (see bwe.h). The delay detector lives in delay.c.
 *
 * Why the loss side differs from classic GCC: gcc-02 §6 cuts the rate
 * whenever loss exceeds 10 %. On a path that loses 10 % at random (hotel
 * Wi-Fi) that fires on about half the windows and never lets the rate
 * grow, so the estimate ratchets down to the floor although the path is
 * not congested. libwebrtc's newer loss estimator (LossBasedBweV2) models
 * "inherent loss" for the same reason. We keep GCC's thresholds but apply
 * them to the loss above what the path loses when the delay detector sees
 * no queue: an average of the loss of windows without overuse, at most
 * loss_high. Congestion loss (a full drop-tail queue) comes with overuse
 * and is never learned as inherent.
 */
#include "bwe/bwe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bwe/delay.h"

/* ---- constants -------------------------------------------------------- */

#define DEF_MIN_BPS 30000u       /* ours: Opus (24-32 kbit/s) and RTCP
				    still fit; libwebrtc goes lower */
#define DEF_MAX_BPS 20000000u    /* far above any layer we forward */
#define DEF_GROUP_US 5000u       /* gcc-02 §5.2: burst_time 5 ms */
#define DEF_TREND_WINDOW 20u     /* libwebrtc kDefaultTrendlineWindowSize */
#define DEF_TREND_SMOOTHING 0.9  /* libwebrtc kDefaultTrendlineSmoothingCoeff */
#define DEF_TREND_GAIN 4.0       /* libwebrtc kDefaultTrendlineThresholdGain */
#define DEF_THRESHOLD_MS 12.5    /* gcc-02 §5.4: del_var_th initial value */
#define DEF_K_UP 0.0087          /* gcc-02 §5.4: K_u */
#define DEF_K_DOWN 0.039         /* gcc-02 §5.4: K_d */
#define DEF_OVERUSE_US 10000u    /* gcc-02 §5.5: overuse_time_th 10 ms */
#define DEF_BETA 0.85            /* gcc-02 §5.5: beta */
#define DEF_LOSS_LOW 0.02        /* gcc-02 §6: 2 % */
#define DEF_LOSS_HIGH 0.10       /* gcc-02 §6: 10 % */
#define DEF_PROBE_INTERVAL_US 5000000u /* libwebrtc ALR probing: 5 s */

#define HIST_MASK (BWE_HISTORY - 1)
/* Feedback about a packet sent longer ago than this is ignored (a replay
 * or a status from before the sequence space wrapped). */
#define HIST_MAX_AGE_US 10000000ull
/* Arrival times beyond +-2^53 µs cannot come from rtcp_twcc_parse (24-bit
 * reference time in 64 ms units, 16-bit deltas): refused, so that no
 * difference of two of them can overflow. */
#define ARRIVAL_MAX_US (1ll << 53)

/* Acknowledged rate: received bytes in 50 ms bins of arrival time, summed
 * over the last 10 complete bins = 500 ms (libwebrtc's acknowledged
 * bitrate estimator starts with a 500 ms window). */
#define ACK_BIN_US 50000
#define ACK_BINS 10

/* Increases stop at 1.5 x the acknowledged rate + 10 kbit/s (libwebrtc
 * AimdRateControl: "don't increase above 1.5 x throughput + 10 kbps"). */
#define ACK_CAP_FACTOR 1.5
#define ACK_CAP_MARGIN_BPS 10000.0
/* Multiplicative increase: 8 % per second (gcc-02 §5.5, eta = 1.08). Its
 * natural logarithm, for 1.08^dt without libm. */
#define MULT_LN 0.076961041136128
/* ... at least 1 kbit/s per update (libwebrtc). */
#define MULT_MIN_BPS 1000.0
/* Additive increase near convergence: one packet per response time
 * (RTT + 100 ms), at least 4 kbit/s per second (gcc-02 §5.5, libwebrtc
 * kMinIncreaseRateBpsPerSecond); packets taken as 1200 bytes. */
#define ADD_PACKET_BITS 9600.0
#define ADD_RESPONSE_EXTRA_US 100000.0
#define ADD_MIN_BPS_PER_S 4000.0
/* Link capacity: EWMA of the acknowledged rate at each overuse, with a
 * normalised variance clamped to 0.4..2.5 (libwebrtc LinkCapacityEstimator,
 * alpha 0.05). Beyond mean +- 3 standard deviations it is forgotten and
 * increases become multiplicative again (gcc-02 §5.5). */
#define CAP_ALPHA 0.05
#define CAP_VAR_MIN 0.4
#define CAP_VAR_MAX 2.5
#define CAP_SIGMAS 3.0
/* A second decrease waits one RTT (clamped 10..200 ms) unless the rate
 * received is under half the estimate (libwebrtc TimeToReduceFurther). */
#define DEC_MIN_US 10000u
#define DEC_MAX_US 200000u

/* Loss windows: at least 1 s (libwebrtc GoogCC kLossUpdateInterval) and
 * 20 packets (libwebrtc kLimitNumPackets). */
#define LOSS_WINDOW_US 1000000u
#define LOSS_MIN_PACKETS 20u
/* Loss-based increase at most once per second (kBweIncreaseInterval) by
 * 8 % + 1 kbit/s; decrease at most once per 300 ms + RTT
 * (kBweDecreaseInterval). */
#define LOSS_INC_INTERVAL_US 1000000u
#define LOSS_INC_FACTOR 1.08
#define LOSS_INC_BPS 1000.0
#define LOSS_DEC_INTERVAL_US 300000u
/* Inherent loss: EWMA over windows without overuse (our addition). */
#define INHERENT_ALPHA 0.25

/* RTT smoothing (RFC 6298's 1/8). */
#define RTT_ALPHA 0.125

/* Feedback timeout (libwebrtc SendSideBandwidthEstimation: 20 % cut per
 * timeout interval of missing feedback). */
#define FB_TIMEOUT_US 1000000u
#define FB_TIMEOUT_FACTOR 0.8

/* Probes (libwebrtc ProbeBitrateEstimator and ProbeController). */
#define PROBE_SLOTS 4
#define PROBE_MIN_RECV_RATIO 0.8   /* kMinReceivedProbesRatio */
#define PROBE_MAX_RATIO 2.0        /* kMaxValidRatio recv/send */
#define PROBE_SATURATED 0.9        /* kMinRatioForUnsaturatedLink */
#define PROBE_USE 0.9              /* estimate = 0.9 x probe result (ours:
				      libwebrtc takes 0.95 x a saturated
				      result; 0.9 leaves room for the queue
				      the probe itself built) */
#define PROBE_TIMEOUT_US 1000000u  /* kMaxProbeInterval / cluster history */
#define PROBE_INITIAL_FACTOR 3.0   /* first exponential probe: 3 x start */
#define PROBE_FURTHER_FACTOR 2.0   /* further probes: 2 x, while the
				      last one was not saturated (libwebrtc
				      goes on while >= 70 % got through) */
#define PROBE_FLOOR_US 1000000u    /* for 1 s after a probe, a back-off
				      goes to beta x the probe's result if
				      that is above the acknowledged rate,
				      which still lags (ours; libwebrtc's
				      kProbeDropThroughputFraction plays
				      a similar part) */
#define PROBE_AFTER_DECREASE_US 1000000u /* no periodic probe 1 s after a
					    congestion decrease (ours) */

/* ---- state ------------------------------------------------------------ */

enum slot_state { SLOT_EMPTY, SLOT_SENT, SLOT_ACKED, SLOT_LOST };

struct sent {
	uint64_t send_us;
	uint32_t bytes;
	int32_t cluster;
	uint16_t seq;
	uint8_t state;
};

struct probe {
	int32_t id;               /* 0 = free slot */
	bool sending;             /* packets still being added */
	uint64_t started_us;
	uint64_t first_send, last_send;
	int64_t first_arr, last_arr;
	uint32_t sent_n, reported_n, recv_n;
	uint64_t sent_bytes, recv_bytes;
	uint32_t last_sent_bytes, last_recv_bytes;
	bool overuse;
};

enum aimd_state { AIMD_HOLD, AIMD_INCREASE, AIMD_DECREASE };

struct bwe {
	struct bwe_config c;
	struct sent hist[BWE_HISTORY];
	struct bwe__delay delay;

	/* acknowledged rate */
	uint64_t ack_bins[ACK_BINS + 1];
	int64_t ack_cur;          /* bin index of the newest arrival */
	int64_t ack_first;        /* first bin ever seen */
	bool ack_started;
	double acked_bps;

	/* AIMD */
	double delay_bps;
	enum aimd_state aimd;
	uint64_t last_update_us, last_decrease_us;
	bool updated, decreased;
	double cap_avg, cap_var;  /* kbit/s */
	bool cap_valid;

	/* loss */
	double loss_bps, loss, inherent;
	unsigned loss_windows;
	uint64_t win_start_us;
	uint32_t win_lost, win_recv;
	bool win_started, win_overuse;
	uint64_t last_loss_inc_us, last_loss_dec_us;
	bool loss_inc_done, loss_dec_done;

	/* REMB */
	double remb_bps;

	/* feedback bookkeeping */
	bool have_fb;
	uint64_t last_fb_us, last_sent_us, last_timeout_cut_us;
	double rtt_us;
	uint64_t feedbacks, ignored, overuses;

	/* probes */
	struct probe probes[PROBE_SLOTS];
	int32_t sending_cluster;  /* id of the cluster being sent, 0 none */
	uint64_t probes_started, probes_ok;
	uint64_t last_probe_start_us;
	double probe_result_bps;  /* what the last good probe measured */
	uint64_t probe_result_us;
	bool probed_once;
	double further_bps;       /* next exponential probe rate, 0 none */
	uint64_t further_until_us;
	double last_probe_bps;

	uint32_t estimate;
};

/* ---- helpers ---------------------------------------------------------- */

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static double mind(double a, double b)
{
	return a < b ? a : b;
}

static double maxd(double a, double b)
{
	return a > b ? a : b;
}

/* floor(a / b) for b > 0 */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* e^x for |x| <= 0.08, by its series (enough terms for 1e-9) */
static double small_exp(double x)
{
	return 1 + x + x * x / 2 + x * x * x / 6 + x * x * x * x / 24;
}

static void recompute(struct bwe *b)
{
	double e = mind(b->delay_bps, b->loss_bps);

	if (b->remb_bps > 0)
		e = mind(e, b->remb_bps);
	e = clampd(e, b->c.min_bps, b->c.max_bps);
	b->estimate = (uint32_t)e;
}

/* ---- construction ----------------------------------------------------- */

static int config_fill(struct bwe_config *o, const struct bwe_config *in)
{
	if (in)
		*o = *in;
	else
		memset(o, 0, sizeof(*o));
#define DEF(f, v)          \
	do {               \
		if (!o->f) \
			o->f = (v); \
	} while (0)
	DEF(min_bps, DEF_MIN_BPS);
	DEF(max_bps, DEF_MAX_BPS);
	DEF(group_us, DEF_GROUP_US);
	DEF(trend_window, DEF_TREND_WINDOW);
	DEF(trend_smoothing, DEF_TREND_SMOOTHING);
	DEF(trend_gain, DEF_TREND_GAIN);
	DEF(threshold_ms, DEF_THRESHOLD_MS);
	DEF(k_up, DEF_K_UP);
	DEF(k_down, DEF_K_DOWN);
	DEF(overuse_us, DEF_OVERUSE_US);
	DEF(beta, DEF_BETA);
	DEF(loss_low, DEF_LOSS_LOW);
	DEF(loss_high, DEF_LOSS_HIGH);
	DEF(probe_interval_us, DEF_PROBE_INTERVAL_US);
#undef DEF
	if (o->min_bps > o->max_bps || o->trend_window < 2 ||
	    o->trend_window > BWE_TREND_MAX)
		return -EINVAL;
	if (!(o->trend_smoothing > 0 && o->trend_smoothing < 1) ||
	    !(o->beta > 0 && o->beta < 1) ||
	    !(o->loss_low > 0 && o->loss_low < o->loss_high &&
	      o->loss_high < 1) ||
	    !(o->trend_gain > 0) || !(o->threshold_ms > 0) ||
	    !(o->k_up > 0) || !(o->k_down > 0))
		return -EINVAL;
	return 0;
}

int bwe_new(const struct bwe_config *c, uint32_t start_bps, struct bwe **out)
{
	struct bwe_config cfg;
	struct bwe *b;
	int err;

	if (!out || start_bps == 0)
		return -EINVAL;
	err = config_fill(&cfg, c);
	if (err)
		return err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->c = cfg;
	bwe__delay_init(&b->delay, &b->c);
	b->delay_bps = clampd(start_bps, cfg.min_bps, cfg.max_bps);
	b->loss_bps = b->delay_bps;
	b->aimd = AIMD_HOLD;
	recompute(b);
	*out = b;
	return 0;
}

void bwe_free(struct bwe *b)
{
	free(b);
}

/* ---- sending ---------------------------------------------------------- */

static struct probe *probe_find(struct bwe *b, int32_t id)
{
	for (int i = 0; i < PROBE_SLOTS; i++)
		if (b->probes[i].id == id)
			return &b->probes[i];
	return NULL;
}

static struct probe *probe_start(struct bwe *b, int32_t id, uint64_t now)
{
	struct probe *p = &b->probes[0];

	/* take a free slot, else the oldest */
	for (int i = 0; i < PROBE_SLOTS; i++) {
		if (!b->probes[i].id) {
			p = &b->probes[i];
			break;
		}
		if (b->probes[i].started_us < p->started_us)
			p = &b->probes[i];
	}
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->sending = true;
	p->started_us = now;
	p->first_send = now;
	b->probes_started++;
	b->last_probe_start_us = now;
	b->probed_once = true;
	b->further_bps = 0;
	return p;
}

void bwe_on_sent(struct bwe *b, uint16_t seq, uint64_t send_us, size_t bytes,
		 int probe_cluster)
{
	struct sent *s;
	int32_t id = probe_cluster > 0 ? probe_cluster : 0;

	if (!b)
		return;
	if (bytes > UINT32_MAX)
		bytes = UINT32_MAX;
	if (id != b->sending_cluster) {
		struct probe *old = probe_find(b, b->sending_cluster);
		if (b->sending_cluster && old)
			old->sending = false;
		b->sending_cluster = id;
		if (id) {
			struct probe *p = probe_find(b, id);
			if (!p)
				probe_start(b, id, send_us);
			else
				p->sending = true;
		}
	}
	if (id) {
		struct probe *p = probe_find(b, id);
		if (p) {
			if (!p->sent_n || send_us < p->first_send)
				p->first_send = send_us;
			if (send_us > p->last_send)
				p->last_send = send_us;
			p->sent_n++;
			p->sent_bytes += bytes;
			p->last_sent_bytes = (uint32_t)bytes;
		}
	}
	s = &b->hist[seq & HIST_MASK];
	/* an overwritten packet never reported: nothing to undo (loss is
	 * counted only from feedback) */
	s->send_us = send_us;
	s->bytes = (uint32_t)bytes;
	s->cluster = id;
	s->seq = seq;
	s->state = SLOT_SENT;
	b->last_sent_us = send_us;
}

/* ---- acknowledged rate ------------------------------------------------ */

/* Ring slot of bin k (k may be negative: the receiver's clock is its own). */
static size_t bin_slot(int64_t k)
{
	int64_t m = k % (ACK_BINS + 1);
	return (size_t)(m < 0 ? m + ACK_BINS + 1 : m);
}

static void acked_add(struct bwe *b, int64_t arr_us, uint32_t bytes)
{
	int64_t bin = floor_div(arr_us, ACK_BIN_US);

	if (!b->ack_started || bin - b->ack_cur > 10 * ACK_BINS ||
	    b->ack_cur - bin > 10 * ACK_BINS) {
		/* first packet, or the receiver's clock jumped: start over */
		memset(b->ack_bins, 0, sizeof(b->ack_bins));
		b->ack_started = true;
		b->ack_cur = bin;
		b->ack_first = bin;
	}
	if (bin > b->ack_cur) {
		int64_t from = b->ack_cur + 1;

		if (bin - from > ACK_BINS)
			from = bin - ACK_BINS;
		for (int64_t k = from; k <= bin; k++)
			b->ack_bins[bin_slot(k)] = 0;
		b->ack_cur = bin;
	}
	if (b->ack_cur - bin >= ACK_BINS + 1)
		return; /* older than the window */
	b->ack_bins[bin_slot(bin)] += bytes;
}

/* Rate over the complete bins (the newest bin is still filling). */
static void acked_update(struct bwe *b)
{
	int64_t span = b->ack_cur - b->ack_first;
	uint64_t sum = 0;

	if (!b->ack_started || span <= 0)
		return;
	if (span > ACK_BINS)
		span = ACK_BINS;
	for (int64_t k = b->ack_cur - span; k < b->ack_cur; k++)
		sum += b->ack_bins[bin_slot(k)];
	b->acked_bps = (double)sum * 8.0 * 1e6 / (double)(span * ACK_BIN_US);
}

/* ---- AIMD rate control (gcc-02 §5.5) ---------------------------------- */

static void cap_reset(struct bwe *b)
{
	b->cap_valid = false;
	b->cap_avg = 0;
	b->cap_var = CAP_VAR_MIN;
}

/* sign(v - avg) * (v - avg)^2 > (3 sigma)^2, sigma^2 = var * avg (kbps) */
static bool cap_above(const struct bwe *b, double bps)
{
	double d = bps / 1000.0 - b->cap_avg;
	return d > 0 &&
	       d * d > CAP_SIGMAS * CAP_SIGMAS * b->cap_var * b->cap_avg;
}

static bool cap_below(const struct bwe *b, double bps)
{
	double d = b->cap_avg - bps / 1000.0;
	return d > 0 &&
	       d * d > CAP_SIGMAS * CAP_SIGMAS * b->cap_var * b->cap_avg;
}

static void cap_sample(struct bwe *b, double bps)
{
	double x = bps / 1000.0, norm;

	if (!b->cap_valid) {
		b->cap_avg = x;
		b->cap_valid = true;
	} else {
		b->cap_avg = (1 - CAP_ALPHA) * b->cap_avg + CAP_ALPHA * x;
	}
	norm = maxd(b->cap_avg, 1.0);
	b->cap_var = (1 - CAP_ALPHA) * b->cap_var +
		     CAP_ALPHA * (b->cap_avg - x) * (b->cap_avg - x) / norm;
	b->cap_var = clampd(b->cap_var, CAP_VAR_MIN, CAP_VAR_MAX);
}

static uint64_t decrease_interval(const struct bwe *b)
{
	double r = clampd(b->rtt_us, DEC_MIN_US, DEC_MAX_US);
	return (uint64_t)r;
}

static void aimd_update(struct bwe *b, int signal, uint64_t now)
{
	double dt, rate = b->delay_bps;

	dt = b->updated ? (double)(now - b->last_update_us) / 1e6 : 0;
	dt = clampd(dt, 0, 1);
	b->updated = true;
	b->last_update_us = now;

	switch (signal) {
	case BWE_OVERUSE:
		b->aimd = AIMD_DECREASE;
		break;
	case BWE_UNDERUSE:
		b->aimd = AIMD_HOLD;
		break;
	default:
		if (b->aimd != AIMD_INCREASE)
			b->aimd = AIMD_INCREASE;
		break;
	}

	if (b->aimd == AIMD_INCREASE) {
		double limit = ACK_CAP_FACTOR * b->acked_bps +
			       ACK_CAP_MARGIN_BPS;
		double add;

		if (b->cap_valid && cap_above(b, b->acked_bps))
			cap_reset(b);
		if (b->cap_valid) {
			double resp = (b->rtt_us + ADD_RESPONSE_EXTRA_US) / 1e6;
			add = maxd(ADD_MIN_BPS_PER_S, ADD_PACKET_BITS / resp) *
			      dt;
		} else {
			add = maxd(rate * (small_exp(MULT_LN * dt) - 1),
				   dt > 0 ? MULT_MIN_BPS : 0);
		}
		if (rate + add > limit)
			rate = maxd(rate, limit);
		else
			rate += add;
	} else if (b->aimd == AIMD_DECREASE) {
		bool allowed =
			!b->decreased ||
			now - b->last_decrease_us >= decrease_interval(b) ||
			b->acked_bps < rate / 2;

		if (allowed && b->acked_bps > 0) {
			double base = b->acked_bps, n;

			if (b->probe_result_us &&
			    now - b->probe_result_us < PROBE_FLOOR_US)
				base = maxd(base, b->probe_result_bps);
			n = b->c.beta * base;

			if (n > rate && b->cap_valid)
				n = b->c.beta * b->cap_avg * 1000.0;
			if (n < rate)
				rate = n;
			if (b->cap_valid && cap_below(b, b->acked_bps))
				cap_reset(b);
			cap_sample(b, b->acked_bps);
			b->decreased = true;
			b->last_decrease_us = now;
		}
		b->aimd = AIMD_HOLD;
	}
	b->delay_bps = clampd(rate, b->c.min_bps, b->c.max_bps);
}

/* ---- loss (gcc-02 §6, with inherent loss) ----------------------------- */

static void loss_update(struct bwe *b, uint64_t now)
{
	uint32_t total = b->win_lost + b->win_recv;
	double eff;

	if (!b->win_started) {
		b->win_started = true;
		b->win_start_us = now;
	}
	if (now - b->win_start_us < LOSS_WINDOW_US || total < LOSS_MIN_PACKETS)
		return;
	b->loss = (double)b->win_lost / total;
	eff = b->loss - b->inherent;
	if (eff < 0)
		eff = 0;
	if (eff < b->c.loss_low) {
		if (!b->loss_inc_done ||
		    now - b->last_loss_inc_us >= LOSS_INC_INTERVAL_US) {
			b->loss_bps = LOSS_INC_FACTOR *
					      mind(b->loss_bps, b->delay_bps) +
				      LOSS_INC_BPS;
			b->loss_inc_done = true;
			b->last_loss_inc_us = now;
		}
	} else if (eff > b->c.loss_high) {
		if (!b->loss_dec_done ||
		    now - b->last_loss_dec_us >=
			    LOSS_DEC_INTERVAL_US + (uint64_t)b->rtt_us) {
			b->loss_bps = mind(b->loss_bps, b->delay_bps) *
				      (1 - 0.5 * eff);
			b->loss_dec_done = true;
			b->last_loss_dec_us = now;
		}
	}
	b->loss_bps = clampd(b->loss_bps, b->c.min_bps, b->c.max_bps);
	if (!b->win_overuse) {
		double a = b->loss_windows ? INHERENT_ALPHA : 1.0;
		b->inherent += a * (b->loss - b->inherent);
		if (b->inherent > b->c.loss_high)
			b->inherent = b->c.loss_high;
		b->loss_windows++;
	}
	b->win_start_us = now;
	b->win_lost = b->win_recv = 0;
	b->win_overuse = false;
}

/* ---- probes ----------------------------------------------------------- */

static void probe_evaluate(struct bwe *b, struct probe *p, uint64_t now)
{
	double send_s, recv_s, send_bps, recv_bps, res;

	p->id = 0; /* evaluated once, whatever the outcome */
	if (p->recv_n < BWE_PROBE_MIN_PACKETS ||
	    p->recv_n < PROBE_MIN_RECV_RATIO * p->sent_n)
		return;
	send_s = (double)(p->last_send - p->first_send) / 1e6;
	recv_s = (double)(p->last_arr - p->first_arr) / 1e6;
	if (send_s <= 0 || recv_s <= 0)
		return;
	send_bps = (double)(p->sent_bytes - p->last_sent_bytes) * 8 / send_s;
	recv_bps = (double)(p->recv_bytes - p->last_recv_bytes) * 8 / recv_s;
	if (recv_bps > PROBE_MAX_RATIO * send_bps)
		return; /* compressed in some queue: not a measurement */
	if (recv_bps < PROBE_SATURATED * send_bps)
		res = recv_bps; /* saturated: what the bottleneck passed */
	else if (p->overuse)
		return; /* went through, but the queue grew: cross traffic */
	else
		res = mind(send_bps, recv_bps);
	b->last_probe_bps = res;
	if (PROBE_USE * res > b->delay_bps) {
		b->delay_bps = clampd(PROBE_USE * res, b->c.min_bps,
				      b->c.max_bps);
		b->loss_bps = maxd(b->loss_bps, b->delay_bps);
		b->probes_ok++;
		b->probe_result_bps = res;
		b->probe_result_us = now;
		/* the old capacity estimate is below what we just measured */
		cap_reset(b);
	}
	if (recv_bps >= PROBE_SATURATED * send_bps) {
		/* it went through: the path may carry more still */
		b->further_bps = PROBE_FURTHER_FACTOR * res;
		b->further_until_us = now + PROBE_TIMEOUT_US;
	}
}

static void probes_check(struct bwe *b, uint64_t now)
{
	for (int i = 0; i < PROBE_SLOTS; i++) {
		struct probe *p = &b->probes[i];

		if (!p->id)
			continue;
		if (!p->sending && p->reported_n >= p->sent_n)
			probe_evaluate(b, p, now);
		else if (now - p->started_us > PROBE_TIMEOUT_US +
						       BWE_PROBE_DURATION_US)
			p->id = 0; /* feedback never completed it */
	}
}

bool bwe_probe_wanted(const struct bwe *b, uint64_t now_us, uint32_t *rate_bps)
{
	double rate;

	if (!b || !rate_bps)
		return false;
	if (b->estimate >= b->c.max_bps)
		return false;
	for (int i = 0; i < PROBE_SLOTS; i++)
		if (b->probes[i].id &&
		    now_us - b->probes[i].started_us <
			    PROBE_TIMEOUT_US + BWE_PROBE_DURATION_US)
			return false; /* one in flight */
	if (!b->probed_once) {
		rate = PROBE_INITIAL_FACTOR * b->estimate;
	} else if (b->further_bps > 0 && now_us < b->further_until_us) {
		rate = b->further_bps;
	} else if (now_us - b->last_probe_start_us >= b->c.probe_interval_us &&
		   b->delay.state != BWE_OVERUSE &&
		   (!b->decreased ||
		    now_us - b->last_decrease_us >= PROBE_AFTER_DECREASE_US)) {
		rate = PROBE_FURTHER_FACTOR * b->estimate;
	} else {
		return false;
	}
	if (rate <= b->estimate)
		return false;
	*rate_bps = (uint32_t)mind(rate, b->c.max_bps);
	return true;
}

/* ---- feedback --------------------------------------------------------- */

static void take_status(struct bwe *b, const struct rtcp_twcc_status *s,
			uint64_t now, bool *overuse, uint64_t *newest)
{
	struct sent *h = &b->hist[s->seq & HIST_MASK];
	struct probe *p;

	if (h->state == SLOT_EMPTY || h->seq != s->seq || now < h->send_us ||
	    now - h->send_us > HIST_MAX_AGE_US ||
	    (s->received && (s->arrival_us > ARRIVAL_MAX_US ||
			     s->arrival_us < -ARRIVAL_MAX_US))) {
		b->ignored++;
		return;
	}
	p = h->cluster ? probe_find(b, h->cluster) : NULL;
	if (!s->received) {
		if (h->state != SLOT_SENT) {
			b->ignored++;
			return;
		}
		h->state = SLOT_LOST;
		b->win_lost++;
		if (p)
			p->reported_n++;
		return;
	}
	if (h->state == SLOT_ACKED) {
		b->ignored++; /* duplicate */
		return;
	}
	if (h->state == SLOT_LOST) {
		/* reported lost before, received after all (reordered
		 * feedback): undo the loss */
		if (b->win_lost)
			b->win_lost--;
	} else if (p) {
		p->reported_n++;
	}
	h->state = SLOT_ACKED;
	b->win_recv++;
	acked_add(b, s->arrival_us, h->bytes);
	if (p) {
		if (!p->recv_n || s->arrival_us < p->first_arr)
			p->first_arr = s->arrival_us;
		if (!p->recv_n || s->arrival_us >= p->last_arr) {
			p->last_arr = s->arrival_us;
			p->last_recv_bytes = h->bytes;
		}
		p->recv_n++;
		p->recv_bytes += h->bytes;
	}
	if (bwe__delay_packet(&b->delay, &b->c, h->send_us, s->arrival_us)) {
		if (p)
			p->overuse = true;
		*overuse = true;
		b->overuses++;
	}
	if (h->send_us > *newest)
		*newest = h->send_us;
}

void bwe_on_feedback(struct bwe *b, const struct rtcp_twcc *fb,
		     const struct rtcp_twcc_status *st, size_t n,
		     uint64_t now_us)
{
	bool overuse = false;
	uint64_t newest = 0;

	(void)fb;
	if (!b || !st || n == 0)
		return;
	b->feedbacks++;
	b->have_fb = true;
	b->last_fb_us = now_us;
	for (size_t i = 0; i < n; i++)
		take_status(b, &st[i], now_us, &overuse, &newest);
	if (newest) {
		double r = (double)(now_us - newest);
		b->rtt_us = b->rtt_us > 0 ? (1 - RTT_ALPHA) * b->rtt_us +
						    RTT_ALPHA * r
					  : r;
	}
	if (overuse)
		b->win_overuse = true;
	acked_update(b);
	aimd_update(b, overuse ? BWE_OVERUSE : b->delay.state, now_us);
	loss_update(b, now_us);
	probes_check(b, now_us);
	recompute(b);
}

void bwe_on_remb(struct bwe *b, uint32_t bps, uint64_t now_us)
{
	(void)now_us;
	if (!b || bps == 0)
		return;
	b->remb_bps = bps;
	if (!b->have_fb) {
		/* no transport-cc: the receiver's estimate is all we have */
		b->delay_bps = clampd(bps, b->c.min_bps, b->c.max_bps);
		b->loss_bps = b->delay_bps;
	}
	recompute(b);
}

void bwe_tick(struct bwe *b, uint64_t now_us)
{
	if (!b)
		return;
	if (b->have_fb && b->last_sent_us > b->last_fb_us &&
	    now_us - b->last_sent_us < FB_TIMEOUT_US &&
	    now_us - b->last_fb_us >= FB_TIMEOUT_US &&
	    now_us - b->last_timeout_cut_us >= FB_TIMEOUT_US) {
		b->delay_bps = clampd(b->delay_bps * FB_TIMEOUT_FACTOR,
				      b->c.min_bps, b->c.max_bps);
		b->loss_bps = clampd(b->loss_bps * FB_TIMEOUT_FACTOR,
				     b->c.min_bps, b->c.max_bps);
		b->last_timeout_cut_us = now_us;
	}
	probes_check(b, now_us);
	recompute(b);
}

uint32_t bwe_estimate(const struct bwe *b)
{
	return b ? b->estimate : 0;
}

void bwe_stats(const struct bwe *b, struct bwe_stats *o)
{
	if (!b || !o)
		return;
	memset(o, 0, sizeof(*o));
	o->estimate_bps = b->estimate;
	o->acked_bps = (uint32_t)b->acked_bps;
	o->delay_bps = (uint32_t)b->delay_bps;
	o->loss_bps = (uint32_t)b->loss_bps;
	o->remb_bps = (uint32_t)b->remb_bps;
	o->loss = b->loss;
	o->inherent_loss = b->inherent;
	o->trend = b->delay.modified;
	o->threshold = b->delay.threshold;
	o->state = b->delay.state;
	o->rtt_us = (uint32_t)b->rtt_us;
	o->feedbacks = b->feedbacks;
	o->ignored = b->ignored;
	o->overuses = b->overuses;
	o->probes = b->probes_started;
	o->probes_ok = b->probes_ok;
	o->last_probe_bps = (uint32_t)b->last_probe_bps;
}
