/* fx_coinbase.c -- the Coinbase Exchange dialect: REST /products/<id>/ticker and /products/<id>/trades, and /products
 * (every product: the instrument list); the websocket feed at "/" with
 * "ticker", "matches" and "heartbeat" channels (product_ids at the top or per channel), the "subscriptions" ack,
 * ticker messages with a per-product sequence, a "last_match" per product on subscribing to matches and then a
 * "match" per trade (its "side" is the MAKER's, its sequence the product's next), and one heartbeat per product
 * per second. Prices carry the product's
 * quote increment (trailing zeros kept, "14.7550"), sizes 8 decimals, last_size trimmed ("0.04").
 *
 * Books: the public "level2_batch" channel (level2 itself needs authentication): on subscribing a product, a
 * "snapshot" {"type","product_id","bids":[["price","size"]],"asks"} of the whole book, then every 50 ms an
 * "l2update" {"type","product_id","changes":[["buy"|"sell","price","size"]],"time"} with each level the batch
 * touched and its size now ("0.00000000": removed). No sequence: an unsubscribe then a subscribe of a product
 * sends a fresh snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakex.h"

static size_t tick_msg(struct fx_venue *v, size_t i, int variant, char *out) {
    const struct fx_symbol *s = &v->syms[i];
    char *p = out;
    (void)variant;
    p = fx_put(p, "{\"type\":\"ticker\",\"sequence\":");
    p += fmt_u64_str(p, s->seq);
    p = fx_put(p, ",\"product_id\":\"");
    p = fx_put(p, s->norm);
    p = fx_put(p, "\",\"price\":\"");
    p += fx_fmt_fixed(p, s->last, s->dp);
    p = fx_put(p, "\",\"open_24h\":\"");
    p += fx_fmt_fixed(p, s->open, s->dp);
    p = fx_put(p, "\",\"volume_24h\":\"");
    p += fx_fmt_fixed(p, s->volume, 8);
    p = fx_put(p, "\",\"low_24h\":\"");
    p += fx_fmt_fixed(p, s->low, s->dp);
    p = fx_put(p, "\",\"high_24h\":\"");
    p += fx_fmt_fixed(p, s->high, s->dp);
    p = fx_put(p, "\",\"volume_30d\":\"");
    p += fx_fmt_fixed(p, s->volume * 30, 8);
    p = fx_put(p, "\",\"best_bid\":\"");
    p += fx_fmt_fixed(p, s->bid, s->dp);
    p = fx_put(p, "\",\"best_bid_size\":\"");
    p += fx_fmt_fixed(p, s->bid_qty, 8);
    p = fx_put(p, "\",\"best_ask\":\"");
    p += fx_fmt_fixed(p, s->ask, s->dp);
    p = fx_put(p, "\",\"best_ask_size\":\"");
    p += fx_fmt_fixed(p, s->ask_qty, 8);
    p = fx_put(p, s->last == s->ask ? "\",\"side\":\"buy\",\"time\":\"" : "\",\"side\":\"sell\",\"time\":\"");
    p += fx_fmt_rfc3339(p, s->ts_us, 6);
    p = fx_put(p, "\",\"trade_id\":");
    p += fmt_u64_str(p, s->trade_id);
    p = fx_put(p, ",\"last_size\":\"");
    p += fx_fmt_trim(p, s->last_qty);
    p = fx_put(p, "\"}");
    return (size_t)(p - out);
}

/* An order id in UUID form, the same for the same trade and role. */
static char *order_id(char *p, uint64_t trade_id, size_t sym, unsigned role) {
    uint64_t a = trade_id * 0x9E3779B97F4A7C15ULL ^ (uint64_t)sym << 40 ^ role, b;
    a ^= a >> 31;
    a *= 0xBF58476D1CE4E5B9ULL;
    a ^= a >> 29;
    b = a * 0x94D049BB133111EBULL;
    b ^= b >> 32;
    int n = sprintf(p, "%08llx-%04llx-4%03llx-%04llx-%012llx", (unsigned long long)(a >> 32),
                    (unsigned long long)(a >> 16 & 0xffff), (unsigned long long)(a & 0xfff),
                    (unsigned long long)(0x8000 | (b >> 48 & 0x3fff)), (unsigned long long)(b & 0xffffffffffffULL));
    return p + n;
}

