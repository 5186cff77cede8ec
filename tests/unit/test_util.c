/* Unit tests for src/util: base64url, secrets, rate limits, junk per source, wbuf. */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>

#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/ratelimit.h"
#include "util/secret.h"
#include "util/srclimit.h"

int test_b64url_roundtrip(void)
{
	uint8_t in[32], out[32];
	char txt[64];

	for (size_t n = 1; n <= sizeof(in); n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(i * 37 + n);
		b64url_encode(in, n, txt);
		TEST_EQ(strlen(txt), B64URL_LEN(n));
		TEST_EQ(b64url_decode(txt, out, n), 0);
		TEST_MEMEQ(in, out, n);
	}
	/* RFC 4648 §10 vector, url alphabet, unpadded */
	b64url_encode((const uint8_t *)"foobar", 6, txt);
	TEST_ASSERT(strcmp(txt, "Zm9vYmFy") == 0);
	b64url_encode((const uint8_t *)"\xfb\xff", 2, txt);
	TEST_ASSERT(strcmp(txt, "-_8") == 0);
	return 0;
}

int test_b64url_rejects(void)
{
	uint8_t out[16];

	TEST_ASSERT(b64url_decode("Zm9vYmF", out, 6) < 0);   /* short */
	TEST_ASSERT(b64url_decode("Zm9vYmFy=", out, 6) < 0); /* padding */
	TEST_ASSERT(b64url_decode("Zm9v+mFy", out, 6) < 0);  /* std alphabet */
	TEST_ASSERT(b64url_decode("-_9", out, 2) < 0);       /* non-canonical */
	TEST_ASSERT(b64url_decode("-_8", out, 2) == 0);
	return 0;
}

