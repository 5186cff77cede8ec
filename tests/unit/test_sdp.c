/* Unit tests for src/sdp: parsing browser SDP, writing it, the publish
 * answer policy, and the limits. Samples are in sdp_samples.h. */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "sdp/sdp.h"
#include "sdp_samples.h"

static struct sdp_session *new_session(void)
{
	return calloc(1, sizeof(struct sdp_session));
}

static int parse_str(const char *text, struct sdp_session *s)
{
	return sdp_parse(text, strlen(text), s);
}

/* parse(text) -> write -> parse again; the two structs must be equal. */
static int roundtrip(const struct sdp_session *s)
{
	struct sdp_session *t = new_session();
	struct wbuf b;
	int rc = -1;

	wbuf_init(&b, 0);
	if (!t || sdp_write(s, &b) != 0)
		goto out;
	if (sdp_parse(b.data, b.len, t) != 0) {
		fprintf(stderr, "    reparse failed at line %u: %s\n", t->err_line,
			t->err_msg);
		goto out;
	}
	rc = sdp_session_equal(s, t) ? 0 : -1;
out:
	wbuf_free(&b);
	free(t);
	return rc;
}

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\r' && p[n + 1] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

static void fill_local(struct sdp_local *l)
{
	memset(l, 0, sizeof(*l));
	strcpy(l->ice_ufrag, "srv1");
	strcpy(l->ice_pwd, "ServerIcePassword0123456");
	strcpy(l->fingerprint.alg, "sha-256");
	for (size_t i = 0; i < 32; i++)
		l->fingerprint.bytes[i] = (uint8_t)(0xA0 + i);
	l->fingerprint.len = 32;
	strcpy(l->hosts[0].addr, "198.51.100.7");
	l->hosts[0].port = 40000;
	strcpy(l->hosts[1].addr, "2001:db8::7");
	l->hosts[1].port = 40000;
	l->n_hosts = 2;
	l->sess_id = 7000000000000000001ull;
	l->sess_version = 1;
}

/* ---- parsing ------------------------------------------------------------- */

int test_sdp_parse_chrome_offer(void)
{
	struct sdp_session *s = new_session();
	const struct sdp_media *a, *v, *d;
	const struct sdp_codec *k;
	const struct sdp_candidate *c;
	unsigned char fp[32];
	char val[64];

	TEST_ASSERT(s);
	TEST_EQ(parse_str(sdp_chrome_offer, s), 0);
	TEST_ASSERT(strcmp(s->origin_user, "-") == 0);
	TEST_ASSERT(s->sess_id == 4611731400430051336ull);
	TEST_EQ(s->sess_version, 2);
	TEST_EQ(s->n_bundle, 3);
	TEST_ASSERT(strcmp(s->bundle[0], "0") == 0 &&
		    strcmp(s->bundle[2], "2") == 0);
	TEST_ASSERT(s->extmap_allow_mixed && s->msid_semantic && !s->ice_lite);
	TEST_EQ(s->n_media, 3);

	a = &s->media[0];
	TEST_EQ(a->kind, SDP_KIND_AUDIO);
	TEST_EQ(a->port, 9);
	TEST_ASSERT(strcmp(a->proto, "UDP/TLS/RTP/SAVPF") == 0);
	TEST_ASSERT(strcmp(a->mid, "0") == 0);
	TEST_EQ(a->dir, SDP_DIR_SENDONLY);
	TEST_ASSERT(a->rtcp_mux && a->rtcp_rsize);
	TEST_ASSERT(strcmp(a->ice.ufrag, "Xq3b") == 0);
	TEST_ASSERT(strcmp(a->ice.pwd, "8vKq0mYk3tQ9rLw2dZ5nPj1s") == 0);
	TEST_ASSERT(strcmp(a->ice.options, "trickle") == 0);
	TEST_ASSERT(strcmp(a->fingerprint.alg, "sha-256") == 0);
	TEST_EQ(a->fingerprint.len, 32);
	TEST_EQ(test_hex("5E0A71C29B3D44F81E67A0B52CD98310"
			 "F46B9E2755C80DA3BE7139E24F861ACD", fp, sizeof(fp)), 32);
	TEST_MEMEQ(a->fingerprint.bytes, fp, 32);
	TEST_EQ(a->setup, SDP_SETUP_ACTPASS);
	TEST_EQ(a->n_codecs, 8);
	k = &a->codecs[0];
	TEST_EQ(k->pt, 111);
	TEST_ASSERT(strcmp(k->name, "opus") == 0);
	TEST_EQ(k->clock, 48000);
	TEST_EQ(k->channels, 2);
	TEST_EQ(k->fb, SDP_FB_TRANSPORT_CC);
	TEST_ASSERT(strcmp(k->fmtp, "minptime=10;useinbandfec=1") == 0);
	k = sdp_codec_find(a, 0);
	TEST_ASSERT(k && strcmp(k->name, "PCMU") == 0 && k->clock == 8000 &&
		    k->channels == 0 && k->fmtp[0] == '\0');
	TEST_ASSERT(strcmp(sdp_codec_find(a, 63)->fmtp, "111/111") == 0);
	TEST_EQ(a->n_extmaps, 4);
	TEST_EQ(a->extmaps[0].id, 1);
	TEST_EQ(a->extmaps[0].dir, SDP_DIR_NONE);
	TEST_ASSERT(strcmp(a->extmaps[0].uri, SDP_EXT_AUDIO_LEVEL) == 0);
	TEST_EQ(sdp_extmap_find(a, SDP_EXT_TWCC), 3);
	TEST_EQ(sdp_extmap_find(a, SDP_EXT_MID), 4);
	TEST_EQ(sdp_extmap_find(a, SDP_EXT_RID), -ENOENT);
	TEST_EQ(a->n_msids, 1);
	TEST_ASSERT(strcmp(a->msids[0].stream,
			   "3f1c7a52-8e0b-4d6a-9b5e-2c7d1e4f8a60") == 0);
	TEST_ASSERT(strcmp(a->msids[0].track,
			   "9a0e4b7c-1d2f-4e3a-8b6c-5d7e9f0a1b2c") == 0);
	TEST_EQ(a->n_ssrcs, 1);
	TEST_EQ(a->ssrcs[0].ssrc, 1744185830u);
	TEST_ASSERT(strcmp(a->ssrcs[0].cname, "Tx3tG4nXmH1vZ8kQ") == 0);
	TEST_ASSERT(strcmp(a->ssrcs[0].msid_stream, a->msids[0].stream) == 0);
	TEST_ASSERT(strcmp(a->ssrcs[0].msid_track, a->msids[0].track) == 0);

	/* candidates: host, mDNS host, tcp active, srflx */
	TEST_EQ(a->n_candidates, 4);
	TEST_EQ(a->n_candidates_seen, 4);
	TEST_ASSERT(!a->end_of_candidates);
	c = &a->candidates[0];
	TEST_ASSERT(strcmp(c->foundation, "1467250027") == 0);
	TEST_EQ(c->component, 1);
	TEST_ASSERT(strcmp(c->transport, "udp") == 0);
	TEST_EQ(c->priority, 2122260223u);
	TEST_ASSERT(strcmp(c->addr, "192.168.1.23") == 0);
	TEST_EQ(c->port, 51243);
	TEST_EQ(c->type, SDP_CAND_HOST);
	TEST_EQ(c->tcptype, SDP_TCP_NONE);
	TEST_ASSERT(c->raddr[0] == '\0' && c->rport == 0);
	TEST_ASSERT(strcmp(a->candidates[1].addr,
			   "3c4d1a50-0b6f-4a4e-a1f2-9c3b0a5b7f1e.local") == 0);
	TEST_EQ(a->candidates[2].tcptype, SDP_TCP_ACTIVE);
	TEST_EQ(a->candidates[2].port, 9);
	c = &a->candidates[3];
	TEST_EQ(c->type, SDP_CAND_SRFLX);
	TEST_ASSERT(strcmp(c->raddr, "192.168.1.23") == 0 && c->rport == 51243);

	v = &s->media[1];
	TEST_EQ(v->kind, SDP_KIND_VIDEO);
	TEST_ASSERT(strcmp(v->mid, "1") == 0);
	TEST_EQ(v->dir, SDP_DIR_SENDONLY);
	TEST_EQ(v->n_codecs, 25);
	TEST_EQ(v->codecs[0].pt, 96);
	TEST_ASSERT(strcmp(v->codecs[0].name, "VP8") == 0);
	TEST_EQ(v->codecs[0].fb, SDP_FB_ALLOWED);
	TEST_EQ(v->codecs[1].pt, 97);
	TEST_EQ(v->codecs[1].fb, 0);
	TEST_EQ(sdp_codec_rtx(v, 96), 97);
	TEST_EQ(sdp_codec_rtx(v, 45), 46);
	TEST_EQ(sdp_codec_rtx(v, 118), -ENOENT);
	TEST_EQ(v->codecs[14].pt, 45);
	TEST_ASSERT(strcmp(v->codecs[14].name, "AV1") == 0);
	k = sdp_codec_find(v, 106);
	TEST_ASSERT(k && strcmp(k->name, "H264") == 0);
	TEST_EQ(sdp_fmtp_get(k->fmtp, "profile-level-id", val, sizeof(val)), 0);
	TEST_ASSERT(strcmp(val, "42e01f") == 0);
	TEST_EQ(v->n_extmaps, 12);
	TEST_EQ(sdp_extmap_find(v, SDP_EXT_RID), 10);
	TEST_EQ(sdp_extmap_find(v, SDP_EXT_RRID), 11);
	TEST_EQ(sdp_extmap_find(v, SDP_EXT_DEPENDENCY_DESCRIPTOR), 9);
	TEST_EQ(v->n_rids, 3);
	TEST_ASSERT(strcmp(v->rids[0].id, "q") == 0 && v->rids[0].dir == SDP_RID_SEND &&
		    v->rids[0].params[0] == '\0');
	TEST_ASSERT(strcmp(v->rids[2].id, "f") == 0);
	TEST_EQ(v->simulcast.send.n, 3);
	TEST_EQ(v->simulcast.recv.n, 0);
	TEST_EQ(v->simulcast.send.streams[1].n_alt, 1);
	TEST_ASSERT(strcmp(v->simulcast.send.streams[1].alt[0].rid, "h") == 0);
	TEST_ASSERT(!v->simulcast.send.streams[1].alt[0].paused);
	TEST_EQ(v->n_ssrcs, 0);
	TEST_EQ(v->n_candidates, 0);

	d = &s->media[2];
	TEST_EQ(d->kind, SDP_KIND_APPLICATION);
	TEST_ASSERT(strcmp(d->proto, "UDP/DTLS/SCTP") == 0);
	TEST_ASSERT(strcmp(d->fmt, "webrtc-datachannel") == 0);
	TEST_ASSERT(!sdp_media_is_rtp(d) && sdp_media_is_rtp(v));
	TEST_EQ(d->n_codecs, 0);
	TEST_EQ(d->dir, SDP_DIR_SENDRECV);
	TEST_ASSERT(strcmp(d->mid, "2") == 0);
	TEST_ASSERT(sdp_media_find(s, "2") == d && !sdp_media_find(s, "9"));
	free(s);
	return 0;
}

