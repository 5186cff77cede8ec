/*
 * test_simulcast — a publisher's three simulcast layers through the
 * hand-driven worker of sfu_scene.c: which layer a subscriber gets (its
 * view, its bandwidth estimate), the switch at a key frame with sequence
 * numbers, timestamps and VP8 picture ids continuous, and the layers
 * nobody needs paused at the publisher. (Listed with the other sfu tests
 * in list_sfu.h.)
 */
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/sfu_int.h"
#include "sfu_scene.h"
#include "srtp/srtp_session.h"

enum { L0_SSRC = 0x51000000u, L1_SSRC = 0x51000001u, L2_SSRC = 0x51000002u };

/* The picture id of a forwarded VP8 packet. */
static uint16_t vp8_pic(const uint8_t *b, const struct rtp_hdr *h)
{
	struct rtp_vp8 d;
	if (rtp_vp8_parse(b + h->payload_off, h->payload_len, &d) != 0)
		return 0xffff;
	return d.picture_id;
}

/*
 * A publisher (PUB) with a VP8 video track in three simulcast layers
 * (SSRCs from the SDP) and, if `audio`, an Opus track; a subscriber (SUB)
 * subscribed to the video (and the audio). Both keyed, peers set by ICE.
 */
static int simulcast_scene(struct scene *e, struct sfu_transport **pub,
			   struct sfu_transport **sub, bool audio)
{
	struct sfu_track_params tp;
	struct sfu_sub_params sp;

	TEST_EQ(scene_transports(e, pub, sub), 0);
	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_PUB;
	tp.track = TR_VIDEO;
	tp.kind = SFU_VIDEO;
	tp.codec = SFU_CODEC_VP8;
	snprintf(tp.mid, sizeof(tp.mid), "v0");
	tp.ssrcs[0] = L0_SSRC;
	tp.ssrcs[1] = L1_SSRC;
	tp.ssrcs[2] = L2_SSRC;
	tp.nlayers = 3;
	snprintf(tp.rids[0], sizeof(tp.rids[0]), "q");
	snprintf(tp.rids[1], sizeof(tp.rids[1]), "h");
	snprintf(tp.rids[2], sizeof(tp.rids[2]), "f");
	tp.pt = PT_VP8;
	sfu__track_add(e->w, &tp);
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB;
	sp.track = TR_VIDEO;
	sp.ssrc = SV_SSRC;
	sp.pt_in[0] = PT_VP8;
	sp.pt_out[0] = SUB_PT_VP8;
	sfu__subscribe(e->w, &sp);
	if (!audio)
		return 0;
	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_PUB;
	tp.track = TR_AUDIO;
	tp.kind = SFU_AUDIO;
	tp.ssrcs[0] = A_SSRC;
	tp.pt = PT_OPUS;
	snprintf(tp.mid, sizeof(tp.mid), "a0");
	sfu__track_add(e->w, &tp);
	sp.track = TR_AUDIO;
	sp.ssrc = SA_SSRC;
	sp.pt_in[0] = PT_OPUS;
	sp.pt_out[0] = SUB_PT_OPUS;
	sfu__subscribe(e->w, &sp);
	return 0;
}

