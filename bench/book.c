/* book -- what keeping L2 books costs tickd on one core, without sockets.
 *
 *   build/bench/book [--venue binance|coinbase|kraken|okx] [--symbols 100] [--frames 500000] [--changes 10]
 *                    [--jansson]
 *   build/bench/book --memory [--books 1000] [--levels 1000]
 *
 * Apply (the default): the venue's book channel parses a realistic diff frame (`--changes` level changes, as the
 * venue sends them, with its sequence and, for Kraken and OKX, its checksum of the book after the diff) and the
 * sync state machine applies it (book_sync_apply: sequence check, levels, checksum, crossed check) -- what a
 * stream task does per frame before the sinks. Frames are made up front from shadow books (prices on a grid
 * around a fixed mid, inserts, size changes and removals, never crossing), so the timed loop is tickd's alone.
 * Prints level changes applied per CPU-second and ns per change; any resync is a failure of the bench. --jansson
 * turns the adapters' fast paths off (venue_fast_paths(false)): every frame is parsed by jansson, as before the
 * book channels had one, so one binary shows both figures.
 *
 * Memory: `--books` books of `--levels` levels a side held by one book_sync (as a connection holds them), and
 * the resident set size it added. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tickd/book_sync.h"
#include "tickd/venue.h"

#define RING 2048
#define FRAME_MAX 8192
#define MID 3000000ULL /* cents: 30000.00 */

