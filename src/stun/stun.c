/*
 * stun.c — decoding, integrity checks and writers for STUN (see stun.h).
 *
 * Why it is shaped this way: every STUN packet that reaches the media port
 * comes from a stranger until its MESSAGE-INTEGRITY checks out, so the
 * decoder reads only through the bounds-checked cursor (util/buf.h), trusts
 * no length it has not checked against the datagram, and records nothing
 * that follows MESSAGE-INTEGRITY except FINGERPRINT (RFC 8489 §14.5): an
 * attacker can append bytes after the MAC, but they change no field.
 *
 * The two digests are computed over a view of the message whose header
 * length field is rewritten to end just after the attribute in question
 * (RFC 8489 §14.5, §14.7); the packet itself is never modified, the
 * rewritten header is a 20-byte copy on the stack.
 *
 * Allocation: none in this file. OpenSSL allocates a small MAC context per
 * HMAC; STUN checks arrive a few times a second per peer (RFC 7675 consent
 * every ~5 s), not per media packet, and callers look the USERNAME up
 * before paying for the HMAC.
 */
#include "stun/stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zlib.h>

#include "util/buf.h"

/* Value bytes plus padding to the next 4-byte boundary (RFC 8489 §14). */
static size_t pad4(size_t n)
{
	return (n + (STUN_ATTR_ALIGN - 1)) & ~(size_t)(STUN_ATTR_ALIGN - 1);
}

/* ---- digests ----------------------------------------------------------- */

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	/* Fetched once and kept for the life of the process. */
	hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

/* HMAC-SHA1 with key over hdr[0..STUN_HEADER_LEN) then body[0..blen). */
static int hmac_sha1(const void *key, size_t keylen, const uint8_t *hdr,
		     const uint8_t *body, size_t blen,
		     uint8_t out[STUN_HMAC_SHA1_LEN])
{
	char digest[] = "SHA1";
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	size_t n = 0;
	int rc = -ENOMEM;

	pthread_once(&hmac_once, hmac_fetch);
	if (!hmac_alg)
		return -ENOMEM;
	ctx = EVP_MAC_CTX_new(hmac_alg);
	if (!ctx)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, keylen, params) == 1 &&
	    EVP_MAC_update(ctx, hdr, STUN_HEADER_LEN) == 1 &&
	    (blen == 0 || EVP_MAC_update(ctx, body, blen) == 1) &&
	    EVP_MAC_final(ctx, out, &n, STUN_HMAC_SHA1_LEN) == 1 &&
	    n == STUN_HMAC_SHA1_LEN)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	return rc;
}

/* CRC-32 (zlib, the ISO 3309 polynomial RFC 8489 §14.7 names) over hdr then
 * body, XOR "STUN". Message bodies are under 64 KiB, so uInt suffices. */
static uint32_t fingerprint(const uint8_t *hdr, const uint8_t *body,
			    size_t blen)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, hdr, STUN_HEADER_LEN);
	if (blen)
		crc = crc32(crc, body, (uInt)blen);
	return (uint32_t)crc ^ STUN_FINGERPRINT_XOR;
}

/* ---- decoding ---------------------------------------------------------- */

bool stun_is_stun(const uint8_t *p, size_t len)
{
	uint16_t mlen;

	if (!p || len < STUN_HEADER_LEN)
		return false;
	if (p[0] & 0xC0) /* RFC 8489 §5: the two most significant bits are 0 */
		return false;
	if (get_u32(p + 4) != STUN_MAGIC_COOKIE)
		return false;
	mlen = get_u16(p + 2);
	return (mlen % STUN_ATTR_ALIGN) == 0 &&
	       (size_t)mlen + STUN_HEADER_LEN == len;
}

/*
 * XOR-MAPPED-ADDRESS value (RFC 8489 §14.2): reserved byte, family, port
 * XOR the cookie's top 16 bits, address XOR the cookie (IPv4) or the cookie
 * followed by the transaction id (IPv6). hdr is the message header.
 */
