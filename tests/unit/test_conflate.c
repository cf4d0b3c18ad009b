/* test_conflate.c -- the conflating buffer: replace, confirm, nack/requeue, the full-buffer rule, puts by id
 * beside puts by name, and a producer and a consumer thread hammering it at once (the way the loop and the
 * publisher use it). Also the two indexes the sinks share: instr_map and id_index. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tickd/conflate.h"
#include "tickd/id_index.h"
#include "tickd/instr_map.h"
#include "tt.h"

static struct tick mk(const char *symbol, uint64_t seq) {
    struct tick t = {.venue = "binance", .has_seq = true, .seq = seq};
    snprintf(t.symbol, sizeof t.symbol, "%s", symbol);
    snprintf(t.bid, sizeof t.bid, "%llu.5", (unsigned long long)seq);
    return t;
}

/* The map both sinks use: every name length, names that differ only in where venue ends and symbol begins,
 * growth, removal during a walk, and names longer than any key held. */
struct named {
    struct instr_node node;
    int id;
};

static void test_instr_map_keys(void) {
    struct instr_map m;
    TT_ASSERT_INT(instr_map_init(&m, 1), 0);
    static struct named recs[3000];
    int n = 0;
    char venue[TICK_VENUE_MAX], symbol[TICK_SYMBOL_MAX];
    for (int vl = 1; vl < TICK_VENUE_MAX; vl++)
        for (int sl = 1; sl < TICK_SYMBOL_MAX; sl += 3) {
            for (int k = 0; k < 5; k++, n++) {
                memset(venue, 'a' + k, (size_t)vl), venue[vl] = 0;
                memset(symbol, 'A' + k, (size_t)sl), symbol[sl] = 0;
                recs[n].id = n;
                TT_ASSERT(instr_map_find(&m, venue, symbol) == NULL);
                instr_map_insert(&m, &recs[n].node, venue, symbol);
            }
        }
    /* ("ab","c") and ("a","bc") are different instruments */
    instr_map_insert(&m, &recs[n].node, "ab", "C"), recs[n].id = n, n++;
    TT_ASSERT(instr_map_find(&m, "a", "bC") == NULL);
    instr_map_insert(&m, &recs[n].node, "a", "bC"), recs[n].id = n, n++;
    TT_ASSERT_INT(((struct named *)instr_map_find(&m, "ab", "C"))->id, n - 2);
    TT_ASSERT_INT(((struct named *)instr_map_find(&m, "a", "bC"))->id, n - 1);
    TT_ASSERT_INT(m.count, n);
    for (int i = 0; i < n; i++)
        TT_ASSERT(instr_map_find(&m, recs[i].node.venue, recs[i].node.symbol) == &recs[i].node);
    char long_symbol[64];
    memset(long_symbol, 'A', sizeof long_symbol - 1), long_symbol[63] = 0;
    TT_ASSERT(instr_map_find(&m, "a", long_symbol) == NULL);
    /* remove every other record during a walk */
    size_t cursor = 0;
    struct instr_node *node, *next = NULL;
    int walked = 0;
    while ((node = instr_map_next(&m, &cursor, &next))) {
        walked++;
        if (((struct named *)node)->id % 2) instr_map_remove(&m, node);
    }
    TT_ASSERT_INT(walked, n);
    for (int i = 0; i < n; i++) {
        struct instr_node *found = instr_map_find(&m, recs[i].node.venue, recs[i].node.symbol);
        TT_ASSERT(i % 2 ? found == NULL : found == &recs[i].node);
    }
    instr_map_destroy(&m);
}

/* Names like the benchmark's and the exchanges' (differing in one or two bytes) spread over the buckets. */
static void test_instr_map_spreads_similar_names(void) {
    struct instr_map m;
    TT_ASSERT_INT(instr_map_init(&m, 16), 0);
    enum { N = 4096 };
    static struct named recs[N];
    for (int i = 0; i < N; i++) {
        char symbol[TICK_SYMBOL_MAX];
        if (i % 2) snprintf(symbol, sizeof symbol, "S%05d-USDT", i / 2);
        else snprintf(symbol, sizeof symbol, "%c%c%c-USD", 'A' + i / 2 % 26, 'A' + i / 52 % 26, 'A' + i / 1352 % 26);
        instr_map_insert(&m, &recs[i].node, i % 4 < 2 ? "binance" : "okx", symbol);
    }
    size_t longest = 0, used = 0;
    for (size_t b = 0; b < m.nbuckets; b++) {
        size_t len = 0;
        for (struct instr_node *n = m.buckets[b]; n; n = n->next) len++;
        if (len > longest) longest = len;
        used += len > 0;
    }
    fprintf(stderr, "    instr_map: %d names in %zu buckets, %zu used, longest chain %zu\n", N, m.nbuckets, used,
            longest);
    TT_ASSERT(longest <= 8);           /* a uniform hash: ~6 at this load */
    TT_ASSERT(used * 2 >= m.nbuckets); /* ~63% expected */
    instr_map_destroy(&m);
}