int test_sdp_parse_firefox_offer(void)
{
	struct sdp_session *s = new_session();
	const struct sdp_media *a, *v;
	unsigned char fp[32];

	TEST_ASSERT(s);
	TEST_EQ(parse_str(sdp_firefox_offer, s), 0);
	TEST_ASSERT(strcmp(s->origin_user, "mozilla...THIS_IS_SDPARTA-99.0") == 0);
	TEST_ASSERT(s->sess_id == 5132475950233547429ull);
	TEST_EQ(s->sess_version, 0);
	TEST_ASSERT(s->msid_semantic);
	TEST_ASSERT(!s->extmap_allow_mixed);
	/* session-level fingerprint and ice-options, resolved into media */
	TEST_EQ(s->fingerprint.len, 32);
	TEST_ASSERT(strcmp(s->ice.options, "trickle") == 0);
	TEST_EQ(test_hex("A1B2C3D4E5F60718293A4B5C6D7E8F90"
			 "0112233445566778899AABBCCDDEEFF0", fp, sizeof(fp)), 32);
	TEST_EQ(s->n_media, 2);
	a = &s->media[0];
	v = &s->media[1];
	TEST_EQ(a->fingerprint.len, 32);
	TEST_MEMEQ(a->fingerprint.bytes, fp, 32);
	TEST_MEMEQ(v->fingerprint.bytes, fp, 32);
	TEST_ASSERT(strcmp(v->ice.options, "trickle") == 0);
	TEST_ASSERT(strcmp(a->ice.ufrag, "6a0c3e1f") == 0);
	TEST_ASSERT(strcmp(a->ice.pwd, "1f7b2c9e04d83a56b7e1c0f2a9d4b6e8") == 0);
	TEST_EQ(a->setup, SDP_SETUP_ACTPASS);
	TEST_EQ(a->dir, SDP_DIR_SENDONLY);
	TEST_ASSERT(a->rtcp_mux && !a->rtcp_rsize);
	TEST_EQ(a->n_codecs, 5);
	TEST_ASSERT(strcmp(a->codecs[0].name, "opus") == 0);
	TEST_ASSERT(strcmp(a->codecs[0].fmtp,
			   "maxplaybackrate=48000;stereo=1;useinbandfec=1") == 0);
	TEST_EQ(a->codecs[1].channels, 1);  /* G722/8000/1 */
	TEST_ASSERT(strcmp(sdp_codec_find(a, 101)->fmtp, "0-15") == 0);
	TEST_EQ(a->n_extmaps, 3);
	TEST_EQ(a->extmaps[1].dir, SDP_DIR_RECVONLY);
	TEST_EQ(a->n_ssrcs, 1);
	TEST_ASSERT(strcmp(a->ssrcs[0].cname,
			   "{8a5c1d3e-2f4b-4a6c-9d0e-7b1f3a5c7e9d}") == 0);
	TEST_ASSERT(a->ssrcs[0].msid_stream[0] == '\0');
	TEST_ASSERT(strcmp(a->msids[0].stream,
			   "{5d2e8a41-7c3b-4f90-b1e6-0a9c2d7f4e13}") == 0);

	/* rtcp-fb and fmtp came before rtpmap */
	TEST_EQ(v->n_codecs, 8);
	TEST_EQ(v->codecs[0].pt, 120);
	TEST_ASSERT(strcmp(v->codecs[0].name, "VP8") == 0);
	TEST_EQ(v->codecs[0].fb, SDP_FB_ALLOWED);
	TEST_ASSERT(strcmp(v->codecs[0].fmtp, "max-fs=12288;max-fr=60") == 0);
	TEST_EQ(sdp_codec_rtx(v, 120), 124);
	TEST_EQ(sdp_codec_rtx(v, 97), 98);
	TEST_EQ(v->extmaps[3].dir, SDP_DIR_RECVONLY);
	TEST_EQ(v->n_rids, 3);
	TEST_ASSERT(strcmp(v->rids[0].params, "max-width=1280;max-height=720") == 0);
	TEST_EQ(v->simulcast.send.n, 3);
	TEST_ASSERT(v->simulcast.send.streams[2].alt[0].paused);
	TEST_ASSERT(strcmp(v->simulcast.send.streams[2].alt[0].rid, "l") == 0);
	TEST_EQ(v->n_ssrcs, 2);
	TEST_EQ(v->n_ssrc_groups, 1);
	TEST_EQ(v->ssrc_groups[0].sem, SDP_SSRC_FID);
	TEST_EQ(v->ssrc_groups[0].n, 2);
	TEST_EQ(v->ssrc_groups[0].ssrcs[0], 3151934187u);
	TEST_EQ(v->ssrc_groups[0].ssrcs[1], 1272637745u);
	free(s);
	return 0;
}

