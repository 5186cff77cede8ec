/*
 * Unit tests for src/bwe: the bandwidth estimator against a simulated
 * bottleneck, on deterministic time.
 *
 * The simulator: a sender paced at min(estimate, offered load) sends
 * 1200-byte packets with transport-wide sequence numbers (starting just
 * below the 2^16 wrap); a link of capacity C drains a FIFO queue (drop-tail
 * when the queue holds more than max_queue_us of data), optionally loses
 * packets at random after it (a lossy last hop; fixed-seed generator),
 * and adds 20 ms of propagation each way. The receiver's clock is offset
 * from the sender's. Every 50 ms the receiver reports the packets it got since its
 * last report: the statuses go through rtcp_twcc_write() and back through
 * rtcp_twcc_parse(), as on the wire (250 µs arrival grid), and reach the
 * estimator 20 ms later. When the sender has more to send than the
 * estimate allows and bwe_probe_wanted() says yes, it sends at the probe
 * rate for BWE_PROBE_DURATION_US (and at least BWE_PROBE_SEND_PACKETS
 * packets) with a fresh cluster id.
 *
 * The bounds each test asserts are listed in docs/media.md
 * ("Congestion control → Subscribers").
 */
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "bwe/bwe.h"
#include "rtcp/rtcp.h"

enum {
	SIM_PKT = 1200,           /* bytes per packet */
	SIM_PROP_US = 20000,      /* one-way propagation */
	SIM_FB_US = 50000,        /* feedback interval */
	SIM_STEP_US = 1000,       /* simulation step */
	SIM_TICK_US = 100000,     /* bwe_tick period */
	SIM_RING = 8192,          /* packets remembered by the link */
	SIM_FB_MAX = 1024,        /* statuses per feedback */
	SIM_FB_QUEUE = 8,         /* feedbacks in flight */
	SIM_TRACE = 1200,         /* 100 ms samples: 120 s */
};

/* receiver clock = sender clock + this (arbitrary, positive) */
#define SIM_CLOCK_OFFSET 3600000000ll

struct sim_pkt {
	uint64_t arrive_us;  /* sender clock; 0 = lost */
	bool sent;
};

struct sim_fb {
	uint64_t deliver_us;
	size_t n;
	struct rtcp_twcc fb;
	struct rtcp_twcc_status st[SIM_FB_MAX];
};

struct sim {
	struct bwe *b;
	uint64_t now;
	/* link */
	double cap_bps;
	uint64_t link_free_us;
	uint64_t max_queue_us;
	uint32_t loss_ppm;
	uint64_t rng;
	/* sender */
	double offered_bps;
	uint64_t next_send_us;
	uint16_t seq;
	int probe_id;
	uint64_t probe_end_us;
	double probe_bps;
	unsigned probe_sent;
	bool probes_enabled;
	/* receiver */
	struct sim_pkt ring[SIM_RING];
	uint16_t fb_next;     /* first sequence number not yet reported */
	uint64_t next_fb_us;
	uint8_t fb_count;
	/* return path */
	struct sim_fb fbq[SIM_FB_QUEUE];
	size_t fbq_n;
	bool duplicate_fb, reorder_fb;
	/* trace, every 100 ms */
	uint32_t est[SIM_TRACE];
	uint32_t qdelay_us[SIM_TRACE];
	size_t ntrace;
	uint64_t next_tick_us;
	uint64_t dropped, sent;
};

static uint32_t sim_rand(struct sim *s)
{
	/* 64-bit LCG (Knuth MMIX), top bits */
	s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(s->rng >> 33);
}

static int sim_init(struct sim *s, double cap_bps, uint32_t start_bps)
{
	memset(s, 0, sizeof(*s));
	if (bwe_new(NULL, start_bps, &s->b))
		return -1;
	s->now = 1000000; /* sender clock starts at 1 s */
	s->cap_bps = cap_bps;
	s->max_queue_us = 400000;
	s->rng = 42;
	s->offered_bps = 4000000;
	s->seq = 65000; /* wraps within the first seconds */
	s->fb_next = s->seq;
	s->next_fb_us = s->now + SIM_FB_US;
	s->next_tick_us = s->now;
	s->next_send_us = s->now;
	s->probes_enabled = true;
	return 0;
}

