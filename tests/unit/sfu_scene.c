/*
 * sfu_scene — the hand-driven media worker and the browsers around it
 * (sfu_scene.h says what the tests get).
 */
#include "sfu_scene.h"

#include "test.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtls/dtls.h"
#include "rtcp/rtcp.h"
#include "srtp/srtp_session.h"
#include "util/log.h"

/* ---- sockets ------------------------------------------------------------- */

int scene_udp_bind(struct sockaddr_storage *a, socklen_t *len)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int buf = 4 << 20; /* the kernel caps it at rmem_max */

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

long scene_recv_wait(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pf, 1, ms) <= 0)
		return -1;
	n = recv(fd, buf, cap, MSG_DONTWAIT);
	return n < 0 ? -1 : (long)n;
}

bool scene_quiet(int fd)
{
	uint8_t b[PKT];
	return scene_recv_wait(fd, b, sizeof(b), 20) < 0;
}

void scene_drain(int fd)
{
	uint8_t b[PKT];
	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		;
}

/* ---- the worker ---------------------------------------------------------- */

static void on_event(const struct sfu_event *ev, void *arg)
{
	struct scene *e = arg;
	if (e->nev < MAX_EV)
		e->ev[e->nev++] = *ev;
}

size_t scene_poll_events(struct scene *e)
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

int scene_open(struct scene *e)
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
	sfu__worker_init(w, e->s, 0);
	w->now = T0;
	if (dtls_ctx_new(&w->dtls) != 0)
		return -1;
	w->fd = scene_udp_bind(NULL, NULL);
	if (w->fd < 0)
		return -1;
	for (int i = 0; i < NB; i++) {
		e->fd[i] = scene_udp_bind(&e->addr[i], &e->alen);
		if (e->fd[i] < 0)
			return -1;
	}
	return 0;
}

void scene_close(struct scene *e)
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

void scene_deliver(struct scene *e, int who, const uint8_t *p, size_t len)
{
	uint8_t b[SFU_MTU];

	if (len > sizeof(b))
		return;
	memcpy(b, p, len);
	sfu__packet(e->w, &e->addr[who], e->alen, b, len);
}

