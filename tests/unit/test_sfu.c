/*
 * test_sfu — the media worker driven by hand, without its thread: ICE-lite,
 * forwarding, key frames, loss recovery, congestion feedback, reports, and
 * the life cycle of transports, tracks and subscriptions. The worker, the
 * browsers around it and the scene most tests use are sfu_scene.c's; the
 * DTLS handshakes through the worker are in test_sfu_dtls.c, the simulcast
 * tests in test_simulcast.c (all listed in list_sfu.h).
 */
#include "test.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bwe/bwe.h"
#include "dtls/dtls.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/sfu_int.h"
#include "sfu_scene.h"
#include "srtp/srtp_session.h"
#include "stun/stun.h"

static size_t count_outs(const struct sfu_transport *sub)
{
	size_t n = 0;
	for (const struct sfu_out *o = sub->outs; o; o = o->next_in_sub)
		n++;
	return n;
}

static size_t count_track_outs(const struct sfu_track *tr)
{
	size_t n = 0;
	for (const struct sfu_out *o = tr->outs; o; o = o->next_in_track)
		n++;
	return n;
}

/* ---- STUN / ICE-lite ------------------------------------------------------ */

int test_sfu_stun_check_ok(void)
{
	struct scene e;
	struct sfu_transport *t;
	uint8_t b[PKT], tid[STUN_TID_LEN];
	size_t n;

	TEST_EQ(scene_open(&e), 0);
	t = scene_open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	TEST_ASSERT(t && !t->have_peer);
	/* a second open with the same id is ignored */
	TEST_ASSERT(scene_open_tp(&e, TP_PUB, false, "other", "otherpassword0123456789a") == t);
	TEST_ASSERT(t->publisher);

	e.w->now = T0 + 500;
	n = scene_make_check(b, PUB_UFRAG, PUB_PWD, false, tid);
	TEST_ASSERT(n > 0);
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->nsend, 1);
	sfu__flush(e.w);
	TEST_EQ(scene_expect_success(&e, PUB, tid, PUB_PWD), 0);
	TEST_EQ(e.w->c.stun_ok, 1);
	TEST_EQ(e.w->c.stun_dropped, 0);
	TEST_EQ(e.w->c.tx_packets, 1);
	TEST_EQ(e.w->c.sendmmsg_calls, 1);
	/* the first valid check sets the address, without USE-CANDIDATE */
	TEST_ASSERT(scene_peer_is(t, &e, PUB));
	TEST_EQ(t->last_consent_ms, T0 + 500);
	TEST_ASSERT(t->dtls == NULL); /* no remote fingerprint yet */
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	scene_close(&e);
	return 0;
}

int test_sfu_stun_rejects(void)
{
	struct scene e;
	struct sfu_transport *t;
	uint8_t b[PKT], tid[STUN_TID_LEN];
	size_t n;
	uint64_t dropped = 0;

	TEST_EQ(scene_open(&e), 0);
	t = scene_open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	TEST_ASSERT(t);

	/* unknown ufrag */
	n = scene_make_check(b, "nosuchuf", PUB_PWD, true, tid);
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* ufrag that is a prefix of ours */
	n = scene_make_check(b, "pubufr", PUB_PWD, true, tid);
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* wrong password */
	n = scene_make_check(b, PUB_UFRAG, SUB_PWD, true, tid);
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* right password, bad fingerprint (the last 4 bytes) */
	n = scene_make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
	b[n - 1] ^= 0x01;
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* no MESSAGE-INTEGRITY at all */
	n = scene_make_check(b, PUB_UFRAG, NULL, true, tid);
	TEST_ASSERT(n > 0);
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* a tampered body (integrity fails) */
	n = scene_make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
	b[STUN_HEADER_LEN + 5] ^= 0x40;
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* a success response is not a check */
	{
		struct sockaddr_in sin = { .sin_family = AF_INET };
		TEST_EQ(stun_write_binding_success(b, sizeof(b), tid,
						   (struct sockaddr *)&sin, NULL,
						   PUB_PWD, strlen(PUB_PWD), &n), 0);
		scene_deliver(&e, PUB, b, n);
		TEST_EQ(e.w->c.stun_dropped, ++dropped);
	}
	/* truncated STUN, and a lone byte in the STUN range */
	n = scene_make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
	scene_deliver(&e, PUB, b, n - 4);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	scene_deliver(&e, PUB, b, 1);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* an empty datagram is ignored without counting */
	sfu__packet(e.w, &e.addr[PUB], e.alen, b, 0);
	TEST_EQ(e.w->c.stun_dropped, dropped);

	TEST_EQ(e.w->nsend, 0);
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	TEST_EQ(e.w->c.stun_ok, 0);
	TEST_ASSERT(!t->have_peer);
	TEST_EQ(t->last_consent_ms, T0);
	/* and after all that, a good one still works */
	TEST_EQ(scene_ice(&e, PUB, PUB_UFRAG, PUB_PWD, false), 0);
	TEST_ASSERT(scene_peer_is(t, &e, PUB));
	scene_close(&e);
	return 0;
}

/* A nomination from another address makes a candidate, never a move by
 * itself (test_sfu_ice.c has the moves); nor does a check take an address
 * another transport has. */
int test_sfu_stun_use_candidate(void)
{
	struct scene e;
	struct sfu_transport *t, *t2;
	uint8_t junk[20] = { 0x80, 0x60 };

	TEST_EQ(scene_open(&e), 0);
	t = scene_open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	t2 = scene_open_tp(&e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	TEST_ASSERT(t && t2);
	TEST_EQ(scene_ice(&e, PUB, PUB_UFRAG, PUB_PWD, false), 0);
	TEST_ASSERT(scene_peer_is(t, &e, PUB));
	/* a check from another address without USE-CANDIDATE is answered
	 * (to where it came from) but changes nothing */
	TEST_EQ(scene_ice(&e, STRANGER, PUB_UFRAG, PUB_PWD, false), 0);
	TEST_ASSERT(scene_peer_is(t, &e, PUB));
	TEST_ASSERT(!t->have_cand);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	/* the non-STUN demux goes by address: STRANGER is unknown */
	scene_deliver(&e, STRANGER, junk, sizeof(junk));
	TEST_EQ(e.w->c.unknown_source, 1);
	/* the nomination makes it the candidate, and the path stays */
	TEST_EQ(scene_ice(&e, STRANGER, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_ASSERT(scene_peer_is(t, &e, PUB));
	TEST_ASSERT(t->have_cand);
	/* known now, but nothing there authenticates (no keys yet) */
	scene_deliver(&e, STRANGER, junk, sizeof(junk));
	TEST_EQ(e.w->c.unknown_source, 1);
	TEST_EQ(e.w->c.srtp_errors, 1);
	/* a nomination for another transport from t's address does not
	 * take it away from t */
	TEST_EQ(scene_ice(&e, PUB, SUB_UFRAG, SUB_PWD, true), 0);
	TEST_ASSERT(scene_peer_is(t, &e, PUB));
	TEST_ASSERT(!t2->have_peer && t2->have_cand);
	TEST_ASSERT(t->contested);
	/* t2's first path is an address nobody has */
	TEST_EQ(scene_ice(&e, SUB, SUB_UFRAG, SUB_PWD, false), 0);
	TEST_ASSERT(scene_peer_is(t2, &e, SUB));
	TEST_EQ(e.w->c.stun_ok, 5);
	/* closing t2 drops its claim and frees its address */
	sfu__transport_close(e.w, TP_SUB);
	TEST_ASSERT(sfu__transport_find(e.w, TP_SUB) == NULL);
	TEST_ASSERT(!t->contested);
	scene_deliver(&e, SUB, junk, sizeof(junk));
	TEST_EQ(e.w->c.unknown_source, 2);
	scene_close(&e);
	return 0;
}

int test_sfu_ice_restart(void)
{
	struct scene e;
	struct sfu_transport *t;
	uint8_t b[PKT], tid[STUN_TID_LEN];
	size_t n;

	TEST_EQ(scene_open(&e), 0);
	t = scene_open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	TEST_EQ(scene_ice(&e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	e.w->now += 1000;
	sfu__transport_ice_restart(e.w, TP_PUB, "newufrag", "newpassword0123456789xyz");
	TEST_EQ(t->last_consent_ms, e.w->now);
	n = scene_make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, 1);
	/* the new credentials work; a nomination elsewhere is a candidate */
	TEST_EQ(scene_ice(&e, STRANGER, "newufrag", "newpassword0123456789xyz", true), 0);
	TEST_ASSERT(scene_peer_is(t, &e, PUB));
	TEST_ASSERT(t->have_cand);
	/* unknown id: nothing */
	sfu__transport_ice_restart(e.w, 99, "x", "y");
	scene_close(&e);
	return 0;
}

int test_sfu_consent_timeout(void)
{
	struct scene e;
	struct sfu_transport *t, *t2, *t3;

	TEST_EQ(scene_open(&e), 0);
	e.w->media_timeout_ms = 5000;
	t = scene_open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	t2 = scene_open_tp(&e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	/* t3 never gets a check: consent never given, never lost */
	t3 = scene_open_tp(&e, TP_SUB2, false, SUB2_UFRAG, SUB2_PWD);
	TEST_ASSERT(t && t2 && t3);
	TEST_EQ(scene_ice(&e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_EQ(scene_ice(&e, SUB, SUB_UFRAG, SUB_PWD, true), 0);
	/* t keeps getting checks, t2 goes silent after T0 */
	e.w->now = T0 + 4000;
	TEST_EQ(scene_ice(&e, PUB, PUB_UFRAG, PUB_PWD, false), 0);
	e.w->now = T0 + 5000;
	sfu__transports_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 0);
	e.w->now = T0 + 5001;
	sfu__transports_tick(e.w);
	TEST_EQ(e.w->c.ice_timeouts, 1);
	TEST_EQ(scene_poll_events(&e), 1);
	TEST_EQ(e.ev[0].type, SFU_EV_TIMEOUT);
	TEST_EQ(e.ev[0].transport, TP_SUB);
	/* once per transport */
	e.w->now = T0 + 8000;
	sfu__transports_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 0);
	/* t: last consent at T0 + 4000 */
	e.w->now = T0 + 9000;
	sfu__transports_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 0);
	e.w->now = T0 + 9001;
	sfu__transports_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 1);
	TEST_EQ(e.ev[0].type, SFU_EV_TIMEOUT);
	TEST_EQ(e.ev[0].transport, TP_PUB);
	TEST_EQ(e.w->c.ice_timeouts, 2);
	/* an ICE restart re-arms it */
	sfu__transport_ice_restart(e.w, TP_PUB, "restart1", "restartpassword012345678");
	e.w->now += 5001;
	sfu__transports_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 1);
	TEST_EQ(e.ev[0].transport, TP_PUB);
	/* t3, an hour later: still nothing */
	e.w->now += 3600 * 1000;
	sfu__transports_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 0);
	TEST_ASSERT(!t3->timeout_sent);
	scene_close(&e);
	return 0;
}

/* ---- forwarding ----------------------------------------------------------- */

int test_sfu_forward_video(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub, *sub2;
	struct sfu_sub_params sp;
	uint8_t b[PKT], b2[PKT], want[PKT];
	struct rtp_hdr h, h2;
	size_t n;
	uint16_t seq_off = 0, seq_off2 = 0;
	uint32_t ts_off = 0;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* a second subscriber of the video, AES-CM keyed */
	TEST_EQ(scene_open_sub2(&e, false, 0x30, false, &sub2), 0);
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB2;
	sp.track = TR_VIDEO;
	sp.ssrc = S2V_SSRC;
	sp.pt_in[0] = 100;
	sp.pt_out[0] = 100;
	sp.pt_in[1] = PT_VP8;
	sp.pt_out[1] = 98;
	sfu__subscribe(e.w, &sp);
	sfu__subscribe(e.w, &sp); /* twice: one out */
	TEST_EQ(count_outs(sub2), 1);
	TEST_EQ(count_track_outs(pub->tracks[0]), 2);

	/* 100 packets across the 16-bit sequence wrap, with header
	 * extensions, a CSRC, padding, markers and a lost packet */
	for (int i = 0; i < 100; i++) {
		uint16_t seq = (uint16_t)(65490 + i + (i >= 50 ? 1 : 0));
		uint32_t ts = 0xFFFFF000u + (uint32_t)(i / 3) * 3000u;
		struct scene_rtp r = scene_rtp_video(seq, ts, 20 + (size_t)(i * 11) % 1100);
		r.marker = i % 3 == 2;
		r.mid = i % 2 ? "v0" : NULL;
		r.csrc = i % 5 == 0 ? 0x1234 : 0;
		r.pad = i % 7 == 0 ? 4 : 0;
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		sfu__flush(e.w);
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SV_SSRC);
		TEST_EQ(h.pt, SUB_PT_VP8);
		TEST_EQ(h.marker, r.marker);
		TEST_ASSERT(!h.extension); /* video: nothing negotiated to forward */
		TEST_EQ(h.cc, 0);
		TEST_ASSERT(!h.padding);
		TEST_EQ(h.payload_len, r.plen);
		scene_payload_fill(want, r.plen, seq);
		TEST_MEMEQ(b + h.payload_off, want, r.plen);
		if (i == 0) {
			seq_off = (uint16_t)(h.seq - seq);
			ts_off = h.ts - ts;
		}
		TEST_EQ((uint16_t)(h.seq - seq), seq_off);
		TEST_EQ(h.ts - ts, ts_off);
		TEST_EQ(scene_recv_rtp(&e, SUB2, b2, &n, &h2), 0);
		TEST_EQ(h2.ssrc, S2V_SSRC);
		TEST_EQ(h2.pt, 98);
		TEST_EQ(h2.payload_len, r.plen);
		TEST_MEMEQ(b2 + h2.payload_off, want, r.plen);
		if (i == 0)
			seq_off2 = (uint16_t)(h2.seq - seq);
		TEST_EQ((uint16_t)(h2.seq - seq), seq_off2);
	}
	TEST_EQ(e.w->c.rtp_in, 100);
	TEST_EQ(e.w->c.rtp_forwarded, 200);
	TEST_EQ(e.w->c.srtp_errors, 0);
	TEST_EQ(e.w->c.unknown_ssrc, 0);
	/* receive statistics went across the wrap */
	TEST_ASSERT(pub->tracks[0]->st[0].have_seq);
	TEST_EQ(pub->tracks[0]->st[0].received, 100);
	TEST_EQ(pub->tracks[0]->st[0].cycles, 0x10000);
	TEST_EQ(pub->tracks[0]->st[0].max_seq, (uint16_t)(65490 + 100));
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	scene_close(&e);
	return 0;
}

