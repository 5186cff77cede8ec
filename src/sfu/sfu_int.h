/*
 * sfu_int.h — the media worker's own objects, shared by the files of
 * src/sfu/ and by nothing else. Everything here belongs to one worker
 * thread.
 *
 * Ownership: a worker owns its transports; a publisher transport owns its
 * tracks; a track keeps a list of the outs (forwarded copies) that
 * subscriber transports own. Freeing a transport unlinks its outs from their
 * tracks and frees its tracks' outs in other transports' lists.
 */
#ifndef CONCLAVE_SFU_INT_H
#define CONCLAVE_SFU_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "rtp/rtp.h"
#include "sfu/sfu.h"
#include "util/ratelimit.h"

struct dtls_ctx;
struct srclimit;
struct dtls_conn;
struct srtps;

enum {
	SFU_MTU = 1500,              /* largest datagram handled */
	SFU_RECV_BATCH = 32,         /* datagrams per recvmmsg */
	SFU_SEND_BATCH = 1024,       /* datagrams per sendmmsg (UIO_MAXIOV):
				      * a frame of 5 packets to 200
				      * subscribers */
	SFU_LOOK_AGAIN = 32,         /* datagrams a receive batch must have
				      * made to read once more before sending
				      * (worker.c, receive) */
	SFU_PEND = 2 * SFU_RECV_BATCH, /* video packets whose copies wait for
				      * the end of their receive batch
				      * (forward.c, sfu__fanout) */
	SFU_SEND_EARLY = 256,        /* a fan-out sends what it queued once it
				      * holds this many datagrams, between two
				      * subscribers */
	SFU_HASH = 4096,             /* buckets of the ufrag and address tables */
	/* Junk per source address (util/srclimit.h): datagrams a stranger may
	 * make us look at. A legitimate address sends junk only for a few
	 * seconds after a restart (its old connection's media and checks:
	 * ~300 packets/s for a 2.5 Mbit/s video with audio); 500/s leaves room
	 * for that, while a flooding address costs at most 500 HMACs/s
	 * (~0.5 ms of CPU). The burst is 2 s of it; 4096 sources (160 KiB)
	 * are remembered at once. */
	SFU_JUNK_RATE = 500,
	SFU_JUNK_BURST = 1000,
	SFU_JUNK_SLOTS = 4096,
	SFU_TICK_MS = 10,            /* worker timer tick while a short timer
				      * waits (a lost packet to ask for, a key
				      * frame request held back, a probe, a
				      * DTLS handshake) */
	SFU_IDLE_TICK_MS = 50,       /* and while none does (the periods below
				      * are multiples of it) */
	SFU_TICK_AHEAD_MS = 25,      /* how early an idle tick may run in a
				      * wake-up for datagrams (worker.c) */
	SFU_DELAY_BUCKETS = 23,      /* conclave_media_forward_delay_seconds */
	SFU_PLI_INTERVAL_MS = 1000,  /* at most one key frame request per track */
	SFU_REPORT_MS = 1000,        /* sender/receiver report period */
	SFU_SSRC_SFU = 1,            /* SSRC the SFU signs its own RTCP with */
	SFU_CACHE = 512,             /* video packets kept per layer for NACKs
				      * (power of two; ~2 s at 250 packets/s);
				      * a simulcast layer below the top keeps
				      * half of the one above it (its rate is
				      * a third or less), at least a quarter */
	SFU_NACK_WINDOW = 256,       /* sequence numbers watched for loss */
	SFU_NACK_RETRY_MS = 60,      /* re-ask a publisher for a lost packet */
	SFU_NACK_TRIES = 3,          /* then give up on it */
	SFU_NACK_MAX = 64,           /* lost packets asked for in one NACK */
	SFU_LEVEL_MS = 300,          /* audio level report period */
	SFU_RTX_RATE = 500,          /* retransmissions per second per subscriber,
				      * all its streams together (~5 Mbit/s:
				      * a tenth lost of a big grid's downlink) */
	SFU_RTX_BURST = 200,         /* (a burst loss of 200 ms at 10 Mbit/s) */
	SFU_RTX_DEDUP_MS = 10,       /* a packet retransmitted this recently is
				      * not sent again for another NACK (one
				      * that repeats it, or resends before the
				      * first RTX could arrive) */
	SFU_RTX_RECENT = 32,         /* retransmissions remembered per out for
				      * that (by sequence number mod 32) */
	/* What one transport's RTCP may make the worker do (forward.c,
	 * congestion.c). A browser sends a compound packet per received
	 * stream every second or five, transport-cc feedback every 50-100 ms
	 * and NACKs as it loses packets: a few hundred packets a second on a
	 * bad path with dozens of streams. Past these it is dropped, counted
	 * (rtcp_limited, nack_limited): */
	SFU_RTCP_RATE = 1000,        /* RTCP datagrams per second (after SRTCP
				      * authenticated them) */
	SFU_RTCP_BURST = 1000,
	SFU_NACK_IN_RATE = 2000,     /* NACKed packets per second handled (what
				      * a bad path asks for, and more than the
				      * retransmission budget can answer) */
	SFU_NACK_IN_BURST = 1000,
	/* transport-cc statuses a subscriber may have its estimator look at:
	 * twice the packets sent to it (feedback may repeat), and at most
	 * this many ahead (a feedback covers at most BWE_HISTORY) */
	SFU_TWCC_CREDIT_MAX = 8192,
	SFU_RX_AGE_MAX_US = 1000000, /* a kernel receive time older than this
				      * at the read is a clock step: ignored */
	SFU_PLI_MIN_MS = 100,        /* even "now" requests are this far apart */
	SFU_PLI_REPAIR_MS = 300,     /* and requests for a loss the NACKs could
				      * not repair: at most ~3 key frames a
				      * second on a very lossy uplink */
	SFU_PLI_RETRY_MS = 300,      /* a request no key frame answered (the
				      * PLI or the key frame's start lost) is
				      * sent again this long after it ... */
	SFU_PLI_RETRIES = 2,         /* ... at most this many times */
	SFU_NEW_VIEWER_MS = 3000,    /* a viewer's key frame requests are "now"
				      * this long after its first packet: the
				      * first key frames may be undecryptable
				      * until it holds the group's new key */
	SFU_TWCC_MS = 50,            /* transport-cc feedback period (libwebrtc
				      * sends it every 50-100 ms as well) */
	SFU_TWCC_MAX = 512,          /* packets reported in one feedback */
	SFU_RATE_MS = 500,           /* layer bitrate measurement window */
	SFU_ALLOC_MS = 200,          /* layer allocation period per subscriber */
	SFU_ALLOC_TICK_MS = 50,      /* how often allocations and layer pauses
				      * are looked at */
	SFU_LAYERS_HOLD_MS = 3000,   /* a layer nobody needs is paused after
				      * this long (a viewer that flips back
				      * does not restart the encoder) */
	SFU_LAYER_IDLE_MS = 1500,    /* a layer silent this long is not sent */
	SFU_PROBE_PKT = 240,         /* padding bytes in one probe packet
				      * (RTP padding counts in one byte) */
	/* A browser that nominated a new address (a network change, an ICE
	 * restart) waits there for what we send before it sends again:
	 * Chrome's publisher holds its media until transport-cc feedback
	 * acknowledges what it sent, a subscriber sends RTCP only about media
	 * it receives. So until the address proves itself (transport.c),
	 * copies of what goes to the transport's address also go there, up
	 * to this many bytes a second (and at once): feedback, reports and a
	 * few media packets, and no more to a victim whose address a member
	 * forged a nomination from. */
	SFU_CAND_RATE = 4000,
	SFU_CAND_BURST = 4000,
	SFU_GSO_PAD_MAX = 16,        /* padding added at most to a video
				      * packet so that it goes in one UDP GSO
				      * message with the one before (forward.c) */
};

