/* fx_binance.c -- the Binance spot dialect: REST bookTicker/price and recent trades (/api/v3/trades, weight 25)
 * and the instrument list (/api/v3/exchangeInfo, weight 20) with request weights, the used-weight header,
 * 429/418 bodies; websocket raw (/ws/<stream>) and combined (/stream?streams=a/b) bookTicker and trade streams, live
 * SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS, and the serverShutdown event. Every price and size has 8 decimals,
 * trailing zeros kept, as Binance prints them.
 *
 * Books: the diff stream <sym>@depth@100ms, one depthUpdate {"e","E","s","U","u","b","a"} per 100 ms batch (U and
 * u the first and last update id of its changes, so that each U is the previous u + 1; "b" and "a" each level the
 * batch touched, best first, with the size it has now, "0.00000000" for a removed one), and the REST snapshot
 * GET /api/v3/depth?symbol=X&limit=N (100 by default, at most 5000; weight 5 up to 100, 25 up to 500, 50 up to
 * 1000, 250 beyond): {"lastUpdateId","bids","asks"}, the top N levels. No snapshot comes on the stream: a client
 * buffers the diffs, asks for the snapshot, drops the diffs with u <= lastUpdateId and applies the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakex.h"

enum { RAW = 0, COMBINED = 1 };

static size_t tick_msg(struct fx_venue *v, size_t i, int variant, char *out) {
    const struct fx_symbol *s = &v->syms[i];
    char *p = out;
    if (variant == COMBINED) {
        p = fx_put(p, "{\"stream\":\"");
        p = fx_put(p, s->stream);
        p = fx_put(p, "\",\"data\":");
    }
    p = fx_put(p, "{\"u\":");
    p += fmt_u64_str(p, s->seq);
    p = fx_put(p, ",\"s\":\"");
    p = fx_put(p, s->binance);
    p = fx_put(p, "\",\"b\":\"");
    p += fx_fmt_fixed(p, s->bid, 8);
    p = fx_put(p, "\",\"B\":\"");
    p += fx_fmt_fixed(p, s->bid_qty, 8);
    p = fx_put(p, "\",\"a\":\"");
    p += fx_fmt_fixed(p, s->ask, 8);
    p = fx_put(p, "\",\"A\":\"");
    p += fx_fmt_fixed(p, s->ask_qty, 8);
    p = fx_put(p, variant == COMBINED ? "\"}}" : "\"}");
    return (size_t)(p - out);
}

/* <sym>@trade: "m" is true when the buyer was the maker (the taker sold). */
static size_t trade_msg(struct fx_venue *v, size_t i, int variant, bool snapshot, char *out) {
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_trade *t = &s->trade;
    char *p = out;
    (void)snapshot;
    if (variant == COMBINED) {
        p = fx_put(p, "{\"stream\":\"");
        p = fx_put(p, s->trade_stream);
        p = fx_put(p, "\",\"data\":");
    }
    p = fx_put(p, "{\"e\":\"trade\",\"E\":");
    p += fmt_u64_str(p, (uint64_t)(t->ts_us / 1000));
    p = fx_put(p, ",\"s\":\"");
    p = fx_put(p, s->binance);
    p = fx_put(p, "\",\"t\":");
    p += fmt_u64_str(p, t->id);
    p = fx_put(p, ",\"p\":\"");
    p += fx_fmt_fixed(p, t->price, 8);
    p = fx_put(p, "\",\"q\":\"");
    p += fx_fmt_fixed(p, t->qty, 8);
    p = fx_put(p, "\",\"T\":");
    p += fmt_u64_str(p, (uint64_t)(t->ts_us / 1000));
    p = fx_put(p, t->buy ? ",\"m\":false,\"M\":true}" : ",\"m\":true,\"M\":true}");
    if (variant == COMBINED) p = fx_put(p, "}");
    return (size_t)(p - out);
}

