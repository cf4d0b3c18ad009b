/* okx.c -- OKX v5: the public bbo-tbt channel for streams, the market ticker(s) REST endpoints for polls (bbo);
 * the public trades channel and the recent-trades REST endpoint (trades); the public books channel, 400 levels
 * with its sequence and CRC32 checksum (book).
 *
 * Instrument ids are the normalized names ("BTC-USDT"; derivatives keep their suffix, "BTC-USD-SWAP"). OKX
 * sends no heartbeats and closes a connection after 30 s without data, so a quiet connection sends the text
 * "ping" and expects "pong" (plain text, not JSON). Notice 64008 announces a disconnect 30 s ahead.
 *
 * Streams subscribe to bbo-tbt, not tickers: tickers is throttled to one push per 100 ms, while bbo-tbt pushes
 * the best level of each side within 10 ms of any change. Its items hold no instId (the arg names it) and no
 * last price (left unsent, so the merge keeps the last one it has). Its seqId is OKX's per-instrument sequence,
 * the same on every connection, so it orders the stream and makes the two connections of a make-before-break
 * agree; a push without one is ordered by its "ts" (ms), as tickers pushes are. tickers pushes are still
 * parsed (recorded traffic, and a subscription made by hand). */
#include <errno.h>
#include <string.h>

#include "adapter.h"
#include "instruments.h"
#include "tickd/crc32.h"
#include "tickd/decimal.h"

static int okx_names(const char *norm, struct venue_names_buf *out) {
    return venue_names_same(norm, 2, TICK_SYMBOL_MAX, out);
}

static int okx_ws_path(const struct venue_symbols *s, size_t first, size_t count, char *buf, size_t cap) {
    (void)s, (void)first, (void)count;
    return venue_fixed_path("/ws/v5/public", buf, cap);
}

static int okx_ws_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                            size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = {.head = "{\"op\":\"subscribe\",\"args\":[",
                                              .item_pre = "{\"channel\":\"bbo-tbt\",\"instId\":\"",
                                              .item_post = "\"}",
                                              .sep = ",",
                                              .tail = "]}"};
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* {"op":"unsubscribe","args":[{"channel":...,"instId":...},...]}: the subscribe's arguments under the other op. */
#define UNSUBSCRIBE_FMT(channel)                                                                              \
    {.head = "{\"op\":\"unsubscribe\",\"args\":[",                                                             \
     .item_pre = "{\"channel\":\"" channel "\",\"instId\":\"",                                                  \
     .item_post = "\"}",                                                                                      \
     .sep = ",",                                                                                              \
     .tail = "]}"}

static int okx_ws_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                              size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = UNSUBSCRIBE_FMT("bbo-tbt");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int okx_trades_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                  size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = UNSUBSCRIBE_FMT("trades");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int okx_trades_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = {.head = "{\"op\":\"subscribe\",\"args\":[",
                                              .item_pre = "{\"channel\":\"trades\",\"instId\":\"",
                                              .item_post = "\"}",
                                              .sep = ",",
                                              .tail = "]}"};
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* One ticker object, the same in pushes and REST answers. Returns 0 or -1 when malformed. */
static int ticker(const json_t *o, enum tick_origin origin, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    int index = venue_json_symbol(s, json_object_get(o, "instId"));
    if (index == -2) return -1;
    if (index == -1) {
        out->unmapped++;
        return 0;
    }
    struct tick *t = venue_out_add(out, s, index, origin);
    if (!t) return 0;
    int64_t event_us;
    if (venue_copy_decimal_str(t->bid, json_object_get(o, "bidPx")) ||
        venue_copy_decimal_str(t->bid_qty, json_object_get(o, "bidSz")) ||
        venue_copy_decimal_str(t->ask, json_object_get(o, "askPx")) ||
        venue_copy_decimal_str(t->ask_qty, json_object_get(o, "askSz")) ||
        venue_copy_decimal_str(t->last, json_object_get(o, "last")) ||
        venue_json_ms_text(json_object_get(o, "ts"), &event_us))
        return -1;
    venue_event_time(t, event_us, true);
    return 0;
}

static int tickers(const json_t *data, enum tick_origin origin, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_array(data)) return -1;
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        if (ticker(item, origin, s, out)) return -1;
    }
    return 0;
}

/* The best level [price, size, "0", orders] of one side of a bbo-tbt item; an empty side leaves both ""
 * (no price: the side is gone from the quote). 0 or -1. */
static int bbo_side(const json_t *levels, char px[TICK_DECIMAL_MAX], char sz[TICK_DECIMAL_MAX]) {
    if (!json_is_array(levels)) return -1;
    if (json_array_size(levels) == 0) return 0;
    json_t *level = json_array_get(levels, 0);
    if (!json_is_array(level)) return -1;
    return venue_copy_decimal_str(px, json_array_get(level, 0)) || venue_copy_decimal_str(sz, json_array_get(level, 1))
               ? -1
               : 0;
}

/* seqId orders the stream when it is a non-negative integer; otherwise (absent, or of another type) "ts" does. */
static void bbo_order(struct tick *t, int64_t event_us, bool numbered, uint64_t seq) {
    venue_event_time(t, event_us, !numbered);
    if (!numbered) return;
    t->seq = seq;
    t->has_seq = true;
}

