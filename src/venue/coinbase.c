/* coinbase.c -- Coinbase Exchange: the ticker and heartbeat channels and the per-product REST ticker (bbo), the
 * matches channel and the product's recent trades over REST (trades), the level2_batch channel (book).
 *
 * Product ids are already normalized ("BTC-USD"). Every message carries a "type". The heartbeat channel
 * sends one message per second per product, so a silent feed is a dead one. The REST ticker answer does not
 * name its product: the request remembers which symbol it asked for. */
#include <errno.h>
#include <string.h>

#include "adapter.h"
#include "instruments.h"

static int coinbase_names(const char *norm, struct venue_names_buf *out) {
    return venue_names_same(norm, 2, 2, out);
}

static int coinbase_ws_path(const struct venue_symbols *s, size_t first, size_t count, char *buf, size_t cap) {
    (void)s, (void)first, (void)count;
    return venue_fixed_path("/", buf, cap);
}

/* The channel's feed and heartbeat (one a second per product: a silent feed is a dead one) for the products. */
#define SUBSCRIBE_FMT(feed)                                                                                   \
    {.head = "{\"type\":\"subscribe\",\"product_ids\":[",                                                     \
     .item_pre = "\"",                                                                                        \
     .item_post = "\"",                                                                                       \
     .sep = ",",                                                                                              \
     .tail = "],\"channels\":[\"" feed "\",\"heartbeat\"]}"}

/* The channel's feed alone: the heartbeat stays subscribed, so the connection's liveness is not in question while
 * a product is unsubscribed (a halted or delisted one; a book's resync). */
#define UNSUBSCRIBE_FMT(feed)                                                                                 \
    {.head = "{\"type\":\"unsubscribe\",\"product_ids\":[",                                                   \
     .item_pre = "\"",                                                                                        \
     .item_post = "\"",                                                                                       \
     .sep = ",",                                                                                              \
     .tail = "],\"channels\":[\"" feed "\"]}"}

static int coinbase_ws_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                 size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = SUBSCRIBE_FMT("ticker");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int coinbase_ws_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                   size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = UNSUBSCRIBE_FMT("ticker");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int coinbase_trades_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                     char *buf, size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = SUBSCRIBE_FMT("matches");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int coinbase_trades_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                       char *buf, size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = UNSUBSCRIBE_FMT("matches");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* Fills bid, ask, last and the time of a ticker (stream) or REST ticker object; the names differ. */
struct ticker_fields {
    const char *bid, *bid_qty, *ask, *ask_qty, *last;
};
static const struct ticker_fields ws_fields = {"best_bid", "best_bid_size", "best_ask", "best_ask_size", "price"};
static const struct ticker_fields rest_fields = {"bid", "bid_size", "ask", "ask_size", "price"};

/* An optional decimal: absent is fine, present must be a decimal string. */
static int optional_decimal(char dst[TICK_DECIMAL_MAX], const json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return v && !json_is_null(v) ? venue_copy_decimal_str(dst, v) : 0;
}

static int ticker_fields(const json_t *o, const struct ticker_fields *f, struct tick *t) {
    if (venue_copy_decimal_str(t->bid, json_object_get(o, f->bid)) ||
        venue_copy_decimal_str(t->ask, json_object_get(o, f->ask)) || optional_decimal(t->bid_qty, o, f->bid_qty) ||
        optional_decimal(t->ask_qty, o, f->ask_qty) || optional_decimal(t->last, o, f->last))
        return -1;
    json_t *time = json_object_get(o, "time");
    int64_t event_us;
    if (!time) return 0;
    if (venue_json_rfc3339(time, &event_us)) return -1;
    venue_event_time(t, event_us, false);
    return 0;
}

static enum venue_msg ws_ticker(const json_t *root, const struct venue_symbols *s, struct venue_out *out) {
    int index = venue_json_symbol(s, json_object_get(root, "product_id"));
    if (index == -2) return VENUE_MSG_MALFORMED;
    if (index == -1) {
        out->unmapped++;
        return VENUE_MSG_TICKS;
    }
    struct tick *t = venue_out_add(out, s, index, TICK_ORIGIN_STREAM);
    if (!t) return VENUE_MSG_TICKS;
    if (venue_json_uint(json_object_get(root, "sequence"), &t->seq) || ticker_fields(root, &ws_fields, t))
        return VENUE_MSG_MALFORMED;
    t->has_seq = true;
    return VENUE_MSG_TICKS;
}

