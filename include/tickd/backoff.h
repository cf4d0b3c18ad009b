/* backoff.h -- how long to wait before trying again, the one way tickd waits after a failure.
 *
 * Full jitter: the n-th consecutive failure waits a uniform random time in [min, cap], where the cap doubles
 * from min to max (min, 2 min, 4 min, ... max). The jitter keeps many clients that failed together (every
 * group of a source after a venue outage, every tickd after a Redis failover) from retrying in step; the cap
 * keeps a long outage from being probed more often than max allows. Used by the supervisor's restarts, the
 * sinks' reconnects and the stream task's connection switches. */
#ifndef TICKD_BACKOFF_H
#define TICKD_BACKOFF_H

#include <stdint.h>

/* A small fast PRNG (splitmix64) over *state: for jitter and tests, never for secrets. */
uint64_t prng_next(uint64_t *state);

/* The wait before the try after `failures` consecutive failures (0: the first retry, which waits exactly
 * min_ms): uniform in [min_ms, min(max_ms, min_ms * 2^failures)]. max_ms below min_ms counts as min_ms. */
uint64_t backoff_delay_ms(uint64_t min_ms, uint64_t max_ms, unsigned failures, uint64_t *rng);

/* The same with the count of failures kept: next() after each failure, reset() after a success. */
struct backoff {
    uint64_t min_ms, max_ms;
    unsigned failures;
    uint64_t rng;
};
/* seed 0: one from the monotonic clock and b's address, so two backoffs started together still differ. */
void backoff_init(struct backoff *b, uint64_t min_ms, uint64_t max_ms, uint64_t seed);
uint64_t backoff_next(struct backoff *b);
void backoff_reset(struct backoff *b);

#endif