/* One bbo-tbt item of instrument `inst` (the push's arg.instId). 0, or -1 when malformed. */
static int bbo(const json_t *o, const json_t *inst, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    int index = venue_json_symbol(s, inst);
    if (index == -2) return -1;
    if (index == -1) {
        out->unmapped++;
        return 0;
    }
    struct tick *t = venue_out_add(out, s, index, TICK_ORIGIN_STREAM);
    if (!t) return 0;
    int64_t event_us;
    if (bbo_side(json_object_get(o, "bids"), t->bid, t->bid_qty) ||
        bbo_side(json_object_get(o, "asks"), t->ask, t->ask_qty) ||
        venue_json_ms_text(json_object_get(o, "ts"), &event_us))
        return -1;
    uint64_t seq = 0;
    json_t *seq_id = json_object_get(o, "seqId");
    bool numbered = seq_id && venue_json_uint(seq_id, &seq) == 0;
    bbo_order(t, event_us, numbered, seq);
    return 0;
}

static int bbos(const json_t *data, const json_t *inst, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_array(data)) return -1;
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        if (bbo(item, inst, s, out)) return -1;
    }
    return 0;
}

static enum venue_msg event(const json_t *root, const char *ev, struct venue_out *out) {
    if (strcmp(ev, "subscribe") == 0) return VENUE_MSG_SUBSCRIBED;
    json_t *code = json_object_get(root, "code");
    if (strcmp(ev, "error") == 0) {
        venue_out_detail(out, json_object_get(root, "msg"));
        return VENUE_MSG_ERROR;
    }
    if (strcmp(ev, "notice") == 0) {
        venue_out_detail(out, json_object_get(root, "msg"));
        return venue_json_is(code, "64008") ? VENUE_MSG_PLANNED_CLOSE : VENUE_MSG_STATUS;
    }
    if (strcmp(ev, "channel-conn-count") == 0 || strcmp(ev, "unsubscribe") == 0) return VENUE_MSG_STATUS;
    return VENUE_MSG_UNKNOWN;
}

static enum venue_msg classify(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                               struct venue_out *out) {
    (void)req;
    if (!json_is_object(root)) return VENUE_MSG_MALFORMED;
    json_t *ev = json_object_get(root, "event");
    if (json_is_string(ev)) return event(root, json_string_value(ev), out);
    json_t *arg = json_object_get(root, "arg");
    if (!json_is_object(arg)) return VENUE_MSG_UNKNOWN;
    json_t *channel = json_object_get(arg, "channel"), *data = json_object_get(root, "data");
    int bad;
    if (venue_json_is(channel, "bbo-tbt")) bad = bbos(data, json_object_get(arg, "instId"), s, out);
    else if (venue_json_is(channel, "tickers")) bad = tickers(data, TICK_ORIGIN_STREAM, s, out);
    else return VENUE_MSG_UNKNOWN;
    return bad ? VENUE_MSG_MALFORMED : VENUE_MSG_TICKS;
}

/* One item of a trades push: {"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306",
 * "side":"buy","ts":"1630048897897","count":"3"}; side is the taker's, ts the trade time in ms. 0 or -1. */
static int trade_as(const json_t *o, enum tick_origin origin, const struct venue_symbols *s, struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    struct venue_trade_fields f;
    json_t *id = json_object_get(o, "tradeId");
    if (!json_is_string(id) || venue_json_trade_id(f.id, id) ||
        venue_copy_decimal_str(f.price, json_object_get(o, "px")) ||
        venue_copy_decimal_str(f.qty, json_object_get(o, "sz")) ||
        venue_json_side(json_object_get(o, "side"), false, &f.side) ||
        venue_json_ms_text(json_object_get(o, "ts"), &f.event_us))
        return -1;
    return venue_trade_put_as(out, s, json_object_get(o, "instId"), &f, origin);
}

static int trade(const json_t *o, const struct venue_symbols *s, struct venue_out *out) {
    return trade_as(o, TICK_ORIGIN_STREAM, s, out);
}

/* classify for the trades channel: events alike, pushes of the trades channel only. */
static enum venue_msg classify_trades(const json_t *root, const struct venue_request *req,
                                      const struct venue_symbols *s, struct venue_out *out) {
    (void)req;
    if (!json_is_object(root)) return VENUE_MSG_MALFORMED;
    json_t *ev = json_object_get(root, "event");
    if (json_is_string(ev)) return event(root, json_string_value(ev), out);
    json_t *arg = json_object_get(root, "arg");
    if (!json_is_object(arg) || !venue_json_is(json_object_get(arg, "channel"), "trades")) return VENUE_MSG_UNKNOWN;
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data)) return VENUE_MSG_MALFORMED;
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        if (trade(item, s, out)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg okx_trades_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                       struct venue_out *out) {
    if (len == 4 && memcmp(frame, "pong", 4) == 0) return VENUE_MSG_PONG;
    return venue_parse_trade_frame(frame, len, 0, classify_trades, s, out);
}

/* ticker()'s decisions for one element of a frame the flat reader took: 0, or -1 to decline the frame. */
static int fast_ticker(const struct venue_flat *f, int item, const struct venue_symbols *s, struct venue_out *out) {
    struct tick *t;
    if (f->m[item].type != VENUE_FLAT_OBJECT) return -1;
    int got = venue_flat_claim(venue_flat_get(f, item, "instId"), s, out, &t);
    if (got <= 0) return got;
    const struct venue_flat_member *ts = venue_flat_get(f, item, "ts");
    int64_t event_us;
    if (venue_flat_decimal(f, item, "bidPx", t->bid) || venue_flat_decimal(f, item, "bidSz", t->bid_qty) ||
        venue_flat_decimal(f, item, "askPx", t->ask) || venue_flat_decimal(f, item, "askSz", t->ask_qty) ||
        venue_flat_decimal(f, item, "last", t->last) || !ts || ts->type != VENUE_FLAT_STRING ||
        venue_ms_text(ts->str, ts->len, &event_us))
        return -1;
    venue_event_time(t, event_us, true);
    return 0;
}

