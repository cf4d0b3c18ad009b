/* fx_okx.c -- the OKX v5 dialect: REST /api/v5/market/ticker, /api/v5/market/tickers?instType=SPOT (every
 * spot instrument at once), /api/v5/market/trades (recent trades, newest first) and the instrument list
 * /api/v5/public/instruments?instType=SPOT, all {"code":"0","msg":"","data":[...]}; websocket
 * /ws/v5/public with op subscribe/unsubscribe, {"event":"subscribe"} acks, "bbo-tbt" pushes (the best level of
 * each side as [price, size, "0", orders], ts in ms, the symbol's update id as seqId) or "tickers" pushes (all
 * strings, ts in ms) or "trades" pushes (one trade each, tradeId a string, side the taker's), text ping -> pong,
 * the 30 s idle close and the 64008 notice before a planned disconnect.
 * Decimals are printed without trailing zeros ("51239.9"), as OKX does.
 *
 * Books: the "books" channel: on subscribing, a "snapshot" of up to 400 levels a side, then every 100 ms an
 * "update" with each level the batch touched ("0" size: removed), each level [px, sz, "0", orders], ts in ms, the
 * checksum of the book after the message (OKX's CRC32 of the first 25 levels, bid and ask in turn,
 * "bidPx:bidSz:askPx:askSz:...", as a signed 32-bit integer), seqId the update id of the batch's last change and
 * prevSeqId the seqId of the message before (-1 on a snapshot). An unsubscribe then a subscribe sends a fresh
 * snapshot (none with book_no_snapshot). REST GET /api/v5/market/books?instId=X&sz=N (1 by default, at most 400)
 * answers the top N levels a side with the seqId of the book's last change (none with book_rest_no_seq); the
 * snapshot_status and book_stale_snapshot faults apply to it as to Binance's depth snapshots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakex.h"

#define UNIT 100000000LL

static int64_t quote_volume(const struct fx_symbol *s) { return (int64_t)((__int128)s->volume * s->last / UNIT); }

/* A connection's pushes take the form of the channel it subscribed last: one market message per symbol and
 * connection, and tickd subscribes one channel. */
enum { TICKERS = 0, BBO_TBT = 1 };

/* The number of orders at the best level: any small count, the same for a given symbol state. */
static int64_t orders_at(int64_t qty) { return 1 + qty / 100000 % 7; }

