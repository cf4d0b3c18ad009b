/* json_scan.c -- a strict JSON reader in place, without a tree. See json_scan.h. */
#include "json_scan.h"

#include <string.h>

static int fail(struct jscan *s) {
    s->error = true;
    return -1;
}

static void skip_ws(struct jscan *s) {
    const char *p = s->p, *end = s->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    s->p = p;
}

void jscan_init(struct jscan *s, const char *text, size_t len) {
    s->p = text;
    s->end = text + len;
    s->error = false;
}

enum jscan_type jscan_peek(struct jscan *s) {
    if (s->error) return JSCAN_NONE;
    skip_ws(s);
    if (s->p >= s->end) return JSCAN_NONE;
    switch (*s->p) {
    case '{': return JSCAN_OBJECT;
    case '[': return JSCAN_ARRAY;
    case '"': return JSCAN_STRING;
    case 't': return JSCAN_TRUE;
    case 'f': return JSCAN_FALSE;
    case 'n': return JSCAN_NULL;
    case '-':
    case '0' ... '9': return JSCAN_NUMBER;
    default: return JSCAN_NONE;
    }
}

/* ---- strings ---- */

/* Bytes a string's plain run may hold: printable ASCII but '"' and '\\'. */
static const unsigned char plain[256] = {
    [0x20 ... 0x21] = 1, /* '"' is 0x22 */
    [0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
    [0x5d ... 0x7f] = 1,
};

static int hex4(const char *p, unsigned *v) {
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return -1;
        x = x << 4 | d;
    }
    *v = x;
    return 0;
}

/* The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF) of
 * two to four bytes at p, or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c == 0xe0) n = 3, lo = 0xa0;
    else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) n = 3;
    else if (c == 0xed) n = 3, hi = 0x9f;
    else if (c == 0xf0) n = 4, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3) n = 4;
    else if (c == 0xf4) n = 4, hi = 0x8f;
    else return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return n;
}

/* The string at s->p (its opening quote), checked; s->p after its closing quote. */
static int scan_string(struct jscan *s, struct jscan_str *out) {
    const unsigned char *p = (const unsigned char *)s->p + 1, *end = (const unsigned char *)s->end;
    const unsigned char *start = p;
    bool escaped = false;
    while (p < end) {
        while (p < end && plain[*p]) p++;
        if (p >= end) break;
        unsigned c = *p;
        if (c == '"') {
            out->p = (const char *)start;
            out->len = (size_t)(p - start);
            out->escaped = escaped;
            s->p = (const char *)p + 1;
            return 0;
        }
        if (c == '\\') {
            escaped = true;
            if (end - p < 2) break;
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't': p += 2; continue;
            case 'u': {
                unsigned u, lo;
                if (end - p < 6 || hex4((const char *)p + 2, &u) || u == 0 || (u >= 0xdc00 && u <= 0xdfff))
                    return fail(s);
                p += 6;
                if (u >= 0xd800 && u <= 0xdbff) { /* a high surrogate: its low one must follow */
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4((const char *)p + 2, &lo) || lo < 0xdc00 ||
                        lo > 0xdfff)
                        return fail(s);
                    p += 6;
                }
                continue;
            }
            default: return fail(s);
            }
        }
        if (c < 0x20) return fail(s);
        size_t n = utf8_seq(p, end);
        if (!n) return fail(s);
        p += n;
    }
    return fail(s); /* unterminated */
}

int jscan_string(struct jscan *s, struct jscan_str *out) {
    if (jscan_peek(s) != JSCAN_STRING) return fail(s);
    return scan_string(s, out);
}

static size_t utf8_put(char *dst, unsigned u) {
    if (u < 0x80) {
        dst[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        dst[0] = (char)(0xc0 | u >> 6);
        dst[1] = (char)(0x80 | (u & 0x3f));
        return 2;
    }
    if (u < 0x10000) {
        dst[0] = (char)(0xe0 | u >> 12);
        dst[1] = (char)(0x80 | (u >> 6 & 0x3f));
        dst[2] = (char)(0x80 | (u & 0x3f));
        return 3;
    }
    dst[0] = (char)(0xf0 | u >> 18);
    dst[1] = (char)(0x80 | (u >> 12 & 0x3f));
    dst[2] = (char)(0x80 | (u >> 6 & 0x3f));
    dst[3] = (char)(0x80 | (u & 0x3f));
    return 4;
}

int jscan_str_copy(const struct jscan_str *str, char *dst, size_t cap) {
    if (cap == 0) return -1;
    if (!str->escaped) {
        if (str->len >= cap) goto full;
        memcpy(dst, str->p, str->len);
        dst[str->len] = 0;
        return (int)str->len;
    }
    size_t o = 0;
    const char *p = str->p, *end = str->p + str->len;
    while (p < end) {
        if (*p != '\\') {
            if (o + 1 >= cap) goto full;
            dst[o++] = *p++;
            continue;
        }
        char e = p[1];
        p += 2;
        char c;
        switch (e) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            unsigned u = 0, lo = 0;
            hex4(p, &u); /* checked by scan_string */
            p += 4;
            if (u >= 0xd800 && u <= 0xdbff) {
                hex4(p + 2, &lo);
                p += 6;
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            }
            char buf[4];
            size_t n = utf8_put(buf, u);
            if (o + n >= cap) goto full;
            memcpy(dst + o, buf, n);
            o += n;
            continue;
        }
        default: c = e; /* '"', '\\', '/' */
        }
        if (o + 1 >= cap) goto full;
        dst[o++] = c;
    }
    dst[o] = 0;
    return (int)o;
