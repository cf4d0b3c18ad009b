/* hotpath -- the per-frame cost of tickd's ingest path on one core, without sockets: a venue adapter's ws_parse
 * of a realistic frame, then merge_apply of every tick it yields (what daemon.c's ingest() does before the
 * sinks). Frames are prepared up front (prices walk, sequence numbers grow), so the loop measures tickd alone.
 *
 *   build/bench/hotpath [--venue binance|coinbase|kraken|okx] [--symbols 100] [--frames 2000000] [--jansson]
 *
 * --jansson turns the adapters' fast paths off (venue_fast_paths(false)): every frame is parsed by jansson, as
 * before the fast paths existed, so one binary shows both figures.
 *
 * Prints one line: frames/s, ns per frame, ticks accepted. Run it under `perf record -g` to profile the path. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tickd/merge.h"
#include "tickd/venue.h"

#define RING 4096 /* distinct frames cycled through: enough to defeat branch-predicting one frame */

static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One frame of the venue's streaming dialect for symbol i, as fakex sends it. */
static int make_frame(const char *venue, const struct venue_symbols *s, size_t i, uint64_t seq, char *out,
                      size_t cap) {
    const struct venue_names *nm = &s->list[i].names;
    const char *norm = s->list[i].norm;
    unsigned long long p = 3000000 + seq % 977, q = 100000 + seq % 31;
    if (strcmp(venue, "binance") == 0)
        return snprintf(out, cap,
                        "{\"stream\":\"%s\",\"data\":{\"u\":%llu,\"s\":\"%s\",\"b\":\"%llu.%02llu000000\","
                        "\"B\":\"%llu.12340000\",\"a\":\"%llu.%02llu000000\",\"A\":\"%llu.56780000\"}}",
                        nm->ws, (unsigned long long)seq, nm->rest, p / 100, p % 100, q, (p + 1) / 100,
                        (p + 1) % 100, q + 7);
    if (strcmp(venue, "coinbase") == 0)
        return snprintf(out, cap,
                        "{\"type\":\"ticker\",\"sequence\":%llu,\"product_id\":\"%s\",\"price\":\"%llu.%02llu\","
                        "\"open_24h\":\"30000.00\",\"volume_24h\":\"1000.00000000\",\"low_24h\":\"29000.00\","
                        "\"high_24h\":\"31000.00\",\"volume_30d\":\"30000.00000000\",\"best_bid\":\"%llu.%02llu\","
                        "\"best_bid_size\":\"%llu.00000000\",\"best_ask\":\"%llu.%02llu\",\"best_ask_size\":"
                        "\"%llu.00000000\",\"side\":\"buy\",\"time\":\"2024-05-01T12:00:00.%06lluZ\","
                        "\"trade_id\":%llu,\"last_size\":\"0.01000000\"}",
                        (unsigned long long)seq, norm, p / 100, p % 100, p / 100, p % 100, q, (p + 1) / 100,
                        (p + 1) % 100, q, (unsigned long long)(seq % 1000000), (unsigned long long)seq);
    if (strcmp(venue, "okx") == 0) /* bbo-tbt, the stream tickd subscribes to */
        return snprintf(out, cap,
                        "{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"%s\"},\"data\":[{\"asks\":[[\"%llu.%02llu\","
                        "\"%llu\",\"0\",\"2\"]],\"bids\":[[\"%llu.%02llu\",\"%llu\",\"0\",\"3\"]],\"ts\":\"%llu\","
                        "\"seqId\":%llu}]}",
                        norm, (p + 1) / 100, (p + 1) % 100, q, p / 100, p % 100, q, 1714564800000ULL + seq,
                        (unsigned long long)seq);
    /* kraken v2 ticker */
    return snprintf(out, cap,
                    "{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"%s\",\"bid\":%llu.%02llu,"
                    "\"bid_qty\":%llu.5,\"ask\":%llu.%02llu,\"ask_qty\":%llu.25,\"last\":%llu.%02llu,"
                    "\"volume\":1000.5,\"vwap\":30000.1,\"low\":29000.0,\"high\":31000.0,\"change\":10.5,"
                    "\"change_pct\":0.03,\"timestamp\":\"2024-05-01T12:%02llu:%02llu.%06lluZ\"}]}",
                    nm->ws, p / 100, p % 100 + 1, q, (p + 1) / 100, (p + 1) % 100 + 1, q, p / 100, p % 100 + 1,
                    (unsigned long long)(seq / 60000000 % 60), (unsigned long long)(seq / 1000000 % 60),
                    (unsigned long long)(seq % 1000000));
}

