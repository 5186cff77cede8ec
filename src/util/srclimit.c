/* srclimit — junk token buckets per source address (see srclimit.h). */
#include "util/srclimit.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

enum {
	SL_MIN_SLOTS = 16,
	/* Slots looked at from the hashed one before recycling: enough that a
	 * table a quarter full almost never recycles a busy source. */
	SL_PROBES = 8,
	/* Keys: family byte + 8 bytes (the IPv4 address, or an IPv6 /64). */
	SL_KEY = 9,
	/* Budgets in thousandths of a datagram, so refills stay integers. */
	SL_MILLI = 1000,
};

struct sl_slot {
	uint8_t key[SL_KEY];
	bool used;
	uint64_t budget;             /* thousandths of a datagram */
	uint64_t last_ms;            /* last refill */
};

struct srclimit {
	struct sl_slot *slots;
	size_t mask;
	uint64_t rate;               /* thousandths per millisecond = per second */
	uint64_t burst;              /* thousandths */
	uint8_t key[16];             /* SipHash key, random per table */
};

/* ---- SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012): 2 compression rounds per 8-byte word, 4 at the end. ---- */

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

uint64_t srclimit__siphash(const uint8_t key[16], const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8), m;
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
		k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull,
	};
	uint8_t last[8] = {0};
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		m = le64(p + i);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	memcpy(last, p + i, n - i);
	last[7] = (uint8_t)n;
	m = le64(last);
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- the table ---------------------------------------------------------- */

int srclimit_new(size_t slots, uint32_t rate, uint32_t burst,
		 struct srclimit **out)
{
	struct srclimit *sl;
	size_t n = SL_MIN_SLOTS;

	if (rate == 0 || burst == 0)
		return -EINVAL;
	while (n < slots && n < ((size_t)1 << 30))
		n <<= 1;
	sl = calloc(1, sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	sl->slots = calloc(n, sizeof(*sl->slots));
	if (!sl->slots) {
		free(sl);
		return -ENOMEM;
	}
	if (secret_random(sl->key, sizeof(sl->key)) != 0) {
		srclimit_free(sl);
		return -EIO;
	}
	sl->mask = n - 1;
	sl->rate = rate;
	sl->burst = (uint64_t)burst * SL_MILLI;
	*out = sl;
	return 0;
}

void srclimit_free(struct srclimit *sl)
{
	if (!sl)
		return;
	free(sl->slots);
	secret_wipe(sl->key, sizeof(sl->key));
	free(sl);
}

/* The source's key: false for a family we do not limit. */
static bool source_key(const struct sockaddr *a, uint8_t key[SL_KEY])
{
	memset(key, 0, SL_KEY);
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)a;
		key[0] = 4;
		memcpy(key + 1, &s->sin_addr, 4);
		return true;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)a;
		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, s->sin6_addr.s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, s->sin6_addr.s6_addr, 8); /* the /64 */
		}
		return true;
	}
	return false;
}

/* The slot holding `key`, or NULL. */
static struct sl_slot *find(struct srclimit *sl, const uint8_t key[SL_KEY],
			    size_t *home)
{
	size_t h = (size_t)srclimit__siphash(sl->key, key, SL_KEY);
	struct sl_slot *s;

	*home = h;
	for (size_t i = 0; i < SL_PROBES; i++) {
		s = &sl->slots[(h + i) & sl->mask];
		if (s->used && memcmp(s->key, key, SL_KEY) == 0)
			return s;
	}
	return NULL;
}

/* The budget of slot s at now (refilled, capped at the burst). */
static uint64_t budget_at(const struct srclimit *sl, const struct sl_slot *s,
			  uint64_t now)
{
	uint64_t b = s->budget, dt;

	if (now > s->last_ms) {
		dt = now - s->last_ms;
		/* a long idle source is simply full again (and no overflow) */
		if (dt >= sl->burst / sl->rate + 1)
			return sl->burst;
		b += dt * sl->rate;
	}
	return b < sl->burst ? b : sl->burst;
}

bool srclimit_blocked(struct srclimit *sl, const struct sockaddr *from,
		      uint64_t now)
{
	uint8_t key[SL_KEY];
	struct sl_slot *s;
	size_t home;

	if (!sl || !source_key(from, key))
		return false;
	s = find(sl, key, &home);
	return s && budget_at(sl, s, now) < SL_MILLI;
}

void srclimit_charge(struct srclimit *sl, const struct sockaddr *from,
		     uint64_t now)
{
	uint8_t key[SL_KEY];
	struct sl_slot *s, *victim = NULL;
	size_t home;
	uint64_t b;

	if (!sl || !source_key(from, key))
		return;
	s = find(sl, key, &home);
	if (!s) {
		/* a free slot, or else the one idle longest */
		for (size_t i = 0; i < SL_PROBES; i++) {
			s = &sl->slots[(home + i) & sl->mask];
			if (!s->used) {
				victim = s;
				break;
			}
			if (!victim || s->last_ms < victim->last_ms)
				victim = s;
		}
		s = victim;
		memcpy(s->key, key, SL_KEY);
		s->used = true;
		s->budget = sl->burst;
		s->last_ms = now;
	}
	b = budget_at(sl, s, now);
	s->budget = b >= SL_MILLI ? b - SL_MILLI : 0;
	if (now > s->last_ms)
		s->last_ms = now;
}