int test_sfu_forward_audio_mid(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT], want[PKT];
	const uint8_t *val;
	size_t n, vlen;
	struct rtp_hdr h;
	bool voice;
	uint8_t level;
	struct sfu_track *ta;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	ta = pub->tracks[1];
	TEST_EQ(ta->ssrcs[0], 0);
	/* the video's pending key frame request (from subscribing) goes */
	sfu__keyframes_tick(e.w);
	TEST_EQ(e.w->c.pli_out, 1);
	sfu__flush(e.w);
	scene_drain(e.fd[PUB]);
	/* no MID yet: unknown */
	{
		struct scene_rtp r = { .pt = PT_OPUS, .seq = 1000, .ts = 5000,
				       .ssrc = A_SSRC, .level = 30, .plen = 40 };
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		TEST_EQ(e.w->c.unknown_ssrc, 1);
		/* a MID of no track: unknown too */
		r.seq++;
		r.mid = "zz";
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		TEST_EQ(e.w->c.unknown_ssrc, 2);
		sfu__flush(e.w);
		TEST_ASSERT(scene_quiet(e.fd[SUB]));
		TEST_EQ(ta->ssrcs[0], 0);
	}
	for (int i = 0; i < 20; i++) {
		struct scene_rtp r = { .pt = PT_OPUS, .seq = (uint16_t)(1002 + i),
				       .ts = 5000 + 960u * (uint32_t)i, .ssrc = A_SSRC,
				       .mid = i < 3 ? "a0" : NULL,
				       .level = i == 5 ? -1 : i, .voice = i % 2,
				       .plen = 60 + (size_t)i };
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		sfu__flush(e.w);
		TEST_EQ(ta->ssrcs[0], A_SSRC);
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SA_SSRC);
		TEST_EQ(h.pt, SUB_PT_OPUS);
		TEST_EQ(h.payload_len, r.plen);
		scene_payload_fill(want, r.plen, r.seq);
		TEST_MEMEQ(b + h.payload_off, want, r.plen);
		if (r.level < 0) {
			TEST_ASSERT(!h.extension);
			continue;
		}
		/* exactly one element: the subscriber's id, same level */
		TEST_ASSERT(h.extension);
		TEST_EQ(h.ext_profile, RTP_EXT_PROFILE_ONE_BYTE);
		TEST_EQ(h.ext_len, 4);
		TEST_EQ(rtp_ext_audio_level(b, &h, SUB_LEVEL_ID, &voice, &level), 0);
		TEST_EQ(voice, r.voice);
		TEST_EQ(level, r.level);
		TEST_ASSERT(rtp_ext_find(b, &h, EXT_LEVEL, &val, &vlen) != 0);
		TEST_ASSERT(rtp_ext_find(b, &h, EXT_MID, &val, &vlen) != 0);
	}
	TEST_EQ(e.w->c.rtp_forwarded, 20);
	/* audio never asks for key frames */
	e.w->now += 10000;
	sfu__keyframes_tick(e.w);
	TEST_EQ(e.w->c.pli_out, 1);
	scene_close(&e);
	return 0;
}

/* Subscriptions that come and go on a long-lived subscriber: every one
 * brings a new SSRC (the control plane draws them at random), and ending
 * one retires its SSRC from the subscriber's SRTP session, so far more
 * than SRTPS_MAX_SSRCS_OUT of them are forwarded over the connection;
 * both SRTP engines (the subscriber AES-CM on libsrtp2, the second one
 * AES-GCM). Without retiring, the session refused new SSRCs (-EMFILE)
 * after SRTPS_MAX_SSRCS_OUT and the media to it stopped for good. */
int test_sfu_resubscribe_churn(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub, *sub2;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;
	const uint32_t rounds = SRTPS_MAX_SSRCS_OUT + 200;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	TEST_EQ(scene_open_sub2(&e, true, 0x30, false, &sub2), 0);
	for (uint32_t i = 0; i < rounds; i++) {
		struct scene_rtp r = { .pt = PT_OPUS, .seq = (uint16_t)(100 + i),
				       .ts = 960u * i, .ssrc = A_SSRC,
				       .mid = i == 0 ? "a0" : NULL, .level = -1,
				       .plen = 40 };
		struct sfu_sub_params sp;

		memset(&sp, 0, sizeof(sp));
		sp.track = TR_AUDIO;
		sp.pt_in[0] = PT_OPUS;
		sp.pt_out[0] = SUB_PT_OPUS;
		sfu__unsubscribe(e.w, TP_SUB, TR_AUDIO);
		sfu__unsubscribe(e.w, TP_SUB2, TR_AUDIO);
		sp.transport = TP_SUB;
		sp.ssrc = 0x60000000u + i;
		sfu__subscribe(e.w, &sp);
		sp.transport = TP_SUB2;
		sp.ssrc = 0x70000000u + i;
		sfu__subscribe(e.w, &sp);
		if (i % 16 == 0) {
			TEST_EQ(scene_rekey_browser(&e, SUB, false, 0x20), 0);
			TEST_EQ(scene_rekey_browser(&e, SUB2, true, 0x30), 0);
		}
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		sfu__flush(e.w);
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, 0x60000000u + i);
		TEST_EQ(scene_recv_rtp(&e, SUB2, b, &n, &h), 0);
		TEST_EQ(h.ssrc, 0x70000000u + i);
	}
	TEST_EQ(e.w->c.srtp_errors, 0);
	TEST_EQ(e.w->c.rtp_forwarded, 2 * rounds);
	/* every one but the last, on both (SA_SSRC, the subscription the
	 * scene began with, never sent anything: nothing to retire) */
	TEST_EQ(e.w->c.ssrc_retired, 2 * (rounds - 1));
	TEST_EQ(e.w->c.ssrc_kept, 0);
	scene_close(&e);
	return 0;
}

int test_sfu_forward_drops(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;
	struct scene_rtp r;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* unknown payload type: parsed, counted as received, not forwarded */
	r = scene_rtp_video(100, 90000, 50);
	r.pt = 97;
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_in, 1);
	/* padding-only probe */
	r = scene_rtp_video(101, 90000, 0);
	r.pad = 200;
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_in, 2);
	TEST_EQ(pub->tracks[0]->st[0].received, 2);
	/* unknown SSRC without MID */
	r = scene_rtp_video(102, 90000, 50);
	r.ssrc = 0xDEAD;
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.unknown_ssrc, 1);
	/* a packet from an unknown address, validly protected */
	{
		uint8_t p[PKT];
		r = scene_rtp_video(103, 90000, 50);
		n = scene_build_rtp(p, &r);
		TEST_EQ(srtps_protect_rtp(e.b[PUB], p, &n, sizeof(p)), 0);
		scene_deliver(&e, STRANGER, p, n);
		TEST_EQ(e.w->c.unknown_source, 1);
		/* the same packet from the right address still gets through
		 * (the stranger's copy did not touch the replay window) */
		scene_deliver(&e, PUB, p, n);
		TEST_EQ(e.w->c.rtp_forwarded, 1);
		/* replayed: SRTP refuses it */
		scene_deliver(&e, PUB, p, n);
		TEST_EQ(e.w->c.srtp_errors, 1);
		/* tampered */
		r = scene_rtp_video(104, 90000, 50);
		n = scene_build_rtp(p, &r);
		TEST_EQ(srtps_protect_rtp(e.b[PUB], p, &n, sizeof(p)), 0);
		p[20] ^= 1;
		scene_deliver(&e, PUB, p, n);
		TEST_EQ(e.w->c.srtp_errors, 2);
		/* plain (unprotected) RTP is not authentic */
		r = scene_rtp_video(105, 90000, 50);
		n = scene_build_rtp(p, &r);
		scene_deliver(&e, PUB, p, n);
		TEST_EQ(e.w->c.srtp_errors, 3);
	}
	/* a subscriber sending media is ignored before SRTP */
	r = scene_rtp_video(7, 90000, 50);
	r.ssrc = SUB_OWN_SSRC;
	TEST_EQ(scene_send_rtp(&e, SUB, &r), 0);
	TEST_EQ(e.w->c.srtp_errors, 3);
	TEST_EQ(e.w->c.rtp_in, 4);
	/* other first bytes from a known address: ignored */
	{
		uint8_t p[32] = { 0x40, 0x60 };
		scene_deliver(&e, PUB, p, sizeof(p));      /* 64..127: nothing */
		p[0] = 0xC0;                          /* > 191 */
		scene_deliver(&e, PUB, p, sizeof(p));
		p[0] = 22;                            /* DTLS without fingerprint */
		scene_deliver(&e, PUB, p, sizeof(p));
		TEST_ASSERT(pub->dtls == NULL);
	}
	TEST_EQ(e.w->c.rtp_in, 4);
	sfu__flush(e.w);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0); /* the one forwarded */
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	TEST_ASSERT(scene_quiet(e.fd[STRANGER]));
	scene_close(&e);
	return 0;
}

