/*
 * srtp_session — SRTP/SRTCP sessions (see srtp_session.h).
 *
 * Two engines, chosen by the negotiated profile:
 *  - AEAD_AES_128_GCM runs on Nettle's GCM (srtp_gcm.c): one cipher
 *    context per direction for RTP and one for RTCP, keyed once, and per
 *    SSRC only an index and replay window kept here, in the SSRC set;
 *  - AES_CM_128_HMAC_SHA1_80 stays on libsrtp2, which does the RFC 3711
 *    transforms, the replay windows and the per-SSRC streams (cloned from
 *    a template for "any SSRC" policies).
 * This file adds what a server facing untrusted peers needs around both:
 *  - header checks before libsrtp2 sees a packet (RTP version, CSRC count
 *    and extension length within the packet; RTCP version and length), so
 *    bounds never depend on libsrtp2's own parsing;
 *  - an explicit buffer capacity: libsrtp2's API assumes room for its
 *    largest possible trailer, we check room for exactly what the profile
 *    appends (no MKI is ever configured);
 *  - a cap on SSRCs per direction. libsrtp2 clones a stream (with cipher
 *    contexts) for every new SSRC that authenticates; the peer holds the
 *    keys, so a buggy or hostile browser could otherwise grow that list
 *    without bound. A small open-addressed set per direction remembers the
 *    SSRCs admitted;
 *  - retiring outbound SSRCs. A subscriber's connection outlives many of
 *    the streams sent to it (every participant who reconnects, every track
 *    published anew brings new SSRCs), so the SFU retires the SSRC of a
 *    subscription that ended (srtps_retire_out): its stream state is wiped
 *    and freed and its slot deleted from the set (backward-shift deletion,
 *    so lookups need no tombstones). Forgetting it alone would be unsafe: a
 *    stream admitted again under that SSRC would start its index anew, and
 *    the same key, SSRC and index is a reused AES-GCM nonce (or AES-CM
 *    keystream). Two ways out: keep each retired stream's index, so that a
 *    re-admission continues from it, or refuse the SSRC for good. We refuse
 *    it: the control plane draws every subscription's SSRC at random and
 *    never sends one again, so a retired SSRC coming back is a fault, and
 *    refusing needs 4 bytes per retired SSRC where an index with its
 *    replay window needs some 190. The retired SSRCs are remembered
 *    exactly, none ever forgotten (a bounded set that forgot the oldest
 *    would make reuse unlikely, not impossible); past SRTPS_RETIRED_MAX a
 *    stream is no longer retired but kept, and the connection is back to
 *    the fixed cap. Inbound streams are never removed: the browser picks
 *    those SSRCs and may send on one again (a transceiver it reuses),
 *    continuing its index, and forgetting the stream would lose its
 *    rollover counter and reopen its replay window;
 *  - errno-style results instead of srtp_err_status_t.
 */
#include "srtp/srtp_session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "srtp/srtp_gcm.h"
#include "util/buf.h"

enum {
	RTP_VERSION = 2,              /* RFC 3550 §5.1 */
	RTP_X_BIT = 0x10,             /* RFC 3550 §5.1: extension present */
	RTP_CC_MASK = 0x0f,           /* RFC 3550 §5.1: CSRC count */
	RTP_SSRC_OFF = 8,             /* RFC 3550 §5.1 */
	RTP_EXT_HDR_LEN = 4,          /* RFC 3550 §5.3.1 */
	RTCP_SSRC_OFF = 4,            /* RFC 3550 §6.4.1 sender SSRC */
	SRTCP_INDEX_LEN = 4,          /* RFC 3550 §3.4: E flag + 31-bit index */
	/* Tags: RFC 3711 §5.2 (HMAC-SHA1-80), RFC 7714 §14.2 (GCM). */
	TAG_CM = 10,
	TAG_GCM = 16,
	/* Set sizes: a power of two at least twice the limit keeps linear
	 * probing short. */
	SET_SLOTS_IN = 64,
	SET_SLOTS_OUT = 2048,
	/* The retired set starts small and doubles, kept at most half full. */
	RETIRED_SLOTS_MIN = 64,
	RETIRED_SLOTS_MAX = 2 * SRTPS_RETIRED_MAX,
	KEY_SALT_MAX = DTLS_SRTP_KEY_LEN + DTLS_SRTP_SALT_MAX,
};