static size_t trade_msg(struct fx_venue *v, size_t i, int variant, bool snapshot, char *out) {
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_trade *t = &s->trade;
    char *p = out;
    (void)variant;
    p = fx_put(p, snapshot ? "{\"type\":\"last_match\",\"trade_id\":" : "{\"type\":\"match\",\"trade_id\":");
    p += fmt_u64_str(p, t->id);
    p = fx_put(p, ",\"maker_order_id\":\"");
    p = order_id(p, t->id, i, 1);
    p = fx_put(p, "\",\"taker_order_id\":\"");
    p = order_id(p, t->id, i, 2);
    p = fx_put(p, t->buy ? "\",\"side\":\"sell\",\"size\":\"" : "\",\"side\":\"buy\",\"size\":\"");
    p += fx_fmt_fixed(p, t->qty, 8);
    p = fx_put(p, "\",\"price\":\"");
    p += fx_fmt_fixed(p, t->price, s->dp);
    p = fx_put(p, "\",\"product_id\":\"");
    p = fx_put(p, s->norm);
    p = fx_put(p, "\",\"sequence\":");
    p += fmt_u64_str(p, t->seq);
    p = fx_put(p, ",\"time\":\"");
    p += fx_fmt_rfc3339(p, t->ts_us, 6);
    p = fx_put(p, "\"}");
    return (size_t)(p - out);
}

static void quote_text(const struct fx_symbol *s, struct fx_quote_text *q) {
    fx_fmt_fixed(q->bid, s->bid, s->dp);
    fx_fmt_fixed(q->bid_qty, s->bid_qty, 8);
    fx_fmt_fixed(q->ask, s->ask, s->dp);
    fx_fmt_fixed(q->ask_qty, s->ask_qty, 8);
    fx_fmt_fixed(q->last, s->last, s->dp);
}

/* /products/<id>/<what> exactly: true with the product id in id. */
static bool product_path(const char *path, const char *what, char *id, size_t idlen) {
    static const char prefix[] = "/products/";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0) return false;
    const char *start = path + sizeof prefix - 1, *slash = strchr(start, '/');
    if (!slash || slash == start || (size_t)(slash - start) >= idlen || strcmp(slash + 1, what) != 0) return false;
    memcpy(id, start, (size_t)(slash - start));
    id[slash - start] = 0;
    return true;
}

/* GET /products/<id>/trades?limit=N (100 by default, at most 1000): NEWEST first, "side" the MAKER's (a taker
 * buy lifts a resting sell), prices at the product's increment, sizes 8 decimals; the pagination headers name the
 * newest (CB-BEFORE) and the oldest (CB-AFTER) trade id of the page. */
static void rest_trades(struct fx_conn *c, const struct fx_http_req *req, long i) {
    struct fx_venue *v = c->venue;
    int64_t limit = fx_query_count(req->query, "limit", 100, 1000);
    if (limit < 0) {
        fx_http_reply_json(c, 400, json_pack("{s:s}", "message", "Invalid limit"));
        return;
    }
    const struct fx_symbol *s = &v->syms[i];
    size_t n = (size_t)limit < s->ring_len ? (size_t)limit : s->ring_len;
    struct fx_buf b = {0};
    fx_buf_adds(&b, "[");
    for (size_t k = 0; k < n; k++) {
        const struct fx_trade *t = fx_trade_recent(s, k);
        fx_buf_reserve(&b, 256);
        char *p = b.data + b.len;
        p = fx_put(p, k ? ",{\"time\":\"" : "{\"time\":\"");
        p += fx_fmt_rfc3339(p, t->ts_us, 6);
        p = fx_put(p, "\",\"trade_id\":");
        p += fmt_u64_str(p, t->id);
        p = fx_put(p, ",\"price\":\"");
        p += fx_fmt_fixed(p, t->price, s->dp);
        p = fx_put(p, "\",\"size\":\"");
        p += fx_fmt_fixed(p, t->qty, 8);
        p = fx_put(p, t->buy ? "\",\"side\":\"sell\"}" : "\",\"side\":\"buy\"}");
        b.len = (size_t)(p - b.data);
    }
    fx_buf_adds(&b, "]");
    char headers[96] = "";
    if (n)
        snprintf(headers, sizeof headers, "Cb-Before: %llu\r\nCb-After: %llu\r\n",
                 (unsigned long long)fx_trade_recent(s, 0)->id, (unsigned long long)fx_trade_recent(s, n - 1)->id);
    fx_http_reply(c, 200, headers, b.data, b.len);
    fx_buf_free(&b);
}

