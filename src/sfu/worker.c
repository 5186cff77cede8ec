/*
 * worker — media worker threads: socket, event loop, batches, queues.
 *
 * The loop of one worker:
 *
 *   epoll_wait(socket, command eventfd; timeout = next tick)
 *     socket readable  -> recvmmsg up to SFU_RECV_BATCH datagrams, handle
 *                         each (transport.c), read once more if they made
 *                         many (receive), copy the video they brought to
 *                         one subscriber after another (sfu__fanout), and
 *                         sendmmsg what they produced (every SFU_SEND_EARLY
 *                         datagrams between two subscribers, and at the end)
 *     eventfd          -> run the queued commands of the control plane
 *     tick (sfu__tick) -> DTLS retransmissions, ICE consent, key frame
 *                         requests, NACKs, reports, counters: every
 *                         10 ms while one of the short timers waits,
 *                         else every 50 ms
 *
 * Outgoing datagrams are written straight into the next free slot of the
 * send batch (sfu__send_slot / sfu__send_commit), so forwarding copies a
 * packet once per subscriber (and a video packet once more, into the
 * queue it waits in for sfu__fanout) and allocates nothing. The batch is
 * flushed when full, in a fan-out once it holds SFU_SEND_EARLY datagrams,
 * and at the end of every receive batch or tick.
 *
 * Timers of a worker (all driven by the tick):
 *   DTLS retransmission  per transport, from OpenSSL's timer
 *   ICE consent          per transport, media_timeout without a valid check
 *   key frame requests   per track, coalesced to one per SFU_PLI_INTERVAL_MS
 *   reports              every SFU_REPORT_MS: RR to publishers, SR to subscribers
 */
#include "sfu/sfu_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "dtls/dtls.h"
#include "metrics/metrics.h"
#include "srtp/srtp_session.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/ratelimit.h"
#include "util/srclimit.h"

enum {
	SFU_SOCK_BUF = 4 << 20,   /* socket buffers: absorb bursts of a tick */
	SFU_EVENTS_MAX = 4096,    /* undelivered events kept before dropping */
};

enum cmd_type {
	CMD_OPEN,
	CMD_CLOSE,
	CMD_REMOTE_FP,
	CMD_ICE_RESTART,
	CMD_TRACK_ADD,
	CMD_TRACK_REMOVE,
	CMD_SUB,
	CMD_UNSUB,
	CMD_KEYFRAME,
	CMD_VIEW,
};

struct sfu_cmd {
	struct sfu_cmd *next;
	enum cmd_type type;
	union {
		struct sfu_transport_params tp;
		struct sfu_track_params track;
		struct sfu_sub_params sub;
		struct {
			uint32_t a, b;
			int32_t c;
			uint8_t fp[32];
			char ufrag[SFU_UFRAG_LEN + 1];
			char pwd[SFU_PWD_LEN + 1];
		} x;
	} u;
};

struct sfu {
	const struct conf *conf;
	struct sfu_worker *w[SFU_MAX_WORKERS];
	unsigned n;
	char addr_text[SFU_MAX_ADDRS][64];
	const char *addrs[SFU_MAX_ADDRS];
	size_t naddrs;
	sfu_event_h *h;
	void *arg;
	void (*wake)(void *arg);
	pthread_mutex_t ev_lock;
	struct sfu_event ev[SFU_EVENTS_MAX];
	size_t nev;
	uint64_t events, ev_dropped, wakes;   /* under ev_lock */
};

/* ---- sending ------------------------------------------------------------ */

uint8_t *sfu__send_slot(struct sfu_worker *w)
{
	if (w->nsend == SFU_SEND_BATCH)
		sfu__flush(w);
	return w->sbuf[w->nsend];
}

void sfu__send_commit(struct sfu_worker *w, const struct sockaddr_storage *to,
		      socklen_t tolen, size_t len)
{
	unsigned i = w->nsend;

	memcpy(&w->saddr[i], to, tolen);
	w->siov[i].iov_base = w->sbuf[i];
	w->siov[i].iov_len = len;
	w->smsg[i].msg_hdr.msg_name = &w->saddr[i];
	w->smsg[i].msg_hdr.msg_namelen = tolen;
	w->smsg[i].msg_hdr.msg_iov = &w->siov[i];
	w->smsg[i].msg_hdr.msg_iovlen = 1;
	w->send_rx_ns[i] = w->cur_rx_ns;
	w->nsend++;
	w->c.tx_packets++;
	w->c.tx_bytes += len;
}

/* A copy of the datagram just queued for t (or, without an address, in
 * the slot) for its candidate, while the candidate's byte budget allows
 * (SFU_CAND_RATE: transport.c says why). */
static void copy_to_cand(struct sfu_worker *w, struct sfu_transport *t,
			 size_t len)
{
	struct bucket *b = &t->cand_budget;
	const uint8_t *src;

	if (b->last_ms == 0) {
		b->tokens = SFU_CAND_BURST;
		b->last_ms = w->now;
	} else if (w->now > b->last_ms) {
		b->tokens += (double)(w->now - b->last_ms) * SFU_CAND_RATE / 1000.0;
		if (b->tokens > SFU_CAND_BURST)
			b->tokens = SFU_CAND_BURST;
		b->last_ms = w->now;
	}
	if (b->tokens < (double)len)
		return;
	b->tokens -= (double)len;
	w->c.ice_cand_copies++;
	if (!t->have_peer) {
		sfu__send_commit(w, &t->cand, t->candlen, len);
		return;
	}
	src = w->sbuf[w->nsend - 1];
	if (w->nsend == SFU_SEND_BATCH) {
		/* the batch is full: it goes first, the copy opens the next */
		uint8_t tmp[SFU_MTU];
		memcpy(tmp, src, len);
		memcpy(sfu__send_slot(w), tmp, len);
	} else {
		memcpy(sfu__send_slot(w), src, len);
	}
	sfu__send_commit(w, &t->cand, t->candlen, len);
}