static void quote_text(const struct fx_symbol *s, struct fx_quote_text *q) {
    fx_fmt_fixed(q->bid, s->bid, 8);
    fx_fmt_fixed(q->bid_qty, s->bid_qty, 8);
    fx_fmt_fixed(q->ask, s->ask, 8);
    fx_fmt_fixed(q->ask_qty, s->ask_qty, 8);
    fx_fmt_fixed(q->last, s->last, 8);
}

/* ---- REST ---- */

static bool is_ticker_path(const char *path) {
    return strcmp(path, "/api/v3/ticker/bookTicker") == 0 || strcmp(path, "/api/v3/ticker/price") == 0;
}

#define TRADES_PATH "/api/v3/trades"
#define DEPTH_PATH "/api/v3/depth"
#define DEPTH_MAX 5000

static int depth_weight(int64_t limit) {
    return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

static int rest_weight(const struct fx_http_req *req) {
    char sym[64];
    if (strcmp(req->path, TRADES_PATH) == 0) return 25;
    if (strcmp(req->path, DEPTH_PATH) == 0) return depth_weight(fx_query_count(req->query, "limit", 100, DEPTH_MAX));
    if (!is_ticker_path(req->path)) return 1;
    return fx_query_get(req->query, "symbol", sym, sizeof sym) == 0 ? 2 : 4;
}

static void rest_error(struct fx_conn *c, int status, int code, const char *msg) {
    fx_http_reply_json(c, status, json_pack("{s:i, s:s}", "code", code, "msg", msg));
}

static json_t *ticker_json(const struct fx_symbol *s, bool book) {
    char a[FX_NUM_MAX], b[FX_NUM_MAX], cq[FX_NUM_MAX], d[FX_NUM_MAX];
    if (!book) {
        fx_fmt_fixed(a, s->last, 8);
        return json_pack("{s:s, s:s}", "symbol", s->binance, "price", a);
    }
    fx_fmt_fixed(a, s->bid, 8);
    fx_fmt_fixed(b, s->bid_qty, 8);
    fx_fmt_fixed(cq, s->ask, 8);
    fx_fmt_fixed(d, s->ask_qty, 8);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "symbol", s->binance, "bidPrice", a, "bidQty", b, "askPrice", cq,
                     "askQty", d);
}

/* GET /api/v3/trades?symbol=BTCUSDT&limit=N (500 by default, at most 1000): the last N trades, OLDEST first.
 * isBuyerMaker is true when the taker sold; quoteQty is price x qty, cut to 8 decimals. */
static void rest_trades(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    char sym[64];
    if (fx_query_get(req->query, "symbol", sym, sizeof sym) < 0 || !sym[0]) {
        rest_error(c, 400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
        return;
    }
    int64_t limit = fx_query_count(req->query, "limit", 500, 1000);
    if (limit < 0) {
        rest_error(c, 400, -1100, "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.");
        return;
    }
    long i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, binance), sym);
    if (i < 0) {
        rest_error(c, 400, -1121, "Invalid symbol.");
        return;
    }
    const struct fx_symbol *s = &v->syms[i];
    size_t n = (size_t)limit < s->ring_len ? (size_t)limit : s->ring_len;
    struct fx_buf b = {0};
    fx_buf_adds(&b, "[");
    for (size_t k = n; k-- > 0;) {
        const struct fx_trade *t = fx_trade_recent(s, k);
        fx_buf_reserve(&b, 320);
        char *p = b.data + b.len;
        p = fx_put(p, k + 1 < n ? ",{\"id\":" : "{\"id\":");
        p += fmt_u64_str(p, t->id);
        p = fx_put(p, ",\"price\":\"");
        p += fx_fmt_fixed(p, t->price, 8);
        p = fx_put(p, "\",\"qty\":\"");
        p += fx_fmt_fixed(p, t->qty, 8);
        p = fx_put(p, "\",\"quoteQty\":\"");
        p += fx_fmt_fixed(p, (int64_t)((__int128)t->price * t->qty / 100000000), 8);
        p = fx_put(p, "\",\"time\":");
        p += fmt_u64_str(p, (uint64_t)(t->ts_us / 1000));
        p = fx_put(p, t->buy ? ",\"isBuyerMaker\":false,\"isBestMatch\":true}" : ",\"isBuyerMaker\":true,\"isBestMatch\":true}");
        b.len = (size_t)(p - b.data);
    }
    fx_buf_adds(&b, "]");
    fx_http_reply(c, 200, NULL, b.data, b.len);
    fx_buf_free(&b);
}

