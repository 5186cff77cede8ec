/*
 * sdp — the subset of SDP (RFC 8866) that WebRTC browsers speak, parsed into
 * a plain struct and written back, plus the SFU's answer policy.
 *
 * conclave negotiates two RTCPeerConnections per participant (DESIGN.md §3):
 *
 *   publish    the browser offers (sendonly audio, sendonly video with
 *              RID simulcast, maybe a screen-share video); the server answers
 *              with sdp_answer_publish(): recvonly, ICE-lite, setup:passive.
 *   subscribe  the server offers one sendonly m-line per forwarded track
 *              (built by the caller in a struct sdp_session and written with
 *              sdp_write()); the browser answers and sdp_parse() reads it.
 *
 * Unified Plan only, BUNDLE and rtcp-mux always (RFC 8829 JSEP, RFC 9143,
 * RFC 5761). Plan B, SDES keys and ICE-full are out of scope.
 *
 * Memory: a struct sdp_session is a large value of fixed-size arrays
 * (sizeof is about 9 MB with the limits below, of which a parse or a
 * build touches only the m-lines used), owned by whoever allocates
 * it — allocate it once, on the heap, and reuse it. Nothing here calls
 * malloc: strings are copied into fixed fields with named maximum lengths,
 * every array has a named limit, and exceeding a limit is -E2BIG, never a
 * silent truncation. Two deliberate exceptions: attributes this module does
 * not know are skipped, and a=candidate lines beyond SDP_MAX_CANDIDATES are
 * counted but not stored (an ICE-lite server learns peer addresses from
 * STUN, so the browser's candidates only matter for tests and logs).
 *
 * All strings in the structs are NUL-terminated. A parsed session has had
 * session-level defaults resolved into each m-line (ICE credentials,
 * ice-options, fingerprint, setup, direction: media-level first, session-level
 * fallback) and rtcp-fb wildcards ("*") applied to every codec.
 */
#ifndef CONCLAVE_SDP_SDP_H
#define CONCLAVE_SDP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * Limits. Lengths are in characters, excluding the NUL (fields are one
 * longer). Where an RFC sets the bound it is cited; the rest are sized with
 * a wide margin over what Chromium, Firefox and Safari emit.
 */