/* Grown on demand, NULL where nothing was stored, and an absurd id refused rather than allocated. */
static void test_id_index_grows(void) {
    struct id_index x = {0};
    static int items[5000];
    TT_ASSERT(id_index_get(&x, 0) == NULL);
    TT_ASSERT_INT(id_index_set(&x, 7, NULL), 0); /* forgetting what was never stored allocates nothing */
    TT_ASSERT_INT(x.cap, 0);
    for (uint32_t id = 0; id < 5000; id += 2) TT_ASSERT_INT(id_index_set(&x, id, &items[id]), 0);
    for (uint32_t id = 0; id < 5000; id++) TT_ASSERT(id_index_get(&x, id) == (id % 2 ? NULL : &items[id]));
    TT_ASSERT(id_index_get(&x, 1u << 30) == NULL);
    TT_ASSERT_INT(id_index_set(&x, 4, NULL), 0);
    TT_ASSERT(id_index_get(&x, 4) == NULL);
    TT_ASSERT_INT(id_index_set(&x, ID_INDEX_MAX, &items[0]), -ERANGE);
    TT_ASSERT_INT(id_index_set(&x, UINT32_MAX, &items[0]), -ERANGE);
    id_index_free(&x);
    TT_ASSERT(id_index_get(&x, 0) == NULL);
}

/* A put by id and a put by name reach the same record, whichever came first; once the record is confirmed
 * and freed, its id is forgotten and the next put by id makes a new one. */
static void test_put_by_id_and_by_name_meet(void) {
    struct conflate *c = conflate_new(8, 16);
    struct tick a1 = mk("A", 1), a2 = mk("A", 2), b1 = mk("B", 1), b2 = mk("B", 2), out[4];
    TT_ASSERT_INT(conflate_put(c, &a1), CONFLATE_WAKE);
    TT_ASSERT_INT(conflate_put_id(c, 0, &a2), CONFLATE_REPLACED);
    TT_ASSERT_INT(conflate_put_id(c, 1, &b1), CONFLATE_ADDED);
    TT_ASSERT_INT(conflate_put(c, &b2), CONFLATE_REPLACED);
    struct conflate_stats st;
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.depth, 2);
    TT_ASSERT_INT(st.replaced, 2);
    TT_ASSERT_INT(conflate_take(c, out, 4, 1), 2);
    TT_ASSERT_STR(out[0].symbol, "A");
    TT_ASSERT_INT(out[0].seq, 2);
    TT_ASSERT_STR(out[1].symbol, "B");
    TT_ASSERT_INT(out[1].seq, 2);
    TT_ASSERT_INT(conflate_confirm(c, 2, true, true), 2); /* both freed */
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.depth, 0);
    struct tick b3 = mk("B", 3);
    TT_ASSERT_INT(conflate_put_id(c, 1, &b3), CONFLATE_WAKE); /* a new record, found again by id below */
    struct tick b4 = mk("B", 4);
    TT_ASSERT_INT(conflate_put_id(c, 1, &b4), CONFLATE_REPLACED);
    TT_ASSERT_INT(conflate_take(c, out, 4, 3), 1);
    TT_ASSERT_STR(out[0].symbol, "B");
    TT_ASSERT_INT(out[0].seq, 4);
    conflate_free(c);
}

/* Many instruments by id: each id keeps its own record, and the full-buffer rule holds as by name. */
static void test_put_by_id_many_instruments(void) {
    enum { N = 3000, LIMIT = 2000 };
    struct conflate *c = conflate_new(LIMIT, N);
    char name[16];
    for (int round = 1; round <= 2; round++)
        for (uint32_t id = 0; id < N; id++) {
            snprintf(name, sizeof name, "S%u", id);
            struct tick t = mk(name, (uint64_t)round);
            enum conflate_put_result want = id >= LIMIT ? CONFLATE_FULL
                                            : round == 2 ? CONFLATE_REPLACED
                                            : id == 0    ? CONFLATE_WAKE
                                                         : CONFLATE_ADDED;
            TT_ASSERT_INT(conflate_put_id(c, id, &t), want);
        }
    struct conflate_stats st;
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.depth, LIMIT);
    TT_ASSERT_INT(st.dropped, 2 * (N - LIMIT));
    static struct tick out[N];
    TT_ASSERT_INT(conflate_take(c, out, N, 1), LIMIT);
    for (int i = 0; i < LIMIT; i++) {
        snprintf(name, sizeof name, "S%d", i);
        TT_ASSERT_STR(out[i].symbol, name);
        TT_ASSERT_INT(out[i].seq, 2);
    }
    conflate_free(c);
}