void sfu__send_to(struct sfu_worker *w, struct sfu_transport *t, size_t len)
{
	if (t->have_peer)
		sfu__send_commit(w, &t->peer, t->peerlen, len);
	/* (a transport with keys only: before its handshake, DTLS goes
	 * where the browser runs it, transport.c) */
	if (t->have_cand && t->srtp)
		copy_to_cand(w, t, len);
}

/*
 * UDP GSO (UDP_SEGMENT, Linux 4.18): one sendmmsg message may carry several
 * datagrams to one destination if all have the same size, except the last,
 * which may be shorter; the kernel splits it into datagrams after routing
 * once. The batch is in forwarding order (each incoming packet copied to
 * every subscriber in turn), so a flush regroups it by destination,
 * keeping each destination's order, and cuts each destination's datagrams
 * into such runs. If the kernel refuses a segmented message (EIO: no
 * checksum offload on the route's device), GSO is turned off for the
 * worker and the datagrams go one per message. A kernel older than 4.18
 * would ignore the option and send a run as one large datagram, so the
 * first flush checks that the socket knows UDP_SEGMENT.
 */
enum {
	GSO_MAX_SEGS = 32,           /* 32 x SFU_MTU < 64 KiB, one UDP send */
	GSO_HASH_BITS = 11,
	GSO_HASH = 1 << GSO_HASH_BITS, /* >= 2 x SFU_SEND_BATCH destinations */
	GSO_NONE = 0xffff,
};
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103              /* linux/udp.h */
#endif

/* Scratch for one flush; each worker thread flushes its own batch. */
static _Thread_local struct {
	struct mmsghdr msg[SFU_SEND_BATCH];
	struct iovec iov[SFU_SEND_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[SFU_SEND_BATCH];
	struct mmsghdr rest[SFU_SEND_BATCH]; /* after a refusal: one each */
	uint16_t segs[SFU_SEND_BATCH];   /* datagrams in message i */
	uint16_t iov0[SFU_SEND_BATCH];   /* its first entry in iov[] */
	uint16_t slot[SFU_SEND_BATCH];   /* iov[k] is the batch's datagram slot[k] */
	uint16_t next[SFU_SEND_BATCH];   /* next datagram to the same peer */
	uint16_t chain[SFU_SEND_BATCH];  /* one peer's datagrams, in order */
	bool first[SFU_SEND_BATCH];      /* the first datagram to its peer */
	uint16_t head[GSO_HASH], tail[GSO_HASH];
} gso;

static size_t gso_hash(const struct sockaddr_storage *a, socklen_t len)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)a;
	const uint8_t *p = (const uint8_t *)a;
	uint32_t h = 2166136261u;      /* FNV-1a */
	socklen_t i;

	if (a->ss_family == AF_INET && len == sizeof(*in)) {
		/* Fibonacci hashing of address and port */
		h = in->sin_addr.s_addr ^ ((uint32_t)in->sin_port << 16);
		return (h * 2654435761u) >> (32 - GSO_HASH_BITS);
	}
	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (GSO_HASH - 1);
}

/* The SSRC of the RTP datagram in slot k (SRTP leaves the header clear);
 * false for anything else: RTCP (RFC 5761 §4), STUN, DTLS. */
static bool slot_rtp_ssrc(const struct sfu_worker *w, unsigned k,
			  uint32_t *ssrc)
{
	const uint8_t *p = w->siov[k].iov_base;
	size_t len = w->siov[k].iov_len;

	if (len < RTP_HDR_LEN || (p[0] >> 6) != RTP_VERSION ||
	    rtp_is_rtcp(p, len))
		return false;
	*ssrc = get_u32(p + 8);
	return true;
}

/* A message of one destination's datagrams c[0..n) (forwarding order)
 * starts at c[e]. If c[e] is an RTP datagram followed by a run of longer,
 * equal-size ones, none of its own stream, and nothing shorter follows
 * the run (which would have been its last segment), c[e] goes after the
 * run, as its short last segment: one message instead of two. Audio,
 * copied at once, comes before the video that a fan-out copies later in
 * the same batch; this is where the two meet. Only streams change places,
 * never the packets of one stream, and all leave in the same sendmmsg. */
static void gso_tuck(struct sfu_worker *w, uint16_t *c, unsigned e,
		     unsigned n)
{
	uint16_t t = c[e];
	uint32_t ssrc, other;
	unsigned r, k;
	size_t seg;

	if (e + 1 >= n)
		return;
	seg = w->siov[c[e + 1]].iov_len;
	if (w->siov[t].iov_len >= seg || !slot_rtp_ssrc(w, t, &ssrc))
		return;
	for (r = e + 1; r < n && r - e < GSO_MAX_SEGS &&
			w->siov[c[r]].iov_len == seg; r++)
		if (slot_rtp_ssrc(w, c[r], &other) && other == ssrc)
			return;
	if (r < n && w->siov[c[r]].iov_len <= seg)
		return;   /* a full run, or a shorter one ends it */
	for (k = e; k + 1 < r; k++)
		c[k] = c[k + 1];
	c[r - 1] = t;
	w->c.gso_tucked++;
}