enum {
	/* m-lines: one per forwarded track in a subscribe offer. A member of
	 * a full meeting (ROOM_MAX_MEMBERS = 100) receives the microphone and
	 * camera of 99 others, 198 m-lines, plus screen shares. */
	SDP_MAX_MEDIA = 256,
	/* Text limits follow: a subscribe m-line we write is ~1 KB (video
	 * with RTX, two host candidates), a browser's answer to it less;
	 * about 25 lines each. The BUNDLE line lists every mid ("s255"). */
	SDP_MAX_SIZE = 1536 * SDP_MAX_MEDIA,   /* bytes of SDP text: 384 KiB */
	SDP_MAX_LINES = 32 * SDP_MAX_MEDIA,    /* lines per description */
	SDP_MAX_LINE = 2048,       /* characters per line, without CRLF */
	SDP_MAX_BUNDLE = SDP_MAX_MEDIA, /* mids in a=group:BUNDLE (RFC 9143) */
	SDP_MAX_CODECS = 64,       /* payload types per m-line: 96-127 plus the
				      35-63 range Chromium spills into (RFC 3551 §6) */
	SDP_MAX_CODEC_NAME = 31,   /* rtpmap encoding name ("telephone-event") */
	SDP_MAX_FMTP = 255,        /* a=fmtp parameter string */
	SDP_MAX_EXTMAPS = 24,      /* a=extmap per m-line (RFC 8285: ids 1-14 / 1-255) */
	SDP_MAX_URI = 127,         /* extension URI */
	SDP_MAX_SSRCS = 16,        /* distinct SSRCs with cname/msid per m-line */
	SDP_MAX_SSRC_GROUPS = 8,   /* a=ssrc-group lines per m-line */
	SDP_MAX_GROUP_SSRCS = 8,   /* SSRCs in one group (FID: 2, SIM: layers) */
	SDP_MAX_CNAME = 127,       /* RTCP CNAME (RFC 3550 §6.5.1 allows 255) */
	SDP_MAX_MSIDS = 4,         /* a=msid lines per m-line (RFC 8830 §2) */
	SDP_MAX_MSID_ID = 64,      /* msid-id and msid-appdata: 1*64token-char (RFC 8830 §2) */
	SDP_MAX_RIDS = 8,          /* a=rid per m-line; simulcast streams per direction */
	SDP_MAX_RID_ID = 32,       /* rid-id (RFC 8851 §10); RTP carries <= 16 bytes */
	SDP_MAX_RID_PARAMS = 127,  /* a=rid restriction list */
	SDP_MAX_SIM_ALTS = 4,      /* alternatives per simulcast stream (RFC 8853 §5.1) */
	SDP_MAX_MID = 32,          /* identification-tag (RFC 5888); RTP carries <= 16 */
	SDP_MAX_UFRAG = 256,       /* ice-ufrag: 4*256ice-char (RFC 8839 §5.4) */
	SDP_MIN_UFRAG = 4,
	SDP_MAX_PWD = 256,         /* ice-pwd: 22*256ice-char (RFC 8839 §5.4) */
	SDP_MIN_PWD = 22,
	SDP_MAX_ICE_OPTIONS = 63,  /* a=ice-options value ("trickle renomination") */
	SDP_MAX_HASH_ALG = 15,     /* hash-func token (RFC 8122 §5: "sha-256") */
	SDP_MAX_FINGERPRINT = 64,  /* bytes of the longest hash, SHA-512 */
	SDP_MAX_CANDIDATES = 16,   /* a=candidate stored per m-line (more are counted) */
	SDP_MAX_FOUNDATION = 32,   /* foundation: 1*32ice-char (RFC 8839 §5.1) */
	SDP_MAX_ADDR = 63,         /* IPv6 text is <= 45; mDNS "<uuid>.local" is 42 */
	SDP_MAX_TOKEN = 31,        /* media kind, proto, transport, origin fields */
	SDP_MAX_ORIGIN_USER = 63,  /* o= username (Firefox's is 30 characters) */
	SDP_MAX_FMT = 63,          /* fmt list of a non-RTP m-line */
	SDP_MAX_PT = 127,          /* 7-bit RTP payload type (RFC 3550 §5.1) */
	SDP_MAX_EXT_ID = 255,      /* two-byte header extension ids (RFC 8285 §4.3) */
	SDP_LOCAL_MAX_HOSTS = 4,   /* server host candidates in an answer */
	SDP_DISCARD_PORT = 9,      /* port of a bundled m-line (RFC 8829 §5.2.1) */
};

enum sdp_kind {
	SDP_KIND_AUDIO = 1,
	SDP_KIND_VIDEO,
	SDP_KIND_APPLICATION,
	SDP_KIND_OTHER,            /* name kept in media.kind_name */
};

/* Media direction (RFC 3264 §5.1). SDP_DIR_NONE: attribute absent. */
enum sdp_dir {
	SDP_DIR_NONE = 0,
	SDP_DIR_SENDRECV,
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
};

/* a=setup (RFC 4145 §4). */
enum sdp_setup {
	SDP_SETUP_NONE = 0,
	SDP_SETUP_ACTPASS,
	SDP_SETUP_ACTIVE,
	SDP_SETUP_PASSIVE,
	SDP_SETUP_HOLDCONN,
};

/* a=rtcp-fb values this module understands (RFC 4585, 5104, draft-holmer,
 * goog-remb); others are skipped. */
