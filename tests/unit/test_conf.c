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

/* create_from (docs/operations.md): "any" by default; a list is checked
 * when it is set, and a bad one is refused with the setting named. */
int test_conf_create_from(void)
{
	char path[] = "/tmp/conclave-conf-XXXXXX";
	char msg[512] = "";
	struct conf c;
	bool help;
	FILE *err;
	char *ok[] = { "x", "--create-from", "10.0.0.0/8, 2001:db8::/32" };
	char *bad[] = { "x", "--create-from", "10.0.0.0/8,10.1.2.3/33" };
	char *empty[] = { "x", "--create-from=" };
	char line[CONF_LIST_MAX + 64];
	size_t n;

	conf_defaults(&c);
	TEST_ASSERT(strcmp(c.create_from, "any") == 0);
	TEST_EQ(conf_parse_args(&c, 3, ok, 1, &help, stderr), 0);
	TEST_ASSERT(strcmp(c.create_from, "10.0.0.0/8, 2001:db8::/32") == 0);

	err = fmemopen(msg, sizeof(msg), "w");
	TEST_ASSERT(err);
	TEST_EQ(conf_parse_args(&c, 3, bad, 1, &help, err), -EINVAL);
	fclose(err);
	TEST_ASSERT(strstr(msg, "create_from") && strstr(msg, "10.1.2.3/33"));
	TEST_ASSERT(strcmp(c.create_from, "10.0.0.0/8, 2001:db8::/32") == 0);
	err = fopen("/dev/null", "w");
	TEST_ASSERT(err);
	TEST_EQ(conf_parse_args(&c, 2, empty, 1, &help, err), -EINVAL);

	/* a file line longer than the other settings' (64 IPv6 prefixes) */
	n = (size_t)snprintf(line, sizeof(line), "create_from = ");
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "%s2001:db8:%x:ffff:ffff:ffff:ffff:fff0/124",
				      i ? "," : "", i);
	snprintf(line + n, sizeof(line) - n, "\n");
	TEST_ASSERT(n > CONF_STR_MAX);
	{
		int fd = mkstemp(path);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		TEST_ASSERT(f);
		fputs(line, f);
		fputs("create_from = none\n", f);
		fclose(f);
	}
	conf_defaults(&c);
	TEST_EQ(conf_load_file(&c, path, err), 0);
	TEST_ASSERT(strcmp(c.create_from, "none") == 0);
	{
		FILE *f = fopen(path, "w");
		TEST_ASSERT(f);
		fputs(line, f);
		fclose(f);
	}
	TEST_EQ(conf_load_file(&c, path, err), 0);
	TEST_ASSERT(strncmp(c.create_from, "2001:db8:0:", 11) == 0);
	{
		FILE *f = fopen(path, "w");
		TEST_ASSERT(f);
		fputs("create_from = 10.0.0.0/8 192.168.0.0/16\n", f);
		fclose(f);
	}
	TEST_EQ(conf_load_file(&c, path, err), -EINVAL);
	unlink(path);
	fclose(err);
	return 0;
}