/* Without keys or an address a subscriber gets nothing; no crash. */
int test_sfu_forward_unready(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct scene_rtp r;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	srtps_free(sub->srtp);
	sub->srtp = NULL;
	r = scene_rtp_video(1, 1, 10);
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	{
		struct scene_rtp a = { .pt = PT_OPUS, .seq = 1, .ts = 960, .ssrc = A_SSRC,
				       .mid = "a0", .level = 30, .plen = 40 };
		TEST_EQ(scene_send_rtp(&e, PUB, &a), 0);
	}
	TEST_EQ(e.w->c.rtp_forwarded, 0);
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	/* nothing started while it could receive nothing: its picture and
	 * its time as a new viewer begin when it can */
	for (const struct sfu_out *o = sub->outs; o; o = o->next_in_sub)
		TEST_ASSERT(!o->started && o->map.layer < 0);
	srtps_free(e.b[SUB]);
	e.b[SUB] = NULL;
	TEST_EQ(scene_key_tp(&e, sub, SUB, true, 9), 0);
	e.w->now += 5000;
	r = scene_rtp_video(2, 1, 10);
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_forwarded, 1);
	TEST_ASSERT(sub->outs->started || sub->outs->next_in_sub->started);
	for (const struct sfu_out *o = sub->outs; o; o = o->next_in_sub)
		if (o->started)
			TEST_EQ(o->started_ms, e.w->now);
	sfu__flush(e.w);
	{
		uint8_t b[PKT];
		size_t n;
		struct rtp_hdr h;
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SV_SSRC);
	}
	/* publisher without SRTP: its media is not even unprotected */
	srtps_free(pub->srtp);
	pub->srtp = NULL;
	r = scene_rtp_video(3, 1, 10);
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_in, 3); /* two videos and the audio before */
	scene_close(&e);
	return 0;
}

/* More datagrams than one send batch: the slot allocator flushes. */
int test_sfu_send_batch_overflow(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n, got = 0;
	struct rtp_hdr h;
	enum { COUNT = SFU_SEND_BATCH + 20 };

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	for (int i = 0; i < COUNT; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)i, 0, 30);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	TEST_EQ(e.w->c.sendmmsg_calls, 3); /* two ICE answers, one full batch */
	TEST_EQ(e.w->nsend, 20);
	sfu__flush(e.w);
	TEST_EQ(e.w->c.send_errors, 0);
	while (got < COUNT && scene_recv_rtp(&e, SUB, b, &n, &h) == 0)
		got++;
	TEST_EQ(got, COUNT);
	scene_close(&e);
	return 0;
}

/* ---- key frames ----------------------------------------------------------- */

/* Reads PLIs at the publisher; returns how many, all for V_SSRC. */
static int plis_at_pub(struct scene *e, int *count)
{
	uint32_t media[16];

	TEST_EQ(scene_plis_at_pub(e, media, 16, count), 0);
	for (int i = 0; i < *count; i++)
		TEST_EQ(media[i], V_SSRC);
	return 0;
}

/* Reads `count` PLIs for V_SSRC at the publisher, waiting up to a second
 * for each, and then nothing more. */
static int plis_at_pub_wait(struct scene *e, int count)
{
	uint8_t b[PKT];
	size_t n;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;

	for (int i = 0; i < count; i++) {
		TEST_EQ(scene_recv_rtcp(e, PUB, b, &n), 0);
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_ASSERT(rtcp_is_pli(&pkt));
		TEST_EQ(pkt.media_ssrc, V_SSRC);
	}
	TEST_ASSERT(scene_quiet(e->fd[PUB]));
	return 0;
}

int test_sfu_pli_throttle(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct sfu_track *tv;
	int count;
	uint64_t t1;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	tv = pub->tracks[0];
	/* subscribing to video left a request pending */
	TEST_ASSERT(tv->st[0].pli_pending);
	/* an established viewer (a new one's requests pass the 1 s
	 * throttle: sfu_pli_new_viewer) */
	for (struct sfu_out *o = sub->outs; o; o = o->next_in_sub)
		if (o->track == tv) {
			o->started = true;
			o->started_ms = T0 - SFU_NEW_VIEWER_MS;
		}
	e.w->now = T0 + 100;
	t1 = e.w->now;
	TEST_EQ(scene_send_pli(&e, SUB, SV_SSRC), 0);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	TEST_EQ(e.w->c.pli_in, 1);
	TEST_EQ(e.w->c.pli_out, 1);
	TEST_ASSERT(!tv->st[0].pli_pending);
	/* ten more inside the interval: none now, one coalesced later */
	for (int i = 0; i < 10; i++) {
		e.w->now += 50;
		TEST_EQ(scene_send_pli(&e, SUB, SV_SSRC), 0);
		sfu__keyframes_tick(e.w);
	}
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 0);
	TEST_EQ(e.w->c.pli_in, 11);
	TEST_EQ(e.w->c.pli_out, 1);
	TEST_ASSERT(tv->st[0].pli_pending);
	e.w->now = t1 + SFU_PLI_INTERVAL_MS - 1;
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 0);
	e.w->now = t1 + SFU_PLI_INTERVAL_MS;
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	TEST_EQ(e.w->c.pli_out, 2);
	TEST_ASSERT(!tv->st[0].pli_pending);
	/* nothing pending: later ticks send nothing */
	e.w->now += 5000;
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 0);
	/* the control plane's request goes through the same throttle */
	sfu__request_keyframe(e.w, TR_VIDEO, false);
	sfu__request_keyframe(e.w, TR_VIDEO, false);
	sfu__request_keyframe(e.w, 999, false);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	TEST_ASSERT(tv->st[0].pli_pending);
	TEST_EQ(e.w->c.pli_out, 3);
	/* ... unless it is urgent (a subscriber just connected): then it
	 * goes now and restarts the interval — but never closer than
	 * SFU_PLI_MIN_MS to the previous one (many subscribers connecting
	 * at once make one request) */
	e.w->now += SFU_PLI_MIN_MS / 2;
	sfu__request_keyframe(e.w, TR_VIDEO, true);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 0);
	e.w->now += SFU_PLI_MIN_MS;
	sfu__request_keyframe(e.w, TR_VIDEO, true);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	TEST_ASSERT(!tv->st[0].pli_pending);
	TEST_EQ(tv->st[0].last_pli_ms, e.w->now);
	sfu__keyframes_tick(e.w);
	/* urgent for audio, or an unknown track: nothing */
	sfu__request_keyframe(e.w, TR_AUDIO, true);
	sfu__request_keyframe(e.w, 999, true);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 0);
	TEST_EQ(e.w->c.pli_out, 4);
	scene_close(&e);
	return 0;
}

int test_sfu_pli_fir_and_strays(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n, m;
	int count;
	struct rtcp_fir fir[2] = { { SA_SSRC, 1 }, { SV_SSRC, 2 } };

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* PLI for the audio stream and for an SSRC not sent: counted, no PLI */
	TEST_EQ(scene_send_pli(&e, SUB, SA_SSRC), 0);
	TEST_EQ(scene_send_pli(&e, SUB, 0x77777777u), 0);
	TEST_EQ(e.w->c.pli_in, 2);
	TEST_EQ(e.w->c.pli_out, 0);
	/* a compound RR + FIR naming audio and video: one PLI for the video */
	{
		struct rtcp_rb rb = { .ssrc = SV_SSRC };
		TEST_EQ(rtcp_rr_write(b, sizeof(b), SUB_OWN_SSRC, &rb, 1, &n), 0);
		TEST_EQ(rtcp_fir_write(b + n, sizeof(b) - n, SUB_OWN_SSRC, fir, 2, &m), 0);
		TEST_EQ(scene_send_rtcp(&e, SUB, b, n + m), 0);
	}
	TEST_EQ(e.w->c.rtcp_in, 4);
	TEST_EQ(e.w->c.pli_in, 3);
	TEST_EQ(e.w->c.pli_out, 1);
	/* a NACK is consumed quietly */
	{
		uint16_t seqs[3] = { 5, 6, 9 };
		TEST_EQ(rtcp_nack_write(b, sizeof(b), SUB_OWN_SSRC, SV_SSRC, seqs, 3, &n), 0);
		TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
	}
	TEST_EQ(e.w->c.rtcp_in, 5);
	/* a PLI from the publisher for its own stream is not relayed */
	TEST_EQ(rtcp_pli_write(b, sizeof(b), V_SSRC, V_SSRC, &n), 0);
	TEST_EQ(scene_send_rtcp(&e, PUB, b, n), 0);
	TEST_EQ(e.w->c.rtcp_in, 6);
	TEST_EQ(e.w->c.pli_in, 3);
	/* a malformed compound stops the walk, nothing breaks */
	TEST_EQ(rtcp_pli_write(b, sizeof(b), SUB_OWN_SSRC, SV_SSRC, &n), 0);
	b[3] = 9; /* length beyond the packet */
	TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
	TEST_EQ(e.w->c.rtcp_in, 6);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	scene_close(&e);
	return 0;
}

/* A track whose SSRC is learned via MID asks for a key frame as soon as
 * it is known (it had a subscriber waiting), on the next tick. */
int test_sfu_pli_learned_ssrc(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct sfu_track_params tp;
	struct sfu_sub_params sp;
	struct sfu_track *tr;
	uint8_t b[PKT];
	size_t n;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct scene_rtp r;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_PUB;
	tp.track = 12;
	tp.kind = SFU_VIDEO;
	snprintf(tp.mid, sizeof(tp.mid), "screen");
	tp.ext_id[SFU_EXT_MID] = EXT_MID;
	sfu__track_add(e.w, &tp);
	tr = pub->tracks[2];
	TEST_ASSERT(tr && tr->id == 12);
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB;
	sp.track = 12;
	sp.ssrc = 0x5B000003u;
	sp.pt_in[0] = PT_VP8;
	sp.pt_out[0] = SUB_PT_VP8;
	sfu__subscribe(e.w, &sp);
	TEST_ASSERT(tr->st[0].pli_pending);
	/* the first tick has no SSRC to ask for */
	sfu__keyframes_tick(e.w);
	TEST_EQ(e.w->c.pli_out, 1); /* the camera's pending one */
	TEST_ASSERT(tr->st[0].pli_pending);
	r = scene_rtp_video(1, 1, 10);
	r.ssrc = 0xABCDEF01u;
	r.mid = "screen";
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(tr->ssrcs[0], 0xABCDEF01u);
	e.w->now += 10;
	sfu__keyframes_tick(e.w);
	TEST_EQ(e.w->c.pli_out, 2);
	sfu__flush(e.w);
	for (int i = 0; i < 2; i++) {
		TEST_EQ(scene_recv_rtcp(&e, PUB, b, &n), 0);
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_ASSERT(rtcp_is_pli(&pkt));
		TEST_EQ(pkt.media_ssrc, i == 0 ? V_SSRC : 0xABCDEF01u);
	}
	/* a second SSRC with the same MID is a second layer: not forwarded */
	r = scene_rtp_video(1, 1, 10);
	r.ssrc = 0xABCDEF02u;
	r.mid = "screen";
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(tr->ssrcs[1], 0xABCDEF02u);
	TEST_EQ(e.w->c.rtp_forwarded, 1);
	scene_close(&e);
	return 0;
}

/* A viewer in its first SFU_NEW_VIEWER_MS asks with SFU_PLI_MIN_MS
 * between requests, not SFU_PLI_INTERVAL_MS: its first key frames may
 * have come under a key it did not hold yet. */
int test_sfu_pli_new_viewer(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	int count, total = 0;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	e.w->now = T0 + 100;
	for (int i = 0; i < 10; i++) {
		TEST_EQ(scene_send_pli(&e, SUB, SV_SSRC), 0);
		sfu__keyframes_tick(e.w);
		sfu__flush(e.w);
		TEST_EQ(plis_at_pub(&e, &count), 0);
		total += count;
		e.w->now += SFU_PLI_MIN_MS / 2;
	}
	/* 10 requests over 500 ms: one every SFU_PLI_MIN_MS */
	TEST_ASSERT(total >= 4 && total <= 6);
	scene_close(&e);
	return 0;
}

