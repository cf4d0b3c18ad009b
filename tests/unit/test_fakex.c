/* Tests of fakex, the fake exchange, over real loopback sockets: every REST shape and websocket protocol is
 * compared with the venues' own messages in ../shared/venues (same keys, same JSON types), then the limits
 * (429, then 418, with Retry-After, each recorded as a violation), a few faults, the report's last values, a
 * clean exit on SIGTERM, and a short load run whose rate is printed (never asserted). The trade channels have no
 * example in ../shared: their messages are checked against the documented keys and types, and their ids, the
 * trade faults and the report's trade counts against what a client received. The REST recent-trades endpoints
 * are checked for each venue's keys, types, key and row order, against the trades a subscriber was sent (ids,
 * prices, sides), for the 1000-trade ring and each venue's default and maximum limit, Binance's weight of 25, the
 * 429s and the other REST faults. */
#define _GNU_SOURCE
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>

#include "../fakex/fx_client.h"
#include "tt.h"

static struct fxc_proc fx;
static char shape_err[512];

static void fakex_start(const char *const *args) {
    if (fx.pid > 0) fxc_stop(&fx); /* left by a failed test */
    if (fxc_spawn(&fx, args) < 0) TT_FAIL("fakex did not start (ready line '%s')", fx.ready);
}

static void fakex_stop_clean(void) { TT_ASSERT_INT(fxc_stop(&fx), 0); }

static const char *const all_venues[] = {"--venue", "all", "--symbols", "BTC-USDT,ETH-USDT,BTC-USD", "--rate", "200",
                                         NULL};

/* The first JSON value of a venue reference message (the first line of a .jsonl): tests/venues or ../shared/venues. */
static json_t *ref(const char *rel) {
    char path[8192];
    if (!tt_venue_path(rel, path, sizeof path) && !tt_shared_dir())
        TT_SKIP("../shared/venues is absent: the venue reference messages are needed");
    json_error_t err;
    json_t *j = json_load_file(path, JSON_DISABLE_EOF_CHECK, &err);
    if (!j) TT_FAIL("cannot read %s: %s", path, err.text);
    return j;
}

static bool same_type(json_t *a, json_t *b) {
    if (json_is_number(a) && json_is_number(b)) return true; /* 740.0 and 740 are both JSON numbers */
    if (json_is_boolean(a) && json_is_boolean(b)) return true;
    return json_typeof(a) == json_typeof(b);
}

static bool allowed(const char *key, const char *const *extra) {
    for (; extra && *extra; extra++)
        if (strcmp(*extra, key) == 0) return true;
    return false;
}

/* ref and got have the same keys (got may add the `extra` ones) with the same JSON types, recursively. */
static bool shape_ok(json_t *r, json_t *g, const char *path, const char *const *extra) {
    char sub[400];
    if (!same_type(r, g)) {
        snprintf(shape_err, sizeof shape_err, "%s: type %d, expected %d", path, json_typeof(g), json_typeof(r));
        return false;
    }
    if (json_is_object(r)) {
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v) {
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            if (!json_object_get(g, k)) {
                snprintf(shape_err, sizeof shape_err, "%s: missing", sub);
                return false;
            }
            if (!shape_ok(v, json_object_get(g, k), sub, extra)) return false;
        }
        json_object_foreach(g, k, v) if (!json_object_get(r, k) && !allowed(k, extra)) {
            snprintf(shape_err, sizeof shape_err, "%s.%s: not in the venue's message", path, k);
            return false;
        }
    } else if (json_is_array(r) && json_array_size(r) && json_array_size(g)) {
        size_t n = json_array_size(r) < json_array_size(g) ? json_array_size(r) : json_array_size(g);
        for (size_t i = 0; i < json_array_size(g); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (!shape_ok(json_array_get(r, i < n ? i : 0), json_array_get(g, i), sub, extra)) return false;
        }
    }
    return true;
}

#define ASSERT_SHAPE(reffile, got, extra)                                                                  \
    do {                                                                                                   \
        json_t *r_ = ref(reffile);                                                                         \
        bool ok_ = shape_ok(r_, (got), "$", (extra));                                                      \
        json_decref(r_);                                                                                   \
        if (!ok_) TT_FAIL("%s: %s", reffile, shape_err);                                                   \
    } while (0)

