/*
 * congestion — the subscriber side of congestion control.
 *
 * Every RTP packet the SFU sends to a subscriber that negotiated the
 * transport-wide sequence number extension carries the next number of that
 * subscriber's transport (forward.c writes it); the subscriber's browser
 * answers with transport-cc feedback, which feeds the subscriber's
 * bandwidth estimator (src/bwe). A subscriber without transport-cc may send
 * REMB instead; its estimate is then used as such (the fallback).
 *
 * Probes: when the allocation (simulcast.c) holds a subscriber below what
 * its view asks for and the estimator wants to test a higher rate, the SFU
 * sends padding for BWE_PROBE_DURATION_US: padding-only packets in the RTX
 * stream of one of the subscriber's video outs (RFC 4588 streams carry
 * padding in libwebrtc too; receivers count them for feedback and drop
 * them), each with a transport-wide sequence number, paced over the
 * worker's ticks.
 */
#include "sfu/sfu_int.h"

#include <errno.h>
#include <string.h>

#include "bwe/bwe.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "srtp/srtp_session.h"
#include "util/buf.h"

enum {
	/* where a subscriber's estimate starts, before any feedback: enough
	 * for audio and a middle layer; probes find out about more */
	SFU_BWE_START_BPS = 1000000,
	/* a subscriber held below its view probes this often while its path
	 * is not congested (bwe's own default, 5 s, is for a sender with no
	 * reason to go higher; a viewer of a small layer has one) */
	SFU_PROBE_INTERVAL_US = 2000000,
	SFU_PROBE_MAX_PER_TICK = 64, /* padding packets in one 10 ms tick */
	ONE_BYTE_PROFILE = 0xBEDE,   /* RFC 8285 §4.2 */
};

static int estimator_new(struct sfu_transport *sub)
{
	struct bwe_config c;

	memset(&c, 0, sizeof(c));
	c.probe_interval_us = SFU_PROBE_INTERVAL_US;
	return bwe_new(&c, SFU_BWE_START_BPS, &sub->bwe);
}

int sfu__congestion_enable(struct sfu_transport *sub, uint8_t twcc_id)
{
	(void)twcc_id;
	sub->twcc_out = true;
	if (sub->bwe)
		return 0;
	return estimator_new(sub);
}

void sfu__congestion_free(struct sfu_transport *sub)
{
	if (sub->bwe)
		bwe_free(sub->bwe);
	sub->bwe = NULL;
}

static int cluster_now(const struct sfu_worker *w, const struct sfu_transport *sub)
{
	return w->now < sub->probe_until_ms ? sub->probe_cluster : 0;
}

void sfu__congestion_sent(struct sfu_worker *w, struct sfu_transport *sub,
			  size_t bytes, int probe_cluster)
{
	if (!sub->bwe)
		return;
	bwe_on_sent(sub->bwe, sub->twcc_seq++, w->now_us, bytes,
		    probe_cluster ? probe_cluster : cluster_now(w, sub));
}

/*
 * Feedback is decoded into at most BWE_HISTORY statuses (the estimator
 * keeps no more packets, so a status beyond could only be ignored), and
 * only as many as the subscriber has credit for: twice the packets sent
 * to it since, up to SFU_TWCC_CREDIT_MAX (a browser reports each packet
 * once, now and then twice). The field allows 32,767 statuses, and a run
 * of "not received" costs two bytes for 8,191 of them: without the bound
 * a 52-byte packet made ~65,000 steps of decoding and estimating. With
 * it, the work its feedback causes is proportional to what we sent.
 */
void sfu__congestion_feedback(struct sfu_worker *w, struct sfu_transport *sub,
			      const struct rtcp_pkt *pkt)
{
	static _Thread_local struct rtcp_twcc_status st[BWE_HISTORY];
	struct rtcp_twcc fb;
	uint32_t cap;
	int err;

	w->c.twcc_in++;
	if (!sub->bwe)
		return;
	sub->twcc_credit += 2u * (uint16_t)(sub->twcc_seq - sub->twcc_credit_seq);
	sub->twcc_credit_seq = sub->twcc_seq;
	if (sub->twcc_credit > SFU_TWCC_CREDIT_MAX)
		sub->twcc_credit = SFU_TWCC_CREDIT_MAX;
	cap = sub->twcc_credit < BWE_HISTORY ? sub->twcc_credit : BWE_HISTORY;
	err = rtcp_twcc_parse(pkt, &fb, st, cap);
	if (err == -ENOSPC)
		w->c.twcc_refused++;
	if (err != 0)
		return;
	sub->twcc_credit -= fb.status_count;
	sub->fb_seen = true;
	bwe_on_feedback(sub->bwe, &fb, st, fb.status_count, w->now_us);
}

