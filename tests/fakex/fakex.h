/* fakex.h -- the types shared by the parts of fakex, the project's fake exchange.
 *
 * One libuv loop serves every venue. Each venue listens on its own loopback port and answers both REST and
 * websocket upgrades there; a separate control port serves /_fakex/... for tests. The parts:
 *   fx_util.c     buffers, random numbers, decimal and time text, SHA-1/base64 for the websocket handshake
 *   fx_market.c   symbols, venue names for them, the random walk
 *   fx_net.c      listeners, connections, HTTP/1.1 (keep-alive), RFC 6455 framing, batched writes
 *   fx_venue.c    per-venue state: generation of ticks, keep-alive timers, faults, limits, violations, and the
 *                 book batches fanned out to the book channel's subscribers
 *   fx_book.c     the L2 books: sorted levels per symbol, their random changes, batches, checksums (its own CRC-32)
 *   fx_binance.c fx_coinbase.c fx_kraken.c fx_okx.c   one dialect each (a struct fx_dialect)
 *   fx_instruments.c  the venues' instrument lists: their requests (counted, with faults), symbols listed, halted
 *                 and delisted at runtime
 *   fx_control.c  the control endpoint, runtime settings, the JSON report
 *   fx_main.c     command line and main()
 * Every global symbol starts with fx_ so that nothing clashes with libtickd.a, which fakex links with. */
#ifndef FAKEX_H
#define FAKEX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tickd/clock.h"
#include "tickd/fmt.h"

#define FX_MSG_MAX 2048        /* longest preformatted market message */
#define FX_NUM_MAX 32          /* longest decimal text */
#define FX_IN_MAX (4 << 20)    /* a client sending more unparsed bytes than this is cut off */
#define FX_FRAME_MAX (1 << 20) /* largest client frame accepted */
#define FX_SUB_DATA 1          /* connection wants this symbol's market data */
#define FX_SUB_HEARTBEAT 2     /* connection wants this symbol's heartbeats (Coinbase) */
#define FX_SUB_TRADE 4         /* connection wants this symbol's trades (the venue's trade channel) */
#define FX_SUB_BOOK 8          /* connection wants this symbol's L2 book (the venue's book channel) */
#define FX_SUB_DEPTH_SHIFT 4   /* Kraken: bits 4-6 of a symbol's FX_SUB_* byte hold the index of its subscribed depth */
#define FX_TRADE_RING 1000     /* recent trades kept per symbol for the venues' REST recent-trades endpoints */

enum fx_venue_id { FX_BINANCE, FX_COINBASE, FX_KRAKEN, FX_OKX, FX_VENUE_COUNT };

