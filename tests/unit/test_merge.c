/* Unit tests of the merge: every ordering rule, the REST-versus-stream race, the ordering key text, the best
 * bid and offer across venues, bad input, and 100k instruments. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tickd/merge.h"
#include "tt.h"

static struct merge *m;

static void fresh(void) {
    merge_free(m);
    m = NULL;
    TT_ASSERT_INT(merge_new(&m), 0);
}

static struct tick quote(const char *venue, const char *symbol, const char *bid, const char *ask) {
    struct tick t;
    memset(&t, 0, sizeof t);
    snprintf(t.venue, sizeof t.venue, "%s", venue);
    snprintf(t.symbol, sizeof t.symbol, "%s", symbol);
    snprintf(t.bid, sizeof t.bid, "%s", bid);
    snprintf(t.bid_qty, sizeof t.bid_qty, "1");
    snprintf(t.ask, sizeof t.ask, "%s", ask);
    snprintf(t.ask_qty, sizeof t.ask_qty, "2");
    return t;
}

static struct tick stream_seq(uint64_t seq, int64_t recv_us, const char *bid) {
    struct tick t = quote("binance", "BTC-USDT", bid, "70000");
    t.has_seq = true;
    t.seq = seq;
    t.recv_us = recv_us;
    return t;
}

static struct tick rest(int64_t sent_us, int64_t recv_us, const char *bid) {
    struct tick t = quote("binance", "BTC-USDT", bid, "70000");
    t.origin = TICK_ORIGIN_REST;
    t.sent_us = sent_us;
    t.recv_us = recv_us;
    return t;
}

static int apply(struct tick t) { return merge_apply(m, &t, NULL); }

static const char *stored_bid(void) { return merge_get(m, "binance", "BTC-USDT")->tick.bid; }

static void test_stream_orders_by_seq(void) {
    fresh();
    TT_ASSERT_INT(apply(stream_seq(10, 1000, "1.0")), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(stream_seq(9, 2000, "0.9")), MERGE_STALE); /* received later, but an older update */
    TT_ASSERT_INT(apply(stream_seq(10, 3000, "1.0")), MERGE_DUPLICATE);
    TT_ASSERT_INT(apply(stream_seq(11, 900, "1.1")), MERGE_ACCEPTED); /* newer update, whatever the clock says */
    TT_ASSERT_STR(stored_bid(), "1.1");
    struct merge_counters c;
    merge_counters_get(m, &c);
    TT_ASSERT_INT(c.accepted, 2);
    TT_ASSERT_INT(c.stale, 1);
    TT_ASSERT_INT(c.duplicates, 1);
    TT_ASSERT_INT(c.quotes, 1);
}

static void test_stream_without_seq_orders_by_event_time(void) {
    fresh();
    struct tick t = quote("okx", "BTC-USDT", "5", "6");
    t.event_us = 5000, t.recv_us = 100;
    TT_ASSERT_INT(apply(t), MERGE_ACCEPTED);
    t.event_us = 4000, t.recv_us = 200;
    TT_ASSERT_INT(apply(t), MERGE_STALE);
    t.event_us = 5000, t.recv_us = 300;
    TT_ASSERT_INT(apply(t), MERGE_DUPLICATE);
    t.event_us = 5001;
    TT_ASSERT_INT(apply(t), MERGE_ACCEPTED);
}

static void test_stream_without_seq_or_time_orders_by_receipt(void) {
    fresh();
    struct tick t = quote("kraken", "BTC-USD", "5", "6");
    t.recv_us = 100;
    TT_ASSERT_INT(apply(t), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(t), MERGE_DUPLICATE);
    t.recv_us = 99;
    TT_ASSERT_INT(apply(t), MERGE_STALE);
    t.recv_us = 101;
    TT_ASSERT_INT(apply(t), MERGE_ACCEPTED);
}

static void test_rest_vs_rest_by_sent_time(void) {
    fresh();
    TT_ASSERT_INT(apply(rest(1000, 1500, "1")), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(rest(900, 1600, "0.9")), MERGE_STALE); /* answered later, asked earlier */
    TT_ASSERT_INT(apply(rest(1000, 1700, "1")), MERGE_DUPLICATE);
    TT_ASSERT_INT(apply(rest(1100, 1200, "1.1")), MERGE_ACCEPTED);
    TT_ASSERT_STR(stored_bid(), "1.1");
}

/* The race of issue 6: a slow REST answer arriving after a newer stream tick must not overwrite it. */
static void test_rest_vs_stream_race(void) {
    fresh();
    TT_ASSERT_INT(apply(stream_seq(5, 1000, "5")), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(rest(900, 1100, "4")), MERGE_STALE);  /* asked before the stream tick came */
    TT_ASSERT_INT(apply(rest(1000, 1100, "4")), MERGE_STALE); /* asked the same microsecond: stream wins */
    TT_ASSERT_STR(stored_bid(), "5");
    TT_ASSERT_INT(apply(rest(1001, 1200, "6")), MERGE_ACCEPTED); /* asked after: it is newer */
    TT_ASSERT_STR(stored_bid(), "6");
    TT_ASSERT_INT(apply(stream_seq(5, 1300, "5")), MERGE_STALE); /* a repeat of seq 5 is older than the answer */
    TT_ASSERT_INT(apply(stream_seq(4, 1300, "4")), MERGE_STALE);
    TT_ASSERT_INT(apply(stream_seq(6, 1300, "7")), MERGE_ACCEPTED); /* the stream beats the older REST answer */
    TT_ASSERT_STR(stored_bid(), "7");
}

