/* Unit tests for src/conf: defaults, flags, config file, errors. */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#include "conf/conf.h"

int test_conf_defaults_and_flags(void)
{
	struct conf c;
	bool help;
	char *argv[] = { "conclave", "serve", "--listen", "127.0.0.1:9000",
			 "--ws-rate=7", "--data", "/tmp/x", "--help" };
	char host[64];
	int port;

	conf_defaults(&c);
	TEST_ASSERT(strcmp(c.listen, "0.0.0.0:8443") == 0);
	TEST_EQ(c.media_port, 10000);
	TEST_ASSERT(strcmp(c.data, "./data") == 0);
	TEST_EQ(conf_parse_args(&c, 8, argv, 2, &help, stderr), 0);
	TEST_ASSERT(help);
	TEST_EQ(c.ws_rate, 7);
	TEST_ASSERT(strcmp(c.data, "/tmp/x") == 0);
	TEST_EQ(conf_listen_split(&c, host, sizeof(host), &port), 0);
	TEST_ASSERT(strcmp(host, "127.0.0.1") == 0);
	TEST_EQ(port, 9000);
	snprintf(c.listen, sizeof(c.listen), "[::1]:443");
	TEST_EQ(conf_listen_split(&c, host, sizeof(host), &port), 0);
	TEST_ASSERT(strcmp(host, "::1") == 0 && port == 443);
	return 0;
}

int test_conf_rejects(void)
{
	struct conf c;
	bool help;
	FILE *devnull = fopen("/dev/null", "w");
	char *a1[] = { "x", "--nope", "1" };
	char *a2[] = { "x", "--ws-rate", "0" };
	char *a3[] = { "x", "--ws-rate", "12abc" };
	char *a4[] = { "x", "--listen" };
	char *a5[] = { "x", "stray" };

	TEST_ASSERT(devnull);
	conf_defaults(&c);
	TEST_ASSERT(conf_parse_args(&c, 3, a1, 1, &help, devnull) < 0);
	TEST_ASSERT(conf_parse_args(&c, 3, a2, 1, &help, devnull) < 0);
	TEST_ASSERT(conf_parse_args(&c, 3, a3, 1, &help, devnull) < 0);
	TEST_ASSERT(conf_parse_args(&c, 2, a4, 1, &help, devnull) < 0);
	TEST_ASSERT(conf_parse_args(&c, 2, a5, 1, &help, devnull) < 0);
	snprintf(c.listen, sizeof(c.listen), "nocolon");
	{
		char h[8];
		int p;
		TEST_ASSERT(conf_listen_split(&c, h, sizeof(h), &p) < 0);
	}
	fclose(devnull);
	return 0;
}

int test_conf_file_then_flags(void)
{
	char path[] = "/tmp/conclave-conf-XXXXXX";
	int fd = mkstemp(path);
	FILE *f, *devnull = fopen("/dev/null", "w");
	struct conf c;
	bool help;
	char *argv[] = { "x", "--config", path, "--ws-burst", "9" };

	TEST_ASSERT(fd >= 0 && devnull);
	f = fdopen(fd, "w");
	fprintf(f, "# a comment\n\nlisten = 0.0.0.0:7443  # trailing\n"
		   "ws-burst = 3\nmedia_port=20000\n");
	fclose(f);
	conf_defaults(&c);
	TEST_EQ(conf_parse_args(&c, 5, argv, 1, &help, devnull), 0);
	TEST_ASSERT(strcmp(c.listen, "0.0.0.0:7443") == 0);
	TEST_EQ(c.ws_burst, 9); /* the flag wins over the file */
	TEST_EQ(c.media_port, 20000);

	f = fopen(path, "w");
	fprintf(f, "listen 1\n");
	fclose(f);
	TEST_ASSERT(conf_load_file(&c, path, devnull) < 0);
	unlink(path);
	TEST_ASSERT(conf_load_file(&c, path, devnull) < 0);
	fclose(devnull);
	return 0;
}
