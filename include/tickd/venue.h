/* venue.h -- venue adapters: pure translation between an exchange's dialect and struct tick.
 *
 * No sockets here. A stream task asks its adapter for the websocket path and subscribe messages, feeds it
 * every complete text frame and acts on the kind of message it gets back; a poll task asks for the cheapest
 * set of REST requests and feeds it each answer. Each venue is one `struct venue_ops` (designated
 * initializers, one file per venue in src/venue/) registered in one table in src/venue/venue.c:
 * adding a venue is adding one file and one row. The venue_ops holds everything the rest of tickd knows of a
 * venue: its defaults (URLs, limits, connect rates, the used-weight header) and, per channel it serves, the
 * subscribe message, frame parser and REST request and parser; a venue's next channel is one more entry in
 * its `channels`, in its own file. Its `instruments` lists what the venue trades (instrument.h).
 *
 * Symbols: the config names them in normalized form ("BTC-USDT"). A `struct venue_symbols` is built once per
 * subscription from that list; it knows every name the venue may use for each symbol ("BTCUSDT",
 * "XBT/USD", "XXBTZUSD", ...) and maps them back in O(1). A venue's name alone can be ambiguous (BTCUSDT
 * is BTC-USDT, never BT-CUSDT), which is why mapping back needs the configured list.
 *
 * Hot path: a frame is parsed once with jansson; ticks go into an array the caller owns (struct venue_out),
 * so parsing allocates nothing beyond jansson's own tree. Prices and sizes are the venue's exact decimal
 * text; where a venue sends JSON numbers (Kraken v2) the shortest text that reads back to the same double.
 *
 * Ordering key: tick.seq is the venue's sequence or update id (Binance "u", Coinbase "sequence"). Venues
 * without one but with an event time (OKX, Kraken v2) get seq = event time in microseconds, so seq still
 * orders one stream (a refused event time gives seq = recv_us, see venue_out). Kraken v1 sends neither: has_seq
 * is false and event_us 0. */
#ifndef TICKD_VENUE_H
#define TICKD_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/book.h"
#include "tickd/tick.h"
#include "tickd/trade.h"

#define VENUE_NAME_MAX 48   /* one venue-side name, with its NUL: "btcusdt@bookTicker" */
#define VENUE_ALIAS_MAX 4   /* names a venue's answers may use for one symbol */
#define VENUE_PATH_MAX 2048 /* REST path+query and websocket path, with the NUL */
/* The longest websocket path (with its NUL) a connection carries (ws.h WS_PATH_MAX): an adapter that names its
 * streams in the path (Binance) names them there only while they fit, and subscribes by message beyond. */
#define VENUE_WS_PATH_MAX 1024
#define VENUE_MSG_MAX 65536 /* a subscribe message buffer big enough for every venue's cap */
#define VENUE_DETAIL_MAX 128

/* What one websocket frame or REST answer was. */
enum venue_msg {
    VENUE_MSG_TICKS = 0,     /* out->n ticks (may be 0 when every symbol was unmapped) */
    VENUE_MSG_HEARTBEAT,     /* the venue's liveness message */
    VENUE_MSG_SUBSCRIBED,    /* a subscription ack */
    VENUE_MSG_PONG,          /* answer to our application ping */
    VENUE_MSG_STATUS,        /* informational event (Kraken systemStatus, OKX channel-conn-count) */
    VENUE_MSG_PLANNED_CLOSE, /* the venue announced a disconnect: make before break */
    VENUE_MSG_ERROR,         /* the venue reported an error; out->detail holds its text */
    VENUE_MSG_RATE_LIMITED,  /* REST: 429/418 or the venue's rate-limit error; pause the source */
    VENUE_MSG_UNAVAILABLE,   /* REST: 5xx or "service busy": transient, retry with backoff */
    VENUE_MSG_UNKNOWN,       /* well-formed but not ours (other channels, new event types): count, ignore */
    VENUE_MSG_MALFORMED,     /* bad JSON, missing or ill-typed fields, decimals that are not decimals */
};

const char *venue_msg_name(enum venue_msg kind);