static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Decimal text of v / 10^dp, trailing fraction zeros dropped (the shortest form, as Kraken's numbers read). */
static void cents_text(unsigned long long v, int dp, char *out, size_t cap) {
    unsigned long long scale = 1;
    for (int i = 0; i < dp; i++) scale *= 10;
    int n = snprintf(out, cap, "%llu.%0*llu", v / scale, dp, v % scale);
    while (n > 0 && out[n - 1] == '0') out[--n] = 0;
    if (n > 0 && out[n - 1] == '.') out[--n] = 0;
}

struct gen {
    const char *venue;
    const struct venue_channel *ch;
    const struct venue_symbols *syms;
    struct book *shadow;   /* per symbol: the book after every frame made so far */
    uint64_t *seq;         /* per symbol: the last update id */
    const struct book_precision *prec;
    unsigned levels;
};

/* One diff frame for symbol i with k changes; the shadow book takes them. */
static int make_frame(struct gen *g, size_t i, int k, int64_t ms, char *out, size_t cap) {
    struct book *b = &g->shadow[i];
    char bids[FRAME_MAX / 2], asks[FRAME_MAX / 2];
    size_t nb = 0, na = 0;
    bids[0] = asks[0] = 0;
    for (int c = 0; c < k; c++) {
        int side = (int)(next_rand() & 1);
        unsigned j = (unsigned)(next_rand() % (2 * g->levels));
        unsigned long long px = side == BOOK_BID ? MID - 1 - j : MID + 1 + j;
        char p[32], q[32];
        cents_text(px, 2, p, sizeof p);
        if (next_rand() % 5 == 0) snprintf(q, sizeof q, "0");
        else cents_text(1 + next_rand() % 99999, 3, q, sizeof q);
        book_set(b, (enum book_side)side, p, strlen(p), q, strlen(q));
        char *dst = side == BOOK_BID ? bids : asks;
        size_t *len = side == BOOK_BID ? &nb : &na;
        const char *sep = *len ? "," : "";
        if (strcmp(g->venue, "kraken") == 0)
            *len += (size_t)snprintf(dst + *len, sizeof bids - *len, "%s{\"price\":%s,\"qty\":%s}", sep, p, q);
        else if (strcmp(g->venue, "okx") == 0)
            *len += (size_t)snprintf(dst + *len, sizeof bids - *len, "%s[\"%s\",\"%s\",\"0\",\"1\"]", sep, p, q);
        else if (strcmp(g->venue, "coinbase") == 0)
            *len += (size_t)snprintf(dst + *len, sizeof bids - *len, "%s[\"%s\",\"%s\",\"%s\"]", sep,
                                     side == BOOK_BID ? "buy" : "sell", p, q);
        else
            *len += (size_t)snprintf(dst + *len, sizeof bids - *len, "%s[\"%s\",\"%s\"]", sep, p, q);
    }
    uint64_t first = g->seq[i] + 1, last = g->seq[i] + (uint64_t)k;
    uint32_t sum = 0;
    if (g->ch->book_checksum) g->ch->book_checksum(b, &g->prec[i], &sum);
    const struct venue_names *nm = &g->syms->list[i].names;
    const char *norm = g->syms->list[i].norm;
    int n;
    if (strcmp(g->venue, "binance") == 0)
        n = snprintf(out, cap, "{\"stream\":\"%s@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":%lld,\"s\":\"%s\","
                     "\"U\":%llu,\"u\":%llu,\"b\":[%s],\"a\":[%s]}}", nm->ws, (long long)ms, nm->rest,
                     (unsigned long long)first, (unsigned long long)last, bids, asks);
    else if (strcmp(g->venue, "okx") == 0)
        n = snprintf(out, cap, "{\"arg\":{\"channel\":\"books\",\"instId\":\"%s\"},\"action\":\"update\",\"data\":[{"
                     "\"asks\":[%s],\"bids\":[%s],\"ts\":\"%lld\",\"checksum\":%d,\"prevSeqId\":%llu,\"seqId\":%llu}]}",
                     norm, asks, bids, (long long)ms, (int32_t)sum, (unsigned long long)g->seq[i],
                     (unsigned long long)last);
    else if (strcmp(g->venue, "kraken") == 0)
        n = snprintf(out, cap, "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"%s\",\"bids\":[%s],"
                     "\"asks\":[%s],\"checksum\":%u,\"timestamp\":\"2024-05-01T12:00:00.%06lldZ\"}]}", nm->ws, bids,
                     asks, sum, (long long)(ms % 1000) * 1000);
    else {
        char changes[FRAME_MAX];
        snprintf(changes, sizeof changes, "%s%s%s", bids, nb && na ? "," : "", asks);
        n = snprintf(out, cap, "{\"type\":\"l2update\",\"product_id\":\"%s\",\"time\":\"2024-05-01T12:00:00.%06lldZ\","
                     "\"changes\":[%s]}", norm, (long long)(ms % 1000) * 1000, changes);
    }
    g->seq[i] = last;
    return n;
}

/* The symbol's book as a snapshot update, straight from the shadow (the bench times diffs, not snapshots). */
static void load_snapshot(struct gen *g, struct book_sync *bs, size_t i, int64_t recv_us) {
    struct book *b = &g->shadow[i];
    size_t n = (size_t)b->side[0].n + b->side[1].n, k = 0;
    struct book_change *c = calloc(n ? n : 1, sizeof *c);
    for (int s = 0; s < 2; s++)
        for (uint32_t j = 0; j < b->side[s].n; j++, k++) {
            memcpy(c[k].price, b->side[s].lv[j].price, BOOK_TEXT_MAX);
            memcpy(c[k].qty, b->side[s].lv[j].qty, BOOK_TEXT_MAX);
            c[k].side = (uint8_t)s;
        }
    struct book_update u = {.symbol = (int)i, .kind = BOOK_UPDATE_SNAPSHOT, .seq = g->seq[i], .has_seq = true,
                            .n_changes = n};
    enum book_cause cause;
    book_sync_apply(bs, &u, c, recv_us, &cause);
    free(c);
}

static int run_memory(unsigned books, unsigned levels) {
    const struct venue_channel *ch = venue_channel_find(venue_find("binance"), "book");
    if (!ch) return 1;
    long before = rss_kib();
    struct book_sync bs;
    if (book_sync_init(&bs, ch, 0, books, levels, NULL) < 0) return 1;
    for (unsigned i = 0; i < books; i++) {
        bs.e[i].book.max_levels = levels;
        for (unsigned j = 0; j < levels; j++) {
            char p[32], q[32];
            cents_text(MID - 1 - j, 2, p, sizeof p);
            cents_text(1000 + j, 8, q, sizeof q);
            book_set(&bs.e[i].book, BOOK_BID, p, strlen(p), "1.25000000", 10);
            cents_text(MID + 1 + j, 2, p, sizeof p);
            book_set(&bs.e[i].book, BOOK_ASK, p, strlen(p), q, strlen(q));
        }
    }
    long after = rss_kib();
    printf("book memory: books=%u levels_per_side=%u rss_added=%.1f MiB (%.1f bytes per level)\n", books, levels,
           (double)(after - before) / 1024.0, (double)(after - before) * 1024.0 / ((double)books * levels * 2));
    book_sync_free(&bs);
    return 0;
}

int main(int argc, char **argv) {
    const char *venue = "binance";
    size_t nsym = 100;
    long frames = 500000;
    int changes = 10;
    bool memory = false, jansson = false;
    unsigned books = 1000, levels = 1000;
    for (int i = 1; i < argc; i++) {
        const char *val = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--memory") == 0) memory = true;
        else if (strcmp(argv[i], "--jansson") == 0) jansson = true;
        else if (strcmp(argv[i], "--venue") == 0) venue = argv[++i];
        else if (strcmp(argv[i], "--symbols") == 0) nsym = strtoul(val, NULL, 10), i++;
        else if (strcmp(argv[i], "--frames") == 0) frames = strtol(val, NULL, 10), i++;
        else if (strcmp(argv[i], "--changes") == 0) changes = atoi(val), i++;
        else if (strcmp(argv[i], "--books") == 0) books = (unsigned)strtoul(val, NULL, 10), i++;
        else if (strcmp(argv[i], "--levels") == 0) levels = (unsigned)strtoul(val, NULL, 10), i++;
    }
    if (memory) return run_memory(books, levels);
    venue_fast_paths(!jansson);
    const struct venue_ops *v = venue_find(venue);
    const struct venue_channel *ch = v ? venue_channel_find(v, "book") : NULL;
    if (!ch || !nsym || changes < 1 || changes > 100) {
        fprintf(stderr, "usage: book [--venue binance|coinbase|kraken|okx] [--symbols N] [--frames N] [--changes 1-100]"
                        " [--jansson]\n"
                        "       book --memory [--books N] [--levels N]\n");
        return 2;
    }
    char **names = calloc(nsym, sizeof *names);
    for (size_t i = 0; i < nsym; i++) {
        names[i] = malloc(32);
        snprintf(names[i], 32, "S%05zu-USDT", i % 100000);
    }
    struct venue_symbols syms;
    if (venue_symbols_init(&syms, v, (const char *const *)names, nsym) < 0) return 1;
    syms.book_depth = 20;
    struct book_precision *prec = calloc(nsym, sizeof *prec);
    for (size_t i = 0; i < nsym; i++) prec[i] = (struct book_precision){.price_decimals = 2, .qty_decimals = 8, .known = true};
    struct book_sync bs;
    if (book_sync_init(&bs, ch, 0, nsym, 20, prec) < 0) return 1;
    struct gen g = {.venue = venue, .ch = ch, .syms = &syms, .prec = prec, .levels = bs.levels < 50 ? bs.levels : 50};
    g.shadow = calloc(nsym, sizeof *g.shadow);
    g.seq = calloc(nsym, sizeof *g.seq);
    int64_t recv_us = 1714564800000000LL;
    for (size_t i = 0; i < nsym; i++) {
        book_init(&g.shadow[i], bs.levels);
        g.seq[i] = 1000;
        char frame[FRAME_MAX];
        for (int k = 0; k < 20; k++) make_frame(&g, i, 20, 1714564800000, frame, sizeof frame); /* fill it */
        load_snapshot(&g, &bs, i, recv_us);
    }
    static char ring[RING][FRAME_MAX];
    static size_t ring_len[RING];
    struct book_update updates[4];
    struct book_change *chg = calloc(1024, sizeof *chg);
    struct tick ticks[4];
    long applied = 0, other = 0;
    int64_t spent = 0;
    uint64_t changes_before = bs.counters.level_changes;
    for (long done = 0; done < frames; done += RING) {
        for (size_t k = 0; k < RING; k++) /* untimed: the next lap's frames */
            ring_len[k] = (size_t)make_frame(&g, (size_t)(done + (long)k) % nsym, changes,
                                             1714564800000 + (done + (long)k) / 1000, ring[k], sizeof ring[k]);
        int64_t t0 = cpu_ns();
        for (size_t k = 0; k < RING; k++) {
            struct venue_out out;
            venue_out_init(&out, ticks, 4, recv_us + (done + (long)k) * 10, 0);
            venue_out_books(&out, updates, 4, chg, 1024);
            enum venue_msg kind = ch->ws_parse(ring[k], ring_len[k], &syms, &out);
            for (size_t u = 0; kind == VENUE_MSG_TICKS && u < out.n_books; u++) {
                enum book_cause cause;
                if (book_sync_apply(&bs, &updates[u], chg, out.recv_us, &cause) == BOOK_APPLIED) applied++;
                else other++;
            }
            if (kind != VENUE_MSG_TICKS) other++;
        }
        spent += cpu_ns() - t0;
    }
    frames = (frames + RING - 1) / RING * RING;
    uint64_t level_changes = bs.counters.level_changes - changes_before;
    uint64_t resyncs = 0;
    for (int c = 0; c < BOOK_CAUSES; c++) resyncs += bs.counters.resyncs[c];
    double secs = (double)spent / 1e9;
    printf("book apply: venue=%s%s symbols=%zu frames=%ld changes_per_frame=%d parse+apply=%.0f level changes per "
           "CPU-second (%.0f ns/change, %.0f ns/frame) applied=%ld other=%ld resyncs=%llu unchecked=%llu\n",
           venue, jansson ? " (jansson)" : "", nsym, frames, changes, (double)level_changes / secs, (double)spent / (double)level_changes,
           (double)spent / (double)frames, applied, other, (unsigned long long)resyncs,
           (unsigned long long)bs.counters.checksums_unchecked);
    book_sync_free(&bs);
    for (size_t i = 0; i < nsym; i++) {
        book_free(&g.shadow[i]);
        free(names[i]);
    }
    free(g.shadow);
    free(g.seq);
    free(names);
    free(prec);
    free(chg);
    venue_symbols_free(&syms);
    return resyncs || other ? 1 : 0;
}
