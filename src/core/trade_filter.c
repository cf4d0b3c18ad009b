/* trade_filter.c -- see trade_filter.h.
 *
 * The instruments live in one growable array found through an open-addressing table of indexes (linear
 * probing, power-of-two size, load at most 70%), keyed by a hash of venue and symbol; the record keeps the
 * names so a collision of hashes is told apart. Nothing is removed. */
#include "tickd/trade_filter.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* A trade held behind a hole, with its id as a number (the held ones are kept sorted by it). */
struct held_trade {
    uint64_t id;
    struct trade trade;
};

struct instrument {
    char venue[TICK_VENUE_MAX];
    char symbol[TICK_SYMBOL_MAX];
    uint64_t highest; /* the highest id published */
    uint32_t run;     /* the run that carried it */
    bool seen;
    bool holding;     /* trades wait behind a hole (HOLES, trade_filter.h) */
    int64_t hold_until_us, fill_wait_us;
    uint64_t rest_to; /* the highest id a poll answer brought while holding: holes below it are not coming */
    struct held_trade *held; /* ids above highest, sorted, none twice; the holes are what lies between */
    size_t n_held, cap_held;
};

struct trade_filter {
    struct instrument *items;
    size_t n, cap;
    uint32_t *holding; /* indexes of the instruments holding trades */
    size_t n_holding, cap_holding;
    uint32_t *slots; /* index + 1; 0 = empty */
    size_t mask;     /* slot count - 1 */
    struct trade_filter_counters counters;
};

