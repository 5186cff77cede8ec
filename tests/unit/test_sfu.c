/*
 * test_sfu — the media worker driven by hand, without its thread.
 *
 * A struct sfu_worker is built the way worker_new() builds one (a UDP
 * socket on 127.0.0.1, a DTLS context, no epoll, no thread) and the
 * worker's own functions are called directly: sfu__packet() with datagrams
 * "from" addresses of UDP sockets the test owns, the ticks with w->now set
 * by hand, and sfu__flush() to put what the worker produced on the wire,
 * where the test reads it back. The test plays the browsers: ICE checks
 * made with stun_write_binding_request, SRTP sessions keyed with fixed
 * keys (the client side of the same keys the worker's transport holds),
 * and in one test a real DTLS handshake through the worker
 * (dtls_testpeer.c's OpenSSL client).
 *
 * Events: sfu__event() posts into the queue of a struct sfu, whose layout
 * is private to worker.c, so the hand-built worker points at a real
 * sfu_new() instance with one worker (whose thread idles: it owns none of
 * the objects here) and events are read with sfu_poll_events().
 *
 * Everything is freed through the worker's own paths (unsubscribe, track
 * removal, transport close, free_all), so the ASan build checks them for
 * leaks and use after free.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf/conf.h"
#include "dtls/dtls.h"
#include "dtls_testpeer.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/sfu_int.h"
#include "srtp/srtp_session.h"
#include "stun/stun.h"
#include "util/log.h"

enum {
	PKT = 2048,
	NB = 4,                    /* browser sockets */
	PUB = 0, SUB = 1, STRANGER = 2, SUB2 = 3,
	T0 = 1000000,              /* w->now at the start (ms) */
	MAX_EV = 64,
	/* ids and SSRCs of the scene */
	TP_PUB = 1, TP_SUB = 2, TP_SUB2 = 3,
	TR_VIDEO = 10, TR_AUDIO = 11,
	EXT_MID = 4, EXT_LEVEL = 1, EXT_TWCC = 3, SUB_LEVEL_ID = 5,
	PT_VP8 = 96, PT_OPUS = 111, SUB_PT_VP8 = 102, SUB_PT_OPUS = 109,
	PT_RTX = 99, SUB_PT_RTX = 103,
};

#define V_SSRC 0xAAAA0001u       /* publisher's video SSRC (from SDP) */
#define A_SSRC 0xAAAA0002u       /* publisher's audio SSRC (learned) */
#define SV_SSRC 0x5B000001u      /* subscriber sees the video as */
#define SA_SSRC 0x5B000002u      /* subscriber sees the audio as */
#define S2V_SSRC 0x5C000001u     /* second subscriber's video */
#define SUB_OWN_SSRC 0x0000C0DEu /* subscriber's RTCP sender SSRC */
#define V_RTX_SSRC 0xAAAA1001u   /* publisher's video RTX (RFC 4588) */
#define SV_RTX_SSRC 0x5B001001u  /* subscriber's video RTX */

static const char PUB_UFRAG[] = "pubufrag";
static const char PUB_PWD[] = "pubpassword0123456789abc";
static const char SUB_UFRAG[] = "subufrag";
static const char SUB_PWD[] = "subpassword0123456789abc";
static const char SUB2_UFRAG[] = "sub2ufrg";
static const char SUB2_PWD[] = "sub2password123456789abc";

struct env {
	struct conf conf;
	struct sfu *s;
	struct sfu_worker *w;
	int fd[NB];
	struct sockaddr_storage addr[NB];
	socklen_t alen;
	struct srtps *b[NB];        /* the browsers' SRTP sessions */
	struct sfu_event ev[MAX_EV];
	size_t nev;
	bool log_info;
};

/* ---- plumbing ------------------------------------------------------------ */

static int udp_bind(struct sockaddr_storage *a, socklen_t *len)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int buf = 1 << 20;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		close(fd);
		return -1;
	}
	if (a) {
		memset(a, 0, sizeof(*a));
		memcpy(a, &sin, sizeof(sin));
		*len = sizeof(sin);
	}
	return fd;
}

/* One datagram from fd, waiting up to ms; returns its length or -1. */
static long recv_wait(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pf, 1, ms) <= 0)
		return -1;
	n = recv(fd, buf, cap, MSG_DONTWAIT);
	return n < 0 ? -1 : (long)n;
}

/* Whether fd has nothing to read (after a flush on loopback, whatever was
 * sent is already queued). */
static bool quiet(int fd)
{
	uint8_t b[PKT];
	return recv_wait(fd, b, sizeof(b), 20) < 0;
}

static void drain(int fd)
{
	uint8_t b[PKT];
	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		;
}

static void on_event(const struct sfu_event *ev, void *arg)
{
	struct env *e = arg;
	if (e->nev < MAX_EV)
		e->ev[e->nev++] = *ev;
}

static size_t poll_events(struct env *e)
{
	e->nev = 0;
	sfu_poll_events(e->s);
	return e->nev;
}

static void fixed_keys(struct dtls_srtp_keys *k, bool gcm, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	k->profile = gcm ? DTLS_SRTP_AEAD_AES_128_GCM : DTLS_SRTP_AES128_CM_SHA1_80;
	k->key_len = DTLS_SRTP_KEY_LEN;
	k->salt_len = gcm ? DTLS_SRTP_SALT_LEN_GCM : DTLS_SRTP_SALT_LEN_CM;
	for (size_t i = 0; i < DTLS_SRTP_KEY_LEN; i++) {
		k->client_key[i] = (uint8_t)(seed + i);
		k->server_key[i] = (uint8_t)(seed + 0x40 + i);
	}
	for (size_t i = 0; i < DTLS_SRTP_SALT_MAX; i++) {
		k->client_salt[i] = (uint8_t)(seed + 0x80 + i);
		k->server_salt[i] = (uint8_t)(seed + 0xC0 + i);
	}
}

/* A worker as worker_new() makes one, minus epoll, eventfd and thread. */
static int env_open(struct env *e)
{
	struct sfu_worker *w;

	memset(e, 0, sizeof(*e));
	for (int i = 0; i < NB; i++)
		e->fd[i] = -1;
	e->log_info = log_enabled(LOG_INFO);
	log_set_level(LOG_WARN);
	conf_defaults(&e->conf);
	e->conf.media_port = 0;
	e->conf.media_workers = 1;
	if (sfu_new(&e->conf, on_event, e, NULL, &e->s) != 0)
		return -1;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	e->w = w;
	w->sfu = e->s;
	w->fd = w->epfd = w->evfd = -1;
	w->cmd_tail = &w->cmd_head;
	pthread_mutex_init(&w->lock, NULL);
	w->media_timeout_ms = e->conf.media_timeout * 1000;
	w->now = T0;
	if (dtls_ctx_new(&w->dtls) != 0)
		return -1;
	w->fd = udp_bind(NULL, NULL);
	if (w->fd < 0)
		return -1;
	for (int i = 0; i < NB; i++) {
		e->fd[i] = udp_bind(&e->addr[i], &e->alen);
		if (e->fd[i] < 0)
			return -1;
	}
	return 0;
}

static void env_close(struct env *e)
{
	struct sfu_worker *w = e->w;

	if (w) {
		sfu__transports_free_all(w);
		sfu__flush(w);
		if (w->fd >= 0)
			close(w->fd);
		dtls_ctx_free(w->dtls);
		pthread_mutex_destroy(&w->lock);
		free(w);
	}
	sfu_free(e->s);
	for (int i = 0; i < NB; i++) {
		srtps_free(e->b[i]);
		if (e->fd[i] >= 0)
			close(e->fd[i]);
	}
	if (e->log_info)
		log_set_level(LOG_INFO);
	memset(e, 0, sizeof(*e));
}

/* Hands a copy of p to the worker as if it came from browser socket `who`
 * (the worker unprotects in place). */
static void deliver(struct env *e, int who, const uint8_t *p, size_t len)
{
	uint8_t b[SFU_MTU];

	if (len > sizeof(b))
		return;
	memcpy(b, p, len);
	sfu__packet(e->w, &e->addr[who], e->alen, b, len);
}

static struct sfu_transport *open_tp(struct env *e, uint32_t id, bool pub,
				     const char *ufrag, const char *pwd)
{
	struct sfu_transport_params p;

	memset(&p, 0, sizeof(p));
	p.id = id;
	p.publisher = pub;
	snprintf(p.ufrag, sizeof(p.ufrag), "%s", ufrag);
	snprintf(p.pwd, sizeof(p.pwd), "%s", pwd);
	sfu__transport_open(e->w, &p);
	return sfu__transport_find(e->w, id);
}

/* Keys the transport and browser `who` with the same fixed keys. */
static int key_tp(struct env *e, struct sfu_transport *t, int who, bool gcm,
		  uint8_t seed)
{
	struct dtls_srtp_keys k;
	int rc;

	fixed_keys(&k, gcm, seed);
	rc = srtps_new(&k, true, &t->srtp);
	if (rc == 0)
		rc = srtps_new(&k, false, &e->b[who]);
	dtls_srtp_keys_wipe(&k);
	return rc;
}

/* A Binding request from browser `who` to ufrag with password pwd. */
static size_t make_check(uint8_t *out, const char *ufrag, const char *pwd,
			 bool use_candidate, uint8_t tid[STUN_TID_LEN])
{
	char user[64];
	struct stun_binding_request rq;
	size_t len = 0;

	snprintf(user, sizeof(user), "%s:brws", ufrag);
	for (int i = 0; i < STUN_TID_LEN; i++)
		tid[i] = (uint8_t)(rand() & 0xff);
	memset(&rq, 0, sizeof(rq));
	rq.tid = tid;
	rq.username = user;
	rq.priority = 0x6e7f1eff;
	rq.role = STUN_ROLE_CONTROLLING;
	rq.tiebreaker = 0x1122334455667788ull;
	rq.use_candidate = use_candidate;
	if (stun_write_binding_request(out, PKT, &rq, pwd, pwd ? strlen(pwd) : 0,
				       &len) != 0)
		return 0;
	return len;
}

