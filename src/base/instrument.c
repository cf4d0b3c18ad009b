/* instrument.c -- instrument lists: sorted arrays of fixed-size entries, their comparison, and one entry's
 * metadata as JSON. See instrument.h. */
#include "tickd/instrument.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/decimal.h"
#include "tickd/fmt.h"

const char *instrument_status_name(int status) {
    switch (status) {
    case INSTRUMENT_TRADING: return "trading";
    case INSTRUMENT_HALTED: return "halted";
    case INSTRUMENT_DELISTED: return "delisted";
    default: return "?";
    }
}

const char *instrument_change_name(int change) {
    switch (change) {
    case INSTRUMENT_CHANGE_LISTED: return "listed";
    case INSTRUMENT_CHANGE_STATUS: return "status";
    case INSTRUMENT_CHANGE_UPDATED: return "updated";
    case INSTRUMENT_CHANGE_DELISTED: return "delisted";
    default: return "?";
    }
}

/* strcmp within fields that may lack their NUL (a caller's hand-made entry): at most size bytes. */
static int field_cmp(const char *a, const char *b, size_t size) {
    return strncmp(a, b, size);
}

#define FIELD_CMP(a, b, f) field_cmp((a)->f, (b)->f, sizeof (a)->f)

bool instrument_equal(const struct instrument *a, const struct instrument *b) {
    return !FIELD_CMP(a, b, symbol) && !FIELD_CMP(a, b, venue_symbol) && !FIELD_CMP(a, b, base) &&
           !FIELD_CMP(a, b, quote) && !FIELD_CMP(a, b, venue_status) && !FIELD_CMP(a, b, tick_size) &&
           !FIELD_CMP(a, b, lot_size) && a->price_decimals == b->price_decimals &&
           a->size_decimals == b->size_decimals && a->status == b->status;
}

uint8_t instrument_decimals_of(const char *size) {
    if (!size || decimal_sign(size) != 1) return INSTRUMENT_DECIMALS_UNKNOWN; /* "", not a decimal, 0 or below */
    const char *point = strchr(size, '.');
    if (!point) return 0;
    size_t n = strlen(point + 1);
    while (n > 0 && point[n] == '0') n--; /* point[n] is the n-th decimal */
    return n > INSTRUMENT_DECIMALS_MAX ? INSTRUMENT_DECIMALS_UNKNOWN : (uint8_t)n;
}

/* ---- JSON ---- */

struct out {
    char *p, *end; /* end: the last byte, kept for the NUL */
    bool full;
};

static void put_raw(struct out *o, const char *s, size_t n) {
    if (o->full || (size_t)(o->end - o->p) < n) {
        o->full = true;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

#define PUT_LIT(o, lit) put_raw((o), (lit), sizeof(lit) - 1)

/* A JSON string of the text s (at most size bytes, NUL-terminated within them: checked by the caller), escaped:
 * '"', '\\' and the C0 controls; other bytes as they are. */
static void put_string(struct out *o, const char *s, size_t size) {
    static const char hex[] = "0123456789abcdef";
    PUT_LIT(o, "\"");
    for (size_t i = 0; i < size && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put_raw(o, esc, 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put_raw(o, esc, 6);
        } else {
            put_raw(o, (const char *)&c, 1);
        }
    }
    PUT_LIT(o, "\"");
}

/* An optional text: its string, or null when empty. */
static void put_text(struct out *o, const char *s, size_t size) {
    if (s[0]) put_string(o, s, size);
    else PUT_LIT(o, "null");
}

static void put_decimals(struct out *o, uint8_t d) {
    if (d == INSTRUMENT_DECIMALS_UNKNOWN) {
        PUT_LIT(o, "null");
        return;
    }
    char digits[4];
    size_t n = fmt_u64_str(digits, d);
    put_raw(o, digits, n);
}

static bool terminated(const char *s, size_t size) { return memchr(s, 0, size) != NULL; }

#define TERMINATED(in, f) terminated((in)->f, sizeof (in)->f)

int instrument_json(const struct instrument *in, const char *venue, char *out, size_t cap) {
    if (!TERMINATED(in, symbol) || !TERMINATED(in, venue_symbol) || !TERMINATED(in, base) || !TERMINATED(in, quote) ||
        !TERMINATED(in, venue_status) || !TERMINATED(in, tick_size) || !TERMINATED(in, lot_size) ||
        in->status > INSTRUMENT_DELISTED)
        return -EINVAL;
    if (cap == 0) return -ENOSPC;
    struct out o = {.p = out, .end = out + cap - 1};
    PUT_LIT(&o, "{");
    if (venue) {
        PUT_LIT(&o, "\"venue\":");
        put_string(&o, venue, strlen(venue));
        PUT_LIT(&o, ",");
    }
    PUT_LIT(&o, "\"symbol\":");
    put_string(&o, in->symbol, sizeof in->symbol);
    PUT_LIT(&o, ",\"venue_symbol\":");
    put_string(&o, in->venue_symbol, sizeof in->venue_symbol);
    PUT_LIT(&o, ",\"status\":\"");
    const char *status = instrument_status_name(in->status);
    put_raw(&o, status, strlen(status));
    PUT_LIT(&o, "\",\"venue_status\":");
    put_text(&o, in->venue_status, sizeof in->venue_status);
    PUT_LIT(&o, ",\"base\":");
    put_text(&o, in->base, sizeof in->base);
    PUT_LIT(&o, ",\"quote\":");
    put_text(&o, in->quote, sizeof in->quote);
    PUT_LIT(&o, ",\"tick_size\":");
    put_text(&o, in->tick_size, sizeof in->tick_size);
    PUT_LIT(&o, ",\"lot_size\":");
    put_text(&o, in->lot_size, sizeof in->lot_size);
    PUT_LIT(&o, ",\"price_decimals\":");
    put_decimals(&o, in->price_decimals);
    PUT_LIT(&o, ",\"size_decimals\":");
    put_decimals(&o, in->size_decimals);
    PUT_LIT(&o, "}");
    if (o.full) {
        out[0] = 0;
        return -ENOSPC;
    }
    *o.p = 0;
    return (int)(o.p - out);
}

/* ---- lists ---- */

void instrument_list_init(struct instrument_list *l) { memset(l, 0, sizeof *l); }

void instrument_list_free(struct instrument_list *l) {
    free(l->v);
    instrument_list_init(l);
}

void instrument_list_clear(struct instrument_list *l) {
    l->n = 0;
    l->skipped = l->duplicates = 0;
}

void instrument_list_swap(struct instrument_list *a, struct instrument_list *b) {
    struct instrument_list t = *a;
    *a = *b;
    *b = t;
}

struct instrument *instrument_list_add(struct instrument_list *l) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *l->v) return NULL;
        struct instrument *v = realloc(l->v, cap * sizeof *v);
        if (!v) return NULL;
        l->v = v;
        l->cap = cap;
    }
    struct instrument *in = &l->v[l->n++];
    memset(in, 0, sizeof *in);
    return in;
}

