/*
 * Unit tests for src/stun: the RFC 5769 test vectors (decode, integrity,
 * fingerprint, and byte-exact re-encoding), writer/decoder round trips,
 * error responses, and malformed input.
 *
 * About the RFC 5769 samples: the password printed in §2.1-§2.3 is
 * "VOkJxbRl1RmTxUk/WvJxBt" (the MACs in the hex dumps only verify with
 * it). §2.1-§2.3 pad USERNAME and SOFTWARE with spaces (0x20), which RFC
 * 5389 allowed; RFC 8489 §14 wants zero padding, so the public writers pad
 * with zeros and the byte-exact comparisons go through the internal
 * stun__write_*_pad variants with pad 0x20. The §2.4 sample pads with
 * zeros.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "stun/stun.h"

static const char rfc5769_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

static const char rfc5769_tid_hex[] = "b7 e7 a7 01 bc 34 d6 86 fa 87 df ae";

/* RFC 5769 §2.1 Sample Request. */
static const char rfc5769_req_hex[] =
	"00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
	"00 24 00 04 6e 00 01 ff"
	"80 29 00 08 93 2f f9 b1 51 26 3b 36"
	"00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
	"00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49"
	"           c1 b5 71 a2"
	"80 28 00 04 e5 7a 3b cf";

/* RFC 5769 §2.2 Sample IPv4 Response. */
static const char rfc5769_resp4_hex[] =
	"01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
	"00 20 00 08 00 01 a1 47 e1 12 a6 43"
	"00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53"
	"           f0 6b e7 d7"
	"80 28 00 04 c0 7d 4c 96";

/* RFC 5769 §2.3 Sample IPv6 Response. */
static const char rfc5769_resp6_hex[] =
	"01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
	"00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5"
	"           be d2 b9 d9"
	"00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75"
	"           bf e3 ed 41"
	"80 28 00 04 c8 fb 0b 4c";

/* RFC 5769 §2.4 Sample Request with Long-Term Authentication. */
static const char rfc5769_ltc_hex[] =
	"00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
	"00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3"
	"           82 b9 00 00"
	"00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34"
	"           6f 4c 39 46 53 54 76 79 36 34 73 41"
	"00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
	"00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2"
	"           8c a8 96 66";

/* USERNAME of §2.4: "マトリックス" (U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9)
 * in UTF-8; the password "TheMªtrⅨ" after SASLprep is "TheMatrIX". */
static const char ltc_user[] =
	"\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";

