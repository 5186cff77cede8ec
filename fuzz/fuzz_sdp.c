/*
 * fuzz_sdp — libFuzzer target for the SDP parser, writer and answer policy.
 *
 * Invariants (abort() when broken):
 *   - whatever parses, writes (or is refused with -E2BIG because the text
 *     would exceed a parse limit), and the written text parses back to an
 *     equal session, key fields compared one by one as well;
 *   - the publish answer to whatever parses can be built; it has one m-line
 *     per offered m-line with the same mid, only passive/recvonly/inactive
 *     accepted m-lines, and a BUNDLE group of accepted mids; it writes and
 *     parses back equal.
 *
 * Sessions are large (see sdp.h), so they are static, not per input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sdp_session s1, s2, ans, ans2;

static void check_same(const struct sdp_session *a, const struct sdp_session *b)
{
	size_t i, j;

	if (!sdp_session_equal(a, b) || a->n_media != b->n_media ||
	    a->n_bundle != b->n_bundle || a->sess_id != b->sess_id ||
	    a->ice_lite != b->ice_lite)
		abort();
	for (i = 0; i < a->n_media; i++) {
		const struct sdp_media *x = &a->media[i], *y = &b->media[i];

		if (x->kind != y->kind || x->port != y->port || x->dir != y->dir ||
		    x->setup != y->setup || strcmp(x->mid, y->mid) != 0 ||
		    strcmp(x->ice.ufrag, y->ice.ufrag) != 0 ||
		    x->fingerprint.len != y->fingerprint.len ||
		    memcmp(x->fingerprint.bytes, y->fingerprint.bytes,
			   x->fingerprint.len) != 0 ||
		    x->n_codecs != y->n_codecs || x->n_extmaps != y->n_extmaps ||
		    x->n_rids != y->n_rids || x->n_ssrcs != y->n_ssrcs ||
		    x->n_candidates != y->n_candidates)
			abort();
		for (j = 0; j < x->n_codecs; j++)
			if (x->codecs[j].pt != y->codecs[j].pt ||
			    x->codecs[j].fb != y->codecs[j].fb ||
			    strcmp(x->codecs[j].fmtp, y->codecs[j].fmtp) != 0)
				abort();
		for (j = 0; j < x->n_extmaps; j++)
			if (x->extmaps[j].id != y->extmaps[j].id)
				abort();
	}
}

/* Writes s and parses it back into t. Returns 1 if it was written, 0 if
 * the writer refused with -E2BIG (text over a parse limit). */
static int reparse(const struct sdp_session *s, struct sdp_session *t)
{
	struct wbuf b;
	int rc;

	wbuf_init(&b, 0);
	rc = sdp_write(s, &b);
	if (rc == -E2BIG) {
		wbuf_free(&b);
		return 0;
	}
	if (rc != 0 || sdp_parse(b.data, b.len, t) != 0)
		abort();
	wbuf_free(&b);
	check_same(s, t);
	return 1;
}

static void check_answer(const struct sdp_session *o,
			 const struct sdp_session *a)
{
	size_t i;

	if (a->n_media != o->n_media || !a->ice_lite || a->n_bundle > a->n_media)
		abort();
	for (i = 0; i < a->n_media; i++) {
		const struct sdp_media *m = &a->media[i];

		if (strcmp(m->mid, o->media[i].mid) != 0 || m->kind != o->media[i].kind)
			abort();
		if (m->port == 0)
			continue;
		if (m->setup != SDP_SETUP_PASSIVE || !m->rtcp_mux ||
		    (m->dir != SDP_DIR_RECVONLY && m->dir != SDP_DIR_INACTIVE) ||
		    m->n_codecs < 1 || m->n_codecs > 2 || m->simulcast.send.n ||
		    (m->kind != SDP_KIND_AUDIO && m->kind != SDP_KIND_VIDEO))
			abort();
	}
	for (i = 0; i < a->n_bundle; i++) {
		const struct sdp_media *m = sdp_media_find(a, a->bundle[i]);

		if (!m || m->port == 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sdp_local local;

	if (!local.ice_ufrag[0]) {
		strcpy(local.ice_ufrag, "fuzz");
		strcpy(local.ice_pwd, "fuzzfuzzfuzzfuzzfuzzfuzz");
		strcpy(local.fingerprint.alg, "sha-256");
		local.fingerprint.len = 32;
		memset(local.fingerprint.bytes, 0x5a, 32);
		strcpy(local.hosts[0].addr, "192.0.2.1");
		local.hosts[0].port = 3478;
		strcpy(local.hosts[1].addr, "2001:db8::1");
		local.hosts[1].port = 3478;
		local.n_hosts = 2;
		local.sess_id = 1;
		local.sess_version = 1;
	}

	if (sdp_parse((const char *)data, size, &s1) != 0)
		return 0;
	reparse(&s1, &s2);

	if (sdp_answer_publish(&s1, &local, &ans) != 0)
		abort();
	check_answer(&s1, &ans);
	reparse(&ans, &ans2);
	return 0;
}