/* bbo_side's decisions on a flat member: 0, or -1 to decline. */
static int fast_bbo_side(const struct venue_flat *f, int item, const char *key, char px[TICK_DECIMAL_MAX],
                         char sz[TICK_DECIMAL_MAX]) {
    const struct venue_flat_member *levels = venue_flat_get(f, item, key);
    if (!levels || levels->type != VENUE_FLAT_ARRAY) return -1;
    int at = (int)(levels - f->m), level = venue_flat_next(f, at, at);
    if (level < 0) return 0;
    if (f->m[level].type != VENUE_FLAT_ARRAY) return -1;
    int p = venue_flat_next(f, level, level), q = p < 0 ? -1 : venue_flat_next(f, level, p);
    if (q < 0 || f->m[p].type != VENUE_FLAT_STRING || f->m[q].type != VENUE_FLAT_STRING) return -1;
    return venue_copy_decimal_span(px, f->m[p].str, f->m[p].len) ||
                   venue_copy_decimal_span(sz, f->m[q].str, f->m[q].len)
               ? -1
               : 0;
}

/* bbo()'s decisions for one item of a frame the flat reader took: 0, or -1 to decline the frame. A seqId that
 * is not a plain unsigned integer (negative, a fraction, 19 digits and more) is left to jansson. */
static int fast_bbo(const struct venue_flat *f, int item, const struct venue_symbols *s, struct venue_out *out) {
    struct tick *t;
    if (f->m[item].type != VENUE_FLAT_OBJECT) return -1;
    const struct venue_flat_member *arg = venue_flat_get(f, -1, "arg");
    int got = venue_flat_claim(venue_flat_get(f, (int)(arg - f->m), "instId"), s, out, &t);
    if (got <= 0) return got;
    const struct venue_flat_member *ts = venue_flat_get(f, item, "ts"), *seq_id = venue_flat_get(f, item, "seqId");
    int64_t event_us;
    if (fast_bbo_side(f, item, "bids", t->bid, t->bid_qty) || fast_bbo_side(f, item, "asks", t->ask, t->ask_qty) ||
        !ts || ts->type != VENUE_FLAT_STRING || venue_ms_text(ts->str, ts->len, &event_us) ||
        (seq_id && seq_id->type == VENUE_FLAT_NUMBER))
        return -1;
    bool numbered = seq_id && seq_id->type == VENUE_FLAT_UINT;
    bbo_order(t, event_us, numbered, numbered ? seq_id->num : 0);
    return 0;
}

/* A bbo-tbt or tickers push, nearly every message, without a jansson tree: classify's decisions for it. Events
 * and everything else go to classify. */
static int fast_push(const char *frame, size_t len, const struct venue_symbols *s, struct venue_out *out) {
    struct venue_flat f;
    if (venue_flat_parse(frame, len, &f) < 0 || venue_flat_get(&f, -1, "event")) return VENUE_FAST_DECLINED;
    const struct venue_flat_member *arg = venue_flat_get(&f, -1, "arg");
    if (!arg || arg->type != VENUE_FLAT_OBJECT) return VENUE_FAST_DECLINED;
    const struct venue_flat_member *channel = venue_flat_get(&f, (int)(arg - f.m), "channel");
    const struct venue_flat_member *data = venue_flat_get(&f, -1, "data");
    if (venue_flat_is(channel, "bbo-tbt")) return venue_flat_each(&f, data, fast_bbo, s, out);
    if (venue_flat_is(channel, "tickers")) return venue_flat_each(&f, data, fast_ticker, s, out);
    return VENUE_FAST_DECLINED;
}

static enum venue_msg okx_ws_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                   struct venue_out *out) {
    if (len == 4 && memcmp(frame, "pong", 4) == 0) return VENUE_MSG_PONG;
    size_t mark = out->n;
    int kind = venue_fast_paths_on ? fast_push(frame, len, s, out) : VENUE_FAST_DECLINED;
    if (kind != VENUE_FAST_DECLINED) return (enum venue_msg)venue_out_checked(out, mark, kind);
    return venue_parse_frame(frame, len, 0, classify, s, out);
}

/* Spot pairs have two parts; their tickers come all at once from one call. */
static bool is_spot(const struct venue_symbol *sym) {
    return strchr(strchr(sym->norm, '-') + 1, '-') == NULL;
}

static int okx_rest_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    size_t spot = 0, n = 0;
    for (size_t i = 0; i < s->n; i++) spot += is_spot(&s->list[i]);
    for (size_t i = 0; i < s->n; i++) {
        if (spot >= 2 && is_spot(&s->list[i])) continue;
        if (n >= cap) return -ENOSPC;
        reqs[n].weight = 1;
        reqs[n].symbol = -1;
        if (venue_concat(reqs[n].path, sizeof reqs[n].path, "/api/v5/market/ticker?instId=", s->list[i].names.rest,
                         ""))
            return -ENOSPC;
        n++;
    }
    if (spot >= 2) {
        if (n >= cap) return -ENOSPC;
        reqs[n] = (struct venue_request){.path = "/api/v5/market/tickers?instType=SPOT", .weight = 1, .symbol = -1};
        n++;
    }
    return (int)n;
}