/* One packet onto the link. */
static void sim_send(struct sim *s, int cluster)
{
	struct sim_pkt *p = &s->ring[s->seq % SIM_RING];
	uint64_t start;

	bwe_on_sent(s->b, s->seq, s->now, SIM_PKT, cluster);
	p->sent = true;
	p->arrive_us = 0;
	s->sent++;
	s->seq++;
	if (s->link_free_us > s->now &&
	    s->link_free_us - s->now > s->max_queue_us) {
		s->dropped++; /* drop-tail */
		return;
	}
	start = s->link_free_us > s->now ? s->link_free_us : s->now;
	s->link_free_us = start + (uint64_t)(SIM_PKT * 8 * 1e6 / s->cap_bps);
	if (s->loss_ppm && sim_rand(s) % 1000000 < s->loss_ppm)
		s->dropped++; /* lost after the bottleneck (a lossy last hop) */
	else
		p->arrive_us = s->link_free_us + SIM_PROP_US;
}

/* The receiver reports what arrived by now, through the real codec. */
static void sim_feedback(struct sim *s)
{
	struct rtcp_twcc_status st[SIM_FB_MAX];
	uint8_t buf[8192];
	size_t n = 0, len, last_recv = 0;
	struct rtcp_twcc fb;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct sim_fb *q;
	uint16_t seq = s->fb_next;
	int64_t first_arr = -1;

	/* up to the last packet that arrived; later losses are not known yet */
	while (seq != s->seq && n < SIM_FB_MAX) {
		struct sim_pkt *p = &s->ring[seq % SIM_RING];

		if (p->arrive_us && p->arrive_us > s->now)
			break;
		st[n].seq = seq;
		st[n].received = p->arrive_us != 0;
		st[n].arrival_us = p->arrive_us ? (int64_t)p->arrive_us +
							  SIM_CLOCK_OFFSET
						: 0;
		if (st[n].received) {
			if (first_arr < 0)
				first_arr = st[n].arrival_us;
			last_recv = n + 1;
		}
		n++;
		seq++;
	}
	if (!last_recv || s->fbq_n == SIM_FB_QUEUE)
		return;
	n = last_recv;
	fb.base_seq = s->fb_next;
	fb.ref_time = (int32_t)(first_arr / RTCP_TWCC_REF_US);
	fb.fb_count = s->fb_count++;
	if (rtcp_twcc_write(buf, sizeof(buf), 1, 2, &fb, st, n, &len))
		return;
	s->fb_next = (uint16_t)(s->fb_next + n);
	rtcp_iter_init(&it, buf, len);
	if (rtcp_next(&it, &pkt) != 1)
		return;
	q = &s->fbq[s->fbq_n];
	if (rtcp_twcc_parse(&pkt, &q->fb, q->st, SIM_FB_MAX))
		return;
	q->n = q->fb.status_count;
	q->deliver_us = s->now + SIM_PROP_US;
	s->fbq_n++;
}

static void sim_deliver(struct sim *s)
{
	size_t i = 0;

	while (i < s->fbq_n) {
		struct sim_fb *q = &s->fbq[i];

		if (q->deliver_us > s->now) {
			i++;
			continue;
		}
		if (s->reorder_fb && i + 1 < s->fbq_n && s->fbq_n > 1) {
			/* the next one (if due) overtakes this one */
			struct sim_fb *r = &s->fbq[i + 1];
			bwe_on_feedback(s->b, &r->fb, r->st, r->n, s->now);
		}
		bwe_on_feedback(s->b, &q->fb, q->st, q->n, s->now);
		if (s->duplicate_fb)
			bwe_on_feedback(s->b, &q->fb, q->st, q->n, s->now);
		memmove(q, q + 1, (s->fbq_n - i - 1) * sizeof(*q));
		s->fbq_n--;
	}
}

