/* fx_kraken.c -- the Kraken dialect: REST /0/public/Ticker and /0/public/Trades keyed by Kraken's own pair names
 * (XXBTZUSD) with string arrays and "error":[]; websocket v2 at /v2 with a status message on connect, subscribe acks, a ticker
 * snapshot then updates whose prices are JSON NUMBERS (written as the shortest decimal, which is also the
 * shortest text that reads back to the same double), ping/pong, and {"channel":"heartbeat"} once a second.
 * A ticker subscription takes event_trigger "bbo" or "trades" (Kraken's default, echoed in the ack like the
 * asked one); one on trades is recorded as a violation: on Kraken it pushes on trades only, so a quote that
 * moves without a trade would never reach the client. fakex pushes every update either way.
 * The "trade" channel is acked per symbol like the ticker and pushes one update per trade (price and qty JSON
 * numbers, side the taker's, trade_id an integer); snapshot true (Kraken's default is false) first sends the
 * last trade as a snapshot.
 *
 * Books: the v2 "book" channel with depth 10 (the default), 25, 100, 500 or 1000, acked per symbol
 * {"method","result":{"channel","depth","snapshot","symbol"},"success",...}; a snapshot (unless snapshot false) of
 * the top depth levels, then every 50 ms an update: {"channel":"book","type":"snapshot"|"update","data":[{"symbol",
 * "bids":[{"price":N,"qty":N}],"asks":[...],"checksum":N,"timestamp"}]}, prices and sizes JSON numbers in their
 * shortest form (0.10000000 goes out as 0.1). The checksum is Kraken's CRC32 of the top 10 asks then the top 10
 * bids, each price and qty written with the pair's precisions (pair_decimals and lot_decimals, from
 * GET /0/public/AssetPairs), '.' and the leading zeros removed. The client truncates its book to the depth it
 * subscribed after each update, so, as Kraken does, a level pushed out below the depth is not sent, while a level
 * that comes into the depth from below (a level above it went) is sent as an insert; a removal is sent (qty 0)
 * only for a level within the depth. A batch that changed nothing within a subscription's depth sends it nothing.
 * An unsubscribe then a subscribe sends a fresh snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakex.h"

enum { UPDATE = 0, SNAPSHOT = 2 };

static int64_t vwap(const struct fx_symbol *s) { return (s->high + s->low) / 2; }

/* change_pct with two decimals, as a 1e-8 count: (last - open) / open * 100 */
static int64_t change_pct(const struct fx_symbol *s) {
    if (s->open <= 0) return 0;
    return (int64_t)((__int128)(s->last - s->open) * 10000 / s->open) * 1000000;
}