static void test_put_replaces_waiting(void) {
    struct conflate *c = conflate_new(8, 16);
    struct tick a1 = mk("A", 1), a2 = mk("A", 2), b1 = mk("B", 1), out[4];
    TT_ASSERT_INT(conflate_put(c, &a1), CONFLATE_WAKE);
    TT_ASSERT_INT(conflate_put(c, &b1), CONFLATE_ADDED);
    TT_ASSERT_INT(conflate_put(c, &a2), CONFLATE_REPLACED);
    TT_ASSERT_INT(conflate_take(c, out, 4, 1), 2);
    TT_ASSERT_STR(out[0].symbol, "A"); /* A keeps its place in the queue, with its newest tick */
    TT_ASSERT_INT(out[0].seq, 2);
    TT_ASSERT_STR(out[1].symbol, "B");
    struct conflate_stats st;
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.depth, 2);
    TT_ASSERT_INT(st.inflight, 2);
    conflate_confirm(c, 2, true, true);
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.depth, 0);
    TT_ASSERT_INT(st.replaced, 1);
    conflate_free(c);
}

static void test_nack_requeues_unless_superseded(void) {
    struct conflate *c = conflate_new(8, 16);
    struct tick a1 = mk("A", 1), b1 = mk("B", 1), b2 = mk("B", 2), out[4];
    conflate_put(c, &a1);
    conflate_put(c, &b1);
    TT_ASSERT_INT(conflate_take(c, out, 4, 10), 2); /* tags 10 (A) and 11 (B) */
    conflate_put(c, &b2);                           /* B superseded while in flight */
    conflate_confirm(c, 11, true, false);           /* both nacked */
    TT_ASSERT_INT(conflate_take(c, out, 4, 12), 2);
    TT_ASSERT_STR(out[0].symbol, "B"); /* B2 was waiting first, A1 came back behind it */
    TT_ASSERT_INT(out[0].seq, 2);
    TT_ASSERT_STR(out[1].symbol, "A");
    TT_ASSERT_INT(out[1].seq, 1);
    struct conflate_stats st;
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.requeued, 1);
    conflate_confirm(c, 13, false, true); /* single ack of A only */
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.depth, 1);
    TT_ASSERT_INT(st.inflight, 1);
    conflate_requeue_all(c); /* the channel died with B2 unconfirmed */
    TT_ASSERT_INT(conflate_take(c, out, 4, 1), 1);
    TT_ASSERT_INT(out[0].seq, 2);
    conflate_confirm(c, 1, false, true);
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.depth, 0);
    conflate_free(c);
}

static void test_older_tag_ack_keeps_newer_inflight(void) {
    struct conflate *c = conflate_new(8, 16);
    struct tick a1 = mk("A", 1), a2 = mk("A", 2), out[2];
    conflate_put(c, &a1);
    TT_ASSERT_INT(conflate_take(c, out, 2, 1), 1);
    conflate_put(c, &a2);
    TT_ASSERT_INT(conflate_take(c, out, 2, 2), 1);
    conflate_confirm(c, 1, false, true); /* acks A1: A2 still in flight */
    conflate_requeue_all(c);
    TT_ASSERT_INT(conflate_take(c, out, 2, 1), 1);
    TT_ASSERT_INT(out[0].seq, 2);
    conflate_free(c);
}

static void test_full_refuses_new_instrument_only(void) {
    struct conflate *c = conflate_new(2, 16);
    struct tick a = mk("A", 1), b = mk("B", 1), x = mk("X", 1), a2 = mk("A", 2), out[4];
    conflate_put(c, &a);
    conflate_put(c, &b);
    TT_ASSERT_INT(conflate_put(c, &x), CONFLATE_FULL);
    TT_ASSERT_INT(conflate_put(c, &a2), CONFLATE_REPLACED); /* a held instrument always takes its newest */
    struct conflate_stats st;
    conflate_stats(c, &st);
    TT_ASSERT_INT(st.dropped, 1);
    TT_ASSERT_INT(st.depth, 2);
    TT_ASSERT_INT(conflate_take(c, out, 4, 1), 2);
    conflate_confirm(c, 2, true, true);
    TT_ASSERT_INT(conflate_put(c, &x), CONFLATE_WAKE); /* room again once confirmed */
    conflate_free(c);
}

