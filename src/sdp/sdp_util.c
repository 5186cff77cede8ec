/*
 * sdp_util — character classes shared by the parser and the writer, and the
 * small lookups and builders the rest of conclave uses on a parsed or
 * hand-built struct sdp_session (see sdp.h).
 */
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- character classes (shared with the writer) ------------------------ */

int sdp__lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

bool sdp__ieqn(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] == '\0' || sdp__lower((unsigned char)a[i]) !=
					    sdp__lower((unsigned char)b[i]))
			return false;
	return b[n] == '\0';
}

bool sdp__ieq(const char *a, const char *b)
{
	return sdp__ieqn(a, strlen(a), b);
}

static bool is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A /
 * %x5E-7E (RFC 8866 §9) */
static bool is_token_char(int c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a ||
	       c == 0x2b || c == 0x2d || c == 0x2e || (c >= 0x30 && c <= 0x39) ||
	       (c >= 0x41 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e);
}

static bool cls_ok(int c, enum sdp__cls cls)
{
	switch (cls) {
	case SDP__TOKEN:
		return is_token_char(c);
	case SDP__PROTO:
		return is_token_char(c) || c == '/';
	case SDP__ICE:
		return is_alnum(c) || c == '+' || c == '/';
	case SDP__RID:
		return is_alnum(c) || c == '-' || c == '_';
	case SDP__VIS:
		return c > 0x20 && c < 0x7f;
	case SDP__TEXT:
		return c >= 0x20 && c < 0x7f;
	}
	return false;
}

bool sdp__chars_ok(const char *p, size_t n, enum sdp__cls cls)
{
	size_t i;

	if (n == 0)
		return false;
	if (cls == SDP__TEXT && (p[0] == ' ' || p[n - 1] == ' '))
		return false;
	for (i = 0; i < n; i++)
		if (!cls_ok((unsigned char)p[i], cls))
			return false;
	return true;
}

bool sdp__field_ok(const char *s, size_t cap, size_t min, enum sdp__cls cls)
{
	const char *end = memchr(s, '\0', cap);
	size_t n;

	if (!end)
		return false;
	n = (size_t)(end - s);
	if (n < min)
		return false;
	return n == 0 || sdp__chars_ok(s, n, cls);
}

size_t sdp__hash_len(const char *alg)
{
	/* RFC 8122 §5 hash-func names; digest sizes from FIPS 180-4 / RFC 1321 */
	static const struct {
		const char *name;
		size_t len;
	} h[] = {
		{ "sha-1", 20 },   { "sha-224", 28 }, { "sha-256", 32 },
		{ "sha-384", 48 }, { "sha-512", 64 }, { "md5", 16 },
		{ "md2", 16 },
	};
	size_t i;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (strcmp(alg, h[i].name) == 0)
			return h[i].len;
	return 0;
}

bool sdp__fingerprint_ok(const struct sdp_fingerprint *fp)
{
	size_t i, want;

	if (fp->len == 0)
		return true;
	if (fp->len > SDP_MAX_FINGERPRINT || !sdp__field_ok(fp->alg, sizeof(fp->alg), 1, SDP__TOKEN))
		return false;
	for (i = 0; fp->alg[i]; i++)
		if (fp->alg[i] >= 'A' && fp->alg[i] <= 'Z')
			return false; /* the parser lower-cases */
	want = sdp__hash_len(fp->alg);
	return !want || want == fp->len;
}

/* ---- building ------------------------------------------------------------ */

void sdp_session_init(struct sdp_session *s)
{
	memset(s, 0, offsetof(struct sdp_session, media));
	s->n_media = 0;
	strcpy(s->origin_user, "-");
}

struct sdp_session *sdp_session_new(void)
{
	struct sdp_session *s = malloc(sizeof(*s));

	if (s)
		sdp_session_init(s);
	return s;
}

struct sdp_media *sdp_media_add(struct sdp_session *s, enum sdp_kind kind)
{
	struct sdp_media *m;