enum {
	SDP_FB_NACK = 1u << 0,         /* "nack" (RFC 4585 §4.2) */
	SDP_FB_NACK_PLI = 1u << 1,     /* "nack pli" */
	SDP_FB_CCM_FIR = 1u << 2,      /* "ccm fir" (RFC 5104 §7.1) */
	SDP_FB_TRANSPORT_CC = 1u << 3, /* "transport-cc" */
	SDP_FB_GOOG_REMB = 1u << 4,    /* "goog-remb" */
};
#define SDP_FB_ALLOWED (SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | \
			SDP_FB_TRANSPORT_CC | SDP_FB_GOOG_REMB)

enum sdp_rid_dir { SDP_RID_SEND = 1, SDP_RID_RECV };

enum sdp_ssrc_sem {
	SDP_SSRC_FID = 1,          /* RFC 5576 §4.2 / RFC 4588 §8.1: media + RTX */
	SDP_SSRC_SIM,              /* legacy Chromium simulcast layers */
};

enum sdp_cand_type {
	SDP_CAND_HOST = 1,         /* RFC 8839 §5.1 cand-type */
	SDP_CAND_SRFLX,
	SDP_CAND_PRFLX,
	SDP_CAND_RELAY,
};

enum sdp_tcptype {
	SDP_TCP_NONE = 0,          /* RFC 6544 §4.5 */
	SDP_TCP_ACTIVE,
	SDP_TCP_PASSIVE,
	SDP_TCP_SO,
};

struct sdp_ice {
	char ufrag[SDP_MAX_UFRAG + 1];
	char pwd[SDP_MAX_PWD + 1];
	char options[SDP_MAX_ICE_OPTIONS + 1];
};

/* a=fingerprint (RFC 8122 §5); alg is lower-case; len 0 = absent. */
struct sdp_fingerprint {
	char alg[SDP_MAX_HASH_ALG + 1];
	uint8_t bytes[SDP_MAX_FINGERPRINT];
	size_t len;
};

/* One payload type of an RTP m-line: the m= entry plus its rtpmap, fmtp and
 * rtcp-fb. name is "" when the pt had no a=rtpmap (static types). */
struct sdp_codec {
	uint8_t pt;
	uint8_t channels;          /* 0 = not given */
	uint32_t clock;
	uint32_t fb;               /* SDP_FB_* */
	char name[SDP_MAX_CODEC_NAME + 1];
	char fmtp[SDP_MAX_FMTP + 1];
};

/* a=extmap (RFC 8285 §5); dir SDP_DIR_NONE when no "/direction". */
struct sdp_extmap {
	uint16_t id;
	enum sdp_dir dir;
	char uri[SDP_MAX_URI + 1];
};

/* An SSRC described by a=ssrc:<ssrc> cname:/msid: lines (RFC 5576). */
struct sdp_ssrc {
	uint32_t ssrc;
	char cname[SDP_MAX_CNAME + 1];
	char msid_stream[SDP_MAX_MSID_ID + 1];
	char msid_track[SDP_MAX_MSID_ID + 1];
};

struct sdp_ssrc_group {
	enum sdp_ssrc_sem sem;
	uint32_t ssrcs[SDP_MAX_GROUP_SSRCS];
	size_t n;
};

/* a=msid:<stream> [<track>] (RFC 8830 §2); track "" when absent. */
struct sdp_msid {
	char stream[SDP_MAX_MSID_ID + 1];
	char track[SDP_MAX_MSID_ID + 1];
};

/* a=rid:<id> send|recv [<restrictions>] (RFC 8851 §10). */
struct sdp_rid {
	char id[SDP_MAX_RID_ID + 1];
	enum sdp_rid_dir dir;
	char params[SDP_MAX_RID_PARAMS + 1];
};

/* a=simulcast (RFC 8853 §5.1): per direction, a list of streams separated
 * by ';', each with one or more alternative rids separated by ','; a rid
 * prefixed with '~' is paused. */
struct sdp_sim_alt {
	char rid[SDP_MAX_RID_ID + 1];
	bool paused;
};
struct sdp_sim_stream {
	struct sdp_sim_alt alt[SDP_MAX_SIM_ALTS];
	size_t n_alt;
};
struct sdp_sim_list {
	struct sdp_sim_stream streams[SDP_MAX_RIDS];
	size_t n;
};
struct sdp_simulcast {
	struct sdp_sim_list send, recv;
};

