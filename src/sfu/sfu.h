/*
 * sfu — the media plane: worker threads that terminate ICE-lite, DTLS-SRTP
 * and forward RTP/RTCP between participants (DESIGN.md §3).
 *
 * Each worker owns one UDP socket (media_port + index), one event loop and
 * every media object of the meetings pinned to it, so packets never cross
 * threads and the hot path takes no lock. The control plane (signaling
 * thread) never touches those objects: it sends commands (copies of plain
 * data) through the worker's queue, and receives events (transport
 * connected, transport lost) back through sfu_poll_events().
 *
 * Identifiers: the control plane names transports and tracks with 32-bit ids
 * it allocates; the worker keeps its own objects behind them.
 */
#ifndef CONCLAVE_SFU_H
#define CONCLAVE_SFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct conf;
struct sfu;

enum {
	SFU_UFRAG_LEN = 8,          /* ICE ufrag: >= 4 chars (RFC 8839 §5.4) */
	SFU_PWD_LEN = 24,           /* ICE pwd: >= 22 chars (RFC 8839 §5.4) */
	SFU_MAX_WORKERS = 64,
	SFU_MAX_TRACK_SSRCS = 3,    /* simulcast layers per track */
	SFU_MAX_EXT = 4,            /* header extensions forwarded */
	SFU_MID_MAX = 32,
	SFU_MAX_ADDRS = 8,          /* host candidates announced */
	SFU_MAX_TRACKS = 8,         /* tracks per publisher (camera, mic, screen…) */
	SFU_MAX_LAYERS = SFU_MAX_TRACK_SSRCS,
	SFU_RID_MAX = 16,           /* RTP carries a rid in <= 16 bytes (RFC 8852) */
	SFU_LAYER_PAUSED = -1,      /* sfu_set_view: forward no video at all */
};

enum sfu_codec { SFU_CODEC_OTHER, SFU_CODEC_OPUS, SFU_CODEC_VP8, SFU_CODEC_VP9 };

/* Why a subscriber gets the layer it gets (SFU_EV_QUALITY). */
enum sfu_reason {
	SFU_REASON_OK,              /* the best layer, or what the view asks for */
	SFU_REASON_VIEW,            /* the view asks for less, or for nothing */
	SFU_REASON_BANDWIDTH,       /* the estimate holds it below the view */
};

enum sfu_kind { SFU_AUDIO, SFU_VIDEO };

/* Header extensions the SFU reads or forwards, by meaning. */
enum sfu_ext {
	SFU_EXT_AUDIO_LEVEL,        /* RFC 6464 */
	SFU_EXT_MID,                /* RFC 8843 */
	SFU_EXT_RID,                /* RFC 8852 */
	SFU_EXT_TWCC,               /* transport-wide cc sequence number */
	SFU_EXT_RRID,               /* RFC 8852: the layer an RTX stream repairs */
	SFU_EXT_COUNT
};

/* Parameters of a new transport (one RTCPeerConnection). */
struct sfu_transport_params {
	uint32_t id;
	bool publisher;                      /* receives media from the peer */
	char ufrag[SFU_UFRAG_LEN + 1];       /* ours */
	char pwd[SFU_PWD_LEN + 1];           /* ours */
	uint8_t remote_fp[32];               /* SHA-256 of the peer's certificate */
	bool have_remote_fp;                 /* false until the subscribe answer */
};

/* A track published on a publisher transport. */
struct sfu_track_params {
	uint32_t transport;                  /* publisher transport id */
	uint32_t track;                      /* track id (unique per server) */
	enum sfu_kind kind;
	char mid[SFU_MID_MAX + 1];
	uint32_t ssrcs[SFU_MAX_TRACK_SSRCS]; /* known from SDP; 0 = learn via mid */
	uint32_t rtx_ssrcs[SFU_MAX_TRACK_SSRCS]; /* RFC 4588 repair streams; 0 = none */
	uint8_t pt;                          /* the media payload type */
	uint8_t rtx_pt;                      /* its RTX payload type; 0 = none */
	uint8_t ext_id[SFU_EXT_COUNT];       /* publisher's ids; 0 = absent */
	enum sfu_codec codec;
	/* simulcast (RFC 8853): the layers' rids, lowest quality first; an
	 * SSRC is learned from the RID header extension. nlayers 0 or 1 and
	 * no rids: one stream. */
	char rids[SFU_MAX_LAYERS][SFU_RID_MAX + 1];
	uint8_t nlayers;
};

