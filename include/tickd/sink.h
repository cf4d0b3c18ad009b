/* sink.h -- what the Redis writer and the RabbitMQ publisher share: the interface the daemon drives every sink
 * through (struct sink_ops, one row of sink_table each), which ticks they accept and the JSON form of a tick.
 * The order of ticks is the merge's (merge.h): the sinks get ticks it has accepted, and the Redis sink repeats
 * its comparison on the merge's ordering key. */
#ifndef TICKD_SINK_H
#define TICKD_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "tickd/book.h"
#include "tickd/fmt.h"
#include "tickd/instrument.h"
#include "tickd/tick.h"
#include "tickd/trade.h"

struct merge_bbo;
struct merge_key;
struct text_buf;
struct tickd_config;

/* ---- the sink interface ----
 *
 * A sink is one row of sink_table (sinks.c): a struct of callbacks, defined at the end of the sink's own file,
 * whose `open` reads its own section of the config. The daemon opens every row at start, hands each accepted
 * tick to every row that takes its channel, and asks each row for its stats line, its status line, whether it
 * is ready, and at shutdown to flush and close. So a new sink is its file and one row: the daemon does not
 * name sinks. */

/* A sink's `channels`: the bits of the channels (config.h, enum config_channel) whose events it takes. */
#define SINK_CHANNEL(c) (1u << (c))
#define SINK_TABLE_MAX 8 /* rows sink_table may have: the daemon keeps its sinks in an array of this size */

/* A symbol's book as the sinks take it (design.md "Keys and routing"): its top `depth` levels a side, in a book
 * the caller owns (a sink copies what it keeps before put_book returns). The state channel: the newest wins, so a
 * sink keeps one book per instrument and writes the latest (at most once per loop turn). */
struct book_view {
    const char *venue, *symbol;
    const struct book *book;
    unsigned depth;          /* levels a side published */
    uint64_t seq;            /* the venue's sequence (Binance u, OKX seqId), or the update's time in µs where the
                                venue has none */
    enum book_state state;
    uint32_t resyncs;        /* since its connection opened */
    uint32_t run;            /* the connection that keeps it (tick.h runs): one connection at a time publishes a
                                book, and a new one's sync may restart the venue's sequence, so a book of another
                                run is newer whatever its seq */
    int64_t event_us, recv_us;
};

/* One book update as an event (`book_deltas = true`): every applied diff, in order per instrument, never
 * conflated, and a snapshot at each (re)sync, so a consumer can rebuild the whole book. changes are as the venue
 * sent them (a qty of zero removes a level). */
struct book_delta_view {
    const char *venue, *symbol;
    bool snapshot;           /* the whole book: a consumer drops what it held */
    uint64_t seq;
    const struct book_change *changes;
    size_t n_changes;
    int64_t event_us, recv_us;
};

/* What a sink may tell the rest of tickd. */
struct sink_hooks {
    /* The sink's store refused a quote as older than what it holds (the merge's quote_id, and the key held): the
     * merge adopts that key (merge_adopt). Runs on the loop, inside the sink's reply handling: it must not call
     * back into the sink. */
    void (*on_cas_rejected)(void *arg, uint32_t quote_id, const struct merge_key *held);
    void *arg;
};