/* a=candidate (RFC 8839 §5.1, RFC 6544 §4.5). Extension attributes other
 * than raddr/rport/tcptype are dropped. raddr "" when absent. */
struct sdp_candidate {
	char foundation[SDP_MAX_FOUNDATION + 1];
	uint16_t component;
	char transport[SDP_MAX_TOKEN + 1];   /* "udp", "tcp" as written */
	uint32_t priority;
	char addr[SDP_MAX_ADDR + 1];
	uint16_t port;
	enum sdp_cand_type type;
	enum sdp_tcptype tcptype;
	char raddr[SDP_MAX_ADDR + 1];
	uint16_t rport;
};

/* One m-line. Arrays hold n_* valid entries. */
struct sdp_media {
	enum sdp_kind kind;
	char kind_name[SDP_MAX_TOKEN + 1];   /* only for SDP_KIND_OTHER */
	uint16_t port;                       /* 0 = rejected / disabled */
	char proto[SDP_MAX_TOKEN + 1];       /* "UDP/TLS/RTP/SAVPF" */
	char fmt[SDP_MAX_FMT + 1];           /* non-RTP m-lines only */
	char mid[SDP_MAX_MID + 1];           /* "" if no a=mid */
	enum sdp_dir dir;                    /* never NONE after parsing */
	bool rtcp_mux, rtcp_rsize, extmap_allow_mixed, end_of_candidates;

	struct sdp_ice ice;
	struct sdp_fingerprint fingerprint;
	enum sdp_setup setup;

	struct sdp_codec codecs[SDP_MAX_CODECS];   /* m= order */
	size_t n_codecs;
	struct sdp_extmap extmaps[SDP_MAX_EXTMAPS];
	size_t n_extmaps;
	struct sdp_ssrc ssrcs[SDP_MAX_SSRCS];
	size_t n_ssrcs;
	struct sdp_ssrc_group ssrc_groups[SDP_MAX_SSRC_GROUPS];
	size_t n_ssrc_groups;
	struct sdp_msid msids[SDP_MAX_MSIDS];
	size_t n_msids;
	struct sdp_rid rids[SDP_MAX_RIDS];
	size_t n_rids;
	struct sdp_simulcast simulcast;      /* empty lists = no a=simulcast */
	struct sdp_candidate candidates[SDP_MAX_CANDIDATES];
	size_t n_candidates;                 /* stored */
	size_t n_candidates_seen;            /* all a=candidate lines */
};

/*
 * A whole description. Owned by the caller (see the top of this file).
 * err_line / err_msg are set by a failing sdp_parse(): the 1-based line
 * number (0 when the error is not tied to a line) and a static string.
 */
struct sdp_session {
	char origin_user[SDP_MAX_ORIGIN_USER + 1]; /* "" is written as "-" */
	uint64_t sess_id, sess_version;            /* o= (RFC 8866 §5.2) */

	char bundle[SDP_MAX_BUNDLE][SDP_MAX_MID + 1]; /* a=group:BUNDLE mids */
	size_t n_bundle;
	bool ice_lite, extmap_allow_mixed, msid_semantic, end_of_candidates;

	/* session-level values, also resolved into each media by sdp_parse */
	struct sdp_ice ice;
	struct sdp_fingerprint fingerprint;
	enum sdp_setup setup;
	enum sdp_dir dir;

	unsigned err_line;
	const char *err_msg;

	struct sdp_media media[SDP_MAX_MEDIA];
	size_t n_media;
};

/* ---- parsing and writing ---------------------------------------------- */

/*
 * Parses len bytes of SDP text (CRLF or LF line ends; strict "x=value"
 * lines; at most SDP_MAX_SIZE bytes, SDP_MAX_LINES lines of SDP_MAX_LINE
 * characters) into out. Returns 0, -EBADMSG for malformed text or -E2BIG when
 * a limit is exceeded. On failure only out->err_line and out->err_msg are
 * meaningful. Only the header and the m-lines used are written, so a reused
 * out costs no more than its content.
 */
