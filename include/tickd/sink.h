/* sink.h -- what the Redis writer and the RabbitMQ publisher share: which ticks they accept and the JSON
 * form of a tick. The order of ticks is the merge's (merge.h): the sinks get ticks it has accepted, and the
 * Redis sink repeats its comparison on the merge's ordering key. */
#ifndef TICKD_SINK_H
#define TICKD_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/fmt.h"
#include "tickd/tick.h"

/* Checks a tick before it becomes a Redis key or a routing key: venue [a-z0-9_-]+, symbol [A-Z0-9._-]+
 * (both NUL-terminated inside their arrays), decimals empty or in decimal.h's syntax. Returns NULL when
 * fine, else a short reason for the log line. */
const char *sink_tick_invalid(const struct tick *t);

/* The checks of sink_tick_invalid without the decimals: for a tick merge_apply has accepted, whose decimals
 * it validated already (by the same decimal syntax). */
const char *sink_instrument_invalid(const struct tick *t);

/* The same checks for one field: venue (lowercase), symbol (uppercase), decimal (may be empty). */
bool sink_venue_ok(const char *s, size_t size);
bool sink_symbol_ok(const char *s, size_t size);
bool sink_decimal_ok(const char *s, size_t size);

/* "stream" or "rest". */
const char *sink_origin_name(enum tick_origin origin);

/* The JSON body published for a tick (exact decimal strings, integer times in µs):
 *   {"venue":"binance","symbol":"BTC-USDT","bid":"1.10","bid_qty":"2","ask":"1.20","ask_qty":"3",
 *    "last":"1.15","event_us":1,"seq":7,"recv_us":2,"sent_us":0,"origin":"stream"}
 * "last" is null when not sent and "seq" null when the venue gives none. Returns the length written
 * (without the NUL), or -1 when out is too small; SINK_JSON_MAX always suffices for a valid tick. */
#define SINK_JSON_MAX 640
int sink_tick_json(const struct tick *t, char *out, size_t outlen);

/* Appenders for the per-tick paths, instead of snprintf: each writes at p (no NUL) and returns the end. The
 * caller sizes the buffer (fmt_u64 in fmt.h for unsigned numbers; a u64 takes at most 20 bytes, an i64 20; a field at most size - 1). */
char *sink_put_i64(char *p, int64_t v);
char *sink_put_mem(char *p, const void *s, size_t n);
char *sink_put_field(char *p, const char *s, size_t size); /* up to its NUL, within size */

#endif