struct sink_ops {
    const char *name; /* "redis": its stats line's message, its status line, its field in "ready, degraded" */
    unsigned channels; /* SINK_CHANNEL bits */
    /* Starts the sink from cfg (connecting in the background). Logs why it cannot; returns 0 or a negative
     * errno. */
    int (*open)(uv_loop_t *loop, const struct tickd_config *cfg, const struct sink_hooks *hooks, void **state);
    /* A quote merge_apply has just accepted (MERGE_ACCEPTED): merge_update's quote_id, its quote's tick and key.
     * On the per-tick path: never blocks, never waits for the server. Returns 0 or a negative errno (refused). */
    int (*put_quote)(void *state, uint32_t quote_id, const struct tick *t, const struct merge_key *key);
    /* A symbol's best bid and offer changed (merge_update.bbo_id, merge_bbo_by_id gives b; updated_us: the
     * receive time of the tick that changed it, or the expiry sweep's time). NULL: the sink keeps no BBO. */
    int (*put_bbo)(void *state, uint32_t bbo_id, const struct merge_bbo *b, int64_t updated_us);
    /* A trade, new to tickd (deduplicated by the daemon), in order per instrument: an event, so the sink keeps
     * every one it accepts until delivered, never conflating, within its own bound (what goes beyond it is
     * counted and logged, never silently lost). NULL: the sink takes no trades (its channels say so too).
     * Never blocks. Returns 0 or a negative errno (refused: the daemon counts it). */
    int (*put_trade)(void *state, const struct trade *t);
    /* A book changed (the state channel: conflated per instrument, newest wins). NULL: the sink takes no books.
     * Never blocks. Returns 0 or a negative errno. */
    int (*put_book)(void *state, const struct book_view *v);
    /* A book's applied update as an event (see struct book_delta_view): kept like a trade, within the sink's
     * bound for events (what goes beyond is counted and logged). NULL: the sink takes no book deltas. */
    int (*put_book_delta)(void *state, const struct book_delta_view *v);
    /* The venue's instrument list changed for one instrument (instrument.h, instrument_list_diff): listed, a
     * status or another field changed, or delisted (`in` then is its last entry, status DELISTED). Rare, and
     * never lost: a sink keeps each until delivered, as an event, within its bound for events. The Redis sink
     * writes the instrument into <prefix>:instruments:<venue> (symbol -> instrument_json) and, where the status
     * changed, the `status` field of the quote's hash; the RabbitMQ sink publishes instrument.<venue>.<symbol>.
     * NULL: the sink takes none. Never blocks. Returns 0 or a negative errno. */
    int (*put_instrument)(void *state, const char *venue, const struct instrument *in, enum instrument_change change);
    /* Connected and able to write now: READY=1 waits for every sink (at most READY_ANYWAY_MS). */
    bool (*ready)(void *state);
    /* Logs the sink's stats line; secs since its last one, for the rates. */
    void (*stats_log)(void *state, double secs);
    /* Writes the rest of the sink's line in `tickd status`, after its name. state is NULL when the sink was
     * never opened (a failed start): its counters read as zeros. */
    void (*status)(void *state, struct text_buf *out);
    /* Flushes what is pending within the sink's close deadline, then closes; closed(arg) runs once everything
     * is freed. Nothing is put after close. */
    void (*close)(void *state, void (*closed)(void *arg), void *arg);
};

/* The sinks, in the order the daemon opens, stats, and closes them; NULL-terminated. */
extern const struct sink_ops *const sink_table[];

/* Units per second since the last stats line (a counter below *last, after a restart of it, reads as 0); *last
 * becomes now. */
double sink_per_second(uint64_t now, uint64_t *last, double secs);

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

/* The JSON body published for a trade (exact decimal strings, integer times in µs; side is the taker's):
 *   {"venue":"binance","symbol":"BTC-USDT","id":"12345","price":"0.001","qty":"100","side":"sell",
 *    "event_us":1,"recv_us":2,"origin":"stream"}
 * Returns the length written (without the NUL), or -1 when out is too small; SINK_JSON_MAX always suffices. */
int sink_trade_json(const struct trade *t, char *out, size_t outlen);

/* Checks a trade before it becomes a key or a routing key: venue and symbol as sink_tick_invalid, price and qty
 * non-empty decimals, the id non-empty printable ASCII without '"' or '\\' (it is a message id and a JSON
 * string). NULL when fine, else a short reason. */
const char *sink_trade_invalid(const struct trade *t);

/* Checks an instrument change (put_instrument) before it becomes a key or a routing key: the venue as a tick's
 * ([a-z0-9_-]+, NUL-terminated within TICK_VENUE_MAX), the instrument's symbol as a tick's, a known change and a
 * known status. The instrument's other texts are instrument_json's to check (-EINVAL when one is not terminated
 * within its field). NULL when fine, else a short reason for the log line. */
const char *sink_instrument_change_invalid(const char *venue, const struct instrument *in, int change);

/* ---- books: one writer of a book's levels for both sinks ---- */
/* Bytes one level takes at most in a levels array: ["<price>","<qty>"] and its comma. */
#define SINK_BOOK_LEVEL_JSON_MAX (2 * (BOOK_TEXT_MAX - 1) + 8)

/* Checks a book before it becomes a key, a routing key or JSON: venue and symbol as sink_tick_invalid, a known
 * state, a depth of at most BOOK_DEPTH_MAX, and the top depth levels' texts non-empty decimals (decimal.h) with
 * their NUL inside their arrays. NULL when fine, else a short reason for the log line. */
const char *sink_book_invalid(const struct book_view *v);

/* Appends ["<price>","<qty>"], the exact texts (each up to its NUL, within BOOK_TEXT_MAX); returns the end. */
char *sink_put_book_level(char *p, const char *price, const char *qty);

/* Appends a side's top `depth` levels, best first, as the JSON array [["price","qty"],...] ("[]" when none);
 * returns the end. n levels take at most 2 + n * SINK_BOOK_LEVEL_JSON_MAX bytes. */
char *sink_put_book_levels(char *p, const struct book_levels *side, unsigned depth);

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
