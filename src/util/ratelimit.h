/*
 * ratelimit — token buckets, and a fixed-size table of buckets keyed by
 * address, for "N per second per source" limits.
 *
 * The keyed table never grows: it is an open-addressed array that evicts the
 * stalest entry when full, so a flood from many sources costs a bounded
 * amount of memory (WireGuard's ratelimiter.c has the same goal).
 * Not thread-safe: each table belongs to one event loop.
 */
#ifndef CONCLAVE_UTIL_RATELIMIT_H
#define CONCLAVE_UTIL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value type: embed it in its owner. Rates are per second. */
struct bucket {
	double tokens;
	uint64_t last_ms;
};

/* Takes one token at now_ms if available (refill `rate`/s, cap `burst`). */
bool bucket_take(struct bucket *b, double rate, double burst, uint64_t now_ms);

struct ratelimit;

/* Makes a table of `slots` buckets. Returns NULL on allocation failure. */
struct ratelimit *ratelimit_new(size_t slots, double rate, double burst);
void ratelimit_free(struct ratelimit *rl);
/* Takes a token for `key` (up to 32 bytes, e.g. an IP address). */
bool ratelimit_take(struct ratelimit *rl, const void *key, size_t keylen,
		    uint64_t now_ms);

/* Monotonic milliseconds. */
uint64_t now_ms(void);

#endif
