/* binance.c -- Binance spot: <symbol>@bookTicker streams and the bookTicker REST endpoint (bbo), <symbol>@trade
 * streams and the recent-trades REST endpoint (trades), <symbol>@depth@100ms diffs and the order book REST
 * endpoint's snapshots (book).
 *
 * Streams go in the combined path (/stream?streams=a/b/c) when the whole list fits in a URL, so a
 * connection needs no subscribe message; longer lists connect to /stream and SUBSCRIBE in messages of at
 * most ws_msg_max bytes (the venue takes 5 client messages a second, so fewer, bigger messages). The server
 * pings at the websocket level and sends no heartbeats of its own. */
#include <errno.h>
#include <string.h>

#include "adapter.h"
#include "instruments.h"

#define BOOK_PATH "/api/v3/ticker/bookTicker"

static int binance_names(const char *norm, struct venue_names_buf *out) {
    char base[TICK_SYMBOL_MAX], quote[TICK_SYMBOL_MAX];
    memset(out, 0, sizeof *out);
    if (venue_split_symbol(norm, base, quote) != 2) return -EINVAL;
    if (venue_concat(out->rest, sizeof out->rest, base, quote, "") != 0) return -EINVAL;
    strcpy(out->ws, out->rest);
    for (char *p = out->ws; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a'); /* stream names are lower case */
    strcpy(out->alias[0], out->rest);
    out->n_alias = 1;
    return 0;
}

/* A stream is the symbol's name and the channel's feed: "btcusdt@bookTicker", "btcusdt@trade". */
#define BBO_FEED "@bookTicker"
#define TRADE_FEED "@trade"
#define DEPTH_FEED "@depth@100ms"

/* Writes the combined-stream path naming every symbol of the range on `feed`; false when it does not fit. */
static bool streams_in_path(const struct venue_symbols *s, size_t first, size_t count, const char *feed, char *buf,
                            size_t cap) {
    const struct venue_list_fmt path_fmt = {
        .head = "/stream?streams=", .item_pre = "", .item_post = feed, .sep = "/", .tail = ""};
    size_t next;
    return venue_join(s, first, count, &path_fmt, buf, cap, &next) >= 0 && next == first + count;
}

static int feed_path(const struct venue_symbols *s, size_t first, size_t count, const char *feed, char *buf,
                     size_t cap) {
    char path[VENUE_WS_PATH_MAX];
    return venue_fixed_path(streams_in_path(s, first, count, feed, path, sizeof path) ? path : "/stream", buf, cap);
}

static bool feed_path_subscribes(const struct venue_symbols *s, size_t first, size_t count, const char *feed) {
    char path[VENUE_WS_PATH_MAX];
    return streams_in_path(s, first, count, feed, path, sizeof path);
}

/* {"method":"SUBSCRIBE","params":["btcusdt<feed>",...],"id":N}, or "UNSUBSCRIBE" (a halted or delisted symbol;
 * it works on the streams a combined-stream path subscribed as well). */
static int feed_request(const struct venue_symbols *s, size_t first, size_t count, const char *feed, bool subscribe,
                        unsigned id, char *buf, size_t cap, size_t *next) {
    char tail[40] = "],\"id\":";
    size_t n = strlen(tail);
    n += fmt_u64_str(tail + n, id);
    memcpy(tail + n, "}", 2);
    char item_post[24];
    if (venue_concat(item_post, sizeof item_post, feed, "\"", "")) return -ENOSPC;
    const struct venue_list_fmt fmt = {
        .head = subscribe ? "{\"method\":\"SUBSCRIBE\",\"params\":[" : "{\"method\":\"UNSUBSCRIBE\",\"params\":[",
        .item_pre = "\"", .item_post = item_post, .sep = ",", .tail = tail};
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int binance_ws_path(const struct venue_symbols *s, size_t first, size_t count, char *buf, size_t cap) {
    return feed_path(s, first, count, BBO_FEED, buf, cap);
}

static bool binance_ws_path_subscribes(const struct venue_symbols *s, size_t first, size_t count) {
    return feed_path_subscribes(s, first, count, BBO_FEED);
}

static int binance_ws_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                size_t cap, size_t *next) {
    return feed_request(s, first, count, BBO_FEED, true, id, buf, cap, next);
}

static int binance_ws_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                  size_t cap, size_t *next) {
    return feed_request(s, first, count, BBO_FEED, false, id, buf, cap, next);
}

