/* Tests of fakex's instrument lists, over real loopback sockets, read with tickd's own parsers
 * (venue_ops.instruments): each dialect answers tickd's request with every symbol, the venue's names, tick and lot
 * sizes and status, in the shape of the venue's documented answer (tests/venues: same keys, same JSON types);
 * Binance counts the list's weight of 20. The controls: a new listing is in every list and served on its streams
 * and REST like any other symbol (on a connection opened before it too); a halt and a delisting show in each
 * venue's own way (Binance HALT and BREAK, Coinbase trading_disabled and delisted, Kraken cancel_only and gone,
 * OKX suspend and gone) and still the symbol's market; the instrument faults (an HTTP status, malformed lists)
 * and the report's counters. 50,000 instruments are served and parsed, the time printed (never asserted). */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../fakex/fx_client.h"
#include "tickd/instrument.h"
#include "tickd/venue.h"
#include "tt.h"

static struct fxc_proc fx;
static char shape_err[512];

static const char *const venues[] = {"binance", "coinbase", "kraken", "okx"};

static void fakex_start(const char *const *args) {
    if (fx.pid > 0) fxc_stop(&fx); /* left by a failed test */
    if (fxc_spawn(&fx, args) < 0) TT_FAIL("fakex did not start (ready line '%s')", fx.ready);
}

static void fakex_stop_clean(void) { TT_ASSERT_INT(fxc_stop(&fx), 0); }

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

/* One request on a fresh connection; r holds the answer (the caller frees r->body). */
static void request(const char *venue, const char *method, const char *target, struct fxc_http *r) {
    struct fxc_conn c = {.fd = fxc_connect(fxc_port(&fx, venue))};
    TT_ASSERT(c.fd >= 0);
    int rc = fxc_http(&c, method, target, r, 20000);
    fxc_close(&c);
    if (rc != 0) TT_FAIL("%s %s on %s: no answer", method, target, venue);
}

static json_t *get_json(const char *venue, const char *target, int want) {
    struct fxc_http r;
    request(venue, "GET", target, &r);
    if (r.status != want) TT_FAIL("GET %s: status %d, expected %d: %.200s", target, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    free(r.body);
    return j;
}

/* A control request: its status (the body freed). */
static int control(const char *query) {
    char target[512];
    snprintf(target, sizeof target, "/_fakex/set?%s", query);
    struct fxc_http r;
    request("control", "POST", target, &r);
    free(r.body);
    return r.status;
}

static json_t *report_venue(const char *venue) {
    json_t *rep = get_json("control", "/_fakex/report", 200);
    json_t *v = json_object_get(json_object_get(rep, "venues"), venue);
    if (!v) TT_FAIL("no %s in the report", venue);
    json_incref(v);
    json_decref(rep);
    return v;
}

static long long instruments_counter(const char *venue, const char *key) {
    json_t *v = report_venue(venue);
    json_t *c = json_object_get(json_object_get(v, "instruments"), key);
    if (!json_is_integer(c)) TT_FAIL("report: %s instruments.%s missing", venue, key);
    long long n = (long long)json_integer_value(c);
    json_decref(v);
    return n;
}

static const struct venue_instruments *hook(const char *venue) {
    const struct venue_ops *v = venue_find(venue);
    TT_ASSERT(v && v->instruments);
    return v->instruments;
}

/* tickd's request for venue's list, answered by fakex and read by tickd's parser into l. */
static enum venue_msg load(const char *venue, struct instrument_list *l, char *detail, size_t *bytes) {
    struct fxc_http r;
    request(venue, "GET", hook(venue)->path, &r);
    if (bytes) *bytes = r.len;
    char scratch[VENUE_DETAIL_MAX];
    enum venue_msg kind = hook(venue)->parse(r.status, r.body, r.len, l, detail ? detail : scratch);
    free(r.body);
    return kind;
}

static const struct instrument *find(const struct instrument_list *l, const char *symbol) {
    const struct instrument *in = instrument_list_find(l, symbol);
    if (!in) TT_FAIL("%s not in the list", symbol);
    return in;
}

/* ---- shapes of the venues' documented answers ---- */

static bool same_type(json_t *a, json_t *b) {
    if (json_is_number(a) && json_is_number(b)) return true;
    if (json_is_boolean(a) && json_is_boolean(b)) return true;
    return json_typeof(a) == json_typeof(b);
}

static bool allowed(const char *key, const char *const *extra) {
    for (; extra && *extra; extra++)
        if (strcmp(*extra, key) == 0) return true;
    return false;
}

/* ref and got have the same keys (got may add the `extra` ones) with the same JSON types, recursively; each
 * element of a non-empty got array against the ref array's element of that index (or its first). */
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
            snprintf(shape_err, sizeof shape_err, "%s.%s: not in the venue's answer", path, k);
            return false;
        }
    } else if (json_is_array(r) && json_array_size(r) && json_array_size(g)) {
        for (size_t i = 0; i < json_array_size(g); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            size_t ri = i < json_array_size(r) ? i : 0;
            if (!shape_ok(json_array_get(r, ri), json_array_get(g, i), sub, extra)) return false;
        }
    }
    return true;
}