/* Symbol order; within one symbol the entry to keep first (instrument_list_sort). */
static int entry_cmp(const void *pa, const void *pb) {
    const struct instrument *a = pa, *b = pb;
    int c = FIELD_CMP(a, b, symbol);
    if (c) return c;
    if (a->status != b->status) return a->status < b->status ? -1 : 1;
    c = FIELD_CMP(a, b, venue_symbol);
    return c ? c : memcmp(a, b, sizeof *a);
}

void instrument_list_sort(struct instrument_list *l) {
    if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, entry_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (kept > 0 && FIELD_CMP(&l->v[kept - 1], &l->v[i], symbol) == 0) {
            l->duplicates++;
            continue;
        }
        if (kept != i) l->v[kept] = l->v[i];
        kept++;
    }
    l->n = kept;
    if (l->cap > 256 && l->n < l->cap / 2) { /* a refresh's list lives on: give back what the parse grew */
        struct instrument *v = realloc(l->v, (l->n ? l->n : 1) * sizeof *v);
        if (v) {
            l->v = v;
            l->cap = l->n ? l->n : 1;
        }
    }
}

const struct instrument *instrument_list_find(const struct instrument_list *l, const char *symbol) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(l->v[mid].symbol, symbol, sizeof l->v[mid].symbol);
        if (c == 0) return &l->v[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* ---- changes ---- */

static bool live(const struct instrument *in) { return in && in->status != INSTRUMENT_DELISTED; }

size_t instrument_list_diff(const struct instrument_list *before, const struct instrument_list *now,
                            instrument_change_fn *fn, void *ctx, struct instrument_changes *counts) {
    struct instrument_changes c = {0};
    size_t i = 0, j = 0;
    while (i < before->n || j < now->n) {
        const struct instrument *a = i < before->n ? &before->v[i] : NULL, *b = j < now->n ? &now->v[j] : NULL;
        int order = !a ? 1 : !b ? -1 : FIELD_CMP(a, b, symbol);
        if (order < 0) b = NULL, i++;      /* only before: gone */
        else if (order > 0) a = NULL, j++; /* only now: new */
        else i++, j++;
        enum instrument_change kind;
        if (live(a) && live(b)) {
            if (a->status != b->status) kind = INSTRUMENT_CHANGE_STATUS;
            else if (!instrument_equal(a, b)) kind = INSTRUMENT_CHANGE_UPDATED;
            else continue;
        } else if (live(b)) {
            kind = INSTRUMENT_CHANGE_LISTED;
        } else if (live(a)) {
            kind = INSTRUMENT_CHANGE_DELISTED;
        } else {
            continue;
        }
        switch (kind) {
        case INSTRUMENT_CHANGE_LISTED: c.listed++; break;
        case INSTRUMENT_CHANGE_STATUS: c.status++; break;
        case INSTRUMENT_CHANGE_UPDATED: c.updated++; break;
        case INSTRUMENT_CHANGE_DELISTED: c.delisted++; break;
        }
        if (fn) fn(ctx, kind, a, b);
    }
    if (counts) *counts = c;
    return c.listed + c.status + c.updated + c.delisted;
}