	if (s->n_media >= SDP_MAX_MEDIA)
		return NULL;
	m = &s->media[s->n_media++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->port = SDP_DISCARD_PORT;
	m->dir = SDP_DIR_SENDRECV;
	if (kind == SDP_KIND_APPLICATION) {
		/* RFC 8841 §4.1 */
		strcpy(m->proto, "UDP/DTLS/SCTP");
		strcpy(m->fmt, "webrtc-datachannel");
	} else {
		strcpy(m->proto, "UDP/TLS/RTP/SAVPF");
		m->rtcp_mux = true;
	}
	return m;
}

int sdp_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return -E2BIG;
	memcpy(dst, src, n + 1);
	return 0;
}

enum {
	/* RFC 8445 §5.1.2.1-2: priority = 2^24 * type preference +
	 * 2^8 * local preference + (256 - component id) */
	ICE_TYPE_PREF_HOST = 126,
	ICE_LOCAL_PREF_MAX = 65535,
	ICE_COMPONENT_RTP = 1,
};

int sdp_candidate_host(struct sdp_candidate *c, unsigned index,
		       const char *addr, uint16_t port)
{
	struct sdp_candidate k;

	if (index > ICE_LOCAL_PREF_MAX)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	if (sdp_copy(k.addr, sizeof(k.addr), addr))
		return -E2BIG;
	if (!sdp__field_ok(k.addr, sizeof(k.addr), 1, SDP__VIS))
		return -EINVAL;
	snprintf(k.foundation, sizeof(k.foundation), "%u", index + 1);
	k.component = ICE_COMPONENT_RTP;
	strcpy(k.transport, "udp");
	k.priority = ((uint32_t)ICE_TYPE_PREF_HOST << 24) |
		     ((uint32_t)(ICE_LOCAL_PREF_MAX - index) << 8) |
		     (256u - ICE_COMPONENT_RTP);
	k.port = port;
	k.type = SDP_CAND_HOST;
	*c = k;
	return 0;
}

/* ---- lookups --------------------------------------------------------------- */

bool sdp_media_is_rtp(const struct sdp_media *m)
{
	/* "RTP/AVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVPF", ... (RFC 8866 §5.14) */
	return strstr(m->proto, "RTP/") != NULL;
}

const struct sdp_media *sdp_media_find(const struct sdp_session *s,
				       const char *mid)
{
	size_t i;

	for (i = 0; i < s->n_media; i++)
		if (s->media[i].mid[0] && strcmp(s->media[i].mid, mid) == 0)
			return &s->media[i];
	return NULL;
}

const struct sdp_codec *sdp_codec_find(const struct sdp_media *m, unsigned pt)
{
	size_t i;

	for (i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	return NULL;
}

int sdp_codec_rtx(const struct sdp_media *m, unsigned pt)
{
	size_t i;

	for (i = 0; i < m->n_codecs; i++) {
		const struct sdp_codec *k = &m->codecs[i];
		uint32_t apt;

		if (sdp__ieq(k->name, "rtx") &&
		    sdp_fmtp_uint(k->fmtp, "apt", &apt) == 0 && apt == pt)
			return k->pt;
	}
	return -ENOENT;
}

int sdp_extmap_find(const struct sdp_media *m, const char *uri)
{
	size_t i;

	for (i = 0; i < m->n_extmaps; i++)
		if (strcmp(m->extmaps[i].uri, uri) == 0)
			return m->extmaps[i].id;
	return -ENOENT;
}

int sdp_fmtp_get(const char *fmtp, const char *key, char *val, size_t cap)
{
	const char *p = fmtp;

	while (*p) {
		const char *item, *end, *eq, *ke, *vs, *ve;

		while (*p == ' ' || *p == ';')
			p++;
		item = p;
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		p = end;
		eq = memchr(item, '=', (size_t)(end - item));
		if (!eq)
			continue;
		for (ke = eq; ke > item && ke[-1] == ' '; ke--)
			;
		if (!sdp__ieqn(item, (size_t)(ke - item), key))
			continue;
		for (vs = eq + 1; vs < end && *vs == ' '; vs++)
			;
		for (ve = end; ve > vs && ve[-1] == ' '; ve--)
			;
		if ((size_t)(ve - vs) >= cap)
			return -E2BIG;
		memcpy(val, vs, (size_t)(ve - vs));
		val[ve - vs] = '\0';
		return 0;
	}
	return -ENOENT;
}

int sdp_fmtp_uint(const char *fmtp, const char *key, uint32_t *v)
{
	char buf[12];
	uint64_t x = 0;
	size_t i;
	int err = sdp_fmtp_get(fmtp, key, buf, sizeof(buf));

	if (err == -E2BIG)
		return -EBADMSG;
	if (err)
		return err;
	if (!buf[0])
		return -EBADMSG;
	for (i = 0; buf[i]; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EBADMSG;
		x = x * 10 + (uint64_t)(buf[i] - '0');
	}
	if (x > UINT32_MAX)
		return -EBADMSG;
	*v = (uint32_t)x;
	return 0;
}

const char *sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_DIR_SENDRECV:
		return "sendrecv";
	case SDP_DIR_SENDONLY:
		return "sendonly";
	case SDP_DIR_RECVONLY:
		return "recvonly";
	case SDP_DIR_INACTIVE:
		return "inactive";
	case SDP_DIR_NONE:
		break;
	}
	return "";
}