/* A video the subscriber does not get (paused from the start, so it never
 * starts) is no reason for key frames: its requests are not passed on at
 * all, where they used to keep the new viewer's short gap for ever (a PLI
 * every SFU_PLI_MIN_MS, ten key frames a second). Once it is shown again
 * and waits for its first picture, its requests pass the throttle again. */
int test_sfu_pli_paused(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	int count, total = 0;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	sfu__set_view(e.w, TP_SUB, TR_VIDEO, SFU_LAYER_PAUSED);
	e.w->now = T0 + 100;
	for (int i = 0; i < 20; i++) {
		TEST_EQ(scene_send_pli(&e, SUB, SV_SSRC), 0);
		/* a FIR too */
		{
			uint8_t b[PKT];
			size_t n;
			struct rtcp_fir f = { SV_SSRC, (uint8_t)i };
			TEST_EQ(rtcp_fir_write(b, sizeof(b), SUB_OWN_SSRC, &f, 1, &n), 0);
			TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
		}
		sfu__keyframes_tick(e.w);
		sfu__flush(e.w);
		TEST_EQ(plis_at_pub(&e, &count), 0);
		total += count;
		e.w->now += 150;
	}
	TEST_EQ(e.w->c.pli_in, 40);
	/* at most the one subscribing left pending */
	TEST_ASSERT(total <= 1);
	/* shown again: it waits for its first key frame, and may ask */
	sfu__set_view(e.w, TP_SUB, TR_VIDEO, 0);
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	total = 0;
	for (int i = 0; i < 5; i++) {
		e.w->now += 150;
		TEST_EQ(scene_send_pli(&e, SUB, SV_SSRC), 0);
		sfu__flush(e.w);
		TEST_EQ(plis_at_pub(&e, &count), 0);
		total += count;
	}
	TEST_EQ(total, 5);
	scene_close(&e);
	return 0;
}

/* ---- loss recovery -------------------------------------------------------- */

static int send_nack(struct scene *e, int who, uint32_t media, const uint16_t *seqs,
		     size_t n)
{
	uint8_t b[PKT];
	size_t len;

	TEST_EQ(rtcp_nack_write(b, sizeof(b), SUB_OWN_SSRC, media, seqs, n, &len), 0);
	return scene_send_rtcp(e, who, b, len);
}

/* A subscriber's NACK is answered from the cache, in its RTX stream. */
int test_sfu_nack_retransmit(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT], want[PKT];
	size_t n;
	struct rtp_hdr h;
	uint16_t out_seq[10], nack[2], rtx_seq = 0;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	for (int i = 0; i < 10; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(100 + i), 9000u, 40 + (size_t)i);
		r.marker = i == 9;
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 10; i++) {
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		out_seq[i] = h.seq;
	}
	nack[0] = out_seq[3];
	nack[1] = out_seq[5];
	TEST_EQ(send_nack(&e, SUB, SV_SSRC, nack, 2), 0);
	sfu__flush(e.w);
	TEST_EQ(e.w->c.nack_in, 2);
	TEST_EQ(e.w->c.retransmits, 2);
	TEST_EQ(e.w->c.srtp_errors, 0);
	for (int k = 0; k < 2; k++) {
		int i = k ? 5 : 3;
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SV_RTX_SSRC);
		TEST_EQ(h.pt, SUB_PT_RTX);
		if (k)
			TEST_EQ(h.seq, (uint16_t)(rtx_seq + 1));
		rtx_seq = h.seq;
		/* RFC 4588 §4: the original sequence number, then the payload */
		TEST_EQ(h.payload_len, 2 + 40 + (size_t)i);
		TEST_EQ(get_u16(b + h.payload_off), out_seq[i]);
		scene_payload_fill(want, 40 + (size_t)i, (uint16_t)(100 + i));
		TEST_MEMEQ(b + h.payload_off + 2, want, 40 + (size_t)i);
	}
	/* asked again at once: the retransmission is on its way, not sent
	 * twice; nor for a NACK that names one packet fifty times */
	TEST_EQ(send_nack(&e, SUB, SV_SSRC, nack, 1), 0);
	{
		uint8_t r[PKT];
		size_t len = RTCP_FB_HDR_LEN + 50 * RTCP_NACK_FCI_LEN;

		r[0] = 0x80 | RTCP_FMT_NACK;
		r[1] = RTCP_RTPFB;
		put_u16(r + 2, (uint16_t)(len / 4 - 1));
		put_u32(r + 4, SUB_OWN_SSRC);
		put_u32(r + 8, SV_SSRC);
		for (int i = 0; i < 50; i++) {
			put_u16(r + RTCP_FB_HDR_LEN + 4 * i, out_seq[7]);
			put_u16(r + RTCP_FB_HDR_LEN + 4 * i + 2, 0);
		}
		TEST_EQ(scene_send_rtcp(&e, SUB, r, len), 0);
	}
	sfu__flush(e.w);
	TEST_EQ(e.w->c.retransmits, 3);
	TEST_EQ(e.w->c.rtx_dup, 50);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_RTX_SSRC);
	TEST_EQ(get_u16(b + h.payload_off), out_seq[7]);
	rtx_seq = h.seq;
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	/* asked again later: again, under a new RTX sequence number */
	e.w->now += SFU_RTX_DEDUP_MS;
	TEST_EQ(send_nack(&e, SUB, SV_SSRC, nack, 1), 0);
	sfu__flush(e.w);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_RTX_SSRC);
	TEST_EQ(h.seq, (uint16_t)(rtx_seq + 1));
	TEST_EQ(e.w->c.retransmits, 4);
	/* never sent, or the audio stream (no cache): misses */
	nack[0] = (uint16_t)(out_seq[9] + 1000);
	TEST_EQ(send_nack(&e, SUB, SV_SSRC, nack, 1), 0);
	nack[0] = 1;
	TEST_EQ(send_nack(&e, SUB, SA_SSRC, nack, 1), 0);
	TEST_EQ(e.w->c.cache_misses, 2);
	/* an SSRC the subscriber does not receive: ignored */
	TEST_EQ(send_nack(&e, SUB, 0x12345678u, nack, 1), 0);
	TEST_EQ(e.w->c.nack_in, 2 + 1 + 50 + 1 + 2);
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	TEST_EQ(e.w->c.srtp_errors, 0);
	scene_close(&e);
	return 0;
}

/* Reads one NACK at the publisher into seqs; returns their number. */
static int nack_at_pub(struct scene *e, uint16_t *seqs, size_t cap, size_t *n)
{
	uint8_t b[PKT];
	size_t len;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;

	TEST_EQ(scene_recv_rtcp(e, PUB, b, &len), 0);
	rtcp_iter_init(&it, b, len);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_RTPFB);
	TEST_EQ(pkt.fmt, RTCP_FMT_NACK);
	TEST_EQ(pkt.sender_ssrc, SFU_SSRC_SFU);
	TEST_EQ(pkt.media_ssrc, V_SSRC);
	TEST_EQ(rtcp_nack_expand(&pkt, seqs, cap, n), 0);
	return 0;
}

/* Loss on the publisher's leg: the worker asks with NACKs, takes the RTX
 * answer as the original, gives up with a key frame request. */
/* media_cache_mib: a video track past the worker's cache budget is
 * forwarded without a cache (counted); removing a track gives its bytes
 * back, so the next one gets a cache again. */
static void add_video(struct scene *e, uint32_t track, uint32_t ssrc)
{
	struct sfu_track_params tp;

	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_PUB;
	tp.track = track;
	tp.kind = SFU_VIDEO;
	snprintf(tp.mid, sizeof(tp.mid), "v%u", (unsigned)track);
	tp.ssrcs[0] = ssrc;
	tp.pt = PT_VP8;
	sfu__track_add(e->w, &tp);
}

static struct sfu_track *pub_track(struct sfu_transport *pub, uint32_t id)
{
	for (size_t i = 0; i < SFU_MAX_TRACKS; i++)
		if (pub->tracks[i] && pub->tracks[i]->id == id)
			return pub->tracks[i];
	return NULL;
}

/* The retransmission budget is the subscriber's, for all its streams: with
 * three videos it gets SFU_RTX_BURST at once, not three times that. */
int test_sfu_rtx_budget(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	static const uint32_t in[3] = { V_SSRC, 0xAAAA0100u, 0xAAAA0101u };
	static const uint32_t out[3] = { SV_SSRC, 0x5B000100u, 0x5B000101u };
	static uint16_t seqs[3][120];
	size_t got[3] = { 0 };
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	for (int k = 1; k < 3; k++) {
		struct sfu_sub_params sp;

		add_video(&e, 20u + (uint32_t)k, in[k]);
		memset(&sp, 0, sizeof(sp));
		sp.transport = TP_SUB;
		sp.track = 20u + (uint32_t)k;
		sp.ssrc = out[k];
		sp.rtx_ssrc = out[k] + 0x1000u;
		sp.rtx_pt = SUB_PT_RTX;
		sp.pt_in[0] = PT_VP8;
		sp.pt_out[0] = SUB_PT_VP8;
		sfu__subscribe(e.w, &sp);
	}
	for (int i = 0; i < 120; i++)
		for (int k = 0; k < 3; k++) {
			struct scene_rtp r = scene_rtp_video((uint16_t)(500 + i), 0, 40);
			r.ssrc = in[k];
			TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		}
	sfu__flush(e.w);
	for (int i = 0; i < 360; i++) {
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		for (int k = 0; k < 3; k++)
			if (h.ssrc == out[k] && got[k] < 120)
				seqs[k][got[k]++] = h.seq;
	}
	TEST_EQ(got[0] + got[1] + got[2], 360);
	for (int k = 0; k < 3; k++)
		TEST_EQ(send_nack(&e, SUB, out[k], seqs[k], 120), 0);
	TEST_EQ(e.w->c.nack_in, 360);
	TEST_EQ(e.w->c.retransmits, SFU_RTX_BURST);
	TEST_EQ(e.w->c.rtx_refused, 360 - SFU_RTX_BURST);
	sfu__flush(e.w);
	scene_drain(e.fd[SUB]);
	/* and refills at SFU_RTX_RATE */
	e.w->now += 100;
	TEST_EQ(send_nack(&e, SUB, out[2], seqs[2], 120), 0);
	TEST_EQ(e.w->c.retransmits, SFU_RTX_BURST + SFU_RTX_RATE / 10);
	scene_close(&e);
	return 0;
}

