/* Unit tests for src/util: base64url, secrets, rate limits, wbuf. */
#include "test.h"

#include "util/buf.h"
#include "util/ratelimit.h"
#include "util/secret.h"

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
