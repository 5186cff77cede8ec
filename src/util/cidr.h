/*
 * cidr — lists of IPv4/IPv6 address prefixes, and whether an address is in
 * one ("who may do X" settings such as create_from).
 *
 * The text is operator input from the config file or a flag:
 *
 *   any                                  every address
 *   none                                 no address
 *   10.0.0.0/8, 2001:db8::/32, 127.0.0.1/32
 *                                        the addresses in these prefixes
 *
 * Entries are separated by commas, with optional blanks around them. Each
 * entry is ADDR/LEN with an explicit prefix length (0–32 for IPv4, 0–128
 * for IPv6); an address with bits set past its prefix (10.1.2.3/8) is
 * refused rather than guessed at, and so are empty entries and more than
 * CIDR_LIST_MAX of them. `any` and `none` stand alone.
 *
 * IPv4 clients reach a dual-stack listener as IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d). They are matched as the IPv4 addresses they are: an
 * IPv4 entry matches them, and an entry written inside ::ffff:0:0/96
 * (::ffff:10.0.0.0/104) is read as the IPv4 prefix it names (10.0.0.0/8).
 * A shorter IPv6 entry that happens to cover the mapped range (::/0,
 * ::/80) matches IPv6 clients only: "every address" is `any`, or
 * 0.0.0.0/0,::/0.
 */
#ifndef CONCLAVE_UTIL_CIDR_H
#define CONCLAVE_UTIL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	/* Entries in one list: an organisation's networks, not a block list;
	 * 64 keeps a linear match trivially cheap. */
	CIDR_LIST_MAX = 64,
	/* Longest entry text: an IPv6 address with an embedded IPv4 one
	 * (45 characters, INET6_ADDRSTRLEN - 1) and "/128". */
	CIDR_ENTRY_MAX = 49,
	/* Room for an error message of cidr_list_parse. */
	CIDR_WHY_MAX = 160,
};

enum cidr_mode {
	CIDR_ANY,       /* every address */
	CIDR_NONE,      /* no address */
	CIDR_LIST,      /* the addresses in e[0..n) */
};

/* One prefix; value type. IPv4 uses addr[0..4). */
struct cidr {
	uint8_t addr[16];
	uint8_t bits;       /* prefix length */
	bool v4;
};

/* A parsed list; value type, embed it in its owner (about 1.2 KiB). */
struct cidr_list {
	enum cidr_mode mode;
	size_t n;
	struct cidr e[CIDR_LIST_MAX];
};

/*
 * Parses `text` (see the top of this file) into *out. Returns 0, or
 * -EINVAL with a one-line reason naming the offending entry in
 * why[0..whycap) (may be NULL); *out is written only on success.
 */
int cidr_list_parse(const char *text, struct cidr_list *out, char *why,
		    size_t whycap);

/*
 * Whether the address `sa` (AF_INET or AF_INET6; IPv4-mapped IPv6 taken as
 * IPv4) is in the list. CIDR_ANY allows everything, also a NULL or unknown
 * address; CIDR_NONE nothing; a list never allows a NULL address or
 * another family.
 */
bool cidr_list_allows(const struct cidr_list *l, const struct sockaddr *sa);

#endif