int test_sfu_cache_budget(void)
{
	const size_t layer = SFU_CACHE * sizeof(struct sfu_cached);
	struct sfu_transport *pub, *sub;
	struct scene e;

	TEST_EQ(scene_transports(&e, &pub, &sub), 0);
	TEST_EQ(e.w->cache_budget, (size_t)e.conf.media_cache_mib << 20);
	e.w->cache_budget = layer;     /* one layer's worth */
	add_video(&e, 20, 0x20202020u);
	add_video(&e, 21, 0x21212121u);
	TEST_ASSERT(pub_track(pub, 20) && pub_track(pub, 20)->st[0].cache);
	TEST_ASSERT(pub_track(pub, 21) && !pub_track(pub, 21)->st[0].cache);
	TEST_EQ(e.w->cache_bytes, layer);
	TEST_EQ(e.w->c.cache_refused, 1);
	sfu__alloc_tick(e.w);
	TEST_EQ(e.w->g.cache_bytes, layer);
	sfu__track_remove(e.w, TP_PUB, 20);
	TEST_EQ(e.w->cache_bytes, 0);
	add_video(&e, 22, 0x22222222u);
	TEST_ASSERT(pub_track(pub, 22) && pub_track(pub, 22)->st[0].cache);
	TEST_EQ(e.w->cache_bytes, layer);
	TEST_EQ(e.w->c.cache_refused, 1);
	sfu__track_remove(e.w, TP_PUB, 21);
	sfu__track_remove(e.w, TP_PUB, 22);
	TEST_EQ(e.w->cache_bytes, 0);
	/* simulcast: the top layer keeps SFU_CACHE packets, the ones below
	 * half as many each (their rates are a third or less) */
	e.w->cache_budget = (size_t)e.conf.media_cache_mib << 20;
	{
		struct sfu_track_params tp;
		struct sfu_track *tr;

		memset(&tp, 0, sizeof(tp));
		tp.transport = TP_PUB;
		tp.track = 23;
		tp.kind = SFU_VIDEO;
		snprintf(tp.mid, sizeof(tp.mid), "v23");
		tp.pt = PT_VP8;
		tp.nlayers = 3;
		snprintf(tp.rids[0], sizeof(tp.rids[0]), "q");
		snprintf(tp.rids[1], sizeof(tp.rids[1]), "h");
		snprintf(tp.rids[2], sizeof(tp.rids[2]), "f");
		sfu__track_add(e.w, &tp);
		tr = pub_track(pub, 23);
		TEST_ASSERT(tr && tr->nlayers == 3);
		TEST_EQ(tr->st[0].cache_slots, SFU_CACHE / 4);
		TEST_EQ(tr->st[1].cache_slots, SFU_CACHE / 2);
		TEST_EQ(tr->st[2].cache_slots, SFU_CACHE);
		TEST_EQ(e.w->cache_bytes, (SFU_CACHE / 4 + SFU_CACHE / 2 + SFU_CACHE) *
						  sizeof(struct sfu_cached));
		sfu__track_remove(e.w, TP_PUB, 23);
		TEST_EQ(e.w->cache_bytes, 0);
	}
	scene_close(&e);
	return 0;
}

int test_sfu_nack_publisher_loss(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT], p[PKT], x[PKT];
	size_t n, pn, xn;
	struct rtp_hdr h, ph;
	uint16_t seqs[64], first_out = 0;
	int count;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* the pending key frame request of the subscription goes first (read
	 * with a wait: on a busy machine loopback may hand it over late, and
	 * it must not be taken for the NACK below) */
	TEST_ASSERT(!sfu__keyframes_tick(e.w)); /* sent: nothing waits */
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub_wait(&e, 1), 0);
	e.w->tick_soon = false; /* as sfu__tick leaves it */
	for (int i = 0; i < 10; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(200 + i), 0, 30);
		if (i == 5 || i == 6)
			continue;
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		/* the loss arms the short tick */
		TEST_EQ(e.w->tick_soon, i >= 7);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 8; i++) {
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		if (i == 0)
			first_out = h.seq;
	}
	e.w->now += 100;
	TEST_ASSERT(sfu__nack_tick(e.w));
	sfu__flush(e.w);
	TEST_EQ(nack_at_pub(&e, seqs, 64, &n), 0);
	TEST_EQ(n, 2);
	TEST_EQ(seqs[0], 205);
	TEST_EQ(seqs[1], 206);
	TEST_EQ(e.w->c.nack_out, 2);
	/* not again before the retry interval (but still waited for) */
	TEST_ASSERT(sfu__nack_tick(e.w));
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	/* 205 comes back in the publisher's RTX stream */
	{
		struct scene_rtp r = scene_rtp_video(205, 0, 30);
		pn = scene_build_rtp(p, &r);
		TEST_EQ(rtp_parse(p, pn, &ph), 0);
		TEST_EQ(rtp_rtx_wrap(p, pn, &ph, x, sizeof(x), PT_RTX, V_RTX_SSRC, 7000,
				     &xn), 0);
		TEST_EQ(srtps_protect_rtp(e.b[PUB], x, &xn, sizeof(x)), 0);
		scene_deliver(&e, PUB, x, xn);
	}
	TEST_EQ(e.w->c.rtx_in, 1);
	sfu__flush(e.w);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);      /* forwarded as the original */
	TEST_EQ(h.pt, SUB_PT_VP8);
	TEST_EQ(h.seq, (uint16_t)(first_out + 5));
	TEST_EQ(h.payload_len, 30);
	scene_payload_fill(x, 30, 205);
	TEST_MEMEQ(b + h.payload_off, x, 30);
	/* a padding-only RTX probe (no OSN) is dropped quietly */
	{
		struct scene_rtp r = { .pt = PT_RTX, .seq = 7001, .ssrc = V_RTX_SSRC,
				       .level = -1, .pad = 100 };
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		TEST_EQ(e.w->c.rtx_in, 1);
	}
	/* 206 only is asked for again, up to SFU_NACK_TRIES times */
	for (int k = 1; k < SFU_NACK_TRIES; k++) {
		e.w->now += SFU_NACK_RETRY_MS;
		TEST_ASSERT(sfu__nack_tick(e.w));
		sfu__flush(e.w);
		TEST_EQ(nack_at_pub(&e, seqs, 64, &n), 0);
		TEST_EQ(n, 1);
		TEST_EQ(seqs[0], 206);
	}
	/* then a key frame instead, SFU_PLI_REPAIR_MS after the last request
	 * rather than the 1 s of the throttle (the subscription's request
	 * went out at T0, and 206 is given up on 280 ms later) */
	e.w->now += SFU_NACK_RETRY_MS;
	e.w->tick_soon = false;
	TEST_ASSERT(e.w->now < T0 + SFU_PLI_REPAIR_MS);
	TEST_ASSERT(!sfu__nack_tick(e.w)); /* nothing missing any more */
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	TEST_ASSERT(pub->tracks[0]->st[0].pli_pending);
	TEST_ASSERT(e.w->tick_soon);       /* the held-back request */
	TEST_ASSERT(sfu__keyframes_tick(e.w));
	e.w->now = T0 + SFU_PLI_REPAIR_MS - 1;
	TEST_ASSERT(sfu__keyframes_tick(e.w));
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	e.w->now = T0 + SFU_PLI_REPAIR_MS;
	sfu__nack_tick(e.w);
	TEST_ASSERT(!sfu__keyframes_tick(e.w));
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	e.w->now += 1000;
	sfu__nack_tick(e.w);
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	/* a jump beyond the NACK window asks for a key frame at once */
	{
		struct scene_rtp r = scene_rtp_video(210 + SFU_NACK_WINDOW, 0, 30);
		uint64_t before = e.w->c.pli_out;
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		TEST_EQ(e.w->c.pli_out, before + 1);
		e.w->now += 100;
		sfu__nack_tick(e.w);
		sfu__flush(e.w);
		TEST_EQ(plis_at_pub(&e, &count), 0);
		TEST_EQ(count, 1);
	}
	scene_close(&e);
	return 0;
}

/* The worker's pace: the slow tick while nothing short waits, the short
 * one while a lost packet is asked for, the slow one again once it came. */
int test_sfu_tick_pace(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* the subscription's key frame request goes out in the first tick */
	TEST_EQ(sfu__tick(e.w, 0), SFU_TICK_MS);
	TEST_ASSERT(!pub->tracks[0]->st[0].pli_pending);
	TEST_EQ(sfu__tick(e.w, 0), SFU_IDLE_TICK_MS);
	/* and never beyond the next periodic work */
	e.w->now += SFU_IDLE_TICK_MS - 20;
	TEST_EQ(sfu__tick(e.w, 0), 20);
	e.w->now += 20;
	TEST_EQ(sfu__tick(e.w, 0), SFU_IDLE_TICK_MS);
	for (int i = 0; i < 4; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(300 + i), 0, 30);
		if (i != 2)
			TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	TEST_ASSERT(e.w->tick_soon);
	e.w->now += 10;
	TEST_EQ(sfu__tick(e.w, 0), SFU_TICK_MS); /* asked for 302 */
	TEST_EQ(e.w->c.nack_out, 1);
	e.w->now += 10;
	TEST_EQ(sfu__tick(e.w, 0), SFU_TICK_MS); /* waits to ask again */
	{
		struct scene_rtp r = scene_rtp_video(302, 0, 30);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0); /* late, not lost */
	}
	e.w->now += SFU_NACK_RETRY_MS;
	e.w->tick_soon = false;
	TEST_ASSERT(!sfu__nack_tick(e.w));
	TEST_EQ(e.w->c.nack_out, 1);
	/* the slow pace again; the periodic work, due 30 ms ago, keeps its
	 * phase */
	TEST_EQ(sfu__tick(e.w, 0), SFU_IDLE_TICK_MS - 30);
	scene_close(&e);
	return 0;
}

/* An idle tick run early (in a wake-up for datagrams) does the periodic
 * work due by then, and the next one comes a period after it was due, so
 * early and late runs keep the rate. */
int test_sfu_tick_ahead(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint64_t due;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	TEST_EQ(sfu__tick(e.w, 0), SFU_TICK_MS);
	TEST_EQ(sfu__tick(e.w, 0), SFU_IDLE_TICK_MS);
	due = e.w->next_twcc_ms;
	TEST_EQ(e.w->next_alloc_ms, due);
	e.w->now = due - 20;
	/* not early enough: nothing is done, 20 ms still to go */
	TEST_EQ(sfu__tick(e.w, 10), 20);
	TEST_EQ(e.w->next_twcc_ms, due);
	TEST_EQ(e.w->next_alloc_ms, due);
	/* early enough: done now, the next a period after `due` */
	TEST_EQ(sfu__tick(e.w, 20), 20 + SFU_IDLE_TICK_MS);
	TEST_EQ(e.w->next_twcc_ms, due + SFU_TWCC_MS);
	TEST_EQ(e.w->next_alloc_ms, due + SFU_ALLOC_TICK_MS);
	/* late by 30 ms: the phase is kept */
	e.w->now = due + SFU_TWCC_MS + 30;
	TEST_EQ(sfu__tick(e.w, 0), SFU_TWCC_MS - 30);
	TEST_EQ(e.w->next_twcc_ms, due + 2 * SFU_TWCC_MS);
	/* late by more than a period: a period from now, not at once again */
	e.w->now = due + 6 * SFU_TWCC_MS;
	sfu__tick(e.w, 0);
	TEST_EQ(e.w->next_twcc_ms, e.w->now + SFU_TWCC_MS);
	scene_close(&e);
	return 0;
}

/* A frame cut larger first ([n+1, n+1, n, n, n]) reaches a subscriber in
 * datagrams of one size but the last (one UDP GSO message): the middle
 * packets carry a byte of RTP padding, the payloads are untouched; a
 * frame split over two send batches, or a worker without GSO, is not
 * padded. */
static int send_frame(struct scene *e, uint16_t seq, uint32_t ts,
		      const size_t *plen, int n, int flush_after)
{
	for (int i = 0; i < n; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(seq + i), ts, plen[i]);
		r.marker = i == n - 1;
		TEST_EQ(scene_send_rtp(e, PUB, &r), 0);
		if (i == flush_after)
			sfu__flush(e->w);
	}
	sfu__flush(e->w);
	return 0;
}

static int recv_frame(struct scene *e, uint16_t seq, const size_t *plen,
		      int n, size_t *wire, bool *padded)
{
	uint8_t b[PKT], want[PKT];
	struct rtp_hdr h;
	size_t len;

	for (int i = 0; i < n; i++) {
		TEST_EQ(scene_recv_rtp(e, SUB, b, &len, &h), 0);
		TEST_EQ(h.payload_len, plen[i]);
		scene_payload_fill(want, plen[i], (uint16_t)(seq + i));
		TEST_MEMEQ(b + h.payload_off, want, plen[i]);
		TEST_EQ(h.marker, i == n - 1);
		wire[i] = len;
		padded[i] = h.padding;
	}
	TEST_ASSERT(scene_quiet(e->fd[SUB]));
	return 0;
}

