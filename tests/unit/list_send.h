/* src/sfu/worker.c: the send path */
TEST(send_batches)
TEST(send_tuck)