/* GET on an open connection; asserts the status and returns the parsed body (NULL when it is not JSON). */
static json_t *get_on(struct fxc_conn *c, const char *target, int want, struct fxc_http *keep) {
    struct fxc_http r;
    TT_ASSERT_INT(fxc_http(c, "GET", target, &r, 5000), 0);
    if (r.status != want) TT_FAIL("GET %s: status %d, expected %d: %s", target, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    if (keep) *keep = r;
    else free(r.body);
    return j;
}

/* GET on a fresh connection; asserts the status and returns the parsed body (NULL when it is not JSON). */
static json_t *get(const char *venue, const char *target, int want, struct fxc_http *keep) {
    struct fxc_conn c = {.fd = fxc_connect(fxc_port(&fx, venue))};
    struct fxc_http r;
    TT_ASSERT(c.fd >= 0);
    int rc = fxc_http(&c, "GET", target, &r, 5000);
    fxc_close(&c);
    TT_ASSERT_INT(rc, 0);
    if (r.status != want) TT_FAIL("GET %s: status %d, expected %d: %s", target, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    if (keep) *keep = r;
    else free(r.body);
    return j;
}

static void control(const char *query) {
    char target[512];
    snprintf(target, sizeof target, "/_fakex/set?%s", query);
    json_decref(get("control", target, 200, NULL));
}

static json_t *report(void) { return get("control", "/_fakex/report", 200, NULL); }

static int violations_of(json_t *rep, const char *kind) {
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(json_object_get(rep, "violations"), i, v) n +=
        strcmp(json_string_value(json_object_get(v, "kind")), kind) == 0;
    return n;
}

static void ws_open(struct fxc_conn *c, const char *venue, const char *path) {
    int rc = fxc_ws_open(c, fxc_port(&fx, venue), path);
    if (rc != 0) TT_FAIL("websocket %s%s refused: %d", venue, path, rc);
}

/* The next JSON text frame whose `key` is a string equal to `value` (or present at all when value is NULL).
 * Server pings are answered on the way. */
static json_t *ws_until(struct fxc_conn *c, const char *key, const char *value) {
    int64_t deadline = fxc_now_ms() + 5000;
    while (fxc_now_ms() < deadline) {
        int op;
        char *p;
        size_t n;
        int rc = fxc_ws_recv(c, &op, &p, &n, 200);
        if (rc < 0) TT_FAIL("connection closed while waiting for %s", key);
        if (rc == 0) continue;
        if (op == 9) fxc_ws_send(c, 10, p, n);
        json_t *j = op == 1 ? json_loadb(p, n, 0, NULL) : NULL;
        free(p);
        json_t *f = json_object_get(j, key);
        if (f && (!value || (json_is_string(f) && strcmp(json_string_value(f), value) == 0))) return j;
        json_decref(j);
    }
    TT_FAIL("no message with %s=%s within 5 s", key, value ? value : "*");
}

/* ---- REST shapes ---- */

static void test_binance_rest(void) {
    fakex_start(all_venues);
    struct fxc_http h;
    char used[32];
    json_t *j = get("binance", "/api/v3/ticker/bookTicker?symbol=BTCUSDT", 200, &h);
    ASSERT_SHAPE("binance/doc-rest-ticker-bookTicker-single.json", j, NULL);
    TT_ASSERT_STR(fxc_header(&h, "X-MBX-USED-WEIGHT-1M", used, sizeof used), "2");
    free(h.body);
    json_decref(j);
    j = get("binance", "/api/v3/ticker/bookTicker?symbols=%5B%22BTCUSDT%22,%22ETHUSDT%22%5D", 200, &h);
    ASSERT_SHAPE("binance/doc-rest-ticker-bookTicker-multi.json", j, NULL);
    TT_ASSERT_INT(json_array_size(j), 2);
    TT_ASSERT_STR(fxc_header(&h, "X-MBX-USED-WEIGHT-1M", used, sizeof used), "6");
    free(h.body);
    json_decref(j);
    j = get("binance", "/api/v3/ticker/price?symbol=ETHUSDT", 200, NULL);
    ASSERT_SHAPE("binance/doc-rest-ticker-price-single.json", j, NULL);
    json_decref(j);
    j = get("binance", "/api/v3/ticker/price", 200, NULL);
    ASSERT_SHAPE("binance/doc-rest-ticker-price-multi.json", j, NULL);
    TT_ASSERT_INT(json_array_size(j), 3);
    json_decref(j);
    j = get("binance", "/api/v3/ticker/bookTicker?symbol=NOPE", 400, NULL);
    ASSERT_SHAPE("binance/doc-rest-error-payload.json", j, NULL);
    json_decref(j);
    fakex_stop_clean();
}

static void test_other_rest(void) {
    fakex_start(all_venues);
    json_t *j = get("kraken", "/0/public/Ticker?pair=XBTUSD", 200, NULL);
    ASSERT_SHAPE("kraken/doc-rest-Ticker-response.json", j, NULL);
    json_decref(j);
    j = get("kraken", "/0/public/Ticker?pair=NOPE", 200, NULL);
    TT_ASSERT_STR(json_string_value(json_array_get(json_object_get(j, "error"), 0)), "EQuery:Unknown asset pair");
    json_decref(j);
    j = get("okx", "/api/v5/market/ticker?instId=BTC-USDT", 200, NULL);
    ASSERT_SHAPE("okx/doc-rest-market-ticker-response.json", j, NULL);
    json_decref(j);
    j = get("okx", "/api/v5/market/tickers?instType=SPOT", 200, NULL); /* every spot instrument, same rows */
    ASSERT_SHAPE("okx/doc-rest-market-ticker-response.json", j, NULL);
    TT_ASSERT_INT(json_array_size(json_object_get(j, "data")), 3);
    json_decref(j);
    /* no Coinbase REST example in shared: the documented keys and types */
    j = get("coinbase", "/products/BTC-USD/ticker", 200, NULL);
    TT_ASSERT(j != NULL);
    json_t *want = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "ask", "", "bid", "", "volume", "", "trade_id", 1,
                             "price", "", "size", "", "time", "");
    bool ok = shape_ok(want, j, "$", NULL);
    json_decref(want);
    json_decref(j);
    if (!ok) TT_FAIL("coinbase ticker: %s", shape_err);
    json_decref(get("coinbase", "/products/NOPE-USD/ticker", 404, NULL));
    fakex_stop_clean();
}

/* ---- websocket protocols ---- */

static void test_binance_ws(void) {
    fakex_start(all_venues);
    struct fxc_conn c;
    ws_open(&c, "binance", "/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker");
    json_t *m = ws_until(&c, "stream", "btcusdt@bookTicker");
    ASSERT_SHAPE("binance/ws_bookTicker.jsonl", m, NULL);
    json_decref(m);
    fxc_close(&c);

    ws_open(&c, "binance", "/ws");
    fxc_ws_text(&c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"ethusdt@bookTicker\"],\"id\":7}");
    m = ws_until(&c, "id", NULL);
    ASSERT_SHAPE("binance/doc-ws-subscribe-response.json", m, NULL);
    TT_ASSERT_INT(json_integer_value(json_object_get(m, "id")), 7);
    json_decref(m);
    m = ws_until(&c, "s", "ETHUSDT");
    ASSERT_SHAPE("binance/doc-ws-bookTicker.json", m, NULL);
    json_decref(m);

    /* server pings must be answered (ws_until does); then the planned close */
    control("venue=binance&ping_ms=100");
    usleep(400000);
    control("venue=binance&announce=200");
    m = ws_until(&c, "e", "serverShutdown");
    ASSERT_SHAPE("binance/doc-ws-serverShutdown-raw.json", m, NULL);
    json_decref(m);
    int op;
    char *p;
    size_t n;
    int rc;
    while ((rc = fxc_ws_recv(&c, &op, &p, &n, 3000)) > 0) free(p); /* drained until the close */
    TT_ASSERT_INT(rc, -1);
    fxc_close(&c);
    json_t *rep = report();
    TT_ASSERT_INT(json_integer_value(json_object_get(rep, "violations_total")), 0);
    json_decref(rep);
    fakex_stop_clean();
}

static void test_binance_pong_timeout(void) {
    const char *args[] = {"--venue", "binance", "--set", "ping_ms=100&pong_timeout_ms=300", NULL};
    fakex_start(args);
    struct fxc_conn c;
    ws_open(&c, "binance", "/ws/btcusdt@bookTicker");
    int op, rc, pings = 0;
    char *p;
    size_t n;
    while ((rc = fxc_ws_recv(&c, &op, &p, &n, 3000)) > 0) { /* never answer */
        pings += op == 9;
        free(p);
    }
    TT_ASSERT_INT(rc, -1);
    TT_ASSERT(pings >= 1);
    fxc_close(&c);
    json_t *rep = report();
    TT_ASSERT_INT(violations_of(rep, "pong_timeout"), 1);
    json_decref(rep);
    fakex_stop_clean();
}

static void test_coinbase_ws(void) {
    fakex_start(all_venues);
    struct fxc_conn c;
    ws_open(&c, "coinbase", "/");
    fxc_ws_text(&c, "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"ticker\",\"heartbeat\"]}");
    json_t *m = ws_until(&c, "type", "subscriptions");
    ASSERT_SHAPE("coinbase/ws_subscriptions.jsonl", m, NULL);
    json_decref(m);
    const char *const sizes[] = {"best_bid_size", "best_ask_size", NULL}; /* today's feed adds them */
    m = ws_until(&c, "type", "ticker");
    ASSERT_SHAPE("coinbase/ws_ticker.jsonl", m, sizes);
    TT_ASSERT_STR(json_string_value(json_object_get(m, "product_id")), "BTC-USD");
    json_decref(m);
    m = ws_until(&c, "type", "heartbeat");
    ASSERT_SHAPE("coinbase/doc-exchange-heartbeat-message.json", m, NULL);
    json_decref(m);
    fxc_ws_text(&c, "{\"type\":\"subscribe\",\"product_ids\":[\"NOPE-USD\"],\"channels\":[\"ticker\"]}");
    m = ws_until(&c, "type", "error");
    json_decref(m);
    fxc_close(&c);
    fakex_stop_clean();
}

static void test_kraken_ws(void) {
    fakex_start(all_venues);
    struct fxc_conn c;
    ws_open(&c, "kraken", "/v2");
    json_decref(ws_until(&c, "channel", "status"));
    fxc_ws_text(&c, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"ticker\",\"symbol\":[\"BTC/USD\"]},\"req_id\":3}");
    json_t *m = ws_until(&c, "method", "subscribe");
    TT_ASSERT(json_is_true(json_object_get(m, "success")));
    json_decref(m);
    m = ws_until(&c, "type", "snapshot");
    ASSERT_SHAPE("kraken/doc-ws-v2-ticker-snapshot.json", m, NULL);
    TT_ASSERT(json_is_number(json_object_get(json_array_get(json_object_get(m, "data"), 0), "bid")));
    json_decref(m);
    m = ws_until(&c, "type", "update");
    ASSERT_SHAPE("kraken/doc-ws-v2-ticker-snapshot.json", m, NULL);
    json_decref(m);
    json_decref(ws_until(&c, "channel", "heartbeat"));
    fxc_close(&c);
    fakex_stop_clean();
}

/* The subscriptions tickd makes for a true top of book: OKX bbo-tbt pushes shaped as the documentation's, and
 * Kraken's ticker on event_trigger "bbo" taken without a violation (left at trades, it is recorded). */
static void test_bbo_subscriptions(void) {
    fakex_start(all_venues);
    struct fxc_conn c;
    ws_open(&c, "okx", "/ws/v5/public");
    fxc_ws_text(&c, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"bbo-tbt\",\"instId\":\"BTC-USDT\"}]}");
    json_t *m = ws_until(&c, "event", "subscribe");
    TT_ASSERT_STR(json_string_value(json_object_get(json_object_get(m, "arg"), "channel")), "bbo-tbt");
    json_decref(m);
    m = ws_until(&c, "data", NULL);
    ASSERT_SHAPE("okx/doc-ws-bbo-tbt-push.json", m, NULL);
    json_decref(m);
    fxc_close(&c);

    ws_open(&c, "kraken", "/v2");
    json_decref(ws_until(&c, "channel", "status"));
    fxc_ws_text(&c, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"ticker\",\"symbol\":[\"BTC/USD\"],"
                    "\"event_trigger\":\"bbo\"}}");
    m = ws_until(&c, "method", "subscribe");
    TT_ASSERT(json_is_true(json_object_get(m, "success")));
    TT_ASSERT_STR(json_string_value(json_object_get(json_object_get(m, "result"), "event_trigger")), "bbo");
    json_decref(m);
    m = ws_until(&c, "type", "snapshot");
    ASSERT_SHAPE("kraken/doc-ws-v2-ticker-snapshot.json", m, NULL);
    json_decref(m);
    json_t *rep = report();
    TT_ASSERT_INT(violations_of(rep, "ticker_on_trades"), 0);
    json_decref(rep);
    fxc_ws_text(&c, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"ticker\",\"symbol\":[\"ETH/USDT\"]}}");
    m = ws_until(&c, "method", "subscribe");
    TT_ASSERT_STR(json_string_value(json_object_get(json_object_get(m, "result"), "event_trigger")), "trades");
    json_decref(m);
    rep = report();
    TT_ASSERT_INT(violations_of(rep, "ticker_on_trades"), 1);
    json_decref(rep);
    fxc_close(&c);
    fakex_stop_clean();
}

static void test_okx_ws(void) {
    const char *args[] = {"--venue", "okx", "--symbols", "BTC-USDT", "--set", "idle_ms=400", NULL};
    fakex_start(args);
    struct fxc_conn c;
    ws_open(&c, "okx", "/ws/v5/public");
    fxc_ws_text(&c, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"tickers\",\"instId\":\"BTC-USDT\"}]}");
    json_t *m = ws_until(&c, "event", "subscribe");
    ASSERT_SHAPE("okx/ws_event_subscribe.jsonl", m, NULL);
    json_decref(m);
    m = ws_until(&c, "data", NULL);
    ASSERT_SHAPE("okx/ws_tickers.jsonl", m, NULL);
    json_decref(m);
    fxc_ws_text(&c, "ping");
    int op, rc;
    char *p = NULL;
    size_t n;
    bool pong = false;
    while (!pong && (rc = fxc_ws_recv(&c, &op, &p, &n, 3000)) > 0) {
        pong = strcmp(p, "pong") == 0;
        free(p);
    }
    TT_ASSERT(pong);
    control("venue=okx&announce=300");
    m = ws_until(&c, "event", "notice");
    ASSERT_SHAPE("okx/doc-ws-notice-service-upgrade.json", m, NULL);
    TT_ASSERT_STR(json_string_value(json_object_get(m, "code")), "64008");
    json_decref(m);
    fxc_close(&c);

    /* a quiet client is dropped after idle_ms, and that is recorded */
    ws_open(&c, "okx", "/ws/v5/public");
    while ((rc = fxc_ws_recv(&c, &op, &p, &n, 3000)) > 0) free(p);
    TT_ASSERT_INT(rc, -1);
    fxc_close(&c);
    json_t *rep = report();
    TT_ASSERT_INT(violations_of(rep, "idle_timeout"), 1);
    json_decref(rep);

    /* OKX's request limits: arguments over 64 KB, more than 480 (un)subscribe requests per connection per hour */
    ws_open(&c, "okx", "/ws/v5/public");
    size_t big = 70000;
    char *huge = malloc(big + 64);
    int len = snprintf(huge, big + 64, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"tickers\",\"instId\":\"");
    memset(huge + len, 'A', big - (size_t)len);
    snprintf(huge + big, 64, "\"}]}");
    fxc_ws_text(&c, huge);
    free(huge);
    m = ws_until(&c, "event", "error");
    TT_ASSERT_STR(json_string_value(json_object_get(m, "code")), "60017");
    json_decref(m);
    for (int i = 0; i < 481; i++)
        fxc_ws_text(&c, "{\"op\":\"unsubscribe\",\"args\":[{\"channel\":\"tickers\",\"instId\":\"BTC-USDT\"}]}");
    m = ws_until(&c, "code", "60014");
    TT_ASSERT(m != NULL);
    json_decref(m);
    fxc_close(&c);
    rep = report();
    TT_ASSERT_INT(violations_of(rep, "ws_request_size"), 1);
    TT_ASSERT_INT(violations_of(rep, "ws_subscribe_rate"), 1);
    json_decref(rep);
    fakex_stop_clean();
}

/* ---- trades ---- */

/* What a trade message carries, whatever the venue's form. */
struct trade_seen {
    char sym[32];
    uint64_t id;
    bool snapshot; /* Coinbase last_match, Kraken snapshot */
    json_t *row;   /* the trade's own object (borrowed from the message) */
};

/* 1 when m is a trade message of venue (filling t), 0 when it is anything else. */
static int trade_of(const char *venue, json_t *m, struct trade_seen *t) {
    memset(t, 0, sizeof *t);
    const char *sym = NULL;
    json_t *id = NULL;
    if (!strcmp(venue, "binance")) {
        json_t *d = json_object_get(m, "data") ? json_object_get(m, "data") : m;
        const char *e = json_string_value(json_object_get(d, "e"));
        if (!e || strcmp(e, "trade")) return 0;
        t->row = d;
        sym = json_string_value(json_object_get(d, "s"));
        id = json_object_get(d, "t");
    } else if (!strcmp(venue, "coinbase")) {
        const char *type = json_string_value(json_object_get(m, "type"));
        if (!type || (strcmp(type, "match") && strcmp(type, "last_match"))) return 0;
        t->row = m;
        t->snapshot = type[0] == 'l';
        sym = json_string_value(json_object_get(m, "product_id"));
        id = json_object_get(m, "trade_id");
    } else if (!strcmp(venue, "kraken")) {
        const char *ch = json_string_value(json_object_get(m, "channel"));
        if (!ch || strcmp(ch, "trade")) return 0;
        t->row = json_array_get(json_object_get(m, "data"), 0);
        t->snapshot = !strcmp(json_string_value(json_object_get(m, "type")), "snapshot");
        sym = json_string_value(json_object_get(t->row, "symbol"));
        id = json_object_get(t->row, "trade_id");
    } else {
        const char *ch = json_string_value(json_object_get(json_object_get(m, "arg"), "channel"));
        if (!ch || strcmp(ch, "trades") || !json_object_get(m, "data")) return 0;
        t->row = json_array_get(json_object_get(m, "data"), 0);
        sym = json_string_value(json_object_get(t->row, "instId"));
        const char *tid = json_string_value(json_object_get(t->row, "tradeId"));
        if (tid) t->id = strtoull(tid, NULL, 10);
    }
    if (!sym || !t->row) TT_FAIL("%s: a trade without its symbol", venue);
    snprintf(t->sym, sizeof t->sym, "%s", sym);
    if (id) {
        if (!json_is_integer(id)) TT_FAIL("%s: the trade id is not an integer", venue);
        t->id = (uint64_t)json_integer_value(id);
    }
    if (!t->id) TT_FAIL("%s: a trade without its id", venue);
    return 1;
}

/* A quote (bookTicker, ticker, tickers or bbo-tbt) message of venue. */
static bool is_quote(const char *venue, json_t *m) {
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *channel = json_string_value(json_object_get(m, "channel"));
    if (!strcmp(venue, "binance"))
        return json_object_get(json_object_get(m, "data") ? json_object_get(m, "data") : m, "u") != NULL;
    if (!strcmp(venue, "coinbase")) return type && !strcmp(type, "ticker");
    if (!strcmp(venue, "kraken")) return channel && !strcmp(channel, "ticker");
    const char *ch = json_string_value(json_object_get(json_object_get(m, "arg"), "channel"));
    return ch && json_object_get(m, "data") && (!strcmp(ch, "tickers") || !strcmp(ch, "bbo-tbt"));
}

/* The next text frame as JSON (pings answered), NULL on timeout; fails when the connection ends. */
static json_t *ws_next(struct fxc_conn *c, int timeout_ms) {
    int64_t deadline = fxc_now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - fxc_now_ms()), op;
        char *p;
        size_t n;
        if (left <= 0) return NULL;
        int rc = fxc_ws_recv(c, &op, &p, &n, left);
        if (rc < 0) TT_FAIL("connection closed");
        if (rc == 0) return NULL;
        if (op == 9) fxc_ws_send(c, 10, p, n);
        json_t *j = op == 1 ? json_loadb(p, n, 0, NULL) : NULL;
        free(p);
        if (j) return j;
    }
}

