/* venue.c -- the venue registry, the per-subscription symbol table, and the helpers every adapter shares
 * (exact decimals, times, list building). See venue.h and adapter.h. */
#include "tickd/venue.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "tickd/decimal.h"
#include "tickd/log.h"

extern const struct venue_ops venue_binance, venue_coinbase, venue_kraken, venue_okx;

/* The one table of venues: a new venue is a new file and a new row. */
static const struct venue_ops *const venues[] = {
    &venue_binance,
    &venue_coinbase,
    &venue_kraken,
    &venue_okx,
};

const struct venue_ops *venue_find(const char *name) {
    for (size_t i = 0; i < sizeof venues / sizeof venues[0]; i++)
        if (strcmp(venues[i]->name, name) == 0) return venues[i];
    return NULL;
}

const struct venue_ops *venue_at(size_t i) {
    return i < sizeof venues / sizeof venues[0] ? venues[i] : NULL;
}

const struct venue_channel *venue_channel_find(const struct venue_ops *v, const char *name) {
    for (const struct venue_channel *c = v->channels; c && c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

void venue_channel_list(const struct venue_ops *v, char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (const struct venue_channel *c = v->channels; c && c->name && len < cap; c++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", c->name);
}

const char *venue_msg_name(enum venue_msg kind) {
    static const char *const names[] = {
        [VENUE_MSG_TICKS] = "ticks",
        [VENUE_MSG_HEARTBEAT] = "heartbeat",
        [VENUE_MSG_SUBSCRIBED] = "subscribed",
        [VENUE_MSG_PONG] = "pong",
        [VENUE_MSG_STATUS] = "status",
        [VENUE_MSG_PLANNED_CLOSE] = "planned_close",
        [VENUE_MSG_ERROR] = "error",
        [VENUE_MSG_RATE_LIMITED] = "rate_limited",
        [VENUE_MSG_UNAVAILABLE] = "unavailable",
        [VENUE_MSG_UNKNOWN] = "unknown",
        [VENUE_MSG_MALFORMED] = "malformed",
    };
    if ((unsigned)kind >= sizeof names / sizeof names[0]) return "?";
    return names[kind];
}

/* ---- symbol table ---------------------------------------------------------------------------------- */

/* 16 bytes a slot: the key text lives in the table's pool, so the slot holds a pointer to it. */
struct venue_alias_slot {
    int32_t index; /* -1: empty */
    uint32_t hash;
    const char *key;
};

static uint32_t name_hash(const char *p, size_t len) {
    uint32_t h = 2166136261u; /* FNV-1a: short keys, no need for more */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static struct venue_alias_slot *slot_for(const struct venue_symbols *s, const char *name, size_t len, uint32_t h) {
    for (size_t i = h & s->slot_mask;; i = (i + 1) & s->slot_mask) {
        struct venue_alias_slot *slot = &s->slots[i];
        if (slot->index < 0) return slot;
        if (slot->hash == h && strncmp(slot->key, name, len) == 0 && slot->key[len] == 0) return slot;
    }
}

bool venue_symbols_mute(struct venue_symbols *s, size_t i, bool muted) {
    if (i >= s->n || s->list[i].muted == muted) return false;
    s->list[i].muted = muted;
    s->muted_gen++;
    return true;
}

int venue_symbols_find(const struct venue_symbols *s, const char *name, size_t len) {
    if (!s->slots || len >= VENUE_NAME_MAX) return -1;
    return slot_for(s, name, len, name_hash(name, len))->index;
}

/* Adds one alias (key points into the pool); an alias already naming the same symbol is fine, one naming
 * another symbol is a conflict. */
static int add_alias(struct venue_symbols *s, const char *key, int32_t index) {
    size_t len = strlen(key);
    uint32_t h = name_hash(key, len);
    struct venue_alias_slot *slot = slot_for(s, key, len, h);
    if (slot->index >= 0) return slot->index == index ? 0 : -EINVAL;
    *slot = (struct venue_alias_slot){.index = index, .hash = h, .key = key};
    return 0;
}

/* Every text of one symbol: the normalized name first, then ws, rest and the aliases. */
#define NAME_TEXTS (3 + VENUE_ALIAS_MAX)

static size_t name_texts(const char *norm, const struct venue_names_buf *nb, const char *out[NAME_TEXTS]) {
    size_t n = 0;
    out[n++] = norm;
    out[n++] = nb->ws;
    out[n++] = nb->rest;
    for (size_t a = 0; a < nb->n_alias && a < VENUE_ALIAS_MAX; a++) out[n++] = nb->alias[a];
    return n;
}

/* Where texts[i] sits in the pool: a repeat of an earlier text of the same symbol (ws == rest == alias on
 * Coinbase and OKX) shares its copy; a new one is appended at *used (NULL pool: only counted). */
static const char *pool_put(char *pool, size_t *used, const char *const *texts, const char **placed, size_t i) {
    for (size_t j = 0; j < i; j++)
        if (strcmp(texts[j], texts[i]) == 0) return placed[j];
    size_t len = strlen(texts[i]) + 1;
    const char *at = pool ? memcpy(pool + *used, texts[i], len) : NULL;
    *used += len;
    return at;
}

/* Names one symbol and places its texts in the pool (or only measures them when pool is NULL). Returns the
 * number of texts or -EINVAL. */
static int place_names(const struct venue_ops *venue, const char *norm, char *pool, size_t *used,
                       const char *placed[NAME_TEXTS]) {
    struct venue_names_buf nb;
    if (strlen(norm) >= TICK_SYMBOL_MAX || venue->names(norm, &nb) != 0) return -EINVAL;
    const char *texts[NAME_TEXTS];
    size_t n = name_texts(norm, &nb, texts);
    for (size_t i = 0; i < n; i++) placed[i] = pool_put(pool, used, texts, placed, i);
    return (int)n;
}

/* Two passes over the names: the first measures the pool and counts the keys, the second fills the pool and
 * the hash, so every text is stored once and exactly (a symbol costs its 24-byte entry, its distinct texts
 * and two 16-byte slots per name; fixed arrays cost 328 bytes + 56-byte slots). At load <= 1/2 every
 * frame's lookup stays a probe or two. */
int venue_symbols_init(struct venue_symbols *s, const struct venue_ops *venue, const char *const *norm, size_t n) {
    memset(s, 0, sizeof *s);
    s->venue = venue;
    size_t bytes = 0, keys = 0;
    const char *placed[NAME_TEXTS];
    for (size_t i = 0; i < n; i++) {
        int texts = place_names(venue, norm[i], NULL, &bytes, placed);
        if (texts < 0) {
            log_error("venue", "symbol unknown to venue", "venue=%s symbol=%s", venue->name, norm[i]);
            return -EINVAL;
        }
        keys += (size_t)texts - 2; /* ws and rest are not looked up (unless also an alias) */
    }
    size_t slots = 8;
    while (slots < 2 * keys) slots *= 2;
    s->list = calloc(n ? n : 1, sizeof *s->list);
    s->pool = malloc(bytes ? bytes : 1);
    s->slots = malloc(slots * sizeof *s->slots);
    if (!s->list || !s->pool || !s->slots) {
        venue_symbols_free(s);
        return -ENOMEM;
    }
    s->slot_mask = slots - 1;
    for (size_t i = 0; i < slots; i++) s->slots[i].index = -1;
    size_t used = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int texts = place_names(venue, norm[i], s->pool, &used, placed);
        s->list[i] = (struct venue_symbol){.norm = placed[0], .names = {.ws = placed[1], .rest = placed[2]}};
        s->n = i + 1;
        /* The normalized name is added first, so a duplicate symbol in the list is caught here. */
        rc = add_alias(s, placed[0], (int32_t)i);
        for (int a = 3; a < texts && rc == 0; a++) rc = add_alias(s, placed[a], (int32_t)i);
        if (rc != 0) log_error("venue", "symbol listed twice", "venue=%s symbol=%s", venue->name, norm[i]);
    }
    if (rc != 0) venue_symbols_free(s);
    return rc;
}

void venue_symbols_free(struct venue_symbols *s) {
    free(s->list);
    free(s->slots);
    free(s->pool);
    s->list = NULL;
    s->slots = NULL;
    s->pool = NULL;
    s->n = 0;
}

/* ---- output ---------------------------------------------------------------------------------------- */

void venue_out_init(struct venue_out *out, struct tick *ticks, size_t cap, int64_t recv_us, int64_t sent_us) {
    out->ticks = ticks;
    out->cap = cap;
    out->n = out->unmapped = out->overflow = 0;
    out->recv_us = recv_us;
    out->sent_us = sent_us;
    out->run = 0;
    out->detail[0] = 0;
    out->trades = NULL;
    out->trades_cap = out->n_trades = 0;
    out->books = NULL;
    out->changes = NULL;
    out->books_cap = out->n_books = out->changes_cap = out->n_changes = 0;
    out->precisions = NULL;
}

void venue_out_books(struct venue_out *out, struct book_update *books, size_t books_cap, struct book_change *changes,
                     size_t changes_cap) {
    out->books = books;
    out->books_cap = books_cap;
    out->changes = changes;
    out->changes_cap = changes_cap;
    out->n_books = out->n_changes = 0;
}

/* A valid decimal of only zeros ("0", "0.000"): a price no book holds. */
static bool span_is_zero(const char *p, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (p[i] != '0' && p[i] != '.') return false;
    return true;
}

struct book_update *venue_book_add(struct venue_out *out, const struct venue_symbols *s, int index,
                                   enum book_update_kind kind) {
    if (index < 0 || (size_t)index >= s->n) {
        out->unmapped++;
        return NULL;
    }
    if (out->n_books >= out->books_cap) {
        out->overflow++;
        return NULL;
    }
    struct book_update *u = &out->books[out->n_books++];
    memset(u, 0, sizeof *u);
    u->symbol = index;
    u->kind = kind;
    u->first_change = out->n_changes;
    return u;
}

int venue_book_change(struct venue_out *out, struct book_update *u, enum book_side side, const char *price,
                      size_t plen, const char *qty, size_t qlen) {
    if (!plen || plen >= BOOK_TEXT_MAX || !qlen || qlen >= BOOK_TEXT_MAX || !decimal_span_valid(price, plen) ||
        !decimal_span_valid(qty, qlen) || price[0] == '-' || qty[0] == '-' || span_is_zero(price, plen))
        return -1;
    if (!u) return 0; /* an unmapped symbol's, or beyond the updates' cap: judged, not kept */
    if (out->n_changes >= out->changes_cap) {
        out->overflow++;
        return 0;
    }
    struct book_change *c = &out->changes[out->n_changes++];
    memcpy(c->price, price, plen);
    c->price[plen] = 0;
    memcpy(c->qty, qty, qlen);
    c->qty[qlen] = 0;
    c->side = (uint8_t)side;
    u->n_changes++;
    return 0;
}

int venue_book_change_json(struct venue_out *out, struct book_update *u, enum book_side side, const json_t *price,
                           const json_t *qty) {
    char p[TICK_DECIMAL_MAX], q[TICK_DECIMAL_MAX];
    int rc = json_is_string(price) ? venue_copy_decimal_str(p, price) : venue_copy_decimal_num(p, price);
    if (rc < 0 || !p[0]) return -1;
    rc = json_is_string(qty) ? venue_copy_decimal_str(q, qty) : venue_copy_decimal_num(q, qty);
    if (rc < 0 || !q[0]) return -1;
    return venue_book_change(out, u, side, p, strlen(p), q, strlen(q));
}

enum venue_msg venue_parse_book_frame(const char *text, size_t len, size_t flags, venue_json_fn *fn,
                                      const struct venue_symbols *s, struct venue_out *out) {
    size_t books = out->n_books, changes = out->n_changes;
    enum venue_msg kind = venue_parse_frame(text, len, flags, fn, s, out);
    if (kind != VENUE_MSG_TICKS) {
        out->n_books = books;
        out->n_changes = changes;
    }
    return kind;
}

enum venue_msg venue_parse_book_answer(const struct venue_request *req, int http_status, const char *body,
                                       size_t len, const char *detail_key, venue_json_fn *fn,
                                       const struct venue_symbols *s, struct venue_out *out) {
    size_t books = out->n_books, changes = out->n_changes;
    enum venue_msg kind = venue_parse_answer(req, http_status, body, len, detail_key, fn, s, out);
    if (kind != VENUE_MSG_TICKS) {
        out->n_books = books;
        out->n_changes = changes;
    }
    return kind;
}

void venue_out_trades(struct venue_out *out, struct trade *trades, size_t cap) {
    out->trades = trades;
    out->trades_cap = cap;
    out->n_trades = 0;
}

struct trade *venue_trade_add(struct venue_out *out, const struct venue_symbols *s, int index,
                              enum tick_origin origin) {
    if (out->n_trades >= out->trades_cap) {
        out->overflow++;
        return NULL;
    }
    struct trade *t = &out->trades[out->n_trades++];
    memset(t, 0, sizeof *t);
    strcpy(t->venue, s->venue->name);
    strcpy(t->symbol, s->list[index].norm);
    t->recv_us = out->recv_us;
    t->origin = origin;
    t->run = origin == TICK_ORIGIN_STREAM ? out->run : 0;
    return t;
}

void venue_trade_time(struct trade *t, int64_t event_us) {
    t->event_us = tick_event_time_bound(event_us, t->recv_us);
    t->bad_time = event_us != 0 && t->event_us == 0;
}

int venue_json_trade_id(char dst[TRADE_ID_MAX], const json_t *v) {
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        fmt_u64_str(dst, (uint64_t)json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0 && d < 9007199254740992.0) || d != (double)(uint64_t)d) return -1;
        fmt_u64_str(dst, (uint64_t)d);
        return 0;
    }
    if (!json_is_string(v)) return -1;
    const char *p = json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0 || len >= TRADE_ID_MAX) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || c == '_' ||
              c == '-'))
            return -1;
    }
    memcpy(dst, p, len + 1);
    return 0;
}

