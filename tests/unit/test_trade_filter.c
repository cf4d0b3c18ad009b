/* Unit tests of the trade filter: duplicates across connections, holes in dense ids, the resets that keep one
 * bad frame from silencing an instrument, ids that are not integers, many instruments; and trade ids. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tickd/trade_filter.h"
#include "tt.h"

#define T0 1700000000000000LL
#define FILL_WAIT_US 3000000

static struct trade_filter *f;

static void fresh(void) {
    trade_filter_free(f);
    f = NULL;
    TT_ASSERT_INT(trade_filter_new(&f), 0);
}

static struct trade trade(const char *symbol, const char *id, uint32_t run, int64_t recv_us) {
    struct trade t;
    memset(&t, 0, sizeof t);
    snprintf(t.venue, sizeof t.venue, "binance");
    snprintf(t.symbol, sizeof t.symbol, "%s", symbol);
    snprintf(t.id, sizeof t.id, "%s", id);
    snprintf(t.price, sizeof t.price, "1.5");
    snprintf(t.qty, sizeof t.qty, "2");
    t.run = run;
    t.recv_us = recv_us;
    return t;
}

static struct trade_check check;

static int judge(const char *symbol, const char *id, uint32_t run, bool dense) {
    struct trade t = trade(symbol, id, run, T0);
    return trade_filter_check(f, &t, dense, 0, &check);
}

/* A trade of a venue whose trades are also polled: from the stream (run != 0) or from a poll (run 0, REST). */
static int judge_fillable(const char *id, uint32_t run, int64_t recv_us) {
    struct trade t = trade("BTC-USDT", id, run, recv_us);
    if (!run) t.origin = TICK_ORIGIN_REST;
    return trade_filter_check(f, &t, true, FILL_WAIT_US, &check);
}

static struct trade due[8];
static struct trade_check due_checks[8];

static size_t take(int64_t now_us) { return trade_filter_take(f, now_us, due, due_checks, 8); }

static struct trade_filter_counters counters(void) {
    struct trade_filter_counters c;
    trade_filter_counters_get(f, &c);
    return c;
}

static void test_trade_id_number(void) {
    uint64_t v = 7;
    TT_ASSERT(trade_id_number("0", &v) && v == 0);
    TT_ASSERT(trade_id_number("12345", &v) && v == 12345);
    TT_ASSERT(trade_id_number("18446744073709551615", &v) && v == UINT64_MAX);
    TT_ASSERT(!trade_id_number("18446744073709551616", &v));
    TT_ASSERT(!trade_id_number("99999999999999999999", &v));
    TT_ASSERT(!trade_id_number("123456789012345678901", &v));
    TT_ASSERT(!trade_id_number("", &v));
    TT_ASSERT(!trade_id_number("012", &v));
    TT_ASSERT(!trade_id_number("-1", &v));
    TT_ASSERT(!trade_id_number("1.0", &v));
    TT_ASSERT(!trade_id_number("abc", &v));
    TT_ASSERT_STR(trade_side_name(TRADE_SIDE_BUY), "buy");
    TT_ASSERT_STR(trade_side_name(TRADE_SIDE_SELL), "sell");
    TT_ASSERT_STR(trade_side_name(TRADE_SIDE_UNKNOWN), "unknown");
}

/* Two connections during a make-before-break deliver the same trades: each is new once. */
static void test_duplicates_across_connections(void) {
    fresh();
    uint32_t old_run = tick_run_begin(), new_run = tick_run_begin();
    TT_ASSERT_INT(judge("BTC-USDT", "100", old_run, true), TRADE_NEW);
    TT_ASSERT_INT(judge("BTC-USDT", "101", old_run, true), TRADE_NEW);
    TT_ASSERT_INT(judge("BTC-USDT", "100", new_run, true), TRADE_DUPLICATE);
    TT_ASSERT_INT(judge("BTC-USDT", "101", new_run, true), TRADE_DUPLICATE);
    TT_ASSERT_INT(judge("BTC-USDT", "102", new_run, true), TRADE_NEW);
    TT_ASSERT_INT(judge("BTC-USDT", "102", old_run, true), TRADE_DUPLICATE);
    TT_ASSERT_INT(judge("BTC-USDT", "102", new_run, true), TRADE_DUPLICATE); /* a repeat on one connection */
    TT_ASSERT_INT(judge("ETH-USDT", "100", old_run, true), TRADE_NEW);      /* per instrument */
    TT_ASSERT_INT(counters().duplicates, 4);
    TT_ASSERT_INT(counters().instruments, 2);
    TT_ASSERT_INT(counters().gaps, 0);
    tick_run_end(old_run, T0);
    tick_run_end(new_run, T0);
}

