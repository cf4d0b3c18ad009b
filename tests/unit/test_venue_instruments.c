/* Unit tests of the instrument lists: instrument.h's lists (sort, one entry per symbol, find), the comparison of
 * two lists (listed, status, updated, delisted: gone or delisted), the JSON of one instrument (exact text, nulls,
 * escapes, every buffer size); the venues' instrument answers: each venue's documented answer (tests/venues)
 * parsed to exact entries, every field asserted, the status words of each venue, the names tickd cannot write
 * skipped and counted; and every hostile answer -- HTTP errors, the venues' error bodies, wrong types, missing
 * fields, sizes that are not decimals, truncations at every byte, flipped bytes, deep nesting, huge texts, no
 * instrument at all -- refused whole, the list left empty, never a crash. The strict JSON reader the parsers share
 * (src/venue/json_scan.c) is compared with jansson on valid and broken texts. 50,000 instruments are parsed and
 * their time printed (never asserted). */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/venue/json_scan.h"
#include "tickd/decimal.h"
#include "tickd/instrument.h"
#include "tickd/venue.h"
#include "tt.h"

/* ---- helpers -------------------------------------------------------------------------------------------- */

/* The text of the venue reference message <rel> (tests/venues, else ../shared/venues). Caller frees. */
static char *doc_file(const char *rel, size_t *len) {
    char path[8192];
    if (!tt_venue_path(rel, path, sizeof path)) TT_FAIL("%s not found", path);
    FILE *f = fopen(path, "rb");
    if (!f) TT_FAIL("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    if (len) *len = got;
    return buf;
}

/* text with its first `from` replaced by `to` (which must be there). Caller frees. */
static char *replace(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, from);
    if (!at) TT_FAIL("'%s' not in the text", from);
    size_t a = (size_t)(at - text), lf = strlen(from), lt = strlen(to), rest = strlen(at + lf);
    char *out = malloc(a + lt + rest + 1);
    memcpy(out, text, a);
    memcpy(out + a, to, lt);
    memcpy(out + a + lt, at + lf, rest + 1);
    return out;
}

static const struct venue_instruments *hook(const char *venue) {
    const struct venue_ops *v = venue_find(venue);
    TT_ASSERT(v != NULL && v->instruments != NULL && v->instruments->parse != NULL);
    return v->instruments;
}

/* Every promise of a parse: a refused answer leaves the list empty; a taken one holds at least one instrument,
 * sorted, each symbol once and BASE-QUOTE, each text terminated, sizes decimals or empty, and its JSON whole. */
