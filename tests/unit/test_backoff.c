/* test_backoff.c -- the one backoff: the first retry waits min, the cap doubles to max, a reset starts over,
 * and two backoffs seeded alike draw alike (backoff_delay_ms itself is tested in test_supervisor.c). */
#include <stdint.h>

#include "tickd/backoff.h"
#include "tt.h"

static void test_next_doubles_the_cap_and_reset_starts_over(void) {
    struct backoff b;
    backoff_init(&b, 100, 1000, 42);
    TT_ASSERT_INT(backoff_next(&b), 100); /* the first retry: exactly min */
    uint64_t caps[] = {200, 400, 800, 1000, 1000, 1000};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        uint64_t d = backoff_next(&b);
        TT_ASSERT(d >= 100 && d <= caps[i]);
    }
    backoff_reset(&b);
    TT_ASSERT_INT(backoff_next(&b), 100);
}

static void test_max_below_min_and_a_long_outage(void) {
    struct backoff b;
    backoff_init(&b, 500, 10, 1);
    for (int i = 0; i < 200; i++) TT_ASSERT_INT(backoff_next(&b), 500); /* never past 64 doublings, never 0 */
}

static void test_seeded_alike_draw_alike_unseeded_differ(void) {
    struct backoff a, b;
    backoff_init(&a, 10, 100000, 7);
    backoff_init(&b, 10, 100000, 7);
    for (int i = 0; i < 20; i++) TT_ASSERT_INT(backoff_next(&a), backoff_next(&b));
    backoff_init(&a, 10, 100000, 0);
    backoff_init(&b, 10, 100000, 0);
    int same = 0;
    for (int i = 0; i < 20; i++) same += backoff_next(&a) == backoff_next(&b);
    TT_ASSERT(same < 20); /* the address goes into the seed: clients that failed together do not retry in step */
}

int main(void) {
    TT_RUN(test_next_doubles_the_cap_and_reset_starts_over);
    TT_RUN(test_max_below_min_and_a_long_outage);
    TT_RUN(test_seeded_alike_draw_alike_unseeded_differ);
    return tt_finish();
}