int test_sfu_simulcast_switch(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct sfu_out *o;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;
	uint16_t seq, pic;
	uint32_t ts;
	size_t nev, quality = 0;

	TEST_EQ(simulcast_scene(&e, &pub, &sub, false), 0);
	o = sub->outs;
	TEST_ASSERT(o && o->track->nlayers == 3);
	/* no estimate yet, a view of everything: it wants the top layer */
	TEST_EQ(o->target, 2);
	TEST_ASSERT(o->need_key);
	/* the gauges: one video stream, starting (no key frame yet) */
	sfu__alloc_tick(e.w);
	TEST_EQ(e.w->g.video_streams, 1);
	TEST_EQ(e.w->g.starting_streams, 1);
	TEST_EQ(e.w->g.paused_streams, 0);
	sfu__flush(e.w);
	scene_drain(e.fd[PUB]);

	/* a delta of the top layer: nothing to start a picture with */
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, 700, 9000, 20, true, false), 0);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	/* the lowest layer's key frame comes first: it starts the picture
	 * while the top layer's key frame is awaited */
	TEST_EQ(scene_send_vp8(&e, L0_SSRC, 100, 9000, 500, true, true), 0);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_EQ(vp8_pic(b, &h), 500);
	TEST_ASSERT(o->need_key && o->map.layer == 0 && o->target == 2);
	seq = h.seq;
	sfu__alloc_tick(e.w);
	TEST_EQ(e.w->g.starting_streams, 0);
	TEST_EQ(e.w->g.layer0_streams, 1);
	/* the top layer's key frame: the switch, forwarded from there on */
	e.w->now += 33;
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, 701, 12000, 21, true, true), 0);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_EQ(h.seq, (uint16_t)(seq + 1));
	seq = h.seq;
	ts = h.ts;
	pic = vp8_pic(b, &h);
	TEST_EQ(pic, 501);
	TEST_EQ(e.w->c.layer_switches, 1);
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, 702, 12000, 21, false, false), 0);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 1));
	TEST_EQ(h.ts, ts);

	/* a small tile: layer 0, which waits for its key frame while the top
	 * layer goes on */
	e.w->now += 40;
	sfu__set_view(e.w, TP_SUB, TR_VIDEO, 0);
	TEST_EQ(o->target, 0);
	TEST_ASSERT(o->need_key);
	TEST_EQ(scene_send_vp8(&e, L0_SSRC, 101, 12000, 501, true, false), 0);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, 703, 15000, 22, true, false), 0);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 2));
	/* layer 0's key frame: the switch, continuous in seq, ts and pic */
	e.w->now += 33;
	TEST_EQ(scene_send_vp8(&e, L0_SSRC, 102, 18000, 502, true, true), 0);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 3));
	TEST_ASSERT((uint32_t)(h.ts - (ts + 3000)) > 0 &&
		    (uint32_t)(h.ts - (ts + 3000)) < 0x80000000u);
	TEST_EQ(vp8_pic(b, &h), (uint16_t)(pic + 2));
	TEST_EQ(e.w->c.layer_switches, 2);
	/* the old layer stops, the new one goes on */
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, 704, 18000, 23, true, false), 0);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	TEST_EQ(scene_send_vp8(&e, L0_SSRC, 103, 21000, 503, true, false), 0);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 4));
	TEST_EQ(vp8_pic(b, &h), (uint16_t)(pic + 3));
	/* a late packet of layer 0 from before the switch: dropped (its
	 * sequence number was the top layer's) */
	TEST_EQ(scene_send_vp8(&e, L0_SSRC, 99, 9000, 500, false, false), 0);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));

	/* paused by the view: nothing; resumed: from a key frame, continuous */
	sfu__set_view(e.w, TP_SUB, TR_VIDEO, SFU_LAYER_PAUSED);
	TEST_EQ(o->target, -1);
	TEST_EQ(scene_send_vp8(&e, L0_SSRC, 104, 24000, 504, true, true), 0);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	sfu__set_view(e.w, TP_SUB, TR_VIDEO, 1);
	TEST_EQ(o->target, 1);
	TEST_EQ(scene_send_vp8(&e, L1_SSRC, 300, 27000, 77, true, false), 0);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	TEST_EQ(scene_send_vp8(&e, L1_SSRC, 301, 30000, 78, true, true), 0);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 5));
	TEST_EQ(vp8_pic(b, &h), (uint16_t)(pic + 4));
	TEST_EQ(e.w->c.layer_switches, 3);

	/* the subscriber heard of every change of layer and reason */
	nev = scene_poll_events(&e);
	for (size_t i = 0; i < nev; i++)
		if (e.ev[i].type == SFU_EV_QUALITY) {
			TEST_EQ(e.ev[i].transport, TP_SUB);
			quality++;
		}
	TEST_ASSERT(quality >= 4); /* top, view 0, paused, view 1 */
	TEST_EQ(e.ev[nev - 1].type, SFU_EV_QUALITY);
	TEST_EQ(e.ev[nev - 1].layer, 1);
	TEST_EQ(e.ev[nev - 1].reason, SFU_REASON_VIEW);

	/* the top layer nobody needs is paused at the publisher after the
	 * hold, the lowest always stays on */
	sfu__alloc_tick(e.w);
	e.w->now += SFU_LAYERS_HOLD_MS + 1;
	sfu__alloc_tick(e.w);
	nev = scene_poll_events(&e);
	TEST_ASSERT(nev >= 1);
	TEST_EQ(e.ev[nev - 1].type, SFU_EV_LAYERS);
	TEST_EQ(e.ev[nev - 1].transport, TP_PUB);
	TEST_EQ(e.ev[nev - 1].mask, 0x3);
	scene_close(&e);
	return 0;
}

