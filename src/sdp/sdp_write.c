/*
 * sdp_write — turns a struct sdp_session into SDP text browsers accept.
 *
 * Used for the server's answers on the publish connection and its offers on
 * the subscribe connection. The output follows what Chromium and Firefox
 * write themselves (RFC 8829 §5.2-5.3 order of attributes), with CRLF line
 * ends (RFC 8866 §5), "c=IN IP4 0.0.0.0" and no a=rtcp line since rtcp-mux
 * is always on (RFC 8829 §5.2.1 allows the dummy address).
 *
 * The session may be built by hand, so the writer trusts nothing in it:
 * every count is checked against its array, every string against the
 * grammar the parser enforces, and the text against the parse limits. A
 * field with a CR/LF or a space where a token belongs is refused, not
 * escaped; there is no way to inject a line.
 */
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- validation ------------------------------------------------------------ */

#define FIELD(f, min, cls) sdp__field_ok((f), sizeof(f), (min), (cls))

static bool ice_ok(const struct sdp_ice *ice)
{
	return (!ice->ufrag[0] || FIELD(ice->ufrag, SDP_MIN_UFRAG, SDP__ICE)) &&
	       (!ice->pwd[0] || FIELD(ice->pwd, SDP_MIN_PWD, SDP__ICE)) &&
	       FIELD(ice->options, 0, SDP__TEXT);
}

static bool setup_ok(enum sdp_setup v)
{
	return v >= SDP_SETUP_NONE && v <= SDP_SETUP_HOLDCONN;
}

static bool dir_ok(enum sdp_dir d)
{
	return d >= SDP_DIR_NONE && d <= SDP_DIR_INACTIVE;
}

static bool codecs_ok(const struct sdp_media *m)
{
	size_t i, j;

	if (m->n_codecs == 0 || m->n_codecs > SDP_MAX_CODECS)
		return false;
	for (i = 0; i < m->n_codecs; i++) {
		const struct sdp_codec *k = &m->codecs[i];

		if (k->pt > SDP_MAX_PT || !FIELD(k->name, 0, SDP__TOKEN) ||
		    (k->name[0] && k->clock == 0) ||
		    !FIELD(k->fmtp, 0, SDP__TEXT))
			return false;
		for (j = 0; j < i; j++)
			if (m->codecs[j].pt == k->pt)
				return false;
	}
	return true;
}

static bool extmaps_ok(const struct sdp_media *m)
{
	size_t i, j;

	if (m->n_extmaps > SDP_MAX_EXTMAPS)
		return false;
	for (i = 0; i < m->n_extmaps; i++) {
		const struct sdp_extmap *e = &m->extmaps[i];

		if (e->id == 0 || e->id > SDP_MAX_EXT_ID || !dir_ok(e->dir) ||
		    !FIELD(e->uri, 1, SDP__VIS))
			return false;
		for (j = 0; j < i; j++)
			if (m->extmaps[j].id == e->id)
				return false;
	}
	return true;
}

static bool ssrcs_ok(const struct sdp_media *m)
{
	size_t i, j;

	if (m->n_ssrcs > SDP_MAX_SSRCS || m->n_ssrc_groups > SDP_MAX_SSRC_GROUPS ||
	    m->n_msids > SDP_MAX_MSIDS)
		return false;
	for (i = 0; i < m->n_ssrcs; i++) {
		const struct sdp_ssrc *x = &m->ssrcs[i];

		if (!FIELD(x->cname, 0, SDP__VIS) ||
		    !FIELD(x->msid_stream, 0, SDP__TOKEN) ||
		    !FIELD(x->msid_track, 0, SDP__TOKEN) ||
		    (x->msid_track[0] && !x->msid_stream[0]) ||
		    (!x->cname[0] && !x->msid_stream[0]))
			return false;
		for (j = 0; j < i; j++)
			if (m->ssrcs[j].ssrc == x->ssrc)
				return false;
	}
	for (i = 0; i < m->n_ssrc_groups; i++) {
		const struct sdp_ssrc_group *g = &m->ssrc_groups[i];

		if ((g->sem != SDP_SSRC_FID && g->sem != SDP_SSRC_SIM) ||
		    g->n == 0 || g->n > SDP_MAX_GROUP_SSRCS ||
		    (g->sem == SDP_SSRC_FID && g->n != 2))
			return false;
	}
	for (i = 0; i < m->n_msids; i++)
		if (!FIELD(m->msids[i].stream, 1, SDP__TOKEN) ||
		    !FIELD(m->msids[i].track, 0, SDP__TOKEN))
			return false;
	return true;
}

