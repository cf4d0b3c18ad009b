/* test_trade_queue.c -- the byte-bounded trade FIFO: order, the byte bound, drop-oldest with its counts and time
 * range, nacked and requeued entries published again ahead of newer ones, tags shared with another buffer's
 * publishes, big counts, and a producer and a consumer thread at once (the loop and the publisher). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/trade_queue.h"
#include "tt.h"

/* Messages are "m<k>" padded with '.' to len bytes (len >= 12), so a taken batch can be split and read back. */
static size_t mkmsg(char *out, unsigned k, size_t len) {
    memset(out, '.', len);
    char num[16];
    int n = snprintf(num, sizeof num, "m%u", k);
    memcpy(out, num, (size_t)n);
    return len;
}

static enum trade_queue_put_result put(struct trade_queue *q, unsigned k, size_t len, size_t *dropped) {
    char msg[256];
    return trade_queue_put(q, msg, mkmsg(msg, k, len), (int64_t)k * 1000, dropped);
}

/* Takes up to max messages of length len each; writes their numbers to ks. */
static size_t take(struct trade_queue *q, size_t max, uint64_t first_tag, size_t len, unsigned *ks) {
    static char buf[1 << 20];
    size_t w;
    size_t n = trade_queue_take(q, buf, sizeof buf, max, first_tag, &w);
    TT_ASSERT_INT(w, n * len);
    for (size_t i = 0; i < n; i++) {
        TT_ASSERT(buf[i * len] == 'm');
        ks[i] = (unsigned)strtoul(buf + i * len + 1, NULL, 10);
    }
    return n;
}

static void test_order_and_ack(void) {
    struct trade_queue *q = trade_queue_new(1 << 20, 64);
    size_t d;
    TT_ASSERT_INT(put(q, 1, 20, &d), TRADE_QUEUE_WAKE);
    TT_ASSERT_INT(d, 0);
    TT_ASSERT_INT(put(q, 2, 20, &d), TRADE_QUEUE_ADDED);
    TT_ASSERT_INT(put(q, 3, 20, NULL), TRADE_QUEUE_ADDED);
    unsigned ks[64];
    TT_ASSERT_INT(take(q, 2, 10, 20, ks), 2);
    TT_ASSERT_INT(ks[0], 1);
    TT_ASSERT_INT(ks[1], 2);
    TT_ASSERT_INT(take(q, 10, 12, 20, ks), 1);
    TT_ASSERT_INT(ks[0], 3);
    TT_ASSERT_INT(take(q, 10, 13, 20, ks), 0);
    struct trade_queue_stats st;
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.held, 3);
    TT_ASSERT_INT(st.inflight, 3);
    TT_ASSERT_INT(st.waiting, 0);
    TT_ASSERT_INT(st.bytes, 60);
    /* nothing waits: the next put wakes */
    TT_ASSERT_INT(put(q, 4, 20, NULL), TRADE_QUEUE_WAKE);
    /* tags of someone else's publishes (9, 13 here) settle nothing */
    TT_ASSERT_INT(trade_queue_confirm(q, 9, true, true), 0);
    TT_ASSERT_INT(trade_queue_confirm(q, 11, false, true), 1);
    TT_ASSERT_INT(trade_queue_confirm(q, 12, true, true), 2); /* 10 and 12 */
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.held, 1);
    TT_ASSERT_INT(st.bytes, 20);
    TT_ASSERT_INT(st.acked, 3);
    TT_ASSERT_INT(st.taken, 3);
    TT_ASSERT_INT(take(q, 10, 14, 20, ks), 1);
    TT_ASSERT_INT(ks[0], 4);
    TT_ASSERT_INT(trade_queue_confirm(q, 14, false, true), 1);
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.held, 0);
    TT_ASSERT_INT(st.bytes, 0);
    TT_ASSERT_INT(st.put, 4);
    trade_queue_free(q);
}

