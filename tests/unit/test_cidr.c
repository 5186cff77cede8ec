/* Unit tests for src/util/cidr: prefix lists (create_from). */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "util/cidr.h"

/* An address as the listener would see it: AF_INET for a dotted quad,
 * AF_INET6 for anything with a colon (::ffff:a.b.c.d included). */
static const struct sockaddr *addr(const char *text,
				   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
			return NULL;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			return NULL;
	}
	return (const struct sockaddr *)ss;
}

static int allows(const struct cidr_list *l, const char *text)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = addr(text, &ss);

	if (!sa) {
		fprintf(stderr, "    bad test address %s\n", text);
		return -1;
	}
	return cidr_list_allows(l, sa) ? 1 : 0;
}

int test_cidr_parse_forms(void)
{
	struct cidr_list l;
	char why[CIDR_WHY_MAX];
	char big[CIDR_LIST_MAX * 16 + 16];
	size_t n = 0;

	TEST_EQ(cidr_list_parse("any", &l, why, sizeof(why)), 0);
	TEST_EQ(l.mode, CIDR_ANY);
	TEST_EQ(cidr_list_parse("  none ", &l, why, sizeof(why)), 0);
	TEST_EQ(l.mode, CIDR_NONE);

	TEST_EQ(cidr_list_parse("10.0.0.0/8,2001:db8::/32,127.0.0.1/32", &l,
				why, sizeof(why)), 0);
	TEST_EQ(l.mode, CIDR_LIST);
	TEST_EQ(l.n, 3);
	TEST_ASSERT(l.e[0].v4 && l.e[0].bits == 8 && l.e[0].addr[0] == 10);
	TEST_ASSERT(!l.e[1].v4 && l.e[1].bits == 32 && l.e[1].addr[0] == 0x20);
	TEST_ASSERT(l.e[2].v4 && l.e[2].bits == 32);

	/* blanks around entries; the ends of the ranges */
	TEST_EQ(cidr_list_parse(" 0.0.0.0/0 ,\t::/0, ::1/128 ,192.0.2.7/32", &l,
				why, sizeof(why)), 0);
	TEST_EQ(l.n, 4);
	TEST_ASSERT(l.e[0].v4 && l.e[0].bits == 0);
	TEST_ASSERT(!l.e[1].v4 && l.e[1].bits == 0);
	TEST_ASSERT(!l.e[2].v4 && l.e[2].bits == 128);

	/* an entry inside ::ffff:0:0/96 is the IPv4 prefix it names */
	TEST_EQ(cidr_list_parse("::ffff:10.0.0.0/104,::ffff:0:0/96", &l, why,
				sizeof(why)), 0);
	TEST_ASSERT(l.e[0].v4 && l.e[0].bits == 8 && l.e[0].addr[0] == 10);
	TEST_ASSERT(l.e[1].v4 && l.e[1].bits == 0);

	/* exactly CIDR_LIST_MAX entries */
	for (int i = 0; i < CIDR_LIST_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s10.%d.0.0/16",
				      i ? "," : "", i);
	TEST_EQ(cidr_list_parse(big, &l, why, sizeof(why)), 0);
	TEST_EQ(l.n, CIDR_LIST_MAX);
	TEST_EQ(cidr_list_parse("any", &l, NULL, 0), 0);
	return 0;
}

