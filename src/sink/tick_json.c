/* tick_json.c -- what both sinks share: tick validation, the JSON body, the reconnect backoff. See sink.h. */
#include "tickd/sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool field_ok(const char *s, size_t size, const char *allowed, bool may_be_empty) {
    const char *end = memchr(s, '\0', size);
    if (!end || (end == s && !may_be_empty)) return false;
    return strspn(s, allowed) == (size_t)(end - s);
}

#define DIGITS "0123456789"
#define DECIMAL_CHARS DIGITS ".eE+-"

bool sink_venue_ok(const char *s, size_t size) {
    return field_ok(s, size, DIGITS "abcdefghijklmnopqrstuvwxyz_-", false);
}

bool sink_symbol_ok(const char *s, size_t size) {
    return field_ok(s, size, DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-", false);
}

bool sink_decimal_ok(const char *s, size_t size) {
    return field_ok(s, size, DECIMAL_CHARS, true);
}

const char *sink_tick_invalid(const struct tick *t) {
    if (!sink_venue_ok(t->venue, sizeof t->venue)) return "bad venue";
    if (!sink_symbol_ok(t->symbol, sizeof t->symbol)) return "bad symbol";
    const char *decimals[] = {t->bid, t->bid_qty, t->ask, t->ask_qty, t->last};
    for (size_t i = 0; i < sizeof decimals / sizeof decimals[0]; i++)
        if (!sink_decimal_ok(decimals[i], TICK_DECIMAL_MAX)) return "bad decimal";
    if (t->origin != TICK_ORIGIN_STREAM && t->origin != TICK_ORIGIN_REST) return "bad origin";
    return NULL;
}

const char *sink_origin_name(enum tick_origin origin) {
    return origin == TICK_ORIGIN_REST ? "rest" : "stream";
}

int sink_tick_json(const struct tick *t, char *out, size_t outlen) {
    /* Every string field passed sink_tick_invalid, so none needs escaping. */
    char last[TICK_DECIMAL_MAX + 2] = "null", seq[24] = "null";
    if (t->last[0]) snprintf(last, sizeof last, "\"%s\"", t->last);
    if (t->has_seq) snprintf(seq, sizeof seq, "%" PRIu64, t->seq);
    int n = snprintf(out, outlen,
                     "{\"venue\":\"%s\",\"symbol\":\"%s\",\"bid\":\"%s\",\"bid_qty\":\"%s\",\"ask\":\"%s\","
                     "\"ask_qty\":\"%s\",\"last\":%s,\"event_us\":%" PRId64 ",\"seq\":%s,\"recv_us\":%" PRId64
                     ",\"sent_us\":%" PRId64 ",\"origin\":\"%s\"}",
                     t->venue, t->symbol, t->bid, t->bid_qty, t->ask, t->ask_qty, last, t->event_us, seq,
                     t->recv_us, t->sent_us, sink_origin_name(t->origin));
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

void sink_backoff_init(struct sink_backoff *b, uint64_t min_ms, uint64_t max_ms) {
    b->min_ms = min_ms;
    b->max_ms = max_ms < min_ms ? min_ms : max_ms;
    b->cap_ms = min_ms;
    b->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)b;
}

uint64_t sink_backoff_next(struct sink_backoff *b) {
    uint64_t delay = b->min_ms + (uint64_t)rand_r(&b->seed) % (b->cap_ms - b->min_ms + 1);
    b->cap_ms = b->cap_ms * 2 > b->max_ms ? b->max_ms : b->cap_ms * 2;
    return delay;
}

void sink_backoff_reset(struct sink_backoff *b) {
    b->cap_ms = b->min_ms;
}