int venue_json_side(const json_t *v, bool maker, enum trade_side *side) {
    bool buy = venue_json_is(v, "buy");
    if (!buy && !venue_json_is(v, "sell")) return -1;
    *side = buy != maker ? TRADE_SIDE_BUY : TRADE_SIDE_SELL;
    return 0;
}

/* A trade is a market's: a price and a quantity above zero (a tick's sizes may be zero, a trade's not). */
static bool trade_fields_ok(const struct venue_trade_fields *f) {
    return decimal_sign(f->price) == 1 && decimal_sign(f->qty) == 1 && f->id[0];
}

int venue_trade_put(struct venue_out *out, const struct venue_symbols *s, const json_t *symbol,
                    const struct venue_trade_fields *f) {
    return venue_trade_put_as(out, s, symbol, f, TICK_ORIGIN_STREAM);
}

int venue_trade_put_as(struct venue_out *out, const struct venue_symbols *s, const json_t *symbol,
                       const struct venue_trade_fields *f, enum tick_origin origin) {
    if (!trade_fields_ok(f)) return -1;
    int index = venue_json_symbol(s, symbol);
    if (index == -2) return -1;
    return venue_trade_put_index(out, s, index, f, origin);
}

int venue_trade_put_index(struct venue_out *out, const struct venue_symbols *s, int index,
                          const struct venue_trade_fields *f, enum tick_origin origin) {
    if (!trade_fields_ok(f)) return -1;
    if (index < 0 || (size_t)index >= s->n) {
        out->unmapped++;
        return 0;
    }
    struct trade *t = venue_trade_add(out, s, index, origin);
    if (!t) return 0;
    memcpy(t->id, f->id, sizeof t->id);
    memcpy(t->price, f->price, sizeof t->price);
    memcpy(t->qty, f->qty, sizeof t->qty);
    t->side = f->side;
    venue_trade_time(t, f->event_us);
    return 0;
}