/* ---- equality ------------------------------------------------------------- */

#define STR_EQ(a, b) (strncmp((a), (b), sizeof(a)) == 0)

static bool ice_eq(const struct sdp_ice *a, const struct sdp_ice *b)
{
	return STR_EQ(a->ufrag, b->ufrag) && STR_EQ(a->pwd, b->pwd) &&
	       STR_EQ(a->options, b->options);
}

static bool fp_eq(const struct sdp_fingerprint *a,
		  const struct sdp_fingerprint *b)
{
	return a->len == b->len && a->len <= SDP_MAX_FINGERPRINT &&
	       STR_EQ(a->alg, b->alg) && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static bool sim_list_eq(const struct sdp_sim_list *a,
			const struct sdp_sim_list *b)
{
	size_t i, j;

	if (a->n != b->n || a->n > SDP_MAX_RIDS)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct sdp_sim_stream *x = &a->streams[i], *y = &b->streams[i];

		if (x->n_alt != y->n_alt || x->n_alt > SDP_MAX_SIM_ALTS)
			return false;
		for (j = 0; j < x->n_alt; j++)
			if (x->alt[j].paused != y->alt[j].paused ||
			    !STR_EQ(x->alt[j].rid, y->alt[j].rid))
				return false;
	}
	return true;
}

static bool cand_eq(const struct sdp_candidate *a, const struct sdp_candidate *b)
{
	return STR_EQ(a->foundation, b->foundation) &&
	       a->component == b->component &&
	       STR_EQ(a->transport, b->transport) && a->priority == b->priority &&
	       STR_EQ(a->addr, b->addr) && a->port == b->port &&
	       a->type == b->type && a->tcptype == b->tcptype &&
	       STR_EQ(a->raddr, b->raddr) && a->rport == b->rport;
}