static size_t tick_msg(struct fx_venue *v, size_t i, int variant, char *out) {
    const struct fx_symbol *s = &v->syms[i];
    char *p = out;
    p = fx_put(p, variant == SNAPSHOT ? "{\"channel\":\"ticker\",\"type\":\"snapshot\",\"data\":[{\"symbol\":\""
                                      : "{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"");
    p = fx_put(p, s->kraken_ws);
    p = fx_put(p, "\",\"bid\":");
    p += fx_fmt_trim(p, s->bid);
    p = fx_put(p, ",\"bid_qty\":");
    p += fx_fmt_trim(p, s->bid_qty);
    p = fx_put(p, ",\"ask\":");
    p += fx_fmt_trim(p, s->ask);
    p = fx_put(p, ",\"ask_qty\":");
    p += fx_fmt_trim(p, s->ask_qty);
    p = fx_put(p, ",\"last\":");
    p += fx_fmt_trim(p, s->last);
    p = fx_put(p, ",\"volume\":");
    p += fx_fmt_trim(p, s->volume);
    p = fx_put(p, ",\"vwap\":");
    p += fx_fmt_trim(p, vwap(s));
    p = fx_put(p, ",\"low\":");
    p += fx_fmt_trim(p, s->low);
    p = fx_put(p, ",\"high\":");
    p += fx_fmt_trim(p, s->high);
    p = fx_put(p, ",\"change\":");
    p += fx_fmt_trim(p, s->last - s->open);
    p = fx_put(p, ",\"change_pct\":");
    p += fx_fmt_trim(p, change_pct(s));
    p = fx_put(p, ",\"timestamp\":\"");
    p += fx_fmt_rfc3339(p, s->ts_us, 6);
    p = fx_put(p, "\"}]}");
    return (size_t)(p - out);
}

static size_t trade_msg(struct fx_venue *v, size_t i, int variant, bool snapshot, char *out) {
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_trade *t = &s->trade;
    char *p = out;
    (void)variant;
    p = fx_put(p, snapshot ? "{\"channel\":\"trade\",\"type\":\"snapshot\",\"data\":[{\"symbol\":\""
                           : "{\"channel\":\"trade\",\"type\":\"update\",\"data\":[{\"symbol\":\"");
    p = fx_put(p, s->kraken_ws);
    p = fx_put(p, t->buy ? "\",\"side\":\"buy\",\"price\":" : "\",\"side\":\"sell\",\"price\":");
    p += fx_fmt_trim(p, t->price);
    p = fx_put(p, ",\"qty\":");
    p += fx_fmt_trim(p, t->qty);
    p = fx_put(p, ",\"ord_type\":\"market\",\"trade_id\":");
    p += fmt_u64_str(p, t->id);
    p = fx_put(p, ",\"timestamp\":\"");
    p += fx_fmt_rfc3339(p, t->ts_us, 6);
    p = fx_put(p, "\"}]}");
    return (size_t)(p - out);
}

static void quote_text(const struct fx_symbol *s, struct fx_quote_text *q) {
    fx_fmt_trim(q->bid, s->bid);
    fx_fmt_trim(q->bid_qty, s->bid_qty);
    fx_fmt_trim(q->ask, s->ask);
    fx_fmt_trim(q->ask_qty, s->ask_qty);
    fx_fmt_trim(q->last, s->last);
}

/* ---- REST ---- */

static json_t *pair2(int64_t a, int64_t b, int dp) {
    char x[FX_NUM_MAX], y[FX_NUM_MAX];
    fx_fmt_fixed(x, a, dp);
    fx_fmt_fixed(y, b, dp);
    return json_pack("[s, s]", x, y);
}

/* The quote fields (a, b, c) carry the same text as the stream's numbers, so that the merged state equals the
 * report whichever path delivered last. The real REST pads prices to 5 decimals ("3537.50000") while v2 sends
 * 3537.5; tickd keeps each venue's text exactly and does not reconcile the two. The other fields keep the
 * REST padding. */
static json_t *ticker_json(const struct fx_symbol *s) {
    int dp = s->dp < 5 ? 5 : s->dp;
    struct fx_quote_text q;
    char asklot[24], bidlot[24], lastq[FX_NUM_MAX], open[FX_NUM_MAX];
    quote_text(s, &q);
    fmt_u64_str(asklot, (uint64_t)(s->ask_qty / 100000000));
    fmt_u64_str(bidlot, (uint64_t)(s->bid_qty / 100000000));
    fx_fmt_trim(lastq, s->last_qty);
    fx_fmt_fixed(open, s->open, dp);
    json_int_t trades = (json_int_t)(s->trade_id % 100000);
    return json_pack("{s:[s,s,s], s:[s,s,s], s:[s,s], s:o, s:o, s:[I,I], s:o, s:o, s:s}", "a", q.ask, asklot, q.ask_qty,
                     "b", q.bid, bidlot, q.bid_qty, "c", q.last, lastq, "v", pair2(s->volume, s->volume, 8), "p",
                     pair2(vwap(s), vwap(s), dp), "t", trades, trades, "l", pair2(s->low, s->low, dp), "h",
                     pair2(s->high, s->high, dp), "o", open);
}

static long find_pair(struct fx_venue *v, const char *name) {
    static const size_t fields[] = {offsetof(struct fx_symbol, kraken_alt), offsetof(struct fx_symbol, kraken_rest),
                                    offsetof(struct fx_symbol, kraken_ws), offsetof(struct fx_symbol, kraken_v1),
                                    offsetof(struct fx_symbol, binance)};
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
        long i = fx_symbol_find_ci(v->syms, v->nsyms, fields[f], name);
        if (i >= 0) return i;
    }
    return -1;
}