/* Names of one symbol on one venue, as the adapter's names() callback spells them. Only the builder of a
 * table holds one of these (about 300 bytes): the table keeps each distinct text once, in its string pool. */
struct venue_names_buf {
    char ws[VENUE_NAME_MAX];   /* what a subscription names: "btcusdt", "BTC/USD", "BTC-USDT" (a channel adds
                                  its feed: "btcusdt@bookTicker") */
    char rest[VENUE_NAME_MAX]; /* what a REST query names: "BTCUSDT", "XBTUSD" */
    char alias[VENUE_ALIAS_MAX][VENUE_NAME_MAX]; /* every name answers may carry: "BTC/USD", "XBT/USD", "XXBTZUSD" */
    size_t n_alias;
};

/* The names a table keeps per symbol: texts in the table's string pool (the aliases live only in its hash). */
struct venue_names {
    const char *ws;
    const char *rest;
};

struct venue_symbol {
    const char *norm; /* as configured: "BTC-USDT" */
    struct venue_names names;
    bool muted; /* the venue halted or delisted it (its instrument list): the tasks leave it unsubscribed */
};

struct venue_alias_slot; /* private to venue.c */

/* The configured symbols of one subscription, with a hash of every alias. Build once, read from any task. */
struct venue_symbols {
    const struct venue_ops *venue;
    struct venue_symbol *list;
    size_t n;
    struct venue_alias_slot *slots;
    size_t slot_mask; /* slot count - 1 (a power of two) */
    char *pool;       /* every distinct name, NUL-terminated, once per symbol */
    unsigned book_depth; /* a book channel's subscription: the levels a side the task publishes (0: the default,
                            BOOK_DEPTH_DEFAULT); venues that subscribe by depth (Kraken) subscribe enough for it */
    unsigned muted_gen;  /* counts the changes of any symbol's muted: the tasks serving the table look for them */
};

/* Builds the table for `venue` from normalized symbols. Returns 0, -EINVAL (a symbol the venue cannot name,
 * or a duplicate; logged once with the symbol) or -ENOMEM. Free with venue_symbols_free. */
int venue_symbols_init(struct venue_symbols *s, const struct venue_ops *venue, const char *const *norm, size_t n);
void venue_symbols_free(struct venue_symbols *s);
/* Mutes (or unmutes) symbol i: the tasks serving the table unsubscribe (subscribe) it on their connections.
 * Returns whether it changed. */
bool venue_symbols_mute(struct venue_symbols *s, size_t i, bool muted);
/* Index of the symbol a venue-side name (not NUL-terminated) stands for, or -1. */
int venue_symbols_find(const struct venue_symbols *s, const char *name, size_t len);

/* Where parsed ticks and trades go. The caller owns the arrays; every tick and trade is stamped with recv_us,
 * sent_us (ticks), run and origin. A parser of the bbo channel writes ticks, one of the trades channel trades
 * (venue_out_trades gives it the array; without one, trades count as overflow).
 * Event times are bounded against recv_us (tick_event_time_bound): one out of bounds is dropped (event_us 0,
 * bad_time set) and, where it orders the stream (OKX, Kraken v2), seq takes recv_us instead. */
struct venue_out {
    struct tick *ticks;
    size_t cap;
    size_t n;                       /* ticks written */
    size_t unmapped;                /* entries for symbols not in the table: skipped */
    size_t overflow;                /* entries beyond cap: skipped */
    int64_t recv_us, sent_us;
    uint32_t run;                   /* stamped into every tick (tick.run); venue_out_init sets 0, a stream sets its
                                       connection's run after it */
    char detail[VENUE_DETAIL_MAX];  /* ERROR / RATE_LIMITED / PLANNED_CLOSE: the venue's own words */
    struct trade *trades;           /* NULL unless venue_out_trades gave an array */
    size_t trades_cap, n_trades;    /* n_trades: trades written */
    struct book_update *books;      /* a book channel's updates: NULL unless venue_out_books gave arrays */
    size_t books_cap, n_books;
    struct book_change *changes;    /* the updates' level changes, in message order */
    size_t changes_cap, n_changes;
    struct book_precision *precisions; /* a book channel's instrument answer (Kraken): one per table symbol */
};