struct tick *venue_out_add(struct venue_out *out, const struct venue_symbols *s, int index, enum tick_origin origin) {
    if (out->n >= out->cap) {
        out->overflow++;
        return NULL;
    }
    struct tick *t = &out->ticks[out->n++];
    memset(t, 0, sizeof *t);
    strcpy(t->venue, s->venue->name);
    strcpy(t->symbol, s->list[index].norm);
    t->recv_us = out->recv_us;
    t->sent_us = origin == TICK_ORIGIN_REST ? out->sent_us : 0;
    t->origin = origin;
    t->run = out->run;
    return t;
}

void venue_out_truncate(struct venue_out *out, size_t n) {
    if (n < out->n) out->n = n;
}

struct venue_out_mark venue_out_mark(const struct venue_out *out) {
    return (struct venue_out_mark){.n = out->n, .unmapped = out->unmapped, .overflow = out->overflow};
}

void venue_out_rewind(struct venue_out *out, const struct venue_out_mark *mark) {
    out->n = mark->n;
    out->unmapped = mark->unmapped;
    out->overflow = mark->overflow;
}

bool venue_fast_paths_on = true;

void venue_fast_paths(bool enabled) { venue_fast_paths_on = enabled; }

void venue_out_detail(struct venue_out *out, const json_t *v) {
    if (json_is_string(v))
        snprintf(out->detail, sizeof out->detail, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out->detail, sizeof out->detail, "%lld", (long long)json_integer_value(v));
}