/* Builds gso.msg from the batch; returns the number of messages. */
static unsigned gso_build(struct sfu_worker *w)
{
	unsigned i, j, k, n, e, nmsg = 0, niov = 0;
	size_t h;

	for (h = 0; h < GSO_HASH; h++)
		gso.head[h] = GSO_NONE;
	/* chain each destination's datagrams in order (open addressing on
	 * the first datagram of each destination) */
	for (i = 0; i < w->nsend; i++) {
		socklen_t len = w->smsg[i].msg_hdr.msg_namelen;
		gso.next[i] = GSO_NONE;
		gso.first[i] = false;
		for (h = gso_hash(&w->saddr[i], len);; h = (h + 1) & (GSO_HASH - 1)) {
			j = gso.head[h];
			if (j == GSO_NONE) {
				gso.head[h] = gso.tail[h] = (uint16_t)i;
				gso.first[i] = true;
				break;
			}
			if (w->smsg[j].msg_hdr.msg_namelen == len &&
			    memcmp(&w->saddr[j], &w->saddr[i], len) == 0) {
				gso.next[gso.tail[h]] = (uint16_t)i;
				gso.tail[h] = (uint16_t)i;
				break;
			}
		}
	}
	/* destinations in order of their first datagram, each chain cut
	 * into runs */
	for (i = 0; i < w->nsend; i++) {
		if (!gso.first[i])
			continue;
		n = 0;
		for (j = i; j != GSO_NONE; j = gso.next[j])
			gso.chain[n++] = (uint16_t)j;
		for (e = 0; e < n;) {
			struct msghdr *m = &gso.msg[nmsg].msg_hdr;
			size_t seg;

			gso_tuck(w, gso.chain, e, n);
			j = gso.chain[e];
			seg = w->siov[j].iov_len;
			memset(m, 0, sizeof(*m));
			m->msg_name = &w->saddr[j];
			m->msg_namelen = w->smsg[j].msg_hdr.msg_namelen;
			m->msg_iov = &gso.iov[niov];
			gso.iov0[nmsg] = (uint16_t)niov;
			k = 0;
			do {
				size_t len;

				j = gso.chain[e++];
				len = w->siov[j].iov_len;
				gso.slot[niov] = (uint16_t)j;
				gso.iov[niov++] = w->siov[j];
				k++;
				if (len < seg)
					break;   /* a shorter one ends the run */
			} while (e < n && k < GSO_MAX_SEGS &&
				 w->siov[gso.chain[e]].iov_len <= seg);
			m->msg_iovlen = k;
			gso.segs[nmsg] = (uint16_t)k;
			if (k > 1) {
				struct cmsghdr *c;
				uint16_t size = (uint16_t)seg;

				m->msg_control = gso.ctl[nmsg].buf;
				m->msg_controllen = sizeof(gso.ctl[nmsg].buf);
				c = CMSG_FIRSTHDR(m);
				c->cmsg_level = SOL_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(size));
				memcpy(CMSG_DATA(c), &size, sizeof(size));
			}
			nmsg++;
		}
	}
	return nmsg;
}

/* Upper bounds of conclave_media_forward_delay_seconds' buckets, µs: fine
 * between 0.5 and 25 ms, where a busy worker's delays lie (a quantile is
 * read by interpolating inside its bucket; with one bucket from 10 to
 * 25 ms a p99 of about 14 ms read as 22-24, docs/benchmarks.md). */
static const uint32_t delay_le_us[SFU_DELAY_BUCKETS] = {
	25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000,
	6000, 8000, 10000, 12500, 15000, 20000, 25000, 50000, 100000,
	250000, 1000000,
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* After a flush: how long each datagram sent because of one received
 * (forwarded RTP, retransmissions, answers) spent in the server, from the
 * kernel's receive timestamp to the end of the send. */
static void account_delay(struct sfu_worker *w)
{
	uint64_t now = 0;

	for (unsigned i = 0; i < w->nsend; i++) {
		uint64_t rx = w->send_rx_ns[i], ns;
		unsigned k = 0;

		if (!rx)
			continue;
		if (!now)
			now = realtime_ns();
		ns = now > rx ? now - rx : 0;  /* the two clocks are one, but
						* CLOCK_REALTIME may step */
		while (k < SFU_DELAY_BUCKETS && ns / 1000 > delay_le_us[k])
			k++;
		w->delay[k]++;
		w->delay_sum_ns += ns;
	}
}

/* The kernel's receive time of a datagram (SO_TIMESTAMPNS), 0 if none. */
static uint64_t rx_time_ns(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		}
	}
	return 0;
}

void sfu__flush(struct sfu_worker *w)
{
	struct mmsghdr *msg = w->smsg;
	unsigned off = 0, nmsg = w->nsend, i;
	int n;

	if (!w->gso_probed) {
		int none = 0;   /* no default segment size for the socket */

		w->gso_probed = true;
		if (setsockopt(w->fd, SOL_UDP, UDP_SEGMENT, &none, sizeof(none)) != 0)
			w->gso_off = true;
	}
	if (w->nsend > 1 && !w->gso_off) {
		nmsg = gso_build(w);
		msg = gso.msg;
	}
	while (off < nmsg) {
		n = sendmmsg(w->fd, msg + off, nmsg - off, 0);
		w->c.sendmmsg_calls++;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EIO && msg == gso.msg && gso.segs[off] > 1) {
				/* no GSO on this route: what is left of the batch
				 * goes one datagram per message, and so do later
				 * batches */
				unsigned k = 0, e;

				w->gso_off = true;
				log_warn("sfu", "UDP GSO refused; one datagram per message from now on");
				for (i = off; i < nmsg; i++)
					for (e = 0; e < gso.segs[i]; e++)
						gso.rest[k++] = w->smsg[gso.slot[gso.iov0[i] + e]];
				msg = gso.rest;
				off = 0;
				nmsg = k;
				continue;
			}
			/* EAGAIN (socket buffer full) or a bad destination:
			 * skip one message, keep the rest */
			w->c.send_errors += msg == gso.msg ? gso.segs[off] : 1;
			w->c.send_messages++;
			off++;
			continue;
		}
		off += (unsigned)n;
		w->c.send_messages += (unsigned)n;
	}
	account_delay(w);
	w->nsend = 0;
	w->flushes++;
}