static json_t *ref(const char *rel) {
    char path[8192];
    if (!tt_venue_path(rel, path, sizeof path)) TT_FAIL("%s not found", path);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j) TT_FAIL("cannot read %s: %s", path, err.text);
    return j;
}

static const char *const all_args[] = {"--venue", "all", "--symbols", "BTC-USDT,ETH-USDT,BTC-USD,DOGE-USDT",
                                       "--rate", "200", NULL};

/* ---- tests ---- */

/* Each dialect answers tickd's request with every symbol, read by tickd's parser, every field as fakex has it. */
static void test_lists_read_by_tickd(void) {
    fakex_start(all_args);
    struct instrument_list l;
    instrument_list_init(&l);
    for (size_t v = 0; v < 4; v++) {
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_INT(l.n, 4);
        TT_ASSERT_INT(l.skipped, 0);
        for (size_t i = 0; i < l.n; i++) {
            TT_ASSERT_INT(l.v[i].status, INSTRUMENT_TRADING);
            TT_ASSERT(l.v[i].tick_size[0] && l.v[i].lot_size[0]);
        }
        TT_ASSERT_INT(instruments_counter(venues[v], "requests"), 1);
        TT_ASSERT_INT(instruments_counter(venues[v], "trading"), 4);
    }
    /* each venue's own names and texts (BTC-USDT: 2 price decimals; Kraken's own 1; sizes 8 decimals) */
    TT_ASSERT_INT(load("binance", &l, NULL, NULL), VENUE_MSG_TICKS);
    const struct instrument *in = find(&l, "BTC-USDT");
    TT_ASSERT_STR(in->venue_symbol, "BTCUSDT");
    TT_ASSERT_STR(in->base, "BTC");
    TT_ASSERT_STR(in->quote, "USDT");
    TT_ASSERT_STR(in->venue_status, "TRADING");
    TT_ASSERT_STR(in->tick_size, "0.01000000");
    TT_ASSERT_STR(in->lot_size, "0.00000001");
    TT_ASSERT_INT(in->price_decimals, 2);
    TT_ASSERT_INT(in->size_decimals, 8);
    TT_ASSERT_STR(find(&l, "DOGE-USDT")->tick_size, "0.00000100");
    TT_ASSERT_INT(load("coinbase", &l, NULL, NULL), VENUE_MSG_TICKS);
    in = find(&l, "BTC-USD");
    TT_ASSERT_STR(in->venue_symbol, "BTC-USD");
    TT_ASSERT_STR(in->venue_status, "online");
    TT_ASSERT_STR(in->tick_size, "0.01000000");
    TT_ASSERT_STR(in->lot_size, "0.00000001");
    TT_ASSERT_INT(load("kraken", &l, NULL, NULL), VENUE_MSG_TICKS);
    in = find(&l, "BTC-USD");
    TT_ASSERT_STR(in->venue_symbol, "XXBTZUSD");
    TT_ASSERT_STR(in->base, "XXBT");
    TT_ASSERT_STR(in->quote, "ZUSD");
    TT_ASSERT_STR(in->venue_status, "online");
    TT_ASSERT_STR(in->tick_size, "0.1");
    TT_ASSERT_STR(in->lot_size, "0.00000001");
    TT_ASSERT_INT(in->price_decimals, 1);
    TT_ASSERT_INT(in->size_decimals, 8);
    in = find(&l, "DOGE-USDT"); /* XDG is DOGE */
    TT_ASSERT_STR(in->venue_symbol, "XDGUSDT");
    TT_ASSERT_INT(in->price_decimals, 7);
    TT_ASSERT_INT(load("okx", &l, NULL, NULL), VENUE_MSG_TICKS);
    in = find(&l, "ETH-USDT");
    TT_ASSERT_STR(in->venue_symbol, "ETH-USDT");
    TT_ASSERT_STR(in->venue_status, "live");
    TT_ASSERT_STR(in->tick_size, "0.01");
    TT_ASSERT_STR(in->lot_size, "0.00000001");
    instrument_list_free(&l);
    fakex_stop_clean();
}