int main(int argc, char **argv) {
    const char *venue = "binance";
    size_t nsym = 100;
    long frames = 2000000;
    bool jansson_only = false;
    for (int i = 1; i < argc; i++) {
        const char *val = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--jansson") == 0) jansson_only = true;
        else if (strcmp(argv[i], "--venue") == 0) venue = argv[++i];
        else if (strcmp(argv[i], "--symbols") == 0) nsym = strtoul(val, NULL, 10), i++;
        else if (strcmp(argv[i], "--frames") == 0) frames = strtol(val, NULL, 10), i++;
    }
    venue_fast_paths(!jansson_only);
    const struct venue_ops *v = venue_find(venue);
    if (!v || nsym == 0) {
        fprintf(stderr, "usage: hotpath [--venue binance|coinbase|kraken|okx] [--symbols N] [--frames N] [--jansson]\n");
        return 2;
    }
    char **names = calloc(nsym, sizeof *names);
    for (size_t i = 0; i < nsym; i++) {
        names[i] = malloc(32);
        snprintf(names[i], 32, "S%05zu-USDT", i % 100000);
    }
    struct venue_symbols syms;
    if (venue_symbols_init(&syms, v, (const char *const *)names, nsym) < 0) return 1;
    static char ring[RING][1024];
    static size_t ring_len[RING];
    for (size_t k = 0; k < RING; k++)
        ring_len[k] = (size_t)make_frame(venue, &syms, k % nsym, 1000000 + k, ring[k], sizeof ring[k]);

    struct merge *m;
    if (merge_new(&m) < 0) return 1;
    struct tick ticks[8];
    long accepted = 0, other = 0;
    /* Sequence numbers must keep growing across laps of the ring, or the merge drops them as stale: each lap
     * rewrites the ring untimed, then parses it timed. Time is this thread's CPU time, so a busy machine
     * (other processes on the same cores) does not inflate the figure. */
    int64_t spent = 0;
    for (long done = 0; done < frames; done += RING) {
        for (size_t k = 0; k < RING; k++)
            ring_len[k] = (size_t)make_frame(venue, &syms, k % nsym, 1000000 + (uint64_t)(done + (long)k), ring[k],
                                             sizeof ring[k]);
        int64_t t0 = cpu_ns();
        for (size_t k = 0; k < RING; k++) {
            struct venue_out out;
            /* Received a millisecond per frame of the lap apart, so that every venue's event time (OKX's ts
             * is 2024-05-01 plus the frame's number in ms) lies within the bounds tick_event_time_bound keeps. */
            venue_out_init(&out, ticks, 8, 1714564800000000 + (1000000 + done) * 1000, 0);
            enum venue_msg kind = v->channels->ws_parse(ring[k], ring_len[k], &syms, &out);
            for (size_t i = 0; kind == VENUE_MSG_TICKS && i < out.n; i++) {
                struct merge_update up;
                if (merge_apply(m, &ticks[i], &up) == MERGE_ACCEPTED) accepted++;
                else other++;
            }
        }
        spent += cpu_ns() - t0;
    }
    frames = (frames + RING - 1) / RING * RING;
    double secs = (double)spent / 1e9;
    printf("hotpath: venue=%s%s symbols=%zu frames=%ld parse+merge=%.0f frames per CPU-second (%.0f ns/frame) accepted=%ld "
           "rejected=%ld\n",
           venue, jansson_only ? " (jansson only)" : "", nsym, frames, (double)frames / secs, (double)spent / (double)frames, accepted, other);
    merge_free(m);
    venue_symbols_free(&syms);
    for (size_t i = 0; i < nsym; i++) free(names[i]);
    free(names);
    return accepted > 0 ? 0 : 1;
}