/* Reads one Binding success from browser `who` and checks it. */
static int expect_success(struct env *e, int who, const uint8_t tid[STUN_TID_LEN],
			  const char *pwd)
{
	uint8_t b[PKT];
	struct stun_msg m;
	long n = recv_wait(e->fd[who], b, sizeof(b), 1000);
	const struct sockaddr_in *want = (const void *)&e->addr[who];
	const struct sockaddr_in *got;

	TEST_ASSERT(n > 0);
	TEST_EQ(stun_decode(b, (size_t)n, &m), 0);
	TEST_EQ(m.method, STUN_METHOD_BINDING);
	TEST_EQ(m.cls, STUN_CLASS_SUCCESS);
	TEST_MEMEQ(m.tid, tid, STUN_TID_LEN);
	TEST_ASSERT(m.has_xor_mapped);
	got = (const void *)&m.xor_mapped;
	TEST_EQ(got->sin_family, AF_INET);
	TEST_EQ(got->sin_port, want->sin_port);
	TEST_EQ(got->sin_addr.s_addr, want->sin_addr.s_addr);
	TEST_EQ(stun_check_integrity(&m, b, pwd, strlen(pwd)), 0);
	TEST_ASSERT(m.has_fingerprint);
	TEST_EQ(stun_check_fingerprint(&m, b), 0);
	return 0;
}

/* ICE check from browser `who`, answered; sets the peer. */
static int ice(struct env *e, int who, const char *ufrag, const char *pwd,
	       bool use_candidate)
{
	uint8_t b[PKT], tid[STUN_TID_LEN];
	size_t n = make_check(b, ufrag, pwd, use_candidate, tid);

	TEST_ASSERT(n > 0);
	deliver(e, who, b, n);
	sfu__flush(e->w);
	return expect_success(e, who, tid, pwd);
}

static bool peer_is(const struct sfu_transport *t, const struct env *e, int who)
{
	const struct sockaddr_in *a = (const void *)&t->peer;
	const struct sockaddr_in *b = (const void *)&e->addr[who];
	return t->have_peer && a->sin_family == AF_INET &&
	       a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* ---- RTP as a browser sends it ------------------------------------------- */

struct rtpb {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const char *mid;        /* MID element (id EXT_MID) or NULL */
	int level;              /* RFC 6464 element (id EXT_LEVEL), -1 none */
	bool voice;
	size_t plen;            /* payload bytes */
	uint8_t pad;            /* padding bytes incl. the count, 0 none */
	uint32_t csrc;          /* one CSRC if non-zero */
	bool has_twcc;          /* transport-wide seq element (id EXT_TWCC) */
	uint16_t twcc;
};

static void payload_fill(uint8_t *p, size_t n, uint16_t seq)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seq * 7 + 3);
}

static size_t build_rtp(uint8_t *b, const struct rtpb *r)
{
	size_t n = RTP_HDR_LEN, ext_start;

	b[0] = 0x80;
	b[1] = (uint8_t)((r->marker ? 0x80 : 0) | r->pt);
	put_u16(b + 2, r->seq);
	put_u32(b + 4, r->ts);
	put_u32(b + 8, r->ssrc);
	if (r->csrc) {
		b[0] |= 1;
		put_u32(b + n, r->csrc);
		n += 4;
	}
	if (r->mid || r->level >= 0 || r->has_twcc) {
		b[0] |= 0x10;
		put_u16(b + n, RTP_EXT_PROFILE_ONE_BYTE);
		ext_start = n + 4;
		n = ext_start;
		if (r->level >= 0) {
			b[n++] = (uint8_t)(EXT_LEVEL << 4);
			b[n++] = (uint8_t)((r->voice ? 0x80 : 0) | r->level);
		}
		if (r->has_twcc) {
			b[n++] = (uint8_t)(EXT_TWCC << 4 | 1);
			put_u16(b + n, r->twcc);
			n += 2;
		}
		if (r->mid) {
			size_t l = strlen(r->mid);
			b[n++] = (uint8_t)(EXT_MID << 4 | (l - 1));
			memcpy(b + n, r->mid, l);
			n += l;
		}
		while ((n - ext_start) % 4)
			b[n++] = 0;
		put_u16(b + ext_start - 2, (uint16_t)((n - ext_start) / 4));
	}
	payload_fill(b + n, r->plen, r->seq);
	n += r->plen;
	if (r->pad) {
		b[0] |= 0x20;
		memset(b + n, 0, r->pad - 1u);
		n += r->pad;
		b[n - 1] = r->pad;
	}
	return n;
}

/* Protects and delivers an RTP packet from browser `who`. */
static int send_rtp(struct env *e, int who, const struct rtpb *r)
{
	uint8_t b[PKT];
	size_t n = build_rtp(b, r);

	TEST_EQ(srtps_protect_rtp(e->b[who], b, &n, sizeof(b)), 0);
	deliver(e, who, b, n);
	return 0;
}

static struct rtpb rtp_video(uint16_t seq, uint32_t ts, size_t plen)
{
	return (struct rtpb){ .pt = PT_VP8, .seq = seq, .ts = ts, .ssrc = V_SSRC,
			      .level = -1, .plen = plen };
}

/* Reads one SRTP packet at browser `who`, unprotects and parses it. */
static int recv_rtp(struct env *e, int who, uint8_t *b, size_t *len,
		    struct rtp_hdr *h)
{
	long n = recv_wait(e->fd[who], b, PKT, 1000);

	TEST_ASSERT(n > 0);
	*len = (size_t)n;
	TEST_ASSERT(!rtp_is_rtcp(b, *len));
	TEST_EQ(srtps_unprotect_rtp(e->b[who], b, len), 0);
	TEST_EQ(rtp_parse(b, *len, h), 0);
	return 0;
}

/* Reads one SRTCP packet at browser `who` and unprotects it. */
static int recv_rtcp(struct env *e, int who, uint8_t *b, size_t *len)
{
	long n = recv_wait(e->fd[who], b, PKT, 1000);

	TEST_ASSERT(n > 0);
	*len = (size_t)n;
	TEST_ASSERT(rtp_is_rtcp(b, *len));
	TEST_EQ(srtps_unprotect_rtcp(e->b[who], b, len), 0);
	return 0;
}

/* Sends an RTCP packet (plain in b[0..n)) from browser `who`. */
static int send_rtcp(struct env *e, int who, uint8_t *b, size_t n)
{
	TEST_EQ(srtps_protect_rtcp(e->b[who], b, &n, PKT), 0);
	deliver(e, who, b, n);
	return 0;
}

static int send_pli(struct env *e, int who, uint32_t media)
{
	uint8_t b[PKT];
	size_t n;

	TEST_EQ(rtcp_pli_write(b, sizeof(b), SUB_OWN_SSRC, media, &n), 0);
	return send_rtcp(e, who, b, n);
}

/*
 * The scene most tests use: a publisher (PUB) with a video track (SSRC
 * from the SDP) and an audio track (SSRC learned via MID, audio level),
 * a subscriber (SUB) subscribed to both, both keyed and with their peers
 * set by ICE checks.
 */
static int scene(struct env *e, struct sfu_transport **pub,
		 struct sfu_transport **sub)
{
	struct sfu_track_params tp;
	struct sfu_sub_params sp;

