/*
 * test_sfu_ice — how a transport's media path (its address) moves, and who
 * refreshes its consent: ICE-lite checks prove only the password, so a
 * nomination from a new address makes a candidate, and the path moves
 * there once DTLS completes with it or an SRTP/SRTCP packet from it
 * authenticates (src/sfu/transport.c). The worker and browsers are
 * sfu_scene.c's; listed with the other sfu tests in list_sfu.h.
 */
#include "test.h"

#include <string.h>

#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/sfu_int.h"
#include "sfu_scene.h"
#include "srtp/srtp_session.h"
#include "stun/stun.h"

/* A nominating check for (ufrag, pwd) from browser `who`'s socket: answered
 * there, like any valid check. */
static int nominate(struct scene *e, int who, const char *ufrag,
		    const char *pwd)
{
	return scene_ice(e, who, ufrag, pwd, true);
}

/* The publisher's video packet seq, protected with its keys, into b;
 * returns the length. */
static size_t pub_video(struct scene *e, uint8_t *b, uint16_t seq)
{
	struct scene_rtp r = scene_rtp_video(seq, 90u * seq, 50);
	size_t n = scene_build_rtp(b, &r);

	if (srtps_protect_rtp(e->b[PUB], b, &n, PKT) != 0)
		return 0;
	return n;
}

/* An RTCP receiver report from the subscriber browser, protected with
 * browser `keys`' session, into b; returns the length. */
static size_t sub_rr(struct scene *e, int keys, uint8_t *b)
{
	size_t n;

	if (rtcp_rr_write(b, PKT, SUB_OWN_SSRC, NULL, 0, &n) != 0 ||
	    srtps_protect_rtcp(e->b[keys], b, &n, PKT) != 0)
		return 0;
	return n;
}

/* A member that knows its own credentials forges a check from another
 * address (a victim's): answered, but the media path stays, and consent
 * is not refreshed from there — the transport times out although the
 * forged checks go on. */
int test_sfu_ice_spoofed_check(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	e.w->media_timeout_ms = 5000;
	e.w->now = T0 + 1000;
	TEST_EQ(nominate(&e, STRANGER, SUB_UFRAG, SUB_PWD), 0);
	TEST_EQ(nominate(&e, STRANGER, PUB_UFRAG, PUB_PWD), 0);
	TEST_ASSERT(scene_peer_is(sub, &e, SUB));
	TEST_ASSERT(scene_peer_is(pub, &e, PUB));
	TEST_ASSERT(sub->have_cand && pub->have_cand);
	TEST_EQ(sub->last_consent_ms, T0);
	TEST_EQ(pub->last_consent_ms, T0);
	/* media still goes to the subscriber; the "victim" gets copies only
	 * while the candidate's budget lasts (SFU_CAND_BURST bytes at once,
	 * SFU_CAND_RATE a second), the most a forged nomination can direct */
	for (int i = 0; i < 20; i++) {
		struct scene_rtp r = scene_rtp_video((uint16_t)(1 + i), 90, 1000);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 20; i++) {
		TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SV_SSRC);
	}
	{
		long got, bytes = 0, copies = 0;
		while ((got = scene_recv_wait(e.fd[STRANGER], b, sizeof(b), 20)) > 0) {
			bytes += got;
			copies++;
		}
		TEST_ASSERT(copies >= 1);
		TEST_ASSERT(bytes <= SFU_CAND_BURST);
		TEST_EQ(e.w->c.ice_cand_copies, copies);
	}
	/* forged checks go on, from the candidate and without USE-CANDIDATE
	 * too; the real address says nothing: consent runs out */
	for (int i = 1; i <= 5; i++) {
		e.w->now = T0 + 1000u * (uint64_t)i;
		TEST_EQ(scene_ice(&e, STRANGER, SUB_UFRAG, SUB_PWD, i % 2), 0);
		sfu__transports_tick(e.w);
	}
	TEST_EQ(sub->last_consent_ms, T0);
	scene_poll_events(&e);
	e.w->now = T0 + 5001;
	sfu__transports_tick(e.w);
	TEST_EQ(e.w->c.ice_timeouts, 2);
	TEST_EQ(e.w->c.ice_moves, 0);
	/* and a check from the path's own address refreshes it */
	TEST_EQ(scene_ice(&e, SUB, SUB_UFRAG, SUB_PWD, false), 0);
	TEST_EQ(sub->last_consent_ms, T0 + 5001);
	scene_close(&e);
	return 0;
}