void venue_out_init(struct venue_out *out, struct tick *ticks, size_t cap, int64_t recv_us, int64_t sent_us);
/* Gives a trades channel's parser its array (after venue_out_init, which leaves none). */
void venue_out_trades(struct venue_out *out, struct trade *trades, size_t cap);
/* Gives a book channel's parser its arrays: updates (one per symbol a message touches) and their level changes.
 * Entries beyond either cap count as overflow, and the caller parses again with larger arrays. */
void venue_out_books(struct venue_out *out, struct book_update *books, size_t books_cap, struct book_change *changes,
                     size_t changes_cap);

/* One REST request of a poll plan. */
struct venue_request {
    char path[VENUE_PATH_MAX]; /* path and query, appended to the source's base URL */
    unsigned weight;           /* in the venue's own limit units (Binance request weight; else 1 per call) */
    int symbol;                /* the one symbol asked for when the answer does not name it (Coinbase); else -1 */
};

/* A contiguous share of a symbol table served by one websocket connection. */
struct venue_range {
    size_t first, count;
};

/* The kind of event a channel carries through the pipeline: a state (the newest wins: quotes) or an event (every
 * one counts: trades). design.md "Channels". */
enum venue_event {
    VENUE_EVENT_QUOTE = 0,
    VENUE_EVENT_TRADE,
    VENUE_EVENT_BOOK, /* book updates (venue_out.books): state, kept in sync per symbol (book_sync.h) */
};

/* How a venue's books are synced (design.md "Order books"): the snapshot comes from a REST request while the
 * stream's diffs are buffered (Binance), or the stream itself sends it after the subscribe (Coinbase, Kraken),
 * and then a resync is an unsubscribe and subscribe of that one symbol. STREAM_OR_REST (OKX, whose books
 * channel is announced to stop sending its first snapshot): the stream's snapshot when it sends one; a symbol
 * whose first push is a diff is synced as a REST venue's, and so is every resync (the stream goes on). */
enum venue_book_sync {
    VENUE_BOOK_STREAM_SNAPSHOT = 0,
    VENUE_BOOK_REST_SNAPSHOT,
    VENUE_BOOK_STREAM_OR_REST,
};

/* One channel a venue serves (design.md "Channels"): what a task collecting it subscribes to, parses and polls.
 * A venue lists its channels in venue_ops.channels; the config accepts exactly the names listed there, and each
 * task is given the one it collects. */
struct venue_channel {
    const char *name; /* "bbo", "trades": the config's [[group.task]] channel */
    enum venue_event kind; /* what its parsers write into venue_out: ticks (quotes) or trades */
    /* trades: the venue numbers trades densely per instrument (each id the previous + 1), so a hole in the ids is
     * a trade missed (counted as a gap); false where ids are unique but not consecutive. */
    bool dense_ids;

    /* The websocket path (and query) for symbols [first, first+count). Returns its length or -ENOSPC. */
    int (*ws_path)(const struct venue_symbols *s, size_t first, size_t count, char *buf, size_t cap);

    /* Whether ws_path of the connection's whole range [first, first+count) subscribes it already (Binance's
     * combined-stream path, when the names fit), so no subscribe message is sent. NULL: never. Asked for the
     * whole range only: a tail of a range too long for the path may well fit on its own. */
    bool (*ws_path_subscribes)(const struct venue_symbols *s, size_t first, size_t count);

    /* One subscribe message for as many symbols from `first` as fit in min(cap, ws_msg_max); sets *next to the
     * first symbol not covered. Call again from *next until it reaches first+count. Returns the message
     * length (> 0) or -ENOSPC. */
    int (*ws_subscribe)(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                        size_t cap, size_t *next);

    /* Classifies one complete text frame and appends its ticks (origin STREAM). Never fails on any input. */
    enum venue_msg (*ws_parse)(const char *frame, size_t len, const struct venue_symbols *s, struct venue_out *out);