struct sfu_transport *scene_open_tp(struct scene *e, uint32_t id, bool pub,
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

int scene_key_tp(struct scene *e, struct sfu_transport *t, int who, bool gcm,
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

int scene_rekey_browser(struct scene *e, int who, bool gcm, uint8_t seed)
{
	struct dtls_srtp_keys k;
	int rc;

	srtps_free(e->b[who]);
	e->b[who] = NULL;
	fixed_keys(&k, gcm, seed);
	rc = srtps_new(&k, false, &e->b[who]);
	dtls_srtp_keys_wipe(&k);
	return rc;
}

/* ---- ICE ----------------------------------------------------------------- */

int scene_open_sub2(struct scene *e, bool gcm, uint8_t seed, bool video,
		    struct sfu_transport **sub2)
{
	struct sfu_sub_params sp;

	*sub2 = scene_open_tp(e, TP_SUB2, false, SUB2_UFRAG, SUB2_PWD);
	TEST_ASSERT(*sub2 != NULL);
	/* ICE first, as in a browser: a check sets the address of a
	 * transport without keys only */
	TEST_EQ(scene_ice(e, SUB2, SUB2_UFRAG, SUB2_PWD, true), 0);
	TEST_EQ(scene_key_tp(e, *sub2, SUB2, gcm, seed), 0);
	if (!video)
		return 0;
	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB2;
	sp.track = TR_VIDEO;
	sp.ssrc = S2V_SSRC;
	sp.pt_in[0] = PT_VP8;
	sp.pt_out[0] = SUB_PT_VP8;
	sfu__subscribe(e->w, &sp);
	return 0;
}

size_t scene_make_check(uint8_t *out, const char *ufrag, const char *pwd,
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

int scene_expect_success(struct scene *e, int who,
			 const uint8_t tid[STUN_TID_LEN], const char *pwd)
{
	uint8_t b[PKT];
	struct stun_msg m;
	long n = scene_recv_wait(e->fd[who], b, sizeof(b), 1000);
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

int scene_ice(struct scene *e, int who, const char *ufrag, const char *pwd,
	      bool use_candidate)
{
	uint8_t b[PKT], tid[STUN_TID_LEN];
	size_t n = scene_make_check(b, ufrag, pwd, use_candidate, tid);

	TEST_ASSERT(n > 0);
	scene_deliver(e, who, b, n);
	sfu__flush(e->w);
	return scene_expect_success(e, who, tid, pwd);
}

bool scene_peer_is(const struct sfu_transport *t, const struct scene *e,
		   int who)
{
	const struct sockaddr_in *a = (const void *)&t->peer;
	const struct sockaddr_in *b = (const void *)&e->addr[who];
	return t->have_peer && a->sin_family == AF_INET &&
	       a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* ---- RTP and RTCP as a browser sends them -------------------------------- */

void scene_payload_fill(uint8_t *p, size_t n, uint16_t seq)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seq * 7 + 3);
}

size_t scene_build_rtp(uint8_t *b, const struct scene_rtp *r)
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
	scene_payload_fill(b + n, r->plen, r->seq);
	n += r->plen;
	if (r->pad) {
		b[0] |= 0x20;
		memset(b + n, 0, r->pad - 1u);
		n += r->pad;
		b[n - 1] = r->pad;
	}
	return n;
}

int scene_send_rtp(struct scene *e, int who, const struct scene_rtp *r)
{
	uint8_t b[PKT];
	size_t n = scene_build_rtp(b, r);

	TEST_EQ(srtps_protect_rtp(e->b[who], b, &n, sizeof(b)), 0);
	scene_deliver(e, who, b, n);
	return 0;
}

struct scene_rtp scene_rtp_video(uint16_t seq, uint32_t ts, size_t plen)
{
	return (struct scene_rtp){ .pt = PT_VP8, .seq = seq, .ts = ts,
				   .ssrc = V_SSRC, .level = -1, .plen = plen };
}

int scene_send_vp8(struct scene *e, uint32_t ssrc, uint16_t seq, uint32_t ts,
		   uint16_t pic, bool start, bool key)
{
	struct scene_rtp r = { .pt = PT_VP8, .seq = seq, .ts = ts, .ssrc = ssrc,
			       .level = -1, .plen = 100 };
	uint8_t b[PKT];
	size_t n = scene_build_rtp(b, &r);

	b[12] = (uint8_t)(0x80 | (start ? 0x10 : 0)); /* X, S */
	b[13] = 0x80;                                 /* I */
	b[14] = (uint8_t)(0x80 | (pic >> 8));         /* M, 15-bit id */
	b[15] = (uint8_t)pic;
	b[16] = key ? 0x00 : 0x01;
	TEST_EQ(srtps_protect_rtp(e->b[PUB], b, &n, sizeof(b)), 0);
	scene_deliver(e, PUB, b, n);
	sfu__flush(e->w);
	return 0;
}

int scene_recv_rtp(struct scene *e, int who, uint8_t *b, size_t *len,
		   struct rtp_hdr *h)
{
	long n = scene_recv_wait(e->fd[who], b, PKT, 1000);

	TEST_ASSERT(n > 0);
	*len = (size_t)n;
	TEST_ASSERT(!rtp_is_rtcp(b, *len));
	TEST_EQ(srtps_unprotect_rtp(e->b[who], b, len), 0);
	TEST_EQ(rtp_parse(b, *len, h), 0);
	return 0;
}

int scene_recv_rtcp(struct scene *e, int who, uint8_t *b, size_t *len)
{
	long n = scene_recv_wait(e->fd[who], b, PKT, 1000);

	TEST_ASSERT(n > 0);
	*len = (size_t)n;
	TEST_ASSERT(rtp_is_rtcp(b, *len));
	TEST_EQ(srtps_unprotect_rtcp(e->b[who], b, len), 0);
	return 0;
}

int scene_send_rtcp(struct scene *e, int who, uint8_t *b, size_t n)
{
	TEST_EQ(srtps_protect_rtcp(e->b[who], b, &n, PKT), 0);
	scene_deliver(e, who, b, n);
	return 0;
}

int scene_send_pli(struct scene *e, int who, uint32_t media)
{
	uint8_t b[PKT];
	size_t n;

	TEST_EQ(rtcp_pli_write(b, sizeof(b), SUB_OWN_SSRC, media, &n), 0);
	return scene_send_rtcp(e, who, b, n);
}

int scene_plis_at_pub(struct scene *e, uint32_t *media, int cap, int *count)
{
	uint8_t b[PKT];
	size_t n;
	struct rtcp_iter it;
	struct rtcp_pkt pkt;

	*count = 0;
	for (;;) {
		long r = scene_recv_wait(e->fd[PUB], b, sizeof(b), 20);
		if (r < 0)
			break;
		n = (size_t)r;
		TEST_ASSERT(rtp_is_rtcp(b, n));
		TEST_EQ(srtps_unprotect_rtcp(e->b[PUB], b, &n), 0);
		rtcp_iter_init(&it, b, n);
		TEST_EQ(rtcp_next(&it, &pkt), 1);
		TEST_ASSERT(rtcp_is_pli(&pkt));
		TEST_EQ(pkt.sender_ssrc, SFU_SSRC_SFU);
		TEST_EQ(rtcp_next(&it, &pkt), 0);
		TEST_ASSERT(*count < cap);
		media[(*count)++] = pkt.media_ssrc;
	}
	return 0;
}

/* ---- the scene most tests use -------------------------------------------- */

int scene_transports(struct scene *e, struct sfu_transport **pub,
		     struct sfu_transport **sub)
{
	TEST_EQ(scene_open(e), 0);
	*pub = scene_open_tp(e, TP_PUB, true, PUB_UFRAG, PUB_PWD);
	*sub = scene_open_tp(e, TP_SUB, false, SUB_UFRAG, SUB_PWD);
	TEST_ASSERT(*pub && *sub);
	/* ICE first, as in a browser: a check sets the address of a
	 * transport without keys only (after that, addresses must prove
	 * themselves: transport.c) */
	TEST_EQ(scene_ice(e, PUB, PUB_UFRAG, PUB_PWD, true), 0);
	TEST_EQ(scene_ice(e, SUB, SUB_UFRAG, SUB_PWD, true), 0);
	TEST_EQ(scene_key_tp(e, *pub, PUB, true, 0x10), 0);
	TEST_EQ(scene_key_tp(e, *sub, SUB, false, 0x20), 0);
	return 0;
}

int scene_pub_sub(struct scene *e, struct sfu_transport **pub,
		  struct sfu_transport **sub)
{
	struct sfu_track_params tp;
	struct sfu_sub_params sp;

	TEST_EQ(scene_transports(e, pub, sub), 0);

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
	scene_drain(e->fd[PUB]);
	scene_drain(e->fd[SUB]);
	return 0;
}