/* ---- events to the control plane ---------------------------------------- */

void sfu__event(struct sfu_worker *w, enum sfu_event_type type, uint32_t id)
{
	sfu__event_level(w, type, id, 0, 0);
}

void sfu__event_level(struct sfu_worker *w, enum sfu_event_type type,
		      uint32_t id, uint32_t track, uint8_t loudness)
{
	struct sfu_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.transport = id;
	ev.track = track;
	ev.loudness = loudness;
	sfu__event_post(w, &ev);
}

void sfu__event_post(struct sfu_worker *w, const struct sfu_event *ev)
{
	struct sfu *s = w->sfu;
	bool first;

	/* Only the event that finds the queue empty wakes the control loop:
	 * until it drains the queue (sfu_poll_events), a wake-up is already
	 * on its way, and each one costs that thread a pass over its loop. */
	pthread_mutex_lock(&s->ev_lock);
	first = s->nev == 0;
	s->events++;
	if (s->nev < SFU_EVENTS_MAX)
		s->ev[s->nev++] = *ev;
	else
		s->ev_dropped++;
	if (first)
		s->wakes++;
	pthread_mutex_unlock(&s->ev_lock);
	if (first && s->wake)
		s->wake(s->arg);
}

void sfu_poll_events(struct sfu *s)
{
	struct sfu_event batch[64];
	size_t n, i;

	for (;;) {
		pthread_mutex_lock(&s->ev_lock);
		n = s->nev < 64 ? s->nev : 64;
		memcpy(batch, s->ev, n * sizeof(batch[0]));
		memmove(s->ev, s->ev + n, (s->nev - n) * sizeof(batch[0]));
		s->nev -= n;
		pthread_mutex_unlock(&s->ev_lock);
		if (!n)
			return;
		for (i = 0; i < n; i++)
			s->h(&batch[i], s->arg);
	}
}

/* ---- commands ----------------------------------------------------------- */