/* GET /0/public/Trades?pair=XBTUSD&count=N (1000 by default and at most): under the pair's REST key (as the
 * Ticker answer names it) rows [price, volume, time, "b"|"s" (the taker's side), "m" (market), "", trade_id],
 * OLDEST first; time in seconds with six decimals (written by hand: a double printed by jansson could lose
 * them), price padded as the Ticker pads it, volume 8 decimals; "last" the newest trade's time in ns, as text. */
static void rest_trades(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    char pair[64];
    if (fx_query_get(req->query, "pair", pair, sizeof pair) < 0 || !pair[0]) {
        fx_http_reply_json(c, 200, json_pack("{s:[s]}", "error", "EGeneral:Invalid arguments"));
        return;
    }
    int64_t count = fx_query_count(req->query, "count", 1000, 1000);
    long i = find_pair(v, pair);
    if (i < 0) {
        fx_http_reply_json(c, 200, json_pack("{s:[s]}", "error", "EQuery:Unknown asset pair"));
        return;
    }
    if (count < 0) {
        fx_http_reply_json(c, 200, json_pack("{s:[s]}", "error", "EGeneral:Invalid arguments:count"));
        return;
    }
    const struct fx_symbol *s = &v->syms[i];
    int dp = s->dp < 5 ? 5 : s->dp;
    size_t n = (size_t)count < s->ring_len ? (size_t)count : s->ring_len;
    struct fx_buf b = {0};
    fx_buf_printf(&b, "{\"error\":[],\"result\":{\"%s\":[", s->kraken_rest);
    for (size_t k = n; k-- > 0;) {
        const struct fx_trade *t = fx_trade_recent(s, k);
        fx_buf_reserve(&b, 256);
        char *p = b.data + b.len;
        p = fx_put(p, k + 1 < n ? ",[\"" : "[\"");
        p += fx_fmt_fixed(p, t->price, dp);
        p = fx_put(p, "\",\"");
        p += fx_fmt_fixed(p, t->qty, 8);
        p = fx_put(p, "\",");
        p += fmt_u64_str(p, (uint64_t)(t->ts_us / 1000000));
        p += sprintf(p, ".%06llu", (unsigned long long)(t->ts_us % 1000000));
        p = fx_put(p, t->buy ? ",\"b\",\"m\",\"\"," : ",\"s\",\"m\",\"\",");
        p += fmt_u64_str(p, t->id);
        p = fx_put(p, "]");
        b.len = (size_t)(p - b.data);
    }
    const struct fx_trade *newest = fx_trade_recent(s, 0);
    fx_buf_printf(&b, "],\"last\":\"%llu\"}}", (unsigned long long)(newest ? newest->ts_us : s->ts_us) * 1000ULL);
    fx_http_reply(c, 200, NULL, b.data, b.len);
    fx_buf_free(&b);
}

/* One AssetPairs entry, its fields in the order of Kraken's example (the fee schedules and margin limits as there):
 * the pair's names, pair_decimals and lot_decimals (the precisions of its book checksum), the tick and lot, and its
 * status: online, or cancel_only while halted. */