	TEST_EQ(env_open(e), 0);
	*pub = open_tp(e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	*sub = open_tp(e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	TEST_ASSERT(*pub && *sub);
	TEST_EQ(key_tp(e, *pub, PUB, true, 0x10), 0);
	TEST_EQ(key_tp(e, *sub, SUB, false, 0x20), 0);
	TEST_EQ(ice(e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_EQ(ice(e, SUB, SUB_UFRAG, SUB_PWD, true), 0);

	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_PUB;
	tp.track = TR_VIDEO;
	tp.kind = SFU_VIDEO;
	snprintf(tp.mid, sizeof(tp.mid), "v0");
	tp.ssrcs[0] = V_SSRC;
	tp.rtx_ssrcs[0] = V_RTX_SSRC;
	tp.pt = PT_VP8;
	tp.rtx_pt = PT_RTX;
	tp.ext_id[SFU_EXT_MID] = EXT_MID;
	tp.ext_id[SFU_EXT_TWCC] = EXT_TWCC;
	sfu__track_add(e->w, &tp);
	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_PUB;
	tp.track = TR_AUDIO;
	tp.kind = SFU_AUDIO;
	snprintf(tp.mid, sizeof(tp.mid), "a0");
	tp.ext_id[SFU_EXT_MID] = EXT_MID;
	tp.ext_id[SFU_EXT_AUDIO_LEVEL] = EXT_LEVEL;
	sfu__track_add(e->w, &tp);
	TEST_ASSERT((*pub)->tracks[0] && (*pub)->tracks[1]);

	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB;
	sp.track = TR_VIDEO;
	sp.ssrc = SV_SSRC;
	sp.rtx_ssrc = SV_RTX_SSRC;
	sp.rtx_pt = SUB_PT_RTX;
	sp.pt_in[0] = PT_VP8;
	sp.pt_out[0] = SUB_PT_VP8;
	sfu__subscribe(e->w, &sp);
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB;
	sp.track = TR_AUDIO;
	sp.ssrc = SA_SSRC;
	sp.pt_in[0] = PT_OPUS;
	sp.pt_out[0] = SUB_PT_OPUS;
	sp.audio_level_id = SUB_LEVEL_ID;
	sfu__subscribe(e->w, &sp);
	TEST_ASSERT((*sub)->outs && (*sub)->outs->next_in_sub);
	sfu__flush(e->w);
	drain(e->fd[PUB]);
	drain(e->fd[SUB]);
	return 0;
}

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
	struct env e;
	struct sfu_transport *t;
	uint8_t b[PKT], tid[STUN_TID_LEN];
	size_t n;

	TEST_EQ(env_open(&e), 0);
	t = open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	TEST_ASSERT(t && !t->have_peer);
	/* a second open with the same id is ignored */
	TEST_ASSERT(open_tp(&e, TP_PUB, false, "other", "otherpassword0123456789a") == t);
	TEST_ASSERT(t->publisher);

	e.w->now = T0 + 500;
	n = make_check(b, PUB_UFRAG, PUB_PWD, false, tid);
	TEST_ASSERT(n > 0);
	deliver(&e, PUB, b, n);
	TEST_EQ(e.w->nsend, 1);
	sfu__flush(e.w);
	TEST_EQ(expect_success(&e, PUB, tid, PUB_PWD), 0);
	TEST_EQ(e.w->c.stun_ok, 1);
	TEST_EQ(e.w->c.stun_dropped, 0);
	TEST_EQ(e.w->c.tx_packets, 1);
	TEST_EQ(e.w->c.sendmmsg_calls, 1);
	/* the first valid check sets the address, without USE-CANDIDATE */
	TEST_ASSERT(peer_is(t, &e, PUB));
	TEST_EQ(t->last_consent_ms, T0 + 500);
	TEST_ASSERT(t->dtls == NULL); /* no remote fingerprint yet */
	TEST_ASSERT(quiet(e.fd[PUB]));
	env_close(&e);
	return 0;
}

int test_sfu_stun_rejects(void)
{
	struct env e;
	struct sfu_transport *t;
	uint8_t b[PKT], tid[STUN_TID_LEN];
	size_t n;
	uint64_t dropped = 0;

	TEST_EQ(env_open(&e), 0);
	t = open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	TEST_ASSERT(t);

	/* unknown ufrag */
	n = make_check(b, "nosuchuf", PUB_PWD, true, tid);
	deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* ufrag that is a prefix of ours */
	n = make_check(b, "pubufr", PUB_PWD, true, tid);
	deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* wrong password */
	n = make_check(b, PUB_UFRAG, SUB_PWD, true, tid);
	deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* right password, bad fingerprint (the last 4 bytes) */
	n = make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
	b[n - 1] ^= 0x01;
	deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* no MESSAGE-INTEGRITY at all */
	n = make_check(b, PUB_UFRAG, NULL, true, tid);
	TEST_ASSERT(n > 0);
	deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* a tampered body (integrity fails) */
	n = make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
	b[STUN_HEADER_LEN + 5] ^= 0x40;
	deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* a success response is not a check */
	{
		struct sockaddr_in sin = { .sin_family = AF_INET };
		TEST_EQ(stun_write_binding_success(b, sizeof(b), tid,
						   (struct sockaddr *)&sin, NULL,
						   PUB_PWD, strlen(PUB_PWD), &n), 0);
		deliver(&e, PUB, b, n);
		TEST_EQ(e.w->c.stun_dropped, ++dropped);
	}
	/* truncated STUN, and a lone byte in the STUN range */
	n = make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
	deliver(&e, PUB, b, n - 4);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	deliver(&e, PUB, b, 1);
	TEST_EQ(e.w->c.stun_dropped, ++dropped);
	/* an empty datagram is ignored without counting */
	sfu__packet(e.w, &e.addr[PUB], e.alen, b, 0);
	TEST_EQ(e.w->c.stun_dropped, dropped);

	TEST_EQ(e.w->nsend, 0);
	sfu__flush(e.w);
	TEST_ASSERT(quiet(e.fd[PUB]));
	TEST_EQ(e.w->c.stun_ok, 0);
	TEST_ASSERT(!t->have_peer);
	TEST_EQ(t->last_consent_ms, T0);
	/* and after all that, a good one still works */
	TEST_EQ(ice(&e, PUB, PUB_UFRAG, PUB_PWD, false), 0);
	TEST_ASSERT(peer_is(t, &e, PUB));
	env_close(&e);
	return 0;
}

int test_sfu_stun_use_candidate_moves(void)
{
	struct env e;
	struct sfu_transport *t, *t2;
	uint8_t junk[20] = { 0x80, 0x60 };

	TEST_EQ(env_open(&e), 0);
	t = open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	t2 = open_tp(&e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	TEST_ASSERT(t && t2);
	TEST_EQ(ice(&e, PUB, PUB_UFRAG, PUB_PWD, false), 0);
	TEST_ASSERT(peer_is(t, &e, PUB));
	/* a check from another address without USE-CANDIDATE is answered
	 * (to where it came from) but does not move the transport */
	TEST_EQ(ice(&e, STRANGER, PUB_UFRAG, PUB_PWD, false), 0);
	TEST_ASSERT(peer_is(t, &e, PUB));
	TEST_ASSERT(quiet(e.fd[PUB]));
	/* the non-STUN demux goes by address: STRANGER is unknown */
	deliver(&e, STRANGER, junk, sizeof(junk));
	TEST_EQ(e.w->c.unknown_source, 1);
	/* the nomination moves it */
	TEST_EQ(ice(&e, STRANGER, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_ASSERT(peer_is(t, &e, STRANGER));
	deliver(&e, PUB, junk, sizeof(junk));
	TEST_EQ(e.w->c.unknown_source, 2);
	deliver(&e, STRANGER, junk, sizeof(junk)); /* known now (no SRTP yet) */
	TEST_EQ(e.w->c.unknown_source, 2);
	/* a nomination for another transport from the same address takes
	 * the address away from the first */
	TEST_EQ(ice(&e, STRANGER, SUB_UFRAG, SUB_PWD, true), 0);
	TEST_ASSERT(peer_is(t2, &e, STRANGER));
	TEST_ASSERT(!t->have_peer);
	/* and t can get one back */
	TEST_EQ(ice(&e, PUB, PUB_UFRAG, PUB_PWD, false), 0);
	TEST_ASSERT(peer_is(t, &e, PUB));
	TEST_EQ(e.w->c.stun_ok, 5);
	/* closing t2 frees the address */
	sfu__transport_close(e.w, TP_SUB);
	TEST_ASSERT(sfu__transport_find(e.w, TP_SUB) == NULL);
	deliver(&e, STRANGER, junk, sizeof(junk));
	TEST_EQ(e.w->c.unknown_source, 3);
	env_close(&e);
	return 0;
}

int test_sfu_ice_restart(void)
{
	struct env e;
	struct sfu_transport *t;
	uint8_t b[PKT], tid[STUN_TID_LEN];
	size_t n;

	TEST_EQ(env_open(&e), 0);
	t = open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	TEST_EQ(ice(&e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	e.w->now += 1000;
	sfu__transport_ice_restart(e.w, TP_PUB, "newufrag", "newpassword0123456789xyz");
	TEST_EQ(t->last_consent_ms, e.w->now);
	n = make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
	deliver(&e, PUB, b, n);
	TEST_EQ(e.w->c.stun_dropped, 1);
	TEST_EQ(ice(&e, STRANGER, "newufrag", "newpassword0123456789xyz", true), 0);
	TEST_ASSERT(peer_is(t, &e, STRANGER));
	/* unknown id: nothing */
	sfu__transport_ice_restart(e.w, 99, "x", "y");
	env_close(&e);
	return 0;
}

int test_sfu_consent_timeout(void)
{
	struct env e;
	struct sfu_transport *t, *t2, *t3;

	TEST_EQ(env_open(&e), 0);
	e.w->media_timeout_ms = 5000;
	t = open_tp(&e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	t2 = open_tp(&e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	/* t3 never gets a check: consent never given, never lost */
	t3 = open_tp(&e, TP_SUB2, false, SUB2_UFRAG, SUB2_PWD);
	TEST_ASSERT(t && t2 && t3);
	TEST_EQ(ice(&e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_EQ(ice(&e, SUB, SUB_UFRAG, SUB_PWD, true), 0);
	/* t keeps getting checks, t2 goes silent after T0 */
	e.w->now = T0 + 4000;
	TEST_EQ(ice(&e, PUB, PUB_UFRAG, PUB_PWD, false), 0);
	e.w->now = T0 + 5000;
	sfu__transports_tick(e.w);
	TEST_EQ(poll_events(&e), 0);
	e.w->now = T0 + 5001;
	sfu__transports_tick(e.w);
	TEST_EQ(e.w->c.ice_timeouts, 1);
	TEST_EQ(poll_events(&e), 1);
	TEST_EQ(e.ev[0].type, SFU_EV_TIMEOUT);
	TEST_EQ(e.ev[0].transport, TP_SUB);
	/* once per transport */
	e.w->now = T0 + 8000;
	sfu__transports_tick(e.w);
	TEST_EQ(poll_events(&e), 0);
	/* t: last consent at T0 + 4000 */
	e.w->now = T0 + 9000;
	sfu__transports_tick(e.w);
	TEST_EQ(poll_events(&e), 0);
	e.w->now = T0 + 9001;
	sfu__transports_tick(e.w);
	TEST_EQ(poll_events(&e), 1);
	TEST_EQ(e.ev[0].type, SFU_EV_TIMEOUT);
	TEST_EQ(e.ev[0].transport, TP_PUB);
	TEST_EQ(e.w->c.ice_timeouts, 2);
	/* an ICE restart re-arms it */
	sfu__transport_ice_restart(e.w, TP_PUB, "restart1", "restartpassword012345678");
	e.w->now += 5001;
	sfu__transports_tick(e.w);
	TEST_EQ(poll_events(&e), 1);
	TEST_EQ(e.ev[0].transport, TP_PUB);
	/* t3, an hour later: still nothing */
	e.w->now += 3600 * 1000;
	sfu__transports_tick(e.w);
	TEST_EQ(poll_events(&e), 0);
	TEST_ASSERT(!t3->timeout_sent);
	env_close(&e);
	return 0;
}

/* ---- forwarding ----------------------------------------------------------- */

int test_sfu_forward_video(void)
{
	struct env e;
	struct sfu_transport *pub, *sub, *sub2;
	struct sfu_sub_params sp;
	uint8_t b[PKT], b2[PKT], want[PKT];
	struct rtp_hdr h, h2;
	size_t n;
	uint16_t seq_off = 0, seq_off2 = 0;
	uint32_t ts_off = 0;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	/* a second subscriber of the video, AES-CM keyed */
	sub2 = open_tp(&e, TP_SUB2, false, SUB2_UFRAG, SUB2_PWD);
	TEST_EQ(key_tp(&e, sub2, SUB2, false, 0x30), 0);
	TEST_EQ(ice(&e, SUB2, SUB2_UFRAG, SUB2_PWD, true), 0);
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
		struct rtpb r = rtp_video(seq, ts, 20 + (size_t)(i * 11) % 1100);
		r.marker = i % 3 == 2;
		r.mid = i % 2 ? "v0" : NULL;
		r.csrc = i % 5 == 0 ? 0x1234 : 0;
		r.pad = i % 7 == 0 ? 4 : 0;
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
		sfu__flush(e.w);
		TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SV_SSRC);
		TEST_EQ(h.pt, SUB_PT_VP8);
		TEST_EQ(h.marker, r.marker);
		TEST_ASSERT(!h.extension); /* video: nothing negotiated to forward */
		TEST_EQ(h.cc, 0);
		TEST_ASSERT(!h.padding);
		TEST_EQ(h.payload_len, r.plen);
		payload_fill(want, r.plen, seq);
		TEST_MEMEQ(b + h.payload_off, want, r.plen);
		if (i == 0) {
			seq_off = (uint16_t)(h.seq - seq);
			ts_off = h.ts - ts;
		}
		TEST_EQ((uint16_t)(h.seq - seq), seq_off);
		TEST_EQ(h.ts - ts, ts_off);
		TEST_EQ(recv_rtp(&e, SUB2, b2, &n, &h2), 0);
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
	TEST_ASSERT(quiet(e.fd[SUB]));
	TEST_ASSERT(quiet(e.fd[PUB]));
	env_close(&e);
	return 0;
}

int test_sfu_forward_audio_mid(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT], want[PKT];
	const uint8_t *val;
	size_t n, vlen;
	struct rtp_hdr h;
	bool voice;
	uint8_t level;
	struct sfu_track *ta;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	ta = pub->tracks[1];
	TEST_EQ(ta->ssrcs[0], 0);
	/* the video's pending key frame request (from subscribing) goes */
	sfu__keyframes_tick(e.w);
	TEST_EQ(e.w->c.pli_out, 1);
	sfu__flush(e.w);
	drain(e.fd[PUB]);
	/* no MID yet: unknown */
	{
		struct rtpb r = { .pt = PT_OPUS, .seq = 1000, .ts = 5000,
				  .ssrc = A_SSRC, .level = 30, .plen = 40 };
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
		TEST_EQ(e.w->c.unknown_ssrc, 1);
		/* a MID of no track: unknown too */
		r.seq++;
		r.mid = "zz";
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
		TEST_EQ(e.w->c.unknown_ssrc, 2);
		sfu__flush(e.w);
		TEST_ASSERT(quiet(e.fd[SUB]));
		TEST_EQ(ta->ssrcs[0], 0);
	}
	for (int i = 0; i < 20; i++) {
		struct rtpb r = { .pt = PT_OPUS, .seq = (uint16_t)(1002 + i),
				  .ts = 5000 + 960u * (uint32_t)i, .ssrc = A_SSRC,
				  .mid = i < 3 ? "a0" : NULL,
				  .level = i == 5 ? -1 : i, .voice = i % 2,
				  .plen = 60 + (size_t)i };
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
		sfu__flush(e.w);
		TEST_EQ(ta->ssrcs[0], A_SSRC);
		TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SA_SSRC);
		TEST_EQ(h.pt, SUB_PT_OPUS);
		TEST_EQ(h.payload_len, r.plen);
		payload_fill(want, r.plen, r.seq);
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
	env_close(&e);
	return 0;
}

int test_sfu_forward_drops(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;
	struct rtpb r;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	/* unknown payload type: parsed, counted as received, not forwarded */
	r = rtp_video(100, 90000, 50);
	r.pt = 97;
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_in, 1);
	/* padding-only probe */
	r = rtp_video(101, 90000, 0);
	r.pad = 200;
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_in, 2);
	TEST_EQ(pub->tracks[0]->st[0].received, 2);
	/* unknown SSRC without MID */
	r = rtp_video(102, 90000, 50);
	r.ssrc = 0xDEAD;
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.unknown_ssrc, 1);
	/* a packet from an unknown address, validly protected */
	{
		uint8_t p[PKT];
		r = rtp_video(103, 90000, 50);
		n = build_rtp(p, &r);
		TEST_EQ(srtps_protect_rtp(e.b[PUB], p, &n, sizeof(p)), 0);
		deliver(&e, STRANGER, p, n);
		TEST_EQ(e.w->c.unknown_source, 1);
		/* the same packet from the right address still gets through
		 * (the stranger's copy did not touch the replay window) */
		deliver(&e, PUB, p, n);
		TEST_EQ(e.w->c.rtp_forwarded, 1);
		/* replayed: SRTP refuses it */
		deliver(&e, PUB, p, n);
		TEST_EQ(e.w->c.srtp_errors, 1);
		/* tampered */
		r = rtp_video(104, 90000, 50);
		n = build_rtp(p, &r);
		TEST_EQ(srtps_protect_rtp(e.b[PUB], p, &n, sizeof(p)), 0);
		p[20] ^= 1;
		deliver(&e, PUB, p, n);
		TEST_EQ(e.w->c.srtp_errors, 2);
		/* plain (unprotected) RTP is not authentic */
		r = rtp_video(105, 90000, 50);
		n = build_rtp(p, &r);
		deliver(&e, PUB, p, n);
		TEST_EQ(e.w->c.srtp_errors, 3);
	}
	/* a subscriber sending media is ignored before SRTP */
	r = rtp_video(7, 90000, 50);
	r.ssrc = SUB_OWN_SSRC;
	TEST_EQ(send_rtp(&e, SUB, &r), 0);
	TEST_EQ(e.w->c.srtp_errors, 3);
	TEST_EQ(e.w->c.rtp_in, 4);
	/* other first bytes from a known address: ignored */
	{
		uint8_t p[32] = { 0x40, 0x60 };
		deliver(&e, PUB, p, sizeof(p));      /* 64..127: nothing */
		p[0] = 0xC0;                          /* > 191 */
		deliver(&e, PUB, p, sizeof(p));
		p[0] = 22;                            /* DTLS without fingerprint */
		deliver(&e, PUB, p, sizeof(p));
		TEST_ASSERT(pub->dtls == NULL);
	}
	TEST_EQ(e.w->c.rtp_in, 4);
	sfu__flush(e.w);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0); /* the one forwarded */
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_ASSERT(quiet(e.fd[SUB]));
	TEST_ASSERT(quiet(e.fd[PUB]));
	TEST_ASSERT(quiet(e.fd[STRANGER]));
	env_close(&e);
	return 0;
}

/* Without keys or an address a subscriber gets nothing; no crash. */
int test_sfu_forward_unready(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	struct rtpb r;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	srtps_free(sub->srtp);
	sub->srtp = NULL;
	r = rtp_video(1, 1, 10);
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_forwarded, 0);
	sfu__flush(e.w);
	TEST_ASSERT(quiet(e.fd[SUB]));
	/* publisher without SRTP: its media is not even unprotected */
	srtps_free(pub->srtp);
	pub->srtp = NULL;
	r = rtp_video(2, 1, 10);
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_in, 1);
	env_close(&e);
	return 0;
}

/* More datagrams than one send batch: the slot allocator flushes. */
int test_sfu_send_batch_overflow(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n, got = 0;
	struct rtp_hdr h;
	enum { COUNT = SFU_SEND_BATCH + 20 };

	TEST_EQ(scene(&e, &pub, &sub), 0);
	for (int i = 0; i < COUNT; i++) {
		struct rtpb r = rtp_video((uint16_t)i, 0, 30);
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
	}
	TEST_EQ(e.w->c.sendmmsg_calls, 3); /* two ICE answers, one full batch */
	TEST_EQ(e.w->nsend, 20);
	sfu__flush(e.w);
	TEST_EQ(e.w->c.send_errors, 0);
	while (got < COUNT && recv_rtp(&e, SUB, b, &n, &h) == 0)
		got++;
	TEST_EQ(got, COUNT);
	env_close(&e);
	return 0;
}

/* ---- key frames ----------------------------------------------------------- */

/* Reads PLIs at the publisher; returns how many, all for V_SSRC. */
static int plis_at_pub(struct env *e, int *count)
{
	uint8_t b[PKT];
	size_t n;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;

	*count = 0;
	for (;;) {
		long r = recv_wait(e->fd[PUB], b, sizeof(b), 20);
		if (r < 0)
			break;
		n = (size_t)r;
		TEST_ASSERT(rtp_is_rtcp(b, n));
		TEST_EQ(srtps_unprotect_rtcp(e->b[PUB], b, &n), 0);
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_ASSERT(rtcp_is_pli(&pkt));
		TEST_EQ(pkt.sender_ssrc, SFU_SSRC_SFU);
		TEST_EQ(pkt.media_ssrc, V_SSRC);
		TEST_EQ(rtcp_next(&it, &pkt), 0);
		(*count)++;
	}
	return 0;
}

int test_sfu_pli_throttle(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	struct sfu_track *tv;
	int count;
	uint64_t t1;

	TEST_EQ(scene(&e, &pub, &sub), 0);
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
	TEST_EQ(send_pli(&e, SUB, SV_SSRC), 0);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	TEST_EQ(e.w->c.pli_in, 1);
	TEST_EQ(e.w->c.pli_out, 1);
	TEST_ASSERT(!tv->st[0].pli_pending);
	/* ten more inside the interval: none now, one coalesced later */
	for (int i = 0; i < 10; i++) {
		e.w->now += 50;
		TEST_EQ(send_pli(&e, SUB, SV_SSRC), 0);
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
	env_close(&e);
	return 0;
}

int test_sfu_pli_fir_and_strays(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n, m;
	int count;
	struct rtcp_fir fir[2] = { { SA_SSRC, 1 }, { SV_SSRC, 2 } };

	TEST_EQ(scene(&e, &pub, &sub), 0);
	/* PLI for the audio stream and for an SSRC not sent: counted, no PLI */
	TEST_EQ(send_pli(&e, SUB, SA_SSRC), 0);
	TEST_EQ(send_pli(&e, SUB, 0x77777777u), 0);
	TEST_EQ(e.w->c.pli_in, 2);
	TEST_EQ(e.w->c.pli_out, 0);
	/* a compound RR + FIR naming audio and video: one PLI for the video */
	{
		struct rtcp_rb rb = { .ssrc = SV_SSRC };
		TEST_EQ(rtcp_rr_write(b, sizeof(b), SUB_OWN_SSRC, &rb, 1, &n), 0);
		TEST_EQ(rtcp_fir_write(b + n, sizeof(b) - n, SUB_OWN_SSRC, fir, 2, &m), 0);
		TEST_EQ(send_rtcp(&e, SUB, b, n + m), 0);
	}
	TEST_EQ(e.w->c.rtcp_in, 4);
	TEST_EQ(e.w->c.pli_in, 3);
	TEST_EQ(e.w->c.pli_out, 1);
	/* a NACK is consumed quietly */
	{
		uint16_t seqs[3] = { 5, 6, 9 };
		TEST_EQ(rtcp_nack_write(b, sizeof(b), SUB_OWN_SSRC, SV_SSRC, seqs, 3, &n), 0);
		TEST_EQ(send_rtcp(&e, SUB, b, n), 0);
	}
	TEST_EQ(e.w->c.rtcp_in, 5);
	/* a PLI from the publisher for its own stream is not relayed */
	TEST_EQ(rtcp_pli_write(b, sizeof(b), V_SSRC, V_SSRC, &n), 0);
	TEST_EQ(send_rtcp(&e, PUB, b, n), 0);
	TEST_EQ(e.w->c.rtcp_in, 6);
	TEST_EQ(e.w->c.pli_in, 3);
	/* a malformed compound stops the walk, nothing breaks */
	TEST_EQ(rtcp_pli_write(b, sizeof(b), SUB_OWN_SSRC, SV_SSRC, &n), 0);
	b[3] = 9; /* length beyond the packet */
	TEST_EQ(send_rtcp(&e, SUB, b, n), 0);
	TEST_EQ(e.w->c.rtcp_in, 6);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	TEST_ASSERT(quiet(e.fd[SUB]));
	env_close(&e);
	return 0;
}

/* A track whose SSRC is learned via MID asks for a key frame as soon as
 * it is known (it had a subscriber waiting), on the next tick. */
int test_sfu_pli_learned_ssrc(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	struct sfu_track_params tp;
	struct sfu_sub_params sp;
	struct sfu_track *tr;
	uint8_t b[PKT];
	size_t n;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	struct rtpb r;

	TEST_EQ(scene(&e, &pub, &sub), 0);
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
	r = rtp_video(1, 1, 10);
	r.ssrc = 0xABCDEF01u;
	r.mid = "screen";
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(tr->ssrcs[0], 0xABCDEF01u);
	e.w->now += 10;
	sfu__keyframes_tick(e.w);
	TEST_EQ(e.w->c.pli_out, 2);
	sfu__flush(e.w);
	for (int i = 0; i < 2; i++) {
		TEST_EQ(recv_rtcp(&e, PUB, b, &n), 0);
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_ASSERT(rtcp_is_pli(&pkt));
		TEST_EQ(pkt.media_ssrc, i == 0 ? V_SSRC : 0xABCDEF01u);
	}
	/* a second SSRC with the same MID is a second layer: not forwarded */
	r = rtp_video(1, 1, 10);
	r.ssrc = 0xABCDEF02u;
	r.mid = "screen";
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(tr->ssrcs[1], 0xABCDEF02u);
	TEST_EQ(e.w->c.rtp_forwarded, 1);
	env_close(&e);
	return 0;
}

/* ---- loss recovery -------------------------------------------------------- */

static int send_nack(struct env *e, int who, uint32_t media, const uint16_t *seqs,
		     size_t n)
{
	uint8_t b[PKT];
	size_t len;

	TEST_EQ(rtcp_nack_write(b, sizeof(b), SUB_OWN_SSRC, media, seqs, n, &len), 0);
	return send_rtcp(e, who, b, len);
}

/* A subscriber's NACK is answered from the cache, in its RTX stream. */
int test_sfu_nack_retransmit(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT], want[PKT];
	size_t n;
	struct rtp_hdr h;
	uint16_t out_seq[10], nack[2], rtx_seq = 0;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	for (int i = 0; i < 10; i++) {
		struct rtpb r = rtp_video((uint16_t)(100 + i), 9000u, 40 + (size_t)i);
		r.marker = i == 9;
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 10; i++) {
		TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
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
		TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SV_RTX_SSRC);
		TEST_EQ(h.pt, SUB_PT_RTX);
		if (k)
			TEST_EQ(h.seq, (uint16_t)(rtx_seq + 1));
		rtx_seq = h.seq;
		/* RFC 4588 §4: the original sequence number, then the payload */
		TEST_EQ(h.payload_len, 2 + 40 + (size_t)i);
		TEST_EQ(get_u16(b + h.payload_off), out_seq[i]);
		payload_fill(want, 40 + (size_t)i, (uint16_t)(100 + i));
		TEST_MEMEQ(b + h.payload_off + 2, want, 40 + (size_t)i);
	}
	/* asked again: again, under a new RTX sequence number */
	TEST_EQ(send_nack(&e, SUB, SV_SSRC, nack, 1), 0);
	sfu__flush(e.w);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_RTX_SSRC);
	TEST_EQ(h.seq, (uint16_t)(rtx_seq + 1));
	TEST_EQ(e.w->c.retransmits, 3);
	/* never sent, or the audio stream (no cache): misses */
	nack[0] = (uint16_t)(out_seq[9] + 1000);
	TEST_EQ(send_nack(&e, SUB, SV_SSRC, nack, 1), 0);
	nack[0] = 1;
	TEST_EQ(send_nack(&e, SUB, SA_SSRC, nack, 1), 0);
	TEST_EQ(e.w->c.cache_misses, 2);
	/* an SSRC the subscriber does not receive: ignored */
	TEST_EQ(send_nack(&e, SUB, 0x12345678u, nack, 1), 0);
	TEST_EQ(e.w->c.nack_in, 5);
	sfu__flush(e.w);
	TEST_ASSERT(quiet(e.fd[SUB]));
	TEST_EQ(e.w->c.srtp_errors, 0);
	env_close(&e);
	return 0;
}

/* Reads one NACK at the publisher into seqs; returns their number. */
static int nack_at_pub(struct env *e, uint16_t *seqs, size_t cap, size_t *n)
{
	uint8_t b[PKT];
	size_t len;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;

	TEST_EQ(recv_rtcp(e, PUB, b, &len), 0);
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
int test_sfu_nack_publisher_loss(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT], p[PKT], x[PKT];
	size_t n, pn, xn;
	struct rtp_hdr h, ph;
	uint16_t seqs[64], first_out = 0;
	int count;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	/* the pending key frame request of the subscription goes first */
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	drain(e.fd[PUB]);
	for (int i = 0; i < 10; i++) {
		struct rtpb r = rtp_video((uint16_t)(200 + i), 0, 30);
		if (i == 5 || i == 6)
			continue;
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 8; i++) {
		TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
		if (i == 0)
			first_out = h.seq;
	}
	e.w->now += 100;
	sfu__nack_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(nack_at_pub(&e, seqs, 64, &n), 0);
	TEST_EQ(n, 2);
	TEST_EQ(seqs[0], 205);
	TEST_EQ(seqs[1], 206);
	TEST_EQ(e.w->c.nack_out, 2);
	/* not again before the retry interval */
	sfu__nack_tick(e.w);
	sfu__flush(e.w);
	TEST_ASSERT(quiet(e.fd[PUB]));
	/* 205 comes back in the publisher's RTX stream */
	{
		struct rtpb r = rtp_video(205, 0, 30);
		pn = build_rtp(p, &r);
		TEST_EQ(rtp_parse(p, pn, &ph), 0);
		TEST_EQ(rtp_rtx_wrap(p, pn, &ph, x, sizeof(x), PT_RTX, V_RTX_SSRC, 7000,
				     &xn), 0);
		TEST_EQ(srtps_protect_rtp(e.b[PUB], x, &xn, sizeof(x)), 0);
		deliver(&e, PUB, x, xn);
	}
	TEST_EQ(e.w->c.rtx_in, 1);
	sfu__flush(e.w);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);      /* forwarded as the original */
	TEST_EQ(h.pt, SUB_PT_VP8);
	TEST_EQ(h.seq, (uint16_t)(first_out + 5));
	TEST_EQ(h.payload_len, 30);
	payload_fill(x, 30, 205);
	TEST_MEMEQ(b + h.payload_off, x, 30);
	/* a padding-only RTX probe (no OSN) is dropped quietly */
	{
		struct rtpb r = { .pt = PT_RTX, .seq = 7001, .ssrc = V_RTX_SSRC,
				  .level = -1, .pad = 100 };
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
		TEST_EQ(e.w->c.rtx_in, 1);
	}
	/* 206 only is asked for again, up to SFU_NACK_TRIES times */
	for (int k = 1; k < SFU_NACK_TRIES; k++) {
		e.w->now += SFU_NACK_RETRY_MS;
		sfu__nack_tick(e.w);
		sfu__flush(e.w);
		TEST_EQ(nack_at_pub(&e, seqs, 64, &n), 0);
		TEST_EQ(n, 1);
		TEST_EQ(seqs[0], 206);
	}
	/* then a key frame instead (through the throttle: the subscription's
	 * request went out at T0) */
	e.w->now += SFU_NACK_RETRY_MS;
	sfu__nack_tick(e.w);
	sfu__flush(e.w);
	TEST_ASSERT(quiet(e.fd[PUB]));
	TEST_ASSERT(pub->tracks[0]->st[0].pli_pending);
	e.w->now = T0 + SFU_PLI_INTERVAL_MS;
	sfu__nack_tick(e.w);
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_EQ(plis_at_pub(&e, &count), 0);
	TEST_EQ(count, 1);
	e.w->now += 1000;
	sfu__nack_tick(e.w);
	sfu__keyframes_tick(e.w);
	sfu__flush(e.w);
	TEST_ASSERT(quiet(e.fd[PUB]));
	/* a jump beyond the NACK window asks for a key frame at once */
	{
		struct rtpb r = rtp_video(210 + SFU_NACK_WINDOW, 0, 30);
		uint64_t before = e.w->c.pli_out;
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
		TEST_EQ(e.w->c.pli_out, before + 1);
		e.w->now += 100;
		sfu__nack_tick(e.w);
		sfu__flush(e.w);
		TEST_EQ(plis_at_pub(&e, &count), 0);
		TEST_EQ(count, 1);
	}
	env_close(&e);
	return 0;
}

/* Audio levels (RFC 6464) are averaged per track into SFU_EV_LEVEL. */
int test_sfu_levels(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	size_t i, nlev = 0;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	for (i = 0; i < 4; i++) {
		struct rtpb r = { .pt = PT_OPUS, .seq = (uint16_t)(10 + i), .ts = 960u * (uint32_t)i,
				  .ssrc = A_SSRC, .mid = "a0", .level = (int)(10 * i),
				  .voice = true, .plen = 20 };
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
	}
	sfu__levels_tick(e.w);
	poll_events(&e);
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
	TEST_EQ(poll_events(&e), 0);
	env_close(&e);
	return 0;
}

/* ---- congestion control feedback ----------------------------------------- */

/* Reads one transport-cc feedback at the publisher. */
static int twcc_at_pub(struct env *e, struct rtcp_twcc *fb,
		       struct rtcp_twcc_status *st, size_t cap)
{
	uint8_t b[PKT];
	size_t len;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;