/* Transport-wide congestion control, receive side (draft-holmer-rmcat-
 * transport-wide-cc-extensions-01): arrival times of a publisher's
 * packets, sent back to it as feedback so its bandwidth estimator works. */
struct sfu_twcc {
	uint16_t seq[SFU_TWCC_MAX];
	int64_t arrival_us[SFU_TWCC_MAX]; /* since the transport was opened */
	size_t n;
	uint16_t base;               /* first sequence number not yet reported */
	bool have_base;
	uint8_t fb_count;
	uint32_t media_ssrc;
};

/* One cached packet (plaintext, as the publisher sent it). */
struct sfu_cached {
	uint16_t seq;
	uint16_t len;                /* 0 = empty */
	uint8_t data[SFU_MTU];
};

struct sfu_worker;
struct sfu_track;

/* How a subscriber's stream maps to the publisher stream it carries now:
 * out = in + offset (mod 2^16, 2^32, 2^15, 2^8). */
struct sfu_map {
	int8_t layer;                    /* -1: none */
	uint16_t seq_off;
	uint32_t ts_off;
	uint16_t pic_off;                /* VP8 picture id (15 bits) */
	uint8_t tl0_off;                 /* VP8 TL0PICIDX */
	uint16_t first_seq;              /* first out seq under this mapping */
};