/* Runs the simulation for `us` microseconds. */
static void sim_run(struct sim *s, uint64_t us)
{
	uint64_t end = s->now + us;

	for (; s->now < end; s->now += SIM_STEP_US) {
		uint32_t est = bwe_estimate(s->b), want;
		double rate;

		if (s->probes_enabled && !s->probe_end_us &&
		    s->offered_bps > est &&
		    bwe_probe_wanted(s->b, s->now, &want)) {
			s->probe_id++;
			s->probe_bps = want;
			s->probe_end_us = s->now + BWE_PROBE_DURATION_US;
			s->probe_sent = 0;
			s->next_send_us = s->now;
		}
		if (s->probe_end_us && s->now >= s->probe_end_us &&
		    s->probe_sent >= BWE_PROBE_SEND_PACKETS)
			s->probe_end_us = 0;
		rate = est < s->offered_bps ? est : s->offered_bps;
		if (s->probe_end_us)
			rate = s->probe_bps;
		if (s->next_send_us + 5000 < s->now)
			s->next_send_us = s->now; /* no catching up */
		while (s->next_send_us <= s->now) {
			sim_send(s, s->probe_end_us ? s->probe_id : 0);
			if (s->probe_end_us)
				s->probe_sent++;
			s->next_send_us += (uint64_t)(SIM_PKT * 8 * 1e6 / rate);
		}
		if (s->now >= s->next_fb_us) {
			sim_feedback(s);
			s->next_fb_us += SIM_FB_US;
		}
		sim_deliver(s);
		if (s->now >= s->next_tick_us) {
			bwe_tick(s->b, s->now);
			s->next_tick_us += SIM_TICK_US;
			if (s->ntrace < SIM_TRACE) {
				s->est[s->ntrace] = bwe_estimate(s->b);
				s->qdelay_us[s->ntrace] =
					s->link_free_us > s->now
						? (uint32_t)(s->link_free_us -
							     s->now)
						: 0;
				s->ntrace++;
			}
		}
	}
}

static void sim_free(struct sim *s)
{
	bwe_free(s->b);
	s->b = NULL;
}

/* min / max / mean of the trace over [from, to) samples (100 ms each) */
static uint32_t trace_min(const uint32_t *t, size_t from, size_t to)
{
	uint32_t m = UINT32_MAX;
	for (size_t i = from; i < to; i++)
		if (t[i] < m)
			m = t[i];
	return m;
}

static uint32_t trace_max(const uint32_t *t, size_t from, size_t to)
{
	uint32_t m = 0;
	for (size_t i = from; i < to; i++)
		if (t[i] > m)
			m = t[i];
	return m;
}

static double trace_mean(const uint32_t *t, size_t from, size_t to)
{
	double sum = 0;
	for (size_t i = from; i < to; i++)
		sum += t[i];
	return to > from ? sum / (double)(to - from) : 0;
}

/* first sample index in [from, to) where pred holds, or to */
static size_t trace_first_at_least(const uint32_t *t, size_t from, size_t to,
				   uint32_t v)
{
	for (size_t i = from; i < to; i++)
		if (t[i] >= v)
			return i;
	return to;
}

static size_t trace_first_below(const uint32_t *t, size_t from, size_t to,
				uint32_t v)
{
	for (size_t i = from; i < to; i++)
		if (t[i] < v)
			return i;
	return to;
}

static void trace_print(const char *name, const struct sim *s)
{
	if (!getenv("BWE_TRACE"))
		return;
	for (size_t i = 0; i < s->ntrace; i++)
		fprintf(stderr, "%s %5.1f s est %8u q %6u\n", name,
			(double)i / 10, s->est[i], s->qdelay_us[i]);
}

/* ---- construction, config, REMB, timeouts ---------------------------- */

int test_bwe_new(void)
{
	struct bwe *b = NULL;
	struct bwe_config c;
	struct bwe_stats st;

	TEST_EQ(bwe_new(NULL, 0, &b), -EINVAL);
	TEST_EQ(bwe_new(NULL, 300000, NULL), -EINVAL);
	memset(&c, 0, sizeof(c));
	c.min_bps = 2000000;
	c.max_bps = 1000000;
	TEST_EQ(bwe_new(&c, 300000, &b), -EINVAL);
	memset(&c, 0, sizeof(c));
	c.trend_window = BWE_TREND_MAX + 1;
	TEST_EQ(bwe_new(&c, 300000, &b), -EINVAL);
	memset(&c, 0, sizeof(c));
	c.beta = 1.5;
	TEST_EQ(bwe_new(&c, 300000, &b), -EINVAL);
	memset(&c, 0, sizeof(c));
	c.loss_low = 0.2; /* above loss_high's default */
	TEST_EQ(bwe_new(&c, 300000, &b), -EINVAL);
	TEST_ASSERT(b == NULL);

	/* start clamped to the range; defaults in stats */
	TEST_EQ(bwe_new(NULL, 1, &b), 0);
	TEST_EQ(bwe_estimate(b), 30000);
	bwe_stats(b, &st);
	TEST_EQ(st.state, 0);
	TEST_ASSERT(st.threshold > 12.4 && st.threshold < 12.6);
	bwe_free(b);
	TEST_EQ(bwe_new(NULL, 4000000000u, &b), 0);
	TEST_EQ(bwe_estimate(b), 20000000);
	bwe_free(b);
	memset(&c, 0, sizeof(c));
	c.min_bps = 100000;
	c.max_bps = 500000;
	TEST_EQ(bwe_new(&c, 300000, &b), 0);
	TEST_EQ(bwe_estimate(b), 300000);
	bwe_free(b);
	bwe_free(NULL);
	return 0;
}

