/*
 * sdp_parse — reads the SDP that browsers write into a struct sdp_session.
 *
 * Why a parser of our own: the SFU must read offers and answers from
 * Chromium, Firefox and Safari, every byte of which comes from a stranger.
 * This parser takes the narrow view: one line at a time through a bounded
 * cursor, every line "x=value" with a known type letter (RFC 8866 §5, which
 * says to refuse a description with an unknown one), every field checked
 * against its grammar and copied into a fixed-size slot. A limit exceeded is
 * -E2BIG; malformed text is -EBADMSG; the failing line number is reported.
 *
 * What it refuses to do: guess. Attributes it does not know are skipped
 * (RFC 8866 §5.13 says to ignore them), but an attribute it knows must be
 * well formed. It does not follow Plan B, SDES crypto or the pre-RFC
 * simulcast draft syntax.
 */
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

#include <string.h>

/* A piece of the input: not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

struct parser {
	struct sdp_session *s;
	struct sdp_media *m;       /* current m-line; NULL at session level */
	uint32_t fb_wild;          /* a=rtcp-fb:* of the current m-line */
	bool seen_v, seen_o, seen_s, seen_bundle, seen_simulcast;
	const char *err;
};

#define FAIL(p, code, msg) ((p)->err = (msg), (code))

/* ---- cursor helpers over one line's value ------------------------------ */

static int peek(const struct cur *c)
{
	return cur_left(c) ? *cur_ptr(c) : -1;
}

static void skip_sp(struct cur *c)
{
	while (peek(c) == ' ')
		cur_skip(c, 1);
}

/* One or more spaces. */
static int need_sp(struct cur *c)
{
	if (peek(c) != ' ')
		return -EBADMSG;
	skip_sp(c);
	return 0;
}

/* A non-empty run of bytes up to (not including) one of stops or the end. */
static int until(struct cur *c, const char *stops, struct span *w)
{
	const uint8_t *b;
	size_t n = 0;

	while (n < cur_left(c) && cur_ptr(c)[n] != '\0' &&
	       !strchr(stops, cur_ptr(c)[n]))
		n++;
	if (n == 0 || cur_bytes(c, n, &b) != 0)
		return -EBADMSG;
	w->p = (const char *)b;
	w->n = n;
	return 0;
}

static int word(struct cur *c, struct span *w)
{
	return until(c, " ", w);
}

/* The rest of the value (lines are right-trimmed, so no trailing space). */
static struct span rest(struct cur *c)
{
	const uint8_t *b;
	struct span w;

	w.n = cur_left(c);
	cur_bytes(c, w.n, &b);
	w.p = (const char *)b;
	return w;
}

static int expect_end(const struct cur *c)
{
	return cur_left(c) ? -EBADMSG : 0;
}

static bool span_eq(struct span w, const char *lit)
{
	return strlen(lit) == w.n && memcmp(w.p, lit, w.n) == 0;
}

