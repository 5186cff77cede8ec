/* src/sig, src/room */
TEST(sig_errors)
TEST(sig_ping_pong)
TEST(sig_rate_limit)
TEST(room_lobby_flow)
TEST(room_knock_limit)
TEST(sig_metrics_text)