/* Dense ids: a hole is reported with its range and counted; sparse ids (OKX) have none. */
static void test_gaps_in_dense_ids(void) {
    fresh();
    uint32_t run = tick_run_begin();
    TT_ASSERT_INT(judge("BTC-USDT", "10", run, true), TRADE_NEW);
    TT_ASSERT_INT(check.missing_from, 0);
    TT_ASSERT_INT(judge("BTC-USDT", "11", run, true), TRADE_NEW);
    TT_ASSERT_INT(check.missing_from, 0);
    TT_ASSERT_INT(judge("BTC-USDT", "15", run, true), TRADE_NEW);
    TT_ASSERT_INT(check.missing_from, 12);
    TT_ASSERT_INT(check.missing_to, 14);
    TT_ASSERT_INT(judge("BTC-USDT", "16", run, true), TRADE_NEW);
    TT_ASSERT_INT(check.missing_to, 0);
    TT_ASSERT_INT(counters().gaps, 1);
    TT_ASSERT_INT(counters().missing, 3);
    TT_ASSERT_INT(judge("OKB-USDT", "500", run, false), TRADE_NEW);
    TT_ASSERT_INT(judge("OKB-USDT", "509", run, false), TRADE_NEW);
    TT_ASSERT_INT(check.missing_from, 0);
    TT_ASSERT_INT(counters().gaps, 1);
    tick_run_end(run, T0);
}

/* One frame with an id far ahead, then the real ones on the same connection: they reset, not "duplicates". A
 * renumbering across a reconnect resets once the old connection is over; a lower id from a live other
 * connection stays a duplicate. */
static void test_resets(void) {
    fresh();
    uint32_t run = tick_run_begin();
    TT_ASSERT_INT(judge("BTC-USDT", "1000", run, true), TRADE_NEW);
    TT_ASSERT_INT(judge("BTC-USDT", "1000000000000000000", run, true), TRADE_NEW);
    TT_ASSERT_INT(judge("BTC-USDT", "1001", run, true), TRADE_RESET);
    TT_ASSERT_INT(judge("BTC-USDT", "1002", run, true), TRADE_NEW);
    TT_ASSERT_INT(counters().resets, 1);

    uint32_t other = tick_run_begin();
    TT_ASSERT_INT(judge("BTC-USDT", "5", other, true), TRADE_DUPLICATE); /* the old connection is alive */
    tick_run_end(run, T0 - TICK_RUN_LINGER_US - 1);
    TT_ASSERT_INT(judge("BTC-USDT", "900", other, true), TRADE_DUPLICATE); /* near: a replay, not a renumbering */
    TT_ASSERT_INT(judge("BTC-USDT", "5", other, true), TRADE_DUPLICATE);
    /* 1002 - 5 is within TRADE_RESET_DISTANCE; a renumbering far below resets */
    TT_ASSERT_INT(judge("BTC-USDT", "3000000", other, true), TRADE_NEW);
    uint32_t third = tick_run_begin();
    tick_run_end(other, T0 - TICK_RUN_LINGER_US - 1);
    TT_ASSERT_INT(judge("BTC-USDT", "1", third, true), TRADE_RESET);
    TT_ASSERT_INT(judge("BTC-USDT", "2", third, true), TRADE_NEW);
    TT_ASSERT_INT(counters().resets, 2);
    tick_run_end(third, T0);
}

/* A dropped connection: the new one's trades after the hole wait; the poll's answer fills the hole in order,
 * then the held ones follow. */
