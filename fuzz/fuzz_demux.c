/*
 * fuzz_demux — libFuzzer target for the media worker's demultiplexer and
 * forwarding path (src/sfu, with src/stun, src/dtls, src/srtp, src/rtp,
 * src/rtcp underneath).
 *
 * Set up once: a struct sfu_worker built by hand as worker_new() builds
 * one (UDP socket on 127.0.0.1, DTLS context with the cookie exchange off
 * so a ClientHello gets a real answer), pointing at a real sfu_new()
 * instance for its event queue, and three UDP sockets playing a publisher
 * browser, a subscriber browser and a stranger.
 *
 * Per input, a fresh scene: a publisher transport (remote fingerprint
 * known, so DTLS runs) with a video track (SSRC and RTX SSRC from the
 * "SDP", transport-wide sequence numbers) and an audio track (SSRC learned via MID, audio level), a
 * subscriber subscribed to both (video with an RTX stream), SRTP keyed with fixed keys on both sides, peers set by real ICE
 * checks through sfu__packet. Then the input is a list of records
 *
 *     sel:u8  len:u16  bytes[len]
 *
 * and each record is one datagram (or one control command):
 *   sel & 3 == 0, 1, 2   sfu__packet from the publisher's, the subscriber's
 *                        or an unknown address; with sel & 4 the bytes are
 *                        first SRTP/SRTCP-protected with that browser's keys
 *                        (the stranger's: the publisher's, or with sel & 8
 *                        the subscriber's) when they look like RTP/RTCP, so
 *                        the real unprotect-then-forward path is reached,
 *                        and a browser that moved to the stranger's address
 *                        can prove it;
 *   sel & 3 == 3         direct: sel & 16 a control command (bytes[0]:
 *                        unsubscribe, resubscribe, remove or add tracks,
 *                        close, ICE restart, key frame requests, a remote
 *                        fingerprint for the subscriber, a subscriber NACK
 *                        for packets named by their publisher sequence
 *                        numbers, a valid check from the stranger's address
 *                        for either transport, nominating or not);
 *                        else sfu__rtp_in / sfu__rtcp_in (sel & 8) on the
 *                        publisher (sel & 4 clear) or the subscriber,
 *                        bypassing SRTP;
 *   sel >> 5             advances w->now by that many * 137 ms and runs the
 *                        ticks (DTLS/consent, key frames, NACKs, audio
 *                        levels, transport-cc feedback, reports) first.
 * Records are handled as in one of the worker's receive batches: video
 * copies wait (w->defer) until the batch ends, before ticks and after the
 * last record (sfu__fanout).
 * After the last record the worker flushes, and everything the sockets
 * received is checked: every SRTP/SRTCP datagram the worker sent must
 * authenticate under one of the browsers' keys, forwarded RTP must carry
 * one of the subscriber's SSRCs and mapped payload types (or be an RTX
 * retransmission in the subscriber's RTX stream), RTCP must be
 * signed with the SFU's or a subscriber SSRC. A transport's address is
 * the stranger's only after a nominating check from there and a packet
 * protected with its browser's keys from there (a check alone never moves
 * it). Then all transports are closed through the worker's own paths
 * (LeakSanitizer checks them).
 *
 * Simulcast: a third track (mid "v1") has three layers named by rid
 * ("q", "h", "f"; SSRCs learned from the RID and repaired-RID header
 * extensions), and its subscription carries transport-wide sequence
 * numbers, so the subscriber's send-side estimate, the layer allocation,
 * probes (padding-only RTX packets) and views run too. Control commands
 * 0xF0..0xF7 set views, drop and re-add that track and subscription.
 *
 * Each scene has a fresh junk budget (util/srclimit, as worker_new makes
 * one) of only JUNK_BURST datagrams, so that an input can use it up and
 * reach the path that drops a limited source unread. All three browsers
 * are on 127.0.0.1 and so share one budget.
 * A broken invariant calls abort().
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "dtls/dtls.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/sfu_int.h"
#include "srtp/srtp_session.h"
#include "stun/stun.h"
#include "util/log.h"
#include "util/srclimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	PUB = 0, SUB = 1, STRANGER = 2, NB = 3,
	TP_PUB = 1, TP_SUB = 2,
	TR_VIDEO = 10, TR_AUDIO = 11,
	EXT_MID = 4, EXT_LEVEL = 1, EXT_TWCC = 3, SUB_LEVEL_ID = 5,
	EXT_RID = 6, EXT_RRID = 7, SUB_TWCC_ID = 6,
	TR_SIM = 12, SIM_LAYERS = 3,
	OP_SIM = 0xF0,           /* control bytes from here: simulcast ops */
	PT_VP8 = 96, PT_OPUS = 111, SUB_PT_VP8 = 102, SUB_PT_OPUS = 109,
	PT_RTX = 99, SUB_PT_RTX = 103,
	T0 = 1000000,
	TICK_STEP_MS = 137,
	JUNK_SLOTS = 16,         /* srclimit's smallest table */
	JUNK_BURST = 16,         /* small enough for one input to use up */
	BUF = 65536 + 64,
};

