/* backoff.c -- see backoff.h. */
#include "tickd/backoff.h"

#include <stdint.h>

#include "tickd/clock.h"

uint64_t prng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t backoff_delay_ms(uint64_t min_ms, uint64_t max_ms, unsigned failures, uint64_t *rng) {
    if (max_ms < min_ms) max_ms = min_ms;
    uint64_t cap = min_ms;
    for (unsigned i = 0; i < failures && cap < max_ms; i++) cap = cap > max_ms / 2 ? max_ms : cap * 2;
    return min_ms + prng_next(rng) % (cap - min_ms + 1);
}

void backoff_init(struct backoff *b, uint64_t min_ms, uint64_t max_ms, uint64_t seed) {
    *b = (struct backoff){.min_ms = min_ms, .max_ms = max_ms < min_ms ? min_ms : max_ms,
                          .rng = seed ? seed : (uint64_t)clock_mono_ns() ^ (uint64_t)(uintptr_t)b};
}

uint64_t backoff_next(struct backoff *b) {
    uint64_t delay = backoff_delay_ms(b->min_ms, b->max_ms, b->failures, &b->rng);
    if (b->failures < 64) b->failures++;
    return delay;
}

void backoff_reset(struct backoff *b) { b->failures = 0; }
