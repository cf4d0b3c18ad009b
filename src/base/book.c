/* book.c -- sorted levels of exact decimal text (book.h). */
#include "tickd/book.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/decimal.h"

#define BOOK_LEVELS_DEFAULT (BOOK_DEPTH_MAX * 5)
#define BOOK_FIRST_CAP 16

const char *book_state_name(enum book_state state) {
    switch (state) {
    case BOOK_SYNCING: return "syncing";
    case BOOK_LIVE: return "live";
    case BOOK_RESYNCING: return "resyncing";
    case BOOK_STALE: return "stale";
    }
    return "unknown";
}

void book_init(struct book *b, uint32_t max_levels) {
    memset(b, 0, sizeof *b);
    b->max_levels = max_levels ? max_levels : BOOK_LEVELS_DEFAULT;
}

void book_free(struct book *b) {
    for (int s = 0; s < 2; s++) {
        free(b->side[s].lv);
        b->side[s] = (struct book_levels){0};
    }
}

void book_clear(struct book *b) {
    b->side[BOOK_BID].n = 0;
    b->side[BOOK_ASK].n = 0;
}

/* The integer part's digits without leading zeros, and where the fraction starts (after '.'), of a decimal
 * already known valid and not negative. */
static void split(const char *s, const char **ip, size_t *ilen, const char **fp) {
    while (*s == '0' && s[1] && s[1] != '.') s++;
    const char *dot = strchr(s, '.');
    *ip = s;
    *ilen = dot ? (size_t)(dot - s) : strlen(s);
    *fp = dot ? dot + 1 : s + *ilen;
}

/* The binary search compares a few times per update: comparing the texts directly (integer digits by count,
 * then digit by digit, then the fractions padded with zeros) costs less than any conversion. */
int book_price_cmp(const char *a, const char *b) {
    const char *ai, *bi, *af, *bf;
    size_t al, bl;
    split(a, &ai, &al, &af);
    split(b, &bi, &bl, &bf);
    if (al != bl) return al < bl ? -1 : 1;
    int c = memcmp(ai, bi, al);
    if (c) return c < 0 ? -1 : 1;
    for (;;) {
        char x = *af ? *af++ : '0', y = *bf ? *bf++ : '0';
        if (x != y) return x < y ? -1 : 1;
        if (!*af && !*bf) return 0;
    }
}

/* Where `price` is or would go on side s: bids descend, asks ascend. *found tells which. */
static uint32_t find(const struct book_levels *l, enum book_side s, const char *price, bool *found) {
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = book_price_cmp(l->lv[mid].price, price);
        if (s == BOOK_BID) c = -c;
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

static bool is_zero(const char *s) {
    for (; *s; s++)
        if (*s != '0' && *s != '.') return false;
    return true;
}

int book_set(struct book *b, enum book_side side, const char *price, size_t plen, const char *qty, size_t qlen) {
    if ((side != BOOK_BID && side != BOOK_ASK) || !plen || plen >= BOOK_TEXT_MAX || !qlen || qlen >= BOOK_TEXT_MAX ||
        !decimal_span_valid(price, plen) || !decimal_span_valid(qty, qlen) || price[0] == '-' || qty[0] == '-')
        return -EINVAL;
    char p[BOOK_TEXT_MAX], q[BOOK_TEXT_MAX];
    memcpy(p, price, plen);
    p[plen] = 0;
    memcpy(q, qty, qlen);
    q[qlen] = 0;
    if (is_zero(p)) return -EINVAL;
    struct book_levels *l = &b->side[side];
    bool found;
    uint32_t at = find(l, side, p, &found);
    if (is_zero(q)) {
        if (!found) return 0;
        memmove(&l->lv[at], &l->lv[at + 1], (size_t)(l->n - at - 1) * sizeof *l->lv);
        l->n--;
        return 1;
    }
    if (found) {
        if (strcmp(l->lv[at].qty, q) == 0) return 0;
        memcpy(l->lv[at].qty, q, qlen + 1);
        return 1;
    }
    uint32_t max = b->max_levels ? b->max_levels : BOOK_LEVELS_DEFAULT;
    if (at >= max) return 0;
    if (l->n == l->cap && l->n < max) {
        uint32_t cap = l->cap ? l->cap * 2 : BOOK_FIRST_CAP;
        if (cap > max) cap = max;
        struct book_level *grown = realloc(l->lv, (size_t)cap * sizeof *grown);
        if (!grown) return -ENOMEM;
        l->lv = grown;
        l->cap = cap;
    }
    if (l->n == max) l->n--; /* the worst level goes: it ranks beyond what the book keeps */
    memmove(&l->lv[at + 1], &l->lv[at], (size_t)(l->n - at) * sizeof *l->lv);
    memcpy(l->lv[at].price, p, plen + 1);
    memcpy(l->lv[at].qty, q, qlen + 1);
    l->n++;
    return 1;
}

void book_truncate(struct book *b, uint32_t levels) {
    for (int s = 0; s < 2; s++)
        if (b->side[s].n > levels) b->side[s].n = levels;
}

bool book_crossed(const struct book *b) {
    if (!b->side[BOOK_BID].n || !b->side[BOOK_ASK].n) return false;
    return book_price_cmp(b->side[BOOK_BID].lv[0].price, b->side[BOOK_ASK].lv[0].price) >= 0;
}
