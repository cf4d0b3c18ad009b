/* watch.h -- `tickd watch`: a live terminal view of the prices tickd keeps in Redis, for a person watching.
 *
 * A separate process, not part of the daemon: it reads Redis with hiredis's blocking API once per interval
 * (SCAN ... MATCH <prefix>:quote:* and <prefix>:bbo:*, then one pipeline of HGETALL, each quote's followed by
 * XREVRANGE <prefix>:trades:<venue>:<symbol> + - COUNT 1; then SCAN ... MATCH <prefix>:book:* and a pipeline of
 * HMGET bids asks seq recv_ts state over the books that fit on the screen) and draws one frame:
 *
 *   tickd watch  10 instruments  212 updates/s  redis://127.0.0.1:6379/0 prefix=tickd  13:36:33
 *   SYMBOL   VENUE    BID            ASK            AGE    TRADE          QTY        SIDE TRADED BEST BID ...
 *   BTC-USD  coinbase 30000.05       30000.08       11ms   30000.08       0.25       buy  14ms   30000.05 coinbase
 *            kraken   29999.77       29999.79       11ms   -
 *   BTC-USDT binance  30000.24000000 30000.27000000 73ms   30000.24000000 0.01200000 sell 73ms   30000.24000000 ...
 *            okx      30000.19       30000.2        379ms  30000.2        1.5        buy  2.1s
 *
 * Prices are the exact strings stored; everything read from Redis is reduced to printable ASCII before it is
 * printed, so a value can never move the cursor or change the terminal. "updates/s" counts instruments whose
 * seq or recv_ts changed since the previous frame, per second (a lower bound: several ticks of one instrument
 * between two frames count once). AGE is now - recv_ts. TRADE QTY SIDE TRADED are the newest entry of the
 * instrument's trades stream ([redis] trade_history): price, quantity, the taker's side and now - its recv_ts;
 * "-" when the stream is empty, missing or not a stream. The four columns are drawn only when a quote on screen
 * has a trade, so without trades the frame is the quotes' alone. Lines longer than the screen are cut.
 *
 * Order books (<prefix>:book:<venue>:<symbol>) are a section of their own below the quotes, one block per book,
 * sorted by symbol then venue: the book's line (symbol, venue, state, seq, age from recv_ts) beside its best
 * level, then its next levels, at most --levels a side (bid qty, bid, ask, ask qty, best first):
 *
 *   tickd watch  3 instruments  2 books  - updates/s  redis://127.0.0.1:6379/0 prefix=tickd  13:36:33
 *   SYMBOL   VENUE    BID            ASK            AGE    BEST BID               BEST ASK
 *   BTC-USDT binance  67012.34000000 67012.35000000 12ms   67012.34000000 binance 67012.35000000 binance
 *            okx      67012.3        67012.5        1.5s
 *   ETH-USD  coinbase 3120.01        3120.02        2m
 *   BOOK     VENUE    STATE     SEQ  AGE    BID QTY    BID            ASK            ASK QTY
 *   BTC-USDT binance  live      4711 12ms   0.50000000 67012.34000000 67012.35000000 1.20000000
 *                                           1.00000000 67012.33000000 67012.36000000 0.01000000
 *   ETH-USD  coinbase RESYNCING 88   2m     0.5        3120.01        -
 *
 * A state other than `live` is upper case. A side that is missing, not a JSON array or too long to parse shows
 * "?" at its best level; a level that is not two strings shows "?"; an empty side shows "-". Only the top levels
 * are kept, and only the books that fit on the screen are read: a frame's memory is bounded by the screen, not by
 * the books' depth. When both are there, the quotes keep up to half the lines below the header and the books
 * take the rest (the quotes get back what the books leave); a block that does not fit is not cut but counted in
 * the "... and N more books" line. "N books" in the header counts the book keys. Without books the frame is the
 * quotes' alone.
 *
 * The frame renderer is callable in-process (tests render into a FILE); watch_main is the command. */
#ifndef TICKD_WATCH_H
#define TICKD_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <hiredis/hiredis.h>

#define WATCH_DEFAULT_URL "redis://127.0.0.1:6379/0"
#define WATCH_DEFAULT_PREFIX "tickd"
#define WATCH_DEFAULT_INTERVAL_MS 500
#define WATCH_FIELD_MAX 32 /* a value longer than 31 characters is cut: the table stays a table */
#define WATCH_DEFAULT_LEVELS 5 /* a book's levels a side shown */
#define WATCH_LEVELS_MAX 50

struct watch_opts {
    const char *redis_url;     /* redis://[user[:password]@]host[:port][/db] */
    const char *password_file; /* NULL: none */
    const char *password;      /* read from password_file by watch_main; NULL: the URL's, if any */
    const char *prefix;
    uint64_t interval_ms;
    bool once;     /* one frame without escape sequences, then exit */
    int rows, cols; /* screen size the frame must fit in (not a terminal: $LINES x $COLUMNS, else 24 x 100) */
    int64_t now_us; /* 0: the wall clock (tests pin it for exact ages) */
    int levels;     /* each book's top levels a side, 1 to WATCH_LEVELS_MAX; 0: WATCH_DEFAULT_LEVELS */
};

/* What the view remembers between frames (the previous frame's quotes, for updates/s). */
struct watch_view;
struct watch_view *watch_view_new(void);
void watch_view_free(struct watch_view *v);

/* Fills o from `tickd watch [options]` (argv[0] = "watch"); defaults for what is not given.
 * Returns 0, 1 when --help was printed on stdout, or -1 after a message on stderr (usage error). */
int watch_parse_args(int argc, char **argv, struct watch_opts *o);

/* Connects (1 s timeout, also for every later command), sends AUTH and SELECT as the URL and password say.
 * Returns 0, or -1 with a one-line reason in err (the URL's password never appears in it). */
int watch_connect(const struct watch_opts *o, redisContext **out, char *err, size_t errlen);

/* Reads the quotes, the best bids and offers and the books that fit, and prints one frame of at most o->rows
 * lines of at most o->cols characters (no escape sequences). Returns 0, or -1 with a reason in err when the
 * connection failed (the caller drops it and reconnects); nothing is printed then. */
int watch_render_frame(redisContext *c, const struct watch_opts *o, struct watch_view *v, FILE *out, char *err,
                       size_t errlen);

/* Prints the header line and the reason the view has no data (the live view while Redis is away). */
void watch_render_error(const struct watch_opts *o, FILE *out, const char *reason);

/* Copies the printable ASCII characters (0x20..0x7e) of src[0..len) into dst, at most cap - 1 of them. */
void watch_sanitize(char *dst, size_t cap, const char *src, size_t len);

/* `tickd watch`: 0 on a clean exit (Ctrl-C, SIGTERM), 1 when --once could not read Redis, 64 on bad usage. */
int watch_main(int argc, char **argv);

#endif
