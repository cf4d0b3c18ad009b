/* Unit tests of the instrument lists: instrument.h's lists (sort, one entry per symbol, find), the comparison of
 * two lists (listed, status, updated, delisted: gone or delisted), the JSON of one instrument (exact text, nulls,
 * escapes, every buffer size). The strict JSON reader the venues' instrument parsers share (src/venue/json_scan.c)
 * is compared with jansson on valid and broken texts. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/venue/json_scan.h"
#include "tickd/decimal.h"
#include "tickd/instrument.h"
#include "tt.h"

/* ---- helpers -------------------------------------------------------------------------------------------- */

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
        make("ETH-USDT", INSTRUMENT_TRADING, "0.01"), make("BTC-USDT", INSTRUMENT_DELISTED, "0.1"),
        make("ADA-USDT", INSTRUMENT_HALTED, "0.0001"), make("BTC-USDT", INSTRUMENT_TRADING, "0.01"),
        make("BTC-USDT", INSTRUMENT_HALTED, "0.01"), make("ZRX-BTC", INSTRUMENT_TRADING, "0.00000001"),
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
    const char *want = "{\"venue\":\"binance\",\"symbol\":\"BTC-USDT\",\"venue_symbol\":\"BTCUSDT\",\"status\":\"trading\","
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
        make("ZZZ-USD", INSTRUMENT_HALTED, "0.01"),   /* new, halted: listed */
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
        "{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\\ud83d\\ude00\\n\\\\\\\"\\/\"}", "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
        "{\"a\":1,\"a\":2}", "[1,[2,[3,[4]]]]", "\"\x7f\"",
        /* broken */
        "", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{a:1}",
        "[1 2]", "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "tru", "nul", "falsey",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\x01\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\xff\"",
        "{} {}", "[] x", "[1]]", "{\"a\":1}}", "\xef\xbb\xbf{}", "[\"a\" \"b\"]", "{\"a\":1 \"b\":2}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]);
        if (scan_ok(texts[i], len) != jansson_ok(texts[i], len)) TT_FAIL("text %zu ('%s'): reader and jansson differ", i, texts[i]);
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

int main(void) {
    TT_RUN(test_sort_find_duplicates);
    TT_RUN(test_equal_and_decimals);
    TT_RUN(test_json);
    TT_RUN(test_diff);
    TT_RUN(test_scanner_agrees_with_jansson);
    return tt_finish();
}