static bool media_eq(const struct sdp_media *a, const struct sdp_media *b)
{
	size_t i, j;

	if (a->kind != b->kind || a->port != b->port || a->dir != b->dir ||
	    a->setup != b->setup || a->rtcp_mux != b->rtcp_mux ||
	    a->rtcp_rsize != b->rtcp_rsize ||
	    a->extmap_allow_mixed != b->extmap_allow_mixed ||
	    a->end_of_candidates != b->end_of_candidates ||
	    !STR_EQ(a->kind_name, b->kind_name) || !STR_EQ(a->proto, b->proto) ||
	    !STR_EQ(a->fmt, b->fmt) || !STR_EQ(a->mid, b->mid) ||
	    !ice_eq(&a->ice, &b->ice) ||
	    !fp_eq(&a->fingerprint, &b->fingerprint))
		return false;
	if (a->n_codecs != b->n_codecs || a->n_codecs > SDP_MAX_CODECS ||
	    a->n_extmaps != b->n_extmaps || a->n_extmaps > SDP_MAX_EXTMAPS ||
	    a->n_ssrcs != b->n_ssrcs || a->n_ssrcs > SDP_MAX_SSRCS ||
	    a->n_ssrc_groups != b->n_ssrc_groups ||
	    a->n_ssrc_groups > SDP_MAX_SSRC_GROUPS ||
	    a->n_msids != b->n_msids || a->n_msids > SDP_MAX_MSIDS ||
	    a->n_rids != b->n_rids || a->n_rids > SDP_MAX_RIDS ||
	    a->n_candidates != b->n_candidates ||
	    a->n_candidates > SDP_MAX_CANDIDATES)
		return false;
	for (i = 0; i < a->n_codecs; i++) {
		const struct sdp_codec *x = &a->codecs[i], *y = &b->codecs[i];

		if (x->pt != y->pt || x->channels != y->channels ||
		    x->clock != y->clock || x->fb != y->fb ||
		    !STR_EQ(x->name, y->name) || !STR_EQ(x->fmtp, y->fmtp))
			return false;
	}
	for (i = 0; i < a->n_extmaps; i++)
		if (a->extmaps[i].id != b->extmaps[i].id ||
		    a->extmaps[i].dir != b->extmaps[i].dir ||
		    !STR_EQ(a->extmaps[i].uri, b->extmaps[i].uri))
			return false;
	for (i = 0; i < a->n_ssrcs; i++)
		if (a->ssrcs[i].ssrc != b->ssrcs[i].ssrc ||
		    !STR_EQ(a->ssrcs[i].cname, b->ssrcs[i].cname) ||
		    !STR_EQ(a->ssrcs[i].msid_stream, b->ssrcs[i].msid_stream) ||
		    !STR_EQ(a->ssrcs[i].msid_track, b->ssrcs[i].msid_track))
			return false;
	for (i = 0; i < a->n_ssrc_groups; i++) {
		const struct sdp_ssrc_group *x = &a->ssrc_groups[i];
		const struct sdp_ssrc_group *y = &b->ssrc_groups[i];

		if (x->sem != y->sem || x->n != y->n ||
		    x->n > SDP_MAX_GROUP_SSRCS)
			return false;
		for (j = 0; j < x->n; j++)
			if (x->ssrcs[j] != y->ssrcs[j])
				return false;
	}
	for (i = 0; i < a->n_msids; i++)
		if (!STR_EQ(a->msids[i].stream, b->msids[i].stream) ||
		    !STR_EQ(a->msids[i].track, b->msids[i].track))
			return false;
	for (i = 0; i < a->n_rids; i++)
		if (a->rids[i].dir != b->rids[i].dir ||
		    !STR_EQ(a->rids[i].id, b->rids[i].id) ||
		    !STR_EQ(a->rids[i].params, b->rids[i].params))
			return false;
	if (!sim_list_eq(&a->simulcast.send, &b->simulcast.send) ||
	    !sim_list_eq(&a->simulcast.recv, &b->simulcast.recv))
		return false;
	for (i = 0; i < a->n_candidates; i++)
		if (!cand_eq(&a->candidates[i], &b->candidates[i]))
			return false;
	return true;
}

bool sdp_session_equal(const struct sdp_session *a,
		       const struct sdp_session *b)
{
	size_t i;

	if (a->sess_id != b->sess_id || a->sess_version != b->sess_version ||
	    a->ice_lite != b->ice_lite ||
	    a->extmap_allow_mixed != b->extmap_allow_mixed ||
	    a->msid_semantic != b->msid_semantic ||
	    a->end_of_candidates != b->end_of_candidates ||
	    a->setup != b->setup || a->dir != b->dir ||
	    !STR_EQ(a->origin_user, b->origin_user) ||
	    !ice_eq(&a->ice, &b->ice) ||
	    !fp_eq(&a->fingerprint, &b->fingerprint) ||
	    a->n_bundle != b->n_bundle || a->n_bundle > SDP_MAX_BUNDLE ||
	    a->n_media != b->n_media || a->n_media > SDP_MAX_MEDIA)
		return false;
	for (i = 0; i < a->n_bundle; i++)
		if (!STR_EQ(a->bundle[i], b->bundle[i]))
			return false;
	for (i = 0; i < a->n_media; i++)
		if (!media_eq(&a->media[i], &b->media[i]))
			return false;
	return true;
}