_Static_assert((int)SET_SLOTS_IN >= 2 * (int)SRTPS_MAX_SSRCS_IN, "inbound set size");
_Static_assert((int)SET_SLOTS_OUT >= 2 * (int)SRTPS_MAX_SSRCS_OUT, "outbound set size");
_Static_assert((int)SRTPS_RTP_OVERHEAD_CM == (int)TAG_CM, "CM overhead");
_Static_assert((int)SRTPS_RTP_OVERHEAD_GCM == (int)TAG_GCM, "GCM overhead");
_Static_assert((int)TAG_GCM == (int)SRTP_GCM_TAG_LEN, "GCM tag");
_Static_assert((int)DTLS_SRTP_SALT_LEN_GCM == (int)SRTP_GCM_SALT_LEN, "GCM salt");
_Static_assert((int)DTLS_SRTP_KEY_LEN == (int)SRTP_GCM_KEY_LEN, "GCM key");
_Static_assert((int)SRTPS_RTCP_OVERHEAD_CM == TAG_CM + SRTCP_INDEX_LEN, "CM RTCP");
_Static_assert((int)SRTPS_RTCP_OVERHEAD_GCM == TAG_GCM + SRTCP_INDEX_LEN, "GCM RTCP");

/* The SSRCs a session has admitted: open addressing, linear probing,
 * backward-shift deletion (outbound SSRCs are retired). With GCM each holds
 * its stream state (allocated when the SSRC is admitted, freed when it is
 * retired or with the set); with libsrtp2, libsrtp2 holds it. */
struct ssrc_slot {          /* one cache line holds four */
	uint32_t ssrc;
	bool used;
	struct srtp_gcm_stream *st;
};

struct ssrc_set {
	struct ssrc_slot *slot;
	size_t slots;       /* power of two */
	size_t n;
	size_t max;
	/* the last SSRC found (most packets), kept here as well as in its
	 * slot: a repeat then reads no slot (each a cache miss of its own
	 * in a worker that turns from one subscriber to the next) */
	size_t last;
	uint32_t last_ssrc;
	struct srtp_gcm_stream *last_st;
	bool last_ok;
};

/* Outbound SSRCs retired (srtps_retire_out), refused by protect from then
 * on: open addressing on the SSRC itself, 0 marking a free slot (SSRC 0
 * has a flag of its own). Allocated at the first retirement, doubled when
 * half full, up to RETIRED_SLOTS_MAX; nothing is ever removed. Read only
 * when an SSRC is not in the outbound set (its first packet), never for
 * the packets of an admitted one. */
struct ssrc_retired {
	uint32_t *key;
	size_t slots;       /* power of two, or 0 */
	size_t n;
	bool zero;
};

/* Owned by one media worker; freed by srtps_free(). */
struct srtps {
	bool gcm;            /* our GCM engine; else libsrtp2 */
	srtp_t in;           /* libsrtp2 */
	srtp_t out;
	struct srtp_gcm_dir gin;    /* GCM */
	struct srtp_gcm_dir gout;
	enum dtls_srtp_profile profile;
	size_t rtp_overhead;
	size_t rtcp_overhead;
	struct ssrc_set in_set;
	struct ssrc_set out_set;
	struct ssrc_retired retired;
};

/* ---- libsrtp2 init ------------------------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_init_fail;

static void init_lib(void)
{
	init_status = srtp_init();
}

int srtps_init(void)
{
	if (pthread_once(&init_once, init_lib) != 0)
		return -EIO;
	return init_status == srtp_err_status_ok ? 0 : -EIO;
}

/* ---- SSRC sets ---------------------------------------------------------- */

static int set_init(struct ssrc_set *set, size_t slots, size_t max)
{
	set->slot = calloc(slots, sizeof(*set->slot));
	if (set->slot == NULL)
		return -ENOMEM;
	set->slots = slots;
	set->max = max;
	return 0;
}

static void set_free(struct ssrc_set *set)
{
	size_t i;

	if (set->slot != NULL) {
		for (i = 0; i < set->slots; i++) {
			struct srtp_gcm_stream *st = set->slot[i].st;
			if (st != NULL)
				OPENSSL_cleanse(st, sizeof(*st));
			free(st);
		}
	}
	free(set->slot);
}

