/* Unit tests of the venue adapters: the recorded frames and documentation examples of ../shared/venues parse
 * to the right kind and exact ticks, symbols map both ways, subscribe messages and REST plans have the
 * venues' shapes, and hostile input (every truncation, flipped bytes) never crashes.
 *
 * Every websocket frame parsed here is parsed twice, with the adapters' fast paths and with jansson alone,
 * and the two answers must be byte-identical (ws_both); a jansson allocation hook tells which frames the fast
 * path took, so the comparison is known not to be vacuous. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fakex/fx_client.h"
#include "tickd/venue.h"
#include "tt.h"

#define MAX_TICKS 64

/* ---- fixtures -------------------------------------------------------------------------------------- */

/* The text of the venue reference message <rel> (tests/venues, else ../shared/venues), or a skip when shared is
 * absent. Caller frees. */
static char *shared_file(const char *rel, size_t *len) {
    char path[8192];
    if (!tt_venue_path(rel, path, sizeof path) && !tt_shared_dir())
        TT_SKIP("../shared/venues not found (set TICKD_SHARED)");
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

/* Splits text into lines in place; returns the count. */
static size_t split_lines(char *text, char **lines, size_t cap) {
    size_t n = 0;
    for (char *p = text; *p && n < cap;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (*p) lines[n++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    return n;
}

static const char *binance_syms[] = {"NKN-USDT", "LRC-BTC", "BNB-USDT", "LTC-BTC", "ETH-BTC", "BNB-BTC"};
static const char *coinbase_syms[] = {"BAND-BTC", "BAND-GBP", "CRV-EUR", "DASH-BTC", "NMR-EUR", "NU-GBP",
                                      "SKL-BTC",  "SKL-GBP",  "SKL-USD", "YFI-BTC",  "BTC-USD"};
static const char *kraken_syms[] = {"ADA-BTC", "ETH-CHF",   "GRT-ETH", "KSM-BTC", "OCEAN-BTC", "OMG-USD",
                                    "SC-EUR",  "WAVES-EUR", "BTC-CHF", "XMR-USD", "BTC-USD",   "ALGO-USD"};
static const char *okx_syms[] = {"BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"};

/* When the fixtures "received" their frames: after every recorded event time (2021-2024), which must not be
 * ahead of their receive (tick_event_time_bound). */
#define RECV_US 1900000000000000LL /* 2030-03-17 */

struct fixture {
    const struct venue_ops *v;
    struct venue_symbols syms;
    struct tick ticks[MAX_TICKS];
    struct venue_out out;
};

static void fixture_init(struct fixture *fx, const char *venue, const char **syms, size_t n) {
    fx->v = venue_find(venue);
    TT_ASSERT(fx->v != NULL);
    TT_ASSERT_INT(venue_symbols_init(&fx->syms, fx->v, syms, n), 0);
}

/* ---- fast path against jansson ------------------------------------------------------------------- */

/* Counts jansson's allocations (through the arena's hooks, which it then calls): a frame parsed without any
 * was taken by a fast path. */
static void *(*arena_malloc)(size_t);
static size_t jansson_allocs;

static void *counting_malloc(size_t n) {
    jansson_allocs++;
    return arena_malloc(n);
}

static void count_jansson_allocs(const struct venue_symbols *s) {
    if (arena_malloc) return;
    struct tick t;
    struct venue_out out;
    venue_out_init(&out, &t, 1, 0, 0);
    venue_fast_paths(false);
    s->venue->channels->ws_parse("{}", 2, s, &out); /* installs the arena's hooks */
    venue_fast_paths(true);
    json_free_t arena_free;
    json_get_alloc_funcs(&arena_malloc, &arena_free);
    json_set_alloc_funcs(counting_malloc, arena_free);
}

struct parsed {
    enum venue_msg kind;
    struct venue_out out;
    struct tick ticks[MAX_TICKS];
    bool fast; /* no jansson allocation */
};

static void parse_one(const struct fixture *fx, const char *frame, size_t len, size_t cap, bool fast, struct parsed *p) {
    count_jansson_allocs(&fx->syms);
    venue_fast_paths(fast);
    venue_out_init(&p->out, p->ticks, cap, RECV_US, 0);
    size_t before = jansson_allocs;
    p->kind = fx->v->channels->ws_parse(frame, len, &fx->syms, &p->out);
    p->fast = jansson_allocs == before;
    venue_fast_paths(true);
}

static size_t frames_taken_fast;

/* Parses with fast paths and with jansson alone; the answers must be byte-identical. The fast answer is left
 * in fx->out and fx->ticks. */
static enum venue_msg ws_both(struct fixture *fx, const char *frame, size_t len, size_t cap) {
    static struct parsed fast, slow;
    parse_one(fx, frame, len, cap, false, &slow);
    parse_one(fx, frame, len, cap, true, &fast);
    frames_taken_fast += fast.fast;
    bool same = fast.kind == slow.kind && fast.out.n == slow.out.n && fast.out.unmapped == slow.out.unmapped &&
                fast.out.overflow == slow.out.overflow && strcmp(fast.out.detail, slow.out.detail) == 0 &&
                memcmp(fast.ticks, slow.ticks, fast.out.n * sizeof fast.ticks[0]) == 0;
    if (!same)
        TT_FAIL("%s fast path differs from jansson (%s/%zu vs %s/%zu) on %.*s", fx->v->name, venue_msg_name(fast.kind),
                fast.out.n, venue_msg_name(slow.kind), slow.out.n, (int)(len < 200 ? len : 200), frame);
    fx->out = fast.out;
    fx->out.ticks = fx->ticks;
    memcpy(fx->ticks, fast.ticks, fast.out.n * sizeof fast.ticks[0]);
    return fast.kind;
}

static enum venue_msg ws(struct fixture *fx, const char *frame) {
    return ws_both(fx, frame, strlen(frame), MAX_TICKS);
}

static enum venue_msg rest(struct fixture *fx, const struct venue_request *req, int status, const char *body) {
    venue_out_init(&fx->out, fx->ticks, MAX_TICKS, RECV_US + 1000, 1500);
    return fx->v->channels->rest_parse(req, status, body, strlen(body), &fx->syms, &fx->out);
}

/* Asserts one tick's exact text. */
#define TT_TICK(t, sym, b, bq, a, aq, l)                                                                   \
    do {                                                                                                   \
        TT_ASSERT_STR((t)->symbol, sym);                                                                   \
        TT_ASSERT_STR((t)->bid, b);                                                                        \
        TT_ASSERT_STR((t)->bid_qty, bq);                                                                   \
        TT_ASSERT_STR((t)->ask, a);                                                                        \
        TT_ASSERT_STR((t)->ask_qty, aq);                                                                   \
        TT_ASSERT_STR((t)->last, l);                                                                       \
    } while (0)

/* Every line of a recorded file parses to `kind`; ticker lines give ≥1 tick with non-empty bid and ask. */
static void every_line(struct fixture *fx, const char *rel, enum venue_msg kind) {
    char *text = shared_file(rel, NULL);
    char *lines[256];
    size_t n = split_lines(text, lines, 256);
    TT_ASSERT(n > 0);
    for (size_t i = 0; i < n; i++) {
        enum venue_msg got = ws(fx, lines[i]);
        if (got != kind) {
            free(text);
            TT_FAIL("%s line %zu: %s, expected %s", rel, i + 1, venue_msg_name(got), venue_msg_name(kind));
        }
        if (kind != VENUE_MSG_TICKS) continue;
        TT_ASSERT(fx->out.n >= 1);
        for (size_t k = 0; k < fx->out.n; k++) {
            TT_ASSERT(fx->ticks[k].bid[0] && fx->ticks[k].ask[0]);
            TT_ASSERT_STR(fx->ticks[k].venue, fx->v->name);
            TT_ASSERT_INT(fx->ticks[k].origin, TICK_ORIGIN_STREAM);
            TT_ASSERT_INT(fx->ticks[k].recv_us, RECV_US);
        }
    }
    free(text);
}

/* The n-th (1-based) line of a recorded file, parsed. */
static enum venue_msg ws_line(struct fixture *fx, const char *rel, size_t nth) {
    char *text = shared_file(rel, NULL);
    char *lines[256];
    size_t n = split_lines(text, lines, 256);
    TT_ASSERT(nth >= 1 && nth <= n);
    enum venue_msg kind = ws(fx, lines[nth - 1]);
    free(text);
    return kind;
}

static enum venue_msg ws_doc(struct fixture *fx, const char *rel) {
    char *text = shared_file(rel, NULL);
    enum venue_msg kind = ws(fx, text);
    free(text);
    return kind;
}

/* ---- helpers --------------------------------------------------------------------------------------- */

static void test_decimal_shortest(void) {
    char buf[TICK_DECIMAL_MAX];
    struct {
        double v;
        const char *want;
    } cases[] = {
        {0.1, "0.1"},         {1e-7, "0.0000001"}, {65000.5, "65000.5"}, {123456789.12345678, "123456789.12345678"},
        {740.0, "740"},       {0, "0"},            {-0.0, "0"},          {-0.00017, "-0.00017"},
        {1361.44813783, "1361.44813783"},          {1e21, "1000000000000000000000"},
        {0.10025, "0.10025"}, {5e-324, NULL},      {1e300, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = venue_decimal_shortest(cases[i].v, buf, sizeof buf);
        if (!cases[i].want) {
            TT_ASSERT_INT(n, -1);
            continue;
        }
        TT_ASSERT_STR(buf, cases[i].want);
        TT_ASSERT_INT(n, strlen(cases[i].want));
        TT_ASSERT(strtod(buf, NULL) == cases[i].v);
    }
    TT_ASSERT_INT(venue_decimal_shortest(0.0 / 0.0, buf, sizeof buf), -1);
    TT_ASSERT_INT(venue_decimal_shortest(65000.5, buf, 7), -1); /* "65000.5" needs 8 bytes */
}

/* The fewest significant digits that read back, by the search of printf and strtod alone: what
 * venue_decimal_shortest printed before it had a way around printf for the usual numbers. */
static void shortest_by_search(double v, char *out, size_t cap) {
    char sci[40];
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(sci, sizeof sci, "%.*e", mid - 1, v);
        if (strtod(sci, NULL) == v) hi = mid;
        else lo = mid + 1;
    }
    snprintf(sci, sizeof sci, "%.*e", lo - 1, v);
    /* to plain form: digits and exponent */
    char digits[24];
    size_t nd = 0;
    const char *q = sci + (sci[0] == '-');
    for (; *q && *q != 'e'; q++)
        if (*q != '.') digits[nd++] = *q;
    int exp10 = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int point = exp10 + 1;
    size_t o = 0;
    if (v < 0) out[o++] = '-';
    if (point <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -point; i++) out[o++] = '0';
        for (size_t i = 0; i < nd; i++) out[o++] = digits[i];
    } else {
        for (int i = 0; i < point; i++) out[o++] = (size_t)i < nd ? digits[i] : '0';
        if ((size_t)point < nd) {
            out[o++] = '.';
            for (size_t i = (size_t)point; i < nd; i++) out[o++] = digits[i];
        }
    }
    out[o] = 0;
    (void)cap;
}

/* The way around printf gives exactly the search's digits: decimals as venues send them (m / 10^k, up to 15
 * significant digits, positive and negative), neighbours of those doubles, and doubles of any bits. */
static void test_decimal_shortest_fast_equals_search(void) {
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    char got[TICK_DECIMAL_MAX], want[64];
    size_t checked = 0;
    for (int i = 0; i < 300000; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        double v;
        if (i % 3 == 0) { /* m / 10^k */
            uint64_t m = rng % 1000000000000000ULL >> (rng % 40);
            int k = (int)((rng >> 50) % 16);
            char text[48];
            snprintf(text, sizeof text, "%llu.%0*llue-%d", (unsigned long long)m, 1, 0ULL, k);
            v = strtod(text, NULL);
        } else if (i % 3 == 1) { /* a neighbour of a short decimal: needs all 17 digits */
            v = nextafter((double)(rng % 100000) / 100.0, 1e9);
        } else { /* any bits, finite and printable in plain form within the buffer */
            memcpy(&v, &rng, sizeof v);
            if (!isfinite(v) || fabs(v) > 1e20 || (v != 0 && fabs(v) < 1e-15)) continue;
        }
        if (rng & 1) v = -v;
        int n = venue_decimal_shortest(v, got, sizeof got);
        shortest_by_search(v, want, sizeof want);
        if (strlen(want) >= sizeof got) {
            TT_ASSERT_INT(n, -1);
            continue;
        }
        if (v == 0) strcpy(want, "0");
        if (n < 0 || strcmp(got, want) != 0) TT_FAIL("%.17g: got %s, the search gives %s", v, n < 0 ? "-1" : got, want);
        checked++;
    }
    TT_ASSERT(checked > 190000);
}

static void test_rfc3339(void) {
    int64_t us = 0;
    TT_ASSERT_INT(venue_parse_rfc3339("2021-04-17T16:43:30.244075Z", 27, &us), 0);
    TT_ASSERT_INT(us, 1618677810244075LL);
    TT_ASSERT_INT(venue_parse_rfc3339("2021-04-17T16:43:30Z", 20, &us), 0);
    TT_ASSERT_INT(us, 1618677810000000LL);
    TT_ASSERT_INT(venue_parse_rfc3339("2021-04-17T18:43:30.5+02:00", 27, &us), 0);
    TT_ASSERT_INT(us, 1618677810500000LL);
    TT_ASSERT_INT(venue_parse_rfc3339("2023-09-25T09:04:31.742648123Z", 30, &us), 0);
    TT_ASSERT_INT(us, 1695632671742648LL);
    const char *bad[] = {"", "2021-04-17", "2021-04-17T16:43:30", "2021-13-17T16:43:30Z", "2021-04-17T16:43:30.Z",
                         "2021-04-17T16:43:30Zx", "2021-04-17X16:43:30Z", "2021-04-17T16:43:30+0200"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TT_ASSERT_INT(venue_parse_rfc3339(bad[i], strlen(bad[i]), &us), -1);
}

static void test_registry(void) {
    const char *names[] = {"binance", "coinbase", "kraken", "okx"};
    for (size_t i = 0; i < 4; i++) {
        TT_ASSERT(venue_find(names[i]) != NULL);
        TT_ASSERT(venue_at(i) == venue_find(names[i]));
    }
    TT_ASSERT(venue_at(4) == NULL);
    TT_ASSERT(venue_find("mtgox") == NULL);
    TT_ASSERT_STR(venue_msg_name(VENUE_MSG_PLANNED_CLOSE), "planned_close");
}

/* ---- symbols --------------------------------------------------------------------------------------- */

/* Every alias of every symbol finds its symbol again, and the venue names are as expected. */
static void assert_round_trip(const struct venue_symbols *s) {
    for (size_t i = 0; i < s->n; i++) {
        struct venue_names_buf nm;
        TT_ASSERT_INT(s->venue->names(s->list[i].norm, &nm), 0);
        for (size_t a = 0; a < nm.n_alias; a++)
            TT_ASSERT_INT(venue_symbols_find(s, nm.alias[a], strlen(nm.alias[a])), i);
        TT_ASSERT_STR(s->list[i].names.ws, nm.ws);
        TT_ASSERT_STR(s->list[i].names.rest, nm.rest);
        TT_ASSERT_INT(venue_symbols_find(s, s->list[i].norm, strlen(s->list[i].norm)), i);
    }
}

static bool has_alias(const struct venue_names_buf *nm, const char *alias) {
    for (size_t a = 0; a < nm->n_alias; a++)
        if (strcmp(nm->alias[a], alias) == 0) return true;
    return false;
}

static void test_symbol_mapping(void) {
    struct venue_names_buf nm;
    const struct venue_ops *b = venue_find("binance"), *k = venue_find("kraken");
    TT_ASSERT_INT(b->names("BTC-USDT", &nm), 0);
    TT_ASSERT_STR(nm.ws, "btcusdt"); /* the bbo channel adds its feed, @bookTicker */
    TT_ASSERT_STR(nm.rest, "BTCUSDT");
    TT_ASSERT(has_alias(&nm, "BTCUSDT"));
    TT_ASSERT_INT(b->names("BTC-USD-SWAP", &nm), -EINVAL);
    TT_ASSERT_INT(b->names("btc-usdt", &nm), -EINVAL);
    TT_ASSERT_INT(b->names("BTCUSDT", &nm), -EINVAL);
    TT_ASSERT_INT(b->names("BTC-", &nm), -EINVAL);

    TT_ASSERT_INT(k->names("BTC-USD", &nm), 0);
    TT_ASSERT_STR(nm.ws, "BTC/USD");
    TT_ASSERT_STR(nm.rest, "XBTUSD");
    TT_ASSERT(has_alias(&nm, "XBT/USD") && has_alias(&nm, "XXBTZUSD") && has_alias(&nm, "BTC/USD"));
    TT_ASSERT_INT(k->names("ETH-BTC", &nm), 0);
    TT_ASSERT(has_alias(&nm, "XETHXXBT") && has_alias(&nm, "ETH/XBT"));
    TT_ASSERT_INT(k->names("ADA-USD", &nm), 0);
    TT_ASSERT_INT(nm.n_alias, 3); /* newer assets have no legacy key */
    TT_ASSERT_INT(k->names("DOGE-USD", &nm), 0);
    TT_ASSERT(has_alias(&nm, "XDG/USD") && has_alias(&nm, "XDGUSD"));
    TT_ASSERT_STR(nm.ws, "DOGE/USD");

    struct fixture fx;
    const char *venues[] = {"binance", "coinbase", "kraken", "okx"};
    const char **lists[] = {binance_syms, coinbase_syms, kraken_syms, okx_syms};
    size_t counts[] = {6, 11, 12, 3};
    for (size_t v = 0; v < 4; v++) {
        if (v == 3) continue; /* okx: below, with its derivatives */
        fixture_init(&fx, venues[v], lists[v], counts[v]);
        assert_round_trip(&fx.syms);
        TT_ASSERT_INT(venue_symbols_find(&fx.syms, "NOPE", 4), -1);
        venue_symbols_free(&fx.syms);
    }
    fixture_init(&fx, "okx", okx_syms, 3);
    assert_round_trip(&fx.syms);
    venue_symbols_free(&fx.syms);

    /* Ambiguity is settled by the configured list: BTCUSDT is BTC-USDT. */
    const char *dup[] = {"BTC-USDT", "ETH-USDT", "BTC-USDT"};
    struct venue_symbols s;
    TT_ASSERT_INT(venue_symbols_init(&s, b, dup, 3), -EINVAL);
    TT_ASSERT_INT(venue_symbols_init(&s, b, dup, 2), 0);
    TT_ASSERT_INT(venue_symbols_find(&s, "BTCUSDT", 7), 0);
    TT_ASSERT_STR(s.list[venue_symbols_find(&s, "ETHUSDT", 7)].norm, "ETH-USDT");
    venue_symbols_free(&s);
    /* BTC-USD and XBT-USD are the same Kraken pair. */
    const char *same[] = {"BTC-USD", "XBT-USD"};
    TT_ASSERT_INT(venue_symbols_init(&s, k, same, 2), -EINVAL);
}

/* ---- recorded frames and documentation examples ---------------------------------------------------- */

static void test_binance_frames(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 6);
    every_line(&fx, "binance/ws_bookTicker.jsonl", VENUE_MSG_TICKS);
    TT_ASSERT_INT(ws_line(&fx, "binance/ws_bookTicker.jsonl", 1), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "NKN-USDT", "0.35210000", "672.00000000", "0.35260000", "3199.00000000", "");
    TT_ASSERT(fx.ticks[0].has_seq);
    TT_ASSERT_INT(fx.ticks[0].seq, 499869768);
    TT_ASSERT_INT(fx.ticks[0].event_us, 0);
    TT_ASSERT_INT(ws_line(&fx, "binance/ws_bookTicker.jsonl", 8), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "LRC-BTC", "0.00000637", "6500.00000000", "0.00000638", "27122.00000000", "");
    TT_ASSERT_INT(fx.ticks[0].seq, 259345545);
    TT_ASSERT_INT(ws_line(&fx, "binance/ws_bookTicker.jsonl", 4), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "NKN-USDT", "0.35210000", "42.00000000", "0.35240000", "3959.00000000", "");

    TT_ASSERT_INT(ws_doc(&fx, "binance/doc-ws-bookTicker.json"), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BNB-USDT", "25.35190000", "31.21000000", "25.36520000", "40.66000000", "");
    TT_ASSERT_INT(fx.ticks[0].seq, 400900217);
    TT_ASSERT_INT(ws_doc(&fx, "binance/doc-ws-ticker-24hr.json"), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BNB-BTC", "0.0024", "10", "0.0026", "100", "0.0025");
    TT_ASSERT_INT(fx.ticks[0].event_us, 1672515782136000LL);
    TT_ASSERT_INT(ws_doc(&fx, "binance/doc-ws-serverShutdown-combined.json"), VENUE_MSG_PLANNED_CLOSE);
    TT_ASSERT_INT(ws_doc(&fx, "binance/doc-ws-serverShutdown-raw.json"), VENUE_MSG_PLANNED_CLOSE);
    TT_ASSERT_INT(ws_doc(&fx, "binance/doc-ws-subscribe-response.json"), VENUE_MSG_SUBSCRIBED);
    TT_ASSERT_INT(ws_doc(&fx, "binance/doc-ws-aggTrade.json"), VENUE_MSG_UNKNOWN);
    TT_ASSERT_INT(ws(&fx, "{\"error\":{\"code\":2,\"msg\":\"Invalid request\"},\"id\":1}"), VENUE_MSG_ERROR);
    TT_ASSERT_STR(fx.out.detail, "Invalid request");
    /* A symbol that was not configured is counted, not guessed. */
    TT_ASSERT_INT(ws(&fx, "{\"u\":1,\"s\":\"XRPUSDT\",\"b\":\"1\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}"), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n, 0);
    TT_ASSERT_INT(fx.out.unmapped, 1);
    /* Prices are strings: a number, an exponent or an over-long text is malformed. */
    TT_ASSERT_INT(ws(&fx, "{\"u\":1,\"s\":\"BNBUSDT\",\"b\":1.5,\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}"), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(ws(&fx, "{\"u\":1,\"s\":\"BNBUSDT\",\"b\":\"1e5\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(ws(&fx, "{\"u\":1,\"s\":\"BNBUSDT\",\"b\":\"1.00000000000000000000000000000000000000\",\"B\":\"1\","
                          "\"a\":\"1\",\"A\":\"1\"}"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n, 0);
    TT_ASSERT_INT(ws(&fx, "{\"u\":-1,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}"),
                  VENUE_MSG_MALFORMED);
    venue_symbols_free(&fx.syms);
}

/* The Binance adapter reads plain bookTicker frames without jansson and hands every other shape to jansson:
 * both ways must give the same answer. Each frame below is one the fast reader takes or one it must refuse. */
static void test_binance_fast_path(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 6);
    static const struct {
        const char *frame;
        enum venue_msg kind;
        size_t n;
        const char *bid;
    } cases[] = {
        /* taken by the fast reader: raw, combined, with spaces, with an event time */
        {"{\"u\":7,\"s\":\"BNBUSDT\",\"b\":\"1.50\",\"B\":\"2\",\"a\":\"1.60\",\"A\":\"3\"}", VENUE_MSG_TICKS, 1, "1.50"},
        {"{\"stream\":\"bnbusdt@bookTicker\",\"data\":{\"u\":8,\"s\":\"BNBUSDT\",\"b\":\"1.5\",\"B\":\"2\","
         "\"a\":\"1.6\",\"A\":\"3\"}}", VENUE_MSG_TICKS, 1, "1.5"},
        {" { \"u\" : 9 ,\n\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"2\",\"a\":\"3\",\"A\":\"4\",\"E\":5 } ", VENUE_MSG_TICKS, 1, "1"},
        {"{\"u\":7,\"s\":\"XYZUSDT\",\"b\":\"1\",\"B\":\"2\",\"a\":\"3\",\"A\":\"4\"}", VENUE_MSG_TICKS, 0, NULL},
        /* refused by the fast reader, decided by jansson */
        {"{\"u\":7,\"s\":\"BNB\\u0055SDT\",\"b\":\"1\",\"B\":\"2\",\"a\":\"3\",\"A\":\"4\"}", VENUE_MSG_TICKS, 1, "1"},
        {"{\"u\":7,\"s\":\"BNBUSDT\",\"b\":\"9\",\"b\":\"1\",\"B\":\"2\",\"a\":\"3\",\"A\":\"4\"}", VENUE_MSG_TICKS, 1, "1"},
        {"{\"u\":7.5,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"2\",\"a\":\"3\",\"A\":\"4\"}", VENUE_MSG_MALFORMED, 0, NULL},
        {"{\"u\":-7,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"2\",\"a\":\"3\",\"A\":\"4\"}", VENUE_MSG_MALFORMED, 0, NULL},
        {"{\"u\":7,\"s\":\"BNBUSDT\",\"b\":1,\"B\":\"2\",\"a\":\"3\",\"A\":\"4\"}", VENUE_MSG_MALFORMED, 0, NULL},
        {"{\"u\":7,\"s\":\"BNBUSDT\",\"b\":\"1x\",\"B\":\"2\",\"a\":\"3\",\"A\":\"4\"}", VENUE_MSG_MALFORMED, 0, NULL},
        {"{\"u\":7,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"2\",\"a\":\"3\",\"A\":\"4\"} x", VENUE_MSG_MALFORMED, 0, NULL},
        {"{\"u\":7,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"2\",\"a\":\"3\"", VENUE_MSG_MALFORMED, 0, NULL},
        {"{\"result\":null,\"id\":1}", VENUE_MSG_SUBSCRIBED, 0, NULL},
        {"{\"e\":\"serverShutdown\",\"E\":1}", VENUE_MSG_PLANNED_CLOSE, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum venue_msg got = ws(&fx, cases[i].frame);
        if (got != cases[i].kind) TT_FAIL("case %zu: %s, expected %s", i, venue_msg_name(got), venue_msg_name(cases[i].kind));
        TT_ASSERT_INT(fx.out.n, cases[i].n);
        if (cases[i].bid) {
            TT_ASSERT_STR(fx.ticks[0].bid, cases[i].bid);
            TT_ASSERT_STR(fx.ticks[0].symbol, "BNB-USDT");
            TT_ASSERT(fx.ticks[0].has_seq);
        }
    }
    TT_ASSERT_INT(ws(&fx, cases[2].frame), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.ticks[0].event_us, 0); /* E = 5 ms is 1970: no event time */
    TT_ASSERT(fx.ticks[0].bad_time);
    TT_ASSERT_INT(fx.ticks[0].seq, 9);
    venue_symbols_free(&fx.syms);
}

static void test_coinbase_frames(void) {
    struct fixture fx;
    fixture_init(&fx, "coinbase", coinbase_syms, 11);
    every_line(&fx, "coinbase/ws_ticker.jsonl", VENUE_MSG_TICKS);
    every_line(&fx, "coinbase/ws_subscriptions.jsonl", VENUE_MSG_SUBSCRIBED);
    TT_ASSERT_INT(ws_line(&fx, "coinbase/ws_ticker.jsonl", 1), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BAND-GBP", "14.7550", "", "14.8060", "", "14.7775");
    TT_ASSERT_INT(fx.ticks[0].seq, 333938798);
    TT_ASSERT_INT(fx.ticks[0].event_us, 1618677810244075LL);
    TT_ASSERT_INT(ws_line(&fx, "coinbase/ws_ticker.jsonl", 5), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "SKL-BTC", "0.00001302", "", "0.00001305", "", "0.00001303");
    TT_ASSERT_INT(fx.ticks[0].seq, 177100017);
    TT_ASSERT_INT(ws_line(&fx, "coinbase/ws_ticker.jsonl", 36), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "SKL-USD", "0.7909", "", "0.7913", "", "0.7909");
    TT_ASSERT_INT(fx.ticks[0].seq, 201391408);

    TT_ASSERT_INT(ws_doc(&fx, "coinbase/doc-exchange-heartbeat-message.json"), VENUE_MSG_HEARTBEAT);
    /* The pre-2023 Advanced Trade ticker has no best bid/ask: malformed for the Exchange feed. */
    TT_ASSERT_INT(ws_doc(&fx, "coinbase/doc-advanced-trade-legacy-ticker-message.json"), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(ws(&fx, "{\"type\":\"ticker\",\"sequence\":7,\"product_id\":\"BTC-USD\",\"price\":\"65000.5\","
                          "\"best_bid\":\"65000.4\",\"best_bid_size\":\"0.5\",\"best_ask\":\"65000.5\","
                          "\"best_ask_size\":\"1.25\",\"time\":\"2024-01-01T00:00:00.000001Z\"}"),
                  VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BTC-USD", "65000.4", "0.5", "65000.5", "1.25", "65000.5");
    TT_ASSERT_INT(fx.ticks[0].event_us, 1704067200000001LL);
    TT_ASSERT_INT(ws(&fx, "{\"type\":\"error\",\"message\":\"Failed to subscribe\",\"reason\":\"FOO is not a valid "
                          "product\"}"),
                  VENUE_MSG_ERROR);
    TT_ASSERT_STR(fx.out.detail, "FOO is not a valid product");
    TT_ASSERT_INT(ws(&fx, "{\"type\":\"status\",\"products\":[]}"), VENUE_MSG_STATUS);
    TT_ASSERT_INT(ws(&fx, "{\"type\":\"l2update\",\"product_id\":\"BTC-USD\"}"), VENUE_MSG_UNKNOWN);
    TT_ASSERT_INT(ws(&fx, "{\"product_id\":\"BTC-USD\"}"), VENUE_MSG_MALFORMED);
    venue_symbols_free(&fx.syms);
}

static void test_kraken_frames(void) {
    struct fixture fx;
    fixture_init(&fx, "kraken", kraken_syms, 12);
    every_line(&fx, "kraken/ws_ticker.jsonl", VENUE_MSG_TICKS);
    every_line(&fx, "kraken/ws_event_heartbeat.jsonl", VENUE_MSG_HEARTBEAT);
    every_line(&fx, "kraken/ws_event_subscriptionStatus.jsonl", VENUE_MSG_SUBSCRIBED);
    every_line(&fx, "kraken/ws_event_systemStatus.jsonl", VENUE_MSG_STATUS);
    TT_ASSERT_INT(ws_line(&fx, "kraken/ws_ticker.jsonl", 1), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "WAVES-EUR", "13.232900", "185.18432037", "13.253900", "35.72892241", "13.253900");
    TT_ASSERT(!fx.ticks[0].has_seq);
    TT_ASSERT_INT(ws_line(&fx, "kraken/ws_ticker.jsonl", 2), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "XMR-USD", "354.32000000", "6.87748868", "355.24000000", "27.19106411", "355.23000000");
    TT_ASSERT_INT(ws_line(&fx, "kraken/ws_ticker.jsonl", 18), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "SC-EUR", "0.043020", "19451.47745395", "0.043080", "42461.83886926", "0.043040");

    /* v1 support article: subscribe (ours, unknown), status, one XBT/USD ticker, heartbeat. */
    TT_ASSERT_INT(ws_line(&fx, "kraken/doc-ws-v1-support-article-stream.jsonl", 2), VENUE_MSG_SUBSCRIBED);
    TT_ASSERT_INT(ws_line(&fx, "kraken/doc-ws-v1-support-article-stream.jsonl", 3), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BTC-USD", "42243.10000", "0.28500000", "42243.20000", "3.04172624", "42243.20000");
    TT_ASSERT_INT(ws_line(&fx, "kraken/doc-ws-v1-support-article-stream.jsonl", 4), VENUE_MSG_HEARTBEAT);

    /* v2 sends numbers: shortest round-trip text. */
    TT_ASSERT_INT(ws_doc(&fx, "kraken/doc-ws-v2-ticker-snapshot.json"), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "ALGO-USD", "0.10025", "740", "0.10036", "1361.44813783", "0.10035");
    TT_ASSERT_INT(fx.ticks[0].event_us, 1695632671742648LL);
    TT_ASSERT(fx.ticks[0].has_seq);
    TT_ASSERT_INT(fx.ticks[0].seq, 1695632671742648LL);
    TT_ASSERT_INT(ws(&fx, "{\"channel\":\"heartbeat\"}"), VENUE_MSG_HEARTBEAT);
    TT_ASSERT_INT(ws(&fx, "{\"channel\":\"status\",\"type\":\"update\",\"data\":[{\"system\":\"online\"}]}"),
                  VENUE_MSG_STATUS);
    TT_ASSERT_INT(ws(&fx, "{\"method\":\"subscribe\",\"result\":{\"channel\":\"ticker\",\"symbol\":\"BTC/USD\"},"
                          "\"success\":true}"),
                  VENUE_MSG_SUBSCRIBED);
    TT_ASSERT_INT(ws(&fx, "{\"method\":\"subscribe\",\"error\":\"Currency pair not supported FOO/BAR\","
                          "\"success\":false}"),
                  VENUE_MSG_ERROR);
    TT_ASSERT_STR(fx.out.detail, "Currency pair not supported FOO/BAR");
    TT_ASSERT_INT(ws(&fx, "{\"method\":\"pong\",\"req_id\":1}"), VENUE_MSG_PONG);
    TT_ASSERT_INT(ws(&fx, "[1,[[\"1.0\",\"2.0\",\"3.0\"]],\"trade\",\"XBT/USD\"]"), VENUE_MSG_UNKNOWN);
    TT_ASSERT_INT(ws(&fx, "{\"channel\":\"ticker\",\"data\":[{\"symbol\":\"BTC/USD\",\"bid\":\"1\",\"bid_qty\":1,"
                          "\"ask\":1,\"ask_qty\":1}]}"),
                  VENUE_MSG_MALFORMED);
    venue_symbols_free(&fx.syms);
}

static void test_okx_frames(void) {
    struct fixture fx;
    fixture_init(&fx, "okx", okx_syms, 3);
    every_line(&fx, "okx/ws_tickers.jsonl", VENUE_MSG_TICKS);
    every_line(&fx, "okx/ws_event_subscribe.jsonl", VENUE_MSG_SUBSCRIBED);
    TT_ASSERT_INT(ws_line(&fx, "okx/ws_tickers.jsonl", 1), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BTC-USD-220527", "30210.4", "4", "30220.1", "3", "30218.8");
    TT_ASSERT_INT(fx.ticks[0].event_us, 1652459223003000LL);
    TT_ASSERT_INT(fx.ticks[0].seq, 1652459223003000LL);
    TT_ASSERT_INT(ws_line(&fx, "okx/ws_tickers.jsonl", 3), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BTC-USDT", "30228.6", "0.23393", "30228.7", "1.55896972", "30236");
    TT_ASSERT_INT(ws_line(&fx, "okx/ws_tickers.jsonl", 28), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BTC-USDT", "30230.2", "0.4112", "30230.3", "1.92174778", "30227.6");
    TT_ASSERT_INT(fx.ticks[0].event_us, 1652459235637000LL);

    TT_ASSERT_INT(ws_doc(&fx, "okx/doc-ws-notice-service-upgrade.json"), VENUE_MSG_PLANNED_CLOSE);
    TT_ASSERT(strstr(fx.out.detail, "service upgrade") != NULL);
    TT_ASSERT_INT(ws(&fx, "pong"), VENUE_MSG_PONG);
    TT_ASSERT_INT(ws(&fx, "{\"event\":\"error\",\"code\":\"60012\",\"msg\":\"Invalid request\"}"), VENUE_MSG_ERROR);
    TT_ASSERT_INT(ws(&fx, "{\"event\":\"channel-conn-count\",\"channel\":\"tickers\",\"connCount\":\"2\"}"),
                  VENUE_MSG_STATUS);
    TT_ASSERT_INT(ws(&fx, "{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":[]}"), VENUE_MSG_UNKNOWN);
    TT_ASSERT_INT(ws(&fx, "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"BTC-USDT\"},\"data\":[{\"instId\":\"BTC-USDT\","
                          "\"last\":\"1\",\"askPx\":\"1\",\"askSz\":\"1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":1}]}"),
                  VENUE_MSG_MALFORMED);
    venue_symbols_free(&fx.syms);
}

/* OKX bbo-tbt: the documentation's push exactly (the instrument from arg, the best level of each side, no last,
 * seqId as the sequence), and the shapes around it. */
static void test_okx_bbo_tbt(void) {
    static const char *syms[] = {"BCH-USDT-SWAP", "BTC-USDT"};
    struct fixture fx;
    fixture_init(&fx, "okx", syms, 2);
    TT_ASSERT_INT(ws_doc(&fx, "okx/doc-ws-bbo-tbt-push.json"), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n, 1);
    TT_TICK(&fx.ticks[0], "BCH-USDT-SWAP", "111.05", "57745", "111.06", "55154", "");
    TT_ASSERT_INT(fx.ticks[0].event_us, 1670324386802000LL);
    TT_ASSERT(fx.ticks[0].has_seq && !fx.ticks[0].bad_time);
    TT_ASSERT_INT(fx.ticks[0].seq, 363996337);
    TT_ASSERT_INT(fx.ticks[0].origin, TICK_ORIGIN_STREAM);
    TT_ASSERT_INT(ws_doc(&fx, "okx/doc-ws-order-book-subscribe-response.json"), VENUE_MSG_SUBSCRIBED);

#define BBO(inst, asks, bids, tail)                                                                        \
    "{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"" inst "\"},\"data\":[{\"asks\":" asks ",\"bids\":" bids \
    ",\"ts\":\"1670324386802\"" tail "}]}"
#define ASK1 "[[\"111.06\",\"55154\",\"0\",\"2\"]]"
#define BID1 "[[\"111.05\",\"57745\",\"0\",\"2\"]]"
    /* No seqId, or one that is not a non-negative integer: ordered by ts, as tickers pushes are. */
    static const char *by_ts[] = {BBO("BTC-USDT", ASK1, BID1, ""), BBO("BTC-USDT", ASK1, BID1, ",\"seqId\":\"7\""),
                                  BBO("BTC-USDT", ASK1, BID1, ",\"seqId\":-7"),
                                  BBO("BTC-USDT", ASK1, BID1, ",\"seqId\":7.5")};
    for (size_t i = 0; i < sizeof by_ts / sizeof by_ts[0]; i++) {
        TT_ASSERT_INT(ws(&fx, by_ts[i]), VENUE_MSG_TICKS);
        TT_TICK(&fx.ticks[0], "BTC-USDT", "111.05", "57745", "111.06", "55154", "");
        TT_ASSERT(fx.ticks[0].has_seq);
        TT_ASSERT_INT(fx.ticks[0].seq, 1670324386802000LL);
    }
    /* A sequence of 19 digits is still one (jansson reads it; the flat reader leaves it to jansson). */
    TT_ASSERT_INT(ws(&fx, BBO("BTC-USDT", ASK1, BID1, ",\"seqId\":1000000000000000000")), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.ticks[0].seq, 1000000000000000000ULL);
    /* A time from the far future is not believed; the sequence still orders. */
    TT_ASSERT_INT(ws(&fx, "{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"BTC-USDT\"},\"data\":[{\"asks\":" ASK1
                          ",\"bids\":" BID1 ",\"ts\":\"253402300799000\",\"seqId\":5}]}"),
                  VENUE_MSG_TICKS);
    TT_ASSERT(fx.ticks[0].bad_time && fx.ticks[0].event_us == 0);
    TT_ASSERT_INT(fx.ticks[0].seq, 5);
    /* An empty side has no price: both its texts empty. */
    TT_ASSERT_INT(ws(&fx, BBO("BTC-USDT", "[]", BID1, ",\"seqId\":8")), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BTC-USDT", "111.05", "57745", "", "", "");
    /* The first level is the best one; more are ignored. */
    TT_ASSERT_INT(ws(&fx, BBO("BTC-USDT", "[[\"2\",\"1\",\"0\",\"1\"],[\"3\",\"1\",\"0\",\"1\"]]", BID1, ",\"seqId\":9")),
                  VENUE_MSG_TICKS);
    TT_ASSERT_STR(fx.ticks[0].ask, "2");
    /* An instrument not in the table is counted, not taken. */
    TT_ASSERT_INT(ws(&fx, BBO("ETH-USDT", ASK1, BID1, ",\"seqId\":9")), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n, 0);
    TT_ASSERT_INT(fx.out.unmapped, 1);
    /* Malformed: a level without its size, a number for a price, no ts, no instId, no bids. */
    static const char *bad[] = {
        BBO("BTC-USDT", "[[\"111.06\"]]", BID1, ""),
        BBO("BTC-USDT", "[[111.06,\"1\",\"0\",\"1\"]]", BID1, ""),
        BBO("BTC-USDT", "[\"111.06\"]", BID1, ""),
        BBO("BTC-USDT", "{}", BID1, ""),
        "{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"BTC-USDT\"},\"data\":[{\"asks\":" ASK1 ",\"bids\":" BID1 "}]}",
        "{\"arg\":{\"channel\":\"bbo-tbt\"},\"data\":[{\"asks\":" ASK1 ",\"bids\":" BID1 ",\"ts\":\"1\"}]}",
        "{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"BTC-USDT\"},\"data\":[{\"asks\":" ASK1 ",\"ts\":\"1\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum venue_msg got = ws(&fx, bad[i]);
        if (got != VENUE_MSG_MALFORMED) TT_FAIL("bbo-tbt frame %zu: %s, expected malformed", i, venue_msg_name(got));
    }
#undef BBO
#undef ASK1
#undef BID1
    venue_symbols_free(&fx.syms);
}

/* ---- hostile input --------------------------------------------------------------------------------- */

static const char *recorded[][2] = {
    {"binance", "binance/ws_bookTicker.jsonl"},
    {"coinbase", "coinbase/ws_ticker.jsonl"},
    {"coinbase", "coinbase/ws_subscriptions.jsonl"},
    {"kraken", "kraken/ws_ticker.jsonl"},
    {"kraken", "kraken/ws_event_subscriptionStatus.jsonl"},
    {"kraken", "kraken/ws_event_systemStatus.jsonl"},
    {"kraken", "kraken/doc-ws-v1-support-article-stream.jsonl"},
    {"okx", "okx/ws_tickers.jsonl"},
    {"okx", "okx/ws_event_subscribe.jsonl"},
    {"okx", "okx/doc-ws-bbo-tbt-push.json"},
};

static const char **syms_of(const char *venue, size_t *n) {
    if (strcmp(venue, "binance") == 0) return *n = 6, binance_syms;
    if (strcmp(venue, "coinbase") == 0) return *n = 11, coinbase_syms;
    if (strcmp(venue, "kraken") == 0) return *n = 12, kraken_syms;
    return *n = 3, okx_syms;
}

/* Every prefix of every recorded frame is malformed; flipped bytes give any kind but never a crash, and any
 * tick that survives still has decimal text only. Frames are copied to exact-size buffers so that ASan sees
 * any read past the end. */
static void test_truncated_and_flipped(void) {
    size_t frames = 0;
    for (size_t r = 0; r < sizeof recorded / sizeof recorded[0]; r++) {
        struct fixture fx;
        size_t n;
        const char **syms = syms_of(recorded[r][0], &n);
        fixture_init(&fx, recorded[r][0], syms, n);
        char *text = shared_file(recorded[r][1], NULL);
        char *lines[256];
        size_t nl = split_lines(text, lines, 256);
        for (size_t i = 0; i < nl; i++, frames++) {
            size_t len = strlen(lines[i]);
            for (size_t cut = 0; cut < len; cut++) {
                char *copy = malloc(cut ? cut : 1);
                memcpy(copy, lines[i], cut);
                enum venue_msg kind = ws_both(&fx, copy, cut, MAX_TICKS);
                free(copy);
                if (kind != VENUE_MSG_MALFORMED) TT_FAIL("%s:%zu cut at %zu: %s", recorded[r][1], i + 1, cut, venue_msg_name(kind));
                TT_ASSERT_INT(fx.out.n, 0);
            }
            static const char flips[] = {'"', '{', '}', '[', ']', ',', ':', '0', 'e', '-', '.', '\\', 0, (char)0xff};
            for (size_t at = 0; at < len; at++) {
                for (size_t f = 0; f < sizeof flips; f++) {
                    char *copy = malloc(len);
                    memcpy(copy, lines[i], len);
                    copy[at] = flips[f];
                    enum venue_msg kind = ws_both(&fx, copy, len, MAX_TICKS);
                    free(copy);
                    TT_ASSERT(kind <= VENUE_MSG_MALFORMED);
                    for (size_t k = 0; k < fx.out.n; k++) TT_ASSERT(strchr(fx.ticks[k].bid, 'e') == NULL);
                }
            }
        }
        free(text);
        venue_symbols_free(&fx.syms);
    }
    TT_ASSERT(frames > 150);
}

static void test_hostile_shapes(void) {
    const char *inputs[] = {
        "", "null", "[]", "{}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "\"x\"", "1e999", "{\"data\":[]}",
        "{\"stream\":1,\"data\":{\"u\":1}}", "{\"u\":1,\"s\":null}", "[1,2,\"ticker\",3]", "[1,2,\"ticker\",\"XBT/USD\"]",
        "[1,{\"a\":1,\"b\":[],\"c\":{}},\"ticker\",\"XBT/CHF\"]", "{\"channel\":\"ticker\",\"data\":{}}",
        "{\"channel\":\"ticker\",\"data\":[1,2]}", "{\"arg\":{\"channel\":\"tickers\"},\"data\":{}}",
        "{\"arg\":{\"channel\":\"tickers\"},\"data\":[{\"instId\":5}]}", "{\"type\":5}", "{\"event\":[]}",
        "{\"type\":\"ticker\",\"product_id\":\"SKL-USD\",\"sequence\":\"1\"}", "\xff\xfe\x00garbage",
    };
    struct fixture fx;
    struct venue_symbols tables[4];
    const char *venues[] = {"binance", "coinbase", "kraken", "okx"};
    for (size_t v = 0; v < 4; v++) {
        size_t n;
        const char **syms = syms_of(venues[v], &n);
        fixture_init(&fx, venues[v], syms, n);
        tables[v] = fx.syms;
        for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
            enum venue_msg kind = ws(&fx, inputs[i]);
            if (kind != VENUE_MSG_MALFORMED && kind != VENUE_MSG_UNKNOWN)
                TT_FAIL("%s: \"%s\" gave %s", venues[v], inputs[i], venue_msg_name(kind));
        }
        /* A huge frame: parsed or refused, never a crash. */
        size_t big = 4 << 20;
        char *huge = malloc(big);
        memset(huge, '[', big);
        TT_ASSERT_INT(fx.v->channels->ws_parse(huge, big, &fx.syms, &fx.out), VENUE_MSG_MALFORMED);
        free(huge);
    }
    for (size_t v = 0; v < 4; v++) venue_symbols_free(&tables[v]);
}

/* ---- messages the tasks send ----------------------------------------------------------------------- */

/* Builds every subscribe message of a range; checks each is JSON within the cap; returns how many. */
static size_t subscribe_all(const struct venue_symbols *s, size_t first, size_t count, json_t **msgs, size_t cap) {
    static char buf[VENUE_MSG_MAX];
    size_t n = 0;
    if (s->venue->channels->ws_path_subscribes && s->venue->channels->ws_path_subscribes(s, first, count)) return 0;
    for (size_t at = first; at < first + count;) {
        size_t next;
        int len = s->venue->channels->ws_subscribe(s, at, first + count - at, (unsigned)n + 1, buf, sizeof buf, &next);
        TT_ASSERT(len > 0);
        TT_ASSERT((size_t)len < s->venue->ws_msg_max);
        if (len <= 0) break;
        TT_ASSERT(next > at && n < cap);
        msgs[n] = json_loadb(buf, (size_t)len, 0, NULL);
        TT_ASSERT(msgs[n] != NULL);
        n++;
        at = next;
    }
    return n;
}

/* Every channel of every venue unsubscribes: the message for two symbols, exactly as each venue documents its
 * unsubscribe (the subscribe's arguments under the other method or type; Kraken's without the subscribe's options,
 * Coinbase's without the heartbeat, which keeps the connection's liveness). */
static void test_unsubscribe_messages(void) {
    static const struct {
        const char *venue, *channel, *want;
    } cases[] = {
        {"binance", "bbo", "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@bookTicker\",\"ethusdt@bookTicker\"],\"id\":5}"},
        {"binance", "trades", "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@trade\",\"ethusdt@trade\"],\"id\":5}"},
        {"binance", "book",
         "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@depth@100ms\",\"ethusdt@depth@100ms\"],\"id\":5}"},
        {"coinbase", "bbo", "{\"type\":\"unsubscribe\",\"product_ids\":[\"BTC-USDT\",\"ETH-USDT\"],\"channels\":[\"ticker\"]}"},
        {"coinbase", "trades",
         "{\"type\":\"unsubscribe\",\"product_ids\":[\"BTC-USDT\",\"ETH-USDT\"],\"channels\":[\"matches\"]}"},
        {"coinbase", "book",
         "{\"type\":\"unsubscribe\",\"product_ids\":[\"BTC-USDT\",\"ETH-USDT\"],\"channels\":[\"level2_batch\"]}"},
        {"kraken", "bbo", "{\"method\":\"unsubscribe\",\"params\":{\"channel\":\"ticker\",\"symbol\":[\"BTC/USDT\",\"ETH/USDT\"]}}"},
        {"kraken", "trades", "{\"method\":\"unsubscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"BTC/USDT\",\"ETH/USDT\"]}}"},
        {"okx", "bbo",
         "{\"op\":\"unsubscribe\",\"args\":[{\"channel\":\"bbo-tbt\",\"instId\":\"BTC-USDT\"},{\"channel\":\"bbo-tbt\","
         "\"instId\":\"ETH-USDT\"}]}"},
        {"okx", "trades",
         "{\"op\":\"unsubscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},{\"channel\":\"trades\","
         "\"instId\":\"ETH-USDT\"}]}"},
        {"okx", "book",
         "{\"op\":\"unsubscribe\",\"args\":[{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},{\"channel\":\"books\","
         "\"instId\":\"ETH-USDT\"}]}"},
    };
    static const char *two[] = {"BTC-USDT", "ETH-USDT"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fixture fx;
        fixture_init(&fx, cases[i].venue, two, 2);
        const struct venue_channel *ch = venue_channel_find(fx.v, cases[i].channel);
        TT_ASSERT(ch && ch->ws_unsubscribe);
        char buf[VENUE_MSG_MAX];
        size_t next = 0;
        int len = ch->ws_unsubscribe(&fx.syms, 0, 2, 5, buf, sizeof buf, &next);
        if (len < 0 || strcmp(buf, cases[i].want) != 0)
            TT_FAIL("%s %s: %s, want %s", cases[i].venue, cases[i].channel, len < 0 ? "(error)" : buf, cases[i].want);
        TT_ASSERT_INT(len, strlen(cases[i].want));
        TT_ASSERT_INT(next, 2);
        /* JSON, and too small a buffer is refused */
        json_t *j = json_loads(buf, 0, NULL);
        TT_ASSERT(j != NULL);
        json_decref(j);
        TT_ASSERT_INT(ch->ws_unsubscribe(&fx.syms, 0, 2, 5, buf, 16, &next), -ENOSPC);
        venue_symbols_free(&fx.syms);
    }
    /* every channel of every venue has one */
    static const char *const venues[] = {"binance", "coinbase", "kraken", "okx"};
    for (size_t i = 0; i < sizeof venues / sizeof venues[0]; i++)
        for (const struct venue_channel *ch = venue_find(venues[i])->channels; ch->name; ch++)
            if (!ch->ws_unsubscribe) TT_FAIL("%s %s has no unsubscribe", venues[i], ch->name);
}

static void test_subscribe_messages(void) {
    struct fixture fx;
    json_t *msgs[16], *want;
    char buf[VENUE_MSG_MAX];
    size_t next;

    /* OKX: byte for byte what cryptofeed sent, on the bbo-tbt channel instead of tickers (throttled to 100 ms). */
    fixture_init(&fx, "okx", okx_syms, 3);
    int len = fx.v->channels->ws_subscribe(&fx.syms, 0, 3, 1, buf, sizeof buf, &next);
    char *rec = shared_file("okx/client_sent_subscribe.jsonl", NULL);
    *strchr(rec, '\n') = 0;
    char want_okx[1024] = "";
    for (char *at = rec, *hit; *at; at = hit + strlen("\"tickers\"")) {
        if (!(hit = strstr(at, "\"tickers\""))) {
            strcat(want_okx, at);
            break;
        }
        strncat(want_okx, at, (size_t)(hit - at));
        strcat(want_okx, "\"bbo-tbt\"");
    }
    TT_ASSERT_STR(buf, want_okx);
    TT_ASSERT_INT(len, strlen(want_okx));
    free(rec);
    /* ... and shaped as the documentation's order book request: op, then args of {channel, instId}. */
    char *okx_doc = shared_file("okx/doc-ws-order-book-subscribe-request.json", NULL);
    want = json_loads(okx_doc, 0, NULL);
    free(okx_doc);
    json_t *got = json_loads(buf, 0, NULL), *arg0 = json_array_get(json_object_get(got, "args"), 0);
    json_object_del(want, "id"); /* optional: tickd matches acks by their arg */
    json_object_set_new(json_array_get(json_object_get(want, "args"), 0), "channel", json_string("bbo-tbt"));
    json_object_set_new(json_array_get(json_object_get(want, "args"), 0), "instId", json_string("BTC-USD-220527"));
    TT_ASSERT_INT(json_array_size(json_object_get(got, "args")), 3);
    TT_ASSERT(json_equal(json_object_get(got, "op"), json_object_get(want, "op")));
    TT_ASSERT(json_equal(arg0, json_array_get(json_object_get(want, "args"), 0)));
    json_decref(got);
    json_decref(want);
    TT_ASSERT(fx.v->channels->ws_path(&fx.syms, 0, 3, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/ws/v5/public");
    venue_symbols_free(&fx.syms);

    /* Kraken v2: the documentation's request, with event_trigger "bbo" (its default, trades, pushes on trades
     * only: kraken/doc-ws-v2-ticker-event_trigger.txt). */
    const char *algo[] = {"ALGO-USD"};
    fixture_init(&fx, "kraken", algo, 1);
    TT_ASSERT_INT(subscribe_all(&fx.syms, 0, 1, msgs, 16), 1);
    char *doc = shared_file("kraken/doc-ws-v2-ticker-subscribe.json", NULL);
    want = json_loads(doc, 0, NULL);
    free(doc);
    doc = shared_file("kraken/doc-ws-v2-ticker-event_trigger.txt", NULL);
    TT_ASSERT(strstr(doc, "event_trigger string") && strstr(doc, "on a change in the best-bid-offer price levels"));
    free(doc);
    json_object_set_new(json_object_get(want, "params"), "event_trigger", json_string("bbo"));
    TT_ASSERT(json_equal(msgs[0], want));
    json_decref(want);
    json_decref(msgs[0]);
    venue_symbols_free(&fx.syms);

    /* Coinbase: the recorded product list, ticker and heartbeat channels. */
    const char *products[] = {"SKL-USD", "SKL-BTC", "BAND-GBP", "NMR-EUR", "BAND-BTC",
                              "YFI-BTC", "DASH-BTC", "NU-GBP", "CRV-EUR", "SKL-GBP"};
    fixture_init(&fx, "coinbase", products, 10);
    TT_ASSERT_INT(subscribe_all(&fx.syms, 0, 10, msgs, 16), 1);
    rec = shared_file("coinbase/client_sent_subscribe.jsonl", NULL);
    want = json_loads(rec, JSON_DISABLE_EOF_CHECK, NULL);
    free(rec);
    TT_ASSERT(json_equal(json_object_get(msgs[0], "product_ids"), json_object_get(want, "product_ids")));
    TT_ASSERT(json_equal(json_object_get(msgs[0], "type"), json_object_get(want, "type")));
    TT_ASSERT_STR(json_string_value(json_array_get(json_object_get(msgs[0], "channels"), 1)), "heartbeat");
    json_decref(want);
    json_decref(msgs[0]);
    venue_symbols_free(&fx.syms);

    /* Binance: a few streams ride in the path; the SUBSCRIBE shape is the documentation's. */
    fixture_init(&fx, "binance", binance_syms, 2);
    TT_ASSERT(fx.v->channels->ws_path(&fx.syms, 0, 2, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/stream?streams=nknusdt@bookTicker/lrcbtc@bookTicker");
    TT_ASSERT(fx.v->channels->ws_path_subscribes(&fx.syms, 0, 2));
    venue_symbols_free(&fx.syms);
}

/* 400 Binance streams do not fit a path: SUBSCRIBE messages must cover every one, the short tail included
 * (it fits a path on its own, and was once taken as "in the path" and never subscribed). */
static void test_binance_long_range_all_subscribed(void) {
    static char names[400][24];
    const char *norm[400];
    for (int i = 0; i < 400; i++) {
        snprintf(names[i], sizeof names[i], "S%05d-USDT", i);
        norm[i] = names[i];
    }
    struct fixture fx;
    fixture_init(&fx, "binance", norm, 400);
    TT_ASSERT(!fx.v->channels->ws_path_subscribes(&fx.syms, 0, 400));
    char path[VENUE_PATH_MAX];
    TT_ASSERT(fx.v->channels->ws_path(&fx.syms, 0, 400, path, sizeof path) > 0);
    TT_ASSERT_STR(path, "/stream");
    json_t *msgs[16];
    size_t n = subscribe_all(&fx.syms, 0, 400, msgs, 16), streams = 0;
    TT_ASSERT(n >= 3);
    for (size_t i = 0; i < n; i++) {
        streams += json_array_size(json_object_get(msgs[i], "params"));
        json_decref(msgs[i]);
    }
    TT_ASSERT_INT(streams, 400);
    /* Streams are named in the path only while it fits what a websocket connection carries (VENUE_WS_PATH_MAX):
     * 60 of these names take about 1.3 KB, which no connect would deliver, so they are subscribed by message;
     * 40 (880 bytes) fit. */
    for (size_t count = 40; count <= 60; count += 20) {
        char p[VENUE_PATH_MAX];
        int len = fx.v->channels->ws_path(&fx.syms, 0, count, p, sizeof p);
        TT_ASSERT(len > 0 && len < VENUE_WS_PATH_MAX);
        TT_ASSERT(fx.v->channels->ws_path_subscribes(&fx.syms, 0, count) == (count == 40));
        TT_ASSERT(count == 40 ? strncmp(p, "/stream?streams=", 16) == 0 : strcmp(p, "/stream") == 0);
    }
    venue_symbols_free(&fx.syms);
}

/* n distinct normalized symbols "S<i>-USDT", pointers into one block. */
static const char **many_symbols(size_t n, char **block) {
    *block = malloc(n * 16);
    const char **list = malloc(n * sizeof *list);
    for (size_t i = 0; i < n; i++) {
        snprintf(*block + i * 16, 16, "S%u-USDT", (unsigned)(i % 100000));
        list[i] = *block + i * 16;
    }
    return list;
}

static void test_binance_planner(void) {
    char *block;
    const char **list = many_symbols(3000, &block);
    struct venue_symbols s;
    const struct venue_ops *b = venue_find("binance");
    TT_ASSERT_INT(venue_symbols_init(&s, b, list, 3000), 0);
    struct venue_range ranges[8];
    int conns = venue_ws_plan(b, 3000, ranges, 8);
    TT_ASSERT_INT(conns, 3);
    size_t covered = 0;
    for (int c = 0; c < conns; c++) {
        TT_ASSERT(ranges[c].count <= 1024);
        TT_ASSERT_INT(ranges[c].first, covered);
        covered += ranges[c].count;
    }
    TT_ASSERT_INT(covered, 3000);
    TT_ASSERT_INT(venue_ws_plan(b, 3000, ranges, 2), -ENOSPC);
    TT_ASSERT_INT(venue_ws_plan(b, 1024, ranges, 8), 1);

    /* 1000 streams do not fit a URL: /stream, then SUBSCRIBE messages under the cap covering each once. */
    char path[VENUE_PATH_MAX];
    TT_ASSERT(b->channels->ws_path(&s, ranges[1].first, ranges[1].count, path, sizeof path) > 0);
    TT_ASSERT_STR(path, "/stream");
    json_t *msgs[16];
    size_t n = subscribe_all(&s, ranges[1].first, ranges[1].count, msgs, 16);
    TT_ASSERT(n >= 2 && n <= 10);
    size_t params = 0;
    for (size_t i = 0; i < n; i++) {
        TT_ASSERT_STR(json_string_value(json_object_get(msgs[i], "method")), "SUBSCRIBE");
        TT_ASSERT_INT(json_integer_value(json_object_get(msgs[i], "id")), i + 1);
        json_t *p = json_object_get(msgs[i], "params");
        if (params == 0) TT_ASSERT_STR(json_string_value(json_array_get(p, 0)), "s1000usdt@bookTicker");
        params += json_array_size(p);
        json_decref(msgs[i]);
    }
    TT_ASSERT_INT(params, ranges[1].count);

    /* OKX splits a long list by its 64 KB cap. */
    struct venue_symbols o;
    TT_ASSERT_INT(venue_symbols_init(&o, venue_find("okx"), list, 3000), 0);
    n = subscribe_all(&o, 0, 3000, msgs, 16);
    TT_ASSERT(n >= 2);
    params = 0;
    for (size_t i = 0; i < n; i++) {
        params += json_array_size(json_object_get(msgs[i], "args"));
        json_decref(msgs[i]);
    }
    TT_ASSERT_INT(params, 3000);
    venue_symbols_free(&o);
    venue_symbols_free(&s);
    free(list);
    free(block);
}

/* ---- REST ------------------------------------------------------------------------------------------ */

static void test_binance_rest(void) {
    struct fixture fx;
    struct venue_request reqs[4];
    fixture_init(&fx, "binance", binance_syms + 3, 1); /* LTC-BTC */
    TT_ASSERT_INT(fx.v->channels->rest_plan(&fx.syms, reqs, 4), 1);
    TT_ASSERT_STR(reqs[0].path, "/api/v3/ticker/bookTicker?symbol=LTCBTC");
    TT_ASSERT_INT(reqs[0].weight, 2);
    char *body = shared_file("binance/doc-rest-ticker-bookTicker-single.json", NULL);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, body), VENUE_MSG_TICKS);
    free(body);
    TT_ASSERT_INT(fx.out.n, 1);
    TT_TICK(&fx.ticks[0], "LTC-BTC", "4.00000000", "431.00000000", "4.00000200", "9.00000000", "");
    TT_ASSERT_INT(fx.ticks[0].origin, TICK_ORIGIN_REST);
    TT_ASSERT_INT(fx.ticks[0].sent_us, 1500);
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "binance", binance_syms + 3, 3); /* LTC-BTC ETH-BTC BNB-BTC */
    TT_ASSERT_INT(fx.v->channels->rest_plan(&fx.syms, reqs, 4), 1);
    TT_ASSERT_STR(reqs[0].path, "/api/v3/ticker/bookTicker?symbols=%5B%22LTCBTC%22,%22ETHBTC%22,%22BNBBTC%22%5D");
    TT_ASSERT_INT(reqs[0].weight, 4);
    body = shared_file("binance/doc-rest-ticker-bookTicker-multi.json", NULL);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, body), VENUE_MSG_TICKS);
    free(body);
    TT_ASSERT_INT(fx.out.n, 2);
    TT_TICK(&fx.ticks[1], "ETH-BTC", "0.07946700", "9.00000000", "100000.00000000", "1000.00000000", "");
    body = shared_file("binance/doc-rest-error-payload.json", NULL);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 400, body), VENUE_MSG_ERROR);
    TT_ASSERT_STR(fx.out.detail, "Invalid symbol.");
    TT_ASSERT_INT(rest(&fx, &reqs[0], 429, body), VENUE_MSG_RATE_LIMITED);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 418, body), VENUE_MSG_RATE_LIMITED);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 503, "<html>"), VENUE_MSG_UNAVAILABLE);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, "[{\"symbol\":\"LTCBTC\"}]"), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n, 0);
    free(body);
    venue_symbols_free(&fx.syms);

    /* Too many for a URL: all symbols, same weight 4. */
    char *block;
    const char **list = many_symbols(3000, &block);
    struct venue_symbols s;
    TT_ASSERT_INT(venue_symbols_init(&s, fx.v, list, 3000), 0);
    TT_ASSERT_INT(fx.v->channels->rest_plan(&s, reqs, 4), 1);
    TT_ASSERT_STR(reqs[0].path, "/api/v3/ticker/bookTicker");
    TT_ASSERT_INT(reqs[0].weight, 4);
    venue_symbols_free(&s);
    free(list);
    free(block);
}

static void test_kraken_rest(void) {
    struct fixture fx;
    struct venue_request reqs[4];
    const char *pairs[] = {"BTC-USD", "ADA-BTC"};
    fixture_init(&fx, "kraken", pairs, 2);
    TT_ASSERT_INT(fx.v->channels->rest_plan(&fx.syms, reqs, 4), 1);
    TT_ASSERT_STR(reqs[0].path, "/0/public/Ticker?pair=XBTUSD,ADAXBT");
    char *body = shared_file("kraken/doc-rest-Ticker-response.json", NULL);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, body), VENUE_MSG_TICKS);
    free(body);
    TT_ASSERT_INT(fx.out.n, 1);
    TT_TICK(&fx.ticks[0], "BTC-USD", "3537.40000", "16.000", "3537.50000", "1.000", "3537.50000");
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, "{\"error\":[\"EGeneral:Too many requests\"]}"), VENUE_MSG_RATE_LIMITED);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, "{\"error\":[\"EService:Unavailable\"]}"), VENUE_MSG_UNAVAILABLE);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, "{\"error\":[\"EQuery:Unknown asset pair\"]}"), VENUE_MSG_ERROR);
    TT_ASSERT_STR(fx.out.detail, "EQuery:Unknown asset pair");
    venue_symbols_free(&fx.syms);
}

