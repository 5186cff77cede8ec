/* src/store */
TEST(store_meetings)
TEST(store_lookup_decoy)
TEST(store_secret_stable)
TEST(store_open_fails_cleanly)
