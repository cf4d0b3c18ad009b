/* json_flat.c -- a strict, allocation-free reader for the one shape most market-data frames have: an object
 * of plain strings and unsigned integers, possibly holding one level of such objects ({"stream":..,"data":{..}}).
 *
 * It is an accelerator, never a second opinion: it accepts only a subset of JSON that it can read exactly as
 * jansson would (no escapes, printable ASCII strings, integers of at most 18 digits, no duplicate keys, nothing
 * after the closing brace), and says -1 for everything else, whereupon the adapter parses the frame with
 * jansson as before. So a frame is read once in the common case and at most twice when it is unusual. */
#include <string.h>

#include "adapter.h"

struct flat_reader {
    const char *p, *end;
    struct venue_flat *out;
};

static void skip_ws(struct flat_reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

/* A string without escapes or control or non-ASCII bytes; on return r->p is past the closing quote. */
static int read_string(struct flat_reader *r, const char **s, size_t *len) {
    if (r->p >= r->end || *r->p != '"') return -1;
    const char *start = ++r->p;
    while (r->p < r->end) {
        unsigned char c = (unsigned char)*r->p;
        if (c == '"') {
            *s = start;
            *len = (size_t)(r->p - start);
            r->p++;
            return 0;
        }
        if (c < 0x20 || c >= 0x7f || c == '\\') return -1;
        r->p++;
    }
    return -1;
}

static int read_uint(struct flat_reader *r, uint64_t *v) {
    const char *start = r->p;
    uint64_t n = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') n = n * 10 + (uint64_t)(*r->p++ - '0');
    size_t digits = (size_t)(r->p - start);
    if (digits == 0 || digits > 18 || (digits > 1 && *start == '0')) return -1;
    /* 1.5, 1e3 and the like are JSON reals: not ours. */
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E')) return -1;
    *v = n;
    return 0;
}

static bool key_taken(const struct venue_flat *f, int parent, const char *key, size_t len) {
    for (size_t i = 0; i < f->n; i++)
        if (f->m[i].parent == parent && f->m[i].key_len == len && memcmp(f->m[i].key, key, len) == 0) return true;
    return false;
}

static int read_object(struct flat_reader *r, int parent, int depth) {
    skip_ws(r);
    if (r->p >= r->end || *r->p != '{') return -1;
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        const char *key;
        size_t key_len;
        skip_ws(r);
        if (read_string(r, &key, &key_len) < 0) return -1;
        skip_ws(r);
        if (r->p >= r->end || *r->p++ != ':') return -1;
        skip_ws(r);
        if (r->out->n == VENUE_FLAT_MAX || key_taken(r->out, parent, key, key_len)) return -1;
        int self = (int)r->out->n++;
        struct venue_flat_member *m = &r->out->m[self];
        *m = (struct venue_flat_member){.key = key, .key_len = key_len, .parent = parent};
        if (r->p >= r->end) return -1;
        if (*r->p == '"') {
            m->type = VENUE_FLAT_STRING;
            if (read_string(r, &m->str, &m->len) < 0) return -1;
        } else if (*r->p == '{' && depth == 0) {
            m->type = VENUE_FLAT_OBJECT;
            if (read_object(r, self, depth + 1) < 0) return -1;
        } else {
            m->type = VENUE_FLAT_UINT;
            if (read_uint(r, &m->num) < 0) return -1;
        }
        skip_ws(r);
        if (r->p >= r->end) return -1;
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p++ != '}') return -1;
        return 0;
    }
}

int venue_flat_parse(const char *text, size_t len, struct venue_flat *out) {
    struct flat_reader r = {.p = text, .end = text + len, .out = out};
    out->n = 0;
    if (read_object(&r, -1, 0) < 0) return -1;
    skip_ws(&r);
    return r.p == r.end ? 0 : -1;
}

const struct venue_flat_member *venue_flat_get(const struct venue_flat *f, int parent, const char *key) {
    size_t len = strlen(key);
    for (size_t i = 0; i < f->n; i++)
        if (f->m[i].parent == parent && f->m[i].key_len == len && memcmp(f->m[i].key, key, len) == 0)
            return &f->m[i];
    return NULL;
}
