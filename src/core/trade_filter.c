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

struct instrument {
    char venue[TICK_VENUE_MAX];
    char symbol[TICK_SYMBOL_MAX];
    uint64_t highest; /* the highest id published */
    uint32_t run;     /* the run that carried it */
    bool seen;
};

struct trade_filter {
    struct instrument *items;
    size_t n, cap;
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

int trade_filter_check(struct trade_filter *f, const struct trade *t, bool dense, struct trade_check *check) {
    *check = (struct trade_check){0};
    uint64_t id;
    if (!trade_id_number(t->id, &id)) return TRADE_NEW;
    struct instrument *in = instrument_of(f, t->venue, t->symbol);
    if (!in) return -ENOMEM;
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