static void check_list(const struct instrument_list *l, enum venue_msg kind) {
    TT_ASSERT(kind <= VENUE_MSG_MALFORMED);
    if (kind != VENUE_MSG_TICKS) {
        TT_ASSERT_INT(l->n, 0);
        return;
    }
    TT_ASSERT(l->n > 0 && l->n <= l->cap);
    for (size_t i = 0; i < l->n; i++) {
        const struct instrument *in = &l->v[i];
        TT_ASSERT(memchr(in->symbol, 0, sizeof in->symbol) && memchr(in->venue_symbol, 0, sizeof in->venue_symbol));
        TT_ASSERT(memchr(in->base, 0, sizeof in->base) && memchr(in->quote, 0, sizeof in->quote));
        TT_ASSERT(memchr(in->venue_status, 0, sizeof in->venue_status));
        TT_ASSERT(memchr(in->tick_size, 0, sizeof in->tick_size) && memchr(in->lot_size, 0, sizeof in->lot_size));
        TT_ASSERT(!in->tick_size[0] || decimal_sign(in->tick_size) >= 0);
        TT_ASSERT(!in->lot_size[0] || decimal_sign(in->lot_size) >= 0);
        TT_ASSERT(in->status <= INSTRUMENT_DELISTED);
        TT_ASSERT(in->price_decimals <= INSTRUMENT_DECIMALS_MAX || in->price_decimals == INSTRUMENT_DECIMALS_UNKNOWN);
        TT_ASSERT(in->size_decimals <= INSTRUMENT_DECIMALS_MAX || in->size_decimals == INSTRUMENT_DECIMALS_UNKNOWN);
        const char *dash = strchr(in->symbol, '-');
        TT_ASSERT(dash && dash > in->symbol && dash[1] && !strchr(dash + 1, '-'));
        for (const char *p = in->symbol; *p; p++)
            TT_ASSERT((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-');
        if (i > 0) TT_ASSERT(strcmp(l->v[i - 1].symbol, in->symbol) < 0);
        TT_ASSERT(instrument_list_find(l, in->symbol) == in);
        char json[INSTRUMENT_JSON_MAX];
        int n = instrument_json(in, "venue", json, sizeof json);
        TT_ASSERT(n > 0);
        json_t *j = json_loads(json, 0, NULL);
        TT_ASSERT(j != NULL);
        TT_ASSERT_STR(json_string_value(json_object_get(j, "symbol")), in->symbol);
        json_decref(j);
    }
}

/* Parses len bytes, copied to a buffer of exactly that size (ASan sees a read past it), into out, which held a
 * list before (a refused answer must leave it empty). */
static enum venue_msg parse_len(const char *venue, int status, const char *body, size_t len,
                                struct instrument_list *out, char *detail) {
    const struct venue_instruments *h = hook(venue);
    instrument_list_clear(out);
    struct instrument *junk = instrument_list_add(out);
    TT_ASSERT(junk != NULL);
    strcpy(junk->symbol, "OLD-LIST");
    char *copy = malloc(len ? len : 1);
    memcpy(copy, body, len);
    char scratch[VENUE_DETAIL_MAX];
    enum venue_msg kind = h->parse(status, len ? copy : NULL, len, out, detail ? detail : scratch);
    free(copy);
    check_list(out, kind);
    return kind;
}

static enum venue_msg parse(const char *venue, int status, const char *body, struct instrument_list *out,
                            char *detail) {
    return parse_len(venue, status, body, strlen(body), out, detail);
}

static void assert_instrument(const struct instrument *in, const char *symbol, const char *venue_symbol,
                              const char *base, const char *quote, const char *venue_status, int status,
                              const char *tick, const char *lot, int price_decimals, int size_decimals) {
    TT_ASSERT(in != NULL);
    TT_ASSERT_STR(in->symbol, symbol);
    TT_ASSERT_STR(in->venue_symbol, venue_symbol);
    TT_ASSERT_STR(in->base, base);
    TT_ASSERT_STR(in->quote, quote);
    TT_ASSERT_STR(in->venue_status, venue_status);
    TT_ASSERT_INT(in->status, status);
    TT_ASSERT_STR(in->tick_size, tick);
    TT_ASSERT_STR(in->lot_size, lot);
    TT_ASSERT_INT(in->price_decimals, price_decimals);
    TT_ASSERT_INT(in->size_decimals, size_decimals);
}

#define UNKNOWN INSTRUMENT_DECIMALS_UNKNOWN

static struct instrument make(const char *symbol, int status, const char *tick) {
    struct instrument in;
    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "%s", symbol);
    snprintf(in.venue_symbol, sizeof in.venue_symbol, "V%s", symbol);
    strcpy(in.base, "B");
    strcpy(in.quote, "Q");
    strcpy(in.venue_status, status == INSTRUMENT_TRADING ? "on" : status == INSTRUMENT_HALTED ? "halt" : "gone");
    snprintf(in.tick_size, sizeof in.tick_size, "%s", tick);
    strcpy(in.lot_size, "0.001");
    in.price_decimals = instrument_decimals_of(tick);
    in.size_decimals = 3;
    in.status = (uint8_t)status;
    return in;
}

static void list_of(struct instrument_list *l, const struct instrument *v, size_t n) {
    instrument_list_init(l);
    for (size_t i = 0; i < n; i++) *instrument_list_add(l) = v[i];
    instrument_list_sort(l);
}

/* ---- instrument.h ----------------------------------------------------------------------------------------- */

static void test_sort_find_duplicates(void) {
    struct instrument v[] = {
        make("ETH-USDT", INSTRUMENT_TRADING, "0.01"),  make("BTC-USDT", INSTRUMENT_DELISTED, "0.1"),
        make("ADA-USDT", INSTRUMENT_HALTED, "0.0001"), make("BTC-USDT", INSTRUMENT_TRADING, "0.01"),
        make("BTC-USDT", INSTRUMENT_HALTED, "0.01"),   make("ZRX-BTC", INSTRUMENT_TRADING, "0.00000001"),
    };
    struct instrument_list l;
    list_of(&l, v, sizeof v / sizeof v[0]);
    TT_ASSERT_INT(l.n, 4);
    TT_ASSERT_INT(l.duplicates, 2);
    TT_ASSERT_STR(l.v[0].symbol, "ADA-USDT");
    TT_ASSERT_STR(l.v[1].symbol, "BTC-USDT");
    TT_ASSERT_INT(l.v[1].status, INSTRUMENT_TRADING); /* the most alive of the three */
    TT_ASSERT_STR(l.v[2].symbol, "ETH-USDT");
    TT_ASSERT_STR(l.v[3].symbol, "ZRX-BTC");
    for (size_t i = 0; i < l.n; i++) TT_ASSERT(instrument_list_find(&l, l.v[i].symbol) == &l.v[i]);
    TT_ASSERT(instrument_list_find(&l, "BTC-USD") == NULL);
    TT_ASSERT(instrument_list_find(&l, "") == NULL);
    TT_ASSERT(instrument_list_find(&l, "ZZZ-ZZZ") == NULL);
    /* the same entries in another order keep the same one */
    struct instrument w[] = {v[4], v[1], v[3], v[5], v[0], v[2]};
    struct instrument_list m;
    list_of(&m, w, sizeof w / sizeof w[0]);
    TT_ASSERT_INT(m.n, l.n);
    for (size_t i = 0; i < l.n; i++) TT_ASSERT(instrument_equal(&l.v[i], &m.v[i]));
    /* swap, clear, free */
    instrument_list_swap(&l, &m);
    TT_ASSERT_INT(l.n, 4);
    instrument_list_clear(&l);
    TT_ASSERT_INT(l.n, 0);
    TT_ASSERT_INT(l.duplicates, 0);
    TT_ASSERT(instrument_list_find(&l, "BTC-USDT") == NULL);
    instrument_list_free(&l);
    instrument_list_free(&m);
    instrument_list_free(&m); /* twice is harmless */
    struct instrument_list empty;
    instrument_list_init(&empty);
    instrument_list_sort(&empty);
    TT_ASSERT(instrument_list_find(&empty, "BTC-USDT") == NULL);
}

static void test_equal_and_decimals(void) {
    struct instrument a = make("BTC-USDT", INSTRUMENT_TRADING, "0.01"), b = a;
    TT_ASSERT(instrument_equal(&a, &b));
    b.venue_symbol[sizeof b.venue_symbol - 1] = 'x'; /* after the NUL: not a difference */
    TT_ASSERT(instrument_equal(&a, &b));
    b = a;
    strcpy(b.lot_size, "0.0010");
    TT_ASSERT(!instrument_equal(&a, &b)); /* the same number, another text: the venue changed it */
    b = a;
    b.size_decimals = 4;
    TT_ASSERT(!instrument_equal(&a, &b));
    b = a;
    b.status = INSTRUMENT_HALTED;
    TT_ASSERT(!instrument_equal(&a, &b));

    TT_ASSERT_INT(instrument_decimals_of("0.01000000"), 2);
    TT_ASSERT_INT(instrument_decimals_of("1.00000000"), 0);
    TT_ASSERT_INT(instrument_decimals_of("10"), 0);
    TT_ASSERT_INT(instrument_decimals_of("0.1"), 1);
    TT_ASSERT_INT(instrument_decimals_of("0.00000001"), 8);
    TT_ASSERT_INT(instrument_decimals_of("0.25"), 2);
    TT_ASSERT_INT(instrument_decimals_of("0.00000000000000000000000000001"), 29);
    TT_ASSERT_INT(instrument_decimals_of("0.000000000000000000000000000001"), UNKNOWN); /* 30 */
    TT_ASSERT_INT(instrument_decimals_of(""), UNKNOWN);
    TT_ASSERT_INT(instrument_decimals_of("0"), UNKNOWN);
    TT_ASSERT_INT(instrument_decimals_of("0.00000000"), UNKNOWN);
    TT_ASSERT_INT(instrument_decimals_of("-0.01"), UNKNOWN);
    TT_ASSERT_INT(instrument_decimals_of("1e-8"), UNKNOWN);
    TT_ASSERT_INT(instrument_decimals_of(NULL), UNKNOWN);
    TT_ASSERT_STR(instrument_status_name(INSTRUMENT_TRADING), "trading");
    TT_ASSERT_STR(instrument_status_name(INSTRUMENT_HALTED), "halted");
    TT_ASSERT_STR(instrument_status_name(INSTRUMENT_DELISTED), "delisted");
    TT_ASSERT_STR(instrument_status_name(7), "?");
    TT_ASSERT_STR(instrument_change_name(INSTRUMENT_CHANGE_DELISTED), "delisted");
    TT_ASSERT_STR(instrument_change_name(-1), "?");
}

static void test_json(void) {
    struct instrument in;
    memset(&in, 0, sizeof in);
    strcpy(in.symbol, "BTC-USDT");
    strcpy(in.venue_symbol, "BTCUSDT");
    strcpy(in.base, "BTC");
    strcpy(in.quote, "USDT");
    strcpy(in.venue_status, "TRADING");
    strcpy(in.tick_size, "0.01000000");
    strcpy(in.lot_size, "0.00001000");
    in.price_decimals = 2;
    in.size_decimals = 5;
    in.status = INSTRUMENT_TRADING;
    char out[INSTRUMENT_JSON_MAX];
    const char *want =
        "{\"venue\":\"binance\",\"symbol\":\"BTC-USDT\",\"venue_symbol\":\"BTCUSDT\",\"status\":\"trading\","
        "\"venue_status\":\"TRADING\",\"base\":\"BTC\",\"quote\":\"USDT\",\"tick_size\":\"0.01000000\","
        "\"lot_size\":\"0.00001000\",\"price_decimals\":2,\"size_decimals\":5}";
    int n = instrument_json(&in, "binance", out, sizeof out);
    TT_ASSERT_INT(n, strlen(want));
    TT_ASSERT_STR(out, want);
    /* every buffer too small says so and leaves an empty text; the exact size fits */
    for (size_t cap = 0; cap <= (size_t)n; cap++) {
        char *small = malloc(cap ? cap : 1);
        TT_ASSERT_INT(instrument_json(&in, "binance", small, cap), -ENOSPC);
        if (cap) TT_ASSERT_INT(small[0], 0);
        free(small);
    }
    char *exact = malloc((size_t)n + 1);
    TT_ASSERT_INT(instrument_json(&in, "binance", exact, (size_t)n + 1), n);
    TT_ASSERT_STR(exact, want);
    free(exact);

    /* without a venue; texts not given and unknown decimals are null; a halted one */
    in.tick_size[0] = in.lot_size[0] = in.base[0] = 0;
    in.price_decimals = in.size_decimals = UNKNOWN;
    in.status = INSTRUMENT_HALTED;
    n = instrument_json(&in, NULL, out, sizeof out);
    TT_ASSERT_STR(out, "{\"symbol\":\"BTC-USDT\",\"venue_symbol\":\"BTCUSDT\",\"status\":\"halted\",\"venue_status\":"
                       "\"TRADING\",\"base\":null,\"quote\":\"USDT\",\"tick_size\":null,\"lot_size\":null,"
                       "\"price_decimals\":null,\"size_decimals\":null}");
    TT_ASSERT_INT(n, strlen(out));

    /* escapes: quote, backslash, controls; other bytes as they are */
    strcpy(in.venue_symbol, "A\"B\\C\x01\x1f\x7f");
    strcpy(in.venue_status, "\xc3\xa9t\xc3\xa9");
    in.status = INSTRUMENT_DELISTED;
    n = instrument_json(&in, "k\"", out, sizeof out);
    TT_ASSERT(n > 0);
    TT_ASSERT(strstr(out, "\"venue\":\"k\\\"\""));
    TT_ASSERT(strstr(out, "\"venue_symbol\":\"A\\\"B\\\\C\\u0001\\u001f\x7f\""));
    TT_ASSERT(strstr(out, "\"status\":\"delisted\""));
    json_t *j = json_loads(out, 0, NULL);
    TT_ASSERT(j != NULL);
    TT_ASSERT_STR(json_string_value(json_object_get(j, "venue_symbol")), in.venue_symbol);
    TT_ASSERT_STR(json_string_value(json_object_get(j, "venue_status")), in.venue_status);
    json_decref(j);

    /* the bound holds for the worst instrument: every text full of controls */
    struct instrument worst;
    memset(&worst, 1, sizeof worst);
    worst.symbol[sizeof worst.symbol - 1] = worst.venue_symbol[sizeof worst.venue_symbol - 1] = 0;
    worst.base[sizeof worst.base - 1] = worst.quote[sizeof worst.quote - 1] = 0;
    worst.venue_status[sizeof worst.venue_status - 1] = 0;
    worst.tick_size[sizeof worst.tick_size - 1] = worst.lot_size[sizeof worst.lot_size - 1] = 0;
    worst.price_decimals = worst.size_decimals = 200;
    worst.status = INSTRUMENT_DELISTED;
    char venue[TICK_VENUE_MAX];
    memset(venue, 1, sizeof venue - 1);
    venue[sizeof venue - 1] = 0;
    n = instrument_json(&worst, venue, out, sizeof out);
    TT_ASSERT(n > 0 && n < INSTRUMENT_JSON_MAX);
    j = json_loads(out, 0, NULL);
    TT_ASSERT(j != NULL);
    TT_ASSERT_INT(json_integer_value(json_object_get(j, "price_decimals")), 200);
    json_decref(j);

    /* a text not terminated within its field, a status out of range */
    struct instrument bad = worst;
    bad.lot_size[sizeof bad.lot_size - 1] = 'x';
    TT_ASSERT_INT(instrument_json(&bad, NULL, out, sizeof out), -EINVAL);
    bad = worst;
    bad.symbol[sizeof bad.symbol - 1] = 'x';
    TT_ASSERT_INT(instrument_json(&bad, NULL, out, sizeof out), -EINVAL);
    bad = worst;
    bad.status = 3;
    TT_ASSERT_INT(instrument_json(&bad, NULL, out, sizeof out), -EINVAL);
}

/* ---- what changed ----------------------------------------------------------------------------------------- */

struct seen {
    int kind[16];
    const struct instrument *before[16], *now[16];
    char symbol[16][TICK_SYMBOL_MAX];
    int n;
};

static void record(void *ctx, enum instrument_change change, const struct instrument *before,
                   const struct instrument *now) {
    struct seen *s = ctx;
    if (s->n >= 16) return;
    s->kind[s->n] = change;
    s->before[s->n] = before;
    s->now[s->n] = now;
    snprintf(s->symbol[s->n], sizeof s->symbol[s->n], "%s", (now ? now : before)->symbol);
    s->n++;
}

static void test_diff(void) {
    struct instrument was[] = {
        make("AAA-USD", INSTRUMENT_TRADING, "0.01"),  /* gone: delisted */
        make("BBB-USD", INSTRUMENT_TRADING, "0.01"),  /* to halted: status */
        make("CCC-USD", INSTRUMENT_HALTED, "0.01"),   /* to trading: status */
        make("DDD-USD", INSTRUMENT_TRADING, "0.01"),  /* listed as delisted: delisted */
        make("EEE-USD", INSTRUMENT_DELISTED, "0.01"), /* back, trading: listed */
        make("FFF-USD", INSTRUMENT_TRADING, "0.01"),  /* new tick size: updated */
        make("GGG-USD", INSTRUMENT_TRADING, "0.01"),  /* the same: nothing */
        make("HHH-USD", INSTRUMENT_DELISTED, "0.01"), /* gone, was delisted: nothing */
        make("JJJ-USD", INSTRUMENT_DELISTED, "0.01"), /* still delisted, another tick: nothing */
        make("KKK-USD", INSTRUMENT_HALTED, "0.01"),   /* to delisted: delisted */
    };
    struct instrument now[] = {
        make("BBB-USD", INSTRUMENT_HALTED, "0.01"),   make("CCC-USD", INSTRUMENT_TRADING, "0.01"),
        make("DDD-USD", INSTRUMENT_DELISTED, "0.01"), make("EEE-USD", INSTRUMENT_TRADING, "0.01"),
        make("FFF-USD", INSTRUMENT_TRADING, "0.001"), make("GGG-USD", INSTRUMENT_TRADING, "0.01"),
        make("III-USD", INSTRUMENT_DELISTED, "0.01"), /* new but delisted: nothing */
        make("JJJ-USD", INSTRUMENT_DELISTED, "0.1"),  make("KKK-USD", INSTRUMENT_DELISTED, "0.01"),
        make("ZZZ-USD", INSTRUMENT_HALTED, "0.01"), /* new, halted: listed */
    };
    struct instrument_list a, b;
    list_of(&a, was, sizeof was / sizeof was[0]);
    list_of(&b, now, sizeof now / sizeof now[0]);
    struct seen s = {0};
    struct instrument_changes c;
    size_t n = instrument_list_diff(&a, &b, record, &s, &c);
    TT_ASSERT_INT(n, 8);
    TT_ASSERT_INT(s.n, 8);
    TT_ASSERT_INT(c.listed, 2);
    TT_ASSERT_INT(c.status, 2);
    TT_ASSERT_INT(c.updated, 1);
    TT_ASSERT_INT(c.delisted, 3);
    static const struct {
        const char *symbol;
        int kind;
        bool before, now;
    } want[] = {
        {"AAA-USD", INSTRUMENT_CHANGE_DELISTED, true, false}, {"BBB-USD", INSTRUMENT_CHANGE_STATUS, true, true},
        {"CCC-USD", INSTRUMENT_CHANGE_STATUS, true, true},    {"DDD-USD", INSTRUMENT_CHANGE_DELISTED, true, true},
        {"EEE-USD", INSTRUMENT_CHANGE_LISTED, true, true},    {"FFF-USD", INSTRUMENT_CHANGE_UPDATED, true, true},
        {"KKK-USD", INSTRUMENT_CHANGE_DELISTED, true, true},  {"ZZZ-USD", INSTRUMENT_CHANGE_LISTED, false, true},
    };
    for (int i = 0; i < 8; i++) {
        TT_ASSERT_STR(s.symbol[i], want[i].symbol);
        TT_ASSERT_INT(s.kind[i], want[i].kind);
        TT_ASSERT_INT(s.before[i] != NULL, want[i].before);
        TT_ASSERT_INT(s.now[i] != NULL, want[i].now);
        if (s.before[i]) TT_ASSERT(s.before[i] >= a.v && s.before[i] < a.v + a.n);
        if (s.now[i]) TT_ASSERT(s.now[i] >= b.v && s.now[i] < b.v + b.n);
    }
    TT_ASSERT_STR(s.now[5]->tick_size, "0.001");
    TT_ASSERT_STR(s.before[5]->tick_size, "0.01");

    /* the other way round, itself, and against nothing */
    TT_ASSERT_INT(instrument_list_diff(&b, &a, NULL, NULL, &c), 8);
    TT_ASSERT_INT(c.listed, 3); /* AAA back, DDD and KKK live again */
    TT_ASSERT_INT(c.delisted, 2);
    TT_ASSERT_INT(instrument_list_diff(&a, &a, NULL, NULL, NULL), 0);
    struct instrument_list none;
    instrument_list_init(&none);
    TT_ASSERT_INT(instrument_list_diff(&none, &b, NULL, NULL, &c), 6); /* every live one is listed */
    TT_ASSERT_INT(c.listed, 6);
    TT_ASSERT_INT(instrument_list_diff(&b, &none, NULL, NULL, &c), 6);
    TT_ASSERT_INT(c.delisted, 6);
    TT_ASSERT_INT(instrument_list_diff(&none, &none, NULL, NULL, &c), 0);
    instrument_list_free(&a);
    instrument_list_free(&b);
}

/* ---- the JSON reader ------------------------------------------------------------------------------------- */

/* Whether the reader takes text as one whole JSON value. */
static bool scan_ok(const char *text, size_t len) {
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    struct jscan s;
    jscan_init(&s, copy, len);
    bool ok = jscan_skip(&s) == 0 && jscan_end(&s);
    free(copy);
    return ok;
}

static bool jansson_ok(const char *text, size_t len) {
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    json_decref(j);
    return j != NULL;
}

static void test_scanner_agrees_with_jansson(void) {
    static const char *const texts[] = {
        "{}", "[]", "0", "-0", "1.5e-3", "-12.25E+10", "true", "false", "null", "\"\"", " \t\r\n{ } ",
        "{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\\ud83d\\ude00\\n\\\\\\\"\\/\"}",
        "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]", "{\"a\":1,\"a\":2}", "[1,[2,[3,[4]]]]", "\"\x7f\"",
        /* broken */
        "", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{a:1}",
        "[1 2]", "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "tru", "nul", "falsey",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\x01\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\xff\"",
        "{} {}", "[] x", "[1]]", "{\"a\":1}}", "\xef\xbb\xbf{}", "[\"a\" \"b\"]", "{\"a\":1 \"b\":2}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]);
        if (scan_ok(texts[i], len) != jansson_ok(texts[i], len))
            TT_FAIL("text %zu ('%s'): reader and jansson differ", i, texts[i]);
    }
    /* NUL inside a string, where len counts it */
    TT_ASSERT(!scan_ok("\"a\0b\"", 5));
    /* nesting: within JSCAN_DEPTH_MAX taken, beyond refused (no stack to spare for a bomb) */
    char deep[2 * 200 + 1];
    for (int d = 1; d <= 200; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        TT_ASSERT_INT(scan_ok(deep, 2 * (size_t)d), d <= JSCAN_DEPTH_MAX);
    }
    size_t bomb = 1000000;
    char *b = malloc(bomb);
    memset(b, '[', bomb);
    TT_ASSERT(!scan_ok(b, bomb));
    free(b);

    /* decoding */
    struct jscan s;
    struct jscan_str str;
    const char *text = "\"BTC\\u002dUSD\\ud83d\\ude00\\t\"";
    jscan_init(&s, text, strlen(text));
    TT_ASSERT_INT(jscan_string(&s, &str), 0);
    TT_ASSERT(str.escaped);
    char out[32];
    TT_ASSERT_INT(jscan_str_copy(&str, out, sizeof out), 12);
    TT_ASSERT_STR(out, "BTC-USD\xf0\x9f\x98\x80\t");
    TT_ASSERT_INT(jscan_str_copy(&str, out, 12), -1);
    TT_ASSERT_STR(out, "");
    TT_ASSERT_INT(jscan_str_copy(&str, out, 13), 12);
    TT_ASSERT(!jscan_str_is(&str, "BTC-USD"));
    text = "\"sym\\u0062ol\"";
    jscan_init(&s, text, strlen(text));
    TT_ASSERT_INT(jscan_string(&s, &str), 0);
    TT_ASSERT(jscan_str_is(&str, "symbol"));
    uint64_t u;
    jscan_init(&s, "18", 2);
    TT_ASSERT(jscan_uint(&s, &u) == 0 && u == 18);
    jscan_init(&s, "1.0", 3);
    TT_ASSERT_INT(jscan_uint(&s, &u), -1);
    jscan_init(&s, "-1", 2);
    TT_ASSERT_INT(jscan_uint(&s, &u), -1);
    jscan_init(&s, "99999999999999999999", 20);
    TT_ASSERT_INT(jscan_uint(&s, &u), -1);
    TT_ASSERT_INT(jscan_peek(&s), JSCAN_NONE); /* the error sticks */
}

/* ---- the venues' documented answers ---------------------------------------------------------------------- */

static void test_hooks(void) {
    static const struct {
        const char *venue, *path;
        unsigned weight;
    } want[] = {
        {"binance", "/api/v3/exchangeInfo?showPermissionSets=false", 20},
        {"coinbase", "/products", 1},
        {"kraken", "/0/public/AssetPairs", 1},
        {"okx", "/api/v5/public/instruments?instType=SPOT", 1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct venue_instruments *h = hook(want[i].venue);
        TT_ASSERT_STR(h->path, want[i].path);
        TT_ASSERT_INT(h->weight, want[i].weight);
        TT_ASSERT(h->max_body >= (16u << 20)); /* beyond http.c's default 4 MiB: Binance's list alone passes it */
        TT_ASSERT(h->timeout_ms >= 10000);
    }
}

static void test_binance_doc(void) {
    size_t len;
    char *doc = doc_file("binance/doc-rest-exchangeInfo.json", &len);
    struct instrument_list l;
    instrument_list_init(&l);
    char detail[VENUE_DETAIL_MAX];
    TT_ASSERT_INT(parse_len("binance", 200, doc, len, &l, detail), VENUE_MSG_TICKS);
    TT_ASSERT_INT(l.n, 1);
    TT_ASSERT_INT(l.skipped, 0);
    TT_ASSERT_INT(l.duplicates, 0);
    TT_ASSERT_STR(detail, "");
    /* "All filters are optional": the example lists none, so no tick or lot size */
    assert_instrument(&l.v[0], "ETH-BTC", "ETHBTC", "ETH", "BTC", "TRADING", INSTRUMENT_TRADING, "", "", UNKNOWN,
                      UNKNOWN);
    /* the filters the example's comment points to (filters.md, each symbol filter's /exchangeInfo format), in
     * their place: PRICE_FILTER's tickSize and LOT_SIZE's stepSize, the others passed over */
    char *filters = doc_file("binance/doc-filters.json", NULL);
    char *inner = filters + 1; /* the elements, without the array's brackets */
    *strrchr(inner, ']') = 0;
    size_t need = strlen(inner) + 32;
    char *with = malloc(need);
    snprintf(with, need, "\"filters\": [%s]", inner);
    char *full = replace(doc, "\"filters\": [\n      ]", with);
    TT_ASSERT_INT(parse("binance", 200, full, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_INT(l.n, 1);
    assert_instrument(&l.v[0], "ETH-BTC", "ETHBTC", "ETH", "BTC", "TRADING", INSTRUMENT_TRADING, "0.00000100",
                      "0.00100000", 6, 3);
    /* every status word */
    static const struct {
        const char *word;
        int status;
    } words[] = {
        {"TRADING", INSTRUMENT_TRADING},      {"HALT", INSTRUMENT_HALTED},          {"BREAK", INSTRUMENT_DELISTED},
        {"END_OF_DAY", INSTRUMENT_HALTED},    {"PRE_TRADING", INSTRUMENT_HALTED},   {"POST_TRADING", INSTRUMENT_HALTED},
        {"AUCTION_MATCH", INSTRUMENT_HALTED}, {"SOMETHING_NEW", INSTRUMENT_HALTED}, {"", INSTRUMENT_HALTED}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char status[64];
        snprintf(status, sizeof status, "\"status\": \"%s\"", words[i].word);
        char *body = replace(full, "\"status\": \"TRADING\"", status);
        TT_ASSERT_INT(parse("binance", 200, body, &l, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_STR(l.v[0].venue_status, words[i].word);
        TT_ASSERT_INT(l.v[0].status, words[i].status);
        free(body);
    }
    /* a tickSize of 0 disables the rule: kept as sent, no decimals */
    char *zero = replace(full, "\"tickSize\": \"0.00000100\"", "\"tickSize\": \"0.00000000\"");
    TT_ASSERT_INT(parse("binance", 200, zero, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_STR(l.v[0].tick_size, "0.00000000");
    TT_ASSERT_INT(l.v[0].price_decimals, UNKNOWN);
    free(zero);
    free(full);
    free(with);
    free(filters);
    free(doc);
    instrument_list_free(&l);
}

static void test_coinbase_doc(void) {
    size_t len;
    char *doc = doc_file("coinbase/doc-rest-products.json", &len);
    struct instrument_list l;
    instrument_list_init(&l);
    TT_ASSERT_INT(parse_len("coinbase", 200, doc, len, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_INT(l.n, 1);
    TT_ASSERT_INT(l.skipped, 0);
    assert_instrument(&l.v[0], "BTC-USD", "BTC-USD", "BTC", "USD", "online", INSTRUMENT_TRADING, "0.01000000",
                      "0.00000001", 2, 8);
    static const struct {
        const char *from, *to;
        const char *word;
        int status;
    } cases[] = {
        {"\"status\": \"online\"", "\"status\": \"offline\"", "offline", INSTRUMENT_HALTED},
        {"\"status\": \"online\"", "\"status\": \"internal\"", "internal", INSTRUMENT_HALTED},
        {"\"status\": \"online\"", "\"status\": \"delisted\"", "delisted", INSTRUMENT_DELISTED},
        {"\"cancel_only\": false", "\"cancel_only\": true", "online", INSTRUMENT_HALTED},
        {"\"post_only\": false", "\"post_only\": true", "online", INSTRUMENT_HALTED},
        {"\"limit_only\": false", "\"limit_only\": true", "online", INSTRUMENT_TRADING},
        {"\"auction_mode\": true", "\"auction_mode\": false", "online", INSTRUMENT_TRADING},
        {"\"auction_mode\": true", "\"auction_mode\": true, \"trading_disabled\": true", "online", INSTRUMENT_HALTED},
        {"\"auction_mode\": true", "\"auction_mode\": true, \"trading_disabled\": false", "online", INSTRUMENT_TRADING},
        {"\"cancel_only\": false", "\"cancel_only\": null", "online", INSTRUMENT_TRADING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = replace(doc, cases[i].from, cases[i].to);
        TT_ASSERT_INT(parse("coinbase", 200, body, &l, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_STR(l.v[0].venue_status, cases[i].word);
        TT_ASSERT_INT(l.v[0].status, cases[i].status);
        free(body);
    }
    free(doc);
    instrument_list_free(&l);
}

static void test_kraken_doc(void) {
    size_t len;
    char *doc = doc_file("kraken/doc-rest-AssetPairs.json", &len);
    struct instrument_list l;
    instrument_list_init(&l);
    TT_ASSERT_INT(parse_len("kraken", 200, doc, len, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_INT(l.n, 2);
    TT_ASSERT_INT(l.skipped, 0);
    /* XBT is BTC: XXBTZUSD is BTC-USD, XETHXXBT is ETH-BTC; Kraken's lot is 10^-lot_decimals */
    assert_instrument(&l.v[0], "BTC-USD", "XXBTZUSD", "XXBT", "ZUSD", "online", INSTRUMENT_TRADING, "0.1", "0.00000001",
                      1, 8);
    assert_instrument(&l.v[1], "ETH-BTC", "XETHXXBT", "XETH", "XXBT", "online", INSTRUMENT_TRADING, "0.00001",
                      "0.00000001", 5, 8);
    /* the status words */
    static const struct {
        const char *word;
        int status;
    } words[] = {{"online", INSTRUMENT_TRADING},      {"limit_only", INSTRUMENT_TRADING},
                 {"reduce_only", INSTRUMENT_TRADING}, {"cancel_only", INSTRUMENT_HALTED},
                 {"post_only", INSTRUMENT_HALTED},    {"maintenance", INSTRUMENT_HALTED},
                 {"delisted", INSTRUMENT_DELISTED}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char status[64];
        snprintf(status, sizeof status, "\"tick_size\": \"0.1\",\n      \"status\": \"%s\"", words[i].word);
        char *body = replace(doc, "\"tick_size\": \"0.1\",\n      \"status\": \"online\"", status);
        TT_ASSERT_INT(parse("kraken", 200, body, &l, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_STR(l.v[0].venue_status, words[i].word);
        TT_ASSERT_INT(l.v[0].status, words[i].status);
        TT_ASSERT_INT(l.v[1].status, INSTRUMENT_TRADING);
        free(body);
    }
    /* without wsname, the legacy class letters go: XXBT ZUSD is BTC-USD still; without a status (older answers) a
     * pair is online; lot_decimals 0 is a lot of 1 */
    char *a = replace(doc, "\"wsname\": \"XBT/USD\",", "");
    char *b = replace(a, "\"tick_size\": \"0.1\",\n      \"status\": \"online\",", "");
    char *c = replace(b, "\"pair_decimals\": 1,\n      \"lot_decimals\": 8",
                      "\"pair_decimals\": 1,\n      \"lot_decimals\": 0");
    TT_ASSERT_INT(parse("kraken", 200, c, &l, NULL), VENUE_MSG_TICKS);
    assert_instrument(&l.v[0], "BTC-USD", "XXBTZUSD", "XXBT", "ZUSD", "", INSTRUMENT_TRADING, "", "1", 1, 0);
    free(a);
    free(b);
    free(c);
    /* XDG is DOGE, by wsname or by its ids */
    a = replace(doc, "\"wsname\": \"XBT/USD\"", "\"wsname\": \"XDG/USD\"");
    TT_ASSERT_INT(parse("kraken", 200, a, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT(instrument_list_find(&l, "DOGE-USD") != NULL);
    free(a);
    a = replace(doc, "\"wsname\": \"XBT/USD\",", "");
    b = replace(a, "\"base\": \"XXBT\"", "\"base\": \"XXDG\"");
    TT_ASSERT_INT(parse("kraken", 200, b, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT(instrument_list_find(&l, "DOGE-USD") != NULL);
    free(a);
    free(b);
    /* a wsname tickd cannot write (lower case, three parts): that pair skipped, the other kept */
    a = replace(doc, "\"wsname\": \"XBT/USD\"", "\"wsname\": \"AAPLx/USD\"");
    TT_ASSERT_INT(parse("kraken", 200, a, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_INT(l.n, 1);
    TT_ASSERT_INT(l.skipped, 1);
    TT_ASSERT_STR(l.v[0].symbol, "ETH-BTC");
    free(a);
    free(doc);
    instrument_list_free(&l);
}

static void test_okx_doc(void) {
    size_t len;
    char *doc = doc_file("okx/doc-rest-instruments.json", &len);
    struct instrument_list l;
    instrument_list_init(&l);
    TT_ASSERT_INT(parse_len("okx", 200, doc, len, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_INT(l.n, 1);
    TT_ASSERT_INT(l.skipped, 0);
    assert_instrument(&l.v[0], "BTC-USDT", "BTC-USDT", "BTC", "USDT", "live", INSTRUMENT_TRADING, "0.1", "0.00000001",
                      1, 8);
    static const struct {
        const char *word;
        int status;
    } words[] = {{"live", INSTRUMENT_TRADING}, {"suspend", INSTRUMENT_HALTED}, {"preopen", INSTRUMENT_HALTED},
                 {"test", INSTRUMENT_HALTED},  {"rebase", INSTRUMENT_HALTED},  {"expired", INSTRUMENT_DELISTED}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char state[64];
        snprintf(state, sizeof state, "\"state\": \"%s\"", words[i].word);
        char *body = replace(doc, "\"state\": \"live\"", state);
        TT_ASSERT_INT(parse("okx", 200, body, &l, NULL), VENUE_MSG_TICKS);
        TT_ASSERT_STR(l.v[0].venue_status, words[i].word);
        TT_ASSERT_INT(l.v[0].status, words[i].status);
        free(body);
    }
    /* announced, not open: its fields "" for now */
    char *a = replace(doc, "\"tickSz\": \"0.1\"", "\"tickSz\": \"\"");
    char *b = replace(a, "\"lotSz\": \"0.00000001\"", "\"lotSz\": \"\"");
    char *c = replace(b, "\"state\": \"live\"", "\"state\": \"preopen\"");
    TT_ASSERT_INT(parse("okx", 200, c, &l, NULL), VENUE_MSG_TICKS);
    assert_instrument(&l.v[0], "BTC-USDT", "BTC-USDT", "BTC", "USDT", "preopen", INSTRUMENT_HALTED, "", "", UNKNOWN,
                      UNKNOWN);
    free(a);
    free(b);
    free(c);
    /* an instrument of another type is no spot one: skipped (and nothing left is no list) */
    a = replace(doc, "\"instType\": \"SPOT\"", "\"instType\": \"SWAP\"");
    TT_ASSERT_INT(parse("okx", 200, a, &l, NULL), VENUE_MSG_MALFORMED);
    free(a);
    free(doc);
    instrument_list_free(&l);
}

/* ---- hostile answers ------------------------------------------------------------------------------------- */

static const char *const venues[] = {"binance", "coinbase", "kraken", "okx"};
static const char *const docs[] = {"binance/doc-rest-exchangeInfo.json", "coinbase/doc-rest-products.json",
                                   "kraken/doc-rest-AssetPairs.json", "okx/doc-rest-instruments.json"};

static void test_http_status(void) {
    static const struct {
        int status;
        enum venue_msg kind;
    } statuses[] = {{429, VENUE_MSG_RATE_LIMITED}, {418, VENUE_MSG_RATE_LIMITED}, {500, VENUE_MSG_UNAVAILABLE},
                    {503, VENUE_MSG_UNAVAILABLE},  {400, VENUE_MSG_ERROR},        {404, VENUE_MSG_ERROR},
                    {301, VENUE_MSG_ERROR},        {0, VENUE_MSG_ERROR},          {199, VENUE_MSG_ERROR}};
    struct instrument_list l;
    instrument_list_init(&l);
    char detail[VENUE_DETAIL_MAX];
    for (size_t v = 0; v < 4; v++) {
        char *doc = doc_file(docs[v], NULL);
        for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
            TT_ASSERT_INT(parse(venues[v], statuses[i].status, doc, &l, detail), statuses[i].kind);
        TT_ASSERT_INT(parse(venues[v], 204, doc, &l, detail), VENUE_MSG_TICKS); /* any 2xx */
        free(doc);
        TT_ASSERT_INT(parse(venues[v], 500, "<html>busy</html>", &l, detail), VENUE_MSG_UNAVAILABLE);
        TT_ASSERT_INT(parse_len(venues[v], 200, "", 0, &l, detail), VENUE_MSG_MALFORMED); /* no body */
    }
    /* the venues' error bodies, with the status they come with and with 200 */
    static const struct {
        const char *venue;
        int status;
        const char *body;
        enum venue_msg kind;
        const char *detail;
    } errors[] = {
        {"binance", 429, "{\"code\":-1003,\"msg\":\"Too much request weight used\"}", VENUE_MSG_RATE_LIMITED,
         "Too much request weight used"},
        {"binance", 200, "{\"code\":-1003,\"msg\":\"Too much request weight used\"}", VENUE_MSG_RATE_LIMITED,
         "Too much request weight used"},
        {"binance", 200, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", VENUE_MSG_ERROR, "Invalid symbol."},
        {"binance", 400, "{\"code\":-1100,\"msg\":\"Illegal \\u0063haracters\"}", VENUE_MSG_ERROR,
         "Illegal characters"},
        {"coinbase", 429, "{\"message\":\"Public rate limit exceeded\"}", VENUE_MSG_RATE_LIMITED,
         "Public rate limit exceeded"},
        {"coinbase", 200, "{\"message\":\"NotFound\"}", VENUE_MSG_ERROR, "NotFound"},
        {"coinbase", 200, "{\"other\":1}", VENUE_MSG_MALFORMED, ""},
        {"kraken", 200, "{\"error\":[\"EGeneral:Too many requests\"]}", VENUE_MSG_RATE_LIMITED,
         "EGeneral:Too many requests"},
        {"kraken", 200, "{\"error\":[\"EService:Unavailable\"],\"result\":{}}", VENUE_MSG_UNAVAILABLE,
         "EService:Unavailable"},
        {"kraken", 200, "{\"error\":[\"EQuery:Unknown asset pair\"]}", VENUE_MSG_ERROR, "EQuery:Unknown asset pair"},
        {"kraken", 200, "{\"error\":[5]}", VENUE_MSG_MALFORMED, ""},
        {"kraken", 200, "{\"result\":{}}", VENUE_MSG_MALFORMED, ""},
        {"okx", 429, "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}", VENUE_MSG_RATE_LIMITED,
         "Too Many Requests"},
        {"okx", 200, "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}", VENUE_MSG_RATE_LIMITED,
         "Too Many Requests"},
        {"okx", 200, "{\"code\":\"50013\",\"msg\":\"System busy\",\"data\":[]}", VENUE_MSG_UNAVAILABLE, "System busy"},
        {"okx", 200, "{\"code\":\"51000\",\"msg\":\"Parameter instType error\",\"data\":[]}", VENUE_MSG_ERROR,
         "Parameter instType error"},
        {"okx", 200, "{\"code\":0,\"msg\":\"\",\"data\":[]}", VENUE_MSG_MALFORMED, ""},
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        enum venue_msg kind = parse(errors[i].venue, errors[i].status, errors[i].body, &l, detail);
        if (kind != errors[i].kind)
            TT_FAIL("error body %zu: %s, expected %s", i, venue_msg_name(kind), venue_msg_name(errors[i].kind));
        if (errors[i].detail[0]) TT_ASSERT_STR(detail, errors[i].detail);
    }
    /* a long error text is cut to the detail's size */
    char body[600];
    snprintf(body, sizeof body, "{\"code\":-1121,\"msg\":\"%0500d\"}", 7);
    TT_ASSERT_INT(parse("binance", 400, body, &l, detail), VENUE_MSG_ERROR);
    TT_ASSERT_INT(strlen(detail), VENUE_DETAIL_MAX - 1);
    instrument_list_free(&l);
}

/* Each venue's answer with one thing wrong: every case is refused whole. */
static void test_malformed(void) {
    static const struct {
        int venue;
        const char *from, *to;
    } cases[] = {
        /* Binance: wrong types, missing fields, bad sizes, broken structure */
        {0, "\"symbol\": \"ETHBTC\"", "\"symbol\": 5"},
        {0, "\"symbol\": \"ETHBTC\",", ""},
        {0, "\"status\": \"TRADING\"", "\"status\": null"},
        {0, "\"status\": \"TRADING\",", ""},
        {0, "\"status\": \"TRADING\"", "\"status\": \"TRADING_BUT_A_STATUS_WORD_FAR_TOO_LONG\""},
        {0, "\"baseAsset\": \"ETH\"", "\"baseAsset\": [\"ETH\"]"},
        {0, "\"quoteAsset\": \"BTC\",", ""},
        {0, "\"symbols\": [", "\"symbols\": {\"x\": ["},
        {0, "\"symbols\": [", "\"symbols\": [1,"},
        {0, "\"filters\": [\n      ]", "\"filters\": {}"},
        {0, "\"filters\": [\n      ]", "\"filters\": [5]"},
        {0, "\"filters\": [\n      ]", "\"filters\": [{\"tickSize\": \"0.01\"}]"},
        {0, "\"filters\": [\n      ]", "\"filters\": [{\"filterType\": \"PRICE_FILTER\"}]"},
        {0, "\"filters\": [\n      ]", "\"filters\": [{\"filterType\": \"PRICE_FILTER\", \"tickSize\": 0.01}]"},
        {0, "\"filters\": [\n      ]", "\"filters\": [{\"filterType\": \"PRICE_FILTER\", \"tickSize\": \"1e-2\"}]"},
        {0, "\"filters\": [\n      ]", "\"filters\": [{\"filterType\": \"PRICE_FILTER\", \"tickSize\": \"-0.01\"}]"},
        {0, "\"filters\": [\n      ]", "\"filters\": [{\"filterType\": \"PRICE_FILTER\", \"tickSize\": \"0.01 \"}]"},
        {0, "\"filters\": [\n      ]",
         "\"filters\": [{\"filterType\": \"LOT_SIZE\", \"stepSize\": \"0.000000000000000000000000000001\"}]"},
        {0, "\"filters\": [\n      ]", "\"filters\": [{\"filterType\": \"LOT_SIZE\", \"stepSize\": \"abc\"}]"},
        {0, "\"filters\": [\n      ]", "\"filters\": [{\"filterType\": 7}]"},
        {0, "\"symbols\": [", "\"symbols\": [],\"x\": ["},
        {0, "\"serverTime\": 1565246363776", "\"serverTime\": 01565246363776"},
        {0, "\"timezone\": \"UTC\"", "\"timezone\": \"U\x01TC\""},
        {0, "\"timezone\": \"UTC\"", "\"timezone\": \"U\xffTC\""},
        {0, "\"timezone\"", "\"timezone\""}, /* the control: unchanged, taken */
        /* Coinbase */
        {1, "\"id\": \"BTC-USD\"", "\"id\": null"},
        {1, "\"id\": \"BTC-USD\",", ""},
        {1, "\"quote_increment\": \"0.01000000\"", "\"quote_increment\": 0.01"},
        {1, "\"quote_increment\": \"0.01000000\",", ""},
        {1, "\"base_increment\": \"0.00000001\"", "\"base_increment\": \"0.0000000l\""},
        {1, "\"status\": \"online\"", "\"status\": true"},
        {1, "\"status\": \"online\",", ""},
        {1, "\"cancel_only\": false", "\"cancel_only\": \"false\""},
        {1, "\"post_only\": false", "\"post_only\": 0"},
        {1, "\"base_currency\": \"BTC\",", ""},
        {1, "[\n  {", "[\n  5, {"},
        /* Kraken */
        {2, "\"pair_decimals\": 1,", "\"pair_decimals\": \"1\","},
        {2, "\"pair_decimals\": 1,", "\"pair_decimals\": 1.0,"},
        {2, "\"pair_decimals\": 1,", "\"pair_decimals\": -1,"},
        {2, "\"pair_decimals\": 1,", "\"pair_decimals\": 30,"},
        {2, "\"pair_decimals\": 1,", ""},
        {2, "0.26\n", "0.26e\n"},
        {2, "\"tick_size\": \"0.1\"", "\"tick_size\": 0.1"},
        {2, "\"tick_size\": \"0.1\"", "\"tick_size\": \"0,1\""},
        {2, "\"status\": \"online\",\n      \"long_position_limit\": 250",
         "\"status\": 1,\n      \"long_position_limit\": 250"},
        {2, "\"base\": \"XXBT\",", ""},
        {2, "\"wsname\": \"XBT/USD\"", "\"wsname\": false"},
        {2, "\"result\": {", "\"result\": [{"},
        {2, "\"XXBTZUSD\": {", "\"XXBTZUSD\": 7, \"x\": {"},
        {2, "\"error\": [],", ""},
        {2, "\"error\": [],", "\"error\": {},"},
        /* OKX */
        {3, "\"instId\": \"BTC-USDT\"", "\"instId\": 1"},
        {3, "\"instId\": \"BTC-USDT\",", ""},
        {3, "\"instType\": \"SPOT\",", ""},
        {3, "\"tickSz\": \"0.1\"", "\"tickSz\": null"},
        {3, "\"tickSz\": \"0.1\",", ""},
        {3, "\"lotSz\": \"0.00000001\"", "\"lotSz\": \".00000001\""},
        {3, "\"state\": \"live\"", "\"state\": {}"},
        {3, "\"state\": \"live\",", ""},
        {3, "\"baseCcy\": \"BTC\",", ""},
        {3, "\"code\":\"0\",", ""},
        {3, "\"data\":[", "\"data\":[[],"},
        {3, "\"data\":[", "\"data\":{\"x\":["},
        {3, "\"instIdCode\": 1000000000", "\"instIdCode\": 1000000000."},
    };
    struct instrument_list l;
    instrument_list_init(&l);
    char *doc[4];
    for (int v = 0; v < 4; v++) doc[v] = doc_file(docs[v], NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = replace(doc[cases[i].venue], cases[i].from, cases[i].to);
        enum venue_msg kind = parse(venues[cases[i].venue], 200, body, &l, NULL);
        if (kind == VENUE_MSG_TICKS && strcmp(cases[i].from, cases[i].to) != 0)
            TT_FAIL("case %zu (%s: %s -> %s) was taken", i, venues[cases[i].venue], cases[i].from, cases[i].to);
        if (strcmp(cases[i].from, cases[i].to) == 0) TT_ASSERT_INT(kind, VENUE_MSG_TICKS); /* the control */
        free(body);
    }
    for (int v = 0; v < 4; v++) {
        /* trailing bytes after the value, a second value, an empty list, not the venue's shape at all */
        size_t len = strlen(doc[v]);
        char *more = malloc(len + 8);
        memcpy(more, doc[v], len);
        memcpy(more + len, " x", 3);
        TT_ASSERT_INT(parse(venues[v], 200, more, &l, NULL), VENUE_MSG_MALFORMED);
        memcpy(more + len, "{}", 3);
        TT_ASSERT_INT(parse(venues[v], 200, more, &l, NULL), VENUE_MSG_MALFORMED);
        free(more);
        static const char *const junk[] = {
            "null", "[]", "{}", "\"x\"", "5", "[{}]", "{\"symbols\":[]}", "{\"error\":[],\"result\":{}}",
            "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}",
        };
        for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++)
            TT_ASSERT_INT(parse(venues[v], 200, junk[j], &l, NULL), VENUE_MSG_MALFORMED);
        free(doc[v]);
    }
    instrument_list_free(&l);
}

/* Every prefix of each documented answer (up to its last brace) is refused; every byte replaced by each of a few
 * others never crashes, and what is taken keeps every promise (check_list). */
static void test_truncated_and_flipped(void) {
    struct instrument_list l;
    instrument_list_init(&l);
    static const char flips[] = {'"', '{', '}', '[', ']', ',', ':', '\\', 'x', '0', ' ', '\0', (char)0xff, (char)0xc3};
    for (int v = 0; v < 4; v++) {
        size_t len;
        char *doc = doc_file(docs[v], &len);
        size_t last = len;
        while (last > 0 && (doc[last - 1] == '\n' || doc[last - 1] == ' ')) last--;
        for (size_t n = 0; n < last; n++)
            if (parse_len(venues[v], 200, doc, n, &l, NULL) == VENUE_MSG_TICKS)
                TT_FAIL("%s: %zu bytes taken", venues[v], n);
        TT_ASSERT_INT(parse_len(venues[v], 200, doc, last, &l, NULL), VENUE_MSG_TICKS);
        size_t taken = 0;
        for (size_t i = 0; i < len; i++) {
            char keep = doc[i];
            for (size_t f = 0; f < sizeof flips; f++) {
                if (flips[f] == keep) continue;
                doc[i] = flips[f];
                taken += parse_len(venues[v], 200, doc, len, &l, NULL) == VENUE_MSG_TICKS;
            }
            doc[i] = keep;
        }
        fprintf(stderr, "    %s: %zu of %zu flipped answers still a list\n", venues[v], taken, len * sizeof flips);
        free(doc);
    }
    instrument_list_free(&l);
}

/* Names tickd cannot write are skipped and counted, the rest of the list kept; two entries of one name are one. */
static void test_names_skipped_and_duplicates(void) {
    struct instrument_list l;
    instrument_list_init(&l);
    const char *body =
        "{\"symbols\":["
        "{\"symbol\":\"BTCUSDT\",\"status\":\"TRADING\",\"baseAsset\":\"BTC\",\"quoteAsset\":\"USDT\",\"filters\":[]},"
        "{\"symbol\":\"btcusdt\",\"status\":\"TRADING\",\"baseAsset\":\"btc\",\"quoteAsset\":\"USDT\",\"filters\":[]},"
        "{\"symbol\":\"\\u5e01\\u5b89USDT\",\"status\":\"TRADING\",\"baseAsset\":\"\\u5e01\\u5b89\",\"quoteAsset\":"
        "\"USDT\"},"
        "{\"symbol\":\"A-BUSDT\",\"status\":\"TRADING\",\"baseAsset\":\"A-B\",\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"\",\"status\":\"TRADING\",\"baseAsset\":\"X\",\"quoteAsset\":\"Y\"},"
        "{\"symbol\":\"LONGUSDT\",\"status\":\"TRADING\",\"baseAsset\":"
        "\"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOP\",\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"A\\\"B\",\"status\":\"TRADING\",\"baseAsset\":\"AB\",\"quoteAsset\":\"C\"},"
        "{\"symbol\":\"ETHUSDT\",\"status\":\"BREAK\",\"baseAsset\":\"ETH\",\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"ETHUSDT2\",\"status\":\"TRADING\",\"baseAsset\":\"ETH\",\"quoteAsset\":\"USDT\"},"
        "{\"symbol\":\"\\u0045THBTC\",\"status\":\"TRADING\",\"baseAsset\":\"\\u0045TH\",\"quoteAsset\":\"BTC\"}"
        "]}";
    TT_ASSERT_INT(parse("binance", 200, body, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_INT(l.skipped, 6);
    TT_ASSERT_INT(l.duplicates, 1);
    TT_ASSERT_INT(l.n, 3);
    TT_ASSERT_STR(l.v[0].symbol, "BTC-USDT");
    TT_ASSERT_STR(l.v[1].symbol, "ETH-BTC");
    TT_ASSERT_STR(l.v[1].venue_symbol, "ETHBTC"); /* escapes decoded */
    TT_ASSERT_STR(l.v[2].symbol, "ETH-USDT");
    TT_ASSERT_STR(l.v[2].venue_symbol, "ETHUSDT2"); /* the trading one of the two */
    TT_ASSERT_INT(l.v[2].status, INSTRUMENT_TRADING);
    /* every name skipped: no list */
    const char *none =
        "[{\"id\":\"BTC-USD-X\",\"base_currency\":\"BTC\",\"quote_currency\":\"USD\",\"quote_increment\":"
        "\"0.01\",\"base_increment\":\"0.1\",\"status\":\"online\"}]";
    TT_ASSERT_INT(parse("coinbase", 200, none, &l, NULL), VENUE_MSG_MALFORMED);
    instrument_list_free(&l);
}

/* Deep nesting and huge texts in fields nobody reads: refused or passed over, never a crash. */
static void test_huge_and_deep(void) {
    struct instrument_list l;
    instrument_list_init(&l);
    char *doc = doc_file(docs[0], NULL);
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 64);
    char *p = stpcpy(deep, "\"sors\": ");
    memset(p, '[', depth);
    memset(p + depth, ']', depth);
    p[2 * depth] = 0;
    char *body = replace(doc, "\"sors\": ", deep);
    TT_ASSERT_INT(parse("binance", 200, body, &l, NULL), VENUE_MSG_MALFORMED);
    free(body);
    free(deep);
    size_t big = 16u << 20;
    char *huge = malloc(big + 64);
    p = stpcpy(huge, "\"timezone\": \"");
    memset(p, 'u', big);
    strcpy(p + big, "\"");
    body = replace(doc, "\"timezone\": \"UTC\"", huge);
    TT_ASSERT_INT(parse("binance", 200, body, &l, NULL), VENUE_MSG_TICKS);
    TT_ASSERT_INT(l.n, 1);
    free(body);
    /* a huge name is no name: skipped, so nothing is left */
    p = stpcpy(huge, "\"symbol\": \"");
    memset(p, 'A', big);
    strcpy(p + big, "\"");
    body = replace(doc, "\"symbol\": \"ETHBTC\"", huge);
    TT_ASSERT_INT(parse("binance", 200, body, &l, NULL), VENUE_MSG_MALFORMED);
    free(body);
    free(huge);
    free(doc);
    instrument_list_free(&l);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 50,000 instruments in one answer of each venue's shape: all listed, in order; the time is printed. */
static void test_fifty_thousand(void) {
    enum { N = 50000 };
    struct instrument_list l;
    instrument_list_init(&l);
    size_t cap = (size_t)N * 700 + 64;
    char *body = malloc(cap);
    for (int v = 0; v < 4; v++) {
        char *p = body;
        p = stpcpy(p, v == 0   ? "{\"timezone\":\"UTC\",\"symbols\":["
                      : v == 1 ? "["
                      : v == 2 ? "{\"error\":[],\"result\":{"
                               : "{\"code\":\"0\",\"msg\":\"\",\"data\":[");
        for (int i = 0; i < N; i++) {
            char base[16];
            snprintf(base, sizeof base, "S%05d", N - 1 - i); /* sent out of order */
            if (i) *p++ = ',';
            if (v == 0)
                p += sprintf(
                    p,
                    "{\"symbol\":\"%sUSDT\",\"status\":\"TRADING\",\"baseAsset\":\"%s\",\"baseAssetPrecision\":8,"
                    "\"quoteAsset\":\"USDT\",\"quotePrecision\":8,\"orderTypes\":[\"LIMIT\",\"MARKET\"],\"filters\":["
                    "{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"0.00010000\",\"maxPrice\":\"1000.00000000\","
                    "\"tickSize\":\"0.00010000\"},{\"filterType\":\"LOT_SIZE\",\"minQty\":\"0.01000000\","
                    "\"maxQty\":\"900000.00000000\",\"stepSize\":\"0.01000000\"}],\"permissions\":[],"
                    "\"permissionSets\":[]}",
                    base, base);
            else if (v == 1)
                p += sprintf(
                    p,
                    "{\"id\":\"%s-USD\",\"base_currency\":\"%s\",\"quote_currency\":\"USD\",\"quote_increment\":"
                    "\"0.01000000\",\"base_increment\":\"0.00000001\",\"display_name\":\"%s/USD\",\"min_market_funds\":"
                    "\"1\",\"margin_enabled\":false,\"post_only\":false,\"limit_only\":false,\"cancel_only\":false,"
                    "\"status\":\"online\",\"status_message\":\"\",\"trading_disabled\":false,\"auction_mode\":false}",
                    base, base, base);
            else if (v == 2)
                p += sprintf(
                    p,
                    "\"%sUSD\":{\"altname\":\"%sUSD\",\"wsname\":\"%s/USD\",\"base\":\"%s\",\"quote\":\"ZUSD\","
                    "\"pair_decimals\":4,\"lot_decimals\":8,\"fees\":[[0,0.26],[50000,0.24]],\"ordermin\":\"0.1\","
                    "\"tick_size\":\"0.0001\",\"status\":\"online\"}",
                    base, base, base, base);
            else
                p += sprintf(
                    p,
                    "{\"instType\":\"SPOT\",\"instId\":\"%s-USDT\",\"baseCcy\":\"%s\",\"quoteCcy\":\"USDT\","
                    "\"tickSz\":\"0.0001\",\"lotSz\":\"0.01\",\"minSz\":\"0.1\",\"state\":\"live\",\"upcChg\":[]}",
                    base, base);
        }
        p = stpcpy(p, v == 2 ? "}}" : v == 1 ? "]" : "]}");
        size_t len = (size_t)(p - body);
        double t0 = now_s();
        char detail[VENUE_DETAIL_MAX];
        enum venue_msg kind = hook(venues[v])->parse(200, body, len, &l, detail);
        double dt = now_s() - t0;
        TT_ASSERT_INT(kind, VENUE_MSG_TICKS);
        TT_ASSERT_INT(l.n, N);
        TT_ASSERT_INT(l.skipped, 0);
        for (size_t i = 1; i < l.n; i++) TT_ASSERT(strcmp(l.v[i - 1].symbol, l.v[i].symbol) < 0);
        TT_ASSERT(instrument_list_find(&l, v == 0 || v == 3 ? "S12345-USDT" : "S12345-USD") != NULL);
        fprintf(stderr, "    %s: %d instruments, %.1f MB, parsed in %.1f ms (%.2f us each), list %zu KiB\n", venues[v],
                N, (double)len / 1e6, dt * 1e3, dt * 1e6 / N, l.cap * sizeof *l.v / 1024);
    }
    free(body);
    instrument_list_free(&l);
}

int main(void) {
    TT_RUN(test_sort_find_duplicates);
    TT_RUN(test_equal_and_decimals);
    TT_RUN(test_json);
    TT_RUN(test_diff);
    TT_RUN(test_scanner_agrees_with_jansson);
    TT_RUN(test_hooks);
    TT_RUN(test_binance_doc);
    TT_RUN(test_coinbase_doc);
    TT_RUN(test_kraken_doc);
    TT_RUN(test_okx_doc);
    TT_RUN(test_http_status);
    TT_RUN(test_malformed);
    TT_RUN(test_truncated_and_flipped);
    TT_RUN(test_names_skipped_and_duplicates);
    TT_RUN(test_huge_and_deep);
    TT_RUN(test_fifty_thousand);
    return tt_finish();
}
