/*
 * test.c — runs the table of unit tests in test_list.h.
 *
 *   test_conclave            run every test
 *   test_conclave NAME...    run only the named tests
 *
 * Prints one line per test and ends with "N passed, N failed"; exits 1 if
 * any test failed. Tests are independent: each sets up and tears down what
 * it uses, so a leak shows up under ASan at exit.
 */
#include "test.h"

#include <ctype.h>
#include <stdlib.h>
#include <time.h>

struct test_entry {
	const char *name;
	int (*fn)(void);
};

static const struct test_entry tests[] = {
#define TEST(name) { #name, test_##name },
#include "test_list.h"
#undef TEST
};

long test_hex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;
		if (isspace((unsigned char)*hex))
			continue;
		if (!isxdigit((unsigned char)*hex))
			return -1;
		v = isdigit((unsigned char)*hex) ? *hex - '0'
						 : (tolower((unsigned char)*hex) - 'a' + 10);
		if (hi < 0) {
			hi = v;
		} else {
			if (n >= cap)
				return -1;
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	return hi < 0 ? (long)n : -1;
}

const char *test_vectors_dir(void)
{
	const char *d = getenv("CONCLAVE_VECTORS");
	return d ? d : "../shared/vectors";
}

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	size_t i;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		struct timespec a, b;
		int rc;

		if (!selected(tests[i].name, argc, argv))
			continue;
		clock_gettime(CLOCK_MONOTONIC, &a);
		rc = tests[i].fn();
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s %-40s %6.1f ms\n", rc == 0 ? "ok  " : "FAIL",
		       tests[i].name,
		       (double)(b.tv_sec - a.tv_sec) * 1e3 +
			       (double)(b.tv_nsec - a.tv_nsec) / 1e6);
		fflush(stdout);
		if (rc == 0)
			passed++;
		else
			failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
