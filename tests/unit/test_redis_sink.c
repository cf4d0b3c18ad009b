/* test_redis_sink.c -- the Redis writer against a real redis-server (tests/lib/servers.sh).
 *
 * Each test runs the sink on its own loop, checks what landed with a plain synchronous hiredis client, closes
 * the sink and requires uv_loop_close() == 0. Outage tests stop and start the server with servers.sh. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "tickd/book.h"
#include "tickd/clock.h"
#include "tickd/config.h"
#include "tickd/lat_hist.h"
#include "tickd/log.h"
#include "tickd/merge.h"
#include "tickd/redis_sink.h"
#include "tt.h"

static const char *redis_url, *servers_sh;
static int redis_port;
static char prefix[64];
static int test_no;

static void need_redis(void) {
    if (!redis_url) TT_SKIP("TICKD_TEST_REDIS_URL unset (start tests/lib/servers.sh)");
    snprintf(prefix, sizeof prefix, "t%d-%d", (int)getpid(), ++test_no); /* fresh keys per test */
}

static redisContext *sync_client(void) {
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
    if (!c || c->err) TT_FAIL("sync client: %s", c ? c->errstr : "oom");
    return c;
}

/* HGET as a string ("" for a missing field), into a static buffer. */
static const char *hget(redisContext *c, const char *key, const char *field) {
    static char buf[8][256];
    static int slot;
    char *out = buf[slot++ % 8];
    out[0] = 0;
    redisReply *r = redisCommand(c, "HGET %s %s", key, field);
    if (r && r->type == REDIS_REPLY_STRING) snprintf(out, 256, "%s", r->str);
    freeReplyObject(r);
    return out;
}

