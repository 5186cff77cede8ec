/*
 * sdp_answer — the SFU's policy for answering a browser's publish offer.
 *
 * The server only receives on the publish connection, and forwards what it
 * receives to browsers it did not negotiate with, so the policy is narrow on
 * purpose: one codec per m-line, the first of a preference table that the
 * offer matches (so every publisher of a room lands on the same codec and
 * every subscriber can decode it), plus its RTX for NACK repair; only the
 * feedback and header extensions the SFU reads or relays; simulcast taken
 * as offered. The tables are data, so the lead can tune them in one place.
 *
 * References: RFC 3264 §6 (answer construction, rejecting with port 0),
 * RFC 8829 §5.3.1 (JSEP initial answers), RFC 9143 (BUNDLE), RFC 8853 §5.3
 * (simulcast answer: send becomes recv with the same rids), RFC 8851 §6
 * (rid direction reversed), RFC 5763 §5 (answerer with setup:passive is the
 * DTLS server), RFC 8445 §2.5 (ICE-lite).
 */
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

#include <string.h>

const char *const sdp_extmap_allowed[] = {
	SDP_EXT_AUDIO_LEVEL,           /* RFC 6464: active speaker */
	SDP_EXT_TWCC,                  /* transport-wide congestion control */
	SDP_EXT_MID,                   /* RFC 9143 §15: demux by mid */
	SDP_EXT_RID,                   /* RFC 8852: simulcast layer id */
	SDP_EXT_RRID,                  /* RFC 8852: RTX of a layer */
	SDP_EXT_ABS_SEND_TIME,         /* REMB bandwidth estimation */
	SDP_EXT_DEPENDENCY_DESCRIPTOR, /* AV1 RTP spec: layers without payload */
	SDP_EXT_VLA,                   /* video layers allocation */
};
const size_t sdp_extmap_allowed_count =
	sizeof(sdp_extmap_allowed) / sizeof(sdp_extmap_allowed[0]);

/* RFC 7587 §7: Opus is always "opus/48000/2". */
const struct sdp_codec_pref sdp_audio_prefs[] = {
	{ "opus", 48000, 2, { { NULL, NULL, NULL } } },
};
const size_t sdp_audio_prefs_count =
	sizeof(sdp_audio_prefs) / sizeof(sdp_audio_prefs[0]);

/*
 * Video, best first. VP8 first: every browser decodes it and its payload
 * descriptor gives the SFU key frames and temporal layers (DESIGN.md §3).
 * Defaults for missing parameters: VP9 profile-id 0 (RFC 9628 §6),
 * H264 packetization-mode 0 and profile-level-id 420010 (RFC 6184 §8.1),
 * AV1 profile 0 (AV1 RTP spec §7.2.1).
 */
const struct sdp_codec_pref sdp_video_prefs[] = {
	{ "VP8", 90000, 0, { { NULL, NULL, NULL } } },
	{ "VP9", 90000, 0, { { "profile-id", "0", "0" } } },
	{ "H264", 90000, 0, { { "packetization-mode", "1", "0" },
			      { "profile-level-id", "42e01f", "420010" } } },
	{ "H264", 90000, 0, { { "packetization-mode", "1", "0" },
			      { "profile-level-id", "42001f", "420010" } } },
	{ "H264", 90000, 0, { { "packetization-mode", "1", "0" },
			      { "profile-level-id", "640c1f", "420010" } } },
	{ "AV1", 90000, 0, { { "profile", "0", "0" } } },
};
const size_t sdp_video_prefs_count =
	sizeof(sdp_video_prefs) / sizeof(sdp_video_prefs[0]);

/* Only DTLS-SRTP with RTCP feedback (RFC 8829 §5.1.2). */
static const char answer_proto[] = "UDP/TLS/RTP/SAVPF";

static bool pref_match(const struct sdp_codec_pref *pf,
		       const struct sdp_codec *k)
{
	size_t i;

	if (!sdp__ieq(k->name, pf->name) || k->clock != pf->clock ||
	    (pf->channels && k->channels != pf->channels))
		return false;
	for (i = 0; i < SDP_PREF_MAX_CONDS && pf->cond[i].key; i++) {
		const struct sdp_fmtp_cond *c = &pf->cond[i];
		char v[SDP_MAX_FMTP + 1];
		int err = sdp_fmtp_get(k->fmtp, c->key, v, sizeof(v));

		if (err == -ENOENT && c->dflt)
			err = sdp_copy(v, sizeof(v), c->dflt);
		if (err || !sdp__ieq(v, c->val))
			return false;
	}
	return true;
}

static const struct sdp_codec *choose(const struct sdp_media *m,
				      const struct sdp_codec_pref *prefs,
				      size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < m->n_codecs; j++)
			if (pref_match(&prefs[i], &m->codecs[j]))
				return &m->codecs[j];
	return NULL;
}

static bool in_bundle(const struct sdp_session *s, const char *mid)
{
	size_t i;

	for (i = 0; i < s->n_bundle; i++)
		if (strcmp(s->bundle[i], mid) == 0)
			return true;
	return false;
}