/* The next trade message of venue; quotes on the way are counted in *quotes (when not NULL). */
static json_t *next_trade(struct fxc_conn *c, const char *venue, struct trade_seen *t, int *quotes) {
    int64_t deadline = fxc_now_ms() + 5000;
    while (fxc_now_ms() < deadline) {
        json_t *m = ws_next(c, 200);
        if (!m) continue;
        if (trade_of(venue, m, t)) return m;
        if (quotes) *quotes += is_quote(venue, m);
        json_decref(m);
    }
    TT_FAIL("%s: no trade within 5 s", venue);
}

#define ASSERT_SHAPE_OF(want, got, what)                                                                   \
    do {                                                                                                   \
        json_t *w_ = (want);                                                                               \
        bool ok_ = shape_ok(w_, (got), "$", NULL);                                                         \
        json_decref(w_);                                                                                   \
        if (!ok_) TT_FAIL("%s: %s", what, shape_err);                                                      \
    } while (0)

/* Also the venue's own example, where tests/venues or ../shared/venues has one. */
#define SHAPE_IF_EXAMPLE(reffile, got)                                                                     \
    do {                                                                                                   \
        char p_[8192];                                                                                     \
        if (tt_venue_path(reffile, p_, sizeof p_)) ASSERT_SHAPE(reffile, got, NULL);                       \
    } while (0)

static bool decimal_text(const char *s) {
    if (!s || !isdigit((unsigned char)*s)) return false;
    while (isdigit((unsigned char)*s)) s++;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s)) return false;
        while (isdigit((unsigned char)*s)) s++;
    }
    return *s == 0;
}