/* The messages every channel's connection gets: heartbeats, subscription replies, status and errors. */
static enum venue_msg control(const json_t *root, const char *ty, struct venue_out *out) {
    if (strcmp(ty, "heartbeat") == 0) return VENUE_MSG_HEARTBEAT;
    if (strcmp(ty, "subscriptions") == 0) return VENUE_MSG_SUBSCRIBED;
    if (strcmp(ty, "status") == 0) return VENUE_MSG_STATUS;
    if (strcmp(ty, "error") == 0) {
        json_t *reason = json_object_get(root, "reason");
        venue_out_detail(out, reason ? reason : json_object_get(root, "message"));
        return VENUE_MSG_ERROR;
    }
    return VENUE_MSG_UNKNOWN;
}

static enum venue_msg classify(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                               struct venue_out *out) {
    (void)req;
    json_t *type = json_object_get(root, "type"); /* NULL unless root is an object */
    if (!json_is_string(type)) return VENUE_MSG_MALFORMED;
    const char *ty = json_string_value(type);
    if (strcmp(ty, "ticker") == 0) return ws_ticker(root, s, out);
    return control(root, ty, out);
}

/* A "match" of the matches channel, or the "last_match" sent once on subscribing (the product's latest trade):
 * {"type":"match","trade_id":10,"sequence":50,...,"time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD",
 * "size":"5.23512","price":"400.23","side":"sell"}. "side" is the MAKER's: the taker took the other side. */
static enum venue_msg ws_match(const json_t *root, const struct venue_symbols *s, struct venue_out *out) {
    struct venue_trade_fields f;
    json_t *id = json_object_get(root, "trade_id");
    if (!json_is_integer(id) || venue_json_trade_id(f.id, id) ||
        venue_copy_decimal_str(f.price, json_object_get(root, "price")) ||
        venue_copy_decimal_str(f.qty, json_object_get(root, "size")) ||
        venue_json_side(json_object_get(root, "side"), true, &f.side) ||
        venue_json_rfc3339(json_object_get(root, "time"), &f.event_us) ||
        venue_trade_put(out, s, json_object_get(root, "product_id"), &f))
        return VENUE_MSG_MALFORMED;
    return VENUE_MSG_TICKS;
}

static enum venue_msg classify_trades(const json_t *root, const struct venue_request *req,
                                      const struct venue_symbols *s, struct venue_out *out) {
    (void)req;
    json_t *type = json_object_get(root, "type");
    if (!json_is_string(type)) return VENUE_MSG_MALFORMED;
    const char *ty = json_string_value(type);
    if (strcmp(ty, "match") == 0 || strcmp(ty, "last_match") == 0) return ws_match(root, s, out);
    return control(root, ty, out);
}

static enum venue_msg coinbase_trades_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                            struct venue_out *out) {
    return venue_parse_trade_frame(frame, len, 0, classify_trades, s, out);
}

/* An optional member: absent is fine; present must be a decimal string (null is left to jansson). */
static int flat_optional_decimal(const struct venue_flat *f, const char *key, char dst[TICK_DECIMAL_MAX]) {
    return venue_flat_get(f, -1, key) ? venue_flat_decimal(f, -1, key, dst) : 0;
}

/* ws_ticker's decisions for a frame the flat reader took, in its order. */
static int fast_ticker(const struct venue_flat *f, const struct venue_symbols *s, struct venue_out *out) {
    struct venue_out_mark mark = venue_out_mark(out);
    struct tick *t;
    int got = venue_flat_claim(venue_flat_get(f, -1, "product_id"), s, out, &t);
    if (got <= 0) return got < 0 ? VENUE_FAST_DECLINED : VENUE_MSG_TICKS;
    const struct venue_flat_member *seq = venue_flat_get(f, -1, "sequence"), *time = venue_flat_get(f, -1, "time");
    int64_t event_us = 0;
    if (!seq || seq->type != VENUE_FLAT_UINT || venue_flat_decimal(f, -1, ws_fields.bid, t->bid) ||
        venue_flat_decimal(f, -1, ws_fields.ask, t->ask) || flat_optional_decimal(f, ws_fields.bid_qty, t->bid_qty) ||
        flat_optional_decimal(f, ws_fields.ask_qty, t->ask_qty) || flat_optional_decimal(f, ws_fields.last, t->last) ||
        (time && (time->type != VENUE_FLAT_STRING || venue_parse_rfc3339(time->str, time->len, &event_us)))) {
        venue_out_rewind(out, &mark);
        return VENUE_FAST_DECLINED;
    }
    if (time) venue_event_time(t, event_us, false);
    t->seq = seq->num;
    t->has_seq = true;
    return VENUE_MSG_TICKS;
}