/* A forwarded copy of one track for one subscriber. */
struct sfu_out {
	struct sfu_transport *sub;
	struct sfu_track *track;
	struct sfu_out *next_in_track;   /* in track->outs */
	struct sfu_out *next_in_sub;     /* in sub->outs */
	uint32_t ssrc;
	uint32_t rtx_ssrc;               /* 0: no retransmissions possible */
	uint8_t rtx_pt;
	uint16_t rtx_seq;                /* the RTX stream's own sequence */
	uint8_t pt_in[8], pt_out[8];
	uint8_t audio_level_id;
	uint8_t twcc_id;                 /* subscriber's transport-cc ext id */
	bool started;
	uint64_t started_ms;             /* first packet forwarded */
	struct sfu_map map, prev;        /* current mapping, and the one before
					  * the last switch (for late NACKs) */
	int8_t view;                     /* highest layer the view wants, or
					  * SFU_LAYER_PAUSED */
	int8_t target;                   /* layer chosen by the allocation */
	int8_t alloc;                    /* scratch of sfu__allocate */
	uint8_t reason;                  /* enum sfu_reason of target */
	int8_t reported_layer;           /* last SFU_EV_QUALITY sent */
	uint8_t reported_reason;
	bool need_key;                   /* waits for a key frame of target */
	uint16_t last_seq;               /* last sequence number sent */
	uint32_t last_ts;
	uint64_t last_ts_ms;             /* when last_ts was sent */
	uint16_t last_pic;               /* last VP8 picture id sent (15 bits) */
	uint8_t last_tl0;
	bool have_pic, have_tl0;
	uint32_t packets, octets;        /* for sender reports */
	uint32_t gso_flush;              /* the send batch (w->flushes) and */
	uint16_t gso_len;                /* length before SRTP of the last
					  * packet sent (forward.c) */
	/* Cold, last: touched only by NACKs. Everything above is read for
	 * each forwarded copy and stays in as few cache lines as it can. */
	/* the last retransmissions (SFU_RTX_DEDUP_MS): out seq and when */
	uint16_t rtx_recent_seq[SFU_RTX_RECENT];
	uint32_t rtx_recent_ms[SFU_RTX_RECENT];
};

/* One RTP stream of a track, as the publisher sends it: the track itself,
 * or one simulcast layer of it. */
struct sfu_stream {
	/* loss recovery (video): packets for subscribers' NACKs, and what the
	 * publisher's leg lost, to ask for with our own NACKs */
	struct sfu_cached *cache;        /* cache_slots slots, or NULL */
	uint16_t cache_slots;            /* power of two, <= SFU_CACHE */
	uint8_t nack_tries[SFU_NACK_WINDOW]; /* per seq % window: 0 = not missing */
	bool nack_open;                  /* some nack_tries may be nonzero */
	uint64_t nack_last_ms;
	/* key frames */
	uint64_t last_pli_ms;
	bool pli_pending;
	uint16_t pli_gap_ms;             /* the pending request goes this long
					  * after the last one (the shortest
					  * gap asked for while it waited) */
	uint8_t pli_retries;             /* the last request is sent again
					  * while no key frame answers it */
	uint64_t last_key_ms;            /* start of the last key frame seen */
	/* receive statistics for receiver reports */
	bool have_seq;
	uint16_t max_seq;
	uint32_t cycles, received, base_seq;
	/* bitrate, measured over SFU_RATE_MS windows */
	uint64_t last_rx_ms;
	uint64_t rate_start_ms;
	uint32_t rate_bytes;
	uint32_t bps;
};