/* fakex's lists have the keys and JSON types of the venues' documented answers. */
static void test_shapes_of_the_documented_answers(void) {
    fakex_start(all_args);
    /* Binance: the example's rateLimits element is an emptied comment, its filters the filters page's; "sors" is
     * optional (present where SOR trades) */
    json_t *got = get_json("binance", "/api/v3/exchangeInfo", 200), *r = ref("binance/doc-rest-exchangeInfo.json");
    json_object_del(r, "sors");
    static const char *const rate_limit_keys[] = {"rateLimitType", "interval", "intervalNum", "limit", NULL};
    if (!shape_ok(r, got, "$", rate_limit_keys)) TT_FAIL("exchangeInfo: %s", shape_err);
    json_t *filters = ref("binance/doc-filters.json");
    size_t i, k;
    json_t *sym, *f, *doc;
    json_array_foreach(json_object_get(got, "symbols"), i, sym) {
        TT_ASSERT_INT(json_array_size(json_object_get(sym, "permissionSets")), 1); /* asked for: populated */
        json_array_foreach(json_object_get(sym, "filters"), k, f) {
            json_t *match = NULL;
            json_array_foreach(filters, i, doc) {
                if (json_equal(json_object_get(doc, "filterType"), json_object_get(f, "filterType"))) match = doc;
            }
            if (!match)
                TT_FAIL("filter %s not on the filters page", json_string_value(json_object_get(f, "filterType")));
            if (!shape_ok(match, f, "$.filter", NULL)) TT_FAIL("filter: %s", shape_err);
        }
    }
    json_decref(got);
    got = get_json("binance", "/api/v3/exchangeInfo?showPermissionSets=false", 200);
    json_array_foreach(json_object_get(got, "symbols"), i, sym)
        TT_ASSERT_INT(json_array_size(json_object_get(sym, "permissionSets")), 0);
    json_decref(got);
    json_decref(filters);
    json_decref(r);
    /* Coinbase: the example's keys, and trading_disabled of the schema */
    static const char *const coinbase_extra[] = {"trading_disabled", NULL};
    got = get_json("coinbase", "/products", 200);
    r = ref("coinbase/doc-rest-products.json");
    if (!shape_ok(r, got, "$", coinbase_extra)) TT_FAIL("products: %s", shape_err);
    TT_ASSERT_INT(json_array_size(got), 4);
    json_decref(got);
    json_decref(r);
    /* Kraken: every pair under its REST key, shaped as the example's XXBTZUSD */
    got = get_json("kraken", "/0/public/AssetPairs", 200);
    r = ref("kraken/doc-rest-AssetPairs.json");
    json_t *pair = json_object_get(json_object_get(r, "result"), "XXBTZUSD");
    const char *key;
    json_t *entry;
    TT_ASSERT_INT(json_object_size(json_object_get(got, "result")), 4);
    json_object_foreach(json_object_get(got, "result"), key, entry) if (!shape_ok(pair, entry, key, NULL))
        TT_FAIL("AssetPairs: %s", shape_err);
    TT_ASSERT(json_is_array(json_object_get(got, "error")) && json_array_size(json_object_get(got, "error")) == 0);
    json_decref(got);
    json_decref(r);
    /* OKX */
    got = get_json("okx", "/api/v5/public/instruments?instType=SPOT", 200);
    r = ref("okx/doc-rest-instruments.json");
    if (!shape_ok(r, got, "$", NULL)) TT_FAIL("instruments: %s", shape_err);
    TT_ASSERT_INT(json_array_size(json_object_get(got, "data")), 4);
    json_decref(got);
    json_decref(r);
    got = get_json("okx", "/api/v5/public/instruments?instType=SWAP", 200);
    TT_ASSERT_INT(json_array_size(json_object_get(got, "data")), 0);
    json_decref(got);
    got = get_json("okx", "/api/v5/public/instruments", 400);
    TT_ASSERT_STR(json_string_value(json_object_get(got, "code")), "51000");
    json_decref(got);
    fakex_stop_clean();
}