static bool sim_list_ok(const struct sdp_sim_list *l)
{
	size_t i, j;

	if (l->n > SDP_MAX_RIDS)
		return false;
	for (i = 0; i < l->n; i++) {
		const struct sdp_sim_stream *st = &l->streams[i];

		if (st->n_alt == 0 || st->n_alt > SDP_MAX_SIM_ALTS)
			return false;
		for (j = 0; j < st->n_alt; j++)
			if (!FIELD(st->alt[j].rid, 1, SDP__RID))
				return false;
	}
	return true;
}

static bool rids_ok(const struct sdp_media *m)
{
	size_t i, j;

	if (m->n_rids > SDP_MAX_RIDS)
		return false;
	for (i = 0; i < m->n_rids; i++) {
		const struct sdp_rid *r = &m->rids[i];

		if (!FIELD(r->id, 1, SDP__RID) || !FIELD(r->params, 0, SDP__TEXT) ||
		    (r->dir != SDP_RID_SEND && r->dir != SDP_RID_RECV))
			return false;
		for (j = 0; j < i; j++)
			if (strcmp(m->rids[j].id, r->id) == 0)
				return false;
	}
	return sim_list_ok(&m->simulcast.send) && sim_list_ok(&m->simulcast.recv);
}

static bool candidates_ok(const struct sdp_media *m)
{
	size_t i;

	if (m->n_candidates > SDP_MAX_CANDIDATES)
		return false;
	for (i = 0; i < m->n_candidates; i++) {
		const struct sdp_candidate *k = &m->candidates[i];

		if (!FIELD(k->foundation, 1, SDP__ICE) || k->component == 0 ||
		    k->component > 256 || !FIELD(k->transport, 1, SDP__TOKEN) ||
		    !FIELD(k->addr, 1, SDP__VIS) ||
		    k->type < SDP_CAND_HOST || k->type > SDP_CAND_RELAY ||
		    k->tcptype < SDP_TCP_NONE || k->tcptype > SDP_TCP_SO ||
		    !FIELD(k->raddr, 0, SDP__VIS) || (!k->raddr[0] && k->rport))
			return false;
	}
	return true;
}

static bool media_ok(const struct sdp_media *m)
{
	if (m->kind < SDP_KIND_AUDIO || m->kind > SDP_KIND_OTHER ||
	    (m->kind == SDP_KIND_OTHER && !FIELD(m->kind_name, 1, SDP__TOKEN)) ||
	    !FIELD(m->proto, 1, SDP__PROTO) || !FIELD(m->mid, 0, SDP__TOKEN) ||
	    !dir_ok(m->dir) || !setup_ok(m->setup) || !ice_ok(&m->ice) ||
	    !sdp__fingerprint_ok(&m->fingerprint))
		return false;
	if (m->kind == SDP_KIND_OTHER &&
	    (strcmp(m->kind_name, "audio") == 0 ||
	     strcmp(m->kind_name, "video") == 0 ||
	     strcmp(m->kind_name, "application") == 0))
		return false;
	if (sdp_media_is_rtp(m) ? !codecs_ok(m) : !FIELD(m->fmt, 1, SDP__TEXT))
		return false;
	return extmaps_ok(m) && ssrcs_ok(m) && rids_ok(m) && candidates_ok(m);
}

