/* Unit tests for src/conf: defaults, flags, config file, errors. */
#include "test.h"

#include <errno.h>
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

/* Writes `text` to a fresh temporary config file and loads it. */
static int load_text(struct conf *c, const char *text, FILE *err)
{
	char path[] = "/tmp/conclave-conf-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f;

	if (fd < 0)
		return -1000;
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	rc = conf_load_file(c, path, err);
	unlink(path);
	return rc;
}

/* '#' in config files (docs/operations.md, "Configuration"): a comment at
 * the start of a line or after a blank; inside "quotes" part of the value;
 * inside a bare word an error, never a silently shortened value. */
int test_conf_file_hash_and_quotes(void)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct conf c;

	TEST_ASSERT(devnull);
	conf_defaults(&c);
	TEST_EQ(load_text(&c,
			  "  # indented comment = with an equals sign\n"
			  "cert = \"/etc/tls/a#1.pem\"   # the certificate\n"
			  "key = \"/etc/tls/with \\\"quote\\\" and \\\\ \"\n"
			  "public_ip=\"203.0.113.9\"\n"
			  "web_root = /srv/web # a comment after a blank\n"
			  "data = \"\"\n",
			  devnull), 0);
	TEST_ASSERT(strcmp(c.cert, "/etc/tls/a#1.pem") == 0);
	TEST_ASSERT(strcmp(c.key, "/etc/tls/with \"quote\" and \\ ") == 0);
	TEST_ASSERT(strcmp(c.public_ip, "203.0.113.9") == 0);
	TEST_ASSERT(strcmp(c.web_root, "/srv/web") == 0);
	TEST_ASSERT(strcmp(c.data, "") == 0);

	/* refused, with the line named: a '#' inside a bare word, a quote
	 * left open, text after the closing quote */
	conf_defaults(&c);
	TEST_EQ(load_text(&c, "cert = /etc/tls/a#1.pem\n", devnull), -EINVAL);
	TEST_EQ(load_text(&c, "public_ip = 203.0.113.9#\n", devnull), -EINVAL);
	TEST_EQ(load_text(&c, "cert = \"/etc/tls/a.pem\n", devnull), -EINVAL);
	TEST_EQ(load_text(&c, "cert = \"/a\" b\n", devnull), -EINVAL);
	TEST_ASSERT(strcmp(c.cert, "") == 0);
	fclose(devnull);
	return 0;
}
