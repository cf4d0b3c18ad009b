/* test_confirm_window -- the publisher's confirm window shrinks on confirms slower than the broker's base delay
 * plus the allowed queueing, and grows on timely ones; the base delay is measured and relearnt. */
#include "tickd/confirm_window.h"

#include "tt.h"

/* Publishes what the window allows at `now`; returns the last tag. */
static uint64_t fill(struct confirm_window *w, uint64_t *tag, uint64_t now) {
    for (uint64_t room = confirm_window_room(w); room > 0; room--) confirm_window_sent(w, ++*tag, now);
    return *tag;
}

static void starts_small_and_bounded_by_max(void) {
    struct confirm_window w;
    TT_ASSERT_INT(confirm_window_init(&w, 4096, 1000), 0);
    TT_ASSERT_INT((long long)confirm_window_room(&w), CONFIRM_WINDOW_START);
    uint64_t tag = 0;
    fill(&w, &tag, 0);
    TT_ASSERT_INT((long long)confirm_window_room(&w), 0);
    confirm_window_free(&w);
    TT_ASSERT_INT(confirm_window_init(&w, 4, 1000), 0);
    TT_ASSERT_INT((long long)confirm_window_room(&w), 4);
    confirm_window_free(&w);
}

static void slow_confirms_shrink_once_per_window(void) {
    struct confirm_window w;
    confirm_window_init(&w, 4096, 1000);
    uint64_t tag = 0, now = 1000;
    fill(&w, &tag, now); /* 64 in flight */
    confirm_window_settled(&w, 1, 1, now + 300); /* the base delay: 300 µs */
    TT_ASSERT_INT((long long)confirm_window_base_us(&w), 300);
    TT_ASSERT_INT((long long)w.window, 65);
    /* The other 63 confirmed 10 ms late, one ack each: one shrink only, they were all sent before it. */
    for (uint64_t t = 2; t <= 64; t++) confirm_window_settled(&w, t, 1, now + 10000);
    TT_ASSERT_INT((long long)w.window, 49);
    TT_ASSERT_INT((long long)w.unconfirmed, 0);
    /* Keeps shrinking round after round while the broker stays slow, down to the floor. */
    for (int round = 0; round < 20; round++) {
        now += 20000;
        uint64_t last = fill(&w, &tag, now);
        confirm_window_settled(&w, last, (size_t)w.unconfirmed, now + 5000);
    }
    TT_ASSERT_INT((long long)w.window, CONFIRM_WINDOW_MIN);
    /* Just within the allowance (base 300 + 1000) is timely again. */
    uint64_t last = fill(&w, &tag, now += 20000);
    confirm_window_settled(&w, last, (size_t)w.unconfirmed, now + 1300);
    TT_ASSERT_INT((long long)w.window, CONFIRM_WINDOW_MIN + 1);
    confirm_window_free(&w);
}

/* Confirms every round the same delay, `delay_us` after the publish, for `seconds`: returns the window. */
static uint64_t steady_rounds(struct confirm_window *w, uint64_t *tag, uint64_t *now, uint64_t delay_us,
                              uint64_t seconds) {
    for (uint64_t end = *now + seconds * 1000000; *now < end; *now += delay_us) {
        uint64_t last = fill(w, tag, *now);
        confirm_window_settled(w, last, (size_t)w->unconfirmed, *now + delay_us);
    }
    return w->window;
}

/* A broker 5 ms away with no queue: every confirm takes 5 ms, which is its base delay, not a queue, so the window
 * grows to max (a fixed 2 ms bound held it at the minimum: 8 prices per round trip). */
static void a_distant_broker_gets_the_whole_window(void) {
    struct confirm_window w;
    confirm_window_init(&w, 512, 1000);
    uint64_t tag = 0, now = 1;
    TT_ASSERT_INT((long long)steady_rounds(&w, &tag, &now, 5000, 5), 512);
    TT_ASSERT_INT((long long)confirm_window_base_us(&w), 5000);
    confirm_window_free(&w);
}

/* The route gets slower (0.3 ms, then 5 ms for good): the window shrinks at first, then within two epochs the
 * 0.3 ms minimum is forgotten, 5 ms is the base and the window grows back to max. A reconnect forgets it too. */
static void a_slower_route_is_learnt(void) {
    struct confirm_window w;
    confirm_window_init(&w, 512, 1000);
    uint64_t tag = 0, now = 1;
    TT_ASSERT_INT((long long)steady_rounds(&w, &tag, &now, 300, 2), 512);
    TT_ASSERT_INT((long long)steady_rounds(&w, &tag, &now, 5000, 1), CONFIRM_WINDOW_MIN);
    TT_ASSERT_INT((long long)confirm_window_base_us(&w), 300);
    steady_rounds(&w, &tag, &now, 5000, 2 * CONFIRM_BASE_EPOCH_US / 1000000);
    TT_ASSERT_INT((long long)confirm_window_base_us(&w), 5000);
    TT_ASSERT_INT((long long)steady_rounds(&w, &tag, &now, 5000, 5), 512);
    confirm_window_reset(&w);
    TT_ASSERT(confirm_window_base_us(&w) == UINT64_MAX);
    confirm_window_free(&w);
}

static void timely_confirms_grow_to_max(void) {
    struct confirm_window w;
    confirm_window_init(&w, 100, 1000);
    uint64_t tag = 0, now = 0;
    for (int round = 0; round < 200; round++) {
        now += 1000;
        fill(&w, &tag, now);
        for (uint64_t t = tag - w.unconfirmed + 1; w.unconfirmed > 0; t++) confirm_window_settled(&w, t, 1, now + 300);
    }
    TT_ASSERT_INT((long long)w.window, 100);
    /* A reconnect starts again from the starting window with nothing unconfirmed. */
    confirm_window_sent(&w, ++tag, now);
    confirm_window_reset(&w);
    TT_ASSERT_INT((long long)w.unconfirmed, 0);
    TT_ASSERT_INT((long long)confirm_window_room(&w), CONFIRM_WINDOW_START);
    confirm_window_free(&w);
}

static void foreign_or_empty_confirms_change_nothing(void) {
    struct confirm_window w;
    confirm_window_init(&w, 4096, 1000);
    uint64_t tag = 0;
    fill(&w, &tag, 0);
    confirm_window_settled(&w, 999, 5, 100000); /* a tag never published */
    confirm_window_settled(&w, 3, 0, 100000);   /* settled nothing (an older tag of a replaced tick) */
    TT_ASSERT_INT((long long)w.window, CONFIRM_WINDOW_START);
    TT_ASSERT_INT((long long)w.unconfirmed, CONFIRM_WINDOW_START);
    confirm_window_free(&w);
}

int main(void) {
    TT_RUN(starts_small_and_bounded_by_max);
    TT_RUN(slow_confirms_shrink_once_per_window);
    TT_RUN(timely_confirms_grow_to_max);
    TT_RUN(a_distant_broker_gets_the_whole_window);
    TT_RUN(a_slower_route_is_learnt);
    TT_RUN(foreign_or_empty_confirms_change_nothing);
    return tt_finish();
}