static void test_stream_beats_earlier_rest(void) {
    fresh();
    TT_ASSERT_INT(apply(rest(1000, 1200, "1")), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(stream_seq(0, 1300, "2")), MERGE_ACCEPTED); /* even seq 0: no stream position held yet */
    TT_ASSERT_STR(stored_bid(), "2");

    fresh(); /* unsequenced stream vs REST: by receive time against sent time */
    TT_ASSERT_INT(apply(rest(1000, 1200, "1")), MERGE_ACCEPTED);
    struct tick t = quote("binance", "BTC-USDT", "2", "3");
    t.recv_us = 999;
    TT_ASSERT_INT(apply(t), MERGE_STALE);
    t.recv_us = 1000;
    TT_ASSERT_INT(apply(t), MERGE_ACCEPTED);
}

/* Every accepted tick's key text is strictly greater than the previous one: a Redis compare-and-set on the
 * text accepts exactly what the merge accepted. */
static void test_key_text_grows_with_every_accept(void) {
    fresh();
    struct tick seqs[] = {rest(800, 900, "1"),        stream_seq(5, 1000, "2"), rest(1001, 1100, "3"),
                          stream_seq(5, 1200, "2"),   stream_seq(6, 1200, "4"), rest(1100, 1300, "5"),
                          rest(1250, 1300, "6"),      stream_seq(7, 1400, "7"), stream_seq(7, 1500, "7")};
    char prev[MERGE_KEY_TEXT_LEN] = "";
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        struct merge_update u;
        int r = merge_apply(m, &seqs[i], &u);
        TT_ASSERT(r >= 0);
        char text[MERGE_KEY_TEXT_LEN];
        merge_key_format(&u.quote->key, text);
        TT_ASSERT_INT(strlen(text), MERGE_KEY_TEXT_LEN - 1);
        if (r == MERGE_ACCEPTED) TT_ASSERT(strcmp(text, prev) > 0);
        else TT_ASSERT_STR(text, prev);
        memcpy(prev, text, sizeof prev);
    }
    struct merge_key k = {.pos = 123456789, .time_us = 1718000000123456, .rank = 1};
    char text[MERGE_KEY_TEXT_LEN];
    merge_key_format(&k, text);
    TT_ASSERT_STR(text, "0000000000-00000000000123456789-00001718000000123456-1");
    k = (struct merge_key){.epoch = UINT32_MAX, .pos = UINT64_MAX, .time_us = 0, .rank = 0};
    merge_key_format(&k, text);
    TT_ASSERT_STR(text, "4294967295-18446744073709551615-00000000000000000000-0");
}