static void rest(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    char id[64];
    long i = -1;
    if (product_path(req->path, "trades", id, sizeof id)) {
        i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, norm), id);
        if (i < 0) fx_http_reply_json(c, 404, json_pack("{s:s}", "message", "NotFound"));
        else rest_trades(c, req, i);
        return;
    }
    if (product_path(req->path, "ticker", id, sizeof id))
        i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, norm), id);
    if (i < 0) {
        fx_http_reply_json(c, 404, json_pack("{s:s}", "message", "NotFound"));
        return;
    }
    const struct fx_symbol *s = &v->syms[i];
    struct fx_quote_text q;
    char vol[FX_NUM_MAX], size[FX_NUM_MAX], time[40];
    quote_text(s, &q);
    fx_fmt_fixed(vol, s->volume, 8);
    fx_fmt_fixed(size, s->last_qty, 8);
    fx_fmt_rfc3339(time, s->ts_us, 6);
    fx_http_reply_json(c, 200,
                       json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "ask", q.ask, "bid", q.bid, "volume", vol,
                                 "trade_id", (json_int_t)s->trade_id, "price", q.last, "size", size, "time", time));
}

static void rest_limited(struct fx_conn *c, int status) {
    fx_http_reply_json(c, status, json_pack("{s:s}", "message", "Public rate limit exceeded"));
}

static int ws_open(struct fx_conn *c, const struct fx_http_req *req) {
    (void)c;
    return strcmp(req->path, "/") == 0 ? 0 : 404;
}

static void ws_error(struct fx_conn *c, const char *message, const char *reason) {
    fx_ws_json(c, json_pack("{s:s, s:s, s:s}", "type", "error", "message", message, "reason", reason));
}

static uint8_t channel_bit(const char *name) {
    if (!name) return 0;
    if (strcmp(name, "ticker") == 0) return FX_SUB_DATA;
    if (strcmp(name, "heartbeat") == 0) return FX_SUB_HEARTBEAT;
    if (strcmp(name, "matches") == 0) return FX_SUB_TRADE;
    if (strcmp(name, "level2_batch") == 0) return FX_SUB_BOOK;
    return 0;
}

/* Checks every (channel, product) pair first: Coinbase refuses the whole message when one is invalid. */
static bool apply_channels(struct fx_conn *c, json_t *channels, json_t *products, bool subscribe, bool dry) {
    struct fx_venue *v = c->venue;
    size_t k, j;
    json_t *ch, *p;
    char reason[160];
    json_array_foreach(channels, k, ch) {
        const char *name = json_is_string(ch) ? json_string_value(ch) : json_string_value(json_object_get(ch, "name"));
        json_t *ids = json_is_object(ch) && json_object_get(ch, "product_ids") ? json_object_get(ch, "product_ids")
                                                                                : products;
        uint8_t bit = channel_bit(name);
        if (!bit) {
            snprintf(reason, sizeof reason, "%s is not a valid channel", name ? name : "(null)");
            ws_error(c, "Failed to subscribe", reason);
            return false;
        }
        json_array_foreach(ids, j, p) {
            long i = json_is_string(p)
                         ? fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, norm), json_string_value(p))
                         : -1;
            if (i < 0) {
                snprintf(reason, sizeof reason, "%s is not a valid product",
                         json_is_string(p) ? json_string_value(p) : "(null)");
                ws_error(c, "Failed to subscribe", reason);
                return false;
            }
            if (dry) continue;
            if (subscribe) c->subs[i] |= bit;
            else c->subs[i] &= (uint8_t)~bit;
        }
    }
    return true;
}

