/*
 * sfu_scene — a media worker driven by hand, and the browsers around it,
 * for the tests of src/sfu (test_sfu.c, test_simulcast.c, test_send.c).
 *
 * A struct sfu_worker is built the way worker_new() builds one (a UDP
 * socket on 127.0.0.1, a DTLS context, no epoll, no thread) and the
 * worker's own functions are called directly: sfu__packet() with datagrams
 * "from" addresses of UDP sockets the test owns (scene_deliver), the ticks
 * with w->now set by hand, and sfu__flush() to put what the worker
 * produced on the wire, where the test reads it back. The test plays the
 * browsers: ICE checks made with stun_write_binding_request, SRTP sessions
 * keyed with fixed keys (the client side of the same keys the worker's
 * transport holds).
 *
 * Events: sfu__event() posts into the queue of a struct sfu, whose layout
 * is private to worker.c, so the hand-built worker points at a real
 * sfu_new() instance with one worker (whose thread idles: it owns none of
 * the objects here) and events are read with scene_poll_events().
 *
 * Everything is freed through the worker's own paths (unsubscribe, track
 * removal, transport close, free_all in scene_close), so the ASan build
 * checks them for leaks and use after free.
 *
 * The helpers that return int are test steps: 0, or -1 after a failed
 * TEST_ASSERT has said what failed (call them inside TEST_EQ(..., 0)).
 */
#ifndef CONCLAVE_TEST_SFU_SCENE_H
#define CONCLAVE_TEST_SFU_SCENE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "rtp/rtp.h"
#include "sfu/sfu_int.h"
#include "stun/stun.h"

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

#define PUB_UFRAG "pubufrag"
#define PUB_PWD "pubpassword0123456789abc"
#define SUB_UFRAG "subufrag"
#define SUB_PWD "subpassword0123456789abc"
#define SUB2_UFRAG "sub2ufrg"
#define SUB2_PWD "sub2password123456789abc"

/* The worker, its struct sfu and the browsers' sockets and SRTP sessions;
 * on the test's stack, filled by scene_open, emptied by scene_close. */
