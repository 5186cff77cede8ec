/*
 * media — negotiation of each member's media with the SFU (docs/protocol.md,
 * "Media").
 *
 * Every member has up to two transports on the meeting's media worker:
 *
 *   publish    the member offers (its camera, microphone, screen), the
 *              server answers with sdp_answer_publish; each accepted m-line
 *              becomes a track.
 *   subscribe  the server offers one sendonly m-line per track of the other
 *              members, the member answers. When tracks come and go the
 *              server sends a new offer; m-lines are never removed, a slot
 *              whose track went away turns inactive and is reused by the
 *              next track of the same kind.
 *
 * Only one subscribe offer is outstanding at a time (JSEP: a new offer only
 * in the stable state); changes made while one is outstanding are sent as
 * the next offer once the answer arrives.
 *
 * The stream id of every forwarded track (a=msid) is the publishing
 * participant's id, so a client knows whose tile a track belongs to.
 */
#include "room/room_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/ratelimit.h"

enum {
	MEDIA_MAX_SUBS = SDP_MAX_MEDIA,   /* m-lines in a subscribe offer */
	MEDIA_SDP_MAX = SDP_MAX_SIZE,     /* bytes of SDP we write */
	PT_OPUS = 111, PT_VP8 = 96, PT_VP9 = 98, PT_H264 = 102, PT_AV1 = 45,
	/* each video payload type's RTX (RFC 4588) is the next number */
	EXT_SUB_AUDIO_LEVEL = 1,          /* subscriber's id for RFC 6464 */
	EXT_SUB_TWCC = 3,                 /* subscriber's id for transport-cc */
	VIEW_MAX_TILES = 64,              /* entries of one `view` */
	VIEW_MAX_PIXELS = 8192,           /* tile width and height */
};

/*
 * Tile height (device pixels) up to which each simulcast layer is enough:
 * the web app sends its camera at 1280x720 scaled by 4, 2 and 1 (320x180,
 * 640x360, 1280x720); a layer may be stretched by a quarter before the
 * next is worth its bitrate.
 */
static const unsigned layer_max_height[SFU_MAX_LAYERS - 1] = { 225, 450 };

enum media_source { SRC_MICROPHONE, SRC_CAMERA, SRC_SCREEN };
static const char *const source_names[] = { "microphone", "camera", "screen" };

/*
 * Video codecs a meeting accepts. Every frame is end-to-end encrypted as a
 * whole (SFrame), and only VP8 and VP9 packetizers in Chromium carry an
 * opaque encrypted frame intact; H.264 (NAL parsing) and AV1 (OBU parsing)
 * do not (measured with Chromium 156), so they are not offered here.
 */
static const struct sdp_codec_pref e2ee_video_prefs[] = {
	{ "VP8", 90000, 0, { { NULL, NULL, NULL } } },
	{ "VP9", 90000, 0, { { "profile-id", "0", "0" } } },
};

static const char uri_audio_level[] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
static const char uri_mid[] = "urn:ietf:params:rtp-hdrext:sdes:mid";
static const char uri_rid[] = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
static const char uri_twcc[] =
	"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
static const char uri_rrid[] = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";

struct media_codec {
	char name[SDP_MAX_CODEC_NAME + 1];
	uint32_t clock;
	uint8_t channels;
	char fmtp[SDP_MAX_FMTP + 1];
	uint8_t pt;                      /* publisher's payload type */
};

struct media_track {
	uint32_t id;
	enum sfu_kind kind;
	enum media_source source;
	char mid[SFU_MID_MAX + 1];
	struct media_codec codec;
	uint8_t nlayers;                 /* simulcast layers (1: none) */
};

struct media_sub {
	uint32_t track;                  /* 0: an inactive slot */
	enum sfu_kind kind;
	uint32_t ssrc;
	char stream[PARTICIPANT_ID_CHARS + 1];
	struct media_codec codec;
	uint8_t pt_out;
	uint32_t rtx_ssrc;               /* video: the RTX stream for NACKs */
	enum media_source source;
	uint8_t nlayers;
	int8_t view;                     /* layer the view asks for (-1 paused) */
};

struct media_state {
	uint32_t pub_id, sub_id;
	uint8_t loudness;                /* latest smoothed audio level */
	uint64_t loud_at_ms;             /* when it was reported */
	char pub_ufrag[SFU_UFRAG_LEN + 1], pub_pwd[SFU_PWD_LEN + 1];
	char pub_remote_ufrag[SDP_MAX_UFRAG + 1];
	char sub_ufrag[SFU_UFRAG_LEN + 1], sub_pwd[SFU_PWD_LEN + 1];
	bool sub_have_fp;
	struct media_track tracks[SFU_MAX_TRACKS];
	size_t ntracks;
	struct media_sub subs[MEDIA_MAX_SUBS];
	size_t nsubs;
	uint64_t sess_id, pub_version;
	int64_t offer_version;
	bool offer_outstanding, offer_dirty;
	bool have_view;                  /* a `view` arrived: unlisted video pauses */
};

/* ---- helpers ------------------------------------------------------------ */

static void random_ice(char *out, size_t n)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t r[64];

	secret_random(r, n);
	for (size_t i = 0; i < n; i++)
		out[i] = alpha[r[i] & 63];
	out[n] = '\0';
}