enum venue_msg venue_rest_status(int http_status) {
    if (http_status == 429 || http_status == 418) return VENUE_MSG_RATE_LIMITED;
    if (http_status >= 500) return VENUE_MSG_UNAVAILABLE;
    if (http_status >= 200 && http_status < 300) return VENUE_MSG_TICKS;
    return VENUE_MSG_ERROR;
}

/* ---- JSON field helpers ---------------------------------------------------------------------------- */

int venue_out_checked(struct venue_out *out, size_t mark, int kind) {
    if (kind != VENUE_MSG_TICKS) return kind;
    for (size_t i = mark; i < out->n; i++) {
        if (!decimal_tick_values_ok(&out->ticks[i])) {
            venue_out_truncate(out, mark);
            return VENUE_MSG_MALFORMED;
        }
    }
    return kind;
}

enum venue_msg venue_parse_frame(const char *text, size_t len, size_t flags, venue_json_fn *fn,
                                 const struct venue_symbols *s, struct venue_out *out) {
    venue_arena_begin();
    json_t *root = json_loadb(text, len, flags, NULL);
    size_t mark = out->n;
    enum venue_msg kind = root ? fn(root, NULL, s, out) : VENUE_MSG_MALFORMED;
    kind = (enum venue_msg)venue_out_checked(out, mark, (int)kind);
    if (kind != VENUE_MSG_TICKS) venue_out_truncate(out, mark);
    json_decref(root);
    venue_arena_end();
    return kind;
}