int test_cidr_parse_rejects(void)
{
	static const char *bad[] = {
		"", "   ", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0.0/33",
		"10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8x", "10.0.0.0/0008",
		"10.0.0.0/ 8", "10.0.0.0 /8", "10.0.0/8", "10.0.0.256/32",
		"10.1.2.3/8", "::/129", "2001:db8::1/32", "2001:db8:::/48",
		"fe80::1%eth0/128", "host.example/32", "10.0.0.0/8,",
		",10.0.0.0/8", "10.0.0.0/8,,::1/128", "any,10.0.0.0/8",
		"10.0.0.0/8,none", "ANY", "10.0.0.0/8;192.0.2.0/24",
		"::ffff:10.1.0.0/104",
		"1234:5678:9abc:def0:1234:5678:9abc:def0:1234/128",
	};
	struct cidr_list l;
	char why[CIDR_WHY_MAX], big[CIDR_LIST_MAX * 16 + 32];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		l.mode = CIDR_ANY;
		l.n = 7;
		why[0] = '\0';
		if (cidr_list_parse(bad[i], &l, why, sizeof(why)) != -EINVAL) {
			fprintf(stderr, "    accepted '%s'\n", bad[i]);
			return -1;
		}
		TEST_ASSERT(why[0]);             /* a reason is given */
		TEST_ASSERT(l.mode == CIDR_ANY && l.n == 7); /* out untouched */
	}
	/* the reason names the entry and says what is wrong */
	cidr_list_parse("10.0.0.0/8, 10.1.2.3/8", &l, why, sizeof(why));
	TEST_ASSERT(strstr(why, "10.1.2.3/8") && strstr(why, "10.0.0.0/8?"));
	cidr_list_parse("192.0.2.0/33", &l, why, sizeof(why));
	TEST_ASSERT(strstr(why, "192.0.2.0/33") && strstr(why, "0 to 32"));

	/* one entry too many */
	for (int i = 0; i <= CIDR_LIST_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s10.%d.0.0/16",
				      i ? "," : "", i);
	TEST_EQ(cidr_list_parse(big, &l, why, sizeof(why)), -EINVAL);
	TEST_ASSERT(strstr(why, "more than 64"));
	/* a tiny or absent reason buffer is safe */
	TEST_EQ(cidr_list_parse("10.0.0.0/99", &l, why, 4), -EINVAL);
	TEST_EQ(strlen(why), 3);
	TEST_EQ(cidr_list_parse("10.0.0.0/99", &l, NULL, 0), -EINVAL);
	return 0;
}

int test_cidr_match_v4(void)
{
	struct cidr_list l;

	TEST_EQ(cidr_list_parse("10.0.0.0/8,192.0.2.7/32,198.51.100.0/25", &l,
				NULL, 0), 0);
	TEST_EQ(allows(&l, "10.0.0.0"), 1);
	TEST_EQ(allows(&l, "10.255.255.255"), 1);
	TEST_EQ(allows(&l, "11.0.0.0"), 0);
	TEST_EQ(allows(&l, "9.255.255.255"), 0);
	TEST_EQ(allows(&l, "192.0.2.7"), 1);       /* /32: that one address */
	TEST_EQ(allows(&l, "192.0.2.6"), 0);
	TEST_EQ(allows(&l, "192.0.2.8"), 0);
	TEST_EQ(allows(&l, "198.51.100.127"), 1);  /* /25: a partial byte */
	TEST_EQ(allows(&l, "198.51.100.128"), 0);
	TEST_EQ(allows(&l, "127.0.0.1"), 0);
	/* an IPv4 list says nothing about IPv6 clients */
	TEST_EQ(allows(&l, "::a00:1"), 0);         /* ::10.0.0.1, not mapped */
	TEST_EQ(allows(&l, "2001:db8::1"), 0);

	TEST_EQ(cidr_list_parse("0.0.0.0/0", &l, NULL, 0), 0);
	TEST_EQ(allows(&l, "0.0.0.0"), 1);
	TEST_EQ(allows(&l, "255.255.255.255"), 1);
	TEST_EQ(allows(&l, "::1"), 0);
	return 0;
}