static struct media_state *state(struct participant *p)
{
	if (!p->media) {
		p->media = calloc(1, sizeof(*p->media));
		if (p->media)
			secret_random(&p->media->sess_id, sizeof(p->media->sess_id));
		if (p->media)
			p->media->sess_id &= 0x7fffffffffffffffull;
	}
	return p->media;
}

static uint8_t sub_pt_for(const struct media_codec *c)
{
	if (strcasecmp(c->name, "opus") == 0)
		return PT_OPUS;
	if (strcasecmp(c->name, "VP8") == 0)
		return PT_VP8;
	if (strcasecmp(c->name, "VP9") == 0)
		return PT_VP9;
	if (strcasecmp(c->name, "H264") == 0)
		return PT_H264;
	if (strcasecmp(c->name, "AV1") == 0)
		return PT_AV1;
	return 0;
}

static int fp_from_text(const char *text, struct sdp_fingerprint *fp)
{
	size_t n = 0;
	unsigned v;

	snprintf(fp->alg, sizeof(fp->alg), "sha-256");
	while (*text && n < sizeof(fp->bytes)) {
		if (sscanf(text, "%2x", &v) != 1)
			return -EINVAL;
		fp->bytes[n++] = (uint8_t)v;
		text += 2;
		if (*text == ':')
			text++;
	}
	fp->len = n;
	return n == 32 ? 0 : -EINVAL;
}

/* Fills what every server-side description shares. */
static void local_transport(struct room_mgr *m, unsigned worker,
			    struct sdp_fingerprint *fp, struct sdp_host *hosts,
			    size_t *nhosts)
{
	const char *const *addrs;
	size_t n = sfu_addrs(m->sfu, &addrs), i;

	fp_from_text(sfu_worker_fingerprint(m->sfu, worker), fp);
	if (n > SDP_LOCAL_MAX_HOSTS)
		n = SDP_LOCAL_MAX_HOSTS;
	for (i = 0; i < n; i++) {
		snprintf(hosts[i].addr, sizeof(hosts[i].addr), "%s", addrs[i]);
		hosts[i].port = sfu_worker_port(m->sfu, worker);
	}
	*nhosts = n;
}

/* The peer's DTLS fingerprint: media level first, then session level. */
static const struct sdp_fingerprint *remote_fp(const struct sdp_session *s)
{
	for (size_t i = 0; i < s->n_media; i++)
		if (s->media[i].port && s->media[i].fingerprint.len)
			return &s->media[i].fingerprint;
	return s->fingerprint.len ? &s->fingerprint : NULL;
}

static const char *remote_ufrag(const struct sdp_session *s)
{
	for (size_t i = 0; i < s->n_media; i++)
		if (s->media[i].port && s->media[i].ice.ufrag[0])
			return s->media[i].ice.ufrag;
	return s->ice.ufrag;
}

static void send_sdp(struct participant *p, const char *type,
		     const char *sdp, int64_t version)
{
	json_t *j = json_pack("{s:s, s:s}", "type", type, "sdp", sdp);
	if (j && version >= 0)
		json_object_set_new(j, "version", json_integer(version));
	room__send_json(p, j);
}

/* ---- subscribe side ----------------------------------------------------- */

/* Opens the member's subscribe transport on the meeting's worker. */
static int sub_transport(struct participant *p)
{
	struct media_state *ms = p->media;
	struct sfu_transport_params tp;

	if (ms->sub_id)
		return 0;
	memset(&tp, 0, sizeof(tp));
	ms->sub_id = ++p->mgr->next_id;
	random_ice(ms->sub_ufrag, SFU_UFRAG_LEN);
	random_ice(ms->sub_pwd, SFU_PWD_LEN);
	tp.id = ms->sub_id;
	tp.publisher = false;
	memcpy(tp.ufrag, ms->sub_ufrag, sizeof(tp.ufrag));
	memcpy(tp.pwd, ms->sub_pwd, sizeof(tp.pwd));
	return sfu_transport_open(p->mgr->sfu, p->room->worker, &tp);
}