static void test_inflight_window_bounds_take(void) {
    struct conflate *c = conflate_new(8, 2);
    struct tick out[8];
    for (int i = 0; i < 5; i++) {
        struct tick t = mk((const char *[]){"A", "B", "C", "D", "E"}[i], 1);
        conflate_put(c, &t);
    }
    TT_ASSERT_INT(conflate_take(c, out, 8, 1), 2);
    TT_ASSERT_INT(conflate_take(c, out, 8, 3), 0);
    conflate_confirm(c, 1, false, true);
    TT_ASSERT_INT(conflate_take(c, out, 8, 3), 1);
    conflate_free(c);
}

/* Producer: N instruments, seq 1..ROUNDS each. Consumer: takes, acks some, nacks others; every instrument
 * must end confirmed at its last seq, and per instrument the confirmed seqs never go down. */
#define THREADS_INSTR 50
#define THREADS_ROUNDS 4000

struct shared {
    struct conflate *c;
    volatile int producer_done;
};

static void *producer(void *arg) {
    struct shared *sh = arg;
    char name[16];
    for (uint64_t r = 1; r <= THREADS_ROUNDS; r++)
        for (int i = 0; i < THREADS_INSTR; i++) {
            snprintf(name, sizeof name, "S%d", i);
            struct tick t = mk(name, r);
            /* By id and by name in turn: records are freed and made again by the consumer's acks meanwhile. */
            while ((r % 2 ? conflate_put_id(sh->c, (uint32_t)i, &t) : conflate_put(sh->c, &t)) == CONFLATE_FULL) {
            }
        }
    __atomic_store_n(&sh->producer_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_threads_producer_consumer(void) {
    struct shared sh = {.c = conflate_new(THREADS_INSTR, 64)};
    pthread_t th;
    TT_ASSERT(pthread_create(&th, NULL, producer, &sh) == 0);
    uint64_t last_confirmed[THREADS_INSTR] = {0}, tag = 1, taken = 0, batches = 0;
    struct tick batch[16];
    uint64_t seqs[16];
    int idx[16];
    for (;;) {
        int done = __atomic_load_n(&sh.producer_done, __ATOMIC_ACQUIRE);
        size_t n = conflate_take(sh.c, batch, 16, tag);
        for (size_t i = 0; i < n; i++) {
            idx[i] = atoi(batch[i].symbol + 1);
            seqs[i] = batch[i].seq;
        }
        /* Every 7th batch is nacked (as a broker might); the others acked, one at a time. Counted by batches,
         * not by tag: once the producer is done, a batch of 7 or 14 requeued at a tag divisible by 7 would
         * start the next one at such a tag again, and be nacked forever. */
        bool nack = n && (++batches % 7 == 0);
        for (size_t i = 0; i < n; i++) {
            conflate_confirm(sh.c, tag + i, false, !nack);
            if (!nack) {
                TT_ASSERT(seqs[i] >= last_confirmed[idx[i]]);
                last_confirmed[idx[i]] = seqs[i];
            }
        }
        tag += n;
        taken += n;
        struct conflate_stats st;
        conflate_stats(sh.c, &st);
        TT_ASSERT(st.depth <= THREADS_INSTR);
        if (done && n == 0 && st.depth == 0) break;
    }
    pthread_join(th, NULL);
    for (int i = 0; i < THREADS_INSTR; i++) TT_ASSERT_INT(last_confirmed[i], THREADS_ROUNDS);
    fprintf(stderr, "    threads: %llu ticks published for %d produced\n", (unsigned long long)taken,
            THREADS_INSTR * THREADS_ROUNDS);
    conflate_free(sh.c);
}

int main(void) {
    TT_RUN(test_instr_map_keys);
    TT_RUN(test_instr_map_spreads_similar_names);
    TT_RUN(test_id_index_grows);
    TT_RUN(test_put_replaces_waiting);
    TT_RUN(test_put_by_id_and_by_name_meet);
    TT_RUN(test_put_by_id_many_instruments);
    TT_RUN(test_nack_requeues_unless_superseded);
    TT_RUN(test_older_tag_ack_keeps_newer_inflight);
    TT_RUN(test_full_refuses_new_instrument_only);
    TT_RUN(test_inflight_window_bounds_take);
    TT_RUN(test_threads_producer_consumer);
    return tt_finish();
}
