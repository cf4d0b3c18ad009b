/* `tickd watch` against the test redis-server: hashes and trades streams written here, frames rendered in-process
 * into memory and compared line by line. Each test writes under its own key prefix, so nothing else in that Redis
 * matters. Times are pinned (opts.now_us), so ages and updates/s are exact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "tickd/watch.h"
#include "tt.h"

#define T0 1700000000000000LL /* a pinned "now", in µs */

static char prefix[64], url[128];
static int test_no;
static redisContext *rc;

/* Connects the writing client and picks a fresh prefix; skips when no test Redis was started. */
static void setup(void) {
    const char *port = getenv("TICKD_TEST_REDIS_PORT");
    if (!port) TT_SKIP("TICKD_TEST_REDIS_PORT unset (source tests/lib/servers.sh; servers_start)");
    snprintf(url, sizeof url, "redis://127.0.0.1:%s/0", port);
    snprintf(prefix, sizeof prefix, "wt%d-%d", (int)getpid(), ++test_no);
    if (rc) redisFree(rc);
    rc = redisConnect("127.0.0.1", atoi(port));
    TT_ASSERT(rc && !rc->err);
}

static void hset(const char *key, const char *const *fields) {
    const char *argv[32] = {"HSET", key};
    int n = 2;
    while (*fields && n < 32) argv[n++] = *fields++;
    redisReply *r = redisCommandArgv(rc, n, argv, NULL);
    TT_ASSERT(r && r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
}

static void quote(const char *venue, const char *symbol, const char *bid, const char *ask, const char *seq,
                  long long recv_us) {
    char key[256], recv[32];
    snprintf(key, sizeof key, "%s:quote:%s:%s", prefix, venue, symbol);
    snprintf(recv, sizeof recv, "%lld", recv_us);
    hset(key, (const char *[]){"bid", bid, "bid_qty", "1.5", "ask", ask, "ask_qty", "2", "last", bid, "ts", "1",
                               "seq", seq, "recv_ts", recv, "origin", "ws", NULL});
}

static void bbo(const char *symbol, const char *bid, const char *bid_venue, const char *ask, const char *ask_venue) {
    char key[256];
    snprintf(key, sizeof key, "%s:bbo:%s", prefix, symbol);
    hset(key, (const char *[]){"bid", bid, "bid_venue", bid_venue, "ask", ask, "ask_venue", ask_venue, NULL});
}

/* One entry of <prefix>:trades:<venue>:<symbol>, as the Redis sink XADDs it. */
static void trade(const char *venue, const char *symbol, const char *id, const char *price, const char *qty,
                  const char *side, long long recv_us) {
    char key[256], ts[32], recv[32];
    snprintf(key, sizeof key, "%s:trades:%s:%s", prefix, venue, symbol);
    snprintf(ts, sizeof ts, "%lld", recv_us - 700);
    snprintf(recv, sizeof recv, "%lld", recv_us);
    const char *argv[] = {"XADD", key, "MAXLEN", "~", "1000", "*", "id", id, "price", price, "qty", qty, "side", side,
                          "ts", ts, "recv_ts", recv};
    redisReply *r = redisCommandArgv(rc, 18, argv, NULL);
    TT_ASSERT(r && r->type == REDIS_REPLY_STRING);
    freeReplyObject(r);
}

/* A book hash as the Redis sink writes it: bids and asks are JSON text, written as given. */
static void book(const char *venue, const char *symbol, const char *bids, const char *asks, const char *seq,
                 const char *state, long long recv_us) {
    char key[256], ts[32], recv[32];
    snprintf(key, sizeof key, "%s:book:%s:%s", prefix, venue, symbol);
    snprintf(ts, sizeof ts, "%lld", recv_us - 900);
    snprintf(recv, sizeof recv, "%lld", recv_us);
    hset(key, (const char *[]){"bids", bids, "asks", asks, "seq", seq, "ts", ts, "recv_ts", recv, "state", state,
                               "resyncs", "0", NULL});
}

/* A JSON side of n levels: prices from `top` going `step` each level, the quantity of level i "<i+1>.5". */
static char *levels_json(int n, int top, int step) {
    size_t cap = 64 + (size_t)n * 40, len = 0;
    char *j = malloc(cap);
    TT_ASSERT(j);
    len += (size_t)snprintf(j + len, cap - len, "[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(j + len, cap - len, "%s[\"%d.00\",\"%d.5\"]", i ? "," : "", top + i * step, i + 1);
    snprintf(j + len, cap - len, "]");
    return j;
}

static struct watch_opts opts(int rows, int cols, long long now_us) {
    return (struct watch_opts){.redis_url = url, .prefix = prefix, .interval_ms = 500, .rows = rows, .cols = cols,
                               .now_us = now_us, .once = true, .levels = WATCH_DEFAULT_LEVELS};
}

/* Renders one frame into text (caller frees); fails the test if Redis cannot be read. */
static char *frame(const struct watch_opts *o, struct watch_view *v) {
    redisContext *c = NULL;
    char err[256] = "", *text = NULL;
    size_t len = 0;
    if (watch_connect(o, &c, err, sizeof err) < 0) TT_FAIL("connect: %s", err);
    FILE *f = open_memstream(&text, &len);
    int r = watch_render_frame(c, o, v, f, err, sizeof err);
    fclose(f);
    redisFree(c);
    if (r < 0) {
        free(text);
        TT_FAIL("render: %s", err);
    }
    return text;
}

/* Line n (0-based) of text, in a static buffer. */
static const char *line(const char *text, int n) {
    static char buf[1024];
    for (; n > 0 && text; n--) {
        text = strchr(text, '\n');
        if (text) text++;
    }
    if (!text || !*text) return "(none)";
    size_t len = strcspn(text, "\n");
    snprintf(buf, sizeof buf, "%.*s", (int)len, text);
    return buf;
}

static int count_lines(const char *text) {
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

static void test_frame_shows_exact_strings(void) {
    setup();
    quote("binance", "BTC-USDT", "67012.34000000", "67012.35000000", "100", T0 - 12000);
    quote("okx", "BTC-USDT", "67012.3", "67012.5", "7", T0 - 1500000);
    quote("coinbase", "ETH-USD", "3120.01", "3120.02", "9", T0 - 125000000);
    bbo("BTC-USDT", "67012.34000000", "binance", "67012.35000000", "binance");
    struct watch_opts o = opts(24, 120, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    char head[256];
    snprintf(head, sizeof head, "tickd watch  3 instruments  - updates/s  %s prefix=%s  ", url, prefix);
    TT_ASSERT(strncmp(line(text, 0), head, strlen(head)) == 0);
    TT_ASSERT_STR(line(text, 1), "SYMBOL   VENUE    BID            ASK            AGE    BEST BID               BEST ASK");
    TT_ASSERT_STR(line(text, 2), "BTC-USDT binance  67012.34000000 67012.35000000 12ms   67012.34000000 binance "
                                 "67012.35000000 binance");
    TT_ASSERT_STR(line(text, 3), "         okx      67012.3        67012.5        1.5s");
    TT_ASSERT_STR(line(text, 4), "ETH-USD  coinbase 3120.01        3120.02        2m");
    TT_ASSERT_INT(count_lines(text), 5);
    free(text);
    watch_view_free(v);
}

static void test_frame_shows_last_trade(void) {
    setup();
    quote("binance", "BTC-USDT", "67012.34000000", "67012.35000000", "100", T0 - 12000);
    quote("okx", "BTC-USDT", "67012.3", "67012.5", "7", T0 - 1500000); /* no trade: "-" */
    quote("coinbase", "ETH-USD", "3120.01", "3120.02", "9", T0 - 125000000);
    bbo("BTC-USDT", "67012.34000000", "binance", "67012.35000000", "binance");
    trade("binance", "BTC-USDT", "501", "67012.35000000", "0.01200000", "buy", T0 - 3000);
    trade("coinbase", "ETH-USD", "77", "3119.99", "0.5", "sell", T0 - 9000000);
    trade("coinbase", "ETH-USD", "78", "3120.02", "1.25", "sell", T0 - 2500000); /* the newest is shown */
    trade("kraken", "ETH-USD", "3", "3120", "1", "buy", T0); /* trades without a quote: no row */
    struct watch_opts o = opts(24, 160, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    TT_ASSERT(strstr(line(text, 0), "3 instruments  - updates/s"));
    TT_ASSERT_STR(line(text, 1), "SYMBOL   VENUE    BID            ASK            AGE    TRADE          QTY        "
                                 "SIDE TRADED BEST BID               BEST ASK");
    TT_ASSERT_STR(line(text, 2), "BTC-USDT binance  67012.34000000 67012.35000000 12ms   67012.35000000 0.01200000 "
                                 "buy  3ms    67012.34000000 binance 67012.35000000 binance");
    TT_ASSERT_STR(line(text, 3), "         okx      67012.3        67012.5        1.5s   -");
    TT_ASSERT_STR(line(text, 4), "ETH-USD  coinbase 3120.01        3120.02        2m     3120.02        1.25       "
                                 "sell 2.5s");
    TT_ASSERT_INT(count_lines(text), 5);
    free(text);

    /* A newer trade is read on the next frame; the quotes' seq and recv_ts alone make updates/s. */
    trade("binance", "BTC-USDT", "502", "67012.30000000", "2.00000000", "sell", T0 + 400000);
    o.now_us = T0 + 500000;
    text = frame(&o, v);
    TT_ASSERT(strstr(line(text, 0), "3 instruments  0 updates/s"));
    TT_ASSERT(strncmp(line(text, 2), "BTC-USDT binance  67012.34000000 67012.35000000 512ms  67012.30000000 "
                                     "2.00000000 sell 100ms  67012.34000000 binance", 114) == 0);
    free(text);
    watch_view_free(v);
}

static void test_trades_that_cannot_be_shown(void) {
    setup();
    quote("binance", "BTC-USDT", "1.5", "2.5", "1", T0);
    quote("kraken", "BTC-USD", "1.5", "2.5", "1", T0);
    quote("okx", "ETH-USDT", "1.5", "2.5", "1", T0);
    char key[256];
    snprintf(key, sizeof key, "%s:trades:binance:BTC-USDT", prefix); /* not a stream: WRONGTYPE, no trade */
    hset(key, (const char *[]){"price", "9", NULL});
    trade("kraken", "BTC-USD", "1", "2", "3", "buy", T0);                /* a stream emptied since */
    snprintf(key, sizeof key, "%s:trades:kraken:BTC-USD", prefix);
    redisReply *r = redisCommand(rc, "XTRIM %s MAXLEN 0", key);
    TT_ASSERT(r && r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    struct watch_opts o = opts(24, 100, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    /* no quote has a trade: the frame is the one without trades columns */
    TT_ASSERT_STR(line(text, 1), "SYMBOL   VENUE   BID ASK AGE    BEST BID BEST ASK");
    TT_ASSERT_STR(line(text, 2), "BTC-USD  kraken  1.5 2.5 0ms");
    TT_ASSERT_STR(line(text, 3), "BTC-USDT binance 1.5 2.5 0ms");
    TT_ASSERT_STR(line(text, 4), "ETH-USDT okx     1.5 2.5 0ms");
    free(text);

    /* an entry without the usual fields, with control characters, or a receive time that is no number */
    snprintf(key, sizeof key, "%s:trades:okx:ETH-USDT", prefix);
    r = redisCommand(rc, "XADD %s * price %s side %s recv_ts %s", key, "1\x1b[2J.5", "sell\r\nXXXX", "soon");
    TT_ASSERT(r && r->type == REDIS_REPLY_STRING);
    freeReplyObject(r);
    text = frame(&o, v);
    for (const char *p = text; *p; p++) TT_ASSERT(*p == '\n' || (*p >= 0x20 && *p <= 0x7e));
    TT_ASSERT_STR(line(text, 1), "SYMBOL   VENUE   BID ASK AGE    TRADE  QTY SIDE    TRADED BEST BID BEST ASK");
    TT_ASSERT_STR(line(text, 2), "BTC-USD  kraken  1.5 2.5 0ms    -");
    TT_ASSERT_STR(line(text, 4), "ETH-USDT okx     1.5 2.5 0ms    1[2J.5     sellXXX ?");
    free(text);

    /* A narrow screen cuts the lines as it cuts the quotes'. */
    o = opts(5, 40, T0);
    text = frame(&o, v);
    TT_ASSERT_INT(count_lines(text), 5);
    for (int i = 0; i < 5; i++) TT_ASSERT(strlen(line(text, i)) <= 40);
    TT_ASSERT_STR(line(text, 1), "SYMBOL   VENUE   BID ASK AGE    TRADE  Q");
    TT_ASSERT_STR(line(text, 4), "ETH-USDT okx     1.5 2.5 0ms    1[2J.5");
    free(text);

    /* Only the quotes shown count: the one quote with a trade is below the screen, so no trades columns. */
    o = opts(4, 100, T0);
    text = frame(&o, v);
    TT_ASSERT_STR(line(text, 1), "SYMBOL   VENUE   BID ASK AGE    BEST BID BEST ASK");
    TT_ASSERT_STR(line(text, 3), "... and 2 more");
    free(text);
    watch_view_free(v);
}

/* `tickd watch --once` into a file (not a terminal): the frame is $LINES x $COLUMNS when they are set. */
static void test_once_into_a_file_takes_columns(void) {
    setup();
    quote("binance", "BTC-USDT", "67012.34000000", "67012.35000000", "1", T0);
    quote("okx", "BTC-USDT", "67012.3", "67012.5", "1", T0);
    quote("okx", "ETH-USDT", "3120.3", "3120.5", "1", T0);
    trade("binance", "BTC-USDT", "1", "67012.35000000", "0.5", "buy", T0);
    char path[] = "/tmp/test_watch.XXXXXX";
    int fd = mkstemp(path);
    TT_ASSERT(fd >= 0);
    unlink(path);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    setenv("COLUMNS", "45", 1);
    setenv("LINES", "4", 1);
    char *argv[] = {"watch", "--once", "--redis", url, "--prefix", prefix, NULL};
    int r = watch_main(6, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    unsetenv("COLUMNS");
    unsetenv("LINES");
    TT_ASSERT_INT(r, 0);
    char text[1024] = "";
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    TT_ASSERT(n > 0);
    text[n] = 0;
    TT_ASSERT_INT(count_lines(text), 4);
    TT_ASSERT_STR(line(text, 1), "SYMBOL   VENUE   BID            ASK");
    TT_ASSERT_STR(line(text, 2), "BTC-USDT binance 67012.34000000 67012.3500000"); /* cut at 45 */
    TT_ASSERT_STR(line(text, 3), "... and 2 more");
}

static void test_control_characters_are_stripped(void) {
    setup();
    quote("bin\x1b[2Jance", "BTC-\rUSDT", "1\x07.5\n", "2\x9b" "1m.5", "1", T0);
    bbo("BTC-\rUSDT", "1\x1b]0;owned\x07.5", "bin\x1b[2Jance", "2.5", "x\x7fy");
    struct watch_opts o = opts(24, 120, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    for (const char *p = text; *p; p++) TT_ASSERT(*p == '\n' || (*p >= 0x20 && *p <= 0x7e));
    TT_ASSERT_STR(line(text, 2), "BTC-USDT bin[2Jance 1.5 21m.5 0ms    1]0;owned.5 bin[2Jance 2.5 xy");
    free(text);
    watch_view_free(v);
}

static void test_updates_per_second_between_frames(void) {
    setup();
    quote("binance", "BTC-USDT", "1", "2", "1", T0);
    quote("binance", "ETH-USDT", "1", "2", "1", T0);
    quote("okx", "BTC-USDT", "1", "2", "1", T0);
    struct watch_view *v = watch_view_new();
    struct watch_opts o = opts(24, 100, T0);
    char *text = frame(&o, v);
    TT_ASSERT(strstr(line(text, 0), "3 instruments  - updates/s"));
    free(text);

    quote("binance", "BTC-USDT", "1", "2", "2", T0 + 1000); /* new seq */
    quote("okx", "BTC-USDT", "1", "2", "1", T0 + 2000);      /* same seq, new receive time */
    quote("kraken", "BTC-USD", "1", "2", "1", T0 + 3000);    /* a new instrument */
    o.now_us = T0 + 500000; /* half a second later: 3 changes -> 6/s */
    text = frame(&o, v);
    TT_ASSERT(strstr(line(text, 0), "4 instruments  6 updates/s"));
    free(text);

    o.now_us = T0 + 1500000;
    text = frame(&o, v);
    TT_ASSERT(strstr(line(text, 0), "4 instruments  0 updates/s"));
    free(text);
    watch_view_free(v);
}

static void test_frame_fits_the_screen(void) {
    setup();
    char sym[24];
    for (int i = 0; i < 30; i++) {
        snprintf(sym, sizeof sym, "S%02d-USDT", i);
        quote("binance", sym, "12345.678901234567890", "12345.678901234567899", "1", T0);
    }
    struct watch_opts o = opts(10, 40, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    TT_ASSERT_INT(count_lines(text), 10);
    for (int i = 0; i < 10; i++) TT_ASSERT(strlen(line(text, i)) <= 40);
    TT_ASSERT_STR(line(text, 2), "S00-USDT binance 12345.678901234567890 1");
    TT_ASSERT_STR(line(text, 9), "... and 23 more");
    free(text);
    watch_view_free(v);
}

static void test_odd_keys_and_empty_prefix(void) {
    setup();
    struct watch_opts o = opts(24, 100, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    char want[128];
    snprintf(want, sizeof want, "no quotes under %s:quote:* yet", prefix);
    TT_ASSERT_STR(line(text, 1), want);
    free(text);

    char key[128];
    snprintf(key, sizeof key, "%s:quote:novenue", prefix); /* no <venue>:<symbol> */
    hset(key, (const char *[]){"bid", "1", NULL});
    snprintf(key, sizeof key, "%s:quote:okx:X-Y", prefix); /* not a hash */
    redisReply *r = redisCommand(rc, "SET %s %s", key, "string");
    freeReplyObject(r);
    quote("okx", "BTC-USDT", "1", "2", "1", -1); /* recv_ts "-1": age unknown */
    text = frame(&o, v);
    TT_ASSERT(strstr(line(text, 0), "1 instruments"));
    TT_ASSERT_STR(line(text, 2), "BTC-USDT okx   1   2   ?");
    free(text);

    /* Glob characters in the prefix match only themselves: "wt?..." must not see "wt<pid>..." keys. */
    char glob[70];
    snprintf(glob, sizeof glob, "?%s", prefix + 1);
    o.prefix = glob;
    text = frame(&o, v);
    TT_ASSERT(strstr(line(text, 0), " 0 instruments"));
    free(text);
    watch_view_free(v);
}

/* Every character of a frame is printable ASCII or a newline. */
static void assert_printable(const char *text) {
    for (const char *p = text; *p; p++) TT_ASSERT(*p == '\n' || (*p >= 0x20 && *p <= 0x7e));
}

static void test_book_levels_in_order(void) {
    setup();
    book("kraken", "ETH-USD", "[[\"3120.01\",\"0.5\"],[\"3120.00\",\"12.25\"]]", "[[\"3120.02\",\"1\"]]", "88", "live",
         T0 - 125000000);
    book("coinbase", "BTC-USD", "[[\"67012.34000000\",\"0.01200000\"],[\"67012.3\",\"2\"],[\"67011.9\",\"0.5\"]]",
         "[[\"67012.35\",\"1.20000000\"],[\"67013\",\"3\"]]", "4711", "live", T0 - 12000);
    char *bids = levels_json(7, 100, -1), *asks = levels_json(6, 200, 1); /* deeper than the 5 shown */
    book("binance", "BTC-USD", bids, asks, "123456789", "live", T0 - 1500000);
    book("okx", "ADA-USDT", "[]", "[[\"0.3512\",\"100\"]]", "1", "live", T0); /* the symbol first, then the venue */
    free(bids);
    free(asks);
    struct watch_opts o = opts(24, 120, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    char head[256];
    snprintf(head, sizeof head, "tickd watch  0 instruments  4 books  - updates/s  %s prefix=%s  ", url, prefix);
    TT_ASSERT(strncmp(line(text, 0), head, strlen(head)) == 0);
    /* no quotes: the books are the frame, without the "no quotes" line */
    TT_ASSERT_STR(line(text, 1), "BOOK     VENUE    STATE SEQ       AGE    BID QTY    BID            ASK      ASK QTY");
    TT_ASSERT_STR(line(text, 2), "ADA-USDT okx      live  1         0ms               -              0.3512   100");
    TT_ASSERT_STR(line(text, 3), "BTC-USD  binance  live  123456789 1.5s   1.5        100.00         200.00   1.5");
    TT_ASSERT_STR(line(text, 4), "                                         2.5        99.00          201.00   2.5");
    TT_ASSERT_STR(line(text, 5), "                                         3.5        98.00          202.00   3.5");
    TT_ASSERT_STR(line(text, 6), "                                         4.5        97.00          203.00   4.5");
    TT_ASSERT_STR(line(text, 7), "                                         5.5        96.00          204.00   5.5");
    TT_ASSERT_STR(line(text, 8), "BTC-USD  coinbase live  4711      12ms   0.01200000 67012.34000000 67012.35 1.20000000");
    TT_ASSERT_STR(line(text, 9), "                                         2          67012.3        67013    3");
    TT_ASSERT_STR(line(text, 10), "                                         0.5        67011.9");
    TT_ASSERT_STR(line(text, 11), "ETH-USD  kraken   live  88        2m     0.5        3120.01        3120.02  1");
    TT_ASSERT_STR(line(text, 12), "                                         12.25      3120.00");
    TT_ASSERT_INT(count_lines(text), 13);
    free(text);

    /* The next frame reads the book as it is then. */
    book("okx", "ADA-USDT", "[[\"0.3511\",\"7\"]]", "[]", "2", "live", T0 + 100000);
    o.now_us = T0 + 500000;
    text = frame(&o, v);
    TT_ASSERT_STR(line(text, 2), "ADA-USDT okx      live  2         400ms  7          0.3511         -");
    free(text);
    watch_view_free(v);
}

static void test_book_not_live_stands_out(void) {
    setup();
    const char *lv = "[[\"1.5\",\"2\"]]";
    book("binance", "A-USD", lv, lv, "1", "syncing", T0);
    book("binance", "B-USD", lv, lv, "2", "resyncing", T0 - 2000);
    book("binance", "C-USD", lv, lv, "3", "stale", T0 - 61000000);
    book("binance", "D-USD", lv, lv, "4", "live", T0);
    book("binance", "E-USD", lv, lv, "5", "wo\x1b[2Jrse", T0); /* a state of no known name: marked, and printable */
    struct watch_opts o = opts(24, 100, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    assert_printable(text);
    TT_ASSERT_STR(line(text, 1), "BOOK  VENUE   STATE     SEQ AGE    BID QTY BID ASK ASK QTY");
    TT_ASSERT_STR(line(text, 2), "A-USD binance SYNCING   1   0ms    2       1.5 1.5 2");
    TT_ASSERT_STR(line(text, 3), "B-USD binance RESYNCING 2   2ms    2       1.5 1.5 2");
    TT_ASSERT_STR(line(text, 4), "C-USD binance STALE     3   1m     2       1.5 1.5 2");
    TT_ASSERT_STR(line(text, 5), "D-USD binance live      4   0ms    2       1.5 1.5 2");
    TT_ASSERT_STR(line(text, 6), "E-USD binance WO[2JRSE  5   0ms    2       1.5 1.5 2");
    free(text);

    /* back to live: no longer marked */
    book("binance", "B-USD", lv, lv, "6", "live", T0);
    text = frame(&o, v);
    TT_ASSERT_STR(line(text, 3), "B-USD binance live     6   0ms    2       1.5 1.5 2");
    free(text);
    watch_view_free(v);
}

static void test_books_that_cannot_be_shown_whole(void) {
    setup();
    book("a", "BADJSON", "[[\"1\",\"2\"]", "not json", "1", "live", T0);
    book("a", "NUMBERS", "[[1,2],[\"3\",\"4\"]]", "[[\"5\",6],[\"7\",\"8\"]]", "2", "live", T0);
    book("a", "SHAPES", "{\"bids\":[[\"1\",\"2\"]]}", "\"[[\\\"1\\\",\\\"2\\\"]]\"", "seven", "live", T0);
    /* levels of the wrong shape, each in its place; control characters inside the JSON strings */
    book("a", "LEVELS", "[[\"1\",\"2\",\"3\"],[\"4\"],null,[\"9\",\"10\"],[[\"5\",\"6\"]],[\"11\",\"12\"]]",
         "[[\"1\\u001b[2J.5\",\"2\\u0007x\"],[],\"7\",{\"p\":\"8\"}]", "4", "live", T0);
    book("a", "NUL", "[[\"1\\u0000\",\"2\"]]", "[[\"3\",\"4\"]]", "3", "live", T0); /* JSON the parser refuses */
    char *deep = levels_json(1000, 100000, -1); /* the most a task publishes: its top levels are shown */
    book("a", "DEEP", deep, "[]", "5", "live", T0);
    free(deep);
    char *huge = malloc(2u << 20); /* longer than the view parses */
    TT_ASSERT(huge);
    memset(huge, ' ', (2u << 20) - 1);
    memcpy(huge, "[[\"1\",\"2\"]]", 11);
    huge[(2u << 20) - 1] = 0;
    book("a", "HUGE", huge, "[[\"3\",\"4\"]]", "6", "live", T0);
    free(huge);
    char key[128];
    snprintf(key, sizeof key, "%s:book:a:MISSING", prefix); /* no bids, asks, seq nor recv_ts */
    hset(key, (const char *[]){"state", "stale", NULL});
    snprintf(key, sizeof key, "%s:book:a:OTHER", prefix); /* none of a book's fields: no block */
    hset(key, (const char *[]){"bid", "1", NULL});
    snprintf(key, sizeof key, "%s:book:a:STRING", prefix); /* not a hash: no block */
    redisReply *r = redisCommand(rc, "SET %s %s", key, "[[\"1\",\"2\"]]");
    TT_ASSERT(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    snprintf(key, sizeof key, "%s:book:novenue", prefix); /* no <venue>:<symbol>: not a book key */
    hset(key, (const char *[]){"bids", "[]", NULL});
    struct watch_opts o = opts(60, 120, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    assert_printable(text);
    TT_ASSERT(strstr(line(text, 0), "0 instruments  10 books  - updates/s")); /* the keys, whatever they hold */
    TT_ASSERT_STR(line(text, 1), "BOOK    VENUE STATE SEQ   AGE    BID QTY BID       ASK    ASK QTY");
    TT_ASSERT_STR(line(text, 2), "BADJSON a     live  1     0ms    ?       ?         ?      ?");
    TT_ASSERT_STR(line(text, 3), "DEEP    a     live  5     0ms    1.5     100000.00 -");
    TT_ASSERT_STR(line(text, 4), "                                 2.5     99999.00");
    TT_ASSERT_STR(line(text, 5), "                                 3.5     99998.00");
    TT_ASSERT_STR(line(text, 6), "                                 4.5     99997.00");
    TT_ASSERT_STR(line(text, 7), "                                 5.5     99996.00");
    TT_ASSERT_STR(line(text, 8), "HUGE    a     live  6     0ms    ?       ?         3      4");
    TT_ASSERT_STR(line(text, 9), "LEVELS  a     live  4     0ms    ?       ?         1[2J.5 2x");
    TT_ASSERT_STR(line(text, 10), "                                 ?       ?         ?      ?");
    TT_ASSERT_STR(line(text, 11), "                                 ?       ?         ?      ?");
    TT_ASSERT_STR(line(text, 12), "                                 10      9         ?      ?");
    TT_ASSERT_STR(line(text, 13), "                                 ?       ?");
    TT_ASSERT_STR(line(text, 14), "MISSING a     STALE ?     ?      ?       ?         ?      ?");
    TT_ASSERT_STR(line(text, 15), "NUL     a     live  3     0ms    ?       ?         3      4");
    TT_ASSERT_STR(line(text, 16), "NUMBERS a     live  2     0ms    ?       ?         ?      ?");
    TT_ASSERT_STR(line(text, 17), "                                 4       3         7      8");
    TT_ASSERT_STR(line(text, 18), "SHAPES  a     live  seven 0ms    ?       ?         ?      ?");
    TT_ASSERT_INT(count_lines(text), 19);
    free(text);

    /* The deep book with 50 levels a side: its top 50, in order. */
    o.levels = WATCH_LEVELS_MAX;
    text = frame(&o, v);
    TT_ASSERT_STR(line(text, 3), "DEEP    a     live  5   0ms    1.5     100000.00 -");
    TT_ASSERT_STR(line(text, 52), "                               50.5    99951.00");
    TT_ASSERT_STR(line(text, 53), "HUGE    a     live  6   0ms    ?       ?         3   4");
    free(text);
    watch_view_free(v);
}

static void test_levels_option(void) {
    struct watch_opts o;
    char *def[] = {"watch", NULL};
    TT_ASSERT_INT(watch_parse_args(1, def, &o), 0);
    TT_ASSERT_INT(o.levels, 5);
    char *two[] = {"watch", "--levels", "2", NULL};
    TT_ASSERT_INT(watch_parse_args(3, two, &o), 0);
    TT_ASSERT_INT(o.levels, 2);
    char *most[] = {"watch", "--levels=50", NULL};
    TT_ASSERT_INT(watch_parse_args(2, most, &o), 0);
    TT_ASSERT_INT(o.levels, 50);
    const char *bad[] = {"0", "51", "-1", "", "3x", " 3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *argv[] = {"watch", "--levels", (char *)bad[i], NULL};
        TT_ASSERT_INT(watch_parse_args(3, argv, &o), -1);
    }

    setup();
    char *bids = levels_json(4, 100, -1), *asks = levels_json(3, 200, 1);
    book("binance", "BTC-USD", bids, asks, "9", "live", T0);
    book("okx", "BTC-USD", bids, "[]", "10", "stale", T0);
    free(bids);
    free(asks);
    struct watch_view *v = watch_view_new();
    o = opts(24, 100, T0);
    o.levels = 2;
    char *text = frame(&o, v);
    TT_ASSERT_STR(line(text, 2), "BTC-USD binance live  9   0ms    1.5     100.00 200.00 1.5");
    TT_ASSERT_STR(line(text, 3), "                                 2.5     99.00  201.00 2.5");
    TT_ASSERT_STR(line(text, 4), "BTC-USD okx     STALE 10  0ms    1.5     100.00 -");
    TT_ASSERT_STR(line(text, 5), "                                 2.5     99.00");
    TT_ASSERT_INT(count_lines(text), 6);
    free(text);

    o.levels = 1;
    text = frame(&o, v);
    TT_ASSERT_STR(line(text, 2), "BTC-USD binance live  9   0ms    1.5     100.00 200.00 1.5");
    TT_ASSERT_STR(line(text, 3), "BTC-USD okx     STALE 10  0ms    1.5     100.00 -");
    TT_ASSERT_INT(count_lines(text), 4);
    free(text);

    o.levels = 0; /* options built without --levels: the default 5, here the books' 4 */
    text = frame(&o, v);
    TT_ASSERT_STR(line(text, 5), "                                 4.5     97.00");
    TT_ASSERT_STR(line(text, 6), "BTC-USD okx     STALE 10  0ms    1.5     100.00 -");
    TT_ASSERT_INT(count_lines(text), 10);
    free(text);

    /* --levels through the command: one frame into a file */
    char path[] = "/tmp/test_watch.XXXXXX";
    int fd = mkstemp(path);
    TT_ASSERT(fd >= 0);
    unlink(path);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    setenv("COLUMNS", "100", 1);
    setenv("LINES", "24", 1);
    char *argv[] = {"watch", "--once", "--redis", url, "--prefix", prefix, "--levels", "3", NULL};
    int r = watch_main(8, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    unsetenv("COLUMNS");
    unsetenv("LINES");
    TT_ASSERT_INT(r, 0);
    char out[2048] = "";
    ssize_t n = pread(fd, out, sizeof out - 1, 0);
    close(fd);
    TT_ASSERT(n > 0);
    out[n] = 0;
    TT_ASSERT_STR(line(out, 4), "                                 3.5     98.00  202.00 3.5");
    TT_ASSERT(strncmp(line(out, 5), "BTC-USD okx     STALE 10  ", 26) == 0); /* aged by the wall clock */
    TT_ASSERT_INT(count_lines(out), 8);
    watch_view_free(v);
}

static void test_quotes_and_books(void) {
    setup();
    quote("binance", "BTC-USDT", "67012.34000000", "67012.35000000", "100", T0 - 12000);
    quote("okx", "BTC-USDT", "67012.3", "67012.5", "7", T0 - 1500000);
    quote("coinbase", "ETH-USD", "3120.01", "3120.02", "9", T0 - 125000000);
    bbo("BTC-USDT", "67012.34000000", "binance", "67012.35000000", "binance");
    book("binance", "BTC-USDT", "[[\"67012.34000000\",\"0.50000000\"],[\"67012.33000000\",\"1.00000000\"]]",
         "[[\"67012.35000000\",\"1.20000000\"],[\"67012.36000000\",\"0.01000000\"]]", "4711", "live", T0 - 12000);
    book("coinbase", "ETH-USD", "[[\"3120.01\",\"0.5\"]]", "[]", "88", "resyncing", T0 - 125000000);
    struct watch_opts o = opts(24, 120, T0);
    struct watch_view *v = watch_view_new();
    char *text = frame(&o, v);
    TT_ASSERT(strstr(line(text, 0), "3 instruments  2 books  - updates/s"));
    TT_ASSERT_STR(line(text, 1), "SYMBOL   VENUE    BID            ASK            AGE    BEST BID               "
                                 "BEST ASK");
    TT_ASSERT_STR(line(text, 2), "BTC-USDT binance  67012.34000000 67012.35000000 12ms   67012.34000000 binance "
                                 "67012.35000000 binance");
    TT_ASSERT_STR(line(text, 3), "         okx      67012.3        67012.5        1.5s");
    TT_ASSERT_STR(line(text, 4), "ETH-USD  coinbase 3120.01        3120.02        2m");
    TT_ASSERT_STR(line(text, 5), "BOOK     VENUE    STATE     SEQ  AGE    BID QTY    BID            ASK            "
                                 "ASK QTY");
    TT_ASSERT_STR(line(text, 6), "BTC-USDT binance  live      4711 12ms   0.50000000 67012.34000000 67012.35000000 "
                                 "1.20000000");
    TT_ASSERT_STR(line(text, 7), "                                        1.00000000 67012.33000000 67012.36000000 "
                                 "0.01000000");
    TT_ASSERT_STR(line(text, 8), "ETH-USD  coinbase RESYNCING 88   2m     0.5        3120.01        -");
    TT_ASSERT_INT(count_lines(text), 9);
    free(text);

    /* Cut to the screen: whole blocks only, the rest counted; the quotes keep half the lines below the header. */
    o = opts(9, 60, T0);
    text = frame(&o, v);
    TT_ASSERT_INT(count_lines(text), 9);
    for (int i = 0; i < 9; i++) TT_ASSERT(strlen(line(text, i)) <= 60);
    TT_ASSERT_STR(line(text, 4), "ETH-USD  coinbase 3120.01        3120.02        2m");
    TT_ASSERT_STR(line(text, 5), "BOOK     VENUE    STATE     SEQ  AGE    BID QTY    BID");
    TT_ASSERT_STR(line(text, 6), "BTC-USDT binance  live      4711 12ms   0.50000000 67012.340");
    TT_ASSERT_STR(line(text, 8), "ETH-USD  coinbase RESYNCING 88   2m     0.5        3120.01");
    free(text);
    o = opts(8, 60, T0); /* the first block and the "more" line do not fit below the titles */
    text = frame(&o, v);
    TT_ASSERT_INT(count_lines(text), 6);
    TT_ASSERT_STR(line(text, 4), "ETH-USD  coinbase 3120.01        3120.02        2m");
    TT_ASSERT_STR(line(text, 5), "... and 2 more books");
    free(text);

    /* Many quotes: they take the lines the books leave, ... */
    char sym[24];
    for (int i = 0; i < 30; i++) {
        snprintf(sym, sizeof sym, "S%02d-USDT", i);
        quote("binance", sym, "1", "2", "1", T0);
    }
    o = opts(15, 80, T0);
    text = frame(&o, v);
    TT_ASSERT_INT(count_lines(text), 15);
    TT_ASSERT(strstr(line(text, 0), "33 instruments  2 books"));
    TT_ASSERT_STR(line(text, 9), "S04-USDT binance  1              2              0ms");
    TT_ASSERT_STR(line(text, 10), "... and 25 more");
    TT_ASSERT_STR(line(text, 11), "BOOK     VENUE    STATE     SEQ  AGE    BID QTY    BID            ASK");
    TT_ASSERT_STR(line(text, 12), "BTC-USDT binance  live      4711 12ms   0.50000000 67012.34000000 67012.35000000");
    TT_ASSERT_STR(line(text, 14), "ETH-USD  coinbase RESYNCING 88   2m     0.5        3120.01        -");
    free(text);

    /* ... and when the books want more, the quotes keep half of the lines below the header. */
    for (int i = 0; i < 10; i++) {
        snprintf(sym, sizeof sym, "Z%02d-USD", i);
        book("kraken", sym, "[[\"1\",\"2\"]]", "[[\"3\",\"4\"]]", "1", "live", T0);
    }
    text = frame(&o, v);
    TT_ASSERT_INT(count_lines(text), 15);
    TT_ASSERT(strstr(line(text, 0), "33 instruments  12 books"));
    TT_ASSERT_STR(line(text, 6), "S01-USDT binance  1              2              0ms");
    TT_ASSERT_STR(line(text, 7), "... and 28 more");
    TT_ASSERT_STR(line(text, 8), "BOOK     VENUE    STATE     SEQ  AGE    BID QTY    BID            ASK");
    TT_ASSERT_STR(line(text, 11), "ETH-USD  coinbase RESYNCING 88   2m     0.5        3120.01        -");
    TT_ASSERT_STR(line(text, 12), "Z00-USD  kraken   live      1    0ms    2          1              3");
    TT_ASSERT_STR(line(text, 13), "Z01-USD  kraken   live      1    0ms    2          1              3");
    TT_ASSERT_STR(line(text, 14), "... and 8 more books");
    free(text);
    watch_view_free(v);
}

static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd); /* nothing listens there now */
    return ntohs(a.sin_port);
}

static void test_unreachable_redis_is_an_error(void) {
    char bad[64], err[256] = "";
    snprintf(bad, sizeof bad, "redis://:secret@127.0.0.1:%d/0", closed_port());
    struct watch_opts o = {.redis_url = bad, .prefix = "tickd", .rows = 24, .cols = 100};
    redisContext *c = NULL;
    TT_ASSERT_INT(watch_connect(&o, &c, err, sizeof err), -1);
    TT_ASSERT(c == NULL);
    TT_ASSERT(strstr(err, "Connection refused"));
    TT_ASSERT(!strstr(err, "secret"));

    /* The live view's error frame: header, then the reason. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    o.interval_ms = 500;
    watch_render_error(&o, f, err);
    fclose(f);
    TT_ASSERT(strstr(line(text, 0), "redis://:***@127.0.0.1:"));
    TT_ASSERT(strstr(line(text, 1), "Connection refused -- retrying every 500ms"));
    free(text);

    /* --once: exit status 1 (the message goes to stderr). */
    char *argv[] = {"watch", "--once", "--redis", bad, NULL};
    TT_ASSERT_INT(watch_main(4, argv), 1);
}

static void test_error_reply_is_reported(void) {
    setup();
    char with_password[160], err[256] = "";
    snprintf(with_password, sizeof with_password, "redis://:hunter2@%s", url + strlen("redis://"));
    struct watch_opts o = opts(24, 100, T0);
    o.redis_url = with_password; /* the test Redis has no password: AUTH is refused */
    redisContext *c = NULL;
    TT_ASSERT_INT(watch_connect(&o, &c, err, sizeof err), -1);
    TT_ASSERT(strncmp(err, "redis AUTH: ", 12) == 0);
    TT_ASSERT(!strstr(err, "hunter2"));
}

static void test_options(void) {
    struct watch_opts o;
    char *def[] = {"watch", NULL};
    TT_ASSERT_INT(watch_parse_args(1, def, &o), 0);
    TT_ASSERT_STR(o.redis_url, "redis://127.0.0.1:6379/0");
    TT_ASSERT_STR(o.prefix, "tickd");
    TT_ASSERT_INT(o.interval_ms, 500);
    TT_ASSERT(!o.once);

    char *all[] = {"watch", "--redis", "redis://127.0.0.1:7000/3", "--prefix", "md", "--interval", "2s", "--once",
                   NULL};
    TT_ASSERT_INT(watch_parse_args(8, all, &o), 0);
    TT_ASSERT_STR(o.redis_url, "redis://127.0.0.1:7000/3");
    TT_ASSERT_STR(o.prefix, "md");
    TT_ASSERT_INT(o.interval_ms, 2000);
    TT_ASSERT(o.once);

    char *bad_interval[] = {"watch", "--interval", "10ms", NULL};
    TT_ASSERT_INT(watch_parse_args(3, bad_interval, &o), -1);
    char *bad_url[] = {"watch", "--redis", "http://x/", NULL};
    TT_ASSERT_INT(watch_parse_args(3, bad_url, &o), -1);
    char *bad_db[] = {"watch", "--redis", "redis://127.0.0.1/x", NULL};
    TT_ASSERT_INT(watch_parse_args(3, bad_db, &o), -1);
    char *bad_prefix[] = {"watch", "--prefix", "a b", NULL};
    TT_ASSERT_INT(watch_parse_args(3, bad_prefix, &o), -1);
    char *extra[] = {"watch", "more", NULL};
    TT_ASSERT_INT(watch_parse_args(2, extra, &o), -1);
}

static void test_sanitize(void) {
    char out[8];
    watch_sanitize(out, sizeof out, "a\x1b[b\0c", 6);
    TT_ASSERT_STR(out, "a[bc");
    watch_sanitize(out, sizeof out, "0123456789", 10);
    TT_ASSERT_STR(out, "0123456");
}

int main(void) {
    TT_RUN(test_options);
    TT_RUN(test_sanitize);
    TT_RUN(test_unreachable_redis_is_an_error);
    TT_RUN(test_frame_shows_exact_strings);
    TT_RUN(test_frame_shows_last_trade);
    TT_RUN(test_trades_that_cannot_be_shown);
    TT_RUN(test_once_into_a_file_takes_columns);
    TT_RUN(test_control_characters_are_stripped);
    TT_RUN(test_updates_per_second_between_frames);
    TT_RUN(test_frame_fits_the_screen);
    TT_RUN(test_odd_keys_and_empty_prefix);
    TT_RUN(test_book_levels_in_order);
    TT_RUN(test_book_not_live_stands_out);
    TT_RUN(test_books_that_cannot_be_shown_whole);
    TT_RUN(test_levels_option);
    TT_RUN(test_quotes_and_books);
    TT_RUN(test_error_reply_is_reported);
    if (rc) redisFree(rc);
    return tt_finish();
}