full:
    dst[0] = 0;
    return -1;
}

bool jscan_str_is(const struct jscan_str *str, const char *lit) {
    size_t n = strlen(lit);
    if (!str->escaped) return str->len == n && memcmp(str->p, lit, n) == 0;
    char buf[64];
    return n < sizeof buf && jscan_str_copy(str, buf, sizeof buf) == (int)n && memcmp(buf, lit, n) == 0;
}

int jscan_text(struct jscan *s, char *dst, size_t cap) {
    struct jscan_str str;
    if (jscan_string(s, &str)) {
        if (cap) dst[0] = 0;
        return -1;
    }
    int n = jscan_str_copy(&str, dst, cap);
    return n < 0 ? -2 : n;
}

/* ---- numbers and literals ---- */

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* The number at s->p, checked (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?). */
static int scan_number(struct jscan *s, const char **text, size_t *len) {
    const char *p = s->p, *end = s->end;
    if (p < end && *p == '-') p++;
    if (p >= end || !digit(*p)) return fail(s);
    if (*p++ != '0')
        while (p < end && digit(*p)) p++;
    if (p < end && *p == '.') {
        if (++p >= end || !digit(*p)) return fail(s);
        while (p < end && digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !digit(*p)) return fail(s);
        while (p < end && digit(*p)) p++;
    }
    *text = s->p;
    *len = (size_t)(p - s->p);
    s->p = p;
    return 0;
}

static int scan_literal(struct jscan *s, const char *lit, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0) return fail(s);
    s->p += n;
    return 0;
}

int jscan_number(struct jscan *s, struct jscan_str *out) {
    if (jscan_peek(s) != JSCAN_NUMBER || scan_number(s, &out->p, &out->len)) return fail(s);
    out->escaped = false;
    return 0;
}

int jscan_bool(struct jscan *s, bool *v) {
    enum jscan_type t = jscan_peek(s);
    if (t != JSCAN_TRUE && t != JSCAN_FALSE) return fail(s);
    *v = t == JSCAN_TRUE;
    return t == JSCAN_TRUE ? scan_literal(s, "true", 4) : scan_literal(s, "false", 5);
}

int jscan_uint(struct jscan *s, uint64_t *v) {
    const char *text;
    size_t len;
    if (jscan_peek(s) != JSCAN_NUMBER || scan_number(s, &text, &len)) return fail(s);
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (!digit(text[i]) || x > (INT64_MAX - 9) / 10) return fail(s);
        x = x * 10 + (uint64_t)(text[i] - '0');
    }
    *v = x;
    return 0;
}

/* ---- containers ---- */

int jscan_member(struct jscan *s, size_t *i, struct jscan_str *key) {
    if (s->error) return -1;
    skip_ws(s);
    if (s->p >= s->end) return fail(s);
    if (*i == 0) {
        if (*s->p != '{') return fail(s);
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return 0;
        }
    } else {
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        if (*s->p != ',') return fail(s);
        s->p++;
        skip_ws(s);
    }
    if (s->p >= s->end || *s->p != '"' || scan_string(s, key)) return fail(s);
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':') return fail(s);
    s->p++;
    (*i)++;
    return 1;
}

int jscan_element(struct jscan *s, size_t *i) {
    if (s->error) return -1;
    skip_ws(s);
    if (s->p >= s->end) return fail(s);
    if (*i == 0) {
        if (*s->p != '[') return fail(s);
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return 0;
        }
    } else {
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        if (*s->p != ',') return fail(s);
        s->p++;
    }
    (*i)++;
    return 1;
}

static int skip_value(struct jscan *s, unsigned depth) {
    const char *text;
    size_t len, i = 0;
    struct jscan_str str;
    int r;
    switch (jscan_peek(s)) {
    case JSCAN_OBJECT:
        if (depth >= JSCAN_DEPTH_MAX) return fail(s);
        while ((r = jscan_member(s, &i, &str)) > 0)
            if (skip_value(s, depth + 1)) return -1;
        return r;
    case JSCAN_ARRAY:
        if (depth >= JSCAN_DEPTH_MAX) return fail(s);
        while ((r = jscan_element(s, &i)) > 0)
            if (skip_value(s, depth + 1)) return -1;
        return r;
    case JSCAN_STRING: return scan_string(s, &str);
    case JSCAN_NUMBER: return scan_number(s, &text, &len);
    case JSCAN_TRUE: return scan_literal(s, "true", 4);
    case JSCAN_FALSE: return scan_literal(s, "false", 5);
    case JSCAN_NULL: return scan_literal(s, "null", 4);
    default: return fail(s);
    }
}

int jscan_skip(struct jscan *s) { return skip_value(s, 0); }

bool jscan_end(struct jscan *s) {
    if (s->error) return false;
    skip_ws(s);
    return s->p == s->end;
}