static long long int_command(redisContext *c, const char *fmt, const char *arg) {
    redisReply *r = redisCommand(c, fmt, arg);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

/* How many keys this test's prefix has in Redis. */
static long long count_keys(redisContext *c) {
    char pattern[96];
    snprintf(pattern, sizeof pattern, "%s:*", prefix);
    redisReply *r = redisCommand(c, "KEYS %s", pattern);
    long long n = r && r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : -1;
    freeReplyObject(r);
    return n;
}

static struct tick mk(const char *venue, const char *symbol, uint64_t seq) {
    struct tick t = {.has_seq = true, .seq = seq, .event_us = 1700000000000000 + (int64_t)seq,
                     .recv_us = 1700000000000100 + (int64_t)seq, .origin = TICK_ORIGIN_STREAM};
    snprintf(t.venue, sizeof t.venue, "%s", venue);
    snprintf(t.symbol, sizeof t.symbol, "%s", symbol);
    snprintf(t.bid, sizeof t.bid, "%" PRIu64 ".10", seq);
    snprintf(t.bid_qty, sizeof t.bid_qty, "0.000%" PRIu64, seq);
    snprintf(t.ask, sizeof t.ask, "%" PRIu64 ".2000", seq + 1);
    snprintf(t.ask_qty, sizeof t.ask_qty, "0.00000001");
    snprintf(t.last, sizeof t.last, "%" PRIu64 ".15", seq);
    return t;
}

/* The key the merge would give a stream tick with a sequence (merge.h): (seq, recv_us, stream). */
static int put(struct redis_sink *s, const struct tick *t) {
    struct merge_key k = {.pos = t->has_seq ? t->seq : (uint64_t)t->event_us, .time_us = (uint64_t)t->recv_us,
                          .rank = t->origin == TICK_ORIGIN_STREAM, .positioned = true};
    return redis_sink_put(s, t, &k);
}

/* What the daemon does: the merge decides, the sink writes what it accepted with the merge's key. */
static int via_merge(struct redis_sink *s, struct merge *m, const struct tick *t) {
    struct merge_update up;
    int rc = merge_apply(m, t, &up);
    if (rc != MERGE_ACCEPTED) return rc;
    return redis_sink_put_accepted(s, up.quote_id, &up.quote->tick, &up.quote->key);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void noop_timer(uv_timer_t *h) {
    (void)h;
}

/* Runs the loop until cond(arg) or timeout_ms; returns whether cond became true. */
static bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg, uint64_t timeout_ms) {
    uint64_t end = now_ms() + timeout_ms;
    uv_timer_t nudge; /* bounds each UV_RUN_ONCE so the deadline is checked even when nothing happens */
    uv_timer_init(loop, &nudge);
    uv_timer_start(&nudge, noop_timer, 5, 5);
    bool ok;
    while (!(ok = cond(arg)) && now_ms() < end) uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&nudge, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static bool settled(void *arg) {
    struct redis_sink_stats st;
    redis_sink_stats(arg, &st);
    return st.ready && st.pending == 0;
}

static bool flag_set(void *arg) {
    return *(bool *)arg;
}

static void set_flag(void *arg) {
    *(bool *)arg = true;
}

static struct redis_sink *open_sink(uv_loop_t *loop, uint64_t history) {
    struct redis_sink_config cfg = {.url = redis_url, .prefix = prefix, .history = history,
                                    .reply_timeout_ms = 800, .connect_timeout_ms = 800,
                                    .backoff_min_ms = 50, .backoff_max_ms = 400, .close_deadline_ms = 3000};
    struct redis_sink *s = NULL;
    TT_ASSERT_INT(redis_sink_new(loop, &cfg, &s), 0);
    return s;
}

static void close_sink(uv_loop_t *loop, struct redis_sink *s) {
    bool closed = false;
    redis_sink_close(s, set_flag, &closed);
    TT_ASSERT(run_until(loop, flag_set, &closed, 10000));
}

static void finish_loop(uv_loop_t *loop) {
    uv_run(loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(uv_loop_close(loop), 0);
}

static void test_writes_land_exact(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    struct tick a = mk("binance", "BTC-USDT", 41), b = mk("kraken", "ETH-USD", 7);
    b.has_seq = false;
    b.last[0] = 0;
    TT_ASSERT_INT(put(s, &a), 0);
    TT_ASSERT_INT(put(s, &b), 0);
    struct merge_bbo bbo = {.symbol = "BTC-USDT",
                            .bid = {.price = "41.10", .qty = "2", .venue = "binance", .time_us = 5},
                            .ask = {.price = "42.2", .qty = "0.5", .venue = "okx", .time_us = 6}};
    TT_ASSERT_INT(redis_sink_put_bbo(s, &bbo, 7), 0);
    struct merge_bbo older = bbo;
    snprintf(older.bid.price, sizeof older.bid.price, "1");
    TT_ASSERT_INT(redis_sink_put_bbo(s, &older, 6), 0); /* an older BBO does not replace it */
    TT_ASSERT(run_until(&loop, settled, s, 5000));

    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:quote:binance:BTC-USDT", prefix);
    TT_ASSERT_STR(hget(c, key, "bid"), "41.10");
    TT_ASSERT_STR(hget(c, key, "bid_qty"), "0.00041");
    TT_ASSERT_STR(hget(c, key, "ask"), "42.2000");
    TT_ASSERT_STR(hget(c, key, "ask_qty"), "0.00000001");
    TT_ASSERT_STR(hget(c, key, "last"), "41.15");
    TT_ASSERT_STR(hget(c, key, "seq"), "41");
    TT_ASSERT_STR(hget(c, key, "ts"), "1700000000000041");
    TT_ASSERT_STR(hget(c, key, "recv_ts"), "1700000000000141");
    TT_ASSERT_STR(hget(c, key, "origin"), "stream");
    char order[MERGE_KEY_TEXT_LEN];
    merge_key_format(&(struct merge_key){.pos = 41, .time_us = 1700000000000141, .rank = 1}, order);
    TT_ASSERT_STR(hget(c, key, "order"), order);
    snprintf(key, sizeof key, "%s:quote:kraken:ETH-USD", prefix);
    TT_ASSERT_STR(hget(c, key, "seq"), "");
    TT_ASSERT_STR(hget(c, key, "last"), "");
    TT_ASSERT_STR(hget(c, key, "bid"), "7.10");
    snprintf(key, sizeof key, "%s:bbo:BTC-USDT", prefix);
    TT_ASSERT_STR(hget(c, key, "bid"), "41.10");
    TT_ASSERT_STR(hget(c, key, "bid_venue"), "binance");
    TT_ASSERT_STR(hget(c, key, "ask_venue"), "okx");
    TT_ASSERT_STR(hget(c, key, "ask_ts"), "6");
    TT_ASSERT_STR(hget(c, key, "ask_qty"), "0.5");
    TT_ASSERT_STR(hget(c, key, "ts"), "7");
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* A quote and its symbol's BBO waiting together go out in one script call (a batch), and each keeps its own
 * compare: a BBO that Redis holds newer (another writer's) stays while the quote beside it is written. */
static void test_quote_and_bbo_in_one_write(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s1 = open_sink(&loop, 0), *s2 = open_sink(&loop, 0);
    redisContext *c = sync_client();
    TT_ASSERT(run_until(&loop, settled, s1, 5000) && run_until(&loop, settled, s2, 5000));
    struct tick t = mk("binance", "SOL-USDT", 5);
    /* The longest decimal a tick holds (39 characters) does not fit a packed record inline: kept whole. */
    static const char longest[] = "123456789012345678.12345678901234567890";
    _Static_assert(sizeof longest == TICK_DECIMAL_MAX, "a decimal of the largest size");
    memcpy(t.bid_qty, longest, sizeof longest);
    struct merge_bbo bbo = {.symbol = "SOL-USDT",
                            .bid = {.price = "5.10", .qty = "1", .venue = "binance", .time_us = 5},
                            .ask = {.price = "5.20", .qty = "2", .venue = "binance", .time_us = 5}};
    TT_ASSERT_INT(put(s1, &t), 0);
    TT_ASSERT_INT(redis_sink_put_bbo(s1, &bbo, 100), 0);
    TT_ASSERT(run_until(&loop, settled, s1, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s1, &st);
    TT_ASSERT_INT(st.commands, 1);
    TT_ASSERT_INT(st.writes, 2);
    char qkey[128], bkey[128];
    snprintf(qkey, sizeof qkey, "%s:quote:binance:SOL-USDT", prefix);
    snprintf(bkey, sizeof bkey, "%s:bbo:SOL-USDT", prefix);
    TT_ASSERT_STR(hget(c, qkey, "seq"), "5");
    TT_ASSERT_STR(hget(c, qkey, "bid_qty"), longest);
    TT_ASSERT_STR(hget(c, qkey, "ask_qty"), t.ask_qty);
    TT_ASSERT_STR(hget(c, bkey, "bid"), "5.10");
    TT_ASSERT_STR(hget(c, bkey, "ts"), "100");
    /* The second writer: a newer quote, but a BBO older than the one Redis holds. */
    struct tick t6 = mk("binance", "SOL-USDT", 6);
    struct merge_bbo old = bbo;
    snprintf(old.bid.price, sizeof old.bid.price, "4.90");
    TT_ASSERT_INT(put(s2, &t6), 0);
    TT_ASSERT_INT(redis_sink_put_bbo(s2, &old, 50), 0);
    TT_ASSERT(run_until(&loop, settled, s2, 5000));
    redis_sink_stats(s2, &st);
    TT_ASSERT_INT(st.writes, 1);
    TT_ASSERT_INT(st.cas_rejected, 1);
    TT_ASSERT_STR(hget(c, qkey, "seq"), "6");
    TT_ASSERT_STR(hget(c, bkey, "bid"), "5.10");
    TT_ASSERT_STR(hget(c, bkey, "ts"), "100");
    /* A BBO alone still goes out alone. */
    snprintf(bbo.ask.price, sizeof bbo.ask.price, "5.30");
    TT_ASSERT_INT(redis_sink_put_bbo(s1, &bbo, 200), 0);
    TT_ASSERT(run_until(&loop, settled, s1, 5000));
    TT_ASSERT_STR(hget(c, bkey, "ask"), "5.30");
    TT_ASSERT_STR(hget(c, qkey, "seq"), "6");
    redisFree(c);
    close_sink(&loop, s1);
    close_sink(&loop, s2);
    finish_loop(&loop);
}

/* What waits goes out in batches of up to 64 records per script call, each record with its own answer: 300
 * quotes and 100 BBOs make 7 calls, and a key of the wrong type (a string where a quote's hash belongs, and a
 * string as a symbol's history stream) fails only its own record, in every batch, without a reconnect. */
static void test_batches_isolate_a_bad_key(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 5);
    redisContext *c = sync_client();
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    char key[128], sym[32];
    snprintf(key, sizeof key, "%s:quote:binance:S0007-USDT", prefix);
    freeReplyObject(redisCommand(c, "SET %s not-a-hash", key));
    snprintf(key, sizeof key, "%s:ticks:S0011-USDT", prefix);
    freeReplyObject(redisCommand(c, "SET %s not-a-stream", key));
    for (int i = 0; i < 300; i++) {
        snprintf(sym, sizeof sym, "S%04d-USDT", i);
        struct tick t = mk("binance", sym, 10 + (uint64_t)i);
        TT_ASSERT_INT(put(s, &t), 0);
        if (i % 3) continue;
        struct merge_bbo b = {.bid = {.price = "1.5", .qty = "2", .venue = "binance", .time_us = 3},
                              .ask = {.price = "1.6", .qty = "3", .venue = "binance", .time_us = 4}};
        snprintf(b.symbol, sizeof b.symbol, "%s", sym);
        if (i == 297) memcpy(b.symbol, "S0007-USDT", sizeof "S0007-USDT"); /* 100 BBOs, one of them S0007's */
        TT_ASSERT_INT(redis_sink_put_bbo(s, &b, 1000 + i), 0);
    }
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.commands, 7); /* 400 records: six of 64 and one of 16 */
    TT_ASSERT_INT(st.errors, 2);
    TT_ASSERT_INT(st.writes, 399); /* S0011's quote was written; only its history entry failed */
    TT_ASSERT_INT(st.reconnects, 0);
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "%s:quote:binance:S%04d-USDT", prefix, i);
        char want[32];
        snprintf(want, sizeof want, "%d", 10 + i);
        TT_ASSERT_STR(hget(c, key, "seq"), i == 7 ? "" : want);
    }
    snprintf(key, sizeof key, "%s:bbo:S0007-USDT", prefix);
    TT_ASSERT_STR(hget(c, key, "ts"), "1297");
    snprintf(key, sizeof key, "%s:ticks:S0010-USDT", prefix);
    TT_ASSERT_INT(int_command(c, "XLEN %s", key), 1);
    /* The bad key is fixed; the record's next change is written. */
    snprintf(key, sizeof key, "%s:quote:binance:S0007-USDT", prefix);
    freeReplyObject(redisCommand(c, "DEL %s", key));
    struct tick t = mk("binance", "S0007-USDT", 100);
    TT_ASSERT_INT(put(s, &t), 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    TT_ASSERT_STR(hget(c, key, "seq"), "100");
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.writes, 400);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* Two tickd (replica-like: each its own merge and sink) and REST answers: whatever arrives late, Redis
 * never moves backwards. */
static void test_cas_never_backwards(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s1 = open_sink(&loop, 0), *s2 = open_sink(&loop, 0);
    struct merge *m1, *m2;
    TT_ASSERT_INT(merge_new(&m1), 0);
    TT_ASSERT_INT(merge_new(&m2), 0);
    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:quote:binance:BTC-USDT", prefix);

    struct tick t10 = mk("binance", "BTC-USDT", 10), t9 = mk("binance", "BTC-USDT", 9);
    t9.recv_us -= 100; /* the replica got 9 well before this host got 10 */
    TT_ASSERT_INT(via_merge(s1, m1, &t10), 0);
    TT_ASSERT(run_until(&loop, settled, s1, 5000));
    TT_ASSERT_INT(via_merge(s2, m2, &t9), 0); /* the replica is behind */
    TT_ASSERT(run_until(&loop, settled, s2, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s2, &st);
    TT_ASSERT_INT(st.cas_rejected, 1);
    TT_ASSERT_INT(st.writes, 0);
    TT_ASSERT_STR(hget(c, key, "seq"), "10");

    /* The replica's REST answer, its request sent before the stream tick 10 was received: the replica's merge
     * takes it (it only knows tick 9), Redis refuses it. */
    struct tick rest = mk("binance", "BTC-USDT", 0);
    rest.origin = TICK_ORIGIN_REST;
    rest.has_seq = false;
    rest.event_us = 0;
    snprintf(rest.bid, sizeof rest.bid, "99");
    rest.sent_us = t10.recv_us - 1;
    rest.recv_us = t10.recv_us + 500;
    TT_ASSERT_INT(via_merge(s2, m2, &rest), 0);
    TT_ASSERT(run_until(&loop, settled, s2, 5000));
    TT_ASSERT_STR(hget(c, key, "bid"), "10.10");
    /* A REST answer sent after tick 10 was received is newer: written. */
    rest.sent_us = t10.recv_us + 1;
    TT_ASSERT_INT(via_merge(s1, m1, &rest), 0);
    TT_ASSERT(run_until(&loop, settled, s1, 5000));
    TT_ASSERT_STR(hget(c, key, "bid"), "99");
    TT_ASSERT_STR(hget(c, key, "origin"), "rest");
    /* The next stream update (from the replica) beats the REST answer. */
    struct tick t11 = mk("binance", "BTC-USDT", 11);
    TT_ASSERT_INT(via_merge(s2, m2, &t11), 0);
    TT_ASSERT(run_until(&loop, settled, s2, 5000));
    TT_ASSERT_STR(hget(c, key, "seq"), "11");
    TT_ASSERT_STR(hget(c, key, "origin"), "stream");
    /* A replay of tick 10 by a restarted tickd (fresh merge): refused. */
    struct merge *m3;
    TT_ASSERT_INT(merge_new(&m3), 0);
    TT_ASSERT_INT(via_merge(s1, m3, &t10), 0);
    TT_ASSERT(run_until(&loop, settled, s1, 5000));
    TT_ASSERT_STR(hget(c, key, "seq"), "11");
    merge_free(m1);
    merge_free(m2);
    merge_free(m3);
    redisFree(c);
    close_sink(&loop, s1);
    close_sink(&loop, s2);
    finish_loop(&loop);
}

static void test_noscript_recovery(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    struct tick t = mk("okx", "SOL-USDT", 1);
    put(s, &t);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
    for (uint64_t i = 2; i <= 50; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "S%" PRIu64 "-USDT", i % 5);
        t = mk("okx", sym, i);
        put(s, &t);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    char key[128];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "%s:quote:okx:S%d-USDT", prefix, i);
        TT_ASSERT_INT(strtoull(hget(c, key, "seq"), NULL, 10), 46 + (i + 4) % 5); /* the last of each */
    }
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

static void test_history_maxlen(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 10);
    for (uint64_t i = 1; i <= 600; i++) {
        struct tick t = mk("bybit", "XRP-USDT", i);
        put(s, &t);
        TT_ASSERT(run_until(&loop, settled, s, 5000)); /* one write per tick: no coalescing */
    }
    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:ticks:XRP-USDT", prefix);
    long long len = int_command(c, "XLEN %s", key);
    fprintf(stderr, "    history: XLEN=%lld for MAXLEN ~ 10 after 600 ticks\n", len);
    TT_ASSERT(len >= 10 && len <= 200); /* "~" trims whole macro nodes (100 entries) */
    redisReply *r = redisCommand(c, "XREVRANGE %s + - COUNT 1", key);
    TT_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    redisReply *fields = r->element[0]->element[1];
    bool found = false;
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (strcmp(fields->element[i]->str, "seq") == 0) found = strcmp(fields->element[i + 1]->str, "600") == 0;
    freeReplyObject(r);
    TT_ASSERT(found);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

static void test_hostile_symbols_refused(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 5);
    const char *bad_symbols[] = {"BTC USDT", "BTC\r\nDEL *", "btc-usdt", "A:B", "*", "", "{x}"};
    for (size_t i = 0; i < sizeof bad_symbols / sizeof bad_symbols[0]; i++) {
        struct tick t = mk("binance", "X", 1);
        snprintf(t.symbol, sizeof t.symbol, "%s", bad_symbols[i]);
        TT_ASSERT_INT(put(s, &t), -EINVAL);
    }
    struct tick t = mk("binance", "X", 1);
    memset(t.symbol, 'A', sizeof t.symbol); /* over-long: no terminator inside the array */
    TT_ASSERT_INT(put(s, &t), -EINVAL);
    t = mk("bin:ance", "BTC-USDT", 1);
    TT_ASSERT_INT(put(s, &t), -EINVAL);
    t = mk("binance", "BTC-USDT", 1);
    snprintf(t.bid, sizeof t.bid, "1\r\n*1");
    TT_ASSERT_INT(put(s, &t), -EINVAL);
    memset(t.ask, '9', sizeof t.ask);
    TT_ASSERT_INT(put(s, &t), -EINVAL);
    t = mk("binance", "A.B_C-9", 1); /* odd but allowed */
    TT_ASSERT_INT(put(s, &t), 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.refused, 11);
    TT_ASSERT_INT(st.writes, 1);
    redisContext *c = sync_client();
    TT_ASSERT_INT(count_keys(c), 2); /* the quote and its history stream, nothing else */
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* Runs the loop until s has written everything, checks how many ticks it refused and how many keys it made,
 * and returns a client to look at them. */
static redisContext *settle_and_check(uv_loop_t *loop, struct redis_sink *s, uint64_t refused, long long keys) {
    TT_ASSERT(run_until(loop, settled, s, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.refused, refused);
    redisContext *c = sync_client();
    TT_ASSERT_INT(count_keys(c), keys);
    return c;
}

/* The merge checks decimals but not the characters of venue and symbol: the accepted variant still does, once
 * per instrument. */
static void test_accepted_put_checks_new_names(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    struct merge *m;
    TT_ASSERT_INT(merge_new(&m), 0);
    const char *bad_symbols[] = {"BTC USDT", "BTC\r\nDEL *", "btc-usdt", "A:B", "*", "{x}"};
    for (size_t i = 0; i < sizeof bad_symbols / sizeof bad_symbols[0]; i++) {
        struct tick t = mk("binance", bad_symbols[i], 1);
        TT_ASSERT_INT(via_merge(s, m, &t), -EINVAL);
    }
    struct tick t = mk("bin:ance", "BTC-USDT", 1);
    TT_ASSERT_INT(via_merge(s, m, &t), -EINVAL);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        t = mk("binance", "BTC-USDT", seq);
        TT_ASSERT_INT(via_merge(s, m, &t), 0);
    }
    redisContext *c = settle_and_check(&loop, s, 7, 1);
    char key[96];
    snprintf(key, sizeof key, "%s:quote:binance:BTC-USDT", prefix);
    TT_ASSERT_STR(hget(c, key, "seq"), "3");
    redisFree(c);
    merge_free(m);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* What the daemon's ingest() does (by_id), or the same through the name-based calls: merge, quote, BBO. */
static int via_merge_with_bbo(struct redis_sink *s, struct merge *m, const struct tick *t, bool by_id) {
    struct merge_update up;
    int rc = merge_apply(m, t, &up);
    if (rc != MERGE_ACCEPTED) return rc;
    const struct merge_quote *q = up.quote;
    rc = by_id ? redis_sink_put_accepted(s, up.quote_id, &q->tick, &q->key) : redis_sink_put(s, &q->tick, &q->key);
    if (rc < 0 || !up.bbo_changed) return rc;
    int64_t recv_us = q->tick.recv_us;
    struct merge_bbo b;
    if (by_id) return merge_bbo_by_id(m, up.bbo_id, &b) < 0 ? -ENOENT : redis_sink_put_bbo_id(s, up.bbo_id, &b, recv_us);
    return merge_bbo_get(m, q->tick.symbol, &b) < 0 ? -ENOENT : redis_sink_put_bbo(s, &b, recv_us);
}

static void expect_same_hash(redisContext *c, const char *key_a, const char *key_b, const char *const *fields) {
    redisReply *la = redisCommand(c, "HLEN %s", key_a), *lb = redisCommand(c, "HLEN %s", key_b);
    TT_ASSERT(la && lb && la->type == REDIS_REPLY_INTEGER && la->integer > 0 && la->integer == lb->integer);
    freeReplyObject(la);
    freeReplyObject(lb);
    for (; *fields; fields++) {
        char a[256];
        snprintf(a, sizeof a, "%s", hget(c, key_a, *fields));
        if (strcmp(a, hget(c, key_b, *fields)) != 0)
            TT_FAIL("%s %s: %s vs %s", key_a, *fields, a, hget(c, key_b, *fields));
    }
}

/* The ids path (the daemon's) writes exactly what the name path writes, over many instruments that are new
 * to the sink as they come, with stale ticks and BBO changes among them; and it checks a new instrument's
 * names like the name path, every time until one is accepted. */
static void test_id_path_writes_as_name_path(void) {
    need_redis();
    char prefix_by_name[64];
    snprintf(prefix_by_name, sizeof prefix_by_name, "%s", prefix);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *by_name = open_sink(&loop, 0);
    need_redis(); /* a second prefix */
    struct redis_sink *by_id = open_sink(&loop, 0);
    struct merge *m_name, *m_id;
    TT_ASSERT_INT(merge_new(&m_name), 0);
    TT_ASSERT_INT(merge_new(&m_id), 0);
    const char *venues[] = {"binance", "kraken", "okx"};
    enum { SYMBOLS = 300, VENUES = 3, ROUNDS = 4 };
    char sym[32];
    for (uint64_t round = 1; round <= ROUNDS; round++)
        for (int i = 0; i < SYMBOLS * VENUES; i++) {
            snprintf(sym, sizeof sym, "S%d-USDT", i / VENUES);
            /* round 3 repeats round 2's sequence (stale); prices move by venue and round, so the best side moves */
            struct tick t = mk(venues[i % VENUES], sym, round == 3 ? 2 : round);
            snprintf(t.bid, sizeof t.bid, "%d.%d", 100 + (int)((round + (uint64_t)i) % 5), i % VENUES);
            int rc_name = via_merge_with_bbo(by_name, m_name, &t, false);
            TT_ASSERT_INT(via_merge_with_bbo(by_id, m_id, &t, true), rc_name);
            TT_ASSERT_INT(rc_name, round == 3 ? MERGE_DUPLICATE : 0);
        }
    struct tick bad = mk("binance", "BTC USDT", 1);
    TT_ASSERT_INT(via_merge_with_bbo(by_id, m_id, &bad, true), -EINVAL);
    bad.seq = 2; /* the same id again: still checked, still refused */
    TT_ASSERT_INT(via_merge_with_bbo(by_id, m_id, &bad, true), -EINVAL);
    TT_ASSERT(run_until(&loop, settled, by_name, 10000) && run_until(&loop, settled, by_id, 10000));
    struct redis_sink_stats st_name, st_id;
    redis_sink_stats(by_name, &st_name);
    redis_sink_stats(by_id, &st_id);
    TT_ASSERT_INT(st_id.writes, st_name.writes);
    TT_ASSERT_INT(st_id.refused, 2);
    TT_ASSERT(st_id.writes >= SYMBOLS * VENUES + SYMBOLS);

    redisContext *c = sync_client();
    TT_ASSERT_INT(count_keys(c), SYMBOLS * VENUES + SYMBOLS);
    static const char *const quote_fields[] = {"bid", "bid_qty", "ask", "ask_qty", "last", "ts", "seq",
                                               "recv_ts", "origin", "order", NULL};
    static const char *const bbo_fields[] = {"ts", "bid", "bid_qty", "bid_venue", "bid_ts", "ask", "ask_qty",
                                             "ask_venue", "ask_ts", NULL};
    char key_a[128], key_b[128];
    for (int i = 0; i < SYMBOLS * VENUES; i++) {
        snprintf(sym, sizeof sym, "S%d-USDT", i / VENUES);
        snprintf(key_a, sizeof key_a, "%s:quote:%s:%s", prefix_by_name, venues[i % VENUES], sym);
        snprintf(key_b, sizeof key_b, "%s:quote:%s:%s", prefix, venues[i % VENUES], sym);
        expect_same_hash(c, key_a, key_b, quote_fields);
        TT_ASSERT_STR(hget(c, key_b, "seq"), "4");
        if (i % VENUES) continue;
        snprintf(key_a, sizeof key_a, "%s:bbo:%s", prefix_by_name, sym);
        snprintf(key_b, sizeof key_b, "%s:bbo:%s", prefix, sym);
        expect_same_hash(c, key_a, key_b, bbo_fields);
    }
    redisFree(c);
    merge_free(m_name);
    merge_free(m_id);
    close_sink(&loop, by_name);
    close_sink(&loop, by_id);
    finish_loop(&loop);
}

/* max_instruments holds through the ids: a refused instrument gets no record, so every later put of its id is
 * refused again, while the instruments held keep being written. */
static void test_id_path_keeps_max_instruments(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink_config cfg = {.url = redis_url, .prefix = prefix, .max_instruments = 3};
    struct redis_sink *s = NULL;
    TT_ASSERT_INT(redis_sink_new(&loop, &cfg, &s), 0);
    struct merge *m;
    TT_ASSERT_INT(merge_new(&m), 0);
    /* Records in order: A's quote, A's BBO, B's quote; then B's BBO and both of C's are refused. */
    const char *symbols[] = {"A-USD", "B-USD", "C-USD"};
    const int want_quote[] = {0, 0, -ENOSPC}, want_bbo[] = {0, -ENOSPC, -ENOSPC};
    for (uint64_t seq = 1; seq <= 2; seq++)
        for (int i = 0; i < 3; i++) {
            struct tick t = mk("binance", symbols[i], seq);
            snprintf(t.bid, sizeof t.bid, "%d", (int)seq);
            struct merge_update up;
            TT_ASSERT_INT(merge_apply(m, &t, &up), MERGE_ACCEPTED);
            TT_ASSERT_INT(redis_sink_put_accepted(s, up.quote_id, &up.quote->tick, &up.quote->key), want_quote[i]);
            struct merge_bbo b;
            TT_ASSERT(up.bbo_changed);
            TT_ASSERT_INT(merge_bbo_by_id(m, up.bbo_id, &b), 0);
            TT_ASSERT_INT(redis_sink_put_bbo_id(s, up.bbo_id, &b, t.recv_us), want_bbo[i]);
        }
    redisContext *c = settle_and_check(&loop, s, 6, 3);
    char key[96];
    snprintf(key, sizeof key, "%s:quote:binance:B-USD", prefix);
    TT_ASSERT_STR(hget(c, key, "bid"), "2");
    snprintf(key, sizeof key, "%s:bbo:A-USD", prefix);
    TT_ASSERT_STR(hget(c, key, "bid"), "2");
    redisFree(c);
    merge_free(m);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* One loop turn's pipeline far larger than the socket buffer: the direct write (redis_uv.h) takes what the
 * socket accepts, polling for writability does the rest, and every write lands. Then a second round. */
#define BIG_INSTR 20000

static void test_pipeline_larger_than_socket_buffer(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    char sym[32];
    for (uint64_t round = 1; round <= 2; round++) {
        for (int i = 0; i < BIG_INSTR; i++) {
            snprintf(sym, sizeof sym, "BIG%d-USDT", i);
            struct tick t = mk("coinbase", sym, round);
            memset(t.bid_qty, '7', sizeof t.bid_qty - 1); /* longest decimals: ~450 bytes a write */
            memset(t.ask_qty, '8', sizeof t.ask_qty - 1);
            TT_ASSERT_INT(put(s, &t), 0);
        }
        TT_ASSERT(run_until(&loop, settled, s, 30000));
    }
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.writes, 2 * BIG_INSTR);
    redisContext *c = sync_client();
    char key[128];
    for (int i = 0; i < BIG_INSTR; i += 97) {
        snprintf(key, sizeof key, "%s:quote:coinbase:BIG%d-USDT", prefix, i);
        TT_ASSERT_STR(hget(c, key, "seq"), "2");
        TT_ASSERT_INT(strlen(hget(c, key, "ask_qty")), TICK_DECIMAL_MAX - 1);
    }
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

/* Throughput, and a Redis kill + restart in the middle: the final state must be exact for every instrument
 * and what waits stays bounded by the number of instruments. */
#define OUT_INSTR 500
#define OUT_ROUNDS 400

static int servers(const char *what) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s", servers_sh, what);
    return system(cmd);
}

static void test_outage_final_state_exact(void) {
    need_redis();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset: cannot stop redis");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    uint64_t max_pending = 0, t0 = now_ms(), t_first = 0;
    long rss_max = 0;
    char sym[32];
    for (uint64_t r = 1; r <= OUT_ROUNDS; r++) {
        for (int i = 0; i < OUT_INSTR; i++) {
            snprintf(sym, sizeof sym, "I%d-USDT", i);
            struct tick t = mk(i % 2 ? "binance" : "kraken", sym, r);
            TT_ASSERT_INT(put(s, &t), 0);
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        if (r == OUT_ROUNDS / 4) {
            TT_ASSERT(run_until(&loop, settled, s, 5000));
            t_first = now_ms() - t0; /* a quarter of the rounds, written: the throughput sample */
        }
        if (r == OUT_ROUNDS / 3) TT_ASSERT_INT(servers("redis_stop"), 0);
        if (r == OUT_ROUNDS / 2) TT_ASSERT_INT(servers("redis_start"), 0);
        struct redis_sink_stats st;
        redis_sink_stats(s, &st);
        if (st.pending > max_pending) max_pending = st.pending;
        long kb = rss_kb();
        if (kb > rss_max) rss_max = kb;
    }
    TT_ASSERT(run_until(&loop, settled, s, 15000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    fprintf(stderr,
            "    redis: %d puts in %" PRIu64 " ms before the outage (%.0f puts/s); total writes=%" PRIu64
            " batches=%" PRIu64 " reconnects=%" PRIu64 " cas_rejected=%" PRIu64 " max_pending=%" PRIu64
            " rss_max=%ld kB\n",
            OUT_INSTR * OUT_ROUNDS / 4, t_first, t_first ? OUT_INSTR * OUT_ROUNDS / 4 * 1000.0 / t_first : 0.0,
            st.writes, st.batches, st.reconnects, st.cas_rejected, max_pending, rss_max);
    TT_ASSERT(st.reconnects >= 1);
    TT_ASSERT(max_pending <= 2 * OUT_INSTR); /* waiting + in flight, one of each per instrument at most */
    redisContext *c = sync_client();
    char key[128];
    for (int i = 0; i < OUT_INSTR; i++) {
        snprintf(key, sizeof key, "%s:quote:%s:I%d-USDT", prefix, i % 2 ? "binance" : "kraken", i);
        struct tick want = mk("x", "x", OUT_ROUNDS);
        TT_ASSERT_STR(hget(c, key, "bid"), want.bid);
        TT_ASSERT_STR(hget(c, key, "seq"), "400");
    }
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* Writes/s under sustained load: every instrument changes every loop turn for 1.5 s. Printed, not asserted. */
#define TP_INSTR 2000

static void test_throughput(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    uint64_t t0 = now_ms(), r = 0, puts = 0;
    char sym[32];
    while (now_ms() - t0 < 1500) {
        r++;
        for (int i = 0; i < TP_INSTR; i++, puts++) {
            snprintf(sym, sizeof sym, "T%d-USDT", i);
            struct tick t = mk("okx", sym, r);
            put(s, &t);
        }
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    TT_ASSERT(run_until(&loop, settled, s, 10000));
    uint64_t ms = now_ms() - t0;
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    fprintf(stderr,
            "    redis throughput: %" PRIu64 " puts, %" PRIu64 " EVALSHA writes in %" PRIu64 " ms = %.0f writes/s"
            " (%" PRIu64 " batches, %.0f writes/batch)\n",
            puts, st.writes, ms, st.writes * 1000.0 / (double)ms, st.batches,
            st.batches ? (double)st.writes / (double)st.batches : 0.0);
    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:quote:okx:T%d-USDT", prefix, TP_INSTR - 1);
    TT_ASSERT_INT(strtoull(hget(c, key, "seq"), NULL, 10), r);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* A Redis that accepts but never answers (SIGSTOP): noticed when idle (PING) and with a write outstanding (the
 * reply timeout); once it answers again the pending tick lands. */
static void test_hung_redis_detected(void) {
    need_redis();
    const char *dir = getenv("TICKD_TEST_SERVERS_DIR");
    if (!dir) TT_SKIP("TICKD_TEST_SERVERS_DIR unset");
    char path[512];
    snprintf(path, sizeof path, "%s/redis/redis.pid", dir);
    FILE *f = fopen(path, "r");
    int pid = 0;
    TT_ASSERT(f && fscanf(f, "%d", &pid) == 1);
    fclose(f);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    kill(pid, SIGSTOP);
    bool never = false;
    run_until(&loop, flag_set, &never, 2500); /* idle: the watchdog's PING goes unanswered */
    struct redis_sink_stats idle;
    redis_sink_stats(s, &idle);
    struct tick t = mk("okx", "HUNG-USDT", 5);
    put(s, &t);
    uv_run(&loop, UV_RUN_NOWAIT);
    run_until(&loop, flag_set, &never, 2500); /* > reply_timeout_ms (800) */
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    kill(pid, SIGCONT);
    TT_ASSERT(!idle.ready);
    TT_ASSERT(!st.ready);
    TT_ASSERT_INT(st.pending, 1);
    TT_ASSERT(run_until(&loop, settled, s, 10000));
    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:quote:okx:HUNG-USDT", prefix);
    TT_ASSERT_STR(hget(c, key, "seq"), "5");
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

static void test_select_db_from_url(void) {
    need_redis();
    char url[256];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", redis_port);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink_config cfg = {.url = url, .prefix = prefix};
    struct redis_sink *s = NULL;
    TT_ASSERT_INT(redis_sink_new(&loop, &cfg, &s), 0);
    struct tick t = mk("okx", "DB-USDT", 3);
    put(s, &t);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:quote:okx:DB-USDT", prefix);
    TT_ASSERT_STR(hget(c, key, "seq"), ""); /* not in db 0 */
    freeReplyObject(redisCommand(c, "SELECT 3"));
    TT_ASSERT_STR(hget(c, key, "seq"), "3");
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

static bool ready_or_refused(void *arg) {
    struct redis_sink_stats st;
    redis_sink_stats(arg, &st);
    return st.ready;
}

/* AUTH with the password the caller read from password_file; a wrong one never gets ready. The server's
 * password is removed again before anything is asserted, so a failure here cannot break the next tests. */
static void test_auth_password(void) {
    need_redis();
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, "CONFIG SET requirepass %s", "s3cret-pw"));
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink_config cfg = {.url = redis_url, .prefix = prefix, .password = "s3cret-pw"};
    struct redis_sink *good = NULL, *bad = NULL;
    TT_ASSERT_INT(redis_sink_new(&loop, &cfg, &good), 0);
    cfg.password = "wrong";
    cfg.backoff_min_ms = 200;
    TT_ASSERT_INT(redis_sink_new(&loop, &cfg, &bad), 0);
    struct tick t = mk("okx", "AUTH-USDT", 8);
    put(good, &t);
    bool good_ok = run_until(&loop, settled, good, 5000);
    bool bad_ready = run_until(&loop, ready_or_refused, bad, 1000);
    freeReplyObject(redisCommand(c, "AUTH %s", "s3cret-pw"));
    freeReplyObject(redisCommand(c, "CONFIG SET requirepass %s", ""));
    TT_ASSERT(good_ok);
    TT_ASSERT(!bad_ready);
    char key[128];
    snprintf(key, sizeof key, "%s:quote:okx:AUTH-USDT", prefix);
    TT_ASSERT_STR(hget(c, key, "seq"), "8");
    redisFree(c);
    close_sink(&loop, good);
    close_sink(&loop, bad);
    finish_loop(&loop);
}

static void test_bad_config_refused(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = NULL;
    struct redis_sink_config cfg = {.url = "http://127.0.0.1:1/0"};
    TT_ASSERT_INT(redis_sink_new(&loop, &cfg, &s), -EINVAL);
    cfg.url = "redis://127.0.0.1:1/x";
    TT_ASSERT_INT(redis_sink_new(&loop, &cfg, &s), -EINVAL);
    cfg.url = "redis://127.0.0.1:1/0";
    cfg.prefix = "a b";
    TT_ASSERT_INT(redis_sink_new(&loop, &cfg, &s), -EINVAL);
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
}

/* The stats lines' two staleness figures. lag: receive → Redis's answer, for every written record, quote or
 * BBO. event_lag: the venue's event time → Redis's answer, for written quotes that carry an event time only;
 * an event time ahead of our clock (another machine's) counts as 0. Quantiles are bucket upper bounds, never
 * below the true value and at most 19% above it. */
static void test_lag_figures(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    struct lat_hist lag, event_lag;
    redis_sink_take_lag(s, &lag, &event_lag); /* nothing written yet */
    TT_ASSERT_INT(lag.n, 0);
    TT_ASSERT_INT(event_lag.n, 0);
    int64_t now = clock_wall_us();
    struct tick old = mk("coinbase", "BTC-USD", 1), no_event = mk("binance", "BTC-USDT", 1);
    old.event_us = now - 2000000; /* sent 2 s ago, received 1 ms ago */
    old.recv_us = now - 1000;
    no_event.event_us = 0;
    no_event.recv_us = now - 1000;
    struct merge_bbo bbo = {.symbol = "BTC-USD",
                            .bid = {.price = "5.10", .qty = "1", .venue = "coinbase", .time_us = 5},
                            .ask = {.price = "5.20", .qty = "2", .venue = "coinbase", .time_us = 5}};
    TT_ASSERT_INT(put(s, &old), 0);
    TT_ASSERT_INT(put(s, &no_event), 0);
    TT_ASSERT_INT(redis_sink_put_bbo(s, &bbo, now - 1000), 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    int64_t spent = clock_wall_us() - now;
    redis_sink_take_lag(s, &lag, &event_lag);
    TT_ASSERT_INT(lag.n, 3);
    TT_ASSERT(lag.max_us >= 1000 && lag.max_us <= (uint64_t)(1000 + spent));
    TT_ASSERT_INT(event_lag.n, 1);
    TT_ASSERT(event_lag.max_us >= 2000000 && event_lag.max_us <= (uint64_t)(2000000 + spent));
    TT_ASSERT(lat_hist_quantile(&event_lag, 0.5) >= 2000000);
    TT_ASSERT(lat_hist_quantile(&event_lag, 0.5) <= 2000000 * 1.19 + spent);
    /* Taken means reset; an event time 10 s ahead of ours is a sample of 0. */
    struct tick ahead = mk("coinbase", "BTC-USD", 2);
    ahead.event_us = clock_wall_us() + 10000000;
    ahead.recv_us = clock_wall_us();
    TT_ASSERT_INT(put(s, &ahead), 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    redis_sink_take_lag(s, &lag, &event_lag);
    TT_ASSERT_INT(lag.n, 1);
    TT_ASSERT_INT(event_lag.n, 1);
    TT_ASSERT_INT(event_lag.max_us, 0);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* Redis holds a key greater than anything the live stream will send: poisoned by one bad frame before a
 * restart (today's width; its time in the past, or in the year 52000 from a lying clock), or by an older
 * tickd (the width before epochs). The merge starts empty, as after a
 * restart. The old width is older than every key of today: the first tick lands. Today's width refuses the
 * first tick; the sink reports the key Redis holds, the merge adopts it, and the next tick resets over it. */
struct adopt_ctx {
    struct merge *m;
    unsigned calls;
};

static void adopt_held(void *arg, uint32_t quote_id, const struct merge_key *held) {
    struct adopt_ctx *a = arg;
    a->calls++;
    merge_adopt(a->m, quote_id, held);
}

static void test_poisoned_key_recovers(void) {
    need_redis();
    static const char *const poison[] = {"99999999999999999999-01600000000000000000-1",
                                         "0000000000-01000000000000000000-00001600000000000000-1",
                                         "0000000000-01000000000000000000-01600000000000000000-1",
                                         "0000000007-00000000000000000001-00001600000000000000-1"};
    for (size_t p = 0; p < sizeof poison / sizeof poison[0]; p++) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct adopt_ctx ctx = {0};
        TT_ASSERT_INT(merge_new(&ctx.m), 0);
        struct redis_sink_config cfg = {.url = redis_url, .prefix = prefix, .reply_timeout_ms = 800,
                                        .connect_timeout_ms = 800, .backoff_min_ms = 50, .backoff_max_ms = 400,
                                        .on_cas_rejected = adopt_held, .cas_arg = &ctx};
        struct redis_sink *s = NULL;
        TT_ASSERT_INT(redis_sink_new(&loop, &cfg, &s), 0);
        redisContext *c = sync_client();
        char key[128];
        snprintf(key, sizeof key, "%s:quote:binance:P%zu-USDT", prefix, p);
        redisReply *r = redisCommand(c, "HSET %s order %s bid 666 seq 1000000000000000000", key, poison[p]);
        TT_ASSERT(r && r->type == REDIS_REPLY_INTEGER);
        freeReplyObject(r);
        char sym[32];
        snprintf(sym, sizeof sym, "P%zu-USDT", p);
        uint64_t last = 0;
        for (uint64_t seq = 100; seq <= 103; seq++) {
            struct tick t = mk("binance", sym, seq);
            TT_ASSERT_INT(via_merge(s, ctx.m, &t), 0);
            TT_ASSERT(run_until(&loop, settled, s, 5000));
            last = seq;
        }
        struct tick want = mk("x", "x", last);
        TT_ASSERT_STR(hget(c, key, "bid"), want.bid);
        TT_ASSERT_STR(hget(c, key, "seq"), "103");
        TT_ASSERT_INT(strlen(hget(c, key, "order")), MERGE_KEY_TEXT_LEN - 1);
        struct merge_counters mc;
        merge_counters_get(ctx.m, &mc);
        struct redis_sink_stats st;
        redis_sink_stats(s, &st);
        if (p == 0) { /* the old width never refuses */
            TT_ASSERT_INT(ctx.calls, 0);
            TT_ASSERT_INT(st.cas_rejected, 0);
        } else { /* refused once, adopted, reset over */
            TT_ASSERT_INT(ctx.calls, 1);
            TT_ASSERT_INT(st.cas_rejected, 1);
            TT_ASSERT_INT(mc.adopted, 1);
            TT_ASSERT_INT(mc.resets, p == 3 ? 0 : 1); /* epoch 7 at pos 1: the stream continues above it */
        }
        redisFree(c);
        close_sink(&loop, s);
        finish_loop(&loop);
        merge_free(ctx.m);
    }
}

/* A failover leaves this address a read-only replica, a full maxmemory answers OOM: both refuse every write
 * for a while and then take them again. The sink must keep what it holds and write it once Redis takes writes:
 * Redis ends equal to the last ticks, and nothing waits. `refuse` and `accept` are the Redis commands. */
#define REFUSE_INSTR 20

static bool writes_refused_for_a_while(uv_loop_t *loop, struct redis_sink *s) {
    struct redis_sink_stats st;
    uint64_t end = now_ms() + 700;
    while (now_ms() < end) uv_run(loop, UV_RUN_NOWAIT), usleep(2000);
    redis_sink_stats(s, &st);
    return st.pending > 0;
}

static void refused_then_accepted(const char *refuse, const char *accept) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    char sym[32], key[128];
    for (int i = 0; i < REFUSE_INSTR; i++) {
        snprintf(sym, sizeof sym, "R%d-USDT", i);
        struct tick t = mk("okx", sym, 1);
        TT_ASSERT_INT(put(s, &t), 0);
    }
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, refuse));
    for (uint64_t r = 2; r <= 5; r++) {
        for (int i = 0; i < REFUSE_INSTR; i++) {
            snprintf(sym, sizeof sym, "R%d-USDT", i);
            struct tick t = mk("okx", sym, r);
            TT_ASSERT_INT(put(s, &t), 0);
        }
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    bool refused = writes_refused_for_a_while(&loop, s);
    snprintf(key, sizeof key, "%s:quote:okx:R0-USDT", prefix);
    const char *seq_meanwhile = hget(c, key, "seq");
    freeReplyObject(redisCommand(c, accept));
    TT_ASSERT(refused);
    TT_ASSERT_STR(seq_meanwhile, "1");
    TT_ASSERT(run_until(&loop, settled, s, 10000));
    for (int i = 0; i < REFUSE_INSTR; i++) {
        snprintf(key, sizeof key, "%s:quote:okx:R%d-USDT", prefix, i);
        struct tick want = mk("x", "x", 5);
        TT_ASSERT_STR(hget(c, key, "seq"), "5");
        TT_ASSERT_STR(hget(c, key, "bid"), want.bid);
    }
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.errors, 0); /* retried, not given up */
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* REPLICAOF a port nobody listens on: a replica that never syncs, so it keeps its data and answers READONLY. */
static void test_readonly_replica_recovers(void) {
    char refuse[64];
    snprintf(refuse, sizeof refuse, "REPLICAOF 127.0.0.1 %d", redis_port == 1 ? 2 : 1);
    refused_then_accepted(refuse, "REPLICAOF NO ONE");
}

static void test_oom_recovers(void) {
    refused_then_accepted("CONFIG SET maxmemory 1", "CONFIG SET maxmemory 0");
}

/* ---- trades ---- */

static struct trade mk_trade(const char *venue, const char *symbol, uint64_t n) {
    struct trade t = {.side = n % 3 == 0 ? TRADE_SIDE_UNKNOWN : n % 3 == 1 ? TRADE_SIDE_BUY : TRADE_SIDE_SELL,
                      .event_us = n % 5 == 0 ? 0 : 1700000000000000 + (int64_t)n,
                      .recv_us = 1700000000000500 + (int64_t)n, .origin = TICK_ORIGIN_STREAM};
    snprintf(t.venue, sizeof t.venue, "%s", venue);
    snprintf(t.symbol, sizeof t.symbol, "%s", symbol);
    snprintf(t.id, sizeof t.id, "%" PRIu64, 5000000 + n);
    snprintf(t.price, sizeof t.price, "%" PRIu64 ".%03" PRIu64, 100 + n, n % 1000);
    snprintf(t.qty, sizeof t.qty, "0.000%" PRIu64, n);
    return t;
}

static struct redis_sink *open_trade_sink(uv_loop_t *loop, uint64_t trade_history, uint64_t max_trades) {
    struct redis_sink_config cfg = {.url = redis_url, .prefix = prefix, .trade_history = trade_history,
                                    .max_trades = max_trades, .reply_timeout_ms = 800,
                                    .connect_timeout_ms = 800, .backoff_min_ms = 50, .backoff_max_ms = 400,
                                    .close_deadline_ms = 3000};
    struct redis_sink *s = NULL;
    TT_ASSERT_INT(redis_sink_new(loop, &cfg, &s), 0);
    return s;
}

static bool trades_settled(void *arg) {
    struct redis_sink_stats st;
    redis_sink_stats(arg, &st);
    return st.ready && st.pending == 0 && st.trades_pending == 0;
}

/* The stream's entries (XRANGE - +), or NULL; the caller frees it. */
static redisReply *xrange(redisContext *c, const char *venue, const char *symbol) {
    char key[128];
    snprintf(key, sizeof key, "%s:trades:%s:%s", prefix, venue, symbol);
    redisReply *r = redisCommand(c, "XRANGE %s - +", key);
    if (!r || r->type != REDIS_REPLY_ARRAY) TT_FAIL("XRANGE %s: not an array", key);
    return r;
}

/* One stream entry against the trade it must be: exactly the fields id price qty side ts recv_ts, in order. */
static void expect_trade_entry(const redisReply *entry, const struct trade *want) {
    TT_ASSERT(entry->type == REDIS_REPLY_ARRAY && entry->elements == 2);
    const redisReply *f = entry->element[1];
    TT_ASSERT_INT(f->elements, 12);
    char ts[24], recv_ts[24];
    snprintf(ts, sizeof ts, "%" PRId64, want->event_us);
    snprintf(recv_ts, sizeof recv_ts, "%" PRId64, want->recv_us);
    const char *expect[12] = {"id", want->id, "price", want->price, "qty", want->qty,
                              "side", trade_side_name(want->side), "ts", ts, "recv_ts", recv_ts};
    for (size_t i = 0; i < 12; i++) TT_ASSERT_STR(f->element[i]->str, expect[i]);
}

/* Trades of two instruments, interleaved and put in the same loop turns as quotes: every one lands in its own
 * stream, exact and in order; an invalid one is refused; the quotes land too. */
#define TRADES_N 300

static void test_trades_land_exact_in_order(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_trade_sink(&loop, 1000, 0);
    TT_ASSERT(run_until(&loop, trades_settled, s, 5000));
    for (uint64_t n = 1; n <= TRADES_N; n++) {
        struct trade a = mk_trade("binance", "BTC-USDT", n), b = mk_trade("okx", "ETH-USDT", n + 10000);
        TT_ASSERT_INT(redis_sink_put_trade(s, &a), 0);
        TT_ASSERT_INT(redis_sink_put_trade(s, &b), 0);
        struct tick t = mk("binance", "BTC-USDT", n);
        TT_ASSERT_INT(put(s, &t), 0);
        if (n % 7 == 0) uv_run(&loop, UV_RUN_NOWAIT);
    }
    struct trade bad = mk_trade("binance", "BTC-USDT", 1);
    snprintf(bad.id, sizeof bad.id, "a\"b");
    TT_ASSERT_INT(redis_sink_put_trade(s, &bad), -EINVAL);
    bad = mk_trade("binance", "btc usdt", 1);
    TT_ASSERT_INT(redis_sink_put_trade(s, &bad), -EINVAL);
    TT_ASSERT(run_until(&loop, trades_settled, s, 10000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.trades, 2 * TRADES_N);
    TT_ASSERT_INT(st.trades_dropped, 0);
    TT_ASSERT_INT(st.errors, 0);
    TT_ASSERT_INT(st.refused, 2);

    redisContext *c = sync_client();
    redisReply *ra = xrange(c, "binance", "BTC-USDT"), *rb = xrange(c, "okx", "ETH-USDT");
    TT_ASSERT_INT(ra->elements, TRADES_N);
    TT_ASSERT_INT(rb->elements, TRADES_N);
    for (uint64_t n = 1; n <= TRADES_N; n++) {
        struct trade a = mk_trade("binance", "BTC-USDT", n), b = mk_trade("okx", "ETH-USDT", n + 10000);
        expect_trade_entry(ra->element[n - 1], &a);
        expect_trade_entry(rb->element[n - 1], &b);
    }
    freeReplyObject(ra);
    freeReplyObject(rb);
    char key[128];
    snprintf(key, sizeof key, "%s:quote:binance:BTC-USDT", prefix);
    char seq[16];
    snprintf(seq, sizeof seq, "%d", TRADES_N);
    TT_ASSERT_STR(hget(c, key, "seq"), seq);
    TT_ASSERT_INT(count_keys(c), 3); /* two streams and the quote: nothing else */
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

static void test_trades_maxlen(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_trade_sink(&loop, 10, 0);
    for (uint64_t n = 1; n <= 600; n++) {
        struct trade t = mk_trade("bybit", "XRP-USDT", n);
        TT_ASSERT_INT(redis_sink_put_trade(s, &t), 0);
        if (n % 50 == 0) uv_run(&loop, UV_RUN_NOWAIT);
    }
    TT_ASSERT(run_until(&loop, trades_settled, s, 10000));
    redisContext *c = sync_client();
    redisReply *r = xrange(c, "bybit", "XRP-USDT");
    fprintf(stderr, "    trades: XLEN=%zu for MAXLEN ~ 10 after 600 trades\n", r->elements);
    TT_ASSERT(r->elements >= 10 && r->elements <= 200); /* "~" trims whole macro nodes (100 entries) */
    struct trade last = mk_trade("bybit", "XRP-USDT", 600);
    expect_trade_entry(r->element[r->elements - 1], &last);
    freeReplyObject(r);
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.trades, 600);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* trade_history 0: trades are taken as nothing to do, and nothing reaches Redis. */
static void test_trades_off_without_history(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_trade_sink(&loop, 0, 0);
    for (uint64_t n = 1; n <= 50; n++) {
        struct trade t = mk_trade("binance", "BTC-USDT", n);
        TT_ASSERT_INT(redis_sink_put_trade(s, &t), 0);
    }
    struct trade bad = mk_trade("binance", "btc usdt", 1);
    TT_ASSERT_INT(redis_sink_put_trade(s, &bad), 0); /* not even checked */
    struct tick t = mk("binance", "BTC-USDT", 1);
    TT_ASSERT_INT(put(s, &t), 0);
    TT_ASSERT(run_until(&loop, trades_settled, s, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.trades, 0);
    TT_ASSERT_INT(st.trades_pending, 0);
    TT_ASSERT_INT(st.refused, 0);
    redisContext *c = sync_client();
    TT_ASSERT_INT(count_keys(c), 1); /* the quote only */
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* A trade whose stream key holds another type fails alone: counted as an error, not retried; the others land. */
static void test_trade_error_not_retried(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_trade_sink(&loop, 100, 0);
    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:trades:kraken:BAD-USD", prefix);
    freeReplyObject(redisCommand(c, "SET %s x", key));
    for (uint64_t n = 1; n <= 5; n++) {
        struct trade bad = mk_trade("kraken", "BAD-USD", n), good = mk_trade("kraken", "GOOD-USD", n);
        TT_ASSERT_INT(redis_sink_put_trade(s, &bad), 0);
        TT_ASSERT_INT(redis_sink_put_trade(s, &good), 0);
    }
    TT_ASSERT(run_until(&loop, trades_settled, s, 5000));
    bool never = false;
    run_until(&loop, flag_set, &never, 300); /* nothing goes out again */
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.errors, 5);
    TT_ASSERT_INT(st.trades, 5);
    TT_ASSERT_INT(st.trades_pending, 0);
    TT_ASSERT_INT(st.commands, 0); /* no EVALSHA: trades are XADD */
    redisReply *r = xrange(c, "kraken", "GOOD-USD");
    TT_ASSERT_INT(r->elements, 5);
    freeReplyObject(r);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* A full Redis (OOM) refuses the trades for a while: they are kept, not failed, and land in order once it takes
 * writes again. */
static void test_trades_wait_out_oom(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_trade_sink(&loop, 1000, 0);
    TT_ASSERT(run_until(&loop, trades_settled, s, 5000));
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, "CONFIG SET maxmemory 1"));
    for (uint64_t n = 1; n <= 200; n++) {
        struct trade t = mk_trade("kraken", "ADA-USD", n);
        TT_ASSERT_INT(redis_sink_put_trade(s, &t), 0);
        if (n % 10 == 0) uv_run(&loop, UV_RUN_NOWAIT);
    }
    bool never = false;
    run_until(&loop, flag_set, &never, 700);
    struct redis_sink_stats full;
    redis_sink_stats(s, &full);
    freeReplyObject(redisCommand(c, "CONFIG SET maxmemory 0"));
    TT_ASSERT_INT(full.trades, 0);
    TT_ASSERT_INT(full.trades_pending, 200);
    TT_ASSERT(run_until(&loop, trades_settled, s, 10000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.trades, 200);
    TT_ASSERT_INT(st.errors, 0);
    redisReply *r = xrange(c, "kraken", "ADA-USD");
    TT_ASSERT_INT(r->elements, 200);
    for (uint64_t n = 1; n <= 200; n++) {
        struct trade want = mk_trade("kraken", "ADA-USD", n);
        expect_trade_entry(r->element[n - 1], &want);
    }
    freeReplyObject(r);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* Redis away: trades wait, up to max_trades; beyond it the oldest are dropped and counted. When Redis is back the
 * ones kept are written in order, exactly once (nothing was in flight when it went). */
#define AWAY_BOUND 500
#define AWAY_PUT 800

static bool sink_down(void *arg) {
    struct redis_sink_stats st;
    redis_sink_stats(arg, &st);
    return !st.ready;
}

static void test_trades_wait_for_redis(void) {
    need_redis();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset: cannot stop redis");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_trade_sink(&loop, 10000, AWAY_BOUND);
    TT_ASSERT(run_until(&loop, trades_settled, s, 5000));
    TT_ASSERT_INT(servers("redis_stop"), 0);
    TT_ASSERT(run_until(&loop, sink_down, s, 5000));
    for (uint64_t n = 1; n <= AWAY_PUT; n++) {
        struct trade t = mk_trade("coinbase", "SOL-USD", n);
        TT_ASSERT_INT(redis_sink_put_trade(s, &t), 0);
        if (n % 100 == 0) uv_run(&loop, UV_RUN_NOWAIT);
    }
    bool never = false;
    run_until(&loop, flag_set, &never, 300);
    struct redis_sink_stats away;
    redis_sink_stats(s, &away);
    TT_ASSERT_INT(servers("redis_start"), 0);
    TT_ASSERT(!away.ready);
    TT_ASSERT_INT(away.trades_pending, AWAY_BOUND);
    TT_ASSERT_INT(away.trades_dropped, AWAY_PUT - AWAY_BOUND);
    TT_ASSERT_INT(away.trades, 0);
    TT_ASSERT(run_until(&loop, trades_settled, s, 10000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.trades, AWAY_BOUND);
    TT_ASSERT_INT(st.trades_dropped, AWAY_PUT - AWAY_BOUND);
    TT_ASSERT(st.reconnects >= 1);
    redisContext *c = sync_client();
    redisReply *r = xrange(c, "coinbase", "SOL-USD");
    TT_ASSERT_INT(r->elements, AWAY_BOUND);
    for (uint64_t i = 0; i < AWAY_BOUND; i++) {
        struct trade want = mk_trade("coinbase", "SOL-USD", AWAY_PUT - AWAY_BOUND + 1 + i); /* the newest kept */
        expect_trade_entry(r->element[i], &want);
    }
    freeReplyObject(r);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* Trades flowing while Redis hangs (SIGSTOP): the ones in flight when the connection is dropped are kept and
 * written again after the reconnect, the others wait. Every trade lands, and in order: a trade the hung server
 * took before it was dropped may land twice (its answer was lost), never out of order with a later one. */
#define HANG_TRADES 3000

static void test_trades_survive_a_hung_redis(void) {
    need_redis();
    const char *dir = getenv("TICKD_TEST_SERVERS_DIR");
    if (!dir) TT_SKIP("TICKD_TEST_SERVERS_DIR unset");
    char path[512];
    snprintf(path, sizeof path, "%s/redis/redis.pid", dir);
    FILE *f = fopen(path, "r");
    int pid = 0;
    TT_ASSERT(f && fscanf(f, "%d", &pid) == 1);
    fclose(f);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_trade_sink(&loop, 100000, 0);
    TT_ASSERT(run_until(&loop, trades_settled, s, 5000));
    bool never = false, stopped = false;
    for (uint64_t n = 1; n <= HANG_TRADES; n++) {
        struct trade t = mk_trade("okx", "DOGE-USDT", n);
        TT_ASSERT_INT(redis_sink_put_trade(s, &t), 0);
        if (n % 20 == 0) uv_run(&loop, UV_RUN_NOWAIT);
        if (n == HANG_TRADES / 3) {
            kill(pid, SIGSTOP);
            stopped = true;
        }
        if (n == 2 * HANG_TRADES / 3) {
            run_until(&loop, flag_set, &never, 1500); /* > reply_timeout_ms (800): dropped */
            kill(pid, SIGCONT);
            stopped = false;
        }
    }
    if (stopped) kill(pid, SIGCONT);
    TT_ASSERT(run_until(&loop, trades_settled, s, 15000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT(st.reconnects >= 1);
    TT_ASSERT_INT(st.trades_dropped, 0);
    TT_ASSERT(st.trades >= HANG_TRADES);
    redisContext *c = sync_client();
    redisReply *r = xrange(c, "okx", "DOGE-USDT");
    uint64_t next = 1, dups = 0;
    for (size_t i = 0; i < r->elements; i++) {
        uint64_t n = strtoull(r->element[i]->element[1]->element[1]->str, NULL, 10) - 5000000;
        if (n < next) {
            dups++;
            continue; /* again: a trade before the drop whose answer was lost */
        }
        TT_ASSERT_INT(n, next); /* no hole, no reordering */
        struct trade want = mk_trade("okx", "DOGE-USDT", n);
        expect_trade_entry(r->element[i], &want);
        next++;
    }
    fprintf(stderr, "    trades across a hung redis: %zu entries for %d trades (%" PRIu64 " again)\n", r->elements,
            HANG_TRADES, dups);
    TT_ASSERT_INT(next, HANG_TRADES + 1);
    freeReplyObject(r);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* ---- books ---------------------------------------------------------------------------------------------------- */

/* Level i (0 = best) of a test book, version v: bids 1000+v-i ".10" descending, asks 1001+v+i ".2500" ascending;
 * sizes with trailing zeros, which must survive as sent. */
static void book_level_text(bool bid, int i, uint64_t v, char *price, char *qty) {
    if (bid) snprintf(price, BOOK_TEXT_MAX, "%" PRIu64 ".10", 1000 + v - (uint64_t)i);
    else snprintf(price, BOOK_TEXT_MAX, "%" PRIu64 ".2500", 1001 + v + (uint64_t)i);
    snprintf(qty, BOOK_TEXT_MAX, "%d.%03d00", i % 7, i + 1);
}

/* A book of nbids and nasks levels, set worst first. */
static void fill_book(struct book *b, int nbids, int nasks, uint64_t v) {
    book_init(b, 0);
    for (int side = 0; side < 2; side++) {
        int n = side ? nasks : nbids;
        for (int k = 0; k < n; k++) {
            int i = n - 1 - k; /* the worst first */
            char price[BOOK_TEXT_MAX], qty[BOOK_TEXT_MAX];
            book_level_text(side == 0, i, v, price, qty);
            TT_ASSERT(book_set(b, side ? BOOK_ASK : BOOK_BID, price, strlen(price), qty, strlen(qty)) >= 0);
        }
        TT_ASSERT_INT(b->side[side].n, n);
    }
}

/* The array Redis must hold for a side: its first min(n, depth) levels, written here with snprintf. */
static const char *want_levels(bool bid, int n, unsigned depth, uint64_t v) {
    static char out[2][65536];
    static int slot;
    char *o = out[slot++ % 2];
    size_t len = (size_t)snprintf(o, 65536, "[");
    for (int i = 0; i < n && i < (int)depth; i++) {
        char price[BOOK_TEXT_MAX], qty[BOOK_TEXT_MAX];
        book_level_text(bid, i, v, price, qty);
        len += (size_t)snprintf(o + len, 65536 - len, "%s[\"%s\",\"%s\"]", i ? "," : "", price, qty);
    }
    snprintf(o + len, 65536 - len, "]");
    return o;
}

static struct book_view book_view_of(const struct book *b, const char *venue, const char *symbol, unsigned depth,
                                     uint64_t seq) {
    return (struct book_view){.venue = venue, .symbol = symbol, .book = b, .depth = depth, .seq = seq,
                              .state = BOOK_LIVE, .event_us = 1700000000000000 + (int64_t)seq,
                              .recv_us = 1700000000000300 + (int64_t)seq};
}

/* HGET of a field that may be long (a book side), "" when missing. */
static const char *hget_long(redisContext *c, const char *key, const char *field) {
    static char buf[2][65536];
    static int slot;
    char *out = buf[slot++ % 2];
    out[0] = 0;
    redisReply *r = redisCommand(c, "HGET %s %s", key, field);
    if (r && r->type == REDIS_REPLY_STRING) snprintf(out, 65536, "%s", r->str);
    freeReplyObject(r);
    return out;
}

static bool books_settled(void *arg) {
    struct redis_sink_stats st;
    redis_sink_stats(arg, &st);
    return st.ready && st.pending == 0 && st.books_pending == 0;
}

/* The server's count of a command since CONFIG RESETSTAT (commands a script runs count too). */
static long long command_calls(redisContext *c, const char *command) {
    redisReply *r = redisCommand(c, "INFO commandstats");
    long long n = 0;
    char want[64];
    snprintf(want, sizeof want, "cmdstat_%s:calls=", command);
    const char *p = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, want) : NULL; /* INFO is a bulk string */
    if (p) n = strtoll(p + strlen(want), NULL, 10);
    freeReplyObject(r);
    return n;
}

/* Exactly the top depth levels of each side, best first, the exact texts; the other fields; nothing else in the
 * hash. A side with fewer levels than depth has them all, an empty side is []. */
static void test_book_hash_exact_top_depth(void) {
    need_redis();
    TT_ASSERT(redis_sink_ops.channels & SINK_CHANNEL(CONFIG_CHANNEL_BOOK));
    TT_ASSERT(redis_sink_ops.put_book != NULL && redis_sink_ops.put_book_delta == NULL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    struct book a, b;
    fill_book(&a, 30, 25, 0);
    fill_book(&b, 3, 0, 7);
    struct book_view va = book_view_of(&a, "binance", "BTC-USDT", 5, 4242);
    va.resyncs = 2;
    struct book_view vb = book_view_of(&b, "kraken", "ETH.X-USD", 10, 99);
    vb.state = BOOK_RESYNCING;
    TT_ASSERT_INT(redis_sink_put_book(s, &va), 0);
    TT_ASSERT_INT(redis_sink_put_book(s, &vb), 0);
    book_free(&a); /* the book is the caller's: what the sink keeps is its own */
    book_free(&b);
    TT_ASSERT(run_until(&loop, books_settled, s, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.books, 2);
    TT_ASSERT_INT(st.writes, 0); /* quotes and BBOs only */
    TT_ASSERT_INT(st.commands, 1); /* both books in one script call */
    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:book:binance:BTC-USDT", prefix);
    TT_ASSERT_STR(hget_long(c, key, "bids"), want_levels(true, 30, 5, 0));
    TT_ASSERT_STR(hget_long(c, key, "asks"), want_levels(false, 25, 5, 0));
    const char *head = "[[\"1000.10\",\"0.00100\"],[\"999.10\",\"1.00200\"],";
    TT_ASSERT(strncmp(hget_long(c, key, "bids"), head, strlen(head)) == 0); /* best first, trailing zeros kept */
    TT_ASSERT_STR(hget(c, key, "seq"), "4242");
    TT_ASSERT_STR(hget(c, key, "ts"), "1700000000004242");
    TT_ASSERT_STR(hget(c, key, "recv_ts"), "1700000000004542");
    TT_ASSERT_STR(hget(c, key, "state"), "live");
    TT_ASSERT_STR(hget(c, key, "resyncs"), "2");
    TT_ASSERT_INT(int_command(c, "HLEN %s", key), 7);
    snprintf(key, sizeof key, "%s:book:kraken:ETH.X-USD", prefix);
    TT_ASSERT_STR(hget_long(c, key, "bids"), want_levels(true, 3, 10, 7));
    TT_ASSERT_STR(hget_long(c, key, "bids"), "[[\"1007.10\",\"0.00100\"],[\"1006.10\",\"1.00200\"],"
                                             "[\"1005.10\",\"2.00300\"]]");
    TT_ASSERT_STR(hget_long(c, key, "asks"), "[]");
    TT_ASSERT_STR(hget(c, key, "state"), "resyncing");
    TT_ASSERT_STR(hget(c, key, "resyncs"), "0");
    TT_ASSERT_INT(count_keys(c), 2); /* nothing else: no quote hash beside a book */
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* Many puts of a book in one loop turn are one write of the last, one HSET (the server's own count says so); a
 * turn's books share a script call. */
#define BURST_PUTS 200

static void test_book_written_once_per_turn(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, "CONFIG RESETSTAT"));
    struct book b;
    for (uint64_t v = 1; v <= BURST_PUTS; v++) {
        fill_book(&b, 12, 12, v);
        struct book_view bv = book_view_of(&b, "okx", "SOL-USDT", 10, 1000 + v);
        TT_ASSERT_INT(redis_sink_put_book(s, &bv), 0);
        book_free(&b);
    }
    TT_ASSERT(run_until(&loop, books_settled, s, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.books, 1);
    TT_ASSERT_INT(command_calls(c, "hset"), 1);
    char key[128];
    snprintf(key, sizeof key, "%s:book:okx:SOL-USDT", prefix);
    TT_ASSERT_STR(hget(c, key, "seq"), "1200");
    TT_ASSERT_STR(hget_long(c, key, "bids"), want_levels(true, 12, 10, BURST_PUTS));
    TT_ASSERT_STR(hget_long(c, key, "asks"), want_levels(false, 12, 10, BURST_PUTS));
    /* Five books, each put 40 times in one turn: five HSETs in one script call. */
    uint64_t commands = st.commands;
    char sym[16];
    for (uint64_t v = 1; v <= 40; v++)
        for (int k = 0; k < 5; k++) {
            fill_book(&b, 4, 4, v);
            snprintf(sym, sizeof sym, "B%u-USDT", (unsigned)k % 1000u);
            struct book_view bv = book_view_of(&b, "okx", sym, 3, v);
            TT_ASSERT_INT(redis_sink_put_book(s, &bv), 0);
            book_free(&b);
        }
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.books_pending, 5);
    TT_ASSERT(run_until(&loop, books_settled, s, 5000));
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.books, 6);
    TT_ASSERT_INT(st.commands - commands, 1);
    TT_ASSERT_INT(command_calls(c, "hset"), 6);
    for (int k = 0; k < 5; k++) {
        snprintf(key, sizeof key, "%s:book:okx:B%d-USDT", prefix, k);
        TT_ASSERT_STR(hget(c, key, "seq"), "40");
        TT_ASSERT_STR(hget_long(c, key, "asks"), want_levels(false, 4, 3, 40));
    }
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* A book never moves backwards: an older seq is refused here (-ESTALE, counted), whether the newer one is written
 * or still pending, and by Redis when another writer (a replica, a replay) holds a newer one; the same seq is taken
 * (the state may change alone), and after a resync or on a new connection a lower seq is taken (the venue's
 * sequence may restart). */
static void test_book_never_backwards(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s1 = open_sink(&loop, 0), *s2 = open_sink(&loop, 0);
    redisContext *c = sync_client();
    char key[128];
    snprintf(key, sizeof key, "%s:book:binance:ETH-USDT", prefix);
    struct book b;
    fill_book(&b, 5, 5, 100);
    struct book_view v = book_view_of(&b, "binance", "ETH-USDT", 5, 100);
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), 0);
    TT_ASSERT(run_until(&loop, books_settled, s1, 5000));
    v.seq = 99;
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), -ESTALE); /* below the one written */
    v.seq = 101;
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), 0);
    v.seq = 100;
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), -ESTALE); /* below the one pending */
    TT_ASSERT(run_until(&loop, books_settled, s1, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s1, &st);
    TT_ASSERT_INT(st.books_stale, 2);
    TT_ASSERT_INT(st.refused, 0);
    TT_ASSERT_INT(st.books, 2);
    TT_ASSERT_STR(hget(c, key, "seq"), "101");
    v.seq = 101;
    v.state = BOOK_STALE; /* the same seq: the state changed */
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), 0);
    TT_ASSERT(run_until(&loop, books_settled, s1, 5000));
    TT_ASSERT_STR(hget(c, key, "state"), "stale");

    /* Another writer with an older book: its own record takes it, Redis does not. */
    v.seq = 60;
    v.state = BOOK_LIVE;
    TT_ASSERT_INT(redis_sink_put_book(s2, &v), 0);
    TT_ASSERT(run_until(&loop, books_settled, s2, 5000));
    redis_sink_stats(s2, &st);
    TT_ASSERT_INT(st.books, 0);
    TT_ASSERT_INT(st.cas_rejected, 1);
    TT_ASSERT_STR(hget(c, key, "seq"), "101");
    TT_ASSERT_STR(hget(c, key, "state"), "stale");

    /* A resync: a new sequence below the old one is the book now, here and in Redis. */
    book_free(&b);
    fill_book(&b, 5, 5, 3);
    v = book_view_of(&b, "binance", "ETH-USDT", 5, 7);
    v.resyncs = 1;
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), 0);
    TT_ASSERT(run_until(&loop, books_settled, s1, 5000));
    TT_ASSERT_STR(hget(c, key, "seq"), "7");
    TT_ASSERT_STR(hget(c, key, "resyncs"), "1");
    TT_ASSERT_STR(hget_long(c, key, "bids"), want_levels(true, 5, 5, 3));
    v.seq = 6;
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), -ESTALE); /* and from there, never backwards again */

    /* A new connection (run) with the same resyncs and a lower seq: its sync restarted the sequence. Taken here,
     * and written though Redis holds a greater seq of the same resyncs (the first write of a run is not compared);
     * within that run, never backwards again, here and in Redis (the replica's older book). */
    v.run = 5;
    v.seq = 3;
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), 0);
    TT_ASSERT(run_until(&loop, books_settled, s1, 5000));
    TT_ASSERT_STR(hget(c, key, "seq"), "3");
    TT_ASSERT_STR(hget(c, key, "resyncs"), "1");
    v.seq = 2;
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), -ESTALE);
    v.seq = 4;
    TT_ASSERT_INT(redis_sink_put_book(s1, &v), 0);
    TT_ASSERT(run_until(&loop, books_settled, s1, 5000));
    TT_ASSERT_STR(hget(c, key, "seq"), "4");
    v.run = 0; /* the replica's run (its record's: not a new one) and an older book of that sync: Redis refuses */
    v.seq = 1;
    TT_ASSERT_INT(redis_sink_put_book(s2, &v), 0);
    TT_ASSERT(run_until(&loop, books_settled, s2, 5000));
    TT_ASSERT_STR(hget(c, key, "seq"), "4");
    book_free(&b);
    redis_sink_stats(s2, &st);
    TT_ASSERT_INT(st.cas_rejected, 2);
    redis_sink_stats(s1, &st);
    TT_ASSERT_INT(st.books_stale, 4);
    TT_ASSERT_INT(st.books, 6);
    TT_ASSERT_INT(st.cas_rejected, 0);
    redisFree(c);
    close_sink(&loop, s1);
    close_sink(&loop, s2);
    finish_loop(&loop);
}

/* The deepest books with the longest texts (BOOK_DEPTH_MAX levels a side of 23-character prices and sizes, ~108 KB
 * of arguments each): eight of them in one turn go out as script calls of at most BOOK_BATCH_BYTES (two each), and
 * every hash holds its book exactly. */
static void deep_level(bool bid, int i, int k, char *price, char *qty) {
    /* each number below 10^6, so the compiler sees that every text is exactly 23 characters */
    unsigned p = (unsigned)(bid ? 500000 - i : 600000 + i) % 1000000u, q = (unsigned)i % 1000000u,
             f = (unsigned)k % 1000000u;
    snprintf(price, BOOK_TEXT_MAX, "1%015u.%06u", p, f);
    snprintf(qty, BOOK_TEXT_MAX, "2%015u.%06u", q, f);
}

static void test_book_deepest_in_batches(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    static char want[2][BOOK_DEPTH_MAX * SINK_BOOK_LEVEL_JSON_MAX + 8];
    char sym[16], price[BOOK_TEXT_MAX], qty[BOOK_TEXT_MAX];
    for (int k = 0; k < 8; k++) {
        struct book b;
        book_init(&b, 0);
        for (int side = 0; side < 2; side++)
            for (int i = BOOK_DEPTH_MAX + 9; i >= 0; i--) { /* more than published */
                deep_level(side == 0, i, k, price, qty);
                TT_ASSERT_INT(strlen(price), BOOK_TEXT_MAX - 1);
                TT_ASSERT(book_set(&b, side ? BOOK_ASK : BOOK_BID, price, strlen(price), qty, strlen(qty)) == 1);
            }
        snprintf(sym, sizeof sym, "D%u-USDT", (unsigned)k % 1000u);
        struct book_view v = book_view_of(&b, "okx", sym, BOOK_DEPTH_MAX, 1);
        TT_ASSERT_INT(redis_sink_put_book(s, &v), 0);
        book_free(&b);
    }
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    uint64_t commands = st.commands;
    TT_ASSERT(run_until(&loop, books_settled, s, 10000));
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.books, 8);
    TT_ASSERT_INT(st.commands - commands, 4);
    redisContext *c = sync_client();
    for (int k = 0; k < 8; k++) {
        for (int side = 0; side < 2; side++) {
            size_t len = (size_t)sprintf(want[side], "[");
            for (int i = 0; i < BOOK_DEPTH_MAX; i++) {
                deep_level(side == 0, i, k, price, qty);
                len += (size_t)sprintf(want[side] + len, "%s[\"%s\",\"%s\"]", i ? "," : "", price, qty);
            }
            sprintf(want[side] + len, "]");
        }
        char key[128];
        snprintf(key, sizeof key, "%s:book:okx:D%d-USDT", prefix, k);
        redisReply *r = redisCommand(c, "HMGET %s bids asks", key);
        TT_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        TT_ASSERT(r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING);
        TT_ASSERT_INT(r->element[0]->len, strlen(want[0]));
        TT_ASSERT(strcmp(r->element[0]->str, want[0]) == 0);
        TT_ASSERT(strcmp(r->element[1]->str, want[1]) == 0);
        freeReplyObject(r);
    }
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* Invalid books are refused and counted, nothing written for them. */
static void test_book_refusals(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    struct book b;
    fill_book(&b, 3, 3, 1);
    struct book_view v = book_view_of(&b, "bin:ance", "BTC-USDT", 5, 1);
    TT_ASSERT_INT(redis_sink_put_book(s, &v), -EINVAL);
    v = book_view_of(&b, "binance", "BTC USDT", 5, 1);
    TT_ASSERT_INT(redis_sink_put_book(s, &v), -EINVAL);
    v = book_view_of(&b, "binance", "BTC-USDT", BOOK_DEPTH_MAX + 1, 1);
    TT_ASSERT_INT(redis_sink_put_book(s, &v), -EINVAL);
    v = book_view_of(&b, "binance", "BTC-USDT", 5, 1);
    v.state = (enum book_state)9;
    TT_ASSERT_INT(redis_sink_put_book(s, &v), -EINVAL);
    memcpy(b.side[BOOK_ASK].lv[2].qty, "1\"]]", 5); /* a level beyond the book's checks: refused, not written */
    v = book_view_of(&b, "binance", "BTC-USDT", 5, 1);
    TT_ASSERT_INT(redis_sink_put_book(s, &v), -EINVAL);
    v.depth = 2; /* the bad level is not among the top two */
    TT_ASSERT_INT(redis_sink_put_book(s, &v), 0);
    book_free(&b);
    redisContext *c = settle_and_check(&loop, s, 5, 1);
    char key[128];
    snprintf(key, sizeof key, "%s:book:binance:BTC-USDT", prefix);
    TT_ASSERT_STR(hget_long(c, key, "asks"), want_levels(false, 3, 2, 1));
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* While Redis is away the latest of every book waits; on reconnect every book is written, also one that did not
 * change (the restarted Redis is empty). */
static void test_book_rewritten_after_restart(void) {
    need_redis();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset: cannot stop redis");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    struct book b;
    char sym[16];
    for (int k = 0; k < 3; k++) {
        fill_book(&b, 8, 8, 10);
        snprintf(sym, sizeof sym, "R%u-USDT", (unsigned)k % 1000u);
        struct book_view v = book_view_of(&b, "coinbase", sym, 6, 10);
        TT_ASSERT_INT(redis_sink_put_book(s, &v), 0);
        book_free(&b);
    }
    TT_ASSERT(run_until(&loop, books_settled, s, 5000));
    TT_ASSERT_INT(servers("redis_stop"), 0);
    TT_ASSERT(run_until(&loop, sink_down, s, 5000));
    for (uint64_t v = 11; v <= 30; v++) /* R0 and R1 change while Redis is away, R2 does not */
        for (int k = 0; k < 2; k++) {
            fill_book(&b, 8, 8, v);
            snprintf(sym, sizeof sym, "R%u-USDT", (unsigned)k % 1000u);
            struct book_view bv = book_view_of(&b, "coinbase", sym, 6, v);
            TT_ASSERT_INT(redis_sink_put_book(s, &bv), 0);
            book_free(&b);
            uv_run(&loop, UV_RUN_NOWAIT);
        }
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.books_pending, 2); /* the latest of each, however many puts */
    TT_ASSERT_INT(servers("redis_start"), 0);
    TT_ASSERT(run_until(&loop, books_settled, s, 10000));
    redis_sink_stats(s, &st);
    TT_ASSERT(st.reconnects >= 1);
    redisContext *c = sync_client();
    char key[128];
    for (int k = 0; k < 3; k++) {
        snprintf(key, sizeof key, "%s:book:coinbase:R%d-USDT", prefix, k);
        uint64_t want = k < 2 ? 30 : 10;
        char seq[8];
        snprintf(seq, sizeof seq, "%" PRIu64, want);
        TT_ASSERT_STR(hget(c, key, "seq"), seq);
        TT_ASSERT_STR(hget_long(c, key, "bids"), want_levels(true, 8, 6, want));
        TT_ASSERT_STR(hget_long(c, key, "asks"), want_levels(false, 8, 6, want));
    }
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* ---- instrument changes ------------------------------------------------------------------------------------ */

static struct redis_sink *open_instrument_sink(uv_loop_t *loop, uint64_t max_events) {
    struct redis_sink_config cfg = {.url = redis_url, .prefix = prefix, .max_instrument_events = max_events,
                                    .reply_timeout_ms = 800, .connect_timeout_ms = 800, .backoff_min_ms = 50,
                                    .backoff_max_ms = 400, .close_deadline_ms = 3000};
    struct redis_sink *s = NULL;
    TT_ASSERT_INT(redis_sink_new(loop, &cfg, &s), 0);
    return s;
}

static bool instruments_settled(void *arg) {
    struct redis_sink_stats st;
    redis_sink_stats(arg, &st);
    return st.ready && st.pending == 0 && st.instruments_pending == 0;
}

/* Binance's BTC-USDT as its exchangeInfo gives it (instrument.h's example). */
static struct instrument btc_usdt(void) {
    struct instrument in;
    memset(&in, 0, sizeof in);
    strcpy(in.symbol, "BTC-USDT");
    strcpy(in.venue_symbol, "BTCUSDT");
    strcpy(in.base, "BTC");
    strcpy(in.quote, "USDT");
    strcpy(in.venue_status, "TRADING");
    strcpy(in.tick_size, "0.01000000");
    strcpy(in.lot_size, "0.00001000");
    in.price_decimals = 2;
    in.size_decimals = 5;
    in.status = INSTRUMENT_TRADING;
    return in;
}

/* Instrument k of the bulk tests, "I<k>-USDT" (k below 10000), with sizes of its own. */
static struct instrument mk_instr(unsigned k) {
    struct instrument in;
    memset(&in, 0, sizeof in);
    k %= 10000u;
    snprintf(in.symbol, sizeof in.symbol, "I%04u-USDT", k);
    snprintf(in.venue_symbol, sizeof in.venue_symbol, "I%04uUSDT", k);
    snprintf(in.base, sizeof in.base, "I%04u", k);
    strcpy(in.quote, "USDT");
    strcpy(in.venue_status, k % 3 ? "TRADING" : "HALT");
    snprintf(in.tick_size, sizeof in.tick_size, "0.%04u0", k);
    strcpy(in.lot_size, "1.000");
    in.price_decimals = (uint8_t)(k % 50);
    in.size_decimals = 0;
    in.status = k % 3 ? INSTRUMENT_TRADING : INSTRUMENT_HALTED;
    return in;
}

/* What <prefix>:instruments:binance must hold for mk_instr(k), written here, not by instrument_json. */
static const char *want_instr_json(unsigned k) {
    static char out[1024];
    static const char *const status[] = {"trading", "halted", "delisted"};
    struct instrument in = mk_instr(k);
    snprintf(out, sizeof out,
             "{\"venue\":\"binance\",\"symbol\":\"%s\",\"venue_symbol\":\"%s\",\"status\":\"%s\",\"venue_status\":"
             "\"%s\",\"base\":\"%s\",\"quote\":\"USDT\",\"tick_size\":\"%s\",\"lot_size\":\"1.000\","
             "\"price_decimals\":%u,\"size_decimals\":0}",
             in.symbol, in.venue_symbol, status[in.status], in.venue_status, in.base, in.tick_size,
             (unsigned)in.price_decimals);
    return out;
}

/* The key of a venue's instruments hash, in a buffer the next call reuses. */
static const char *instruments_key(const char *venue) {
    static char key[128];
    snprintf(key, sizeof key, "%s:instruments:%s", prefix, venue);
    return key;
}

static const char *quote_key(const char *venue, const char *symbol) {
    static char key[2][128];
    static int slot;
    char *out = key[slot++ % 2];
    snprintf(out, sizeof key[0], "%s:quote:%s:%s", prefix, venue, symbol);
    return out;
}

/* Each change lands in the venue's instruments hash as its exact JSON, through the sink_table row; a listing, a
 * status change and a delisting also set the quote hash's status field, an update does not; nothing else is
 * written, and no script runs for them. */
static void test_instruments_hash_exact(void) {
    need_redis();
    TT_ASSERT(redis_sink_ops.put_instrument != NULL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    struct instrument btc = btc_usdt(), eth = btc_usdt(), sol = btc_usdt(), gone = btc_usdt();
    strcpy(eth.symbol, "ETH-USDT");
    strcpy(eth.venue_symbol, "ETHUSDT");
    strcpy(eth.base, "ETH");
    strcpy(eth.venue_status, "BREAK");
    eth.tick_size[0] = 0; /* not given: null */
    eth.price_decimals = INSTRUMENT_DECIMALS_UNKNOWN;
    eth.status = INSTRUMENT_HALTED;
    strcpy(sol.symbol, "SOL-USDT");
    strcpy(sol.venue_symbol, "SOLUSDT");
    strcpy(sol.base, "SOL");
    strcpy(gone.venue_symbol, "BTC-USDT");
    strcpy(gone.venue_status, "expired");
    gone.status = INSTRUMENT_DELISTED;
    TT_ASSERT_INT(redis_sink_ops.put_instrument(s, "binance", &btc, INSTRUMENT_CHANGE_LISTED), 0);
    TT_ASSERT_INT(redis_sink_ops.put_instrument(s, "binance", &eth, INSTRUMENT_CHANGE_LISTED), 0);
    TT_ASSERT_INT(redis_sink_ops.put_instrument(s, "binance", &sol, INSTRUMENT_CHANGE_UPDATED), 0);
    TT_ASSERT_INT(redis_sink_ops.put_instrument(s, "okx", &gone, INSTRUMENT_CHANGE_DELISTED), 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.instruments, 4);
    TT_ASSERT_INT(st.errors + st.refused + st.instruments_dropped, 0);
    TT_ASSERT_INT(st.commands, 0); /* plain HSETs, not the script */

    redisContext *c = sync_client();
    char bin[128];
    snprintf(bin, sizeof bin, "%s", instruments_key("binance"));
    TT_ASSERT_STR(hget_long(c, bin, "BTC-USDT"),
                  "{\"venue\":\"binance\",\"symbol\":\"BTC-USDT\",\"venue_symbol\":\"BTCUSDT\",\"status\":\"trading\","
                  "\"venue_status\":\"TRADING\",\"base\":\"BTC\",\"quote\":\"USDT\",\"tick_size\":\"0.01000000\","
                  "\"lot_size\":\"0.00001000\",\"price_decimals\":2,\"size_decimals\":5}");
    TT_ASSERT_STR(hget_long(c, bin, "ETH-USDT"),
                  "{\"venue\":\"binance\",\"symbol\":\"ETH-USDT\",\"venue_symbol\":\"ETHUSDT\",\"status\":\"halted\","
                  "\"venue_status\":\"BREAK\",\"base\":\"ETH\",\"quote\":\"USDT\",\"tick_size\":null,"
                  "\"lot_size\":\"0.00001000\",\"price_decimals\":null,\"size_decimals\":5}");
    TT_ASSERT_STR(hget_long(c, bin, "SOL-USDT"),
                  "{\"venue\":\"binance\",\"symbol\":\"SOL-USDT\",\"venue_symbol\":\"SOLUSDT\",\"status\":\"trading\","
                  "\"venue_status\":\"TRADING\",\"base\":\"SOL\",\"quote\":\"USDT\",\"tick_size\":\"0.01000000\","
                  "\"lot_size\":\"0.00001000\",\"price_decimals\":2,\"size_decimals\":5}");
    TT_ASSERT_INT(int_command(c, "HLEN %s", bin), 3);
    TT_ASSERT_STR(hget_long(c, instruments_key("okx"), "BTC-USDT"),
                  "{\"venue\":\"okx\",\"symbol\":\"BTC-USDT\",\"venue_symbol\":\"BTC-USDT\",\"status\":\"delisted\","
                  "\"venue_status\":\"expired\",\"base\":\"BTC\",\"quote\":\"USDT\",\"tick_size\":\"0.01000000\","
                  "\"lot_size\":\"0.00001000\",\"price_decimals\":2,\"size_decimals\":5}");
    /* none of them quoted yet: no quote hash is made to hold a status alone */
    TT_ASSERT_INT(int_command(c, "EXISTS %s", quote_key("binance", "BTC-USDT")), 0);
    TT_ASSERT_INT(int_command(c, "EXISTS %s", quote_key("binance", "ETH-USDT")), 0);
    TT_ASSERT_INT(int_command(c, "EXISTS %s", quote_key("okx", "BTC-USDT")), 0);
    TT_ASSERT_INT(count_keys(c), 2);

    /* BTC-USDT quotes, then halts: its JSON and its quote's status follow */
    struct tick t1 = mk("binance", "BTC-USDT", 1);
    TT_ASSERT_INT(put(s, &t1), 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    TT_ASSERT_STR(hget(c, quote_key("binance", "BTC-USDT"), "status"), "");
    btc.status = INSTRUMENT_HALTED;
    strcpy(btc.venue_status, "HALT");
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &btc, INSTRUMENT_CHANGE_STATUS), 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    TT_ASSERT(strstr(hget_long(c, bin, "BTC-USDT"), "\"status\":\"halted\",\"venue_status\":\"HALT\","));
    TT_ASSERT_STR(hget(c, quote_key("binance", "BTC-USDT"), "status"), "halted");
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.instruments, 5);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* The status field beside a quote: written alone, the quote's fields and its ordering key untouched; the
 * script's compare still refuses an older quote (from another writer, so that Redis decides) and takes a newer
 * one, which leaves the status; an instrument listed before its first quote gets no hash of its status alone. */
static void test_instrument_status_keeps_quote_order(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0), *other = open_sink(&loop, 0);
    struct tick t10 = mk("binance", "BTC-USDT", 10);
    TT_ASSERT_INT(put(s, &t10), 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000) && run_until(&loop, settled, other, 5000));
    redisContext *c = sync_client();
    const char *q = quote_key("binance", "BTC-USDT");
    static const char *const fields[] = {"bid", "bid_qty", "ask", "ask_qty", "last", "ts",
                                         "seq", "recv_ts", "origin", "order"};
    enum { NFIELDS = sizeof fields / sizeof fields[0] };
    char before[NFIELDS][128];
    for (int i = 0; i < NFIELDS; i++) snprintf(before[i], sizeof before[i], "%s", hget(c, q, fields[i]));
    TT_ASSERT_STR(before[6], "10");
    TT_ASSERT_INT(strlen(before[9]), MERGE_KEY_TEXT_LEN - 1);

    struct instrument btc = btc_usdt();
    btc.status = INSTRUMENT_HALTED;
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &btc, INSTRUMENT_CHANGE_STATUS), 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    TT_ASSERT_STR(hget(c, q, "status"), "halted");
    for (int i = 0; i < NFIELDS; i++) TT_ASSERT_STR(hget(c, q, fields[i]), before[i]);
    TT_ASSERT_INT(int_command(c, "HLEN %s", q), NFIELDS + 1);

    struct tick t9 = mk("binance", "BTC-USDT", 9); /* the other writer is behind: Redis refuses it */
    TT_ASSERT_INT(put(other, &t9), 0);
    TT_ASSERT(run_until(&loop, settled, other, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(other, &st);
    TT_ASSERT_INT(st.cas_rejected, 1);
    TT_ASSERT_INT(st.writes, 0);
    TT_ASSERT_STR(hget(c, q, "seq"), "10");
    struct tick t11 = mk("binance", "BTC-USDT", 11);
    TT_ASSERT_INT(put(s, &t11), 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    TT_ASSERT_STR(hget(c, q, "seq"), "11");
    TT_ASSERT_STR(hget(c, q, "bid"), t11.bid);
    char order[MERGE_KEY_TEXT_LEN];
    merge_key_format(&(struct merge_key){.pos = 11, .time_us = (uint64_t)t11.recv_us, .rank = 1}, order);
    TT_ASSERT_STR(hget(c, q, "order"), order);
    TT_ASSERT_STR(hget(c, q, "status"), "halted");

    /* listed before it ever quoted: no hash of a status alone; its first quote makes the hash, without one */
    struct instrument fresh = btc_usdt();
    strcpy(fresh.symbol, "NEW-USDT");
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &fresh, INSTRUMENT_CHANGE_LISTED), 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    const char *nq = quote_key("binance", "NEW-USDT");
    TT_ASSERT_INT(int_command(c, "EXISTS %s", nq), 0);
    struct tick n5 = mk("binance", "NEW-USDT", 5);
    TT_ASSERT_INT(put(s, &n5), 0);
    TT_ASSERT(run_until(&loop, settled, s, 5000));
    TT_ASSERT_STR(hget(c, nq, "seq"), "5");
    TT_ASSERT_INT(int_command(c, "HLEN %s", nq), NFIELDS);
    /* a delisting of a quoted instrument does reach its hash */
    fresh.status = INSTRUMENT_DELISTED;
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &fresh, INSTRUMENT_CHANGE_DELISTED), 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    TT_ASSERT_STR(hget(c, nq, "status"), "delisted");
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.writes, 3);
    TT_ASSERT_INT(st.instruments, 3);
    redisFree(c);
    close_sink(&loop, s);
    close_sink(&loop, other);
    finish_loop(&loop);
}

/* Refused: a venue or symbol that cannot be a key, an unknown change or status, a text not terminated in its field;
 * counted, nothing written; a valid change after them is. */
static void test_instrument_refusals(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_sink(&loop, 0);
    struct instrument ok = btc_usdt(), in;
    const char *bad_venues[] = {"bin:ance", "Binance", "", "bin ance", "binance\r\nDEL"};
    for (size_t i = 0; i < sizeof bad_venues / sizeof bad_venues[0]; i++)
        TT_ASSERT_INT(redis_sink_put_instrument(s, bad_venues[i], &ok, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    TT_ASSERT_INT(redis_sink_put_instrument(s, NULL, &ok, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    char long_venue[TICK_VENUE_MAX + 1];
    memset(long_venue, 'a', TICK_VENUE_MAX);
    long_venue[TICK_VENUE_MAX] = 0; /* no terminator within TICK_VENUE_MAX */
    TT_ASSERT_INT(redis_sink_put_instrument(s, long_venue, &ok, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    const char *bad_symbols[] = {"BTC USDT", "A:B", "btc-usdt", "", "{x}", "BTC\r\nDEL *"};
    for (size_t i = 0; i < sizeof bad_symbols / sizeof bad_symbols[0]; i++) {
        in = ok;
        snprintf(in.symbol, sizeof in.symbol, "%s", bad_symbols[i]);
        TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    }
    in = ok;
    memset(in.symbol, 'A', sizeof in.symbol);
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &ok, (enum instrument_change)9), -EINVAL);
    in = ok;
    in.status = 3;
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_STATUS), -EINVAL);
    in = ok;
    memset(in.venue_status, 'X', sizeof in.venue_status); /* instrument_json's check */
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_UPDATED), -EINVAL);
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &ok, INSTRUMENT_CHANGE_LISTED), 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.refused, 17);
    TT_ASSERT_INT(st.instruments, 1);
    redisContext *c = sync_client();
    TT_ASSERT_INT(count_keys(c), 1); /* the valid change's hash (its quote never came: no status hash) */
    TT_ASSERT_INT(int_command(c, "HLEN %s", instruments_key("binance")), 1);
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

static int capture_log(void) {
    char tmpl[] = "/tmp/tickd-redis-logXXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) TT_FAIL("mkstemp");
    unlink(tmpl);
    log_set_fd(fd);
    return fd;
}

static const char *captured_log(int fd) {
    static char captured[1 << 16];
    log_set_fd(-1);
    ssize_t n = pread(fd, captured, sizeof captured - 1, 0);
    captured[n < 0 ? 0 : n] = 0;
    close(fd);
    return captured;
}

#define INSTR_BOUND 50
#define INSTR_PUT 80

/* Redis away: changes wait, up to max_instrument_events; beyond it the oldest go, counted and logged with the
 * first and last dropped. When Redis is back the ones kept are written, each exactly, their statuses too. */
static void test_instruments_wait_for_redis(void) {
    need_redis();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset: cannot stop redis");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_instrument_sink(&loop, INSTR_BOUND);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    TT_ASSERT_INT(servers("redis_stop"), 0);
    TT_ASSERT(run_until(&loop, sink_down, s, 5000));
    int fd = capture_log();
    int failures = 0; /* counted, not asserted, until Redis runs again */
    for (unsigned k = 0; k < INSTR_PUT; k++) {
        struct instrument in = mk_instr(k);
        failures += redis_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED) != 0;
        if (k % 10 == 9) uv_run(&loop, UV_RUN_NOWAIT);
    }
    bool never = false;
    run_until(&loop, flag_set, &never, 300);
    struct redis_sink_stats away;
    redis_sink_stats(s, &away);
    TT_ASSERT_INT(servers("redis_start"), 0);
    TT_ASSERT_INT(failures, 0);
    TT_ASSERT(!away.ready);
    TT_ASSERT_INT(away.instruments_pending, INSTR_BOUND);
    TT_ASSERT_INT(away.instruments_dropped, INSTR_PUT - INSTR_BOUND);
    TT_ASSERT_INT(away.instruments, 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 10000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.instruments, INSTR_BOUND);
    TT_ASSERT_INT(st.instruments_dropped, INSTR_PUT - INSTR_BOUND);
    TT_ASSERT(st.reconnects >= 1);
    close_sink(&loop, s);
    finish_loop(&loop);
    const char *log = captured_log(fd);
    /* the first drop at once; the rest within the second, or at close */
    TT_ASSERT(strstr(log, "instrument changes dropped") != NULL);
    TT_ASSERT(strstr(log, "dropped=1 first=binance:I0000-USDT last=binance:I0000-USDT instruments_dropped=1 "
                          "max_instrument_events=50") != NULL);
    TT_ASSERT(strstr(log, "dropped=29 first=binance:I0001-USDT last=binance:I0029-USDT instruments_dropped=30 ") !=
              NULL);

    redisContext *c = sync_client();
    const char *key = instruments_key("binance");
    TT_ASSERT_INT(int_command(c, "HLEN %s", key), INSTR_BOUND);
    for (unsigned k = 0; k < INSTR_PUT; k++) {
        struct instrument in = mk_instr(k);
        bool kept = k >= INSTR_PUT - INSTR_BOUND; /* the newest */
        TT_ASSERT_STR(hget_long(c, key, in.symbol), kept ? want_instr_json(k) : "");
        TT_ASSERT_STR(hget(c, quote_key("binance", in.symbol), "status"), ""); /* never quoted */
    }
    TT_ASSERT_INT(count_keys(c), 1);
    redisFree(c);
}

/* A full Redis (OOM) refuses a batch of changes: kept, not failed, and written in order once it takes writes again;
 * a change of the same instrument after them wins. */
static void test_instruments_wait_out_oom(void) {
    need_redis();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_instrument_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, "CONFIG SET maxmemory 1"));
    for (unsigned k = 0; k < 20; k++) {
        struct instrument in = mk_instr(k);
        TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED), 0);
    }
    bool never = false;
    run_until(&loop, flag_set, &never, 700);
    struct instrument last = mk_instr(4); /* waits behind the kept batch */
    last.status = INSTRUMENT_DELISTED;
    TT_ASSERT_INT(redis_sink_put_instrument(s, "binance", &last, INSTRUMENT_CHANGE_DELISTED), 0);
    struct redis_sink_stats full;
    redis_sink_stats(s, &full);
    freeReplyObject(redisCommand(c, "CONFIG SET maxmemory 0"));
    TT_ASSERT_INT(full.instruments, 0);
    TT_ASSERT_INT(full.instruments_pending, 21);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 10000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT_INT(st.instruments, 21);
    TT_ASSERT_INT(st.errors, 0);
    const char *key = instruments_key("binance");
    TT_ASSERT_INT(int_command(c, "HLEN %s", key), 20);
    for (unsigned k = 0; k < 20; k++) {
        struct instrument in = mk_instr(k);
        if (k == 4) continue;
        TT_ASSERT_STR(hget_long(c, key, in.symbol), want_instr_json(k));
    }
    TT_ASSERT(strstr(hget_long(c, key, "I0004-USDT"), "\"status\":\"delisted\"") != NULL);
    TT_ASSERT_STR(hget(c, quote_key("binance", "I0004-USDT"), "status"), ""); /* never quoted: no hash for it */
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