/* One forwarded track on a subscriber transport. */
struct sfu_sub_params {
	uint32_t transport;                  /* subscriber transport id */
	uint32_t track;                      /* published track id */
	uint32_t ssrc;                       /* SSRC the subscriber sees */
	uint32_t rtx_ssrc;                   /* its RTX stream (RFC 4588); 0 = none */
	uint8_t rtx_pt;                      /* RTX payload type for the subscriber */
	uint8_t pt_in[8], pt_out[8];         /* payload type map, 0-terminated */
	uint8_t audio_level_id;              /* subscriber's id for RFC 6464; 0 = none */
	uint8_t twcc_id;                     /* subscriber's id for transport-wide
					      * sequence numbers; 0 = none */
};

enum sfu_event_type {
	SFU_EV_CONNECTED,        /* DTLS done, SRTP keyed */
	SFU_EV_FAILED,           /* DTLS failed (fingerprint, alert, deadline) */
	SFU_EV_TIMEOUT,          /* no consent (STUN) for media_timeout seconds */
	SFU_EV_LEVEL,            /* smoothed audio level of a track (RFC 6464) */
	SFU_EV_LAYERS,           /* the simulcast layers of a publisher's track
				  * that anyone needs changed (mask) */
	SFU_EV_QUALITY,          /* the layer a subscriber gets of a track
				  * changed (layer, reason) */
};

struct sfu_event {
	enum sfu_event_type type;
	uint32_t transport;
	uint32_t track;          /* SFU_EV_LEVEL, _LAYERS, _QUALITY */
	uint8_t loudness;        /* SFU_EV_LEVEL: 0 silence … 127 loudest */
	uint8_t mask;            /* SFU_EV_LAYERS: bit i = layer i needed */
	int8_t layer;            /* SFU_EV_QUALITY: -1 paused, 0 lowest */
	uint8_t reason;          /* SFU_EV_QUALITY: enum sfu_reason */
};

typedef void (sfu_event_h)(const struct sfu_event *ev, void *arg);

/*
 * Starts the media workers (conf media_workers, 0 = one per core), each on
 * UDP port media_port + index. Events are delivered by sfu_poll_events on
 * the caller's thread; `wake` is called (from a worker thread) when an
 * event finds the queue empty, so the control loop can run sfu_poll_events
 * soon (until it has, later events need no wake-up of their own).
 */
int sfu_new(const struct conf *c, sfu_event_h *h, void *arg,
	    void (*wake)(void *arg), struct sfu **out);
void sfu_free(struct sfu *s);

unsigned sfu_workers(const struct sfu *s);
uint16_t sfu_worker_port(const struct sfu *s, unsigned worker);
/* "sha-256" fingerprint text of the worker's DTLS certificate. */
const char *sfu_worker_fingerprint(const struct sfu *s, unsigned worker);
/* Addresses announced as host candidates. */
size_t sfu_addrs(const struct sfu *s, const char *const **out);

/* Commands: copied and queued to the worker; applied in order. */
int sfu_transport_open(struct sfu *s, unsigned worker,
		       const struct sfu_transport_params *p);
int sfu_transport_remote_fp(struct sfu *s, unsigned worker, uint32_t id,
			    const uint8_t fp[32]);
int sfu_transport_ice_restart(struct sfu *s, unsigned worker, uint32_t id,
			      const char *ufrag, const char *pwd);
int sfu_transport_close(struct sfu *s, unsigned worker, uint32_t id);
int sfu_track_add(struct sfu *s, unsigned worker,
		  const struct sfu_track_params *p);
int sfu_track_remove(struct sfu *s, unsigned worker, uint32_t transport,
		     uint32_t track);
int sfu_subscribe(struct sfu *s, unsigned worker,
		  const struct sfu_sub_params *p);
int sfu_unsubscribe(struct sfu *s, unsigned worker, uint32_t transport,
		    uint32_t track);
/* Asks the publisher of `track` for a key frame: throttled, unless `now`
 * (a subscriber just connected and must not wait for the throttle). */
int sfu_request_keyframe(struct sfu *s, unsigned worker, uint32_t track,
			 bool now);

/*
 * What a subscriber shows of a video track: the highest simulcast layer
 * worth sending (0 lowest … SFU_MAX_LAYERS - 1), or SFU_LAYER_PAUSED.
 * The bandwidth estimate may choose lower. Audio ignores it.
 */
int sfu_set_view(struct sfu *s, unsigned worker, uint32_t transport,
		 uint32_t track, int max_layer);

/* Runs queued events' handler on the calling thread. */
void sfu_poll_events(struct sfu *s);

/* Appends Prometheus metrics (summed over workers). */
void sfu_metrics(struct sfu *s, struct wbuf *b);

#endif