	TEST_EQ(recv_rtcp(e, PUB, b, &len), 0);
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
	struct env e;
	struct sfu_transport *pub, *sub;
	struct rtcp_twcc fb;
	struct rtcp_twcc_status st[16];
	static const uint16_t tw[] = { 10, 11, 13, 12, 14, 14 };
	int64_t t0;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	e.w->now_us = sfu__now_us();
	/* arrivals 1 ms apart, 12 and 13 swapped, 14 twice */
	for (int i = 0; i < 6; i++) {
		struct rtpb r = rtp_video((uint16_t)(50 + i), 0, 20);
		r.has_twcc = true;
		r.twcc = tw[i];
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
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
	TEST_ASSERT(quiet(e.fd[PUB]));
	/* nothing new: no feedback */
	sfu__twcc_tick(e.w);
	sfu__flush(e.w);
	TEST_ASSERT(quiet(e.fd[PUB]));
	/* 15 lost; a late 12 is not reported again */
	for (int i = 0; i < 3; i++) {
		struct rtpb r = rtp_video((uint16_t)(60 + i), 0, 20);
		r.has_twcc = true;
		r.twcc = i == 0 ? 12 : (uint16_t)(15 + i);
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
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
	env_close(&e);
	return 0;
}

/* ---- reports -------------------------------------------------------------- */

int test_sfu_reports(void)
{
	struct env e;
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

	TEST_EQ(scene(&e, &pub, &sub), 0);
	/* nothing received, nothing forwarded: no reports */
	sfu__reports_tick(e.w);
	TEST_EQ(e.w->nsend, 0);
	for (int i = 0; i < 5; i++) {
		struct rtpb r = rtp_video((uint16_t)(65534 + i), 1000u * (uint32_t)i, 100);
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 5; i++) {
		TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
		last_ts = h.ts;
	}
	e.w->now += 500;
	sfu__reports_tick(e.w);
	sfu__flush(e.w);
	/* RR to the publisher */
	TEST_EQ(recv_rtcp(&e, PUB, b, &n), 0);
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_RR);
	TEST_EQ(pkt.sender_ssrc, SFU_SSRC_SFU);
	TEST_EQ(pkt.fmt, 1); /* the audio track has received nothing */
	TEST_EQ(rtcp_report_block(&pkt, 0, &rb), 0);
	TEST_EQ(rb.ssrc, V_SSRC);
	TEST_EQ(rb.ext_highest_seq, 0x10000u + 2);
	TEST_ASSERT(quiet(e.fd[PUB]));
	/* SR to the subscriber for the forwarded video only */
	while (recv_wait(e.fd[SUB], b, sizeof(b), 20) > 0) {
		TEST_ASSERT(!seen_sr);
		seen_sr = true;
	}
	TEST_ASSERT(seen_sr);
	/* again, read properly this time */
	e.w->now += 1000;
	sfu__reports_tick(e.w);
	sfu__flush(e.w);
	drain(e.fd[PUB]);
	TEST_EQ(recv_rtcp(&e, SUB, b, &n), 0);
	rtcp_iter_init(&it, b, n);
	TEST_EQ(rtcp_next(&it, &pkt), 1);
	TEST_EQ(pkt.type, RTCP_SR);
	TEST_EQ(pkt.sender_ssrc, SV_SSRC);
	TEST_EQ(rtcp_sr_parse(&pkt, &sr), 0);
	TEST_EQ(sr.pkt_count, 5);
	TEST_EQ(sr.octet_count, 500);
	/* 1.5 s of 90 kHz after the last forwarded timestamp */
	TEST_EQ(sr.rtp_ts, last_ts + 135000u);
	TEST_ASSERT(quiet(e.fd[SUB]));

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
			struct rtpb r = rtp_video((uint16_t)(round * 10 + (uint32_t)i),
						  round * 9000u + 3000u * (uint32_t)i, 10);
			TEST_EQ(send_rtp(&e, PUB, &r), 0);
		}
		sfu__flush(e.w);
		for (int i = 0; i < 3; i++) {
			TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
			TEST_EQ(h.ssrc, ssrc);
			last_ts = h.ts;
		}
		e.w->now += 250;
		sfu__reports_tick(e.w);
		sfu__flush(e.w);
		drain(e.fd[PUB]);
		TEST_EQ(recv_rtcp(&e, SUB, b, &n), 0);
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_EQ(pkt.type, RTCP_SR);
		TEST_EQ(pkt.sender_ssrc, ssrc);
		TEST_EQ(rtcp_sr_parse(&pkt, &sr), 0);
		TEST_EQ(sr.pkt_count, 3);
		TEST_EQ(sr.rtp_ts, last_ts + 250u * 90u);
		TEST_ASSERT(quiet(e.fd[SUB]));
	}
	env_close(&e);
	return 0;
}

