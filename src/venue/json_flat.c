/* json_flat.c -- a strict, allocation-free reader for the shallow shapes market-data frames have: objects and
 * arrays nested a few levels deep ({"stream":..,"data":{..}}, {"arg":{..},"data":[{..}]}) holding plain
 * strings and numbers.
 *
 * It is an accelerator, never a second opinion: it accepts only a subset of JSON that it can read exactly as
 * jansson would (no escapes, printable ASCII strings, no exponents, integers of at most 18 digits, no
 * duplicate keys, no literals, nothing after the closing brace), and says -1 for everything else, whereupon
 * the adapter parses the frame with jansson as before. So a frame is read once in the common case and at most
 * twice when it is unusual. Members are recorded in document order (a container before its children), each
 * pointing into the frame's own text. */
#include <string.h>

#include "adapter.h"

#define FLAT_DEPTH_MAX 4    /* containers inside the top object: data[{..}] is two, OKX bbo-tbt's levels four */
#define FLAT_NUMBER_MAX 63  /* longer number text is jansson's (and cannot overflow a double when shorter) */
#define FLAT_INT_DIGITS 18  /* an integer of 19 digits may not fit jansson's int64 */

struct flat_reader {
    const char *p, *end;
    struct venue_flat *out;
};

static void skip_ws(struct flat_reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static bool is_digit(const char *p, const char *end) { return p < end && *p >= '0' && *p <= '9'; }

/* Bytes a string may hold as they are: printable ASCII but the quote and the backslash. A table lookup per
 * byte instead of four comparisons: strings are most of a frame's bytes. */
static const bool plain_byte[256] = {
    [' ' ... '!'] = true, /* then '"' */
    ['#' ... '['] = true, /* then '\\' */
    [']' ... '~'] = true,
};

/* A string without escapes or control or non-ASCII bytes; on return r->p is past the closing quote. */
static int read_string(struct flat_reader *r, const char **s, size_t *len) {
    if (r->p >= r->end || *r->p != '"') return -1;
    const char *start = ++r->p, *p = start, *end = r->end;
    while (p < end && plain_byte[(unsigned char)*p]) p++;
    if (p >= end || *p != '"') return -1; /* the end, or a byte needing jansson */
    *s = start;
    *len = (size_t)(p - start);
    r->p = p + 1;
    return 0;
}

/* Whether member m is named key. Most keys are a letter or two (Binance's "b", "B", "a"): the first byte
 * settles nearly every mismatch without a call to memcmp. */
static inline bool key_is(const struct venue_flat_member *m, const char *key, size_t len) {
    return m->key_len == len && m->key && (len == 0 || m->key[0] == key[0]) && memcmp(m->key, key, len) == 0;
}

/* JSON's number grammar without the exponent: -?(0|[1-9][0-9]*)(.[0-9]+)?. An unsigned integer is UINT
 * (its value in num), anything else NUMBER; both keep their text in str/len. */
static int read_number(struct flat_reader *r, struct venue_flat_member *m) {
    const char *start = r->p, *end = r->end;
    bool neg = r->p < end && *r->p == '-';
    if (neg) r->p++;
    const char *int_start = r->p;
    uint64_t n = 0;
    while (is_digit(r->p, end)) n = n * 10 + (uint64_t)(*r->p++ - '0');
    size_t int_digits = (size_t)(r->p - int_start);
    if (int_digits == 0 || (int_digits > 1 && *int_start == '0')) return -1;
    bool fraction = r->p < end && *r->p == '.';
    if (fraction) {
        r->p++;
        if (!is_digit(r->p, end)) return -1;
        while (is_digit(r->p, end)) r->p++;
    }
    if (r->p < end && (*r->p == 'e' || *r->p == 'E')) return -1;
    if (!fraction && int_digits > FLAT_INT_DIGITS) return -1;
    m->str = start;
    m->len = (size_t)(r->p - start);
    if (m->len > FLAT_NUMBER_MAX) return -1;
    m->type = neg || fraction ? VENUE_FLAT_NUMBER : VENUE_FLAT_UINT;
    m->num = m->type == VENUE_FLAT_UINT ? n : 0;
    return 0;
}

static bool key_taken(const struct venue_flat *f, int parent, const char *key, size_t len) {
    for (size_t i = (size_t)(parent + 1); i < f->n; i++)
        if (f->m[i].parent == parent && key_is(&f->m[i], key, len)) return true;
    return false;
}

static int read_container(struct flat_reader *r, int self, int depth);

/* One value, recorded as a new member (key NULL for an array element). */
static int read_value(struct flat_reader *r, int parent, const char *key, size_t key_len, int depth) {
    if (r->out->n == r->out->cap || r->p >= r->end) return -1;
    int self = (int)r->out->n++;
    struct venue_flat_member *m = &r->out->m[self];
    *m = (struct venue_flat_member){.key = key, .key_len = key_len, .parent = parent, .end = self + 1};
    char c = *r->p;
    if (c == '"') {
        m->type = VENUE_FLAT_STRING;
        return read_string(r, &m->str, &m->len);
    }
    if (c == '{' || c == '[') {
        if (depth >= FLAT_DEPTH_MAX) return -1;
        m->type = c == '{' ? VENUE_FLAT_OBJECT : VENUE_FLAT_ARRAY;
        return read_container(r, self, depth + 1);
    }
    return read_number(r, m);
}

/* The object or array at r->p, whose own member is `self` (-1 for the top object). */
static int read_container(struct flat_reader *r, int self, int depth) {
    bool object = *r->p == '{';
    char close = object ? '}' : ']';
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        skip_ws(r);
        if (object) {
            if (read_string(r, &key, &key_len) < 0) return -1;
            skip_ws(r);
            if (r->p >= r->end || *r->p++ != ':') return -1;
            skip_ws(r);
            if (key_taken(r->out, self, key, key_len)) return -1;
        }
        if (read_value(r, self, key, key_len, depth) < 0) return -1;
        skip_ws(r);
        if (r->p >= r->end) return -1;
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p++ != close) return -1;
        if (self >= 0) r->out->m[self].end = (int)r->out->n;
        return 0;
    }
}

