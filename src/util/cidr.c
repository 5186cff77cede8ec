/* cidr — address prefix lists (see cidr.h). */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* ::ffff:0:0/96, the IPv4-mapped IPv6 addresses (RFC 4291, 2.5.5.2) */
static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Keeps the first `bits` bits of a[0..len), zeroes the rest. */
static void mask(uint8_t *a, size_t len, unsigned bits)
{
	for (size_t i = 0; i < len; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8
				: bits > 8 * i ? bits - 8 * (unsigned)i : 0;
		a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* Whether the first `bits` bits of a and b agree. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	size_t whole = bits / 8;
	unsigned rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (!rest)
		return true;
	return ((a[whole] ^ b[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}

/*
 * One entry, `s` of length n (no blanks at its ends): ADDR/LEN. Returns 0
 * and *out, or -EINVAL with a reason.
 */
static int parse_entry(const char *s, size_t n, struct cidr *out, char *why,
		       size_t whycap)
{
	char text[CIDR_ENTRY_MAX + 1], shown[INET6_ADDRSTRLEN];
	const char *slash;
	uint8_t a[16], m[16];
	unsigned bits = 0, max;
	size_t alen, i, ndig;
	bool v6;

	if (n > CIDR_ENTRY_MAX) {
		snprintf(why, whycap, "entry '%.24s...' is too long", s);
		return -EINVAL;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	slash = memchr(text, '/', n);
	if (!slash) {
		snprintf(why, whycap, "'%s' has no prefix length (want ADDR/LEN, "
			 "e.g. 10.0.0.0/8 or 192.0.2.7/32)", text);
		return -EINVAL;
	}
	alen = (size_t)(slash - text);
	ndig = n - alen - 1;
	if (ndig == 0 || ndig > 3) {
		snprintf(why, whycap, "'%s': bad prefix length", text);
		return -EINVAL;
	}
	for (i = alen + 1; i < n; i++) {
		if (text[i] < '0' || text[i] > '9') {
			snprintf(why, whycap, "'%s': bad prefix length", text);
			return -EINVAL;
		}
		bits = bits * 10 + (unsigned)(text[i] - '0');
	}
	text[alen] = '\0';
	v6 = memchr(text, ':', alen) != NULL;
	max = v6 ? 128 : 32;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, text, a) != 1) {
		snprintf(why, whycap, "'%s' is not an IPv%d address", text,
			 v6 ? 6 : 4);
		return -EINVAL;
	}
	if (bits > max) {
		snprintf(why, whycap, "'%s/%u': an IPv%d prefix length is 0 to %u",
			 text, bits, v6 ? 6 : 4, max);
		return -EINVAL;
	}
	memcpy(m, a, sizeof(m));
	mask(m, v6 ? 16 : 4, bits);
	if (memcmp(m, a, v6 ? 16 : 4) != 0) {
		inet_ntop(v6 ? AF_INET6 : AF_INET, m, shown, sizeof(shown));
		snprintf(why, whycap, "'%s/%u' has address bits set past the "
			 "prefix length (%s/%u?)", text, bits, shown, bits);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (v6 && bits >= 96 && memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
		/* ::ffff:a.b.c.d/(96 + n) is the IPv4 prefix a.b.c.d/n */
		memcpy(out->addr, a + 12, 4);
		out->bits = (uint8_t)(bits - 96);
		out->v4 = true;
		return 0;
	}
	memcpy(out->addr, a, v6 ? 16 : 4);
	out->bits = (uint8_t)bits;
	out->v4 = !v6;
	return 0;
}

int cidr_list_parse(const char *text, struct cidr_list *out, char *why,
		    size_t whycap)
{
	struct cidr_list l;
	char dummy[1];
	const char *p = text, *e, *end;

	if (!why) {
		why = dummy;
		whycap = sizeof(dummy);
	}
	while (blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && blank(end[-1]))
		end--;
	if (end - p == 3 && memcmp(p, "any", 3) == 0) {
		out->mode = CIDR_ANY;
		out->n = 0;
		return 0;
	}
	if (end - p == 4 && memcmp(p, "none", 4) == 0) {
		out->mode = CIDR_NONE;
		out->n = 0;
		return 0;
	}
	if (p == end) {
		snprintf(why, whycap, "empty (write any, none, or a list of "
			 "prefixes such as 10.0.0.0/8,2001:db8::/32)");
		return -EINVAL;
	}
	memset(&l, 0, sizeof(l));
	l.mode = CIDR_LIST;
	for (;;) {
		const char *s = p, *t;

		e = memchr(p, ',', (size_t)(end - p));
		if (!e)
			e = end;
		t = e;
		while (s < t && blank(*s))
			s++;
		while (t > s && blank(t[-1]))
			t--;
		if (s == t) {
			snprintf(why, whycap, "an empty entry (two commas, or a "
				 "comma at an end)");
			return -EINVAL;
		}
		if ((t - s == 3 && memcmp(s, "any", 3) == 0) ||
		    (t - s == 4 && memcmp(s, "none", 4) == 0)) {
			snprintf(why, whycap, "'any' and 'none' stand alone, not "
				 "in a list");
			return -EINVAL;
		}
		if (l.n == CIDR_LIST_MAX) {
			snprintf(why, whycap, "more than %d entries",
				 CIDR_LIST_MAX);
			return -EINVAL;
		}
		if (parse_entry(s, (size_t)(t - s), &l.e[l.n], why, whycap))
			return -EINVAL;
		l.n++;
		if (e == end)
			break;
		p = e + 1;
	}
	*out = l;
	return 0;
}

bool cidr_list_allows(const struct cidr_list *l, const struct sockaddr *sa)
{
	const uint8_t *a;
	bool v4;

	if (l->mode == CIDR_ANY)
		return true;
	if (l->mode == CIDR_NONE || !sa)
		return false;
	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)
			    ->sin_addr;
		v4 = true;
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)
			    ->sin6_addr.s6_addr;
		v4 = memcmp(a, v4mapped, sizeof(v4mapped)) == 0;
		if (v4)
			a += 12;
	} else {
		return false;
	}
	for (size_t i = 0; i < l->n && i < CIDR_LIST_MAX; i++)
		if (l->e[i].v4 == v4 && prefix_eq(l->e[i].addr, a, l->e[i].bits))
			return true;
	return false;
}