static void pair_entry(struct fx_buf *b, const struct fx_symbol *s, bool first) {
    char tick[FX_NUM_MAX], lot[FX_NUM_MAX];
    int64_t t = 1, l = 1;
    for (int k = s->dp; k < 8; k++) t *= 10;
    for (int k = s->qdp; k < 8; k++) l *= 10;
    fx_fmt_trim(tick, t);
    fx_fmt_trim(lot, l);
    fx_buf_printf(b,
                  "%s\"%s\":{\"altname\":\"%s\",\"wsname\":\"%s\",\"aclass_base\":\"currency\",\"base\":\"%s\","
                  "\"aclass_quote\":\"currency\",\"quote\":\"%s\",\"lot\":\"unit\",\"cost_decimals\":5,"
                  "\"pair_decimals\":%d,\"lot_decimals\":%d,\"lot_multiplier\":1,\"leverage_buy\":[2,3,4,5],"
                  "\"leverage_sell\":[2,3,4,5],\"fees\":[[0,0.26],[50000,0.24],[100000,0.22],[250000,0.2],"
                  "[500000,0.18],[1000000,0.16],[2500000,0.14],[5000000,0.12],[10000000,0.1]],\"fees_maker\":[[0,0.16],"
                  "[50000,0.14],[100000,0.12],[250000,0.1],[500000,0.08],[1000000,0.06],[2500000,0.04],[5000000,0.02],"
                  "[10000000,0]],\"fee_volume_currency\":\"ZUSD\",\"margin_call\":80,\"margin_stop\":40,"
                  "\"ordermin\":\"%s\",\"costmin\":\"0.5\",\"tick_size\":\"%s\",\"status\":\"%s\","
                  "\"long_position_limit\":250,\"short_position_limit\":200}",
                  first ? "" : ",", s->kraken_rest, s->kraken_alt, s->kraken_v1, s->kraken_base, s->kraken_quote, s->dp,
                  s->qdp, lot, tick, s->status == FX_TRADING ? "online" : "cancel_only");
}

/* GET /0/public/AssetPairs?pair=A,B (every pair without pair=: the instrument list): under each pair's REST key. A
 * delisted pair is gone: not listed, and unknown when named. */