static void rest_limited(struct fx_conn *c, int status);

/* GET /api/v3/depth?symbol=BTCUSDT&limit=N: the book's top N levels a side and the update id of its last change;
 * the snapshot_status fault answers 429 or 418 instead, book_stale_snapshot the book as it was when it was set. */
static void rest_depth(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    char sym[64];
    int64_t limit = fx_query_count(req->query, "limit", 100, DEPTH_MAX);
    v->depth_requests++;
    v->depth_weight += depth_weight(limit);
    if (v->faults.snapshot_status == 429 || v->faults.snapshot_status == 418) {
        int status = (int)v->faults.snapshot_status;
        if (--v->faults.snapshot_count <= 0) v->faults.snapshot_status = v->faults.snapshot_count = 0;
        v->depth_refused++;
        c->retry_after_s = status == 418 ? (v->ban_ms + 999) / 1000 : 1;
        if (c->retry_after_s < 1) c->retry_after_s = 1;
        rest_limited(c, status);
        c->retry_after_s = 0;
        return;
    }
    if (fx_query_get(req->query, "symbol", sym, sizeof sym) < 0 || !sym[0]) {
        rest_error(c, 400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
        return;
    }
    if (limit < 0) {
        rest_error(c, 400, -1100, "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.");
        return;
    }
    long i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, binance), sym);
    if (i < 0) {
        rest_error(c, 400, -1121, "Invalid symbol.");
        return;
    }
    struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = fx_book_get(v, (size_t)i);
    const struct fx_book_copy *stale = fx_book_stale(s);
    const struct fx_level *lv[2] = {stale ? stale->lv[0] : b->lv[0], stale ? stale->lv[1] : b->lv[1]};
    uint32_t n[2] = {stale ? stale->n[0] : b->n[0], stale ? stale->n[1] : b->n[1]};
    struct fx_buf out = {0};
    fx_buf_printf(&out, "{\"lastUpdateId\":%llu", (unsigned long long)(stale ? stale->seq : b->seq));
    for (int side = 0; side < 2; side++) {
        uint32_t count = n[side] < (uint32_t)limit ? n[side] : (uint32_t)limit;
        fx_buf_adds(&out, side ? "],\"asks\":[" : ",\"bids\":[");
        fx_buf_reserve(&out, (size_t)count * 64 + 16);
        char *p = out.data + out.len;
        for (uint32_t k = 0; k < count; k++) {
            p = fx_put(p, k ? ",[\"" : "[\"");
            p += fx_fmt_fixed(p, lv[side][k].price, 8);
            p = fx_put(p, "\",\"");
            p += fx_fmt_fixed(p, lv[side][k].qty, 8);
            p = fx_put(p, "\"]");
        }
        out.len = (size_t)(p - out.data);
    }
    fx_buf_adds(&out, "]}");
    if (stale) {
        v->book_faults++;
        fx_book_stale_used(s);
    }
    fx_http_reply(c, 200, NULL, out.data, out.len);
    fx_buf_free(&out);
}