int test_sdp_parse_chrome_answer(void)
{
	struct sdp_session *s = new_session();
	const struct sdp_media *a, *v;

	TEST_ASSERT(s);
	TEST_EQ(parse_str(sdp_chrome_answer, s), 0);
	TEST_EQ(s->n_media, 2);
	TEST_EQ(s->n_bundle, 2);
	TEST_ASSERT(s->msid_semantic);
	a = &s->media[0];
	v = &s->media[1];
	TEST_EQ(a->setup, SDP_SETUP_ACTIVE);
	TEST_EQ(v->setup, SDP_SETUP_ACTIVE);
	TEST_EQ(a->dir, SDP_DIR_RECVONLY);
	TEST_EQ(v->dir, SDP_DIR_RECVONLY);
	TEST_ASSERT(strcmp(v->ice.ufrag, "u7Rn") == 0);
	TEST_EQ(a->n_codecs, 1);
	TEST_EQ(v->n_codecs, 2);
	TEST_EQ(sdp_codec_rtx(v, 96), 97);
	TEST_EQ(v->n_ssrcs, 0);
	TEST_EQ(v->n_msids, 0);
	TEST_EQ(sdp_extmap_find(v, SDP_EXT_TWCC), 3);
	free(s);
	return 0;
}

int test_sdp_parse_edge_cases(void)
{
	struct sdp_session *s = new_session();
	const struct sdp_media *v, *b, *t;

	TEST_ASSERT(s);
	TEST_EQ(parse_str(sdp_edge_valid, s), 0);
	TEST_ASSERT(s->ice_lite && s->end_of_candidates);
	TEST_EQ(s->n_bundle, 1);
	TEST_EQ(s->dir, SDP_DIR_INACTIVE);
	TEST_EQ(s->n_media, 3);
	v = &s->media[0];
	b = &s->media[1];
	t = &s->media[2];
	/* session-level ICE/fingerprint/setup/direction fall through */
	TEST_ASSERT(strcmp(v->ice.ufrag, "abcd") == 0);
	TEST_ASSERT(strcmp(v->fingerprint.alg, "sha-1") == 0);
	TEST_EQ(v->fingerprint.len, 20);
	TEST_EQ(v->fingerprint.bytes[10], 0xaa);
	TEST_EQ(v->setup, SDP_SETUP_ACTIVE);
	TEST_EQ(v->dir, SDP_DIR_INACTIVE);
	TEST_EQ(v->port, 7000);
	TEST_ASSERT(v->extmap_allow_mixed);
	TEST_EQ(v->extmaps[0].id, 200);
	TEST_EQ(v->extmaps[0].dir, SDP_DIR_SENDONLY);
	/* wildcard nack applied to both; unknown fb ignored */
	TEST_EQ(v->codecs[0].fb, SDP_FB_NACK | SDP_FB_NACK_PLI);
	TEST_EQ(v->codecs[1].fb, SDP_FB_NACK);
	TEST_ASSERT(strcmp(v->rids[0].params, "pt=96;max-fps=30") == 0);
	TEST_EQ(v->rids[2].dir, SDP_RID_RECV);
	TEST_EQ(v->simulcast.recv.n, 1);
	TEST_EQ(v->simulcast.send.n, 1);
	TEST_EQ(v->simulcast.send.streams[0].n_alt, 2);
	TEST_ASSERT(!v->simulcast.send.streams[0].alt[0].paused);
	TEST_ASSERT(v->simulcast.send.streams[0].alt[1].paused);
	TEST_EQ(v->ssrc_groups[0].sem, SDP_SSRC_SIM);
	TEST_EQ(v->ssrc_groups[0].n, 3);
	TEST_EQ(v->n_ssrcs, 2);
	TEST_ASSERT(strcmp(v->ssrcs[1].msid_stream, "stream") == 0 &&
		    v->ssrcs[1].msid_track[0] == '\0');
	TEST_ASSERT(strcmp(v->msids[0].stream, "-") == 0);
	TEST_EQ(v->n_candidates, 2);
	TEST_ASSERT(strcmp(v->candidates[0].transport, "UDP") == 0);
	TEST_EQ(v->candidates[0].type, SDP_CAND_RELAY);
	TEST_ASSERT(strcmp(v->candidates[0].raddr, "0.0.0.0") == 0);
	TEST_EQ(v->candidates[1].component, 2);
	TEST_EQ(v->candidates[1].tcptype, SDP_TCP_SO);
	TEST_EQ(b->port, 0);
	TEST_EQ(b->dir, SDP_DIR_INACTIVE);
	TEST_EQ(t->kind, SDP_KIND_OTHER);
	TEST_ASSERT(strcmp(t->kind_name, "text") == 0);
	TEST_EQ(t->dir, SDP_DIR_SENDONLY);
	TEST_EQ(t->codecs[0].clock, 1000);
	TEST_EQ(roundtrip(s), 0);
	free(s);
	return 0;
}

int test_sdp_line_endings(void)
{
	struct sdp_session *a = new_session(), *b = new_session();
	char *lf = malloc(sizeof(sdp_chrome_offer));
	size_t i, n = 0;

	TEST_ASSERT(a && b && lf);
	for (i = 0; sdp_chrome_offer[i]; i++)
		if (sdp_chrome_offer[i] != '\r')
			lf[n++] = sdp_chrome_offer[i];
	TEST_EQ(sdp_parse(lf, n, a), 0);
	TEST_EQ(parse_str(sdp_chrome_offer, b), 0);
	TEST_ASSERT(sdp_session_equal(a, b));
	/* no final line end */
	TEST_EQ(sdp_parse(lf, n - 1, a), 0);
	TEST_ASSERT(sdp_session_equal(a, b));
	free(lf);
	free(a);
	free(b);
	return 0;
}