static size_t set_hash(const struct ssrc_set *set, uint32_t ssrc)
{
	/* Fibonacci hashing: SSRCs are random, but a peer may pick them. */
	return (size_t)((ssrc * 2654435761u) & (uint32_t)(set->slots - 1));
}

static void set_remember(struct ssrc_set *set, size_t i)
{
	set->last = i;
	set->last_ssrc = set->slot[i].ssrc;
	set->last_st = set->slot[i].st;
	set->last_ok = true;
}

/* The slot holding ssrc, or the free slot it would take (*found false);
 * *st is the found SSRC's stream state (GCM; NULL with libsrtp2). */
static size_t set_find(struct ssrc_set *set, uint32_t ssrc, bool *found,
		       struct srtp_gcm_stream **st)
{
	size_t i, k;

	if (set->last_ok && set->last_ssrc == ssrc) {
		*found = true;
		*st = set->last_st;
		return set->last;
	}
	for (k = 0, i = set_hash(set, ssrc); k < set->slots;
	     k++, i = (i + 1) & (set->slots - 1)) {
		if (!set->slot[i].used) {
			*found = false;
			return i;
		}
		if (set->slot[i].ssrc == ssrc) {
			set_remember(set, i);
			*found = true;
			*st = set->slot[i].st;
			return i;
		}
	}
	/* unreachable: the set is never more than half full */
	*found = false;
	return set->slots;
}

/* Takes the free slot set_find() returned (n < max checked). */
static void set_add(struct ssrc_set *set, size_t i, uint32_t ssrc,
		    struct srtp_gcm_stream *st)
{
	set->slot[i].used = true;
	set->slot[i].ssrc = ssrc;
	set->slot[i].st = st;
	set->n++;
	set_remember(set, i);
}

/* Empties slot i (its stream already freed). Linear probing finds an SSRC
 * by walking from its home slot to the first free one, so a hole in the
 * middle of a run would hide the entries after it: each later entry of the
 * run whose home is not between the hole and itself moves back into the
 * hole, which moves on to where it was (Knuth's algorithm R). Entries may
 * move, so the remembered last lookup is dropped. */
static void set_delete(struct ssrc_set *set, size_t i)
{
	size_t mask = set->slots - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (!set->slot[j].used)
			break;
		home = set_hash(set, set->slot[j].ssrc);
		/* may move back to i: i lies on its way from home to j */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			set->slot[i] = set->slot[j];
			i = j;
		}
	}
	memset(&set->slot[i], 0, sizeof(set->slot[i]));
	set->n--;
	set->last_ok = false;
	set->last_st = NULL;
}

/* ---- retired outbound SSRCs ---------------------------------------------- */

static size_t retired_home(size_t slots, uint32_t ssrc)
{
	return (size_t)((ssrc * 2654435761u) & (uint32_t)(slots - 1));
}

static bool retired_has(const struct ssrc_retired *r, uint32_t ssrc)
{
	size_t i, mask = r->slots - 1;

	if (ssrc == 0)
		return r->zero;
	if (r->slots == 0)
		return false;
	for (i = retired_home(r->slots, ssrc); r->key[i] != 0; i = (i + 1) & mask)
		if (r->key[i] == ssrc)
			return true;
	return false;
}

static void retired_put(uint32_t *key, size_t slots, uint32_t ssrc)
{
	size_t i = retired_home(slots, ssrc);

	while (key[i] != 0 && key[i] != ssrc)
		i = (i + 1) & (slots - 1);
	key[i] = ssrc;
}

/* Remembers ssrc: 0, -ENOSPC (SRTPS_RETIRED_MAX reached) or -ENOMEM. */
static int retired_add(struct ssrc_retired *r, uint32_t ssrc)
{
	size_t slots, i;
	uint32_t *key;

	if (retired_has(r, ssrc))
		return 0;
	if (r->n >= SRTPS_RETIRED_MAX)
		return -ENOSPC;
	if (ssrc == 0) {
		r->zero = true;
		r->n++;
		return 0;
	}
	if (2 * (r->n + 1) > r->slots) {
		slots = r->slots ? 2 * r->slots : RETIRED_SLOTS_MIN;
		if (slots > RETIRED_SLOTS_MAX)
			return -ENOSPC;
		key = calloc(slots, sizeof(*key));
		if (key == NULL)
			return -ENOMEM;
		for (i = 0; i < r->slots; i++)
			if (r->key[i] != 0)
				retired_put(key, slots, r->key[i]);
		free(r->key);
		r->key = key;
		r->slots = slots;
	}
	retired_put(r->key, r->slots, ssrc);
	r->n++;
	return 0;
}