static int str_is(struct stun_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static int sin_is(const struct sockaddr_storage *ss, const char *ip,
		  uint16_t port)
{
	struct sockaddr_in sin;
	struct in_addr a;

	if (ss->ss_family != AF_INET || inet_pton(AF_INET, ip, &a) != 1)
		return 0;
	memcpy(&sin, ss, sizeof(sin));
	return sin.sin_addr.s_addr == a.s_addr && ntohs(sin.sin_port) == port;
}

static int sin6_is(const struct sockaddr_storage *ss, const char *ip,
		   uint16_t port)
{
	struct sockaddr_in6 sin6;
	struct in6_addr a;

	if (ss->ss_family != AF_INET6 || inet_pton(AF_INET6, ip, &a) != 1)
		return 0;
	memcpy(&sin6, ss, sizeof(sin6));
	return memcmp(&sin6.sin6_addr, &a, sizeof(a)) == 0 &&
	       ntohs(sin6.sin6_port) == port;
}

static void mk_sin(struct sockaddr_in *sin, const char *ip, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

static void mk_sin6(struct sockaddr_in6 *sin6, const char *ip, uint16_t port)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
}

/* Builds a message: header with type and tid 0x01.. then body; returns
 * the total length. */
static size_t mk_msg(uint8_t *out, uint16_t type, const char *body_hex)
{
	long n = test_hex(body_hex, out + STUN_HEADER_LEN, 1024);

	if (n < 0)
		return 0;
	out[0] = (uint8_t)(type >> 8);
	out[1] = (uint8_t)type;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	out[4] = 0x21;
	out[5] = 0x12;
	out[6] = 0xa4;
	out[7] = 0x42;
	for (int i = 0; i < STUN_TID_LEN; i++)
		out[8 + i] = (uint8_t)(i + 1);
	return STUN_HEADER_LEN + (size_t)n;
}

int test_stun_rfc5769_request(void)
{
	uint8_t pkt[256], tid[STUN_TID_LEN], again[256];
	struct stun_msg m;
	struct stun_str local, remote;
	long n = test_hex(rfc5769_req_hex, pkt, sizeof(pkt));
	size_t len = 0;

	TEST_EQ(n, 108);
	TEST_EQ(test_hex(rfc5769_tid_hex, tid, sizeof(tid)), STUN_TID_LEN);
	TEST_ASSERT(stun_is_stun(pkt, (size_t)n));
	TEST_EQ(stun_decode(pkt, (size_t)n, &m), 0);
	TEST_EQ(m.type, STUN_BINDING_REQUEST);
	TEST_EQ(m.method, STUN_METHOD_BINDING);
	TEST_EQ(m.cls, STUN_CLASS_REQUEST);
	TEST_MEMEQ(m.tid, tid, STUN_TID_LEN);
	TEST_EQ(m.len, 108);
	TEST_EQ(m.n_attrs, 6);
	TEST_ASSERT(m.has_software && str_is(m.software, "STUN test client"));
	TEST_ASSERT(m.has_username && str_is(m.username, "evtj:h6vY"));
	TEST_ASSERT(m.has_priority);
	TEST_EQ(m.priority, 0x6e0001ffu);
	TEST_ASSERT(m.ice_controlled && !m.ice_controlling);
	TEST_ASSERT(m.tiebreaker == 0x932ff9b151263b36ull);
	TEST_ASSERT(!m.use_candidate && !m.has_xor_mapped && !m.has_error);
	TEST_EQ(m.n_unknown, 0);
	TEST_ASSERT(m.has_integrity && m.has_fingerprint);
	TEST_EQ(m.integrity_off, 76);
	TEST_EQ(m.fingerprint_off, 100);

	TEST_EQ(stun_check_integrity(&m, pkt, rfc5769_pwd, strlen(rfc5769_pwd)), 0);
	TEST_EQ(stun_check_fingerprint(&m, pkt), 0);
	/* Wrong passwords: a near miss, and empty. */
	TEST_EQ(stun_check_integrity(&m, pkt, "VOkJxbRl1RmTxUk/WvGp5", 21), -EACCES);
	TEST_EQ(stun_check_integrity(&m, pkt, "VOkJxbRl1RmTxUk/WvJxBu", 22), -EACCES);
	TEST_EQ(stun_check_integrity(&m, pkt, rfc5769_pwd, 0), -EACCES);

	TEST_EQ(stun_ice_username_split(m.username, &local, &remote), 0);
	TEST_ASSERT(str_is(local, "evtj") && str_is(remote, "h6vY"));

	/* One flipped bit in PRIORITY: both digests fail. */
	pkt[47] ^= 0x01;
	TEST_EQ(stun_decode(pkt, (size_t)n, &m), 0);
	TEST_EQ(stun_check_integrity(&m, pkt, rfc5769_pwd, strlen(rfc5769_pwd)), -EACCES);
	TEST_EQ(stun_check_fingerprint(&m, pkt), -EBADMSG);
	pkt[47] ^= 0x01;
	/* A flipped bit in the MAC itself, then in the CRC. */
	pkt[80] ^= 0x80;
	TEST_EQ(stun_decode(pkt, (size_t)n, &m), 0);
	TEST_EQ(stun_check_integrity(&m, pkt, rfc5769_pwd, strlen(rfc5769_pwd)), -EACCES);
	pkt[80] ^= 0x80;
	pkt[107] ^= 0x01;
	TEST_EQ(stun_decode(pkt, (size_t)n, &m), 0);
	TEST_EQ(stun_check_integrity(&m, pkt, rfc5769_pwd, strlen(rfc5769_pwd)), 0);
	TEST_EQ(stun_check_fingerprint(&m, pkt), -EBADMSG);
	pkt[107] ^= 0x01;

	/* The request writer, padding with spaces as the sample does,
	 * reproduces it byte for byte. */
	{
		struct stun_binding_request req = {
			.tid = tid,
			.username = "evtj:h6vY",
			.priority = 0x6e0001ffu,
			.role = STUN_ROLE_CONTROLLED,
			.tiebreaker = 0x932ff9b151263b36ull,
			.software = "STUN test client",
		};
		TEST_EQ(stun__write_binding_request_pad(again, sizeof(again), &req,
							rfc5769_pwd,
							strlen(rfc5769_pwd),
							0x20, &len),
			0);
		TEST_EQ(len, 108);
		TEST_MEMEQ(again, pkt, 108);
	}
	return 0;
}

/* Shared by the two response vectors: decode and check, then re-encode. */
static int check_response_vector(const char *hex, size_t want_len,
				  const struct sockaddr *mapped, size_t pad_at,
				  int v6)
{
	uint8_t pkt[256], tid[STUN_TID_LEN], out[256];
	struct stun_msg m, m2;
	long n = test_hex(hex, pkt, sizeof(pkt));
	size_t len = 0, mi;

	TEST_EQ(n, (long)want_len);
	TEST_EQ(test_hex(rfc5769_tid_hex, tid, sizeof(tid)), STUN_TID_LEN);
	TEST_EQ(stun_decode(pkt, (size_t)n, &m), 0);
	TEST_EQ(m.type, STUN_BINDING_SUCCESS);
	TEST_EQ(m.cls, STUN_CLASS_SUCCESS);
	TEST_EQ(m.method, STUN_METHOD_BINDING);
	TEST_MEMEQ(m.tid, tid, STUN_TID_LEN);
	TEST_ASSERT(m.has_software && str_is(m.software, "test vector"));
	TEST_ASSERT(m.has_xor_mapped);
	if (v6)
		TEST_ASSERT(sin6_is(&m.xor_mapped,
				    "2001:db8:1234:5678:11:2233:4455:6677",
				    32853));
	else
		TEST_ASSERT(sin_is(&m.xor_mapped, "192.0.2.1", 32853));
	TEST_EQ(stun_check_integrity(&m, pkt, rfc5769_pwd, strlen(rfc5769_pwd)), 0);
	TEST_EQ(stun_check_fingerprint(&m, pkt), 0);
	TEST_EQ(stun_check_integrity(&m, pkt, "wrong", 5), -EACCES);

	/* Byte-exact with the sample's space padding. */
	TEST_EQ(stun__write_binding_success_pad(out, sizeof(out), tid, mapped,
						"test vector", rfc5769_pwd,
						strlen(rfc5769_pwd), 0x20,
						&len),
		0);
	TEST_EQ(len, want_len);
	TEST_MEMEQ(out, pkt, want_len);

	/* The public writer pads with zero (RFC 8489 §14): the same bytes
	 * up to MESSAGE-INTEGRITY but for the one pad byte, and its own
	 * digests verify. */
	len = 0;
	TEST_EQ(stun_write_binding_success(out, sizeof(out), tid, mapped,
					   "test vector", rfc5769_pwd,
					   strlen(rfc5769_pwd), &len),
		0);
	TEST_EQ(len, want_len);
	TEST_EQ(pkt[pad_at], 0x20);
	TEST_EQ(out[pad_at], 0x00);
	mi = m.integrity_off;
	TEST_MEMEQ(out, pkt, pad_at);
	TEST_MEMEQ(out + pad_at + 1, pkt + pad_at + 1, mi + 4 - pad_at - 1);
	TEST_ASSERT(memcmp(out + mi + 4, pkt + mi + 4, 20) != 0);
	TEST_EQ(stun_decode(out, len, &m2), 0);
	TEST_EQ(stun_check_integrity(&m2, out, rfc5769_pwd, strlen(rfc5769_pwd)), 0);
	TEST_EQ(stun_check_fingerprint(&m2, out), 0);
	TEST_ASSERT(memcmp(&m2.xor_mapped, &m.xor_mapped, sizeof(m.xor_mapped)) == 0);
	return 0;
}

int test_stun_rfc5769_ipv4_response(void)
{
	struct sockaddr_in sin;

	mk_sin(&sin, "192.0.2.1", 32853);
	/* pad byte: header 20 + SOFTWARE header 4 + 11 text bytes */
	return check_response_vector(rfc5769_resp4_hex, 80,
				     (const struct sockaddr *)&sin, 35, 0);
}

int test_stun_rfc5769_ipv6_response(void)
{
	struct sockaddr_in6 sin6;

	mk_sin6(&sin6, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
	return check_response_vector(rfc5769_resp6_hex, 92,
				     (const struct sockaddr *)&sin6, 35, 1);
}

int test_stun_rfc5769_long_term(void)
{
	uint8_t pkt[256], key[EVP_MAX_MD_SIZE];
	char input[128];
	unsigned int klen = 0;
	struct stun_msg m;
	long n = test_hex(rfc5769_ltc_hex, pkt, sizeof(pkt));
	int il;

	TEST_EQ(n, 116);
	TEST_EQ(stun_decode(pkt, (size_t)n, &m), 0);
	TEST_EQ(m.type, STUN_BINDING_REQUEST);
	TEST_ASSERT(m.has_username && str_is(m.username, ltc_user));
	TEST_EQ(m.username.len, 18);
	TEST_ASSERT(m.has_nonce && str_is(m.nonce, "f//499k954d6OL34oL9FSTvy64sA"));
	TEST_ASSERT(m.has_realm && str_is(m.realm, "example.org"));
	TEST_ASSERT(m.has_integrity && !m.has_fingerprint);
	TEST_EQ(stun_check_fingerprint(&m, pkt), -EBADMSG);

	/* RFC 5389 §15.4: key = MD5(username ":" realm ":" SASLprep(pwd)) */
	il = snprintf(input, sizeof(input), "%s:%s:%s", ltc_user, "example.org",
		      "TheMatrIX");
	TEST_ASSERT(il > 0 && (size_t)il < sizeof(input));
	TEST_EQ(EVP_Digest(input, (size_t)il, key, &klen, EVP_md5(), NULL), 1);
	TEST_EQ(klen, 16);
	TEST_EQ(stun_check_integrity(&m, pkt, key, klen), 0);

	/* The password before SASLprep gives another key, which fails. */
	il = snprintf(input, sizeof(input), "%s:%s:%s", ltc_user, "example.org",
		      "TheM\xc2\xaatr\xe2\x85\xa8");
	TEST_EQ(EVP_Digest(input, (size_t)il, key, &klen, EVP_md5(), NULL), 1);
	TEST_EQ(stun_check_integrity(&m, pkt, key, klen), -EACCES);
	return 0;
}

int test_stun_request_roundtrip(void)
{
	static const char pwd[] = "server-ice-password-22c";
	uint8_t tid[STUN_TID_LEN], out[512];
	struct stun_msg m;
	struct stun_str local, remote;
	size_t len = 0;

	for (int i = 0; i < STUN_TID_LEN; i++)
		tid[i] = (uint8_t)(0xA0 + i);

	/* Controlling, nominating: what a browser sends to the server. */
	struct stun_binding_request req = {
		.tid = tid,
		.username = "srvU:cliU",
		.priority = 1853824767u,
		.role = STUN_ROLE_CONTROLLING,
		.tiebreaker = 0x0123456789abcdefull,
		.use_candidate = true,
		.software = "conclave-test",
	};
	TEST_EQ(stun_write_binding_request(out, sizeof(out), &req, pwd,
					   strlen(pwd), &len),
		0);
	TEST_EQ(len % 4, 0);
	TEST_ASSERT(stun_is_stun(out, len));
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_EQ(m.type, STUN_BINDING_REQUEST);
	TEST_MEMEQ(m.tid, tid, STUN_TID_LEN);
	TEST_ASSERT(str_is(m.username, "srvU:cliU"));
	TEST_ASSERT(str_is(m.software, "conclave-test"));
	TEST_EQ(m.priority, 1853824767u);
	TEST_ASSERT(m.ice_controlling && !m.ice_controlled);
	TEST_ASSERT(m.tiebreaker == 0x0123456789abcdefull);
	TEST_ASSERT(m.use_candidate);
	TEST_EQ(stun_check_integrity(&m, out, pwd, strlen(pwd)), 0);
	TEST_EQ(stun_check_fingerprint(&m, out), 0);
	TEST_EQ(stun_ice_username_split(m.username, &local, &remote), 0);
	TEST_ASSERT(str_is(local, "srvU") && str_is(remote, "cliU"));
	/* Zero padding after "srvU:cliU" (9 bytes) and "conclave-test". */
	TEST_EQ(out[24 + 13], 0);

	/* Controlled, no nomination, no software. */
	req.role = STUN_ROLE_CONTROLLED;
	req.use_candidate = false;
	req.software = NULL;
	TEST_EQ(stun_write_binding_request(out, sizeof(out), &req, pwd,
					   strlen(pwd), &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_ASSERT(m.ice_controlled && !m.ice_controlling && !m.use_candidate);
	TEST_ASSERT(!m.has_software);
	TEST_EQ(stun_check_integrity(&m, out, pwd, strlen(pwd)), 0);
	TEST_EQ(stun_check_fingerprint(&m, out), 0);

	/* Plain STUN: no ICE attributes, no key, so no MESSAGE-INTEGRITY. */
	struct stun_binding_request plain = { .tid = tid };
	TEST_EQ(stun_write_binding_request(out, sizeof(out), &plain, NULL, 0,
					   &len),
		0);
	TEST_EQ(len, STUN_HEADER_LEN + 8);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_ASSERT(!m.has_username && !m.has_priority && !m.has_integrity);
	TEST_ASSERT(!m.ice_controlled && !m.ice_controlling);
	TEST_EQ(stun_check_integrity(&m, out, pwd, strlen(pwd)), -EACCES);
	TEST_EQ(stun_check_fingerprint(&m, out), 0);

	/* Bad arguments. */
	TEST_EQ(stun_write_binding_request(out, sizeof(out), &req, pwd, 0, &len),
		-EINVAL);
	TEST_EQ(stun_write_binding_request(out, sizeof(out), NULL, pwd, 3, &len),
		-EINVAL);
	req.role = (enum stun_ice_role)7;
	TEST_EQ(stun_write_binding_request(out, sizeof(out), &req, pwd, 3, &len),
		-EINVAL);
	return 0;
}

int test_stun_success_addresses(void)
{
	static const char pwd[] = "pw";
	uint8_t tid[STUN_TID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff, 0x80 };
	uint8_t out[256];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr sa_unix;
	struct stun_msg m;
	size_t len = 0;

	/* IPv4-mapped IPv6 (dual-stack socket) is answered as IPv4. */
	mk_sin6(&sin6, "::ffff:198.51.100.7", 55432);
	TEST_EQ(stun_write_binding_success(out, sizeof(out), tid,
					   (struct sockaddr *)&sin6, NULL, pwd,
					   2, &len),
		0);
	TEST_EQ(len, 20 + 12 + 24 + 8);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_ASSERT(sin_is(&m.xor_mapped, "198.51.100.7", 55432));
	TEST_ASSERT(!m.has_software);
	TEST_EQ(stun_check_integrity(&m, out, pwd, 2), 0);
	TEST_EQ(stun_check_fingerprint(&m, out), 0);

	mk_sin6(&sin6, "fe80::1", 1);
	TEST_EQ(stun_write_binding_success(out, sizeof(out), tid,
					   (struct sockaddr *)&sin6, "x", NULL,
					   0, &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_ASSERT(sin6_is(&m.xor_mapped, "fe80::1", 1));
	TEST_ASSERT(!m.has_integrity && m.has_fingerprint);

	mk_sin(&sin, "0.0.0.0", 0);
	TEST_EQ(stun_write_binding_success(out, sizeof(out), tid,
					   (struct sockaddr *)&sin, NULL, pwd, 2,
					   &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_ASSERT(sin_is(&m.xor_mapped, "0.0.0.0", 0));

	memset(&sa_unix, 0, sizeof(sa_unix));
	sa_unix.sa_family = AF_UNIX;
	TEST_EQ(stun_write_binding_success(out, sizeof(out), tid, &sa_unix,
					   NULL, pwd, 2, &len),
		-EINVAL);
	TEST_EQ(stun_write_binding_success(out, sizeof(out), tid, NULL, NULL,
					   pwd, 2, &len),
		-EINVAL);
	return 0;
}

int test_stun_error_responses(void)
{
	static const char pwd[] = "icepwd-icepwd-icepwd-1";
	uint8_t tid[STUN_TID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t out[1024];
	char longtext[STUN_MAX_TEXT_WRITE_LEN + 2];
	const uint16_t unknown[] = { 0x7777, 0x0042, 0x0003 };
	struct stun_msg m;
	size_t len = 0;

	/* 400 and 401 to an unauthenticated check: no MESSAGE-INTEGRITY. */
	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 400, NULL, NULL,
					 0, &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_EQ(m.type, STUN_BINDING_ERROR);
	TEST_EQ(m.cls, STUN_CLASS_ERROR);
	TEST_ASSERT(m.has_error);
	TEST_EQ(m.error_code, 400);
	TEST_ASSERT(str_is(m.reason, "Bad Request"));
	TEST_ASSERT(!m.has_integrity);
	TEST_EQ(stun_check_fingerprint(&m, out), 0);

	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 401, NULL, NULL,
					 0, &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_EQ(m.error_code, 401);
	TEST_ASSERT(str_is(m.reason, "Unauthorized"));

	/* 487 to an authenticated check: with MESSAGE-INTEGRITY. */
	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 487, NULL, pwd,
					 strlen(pwd), &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_EQ(m.error_code, 487);
	TEST_ASSERT(str_is(m.reason, "Role Conflict"));
	TEST_EQ(stun_check_integrity(&m, out, pwd, strlen(pwd)), 0);
	TEST_EQ(stun_check_fingerprint(&m, out), 0);

	/* Own reason phrase, odd length, and an empty one. */
	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 599, "odd", NULL,
					 0, &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_EQ(m.error_code, 599);
	TEST_ASSERT(str_is(m.reason, "odd"));
	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 300, "", NULL, 0,
					 &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_EQ(m.error_code, 300);
	TEST_EQ(m.reason.len, 0);

	/* 420 with UNKNOWN-ATTRIBUTES: 3 types, padded to 8 bytes. */
	TEST_EQ(stun_write_binding_error_unknown(out, sizeof(out), tid, unknown,
						 3, pwd, strlen(pwd), &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_EQ(m.error_code, 420);
	TEST_ASSERT(str_is(m.reason, "Unknown Attribute"));
	{
		/* header 20 + ERROR-CODE 4+4+17(+3 pad) = 48 */
		uint8_t want[] = { 0x00, 0x0a, 0x00, 0x06, 0x77, 0x77, 0x00,
				   0x42, 0x00, 0x03, 0x00, 0x00 };
		TEST_MEMEQ(out + 48, want, sizeof(want));
	}
	TEST_EQ(stun_check_integrity(&m, out, pwd, strlen(pwd)), 0);
	TEST_EQ(stun_check_fingerprint(&m, out), 0);

	/* Bad arguments. */
	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 299, NULL, NULL,
					 0, &len),
		-EINVAL);
	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 700, NULL, NULL,
					 0, &len),
		-EINVAL);
	memset(longtext, 'a', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = 0;
	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 400, longtext,
					 NULL, 0, &len),
		-EINVAL);
	longtext[STUN_MAX_TEXT_WRITE_LEN] = 0; /* exactly the limit */
	TEST_EQ(stun_write_binding_error(out, sizeof(out), tid, 400, longtext,
					 NULL, 0, &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	TEST_EQ(m.reason.len, STUN_MAX_TEXT_WRITE_LEN);
	TEST_EQ(stun_write_binding_error_unknown(out, sizeof(out), tid, unknown,
						 0, NULL, 0, &len),
		-EINVAL);
	TEST_EQ(stun_write_binding_error_unknown(out, sizeof(out), tid, unknown,
						 STUN_MAX_UNKNOWN + 1, NULL, 0,
						 &len),
		-EINVAL);
	return 0;
}

/* Every capacity short of the message fails with -ENOSPC, leaves *outlen
 * alone, and writes nothing past cap. */
int test_stun_writer_enospc(void)
{
	static const char pwd[] = "pw-pw-pw";
	uint8_t tid[STUN_TID_LEN] = { 0 };
	uint8_t out[256], ref[256];
	struct sockaddr_in6 sin6;
	size_t full = 0, len;

	mk_sin6(&sin6, "2001:db8::1", 3478);
	TEST_EQ(stun_write_binding_success(ref, sizeof(ref), tid,
					   (struct sockaddr *)&sin6, "sw", pwd,
					   strlen(pwd), &full),
		0);
	for (size_t cap = 0; cap < full; cap++) {
		memset(out, 0xEE, sizeof(out));
		len = 12345;
		TEST_EQ(stun_write_binding_success(out, cap, tid,
						   (struct sockaddr *)&sin6,
						   "sw", pwd, strlen(pwd), &len),
			-ENOSPC);
		TEST_EQ(len, 12345);
		for (size_t i = cap; i < sizeof(out); i++)
			TEST_EQ(out[i], 0xEE);
	}
	TEST_EQ(stun_write_binding_success(out, full, tid,
					   (struct sockaddr *)&sin6, "sw", pwd,
					   strlen(pwd), &len),
		0);
	TEST_EQ(len, full);
	TEST_MEMEQ(out, ref, full);

	TEST_EQ(stun_write_binding_error(ref, sizeof(ref), tid, 487, NULL, pwd,
					 strlen(pwd), &full),
		0);
	for (size_t cap = 0; cap < full; cap++)
		TEST_EQ(stun_write_binding_error(out, cap, tid, 487, NULL, pwd,
						 strlen(pwd), &len),
			-ENOSPC);

	struct stun_binding_request req = { .tid = tid, .username = "a:b",
					    .priority = 1,
					    .role = STUN_ROLE_CONTROLLING,
					    .use_candidate = true };
	TEST_EQ(stun_write_binding_request(ref, sizeof(ref), &req, pwd,
					   strlen(pwd), &full),
		0);
	for (size_t cap = 0; cap < full; cap++)
		TEST_EQ(stun_write_binding_request(out, cap, &req, pwd,
						   strlen(pwd), &len),
			-ENOSPC);
	return 0;
}

int test_stun_is_stun(void)
{
	uint8_t pkt[128];
	long n = test_hex(rfc5769_req_hex, pkt, sizeof(pkt));

	TEST_ASSERT(stun_is_stun(pkt, (size_t)n));
	TEST_ASSERT(!stun_is_stun(NULL, 20));
	for (long i = 0; i < n; i++)
		TEST_ASSERT(!stun_is_stun(pkt, (size_t)i)); /* truncated */
	TEST_ASSERT(!stun_is_stun(pkt, (size_t)n + 4)); /* trailing bytes */
	pkt[0] |= 0x40; /* top bits */
	TEST_ASSERT(!stun_is_stun(pkt, (size_t)n));
	pkt[0] = 0x00;
	pkt[7] ^= 1; /* cookie */
	TEST_ASSERT(!stun_is_stun(pkt, (size_t)n));
	pkt[7] ^= 1;
	pkt[3] = 0x57; /* length not a multiple of 4 */
	TEST_ASSERT(!stun_is_stun(pkt, 20 + 0x57));
	pkt[3] = 0x58;
	TEST_ASSERT(stun_is_stun(pkt, (size_t)n));
	/* RFC 7983 neighbours: a DTLS 1.2 record header (first byte 22
	 * also has the top bits clear; the cookie tells them apart) and
	 * RTP (first byte 128..191). */
	memcpy(pkt, "\x16\xfe\xfd\x00\x00\x00\x00\x00", 8);
	TEST_ASSERT(!stun_is_stun(pkt, (size_t)n));
	TEST_EQ(test_hex(rfc5769_req_hex, pkt, sizeof(pkt)), n);
	pkt[0] = 0x80;
	TEST_ASSERT(!stun_is_stun(pkt, (size_t)n));
	/* Header only, no attributes: a valid (empty) message. */
	TEST_EQ(mk_msg(pkt, STUN_BINDING_REQUEST, ""), 20);
	TEST_ASSERT(stun_is_stun(pkt, 20));
	return 0;
}

int test_stun_decode_rejects(void)
{
	uint8_t pkt[1200], vec[128];
	struct stun_msg m;
	size_t n;
	long vn = test_hex(rfc5769_req_hex, vec, sizeof(vec));

	/* Every truncation of a valid message, with the length field
	 * patched to match, either fails or decodes cleanly. */
	for (long cut = 20; cut < vn; cut += 4) {
		memcpy(pkt, vec, (size_t)cut);
		pkt[2] = (uint8_t)((cut - 20) >> 8);
		pkt[3] = (uint8_t)(cut - 20);
		(void)stun_decode(pkt, (size_t)cut, &m);
	}
	/* Cut inside USERNAME (attr at 64, 9+3 bytes): overruns. */
	memcpy(pkt, vec, 72);
	pkt[3] = 72 - 20;
	TEST_EQ(stun_decode(pkt, 72, &m), -EBADMSG);

	/* Out-param untouched on failure. */
	memset(&m, 0x5A, sizeof(m));
	TEST_EQ(stun_decode(pkt, 72, &m), -EBADMSG);
	TEST_EQ(m.len, (size_t)0x5A5A5A5A5A5A5A5Aull);
	TEST_EQ(stun_decode(NULL, 0, &m), -EBADMSG);
	TEST_EQ(stun_decode(vec, (size_t)vn, NULL), -EBADMSG);

	/* Attribute length overruns the message. */
	n = mk_msg(pkt, STUN_BINDING_REQUEST, "0024 0008 00000001");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	/* Wrong fixed lengths. */
	n = mk_msg(pkt, STUN_BINDING_REQUEST, "0024 0003 00000000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_REQUEST, "0025 0004 00000000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_REQUEST, "802a 0004 00000000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_REQUEST, "0008 0010 00000000 00000000 00000000 00000000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_REQUEST, "8028 0008 00000000 00000000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	/* XOR-MAPPED-ADDRESS: unknown family; IPv4 family with IPv6 size. */
	n = mk_msg(pkt, STUN_BINDING_SUCCESS, "0020 0008 0003a147 e112a643");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_SUCCESS,
		   "0020 0014 0001a147 e112a643 00000000 00000000 00000000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_SUCCESS, "0020 0004 0001a147");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	/* ERROR-CODE: class 2, class 7, number 100, too short. */
	n = mk_msg(pkt, STUN_BINDING_ERROR, "0009 0004 00000200");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_ERROR, "0009 0004 00000700");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_ERROR, "0009 0004 00000464");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_ERROR, "0009 0002 0000 0000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	/* ... but reserved bits set in the class byte are ignored. */
	n = mk_msg(pkt, STUN_BINDING_ERROR, "0009 0004 0000f401");
	TEST_EQ(stun_decode(pkt, n, &m), 0);
	TEST_EQ(m.error_code, 401);
	/* Anything after FINGERPRINT. */
	n = mk_msg(pkt, STUN_BINDING_REQUEST, "8028 0004 00000000 8022 0000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	n = mk_msg(pkt, STUN_BINDING_REQUEST, "8028 0004 00000000 8028 0004 00000000");
	TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	/* Too many attributes: STUN_MAX_ATTRS empty SOFTWAREs pass, one
	 * more fails. */
	{
		char body[8 * (STUN_MAX_ATTRS + 1) + 1];
		body[0] = 0;
		for (int i = 0; i < STUN_MAX_ATTRS; i++)
			strcat(body, "80220000");
		n = mk_msg(pkt, STUN_BINDING_REQUEST, body);
		TEST_EQ(stun_decode(pkt, n, &m), 0);
		TEST_EQ(m.n_attrs, STUN_MAX_ATTRS);
		strcat(body, "80220000");
		n = mk_msg(pkt, STUN_BINDING_REQUEST, body);
		TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	}
	/* Over-long USERNAME. */
	{
		char body[9 + 2 * (STUN_MAX_USERNAME_LEN + 4) + 1];
		size_t ulen = STUN_MAX_USERNAME_LEN + 4;
		snprintf(body, sizeof(body), "0006%04zx", ulen);
		for (size_t i = 0; i < ulen; i++)
			strcat(body, "61");
		n = mk_msg(pkt, STUN_BINDING_REQUEST, body);
		TEST_EQ(stun_decode(pkt, n, &m), -EBADMSG);
	}
	return 0;
}

int test_stun_after_integrity(void)
{
	static const char pwd[] = "pwpwpwpwpwpwpwpwpwpwpw";
	uint8_t tid[STUN_TID_LEN] = { 7 };
	uint8_t out[256], tmp[256];
	struct stun_msg m;
	size_t len = 0, mi_end;
	struct stun_binding_request req = { .tid = tid, .username = "a:b",
					    .priority = 5,
					    .role = STUN_ROLE_CONTROLLING };

	TEST_EQ(stun_write_binding_request(out, sizeof(out), &req, pwd,
					   strlen(pwd), &len),
		0);
	TEST_EQ(stun_decode(out, len, &m), 0);
	mi_end = m.integrity_off + 24;

	/* An attacker appends USE-CANDIDATE and PRIORITY after
	 * MESSAGE-INTEGRITY (dropping FINGERPRINT): they are ignored and
	 * the MAC still verifies (RFC 8489 §14.5). */
	memcpy(tmp, out, mi_end);
	memcpy(tmp + mi_end, "\x00\x25\x00\x00\x00\x24\x00\x04\x00\x00\x00\x09", 12);
	tmp[3] = (uint8_t)(mi_end + 12 - 20);
	TEST_EQ(stun_decode(tmp, mi_end + 12, &m), 0);
	TEST_ASSERT(!m.use_candidate);
	TEST_EQ(m.priority, 5);
	TEST_EQ(m.n_attrs, 6);
	TEST_EQ(stun_check_integrity(&m, tmp, pwd, strlen(pwd)), 0);
	TEST_ASSERT(!m.has_fingerprint);

	/* A second MESSAGE-INTEGRITY is ignored too. */
	memcpy(tmp + mi_end, out + m.integrity_off, 24);
	tmp[3] = (uint8_t)(mi_end + 24 - 20);
	TEST_EQ(stun_decode(tmp, mi_end + 24, &m), 0);
	TEST_EQ(stun_check_integrity(&m, tmp, pwd, strlen(pwd)), 0);

	/* MESSAGE-INTEGRITY-SHA256 (32-byte value) between
	 * MESSAGE-INTEGRITY and FINGERPRINT is allowed; the FINGERPRINT
	 * covers it. */
	{
		size_t l2 = mi_end + 36 + 8;
		uint32_t crc;

		memset(tmp + mi_end, 0xAB, 36);
		memcpy(tmp + mi_end, "\x00\x1c\x00\x20", 4);
		tmp[3] = (uint8_t)(l2 - 20);
		crc = (uint32_t)crc32(0L, tmp, (uInt)(mi_end + 36)) ^
		      STUN_FINGERPRINT_XOR;
		memcpy(tmp + mi_end + 36, "\x80\x28\x00\x04", 4);
		tmp[mi_end + 40] = (uint8_t)(crc >> 24);
		tmp[mi_end + 41] = (uint8_t)(crc >> 16);
		tmp[mi_end + 42] = (uint8_t)(crc >> 8);
		tmp[mi_end + 43] = (uint8_t)crc;
		TEST_EQ(stun_decode(tmp, l2, &m), 0);
		TEST_ASSERT(m.has_fingerprint);
		TEST_EQ(m.fingerprint_off, mi_end + 36);
		TEST_EQ(stun_check_fingerprint(&m, tmp), 0);
		TEST_EQ(stun_check_integrity(&m, tmp, pwd, strlen(pwd)), 0);
	}
	return 0;
}

int test_stun_unknown_attributes(void)
{
	uint8_t pkt[256];
	struct stun_msg m;
	size_t n;

	n = mk_msg(pkt, STUN_BINDING_REQUEST,
		   "7777 0001 41000000" /* comprehension-required, unknown */
		   "c057 0004 00010000" /* GOOG-NETWORK-INFO: optional */
		   "0001 0008 00010000 01020304" /* MAPPED-ADDRESS: known */
		   "0000 0000"                   /* reserved type 0 */
		   "7777 0000"                   /* repeated: recorded once */
		   "001c 0000");                 /* MI-SHA256: known */
	TEST_EQ(stun_decode(pkt, n, &m), 0);
	TEST_EQ(m.n_unknown, 2);
	TEST_EQ(m.unknown[0], 0x7777);
	TEST_EQ(m.unknown[1], 0x0000);

	/* More than STUN_MAX_UNKNOWN distinct: the first ones are kept. */
	n = mk_msg(pkt, STUN_BINDING_REQUEST,
		   "1001 0000 1002 0000 1003 0000 1004 0000 1005 0000"
		   "1006 0000 1007 0000 1008 0000 1009 0000 100a 0000");
	TEST_EQ(stun_decode(pkt, n, &m), 0);
	TEST_EQ(m.n_unknown, STUN_MAX_UNKNOWN);
	TEST_EQ(m.unknown[STUN_MAX_UNKNOWN - 1], 0x1008);

	/* Duplicates of known attributes: the first one counts. */
	n = mk_msg(pkt, STUN_BINDING_REQUEST,
		   "0024 0004 00000001 0024 0004 00000002"
		   "8029 0008 00000000 00000001 802a 0008 00000000 00000002");
	TEST_EQ(stun_decode(pkt, n, &m), 0);
	TEST_EQ(m.priority, 1);
	TEST_ASSERT(m.ice_controlled && m.ice_controlling);
	TEST_ASSERT(m.tiebreaker == 1);
	return 0;
}

int test_stun_username_split(void)
{
	struct stun_str l, r, u;

	u.p = (const uint8_t *)"abcd:efgh";
	u.len = 9;
	TEST_EQ(stun_ice_username_split(u, &l, &r), 0);
	TEST_ASSERT(str_is(l, "abcd") && str_is(r, "efgh"));
	/* Uses only u.len bytes. */
	u.len = 6;
	TEST_EQ(stun_ice_username_split(u, &l, &r), 0);
	TEST_ASSERT(str_is(r, "e"));
	u.len = 5;
	TEST_EQ(stun_ice_username_split(u, &l, &r), -EBADMSG);

	const char *bad[] = { "", ":", "abc", ":abc", "abc:", "a:b:c", "a::b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u.p = (const uint8_t *)bad[i];
		u.len = strlen(bad[i]);
		l.p = NULL;
		TEST_EQ(stun_ice_username_split(u, &l, &r), -EBADMSG);
		TEST_ASSERT(l.p == NULL);
	}
	return 0;
}

int test_stun_type_bits(void)
{
	TEST_EQ(stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), STUN_BINDING_REQUEST);
	TEST_EQ(stun_type(STUN_METHOD_BINDING, STUN_CLASS_INDICATION), STUN_BINDING_INDICATION);
	TEST_EQ(stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), STUN_BINDING_SUCCESS);
	TEST_EQ(stun_type(STUN_METHOD_BINDING, STUN_CLASS_ERROR), STUN_BINDING_ERROR);
	/* TURN Allocate (0x003) error response is 0x0113; method 0xFFF
	 * error is 0x3FFF (RFC 8489 §5). */
	TEST_EQ(stun_type(0x003, STUN_CLASS_ERROR), 0x0113);
	TEST_EQ(stun_type(0xFFF, STUN_CLASS_ERROR), 0x3FFF);

	uint8_t pkt[64];
	struct stun_msg m;
	size_t n = mk_msg(pkt, 0x3FFF, "");
	TEST_EQ(stun_decode(pkt, n, &m), 0);
	TEST_EQ(m.method, 0xFFF);
	TEST_EQ(m.cls, STUN_CLASS_ERROR);
	n = mk_msg(pkt, 0x0113, "");
	TEST_EQ(stun_decode(pkt, n, &m), 0);
	TEST_EQ(m.method, 0x003);
	TEST_EQ(m.cls, STUN_CLASS_ERROR);
	return 0;
}

/* Deterministic mutation of the vectors: never crashes, and whatever
 * decodes has offsets inside the message. */
int test_stun_garbled(void)
{
	const char *vecs[] = { rfc5769_req_hex, rfc5769_resp4_hex,
			       rfc5769_resp6_hex, rfc5769_ltc_hex };
	uint8_t base[256], pkt[256];
	uint32_t x = 0x12345678u;
	int decoded = 0;

	for (int round = 0; round < 20000; round++) {
		long n = test_hex(vecs[round % 4], base, sizeof(base));
		size_t len = (size_t)n;
		struct stun_msg m;

		memcpy(pkt, base, len);
		for (int k = 0; k < 1 + round % 4; k++) {
			x = x * 1664525u + 1013904223u;
			size_t at = (x >> 8) % len;
			/* keep the header plausible half of the time */
			if ((round & 1) && at < 8)
				at += 8;
			pkt[at] ^= (uint8_t)(1u << ((x >> 24) & 7));
		}
		if (round % 7 == 0)
			len = 20 + ((x >> 3) % (len - 19));
		if (stun_decode(pkt, len, &m) == 0) {
			decoded++;
			TEST_ASSERT(m.len == len);
			if (m.has_integrity)
				TEST_ASSERT(m.integrity_off + 24 <= len);
			if (m.has_fingerprint)
				TEST_ASSERT(m.fingerprint_off + 8 == len);
			if (m.has_username)
				TEST_ASSERT(m.username.p >= pkt &&
					    m.username.p + m.username.len <= pkt + len);
			(void)stun_check_integrity(&m, pkt, rfc5769_pwd, 22);
			(void)stun_check_fingerprint(&m, pkt);
		}
	}
	TEST_ASSERT(decoded > 100);
	return 0;
}