static bool session_ok(const struct sdp_session *s)
{
	size_t i;

	if (!FIELD(s->origin_user, 0, SDP__VIS) || s->n_bundle > SDP_MAX_BUNDLE ||
	    s->n_media > SDP_MAX_MEDIA || !ice_ok(&s->ice) ||
	    !sdp__fingerprint_ok(&s->fingerprint) || !setup_ok(s->setup) ||
	    !dir_ok(s->dir))
		return false;
	for (i = 0; i < s->n_bundle; i++)
		if (!FIELD(s->bundle[i], 1, SDP__TOKEN))
			return false;
	for (i = 0; i < s->n_media; i++)
		if (!media_ok(&s->media[i]))
			return false;
	return true;
}

/* ---- output, one line at a time ------------------------------------------- */

struct out {
	struct wbuf *b;
	size_t start;
	unsigned lines;
	int err;
	char line[SDP_MAX_LINE + 1];   /* the line being built */
	size_t n;
};

/* Appends to the line being built; a line over SDP_MAX_LINE is -E2BIG. */
static void add(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->err)
		return;
	va_start(ap, fmt);
	r = vsnprintf(o->line + o->n, sizeof(o->line) - o->n, fmt, ap);
	va_end(ap);
	if (r < 0)
		o->err = -EINVAL;
	else if ((size_t)r >= sizeof(o->line) - o->n)
		o->err = -E2BIG;
	else
		o->n += (size_t)r;
}

/* Ends the line being built and appends it with CRLF. */
static void eol(struct out *o)
{
	if (!o->err && ++o->lines > SDP_MAX_LINES)
		o->err = -E2BIG;
	if (!o->err && o->b->len - o->start + o->n + 2 > SDP_MAX_SIZE)
		o->err = -E2BIG;
	if (!o->err)
		o->err = wbuf_append(o->b, o->line, o->n);
	if (!o->err)
		o->err = wbuf_append(o->b, "\r\n", 2);
	o->n = 0;
}

#define LINE(o, ...) do { add((o), __VA_ARGS__); eol(o); } while (0)

static const char *setup_name(enum sdp_setup v)
{
	static const char *const names[] = {
		[SDP_SETUP_ACTPASS] = "actpass", [SDP_SETUP_ACTIVE] = "active",
		[SDP_SETUP_PASSIVE] = "passive", [SDP_SETUP_HOLDCONN] = "holdconn",
	};
	return names[v];
}

/* ice-ufrag, ice-pwd, ice-options, fingerprint, setup: at either level */
static void put_transport(struct out *o, const struct sdp_ice *ice,
			  const struct sdp_fingerprint *fp, enum sdp_setup setup)
{
	size_t i;

	if (ice->ufrag[0])
		LINE(o, "a=ice-ufrag:%s", ice->ufrag);
	if (ice->pwd[0])
		LINE(o, "a=ice-pwd:%s", ice->pwd);
	if (ice->options[0])
		LINE(o, "a=ice-options:%s", ice->options);
	if (fp->len) {
		add(o, "a=fingerprint:%s ", fp->alg);
		for (i = 0; i < fp->len; i++)
			add(o, i ? ":%02X" : "%02X", fp->bytes[i]);
		eol(o);
	}
	if (setup != SDP_SETUP_NONE)
		LINE(o, "a=setup:%s", setup_name(setup));
}

static void put_codecs(struct out *o, const struct sdp_media *m)
{
	/* the order Chromium writes them in */
	static const struct {
		uint32_t bit;
		const char *text;
	} fbs[] = {
		{ SDP_FB_GOOG_REMB, "goog-remb" },
		{ SDP_FB_TRANSPORT_CC, "transport-cc" },
		{ SDP_FB_CCM_FIR, "ccm fir" },
		{ SDP_FB_NACK, "nack" },
		{ SDP_FB_NACK_PLI, "nack pli" },
	};
	size_t i, j;

	for (i = 0; i < m->n_codecs; i++) {
		const struct sdp_codec *k = &m->codecs[i];

		if (k->name[0]) {
			add(o, "a=rtpmap:%u %s/%u", k->pt, k->name,
			    (unsigned)k->clock);
			if (k->channels)
				add(o, "/%u", k->channels);
			eol(o);
		}
		for (j = 0; j < sizeof(fbs) / sizeof(fbs[0]); j++)
			if (k->fb & fbs[j].bit)
				LINE(o, "a=rtcp-fb:%u %s", k->pt, fbs[j].text);
		if (k->fmtp[0])
			LINE(o, "a=fmtp:%u %s", k->pt, k->fmtp);
	}
}