int test_sdp_fmtp_lookup(void)
{
	const char *f = "level-asymmetry-allowed=1; packetization-mode=1 ;"
			"Profile-Level-Id=42e01f;flag";
	char v[8];
	uint32_t u;

	TEST_EQ(sdp_fmtp_get(f, "profile-level-id", v, sizeof(v)), 0);
	TEST_ASSERT(strcmp(v, "42e01f") == 0);
	TEST_EQ(sdp_fmtp_get(f, "packetization-mode", v, sizeof(v)), 0);
	TEST_ASSERT(strcmp(v, "1") == 0);
	TEST_EQ(sdp_fmtp_get(f, "profile-level-id", v, 6), -E2BIG);
	TEST_EQ(sdp_fmtp_get(f, "flag", v, sizeof(v)), -ENOENT);
	TEST_EQ(sdp_fmtp_get(f, "mode", v, sizeof(v)), -ENOENT);
	TEST_EQ(sdp_fmtp_get("", "apt", v, sizeof(v)), -ENOENT);
	TEST_EQ(sdp_fmtp_uint(f, "level-asymmetry-allowed", &u), 0);
	TEST_EQ(u, 1);
	TEST_EQ(sdp_fmtp_uint("apt=96", "apt", &u), 0);
	TEST_EQ(u, 96);
	TEST_EQ(sdp_fmtp_uint(f, "profile-level-id", &u), -EBADMSG);
	TEST_EQ(sdp_fmtp_uint("apt=99999999999", "apt", &u), -EBADMSG);
	TEST_EQ(sdp_fmtp_uint("apt=", "apt", &u), -EBADMSG);
	TEST_EQ(sdp_fmtp_uint("x=1", "apt", &u), -ENOENT);
	return 0;
}

/* ---- the answer policy --------------------------------------------------- */