static void test_okx_rest(void) {
    struct fixture fx;
    struct venue_request reqs[4];
    fixture_init(&fx, "okx", okx_syms + 2, 1);
    TT_ASSERT_INT(fx.v->channels->rest_plan(&fx.syms, reqs, 4), 1);
    TT_ASSERT_STR(reqs[0].path, "/api/v5/market/ticker?instId=BTC-USDT");
    char *body = shared_file("okx/doc-rest-market-ticker-response.json", NULL);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, body), VENUE_MSG_TICKS);
    free(body);
    TT_TICK(&fx.ticks[0], "BTC-USDT", "51239.9", "1.68139044", "51240", "0.64278176", "51240");
    TT_ASSERT_INT(fx.ticks[0].event_us, 1708669925904000LL);
    TT_ASSERT_INT(rest(&fx, &reqs[0], 200, "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}"),
                  VENUE_MSG_RATE_LIMITED);
    venue_symbols_free(&fx.syms);

    const char *mixed[] = {"BTC-USDT", "BTC-USD-SWAP", "ETH-USDT"};
    fixture_init(&fx, "okx", mixed, 3);
    TT_ASSERT_INT(fx.v->channels->rest_plan(&fx.syms, reqs, 4), 2);
    TT_ASSERT_STR(reqs[0].path, "/api/v5/market/ticker?instId=BTC-USD-SWAP");
    TT_ASSERT_STR(reqs[1].path, "/api/v5/market/tickers?instType=SPOT");
    venue_symbols_free(&fx.syms);
}