/* A track published by a publisher transport. */
struct sfu_track {
	struct sfu_transport *pub;
	uint32_t id;
	enum sfu_kind kind;
	enum sfu_codec codec;
	char mid[SFU_MID_MAX + 1];
	uint32_t ssrcs[SFU_MAX_TRACK_SSRCS];     /* per layer; 0 = not known yet */
	uint32_t rtx_ssrcs[SFU_MAX_TRACK_SSRCS];
	char rids[SFU_MAX_LAYERS][SFU_RID_MAX + 1];
	uint8_t nlayers;                         /* >= 1 */
	uint8_t pt, rtx_pt;
	uint8_t ext_id[SFU_EXT_COUNT];
	struct sfu_out *outs;
	unsigned nouts;
	struct sfu_stream st[SFU_MAX_LAYERS];
	/* simulcast layers the publisher is asked to send (SFU_EV_LAYERS) */
	uint8_t layers_sent;             /* mask last reported */
	uint64_t layers_less_since_ms;   /* fewer are needed since then */
	uint64_t layers_on_ms[SFU_MAX_LAYERS]; /* when each was last asked for */
	/* audio level (RFC 6464), smoothed, for the active speaker */
	uint32_t loud_acc, loud_n;
};

struct sfu_transport {
	struct sfu_worker *w;
	uint32_t id;
	bool publisher;
	char ufrag[SFU_UFRAG_LEN + 1];
	char pwd[SFU_PWD_LEN + 1];
	uint8_t remote_fp[32];
	bool have_remote_fp;
	struct sockaddr_storage peer;    /* the media path (ICE's selected pair) */
	socklen_t peerlen;
	bool have_peer;
	bool contested;                  /* peer is another transport's cand */
	/* ICE: the address the browser nominated last, while it has not
	 * proven that it receives there (DTLS completed there, or an SRTP or
	 * SRTCP packet from it that authenticated): transport.c */
	struct sockaddr_storage cand;
	socklen_t candlen;
	bool have_cand;
	bool dtls_at_cand;               /* the handshake runs with cand */
	struct bucket cand_budget;       /* bytes copied to cand (SFU_CAND_RATE) */
	uint64_t last_consent_ms;
	uint64_t created_ms;
	struct dtls_conn *dtls;
	/* the peer's latest DTLS datagram from before its fingerprint came
	 * (a browser starts DTLS when ICE connects, which can be before its
	 * answer reached us): fed in when the fingerprint arrives, instead of
	 * waiting out the peer's retransmission timer (a second or more) */
	uint8_t *early_dtls;
	uint16_t early_dtls_len;
	struct srtps *srtp;
	bool connected_sent, failed_sent, timeout_sent;
	struct sfu_track *tracks[SFU_MAX_TRACKS];
	struct sfu_out *outs;
	struct sfu_twcc *twcc;           /* publishers that send the extension */
	/* subscribers: transport-wide sequence numbers on what we send, the
	 * bandwidth estimate from their feedback, and probes */
	struct bwe *bwe;
	uint16_t twcc_seq;
	uint16_t twcc_credit_seq;        /* twcc_seq when twcc_credit was last
					  * topped up (congestion.c) */
	uint32_t twcc_credit;            /* feedback statuses it may still send */
	/* what its RTCP may make us do (SFU_RTCP_RATE, SFU_NACK_IN_RATE,
	 * SFU_RTX_RATE: retransmissions to it, all its outs together) */
	struct bucket rtcp_budget, nack_budget, rtx_budget;
	bool twcc_out;                   /* any out carries the extension */
	bool fb_seen;                    /* transport-cc feedback or REMB came */
	uint64_t next_alloc_ms;          /* next layer allocation */
	uint64_t probe_last_ms;
	uint64_t next_report_ms;         /* its next RR or SRs (0: no phase yet) */
	uint32_t probe_bps;              /* padding rate of a running probe */
	uint64_t probe_until_ms;
	int probe_cluster;
	uint32_t probe_credit;           /* bytes of padding owed this tick */
	uint64_t created_us;
	/* subscribers: 1 + w->flushes of the send batch that holds an audio
	 * copy to it (0: none yet); the last packet of a video frame in that
	 * batch is padded like the others, so that the audio can end the
	 * frame's UDP GSO run (gso_tuck in worker.c) */
	uint32_t audio_flush;
	struct sfu_transport *next_ufrag, *next_addr, *next_cand, *next_all;
};