/* What a REST answer's "code" says: TICKS for "0" (the data decides), else the venue's error, its "msg" kept. */
static enum venue_msg answer_code(const json_t *root, struct venue_out *out) {
    json_t *code = json_object_get(root, "code");
    if (!json_is_string(code)) return VENUE_MSG_MALFORMED;
    if (venue_json_is(code, "0")) return VENUE_MSG_TICKS;
    venue_out_detail(out, json_object_get(root, "msg"));
    if (venue_json_is(code, "50011")) return VENUE_MSG_RATE_LIMITED;
    if (venue_json_is(code, "50001") || venue_json_is(code, "50013")) return VENUE_MSG_UNAVAILABLE;
    return VENUE_MSG_ERROR;
}

static enum venue_msg parse_rest(const json_t *root, const struct venue_request *req, const struct venue_symbols *s,
                                 struct venue_out *out) {
    (void)req;
    enum venue_msg kind = answer_code(root, out);
    if (kind != VENUE_MSG_TICKS) return kind;
    return tickers(json_object_get(root, "data"), TICK_ORIGIN_REST, s, out) ? VENUE_MSG_MALFORMED : VENUE_MSG_TICKS;
}

static enum venue_msg okx_rest_parse(const struct venue_request *req, int http_status, const char *body, size_t len,
                                     const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_answer(req, http_status, body, len, "msg", parse_rest, s, out);
}

/* Recent trades, one request per instrument: GET /api/v5/market/trades?instId=BTC-USDT&limit=100 (1 call). The
 * answer, newest first, holds the items of a trades push: {"code":"0","msg":"","data":[{"instId":..,"side":..,
 * "sz":..,"px":..,"tradeId":..,"ts":..}]}, each naming its instrument. */
static int okx_trades_plan(const struct venue_symbols *s, struct venue_request *reqs, size_t cap) {
    if (s->n > cap) return -ENOSPC;
    for (size_t i = 0; i < s->n; i++) {
        reqs[i].weight = 1;
        reqs[i].symbol = (int)i;
        if (venue_concat(reqs[i].path, sizeof reqs[i].path, "/api/v5/market/trades?instId=", s->list[i].names.rest,
                         "&limit=100"))
            return -ENOSPC;
    }
    return (int)s->n;
}

static enum venue_msg parse_rest_trades(const json_t *root, const struct venue_request *req,
                                        const struct venue_symbols *s, struct venue_out *out) {
    (void)req;
    enum venue_msg kind = answer_code(root, out);
    if (kind != VENUE_MSG_TICKS) return kind;
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data)) return VENUE_MSG_MALFORMED;
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        if (trade_as(item, TICK_ORIGIN_REST, s, out)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg okx_trades_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                            size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_trade_answer(req, http_status, body, len, "msg", parse_rest_trades, s, out);
}

/* ---- book ------------------------------------------------------------------------------------------------
 *
 * The books channel (v5 WebSocket -> Public channel -> Order book channel): 400 levels a side in the first push
 * ("action":"snapshot"), then every 100 ms the changes ("update"); a size of "0" removes a level. Each push holds
 * "seqId" and "prevSeqId" (the previous push's seqId; -1 on a snapshot; equal to seqId on the keep-alive push of a
 * book that did not change for about a minute) and "checksum": the CRC32, as a signed 32-bit integer, of the first
 * 25 bids and asks as "bidPx:bidSz:askPx:askSz:..." (a side that runs out adds nothing), over the texts as sent.
 * The documentation's checksum strings are exact; its snapshot example's checksum (-855196043) is not that of the
 * levels it shows. OKX's changelog (February 2026) announces that these channels stop sending the checksum and
 * the first snapshot (production: August 2026; a May 2026 notice: the checksum field stays, always 0, from June
 * 2026): a zero checksum is no checksum, and the sequence is what keeps a book in sync. So a book whose first push
 * is a diff is synced from the REST snapshot (below), as are resyncs. A seqId below its
 * prevSeqId is the venue's sequence reset (maintenance), not a gap; OKX advises fewer than 30 books channels a
 * connection. */

#define OKX_BOOK_LEVELS 400 /* what the books channel sends a side */
#define OKX_CHECKSUM_TOP 25

static uint32_t okx_book_levels(unsigned depth) {
    (void)depth;
    return OKX_BOOK_LEVELS;
}

static int okx_book_subscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                              size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = {.head = "{\"op\":\"subscribe\",\"args\":[",
                                              .item_pre = "{\"channel\":\"books\",\"instId\":\"",
                                              .item_post = "\"}",
                                              .sep = ",",
                                              .tail = "]}"};
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

static int okx_book_unsubscribe(const struct venue_symbols *s, size_t first, size_t count, unsigned id, char *buf,
                                size_t cap, size_t *next) {
    (void)id;
    static const struct venue_list_fmt fmt = UNSUBSCRIBE_FMT("books");
    return venue_join(s, first, count, &fmt, buf, venue_msg_cap(s, cap), next);
}

/* One side's levels [["price","size","0","orders"],...] appended to u (NULL: judged only): strings holding a
 * price above zero and a size not below (0 removes the level), which venue_book_change judges on the texts as
 * they are. 0 or -1. */
static int book_side(const json_t *levels, enum book_side side, struct book_update *u, struct venue_out *out) {
    if (!json_is_array(levels)) return -1;
    size_t i;
    json_t *level;
    json_array_foreach(levels, i, level) {
        json_t *p = json_array_get(level, 0), *q = json_array_get(level, 1);
        if (!json_is_array(level) || !json_is_string(p) || !json_is_string(q) ||
            venue_book_change(out, u, side, json_string_value(p), json_string_length(p), json_string_value(q),
                              json_string_length(q)))
            return -1;
    }
    return 0;
}