int test_secret_equal(void)
{
	uint8_t a[32], b[32];
	char id[ROOM_ID_CHARS + 1];

	TEST_EQ(secret_random(a, sizeof(a)), 0);
	memcpy(b, a, sizeof(a));
	TEST_ASSERT(secret_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	TEST_ASSERT(!secret_equal(a, b, sizeof(a)));
	secret_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		TEST_EQ(a[i], 0);
	TEST_EQ(secret_random_b64url(ROOM_ID_BYTES, id), 0);
	TEST_EQ(strlen(id), ROOM_ID_CHARS);
	return 0;
}

int test_bucket_refill(void)
{
	struct bucket b = { 0 };
	int taken = 0;

	for (int i = 0; i < 100; i++)
		taken += bucket_take(&b, 10, 5, 1000);
	TEST_EQ(taken, 5);                        /* burst */
	TEST_ASSERT(!bucket_take(&b, 10, 5, 1050)); /* half a token */
	TEST_ASSERT(bucket_take(&b, 10, 5, 1100));  /* one token after 100 ms */
	TEST_ASSERT(!bucket_take(&b, 10, 5, 1100));
	return 0;
}

int test_ratelimit_keys(void)
{
	struct ratelimit *rl = ratelimit_new(64, 1, 3);
	uint32_t k;
	int ok = 0;

	TEST_ASSERT(rl);
	k = 1;
	for (int i = 0; i < 10; i++)
		ok += ratelimit_take(rl, &k, sizeof(k), 5000);
	TEST_EQ(ok, 3);
	/* another key is unaffected */
	k = 2;
	TEST_ASSERT(ratelimit_take(rl, &k, sizeof(k), 5000));
	/* a flood of distinct keys keeps memory bounded and does not crash */
	for (k = 100; k < 10100; k++)
		ratelimit_take(rl, &k, sizeof(k), 5000 + k);
	ratelimit_free(rl);
	return 0;
}

int test_wbuf_grow_and_limit(void)
{
	struct wbuf b;

	wbuf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		TEST_EQ(wbuf_printf(&b, "%d,", i), 0);
	TEST_ASSERT(b.len > 2000 && b.data[b.len] == '\0');
	wbuf_free(&b);

	wbuf_init(&b, 10);
	TEST_EQ(wbuf_append(&b, "0123456789", 10), 0);
	TEST_ASSERT(wbuf_append(&b, "x", 1) == -E2BIG);
	TEST_ASSERT(wbuf_append(&b, "", 0) == -E2BIG); /* sticky */
	wbuf_free(&b);
	return 0;
}

int test_b64url_decode_any(void)
{
	uint8_t in[100], out[100];
	char txt[200];
	size_t n;

	for (size_t len = 0; len < sizeof(in); len++) {
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(i * 13 + len);
		b64url_encode(in, len, txt);
		TEST_EQ(b64url_decode_any(txt, strlen(txt), out, sizeof(out), &n), 0);
		TEST_EQ(n, len);
		TEST_MEMEQ(in, out, len);
	}
	TEST_ASSERT(b64url_decode_any("Zm9vYmFy", 8, out, 5, &n) == -ENOSPC);
	TEST_ASSERT(b64url_decode_any("Zm9vY", 5, out, sizeof(out), &n) == -EINVAL);
	TEST_ASSERT(b64url_decode_any("Zm9=", 4, out, sizeof(out), &n) == -EINVAL);
	TEST_ASSERT(b64url_decode_any("-_9", 3, out, sizeof(out), &n) == -EINVAL);
	return 0;
}

/* ---- srclimit: junk per source address ---------------------------------- */

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s = (void *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s = (void *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s->sin6_addr);
	return ss;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* SipHash-2-4 against the reference vectors of the SipHash paper
 * (Appendix A: key 00..0f, messages 00..(n-1)). */
int test_srclimit_siphash(void)
{
	uint8_t key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	TEST_ASSERT(srclimit__siphash(key, msg, 0) == 0x726fdb47dd0e0e31ull);
	TEST_ASSERT(srclimit__siphash(key, msg, 8) == 0x93f5f5799a932462ull);
	TEST_ASSERT(srclimit__siphash(key, msg, 15) == 0xa129ca6149be45e5ull);
	TEST_ASSERT(srclimit__siphash(key, msg, 63) == 0x958a324ceb064572ull);
	return 0;
}

/* Junk is limited per source: the burst passes, then `rate` per second;
 * asking never costs; other sources are untouched. */
int test_srclimit_budget(void)
{
	struct srclimit *sl;
	struct sockaddr_storage a = v4("192.0.2.1", 1000), a2 = v4("192.0.2.1", 2000),
				b = v4("192.0.2.2", 1000);
	uint64_t t = 1000000;
	int passed = 0;

	TEST_EQ(srclimit_new(64, 100, 10, &sl), 0);
	/* a source never charged is never blocked, however often it asks */
	for (int i = 0; i < 1000; i++)
		TEST_ASSERT(!srclimit_blocked(sl, SA(a), t));
	/* burst of 10, all at one instant */
	for (int i = 0; i < 50; i++) {
		if (!srclimit_blocked(sl, SA(a), t)) {
			passed++;
			srclimit_charge(sl, SA(a), t);
		}
	}
	TEST_EQ(passed, 10);
	TEST_ASSERT(srclimit_blocked(sl, SA(a2), t));     /* the port does not matter */
	TEST_ASSERT(!srclimit_blocked(sl, SA(b), t));     /* another address does */
	/* 100/s: one more every 10 ms, none before */
	TEST_ASSERT(srclimit_blocked(sl, SA(a), t + 9));
	TEST_ASSERT(!srclimit_blocked(sl, SA(a), t + 10));
	/* a flood over one second gets exactly the rate through */
	passed = 0;
	for (uint64_t ms = 1; ms <= 1000; ms++) {
		for (int k = 0; k < 50; k++) {
			if (!srclimit_blocked(sl, SA(a), t + ms)) {
				passed++;
				srclimit_charge(sl, SA(a), t + ms);
			}
		}
	}
	TEST_EQ(passed, 100);
	/* quiet for long enough: the whole burst again, no more */
	t += 1000 + 60000;
	passed = 0;
	for (int i = 0; i < 50; i++) {
		if (!srclimit_blocked(sl, SA(a), t)) {
			passed++;
			srclimit_charge(sl, SA(a), t);
		}
	}
	TEST_EQ(passed, 10);
	/* a clock that goes backwards changes nothing */
	TEST_ASSERT(srclimit_blocked(sl, SA(a), t - 5000));
	srclimit_free(sl);
	/* a NULL table limits nothing; bad settings are refused */
	srclimit_charge(NULL, SA(a), t);
	TEST_ASSERT(!srclimit_blocked(NULL, SA(a), t));
	TEST_EQ(srclimit_new(64, 0, 10, &sl), -EINVAL);
	TEST_EQ(srclimit_new(64, 10, 0, &sl), -EINVAL);
	return 0;
}

/* IPv4-mapped IPv6 is its IPv4 address; IPv6 sources are /64 prefixes. */
int test_srclimit_keys(void)
{
	struct srclimit *sl;
	struct sockaddr_storage a4 = v4("198.51.100.7", 1), m = v6("::ffff:198.51.100.7", 2),
				x = v6("2001:db8:1:2::1", 3), y = v6("2001:db8:1:2:ffff::9", 4),
				z = v6("2001:db8:1:3::1", 5), other;
	uint64_t t = 5000;

	TEST_EQ(srclimit_new(64, 1, 2, &sl), 0);
	srclimit_charge(sl, SA(a4), t);
	srclimit_charge(sl, SA(m), t);
	TEST_ASSERT(srclimit_blocked(sl, SA(a4), t));
	TEST_ASSERT(srclimit_blocked(sl, SA(m), t));
	srclimit_charge(sl, SA(x), t);
	srclimit_charge(sl, SA(y), t);
	TEST_ASSERT(srclimit_blocked(sl, SA(x), t));
	TEST_ASSERT(srclimit_blocked(sl, SA(y), t));
	TEST_ASSERT(!srclimit_blocked(sl, SA(z), t));
	/* a family we do not know is neither charged nor blocked */
	memset(&other, 0, sizeof(other));
	other.ss_family = AF_UNIX;
	srclimit_charge(sl, SA(other), t);
	srclimit_charge(sl, SA(other), t);
	srclimit_charge(sl, SA(other), t);
	TEST_ASSERT(!srclimit_blocked(sl, SA(other), t));
	srclimit_free(sl);
	return 0;
}

/* A table full of flooders never grows and keeps limiting the newest;
 * forgetting a source only ever gives it back its budget. */
int test_srclimit_recycles(void)
{
	struct srclimit *sl;
	struct sockaddr_storage s;
	char ip[32];
	uint64_t t = 100;
	int blocked = 0;

	TEST_EQ(srclimit_new(16, 1, 1, &sl), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 250, i % 250);
		s = v4(ip, 9);
		srclimit_charge(sl, SA(s), t + (uint64_t)i);
		/* the one just charged is remembered and blocked */
		TEST_ASSERT(srclimit_blocked(sl, SA(s), t + (uint64_t)i));
	}
	/* at most the table's 16 slots still block anyone */
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 250, i % 250);
		s = v4(ip, 9);
		blocked += srclimit_blocked(sl, SA(s), t + 5000);
	}
	TEST_ASSERT(blocked > 0 && blocked <= 16);
	srclimit_free(sl);
	return 0;
}

/* A histogram's buckets are written cumulative, with +Inf, _sum and _count. */
int test_metrics_histogram(void)
{
	static const double le[] = { 0.001, 0.01 };
	static const uint64_t counts[] = { 3, 0, 2 };
	struct wbuf b;

	wbuf_init(&b, 4096);
	metrics_histogram(&b, "x_seconds", "help text", le, counts, 2, 1.5);
	TEST_ASSERT(b.data != NULL);
	TEST_ASSERT(strstr(b.data, "# TYPE x_seconds histogram\n") != NULL);
	TEST_ASSERT(strstr(b.data, "x_seconds_bucket{le=\"0.001\"} 3\n") != NULL);
	TEST_ASSERT(strstr(b.data, "x_seconds_bucket{le=\"0.01\"} 3\n") != NULL);
	TEST_ASSERT(strstr(b.data, "x_seconds_bucket{le=\"+Inf\"} 5\n") != NULL);
	TEST_ASSERT(strstr(b.data, "x_seconds_sum 1.500000\nx_seconds_count 5\n") != NULL);
	wbuf_free(&b);
	return 0;
}
