/* kraken.c -- Kraken spot: websocket v2 ticker on bbo events (subscribed), v1 ticker arrays (parsed too), REST
 * Ticker (bbo); websocket v2 trade and REST Trades (trades); websocket v2 book with its CRC32 checksum, and REST
 * AssetPairs for the pairs' decimals the checksum is written with (book).
 *
 * Kraken has three spellings of a pair: v2 "BTC/USD", v1 and REST altnames "XBT/USD" / "XBTUSD" (BTC is XBT,
 * DOGE is XDG), and the legacy REST keys of the oldest assets "XXBTZUSD" (X before crypto, Z before fiat).
 * Answers may use any of them, so all are aliases in the symbol table. v2 sends prices as JSON numbers: they
 * become the shortest decimal text that reads back to the same double. Heartbeats come about once a second. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"
#include "instruments.h"
#include "tickd/crc32.h"
#include "tickd/decimal.h"

#define TICKER_PATH "/0/public/Ticker?pair="

struct asset_alias {
    const char *v2, *v1;
};
static const struct asset_alias asset_aliases[] = {{"BTC", "XBT"}, {"DOGE", "XDG"}};

/* Assets whose REST key carries the legacy one-letter class prefix (X crypto, Z fiat). */
static const char *const legacy_crypto[] = {"XBT", "ETH", "LTC", "XMR", "XRP", "XLM", "ETC", "ZEC", "MLN", "REP"};
static const char *const legacy_fiat[] = {"USD", "EUR", "GBP", "JPY", "CAD"};

static const char *asset_v1(const char *a) {
    for (size_t i = 0; i < sizeof asset_aliases / sizeof asset_aliases[0]; i++)
        if (strcmp(a, asset_aliases[i].v2) == 0) return asset_aliases[i].v1;
    return a;
}

static const char *asset_v2(const char *a) {
    for (size_t i = 0; i < sizeof asset_aliases / sizeof asset_aliases[0]; i++)
        if (strcmp(a, asset_aliases[i].v1) == 0) return asset_aliases[i].v2;
    return a;
}

static bool in_list(const char *a, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(a, list[i]) == 0) return true;
    return false;
}

#define IN(a, list) in_list((a), (list), sizeof(list) / sizeof(list)[0])

static int kraken_names(const char *norm, struct venue_names_buf *out) {
    char base[TICK_SYMBOL_MAX], quote[TICK_SYMBOL_MAX];
    memset(out, 0, sizeof *out);
    if (venue_split_symbol(norm, base, quote) != 2) return -EINVAL;
    const char *b1 = asset_v1(base), *q1 = asset_v1(quote);
    char(*alias)[VENUE_NAME_MAX] = out->alias;
    if (venue_concat(out->ws, sizeof out->ws, asset_v2(base), "/", asset_v2(quote)) ||
        venue_concat(out->rest, sizeof out->rest, b1, q1, "") || venue_concat(alias[0], VENUE_NAME_MAX, b1, "/", q1))
        return -EINVAL;
    strcpy(alias[1], out->ws);
    strcpy(alias[2], out->rest);
    out->n_alias = 3;
    if (IN(b1, legacy_crypto) && (IN(q1, legacy_crypto) || IN(q1, legacy_fiat))) {
        char xb[TICK_SYMBOL_MAX + 1] = "X";
        strcat(xb, b1);
        if (venue_concat(alias[3], VENUE_NAME_MAX, xb, IN(q1, legacy_fiat) ? "Z" : "X", q1)) return -EINVAL;
        out->n_alias = 4;
    }
    return 0;
}

static int kraken_ws_path(const struct venue_symbols *s, size_t first, size_t count, char *buf, size_t cap) {
    (void)s, (void)first, (void)count;
    return venue_fixed_path("/v2", buf, cap);
}

/* event_trigger "bbo": without it the ticker channel pushes on trades only, so a quote that moves without a
 * trade would never be seen. With it, every change of the best bid or offer is pushed, in the same shape. */
static int kraken_ws_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                               size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = {
        .head = "{\"method\":\"subscribe\",\"params\":{\"channel\":\"ticker\",\"symbol\":[",
        .item_pre = "\"",
        .item_post = "\"",
        .sep = ",",
        .tail = "],\"event_trigger\":\"bbo\"}}"};
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* {"method":"unsubscribe","params":{"channel":"ticker","symbol":["ALGO/USD"]}} as documented (the options of the
 * subscribe are not repeated); the trade channel's alike. */
#define UNSUBSCRIBE_FMT(channel)                                                                              \
    {.head = "{\"method\":\"unsubscribe\",\"params\":{\"channel\":\"" channel "\",\"symbol\":[",                \
     .item_pre = "\"",                                                                                        \
     .item_post = "\"",                                                                                       \
     .sep = ",",                                                                                              \
     .tail = "]}}"}

static int kraken_ws_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                 size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = UNSUBSCRIBE_FMT("ticker");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int kraken_trades_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                     char *buf, size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = UNSUBSCRIBE_FMT("trade");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* snapshot false: the trades before the subscription are not asked for (a reconnect would repeat them). */
static int kraken_trades_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                   char *buf, size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = {
        .head = "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[",
        .item_pre = "\"",
        .item_post = "\"",
        .sep = ",",
        .tail = "],\"snapshot\":false}}"};
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* The i-th element of a v1 / REST field such as "a": ["42243.20000", 3, "3.04172624"]. */
static int level_decimal(char dst[TICK_DECIMAL_MAX], const json_t *o, const char *key, size_t i) {
    json_t *arr = json_object_get(o, key);
    return json_is_array(arr) ? venue_copy_decimal_str(dst, json_array_get(arr, i)) : -1;
}

/* Ticker object of v1 and REST: a = [ask, whole lot volume, lot volume], b likewise, c = [last, volume]. */
static int v1_fields(const json_t *o, struct tick *t) {
    if (!json_is_object(o)) return -1;
    return level_decimal(t->ask, o, "a", 0) || level_decimal(t->ask_qty, o, "a", 2) ||
                   level_decimal(t->bid, o, "b", 0) || level_decimal(t->bid_qty, o, "b", 2) ||
                   level_decimal(t->last, o, "c", 0)
               ? -1
               : 0;
}