static int offer_now(struct participant *p)
{
	struct room_mgr *m = p->mgr;
	struct media_state *ms = p->media;
	struct sdp_session *s;
	struct sdp_fingerprint fp;
	struct sdp_host hosts[SDP_LOCAL_MAX_HOSTS];
	size_t nhosts, i, k;
	struct wbuf out;
	int rc;

	if (!ms->nsubs)
		return 0;
	if (!ms->sub_id)
		return -EINVAL;
	s = sdp_session_new();
	if (!s)
		return -ENOMEM;
	local_transport(m, p->room->worker, &fp, hosts, &nhosts);
	s->sess_id = ms->sess_id;
	s->sess_version = (uint64_t)++ms->offer_version;
	s->ice_lite = true;
	s->msid_semantic = true;
	for (i = 0; i < ms->nsubs; i++) {
		const struct media_sub *sub = &ms->subs[i];
		struct sdp_media *md = sdp_media_add(
			s, sub->kind == SFU_AUDIO ? SDP_KIND_AUDIO : SDP_KIND_VIDEO);
		struct sdp_codec *c;

		if (!md)
			break;
		snprintf(md->mid, sizeof(md->mid), "s%zu", i);
		snprintf(s->bundle[s->n_bundle++], sizeof(s->bundle[0]), "%s", md->mid);
		md->dir = sub->track ? SDP_DIR_SENDONLY : SDP_DIR_INACTIVE;
		md->rtcp_mux = md->rtcp_rsize = true;
		snprintf(md->ice.ufrag, sizeof(md->ice.ufrag), "%s", ms->sub_ufrag);
		snprintf(md->ice.pwd, sizeof(md->ice.pwd), "%s", ms->sub_pwd);
		md->fingerprint = fp;
		md->setup = SDP_SETUP_ACTPASS;
		c = &md->codecs[md->n_codecs++];
		c->pt = sub->pt_out;
		c->clock = sub->codec.clock;
		c->channels = sub->codec.channels;
		snprintf(c->name, sizeof(c->name), "%s", sub->codec.name);
		snprintf(c->fmtp, sizeof(c->fmtp), "%s", sub->codec.fmtp);
		/* transport-cc on everything sent: the subscriber's feedback
		 * drives its bandwidth estimate (docs/media.md) */
		c->fb = SDP_FB_TRANSPORT_CC;
		if (sub->kind == SFU_VIDEO) {
			/* the SFU answers NACKs from its packet cache, over RTX */
			struct sdp_codec *rtx = &md->codecs[md->n_codecs++];
			c->fb |= SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR;
			rtx->pt = (uint8_t)(sub->pt_out + 1);
			rtx->clock = 90000;
			snprintf(rtx->name, sizeof(rtx->name), "rtx");
			snprintf(rtx->fmtp, sizeof(rtx->fmtp), "apt=%u", sub->pt_out);
		} else {
			md->extmaps[md->n_extmaps].id = EXT_SUB_AUDIO_LEVEL;
			snprintf(md->extmaps[md->n_extmaps].uri,
				 sizeof(md->extmaps[0].uri), "%s", uri_audio_level);
			md->n_extmaps++;
		}
		md->extmaps[md->n_extmaps].id = EXT_SUB_TWCC;
		snprintf(md->extmaps[md->n_extmaps].uri, sizeof(md->extmaps[0].uri),
			 "%s", uri_twcc);
		md->n_extmaps++;
		if (sub->track) {
			struct sdp_ssrc *ss = &md->ssrcs[md->n_ssrcs++];
			ss->ssrc = sub->ssrc;
			snprintf(ss->cname, sizeof(ss->cname), "%s", sub->stream);
			snprintf(ss->msid_stream, sizeof(ss->msid_stream), "%s",
				 sub->stream);
			snprintf(ss->msid_track, sizeof(ss->msid_track), "t%u",
				 sub->track);
			if (sub->rtx_ssrc) {
				struct sdp_ssrc *rs = &md->ssrcs[md->n_ssrcs++];
				struct sdp_ssrc_group *g =
					&md->ssrc_groups[md->n_ssrc_groups++];
				*rs = *ss;
				rs->ssrc = sub->rtx_ssrc;
				g->sem = SDP_SSRC_FID;
				g->ssrcs[0] = sub->ssrc;
				g->ssrcs[1] = sub->rtx_ssrc;
				g->n = 2;
			}
			snprintf(md->msids[0].stream, sizeof(md->msids[0].stream),
				 "%s", sub->stream);
			snprintf(md->msids[0].track, sizeof(md->msids[0].track),
				 "t%u", sub->track);
			md->n_msids = 1;
		}
		for (k = 0; k < nhosts && k < SDP_MAX_CANDIDATES; k++)
			if (sdp_candidate_host(&md->candidates[md->n_candidates], (unsigned)k,
					       hosts[k].addr, hosts[k].port) == 0)
				md->n_candidates++;
		md->end_of_candidates = true;
	}
	wbuf_init(&out, MEDIA_SDP_MAX);
	rc = sdp_write(s, &out);
	free(s);
	if (rc == 0 && out.data) {
		json_t *j = json_pack("{s:s, s:s, s:I}", "type", "subscribe_offer",
				      "sdp", out.data, "version",
				      (json_int_t)ms->offer_version);
		json_t *tracks = json_object();
		char mid[24], tid[16];

		for (i = 0; tracks && i < ms->nsubs; i++) {
			const struct media_sub *sub = &ms->subs[i];
			if (!sub->track)
				continue;
			snprintf(mid, sizeof(mid), "s%zu", i);
			snprintf(tid, sizeof(tid), "t%u", sub->track);
			json_object_set_new(tracks, mid,
					    json_pack("{s:s, s:s, s:s}", "participant",
						      sub->stream, "source",
						      source_names[sub->source], "track",
						      tid));
		}
		if (j && tracks)
			json_object_set_new(j, "tracks", tracks);
		else
			json_decref(tracks);
		ms->offer_outstanding = true;
		ms->offer_dirty = false;
		room__send_json(p, j);
	} else {
		log_warn("media", "participant %s: cannot write a subscribe offer (%d)",
			 p->id, rc);
	}
	wbuf_free(&out);
	return rc;
}

/* Sends a new subscribe offer now, or after the outstanding one. */
static void offer(struct participant *p)
{
	if (!p->media || !p->mgr->sfu)
		return;
	if (p->media->offer_outstanding)
		p->media->offer_dirty = true;
	else
		offer_now(p);
}