/* A parsed offer is always within its limits; a hand-built one is
 * checked so that copying from it cannot overrun the answer. */
static bool counts_ok(const struct sdp_media *m)
{
	size_t i;

	if (m->n_codecs > SDP_MAX_CODECS || m->n_extmaps > SDP_MAX_EXTMAPS ||
	    m->n_rids > SDP_MAX_RIDS || m->simulcast.send.n > SDP_MAX_RIDS)
		return false;
	for (i = 0; i < m->simulcast.send.n; i++)
		if (m->simulcast.send.streams[i].n_alt > SDP_MAX_SIM_ALTS)
			return false;
	return true;
}

/* Transport conditions for accepting an m-line at all. */
static bool usable(const struct sdp_session *offer, const struct sdp_media *m)
{
	return m->port != 0 &&
	       (m->kind == SDP_KIND_AUDIO || m->kind == SDP_KIND_VIDEO) &&
	       strcmp(m->proto, answer_proto) == 0 && m->mid[0] &&
	       in_bundle(offer, m->mid) && m->rtcp_mux && m->ice.ufrag[0] &&
	       m->ice.pwd[0] && m->fingerprint.len &&
	       /* the server is the DTLS server: the browser must be able to
		* take the client role (absent means active, RFC 4145 §4) */
	       (m->setup == SDP_SETUP_ACTPASS || m->setup == SDP_SETUP_ACTIVE ||
		m->setup == SDP_SETUP_NONE);
}

static bool ext_allowed(const char *uri)
{
	size_t i;

	for (i = 0; i < sdp_extmap_allowed_count; i++)
		if (strcmp(uri, sdp_extmap_allowed[i]) == 0)
			return true;
	return false;
}

/* RFC 8285 §7: the answer's extension direction mirrors the offer's. */
static enum sdp_dir reverse(enum sdp_dir d)
{
	switch (d) {
	case SDP_DIR_SENDONLY:
		return SDP_DIR_RECVONLY;
	case SDP_DIR_RECVONLY:
		return SDP_DIR_SENDONLY;
	case SDP_DIR_INACTIVE:
		return SDP_DIR_INACTIVE;
	default:
		return SDP_DIR_NONE;
	}
}

static bool rid_sent(const struct sdp_media *m, const char *rid)
{
	size_t i;

	for (i = 0; i < m->n_rids; i++)
		if (m->rids[i].dir == SDP_RID_SEND && strcmp(m->rids[i].id, rid) == 0)
			return true;
	return false;
}

/* a=rid:x send -> a=rid:x recv (restrictions dropped: they are the
 * sender's), and a=simulcast:send -> recv with the rids the offer declared
 * (RFC 8853 §5.3). */
static void flip_simulcast(const struct sdp_media *m, struct sdp_media *a)
{
	const struct sdp_sim_list *in = &m->simulcast.send;
	struct sdp_sim_list *outl = &a->simulcast.recv;
	size_t i, j;

	for (i = 0; i < m->n_rids; i++) {
		if (m->rids[i].dir != SDP_RID_SEND)
			continue;
		memcpy(a->rids[a->n_rids].id, m->rids[i].id, sizeof(m->rids[i].id));
		a->rids[a->n_rids].dir = SDP_RID_RECV;
		a->n_rids++;
	}
	for (i = 0; i < in->n; i++) {
		struct sdp_sim_stream *st = &outl->streams[outl->n];

		st->n_alt = 0;
		for (j = 0; j < in->streams[i].n_alt; j++) {
			const struct sdp_sim_alt *alt = &in->streams[i].alt[j];

			if (!rid_sent(m, alt->rid))
				continue;
			memcpy(st->alt[st->n_alt].rid, alt->rid, sizeof(alt->rid));
			st->alt[st->n_alt].paused = false;
			st->n_alt++;
		}
		if (st->n_alt)
			outl->n++;
	}
}

static void add_codec(struct sdp_media *a, const struct sdp_codec *k)
{
	struct sdp_codec *c = &a->codecs[a->n_codecs++];

	*c = *k;
	c->fb &= SDP_FB_ALLOWED;
}