/* ---- life cycle ----------------------------------------------------------- */

int test_sfu_track_sub_rules(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	struct sfu_track_params tp;
	struct sfu_sub_params sp;

	TEST_EQ(scene(&e, &pub, &sub), 0);
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
	env_close(&e);
	return 0;
}

int test_sfu_free_paths(void)
{
	struct env e;
	struct sfu_transport *pub, *sub, *sub2;
	struct sfu_sub_params sp;
	struct sfu_track *tv, *ta;
	struct rtpb r;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	tv = pub->tracks[0];
	ta = pub->tracks[1];
	sub2 = open_tp(&e, TP_SUB2, false, SUB2_UFRAG, SUB2_PWD);
	TEST_EQ(key_tp(&e, sub2, SUB2, true, 0x44), 0);
	TEST_EQ(ice(&e, SUB2, SUB2_UFRAG, SUB2_PWD, true), 0);
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB2;
	sp.pt_in[0] = PT_VP8;
	sp.pt_out[0] = SUB_PT_VP8;
	sp.track = TR_VIDEO;
	sp.ssrc = S2V_SSRC;
	sfu__subscribe(e.w, &sp);
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
	r = rtp_video(1, 1, 10);
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_forwarded, 1);
	sfu__flush(e.w);
	TEST_ASSERT(quiet(e.fd[SUB]));
	drain(e.fd[SUB2]);
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
	TEST_EQ(send_pli(&e, SUB2, S2V_SSRC + 1), 0);
	TEST_EQ(e.w->c.pli_out, 0);

	/* closing a subscriber unlinks its outs from the track */
	sfu__transport_close(e.w, TP_SUB2);
	TEST_ASSERT(sfu__transport_find(e.w, TP_SUB2) == NULL);
	TEST_EQ(count_track_outs(tv), 1);
	TEST_EQ(tv->outs->sub, sub);
	r = rtp_video(2, 1, 10);
	TEST_EQ(send_rtp(&e, PUB, &r), 0);
	TEST_EQ(e.w->c.rtp_forwarded, 2);

	/* closing the publisher frees its tracks and the subscriber's outs */
	sfu__transport_close(e.w, TP_PUB);
	TEST_ASSERT(sfu__transport_find(e.w, TP_PUB) == NULL);
	TEST_ASSERT(sub->outs == NULL);
	/* its ufrag and address are gone */
	{
		uint8_t b[PKT], tid[STUN_TID_LEN];
		size_t n = make_check(b, PUB_UFRAG, PUB_PWD, true, tid);
		uint64_t d = e.w->c.stun_dropped, u = e.w->c.unknown_source;
		deliver(&e, PUB, b, n);
		TEST_EQ(e.w->c.stun_dropped, d + 1);
		b[0] = 0x80;
		deliver(&e, PUB, b, 40);
		TEST_EQ(e.w->c.unknown_source, u + 1);
	}
	/* the subscriber's PLI names a stream that no longer exists */
	TEST_EQ(send_pli(&e, SUB, SV_SSRC + 100), 0);
	/* the rest goes with free_all in env_close */
	sfu__transport_close(e.w, 12345);
	env_close(&e);
	return 0;
}