static void test_hole_filled_by_the_poll(void) {
    fresh();
    uint32_t run = tick_run_begin();
    TT_ASSERT_INT(judge_fillable("100", run, T0), TRADE_NEW);
    TT_ASSERT_INT(judge_fillable("104", run, T0 + 10), TRADE_HELD);
    TT_ASSERT_INT(judge_fillable("105", run, T0 + 20), TRADE_HELD);
    TT_ASSERT_INT(judge_fillable("105", run, T0 + 25), TRADE_DUPLICATE); /* held already */
    TT_ASSERT_INT(trade_filter_holding(f), 1);
    TT_ASSERT_INT(take(T0 + 30), 0); /* still waiting */
    TT_ASSERT_INT(judge_fillable("99", 0, T0 + 40), TRADE_DUPLICATE);
    TT_ASSERT_INT(judge_fillable("100", 0, T0 + 40), TRADE_DUPLICATE);
    TT_ASSERT_INT(judge_fillable("101", 0, T0 + 40), TRADE_NEW);
    TT_ASSERT_INT(judge_fillable("102", 0, T0 + 40), TRADE_NEW);
    TT_ASSERT_INT(take(T0 + 45), 0);
    TT_ASSERT_INT(judge_fillable("103", 0, T0 + 40), TRADE_NEW); /* the hole is filled: the held ones are due */
    TT_ASSERT_INT(judge_fillable("104", 0, T0 + 40), TRADE_DUPLICATE);
    TT_ASSERT_INT(take(T0 + 50), 2);
    TT_ASSERT_STR(due[0].id, "104");
    TT_ASSERT_STR(due[1].id, "105");
    TT_ASSERT_INT(due_checks[0].missing_from, 0);
    TT_ASSERT_INT(trade_filter_holding(f), 0);
    TT_ASSERT_INT(judge_fillable("105", 0, T0 + 60), TRADE_DUPLICATE);
    TT_ASSERT_INT(judge_fillable("106", run, T0 + 60), TRADE_NEW);
    TT_ASSERT_INT(counters().filled, 3);
    TT_ASSERT_INT(counters().released, 2);
    TT_ASSERT_INT(counters().gaps, 0);
    tick_run_end(run, T0);
}

/* A poll answer that goes past a hole without its ids: they are not coming, the hole is a gap now. A hole no
 * answer fills is a gap when the wait ends. A hole too wide for any answer is not waited for. */
static void test_hole_given_up(void) {
    fresh();
    uint32_t run = tick_run_begin();
    TT_ASSERT_INT(judge_fillable("100", run, T0), TRADE_NEW);
    TT_ASSERT_INT(judge_fillable("110", run, T0 + 10), TRADE_HELD);
    TT_ASSERT_INT(judge_fillable("103", 0, T0 + 20), TRADE_HELD); /* 101, 102 not in the answer */
    TT_ASSERT_INT(take(T0 + 20), 1);                              /* 103, after the gap 101..102 */
    TT_ASSERT_STR(due[0].id, "103");
    TT_ASSERT_INT(due_checks[0].missing_from, 101);
    TT_ASSERT_INT(due_checks[0].missing_to, 102);
    TT_ASSERT_INT(judge_fillable("111", 0, T0 + 20), TRADE_HELD); /* past 104..109: they are not coming */
    TT_ASSERT_INT(take(T0 + 30), 2);
    TT_ASSERT_STR(due[0].id, "110");
    TT_ASSERT_STR(due[1].id, "111");
    TT_ASSERT_INT(due_checks[0].missing_from, 104);
    TT_ASSERT_INT(due_checks[0].missing_to, 109);
    TT_ASSERT_INT(due_checks[1].missing_from, 0);
    TT_ASSERT_INT(counters().gaps, 2);
    TT_ASSERT_INT(counters().missing, 8);
    TT_ASSERT_INT(trade_filter_holding(f), 0);

    TT_ASSERT_INT(judge_fillable("120", run, T0 + 40), TRADE_HELD);
    TT_ASSERT_INT(take(T0 + 40 + FILL_WAIT_US - 1), 0);
    TT_ASSERT_INT(take(T0 + 40 + FILL_WAIT_US), 1);
    TT_ASSERT_STR(due[0].id, "120");
    TT_ASSERT_INT(due_checks[0].missing_from, 112);
    TT_ASSERT_INT(due_checks[0].missing_to, 119);
    TT_ASSERT_INT(counters().gaps, 3);

    TT_ASSERT_INT(judge_fillable("5000", run, T0 + 50), TRADE_NEW); /* wider than TRADE_FILL_MAX */
    TT_ASSERT_INT(check.missing_from, 121);
    TT_ASSERT_INT(trade_filter_holding(f), 0);
    tick_run_end(run, T0);
}

