/* lat_hist.h -- a fixed-size latency histogram for the stats lines: how long a sink takes from a tick's receive
 * to the server's answer, as p50/p99/p999 per stats interval.
 *
 * Buckets are powers of two split in four (each at most 19% wide), from 1 µs to about 9 minutes: adding a sample is
 * a few instructions and no allocation, so it can run once per write on the loop. A quantile is reported as
 * its bucket's upper bound: never below the true value, at most 19% above it. */
#ifndef TICKD_LAT_HIST_H
#define TICKD_LAT_HIST_H

#include <stdint.h>

#define LAT_HIST_BUCKETS 112

struct lat_hist {
    uint64_t n, max_us;
    uint32_t bucket[LAT_HIST_BUCKETS];
};

void lat_hist_add(struct lat_hist *h, int64_t us); /* negative (clock stepped) counts as 0 */
/* The q-quantile (0 < q <= 1) in µs, or 0 when empty. */
uint64_t lat_hist_quantile(const struct lat_hist *h, double q);
void lat_hist_reset(struct lat_hist *h);

#endif