/* ---- fx_util.c ---- */
struct fx_buf {
    char *data;
    size_t len, cap;
};
void *fx_xmalloc(size_t n); /* fakex is a test tool: out of memory ends it */
void fx_buf_reserve(struct fx_buf *b, size_t extra);
void fx_buf_add(struct fx_buf *b, const void *p, size_t n);
void fx_buf_adds(struct fx_buf *b, const char *s);
void fx_buf_printf(struct fx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fx_buf_free(struct fx_buf *b);

uint64_t fx_rand(uint64_t *state); /* xorshift64*: the same seed gives the same market */

/* Decimal text of m units of 1e-8: exactly dp decimals (dp 0..8), or with trailing zeros removed. */
size_t fx_fmt_fixed(char *out, int64_t m, int dp);
size_t fx_fmt_trim(char *out, int64_t m);
size_t fx_fmt_rfc3339(char *out, int64_t us, int decimals); /* 2021-04-17T16:43:30.244075Z */

/* Appends to p and returns the end: the hot path builds messages without printf. */
static inline char *fx_put(char *p, const char *s) {
    while (*s) *p++ = *s++;
    return p;
}

void fx_ws_accept_key(const char *client_key, char out[29]); /* base64(SHA-1(key + GUID)) */
int fx_url_decode(const char *in, size_t n, char *out, size_t outlen);
/* Finds key in a query string "a=1&b=2" and URL-decodes its value into out; returns 0 or -1 when absent. */
int fx_query_get(const char *query, const char *key, char *out, size_t outlen);
/* A count parameter (limit=, count=): def when absent or empty, clamped to 1..max as the venues do, -1 when it is
 * not a decimal number. */
int64_t fx_query_count(const char *query, const char *key, int64_t def, int64_t max);

/* ---- fx_market.c ---- */
/* One trade: the taker bought at the ask or sold at the bid. */
struct fx_trade {
    uint64_t id, seq; /* seq: the symbol's sequence at the trade (Coinbase's match "sequence") */
    int64_t price, qty, ts_us;
    bool buy; /* the taker's side */
};

/* The book faults of one symbol (control: book_drop=N etc.): how many more times each is due. */
struct fx_book_faults {
    int64_t drop, dup, reorder, bad_checksum, stale, cross;
};

struct fx_book;

struct fx_symbol {
    char norm[24];        /* BTC-USDT: the project's normalized name, Coinbase and OKX ids */
    char binance[48];    /* BTCUSDT */
    char stream[64];     /* btcusdt@bookTicker */
    char trade_stream[64]; /* btcusdt@trade */
    char depth_stream[64]; /* btcusdt@depth@100ms */
    char kraken_ws[48];  /* BTC/USDT (v2 websocket) */
    char kraken_rest[48]; /* XXBTZUSD (REST result key) */
    char kraken_alt[48]; /* XBTUSD (REST query name) */
    char kraken_v1[48];  /* XBT/USD (REST AssetPairs' wsname: the v1 websocket name) */
    char kraken_base[24], kraken_quote[24]; /* XXBT, ZUSD: REST asset names */
    int dp;               /* price decimals (tick size 10^-dp); Kraken: the pair's pair_decimals */
    int qdp;              /* size decimals of the book's levels (lot 10^-qdp): Kraken's lot_decimals, else 8 */
    int64_t bid, ask, last, bid_qty, ask_qty, last_qty, open, high, low, volume; /* units of 1e-8 */
    uint64_t seq, trade_id; /* trade_id: the id of the last trade (dense: each trade takes the next) */
    int64_t ts_us; /* time of the last change */
    uint64_t updates;
    struct fx_trade trade; /* the last trade (at the start a seeded one that was never sent: Coinbase's last_match) */
    uint64_t trades;       /* trades generated */
    int64_t trade_gap;     /* the trade_gap fault: ids the next trade skips */
    /* the last FX_TRADE_RING trades (the seeded one first), oldest at ring[ring_head]; the ring grows as trades
     * come (16, 32, ... FX_TRADE_RING entries), so thousands of quiet symbols cost little */
    struct fx_trade *ring;
    uint32_t ring_cap, ring_len, ring_head;
    struct fx_book *book;     /* NULL until something uses the symbol's book (fx_book_get) */
    struct fx_book_faults bf;
    uint8_t status;           /* enum fx_status: what the venue's instrument list says of it */
};

/* A symbol's status on the venue's instrument list. Only a trading symbol moves (quotes, trades, book changes); a
 * halted one stays listed and still; a delisted one is listed as such (Binance BREAK, Coinbase delisted) or gone
 * from the list (Kraken, OKX), still by name on its streams and REST, as the venues keep answering for a while. */
enum fx_status { FX_TRADING = 0, FX_HALTED, FX_DELISTED };
int fx_symbols_init(struct fx_symbol **out, size_t *n, const char *list, size_t count, uint64_t *rng);
/* A venue's own precisions: Kraken's pairs get their pair_decimals and lot_decimals (the walk and the book move
 * on that grid); the other venues keep the symbol's decimals and 8 for sizes. */
void fx_symbols_venue(struct fx_symbol *syms, size_t n, enum fx_venue_id id);
void fx_symbol_step(struct fx_symbol *s, uint64_t *rng, int64_t now_us);
/* The next trade of s (into s->trade): at the ask (taker buys) or the bid, id trade_id + 1 + a pending gap. */
void fx_trade_step(struct fx_symbol *s, uint64_t *rng, int64_t now_us);
/* The k-th most recent trade of s kept in its ring (0: the last one), NULL beyond the ring; s->ring_len are kept. */
const struct fx_trade *fx_trade_recent(const struct fx_symbol *s, size_t k);
void fx_symbols_free(struct fx_symbol *syms, size_t n);
/* Appends one symbol (a new listing) to the array of *n, seeded as fx_symbols_init seeds, from a generator of its
 * own (the existing symbols' walk is what the seed gave); the venue's precisions as fx_symbols_venue gives them.
 * 0, or -1 for a name that is not BASE-QUOTE. */
int fx_symbol_append(struct fx_symbol **syms, size_t *n, const char *norm, enum fx_venue_id id);
/* A name fx_symbol_append takes: BASE-QUOTE, upper-case letters and digits. */
bool fx_symbol_name_ok(const char *norm);
/* Index of the symbol whose field at `offset` (offsetof(struct fx_symbol, binance), ...) equals name, or -1. */
long fx_symbol_find(const struct fx_symbol *syms, size_t n, size_t offset, const char *name);
long fx_symbol_find_ci(const struct fx_symbol *syms, size_t n, size_t offset, const char *name);

/* ---- fx_net.c ---- */
struct fx_venue;

struct fx_http_req {
    char method[8];
    char path[1024];
    char query[8192];
    bool keep_alive, upgrade;
    char ws_key[64];
};

struct fx_window { /* a fixed window counter: the way the venues count */
    int64_t limit, window_ms, start_ms, used;
};

struct fx_conn {
    uv_tcp_t tcp;
    struct fx_venue *venue; /* NULL on the control port */
    struct fx_conn *prev, *next;
    uint64_t id;
    bool is_ws, closing, subscribed;
    bool muted; /* mute_next: its subscriptions are silently dropped */
    struct fx_buf in, out, msg; /* unparsed input; framed output not yet written; a fragmented message */
    int msg_opcode;
    size_t queued; /* bytes handed to uv_write and not yet written */
    struct fx_buf held; /* HTTP replies held back by the slow-answer fault */
    int64_t held_due_ms;
    bool close_after_reply;
    int64_t retry_after_s; /* set while a rate-limited reply is being written */
    bool close_sent;       /* a websocket close frame went out */
    int variant;     /* dialect flavour, e.g. Binance raw (0) or combined (1) */
    uint8_t *subs;   /* per symbol FX_SUB_* bits */
    size_t nstreams; /* streams or channels subscribed, for the per-connection limit */
    unsigned sub_requests;      /* OKX: subscribe/unsubscribe requests in the current hour of this connection */
    int64_t sub_window_start_ms;
    int64_t opened_ms, last_in_ms, last_out_ms, ping_sent_ms, next_ping_ms, next_hb_ms, close_at_ms;
    bool awaiting_pong;
    int64_t data_sent;
    struct fx_window in_rate;
};

enum fx_close_how { FX_CLOSE_GRACEFUL, FX_CLOSE_ABRUPT, FX_CLOSE_RESET };

int fx_listen(uv_loop_t *loop, struct fx_venue *venue, int port, int *bound_port);
void fx_listeners_close(void);
void fx_conn_close(struct fx_conn *c, enum fx_close_how how);
void fx_conn_flush(struct fx_conn *c);
void fx_control_conns_close(void);
void fx_venue_conns_close(struct fx_venue *v);
/* An HTTP reply; `headers` holds extra "Name: value\r\n" lines or is NULL. */
void fx_http_reply(struct fx_conn *c, int status, const char *headers, const char *body, size_t len);
void fx_http_reply_json(struct fx_conn *c, int status, json_t *body); /* steals body */
/* A reply of a large body written from where it is, not copied: with writes, the caller's memory, which must stay as
 * it is while *writes (the writes in flight that read it) is above zero; without, body is the reply's to free. */
void fx_http_reply_large(struct fx_conn *c, int status, char *body, size_t len, int *writes);
void fx_ws_frame(struct fx_conn *c, int opcode, const void *data, size_t len);
void fx_ws_text(struct fx_conn *c, const char *s, size_t len);
void fx_ws_json(struct fx_conn *c, json_t *msg); /* steals msg */
#define fx_ws_literal(c, s) fx_ws_text((c), (s), sizeof(s) - 1)

/* ---- a venue dialect ---- */
struct fx_quote_text {
    char bid[FX_NUM_MAX], bid_qty[FX_NUM_MAX], ask[FX_NUM_MAX], ask_qty[FX_NUM_MAX], last[FX_NUM_MAX];
};

struct fx_dialect {
    const char *name;
    int64_t rest_limit, rest_window_ms, ws_msg_limit, ws_max_streams, ping_ms, pong_timeout_ms, idle_ms,
        heartbeat_ms, subscribe_within_ms, announce_grace_ms, connect_limit, connect_window_ms;
    bool rest_bans;                                           /* answers 418 to a client that ignores 429 */
    int (*rest_weight)(const struct fx_http_req *req);        /* NULL: every request weighs 1 */
    void (*rest)(struct fx_conn *c, const struct fx_http_req *req);
    void (*rest_limited)(struct fx_conn *c, int status);      /* 429 or 418, Retry-After is added */
    void (*rest_headers)(struct fx_venue *v, struct fx_buf *headers); /* optional */
    int (*ws_open)(struct fx_conn *c, const struct fx_http_req *req); /* 0, or an HTTP status to refuse */
    void (*ws_text)(struct fx_conn *c, const char *msg, size_t len);
    size_t (*tick_msg)(struct fx_venue *v, size_t sym, int variant, char *out);
    /* sym's last trade (s->trade) as the trade channel pushes it; snapshot: the form sent on subscribing
     * (Coinbase last_match, Kraken snapshot), where the venue has one. */
    size_t (*trade_msg)(struct fx_venue *v, size_t sym, int variant, bool snapshot, char *out);
    bool trade_seq; /* a trade takes the next number of the symbol's sequence (Coinbase's matches carry it) */
    void (*quote_text)(const struct fx_symbol *s, struct fx_quote_text *q); /* for the report */
    void (*heartbeat)(struct fx_conn *c); /* optional */
    void (*announce)(struct fx_conn *c);  /* optional: planned-close notice */
    void (*unknown)(struct fx_conn *c);   /* a message of a type no client knows */
    /* The book channel: a batch of changes goes out every book_interval_ms; book_update writes the batch of sym
     * (its book's `batch`) as the connections of one key see it (book_key: Binance raw or combined, Kraken the
     * subscribed depth; NULL: 0), or nothing (out->len 0) when those connections are not to be sent one. */
    /* The instrument list: GET instruments_path (its weight instruments_weight) lists every symbol with its status,
     * in the venue's shape (fx_instruments.c counts the requests and applies the instrument faults); instruments
     * writes the body and returns the HTTP status (an error body for a query the venue refuses). */
    const char *instruments_path;
    int64_t instruments_weight;
    int (*instruments)(struct fx_venue *v, const struct fx_http_req *req, struct fx_buf *out);
    int64_t book_interval_ms;
    bool book_checksum; /* its book messages carry a checksum (book_bad_checksum applies) */
    int (*book_key)(const struct fx_conn *c, size_t sym);
    void (*book_update)(struct fx_venue *v, size_t sym, int key, struct fx_buf *out);
};
extern const struct fx_dialect fx_binance, fx_coinbase, fx_kraken, fx_okx;

/* ---- fx_venue.c ---- */
struct fx_faults {
    int64_t close_after;  /* close each websocket after this many market messages */
    int64_t close_in_ms;  /* close each websocket this long after it opened (24h-style) */
    int64_t delay_ms;     /* answer REST this late */
    int64_t http_status;  /* answer REST with this status (5xx) */
    int64_t malformed, truncated, unknown, oversized; /* the next N market messages are damaged (oversized: bytes) */
    int64_t sub_error; /* the next N subscribe requests are refused with the venue's error (OKX) */
    int64_t mute_next; /* the next N websocket connections take subscriptions but are never sent market data */
    int64_t poison;    /* the next N updates carry a sequence of 10^18 and a time in the year 9999; later ones the
                        * symbol's true sequence and time, as if the bad frame had never been */
    int64_t snapshot_status, snapshot_count; /* the next snapshot_count (0: 1) depth snapshot requests are answered
                                              * with this status (429 or 418) and a Retry-After (Binance) */
    int64_t instruments_status;    /* the instrument list is answered with this HTTP status (0: not) */
    int64_t instruments_malformed; /* the next N instrument lists are cut in the middle (HTTP 200) */
    bool stall, refuse, heartbeats_only;
    /* OKX: the books channel sends no snapshot on subscribing (as OKX announced it would stop doing); its REST
     * book answers without a seqId (as its documentation's older example) */
    bool book_no_snapshot, book_rest_no_seq;
};

#define FX_BOOK_KEYS 8      /* distinct forms of one batch (fx_dialect.book_key) */
#define FX_BOOK_SLICE_MS 10 /* the books are batched in slices this far apart, so that no turn of the loop is long */

struct fx_venue {
    enum fx_venue_id id;
    const struct fx_dialect *d;
    bool enabled;
    int port;
    uv_loop_t *loop;
    struct fx_symbol *syms;
    size_t nsyms, next_sym;
    uint64_t rng;
    struct fx_conn *conns;
    /* settings (dialect defaults, changed by the command line or /_fakex/set) */
    int64_t rate, ws_msg_limit, ws_max_streams, ping_ms, pong_timeout_ms, idle_ms, heartbeat_ms,
        subscribe_within_ms, announce_grace_ms, ban_ms;
    int64_t trade_rate; /* trades per second (round robin over the symbols); 0: one with each quote update;
                         * negative: none */
    struct fx_faults faults;
    struct fx_window rest, connects;
    int64_t limited_until_ms, banned_until_ms;
    /* generation */
    uv_timer_t gen_timer, keep_timer, trade_timer;
    uv_idle_t gen_idle;
    int64_t gen_base_ms, gen_done, trade_base_ms, trade_done;
    uint64_t trade_rng; /* trades draw from their own generator: the quotes stay what the seed gave before */
    size_t next_trade_sym;
    char **replay;
    size_t nreplay, next_replay;
    /* books: book_rate level changes a second per symbol whose book exists (0: still), book_levels the levels a
     * side a new book is seeded with (on average) */
    int64_t book_rate, book_levels;
    uv_timer_t book_timer; /* every FX_BOOK_SLICE_MS, for one slice of the books (each batches once an interval) */
    uint64_t book_ticks;
    uint64_t book_rng;
    size_t *books; /* indices of the symbols whose book exists, in the order they were made */
    size_t nbooks, books_cap;
    struct fx_buf book_out[FX_BOOK_KEYS]; /* one batch's message per key, while it is fanned out */
    /* counters for the report */
    int64_t ticks, messages_sent, trades_sent, dropped, connects_total, ws_connects, http_requests, rejected_429,
        rejected_418; /* messages_sent: quote messages; trades_sent: trade messages (repeats and last_match too) */
    int64_t book_changes, book_messages, book_snapshots, book_dropped, book_faults, book_subscribes,
        book_unsubscribes, depth_requests, depth_weight, depth_refused, book_behind;
    int64_t instrument_requests, instrument_faults, instruments_listed; /* lists asked for, answered with a fault;
                                                                          * symbols listed at runtime */
    struct fx_buf instruments_body; /* the last list written, kept for the next (no fresh pages for 50 MB) */
    int instruments_writes;         /* writes in flight that read it */
    struct { int64_t start_ms, requests, weight; } windows[16];
    size_t nwindows;
};

extern struct fx_venue fx_venues[FX_VENUE_COUNT];
extern uv_loop_t *fx_loop;
extern int64_t fx_start_ms;

int fx_venue_init(struct fx_venue *v, enum fx_venue_id id, uv_loop_t *loop);
int fx_venue_start(struct fx_venue *v);
void fx_venue_stop(struct fx_venue *v);
void fx_venue_free(struct fx_venue *v);
void fx_venue_kick(struct fx_venue *v);   /* a subscriber arrived or drained: generate again */
void fx_venue_retime(struct fx_venue *v); /* the rate changed */
void fx_venue_trade_retime(struct fx_venue *v); /* the trade rate changed */
void fx_venue_trade_dup(struct fx_venue *v);    /* the trade_dup fault: every symbol's last trade again */
void fx_venue_announce(struct fx_venue *v, int64_t grace_ms);
int fx_venue_load_replay(struct fx_venue *v, const char *path);
/* Counts one REST request of this weight; returns 0, 429 or 418. */
int fx_venue_rest_admit(struct fx_venue *v, int64_t weight, int64_t *retry_after_s);
/* Counts a client frame on a websocket; false when the connection broke the venue's message rate. */
bool fx_venue_ws_admit(struct fx_conn *c);
void fx_venue_conn_opened(struct fx_conn *c);
/* A websocket handshake completed: counted against the venue's connect window (a violation beyond it). */
void fx_venue_ws_opened(struct fx_conn *c);
/* Recomputes c->subscribed from the per-symbol bits (after an unsubscribe): market data, trades or books. */
void fx_conn_update_subscribed(struct fx_conn *c);
/* Starts the book timer again at the venue's interval and book_rate (the rate changed). */
void fx_venue_book_retime(struct fx_venue *v);
/* A book snapshot sent on subscribing (counted). */
void fx_book_snapshot_sent(struct fx_conn *c, const char *msg, size_t len);

/* ---- fx_book.c ---- */
struct fx_level {
    int64_t price, qty; /* units of 1e-8 */
};

/* One level of a batch: what the batch left at price (qty, 0: removed) and what was there before it (old_qty). */
struct fx_book_entry {
    int64_t price, qty, old_qty;
    int side; /* 0 bids, 1 asks */
};

struct fx_book_copy {
    struct fx_level *lv[2];
    uint32_t n[2];
    uint64_t seq;
};

struct fx_held { /* book_reorder: a message held back until the next one has gone */
    uint64_t conn;
    char *msg;
    size_t len;
};

#define FX_KRAKEN_DEPTHS 5
extern const int fx_kraken_depths[FX_KRAKEN_DEPTHS]; /* 10 25 100 500 1000 */

struct fx_book {
    struct fx_level *lv[2]; /* 0 bids, best (highest) first; 1 asks, best (lowest) first */
    uint32_t n[2], cap[2], target[2];
    int64_t tick, lot, lotq; /* price grid, size grid, and the step sizes are drawn in */
    uint64_t seq;      /* the update id of the last change (each change takes the next) */
    uint64_t sent_seq; /* seq when the last batch was fanned out (OKX's prevSeqId) */
    uint64_t first;    /* the first update id of the batch being made */
    struct fx_book_entry *pending, *batch; /* changes as made; the batch, one entry per level touched */
    uint32_t npending, pending_cap, nbatch, batch_cap;
    int64_t edge[FX_KRAKEN_DEPTHS][2]; /* the price at depth d when the batch began (0: fewer levels) */
    uint64_t rng;
    int64_t base_ms, done; /* book_rate's account: changes made since base_ms */
    bool crossed;       /* book_cross made it cross: the next batch repairs it */
    bool bad_checksum;  /* the batch being fanned out carries a wrong checksum */
    struct fx_book_copy *stale; /* book_stale_snapshot: the book as it was when the fault was set */
    struct fx_held *held;
    uint32_t nheld;
};

/* sym's book, made (seeded around the current quote) the first time it is asked for. */
struct fx_book *fx_book_get(struct fx_venue *v, size_t sym);
void fx_book_free(struct fx_book *b);
/* One batch of sym's book: begin, n random changes, the cross fault's change or its repair, then coalesce into
 * b->batch (false when the batch is empty). */
bool fx_book_batch(struct fx_venue *v, size_t sym, int64_t changes);
/* The best bid and ask (false when a side is empty or the book is crossed). */
bool fx_book_top(const struct fx_book *b, int64_t *bid, int64_t *bid_qty, int64_t *ask, int64_t *ask_qty);
/* The number of levels of `side` within the first `depth` (0: all). */
uint32_t fx_book_depth(const struct fx_book *b, int side, uint32_t depth);
/* A price or size as the venue writes it in its book messages (and /_fakex/book). */
size_t fx_book_fmt(const struct fx_venue *v, const struct fx_symbol *s, int64_t x, bool qty, char *out);
/* Kraken's checksum of the top 10 asks then bids (price and qty at the pair's precisions, '.' and leading zeros
 * removed); OKX's of the first 25 levels, bid and ask in turn ("px:sz:px:sz..."), as a signed 32-bit number. */
uint32_t fx_book_checksum_kraken(const struct fx_symbol *s, const struct fx_book *b);
int32_t fx_book_checksum_okx(const struct fx_symbol *s, const struct fx_book *b);
uint32_t fx_crc32(uint32_t crc, const void *data, size_t len); /* IEEE 802.3, as zlib's crc32() */
/* book_stale_snapshot: keeps the book as it is now for the next snapshot requests. */
void fx_book_capture(struct fx_venue *v, size_t sym);
/* The copy the next snapshot request is to be answered with while book_stale_snapshot holds, else NULL. */
const struct fx_book_copy *fx_book_stale(const struct fx_symbol *s);
/* One snapshot request answered (book_stale_snapshot counts down; its copy goes with the last). */
void fx_book_stale_used(struct fx_symbol *s);
void fx_window_hit(struct fx_window *w, int64_t now_ms, int64_t weight);

void fx_violation(struct fx_venue *v, uint64_t conn, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- fx_instruments.c ---- */
/* Answers the request when it is the venue's instrument list (counted, faults applied): true, else false. */
bool fx_instruments_request(struct fx_conn *c, const struct fx_http_req *req);
/* Lists symbol `norm` on the venue (a new one is served on its streams and REST from now on, like any other; a
 * delisted one trades again). 0, or -1 with err set (a name that is not BASE-QUOTE, one listed already). */
int fx_instrument_list(struct fx_venue *v, const char *norm, char *err, size_t errlen);
/* Sets a symbol's status (halt, resume, delist). */
void fx_instrument_status(struct fx_venue *v, size_t sym, enum fx_status status);
const char *fx_status_name(int status);
/* The texts the instrument lists carry for a symbol: tick and lot size as 1e-8 counts. */
int64_t fx_tick_units(const struct fx_symbol *s);
int64_t fx_lot_units(const struct fx_symbol *s);
/* The two parts of the symbol's normalized name: BTC and USDT of BTC-USDT. */
void fx_symbol_parts(const struct fx_symbol *s, char base[24], char quote[24]);

/* ---- fx_control.c ---- */
void fx_control_request(struct fx_conn *c, const struct fx_http_req *req);
/* Applies "k=v&k=v" settings and faults to one venue or to every enabled one ("all"); the book faults to the
 * query's symbol= (a normalized name) or, without one, to every symbol. */
int fx_settings_apply(const char *venue, const char *query, char *err, size_t errlen);
json_t *fx_report(void);
int fx_report_write(const char *path);
void fx_violations_free(void);

/* ---- fx_main.c ---- */
void fx_shutdown(void); /* report, close every handle, let the loop end */

#endif
