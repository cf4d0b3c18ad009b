/* redis_latency -- time from a frame's event time to the moment Redis applies tickd's write of it.
 *
 *   build/bench/redis_latency PORT SECONDS [SKIP_SECONDS]
 *
 * Reads Redis's MONITOR feed for SECONDS (after ignoring the first SKIP_SECONDS): every quote write of tickd
 * is an EVALSHA whose arguments hold the tick's event time (ARGV ts) and receive time, and MONITOR stamps each
 * command with Redis's own clock, the same wall clock fakex stamped the frame with (one machine). Prints
 *   frame_to_redis ...   (Redis apply time - event time)
 *   recv_to_redis ...    (Redis apply time - tickd's receive time)
 * MONITOR costs Redis some CPU, so these figures are if anything pessimistic. */
#define _GNU_SOURCE
#include <hiredis/hiredis.h>
#include <string.h>

#include "latency.h"

/* EVALSHA sha N keys.. "q"|"qb" order bid bid_qty ask ask_qty last ts seq recv ...: positions after the mode */
#define AFTER_MODE_TS 7
#define AFTER_MODE_RECV 9

/* The n-th double-quoted argument of a MONITOR line (after the "[db addr]" part): its text, or NULL. */
static const char *arg_at(const char *line, int n) {
    const char *p = strchr(line, ']');
    for (int i = 0; p && i <= n; i++) {
        p = strchr(p, '"');
        if (!p) return NULL;
        if (i == n) return p + 1;
        p = strchr(p + 1, '"'); /* tickd's arguments hold no quotes or escapes */
        if (p) p++;
    }
    return NULL;
}

/* The position of a quote write's mode argument ("q", or "qb" with the BBO), or -1 for other commands. */
static int quote_mode_at(const char *line) {
    const char *cmd = arg_at(line, 0), *nkeys = arg_at(line, 2);
    if (!cmd || strncmp(cmd, "EVALSHA\"", 8) != 0 || !nkeys) return -1;
    int at = 3 + atoi(nkeys);
    const char *mode = arg_at(line, at);
    return mode && (strncmp(mode, "q\"", 2) == 0 || strncmp(mode, "qb\"", 3) == 0) ? at : -1;
}

static int64_t arg_int(const char *line, int n) {
    const char *p = arg_at(line, n);
    return p ? strtoll(p, NULL, 10) : -1;
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
        int mode = m->type == REDIS_REPLY_STATUS ? quote_mode_at(m->str) : -1;
        if (mode > 0) {
            int64_t at = strtoll(m->str, NULL, 10) * 1000000 + strtoll(strchr(m->str, '.') + 1, NULL, 10);
            int64_t ts = arg_int(m->str, mode + AFTER_MODE_TS), rc = arg_int(m->str, mode + AFTER_MODE_RECV);
            if (at >= from && ts > 0) samples_add(&frame, at - ts);
            if (at >= from && rc > 0) samples_add(&recv, at - rc);
        }
        freeReplyObject(m);
    }
    samples_print(&frame, "frame_to_redis", seconds);
    samples_print(&recv, "recv_to_redis", seconds);
    redisFree(c);
    return frame.n ? 0 : 1;
}