static size_t bbo_msg(const struct fx_symbol *s, char *out) {
    char *p = out;
    p = fx_put(p, "{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"");
    p = fx_put(p, s->norm);
    p = fx_put(p, "\"},\"data\":[{\"asks\":[[\"");
    p += fx_fmt_trim(p, s->ask);
    p = fx_put(p, "\",\"");
    p += fx_fmt_trim(p, s->ask_qty);
    p = fx_put(p, "\",\"0\",\"");
    p += fmt_u64_str(p, (uint64_t)orders_at(s->ask_qty));
    p = fx_put(p, "\"]],\"bids\":[[\"");
    p += fx_fmt_trim(p, s->bid);
    p = fx_put(p, "\",\"");
    p += fx_fmt_trim(p, s->bid_qty);
    p = fx_put(p, "\",\"0\",\"");
    p += fmt_u64_str(p, (uint64_t)orders_at(s->bid_qty));
    p = fx_put(p, "\"]],\"ts\":\"");
    p += fmt_u64_str(p, (uint64_t)(s->ts_us / 1000));
    p = fx_put(p, "\",\"seqId\":");
    p += fmt_u64_str(p, s->seq);
    p = fx_put(p, "}]}");
    return (size_t)(p - out);
}

static size_t tick_msg(struct fx_venue *v, size_t i, int variant, char *out) {
    const struct fx_symbol *s = &v->syms[i];
    if (variant == BBO_TBT) return bbo_msg(s, out);
    char *p = out;
    p = fx_put(p, "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"");
    p = fx_put(p, s->norm);
    p = fx_put(p, "\"},\"data\":[{\"instType\":\"SPOT\",\"instId\":\"");
    p = fx_put(p, s->norm);
    p = fx_put(p, "\",\"last\":\"");
    p += fx_fmt_trim(p, s->last);
    p = fx_put(p, "\",\"lastSz\":\"");
    p += fx_fmt_trim(p, s->last_qty);
    p = fx_put(p, "\",\"askPx\":\"");
    p += fx_fmt_trim(p, s->ask);
    p = fx_put(p, "\",\"askSz\":\"");
    p += fx_fmt_trim(p, s->ask_qty);
    p = fx_put(p, "\",\"bidPx\":\"");
    p += fx_fmt_trim(p, s->bid);
    p = fx_put(p, "\",\"bidSz\":\"");
    p += fx_fmt_trim(p, s->bid_qty);
    p = fx_put(p, "\",\"open24h\":\"");
    p += fx_fmt_trim(p, s->open);
    p = fx_put(p, "\",\"high24h\":\"");
    p += fx_fmt_trim(p, s->high);
    p = fx_put(p, "\",\"low24h\":\"");
    p += fx_fmt_trim(p, s->low);
    p = fx_put(p, "\",\"sodUtc0\":\"");
    p += fx_fmt_trim(p, s->open);
    p = fx_put(p, "\",\"sodUtc8\":\"");
    p += fx_fmt_trim(p, s->open);
    p = fx_put(p, "\",\"volCcy24h\":\"");
    p += fx_fmt_trim(p, quote_volume(s));
    p = fx_put(p, "\",\"vol24h\":\"");
    p += fx_fmt_trim(p, s->volume);
    p = fx_put(p, "\",\"ts\":\"");
    p += fmt_u64_str(p, (uint64_t)(s->ts_us / 1000));
    p = fx_put(p, "\"}]}");
    return (size_t)(p - out);
}

static size_t trade_msg(struct fx_venue *v, size_t i, int variant, bool snapshot, char *out) {
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_trade *t = &s->trade;
    char *p = out;
    (void)variant;
    (void)snapshot;
    p = fx_put(p, "{\"arg\":{\"channel\":\"trades\",\"instId\":\"");
    p = fx_put(p, s->norm);
    p = fx_put(p, "\"},\"data\":[{\"instId\":\"");
    p = fx_put(p, s->norm);
    p = fx_put(p, "\",\"tradeId\":\"");
    p += fmt_u64_str(p, t->id);
    p = fx_put(p, "\",\"px\":\"");
    p += fx_fmt_trim(p, t->price);
    p = fx_put(p, "\",\"sz\":\"");
    p += fx_fmt_trim(p, t->qty);
    p = fx_put(p, t->buy ? "\",\"side\":\"buy\",\"ts\":\"" : "\",\"side\":\"sell\",\"ts\":\"");
    p += fmt_u64_str(p, (uint64_t)(t->ts_us / 1000));
    p = fx_put(p, "\",\"count\":\"1\"}]}");
    return (size_t)(p - out);
}

static void quote_text(const struct fx_symbol *s, struct fx_quote_text *q) {
    fx_fmt_trim(q->bid, s->bid);
    fx_fmt_trim(q->bid_qty, s->bid_qty);
    fx_fmt_trim(q->ask, s->ask);
    fx_fmt_trim(q->ask_qty, s->ask_qty);
    fx_fmt_trim(q->last, s->last);
}

/* One REST row: the push and the REST row hold the same fields, so reuse the push, re-ordered as the REST
 * answer is (the same decimal text on both paths, as OKX sends). */
static json_t *rest_row(struct fx_venue *v, size_t i) {
    static const char *const keys[] = {"instType", "instId",  "last",   "lastSz",    "askPx",  "askSz",
                                       "bidPx",    "bidSz",   "open24h", "high24h",  "low24h", "volCcy24h",
                                       "vol24h",   "ts",      "sodUtc0", "sodUtc8"};
    char msg[FX_MSG_MAX];
    size_t n = tick_msg(v, i, 0, msg);
    json_t *push = json_loadb(msg, n, 0, NULL);
    json_t *row = json_array_get(json_object_get(push, "data"), 0), *out = json_object();
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) json_object_set(out, keys[k], json_object_get(row, keys[k]));
    json_decref(push);
    return out;
}

static void rest_error(struct fx_conn *c, int status, const char *code, const char *msg) {
    fx_http_reply_json(c, status, json_pack("{s:s, s:s, s:[]}", "code", code, "msg", msg, "data"));
}

/* /api/v5/market/tickers?instType=SPOT: every spot instrument at once (all of fakex's are spot pairs). */
static void rest_tickers(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    char type[16];
    if (fx_query_get(req->query, "instType", type, sizeof type) < 0) {
        rest_error(c, 400, "50014", "Parameter instType can not be empty");
        return;
    }
    json_t *data = json_array();
    if (strcmp(type, "SPOT") == 0)
        for (size_t i = 0; i < v->nsyms; i++) json_array_append_new(data, rest_row(v, i));
    fx_http_reply_json(c, 200, json_pack("{s:s, s:s, s:o}", "code", "0", "msg", "", "data", data));
}

/* GET /api/v5/market/trades?instId=BTC-USDT&limit=N (100 by default, at most 500): NEWEST first, every field a
 * string, side the taker's, source "0" (a normal order, as OKX adds it today), the decimals as the trades push prints them. */
static void rest_trades(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    char inst[64];
    if (fx_query_get(req->query, "instId", inst, sizeof inst) < 0 || !inst[0]) {
        rest_error(c, 400, "50014", "Parameter instId can not be empty");
        return;
    }
    int64_t limit = fx_query_count(req->query, "limit", 100, 500);
    if (limit < 0) {
        rest_error(c, 400, "51000", "Parameter limit error");
        return;
    }
    long i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, norm), inst);
    if (i < 0) {
        rest_error(c, 200, "51001", "Instrument ID does not exist");
        return;
    }
    const struct fx_symbol *s = &v->syms[i];
    size_t n = (size_t)limit < s->ring_len ? (size_t)limit : s->ring_len;
    struct fx_buf b = {0};
    fx_buf_adds(&b, "{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    for (size_t k = 0; k < n; k++) {
        const struct fx_trade *t = fx_trade_recent(s, k);
        fx_buf_reserve(&b, 256);
        char *p = b.data + b.len;
        p = fx_put(p, k ? ",{\"instId\":\"" : "{\"instId\":\"");
        p = fx_put(p, s->norm);
        p = fx_put(p, t->buy ? "\",\"side\":\"buy\",\"sz\":\"" : "\",\"side\":\"sell\",\"sz\":\"");
        p += fx_fmt_trim(p, t->qty);
        p = fx_put(p, "\",\"source\":\"0\",\"px\":\"");
        p += fx_fmt_trim(p, t->price);
        p = fx_put(p, "\",\"tradeId\":\"");
        p += fmt_u64_str(p, t->id);
        p = fx_put(p, "\",\"ts\":\"");
        p += fmt_u64_str(p, (uint64_t)(t->ts_us / 1000));
        p = fx_put(p, "\"}");
        b.len = (size_t)(p - b.data);
    }
    fx_buf_adds(&b, "]}");
    fx_http_reply(c, 200, NULL, b.data, b.len);
    fx_buf_free(&b);
}