    /* The cheapest set of requests that covers every symbol once. Returns the count or -ENOSPC. */
    int (*rest_plan)(const struct venue_symbols *s, struct venue_request *reqs, size_t cap);

    /* Classifies one REST answer and appends its ticks (origin REST). A book channel's answers are its
     * snapshots (REST_SNAPSHOT: one BOOK_UPDATE_SNAPSHOT for req->symbol) or, where the checksum needs it, the
     * instrument list that rest_plan asked for (out->precisions). */
    enum venue_msg (*rest_parse)(const struct venue_request *req, int http_status, const char *body, size_t len,
                                 const struct venue_symbols *s, struct venue_out *out);

    /* ---- book channels only ---- */
    enum venue_book_sync book_sync;
    /* The levels a side the book keeps to publish `depth` (Kraken: the depth subscribed, to which the venue's
     * checksum truncates; Binance: the snapshot's limit; OKX: 400). */
    uint32_t (*book_levels)(unsigned depth);
    /* REST_SNAPSHOT, STREAM_OR_REST: the snapshot request for symbol `index`, deep enough for `depth`, weighted as
     * the venue counts it. 0 or -ENOSPC. */
    int (*book_snapshot_request)(const struct venue_symbols *s, int index, unsigned depth, struct venue_request *req);
    /* The unsubscribe of symbols [first, first+count), as ws_subscribe: for a symbol the venue halted or
     * delisted, and for a STREAM_SNAPSHOT book's resync (it unsubscribes and subscribes one symbol again, which
     * makes the venue send a fresh snapshot). Every channel of every venue has one. */
    int (*ws_unsubscribe)(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                          size_t cap, size_t *next);
    /* The venue's checksum of a book (levels as held, already truncated to book_levels), for comparing with
     * book_update.checksum. 0, or -1 when it cannot be computed (the precision it needs is not known). NULL: the
     * venue sends none. */
    int (*book_checksum)(const struct book *b, const struct book_precision *p, uint32_t *out);
    /* The checksum needs each symbol's precisions (Kraken): a book task fetches rest_plan's requests, parsed by
     * rest_parse into out->precisions, before it trusts a checksum. */
    bool needs_precision;
};

/* A count allowed per period, as a limiter window takes it (margin: the send jitter tolerated). */
struct venue_rate {
    uint32_t limit, period_ms, margin_ms;
};

#define VENUE_CONNECT_RATES_MAX 2

/* What a [[source]] of this venue gets for each key it does not set: the venue's documented public limits
 * (../shared/venues/README.md), or a conservative figure where it documents none. The config takes them from
 * here and --config-reference prints them. */
struct venue_defaults {
    const char *rest_url, *ws_url; /* scheme://host[:port]: the adapter adds every path */
    uint32_t weight_per_minute;    /* REST request weight (each request weighs 1 except on Binance) */
    uint32_t requests_per_second;
    uint32_t ws_messages_per_second;    /* client messages per websocket connection */
    uint32_t ws_streams_per_connection;
    struct venue_rate connect[VENUE_CONNECT_RATES_MAX]; /* new websocket connections per IP; limit 0 ends the list */
    const char *used_weight_header; /* the REST answers' count of weight used this minute, or NULL */
};

struct venue_ops {
    const char *name;        /* "binance": the config's venue key and tick.venue */
    struct venue_defaults defaults;
    const struct venue_channel *channels; /* what tasks may collect; ends with a {NULL} name */

    /* Websocket limits and keep-alive. */
    size_t ws_max_symbols;   /* per connection; 0 = no limit */
    size_t ws_msg_max;       /* bytes per subscribe message (<= VENUE_MSG_MAX) */
    const char *ping_text;   /* application ping sent as a text frame, NULL when none */
    int ping_idle_ms;        /* send ping_text after this long without a frame */
    int stale_ms;            /* a feed silent this long is dead (the venue's heartbeats or pongs stopped) */
    bool heartbeats;         /* the venue sends heartbeat messages once subscribed */
    uint64_t max_connection_ms; /* the venue cuts connections this old: reconnect before (0 = no such cut) */

