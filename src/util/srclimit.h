/*
 * srclimit — how much junk each source address may make us look at.
 *
 * A media worker's UDP port takes datagrams from anyone. Most of what a
 * stranger can send costs little to drop, but some costs real work (the
 * HMAC of a STUN check for a known ufrag, parsing, table lookups). This
 * table gives every source address a token bucket of junk: a datagram that
 * turns out to be junk is charged to its source (srclimit_charge), and a
 * source whose bucket is empty has its further datagrams dropped before any
 * of that work (srclimit_blocked). Datagrams that turn out to be good are
 * never charged, so legitimate peers, however many share one NAT address,
 * are not limited by their own traffic.
 *
 * Sources are keyed like WireGuard's ratelimiter.c: an IPv4 address (also
 * when it arrives IPv4-mapped on an IPv6 socket), or the /64 prefix of an
 * IPv6 address (one host usually owns a whole /64). The table is a fixed
 * array allocated once: no allocation per packet. A slot is found with
 * SipHash-2-4 under a random key drawn at creation, so an attacker cannot
 * pick addresses that collide; when the probed slots are all taken, the
 * one idle longest is recycled (which can only forget junk, never invent
 * it).
 *
 * Not thread-safe: each table belongs to one worker thread. A NULL table
 * limits nothing (a worker built by hand in a unit test or fuzz target).
 */
#ifndef CONCLAVE_UTIL_SRCLIMIT_H
#define CONCLAVE_UTIL_SRCLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct srclimit;

/*
 * Makes a table of `slots` sources (rounded up to a power of two, at least
 * 16), each allowed `rate` junk datagrams per second after a burst of
 * `burst`. Returns 0 and *out, -EINVAL for a zero rate or burst, -ENOMEM,
 * or -EIO if no random key could be drawn. Free with srclimit_free.
 */
int srclimit_new(size_t slots, uint32_t rate, uint32_t burst,
		 struct srclimit **out);
void srclimit_free(struct srclimit *sl);

/*
 * Whether `from` has used up its junk budget at now_ms: if true, drop its
 * datagram without looking at it. Takes nothing from the budget. An address
 * of another family than AF_INET/AF_INET6 is never blocked.
 */
bool srclimit_blocked(struct srclimit *sl, const struct sockaddr *from,
		      uint64_t now_ms);

/* Charges one junk datagram to `from` at now_ms. */
void srclimit_charge(struct srclimit *sl, const struct sockaddr *from,
		     uint64_t now_ms);

/* SipHash-2-4 of p[0..n) under key[16] (exposed for its test vectors). */
uint64_t srclimit__siphash(const uint8_t key[16], const void *p, size_t n);

#endif
