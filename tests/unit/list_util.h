/* src/util */
/* util */
TEST(b64url_roundtrip)
TEST(b64url_rejects)
TEST(secret_equal)
TEST(bucket_refill)
TEST(ratelimit_keys)
TEST(wbuf_grow_and_limit)
TEST(b64url_decode_any)
TEST(srclimit_siphash)
TEST(srclimit_budget)
TEST(srclimit_keys)
TEST(srclimit_recycles)
TEST(metrics_histogram)
