/* instruments.c -- the checks and the answer flow every venue's instrument list goes through. See instruments.h. */
#include "instruments.h"

#include <string.h>

#include "adapter.h"
#include "tickd/decimal.h"

void venue_instrument_text_init(struct venue_instrument_text *t) {
    memset(t, 0, sizeof *t);
    t->status = INSTRUMENT_HALTED;
    t->price_decimals = t->size_decimals = -1;
}

/* 1..cap-1 bytes of printable ASCII, no quote or backslash (a venue's name, as JSON and Redis keys carry it). */
static bool name_ok(const char *s, size_t cap, bool may_be_empty) {
    size_t n = strlen(s);
    if (n >= cap || (n == 0 && !may_be_empty)) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\') return false;
    return true;
}

/* A part of tickd's symbol: upper-case letters and digits. */
static bool part_ok(const char *s) {
    if (!s[0]) return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) return false;
    return true;
}

/* A size as the venue wrote it: "" or a decimal not below zero that fits a field. */
static bool size_ok(const char *s) {
    return !s[0] || (strlen(s) < INSTRUMENT_DECIMAL_MAX && decimal_valid(s) && decimal_sign(s) >= 0);
}

static bool status_ok(const char *s) {
    size_t n = strlen(s);
    if (n >= INSTRUMENT_STATUS_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] >= 0x7f) return false;
    return true;
}

static bool decimals_ok(int d) { return d >= -1 && d <= INSTRUMENT_DECIMALS_MAX; }

int venue_instrument_put(struct instrument_list *out, const struct venue_instrument_text *t) {
    if (!size_ok(t->tick_size) || !size_ok(t->lot_size) || !status_ok(t->venue_status) ||
        !decimals_ok(t->price_decimals) || !decimals_ok(t->size_decimals) || t->status > INSTRUMENT_DELISTED)
        return VENUE_INST_MALFORMED;
    size_t lb = strlen(t->base_norm), lq = strlen(t->quote_norm);
    if (t->unnamed || !part_ok(t->base_norm) || !part_ok(t->quote_norm) || lb + 1 + lq >= TICK_SYMBOL_MAX ||
        !name_ok(t->venue_symbol, INSTRUMENT_NAME_MAX, false) || !name_ok(t->base, INSTRUMENT_ASSET_MAX, true) ||
        !name_ok(t->quote, INSTRUMENT_ASSET_MAX, true)) {
        out->skipped++;
        return VENUE_INST_OK;
    }
    struct instrument *in = instrument_list_add(out);
    if (!in) return VENUE_INST_NOMEM;
    memcpy(in->symbol, t->base_norm, lb);
    in->symbol[lb] = '-';
    memcpy(in->symbol + lb + 1, t->quote_norm, lq + 1);
    strcpy(in->venue_symbol, t->venue_symbol); /* lengths checked above */
    strcpy(in->base, t->base);
    strcpy(in->quote, t->quote);
    strcpy(in->venue_status, t->venue_status);
    strcpy(in->tick_size, t->tick_size);
    strcpy(in->lot_size, t->lot_size);
    in->price_decimals =
        t->price_decimals >= 0 ? (uint8_t)t->price_decimals : instrument_decimals_of(t->tick_size);
    in->size_decimals = t->size_decimals >= 0 ? (uint8_t)t->size_decimals : instrument_decimals_of(t->lot_size);
    in->status = (uint8_t)t->status;
    return VENUE_INST_OK;
}

int venue_take_name(struct jscan *s, char dst[VENUE_TEXT_MAX], bool *unnamed) {
    int n = jscan_text(s, dst, VENUE_TEXT_MAX);
    if (n == -1) return VENUE_INST_MALFORMED;
    if (n == -2) *unnamed = true;
    return VENUE_INST_OK;
}

int venue_take_value(struct jscan *s, char dst[VENUE_TEXT_MAX]) {
    return jscan_text(s, dst, VENUE_TEXT_MAX) < 0 ? VENUE_INST_MALFORMED : VENUE_INST_OK;
}

int venue_take_flag(struct jscan *s, bool *v) {
    if (jscan_peek(s) == JSCAN_NULL) {
        *v = false;
        return jscan_skip(s) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
    }
    return jscan_bool(s, v) ? VENUE_INST_MALFORMED : VENUE_INST_OK;
}

bool venue_instrument_split(const char *name, char sep, char base[VENUE_TEXT_MAX], char quote[VENUE_TEXT_MAX]) {
    const char *at = strchr(name, sep);
    if (!at || at == name || !at[1] || strchr(at + 1, sep)) return false;
    size_t lb = (size_t)(at - name), lq = strlen(at + 1);
    if (lb >= VENUE_TEXT_MAX || lq >= VENUE_TEXT_MAX) return false;
    memcpy(base, name, lb);
    base[lb] = 0;
    memcpy(quote, at + 1, lq + 1);
    return true;
}

enum venue_msg venue_instrument_failed(int rc, char *detail) {
    if (rc != VENUE_INST_NOMEM) return VENUE_MSG_MALFORMED;
    strcpy(detail, "out of memory");
    return VENUE_MSG_ERROR;
}

void venue_instrument_detail(char *detail, const struct jscan_str *str) {
    if (jscan_str_copy(str, detail, VENUE_DETAIL_MAX) >= 0) return;
    size_t n = str->len < VENUE_DETAIL_MAX - 1 ? str->len : VENUE_DETAIL_MAX - 1; /* too long: cut, as sent */
    memcpy(detail, str->p, n);
    detail[n] = 0;
}

/* The top-level string `key` of a JSON object body, for an answer the HTTP status already classified. */
static void status_detail(const char *body, size_t len, const char *key, char *detail) {
    if (!key || !body) return;
    struct jscan s;
    struct jscan_str k, v;
    size_t i = 0;
    jscan_init(&s, body, len);
    if (jscan_peek(&s) != JSCAN_OBJECT) return;
    while (jscan_member(&s, &i, &k) > 0) {
        if (jscan_str_is(&k, key) && jscan_peek(&s) == JSCAN_STRING) {
            if (jscan_string(&s, &v) == 0) venue_instrument_detail(detail, &v);
            return;
        }
        if (jscan_skip(&s)) return;
    }
}

enum venue_msg venue_instruments_answer(int http_status, const char *body, size_t len, const char *detail_key,
                                        venue_instruments_fn *fn, struct instrument_list *out, char *detail) {
    char scratch[VENUE_DETAIL_MAX];
    if (!detail) detail = scratch;
    detail[0] = 0;
    instrument_list_clear(out);
    enum venue_msg kind = venue_rest_status(http_status);
    if (kind != VENUE_MSG_TICKS) {
        status_detail(body, len, detail_key, detail);
        return kind;
    }
    if (!body) return VENUE_MSG_MALFORMED;
    struct jscan s;
    jscan_init(&s, body, len);
    kind = fn(&s, out, detail);
    if (kind == VENUE_MSG_TICKS && !jscan_end(&s)) kind = VENUE_MSG_MALFORMED;
    if (kind == VENUE_MSG_TICKS && out->n == 0) {
        kind = VENUE_MSG_MALFORMED;
        strcpy(detail, "no instrument listed");
    }
    if (kind == VENUE_MSG_TICKS) {
        instrument_list_sort(out);
        detail[0] = 0;
    } else {
        instrument_list_clear(out);
    }
    return kind;
}