/* Maps a JSON pair name and claims a tick for it: 1 with *t set, 0 to skip (unmapped or full), -1 malformed. */
static int claim(const json_t *name, enum tick_origin origin, const struct venue_symbols *s, struct venue_out *out,
                 struct tick **t) {
    int index = venue_json_symbol(s, name);
    if (index == -2) return -1;
    if (index == -1) {
        out->unmapped++;
        return 0;
    }
    *t = venue_out_add(out, s, index, origin);
    return *t ? 1 : 0;
}

/* v1: [channelID, {ticker}, "ticker", "XBT/USD"] (other channels have other names in place of "ticker"). */
static enum venue_msg v1_array(const json_t *root, const struct venue_symbols *s, struct venue_out *out) {
    size_t n = json_array_size(root);
    if (n < 4) return VENUE_MSG_MALFORMED;
    json_t *channel = json_array_get(root, n - 2);
    if (!json_is_string(channel)) return VENUE_MSG_MALFORMED;
    if (strcmp(json_string_value(channel), "ticker") != 0) return VENUE_MSG_UNKNOWN;
    struct tick *t;
    int got = claim(json_array_get(root, n - 1), TICK_ORIGIN_STREAM, s, out, &t);
    if (got < 0 || (got > 0 && v1_fields(json_array_get(root, 1), t))) return VENUE_MSG_MALFORMED;
    return VENUE_MSG_TICKS;
}

static int v2_ticker(const json_t *o, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    struct tick *t;
    int got = claim(json_object_get(o, "symbol"), TICK_ORIGIN_STREAM, s, out, &t);
    if (got <= 0) return got;
    if (venue_copy_decimal_num(t->bid, json_object_get(o, "bid")) ||
        venue_copy_decimal_num(t->bid_qty, json_object_get(o, "bid_qty")) ||
        venue_copy_decimal_num(t->ask, json_object_get(o, "ask")) ||
        venue_copy_decimal_num(t->ask_qty, json_object_get(o, "ask_qty")))
        return -1;
    json_t *last = json_object_get(o, "last");
    if (last && venue_copy_decimal_num(t->last, last)) return -1;
    json_t *ts = json_object_get(o, "timestamp");
    int64_t event_us;
    if (ts) {
        if (venue_json_rfc3339(ts, &event_us)) return -1;
        venue_event_time(t, event_us, true); /* v2 has no sequence: the event time orders the stream */
    }
    return 0;
}

/* One element of a v2 channel's data: 0, or -1 when malformed. */
typedef int v2_item_fn(const json_t *o, const struct venue_symbols *s, struct venue_out *out);

/* v2: {"channel": ..., "type": ..., "data": [...]}; `name` is the channel whose items `item` reads (NULL: none, the
 * caller read its own channel already). */
static enum venue_msg v2_channel(const json_t *root, const char *channel, const char *name, v2_item_fn *item_fn,
                                 const struct venue_symbols *s, struct venue_out *out) {
    if (strcmp(channel, "heartbeat") == 0) return VENUE_MSG_HEARTBEAT;
    if (strcmp(channel, "status") == 0) return VENUE_MSG_STATUS;
    if (!name || strcmp(channel, name) != 0) return VENUE_MSG_UNKNOWN;
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data)) return VENUE_MSG_MALFORMED;
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        if (item_fn(item, s, out)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

/* One trade of the v2 trade channel ("snapshot" or "update"): {"symbol":"MATIC/USD","side":"buy","price":0.5117,
 * "qty":40.0,"ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"}; side is the
 * taker's. Numbers are read as reals (kraken_ws_parse): trade_id is exact below 2^53. */
static int v2_trade(const json_t *o, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    struct venue_trade_fields f;
    json_t *id = json_object_get(o, "trade_id");
    if (!json_is_number(id) || venue_json_trade_id(f.id, id) ||
        venue_copy_decimal_num(f.price, json_object_get(o, "price")) ||
        venue_copy_decimal_num(f.qty, json_object_get(o, "qty")) ||
        venue_json_side(json_object_get(o, "side"), false, &f.side) ||
        venue_json_rfc3339(json_object_get(o, "timestamp"), &f.event_us))
        return -1;
    return venue_trade_put(out, s, json_object_get(o, "symbol"), &f);
}

/* v2 method answers: {"method":"subscribe","success":true,...} or {"method":"pong",...}. */
static enum venue_msg v2_method(const json_t *root, const char *method, struct venue_out *out) {
    if (strcmp(method, "pong") == 0) return VENUE_MSG_PONG;
    json_t *success = json_object_get(root, "success");
    if (json_is_false(success)) {
        venue_out_detail(out, json_object_get(root, "error"));
        return VENUE_MSG_ERROR;
    }
    if (strcmp(method, "subscribe") == 0 && json_is_true(success)) return VENUE_MSG_SUBSCRIBED;
    if (strcmp(method, "unsubscribe") == 0 && json_is_true(success)) return VENUE_MSG_STATUS; /* a book's resync */
    return VENUE_MSG_UNKNOWN;
}

/* v1 events: heartbeat, subscriptionStatus, systemStatus, pong. */
static enum venue_msg v1_event(const json_t *root, const char *event, struct venue_out *out) {
    if (strcmp(event, "heartbeat") == 0) return VENUE_MSG_HEARTBEAT;
    if (strcmp(event, "pong") == 0) return VENUE_MSG_PONG;
    if (strcmp(event, "systemStatus") == 0) return VENUE_MSG_STATUS;
    if (strcmp(event, "subscriptionStatus") != 0) return VENUE_MSG_UNKNOWN;
    json_t *status = json_object_get(root, "status");
    if (venue_json_is(status, "subscribed")) return VENUE_MSG_SUBSCRIBED;
    if (venue_json_is(status, "error")) {
        venue_out_detail(out, json_object_get(root, "errorMessage"));
        return VENUE_MSG_ERROR;
    }
    return json_is_string(status) ? VENUE_MSG_STATUS : VENUE_MSG_MALFORMED;
}

/* A v2 channel message (the data of `name`, read by item_fn), a v2 method answer or a v1 event. */
static enum venue_msg classify_object(const json_t *root, const char *name, v2_item_fn *item_fn,
                                      const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_object(root)) return VENUE_MSG_MALFORMED;
    json_t *v;
    if (json_is_string(v = json_object_get(root, "channel")))
        return v2_channel(root, json_string_value(v), name, item_fn, s, out);
    if (json_is_string(v = json_object_get(root, "method"))) return v2_method(root, json_string_value(v), out);
    if (json_is_string(v = json_object_get(root, "event"))) return v1_event(root, json_string_value(v), out);
    return VENUE_MSG_UNKNOWN;
}

