/* ratelimit — token buckets keyed by source (see ratelimit.h). */
#include "util/ratelimit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RL_KEY_MAX = 32, RL_PROBES = 8 };

struct rl_slot {
	uint8_t key[RL_KEY_MAX];
	uint8_t keylen;      /* 0 = empty */
	struct bucket b;
};

struct ratelimit {
	struct rl_slot *slots;
	size_t n;
	double rate, burst;
	uint64_t seed;
};

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool bucket_take(struct bucket *b, double rate, double burst, uint64_t now)
{
	if (b->last_ms == 0) {
		b->tokens = burst;
		b->last_ms = now;
	} else if (now > b->last_ms) {
		b->tokens += (double)(now - b->last_ms) * rate / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ms = now;
	}
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

struct ratelimit *ratelimit_new(size_t slots, double rate, double burst)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->slots = calloc(slots, sizeof(*rl->slots));
	if (!rl->slots) {
		free(rl);
		return NULL;
	}
	rl->n = slots;
	rl->rate = rate;
	rl->burst = burst;
	rl->seed = (uint64_t)(uintptr_t)rl ^ 0x9e3779b97f4a7c15ull;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->slots);
	free(rl);
}

static uint64_t rl_hash(const struct ratelimit *rl, const uint8_t *k, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ rl->seed;   /* FNV-1a, seeded */
	for (size_t i = 0; i < n; i++) {
		h ^= k[i];
		h *= 1099511628211ull;
	}
	return h;
}

bool ratelimit_take(struct ratelimit *rl, const void *key, size_t keylen,
		    uint64_t now)
{
	struct rl_slot *s, *victim = NULL;
	size_t i, idx;

	if (keylen > RL_KEY_MAX)
		keylen = RL_KEY_MAX;
	idx = (size_t)(rl_hash(rl, key, keylen) % rl->n);
	for (i = 0; i < RL_PROBES && i < rl->n; i++) {
		s = &rl->slots[(idx + i) % rl->n];
		if (s->keylen == keylen && memcmp(s->key, key, keylen) == 0)
			return bucket_take(&s->b, rl->rate, rl->burst, now);
		if (s->keylen == 0) {
			victim = s;
			break;
		}
		if (!victim || s->b.last_ms < victim->b.last_ms)
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, key, keylen);
	victim->keylen = (uint8_t)keylen;
	return bucket_take(&victim->b, rl->rate, rl->burst, now);
}