/* A transport that is still in its DTLS handshake, with queued close. */
int test_sfu_close_during_dtls(void)
{
	struct env e;
	struct sfu_transport_params p;
	struct sfu_transport *t;
	uint8_t b[PKT];
	uint8_t fp[32];
	long n;

	TEST_EQ(env_open(&e), 0);
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
	TEST_EQ(ice(&e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_ASSERT(t->dtls);
	/* a fingerprint never changes */
	fp[0] ^= 1;
	sfu__transport_remote_fp(e.w, TP_PUB, fp);
	TEST_EQ(t->remote_fp[0], 0x5a);
	/* DTLS from a stranger: unknown source */
	memset(b, 0, 13);
	b[0] = 22;
	deliver(&e, STRANGER, b, 13);
	TEST_EQ(e.w->c.unknown_source, 1);
	sfu__transport_close(e.w, TP_PUB);
	sfu__flush(e.w);
	/* nothing was said yet, so close sends at most an alert */
	n = recv_wait(e.fd[PUB], b, sizeof(b), 20);
	TEST_ASSERT(n < 0 || (b[0] >= 20 && b[0] <= 63));
	env_close(&e);
	return 0;
}

/* ---- DTLS through the worker ---------------------------------------------- */

/* The OpenSSL client of a tlink, talking to the worker instead of the
 * tlink's own server: runs the client, cuts its output into datagrams at
 * record boundaries (as dtls_testpeer.c does) and hands them to the worker
 * from browser `who`, then flushes the worker's answers. */
static void client_to_worker(struct env *e, struct tlink *l, int who)
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
			deliver(e, who, out + start, off - start);
			start = off;
		}
		off += ri.record_len;
	}
	if (off > start)
		deliver(e, who, out + start, off - start);
	sfu__flush(e->w);
}