/* Each venue's trade channel, in the venue's own form (the documented keys and JSON types, nothing more). */
static void test_trade_shapes(void) {
    fakex_start(all_venues);
    struct fxc_conn c;
    struct trade_seen t;
    int quotes = 0;

    /* Binance: combined stream of trades only; then SUBSCRIBE on a raw connection */
    ws_open(&c, "binance", "/stream?streams=btcusdt@trade");
    json_t *m = next_trade(&c, "binance", &t, &quotes);
    json_t *trade = json_pack("{s:s, s:i, s:s, s:i, s:s, s:s, s:i, s:b, s:b}", "e", "", "E", 1, "s", "", "t", 1, "p",
                              "", "q", "", "T", 1, "m", 1, "M", 1);
    ASSERT_SHAPE_OF(json_pack("{s:s, s:O}", "stream", "", "data", trade), m, "binance combined trade");
    TT_ASSERT_STR(json_string_value(json_object_get(m, "stream")), "btcusdt@trade");
    TT_ASSERT_STR(t.sym, "BTCUSDT");
    const char *px = json_string_value(json_object_get(t.row, "p"));
    TT_ASSERT(decimal_text(px) && strlen(strchr(px, '.')) == 9); /* 8 decimals, as Binance prints them */
    TT_ASSERT(json_is_true(json_object_get(t.row, "M")));
    json_decref(m);
    for (int i = 0; i < 20; i++) json_decref(next_trade(&c, "binance", &t, &quotes));
    TT_ASSERT_INT(quotes, 0); /* trades only: no bookTicker */
    fxc_close(&c);
    ws_open(&c, "binance", "/ws");
    fxc_ws_text(&c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"ethusdt@trade\",\"ethusdt@bookTicker\"],\"id\":9}");
    m = ws_until(&c, "id", NULL);
    TT_ASSERT_INT(json_integer_value(json_object_get(m, "id")), 9);
    json_decref(m);
    m = next_trade(&c, "binance", &t, &quotes);
    ASSERT_SHAPE_OF(json_incref(trade), m, "binance raw trade");
    SHAPE_IF_EXAMPLE("binance/doc-ws-trade.json", m);
    TT_ASSERT_STR(t.sym, "ETHUSDT");
    json_decref(m);
    for (int i = 0; i < 20 && !quotes; i++) json_decref(next_trade(&c, "binance", &t, &quotes));
    TT_ASSERT(quotes > 0); /* both on one connection */
    fxc_ws_text(&c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":10}");
    m = ws_until(&c, "id", NULL);
    TT_ASSERT_INT(json_array_size(json_object_get(m, "result")), 2);
    json_decref(m);
    json_decref(trade);
    fxc_close(&c);

    /* quotes only: no trades */
    ws_open(&c, "binance", "/ws/btcusdt@bookTicker");
    int trades = 0;
    for (int i = 0; i < 30; i++) {
        m = ws_until(&c, "s", "BTCUSDT");
        trades += trade_of("binance", m, &t);
        json_decref(m);
    }
    TT_ASSERT_INT(trades, 0);
    fxc_close(&c);

    /* Coinbase: matches, a last_match first */
    json_t *match = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "", "trade_id", 1,
                              "sequence", 1, "maker_order_id", "", "taker_order_id", "", "time", "", "product_id", "",
                              "size", "", "price", "", "side", "");
    ws_open(&c, "coinbase", "/");
    fxc_ws_text(&c, "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"matches\"]}");
    m = ws_until(&c, "type", "subscriptions");
    TT_ASSERT_STR(json_string_value(json_object_get(json_array_get(json_object_get(m, "channels"), 0), "name")),
                  "matches");
    json_decref(m);
    quotes = 0;
    m = next_trade(&c, "coinbase", &t, &quotes);
    TT_ASSERT(t.snapshot);
    ASSERT_SHAPE_OF(json_incref(match), m, "coinbase last_match");
    uint64_t last = t.id, seq = (uint64_t)json_integer_value(json_object_get(m, "sequence"));
    json_decref(m);
    m = next_trade(&c, "coinbase", &t, &quotes);
    TT_ASSERT(!t.snapshot);
    ASSERT_SHAPE_OF(json_incref(match), m, "coinbase match");
    SHAPE_IF_EXAMPLE("coinbase/doc-ws-matches-match.json", m);
    TT_ASSERT_STR(json_string_value(json_object_get(m, "type")), "match");
    TT_ASSERT_STR(t.sym, "BTC-USD");
    TT_ASSERT(t.id == last + 1);
    TT_ASSERT((uint64_t)json_integer_value(json_object_get(m, "sequence")) > seq);
    const char *time = json_string_value(json_object_get(m, "time"));
    TT_ASSERT(strlen(time) == 27 && time[19] == '.' && time[26] == 'Z'); /* RFC 3339 with microseconds */
    const char *side = json_string_value(json_object_get(m, "side"));
    TT_ASSERT(!strcmp(side, "buy") || !strcmp(side, "sell"));
    TT_ASSERT(decimal_text(json_string_value(json_object_get(m, "price"))));
    TT_ASSERT(decimal_text(json_string_value(json_object_get(m, "size"))));
    TT_ASSERT_INT(strlen(json_string_value(json_object_get(m, "maker_order_id"))), 36);
    json_decref(m);
    TT_ASSERT_INT(quotes, 0);
    json_decref(match);
    fxc_close(&c);

    /* Kraken v2: trade, acked per symbol; numbers for price and qty */
    ws_open(&c, "kraken", "/v2");
    json_decref(ws_until(&c, "channel", "status"));
    fxc_ws_text(&c,
                "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"BTC/USD\"]},\"req_id\":4}");
    m = ws_until(&c, "method", "subscribe");
    TT_ASSERT(json_is_true(json_object_get(m, "success")));
    TT_ASSERT_STR(json_string_value(json_object_get(json_object_get(m, "result"), "channel")), "trade");
    TT_ASSERT_INT(json_integer_value(json_object_get(m, "req_id")), 4);
    json_decref(m);
    quotes = 0;
    m = next_trade(&c, "kraken", &t, &quotes);
    ASSERT_SHAPE_OF(json_pack("{s:s, s:s, s:[{s:s, s:s, s:f, s:f, s:s, s:i, s:s}]}", "channel", "", "type", "",
                              "data", "symbol", "", "side", "", "price", 1.5, "qty", 1.5, "ord_type", "", "trade_id",
                              1, "timestamp", ""),
                    m, "kraken trade");
    SHAPE_IF_EXAMPLE("kraken/doc-ws-v2-trade-update.json", m);
    TT_ASSERT_STR(json_string_value(json_object_get(m, "type")), "update");
    TT_ASSERT_STR(t.sym, "BTC/USD");
    TT_ASSERT(json_is_number(json_object_get(t.row, "price")));
    json_decref(m);
    TT_ASSERT_INT(quotes, 0);
    /* snapshot true: the last trade first, as a snapshot, then updates going on from it */
    fxc_ws_text(&c, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"ETH/USDT\"],"
                    "\"snapshot\":true}}");
    m = ws_until(&c, "method", "subscribe");
    TT_ASSERT(json_is_true(json_object_get(json_object_get(m, "result"), "snapshot")));
    json_decref(m);
    m = ws_until(&c, "type", "snapshot");
    TT_ASSERT(trade_of("kraken", m, &t) && t.snapshot);
    TT_ASSERT_STR(t.sym, "ETH/USDT");
    SHAPE_IF_EXAMPLE("kraken/doc-ws-v2-trade-snapshot.json", m);
    json_decref(m);
    last = t.id;
    do {
        m = next_trade(&c, "kraken", &t, &quotes);
        json_decref(m);
    } while (strcmp(t.sym, "ETH/USDT") != 0);
    TT_ASSERT(t.id == last + 1);
    fxc_close(&c);

    /* OKX: trades, acked as bbo-tbt is */
    ws_open(&c, "okx", "/ws/v5/public");
    fxc_ws_text(&c, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"}]}");
    m = ws_until(&c, "event", "subscribe");
    ASSERT_SHAPE("okx/ws_event_subscribe.jsonl", m, NULL);
    TT_ASSERT_STR(json_string_value(json_object_get(json_object_get(m, "arg"), "channel")), "trades");
    json_decref(m);
    quotes = 0;
    m = next_trade(&c, "okx", &t, &quotes);
    ASSERT_SHAPE_OF(json_pack("{s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s}]}", "arg", "channel", "",
                              "instId", "", "data", "instId", "", "tradeId", "", "px", "", "sz", "", "side", "", "ts",
                              "", "count", ""),
                    m, "okx trades");
    SHAPE_IF_EXAMPLE("okx/doc-ws-trades-push.json", m);
    TT_ASSERT_STR(t.sym, "BTC-USDT");
    TT_ASSERT(decimal_text(json_string_value(json_object_get(t.row, "px"))));
    TT_ASSERT_STR(json_string_value(json_object_get(t.row, "count")), "1");
    json_decref(m);
    TT_ASSERT_INT(quotes, 0);
    fxc_close(&c);
    json_t *rep = report();
    TT_ASSERT_INT(json_integer_value(json_object_get(rep, "violations_total")), 0);
    json_decref(rep);
    fakex_stop_clean();
}

/* Per venue: dense ids per symbol, the hole trade_gap makes, the repeat trade_dup makes, and the report's counts
 * equal to what the one trade subscriber received. Trades start only once the client listens (--trade-rate -1
 * until then), so it sees every one: half the venues with one trade per quote update (trade_rate 0), half on
 * their own clock. */
struct sym_trades {
    char name[32];
    uint64_t first, last, received, distinct, holes, hole_size, dups, snapshots;
};

static struct sym_trades *sym_of(struct sym_trades *st, size_t *n, const char *name) {
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(st[i].name, name)) return &st[i];
    snprintf(st[*n].name, sizeof st[*n].name, "%s", name);
    return &st[(*n)++];
}

static void take_trade(struct sym_trades *s, const struct trade_seen *t) {
    s->received++;
    if (t->snapshot) { /* the trade before: where the dense ids start */
        s->snapshots++;
        s->last = t->id;
        return;
    }
    if (s->last && t->id == s->last) s->dups++;
    else if (s->last && t->id != s->last + 1) s->holes++, s->hole_size = t->id - s->last - 1;
    if (s->last && t->id < s->last) TT_FAIL("%s: id %llu after %llu", s->name, (unsigned long long)t->id,
                                            (unsigned long long)s->last);
    if (t->id != s->last) s->distinct++;
    if (!s->first) s->first = t->id;
    s->last = t->id;
}