static void sub_add(struct participant *sub, const struct participant *pub,
		    const struct media_track *t)
{
	struct room_mgr *m = sub->mgr;
	struct media_state *ms = state(sub);
	struct media_sub *slot = NULL;
	struct sfu_sub_params sp;
	size_t i;

	if (!ms)
		return;
	for (i = 0; i < ms->nsubs && !slot; i++)
		if (!ms->subs[i].track && ms->subs[i].kind == t->kind)
			slot = &ms->subs[i];
	if (!slot) {
		if (ms->nsubs == MEDIA_MAX_SUBS) {
			log_warn("media", "participant %s: subscribe offer full", sub->id);
			return;
		}
		slot = &ms->subs[ms->nsubs++];
	}
	memset(slot, 0, sizeof(*slot));
	slot->track = t->id;
	slot->kind = t->kind;
	slot->codec = t->codec;
	slot->pt_out = sub_pt_for(&t->codec);
	do
		secret_random(&slot->ssrc, sizeof(slot->ssrc));
	while (slot->ssrc <= 1);
	if (t->kind == SFU_VIDEO)
		do
			secret_random(&slot->rtx_ssrc, sizeof(slot->rtx_ssrc));
		while (slot->rtx_ssrc <= 1 || slot->rtx_ssrc == slot->ssrc);
	snprintf(slot->stream, sizeof(slot->stream), "%s", pub->id);
	slot->source = t->source;
	slot->nlayers = t->nlayers;
	/* until the next view lists it, a new video starts at its lowest layer */
	slot->view = ms->have_view ? 0 : (int8_t)(t->nlayers - 1);

	if (sub_transport(sub))
		return;
	memset(&sp, 0, sizeof(sp));
	sp.transport = ms->sub_id;
	sp.track = t->id;
	sp.ssrc = slot->ssrc;
	sp.pt_in[0] = t->codec.pt;
	sp.pt_out[0] = slot->pt_out;
	sp.audio_level_id = t->kind == SFU_AUDIO ? EXT_SUB_AUDIO_LEVEL : 0;
	sp.rtx_ssrc = slot->rtx_ssrc;
	sp.rtx_pt = slot->rtx_ssrc ? (uint8_t)(slot->pt_out + 1) : 0;
	sp.twcc_id = EXT_SUB_TWCC;
	sfu_subscribe(m->sfu, sub->room->worker, &sp);
	if (t->kind == SFU_VIDEO && slot->view != t->nlayers - 1)
		sfu_set_view(m->sfu, sub->room->worker, ms->sub_id, t->id, slot->view);
}

static bool sub_remove(struct participant *sub, uint32_t track)
{
	struct media_state *ms = sub->media;

	if (!ms)
		return false;
	for (size_t i = 0; i < ms->nsubs; i++) {
		if (ms->subs[i].track == track) {
			ms->subs[i].track = 0;
			if (ms->sub_id)
				sfu_unsubscribe(sub->mgr->sfu, sub->room->worker,
						ms->sub_id, track);
			return true;
		}
	}
	return false;
}

/* ---- publish side ------------------------------------------------------- */

static void track_from(struct media_track *t, const struct sdp_media *ans,
		       const struct sdp_media *off, struct sfu_track_params *tp)
{
	const struct sdp_codec *c = &ans->codecs[0];
	size_t i;

	memset(tp, 0, sizeof(*tp));
	t->kind = ans->kind == SDP_KIND_AUDIO ? SFU_AUDIO : SFU_VIDEO;
	snprintf(t->mid, sizeof(t->mid), "%s", ans->mid);
	snprintf(t->codec.name, sizeof(t->codec.name), "%s", c->name);
	t->codec.clock = c->clock;
	t->codec.channels = c->channels;
	snprintf(t->codec.fmtp, sizeof(t->codec.fmtp), "%s", c->fmtp);
	t->codec.pt = c->pt;

	tp->track = t->id;
	tp->kind = t->kind;
	tp->pt = c->pt;
	if (strcasecmp(c->name, "VP8") == 0)
		tp->codec = SFU_CODEC_VP8;
	else if (strcasecmp(c->name, "VP9") == 0)
		tp->codec = SFU_CODEC_VP9;
	else if (strcasecmp(c->name, "opus") == 0)
		tp->codec = SFU_CODEC_OPUS;
	/* simulcast: the layers in the order of a=simulcast, lowest first
	 * (docs/protocol.md); the answer kept only rids the offer declared */
	t->nlayers = 1;
	if (t->kind == SFU_VIDEO && ans->simulcast.recv.n > 1) {
		size_t n = ans->simulcast.recv.n;
		if (n > SFU_MAX_LAYERS)
			n = SFU_MAX_LAYERS;
		for (i = 0; i < n; i++)
			snprintf(tp->rids[i], sizeof(tp->rids[i]), "%s",
				 ans->simulcast.recv.streams[i].alt[0].rid);
		tp->nlayers = (uint8_t)n;
		t->nlayers = (uint8_t)n;
	}
	if (sdp_codec_rtx(ans, c->pt) > 0)
		tp->rtx_pt = (uint8_t)sdp_codec_rtx(ans, c->pt);
	memcpy(tp->mid, t->mid, sizeof(tp->mid));
	/* SSRCs: the SIM group's layers, else the FID group's primary, else
	 * the first a=ssrc; none with rid-based simulcast (learned by mid) */
	for (i = 0; i < off->n_ssrc_groups; i++) {
		const struct sdp_ssrc_group *g = &off->ssrc_groups[i];
		if (g->sem == SDP_SSRC_SIM) {
			for (size_t k = 0; k < g->n && k < SFU_MAX_TRACK_SSRCS; k++)
				tp->ssrcs[k] = g->ssrcs[k];
			break;
		}
		if (g->sem == SDP_SSRC_FID && g->n) {
			tp->ssrcs[0] = g->ssrcs[0];
			if (g->n > 1 && tp->rtx_pt)
				tp->rtx_ssrcs[0] = g->ssrcs[1];
		}
	}
	if (!tp->ssrcs[0] && off->n_ssrcs && !off->n_rids)
		tp->ssrcs[0] = off->ssrcs[0].ssrc;
	for (i = 0; i < ans->n_extmaps; i++) {
		const struct sdp_extmap *e = &ans->extmaps[i];
		if (e->id > 14)
			continue; /* the SFU reads one-byte elements only */
		if (strcmp(e->uri, uri_audio_level) == 0)
			tp->ext_id[SFU_EXT_AUDIO_LEVEL] = (uint8_t)e->id;
		else if (strcmp(e->uri, uri_mid) == 0)
			tp->ext_id[SFU_EXT_MID] = (uint8_t)e->id;
		else if (strcmp(e->uri, uri_rid) == 0)
			tp->ext_id[SFU_EXT_RID] = (uint8_t)e->id;
		else if (strcmp(e->uri, uri_twcc) == 0)
			tp->ext_id[SFU_EXT_TWCC] = (uint8_t)e->id;
		else if (strcmp(e->uri, uri_rrid) == 0)
			tp->ext_id[SFU_EXT_RRID] = (uint8_t)e->id;
	}
}