/* Audio first: a subscriber whose estimate (here from REMB, the fallback)
 * cannot carry the lowest video layer keeps its audio and has the video
 * paused for bandwidth; as the estimate grows it gets higher layers. */
int test_sfu_simulcast_bandwidth(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct sfu_out *ov = NULL, *oa = NULL;
	uint8_t b[PKT];
	size_t n;
	uint32_t media = SV_SSRC;

	TEST_EQ(simulcast_scene(&e, &pub, &sub, true), 0);
	for (struct sfu_out *o = sub->outs; o; o = o->next_in_sub) {
		if (o->track->kind == SFU_VIDEO)
			ov = o;
		else
			oa = o;
	}
	TEST_ASSERT(ov && oa);
	TEST_EQ(ov->target, 2);
	TEST_EQ(sfu__congestion_estimate(e.w, sub), UINT32_MAX);

	/* 100 kbit/s: less than the lowest layer (150 kbit/s nominal) */
	TEST_EQ(rtcp_remb_write(b, sizeof(b), SUB_OWN_SSRC, 100000, &media, 1, &n), 0);
	TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
	TEST_EQ(e.w->c.remb_in, 1);
	TEST_ASSERT(sfu__congestion_estimate(e.w, sub) <= 100000);
	sfu__allocate(e.w, sub);
	TEST_EQ(ov->target, -1);
	TEST_EQ(ov->reason, SFU_REASON_BANDWIDTH);
	{
		/* and audio still flows */
		struct scene_rtp r = { .pt = PT_OPUS, .seq = 5, .ts = 960, .ssrc = A_SSRC,
				       .level = -1, .plen = 80 };
		struct rtp_hdr h;
		sfu__flush(e.w);
		scene_drain(e.fd[SUB]);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		sfu__flush(e.w);
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SA_SSRC);
	}
	/* 400 kbit/s: the lowest layer (150 kbit/s nominal), still limited */
	e.w->now += 1000;
	TEST_EQ(rtcp_remb_write(b, sizeof(b), SUB_OWN_SSRC, 400000, &media, 1, &n), 0);
	TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
	sfu__allocate(e.w, sub);
	TEST_EQ(ov->target, 0);
	TEST_EQ(ov->reason, SFU_REASON_BANDWIDTH);
	/* 3 Mbit/s: the top layer the view asks for (layers the publisher
	 * does not send are not given: these ones flow) */
	e.w->now += 1000;
	TEST_EQ(scene_send_vp8(&e, L1_SSRC, 10, 3000, 1, true, false), 0);
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, 10, 3000, 1, true, false), 0);
	TEST_EQ(rtcp_remb_write(b, sizeof(b), SUB_OWN_SSRC, 3000000, &media, 1, &n), 0);
	TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
	sfu__allocate(e.w, sub);
	TEST_EQ(ov->target, 2);
	TEST_EQ(ov->reason, SFU_REASON_OK);
	scene_close(&e);
	return 0;
}


/* A key frame request that no key frame answers while the layer keeps
 * sending (the PLI, or the key frame's start, lost on a lossy uplink) goes
 * again SFU_PLI_RETRY_MS later, at most SFU_PLI_RETRIES times, per layer;
 * a key frame's first packet answers it; a layer that sends nothing is
 * asked again only when it sends, and given up after SFU_LAYER_IDLE_MS. */