static void rest_limited(struct fx_conn *c, int status);
static char *book_level(char *p, int64_t price, int64_t qty, bool first);

#define OKX_BOOK_SNAPSHOT 400

/* GET /api/v5/market/books?instId=BTC-USDT&sz=N: {"code":"0","msg":"","data":[{"asks":[...],"bids":[...],
 * "ts":"...","seqId":N}]}, each level as the channel's. */
static void rest_books(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    char inst[64];
    int64_t sz = fx_query_count(req->query, "sz", 1, OKX_BOOK_SNAPSHOT);
    v->depth_requests++;
    v->depth_weight++;
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
    if (fx_query_get(req->query, "instId", inst, sizeof inst) < 0 || !inst[0]) {
        rest_error(c, 400, "50014", "Parameter instId can not be empty");
        return;
    }
    if (sz < 0) {
        rest_error(c, 400, "51000", "Parameter sz error");
        return;
    }
    long i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, norm), inst);
    if (i < 0) {
        rest_error(c, 200, "51001", "Instrument ID does not exist");
        return;
    }
    struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = fx_book_get(v, (size_t)i);
    const struct fx_book_copy *stale = fx_book_stale(s);
    const struct fx_level *lv[2] = {stale ? stale->lv[0] : b->lv[0], stale ? stale->lv[1] : b->lv[1]};
    uint32_t n[2] = {stale ? stale->n[0] : b->n[0], stale ? stale->n[1] : b->n[1]};
    struct fx_buf out = {0};
    fx_buf_reserve(&out, 256 + 2 * (size_t)sz * 72);
    char *p = fx_put(out.data, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":[");
    for (int side = 1; side >= 0; side--) { /* asks, then bids */
        if (side == 0) p = fx_put(p, "],\"bids\":[");
        uint32_t count = n[side] < (uint32_t)sz ? n[side] : (uint32_t)sz;
        for (uint32_t k = 0; k < count; k++) p = book_level(p, lv[side][k].price, lv[side][k].qty, k == 0);
    }
    p = fx_put(p, "],\"ts\":\"");
    p += fmt_u64_str(p, (uint64_t)(clock_wall_us() / 1000));
    p = fx_put(p, "\"");
    if (!v->faults.book_rest_no_seq) {
        p = fx_put(p, ",\"seqId\":");
        p += fmt_u64_str(p, stale ? stale->seq : b->seq);
    }
    p = fx_put(p, "}]}");
    out.len = (size_t)(p - out.data);
    if (stale) {
        v->book_faults++;
        fx_book_stale_used(s);
    }
    fx_http_reply(c, 200, NULL, out.data, out.len);
    fx_buf_free(&out);
}