/* One book ticker object, with the field names of the stream (b, B, a, A) or of REST (bidPrice, ...). */
struct book_fields {
    const char *symbol, *bid, *bid_qty, *ask, *ask_qty;
};
static const struct book_fields ws_fields = {"s", "b", "B", "a", "A"};
static const struct book_fields rest_fields = {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"};

/* Appends the tick of one object. Returns 0, or -1 when the object is malformed. */
static int book_tick(const json_t *o, const struct book_fields *f, enum tick_origin origin,
                     const struct venue_symbols *s, struct venue_out *out) {
    int index = venue_json_symbol(s, json_object_get(o, f->symbol));
    if (index == -2) return -1;
    if (index == -1) {
        out->unmapped++;
        return 0;
    }
    struct tick *t = venue_out_add(out, s, index, origin);
    if (!t) return 0;
    if (venue_copy_decimal_str(t->bid, json_object_get(o, f->bid)) ||
        venue_copy_decimal_str(t->bid_qty, json_object_get(o, f->bid_qty)) ||
        venue_copy_decimal_str(t->ask, json_object_get(o, f->ask)) ||
        venue_copy_decimal_str(t->ask_qty, json_object_get(o, f->ask_qty)))
        return -1;
    json_t *u = json_object_get(o, "u");
    if (u) {
        if (venue_json_uint(u, &t->seq)) return -1;
        t->has_seq = true;
    }
    json_t *last = json_object_get(o, "c"); /* 24hrTicker: last price and event time */
    if (last && venue_copy_decimal_str(t->last, last)) return -1;
    uint64_t event_ms;
    json_t *e = json_object_get(o, "E");
    if (e) {
        if (venue_json_uint(e, &event_ms)) return -1;
        venue_event_time(t, venue_ms_to_us(event_ms), false);
    }
    return 0;
}

/* What every channel's frames share: the payload of a combined-stream frame (the frame itself for a raw stream),
 * errors, subscription replies and the shutdown notice. Returns their kind, or VENUE_MSG_TICKS when the payload
 * is left to the channel (*payload set). */
static enum venue_msg control(const json_t *root, const json_t **payload, struct venue_out *out) {
    if (!json_is_object(root)) return VENUE_MSG_MALFORMED;
    json_t *data = json_object_get(root, "data");
    *payload = json_is_object(data) && json_object_get(root, "stream") ? data : root;

    json_t *error = json_object_get(root, "error");
    if (json_is_object(error)) {
        venue_out_detail(out, json_object_get(error, "msg"));
        return VENUE_MSG_ERROR;
    }
    if (json_object_get(root, "id") && json_object_get(root, "result")) return VENUE_MSG_SUBSCRIBED;
    if (venue_json_is(json_object_get(*payload, "e"), "serverShutdown")) return VENUE_MSG_PLANNED_CLOSE;
    return VENUE_MSG_TICKS;
}

static enum venue_msg parse_event(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                  struct venue_out *out) {
    (void)req;
    const json_t *payload;
    enum venue_msg kind = control(root, &payload, out);
    if (kind != VENUE_MSG_TICKS) return kind;

    json_t *event = json_object_get(payload, "e");
    bool book = !event && json_object_get(payload, "u") && json_object_get(payload, "s");
    if (!book && !venue_json_is(event, "24hrTicker") && !venue_json_is(event, "bookTicker")) return VENUE_MSG_UNKNOWN;
    if (book_tick(payload, &ws_fields, TICK_ORIGIN_STREAM, s, out)) return VENUE_MSG_MALFORMED;
    return VENUE_MSG_TICKS;
}

/* The frame nearly every message is, a bookTicker update (raw or combined), read without building a jansson
 * tree: parse_event's decisions for that case, in its order. VENUE_FAST_DECLINED for anything else (errors,
 * replies, events, odd types, malformed fields), and parse_event decides. */
static int fast_book(const char *frame, size_t len, const struct venue_symbols *s, struct venue_out *out) {
    struct venue_flat f;
    if (venue_flat_parse(frame, len, &f) < 0) return VENUE_FAST_DECLINED;
    if (venue_flat_get(&f, -1, "error") || venue_flat_get(&f, -1, "id") || venue_flat_get(&f, -1, "result"))
        return VENUE_FAST_DECLINED;
    const struct venue_flat_member *data = venue_flat_get(&f, -1, "data");
    int payload = data && data->type == VENUE_FLAT_OBJECT && venue_flat_get(&f, -1, "stream") ? (int)(data - f.m) : -1;
    const struct venue_flat_member *sym = venue_flat_get(&f, payload, "s"), *u = venue_flat_get(&f, payload, "u");
    const struct venue_flat_member *e = venue_flat_get(&f, payload, "E");
    if (venue_flat_get(&f, payload, "e") || venue_flat_get(&f, payload, "c") || !sym || !u ||
        sym->type != VENUE_FLAT_STRING || u->type != VENUE_FLAT_UINT || (e && e->type != VENUE_FLAT_UINT))
        return VENUE_FAST_DECLINED;
    struct venue_out_mark mark = venue_out_mark(out);
    struct tick *t;
    if (venue_flat_claim(sym, s, out, &t) == 0) return VENUE_MSG_TICKS;
    if (venue_flat_decimal(&f, payload, "b", t->bid) || venue_flat_decimal(&f, payload, "B", t->bid_qty) ||
        venue_flat_decimal(&f, payload, "a", t->ask) || venue_flat_decimal(&f, payload, "A", t->ask_qty)) {
        venue_out_rewind(out, &mark);
        return VENUE_FAST_DECLINED;
    }
    t->seq = u->num;
    t->has_seq = true;
    if (e) venue_event_time(t, venue_ms_to_us(e->num), false);
    return VENUE_MSG_TICKS;
}

static enum venue_msg binance_ws_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                       struct venue_out *out) {
    size_t mark = out->n;
    int kind = venue_fast_paths_on ? fast_book(frame, len, s, out) : VENUE_FAST_DECLINED;
    if (kind != VENUE_FAST_DECLINED) return (enum venue_msg)venue_out_checked(out, mark, kind);
    return venue_parse_frame(frame, len, 0, parse_event, s, out);
}