static int instruments(struct fx_venue *v, const struct fx_http_req *req, struct fx_buf *b) {
    char pairs[sizeof req->query]; /* one call names many pairs */
    fx_buf_adds(b, "{\"error\":[],\"result\":{");
    bool first = true;
    if (fx_query_get(req->query, "pair", pairs, sizeof pairs) < 0 || !pairs[0]) {
        for (size_t i = 0; i < v->nsyms; i++) {
            if (v->syms[i].status == FX_DELISTED) continue;
            pair_entry(b, &v->syms[i], first);
            first = false;
        }
    } else {
        for (char *save = NULL, *name = strtok_r(pairs, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
            long i = find_pair(v, name);
            if (i < 0 || v->syms[i].status == FX_DELISTED) {
                b->len = 0;
                fx_buf_adds(b, "{\"error\":[\"EQuery:Unknown asset pair\"]}");
                return 200;
            }
            pair_entry(b, &v->syms[i], first);
            first = false;
        }
    }
    fx_buf_adds(b, "}}");
    return 200;
}

static void rest(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    if (strcmp(req->path, "/0/public/Trades") == 0) {
        rest_trades(c, req);
        return;
    }
    if (strcmp(req->path, "/0/public/Ticker") != 0) {
        fx_http_reply_json(c, 404, json_pack("{s:[s]}", "error", "EGeneral:Unknown method"));
        return;
    }
    char pairs[4096];
    json_t *result = json_object();
    if (fx_query_get(req->query, "pair", pairs, sizeof pairs) < 0) {
        for (size_t i = 0; i < v->nsyms; i++) json_object_set_new(result, v->syms[i].kraken_rest, ticker_json(&v->syms[i]));
    } else {
        for (char *save = NULL, *name = strtok_r(pairs, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
            long i = find_pair(v, name);
            if (i < 0) {
                json_decref(result);
                fx_http_reply_json(c, 200, json_pack("{s:[s]}", "error", "EQuery:Unknown asset pair"));
                return;
            }
            json_object_set_new(result, v->syms[i].kraken_rest, ticker_json(&v->syms[i]));
        }
    }
    fx_http_reply_json(c, 200, json_pack("{s:[], s:o}", "error", "result", result));
}

/* Kraken answers a throttled client with HTTP 200 and an error in the body. */
static void rest_limited(struct fx_conn *c, int status) {
    (void)status;
    fx_http_reply_json(c, 200, json_pack("{s:[s]}", "error", "EGeneral:Too many requests"));
}

/* ---- websocket v2 ---- */

static int ws_open(struct fx_conn *c, const struct fx_http_req *req) {
    if (strcmp(req->path, "/v2") != 0) return 404;
    fx_ws_json(c, json_pack("{s:s, s:[{s:s, s:I, s:s, s:s}], s:s}", "channel", "status", "data", "api_version", "v2",
                            "connection_id", (json_int_t)(1000000000 + c->id), "system", "online", "version", "2.0.9",
                            "type", "update"));
    return 0;
}

/* The fields every answer to a request carries; req_id only when the request had one. */
static json_t *answer(const char *method, json_t *req_id, bool success) {
    char t[40];
    fx_fmt_rfc3339(t, clock_wall_us(), 6);
    json_t *a = json_pack("{s:s}", "method", method);
    if (req_id) json_object_set(a, "req_id", req_id);
    json_object_set_new(a, "success", json_boolean(success));
    json_object_set_new(a, "time_in", json_string(t));
    json_object_set_new(a, "time_out", json_string(t));
    return a;
}

/* One ack per symbol, as for the ticker. */
static void subscribe_trade(struct fx_conn *c, const char *method, json_t *params, json_t *req_id) {
    struct fx_venue *v = c->venue;
    bool sub = strcmp(method, "subscribe") == 0, snapshot = json_is_true(json_object_get(params, "snapshot"));
    size_t k;
    json_t *p;
    json_array_foreach(json_object_get(params, "symbol"), k, p) {
        const char *name = json_string_value(p);
        long i = name ? fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, kraken_ws), name) : -1;
        json_t *a = answer(method, req_id, i >= 0);
        if (i < 0) {
            char err[96];
            snprintf(err, sizeof err, "Currency pair not supported %s", name ? name : "");
            json_object_set_new(a, "error", json_string(err));
            json_object_set_new(a, "symbol", json_string(name ? name : ""));
            fx_ws_json(c, a);
            continue;
        }
        json_object_set_new(a, "result", sub ? json_pack("{s:s, s:b, s:s}", "channel", "trade", "snapshot", snapshot,
                                                         "symbol", name)
                                             : json_pack("{s:s, s:s}", "channel", "trade", "symbol", name));
        fx_ws_json(c, a);
        if (!sub) {
            c->subs[i] &= (uint8_t)~FX_SUB_TRADE;
            continue;
        }
        c->subs[i] |= FX_SUB_TRADE;
        if (snapshot && !c->muted) {
            char msg[FX_MSG_MAX];
            fx_ws_text(c, msg, trade_msg(v, (size_t)i, 0, true, msg));
            v->trades_sent++;
        }
    }
    fx_conn_update_subscribed(c);
    if (c->subscribed) fx_venue_kick(v);
}

/* ---- book ---- */

enum { BID = 0, ASK = 1 };

static int depth_index(const struct fx_conn *c, size_t i) { return (c->subs[i] >> FX_SUB_DEPTH_SHIFT) & 7; }

static char *level(char *p, int64_t price, int64_t qty, bool first) {
    p = fx_put(p, first ? "{\"price\":" : ",{\"price\":");
    p += fx_fmt_trim(p, price);
    p = fx_put(p, ",\"qty\":");
    p += fx_fmt_trim(p, qty);
    return fx_put(p, "}");
}

static char *book_tail(char *p, uint32_t checksum) {
    p = fx_put(p, "],\"checksum\":");
    p += fmt_u64_str(p, checksum);
    p = fx_put(p, ",\"timestamp\":\"");
    p += fx_fmt_rfc3339(p, clock_wall_us(), 6);
    return fx_put(p, "\"}]}");
}

