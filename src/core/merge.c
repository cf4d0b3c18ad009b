/* merge.c -- see merge.h.
 *
 * Quotes live in one growable array of records and are found through an open-addressing hash table of
 * indexes (linear probing, power-of-two size, load at most 70%), keyed by venue + symbol. The best bid and
 * offer per symbol live in a second array and table keyed by symbol; each lists the indexes of its symbol's
 * quotes (a handful of venues), so when the best venue's price worsens the side is recomputed over that list.
 * Indexes, not pointers, tie records together because growing an array moves it; nothing is ever removed, so
 * a record's index is also the stable id merge_update hands out (quote_id, bbo_id).
 *
 * Memory is per instrument, so a quote record is compact (about 150 bytes instead of 340): the tick in its
 * packed form (tick.h), the venue as an index into the merge's few venue names, the symbol as its bbo_rec's.
 * The full struct merge_quote callers see is one scratch copy, `view`, rebuilt by merge_apply and merge_get. */
#include "tickd/merge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/decimal.h"
#include "tickd/tick.h"

#define NO_BEST (-1)

struct slot {
    uint64_t hash;
    uint32_t ref; /* record index + 1; 0 = empty */
};

struct table {
    struct slot *slots;
    size_t mask; /* size - 1; size is a power of two */
    size_t count;
};

struct quote_rec {
    struct tick_packed tick;
    struct merge_key key;
    uint32_t run;  /* the run of the last stream tick accepted; 0 for none, or foreign (merge_adopt) */
    uint32_t bbo;  /* index of its symbol's bbo_rec */
    uint32_t held; /* index + 1 of its held tick in merge.held; 0 for none */
    uint8_t venue; /* index into merge.venues */
    bool expired;  /* merge_expire found it too old: kept, but out of the best bid and offer until it ticks again */
    bool run_over; /* merge_take_due found its run's trust over: a lower position now resets it */
    bool withdrawn; /* merge_withdraw: the instrument does not trade; out of the bbo, its ticks refused */
};

/* A stream tick refused only because the stored quote's run was still trusted (HELD TICKS, merge.h). */
struct held_tick {
    uint32_t quote; /* quote_rec index */
    uint32_t run;   /* the run that carried it (the packed form keeps no run) */
    struct tick_packed tick;
};

struct bbo_rec {
    char symbol[TICK_SYMBOL_MAX];
    uint32_t quotes[MERGE_VENUES_MAX]; /* quote_rec indexes */
    uint8_t n_quotes;
    int8_t best_bid, best_ask; /* positions in quotes[], or NO_BEST */
};

#define VENUE_NAMES_MAX 255 /* distinct venue names: a quote_rec names its venue in a byte */

struct merge {
    char venues[VENUE_NAMES_MAX][TICK_VENUE_MAX];
    size_t n_venues;
    struct merge_quote view; /* what merge_apply and merge_get hand out */
    struct quote_rec *quotes;
    size_t n_quotes, cap_quotes;
    struct bbo_rec *bbos;
    size_t n_bbos, cap_bbos;
    struct table quote_index, bbo_index;
    struct held_tick *held; /* a few at a time: the quotes of connections that just replaced others */
    size_t n_held, cap_held;
    struct merge_counters counters;
};

struct lookup_key {
    int venue; /* index into merge.venues; -1 for the symbol table */
    const char *symbol;
};

enum side { SIDE_BID, SIDE_ASK };

/* ---- hashing and the index tables ---- */

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint64_t key_hash(const struct lookup_key *k) {
    uint64_t h = 14695981039346656037ULL;
    if (k->venue >= 0) h = (h ^ (uint64_t)(k->venue + 1)) * 1099511628211ULL;
    return fnv1a(h, k->symbol);
}

typedef bool (*same_fn)(const struct merge *m, uint32_t index, const struct lookup_key *k);