/* A take stops at cap bytes and at max_inflight unconfirmed. */
static void test_take_limits(void) {
    struct trade_queue *q = trade_queue_new(1 << 20, 3);
    for (unsigned k = 0; k < 10; k++) put(q, k, 100, NULL);
    char buf[250];
    size_t w;
    TT_ASSERT_INT(trade_queue_take(q, buf, sizeof buf, 10, 1, &w), 2); /* a third does not fit in 250 bytes */
    TT_ASSERT_INT(w, 200);
    unsigned ks[8];
    TT_ASSERT_INT(take(q, 10, 3, 100, ks), 1); /* max_inflight 3 */
    TT_ASSERT_INT(ks[0], 2);
    TT_ASSERT_INT(take(q, 10, 4, 100, ks), 0);
    TT_ASSERT_INT(trade_queue_confirm(q, 1, false, true), 1);
    TT_ASSERT_INT(take(q, 10, 4, 100, ks), 1);
    TT_ASSERT_INT(ks[0], 3);
    trade_queue_free(q);
}

/* The bound is on bytes: beyond it the oldest waiting go, counted, with the range of their times; the newest
 * entry is always kept. */
static void test_byte_bound_drops_oldest(void) {
    struct trade_queue *q = trade_queue_new(1000, 64);
    size_t d;
    for (unsigned k = 1; k <= 10; k++) {
        put(q, k, 100, &d);
        TT_ASSERT_INT(d, 0);
    }
    struct trade_queue_stats st;
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.bytes, 1000);
    struct trade_queue_drops dr;
    TT_ASSERT(!trade_queue_drops_take(q, &dr));
    put(q, 11, 100, &d);
    TT_ASSERT_INT(d, 1);
    put(q, 12, 250, &d); /* a bigger one takes the room of three */
    TT_ASSERT_INT(d, 3);
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.dropped, 4);
    TT_ASSERT_INT(st.dropped_bytes, 400);
    TT_ASSERT(st.bytes <= 1000);
    TT_ASSERT_INT(st.bytes, 7 * 100 + 250);
    TT_ASSERT(trade_queue_drops_take(q, &dr));
    TT_ASSERT_INT(dr.count, 4);
    TT_ASSERT_INT(dr.first_us, 1000);
    TT_ASSERT_INT(dr.last_us, 4000);
    TT_ASSERT(!trade_queue_drops_take(q, &dr)); /* forgotten once taken */
    TT_ASSERT_INT(dr.count, 0);
    unsigned ks[64];
    size_t n = 0;
    char buf[4096];
    size_t w;
    /* the survivors, in order: 5..11 of 100 bytes, then 12 */
    n = trade_queue_take(q, buf, sizeof buf, 64, 1, &w);
    TT_ASSERT_INT(n, 8);
    TT_ASSERT_INT(w, 950);
    for (unsigned i = 0; i < 7; i++) {
        ks[i] = (unsigned)strtoul(buf + i * 100 + 1, NULL, 10);
        TT_ASSERT_INT(ks[i], 5 + i);
    }
    TT_ASSERT_INT(strtoul(buf + 700 + 1, NULL, 10), 12);
    trade_queue_free(q);

    /* An entry bigger than the whole bound still goes in (the newest survive), alone. */
    q = trade_queue_new(100, 8);
    put(q, 1, 60, &d);
    put(q, 2, 200, &d);
    TT_ASSERT_INT(d, 1);
    put(q, 3, 60, &d);
    TT_ASSERT_INT(d, 1);
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.held, 1);
    TT_ASSERT_INT(st.bytes, 60);
    trade_queue_free(q);
}

/* In-flight entries are never dropped: the waiting ones behind them go first; back from a lost connection they
 * are the oldest waiting, published first again, but still never dropped: the broker may have them, and the drop
 * count must say exactly what never reached it. */
