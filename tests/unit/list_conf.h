/* src/conf */
TEST(conf_defaults_and_flags)
TEST(conf_rejects)
TEST(conf_file_then_flags)
TEST(conf_file_hash_and_quotes)
TEST(conf_create_from)