int test_sdp_answer_chrome(void)
{
	struct sdp_session *o = new_session(), *a = new_session();
	struct sdp_local l;
	const struct sdp_media *aa, *av, *ad;
	struct wbuf b;

	TEST_ASSERT(o && a);
	fill_local(&l);
	TEST_EQ(parse_str(sdp_chrome_offer, o), 0);
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);

	TEST_ASSERT(a->ice_lite && a->msid_semantic && a->extmap_allow_mixed);
	TEST_ASSERT(a->sess_id == l.sess_id);
	TEST_EQ(a->n_media, 3);
	TEST_EQ(a->n_bundle, 2);
	TEST_ASSERT(strcmp(a->bundle[0], "0") == 0 &&
		    strcmp(a->bundle[1], "1") == 0);

	aa = &a->media[0];
	TEST_EQ(aa->port, 9);
	TEST_ASSERT(strcmp(aa->mid, "0") == 0);
	TEST_EQ(aa->dir, SDP_DIR_RECVONLY);
	TEST_EQ(aa->setup, SDP_SETUP_PASSIVE);
	TEST_ASSERT(aa->rtcp_mux && aa->rtcp_rsize);
	TEST_ASSERT(strcmp(aa->ice.ufrag, "srv1") == 0);
	TEST_ASSERT(strcmp(aa->ice.pwd, l.ice_pwd) == 0);
	TEST_EQ(aa->fingerprint.len, 32);
	TEST_MEMEQ(aa->fingerprint.bytes, l.fingerprint.bytes, 32);
	TEST_EQ(aa->n_codecs, 1);
	TEST_EQ(aa->codecs[0].pt, 111);
	TEST_ASSERT(strcmp(aa->codecs[0].fmtp, "minptime=10;useinbandfec=1") == 0);
	TEST_EQ(aa->codecs[0].fb, SDP_FB_TRANSPORT_CC);
	TEST_EQ(aa->n_extmaps, 4);  /* all four are allowed, ids kept */
	TEST_EQ(sdp_extmap_find(aa, SDP_EXT_AUDIO_LEVEL), 1);
	TEST_EQ(sdp_extmap_find(aa, SDP_EXT_ABS_SEND_TIME), 2);
	TEST_EQ(sdp_extmap_find(aa, SDP_EXT_TWCC), 3);
	TEST_EQ(sdp_extmap_find(aa, SDP_EXT_MID), 4);
	TEST_EQ(aa->n_ssrcs, 0);
	TEST_EQ(aa->n_msids, 0);
	TEST_EQ(aa->n_candidates, 2);
	TEST_ASSERT(aa->end_of_candidates);
	TEST_ASSERT(strcmp(aa->candidates[0].addr, "198.51.100.7") == 0);
	TEST_EQ(aa->candidates[0].port, 40000);
	TEST_EQ(aa->candidates[0].priority, 2130706431u);
	TEST_EQ(aa->candidates[1].priority, 2130706175u);
	TEST_ASSERT(strcmp(aa->candidates[1].foundation, "2") == 0);

	av = &a->media[1];
	TEST_EQ(av->dir, SDP_DIR_RECVONLY);
	TEST_EQ(av->n_codecs, 2);
	TEST_EQ(av->codecs[0].pt, 96);
	TEST_ASSERT(strcmp(av->codecs[0].name, "VP8") == 0);
	TEST_EQ(av->codecs[0].fb, SDP_FB_ALLOWED);
	TEST_EQ(av->codecs[1].pt, 97);
	TEST_ASSERT(strcmp(av->codecs[1].fmtp, "apt=96") == 0);
	/* extmaps: allowed ones only, with the offer's ids */
	TEST_EQ(av->n_extmaps, 6);
	TEST_EQ(sdp_extmap_find(av, SDP_EXT_ABS_SEND_TIME), 2);
	TEST_EQ(sdp_extmap_find(av, SDP_EXT_TWCC), 3);
	TEST_EQ(sdp_extmap_find(av, SDP_EXT_MID), 4);
	TEST_EQ(sdp_extmap_find(av, SDP_EXT_RID), 10);
	TEST_EQ(sdp_extmap_find(av, SDP_EXT_RRID), 11);
	TEST_EQ(sdp_extmap_find(av, SDP_EXT_DEPENDENCY_DESCRIPTOR), 9);
	TEST_EQ(sdp_extmap_find(av, "urn:ietf:params:rtp-hdrext:toffset"), -ENOENT);
	/* simulcast flipped */
	TEST_EQ(av->n_rids, 3);
	for (size_t i = 0; i < 3; i++) {
		TEST_EQ(av->rids[i].dir, SDP_RID_RECV);
		TEST_ASSERT(strcmp(av->rids[i].id, o->media[1].rids[i].id) == 0);
	}
	TEST_EQ(av->simulcast.send.n, 0);
	TEST_EQ(av->simulcast.recv.n, 3);
	TEST_ASSERT(strcmp(av->simulcast.recv.streams[0].alt[0].rid, "q") == 0);
	TEST_ASSERT(strcmp(av->simulcast.recv.streams[2].alt[0].rid, "f") == 0);

	ad = &a->media[2];
	TEST_EQ(ad->kind, SDP_KIND_APPLICATION);
	TEST_EQ(ad->port, 0);
	TEST_ASSERT(strcmp(ad->mid, "2") == 0);
	TEST_ASSERT(strcmp(ad->fmt, "webrtc-datachannel") == 0);
	TEST_EQ(ad->n_candidates, 0);

	/* the text */
	wbuf_init(&b, 0);
	TEST_EQ(sdp_write(a, &b), 0);
	TEST_ASSERT(strncmp(b.data, "v=0\r\no=- 7000000000000000001 1 IN IP4 ", 37) == 0);
	TEST_ASSERT(has_line(b.data, "s=-"));
	TEST_ASSERT(has_line(b.data, "t=0 0"));
	TEST_ASSERT(has_line(b.data, "a=group:BUNDLE 0 1"));
	TEST_ASSERT(has_line(b.data, "a=ice-lite"));
	TEST_ASSERT(has_line(b.data, "a=msid-semantic: WMS *"));
	TEST_ASSERT(has_line(b.data, "m=audio 9 UDP/TLS/RTP/SAVPF 111"));
	TEST_ASSERT(has_line(b.data, "m=video 9 UDP/TLS/RTP/SAVPF 96 97"));
	TEST_ASSERT(has_line(b.data, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"));
	TEST_ASSERT(has_line(b.data, "c=IN IP4 0.0.0.0"));
	TEST_ASSERT(has_line(b.data, "a=setup:passive"));
	TEST_ASSERT(has_line(b.data, "a=recvonly"));
	TEST_ASSERT(has_line(b.data, "a=ice-ufrag:srv1"));
	TEST_ASSERT(has_line(b.data, "a=fingerprint:sha-256 A0:A1:A2:A3:A4:A5:A6:A7:"
				     "A8:A9:AA:AB:AC:AD:AE:AF:B0:B1:B2:B3:B4:B5:B6:B7:"
				     "B8:B9:BA:BB:BC:BD:BE:BF"));
	TEST_ASSERT(has_line(b.data, "a=rtpmap:96 VP8/90000"));
	TEST_ASSERT(has_line(b.data, "a=rtcp-fb:96 nack pli"));
	TEST_ASSERT(has_line(b.data, "a=fmtp:97 apt=96"));
	TEST_ASSERT(has_line(b.data, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
	TEST_ASSERT(has_line(b.data, "a=rid:q recv"));
	TEST_ASSERT(has_line(b.data, "a=simulcast:recv q;h;f"));
	TEST_ASSERT(has_line(b.data, "a=candidate:1 1 udp 2130706431 198.51.100.7 40000 typ host"));
	TEST_ASSERT(has_line(b.data, "a=candidate:2 1 udp 2130706175 2001:db8::7 40000 typ host"));
	TEST_ASSERT(has_line(b.data, "a=end-of-candidates"));
	TEST_ASSERT(!strstr(b.data, "a=rtcp:"));
	TEST_ASSERT(!strstr(b.data, "a=sendonly"));
	TEST_ASSERT(!strstr(b.data, "toffset"));
	TEST_ASSERT(!strstr(b.data, "H264"));
	wbuf_free(&b);
	TEST_EQ(roundtrip(a), 0);
	free(o);
	free(a);
	return 0;
}

int test_sdp_answer_firefox(void)
{
	struct sdp_session *o = new_session(), *a = new_session();
	struct sdp_local l;
	const struct sdp_media *av;

	TEST_ASSERT(o && a);
	fill_local(&l);
	TEST_EQ(parse_str(sdp_firefox_offer, o), 0);
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->n_bundle, 2);
	TEST_ASSERT(!a->extmap_allow_mixed);
	TEST_EQ(a->media[0].codecs[0].pt, 109);
	TEST_ASSERT(strcmp(a->media[0].codecs[0].fmtp,
			   "maxplaybackrate=48000;stereo=1;useinbandfec=1") == 0);
	/* csrc-audio-level is not allowed */
	TEST_EQ(a->media[0].n_extmaps, 2);
	av = &a->media[1];
	TEST_EQ(av->n_codecs, 2);
	TEST_EQ(av->codecs[0].pt, 120);
	TEST_EQ(av->codecs[1].pt, 124);
	TEST_EQ(sdp_extmap_find(av, SDP_EXT_TWCC), 7);
	TEST_EQ(av->n_extmaps, 5);
	/* rid restrictions dropped, paused flag cleared */
	TEST_EQ(av->n_rids, 3);
	TEST_ASSERT(av->rids[0].params[0] == '\0');
	TEST_EQ(av->simulcast.recv.n, 3);
	TEST_ASSERT(!av->simulcast.recv.streams[2].alt[0].paused);
	TEST_EQ(av->n_ssrcs, 0);
	TEST_EQ(av->n_ssrc_groups, 0);
	TEST_EQ(roundtrip(a), 0);
	free(o);
	free(a);
	return 0;
}

static void drop_codec(struct sdp_media *m, unsigned pt)
{
	for (size_t i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt) {
			memmove(&m->codecs[i], &m->codecs[i + 1],
				(m->n_codecs - i - 1) * sizeof(m->codecs[0]));
			m->n_codecs--;
			return;
		}
}

int test_sdp_answer_prefs(void)
{
	static const struct sdp_codec_pref h264_only[] = {
		{ "H264", 90000, 0, { { "packetization-mode", "1", "0" },
				      { "profile-level-id", "42e01f", "420010" } } },
	};
	static const struct sdp_codec_pref av1_only[] = {
		{ "AV1", 90000, 0, { { "profile", "0", "0" } } },
	};
	static const struct sdp_codec_pref vp9_p2[] = {
		{ "VP9", 90000, 0, { { "profile-id", "2", "0" } } },
	};
	struct sdp_session *o = new_session(), *a = new_session();
	struct sdp_local l;

	TEST_ASSERT(o && a);
	fill_local(&l);
	TEST_EQ(parse_str(sdp_chrome_offer, o), 0);

	l.video_prefs = h264_only;
	l.video_prefs_count = 1;
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[1].n_codecs, 2);
	TEST_EQ(a->media[1].codecs[0].pt, 106);
	TEST_ASSERT(strcmp(a->media[1].codecs[0].fmtp,
			   "level-asymmetry-allowed=1;packetization-mode=1;"
			   "profile-level-id=42e01f") == 0);
	TEST_EQ(a->media[1].codecs[1].pt, 107);

	l.video_prefs = av1_only;
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[1].codecs[0].pt, 45);
	TEST_EQ(a->media[1].codecs[1].pt, 46);

	l.video_prefs = vp9_p2;
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[1].codecs[0].pt, 100);

	/* an empty table: video rejected, audio still accepted */
	l.video_prefs = h264_only;
	l.video_prefs_count = 0;
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[1].port, 0);
	TEST_EQ(a->media[1].n_codecs, 1);
	TEST_EQ(a->media[1].dir, SDP_DIR_INACTIVE);
	TEST_EQ(a->n_bundle, 1);

	/* default table without VP8 in the offer: VP9 profile 0 next; its
	 * RTX, if gone, is simply not added */
	l.video_prefs = NULL;
	drop_codec(&o->media[1], 96);
	drop_codec(&o->media[1], 99);
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[1].codecs[0].pt, 98);
	TEST_EQ(a->media[1].n_codecs, 1);
	/* without VP9 either: H264 42e01f pm=1, not 42001f which comes first
	 * in the offer */
	drop_codec(&o->media[1], 98);
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[1].codecs[0].pt, 106);
	free(o);
	free(a);
	return 0;
}