/* A batch in flight when Redis hangs (SIGSTOP): its answers are lost with the connection the watchdog drops, the
 * batch is written again after the reconnect, and counted once. */
static void test_instruments_survive_a_hung_redis(void) {
    need_redis();
    const char *dir = getenv("TICKD_TEST_SERVERS_DIR");
    if (!dir) TT_SKIP("TICKD_TEST_SERVERS_DIR unset");
    char path[512];
    snprintf(path, sizeof path, "%s/redis/redis.pid", dir);
    FILE *f = fopen(path, "r");
    int pid = 0;
    TT_ASSERT(f && fscanf(f, "%d", &pid) == 1);
    fclose(f);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct redis_sink *s = open_instrument_sink(&loop, 0);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 5000));
    kill(pid, SIGSTOP);
    for (unsigned k = 0; k < 30; k++) {
        struct instrument in = mk_instr(k);
        redis_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED);
    }
    bool never = false;
    run_until(&loop, flag_set, &never, 1500); /* sent, unanswered beyond reply_timeout_ms (800): dropped */
    struct redis_sink_stats hung;
    redis_sink_stats(s, &hung);
    kill(pid, SIGCONT);
    TT_ASSERT_INT(hung.instruments, 0);
    TT_ASSERT_INT(hung.instruments_pending, 30);
    TT_ASSERT(run_until(&loop, instruments_settled, s, 10000));
    struct redis_sink_stats st;
    redis_sink_stats(s, &st);
    TT_ASSERT(st.reconnects >= 1);
    TT_ASSERT_INT(st.instruments, 30);
    TT_ASSERT_INT(st.instruments_dropped + st.errors, 0);
    redisContext *c = sync_client();
    const char *key = instruments_key("binance");
    TT_ASSERT_INT(int_command(c, "HLEN %s", key), 30);
    for (unsigned k = 0; k < 30; k++) {
        struct instrument in = mk_instr(k);
        TT_ASSERT_STR(hget_long(c, key, in.symbol), want_instr_json(k));
    }
    redisFree(c);
    close_sink(&loop, s);
    finish_loop(&loop);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    log_setup(LOG_LEVEL_WARN, LOG_FORMAT_LOGFMT);
    redis_url = getenv("TICKD_TEST_REDIS_URL");
    const char *port = getenv("TICKD_TEST_REDIS_PORT");
    redis_port = port ? atoi(port) : 6379;
    const char *root = getenv("TICKD_ROOT");
    static char sh[600];
    snprintf(sh, sizeof sh, "%s/tests/lib/servers.sh", root ? root : ".");
    servers_sh = sh;
    TT_RUN(test_bad_config_refused);
    TT_RUN(test_writes_land_exact);
    TT_RUN(test_quote_and_bbo_in_one_write);
    TT_RUN(test_lag_figures);
    TT_RUN(test_batches_isolate_a_bad_key);
    TT_RUN(test_cas_never_backwards);
    TT_RUN(test_noscript_recovery);
    TT_RUN(test_history_maxlen);
    TT_RUN(test_hostile_symbols_refused);
    TT_RUN(test_accepted_put_checks_new_names);
    TT_RUN(test_id_path_writes_as_name_path);
    TT_RUN(test_id_path_keeps_max_instruments);
    TT_RUN(test_pipeline_larger_than_socket_buffer);
    TT_RUN(test_select_db_from_url);
    TT_RUN(test_auth_password);
    TT_RUN(test_throughput);
    TT_RUN(test_hung_redis_detected);
    TT_RUN(test_outage_final_state_exact);
    TT_RUN(test_poisoned_key_recovers);
    TT_RUN(test_readonly_replica_recovers);
    TT_RUN(test_oom_recovers);
    TT_RUN(test_trades_land_exact_in_order);
    TT_RUN(test_trades_maxlen);
    TT_RUN(test_trades_off_without_history);
    TT_RUN(test_trade_error_not_retried);
    TT_RUN(test_trades_wait_out_oom);
    TT_RUN(test_trades_wait_for_redis);
    TT_RUN(test_trades_survive_a_hung_redis);
    TT_RUN(test_book_hash_exact_top_depth);
    TT_RUN(test_book_written_once_per_turn);
    TT_RUN(test_book_never_backwards);
    TT_RUN(test_book_deepest_in_batches);
    TT_RUN(test_book_refusals);
    TT_RUN(test_book_rewritten_after_restart);
    TT_RUN(test_instruments_hash_exact);
    TT_RUN(test_instrument_status_keeps_quote_order);
    TT_RUN(test_instrument_refusals);
    TT_RUN(test_instruments_wait_for_redis);
    TT_RUN(test_instruments_wait_out_oom);
    TT_RUN(test_instruments_survive_a_hung_redis);
    return tt_finish();
}