int venue_flat_parse(const char *text, size_t len, struct venue_flat *out) {
    return venue_flat_parse_in(text, len, out->own, VENUE_FLAT_MAX, out);
}

int venue_flat_parse_in(const char *text, size_t len, struct venue_flat_member *m, size_t cap,
                        struct venue_flat *out) {
    struct flat_reader r = {.p = text, .end = text + len, .out = out};
    out->m = m;
    out->cap = cap;
    out->n = 0;
    skip_ws(&r);
    if (r.p >= r.end || *r.p != '{' || read_container(&r, -1, 0) < 0) return -1;
    skip_ws(&r);
    return r.p == r.end ? 0 : -1;
}

/* Where the members inside `parent` (-1: the top) end: a lookup scans its children's members, not the frame's
 * rest, so the lookups of a message of many items or levels cost what their own members do. */
static size_t end_of(const struct venue_flat *f, int parent) {
    return parent < 0 ? f->n : (size_t)f->m[parent].end;
}

const struct venue_flat_member *venue_flat_find(const struct venue_flat *f, int parent, const char *key, size_t len) {
    for (size_t i = (size_t)(parent + 1), end = end_of(f, parent); i < end; i++)
        if (f->m[i].parent == parent && key_is(&f->m[i], key, len)) return &f->m[i];
    return NULL;
}

int venue_flat_next(const struct venue_flat *f, int parent, int after) {
    for (size_t i = (size_t)(after < parent ? parent : after) + 1, end = end_of(f, parent); i < end; i++)
        if (f->m[i].parent == parent) return (int)i;
    return -1;
}

bool venue_flat_is(const struct venue_flat_member *m, const char *lit) {
    size_t len = strlen(lit);
    return m && m->type == VENUE_FLAT_STRING && m->len == len && memcmp(m->str, lit, len) == 0;
}

int venue_flat_decimal(const struct venue_flat *f, int parent, const char *key, char dst[TICK_DECIMAL_MAX]) {
    const struct venue_flat_member *m = venue_flat_get(f, parent, key);
    return m && m->type == VENUE_FLAT_STRING ? venue_copy_decimal_span(dst, m->str, m->len) : -1;
}

int venue_flat_claim(const struct venue_flat_member *name, const struct venue_symbols *s, struct venue_out *out,
                     struct tick **t) {
    if (!name || name->type != VENUE_FLAT_STRING) return -1;
    int index = venue_symbols_find(s, name->str, name->len);
    if (index < 0) {
        out->unmapped++;
        return 0;
    }
    *t = venue_out_add(out, s, index, TICK_ORIGIN_STREAM);
    return *t ? 1 : 0;
}

int venue_flat_each(const struct venue_flat *f, const struct venue_flat_member *array, venue_flat_item_fn *fn,
                    const struct venue_symbols *s, struct venue_out *out) {
    if (!array || array->type != VENUE_FLAT_ARRAY) return VENUE_FAST_DECLINED;
    struct venue_out_mark mark = venue_out_mark(out);
    int at = (int)(array - f->m);
    for (int item = venue_flat_next(f, at, at); item >= 0; item = venue_flat_next(f, at, item)) {
        if (fn(f, item, s, out) < 0) {
            venue_out_rewind(out, &mark);
            return VENUE_FAST_DECLINED;
        }
    }
    return VENUE_MSG_TICKS;
}