int test_bwe_remb(void)
{
	struct bwe *b;
	struct rtcp_twcc_status st[1];

	TEST_EQ(bwe_new(NULL, 300000, &b), 0);
	/* without transport-cc the estimate follows REMB, both ways */
	bwe_on_remb(b, 1500000, 1000);
	TEST_EQ(bwe_estimate(b), 1500000);
	bwe_on_remb(b, 800000, 2000);
	TEST_EQ(bwe_estimate(b), 800000);
	bwe_on_remb(b, 0, 3000); /* ignored */
	TEST_EQ(bwe_estimate(b), 800000);
	bwe_on_remb(b, 10, 4000); /* clamped */
	TEST_EQ(bwe_estimate(b), 30000);
	bwe_on_remb(b, 800000, 5000);

	/* with transport-cc, REMB is a ceiling only */
	bwe_on_sent(b, 7, 10000, 1200, 0);
	st[0] = (struct rtcp_twcc_status){ .seq = 7, .received = true,
					   .arrival_us = 123456 };
	bwe_on_feedback(b, NULL, st, 1, 40000);
	TEST_EQ(bwe_estimate(b), 800000);
	bwe_on_remb(b, 2000000, 50000);
	TEST_EQ(bwe_estimate(b), 800000); /* not raised by REMB */
	bwe_on_remb(b, 400000, 60000);
	TEST_EQ(bwe_estimate(b), 400000); /* capped by REMB */
	bwe_free(b);
	return 0;
}

int test_bwe_feedback_timeout(void)
{
	struct bwe *b;
	struct rtcp_twcc_status st[1];
	uint64_t t = 1000000;

	TEST_EQ(bwe_new(NULL, 1000000, &b), 0);
	/* no feedback ever (REMB-only subscriber): no cut */
	for (int i = 0; i < 30; i++, t += 100000) {
		bwe_on_sent(b, (uint16_t)i, t, 1200, 0);
		bwe_tick(b, t);
	}
	TEST_EQ(bwe_estimate(b), 1000000);
	st[0] = (struct rtcp_twcc_status){ .seq = 29, .received = true,
					   .arrival_us = 5000000 };
	bwe_on_feedback(b, NULL, st, 1, t);
	TEST_EQ(bwe_estimate(b), 1000000);
	/* sending on, feedback stops: 20 % per second once a second */
	for (int i = 30; i < 55; i++) {
		t += 100000;
		bwe_on_sent(b, (uint16_t)i, t, 1200, 0);
		bwe_tick(b, t);
	}
	TEST_ASSERT(bwe_estimate(b) <= 800000 * 0.8 + 1);
	TEST_ASSERT(bwe_estimate(b) >= 1000000 * 0.8 * 0.8 * 0.8 - 1);
	/* nothing sent for a second: no more cuts (nothing to learn from) */
	{
		uint32_t e;
		for (int i = 0; i < 10; i++) {
			t += 100000;
			bwe_tick(b, t);
		}
		e = bwe_estimate(b);
		TEST_ASSERT(e >= 1000000 * 0.8 * 0.8 * 0.8 - 1);
		for (int i = 0; i < 30; i++) {
			t += 100000;
			bwe_tick(b, t);
		}
		TEST_EQ(bwe_estimate(b), e);
	}
	bwe_free(b);
	return 0;
}

/* ---- simulated paths ------------------------------------------------- */