int sdp_parse(const char *text, size_t len, struct sdp_session *out);

/*
 * Appends s as SDP text with CRLF line ends to out. Every string field is
 * checked against the syntax sdp_parse() accepts (so a CR/LF or space
 * smuggled into, say, a mid is refused), and the output against the parse
 * limits: what sdp_write() writes, sdp_parse() reads back to the same
 * struct. Returns 0, -EINVAL for an unwritable session (bad field, RTP m-line
 * without codecs, count over its limit), -E2BIG if the text would exceed a
 * parse limit, or the wbuf's error (-ENOMEM, -E2BIG). On failure out is left
 * as it was (unless its own sticky error was set).
 */
int sdp_write(const struct sdp_session *s, struct wbuf *out);

/* ---- building ---------------------------------------------------------- */

/* Makes s an empty session (no m-lines, origin user "-") to fill in by hand. */
void sdp_session_init(struct sdp_session *s);

/*
 * A new empty session on the heap (sdp_session_init), for free(); NULL
 * without memory. A session is large (SDP_MAX_MEDIA m-lines, ~9 MB) and
 * only the m-lines in use are ever written: unlike calloc(), this touches
 * none of the others, so a session costs the pages its description needs.
 */
struct sdp_session *sdp_session_new(void);

/* Appends a zeroed m-line of the given kind (dir sendrecv, proto
 * "UDP/TLS/RTP/SAVPF", port SDP_DISCARD_PORT, rtcp-mux on); NULL if s
 * already has SDP_MAX_MEDIA. */
struct sdp_media *sdp_media_add(struct sdp_session *s, enum sdp_kind kind);

/* Copies NUL-terminated src into dst[cap]; -E2BIG (dst unchanged) if it
 * does not fit. For filling the fixed fields. */
int sdp_copy(char *dst, size_t cap, const char *src);

/* Fills c as a host UDP candidate for component 1: foundation "index+1",
 * priority per RFC 8445 §5.1.2.1 (type preference 126, local preference
 * 65535 - index). Returns 0, -E2BIG (addr too long) or -EINVAL. */
int sdp_candidate_host(struct sdp_candidate *c, unsigned index,
		       const char *addr, uint16_t port);

/* ---- lookups ------------------------------------------------------------ */

/* True if the m-line's proto carries RTP (its fmt list is payload types). */
bool sdp_media_is_rtp(const struct sdp_media *m);

/* The m-line with this mid, or NULL. */
const struct sdp_media *sdp_media_find(const struct sdp_session *s,
				       const char *mid);

/* The codec with payload type pt, or NULL. */
const struct sdp_codec *sdp_codec_find(const struct sdp_media *m, unsigned pt);

/* Payload type of the "rtx" codec whose fmtp says apt=pt (RFC 4588 §8.1),
 * or -ENOENT. */
int sdp_codec_rtx(const struct sdp_media *m, unsigned pt);

/* Id of the header extension with this URI, or -ENOENT. */
int sdp_extmap_find(const struct sdp_media *m, const char *uri);

/*
 * Looks up key (case-insensitive) in an fmtp parameter string of the form
 * "k1=v1;k2=v2" (spaces around ';' tolerated, items without '=' skipped) and
 * copies its value into val[cap]. Returns 0, -ENOENT, or -E2BIG if val is
 * too small. Typical keys: apt, profile-level-id, packetization-mode,
 * profile-id, minptime, useinbandfec.
 */
int sdp_fmtp_get(const char *fmtp, const char *key, char *val, size_t cap);

/* sdp_fmtp_get() for a decimal value: 0, -ENOENT, or -EBADMSG if the value
 * is not a decimal number that fits in 32 bits. */
int sdp_fmtp_uint(const char *fmtp, const char *key, uint32_t *v);

/* "sendrecv", "sendonly", "recvonly", "inactive" or "" for NONE. */
const char *sdp_dir_name(enum sdp_dir d);