/* Binance weighs the list 20, in its used-weight header and its 429s. */
static void test_binance_weight(void) {
    fakex_start(all_args);
    struct fxc_http r;
    char used[32];
    request("binance", "GET", "/api/v3/exchangeInfo", &r);
    free(r.body);
    TT_ASSERT(fxc_header(&r, "X-MBX-USED-WEIGHT-1M", used, sizeof used));
    TT_ASSERT_STR(used, "20");
    request("binance", "GET", "/api/v3/exchangeInfo", &r);
    free(r.body);
    TT_ASSERT(fxc_header(&r, "X-MBX-USED-WEIGHT-1M", used, sizeof used));
    TT_ASSERT_STR(used, "40");
    TT_ASSERT_INT(control("venue=binance&rest_limit=50"), 200);
    request("binance", "GET", "/api/v3/exchangeInfo", &r); /* 60 > 50 */
    free(r.body);
    TT_ASSERT_INT(r.status, 429);
    struct instrument_list l;
    instrument_list_init(&l);
    TT_ASSERT_INT(control("venue=binance&clear=1&rest_limit=6000"), 200);
    TT_ASSERT_INT(load("binance", &l, NULL, NULL), VENUE_MSG_TICKS);
    instrument_list_free(&l);
    fakex_stop_clean();
}

/* A tick of `symbol` on an open Binance stream within 3 s (server pings answered). */
static bool binance_tick_of(struct fxc_conn *c, const char *symbol) {
    int64_t deadline = fxc_now_ms() + 3000;
    while (fxc_now_ms() < deadline) {
        int op;
        char *p;
        size_t n;
        if (fxc_ws_recv(c, &op, &p, &n, 500) <= 0) continue;
        if (op == 9) fxc_ws_send(c, 10, p, n);
        json_t *m = op == 1 ? json_loadb(p, n, 0, NULL) : NULL;
        free(p);
        json_t *data = json_object_get(m, "data");
        bool hit = json_is_object(data) && json_is_string(json_object_get(data, "s")) &&
                   strcmp(json_string_value(json_object_get(data, "s")), symbol) == 0;
        json_decref(m);
        if (hit) return true;
    }
    return false;
}