/* ---- sessions ----------------------------------------------------------- */

static int map_err(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err:
	case srtp_err_status_bad_mki:
	case srtp_err_status_cipher_fail:
		return -EBADMSG;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
	case srtp_err_status_pkt_idx_old:
		return -EALREADY;
	case srtp_err_status_alloc_fail:
		return -ENOMEM;
	case srtp_err_status_key_expired:
		return -EKEYEXPIRED;
	default:
		return -EIO;
	}
}

static void set_policy(srtp_policy_t *p, enum dtls_srtp_profile profile,
		       srtp_ssrc_type_t type, unsigned char *key)
{
	memset(p, 0, sizeof(*p));
	if (profile == DTLS_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
	}
	p->ssrc.type = type;
	p->key = key;
	p->window_size = SRTPS_REPLAY_WINDOW;
	p->allow_repeat_tx = 0;   /* a repeated index would reuse a nonce */
	p->next = NULL;
}

int srtps_new(const struct dtls_srtp_keys *keys, bool is_server,
	      struct srtps **out)
{
	unsigned char local[KEY_SALT_MAX], remote[KEY_SALT_MAX];
	const uint8_t *lk, *ls, *rk, *rs;
	srtp_policy_t pin, pout;
	struct srtps *s;
	size_t want_salt;
	int err;

	if (keys == NULL || out == NULL)
		return -EINVAL;
	switch (keys->profile) {
	case DTLS_SRTP_AEAD_AES_128_GCM:
		want_salt = DTLS_SRTP_SALT_LEN_GCM;
		break;
	case DTLS_SRTP_AES128_CM_SHA1_80:
		want_salt = DTLS_SRTP_SALT_LEN_CM;
		break;
	default:
		return -EINVAL;
	}
	if (keys->key_len != DTLS_SRTP_KEY_LEN || keys->salt_len != want_salt)
		return -EINVAL;
	err = srtps_init();
	if (err < 0)
		return err;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->profile = keys->profile;
	if (keys->profile == DTLS_SRTP_AEAD_AES_128_GCM) {
		s->rtp_overhead = SRTPS_RTP_OVERHEAD_GCM;
		s->rtcp_overhead = SRTPS_RTCP_OVERHEAD_GCM;
	} else {
		s->rtp_overhead = SRTPS_RTP_OVERHEAD_CM;
		s->rtcp_overhead = SRTPS_RTCP_OVERHEAD_CM;
	}
	err = set_init(&s->in_set, SET_SLOTS_IN, SRTPS_MAX_SSRCS_IN);
	if (err == 0)
		err = set_init(&s->out_set, SET_SLOTS_OUT, SRTPS_MAX_SSRCS_OUT);
	if (err < 0)
		goto fail;