static bool quote_same(const struct merge *m, uint32_t i, const struct lookup_key *k) {
    const struct quote_rec *r = &m->quotes[i];
    return r->venue == k->venue && strcmp(m->bbos[r->bbo].symbol, k->symbol) == 0;
}

static bool bbo_same(const struct merge *m, uint32_t i, const struct lookup_key *k) {
    return strcmp(m->bbos[i].symbol, k->symbol) == 0;
}

/* The slot holding the key, or the empty slot where it would go. The table is never full. */
static struct slot *table_lookup(const struct table *t, const struct merge *m, uint64_t h, same_fn same,
                                 const struct lookup_key *k) {
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        struct slot *s = &t->slots[i];
        if (s->ref == 0) return s;
        if (s->hash == h && same(m, s->ref - 1, k)) return s;
    }
}

/* Makes room for one more entry; returns 0 or -ENOMEM (the table unchanged). */
static int table_reserve(struct table *t) {
    size_t size = t->slots ? t->mask + 1 : 0;
    if ((t->count + 1) * 10 <= size * 7) return 0;
    size_t new_size = size ? size * 2 : 64;
    struct slot *slots = calloc(new_size, sizeof *slots);
    if (!slots) return -ENOMEM;
    for (size_t i = 0; i < size; i++) {
        if (t->slots[i].ref == 0) continue;
        size_t j = t->slots[i].hash & (new_size - 1);
        while (slots[j].ref != 0) j = (j + 1) & (new_size - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->mask = new_size - 1;
    return 0;
}

static int array_reserve(void **items, size_t *cap, size_t n, size_t item_size) {
    if (n < *cap) return 0;
    size_t new_cap = *cap ? *cap * 2 : 64;
    void *grown = realloc(*items, new_cap * item_size);
    if (!grown) return -ENOMEM;
    *items = grown;
    *cap = new_cap;
    return 0;
}

/* ---- validation ---- */

static bool text_ok(const char *s, size_t size, bool may_be_empty) {
    const char *end = memchr(s, '\0', size);
    return end && (may_be_empty || end != s);
}

static bool tick_ok(const struct tick *t) {
    return text_ok(t->venue, sizeof t->venue, false) && text_ok(t->symbol, sizeof t->symbol, false) &&
           (t->origin == TICK_ORIGIN_STREAM || t->origin == TICK_ORIGIN_REST) &&
           text_ok(t->bid, TICK_DECIMAL_MAX, true) && text_ok(t->bid_qty, TICK_DECIMAL_MAX, true) &&
           text_ok(t->ask, TICK_DECIMAL_MAX, true) && text_ok(t->ask_qty, TICK_DECIMAL_MAX, true) &&
           text_ok(t->last, TICK_DECIMAL_MAX, true) && decimal_tick_values_ok(t);
}

/* ---- the ordering key ---- */

static uint64_t time_part(int64_t us) { return us > 0 ? (uint64_t)us : 0; }

static struct merge_key key_of(const struct tick *t, const struct merge_key *stored) {
    struct merge_key k = {0};
    if (stored) k.epoch = stored->epoch; /* only a reset moves it (decide) */
    if (t->origin == TICK_ORIGIN_STREAM) {
        k.positioned = t->has_seq || t->event_us > 0;
        k.pos = t->has_seq ? t->seq : time_part(t->event_us);
        k.time_us = time_part(t->recv_us);
        k.rank = 1;
    } else {
        if (stored) {
            k.pos = stored->pos;
            k.positioned = stored->positioned;
        }
        k.time_us = time_part(t->sent_us > 0 ? t->sent_us : t->recv_us);
        k.rank = 0;
    }
    return k;
}

static int key_compare(const struct merge_key *a, const struct merge_key *b) {
    if (a->epoch != b->epoch) return a->epoch < b->epoch ? -1 : 1;
    if (a->pos != b->pos) return a->pos < b->pos ? -1 : 1;
    if (a->time_us != b->time_us) return a->time_us < b->time_us ? -1 : 1;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    return 0;
}

/* Whether the stored quote r's position still outranks a lower one from another run at now_us: its run is
 * alive (open, or in its linger), or, foreign, its key is younger than the reorder window. See merge.h, RESETS. */
static bool stored_run_trusted(const struct quote_rec *r, int64_t now_us) {
    if (r->run_over) return false;
    if (r->run == 0) { /* foreign: ordered by another connection or process, or by nothing */
        if (now_us <= 0) return true;
        uint64_t now = (uint64_t)now_us;
        /* Trusted for the time a reorder could take -- unless its time is one no clock could have given (a
         * key written with a lying clock would otherwise hold forever). */
        return now > r->key.time_us ? now - r->key.time_us <= MERGE_REORDER_WINDOW_US
                                    : r->key.time_us - now <= (uint64_t)TICK_TIME_LEAD_US;
    }
    return tick_run_alive(r->run, now_us); /* once over: a reconnect whose venue started over */
}

/* Whether stream tick t, positioned below the stored quote r, starts a new ordering of that stream (a RESET)
 * rather than being an older update (STALE). */
static bool is_reset(const struct tick *t, const struct quote_rec *r) {
    if (r->key.epoch == UINT32_MAX) return false;
    if (t->run && t->run == r->run) return true; /* one ordered connection went back: its latest frame is the truth */
    return !stored_run_trusted(r, t->recv_us);
}

/* MERGE_ACCEPTED when key k of tick t is newer than the stored quote r's key, or starts a new epoch over it
 * (then k->epoch is raised and *reset set). Always agrees with key_compare() on ACCEPTED (the key grows), so a
 * Redis compare-and-set on the key text accepts it too. *hold is set for a STALE tick that only the stored
 * run's trust refused (HELD TICKS). */
static enum merge_result decide(const struct tick *t, struct merge_key *k, const struct quote_rec *r, bool *reset,
                                bool *hold) {
    const struct merge_key *s = &r->key;
    if (t->origin == TICK_ORIGIN_STREAM && k->positioned && s->positioned) {
        if (k->pos > s->pos) return MERGE_ACCEPTED;
        /* Same position: a repeat of the stream tick, or older than the REST answer that followed it. */
        if (k->pos == s->pos) return s->rank == 1 ? MERGE_DUPLICATE : MERGE_STALE;
        if (!is_reset(t, r)) {
            *hold = t->run != 0 && s->epoch != UINT32_MAX;
            return MERGE_STALE;
        }
        k->epoch = s->epoch + 1;
        *reset = true;
        return MERGE_ACCEPTED;
    }
    int c = key_compare(k, s);
    return c > 0 ? MERGE_ACCEPTED : c < 0 ? MERGE_STALE : MERGE_DUPLICATE;
}

/* v as exactly 20 decimal digits, zero-padded (UINT64_MAX has 20). */
static char *put_u64_20(char *p, uint64_t v) {
    for (int i = 19; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
    return p + 20;
}

/* Called for every Redis write: digits by hand, not snprintf. */
void merge_key_format(const struct merge_key *k, char buf[MERGE_KEY_TEXT_LEN]) {
    uint32_t epoch = k->epoch;
    for (int i = 9; i >= 0; i--, epoch /= 10) buf[i] = (char)('0' + epoch % 10);
    buf[10] = '-';
    char *p = put_u64_20(buf + 11, k->pos);
    *p++ = '-';
    p = put_u64_20(p, k->time_us);
    *p++ = '-';
    *p++ = k->rank ? '1' : '0';
    *p = 0;
}

/* n digits at p as a number; false when one is not a digit or the value passes max. */
static bool digits_value(const char *p, size_t n, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

int merge_key_parse(const char *text, size_t len, struct merge_key *out) {
    uint64_t epoch = 0, pos, time_us;
    if (len == MERGE_KEY_TEXT_LEN - 1) {
        if (!digits_value(text, 10, UINT32_MAX, &epoch) || text[10] != '-') return -EINVAL;
        text += 11;
    } else if (len != MERGE_KEY_OLD_TEXT_LEN) {
        return -EINVAL;
    }
    if (!digits_value(text, 20, UINT64_MAX, &pos) || text[20] != '-' ||
        !digits_value(text + 21, 20, UINT64_MAX, &time_us) || text[41] != '-' || (text[42] != '0' && text[42] != '1'))
        return -EINVAL;
    *out = (struct merge_key){.epoch = (uint32_t)epoch, .pos = pos, .time_us = time_us,
                              .rank = (uint8_t)(text[42] - '0'), .positioned = pos != 0};
    return 0;
}

/* Copies a NUL-terminated text of at most cap-1 characters (stored ticks are validated, so it always fits). */
static void copy_text(char *dst, const char *src, size_t cap) {
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* ---- venues ---- */

/* The index of a venue name, or -1 when the merge has not seen it. A handful of venues: a scan is fastest. */
static int venue_index(const struct merge *m, const char *venue) {
    for (size_t i = 0; i < m->n_venues; i++)
        if (strcmp(m->venues[i], venue) == 0) return (int)i;
    return -1;
}

static int venue_add(struct merge *m, const char *venue) {
    if (m->n_venues == VENUE_NAMES_MAX) return -ENOSPC;
    copy_text(m->venues[m->n_venues], venue, TICK_VENUE_MAX);
    return (int)m->n_venues++;
}

/* ---- best bid and offer ---- */

static const char *side_price(const struct tick_packed *t, enum side side) {
    return tick_packed_get(t, side == SIDE_BID ? TICK_BID : TICK_ASK);
}
static const char *side_qty(const struct tick_packed *t, enum side side) {
    return tick_packed_get(t, side == SIDE_BID ? TICK_BID_QTY : TICK_ASK_QTY);
}

/* > 0 when price a is better than b on this side (higher bid, lower ask). Both are valid decimals. */
static int better(const char *a, const char *b, enum side side) {
    int order = 0;
    (void)decimal_compare(a, b, &order);
    return side == SIDE_BID ? order : -order;
}

static const struct tick_packed *bbo_tick(const struct merge *m, const struct bbo_rec *b, int pos) {
    return &m->quotes[b->quotes[pos]].tick;
}

/* Out of the best bid and offer: expired, or withdrawn. */
static bool bbo_expired(const struct merge *m, const struct bbo_rec *b, int pos) {
    const struct quote_rec *r = &m->quotes[b->quotes[pos]];
    return r->expired || r->withdrawn;
}

/* Recomputes one side over the symbol's venues that have not expired. The current best keeps its place on a tie,
 * so an unchanged price never flips the venue. */
static int8_t best_of(const struct merge *m, const struct bbo_rec *b, int8_t current, enum side side) {
    int8_t best = NO_BEST;
    if (current != NO_BEST && !bbo_expired(m, b, current) && side_price(bbo_tick(m, b, current), side)[0])
        best = current;
    for (int i = 0; i < b->n_quotes; i++) {
        const char *p = side_price(bbo_tick(m, b, i), side);
        if (!p[0] || i == best || bbo_expired(m, b, i)) continue;
        if (best == NO_BEST || better(p, side_price(bbo_tick(m, b, best), side), side) > 0) best = (int8_t)i;
    }
    return best;
}

/* Updates one side after the quote at position `pos` changed; returns whether that side changed. `moved`
 * says whether this quote's price or size text differs from before. */
static bool bbo_update_side(const struct merge *m, struct bbo_rec *b, int8_t pos, enum side side, bool moved) {
    int8_t *best = side == SIDE_BID ? &b->best_bid : &b->best_ask;
    int8_t before = *best;
    if (before == pos) {
        if (moved) *best = best_of(m, b, before, side); /* it may have worsened: look at every venue */
    } else {
        const char *p = side_price(bbo_tick(m, b, pos), side);
        if (p[0] && (before == NO_BEST || better(p, side_price(bbo_tick(m, b, before), side), side) > 0))
            *best = pos;
    }
    return *best != before || (*best == pos && moved);
}

static int8_t bbo_position(const struct bbo_rec *b, uint32_t quote_index) {
    for (int i = 0; i < b->n_quotes; i++)
        if (b->quotes[i] == quote_index) return (int8_t)i;
    return NO_BEST;
}

static void fill_side(const struct merge *m, const struct bbo_rec *b, int8_t best, enum side side,
                      struct merge_bbo_side *out) {
    memset(out, 0, sizeof *out);
    if (best == NO_BEST) return;
    const struct tick_packed *t = bbo_tick(m, b, best);
    copy_text(out->price, side_price(t, side), sizeof out->price);
    copy_text(out->qty, side_qty(t, side), sizeof out->qty);
    copy_text(out->venue, m->venues[m->quotes[b->quotes[best]].venue], sizeof out->venue);
    out->time_us = t->event_us ? t->event_us : t->recv_us;
}

/* ---- public ---- */

int merge_new(struct merge **out) {
    struct merge *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    *out = m;
    return 0;
}

int merge_reserve(struct merge *m, size_t quotes) {
    if (quotes <= m->cap_quotes) return 0;
    struct quote_rec *grown = realloc(m->quotes, quotes * sizeof *grown);
    if (!grown) return -ENOMEM;
    m->quotes = grown;
    m->cap_quotes = quotes;
    return 0;
}

void merge_free(struct merge *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_quotes; i++) tick_packed_free(&m->quotes[i].tick);
    for (size_t i = 0; i < m->n_held; i++) tick_packed_free(&m->held[i].tick);
    free(m->held);
    free(m->quotes);
    free(m->bbos);
    free(m->quote_index.slots);
    free(m->bbo_index.slots);
    free(m);
}

/* Finds or creates the symbol's bbo_rec and adds a new quote record for t; returns its index or a negative
 * error, leaving everything unchanged on error. */
static int64_t quote_insert(struct merge *m, const struct tick *t, int venue, struct slot *quote_slot, uint64_t h) {
    struct lookup_key sk = {-1, t->symbol};
    uint64_t bh = key_hash(&sk);
    if (table_reserve(&m->bbo_index) < 0 ||
        array_reserve((void **)&m->bbos, &m->cap_bbos, m->n_bbos, sizeof *m->bbos) < 0 ||
        array_reserve((void **)&m->quotes, &m->cap_quotes, m->n_quotes, sizeof *m->quotes) < 0)
        return -ENOMEM;
    struct slot *bs = table_lookup(&m->bbo_index, m, bh, bbo_same, &sk);
    if (bs->ref && m->bbos[bs->ref - 1].n_quotes >= MERGE_VENUES_MAX) return -ENOSPC;

    if (!bs->ref) {
        struct bbo_rec *b = &m->bbos[m->n_bbos];
        memset(b, 0, sizeof *b);
        copy_text(b->symbol, t->symbol, sizeof b->symbol);
        b->best_bid = b->best_ask = NO_BEST;
        *bs = (struct slot){bh, (uint32_t)++m->n_bbos};
        m->bbo_index.count++;
    }
    uint32_t qi = (uint32_t)m->n_quotes++;
    struct quote_rec *r = &m->quotes[qi];
    memset(r, 0, sizeof *r);
    tick_packed_init(&r->tick);
    r->venue = (uint8_t)venue;
    r->bbo = bs->ref - 1;
    struct bbo_rec *b = &m->bbos[r->bbo];
    b->quotes[b->n_quotes++] = qi;
    *quote_slot = (struct slot){h, qi + 1};
    m->quote_index.count++;
    return qi;
}

/* A field the venue did not send ("" in the tick) is unknown, not zero. Some answers carry less than the stream
 * (Coinbase's REST ticker has prices but no sizes): keep the stored size of a side whose price did not move, and
 * the last trade price, rather than erase what the stream told us. A size beside a new price is never guessed. */
static void carry_unsent(struct tick *t, const struct tick_packed *stored) {
    if (!t->bid_qty[0] && strcmp(t->bid, tick_packed_get(stored, TICK_BID)) == 0)
        copy_text(t->bid_qty, tick_packed_get(stored, TICK_BID_QTY), sizeof t->bid_qty);
    if (!t->ask_qty[0] && strcmp(t->ask, tick_packed_get(stored, TICK_ASK)) == 0)
        copy_text(t->ask_qty, tick_packed_get(stored, TICK_ASK_QTY), sizeof t->ask_qty);
    if (!t->last[0]) copy_text(t->last, tick_packed_get(stored, TICK_LAST), sizeof t->last);
}

static bool side_moved(const struct tick *t, const struct tick_packed *stored, enum side side) {
    return side == SIDE_BID
               ? strcmp(tick_packed_get(stored, TICK_BID), t->bid) != 0 ||
                     strcmp(tick_packed_get(stored, TICK_BID_QTY), t->bid_qty) != 0
               : strcmp(tick_packed_get(stored, TICK_ASK), t->ask) != 0 ||
                     strcmp(tick_packed_get(stored, TICK_ASK_QTY), t->ask_qty) != 0;
}

/* The stored quote of record qi as a whole merge_quote, in the scratch view. */
static const struct merge_quote *view_of(struct merge *m, uint32_t qi) {
    const struct quote_rec *r = &m->quotes[qi];
    tick_unpack(&r->tick, m->venues[r->venue], m->bbos[r->bbo].symbol, &m->view.tick);
    m->view.tick.run = r->run;
    m->view.key = r->key;
    return &m->view;
}

/* ---- held ticks ---- */

static void held_drop(struct merge *m, struct quote_rec *r) {
    if (!r->held) return;
    size_t i = r->held - 1, last = m->n_held - 1;
    tick_packed_free(&m->held[i].tick);
    if (i != last) {
        m->held[i] = m->held[last];
        m->quotes[m->held[i].quote].held = (uint32_t)i + 1;
    }
    m->n_held--;
    r->held = 0;
}

/* Keeps t as quote qi's held tick, in place of the one before. Without memory it is simply not held: the quote
 * then waits for the stream's next tick, as it would have without this. */
static void held_keep(struct merge *m, uint32_t qi, const struct tick *t) {
    struct quote_rec *r = &m->quotes[qi];
    if (!r->held) {
        if (array_reserve((void **)&m->held, &m->cap_held, m->n_held, sizeof *m->held) < 0) return;
        struct held_tick *h = &m->held[m->n_held++];
        h->quote = qi;
        tick_packed_init(&h->tick);
        r->held = (uint32_t)m->n_held;
    }
    struct held_tick *h = &m->held[r->held - 1];
    if (tick_pack(&h->tick, t) < 0) {
        held_drop(m, r);
        return;
    }
    h->run = t->run;
}

size_t merge_take_due(struct merge *m, int64_t now_us, struct tick *out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < m->n_held && n < max;) {
        struct held_tick *h = &m->held[i];
        struct quote_rec *r = &m->quotes[h->quote];
        if (!tick_run_alive(h->run, now_us)) { /* its connection is gone too: nothing vouches for it now */
            held_drop(m, r);
            continue;
        }
        if (stored_run_trusted(r, now_us)) {
            i++;
            continue;
        }
        out[n] = (struct tick){.run = h->run}; /* the packed form has no run and no bad_time */
        tick_unpack(&h->tick, m->venues[r->venue], m->bbos[r->bbo].symbol, &out[n]);
        n++;
        r->run_over = true;
        held_drop(m, r); /* moves the last entry into i: look at i again */
    }
    m->counters.released += n;
    return n;
}

size_t merge_held_count(const struct merge *m) { return m->n_held; }

int merge_apply(struct merge *m, const struct tick *t, struct merge_update *out) {
    if (!tick_ok(t)) {
        m->counters.invalid++;
        return -EINVAL;
    }
    if (t->bad_time) m->counters.bad_time++;
    struct lookup_key k = {venue_index(m, t->venue), t->symbol};
    if (k.venue < 0 && (k.venue = venue_add(m, t->venue)) < 0) return k.venue;
    uint64_t h = key_hash(&k);
    if (table_reserve(&m->quote_index) < 0) return -ENOMEM;
    struct slot *s = table_lookup(&m->quote_index, m, h, quote_same, &k);

    bool is_new = s->ref == 0, reset = false, hold = false;
    uint32_t qi;
    struct merge_key key;
    if (is_new) {
        int64_t r = quote_insert(m, t, k.venue, s, h);
        if (r < 0) return (int)r;
        qi = (uint32_t)r;
        key = key_of(t, NULL);
    } else {
        qi = s->ref - 1;
        struct quote_rec *r = &m->quotes[qi];
        if (r->withdrawn) {
            m->counters.withdrawn_refused++;
            if (out)
                *out = (struct merge_update){.quote = view_of(m, qi), .quote_id = qi, .bbo_id = r->bbo};
            return MERGE_WITHDRAWN;
        }
        key = key_of(t, &r->key);
        enum merge_result verdict = decide(t, &key, r, &reset, &hold);
        if (verdict != MERGE_ACCEPTED) {
            if (verdict == MERGE_STALE) m->counters.stale++;
            else m->counters.duplicates++;
            if (hold) held_keep(m, qi, t);
            /* the held tick's own connection caught up with the stored position: it is no newer word */
            else if (verdict == MERGE_DUPLICATE && r->held && m->held[r->held - 1].run == t->run) held_drop(m, r);
            if (out)
                *out = (struct merge_update){.quote = view_of(m, qi), .quote_id = qi, .bbo_id = m->quotes[qi].bbo};
            return verdict;
        }
    }

    /* The merged tick is built in the view, which is also what the caller gets back. */
    struct quote_rec *rec = &m->quotes[qi];
    struct tick *merged = &m->view.tick;
    *merged = *t;
    if (t->origin != TICK_ORIGIN_STREAM) merged->run = rec->run;
    if (!is_new) carry_unsent(merged, &rec->tick);
    bool bid_moved = is_new || side_moved(merged, &rec->tick, SIDE_BID);
    bool ask_moved = is_new || side_moved(merged, &rec->tick, SIDE_ASK);
    if (tick_pack(&rec->tick, merged) < 0) return -ENOMEM; /* the stored quote is unchanged */
    rec->key = key;
    if (t->origin == TICK_ORIGIN_STREAM) {
        rec->run = t->run; /* a REST answer leaves the stream's run in place */
        rec->run_over = false;
        held_drop(m, rec); /* the stream moved on: a newer word than the held one */
    }
    m->counters.resets += reset;
    rec->expired = false; /* back in the running: bbo_update_side compares it with the best as it would a new one */
    m->view.key = key;

    struct bbo_rec *b = &m->bbos[rec->bbo];
    int8_t pos = bbo_position(b, qi);
    bool bid_changed = bbo_update_side(m, b, pos, SIDE_BID, bid_moved);
    bool ask_changed = bbo_update_side(m, b, pos, SIDE_ASK, ask_moved);
    m->counters.accepted++;
    if (out)
        *out = (struct merge_update){.quote = &m->view, .quote_id = qi, .bbo_id = rec->bbo,
                                     .bbo_changed = bid_changed || ask_changed};
    return MERGE_ACCEPTED;
}

const struct merge_quote *merge_get(struct merge *m, const char *venue, const char *symbol) {
    if (!m->quote_index.slots || !venue || !symbol) return NULL;
    struct lookup_key k = {venue_index(m, venue), symbol};
    if (k.venue < 0) return NULL;
    const struct slot *s = table_lookup(&m->quote_index, m, key_hash(&k), quote_same, &k);
    return s->ref ? view_of(m, s->ref - 1) : NULL;
}

int merge_bbo_get(const struct merge *m, const char *symbol, struct merge_bbo *out) {
    if (!m->bbo_index.slots || !symbol) return -ENOENT;
    struct lookup_key k = {-1, symbol};
    const struct slot *s = table_lookup(&m->bbo_index, m, key_hash(&k), bbo_same, &k);
    return s->ref ? merge_bbo_by_id(m, s->ref - 1, out) : -ENOENT;
}

int merge_bbo_by_id(const struct merge *m, uint32_t bbo_id, struct merge_bbo *out) {
    if (bbo_id >= m->n_bbos) return -ENOENT;
    const struct bbo_rec *b = &m->bbos[bbo_id];
    copy_text(out->symbol, b->symbol, sizeof out->symbol);
    fill_side(m, b, b->best_bid, SIDE_BID, &out->bid);
    fill_side(m, b, b->best_ask, SIDE_ASK, &out->ask);
    return 0;
}

/* Takes quote qi out of its symbol's best bid and offer (it is marked out already); tells on_bbo_changed when a
 * side changed. */
static void bbo_leave(struct merge *m, uint32_t qi, merge_bbo_changed_fn on_bbo_changed, void *arg) {
    struct quote_rec *r = &m->quotes[qi];
    struct bbo_rec *b = &m->bbos[r->bbo];
    int8_t pos = bbo_position(b, qi), bid = b->best_bid, ask = b->best_ask;
    if (bid == pos) b->best_bid = best_of(m, b, NO_BEST, SIDE_BID);
    if (ask == pos) b->best_ask = best_of(m, b, NO_BEST, SIDE_ASK);
    if ((bid == pos || ask == pos) && on_bbo_changed) on_bbo_changed(arg, r->bbo);
}

size_t merge_expire(struct merge *m, int64_t received_before_us, merge_bbo_changed_fn on_bbo_changed, void *arg) {
    size_t expired = 0;
    for (uint32_t qi = 0; qi < m->n_quotes; qi++) {
        struct quote_rec *r = &m->quotes[qi];
        if (r->expired || r->withdrawn || r->tick.recv_us >= received_before_us) continue;
        r->expired = true;
        expired++;
        bbo_leave(m, qi, on_bbo_changed, arg);
    }
    m->counters.expired += expired;
    return expired;
}

int merge_withdraw(struct merge *m, const char *venue, const char *symbol, bool withdrawn,
                   merge_bbo_changed_fn on_bbo_changed, void *arg) {
    if (!m->quote_index.slots || !venue || !symbol) return -ENOENT;
    struct lookup_key k = {venue_index(m, venue), symbol};
    if (k.venue < 0) return -ENOENT;
    const struct slot *s = table_lookup(&m->quote_index, m, key_hash(&k), quote_same, &k);
    if (!s->ref) return -ENOENT;
    uint32_t qi = s->ref - 1;
    struct quote_rec *r = &m->quotes[qi];
    if (r->withdrawn == withdrawn) return 0;
    r->withdrawn = withdrawn;
    if (withdrawn) {
        held_drop(m, r); /* nothing of it comes back by merge_take_due */
        bbo_leave(m, qi, on_bbo_changed, arg);
    } else {
        r->expired = true; /* its last price is old: back in the best bid and offer with its next tick */
    }
    return 0;
}

int merge_adopt(struct merge *m, uint32_t quote_id, const struct merge_key *key) {
    if (quote_id >= m->n_quotes) return -ENOENT;
    struct quote_rec *r = &m->quotes[quote_id];
    if (key_compare(key, &r->key) <= 0) return 0;
    r->key = *key;
    r->key.positioned = key->pos != 0;
    r->run = 0;
    r->run_over = false;
    m->counters.adopted++;
    return 1;
}

void merge_counters_get(const struct merge *m, struct merge_counters *out) {
    *out = m->counters;
    out->quotes = m->n_quotes;
    out->symbols = m->n_bbos;
}