/* Counters, kept plain by the worker and published each tick. */
#define SFU_COUNTERS(X)                                                        \
	X(rx_packets, "datagrams received")                                    \
	X(rx_bytes, "bytes received")                                          \
	X(tx_packets, "datagrams sent")                                        \
	X(tx_bytes, "bytes sent")                                              \
	X(rtp_in, "RTP packets received from publishers")                      \
	X(rtp_forwarded, "RTP packets forwarded to subscribers")               \
	X(bytes_forwarded, "RTP bytes forwarded to subscribers")               \
	X(rtcp_in, "RTCP packets received")                                    \
	X(pli_in, "key frame requests (PLI/FIR) received from subscribers")    \
	X(pli_out, "key frame requests (PLI) sent to publishers")              \
	X(pli_retries, "of those, sent again because no key frame answered")   \
	X(stun_ok, "STUN binding requests answered")                           \
	X(stun_dropped, "STUN packets dropped (unknown user, bad integrity)")  \
	X(dtls_failed, "DTLS handshakes failed")                               \
	X(dtls_connected, "DTLS handshakes completed")                         \
	X(dtls_early, "DTLS datagrams held until the peer's fingerprint came") \
	X(ice_timeouts, "transports that lost ICE consent")                    \
	X(ice_moves, "media paths moved to a nominated address once it proved itself (DTLS, SRTP or SRTCP from it)") \
	X(ice_cand_copies, "datagrams also sent to a nominated address before it proved itself (SFU_CAND_RATE)") \
	X(srtp_errors, "SRTP/SRTCP packets failing authentication or replay") \
	X(ssrc_retired, "outbound SSRCs retired from a subscriber's SRTP session when their subscription ended") \
	X(ssrc_kept, "outbound SSRCs that could not be retired (the session's retired set full): their streams stay") \
	X(unknown_source, "packets from addresses with no transport")          \
	X(junk_limited, "packets dropped unread: their source sent too much junk") \
	X(unknown_ssrc, "RTP packets with an SSRC of no known track")          \
	X(nack_in, "NACKed packets asked for by subscribers")                  \
	X(rtcp_limited, "RTCP packets dropped: over their transport's SFU_RTCP_RATE") \
	X(nack_limited, "NACKs cut short: the subscriber's NACKed packets over SFU_NACK_IN_RATE") \
	X(twcc_refused, "transport-cc feedback refused: more statuses than packets sent to the subscriber (twice over) or than the send history holds") \
	X(retransmits, "packets retransmitted to subscribers from the cache")  \
	X(cache_misses, "NACKed packets no longer in the cache (or no RTX)")   \
	X(rtx_refused, "NACKed packets refused: over the subscriber's budget") \
	X(rtx_dup, "NACKed packets not sent again: retransmitted to the subscriber moments before") \
	X(nack_out, "lost packets asked for from publishers (NACK)")           \
	X(rtx_in, "RTX retransmissions received from publishers")             \
	X(twcc_out, "transport-cc feedback packets sent to publishers")        \
	X(layer_switches, "simulcast layer switches (each on a key frame)")      \
	X(layer_pauses, "forwarded video streams paused (view or bandwidth)")  \
	X(probes, "bandwidth probes sent to subscribers")                     \
	X(probe_bytes, "padding bytes sent in bandwidth probes")              \
	X(twcc_in, "transport-cc feedback packets received from subscribers") \
	X(remb_in, "REMB packets received from subscribers")                  \
	X(cache_refused, "video layers forwarded without a retransmission cache (media_cache_mib reached)") \
	X(wakeups, "times the media worker woke (epoll_wait returned)")          \
	X(recv_calls, "recvmmsg system calls that returned datagrams")         \
	X(ticks_early, "idle ticks run early, in a wake-up for datagrams")     \
	X(sendmmsg_calls, "sendmmsg system calls")                             \
	X(send_messages, "messages given to sendmmsg (with UDP GSO one carries a destination's run of equal-size datagrams)") \
	X(gso_pad_bytes, "RTP padding added to video packets to make a frame's packets one UDP GSO message") \
	X(gso_tucked, "shorter RTP datagrams sent as the last segment of another stream's UDP GSO run to the same destination") \
	X(send_errors, "datagrams the kernel refused to send")