    /* Names of a normalized symbol ("BTC-USDT") on this venue. Returns 0 or -EINVAL. */
    int (*names)(const char *norm, struct venue_names_buf *out);

    /* The venue's instrument list (instrument.h), loaded at start and on every refresh; NULL: none. */
    const struct venue_instruments *instruments;
};

struct instrument_list;

/* The one REST request that lists every spot instrument of a venue, and its parser. An answer is taken whole or
 * not at all: a list missing an instrument would read as its delisting. */
struct venue_instruments {
    const char *path;    /* path and query, appended to the source's base URL */
    unsigned weight;     /* in the venue's own limit units (Binance request weight; else 1 per call) */
    size_t max_body;     /* the answer's largest size expected, for http_opts.max_body (beyond http.c's 4 MiB) */
    uint32_t timeout_ms; /* for http_opts.timeout_ms: an answer of megabytes takes longer than a ticker */
    /* Reads one answer. VENUE_MSG_TICKS: *out holds the venue's whole list, sorted (instrument_list_sort), at
     * least one instrument, each text checked (names tickd can write, sizes that are decimals). Otherwise *out is
     * empty: RATE_LIMITED (429, 418 or the venue's limit error), UNAVAILABLE (5xx, the venue's "busy"), ERROR
     * (another status or error of the venue), MALFORMED (not the venue's list in every part: bad JSON, a
     * truncated text, a field missing or of another type, a size that is not a decimal, no instrument at all).
     * `out` must be initialized (instrument_list_init); whatever it held is dropped, its array reused. detail
     * (VENUE_DETAIL_MAX bytes, or NULL) gets the venue's words on an error. Never fails on any input, and
     * allocates nothing but the list: the text is read in place, without a tree. */
    enum venue_msg (*parse)(int http_status, const char *body, size_t len, struct instrument_list *out,
                            char *detail);
};

/* The registered venue called `name`, or NULL. */
const struct venue_ops *venue_find(const char *name);
/* Registered venues, in table order (for listings and tests); NULL past the end. */
const struct venue_ops *venue_at(size_t i);
/* The channel called `name` of venue v, or NULL. */
const struct venue_channel *venue_channel_find(const struct venue_ops *v, const char *name);
/* The names of v's channels, ", "-separated, into buf (for messages). */
void venue_channel_list(const struct venue_ops *v, char *buf, size_t cap);

/* Splits n symbols into as few connections as the venue allows, evenly. Returns the count or -ENOSPC. */
int venue_ws_plan(const struct venue_ops *v, size_t n, struct venue_range *ranges, size_t cap);

/* Shortest plain decimal (no exponent) that strtod reads back to exactly `v`. Returns its length, or -1 for
 * NaN, infinities and values whose plain text would not fit in cap. */
int venue_decimal_shortest(double v, char *buf, size_t cap);
/* What venue_decimal_shortest prints for the double that the text of a JSON number (no exponent) reads as --
 * as jansson and Kraken v2's adapter read it -- into dst: the text itself when it already is that form (see
 * venue_number_is_shortest), else by strtod and venue_decimal_shortest. 0, or -1 when it does not fit. */
int venue_copy_decimal_real(char dst[TICK_DECIMAL_MAX], const char *p, size_t len);
/* True when the number text is exactly what venue_decimal_shortest prints for the double it reads as: plain
 * form (no exponent, leading zeros, trailing fraction zeros or "-0") and at most 15 significant digits. */
bool venue_number_is_shortest(const char *p, size_t len);

/* The venue adapters read their common frames with an exact, allocation-free reader and give everything
 * else to jansson; both give byte-identical ticks. false sends every frame to jansson (tests compare the two,
 * bench/hotpath measures the gain). Not thread-safe: set it before parsing starts. */
void venue_fast_paths(bool enabled);

/* RFC 3339 time ("2021-04-17T16:43:30.244075Z", offsets allowed) to microseconds since the epoch; 0 or -1. */
int venue_parse_rfc3339(const char *s, size_t len, int64_t *us);

#endif