static void book_snapshot(struct fx_conn *c, size_t i) {
    struct fx_venue *v = c->venue;
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = fx_book_get(v, i);
    uint32_t depth = (uint32_t)fx_kraken_depths[depth_index(c, i)];
    struct fx_buf out = {0};
    fx_buf_reserve(&out, 256 + (size_t)depth * 2 * 64);
    char *p = fx_put(out.data, "{\"channel\":\"book\",\"type\":\"snapshot\",\"data\":[{\"symbol\":\"");
    p = fx_put(p, s->kraken_ws);
    for (int side = BID; side <= ASK; side++) {
        p = fx_put(p, side == BID ? "\",\"bids\":[" : "],\"asks\":[");
        for (uint32_t k = 0; k < fx_book_depth(b, side, depth); k++)
            p = level(p, b->lv[side][k].price, b->lv[side][k].qty, k == 0);
    }
    p = book_tail(p, fx_book_checksum_kraken(s, b));
    out.len = (size_t)(p - out.data);
    fx_book_snapshot_sent(c, out.data, out.len);
    fx_buf_free(&out);
}

/* true when price is within the first `depth` levels of a side whose level at that depth is edge (0: the side
 * has fewer levels than that, all within) */
static bool within(int side, int64_t price, int64_t edge) {
    return !edge || (side == BID ? price >= edge : price <= edge);
}

static bool touched(const struct fx_book *b, int side, int64_t price) {
    for (uint32_t k = 0; k < b->nbatch; k++) /* a batch is small; linear is enough at the book rates tested */
        if (b->batch[k].side == side && b->batch[k].price == price) return true;
    return false;
}

/* The batch as a subscription of depth index d sees it: removals of levels it held first, then the levels
 * within its depth that changed or came in, from the batch or from below the depth. */
