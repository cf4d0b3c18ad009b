/* test_lat_hist -- quantiles of the stats histogram: never below the truth, at most a bucket (19%) above. */
#include "tickd/lat_hist.h"

#include "tt.h"

static void exact_for_small_values_and_empty(void) {
    struct lat_hist h = {0};
    TT_ASSERT_INT((long long)lat_hist_quantile(&h, 0.5), 0);
    for (int i = 0; i < 4; i++) lat_hist_add(&h, i);
    TT_ASSERT_INT((long long)lat_hist_quantile(&h, 0.25), 0);
    TT_ASSERT_INT((long long)lat_hist_quantile(&h, 0.5), 1);
    TT_ASSERT_INT((long long)lat_hist_quantile(&h, 1.0), 3);
    lat_hist_add(&h, -5); /* a stepped clock counts as 0 */
    TT_ASSERT_INT((long long)h.n, 5);
    lat_hist_reset(&h);
    TT_ASSERT_INT((long long)h.n, 0);
}

static void quantiles_bound_the_truth(void) {
    struct lat_hist h = {0};
    /* 1..100000 µs once each: the true q-quantile is q * 100000. */
    for (int64_t us = 1; us <= 100000; us++) lat_hist_add(&h, us);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        double truth = qs[i] * 100000, got = (double)lat_hist_quantile(&h, qs[i]);
        TT_ASSERT(got >= truth);
        TT_ASSERT(got <= truth * 1.19 + 1);
    }
    TT_ASSERT_INT((long long)lat_hist_quantile(&h, 1.0), 100000); /* the max, not its bucket's bound */
}

static void a_slow_tail_shows_in_p99(void) {
    struct lat_hist h = {0};
    for (int i = 0; i < 980; i++) lat_hist_add(&h, 300);
    for (int i = 0; i < 20; i++) lat_hist_add(&h, 45000);
    TT_ASSERT(lat_hist_quantile(&h, 0.5) >= 300 && lat_hist_quantile(&h, 0.5) < 360);
    TT_ASSERT(lat_hist_quantile(&h, 0.99) >= 45000);
    lat_hist_add(&h, (int64_t)1 << 40); /* beyond the last bucket: kept there, the max is exact */
    TT_ASSERT_INT((long long)lat_hist_quantile(&h, 1.0), (long long)1 << 40);
}

int main(void) {
    TT_RUN(exact_for_small_values_and_empty);
    TT_RUN(quantiles_bound_the_truth);
    TT_RUN(a_slow_tail_shows_in_p99);
    return tt_finish();
}