#define V_SSRC 0xAAAA0001u
#define V_RTX_SSRC 0xAAAA1001u
#define SV_SSRC 0x5B000001u
#define SA_SSRC 0x5B000002u
#define SV_RTX_SSRC 0x5B001001u
#define SS_SSRC 0x5B000003u
#define SS_RTX_SSRC 0x5B001003u

static const char *const SIM_RIDS[SIM_LAYERS] = { "q", "h", "f" };

static const char PUB_UFRAG[] = "pubufrag";
static const char PUB_PWD[] = "pubpassword0123456789abc";
static const char SUB_UFRAG[] = "subufrag";
static const char SUB_PWD[] = "subpassword0123456789abc";

/* The publisher's certificate fingerprint: that of the client certificate
 * in the seed fuzz/corpus/dtls/flight_plain_fp, so its second flight gets
 * past the fingerprint check (and fails at Finished, the handshake being
 * someone else's). */
static const uint8_t PUB_FP[32] = {
	0xa2, 0xb8, 0x26, 0x6d, 0xe5, 0xe2, 0xe8, 0x92, 0x9e, 0x4e, 0x14,
	0x45, 0xfe, 0xac, 0xd4, 0x05, 0x05, 0x44, 0x97, 0x66, 0xcf, 0x1f,
	0x9e, 0x27, 0x5c, 0xed, 0x39, 0x7f, 0x41, 0xb1, 0xee, 0xf1,
};

static struct {
	bool ready;
	struct conf conf;
	struct sfu *s;
	struct sfu_worker *w;
	int fd[NB];
	struct sockaddr_storage addr[NB];
	socklen_t alen;
	struct srtps *b[NB];
	uint8_t check_pub[256], check_sub[256];
	size_t check_pub_len, check_sub_len;
	/* per transport (0 publisher, 1 subscriber): the stranger's address
	 * was its candidate (nominated) when a packet under its browser's
	 * keys came from there */
	bool proved[2];
} G;

static uint8_t buf[BUF];
static struct rtcp_twcc tw_fb;
static struct rtcp_twcc_status tw_st[RTCP_TWCC_MAX_STATUS];

static void check(int ok)
{
	if (!ok)
		abort();
}