static void rest(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    char inst[64];
    if (strcmp(req->path, "/api/v5/market/books") == 0) {
        rest_books(c, req);
        return;
    }
    if (strcmp(req->path, "/api/v5/market/trades") == 0) {
        rest_trades(c, req);
        return;
    }
    if (strcmp(req->path, "/api/v5/market/tickers") == 0) {
        rest_tickers(c, req);
        return;
    }
    if (strcmp(req->path, "/api/v5/market/ticker") != 0) {
        fx_http_reply_json(c, 404, json_pack("{s:s, s:s}", "msg", "Not Found", "code", "404"));
        return;
    }
    if (fx_query_get(req->query, "instId", inst, sizeof inst) < 0) {
        rest_error(c, 400, "50014", "Parameter instId can not be empty");
        return;
    }
    long i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, norm), inst);
    if (i < 0) {
        rest_error(c, 200, "51001", "Instrument ID does not exist");
        return;
    }
    fx_http_reply_json(c, 200, json_pack("{s:s, s:s, s:[o]}", "code", "0", "msg", "", "data", rest_row(v, (size_t)i)));
}

static void rest_limited(struct fx_conn *c, int status) {
    fx_http_reply_json(c, status, json_pack("{s:s, s:s}", "msg", "Too Many Requests", "code", "50011"));
}

static int ws_open(struct fx_conn *c, const struct fx_http_req *req) {
    (void)c;
    return strcmp(req->path, "/ws/v5/public") == 0 ? 0 : 404;
}

#define OKX_REQUEST_MAX 65536
#define OKX_SUBSCRIBES_PER_HOUR 480

static void ws_error(struct fx_conn *c, const char *code, const char *msg) {
    char conn_id[16];
    snprintf(conn_id, sizeof conn_id, "%08llx", (unsigned long long)c->id);
    fx_ws_json(c, json_pack("{s:s, s:s, s:s, s:s}", "event", "error", "code", code, "msg", msg, "connId", conn_id));
}

static void book_snapshot(struct fx_conn *c, size_t i);