enum venue_msg venue_parse_trade_frame(const char *text, size_t len, size_t flags, venue_json_fn *fn,
                                       const struct venue_symbols *s, struct venue_out *out) {
    size_t mark = out->n_trades;
    enum venue_msg kind = venue_parse_frame(text, len, flags, fn, s, out);
    if (kind != VENUE_MSG_TICKS && out->n_trades > mark) out->n_trades = mark;
    return kind;
}

enum venue_msg venue_parse_answer(const struct venue_request *req, int http_status, const char *body, size_t len,
                                  const char *detail_key, venue_json_fn *fn, const struct venue_symbols *s,
                                  struct venue_out *out) {
    venue_arena_begin();
    json_t *root = json_loadb(body, len, 0, NULL);
    size_t mark = out->n;
    enum venue_msg kind = venue_rest_status(http_status);
    if (kind == VENUE_MSG_TICKS)
        kind = root ? (enum venue_msg)venue_out_checked(out, mark, (int)fn(root, req, s, out)) : VENUE_MSG_MALFORMED;
    else if (json_is_object(root) && detail_key)
        venue_out_detail(out, json_object_get(root, detail_key));
    if (kind != VENUE_MSG_TICKS) venue_out_truncate(out, mark);
    json_decref(root);
    venue_arena_end();
    return kind;
}

/* Trade ids in order: as numbers where both are (trade_id_number), else as text. */
static int trade_id_cmp(const char *a, const char *b) {
    uint64_t x, y;
    if (trade_id_number(a, &x) && trade_id_number(b, &y)) return x < y ? -1 : x > y;
    return strcmp(a, b);
}

/* Sorts trades [0, n) by id, ascending. Answers come oldest first or newest first: a descending run is turned
 * over first, so the insertion sort that follows has next to nothing to move (and keeps equal ids in order). */
static void trades_sort(struct trade *t, size_t n) {
    if (n < 2) return;
    bool descending = true;
    for (size_t i = 1; i < n && descending; i++) descending = trade_id_cmp(t[i - 1].id, t[i].id) > 0;
    if (descending)
        for (size_t i = 0, j = n - 1; i < j; i++, j--) {
            struct trade tmp = t[i];
            t[i] = t[j];
            t[j] = tmp;
        }
    for (size_t i = 1; i < n; i++) {
        if (trade_id_cmp(t[i - 1].id, t[i].id) <= 0) continue;
        struct trade tmp = t[i];
        size_t j = i;
        for (; j > 0 && trade_id_cmp(t[j - 1].id, tmp.id) > 0; j--) t[j] = t[j - 1];
        t[j] = tmp;
    }
}

enum venue_msg venue_parse_trade_answer(const struct venue_request *req, int http_status, const char *body,
                                        size_t len, const char *detail_key, venue_json_fn *fn,
                                        const struct venue_symbols *s, struct venue_out *out) {
    size_t mark = out->n_trades;
    enum venue_msg kind = venue_parse_answer(req, http_status, body, len, detail_key, fn, s, out);
    if (kind != VENUE_MSG_TICKS) {
        if (out->n_trades > mark) out->n_trades = mark;
        return kind;
    }
    if (out->n_trades > mark) trades_sort(out->trades + mark, out->n_trades - mark);
    return kind;
}

bool venue_json_is(const json_t *v, const char *lit) {
    return json_is_string(v) && strcmp(json_string_value(v), lit) == 0;
}

int venue_json_symbol(const struct venue_symbols *s, const json_t *v) {
    if (!json_is_string(v)) return -2;
    return venue_symbols_find(s, json_string_value(v), json_string_length(v));
}

int venue_json_uint(const json_t *v, uint64_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int venue_ms_text(const char *p, size_t len, int64_t *us) {
    if (len == 0 || len > 15) return -1; /* 15 digits of ms reach the year 33658 */
    int64_t ms = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        ms = ms * 10 + (p[i] - '0');
    }
    *us = ms * 1000;
    return 0;
}