static int decode_xaddr(const uint8_t *v, size_t n, const uint8_t *hdr,
			struct sockaddr_storage *out)
{
	struct cur c = cur_make(v, n);
	uint8_t reserved, family;
	uint16_t xport;
	uint16_t port;

	if (cur_u8(&c, &reserved) || cur_u8(&c, &family) ||
	    cur_u16(&c, &xport))
		return -EBADMSG;
	port = (uint16_t)(xport ^ (STUN_MAGIC_COOKIE >> 16));
	memset(out, 0, sizeof(*out));
	if (family == STUN_FAMILY_IPV4 && n == STUN_XADDR4_LEN) {
		struct sockaddr_in sin;
		uint32_t xa;

		cur_u32(&c, &xa);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sin.sin_addr.s_addr = htonl(xa ^ STUN_MAGIC_COOKIE);
		memcpy(out, &sin, sizeof(sin));
		return 0;
	}
	if (family == STUN_FAMILY_IPV6 && n == STUN_XADDR6_LEN) {
		struct sockaddr_in6 sin6;
		const uint8_t *xa;

		cur_bytes(&c, 16, &xa);
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		for (size_t i = 0; i < 16; i++)
			sin6.sin6_addr.s6_addr[i] = xa[i] ^ hdr[4 + i];
		memcpy(out, &sin6, sizeof(sin6));
		return 0;
	}
	return -EBADMSG;
}

static int decode_text(const uint8_t *v, size_t n, bool *has,
		       struct stun_str *s, size_t max)
{
	if (n > max)
		return -EBADMSG;
	if (!*has) {
		*has = true;
		s->p = v;
		s->len = n;
	}
	return 0;
}

static void note_unknown(struct stun_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->n_unknown; i++)
		if (m->unknown[i] == type)
			return;
	if (m->n_unknown < STUN_MAX_UNKNOWN)
		m->unknown[m->n_unknown++] = type;
}

/* One attribute before MESSAGE-INTEGRITY (or MESSAGE-INTEGRITY itself).
 * off is the offset of its header in the message p. */
