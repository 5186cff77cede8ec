/*
 * The table of unit tests: one list file per module, each holding one
 * TEST(name) line per test; `int test_name(void)` lives in
 * tests/unit/test_<module>.c. Build with -DTEST_ONLY_LIST='"list_x.h"' to
 * compile the runner with one module's list alone.
 */
#ifdef TEST_ONLY_LIST
#include TEST_ONLY_LIST
#else
#include "list_util.h"
#include "list_conf.h"
#include "list_store.h"
#include "list_sig.h"
#include "list_stun.h"
#include "list_dtls.h"
#include "list_srtp.h"
#include "list_rtp.h"
#include "list_rtcp.h"
#include "list_sdp.h"
#include "list_mls.h"
#include "list_sfu.h"
#include "list_send.h"
#include "list_bwe.h"
#endif