void sfu__congestion_remb(struct sfu_worker *w, struct sfu_transport *sub,
			  const struct rtcp_pkt *pkt)
{
	struct rtcp_remb r;

	if (rtcp_remb_parse(pkt, &r) != 0)
		return;
	w->c.remb_in++;
	if (!sub->bwe && estimator_new(sub) != 0)
		return;
	sub->fb_seen = true;
	bwe_on_remb(sub->bwe, r.bitrate > UINT32_MAX ? UINT32_MAX : (uint32_t)r.bitrate, w->now_us);
}

void sfu__congestion_tick(struct sfu_worker *w, struct sfu_transport *sub)
{
	if (sub->bwe)
		bwe_tick(sub->bwe, w->now_us);
}

uint32_t sfu__congestion_estimate(const struct sfu_worker *w,
				  const struct sfu_transport *sub)
{
	/* until the first feedback nothing is known (and a subscriber that
	 * negotiated transport-cc but never sends it is not held back) */
	(void)w;
	if (!sub->bwe || !sub->fb_seen)
		return UINT32_MAX;
	return bwe_estimate(sub->bwe);
}

bool sfu__congestion_probe_wanted(struct sfu_worker *w, struct sfu_transport *sub,
				  uint32_t *rate_bps)
{
	return sub->bwe && sub->fb_seen && bwe_probe_wanted(sub->bwe, w->now_us, rate_bps);
}

void sfu__probe_start(struct sfu_worker *w, struct sfu_transport *sub,
		      uint32_t bps)
{
	sub->probe_bps = bps;
	sub->probe_until_ms = w->now + BWE_PROBE_DURATION_US / 1000;
	sub->probe_cluster = sub->probe_cluster % 0x7fffffff + 1;
	sub->probe_credit = 0;
	w->c.probes++;
	w->tick_soon = true; /* probes are paced per SFU_TICK_MS */
}

/* A padding-only packet in o's RTX stream (RFC 3550 §5.1 padding: the
 * last byte counts the padding bytes, itself included). */
static void send_padding(struct sfu_worker *w, struct sfu_out *o)
{
	struct sfu_transport *sub = o->sub;
	uint8_t *out = sfu__send_slot(w);
	size_t len = 20;

	out[0] = 0x80 | 0x20 | 0x10; /* V=2, P, X */
	out[1] = o->rtx_pt;
	put_u16(out + 2, o->rtx_seq++);
	put_u32(out + 4, o->last_ts);
	put_u32(out + 8, o->rtx_ssrc);
	put_u16(out + 12, ONE_BYTE_PROFILE);
	put_u16(out + 14, 1);
	out[16] = (uint8_t)(o->twcc_id << 4 | 1);
	put_u16(out + 17, sub->twcc_seq);
	out[19] = 0;
	memset(out + len, 0, SFU_PROBE_PKT - 1);
	len += SFU_PROBE_PKT;
	out[len - 1] = SFU_PROBE_PKT;
	if (srtps_protect_rtp(sub->srtp, out, &len, SFU_MTU) != 0) {
		w->c.srtp_errors++;
		return;
	}
	sfu__send_to(w, sub, len);
	sfu__congestion_sent(w, sub, len, sub->probe_cluster);
	w->c.probe_bytes += len;
}

bool sfu__probe_tick(struct sfu_worker *w)
{
	bool probing = false;

	for (struct sfu_transport *t = w->all; t; t = t->next_all) {
		struct sfu_out *o;
		unsigned n = 0;

		if (t->publisher || !t->bwe || !t->probe_bps)
			continue;
		if (w->now >= t->probe_until_ms || !t->srtp || !t->have_peer) {
			t->probe_bps = 0;
			continue;
		}
		for (o = t->outs; o; o = o->next_in_sub)
			/* any video's RTX stream will do, even one never started
			 * (all paused by bandwidth is when probes matter most) */
			if (o->track->kind == SFU_VIDEO && o->rtx_ssrc && o->twcc_id)
				break;
		if (!o) {
			t->probe_bps = 0;
			continue;
		}
		t->probe_credit += t->probe_bps / (8 * (1000 / SFU_TICK_MS));
		while (t->probe_credit >= SFU_PROBE_PKT && n++ < SFU_PROBE_MAX_PER_TICK) {
			send_padding(w, o);
			t->probe_credit -= SFU_PROBE_PKT;
		}
		probing = true;
	}
	return probing;
}