int test_sdp_answer_rejects(void)
{
	struct sdp_session *o = new_session(), *a = new_session();
	struct sdp_local l, bad;

	TEST_ASSERT(o && a);
	fill_local(&l);
	TEST_EQ(parse_str(sdp_chrome_offer, o), 0);

	/* no rtcp-mux on video */
	o->media[1].rtcp_mux = false;
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[0].port, 9);
	TEST_EQ(a->media[1].port, 0);
	TEST_ASSERT(strcmp(a->media[1].mid, "1") == 0);
	TEST_EQ(a->media[1].codecs[0].pt, 96);
	TEST_EQ(a->media[1].n_rids, 0);
	TEST_EQ(roundtrip(a), 0);
	o->media[1].rtcp_mux = true;

	/* the browser wants to be the DTLS server: not supported */
	o->media[0].setup = SDP_SETUP_PASSIVE;
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[0].port, 0);
	TEST_EQ(a->n_bundle, 1);
	TEST_ASSERT(strcmp(a->bundle[0], "1") == 0);
	o->media[0].setup = SDP_SETUP_ACTPASS;

	/* not bundled */
	o->n_bundle = 0;
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[0].port, 0);
	TEST_EQ(a->media[1].port, 0);
	TEST_EQ(a->n_bundle, 0);
	TEST_EQ(roundtrip(a), 0);
	o->n_bundle = 3;

	/* inactive from the browser: accepted, inactive */
	o->media[1].dir = SDP_DIR_INACTIVE;
	TEST_EQ(sdp_answer_publish(o, &l, a), 0);
	TEST_EQ(a->media[1].port, 9);
	TEST_EQ(a->media[1].dir, SDP_DIR_INACTIVE);

	/* an unusable local description leaves the answer alone */
	a->sess_id = 42;
	bad = l;
	bad.fingerprint.len = 0;
	TEST_EQ(sdp_answer_publish(o, &bad, a), -EINVAL);
	bad = l;
	strcpy(bad.ice_ufrag, "ab:c");
	TEST_EQ(sdp_answer_publish(o, &bad, a), -EINVAL);
	bad = l;
	strcpy(bad.ice_pwd, "short");
	TEST_EQ(sdp_answer_publish(o, &bad, a), -EINVAL);
	bad = l;
	strcpy(bad.hosts[0].addr, "1.2.3.4\r\na=x");
	TEST_EQ(sdp_answer_publish(o, &bad, a), -EINVAL);
	bad = l;
	bad.n_hosts = SDP_LOCAL_MAX_HOSTS + 1;
	TEST_EQ(sdp_answer_publish(o, &bad, a), -EINVAL);
	TEST_EQ(a->sess_id, 42);
	free(o);
	free(a);
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

int test_sdp_roundtrip(void)
{
	/* a data m-line's explicit sendrecv under a session-level inactive
	 * must be written out (found by fuzz_sdp) */
	static const char app_dir[] =
		"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=inactive\r\n"
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sendrecv\r\n";
	const char *samples[] = { sdp_chrome_offer, sdp_firefox_offer,
				  sdp_chrome_answer, sdp_edge_valid, app_dir };
	struct sdp_session *s = new_session();

	TEST_ASSERT(s);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		TEST_EQ(parse_str(samples[i], s), 0);
		TEST_EQ(roundtrip(s), 0);
	}
	free(s);
	return 0;
}

/* What the lead's subscribe-offer builder will do: a sendonly audio and a
 * sendonly video with RTX, SSRCs the server chose, and a=msid. */
int test_sdp_subscribe_offer_build(void)
{
	struct sdp_session *s = new_session(), *t = new_session();
	struct sdp_media *m;
	struct sdp_local l;
	struct wbuf b;

	TEST_ASSERT(s && t);
	fill_local(&l);
	sdp_session_init(s);
	s->sess_id = 99;
	s->sess_version = 3;
	s->ice_lite = true;
	s->msid_semantic = true;
	strcpy(s->bundle[0], "0");
	strcpy(s->bundle[1], "1");
	s->n_bundle = 2;

	for (int k = 0; k < 2; k++) {
		m = sdp_media_add(s, k ? SDP_KIND_VIDEO : SDP_KIND_AUDIO);
		TEST_ASSERT(m);
		TEST_EQ(sdp_copy(m->mid, sizeof(m->mid), k ? "1" : "0"), 0);
		m->dir = SDP_DIR_SENDONLY;
		m->rtcp_rsize = true;
		memcpy(m->ice.ufrag, l.ice_ufrag, sizeof(l.ice_ufrag));
		memcpy(m->ice.pwd, l.ice_pwd, sizeof(l.ice_pwd));
		m->fingerprint = l.fingerprint;
		m->setup = SDP_SETUP_ACTPASS;
		TEST_EQ(sdp_candidate_host(&m->candidates[0], 0, "198.51.100.7",
					   40000), 0);
		m->n_candidates = 1;
		m->end_of_candidates = true;
		m->extmaps[0].id = 4;
		strcpy(m->extmaps[0].uri, SDP_EXT_MID);
		m->extmaps[1].id = 3;
		strcpy(m->extmaps[1].uri, SDP_EXT_TWCC);
		m->n_extmaps = 2;
		strcpy(m->msids[0].stream, "p7");
		strcpy(m->msids[0].track, k ? "p7-video" : "p7-audio");
		m->n_msids = 1;
	}
	m = &s->media[0];
	m->codecs[0] = (struct sdp_codec){ .pt = 111, .channels = 2,
					   .clock = 48000,
					   .fb = SDP_FB_TRANSPORT_CC,
					   .name = "opus",
					   .fmtp = "minptime=10;useinbandfec=1" };
	m->n_codecs = 1;
	m->ssrcs[0] = (struct sdp_ssrc){ .ssrc = 1111, .cname = "conclave-p7",
					 .msid_stream = "p7",
					 .msid_track = "p7-audio" };
	m->n_ssrcs = 1;

	m = &s->media[1];
	m->codecs[0] = (struct sdp_codec){ .pt = 96, .clock = 90000,
					   .fb = SDP_FB_ALLOWED, .name = "VP8" };
	m->codecs[1] = (struct sdp_codec){ .pt = 97, .clock = 90000,
					   .name = "rtx", .fmtp = "apt=96" };
	m->n_codecs = 2;
	m->ssrc_groups[0] = (struct sdp_ssrc_group){ .sem = SDP_SSRC_FID,
						     .ssrcs = { 2222, 3333 },
						     .n = 2 };
	m->n_ssrc_groups = 1;
	m->ssrcs[0] = (struct sdp_ssrc){ .ssrc = 2222, .cname = "conclave-p7",
					 .msid_stream = "p7",
					 .msid_track = "p7-video" };
	m->ssrcs[1] = (struct sdp_ssrc){ .ssrc = 3333, .cname = "conclave-p7",
					 .msid_stream = "p7",
					 .msid_track = "p7-video" };
	m->n_ssrcs = 2;

	wbuf_init(&b, 0);
	TEST_EQ(sdp_write(s, &b), 0);
	TEST_ASSERT(has_line(b.data, "o=- 99 3 IN IP4 127.0.0.1"));
	TEST_ASSERT(has_line(b.data, "m=video 9 UDP/TLS/RTP/SAVPF 96 97"));
	TEST_ASSERT(has_line(b.data, "a=sendonly"));
	TEST_ASSERT(has_line(b.data, "a=setup:actpass"));
	TEST_ASSERT(has_line(b.data, "a=msid:p7 p7-video"));
	TEST_ASSERT(has_line(b.data, "a=ssrc-group:FID 2222 3333"));
	TEST_ASSERT(has_line(b.data, "a=ssrc:2222 cname:conclave-p7"));
	TEST_ASSERT(has_line(b.data, "a=ssrc:3333 msid:p7 p7-video"));
	TEST_ASSERT(has_line(b.data, "a=rtpmap:97 rtx/90000"));
	TEST_ASSERT(has_line(b.data, "a=rtpmap:111 opus/48000/2"));
	TEST_ASSERT(has_line(b.data, "a=rtcp-mux"));
	TEST_EQ(sdp_parse(b.data, b.len, t), 0);
	TEST_ASSERT(sdp_session_equal(s, t));
	wbuf_free(&b);

	/* and the browser's answer to it */
	TEST_EQ(parse_str(sdp_chrome_answer, t), 0);
	TEST_EQ(t->media[1].setup, SDP_SETUP_ACTIVE);
	free(s);
	free(t);
	return 0;
}