static void put_sim_list(struct out *o, const char *dir,
			 const struct sdp_sim_list *l)
{
	size_t i, j;

	add(o, "%s ", dir);
	for (i = 0; i < l->n; i++)
		for (j = 0; j < l->streams[i].n_alt; j++)
			add(o, "%s%s%s", j ? "," : (i ? ";" : ""),
			    l->streams[i].alt[j].paused ? "~" : "",
			    l->streams[i].alt[j].rid);
}

static void put_simulcast(struct out *o, const struct sdp_simulcast *sc)
{
	if (!sc->send.n && !sc->recv.n)
		return;
	add(o, "a=simulcast:");
	if (sc->send.n)
		put_sim_list(o, "send", &sc->send);
	if (sc->send.n && sc->recv.n)
		add(o, " ");
	if (sc->recv.n)
		put_sim_list(o, "recv", &sc->recv);
	eol(o);
}

static void put_candidate(struct out *o, const struct sdp_candidate *k)
{
	static const char *const types[] = {
		[SDP_CAND_HOST] = "host", [SDP_CAND_SRFLX] = "srflx",
		[SDP_CAND_PRFLX] = "prflx", [SDP_CAND_RELAY] = "relay",
	};
	static const char *const tcptypes[] = {
		[SDP_TCP_ACTIVE] = "active", [SDP_TCP_PASSIVE] = "passive",
		[SDP_TCP_SO] = "so",
	};

	add(o, "a=candidate:%s %u %s %u %s %u typ %s", k->foundation,
	    k->component, k->transport, (unsigned)k->priority, k->addr, k->port,
	    types[k->type]);
	if (k->raddr[0])
		add(o, " raddr %s rport %u", k->raddr, k->rport);
	if (k->tcptype != SDP_TCP_NONE)
		add(o, " tcptype %s", tcptypes[k->tcptype]);
	eol(o);
}

