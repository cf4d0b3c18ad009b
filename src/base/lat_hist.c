/* lat_hist.c -- see lat_hist.h. */
#include "tickd/lat_hist.h"

#include <string.h>

/* Bucket i holds values up to bound(i): 0..3 hold 0..3 µs exactly, then each power of two [2^k, 2^(k+1))
 * is four buckets; the last one also holds everything beyond. */
static unsigned bucket_of(uint64_t us) {
    if (us < 4) return (unsigned)us;
    unsigned k = 63u - (unsigned)__builtin_clzll(us); /* 2^k <= us < 2^(k+1), k >= 2 */
    unsigned quarter = (unsigned)(us >> (k - 2)) & 3u; /* the two bits below the top one */
    unsigned i = 4 * (k - 1) + quarter;
    return i < LAT_HIST_BUCKETS ? i : LAT_HIST_BUCKETS - 1;
}

static uint64_t bound(unsigned i) {
    if (i < 4) return i;
    unsigned k = i / 4 + 1, quarter = i % 4;
    return (((uint64_t)4 + quarter + 1) << (k - 2)) - 1;
}

void lat_hist_add(struct lat_hist *h, int64_t us) {
    uint64_t v = us > 0 ? (uint64_t)us : 0;
    h->bucket[bucket_of(v)]++;
    h->n++;
    if (v > h->max_us) h->max_us = v;
}

uint64_t lat_hist_quantile(const struct lat_hist *h, double q) {
    if (h->n == 0) return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999), seen = 0; /* the ceil(q*n)-th sample */
    if (rank < 1) rank = 1;
    for (unsigned i = 0; i < LAT_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) return bound(i) < h->max_us && i < LAT_HIST_BUCKETS - 1 ? bound(i) : h->max_us;
    }
    return h->max_us;
}

void lat_hist_reset(struct lat_hist *h) {
    memset(h, 0, sizeof *h);
}