	lk = is_server ? keys->server_key : keys->client_key;
	ls = is_server ? keys->server_salt : keys->client_salt;
	rk = is_server ? keys->client_key : keys->server_key;
	rs = is_server ? keys->client_salt : keys->server_salt;
	if (keys->profile == DTLS_SRTP_AEAD_AES_128_GCM) {
		s->gcm = true;
		err = srtp_gcm__dir_init(&s->gin, rk, rs);
		if (err == 0)
			err = srtp_gcm__dir_init(&s->gout, lk, ls);
		if (err < 0) {
			err = err == -ENOMEM ? -ENOMEM : -EIO;
			goto fail;
		}
		*out = s;
		return 0;
	}
	/* libsrtp2 wants master key || master salt in one buffer. */
	memcpy(local, lk, DTLS_SRTP_KEY_LEN);
	memcpy(local + DTLS_SRTP_KEY_LEN, ls, want_salt);
	memcpy(remote, rk, DTLS_SRTP_KEY_LEN);
	memcpy(remote + DTLS_SRTP_KEY_LEN, rs, want_salt);
	set_policy(&pin, keys->profile, ssrc_any_inbound, remote);
	set_policy(&pout, keys->profile, ssrc_any_outbound, local);
	err = map_err(srtp_create(&s->in, &pin));
	if (err == 0)
		err = map_err(srtp_create(&s->out, &pout));
	OPENSSL_cleanse(local, sizeof(local));
	OPENSSL_cleanse(remote, sizeof(remote));
	if (err < 0) {
		err = err == -ENOMEM ? -ENOMEM : -EIO;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	srtps_free(s);
	return err;
}

void srtps_free(struct srtps *s)
{
	if (s == NULL)
		return;
	/* libsrtp2 zeroes its key material when deallocating streams. */
	if (s->in != NULL)
		srtp_dealloc(s->in);
	if (s->out != NULL)
		srtp_dealloc(s->out);
	srtp_gcm__dir_free(&s->gin);
	srtp_gcm__dir_free(&s->gout);
	set_free(&s->in_set);
	set_free(&s->out_set);
	free(s->retired.key);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

enum dtls_srtp_profile srtps_profile(const struct srtps *s)
{
	return s->profile;
}

size_t srtps_rtp_overhead(const struct srtps *s)
{
	return s->rtp_overhead;
}

size_t srtps_rtcp_overhead(const struct srtps *s)
{
	return s->rtcp_overhead;
}

/* ---- packets ------------------------------------------------------------ */

/* The RTP header (RFC 3550 §5.1, §5.3.1) lies within len bytes; *hdr is
 * its length. */
static int rtp_check(const uint8_t *buf, size_t len, uint32_t *ssrc,
		     size_t *hdr)
{
	struct cur c = cur_make(buf, len);
	uint8_t b0;
	uint16_t ext_len;

	if (len < SRTPS_RTP_MIN || len > SRTPS_MAX_PACKET ||
	    cur_u8(&c, &b0) < 0 || (b0 >> 6) != RTP_VERSION ||
	    cur_skip(&c, RTP_SSRC_OFF - 1) < 0 || cur_u32(&c, ssrc) < 0 ||
	    cur_skip(&c, 4u * (b0 & RTP_CC_MASK)) < 0)
		return -EBADMSG;
	if ((b0 & RTP_X_BIT) != 0) {
		if (cur_skip(&c, 2) < 0 || cur_u16(&c, &ext_len) < 0 ||
		    cur_skip(&c, 4u * ext_len) < 0)
			return -EBADMSG;
	}
	*hdr = c.pos;
	return 0;
}

/* The RTCP common header and sender SSRC (RFC 3550 §6.4.1) are there. */
static int rtcp_check(const uint8_t *buf, size_t len, uint32_t *ssrc)
{
	struct cur c = cur_make(buf, len);
	uint8_t b0;

	if (len < SRTPS_RTCP_MIN || len > SRTPS_MAX_PACKET ||
	    cur_u8(&c, &b0) < 0 || (b0 >> 6) != RTP_VERSION ||
	    cur_skip(&c, RTCP_SSRC_OFF - 1) < 0 || cur_u32(&c, ssrc) < 0)
		return -EBADMSG;
	return 0;
}

enum op { PROTECT_RTP, UNPROTECT_RTP, PROTECT_RTCP, UNPROTECT_RTCP };

/* The GCM engine on one packet whose header was checked. */
static int gcm_op(struct srtps *s, enum op op, struct srtp_gcm_stream *st,
		  uint8_t *buf, size_t *len, size_t hdr, uint32_t ssrc)
{
	switch (op) {
	case PROTECT_RTP:
		return srtp_gcm__protect_rtp(&s->gout, st, buf, len, hdr, ssrc);
	case UNPROTECT_RTP:
		return srtp_gcm__unprotect_rtp(&s->gin, st, buf, len, hdr, ssrc);
	case PROTECT_RTCP:
		return srtp_gcm__protect_rtcp(&s->gout, st, buf, len, ssrc);
	default:
		return srtp_gcm__unprotect_rtcp(&s->gin, st, buf, len, ssrc);
	}
}

/* libsrtp2 on one packet whose header was checked. */
static int libsrtp_op(struct srtps *s, enum op op, uint8_t *buf, size_t *len)
{
	srtp_err_status_t st;
	int n = (int)*len;

	switch (op) {
	case PROTECT_RTP:
		st = srtp_protect(s->out, buf, &n);
		break;
	case UNPROTECT_RTP:
		st = srtp_unprotect(s->in, buf, &n);
		break;
	case PROTECT_RTCP:
		st = srtp_protect_rtcp(s->out, buf, &n);
		break;
	default:
		st = srtp_unprotect_rtcp(s->in, buf, &n);
		break;
	}
	if (st != srtp_err_status_ok)
		return map_err(st);
	if (n < 0)
		return -EIO;
	*len = (size_t)n;
	return 0;
}

static int transform(struct srtps *s, enum op op, uint8_t *buf, size_t *len,
		     size_t cap)
{
	bool rtcp = op == PROTECT_RTCP || op == UNPROTECT_RTCP;
	bool protect = op == PROTECT_RTP || op == PROTECT_RTCP;
	struct ssrc_set *set = protect ? &s->out_set : &s->in_set;
	size_t over = rtcp ? s->rtcp_overhead : s->rtp_overhead;
	struct srtp_gcm_stream fresh, *st = NULL;
	size_t plain, hdr = 0, n, slot;
	uint32_t ssrc;
	bool found;
	int err;

	if (buf == NULL || len == NULL)
		return -EINVAL;
	if (protect) {
		if (*len > SRTPS_MAX_PACKET)
			return -EBADMSG;
		if (cap < *len + over)
			return -ENOSPC;
	} else if (*len < over + (rtcp ? SRTPS_RTCP_MIN : SRTPS_RTP_MIN)) {
		return -EBADMSG;
	}
	/* The clear header must lie before the trailer when unprotecting. */
	plain = protect ? *len : *len - over;
	err = rtcp ? rtcp_check(buf, plain, &ssrc)
		   : rtp_check(buf, plain, &ssrc, &hdr);
	if (err < 0)
		return err;
	slot = set_find(set, ssrc, &found, &st);
	if (!found) {
		/* a retired SSRC would start its index anew: never again */
		if (protect && retired_has(&s->retired, ssrc))
			return -ESTALE;
		if (set->n >= set->max || slot == set->slots)
			return -EMFILE;
	}
	n = *len;
	if (s->gcm) {
		if (!found) {
			memset(&fresh, 0, sizeof(fresh));
			st = &fresh;
		}
		err = gcm_op(s, op, st, buf, &n, hdr, ssrc);
	} else {
		err = libsrtp_op(s, op, buf, &n);
	}
	if (err < 0)
		return err;
	if (n != (protect ? *len + over : *len - over))
		return -EIO;
	if (!found) {
		/* Admitted only now that the packet authenticated (inbound)
		 * or was protected (outbound). Without memory for its state
		 * the packet is refused: sent or accepted, its index would be
		 * forgotten. */
		if (s->gcm) {
			st = malloc(sizeof(*st));
			if (st == NULL) {
				OPENSSL_cleanse(&fresh, sizeof(fresh));
				return -ENOMEM;
			}
			memcpy(st, &fresh, sizeof(*st));
		}
		set_add(set, slot, ssrc, st);
	}
	*len = n;
	return 0;
}

int srtps_protect_rtp(struct srtps *s, uint8_t *buf, size_t *len, size_t cap)
{
	return transform(s, PROTECT_RTP, buf, len, cap);
}

int srtps_unprotect_rtp(struct srtps *s, uint8_t *buf, size_t *len)
{
	return transform(s, UNPROTECT_RTP, buf, len, 0);
}

int srtps_protect_rtcp(struct srtps *s, uint8_t *buf, size_t *len, size_t cap)
{
	return transform(s, PROTECT_RTCP, buf, len, cap);
}

int srtps_unprotect_rtcp(struct srtps *s, uint8_t *buf, size_t *len)
{
	return transform(s, UNPROTECT_RTCP, buf, len, 0);
}

int srtps_retire_out(struct srtps *s, uint32_t ssrc)
{
	struct srtp_gcm_stream *st = NULL;
	struct ssrc_set *set;
	bool found;
	size_t i;
	int err;

	if (s == NULL)
		return -EINVAL;
	set = &s->out_set;
	i = set_find(set, ssrc, &found, &st);
	if (!found)
		return -ENOENT;
	/* remembered first: without room for that the stream stays */
	err = retired_add(&s->retired, ssrc);
	if (err < 0)
		return err;
	if (s->gcm) {
		OPENSSL_cleanse(st, sizeof(*st));
		free(st);
	} else {
		/* frees the stream's index and replay state; its cipher
		 * contexts are the session's own, shared with the template
		 * (and wiped with it, srtps_free) */
		(void)srtp_remove_stream(s->out, htonl(ssrc));
	}
	set_delete(set, i);
	return 0;
}