int test_sfu_pli_retry(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint32_t media[16];
	uint16_t seq = 700;
	int count;

	TEST_EQ(simulcast_scene(&e, &pub, &sub, false), 0);
	/* the new viewer's request for the top layer went at once */
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 1);
	TEST_EQ(media[0], L2_SSRC);
	/* the layer has sent nothing since: no short tick waits for it */
	TEST_ASSERT(!sfu__keyframes_tick(e.w));
	/* the layer sends delta frames, no key frame: the request goes again
	 * SFU_PLI_RETRY_MS later, twice */
	for (int k = 1; k <= SFU_PLI_RETRIES; k++) {
		e.w->now += SFU_PLI_RETRY_MS - 1;
		TEST_EQ(scene_send_vp8(&e, L2_SSRC, seq++, 9000, 20, true, false), 0);
		TEST_ASSERT(sfu__keyframes_tick(e.w));
		sfu__flush(e.w);
		TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
		TEST_EQ(count, 0);
		e.w->now += 1;
		sfu__keyframes_tick(e.w);
		sfu__flush(e.w);
		TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
		TEST_EQ(count, 1);
		TEST_EQ(media[0], L2_SSRC);
		TEST_EQ(e.w->c.pli_retries, (uint64_t)k);
	}
	/* and no more */
	e.w->now += SFU_PLI_RETRY_MS;
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, seq++, 9000, 20, true, false), 0);
	TEST_ASSERT(!sfu__keyframes_tick(e.w));
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 0);
	TEST_EQ(e.w->c.pli_out, 1 + SFU_PLI_RETRIES);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));

	/* the viewer asks again: a new request, followed first by the lowest
	 * layer's key frame (which starts the picture, and is not the
	 * answer), then by the top layer's */
	TEST_EQ(scene_send_pli(&e, SUB, SV_SSRC), 0);
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 1);
	TEST_EQ(media[0], L2_SSRC);
	e.w->now += 10;
	TEST_EQ(scene_send_vp8(&e, L0_SSRC, 100, 9000, 500, true, true), 0);
	TEST_ASSERT(!scene_quiet(e.fd[SUB]));
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, seq++, 9000, 20, true, false), 0);
	e.w->now += SFU_PLI_RETRY_MS - 10;
	/* sent again, and then waited for at the idle pace until the layer
	 * sends again */
	TEST_ASSERT(!sfu__keyframes_tick(e.w));
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 1);
	TEST_EQ(media[0], L2_SSRC);
	TEST_EQ(e.w->c.pli_retries, SFU_PLI_RETRIES + 1);
	e.w->now += 33;
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, seq++, 12000, 21, true, true), 0);
	TEST_ASSERT(!sfu__keyframes_tick(e.w)); /* answered: nothing waits */
	e.w->now += SFU_PLI_RETRY_MS;
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 0);
	TEST_EQ(e.w->c.pli_retries, SFU_PLI_RETRIES + 1);

	/* a request for a layer that then sends nothing for a while (a still
	 * screen): not asked again while it is silent, and no short tick
	 * waits for it; its next packet, if no key frame, is the cue */
	e.w->now += SFU_PLI_INTERVAL_MS;
	TEST_EQ(scene_send_pli(&e, SUB, SV_SSRC), 0);
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 1);
	e.w->now += SFU_PLI_RETRY_MS;
	TEST_ASSERT(!sfu__keyframes_tick(e.w));
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 0);
	e.w->now += SFU_PLI_RETRY_MS;
	TEST_EQ(scene_send_vp8(&e, L2_SSRC, seq++, 15000, 22, true, false), 0);
	TEST_ASSERT(!sfu__keyframes_tick(e.w)); /* sent again, as above */
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 1);
	TEST_EQ(e.w->c.pli_retries, SFU_PLI_RETRIES + 2);
	/* ... and one that stays silent (paused, or gone) is given up after
	 * SFU_LAYER_IDLE_MS */
	e.w->now += SFU_LAYER_IDLE_MS - 1;
	TEST_ASSERT(!sfu__keyframes_tick(e.w));
	TEST_EQ(pub->tracks[0]->st[2].pli_retries, SFU_PLI_RETRIES - 1);
	e.w->now += 1;
	TEST_ASSERT(!sfu__keyframes_tick(e.w));
	TEST_EQ(pub->tracks[0]->st[2].pli_retries, 0);
	sfu__flush(e.w);
	TEST_EQ(scene_plis_at_pub(&e, media, 16, &count), 0);
	TEST_EQ(count, 0);
	TEST_EQ(e.w->c.pli_retries, SFU_PLI_RETRIES + 2);
	scene_close(&e);
	return 0;
}