static void test_coinbase_rest(void) {
    struct fixture fx;
    struct venue_request reqs[4];
    const char *products[] = {"BTC-USD", "ETH-EUR"};
    fixture_init(&fx, "coinbase", products, 2);
    TT_ASSERT_INT(fx.v->channels->rest_plan(&fx.syms, reqs, 4), 2);
    TT_ASSERT_STR(reqs[1].path, "/products/ETH-EUR/ticker");
    TT_ASSERT_INT(reqs[1].symbol, 1);
    TT_ASSERT_INT(rest(&fx, &reqs[1], 200,
                       "{\"ask\":\"6267.71\",\"bid\":\"6265.15\",\"volume\":\"53602.03940154\",\"trade_id\":86326522,"
                       "\"price\":\"6268.48\",\"size\":\"0.00698254\",\"time\":\"2020-03-20T00:22:57.833Z\"}"),
                  VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "ETH-EUR", "6265.15", "", "6267.71", "", "6268.48");
    TT_ASSERT_INT(fx.ticks[0].event_us, 1584663777833000LL);
    TT_ASSERT_INT(rest(&fx, &reqs[1], 404, "{\"message\":\"NotFound\"}"), VENUE_MSG_ERROR);
    TT_ASSERT_STR(fx.out.detail, "NotFound");
    venue_symbols_free(&fx.syms);
}

