/*
 * test_send — the worker's send path (sfu__send_slot / sfu__send_commit /
 * sfu__flush in worker.c): a batch written in forwarding order, with
 * several destinations interleaved and runs of equal, shorter and longer
 * datagrams, must arrive complete, byte for byte, and in order per
 * destination, whether the kernel gets it one datagram per message or as
 * UDP GSO runs. Between RTP streams to one destination the order may
 * change in one way only: a shorter packet of one stream sent as the last
 * datagram of another stream's run (test_send_tuck).
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sfu/sfu_int.h"
#include "sfu_scene.h"

enum {
	DESTS = 3,
	MAX_PER_DEST = SFU_SEND_BATCH,
	WAIT_MS = 1000,         /* for a datagram on loopback */
};

/* Datagram k of the batch: its index in the first two bytes, then a
 * pattern, len bytes in all. */
static void fill(uint8_t *p, unsigned k, size_t len)
{
	size_t i;

	p[0] = (uint8_t)(k >> 8);
	p[1] = (uint8_t)k;
	for (i = 2; i < len; i++)
		p[i] = (uint8_t)(k * 31 + i);
}

/* Sends the batch described by dest[] and len[] in one flush and checks
 * what each destination receives. */
static int batch(struct sfu_worker *w, const int *rx,
		 const struct sockaddr_storage *addr, socklen_t alen,
		 const unsigned *dest, const size_t *len, unsigned n)
{
	unsigned want[DESTS][MAX_PER_DEST], nwant[DESTS] = { 0 };
	uint8_t b[SFU_MTU + 1], expect[SFU_MTU];
	unsigned k, d, i;
	long got;

	for (k = 0; k < n; k++) {
		uint8_t *slot = sfu__send_slot(w);
		TEST_ASSERT(slot != NULL);
		fill(slot, k, len[k]);
		sfu__send_commit(w, &addr[dest[k]], alen, len[k]);
		TEST_ASSERT(nwant[dest[k]] < MAX_PER_DEST);
		want[dest[k]][nwant[dest[k]]++] = k;
	}
	sfu__flush(w);
	TEST_EQ(w->nsend, 0u);
	for (d = 0; d < DESTS; d++) {
		for (i = 0; i < nwant[d]; i++) {
			k = want[d][i];
			got = scene_recv_wait(rx[d], b, sizeof(b), WAIT_MS);
			TEST_EQ(got, (long)len[k]);
			fill(expect, k, len[k]);
			TEST_MEMEQ(b, expect, len[k]);
		}
		/* nothing more, nothing twice */
		TEST_EQ(recv(rx[d], b, sizeof(b), MSG_DONTWAIT), -1);
		TEST_EQ(errno, EAGAIN);
	}
	return 0;
}

int test_send_batches(void)
{
	struct sockaddr_storage addr[DESTS];
	socklen_t alen = 0;
	struct sfu_worker *w = calloc(1, sizeof(*w));
	int rx[DESTS], d;
	unsigned dest[SFU_SEND_BATCH], k, n;
	size_t len[SFU_SEND_BATCH];
	uint64_t errs;

	TEST_ASSERT(w != NULL);
	w->fd = scene_udp_bind(NULL, NULL);
	TEST_ASSERT(w->fd >= 0);
	for (d = 0; d < DESTS; d++) {
		rx[d] = scene_udp_bind(&addr[d], &alen);
		TEST_ASSERT(rx[d] >= 0);
	}

	/* a fan-out: 5 packets of a frame, each copied to 3 subscribers;
	 * sizes equal, then shorter (ends a run), then longer (starts one) */
	{
		static const size_t frame[] = { 1100, 1100, 1100, 900, 1200 };
		n = 0;
		for (k = 0; k < 5; k++)
			for (d = 0; d < DESTS; d++) {
				dest[n] = (unsigned)d;
				len[n++] = frame[k] + (d == 2 ? 16 : 0);
			}
		TEST_EQ(batch(w, rx, addr, alen, dest, len, n), 0);
	}
	/* one destination, more equal datagrams than one GSO send holds,
	 * then single datagrams everywhere */
	n = 0;
	for (k = 0; k < 70; k++) {
		dest[n] = 1;
		len[n++] = 1216;
	}
	for (d = 0; d < DESTS; d++) {
		dest[n] = (unsigned)d;
		len[n++] = 60 + (size_t)d;
	}
	TEST_EQ(batch(w, rx, addr, alen, dest, len, n), 0);
	/* a full batch: sfu__send_slot flushes by itself on the last one */
	n = 0;
	for (k = 0; k < SFU_SEND_BATCH; k++) {
		dest[n] = k % 7 == 0 ? 0 : 2;
		len[n++] = k % 7 == 0 ? 200 : 1000 - (k % 3);
	}
	TEST_EQ(batch(w, rx, addr, alen, dest, len, n), 0);
	/* a single datagram */
	dest[0] = 0;
	len[0] = 1;
	TEST_EQ(batch(w, rx, addr, alen, dest, len, 1), 0);

	/* a refused destination costs its datagrams, not the batch's */
	errs = w->c.send_errors;
	{
		struct sockaddr_storage bad;
		struct sockaddr_in *sin = (struct sockaddr_in *)&bad;
		uint8_t b[64];

		memset(&bad, 0, sizeof(bad));
		sin->sin_family = AF_INET;
		sin->sin_port = 0;     /* port 0: EINVAL from the kernel */
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		for (k = 0; k < 3; k++) {
			fill(sfu__send_slot(w), k, 100);
			sfu__send_commit(w, k == 1 ? &bad : &addr[0], alen, 100);
		}
		sfu__flush(w);
		TEST_EQ(scene_recv_wait(rx[0], b, sizeof(b), WAIT_MS), 64);   /* truncated read */
		TEST_EQ(scene_recv_wait(rx[0], b, sizeof(b), WAIT_MS), 64);
		TEST_EQ(b[1], 2);
		TEST_EQ(w->c.send_errors, errs + 1);
	}

	for (d = 0; d < DESTS; d++)
		close(rx[d]);
	close(w->fd);
	free(w);
	return 0;
}