static void dtls_exchange(struct env *e, struct tlink *l, int who, int rounds)
{
	uint8_t b[PKT];
	long n;

	for (int i = 0; i < rounds; i++) {
		client_to_worker(e, l, who);
		while ((n = recv_wait(e->fd[who], b, sizeof(b), 10)) > 0)
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
	struct env e;
	struct tlink l;
	struct tlink_opts o = { .profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
				.client_rto_ms = 10 };
	struct sfu_transport *pub, *sub;
	struct dtls_srtp_keys k;
	uint8_t fp[32], b[PKT];
	size_t n;
	struct rtp_hdr h;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	/* the subscriber gets its keys from a real handshake instead */
	srtps_free(sub->srtp);
	sub->srtp = NULL;
	srtps_free(e.b[SUB]);
	e.b[SUB] = NULL;
	TEST_EQ(tlink_open(&l, &o), 0);
	TEST_EQ(client_fp(&l, fp), 0);
	TEST_ASSERT(sub->dtls == NULL);
	/* DTLS before the fingerprint is known: dropped (the client retries) */
	dtls_exchange(&e, &l, SUB, 1);
	TEST_ASSERT(sub->dtls == NULL);
	sfu__transport_remote_fp(e.w, TP_SUB, fp);
	TEST_ASSERT(sub->dtls != NULL);
	/* the client retransmits its ClientHello */
	usleep(30 * 1000);
	TEST_EQ(DTLSv1_handle_timeout(l.cli), 1);
	dtls_exchange(&e, &l, SUB, 6);
	TEST_ASSERT(SSL_is_init_finished(l.cli));
	TEST_EQ(dtls_conn_state(sub->dtls), DTLS_STATE_CONNECTED);
	TEST_ASSERT(sub->srtp != NULL);
	TEST_EQ(e.w->c.dtls_connected, 1);
	{
		/* one "connected" (the subscription also reported the layer
		 * its video starts at: SFU_EV_QUALITY) */
		size_t nev = poll_events(&e), connected = 0;
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
		struct rtpb r = rtp_video(77, 1234, 300);
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_EQ(h.payload_len, 300);
	/* more DTLS after the handshake changes nothing */
	dtls_exchange(&e, &l, SUB, 1);
	TEST_EQ(poll_events(&e), 0);
	TEST_EQ(e.w->c.dtls_connected, 1);
	/* the transport ticks without firing DTLS timers */
	sfu__transports_tick(e.w);
	TEST_EQ(poll_events(&e), 0);
	/* close: the client hears close_notify */
	sfu__transport_close(e.w, TP_SUB);
	sfu__flush(e.w);
	TEST_ASSERT(recv_wait(e.fd[SUB], b, sizeof(b), 200) > 0);
	TEST_EQ(b[0], 21); /* an alert record */
	tlink_close(&l);
	env_close(&e);
	return 0;
}

int test_sfu_dtls_wrong_fingerprint(void)
{
	struct env e;
	struct tlink l;
	struct tlink_opts o = { .profiles = "SRTP_AEAD_AES_128_GCM" };
	struct sfu_transport *t;
	uint8_t fp[32];

	TEST_EQ(env_open(&e), 0);
	t = open_tp(&e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	TEST_EQ(tlink_open(&l, &o), 0);
	TEST_EQ(client_fp(&l, fp), 0);
	fp[31] ^= 0x80;
	sfu__transport_remote_fp(e.w, TP_SUB, fp);
	TEST_EQ(ice(&e, SUB, SUB_UFRAG, SUB_PWD, true), 0);
	TEST_ASSERT(t->dtls);
	dtls_exchange(&e, &l, SUB, 6);
	TEST_EQ(dtls_conn_state(t->dtls), DTLS_STATE_FAILED);
	TEST_ASSERT(t->srtp == NULL);
	TEST_EQ(e.w->c.dtls_failed, 1);
	TEST_EQ(poll_events(&e), 1);
	TEST_EQ(e.ev[0].type, SFU_EV_FAILED);
	TEST_EQ(e.ev[0].transport, TP_SUB);
	/* once */
	dtls_exchange(&e, &l, SUB, 1);
	sfu__transports_tick(e.w);
	TEST_EQ(poll_events(&e), 0);
	tlink_close(&l);
	env_close(&e);
	return 0;
}

/* ---- simulcast ------------------------------------------------------------ */

enum { L0_SSRC = 0x51000000u, L1_SSRC = 0x51000001u, L2_SSRC = 0x51000002u };

/* A VP8 packet of layer `ssrc`: payload descriptor with a 15-bit picture
 * id (RFC 7741 §4.2); a frame's first packet has S set, and its first
 * frame byte's P bit says key frame (0) or not (1). */
static int send_vp8(struct env *e, uint32_t ssrc, uint16_t seq, uint32_t ts,
		    uint16_t pic, bool start, bool key)
{
	struct rtpb r = { .pt = PT_VP8, .seq = seq, .ts = ts, .ssrc = ssrc,
			  .level = -1, .plen = 100 };
	uint8_t b[PKT];
	size_t n = build_rtp(b, &r);

	b[12] = (uint8_t)(0x80 | (start ? 0x10 : 0)); /* X, S */
	b[13] = 0x80;                                 /* I */
	b[14] = (uint8_t)(0x80 | (pic >> 8));         /* M, 15-bit id */
	b[15] = (uint8_t)pic;
	b[16] = key ? 0x00 : 0x01;
	TEST_EQ(srtps_protect_rtp(e->b[PUB], b, &n, sizeof(b)), 0);
	deliver(e, PUB, b, n);
	sfu__flush(e->w);
	return 0;
}

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
static int simulcast_scene(struct env *e, struct sfu_transport **pub,
			   struct sfu_transport **sub, bool audio)
{
	struct sfu_track_params tp;
	struct sfu_sub_params sp;

	TEST_EQ(env_open(e), 0);
	*pub = open_tp(e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	*sub = open_tp(e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	TEST_ASSERT(*pub && *sub);
	TEST_EQ(key_tp(e, *pub, PUB, true, 0x10), 0);
	TEST_EQ(key_tp(e, *sub, SUB, false, 0x20), 0);
	TEST_EQ(ice(e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_EQ(ice(e, SUB, SUB_UFRAG, SUB_PWD, true), 0);
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
	struct env e;
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
	sfu__flush(e.w);
	drain(e.fd[PUB]);

	/* a delta of the top layer: nothing to start a picture with */
	TEST_EQ(send_vp8(&e, L2_SSRC, 700, 9000, 20, true, false), 0);
	TEST_ASSERT(quiet(e.fd[SUB]));
	/* the lowest layer's key frame comes first: it starts the picture
	 * while the top layer's key frame is awaited */
	TEST_EQ(send_vp8(&e, L0_SSRC, 100, 9000, 500, true, true), 0);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_EQ(vp8_pic(b, &h), 500);
	TEST_ASSERT(o->need_key && o->map.layer == 0 && o->target == 2);
	seq = h.seq;
	/* the top layer's key frame: the switch, forwarded from there on */
	e.w->now += 33;
	TEST_EQ(send_vp8(&e, L2_SSRC, 701, 12000, 21, true, true), 0);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.ssrc, SV_SSRC);
	TEST_EQ(h.seq, (uint16_t)(seq + 1));
	seq = h.seq;
	ts = h.ts;
	pic = vp8_pic(b, &h);
	TEST_EQ(pic, 501);
	TEST_EQ(e.w->c.layer_switches, 1);
	TEST_EQ(send_vp8(&e, L2_SSRC, 702, 12000, 21, false, false), 0);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 1));
	TEST_EQ(h.ts, ts);

	/* a small tile: layer 0, which waits for its key frame while the top
	 * layer goes on */
	e.w->now += 40;
	sfu__set_view(e.w, TP_SUB, TR_VIDEO, 0);
	TEST_EQ(o->target, 0);
	TEST_ASSERT(o->need_key);
	TEST_EQ(send_vp8(&e, L0_SSRC, 101, 12000, 501, true, false), 0);
	TEST_ASSERT(quiet(e.fd[SUB]));
	TEST_EQ(send_vp8(&e, L2_SSRC, 703, 15000, 22, true, false), 0);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 2));
	/* layer 0's key frame: the switch, continuous in seq, ts and pic */
	e.w->now += 33;
	TEST_EQ(send_vp8(&e, L0_SSRC, 102, 18000, 502, true, true), 0);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 3));
	TEST_ASSERT((uint32_t)(h.ts - (ts + 3000)) > 0 &&
		    (uint32_t)(h.ts - (ts + 3000)) < 0x80000000u);
	TEST_EQ(vp8_pic(b, &h), (uint16_t)(pic + 2));
	TEST_EQ(e.w->c.layer_switches, 2);
	/* the old layer stops, the new one goes on */
	TEST_EQ(send_vp8(&e, L2_SSRC, 704, 18000, 23, true, false), 0);
	TEST_ASSERT(quiet(e.fd[SUB]));
	TEST_EQ(send_vp8(&e, L0_SSRC, 103, 21000, 503, true, false), 0);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 4));
	TEST_EQ(vp8_pic(b, &h), (uint16_t)(pic + 3));
	/* a late packet of layer 0 from before the switch: dropped (its
	 * sequence number was the top layer's) */
	TEST_EQ(send_vp8(&e, L0_SSRC, 99, 9000, 500, false, false), 0);
	TEST_ASSERT(quiet(e.fd[SUB]));

	/* paused by the view: nothing; resumed: from a key frame, continuous */
	sfu__set_view(e.w, TP_SUB, TR_VIDEO, SFU_LAYER_PAUSED);
	TEST_EQ(o->target, -1);
	TEST_EQ(send_vp8(&e, L0_SSRC, 104, 24000, 504, true, true), 0);
	TEST_ASSERT(quiet(e.fd[SUB]));
	sfu__set_view(e.w, TP_SUB, TR_VIDEO, 1);
	TEST_EQ(o->target, 1);
	TEST_EQ(send_vp8(&e, L1_SSRC, 300, 27000, 77, true, false), 0);
	TEST_ASSERT(quiet(e.fd[SUB]));
	TEST_EQ(send_vp8(&e, L1_SSRC, 301, 30000, 78, true, true), 0);
	TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	TEST_EQ(h.seq, (uint16_t)(seq + 5));
	TEST_EQ(vp8_pic(b, &h), (uint16_t)(pic + 4));
	TEST_EQ(e.w->c.layer_switches, 3);

	/* the subscriber heard of every change of layer and reason */
	nev = poll_events(&e);
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
	nev = poll_events(&e);
	TEST_ASSERT(nev >= 1);
	TEST_EQ(e.ev[nev - 1].type, SFU_EV_LAYERS);
	TEST_EQ(e.ev[nev - 1].transport, TP_PUB);
	TEST_EQ(e.ev[nev - 1].mask, 0x3);
	env_close(&e);
	return 0;
}