/* A push's sequence, checksum and time, as both readers of a books push put them (prev: -1 on a snapshot). */
static void book_item_stamp(struct book_update *u, uint64_t seq, int64_t prev, int64_t sum, int64_t event_us,
                            const struct venue_out *out) {
    u->seq = seq;
    u->has_seq = true;
    u->has_prev = prev >= 0;
    u->prev_seq = u->has_prev ? (uint64_t)prev : 0;
    u->has_first = u->has_prev; /* a REST snapshot bridges the diffs by Binance's rule (book.h) */
    u->first_seq = u->prev_seq + 1;
    u->checksum = (uint32_t)(int32_t)sum;
    u->has_checksum = u->checksum != 0; /* 0: OKX computes none any more */
    u->event_us = tick_event_time_bound(event_us, out->recv_us);
}

/* One item of a books push for instrument `inst` (the push's arg.instId). The item is judged whatever the
 * instrument, so a push is refused alike for every table. 0 or -1 (malformed). */
static int book_item(const json_t *o, enum book_update_kind kind, const json_t *inst, const struct venue_symbols *s,
                     struct venue_out *out) {
    if (!json_is_object(o)) return -1;
    int index = venue_json_symbol(s, inst);
    if (index == -2) return -1;
    int64_t event_us;
    uint64_t seq;
    json_t *prev = json_object_get(o, "prevSeqId"), *sum = json_object_get(o, "checksum");
    if (venue_json_ms_text(json_object_get(o, "ts"), &event_us) || venue_json_uint(json_object_get(o, "seqId"), &seq) ||
        !json_is_integer(prev) || json_integer_value(prev) < -1 ||
        (sum && (!json_is_integer(sum) || json_integer_value(sum) < INT32_MIN || json_integer_value(sum) > INT32_MAX)))
        return -1;
    struct book_update *u = venue_book_add(out, s, index, kind); /* NULL: unmapped or full, counted */
    if (book_side(json_object_get(o, "bids"), BOOK_BID, u, out) ||
        book_side(json_object_get(o, "asks"), BOOK_ASK, u, out))
        return -1;
    if (!u) return 0;
    book_item_stamp(u, seq, json_integer_value(prev), sum ? json_integer_value(sum) : 0, event_us, out);
    return 0;
}

/* classify for the book channel: events alike, pushes of the books channel only. */
static enum venue_msg classify_books(const json_t *root, const struct venue_request *req,
                                     const struct venue_symbols *s, struct venue_out *out) {
    (void)req;
    if (!json_is_object(root)) return VENUE_MSG_MALFORMED;
    json_t *ev = json_object_get(root, "event");
    if (json_is_string(ev)) return event(root, json_string_value(ev), out);
    json_t *arg = json_object_get(root, "arg");
    if (!json_is_object(arg) || !venue_json_is(json_object_get(arg, "channel"), "books")) return VENUE_MSG_UNKNOWN;
    json_t *action = json_object_get(root, "action"), *data = json_object_get(root, "data");
    enum book_update_kind kind;
    if (!json_is_string(action)) return VENUE_MSG_MALFORMED;
    if (venue_json_is(action, "snapshot")) kind = BOOK_UPDATE_SNAPSHOT;
    else if (venue_json_is(action, "update")) kind = BOOK_UPDATE_DELTA;
    else return VENUE_MSG_UNKNOWN;
    if (!json_is_array(data)) return VENUE_MSG_MALFORMED;
    json_t *inst = json_object_get(arg, "instId");
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        if (book_item(item, kind, inst, s, out)) return VENUE_MSG_MALFORMED;
    }
    return VENUE_MSG_TICKS;
}

/* ---- the books push without a jansson tree ----
 *
 * Nearly every message of the channel is a push; the flat reader takes it into members on the stack (five a
 * level: BOOK_FLAT_MAX holds about 200 levels) and the functions below make book_item's decisions in its order
 * on the same values. The reader's types are jansson's (strings, numbers, objects, arrays; it takes no literal),
 * so a test of a member's type decides as json_is_* does, and a number is an integer for jansson (flags 0)
 * exactly when its text has no fraction (the reader takes no exponent). Declined, out untouched, for jansson to
 * decide: what the reader does not take (escapes, literals, a 400-level snapshot beyond its members), an event,
 * and a push whose arg, channel, action or data is not a books push's. */
#define BOOK_FLAT_MAX 1024

/* A member holding what jansson reads as an integer: 0 with its value, or -1 (absent, not a number, or a
 * fraction: a real). The reader's integers have at most 18 digits, so they fit. */
static int flat_integer(const struct venue_flat_member *m, int64_t *v) {
    if (m && m->type == VENUE_FLAT_UINT) {
        *v = (int64_t)m->num;
        return 0;
    }
    if (!m || m->type != VENUE_FLAT_NUMBER || memchr(m->str, '.', m->len)) return -1;
    int64_t n = 0;
    for (size_t i = 1; i < m->len; i++) n = n * 10 + (m->str[i] - '0'); /* "-" and the digits */
    *v = -n;
    return 0;
}

/* book_side on a flat member. 0 or -1. */
static int fast_book_side(const struct venue_flat *f, const struct venue_flat_member *levels, enum book_side side,
                          struct book_update *u, struct venue_out *out) {
    if (!levels || levels->type != VENUE_FLAT_ARRAY) return -1;
    int at = (int)(levels - f->m);
    for (int level = venue_flat_next(f, at, at); level >= 0; level = venue_flat_next(f, at, level)) {
        int p = venue_flat_next(f, level, level), q = p < 0 ? -1 : venue_flat_next(f, level, p);
        if (f->m[level].type != VENUE_FLAT_ARRAY || q < 0 || f->m[p].type != VENUE_FLAT_STRING ||
            f->m[q].type != VENUE_FLAT_STRING ||
            venue_book_change(out, u, side, f->m[p].str, f->m[p].len, f->m[q].str, f->m[q].len))
            return -1;
    }
    return 0;
}