int64_t venue_ms_to_us(uint64_t ms) {
    return ms > (uint64_t)INT64_MAX / 1000 ? -1 : (int64_t)ms * 1000;
}

void venue_event_time(struct tick *t, int64_t event_us, bool orders) {
    t->event_us = tick_event_time_bound(event_us, t->recv_us);
    t->bad_time = t->event_us == 0;
    if (!orders) return;
    t->seq = t->event_us ? (uint64_t)t->event_us : t->recv_us > 0 ? (uint64_t)t->recv_us : 0;
    t->has_seq = true;
}

int venue_json_ms_text(const json_t *v, int64_t *us) {
    return json_is_string(v) ? venue_ms_text(json_string_value(v), json_string_length(v), us) : -1;
}

int venue_json_rfc3339(const json_t *v, int64_t *us) {
    if (!json_is_string(v)) return -1;
    return venue_parse_rfc3339(json_string_value(v), json_string_length(v), us);
}

/* ---- exact decimals -------------------------------------------------------------------------------- */

int venue_copy_decimal_span(char dst[TICK_DECIMAL_MAX], const char *p, size_t len) {
    if (len >= TICK_DECIMAL_MAX || (len > 0 && !decimal_span_valid(p, len))) return -1;
    memcpy(dst, p, len);
    dst[len] = 0;
    return 0;
}

int venue_copy_decimal_str(char dst[TICK_DECIMAL_MAX], const json_t *v) {
    if (!json_is_string(v)) return -1;
    return venue_copy_decimal_span(dst, json_string_value(v), json_string_length(v));
}

int venue_copy_decimal_num(char dst[TICK_DECIMAL_MAX], const json_t *v) {
    if (json_is_integer(v)) {
        long long i = json_integer_value(v);
        char tmp[24];
        size_t n = fmt_u64_str(tmp, i < 0 ? 0ull - (unsigned long long)i : (unsigned long long)i);
        if (n + (i < 0) >= TICK_DECIMAL_MAX) return -1;
        char *d = dst;
        if (i < 0) *d++ = '-';
        memcpy(d, tmp, n + 1);
        return 0;
    }
    if (!json_is_real(v)) return -1;
    return venue_decimal_shortest(json_real_value(v), dst, TICK_DECIMAL_MAX) < 0 ? -1 : 0;
}

/* A double keeps 15 significant decimal digits (DBL_DIG): every decimal of at most 15 significant digits in the
 * normal range reads to a double that prints back, at 1 to 15 digits, as the decimal itself rounded -- so no
 * shorter text reads back to it, and at its own digit count it prints as itself. venue_decimal_shortest's
 * binary search then only ever tests counts up to 15 and lands on exactly this text whenever the text is also
 * in its plain form: no exponent, no leading zeros, no trailing fraction zeros, no "-0". Under 40 characters
 * the value is far inside the normal range. */
bool venue_number_is_shortest(const char *p, size_t len) {
    if (len == 0 || len >= TICK_DECIMAL_MAX) return false;
    const char *end = p + len;
    if (*p == '-') p++;
    if (p == end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < end && p[1] != '.')) return false;
    const char *int_start = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    const char *int_end = p, *frac_start = p, *frac_end = p;
    if (p < end) {
        if (*p != '.') return false;
        frac_start = ++p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        frac_end = p;
        if (p != end || frac_end == frac_start || frac_end[-1] == '0') return false;
    }
    bool int_zero = int_end - int_start == 1 && *int_start == '0';
    if (int_zero && frac_end == frac_start) return len == 1; /* "0" yes, "-0" prints as "0" */
    /* Significant digits: from the first non-zero digit to the last non-zero one. */
    const char *first = int_zero ? frac_start : int_start;
    while (*first == '0') first++;
    const char *last = frac_end > frac_start ? frac_end - 1 : int_end - 1;
    while (*last == '0') last--;
    size_t digits = (size_t)(last - first) + 1 - (first < int_end && last >= frac_start);
    return digits <= 15;
}

int venue_copy_decimal_real(char dst[TICK_DECIMAL_MAX], const char *p, size_t len) {
    if (venue_number_is_shortest(p, len)) {
        memcpy(dst, p, len);
        dst[len] = 0;
        return 0;
    }
    char text[64];
    if (len >= sizeof text) return -1;
    memcpy(text, p, len);
    text[len] = 0;
    return venue_decimal_shortest(strtod(text, NULL), dst, TICK_DECIMAL_MAX) < 0 ? -1 : 0;
}

