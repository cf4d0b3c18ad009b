/* fx_book.c -- fakex's own L2 order books: per symbol two sorted arrays of levels (integer 1e-8 units, so that
 * each venue prints them with its own decimal rules), seeded around the symbol's quote when something first uses
 * the book, then changed at the venue's book_rate by random inserts, size changes and removals that never cross
 * it. Each change takes the next update id of the book; the changes made between two fan-outs are one batch,
 * coalesced to one entry per level touched (what the level was before the batch and what it is now), from which
 * each dialect writes its message.
 *
 * The book's top is the venue's quote: while a symbol has a book, its quote steps take the best bid and ask (with
 * their sizes) from it instead of walking (fx_symbol_step), so the bbo channels and the book agree.
 *
 * This is the independent side the daemon is checked against: nothing here comes from tickd's book, decimal or
 * checksum code, and the CRC-32 is fakex's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakex.h"

enum { BID = 0, ASK = 1 };

const int fx_kraken_depths[FX_KRAKEN_DEPTHS] = {10, 25, 100, 500, 1000};

static const int64_t pow10_8[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

uint32_t fx_crc32(uint32_t crc, const void *data, size_t len) {
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* true when a ranks before b on side (bids: higher first; asks: lower first) */
static bool before(int side, int64_t a, int64_t b) { return side == BID ? a > b : a < b; }

/* The index of price on side, or where it would be inserted. */
static uint32_t find(const struct fx_book *b, int side, int64_t price, bool *found) {
    uint32_t lo = 0, hi = b->n[side];
    const struct fx_level *lv = b->lv[side];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (before(side, lv[mid].price, price)) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < b->n[side] && lv[lo].price == price;
    return lo;
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("fakex: out of memory\n", stderr);
        abort();
    }
    return q;
}

static void *grow(void *p, uint32_t *cap, size_t size) {
    *cap = *cap ? *cap * 2 : 64;
    return xrealloc(p, *cap * size);
}

/* Sets the level at price on side to qty (0 removes it), as one change: the next update id, recorded in the
 * batch being made with the size it had before. */
static void level_set(struct fx_venue *v, struct fx_book *b, int side, int64_t price, int64_t qty) {
    bool found;
    uint32_t i = find(b, side, price, &found);
    if (b->npending == b->pending_cap) b->pending = grow(b->pending, &b->pending_cap, sizeof *b->pending);
    uint32_t order = b->npending++;
    b->pending[order] = (struct fx_book_entry){
        .price = price, .qty = order, .old_qty = found ? b->lv[side][i].qty : 0, .side = side};
    b->seq++;
    v->book_changes++;
    struct fx_level *lv = b->lv[side];
    if (qty == 0) {
        if (found) {
            memmove(lv + i, lv + i + 1, (b->n[side] - i - 1) * sizeof *lv);
            b->n[side]--;
        }
    } else if (found) {
        lv[i].qty = qty;
    } else {
        if (b->n[side] == b->cap[side]) b->lv[side] = lv = grow(lv, &b->cap[side], sizeof *lv);
        memmove(lv + i + 1, lv + i, (b->n[side] - i) * sizeof *lv);
        lv[i] = (struct fx_level){price, qty};
        b->n[side]++;
    }
}

static int64_t rand_qty(const struct fx_book *b, uint64_t r) { return b->lotq * (int64_t)(1 + r % 100000); }