/* book_item on a flat item. 0 or -1 (malformed). */
static int fast_book_item(const struct venue_flat *f, int item, enum book_update_kind kind,
                          const struct venue_flat_member *inst, const struct venue_symbols *s, struct venue_out *out) {
    if (f->m[item].type != VENUE_FLAT_OBJECT || !inst || inst->type != VENUE_FLAT_STRING) return -1;
    int index = venue_symbols_find(s, inst->str, inst->len);
    const struct venue_flat_member *ts = venue_flat_get(f, item, "ts"), *sum_m = venue_flat_get(f, item, "checksum");
    int64_t event_us, seq, prev, sum = 0;
    if (!ts || ts->type != VENUE_FLAT_STRING || venue_ms_text(ts->str, ts->len, &event_us) ||
        flat_integer(venue_flat_get(f, item, "seqId"), &seq) || seq < 0 ||
        flat_integer(venue_flat_get(f, item, "prevSeqId"), &prev) || prev < -1 ||
        (sum_m && (flat_integer(sum_m, &sum) || sum < INT32_MIN || sum > INT32_MAX)))
        return -1;
    struct book_update *u = venue_book_add(out, s, index, kind); /* NULL: unmapped or full, counted */
    if (fast_book_side(f, venue_flat_get(f, item, "bids"), BOOK_BID, u, out) ||
        fast_book_side(f, venue_flat_get(f, item, "asks"), BOOK_ASK, u, out))
        return -1;
    if (!u) return 0;
    book_item_stamp(u, (uint64_t)seq, prev, sum, event_us, out);
    return 0;
}

/* classify_books' decisions for a books push the flat reader took, or VENUE_FAST_DECLINED. A push refused
 * keeps no update, as venue_parse_book_frame keeps none (the counts stay, as they do there). */