static void ignore_event(const struct sfu_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static int udp_bind(struct sockaddr_storage *a, socklen_t *len)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rb = 1 << 21;

	check(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	check(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	if (a) {
		memset(a, 0, sizeof(*a));
		memcpy(a, &sin, sizeof(sin));
		*len = sizeof(sin);
	}
	return fd;
}

static size_t make_check(uint8_t *out, size_t cap, const char *ufrag,
			 const char *pwd, uint8_t tidb, bool use_candidate)
{
	char user[64];
	uint8_t tid[STUN_TID_LEN];
	struct stun_binding_request rq;
	size_t len = 0;

	snprintf(user, sizeof(user), "%s:brws", ufrag);
	memset(tid, tidb, sizeof(tid));
	memset(&rq, 0, sizeof(rq));
	rq.tid = tid;
	rq.username = user;
	rq.priority = 0x6e7f1eff;
	rq.role = STUN_ROLE_CONTROLLING;
	rq.tiebreaker = 1;
	rq.use_candidate = use_candidate;
	check(stun_write_binding_request(out, cap, &rq, pwd, strlen(pwd), &len) == 0);
	return len;
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

static void init_once(void)
{
	struct sfu_worker *w;

	log_set_level(LOG_ERROR);
	conf_defaults(&G.conf);
	G.conf.media_port = 0;
	G.conf.media_workers = 1;
	check(sfu_new(&G.conf, ignore_event, NULL, NULL, &G.s) == 0);
	w = calloc(1, sizeof(*w));
	check(w != NULL);
	sfu__worker_init(w, G.s, 0);
	check(dtls_ctx_new(&w->dtls) == 0);
	dtls_ctx_set_cookie_exchange(w->dtls, false);
	w->fd = udp_bind(NULL, NULL);
	G.w = w;
	for (int i = 0; i < NB; i++)
		G.fd[i] = udp_bind(&G.addr[i], &G.alen);
	G.check_pub_len = make_check(G.check_pub, sizeof(G.check_pub), PUB_UFRAG,
				     PUB_PWD, 0x11, true);
	G.check_sub_len = make_check(G.check_sub, sizeof(G.check_sub), SUB_UFRAG,
				     SUB_PWD, 0x22, true);
	G.ready = true;
}

static void deliver(int who, const uint8_t *p, size_t len)
{
	uint8_t b[SFU_MTU];

	if (len > sizeof(b))
		len = sizeof(b); /* the socket would have truncated it */
	memcpy(b, p, len);
	sfu__packet(G.w, &G.addr[who], G.alen, b, len);
}

static void open_tp(uint32_t id, bool pub, const char *ufrag, const char *pwd,
		    bool fp)
{
	struct sfu_transport_params p;

	memset(&p, 0, sizeof(p));
	p.id = id;
	p.publisher = pub;
	snprintf(p.ufrag, sizeof(p.ufrag), "%s", ufrag);
	snprintf(p.pwd, sizeof(p.pwd), "%s", pwd);
	if (fp) {
		memcpy(p.remote_fp, PUB_FP, sizeof(p.remote_fp));
		p.have_remote_fp = true;
	}
	sfu__transport_open(G.w, &p);
}

static void key_tp(uint32_t id, int who, bool gcm, uint8_t seed)
{
	struct sfu_transport *t = sfu__transport_find(G.w, id);
	struct dtls_srtp_keys k;

	fixed_keys(&k, gcm, seed);
	check(t != NULL && t->srtp == NULL);
	check(srtps_new(&k, true, &t->srtp) == 0);
	check(srtps_new(&k, false, &G.b[who]) == 0);
	dtls_srtp_keys_wipe(&k);
}

static void add_tracks(void)
{
	struct sfu_track_params tp;

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
	sfu__track_add(G.w, &tp);
	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_PUB;
	tp.track = TR_AUDIO;
	tp.kind = SFU_AUDIO;
	snprintf(tp.mid, sizeof(tp.mid), "a0");
	tp.ext_id[SFU_EXT_MID] = EXT_MID;
	tp.ext_id[SFU_EXT_AUDIO_LEVEL] = EXT_LEVEL;
	sfu__track_add(G.w, &tp);
}

static void add_sim_track(void)
{
	struct sfu_track_params tp;

	memset(&tp, 0, sizeof(tp));
	tp.transport = TP_PUB;
	tp.track = TR_SIM;
	tp.kind = SFU_VIDEO;
	tp.codec = SFU_CODEC_VP8;
	snprintf(tp.mid, sizeof(tp.mid), "v1");
	tp.pt = PT_VP8;
	tp.rtx_pt = PT_RTX;
	tp.ext_id[SFU_EXT_MID] = EXT_MID;
	tp.ext_id[SFU_EXT_RID] = EXT_RID;
	tp.ext_id[SFU_EXT_RRID] = EXT_RRID;
	tp.ext_id[SFU_EXT_TWCC] = EXT_TWCC;
	for (int k = 0; k < SIM_LAYERS; k++)
		snprintf(tp.rids[k], sizeof(tp.rids[k]), "%s", SIM_RIDS[k]);
	tp.nlayers = SIM_LAYERS;
	sfu__track_add(G.w, &tp);
}

static void subscribe(uint32_t track)
{
	struct sfu_sub_params sp;

	memset(&sp, 0, sizeof(sp));
	sp.transport = TP_SUB;
	sp.track = track;
	if (track == TR_VIDEO) {
		sp.ssrc = SV_SSRC;
		sp.rtx_ssrc = SV_RTX_SSRC;
		sp.rtx_pt = SUB_PT_RTX;
		sp.pt_in[0] = PT_VP8;
		sp.pt_out[0] = SUB_PT_VP8;
	} else if (track == TR_SIM) {
		sp.ssrc = SS_SSRC;
		sp.rtx_ssrc = SS_RTX_SSRC;
		sp.rtx_pt = SUB_PT_RTX;
		sp.pt_in[0] = PT_VP8;
		sp.pt_out[0] = SUB_PT_VP8;
		sp.twcc_id = SUB_TWCC_ID;
	} else {
		sp.ssrc = SA_SSRC;
		sp.pt_in[0] = PT_OPUS;
		sp.pt_out[0] = SUB_PT_OPUS;
		sp.audio_level_id = SUB_LEVEL_ID;
	}
	sfu__subscribe(G.w, &sp);
}

static void scene(void)
{
	check(srclimit_new(JUNK_SLOTS, SFU_JUNK_RATE, JUNK_BURST, &G.w->junk) == 0);
	G.w->now = T0;
	G.w->now_us = sfu__now_us(); /* transports count arrivals from now */
	open_tp(TP_PUB, true, PUB_UFRAG, PUB_PWD, true);
	open_tp(TP_SUB, false, SUB_UFRAG, SUB_PWD, false);
	/* ICE before keys, as in a browser (a check sets the address of a
	 * transport without keys only) */
	deliver(PUB, G.check_pub, G.check_pub_len);
	deliver(SUB, G.check_sub, G.check_sub_len);
	key_tp(TP_PUB, PUB, true, 0x10);
	key_tp(TP_SUB, SUB, false, 0x20);
	memset(G.proved, 0, sizeof(G.proved));
	add_tracks();
	add_sim_track();
	subscribe(TR_VIDEO);
	subscribe(TR_AUDIO);
	subscribe(TR_SIM);
	check(sfu__transport_find(G.w, TP_PUB)->have_peer);
	check(sfu__transport_find(G.w, TP_SUB)->have_peer);
}

static void ticks(void)
{
	sfu__transports_tick(G.w);
	sfu__keyframes_tick(G.w);
	sfu__nack_tick(G.w);
	sfu__levels_tick(G.w);
	sfu__twcc_tick(G.w);
	sfu__reports_tick(G.w);
	sfu__probe_tick(G.w);
	sfu__alloc_tick(G.w);
}

/* A NACK from the subscriber for the video, naming packets by the
 * publisher's sequence numbers: the harness adds the subscription's random
 * offset, which an input cannot know. p holds PID/BLP pairs. */
static void nack_from_sub(const uint8_t *p, size_t len)
{
	struct sfu_transport *sub = sfu__transport_find(G.w, TP_SUB);
	struct sfu_out *o;
	uint8_t b[SFU_MTU];
	size_t n = RTCP_FB_HDR_LEN, k;

	if (!sub || !G.b[SUB])
		return;
	for (o = sub->outs; o && o->ssrc != SV_SSRC; o = o->next_in_sub)
		;
	if (!o)
		return;
	for (k = 0; k + 4 <= len && n + 4 <= 1000; k += 4, n += 4) {
		put_u16(b + n, (uint16_t)(get_u16(p + k) + o->map.seq_off));
		put_u16(b + n + 2, get_u16(p + k + 2));
	}
	if (n == RTCP_FB_HDR_LEN)
		return;
	b[0] = 0x80 | RTCP_FMT_NACK;
	b[1] = RTCP_RTPFB;
	put_u16(b + 2, (uint16_t)(n / 4 - 1));
	put_u32(b + 4, 0xC0DE);
	put_u32(b + 8, SV_SSRC);
	if (srtps_protect_rtcp(G.b[SUB], b, &n, sizeof(b)) == 0)
		deliver(SUB, b, n);
}

static void control(const uint8_t *p, size_t len)
{
	static const uint8_t fp[32] = { 1, 2, 3 };
	uint8_t op = p[0];
	int layer = len > 1 ? (int)(p[1] % (SIM_LAYERS + 1)) - 1 : SFU_LAYER_PAUSED;

	if (op >= OP_SIM && op < OP_SIM + 8) {
		switch (op - OP_SIM) {
		case 0:
		case 1:
			sfu__set_view(G.w, TP_SUB, TR_SIM, layer);
			break;
		case 2:
			sfu__set_view(G.w, TP_SUB, TR_VIDEO, layer);
			break;
		case 3:
			sfu__unsubscribe(G.w, TP_SUB, TR_SIM);
			break;
		case 4:
			subscribe(TR_SIM);
			break;
		case 5:
			sfu__track_remove(G.w, TP_PUB, TR_SIM);
			break;
		case 6:
			add_sim_track();
			break;
		default:
			sfu__request_keyframe(G.w, TR_SIM, layer >= 0);
			break;
		}
		return;
	}
	if (op == 0xF8 || op == 0xF9 || op == 0xFA || op == 0xFB) {
		/* a valid check from the stranger's address */
		bool sub = op & 1, nom = (op & 2) == 0;
		uint8_t b[256];
		size_t n = make_check(b, sizeof(b), sub ? SUB_UFRAG : PUB_UFRAG,
				      sub ? SUB_PWD : PUB_PWD,
				      len > 1 ? p[1] : 0x33, nom);
		deliver(STRANGER, b, n);
		return;
	}
	switch (op % 14) {
	case 0:
		sfu__unsubscribe(G.w, TP_SUB, TR_VIDEO);
		break;
	case 1:
		sfu__unsubscribe(G.w, TP_SUB, TR_AUDIO);
		break;
	case 2:
		/* same SSRCs again: the worker refuses to reuse SRTP indexes,
		 * so nothing may reach the subscriber twice */
		subscribe(TR_VIDEO);
		subscribe(TR_AUDIO);
		break;
	case 3:
		sfu__track_remove(G.w, TP_PUB, TR_VIDEO);
		break;
	case 4:
		sfu__track_remove(G.w, TP_PUB, TR_AUDIO);
		break;
	case 5:
		add_tracks();
		break;
	case 6:
		sfu__transport_close(G.w, TP_SUB);
		break;
	case 7:
		sfu__transport_close(G.w, TP_PUB);
		break;
	case 8:
		sfu__transport_ice_restart(G.w, TP_PUB, "restart1",
					   "restartpassword012345678");
		break;
	case 9:
		sfu__request_keyframe(G.w, TR_VIDEO, false);
		break;
	case 12:
		sfu__request_keyframe(G.w, TR_VIDEO, true);
		break;
	case 13:
		nack_from_sub(p + 1, len - 1);
		break;
	case 10:
		sfu__transport_remote_fp(G.w, TP_SUB, fp);
		break;
	default:
		sfu__transport_ice_restart(G.w, TP_SUB, SUB_UFRAG, SUB_PWD);
		break;
	}
}

/* Protects p[0..*len) in buf with browser `who`'s keys if it looks like
 * RTP or RTCP; leaves it as it is otherwise. */
static void protect(int who, uint8_t *p, size_t *len)
{
	size_t n = *len;
	int rc;

	if (*len < 2 || (p[0] >> 6) != 2)
		return;
	if (rtp_is_rtcp(p, n))
		rc = srtps_protect_rtcp(G.b[who], p, &n, SFU_MTU);
	else
		rc = srtps_protect_rtp(G.b[who], p, &n, SFU_MTU);
	if (rc == 0)
		*len = n;
}

static bool is_stranger(const struct sockaddr_storage *x)
{
	const struct sockaddr_in *a = (const void *)x;
	const struct sockaddr_in *s = (const void *)&G.addr[STRANGER];

	return a->sin_port == s->sin_port && a->sin_addr.s_addr == s->sin_addr.s_addr;
}

/* Whether transport id's media path is the stranger's address. */
static bool at_stranger(uint32_t id)
{
	struct sfu_transport *t = sfu__transport_find(G.w, id);

	return t && t->have_peer && is_stranger(&t->peer);
}

/* Whether the stranger's address is its candidate (a valid nominating
 * check came from there: the harness's own, or one of the corpus). */
static bool cand_at_stranger(uint32_t id)
{
	struct sfu_transport *t = sfu__transport_find(G.w, id);

	return t && t->have_cand && is_stranger(&t->cand);
}

/* No check alone moves a transport to the stranger's address. */
static void ice_invariant(void)
{
	check(!at_stranger(TP_PUB) || G.proved[0]);
	check(!at_stranger(TP_SUB) || G.proved[1]);
}

static void one(uint8_t sel, uint8_t *p, size_t len)
{
	unsigned route = sel & 3;
	struct sfu_transport *t;

	if (sel >> 5) {
		/* a batch ends before the worker's timers run (worker.c) */
		G.w->defer = false;
		sfu__fanout(G.w);
		G.w->defer = true;
		G.w->now += (uint64_t)(sel >> 5) * TICK_STEP_MS;
		G.w->now_us += (uint64_t)(sel >> 5) * TICK_STEP_MS * 1000u;
		ticks();
	}
	G.w->now_us += 100; /* packets of a batch arrive a little apart */
	if (route != 3) {
		if (len > SFU_MTU)
			len = SFU_MTU;
		if ((sel & 4) && route != STRANGER) {
			protect((int)route, p, &len);
		} else if (sel & 4) {
			/* a browser behind the stranger's address */
			int who = (sel & 8) ? SUB : PUB;
			size_t before = len;
			protect(who, p, &len);
			if (len != before && cand_at_stranger(who == SUB ? TP_SUB : TP_PUB))
				G.proved[who == SUB] = true;
		}
		deliver((int)route, p, len);
		ice_invariant();
		return;
	}
	if (sel & 16) {
		if (len)
			control(p, len);
		ice_invariant();
		return;
	}
	t = sfu__transport_find(G.w, (sel & 4) ? TP_SUB : TP_PUB);
	if (!t)
		return;
	if (sel & 8)
		sfu__rtcp_in(G.w, t, p, len);
	else
		sfu__rtp_in(G.w, t, p, len);
}

/* A forwarded packet's header extensions: one-byte elements (RFC 8285)
 * with only the ids the subscriber negotiated. */
static bool sub_extensions_ok(const uint8_t *b, const struct rtp_hdr *h)
{
	size_t i = 0;

	if (h->ext_profile != 0xBEDE)
		return false;
	while (i < h->ext_len) {
		uint8_t id = b[h->ext_off + i] >> 4;
		size_t n = (size_t)(b[h->ext_off + i] & 15) + 1;

		if (id == 0) {           /* padding between elements */
			i++;
			continue;
		}
		if (id == 15)
			return true;
		if ((id != SUB_LEVEL_ID && id != SUB_TWCC_ID) ||
		    n > h->ext_len - i - 1)
			return false;
		i += 1 + n;
	}
	return true;
}

/* Datagrams already checked at some socket (by an FNV-1a hash of their
 * bytes): while a nominated address has not proven itself, the worker
 * sends it copies of what goes to the transport's address (SFU_CAND_RATE),
 * and a copy is the same datagram, index and all, not an index used
 * twice. Emptied per input. */
enum { SEEN_SLOTS = 1 << 14 };
static uint64_t seen[SEEN_SLOTS];

static uint64_t fnv(const uint8_t *b, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h | 1;
}

/* Whether h was seen; remembers it if not (a full table remembers no
 * more, and the check then treats a copy as it did before copies). */
static bool seen_before(uint64_t h)
{
	size_t i = (size_t)h & (SEEN_SLOTS - 1);

	for (size_t k = 0; k < SEEN_SLOTS; k++, i = (i + 1) & (SEEN_SLOTS - 1)) {
		if (seen[i] == h)
			return true;
		if (seen[i] == 0) {
			seen[i] = h;
			return false;
		}
	}
	return false;
}

/* Everything one socket received: SRTP must authenticate under one of the
 * browsers' keys (never twice the same index, so the replay windows agree
 * with the worker's, but for copies of one datagram to a candidate), and
 * say what the worker may say. */
static void drain_and_check(int who)
{
	uint8_t b[SFU_MTU + 64];
	ssize_t r;
	size_t n;
	struct rtp_hdr h;
	bool probe;

	while ((r = recv(G.fd[who], b, sizeof(b), MSG_DONTWAIT)) >= 0) {
		n = (size_t)r;
		check(n > 0 && n <= SFU_MTU);
		if (b[0] < 128 || b[0] > 191)
			continue; /* STUN answer or DTLS */
		if (seen_before(fnv(b, n)))
			continue; /* a copy of one checked already */
		if (rtp_is_rtcp(b, n)) {
			size_t m = n;
			uint32_t ssrc;
			/* the subscriber's session is AES-CM, which checks the
			 * tag before decrypting: a failed try leaves b intact */
			if (srtps_unprotect_rtcp(G.b[SUB], b, &m) != 0) {
				m = n;
				check(srtps_unprotect_rtcp(G.b[PUB], b, &m) == 0);
			}
			check(m >= 8);
			ssrc = get_u32(b + 4);
			check(ssrc == SFU_SSRC_SFU || ssrc == SV_SSRC ||
			      ssrc == SA_SSRC || ssrc == SS_SSRC);
			/* what the worker writes parses */
			{
				struct rtcp_iter it;
				struct rtcp_pkt pkt;
				int rc;
				rtcp_iter_init(&it, b, m);
				while ((rc = rtcp_next(&it, &pkt)) == 1)
					if (pkt.type == RTCP_RTPFB &&
					    pkt.fmt == RTCP_FMT_TWCC)
						check(rtcp_twcc_parse(&pkt, &tw_fb, tw_st,
								      RTCP_TWCC_MAX_STATUS) == 0);
				check(rc == 0);
			}
			continue;
		}
		/* forwarded media goes to the subscriber's keys only */
		check(srtps_unprotect_rtp(G.b[SUB], b, &n) == 0);
		check(rtp_parse(b, n, &h) == 0);
		probe = (h.ssrc == SV_RTX_SSRC || h.ssrc == SS_RTX_SSRC) &&
			h.pt == SUB_PT_RTX && h.padding && h.payload_len == 0;
		check(probe ||
		      ((h.ssrc == SV_SSRC || h.ssrc == SS_SSRC) && h.pt == SUB_PT_VP8) ||
		      (h.ssrc == SA_SSRC && h.pt == SUB_PT_OPUS) ||
		      ((h.ssrc == SV_RTX_SSRC || h.ssrc == SS_RTX_SSRC) &&
		       h.pt == SUB_PT_RTX && h.payload_len >= 2));
		/* padding only in probes, and in a video packet that is not
		 * the last of its frame, padded to the one before it for UDP
		 * GSO (forward.c): a few bytes, never a retransmission */
		check(probe || !h.padding ||
		      (h.pt == SUB_PT_VP8 && !h.marker && h.pad_len <= SFU_GSO_PAD_MAX));
		check(h.cc == 0);
		check(!h.extension || sub_extensions_ok(b, &h));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t in0, fwd0;

	if (!G.ready)
		init_once();
	scene();
	sfu__flush(G.w);
	for (int i = 0; i < NB; i++) {
		uint8_t b[SFU_MTU + 64];
		while (recv(G.fd[i], b, sizeof(b), MSG_DONTWAIT) >= 0)
			;
	}
	in0 = G.w->c.rtp_in;
	fwd0 = G.w->c.rtp_forwarded;
	/* as in the worker's receive batches, video copies wait for
	 * sfu__fanout (control commands still come in between, so a track
	 * may go while its packets wait) */
	G.w->defer = true;
	while (size >= 3) {
		uint8_t sel = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		memcpy(buf, data, len);
		one(sel, buf, len);
		data += len;
		size -= len;
		if (G.w->nsend > SFU_SEND_BATCH / 2)
			sfu__flush(G.w);
	}
	G.w->defer = false;
	sfu__fanout(G.w);
	sfu__flush(G.w);
	/* one publisher packet reaches at most one out of the one subscriber */
	check(G.w->c.rtp_forwarded - fwd0 <= G.w->c.rtp_in - in0);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < NB; i++)
		drain_and_check(i);
	sfu__transports_free_all(G.w);
	sfu__flush(G.w);
	for (int i = 0; i < NB; i++) {
		uint8_t b[SFU_MTU + 64];
		while (recv(G.fd[i], b, sizeof(b), MSG_DONTWAIT) >= 0)
			;
		srtps_free(G.b[i]);
		G.b[i] = NULL;
	}
	sfu_poll_events(G.s);
	srclimit_free(G.w->junk);
	G.w->junk = NULL;
	return 0;
}