struct sfu_counters {
#define X(name, help) uint64_t name;
	SFU_COUNTERS(X)
#undef X
};

/* Gauges, recomputed by sfu__alloc_tick. */
#define SFU_GAUGES(X)                                                          \
	X(video_streams, "video streams subscribed")                           \
	X(paused_streams, "subscribed video streams not forwarded now (paused by the view or by bandwidth)") \
	X(starting_streams, "video streams to forward that wait for the key frame they start on (nothing forwarded yet, or resuming from a pause)") \
	X(bandwidth_limited_streams, "video streams held below what the view asks by the bandwidth estimate") \
	X(layer0_streams, "video streams forwarded at simulcast layer 0 (lowest)") \
	X(layer1_streams, "video streams forwarded at simulcast layer 1")      \
	X(layer2_streams, "video streams forwarded at simulcast layer 2")      \
	X(estimated_subscribers, "subscriber transports with a bandwidth estimate") \
	X(estimate_sum_bps, "sum of those estimates, bits/s")                   \
	X(estimate_min_bps, "smallest of those estimates, bits/s")              \
	X(cache_bytes, "bytes of retransmission (NACK) packet caches held")

struct sfu_gauges {
#define X(name, help) uint64_t name;
	SFU_GAUGES(X)
#undef X
};

struct sfu_cmd;
struct bwe;
struct rtcp_pkt;

/* A received video packet whose copies wait for sfu__fanout(): the
 * packet (unprotected, RTX unwrapped) and what its input path learned. */
struct sfu_pending {
	struct sfu_track *tr;            /* NULL: fanned out, or track gone */
	uint64_t rx_ns;                  /* kernel receive time (cur_rx_ns) */
	struct rtp_hdr h;
	struct rtp_vp8 vp8;
	bool have_vp8, key;
	uint8_t layer;
	uint8_t p[SFU_MTU];
};