int test_sfu_gso_pad(void)
{
	static const size_t plen[] = { 1001, 1001, 1000, 1000, 1000 };
	struct scene e;
	struct sfu_transport *pub, *sub;
	size_t wire[5];
	bool padded[5];
	uint64_t pads, msgs;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub_wait(&e, 1), 0);
	TEST_EQ(sub->audio_flush, 0);

	pads = e.w->c.gso_pad_bytes;
	msgs = e.w->c.send_messages;
	TEST_EQ(send_frame(&e, 500, 9000, plen, 5, -1), 0);
	TEST_EQ(recv_frame(&e, 500, plen, 5, wire, padded), 0);
	for (int i = 1; i < 4; i++)
		TEST_EQ(wire[i], wire[0]);
	TEST_EQ(wire[4], wire[0] - 1);
	TEST_ASSERT(!padded[0] && !padded[1] && padded[2] && padded[3] && !padded[4]);
	TEST_EQ(e.w->c.gso_pad_bytes, pads + 2);
	if (!e.w->gso_off)
		TEST_EQ(e.w->c.send_messages, msgs + 1);

	/* an audio packet to the subscriber waits in the batch: the frame's
	 * last packet is padded too, and the audio ends the frame's run
	 * (gso_tuck): one message for both, the audio after the video */
	msgs = e.w->c.send_messages;
	{
		struct scene_rtp a = { .pt = PT_OPUS, .seq = 1, .ts = 960,
				       .ssrc = A_SSRC, .mid = "a0", .level = 30,
				       .plen = 40 };
		uint8_t b[PKT];
		struct rtp_hdr h;
		size_t len;

		TEST_EQ(scene_send_rtp(&e, PUB, &a), 0);
		TEST_EQ(sub->audio_flush, e.w->flushes + 1);
		TEST_EQ(send_frame(&e, 505, 10500, plen, 5, -1), 0);
		if (e.w->gso_off) {  /* no GSO here: in order, nothing padded */
			TEST_EQ(scene_recv_rtp(&e, SUB, b, &len, &h), 0);
			TEST_EQ(h.ssrc, SA_SSRC);
		}
		for (int i = 0; i < 5; i++) {
			TEST_EQ(scene_recv_rtp(&e, SUB, b, &len, &h), 0);
			TEST_EQ(h.ssrc, SV_SSRC);
			TEST_EQ(h.payload_len, plen[i]);
			TEST_EQ(h.padding, !e.w->gso_off && i >= 2);
			wire[i] = len;
		}
		if (!e.w->gso_off) {
			TEST_EQ(wire[4], wire[0]);
			TEST_EQ(scene_recv_rtp(&e, SUB, b, &len, &h), 0);
			TEST_EQ(h.ssrc, SA_SSRC);
			TEST_EQ(h.payload_len, 40);
			TEST_EQ(e.w->c.gso_pad_bytes, pads + 5);
			TEST_EQ(e.w->c.send_messages, msgs + 1);
			TEST_EQ(e.w->c.gso_tucked, 1);
		}
		TEST_ASSERT(scene_quiet(e.fd[SUB]));
	}

	/* split over two batches: nothing to gain, nothing padded */
	TEST_EQ(send_frame(&e, 510, 12000, plen, 5, 1), 0);
	TEST_EQ(recv_frame(&e, 510, plen, 5, wire, padded), 0);
	TEST_EQ(wire[3], wire[2]);
	TEST_EQ(wire[2], wire[0] - 1);
	TEST_ASSERT(!padded[2]);
	TEST_ASSERT(!padded[3]); /* the one before it was not bigger */
	TEST_ASSERT(!padded[4]); /* the audio was in an earlier batch */
	TEST_EQ(e.w->c.gso_pad_bytes, pads + 5);

	/* without GSO, padding would only cost bytes */
	e.w->gso_off = true;
	TEST_EQ(send_frame(&e, 515, 15000, plen, 5, -1), 0);
	TEST_EQ(recv_frame(&e, 515, plen, 5, wire, padded), 0);
	for (int i = 0; i < 5; i++)
		TEST_ASSERT(!padded[i]);
	TEST_EQ(e.w->c.gso_pad_bytes, pads + 5);
	scene_close(&e);
	return 0;
}

/* While the worker reads a batch (w->defer), a video packet's copies wait;
 * sfu__fanout() then queues them one subscriber after another, each in
 * the packets' order, each carrying its packet's receive time; audio goes
 * at once. A track removed while its packets wait leaves nothing behind;
 * a full queue of waiting packets is fanned out before it takes more. */
int test_sfu_fanout_by_subscriber(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub, *sub2;
	uint8_t b[PKT], want[PKT];
	struct rtp_hdr h;
	size_t n;
	unsigned first;
	enum { FRAME = 5, MANY = SFU_PEND + 3 };

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	TEST_EQ(scene_open_sub2(&e, true, 0x31, true, &sub2), 0);
	TEST_EQ(pub->tracks[0]->nouts, 2);
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	scene_drain(e.fd[PUB]);

	/* a frame, with an audio packet in the middle of it */
	e.w->defer = true;
	for (int i = 0; i < FRAME; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(100 + i), 3000, 200 + (size_t)i);
		r.marker = i == FRAME - 1;
		e.w->cur_rx_ns = 1000u + (uint64_t)i;
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		if (i == 2) {
			struct scene_rtp a = { .pt = PT_OPUS, .seq = 7, .ts = 960,
					       .ssrc = A_SSRC, .mid = "a0",
					       .level = 30, .plen = 40 };
			e.w->cur_rx_ns = 2000;
			TEST_EQ(scene_send_rtp(&e, PUB, &a), 0);
		}
	}
	e.w->cur_rx_ns = 0;
	TEST_EQ(e.w->npend, FRAME);
	TEST_EQ(e.w->pend_copies, 2 * FRAME);
	TEST_EQ(e.w->nsend, 1);                 /* the audio, to SUB only */
	TEST_EQ(e.w->send_rx_ns[0], 2000);
	TEST_EQ(e.w->c.rtp_forwarded, 1);
	e.w->defer = false;
	sfu__fanout(e.w);
	TEST_EQ(e.w->npend, 0);
	TEST_EQ(e.w->pend_copies, 0);
	TEST_EQ(e.w->nsend, 1 + 2 * FRAME);
	TEST_EQ(e.w->c.rtp_forwarded, 1 + 2 * FRAME);
	/* one subscriber's whole frame, then the other's */
	for (first = 1; first < 1 + 2 * FRAME; first += FRAME)
		for (unsigned k = 0; k < FRAME; k++) {
			TEST_MEMEQ(&e.w->saddr[first + k], &e.w->saddr[first], e.alen);
			TEST_EQ(e.w->send_rx_ns[first + k], 1000u + k);
		}
	TEST_ASSERT(memcmp(&e.w->saddr[1], &e.w->saddr[1 + FRAME], e.alen) != 0);
	sfu__flush(e.w);
	for (int who = SUB; who <= SUB2; who += SUB2 - SUB) {
		for (int i = 0; i < FRAME; i++) {
			do
				TEST_EQ(scene_recv_rtp(&e, who, b, &n, &h), 0);
			while (h.pt == SUB_PT_OPUS);
			TEST_EQ(h.payload_len, 200u + (size_t)i);
			scene_payload_fill(want, h.payload_len, (uint16_t)(100 + i));
			TEST_MEMEQ(b + h.payload_off, want, h.payload_len);
			TEST_EQ(h.marker, i == FRAME - 1);
		}
		TEST_ASSERT(scene_quiet(e.fd[who]));
	}

	/* more packets than the queue holds: the first SFU_PEND go out
	 * before the rest is queued, in order */
	e.w->defer = true;
	for (int i = 0; i < MANY; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(200 + i), 6000 + (uint32_t)i * 90, 100);
		r.marker = true;
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	TEST_EQ(e.w->npend, MANY - SFU_PEND);
	TEST_EQ(e.w->c.rtp_forwarded, 1 + 2 * FRAME + 2 * SFU_PEND);
	e.w->defer = false;
	sfu__fanout(e.w);
	sfu__flush(e.w);
	for (int i = 0; i < MANY; i++) {
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		scene_payload_fill(want, 100, (uint16_t)(200 + i));
		TEST_MEMEQ(b + h.payload_off, want, 100);
	}
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	scene_drain(e.fd[SUB2]);

	/* a flush between two subscribers: the copies after it are stamped
	 * with the time after that flush, not with the read's (the send times
	 * a subscriber's estimate compares its feedback with) */
	e.w->defer = true;
	for (int i = 0; i < FRAME; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(200 + MANY + i), 9000, 100);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	e.w->defer = false;
	TEST_EQ(e.w->nsend, 0);
	while (e.w->nsend < SFU_SEND_EARLY - FRAME) {
		uint8_t *slot = sfu__send_slot(e.w);
		memset(slot, 0, 20);
		sfu__send_to(e.w, sub2, 20);
	}
	e.w->now_us = 1;
	sfu__fanout(e.w);
	TEST_ASSERT(e.w->now_us > 1);
	TEST_EQ(e.w->nsend, FRAME);  /* the second subscriber's, after it */
	sfu__flush(e.w);
	scene_drain(e.fd[SUB]);
	scene_drain(e.fd[SUB2]);

	/* the track goes while its packets wait: nothing is sent */
	e.w->defer = true;
	for (int i = 0; i < 2; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(300 + i), 9000, 100);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	TEST_EQ(e.w->npend, 2);
	sfu__track_remove(e.w, TP_PUB, TR_VIDEO);
	e.w->defer = false;
	sfu__fanout(e.w);
	TEST_EQ(e.w->npend, 0);
	TEST_EQ(e.w->nsend, 0);
	TEST_EQ(e.w->c.rtp_forwarded, 1 + 4 * FRAME + 2 * MANY);
	scene_close(&e);
	return 0;
}

/* Audio levels (RFC 6464) are averaged per track into SFU_EV_LEVEL. */
int test_sfu_levels(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	size_t i, nlev = 0;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	for (i = 0; i < 4; i++) {
		struct scene_rtp r = { .pt = PT_OPUS, .seq = (uint16_t)(10 + i), .ts = 960u * (uint32_t)i,
				       .ssrc = A_SSRC, .mid = "a0", .level = (int)(10 * i),
				       .voice = true, .plen = 20 };
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	sfu__levels_tick(e.w);
	scene_poll_events(&e);
	for (i = 0; i < e.nev; i++) {
		if (e.ev[i].type != SFU_EV_LEVEL)
			continue;
		nlev++;
		TEST_EQ(e.ev[i].transport, TP_PUB);
		TEST_EQ(e.ev[i].track, TR_AUDIO);
		/* levels 0, 10, 20, 30 dBov below full scale: loudness
		 * 127 - 15 on average */
		TEST_EQ(e.ev[i].loudness, 112);
	}
	TEST_EQ(nlev, 1);
	/* nothing new: no event */
	sfu__levels_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 0);
	scene_close(&e);
	return 0;
}

/* ---- congestion control feedback ----------------------------------------- */

/* Reads one transport-cc feedback at the publisher. */
static int twcc_at_pub(struct scene *e, struct rtcp_twcc *fb,
		       struct rtcp_twcc_status *st, size_t cap)
{
	uint8_t b[PKT];
	size_t len;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;

	TEST_EQ(scene_recv_rtcp(e, PUB, b, &len), 0);
	rtcp_iter_init(&it, b, len);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_RTPFB);
	TEST_EQ(pkt.fmt, RTCP_FMT_TWCC);
	TEST_EQ(pkt.sender_ssrc, SFU_SSRC_SFU);
	TEST_EQ(pkt.media_ssrc, V_SSRC);
	TEST_EQ(rtcp_twcc_parse(&pkt, fb, st, cap), 0);
	return 0;
}

static long long absdiff(long long a, long long b)
{
	return a > b ? a - b : b - a;
}