static void rest(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    if (strcmp(req->path, TRADES_PATH) == 0) {
        rest_trades(c, req);
        return;
    }
    if (strcmp(req->path, DEPTH_PATH) == 0) {
        rest_depth(c, req);
        return;
    }
    if (!is_ticker_path(req->path)) {
        rest_error(c, 404, -1000, "Unknown path.");
        return;
    }
    bool book = strstr(req->path, "bookTicker") != NULL;
    char sym[64], list[8192];
    bool has_sym = fx_query_get(req->query, "symbol", sym, sizeof sym) == 0;
    bool has_list = fx_query_get(req->query, "symbols", list, sizeof list) == 0;
    if (has_sym && has_list) {
        rest_error(c, 400, -1128, "Combination of optional parameters invalid.");
        return;
    }
    if (has_sym) {
        long i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, binance), sym);
        if (i < 0) rest_error(c, 400, -1121, "Invalid symbol.");
        else fx_http_reply_json(c, 200, ticker_json(&v->syms[i], book));
        return;
    }
    json_t *out = json_array();
    if (has_list) {
        json_t *names = json_loads(list, 0, NULL);
        size_t k;
        json_t *n;
        if (!json_is_array(names)) {
            json_decref(names);
            json_decref(out);
            rest_error(c, 400, -1100, "Illegal characters found in parameter 'symbols'.");
            return;
        }
        json_array_foreach(names, k, n) {
            long i = json_is_string(n) ? fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, binance),
                                                         json_string_value(n))
                                       : -1;
            if (i < 0) {
                json_decref(names);
                json_decref(out);
                rest_error(c, 400, -1121, "Invalid symbol.");
                return;
            }
            json_array_append_new(out, ticker_json(&v->syms[i], book));
        }
        json_decref(names);
    } else {
        for (size_t i = 0; i < v->nsyms; i++) json_array_append_new(out, ticker_json(&v->syms[i], book));
    }
    fx_http_reply_json(c, 200, out);
}

static void rest_limited(struct fx_conn *c, int status) {
    char msg[256];
    struct fx_venue *v = c->venue;
    if (status == 418)
        snprintf(msg, sizeof msg,
                 "Way too much request weight used; IP banned until %lld. Please use WebSocket Streams for live "
                 "updates to avoid bans.",
                 (long long)(clock_wall_us() / 1000 + v->ban_ms));
    else
        snprintf(msg, sizeof msg,
                 "Too much request weight used; current limit is %lld request weight per %lld MS. Please use "
                 "WebSocket Streams for live updates to avoid polling the API.",
                 (long long)v->rest.limit, (long long)v->rest.window_ms);
    rest_error(c, status, -1003, msg);
}

static void rest_headers(struct fx_venue *v, struct fx_buf *h) {
    fx_buf_printf(h, "X-MBX-USED-WEIGHT-1M: %lld\r\n", (long long)v->rest.used);
}

/* ---- websocket ---- */

/* The symbol a stream name is about (bookTicker, trade or depth@100ms), with the bit it stands for; -1 when none. */
static long find_stream(struct fx_venue *v, const char *name, uint8_t *bit) {
    long i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, stream), name);
    *bit = FX_SUB_DATA;
    if (i < 0) {
        i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, trade_stream), name);
        *bit = FX_SUB_TRADE;
    }
    if (i < 0) {
        i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, depth_stream), name);
        *bit = FX_SUB_BOOK;
    }
    return i;
}

static bool add_stream(struct fx_conn *c, const char *name) {
    struct fx_venue *v = c->venue;
    uint8_t bit;
    long i = find_stream(v, name, &bit);
    if (i >= 0 && (c->subs[i] & bit)) return true;
    if (v->ws_max_streams > 0 && (int64_t)c->nstreams + 1 > v->ws_max_streams) {
        fx_violation(v, c->id, "ws_streams", "more than %lld streams on one connection", (long long)v->ws_max_streams);
        fx_conn_close(c, FX_CLOSE_GRACEFUL);
        return false;
    }
    c->nstreams++;
    if (i >= 0) {
        c->subs[i] |= bit;
        c->subscribed = true;
        if (bit == FX_SUB_BOOK) {
            fx_book_get(v, (size_t)i);
            v->book_subscribes++;
        }
    }
    return true;
}

