/*
 * bwe — a send-side bandwidth estimator for one subscriber transport.
 *
 * The SFU stamps every RTP packet it sends to a subscriber with a
 * transport-wide sequence number and tells the estimator (bwe_on_sent);
 * the subscriber answers with transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01), which says when
 * each packet arrived on the subscriber's clock (bwe_on_feedback). From
 * that the estimator keeps a bitrate the path can carry, in the spirit of
 * Google Congestion Control (draft-ietf-rmcat-gcc-02):
 *
 *   delay-based   packets grouped into 5 ms send bursts; the growth of the
 *                 one-way delay between groups, smoothed, and its trend over
 *                 the last 20 groups (a least-squares slope); "overuse" when
 *                 the trend stays above an adaptive threshold; an AIMD rate
 *                 controller backs off to 0.85 x the acknowledged rate on
 *                 overuse and grows otherwise (8 %/s far from the last
 *                 congestion point, about a packet per round trip near it);
 *   loss-based    packet loss over 1 s windows: above 10 % the rate drops
 *                 by (1 - loss/2), below 2 % it may grow by 8 %/s; loss
 *                 that comes without queue growth (a lossy radio) is
 *                 learned as the path's own and discounted;
 *   probes        padding sent at a higher rate for a short while: when its
 *                 feedback shows it arrived at the rate it was sent, the
 *                 estimate jumps to 0.9 x that rate. This is how a
 *                 subscriber moves up quickly once congestion is gone.
 *
 * The estimate is min(delay-based, loss-based, REMB if any), never raised
 * above 1.5 x the acknowledged rate + 10 kbit/s except by a probe, and
 * clamped to [min_bps, max_bps]. docs/media.md ("Congestion control")
 * lists every constant and where it comes from.
 *
 * Times are µs on the sender's monotonic clock; arrival times in feedback
 * are on the receiver's clock and only their differences are used.
 * Feedback may be lost, duplicated, reordered or garbage: a status for a
 * packet not in the send history (4096 packets) is ignored, a packet is
 * counted once. Nothing allocates after bwe_new(). Not thread-safe: an
 * estimator belongs to the worker that owns the transport.
 */
#ifndef CONCLAVE_BWE_BWE_H
#define CONCLAVE_BWE_BWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtcp/rtcp.h"

enum {
	/* send history: a ring indexed by sequence number; 4096 packets is
	 * about 2 s at 20 Mbit/s, longer than any feedback interval */
	BWE_HISTORY = 4096,
	/* most groups the trendline window may hold (bwe_config) */
	BWE_TREND_MAX = 64,
	/* How long the caller should send at the rate bwe_probe_wanted()
	 * gives. libwebrtc's probes last at least 15 ms and 5 packets; 100 ms
	 * holds at least 10 packets at the lowest probe rates we send and
	 * averages out the receiver's 250 µs timestamp grid. */
	BWE_PROBE_DURATION_US = 100000,
	/* fewest packets a probe should send (whatever its duration), and
	 * fewest of them that must be acknowledged for it to count
	 * (libwebrtc ProbeController asks for 5 per cluster; 10 sent leaves
	 * room for losses and for the 80 % rule) */
	BWE_PROBE_SEND_PACKETS = 10,
	BWE_PROBE_MIN_PACKETS = 5,
};

/*
 * Tunables. A zero field takes its default (in brackets); bwe_new() checks
 * the rest. Defaults are GCC's (docs/media.md says which source each
 * comes from).
 */
struct bwe_config {
	uint32_t min_bps;         /* [30 000] floor of the estimate */
	uint32_t max_bps;         /* [20 000 000] ceiling of the estimate */
	uint32_t group_us;        /* [5 000] send-time burst of one group */
	unsigned trend_window;    /* [20] groups in the trendline, 2..64 */
	double trend_smoothing;   /* [0.9] EWMA coefficient of the delay */
	double trend_gain;        /* [4.0] trend-to-threshold gain */
	double threshold_ms;      /* [12.5] initial overuse threshold */
	double k_up;              /* [0.0087] threshold adaptation, rising */
	double k_down;            /* [0.039] threshold adaptation, falling */
	uint32_t overuse_us;      /* [10 000] trend above threshold this long */
	double beta;              /* [0.85] back-off factor on overuse */
	double loss_low;          /* [0.02] below: loss allows increase */
	double loss_high;         /* [0.10] above: loss decreases */
	uint32_t probe_interval_us; /* [5 000 000] between periodic probes */
};