struct sfu_worker {
	struct sfu *sfu;
	unsigned index;
	pthread_t thread;
	int fd, epfd, evfd;
	uint16_t port;
	struct dtls_ctx *dtls;
	struct srclimit *junk;           /* junk per source (transport.c) */
	uint64_t now;
	uint64_t now_us;                 /* the time of the current batch's
					  * read (or of the last send in the
					  * middle of a fan-out: sfu__fanout) */
	uint64_t rt_now_ns;              /* CLOCK_REALTIME at the same read, for
					  * the kernel's receive times */
	uint64_t next_level_ms, next_twcc_ms, next_alloc_ms;
	bool tick_soon;                  /* a short timer was armed since the
					  * last tick (sfu__tick) */
	uint32_t flushes;                /* send batches flushed */
	bool gso_probed;                 /* UDP_SEGMENT support checked */
	bool gso_off;                    /* UDP GSO unusable (refused or
					  * unknown): one datagram per message */
	int media_timeout_ms;
	/* retransmission caches: bytes held, and at most (media_cache_mib) */
	size_t cache_bytes, cache_budget;
	/* command queue from the control plane */
	pthread_mutex_t lock;
	struct sfu_cmd *cmd_head, **cmd_tail;
	atomic_bool stop;
	/* objects */
	struct sfu_transport *by_ufrag[SFU_HASH];
	struct sfu_transport *by_addr[SFU_HASH];
	struct sfu_transport *by_cand[SFU_HASH]; /* by nominated address */
	struct sfu_transport *all;
	/* I/O batches */
	struct mmsghdr rmsg[SFU_RECV_BATCH];
	struct iovec riov[SFU_RECV_BATCH];
	struct sockaddr_storage raddr[SFU_RECV_BATCH];
	uint8_t rbuf[SFU_RECV_BATCH][SFU_MTU];
	struct mmsghdr smsg[SFU_SEND_BATCH];
	struct iovec siov[SFU_SEND_BATCH];
	struct sockaddr_storage saddr[SFU_SEND_BATCH];
	uint8_t sbuf[SFU_SEND_BATCH][SFU_MTU];
	unsigned nsend;
	/* subscriber-major fan-out (forward.c, sfu__fanout): while `defer`
	 * (set by receive()), video packets wait here, and pend_copies
	 * counts the datagrams they will make */
	bool defer;
	unsigned npend, pend_copies;
	struct sfu_pending pend[SFU_PEND];
	/* delay through the server: each received datagram's kernel receive
	 * time (SO_TIMESTAMPNS, CLOCK_REALTIME ns; 0 when unknown), that of
	 * the one being handled, and that of the one each queued send answers
	 * (0: sent on a timer) */
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} rctl[SFU_RECV_BATCH];
	uint64_t cur_rx_ns;
	uint64_t send_rx_ns[SFU_SEND_BATCH];
	uint64_t delay[SFU_DELAY_BUCKETS + 1];
	uint64_t delay_sum_ns;
	_Atomic uint64_t delay_pub[SFU_DELAY_BUCKETS + 2]; /* buckets, sum */
	FILE *tap;                       /* --test-tap: forwarded payloads */
	struct sfu_counters c;
	_Atomic uint64_t pub[sizeof(struct sfu_counters) / sizeof(uint64_t)];
	struct sfu_gauges g;
	_Atomic uint64_t gpub[sizeof(struct sfu_gauges) / sizeof(uint64_t)];
};

/* worker.c */
/* The settings of a calloc'ed worker, before its socket and thread (also
 * for tests and fuzzers that drive a worker by hand). */
void sfu__worker_init(struct sfu_worker *w, struct sfu *s, unsigned index);
uint8_t *sfu__send_slot(struct sfu_worker *w);
/* Queues the slot just filled (len bytes) for `to`. */
void sfu__send_commit(struct sfu_worker *w, const struct sockaddr_storage *to,
		      socklen_t tolen, size_t len);
/* Queues it for the transport's address, if it has one; and a copy for
 * its candidate while the candidate's budget lasts (SFU_CAND_RATE). */
void sfu__send_to(struct sfu_worker *w, struct sfu_transport *t, size_t len);
void sfu__flush(struct sfu_worker *w);
void sfu__event(struct sfu_worker *w, enum sfu_event_type type, uint32_t id);
void sfu__event_post(struct sfu_worker *w, const struct sfu_event *ev);
void sfu__event_level(struct sfu_worker *w, enum sfu_event_type type,
		      uint32_t id, uint32_t track, uint8_t loudness);

/* transport.c */
struct sfu_transport *sfu__transport_find(struct sfu_worker *w, uint32_t id);
void sfu__transport_open(struct sfu_worker *w,
			 const struct sfu_transport_params *p);
void sfu__transport_close(struct sfu_worker *w, uint32_t id);
void sfu__transport_remote_fp(struct sfu_worker *w, uint32_t id,
			      const uint8_t fp[32]);
void sfu__transport_ice_restart(struct sfu_worker *w, uint32_t id,
				const char *ufrag, const char *pwd);
void sfu__packet(struct sfu_worker *w, const struct sockaddr_storage *from,
		 socklen_t fromlen, uint8_t *p, size_t len);
/* The *_tick functions that return bool say whether they still wait for
 * something due within SFU_TICK_MS's granularity (sfu__tick). */
bool sfu__transports_tick(struct sfu_worker *w);
void sfu__transports_free_all(struct sfu_worker *w);

