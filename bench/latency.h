/* latency.h -- what the latency probes share: a growing array of samples in microseconds, the wall clock, and
 * one result line "name=N p50_us=.. p99_us=.. p999_us=.. max_us=.." that bench/bench.py reads. Header-only
 * (every bench source is its own program). */
#ifndef TICKD_BENCH_LATENCY_H
#define TICKD_BENCH_LATENCY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct samples {
    int64_t *v;
    size_t n, cap;
};

static inline int64_t wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline void samples_add(struct samples *s, int64_t us) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        int64_t *v = realloc(s->v, cap * sizeof *v);
        if (!v) return;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = us;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the samples; the value at quantile q (nearest rank). */
static inline int64_t samples_quantile(struct samples *s, double q) {
    if (!s->n) return -1;
    size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

static inline void samples_print(struct samples *s, const char *name, double seconds) {
    qsort(s->v, s->n, sizeof *s->v, cmp_i64);
    printf("%s samples=%zu per_s=%.0f p50_us=%lld p99_us=%lld p999_us=%lld max_us=%lld\n", name, s->n,
           seconds > 0 ? (double)s->n / seconds : 0, (long long)samples_quantile(s, 0.5),
           (long long)samples_quantile(s, 0.99), (long long)samples_quantile(s, 0.999),
           (long long)(s->n ? s->v[s->n - 1] : -1));
    fflush(stdout);
}

#endif
