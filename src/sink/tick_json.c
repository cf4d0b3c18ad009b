/* tick_json.c -- what both sinks share: tick validation, the JSON body, text appenders, the reconnect
 * backoff. See sink.h. And the one writer of a book's levels as JSON, with the check of a book before it is
 * written (declared in redis_sink.h and amqp_sink.h alike for now).
 *
 * Hot path: every accepted tick is checked and (for RabbitMQ) turned into JSON, so the checks read a static
 * class table (strspn builds its table on every call) and the JSON is appended by hand (no snprintf). */
#include "tickd/sink.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tickd/amqp_sink.h" /* the book writers are declared there and in redis_sink.h alike */
#include "tickd/decimal.h"
#include "tickd/redis_sink.h"

enum char_class { CLASS_VENUE = 1, CLASS_SYMBOL = 2 };

#define DIGITS_CLASS (CLASS_VENUE | CLASS_SYMBOL)

/* venue [a-z0-9_-], symbol [A-Z0-9._-] */
static const unsigned char char_classes[256] = {
    ['0' ... '9'] = DIGITS_CLASS,
    ['a' ... 'z'] = CLASS_VENUE,
    ['A' ... 'Z'] = CLASS_SYMBOL,
    ['_'] = CLASS_VENUE | CLASS_SYMBOL,
    ['-'] = CLASS_VENUE | CLASS_SYMBOL,
    ['.'] = CLASS_SYMBOL,
};

/* NUL-terminated within size, non-empty unless may_be_empty, every byte of the class. */
static bool field_ok(const char *s, size_t size, unsigned cls, bool may_be_empty) {
    size_t i = 0;
    for (; i < size && s[i]; i++)
        if (!(char_classes[(unsigned char)s[i]] & cls)) return false;
    return i < size && (i > 0 || may_be_empty);
}

bool sink_venue_ok(const char *s, size_t size) {
    return field_ok(s, size, CLASS_VENUE, false);
}

bool sink_symbol_ok(const char *s, size_t size) {
    return field_ok(s, size, CLASS_SYMBOL, false);
}

bool sink_decimal_ok(const char *s, size_t size) {
    const char *end = memchr(s, '\0', size);
    return end && (end == s || decimal_span_valid(s, (size_t)(end - s)));
}

const char *sink_instrument_invalid(const struct tick *t) {
    if (!sink_venue_ok(t->venue, sizeof t->venue)) return "bad venue";
    if (!sink_symbol_ok(t->symbol, sizeof t->symbol)) return "bad symbol";
    if (t->origin != TICK_ORIGIN_STREAM && t->origin != TICK_ORIGIN_REST) return "bad origin";
    return NULL;
}

const char *sink_tick_invalid(const struct tick *t) {
    const char *why = sink_instrument_invalid(t);
    if (why) return why;
    const char *decimals[] = {t->bid, t->bid_qty, t->ask, t->ask_qty, t->last};
    for (size_t i = 0; i < sizeof decimals / sizeof decimals[0]; i++)
        if (!sink_decimal_ok(decimals[i], TICK_DECIMAL_MAX)) return "bad decimal";
    return NULL;
}

const char *sink_origin_name(enum tick_origin origin) {
    return origin == TICK_ORIGIN_REST ? "rest" : "stream";
}

/* ---- appenders ---- */

char *sink_put_i64(char *p, int64_t v) {
    if (v >= 0) return fmt_u64(p, (uint64_t)v);
    *p++ = '-';
    return fmt_u64(p, -(uint64_t)v); /* unsigned negation: exact for INT64_MIN too */
}

char *sink_put_mem(char *p, const void *s, size_t n) {
    memcpy(p, s, n);
    return p + n;
}

char *sink_put_field(char *p, const char *s, size_t size) {
    return sink_put_mem(p, s, strnlen(s, size));
}

#define PUT_LIT(p, lit) sink_put_mem(p, lit, sizeof lit - 1)

static char *put_json_string(char *p, const char *key_lit, size_t key_len, const char *s, size_t size) {
    p = sink_put_mem(p, key_lit, key_len);
    *p++ = '"';
    p = sink_put_field(p, s, size);
    *p++ = '"';
    return p;
}

#define PUT_JSON_STRING(p, key_lit, field) put_json_string(p, key_lit, sizeof key_lit - 1, field, sizeof field)

int sink_tick_json(const struct tick *t, char *out, size_t outlen) {
    /* Every string field passed sink_tick_invalid, so none needs escaping. Each is bounded by its array, so
     * the whole fits SINK_JSON_MAX (about 520 bytes at most); a smaller out is filled through a copy. */
    char tmp[SINK_JSON_MAX];
    char *start = outlen >= SINK_JSON_MAX ? out : tmp, *p = start;
    p = PUT_JSON_STRING(p, "{\"venue\":", t->venue);
    p = PUT_JSON_STRING(p, ",\"symbol\":", t->symbol);
    p = PUT_JSON_STRING(p, ",\"bid\":", t->bid);
    p = PUT_JSON_STRING(p, ",\"bid_qty\":", t->bid_qty);
    p = PUT_JSON_STRING(p, ",\"ask\":", t->ask);
    p = PUT_JSON_STRING(p, ",\"ask_qty\":", t->ask_qty);
    if (t->last[0]) p = PUT_JSON_STRING(p, ",\"last\":", t->last);
    else p = PUT_LIT(p, ",\"last\":null");
    p = sink_put_i64(PUT_LIT(p, ",\"event_us\":"), t->event_us);
    p = PUT_LIT(p, ",\"seq\":");
    p = t->has_seq ? fmt_u64(p, t->seq) : PUT_LIT(p, "null");
    p = sink_put_i64(PUT_LIT(p, ",\"recv_us\":"), t->recv_us);
    p = sink_put_i64(PUT_LIT(p, ",\"sent_us\":"), t->sent_us);
    p = PUT_LIT(p, ",\"origin\":\"");
    p = sink_put_mem(p, sink_origin_name(t->origin), t->origin == TICK_ORIGIN_REST ? 4 : 6);
    p = PUT_LIT(p, "\"}");
    size_t n = (size_t)(p - start);
    if (n >= outlen) return -1;
    if (start == tmp) memcpy(out, tmp, n);
    out[n] = '\0';
    return (int)n;
}