static void ws_text(struct fx_conn *c, const char *msg, size_t len) {
    struct fx_venue *v = c->venue;
    if (len == 4 && memcmp(msg, "ping", 4) == 0) {
        fx_ws_text(c, "pong", 4);
        return;
    }
    /* OKX's own limits on requests: 64 KB of arguments per request, 480 (un)subscribe requests per connection
     * per hour. Broken ones are refused as OKX does, and recorded. */
    if (len > OKX_REQUEST_MAX) {
        fx_violation(v, c->id, "ws_request_size", "a request of %zu bytes (OKX takes %d)", len, OKX_REQUEST_MAX);
        ws_error(c, "60017", "Invalid request: the request is too long");
        return;
    }
    int64_t now = (int64_t)uv_now(fx_loop);
    if (!c->sub_window_start_ms || now - c->sub_window_start_ms >= 3600 * 1000) {
        c->sub_window_start_ms = now;
        c->sub_requests = 0;
    }
    if (++c->sub_requests > OKX_SUBSCRIBES_PER_HOUR) {
        fx_violation(v, c->id, "ws_subscribe_rate", "request %u on this connection within an hour (OKX takes %d)",
                     c->sub_requests, OKX_SUBSCRIBES_PER_HOUR);
        ws_error(c, "60014", "Requests too frequent");
        return;
    }
    if (v->faults.sub_error > 0) { /* OKX's answer to a subscription it will not serve */
        v->faults.sub_error--;
        ws_error(c, "60018", "Wrong URL or channel:tickers,instId:BTC-USDT doesn't exist. Please use the correct URL, "
                             "channel and parameters referring to API document.");
        return;
    }
    json_t *m = json_loadb(msg, len, 0, NULL);
    const char *op = json_string_value(json_object_get(m, "op"));
    json_t *args = json_object_get(m, "args");
    if (!op || (strcmp(op, "subscribe") != 0 && strcmp(op, "unsubscribe") != 0) || !json_is_array(args)) {
        ws_error(c, "60012", "Invalid request: expected op subscribe or unsubscribe with args");
        json_decref(m);
        return;
    }
    bool sub = op[0] == 's';
    size_t k;
    json_t *arg;
    json_array_foreach(args, k, arg) {
        const char *channel = json_string_value(json_object_get(arg, "channel"));
        const char *inst = json_string_value(json_object_get(arg, "instId"));
        bool bbo = channel && strcmp(channel, "bbo-tbt") == 0, trades = channel && strcmp(channel, "trades") == 0;
        bool books = channel && strcmp(channel, "books") == 0;
        long i = channel && inst && (bbo || trades || books || strcmp(channel, "tickers") == 0)
                     ? fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, norm), inst)
                     : -1;
        if (i < 0) {
            char err[256];
            snprintf(err, sizeof err,
                     "Wrong URL or channel:%s,instId:%s doesn't exist. Please use the correct URL, channel and "
                     "parameters referring to API document.",
                     channel ? channel : "", inst ? inst : "");
            ws_error(c, "60018", err);
            continue;
        }
        bool was_book = c->subs[i] & FX_SUB_BOOK;
        if (trades) { /* a channel of its own: the quotes' form stays */
            if (sub) c->subs[i] |= FX_SUB_TRADE;
            else c->subs[i] &= (uint8_t)~FX_SUB_TRADE;
        } else if (books) { /* so is the book's */
            if (sub) c->subs[i] |= FX_SUB_BOOK;
            else c->subs[i] &= (uint8_t)~FX_SUB_BOOK;
            if (sub && !was_book) v->book_subscribes++;
            if (!sub && was_book) v->book_unsubscribes++;
        } else if (sub) {
            c->subs[i] |= FX_SUB_DATA;
            c->variant = bbo ? BBO_TBT : TICKERS;
        } else {
            c->subs[i] &= (uint8_t)~FX_SUB_DATA;
        }
        fx_ws_json(c, json_pack("{s:s, s:{s:s, s:s}}", "event", op, "arg", "channel", channel, "instId", inst));
        if (books && sub && !was_book && !c->muted) {
            if (v->faults.book_no_snapshot) fx_book_get(v, (size_t)i); /* the book runs, and its updates flow */
            else book_snapshot(c, (size_t)i);
        }
    }
    fx_conn_update_subscribed(c);
    if (c->subscribed) fx_venue_kick(v);
    json_decref(m);
}

/* ---- books ---- */

static char *book_level(char *p, int64_t price, int64_t qty, bool first) {
    p = fx_put(p, first ? "[\"" : ",[\"");
    p += fx_fmt_trim(p, price);
    p = fx_put(p, "\",\"");
    p += fx_fmt_trim(p, qty);
    p = fx_put(p, "\",\"0\",\"");
    p += fmt_u64_str(p, qty ? (uint64_t)orders_at(qty) : 0);
    return fx_put(p, "\"]");
}