/* The text reads back; a key of the width before epochs reads as epoch 0; nothing else reads. */
static void test_key_text_parses(void) {
    struct merge_key k = {.epoch = 7, .pos = 123456789, .time_us = 1718000000123456, .rank = 1}, back;
    char text[MERGE_KEY_TEXT_LEN];
    merge_key_format(&k, text);
    TT_ASSERT_INT(merge_key_parse(text, strlen(text), &back), 0);
    TT_ASSERT_INT(back.epoch, 7);
    TT_ASSERT_INT(back.pos, 123456789);
    TT_ASSERT_INT(back.time_us, 1718000000123456);
    TT_ASSERT_INT(back.rank, 1);
    TT_ASSERT(back.positioned);
    const char *old = "01000000000000000000-00001718000000123456-1";
    TT_ASSERT_INT(merge_key_parse(old, strlen(old), &back), 0);
    TT_ASSERT_INT(back.epoch, 0);
    TT_ASSERT(back.pos == 1000000000000000000ULL);
    static const char *const bad[] = {"", "1", "0000000000-00000000000123456789-00001718000000123456-2",
                                      "4294967296-00000000000123456789-00001718000000123456-1",
                                      "0000000000-18446744073709551616-00001718000000123456-1",
                                      "0000000000x00000000000123456789-00001718000000123456-1",
                                      "00000000000123456789-0000171800000012345a-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) TT_ASSERT_INT(merge_key_parse(bad[i], strlen(bad[i]), &back), -EINVAL);
}

/* ---- resets: a sequence that went back ---- */

#define T0 1700000000000000LL /* a receive time: the reorder window counts in real microseconds */

static struct tick on_run(uint32_t run, uint64_t seq, int64_t recv_us, const char *bid) {
    struct tick t = stream_seq(seq, recv_us, bid);
    t.run = run;
    return t;
}

static struct merge_counters counters(void) {
    struct merge_counters c;
    merge_counters_get(m, &c);
    return c;
}

/* One bad frame (Binance u = 10^18) on a connection, then its real updates: they are accepted, each key still
 * greater than the one before (so Redis takes them too). */
static void test_bad_future_seq_then_real_ticks(void) {
    fresh();
    uint32_t run = tick_run_begin();
    TT_ASSERT_INT(apply(on_run(run, 400900217, T0, "1.0")), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(on_run(run, 1000000000000000000ULL, T0 + 10, "666")), MERGE_ACCEPTED);
    char before[MERGE_KEY_TEXT_LEN], after[MERGE_KEY_TEXT_LEN];
    merge_key_format(&merge_get(m, "binance", "BTC-USDT")->key, before);
    TT_ASSERT_INT(apply(on_run(run, 400900218, T0 + 20, "1.1")), MERGE_ACCEPTED);
    TT_ASSERT_STR(stored_bid(), "1.1");
    merge_key_format(&merge_get(m, "binance", "BTC-USDT")->key, after);
    TT_ASSERT(strcmp(after, before) > 0);
    TT_ASSERT_INT(merge_get(m, "binance", "BTC-USDT")->key.epoch, 1);
    TT_ASSERT_INT(apply(on_run(run, 400900219, T0 + 30, "1.2")), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(on_run(run, 400900219, T0 + 40, "1.2")), MERGE_DUPLICATE);
    TT_ASSERT_STR(stored_bid(), "1.2");
    TT_ASSERT_INT(counters().resets, 1);
    tick_run_end(run, T0);
}

/* The venue restarted its sequence and tickd reconnected: the old connection is gone, the new one's low
 * sequence starts afresh. While the old one still runs (make-before-break), its updates are the newer and the
 * new connection's low ones are stale. */
static void test_sequence_reset_on_a_new_connection(void) {
    fresh();
    uint32_t old_run = tick_run_begin();
    TT_ASSERT_INT(apply(on_run(old_run, 5000, T0, "1.0")), MERGE_ACCEPTED);
    uint32_t new_run = tick_run_begin();
    TT_ASSERT(new_run > old_run);
    TT_ASSERT(tick_run_alive(old_run, T0) && tick_run_alive(new_run, T0));
    TT_ASSERT_INT(apply(on_run(new_run, 3, T0 + 10, "0.5")), MERGE_STALE); /* overlap: the old run leads */
    TT_ASSERT_INT(apply(on_run(old_run, 5001, T0 + 20, "1.1")), MERGE_ACCEPTED);
    TT_ASSERT_STR(stored_bid(), "1.1");
    tick_run_end(old_run, T0 + 25);
    /* Just after the old connection closed, the new one may still lag it: its low updates are stale. */
    TT_ASSERT(tick_run_alive(old_run, T0 + 25 + TICK_RUN_LINGER_US - 1));
    TT_ASSERT_INT(apply(on_run(new_run, 4, T0 + 30, "0.6")), MERGE_STALE);
    int64_t later = T0 + 25 + TICK_RUN_LINGER_US;
    TT_ASSERT(!tick_run_alive(old_run, later));
    TT_ASSERT_INT(apply(on_run(new_run, 4, later, "0.6")), MERGE_ACCEPTED); /* old run over: a reset */
    TT_ASSERT_INT(apply(on_run(new_run, 5, later + 10, "0.7")), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(on_run(new_run, 3, later + 15, "0.5")), MERGE_ACCEPTED); /* its own run went back again */
    TT_ASSERT_STR(stored_bid(), "0.5");
    TT_ASSERT_INT(counters().resets, 2);
    TT_ASSERT_INT(merge_get(m, "binance", "BTC-USDT")->key.epoch, 2);
    /* A REST answer keeps the stream's run: the run's next frame below is still judged as its own. */
    struct tick r = rest(later + 50, later + 60, "0.55");
    TT_ASSERT_INT(apply(r), MERGE_ACCEPTED);
    TT_ASSERT_INT(merge_get(m, "binance", "BTC-USDT")->tick.run, new_run);
    TT_ASSERT_INT(apply(on_run(new_run, 2, later + 70, "0.6")), MERGE_ACCEPTED);
    TT_ASSERT_INT(counters().resets, 3);
    tick_run_end(new_run, later + 80);
    tick_run_end(new_run, later + 90); /* twice: no harm, and the first end stands */
    TT_ASSERT(!tick_run_alive(new_run, later + 80 + TICK_RUN_LINGER_US));
    TT_ASSERT(!tick_run_alive(0, later));
}

/* HELD TICKS: the new connection's refused word comes back once the old run's linger ends, so a still
 * market does not keep the old connection's price; it is dropped when the stream moves on or catches up. */
static void test_held_tick_is_released_when_the_old_run_ends(void) {
    fresh();
    struct tick due[4];
    uint32_t old_run = tick_run_begin();
    TT_ASSERT_INT(apply(on_run(old_run, 5000, T0, "1.0")), MERGE_ACCEPTED);
    uint32_t new_run = tick_run_begin();
    TT_ASSERT_INT(apply(on_run(new_run, 3, T0 + 10, "0.5")), MERGE_STALE);
    TT_ASSERT_INT(merge_held_count(m), 1);
    TT_ASSERT_INT(apply(on_run(old_run, 5001, T0 + 20, "1.1")), MERGE_ACCEPTED); /* the stream moved on */
    TT_ASSERT_INT(merge_held_count(m), 0);
    TT_ASSERT_INT(apply(on_run(new_run, 4, T0 + 30, "0.6")), MERGE_STALE);
    TT_ASSERT_INT(apply(on_run(new_run, 5, T0 + 35, "0.7")), MERGE_STALE); /* the latest is held */
    TT_ASSERT_INT(merge_held_count(m), 1);
    tick_run_end(old_run, T0 + 40);
    TT_ASSERT_INT(merge_take_due(m, T0 + 40 + TICK_RUN_LINGER_US - 1, due, 4), 0); /* still lingering */
    TT_ASSERT_STR(stored_bid(), "1.1");
    memset(due, 0xdd, sizeof due); /* whatever the caller's array held: every field is written */
    TT_ASSERT_INT(merge_take_due(m, T0 + 40 + TICK_RUN_LINGER_US, due, 4), 1);
    TT_ASSERT(!due[0].bad_time);
    TT_ASSERT_INT(merge_held_count(m), 0);
    TT_ASSERT_STR(due[0].venue, "binance");
    TT_ASSERT_STR(due[0].symbol, "BTC-USDT");
    TT_ASSERT_STR(due[0].bid, "0.7");
    TT_ASSERT_INT(due[0].seq, 5);
    TT_ASSERT_INT(due[0].run, new_run);
    uint64_t resets = counters().resets;
    TT_ASSERT_INT(apply(due[0]), MERGE_ACCEPTED); /* as a reset, though received within the linger */
    TT_ASSERT_STR(stored_bid(), "0.7");
    TT_ASSERT_INT(counters().resets, resets + 1);
    TT_ASSERT_INT(counters().released, 1);
    TT_ASSERT_INT(apply(on_run(new_run, 6, T0 + 40 + TICK_RUN_LINGER_US + 5, "0.8")), MERGE_ACCEPTED);

    /* A held tick whose connection repeats the stored position caught up: nothing to release. */
    uint32_t third = tick_run_begin();
    TT_ASSERT_INT(apply(on_run(third, 5, T0 + 50 + TICK_RUN_LINGER_US, "0.7")), MERGE_STALE);
    TT_ASSERT_INT(merge_held_count(m), 1);
    TT_ASSERT_INT(apply(on_run(third, 6, T0 + 60 + TICK_RUN_LINGER_US, "0.8")), MERGE_DUPLICATE);
    TT_ASSERT_INT(merge_held_count(m), 0);
    /* ... and one whose own connection ended before the stored run's trust did is dropped, not applied. */
    TT_ASSERT_INT(apply(on_run(third, 5, T0 + 70 + TICK_RUN_LINGER_US, "0.7")), MERGE_STALE);
    tick_run_end(third, T0 + 80 + TICK_RUN_LINGER_US);
    tick_run_end(new_run, T0 + 80 + TICK_RUN_LINGER_US);
    TT_ASSERT_INT(merge_take_due(m, T0 + 90 + 2 * TICK_RUN_LINGER_US, due, 4), 0);
    TT_ASSERT_INT(merge_held_count(m), 0);
    TT_ASSERT_STR(stored_bid(), "0.8");
    TT_ASSERT_INT(counters().released, 1);
}

/* A foreign key (adopted from Redis) holds a lower tick for the reorder window; then that tick is released. */
static void test_held_tick_over_a_foreign_key(void) {
    fresh();
    struct tick due[2];
    uint32_t run = tick_run_begin();
    struct merge_update u;
    struct tick t = on_run(run, 100, T0, "1.0");
    TT_ASSERT_INT(merge_apply(m, &t, &u), MERGE_ACCEPTED);
    struct merge_key foreign = {.epoch = 3, .pos = 900, .time_us = T0 + 100, .rank = 1};
    TT_ASSERT_INT(merge_adopt(m, u.quote_id, &foreign), 1);
    TT_ASSERT_INT(apply(on_run(run, 101, T0 + 1000, "1.1")), MERGE_STALE);
    TT_ASSERT_INT(merge_take_due(m, T0 + 100 + MERGE_REORDER_WINDOW_US, due, 2), 0);
    TT_ASSERT_INT(merge_take_due(m, T0 + 101 + MERGE_REORDER_WINDOW_US, due, 2), 1);
    TT_ASSERT_INT(apply(due[0]), MERGE_ACCEPTED);
    TT_ASSERT_STR(stored_bid(), "1.1");
    TT_ASSERT_INT(merge_get(m, "binance", "BTC-USDT")->key.epoch, 4);
    tick_run_end(run, T0);
}

/* A key adopted from Redis has no run: a lower position resets over it only when received more than the
 * reorder window after that key's time; a higher one continues above it. */
static void test_adopted_key(void) {
    fresh();
    uint32_t run = tick_run_begin();
    struct merge_update u;
    struct tick t = on_run(run, 100, T0, "1.0");
    TT_ASSERT_INT(merge_apply(m, &t, &u), MERGE_ACCEPTED);
    uint32_t id = u.quote_id;
    struct merge_key poisoned = {.epoch = 0, .pos = 1000000000000000000ULL, .time_us = T0 + 100, .rank = 1};
    TT_ASSERT_INT(merge_adopt(m, id, &poisoned), 1);
    TT_ASSERT_INT(merge_adopt(m, id, &poisoned), 0); /* not greater than itself */
    struct merge_key lower = {.epoch = 0, .pos = 5, .time_us = T0, .rank = 1};
    TT_ASSERT_INT(merge_adopt(m, id, &lower), 0);
    TT_ASSERT_INT(merge_adopt(m, id + 1, &lower), -ENOENT);
    TT_ASSERT_INT(counters().adopted, 1);
    TT_ASSERT_INT(merge_get(m, "binance", "BTC-USDT")->key.pos, poisoned.pos);
    TT_ASSERT_STR(stored_bid(), "1.0"); /* the tick stays */
    TT_ASSERT_INT(apply(on_run(run, 101, T0 + 1000, "1.1")), MERGE_STALE); /* within the window */
    TT_ASSERT_INT(apply(on_run(run, 102, T0 + 100 + MERGE_REORDER_WINDOW_US + 1, "1.2")), MERGE_ACCEPTED);
    TT_ASSERT_INT(merge_get(m, "binance", "BTC-USDT")->key.epoch, 1);
    TT_ASSERT_STR(stored_bid(), "1.2");
    TT_ASSERT_INT(apply(on_run(run, 103, T0 + 100 + MERGE_REORDER_WINDOW_US + 2, "1.3")), MERGE_ACCEPTED);

    /* A key from another epoch is adopted whole; the stream continues above it. */
    struct merge_key ahead = {.epoch = 5, .pos = 50, .time_us = T0, .rank = 1};
    TT_ASSERT_INT(merge_adopt(m, id, &ahead), 1);
    TT_ASSERT_INT(apply(on_run(run, 104, T0 + 5000000, "1.4")), MERGE_ACCEPTED);
    TT_ASSERT_INT(merge_get(m, "binance", "BTC-USDT")->key.epoch, 5);
    tick_run_end(run, T0);
}

/* bad_time counts ticks whose event time an adapter refused. */
static void test_bad_time_counted(void) {
    fresh();
    struct tick t = stream_seq(1, T0, "1");
    t.bad_time = true;
    TT_ASSERT_INT(apply(t), MERGE_ACCEPTED);
    TT_ASSERT_INT(apply(t), MERGE_DUPLICATE);
    TT_ASSERT_INT(counters().bad_time, 2);
}

static void test_bad_ticks_are_rejected(void) {
    fresh();
    struct tick t = quote("binance", "", "1", "2");
    TT_ASSERT_INT(apply(t), -EINVAL);
    t = quote("binance", "BTC-USDT", "1e5", "2");
    TT_ASSERT_INT(apply(t), -EINVAL);
    t = quote("binance", "BTC-USDT", "1", "2");
    memset(t.symbol, 'A', sizeof t.symbol); /* unterminated */
    TT_ASSERT_INT(apply(t), -EINVAL);
    t = quote("binance", "BTC-USDT", "1", "2");
    memset(t.ask_qty, '9', sizeof t.ask_qty);
    TT_ASSERT_INT(apply(t), -EINVAL);
    t = quote("binance", "BTC-USDT", "1", "2");
    t.origin = (enum tick_origin)7;
    TT_ASSERT_INT(apply(t), -EINVAL);
    /* Values no market quotes: a negative or zero price, a negative size. Zero sizes are fine. */
    static const char *const bad[][5] = {{"-5", "1", "2", "1", ""},  {"0", "1", "2", "1", ""},
                                         {"1", "1", "0.000", "1", ""}, {"1", "-1", "2", "1", ""},
                                         {"1", "1", "2", "-0.1", ""}, {"1", "1", "2", "1", "-3"},
                                         {"1", "1", "2", "1", "0"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = quote("binance", "BTC-USDT", bad[i][0], bad[i][2]);
        snprintf(t.bid_qty, sizeof t.bid_qty, "%s", bad[i][1]);
        snprintf(t.ask_qty, sizeof t.ask_qty, "%s", bad[i][3]);
        snprintf(t.last, sizeof t.last, "%s", bad[i][4]);
        TT_ASSERT_INT(apply(t), -EINVAL);
    }
    struct merge_counters c;
    merge_counters_get(m, &c);
    TT_ASSERT_INT(c.invalid, 12);
    TT_ASSERT_INT(c.quotes, 0);
    TT_ASSERT(merge_get(m, "binance", "BTC-USDT") == NULL);
    t = quote("binance", "BTC-USDT", "1", "2");
    snprintf(t.bid_qty, sizeof t.bid_qty, "0");
    snprintf(t.ask_qty, sizeof t.ask_qty, "-0");
    TT_ASSERT_INT(apply(t), MERGE_ACCEPTED);
    merge_free(m);
    m = NULL;
    fresh();
    merge_counters_get(m, &c);
    TT_ASSERT(merge_get(m, "binance", "BTC-USDT") == NULL);
}

static void bbo_tick(const char *venue, const char *bid, const char *ask, int64_t recv_us, bool changed) {
    struct tick t = quote(venue, "ETH-USDT", bid, ask);
    t.recv_us = recv_us;
    struct merge_update u;
    TT_ASSERT_INT(merge_apply(m, &t, &u), MERGE_ACCEPTED);
    if (u.bbo_changed != changed) TT_FAIL("tick %s %s/%s: bbo_changed=%d", venue, bid, ask, u.bbo_changed);
}

static void expect_bbo(const char *bid, const char *bid_venue, const char *ask, const char *ask_venue) {
    struct merge_bbo b;
    TT_ASSERT_INT(merge_bbo_get(m, "ETH-USDT", &b), 0);
    TT_ASSERT_STR(b.bid.price, bid);
    TT_ASSERT_STR(b.bid.venue, bid_venue);
    TT_ASSERT_STR(b.ask.price, ask);
    TT_ASSERT_STR(b.ask.venue, ask_venue);
}

static void test_bbo_across_venues(void) {
    fresh();
    bbo_tick("binance", "3000.10", "3000.50", 1, true);
    expect_bbo("3000.10", "binance", "3000.50", "binance");
    bbo_tick("okx", "3000.2", "3000.6", 2, true); /* better bid, worse ask */
    expect_bbo("3000.2", "okx", "3000.50", "binance");
    bbo_tick("kraken", "3000.20", "3000.5", 3, false); /* ties keep the incumbent */
    expect_bbo("3000.2", "okx", "3000.50", "binance");
    bbo_tick("kraken", "3000.20", "3000.5", 4, false); /* same prices, later: nothing to tell */
    bbo_tick("coinbase", "2999", "3001", 5, false); /* worse on both sides */

    /* The best bid's venue drops its bid: recompute over every venue; kraken's equal bid takes over. */
    bbo_tick("okx", "2990", "3000.6", 6, true);
    expect_bbo("3000.20", "kraken", "3000.50", "binance");
    bbo_tick("kraken", "2980", "3000.5", 7, true);
    expect_bbo("3000.10", "binance", "3000.50", "binance");
    /* The best ask's venue withdraws its ask: the next lowest wins. */
    bbo_tick("binance", "3000.10", "", 8, true);
    expect_bbo("3000.10", "binance", "3000.5", "kraken");
    /* The best side's size changes: a change, same venue. */
    struct tick t = quote("binance", "ETH-USDT", "3000.10", "");
    snprintf(t.bid_qty, sizeof t.bid_qty, "7.5");
    t.recv_us = 9;
    struct merge_update u;
    TT_ASSERT_INT(merge_apply(m, &t, &u), MERGE_ACCEPTED);
    TT_ASSERT(u.bbo_changed);
    struct merge_bbo b;
    TT_ASSERT_INT(merge_bbo_get(m, "ETH-USDT", &b), 0);
    TT_ASSERT_STR(b.bid.qty, "7.5");
    TT_ASSERT_INT(b.bid.time_us, 9);
    TT_ASSERT_INT(merge_bbo_get(m, "XRP-USDT", &b), -ENOENT);
}

struct expiry_calls {
    unsigned n;
    uint32_t last_bbo;
};

static void on_bbo_expired(void *arg, uint32_t bbo_id) {
    struct expiry_calls *c = arg;
    c->n++;
    c->last_bbo = bbo_id;
}

/* A silent venue's quote leaves the best bid and offer once merge_expire finds it too old, stays readable, and
 * comes back with its next accepted tick; a repeat of an old update does not bring it back. */
/* A halted or delisted instrument's quote leaves the best bid and offer at once, its ticks are refused while it is
 * withdrawn (also by the expiry sweep, which does not count it), and once trading again its next tick (not its old
 * price) brings it back. */
static void test_withdrawn_quotes_leave_the_bbo(void) {
    fresh();
    bbo_tick("binance", "3000.10", "3000.50", 100, true);
    bbo_tick("okx", "3000.20", "3000.60", 200, true); /* best bid okx, best ask binance */
    bbo_tick("kraken", "2999", "3001", 300, false);
    struct expiry_calls calls = {0};
    TT_ASSERT_INT(merge_withdraw(m, "okx", "ETH-USDT", true, on_bbo_expired, &calls), 0);
    TT_ASSERT_INT(calls.n, 1);
    expect_bbo("3000.10", "binance", "3000.50", "binance");
    /* again: nothing changes, nothing is told */
    TT_ASSERT_INT(merge_withdraw(m, "okx", "ETH-USDT", true, on_bbo_expired, &calls), 0);
    TT_ASSERT_INT(calls.n, 1);
    /* a withdrawn quote that was best on no side: no side changes, nothing is told */
    TT_ASSERT_INT(merge_withdraw(m, "kraken", "ETH-USDT", true, on_bbo_expired, &calls), 0);
    TT_ASSERT_INT(calls.n, 1);
    struct tick t = quote("okx", "ETH-USDT", "3005", "3006");
    t.recv_us = 400;
    struct merge_update u;
    TT_ASSERT_INT(merge_apply(m, &t, &u), MERGE_WITHDRAWN);
    TT_ASSERT(!u.bbo_changed);
    TT_ASSERT_STR(merge_get(m, "okx", "ETH-USDT")->tick.bid, "3000.20"); /* kept as it was */
    expect_bbo("3000.10", "binance", "3000.50", "binance");
    struct merge_counters c;
    merge_counters_get(m, &c);
    TT_ASSERT_INT(c.withdrawn_refused, 1);
    /* the sweep skips what is withdrawn */
    TT_ASSERT_INT(merge_expire(m, 1000, on_bbo_expired, &calls), 1); /* binance only */
    /* not a quote the merge holds */
    TT_ASSERT_INT(merge_withdraw(m, "okx", "NOPE-USDT", true, NULL, NULL), -ENOENT);
    TT_ASSERT_INT(merge_withdraw(m, "bitfinex", "ETH-USDT", true, NULL, NULL), -ENOENT);
    /* trading again: out of the best bid and offer until it ticks */
    TT_ASSERT_INT(merge_withdraw(m, "okx", "ETH-USDT", false, on_bbo_expired, &calls), 0);
    struct merge_bbo b;
    TT_ASSERT_INT(merge_bbo_get(m, "ETH-USDT", &b), 0);
    TT_ASSERT_STR(b.bid.price, "");
    t.recv_us = 500;
    TT_ASSERT_INT(merge_apply(m, &t, &u), MERGE_ACCEPTED);
    TT_ASSERT(u.bbo_changed);
    expect_bbo("3005", "okx", "3006", "okx");
}

static void test_expired_quotes_leave_the_bbo(void) {
    fresh();
    bbo_tick("binance", "3000.10", "3000.50", 100, true);
    bbo_tick("okx", "3000.20", "3000.60", 200, true); /* best bid okx, best ask binance */
    bbo_tick("kraken", "2999", "3001", 300, false);   /* worse on both sides */
    struct tick other = quote("binance", "BTC-USDT", "70000", "70001");
    other.recv_us = 50;
    struct merge_update u;
    TT_ASSERT_INT(merge_apply(m, &other, &u), MERGE_ACCEPTED);
    uint32_t btc = u.bbo_id;

    /* Nothing older than 50 µs: nothing expires, and merge_expire says so. */
    struct expiry_calls calls = {0};
    TT_ASSERT_INT(merge_expire(m, 50, on_bbo_expired, &calls), 0);
    TT_ASSERT_INT(calls.n, 0);

    /* Binance (100) and BTC-USDT's only quote (50) are older than 150: the ask falls to the next venue, and
     * BTC-USDT has no side left. okx's bid was not binance's, so it stays. */
    TT_ASSERT_INT(merge_expire(m, 150, on_bbo_expired, &calls), 2);
    TT_ASSERT_INT(calls.n, 2);
    expect_bbo("3000.20", "okx", "3000.60", "okx");
    struct merge_bbo b;
    TT_ASSERT_INT(merge_bbo_by_id(m, btc, &b), 0);
    TT_ASSERT_STR(b.bid.price, "");
    TT_ASSERT_STR(b.bid.venue, "");
    TT_ASSERT_STR(b.ask.price, "");
    TT_ASSERT(merge_get(m, "binance", "ETH-USDT") != NULL); /* kept: its last value is still the venue's */
    TT_ASSERT_STR(merge_get(m, "binance", "ETH-USDT")->tick.ask, "3000.50");
    /* Already expired: a second sweep does not count them again. */
    TT_ASSERT_INT(merge_expire(m, 150, on_bbo_expired, &calls), 0);

    /* okx expires too: kraken, the last venue standing, is the best on both sides. */
    TT_ASSERT_INT(merge_expire(m, 250, on_bbo_expired, &calls), 1);
    TT_ASSERT_INT(calls.n, 3);
    expect_bbo("2999", "kraken", "3001", "kraken");

    /* Binance's next update brings it back with the prices it had: the best on both sides again. */
    struct tick dup = quote("binance", "ETH-USDT", "3000.10", "3000.50");
    dup.has_seq = true;
    dup.seq = 7;
    dup.recv_us = 400;
    TT_ASSERT_INT(merge_apply(m, &dup, &u), MERGE_ACCEPTED);
    TT_ASSERT(u.bbo_changed);
    expect_bbo("3000.10", "binance", "3000.50", "binance");

    /* Everything expires; then a repeat of binance's update (the same sequence) does not revive it. */
    TT_ASSERT_INT(merge_expire(m, 450, on_bbo_expired, &calls), 2); /* binance (400) and kraken (300) */
    TT_ASSERT_INT(merge_bbo_get(m, "ETH-USDT", &b), 0);
    TT_ASSERT_STR(b.bid.price, "");
    TT_ASSERT_STR(b.ask.price, "");
    dup.recv_us = 500;
    TT_ASSERT_INT(merge_apply(m, &dup, &u), MERGE_DUPLICATE);
    TT_ASSERT_INT(merge_bbo_get(m, "ETH-USDT", &b), 0);
    TT_ASSERT_STR(b.bid.price, "");
    TT_ASSERT_STR(b.ask.price, "");

    /* ...a newer one does, even when it is worse than what the others quoted before they expired. */
    bbo_tick("kraken", "2990", "3010", 600, true);
    expect_bbo("2990", "kraken", "3010", "kraken");
    bbo_tick("okx", "2995", "3020", 700, true);
    expect_bbo("2995", "okx", "3010", "kraken");
    struct merge_counters c;
    merge_counters_get(m, &c);
    TT_ASSERT_INT(c.expired, 5);
}

static void test_venue_limit_per_symbol(void) {
    fresh();
    for (int i = 0; i <= MERGE_VENUES_MAX; i++) {
        char venue[16];
        snprintf(venue, sizeof venue, "v%d", i);
        struct tick t = quote(venue, "BTC-USDT", "1", "2");
        TT_ASSERT_INT(merge_apply(m, &t, NULL), i < MERGE_VENUES_MAX ? MERGE_ACCEPTED : -ENOSPC);
    }
    struct merge_counters c;
    merge_counters_get(m, &c);
    TT_ASSERT_INT(c.quotes, MERGE_VENUES_MAX);
}

static void test_100k_instruments(void) {
    fresh();
    const char *venues[] = {"binance", "coinbase", "kraken", "okx"};
    enum { N = 100000 };
    char sym[32], bid[32];
    for (int i = 0; i < N; i++) {
        snprintf(sym, sizeof sym, "S%d-USDT", i / 4);
        snprintf(bid, sizeof bid, "%d.%d", i / 4 + 1, i % 4); /* prices above zero */
        struct tick t = quote(venues[i % 4], sym, bid, "999999");
        t.recv_us = 1;
        TT_ASSERT_INT(merge_apply(m, &t, NULL), MERGE_ACCEPTED);
    }
    struct merge_counters c;
    merge_counters_get(m, &c);
    TT_ASSERT_INT(c.quotes, N);
    TT_ASSERT_INT(c.symbols, N / 4);
    for (int i = 0; i < N; i++) {
        snprintf(sym, sizeof sym, "S%d-USDT", i / 4);
        snprintf(bid, sizeof bid, "%d.%d", i / 4 + 1, i % 4); /* prices above zero */
        const struct merge_quote *q = merge_get(m, venues[i % 4], sym);
        TT_ASSERT(q != NULL);
        TT_ASSERT_STR(q->tick.bid, bid);
    }
    TT_ASSERT(merge_get(m, "binance", "S25000-USDT") == NULL);
    struct merge_bbo b;
    TT_ASSERT_INT(merge_bbo_get(m, "S12345-USDT", &b), 0);
    TT_ASSERT_STR(b.bid.price, "12346.3");
    TT_ASSERT_STR(b.bid.venue, "okx");
}

/* Ids are dense, in first-seen order, the same for every later tick of an instrument (accepted or not), and
 * merge_bbo_by_id reads what merge_bbo_get reads. */
static void test_ids_dense_and_stable(void) {
    fresh();
    const char *venues[] = {"binance", "coinbase", "kraken"};
    enum { SYMBOLS = 500, VENUES = 3 };
    char sym[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < SYMBOLS * VENUES; i++) {
            snprintf(sym, sizeof sym, "S%d-USDT", i / VENUES);
            struct tick t = quote(venues[i % VENUES], sym, round ? "2" : "1", "3");
            t.recv_us = 1; /* the second round repeats the time: DUPLICATE, yet the same ids */
            struct merge_update u;
            TT_ASSERT_INT(merge_apply(m, &t, &u), round ? MERGE_DUPLICATE : MERGE_ACCEPTED);
            TT_ASSERT_INT(u.quote_id, i);
            TT_ASSERT_INT(u.bbo_id, i / VENUES);
        }
    }
    struct merge_bbo by_name, by_id;
    for (int i = 0; i < SYMBOLS; i++) {
        snprintf(sym, sizeof sym, "S%d-USDT", i);
        struct tick t = quote("okx", sym, "5", "6"); /* a fourth venue, now the best bid */
        struct merge_update u;
        TT_ASSERT_INT(merge_apply(m, &t, &u), MERGE_ACCEPTED);
        TT_ASSERT_INT(u.quote_id, SYMBOLS * VENUES + i);
        TT_ASSERT_INT(u.bbo_id, i);
        TT_ASSERT(u.bbo_changed);
        memset(&by_name, 0, sizeof by_name); /* the bytes after each text's NUL are not written */
        memset(&by_id, 0, sizeof by_id);
        TT_ASSERT_INT(merge_bbo_get(m, sym, &by_name), 0);
        TT_ASSERT_INT(merge_bbo_by_id(m, u.bbo_id, &by_id), 0);
        TT_ASSERT(memcmp(&by_name, &by_id, sizeof by_id) == 0);
        TT_ASSERT_STR(by_id.symbol, sym);
        TT_ASSERT_STR(by_id.bid.venue, "okx");
        TT_ASSERT_STR(by_id.ask.price, "3");
    }
    TT_ASSERT_INT(merge_bbo_by_id(m, SYMBOLS, &by_id), -ENOENT);
    TT_ASSERT_INT(merge_bbo_by_id(m, UINT32_MAX, &by_id), -ENOENT);
}

/* Coinbase's REST ticker sends prices without sizes: the sizes of an unmoved side stay, a moved side's go. */
static void test_unsent_fields_are_kept_where_the_price_did_not_move(void) {
    fresh();
    struct tick s = stream_seq(10, 1000, "100.5");
    snprintf(s.bid_qty, sizeof s.bid_qty, "3.25");
    snprintf(s.ask_qty, sizeof s.ask_qty, "4.75");
    snprintf(s.last, sizeof s.last, "100.6");
    TT_ASSERT_INT(apply(s), MERGE_ACCEPTED);
    struct tick r = rest(2000, 2500, "100.5"); /* same bid, same ask "70000", no sizes, no last */
    r.bid_qty[0] = r.ask_qty[0] = 0;
    TT_ASSERT_INT(apply(r), MERGE_ACCEPTED);
    const struct tick *q = &merge_get(m, "binance", "BTC-USDT")->tick;
    TT_ASSERT_STR(q->bid_qty, "3.25");
    TT_ASSERT_STR(q->ask_qty, "4.75");
    TT_ASSERT_STR(q->last, "100.6");
    TT_ASSERT_INT(q->origin, TICK_ORIGIN_REST);
    struct tick r2 = rest(3000, 3500, "100.4"); /* the bid moved: its old size would be a guess */
    r2.bid_qty[0] = r2.ask_qty[0] = 0;
    TT_ASSERT_INT(apply(r2), MERGE_ACCEPTED);
    q = &merge_get(m, "binance", "BTC-USDT")->tick;
    TT_ASSERT_STR(q->bid, "100.4");
    TT_ASSERT_STR(q->bid_qty, "");
    TT_ASSERT_STR(q->ask_qty, "4.75");
}

/* Reserved records hold the configured instruments; one more than reserved still fits, and every quote reads
 * back whole (the reserve moves no record that the ids or a view point to). */
static void test_reserve_then_beyond(void) {
    fresh();
    TT_ASSERT_INT(merge_reserve(m, 100), 0);
    TT_ASSERT_INT(merge_reserve(m, 10), 0); /* never shrinks */
    char sym[32], bid[16];
    for (int i = 0; i < 150; i++) {
        snprintf(sym, sizeof sym, "S%03d-USDT", i);
        snprintf(bid, sizeof bid, "%d.5", i + 1);
        struct tick t = quote("okx", sym, bid, "999");
        struct merge_update up;
        TT_ASSERT_INT(merge_apply(m, &t, &up), MERGE_ACCEPTED);
        TT_ASSERT_INT(up.quote_id, i);
    }
    for (int i = 0; i < 150; i++) {
        snprintf(sym, sizeof sym, "S%03d-USDT", i);
        snprintf(bid, sizeof bid, "%d.5", i + 1);
        const struct merge_quote *q = merge_get(m, "okx", sym);
        TT_ASSERT(q != NULL);
        if (q) TT_ASSERT_STR(q->tick.bid, bid);
    }
}

int main(void) {
    TT_RUN(test_reserve_then_beyond);
    TT_RUN(test_stream_orders_by_seq);
    TT_RUN(test_key_text_parses);
    TT_RUN(test_bad_future_seq_then_real_ticks);
    TT_RUN(test_sequence_reset_on_a_new_connection);
    TT_RUN(test_held_tick_is_released_when_the_old_run_ends);
    TT_RUN(test_held_tick_over_a_foreign_key);
    TT_RUN(test_adopted_key);
    TT_RUN(test_bad_time_counted);
    TT_RUN(test_stream_without_seq_orders_by_event_time);
    TT_RUN(test_stream_without_seq_or_time_orders_by_receipt);
    TT_RUN(test_rest_vs_rest_by_sent_time);
    TT_RUN(test_rest_vs_stream_race);
    TT_RUN(test_stream_beats_earlier_rest);
    TT_RUN(test_key_text_grows_with_every_accept);
    TT_RUN(test_bad_ticks_are_rejected);
    TT_RUN(test_bbo_across_venues);
    TT_RUN(test_expired_quotes_leave_the_bbo);
    TT_RUN(test_venue_limit_per_symbol);
    TT_RUN(test_unsent_fields_are_kept_where_the_price_did_not_move);
    TT_RUN(test_100k_instruments);
    TT_RUN(test_ids_dense_and_stable);
    TT_RUN(test_withdrawn_quotes_leave_the_bbo);
    merge_free(m);
    return tt_finish();
}
