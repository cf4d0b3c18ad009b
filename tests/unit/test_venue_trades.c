/* Unit tests of the venue adapters' trades channel: each venue's documented example (tests/venues) parses to
 * exact trades, the subscribe messages and paths are exact, the maker's side is turned over where the venue
 * reports it (Coinbase) or says the buyer made (Binance), the control messages are classified as the bbo
 * channel's are, and every bad shape -- missing or ill-typed fields, prices and sizes of zero or below, unknown
 * symbols, a full or absent trades array, truncations and flipped bytes -- gives MALFORMED, unmapped or overflow
 * with no trade of a refused frame kept. The REST poll of recent trades alike: each venue's documented answer
 * parses to exact trades in ascending id order (whatever order the venue sends), the plan asks for each symbol
 * once with the venue's weight, errors and rate limits are told by status and by body, and every bad answer
 * keeps no trade. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/decimal.h"
#include "tickd/venue.h"
#include "tt.h"

#define MAX_TRADES 8
#define RECV_US 1900000000000000LL /* 2030-03-17: after every documented trade time */

/* ---- fixtures -------------------------------------------------------------------------------------- */

struct fixture {
    const struct venue_ops *v;
    const struct venue_channel *ch;
    struct venue_symbols syms;
    struct tick ticks[4];
    struct trade trades[MAX_TRADES];
    struct venue_out out;
};

static void fixture_init(struct fixture *fx, const char *venue, const char **syms, size_t n) {
    memset(fx, 0, sizeof *fx);
    fx->v = venue_find(venue);
    TT_ASSERT(fx->v != NULL);
    fx->ch = venue_channel_find(fx->v, "trades");
    TT_ASSERT(fx->ch != NULL);
    TT_ASSERT_INT(venue_symbols_init(&fx->syms, fx->v, syms, n), 0);
}

/* The text of the venue reference message <rel> (tests/venues, else ../shared/venues). Caller frees. */
static char *doc_file(const char *rel) {
    char path[8192];
    if (!tt_venue_path(rel, path, sizeof path)) TT_FAIL("%s not found", path);
    FILE *f = fopen(path, "rb");
    if (!f) TT_FAIL("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    return buf;
}

/* Every invariant of a parse: no ticks ever, a refused frame leaves no trade, and each kept trade is whole. */
static void check_out(const struct fixture *fx, enum venue_msg kind, size_t before) {
    TT_ASSERT_INT(fx->out.n, 0);
    TT_ASSERT(kind <= VENUE_MSG_MALFORMED);
    if (kind != VENUE_MSG_TICKS) TT_ASSERT_INT(fx->out.n_trades, before);
    TT_ASSERT(fx->out.n_trades <= fx->out.trades_cap);
    for (size_t i = 0; i < fx->out.n_trades; i++) {
        const struct trade *t = &fx->out.trades[i];
        TT_ASSERT(memchr(t->id, 0, sizeof t->id) && t->id[0]);
        TT_ASSERT(memchr(t->price, 0, sizeof t->price) && decimal_sign(t->price) == 1);
        TT_ASSERT(memchr(t->qty, 0, sizeof t->qty) && decimal_sign(t->qty) == 1);
        TT_ASSERT(t->side == TRADE_SIDE_BUY || t->side == TRADE_SIDE_SELL);
        TT_ASSERT_STR(t->venue, fx->v->name);
        TT_ASSERT_INT(t->origin, TICK_ORIGIN_STREAM);
        TT_ASSERT_INT(t->recv_us, RECV_US);
    }
}

/* Parses len bytes (copied to a buffer of exactly that size, so ASan sees a read past it) into a fresh output
 * whose trades array holds cap trades (cap < 0: no trades array given). */
static enum venue_msg parse_len(struct fixture *fx, const char *frame, size_t len, int cap) {
    venue_out_init(&fx->out, fx->ticks, 4, RECV_US, 0);
    fx->out.run = 7;
    if (cap >= 0) venue_out_trades(&fx->out, fx->trades, (size_t)cap);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, frame, len);
    enum venue_msg kind = fx->ch->ws_parse(copy, len, &fx->syms, &fx->out);
    free(copy);
    check_out(fx, kind, 0);
    return kind;
}

static enum venue_msg parse(struct fixture *fx, const char *frame) {
    return parse_len(fx, frame, strlen(frame), MAX_TRADES);
}

static void assert_trade(const struct trade *t, const char *symbol, const char *id, const char *price, const char *qty,
                         enum trade_side side, int64_t event_us) {
    TT_ASSERT_STR(t->symbol, symbol);
    TT_ASSERT_STR(t->id, id);
    TT_ASSERT_STR(t->price, price);
    TT_ASSERT_STR(t->qty, qty);
    TT_ASSERT_STR(trade_side_name(t->side), trade_side_name(side));
    TT_ASSERT_INT(t->event_us, event_us);
    TT_ASSERT(!t->bad_time);
    TT_ASSERT_INT(t->run, 7);
}

/* The frame `text` with one member of its trade object set to `value` (JSON text) or removed (NULL). The trade
 * object is the root, its "data" object (Binance combined) or data[0] (Kraken, OKX). Caller frees. */
static char *mutated(const char *text, const char *key, const char *value) {
    json_t *root = json_loads(text, 0, NULL);
    TT_ASSERT(root != NULL);
    json_t *data = json_object_get(root, "data");
    json_t *o = json_is_array(data) ? json_array_get(data, 0) : json_is_object(data) ? data : root;
    if (value) {
        json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
        TT_ASSERT(v != NULL);
        json_object_set_new(o, key, v);
    } else {
        json_object_del(o, key);
    }
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

struct mutation {
    const char *key, *value; /* value NULL: the member removed */
    enum venue_msg kind;
    size_t trades;
};

static void apply_mutations(struct fixture *fx, const char *text, const struct mutation *m, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char *frame = mutated(text, m[i].key, m[i].value);
        enum venue_msg kind = parse(fx, frame);
        if (kind != m[i].kind || fx->out.n_trades != m[i].trades)
            TT_FAIL("%s: %s=%s gave %s with %zu trades: %s", fx->v->name, m[i].key, m[i].value ? m[i].value : "(none)",
                    venue_msg_name(kind), fx->out.n_trades, frame);
        free(frame);
    }
}

static const char *binance_syms[] = {"BNB-BTC", "BTC-USDT"};
static const char *coinbase_syms[] = {"BTC-USD", "ETH-USD"};
static const char *kraken_syms[] = {"MATIC-USD", "BTC-USD"};
static const char *okx_syms[] = {"BTC-USDT", "ETH-USDT"};

/* ---- the channel table ----------------------------------------------------------------------------- */

static void test_trades_channels(void) {
    static const struct {
        const char *venue;
        bool dense;
        bool in_path;
    } want[] = {{"binance", true, true}, {"coinbase", true, false}, {"kraken", true, false}, {"okx", false, false}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct venue_ops *v = venue_find(want[i].venue);
        TT_ASSERT(v != NULL);
        const struct venue_channel *c = venue_channel_find(v, "trades"), *bbo = venue_channel_find(v, "bbo");
        TT_ASSERT(c != NULL && bbo != NULL);
        TT_ASSERT_INT(c->kind, VENUE_EVENT_TRADE);
        TT_ASSERT_INT(bbo->kind, VENUE_EVENT_QUOTE);
        TT_ASSERT_INT(c->dense_ids, want[i].dense);
        TT_ASSERT(c->ws_path && c->ws_subscribe && c->ws_parse);
        TT_ASSERT_INT(c->ws_path_subscribes != NULL, want[i].in_path);
        TT_ASSERT(c->rest_plan != NULL && c->rest_parse != NULL); /* polled too: the venue's recent trades */
        char list[64];
        venue_channel_list(v, list, sizeof list);
        TT_ASSERT_STR(list, "bbo, trades, book");
    }
}

/* ---- documented examples --------------------------------------------------------------------------- */