static char *book_head(char *p, const struct fx_symbol *s, bool snapshot) {
    p = fx_put(p, "{\"arg\":{\"channel\":\"books\",\"instId\":\"");
    p = fx_put(p, s->norm);
    return fx_put(p, snapshot ? "\"},\"action\":\"snapshot\",\"data\":[{\"asks\":["
                              : "\"},\"action\":\"update\",\"data\":[{\"asks\":[");
}

static char *book_tail(char *p, int32_t checksum, int64_t prev, uint64_t seq) {
    p = fx_put(p, "],\"ts\":\"");
    p += fmt_u64_str(p, (uint64_t)(clock_wall_us() / 1000));
    p = fx_put(p, "\",\"checksum\":");
    p += sprintf(p, "%d", checksum);
    p = fx_put(p, ",\"prevSeqId\":");
    p += sprintf(p, "%lld", (long long)prev);
    p = fx_put(p, ",\"seqId\":");
    p += fmt_u64_str(p, seq);
    return fx_put(p, "}]}");
}

static void book_snapshot(struct fx_conn *c, size_t i) {
    struct fx_venue *v = c->venue;
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = fx_book_get(v, i);
    struct fx_buf out = {0};
    fx_buf_reserve(&out, 256 + 2 * OKX_BOOK_SNAPSHOT * 72);
    char *p = book_head(out.data, s, true);
    for (int side = 1; side >= 0; side--) { /* asks, then bids */
        if (side == 0) p = fx_put(p, "],\"bids\":[");
        for (uint32_t k = 0; k < fx_book_depth(b, side, OKX_BOOK_SNAPSHOT); k++)
            p = book_level(p, b->lv[side][k].price, b->lv[side][k].qty, k == 0);
    }
    p = book_tail(p, fx_book_checksum_okx(s, b), -1, b->seq);
    out.len = (size_t)(p - out.data);
    fx_book_snapshot_sent(c, out.data, out.len);
    fx_buf_free(&out);
}

static void book_update(struct fx_venue *v, size_t i, int key, struct fx_buf *out) {
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = s->book;
    (void)key;
    fx_buf_reserve(out, 256 + (size_t)b->nbatch * 72);
    char *p = book_head(out->data + out->len, s, false);
    for (int side = 1; side >= 0; side--) {
        if (side == 0) p = fx_put(p, "],\"bids\":[");
        bool first = true;
        for (uint32_t k = 0; k < b->nbatch; k++) {
            if (b->batch[k].side != side) continue;
            p = book_level(p, b->batch[k].price, b->batch[k].qty, first);
            first = false;
        }
    }
    int32_t checksum = fx_book_checksum_okx(s, b);
    p = book_tail(p, b->bad_checksum ? checksum ^ 0x5A5A5A5A : checksum, (int64_t)b->sent_seq, b->seq);
    out->len = (size_t)(p - out->data);
}

static void announce(struct fx_conn *c) {
    char msg[200];
    int n = snprintf(msg, sizeof msg,
                     "{\"event\":\"notice\",\"code\":\"64008\",\"msg\":\"The connection will soon be closed for a "
                     "service upgrade. Please reconnect.\",\"connId\":\"%08llx\"}",
                     (unsigned long long)c->id);
    fx_ws_text(c, msg, (size_t)n);
}

static void unknown(struct fx_conn *c) {
    fx_ws_literal(c, "{\"event\":\"fakex-unknown\",\"msg\":\"an event no client knows\"}");
}

/* GET /api/v5/public/instruments?instType=SPOT: every instrument in the fields of the documentation's example, state
 * live or suspend (halted); a delisted one is no longer listed. Another valid instType lists nothing here (fakex
 * has spot instruments only); none or another word is refused as OKX refuses it. */