static void accept(const struct sdp_media *m, const struct sdp_codec *k,
		   const struct sdp_local *local, struct sdp_media *a)
{
	const struct sdp_codec *rtx;
	int rtx_pt;
	size_t i;

	a->port = SDP_DISCARD_PORT;
	a->dir = (m->dir == SDP_DIR_SENDONLY || m->dir == SDP_DIR_SENDRECV)
			 ? SDP_DIR_RECVONLY
			 : SDP_DIR_INACTIVE;
	a->rtcp_mux = true;
	a->rtcp_rsize = m->rtcp_rsize;
	a->extmap_allow_mixed = m->extmap_allow_mixed;
	memcpy(a->ice.ufrag, local->ice_ufrag, sizeof(a->ice.ufrag));
	memcpy(a->ice.pwd, local->ice_pwd, sizeof(a->ice.pwd));
	a->fingerprint = local->fingerprint;
	a->setup = SDP_SETUP_PASSIVE;

	add_codec(a, k);
	rtx_pt = sdp_codec_rtx(m, k->pt);
	rtx = rtx_pt >= 0 ? sdp_codec_find(m, (unsigned)rtx_pt) : NULL;
	if (rtx && rtx->clock == k->clock)
		add_codec(a, rtx);

	for (i = 0; i < m->n_extmaps; i++) {
		const struct sdp_extmap *e = &m->extmaps[i];
		struct sdp_extmap *x;

		if (!ext_allowed(e->uri))
			continue;
		x = &a->extmaps[a->n_extmaps++];
		*x = *e;
		x->dir = reverse(e->dir);
	}
	flip_simulcast(m, a);

	for (i = 0; i < local->n_hosts; i++)
		sdp_candidate_host(&a->candidates[a->n_candidates++],
				   (unsigned)i, local->hosts[i].addr,
				   local->hosts[i].port);
	a->n_candidates_seen = a->n_candidates;
	a->end_of_candidates = true;
}

/* Port 0 keeps the m-line's place and mid (RFC 3264 §6, RFC 8829 §5.3.1);
 * an RTP m-line still needs one format, so the offer's first is echoed. */
static void reject(const struct sdp_media *m, struct sdp_media *a)
{
	a->port = 0;
	if (sdp_media_is_rtp(m) && m->n_codecs > 0) {
		a->dir = SDP_DIR_INACTIVE;
		a->codecs[0] = m->codecs[0];
		a->codecs[0].fb = 0;
		a->codecs[0].fmtp[0] = '\0';
		a->n_codecs = 1;
	} else {
		memcpy(a->fmt, m->fmt, sizeof(a->fmt));
	}
}

static bool local_ok(const struct sdp_local *l)
{
	size_t i;

	if (!sdp__field_ok(l->ice_ufrag, sizeof(l->ice_ufrag), SDP_MIN_UFRAG,
			   SDP__ICE) ||
	    !sdp__field_ok(l->ice_pwd, sizeof(l->ice_pwd), SDP_MIN_PWD,
			   SDP__ICE) ||
	    l->fingerprint.len == 0 || !sdp__fingerprint_ok(&l->fingerprint) ||
	    l->n_hosts > SDP_LOCAL_MAX_HOSTS ||
	    (l->video_prefs == NULL && l->video_prefs_count != 0))
		return false;
	for (i = 0; i < l->n_hosts; i++)
		if (!sdp__field_ok(l->hosts[i].addr, sizeof(l->hosts[i].addr), 1,
				   SDP__VIS))
			return false;
	return true;
}

int sdp_answer_publish(const struct sdp_session *offer,
		       const struct sdp_local *local,
		       struct sdp_session *answer)
{
	const struct sdp_codec_pref *vprefs = sdp_video_prefs;
	size_t vcount = sdp_video_prefs_count;
	size_t i;

	if (!local_ok(local) || offer->n_media > SDP_MAX_MEDIA ||
	    offer->n_bundle > SDP_MAX_BUNDLE)
		return -EINVAL;
	if (local->video_prefs) {
		vprefs = local->video_prefs;
		vcount = local->video_prefs_count;
	}

	sdp_session_init(answer);
	answer->sess_id = local->sess_id;
	answer->sess_version = local->sess_version;
	answer->ice_lite = true;
	answer->msid_semantic = true;
	answer->extmap_allow_mixed = offer->extmap_allow_mixed;

	for (i = 0; i < offer->n_media; i++) {
		const struct sdp_media *m = &offer->media[i];
		struct sdp_media *a = sdp_media_add(answer, m->kind);
		const struct sdp_codec *k = NULL;

		memcpy(a->kind_name, m->kind_name, sizeof(a->kind_name));
		memcpy(a->proto, m->proto, sizeof(a->proto));
		memcpy(a->mid, m->mid, sizeof(a->mid));
		a->rtcp_mux = false;
		a->fmt[0] = '\0';
		a->dir = SDP_DIR_SENDRECV;
		if (usable(offer, m) && counts_ok(m)) {
			if (m->kind == SDP_KIND_AUDIO)
				k = choose(m, sdp_audio_prefs,
					   sdp_audio_prefs_count);
			else
				k = choose(m, vprefs, vcount);
		}
		if (k)
			accept(m, k, local, a);
		else
			reject(m, a);
	}
	/* RFC 9143 §7.3.1: the answer's group lists the accepted mids, the
	 * first being the m-line whose transport carries the bundle. */
	for (i = 0; i < offer->n_bundle; i++) {
		const struct sdp_media *a = sdp_media_find(answer, offer->bundle[i]);

		if (a && a->port != 0)
			memcpy(answer->bundle[answer->n_bundle++], a->mid,
			       sizeof(answer->bundle[0]));
	}
	return 0;
}