int test_sdp_write_rejects(void)
{
	struct sdp_session *s = new_session();
	struct wbuf b;

	TEST_ASSERT(s);
	wbuf_init(&b, 0);
	TEST_EQ(parse_str(sdp_chrome_answer, s), 0);
	TEST_EQ(sdp_write(s, &b), 0);
	b.len = 0;

	/* a line break smuggled into a field */
	strcpy(s->media[0].mid, "0\r\na=x");
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	strcpy(s->media[0].mid, "0 1");
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	strcpy(s->media[0].mid, "0");
	strcpy(s->media[1].codecs[1].fmtp, "apt=96\n");
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	strcpy(s->media[1].codecs[1].fmtp, "apt=96");
	strcpy(s->media[1].ice.ufrag, "u7:n");
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	strcpy(s->media[1].ice.ufrag, "u7Rn");
	/* an unterminated field */
	memset(s->media[0].mid, 'x', sizeof(s->media[0].mid));
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	strcpy(s->media[0].mid, "0");
	/* counts over their arrays */
	s->media[1].n_codecs = SDP_MAX_CODECS + 1;
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	s->media[1].n_codecs = 0;  /* RTP needs a format */
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	s->media[1].n_codecs = 2;
	s->media[1].codecs[1].pt = 96;  /* duplicate */
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	s->media[1].codecs[1].pt = 97;
	s->n_media = SDP_MAX_MEDIA + 1;
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	s->n_media = 2;
	strcpy(s->media[0].fingerprint.alg, "SHA-256");
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	strcpy(s->media[0].fingerprint.alg, "sha-256");
	s->media[0].fingerprint.len = 20;
	TEST_EQ(sdp_write(s, &b), -EINVAL);
	s->media[0].fingerprint.len = 32;
	TEST_EQ(b.len, 0);
	TEST_EQ(sdp_write(s, &b), 0);
	wbuf_free(&b);

	/* an output buffer too small: the wbuf's error */
	wbuf_init(&b, 100);
	TEST_EQ(sdp_write(s, &b), -E2BIG);
	wbuf_free(&b);
	free(s);
	return 0;
}

/* A session whose text would exceed a parse limit is refused by the
 * writer, so what is written always parses. */
int test_sdp_write_limits(void)
{
	struct sdp_session *s = new_session(), *t = new_session();
	struct wbuf b;
	int rc;

	TEST_ASSERT(s && t);
	sdp_session_init(s);
	for (size_t i = 0; i < SDP_MAX_MEDIA; i++) {
		struct sdp_media *m = sdp_media_add(s, SDP_KIND_VIDEO);

		TEST_ASSERT(m);
		snprintf(m->mid, sizeof(m->mid), "%zu", i);
		for (size_t k = 0; k < SDP_MAX_CODECS; k++) {
			m->codecs[k].pt = (uint8_t)k;
			strcpy(m->codecs[k].name, "VP8");
			m->codecs[k].clock = 90000;
			m->codecs[k].fb = SDP_FB_ALLOWED;
		}
		m->n_codecs = SDP_MAX_CODECS;
	}
	TEST_ASSERT(sdp_media_add(s, SDP_KIND_AUDIO) == NULL);
	wbuf_init(&b, 0);
	TEST_EQ(sdp_write(s, &b), -E2BIG);
	TEST_EQ(b.len, 0);
	/* a few m-lines fit */
	s->n_media = 4;
	rc = sdp_write(s, &b);
	TEST_EQ(rc, 0);
	TEST_EQ(sdp_parse(b.data, b.len, t), 0);
	TEST_ASSERT(sdp_session_equal(s, t));
	wbuf_free(&b);
	free(s);
	free(t);
	return 0;
}

/* ---- limits and garbage -------------------------------------------------- */

#define HEAD "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
#define VID "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"

static int expect_err(const char *text, int err, unsigned line)
{
	struct sdp_session *s = new_session();
	int rc;

	if (!s)
		return -1;
	rc = parse_str(text, s);
	if (rc != err || (line && s->err_line != line) || !s->err_msg) {
		fprintf(stderr, "    got %d at line %u (%s), want %d at %u\n", rc,
			s->err_line, s->err_msg ? s->err_msg : "-", err, line);
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

int test_sdp_limits(void)
{
	struct wbuf b;
	size_t i;

	/* too many lines */
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD);
	for (i = 0; i < SDP_MAX_LINES; i++)
		wbuf_printf(&b, "a=x\r\n");
	TEST_EQ(expect_err(b.data, -E2BIG, SDP_MAX_LINES + 1), 0);
	wbuf_free(&b);

	/* too large */
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD);
	while (b.len <= SDP_MAX_SIZE)
		wbuf_printf(&b, "a=some-attribute:%0500d\r\n", 0);
	TEST_EQ(expect_err(b.data, -E2BIG, 0), 0);
	wbuf_free(&b);

	/* too many m-lines */
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD);
	for (i = 0; i <= SDP_MAX_MEDIA; i++)
		wbuf_printf(&b, VID);
	TEST_EQ(expect_err(b.data, -E2BIG, 5 + 2 * SDP_MAX_MEDIA), 0);
	wbuf_free(&b);

	/* too many payload types */
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD "m=video 9 UDP/TLS/RTP/SAVPF");
	for (i = 0; i <= SDP_MAX_CODECS; i++)
		wbuf_printf(&b, " %zu", i);
	wbuf_printf(&b, "\r\n");
	TEST_EQ(expect_err(b.data, -E2BIG, 5), 0);
	wbuf_free(&b);

	/* too many extmaps, rids, ssrcs, candidates stored-but-counted */
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD VID);
	for (i = 1; i <= SDP_MAX_EXTMAPS + 1; i++)
		wbuf_printf(&b, "a=extmap:%zu urn:x:%zu\r\n", i, i);
	TEST_EQ(expect_err(b.data, -E2BIG, 7 + SDP_MAX_EXTMAPS), 0);
	wbuf_free(&b);
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD VID);
	for (i = 0; i <= SDP_MAX_RIDS; i++)
		wbuf_printf(&b, "a=rid:r%zu send\r\n", i);
	TEST_EQ(expect_err(b.data, -E2BIG, 7 + SDP_MAX_RIDS), 0);
	wbuf_free(&b);
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD VID);
	for (i = 0; i <= SDP_MAX_SSRCS; i++)
		wbuf_printf(&b, "a=ssrc:%zu cname:c\r\n", i + 1);
	TEST_EQ(expect_err(b.data, -E2BIG, 7 + SDP_MAX_SSRCS), 0);
	wbuf_free(&b);
	{
		struct sdp_session *s = new_session();

		TEST_ASSERT(s);
		wbuf_init(&b, 0);
		wbuf_printf(&b, HEAD VID);
		for (i = 0; i < SDP_MAX_CANDIDATES + 5; i++)
			wbuf_printf(&b, "a=candidate:%zu 1 udp 1 10.0.0.%zu 9 typ host\r\n",
				    i, i);
		TEST_EQ(sdp_parse(b.data, b.len, s), 0);
		TEST_EQ(s->media[0].n_candidates, SDP_MAX_CANDIDATES);
		TEST_EQ(s->media[0].n_candidates_seen, SDP_MAX_CANDIDATES + 5);
		wbuf_free(&b);
		free(s);
	}

	/* over-long line, over-long fields */
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD "a=x:%0*d\r\n", SDP_MAX_LINE, 0);   /* 4 + max */
	TEST_EQ(expect_err(b.data, -E2BIG, 5), 0);
	wbuf_free(&b);
	wbuf_init(&b, 0);
	wbuf_printf(&b, HEAD VID "a=fmtp:96 x=%0300d\r\n", 0);
	TEST_EQ(expect_err(b.data, -E2BIG, 7), 0);
	wbuf_free(&b);
	TEST_EQ(expect_err(HEAD VID "a=mid:0123456789012345678901234567890123\r\n",
			   -E2BIG, 7), 0);
	TEST_EQ(expect_err(HEAD VID "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n",
			   -EBADMSG, 8), 0);
	return 0;
}