static void ack(struct fx_conn *c) {
    struct fx_venue *v = c->venue;
    json_t *channels = json_array();
    static const struct {
        const char *name;
        uint8_t bit;
    } chans[] = {{"ticker", FX_SUB_DATA},
                 {"matches", FX_SUB_TRADE},
                 {"level2_batch", FX_SUB_BOOK},
                 {"heartbeat", FX_SUB_HEARTBEAT}};
    c->subscribed = false;
    for (size_t k = 0; k < sizeof chans / sizeof *chans; k++) {
        json_t *ids = json_array();
        for (size_t i = 0; i < v->nsyms; i++)
            if (c->subs[i] & chans[k].bit) json_array_append_new(ids, json_string(v->syms[i].norm));
        if (json_array_size(ids)) {
            c->subscribed = true;
            json_array_append_new(channels, json_pack("{s:s, s:o}", "name", chans[k].name, "product_ids", ids));
        } else {
            json_decref(ids);
        }
    }
    fx_ws_json(c, json_pack("{s:s, s:o}", "type", "subscriptions", "channels", channels));
}

static void book_snapshot(struct fx_conn *c, size_t i);

static void ws_text(struct fx_conn *c, const char *msg, size_t len) {
    json_t *m = json_loadb(msg, len, 0, NULL);
    const char *type = json_string_value(json_object_get(m, "type"));
    json_t *channels = json_object_get(m, "channels"), *products = json_object_get(m, "product_ids");
    if (!type || (strcmp(type, "subscribe") != 0 && strcmp(type, "unsubscribe") != 0) || !json_is_array(channels)) {
        ws_error(c, "Failed to subscribe", m ? "type and channels are required" : "malformed JSON");
    } else {
        bool sub = type[0] == 's';
        if (apply_channels(c, channels, products, sub, true)) {
            struct fx_venue *v = c->venue;
            uint8_t *before = fx_xmalloc(v->nsyms ? v->nsyms : 1);
            memcpy(before, c->subs, v->nsyms);
            apply_channels(c, channels, products, sub, false);
            ack(c);
            for (size_t i = 0; i < v->nsyms; i++) /* the last trade of each product newly on matches */
                if ((c->subs[i] & FX_SUB_TRADE) && !(before[i] & FX_SUB_TRADE) && !c->muted) {
                    char out[FX_MSG_MAX];
                    fx_ws_text(c, out, trade_msg(v, i, 0, true, out));
                    v->trades_sent++;
                }
            for (size_t i = 0; i < v->nsyms; i++) { /* the book of each product newly on level2_batch */
                bool was = before[i] & FX_SUB_BOOK, is = c->subs[i] & FX_SUB_BOOK;
                if (is && !was) {
                    v->book_subscribes++;
                    if (!c->muted) book_snapshot(c, i);
                } else if (was && !is) {
                    v->book_unsubscribes++;
                }
            }
            free(before);
            if (c->subscribed) fx_venue_kick(v);
        }
    }
    json_decref(m);
}

static char *book_level(char *p, const struct fx_symbol *s, int64_t price, int64_t qty) {
    p += fx_fmt_fixed(p, price, s->dp);
    p = fx_put(p, "\",\"");
    p += fx_fmt_fixed(p, qty, 8);
    return p;
}

static void book_snapshot(struct fx_conn *c, size_t i) {
    struct fx_venue *v = c->venue;
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = fx_book_get(v, i);
    struct fx_buf out = {0};
    fx_buf_reserve(&out, 128 + ((size_t)b->n[0] + b->n[1]) * 64);
    char *p = fx_put(out.data, "{\"type\":\"snapshot\",\"product_id\":\"");
    p = fx_put(p, s->norm);
    for (int side = 0; side < 2; side++) {
        p = fx_put(p, side ? "],\"asks\":[" : "\",\"bids\":[");
        for (uint32_t k = 0; k < b->n[side]; k++) {
            p = fx_put(p, k ? ",[\"" : "[\"");
            p = book_level(p, s, b->lv[side][k].price, b->lv[side][k].qty);
            p = fx_put(p, "\"]");
        }
    }
    p = fx_put(p, "]}");
    out.len = (size_t)(p - out.data);
    fx_book_snapshot_sent(c, out.data, out.len);
    fx_buf_free(&out);
}

static void book_update(struct fx_venue *v, size_t i, int key, struct fx_buf *out) {
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = s->book;
    (void)key;
    fx_buf_reserve(out, 256 + (size_t)b->nbatch * 72);
    char *p = out->data + out->len;
    p = fx_put(p, "{\"type\":\"l2update\",\"product_id\":\"");
    p = fx_put(p, s->norm);
    p = fx_put(p, "\",\"changes\":[");
    for (uint32_t k = 0; k < b->nbatch; k++) {
        const struct fx_book_entry *e = &b->batch[k];
        p = fx_put(p, k ? "," : "");
        p = fx_put(p, e->side ? "[\"sell\",\"" : "[\"buy\",\"");
        p = book_level(p, s, e->price, e->qty);
        p = fx_put(p, "\"]");
    }
    p = fx_put(p, "],\"time\":\"");
    p += fx_fmt_rfc3339(p, clock_wall_us(), 6);
    p = fx_put(p, "\"}");
    out->len = (size_t)(p - out->data);
}