/*
 * (a) Rising: 15 s at 300 kbit/s, then 2.5 Mbit/s. Asserted: at the end of
 * the first phase the estimate is within [0.5, 1.3] x 300k; after the rise
 * it reaches 70 % of 2.5 Mbit/s within 10 s (probes), and never exceeds
 * 1.2 x 2.5 Mbit/s.
 */
int test_bwe_rising(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	size_t at;
	struct bwe_stats st;

	TEST_ASSERT(s);
	TEST_EQ(sim_init(s, 300000, 300000), 0);
	sim_run(s, 15000000);
	TEST_ASSERT(s->est[149] >= 150000 && s->est[149] <= 390000);
	s->cap_bps = 2500000;
	sim_run(s, 15000000);
	trace_print("rising", s);
	at = trace_first_at_least(s->est, 150, 300, 1750000);
	bwe_stats(s->b, &st);
	if (getenv("BWE_TRACE"))
		fprintf(stderr,
			"rising: 70%% after %.1f s, probes %llu ok %llu\n",
			(double)(at - 149) / 10, (unsigned long long)st.probes,
			(unsigned long long)st.probes_ok);
	TEST_ASSERT(at < 150 + 100);
	TEST_ASSERT(trace_max(s->est, 150, 300) <= 3000000);
	TEST_ASSERT(st.probes_ok >= 1);
	sim_free(s);
	free(s);
	return 0;
}

/*
 * (b) Falling: 15 s at 2.5 Mbit/s, then 500 kbit/s. Asserted: the estimate
 * goes below 500k within 2 s; from 3 s after the drop the queueing delay
 * averages under 100 ms and the estimate stays in [0.5, 1.2] x 500k.
 */
int test_bwe_falling(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	size_t at;

	TEST_ASSERT(s);
	TEST_EQ(sim_init(s, 2500000, 300000), 0);
	sim_run(s, 15000000);
	TEST_ASSERT(s->est[149] >= 1750000);
	s->cap_bps = 500000;
	sim_run(s, 15000000);
	trace_print("falling", s);
	at = trace_first_below(s->est, 150, 300, 500000);
	if (getenv("BWE_TRACE"))
		fprintf(stderr, "falling: below C after %.1f s, q mean %.0f us "
				"max %u us\n",
			(double)(at - 149) / 10,
			trace_mean(s->qdelay_us, 180, 300),
			trace_max(s->qdelay_us, 180, 300));
	TEST_ASSERT(at <= 149 + 20);
	TEST_ASSERT(trace_mean(s->qdelay_us, 180, 300) < 100000);
	TEST_ASSERT(trace_min(s->est, 180, 300) >= 250000);
	TEST_ASSERT(trace_max(s->est, 180, 300) <= 600000);
	sim_free(s);
	free(s);
	return 0;
}

/*
 * (c) Lossy: 2 Mbit/s with 10 % random loss after the bottleneck, 40 s,
 * three seeds. Asserted from 10 s on: the estimate never falls below
 * 0.45 x C (900 kbit/s), never exceeds 1.15 x C (overshoot before the
 * queue is noticed), and averages between 0.7 x C and C.
 */
int test_bwe_lossy(void)
{
	static const uint64_t seeds[] = { 42, 1, 99 };
	struct sim *s = calloc(1, sizeof(*s));
	struct bwe_stats st;

	TEST_ASSERT(s);
	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		TEST_EQ(sim_init(s, 2000000, 300000), 0);
		s->rng = seeds[k];
		s->loss_ppm = 100000;
		sim_run(s, 40000000);
		trace_print("lossy", s);
		bwe_stats(s->b, &st);
		if (getenv("BWE_TRACE"))
			fprintf(stderr, "lossy: min %u max %u mean %.0f loss "
					"%.3f inherent %.3f\n",
				trace_min(s->est, 100, 400),
				trace_max(s->est, 100, 400),
				trace_mean(s->est, 100, 400), st.loss,
				st.inherent_loss);
		TEST_ASSERT(st.loss > 0.05 && st.loss < 0.2); /* seen */
		TEST_ASSERT(st.inherent_loss > 0.05);
		TEST_ASSERT(trace_min(s->est, 100, 400) >= 900000);
		TEST_ASSERT(trace_max(s->est, 100, 400) <= 2300000);
		TEST_ASSERT(trace_mean(s->est, 100, 400) >= 1400000);
		TEST_ASSERT(trace_mean(s->est, 100, 400) <= 2000000);
		sim_free(s);
	}
	free(s);
	return 0;
}