/* Tickers and heartbeats, nearly every message, without a jansson tree; the rest goes to classify. */
static int fast_classify(const char *frame, size_t len, const struct venue_symbols *s, struct venue_out *out) {
    struct venue_flat f;
    if (venue_flat_parse(frame, len, &f) < 0) return VENUE_FAST_DECLINED;
    const struct venue_flat_member *type = venue_flat_get(&f, -1, "type");
    if (venue_flat_is(type, "ticker")) return fast_ticker(&f, s, out);
    if (venue_flat_is(type, "heartbeat")) return VENUE_MSG_HEARTBEAT;
    return VENUE_FAST_DECLINED;
}

static enum venue_msg coinbase_ws_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                        struct venue_out *out) {
    size_t mark = out->n;
    int kind = venue_fast_paths_on ? fast_classify(frame, len, s, out) : VENUE_FAST_DECLINED;
    if (kind != VENUE_FAST_DECLINED) return (enum venue_msg)venue_out_checked(out, mark, kind);
    return venue_parse_frame(frame, len, 0, classify, s, out);
}

static int coinbase_rest_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    if (s->n > cap) return -ENOSPC;
    for (size_t i = 0; i < s->n; i++) { /* the public API has no batch ticker: one call per product */
        reqs[i].weight = 1;
        reqs[i].symbol = (int)i;
        if (venue_concat(reqs[i].path, sizeof reqs[i].path, "/products/", s->list[i].names.rest, "/ticker"))
            return -ENOSPC;
    }
    return (int)s->n;
}

static enum venue_msg rest_ticker(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                  struct venue_out *out) {
    if (!json_is_object(root) || req->symbol < 0 || (size_t)req->symbol >= s->n) return VENUE_MSG_MALFORMED;
    struct tick *t = venue_out_add(out, s, req->symbol, TICK_ORIGIN_REST);
    return t && ticker_fields(root, &rest_fields, t) ? VENUE_MSG_MALFORMED : VENUE_MSG_TICKS;
}

static enum venue_msg coinbase_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                          size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_answer(req, http_status, body, len, "message", rest_ticker, s, out);
}

/* Recent trades, one request per product: GET /products/BTC-USD/trades?limit=100. The answer, newest first, does not
 * name its product: the request remembers it. */
static int coinbase_trades_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    if (s->n > cap) return -ENOSPC;
    for (size_t i = 0; i < s->n; i++) {
        reqs[i].weight = 1;
        reqs[i].symbol = (int)i;
        if (venue_concat(reqs[i].path, sizeof reqs[i].path, "/products/", s->list[i].names.rest, "/trades?limit=100"))
            return -ENOSPC;
    }
    return (int)s->n;
}

/* One element: {"time":"2020-03-20T00:36:59.860Z","trade_id":86327327,"price":"6225.32000000","size":"0.06469797",
 * "side":"sell"}; "side" is the maker's, as in a match: the taker took the other side. 0 or -1. */
static int rest_trade(const json_t *o, int index, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    struct venue_trade_fields f;
    json_t *id = json_object_get(o, "trade_id");
    if (!json_is_integer(id) || venue_json_trade_id(f.id, id) ||
        venue_copy_decimal_str(f.price, json_object_get(o, "price")) ||
        venue_copy_decimal_str(f.qty, json_object_get(o, "size")) ||
        venue_json_side(json_object_get(o, "side"), true, &f.side) ||
        venue_json_rfc3339(json_object_get(o, "time"), &f.event_us))
        return -1;
    return venue_trade_put_index(out, s, index, &f, TICK_ORIGIN_REST);
}