static void track_gone(struct participant *p, uint32_t track)
{
	struct participant *o;

	for (o = p->room->members; o; o = o->next)
		if (o != p && sub_remove(o, track))
			offer(o);
}

/* The source a publish offer's `sources` names for an m-line. */
static enum media_source source_of(const struct json_t *sources, const char *mid,
				   enum sfu_kind kind)
{
	const char *v = json_string_value(json_object_get(sources, mid));

	if (v && kind == SFU_VIDEO && strcmp(v, "screen") == 0)
		return SRC_SCREEN;
	return kind == SFU_AUDIO ? SRC_MICROPHONE : SRC_CAMERA;
}

int room_sources_check(const struct json_t *sources)
{
	const char *k;
	json_t *v;

	if (!sources)
		return 0;
	if (!json_is_object(sources) || json_object_size(sources) > SFU_MAX_TRACKS)
		return -EINVAL;
	json_object_foreach((json_t *)sources, k, v) {
		const char *t = json_string_value(v);
		if (strlen(k) > SFU_MID_MAX || !t ||
		    (strcmp(t, "microphone") && strcmp(t, "camera") && strcmp(t, "screen")))
			return -EINVAL;
	}
	return 0;
}

int room_publish(struct participant *p, const char *sdp, size_t len,
		 const struct json_t *sources)
{
	struct room_mgr *m = p->mgr;
	struct sdp_session *offer_s = NULL, *ans = NULL;
	struct sdp_local local;
	struct media_state *ms;
	const struct sdp_fingerprint *rfp;
	struct wbuf out;
	bool keep[SFU_MAX_TRACKS] = { false };
	size_t i, k;
	int rc;

	if (p->state != PS_MEMBER || !p->room)
		return -EPERM;
	if (!m->sfu)
		return -ENOTSUP;
	if (room_sources_check(sources))
		return -EINVAL;
	ms = state(p);
	offer_s = sdp_session_new();
	ans = sdp_session_new();
	if (!ms || !offer_s || !ans) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = sdp_parse(sdp, len, offer_s)))
		goto out;
	rfp = remote_fp(offer_s);
	if (!rfp || rfp->len != 32 || strcmp(rfp->alg, "sha-256") != 0) {
		rc = -EBADMSG;
		goto out;
	}
	if (!ms->pub_id) {
		struct sfu_transport_params tp;
		memset(&tp, 0, sizeof(tp));
		ms->pub_id = ++m->next_id;
		random_ice(ms->pub_ufrag, SFU_UFRAG_LEN);
		random_ice(ms->pub_pwd, SFU_PWD_LEN);
		tp.id = ms->pub_id;
		tp.publisher = true;
		memcpy(tp.ufrag, ms->pub_ufrag, sizeof(tp.ufrag));
		memcpy(tp.pwd, ms->pub_pwd, sizeof(tp.pwd));
		memcpy(tp.remote_fp, rfp->bytes, 32);
		tp.have_remote_fp = true;
		if ((rc = sfu_transport_open(m->sfu, p->room->worker, &tp)))
			goto out;
	} else if (strcmp(remote_ufrag(offer_s), ms->pub_remote_ufrag) != 0) {
		/* ICE restart (RFC 8445 §9): both sides take new credentials */
		random_ice(ms->pub_ufrag, SFU_UFRAG_LEN);
		random_ice(ms->pub_pwd, SFU_PWD_LEN);
		sfu_transport_ice_restart(m->sfu, p->room->worker, ms->pub_id,
					  ms->pub_ufrag, ms->pub_pwd);
		log_info("media", "participant %s: ICE restart (publish)", p->id);
	}
	snprintf(ms->pub_remote_ufrag, sizeof(ms->pub_remote_ufrag), "%s",
		 remote_ufrag(offer_s));

	memset(&local, 0, sizeof(local));
	snprintf(local.ice_ufrag, sizeof(local.ice_ufrag), "%s", ms->pub_ufrag);
	snprintf(local.ice_pwd, sizeof(local.ice_pwd), "%s", ms->pub_pwd);
	local_transport(m, p->room->worker, &local.fingerprint, local.hosts,
			&local.n_hosts);
	local.sess_id = ms->sess_id;
	local.sess_version = ++ms->pub_version;
	local.video_prefs = e2ee_video_prefs;
	local.video_prefs_count = sizeof(e2ee_video_prefs) / sizeof(e2ee_video_prefs[0]);
	if ((rc = sdp_answer_publish(offer_s, &local, ans)))
		goto out;

	/* too many streams: refuse the whole offer before anything changes */
	{
		size_t want = 0;
		for (i = 0; i < ans->n_media && i < offer_s->n_media; i++) {
			const struct sdp_media *am = &ans->media[i];
			if (am->port && am->n_codecs &&
			    (am->kind == SDP_KIND_AUDIO || am->kind == SDP_KIND_VIDEO) &&
			    (am->dir == SDP_DIR_RECVONLY || am->dir == SDP_DIR_SENDRECV))
				want++;
		}
		if (want > m->lim.max_tracks) {
			rc = -EDQUOT;   /* max_tracks: "too_many_tracks" */
			goto out;
		}
	}

	/* tracks: keep those whose m-line is still accepted, add new ones */
	for (i = 0; i < ans->n_media && i < offer_s->n_media; i++) {
		const struct sdp_media *am = &ans->media[i];
		struct media_track *t = NULL;
		struct sfu_track_params tp;

		if (!am->port || am->n_codecs == 0 ||
		    (am->kind != SDP_KIND_AUDIO && am->kind != SDP_KIND_VIDEO) ||
		    (am->dir != SDP_DIR_RECVONLY && am->dir != SDP_DIR_SENDRECV))
			continue;
		for (k = 0; k < ms->ntracks; k++)
			if (strcmp(ms->tracks[k].mid, am->mid) == 0) {
				keep[k] = true;
				t = &ms->tracks[k];
			}
		if (t)
			continue;
		if (ms->ntracks == SFU_MAX_TRACKS) {
			rc = -EDQUOT;
			goto out;
		}
		t = &ms->tracks[ms->ntracks];
		keep[ms->ntracks] = true;
		ms->ntracks++;
		t->id = ++m->next_id;
		track_from(t, am, &offer_s->media[i], &tp);
		t->source = source_of(sources, t->mid, t->kind);
		tp.transport = ms->pub_id;
		sfu_track_add(m->sfu, p->room->worker, &tp);
		for (struct participant *o = p->room->members; o; o = o->next)
			if (o != p) {
				sub_add(o, p, t);
				offer(o);
			}
	}
	for (k = 0; k < ms->ntracks;) {
		if (keep[k]) {
			k++;
			continue;
		}
		sfu_track_remove(m->sfu, p->room->worker, ms->pub_id,
				 ms->tracks[k].id);
		track_gone(p, ms->tracks[k].id);
		memmove(&ms->tracks[k], &ms->tracks[k + 1],
			(ms->ntracks - k - 1) * sizeof(ms->tracks[0]));
		memmove(&keep[k], &keep[k + 1], (ms->ntracks - k - 1) * sizeof(keep[0]));
		ms->ntracks--;
	}

	wbuf_init(&out, MEDIA_SDP_MAX);
	rc = sdp_write(ans, &out);
	if (rc == 0 && out.data)
		send_sdp(p, "publish_answer", out.data, -1);
	wbuf_free(&out);