int test_sfu_twcc_feedback(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct rtcp_twcc fb;
	struct rtcp_twcc_status st[16];
	static const uint16_t tw[] = { 10, 11, 13, 12, 14, 14 };
	int64_t t0;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	e.w->now_us = sfu__now_us();
	/* arrivals 1 ms apart, 12 and 13 swapped, 14 twice */
	for (int i = 0; i < 6; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(50 + i), 0, 20);
		r.has_twcc = true;
		r.twcc = tw[i];
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		e.w->now_us += 1000;
	}
	sfu__twcc_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(twcc_at_pub(&e, &fb, st, 16), 0);
	TEST_EQ(fb.base_seq, 10);
	TEST_EQ(fb.status_count, 5);
	for (int i = 0; i < 5; i++) {
		TEST_ASSERT(st[i].received);
		TEST_EQ(st[i].seq, 10 + i);
	}
	t0 = st[0].arrival_us;
	TEST_ASSERT(absdiff(st[1].arrival_us - t0, 1000) <= 250);
	TEST_ASSERT(absdiff(st[2].arrival_us - t0, 3000) <= 250);
	TEST_ASSERT(absdiff(st[3].arrival_us - t0, 2000) <= 250);
	TEST_ASSERT(absdiff(st[4].arrival_us - t0, 4000) <= 250);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	/* nothing new: no feedback */
	sfu__twcc_tick(e.w);
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	/* 15 lost; a late 12 is not reported again */
	for (int i = 0; i < 3; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(60 + i), 0, 20);
		r.has_twcc = true;
		r.twcc = i == 0 ? 12 : (uint16_t)(15 + i);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		e.w->now_us += 1000;
	}
	sfu__twcc_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(twcc_at_pub(&e, &fb, st, 16), 0);
	TEST_EQ(fb.base_seq, 15);
	TEST_EQ(fb.status_count, 3);
	TEST_ASSERT(!st[0].received);
	TEST_ASSERT(st[1].received && st[2].received);
	TEST_EQ(e.w->c.twcc_out, 2);
	/* the feedback counter runs */
	TEST_EQ(fb.fb_count, 1);
	scene_close(&e);
	return 0;
}

/* A subscriber's transport-cc feedback costs work in proportion to what
 * was sent to it: one that claims 32,767 statuses in five run-length
 * chunks (32 bytes) is refused before decoding; a real one is taken, once
 * more if repeated, not a third time. */
int test_sfu_twcc_bounded(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct rtcp_twcc fb;
	struct rtcp_twcc_status st[10];
	struct bwe_stats bs;
	uint8_t b[PKT];
	size_t n;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	TEST_EQ(sfu__congestion_enable(sub, 6), 0);
	memset(b, 0, sizeof(b));
	b[0] = 0x80 | RTCP_FMT_TWCC;
	b[1] = RTCP_RTPFB;
	put_u16(b + 2, 32 / 4 - 1);
	put_u32(b + 4, SUB_OWN_SSRC);
	put_u16(b + 14, 32767);               /* status count */
	for (int i = 0; i < 4; i++)
		put_u16(b + 20 + 2 * i, 0x1FFF); /* 8,191 not received */
	put_u16(b + 28, 0x0003);
	TEST_EQ(scene_send_rtcp(&e, SUB, b, 32), 0);
	TEST_EQ(e.w->c.twcc_in, 1);
	TEST_EQ(e.w->c.twcc_refused, 1);
	bwe_stats(sub->bwe, &bs);
	TEST_EQ(bs.feedbacks, 0);
	/* ten packets go out; their feedback */
	for (int i = 0; i < 10; i++)
		sfu__congestion_sent(e.w, sub, 1200, 0);
	memset(&fb, 0, sizeof(fb));
	for (int i = 0; i < 10; i++) {
		st[i].seq = (uint16_t)i;
		st[i].received = true;
		st[i].arrival_us = 1000 * i;
		st[i].delta_us = 0;
	}
	for (int k = 0; k < 3; k++) {
		TEST_EQ(rtcp_twcc_write(b, sizeof(b), SUB_OWN_SSRC, 0, &fb, st, 10, &n), 0);
		TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
		fb.fb_count++;
	}
	bwe_stats(sub->bwe, &bs);
	TEST_EQ(bs.feedbacks, 2);
	TEST_EQ(e.w->c.twcc_refused, 2);
	TEST_EQ(e.w->c.twcc_in, 4);
	scene_close(&e);
	return 0;
}

/* RTCP past SFU_RTCP_RATE per transport is dropped unread, and a NACK is
 * expanded only while the subscriber's NACK budget lasts: one NACK of
 * 1,012 bytes names 4,250 packets. */
int test_sfu_rtcp_limits(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	static uint16_t seqs[4250];
	uint8_t b[PKT];
	size_t n;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	for (size_t i = 0; i < 4250; i++)
		seqs[i] = (uint16_t)i;
	TEST_EQ(rtcp_nack_write(b, sizeof(b), SUB_OWN_SSRC, SV_SSRC, seqs, 4250, &n), 0);
	TEST_EQ(n, 12 + 250 * 4);
	TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
	TEST_EQ(e.w->c.nack_in, SFU_NACK_IN_BURST);
	TEST_EQ(e.w->c.nack_limited, 1);
	/* the budget refills at SFU_NACK_IN_RATE */
	e.w->now += 100;
	TEST_EQ(rtcp_nack_write(b, sizeof(b), SUB_OWN_SSRC, SV_SSRC, seqs, 4250, &n), 0);
	TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
	TEST_EQ(e.w->c.nack_in, SFU_NACK_IN_BURST + SFU_NACK_IN_RATE / 10);
	TEST_EQ(e.w->c.nack_limited, 2);
	/* RTCP datagrams: SFU_RTCP_BURST at once (the second NACK took one
	 * of them, the first's was refilled) */
	for (int i = 0; i < SFU_RTCP_BURST - 1 + 50; i++) {
		TEST_EQ(rtcp_rr_write(b, sizeof(b), SUB_OWN_SSRC, NULL, 0, &n), 0);
		TEST_EQ(scene_send_rtcp(&e, SUB, b, n), 0);
	}
	TEST_EQ(e.w->c.rtcp_limited, 50);
	TEST_EQ(e.w->c.rtcp_in, 2 + SFU_RTCP_BURST - 1);
	/* the publisher's budget is its own */
	TEST_EQ(rtcp_rr_write(b, sizeof(b), 0x1234, NULL, 0, &n), 0);
	TEST_EQ(scene_send_rtcp(&e, PUB, b, n), 0);
	TEST_EQ(e.w->c.rtcp_in, 2 + SFU_RTCP_BURST);
	scene_close(&e);
	return 0;
}

/* Transport-cc feedback gives each packet the kernel's receive time
 * (SO_TIMESTAMPNS), not the time the worker read it: packets read together
 * late, after a long fan-out, still report the spacing they came with. A
 * receive time from the future or more than SFU_RX_AGE_MAX_US old (a
 * clock step), or none, counts as the read's. */
int test_sfu_twcc_kernel_times(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct rtcp_twcc fb;
	struct rtcp_twcc_status st[16];
	static const uint64_t age_us[] = { 9000, 6000, 3000, 0 };
	const uint64_t rt = 1700000000ull * 1000000000u;
	int64_t t0;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* one read (some time after the transports opened: a receive time
	 * before that counts as then), the same now_us for all */
	e.w->now_us = sfu__now_us() + 20000;
	e.w->rt_now_ns = rt;
	for (int i = 0; i < 7; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(50 + i), 0, 20);
		r.has_twcc = true;
		r.twcc = (uint16_t)(20 + i);
		if (i < 4)
			e.w->cur_rx_ns = rt - age_us[i] * 1000;
		else if (i == 4)
			e.w->cur_rx_ns = rt + 5000000;               /* future */
		else if (i == 5)
			e.w->cur_rx_ns = rt - 2000000000ull;         /* 2 s old */
		else
			e.w->cur_rx_ns = 0;                          /* none */
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	e.w->cur_rx_ns = 0;
	sfu__twcc_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(twcc_at_pub(&e, &fb, st, 16), 0);
	TEST_EQ(fb.base_seq, 20);
	TEST_EQ(fb.status_count, 7);
	t0 = st[0].arrival_us;
	TEST_ASSERT(absdiff(st[1].arrival_us - t0, 3000) <= 250);
	TEST_ASSERT(absdiff(st[2].arrival_us - t0, 6000) <= 250);
	TEST_ASSERT(absdiff(st[3].arrival_us - t0, 9000) <= 250);
	for (int i = 4; i < 7; i++)
		TEST_ASSERT(absdiff(st[i].arrival_us - t0, 9000) <= 250);
	scene_close(&e);
	return 0;
}

/* ---- reports -------------------------------------------------------------- */

int test_sfu_reports(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtcp_rb rb;
	struct rtcp_sr sr;
	uint32_t last_ts = 0;
	bool seen_sr = false;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* nothing received, nothing forwarded: no reports */
	sfu__reports_tick(e.w);
	TEST_EQ(e.w->nsend, 0);
	for (int i = 0; i < 5; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(65534 + i), 1000u * (uint32_t)i, 100);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 5; i++) {
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		last_ts = h.ts;
	}
	e.w->now += 500;
	sfu__reports_tick(e.w);
	sfu__flush(e.w);
	/* RR to the publisher */
	TEST_EQ(scene_recv_rtcp(&e, PUB, b, &n), 0);
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_RR);
	TEST_EQ(pkt.sender_ssrc, SFU_SSRC_SFU);
	TEST_EQ(pkt.fmt, 1); /* the audio track has received nothing */
	TEST_EQ(rtcp_report_block(&pkt, 0, &rb), 0);
	TEST_EQ(rb.ssrc, V_SSRC);
	TEST_EQ(rb.ext_highest_seq, 0x10000u + 2);
	TEST_ASSERT(scene_quiet(e.fd[PUB]));
	/* SR to the subscriber for the forwarded video only */
	while (scene_recv_wait(e.fd[SUB], b, sizeof(b), 20) > 0) {
		TEST_ASSERT(!seen_sr);
		seen_sr = true;
	}
	TEST_ASSERT(seen_sr);
	/* again, read properly this time */
	e.w->now += 1000;
	sfu__reports_tick(e.w);
	sfu__flush(e.w);
	scene_drain(e.fd[PUB]);
	TEST_EQ(scene_recv_rtcp(&e, SUB, b, &n), 0);
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_SR);
	TEST_EQ(pkt.sender_ssrc, SV_SSRC);
	TEST_EQ(rtcp_sr_parse(&pkt, &sr), 0);
	TEST_EQ(sr.pkt_count, 5);
	TEST_EQ(sr.octet_count, 500);
	/* 1.5 s of 90 kHz after the last forwarded timestamp */
	TEST_EQ(sr.rtp_ts, last_ts + 135000u);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));

	/* the same for fresh subscriptions (each draws new random offsets,
	 * so the first sequence number falls anywhere in 0..65535) */
	for (uint32_t round = 1; round <= 8; round++) {
		struct sfu_sub_params sp;
		uint32_t ssrc = SV_SSRC + 0x100 * round;

		sfu__unsubscribe(e.w, TP_SUB, TR_VIDEO);
		memset(&sp, 0, sizeof(sp));
		sp.transport = TP_SUB;
		sp.track = TR_VIDEO;
		sp.ssrc = ssrc;
		sp.pt_in[0] = PT_VP8;
		sp.pt_out[0] = SUB_PT_VP8;
		sfu__subscribe(e.w, &sp);
		for (int i = 0; i < 3; i++) {
			struct scene_rtp r = scene_rtp_video((uint16_t)(round * 10 + (uint32_t)i),
							     round * 9000u + 3000u * (uint32_t)i, 10);
			TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
		}
		sfu__flush(e.w);
		for (int i = 0; i < 3; i++) {
			TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
			TEST_EQ(h.ssrc, ssrc);
			last_ts = h.ts;
		}
		e.w->now += 250;
		sfu__reports_tick(e.w);
		sfu__flush(e.w);
		scene_drain(e.fd[PUB]);
		TEST_EQ(scene_recv_rtcp(&e, SUB, b, &n), 0);
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_EQ(pkt.type, RTCP_SR);
		TEST_EQ(pkt.sender_ssrc, ssrc);
		TEST_EQ(rtcp_sr_parse(&pkt, &sr), 0);
		TEST_EQ(sr.pkt_count, 3);
		TEST_EQ(sr.rtp_ts, last_ts + 250u * 90u);
		TEST_ASSERT(scene_quiet(e.fd[SUB]));
	}
	scene_close(&e);
	return 0;
}