static int decode_attr(struct stun_msg *m, const uint8_t *p, size_t off,
		       uint16_t type, const uint8_t *v, size_t n)
{
	switch (type) {
	case STUN_ATTR_USERNAME:
		return decode_text(v, n, &m->has_username, &m->username,
				   STUN_MAX_USERNAME_LEN);
	case STUN_ATTR_SOFTWARE:
		return decode_text(v, n, &m->has_software, &m->software,
				   STUN_MAX_TEXT_LEN);
	case STUN_ATTR_REALM:
		return decode_text(v, n, &m->has_realm, &m->realm,
				   STUN_MAX_TEXT_LEN);
	case STUN_ATTR_NONCE:
		return decode_text(v, n, &m->has_nonce, &m->nonce,
				   STUN_MAX_TEXT_LEN);
	case STUN_ATTR_MESSAGE_INTEGRITY:
		if (n != STUN_HMAC_SHA1_LEN)
			return -EBADMSG;
		m->has_integrity = true;
		m->integrity_off = off;
		return 0;
	case STUN_ATTR_PRIORITY:
		if (n != STUN_PRIORITY_LEN)
			return -EBADMSG;
		if (!m->has_priority) {
			m->has_priority = true;
			m->priority = get_u32(v);
		}
		return 0;
	case STUN_ATTR_USE_CANDIDATE:
		if (n != 0)
			return -EBADMSG;
		m->use_candidate = true;
		return 0;
	case STUN_ATTR_ICE_CONTROLLED:
	case STUN_ATTR_ICE_CONTROLLING:
		if (n != STUN_TIEBREAKER_LEN)
			return -EBADMSG;
		if (!m->ice_controlled && !m->ice_controlling)
			m->tiebreaker = ((uint64_t)get_u32(v) << 32) |
					get_u32(v + 4);
		if (type == STUN_ATTR_ICE_CONTROLLED)
			m->ice_controlled = true;
		else
			m->ice_controlling = true;
		return 0;
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
		if (m->has_xor_mapped)
			return 0;
		if (decode_xaddr(v, n, p, &m->xor_mapped))
			return -EBADMSG;
		m->has_xor_mapped = true;
		return 0;
	case STUN_ATTR_ERROR_CODE: {
		unsigned cls, num;

		/* RFC 8489 §14.8: 21 reserved bits, class (3 bits, 3..6),
		 * number (0..99), then the reason phrase. */
		if (n < STUN_ERROR_CODE_HDR ||
		    n - STUN_ERROR_CODE_HDR > STUN_MAX_TEXT_LEN)
			return -EBADMSG;
		cls = v[2] & 0x07u;
		num = v[3];
		if (cls < STUN_ERR_MIN / 100 || cls > STUN_ERR_MAX / 100 ||
		    num > 99)
			return -EBADMSG;
		if (!m->has_error) {
			m->has_error = true;
			m->error_code = (uint16_t)(cls * 100 + num);
			m->reason.p = v + STUN_ERROR_CODE_HDR;
			m->reason.len = n - STUN_ERROR_CODE_HDR;
		}
		return 0;
	}
	/* Comprehension-required attributes we recognise and deliberately
	 * leave alone: an ICE-lite Binding server has no use for them, and
	 * MESSAGE-INTEGRITY-SHA256 is optional for short-term credentials. */
	case STUN_ATTR_MAPPED_ADDRESS:
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:
	case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
	case STUN_ATTR_PASSWORD_ALGORITHM:
	case STUN_ATTR_USERHASH:
		return 0;
	default:
		if (type < STUN_ATTR_COMPREHENSION_OPTIONAL)
			note_unknown(m, type);
		return 0;
	}
}

int stun_decode(const uint8_t *p, size_t len, struct stun_msg *out)
{
	struct stun_msg m;
	struct cur c;
	uint16_t type, mlen;
	uint32_t cookie;
	int rc;

	if (!out || !stun_is_stun(p, len))
		return -EBADMSG;
	memset(&m, 0, sizeof(m));
	c = cur_make(p, len);
	if (cur_u16(&c, &type) || cur_u16(&c, &mlen) || cur_u32(&c, &cookie))
		return -EBADMSG;
	memcpy(m.tid, cur_ptr(&c), STUN_TID_LEN);
	if (cur_skip(&c, STUN_TID_LEN))
		return -EBADMSG;
	m.type = type;
	/* RFC 8489 §5 figure 3: M11..M7 C1 M6..M4 C0 M3..M0 */
	m.method = (uint16_t)((type & 0x000Fu) | ((type & 0x00E0u) >> 1) |
			      ((type & 0x3E00u) >> 2));
	m.cls = (enum stun_class)(((type >> 4) & 1u) | ((type >> 7) & 2u));
	m.len = len;

	while (cur_left(&c) > 0) {
		size_t off = c.pos;
		uint16_t at, alen;
		const uint8_t *v;

		/* RFC 8489 §14.7: FINGERPRINT is the last attribute. */
		if (m.has_fingerprint)
			return -EBADMSG;
		if (m.n_attrs >= STUN_MAX_ATTRS)
			return -EBADMSG;
		if (cur_u16(&c, &at) || cur_u16(&c, &alen) ||
		    cur_bytes(&c, alen, &v) ||
		    cur_skip(&c, pad4(alen) - alen))
			return -EBADMSG;
		m.n_attrs++;

		if (at == STUN_ATTR_FINGERPRINT) {
			if (alen != STUN_FINGERPRINT_LEN)
				return -EBADMSG;
			m.has_fingerprint = true;
			m.fingerprint_off = off;
			continue;
		}
		/* RFC 8489 §14.5: everything else after MESSAGE-INTEGRITY
		 * (a second one, MESSAGE-INTEGRITY-SHA256, anything) is
		 * ignored: it is not covered by the MAC. */
		if (m.has_integrity)
			continue;
		rc = decode_attr(&m, p, off, at, v, alen);
		if (rc)
			return rc;
	}
	*out = m;
	return 0;
}