static void drop_stream(struct fx_conn *c, const char *name) {
    struct fx_venue *v = c->venue;
    uint8_t bit;
    long i = find_stream(v, name, &bit);
    if (i >= 0 && (c->subs[i] & bit)) {
        c->subs[i] &= (uint8_t)~bit;
        c->nstreams--;
        if (bit == FX_SUB_BOOK) v->book_unsubscribes++;
    }
    fx_conn_update_subscribed(c);
}

static bool add_stream_list(struct fx_conn *c, const char *list) {
    char name[128];
    for (const char *p = list; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
        if (n && !add_stream(c, name)) return false;
        p = slash ? slash + 1 : p + n;
    }
    return true;
}

static int ws_open(struct fx_conn *c, const struct fx_http_req *req) {
    if (strcmp(req->path, "/ws") == 0 || strncmp(req->path, "/ws/", 4) == 0) {
        c->variant = RAW;
        if (req->path[3]) add_stream_list(c, req->path + 4);
        return 0;
    }
    if (strcmp(req->path, "/stream") == 0) {
        char list[8192];
        c->variant = COMBINED;
        if (fx_query_get(req->query, "streams", list, sizeof list) == 0) add_stream_list(c, list);
        return 0;
    }
    return 404;
}

static void ws_error(struct fx_conn *c, int code, const char *msg, json_t *id) {
    fx_ws_json(c, json_pack("{s:{s:i, s:s}, s:O}", "error", "code", code, "msg", msg, "id", id ? id : json_null()));
}

static void ws_text(struct fx_conn *c, const char *msg, size_t len) {
    struct fx_venue *v = c->venue;
    json_error_t err;
    json_t *m = json_loadb(msg, len, 0, &err);
    if (!json_is_object(m)) {
        char text[200];
        snprintf(text, sizeof text, "Invalid JSON: %s at line %d column %d", err.text, err.line, err.column);
        ws_error(c, 3, text, NULL);
        json_decref(m);
        return;
    }
    const char *method = json_string_value(json_object_get(m, "method"));
    json_t *id = json_object_get(m, "id"), *params = json_object_get(m, "params");
    size_t k;
    json_t *p;
    if (method && (strcmp(method, "SUBSCRIBE") == 0 || strcmp(method, "UNSUBSCRIBE") == 0) && json_is_array(params)) {
        bool sub = method[0] == 'S';
        json_array_foreach(params, k, p) {
            if (!json_is_string(p)) continue;
            if (!sub) drop_stream(c, json_string_value(p));
            else if (!add_stream(c, json_string_value(p))) break;
        }
        if (!c->closing) fx_ws_json(c, json_pack("{s:n, s:O}", "result", "id", id ? id : json_null()));
        if (c->subscribed) fx_venue_kick(v);
    } else if (method && strcmp(method, "LIST_SUBSCRIPTIONS") == 0) {
        json_t *list = json_array();
        for (size_t i = 0; i < v->nsyms; i++)
            if (c->subs[i] & FX_SUB_DATA) json_array_append_new(list, json_string(v->syms[i].stream));
        for (size_t i = 0; i < v->nsyms; i++)
            if (c->subs[i] & FX_SUB_TRADE) json_array_append_new(list, json_string(v->syms[i].trade_stream));
        for (size_t i = 0; i < v->nsyms; i++)
            if (c->subs[i] & FX_SUB_BOOK) json_array_append_new(list, json_string(v->syms[i].depth_stream));
        fx_ws_json(c, json_pack("{s:o, s:O}", "result", list, "id", id ? id : json_null()));
    } else {
        ws_error(c, 2, "Invalid request: unknown variant, expected one of SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS", id);
    }
    json_decref(m);
}