static enum venue_msg classify(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                               struct venue_out *out) {
    (void)req;
    if (json_is_array(root)) return v1_array(root, s, out);
    return classify_object(root, "ticker", v2_ticker, s, out);
}

/* The trades channel's connection speaks v2 only: a v1 array is not one of its messages. */
static enum venue_msg classify_trades(const json_t *root, const struct venue_request *req,
                                      const struct venue_symbols *s, struct venue_out *out) {
    (void)req;
    if (json_is_array(root)) return VENUE_MSG_UNKNOWN;
    return classify_object(root, "trade", v2_trade, s, out);
}

static enum venue_msg kraken_trades_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                          struct venue_out *out) {
    /* Integers as reals, as kraken_ws_parse reads them (status carries a connection id beyond int64). */
    return venue_parse_trade_frame(frame, len, JSON_DECODE_INT_AS_REAL, classify_trades, s, out);
}

/* A JSON number member (absent: -1) as the shortest decimal of its double, as v2_ticker reads it. */
static int flat_real(const struct venue_flat *f, int parent, const char *key, char dst[TICK_DECIMAL_MAX]) {
    const struct venue_flat_member *m = venue_flat_get(f, parent, key);
    if (!m || (m->type != VENUE_FLAT_UINT && m->type != VENUE_FLAT_NUMBER)) return -1;
    return venue_copy_decimal_real(dst, m->str, m->len);
}

/* v2_ticker's decisions for one element of a frame the flat reader took: 0, or -1 to decline the frame. */
static int fast_ticker(const struct venue_flat *f, int item, const struct venue_symbols *s, struct venue_out *out) {
    struct tick *t;
    if (f->m[item].type != VENUE_FLAT_OBJECT) return -1;
    int got = venue_flat_claim(venue_flat_get(f, item, "symbol"), s, out, &t);
    if (got <= 0) return got;
    if (flat_real(f, item, "bid", t->bid) || flat_real(f, item, "bid_qty", t->bid_qty) ||
        flat_real(f, item, "ask", t->ask) || flat_real(f, item, "ask_qty", t->ask_qty) ||
        (venue_flat_get(f, item, "last") && flat_real(f, item, "last", t->last)))
        return -1;
    const struct venue_flat_member *ts = venue_flat_get(f, item, "timestamp");
    int64_t event_us;
    if (ts) {
        if (ts->type != VENUE_FLAT_STRING || venue_parse_rfc3339(ts->str, ts->len, &event_us)) return -1;
        venue_event_time(t, event_us, true);
    }
    return 0;
}

/* v2 tickers and heartbeats, nearly every message, without a jansson tree: classify's decisions for them. */
static int fast_v2(const char *frame, size_t len, const struct venue_symbols *s, struct venue_out *out) {
    struct venue_flat f;
    if (venue_flat_parse(frame, len, &f) < 0) return VENUE_FAST_DECLINED;
    const struct venue_flat_member *channel = venue_flat_get(&f, -1, "channel");
    if (venue_flat_is(channel, "heartbeat")) return VENUE_MSG_HEARTBEAT;
    if (!venue_flat_is(channel, "ticker")) return VENUE_FAST_DECLINED;
    return venue_flat_each(&f, venue_flat_get(&f, -1, "data"), fast_ticker, s, out);
}

static enum venue_msg kraken_ws_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                      struct venue_out *out) {
    size_t mark = out->n;
    int kind = venue_fast_paths_on ? fast_v2(frame, len, s, out) : VENUE_FAST_DECLINED;
    if (kind != VENUE_FAST_DECLINED) return (enum venue_msg)venue_out_checked(out, mark, kind);
    /* Integers as reals: systemStatus carries a connectionID beyond int64, which jansson refuses otherwise.
     * Kraken has no integer field we keep, and a real prints back the same shortest text. */
    return venue_parse_frame(frame, len, JSON_DECODE_INT_AS_REAL, classify, s, out);
}

/* The requests of an endpoint that takes many pairs (head: its path up to "pair="), one pair list each. */
static int pairs_plan(const struct venue_symbols *s, const char *head, struct venue_request *reqs, size_t cap) {
    const struct venue_list_fmt fmt = {
        .head = head, .item_pre = "", .item_post = "", .sep = ",", .tail = "", .rest_name = true};
    size_t n = 0;
    for (size_t first = 0; first < s->n; n++) { /* one call names many pairs; split only where URLs get long */
        if (n >= cap) return -ENOSPC;
        reqs[n].weight = 1;
        reqs[n].symbol = -1;
        if (venue_join(s, first, s->n - first, &fmt, reqs[n].path, sizeof reqs[n].path, &first) < 0) return -ENOSPC;
    }
    return (int)n;
}

static int kraken_rest_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    return pairs_plan(s, TICKER_PATH, reqs, cap);
}

/* Kraken's error strings say which kind of failure it is. */
static enum venue_msg rest_error_kind(const char *e) {
    if (strstr(e, "Too many requests") || strstr(e, "Throttled") || strstr(e, "Rate limit"))
        return VENUE_MSG_RATE_LIMITED;
    if (strstr(e, "EService:Unavailable") || strstr(e, "EService:Busy")) return VENUE_MSG_UNAVAILABLE;
    return VENUE_MSG_ERROR;
}

/* The answer's "error" array: false when empty (the result decides), true with *kind set otherwise (its first
 * error kept as detail; an answer without the array is malformed). */
static bool rest_errors(const json_t *root, struct venue_out *out, enum venue_msg *kind) {
    json_t *errors = json_object_get(root, "error");
    if (!json_is_array(errors)) {
        *kind = VENUE_MSG_MALFORMED;
        return true;
    }
    if (json_array_size(errors) == 0) return false;
    json_t *first = json_array_get(errors, 0);
    venue_out_detail(out, first);
    *kind = json_is_string(first) ? rest_error_kind(json_string_value(first)) : VENUE_MSG_MALFORMED;
    return true;
}