/* The path moves to a nominated address once an SRTP packet from there
 * authenticates: a publisher's media (the packet itself is forwarded), a
 * subscriber's RTCP. Not on a packet from an address that was not
 * nominated, a replayed packet, or one that fails authentication. */
int test_sfu_ice_move_on_srtp(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT], old[PKT];
	size_t n, oldn;
	struct rtp_hdr h;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* a packet the publisher sent from its address, recorded */
	oldn = pub_video(&e, old, 10);
	TEST_ASSERT(oldn > 0);
	scene_deliver(&e, PUB, old, oldn);
	TEST_EQ(e.w->c.rtp_in, 1);
	/* SRTP from an address nobody nominated: unknown */
	n = pub_video(&e, b, 11);
	scene_deliver(&e, STRANGER, b, n);
	TEST_EQ(e.w->c.unknown_source, 1);
	TEST_EQ(e.w->c.rtp_in, 1);
	/* nominated: the recorded packet replayed from there does not move
	 * the path (the replay window refuses it), nor does garbage */
	TEST_EQ(nominate(&e, STRANGER, PUB_UFRAG, PUB_PWD), 0);
	scene_deliver(&e, STRANGER, old, oldn);
	TEST_ASSERT(scene_peer_is(pub, &e, PUB));
	n = pub_video(&e, b, 12);
	b[n - 1] ^= 1;
	scene_deliver(&e, STRANGER, b, n);
	TEST_ASSERT(scene_peer_is(pub, &e, PUB));
	TEST_EQ(e.w->c.rtp_in, 1);
	TEST_EQ(e.w->c.srtp_errors, 2);
	/* a fresh one authenticates: the path moves, the packet goes on */
	e.w->now += 700;
	n = pub_video(&e, b, 13);
	scene_deliver(&e, STRANGER, b, n);
	TEST_ASSERT(scene_peer_is(pub, &e, STRANGER));
	TEST_ASSERT(!pub->have_cand);
	TEST_EQ(pub->last_consent_ms, e.w->now);
	TEST_EQ(e.w->c.ice_moves, 1);
	TEST_EQ(e.w->c.rtp_in, 2);
	sfu__flush(e.w);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);
	scene_drain(e.fd[SUB]);
	/* the old address is a stranger now; the new one consents */
	n = pub_video(&e, b, 14);
	scene_deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.unknown_source, 2);
	e.w->now += 100;
	TEST_EQ(scene_ice(&e, STRANGER, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_EQ(pub->last_consent_ms, e.w->now);

	/* a subscriber proves its new address with SRTCP */
	TEST_EQ(nominate(&e, SUB2, SUB_UFRAG, SUB_PWD), 0);
	TEST_ASSERT(scene_peer_is(sub, &e, SUB));
	n = sub_rr(&e, SUB, b);
	TEST_ASSERT(n > 0);
	scene_deliver(&e, SUB2, b, n);
	TEST_ASSERT(scene_peer_is(sub, &e, SUB2));
	TEST_EQ(e.w->c.ice_moves, 2);
	/* and its media follows (read at SUB2's socket, with the
	 * subscriber browser's keys) */
	n = pub_video(&e, b, 15);
	scene_deliver(&e, STRANGER, b, n);
	sfu__flush(e.w);
	e.b[SUB2] = e.b[SUB];
	TEST_EQ(scene_recv_rtp(&e, SUB2, b, &n, &h), 0);
	e.b[SUB2] = NULL;
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	/* back to the first address: a nomination from the path's own
	 * address drops a pending candidate */
	TEST_EQ(nominate(&e, SUB, SUB_UFRAG, SUB_PWD), 0);
	TEST_ASSERT(sub->have_cand);
	TEST_EQ(nominate(&e, SUB2, SUB_UFRAG, SUB_PWD), 0);
	TEST_ASSERT(!sub->have_cand);
	TEST_ASSERT(scene_peer_is(sub, &e, SUB2));
	scene_close(&e);
	return 0;
}

/* An address one transport uses is not taken by another's check: the
 * owner keeps it and its media flows on; the claimant gets it only with
 * a packet that authenticates under the claimant's keys. */
int test_sfu_ice_no_steal(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub, *sub2;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	TEST_EQ(scene_open_sub2(&e, true, 0x30, false, &sub2), 0);
	/* sub2's credentials, from the subscriber's address */
	TEST_EQ(nominate(&e, SUB, SUB2_UFRAG, SUB2_PWD), 0);
	TEST_ASSERT(scene_peer_is(sub, &e, SUB));
	TEST_ASSERT(scene_peer_is(sub2, &e, SUB2));
	TEST_ASSERT(sub->contested);
	/* the subscriber's own RTCP is its own (tried with its keys first) */
	n = sub_rr(&e, SUB, b);
	scene_deliver(&e, SUB, b, n);
	TEST_ASSERT(scene_peer_is(sub, &e, SUB));
	TEST_EQ(e.w->c.srtp_errors, 0);
	{
		struct scene_rtp r = scene_rtp_video(1, 90, 50);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);
	/* a transport that has no address yet does not take one either */
	{
		struct sfu_transport *t =
			scene_open_tp(&e, 7, false, "thirdufr", "thirdpassword0123456789");
		TEST_ASSERT(t);
		TEST_EQ(scene_ice(&e, PUB, "thirdufr", "thirdpassword0123456789",
				  false), 0);
		TEST_ASSERT(!t->have_peer && t->have_cand);
		TEST_ASSERT(scene_peer_is(pub, &e, PUB));
		TEST_ASSERT(pub->contested);
		sfu__transport_close(e.w, 7);
		TEST_ASSERT(!pub->contested);
	}
	/* the owner's failing packets are tried with the claimant's keys:
	 * sub2's browser, now behind the subscriber's address, proves it */
	n = sub_rr(&e, SUB2, b);
	scene_deliver(&e, SUB, b, n);
	TEST_ASSERT(scene_peer_is(sub2, &e, SUB));
	TEST_ASSERT(!sub->have_peer);
	TEST_ASSERT(!sub->contested);
	TEST_EQ(e.w->c.ice_moves, 1);
	TEST_EQ(e.w->c.srtp_errors, 0);
	/* the subscriber that lost it, with its keys, cannot take an address
	 * with a check alone any more */
	TEST_EQ(scene_ice(&e, STRANGER, SUB_UFRAG, SUB_PWD, false), 0);
	TEST_ASSERT(!sub->have_peer);
	TEST_ASSERT(sub->have_cand);
	scene_close(&e);
	return 0;
}

/* ICE restart: the old password is wiped whole, even when the new one is
 * shorter; a candidate nominated under the old credentials is dropped. */
int test_sfu_ice_restart_wipes(void)
{
	struct scene e;
	struct sfu_transport *pub, *sub;
	const char *pwd = "newpassword0123456789a";   /* 22 < 24 */

	TEST_EQ(scene_transports(&e, &pub, &sub), 0);
	TEST_EQ(nominate(&e, STRANGER, PUB_UFRAG, PUB_PWD), 0);
	TEST_ASSERT(pub->have_cand);
	sfu__transport_ice_restart(e.w, TP_PUB, "newufrag", pwd);
	TEST_ASSERT(!pub->have_cand);
	TEST_EQ(strlen(pub->pwd), strlen(pwd));
	for (size_t i = strlen(pwd); i < sizeof(pub->pwd); i++)
		TEST_EQ(pub->pwd[i], 0);
	TEST_EQ(scene_ice(&e, PUB, "newufrag", pwd, true), 0);
	TEST_ASSERT(scene_peer_is(pub, &e, PUB));
	scene_close(&e);
	return 0;
}