/* The common case without printf: |v| is m / 10^k for an integer m below 10^15 and the fewest k. Division of two
 * exact doubles rounds correctly, so m / 10^k == |v| says the decimal m·10^-k reads back to v; and two decimals of
 * at most 15 significant digits never read as the same double (DBL_DIG), so the first such k gives the digits the
 * search below would find. Returns the length, 0 when v is not such a number, -1 when it does not fit. */
static int shortest_fixed(double v, char *buf, size_t cap) {
    static const double p10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    double a = fabs(v);
    if (!(a < 1e15) || a == 0) return 0;
    for (int k = 0; k < 16; k++) {
        double scaled = a * p10[k];
        if (scaled >= 1e15) return 0;
        double m = nearbyint(scaled);
        if (m / p10[k] != a) continue;
        char digits[24];
        size_t nd = fmt_u64_str(digits, (uint64_t)m);
        size_t intd = nd > (size_t)k ? nd - (size_t)k : 0; /* digits before the point */
        size_t need = (v < 0) + (intd ? intd : 1) + (k ? 1 + (size_t)k : 0);
        if (need + 1 > cap) return -1;
        size_t o = 0;
        if (v < 0) buf[o++] = '-';
        if (intd) {
            memcpy(buf + o, digits, intd);
            o += intd;
        } else {
            buf[o++] = '0';
        }
        if (k) {
            buf[o++] = '.';
            for (size_t i = nd; i < (size_t)k; i++) buf[o++] = '0'; /* leading zeros of the fraction */
            memcpy(buf + o, digits + intd, nd - intd);
            o += nd - intd;
        }
        buf[o] = 0;
        return (int)o;
    }
    return 0;
}

int venue_decimal_shortest(double v, char *buf, size_t cap) {
    if (!isfinite(v) || cap == 0) return -1;
    if (v == 0) v = 0; /* -0 prints as "0" */
    int fixed = shortest_fixed(v, buf, cap);
    if (fixed != 0) return fixed;
    /* Round-tripping is monotone in the digit count (17 always works), so a binary search finds the fewest
     * digits in about four snprintf/strtod pairs instead of up to seventeen. */
    char sci[40];
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(sci, sizeof sci, "%.*e", mid - 1, v);
        if (strtod(sci, NULL) == v)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(sci, sizeof sci, "%.*e", lo - 1, v);
    /* sci is "[-]d[.ddd]e[+-]XX": collect the digits and the exponent, then place the point ourselves. */
    const char *p = sci;
    bool neg = *p == '-';
    if (neg) p++;
    char digits[20];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    if (nd == 1 && digits[0] == '0') exp10 = 0;

    int point = exp10 + 1; /* digits before the decimal point */
    size_t need = neg + (point <= 0 ? 2 + (size_t)(-point) + nd
                                    : (size_t)point >= nd ? (size_t)point : nd + 1);
    if (need + 1 > cap) return -1;
    size_t o = 0;
    if (neg) buf[o++] = '-';
    if (point <= 0) {
        buf[o++] = '0';
        buf[o++] = '.';
        for (int i = 0; i < -point; i++) buf[o++] = '0';
        for (size_t i = 0; i < nd; i++) buf[o++] = digits[i];
    } else {
        for (int i = 0; i < point; i++) buf[o++] = (size_t)i < nd ? digits[i] : '0';
        if ((size_t)point < nd) {
            buf[o++] = '.';
            for (size_t i = (size_t)point; i < nd; i++) buf[o++] = digits[i];
        }
    }
    buf[o] = 0;
    return (int)o;
}

/* ---- times ----------------------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Reads exactly n digits at s[*i]. */
static int digits_at(const char *s, size_t len, size_t *i, int n, int *out) {
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9') return -1;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char *s, size_t len, size_t *i, const char *chars) {
    if (*i >= len || !strchr(chars, s[*i]) || s[*i] == 0) return -1;
    (*i)++;
    return 0;
}

int venue_parse_rfc3339(const char *s, size_t len, int64_t *us) {
    size_t i = 0;
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    if (digits_at(s, len, &i, 4, &y) || expect(s, len, &i, "-") || digits_at(s, len, &i, 2, &mo) ||
        expect(s, len, &i, "-") || digits_at(s, len, &i, 2, &d) || expect(s, len, &i, "Tt ") ||
        digits_at(s, len, &i, 2, &h) || expect(s, len, &i, ":") || digits_at(s, len, &i, 2, &mi) ||
        expect(s, len, &i, ":") || digits_at(s, len, &i, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int n = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++)
            if (n < 6) frac = frac * 10 + (s[i] - '0'); /* digits past microseconds are dropped */
        if (n == 0) return -1;
        for (; n < 6; n++) frac *= 10;
    }
    if (i >= len) return -1;
    int sign = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else {
        sign = s[i] == '+' ? 1 : s[i] == '-' ? -1 : 0;
        if (!sign) return -1;
        i++;
        if (digits_at(s, len, &i, 2, &oh) || expect(s, len, &i, ":") || digits_at(s, len, &i, 2, &om)) return -1;
        if (oh > 23 || om > 59) return -1;
    }
    if (i != len) return -1;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
                   sign * (oh * 3600 + om * 60);
    *us = secs * 1000000 + frac;
    return 0;
}

