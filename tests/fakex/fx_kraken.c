/* fx_kraken.c -- the Kraken dialect: REST /0/public/Ticker and /0/public/Trades keyed by Kraken's own pair names
 * (XXBTZUSD) with string arrays and "error":[]; websocket v2 at /v2 with a status message on connect, subscribe acks, a ticker
 * snapshot then updates whose prices are JSON NUMBERS (written as the shortest decimal, which is also the
 * shortest text that reads back to the same double), ping/pong, and {"channel":"heartbeat"} once a second.
 * A ticker subscription takes event_trigger "bbo" or "trades" (Kraken's default, echoed in the ack like the
 * asked one); one on trades is recorded as a violation: on Kraken it pushes on trades only, so a quote that
 * moves without a trade would never reach the client. fakex pushes every update either way.
 * The "trade" channel is acked per symbol like the ticker and pushes one update per trade (price and qty JSON
 * numbers, side the taker's, trade_id an integer); snapshot true (Kraken's default is false) first sends the
 * last trade as a snapshot. */
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
                                    offsetof(struct fx_symbol, kraken_ws), offsetof(struct fx_symbol, binance)};
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

static void subscribe(struct fx_conn *c, const char *method, json_t *params, json_t *req_id) {
    struct fx_venue *v = c->venue;
    bool sub = strcmp(method, "subscribe") == 0;
    const char *channel = json_string_value(json_object_get(params, "channel"));
    if (channel && strcmp(channel, "trade") == 0) {
        subscribe_trade(c, method, params, req_id);
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
};