static int post(struct sfu *s, unsigned worker, struct sfu_cmd *c)
{
	struct sfu_worker *w;
	uint64_t one = 1;

	if (worker >= s->n) {
		free(c);
		return -EINVAL;
	}
	w = s->w[worker];
	c->next = NULL;
	pthread_mutex_lock(&w->lock);
	*w->cmd_tail = c;
	w->cmd_tail = &c->next;
	pthread_mutex_unlock(&w->lock);
	if (write(w->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static struct sfu_cmd *cmd_new(enum cmd_type type)
{
	struct sfu_cmd *c = calloc(1, sizeof(*c));
	if (c)
		c->type = type;
	return c;
}

int sfu_transport_open(struct sfu *s, unsigned worker,
		       const struct sfu_transport_params *p)
{
	struct sfu_cmd *c = cmd_new(CMD_OPEN);
	if (!c)
		return -ENOMEM;
	c->u.tp = *p;
	return post(s, worker, c);
}

int sfu_transport_remote_fp(struct sfu *s, unsigned worker, uint32_t id,
			    const uint8_t fp[32])
{
	struct sfu_cmd *c = cmd_new(CMD_REMOTE_FP);
	if (!c)
		return -ENOMEM;
	c->u.x.a = id;
	memcpy(c->u.x.fp, fp, 32);
	return post(s, worker, c);
}

int sfu_transport_ice_restart(struct sfu *s, unsigned worker, uint32_t id,
			      const char *ufrag, const char *pwd)
{
	struct sfu_cmd *c = cmd_new(CMD_ICE_RESTART);
	if (!c)
		return -ENOMEM;
	c->u.x.a = id;
	snprintf(c->u.x.ufrag, sizeof(c->u.x.ufrag), "%s", ufrag);
	snprintf(c->u.x.pwd, sizeof(c->u.x.pwd), "%s", pwd);
	return post(s, worker, c);
}

static int post_ids(struct sfu *s, unsigned worker, enum cmd_type type,
		    uint32_t a, uint32_t b)
{
	struct sfu_cmd *c = cmd_new(type);
	if (!c)
		return -ENOMEM;
	c->u.x.a = a;
	c->u.x.b = b;
	return post(s, worker, c);
}

int sfu_transport_close(struct sfu *s, unsigned worker, uint32_t id)
{
	return post_ids(s, worker, CMD_CLOSE, id, 0);
}

int sfu_track_add(struct sfu *s, unsigned worker,
		  const struct sfu_track_params *p)
{
	struct sfu_cmd *c = cmd_new(CMD_TRACK_ADD);
	if (!c)
		return -ENOMEM;
	c->u.track = *p;
	return post(s, worker, c);
}

int sfu_track_remove(struct sfu *s, unsigned worker, uint32_t transport,
		     uint32_t track)
{
	return post_ids(s, worker, CMD_TRACK_REMOVE, transport, track);
}

int sfu_subscribe(struct sfu *s, unsigned worker, const struct sfu_sub_params *p)
{
	struct sfu_cmd *c = cmd_new(CMD_SUB);
	if (!c)
		return -ENOMEM;
	c->u.sub = *p;
	return post(s, worker, c);
}

int sfu_unsubscribe(struct sfu *s, unsigned worker, uint32_t transport,
		    uint32_t track)
{
	return post_ids(s, worker, CMD_UNSUB, transport, track);
}

int sfu_request_keyframe(struct sfu *s, unsigned worker, uint32_t track,
			 bool now)
{
	return post_ids(s, worker, CMD_KEYFRAME, track, now);
}

int sfu_set_view(struct sfu *s, unsigned worker, uint32_t transport,
		 uint32_t track, int max_layer)
{
	struct sfu_cmd *c = cmd_new(CMD_VIEW);
	if (!c)
		return -ENOMEM;
	c->u.x.a = transport;
	c->u.x.b = track;
	c->u.x.c = max_layer;
	return post(s, worker, c);
}

static void run_commands(struct sfu_worker *w)
{
	struct sfu_cmd *c, *next;
	uint64_t v;

	if (read(w->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("sfu", "worker %u: eventfd read failed", w->index);
	pthread_mutex_lock(&w->lock);
	c = w->cmd_head;
	w->cmd_head = NULL;
	w->cmd_tail = &w->cmd_head;
	pthread_mutex_unlock(&w->lock);
	for (; c; c = next) {
		next = c->next;
		switch (c->type) {
		case CMD_OPEN:
			sfu__transport_open(w, &c->u.tp);
			break;
		case CMD_CLOSE:
			sfu__transport_close(w, c->u.x.a);
			break;
		case CMD_REMOTE_FP:
			sfu__transport_remote_fp(w, c->u.x.a, c->u.x.fp);
			break;
		case CMD_ICE_RESTART:
			sfu__transport_ice_restart(w, c->u.x.a, c->u.x.ufrag,
						   c->u.x.pwd);
			break;
		case CMD_TRACK_ADD:
			sfu__track_add(w, &c->u.track);
			break;
		case CMD_TRACK_REMOVE:
			sfu__track_remove(w, c->u.x.a, c->u.x.b);
			break;
		case CMD_SUB:
			sfu__subscribe(w, &c->u.sub);
			break;
		case CMD_UNSUB:
			sfu__unsubscribe(w, c->u.x.a, c->u.x.b);
			break;
		case CMD_KEYFRAME:
			sfu__request_keyframe(w, c->u.x.a, c->u.x.b != 0);
			break;
		case CMD_VIEW:
			sfu__set_view(w, c->u.x.a, c->u.x.b, c->u.x.c);
			break;
		}
		/* commands may carry ICE passwords */
		memset(c, 0, sizeof(*c));
		free(c);
	}
	sfu__flush(w);
}

/* ---- the loop ----------------------------------------------------------- */

/* Reads and handles datagrams, then sends what they made. A publisher's
 * frame arrives as a few datagrams sent back to back; in a fan-out the
 * worker is woken by the first and busy copying it to every subscriber
 * while the rest arrive. So a batch that made many datagrams (at least
 * SFU_LOOK_AGAIN, counting the copies of video still waiting for
 * sfu__fanout) is not sent before one more read: the rest of the frame
 * then joins the same fan-out, and each subscriber gets the frame as one
 * UDP GSO message instead of one message per packet. It costs one
 * recvmmsg (often empty) per such batch and delays the first packets by
 * the time the others take to handle. */
static void receive(struct sfu_worker *w)
{
	int n, i, rounds = 0;
	bool looked_again = false;

	w->defer = true;
	for (;;) {
		for (i = 0; i < SFU_RECV_BATCH; i++) {
			w->riov[i].iov_base = w->rbuf[i];
			w->riov[i].iov_len = SFU_MTU;
			memset(&w->rmsg[i].msg_hdr, 0, sizeof(w->rmsg[i].msg_hdr));
			w->rmsg[i].msg_hdr.msg_name = &w->raddr[i];
			w->rmsg[i].msg_hdr.msg_namelen = sizeof(w->raddr[i]);
			w->rmsg[i].msg_hdr.msg_iov = &w->riov[i];
			w->rmsg[i].msg_hdr.msg_iovlen = 1;
			w->rmsg[i].msg_hdr.msg_control = w->rctl[i].buf;
			w->rmsg[i].msg_hdr.msg_controllen = sizeof(w->rctl[i].buf);
		}
		n = recvmmsg(w->fd, w->rmsg, SFU_RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		w->c.recv_calls++;
		w->now_us = sfu__now_us();
		w->now = w->now_us / 1000;
		w->rt_now_ns = realtime_ns();
		for (i = 0; i < n; i++) {
			w->c.rx_packets++;
			w->c.rx_bytes += w->rmsg[i].msg_len;
			if (w->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			w->cur_rx_ns = rx_time_ns(&w->rmsg[i].msg_hdr);
			sfu__packet(w, &w->raddr[i], w->rmsg[i].msg_hdr.msg_namelen,
				    w->rbuf[i], w->rmsg[i].msg_len);
		}
		w->cur_rx_ns = 0;
		if (n == SFU_RECV_BATCH) {
			sfu__fanout(w);
			sfu__flush(w);
			/* yield to commands and timers after a while under load */
			if (++rounds == 64)
				break;
			continue;
		}
		if (looked_again || w->nsend + w->pend_copies < SFU_LOOK_AGAIN)
			break;
		looked_again = true;
	}
	w->defer = false;
	sfu__fanout(w);
	if (w->nsend)
		sfu__flush(w);
}

/* When the datagram being handled came in, on the clock of w->now_us: the
 * kernel's receive time (SO_TIMESTAMPNS) taken as its age at the read, so
 * that a worker busy with a fan-out, which reads the next datagrams late,
 * does not report its own lateness to publishers as delay on their path
 * (transport-cc feedback). Without a receive time, or with one that a
 * clock step made meaningless, the time of the read. */
uint64_t sfu__rx_us(const struct sfu_worker *w)
{
	uint64_t age_us;

	if (!w->cur_rx_ns || w->cur_rx_ns > w->rt_now_ns)
		return w->now_us;
	age_us = (w->rt_now_ns - w->cur_rx_ns) / 1000;
	if (age_us > SFU_RX_AGE_MAX_US || age_us > w->now_us)
		return w->now_us;
	return w->now_us - age_us;
}

uint64_t sfu__now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void publish_counters(struct sfu_worker *w)
{
	const uint64_t *c = (const uint64_t *)&w->c;
	const uint64_t *g = (const uint64_t *)&w->g;
	for (size_t i = 0; i < sizeof(w->c) / sizeof(uint64_t); i++)
		atomic_store_explicit(&w->pub[i], c[i], memory_order_relaxed);
	for (size_t i = 0; i < sizeof(w->g) / sizeof(uint64_t); i++)
		atomic_store_explicit(&w->gpub[i], g[i], memory_order_relaxed);
	for (size_t i = 0; i <= SFU_DELAY_BUCKETS; i++)
		atomic_store_explicit(&w->delay_pub[i], w->delay[i], memory_order_relaxed);
	atomic_store_explicit(&w->delay_pub[SFU_DELAY_BUCKETS + 1], w->delay_sum_ns,
			      memory_order_relaxed);
}

/* The next time of a periodic timer that fired at `now` (perhaps early,
 * perhaps late): one period after the time it was due, so that early and
 * late runs keep its rate, but never at once again. */
static uint64_t next_period(uint64_t due, uint64_t now, uint64_t period)
{
	return due + period > now ? due + period : now + period;
}

/* Every SFU_IDLE_TICK_MS, and every SFU_TICK_MS while a short timer
 * waits: on this machine a wake-up of the worker costs 10-20 us, and at
 * low rates the ticks were most of its wake-ups (docs/benchmarks.md).
 * `ahead` > 0 runs it that many milliseconds early: the periodic work due
 * by then is done now. */
int sfu__tick(struct sfu_worker *w, uint64_t ahead)
{
	bool soon;
	uint64_t next, due;

	soon = sfu__transports_tick(w);
	soon |= sfu__keyframes_tick(w);
	soon |= sfu__nack_tick(w);
	w->now_us = sfu__now_us();
	soon |= sfu__probe_tick(w);
	due = w->now + ahead;
	if (due >= w->next_alloc_ms) {
		w->next_alloc_ms = next_period(w->next_alloc_ms, w->now,
					       SFU_ALLOC_TICK_MS);
		sfu__alloc_tick(w);
	}
	if (due >= w->next_twcc_ms) {
		w->next_twcc_ms = next_period(w->next_twcc_ms, w->now, SFU_TWCC_MS);
		sfu__twcc_tick(w);
	}
	if (due >= w->next_level_ms) {
		w->next_level_ms = next_period(w->next_level_ms, w->now,
					       SFU_LEVEL_MS);
		sfu__levels_tick(w);
	}
	sfu__reports_due(w);
	sfu__flush(w);
	publish_counters(w);
	if (w->tap)
		fflush(w->tap);
	/* what the periodic work above armed counts as well (a probe the
	 * allocation started, a key frame request it held back) */
	soon |= w->tick_soon;
	w->tick_soon = false;
	if (soon)
		return SFU_TICK_MS;
	/* an early tick stands for the one it was due: the idle period
	 * counts from then (else every early tick would add one) */
	next = due + SFU_IDLE_TICK_MS;
	if (w->next_alloc_ms < next)
		next = w->next_alloc_ms;
	if (w->next_twcc_ms < next)
		next = w->next_twcc_ms;
	if (w->next_level_ms < next)
		next = w->next_level_ms;
	return next > w->now + SFU_TICK_MS ? (int)(next - w->now) : SFU_TICK_MS;
}

static void *worker_main(void *arg)
{
	struct sfu_worker *w = arg;
	struct epoll_event evs[4];
	uint64_t next_tick = now_ms();
	int n, i, timeout, period = SFU_TICK_MS;
	uint64_t rx, ahead;

	while (!atomic_load(&w->stop)) {
		w->now = now_ms();
		timeout = next_tick > w->now ? (int)(next_tick - w->now) : 0;
		n = epoll_wait(w->epfd, evs, 4, timeout);
		if (n < 0 && errno != EINTR)
			break;
		w->c.wakeups++;
		rx = w->c.rx_packets;
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == w->fd)
				receive(w);
			else if (evs[i].data.fd == w->evfd)
				run_commands(w);
		}
		w->now = now_ms();
		/* a packet or a command armed a short timer: tick soon */
		if (w->tick_soon && next_tick > w->now + SFU_TICK_MS)
			next_tick = w->now + SFU_TICK_MS;
		/* due, or an idle tick close enough to run in this wake-up
		 * for datagrams */
		ahead = next_tick > w->now ? next_tick - w->now : 0;
		if (ahead && (w->c.rx_packets == rx || period <= SFU_TICK_MS ||
			      w->tick_soon || ahead > SFU_TICK_AHEAD_MS))
			continue;
		if (ahead)
			w->c.ticks_early++;
		period = sfu__tick(w, ahead);
		next_tick = w->now + (uint64_t)period;
	}
	return NULL;
}

/* ---- life cycle --------------------------------------------------------- */

/* Binds a UDP socket on `bind_ip` ("": any) and `*port` (0: any free
 * port, written back). */
static int open_socket(const char *bind_ip, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, buf = SFU_SOCK_BUF;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	/* receive times for conclave_media_forward_delay_seconds (without
	 * them the histogram stays empty) */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(*port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind_ip[0] && inet_pton(AF_INET, bind_ip, &sin.sin_addr) != 1) {
		close(fd);
		return -EINVAL;
	}
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static void worker_free(struct sfu_worker *w)
{
	struct sfu_cmd *c, *n;

	if (!w)
		return;
	sfu__transports_free_all(w);
	for (c = w->cmd_head; c; c = n) {
		n = c->next;
		free(c);
	}
	if (w->tap)
		fclose(w->tap);
	if (w->fd >= 0)
		close(w->fd);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->evfd >= 0)
		close(w->evfd);
	dtls_ctx_free(w->dtls);
	srclimit_free(w->junk);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void sfu__worker_init(struct sfu_worker *w, struct sfu *s, unsigned index)
{
	w->sfu = s;
	w->index = index;
	w->fd = w->epfd = w->evfd = -1;
	w->cmd_tail = &w->cmd_head;
	w->media_timeout_ms = s->conf->media_timeout * 1000;
	w->cache_budget = (size_t)s->conf->media_cache_mib << 20;
	pthread_mutex_init(&w->lock, NULL);
}

static int worker_new(struct sfu *s, unsigned index, struct sfu_worker **out)
{
	struct sfu_worker *w = calloc(1, sizeof(*w));
	struct epoll_event ev;
	int rc;

	if (!w)
		return -ENOMEM;
	sfu__worker_init(w, s, index);
	w->port = s->conf->media_port
			  ? (uint16_t)(s->conf->media_port + (int)index)
			  : 0;
	if ((rc = dtls_ctx_new(&w->dtls)))
		goto fail;
	if ((rc = srclimit_new(SFU_JUNK_SLOTS, SFU_JUNK_RATE, SFU_JUNK_BURST,
			       &w->junk)))
		goto fail;
	w->fd = open_socket(s->conf->media_bind, &w->port);
	if (w->fd < 0) {
		rc = w->fd;
		log_error("sfu", "cannot bind UDP port %u: %s", w->port,
			  strerror(-rc));
		goto fail;
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->evfd < 0) {
		rc = -errno;
		goto fail;
	}
	if (s->conf->test_tap[0]) {
		char path[CONF_STR_MAX + 32];
		snprintf(path, sizeof(path), "%s/media-%u.tap", s->conf->test_tap,
			 index);
		w->tap = fopen(path, "wb");
		if (!w->tap) {
			rc = -errno;
			goto fail;
		}
		log_warn("sfu", "TEST TAP: recording forwarded payloads in %s", path);
	}
	ev.events = EPOLLIN;
	ev.data.fd = w->fd;
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->fd, &ev);
	ev.data.fd = w->evfd;
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev);
	*out = w;
	return 0;
fail:
	worker_free(w);
	return rc;
}

static void find_addrs(struct sfu *s)
{
	struct ifaddrs *ifs = NULL, *i;

	if (s->conf->public_ip[0]) {
		snprintf(s->addr_text[0], sizeof(s->addr_text[0]), "%.63s",
			 s->conf->public_ip);
		s->naddrs = 1;
	} else if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i && s->naddrs < SFU_MAX_ADDRS; i = i->ifa_next) {
			struct sockaddr_in *sin = (void *)i->ifa_addr;
			if (!sin || sin->sin_family != AF_INET ||
			    (ntohl(sin->sin_addr.s_addr) >> 24) == 127)
				continue;
			inet_ntop(AF_INET, &sin->sin_addr, s->addr_text[s->naddrs],
				  sizeof(s->addr_text[0]));
			s->naddrs++;
		}
		freeifaddrs(ifs);
	}
	if (s->naddrs == 0) {
		/* a machine with only loopback: still usable locally */
		snprintf(s->addr_text[0], sizeof(s->addr_text[0]), "127.0.0.1");
		s->naddrs = 1;
	}
	for (size_t k = 0; k < s->naddrs; k++)
		s->addrs[k] = s->addr_text[k];
}

int sfu_new(const struct conf *c, sfu_event_h *h, void *arg,
	    void (*wake)(void *arg), struct sfu **out)
{
	struct sfu *s = calloc(1, sizeof(*s));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned i, n;
	int rc;

	if (!s)
		return -ENOMEM;
	if ((rc = srtps_init())) {
		free(s);
		return rc;
	}
	s->conf = c;
	s->h = h;
	s->arg = arg;
	s->wake = wake;
	pthread_mutex_init(&s->ev_lock, NULL);
	n = c->media_workers > 0 ? (unsigned)c->media_workers
				 : (unsigned)(cores > 0 ? cores : 1);
	if (n > SFU_MAX_WORKERS)
		n = SFU_MAX_WORKERS;
	find_addrs(s);
	for (i = 0; i < n; i++) {
		if ((rc = worker_new(s, i, &s->w[i])))
			goto fail;
		s->n++;
	}
	for (i = 0; i < s->n; i++) {
		if (pthread_create(&s->w[i]->thread, NULL, worker_main, s->w[i])) {
			rc = -EAGAIN;
			/* stop the ones already running */
			for (unsigned j = 0; j < i; j++) {
				atomic_store(&s->w[j]->stop, true);
				uint64_t one = 1;
				if (write(s->w[j]->evfd, &one, sizeof(one)) < 0)
					(void)0;
				pthread_join(s->w[j]->thread, NULL);
			}
			goto fail_nojoin;
		}
		/* so that top -H, perf and /proc/PID/task tell them apart */
		char name[16];
		snprintf(name, sizeof(name), "media%u", i);
		pthread_setname_np(s->w[i]->thread, name);
	}
	log_info("sfu", "%u media worker(s) on UDP ports %u-%u, candidates: %s%s",
		 s->n, s->w[0]->port, s->w[s->n - 1]->port, s->addrs[0],
		 s->naddrs > 1 ? " and more" : "");
	*out = s;
	return 0;
fail:
fail_nojoin:
	for (i = 0; i < s->n; i++)
		worker_free(s->w[i]);
	pthread_mutex_destroy(&s->ev_lock);
	free(s);
	return rc;
}

void sfu_free(struct sfu *s)
{
	uint64_t one = 1;
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		atomic_store(&s->w[i]->stop, true);
		if (write(s->w[i]->evfd, &one, sizeof(one)) < 0)
			log_warn("sfu", "cannot wake worker %u", i);
	}
	for (i = 0; i < s->n; i++) {
		pthread_join(s->w[i]->thread, NULL);
		worker_free(s->w[i]);
	}
	pthread_mutex_destroy(&s->ev_lock);
	free(s);
}

unsigned sfu_workers(const struct sfu *s)
{
	return s->n;
}

uint16_t sfu_worker_port(const struct sfu *s, unsigned worker)
{
	return worker < s->n ? s->w[worker]->port : 0;
}

const char *sfu_worker_fingerprint(const struct sfu *s, unsigned worker)
{
	return worker < s->n ? dtls_ctx_fingerprint(s->w[worker]->dtls) : "";
}

size_t sfu_addrs(const struct sfu *s, const char *const **out)
{
	*out = s->addrs;
	return s->naddrs;
}

void sfu_metrics(struct sfu *s, struct wbuf *b)
{
	static const char *const names[] = {
#define X(name, help) #name,
		SFU_COUNTERS(X)
#undef X
	};
	static const char *const helps[] = {
#define X(name, help) help,
		SFU_COUNTERS(X)
#undef X
	};
	char full[96];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t v = 0;
		for (unsigned k = 0; k < s->n; k++)
			v += atomic_load_explicit(&s->w[k]->pub[i],
						  memory_order_relaxed);
		snprintf(full, sizeof(full), "conclave_media_%s_total", names[i]);
		metrics_counter(b, full, helps[i], v);
	}
	{
		static const char *const gnames[] = {
#define X(name, help) #name,
			SFU_GAUGES(X)
#undef X
		};
		static const char *const ghelps[] = {
#define X(name, help) help,
			SFU_GAUGES(X)
#undef X
		};
		for (size_t i = 0; i < sizeof(gnames) / sizeof(gnames[0]); i++) {
			uint64_t v = 0;
			for (unsigned k = 0; k < s->n; k++) {
				uint64_t x = atomic_load_explicit(&s->w[k]->gpub[i],
								  memory_order_relaxed);
				/* the minimum is a minimum over workers too */
				if (strcmp(gnames[i], "estimate_min_bps") == 0)
					v = (!v || (x && x < v)) ? x : v;
				else
					v += x;
			}
			snprintf(full, sizeof(full), "conclave_media_%s", gnames[i]);
			metrics_gauge(b, full, ghelps[i], v);
		}
	}
	{
		uint64_t ev, drop, wakes;

		pthread_mutex_lock(&s->ev_lock);
		ev = s->events;
		drop = s->ev_dropped;
		wakes = s->wakes;
		pthread_mutex_unlock(&s->ev_lock);
		metrics_counter(b, "conclave_media_events_total",
				"Events the media workers posted to the control loop", ev);
		metrics_counter(b, "conclave_media_events_dropped_total",
				"Events lost because the control loop's queue was full", drop);
		metrics_counter(b, "conclave_media_control_wakes_total",
				"Times a media worker woke the control loop", wakes);
	}
	{
		uint64_t counts[SFU_DELAY_BUCKETS + 1] = { 0 }, sum_ns = 0;
		double le[SFU_DELAY_BUCKETS];

		for (unsigned k = 0; k < s->n; k++) {
			for (size_t i = 0; i <= SFU_DELAY_BUCKETS; i++)
				counts[i] += atomic_load_explicit(&s->w[k]->delay_pub[i],
								  memory_order_relaxed);
			sum_ns += atomic_load_explicit(&s->w[k]->delay_pub[SFU_DELAY_BUCKETS + 1],
						       memory_order_relaxed);
		}
		for (size_t i = 0; i < SFU_DELAY_BUCKETS; i++)
			le[i] = delay_le_us[i] / 1e6;
		metrics_histogram(b, "conclave_media_forward_delay_seconds",
				  "time from a datagram's arrival (kernel receive "
				  "timestamp) to the end of sending what it caused "
				  "(forwarded RTP, retransmissions, answers)",
				  le, counts, SFU_DELAY_BUCKETS, sum_ns / 1e9);
	}
	metrics_gauge(b, "conclave_media_workers", "media worker threads", s->n);
}