/* A new listing is in every list, and served like any other symbol, on a connection opened before it too. */
static void test_new_listing(void) {
    fakex_start(all_args);
    struct fxc_conn ws;
    TT_ASSERT_INT(fxc_ws_open(&ws, fxc_port(&fx, "binance"), "/stream?streams=btcusdt@bookTicker"), 0);
    TT_ASSERT(binance_tick_of(&ws, "BTCUSDT"));
    struct instrument_list before[4], now;
    instrument_list_init(&now);
    for (int v = 0; v < 4; v++) {
        instrument_list_init(&before[v]);
        TT_ASSERT_INT(load(venues[v], &before[v], NULL, NULL), VENUE_MSG_TICKS);
    }
    /* refused: no symbol, not BASE-QUOTE, listed already */
    TT_ASSERT_INT(control("venue=all&list=1"), 400);
    TT_ASSERT_INT(control("venue=all&list=1&symbol=new-usdt"), 400);
    TT_ASSERT_INT(control("venue=all&list=1&symbol=NEW-USDT-SWAP"), 400);
    TT_ASSERT_INT(control("venue=all&list=1&symbol=BTC-USDT"), 400);
    TT_ASSERT_INT(control("venue=all&list=1&symbol=NEW-USDT"), 200);
    for (int v = 0; v < 4; v++) {
        TT_ASSERT_INT(load(venues[v], &now, NULL, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_INT(now.n, 5);
        TT_ASSERT_INT(find(&now, "NEW-USDT")->status, INSTRUMENT_TRADING);
        struct instrument_changes c;
        TT_ASSERT_INT(instrument_list_diff(&before[v], &now, NULL, NULL, &c), 1);
        TT_ASSERT_INT(c.listed, 1);
        TT_ASSERT_INT(instruments_counter(venues[v], "listed"), 1);
        instrument_list_free(&before[v]);
    }
    TT_ASSERT_INT(control("venue=okx&list=1&symbol=NEW-USDT"), 400); /* once */
    /* its stream on the connection opened before, and REST, on every venue */
    TT_ASSERT_INT(fxc_ws_text(&ws, "{\"method\":\"SUBSCRIBE\",\"params\":[\"newusdt@bookTicker\"],\"id\":7}"), 0);
    TT_ASSERT(binance_tick_of(&ws, "NEWUSDT"));
    fxc_close(&ws);
    json_decref(get_json("binance", "/api/v3/ticker/bookTicker?symbol=NEWUSDT", 200));
    json_decref(get_json("coinbase", "/products/NEW-USDT/ticker", 200));
    json_t *k = get_json("kraken", "/0/public/Ticker?pair=NEWUSDT", 200);
    TT_ASSERT(json_object_get(json_object_get(k, "result"), "NEWUSDT") != NULL);
    json_decref(k);
    json_t *o = get_json("okx", "/api/v5/market/ticker?instId=NEW-USDT", 200);
    TT_ASSERT_STR(json_string_value(json_object_get(o, "code")), "0");
    json_decref(o);
    json_t *rv = report_venue("okx");
    TT_ASSERT_STR(
        json_string_value(json_object_get(json_object_get(json_object_get(rv, "symbols"), "NEW-USDT"), "status")),
        "trading");
    json_decref(rv);
    instrument_list_free(&now);
    fakex_stop_clean();
}

static long long updates_of(const char *venue, const char *symbol) {
    json_t *v = report_venue(venue);
    json_t *u = json_object_get(json_object_get(json_object_get(v, "symbols"), symbol), "updates");
    long long n = (long long)json_integer_value(u);
    json_decref(v);
    return n;
}

/* A halt and a delisting, each venue in its own words; the symbol's market stands still meanwhile. */
static void test_halt_and_delist(void) {
    fakex_start(all_args);
    struct instrument_list l;
    instrument_list_init(&l);
    TT_ASSERT_INT(control("venue=all&halt=1"), 400); /* a symbol is needed */
    TT_ASSERT_INT(control("venue=all&halt=1&symbol=XYZ-USDT"), 400);
    TT_ASSERT_INT(control("venue=all&halt=1&symbol=BTC-USDT"), 200);
    static const char *const halted[] = {"HALT", "online", "cancel_only", "suspend"};
    for (int v = 0; v < 4; v++) {
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_TICKS);
        const struct instrument *in = find(&l, "BTC-USDT");
        TT_ASSERT_INT(in->status, INSTRUMENT_HALTED);
        TT_ASSERT_STR(in->venue_status, halted[v]);
        TT_ASSERT_INT(find(&l, "ETH-USDT")->status, INSTRUMENT_TRADING);
        TT_ASSERT_INT(instruments_counter(venues[v], "halted"), 1);
    }
    long long btc = updates_of("binance", "BTC-USDT"), eth = updates_of("binance", "ETH-USDT");
    sleep_ms(300);
    TT_ASSERT_INT(updates_of("binance", "BTC-USDT"), btc); /* still */
    TT_ASSERT(updates_of("binance", "ETH-USDT") > eth);
    TT_ASSERT_INT(control("venue=all&halt=0&symbol=BTC-USDT"), 200);
    sleep_ms(300);
    TT_ASSERT(updates_of("binance", "BTC-USDT") > btc);
    /* delisted: Binance BREAK and Coinbase delisted stay listed, Kraken and OKX drop it */
    struct instrument_list was[4];
    for (int v = 0; v < 4; v++) {
        instrument_list_init(&was[v]);
        TT_ASSERT_INT(load(venues[v], &was[v], NULL, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_INT(find(&was[v], "ETH-USDT")->status, INSTRUMENT_TRADING);
    }
    TT_ASSERT_INT(control("venue=all&delist=1&symbol=ETH-USDT"), 200);
    for (int v = 0; v < 4; v++) {
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_TICKS);
        const struct instrument *in = instrument_list_find(&l, "ETH-USDT");
        if (v < 2) {
            TT_ASSERT(in != NULL);
            TT_ASSERT_INT(in->status, INSTRUMENT_DELISTED);
            TT_ASSERT_STR(in->venue_status, v == 0 ? "BREAK" : "delisted");
            TT_ASSERT_INT(l.n, 4);
        } else {
            TT_ASSERT(in == NULL);
            TT_ASSERT_INT(l.n, 3);
        }
        struct instrument_changes c;
        TT_ASSERT_INT(instrument_list_diff(&was[v], &l, NULL, NULL, &c), 1);
        TT_ASSERT_INT(c.delisted, 1);
        TT_ASSERT_INT(instruments_counter(venues[v], "delisted"), 1);
        instrument_list_swap(&was[v], &l); /* the delisted list, for the listing again below */
    }
    /* Kraken answers a pair delisted as unknown when named */
    json_t *k = get_json("kraken", "/0/public/AssetPairs?pair=ETHUSDT", 200);
    TT_ASSERT_STR(json_string_value(json_array_get(json_object_get(k, "error"), 0)), "EQuery:Unknown asset pair");
    json_decref(k);
    long long eth_now = updates_of("okx", "ETH-USDT");
    sleep_ms(300);
    TT_ASSERT_INT(updates_of("okx", "ETH-USDT"), eth_now);
    /* listed again: trading, a listing on every venue */
    TT_ASSERT_INT(control("venue=all&list=1&symbol=ETH-USDT"), 200);
    for (int v = 0; v < 4; v++) {
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_INT(find(&l, "ETH-USDT")->status, INSTRUMENT_TRADING);
        struct instrument_changes c;
        TT_ASSERT_INT(instrument_list_diff(&was[v], &l, NULL, NULL, &c), 1);
        TT_ASSERT_INT(c.listed, 1);
        instrument_list_free(&was[v]);
    }
    sleep_ms(300);
    TT_ASSERT(updates_of("okx", "ETH-USDT") > eth_now);
    instrument_list_free(&l);
    fakex_stop_clean();
}

/* The instrument faults: an HTTP status until cleared, N malformed lists; counted in the report. */
static void test_faults(void) {
    fakex_start(all_args);
    struct instrument_list l;
    instrument_list_init(&l);
    TT_ASSERT_INT(control("venue=all&instruments_status=500"), 200);
    for (int v = 0; v < 4; v++) {
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_UNAVAILABLE);
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_UNAVAILABLE);
        TT_ASSERT_INT(l.n, 0);
    }
    TT_ASSERT_INT(control("venue=okx&instruments_status=429"), 200);
    TT_ASSERT_INT(load("okx", &l, NULL, NULL), VENUE_MSG_RATE_LIMITED);
    TT_ASSERT_INT(control("venue=all&instruments_status=0&instruments_malformed=2"), 200);
    for (int v = 0; v < 4; v++) {
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_MALFORMED);
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_MALFORMED);
        TT_ASSERT_INT(load(venues[v], &l, NULL, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_INT(l.n, 4);
        TT_ASSERT_INT(instruments_counter(venues[v], "requests"), v == 3 ? 6 : 5);
        TT_ASSERT_INT(instruments_counter(venues[v], "faults"), v == 3 ? 5 : 4);
    }
    /* the other REST endpoints are not touched by these faults; http_status touches the list too */
    TT_ASSERT_INT(control("venue=all&instruments_malformed=1"), 200);
    json_decref(get_json("binance", "/api/v3/ticker/bookTicker?symbol=BTCUSDT", 200));
    TT_ASSERT_INT(control("venue=all&clear=1"), 200); /* clears the instrument faults too */
    TT_ASSERT_INT(load("binance", &l, NULL, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_INT(control("venue=coinbase&http_status=503"), 200);
    TT_ASSERT_INT(load("coinbase", &l, NULL, NULL), VENUE_MSG_UNAVAILABLE);
    TT_ASSERT_INT(control("venue=coinbase&http_status=0"), 200);
    TT_ASSERT_INT(load("coinbase", &l, NULL, NULL), VENUE_MSG_TICKS);
    instrument_list_free(&l);
    fakex_stop_clean();
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 50,000 instruments: 12,500 on each venue (the scale benchmark's split), then 50,000 on one; each list fetched and
 * parsed, the times printed. */
static void test_fifty_thousand(void) {
    static const struct {
        const char *venue, *count;
    } runs[] = {{"all", "12500"}, {"binance", "50000"}, {"kraken", "50000"}};
    struct instrument_list l;
    instrument_list_init(&l);
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        const char *args[] = {"--venue", runs[r].venue, "--symbols-count", runs[r].count, "--rate", "100", NULL};
        fakex_start(args);
        long want = atol(runs[r].count);
        for (int v = 0; v < 4; v++) {
            if (strcmp(runs[r].venue, "all") != 0 && strcmp(runs[r].venue, venues[v]) != 0) continue;
            double served[2] = {0}, parsed = 0;
            size_t bytes = 0;
            struct fxc_conn conn = {.fd = fxc_connect(fxc_port(&fx, venues[v]))}; /* kept alive: its buffer too */
            TT_ASSERT(conn.fd >= 0);
            for (int round = 0; round < 2; round++) { /* the first touches fresh memory on both sides */
                double t0 = now_s();
                struct fxc_http h;
                if (fxc_http(&conn, "GET", hook(venues[v])->path, &h, 20000) != 0)
                    TT_FAIL("no list from %s", venues[v]);
                double t1 = now_s();
                char detail[VENUE_DETAIL_MAX];
                enum venue_msg kind = hook(venues[v])->parse(h.status, h.body, h.len, &l, detail);
                parsed = now_s() - t1;
                served[round] = t1 - t0;
                bytes = h.len;
                free(h.body);
                TT_ASSERT_INT(kind, VENUE_MSG_TICKS);
                TT_ASSERT_INT(l.n, want);
                TT_ASSERT(bytes < hook(venues[v])->max_body);
            }
            fxc_close(&conn);
            fprintf(stderr, "    %s: %ld instruments, %.1f MB served in %.0f ms (again: %.0f ms), parsed in %.0f ms\n",
                    venues[v], want, (double)bytes / 1e6, served[0] * 1e3, served[1] * 1e3, parsed * 1e3);
        }
        fakex_stop_clean();
    }
    instrument_list_free(&l);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    TT_RUN(test_lists_read_by_tickd);
    TT_RUN(test_shapes_of_the_documented_answers);
    TT_RUN(test_binance_weight);
    TT_RUN(test_new_listing);
    TT_RUN(test_halt_and_delist);
    TT_RUN(test_faults);
    TT_RUN(test_fifty_thousand);
    if (fx.pid > 0) fxc_stop(&fx);
    return tt_finish();
}