static void test_inflight_not_dropped(void) {
    struct trade_queue *q = trade_queue_new(500, 64);
    for (unsigned k = 1; k <= 5; k++) put(q, k, 100, NULL);
    unsigned ks[64];
    TT_ASSERT_INT(take(q, 2, 1, 100, ks), 2); /* 1, 2 in flight */
    size_t d;
    put(q, 6, 100, &d);
    TT_ASSERT_INT(d, 1); /* 3, not 1 */
    put(q, 7, 100, &d);
    TT_ASSERT_INT(d, 1); /* 4 */
    struct trade_queue_drops dr;
    TT_ASSERT(trade_queue_drops_take(q, &dr));
    TT_ASSERT_INT(dr.count, 2);
    TT_ASSERT_INT(dr.first_us, 3000);
    TT_ASSERT_INT(dr.last_us, 4000);
    trade_queue_requeue_all(q);
    put(q, 8, 100, &d);
    TT_ASSERT_INT(d, 1); /* 5: 1 and 2 may have been delivered */
    TT_ASSERT(trade_queue_drops_take(q, &dr));
    TT_ASSERT_INT(dr.first_us, 5000);
    TT_ASSERT_INT(take(q, 64, 1, 100, ks), 5);
    unsigned want[] = {1, 2, 6, 7, 8};
    for (int i = 0; i < 5; i++) TT_ASSERT_INT(ks[i], want[i]);
    /* every entry in flight and the bound reached: the new one is held beyond it until confirms come */
    put(q, 9, 100, &d);
    TT_ASSERT_INT(d, 0);
    struct trade_queue_stats st;
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.bytes, 600);
    TT_ASSERT_INT(trade_queue_confirm(q, 5, true, true), 5);
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.bytes, 100);
    TT_ASSERT_INT(st.dropped, 3);
    trade_queue_free(q);
}

/* A nack or a lost connection: the unconfirmed entries are taken again, in their order, ahead of newer ones. */
static void test_requeue_at_front(void) {
    struct trade_queue *q = trade_queue_new(1 << 20, 64);
    for (unsigned k = 1; k <= 6; k++) put(q, k, 20, NULL);
    unsigned ks[64];
    TT_ASSERT_INT(take(q, 4, 1, 20, ks), 4); /* 1..4 as tags 1..4 */
    TT_ASSERT_INT(trade_queue_confirm(q, 1, false, true), 1);
    TT_ASSERT_INT(trade_queue_confirm(q, 3, false, false), 1); /* 3 nacked; 2 and 4 still in flight */
    put(q, 7, 20, NULL);
    TT_ASSERT_INT(take(q, 2, 5, 20, ks), 2);
    TT_ASSERT_INT(ks[0], 3);
    TT_ASSERT_INT(ks[1], 5);
    /* the connection goes: 2, 3, 4, 5 back, before 6 and 7 */
    trade_queue_requeue_all(q);
    struct trade_queue_stats st;
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.inflight, 0);
    TT_ASSERT_INT(st.waiting, 6);
    TT_ASSERT_INT(st.nacked, 1);
    TT_ASSERT_INT(st.requeued, 1 + 4);
    TT_ASSERT_INT(take(q, 64, 1, 20, ks), 6);
    for (unsigned i = 0; i < 6; i++) TT_ASSERT_INT(ks[i], 2 + i);
    /* tags restarted at 1; a multiple nack of all of them, then an ack of all */
    TT_ASSERT_INT(trade_queue_confirm(q, 6, true, false), 6);
    TT_ASSERT_INT(take(q, 64, 7, 20, ks), 6);
    for (unsigned i = 0; i < 6; i++) TT_ASSERT_INT(ks[i], 2 + i);
    TT_ASSERT_INT(trade_queue_confirm(q, 12, true, true), 6);
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.held, 0);
    TT_ASSERT_INT(st.acked, 7);
    trade_queue_free(q);
}