/* Reads trades for ms (or until quiet for quiet_ms when ms is 0). Returns the trade messages read. */
static int read_trades(struct fxc_conn *c, const char *venue, struct sym_trades *st, size_t *n, int ms) {
    int got = 0;
    int64_t end = fxc_now_ms() + ms;
    for (;;) {
        int left = ms ? (int)(end - fxc_now_ms()) : 400;
        if (left <= 0) break;
        json_t *m = ws_next(c, left);
        if (!m) {
            if (!ms) break;
            continue;
        }
        struct trade_seen t;
        if (trade_of(venue, m, &t)) {
            take_trade(sym_of(st, n, t.sym), &t);
            got++;
        } else if (is_quote(venue, m)) {
            json_decref(m);
            TT_FAIL("%s: a quote on a connection that subscribed trades only", venue);
        }
        json_decref(m);
    }
    return got;
}

/* names: the venue's name and the report's of each symbol subscribed, in pairs. */
static void trade_run(const char *venue, const char *open_path, const char *sub, int nsub, const char *rate,
                      const char *const *names) {
    struct fxc_conn c;
    char q[160];
    ws_open(&c, venue, open_path);
    if (sub) fxc_ws_text(&c, sub);
    struct sym_trades st[8] = {0};
    size_t n = 0;
    int acks = 0;
    int64_t deadline = fxc_now_ms() + 5000;
    while (acks < nsub && fxc_now_ms() < deadline) { /* the acks (and Coinbase's last_match) */
        json_t *m = ws_next(&c, 200);
        if (!m) continue;
        struct trade_seen t;
        if (trade_of(venue, m, &t)) take_trade(sym_of(st, &n, t.sym), &t);
        const char *type = json_string_value(json_object_get(m, "type"));
        acks += json_object_get(m, "event") || json_object_get(m, "success") || json_object_get(m, "result") ||
                (type && !strcmp(type, "subscriptions"));
        json_decref(m);
    }
    TT_ASSERT_INT(acks, nsub);
    snprintf(q, sizeof q, "venue=%s&trade_rate=%s", venue, rate);
    control(q);
    int got = read_trades(&c, venue, st, &n, 600);
    snprintf(q, sizeof q, "venue=%s&trade_gap=5", venue);
    control(q);
    got += read_trades(&c, venue, st, &n, 600);
    snprintf(q, sizeof q, "venue=%s&heartbeats_only=1", venue);
    control(q);
    got += read_trades(&c, venue, st, &n, 0); /* drained: the market is still */
    for (size_t i = 0; i < n; i++) st[i].dups = 0;
    uint64_t before[8];
    for (size_t i = 0; i < n; i++) before[i] = st[i].received;
    snprintf(q, sizeof q, "venue=%s&trade_dup=1", venue);
    control(q);
    got += read_trades(&c, venue, st, &n, 0);
    TT_ASSERT(got > 20);
    TT_ASSERT_INT(n, 2);
    json_t *rep = report();
    json_t *vr = json_object_get(json_object_get(rep, "venues"), venue);
    uint64_t received = 0;
    for (size_t i = 0; i < n; i++) {
        struct sym_trades *s = &st[i];
        received += s->received;
        if (s->holes != 1 || s->hole_size != 5 || s->dups != 1 || s->received != before[i] + 1) {
            json_decref(rep);
            TT_FAIL("%s %s: %llu holes (the last of %llu), %llu repeats after trade_dup, %llu trades", venue, s->name,
                    (unsigned long long)s->holes, (unsigned long long)s->hole_size, (unsigned long long)s->dups,
                    (unsigned long long)s->received);
        }
        const char *norm = NULL; /* the report names symbols BASE-QUOTE */
        for (int k = 0; k < 2; k++)
            if (!strcmp(names[2 * k], s->name)) norm = names[2 * k + 1];
        json_t *r = json_object_get(json_object_get(vr, "symbols"), norm ? norm : "");
        char last[24];
        snprintf(last, sizeof last, "%llu", (unsigned long long)s->last);
        if (!r) {
            json_decref(rep);
            TT_FAIL("%s %s: not a symbol subscribed", venue, s->name);
        }
        TT_ASSERT_STR(json_string_value(json_object_get(r, "last_trade_id")), last);
        TT_ASSERT_INT(json_integer_value(json_object_get(r, "trades")), (long long)s->distinct);
    }
    TT_ASSERT_INT(json_integer_value(json_object_get(vr, "trades_sent")), (long long)received);
    json_decref(rep);
    fxc_close(&c);
}

static void test_trade_ids_faults_report(void) {
    const char *args[] = {"--venue", "all", "--symbols", "BTC-USDT,ETH-USDT,BTC-USD", "--rate", "300",
                          "--trade-rate", "-1", NULL};
    fakex_start(args);
    static const char *const binance[] = {"BTCUSDT", "BTC-USDT", "ETHUSDT", "ETH-USDT"},
                             *const coinbase[] = {"BTC-USD", "BTC-USD", "ETH-USDT", "ETH-USDT"},
                             *const kraken[] = {"BTC/USDT", "BTC-USDT", "ETH/USDT", "ETH-USDT"},
                             *const okx[] = {"BTC-USDT", "BTC-USDT", "ETH-USDT", "ETH-USDT"};
    trade_run("binance", "/stream?streams=btcusdt@trade/ethusdt@trade", NULL, 0, "0", binance);
    trade_run("coinbase", "/",
              "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USDT\"],\"channels\":[\"matches\"]}", 1,
              "200", coinbase);
    trade_run("kraken", "/v2",
              "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"BTC/USDT\",\"ETH/USDT\"]}}",
              2, "0", kraken);
    trade_run("okx", "/ws/v5/public",
              "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},"
              "{\"channel\":\"trades\",\"instId\":\"ETH-USDT\"}]}",
              2, "150", okx);
    fakex_stop_clean();
}

/* The same seed gives the same trades (ids, prices, sizes, sides): load mode, so nothing happens before the
 * client listens. */
static void test_trades_deterministic(void) {
    char first[2][4096];
    for (int run = 0; run < 2; run++) {
        const char *args[] = {"--venue", "binance", "--symbols", "BTC-USDT,ETH-USDT", "--rate", "0", "--seed", "7",
                              "--log-level", "warn", NULL};
        fakex_start(args);
        struct fxc_conn c;
        ws_open(&c, "binance", "/ws/btcusdt@trade");
        size_t len = 0;
        first[run][0] = 0;
        for (int i = 0; i < 40; i++) {
            struct trade_seen t;
            json_t *m = next_trade(&c, "binance", &t, NULL);
            len += (size_t)snprintf(first[run] + len, sizeof first[run] - len, "%llu %s %s %d;",
                                    (unsigned long long)t.id, json_string_value(json_object_get(t.row, "p")),
                                    json_string_value(json_object_get(t.row, "q")),
                                    json_is_true(json_object_get(t.row, "m")));
            json_decref(m);
        }
        fxc_close(&c);
        fakex_stop_clean();
    }
    TT_ASSERT_STR(first[0], first[1]);
}

/* ---- REST recent trades ---- */

/* One trade as either path tells it: the taker's side, the price as a number. */
struct trade_fact {
    uint64_t id;
    double price;
    bool taker_buy;
};

static double num_of(json_t *j) { return json_is_string(j) ? strtod(json_string_value(j), NULL) : json_number_value(j); }

/* A trade message of the venue's websocket feed, as a fact. */
static struct trade_fact ws_fact(const char *venue, const struct trade_seen *t) {
    struct trade_fact f = {.id = t->id};
    json_t *r = t->row;
    if (!strcmp(venue, "binance")) {
        f.price = num_of(json_object_get(r, "p"));
        f.taker_buy = !json_is_true(json_object_get(r, "m"));
    } else if (!strcmp(venue, "coinbase")) { /* the maker's side */
        f.price = num_of(json_object_get(r, "price"));
        f.taker_buy = !strcmp(json_string_value(json_object_get(r, "side")), "sell");
    } else {
        f.price = num_of(json_object_get(r, strcmp(venue, "okx") ? "price" : "px"));
        f.taker_buy = !strcmp(json_string_value(json_object_get(r, "side")), "buy");
    }
    return f;
}