struct fx_book *fx_book_get(struct fx_venue *v, size_t sym) {
    struct fx_symbol *s = &v->syms[sym];
    if (s->book) return s->book;
    struct fx_book *b = xrealloc(NULL, sizeof *b);
    *b = (struct fx_book){0};
    int dp = s->dp < 0 ? 0 : s->dp > 8 ? 8 : s->dp, qdp = s->qdp < 0 ? 0 : s->qdp > 8 ? 8 : s->qdp;
    b->tick = pow10_8[8 - dp];
    b->lot = pow10_8[8 - qdp];
    b->lotq = b->lot > 1000 ? b->lot : 1000; /* sizes of 0.00001 and up where the lot allows it */
    b->rng = fx_rand(&v->book_rng) | 1;
    b->base_ms = (int64_t)uv_now(fx_loop);
    b->seq = b->sent_seq = 1000000 + fx_rand(&b->rng) % 9000000;
    /* the top is the quote as it is now; then 50% to 150% of book_levels a side, 1 to 3 ticks apart */
    int64_t bid = s->bid / b->tick * b->tick, ask = (s->ask + b->tick - 1) / b->tick * b->tick;
    if (bid < b->tick) bid = b->tick;
    if (ask <= bid) ask = bid + b->tick;
    int64_t levels = v->book_levels > 0 ? v->book_levels : 1;
    for (int side = 0; side < 2; side++) {
        uint32_t n = (uint32_t)(levels / 2 + (int64_t)(fx_rand(&b->rng) % (uint64_t)(levels + 1)));
        if (n < 2) n = 2;
        b->cap[side] = n + n / 2 + 16;
        b->lv[side] = fx_xmalloc(b->cap[side] * sizeof *b->lv[side]);
        int64_t price = side == BID ? bid : ask, top_qty = side == BID ? s->bid_qty : s->ask_qty;
        top_qty = top_qty / b->lot * b->lot;
        for (uint32_t k = 0; k < n && price > 0; k++) {
            uint64_t r = fx_rand(&b->rng);
            b->lv[side][k] = (struct fx_level){price, k == 0 && top_qty > 0 ? top_qty : rand_qty(b, r)};
            b->n[side] = k + 1;
            price += (side == BID ? -1 : 1) * b->tick * (int64_t)(1 + (r >> 40) % 3);
        }
        b->target[side] = b->n[side];
    }
    s->book = b;
    if (v->nbooks == v->books_cap) {
        size_t cap = v->books_cap ? v->books_cap * 2 : 16;
        v->books = xrealloc(v->books, cap * sizeof *v->books);
        v->books_cap = cap;
    }
    v->books[v->nbooks++] = sym;
    return b;
}

void fx_book_free(struct fx_book *b) {
    if (!b) return;
    for (int side = 0; side < 2; side++) {
        free(b->lv[side]);
        if (b->stale) free(b->stale->lv[side]);
    }
    free(b->stale);
    for (uint32_t i = 0; i < b->nheld; i++) free(b->held[i].msg);
    free(b->held);
    free(b->pending);
    free(b->batch);
    free(b);
}

/* One random change: a size, an insert or a removal, at a level drawn towards the top (the smaller of two
 * uniform draws), keeping each side near its seeded number of levels and never crossing the book. */