out:
	if (rc == -EBADMSG || rc == -E2BIG)
		log_info("media", "participant %s: unusable publish offer (line %u)",
			 p->id, offer_s ? offer_s->err_line : 0);
	free(offer_s);
	free(ans);
	return rc;
}

int room_subscribe_answer(struct participant *p, const char *sdp, size_t len,
			  int64_t version)
{
	struct media_state *ms = p->media;
	struct sdp_session *s;
	const struct sdp_fingerprint *rfp;
	int rc = 0;

	if (p->state != PS_MEMBER || !ms || !ms->sub_id || !p->mgr->sfu)
		return -EPERM;
	if (version != ms->offer_version)
		return 0; /* an answer to an older offer: a newer one is coming */
	s = sdp_session_new();
	if (!s)
		return -ENOMEM;
	if ((rc = sdp_parse(sdp, len, s)))
		goto out;
	rfp = remote_fp(s);
	if (!rfp || rfp->len != 32 || strcmp(rfp->alg, "sha-256") != 0) {
		rc = -EBADMSG;
		goto out;
	}
	if (!ms->sub_have_fp) {
		ms->sub_have_fp = true;
		sfu_transport_remote_fp(p->mgr->sfu, p->room->worker, ms->sub_id,
					rfp->bytes);
	}
	ms->offer_outstanding = false;
	if (ms->offer_dirty)
		offer_now(p);
out:
	free(s);
	return rc;
}