/* Decimal digits only, value <= max. */
static int span_u64(struct span w, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (w.n == 0 || w.n > 20)
		return -EBADMSG;
	for (i = 0; i < w.n; i++) {
		unsigned d = (unsigned char)w.p[i] - '0';
		if (d > 9 || d > max)
			return -EBADMSG;
		if (x > (max - d) / 10)
			return -EBADMSG;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int span_u32(struct span w, uint32_t max, uint32_t *v)
{
	uint64_t x;
	int err = span_u64(w, max, &x);

	if (!err)
		*v = (uint32_t)x;
	return err;
}

/* Copies w into dst[cap] if it is min..cap-1 characters of class cls. */
static int span_copy(char *dst, size_t cap, struct span w, size_t min,
		     enum sdp__cls cls)
{
	if (w.n < min || !sdp__chars_ok(w.p, w.n, cls))
		return -EBADMSG;
	if (w.n >= cap)
		return -E2BIG;
	memcpy(dst, w.p, w.n);
	dst[w.n] = '\0';
	return 0;
}

/* ---- session-level lines ------------------------------------------------ */

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static int parse_origin(struct parser *p, struct cur *c)
{
	struct sdp_session *s = p->s;
	struct span w;
	int i, err;

	if (p->seen_o || p->m)
		return FAIL(p, -EBADMSG, "misplaced o=");
	p->seen_o = true;
	if (word(c, &w) || need_sp(c))
		return FAIL(p, -EBADMSG, "bad o=");
	err = span_copy(s->origin_user, sizeof(s->origin_user), w, 1, SDP__VIS);
	if (err)
		return FAIL(p, err, "bad o= username");
	if (word(c, &w) || span_u64(w, UINT64_MAX, &s->sess_id) ||
	    need_sp(c) || word(c, &w) ||
	    span_u64(w, UINT64_MAX, &s->sess_version))
		return FAIL(p, -EBADMSG, "bad o= session id or version");
	for (i = 0; i < 3; i++)
		if (need_sp(c) || word(c, &w))
			return FAIL(p, -EBADMSG, "bad o= address");
	return expect_end(c) ? FAIL(p, -EBADMSG, "bad o=") : 0;
}

/* m=<media> <port> <proto> <fmt> ... */
static int parse_mline(struct parser *p, struct cur *c)
{
	struct sdp_session *s = p->s;
	struct sdp_media *m;
	struct span w;
	uint32_t port;
	int err;

	if (s->n_media >= SDP_MAX_MEDIA)
		return FAIL(p, -E2BIG, "too many m-lines");
	m = &s->media[s->n_media++];
	memset(m, 0, sizeof(*m));
	p->m = m;
	p->fb_wild = 0;
	p->seen_simulcast = false;

	if (word(c, &w))
		return FAIL(p, -EBADMSG, "bad m= media");
	if (span_eq(w, "audio")) {
		m->kind = SDP_KIND_AUDIO;
	} else if (span_eq(w, "video")) {
		m->kind = SDP_KIND_VIDEO;
	} else if (span_eq(w, "application")) {
		m->kind = SDP_KIND_APPLICATION;
	} else {
		m->kind = SDP_KIND_OTHER;
		err = span_copy(m->kind_name, sizeof(m->kind_name), w, 1,
				SDP__TOKEN);
		if (err)
			return FAIL(p, err, "bad m= media");
	}
	if (need_sp(c) || word(c, &w) || span_u32(w, UINT16_MAX, &port))
		return FAIL(p, -EBADMSG, "bad m= port");
	m->port = (uint16_t)port;
	if (need_sp(c) || word(c, &w))
		return FAIL(p, -EBADMSG, "bad m= proto");
	err = span_copy(m->proto, sizeof(m->proto), w, 1, SDP__PROTO);
	if (err)
		return FAIL(p, err, "bad m= proto");
	if (need_sp(c))
		return FAIL(p, -EBADMSG, "m= without formats");

	if (!sdp_media_is_rtp(m)) {
		err = span_copy(m->fmt, sizeof(m->fmt), rest(c), 1, SDP__TEXT);
		return err ? FAIL(p, err, "bad m= formats") : 0;
	}
	while (cur_left(c)) {
		uint32_t pt;
		size_t i;

		if (word(c, &w) || span_u32(w, SDP_MAX_PT, &pt))
			return FAIL(p, -EBADMSG, "bad m= payload type");
		for (i = 0; i < m->n_codecs; i++)
			if (m->codecs[i].pt == pt)
				return FAIL(p, -EBADMSG, "duplicate payload type");
		if (m->n_codecs >= SDP_MAX_CODECS)
			return FAIL(p, -E2BIG, "too many payload types");
		m->codecs[m->n_codecs++].pt = (uint8_t)pt;
		if (cur_left(c) && need_sp(c))
			return FAIL(p, -EBADMSG, "bad m= payload type");
	}
	return 0;
}

/* ---- attributes ---------------------------------------------------------- */

/* a=group:BUNDLE <mid> ...; other semantics are skipped. */
static int at_group(struct parser *p, struct cur *c)
{
	struct sdp_session *s = p->s;
	struct span w;
	size_t i;
	int err;

	if (word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=group");
	if (!span_eq(w, "BUNDLE"))
		return 0;
	if (p->seen_bundle)
		return FAIL(p, -E2BIG, "more than one BUNDLE group");
	p->seen_bundle = true;
	while (cur_left(c)) {
		if (need_sp(c) || word(c, &w))
			return FAIL(p, -EBADMSG, "bad a=group");
		if (s->n_bundle >= SDP_MAX_BUNDLE)
			return FAIL(p, -E2BIG, "too many BUNDLE mids");
		err = span_copy(s->bundle[s->n_bundle], sizeof(s->bundle[0]), w,
				1, SDP__TOKEN);
		if (err)
			return FAIL(p, err, "bad BUNDLE mid");
		for (i = 0; i < s->n_bundle; i++)
			if (strcmp(s->bundle[i], s->bundle[s->n_bundle]) == 0)
				return FAIL(p, -EBADMSG, "duplicate BUNDLE mid");
		s->n_bundle++;
	}
	return 0;
}

static int at_ice_lite(struct parser *p, struct cur *c)
{
	(void)c;
	p->s->ice_lite = true;
	return 0;
}

/* a=msid-semantic: WMS [ids] — Chromium puts a space after the colon. */
static int at_msid_semantic(struct parser *p, struct cur *c)
{
	struct span w;

	skip_sp(c);
	if (word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=msid-semantic");
	if (span_eq(w, "WMS"))
		p->s->msid_semantic = true;
	return 0;
}

static int at_extmap_allow_mixed(struct parser *p, struct cur *c)
{
	(void)c;
	if (p->m)
		p->m->extmap_allow_mixed = true;
	else
		p->s->extmap_allow_mixed = true;
	return 0;
}

static int at_end_of_candidates(struct parser *p, struct cur *c)
{
	(void)c;
	if (p->m)
		p->m->end_of_candidates = true;
	else
		p->s->end_of_candidates = true;
	return 0;
}

static struct sdp_ice *cur_ice(struct parser *p)
{
	return p->m ? &p->m->ice : &p->s->ice;
}

static int at_ice_ufrag(struct parser *p, struct cur *c)
{
	struct sdp_ice *ice = cur_ice(p);
	int err;

	if (ice->ufrag[0])
		return FAIL(p, -EBADMSG, "duplicate a=ice-ufrag");
	err = span_copy(ice->ufrag, sizeof(ice->ufrag), rest(c), SDP_MIN_UFRAG,
			SDP__ICE);
	return err ? FAIL(p, err, "bad a=ice-ufrag") : 0;
}

static int at_ice_pwd(struct parser *p, struct cur *c)
{
	struct sdp_ice *ice = cur_ice(p);
	int err;

	if (ice->pwd[0])
		return FAIL(p, -EBADMSG, "duplicate a=ice-pwd");
	err = span_copy(ice->pwd, sizeof(ice->pwd), rest(c), SDP_MIN_PWD,
			SDP__ICE);
	return err ? FAIL(p, err, "bad a=ice-pwd") : 0;
}

static int at_ice_options(struct parser *p, struct cur *c)
{
	struct sdp_ice *ice = cur_ice(p);
	int err;

	if (ice->options[0])
		return FAIL(p, -EBADMSG, "duplicate a=ice-options");
	err = span_copy(ice->options, sizeof(ice->options), rest(c), 1,
			SDP__TEXT);
	return err ? FAIL(p, err, "bad a=ice-options") : 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = sdp__lower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* a=fingerprint:<hash-func> <XX:XX:...> (RFC 8122 §5). Only the first one
 * at each level is kept: browsers send one. */
static int at_fingerprint(struct parser *p, struct cur *c)
{
	struct sdp_fingerprint *fp = p->m ? &p->m->fingerprint
					  : &p->s->fingerprint;
	struct sdp_fingerprint f;
	struct span w;
	size_t i, want;
	int err;

	memset(&f, 0, sizeof(f));
	if (word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=fingerprint");
	err = span_copy(f.alg, sizeof(f.alg), w, 1, SDP__TOKEN);
	if (err)
		return FAIL(p, err, "bad a=fingerprint hash");
	for (i = 0; f.alg[i]; i++)
		f.alg[i] = (char)sdp__lower((unsigned char)f.alg[i]);
	if (need_sp(c))
		return FAIL(p, -EBADMSG, "bad a=fingerprint");
	for (;;) {
		uint8_t b[2];
		int hi, lo;

		if (cur_u8(c, &b[0]) || cur_u8(c, &b[1]))
			return FAIL(p, -EBADMSG, "bad a=fingerprint hex");
		hi = hexval(b[0]);
		lo = hexval(b[1]);
		if (hi < 0 || lo < 0)
			return FAIL(p, -EBADMSG, "bad a=fingerprint hex");
		if (f.len >= SDP_MAX_FINGERPRINT)
			return FAIL(p, -E2BIG, "fingerprint too long");
		f.bytes[f.len++] = (uint8_t)(hi << 4 | lo);
		if (!cur_left(c))
			break;
		if (peek(c) != ':' || cur_skip(c, 1))
			return FAIL(p, -EBADMSG, "bad a=fingerprint hex");
	}
	want = sdp__hash_len(f.alg);
	if (want && want != f.len)
		return FAIL(p, -EBADMSG, "fingerprint length does not match hash");
	if (fp->len == 0)
		*fp = f;
	return 0;
}

static int at_setup(struct parser *p, struct cur *c)
{
	enum sdp_setup *st = p->m ? &p->m->setup : &p->s->setup;
	struct span w = rest(c);
	enum sdp_setup v;

	if (span_eq(w, "actpass"))
		v = SDP_SETUP_ACTPASS;
	else if (span_eq(w, "active"))
		v = SDP_SETUP_ACTIVE;
	else if (span_eq(w, "passive"))
		v = SDP_SETUP_PASSIVE;
	else if (span_eq(w, "holdconn"))
		v = SDP_SETUP_HOLDCONN;
	else
		return FAIL(p, -EBADMSG, "bad a=setup");
	if (*st != SDP_SETUP_NONE)
		return FAIL(p, -EBADMSG, "duplicate a=setup");
	*st = v;
	return 0;
}

static int set_dir(struct parser *p, enum sdp_dir d)
{
	enum sdp_dir *dir = p->m ? &p->m->dir : &p->s->dir;

	if (*dir != SDP_DIR_NONE)
		return FAIL(p, -EBADMSG, "more than one direction");
	*dir = d;
	return 0;
}

static int at_sendrecv(struct parser *p, struct cur *c)
{
	(void)c;
	return set_dir(p, SDP_DIR_SENDRECV);
}

static int at_sendonly(struct parser *p, struct cur *c)
{
	(void)c;
	return set_dir(p, SDP_DIR_SENDONLY);
}

static int at_recvonly(struct parser *p, struct cur *c)
{
	(void)c;
	return set_dir(p, SDP_DIR_RECVONLY);
}

static int at_inactive(struct parser *p, struct cur *c)
{
	(void)c;
	return set_dir(p, SDP_DIR_INACTIVE);
}

static int at_mid(struct parser *p, struct cur *c)
{
	int err;

	if (p->m->mid[0])
		return FAIL(p, -EBADMSG, "duplicate a=mid");
	err = span_copy(p->m->mid, sizeof(p->m->mid), rest(c), 1, SDP__TOKEN);
	return err ? FAIL(p, err, "bad a=mid") : 0;
}

static int at_rtcp_mux(struct parser *p, struct cur *c)
{
	(void)c;
	p->m->rtcp_mux = true;
	return 0;
}

static int at_rtcp_rsize(struct parser *p, struct cur *c)
{
	(void)c;
	p->m->rtcp_rsize = true;
	return 0;
}

/* Reads "<pt> " and finds the codec; *cp NULL if the pt is not on the m=
 * line (the attribute is then ignored, RFC 8866 §6.6). */
static int codec_ref(struct parser *p, struct cur *c, struct sdp_codec **cp)
{
	struct span w;
	uint32_t pt;
	size_t i;

	*cp = NULL;
	if (word(c, &w) || span_u32(w, SDP_MAX_PT, &pt) || need_sp(c))
		return FAIL(p, -EBADMSG, "bad payload type");
	for (i = 0; i < p->m->n_codecs; i++)
		if (p->m->codecs[i].pt == pt)
			*cp = &p->m->codecs[i];
	return 0;
}

/* a=rtpmap:<pt> <encoding>/<clock>[/<channels>] */
static int at_rtpmap(struct parser *p, struct cur *c)
{
	struct sdp_codec *k;
	struct span w;
	uint32_t v;
	int err;

	if ((err = codec_ref(p, c, &k)))
		return err;
	if (!k)
		return 0;
	if (k->name[0])
		return FAIL(p, -EBADMSG, "duplicate a=rtpmap");
	if (until(c, "/", &w))
		return FAIL(p, -EBADMSG, "bad a=rtpmap");
	err = span_copy(k->name, sizeof(k->name), w, 1, SDP__TOKEN);
	if (err)
		return FAIL(p, err, "bad a=rtpmap encoding");
	if (peek(c) != '/' || cur_skip(c, 1) || until(c, "/", &w) ||
	    span_u32(w, UINT32_MAX, &v) || v == 0)
		return FAIL(p, -EBADMSG, "bad a=rtpmap clock rate");
	k->clock = v;
	if (peek(c) == '/') {
		cur_skip(c, 1);
		if (until(c, "/", &w) || span_u32(w, UINT8_MAX, &v) || v == 0)
			return FAIL(p, -EBADMSG, "bad a=rtpmap channels");
		k->channels = (uint8_t)v;
	}
	return expect_end(c) ? FAIL(p, -EBADMSG, "bad a=rtpmap") : 0;
}

/* a=fmtp:<pt> <parameters> */
static int at_fmtp(struct parser *p, struct cur *c)
{
	struct sdp_codec *k;
	int err;

	if ((err = codec_ref(p, c, &k)))
		return err;
	if (!k)
		return 0;
	if (k->fmtp[0])
		return FAIL(p, -EBADMSG, "duplicate a=fmtp");
	err = span_copy(k->fmtp, sizeof(k->fmtp), rest(c), 1, SDP__TEXT);
	return err ? FAIL(p, err, "bad a=fmtp") : 0;
}

/* a=rtcp-fb:<pt>|* <type> [<subtype>] (RFC 4585 §4.2) */
static int at_rtcp_fb(struct parser *p, struct cur *c)
{
	struct sdp_codec *k = NULL;
	struct span type, sub = { NULL, 0 };
	uint32_t bit = 0;
	int err;

	if (peek(c) == '*') {
		cur_skip(c, 1);
		if (need_sp(c))
			return FAIL(p, -EBADMSG, "bad a=rtcp-fb");
	} else {
		if ((err = codec_ref(p, c, &k)))
			return err;
		if (!k)
			return 0;
	}
	if (word(c, &type))
		return FAIL(p, -EBADMSG, "bad a=rtcp-fb");
	if (cur_left(c) && (need_sp(c) || word(c, &sub)))
		return FAIL(p, -EBADMSG, "bad a=rtcp-fb");
	if (cur_left(c))
		return 0; /* feedback parameters we do not use */
	if (span_eq(type, "nack") && sub.n == 0)
		bit = SDP_FB_NACK;
	else if (span_eq(type, "nack") && span_eq(sub, "pli"))
		bit = SDP_FB_NACK_PLI;
	else if (span_eq(type, "ccm") && span_eq(sub, "fir"))
		bit = SDP_FB_CCM_FIR;
	else if (span_eq(type, "transport-cc") && sub.n == 0)
		bit = SDP_FB_TRANSPORT_CC;
	else if (span_eq(type, "goog-remb") && sub.n == 0)
		bit = SDP_FB_GOOG_REMB;
	if (k)
		k->fb |= bit;
	else
		p->fb_wild |= bit;
	return 0;
}

static int parse_dir(struct span w, enum sdp_dir *d)
{
	if (span_eq(w, "sendrecv"))
		*d = SDP_DIR_SENDRECV;
	else if (span_eq(w, "sendonly"))
		*d = SDP_DIR_SENDONLY;
	else if (span_eq(w, "recvonly"))
		*d = SDP_DIR_RECVONLY;
	else if (span_eq(w, "inactive"))
		*d = SDP_DIR_INACTIVE;
	else
		return -EBADMSG;
	return 0;
}

/* a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §5) */
static int at_extmap(struct parser *p, struct cur *c)
{
	struct sdp_media *m = p->m;
	struct sdp_extmap e;
	struct span w;
	uint32_t id;
	size_t i;
	int err;

	memset(&e, 0, sizeof(e));
	if (until(c, "/ ", &w) || span_u32(w, SDP_MAX_EXT_ID, &id) || id == 0)
		return FAIL(p, -EBADMSG, "bad a=extmap id");
	e.id = (uint16_t)id;
	if (peek(c) == '/') {
		cur_skip(c, 1);
		if (word(c, &w) || parse_dir(w, &e.dir))
			return FAIL(p, -EBADMSG, "bad a=extmap direction");
	}
	if (need_sp(c) || word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=extmap");
	err = span_copy(e.uri, sizeof(e.uri), w, 1, SDP__VIS);
	if (err)
		return FAIL(p, err, "bad a=extmap uri");
	for (i = 0; i < m->n_extmaps; i++)
		if (m->extmaps[i].id == e.id)
			return FAIL(p, -EBADMSG, "duplicate a=extmap id");
	if (m->n_extmaps >= SDP_MAX_EXTMAPS)
		return FAIL(p, -E2BIG, "too many a=extmap");
	m->extmaps[m->n_extmaps++] = e;
	return 0;
}

static int parse_u32_word(struct cur *c, uint32_t *v)
{
	struct span w;

	if (word(c, &w))
		return -EBADMSG;
	return span_u32(w, UINT32_MAX, v);
}

/* a=ssrc:<ssrc> cname:<cname> | msid:<stream> [<track>] (RFC 5576 §4.1);
 * other source attributes are skipped. */
static int at_ssrc(struct parser *p, struct cur *c)
{
	struct sdp_media *m = p->m;
	struct sdp_ssrc *x = NULL;
	struct span name, w;
	uint32_t ssrc;
	bool cname;
	size_t i;
	int err;

	if (parse_u32_word(c, &ssrc) || need_sp(c) || until(c, ":", &name))
		return FAIL(p, -EBADMSG, "bad a=ssrc");
	if (span_eq(name, "cname"))
		cname = true;
	else if (span_eq(name, "msid"))
		cname = false;
	else
		return 0;
	if (peek(c) != ':' || cur_skip(c, 1))
		return FAIL(p, -EBADMSG, "bad a=ssrc");
	for (i = 0; i < m->n_ssrcs; i++)
		if (m->ssrcs[i].ssrc == ssrc)
			x = &m->ssrcs[i];
	if (!x) {
		if (m->n_ssrcs >= SDP_MAX_SSRCS)
			return FAIL(p, -E2BIG, "too many SSRCs");
		x = &m->ssrcs[m->n_ssrcs++];
		memset(x, 0, sizeof(*x));
		x->ssrc = ssrc;
	}
	if (cname) {
		if (x->cname[0])
			return FAIL(p, -EBADMSG, "duplicate a=ssrc cname");
		err = span_copy(x->cname, sizeof(x->cname), rest(c), 1,
				SDP__VIS);
		return err ? FAIL(p, err, "bad a=ssrc cname") : 0;
	}
	if (x->msid_stream[0])
		return FAIL(p, -EBADMSG, "duplicate a=ssrc msid");
	if (word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=ssrc msid");
	err = span_copy(x->msid_stream, sizeof(x->msid_stream), w, 1,
			SDP__TOKEN);
	if (!err && cur_left(c)) {
		if (need_sp(c) || word(c, &w))
			return FAIL(p, -EBADMSG, "bad a=ssrc msid");
		err = span_copy(x->msid_track, sizeof(x->msid_track), w, 1,
				SDP__TOKEN);
	}
	if (!err && cur_left(c))
		err = -EBADMSG;
	return err ? FAIL(p, err, "bad a=ssrc msid") : 0;
}

/* a=ssrc-group:FID|SIM <ssrc> ... (RFC 5576 §4.2); other semantics skipped */
static int at_ssrc_group(struct parser *p, struct cur *c)
{
	struct sdp_media *m = p->m;
	struct sdp_ssrc_group g;
	struct span w;

	memset(&g, 0, sizeof(g));
	if (word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=ssrc-group");
	if (span_eq(w, "FID"))
		g.sem = SDP_SSRC_FID;
	else if (span_eq(w, "SIM"))
		g.sem = SDP_SSRC_SIM;
	else
		return 0;
	while (cur_left(c)) {
		uint32_t v;

		if (need_sp(c) || parse_u32_word(c, &v))
			return FAIL(p, -EBADMSG, "bad a=ssrc-group");
		if (g.n >= SDP_MAX_GROUP_SSRCS)
			return FAIL(p, -E2BIG, "too many SSRCs in a group");
		g.ssrcs[g.n++] = v;
	}
	if (g.n == 0 || (g.sem == SDP_SSRC_FID && g.n != 2))
		return FAIL(p, -EBADMSG, "bad a=ssrc-group");
	if (m->n_ssrc_groups >= SDP_MAX_SSRC_GROUPS)
		return FAIL(p, -E2BIG, "too many a=ssrc-group");
	m->ssrc_groups[m->n_ssrc_groups++] = g;
	return 0;
}

/* a=msid:<stream> [<track>] (RFC 8830 §2) */
static int at_msid(struct parser *p, struct cur *c)
{
	struct sdp_media *m = p->m;
	struct sdp_msid x;
	struct span w;
	int err;

	memset(&x, 0, sizeof(x));
	if (word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=msid");
	err = span_copy(x.stream, sizeof(x.stream), w, 1, SDP__TOKEN);
	if (!err && cur_left(c)) {
		if (need_sp(c) || word(c, &w))
			return FAIL(p, -EBADMSG, "bad a=msid");
		err = span_copy(x.track, sizeof(x.track), w, 1, SDP__TOKEN);
	}
	if (!err && cur_left(c))
		err = -EBADMSG;
	if (err)
		return FAIL(p, err, "bad a=msid");
	if (m->n_msids >= SDP_MAX_MSIDS)
		return FAIL(p, -E2BIG, "too many a=msid");
	m->msids[m->n_msids++] = x;
	return 0;
}

/* a=rid:<id> send|recv [<restrictions>] (RFC 8851 §10) */
static int at_rid(struct parser *p, struct cur *c)
{
	struct sdp_media *m = p->m;
	struct sdp_rid r;
	struct span w;
	size_t i;
	int err;

	memset(&r, 0, sizeof(r));
	if (word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=rid");
	err = span_copy(r.id, sizeof(r.id), w, 1, SDP__RID);
	if (err)
		return FAIL(p, err, "bad a=rid id");
	if (need_sp(c) || word(c, &w))
		return FAIL(p, -EBADMSG, "bad a=rid");
	if (span_eq(w, "send"))
		r.dir = SDP_RID_SEND;
	else if (span_eq(w, "recv"))
		r.dir = SDP_RID_RECV;
	else
		return FAIL(p, -EBADMSG, "bad a=rid direction");
	if (cur_left(c)) {
		if (need_sp(c))
			return FAIL(p, -EBADMSG, "bad a=rid");
		err = span_copy(r.params, sizeof(r.params), rest(c), 1,
				SDP__TEXT);
		if (err)
			return FAIL(p, err, "bad a=rid restrictions");
	}
	for (i = 0; i < m->n_rids; i++)
		if (strcmp(m->rids[i].id, r.id) == 0)
			return FAIL(p, -EBADMSG, "duplicate a=rid");
	if (m->n_rids >= SDP_MAX_RIDS)
		return FAIL(p, -E2BIG, "too many a=rid");
	m->rids[m->n_rids++] = r;
	return 0;
}

/* sc-str-list = sc-alt-list *(";" sc-alt-list); sc-alt-list = sc-id
 * *("," sc-id); sc-id = ["~"] rid-id (RFC 8853 §5.1) */
static int parse_sim_list(struct parser *p, struct span w,
			  struct sdp_sim_list *l)
{
	struct cur c = cur_make(w.p, w.n);
	struct sdp_sim_stream *st;

	for (;;) {
		struct sdp_sim_alt *a;
		struct span id;
		int err;

		if (l->n >= SDP_MAX_RIDS)
			return FAIL(p, -E2BIG, "too many simulcast streams");
		st = &l->streams[l->n++];
		for (;;) {
			if (st->n_alt >= SDP_MAX_SIM_ALTS)
				return FAIL(p, -E2BIG, "too many simulcast alternatives");
			a = &st->alt[st->n_alt++];
			if (peek(&c) == '~') {
				cur_skip(&c, 1);
				a->paused = true;
			}
			if (until(&c, ",;", &id))
				return FAIL(p, -EBADMSG, "bad a=simulcast");
			err = span_copy(a->rid, sizeof(a->rid), id, 1, SDP__RID);
			if (err)
				return FAIL(p, err, "bad a=simulcast rid");
			if (peek(&c) != ',')
				break;
			cur_skip(&c, 1);
		}
		if (!cur_left(&c))
			return 0;
		cur_skip(&c, 1); /* ';' */
	}
}

/* a=simulcast:<dir> <list> [<dir> <list>] (RFC 8853 §5.1) */
static int at_simulcast(struct parser *p, struct cur *c)
{
	struct sdp_simulcast *sc = &p->m->simulcast;
	int i, err;

	if (p->seen_simulcast)
		return FAIL(p, -EBADMSG, "duplicate a=simulcast");
	p->seen_simulcast = true;
	skip_sp(c);
	for (i = 0; i < 2 && cur_left(c); i++) {
		struct sdp_sim_list *l;
		struct span w;

		if (i > 0 && need_sp(c))
			return FAIL(p, -EBADMSG, "bad a=simulcast");
		if (word(c, &w))
			return FAIL(p, -EBADMSG, "bad a=simulcast");
		if (span_eq(w, "send"))
			l = &sc->send;
		else if (span_eq(w, "recv"))
			l = &sc->recv;
		else
			return FAIL(p, -EBADMSG, "bad a=simulcast direction");
		if (l->n)
			return FAIL(p, -EBADMSG, "bad a=simulcast direction");
		if (need_sp(c) || word(c, &w))
			return FAIL(p, -EBADMSG, "bad a=simulcast");
		if ((err = parse_sim_list(p, w, l)))
			return err;
	}
	if (cur_left(c) || (!sc->send.n && !sc->recv.n))
		return FAIL(p, -EBADMSG, "bad a=simulcast");
	return 0;
}

/*
 * a=candidate:<foundation> <component> <transport> <priority> <address>
 *   <port> typ <type> [raddr <a>] [rport <p>] *(<ext-name> <ext-value>)
 * (RFC 8839 §5.1; tcptype from RFC 6544 §4.5)
 */
static int parse_candidate(struct cur *c, struct sdp_candidate *k)
{
	struct span w, v;
	uint32_t x;
	int err;

	memset(k, 0, sizeof(*k));
	if (word(c, &w) || w.n > SDP_MAX_FOUNDATION)
		return -EBADMSG;
	if ((err = span_copy(k->foundation, sizeof(k->foundation), w, 1,
			     SDP__ICE)))
		return err;
	if (need_sp(c) || word(c, &w) || span_u32(w, 256, &x) || x == 0)
		return -EBADMSG;
	k->component = (uint16_t)x;
	if (need_sp(c) || word(c, &w))
		return -EBADMSG;
	if ((err = span_copy(k->transport, sizeof(k->transport), w, 1,
			     SDP__TOKEN)))
		return err;
	if (need_sp(c) || parse_u32_word(c, &k->priority))
		return -EBADMSG;
	if (need_sp(c) || word(c, &w))
		return -EBADMSG;
	if ((err = span_copy(k->addr, sizeof(k->addr), w, 1, SDP__VIS)))
		return err;
	if (need_sp(c) || word(c, &w) || span_u32(w, UINT16_MAX, &x))
		return -EBADMSG;
	k->port = (uint16_t)x;
	if (need_sp(c) || word(c, &w) || !span_eq(w, "typ") || need_sp(c) ||
	    word(c, &w))
		return -EBADMSG;
	if (span_eq(w, "host"))
		k->type = SDP_CAND_HOST;
	else if (span_eq(w, "srflx"))
		k->type = SDP_CAND_SRFLX;
	else if (span_eq(w, "prflx"))
		k->type = SDP_CAND_PRFLX;
	else if (span_eq(w, "relay"))
		k->type = SDP_CAND_RELAY;
	else
		return -EBADMSG;
	while (cur_left(c)) {
		if (need_sp(c) || word(c, &w) || need_sp(c) || word(c, &v))
			return -EBADMSG;
		if (span_eq(w, "raddr")) {
			if ((err = span_copy(k->raddr, sizeof(k->raddr), v, 1,
					     SDP__VIS)))
				return err;
		} else if (span_eq(w, "rport")) {
			if (span_u32(v, UINT16_MAX, &x))
				return -EBADMSG;
			k->rport = (uint16_t)x;
		} else if (span_eq(w, "tcptype")) {
			if (span_eq(v, "active"))
				k->tcptype = SDP_TCP_ACTIVE;
			else if (span_eq(v, "passive"))
				k->tcptype = SDP_TCP_PASSIVE;
			else if (span_eq(v, "so"))
				k->tcptype = SDP_TCP_SO;
			else
				return -EBADMSG;
		} else if (!sdp__chars_ok(w.p, w.n, SDP__VIS) ||
			   !sdp__chars_ok(v.p, v.n, SDP__VIS)) {
			return -EBADMSG;
		}
	}
	if (!k->raddr[0] && k->rport)
		return -EBADMSG;
	return 0;
}

static int at_candidate(struct parser *p, struct cur *c)
{
	struct sdp_media *m = p->m;
	struct sdp_candidate k;
	int err = parse_candidate(c, &k);

	if (err)
		return FAIL(p, err, "bad a=candidate");
	m->n_candidates_seen++;
	if (m->n_candidates < SDP_MAX_CANDIDATES)
		m->candidates[m->n_candidates++] = k;
	return 0;
}

enum {
	AT_SESSION = 1,   /* meaningful at session level */
	AT_MEDIA = 2,     /* meaningful in an m-section */
	AT_VALUE = 4,     /* "a=name:value"; otherwise a flag "a=name" */
};

static const struct attr {
	const char *name;
	int (*fn)(struct parser *p, struct cur *c);
	unsigned flags;
} attrs[] = {
	{ "group", at_group, AT_SESSION | AT_VALUE },
	{ "ice-lite", at_ice_lite, AT_SESSION },
	{ "msid-semantic", at_msid_semantic, AT_SESSION | AT_VALUE },
	{ "extmap-allow-mixed", at_extmap_allow_mixed, AT_SESSION | AT_MEDIA },
	{ "end-of-candidates", at_end_of_candidates, AT_SESSION | AT_MEDIA },
	{ "ice-ufrag", at_ice_ufrag, AT_SESSION | AT_MEDIA | AT_VALUE },
	{ "ice-pwd", at_ice_pwd, AT_SESSION | AT_MEDIA | AT_VALUE },
	{ "ice-options", at_ice_options, AT_SESSION | AT_MEDIA | AT_VALUE },
	{ "fingerprint", at_fingerprint, AT_SESSION | AT_MEDIA | AT_VALUE },
	{ "setup", at_setup, AT_SESSION | AT_MEDIA | AT_VALUE },
	{ "sendrecv", at_sendrecv, AT_SESSION | AT_MEDIA },
	{ "sendonly", at_sendonly, AT_SESSION | AT_MEDIA },
	{ "recvonly", at_recvonly, AT_SESSION | AT_MEDIA },
	{ "inactive", at_inactive, AT_SESSION | AT_MEDIA },
	{ "mid", at_mid, AT_MEDIA | AT_VALUE },
	{ "rtcp-mux", at_rtcp_mux, AT_MEDIA },
	{ "rtcp-rsize", at_rtcp_rsize, AT_MEDIA },
	{ "rtpmap", at_rtpmap, AT_MEDIA | AT_VALUE },
	{ "fmtp", at_fmtp, AT_MEDIA | AT_VALUE },
	{ "rtcp-fb", at_rtcp_fb, AT_MEDIA | AT_VALUE },
	{ "extmap", at_extmap, AT_MEDIA | AT_VALUE },
	{ "ssrc", at_ssrc, AT_MEDIA | AT_VALUE },
	{ "ssrc-group", at_ssrc_group, AT_MEDIA | AT_VALUE },
	{ "msid", at_msid, AT_MEDIA | AT_VALUE },
	{ "rid", at_rid, AT_MEDIA | AT_VALUE },
	{ "simulcast", at_simulcast, AT_MEDIA | AT_VALUE },
	{ "candidate", at_candidate, AT_MEDIA | AT_VALUE },
};

/* a=<name>[:<value>] */
static int parse_attr(struct parser *p, struct cur *c)
{
	unsigned where = p->m ? AT_MEDIA : AT_SESSION;
	struct span name;
	bool has_value;
	size_t i;

	if (until(c, ":", &name))
		return FAIL(p, -EBADMSG, "bad a= line");
	has_value = peek(c) == ':';
	if (has_value)
		cur_skip(c, 1);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		const struct attr *a = &attrs[i];

		if (!span_eq(name, a->name))
			continue;
		if (!(a->flags & where))
			return 0;
		if (has_value != !!(a->flags & AT_VALUE) ||
		    (has_value && !cur_left(c)))
			return FAIL(p, -EBADMSG, "bad attribute value");
		return a->fn(p, c);
	}
	return 0; /* unknown attribute: ignored (RFC 8866 §5.13) */
}

/* ---- lines and the whole description ------------------------------------ */

static int parse_line(struct parser *p, unsigned lineno, char type,
		      struct cur *c)
{
	if (lineno == 1) {
		if (type != 'v' || cur_left(c) != 1 || peek(c) != '0')
			return FAIL(p, -EBADMSG, "missing v=0");
		p->seen_v = true;
		return 0;
	}
	switch (type) {
	case 'v':
		return FAIL(p, -EBADMSG, "misplaced v=");
	case 'o':
		return parse_origin(p, c);
	case 's':
		if (p->seen_s || p->m)
			return FAIL(p, -EBADMSG, "misplaced s=");
		p->seen_s = true;
		return 0;
	case 'm':
		if (!p->seen_o || !p->seen_s)
			return FAIL(p, -EBADMSG, "m= before o= and s=");
		return parse_mline(p, c);
	case 'a':
		return parse_attr(p, c);
	case 'i': case 'u': case 'e': case 'p': case 'c': case 'b':
	case 't': case 'r': case 'z': case 'k':
		return 0; /* RFC 8866 §5: known, not needed by WebRTC */
	default:
		return FAIL(p, -EBADMSG, "unknown line type");
	}
}

/* Media-level first, session-level fallback (RFC 8866 §5: session-level
 * attributes are defaults for every m-line; RFC 8839 §5.4, RFC 8122 §5). */
static void resolve(const struct sdp_session *s, struct sdp_media *m)
{
	if (!m->ice.ufrag[0])
		memcpy(m->ice.ufrag, s->ice.ufrag, sizeof(m->ice.ufrag));
	if (!m->ice.pwd[0])
		memcpy(m->ice.pwd, s->ice.pwd, sizeof(m->ice.pwd));
	if (!m->ice.options[0])
		memcpy(m->ice.options, s->ice.options, sizeof(m->ice.options));
	if (m->fingerprint.len == 0)
		m->fingerprint = s->fingerprint;
	if (m->setup == SDP_SETUP_NONE)
		m->setup = s->setup;
	if (m->dir == SDP_DIR_NONE)
		m->dir = s->dir != SDP_DIR_NONE ? s->dir : SDP_DIR_SENDRECV;
}

static void end_media(struct parser *p)
{
	size_t i;

	if (!p->m)
		return;
	for (i = 0; i < p->m->n_codecs; i++)
		p->m->codecs[i].fb |= p->fb_wild;
}

static int finish(struct parser *p)
{
	struct sdp_session *s = p->s;
	size_t i, j;

	end_media(p);
	if (!p->seen_o || !p->seen_s)
		return FAIL(p, -EBADMSG, "missing o= or s=");
	for (i = 0; i < s->n_media; i++) {
		struct sdp_media *m = &s->media[i];

		resolve(s, m);
		if (!m->mid[0])
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(s->media[j].mid, m->mid) == 0)
				return FAIL(p, -EBADMSG, "duplicate mid");
	}
	for (i = 0; i < s->n_bundle; i++)
		if (!sdp_media_find(s, s->bundle[i]))
			return FAIL(p, -EBADMSG, "BUNDLE names an unknown mid");
	return 0;
}

int sdp_parse(const char *text, size_t len, struct sdp_session *out)
{
	struct parser p;
	struct cur all;
	unsigned lineno = 0;
	int err = 0;

	memset(&p, 0, sizeof(p));
	memset(out, 0, offsetof(struct sdp_session, media));
	out->n_media = 0;
	p.s = out;
	if (len > SDP_MAX_SIZE) {
		out->err_msg = "description too large";
		return -E2BIG;
	}
	all = cur_make(text, len);
	while (cur_left(&all)) {
		const uint8_t *line, *nl;
		struct cur c;
		size_t n, i;

		line = cur_ptr(&all);
		nl = memchr(line, '\n', cur_left(&all));
		n = nl ? (size_t)(nl - line) : cur_left(&all);
		cur_skip(&all, nl ? n + 1 : n);
		if (n && line[n - 1] == '\r')
			n--;
		if (++lineno > SDP_MAX_LINES) {
			err = FAIL(&p, -E2BIG, "too many lines");
			break;
		}
		if (n == 0) {
			/* tolerate trailing empty lines only */
			while (cur_left(&all) && (*cur_ptr(&all) == '\r' ||
						  *cur_ptr(&all) == '\n'))
				cur_skip(&all, 1);
			if (cur_left(&all))
				err = FAIL(&p, -EBADMSG, "empty line");
			break;
		}
		if (n > SDP_MAX_LINE) {
			err = FAIL(&p, -E2BIG, "line too long");
			break;
		}
		for (i = 0; i < n; i++)
			if (line[i] < 0x20 || line[i] == 0x7f)
				break;
		if (i < n) {
			err = FAIL(&p, -EBADMSG, "control character");
			break;
		}
		while (n > 2 && line[n - 1] == ' ')
			n--; /* trailing spaces */
		if (n < 2 || line[0] < 'a' || line[0] > 'z' || line[1] != '=') {
			err = FAIL(&p, -EBADMSG, "not an x=value line");
			break;
		}
		c = cur_make(line + 2, n - 2);
		if (line[0] == 'm')
			end_media(&p);
		err = parse_line(&p, lineno, (char)line[0], &c);
		if (err)
			break;
	}
	if (!err && !p.seen_v)
		err = FAIL(&p, -EBADMSG, "missing v=0");
	if (!err) {
		lineno = 0;
		err = finish(&p);
	}
	if (err) {
		out->err_line = lineno;
		out->err_msg = p.err;
		out->n_media = 0;
	}
	return err;
}