static void event(struct fx_conn *c, const char *type) {
    char msg[160];
    long long ms = (long long)(clock_wall_us() / 1000);
    int n = c->variant == COMBINED
                ? snprintf(msg, sizeof msg, "{\"stream\":\"!%s\",\"data\":{\"e\":\"%s\",\"E\":%lld}}", type, type, ms)
                : snprintf(msg, sizeof msg, "{\"e\":\"%s\",\"E\":%lld}", type, ms);
    fx_ws_text(c, msg, (size_t)n);
}

/* One depthUpdate of the batch (raw or combined). */
static void book_update(struct fx_venue *v, size_t i, int variant, struct fx_buf *out) {
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = s->book;
    fx_buf_reserve(out, 256 + (size_t)b->nbatch * 64);
    char *p = out->data + out->len;
    if (variant == COMBINED) {
        p = fx_put(p, "{\"stream\":\"");
        p = fx_put(p, s->depth_stream);
        p = fx_put(p, "\",\"data\":");
    }
    p = fx_put(p, "{\"e\":\"depthUpdate\",\"E\":");
    p += fmt_u64_str(p, (uint64_t)(clock_wall_us() / 1000));
    p = fx_put(p, ",\"s\":\"");
    p = fx_put(p, s->binance);
    p = fx_put(p, "\",\"U\":");
    p += fmt_u64_str(p, b->first);
    p = fx_put(p, ",\"u\":");
    p += fmt_u64_str(p, b->seq);
    for (int side = 0; side < 2; side++) {
        p = fx_put(p, side ? "],\"a\":[" : ",\"b\":[");
        bool first = true;
        for (uint32_t k = 0; k < b->nbatch; k++) {
            const struct fx_book_entry *e = &b->batch[k];
            if (e->side != side) continue;
            p = fx_put(p, first ? "[\"" : ",[\"");
            first = false;
            p += fx_fmt_fixed(p, e->price, 8);
            p = fx_put(p, "\",\"");
            p += fx_fmt_fixed(p, e->qty, 8);
            p = fx_put(p, "\"]");
        }
    }
    p = fx_put(p, variant == COMBINED ? "]}}" : "]}");
    out->len = (size_t)(p - out->data);
}

static int book_key(const struct fx_conn *c, size_t sym) {
    (void)sym;
    return c->variant;
}

/* GET /api/v3/exchangeInfo: every symbol, TRADING, HALT or (delisted) BREAK, with its PRICE_FILTER and LOT_SIZE on
 * the symbol's grid, in the fields and order of the documentation's example; permissionSets empty when asked
 * with showPermissionSets=false. */