int room_subscribe_restart(struct participant *p)
{
	struct media_state *ms = p->media;

	if (p->state != PS_MEMBER || !ms || !ms->sub_id || !p->mgr->sfu)
		return -EPERM;
	random_ice(ms->sub_ufrag, SFU_UFRAG_LEN);
	random_ice(ms->sub_pwd, SFU_PWD_LEN);
	sfu_transport_ice_restart(p->mgr->sfu, p->room->worker, ms->sub_id,
				  ms->sub_ufrag, ms->sub_pwd);
	log_info("media", "participant %s: ICE restart (subscribe)", p->id);
	offer(p);
	return 0;
}

/* ---- what the subscriber shows ------------------------------------------ */

static int layer_for(unsigned width, unsigned height, uint8_t nlayers)
{
	/* a 16:9 tile's height, whichever side limits it */
	unsigned h = width * 9 / 16 > height ? width * 9 / 16 : height;
	int k;

	if (!width || !height)
		return SFU_LAYER_PAUSED;
	for (k = 0; k < nlayers - 1 && k < SFU_MAX_LAYERS - 1; k++)
		if (h <= layer_max_height[k])
			return k;
	return nlayers - 1;
}

/* Reads one `view` entry: its subscribe m-line index and layer. */
static int view_entry(json_t *e, unsigned long *index, unsigned *width,
		      unsigned *height)
{
	const char *mid = json_string_value(json_object_get(e, "mid"));
	json_t *w = json_object_get(e, "width"), *h = json_object_get(e, "height");
	char *end;

	if (!json_is_object(e) || json_object_size(e) != 3 || !mid ||
	    mid[0] != 's' || !json_is_integer(w) || !json_is_integer(h) ||
	    json_integer_value(w) < 0 || json_integer_value(w) > VIEW_MAX_PIXELS ||
	    json_integer_value(h) < 0 || json_integer_value(h) > VIEW_MAX_PIXELS)
		return -EINVAL;
	if (mid[1] < '0' || mid[1] > '9') /* strtoul would take " +3" */
		return -EINVAL;
	errno = 0;
	*index = strtoul(mid + 1, &end, 10);
	if (*end || errno || *index >= MEDIA_MAX_SUBS)
		return -EINVAL;
	*width = (unsigned)json_integer_value(w);
	*height = (unsigned)json_integer_value(h);
	return 0;
}

int room_view(struct participant *p, const struct json_t *tiles)
{
	struct media_state *ms = p->media;
	int8_t want[MEDIA_MAX_SUBS];
	unsigned long n;
	unsigned width, height;
	size_t i, k;
	json_t *e;

	if (p->state != PS_MEMBER)
		return -EPERM;
	if (!json_is_array(tiles) || json_array_size(tiles) > VIEW_MAX_TILES)
		return -EINVAL;
	json_array_foreach((json_t *)tiles, i, e)
		if (view_entry(e, &n, &width, &height))
			return -EINVAL;
	if (!ms || !ms->sub_id || !p->mgr->sfu)
		return 0; /* nothing subscribed yet */
	memset(want, SFU_LAYER_PAUSED, sizeof(want));
	json_array_foreach((json_t *)tiles, i, e) {
		view_entry(e, &n, &width, &height);
		/* a slot not offered yet, or one that just went away: ignored */
		if (n < ms->nsubs && ms->subs[n].track && ms->subs[n].kind == SFU_VIDEO)
			want[n] = (int8_t)layer_for(width, height, ms->subs[n].nlayers);
	}
	ms->have_view = true;
	for (k = 0; k < ms->nsubs; k++) {
		struct media_sub *sub = &ms->subs[k];
		if (!sub->track || sub->kind != SFU_VIDEO || sub->view == want[k])
			continue;
		sub->view = want[k];
		sfu_set_view(p->mgr->sfu, p->room->worker, ms->sub_id, sub->track,
			     sub->view);
	}
	return 0;
}

/* ---- membership --------------------------------------------------------- */

void media__on_admitted(struct participant *p)
{
	struct participant *o;
	bool any = false;

	/* a newcomer learns who speaks now, not only at the next change */
	if (p->room->speaker[0] && room__find(p->room->members, p->room->speaker))
		room__send_json(p, json_pack("{s:s, s:s}", "type", "active_speaker",
					     "participant", p->room->speaker));
	if (!p->mgr->sfu || !state(p))
		return;
	for (o = p->room->members; o; o = o->next) {
		if (o == p || !o->media)
			continue;
		for (size_t i = 0; i < o->media->ntracks; i++) {
			sub_add(p, o, &o->media->tracks[i]);
			any = true;
		}
	}
	if (any)
		offer(p);
}

void media__on_leave(struct participant *p)
{
	struct media_state *ms = p->media;
	struct room_mgr *m = p->mgr;

	if (!ms)
		return;
	if (m->sfu && p->room) {
		for (size_t i = 0; i < ms->ntracks; i++)
			track_gone(p, ms->tracks[i].id);
		if (ms->pub_id)
			sfu_transport_close(m->sfu, p->room->worker, ms->pub_id);
		if (ms->sub_id)
			sfu_transport_close(m->sfu, p->room->worker, ms->sub_id);
	}
	secret_wipe(ms, sizeof(*ms));
	free(ms);
	p->media = NULL;
}