static enum venue_msg parse_rest(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                 struct venue_out *out) {
    (void)req;
    enum venue_msg kind;
    if (rest_errors(root, out, &kind)) return kind;
    json_t *result = json_object_get(root, "result");
    if (!json_is_object(result)) return VENUE_MSG_MALFORMED;
    const char *key;
    json_t *item;
    json_object_foreach(result, key, item) {
        int index = venue_symbols_find(s, key, strlen(key));
        if (index < 0) {
            out->unmapped++;
            continue;
        }
        struct tick *t = venue_out_add(out, s, index, TICK_ORIGIN_REST);
        if (t && v1_fields(item, t)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg kraken_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                        size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_answer(req, http_status, body, len, NULL, parse_rest, s, out);
}

/* Recent trades, one request per pair: GET /0/public/Trades?pair=XBTUSD&count=100 (1 call). The answer names the
 * pair by Kraken's key (XXBTZUSD), mapped through the aliases as the Ticker answer's keys are. */
static int kraken_trades_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    if (s->n > cap) return -ENOSPC;
    for (size_t i = 0; i < s->n; i++) {
        reqs[i].weight = 1;
        reqs[i].symbol = (int)i;
        if (venue_concat(reqs[i].path, sizeof reqs[i].path, "/0/public/Trades?pair=", s->list[i].names.rest,
                         "&count=100"))
            return -ENOSPC;
    }
    return (int)s->n;
}

/* A trade time in seconds with a fraction (1688669597.8277369) to microseconds; -1 (refused as an event time) when
 * beyond what microseconds hold. 0 or -1 when not a non-negative number. */
static int seconds_us(const json_t *v, int64_t *us) {
    if (!json_is_number(v)) return -1;
    double d = json_number_value(v);
    if (!(d >= 0)) return -1;
    *us = d < 9.2e12 ? (int64_t)llround(d * 1e6) : -1;
    return 0;
}

/* One trade of the answer: [price, volume, time, "b"|"s", "m"|"l", misc, trade_id]; b or s is the taker's side. */
static int rest_trade(const json_t *a, int index, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_array(a) || json_array_size(a) < 7) return -1;
    struct venue_trade_fields f;
    json_t *side = json_array_get(a, 3), *id = json_array_get(a, 6);
    if (venue_copy_decimal_str(f.price, json_array_get(a, 0)) || venue_copy_decimal_str(f.qty, json_array_get(a, 1)) ||
        seconds_us(json_array_get(a, 2), &f.event_us) || !json_is_integer(id) || venue_json_trade_id(f.id, id))
        return -1;
    if (venue_json_is(side, "b")) f.side = TRADE_SIDE_BUY;
    else if (venue_json_is(side, "s")) f.side = TRADE_SIDE_SELL;
    else return -1;
    return venue_trade_put_index(out, s, index, &f, TICK_ORIGIN_REST);
}

static enum venue_msg parse_rest_trades(const json_t *root, const struct venue_request *req,
                                        const struct venue_symbols *s, struct venue_out *out) {
    (void)req;
    enum venue_msg kind;
    if (rest_errors(root, out, &kind)) return kind;
    json_t *result = json_object_get(root, "result");
    if (!json_is_object(result)) return VENUE_MSG_MALFORMED;
    const char *key;
    json_t *list;
    json_object_foreach(result, key, list) {
        if (strcmp(key, "last") == 0) continue; /* the cursor for a next call's "since" */
        if (!json_is_array(list)) return VENUE_MSG_MALFORMED;
        int index = venue_symbols_find(s, key, strlen(key)); /* -1: counted as unmapped, trade by trade */
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item) {
            if (rest_trade(item, index, s, out)) return VENUE_MSG_MALFORMED;
        }
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg kraken_trades_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                               size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_trade_answer(req, http_status, body, len, NULL, parse_rest_trades, s, out);
}

/* ---- book ------------------------------------------------------------------------------------------------
 *
 * What Kraken documents, and what its own examples show (WebSocket API v2 -> Market Data -> Book; the guide "Spot
 * Websockets (v2) Book Checksum"):
 *   - subscribe {"method":"subscribe","params":{"channel":"book","symbol":[...],"depth":D}}, D one of 10, 25, 100,
 *     500, 1000 (default 10); the unsubscribe names the same depth. The venue sends a snapshot of D levels a
 *     side, then updates; "qty": 0 removes a level, and the client truncates its book to D after each message
 *     (no removal is sent for a level pushed out of the top D).
 *   - every snapshot and update carries "checksum": the CRC32 (unsigned) of the top 10 asks, lowest first, then
 *     the top 10 bids, highest first, each level its price then its qty with the '.' removed and the leading
 *     zeros stripped. The guide's worked example (BTC/USD: "45285.2" / "0.00100000" -> "452852100000") gives
 *     3310070434.
 *   - the texts are the pair's decimals written out: the guide says the v2 numbers are sent with "full
 *     precision" (trailing zeros included), which a JSON number loses on the way to its shortest text. The book
 *     page's own example shows it: its MATIC/USD snapshot (0.566, 18097.1547, ...) gives the documented
 *     2439117997, and its update 2114181697, only once each price is written with 4 decimals and each qty with
 *     8 (MATIC/USD's). The v2 guide does not say where the decimals come from; Kraken's FIX checksum guide takes
 *     them from its instrument list (price 1, qty 8 for BTC/USD). REST AssetPairs pair_decimals / lot_decimals
 *     and the v2 instrument channel's price_precision / qty_precision say the same of BTC/USD (1 and 8 in both
 *     documented examples, the decimals of the v2 guide's worked example). tickd reads REST AssetPairs: one
 *     call covers every pair, with no subscription to keep. */

#define KRAKEN_BOOK_TOP 10           /* levels a side the checksum covers */
#define KRAKEN_PRECISION_MAX 30      /* decimals beyond any level a book holds (BOOK_TEXT_MAX) */
#define ASSET_PAIRS_PATH "/0/public/AssetPairs?pair="

/* The depth Kraken is subscribed at for a task publishing `depth` levels (0: BOOK_DEPTH_DEFAULT): the smallest
 * it allows that covers both that depth and the checksum's 10 levels. */
static unsigned kraken_book_depth(unsigned depth) {
    static const unsigned allowed[] = {10, 25, 100, 500, 1000};
    unsigned want = depth ? depth : BOOK_DEPTH_DEFAULT;
    if (want < KRAKEN_BOOK_TOP) want = KRAKEN_BOOK_TOP;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (allowed[i] >= want) return allowed[i];
    return allowed[sizeof allowed / sizeof allowed[0] - 1];
}

/* The book keeps what was subscribed: Kraken's checksum is over the book truncated to it. */
static uint32_t kraken_book_levels(unsigned depth) {
    return kraken_book_depth(depth);
}