int stun_check_integrity(const struct stun_msg *m, const uint8_t *p,
			 const void *key, size_t keylen)
{
	uint8_t hdr[STUN_HEADER_LEN], mac[STUN_HMAC_SHA1_LEN];
	const size_t attr = STUN_ATTR_HDR_LEN + STUN_HMAC_SHA1_LEN;
	size_t off;
	int rc, same;

	if (!m || !p || !key || keylen == 0 || !m->has_integrity)
		return -EACCES;
	off = m->integrity_off;
	/* Defensive: m must describe p. */
	if (off < STUN_HEADER_LEN || off > m->len || m->len - off < attr ||
	    get_u16(p + off) != STUN_ATTR_MESSAGE_INTEGRITY ||
	    get_u16(p + off + 2) != STUN_HMAC_SHA1_LEN)
		return -EACCES;
	memcpy(hdr, p, STUN_HEADER_LEN);
	/* RFC 8489 §14.5: the length counts up to the end of
	 * MESSAGE-INTEGRITY, whatever follows it. */
	put_u16(hdr + 2, (uint16_t)(off + attr - STUN_HEADER_LEN));
	rc = hmac_sha1(key, keylen, hdr, p + STUN_HEADER_LEN,
		       off - STUN_HEADER_LEN, mac);
	if (rc)
		return rc;
	same = CRYPTO_memcmp(mac, p + off + STUN_ATTR_HDR_LEN,
			     STUN_HMAC_SHA1_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return same ? 0 : -EACCES;
}

int stun_check_fingerprint(const struct stun_msg *m, const uint8_t *p)
{
	uint8_t hdr[STUN_HEADER_LEN];
	const size_t attr = STUN_ATTR_HDR_LEN + STUN_FINGERPRINT_LEN;
	size_t off;

	if (!m || !p || !m->has_fingerprint)
		return -EBADMSG;
	off = m->fingerprint_off;
	if (off < STUN_HEADER_LEN || off > m->len || m->len - off < attr ||
	    get_u16(p + off) != STUN_ATTR_FINGERPRINT ||
	    get_u16(p + off + 2) != STUN_FINGERPRINT_LEN)
		return -EBADMSG;
	memcpy(hdr, p, STUN_HEADER_LEN);
	put_u16(hdr + 2, (uint16_t)(off + attr - STUN_HEADER_LEN));
	if (fingerprint(hdr, p + STUN_HEADER_LEN, off - STUN_HEADER_LEN) !=
	    get_u32(p + off + STUN_ATTR_HDR_LEN))
		return -EBADMSG;
	return 0;
}

int stun_ice_username_split(struct stun_str u, struct stun_str *local,
			    struct stun_str *remote)
{
	const uint8_t *colon;
	size_t l, r;

	if (!u.p || !local || !remote || u.len == 0)
		return -EBADMSG;
	colon = memchr(u.p, ':', u.len);
	if (!colon)
		return -EBADMSG;
	l = (size_t)(colon - u.p);
	r = u.len - l - 1;
	if (l == 0 || r == 0 || memchr(colon + 1, ':', r))
		return -EBADMSG;
	local->p = u.p;
	local->len = l;
	remote->p = colon + 1;
	remote->len = r;
	return 0;
}

/* ---- writers ------------------------------------------------------------
 * A tiny sticky-error writer: each step does nothing once one failed, and
 * keeps the header's length field equal to what has been written, which is
 * what both digests need (RFC 8489 §14.5, §14.7).
 */

struct wr {
	uint8_t *p;
	size_t cap;
	size_t len;
	int err;
};

static bool wr_room(struct wr *w, size_t n)
{
	if (w->err)
		return false;
	if (n > w->cap - w->len) {
		w->err = -ENOSPC;
		return false;
	}
	if (w->len + n - STUN_HEADER_LEN > STUN_MAX_BODY) {
		w->err = -EINVAL;
		return false;
	}
	return true;
}

static void wr_header(struct wr *w, uint16_t type, const uint8_t *tid)
{
	if (w->cap < STUN_HEADER_LEN) {
		w->err = -ENOSPC;
		return;
	}
	put_u16(w->p, type);
	put_u16(w->p + 2, 0);
	put_u32(w->p + 4, STUN_MAGIC_COOKIE);
	memcpy(w->p + 8, tid, STUN_TID_LEN);
	w->len = STUN_HEADER_LEN;
}

static void wr_attr(struct wr *w, uint16_t type, const void *v, size_t n,
		    uint8_t pad)
{
	size_t total = STUN_ATTR_HDR_LEN + pad4(n);

	if (n > STUN_MAX_BODY || !wr_room(w, total))
		return;
	put_u16(w->p + w->len, type);
	put_u16(w->p + w->len + 2, (uint16_t)n);
	if (n)
		memcpy(w->p + w->len + STUN_ATTR_HDR_LEN, v, n);
	memset(w->p + w->len + STUN_ATTR_HDR_LEN + n, pad, pad4(n) - n);
	w->len += total;
	put_u16(w->p + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
}

static void wr_u32(struct wr *w, uint16_t type, uint32_t x)
{
	uint8_t v[4];

	put_u32(v, x);
	wr_attr(w, type, v, sizeof(v), 0);
}

static void wr_u64(struct wr *w, uint16_t type, uint64_t x)
{
	uint8_t v[8];

	put_u32(v, (uint32_t)(x >> 32));
	put_u32(v + 4, (uint32_t)x);
	wr_attr(w, type, v, sizeof(v), 0);
}

/* XOR-MAPPED-ADDRESS (RFC 8489 §14.2); needs the header written. */
static void wr_xaddr(struct wr *w, const struct sockaddr *sa)
{
	uint8_t v[STUN_XADDR6_LEN];
	const uint8_t *addr;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	uint16_t port;
	size_t alen;

	if (w->err)
		return;
	if (sa->sa_family == AF_INET) {
		memcpy(&sin, sa, sizeof(sin));
		port = ntohs(sin.sin_port);
		addr = (const uint8_t *)&sin.sin_addr;
		alen = 4;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(&sin6, sa, sizeof(sin6));
		port = ntohs(sin6.sin6_port);
		addr = sin6.sin6_addr.s6_addr;
		alen = 16;
		/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d;
		 * the peer sent from IPv4 and expects an IPv4 answer. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			addr += 12;
			alen = 4;
		}
	} else {
		w->err = -EINVAL;
		return;
	}
	v[0] = 0;
	v[1] = alen == 4 ? STUN_FAMILY_IPV4 : STUN_FAMILY_IPV6;
	put_u16(v + 2, (uint16_t)(port ^ (STUN_MAGIC_COOKIE >> 16)));
	/* w->p[4..20) is the cookie then the transaction id. */
	for (size_t i = 0; i < alen; i++)
		v[4 + i] = addr[i] ^ w->p[4 + i];
	wr_attr(w, STUN_ATTR_XOR_MAPPED_ADDRESS, v, 4 + alen, 0);
}

static void wr_integrity(struct wr *w, const void *key, size_t keylen)
{
	uint8_t mac[STUN_HMAC_SHA1_LEN];
	const size_t attr = STUN_ATTR_HDR_LEN + STUN_HMAC_SHA1_LEN;
	int rc;

	if (!key || !wr_room(w, attr))
		return;
	put_u16(w->p + 2, (uint16_t)(w->len + attr - STUN_HEADER_LEN));
	rc = hmac_sha1(key, keylen, w->p, w->p + STUN_HEADER_LEN,
		       w->len - STUN_HEADER_LEN, mac);
	if (rc) {
		w->err = rc;
		return;
	}
	wr_attr(w, STUN_ATTR_MESSAGE_INTEGRITY, mac, sizeof(mac), 0);
	OPENSSL_cleanse(mac, sizeof(mac));
}

static void wr_fingerprint(struct wr *w)
{
	const size_t attr = STUN_ATTR_HDR_LEN + STUN_FINGERPRINT_LEN;

	if (!wr_room(w, attr))
		return;
	put_u16(w->p + 2, (uint16_t)(w->len + attr - STUN_HEADER_LEN));
	wr_u32(w, STUN_ATTR_FINGERPRINT,
	       fingerprint(w->p, w->p + STUN_HEADER_LEN,
			   w->len - STUN_HEADER_LEN));
}

static int wr_done(struct wr *w, size_t *outlen)
{
	if (w->err)
		return w->err;
	*outlen = w->len;
	return 0;
}

/* Optional text: NULL is absent, otherwise at most max bytes. */
static bool text_ok(const char *s, size_t max)
{
	return !s || strnlen(s, max + 1) <= max;
}

static bool common_args_ok(const uint8_t *out, const uint8_t *tid,
			   const void *key, size_t keylen,
			   const size_t *outlen)
{
	return out && tid && outlen && (!key || keylen > 0);
}

int stun__write_binding_success_pad(uint8_t *out, size_t cap,
				    const uint8_t tid[STUN_TID_LEN],
				    const struct sockaddr *mapped,
				    const char *software, const void *key,
				    size_t keylen, uint8_t pad, size_t *outlen)
{
	struct wr w = { out, cap, 0, 0 };

	if (!common_args_ok(out, tid, key, keylen, outlen) || !mapped ||
	    !text_ok(software, STUN_MAX_TEXT_WRITE_LEN))
		return -EINVAL;
	wr_header(&w, STUN_BINDING_SUCCESS, tid);
	if (software)
		wr_attr(&w, STUN_ATTR_SOFTWARE, software, strlen(software),
			pad);
	wr_xaddr(&w, mapped);
	wr_integrity(&w, key, keylen);
	wr_fingerprint(&w);
	return wr_done(&w, outlen);
}

int stun_write_binding_success(uint8_t *out, size_t cap,
			       const uint8_t tid[STUN_TID_LEN],
			       const struct sockaddr *mapped,
			       const char *software, const void *key,
			       size_t keylen, size_t *outlen)
{
	return stun__write_binding_success_pad(out, cap, tid, mapped,
					       software, key, keylen, 0,
					       outlen);
}

static const char *default_reason(int code)
{
	switch (code) {
	case STUN_ERR_TRY_ALTERNATE: return "Try Alternate";
	case STUN_ERR_BAD_REQUEST: return "Bad Request";
	case STUN_ERR_UNAUTHORIZED: return "Unauthorized";
	case STUN_ERR_FORBIDDEN: return "Forbidden";
	case STUN_ERR_UNKNOWN_ATTRIBUTE: return "Unknown Attribute";
	case STUN_ERR_STALE_NONCE: return "Stale Nonce";
	case STUN_ERR_ROLE_CONFLICT: return "Role Conflict";
	case STUN_ERR_SERVER_ERROR: return "Server Error";
	default: return "";
	}
}

static int write_error(uint8_t *out, size_t cap, const uint8_t *tid,
		       int code, const char *reason, const uint16_t *types,
		       size_t n, const void *key, size_t keylen,
		       size_t *outlen)
{
	struct wr w = { out, cap, 0, 0 };
	uint8_t ec[STUN_ERROR_CODE_HDR + STUN_MAX_TEXT_WRITE_LEN];
	uint8_t ua[2 * STUN_MAX_UNKNOWN];
	size_t rlen;

	if (!common_args_ok(out, tid, key, keylen, outlen) ||
	    code < STUN_ERR_MIN || code > STUN_ERR_MAX ||
	    !text_ok(reason, STUN_MAX_TEXT_WRITE_LEN) ||
	    n > STUN_MAX_UNKNOWN || (n && !types))
		return -EINVAL;
	if (!reason)
		reason = default_reason(code);
	rlen = strlen(reason);
	ec[0] = 0; /* 21 reserved bits, class, number: RFC 8489 §14.8 */
	ec[1] = 0;
	ec[2] = (uint8_t)(code / 100);
	ec[3] = (uint8_t)(code % 100);
	memcpy(ec + STUN_ERROR_CODE_HDR, reason, rlen);
	wr_header(&w, STUN_BINDING_ERROR, tid);
	wr_attr(&w, STUN_ATTR_ERROR_CODE, ec, STUN_ERROR_CODE_HDR + rlen, 0);
	if (n) {
		for (size_t i = 0; i < n; i++)
			put_u16(ua + 2 * i, types[i]);
		wr_attr(&w, STUN_ATTR_UNKNOWN_ATTRIBUTES, ua, 2 * n, 0);
	}
	wr_integrity(&w, key, keylen);
	wr_fingerprint(&w);
	return wr_done(&w, outlen);
}

int stun_write_binding_error(uint8_t *out, size_t cap,
			     const uint8_t tid[STUN_TID_LEN], int code,
			     const char *reason, const void *key,
			     size_t keylen, size_t *outlen)
{
	return write_error(out, cap, tid, code, reason, NULL, 0, key, keylen,
			   outlen);
}

int stun_write_binding_error_unknown(uint8_t *out, size_t cap,
				     const uint8_t tid[STUN_TID_LEN],
				     const uint16_t *types, size_t n,
				     const void *key, size_t keylen,
				     size_t *outlen)
{
	if (n == 0)
		return -EINVAL;
	return write_error(out, cap, tid, STUN_ERR_UNKNOWN_ATTRIBUTE, NULL,
			   types, n, key, keylen, outlen);
}

int stun__write_binding_request_pad(uint8_t *out, size_t cap,
				    const struct stun_binding_request *req,
				    const void *key, size_t keylen, uint8_t pad,
				    size_t *outlen)
{
	struct wr w = { out, cap, 0, 0 };

	if (!req || !common_args_ok(out, req->tid, key, keylen, outlen) ||
	    !text_ok(req->software, STUN_MAX_TEXT_WRITE_LEN) ||
	    !text_ok(req->username, STUN_MAX_USERNAME_LEN) ||
	    (req->role != STUN_ROLE_NONE && req->role != STUN_ROLE_CONTROLLING &&
	     req->role != STUN_ROLE_CONTROLLED))
		return -EINVAL;
	wr_header(&w, STUN_BINDING_REQUEST, req->tid);
	if (req->software)
		wr_attr(&w, STUN_ATTR_SOFTWARE, req->software,
			strlen(req->software), pad);
	if (req->priority)
		wr_u32(&w, STUN_ATTR_PRIORITY, req->priority);
	if (req->role == STUN_ROLE_CONTROLLED)
		wr_u64(&w, STUN_ATTR_ICE_CONTROLLED, req->tiebreaker);
	else if (req->role == STUN_ROLE_CONTROLLING)
		wr_u64(&w, STUN_ATTR_ICE_CONTROLLING, req->tiebreaker);
	if (req->use_candidate)
		wr_attr(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0, 0);
	if (req->username)
		wr_attr(&w, STUN_ATTR_USERNAME, req->username,
			strlen(req->username), pad);
	wr_integrity(&w, key, keylen);
	wr_fingerprint(&w);
	return wr_done(&w, outlen);
}

int stun_write_binding_request(uint8_t *out, size_t cap,
			       const struct stun_binding_request *req,
			       const void *key, size_t keylen, size_t *outlen)
{
	return stun__write_binding_request_pad(out, cap, req, key, keylen, 0,
					       outlen);
}