/* forward.c */
void sfu__track_add(struct sfu_worker *w, const struct sfu_track_params *p);
void sfu__track_remove(struct sfu_worker *w, uint32_t transport, uint32_t track);
void sfu__track_free(struct sfu_track *t);
void sfu__subscribe(struct sfu_worker *w, const struct sfu_sub_params *p);
void sfu__unsubscribe(struct sfu_worker *w, uint32_t transport, uint32_t track);
void sfu__out_free(struct sfu_out *o);
void sfu__request_keyframe(struct sfu_worker *w, uint32_t track, bool now);
void sfu__want_keyframe(struct sfu_worker *w, struct sfu_track *tr,
			int layer, unsigned gap_ms);
void sfu__rtp_in(struct sfu_worker *w, struct sfu_transport *t, uint8_t *p,
		 size_t len);
void sfu__rtcp_in(struct sfu_worker *w, struct sfu_transport *t, uint8_t *p,
		  size_t len);
/* Copies the video packets deferred since the last call (w->defer) to
 * their subscribers, one subscriber after another. */
void sfu__fanout(struct sfu_worker *w);
/* Every transport's reports now (tests). */
void sfu__reports_tick(struct sfu_worker *w);
/* The reports that are due: each transport every SFU_REPORT_MS, at a
 * phase of its own (called every tick). */
void sfu__reports_due(struct sfu_worker *w);
bool sfu__keyframes_tick(struct sfu_worker *w);
bool sfu__nack_tick(struct sfu_worker *w);
void sfu__levels_tick(struct sfu_worker *w);
void sfu__twcc_tick(struct sfu_worker *w);
uint64_t sfu__now_us(void);
uint64_t sfu__rx_us(const struct sfu_worker *w);

/* worker.c: runs the worker's timers (w->now must be current), the
 * periodic ones that are due by w->now + ahead; returns the milliseconds
 * until they are due again: SFU_TICK_MS while a short timer waits, else
 * up to SFU_IDLE_TICK_MS. */
int sfu__tick(struct sfu_worker *w, uint64_t ahead);

/* simulcast.c */
void sfu__set_view(struct sfu_worker *w, uint32_t transport, uint32_t track,
		   int max_layer);
/* Chooses the layer of each of a subscriber's outs (now, not at the next
 * period), asks for key frames and reports changes. */
void sfu__allocate(struct sfu_worker *w, struct sfu_transport *sub);
void sfu__alloc_tick(struct sfu_worker *w);
/* The layer a viewer that shows nothing yet starts with: the lowest that
 * flows, up to its target (else the target). */
int sfu__start_layer(const struct sfu_worker *w, const struct sfu_out *o);
/* Bitrate of a layer: measured, or the nominal one while not flowing. */
uint32_t sfu__layer_bps(const struct sfu_worker *w, const struct sfu_track *tr,
			int layer);

/* congestion.c: the subscriber side of transport-wide congestion control */
int sfu__congestion_enable(struct sfu_transport *sub, uint8_t twcc_id);
void sfu__congestion_free(struct sfu_transport *sub);
/* A packet carrying sub->twcc_seq went out (bytes on the wire). */
void sfu__congestion_sent(struct sfu_worker *w, struct sfu_transport *sub,
			  size_t bytes, int probe_cluster);
void sfu__congestion_feedback(struct sfu_worker *w, struct sfu_transport *sub,
			      const struct rtcp_pkt *pkt);
void sfu__congestion_remb(struct sfu_worker *w, struct sfu_transport *sub,
			  const struct rtcp_pkt *pkt);
/* The estimate (bits/s) to allocate layers with; UINT32_MAX: unknown. */
uint32_t sfu__congestion_estimate(const struct sfu_worker *w,
				  const struct sfu_transport *sub);
void sfu__congestion_tick(struct sfu_worker *w, struct sfu_transport *sub);
/* Whether the estimator would like to test a higher rate, and which. */
bool sfu__congestion_probe_wanted(struct sfu_worker *w, struct sfu_transport *sub,
				  uint32_t *rate_bps);
void sfu__probe_start(struct sfu_worker *w, struct sfu_transport *sub,
		      uint32_t bps);
bool sfu__probe_tick(struct sfu_worker *w);

#endif
