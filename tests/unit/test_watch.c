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

static struct watch_opts opts(int rows, int cols, long long now_us) {
    return (struct watch_opts){.redis_url = url, .prefix = prefix, .interval_ms = 500, .rows = rows, .cols = cols,
                               .now_us = now_us, .once = true};
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
    TT_RUN(test_error_reply_is_reported);
    if (rc) redisFree(rc);
    return tt_finish();
}
