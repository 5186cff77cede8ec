/*
 * fuzz_stun — libFuzzer target for the STUN decoder (src/stun).
 *
 * STUN is the first thing a stranger's packet meets on the media port, so
 * besides "never crash" the target checks what the server relies on:
 *   - whatever decodes has its offsets and strings inside the input;
 *   - both digest checks run on it without harm;
 *   - for a decoded Binding request, the success response the server
 *     would send decodes back with the same transaction id and address and
 *     passes its own integrity and fingerprint checks; a request re-encoded
 *     from the decoded fields decodes to the same fields; an error response
 *     (420 from the recorded unknown types, or 400) decodes back too.
 * A broken invariant calls abort() so the fuzzer reports it.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun/stun.h"

static const char key[] = "fuzz-ice-password-0123";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_inside(struct stun_str s, const uint8_t *p, size_t len)
{
	check(s.p >= p && s.len <= len && (size_t)(s.p - p) <= len - s.len);
}

static void roundtrip_success(const struct stun_msg *req)
{
	uint8_t out[256];
	size_t len = 0;
	struct stun_msg m;
	struct sockaddr_in sin;
	const struct sockaddr *mapped;

	/* Answer with the address the request carried, if any, else a fixed
	 * one, the way the server answers with the packet's source. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(50000);
	sin.sin_addr.s_addr = htonl(0xC6336407); /* 198.51.100.7 */
	mapped = req->has_xor_mapped ? (const struct sockaddr *)&req->xor_mapped
				     : (const struct sockaddr *)&sin;

	check(stun_write_binding_success(out, sizeof(out), req->tid, mapped,
					 "conclave", key, strlen(key),
					 &len) == 0);
	check(stun_decode(out, len, &m) == 0);
	check(m.type == STUN_BINDING_SUCCESS);
	check(memcmp(m.tid, req->tid, STUN_TID_LEN) == 0);
	check(m.has_xor_mapped && m.has_integrity && m.has_fingerprint);
	check(stun_check_integrity(&m, out, key, strlen(key)) == 0);
	check(stun_check_fingerprint(&m, out) == 0);
	if (mapped->sa_family == AF_INET) {
		struct sockaddr_in a, b;
		memcpy(&a, mapped, sizeof(a));
		memcpy(&b, &m.xor_mapped, sizeof(b));
		check(b.sin_family == AF_INET && a.sin_port == b.sin_port &&
		      a.sin_addr.s_addr == b.sin_addr.s_addr);
	} else {
		struct sockaddr_in6 a, b;
		memcpy(&a, mapped, sizeof(a));
		memcpy(&b, &m.xor_mapped, sizeof(b));
		check(a.sin6_port == b.sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr))
			check(b.sin6_family == AF_INET);
		else
			check(b.sin6_family == AF_INET6 &&
			      memcmp(&a.sin6_addr, &b.sin6_addr, 16) == 0);
	}
}