/* One datagram at PUB or SUB, whichever has one first (waiting up to a
 * second); *who says which. */
static int recv_pub_or_sub(struct scene *e, int *who, uint8_t *b, size_t *len)
{
	struct pollfd pf[2] = { { .fd = e->fd[PUB], .events = POLLIN },
				{ .fd = e->fd[SUB], .events = POLLIN } };
	ssize_t n;

	TEST_ASSERT(poll(pf, 2, 1000) > 0);
	*who = (pf[0].revents & POLLIN) ? PUB : SUB;
	n = recv(e->fd[*who], b, PKT, MSG_DONTWAIT);
	TEST_ASSERT(n > 0);
	*len = (size_t)n;
	return 0;
}

/* Reports in the worker's loop: each transport once per SFU_REPORT_MS, at
 * a phase of its own (not all of a worker's in one tick), a subscriber's
 * SRs in one compound packet. */
int test_sfu_reports_spread(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	int at_pub = 0, at_sub = 0;
	uint64_t start, last_pub = 0, last_sub = 0;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	for (int i = 0; i < 3; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(100 + i), 3000u * (uint32_t)i, 100);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	{
		/* audio too (its SSRC learned from the MID): two streams */
		struct scene_rtp r = { .pt = PT_OPUS, .seq = 7, .ts = 960, .ssrc = A_SSRC,
				       .mid = "a0", .level = 30, .plen = 60 };
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 4; i++)
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	start = e.w->now;
	/* three periods of 10 ms ticks: each transport's first report comes
	 * within the first period (its phase is drawn at random on the first
	 * tick), then one every period; what a tick sends (tx_packets) is
	 * read with a wait, as loopback may hand it over late on a busy
	 * machine */
	for (int tick = 0; tick < 3 * SFU_REPORT_MS / SFU_TICK_MS; tick++) {
		uint64_t tx = e.w->c.tx_packets;
		e.w->now += SFU_TICK_MS;
		sfu__reports_due(e.w);
		sfu__flush(e.w);
		for (; tx < e.w->c.tx_packets; tx++) {
			int who, srs = 0;
			TEST_EQ(recv_pub_or_sub(&e, &who, b, &n), 0);
			if (who == PUB) {
				TEST_ASSERT(at_pub ? e.w->now == last_pub + SFU_REPORT_MS
						   : e.w->now <= start + SFU_REPORT_MS + SFU_TICK_MS);
				last_pub = e.w->now;
				at_pub++;
				continue;
			}
			/* one compound packet with both streams' SRs */
			TEST_ASSERT(at_sub ? e.w->now == last_sub + SFU_REPORT_MS
					   : e.w->now <= start + SFU_REPORT_MS + SFU_TICK_MS);
			last_sub = e.w->now;
			at_sub++;
			TEST_EQ(srtps_unprotect_rtcp(e.b[SUB], b, &n), 0);
			rtcp_iter_init(&it, b, n);
			while (rtcp_next(&it, &pkt) == 1) {
				TEST_EQ(pkt.type, RTCP_SR);
				srs++;
			}
			TEST_EQ(srs, 2);
		}
	}
	TEST_ASSERT(at_pub >= 2 && at_sub >= 2);
	TEST_ASSERT(scene_quiet(e.fd[PUB]) && scene_quiet(e.fd[SUB]));
	TEST_ASSERT(pub->next_report_ms > e.w->now);
	TEST_ASSERT(sub->next_report_ms > e.w->now);
	TEST_ASSERT(pub->next_report_ms <= e.w->now + SFU_REPORT_MS);
	scene_close(&e);
	return 0;
}

/* ---- life cycle ----------------------------------------------------------- */

int test_sfu_track_sub_rules(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	struct sfu_track_params tp;
	struct sfu_sub_params sp;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_SUB; /* not a publisher */
	tp.track = 50;
	sfu__track_add(e.w, &tp);
	TEST_ASSERT(sub->tracks[0] == NULL);
	tp.transport = 77;     /* no such transport */
	sfu__track_add(e.w, &tp);
	tp.transport = TP_PUB;
	tp.track = TR_VIDEO;   /* id taken */
	sfu__track_add(e.w, &tp);
	TEST_ASSERT(pub->tracks[2] == NULL);
	for (uint32_t i = 0; i < SFU_MAX_TRACKS; i++) {
		tp.track = 100 + i;
		sfu__track_add(e.w, &tp);
	}
	for (size_t i = 0; i < SFU_MAX_TRACKS; i++)
		TEST_ASSERT(pub->tracks[i]);
	TEST_EQ(pub->tracks[7]->id, 105); /* 100..105 fit, 106, 107 did not */
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_PUB; /* a publisher cannot subscribe */
	sp.track = TR_VIDEO;
	sfu__subscribe(e.w, &sp);
	TEST_ASSERT(pub->outs == NULL);
	sp.transport = TP_SUB;
	sp.track = 4242;       /* no such track */
	sfu__subscribe(e.w, &sp);
	TEST_EQ(count_outs(sub), 2);
	/* unsubscribing what is not subscribed, or on an unknown transport */
	sfu__unsubscribe(e.w, TP_SUB, 4242);
	sfu__unsubscribe(e.w, 77, TR_VIDEO);
	TEST_EQ(count_outs(sub), 2);
	/* removing a track through the wrong transport */
	sfu__track_remove(e.w, TP_SUB, TR_VIDEO);
	TEST_ASSERT(pub->tracks[0] && pub->tracks[0]->id == TR_VIDEO);
	scene_close(&e);
	return 0;
}

int test_sfu_free_paths(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub, *sub2;
	struct sfu_sub_params sp;
	struct sfu_track *tv, *ta;
	struct scene_rtp r;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	tv = pub->tracks[0];
	ta = pub->tracks[1];
	TEST_EQ(scene_open_sub2(&e, true, 0x44, true, &sub2), 0);
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB2;
	sp.pt_in[0] = PT_VP8;
	sp.pt_out[0] = SUB_PT_VP8;
	sp.track = TR_AUDIO;
	sp.ssrc = S2V_SSRC + 1;
	sfu__subscribe(e.w, &sp);
	TEST_EQ(count_track_outs(tv), 2);
	TEST_EQ(count_track_outs(ta), 2);

	/* unsubscribe: gone from both lists */
	sfu__unsubscribe(e.w, TP_SUB, TR_VIDEO);
	TEST_EQ(count_outs(sub), 1);
	TEST_EQ(sub->outs->track, ta);
	TEST_EQ(count_track_outs(tv), 1);
	TEST_EQ(tv->outs->sub, sub2);
	/* and forwarding skips it */
	r = scene_rtp_video(1, 1, 10);
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_forwarded, 1);
	sfu__flush(e.w);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	scene_drain(e.fd[SUB2]);
	/* resubscribe works */
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB;
	sp.track = TR_VIDEO;
	sp.ssrc = SV_SSRC + 100;
	sp.pt_in[0] = PT_VP8;
	sp.pt_out[0] = SUB_PT_VP8;
	sfu__subscribe(e.w, &sp);
	TEST_EQ(count_outs(sub), 2);
	TEST_EQ(count_track_outs(tv), 2);

	/* removing the audio track frees its outs in both subscribers */
	sfu__track_remove(e.w, TP_PUB, TR_AUDIO);
	TEST_ASSERT(pub->tracks[1] == NULL);
	TEST_EQ(count_outs(sub), 1);
	TEST_EQ(count_outs(sub2), 1);
	TEST_EQ(sub->outs->track, tv);
	TEST_EQ(sub2->outs->track, tv);
	/* a PLI naming the removed stream finds nothing */
	TEST_EQ(scene_send_pli(&e, SUB2, S2V_SSRC + 1), 0);
	TEST_EQ(e.w->c.pli_out, 0);

	/* closing a subscriber unlinks its outs from the track */
	sfu__transport_close(e.w, TP_SUB2);
	TEST_ASSERT(sfu__transport_find(e.w, TP_SUB2) == NULL);
	TEST_EQ(count_track_outs(tv), 1);
	TEST_EQ(tv->outs->sub, sub);
	r = scene_rtp_video(2, 1, 10);
	TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_forwarded, 2);

	/* closing the publisher frees its tracks and the subscriber's outs */
	sfu__transport_close(e.w, TP_PUB);
	TEST_ASSERT(sfu__transport_find(e.w, TP_PUB) == NULL);
	TEST_ASSERT(sub->outs == NULL);
	/* its ufrag and address are gone */
	{
		uint8_t b[PKT], tid[STUN_TID_LEN];
		size_t n = scene_make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
		uint64_t d = e.w->c.stun_dropped, u = e.w->c.unknown_source;
		scene_deliver(&e, PUB, b, n);
		TEST_EQ(e.w->c.stun_dropped, d + 1);
		b[0] = 0x80;
		scene_deliver(&e, PUB, b, 40);
		TEST_EQ(e.w->c.unknown_source, u + 1);
	}
	/* the subscriber's PLI names a stream that no longer exists */
	TEST_EQ(scene_send_pli(&e, SUB, SV_SSRC + 100), 0);
	/* the rest goes with free_all in env_close */
	sfu__transport_close(e.w, 12345);
	scene_close(&e);
	return 0;
}

/* A transport that is still in its DTLS handshake, with queued close. */
int test_sfu_close_during_dtls(void)
{
	struct scene e;
	struct sfu_transport_params p;
	struct sfu_transport *t;
	uint8_t b[PKT];
	uint8_t fp[32];
	long n;

	TEST_EQ(scene_open(&e), 0);
	memset(&p, 0, sizeof(p));
	p.id = TP_PUB;
	p.publisher = true;
	snprintf(p.ufrag, sizeof(p.ufrag), "%s", PUB_UFRAG);
	snprintf(p.pwd, sizeof(p.pwd), "%s", PUB_PWD);
	sfu__transport_open(e.w, &p);
	t = sfu__transport_find(e.w, TP_PUB);
	TEST_ASSERT(t);
	memset(fp, 0x5a, sizeof(fp));
	/* fingerprint first, address later: DTLS starts with the address */
	sfu__transport_remote_fp(e.w, TP_PUB, fp);
	TEST_ASSERT(t->have_remote_fp && !t->dtls);
	TEST_EQ(scene_ice(&e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_ASSERT(t->dtls);
	/* a fingerprint never changes */
	fp[0] ^= 1;
	sfu__transport_remote_fp(e.w, TP_PUB, fp);
	TEST_EQ(t->remote_fp[0], 0x5a);
	/* DTLS from a stranger: unknown source */
	memset(b, 0, 13);
	b[0] = 22;
	scene_deliver(&e, STRANGER, b, 13);
	TEST_EQ(e.w->c.unknown_source, 1);
	sfu__transport_close(e.w, TP_PUB);
	sfu__flush(e.w);
	/* nothing was said yet, so close sends at most an alert */
	n = scene_recv_wait(e.fd[PUB], b, sizeof(b), 20);
	TEST_ASSERT(n < 0 || (b[0] >= 20 && b[0] <= 63));
	scene_close(&e);
	return 0;
}
