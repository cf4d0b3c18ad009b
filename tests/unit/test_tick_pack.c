/* test_tick_pack.c -- the packed tick form (tick.h) keeps every valid decimal exactly: short ones inline,
 * long ones (up to 39 characters each) in its spill buffer, back and forth between the two; and the records
 * built on it (the merge, the RabbitMQ buffer) hand back long decimals whole. */
#include <string.h>

#include "tickd/conflate.h"
#include "tickd/merge.h"
#include "tickd/tick.h"
#include "tt.h"

static const char LONG39[] = "123456789012345678.12345678901234567890"; /* 39 characters */

static struct tick mk(const char *bid, const char *qty) {
    struct tick t = {.venue = "kraken", .symbol = "BTC-USD", .has_seq = true, .seq = 7, .event_us = 11,
                     .recv_us = 12, .sent_us = 13, .origin = TICK_ORIGIN_REST};
    strcpy(t.bid, bid);
    strcpy(t.bid_qty, qty);
    strcpy(t.ask, "2.5");
    strcpy(t.ask_qty, "");
    strcpy(t.last, "-0.000001");
    return t;
}

static void assert_same(const struct tick *a, const struct tick *b) {
    TT_ASSERT_STR(a->venue, b->venue);
    TT_ASSERT_STR(a->symbol, b->symbol);
    TT_ASSERT_STR(a->bid, b->bid);
    TT_ASSERT_STR(a->bid_qty, b->bid_qty);
    TT_ASSERT_STR(a->ask, b->ask);
    TT_ASSERT_STR(a->ask_qty, b->ask_qty);
    TT_ASSERT_STR(a->last, b->last);
    TT_ASSERT(a->seq == b->seq && a->has_seq == b->has_seq && a->event_us == b->event_us);
    TT_ASSERT(a->recv_us == b->recv_us && a->sent_us == b->sent_us && a->origin == b->origin);
}

static void round_trip(struct tick_packed *p, const struct tick *t) {
    struct tick back;
    TT_ASSERT_INT(tick_pack(p, t), 0);
    tick_unpack(p, t->venue, t->symbol, &back);
    assert_same(&back, t);
    TT_ASSERT_STR(tick_packed_get(p, TICK_ASK), t->ask);
}

static void test_round_trip_inline_and_spilled(void) {
    struct tick_packed p;
    tick_packed_init(&p);
    TT_ASSERT_STR(tick_packed_get(&p, TICK_LAST), "");
    struct tick shortt = mk("65432.10000000", "1.23400000");
    round_trip(&p, &shortt);
    TT_ASSERT(p.spill == NULL);
    struct tick longt = mk(LONG39, LONG39);
    strcpy(longt.ask, LONG39);
    strcpy(longt.ask_qty, LONG39);
    strcpy(longt.last, LONG39);
    round_trip(&p, &longt); /* five decimals at the longest: 200 bytes, spilled */
    TT_ASSERT(p.spill != NULL);
    round_trip(&p, &shortt); /* and back inline */
    TT_ASSERT(p.spill == NULL);
    /* 40 + 22 + three empty texts: exactly the inline bytes. */
    struct tick edge = mk("", "");
    memset(edge.bid, '7', TICK_DECIMAL_MAX - 1);
    memset(edge.bid_qty, '8', TICK_PACKED_INLINE - TICK_DECIMAL_MAX - 4);
    edge.ask[0] = edge.last[0] = 0;
    round_trip(&p, &edge);
    TT_ASSERT(p.spill == NULL);
    strcat(edge.bid_qty, "8"); /* one more byte spills */
    round_trip(&p, &edge);
    TT_ASSERT(p.spill != NULL);
    tick_packed_free(&p);
}

static void test_merge_keeps_long_decimals(void) {
    struct merge *m;
    TT_ASSERT_INT(merge_new(&m), 0);
    struct tick t = mk(LONG39, LONG39);
    t.origin = TICK_ORIGIN_STREAM;
    strcpy(t.last, "0.000001"); /* the merge refuses a negative price; packing alone keeps any text */
    struct merge_update up;
    TT_ASSERT_INT(merge_apply(m, &t, &up), MERGE_ACCEPTED);
    assert_same(&up.quote->tick, &t);
    t.seq = 8;
    strcpy(t.bid, "1");
    TT_ASSERT_INT(merge_apply(m, &t, &up), MERGE_ACCEPTED);
    TT_ASSERT_INT(merge_apply(m, &t, &up), MERGE_DUPLICATE);
    assert_same(&up.quote->tick, &t); /* the stored quote, unpacked */
    assert_same(&merge_get(m, "kraken", "BTC-USD")->tick, &t);
    TT_ASSERT(merge_get(m, "okx", "BTC-USD") == NULL);
    struct merge_bbo b;
    TT_ASSERT_INT(merge_bbo_get(m, "BTC-USD", &b), 0);
    TT_ASSERT_STR(b.bid.qty, LONG39);
    TT_ASSERT_STR(b.bid.venue, "kraken");
    merge_free(m);
}

static void test_conflate_keeps_long_decimals(void) {
    struct conflate *c = conflate_new(4, 4);
    struct tick t = mk(LONG39, LONG39), out[2];
    TT_ASSERT_INT(conflate_put(c, &t), CONFLATE_WAKE);
    TT_ASSERT_INT(conflate_take(c, out, 2, 1), 1);
    assert_same(&out[0], &t);
    struct tick newer = mk("3.5", "4");
    TT_ASSERT_INT(conflate_put(c, &newer), CONFLATE_WAKE); /* waiting beside the long one in flight */
    conflate_confirm(c, 1, false, false);                 /* nack: the newer one already waits */
    TT_ASSERT_INT(conflate_take(c, out, 2, 2), 1);
    assert_same(&out[0], &newer);
    conflate_confirm(c, 2, false, false); /* nack: back to waiting, taken again whole */
    TT_ASSERT_INT(conflate_take(c, out, 2, 3), 1);
    assert_same(&out[0], &newer);
    conflate_free(c); /* one still in flight: freed with its buffers */
}

int main(void) {
    TT_RUN(test_round_trip_inline_and_spilled);
    TT_RUN(test_merge_keeps_long_decimals);
    TT_RUN(test_conflate_keeps_long_decimals);
    return tt_finish();
}