/* ---- the SFU's answer policy ------------------------------------------ */

/* RTP header extension URIs the SFU uses. */
#define SDP_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define SDP_EXT_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define SDP_EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define SDP_EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define SDP_EXT_RRID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define SDP_EXT_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define SDP_EXT_DEPENDENCY_DESCRIPTOR \
	"https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"
#define SDP_EXT_VLA "http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00"

/* The extmaps an answer keeps (with the offer's ids): the URIs above. */
extern const char *const sdp_extmap_allowed[];
extern const size_t sdp_extmap_allowed_count;

/* A condition on one fmtp parameter: value (case-insensitive) must equal
 * val; a missing parameter counts as dflt (NULL: missing never matches). */
struct sdp_fmtp_cond {
	const char *key, *val, *dflt;
};

enum { SDP_PREF_MAX_CONDS = 2 };

/* One acceptable codec, in a preference table. */
struct sdp_codec_pref {
	const char *name;          /* rtpmap encoding name, case-insensitive */
	uint32_t clock;
	uint8_t channels;          /* 0 = don't care */
	struct sdp_fmtp_cond cond[SDP_PREF_MAX_CONDS]; /* unused: key NULL */
};

/* Default preference tables: audio Opus/48000/2; video VP8, VP9 profile 0,
 * H264 packetization-mode 1 with profile-level-id 42e01f, 42001f, 640c1f,
 * then AV1 profile 0. The first entry the offer matches wins. */
extern const struct sdp_codec_pref sdp_audio_prefs[];
extern const size_t sdp_audio_prefs_count;
extern const struct sdp_codec_pref sdp_video_prefs[];
extern const size_t sdp_video_prefs_count;

/* A server address to offer as a host candidate. */
struct sdp_host {
	char addr[SDP_MAX_ADDR + 1];
	uint16_t port;
};

/* What the server contributes to an answer. Owned by the caller. */
struct sdp_local {
	char ice_ufrag[SDP_MAX_UFRAG + 1];
	char ice_pwd[SDP_MAX_PWD + 1];
	struct sdp_fingerprint fingerprint;  /* of the server's DTLS certificate */
	struct sdp_host hosts[SDP_LOCAL_MAX_HOSTS];
	size_t n_hosts;
	uint64_t sess_id, sess_version;      /* o= of the answer */
	/* Video preference table; NULL = sdp_video_prefs. */
	const struct sdp_codec_pref *video_prefs;
	size_t video_prefs_count;
};

/*
 * Builds the server's answer to a browser's publish offer (RFC 3264 §6,
 * RFC 8829 §5.3). Each offered m-line gets an m-line in the answer with the
 * same mid. An audio/video m-line is accepted when it has a non-zero port,
 * proto UDP/TLS/RTP/SAVPF, a mid in the offer's BUNDLE group, rtcp-mux, ICE
 * credentials, a fingerprint, setup actpass or active (the server is the
 * DTLS server) and a codec in the preference tables; it then gets that one
 * codec plus its RTX, rtcp-fb cut to SDP_FB_ALLOWED, the allowed extmaps
 * with the offer's ids, rids and a=simulcast flipped from send to recv,
 * direction recvonly (inactive if the browser does not send), setup
 * passive, the server's ICE credentials, fingerprint and host candidates.
 * Anything else (data channels, no common codec) is rejected with port 0.
 * The BUNDLE group lists the accepted mids in the offer's group order; the
 * session is ICE-lite.
 * Returns 0, or -EINVAL if local is unusable (bad ICE credentials, no
 * fingerprint, bad host); answer is written only on success.
 */
int sdp_answer_publish(const struct sdp_session *offer,
		       const struct sdp_local *local,
		       struct sdp_session *answer);

/* True if two sessions hold the same values (stored candidates only;
 * err_line/err_msg and n_candidates_seen ignored). */
bool sdp_session_equal(const struct sdp_session *a,
		       const struct sdp_session *b);

#endif