/* One <symbol>@trade event: {"e":"trade","E":..,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":..,"m":true,..}.
 * "m" (the buyer is the maker) true means the taker sold. The trade time T is the event time. */
static enum venue_msg parse_trade(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                  struct venue_out *out) {
    (void)req;
    const json_t *payload;
    enum venue_msg kind = control(root, &payload, out);
    if (kind != VENUE_MSG_TICKS) return kind;
    if (!venue_json_is(json_object_get(payload, "e"), "trade")) return VENUE_MSG_UNKNOWN;
    struct venue_trade_fields f;
    uint64_t time_ms;
    json_t *maker = json_object_get(payload, "m");
    json_t *id = json_object_get(payload, "t");
    if (!json_is_integer(id) || venue_json_trade_id(f.id, id) ||
        venue_copy_decimal_str(f.price, json_object_get(payload, "p")) ||
        venue_copy_decimal_str(f.qty, json_object_get(payload, "q")) ||
        venue_json_uint(json_object_get(payload, "T"), &time_ms) || !json_is_boolean(maker))
        return VENUE_MSG_MALFORMED;
    f.side = json_is_true(maker) ? TRADE_SIDE_SELL : TRADE_SIDE_BUY;
    f.event_us = venue_ms_to_us(time_ms);
    return venue_trade_put(out, s, json_object_get(payload, "s"), &f) ? VENUE_MSG_MALFORMED : VENUE_MSG_TICKS;
}

static enum venue_msg binance_trades_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                           struct venue_out *out) {
    return venue_parse_trade_frame(frame, len, 0, parse_trade, s, out);
}

static int binance_trades_path(const struct venue_symbols *s, size_t first, size_t count, char *buf, size_t cap) {
    return feed_path(s, first, count, TRADE_FEED, buf, cap);
}

static bool binance_trades_path_subscribes(const struct venue_symbols *s, size_t first, size_t count) {
    return feed_path_subscribes(s, first, count, TRADE_FEED);
}

static int binance_trades_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                    char *buf, size_t cap, size_t *next) {
    return feed_request(s, first, count, TRADE_FEED, true, id, buf, cap, next);
}

static int binance_trades_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                      char *buf, size_t cap, size_t *next) {
    return feed_request(s, first, count, TRADE_FEED, false, id, buf, cap, next);
}