static struct participant *by_transport(struct room_mgr *m, uint32_t id,
					bool *publisher)
{
	for (size_t b = 0; b < ROOM_HASH_BUCKETS; b++)
		for (struct room *r = m->buckets[b]; r; r = r->hnext)
			for (struct participant *p = r->members; p; p = p->next) {
				if (!p->media)
					continue;
				if (p->media->pub_id == id || p->media->sub_id == id) {
					*publisher = p->media->pub_id == id;
					return p;
				}
			}
	return NULL;
}

/*
 * Active speaker: each worker reports every audio track's mean loudness
 * (127 - RFC 6464 level) every SFU_LEVEL_MS. The loudest member above
 * SPEAKER_MIN_LOUDNESS becomes the speaker once it leads for
 * SPEAKER_HOLD reports in a row, so a cough does not steal the view.
 */
enum {
	SPEAKER_MIN_LOUDNESS = 30,       /* about -97 dBov: quieter is silence */
	SPEAKER_HOLD_MS = 600,           /* a new speaker must lead this long */
	SPEAKER_STALE_MS = 1000,         /* levels older than this count as 0 */
};

static void speaker_update(struct participant *p, uint8_t loudness)
{
	struct room *r = p->room;
	struct participant *o, *best = NULL;
	uint64_t now = now_ms();
	unsigned best_l = SPEAKER_MIN_LOUDNESS;

	p->media->loudness = loudness;
	p->media->loud_at_ms = now;
	for (o = r->members; o; o = o->next)
		if (o->media && now - o->media->loud_at_ms < SPEAKER_STALE_MS &&
		    o->media->loudness >= best_l) {
			best_l = o->media->loudness;
			best = o;
		}
	if (!best || strcmp(best->id, r->speaker) == 0) {
		r->speaker_next[0] = '\0';
		return;
	}
	if (strcmp(best->id, r->speaker_next) != 0) {
		snprintf(r->speaker_next, sizeof(r->speaker_next), "%s", best->id);
		r->speaker_since_ms = now;
	}
	if (now - r->speaker_since_ms < SPEAKER_HOLD_MS)
		return;
	snprintf(r->speaker, sizeof(r->speaker), "%s", best->id);
	r->speaker_next[0] = '\0';
	p->mgr->speaker_changes++;
	room__broadcast(r, json_pack("{s:s, s:s}", "type", "active_speaker",
				     "participant", r->speaker),
			TO_MEMBERS, NULL);
}

/* Tells a publisher which simulcast layers of a track anyone needs. */
static void layers_event(struct participant *p, const struct sfu_event *ev)
{
	struct media_state *ms = p->media;

	for (size_t i = 0; i < ms->ntracks; i++) {
		const struct media_track *t = &ms->tracks[i];
		json_t *active;

		if (t->id != ev->track || t->nlayers < 2)
			continue;
		active = json_array();
		for (unsigned k = 0; active && k < t->nlayers; k++)
			json_array_append_new(active, json_boolean(ev->mask & (1u << k)));
		room__send_json(p, json_pack("{s:s, s:s, s:o}", "type", "layers",
					     "mid", t->mid, "active", active));
		return;
	}
}

/* Tells a subscriber which layer of a video it gets now, and why. */
static void quality_event(struct participant *p, const struct sfu_event *ev)
{
	static const char *const reasons[] = {
		[SFU_REASON_OK] = "ok",
		[SFU_REASON_VIEW] = "view",
		[SFU_REASON_BANDWIDTH] = "bandwidth",
	};
	struct media_state *ms = p->media;
	char mid[24];

	if (ev->reason > SFU_REASON_BANDWIDTH)
		return;
	for (size_t i = 0; i < ms->nsubs; i++) {
		if (ms->subs[i].track != ev->track)
			continue;
		snprintf(mid, sizeof(mid), "s%zu", i);
		room__send_json(p, json_pack("{s:s, s:s, s:i, s:s}", "type",
					     "video_quality", "mid", mid, "layer",
					     (int)ev->layer, "reason",
					     reasons[ev->reason]));
		return;
	}
}

void room_media_event(struct room_mgr *m, const struct sfu_event *ev)
{
	bool publisher = false;
	struct participant *p = by_transport(m, ev->transport, &publisher);

	if (!p)
		return;
	switch (ev->type) {
	case SFU_EV_LEVEL:
		if (publisher && p->room)
			speaker_update(p, ev->loudness);
		break;
	case SFU_EV_CONNECTED:
		if (!publisher)
			for (size_t i = 0; i < p->media->nsubs; i++)
				if (p->media->subs[i].track &&
				    p->media->subs[i].kind == SFU_VIDEO)
					sfu_request_keyframe(m->sfu, p->room->worker,
							     p->media->subs[i].track, true);
		break;
	case SFU_EV_LAYERS:
		if (publisher)
			layers_event(p, ev);
		break;
	case SFU_EV_QUALITY:
		if (!publisher)
			quality_event(p, ev);
		break;
	case SFU_EV_FAILED:
	case SFU_EV_TIMEOUT:
		log_info("media", "participant %s: media %s; removing it from the meeting",
			 p->id, ev->type == SFU_EV_TIMEOUT ? "lost" : "failed");
		room_leave(p);
		room__send_json(p, json_pack("{s:s, s:s}", "type", "left", "reason",
					     ev->type == SFU_EV_TIMEOUT
						     ? "media_timeout"
						     : "media_failed"));
		break;
	}
}