static void test_binance_doc(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    char *doc = doc_file("binance/doc-ws-trade.json");
    /* "m": true, the buyer made: the taker sold. */
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    assert_trade(&fx.trades[0], "BNB-BTC", "12345", "0.001", "100", TRADE_SIDE_SELL, 1672515782136000LL);
    TT_ASSERT_STR(fx.trades[0].venue, "binance");

    /* The same in a combined stream, as the path subscribes it. */
    char combined[1024];
    snprintf(combined, sizeof combined, "{\"stream\":\"bnbbtc@trade\",\"data\":%s}", doc);
    TT_ASSERT_INT(parse(&fx, combined), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    assert_trade(&fx.trades[0], "BNB-BTC", "12345", "0.001", "100", TRADE_SIDE_SELL, 1672515782136000LL);

    /* "m": false, the seller made: the taker bought. */
    char *flip = mutated(combined, "m", "false");
    TT_ASSERT_INT(parse(&fx, flip), VENUE_MSG_TICKS);
    assert_trade(&fx.trades[0], "BNB-BTC", "12345", "0.001", "100", TRADE_SIDE_BUY, 1672515782136000LL);
    free(flip);

    /* A trade time from far ahead is refused, the trade kept without it. */
    char *ahead = mutated(doc, "T", "99999999999999");
    TT_ASSERT_INT(parse(&fx, ahead), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    TT_ASSERT_INT(fx.trades[0].event_us, 0);
    TT_ASSERT(fx.trades[0].bad_time);
    free(ahead);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_coinbase_doc(void) {
    struct fixture fx;
    fixture_init(&fx, "coinbase", coinbase_syms, 2);
    char *doc = doc_file("coinbase/doc-ws-matches-match.json");
    /* "side": "sell" is the maker's: the taker bought. */
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    assert_trade(&fx.trades[0], "BTC-USD", "10", "400.23", "5.23512", TRADE_SIDE_BUY, 1415348367028459LL);
    TT_ASSERT_STR(fx.trades[0].venue, "coinbase");

    char *flip = mutated(doc, "side", "\"buy\"");
    TT_ASSERT_INT(parse(&fx, flip), VENUE_MSG_TICKS);
    assert_trade(&fx.trades[0], "BTC-USD", "10", "400.23", "5.23512", TRADE_SIDE_SELL, 1415348367028459LL);
    free(flip);

    /* The latest trade sent on subscribing is a trade like any other (the id tells it if seen already). */
    char *last = mutated(doc, "type", "\"last_match\"");
    TT_ASSERT_INT(parse(&fx, last), VENUE_MSG_TICKS);
    assert_trade(&fx.trades[0], "BTC-USD", "10", "400.23", "5.23512", TRADE_SIDE_BUY, 1415348367028459LL);
    free(last);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_kraken_docs(void) {
    struct fixture fx;
    fixture_init(&fx, "kraken", kraken_syms, 2);
    char *doc = doc_file("kraken/doc-ws-v2-trade-update.json");
    /* JSON numbers: the shortest text of their double ("40.0" is 40). */
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    assert_trade(&fx.trades[0], "MATIC-USD", "4665906", "0.5117", "40", TRADE_SIDE_BUY, 1695628177708706LL);
    TT_ASSERT_STR(fx.trades[0].venue, "kraken");
    char *sell = mutated(doc, "side", "\"sell\"");
    TT_ASSERT_INT(parse(&fx, sell), VENUE_MSG_TICKS);
    TT_ASSERT_STR(trade_side_name(fx.trades[0].side), "sell");
    free(sell);
    free(doc);

    /* A snapshot carries several trades, in order. */
    doc = doc_file("kraken/doc-ws-v2-trade-snapshot.json");
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 2);
    assert_trade(&fx.trades[0], "MATIC-USD", "4665846", "0.5147", "6423.46326", TRADE_SIDE_BUY, 1695628116925533LL);
    assert_trade(&fx.trades[1], "MATIC-USD", "4665847", "0.5147", "1136.19677815", TRADE_SIDE_BUY,
                 1695628176925603LL);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_okx_doc(void) {
    struct fixture fx;
    fixture_init(&fx, "okx", okx_syms, 2);
    char *doc = doc_file("okx/doc-ws-trades-push.json");
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    assert_trade(&fx.trades[0], "BTC-USDT", "130639474", "42219.9", "0.12060306", TRADE_SIDE_BUY, 1630048897897000LL);
    TT_ASSERT_STR(fx.trades[0].venue, "okx");
    free(doc);

    /* Several trades in one push, each with its own side and instrument. */
    const char *many = "{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":["
                       "{\"instId\":\"BTC-USDT\",\"tradeId\":\"130639474\",\"px\":\"42219.9\",\"sz\":\"0.12060306\","
                       "\"side\":\"buy\",\"ts\":\"1630048897897\",\"count\":\"3\"},"
                       "{\"instId\":\"BTC-USDT\",\"tradeId\":\"130639476\",\"px\":\"42219.8\",\"sz\":\"1\","
                       "\"side\":\"sell\",\"ts\":\"1630048897898\",\"count\":\"1\"},"
                       "{\"instId\":\"ETH-USDT\",\"tradeId\":\"99\",\"px\":\"3000.01\",\"sz\":\"0.5\","
                       "\"side\":\"sell\",\"ts\":\"1630048897899\"}]}";
    TT_ASSERT_INT(parse(&fx, many), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 3);
    assert_trade(&fx.trades[0], "BTC-USDT", "130639474", "42219.9", "0.12060306", TRADE_SIDE_BUY, 1630048897897000LL);
    assert_trade(&fx.trades[1], "BTC-USDT", "130639476", "42219.8", "1", TRADE_SIDE_SELL, 1630048897898000LL);
    assert_trade(&fx.trades[2], "ETH-USDT", "99", "3000.01", "0.5", TRADE_SIDE_SELL, 1630048897899000LL);
    venue_symbols_free(&fx.syms);
}

/* ---- messages the tasks send ----------------------------------------------------------------------- */

static void test_subscribe_messages(void) {
    struct fixture fx;
    char buf[VENUE_MSG_MAX];
    size_t next;

    /* Binance: the streams ride in the combined path; a SUBSCRIBE names the same streams. */
    fixture_init(&fx, "binance", binance_syms, 2);
    TT_ASSERT_INT(fx.ch->ws_path(&fx.syms, 0, 2, buf, sizeof buf), strlen("/stream?streams=bnbbtc@trade/btcusdt@trade"));
    TT_ASSERT_STR(buf, "/stream?streams=bnbbtc@trade/btcusdt@trade");
    TT_ASSERT(fx.ch->ws_path_subscribes(&fx.syms, 0, 2));
    int len = fx.ch->ws_subscribe(&fx.syms, 0, 2, 7, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"method\":\"SUBSCRIBE\",\"params\":[\"bnbbtc@trade\",\"btcusdt@trade\"],\"id\":7}");
    TT_ASSERT_INT(len, strlen(buf));
    TT_ASSERT_INT(next, 2);
    /* ... and the bbo channel keeps its own feed. */
    const struct venue_channel *bbo = venue_channel_find(fx.v, "bbo");
    TT_ASSERT(bbo->ws_path(&fx.syms, 0, 2, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/stream?streams=bnbbtc@bookTicker/btcusdt@bookTicker");
    TT_ASSERT(bbo->ws_subscribe(&fx.syms, 1, 1, 3, buf, sizeof buf, &next) > 0);
    TT_ASSERT_STR(buf, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@bookTicker\"],\"id\":3}");
    venue_symbols_free(&fx.syms);

    /* Streams too many for a URL: connect to /stream and SUBSCRIBE them all, in messages under the cap. */
    static char names[400][16];
    const char *many[400];
    for (size_t i = 0; i < 400; i++) {
        snprintf(names[i], sizeof names[i], "S%zuX-USDT", i);
        many[i] = names[i];
    }
    fixture_init(&fx, "binance", many, 400);
    TT_ASSERT(!fx.ch->ws_path_subscribes(&fx.syms, 0, 400));
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 0, 400, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/stream");
    size_t covered = 0, msgs = 0;
    for (size_t at = 0; at < 400; at = next, msgs++) {
        len = fx.ch->ws_subscribe(&fx.syms, at, 400 - at, (unsigned)msgs + 1, buf, sizeof buf, &next);
        TT_ASSERT(len > 0 && (size_t)len < fx.v->ws_msg_max && next > at);
        json_t *msg = json_loads(buf, 0, NULL);
        json_t *params = json_object_get(msg, "params");
        for (size_t k = 0; k < json_array_size(params); k++, covered++) {
            char want[32];
            snprintf(want, sizeof want, "s%zuxusdt@trade", covered);
            TT_ASSERT_STR(json_string_value(json_array_get(params, k)), want);
        }
        json_decref(msg);
    }
    TT_ASSERT_INT(covered, 400);
    TT_ASSERT(msgs >= 2);
    venue_symbols_free(&fx.syms);

    /* Coinbase: the matches channel with heartbeats, as the bbo channel asks for ticker. */
    fixture_init(&fx, "coinbase", coinbase_syms, 2);
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 0, 2, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/");
    len = fx.ch->ws_subscribe(&fx.syms, 0, 2, 1, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],"
                       "\"channels\":[\"matches\",\"heartbeat\"]}");
    TT_ASSERT_INT(len, strlen(buf));
    TT_ASSERT_INT(next, 2);
    venue_symbols_free(&fx.syms);

    /* Kraken v2: the documentation's request, without the snapshot (its default is to send one). */
    fixture_init(&fx, "kraken", kraken_syms, 1);
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 0, 1, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/v2");
    len = fx.ch->ws_subscribe(&fx.syms, 0, 1, 1, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"MATIC/USD\"],"
                       "\"snapshot\":false}}");
    TT_ASSERT_INT(len, strlen(buf));
    char *doc = doc_file("kraken/doc-ws-v2-trade-subscribe.json");
    json_t *want = json_loads(doc, 0, NULL), *got = json_loads(buf, 0, NULL);
    free(doc);
    json_object_set_new(json_object_get(want, "params"), "snapshot", json_false());
    TT_ASSERT(json_equal(got, want));
    json_decref(want);
    json_decref(got);
    venue_symbols_free(&fx.syms);

    /* OKX: the documentation's request exactly. */
    fixture_init(&fx, "okx", okx_syms, 2);
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 0, 2, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/ws/v5/public");
    len = fx.ch->ws_subscribe(&fx.syms, 0, 2, 1, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},"
                       "{\"channel\":\"trades\",\"instId\":\"ETH-USDT\"}]}");
    TT_ASSERT_INT(len, strlen(buf));
    TT_ASSERT(fx.ch->ws_subscribe(&fx.syms, 0, 1, 1, buf, sizeof buf, &next) > 0);
    doc = doc_file("okx/doc-ws-trades-subscribe-request.json");
    want = json_loads(doc, 0, NULL);
    got = json_loads(buf, 0, NULL);
    free(doc);
    TT_ASSERT(json_equal(got, want));
    json_decref(want);
    json_decref(got);
    venue_symbols_free(&fx.syms);
}

/* ---- control messages ------------------------------------------------------------------------------ */

struct control {
    const char *frame;
    enum venue_msg kind;
    const char *detail;
};

static void classify_all(const char *venue, const char **syms, const struct control *c, size_t n) {
    struct fixture fx;
    fixture_init(&fx, venue, syms, 2);
    for (size_t i = 0; i < n; i++) {
        enum venue_msg kind = parse(&fx, c[i].frame);
        if (kind != c[i].kind)
            TT_FAIL("%s: %s gave %s, expected %s", venue, c[i].frame, venue_msg_name(kind), venue_msg_name(c[i].kind));
        TT_ASSERT_INT(fx.out.n_trades, 0);
        if (c[i].detail) TT_ASSERT_STR(fx.out.detail, c[i].detail);
    }
    venue_symbols_free(&fx.syms);
}

#define CLASSIFY(venue, syms, list) classify_all(venue, syms, list, sizeof list / sizeof list[0])

static void test_control_messages(void) {
    static const struct control binance[] = {
        {"{\"result\":null,\"id\":1}", VENUE_MSG_SUBSCRIBED, NULL},
        {"{\"error\":{\"code\":2,\"msg\":\"Invalid request\"},\"id\":1}", VENUE_MSG_ERROR, "Invalid request"},
        {"{\"stream\":\"bnbbtc@trade\",\"data\":{\"e\":\"serverShutdown\",\"E\":1}}", VENUE_MSG_PLANNED_CLOSE, NULL},
        {"{\"u\":400900217,\"s\":\"BNBBTC\",\"b\":\"25.3519\",\"B\":\"31.21\",\"a\":\"25.3652\",\"A\":\"40.66\"}",
         VENUE_MSG_UNKNOWN, NULL},
        {"{\"e\":\"aggTrade\",\"E\":1,\"s\":\"BNBBTC\",\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}",
         VENUE_MSG_UNKNOWN, NULL},
        {"[]", VENUE_MSG_MALFORMED, NULL},
        {"not json", VENUE_MSG_MALFORMED, NULL},
    };
    static const struct control coinbase[] = {
        {"{\"type\":\"heartbeat\",\"sequence\":90,\"last_trade_id\":20,\"product_id\":\"BTC-USD\","
         "\"time\":\"2014-11-07T08:19:28.464459Z\"}",
         VENUE_MSG_HEARTBEAT, NULL},
        {"{\"type\":\"subscriptions\",\"channels\":[{\"name\":\"matches\",\"product_ids\":[\"BTC-USD\"]}]}",
         VENUE_MSG_SUBSCRIBED, NULL},
        {"{\"type\":\"error\",\"message\":\"Failed to subscribe\",\"reason\":\"BTC-XXX is not a valid product\"}",
         VENUE_MSG_ERROR, "BTC-XXX is not a valid product"},
        {"{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"BTC-USD\",\"best_bid\":\"1\",\"best_ask\":\"2\"}",
         VENUE_MSG_UNKNOWN, NULL},
        {"{\"type\":5}", VENUE_MSG_MALFORMED, NULL},
        {"{}", VENUE_MSG_MALFORMED, NULL},
    };
    static const struct control kraken[] = {
        {"{\"channel\":\"heartbeat\"}", VENUE_MSG_HEARTBEAT, NULL},
        {"{\"channel\":\"status\",\"data\":[{\"api_version\":\"v2\",\"connection_id\":12393906104898154338,"
         "\"system\":\"online\",\"version\":\"2.0.0\"}],\"type\":\"update\"}",
         VENUE_MSG_STATUS, NULL},
        {"{\"method\":\"subscribe\",\"result\":{\"channel\":\"trade\",\"snapshot\":false,\"symbol\":\"MATIC/USD\"},"
         "\"success\":true,\"time_in\":\"2023-09-25T09:04:31.742599Z\",\"time_out\":\"2023-09-25T09:04:31.742648Z\"}",
         VENUE_MSG_SUBSCRIBED, NULL},
        {"{\"error\":\"Currency pair not supported NOPE/USD\",\"method\":\"subscribe\",\"success\":false}",
         VENUE_MSG_ERROR, "Currency pair not supported NOPE/USD"},
        {"{\"method\":\"pong\"}", VENUE_MSG_PONG, NULL},
        {"{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"MATIC/USD\",\"bid\":1,\"bid_qty\":1,"
         "\"ask\":2,\"ask_qty\":1}]}",
         VENUE_MSG_UNKNOWN, NULL},
        {"[0,[[\"5541.2\",\"0.15\",\"1534614057.321597\",\"s\",\"l\",\"\"]],\"trade\",\"XBT/USD\"]", VENUE_MSG_UNKNOWN,
         NULL},
        {"\"x\"", VENUE_MSG_MALFORMED, NULL},
    };
    static const struct control okx[] = {
        {"{\"event\":\"subscribe\",\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"connId\":\"a4d3ae55\"}",
         VENUE_MSG_SUBSCRIBED, NULL},
        {"{\"event\":\"error\",\"code\":\"60012\",\"msg\":\"Invalid request\",\"connId\":\"a4d3ae55\"}", VENUE_MSG_ERROR,
         "Invalid request"},
        {"{\"event\":\"notice\",\"code\":\"64008\",\"msg\":\"The connection will soon be closed\"}",
         VENUE_MSG_PLANNED_CLOSE, "The connection will soon be closed"},
        {"pong", VENUE_MSG_PONG, NULL},
        {"{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"BTC-USDT\"},\"data\":[{\"asks\":[[\"1\",\"1\",\"0\",\"1\"]],"
         "\"bids\":[],\"ts\":\"1630048897897\"}]}",
         VENUE_MSG_UNKNOWN, NULL},
        {"{\"arg\":{\"channel\":\"trades-all\",\"instId\":\"BTC-USDT\"},\"data\":[]}", VENUE_MSG_UNKNOWN, NULL},
        {"[1]", VENUE_MSG_MALFORMED, NULL},
    };
    CLASSIFY("binance", binance_syms, binance);
    CLASSIFY("coinbase", coinbase_syms, coinbase);
    CLASSIFY("kraken", kraken_syms, kraken);
    CLASSIFY("okx", okx_syms, okx);
}

/* The bbo channel's parser does not take a trade for a quote. */
static void test_bbo_ignores_trades(void) {
    static const char *const docs[][2] = {{"binance", "binance/doc-ws-trade.json"},
                                          {"coinbase", "coinbase/doc-ws-matches-match.json"},
                                          {"kraken", "kraken/doc-ws-v2-trade-update.json"},
                                          {"okx", "okx/doc-ws-trades-push.json"}};
    const char **syms[] = {binance_syms, coinbase_syms, kraken_syms, okx_syms};
    for (size_t i = 0; i < 4; i++) {
        struct fixture fx;
        fixture_init(&fx, docs[i][0], syms[i], 2);
        char *doc = doc_file(docs[i][1]);
        const struct venue_channel *bbo = venue_channel_find(fx.v, "bbo");
        venue_out_init(&fx.out, fx.ticks, 4, RECV_US, 0);
        venue_out_trades(&fx.out, fx.trades, MAX_TRADES);
        TT_ASSERT_INT(bbo->ws_parse(doc, strlen(doc), &fx.syms, &fx.out), VENUE_MSG_UNKNOWN);
        TT_ASSERT_INT(fx.out.n, 0);
        TT_ASSERT_INT(fx.out.n_trades, 0);
        free(doc);
        venue_symbols_free(&fx.syms);
    }
}

/* ---- bad shapes ------------------------------------------------------------------------------------ */

#define MAL(key, value) {key, value, VENUE_MSG_MALFORMED, 0}
#define OK(key, value) {key, value, VENUE_MSG_TICKS, 1}

static void test_binance_bad_shapes(void) {
    static const struct mutation m[] = {
        MAL("t", NULL), MAL("p", NULL), MAL("q", NULL), MAL("T", NULL), MAL("m", NULL), MAL("s", NULL),
        {"e", NULL, VENUE_MSG_UNKNOWN, 0}, OK("E", NULL), OK("M", NULL),
        MAL("p", "\"0\""), MAL("p", "\"-1\""), MAL("p", "\"0.000\""), MAL("q", "\"0\""), MAL("q", "\"-1\""),
        MAL("p", "0.001"), MAL("q", "100"), MAL("p", "\"1e3\""), MAL("p", "\"\""), MAL("p", "null"),
        MAL("t", "\"12345\""), MAL("t", "-1"), MAL("t", "1.5"), MAL("t", "true"),
        MAL("m", "\"true\""), MAL("m", "1"), MAL("T", "\"1672515782136\""), MAL("T", "-1"),
        MAL("s", "5"), MAL("s", "null"), {"s", "\"NOPEBTC\"", VENUE_MSG_TICKS, 0},
    };
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    char *doc = doc_file("binance/doc-ws-trade.json");
    apply_mutations(&fx, doc, m, sizeof m / sizeof m[0]);
    char combined[1024];
    snprintf(combined, sizeof combined, "{\"stream\":\"bnbbtc@trade\",\"data\":%s}", doc);
    apply_mutations(&fx, combined, m, sizeof m / sizeof m[0]);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_coinbase_bad_shapes(void) {
    static const struct mutation m[] = {
        MAL("trade_id", NULL), MAL("price", NULL), MAL("size", NULL), MAL("side", NULL), MAL("time", NULL),
        MAL("product_id", NULL), OK("sequence", NULL), OK("maker_order_id", NULL), OK("taker_order_id", NULL),
        MAL("price", "\"0\""), MAL("price", "\"-1\""), MAL("size", "\"0\""), MAL("size", "\"-1\""),
        MAL("price", "400.23"), MAL("size", "\"5.2e1\""), MAL("side", "\"hold\""), MAL("side", "\"SELL\""),
        MAL("side", "1"), MAL("time", "\"yesterday\""), MAL("time", "1415348367"), MAL("trade_id", "\"10\""),
        MAL("trade_id", "-10"), MAL("product_id", "[]"), {"product_id", "\"NOPE-USD\"", VENUE_MSG_TICKS, 0},
        {"type", "5", VENUE_MSG_MALFORMED, 0}, {"type", "\"received\"", VENUE_MSG_UNKNOWN, 0},
    };
    struct fixture fx;
    fixture_init(&fx, "coinbase", coinbase_syms, 2);
    char *doc = doc_file("coinbase/doc-ws-matches-match.json");
    apply_mutations(&fx, doc, m, sizeof m / sizeof m[0]);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_kraken_bad_shapes(void) {
    static const struct mutation m[] = {
        MAL("symbol", NULL), MAL("side", NULL), MAL("price", NULL), MAL("qty", NULL), MAL("trade_id", NULL),
        MAL("timestamp", NULL), OK("ord_type", NULL),
        MAL("price", "0"), MAL("price", "-1"), MAL("price", "0.0"), MAL("qty", "0"), MAL("qty", "-1.5"),
        MAL("price", "\"0.5117\""), MAL("qty", "\"40\""), MAL("price", "null"),
        MAL("trade_id", "1.5"), MAL("trade_id", "-3"), MAL("trade_id", "\"4665906\""),
        MAL("trade_id", "9007199254740993"), MAL("trade_id", "1e300"),
        MAL("side", "\"b\""), MAL("side", "null"), MAL("timestamp", "5"), MAL("timestamp", "\"2023-09-25\""),
        MAL("symbol", "5"), {"symbol", "\"NOPE/USD\"", VENUE_MSG_TICKS, 0},
    };
    struct fixture fx;
    fixture_init(&fx, "kraken", kraken_syms, 2);
    char *doc = doc_file("kraken/doc-ws-v2-trade-update.json");
    apply_mutations(&fx, doc, m, sizeof m / sizeof m[0]);
    /* An integer trade id below 2^53 reads back exactly. */
    char *big = mutated(doc, "trade_id", "9007199254740991");
    TT_ASSERT_INT(parse(&fx, big), VENUE_MSG_TICKS);
    TT_ASSERT_STR(fx.trades[0].id, "9007199254740991");
    free(big);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_okx_bad_shapes(void) {
    static const struct mutation m[] = {
        MAL("instId", NULL), MAL("tradeId", NULL), MAL("px", NULL), MAL("sz", NULL), MAL("side", NULL),
        MAL("ts", NULL), OK("count", NULL),
        MAL("px", "\"0\""), MAL("px", "\"-1\""), MAL("sz", "\"0\""), MAL("sz", "\"-0.1\""), MAL("px", "42219.9"),
        MAL("sz", "\"\""), MAL("tradeId", "130639474"), MAL("tradeId", "\"\""), MAL("tradeId", "\"13 0\""),
        MAL("tradeId", "\"1234567890123456789012345678901234567890123456789\""), MAL("tradeId", "\"a\\\"b\""),
        MAL("side", "\"BUY\""), MAL("side", "true"), MAL("ts", "1630048897897"), MAL("ts", "\"abc\""),
        MAL("ts", "\"-1\""), MAL("instId", "{}"), {"instId", "\"NOPE-USDT\"", VENUE_MSG_TICKS, 0},
    };
    struct fixture fx;
    fixture_init(&fx, "okx", okx_syms, 2);
    char *doc = doc_file("okx/doc-ws-trades-push.json");
    apply_mutations(&fx, doc, m, sizeof m / sizeof m[0]);
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* data arrays: absent, of another type, empty, holding a non-object. */
static void test_data_shapes(void) {
    struct fixture fx;
    static const struct control kraken[] = {
        {"{\"channel\":\"trade\",\"type\":\"update\"}", VENUE_MSG_MALFORMED, NULL},
        {"{\"channel\":\"trade\",\"type\":\"update\",\"data\":{}}", VENUE_MSG_MALFORMED, NULL},
        {"{\"channel\":\"trade\",\"type\":\"update\",\"data\":[1]}", VENUE_MSG_MALFORMED, NULL},
        {"{\"channel\":\"trade\",\"type\":\"update\",\"data\":[]}", VENUE_MSG_TICKS, NULL},
    };
    static const struct control okx[] = {
        {"{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"}}", VENUE_MSG_MALFORMED, NULL},
        {"{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":\"x\"}", VENUE_MSG_MALFORMED, NULL},
        {"{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":[[]]}", VENUE_MSG_MALFORMED, NULL},
        {"{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":[]}", VENUE_MSG_TICKS, NULL},
        {"{\"arg\":5,\"data\":[]}", VENUE_MSG_UNKNOWN, NULL},
    };
    CLASSIFY("kraken", kraken_syms, kraken);
    CLASSIFY("okx", okx_syms, okx);

    /* Unknown symbols are counted and skipped; the others of the frame are kept. */
    fixture_init(&fx, "kraken", kraken_syms, 2);
    char *doc = doc_file("kraken/doc-ws-v2-trade-snapshot.json");
    json_t *root = json_loads(doc, 0, NULL);
    json_object_set_new(json_array_get(json_object_get(root, "data"), 0), "symbol", json_string("DOGE/USD"));
    char *frame = json_dumps(root, JSON_COMPACT);
    TT_ASSERT_INT(parse(&fx, frame), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    TT_ASSERT_INT(fx.out.unmapped, 1);
    TT_ASSERT_STR(fx.trades[0].id, "4665847");
    free(frame);
    json_decref(root);
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* A frame is taken whole or not at all: one bad trade among good ones refuses them all, and trades from an
 * earlier frame in the same output stay. */
static void test_whole_frame(void) {
    struct fixture fx;
    fixture_init(&fx, "kraken", kraken_syms, 2);
    char *doc = doc_file("kraken/doc-ws-v2-trade-snapshot.json");
    json_t *root = json_loads(doc, 0, NULL);
    json_object_set_new(json_array_get(json_object_get(root, "data"), 1), "price", json_integer(0));
    char *bad = json_dumps(root, JSON_COMPACT);
    TT_ASSERT_INT(parse(&fx, bad), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n_trades, 0);

    /* After a good frame, in the same output: the bad one leaves the good one's trades alone. */
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 2);
    TT_ASSERT_INT(fx.ch->ws_parse(bad, strlen(bad), &fx.syms, &fx.out), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n_trades, 2);
    TT_ASSERT_INT(fx.ch->ws_parse(doc, strlen(doc), &fx.syms, &fx.out), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 4);
    TT_ASSERT_STR(fx.trades[3].id, "4665847");
    free(bad);
    json_decref(root);
    free(doc);
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "okx", okx_syms, 2);
    const char *last_bad = "{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":["
                           "{\"instId\":\"BTC-USDT\",\"tradeId\":\"1\",\"px\":\"1\",\"sz\":\"1\",\"side\":\"buy\","
                           "\"ts\":\"1630048897897\"},"
                           "{\"instId\":\"BTC-USDT\",\"tradeId\":\"2\",\"px\":\"1\",\"sz\":\"-1\",\"side\":\"buy\","
                           "\"ts\":\"1630048897897\"}]}";
    TT_ASSERT_INT(parse(&fx, last_bad), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n_trades, 0);
    venue_symbols_free(&fx.syms);
}

/* A full trades array counts what does not fit as overflow; without an array every trade is overflow. A bad
 * trade past the end of a full array still refuses the frame. */
static void test_overflow(void) {
    struct fixture fx;
    fixture_init(&fx, "kraken", kraken_syms, 2);
    char *doc = doc_file("kraken/doc-ws-v2-trade-snapshot.json");
    TT_ASSERT_INT(parse_len(&fx, doc, strlen(doc), 1), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    TT_ASSERT_INT(fx.out.overflow, 1);
    TT_ASSERT_STR(fx.trades[0].id, "4665846");
    TT_ASSERT_INT(parse_len(&fx, doc, strlen(doc), 0), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 0);
    TT_ASSERT_INT(fx.out.overflow, 2);
    TT_ASSERT_INT(parse_len(&fx, doc, strlen(doc), -1), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 0);
    TT_ASSERT_INT(fx.out.overflow, 2);

    json_t *root = json_loads(doc, 0, NULL);
    json_object_set_new(json_array_get(json_object_get(root, "data"), 1), "qty", json_real(-1));
    char *bad = json_dumps(root, JSON_COMPACT);
    TT_ASSERT_INT(parse_len(&fx, bad, strlen(bad), 1), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n_trades, 0);
    TT_ASSERT_INT(parse_len(&fx, bad, strlen(bad), -1), VENUE_MSG_MALFORMED);
    free(bad);
    json_decref(root);
    free(doc);
    venue_symbols_free(&fx.syms);

    /* One-trade venues alike. */
    static const char *const docs[][2] = {{"binance", "binance/doc-ws-trade.json"},
                                          {"coinbase", "coinbase/doc-ws-matches-match.json"},
                                          {"okx", "okx/doc-ws-trades-push.json"}};
    const char **syms[] = {binance_syms, coinbase_syms, okx_syms};
    for (size_t i = 0; i < 3; i++) {
        fixture_init(&fx, docs[i][0], syms[i], 2);
        doc = doc_file(docs[i][1]);
        TT_ASSERT_INT(parse_len(&fx, doc, strlen(doc), -1), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.out.n_trades, 0);
        TT_ASSERT_INT(fx.out.overflow, 1);
        free(doc);
        venue_symbols_free(&fx.syms);
    }
}

/* ---- hostile input --------------------------------------------------------------------------------- */

/* Every prefix of every documented trade frame is malformed; flipped bytes give any kind but never a crash,
 * and whatever trade survives is whole (check_out). */
static void test_truncated_and_flipped(void) {
    static const char *const docs[][2] = {{"binance", "binance/doc-ws-trade.json"},
                                          {"coinbase", "coinbase/doc-ws-matches-match.json"},
                                          {"kraken", "kraken/doc-ws-v2-trade-update.json"},
                                          {"kraken", "kraken/doc-ws-v2-trade-snapshot.json"},
                                          {"okx", "okx/doc-ws-trades-push.json"}};
    const char **syms[] = {binance_syms, coinbase_syms, kraken_syms, kraken_syms, okx_syms};
    size_t frames = 0;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct fixture fx;
        fixture_init(&fx, docs[i][0], syms[i], 2);
        char *text = doc_file(docs[i][1]);
        /* Compact, so that every cut lands inside the frame. */
        json_t *root = json_loads(text, 0, NULL);
        char *frame = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        size_t len = strlen(frame);
        for (size_t cut = 0; cut < len; cut++) {
            enum venue_msg kind = parse_len(&fx, frame, cut, MAX_TRADES);
            if (kind != VENUE_MSG_MALFORMED) TT_FAIL("%s cut at %zu: %s", docs[i][1], cut, venue_msg_name(kind));
        }
        static const char flips[] = {'"', '{', '}', '[', ']', ',', ':', '0', 'e', '-', '.', '\\', 0, (char)0xff};
        for (size_t at = 0; at < len; at++) {
            for (size_t f = 0; f < sizeof flips; f++) {
                char saved = frame[at];
                frame[at] = flips[f];
                parse_len(&fx, frame, len, MAX_TRADES);
                parse_len(&fx, frame, len, 1);
                frame[at] = saved;
            }
        }
        frames++;
        free(frame);
        free(text);
        venue_symbols_free(&fx.syms);
    }
    TT_ASSERT_INT(frames, 5);
}

/* ---- REST: the recent-trades poll ------------------------------------------------------------------ */

/* What every REST answer must leave: no ticks, no trade of a refused answer, whole trades of origin REST (run 0)
 * in ascending id order. */
static void check_rest_out(const struct fixture *fx, enum venue_msg kind) {
    TT_ASSERT_INT(fx->out.n, 0);
    TT_ASSERT(kind <= VENUE_MSG_MALFORMED);
    if (kind != VENUE_MSG_TICKS) TT_ASSERT_INT(fx->out.n_trades, 0);
    TT_ASSERT(fx->out.n_trades <= fx->out.trades_cap);
    for (size_t i = 0; i < fx->out.n_trades; i++) {
        const struct trade *t = &fx->out.trades[i];
        TT_ASSERT(memchr(t->id, 0, sizeof t->id) && t->id[0]);
        TT_ASSERT(memchr(t->price, 0, sizeof t->price) && decimal_sign(t->price) == 1);
        TT_ASSERT(memchr(t->qty, 0, sizeof t->qty) && decimal_sign(t->qty) == 1);
        TT_ASSERT(t->side == TRADE_SIDE_BUY || t->side == TRADE_SIDE_SELL);
        TT_ASSERT_STR(t->venue, fx->v->name);
        TT_ASSERT_INT(t->origin, TICK_ORIGIN_REST);
        TT_ASSERT_INT(t->run, 0);
        TT_ASSERT_INT(t->recv_us, RECV_US);
        uint64_t a, b;
        if (i > 0 && trade_id_number(fx->out.trades[i - 1].id, &a) && trade_id_number(t->id, &b) && a > b)
            TT_FAIL("%s: trade %s before %s", fx->v->name, fx->out.trades[i - 1].id, t->id);
    }
}

/* The answer to request `symbol` of the trades plan (the first when out of range: a request naming no symbol is
 * made by hand), status and body (copied to a buffer of exactly its length), into a trades array of cap (< 0:
 * none). */
static enum venue_msg rest_len(struct fixture *fx, int symbol, int status, const char *body, size_t len, int cap) {
    struct venue_request reqs[4];
    TT_ASSERT_INT(fx->ch->rest_plan(&fx->syms, reqs, 4), (int)fx->syms.n);
    struct venue_request req = reqs[symbol >= 0 && (size_t)symbol < fx->syms.n ? symbol : 0];
    if (symbol < 0 || (size_t)symbol >= fx->syms.n) req.symbol = symbol;
    venue_out_init(&fx->out, fx->ticks, 4, RECV_US, RECV_US - 1000);
    fx->out.run = 7; /* a REST trade is on no connection: run 0 whatever the output says */
    if (cap >= 0) venue_out_trades(&fx->out, fx->trades, (size_t)cap);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, body, len);
    enum venue_msg kind = fx->ch->rest_parse(&req, status, copy, len, &fx->syms, &fx->out);
    free(copy);
    check_rest_out(fx, kind);
    return kind;
}

static enum venue_msg rest(struct fixture *fx, int symbol, int status, const char *body) {
    return rest_len(fx, symbol, status, body, strlen(body), MAX_TRADES);
}

static void assert_rest_trade(const struct trade *t, const char *symbol, const char *id, const char *price,
                              const char *qty, enum trade_side side, int64_t event_us) {
    TT_ASSERT_STR(t->symbol, symbol);
    TT_ASSERT_STR(t->id, id);
    TT_ASSERT_STR(t->price, price);
    TT_ASSERT_STR(t->qty, qty);
    TT_ASSERT_STR(trade_side_name(t->side), trade_side_name(side));
    TT_ASSERT_INT(t->event_us, event_us);
    TT_ASSERT(!t->bad_time);
}

/* One request per symbol: the venue's recent-trades endpoint, the symbol's index, the venue's weight. */
static void test_rest_plans(void) {
    static const struct {
        const char *venue;
        const char **syms;
        const char *path[2];
        unsigned weight;
    } want[] = {
        {"binance",
         binance_syms,
         {"/api/v3/trades?symbol=BNBBTC&limit=100", "/api/v3/trades?symbol=BTCUSDT&limit=100"},
         25},
        {"coinbase", coinbase_syms, {"/products/BTC-USD/trades?limit=100", "/products/ETH-USD/trades?limit=100"}, 1},
        {"kraken",
         kraken_syms,
         {"/0/public/Trades?pair=MATICUSD&count=100", "/0/public/Trades?pair=XBTUSD&count=100"},
         1},
        {"okx",
         okx_syms,
         {"/api/v5/market/trades?instId=BTC-USDT&limit=100", "/api/v5/market/trades?instId=ETH-USDT&limit=100"},
         1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct fixture fx;
        fixture_init(&fx, want[i].venue, want[i].syms, 2);
        struct venue_request reqs[4];
        memset(reqs, 0xa5, sizeof reqs);
        TT_ASSERT_INT(fx.ch->rest_plan(&fx.syms, reqs, 4), 2);
        for (int r = 0; r < 2; r++) {
            TT_ASSERT_STR(reqs[r].path, want[i].path[r]);
            TT_ASSERT_INT(reqs[r].weight, want[i].weight);
            TT_ASSERT_INT(reqs[r].symbol, r);
        }
        TT_ASSERT_INT(fx.ch->rest_plan(&fx.syms, reqs, 1), -ENOSPC);
        venue_symbols_free(&fx.syms);

        /* One symbol, one request. */
        fixture_init(&fx, want[i].venue, want[i].syms + 1, 1);
        TT_ASSERT_INT(fx.ch->rest_plan(&fx.syms, reqs, 4), 1);
        TT_ASSERT_STR(reqs[0].path, want[i].path[1]);
        TT_ASSERT_INT(reqs[0].symbol, 0);
        venue_symbols_free(&fx.syms);
    }
}

static void test_rest_docs(void) {
    struct fixture fx;

    /* Binance: the answer names no symbol, the request does; isBuyerMaker true: the taker sold. */
    fixture_init(&fx, "binance", binance_syms, 2);
    char *doc = doc_file("binance/doc-rest-trades.json");
    TT_ASSERT_INT(rest(&fx, 0, 200, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    assert_rest_trade(&fx.trades[0], "BNB-BTC", "28457", "4.00000100", "12.00000000", TRADE_SIDE_SELL,
                      1499865549590000LL);
    TT_ASSERT_STR(fx.trades[0].venue, "binance");
    TT_ASSERT_INT(rest(&fx, 1, 200, doc), VENUE_MSG_TICKS);
    assert_rest_trade(&fx.trades[0], "BTC-USDT", "28457", "4.00000100", "12.00000000", TRADE_SIDE_SELL,
                      1499865549590000LL);
    free(doc);
    venue_symbols_free(&fx.syms);

    /* Coinbase: "side" is the maker order's: sell means the taker bought. */
    fixture_init(&fx, "coinbase", coinbase_syms, 2);
    doc = doc_file("coinbase/doc-rest-trades.json");
    TT_ASSERT_INT(rest(&fx, 1, 200, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    assert_rest_trade(&fx.trades[0], "ETH-USD", "86327327", "6225.32000000", "0.06469797", TRADE_SIDE_BUY,
                      1584664619860000LL);
    TT_ASSERT_STR(fx.trades[0].venue, "coinbase");
    free(doc);
    venue_symbols_free(&fx.syms);

    /* Kraken: the legacy key XXBTZUSD is BTC-USD; b/s is the taker's side; times are seconds with a fraction. */
    fixture_init(&fx, "kraken", kraken_syms, 2);
    doc = doc_file("kraken/doc-rest-trades.json");
    TT_ASSERT_INT(rest(&fx, 1, 200, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 3);
    TT_ASSERT_INT(fx.out.unmapped, 0);
    assert_rest_trade(&fx.trades[0], "BTC-USD", "61044952", "30243.40000", "0.34507674", TRADE_SIDE_BUY,
                      1688669597827737LL);
    assert_rest_trade(&fx.trades[1], "BTC-USD", "61044953", "30243.30000", "0.00376960", TRADE_SIDE_SELL,
                      1688669598280411LL);
    assert_rest_trade(&fx.trades[2], "BTC-USD", "61044956", "30243.30000", "0.01235716", TRADE_SIDE_SELL,
                      1688669602698379LL);
    TT_ASSERT_STR(fx.trades[0].venue, "kraken");
    free(doc);
    venue_symbols_free(&fx.syms);

    /* OKX: newest first in the answer, oldest first out of the parser. */
    fixture_init(&fx, "okx", okx_syms, 2);
    doc = doc_file("okx/doc-rest-trades.json");
    TT_ASSERT_INT(rest(&fx, 0, 200, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 2);
    assert_rest_trade(&fx.trades[0], "BTC-USDT", "242720719", "29964.1", "0.00001", TRADE_SIDE_SELL,
                      1654161641568000LL);
    assert_rest_trade(&fx.trades[1], "BTC-USDT", "242720720", "29963.2", "0.00001", TRADE_SIDE_SELL,
                      1654161646974000LL);
    TT_ASSERT_STR(fx.trades[0].venue, "okx");
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* Ascending ids whatever the order sent: newest first, oldest first or mixed, compared as numbers (9 before 10). */
static void test_rest_order(void) {
    struct fixture fx;
    fixture_init(&fx, "coinbase", coinbase_syms, 2);
#define CB(id, px)                                                                                            \
    "{\"time\":\"2020-03-20T00:36:59.860Z\",\"trade_id\":" #id ",\"price\":\"" px "\",\"size\":\"1\",\"side\":\"buy\"}"
    static const char *const answers[] = {
        "[" CB(11, "3") "," CB(10, "2") "," CB(9, "1") "]",
        "[" CB(9, "1") "," CB(10, "2") "," CB(11, "3") "]",
        "[" CB(10, "2") "," CB(11, "3") "," CB(9, "1") "]",
        "[" CB(11, "3") "," CB(9, "1") "," CB(10, "2") "]",
    };
#undef CB
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        TT_ASSERT_INT(rest(&fx, 0, 200, answers[i]), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.out.n_trades, 3);
        for (int k = 0; k < 3; k++) {
            char id[16], px[16];
            snprintf(id, sizeof id, "%d", 9 + k);
            snprintf(px, sizeof px, "%d", 1 + k);
            assert_rest_trade(&fx.trades[k], "BTC-USD", id, px, "1", TRADE_SIDE_SELL, 1584664619860000LL);
        }
    }
    /* An empty answer is no trade, and no error. */
    TT_ASSERT_INT(rest(&fx, 0, 200, "[]"), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 0);
    venue_symbols_free(&fx.syms);

    /* OKX ids beyond 2^53 and of different lengths, newest first. */
    fixture_init(&fx, "okx", okx_syms, 2);
    const char *okx = "{\"code\":\"0\",\"msg\":\"\",\"data\":["
                      "{\"instId\":\"ETH-USDT\",\"side\":\"buy\",\"sz\":\"2\",\"px\":\"3\","
                      "\"tradeId\":\"18446744073709551615\",\"ts\":\"1654161646974\"},"
                      "{\"instId\":\"ETH-USDT\",\"side\":\"sell\",\"sz\":\"1\",\"px\":\"3\","
                      "\"tradeId\":\"9007199254740993\",\"ts\":\"1654161646973\"},"
                      "{\"instId\":\"ETH-USDT\",\"side\":\"buy\",\"sz\":\"3\",\"px\":\"3\","
                      "\"tradeId\":\"999\",\"ts\":\"1654161646972\"}]}";
    TT_ASSERT_INT(rest(&fx, 1, 200, okx), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 3);
    assert_rest_trade(&fx.trades[0], "ETH-USDT", "999", "3", "3", TRADE_SIDE_BUY, 1654161646972000LL);
    assert_rest_trade(&fx.trades[1], "ETH-USDT", "9007199254740993", "3", "1", TRADE_SIDE_SELL, 1654161646973000LL);
    assert_rest_trade(&fx.trades[2], "ETH-USDT", "18446744073709551615", "3", "2", TRADE_SIDE_BUY,
                      1654161646974000LL);
    TT_ASSERT_INT(rest(&fx, 0, 200, "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}"), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 0);
    venue_symbols_free(&fx.syms);
}

struct rest_case {
    int status;
    const char *body;
    enum venue_msg kind;
    const char *detail; /* NULL: not checked */
};

static void rest_cases(const char *venue, const char **syms, const struct rest_case *c, size_t n) {
    struct fixture fx;
    fixture_init(&fx, venue, syms, 2);
    for (size_t i = 0; i < n; i++) {
        enum venue_msg kind = rest(&fx, 0, c[i].status, c[i].body);
        if (kind != c[i].kind)
            TT_FAIL("%s: %d %s gave %s, not %s", venue, c[i].status, c[i].body, venue_msg_name(kind),
                    venue_msg_name(c[i].kind));
        if (c[i].detail) TT_ASSERT_STR(fx.out.detail, c[i].detail);
    }
    venue_symbols_free(&fx.syms);
}

/* Errors and rate limits by HTTP status and by the venue's error bodies, as the bbo channel's REST parser tells
 * them; a good body under a bad status keeps nothing. */
static void test_rest_errors(void) {
    char *doc = doc_file("binance/doc-rest-trades.json");
    const struct rest_case binance[] = {
        {429, "{\"code\":-1003,\"msg\":\"Too many requests; current limit is 6000 request weight per 1 MINUTE.\"}",
         VENUE_MSG_RATE_LIMITED, "Too many requests; current limit is 6000 request weight per 1 MINUTE."},
        {418, "{\"code\":-1003,\"msg\":\"Way too many requests; IP banned.\"}", VENUE_MSG_RATE_LIMITED, NULL},
        {200, "{\"code\":-1003,\"msg\":\"Too many requests.\"}", VENUE_MSG_RATE_LIMITED, "Too many requests."},
        {400, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", VENUE_MSG_ERROR, "Invalid symbol."},
        {200, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", VENUE_MSG_ERROR, "Invalid symbol."},
        {404, "", VENUE_MSG_ERROR, NULL},
        {500, doc, VENUE_MSG_UNAVAILABLE, NULL},
        {503, "<html>busy</html>", VENUE_MSG_UNAVAILABLE, NULL},
        {429, doc, VENUE_MSG_RATE_LIMITED, NULL},
        {400, doc, VENUE_MSG_ERROR, NULL},
    };
    rest_cases("binance", binance_syms, binance, sizeof binance / sizeof binance[0]);
    free(doc);

    doc = doc_file("coinbase/doc-rest-trades.json");
    const struct rest_case coinbase[] = {
        {429, "{\"message\":\"Public rate limit exceeded\"}", VENUE_MSG_RATE_LIMITED, "Public rate limit exceeded"},
        {200, "{\"message\":\"Public rate limit exceeded\"}", VENUE_MSG_RATE_LIMITED, "Public rate limit exceeded"},
        {404, "{\"message\":\"NotFound\"}", VENUE_MSG_ERROR, "NotFound"},
        {200, "{\"message\":\"NotFound\"}", VENUE_MSG_ERROR, "NotFound"},
        {500, doc, VENUE_MSG_UNAVAILABLE, NULL},
        {502, "", VENUE_MSG_UNAVAILABLE, NULL},
        {401, doc, VENUE_MSG_ERROR, NULL},
    };
    rest_cases("coinbase", coinbase_syms, coinbase, sizeof coinbase / sizeof coinbase[0]);
    free(doc);

    doc = doc_file("kraken/doc-rest-trades.json");
    const struct rest_case kraken[] = {
        {200, "{\"error\":[\"EGeneral:Too many requests\"]}", VENUE_MSG_RATE_LIMITED, "EGeneral:Too many requests"},
        {200, "{\"error\":[\"EAPI:Rate limit exceeded\"],\"result\":{}}", VENUE_MSG_RATE_LIMITED, NULL},
        {200, "{\"error\":[\"EQuery:Unknown asset pair\"]}", VENUE_MSG_ERROR, "EQuery:Unknown asset pair"},
        {200, "{\"error\":[\"EService:Unavailable\"]}", VENUE_MSG_UNAVAILABLE, "EService:Unavailable"},
        {200, "{\"error\":[\"EService:Busy\"],\"result\":{\"XXBTZUSD\":[]}}", VENUE_MSG_UNAVAILABLE, NULL},
        {200, "{\"error\":[42]}", VENUE_MSG_MALFORMED, NULL},
        {429, doc, VENUE_MSG_RATE_LIMITED, NULL},
        {520, doc, VENUE_MSG_UNAVAILABLE, NULL},
        {403, doc, VENUE_MSG_ERROR, NULL},
    };
    rest_cases("kraken", kraken_syms, kraken, sizeof kraken / sizeof kraken[0]);
    free(doc);

    doc = doc_file("okx/doc-rest-trades.json");
    const struct rest_case okx[] = {
        {200, "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}", VENUE_MSG_RATE_LIMITED,
         "Too Many Requests"},
        {429, "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}", VENUE_MSG_RATE_LIMITED,
         "Too Many Requests"},
        {200, "{\"code\":\"51001\",\"msg\":\"Instrument ID does not exist\",\"data\":[]}", VENUE_MSG_ERROR,
         "Instrument ID does not exist"},
        {200, "{\"code\":\"50001\",\"msg\":\"Service temporarily unavailable\",\"data\":[]}", VENUE_MSG_UNAVAILABLE,
         NULL},
        {200, "{\"code\":\"50013\",\"msg\":\"Systems are busy\",\"data\":[]}", VENUE_MSG_UNAVAILABLE, NULL},
        {200, "{\"code\":0,\"msg\":\"\",\"data\":[]}", VENUE_MSG_MALFORMED, NULL},
        {503, doc, VENUE_MSG_UNAVAILABLE, NULL},
        {400, doc, VENUE_MSG_ERROR, NULL},
    };
    rest_cases("okx", okx_syms, okx, sizeof okx / sizeof okx[0]);
    free(doc);
}

/* The documented answer with one member of its first trade set to `value` (JSON text) or removed (NULL). The
 * trade is root[0] (Binance, Coinbase), data[0] (OKX) or result.XXBTZUSD[0] (Kraken, where key is the element's
 * index as text). Caller frees. */
static char *rest_mutated(const char *text, const char *key, const char *value) {
    json_t *root = json_loads(text, 0, NULL);
    TT_ASSERT(root != NULL);
    json_t *v = value ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
    TT_ASSERT(!value || v != NULL);
    json_t *result = json_object_get(root, "result");
    if (result) {
        json_t *a = json_array_get(json_object_get(result, "XXBTZUSD"), 0);
        size_t at = (size_t)atoi(key);
        if (v) json_array_set_new(a, at, v);
        else json_array_remove(a, at);
    } else {
        json_t *data = json_object_get(root, "data");
        json_t *o = json_array_get(data ? data : root, 0);
        if (v) json_object_set_new(o, key, v);
        else json_object_del(o, key);
    }
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

static void rest_mutations(const char *venue, const char **syms, int symbol, const char *doc_rel,
                           const struct mutation *m, size_t n) {
    struct fixture fx;
    fixture_init(&fx, venue, syms, 2);
    char *doc = doc_file(doc_rel);
    for (size_t i = 0; i < n; i++) {
        char *body = rest_mutated(doc, m[i].key, m[i].value);
        enum venue_msg kind = rest(&fx, symbol, 200, body);
        if (kind != m[i].kind || fx.out.n_trades != m[i].trades)
            TT_FAIL("%s: %s=%s gave %s with %zu trades: %s", venue, m[i].key, m[i].value ? m[i].value : "(none)",
                    venue_msg_name(kind), fx.out.n_trades, body);
        free(body);
    }
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* Wrong types, missing fields, prices and quantities of zero or below: the whole answer is refused, and with it
 * every good trade beside the bad one. */
static void test_rest_malformed(void) {
    const enum venue_msg M = VENUE_MSG_MALFORMED, T = VENUE_MSG_TICKS;
    const struct mutation binance[] = {
        {"id", NULL, M, 0},          {"id", "\"28457\"", M, 0},    {"id", "-1", M, 0},
        {"id", "1.5", M, 0},         {"price", NULL, M, 0},        {"price", "4.0", M, 0},
        {"price", "\"0\"", M, 0},    {"price", "\"-4\"", M, 0},    {"price", "\"4,0\"", M, 0},
        {"qty", NULL, M, 0},         {"qty", "\"0.00000000\"", M, 0}, {"qty", "\"-1\"", M, 0},
        {"qty", "12", M, 0},         {"time", NULL, M, 0},         {"time", "\"1499865549590\"", M, 0},
        {"time", "-1", M, 0},        {"isBuyerMaker", NULL, M, 0}, {"isBuyerMaker", "\"true\"", M, 0},
        {"isBuyerMaker", "1", M, 0}, {"isBestMatch", NULL, T, 1},  {"quoteQty", "null", T, 1},
        {"isBuyerMaker", "false", T, 1},
    };
    rest_mutations("binance", binance_syms, 0, "binance/doc-rest-trades.json", binance,
                   sizeof binance / sizeof binance[0]);
    const struct mutation coinbase[] = {
        {"trade_id", NULL, M, 0},    {"trade_id", "\"86327327\"", M, 0}, {"trade_id", "-5", M, 0},
        {"price", NULL, M, 0},       {"price", "6225.32", M, 0},         {"price", "\"0.00000000\"", M, 0},
        {"price", "\"-1\"", M, 0},   {"size", NULL, M, 0},               {"size", "\"0\"", M, 0},
        {"size", "\"-0.1\"", M, 0},  {"side", NULL, M, 0},               {"side", "\"BUY\"", M, 0},
        {"side", "\"\"", M, 0},      {"time", NULL, M, 0},               {"time", "\"yesterday\"", M, 0},
        {"time", "1584664619", M, 0}, {"side", "\"buy\"", T, 1},
    };
    rest_mutations("coinbase", coinbase_syms, 0, "coinbase/doc-rest-trades.json", coinbase,
                   sizeof coinbase / sizeof coinbase[0]);
    const struct mutation kraken[] = {
        {"0", "30243.4", M, 0},    {"0", "\"0.00000\"", M, 0}, {"0", "\"-1\"", M, 0},  {"1", "\"0\"", M, 0},
        {"1", "\"-0.5\"", M, 0},   {"1", "0.5", M, 0},         {"2", "\"1688669597\"", M, 0},
        {"2", "-1", M, 0},         {"3", "\"buy\"", M, 0},     {"3", "\"B\"", M, 0},   {"3", "null", M, 0},
        {"6", "\"61044952\"", M, 0}, {"6", "-1", M, 0},        {"6", "61044952.5", M, 0},
        {"6", NULL, M, 0}, /* six elements: the id is missing */
        {"2", "1688669597", T, 3},  /* a whole second is a time too */
    };
    rest_mutations("kraken", kraken_syms, 1, "kraken/doc-rest-trades.json", kraken, sizeof kraken / sizeof kraken[0]);
    const struct mutation okx[] = {
        {"tradeId", NULL, M, 0},  {"tradeId", "242720720", M, 0}, {"tradeId", "\"\"", M, 0},
        {"px", NULL, M, 0},       {"px", "29963.2", M, 0},        {"px", "\"0\"", M, 0},
        {"px", "\"-29963.2\"", M, 0}, {"sz", NULL, M, 0},         {"sz", "\"0.00000\"", M, 0},
        {"sz", "\"-1\"", M, 0},   {"side", NULL, M, 0},           {"side", "\"taker\"", M, 0},
        {"ts", NULL, M, 0},       {"ts", "1654161646974", M, 0},  {"ts", "\"-1\"", M, 0},
        {"instId", NULL, M, 0},   {"instId", "7", M, 0},          {"instId", "\"XRP-USDT\"", T, 1},
        {"source", NULL, T, 2},
    };
    rest_mutations("okx", okx_syms, 0, "okx/doc-rest-trades.json", okx, sizeof okx / sizeof okx[0]);

    /* Shapes of the answer itself. */
    static const struct {
        const char *venue;
        const char *body;
    } shapes[] = {
        {"binance", "{\"id\":1,\"price\":\"1\",\"qty\":\"1\",\"time\":1499865549590,\"isBuyerMaker\":true}"},
        {"binance", "[1]"},
        {"binance", "null"},
        {"binance", "not json"},
        {"coinbase", "{}"},
        {"coinbase", "[[]]"},
        {"coinbase", "\"trades\""},
        {"kraken", "{\"result\":{}}"},
        {"kraken", "{\"error\":{},\"result\":{}}"},
        {"kraken", "{\"error\":[]}"},
        {"kraken", "{\"error\":[],\"result\":[]}"},
        {"kraken", "{\"error\":[],\"result\":{\"XXBTZUSD\":{}}}"},
        {"kraken", "{\"error\":[],\"result\":{\"XXBTZUSD\":[[\"1\",\"1\",1688669597.1,\"b\",\"m\",\"\"]]}}"},
        {"kraken", "{\"error\":[],\"result\":{\"XXBTZUSD\":[{}]}}"},
        {"kraken", "[]"},
        {"okx", "{\"msg\":\"\",\"data\":[]}"},
        {"okx", "{\"code\":\"0\",\"msg\":\"\"}"},
        {"okx", "{\"code\":\"0\",\"msg\":\"\",\"data\":{}}"},
        {"okx", "{\"code\":\"0\",\"msg\":\"\",\"data\":[[]]}"},
        {"okx", "[]"},
        {"okx", ""},
    };
    const char **syms_of[] = {binance_syms, coinbase_syms, kraken_syms, okx_syms};
    static const char *const venues[] = {"binance", "coinbase", "kraken", "okx"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t v = 0;
        while (strcmp(venues[v], shapes[i].venue) != 0) v++;
        struct fixture fx;
        fixture_init(&fx, shapes[i].venue, syms_of[v], 2);
        enum venue_msg kind = rest(&fx, 0, 200, shapes[i].body);
        if (kind != VENUE_MSG_MALFORMED)
            TT_FAIL("%s: %s gave %s", shapes[i].venue, shapes[i].body, venue_msg_name(kind));
        venue_symbols_free(&fx.syms);
    }

    /* A bad trade after good ones refuses them all. */
    struct fixture fx;
    fixture_init(&fx, "kraken", kraken_syms, 2);
    char *doc = doc_file("kraken/doc-rest-trades.json");
    json_t *root = json_loads(doc, 0, NULL);
    json_array_set_new(json_array_get(json_object_get(json_object_get(root, "result"), "XXBTZUSD"), 2), 1,
                       json_string("0"));
    char *bad = json_dumps(root, JSON_COMPACT);
    TT_ASSERT_INT(rest(&fx, 1, 200, bad), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n_trades, 0);
    TT_ASSERT_INT(rest_len(&fx, 1, 200, bad, strlen(bad), 1), VENUE_MSG_MALFORMED); /* past a full array too */
    free(bad);
    json_decref(root);
    free(doc);
    venue_symbols_free(&fx.syms);

    /* Binance and Coinbase answers name no symbol: a request without one cannot be placed. */
    static const char *const unnamed[][2] = {{"binance", "binance/doc-rest-trades.json"},
                                             {"coinbase", "coinbase/doc-rest-trades.json"}};
    for (size_t i = 0; i < 2; i++) {
        fixture_init(&fx, unnamed[i][0], syms_of[i], 2);
        doc = doc_file(unnamed[i][1]);
        TT_ASSERT_INT(rest(&fx, -1, 200, doc), VENUE_MSG_MALFORMED);
        TT_ASSERT_INT(rest(&fx, 2, 200, doc), VENUE_MSG_MALFORMED);
        free(doc);
        venue_symbols_free(&fx.syms);
    }

    /* A trade time from far ahead is refused, the trade kept without it. */
    fixture_init(&fx, "binance", binance_syms, 2);
    doc = doc_file("binance/doc-rest-trades.json");
    char *ahead = rest_mutated(doc, "time", "99999999999999");
    TT_ASSERT_INT(rest(&fx, 0, 200, ahead), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    TT_ASSERT_INT(fx.trades[0].event_us, 0);
    TT_ASSERT(fx.trades[0].bad_time);
    free(ahead);
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* Pair keys and instruments not in the table are counted as unmapped, trade by trade; the other aliases of a pair
 * map to it. */
static void test_rest_unknown_pairs(void) {
    struct fixture fx;
    fixture_init(&fx, "kraken", kraken_syms, 2);
    char *doc = doc_file("kraken/doc-rest-trades.json");
    static const struct {
        const char *key;
        size_t trades;
        const char *symbol;
    } keys[] = {{"XXBTZEUR", 0, NULL}, {"XETHZUSD", 0, NULL}, {"XBTUSD", 3, "BTC-USD"},
                {"BTC/USD", 3, "BTC-USD"}, {"MATICUSD", 3, "MATIC-USD"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *root = json_loads(doc, 0, NULL);
        json_t *result = json_object_get(root, "result");
        json_object_set(result, keys[i].key, json_object_get(result, "XXBTZUSD"));
        json_object_del(result, "XXBTZUSD");
        char *body = json_dumps(root, JSON_COMPACT);
        TT_ASSERT_INT(rest(&fx, 1, 200, body), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.out.n_trades, keys[i].trades);
        TT_ASSERT_INT(fx.out.unmapped, 3 - keys[i].trades);
        if (keys[i].symbol) TT_ASSERT_STR(fx.trades[0].symbol, keys[i].symbol);
        /* An unknown pair's bad trade still refuses the answer. */
        json_array_set_new(json_array_get(json_object_get(result, keys[i].key), 0), 0, json_string("-1"));
        free(body);
        body = json_dumps(root, JSON_COMPACT);
        TT_ASSERT_INT(rest(&fx, 1, 200, body), VENUE_MSG_MALFORMED);
        free(body);
        json_decref(root);
    }
    free(doc);
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "okx", okx_syms, 2);
    doc = doc_file("okx/doc-rest-trades.json");
    char *other = rest_mutated(doc, "instId", "\"BTC-USD-SWAP\"");
    TT_ASSERT_INT(rest(&fx, 0, 200, other), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    TT_ASSERT_INT(fx.out.unmapped, 1);
    TT_ASSERT_STR(fx.trades[0].id, "242720719");
    free(other);
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* A full trades array keeps the first trades of the answer and counts the rest as overflow (sorted among
 * themselves); without an array every trade is overflow. */
static void test_rest_full(void) {
    struct fixture fx;
    fixture_init(&fx, "kraken", kraken_syms, 2);
    char *doc = doc_file("kraken/doc-rest-trades.json");
    TT_ASSERT_INT(rest_len(&fx, 1, 200, doc, strlen(doc), 2), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 2);
    TT_ASSERT_INT(fx.out.overflow, 1);
    TT_ASSERT_STR(fx.trades[0].id, "61044952");
    TT_ASSERT_STR(fx.trades[1].id, "61044953");
    TT_ASSERT_INT(rest_len(&fx, 1, 200, doc, strlen(doc), 0), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 0);
    TT_ASSERT_INT(fx.out.overflow, 3);
    TT_ASSERT_INT(rest_len(&fx, 1, 200, doc, strlen(doc), -1), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.overflow, 3);
    free(doc);
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "okx", okx_syms, 2);
    doc = doc_file("okx/doc-rest-trades.json");
    TT_ASSERT_INT(rest_len(&fx, 0, 200, doc, strlen(doc), 1), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, 1);
    TT_ASSERT_INT(fx.out.overflow, 1);
    TT_ASSERT_STR(fx.trades[0].id, "242720720"); /* the newest, first in the answer */
    free(doc);
    venue_symbols_free(&fx.syms);

    /* A full array of MAX_TRADES from one answer of more, Binance oldest first. */
    fixture_init(&fx, "binance", binance_syms, 2);
    char body[8192] = "[";
    for (int i = 0; i < MAX_TRADES + 3; i++) {
        char item[256];
        snprintf(item, sizeof item,
                 "%s{\"id\":%d,\"price\":\"4.%d\",\"qty\":\"1\",\"quoteQty\":\"4\",\"time\":1499865549590,"
                 "\"isBuyerMaker\":%s,\"isBestMatch\":true}",
                 i ? "," : "", 100 + i, i, i % 2 ? "true" : "false");
        strcat(body, item);
    }
    strcat(body, "]");
    TT_ASSERT_INT(rest(&fx, 1, 200, body), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_trades, MAX_TRADES);
    TT_ASSERT_INT(fx.out.overflow, 3);
    for (int i = 0; i < MAX_TRADES; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", 100 + i);
        TT_ASSERT_STR(fx.trades[i].id, id);
        TT_ASSERT_STR(fx.trades[i].symbol, "BTC-USDT");
        TT_ASSERT_INT(fx.trades[i].side, i % 2 ? TRADE_SIDE_SELL : TRADE_SIDE_BUY);
    }
    venue_symbols_free(&fx.syms);
}

/* Every prefix of every documented answer is malformed; flipped bytes give any kind but never a crash, and
 * whatever trade survives is whole and in order (check_rest_out). */
static void test_rest_truncated_and_flipped(void) {
    static const char *const docs[][2] = {{"binance", "binance/doc-rest-trades.json"},
                                          {"coinbase", "coinbase/doc-rest-trades.json"},
                                          {"kraken", "kraken/doc-rest-trades.json"},
                                          {"okx", "okx/doc-rest-trades.json"}};
    const char **syms[] = {binance_syms, coinbase_syms, kraken_syms, okx_syms};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct fixture fx;
        fixture_init(&fx, docs[i][0], syms[i], 2);
        char *text = doc_file(docs[i][1]);
        json_t *root = json_loads(text, 0, NULL);
        char *body = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        size_t len = strlen(body);
        for (size_t cut = 0; cut < len; cut++) {
            enum venue_msg kind = rest_len(&fx, 1, 200, body, cut, MAX_TRADES);
            if (kind != VENUE_MSG_MALFORMED) TT_FAIL("%s cut at %zu: %s", docs[i][1], cut, venue_msg_name(kind));
        }
        static const char flips[] = {'"', '{', '}', '[', ']', ',', ':', '0', 'e', '-', '.', '\\', 0, (char)0xff};
        for (size_t at = 0; at < len; at++) {
            for (size_t f = 0; f < sizeof flips; f++) {
                char saved = body[at];
                body[at] = flips[f];
                rest_len(&fx, 1, 200, body, len, MAX_TRADES);
                rest_len(&fx, 1, 200, body, len, 1);
                body[at] = saved;
            }
        }
        free(body);
        free(text);
        venue_symbols_free(&fx.syms);
    }
}

int main(void) {
    TT_RUN(test_trades_channels);
    TT_RUN(test_binance_doc);
    TT_RUN(test_coinbase_doc);
    TT_RUN(test_kraken_docs);
    TT_RUN(test_okx_doc);
    TT_RUN(test_subscribe_messages);
    TT_RUN(test_control_messages);
    TT_RUN(test_bbo_ignores_trades);
    TT_RUN(test_binance_bad_shapes);
    TT_RUN(test_coinbase_bad_shapes);
    TT_RUN(test_kraken_bad_shapes);
    TT_RUN(test_okx_bad_shapes);
    TT_RUN(test_data_shapes);
    TT_RUN(test_whole_frame);
    TT_RUN(test_overflow);
    TT_RUN(test_truncated_and_flipped);
    TT_RUN(test_rest_plans);
    TT_RUN(test_rest_docs);
    TT_RUN(test_rest_order);
    TT_RUN(test_rest_errors);
    TT_RUN(test_rest_malformed);
    TT_RUN(test_rest_unknown_pairs);
    TT_RUN(test_rest_full);
    TT_RUN(test_rest_truncated_and_flipped);
    return tt_finish();
}