static int binance_rest_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    if (s->n == 0) return 0;
    if (cap < 1) return -ENOSPC;
    struct venue_request *r = &reqs[0];
    r->symbol = -1;
    if (s->n == 1) { /* weight 2 for one symbol; a list or everything costs 4 */
        r->weight = 2;
        return venue_concat(r->path, sizeof r->path, BOOK_PATH "?symbol=", s->list[0].names.rest, "") ? -ENOSPC : 1;
    }
    r->weight = 4;
    static const struct venue_list_fmt list_fmt = {.head = BOOK_PATH "?symbols=%5B",
                                                   .item_pre = "%22",
                                                   .item_post = "%22",
                                                   .sep = ",",
                                                   .tail = "%5D",
                                                   .rest_name = true};
    size_t next;
    if (venue_join(s, 0, s->n, &list_fmt, r->path, sizeof r->path, &next) < 0 || next != s->n)
        strcpy(r->path, BOOK_PATH); /* too long for a URL: all symbols, same weight */
    return 1;
}

static enum venue_msg parse_rest(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                 struct venue_out *out) {
    (void)req;
    if (json_is_object(root) && json_object_get(root, "code")) {
        venue_out_detail(out, json_object_get(root, "msg"));
        return json_integer_value(json_object_get(root, "code")) == -1003 ? VENUE_MSG_RATE_LIMITED : VENUE_MSG_ERROR;
    }
    if (json_is_object(root))
        return book_tick(root, &rest_fields, TICK_ORIGIN_REST, s, out) ? VENUE_MSG_MALFORMED : VENUE_MSG_TICKS;
    if (!json_is_array(root)) return VENUE_MSG_MALFORMED;
    size_t i;
    json_t *item;
    json_array_foreach(root, i, item) {
        if (!json_is_object(item) || book_tick(item, &rest_fields, TICK_ORIGIN_REST, s, out)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg binance_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                         size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_answer(req, http_status, body, len, "msg", parse_rest, s, out);
}

/* Recent trades, one request per symbol: GET /api/v3/trades?symbol=BNBBTC&limit=100 (request weight 25 whatever the
 * limit). The answer, oldest first, does not name the symbol: the request remembers it. */
#define TRADES_PATH "/api/v3/trades?symbol="
#define TRADES_LIMIT "&limit=100"
#define TRADES_WEIGHT 25

static int binance_trades_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    if (s->n > cap) return -ENOSPC;
    for (size_t i = 0; i < s->n; i++) {
        reqs[i].weight = TRADES_WEIGHT;
        reqs[i].symbol = (int)i;
        if (venue_concat(reqs[i].path, sizeof reqs[i].path, TRADES_PATH, s->list[i].names.rest, TRADES_LIMIT))
            return -ENOSPC;
    }
    return (int)s->n;
}

/* One element: {"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,
 * "isBuyerMaker":true,"isBestMatch":true}; the buyer made: the taker sold. 0 or -1. */
static int rest_trade(const json_t *o, int index, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    struct venue_trade_fields f;
    uint64_t time_ms;
    json_t *id = json_object_get(o, "id"), *maker = json_object_get(o, "isBuyerMaker");
    if (!json_is_integer(id) || venue_json_trade_id(f.id, id) ||
        venue_copy_decimal_str(f.price, json_object_get(o, "price")) ||
        venue_copy_decimal_str(f.qty, json_object_get(o, "qty")) ||
        venue_json_uint(json_object_get(o, "time"), &time_ms) || !json_is_boolean(maker))
        return -1;
    f.side = json_is_true(maker) ? TRADE_SIDE_SELL : TRADE_SIDE_BUY;
    f.event_us = venue_ms_to_us(time_ms);
    return venue_trade_put_index(out, s, index, &f, TICK_ORIGIN_REST);
}

static enum venue_msg parse_rest_trades(const json_t *root, const struct venue_request *req,
                                        const struct venue_symbols *s, struct venue_out *out) {
    if (json_is_object(root) && json_object_get(root, "code")) { /* {"code":-1121,"msg":"Invalid symbol."} */
        venue_out_detail(out, json_object_get(root, "msg"));
        return json_integer_value(json_object_get(root, "code")) == -1003 ? VENUE_MSG_RATE_LIMITED : VENUE_MSG_ERROR;
    }
    if (!json_is_array(root) || req->symbol < 0 || (size_t)req->symbol >= s->n) return VENUE_MSG_MALFORMED;
    size_t i;
    json_t *item;
    json_array_foreach(root, i, item) {
        if (rest_trade(item, req->symbol, s, out)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg binance_trades_rest_parse(const struct venue_request *req, int http_status,
                                                const char *body, size_t len, const struct venue_symbols *s,
                                                struct venue_out *out) {
    return venue_parse_trade_answer(req, http_status, body, len, "msg", parse_rest_trades, s, out);
}

/* ---- book: <symbol>@depth@100ms diffs, GET /api/v3/depth snapshots ------------------------------------ */

static int binance_book_path(const struct venue_symbols *s, size_t first, size_t count, char *buf, size_t cap) {
    return feed_path(s, first, count, DEPTH_FEED, buf, cap);
}

static bool binance_book_path_subscribes(const struct venue_symbols *s, size_t first, size_t count) {
    return feed_path_subscribes(s, first, count, DEPTH_FEED);
}

static int binance_book_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                  size_t cap, size_t *next) {
    return feed_request(s, first, count, DEPTH_FEED, true, id, buf, cap, next);
}

static int binance_book_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                    char *buf, size_t cap, size_t *next) {
    return feed_request(s, first, count, DEPTH_FEED, false, id, buf, cap, next);
}

/* One level, ["price","qty"] (strings; anything after them is ignored, as the venue's older "[]" was), appended
 * to u (NULL: judged only). A price must be above zero: a book holds no level at zero (book_set). A quantity of
 * zero removes the level and is passed on as sent. 0, or -1 when the level is malformed. */
static int book_level(struct venue_out *out, struct book_update *u, enum book_side side, const json_t *level) {
    const json_t *price = json_array_get(level, 0), *qty = json_array_get(level, 1);
    if (!json_is_string(price) || !json_is_string(qty)) return -1;
    const char *p = json_string_value(price);
    size_t plen = json_string_length(price);
    if (strcspn(p, "123456789") >= plen) return -1; /* no digit but 0: a price of zero (or no number at all) */
    return venue_book_change(out, u, side, p, plen, json_string_value(qty), json_string_length(qty));
}

/* Every level of the array `levels` on `side`, in order. 0 or -1 (not an array, or a level malformed). */
static int book_levels_put(struct venue_out *out, struct book_update *u, enum book_side side, const json_t *levels) {
    if (!json_is_array(levels)) return -1;
    size_t i;
    json_t *level;
    json_array_foreach(levels, i, level) {
        if (book_level(out, u, side, level)) return -1;
    }
    return 0;
}

/* What a refused message counted leaves no trace: the updates and changes are rewound by venue_parse_book_frame
 * and venue_parse_book_answer, the unmapped and overflow counts here. */
static enum venue_msg book_refused(struct venue_out *out, size_t unmapped, size_t overflow) {
    out->unmapped = unmapped;
    out->overflow = overflow;
    return VENUE_MSG_MALFORMED;
}

/* One diff: {"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],
 * "a":[["0.0026","100"]]} is one BOOK_UPDATE_DELTA of the update ids U..u, bids then asks in message order. Its
 * levels are judged whatever the table holds, so a frame is refused alike for a symbol that is not in it. */
static enum venue_msg parse_depth(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                  struct venue_out *out) {
    (void)req;
    const json_t *payload;
    enum venue_msg kind = control(root, &payload, out);
    if (kind != VENUE_MSG_TICKS) return kind;
    if (!venue_json_is(json_object_get(payload, "e"), "depthUpdate")) return VENUE_MSG_UNKNOWN;
    uint64_t first, last, event_ms = 0;
    json_t *e = json_object_get(payload, "E");
    int index = venue_json_symbol(s, json_object_get(payload, "s"));
    if (index == -2 || venue_json_uint(json_object_get(payload, "U"), &first) ||
        venue_json_uint(json_object_get(payload, "u"), &last) || first > last || (e && venue_json_uint(e, &event_ms)))
        return VENUE_MSG_MALFORMED;
    size_t unmapped = out->unmapped, overflow = out->overflow;
    struct book_update *u = venue_book_add(out, s, index, BOOK_UPDATE_DELTA);
    if (book_levels_put(out, u, BOOK_BID, json_object_get(payload, "b")) ||
        book_levels_put(out, u, BOOK_ASK, json_object_get(payload, "a")))
        return book_refused(out, unmapped, overflow);
    if (!u) return VENUE_MSG_TICKS;
    u->first_seq = first;
    u->seq = last;
    u->has_first = u->has_seq = true;
    if (e) u->event_us = tick_event_time_bound(venue_ms_to_us(event_ms), out->recv_us);
    return VENUE_MSG_TICKS;
}

static enum venue_msg binance_book_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                         struct venue_out *out) {
    return venue_parse_book_frame(frame, len, 0, parse_depth, s, out);
}

/* The snapshot's limit: the venue takes 1 to 5000 and weighs the request by the bracket the limit falls in, so
 * each bracket's top is asked for (100 levels cost what 5 do). The book keeps this many a side. */
static uint32_t binance_book_levels(unsigned depth) {
    if (depth <= 100) return 100;
    if (depth <= 500) return 500;
    if (depth <= 1000) return 1000;
    return 5000;
}

/* The request weight of GET /api/v3/depth by its limit, as the venue's current Spot REST API documentation
 * (Market Data endpoints -> Order book, "Weight: Adjusted based on the limit") gives it: 1-100: 5, 101-500: 25,
 * 501-1000: 50, 1001-5000: 250 (the WebSocket API's `depth` request lists the same). Older editions of the page
 * (2022) said 1, 5, 10 and 50: the weights were raised fivefold since. */
static unsigned depth_weight(uint32_t limit) {
    if (limit <= 100) return 5;
    if (limit <= 500) return 25;
    if (limit <= 1000) return 50;
    return 250;
}

/* GET /api/v3/depth?symbol=BNBBTC&limit=100 for table symbol `index`: 0, -EINVAL for an index outside the table,
 * -ENOSPC when the path does not fit. */
static int binance_book_snapshot(const struct venue_symbols *s, int index, unsigned depth, struct venue_request *req) {
    if (index < 0 || (size_t)index >= s->n) return -EINVAL;
    uint32_t limit = binance_book_levels(depth);
    char tail[32] = "&limit=";
    fmt_u64_str(tail + strlen(tail), limit);
    req->weight = depth_weight(limit);
    req->symbol = index;
    return venue_concat(req->path, sizeof req->path, "/api/v3/depth?symbol=", s->list[index].names.rest, tail)
               ? -ENOSPC
               : 0;
}

/* The snapshot: {"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]},
 * one BOOK_UPDATE_SNAPSHOT of the symbol the request asked for (the answer does not name it), seq = lastUpdateId.
 * A 2xx body with a "code" is the venue's error, as the other channels' answers. */
static enum venue_msg parse_depth_answer(const json_t *root, const struct venue_request *req,
                                         const struct venue_symbols *s, struct venue_out *out) {
    if (json_is_object(root) && json_object_get(root, "code")) {
        venue_out_detail(out, json_object_get(root, "msg"));
        return json_integer_value(json_object_get(root, "code")) == -1003 ? VENUE_MSG_RATE_LIMITED : VENUE_MSG_ERROR;
    }
    uint64_t last;
    if (!json_is_object(root) || req->symbol < 0 || (size_t)req->symbol >= s->n ||
        venue_json_uint(json_object_get(root, "lastUpdateId"), &last))
        return VENUE_MSG_MALFORMED;
    size_t unmapped = out->unmapped, overflow = out->overflow;
    struct book_update *u = venue_book_add(out, s, req->symbol, BOOK_UPDATE_SNAPSHOT);
    if (book_levels_put(out, u, BOOK_BID, json_object_get(root, "bids")) ||
        book_levels_put(out, u, BOOK_ASK, json_object_get(root, "asks")))
        return book_refused(out, unmapped, overflow);
    if (u) {
        u->seq = last;
        u->has_seq = true;
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg binance_book_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                              size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_book_answer(req, http_status, body, len, "msg", parse_depth_answer, s, out);
}

static const struct venue_channel binance_channels[] = {
    {.name = "bbo",
     .ws_path = binance_ws_path,
     .ws_path_subscribes = binance_ws_path_subscribes,
     .ws_subscribe = binance_ws_subscribe,
     .ws_unsubscribe = binance_ws_unsubscribe,
     .ws_parse = binance_ws_parse,
     .rest_plan = binance_rest_plan,
     .rest_parse = binance_rest_parse},
    /* Trade ids count up by one per symbol. */
    {.name = "trades",
     .kind = VENUE_EVENT_TRADE,
     .dense_ids = true,
     .ws_path = binance_trades_path,
     .ws_path_subscribes = binance_trades_path_subscribes,
     .ws_subscribe = binance_trades_subscribe,
     .ws_unsubscribe = binance_trades_unsubscribe,
     .ws_parse = binance_trades_parse,
     .rest_plan = binance_trades_plan,
     .rest_parse = binance_trades_rest_parse},
    /* Diffs from the stream, the snapshot from REST (design.md "Order books"): never polled, so no rest_plan;
     * rest_parse reads the snapshots book_snapshot_request asks for. */
    {.name = "book",
     .kind = VENUE_EVENT_BOOK,
     .ws_path = binance_book_path,
     .ws_path_subscribes = binance_book_path_subscribes,
     .ws_subscribe = binance_book_subscribe,
     .ws_unsubscribe = binance_book_unsubscribe,
     .ws_parse = binance_book_parse,
     .rest_parse = binance_book_rest_parse,
     .book_sync = VENUE_BOOK_REST_SNAPSHOT,
     .book_levels = binance_book_levels,
     .book_snapshot_request = binance_book_snapshot},
    {0},
};

/* ---- instruments: GET /api/v3/exchangeInfo ---------------------------------------------------------- */

/* Request weight 20 (Spot REST API -> General endpoints -> Exchange information). showPermissionSets=false leaves
 * each symbol's permissionSets empty, which tickd does not read: the answer is a fraction of its full size (which
 * runs to megabytes, beyond http.c's default 4 MiB). Symbols of every status are listed, delisted ones too. */
#define EXCHANGE_INFO_PATH "/api/v3/exchangeInfo?showPermissionSets=false"
#define EXCHANGE_INFO_WEIGHT 20

/* TRADING matches; a pair Binance delisted stays listed with BREAK; HALT, END_OF_DAY (and the older PRE_TRADING,
 * POST_TRADING, AUCTION_MATCH, and any word to come) match nothing now. */
static enum instrument_status exchange_status(const char *s) {
    if (strcmp(s, "TRADING") == 0) return INSTRUMENT_TRADING;
    if (strcmp(s, "BREAK") == 0) return INSTRUMENT_DELISTED;
    return INSTRUMENT_HALTED;
}

/* One of a symbol's "filters": PRICE_FILTER's tickSize is the tick size, LOT_SIZE's stepSize the lot size (not
 * MARKET_LOT_SIZE's); the other filters are passed over. Every filter names its filterType. */
static int exchange_filter(struct jscan *s, struct venue_instrument_text *t) {
    char type[VENUE_TEXT_MAX] = "", tick[VENUE_TEXT_MAX] = "", step[VENUE_TEXT_MAX] = "";
    bool typed = false, unnamed = false, has_tick = false, has_step = false;
    struct jscan_str key;
    size_t i = 0;
    int r, rc = VENUE_INST_OK;
    while (rc == VENUE_INST_OK && (r = jscan_member(s, &i, &key)) > 0) {
        if (jscan_str_is(&key, "filterType")) rc = venue_take_name(s, type, &unnamed), typed = true;
        else if (jscan_str_is(&key, "tickSize")) rc = venue_take_value(s, tick), has_tick = true;
        else if (jscan_str_is(&key, "stepSize")) rc = venue_take_value(s, step), has_step = true;
        else rc = jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
    }
    if (rc != VENUE_INST_OK || r < 0 || !typed) return VENUE_INST_MALFORMED;
    if (strcmp(type, "PRICE_FILTER") == 0) {
        if (!has_tick) return VENUE_INST_MALFORMED;
        strcpy(t->tick_size, tick);
    } else if (strcmp(type, "LOT_SIZE") == 0) {
        if (!has_step) return VENUE_INST_MALFORMED;
        strcpy(t->lot_size, step);
    }
    return VENUE_INST_OK;
}

/* One element of "symbols": {"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","quoteAsset":"BTC",...,
 * "filters":[...]}. tickd's name is baseAsset-quoteAsset (binance_names joins them back). */
static int exchange_symbol(struct jscan *s, struct instrument_list *out) {
    struct venue_instrument_text t;
    venue_instrument_text_init(&t);
    bool has_symbol = false, has_status = false, has_base = false, has_quote = false;
    struct jscan_str key;
    size_t i = 0, k;
    int r, e, rc = VENUE_INST_OK;
    while (rc == VENUE_INST_OK && (r = jscan_member(s, &i, &key)) > 0) {
        if (jscan_str_is(&key, "symbol")) {
            rc = venue_take_name(s, t.venue_symbol, &t.unnamed), has_symbol = true;
        } else if (jscan_str_is(&key, "status")) {
            rc = venue_take_value(s, t.venue_status), has_status = true;
        } else if (jscan_str_is(&key, "baseAsset")) {
            rc = venue_take_name(s, t.base, &t.unnamed), has_base = true;
        } else if (jscan_str_is(&key, "quoteAsset")) {
            rc = venue_take_name(s, t.quote, &t.unnamed), has_quote = true;
        } else if (jscan_str_is(&key, "filters")) {
            t.tick_size[0] = t.lot_size[0] = 0; /* the last "filters" counts, as a tree would keep it */
            for (k = 0; rc == VENUE_INST_OK && (e = jscan_element(s, &k)) > 0;) rc = exchange_filter(s, &t);
            if (rc == VENUE_INST_OK && e < 0) rc = VENUE_INST_MALFORMED;
        } else {
            rc = jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
        }
    }
    if (rc != VENUE_INST_OK) return rc;
    if (r < 0 || !has_symbol || !has_status || !has_base || !has_quote) return VENUE_INST_MALFORMED;
    strcpy(t.base_norm, t.base);
    strcpy(t.quote_norm, t.quote);
    t.status = exchange_status(t.venue_status);
    return venue_instrument_put(out, &t);
}

/* {"timezone":"UTC","serverTime":..,"rateLimits":[..],"exchangeFilters":[..],"symbols":[..]}; a body with a "code"
 * is the venue's error, {"code":-1003,"msg":"..."} its rate limit, as on the other endpoints. */
static enum venue_msg exchange_info(struct jscan *s, struct instrument_list *out, char *detail) {
    bool symbols = false, coded = false, limited = false;
    struct jscan_str key, v;
    size_t i = 0, k;
    int r, e, rc = VENUE_INST_OK;
    while (rc == VENUE_INST_OK && (r = jscan_member(s, &i, &key)) > 0) {
        if (jscan_str_is(&key, "symbols")) {
            symbols = true;
            for (k = 0; rc == VENUE_INST_OK && (e = jscan_element(s, &k)) > 0;) rc = exchange_symbol(s, out);
            if (rc == VENUE_INST_OK && e < 0) rc = VENUE_INST_MALFORMED;
        } else if (jscan_str_is(&key, "code")) {
            coded = true;
            if (jscan_number(s, &v)) rc = VENUE_INST_MALFORMED;
            else limited = v.len == 5 && memcmp(v.p, "-1003", 5) == 0;
        } else if (jscan_str_is(&key, "msg") && jscan_peek(s) == JSCAN_STRING) {
            if (jscan_string(s, &v) == 0) venue_instrument_detail(detail, &v);
        } else {
            rc = jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
        }
    }
    if (rc != VENUE_INST_OK) return venue_instrument_failed(rc, detail);
    if (r < 0) return VENUE_MSG_MALFORMED;
    if (coded) return limited ? VENUE_MSG_RATE_LIMITED : VENUE_MSG_ERROR;
    return symbols ? VENUE_MSG_TICKS : VENUE_MSG_MALFORMED;
}

static enum venue_msg binance_instruments_parse(int http_status, const char *body, size_t len,
                                                struct instrument_list *out, char *detail) {
    return venue_instruments_answer(http_status, body, len, "msg", exchange_info, out, detail);
}

static const struct venue_instruments binance_instruments = {
    .path = EXCHANGE_INFO_PATH,
    .weight = EXCHANGE_INFO_WEIGHT,
    .max_body = 64u << 20,
    .timeout_ms = 30000,
    .parse = binance_instruments_parse,
};

const struct venue_ops venue_binance = {
    .name = "binance",
    .defaults =
        {
            .rest_url = "https://api.binance.com",
            .ws_url = "wss://stream.binance.com:9443",
            .weight_per_minute = 6000,
            .requests_per_second = 20,
            .ws_messages_per_second = 5,
            .ws_streams_per_connection = 1024,
            /* 300 per 5 minutes documented; 3 a second keeps a reconnect storm slow within it */
            .connect = {{3, 1000, 100}, {300, 300000, 1000}},
            .used_weight_header = "X-MBX-USED-WEIGHT-1M",
        },
    .channels = binance_channels,
    .ws_max_symbols = 1024,
    .ws_msg_max = 4096,
    .ping_text = NULL,
    .ping_idle_ms = 0,
    .stale_ms = 60000, /* the server pings every 20 s; three missed pings mean the feed is gone */
    .heartbeats = false,
    .max_connection_ms = 23ULL * 3600 * 1000, /* every connection is closed at 24 h: switch an hour early */
    .names = binance_names,
    .instruments = &binance_instruments,
};