int test_cidr_match_v6(void)
{
	struct cidr_list l;

	TEST_EQ(cidr_list_parse("2001:db8::/32,::1/128,fd00:1:2:3:4:5:6:0/127",
				&l, NULL, 0), 0);
	TEST_EQ(allows(&l, "2001:db8::"), 1);
	TEST_EQ(allows(&l, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 1);
	TEST_EQ(allows(&l, "2001:db9::"), 0);
	TEST_EQ(allows(&l, "2001:db7:ffff::1"), 0);
	TEST_EQ(allows(&l, "::1"), 1);             /* /128: that one address */
	TEST_EQ(allows(&l, "::2"), 0);
	TEST_EQ(allows(&l, "::"), 0);
	TEST_EQ(allows(&l, "fd00:1:2:3:4:5:6:1"), 1);
	TEST_EQ(allows(&l, "fd00:1:2:3:4:5:6:2"), 0);
	TEST_EQ(allows(&l, "127.0.0.1"), 0);

	/* ::/0 is every IPv6 client, not the IPv4 ones (mapped or not) */
	TEST_EQ(cidr_list_parse("::/0", &l, NULL, 0), 0);
	TEST_EQ(allows(&l, "::"), 1);
	TEST_EQ(allows(&l, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 1);
	TEST_EQ(allows(&l, "10.0.0.1"), 0);
	TEST_EQ(allows(&l, "::ffff:10.0.0.1"), 0);
	return 0;
}

/* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d. */
int test_cidr_match_mapped(void)
{
	struct cidr_list l;

	TEST_EQ(cidr_list_parse("10.0.0.0/8,127.0.0.1/32", &l, NULL, 0), 0);
	TEST_EQ(allows(&l, "::ffff:10.1.2.3"), 1);
	TEST_EQ(allows(&l, "::ffff:127.0.0.1"), 1);
	TEST_EQ(allows(&l, "::ffff:127.0.0.2"), 0);
	TEST_EQ(allows(&l, "::ffff:11.0.0.1"), 0);
	/* the same 32 bits elsewhere in an IPv6 address are not IPv4 */
	TEST_EQ(allows(&l, "::a01:203"), 0);        /* IPv4-compatible */
	TEST_EQ(allows(&l, "64:ff9b::a01:203"), 0); /* NAT64 */
	TEST_EQ(allows(&l, "::fffe:a01:203"), 0);

	/* written as mapped, matched as IPv4, either way the client comes */
	TEST_EQ(cidr_list_parse("::ffff:192.0.2.0/120", &l, NULL, 0), 0);
	TEST_EQ(allows(&l, "192.0.2.200"), 1);
	TEST_EQ(allows(&l, "::ffff:192.0.2.200"), 1);
	TEST_EQ(allows(&l, "192.0.3.1"), 0);

	/* 0.0.0.0/0 takes every IPv4 client, mapped too, and no IPv6 one */
	TEST_EQ(cidr_list_parse("0.0.0.0/0", &l, NULL, 0), 0);
	TEST_EQ(allows(&l, "::ffff:203.0.113.1"), 1);
	TEST_EQ(allows(&l, "2001:db8::1"), 0);
	return 0;
}

int test_cidr_any_none(void)
{
	struct cidr_list l;
	struct sockaddr_storage ss;
	struct sockaddr other = { .sa_family = AF_UNIX };

	TEST_EQ(cidr_list_parse("any", &l, NULL, 0), 0);
	TEST_EQ(allows(&l, "203.0.113.1"), 1);
	TEST_EQ(allows(&l, "2001:db8::1"), 1);
	TEST_ASSERT(cidr_list_allows(&l, NULL));   /* today's behaviour */

	TEST_EQ(cidr_list_parse("none", &l, NULL, 0), 0);
	TEST_EQ(allows(&l, "127.0.0.1"), 0);
	TEST_EQ(allows(&l, "::1"), 0);
	TEST_ASSERT(!cidr_list_allows(&l, NULL));

	/* a list refuses what it cannot place */
	TEST_EQ(cidr_list_parse("0.0.0.0/0,::/0", &l, NULL, 0), 0);
	TEST_ASSERT(!cidr_list_allows(&l, NULL));
	TEST_ASSERT(!cidr_list_allows(&l, &other));
	TEST_ASSERT(cidr_list_allows(&l, addr("::ffff:1.2.3.4", &ss)));
	return 0;
}
