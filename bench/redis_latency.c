/* redis_latency -- time from a frame's event time to the moment Redis applies tickd's write of it.
 *
 *   build/bench/redis_latency PORT SECONDS [SKIP_SECONDS]
 *
 * Reads Redis's MONITOR feed for SECONDS (after ignoring the first SKIP_SECONDS): tickd writes quotes in
 * batches, EVALSHA calls whose arguments hold each tick's event time (ARGV ts) and receive time, and MONITOR stamps each
 * command with Redis's own clock, the same wall clock fakex stamped the frame with (one machine). Prints
 *   frame_to_redis ...   (Redis apply time - event time)
 *   recv_to_redis ...    (Redis apply time - tickd's receive time)
 * MONITOR costs Redis some CPU, so these figures are if anything pessimistic. */
#define _GNU_SOURCE
#include <hiredis/hiredis.h>
#include <string.h>

#include "latency.h"

/* A batch: EVALSHA sha N keys.. history, then per record "q" order bid bid_qty ask ask_qty last ts seq recv origin
 * venue, or "b" and nine BBO fields (redis.c's CAS_SCRIPT). Positions after a quote's "q": */
#define AFTER_MODE_TS 7
#define AFTER_MODE_RECV 9
#define QUOTE_ARGS 11
#define BBO_ARGS 9
#define MAX_ARGS 2048

/* Splits a MONITOR line's double-quoted arguments (after the "[db addr]" part) in place: tickd's arguments hold
 * no quotes or escapes. Returns how many. */
static int split_args(char *line, char **args, int max) {
    char *p = strchr(line, ']');
    int n = 0;
    while (p && n < max && (p = strchr(p, '"'))) {
        char *end = strchr(p + 1, '"');
        if (!end) break;
        *end = 0;
        args[n++] = p + 1;
        p = end + 1;
    }
    return n;
}

/* Adds the samples of every quote record of a batch line stamped `at`. */
static void add_batch(char *line, int64_t at, struct samples *frame, struct samples *recv) {
    static char *args[MAX_ARGS];
    int n = split_args(line, args, MAX_ARGS);
    if (n < 4 || strcmp(args[0], "EVALSHA") != 0) return;
    int i = 3 + atoi(args[2]) + 1; /* past the keys and the history length */
    while (i < n) {
        if (strcmp(args[i], "q") == 0 && i + QUOTE_ARGS < n) {
            int64_t ts = strtoll(args[i + AFTER_MODE_TS], NULL, 10), rc = strtoll(args[i + AFTER_MODE_RECV], NULL, 10);
            if (ts > 0) samples_add(frame, at - ts);
            if (rc > 0) samples_add(recv, at - rc);
            i += 1 + QUOTE_ARGS;
        } else if (strcmp(args[i], "b") == 0) {
            i += 1 + BBO_ARGS;
        } else {
            return; /* not a layout this probe knows */
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: redis_latency PORT SECONDS [SKIP_SECONDS]\n");
        return 64;
    }
    double seconds = atof(argv[2]), skip = argc > 3 ? atof(argv[3]) : 0;
    redisContext *c = redisConnect("127.0.0.1", atoi(argv[1]));
    if (!c || c->err) {
        fprintf(stderr, "redis_latency: cannot connect\n");
        return 2;
    }
    struct timeval tv = {.tv_sec = 1};
    redisSetTimeout(c, tv);
    redisReply *r = redisCommand(c, "MONITOR");
    if (!r) return 2;
    freeReplyObject(r);
    fprintf(stderr, "ready\n");
    struct samples frame = {0}, recv = {0};
    int64_t start = wall_us(), from = start + (int64_t)(skip * 1e6), until = from + (int64_t)(seconds * 1e6);
    while (wall_us() < until) {
        void *reply = NULL;
        if (redisGetReply(c, &reply) != REDIS_OK) {
            if (c->err == REDIS_ERR_IO) { /* quiet second: keep waiting */
                c->err = 0;
                c->errstr[0] = 0;
                continue;
            }
            break;
        }
        redisReply *m = reply;
        if (m->type == REDIS_REPLY_STATUS && strchr(m->str, '.')) {
            int64_t at = strtoll(m->str, NULL, 10) * 1000000 + strtoll(strchr(m->str, '.') + 1, NULL, 10);
            if (at >= from) add_batch(m->str, at, &frame, &recv);
        }
        freeReplyObject(m);
    }
    samples_print(&frame, "frame_to_redis", seconds);
    samples_print(&recv, "recv_to_redis", seconds);
    redisFree(c);
    return frame.n ? 0 : 1;
}