/* An RTP-shaped datagram (RTCP if rtcp): packet k of the batch carries k
 * in the sequence number field, the SSRC after it, then a pattern. */
struct dgram {
	size_t len;
	uint32_t ssrc;
	bool rtcp;
};

static void fill_rtp(uint8_t *p, unsigned k, const struct dgram *d)
{
	fill(p, k, d->len);
	p[0] = 0x80;
	p[1] = d->rtcp ? 200 : 96;       /* RFC 5761 §4: 200 is an SR */
	p[2] = (uint8_t)(k >> 8);
	p[3] = (uint8_t)k;
	p[8] = (uint8_t)(d->ssrc >> 24);
	p[9] = (uint8_t)(d->ssrc >> 16);
	p[10] = (uint8_t)(d->ssrc >> 8);
	p[11] = (uint8_t)d->ssrc;
}

/* Sends d[0..n) to one destination in one flush; it must arrive whole in
 * the order order[], in `messages` sendmmsg messages. */
static int tuck_case(struct sfu_worker *w, int rx,
		     const struct sockaddr_storage *addr, socklen_t alen,
		     const struct dgram *d, unsigned n, const unsigned *order,
		     unsigned messages, unsigned tucked)
{
	uint8_t b[SFU_MTU + 1], expect[SFU_MTU];
	uint64_t msgs = w->c.send_messages, tucks = w->c.gso_tucked;
	unsigned k;

	for (k = 0; k < n; k++) {
		fill_rtp(sfu__send_slot(w), k, &d[k]);
		sfu__send_commit(w, addr, alen, d[k].len);
	}
	sfu__flush(w);
	TEST_EQ(w->c.send_messages - msgs, messages);
	TEST_EQ(w->c.gso_tucked - tucks, tucked);
	for (k = 0; k < n; k++) {
		unsigned i = order[k];
		TEST_EQ(scene_recv_wait(rx, b, sizeof(b), WAIT_MS), (long)d[i].len);
		fill_rtp(expect, i, &d[i]);
		TEST_MEMEQ(b, expect, d[i].len);
	}
	TEST_EQ(recv(rx, b, sizeof(b), MSG_DONTWAIT), -1);
	return 0;
}

int test_send_tuck(void)
{
	struct sockaddr_storage addr;
	socklen_t alen = 0;
	struct sfu_worker *w = calloc(1, sizeof(*w));
	int rx;
	enum { A = 0xa0d10, V = 0x71de0, X = 0x5c4ee };

	TEST_ASSERT(w != NULL);
	w->fd = scene_udp_bind(NULL, NULL);
	TEST_ASSERT(w->fd >= 0);
	rx = scene_udp_bind(&addr, &alen);
	TEST_ASSERT(rx >= 0);

	/* audio, then a video frame: the audio ends the frame's run */
	{
		const struct dgram d[] = { { 120, A, false }, { 1200, V, false },
					   { 1200, V, false }, { 1200, V, false } };
		const unsigned order[] = { 1, 2, 3, 0 };
		TEST_EQ(tuck_case(w, rx, &addr, alen, d, 4, order, 1, 1), 0);
	}
	/* ... and before a longer datagram, which starts a message anyway */
	{
		const struct dgram d[] = { { 120, A, false }, { 1200, V, false },
					   { 1200, V, false }, { 1300, X, false } };
		const unsigned order[] = { 1, 2, 0, 3 };
		TEST_EQ(tuck_case(w, rx, &addr, alen, d, 4, order, 2, 1), 0);
	}
	/* never behind a packet of its own stream */
	{
		const struct dgram d[] = { { 120, V, false }, { 1200, A, false },
					   { 1200, V, false } };
		const unsigned order[] = { 0, 1, 2 };
		TEST_EQ(tuck_case(w, rx, &addr, alen, d, 3, order, 2, 0), 0);
	}
	/* not when the run has a shorter last datagram already */
	{
		const struct dgram d[] = { { 120, A, false }, { 1200, V, false },
					   { 1200, V, false }, { 1100, X, false } };
		const unsigned order[] = { 0, 1, 2, 3 };
		TEST_EQ(tuck_case(w, rx, &addr, alen, d, 4, order, 2, 0), 0);
	}
	/* nor RTCP, nor a datagram that is not shorter */
	{
		const struct dgram d[] = { { 120, A, true }, { 1200, V, false },
					   { 1200, X, false }, { 1200, V, false } };
		const unsigned order[] = { 0, 1, 2, 3 };
		TEST_EQ(tuck_case(w, rx, &addr, alen, d, 4, order, 2, 0), 0);
	}
	/* audio of two streams, the second longer: the first ends its run */
	{
		const struct dgram d[] = { { 110, A, false }, { 120, X, false },
					   { 1200, V, false }, { 1200, V, false } };
		const unsigned order[] = { 1, 0, 2, 3 };
		TEST_EQ(tuck_case(w, rx, &addr, alen, d, 4, order, 2, 1), 0);
	}

	close(rx);
	close(w->fd);
	free(w);
	return 0;
}
