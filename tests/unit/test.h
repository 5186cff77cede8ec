/*
 * test.h — the unit test harness.
 *
 * Each test is `int test_NAME(void)` returning 0 on success; it is listed
 * once in test_list.h. TEST_ASSERT prints the failing expression and returns
 * -1 from the test. The runner (test.c) runs every test (or those named on
 * the command line) and ends with "N passed, N failed".
 */
#ifndef CONCLAVE_TEST_H
#define CONCLAVE_TEST_H

#include <stdio.h>
#include <string.h>

#define TEST_ASSERT(cond)                                                     \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "    %s:%d: assertion failed: %s\n",      \
				__FILE__, __LINE__, #cond);                   \
			return -1;                                            \
		}                                                             \
	} while (0)

#define TEST_EQ(a, b)                                                         \
	do {                                                                  \
		long long _a = (long long)(a), _b = (long long)(b);           \
		if (_a != _b) {                                               \
			fprintf(stderr, "    %s:%d: %s == %s: %lld != %lld\n",   \
				__FILE__, __LINE__, #a, #b, _a, _b);          \
			return -1;                                            \
		}                                                             \
	} while (0)

#define TEST_MEMEQ(a, b, n) TEST_ASSERT(memcmp((a), (b), (n)) == 0)

/* Decodes hex text (whitespace ignored) into out; returns byte count or -1. */
long test_hex(const char *hex, unsigned char *out, size_t cap);

/* Path of the repository's shared vectors directory (../shared/vectors). */
const char *test_vectors_dir(void);

#define TEST(name) int test_##name(void);
#include "test_list.h"
#undef TEST

#endif