/*
 * (d) Steady: 1.5 Mbit/s for 60 s. Asserted: from 10 s on the estimate
 * stays within [0.7, 1.1] x C, and the queueing delay averages under 50 ms.
 */
int test_bwe_steady(void)
{
	struct sim *s = calloc(1, sizeof(*s));

	TEST_ASSERT(s);
	TEST_EQ(sim_init(s, 1500000, 300000), 0);
	sim_run(s, 60000000);
	trace_print("steady", s);
	if (getenv("BWE_TRACE"))
		fprintf(stderr, "steady: min %u max %u mean %.0f q %.0f us\n",
			trace_min(s->est, 100, 600),
			trace_max(s->est, 100, 600),
			trace_mean(s->est, 100, 600),
			trace_mean(s->qdelay_us, 100, 600));
	TEST_ASSERT(trace_min(s->est, 100, 600) >= 1050000);
	TEST_ASSERT(trace_max(s->est, 100, 600) <= 1650000);
	TEST_ASSERT(trace_mean(s->qdelay_us, 100, 600) < 50000);
	sim_free(s);
	free(s);
	return 0;
}

/*
 * Application-limited: the sender has only 500 kbit/s to send on a
 * 5 Mbit/s path and never probes. The estimate grows (8 %/s without
 * probes) but may not run away from what was acknowledged: from 15 s on
 * it stays within [1.3, 1.6] x 500k (the cap is 1.5 x acknowledged +
 * 10 kbit/s).
 */
int test_bwe_app_limited(void)
{
	struct sim *s = calloc(1, sizeof(*s));

	TEST_ASSERT(s);
	TEST_EQ(sim_init(s, 5000000, 300000), 0);
	s->offered_bps = 500000;
	s->probes_enabled = false;
	sim_run(s, 30000000);
	trace_print("applimited", s);
	TEST_ASSERT(trace_min(s->est, 150, 300) >= 650000);
	TEST_ASSERT(trace_max(s->est, 150, 300) <= 800000);
	sim_free(s);
	free(s);
	return 0;
}

/*
 * (e) Duplicated and reordered feedback on the steady path: every feedback
 * delivered twice, and each overtaken by the next one. The estimate must
 * track as in (d): [0.7, 1.1] x C from 10 s on.
 */
int test_bwe_dup_reorder(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct bwe_stats st;

	TEST_ASSERT(s);
	TEST_EQ(sim_init(s, 1500000, 300000), 0);
	s->duplicate_fb = true;
	s->reorder_fb = true;
	sim_run(s, 40000000);
	trace_print("dupreorder", s);
	bwe_stats(s->b, &st);
	TEST_ASSERT(st.ignored > 1000); /* the duplicates were seen as such */
	TEST_ASSERT(trace_min(s->est, 100, 400) >= 1050000);
	TEST_ASSERT(trace_max(s->est, 100, 400) <= 1650000);
	sim_free(s);
	free(s);
	return 0;
}

/*
 * (e) Garbage: random statuses (unknown sequence numbers, wild arrival
 * times, received/lost at random), a feedback naming every packet twice,
 * and feedback for packets never sent. Nothing crashes (ASan), the
 * estimate stays within [min, max], and afterwards the estimator still
 * converges on a clean 1.5 Mbit/s path.
 */