struct scene {
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

/* ---- sockets ------------------------------------------------------------- */

/* A non-blocking UDP socket bound to 127.0.0.1 on a free port, with a
 * receive buffer of up to 4 MiB (a whole send batch fits); its address in
 * *a and *len if a is not NULL. Returns the fd or -1. */
int scene_udp_bind(struct sockaddr_storage *a, socklen_t *len);

/* One datagram from fd, waiting up to ms; returns its length or -1. */
long scene_recv_wait(int fd, uint8_t *buf, size_t cap, int ms);

/* Whether fd has nothing to read (after a flush on loopback, whatever was
 * sent is already queued). */
bool scene_quiet(int fd);

/* Reads and drops whatever fd has queued. */
void scene_drain(int fd);

/* ---- the worker ---------------------------------------------------------- */

/* A worker as worker_new() makes one, minus epoll, eventfd and thread, and
 * NB browser sockets; the log level is WARN until scene_close. */
int scene_open(struct scene *e);

/* Frees everything through the worker's own paths and empties *e. */
void scene_close(struct scene *e);

/* The events posted since the last call, into e->ev; returns how many. */
size_t scene_poll_events(struct scene *e);

/* Hands a copy of p to the worker as if it came from browser socket `who`
 * (the worker unprotects in place). */
void scene_deliver(struct scene *e, int who, const uint8_t *p, size_t len);

/* Opens transport `id` in the worker; returns it (NULL if not opened). */
struct sfu_transport *scene_open_tp(struct scene *e, uint32_t id, bool pub,
				    const char *ufrag, const char *pwd);

/* Keys the transport and browser `who` with the same fixed keys. */
int scene_key_tp(struct scene *e, struct sfu_transport *t, int who, bool gcm,
		 uint8_t seed);

/* A fresh SRTP session for browser `who` with the keys scene_key_tp gave
 * it (gcm, seed): a receiver holds at most SRTPS_MAX_SSRCS_IN streams, so
 * a test that sends it more SSRCs starts it over now and then. */
int scene_rekey_browser(struct scene *e, int who, bool gcm, uint8_t seed);

/* A second subscriber: transport TP_SUB2 for browser SUB2, keyed (gcm,
 * seed), past ICE, into *sub2; with `video`, subscribed to TR_VIDEO as
 * S2V_SSRC (PT_VP8 as SUB_PT_VP8). */
int scene_open_sub2(struct scene *e, bool gcm, uint8_t seed, bool video,
		    struct sfu_transport **sub2);

/* ---- ICE ----------------------------------------------------------------- */

/* A Binding request to ufrag with password pwd (NULL: no integrity) into
 * out (PKT bytes), with a fresh random tid; returns its length, 0 on error. */
size_t scene_make_check(uint8_t *out, const char *ufrag, const char *pwd,
			bool use_candidate, uint8_t tid[STUN_TID_LEN]);

/* Reads one Binding success at browser `who` and checks it. */
int scene_expect_success(struct scene *e, int who,
			 const uint8_t tid[STUN_TID_LEN], const char *pwd);

/* ICE check from browser `who`, answered; sets the peer. */
int scene_ice(struct scene *e, int who, const char *ufrag, const char *pwd,
	      bool use_candidate);

/* Whether the transport's peer is browser `who`. */
bool scene_peer_is(const struct sfu_transport *t, const struct scene *e,
		   int who);

/* ---- RTP and RTCP as a browser sends them -------------------------------- */

struct scene_rtp {
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

/* The payload build_rtp writes for sequence number seq, n bytes. */
void scene_payload_fill(uint8_t *p, size_t n, uint16_t seq);

/* The plain RTP packet r describes, into b (PKT bytes); returns its length. */
size_t scene_build_rtp(uint8_t *b, const struct scene_rtp *r);

/* Protects and delivers an RTP packet from browser `who`. */
int scene_send_rtp(struct scene *e, int who, const struct scene_rtp *r);

/* A VP8 packet of the publisher's video (V_SSRC), no extensions. */
struct scene_rtp scene_rtp_video(uint16_t seq, uint32_t ts, size_t plen);

/* Delivers a VP8 packet from the publisher on stream `ssrc` (a layer, or
 * V_SSRC), 100 bytes of payload after a descriptor with a 15-bit picture
 * id (RFC 7741 §4.2): a frame's first packet has S set (`start`), and its
 * first frame byte's P bit says key frame or not; then flushes. */
int scene_send_vp8(struct scene *e, uint32_t ssrc, uint16_t seq, uint32_t ts,
		   uint16_t pic, bool start, bool key);

/* Reads one SRTP packet at browser `who` into b (PKT bytes), unprotects
 * and parses it. */
int scene_recv_rtp(struct scene *e, int who, uint8_t *b, size_t *len,
		   struct rtp_hdr *h);

/* Reads one SRTCP packet at browser `who` into b (PKT bytes) and
 * unprotects it. */
int scene_recv_rtcp(struct scene *e, int who, uint8_t *b, size_t *len);

/* Protects and delivers an RTCP packet (plain in b[0..n), b of PKT bytes)
 * from browser `who`. */
int scene_send_rtcp(struct scene *e, int who, uint8_t *b, size_t n);

/* A PLI for `media` from browser `who` (sender SUB_OWN_SSRC). */
int scene_send_pli(struct scene *e, int who, uint32_t media);

/* Reads the PLIs that reach the publisher (each alone in its packet, from
 * SFU_SSRC_SFU) until none comes for 20 ms: how many in *count, the SSRCs
 * they name in media[0..cap). */
int scene_plis_at_pub(struct scene *e, uint32_t *media, int cap, int *count);

/* ---- the scene most tests use -------------------------------------------- */

/* scene_open, then a publisher (PUB) and a subscriber (SUB) transport,
 * keyed (the publisher's AES-GCM, the subscriber's AES-CM) and with their
 * peers set by ICE checks; no tracks. */
int scene_transports(struct scene *e, struct sfu_transport **pub,
		     struct sfu_transport **sub);

/* scene_transports, then the publisher's video track (SSRC from the SDP,
 * RTX) and audio track (SSRC learned via MID, audio level), the subscriber
 * subscribed to both; the sockets drained. */
int scene_pub_sub(struct scene *e, struct sfu_transport **pub,
		  struct sfu_transport **sub);

#endif