int test_sdp_garbage(void)
{
	static const struct {
		const char *text;
		int err;
		unsigned line;
	} cases[] = {
		{ "", -EBADMSG, 0 },
		{ "\r\n", -EBADMSG, 0 },
		{ "hello world", -EBADMSG, 1 },
		{ "o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", -EBADMSG, 1 },   /* missing v= */
		{ "v=1\r\n", -EBADMSG, 1 },
		{ "V=0\r\n", -EBADMSG, 1 },
		{ "v=0\r\n", -EBADMSG, 0 },                              /* no o=, s= */
		{ "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n", -EBADMSG, 3 },
		{ "v=0\r\no=- x 1 IN IP4 0.0.0.0\r\ns=-\r\n", -EBADMSG, 2 },
		{ "v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n", -EBADMSG, 2 },
		{ "v=0\r\no=- 99999999999999999999 1 IN IP4 a\r\ns=-\r\n", -EBADMSG, 2 },
		{ HEAD "x=unknown\r\n", -EBADMSG, 5 },
		{ HEAD "a\r\n", -EBADMSG, 5 },
		{ HEAD "=a\r\n", -EBADMSG, 5 },
		{ HEAD "\r\na=x\r\n", -EBADMSG, 5 },                    /* blank line */
		{ HEAD "a=x\x01y\r\n", -EBADMSG, 5 },
		{ HEAD "a=x\ry\r\n", -EBADMSG, 5 },
		{ HEAD "v=0\r\n", -EBADMSG, 5 },
		{ HEAD "m=video 9 UDP/TLS/RTP/SAVPF\r\n", -EBADMSG, 5 },
		{ HEAD "m=video 70000 UDP/TLS/RTP/SAVPF 96\r\n", -EBADMSG, 5 },
		{ HEAD "m=video 9/2 UDP/TLS/RTP/SAVPF 96\r\n", -EBADMSG, 5 },
		{ HEAD "m=video 9 UDP/TLS/RTP/SAVPF 128\r\n", -EBADMSG, 5 },
		{ HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 96\r\n", -EBADMSG, 5 },
		{ HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 x\r\n", -EBADMSG, 5 },
		{ HEAD VID "a=rtpmap:96 VP8/90000\r\n", -EBADMSG, 7 },  /* duplicate */
		{ HEAD VID "a=rtpmap:x VP8/90000\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=fmtp:96\r\n", -EBADMSG, 7 },
		{ HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8\r\n", -EBADMSG, 6 },
		{ HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/0\r\n", -EBADMSG, 6 },
		{ HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/9/x\r\n", -EBADMSG, 6 },
		{ HEAD "a=fingerprint:sha-256 AB:CD\r\n", -EBADMSG, 5 },
		{ HEAD "a=fingerprint:sha-256 ABCD\r\n", -EBADMSG, 5 },
		{ HEAD "a=fingerprint:sha-256 AB:\r\n", -EBADMSG, 5 },
		{ HEAD "a=fingerprint:sha-256 AB:GZ\r\n", -EBADMSG, 5 },
		{ HEAD "a=setup:sideways\r\n", -EBADMSG, 5 },
		{ HEAD "a=ice-ufrag:abc\r\n", -EBADMSG, 5 },           /* < 4 chars */
		{ HEAD "a=ice-ufrag:ab:cd\r\n", -EBADMSG, 5 },
		{ HEAD "a=ice-pwd:tooshort\r\n", -EBADMSG, 5 },
		{ HEAD "a=group:BUNDLE 0\r\n", -EBADMSG, 0 },          /* unknown mid */
		{ HEAD "a=group:BUNDLE 0 0\r\n", -EBADMSG, 5 },
		{ HEAD "a=sendonly\r\na=recvonly\r\n", -EBADMSG, 6 },
		{ HEAD "a=ice-lite:yes\r\n", -EBADMSG, 5 },
		{ HEAD VID "a=mid:0\r\n" VID "a=mid:0\r\n", -EBADMSG, 0 },
		{ HEAD VID "a=mid:0\r\na=mid:1\r\n", -EBADMSG, 8 },
		{ HEAD VID "a=extmap:0 urn:x\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=extmap:256 urn:x\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=extmap:1/sideways urn:x\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=extmap:1\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=ssrc:x cname:a\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=ssrc:1 cname:a b\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=ssrc-group:FID 1\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=ssrc-group:SIM\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=msid:a b c\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=rid:h sideways\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=rid:h.1 send\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=rid:h send\r\na=rid:h send\r\n", -EBADMSG, 8 },
		{ HEAD VID "a=simulcast:send\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=simulcast:send a;;b\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=simulcast:send a,\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=simulcast:send a send b\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=simulcast:send rid=a\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=simulcast:send a\r\na=simulcast:recv b\r\n", -EBADMSG, 8 },
		{ HEAD VID "a=candidate:1 1 udp 1 1.2.3.4 9 typ bogus\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=candidate:1 1 udp 1 1.2.3.4 9 host\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=candidate:1 0 udp 1 1.2.3.4 9 typ host\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=candidate:1 1 udp 1 1.2.3.4 99999 typ host\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=candidate:1 1 udp 1 1.2.3.4 9 typ host generation\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=candidate:1 1 udp 1 1.2.3.4 9 typ srflx rport 5\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=candidate:1 1 tcp 1 1.2.3.4 9 typ host tcptype x\r\n", -EBADMSG, 7 },
		{ HEAD VID "a=rtcp-fb:96\r\n", -EBADMSG, 7 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (expect_err(cases[i].text, cases[i].err, cases[i].line)) {
			fprintf(stderr, "    case %zu\n", i);
			return -1;
		}
	}
	/* binary noise */
	{
		struct sdp_session *s = new_session();
		unsigned char noise[512];
		uint32_t x = 12345;

		TEST_ASSERT(s);
		for (int round = 0; round < 200; round++) {
			for (size_t i = 0; i < sizeof(noise); i++) {
				x = x * 1103515245u + 12345u;
				noise[i] = (unsigned char)(x >> 16);
			}
			TEST_ASSERT(sdp_parse((const char *)noise, sizeof(noise), s) < 0);
		}
		/* a valid description cut at every length never crashes */
		for (size_t n = 0; n < sizeof(sdp_firefox_offer); n += 7)
			(void)sdp_parse(sdp_firefox_offer, n, s);
		free(s);
	}
	return 0;
}