static void random_change(struct fx_venue *v, struct fx_book *b) {
    uint64_t r = fx_rand(&b->rng), r2 = fx_rand(&b->rng);
    int side = (int)(r & 1);
    uint32_t n = b->n[side], target = b->target[side];
    unsigned op = (unsigned)((r >> 1) % 10); /* 0-3 size, 4-6 insert, 7-9 removal */
    if (n < 2 || n < target - target / 4) op = 4;
    else if (n > target + target / 4) op = 7;
    struct fx_level *lv = b->lv[side];
    const struct fx_level *other = b->lv[!side];
    uint32_t other_n = b->n[!side];
    int64_t worse = side == BID ? -1 : 1;
    if (n == 0) { /* an empty side (only a repaired cross can empty one): one level beyond the other's best */
        int64_t price = other_n ? other[0].price + worse * b->tick : 0;
        if (price > 0) level_set(v, b, side, price, rand_qty(b, r2));
        return;
    }
    uint32_t i = (uint32_t)((r >> 8) % n), j = (uint32_t)((r >> 32) % n);
    if (j < i) i = j;
    if (op >= 4 && op <= 6) {
        uint32_t g = (uint32_t)((r >> 8) % (n + 1)), h = (uint32_t)((r >> 32) % (n + 1));
        if (h < g) g = h;
        int64_t price = 0;
        if (g == 0) { /* better than the best: inside the spread */
            price = lv[0].price - worse * b->tick * (int64_t)(1 + r2 % 2);
            if (other_n && !before(!side, price, other[0].price)) price = 0; /* it would reach the other side */
        } else if (g == n) { /* beyond the worst */
            price = lv[n - 1].price + worse * b->tick * (int64_t)(1 + r2 % 3);
        } else {
            int64_t gap = (lv[g].price - lv[g - 1].price) * worse / b->tick;
            if (gap >= 2) price = lv[g - 1].price + worse * b->tick * (int64_t)(1 + r2 % (uint64_t)(gap - 1));
        }
        if (price > 0) {
            level_set(v, b, side, price, rand_qty(b, r2 >> 8));
            return;
        }
        i = g < n ? g : n - 1; /* no room there: a size change instead */
        op = 0;
    }
    if (op >= 7 && n > 1) {
        level_set(v, b, side, lv[i].price, 0);
        return;
    }
    int64_t qty = rand_qty(b, r2);
    if (qty == lv[i].qty) qty += b->lotq;
    level_set(v, b, side, lv[i].price, qty);
}

static int entry_cmp(const void *pa, const void *pb) {
    const struct fx_book_entry *a = pa, *b = pb;
    if (a->side != b->side) return a->side - b->side;
    if (a->price != b->price) return before(a->side, a->price, b->price) ? -1 : 1;
    return a->qty < b->qty ? -1 : a->qty > b->qty; /* qty holds the order of the changes while pending */
}

bool fx_book_batch(struct fx_venue *v, size_t sym, int64_t changes) {
    struct fx_symbol *s = &v->syms[sym];
    struct fx_book *b = fx_book_get(v, sym);
    b->npending = b->nbatch = 0;
    b->first = b->seq + 1;
    for (int d = 0; d < FX_KRAKEN_DEPTHS; d++)
        for (int side = 0; side < 2; side++) {
            uint32_t depth = (uint32_t)fx_kraken_depths[d];
            b->edge[d][side] = b->n[side] >= depth ? b->lv[side][depth - 1].price : 0;
        }
    if (b->crossed) { /* the cross the last batch showed goes: bids at or above the best ask are taken out */
        while (b->n[BID] && b->n[ASK] && b->lv[BID][0].price >= b->lv[ASK][0].price)
            level_set(v, b, BID, b->lv[BID][0].price, 0);
        b->crossed = false;
    }
    for (int64_t k = 0; k < changes; k++) random_change(v, b);
    if (s->bf.cross > 0 && b->n[ASK]) { /* last, so that nothing in the batch undoes it */
        s->bf.cross--;
        v->book_faults++;
        level_set(v, b, BID, b->lv[ASK][0].price, rand_qty(b, fx_rand(&b->rng)));
        b->crossed = true;
    }
    if (!b->npending) return false;
    qsort(b->pending, b->npending, sizeof *b->pending, entry_cmp);
    if (b->batch_cap < b->npending) {
        free(b->batch);
        b->batch_cap = b->pending_cap;
        b->batch = fx_xmalloc(b->batch_cap * sizeof *b->batch);
    }
    for (uint32_t i = 0; i < b->npending;) {
        const struct fx_book_entry *first = &b->pending[i];
        uint32_t j = i + 1;
        while (j < b->npending && b->pending[j].side == first->side && b->pending[j].price == first->price) j++;
        bool found;
        uint32_t at = find(b, first->side, first->price, &found);
        b->batch[b->nbatch++] = (struct fx_book_entry){.price = first->price,
                                                        .qty = found ? b->lv[first->side][at].qty : 0,
                                                        .old_qty = first->old_qty,
                                                        .side = first->side};
        i = j;
    }
    return true;
}