static int book_request(const struct venue_symbols *s, const char *method, size_t first, size_t count, char *buf,
                        size_t cap, size_t *next) {
    char head[96], tail[40];
    snprintf(head, sizeof head, "{\"method\":\"%s\",\"params\":{\"channel\":\"book\",\"symbol\":[", method);
    snprintf(tail, sizeof tail, "],\"depth\":%u}}", kraken_book_depth(s->book_depth));
    const struct venue_list_fmt fmt = {.head = head, .item_pre = "\"", .item_post = "\"", .sep = ",", .tail = tail};
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int kraken_book_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                 size_t cap, size_t *next) {
    (void)id;
    return book_request(s, "subscribe", first, count, buf, cap, next);
}

static int kraken_book_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                   char *buf, size_t cap, size_t *next) {
    (void)id;
    return book_request(s, "unsubscribe", first, count, buf, cap, next);
}

/* One level's price and qty, the shortest texts of their numbers, appended to u (NULL: judged only):
 * venue_book_change refuses a price not above zero and a qty below it. 0 or -1. */
static int book_level(struct venue_out *out, struct book_update *u, enum book_side side, const char *p,
                      const char *q) {
    return venue_book_change(out, u, side, p, strlen(p), q, strlen(q));
}

/* One side's levels [{"price":N,"qty":N},...], appended to u (NULL: judged only). A price must be above zero
 * and a qty not below (0 removes the level); both JSON numbers, kept as their shortest text. 0 or -1. */
static int book_side(const json_t *levels, enum book_side side, struct book_update *u, struct venue_out *out) {
    if (!json_is_array(levels)) return -1;
    size_t i;
    json_t *level;
    json_array_foreach(levels, i, level) {
        json_t *price = json_object_get(level, "price"), *qty = json_object_get(level, "qty");
        char p[TICK_DECIMAL_MAX], q[TICK_DECIMAL_MAX];
        if (!json_is_number(price) || !json_is_number(qty) || venue_copy_decimal_num(p, price) ||
            venue_copy_decimal_num(q, qty) || book_level(out, u, side, p, q))
            return -1;
    }
    return 0;
}

/* A checksum read as a real: a whole number of 0 to 2^32-1. 0 or -1. */
static int checksum_whole(double d, uint32_t *out) {
    if (!(d >= 0 && d <= 4294967295.0) || d != floor(d)) return -1;
    *out = (uint32_t)d;
    return 0;
}

/* A checksum: a JSON number (read as a real, as every number of these frames) that checksum_whole takes. */
static int book_checksum_value(const json_t *v, uint32_t *out) {
    return json_is_number(v) ? checksum_whole(json_number_value(v), out) : -1;
}

/* One element of a book message's data: {"symbol","bids","asks","checksum","timestamp"}. The levels are judged
 * whatever the symbol, so a frame is refused alike for every table. 0 or -1 (malformed). */
static int book_item(const json_t *o, enum book_update_kind kind, const struct venue_symbols *s,
                     struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    int index = venue_json_symbol(s, json_object_get(o, "symbol"));
    if (index == -2) return -1;
    uint32_t checksum = 0;
    int64_t event_us = 0;
    json_t *sum = json_object_get(o, "checksum"), *ts = json_object_get(o, "timestamp");
    if ((sum && book_checksum_value(sum, &checksum)) || (ts && venue_json_rfc3339(ts, &event_us))) return -1;
    struct book_update *u = venue_book_add(out, s, index, kind); /* NULL: unmapped or full, counted */
    if (book_side(json_object_get(o, "bids"), BOOK_BID, u, out) ||
        book_side(json_object_get(o, "asks"), BOOK_ASK, u, out))
        return -1;
    if (!u) return 0;
    u->checksum = checksum;
    u->has_checksum = checksum != 0;
    u->event_us = ts ? tick_event_time_bound(event_us, out->recv_us) : 0;
    return 0;
}