struct bwe;

/*
 * Makes an estimator starting at start_bps (clamped to the configured
 * range). c == NULL takes every default. Returns 0 with *out set, -EINVAL
 * (start_bps 0, min above max, trend_window out of range, a factor out of
 * (0, 1) where it must be a fraction) or -ENOMEM. Free with bwe_free().
 */
int bwe_new(const struct bwe_config *c, uint32_t start_bps, struct bwe **out);
void bwe_free(struct bwe *b);

/*
 * A packet sent with transport-wide sequence number seq at send_us, bytes
 * long on the wire (the size the bottleneck carries). probe_cluster > 0
 * marks packets of a probe; every packet sent while a probe runs (media
 * and padding alike) should carry the cluster id, and a new probe should
 * use a new id. Sequence numbers wrap at 2^16.
 */
void bwe_on_sent(struct bwe *b, uint16_t seq, uint64_t send_us, size_t bytes,
		 int probe_cluster);

/*
 * One transport-cc feedback as rtcp_twcc_parse() decoded it (st[0..n)),
 * received at now_us. fb may be NULL (only st is read). Statuses for
 * unknown, too old or already acknowledged packets are ignored.
 */
void bwe_on_feedback(struct bwe *b, const struct rtcp_twcc *fb,
		     const struct rtcp_twcc_status *st, size_t n,
		     uint64_t now_us);

/*
 * A REMB (draft-alvestrand-rmcat-remb-03) from the subscriber: its own
 * estimate. Without transport-cc feedback the estimate follows it; with
 * transport-cc it is a ceiling. bps == 0 is ignored.
 */
void bwe_on_remb(struct bwe *b, uint32_t bps, uint64_t now_us);

/*
 * Timers; call every ~100 ms. When transport-cc feedback has stopped for
 * 1 s while packets were being sent, the estimate drops by 20 % (once a
 * second while it lasts); a probe whose feedback never came is given up.
 */
void bwe_tick(struct bwe *b, uint64_t now_us);

/* The estimate in bits per second. */
uint32_t bwe_estimate(const struct bwe *b);

struct bwe_stats {
	uint32_t estimate_bps;  /* bwe_estimate() */
	uint32_t acked_bps;     /* received rate over the last 500 ms */
	uint32_t delay_bps;     /* delay-based (AIMD) estimate */
	uint32_t loss_bps;      /* loss-based estimate */
	uint32_t remb_bps;      /* last REMB, 0 if none */
	double loss;            /* loss fraction of the last 1 s window */
	double inherent_loss;   /* loss learned as the path's own */
	double trend;           /* modified trend (compared to threshold) */
	double threshold;       /* current overuse threshold */
	int state;              /* -1 underuse, 0 normal, 1 overuse */
	uint32_t rtt_us;        /* smoothed send-to-feedback time */
	uint64_t feedbacks;     /* feedback messages taken */
	uint64_t ignored;       /* statuses for unknown/old/duplicate packets */
	uint64_t overuses;      /* overuse signals */
	uint64_t probes;        /* probe clusters started */
	uint64_t probes_ok;     /* probes that raised the estimate */
	uint32_t last_probe_bps; /* rate the last evaluated probe measured */
};

void bwe_stats(const struct bwe *b, struct bwe_stats *out);

/*
 * Whether a probe would be useful now and at what total rate (*rate_bps):
 * right at the start (3 x the estimate), right after a probe that went
 * through (2 x its result, while it keeps going through), and every
 * probe_interval_us otherwise (2 x the estimate) unless the path is
 * congested or was in the last second. Never while a probe is in flight
 * or when the estimate is at max_bps. The SFU probes only if it has
 * something to gain (a higher layer someone wants): it then sends at
 * *rate_bps for BWE_PROBE_DURATION_US and at least BWE_PROBE_SEND_PACKETS
 * packets (padding where media is short), marking them with a new cluster
 * id.
 */
bool bwe_probe_wanted(const struct bwe *b, uint64_t now_us,
		      uint32_t *rate_bps);

#endif