static int instruments(struct fx_venue *v, const struct fx_http_req *req, struct fx_buf *out) {
    char type[16] = "";
    fx_query_get(req->query, "instType", type, sizeof type);
    bool spot = strcmp(type, "SPOT") == 0;
    if (!spot && strcmp(type, "MARGIN") != 0 && strcmp(type, "SWAP") != 0 && strcmp(type, "FUTURES") != 0 &&
        strcmp(type, "OPTION") != 0) {
        fx_buf_adds(out, "{\"code\":\"51000\",\"msg\":\"Parameter instType error\",\"data\":[]}");
        return 400;
    }
    fx_buf_adds(out, "{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    bool first = true;
    for (size_t i = 0; spot && i < v->nsyms; i++) {
        const struct fx_symbol *s = &v->syms[i];
        if (s->status == FX_DELISTED) continue;
        char base[24], quote[24];
        fx_symbol_parts(s, base, quote);
        fx_buf_reserve(out, 1200);
        char *p = out->data + out->len;
        p = fx_put(p, first ? "{\"alias\":\"\",\"auctionEndTime\":\"\",\"baseCcy\":\""
                            : ",{\"alias\":\"\",\"auctionEndTime\":\"\",\"baseCcy\":\"");
        first = false;
        p = fx_put(p, base);
        p = fx_put(p, "\",\"category\":\"1\",\"ctMult\":\"\",\"ctType\":\"\",\"ctVal\":\"\",\"ctValCcy\":\"\","
                      "\"contTdSwTime\":\"\",\"expTime\":\"\",\"futureSettlement\":false,\"groupId\":\"1\","
                      "\"instFamily\":\"\",\"instId\":\"");
        p = fx_put(p, s->norm);
        p = fx_put(p, "\",\"instType\":\"SPOT\",\"lever\":\"\",\"listTime\":\"1606468572000\",\"lotSz\":\"");
        p += fx_fmt_trim(p, fx_lot_units(s));
        p = fx_put(p, "\",\"maxIcebergSz\":\"9999999999.0000000000000000\",\"maxLmtAmt\":\"1000000\","
                      "\"maxLmtSz\":\"9999999999\",\"maxMktAmt\":\"1000000\",\"maxMktSz\":\"\",\"maxStopSz\":\"\","
                      "\"maxTriggerSz\":\"9999999999.0000000000000000\",\"maxTwapSz\":\"9999999999.0000000000000000\","
                      "\"minSz\":\"");
        p += fx_fmt_trim(p, fx_lot_units(s));
        p = fx_put(p, "\",\"optType\":\"\",\"openType\":\"\",\"preMktSwTime\":\"\",\"quoteCcy\":\"");
        p = fx_put(p, quote);
        p = fx_put(p, "\",\"tradeQuoteCcyList\":[\"");
        p = fx_put(p, quote);
        p = fx_put(p, "\"],\"settleCcy\":\"\",\"state\":\"");
        p = fx_put(p, s->status == FX_TRADING ? "live" : "suspend");
        p = fx_put(p, "\",\"ruleType\":\"normal\",\"stk\":\"\",\"tickSz\":\"");
        p += fx_fmt_trim(p, fx_tick_units(s));
        p = fx_put(p, "\",\"uly\":\"\",\"instIdCode\":");
        p += fmt_u64_str(p, 1000000000 + i);
        p = fx_put(p, ",\"instCategory\":\"1\",\"upcChg\":[]}");
        out->len = (size_t)(p - out->data);
    }
    fx_buf_adds(out, "]}");
    return 200;
}

const struct fx_dialect fx_okx = {
    .name = "okx",
    .rest_limit = 20,
    .rest_window_ms = 2000,
    .idle_ms = 30000,
    .announce_grace_ms = 30000,
    .connect_limit = 3,
    .connect_window_ms = 1000,
    .rest = rest,
    .rest_limited = rest_limited,
    .ws_open = ws_open,
    .ws_text = ws_text,
    .tick_msg = tick_msg,
    .trade_msg = trade_msg,
    .quote_text = quote_text,
    .announce = announce,
    .unknown = unknown,
    .instruments_path = "/api/v5/public/instruments",
    .instruments_weight = 1,
    .instruments = instruments,
    .book_interval_ms = 100,
    .book_checksum = true,
    .book_update = book_update,
};