static void heartbeat(struct fx_conn *c) {
    struct fx_venue *v = c->venue;
    char msg[256], time[40];
    for (size_t i = 0; i < v->nsyms; i++) {
        if (!(c->subs[i] & FX_SUB_HEARTBEAT)) continue;
        const struct fx_symbol *s = &v->syms[i];
        fx_fmt_rfc3339(time, clock_wall_us(), 6);
        int n = snprintf(msg, sizeof msg,
                         "{\"type\":\"heartbeat\",\"sequence\":%llu,\"last_trade_id\":%llu,\"product_id\":\"%s\","
                         "\"time\":\"%s\"}",
                         (unsigned long long)s->seq, (unsigned long long)s->trade_id, s->norm, time);
        fx_ws_text(c, msg, (size_t)n);
    }
}

static void unknown(struct fx_conn *c) {
    fx_ws_literal(c, "{\"type\":\"fakex_unknown\",\"message\":\"a message type no client knows\"}");
}

/* GET /products: every product in the fields of the documentation's example (and trading_disabled, of its
 * schema): status online (trading_disabled when halted) or delisted; the quote increment is the price grid, the
 * base increment the size grid, each with 8 decimals. */
static int instruments(struct fx_venue *v, const struct fx_http_req *req, struct fx_buf *out) {
    (void)req;
    fx_buf_adds(out, "[");
    for (size_t i = 0; i < v->nsyms; i++) {
        const struct fx_symbol *s = &v->syms[i];
        char base[24], quote[24];
        fx_symbol_parts(s, base, quote);
        fx_buf_reserve(out, 600);
        char *p = out->data + out->len;
        p = fx_put(p, i ? ",{\"id\":\"" : "{\"id\":\"");
        p = fx_put(p, s->norm);
        p = fx_put(p, "\",\"base_currency\":\"");
        p = fx_put(p, base);
        p = fx_put(p, "\",\"quote_currency\":\"");
        p = fx_put(p, quote);
        p = fx_put(p, "\",\"quote_increment\":\"");
        p += fx_fmt_fixed(p, fx_tick_units(s), 8);
        p = fx_put(p, "\",\"base_increment\":\"");
        p += fx_fmt_fixed(p, fx_lot_units(s), 8);
        p = fx_put(p, "\",\"display_name\":\"");
        p = fx_put(p, base);
        p = fx_put(p, "/");
        p = fx_put(p, quote);
        p = fx_put(p, "\",\"min_market_funds\":\"1\",\"margin_enabled\":false,\"post_only\":false,\"limit_only\":false,"
                      "\"cancel_only\":false,\"status\":\"");
        p = fx_put(p, s->status == FX_DELISTED ? "delisted" : "online");
        p = fx_put(p, "\",\"status_message\":\"\",\"trading_disabled\":");
        p = fx_put(p, s->status == FX_TRADING ? "false,\"auction_mode\":false}" : "true,\"auction_mode\":false}");
        out->len = (size_t)(p - out->data);
    }
    fx_buf_adds(out, "]");
    return 200;
}

const struct fx_dialect fx_coinbase = {
    .name = "coinbase",
    .rest_limit = 10,
    .rest_window_ms = 1000,
    .ws_msg_limit = 100,
    .heartbeat_ms = 1000,
    .subscribe_within_ms = 5000,
    .announce_grace_ms = 1000,
    .rest = rest,
    .rest_limited = rest_limited,
    .ws_open = ws_open,
    .ws_text = ws_text,
    .tick_msg = tick_msg,
    .trade_msg = trade_msg,
    .trade_seq = true,
    .quote_text = quote_text,
    .heartbeat = heartbeat,
    .unknown = unknown,
    .instruments_path = "/products",
    .instruments_weight = 1,
    .instruments = instruments,
    .book_interval_ms = 50,
    .book_update = book_update,
};