/* ---- names and lists ------------------------------------------------------------------------------- */

static bool is_symbol_part(const char *p, size_t len) {
    if (len == 0 || len >= TICK_SYMBOL_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9'))) return false;
    return true;
}

int venue_split_symbol(const char *norm, char base[TICK_SYMBOL_MAX], char quote[TICK_SYMBOL_MAX]) {
    int parts = 0;
    const char *p = norm;
    for (;;) {
        const char *dash = strchr(p, '-');
        size_t len = dash ? (size_t)(dash - p) : strlen(p);
        if (!is_symbol_part(p, len)) return -1;
        if (parts < 2) {
            char *dst = parts == 0 ? base : quote;
            memcpy(dst, p, len);
            dst[len] = 0;
        }
        parts++;
        if (!dash) break;
        p = dash + 1;
    }
    return parts >= 2 ? parts : -1;
}

int venue_names_same(const char *norm, int min_parts, int max_parts, struct venue_names_buf *out) {
    char base[TICK_SYMBOL_MAX], quote[TICK_SYMBOL_MAX];
    memset(out, 0, sizeof *out);
    int parts = venue_split_symbol(norm, base, quote);
    if (parts < min_parts || parts > max_parts || strlen(norm) >= VENUE_NAME_MAX) return -EINVAL;
    strcpy(out->ws, norm);
    strcpy(out->rest, norm);
    strcpy(out->alias[0], norm);
    out->n_alias = 1;
    return 0;
}

int venue_fixed_path(const char *path, char *buf, size_t cap) {
    size_t len = strlen(path);
    if (len >= cap) return -ENOSPC;
    memcpy(buf, path, len + 1);
    return (int)len;
}

int venue_concat(char *dst, size_t cap, const char *a, const char *b, const char *c) {
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    if (la + lb + lc >= cap) {
        dst[0] = 0;
        return -1;
    }
    memcpy(dst, a, la);
    memcpy(dst + la, b, lb);
    memcpy(dst + la + lb, c, lc + 1);
    return 0;
}

size_t venue_msg_cap(const struct venue_symbols *s, size_t cap) {
    return s->venue->ws_msg_max && s->venue->ws_msg_max < cap ? s->venue->ws_msg_max : cap;
}

static size_t put(char *buf, size_t at, const char *s) {
    size_t len = strlen(s);
    memcpy(buf + at, s, len);
    return at + len;
}

int venue_join(const struct venue_symbols *s, size_t first, size_t count, const struct venue_list_fmt *f, char *buf,
               size_t cap, size_t *next) {
    size_t pre = strlen(f->item_pre), post = strlen(f->item_post), sep = strlen(f->sep), tail = strlen(f->tail);
    size_t len = strlen(f->head);
    if (len + tail >= cap) return -ENOSPC;
    put(buf, 0, f->head);
    size_t i = first;
    for (; i < first + count && i < s->n; i++) {
        const struct venue_names *nm = &s->list[i].names;
        const char *name = f->rest_name ? nm->rest : nm->ws;
        size_t item = (i > first ? sep : 0) + pre + strlen(name) + post;
        if (len + item + tail >= cap) break;
        if (i > first) len = put(buf, len, f->sep);
        len = put(buf, len, f->item_pre);
        len = put(buf, len, name);
        len = put(buf, len, f->item_post);
    }
    if (i == first && count > 0) return -ENOSPC;
    len = put(buf, len, f->tail);
    buf[len] = 0;
    *next = i;
    return (int)len;
}

/* ---- connection planning --------------------------------------------------------------------------- */

int venue_ws_plan(const struct venue_ops *v, size_t n, struct venue_range *ranges, size_t cap) {
    size_t per = v->ws_max_symbols ? v->ws_max_symbols : (n ? n : 1);
    size_t conns = n ? (n + per - 1) / per : 0;
    if (conns > cap) return -ENOSPC;
    /* Even shares leave every connection the same headroom for later additions. */
    size_t first = 0;
    for (size_t c = 0; c < conns; c++) {
        size_t count = n / conns + (c < n % conns);
        ranges[c] = (struct venue_range){.first = first, .count = count};
        first += count;
    }
    return (int)conns;
}