/* ---- trades ---- */

/* Printable ASCII but '"' and '\\': a trade id goes into a message id and a JSON string unescaped. */
static bool trade_id_ok(const char *s, size_t size) {
    size_t i = 0;
    for (; i < size && s[i]; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\') return false;
    return i < size && i > 0;
}

const char *sink_trade_invalid(const struct trade *t) {
    if (!sink_venue_ok(t->venue, sizeof t->venue)) return "bad venue";
    if (!sink_symbol_ok(t->symbol, sizeof t->symbol)) return "bad symbol";
    if (t->origin != TICK_ORIGIN_STREAM && t->origin != TICK_ORIGIN_REST) return "bad origin";
    if (!trade_id_ok(t->id, sizeof t->id)) return "bad trade id";
    if (!t->price[0] || !sink_decimal_ok(t->price, sizeof t->price)) return "bad price";
    if (!t->qty[0] || !sink_decimal_ok(t->qty, sizeof t->qty)) return "bad qty";
    return NULL;
}

int sink_trade_json(const struct trade *t, char *out, size_t outlen) {
    /* As sink_tick_json: the fields passed sink_trade_invalid, each bounded by its array (about 260 bytes). */
    char tmp[SINK_JSON_MAX];
    char *start = outlen >= SINK_JSON_MAX ? out : tmp, *p = start;
    p = PUT_JSON_STRING(p, "{\"venue\":", t->venue);
    p = PUT_JSON_STRING(p, ",\"symbol\":", t->symbol);
    p = PUT_JSON_STRING(p, ",\"id\":", t->id);
    p = PUT_JSON_STRING(p, ",\"price\":", t->price);
    p = PUT_JSON_STRING(p, ",\"qty\":", t->qty);
    p = PUT_LIT(p, ",\"side\":\"");
    const char *side = trade_side_name(t->side);
    p = sink_put_mem(p, side, strlen(side));
    p = sink_put_i64(PUT_LIT(p, "\",\"event_us\":"), t->event_us);
    p = sink_put_i64(PUT_LIT(p, ",\"recv_us\":"), t->recv_us);
    p = PUT_LIT(p, ",\"origin\":\"");
    p = sink_put_mem(p, sink_origin_name(t->origin), t->origin == TICK_ORIGIN_REST ? 4 : 6);
    p = PUT_LIT(p, "\"}");
    size_t n = (size_t)(p - start);
    if (n >= outlen) return -1;
    if (start == tmp) memcpy(out, tmp, n);
    out[n] = '\0';
    return (int)n;
}

const char *sink_instrument_change_invalid(const char *venue, const struct instrument *in, int change) {
    if (!venue || !sink_venue_ok(venue, TICK_VENUE_MAX)) return "bad venue";
    if (!in || !sink_symbol_ok(in->symbol, sizeof in->symbol)) return "bad symbol";
    if (change < INSTRUMENT_CHANGE_LISTED || change > INSTRUMENT_CHANGE_DELISTED) return "bad change";
    if (in->status > INSTRUMENT_DELISTED) return "bad status";
    return NULL;
}

/* ---- books ---- */

/* A level's text as book_set keeps it: a non-empty decimal, its NUL inside the level's array. */
static bool level_text_ok(const char *s) {
    return s[0] && sink_decimal_ok(s, BOOK_TEXT_MAX);
}

const char *sink_book_invalid(const struct book_view *v) {
    if (!v->venue || !sink_venue_ok(v->venue, TICK_VENUE_MAX)) return "bad venue";
    if (!v->symbol || !sink_symbol_ok(v->symbol, TICK_SYMBOL_MAX)) return "bad symbol";
    if ((unsigned)v->state > BOOK_STALE) return "bad state";
    if (v->depth > BOOK_DEPTH_MAX) return "bad depth";
    if (!v->book) return "no book";
    for (int side = BOOK_BID; side <= BOOK_ASK; side++) {
        const struct book_levels *l = &v->book->side[side];
        uint32_t n = l->n < v->depth ? l->n : v->depth;
        for (uint32_t i = 0; i < n; i++)
            if (!level_text_ok(l->lv[i].price) || !level_text_ok(l->lv[i].qty)) return "bad level";
    }
    return NULL;
}

char *sink_put_book_level(char *p, const char *price, const char *qty) {
    p = PUT_LIT(p, "[\"");
    p = sink_put_field(p, price, BOOK_TEXT_MAX);
    p = PUT_LIT(p, "\",\"");
    p = sink_put_field(p, qty, BOOK_TEXT_MAX);
    return PUT_LIT(p, "\"]");
}

char *sink_put_book_levels(char *p, const struct book_levels *side, unsigned depth) {
    uint32_t n = side->n < depth ? side->n : depth;
    *p++ = '[';
    for (uint32_t i = 0; i < n; i++) {
        if (i) *p++ = ',';
        p = sink_put_book_level(p, side->lv[i].price, side->lv[i].qty);
    }
    *p++ = ']';
    return p;
}