static void book_update(struct fx_venue *v, size_t i, int d, struct fx_buf *out) {
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = s->book;
    uint32_t depth = (uint32_t)fx_kraken_depths[d < FX_KRAKEN_DEPTHS ? d : 0];
    size_t mark = out->len;
    fx_buf_reserve(out, 256 + ((size_t)b->nbatch + 2 * depth) * 64);
    char *p = out->data + out->len;
    p = fx_put(p, "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"");
    p = fx_put(p, s->kraken_ws);
    size_t sent = 0;
    for (int side = BID; side <= ASK; side++) {
        p = fx_put(p, side == BID ? "\",\"bids\":[" : "],\"asks\":[");
        bool first = true;
        int64_t old_edge = b->edge[d][side];
        uint32_t n = fx_book_depth(b, side, depth);
        int64_t new_edge = n == depth && b->n[side] >= depth ? b->lv[side][depth - 1].price : 0;
        for (uint32_t k = 0; k < b->nbatch; k++) { /* removals of levels the subscription held */
            const struct fx_book_entry *e = &b->batch[k];
            if (e->side != side || e->qty || !e->old_qty || !within(side, e->price, old_edge)) continue;
            p = level(p, e->price, 0, first);
            first = false;
            sent++;
        }
        for (uint32_t k = 0; k < b->nbatch; k++) { /* levels within the depth that changed or came in */
            const struct fx_book_entry *e = &b->batch[k];
            if (e->side != side || !e->qty || !within(side, e->price, new_edge)) continue;
            bool held = e->old_qty && within(side, e->price, old_edge);
            if (held && e->qty == e->old_qty) continue;
            p = level(p, e->price, e->qty, first);
            first = false;
            sent++;
        }
        for (uint32_t k = n; old_edge && k-- > 0;) { /* untouched levels that came in from below the depth */
            const struct fx_level *l = &b->lv[side][k];
            if (within(side, l->price, old_edge)) break;
            if (touched(b, side, l->price)) continue;
            p = level(p, l->price, l->qty, first);
            first = false;
            sent++;
        }
    }
    uint32_t checksum = fx_book_checksum_kraken(s, b);
    p = book_tail(p, b->bad_checksum ? checksum ^ 0x5A5A5A5Au : checksum);
    out->len = sent ? (size_t)(p - out->data) : mark;
}

static int book_key(const struct fx_conn *c, size_t sym) { return depth_index(c, sym); }

/* One ack per symbol; a snapshot (unless snapshot false) of each symbol subscribed. A symbol subscribed again
 * takes the new depth and a new snapshot. */
static void subscribe_book(struct fx_conn *c, const char *method, json_t *params, json_t *req_id) {
    struct fx_venue *v = c->venue;
    bool sub = strcmp(method, "subscribe") == 0;
    json_t *depth_v = json_object_get(params, "depth"), *snap_v = json_object_get(params, "snapshot");
    int d = -1;
    for (int k = 0; k < FX_KRAKEN_DEPTHS; k++)
        if (!depth_v || (json_is_integer(depth_v) && json_integer_value(depth_v) == fx_kraken_depths[k])) {
            d = k;
            break;
        }
    if (d < 0 || (snap_v && !json_is_boolean(snap_v))) {
        json_t *a = answer(method, req_id, false);
        json_object_set_new(a, "error", json_string(d < 0 ? "EGeneral:Invalid arguments:depth"
                                                          : "EGeneral:Invalid arguments:snapshot"));
        fx_ws_json(c, a);
        return;
    }
    bool snapshot = !snap_v || json_is_true(snap_v);
    size_t k;
    json_t *p;
    json_array_foreach(json_object_get(params, "symbol"), k, p) {
        const char *name = json_string_value(p);
        long i = name ? fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, kraken_ws), name) : -1;
        json_t *a = answer(method, req_id, i >= 0);
        if (i < 0) {
            char err[96];
            snprintf(err, sizeof err, "Currency pair not supported %s", name ? name : "");
            json_object_set_new(a, "error", json_string(err));
            json_object_set_new(a, "symbol", json_string(name ? name : ""));
            fx_ws_json(c, a);
            continue;
        }
        int held = c->subs[i] & FX_SUB_BOOK ? depth_index(c, (size_t)i) : d;
        json_object_set_new(a, "result", sub ? json_pack("{s:s, s:i, s:b, s:s}", "channel", "book", "depth",
                                                         fx_kraken_depths[d], "snapshot", snapshot, "symbol", name)
                                             : json_pack("{s:s, s:i, s:s}", "channel", "book", "depth",
                                                         fx_kraken_depths[held], "symbol", name));
        fx_ws_json(c, a);
        if (!sub) {
            if (c->subs[i] & FX_SUB_BOOK) v->book_unsubscribes++;
            c->subs[i] &= (uint8_t)~(FX_SUB_BOOK | 7 << FX_SUB_DEPTH_SHIFT);
            continue;
        }
        if (!(c->subs[i] & FX_SUB_BOOK)) v->book_subscribes++;
        c->subs[i] = (uint8_t)((c->subs[i] & ~(7 << FX_SUB_DEPTH_SHIFT)) | FX_SUB_BOOK | d << FX_SUB_DEPTH_SHIFT);
        fx_book_get(v, (size_t)i);
        if (snapshot && !c->muted) book_snapshot(c, (size_t)i);
    }
    fx_conn_update_subscribed(c);
    if (c->subscribed) fx_venue_kick(v);
}