static int fast_books(const char *frame, size_t len, const struct venue_symbols *s, struct venue_out *out) {
    struct venue_flat_member members[BOOK_FLAT_MAX];
    struct venue_flat f;
    if (venue_flat_parse_in(frame, len, members, BOOK_FLAT_MAX, &f) < 0 || venue_flat_get(&f, -1, "event"))
        return VENUE_FAST_DECLINED;
    const struct venue_flat_member *arg = venue_flat_get(&f, -1, "arg"), *action = venue_flat_get(&f, -1, "action");
    const struct venue_flat_member *data = venue_flat_get(&f, -1, "data");
    if (!arg || arg->type != VENUE_FLAT_OBJECT || !data || data->type != VENUE_FLAT_ARRAY ||
        !venue_flat_is(venue_flat_get(&f, (int)(arg - f.m), "channel"), "books"))
        return VENUE_FAST_DECLINED;
    enum book_update_kind kind;
    if (venue_flat_is(action, "snapshot")) kind = BOOK_UPDATE_SNAPSHOT;
    else if (venue_flat_is(action, "update")) kind = BOOK_UPDATE_DELTA;
    else return VENUE_FAST_DECLINED;
    const struct venue_flat_member *inst = venue_flat_get(&f, (int)(arg - f.m), "instId");
    size_t books = out->n_books, changes = out->n_changes;
    int at = (int)(data - f.m);
    for (int item = venue_flat_next(&f, at, at); item >= 0; item = venue_flat_next(&f, at, item)) {
        if (fast_book_item(&f, item, kind, inst, s, out)) {
            out->n_books = books;
            out->n_changes = changes;
            return VENUE_MSG_MALFORMED;
        }
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg okx_book_parse(const char *frame, size_t len, const struct venue_symbols *s,
                                     struct venue_out *out) {
    if (len == 4 && memcmp(frame, "pong", 4) == 0) return VENUE_MSG_PONG;
    int kind = venue_fast_paths_on ? fast_books(frame, len, s, out) : VENUE_FAST_DECLINED;
    if (kind != VENUE_FAST_DECLINED) return (enum venue_msg)kind;
    return venue_parse_book_frame(frame, len, 0, classify_books, s, out);
}

/* The REST snapshot (v5 REST -> Market Data -> Get order book): GET /api/v5/market/books?instId=BTC-USDT&sz=400
 * (400 levels a side at most, what the books channel keeps) answers {"code":"0","msg":"","data":[{"asks":
 * [[px,sz,"0",orders],...],"bids":[...],"ts":"1629966436396","seqId":N}]}: the book as of seqId, which bridges the
 * diffs held meanwhile (book_sync.h). It names no instrument: it is the one asked for. The documentation's
 * example shows no seqId: such an answer cannot be bridged (has_seq false), and the stream task then resyncs by
 * resubscribing, which brings the stream's snapshot while OKX still sends one. */
static int okx_book_snapshot_request(const struct venue_symbols *s, int index, unsigned depth,
                                     struct venue_request *req) {
    (void)depth;
    if (index < 0 || (size_t)index >= s->n) return -EINVAL;
    req->weight = 1;
    req->symbol = index;
    return venue_concat(req->path, sizeof req->path, "/api/v5/market/books?instId=", s->list[index].names.rest,
                        "&sz=400")
               ? -ENOSPC
               : 0;
}

static enum venue_msg parse_book_answer(const json_t *root, const struct venue_request *req,
                                        const struct venue_symbols *s, struct venue_out *out) {
    enum venue_msg kind = answer_code(root, out);
    if (kind != VENUE_MSG_TICKS) return kind;
    json_t *data = json_object_get(root, "data"), *o = json_array_get(data, 0);
    int64_t event_us;
    uint64_t seq = 0;
    if (!json_is_array(data) || json_array_size(data) != 1 || !json_is_object(o) || req->symbol < 0 ||
        (size_t)req->symbol >= s->n || venue_json_ms_text(json_object_get(o, "ts"), &event_us))
        return VENUE_MSG_MALFORMED;
    json_t *seq_id = json_object_get(o, "seqId");
    if (seq_id && venue_json_uint(seq_id, &seq)) return VENUE_MSG_MALFORMED;
    size_t overflow = out->overflow;
    struct book_update *u = venue_book_add(out, s, req->symbol, BOOK_UPDATE_SNAPSHOT);
    if (book_side(json_object_get(o, "bids"), BOOK_BID, u, out) ||
        book_side(json_object_get(o, "asks"), BOOK_ASK, u, out)) {
        out->overflow = overflow;
        return VENUE_MSG_MALFORMED;
    }
    if (u) {
        u->seq = seq;
        u->has_seq = seq_id != NULL;
        u->event_us = tick_event_time_bound(event_us, out->recv_us);
    }
    return VENUE_MSG_TICKS;
}

static enum venue_msg okx_book_rest_parse(const struct venue_request *req, int http_status, const char *body,
                                          size_t len, const struct venue_symbols *s, struct venue_out *out) {
    return venue_parse_book_answer(req, http_status, body, len, "msg", parse_book_answer, s, out);
}

/* Appends "price:size" of one level at p, after a ':' unless it is the first, and returns the end. Each text is
 * copied whole (BOOK_TEXT_MAX bytes: two fixed moves instead of a call), the end then put after its own length:
 * the buffer keeps BOOK_TEXT_MAX bytes spare past the longest text. */
static char *checksum_level(char *p, bool first, const struct book_level *l) {
    if (!first) *p++ = ':';
    memcpy(p, l->price, BOOK_TEXT_MAX);
    p += strlen(l->price);
    *p++ = ':';
    memcpy(p, l->qty, BOOK_TEXT_MAX);
    return p + strlen(l->qty);
}

/* The first 25 levels a side, bid and ask in turn, over the texts as held (as sent): the whole text is written
 * out, then hashed at once. The venue's signed value is kept as its 32 bits (book_update.checksum), so the two
 * compare as they are. */
static int okx_book_checksum(const struct book *b, const struct book_precision *p, uint32_t *out) {
    (void)p;
    const struct book_levels *bids = &b->side[BOOK_BID], *asks = &b->side[BOOK_ASK];
    char text[2 * OKX_CHECKSUM_TOP * 2 * BOOK_TEXT_MAX + BOOK_TEXT_MAX]; /* ':' price ':' qty per level, spare */
    char *end = text;
    for (uint32_t i = 0; i < OKX_CHECKSUM_TOP; i++) {
        if (i < bids->n) end = checksum_level(end, end == text, &bids->lv[i]);
        if (i < asks->n) end = checksum_level(end, end == text, &asks->lv[i]);
    }
    *out = crc32_update(0, text, (size_t)(end - text));
    return 0;
}

static const struct venue_channel okx_channels[] = {
    {.name = "bbo",
     .ws_path = okx_ws_path,
     .ws_subscribe = okx_ws_subscribe,
     .ws_unsubscribe = okx_ws_unsubscribe,
     .ws_parse = okx_ws_parse,
     .rest_plan = okx_rest_plan,
     .rest_parse = okx_rest_parse},
    /* tradeId grows per instrument but may skip: a gap is no trade missed. */
    {.name = "trades",
     .kind = VENUE_EVENT_TRADE,
     .dense_ids = false,
     .ws_path = okx_ws_path,
     .ws_subscribe = okx_trades_subscribe,
     .ws_unsubscribe = okx_trades_unsubscribe,
     .ws_parse = okx_trades_parse,
     .rest_plan = okx_trades_plan,
     .rest_parse = okx_trades_rest_parse},
    /* The snapshot comes on subscribing while OKX still sends it; otherwise, and for every resync, from REST
     * (rest_parse reads the snapshots book_snapshot_request asks for). */
    {.name = "book",
     .kind = VENUE_EVENT_BOOK,
     .ws_path = okx_ws_path,
     .ws_subscribe = okx_book_subscribe,
     .ws_parse = okx_book_parse,
     .rest_parse = okx_book_rest_parse,
     .book_sync = VENUE_BOOK_STREAM_OR_REST,
     .book_snapshot_request = okx_book_snapshot_request,
     .ws_unsubscribe = okx_book_unsubscribe,
     .book_levels = okx_book_levels,
     .book_checksum = okx_book_checksum},
    {0},
};

/* ---- instruments: GET /api/v5/public/instruments?instType=SPOT -------------------------------------- */

/* Public Data -> Get instruments: every spot instrument in one call (20 requests per 2 s per IP and instrument
 * type). Instrument ids are tickd's names. An instrument announced but not yet open is listed as preopen with
 * its sizes "" until minutes before it opens; a delisted one is no longer listed. */
#define INSTRUMENTS_PATH "/api/v5/public/instruments?instType=SPOT"

/* live trades; suspend, preopen, test (can't be traded) and rebase match nothing now; expired is gone. */
static enum instrument_status instrument_state(const char *s) {
    if (strcmp(s, "live") == 0) return INSTRUMENT_TRADING;
    if (strcmp(s, "expired") == 0) return INSTRUMENT_DELISTED;
    return INSTRUMENT_HALTED;
}

/* One element of "data": {"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT","tickSz":"0.1",
 * "lotSz":"0.00000001","state":"live",...}. An instrument of another type is no spot instrument: skipped. */
static int instrument_item(struct jscan *s, struct instrument_list *out) {
    struct venue_instrument_text t;
    venue_instrument_text_init(&t);
    char type[VENUE_TEXT_MAX] = "";
    bool has_type = false, has_id = false, has_base = false, has_quote = false, has_tick = false, has_lot = false;
    bool has_state = false, long_type = false;
    struct jscan_str key;
    size_t i = 0;
    int r, rc = VENUE_INST_OK;
    while (rc == VENUE_INST_OK && (r = jscan_member(s, &i, &key)) > 0) {
        if (jscan_str_is(&key, "instType")) rc = venue_take_name(s, type, &long_type), has_type = true;
        else if (jscan_str_is(&key, "instId")) rc = venue_take_name(s, t.venue_symbol, &t.unnamed), has_id = true;
        else if (jscan_str_is(&key, "baseCcy")) rc = venue_take_name(s, t.base, &t.unnamed), has_base = true;
        else if (jscan_str_is(&key, "quoteCcy")) rc = venue_take_name(s, t.quote, &t.unnamed), has_quote = true;
        else if (jscan_str_is(&key, "tickSz")) rc = venue_take_value(s, t.tick_size), has_tick = true;
        else if (jscan_str_is(&key, "lotSz")) rc = venue_take_value(s, t.lot_size), has_lot = true;
        else if (jscan_str_is(&key, "state")) rc = venue_take_value(s, t.venue_status), has_state = true;
        else rc = jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
    }
    if (rc != VENUE_INST_OK) return rc;
    if (r < 0 || !has_type || !has_id || !has_base || !has_quote || !has_tick || !has_lot || !has_state)
        return VENUE_INST_MALFORMED;
    if (strcmp(type, "SPOT") != 0) t.unnamed = true;
    if (!venue_instrument_split(t.venue_symbol, '-', t.base_norm, t.quote_norm)) t.unnamed = true;
    t.status = instrument_state(t.venue_status);
    return venue_instrument_put(out, &t);
}

/* {"code":"0","msg":"","data":[...]}; any other code is the venue's error, its msg the detail (50011 its rate
 * limit, 50001 and 50013 "busy"), as on the other endpoints. */
static enum venue_msg instruments_answer(struct jscan *s, struct instrument_list *out, char *detail) {
    char code[VENUE_TEXT_MAX] = "";
    bool has_code = false, has_data = false;
    struct jscan_str key, v;
    size_t i = 0, k;
    int r, e, rc = VENUE_INST_OK;
    while (rc == VENUE_INST_OK && (r = jscan_member(s, &i, &key)) > 0) {
        if (jscan_str_is(&key, "code")) {
            rc = venue_take_value(s, code), has_code = true;
        } else if (jscan_str_is(&key, "msg") && jscan_peek(s) == JSCAN_STRING) {
            if (jscan_string(s, &v) == 0) venue_instrument_detail(detail, &v);
        } else if (jscan_str_is(&key, "data")) {
            has_data = true;
            for (k = 0; rc == VENUE_INST_OK && (e = jscan_element(s, &k)) > 0;) rc = instrument_item(s, out);
            if (rc == VENUE_INST_OK && e < 0) rc = VENUE_INST_MALFORMED;
        } else {
            rc = jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
        }
    }
    if (rc != VENUE_INST_OK) return venue_instrument_failed(rc, detail);
    if (r < 0 || !has_code) return VENUE_MSG_MALFORMED;
    if (strcmp(code, "0") != 0) {
        if (strcmp(code, "50011") == 0) return VENUE_MSG_RATE_LIMITED;
        if (strcmp(code, "50001") == 0 || strcmp(code, "50013") == 0) return VENUE_MSG_UNAVAILABLE;
        return VENUE_MSG_ERROR;
    }
    return has_data ? VENUE_MSG_TICKS : VENUE_MSG_MALFORMED;
}

static enum venue_msg okx_instruments_parse(int http_status, const char *body, size_t len,
                                            struct instrument_list *out, char *detail) {
    return venue_instruments_answer(http_status, body, len, "msg", instruments_answer, out, detail);
}

static const struct venue_instruments okx_instruments = {
    .path = INSTRUMENTS_PATH,
    .weight = 1,
    .max_body = 64u << 20,
    .timeout_ms = 30000,
    .parse = okx_instruments_parse,
};

const struct venue_ops venue_okx = {
    .name = "okx",
    .defaults =
        {
            .rest_url = "https://www.okx.com",
            .ws_url = "wss://ws.okx.com:8443",
            .weight_per_minute = 600,
            .requests_per_second = 10,
            .ws_messages_per_second = 1,
            .ws_streams_per_connection = 100,
            /* 3 a second documented; 300 per 5 minutes keeps a reconnect storm slow within it */
            .connect = {{3, 1000, 100}, {300, 300000, 1000}},
            .used_weight_header = NULL,
        },
    .channels = okx_channels,
    .ws_max_symbols = 0,
    .ws_msg_max = 65536, /* the venue caps one request's arguments at 64 KB */
    .ping_text = "ping",
    .ping_idle_ms = 20000, /* under the server's 30 s idle cut */
    .stale_ms = 30000,
    .heartbeats = false,
    .names = okx_names,
    .instruments = &okx_instruments,
};
