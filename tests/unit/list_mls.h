/* src/mls, src/room/e2ee.c */
TEST(mls_hdr_parse)
TEST(mls_varint_minimal)
TEST(mls_delivery_service)
TEST(mls_adds_limited)
TEST(mls_keypackage_throttled)