bool fx_book_top(const struct fx_book *b, int64_t *bid, int64_t *bid_qty, int64_t *ask, int64_t *ask_qty) {
    if (!b->n[BID] || !b->n[ASK] || b->lv[BID][0].price >= b->lv[ASK][0].price) return false;
    *bid = b->lv[BID][0].price;
    *bid_qty = b->lv[BID][0].qty;
    *ask = b->lv[ASK][0].price;
    *ask_qty = b->lv[ASK][0].qty;
    return true;
}

uint32_t fx_book_depth(const struct fx_book *b, int side, uint32_t depth) {
    return depth && depth < b->n[side] ? depth : b->n[side];
}

size_t fx_book_fmt(const struct fx_venue *v, const struct fx_symbol *s, int64_t x, bool qty, char *out) {
    switch (v->id) {
    case FX_BINANCE: return fx_fmt_fixed(out, x, 8);             /* "30000.05000000" */
    case FX_COINBASE: return fx_fmt_fixed(out, x, qty ? 8 : s->dp); /* the quote increment; sizes 8 decimals */
    default: return fx_fmt_trim(out, x);                          /* Kraken's JSON numbers, OKX's strings */
    }
}

/* Kraken's form of one value for its checksum: fixed decimals, '.' removed, leading zeros removed. */
static char *kraken_digits(char *p, int64_t x, int dp) {
    char text[FX_NUM_MAX];
    size_t n = fx_fmt_fixed(text, x, dp);
    bool lead = true;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '.' || (lead && text[i] == '0')) continue;
        lead = false;
        *p++ = text[i];
    }
    return p;
}

uint32_t fx_book_checksum_kraken(const struct fx_symbol *s, const struct fx_book *b) {
    char text[20 * 2 * FX_NUM_MAX], *p = text;
    for (int side = ASK;; side = BID) {
        for (uint32_t i = 0; i < fx_book_depth(b, side, 10); i++) {
            p = kraken_digits(p, b->lv[side][i].price, s->dp);
            p = kraken_digits(p, b->lv[side][i].qty, s->qdp);
        }
        if (side == BID) break;
    }
    return fx_crc32(0, text, (size_t)(p - text));
}

int32_t fx_book_checksum_okx(const struct fx_symbol *s, const struct fx_book *b) {
    char text[50 * 2 * (FX_NUM_MAX + 1)], *p = text;
    (void)s;
    for (uint32_t i = 0; i < 25; i++)
        for (int side = BID; side <= ASK; side++) {
            if (i >= b->n[side]) continue;
            if (p > text) *p++ = ':';
            p += fx_fmt_trim(p, b->lv[side][i].price);
            *p++ = ':';
            p += fx_fmt_trim(p, b->lv[side][i].qty);
        }
    return (int32_t)fx_crc32(0, text, (size_t)(p - text));
}

void fx_book_capture(struct fx_venue *v, size_t sym) {
    struct fx_book *b = fx_book_get(v, sym);
    if (!b->stale) {
        b->stale = xrealloc(NULL, sizeof *b->stale);
        *b->stale = (struct fx_book_copy){0};
    }
    for (int side = 0; side < 2; side++) {
        free(b->stale->lv[side]);
        b->stale->lv[side] = fx_xmalloc(b->n[side] * sizeof *b->lv[side] + 1);
        memcpy(b->stale->lv[side], b->lv[side], b->n[side] * sizeof *b->lv[side]);
        b->stale->n[side] = b->n[side];
    }
    b->stale->seq = b->seq;
}

const struct fx_book_copy *fx_book_stale(const struct fx_symbol *s) {
    return s->bf.stale > 0 && s->book ? s->book->stale : NULL;
}

void fx_book_stale_used(struct fx_symbol *s) {
    if (s->bf.stale <= 0 || !s->book || !s->book->stale) return;
    if (--s->bf.stale > 0) return;
    for (int side = 0; side < 2; side++) free(s->book->stale->lv[side]);
    free(s->book->stale);
    s->book->stale = NULL;
}