int test_bwe_garbage(void)
{
	static struct rtcp_twcc_status st[4096];
	struct sim *s = calloc(1, sizeof(*s));
	struct bwe_stats bs;
	uint64_t rng = 7;

	TEST_ASSERT(s);
	TEST_EQ(sim_init(s, 1500000, 300000), 0);
	sim_run(s, 3000000);
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + (size_t)(rng >> 40) % 4096;

		/* fresh packets (some in probe clusters) for it to name */
		for (int j = 0; j < 50; j++)
			bwe_on_sent(s->b, s->seq++, s->now + (uint64_t)j * 100,
				    1200, j % 7 == 0 ? round + 1000 : 0);

		for (size_t i = 0; i < n; i++) {
			rng = rng * 6364136223846793005ull + 1;
			st[i].seq = (uint16_t)(rng >> 20);
			if (round % 3 == 0) /* near what was sent */
				st[i].seq = (uint16_t)(s->seq - 1 -
						       (rng >> 50) % 600);
			st[i].received = (rng >> 17) & 1;
			st[i].delta_us = (int32_t)(rng >> 33);
			st[i].arrival_us = (int64_t)(rng >> 3) *
					   ((rng & 4) ? -1 : 1);
			if ((rng & 0x70) == 0x10)
				st[i].arrival_us = INT64_MAX;
			if ((rng & 0x70) == 0x20)
				st[i].arrival_us = INT64_MIN;
		}
		bwe_on_feedback(s->b, NULL, st, n, s->now + 5000);
		bwe_on_feedback(s->b, NULL, st, n, s->now + 5000); /* again */
		bwe_on_feedback(s->b, NULL, NULL, 5, s->now); /* no array */
		bwe_on_feedback(s->b, NULL, st, 0, s->now);
		TEST_ASSERT(bwe_estimate(s->b) >= 30000 &&
			    bwe_estimate(s->b) <= 20000000);
		s->now += 10000;
	}
	bwe_stats(s->b, &bs);
	TEST_ASSERT(bs.ignored > 0 && bs.feedbacks >= 400);
	bwe_on_sent(NULL, 1, 1, 1, 0);
	bwe_on_feedback(NULL, NULL, st, 1, 1);
	bwe_tick(NULL, 1);
	TEST_EQ(bwe_estimate(NULL), 0);
	/* a clean path afterwards: converges again */
	s->fbq_n = 0;
	s->fb_next = s->seq;
	s->next_fb_us = s->now + SIM_FB_US;
	s->next_tick_us = s->now;
	s->next_send_us = s->now;
	s->ntrace = 0;
	sim_run(s, 30000000);
	trace_print("garbage", s);
	TEST_ASSERT(trace_min(s->est, 150, 300) >= 1050000);
	TEST_ASSERT(trace_max(s->est, 150, 300) <= 1650000);
	sim_free(s);
	free(s);
	return 0;
}

/*
 * A probe by hand: 20 packets at 2 Mbit/s arrive at 2 Mbit/s; the
 * estimate (300k) jumps to 0.9 x 2 Mbit/s. The same probe arriving at
 * half the rate (a 1 Mbit/s bottleneck) sets it to 0.9 x 1 Mbit/s. One
 * with too few packets acknowledged changes nothing.
 */
int test_bwe_probe(void)
{
	struct rtcp_twcc_status st[32];
	struct bwe *b;
	uint32_t rate;
	const uint64_t gap = 4800; /* 1200 bytes at 2 Mbit/s */

	for (int pass = 0; pass < 3; pass++) {
		uint64_t t0 = 2000000;
		size_t n = 20;

		TEST_EQ(bwe_new(NULL, 300000, &b), 0);
		TEST_ASSERT(bwe_probe_wanted(b, t0, &rate));
		TEST_EQ(rate, 900000); /* initial: 3 x start */
		for (size_t i = 0; i < n; i++)
			bwe_on_sent(b, (uint16_t)(65530 + i), t0 + i * gap,
				    1200, 1);
		bwe_on_sent(b, (uint16_t)(65530 + n), t0 + n * gap, 1200, 0);
		TEST_ASSERT(!bwe_probe_wanted(b, t0 + n * gap, &rate));
		for (size_t i = 0; i < n; i++) {
			st[i].seq = (uint16_t)(65530 + i);
			st[i].received = pass != 2 || i < 3;
			/* pass 1: arrivals twice as far apart */
			st[i].arrival_us =
				st[i].received
					? 50000000 + (int64_t)(i * gap *
							       (pass == 1 ? 2
									  : 1))
					: 0;
		}
		bwe_on_feedback(b, NULL, st, n, t0 + 200000);
		if (pass == 0) {
			TEST_ASSERT(bwe_estimate(b) > 1700000 &&
				    bwe_estimate(b) < 1900000);
			/* it went through: probe further, at 2 x */
			TEST_ASSERT(bwe_probe_wanted(b, t0 + 210000, &rate));
			TEST_ASSERT(rate > 3900000 && rate < 4100000);
		} else if (pass == 1) {
			TEST_ASSERT(bwe_estimate(b) > 850000 &&
				    bwe_estimate(b) < 950000);
		} else {
			TEST_EQ(bwe_estimate(b), 300000);
		}
		bwe_free(b);
	}
	return 0;
}