static enum venue_msg rest_trades(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                  struct venue_out *out) {
    json_t *message = json_object_get(root, "message"); /* {"message":"..."}: an error, whatever the status */
    if (json_is_object(root) && json_is_string(message)) {
        venue_out_detail(out, message);
        return strstr(json_string_value(message), "rate limit") ? VENUE_MSG_RATE_LIMITED : VENUE_MSG_ERROR;
    }
    if (!json_is_array(root) || req->symbol < 0 || (size_t)req->symbol >= s->n) return VENUE_MSG_MALFORMED;
    size_t i;
    json_t *item;
    json_array_foreach(root, i, item) {
        if (rest_trade(item, req->symbol, s, out)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg coinbase_trades_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                                 size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_trade_answer(req, http_status, body, len, "message", rest_trades, s, out);
}

/* ---- book: the level2_batch channel ---------------------------------------------------------------- */

/* level2_batch is level2 without authentication, its updates batched every 50 ms (same messages). The heartbeat
 * comes along as on the other channels: the book's updates pause while its market is quiet. */
static int coinbase_book_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                   size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = SUBSCRIBE_FMT("level2_batch");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* A resync unsubscribes the product's level2_batch and subscribes it again, and Coinbase answers the subscribe
 * with a fresh snapshot (the subscribe names the heartbeat again, which changes nothing). */
static int coinbase_book_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id,
                                     char *buf, size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = UNSUBSCRIBE_FMT("level2_batch");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* The whole book is sent, as deep as it is: the book keeps at most this many levels a side. */
static uint32_t coinbase_book_levels(unsigned depth) {
    (void)depth;
    return 5000;
}

/* One level's price and size (strings), appended to u (NULL: judged only). A price must be above zero: a book
 * holds no level at zero (book_set). A size of zero removes the level and is passed on as sent. 0 or -1. */
static int book_level(struct venue_out *out, struct book_update *u, enum book_side side, const json_t *price,
                      const json_t *size) {
    if (!json_is_string(price) || !json_is_string(size)) return -1;
    const char *p = json_string_value(price);
    size_t plen = json_string_length(price);
    if (strcspn(p, "123456789") >= plen) return -1; /* no digit but 0: a price of zero (or no number at all) */
    return venue_book_change(out, u, side, p, plen, json_string_value(size), json_string_length(size));
}

/* A snapshot side: [["10101.10","0.45054140"],...]. 0 or -1. */
static int snapshot_side(struct venue_out *out, struct book_update *u, enum book_side side, const json_t *levels) {
    if (!json_is_array(levels)) return -1;
    size_t i;
    json_t *level;
    json_array_foreach(levels, i, level) {
        if (book_level(out, u, side, json_array_get(level, 0), json_array_get(level, 1))) return -1;
    }
    return 0;
}

/* l2update changes: [["buy","22356.270000","0.00000000"],...], buy a bid and sell an ask. 0 or -1. */
static int update_changes(struct venue_out *out, struct book_update *u, const json_t *changes) {
    if (!json_is_array(changes)) return -1;
    size_t i;
    json_t *change;
    json_array_foreach(changes, i, change) {
        json_t *side = json_array_get(change, 0);
        bool buy = venue_json_is(side, "buy");
        if (!buy && !venue_json_is(side, "sell")) return -1;
        if (book_level(out, u, buy ? BOOK_BID : BOOK_ASK, json_array_get(change, 1), json_array_get(change, 2)))
            return -1;
    }
    return 0;
}

/* {"type":"snapshot","product_id":"BTC-USD","bids":[...],"asks":[...]}: the whole book, no sequence, no time.
 * {"type":"l2update","product_id":"BTC-USD","changes":[...],"time":"2022-08-04T15:25:05.010758Z"}: changes, the
 * time the engine recorded (of the batch's last one). Levels are judged whatever the table holds, so a message is
 * refused alike for a product not in it; a refused one leaves no count behind. */
static enum venue_msg ws_book(const json_t *root, bool snapshot, const struct venue_symbols *s,
                              struct venue_out *out) {
    int index = venue_json_symbol(s, json_object_get(root, "product_id"));
    int64_t event_us = 0;
    if (index == -2 || (!snapshot && venue_json_rfc3339(json_object_get(root, "time"), &event_us)))
        return VENUE_MSG_MALFORMED;
    size_t unmapped = out->unmapped, overflow = out->overflow;
    struct book_update *u = venue_book_add(out, s, index, snapshot ? BOOK_UPDATE_SNAPSHOT : BOOK_UPDATE_DELTA);
    int rc = snapshot ? snapshot_side(out, u, BOOK_BID, json_object_get(root, "bids")) ||
                            snapshot_side(out, u, BOOK_ASK, json_object_get(root, "asks"))
                      : update_changes(out, u, json_object_get(root, "changes"));
    if (rc) {
        out->unmapped = unmapped;
        out->overflow = overflow;
        return VENUE_MSG_MALFORMED;
    }
    if (u) u->event_us = tick_event_time_bound(event_us, out->recv_us);
    return VENUE_MSG_TICKS;
}

static enum venue_msg classify_book(const json_t *root, const struct venue_request *req,
                                    const struct venue_symbols *s, struct venue_out *out) {
    (void)req;
    json_t *type = json_object_get(root, "type");
    if (!json_is_string(type)) return VENUE_MSG_MALFORMED;
    const char *ty = json_string_value(type);
    if (strcmp(ty, "snapshot") == 0) return ws_book(root, true, s, out);
    if (strcmp(ty, "l2update") == 0) return ws_book(root, false, s, out);
    return control(root, ty, out);
}

static enum venue_msg coinbase_book_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                          struct venue_out *out) {
    return venue_parse_book_frame(frame, len, 0, classify_book, s, out);
}

static const struct venue_channel coinbase_channels[] = {
    {.name = "bbo",
     .ws_path = coinbase_ws_path,
     .ws_subscribe = coinbase_ws_subscribe,
     .ws_unsubscribe = coinbase_ws_unsubscribe,
     .ws_parse = coinbase_ws_parse,
     .rest_plan = coinbase_rest_plan,
     .rest_parse = coinbase_rest_parse},
    /* trade_id counts up by one per product. */
    {.name = "trades",
     .kind = VENUE_EVENT_TRADE,
     .dense_ids = true,
     .ws_path = coinbase_ws_path,
     .ws_subscribe = coinbase_trades_subscribe,
     .ws_unsubscribe = coinbase_trades_unsubscribe,
     .ws_parse = coinbase_trades_parse,
     .rest_plan = coinbase_trades_plan,
     .rest_parse = coinbase_trades_rest_parse},
    /* The stream sends the snapshot after each subscribe; a resync unsubscribes and subscribes the one product.
     * No sequence in the feed: a new connection is a new snapshot, and a crossed book a resync. */
    {.name = "book",
     .kind = VENUE_EVENT_BOOK,
     .ws_path = coinbase_ws_path,
     .ws_subscribe = coinbase_book_subscribe,
     .ws_parse = coinbase_book_parse,
     .book_sync = VENUE_BOOK_STREAM_SNAPSHOT,
     .book_levels = coinbase_book_levels,
     .ws_unsubscribe = coinbase_book_unsubscribe},
    {0},
};

/* ---- instruments: GET /products --------------------------------------------------------------------- */

/* Exchange REST API -> Products -> Get all known trading pairs: every product in one call, a public request (one of
 * the 8 a second). Product ids are tickd's names already. */
#define PRODUCTS_PATH "/products"

/* status is online, offline, internal or delisted; an online product with trading_disabled, cancel_only or
 * post_only (no order matches while post-only holds) matches nothing now; limit_only and auction_mode still match. */
static enum instrument_status product_status(const char *status, bool stopped) {
    if (strcmp(status, "delisted") == 0) return INSTRUMENT_DELISTED;
    if (strcmp(status, "online") == 0 && !stopped) return INSTRUMENT_TRADING;
    return INSTRUMENT_HALTED;
}

/* One product: {"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","quote_increment":"0.01000000",
 * "base_increment":"0.00000001",...,"post_only":false,"limit_only":false,"cancel_only":false,"status":"online",
 * "status_message":"","trading_disabled":false,...}: the price increment is the tick size, the base increment
 * the lot size. */
static int product(struct jscan *s, struct instrument_list *out) {
    struct venue_instrument_text t;
    venue_instrument_text_init(&t);
    bool has_id = false, has_base = false, has_quote = false, has_tick = false, has_lot = false, has_status = false;
    bool disabled = false, cancel_only = false, post_only = false;
    struct jscan_str key;
    size_t i = 0;
    int r, rc = VENUE_INST_OK;
    while (rc == VENUE_INST_OK && (r = jscan_member(s, &i, &key)) > 0) {
        if (jscan_str_is(&key, "id")) rc = venue_take_name(s, t.venue_symbol, &t.unnamed), has_id = true;
        else if (jscan_str_is(&key, "base_currency")) rc = venue_take_name(s, t.base, &t.unnamed), has_base = true;
        else if (jscan_str_is(&key, "quote_currency")) rc = venue_take_name(s, t.quote, &t.unnamed), has_quote = true;
        else if (jscan_str_is(&key, "quote_increment")) rc = venue_take_value(s, t.tick_size), has_tick = true;
        else if (jscan_str_is(&key, "base_increment")) rc = venue_take_value(s, t.lot_size), has_lot = true;
        else if (jscan_str_is(&key, "status")) rc = venue_take_value(s, t.venue_status), has_status = true;
        else if (jscan_str_is(&key, "trading_disabled")) rc = venue_take_flag(s, &disabled);
        else if (jscan_str_is(&key, "cancel_only")) rc = venue_take_flag(s, &cancel_only);
        else if (jscan_str_is(&key, "post_only")) rc = venue_take_flag(s, &post_only);
        else rc = jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
    }
    if (rc != VENUE_INST_OK) return rc;
    if (r < 0 || !has_id || !has_base || !has_quote || !has_tick || !has_lot || !has_status)
        return VENUE_INST_MALFORMED;
    if (!venue_instrument_split(t.venue_symbol, '-', t.base_norm, t.quote_norm)) t.unnamed = true;
    t.status = product_status(t.venue_status, disabled || cancel_only || post_only);
    return venue_instrument_put(out, &t);
}

/* An array of products; an error is an object {"message":"..."}. */
static enum venue_msg products(struct jscan *s, struct instrument_list *out, char *detail) {
    if (jscan_peek(s) == JSCAN_OBJECT) {
        struct jscan_str key, v;
        size_t i = 0;
        while (jscan_member(s, &i, &key) > 0) {
            if (jscan_str_is(&key, "message") && jscan_peek(s) == JSCAN_STRING && jscan_string(s, &v) == 0) {
                venue_instrument_detail(detail, &v);
                return VENUE_MSG_ERROR;
            }
            if (jscan_skip(s)) break;
        }
        return VENUE_MSG_MALFORMED;
    }
    size_t k = 0;
    int e, rc = VENUE_INST_OK;
    while (rc == VENUE_INST_OK && (e = jscan_element(s, &k)) > 0) rc = product(s, out);
    if (rc != VENUE_INST_OK) return venue_instrument_failed(rc, detail);
    return e < 0 ? VENUE_MSG_MALFORMED : VENUE_MSG_TICKS;
}

static enum venue_msg coinbase_instruments_parse(int http_status, const char *body, size_t len,
                                                 struct instrument_list *out, char *detail) {
    return venue_instruments_answer(http_status, body, len, "message", products, out, detail);
}

static const struct venue_instruments coinbase_instruments = {
    .path = PRODUCTS_PATH,
    .weight = 1,
    .max_body = 64u << 20,
    .timeout_ms = 30000,
    .parse = coinbase_instruments_parse,
};

const struct venue_ops venue_coinbase = {
    .name = "coinbase",
    .defaults =
        {
            .rest_url = "https://api.exchange.coinbase.com",
            .ws_url = "wss://ws-feed.exchange.coinbase.com",
            .weight_per_minute = 480,
            .requests_per_second = 8,
            .ws_messages_per_second = 100,
            .ws_streams_per_connection = 100,
            /* none documented: OKX's and Binance's together */
            .connect = {{3, 1000, 100}, {300, 300000, 1000}},
            .used_weight_header = NULL,
        },
    .channels = coinbase_channels,
    .ws_max_symbols = 0,
    .ws_msg_max = 65536,
    .ping_text = NULL,
    .ping_idle_ms = 0,
    .stale_ms = 5000, /* heartbeats come every second */
    .heartbeats = true,
    .names = coinbase_names,
    .instruments = &coinbase_instruments,
};