/* A second drop while the first hole still waits: its hole too is filled by the poll's answer, in order. */
static void test_two_holes_filled(void) {
    fresh();
    uint32_t run = tick_run_begin();
    TT_ASSERT_INT(judge_fillable("100", run, T0), TRADE_NEW);
    TT_ASSERT_INT(judge_fillable("103", run, T0 + 10), TRADE_HELD);
    TT_ASSERT_INT(judge_fillable("104", run, T0 + 20), TRADE_HELD);
    TT_ASSERT_INT(judge_fillable("107", run, T0 + 30), TRADE_HELD); /* 105, 106 lost too */
    const char *answer[] = {"99", "100", "101", "102", "103", "104", "105", "106", "107", "108"};
    int want[] = {TRADE_DUPLICATE, TRADE_DUPLICATE, TRADE_NEW, TRADE_NEW, TRADE_DUPLICATE, TRADE_DUPLICATE,
                  TRADE_HELD, TRADE_HELD, TRADE_DUPLICATE, TRADE_HELD};
    for (size_t i = 0; i < sizeof answer / sizeof answer[0]; i++)
        TT_ASSERT_INT(judge_fillable(answer[i], 0, T0 + 40), want[i]);
    TT_ASSERT_INT(take(T0 + 50), 6);
    const char *order[] = {"103", "104", "105", "106", "107", "108"};
    for (int i = 0; i < 6; i++) {
        TT_ASSERT_STR(due[i].id, order[i]);
        TT_ASSERT_INT(due_checks[i].missing_from, 0);
    }
    TT_ASSERT_INT(counters().gaps, 0);
    TT_ASSERT_INT(trade_filter_holding(f), 0);
    TT_ASSERT_INT(judge_fillable("108", run, T0 + 60), TRADE_DUPLICATE);
    TT_ASSERT_INT(judge_fillable("109", run, T0 + 60), TRADE_NEW);
    tick_run_end(run, T0);
}

/* Without a poll (not fillable) or for a REST answer's own hole, nothing is held. */
static void test_hole_not_fillable(void) {
    fresh();
    TT_ASSERT_INT(judge("BTC-USDT", "1", 7, true), TRADE_NEW);
    TT_ASSERT_INT(judge("BTC-USDT", "5", 7, true), TRADE_NEW);
    TT_ASSERT_INT(judge_fillable("6", 0, T0), TRADE_NEW);
    TT_ASSERT_INT(judge_fillable("9", 0, T0), TRADE_NEW);
    TT_ASSERT_INT(check.missing_from, 7);
    TT_ASSERT_INT(trade_filter_holding(f), 0);
}

/* Ids that are not integers are not filtered (no venue here sends them): never dropped by mistake. */
static void test_ids_not_integers(void) {
    fresh();
    TT_ASSERT_INT(judge("BTC-USDT", "a1", 1, true), TRADE_NEW);
    TT_ASSERT_INT(judge("BTC-USDT", "a1", 1, true), TRADE_NEW);
    TT_ASSERT_INT(counters().instruments, 0);
}

static void test_many_instruments(void) {
    fresh();
    char sym[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(sym, sizeof sym, "S%d-USDT", i);
        TT_ASSERT_INT(judge(sym, "7", 1, true), TRADE_NEW);
    }
    for (int i = 0; i < 100000; i++) {
        snprintf(sym, sizeof sym, "S%d-USDT", i);
        TT_ASSERT_INT(judge(sym, "7", 2, true), TRADE_DUPLICATE);
    }
    TT_ASSERT_INT(counters().instruments, 100000);
    TT_ASSERT_INT(counters().duplicates, 100000);
}

int main(void) {
    TT_RUN(test_trade_id_number);
    TT_RUN(test_duplicates_across_connections);
    TT_RUN(test_gaps_in_dense_ids);
    TT_RUN(test_resets);
    TT_RUN(test_hole_filled_by_the_poll);
    TT_RUN(test_hole_given_up);
    TT_RUN(test_two_holes_filled);
    TT_RUN(test_hole_not_fillable);
    TT_RUN(test_ids_not_integers);
    TT_RUN(test_many_instruments);
    trade_filter_free(f);
    return tt_finish();
}