static void put_media(struct out *o, const struct sdp_session *s,
		      const struct sdp_media *m)
{
	static const char *const kinds[] = {
		[SDP_KIND_AUDIO] = "audio", [SDP_KIND_VIDEO] = "video",
		[SDP_KIND_APPLICATION] = "application",
	};
	size_t i, j;

	add(o, "m=%s %u %s", m->kind == SDP_KIND_OTHER ? m->kind_name
						       : kinds[m->kind],
	    m->port, m->proto);
	if (sdp_media_is_rtp(m)) {
		for (i = 0; i < m->n_codecs; i++)
			add(o, " %u", m->codecs[i].pt);
	} else {
		add(o, " %s", m->fmt);
	}
	eol(o);
	LINE(o, "c=IN IP4 0.0.0.0");
	put_transport(o, &m->ice, &m->fingerprint, m->setup);
	if (m->mid[0])
		LINE(o, "a=mid:%s", m->mid);
	for (i = 0; i < m->n_extmaps; i++) {
		const struct sdp_extmap *e = &m->extmaps[i];

		add(o, "a=extmap:%u", e->id);
		if (e->dir != SDP_DIR_NONE)
			add(o, "/%s", sdp_dir_name(e->dir));
		add(o, " %s", e->uri);
		eol(o);
	}
	/* a data m-line's direction is meaningless: write it only if odd, or
	 * if a session-level direction would otherwise take its place */
	if (m->dir != SDP_DIR_NONE &&
	    (m->kind != SDP_KIND_APPLICATION || m->dir != SDP_DIR_SENDRECV ||
	     s->dir != SDP_DIR_NONE))
		LINE(o, "a=%s", sdp_dir_name(m->dir));
	for (i = 0; i < m->n_msids; i++) {
		add(o, "a=msid:%s", m->msids[i].stream);
		if (m->msids[i].track[0])
			add(o, " %s", m->msids[i].track);
		eol(o);
	}
	if (m->rtcp_mux)
		LINE(o, "a=rtcp-mux");
	if (m->rtcp_rsize)
		LINE(o, "a=rtcp-rsize");
	if (m->extmap_allow_mixed)
		LINE(o, "a=extmap-allow-mixed");
	if (sdp_media_is_rtp(m))
		put_codecs(o, m);
	for (i = 0; i < m->n_rids; i++) {
		const struct sdp_rid *r = &m->rids[i];

		add(o, "a=rid:%s %s", r->id,
		    r->dir == SDP_RID_SEND ? "send" : "recv");
		if (r->params[0])
			add(o, " %s", r->params);
		eol(o);
	}
	put_simulcast(o, &m->simulcast);
	for (i = 0; i < m->n_ssrc_groups; i++) {
		const struct sdp_ssrc_group *g = &m->ssrc_groups[i];

		add(o, "a=ssrc-group:%s", g->sem == SDP_SSRC_FID ? "FID" : "SIM");
		for (j = 0; j < g->n; j++)
			add(o, " %u", (unsigned)g->ssrcs[j]);
		eol(o);
	}
	for (i = 0; i < m->n_ssrcs; i++) {
		const struct sdp_ssrc *x = &m->ssrcs[i];

		if (x->cname[0])
			LINE(o, "a=ssrc:%u cname:%s", (unsigned)x->ssrc, x->cname);
		if (x->msid_stream[0]) {
			add(o, "a=ssrc:%u msid:%s", (unsigned)x->ssrc,
			    x->msid_stream);
			if (x->msid_track[0])
				add(o, " %s", x->msid_track);
			eol(o);
		}
	}
	for (i = 0; i < m->n_candidates; i++)
		put_candidate(o, &m->candidates[i]);
	if (m->end_of_candidates)
		LINE(o, "a=end-of-candidates");
}

int sdp_write(const struct sdp_session *s, struct wbuf *out)
{
	struct out *o, ob;
	size_t i;

	if (out->err)
		return out->err;
	if (!session_ok(s))
		return -EINVAL;
	o = &ob;
	o->b = out;
	o->start = out->len;
	o->lines = 0;
	o->err = 0;
	o->n = 0;

	LINE(o, "v=0");
	LINE(o, "o=%s %llu %llu IN IP4 127.0.0.1",
	     s->origin_user[0] ? s->origin_user : "-",
	     (unsigned long long)s->sess_id,
	     (unsigned long long)s->sess_version);
	LINE(o, "s=-");
	LINE(o, "t=0 0");
	if (s->n_bundle) {
		add(o, "a=group:BUNDLE");
		for (i = 0; i < s->n_bundle; i++)
			add(o, " %s", s->bundle[i]);
		eol(o);
	}
	if (s->extmap_allow_mixed)
		LINE(o, "a=extmap-allow-mixed");
	if (s->ice_lite)
		LINE(o, "a=ice-lite");
	if (s->msid_semantic)
		LINE(o, "a=msid-semantic: WMS *");
	put_transport(o, &s->ice, &s->fingerprint, s->setup);
	if (s->dir != SDP_DIR_NONE)
		LINE(o, "a=%s", sdp_dir_name(s->dir));
	if (s->end_of_candidates)
		LINE(o, "a=end-of-candidates");
	for (i = 0; i < s->n_media; i++)
		put_media(o, s, &s->media[i]);

	if (o->err && !out->err && out->data) {
		out->len = o->start;  /* roll back a partial description */
		out->data[out->len] = '\0';
	}
	return out->err ? out->err : o->err;
}