static void roundtrip_request(const struct stun_msg *in)
{
	char user[STUN_MAX_USERNAME_LEN + 1];
	char sw[STUN_MAX_TEXT_WRITE_LEN + 1];
	uint8_t out[2048];
	size_t len = 0;
	struct stun_msg m;
	struct stun_binding_request req;

	memset(&req, 0, sizeof(req));
	req.tid = in->tid;
	/* Text with an embedded NUL cannot go through the C-string API. */
	if (in->has_username && !memchr(in->username.p, 0, in->username.len)) {
		memcpy(user, in->username.p, in->username.len);
		user[in->username.len] = 0;
		req.username = user;
	}
	if (in->has_software && in->software.len <= STUN_MAX_TEXT_WRITE_LEN &&
	    !memchr(in->software.p, 0, in->software.len)) {
		memcpy(sw, in->software.p, in->software.len);
		sw[in->software.len] = 0;
		req.software = sw;
	}
	req.priority = in->has_priority ? in->priority : 0;
	req.role = in->ice_controlling ? STUN_ROLE_CONTROLLING
		 : in->ice_controlled  ? STUN_ROLE_CONTROLLED
				       : STUN_ROLE_NONE;
	req.tiebreaker = in->tiebreaker;
	req.use_candidate = in->use_candidate;

	check(stun_write_binding_request(out, sizeof(out), &req, key,
					 strlen(key), &len) == 0);
	check(stun_decode(out, len, &m) == 0);
	check(m.type == STUN_BINDING_REQUEST);
	check(memcmp(m.tid, in->tid, STUN_TID_LEN) == 0);
	check(m.has_username == (req.username != NULL));
	if (req.username)
		check(m.username.len == in->username.len &&
		      memcmp(m.username.p, in->username.p, m.username.len) == 0);
	check(m.has_software == (req.software != NULL));
	check(m.has_priority == (req.priority != 0));
	if (req.priority)
		check(m.priority == in->priority);
	check(m.ice_controlling == (req.role == STUN_ROLE_CONTROLLING));
	check(m.ice_controlled == (req.role == STUN_ROLE_CONTROLLED));
	if (req.role != STUN_ROLE_NONE)
		check(m.tiebreaker == in->tiebreaker);
	check(m.use_candidate == in->use_candidate);
	check(m.n_unknown == 0);
	check(stun_check_integrity(&m, out, key, strlen(key)) == 0);
	check(stun_check_fingerprint(&m, out) == 0);
}

static void roundtrip_error(const struct stun_msg *in)
{
	uint8_t out[512];
	size_t len = 0;
	struct stun_msg m;
	int code;

	if (in->n_unknown) {
		check(stun_write_binding_error_unknown(out, sizeof(out), in->tid,
						       in->unknown,
						       in->n_unknown, key,
						       strlen(key), &len) == 0);
		code = STUN_ERR_UNKNOWN_ATTRIBUTE;
	} else {
		check(stun_write_binding_error(out, sizeof(out), in->tid,
					       STUN_ERR_BAD_REQUEST, NULL, NULL,
					       0, &len) == 0);
		code = STUN_ERR_BAD_REQUEST;
	}
	check(stun_decode(out, len, &m) == 0);
	check(m.type == STUN_BINDING_ERROR && m.has_error &&
	      m.error_code == code);
	check(stun_check_fingerprint(&m, out) == 0);
	if (in->n_unknown)
		check(stun_check_integrity(&m, out, key, strlen(key)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	bool is = stun_is_stun(data, size);
	int rc = stun_decode(data, size, &m);

	if (rc != 0)
		return 0;
	check(is);
	check(m.len == size && m.n_attrs <= STUN_MAX_ATTRS);
	check(m.n_unknown <= STUN_MAX_UNKNOWN);
	if (m.has_username)
		check_inside(m.username, data, size);
	if (m.has_software)
		check_inside(m.software, data, size);
	if (m.has_error)
		check_inside(m.reason, data, size);
	if (m.has_realm)
		check_inside(m.realm, data, size);
	if (m.has_nonce)
		check_inside(m.nonce, data, size);
	if (m.has_integrity)
		check(m.integrity_off >= STUN_HEADER_LEN &&
		      m.integrity_off + 24 <= size);
	if (m.has_fingerprint)
		check(m.fingerprint_off + 8 == size);

	(void)stun_check_integrity(&m, data, key, strlen(key));
	(void)stun_check_fingerprint(&m, data);

	if (m.has_username) {
		struct stun_str l, r;
		if (stun_ice_username_split(m.username, &l, &r) == 0)
			check(l.len + r.len + 1 == m.username.len);
	}

	if (m.method == STUN_METHOD_BINDING && m.cls == STUN_CLASS_REQUEST) {
		roundtrip_success(&m);
		roundtrip_request(&m);
		roundtrip_error(&m);
	}
	return 0;
}