static void subscribe(struct fx_conn *c, const char *method, json_t *params, json_t *req_id) {
    struct fx_venue *v = c->venue;
    bool sub = strcmp(method, "subscribe") == 0;
    const char *channel = json_string_value(json_object_get(params, "channel"));
    if (channel && strcmp(channel, "trade") == 0) {
        subscribe_trade(c, method, params, req_id);
        return;
    }
    if (channel && strcmp(channel, "book") == 0) {
        subscribe_book(c, method, params, req_id);
        return;
    }
    if (!channel || (strcmp(channel, "ticker") != 0 && strcmp(channel, "heartbeat") != 0)) {
        json_t *a = answer(method, req_id, false);
        json_object_set_new(a, "error", json_string("Channel not supported"));
        fx_ws_json(c, a);
        return;
    }
    if (strcmp(channel, "heartbeat") == 0) {
        json_t *a = answer(method, req_id, true);
        json_object_set_new(a, "result", json_pack("{s:s}", "channel", "heartbeat"));
        fx_ws_json(c, a);
        return;
    }
    json_t *trigger_v = json_object_get(params, "event_trigger");
    const char *trigger = trigger_v ? json_string_value(trigger_v) : "trades";
    if (!trigger || (strcmp(trigger, "bbo") != 0 && strcmp(trigger, "trades") != 0)) {
        json_t *a = answer(method, req_id, false);
        json_object_set_new(a, "error", json_string("EGeneral:Invalid arguments:event_trigger must be bbo or trades"));
        fx_ws_json(c, a);
        return;
    }
    if (sub && strcmp(trigger, "trades") == 0)
        fx_violation(v, c->id, "ticker_on_trades",
                     "ticker subscribed with event_trigger %s: Kraken pushes it on trades only, not on each change "
                     "of the best bid and offer",
                     trigger_v ? "trades" : "left at its default (trades)");
    size_t k;
    json_t *p;
    json_array_foreach(json_object_get(params, "symbol"), k, p) {
        const char *name = json_string_value(p);
        long i = name ? fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, kraken_ws), name) : -1;
        json_t *a = answer(method, req_id, i >= 0);
        if (i < 0) {
            char err[96];
            snprintf(err, sizeof err, "Currency pair not supported %s", name ? name : "");
            json_object_set_new(a, "error", json_string(err));
            json_object_set_new(a, "symbol", json_string(name ? name : ""));
            fx_ws_json(c, a);
            continue;
        }
        json_object_set_new(a, "result", json_pack("{s:s, s:s, s:b, s:s}", "channel", "ticker", "event_trigger",
                                                   trigger, "snapshot", sub, "symbol", name));
        fx_ws_json(c, a);
        if (sub) {
            c->subs[i] |= FX_SUB_DATA;
            char msg[FX_MSG_MAX];
            fx_ws_text(c, msg, tick_msg(v, (size_t)i, SNAPSHOT, msg));
        } else {
            c->subs[i] &= (uint8_t)~FX_SUB_DATA;
        }
    }
    fx_conn_update_subscribed(c);
    if (c->subscribed) fx_venue_kick(v);
}

static void ws_text(struct fx_conn *c, const char *msg, size_t len) {
    json_t *m = json_loadb(msg, len, 0, NULL);
    const char *method = json_string_value(json_object_get(m, "method"));
    json_t *req_id = json_object_get(m, "req_id");
    if (method && strcmp(method, "ping") == 0) {
        fx_ws_json(c, answer("pong", req_id, true));
    } else if (method && (strcmp(method, "subscribe") == 0 || strcmp(method, "unsubscribe") == 0)) {
        subscribe(c, method, json_object_get(m, "params"), req_id);
    } else {
        json_t *a = answer(method ? method : "", req_id, false);
        json_object_set_new(a, "error", json_string(m ? "Method not found" : "Malformed request"));
        fx_ws_json(c, a);
    }
    json_decref(m);
}

static void heartbeat(struct fx_conn *c) {
    fx_ws_literal(c, "{\"channel\":\"heartbeat\"}");
}

static void unknown(struct fx_conn *c) {
    fx_ws_literal(c, "{\"channel\":\"fakex_unknown\",\"type\":\"update\",\"data\":[]}");
}

const struct fx_dialect fx_kraken = {
    .name = "kraken",
    .rest_limit = 15,
    .rest_window_ms = 15000,
    .heartbeat_ms = 1000,
    .announce_grace_ms = 1000,
    .rest = rest,
    .rest_limited = rest_limited,
    .ws_open = ws_open,
    .ws_text = ws_text,
    .tick_msg = tick_msg,
    .trade_msg = trade_msg,
    .quote_text = quote_text,
    .heartbeat = heartbeat,
    .unknown = unknown,
    .instruments_path = "/0/public/AssetPairs",
    .instruments_weight = 1,
    .instruments = instruments,
    .book_interval_ms = 50,
    .book_checksum = true,
    .book_key = book_key,
    .book_update = book_update,
};