/* A price at or below zero, or a size below zero, is no market: the message is malformed (both readers agree),
 * streams and REST alike. A zero size is kept. */
static void test_values_out_of_range(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 6);
    TT_ASSERT_INT(ws(&fx, "{\"u\":1,\"s\":\"BNBUSDT\",\"b\":\"-5\",\"B\":\"1\",\"a\":\"2\",\"A\":\"1\"}"), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n, 0);
    TT_ASSERT_INT(ws(&fx, "{\"u\":1,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"-1\",\"a\":\"2\",\"A\":\"1\"}"), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(ws(&fx, "{\"stream\":\"bnbusdt@bookTicker\",\"data\":{\"u\":1,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"1\","
                          "\"a\":\"0.00000000\",\"A\":\"1\"}}"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(ws(&fx, "{\"u\":1,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"0.00000000\",\"a\":\"2\",\"A\":\"0\"}"), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n, 1);
    struct venue_request req = {.symbol = -1};
    TT_ASSERT_INT(rest(&fx, &req, 200, "[{\"symbol\":\"BNBUSDT\",\"bidPrice\":\"0\",\"bidQty\":\"1\",\"askPrice\":\"2\","
                                       "\"askQty\":\"1\"}]"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n, 0);
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "kraken", kraken_syms, 12);
    TT_ASSERT_INT(ws(&fx, "{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/USD\",\"bid\":740.0,"
                          "\"bid_qty\":1,\"ask\":0,\"ask_qty\":1}]}"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(ws(&fx, "{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/USD\",\"bid\":740.0,"
                          "\"bid_qty\":1,\"ask\":741,\"ask_qty\":1,\"last\":-1.5}]}"),
                  VENUE_MSG_MALFORMED);
    /* One bad ticker spoils its whole message: a message is taken whole or not at all. */
    TT_ASSERT_INT(ws(&fx, "{\"channel\":\"ticker\",\"data\":[{\"symbol\":\"XBT/USD\",\"bid\":1,\"bid_qty\":2,\"ask\":3,"
                          "\"ask_qty\":4},{\"symbol\":\"XMR/USD\",\"bid\":-1,\"bid_qty\":2,\"ask\":3,\"ask_qty\":4}]}"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n, 0);
    TT_ASSERT_INT(ws(&fx, "[340,{\"a\":[\"0.00000\",0,\"1.0\"],\"b\":[\"1.0\",0,\"1.0\"],\"c\":[\"1.0\",\"1.0\"]},"
                          "\"ticker\",\"XBT/USD\"]"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(rest(&fx, &req, 200, "{\"error\":[],\"result\":{\"XXBTZUSD\":{\"a\":[\"0\",\"1\",\"1.0\"],"
                                       "\"b\":[\"1.0\",\"1\",\"1.0\"],\"c\":[\"1.0\",\"1.0\"]}}}"),
                  VENUE_MSG_MALFORMED);
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "okx", okx_syms, 3);
    TT_ASSERT_INT(ws(&fx, "{\"arg\":{\"channel\":\"tickers\"},\"data\":[{\"instId\":\"BTC-USDT\",\"last\":\"1\","
                          "\"askPx\":\"2\",\"askSz\":\"1\",\"bidPx\":\"-5\",\"bidSz\":\"1\",\"ts\":\"1652459223003\"}]}"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(rest(&fx, &req, 200, "{\"code\":\"0\",\"data\":[{\"instId\":\"BTC-USDT\",\"last\":\"1\",\"askPx\":\"2\","
                                       "\"askSz\":\"-1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":\"1652459223003\"}]}"),
                  VENUE_MSG_MALFORMED);
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "coinbase", coinbase_syms, 11);
    TT_ASSERT_INT(ws(&fx, "{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"BTC-USD\",\"best_bid\":\"0\","
                          "\"best_ask\":\"2\"}"),
                  VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(ws(&fx, "{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"BTC-USD\",\"best_bid\":\"1\","
                          "\"best_ask\":\"2\",\"best_ask_size\":\"-3\"}"),
                  VENUE_MSG_MALFORMED);
    req.symbol = 10;
    TT_ASSERT_INT(rest(&fx, &req, 200, "{\"ask\":\"-6267.71\",\"bid\":\"6265.15\",\"price\":\"6268.48\"}"),
                  VENUE_MSG_MALFORMED);
    venue_symbols_free(&fx.syms);
}

/* A venue's event time is bounded against the receive time: before 2010, or more than 10 s ahead, it is no
 * event time (event_us 0, bad_time), and where it orders the stream, seq is the receive time instead of a
 * value that would outrank every real update (OKX ts 999999999999999, Kraken years 0000 and 9999 -- which
 * wrapped to 1.8e19 -- or a Binance E whose microseconds overflow int64). */
static void test_event_times_bounded(void) {
    struct fixture fx;
    char frame[512];
    fixture_init(&fx, "okx", okx_syms, 3);
    static const struct {
        const char *ts;
        int64_t event_us;
    } okx[] = {{"999999999999999", 0}, {"0", 0}, {"1262303999999", 0}, {"1900000009000", 1900000009000000LL},
               {"1900000011000", 0}, {"1899999000000", 1899999000000000LL}};
    for (size_t i = 0; i < sizeof okx / sizeof okx[0]; i++) {
        snprintf(frame, sizeof frame,
                 "{\"arg\":{\"channel\":\"tickers\"},\"data\":[{\"instId\":\"BTC-USDT\",\"last\":\"1\",\"askPx\":\"2\","
                 "\"askSz\":\"1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":\"%s\"}]}",
                 okx[i].ts);
        TT_ASSERT_INT(ws(&fx, frame), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.ticks[0].event_us, okx[i].event_us);
        TT_ASSERT_INT(fx.ticks[0].bad_time, okx[i].event_us == 0);
        TT_ASSERT(fx.ticks[0].has_seq);
        TT_ASSERT_INT(fx.ticks[0].seq, okx[i].event_us ? okx[i].event_us : RECV_US);
    }
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "kraken", kraken_syms, 12);
    static const char *const bad_years[] = {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
                                            "2009-12-31T23:59:59Z", "0001-03-01T00:00:00+23:59"};
    for (size_t i = 0; i < sizeof bad_years / sizeof bad_years[0]; i++) {
        snprintf(frame, sizeof frame,
                 "{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/USD\",\"bid\":740.0,"
                 "\"bid_qty\":1,\"ask\":741,\"ask_qty\":1,\"timestamp\":\"%s\"}]}",
                 bad_years[i]);
        TT_ASSERT_INT(ws(&fx, frame), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.ticks[0].event_us, 0);
        TT_ASSERT(fx.ticks[0].bad_time);
        TT_ASSERT_INT(fx.ticks[0].seq, RECV_US);
    }
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "binance", binance_syms, 6);
    /* 18 digits go through the flat reader, 19 through jansson: E * 1000 overflows int64 in both (UBSan). */
    static const char *const bad_e[] = {"999999999999999999", "9223372036854775807", "1000000000000000000",
                                        "9223372036854776"};
    for (size_t i = 0; i < sizeof bad_e / sizeof bad_e[0]; i++) {
        snprintf(frame, sizeof frame,
                 "{\"u\":400900217,\"s\":\"BNBUSDT\",\"b\":\"1\",\"B\":\"1\",\"a\":\"2\",\"A\":\"1\",\"E\":%s}", bad_e[i]);
        TT_ASSERT_INT(ws(&fx, frame), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.ticks[0].event_us, 0);
        TT_ASSERT(fx.ticks[0].bad_time);
        TT_ASSERT_INT(fx.ticks[0].seq, 400900217); /* Binance's own sequence is kept */
        snprintf(frame, sizeof frame,
                 "{\"e\":\"24hrTicker\",\"E\":%s,\"s\":\"BNBUSDT\",\"c\":\"1\",\"b\":\"1\",\"B\":\"1\",\"a\":\"2\","
                 "\"A\":\"1\"}", bad_e[i]);
        TT_ASSERT_INT(ws(&fx, frame), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.ticks[0].event_us, 0);
    }
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "coinbase", coinbase_syms, 11);
    TT_ASSERT_INT(ws(&fx, "{\"type\":\"ticker\",\"sequence\":7,\"product_id\":\"BTC-USD\",\"best_bid\":\"1\","
                          "\"best_ask\":\"2\",\"time\":\"9999-01-01T00:00:00Z\"}"),
                  VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.ticks[0].event_us, 0);
    TT_ASSERT(fx.ticks[0].bad_time);
    TT_ASSERT_INT(fx.ticks[0].seq, 7);
    venue_symbols_free(&fx.syms);
}

/* A full output array drops further ticks and counts them. */
static void test_out_overflow(void) {
    struct fixture fx;
    fixture_init(&fx, "okx", okx_syms, 3);
    struct tick one[1];
    venue_out_init(&fx.out, one, 1, 0, 0);
    const char *two = "{\"arg\":{\"channel\":\"tickers\"},\"data\":["
                      "{\"instId\":\"BTC-USDT\",\"last\":\"1\",\"askPx\":\"2\",\"askSz\":\"1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":\"5\"},"
                      "{\"instId\":\"UNI-USD-SWAP\",\"last\":\"1\",\"askPx\":\"2\",\"askSz\":\"1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":\"6\"}]}";
    TT_ASSERT_INT(fx.v->channels->ws_parse(two, strlen(two), &fx.syms, &fx.out), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n, 1);
    TT_ASSERT_INT(fx.out.overflow, 1);
    TT_ASSERT_STR(one[0].symbol, "BTC-USDT");
    venue_symbols_free(&fx.syms);
}

/* ---- fast paths: the same answers as jansson -------------------------------------------------------- */

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Every websocket frame of ../shared/venues (ws_*.jsonl lines, doc-ws-*.json whole files), with room for all
 * ticks, for one and for none: fast path and jansson agree, and the fast path takes every ticker frame of
 * the venues it serves. */
static void test_fast_path_recorded(void) {
    static const char *venues[] = {"binance", "coinbase", "kraken", "okx"};
    const char *dir = tt_shared_dir();
    if (!dir) TT_SKIP("../shared/venues not found (set TICKD_SHARED)");
    size_t frames = 0;
    frames_taken_fast = 0;
    for (size_t v = 0; v < 4; v++) {
        struct fixture fx;
        size_t nsyms;
        const char **syms = syms_of(venues[v], &nsyms);
        fixture_init(&fx, venues[v], syms, nsyms);
        /* the shared folder, then the project's own examples (a name in both is read once, from the project) */
        const char *root = getenv("TICKD_ROOT");
        for (int in_project = 0; in_project < 2; in_project++) {
            char path[8192];
            if (in_project)
                snprintf(path, sizeof path, "%s/tests/venues/%s", root ? root : ".", venues[v]);
            else
                snprintf(path, sizeof path, "%s/venues/%s", dir, venues[v]);
            DIR *d = opendir(path);
            if (!d && in_project) continue;
            TT_ASSERT(d != NULL);
            struct dirent *e;
            while ((e = readdir(d))) {
                bool jsonl = strncmp(e->d_name, "ws_", 3) == 0 && ends_with(e->d_name, ".jsonl");
                bool doc = strncmp(e->d_name, "doc-ws-", 7) == 0 && ends_with(e->d_name, ".json");
                if (!jsonl && !doc) continue;
                char rel[512], where[8192];
                snprintf(rel, sizeof rel, "%s/%s", venues[v], e->d_name);
                tt_venue_path(rel, where, sizeof where);
                bool from_project = strstr(where, "/tests/venues/") != NULL;
                if (from_project != (bool)in_project) continue;
                char *text = shared_file(rel, NULL);
                char *lines[256] = {text};
                size_t n = jsonl ? split_lines(text, lines, 256) : 1;
                for (size_t i = 0; i < n; i++, frames++)
                    for (size_t cap = 0; cap <= MAX_TICKS; cap = cap ? cap * MAX_TICKS : 1)
                        ws_both(&fx, lines[i], strlen(lines[i]), cap);
                free(text);
            }
            closedir(d);
        }
        venue_symbols_free(&fx.syms);
    }
    TT_ASSERT(frames > 200);
    /* 36 Binance, 36 Coinbase, 28 OKX ticker lines, the Kraken v2 snapshot; three caps each */
    TT_ASSERT(frames_taken_fast >= 3 * (36 + 36 + 28 + 1));
}

/* Frames whose parts differ: several tickers in one message, unmapped ones, a full output. */
static void test_fast_path_shapes(void) {
    struct fixture fx;
    fixture_init(&fx, "okx", okx_syms, 3);
    const char *three = "{\"arg\":{\"channel\":\"tickers\"},\"data\":["
                        "{\"instId\":\"BTC-USDT\",\"last\":\"1\",\"askPx\":\"2\",\"askSz\":\"1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":\"5\"},"
                        "{\"instId\":\"ETH-USDT\",\"last\":\"1\",\"askPx\":\"2\",\"askSz\":\"1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":\"5\"},"
                        "{\"instId\":\"UNI-USD-SWAP\",\"last\":\"1\",\"askPx\":\"2\",\"askSz\":\"1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":\"6\"}]}";
    const char *bad_third = "{\"arg\":{\"channel\":\"tickers\"},\"data\":["
                            "{\"instId\":\"BTC-USDT\",\"last\":\"1\",\"askPx\":\"2\",\"askSz\":\"1\",\"bidPx\":\"1\",\"bidSz\":\"1\",\"ts\":\"5\"},"
                            "{\"instId\":\"ETH-USDT\"},{\"instId\":\"UNI-USD-SWAP\",\"ts\":\"6\"}]}";
    for (size_t cap = 0; cap <= 3; cap++) {
        TT_ASSERT_INT(ws_both(&fx, three, strlen(three), cap), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.out.n, cap < 2 ? cap : 2);
        TT_ASSERT_INT(fx.out.unmapped, 1);
        TT_ASSERT_INT(ws_both(&fx, bad_third, strlen(bad_third), cap), cap < 2 ? VENUE_MSG_TICKS : VENUE_MSG_MALFORMED);
    }
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "kraken", kraken_syms, 12);
    static const char *kraken[] = {
        "{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/USD\",\"bid\":740.0,\"bid_qty\":-0,"
        "\"ask\":0.30000000000000004,\"ask_qty\":1e2,\"last\":12345678901234567}]}",
        "{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/USD\",\"bid\":740.0,\"bid_qty\":-0,"
        "\"ask\":0.30000000000000004,\"ask_qty\":100,\"last\":12345678901234567,\"timestamp\":\"2024-01-01T00:00:00Z\"}]}",
        "{\"channel\":\"ticker\",\"data\":[{\"symbol\":\"XBT/USD\",\"bid\":1,\"bid_qty\":2,\"ask\":3,\"ask_qty\":4},"
        "{\"symbol\":\"DOGE/USD\",\"bid\":1,\"bid_qty\":2,\"ask\":3,\"ask_qty\":4}]}",
        "{\"channel\":\"ticker\",\"data\":[{\"symbol\":\"BTC/USD\",\"bid\":1,\"bid_qty\":2,\"ask\":3}]}",
        "{\"channel\":\"ticker\",\"data\":[{\"symbol\":\"BTC/USD\",\"bid\":1,\"bid_qty\":2,\"ask\":3,\"ask_qty\":4,\"last\":null}]}",
        "{\"channel\":\"heartbeat\"}",
        "{\"channel\":\"status\",\"data\":[{\"connection_id\":12393906104898154338}]}",
    };
    for (size_t i = 0; i < sizeof kraken / sizeof kraken[0]; i++) ws(&fx, kraken[i]);
    TT_ASSERT_INT(ws(&fx, kraken[1]), VENUE_MSG_TICKS);
    TT_TICK(&fx.ticks[0], "BTC-USD", "740", "0", "0.30000000000000004", "100", "12345678901234568");
    venue_symbols_free(&fx.syms);

    fixture_init(&fx, "coinbase", coinbase_syms, 11);
    static const char *coinbase[] = {
        "{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"BTC-USD\",\"best_bid\":\"1\",\"best_ask\":\"2\"}",
        "{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"BTC-USD\",\"best_bid\":\"1\",\"best_ask\":\"2\",\"price\":null}",
        "{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"BTC-USD\",\"best_bid\":\"1\",\"best_ask\":\"2\",\"time\":\"x\"}",
        "{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"ETH-USD\",\"best_bid\":\"1\"}",
        "{\"type\":\"heartbeat\",\"sequence\":1,\"product_id\":\"BTC-USD\",\"time\":\"2024-01-01T00:00:00Z\"}",
    };
    for (size_t i = 0; i < sizeof coinbase / sizeof coinbase[0]; i++) ws(&fx, coinbase[i]);
    venue_symbols_free(&fx.syms);
}

/* Live frames from fakex, subscribed as the stream task would (the adapter's own path and subscribe messages):
 * fast path and jansson agree on every one, and the fast path takes nearly all of them. */
static void test_fast_path_fakex(void) {
    static const char *venues[] = {"binance", "coinbase", "kraken", "okx"};
    static const char *syms[] = {"BTC-USDT", "ETH-USDT", "BTC-USD", "SOL-USDT"};
    const char *args[] = {"--venue", "all", "--symbols", "BTC-USDT,ETH-USDT,BTC-USD,SOL-USDT", "--rate", "1000",
                          "--log-level", "warn", NULL};
    struct fxc_proc fakex;
    if (fxc_spawn(&fakex, args) < 0) TT_SKIP("fakex did not start (set TICKD_ROOT and BUILD)");
    for (size_t v = 0; v < 4; v++) {
        struct fixture fx;
        fixture_init(&fx, venues[v], syms, 4);
        char path[VENUE_PATH_MAX];
        TT_ASSERT(fx.v->channels->ws_path(&fx.syms, 0, 4, path, sizeof path) > 0);
        struct fxc_conn c;
        TT_ASSERT_INT(fxc_ws_open(&c, fxc_port(&fakex, venues[v]), path), 0);
        static char sub[VENUE_MSG_MAX];
        bool in_path = fx.v->channels->ws_path_subscribes && fx.v->channels->ws_path_subscribes(&fx.syms, 0, 4);
        for (size_t at = 0, next; at < 4 && !in_path; at = next) {
            int n = fx.v->channels->ws_subscribe(&fx.syms, at, 4 - at, 1, sub, sizeof sub, &next);
            TT_ASSERT(n >= 0);
            if (n > 0) TT_ASSERT_INT(fxc_ws_send(&c, 1, sub, (size_t)n), 0);
        }
        size_t frames = 0, ticks = 0;
        frames_taken_fast = 0;
        int64_t deadline = fxc_now_ms() + 20000;
        while (frames < 300 && fxc_now_ms() < deadline) {
            int op;
            char *payload;
            size_t len;
            int got = fxc_ws_recv(&c, &op, &payload, &len, 1000);
            if (got < 0) break;
            if (got == 0) continue;
            if (op == 1) {
                frames++;
                ticks += ws_both(&fx, payload, len, MAX_TICKS) == VENUE_MSG_TICKS;
            }
            free(payload);
        }
        fxc_close(&c);
        if (frames < 300) TT_FAIL("%s: only %zu frames from fakex", venues[v], frames);
        TT_ASSERT(ticks > 250);
        if (frames_taken_fast + 5 < frames) TT_FAIL("%s: fast path took %zu of %zu", venues[v], frames_taken_fast, frames);
        venue_symbols_free(&fx.syms);
    }
    TT_ASSERT_INT(fxc_stop(&fakex), 0);
}

/* venue_copy_decimal_real against venue_decimal_shortest(strtod(text)), on one number text. */
static void assert_real_text(const char *text, size_t *kept) {
    char want[64], got[TICK_DECIMAL_MAX];
    int n = venue_decimal_shortest(strtod(text, NULL), want, TICK_DECIMAL_MAX);
    int rc = venue_copy_decimal_real(got, text, strlen(text));
    if (rc != (n < 0 ? -1 : 0) || (rc == 0 && strcmp(got, want) != 0))
        TT_FAIL("\"%s\": copied \"%s\" (%d), shortest \"%s\"", text, rc == 0 ? got : "", rc, n < 0 ? "" : want);
    if (venue_number_is_shortest(text, strlen(text))) {
        if (strcmp(text, want) != 0) TT_FAIL("\"%s\" kept as is, but its shortest text is \"%s\"", text, want);
        ++*kept;
    }
}

static void test_number_text_shortest(void) {
    static const char *cases[][2] = {
        {"740.0", "740"}, {"740", "740"}, {"0", "0"}, {"-0", "0"}, {"0.0", "0"}, {"-0.5", "-0.5"},
        {"0.10025", "0.10025"}, {"1.10", "1.1"}, {"100.5", "100.5"}, {"123456789012345", "123456789012345"},
        {"1234567890123456", "1234567890123456"}, {"12345678901234567", "12345678901234568"},
        {"0.30000000000000004", "0.30000000000000004"}, {"0.1000000000000000055511", "0.1"},
        {"9007199254740993", "9007199254740992"}, {"1361.44813783", "1361.44813783"},
    };
    size_t kept = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[TICK_DECIMAL_MAX];
        TT_ASSERT_INT(venue_copy_decimal_real(got, cases[i][0], strlen(cases[i][0])), 0);
        TT_ASSERT_STR(got, cases[i][1]);
        assert_real_text(cases[i][0], &kept);
    }
    TT_ASSERT(!venue_number_is_shortest("007", 3) && !venue_number_is_shortest("1.", 2) &&
              !venue_number_is_shortest(".5", 2) && !venue_number_is_shortest("1e5", 3) &&
              !venue_number_is_shortest("-", 1) && !venue_number_is_shortest("", 0));

    /* Random decimal texts: 1 to 20 integer and fraction digits, zeros frequent at both ends. */
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    size_t total = 200000;
    kept = 0;
    for (size_t k = 0; k < total; k++) {
        char text[48];
        size_t n = 0;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = seed >> 11;
        if (r & 1) text[n++] = '-';
        size_t int_digits = 1 + (r >> 1) % 16, frac_digits = (r >> 5) % 20;
        if ((r >> 10) % 3 == 0) int_digits = 1; /* 0.xxx often */
        for (size_t i = 0; i < int_digits + frac_digits; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            int digit = (int)((seed >> 33) % 10);
            if ((seed >> 40) % 4 == 0) digit = 0;
            if (i == 0 && int_digits > 1 && digit == 0) digit = 1 + (int)((seed >> 45) % 9);
            if (i == 0 && int_digits == 1 && (seed >> 50) % 2) digit = 0;
            if (i == int_digits) text[n++] = '.';
            text[n++] = (char)('0' + digit);
        }
        text[n] = 0;
        assert_real_text(text, &kept);
    }
    TT_ASSERT(kept > total / 10); /* the kept-as-is branch is well exercised */

    /* Random doubles: their shortest text is kept as is and reads back to them. */
    for (size_t k = 0; k < 100000; k++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double v = (double)(seed >> 11) / (double)(1ULL << 53) * 1e6;
        if (k % 3 == 0) v = (double)(int64_t)(v * 1000) / 1000; /* three decimals, like prices */
        char text[TICK_DECIMAL_MAX];
        TT_ASSERT(venue_decimal_shortest(v, text, sizeof text) > 0);
        assert_real_text(text, &kept);
    }
}

/* Every number in the recorded frames, quoted or not, read as Kraken v2 reads a number. */
static void test_number_text_recorded(void) {
    static const char *files[] = {"kraken/doc-ws-v2-ticker-snapshot.json", "kraken/ws_ticker.jsonl",
                                  "binance/ws_bookTicker.jsonl", "coinbase/ws_ticker.jsonl", "okx/ws_tickers.jsonl",
                                  "kraken/doc-rest-Ticker-response.json"};
    size_t numbers = 0, kept = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char *text = shared_file(files[f], NULL);
        for (char *p = text; *p; p++) {
            if (!((*p >= '0' && *p <= '9') || *p == '-') || (p > text && strchr("0123456789.-:TZ", p[-1]))) continue;
            size_t len = strspn(p, "-0123456789.");
            char num[64];
            if (len >= sizeof num || (p[len] != '"' && p[len] != ',' && p[len] != ']' && p[len] != '}' &&
                                      p[len] != '\n' && p[len] != ' '))
                continue;
            memcpy(num, p, len);
            num[len] = 0;
            char *end;
            strtod(num, &end);
            if (*end || strchr(num + 1, '-') || num[len - 1] == '.') continue; /* dates, ids */
            assert_real_text(num, &kept);
            numbers++;
        }
        free(text);
    }
    TT_ASSERT(numbers > 1000);
    TT_ASSERT(kept > 100);
}

/* Everything tickd knows of a venue is its venue_ops: every channel complete, defaults the config can use. */
static void test_venue_table(void) {
    char buf[128];
    for (size_t i = 0; venue_at(i); i++) {
        const struct venue_ops *v = venue_at(i);
        TT_ASSERT(venue_find(v->name) == v);
        TT_ASSERT(v->channels && v->channels[0].name);
        for (const struct venue_channel *c = v->channels; c && c->name; c++) {
            /* a websocket feed always; REST both ways or not at all (trades: streams only, for now) */
            TT_ASSERT(c->ws_path && c->ws_subscribe && c->ws_parse);
            /* a book's REST parser reads its snapshots (or instruments) without being polled */
            TT_ASSERT(!c->rest_plan == !c->rest_parse || (c->kind == VENUE_EVENT_BOOK && c->rest_parse));
            TT_ASSERT(venue_channel_find(v, c->name) == c);
        }
        const struct venue_channel *bbo = venue_channel_find(v, "bbo"), *trades = venue_channel_find(v, "trades");
        TT_ASSERT(bbo && bbo->kind == VENUE_EVENT_QUOTE && bbo->rest_plan);
        TT_ASSERT(trades && trades->kind == VENUE_EVENT_TRADE);
        TT_ASSERT(trades->dense_ids == (strcmp(v->name, "okx") != 0)); /* OKX's trade ids skip */
        /* a book channel syncs by REST snapshots (asked per symbol) or by the stream's own (a resync resubscribes) */
        const struct venue_channel *book = venue_channel_find(v, "book");
        TT_ASSERT(book && book->kind == VENUE_EVENT_BOOK && book->book_levels);
        if (book && book->book_sync == VENUE_BOOK_REST_SNAPSHOT) TT_ASSERT(book->book_snapshot_request);
        else if (book) TT_ASSERT(book->ws_unsubscribe);
        if (book && book->needs_precision) TT_ASSERT(book->rest_plan && book->book_checksum);
        venue_channel_list(v, buf, sizeof buf);
        TT_ASSERT_STR(buf, "bbo, trades, book");
        const struct venue_defaults *d = &v->defaults;
        TT_ASSERT(d->rest_url && strncmp(d->rest_url, "https://", 8) == 0);
        TT_ASSERT(d->ws_url && strncmp(d->ws_url, "wss://", 6) == 0);
        TT_ASSERT(d->ws_streams_per_connection >= 1);
        TT_ASSERT(d->connect[0].limit >= 1 && d->connect[0].period_ms >= 1);
    }
    /* Binance alone reports the weight it counts; its poll tasks correct the limiter by it. */
    TT_ASSERT_STR(venue_find("binance")->defaults.used_weight_header, "X-MBX-USED-WEIGHT-1M");
    TT_ASSERT(venue_find("okx")->defaults.used_weight_header == NULL);
}

int main(void) {
    TT_RUN(test_decimal_shortest);
    TT_RUN(test_decimal_shortest_fast_equals_search);
    TT_RUN(test_rfc3339);
    TT_RUN(test_binance_fast_path);
    TT_RUN(test_registry);
    TT_RUN(test_symbol_mapping);
    TT_RUN(test_binance_frames);
    TT_RUN(test_coinbase_frames);
    TT_RUN(test_kraken_frames);
    TT_RUN(test_okx_frames);
    TT_RUN(test_okx_bbo_tbt);
    TT_RUN(test_truncated_and_flipped);
    TT_RUN(test_hostile_shapes);
    TT_RUN(test_subscribe_messages);
    TT_RUN(test_unsubscribe_messages);
    TT_RUN(test_binance_long_range_all_subscribed);
    TT_RUN(test_binance_planner);
    TT_RUN(test_binance_rest);
    TT_RUN(test_kraken_rest);
    TT_RUN(test_okx_rest);
    TT_RUN(test_coinbase_rest);
    TT_RUN(test_out_overflow);
    TT_RUN(test_values_out_of_range);
    TT_RUN(test_event_times_bounded);
    TT_RUN(test_number_text_shortest);
    TT_RUN(test_number_text_recorded);
    TT_RUN(test_fast_path_shapes);
    TT_RUN(test_fast_path_recorded);
    TT_RUN(test_fast_path_fakex);
    TT_RUN(test_venue_table);
    return tt_finish();
}