/* The rows of a REST recent-trades answer, as facts, NEWEST first whatever the venue's order. */
static size_t rest_facts(const char *venue, json_t *body, const char *kraken_key, struct trade_fact *out, size_t max) {
    json_t *rows = body;
    if (!strcmp(venue, "kraken")) rows = json_object_get(json_object_get(body, "result"), kraken_key);
    if (!strcmp(venue, "okx")) rows = json_object_get(body, "data");
    size_t n = json_array_size(rows);
    if (n > max) TT_FAIL("%s: %zu rows", venue, n);
    bool oldest_first = !strcmp(venue, "binance") || !strcmp(venue, "kraken");
    for (size_t k = 0; k < n; k++) {
        json_t *r = json_array_get(rows, oldest_first ? n - 1 - k : k);
        struct trade_fact *f = &out[k];
        if (!strcmp(venue, "binance")) {
            f->id = (uint64_t)json_integer_value(json_object_get(r, "id"));
            f->price = num_of(json_object_get(r, "price"));
            f->taker_buy = !json_is_true(json_object_get(r, "isBuyerMaker"));
        } else if (!strcmp(venue, "coinbase")) {
            f->id = (uint64_t)json_integer_value(json_object_get(r, "trade_id"));
            f->price = num_of(json_object_get(r, "price"));
            f->taker_buy = !strcmp(json_string_value(json_object_get(r, "side")), "sell");
        } else if (!strcmp(venue, "kraken")) {
            f->id = (uint64_t)json_integer_value(json_array_get(r, 6));
            f->price = num_of(json_array_get(r, 0));
            f->taker_buy = !strcmp(json_string_value(json_array_get(r, 3)), "b");
        } else {
            f->id = strtoull(json_string_value(json_object_get(r, "tradeId")), NULL, 10);
            f->price = num_of(json_object_get(r, "px"));
            f->taker_buy = !strcmp(json_string_value(json_object_get(r, "side")), "buy");
        }
    }
    for (size_t k = 1; k < n; k++) /* dense ids, in the venue's order */
        if (out[k].id + 1 != out[k - 1].id)
            TT_FAIL("%s: REST trade ids %llu then %llu (newest first)", venue, (unsigned long long)out[k - 1].id,
                    (unsigned long long)out[k].id);
    return n;
}

/* The keys appear in this order in the text (the first row's). */
static bool keys_in_order(const char *text, const char *const *keys) {
    for (; *keys; keys++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\":", *keys);
        const char *q = strstr(text, pat);
        if (!q) return false;
        text = q + strlen(pat);
    }
    return true;
}

/* The venue's answer: exact keys and JSON types, the key order, the venue's row order. */
static void check_trades_answer(const char *venue, json_t *j, const char *body) {
    char example[64];
    snprintf(example, sizeof example, "%s/doc-rest-trades.json", venue);
    SHAPE_IF_EXAMPLE(example, j); /* the venue's documented answer, where tests/venues has it */
    if (!strcmp(venue, "binance")) {
        static const char *const keys[] = {"id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch", NULL};
        ASSERT_SHAPE_OF(json_pack("[{s:i, s:s, s:s, s:s, s:i, s:b, s:b}]", "id", 1, "price", "", "qty", "", "quoteQty",
                                  "", "time", 1, "isBuyerMaker", 1, "isBestMatch", 1),
                        j, "binance trades");
        TT_ASSERT(keys_in_order(body, keys));
        json_t *r = json_array_get(j, 0);
        TT_ASSERT(json_is_true(json_object_get(r, "isBestMatch")));
        const char *px = json_string_value(json_object_get(r, "price"));
        TT_ASSERT(decimal_text(px) && strlen(strchr(px, '.')) == 9);
        TT_ASSERT(json_integer_value(json_object_get(r, "time")) > 1000000000000LL); /* ms */
        double quote = num_of(json_object_get(r, "price")) * num_of(json_object_get(r, "qty"));
        TT_ASSERT(fabs(num_of(json_object_get(r, "quoteQty")) - quote) < 1e-6 * (quote + 1));
    } else if (!strcmp(venue, "coinbase")) {
        static const char *const keys[] = {"time", "trade_id", "price", "size", "side", NULL};
        ASSERT_SHAPE_OF(json_pack("[{s:s, s:i, s:s, s:s, s:s}]", "time", "", "trade_id", 1, "price", "", "size", "",
                                  "side", ""),
                        j, "coinbase trades");
        TT_ASSERT(keys_in_order(body, keys));
        const char *time = json_string_value(json_object_get(json_array_get(j, 0), "time"));
        TT_ASSERT(strlen(time) == 27 && time[19] == '.' && time[26] == 'Z');
    } else if (!strcmp(venue, "kraken")) {
        ASSERT_SHAPE_OF(json_pack("{s:[], s:{s:[[s, s, f, s, s, s, i]], s:s}}", "error", "result", "XXBTZUSD", "",
                                  "", 1.5, "", "", "", 1, "last", ""),
                        j, "kraken trades");
        static const char *const keys[] = {"error", "result", "XXBTZUSD", "last", NULL};
        TT_ASSERT(keys_in_order(body, keys));
        json_t *r = json_array_get(json_object_get(json_object_get(j, "result"), "XXBTZUSD"), 0);
        TT_ASSERT(json_is_real(json_array_get(r, 2)));
        const char *side = json_string_value(json_array_get(r, 3));
        TT_ASSERT(!strcmp(side, "b") || !strcmp(side, "s"));
        TT_ASSERT_STR(json_string_value(json_array_get(r, 4)), "m");
        TT_ASSERT_STR(json_string_value(json_array_get(r, 5)), "");
        /* the time as written: seconds with at least 4 decimals */
        const char *p = strstr(body, "[[\"");
        TT_ASSERT(p != NULL);
        for (int q = 0; q < 4 && p; q++) p = strchr(p + 1, '"'); /* past price and volume */
        TT_ASSERT(p && p[1] == ',');
        const char *dot = strchr(p, '.'), *comma = strchr(p + 2, ',');
        TT_ASSERT(dot && comma && dot < comma && comma - dot - 1 >= 4);
        /* last: the newest trade's time in ns, as text */
        json_t *rows = json_object_get(json_object_get(j, "result"), "XXBTZUSD");
        const char *last = json_string_value(json_object_get(json_object_get(j, "result"), "last"));
        TT_ASSERT(strlen(last) == 19 && strspn(last, "0123456789") == 19);
        double newest = json_real_value(json_array_get(json_array_get(rows, json_array_size(rows) - 1), 2));
        TT_ASSERT(fabs(strtod(last, NULL) / 1e9 - newest) < 1e-5);
    } else {
        static const char *const keys[] = {"instId", "side", "sz", "source", "px", "tradeId", "ts", NULL};
        ASSERT_SHAPE_OF(json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s}]}", "code", "", "msg", "", "data",
                                  "instId", "", "side", "", "sz", "", "source", "", "px", "", "tradeId", "", "ts", ""),
                        j, "okx trades");
        TT_ASSERT(keys_in_order(body, keys));
        TT_ASSERT_STR(json_string_value(json_object_get(j, "code")), "0");
        json_t *r = json_array_get(json_object_get(j, "data"), 0);
        TT_ASSERT_STR(json_string_value(json_object_get(r, "instId")), "BTC-USDT");
        TT_ASSERT(decimal_text(json_string_value(json_object_get(r, "px"))));
        TT_ASSERT(strlen(json_string_value(json_object_get(r, "ts"))) == 13);
    }
}

struct rest_case {
    const char *venue, *ws_path, *sub, *rest_fmt, *unknown;
    int nacks, unknown_status, def, max;
};

static const struct rest_case rest_cases[] = {
    {"binance", "/ws/btcusdt@trade", NULL, "/api/v3/trades?symbol=BTCUSDT%s", "/api/v3/trades?symbol=NOPE", 0, 400,
     500, 1000},
    {"coinbase", "/", "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"matches\"]}",
     "/products/BTC-USD/trades?%s", "/products/NOPE-USD/trades", 1, 404, 100, 1000},
    {"kraken", "/v2", "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"BTC/USD\"]}}",
     "/0/public/Trades?pair=XBTUSD%s", "/0/public/Trades?pair=NOPE", 1, 200, 1000, 1000},
    {"okx", "/ws/v5/public", "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"}]}",
     "/api/v5/market/trades?instId=BTC-USDT%s", "/api/v5/market/trades?instId=NOPE", 1, 200, 100, 500},
};

/* The target with its limit (count for Kraken); limit 0: none. */
static void trades_target(const struct rest_case *rc, int limit, char *out, size_t len) {
    char q[32] = "";
    if (limit) snprintf(q, sizeof q, "&%s=%d", strcmp(rc->venue, "kraken") ? "limit" : "count", limit);
    snprintf(out, len, rc->rest_fmt, q[0] && strchr(rc->rest_fmt, '?')[1] == '%' ? q + 1 : q);
}

/* Each venue's REST recent trades: its shape and order, the latest trades equal to what a trade subscriber was
 * sent (ids, prices, sides), dense ids, the limit, the unknown symbol answered as the venue's ticker answers it. */