static int instruments(struct fx_venue *v, const struct fx_http_req *req, struct fx_buf *out) {
    char show[16] = "";
    fx_query_get(req->query, "showPermissionSets", show, sizeof show);
    const char *sets = strcmp(show, "false") == 0 ? "[]" : "[[\"SPOT\",\"MARGIN\"]]";
    fx_buf_printf(out,
                  "{\"timezone\":\"UTC\",\"serverTime\":%lld,\"rateLimits\":[{\"rateLimitType\":"
                  "\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":%lld},"
                  "{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":100},"
                  "{\"rateLimitType\":\"RAW_REQUESTS\",\"interval\":\"MINUTE\",\"intervalNum\":5,\"limit\":61000}],"
                  "\"exchangeFilters\":[],\"symbols\":[",
                  (long long)(clock_wall_us() / 1000), (long long)v->rest.limit);
    static const char *const status[] = {[FX_TRADING] = "TRADING", [FX_HALTED] = "HALT", [FX_DELISTED] = "BREAK"};
    for (size_t i = 0; i < v->nsyms; i++) {
        const struct fx_symbol *s = &v->syms[i];
        char base[24], quote[24];
        fx_symbol_parts(s, base, quote);
        fx_buf_reserve(out, 1200);
        char *p = out->data + out->len;
        p = fx_put(p, i ? ",{\"symbol\":\"" : "{\"symbol\":\"");
        p = fx_put(p, s->binance);
        p = fx_put(p, "\",\"status\":\"");
        p = fx_put(p, status[s->status <= FX_DELISTED ? s->status : FX_HALTED]);
        p = fx_put(p, "\",\"baseAsset\":\"");
        p = fx_put(p, base);
        p = fx_put(p, "\",\"baseAssetPrecision\":8,\"quoteAsset\":\"");
        p = fx_put(p, quote);
        p = fx_put(p, "\",\"quotePrecision\":8,\"quoteAssetPrecision\":8,\"baseCommissionPrecision\":8,"
                      "\"quoteCommissionPrecision\":8,\"orderTypes\":[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\","
                      "\"STOP_LOSS\",\"STOP_LOSS_LIMIT\",\"TAKE_PROFIT\",\"TAKE_PROFIT_LIMIT\"],"
                      "\"icebergAllowed\":true,\"ocoAllowed\":true,"
                      "\"otoAllowed\":true,\"quoteOrderQtyMarketAllowed\":true,\"allowTrailingStop\":false,"
                      "\"cancelReplaceAllowed\":false,\"isSpotTradingAllowed\":true,\"isMarginTradingAllowed\":true,"
                      "\"filters\":[{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"");
        char tick[FX_NUM_MAX], lot[FX_NUM_MAX];
        size_t tl = fx_fmt_fixed(tick, fx_tick_units(s), 8), ll = fx_fmt_fixed(lot, fx_lot_units(s), 8);
        p = (char *)memcpy(p, tick, tl) + tl;
        p = fx_put(p, "\",\"maxPrice\":\"1000000.00000000\",\"tickSize\":\"");
        p = (char *)memcpy(p, tick, tl) + tl;
        p = fx_put(p, "\"},{\"filterType\":\"LOT_SIZE\",\"minQty\":\"");
        p = (char *)memcpy(p, lot, ll) + ll;
        p = fx_put(p, "\",\"maxQty\":\"9000000.00000000\",\"stepSize\":\"");
        p = (char *)memcpy(p, lot, ll) + ll;
        p = fx_put(p, "\"},{\"filterType\":\"MAX_NUM_ORDERS\",\"maxNumOrders\":200}],\"permissions\":[],"
                      "\"permissionSets\":");
        p = fx_put(p, sets);
        p = fx_put(p, ",\"defaultSelfTradePreventionMode\":\"NONE\",\"allowedSelfTradePreventionModes\":[\"NONE\"]}");
        out->len = (size_t)(p - out->data);
    }
    fx_buf_adds(out, "]}");
    return 200;
}

static void announce(struct fx_conn *c) { event(c, "serverShutdown"); }
static void unknown(struct fx_conn *c) { event(c, "fakexUnknownEvent"); }

const struct fx_dialect fx_binance = {
    .name = "binance",
    .rest_limit = 6000,
    .rest_window_ms = 60000,
    .rest_bans = true,
    .ws_msg_limit = 5,
    .ws_max_streams = 1024,
    .ping_ms = 20000,
    .pong_timeout_ms = 60000,
    .announce_grace_ms = 5000,
    .connect_limit = 300,
    .connect_window_ms = 300000,
    .rest_weight = rest_weight,
    .rest = rest,
    .rest_limited = rest_limited,
    .rest_headers = rest_headers,
    .ws_open = ws_open,
    .ws_text = ws_text,
    .tick_msg = tick_msg,
    .trade_msg = trade_msg,
    .quote_text = quote_text,
    .announce = announce,
    .unknown = unknown,
    .instruments_path = "/api/v3/exchangeInfo",
    .instruments_weight = 20,
    .instruments = instruments,
    .book_interval_ms = 100,
    .book_key = book_key,
    .book_update = book_update,
};