/* Audio first: a subscriber whose estimate (here from REMB, the fallback)
 * cannot carry the lowest video layer keeps its audio and has the video
 * paused for bandwidth; as the estimate grows it gets higher layers. */
int test_sfu_simulcast_bandwidth(void)
{
	struct env e;
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
	TEST_EQ(send_rtcp(&e, SUB, b, n), 0);
	TEST_EQ(e.w->c.remb_in, 1);
	TEST_ASSERT(sfu__congestion_estimate(e.w, sub) <= 100000);
	sfu__allocate(e.w, sub);
	TEST_EQ(ov->target, -1);
	TEST_EQ(ov->reason, SFU_REASON_BANDWIDTH);
	{
		/* and audio still flows */
		struct rtpb r = { .pt = PT_OPUS, .seq = 5, .ts = 960, .ssrc = A_SSRC,
				  .level = -1, .plen = 80 };
		struct rtp_hdr h;
		sfu__flush(e.w);
		drain(e.fd[SUB]);
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
		sfu__flush(e.w);
		TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
		TEST_EQ(h.ssrc, SA_SSRC);
	}
	/* 400 kbit/s: the lowest layer (150 kbit/s nominal), still limited */
	e.w->now += 1000;
	TEST_EQ(rtcp_remb_write(b, sizeof(b), SUB_OWN_SSRC, 400000, &media, 1, &n), 0);
	TEST_EQ(send_rtcp(&e, SUB, b, n), 0);
	sfu__allocate(e.w, sub);
	TEST_EQ(ov->target, 0);
	TEST_EQ(ov->reason, SFU_REASON_BANDWIDTH);
	/* 3 Mbit/s: the top layer the view asks for (layers the publisher
	 * does not send are not given: these ones flow) */
	e.w->now += 1000;
	TEST_EQ(send_vp8(&e, L1_SSRC, 10, 3000, 1, true, false), 0);
	TEST_EQ(send_vp8(&e, L2_SSRC, 10, 3000, 1, true, false), 0);
	TEST_EQ(rtcp_remb_write(b, sizeof(b), SUB_OWN_SSRC, 3000000, &media, 1, &n), 0);
	TEST_EQ(send_rtcp(&e, SUB, b, n), 0);
	sfu__allocate(e.w, sub);
	TEST_EQ(ov->target, 2);
	TEST_EQ(ov->reason, SFU_REASON_OK);
	env_close(&e);
	return 0;
}

/* Reports in the worker's loop: each transport once per SFU_REPORT_MS, at
 * a phase of its own (not all of a worker's in one tick), a subscriber's
 * SRs in one compound packet. */
int test_sfu_reports_spread(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	uint8_t b[PKT];
	size_t n;
	struct rtp_hdr h;
	int at_pub = 0, at_sub = 0;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	for (int i = 0; i < 3; i++) {
		struct rtpb r = rtp_video((uint16_t)(100 + i), 3000u * (uint32_t)i, 100);
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
	}
	{
		/* audio too (its SSRC learned from the MID): two streams */
		struct rtpb r = { .pt = PT_OPUS, .seq = 7, .ts = 960, .ssrc = A_SSRC,
				  .mid = "a0", .level = 30, .plen = 60 };
		TEST_EQ(send_rtp(&e, PUB, &r), 0);
	}
	sfu__flush(e.w);
	for (int i = 0; i < 4; i++)
		TEST_EQ(recv_rtp(&e, SUB, b, &n, &h), 0);
	/* two periods of 10 ms ticks */
	for (int tick = 0; tick < 2 * SFU_REPORT_MS / SFU_TICK_MS; tick++) {
		long got;
		e.w->now += SFU_TICK_MS;
		sfu__reports_due(e.w);
		sfu__flush(e.w);
		while (recv_wait(e.fd[PUB], b, sizeof(b), 0) > 0)
			at_pub++;
		while ((got = recv_wait(e.fd[SUB], b, sizeof(b), 0)) > 0) {
			/* one compound packet with both streams' SRs */
			struct rtcp_iter it;
			struct rtcp_pkt pkt;
			int srs = 0;
			n = (size_t)got;
			TEST_EQ(srtps_unprotect_rtcp(e.b[SUB], b, &n), 0);
			rtcp_iter_init(&it, b, n);
			while (rtcp_next(&it, &pkt) == 1) {
				TEST_EQ(pkt.type, RTCP_SR);
				srs++;
			}
			TEST_EQ(srs, 2);
			at_sub++;
		}
	}
	TEST_EQ(at_pub, 2);
	TEST_EQ(at_sub, 2);
	TEST_ASSERT(pub->next_report_ms > e.w->now);
	TEST_ASSERT(sub->next_report_ms > e.w->now);
	TEST_ASSERT(pub->next_report_ms <= e.w->now + SFU_REPORT_MS);
	env_close(&e);
	return 0;
}

/* A viewer in its first SFU_NEW_VIEWER_MS asks with SFU_PLI_MIN_MS
 * between requests, not SFU_PLI_INTERVAL_MS: its first key frames may
 * have come under a key it did not hold yet. */
int test_sfu_pli_new_viewer(void)
{
	struct env e;
	struct sfu_transport *pub, *sub;
	int count, total = 0;

	TEST_EQ(scene(&e, &pub, &sub), 0);
	e.w->now = T0 + 100;
	for (int i = 0; i < 10; i++) {
		TEST_EQ(send_pli(&e, SUB, SV_SSRC), 0);
		sfu__keyframes_tick(e.w);
		sfu__flush(e.w);
		TEST_EQ(plis_at_pub(&e, &count), 0);
		total += count;
		e.w->now += SFU_PLI_MIN_MS / 2;
	}
	/* 10 requests over 500 ms: one every SFU_PLI_MIN_MS */
	TEST_ASSERT(total >= 4 && total <= 6);
	env_close(&e);
	return 0;
}