static void test_rest_trades(void) {
    fakex_start(all_venues);
    for (size_t v = 0; v < sizeof rest_cases / sizeof *rest_cases; v++) {
        const struct rest_case *rc = &rest_cases[v];
        struct fxc_conn c;
        char target[256], q[128];
        ws_open(&c, rc->venue, rc->ws_path);
        if (rc->sub) fxc_ws_text(&c, rc->sub);
        struct trade_fact seen[4096];
        size_t nseen = 0;
        int64_t end = fxc_now_ms() + 600;
        snprintf(q, sizeof q, "venue=%s&heartbeats_only=1", rc->venue);
        for (bool stopped = false;;) { /* trades for a while, then the market stops and the feed is drained */
            if (!stopped && fxc_now_ms() >= end) control(q), stopped = true;
            json_t *m = ws_next(&c, stopped ? 400 : 100);
            if (!m) {
                if (stopped) break;
                continue;
            }
            struct trade_seen t;
            if (trade_of(rc->venue, m, &t) && nseen < sizeof seen / sizeof *seen) seen[nseen++] = ws_fact(rc->venue, &t);
            json_decref(m);
        }
        fxc_close(&c);
        if (nseen < 6) TT_FAIL("%s: %zu trades on the websocket", rc->venue, nseen);

        struct fxc_http h;
        struct trade_fact got[1000];
        struct fxc_conn r = {.fd = fxc_connect(fxc_port(&fx, rc->venue))}; /* one keep-alive connection: OKX
                                                                             * takes 3 connects a second */
        TT_ASSERT(r.fd >= 0);
        trades_target(rc, 5, target, sizeof target);
        json_t *j = get_on(&r, target, 200, &h);
        TT_ASSERT(j != NULL);
        check_trades_answer(rc->venue, j, h.body);
        free(h.body);
        size_t n = rest_facts(rc->venue, j, "XXBTZUSD", got, 1000);
        json_decref(j);
        TT_ASSERT_INT(n, 5);
        for (size_t k = 0; k < n; k++) {
            const struct trade_fact *w = &seen[nseen - 1 - k], *r = &got[k];
            if (w->id != r->id || w->price != r->price || w->taker_buy != r->taker_buy)
                TT_FAIL("%s: REST trade %zu from the newest is %llu %.8f %s, the feed sent %llu %.8f %s", rc->venue, k,
                        (unsigned long long)r->id, r->price, r->taker_buy ? "buy" : "sell", (unsigned long long)w->id,
                        w->price, w->taker_buy ? "buy" : "sell");
        }
        /* the default limit: every trade the feed sent is there (fewer than the default were made) */
        trades_target(rc, 0, target, sizeof target);
        j = get_on(&r, target, 200, &h);
        check_trades_answer(rc->venue, j, h.body);
        free(h.body);
        n = rest_facts(rc->venue, j, "XXBTZUSD", got, 1000);
        json_decref(j);
        TT_ASSERT(n >= nseen && n <= (size_t)rc->def);
        TT_ASSERT(got[0].id == seen[nseen - 1].id);
        trades_target(rc, 1, target, sizeof target);
        j = get_on(&r, target, 200, NULL);
        TT_ASSERT_INT(rest_facts(rc->venue, j, "XXBTZUSD", got, 1000), 1);
        json_decref(j);
        /* an unknown symbol: the venue's answer for its ticker */
        j = get_on(&r, rc->unknown, rc->unknown_status, NULL);
        if (!strcmp(rc->venue, "binance")) TT_ASSERT_INT(json_integer_value(json_object_get(j, "code")), -1121);
        if (!strcmp(rc->venue, "coinbase")) TT_ASSERT_STR(json_string_value(json_object_get(j, "message")), "NotFound");
        if (!strcmp(rc->venue, "kraken"))
            TT_ASSERT_STR(json_string_value(json_array_get(json_object_get(j, "error"), 0)), "EQuery:Unknown asset pair");
        if (!strcmp(rc->venue, "okx")) TT_ASSERT_STR(json_string_value(json_object_get(j, "code")), "51001");
        json_decref(j);
        fxc_close(&r);
        snprintf(q, sizeof q, "venue=%s&heartbeats_only=0", rc->venue);
        control(q);
    }
    json_t *rep = report();
    TT_ASSERT_INT(json_integer_value(json_object_get(rep, "violations_total")), 0);
    json_decref(rep);
    fakex_stop_clean();
}

/* More trades than the ring holds: the last 1000 are kept, dense and ending at the report's last trade; each
 * venue's default and maximum limit. */
static void test_rest_trades_ring_and_limits(void) {
    const char *args[] = {"--venue", "all", "--symbols", "BTC-USDT,BTC-USD", "--rate", "50", "--trade-rate", "6000",
                          "--log-level", "warn", NULL};
    fakex_start(args);
    int64_t end = fxc_now_ms() + 5000;
    for (bool enough = false; !enough;) { /* until every venue made over 1000 trades of each symbol */
        usleep(100000);
        json_t *rep = report();
        enough = true;
        for (size_t v = 0; v < sizeof rest_cases / sizeof *rest_cases; v++)
            enough = enough && json_integer_value(json_object_get(
                                   json_object_get(json_object_get(json_object_get(json_object_get(rep, "venues"),
                                                                                   rest_cases[v].venue),
                                                                   "symbols"),
                                                   "BTC-USD"),
                                   "trades")) > 1100;
        json_decref(rep);
        if (!enough && fxc_now_ms() > end) TT_FAIL("fewer than 1100 trades a symbol within 5 s");
    }
    control("venue=all&heartbeats_only=1");
    usleep(50000);
    json_t *rep = report();
    static struct trade_fact got[1000];
    for (size_t v = 0; v < sizeof rest_cases / sizeof *rest_cases; v++) {
        const struct rest_case *rc = &rest_cases[v];
        char target[256];
        const char *sym = strcmp(rc->venue, "coinbase") && strcmp(rc->venue, "kraken") ? "BTC-USDT" : "BTC-USD";
        const char *last = json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(json_object_get(rep, "venues"), rc->venue), "symbols"), sym),
            "last_trade_id"));
        TT_ASSERT(last != NULL);
        trades_target(rc, 0, target, sizeof target); /* the default */
        json_t *j = get(rc->venue, target, 200, NULL);
        TT_ASSERT_INT(rest_facts(rc->venue, j, "XXBTZUSD", got, 1000), rc->def);
        json_decref(j);
        trades_target(rc, rc->max + 5000, target, sizeof target); /* over the maximum: the maximum */
        j = get(rc->venue, target, 200, NULL);
        size_t n = rest_facts(rc->venue, j, "XXBTZUSD", got, 1000);
        json_decref(j);
        TT_ASSERT_INT(n, rc->max);
        TT_ASSERT_INT(got[0].id, strtoull(last, NULL, 10));
        trades_target(rc, 7, target, sizeof target);
        j = get(rc->venue, target, 200, NULL);
        TT_ASSERT_INT(rest_facts(rc->venue, j, "XXBTZUSD", got, 1000), 7);
        json_decref(j);
    }
    json_decref(rep);
    fakex_stop_clean();
}

/* Binance counts the endpoint at weight 25 in X-MBX-USED-WEIGHT-1M and the rate window; every venue's 429 (Kraken's
 * throttle error) applies to it with Retry-After, and so do the other REST faults. */
static void test_rest_trades_limits_faults(void) {
    fakex_start(all_venues);
    struct fxc_http h;
    char used[32], retry[32];
    control("venue=binance&clear=1&rest_limit=60");
    json_decref(get("binance", "/api/v3/trades?symbol=BTCUSDT&limit=2", 200, &h));
    TT_ASSERT_STR(fxc_header(&h, "X-MBX-USED-WEIGHT-1M", used, sizeof used), "25");
    free(h.body);
    json_decref(get("binance", "/api/v3/trades?symbol=ETHUSDT", 200, &h));
    TT_ASSERT_STR(fxc_header(&h, "X-MBX-USED-WEIGHT-1M", used, sizeof used), "50");
    free(h.body);
    json_t *rep = report();
    TT_ASSERT_INT(json_integer_value(json_object_get(
                      json_object_get(json_object_get(json_object_get(rep, "venues"), "binance"), "rest_window"), "used")),
                  50);
    json_decref(rep);
    json_t *j = get("binance", "/api/v3/trades?symbol=BTCUSDT", 429, &h);
    TT_ASSERT_INT(json_integer_value(json_object_get(j, "code")), -1003);
    TT_ASSERT(fxc_header(&h, "Retry-After", retry, sizeof retry) && atoi(retry) >= 1);
    free(h.body);
    json_decref(j);
    json_decref(get("binance", "/api/v3/trades?symbol=BTCUSDT", 418, NULL)); /* went on after the 429: banned */
    control("venue=binance&clear=1&rest_limit=6000");

    static const char *const limited[][3] = {
        {"coinbase", "/products/BTC-USD/trades", "429"},
        {"okx", "/api/v5/market/trades?instId=BTC-USDT", "429"},
        {"kraken", "/0/public/Trades?pair=XBTUSD", "200"},
    };
    for (size_t v = 0; v < 3; v++) {
        char q[128];
        snprintf(q, sizeof q, "venue=%s&clear=1&rest_limit=1", limited[v][0]);
        control(q);
        json_decref(get(limited[v][0], limited[v][1], 200, NULL));
        j = get(limited[v][0], limited[v][1], atoi(limited[v][2]), &h);
        TT_ASSERT(fxc_header(&h, "Retry-After", retry, sizeof retry) && atoi(retry) >= 1);
        if (!strcmp(limited[v][0], "kraken"))
            TT_ASSERT_STR(json_string_value(json_array_get(json_object_get(j, "error"), 0)), "EGeneral:Too many requests");
        free(h.body);
        json_decref(j);
        snprintf(q, sizeof q, "venue=%s&clear=1&rest_limit=1000", limited[v][0]);
        control(q);
    }
    rep = report();
    TT_ASSERT_INT(violations_of(rep, "rate_limit"), 4);
    json_decref(rep);

    control("venue=okx&http_status=503");
    json_decref(get("okx", "/api/v5/market/trades?instId=BTC-USDT", 503, NULL));
    control("venue=okx&clear=1&malformed=1");
    j = get("okx", "/api/v5/market/trades?instId=BTC-USDT", 200, NULL);
    TT_ASSERT(j == NULL); /* half a document */
    j = get("okx", "/api/v5/market/trades?instId=BTC-USDT", 200, NULL);
    TT_ASSERT(j != NULL); /* then whole ones */
    json_decref(j);
    fakex_stop_clean();
}