/* {"channel":"book","type":"snapshot"|"update","data":[...]}: one update per element. */
static enum venue_msg book_message(const json_t *root, const struct venue_symbols *s, struct venue_out *out) {
    json_t *type = json_object_get(root, "type"), *data = json_object_get(root, "data");
    if (!json_is_string(type)) return VENUE_MSG_MALFORMED;
    enum book_update_kind kind;
    if (venue_json_is(type, "snapshot")) kind = BOOK_UPDATE_SNAPSHOT;
    else if (venue_json_is(type, "update")) kind = BOOK_UPDATE_DELTA;
    else return VENUE_MSG_UNKNOWN;
    if (!json_is_array(data)) return VENUE_MSG_MALFORMED;
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        if (book_item(item, kind, s, out)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

/* The book channel's connection speaks v2 only; its acks, heartbeats and status as the other channels'. */
static enum venue_msg classify_book(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                    struct venue_out *out) {
    (void)req;
    if (json_is_array(root)) return VENUE_MSG_UNKNOWN;
    if (venue_json_is(json_object_get(root, "channel"), "book")) return book_message(root, s, out);
    return classify_object(root, NULL, NULL, s, out);
}

/* ---- the book message without a jansson tree ----
 *
 * Nearly every message of the channel is a book update; the flat reader takes it into members on the stack
 * (three a level: BOOK_FLAT_MAX holds about 300 levels) and the functions below make book_item's decisions in its
 * order on the same values. The reader's types are jansson's (strings, numbers, objects, arrays; it takes no
 * literal), so a test of a member's type decides as json_is_* does; a number's text becomes the shortest text of
 * its double (venue_copy_decimal_real) as jansson's real does through venue_copy_decimal_num, without printing
 * it back in the usual case. Declined, out untouched, for jansson to decide: what the reader does not take
 * (escapes, literals, exponents, a deep snapshot beyond its members), and any message but a book snapshot or
 * update with its data array. */
#define BOOK_FLAT_MAX 1024

static bool flat_is_number(const struct venue_flat_member *m) {
    return m && (m->type == VENUE_FLAT_UINT || m->type == VENUE_FLAT_NUMBER);
}

/* book_checksum_value on a flat member. An unsigned integer is exact as a real below 2^53, and one beyond 2^32-1
 * is refused either way; other numbers are read as jansson reads them (strtod of at most 63 characters). */
static int fast_checksum_value(const struct venue_flat_member *m, uint32_t *out) {
    if (!flat_is_number(m) || (m->type == VENUE_FLAT_UINT && m->num > UINT32_MAX)) return -1;
    if (m->type == VENUE_FLAT_UINT) {
        *out = (uint32_t)m->num;
        return 0;
    }
    char text[64];
    memcpy(text, m->str, m->len);
    text[m->len] = 0;
    return checksum_whole(strtod(text, NULL), out);
}

/* book_side on a flat member. 0 or -1. */
static int fast_book_side(const struct venue_flat *f, const struct venue_flat_member *levels, enum book_side side,
                          struct book_update *u, struct venue_out *out) {
    if (!levels || levels->type != VENUE_FLAT_ARRAY) return -1;
    int at = (int)(levels - f->m);
    for (int level = venue_flat_next(f, at, at); level >= 0; level = venue_flat_next(f, at, level)) {
        const struct venue_flat_member *price = venue_flat_get(f, level, "price");
        const struct venue_flat_member *qty = venue_flat_get(f, level, "qty");
        char p[TICK_DECIMAL_MAX], q[TICK_DECIMAL_MAX];
        if (!flat_is_number(price) || !flat_is_number(qty) || venue_copy_decimal_real(p, price->str, price->len) ||
            venue_copy_decimal_real(q, qty->str, qty->len) || book_level(out, u, side, p, q))
            return -1;
    }
    return 0;
}

/* book_item on a flat item. 0 or -1 (malformed). */
static int fast_book_item(const struct venue_flat *f, int item, enum book_update_kind kind,
                          const struct venue_symbols *s, struct venue_out *out) {
    const struct venue_flat_member *sym = venue_flat_get(f, item, "symbol");
    if (f->m[item].type != VENUE_FLAT_OBJECT || !sym || sym->type != VENUE_FLAT_STRING) return -1;
    int index = venue_symbols_find(s, sym->str, sym->len);
    uint32_t checksum = 0;
    int64_t event_us = 0;
    const struct venue_flat_member *sum = venue_flat_get(f, item, "checksum");
    const struct venue_flat_member *ts = venue_flat_get(f, item, "timestamp");
    if ((sum && fast_checksum_value(sum, &checksum)) ||
        (ts && (ts->type != VENUE_FLAT_STRING || venue_parse_rfc3339(ts->str, ts->len, &event_us))))
        return -1;
    struct book_update *u = venue_book_add(out, s, index, kind); /* NULL: unmapped or full, counted */
    if (fast_book_side(f, venue_flat_get(f, item, "bids"), BOOK_BID, u, out) ||
        fast_book_side(f, venue_flat_get(f, item, "asks"), BOOK_ASK, u, out))
        return -1;
    if (!u) return 0;
    u->checksum = checksum;
    u->has_checksum = checksum != 0;
    u->event_us = ts ? tick_event_time_bound(event_us, out->recv_us) : 0;
    return 0;
}

/* book_message's decisions for a book message the flat reader took, or VENUE_FAST_DECLINED. A message refused
 * keeps no update, as venue_parse_book_frame keeps none (the counts stay, as they do there). */
static int fast_book(const char *frame, size_t len, const struct venue_symbols *s, struct venue_out *out) {
    struct venue_flat_member members[BOOK_FLAT_MAX];
    struct venue_flat f;
    if (venue_flat_parse_in(frame, len, members, BOOK_FLAT_MAX, &f) < 0 ||
        !venue_flat_is(venue_flat_get(&f, -1, "channel"), "book"))
        return VENUE_FAST_DECLINED;
    const struct venue_flat_member *type = venue_flat_get(&f, -1, "type"), *data = venue_flat_get(&f, -1, "data");
    enum book_update_kind kind;
    if (venue_flat_is(type, "snapshot")) kind = BOOK_UPDATE_SNAPSHOT;
    else if (venue_flat_is(type, "update")) kind = BOOK_UPDATE_DELTA;
    else return VENUE_FAST_DECLINED;
    if (!data || data->type != VENUE_FLAT_ARRAY) return VENUE_FAST_DECLINED;
    size_t books = out->n_books, changes = out->n_changes;
    int at = (int)(data - f.m);
    for (int item = venue_flat_next(&f, at, at); item >= 0; item = venue_flat_next(&f, at, item)) {
        if (fast_book_item(&f, item, kind, s, out)) {
            out->n_books = books;
            out->n_changes = changes;
            return VENUE_MSG_MALFORMED;
        }
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg kraken_book_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                        struct venue_out *out) {
    int kind = venue_fast_paths_on ? fast_book(frame, len, s, out) : VENUE_FAST_DECLINED;
    if (kind != VENUE_FAST_DECLINED) return (enum venue_msg)kind;
    /* Integers as reals, as kraken_ws_parse reads them: a checksum is exact as a real. */
    return venue_parse_book_frame(frame, len, JSON_DECODE_INT_AS_REAL, classify_book, s, out);
}

/* Appends at p the checksum text of one price or qty: `text` written with `decimals` fraction digits, its '.'
 * removed and its leading zeros stripped ("0.1" at 8 decimals: "10000000"), and returns the end (at most
 * BOOK_TEXT_MAX - 1 + decimals bytes on). Trailing zeros beyond the decimals go (the same number); a digit beyond
 * them cannot be written so: NULL. */
static char *checksum_text(char *p, const char *text, unsigned decimals) {
    const char *dot = strchr(text, '.');
    size_t ilen = dot ? (size_t)(dot - text) : strlen(text);
    const char *frac = dot ? dot + 1 : "";
    size_t flen = strlen(frac);
    while (flen > decimals && frac[flen - 1] == '0') flen--;
    if (flen > decimals) return NULL;
    char *start = p;
    for (size_t i = 0; i < ilen; i++)
        if (p != start || text[i] != '0') *p++ = text[i];
    for (size_t i = 0; i < decimals; i++) {
        char c = i < flen ? frac[i] : '0';
        if (p != start || c != '0') *p++ = c;
    }
    return p;
}

/* One side's top levels appended at p; the end, or NULL. */
static char *checksum_side(char *p, const struct book_levels *l, const struct book_precision *prec) {
    for (uint32_t i = 0; p && i < l->n && i < KRAKEN_BOOK_TOP; i++) {
        p = checksum_text(p, l->lv[i].price, prec->price_decimals);
        if (p) p = checksum_text(p, l->lv[i].qty, prec->qty_decimals);
    }
    return p;
}

/* The asks' top then the bids', written out whole, then hashed at once. */
static int kraken_book_checksum(const struct book *b, const struct book_precision *p, uint32_t *out) {
    if (!p || !p->known || p->price_decimals > KRAKEN_PRECISION_MAX || p->qty_decimals > KRAKEN_PRECISION_MAX)
        return -1;
    char text[2 * KRAKEN_BOOK_TOP * 2 * (BOOK_TEXT_MAX + KRAKEN_PRECISION_MAX)];
    char *end = checksum_side(text, &b->side[BOOK_ASK], p);
    if (end) end = checksum_side(end, &b->side[BOOK_BID], p);
    if (!end) return -1;
    *out = crc32_update(0, text, (size_t)(end - text));
    return 0;
}

/* The pairs' decimals: GET /0/public/AssetPairs?pair=XBTUSD,ETHUSD,... (1 call; one call names many pairs). */
static int kraken_book_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    return pairs_plan(s, ASSET_PAIRS_PATH, reqs, cap);
}

/* A number of decimals: a whole JSON number of 0 to KRAKEN_PRECISION_MAX. */
static int decimals_value(const json_t *v, uint8_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > KRAKEN_PRECISION_MAX) return -1;
    *out = (uint8_t)json_integer_value(v);
    return 0;
}

/* The table index of an AssetPairs entry: by its key ("XXBTZUSD"), else its altname ("XBTUSD") or wsname
 * ("XBT/USD"); -1 when none is ours. */
static int asset_pair_index(const char *key, const json_t *pair, const struct venue_symbols *s) {
    int index = venue_symbols_find(s, key, strlen(key));
    static const char *const names[] = {"altname", "wsname"};
    for (size_t i = 0; index < 0 && i < sizeof names / sizeof names[0]; i++) {
        json_t *v = json_object_get(pair, names[i]);
        if (json_is_string(v)) index = venue_symbols_find(s, json_string_value(v), json_string_length(v));
    }
    return index;
}

/* {"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","pair_decimals":1,"lot_decimals":8,
 * ...},...}} -> out->precisions[table index]. Every entry is judged before one is written: an answer is taken
 * whole or not at all. */
static enum venue_msg parse_asset_pairs(const json_t *root, const struct venue_request *req,
                                        const struct venue_symbols *s, struct venue_out *out) {
    (void)req;
    enum venue_msg kind;
    if (rest_errors(root, out, &kind)) return kind;
    json_t *result = json_object_get(root, "result");
    if (!json_is_object(result)) return VENUE_MSG_MALFORMED;
    for (int pass = 0; pass < 2; pass++) {
        const char *key;
        json_t *pair;
        json_object_foreach(result, key, pair) {
            struct book_precision p = {.known = true};
            if (!json_is_object(pair) || decimals_value(json_object_get(pair, "pair_decimals"), &p.price_decimals) ||
                decimals_value(json_object_get(pair, "lot_decimals"), &p.qty_decimals))
                return VENUE_MSG_MALFORMED;
            if (pass == 0) continue;
            int index = asset_pair_index(key, pair, s);
            if (index < 0) out->unmapped++;
            else if (!out->precisions) out->overflow++;
            else out->precisions[index] = p;
        }
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg kraken_book_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                             size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_book_answer(req, http_status, body, len, NULL, parse_asset_pairs, s, out);
}

static const struct venue_channel kraken_channels[] = {
    {.name = "bbo",
     .ws_path = kraken_ws_path,
     .ws_subscribe = kraken_ws_subscribe,
     .ws_unsubscribe = kraken_ws_unsubscribe,
     .ws_parse = kraken_ws_parse,
     .rest_plan = kraken_rest_plan,
     .rest_parse = kraken_rest_parse},
    /* v2 trade ids count up by one per pair. */
    {.name = "trades",
     .kind = VENUE_EVENT_TRADE,
     .dense_ids = true,
     .ws_path = kraken_ws_path,
     .ws_subscribe = kraken_trades_subscribe,
     .ws_unsubscribe = kraken_trades_unsubscribe,
     .ws_parse = kraken_trades_parse,
     .rest_plan = kraken_trades_plan,
     .rest_parse = kraken_trades_rest_parse},
    /* A snapshot comes on subscribing, so a resync is an unsubscribe and subscribe of the symbol. The REST
     * requests are the pairs' decimals (AssetPairs), which the checksum needs. */
    {.name = "book",
     .kind = VENUE_EVENT_BOOK,
     .ws_path = kraken_ws_path,
     .ws_subscribe = kraken_book_subscribe,
     .ws_parse = kraken_book_parse,
     .rest_plan = kraken_book_plan,
     .rest_parse = kraken_book_rest_parse,
     .book_sync = VENUE_BOOK_STREAM_SNAPSHOT,
     .book_levels = kraken_book_levels,
     .ws_unsubscribe = kraken_book_unsubscribe,
     .book_checksum = kraken_book_checksum,
     .needs_precision = true},
    {0},
};

/* ---- instruments: GET /0/public/AssetPairs ----------------------------------------------------------- */

/* Every pair in one call (Spot REST API -> Market Data -> Get Tradable Asset Pairs, no pair= given): one public
 * call. tickd's name comes from the v1 websocket name ("XBT/USD" -> BTC-USD, as kraken_names maps it back), or,
 * for a pair without one, from its base and quote ids without their legacy class letter (XXBT, ZUSD). */
#define ASSET_PAIRS_ALL_PATH "/0/public/AssetPairs"

/* A REST asset id without its legacy class letter: XXBT -> XBT, ZUSD -> USD, XXDG -> XDG; others as they are. */
static const char *asset_unclassed(const char *a) {
    if (strlen(a) == 4 && (a[0] == 'X' || a[0] == 'Z') &&
        (IN(a + 1, legacy_crypto) || IN(a + 1, legacy_fiat) || strcmp(a + 1, "XDG") == 0))
        return a + 1;
    return a;
}

/* tickd's part for a Kraken asset name (XBT -> BTC, XDG -> DOGE); false when it does not fit. */
static bool asset_part(const char *a, char dst[VENUE_TEXT_MAX]) {
    const char *v2 = asset_v2(a);
    if (strlen(v2) >= VENUE_TEXT_MAX) return false;
    strcpy(dst, v2);
    return true;
}

/* online, and limit_only and reduce_only (orders still match) trade; cancel_only and post_only match nothing; a
 * pair without a status (older answers) was listed as online. */
static enum instrument_status pair_status(const char *s) {
    if (!s[0] || strcmp(s, "online") == 0 || strcmp(s, "limit_only") == 0 || strcmp(s, "reduce_only") == 0)
        return INSTRUMENT_TRADING;
    if (strcmp(s, "delisted") == 0) return INSTRUMENT_DELISTED;
    return INSTRUMENT_HALTED;
}

/* A decimals count: a whole JSON number of 0 to INSTRUMENT_DECIMALS_MAX. */
static int pair_decimals_value(struct jscan *s, int *out) {
    uint64_t v;
    if (jscan_uint(s, &v) || v > INSTRUMENT_DECIMALS_MAX) return VENUE_INST_MALFORMED;
    *out = (int)v;
    return VENUE_INST_OK;
}

/* One entry of "result", under the pair's REST key: {"altname":"XBTUSD","wsname":"XBT/USD","base":"XXBT",
 * "quote":"ZUSD",...,"pair_decimals":1,"lot_decimals":8,...,"tick_size":"0.1","status":"online",...}. Kraken states
 * no lot size: it is 10^-lot_decimals. */
static int asset_pair(struct jscan *s, const struct jscan_str *name, struct instrument_list *out) {
    struct venue_instrument_text t;
    venue_instrument_text_init(&t);
    char wsname[VENUE_TEXT_MAX] = "";
    bool has_wsname = false, has_base = false, has_quote = false;
    struct jscan_str key;
    size_t i = 0;
    int r, rc = VENUE_INST_OK;
    if (jscan_str_copy(name, t.venue_symbol, VENUE_TEXT_MAX) < 0) t.unnamed = true;
    while (rc == VENUE_INST_OK && (r = jscan_member(s, &i, &key)) > 0) {
        if (jscan_str_is(&key, "wsname")) rc = venue_take_name(s, wsname, &t.unnamed), has_wsname = true;
        else if (jscan_str_is(&key, "base")) rc = venue_take_name(s, t.base, &t.unnamed), has_base = true;
        else if (jscan_str_is(&key, "quote")) rc = venue_take_name(s, t.quote, &t.unnamed), has_quote = true;
        else if (jscan_str_is(&key, "pair_decimals")) rc = pair_decimals_value(s, &t.price_decimals);
        else if (jscan_str_is(&key, "lot_decimals")) rc = pair_decimals_value(s, &t.size_decimals);
        else if (jscan_str_is(&key, "tick_size")) rc = venue_take_value(s, t.tick_size);
        else if (jscan_str_is(&key, "status")) rc = venue_take_value(s, t.venue_status);
        else rc = jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
    }
    if (rc != VENUE_INST_OK) return rc;
    if (r < 0 || !has_base || !has_quote || t.price_decimals < 0 || t.size_decimals < 0) return VENUE_INST_MALFORMED;
    char b[VENUE_TEXT_MAX], q[VENUE_TEXT_MAX];
    if (has_wsname) {
        if (!venue_instrument_split(wsname, '/', b, q)) t.unnamed = true;
    } else {
        strcpy(b, asset_unclassed(t.base));
        strcpy(q, asset_unclassed(t.quote));
    }
    if (!t.unnamed && (!asset_part(b, t.base_norm) || !asset_part(q, t.quote_norm))) t.unnamed = true;
    char *p = t.lot_size; /* 10^-lot_decimals: "1", "0.1", "0.00000001" */
    if (t.size_decimals > 0) {
        p = stpcpy(p, "0.");
        for (int d = 1; d < t.size_decimals; d++) *p++ = '0';
    }
    strcpy(p, "1");
    t.status = pair_status(t.venue_status);
    return venue_instrument_put(out, &t);
}

/* {"error":[],"result":{"XXBTZUSD":{...},...}}; an error (HTTP 200 too) is {"error":["EGeneral:Too many
 * requests"]}: its first string decides, as on the other endpoints. */
static enum venue_msg asset_pairs(struct jscan *s, struct instrument_list *out, char *detail) {
    bool has_error = false, has_result = false;
    size_t errors = 0;
    struct jscan_str key, v;
    size_t i = 0, k;
    int r, e, rc = VENUE_INST_OK;
    while (rc == VENUE_INST_OK && (r = jscan_member(s, &i, &key)) > 0) {
        if (jscan_str_is(&key, "error")) {
            has_error = true;
            for (k = 0; rc == VENUE_INST_OK && (e = jscan_element(s, &k)) > 0;) {
                if (jscan_string(s, &v)) rc = VENUE_INST_MALFORMED;
                else if (errors++ == 0) venue_instrument_detail(detail, &v);
            }
            if (rc == VENUE_INST_OK && e < 0) rc = VENUE_INST_MALFORMED;
        } else if (jscan_str_is(&key, "result")) {
            has_result = true;
            for (k = 0; rc == VENUE_INST_OK && (e = jscan_member(s, &k, &v)) > 0;) rc = asset_pair(s, &v, out);
            if (rc == VENUE_INST_OK && e < 0) rc = VENUE_INST_MALFORMED;
        } else {
            rc = jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
        }
    }
    if (rc != VENUE_INST_OK) return venue_instrument_failed(rc, detail);
    if (r < 0 || !has_error) return VENUE_MSG_MALFORMED;
    if (errors) return rest_error_kind(detail);
    return has_result ? VENUE_MSG_TICKS : VENUE_MSG_MALFORMED;
}

static enum venue_msg kraken_instruments_parse(int http_status, const char *body, size_t len,
                                               struct instrument_list *out, char *detail) {
    return venue_instruments_answer(http_status, body, len, NULL, asset_pairs, out, detail);
}

static const struct venue_instruments kraken_instruments = {
    .path = ASSET_PAIRS_ALL_PATH,
    .weight = 1,
    .max_body = 64u << 20,
    .timeout_ms = 30000,
    .parse = kraken_instruments_parse,
};

const struct venue_ops venue_kraken = {
    .name = "kraken",
    .defaults =
        {
            .rest_url = "https://api.kraken.com",
            .ws_url = "wss://ws.kraken.com",
            .weight_per_minute = 60,
            .requests_per_second = 1,
            .ws_messages_per_second = 10,
            .ws_streams_per_connection = 100,
            /* none documented: OKX's and Binance's together */
            .connect = {{3, 1000, 100}, {300, 300000, 1000}},
            .used_weight_header = NULL,
        },
    .channels = kraken_channels,
    .ws_max_symbols = 0,
    .ws_msg_max = 65536,
    .ping_text = NULL,
    .ping_idle_ms = 0,
    .stale_ms = 5000, /* heartbeats come every second when nothing else does */
    .heartbeats = true,
    .names = kraken_names,
    .instruments = &kraken_instruments,
};
