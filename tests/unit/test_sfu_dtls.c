/*
 * test_sfu_dtls — a real DTLS handshake through the hand-driven worker of
 * sfu_scene.c: dtls_testpeer.c's OpenSSL client plays the browser, its
 * datagrams go in through sfu__packet() and the worker's answers come
 * back on the browser's socket. (Listed with the other sfu tests in
 * list_sfu.h.)
 */
#include "test.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls/dtls.h"
#include "dtls_testpeer.h"
#include "rtp/rtp.h"
#include "sfu/sfu_int.h"
#include "sfu_scene.h"
#include "srtp/srtp_session.h"

/* The OpenSSL client of a tlink, talking to the worker instead of the
 * tlink's own server: runs the client, cuts its output into datagrams at
 * record boundaries (as dtls_testpeer.c does) and hands them to the worker
 * from browser `who`, then flushes the worker's answers. */
static void client_to_worker(struct scene *e, struct tlink *l, int who)
{
	static uint8_t out[65536];
	size_t n = 0, off = 0, start = 0;
	int r;

	if (!SSL_is_init_finished(l->cli))
		(void)SSL_do_handshake(l->cli);
	while (n < sizeof(out)) {
		r = BIO_read(l->cwb, out + n, (int)(sizeof(out) - n));
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	while (off < n) {
		struct dtls_record_info ri;
		if (dtls_record_peek(out + off, n - off, &ri) != 0)
			break;
		if (off + ri.record_len - start > DTLS_MTU && off > start) {
			scene_deliver(e, who, out + start, off - start);
			start = off;
		}
		off += ri.record_len;
	}
	if (off > start)
		scene_deliver(e, who, out + start, off - start);
	sfu__flush(e->w);
}

static void dtls_exchange(struct scene *e, struct tlink *l, int who, int rounds)
{
	uint8_t b[PKT];
	long n;

	for (int i = 0; i < rounds; i++) {
		client_to_worker(e, l, who);
		while ((n = scene_recv_wait(e->fd[who], b, sizeof(b), 10)) > 0)
			BIO_write(l->crb, b, (int)n);
	}
}

static int client_fp(struct tlink *l, uint8_t fp[32])
{
	X509 *x = SSL_get_certificate(l->cli);
	unsigned int n = 0;

	TEST_ASSERT(x);
	TEST_EQ(X509_digest(x, EVP_sha256(), fp, &n), 1);
	TEST_EQ(n, 32);
	return 0;
}

int test_sfu_dtls_handshake(void)
{
	struct scene e;
	struct tlink l;
	struct tlink_opts o = { .profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
				.client_rto_ms = 10 };
	struct sfu_transport *pub, *sub;
	struct dtls_srtp_keys k;
	uint8_t fp[32], b[PKT];
	size_t n;
	struct rtp_hdr h;

	TEST_EQ(scene_pub_sub(&e, &pub, &sub), 0);
	/* the subscriber gets its keys from a real handshake instead */
	srtps_free(sub->srtp);
	sub->srtp = NULL;
	srtps_free(e.b[SUB]);
	e.b[SUB] = NULL;
	TEST_EQ(tlink_open(&l, &o), 0);
	TEST_EQ(client_fp(&l, fp), 0);
	TEST_ASSERT(sub->dtls == NULL);
	/* DTLS before the fingerprint is known (the browser's answer is
	 * still on its way): held, nothing answered yet */
	dtls_exchange(&e, &l, SUB, 1);
	TEST_ASSERT(sub->dtls == NULL);
	TEST_EQ(e.w->c.dtls_early, 1);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	/* its retransmission takes the place of the first: one is held */
	TEST_EQ(tlink_client_retransmit(&l, 1000), 1);
	dtls_exchange(&e, &l, SUB, 1);
	TEST_EQ(e.w->c.dtls_early, 2);
	TEST_ASSERT(sub->early_dtls != NULL);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));
	/* the fingerprint arrives: the held ClientHello is answered at once,
	 * without waiting for another retransmission */
	sfu__transport_remote_fp(e.w, TP_SUB, fp);
	TEST_ASSERT(sub->dtls != NULL);
	TEST_ASSERT(sub->early_dtls == NULL);
	sfu__flush(e.w);
	n = 0;
	{
		long r;
		while ((r = scene_recv_wait(e.fd[SUB], b, sizeof(b), 50)) > 0) {
			BIO_write(l.crb, b, (int)r);
			n++;
		}
	}
	TEST_ASSERT(n > 0);
	dtls_exchange(&e, &l, SUB, 6);
	TEST_ASSERT(SSL_is_init_finished(l.cli));
	TEST_EQ(dtls_conn_state(sub->dtls), DTLS_STATE_CONNECTED);
	TEST_ASSERT(sub->srtp != NULL);
	TEST_EQ(e.w->c.dtls_connected, 1);
	{
		/* one "connected" (the subscription also reported the layer
		 * its video starts at: SFU_EV_QUALITY) */
		size_t nev = scene_poll_events(&e), connected = 0;
		for (size_t i = 0; i < nev; i++)
			if (e.ev[i].type == SFU_EV_CONNECTED) {
				TEST_EQ(e.ev[i].transport, TP_SUB);
				connected++;
			} else {
				TEST_EQ(e.ev[i].type, SFU_EV_QUALITY);
			}
		TEST_EQ(connected, 1);
	}
	TEST_EQ(tlink_client_keys(&l, &k), 0);
	TEST_EQ(k.profile, DTLS_SRTP_AEAD_AES_128_GCM);
	TEST_EQ(srtps_new(&k, false, &e.b[SUB]), 0);
	dtls_srtp_keys_wipe(&k);
	/* media flows with the negotiated keys */
	{
		struct scene_rtp r = scene_rtp_video(77, 1234, 300);
		TEST_EQ(scene_send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	TEST_EQ(scene_recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_EQ(h.payload_len, 300);
	/* more DTLS after the handshake changes nothing */
	dtls_exchange(&e, &l, SUB, 1);
	TEST_EQ(scene_poll_events(&e), 0);
	TEST_EQ(e.w->c.dtls_connected, 1);
	/* the transport ticks without firing DTLS timers */
	sfu__transports_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 0);
	/* close: the client hears close_notify */
	sfu__transport_close(e.w, TP_SUB);
	sfu__flush(e.w);
	TEST_ASSERT(scene_recv_wait(e.fd[SUB], b, sizeof(b), 200) > 0);
	TEST_EQ(b[0], 21); /* an alert record */
	tlink_close(&l);
	scene_close(&e);
	return 0;
}

int test_sfu_dtls_wrong_fingerprint(void)
{
	struct scene e;
	struct tlink l;
	struct tlink_opts o = { .profiles = "SRTP_AEAD_AES_128_GCM" };
	struct sfu_transport *t;
	uint8_t fp[32];

	TEST_EQ(scene_open(&e), 0);
	t = scene_open_tp(&e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	TEST_EQ(tlink_open(&l, &o), 0);
	TEST_EQ(client_fp(&l, fp), 0);
	fp[31] ^= 0x80;
	sfu__transport_remote_fp(e.w, TP_SUB, fp);
	TEST_EQ(scene_ice(&e, SUB, SUB_UFRAG, SUB_PWD, true), 0);
	TEST_ASSERT(t->dtls);
	dtls_exchange(&e, &l, SUB, 6);
	TEST_EQ(dtls_conn_state(t->dtls), DTLS_STATE_FAILED);
	TEST_ASSERT(t->srtp == NULL);
	TEST_EQ(e.w->c.dtls_failed, 1);
	TEST_EQ(scene_poll_events(&e), 1);
	TEST_EQ(e.ev[0].type, SFU_EV_FAILED);
	TEST_EQ(e.ev[0].transport, TP_SUB);
	/* once */
	dtls_exchange(&e, &l, SUB, 1);
	sfu__transports_tick(e.w);
	TEST_EQ(scene_poll_events(&e), 0);
	tlink_close(&l);
	scene_close(&e);
	return 0;
}

/* The browser runs its handshake on the pair it nominated, which need not
 * be where its first check came from: DTLS from the candidate is answered
 * there, and the completed handshake moves the path. Then a new
 * connection from that same address (another transport, no keys yet)
 * takes it from the first only by completing its own handshake. */
int test_sfu_dtls_at_candidate(void)
{
	struct scene e;
	struct tlink l, l2;
	struct tlink_opts o = { .profiles = "SRTP_AEAD_AES_128_GCM",
				.client_rto_ms = 10 };
	struct sfu_transport *sub, *sub2;
	uint8_t fp[32];

	TEST_EQ(scene_open(&e), 0);
	sub = scene_open_tp(&e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	TEST_ASSERT(sub);
	TEST_EQ(tlink_open(&l, &o), 0);
	TEST_EQ(client_fp(&l, fp), 0);
	sfu__transport_remote_fp(e.w, TP_SUB, fp);
	TEST_EQ(scene_ice(&e, SUB, SUB_UFRAG, SUB_PWD, false), 0);
	TEST_ASSERT(scene_peer_is(sub, &e, SUB));
	TEST_ASSERT(sub->dtls != NULL);
	TEST_EQ(scene_ice(&e, STRANGER, SUB_UFRAG, SUB_PWD, true), 0);
	TEST_ASSERT(scene_peer_is(sub, &e, SUB) && sub->have_cand);
	dtls_exchange(&e, &l, STRANGER, 6);
	TEST_ASSERT(SSL_is_init_finished(l.cli));
	TEST_ASSERT(sub->srtp != NULL);
	TEST_ASSERT(scene_peer_is(sub, &e, STRANGER));
	TEST_ASSERT(!sub->have_cand);
	TEST_EQ(e.w->c.ice_moves, 1);
	TEST_ASSERT(scene_quiet(e.fd[SUB]));

	/* a second transport nominates the same address */
	sub2 = scene_open_tp(&e, TP_SUB2, false, SUB2_UFRAG, SUB2_PWD);
	TEST_ASSERT(sub2);
	TEST_EQ(tlink_open(&l2, &o), 0);
	TEST_EQ(client_fp(&l2, fp), 0);
	sfu__transport_remote_fp(e.w, TP_SUB2, fp);
	TEST_EQ(scene_ice(&e, STRANGER, SUB2_UFRAG, SUB2_PWD, true), 0);
	TEST_ASSERT(!sub2->have_peer && sub2->have_cand);
	TEST_ASSERT(scene_peer_is(sub, &e, STRANGER) && sub->contested);
	dtls_exchange(&e, &l2, STRANGER, 6);
	TEST_ASSERT(SSL_is_init_finished(l2.cli));
	TEST_ASSERT(sub2->srtp != NULL);
	TEST_ASSERT(scene_peer_is(sub2, &e, STRANGER));
	TEST_ASSERT(!sub->have_peer);
	TEST_EQ(e.w->c.ice_moves, 2);
	TEST_EQ(e.w->c.dtls_connected, 2);
	tlink_close(&l2);
	tlink_close(&l);
	scene_close(&e);
	return 0;
}
