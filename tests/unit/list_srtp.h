/* src/srtp */
TEST(srtp_dtls_gcm)
TEST(srtp_dtls_cm80)
TEST(srtp_overheads)
TEST(srtp_key_direction)
TEST(srtp_tamper)
TEST(srtp_replay)
TEST(srtp_bad_input)
TEST(srtp_ssrc_limit)