/* ---- limits ---- */

static void test_binance_rest_limit_429_then_418(void) {
    const char *args[] = {"--venue", "binance", "--set", "rest_limit=10&rest_window_ms=60000&ban_ms=3000", NULL};
    fakex_start(args);
    for (int i = 0; i < 5; i++) json_decref(get("binance", "/api/v3/ticker/price?symbol=BTCUSDT", 200, NULL));
    struct fxc_http h;
    char retry[32];
    json_t *j = get("binance", "/api/v3/ticker/price?symbol=BTCUSDT", 429, &h);
    ASSERT_SHAPE("binance/doc-rest-error-payload.json", j, NULL);
    TT_ASSERT_INT(json_integer_value(json_object_get(j, "code")), -1003);
    TT_ASSERT(fxc_header(&h, "Retry-After", retry, sizeof retry) && atoi(retry) >= 1);
    free(h.body);
    json_decref(j);
    j = get("binance", "/api/v3/ticker/price?symbol=BTCUSDT", 418, &h);
    TT_ASSERT(fxc_header(&h, "Retry-After", retry, sizeof retry));
    TT_ASSERT_INT(atoi(retry), 3);
    free(h.body);
    json_decref(j);
    json_t *rep = report();
    TT_ASSERT_INT(violations_of(rep, "rate_limit"), 1);
    TT_ASSERT_INT(violations_of(rep, "ban"), 1);
    json_decref(rep);
    fakex_stop_clean();
}

static void test_ws_message_rate_limit(void) {
    const char *args[] = {"--venue", "binance", NULL};
    fakex_start(args);
    struct fxc_conn c;
    ws_open(&c, "binance", "/ws");
    for (int i = 0; i < 7; i++) fxc_ws_text(&c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":1}");
    int op, rc;
    char *p;
    size_t n;
    while ((rc = fxc_ws_recv(&c, &op, &p, &n, 3000)) > 0) free(p);
    TT_ASSERT_INT(rc, -1); /* dropped, as Binance does */
    fxc_close(&c);
    json_t *rep = report();
    TT_ASSERT_INT(violations_of(rep, "ws_msg_rate"), 1);
    json_decref(rep);
    fakex_stop_clean();
}

/* ---- faults ---- */

static void test_faults(void) {
    fakex_start(all_venues);
    struct fxc_conn c;
    int op, rc, frames = 0;
    char *p;
    size_t n;

    control("venue=binance&close_after=3");
    ws_open(&c, "binance", "/ws/btcusdt@bookTicker");
    while ((rc = fxc_ws_recv(&c, &op, &p, &n, 3000)) > 0) frames += op == 1, free(p);
    TT_ASSERT_INT(rc, -1);
    TT_ASSERT_INT(frames, 3);
    fxc_close(&c);
    control("venue=binance&clear=1&malformed=1");
    ws_open(&c, "binance", "/ws/btcusdt@bookTicker");
    TT_ASSERT_INT(fxc_ws_recv(&c, &op, &p, &n, 3000), 1);
    json_t *bad = json_loadb(p, n, 0, NULL);
    free(p);
    TT_ASSERT(bad == NULL); /* the damaged frame */
    json_decref(ws_until(&c, "s", "BTCUSDT")); /* then the feed goes on */
    fxc_close(&c);

    control("venue=okx&truncated=1");
    ws_open(&c, "okx", "/ws/v5/public");
    fxc_ws_text(&c, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"tickers\",\"instId\":\"BTC-USDT\"}]}");
    json_decref(ws_until(&c, "event", "subscribe"));
    while ((rc = fxc_ws_recv(&c, &op, &p, &n, 3000)) > 0) free(p);
    TT_ASSERT_INT(rc, -1);
    TT_ASSERT(c.len > 0); /* a partial frame was left */
    fxc_close(&c);

    control("venue=coinbase&http_status=503");
    json_decref(get("coinbase", "/products/BTC-USD/ticker", 503, NULL));
    control("venue=coinbase&clear=1&stall=1");
    c = (struct fxc_conn){.fd = fxc_connect(fxc_port(&fx, "coinbase"))};
    struct fxc_http h;
    TT_ASSERT_INT(fxc_http(&c, "GET", "/products/BTC-USD/ticker", &h, 500), -1); /* no answer */
    fxc_close(&c);

    control("venue=kraken&refuse=1");
    TT_ASSERT(fxc_ws_open(&c, fxc_port(&fx, "kraken"), "/v2") != 0);
    fxc_close(&c);
    fakex_stop_clean();
}

/* ---- report, exit, load ---- */

static void test_report_last_values(void) {
    const char *args[] = {"--venue", "binance", "--symbols", "BTC-USDT", "--rate", "500", NULL};
    fakex_start(args);
    struct fxc_conn c;
    ws_open(&c, "binance", "/ws/btcusdt@bookTicker");
    json_t *last = ws_until(&c, "s", "BTCUSDT");
    control("venue=binance&heartbeats_only=1"); /* the market stops; drain what is in flight */
    int op;
    char *p;
    size_t n;
    while (fxc_ws_recv(&c, &op, &p, &n, 500) > 0) {
        json_decref(last);
        last = json_loadb(p, n, 0, NULL);
        free(p);
    }
    fxc_close(&c);
    TT_ASSERT(last != NULL);
    json_t *rep = report();
    json_t *q = json_object_get(json_object_get(json_object_get(json_object_get(rep, "venues"), "binance"), "symbols"),
                                "BTC-USDT");
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", (long long)json_integer_value(json_object_get(last, "u")));
    bool same = !strcmp(json_string_value(json_object_get(q, "bid")), json_string_value(json_object_get(last, "b"))) &&
                !strcmp(json_string_value(json_object_get(q, "ask_qty")), json_string_value(json_object_get(last, "A"))) &&
                !strcmp(json_string_value(json_object_get(q, "seq")), seq);
    json_decref(rep);
    json_decref(last);
    TT_ASSERT(same);
    fakex_stop_clean();
}

static void test_sigterm_writes_report(void) {
    char path[] = "/tmp/fakex-reportXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    const char *args[] = {"--venue", "kraken", "--report", path, NULL};
    fakex_start(args);
    json_decref(get("kraken", "/0/public/Ticker", 200, NULL));
    fakex_stop_clean(); /* exit 0 means uv_loop_close() returned 0 */
    json_t *rep = json_load_file(path, 0, NULL);
    unlink(path);
    TT_ASSERT(rep != NULL);
    TT_ASSERT_INT(json_integer_value(json_object_get(json_object_get(json_object_get(rep, "venues"), "kraken"),
                                                     "http_requests")),
                  1);
    json_decref(rep);
}

static void test_load_rate_printed(void) {
    const char *args[] = {"--venue", "binance", "--symbols-count", "100", "--rate", "0", "--log-level", "warn", NULL};
    fakex_start(args);
    char path[8192] = "/stream?streams=";
    json_t *all = get("binance", "/api/v3/ticker/price", 200, NULL);
    size_t i;
    json_t *t;
    json_array_foreach(all, i, t) {
        char name[64];
        snprintf(name, sizeof name, "%s%s@bookTicker", i ? "/" : "", json_string_value(json_object_get(t, "symbol")));
        for (char *s = name; *s && *s != '@'; s++) *s = (char)tolower((unsigned char)*s);
        strcat(path, name);
    }
    json_decref(all);
    struct fxc_conn c;
    ws_open(&c, "binance", path);
    long frames = 0;
    int64_t start = fxc_now_ms(), end = start + 1000;
    while (fxc_now_ms() < end) {
        if (fxc_fill(&c, 100) < 0) break;
        int op;
        size_t hdr, plen, off = 0;
        while (fxc_ws_peek((uint8_t *)c.buf + off, c.len - off, &op, &hdr, &plen)) off += hdr + plen, frames++;
        fxc_consume(&c, off);
    }
    double secs = (double)(fxc_now_ms() - start) / 1000.0;
    fprintf(stderr, "    fakex load: %ld messages in %.2f s = %.0f msg/s (one client, 100 symbols)\n", frames, secs,
            frames / secs);
    fxc_close(&c);
    TT_ASSERT(frames > 0);
    fakex_stop_clean();
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    TT_RUN(test_binance_rest);
    TT_RUN(test_other_rest);
    TT_RUN(test_binance_ws);
    TT_RUN(test_binance_pong_timeout);
    TT_RUN(test_coinbase_ws);
    TT_RUN(test_kraken_ws);
    TT_RUN(test_okx_ws);
    TT_RUN(test_bbo_subscriptions);
    TT_RUN(test_trade_shapes);
    TT_RUN(test_trade_ids_faults_report);
    TT_RUN(test_trades_deterministic);
    TT_RUN(test_rest_trades);
    TT_RUN(test_rest_trades_ring_and_limits);
    TT_RUN(test_rest_trades_limits_faults);
    TT_RUN(test_binance_rest_limit_429_then_418);
    TT_RUN(test_ws_message_rate_limit);
    TT_RUN(test_faults);
    TT_RUN(test_report_last_values);
    TT_RUN(test_sigterm_writes_report);
    TT_RUN(test_load_rate_printed);
    if (fx.pid > 0) fxc_stop(&fx);
    return tt_finish();
}