/* A million entries through a bound of a few thousand, the ring growing and wrapping, drops counted exactly. */
static void test_big_counts(void) {
    const unsigned total = 1000000;
    struct trade_queue *q = trade_queue_new(5000 * 16, 4096);
    uint64_t dropped = 0;
    unsigned next = 0, tag = 1, ks[512];
    for (unsigned k = 0; k < total; k++) {
        size_t d;
        TT_ASSERT(put(q, k, 16, &d) >= 0);
        dropped += d;
        if (k % 3 == 0) { /* the consumer keeps up with a third of the puts */
            size_t n = take(q, 1, tag, 16, ks);
            TT_ASSERT_INT(n, 1);
            TT_ASSERT(ks[0] >= next); /* in order, skipping only what was dropped */
            next = ks[0] + 1;
            TT_ASSERT_INT(trade_queue_confirm(q, tag, false, true), 1);
            tag++;
        }
    }
    struct trade_queue_stats st;
    trade_queue_stats(q, &st);
    TT_ASSERT(st.held == 4999 || st.held == 5000); /* full, less the one the consumer took last */
    TT_ASSERT_INT(st.bytes, st.held * 16);
    TT_ASSERT_INT(st.dropped, dropped);
    TT_ASSERT_INT(st.put, total);
    TT_ASSERT_INT(st.acked + st.dropped + st.held, total);
    struct trade_queue_drops dr;
    TT_ASSERT(trade_queue_drops_take(q, &dr));
    TT_ASSERT_INT(dr.count, dropped);
    TT_ASSERT(dr.first_us >= 0 && dr.last_us < (int64_t)total * 1000);
    size_t n;
    while ((n = take(q, 512, tag, 16, ks)) > 0) {
        for (size_t i = 0; i < n; i++) {
            TT_ASSERT(ks[i] >= next);
            next = ks[i] + 1;
        }
        tag += (unsigned)n;
        TT_ASSERT_INT(trade_queue_confirm(q, tag - 1, true, true), n);
    }
    TT_ASSERT_INT(next, total);
    trade_queue_stats(q, &st);
    TT_ASSERT_INT(st.held, 0);
    TT_ASSERT_INT(st.bytes, 0);
    trade_queue_free(q);

    /* unbounded enough: nothing dropped, every entry once, in order */
    q = trade_queue_new(UINT64_MAX, 4096);
    for (unsigned k = 0; k < 300000; k++) put(q, k, 16, NULL);
    next = 0;
    tag = 1;
    while ((n = take(q, 512, tag, 16, ks)) > 0) {
        for (size_t i = 0; i < n; i++) TT_ASSERT_INT(ks[i], next++);
        tag += (unsigned)n;
        trade_queue_confirm(q, tag - 1, true, true);
    }
    TT_ASSERT_INT(next, 300000);
    trade_queue_free(q);
}

/* The loop and the publisher at once: every entry is delivered once or dropped, in order. */
struct race {
    struct trade_queue *q;
    unsigned total;
    atomic_bool done;
};

static void *producer(void *arg) {
    struct race *r = arg;
    for (unsigned k = 0; k < r->total; k++) put(r->q, k, 32, NULL);
    atomic_store(&r->done, true);
    return NULL;
}

static void test_threads(void) {
    struct race r = {.q = trade_queue_new(32 * 1000, 256), .total = 400000};
    pthread_t th;
    TT_ASSERT(pthread_create(&th, NULL, producer, &r) == 0);
    static char buf[256 * 32];
    uint64_t tag = 1, delivered = 0;
    long next = -1;
    bool requeue = false;
    for (;;) {
        bool done = atomic_load(&r.done); /* read before the take: a take after it finds whatever was put */
        size_t w, n = trade_queue_take(r.q, buf, sizeof buf, 256, tag, &w);
        if (!n) {
            if (done) break;
            continue;
        }
        tag += n;
        if ((requeue = !requeue) && tag % 7 == 0) {
            trade_queue_requeue_all(r.q); /* all of them come back, ahead */
            tag = 1;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            long k = strtol(buf + i * 32 + 1, NULL, 10);
            if (k <= next) TT_FAIL("out of order: %ld after %ld", k, next);
            next = k;
        }
        delivered += n;
        trade_queue_confirm(r.q, tag - 1, true, true);
    }
    pthread_join(th, NULL);
    struct trade_queue_stats st;
    trade_queue_stats(r.q, &st);
    TT_ASSERT_INT(st.held, 0);
    TT_ASSERT_INT(delivered + st.dropped, r.total);
    TT_ASSERT_INT(st.acked, delivered);
    TT_ASSERT_INT(next, r.total - 1); /* the newest is never dropped */
    trade_queue_free(r.q);
}

int main(void) {
    TT_RUN(test_order_and_ack);
    TT_RUN(test_take_limits);
    TT_RUN(test_byte_bound_drops_oldest);
    TT_RUN(test_inflight_not_dropped);
    TT_RUN(test_requeue_at_front);
    TT_RUN(test_big_counts);
    TT_RUN(test_threads);
    return tt_finish();
}