static uint64_t name_hash(const char *venue, const char *symbol) {
    uint64_t h = 14695981039346656037ULL;
    for (const char *s = venue; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL; /* between the two names: "ab"+"c" is not "a"+"bc" */
    for (const char *s = symbol; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint32_t *slot_of(const struct trade_filter *f, uint64_t h, const char *venue, const char *symbol) {
    for (size_t i = h & f->mask;; i = (i + 1) & f->mask) {
        uint32_t *slot = &f->slots[i];
        if (!*slot) return slot;
        const struct instrument *in = &f->items[*slot - 1];
        if (strcmp(in->venue, venue) == 0 && strcmp(in->symbol, symbol) == 0) return slot;
    }
}

static int grow_slots(struct trade_filter *f) {
    size_t size = f->slots ? (f->mask + 1) * 2 : 64;
    uint32_t *slots = calloc(size, sizeof *slots);
    if (!slots) return -ENOMEM;
    uint32_t *old = f->slots;
    size_t old_size = old ? f->mask + 1 : 0;
    f->slots = slots;
    f->mask = size - 1;
    for (size_t i = 0; i < old_size; i++) {
        if (!old[i]) continue;
        const struct instrument *in = &f->items[old[i] - 1];
        *slot_of(f, name_hash(in->venue, in->symbol), in->venue, in->symbol) = old[i];
    }
    free(old);
    return 0;
}

int trade_filter_new(struct trade_filter **out) {
    struct trade_filter *f = calloc(1, sizeof *f);
    if (!f || grow_slots(f) < 0) {
        free(f);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

void trade_filter_free(struct trade_filter *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) free(f->items[i].held);
    free(f->holding);
    free(f->items);
    free(f->slots);
    free(f);
}

/* The instrument's record, added when new; NULL without memory. */
static struct instrument *instrument_of(struct trade_filter *f, const char *venue, const char *symbol) {
    uint64_t h = name_hash(venue, symbol);
    uint32_t *slot = slot_of(f, h, venue, symbol);
    if (*slot) return &f->items[*slot - 1];
    if ((f->n + 1) * 10 > (f->mask + 1) * 7) {
        if (grow_slots(f) < 0) return NULL;
        slot = slot_of(f, h, venue, symbol);
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct instrument *grown = realloc(f->items, cap * sizeof *grown);
        if (!grown) return NULL;
        f->items = grown;
        f->cap = cap;
    }
    struct instrument *in = &f->items[f->n++];
    memset(in, 0, sizeof *in);
    snprintf(in->venue, sizeof in->venue, "%s", venue);
    snprintf(in->symbol, sizeof in->symbol, "%s", symbol);
    *slot = (uint32_t)f->n;
    f->counters.instruments = f->n;
    return in;
}

/* ---- holes waiting to be filled ---- */

/* Where id is, or would go, in the held trades. */
static size_t held_position(const struct instrument *in, uint64_t id) {
    size_t lo = 0, hi = in->n_held;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (in->held[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Holds t at its place among the held trades; false when TRADE_HELD_MAX wait already, or without memory. */
static bool hold(struct instrument *in, const struct trade *t, uint64_t id, size_t at) {
    if (in->n_held == in->cap_held) {
        size_t cap = in->cap_held ? in->cap_held * 2 : 16;
        if (cap > TRADE_HELD_MAX) cap = TRADE_HELD_MAX;
        if (in->n_held == cap) return false;
        struct held_trade *grown = realloc(in->held, cap * sizeof *grown);
        if (!grown) return false;
        in->held = grown;
        in->cap_held = cap;
    }
    memmove(in->held + at + 1, in->held + at, (in->n_held - at) * sizeof *in->held);
    in->held[at] = (struct held_trade){.id = id, .trade = *t};
    in->n_held++;
    return true;
}

/* A trade while the instrument holds: the next id after the published ones is published at once (it fills the
 * hole from below); one published or held already is a duplicate; any other is held in its place -- a poll's
 * answer fills the holes in between, a stream's later trade may open another. */
static int check_holding(struct trade_filter *f, struct instrument *in, const struct trade *t, uint64_t id) {
    size_t at = held_position(in, id);
    if (id <= in->highest || (at < in->n_held && in->held[at].id == id)) {
        f->counters.duplicates++;
        return TRADE_DUPLICATE;
    }
    if (t->origin == TICK_ORIGIN_REST && id > in->rest_to) in->rest_to = id;
    if (id == in->highest + 1) {
        in->highest = id;
        f->counters.filled++;
        return TRADE_NEW;
    }
    /* A stream's trade past the last held one with ids between: a new hole, which gets its own wait. */
    if (t->origin == TICK_ORIGIN_STREAM && at == in->n_held && in->n_held && id > in->held[at - 1].id + 1)
        in->hold_until_us = t->recv_us + in->fill_wait_us;
    if (!hold(in, t, id, at)) {
        in->hold_until_us = 0; /* enough waiting: everything held is due, its holes gaps */
        return -ENOBUFS;
    }
    return TRADE_HELD;
}

size_t trade_filter_take(struct trade_filter *f, int64_t now_us, struct trade *out, struct trade_check *checks,
                         size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < f->n_holding && n < max;) {
        struct instrument *in = &f->items[f->holding[i]];
        bool expired = now_us >= in->hold_until_us;
        size_t k = 0;
        for (; k < in->n_held && n < max; k++, n++) {
            const struct held_trade *h = &in->held[k];
            struct trade_check check = {0};
            if (h->id != in->highest + 1) {
                /* A hole: given up when the wait is over, or when a poll answer went past it without its ids. */
                if (!expired && h->id - 1 > in->rest_to) break;
                check.missing_from = in->highest + 1;
                check.missing_to = h->id - 1;
                f->counters.gaps++;
                f->counters.missing += h->id - in->highest - 1;
            }
            out[n] = h->trade;
            if (checks) checks[n] = check;
            in->highest = h->id;
            in->run = h->trade.run;
        }
        f->counters.released += k;
        memmove(in->held, in->held + k, (in->n_held - k) * sizeof *in->held);
        in->n_held -= k;
        if (in->n_held) {
            i++;
            continue;
        }
        free(in->held);
        in->held = NULL;
        in->cap_held = 0;
        in->holding = false;
        f->holding[i] = f->holding[--f->n_holding];
    }
    return n;
}

size_t trade_filter_holding(const struct trade_filter *f) { return f->n_holding; }

int trade_filter_check(struct trade_filter *f, const struct trade *t, bool dense, int64_t fill_wait_us,
                       struct trade_check *check) {
    *check = (struct trade_check){0};
    uint64_t id;
    if (!trade_id_number(t->id, &id)) return TRADE_NEW;
    struct instrument *in = instrument_of(f, t->venue, t->symbol);
    if (!in) return -ENOMEM;
    if (in->holding) return check_holding(f, in, t, id);
    enum trade_verdict verdict = TRADE_NEW;
    if (in->seen && id <= in->highest) {
        bool same_run = t->run && t->run == in->run;
        bool renumbered = in->highest - id > TRADE_RESET_DISTANCE && !tick_run_alive(in->run, t->recv_us);
        if (id == in->highest || !(same_run || renumbered)) {
            f->counters.duplicates++;
            return TRADE_DUPLICATE;
        }
        f->counters.resets++;
        verdict = TRADE_RESET;
    } else if (in->seen && dense && id > in->highest + 1 && fill_wait_us > 0 && t->origin == TICK_ORIGIN_STREAM &&
               id - in->highest <= TRADE_FILL_MAX) {
        /* A hole the venue's recent-trades answers may fill: hold what comes after it for a while. */
        if (f->n_holding == f->cap_holding) {
            size_t cap = f->cap_holding ? f->cap_holding * 2 : 16;
            uint32_t *grown = realloc(f->holding, cap * sizeof *grown);
            if (!grown) return -ENOMEM;
            f->holding = grown;
            f->cap_holding = cap;
        }
        in->n_held = 0;
        if (!hold(in, t, id, 0)) return -ENOMEM;
        in->holding = true;
        in->rest_to = 0;
        in->fill_wait_us = fill_wait_us;
        in->hold_until_us = t->recv_us + fill_wait_us;
        f->holding[f->n_holding++] = (uint32_t)(in - f->items);
        return TRADE_HELD;
    } else if (in->seen && dense && id > in->highest + 1) {
        check->missing_from = in->highest + 1;
        check->missing_to = id - 1;
        f->counters.gaps++;
        f->counters.missing += id - in->highest - 1;
    }
    in->highest = id;
    in->run = t->run;
    in->seen = true;
    return verdict;
}

void trade_filter_counters_get(const struct trade_filter *f, struct trade_filter_counters *out) {
    *out = f->counters;
}
