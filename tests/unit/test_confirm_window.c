/* test_confirm_window -- the publisher's confirm window shrinks on slow confirms and grows on timely ones. */
#include "tickd/confirm_window.h"

#include "tt.h"

/* Publishes what the window allows at `now`; returns the last tag. */
static uint64_t fill(struct confirm_window *w, uint64_t *tag, uint64_t now) {
    for (uint64_t room = confirm_window_room(w); room > 0; room--) confirm_window_sent(w, ++*tag, now);
    return *tag;
}

static void starts_small_and_bounded_by_max(void) {
    struct confirm_window w;
    TT_ASSERT_INT(confirm_window_init(&w, 4096, 2000), 0);
    TT_ASSERT_INT((long long)confirm_window_room(&w), CONFIRM_WINDOW_START);
    uint64_t tag = 0;
    fill(&w, &tag, 0);
    TT_ASSERT_INT((long long)confirm_window_room(&w), 0);
    confirm_window_free(&w);
    TT_ASSERT_INT(confirm_window_init(&w, 4, 2000), 0);
    TT_ASSERT_INT((long long)confirm_window_room(&w), 4);
    confirm_window_free(&w);
}

static void slow_confirms_shrink_once_per_window(void) {
    struct confirm_window w;
    confirm_window_init(&w, 4096, 2000);
    uint64_t tag = 0, now = 1000;
    fill(&w, &tag, now); /* 64 in flight */
    /* Every one of them confirmed late, one ack each: one shrink only, they were all sent before it. */
    for (uint64_t t = 1; t <= 64; t++) confirm_window_settled(&w, t, 1, now + 10000);
    TT_ASSERT_INT((long long)w.window, 48);
    TT_ASSERT_INT((long long)w.unconfirmed, 0);
    /* Keeps shrinking round after round while the broker stays slow, down to the floor. */
    for (int round = 0; round < 20; round++) {
        now += 20000;
        uint64_t last = fill(&w, &tag, now);
        confirm_window_settled(&w, last, (size_t)w.unconfirmed, now + 5000);
    }
    TT_ASSERT_INT((long long)w.window, CONFIRM_WINDOW_MIN);
    confirm_window_free(&w);
}

static void timely_confirms_grow_to_max(void) {
    struct confirm_window w;
    confirm_window_init(&w, 100, 2000);
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
    confirm_window_init(&w, 4096, 2000);
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
    TT_RUN(foreign_or_empty_confirms_change_nothing);
    return tt_finish();
}
