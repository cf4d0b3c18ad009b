/* Tests of fakex's L2 books, over real loopback sockets. For each dialect a client written here (sorted levels of
 * decimal text, compared as decimals, never as doubles) rebuilds the book from what fakex sends, by the venue's own
 * rules, and must end with exactly the book fakex holds (read through /_fakex/book) once the book stands still:
 * Binance's diffs buffered around a REST snapshot (U/u continuous), Coinbase's snapshot and l2updates, Kraken's
 * snapshot and updates truncated to the subscribed depth with every checksum recomputed here from the pair's
 * precisions (from AssetPairs), OKX's snapshot and updates with prevSeqId chained and every checksum recomputed.
 * The checksum code is first checked against the venues' documented examples (hardcoded below). Then each book
 * fault (the gap shows, the repeat, the swap, one wrong checksum, the stale snapshot, the crossed book that repairs
 * itself, 429/418 with Retry-After), the counters, the quote taken from the book's top, and a short load run whose
 * rate and CPU are printed (never asserted). Where tests/venues holds a venue's documented message of the book
 * channel, fakex's message has its keys and JSON types. */
#define _GNU_SOURCE
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../fakex/fx_client.h"
#include "tt.h"

static struct fxc_proc fx;
static char shape_err[512];

static void fakex_start(const char *const *args) {
    if (fx.pid > 0) fxc_stop(&fx); /* left by a failed test */
    if (fxc_spawn(&fx, args) < 0) TT_FAIL("fakex did not start (ready line '%s')", fx.ready);
}

static void fakex_stop_clean(void) { TT_ASSERT_INT(fxc_stop(&fx), 0); }

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

/* ---- HTTP ---- */

/* GET on a fresh connection; asserts the status and returns the parsed body (NULL when it is not JSON). */
static json_t *get(const char *venue, const char *target, int want, struct fxc_http *keep) {
    struct fxc_conn c = {.fd = fxc_connect(fxc_port(&fx, venue))};
    struct fxc_http r;
    TT_ASSERT(c.fd >= 0);
    int rc = fxc_http(&c, "GET", target, &r, 5000);
    fxc_close(&c);
    TT_ASSERT_INT(rc, 0);
    if (r.status != want) TT_FAIL("GET %s: status %d, expected %d: %s", target, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    if (keep) *keep = r;
    else free(r.body);
    return j;
}

static void control(const char *query) {
    char target[512];
    snprintf(target, sizeof target, "/_fakex/set?%s", query);
    json_decref(get("control", target, 200, NULL));
}

/* The book counters of one venue in the report (a new reference). */
static json_t *book_counters(const char *venue) {
    json_t *rep = get("control", "/_fakex/report", 200, NULL);
    json_t *b = json_object_get(json_object_get(json_object_get(rep, "venues"), venue), "book");
    if (!b) TT_FAIL("no book counters for %s in the report", venue);
    json_incref(b);
    json_decref(rep);
    return b;
}

static long long counter(json_t *counters, const char *key) {
    json_t *v = json_object_get(counters, key);
    if (!json_is_integer(v)) TT_FAIL("counter %s missing", key);
    return (long long)json_integer_value(v);
}

/* fakex's own book of symbol, the top depth levels a side (0: all). */
static json_t *fakex_book(const char *venue, const char *symbol, int depth) {
    char target[256];
    snprintf(target, sizeof target, "/_fakex/book?venue=%s&symbol=%s&depth=%d", venue, symbol, depth);
    json_t *b = get("control", target, 200, NULL);
    if (!b) TT_FAIL("/_fakex/book: not JSON");
    TT_ASSERT_STR(json_string_value(json_object_get(b, "venue")), venue);
    TT_ASSERT_STR(json_string_value(json_object_get(b, "symbol")), symbol);
    TT_ASSERT(json_is_integer(json_object_get(b, "seq")));
    return b;
}

/* ---- shapes of the venues' documented messages, where tests/venues (or ../shared/venues) holds them ---- */

static bool same_type(json_t *a, json_t *b) {
    if (json_is_number(a) && json_is_number(b)) return true;
    if (json_is_boolean(a) && json_is_boolean(b)) return true;
    return json_typeof(a) == json_typeof(b);
}

static bool shape_ok(json_t *r, json_t *g, const char *path) {
    char sub[400];
    if (!same_type(r, g)) {
        snprintf(shape_err, sizeof shape_err, "%s: type %d, expected %d", path, json_typeof(g), json_typeof(r));
        return false;
    }
    if (json_is_object(r)) {
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v) {
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            if (!json_object_get(g, k)) {
                snprintf(shape_err, sizeof shape_err, "%s: missing", sub);
                return false;
            }
            if (!shape_ok(v, json_object_get(g, k), sub)) return false;
        }
        json_object_foreach(g, k, v) if (!json_object_get(r, k)) {
            snprintf(shape_err, sizeof shape_err, "%s.%s: not in the venue's message", path, k);
            return false;
        }
    } else if (json_is_array(r) && json_array_size(r) && json_array_size(g)) {
        for (size_t i = 0; i < json_array_size(g); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            size_t ri = i < json_array_size(r) ? i : 0;
            if (!shape_ok(json_array_get(r, ri), json_array_get(g, i), sub)) return false;
        }
    }
    return true;
}

/* got has the keys and JSON types of the documented message rel, or of its member at[0].at[1] when at is given
 * (when the message is there: no check otherwise). */
static void shape_of_known(const char *rel, const char *const *at, json_t *got) {
    char path[8192];
    if (!tt_venue_path(rel, path, sizeof path)) return;
    json_error_t err;
    json_t *r = json_load_file(path, JSON_DISABLE_EOF_CHECK, &err);
    if (!r) TT_FAIL("cannot read %s: %s", path, err.text);
    json_t *part = at ? json_object_get(json_object_get(r, at[0]), at[1]) : r;
    bool ok = part && shape_ok(part, got, "$");
    json_decref(r);
    if (!ok) TT_FAIL("%s: %s", rel, part ? shape_err : "no such member");
}

static void shape_if_known(const char *rel, json_t *got) { shape_of_known(rel, NULL, got); }

/* ---- websocket ---- */

static void ws_open(struct fxc_conn *c, const char *venue, const char *path) {
    int rc = fxc_ws_open(c, fxc_port(&fx, venue), path);
    if (rc != 0) TT_FAIL("websocket %s%s refused: %d", venue, path, rc);
}

/* The next text frame within ms (NULL when none came); pings are answered on the way. */
static char *ws_next_text(struct fxc_conn *c, int ms) {
    int64_t deadline = fxc_now_ms() + ms;
    for (;;) {
        int left = (int)(deadline - fxc_now_ms()), op;
        char *p;
        size_t n;
        if (left <= 0) return NULL;
        int rc = fxc_ws_recv(c, &op, &p, &n, left);
        if (rc < 0) TT_FAIL("connection closed");
        if (rc == 0) return NULL;
        if (op == 9) fxc_ws_send(c, 10, p, n);
        if (op == 1) return p;
        free(p);
    }
}

static json_t *ws_next_json(struct fxc_conn *c, int ms) {
    char *p = ws_next_text(c, ms);
    if (!p) return NULL;
    json_t *j = json_loads(p, 0, NULL);
    if (!j) TT_FAIL("not JSON: %.200s", p);
    free(p);
    return j;
}

/* The next JSON message whose `key` is the string `value`, within 5 s. */
static json_t *ws_until(struct fxc_conn *c, const char *key, const char *value) {
    int64_t deadline = fxc_now_ms() + 5000;
    while (fxc_now_ms() < deadline) {
        json_t *j = ws_next_json(c, 200);
        json_t *f = json_object_get(j, key);
        if (f && json_is_string(f) && strcmp(json_string_value(f), value) == 0) return j;
        json_decref(j);
    }
    TT_FAIL("no message with %s=%s within 5 s", key, value);
}

/* ---- the client's book: levels of decimal text ---- */

/* Compares two non-negative decimal texts by value. */
static int dec_cmp(const char *a, const char *b) {
    while (*a == '0' && isdigit((unsigned char)a[1])) a++;
    while (*b == '0' && isdigit((unsigned char)b[1])) b++;
    size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
    if (ia != ib) return ia < ib ? -1 : 1;
    int c = strncmp(a, b, ia);
    if (c) return c < 0 ? -1 : 1;
    const char *fa = a[ia] ? a + ia + 1 : "", *fb = b[ib] ? b + ib + 1 : "";
    while (*fa || *fb) {
        char x = *fa ? *fa++ : '0', y = *fb ? *fb++ : '0';
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

static bool dec_zero(const char *s) {
    for (; *s; s++)
        if (*s != '0' && *s != '.') return false;
    return true;
}

struct tlevel {
    char px[40], qty[40];
};
struct tside {
    struct tlevel *lv;
    size_t n, cap;
};
struct tbook {
    struct tside side[2]; /* 0 bids (highest first), 1 asks (lowest first) */
};

static void tb_free(struct tbook *b) {
    for (int s = 0; s < 2; s++) free(b->side[s].lv);
    *b = (struct tbook){0};
}

static void tb_set(struct tbook *b, int side, const char *px, const char *qty) {
    struct tside *s = &b->side[side];
    if (strlen(px) >= sizeof s->lv->px || strlen(qty) >= sizeof s->lv->qty) TT_FAIL("a level of too long text");
    size_t i = 0;
    int c = 1;
    for (; i < s->n; i++) { /* a linear walk: the books here are small */
        c = dec_cmp(px, s->lv[i].px);
        if (c == 0 || (side == 0 ? c > 0 : c < 0)) break;
    }
    bool found = i < s->n && c == 0;
    if (dec_zero(qty)) {
        if (found) memmove(s->lv + i, s->lv + i + 1, (s->n-- - i - 1) * sizeof *s->lv);
        return;
    }
    if (found) {
        snprintf(s->lv[i].qty, sizeof s->lv[i].qty, "%s", qty);
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->lv = realloc(s->lv, s->cap * sizeof *s->lv);
    }
    memmove(s->lv + i + 1, s->lv + i, (s->n - i) * sizeof *s->lv);
    snprintf(s->lv[i].px, sizeof s->lv[i].px, "%s", px);
    snprintf(s->lv[i].qty, sizeof s->lv[i].qty, "%s", qty);
    s->n++;
}

static void tb_truncate(struct tbook *b, size_t depth) {
    for (int s = 0; s < 2; s++)
        if (b->side[s].n > depth) b->side[s].n = depth;
}

static bool tb_crossed(const struct tbook *b) {
    return b->side[0].n && b->side[1].n && dec_cmp(b->side[0].lv[0].px, b->side[1].lv[0].px) >= 0;
}

/* Loads [[price, size, ...], ...] into one side. */
static void tb_load(struct tbook *b, int side, json_t *levels) {
    size_t i;
    json_t *l;
    json_array_foreach(levels, i, l) {
        const char *px = json_string_value(json_array_get(l, 0)), *qty = json_string_value(json_array_get(l, 1));
        if (!px || !qty) TT_FAIL("a level that is not [\"price\", \"size\", ...]");
        tb_set(b, side, px, qty);
    }
}

/* The client's book is exactly fakex's (as /_fakex/book gave it): the same levels, the same text. */
static void tb_assert_equal(const struct tbook *b, json_t *fb, const char *what) {
    for (int side = 0; side < 2; side++) {
        json_t *arr = json_object_get(fb, side ? "asks" : "bids");
        const struct tside *s = &b->side[side];
        if (json_array_size(arr) != s->n)
            TT_FAIL("%s: %zu %s rebuilt, fakex holds %zu", what, s->n, side ? "asks" : "bids", json_array_size(arr));
        for (size_t i = 0; i < s->n; i++) {
            const char *px = json_string_value(json_array_get(json_array_get(arr, i), 0));
            const char *qty = json_string_value(json_array_get(json_array_get(arr, i), 1));
            if (!px || !qty || strcmp(px, s->lv[i].px) || strcmp(qty, s->lv[i].qty))
                TT_FAIL("%s: %s level %zu rebuilt %s %s, fakex holds %s %s", what, side ? "ask" : "bid", i,
                        s->lv[i].px, s->lv[i].qty, px ? px : "?", qty ? qty : "?");
        }
    }
}

/* ---- checksums, computed here ---- */

static uint32_t crc32_own(const char *s, size_t n) { /* IEEE, reflected, as zlib: bit by bit */
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint8_t)s[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* Kraken's form of a value for its checksum: written with dp decimals, '.' removed, leading zeros removed. */
static size_t kraken_form(const char *text, int dp, char *out) {
    const char *dot = strchr(text, '.');
    size_t frac = dot ? strlen(dot + 1) : 0, n = 0;
    if ((int)frac > dp) TT_FAIL("%s has more than the pair's %d decimals", text, dp);
    char full[96];
    snprintf(full, sizeof full, "%s%s", text, dot || !dp ? "" : ".");
    for (size_t k = frac; (int)k < dp; k++) strcat(full, "0");
    bool lead = true;
    for (const char *p = full; *p; p++) {
        if (*p == '.' || (lead && *p == '0')) continue;
        lead = false;
        out[n++] = *p;
    }
    return n;
}

static uint32_t kraken_checksum(const struct tbook *b, int pdp, int qdp) {
    static char s[65536];
    size_t n = 0;
    for (int side = 1; side >= 0; side--) /* asks, then bids */
        for (size_t i = 0; i < b->side[side].n && i < 10; i++) {
            n += kraken_form(b->side[side].lv[i].px, pdp, s + n);
            n += kraken_form(b->side[side].lv[i].qty, qdp, s + n);
        }
    return crc32_own(s, n);
}

/* OKX's check string: the first 25 levels, bid then ask at each rank, "px:sz" joined by ':'. */
static size_t okx_check_string(const struct tbook *b, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < 25; i++)
        for (int side = 0; side < 2; side++) {
            if (i >= b->side[side].n) continue;
            n += (size_t)snprintf(out + n, cap - n, "%s%s:%s", n ? ":" : "", b->side[side].lv[i].px,
                                  b->side[side].lv[i].qty);
        }
    return n;
}

static int32_t okx_checksum(const struct tbook *b) {
    static char s[65536];
    size_t n = okx_check_string(b, s, sizeof s);
    return (int32_t)crc32_own(s, n);
}

/* The documented examples: the CRC's check value; Kraken's book checksum guide (WebSocket v2, BTC/USD, prices
 * with 1 decimal and sizes with 8: 3310070434), also read from the JSON numbers' shortest form; OKX's order book
 * channel's two check strings (bid and ask in turn; the uneven one runs on with the longer side) and their
 * checksums as OKX gave them, -1881014294 and 831078360. */
static void test_documented_checksums(void) {
    TT_ASSERT(crc32_own("123456789", 9) == 0xCBF43926u);
    static const char *const asks[10][2] = {
        {"45285.2", "0.00100000"}, {"45286.4", "1.54571953"}, {"45286.6", "1.54571109"}, {"45289.6", "1.54560911"},
        {"45290.2", "0.15890660"}, {"45291.8", "1.54553491"}, {"45294.7", "0.04454749"}, {"45296.1", "0.35380000"},
        {"45297.5", "0.09945542"}, {"45299.5", "0.18772827"}};
    static const char *const bids[10][2] = {
        {"45283.5", "0.10000000"}, {"45283.4", "1.54582015"}, {"45282.1", "0.10000000"}, {"45281.0", "0.10000000"},
        {"45280.3", "1.54592586"}, {"45279.0", "0.07990000"}, {"45277.6", "0.03310103"}, {"45277.5", "0.30000000"},
        {"45277.3", "1.54602737"}, {"45276.6", "0.15445238"}};
    struct tbook b = {0}, shortest = {0};
    for (int i = 0; i < 10; i++) {
        tb_set(&b, 1, asks[i][0], asks[i][1]);
        tb_set(&b, 0, bids[i][0], bids[i][1]);
        for (int side = 0; side < 2; side++) { /* as a v2 message writes them: 0.001, 45281 */
            char px[40], qty[40];
            snprintf(px, sizeof px, "%s", side ? asks[i][0] : bids[i][0]);
            snprintf(qty, sizeof qty, "%s", side ? asks[i][1] : bids[i][1]);
            for (char *t = px; t; t = t == px ? qty : NULL) {
                size_t n = strlen(t);
                while (n && t[n - 1] == '0') t[--n] = 0;
                if (n && t[n - 1] == '.') t[--n] = 0;
            }
            tb_set(&shortest, side, px, qty);
        }
    }
    char form[64];
    form[kraken_form("0.00100000", 8, form)] = 0;
    TT_ASSERT_STR(form, "100000");
    form[kraken_form("45285.2", 1, form)] = 0;
    TT_ASSERT_STR(form, "452852");
    TT_ASSERT(kraken_checksum(&b, 1, 8) == 3310070434u);
    TT_ASSERT(kraken_checksum(&shortest, 1, 8) == 3310070434u);
    tb_free(&b);
    tb_free(&shortest);

    char s[256];
    tb_set(&b, 0, "3366.1", "7");
    tb_set(&b, 0, "3366", "6");
    tb_set(&b, 1, "3366.8", "9");
    tb_set(&b, 1, "3368", "8");
    s[okx_check_string(&b, s, sizeof s)] = 0;
    TT_ASSERT_STR(s, "3366.1:7:3366.8:9:3366:6:3368:8");
    TT_ASSERT_INT(okx_checksum(&b), -1881014294);
    tb_free(&b);
    tb_set(&b, 0, "3366.1", "7");
    tb_set(&b, 1, "3366.8", "9");
    tb_set(&b, 1, "3368", "8");
    tb_set(&b, 1, "3372", "8");
    s[okx_check_string(&b, s, sizeof s)] = 0;
    TT_ASSERT_STR(s, "3366.1:7:3366.8:9:3368:8:3372:8");
    TT_ASSERT_INT(okx_checksum(&b), 831078360);
    tb_free(&b);
}

/* ---- Binance ---- */

struct bn_event {
    json_t *j; /* the depthUpdate (the data of a combined message) */
    unsigned long long U, u, E;
    int64_t at_ms; /* when it came */
};

struct bn_events {
    struct bn_event *ev;
    size_t n, cap;
};

static void bn_free(struct bn_events *e) {
    for (size_t i = 0; i < e->n; i++) json_decref(e->ev[i].j);
    free(e->ev);
    *e = (struct bn_events){0};
}

/* Reads depthUpdates for ms (until quiet_ms pass without one, when quiet_ms > 0) into e; only `symbol`'s are
 * kept. */
static void bn_collect(struct fxc_conn *c, struct bn_events *e, const char *symbol, int ms, int quiet_ms) {
    int64_t end = fxc_now_ms() + ms;
    while (fxc_now_ms() < end) {
        int wait = quiet_ms > 0 ? quiet_ms : (int)(end - fxc_now_ms());
        json_t *m = ws_next_json(c, wait > 0 ? wait : 1);
        if (!m) {
            if (quiet_ms > 0) return;
            continue;
        }
        json_t *d = json_object_get(m, "data") ? json_object_get(m, "data") : m;
        const char *s = json_string_value(json_object_get(d, "s"));
        if (!json_object_get(d, "e") || strcmp(json_string_value(json_object_get(d, "e")), "depthUpdate") != 0 || !s) {
            json_decref(m);
            continue;
        }
        if (strcmp(s, symbol) != 0) {
            json_decref(m);
            continue;
        }
        if (e->n == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 64;
            e->ev = realloc(e->ev, e->cap * sizeof *e->ev);
        }
        json_incref(d);
        e->ev[e->n++] = (struct bn_event){.j = d,
                                          .U = (unsigned long long)json_integer_value(json_object_get(d, "U")),
                                          .u = (unsigned long long)json_integer_value(json_object_get(d, "u")),
                                          .E = (unsigned long long)json_integer_value(json_object_get(d, "E")),
                                          .at_ms = fxc_now_ms()};
        json_decref(m);
    }
}

static void bn_apply(struct tbook *b, json_t *ev) {
    tb_load(b, 0, json_object_get(ev, "b"));
    tb_load(b, 1, json_object_get(ev, "a"));
}

/* 8 decimals, as Binance writes every price and size */
static bool eight_decimals(const char *s) {
    const char *dot = s ? strchr(s, '.') : NULL;
    return dot && strlen(dot + 1) == 8 && strspn(s, "0123456789.") == strlen(s);
}

static void test_binance_book(void) {
    const char *args[] = {"--venue", "binance", "--symbols", "BTC-USDT,ETH-USDT", "--book-rate", "50", NULL};
    fakex_start(args);
    struct fxc_conn c;
    ws_open(&c, "binance", "/stream?streams=btcusdt@depth@100ms");
    json_t *first = ws_next_json(&c, 3000); /* the combined form, as the stream was named */
    TT_ASSERT(first != NULL);
    TT_ASSERT_STR(json_string_value(json_object_get(first, "stream")), "btcusdt@depth@100ms");
    shape_if_known("binance/doc-ws-depth-diff.json", json_object_get(first, "data"));
    json_decref(first);
    struct bn_events e = {0};
    bn_collect(&c, &e, "BTCUSDT", 300, 0); /* buffered, as a client does before the snapshot */
    struct fxc_http h;
    char used[32];
    json_t *snap = get("binance", "/api/v3/depth?symbol=BTCUSDT&limit=5000", 200, &h);
    TT_ASSERT_STR(fxc_header(&h, "X-MBX-USED-WEIGHT-1M", used, sizeof used), "250");
    free(h.body);
    shape_if_known("binance/doc-rest-depth.json", snap);
    bn_collect(&c, &e, "BTCUSDT", 700, 0);
    control("venue=binance&book_rate=0");
    bn_collect(&c, &e, "BTCUSDT", 3000, 400); /* what was on its way, then quiet */
    TT_ASSERT(e.n >= 8);

    /* ids continuous across batches; one batch per 100 ms */
    for (size_t i = 1; i < e.n; i++) {
        if (e.ev[i].U != e.ev[i - 1].u + 1)
            TT_FAIL("event %zu: U %llu after u %llu", i, e.ev[i].U, e.ev[i - 1].u);
        TT_ASSERT(e.ev[i].u >= e.ev[i].U);
    }
    double span = (double)(e.ev[e.n - 1].E - e.ev[0].E) / (double)(e.n - 1);
    if (span < 90 || span > 250) TT_FAIL("one event every %.0f ms, not 100", span);

    /* synced as Binance says: drop u <= lastUpdateId, the first applied has U <= lastUpdateId+1 <= u */
    unsigned long long last = (unsigned long long)json_integer_value(json_object_get(snap, "lastUpdateId"));
    struct tbook b = {0};
    tb_load(&b, 0, json_object_get(snap, "bids"));
    tb_load(&b, 1, json_object_get(snap, "asks"));
    TT_ASSERT(b.side[0].n >= 20 && b.side[1].n >= 20);
    TT_ASSERT(eight_decimals(b.side[0].lv[0].px) && eight_decimals(b.side[1].lv[0].qty));
    size_t applied = 0;
    for (size_t i = 0; i < e.n; i++) {
        if (e.ev[i].u <= last) continue;
        if (!applied) TT_ASSERT(e.ev[i].U <= last + 1 && last + 1 <= e.ev[i].u);
        bn_apply(&b, e.ev[i].j);
        TT_ASSERT(!tb_crossed(&b));
        applied++;
        size_t k;
        json_t *l;
        json_array_foreach(json_object_get(e.ev[i].j, "b"), k, l) {
            TT_ASSERT(eight_decimals(json_string_value(json_array_get(l, 0))));
            TT_ASSERT(eight_decimals(json_string_value(json_array_get(l, 1))));
        }
    }
    TT_ASSERT(applied >= 5);
    json_t *fb = fakex_book("binance", "BTC-USDT", 0);
    tb_assert_equal(&b, fb, "binance BTC-USDT");
    TT_ASSERT_INT(json_integer_value(json_object_get(fb, "seq")), e.ev[e.n - 1].u);
    json_decref(fb);
    fb = fakex_book("binance", "BTC-USDT", 5); /* the top N a side */
    TT_ASSERT_INT(json_array_size(json_object_get(fb, "bids")), 5);
    TT_ASSERT_INT(json_array_size(json_object_get(fb, "asks")), 5);
    TT_ASSERT_STR(json_string_value(json_array_get(json_array_get(json_object_get(fb, "asks"), 4), 0)),
                  b.side[1].lv[4].px);
    json_decref(fb);
    json_decref(snap);
    tb_free(&b);
    bn_free(&e);
    fxc_close(&c);
    fakex_stop_clean();
}

/* The raw path, SUBSCRIBE and UNSUBSCRIBE, LIST_SUBSCRIPTIONS, and the counters of subscriptions. */
static void test_binance_book_streams(void) {
    const char *args[] = {"--venue", "binance", "--symbols", "BTC-USDT,ETH-USDT", "--book-rate", "50", NULL};
    fakex_start(args);
    struct fxc_conn raw, sub;
    ws_open(&raw, "binance", "/ws/ethusdt@depth@100ms");
    json_t *m = ws_next_json(&raw, 3000);
    TT_ASSERT(m != NULL);
    TT_ASSERT_STR(json_string_value(json_object_get(m, "e")), "depthUpdate"); /* raw: no envelope */
    TT_ASSERT_STR(json_string_value(json_object_get(m, "s")), "ETHUSDT");
    json_decref(m);
    fxc_close(&raw);

    ws_open(&sub, "binance", "/ws");
    fxc_ws_text(&sub, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth@100ms\"],\"id\":3}");
    m = ws_until(&sub, "e", "depthUpdate");
    TT_ASSERT_STR(json_string_value(json_object_get(m, "s")), "BTCUSDT");
    json_decref(m);
    fxc_ws_text(&sub, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":4}");
    for (m = NULL; !m || !json_is_array(json_object_get(m, "result"));) {
        json_decref(m);
        m = ws_next_json(&sub, 3000);
        TT_ASSERT(m != NULL);
    }
    TT_ASSERT_STR(json_string_value(json_array_get(json_object_get(m, "result"), 0)), "btcusdt@depth@100ms");
    json_decref(m);
    fxc_ws_text(&sub, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@depth@100ms\"],\"id\":5}");
    struct bn_events e = {0};
    bn_collect(&sub, &e, "BTCUSDT", 3000, 400); /* what was on its way */
    bn_free(&e);
    bn_collect(&sub, &e, "BTCUSDT", 500, 0);
    TT_ASSERT_INT(e.n, 0); /* then nothing */
    fxc_close(&sub);
    json_t *k = book_counters("binance");
    TT_ASSERT_INT(counter(k, "subscribes"), 2);
    TT_ASSERT_INT(counter(k, "unsubscribes"), 1);
    TT_ASSERT(counter(k, "messages") >= 2);
    TT_ASSERT(counter(k, "books") == 2);
    json_decref(k);
    fakex_stop_clean();
}

/* The REST snapshot: weights by limit, the counters, the errors, snapshot_status (429 and 418, Retry-After). */
static void test_binance_depth_rest(void) {
    const char *args[] = {"--venue", "binance", "--symbols", "BTC-USDT,ETH-USDT", NULL};
    fakex_start(args);
    static const struct {
        const char *limit;
        int weight, levels;
    } cases[] = {{"", 5, 100}, {"&limit=7", 5, 7}, {"&limit=100", 5, 100}, {"&limit=101", 25, 101},
                 {"&limit=500", 25, 500}, {"&limit=1000", 50, 1000}, {"&limit=5000", 250, 5000}};
    int used = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char target[128], header[32];
        snprintf(target, sizeof target, "/api/v3/depth?symbol=ETHUSDT%s", cases[i].limit);
        struct fxc_http h;
        json_t *j = get("binance", target, 200, &h);
        used += cases[i].weight;
        TT_ASSERT_INT(atoi(fxc_header(&h, "X-MBX-USED-WEIGHT-1M", header, sizeof header)), used);
        free(h.body);
        for (int side = 0; side < 2; side++) { /* the top `limit` levels, or all the book has */
            size_t n = json_array_size(json_object_get(j, side ? "asks" : "bids"));
            TT_ASSERT(n > 0 && n <= (size_t)cases[i].levels);
            if (cases[i].levels <= 50) TT_ASSERT_INT(n, cases[i].levels);
        }
        TT_ASSERT(json_is_integer(json_object_get(j, "lastUpdateId")));
        json_decref(j);
    }
    json_t *k = book_counters("binance");
    TT_ASSERT_INT(counter(k, "depth_requests"), 7);
    TT_ASSERT_INT(counter(k, "depth_weight"), used);
    json_decref(k);
    json_t *j = get("binance", "/api/v3/depth?symbol=NOPE", 400, NULL);
    TT_ASSERT_INT(json_integer_value(json_object_get(j, "code")), -1121);
    json_decref(j);
    j = get("binance", "/api/v3/depth", 400, NULL);
    TT_ASSERT_INT(json_integer_value(json_object_get(j, "code")), -1102);
    json_decref(j);

    control("venue=binance&snapshot_status=429&snapshot_count=2");
    for (int i = 0; i < 2; i++) {
        struct fxc_http h;
        char retry[32];
        j = get("binance", "/api/v3/depth?symbol=BTCUSDT", 429, &h);
        TT_ASSERT_INT(json_integer_value(json_object_get(j, "code")), -1003);
        TT_ASSERT(fxc_header(&h, "Retry-After", retry, sizeof retry) && atoi(retry) >= 1);
        free(h.body);
        json_decref(j);
    }
    json_decref(get("binance", "/api/v3/depth?symbol=BTCUSDT", 200, NULL));
    control("venue=binance&snapshot_status=418");
    struct fxc_http h;
    char retry[32];
    j = get("binance", "/api/v3/depth?symbol=BTCUSDT", 418, &h);
    TT_ASSERT(fxc_header(&h, "Retry-After", retry, sizeof retry) && atoi(retry) >= 1);
    free(h.body);
    json_decref(j);
    json_decref(get("binance", "/api/v3/depth?symbol=BTCUSDT", 200, NULL)); /* once */
    k = book_counters("binance");
    TT_ASSERT_INT(counter(k, "depth_refused"), 3);
    json_decref(k);
    fakex_stop_clean();
}

/* ---- Coinbase ---- */

static void cb_apply(struct tbook *b, json_t *m) {
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(m, "changes"), i, ch) {
        const char *side = json_string_value(json_array_get(ch, 0));
        const char *px = json_string_value(json_array_get(ch, 1)), *size = json_string_value(json_array_get(ch, 2));
        if (!side || !px || !size || (strcmp(side, "buy") && strcmp(side, "sell")))
            TT_FAIL("a change that is not [side, price, size]");
        const char *dot = strchr(px, '.'), *sdot = strchr(size, '.');
        TT_ASSERT(dot && strlen(dot + 1) == 2);   /* BTC-USD's increment, 0.01 */
        TT_ASSERT(sdot && strlen(sdot + 1) == 8); /* sizes with 8 decimals */
        tb_set(b, side[0] == 's', px, size);
    }
}

/* Reads the book channel's messages of product until quiet_ms pass without one (or ms end); returns how many
 * l2updates came, with their arrival times in at[] (when given). */
static size_t cb_follow(struct fxc_conn *c, struct tbook *b, const char *product, int ms, int quiet_ms, int64_t *at,
                        size_t at_cap, bool *crossed_seen) {
    size_t n = 0;
    int64_t end = fxc_now_ms() + ms;
    while (fxc_now_ms() < end) {
        json_t *m = ws_next_json(c, quiet_ms > 0 ? quiet_ms : (int)(end - fxc_now_ms()) + 1);
        if (!m) {
            if (quiet_ms > 0) break;
            continue;
        }
        const char *type = json_string_value(json_object_get(m, "type"));
        if (type && !strcmp(type, "l2update") &&
            !strcmp(json_string_value(json_object_get(m, "product_id")), product)) {
            const char *time = json_string_value(json_object_get(m, "time"));
            TT_ASSERT(time && strlen(time) == 27 && time[19] == '.' && time[26] == 'Z');
            if (n == 1) shape_if_known("coinbase/doc-ws-level2-l2update.json", m);
            cb_apply(b, m);
            if (crossed_seen && tb_crossed(b)) *crossed_seen = true;
            if (!crossed_seen) TT_ASSERT(!tb_crossed(b));
            if (at && n < at_cap) at[n] = fxc_now_ms();
            n++;
        }
        json_decref(m);
    }
    return n;
}

static void cb_subscribe(struct fxc_conn *c, const char *type, const char *product, struct tbook *b) {
    char msg[256];
    snprintf(msg, sizeof msg, "{\"type\":\"%s\",\"product_ids\":[\"%s\"],\"channels\":[\"level2_batch\"]}", type,
             product);
    fxc_ws_text(c, msg);
    json_t *ack = ws_until(c, "type", "subscriptions");
    json_t *ch = json_array_get(json_object_get(ack, "channels"), 0);
    if (type[0] == 's') {
        TT_ASSERT_STR(json_string_value(json_object_get(ch, "name")), "level2_batch");
        TT_ASSERT_STR(json_string_value(json_array_get(json_object_get(ch, "product_ids"), 0)), product);
    }
    json_decref(ack);
    if (type[0] != 's') return;
    json_t *snap = ws_until(c, "type", "snapshot");
    TT_ASSERT_STR(json_string_value(json_object_get(snap, "product_id")), product);
    shape_if_known("coinbase/doc-ws-level2-snapshot.json", snap);
    tb_free(b);
    tb_load(b, 0, json_object_get(snap, "bids"));
    tb_load(b, 1, json_object_get(snap, "asks"));
    json_decref(snap);
}

static void test_coinbase_book(void) {
    const char *args[] = {"--venue", "coinbase", "--symbols", "BTC-USD,ETH-USD", "--book-rate", "50", NULL};
    fakex_start(args);
    struct fxc_conn c;
    struct tbook b = {0};
    ws_open(&c, "coinbase", "/");
    cb_subscribe(&c, "subscribe", "BTC-USD", &b);
    TT_ASSERT(b.side[0].n >= 20 && b.side[1].n >= 20);
    int64_t at[64];
    size_t n = cb_follow(&c, &b, "BTC-USD", 1000, 0, at, 64, NULL);
    TT_ASSERT(n >= 10);
    double span = (double)(at[(n < 64 ? n : 64) - 1] - at[0]) / (double)((n < 64 ? n : 64) - 1);
    if (span < 35 || span > 200) TT_FAIL("one l2update every %.0f ms, not 50", span);
    control("venue=coinbase&book_rate=0");
    cb_follow(&c, &b, "BTC-USD", 3000, 400, NULL, 0, NULL);
    json_t *fb = fakex_book("coinbase", "BTC-USD", 0);
    tb_assert_equal(&b, fb, "coinbase BTC-USD");
    json_decref(fb);
    /* unsubscribe, subscribe: a fresh snapshot, which is fakex's book */
    cb_subscribe(&c, "unsubscribe", "BTC-USD", &b);
    cb_subscribe(&c, "subscribe", "BTC-USD", &b);
    fb = fakex_book("coinbase", "BTC-USD", 0);
    tb_assert_equal(&b, fb, "coinbase BTC-USD, snapshot again");
    json_decref(fb);
    fxc_close(&c);
    json_t *k = book_counters("coinbase");
    TT_ASSERT_INT(counter(k, "subscribes"), 2);
    TT_ASSERT_INT(counter(k, "unsubscribes"), 1);
    TT_ASSERT_INT(counter(k, "snapshots"), 2);
    json_decref(k);
    tb_free(&b);
    fakex_stop_clean();
}

/* fakex's books never cross by themselves: thousands of random changes (inserts inside the spread among them), every
 * l2update checked (cb_follow asserts it), and fakex's own book at the end. A bid inserted two ticks above a best bid
 * one tick below the best ask once crossed the book now and then, which a daemon rightly took for a lost update. */
static void test_books_never_cross(void) {
    const char *args[] = {"--venue", "coinbase", "--symbols", "BTC-USD,ETH-USD", "--book-rate", "2000", NULL};
    fakex_start(args);
    struct fxc_conn c;
    struct tbook b = {0};
    ws_open(&c, "coinbase", "/");
    cb_subscribe(&c, "subscribe", "ETH-USD", &b);
    size_t n = cb_follow(&c, &b, "ETH-USD", 4000, 0, NULL, 0, NULL);
    TT_ASSERT(n >= 40);
    fxc_close(&c);
    json_t *fb = fakex_book("coinbase", "ETH-USD", 1);
    const char *bid = json_string_value(json_array_get(json_array_get(json_object_get(fb, "bids"), 0), 0));
    const char *ask = json_string_value(json_array_get(json_array_get(json_object_get(fb, "asks"), 0), 0));
    TT_ASSERT(bid && ask && strtod(bid, NULL) < strtod(ask, NULL));
    json_decref(fb);
    tb_free(&b);
    fakex_stop_clean();
}

/* ---- Kraken ---- */

/* The levels of "bids" or "asks" of a Kraken book message, read from its text: the JSON numbers exactly as sent,
 * each in its shortest form (no trailing zeros, no exponent). */
static void kraken_levels(const char *msg, const char *key, struct tbook *into, int side, size_t *count) {
    char k[16];
    snprintf(k, sizeof k, "\"%s\":[", key);
    const char *p = strstr(msg, k);
    if (!p) TT_FAIL("no %s in %.200s", key, msg);
    p += strlen(k);
    *count = 0;
    while (*p != ']') {
        if (*p == ',') p++;
        char num[2][40];
        for (int f = 0; f < 2; f++) {
            const char *tag = f ? ",\"qty\":" : "{\"price\":";
            if (strncmp(p, tag, strlen(tag)) != 0) TT_FAIL("not a level at %.60s", p);
            p += strlen(tag);
            size_t n = strspn(p, "0123456789.");
            if (!n || n >= sizeof num[f]) TT_FAIL("not a plain number at %.60s", p);
            memcpy(num[f], p, n);
            num[f][n] = 0;
            p += n;
            const char *dot = strchr(num[f], '.');
            if (dot && (num[f][n - 1] == '0' || num[f][n - 1] == '.'))
                TT_FAIL("%s is not in its shortest form", num[f]);
            if (num[f][0] == '0' && num[f][1] && num[f][1] != '.') TT_FAIL("%s has a leading zero", num[f]);
        }
        if (*p++ != '}') TT_FAIL("a level not closed");
        tb_set(into, side, num[0], num[1]);
        ++*count;
    }
}

struct kr_sym {
    const char *ws, *norm;
    int depth, pdp, qdp;
    struct tbook b;
    size_t updates, checksums_bad;
};

static uint32_t kr_message_checksum(const char *text) {
    const char *p = strstr(text, "\"checksum\":");
    if (!p) TT_FAIL("no checksum in %.200s", text);
    return (uint32_t)strtoul(p + 11, NULL, 10);
}

/* Applies one Kraken book message to its symbol's book (a snapshot replaces it) and checks its checksum; false
 * when the message is not a book message. */
static bool kr_take(const char *text, struct kr_sym *syms, size_t nsyms, bool expect_good) {
    json_t *m = json_loads(text, 0, NULL);
    const char *channel = json_string_value(json_object_get(m, "channel"));
    if (!channel || strcmp(channel, "book") != 0) {
        json_decref(m);
        return false;
    }
    const char *type = json_string_value(json_object_get(m, "type"));
    json_t *d = json_array_get(json_object_get(m, "data"), 0);
    const char *symbol = json_string_value(json_object_get(d, "symbol"));
    struct kr_sym *s = NULL;
    for (size_t i = 0; i < nsyms; i++)
        if (symbol && !strcmp(syms[i].ws, symbol)) s = &syms[i];
    if (!s) TT_FAIL("a book message of %s", symbol ? symbol : "no symbol");
    TT_ASSERT(json_is_integer(json_object_get(d, "checksum")));
    TT_ASSERT(json_is_string(json_object_get(d, "timestamp")));
    bool snapshot = !strcmp(type, "snapshot");
    if (snapshot) tb_free(&s->b);
    else TT_ASSERT_STR(type, "update");
    size_t nb, na;
    struct tbook upd = {0}; /* an update's levels are read here for their form; they are applied below in order */
    kraken_levels(text, "bids", snapshot ? &s->b : &upd, 0, &nb);
    kraken_levels(text, "asks", snapshot ? &s->b : &upd, 1, &na);
    if (snapshot) {
        TT_ASSERT_INT(nb, s->depth); /* the book is deeper than any depth tested */
        TT_ASSERT_INT(na, s->depth);
    } else {
        TT_ASSERT(nb + na > 0);
        /* in the message's order: its removals come first (fakex sends them so), then the levels to set */
        const char *p;
        for (int side = 0; side < 2; side++) {
            p = strstr(text, side ? "\"asks\":[" : "\"bids\":[");
            p += 8;
            while (*p != ']') {
                if (*p == ',') p++;
                char px[40], qty[40];
                const char *q = p + 9; /* {"price": */
                size_t n = strspn(q, "0123456789.");
                snprintf(px, sizeof px, "%.*s", (int)n, q);
                q += n + 7; /* ,"qty": */
                n = strspn(q, "0123456789.");
                snprintf(qty, sizeof qty, "%.*s", (int)n, q);
                tb_set(&s->b, side, px, qty);
                p = q + n + 1;
            }
        }
        tb_truncate(&s->b, (size_t)s->depth);
        s->updates++;
    }
    tb_free(&upd);
    uint32_t mine = kraken_checksum(&s->b, s->pdp, s->qdp), theirs = kr_message_checksum(text);
    if (mine != theirs) {
        s->checksums_bad++;
        if (expect_good) TT_FAIL("%s %s: checksum %u, computed here %u", symbol, type, theirs, mine);
    }
    if (snapshot) shape_if_known("kraken/doc-ws-v2-book-snapshot.json", m);
    else if (s->updates == 1) shape_if_known("kraken/doc-ws-v2-book-update.json", m);
    json_decref(m);
    return true;
}

/* Follows Kraken's messages for ms (or until quiet_ms pass without a book message, when quiet_ms > 0). */
static void kr_follow(struct fxc_conn *c, struct kr_sym *syms, size_t nsyms, int ms, int quiet_ms, bool expect_good) {
    int64_t end = fxc_now_ms() + ms;
    while (fxc_now_ms() < end) {
        char *t = ws_next_text(c, quiet_ms > 0 ? quiet_ms : (int)(end - fxc_now_ms()) + 1);
        if (!t) {
            if (quiet_ms > 0) return;
            continue;
        }
        kr_take(t, syms, nsyms, expect_good);
        free(t);
    }
}

/* Subscribes (or unsubscribes) s's book and checks the ack; the book messages that come meanwhile go to their
 * books (syms). */
static void kr_subscribe(struct fxc_conn *c, const char *method, struct kr_sym *s, int req_id, struct kr_sym *syms,
                         size_t nsyms) {
    char msg[256];
    snprintf(msg, sizeof msg,
             "{\"method\":\"%s\",\"params\":{\"channel\":\"book\",\"symbol\":[\"%s\"],\"depth\":%d},\"req_id\":%d}",
             method, s->ws, s->depth, req_id);
    fxc_ws_text(c, msg);
    json_t *a = NULL;
    for (int64_t end = fxc_now_ms() + 5000; !a && fxc_now_ms() < end;) {
        char *t = ws_next_text(c, 200);
        if (!t) continue;
        json_t *m = json_loads(t, 0, NULL);
        const char *got = json_string_value(json_object_get(m, "method"));
        if (got && !strcmp(got, method)) a = m;
        else {
            json_decref(m);
            kr_take(t, syms, nsyms, true);
        }
        free(t);
    }
    if (!a) TT_FAIL("no %s ack within 5 s", method);
    TT_ASSERT(json_is_true(json_object_get(a, "success")));
    TT_ASSERT_INT(json_integer_value(json_object_get(a, "req_id")), req_id);
    json_t *r = json_object_get(a, "result");
    TT_ASSERT_STR(json_string_value(json_object_get(r, "channel")), "book");
    TT_ASSERT_STR(json_string_value(json_object_get(r, "symbol")), s->ws);
    TT_ASSERT_INT(json_integer_value(json_object_get(r, "depth")), s->depth);
    if (method[0] == 's') TT_ASSERT(json_is_true(json_object_get(r, "snapshot")));
    json_decref(a);
}

/* Reads the pair's precisions from AssetPairs, as a client does for the checksum. */
static void kr_precisions(json_t *pairs, const char *key, struct kr_sym *s) {
    json_t *p = json_object_get(json_object_get(pairs, "result"), key);
    if (!p) TT_FAIL("AssetPairs: no %s", key);
    s->pdp = (int)json_integer_value(json_object_get(p, "pair_decimals"));
    s->qdp = (int)json_integer_value(json_object_get(p, "lot_decimals"));
}

static void test_kraken_book(void) {
    const char *args[] = {"--venue", "kraken", "--symbols", "BTC-USD,ADA-USD,ETH-USD", "--book-rate", "100", NULL};
    fakex_start(args);
    json_t *pairs = get("kraken", "/0/public/AssetPairs?pair=XBTUSD,ADAUSD", 200, NULL);
    TT_ASSERT_INT(json_array_size(json_object_get(pairs, "error")), 0);
    TT_ASSERT_INT(json_object_size(json_object_get(pairs, "result")), 2);
    json_t *xbt = json_object_get(json_object_get(pairs, "result"), "XXBTZUSD");
    static const char *const entry[] = {"result", "XXBTZUSD"};
    shape_of_known("kraken/doc-rest-AssetPairs.json", entry, xbt);
    TT_ASSERT_STR(json_string_value(json_object_get(xbt, "altname")), "XBTUSD");
    TT_ASSERT_STR(json_string_value(json_object_get(xbt, "wsname")), "XBT/USD");
    TT_ASSERT_STR(json_string_value(json_object_get(xbt, "tick_size")), "0.1");
    struct kr_sym syms[2] = {{.ws = "BTC/USD", .norm = "BTC-USD", .depth = 10},
                             {.ws = "ADA/USD", .norm = "ADA-USD", .depth = 25}};
    kr_precisions(pairs, "XXBTZUSD", &syms[0]);
    kr_precisions(pairs, "ADAUSD", &syms[1]);
    TT_ASSERT_INT(syms[0].pdp, 1); /* BTC/USD: 1 and 8, as Kraken's */
    TT_ASSERT_INT(syms[0].qdp, 8);
    TT_ASSERT(syms[1].qdp != 8); /* another lot precision, so the checksums meet more than one */
    json_decref(pairs);
    pairs = get("kraken", "/0/public/AssetPairs", 200, NULL);
    TT_ASSERT_INT(json_object_size(json_object_get(pairs, "result")), 3);
    json_decref(pairs);
    pairs = get("kraken", "/0/public/AssetPairs?pair=NOPE", 200, NULL);
    TT_ASSERT_STR(json_string_value(json_array_get(json_object_get(pairs, "error"), 0)), "EQuery:Unknown asset pair");
    json_decref(pairs);

    struct fxc_conn c;
    ws_open(&c, "kraken", "/v2");
    kr_subscribe(&c, "subscribe", &syms[0], 1, syms, 2);
    kr_subscribe(&c, "subscribe", &syms[1], 2, syms, 2);
    kr_follow(&c, syms, 2, 2000, 0, true); /* both snapshots, then updates, every checksum right */
    for (int i = 0; i < 2; i++) {
        if (syms[i].updates < 10) TT_FAIL("%s: %zu updates in 2 s", syms[i].ws, syms[i].updates);
        TT_ASSERT_INT(syms[i].checksums_bad, 0);
    }
    control("venue=kraken&book_rate=0");
    kr_follow(&c, syms, 2, 3000, 400, true);
    for (int i = 0; i < 2; i++) {
        json_t *fb = fakex_book("kraken", syms[i].norm, syms[i].depth);
        tb_assert_equal(&syms[i].b, fb, syms[i].ws);
        json_decref(fb);
    }
    /* unsubscribe, subscribe: a fresh snapshot, fakex's book to the depth */
    kr_subscribe(&c, "unsubscribe", &syms[0], 3, syms, 2);
    tb_free(&syms[0].b);
    kr_subscribe(&c, "subscribe", &syms[0], 4, syms, 2);
    kr_follow(&c, syms, 2, 3000, 400, true);
    json_t *fb = fakex_book("kraken", "BTC-USD", 10);
    tb_assert_equal(&syms[0].b, fb, "BTC/USD, snapshot again");
    json_decref(fb);
    fxc_close(&c);
    json_t *k = book_counters("kraken");
    TT_ASSERT_INT(counter(k, "subscribes"), 3);
    TT_ASSERT_INT(counter(k, "unsubscribes"), 1);
    TT_ASSERT_INT(counter(k, "snapshots"), 3);
    json_decref(k);
    for (int i = 0; i < 2; i++) tb_free(&syms[i].b);
    fakex_stop_clean();
}

/* ---- OKX ---- */

struct okx_state {
    struct tbook b;
    long long seq;
    size_t updates, gaps, bad;
};

/* Applies one books message (a snapshot replaces the book): prevSeqId chained, checksum recomputed. Returns
 * false for other messages. */
static bool okx_take(json_t *m, struct okx_state *st, bool strict) {
    json_t *arg = json_object_get(m, "arg");
    const char *action = json_string_value(json_object_get(m, "action"));
    if (!action || strcmp(json_string_value(json_object_get(arg, "channel")), "books") != 0) return false;
    json_t *d = json_array_get(json_object_get(m, "data"), 0);
    long long prev = json_integer_value(json_object_get(d, "prevSeqId"));
    long long seq = json_integer_value(json_object_get(d, "seqId"));
    const char *ts = json_string_value(json_object_get(d, "ts"));
    TT_ASSERT(ts && strlen(ts) == 13);
    if (!strcmp(action, "snapshot")) {
        TT_ASSERT_INT(prev, -1);
        tb_free(&st->b);
        TT_ASSERT(json_array_size(json_object_get(d, "asks")) <= 400);
        shape_if_known("okx/doc-ws-books-snapshot.json", m);
    } else {
        TT_ASSERT_STR(action, "update");
        if (prev != st->seq) {
            st->gaps++;
            if (strict) TT_FAIL("prevSeqId %lld after seqId %lld", prev, st->seq);
        }
        TT_ASSERT(seq > prev);
        st->updates++;
        if (st->updates == 1) shape_if_known("okx/doc-ws-books-update.json", m);
    }
    for (int side = 0; side < 2; side++) {
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(d, side ? "asks" : "bids"), i, l) {
            TT_ASSERT_INT(json_array_size(l), 4);
            TT_ASSERT_STR(json_string_value(json_array_get(l, 2)), "0");
            TT_ASSERT(json_is_string(json_array_get(l, 3)));
        }
        tb_load(&st->b, side, json_object_get(d, side ? "asks" : "bids"));
    }
    st->seq = seq;
    long long theirs = (long long)json_integer_value(json_object_get(d, "checksum"));
    if ((int32_t)theirs != okx_checksum(&st->b)) {
        st->bad++;
        if (strict) TT_FAIL("checksum %lld, computed here %d", theirs, okx_checksum(&st->b));
    }
    return true;
}

static void okx_follow(struct fxc_conn *c, struct okx_state *st, int ms, int quiet_ms, bool strict) {
    int64_t end = fxc_now_ms() + ms;
    while (fxc_now_ms() < end) {
        json_t *m = ws_next_json(c, quiet_ms > 0 ? quiet_ms : (int)(end - fxc_now_ms()) + 1);
        if (!m) {
            if (quiet_ms > 0) return;
            continue;
        }
        okx_take(m, st, strict);
        json_decref(m);
    }
}

static void okx_op(struct fxc_conn *c, const char *op, const char *inst) {
    char msg[256];
    snprintf(msg, sizeof msg, "{\"op\":\"%s\",\"args\":[{\"channel\":\"books\",\"instId\":\"%s\"}]}", op, inst);
    fxc_ws_text(c, msg);
    json_t *a = ws_until(c, "event", op);
    TT_ASSERT_STR(json_string_value(json_object_get(json_object_get(a, "arg"), "channel")), "books");
    json_decref(a);
}

static void test_okx_book(void) {
    const char *args[] = {"--venue", "okx", "--symbols", "BTC-USDT,ETH-USDT", "--book-rate", "50", NULL};
    fakex_start(args);
    struct fxc_conn c;
    struct okx_state st = {0};
    ws_open(&c, "okx", "/ws/v5/public");
    okx_op(&c, "subscribe", "BTC-USDT");
    json_t *m = ws_until(&c, "action", "snapshot");
    TT_ASSERT(okx_take(m, &st, true));
    json_decref(m);
    okx_follow(&c, &st, 1500, 0, true);
    TT_ASSERT(st.updates >= 8);
    control("venue=okx&book_rate=0");
    okx_follow(&c, &st, 3000, 400, true);
    json_t *fb = fakex_book("okx", "BTC-USDT", 0);
    tb_assert_equal(&st.b, fb, "okx BTC-USDT");
    TT_ASSERT_INT(json_integer_value(json_object_get(fb, "seq")), st.seq);
    json_decref(fb);
    okx_op(&c, "unsubscribe", "BTC-USDT");
    okx_op(&c, "subscribe", "BTC-USDT");
    m = ws_until(&c, "action", "snapshot");
    TT_ASSERT(okx_take(m, &st, true));
    json_decref(m);
    fb = fakex_book("okx", "BTC-USDT", 0);
    tb_assert_equal(&st.b, fb, "okx BTC-USDT, snapshot again");
    TT_ASSERT_INT(json_integer_value(json_object_get(fb, "seq")), st.seq);
    json_decref(fb);
    fxc_close(&c);
    json_t *k = book_counters("okx");
    TT_ASSERT_INT(counter(k, "subscribes"), 2);
    TT_ASSERT_INT(counter(k, "unsubscribes"), 1);
    json_decref(k);
    tb_free(&st.b);
    fakex_stop_clean();
}

/* OKX's REST book (GET /api/v5/market/books): the channel's levels, the seqId of the book's last change, sz
 * levels a side (1 by default, 400 at most); book_no_snapshot makes the subscribe bring updates only,
 * book_rest_no_seq drops the seqId, snapshot_status answers 429 with OKX's code. */
static void test_okx_book_rest(void) {
    const char *args[] = {"--venue", "okx", "--symbols", "BTC-USDT,ETH-USDT", "--book-rate", "50", NULL};
    fakex_start(args);
    control("venue=okx&book_no_snapshot=1");
    struct fxc_conn c;
    ws_open(&c, "okx", "/ws/v5/public");
    okx_op(&c, "subscribe", "BTC-USDT");
    json_t *m = ws_next_json(&c, 2000);
    TT_ASSERT(m != NULL);
    TT_ASSERT_STR(json_string_value(json_object_get(m, "action")), "update"); /* no snapshot first */
    struct okx_state st = {0};
    okx_take(m, &st, false);
    json_decref(m);
    control("venue=okx&book_rate=0");
    okx_follow(&c, &st, 3000, 400, false);
    TT_ASSERT_INT(st.gaps, 1); /* the first update only: it follows nothing seen here */
    json_t *j = get("okx", "/api/v5/market/books?instId=BTC-USDT&sz=400", 200, NULL);
    TT_ASSERT_STR(json_string_value(json_object_get(j, "code")), "0");
    json_t *d = json_array_get(json_object_get(j, "data"), 0);
    TT_ASSERT_INT(json_array_size(json_object_get(j, "data")), 1);
    TT_ASSERT(json_is_integer(json_object_get(d, "seqId")));
    const char *ts = json_string_value(json_object_get(d, "ts"));
    TT_ASSERT(ts && strlen(ts) == 13);
    shape_if_known("okx/doc-rest-books.json", j);
    json_t *fb = fakex_book("okx", "BTC-USDT", 400);
    TT_ASSERT_INT(json_integer_value(json_object_get(d, "seqId")), json_integer_value(json_object_get(fb, "seq")));
    TT_ASSERT_INT(json_integer_value(json_object_get(d, "seqId")), st.seq); /* the last update's */
    for (int side = 0; side < 2; side++) {
        json_t *rest = json_object_get(d, side ? "asks" : "bids"), *held = json_object_get(fb, side ? "asks" : "bids");
        TT_ASSERT(json_array_size(rest) > 0);
        TT_ASSERT_INT(json_array_size(rest), json_array_size(held));
        for (size_t i = 0; i < json_array_size(rest); i++) {
            json_t *l = json_array_get(rest, i), *h = json_array_get(held, i);
            TT_ASSERT_INT(json_array_size(l), 4);
            TT_ASSERT_STR(json_string_value(json_array_get(l, 0)), json_string_value(json_array_get(h, 0)));
            TT_ASSERT_STR(json_string_value(json_array_get(l, 1)), json_string_value(json_array_get(h, 1)));
            TT_ASSERT_STR(json_string_value(json_array_get(l, 2)), "0");
        }
    }
    json_decref(fb);
    json_decref(j);
    j = get("okx", "/api/v5/market/books?instId=ETH-USDT", 200, NULL); /* sz 1 by default */
    d = json_array_get(json_object_get(j, "data"), 0);
    TT_ASSERT_INT(json_array_size(json_object_get(d, "bids")), 1);
    TT_ASSERT_INT(json_array_size(json_object_get(d, "asks")), 1);
    json_decref(j);
    control("venue=okx&book_rest_no_seq=1");
    j = get("okx", "/api/v5/market/books?instId=BTC-USDT&sz=5", 200, NULL);
    d = json_array_get(json_object_get(j, "data"), 0);
    TT_ASSERT(json_object_get(d, "seqId") == NULL);
    TT_ASSERT_INT(json_array_size(json_object_get(d, "bids")), 5);
    json_decref(j);
    j = get("okx", "/api/v5/market/books?instId=NOPE-USDT", 200, NULL);
    TT_ASSERT_STR(json_string_value(json_object_get(j, "code")), "51001");
    json_decref(j);
    control("venue=okx&snapshot_status=429");
    struct fxc_http h;
    char retry[32];
    j = get("okx", "/api/v5/market/books?instId=BTC-USDT", 429, &h);
    TT_ASSERT_STR(json_string_value(json_object_get(j, "code")), "50011");
    TT_ASSERT(fxc_header(&h, "Retry-After", retry, sizeof retry) && atoi(retry) >= 1);
    free(h.body);
    json_decref(j);
    json_t *k = book_counters("okx");
    TT_ASSERT_INT(counter(k, "depth_requests"), 5);
    TT_ASSERT_INT(counter(k, "depth_refused"), 1);
    TT_ASSERT_INT(counter(k, "snapshots"), 0);
    json_decref(k);
    fxc_close(&c);
    tb_free(&st.b);
    fakex_stop_clean();
}

/* ---- faults ---- */

/* book_drop, book_dup, book_reorder on Binance's ids, for one symbol: the other stays whole. */
static void test_book_drop_dup_reorder(void) {
    const char *args[] = {"--venue", "binance,okx", "--symbols", "BTC-USDT,ETH-USDT", "--book-rate", "50", NULL};
    fakex_start(args);
    struct fxc_conn c;
    ws_open(&c, "binance", "/stream?streams=btcusdt@depth@100ms/ethusdt@depth@100ms");
    static const char *const faults[] = {"book_drop", "book_dup", "book_reorder"};
    for (int f = 0; f < 3; f++) {
        struct bn_events e = {0};
        bn_collect(&c, &e, "BTCUSDT", 300, 0);
        char q[128];
        snprintf(q, sizeof q, "venue=binance&%s=1&symbol=BTC-USDT", faults[f]);
        control(q);
        bn_collect(&c, &e, "BTCUSDT", 900, 0);
        size_t odd = 0, at = 0;
        for (size_t i = 1; i < e.n; i++)
            if (e.ev[i].U != e.ev[i - 1].u + 1) odd++, at = at ? at : i;
        if (f == 0) { /* one gap: ids skipped, then the feed goes on */
            TT_ASSERT_INT(odd, 1);
            TT_ASSERT(e.ev[at].U > e.ev[at - 1].u + 1);
        } else if (f == 1) { /* one repeat: the same U and u twice in a row */
            TT_ASSERT_INT(odd, 1);
            TT_ASSERT(e.ev[at].U == e.ev[at - 1].U && e.ev[at].u == e.ev[at - 1].u);
        } else { /* one swap: k+1 comes before k, then k+2 follows k+1 (three places where U is not u + 1) */
            TT_ASSERT_INT(odd, 3);
            TT_ASSERT(at + 2 < e.n);
            TT_ASSERT(e.ev[at].U > e.ev[at - 1].u + 1);
            TT_ASSERT(e.ev[at + 1].U == e.ev[at - 1].u + 1 && e.ev[at + 1].u + 1 == e.ev[at].U);
            TT_ASSERT(e.ev[at + 2].U == e.ev[at].u + 1);
        }
        bn_free(&e);
    }
    /* ETHUSDT on the same connection: never touched */
    struct bn_events e = {0};
    control("venue=binance&book_drop=1&symbol=BTC-USDT");
    bn_collect(&c, &e, "ETHUSDT", 800, 0);
    TT_ASSERT(e.n >= 4);
    for (size_t i = 1; i < e.n; i++) TT_ASSERT(e.ev[i].U == e.ev[i - 1].u + 1);
    bn_free(&e);
    fxc_close(&c);
    json_t *k = book_counters("binance");
    TT_ASSERT_INT(counter(k, "faults"), 4);
    json_decref(k);

    /* OKX: the dropped message shows as a prevSeqId that is not the last seqId */
    struct okx_state st = {0};
    ws_open(&c, "okx", "/ws/v5/public");
    okx_op(&c, "subscribe", "BTC-USDT");
    okx_follow(&c, &st, 400, 0, true);
    control("venue=okx&book_drop=1");
    okx_follow(&c, &st, 800, 0, false);
    TT_ASSERT_INT(st.gaps, 1);
    tb_free(&st.b);
    fxc_close(&c);
    fakex_stop_clean();
}

/* book_bad_checksum: exactly one message with a wrong checksum (Kraken, OKX); the levels stay right. */
static void test_book_bad_checksum(void) {
    const char *args[] = {"--venue", "kraken,okx", "--symbols", "BTC-USD,ETH-USDT", "--book-rate", "100", NULL};
    fakex_start(args);
    struct fxc_conn c;
    struct kr_sym s = {.ws = "BTC/USD", .norm = "BTC-USD", .depth = 10, .pdp = 1, .qdp = 8};
    ws_open(&c, "kraken", "/v2");
    kr_subscribe(&c, "subscribe", &s, 1, &s, 1);
    kr_follow(&c, &s, 1, 500, 0, true);
    control("venue=kraken&book_bad_checksum=1&symbol=BTC-USD");
    kr_follow(&c, &s, 1, 1000, 0, false);
    TT_ASSERT_INT(s.checksums_bad, 1);
    control("venue=kraken&book_rate=0");
    kr_follow(&c, &s, 1, 3000, 400, true);
    json_t *fb = fakex_book("kraken", "BTC-USD", 10);
    tb_assert_equal(&s.b, fb, "kraken after a bad checksum");
    json_decref(fb);
    tb_free(&s.b);
    fxc_close(&c);

    struct okx_state st = {0};
    ws_open(&c, "okx", "/ws/v5/public");
    okx_op(&c, "subscribe", "ETH-USDT");
    okx_follow(&c, &st, 400, 0, true);
    control("venue=okx&book_bad_checksum=1");
    okx_follow(&c, &st, 800, 0, false);
    TT_ASSERT_INT(st.bad, 1);
    TT_ASSERT_INT(st.gaps, 0);
    tb_free(&st.b);
    fxc_close(&c);
    fakex_stop_clean();
}

/* book_stale_snapshot: the snapshot answered is older than the diffs already streamed, once. */
static void test_book_stale_snapshot(void) {
    const char *args[] = {"--venue", "binance", "--symbols", "BTC-USDT", "--book-rate", "50", NULL};
    fakex_start(args);
    json_decref(get("binance", "/api/v3/depth?symbol=BTCUSDT&limit=10", 200, NULL)); /* the book exists */
    control("venue=binance&book_stale_snapshot=1&symbol=BTC-USDT");
    sleep_ms(300);
    struct fxc_conn c;
    ws_open(&c, "binance", "/stream?streams=btcusdt@depth@100ms");
    struct bn_events e = {0};
    bn_collect(&c, &e, "BTCUSDT", 400, 0);
    TT_ASSERT(e.n >= 2);
    json_t *stale = get("binance", "/api/v3/depth?symbol=BTCUSDT&limit=1000", 200, NULL);
    unsigned long long l1 = (unsigned long long)json_integer_value(json_object_get(stale, "lastUpdateId"));
    if (!(l1 + 1 < e.ev[0].U))
        TT_FAIL("lastUpdateId %llu is not behind the first diff streamed (U %llu)", l1, e.ev[0].U);
    json_t *fresh = get("binance", "/api/v3/depth?symbol=BTCUSDT&limit=1000", 200, NULL);
    unsigned long long l2 = (unsigned long long)json_integer_value(json_object_get(fresh, "lastUpdateId"));
    TT_ASSERT(l2 >= e.ev[e.n - 1].u); /* the next one is the book as it is */
    json_decref(stale);
    json_decref(fresh);
    bn_free(&e);
    fxc_close(&c);
    fakex_stop_clean();
}

/* book_cross: a message puts a bid at the best ask; a later one takes it out; fakex's book ends uncrossed. */
static void test_book_cross(void) {
    const char *args[] = {"--venue", "coinbase,kraken", "--symbols", "BTC-USD", "--book-rate", "50", NULL};
    fakex_start(args);
    struct fxc_conn c;
    struct tbook b = {0};
    ws_open(&c, "coinbase", "/");
    cb_subscribe(&c, "subscribe", "BTC-USD", &b);
    cb_follow(&c, &b, "BTC-USD", 300, 0, NULL, 0, NULL);
    TT_ASSERT(!tb_crossed(&b));
    control("venue=coinbase&book_cross=1&symbol=BTC-USD");
    bool crossed = false;
    cb_follow(&c, &b, "BTC-USD", 800, 0, NULL, 0, &crossed);
    TT_ASSERT(crossed);
    TT_ASSERT(!tb_crossed(&b)); /* repaired */
    control("venue=coinbase&book_rate=0");
    cb_follow(&c, &b, "BTC-USD", 3000, 400, NULL, 0, &crossed);
    json_t *fb = fakex_book("coinbase", "BTC-USD", 0);
    tb_assert_equal(&b, fb, "coinbase after the cross");
    json_decref(fb);
    tb_free(&b);
    fxc_close(&c);

    /* Kraken: the crossed book's checksums hold (the book sent is crossed, consistently) */
    struct kr_sym s = {.ws = "BTC/USD", .norm = "BTC-USD", .depth = 10, .pdp = 1, .qdp = 8};
    ws_open(&c, "kraken", "/v2");
    kr_subscribe(&c, "subscribe", &s, 1, &s, 1);
    kr_follow(&c, &s, 1, 300, 0, true);
    control("venue=kraken&book_cross=1");
    crossed = false;
    for (int64_t end = fxc_now_ms() + 1000; fxc_now_ms() < end;) {
        char *t = ws_next_text(&c, 200);
        if (!t) continue;
        kr_take(t, &s, 1, true);
        free(t);
        crossed = crossed || tb_crossed(&s.b);
    }
    TT_ASSERT(crossed);
    TT_ASSERT(!tb_crossed(&s.b));
    tb_free(&s.b);
    fxc_close(&c);
    fakex_stop_clean();
}

/* While a symbol has a book, its quote is the book's top. */
static void test_book_top_is_quote(void) {
    const char *args[] = {"--venue", "binance", "--symbols", "BTC-USDT", "--rate", "100", "--book-rate", "50", NULL};
    fakex_start(args);
    json_decref(get("binance", "/api/v3/depth?symbol=BTCUSDT&limit=5", 200, NULL)); /* the book exists */
    sleep_ms(300);
    control("venue=binance&book_rate=0");
    sleep_ms(300);
    json_t *fb = fakex_book("binance", "BTC-USDT", 1);
    struct fxc_conn c;
    ws_open(&c, "binance", "/ws/btcusdt@bookTicker");
    json_t *q = ws_until(&c, "s", "BTCUSDT");
    json_t *bid = json_array_get(json_object_get(fb, "bids"), 0), *ask = json_array_get(json_object_get(fb, "asks"), 0);
    TT_ASSERT_STR(json_string_value(json_object_get(q, "b")), json_string_value(json_array_get(bid, 0)));
    TT_ASSERT_STR(json_string_value(json_object_get(q, "B")), json_string_value(json_array_get(bid, 1)));
    TT_ASSERT_STR(json_string_value(json_object_get(q, "a")), json_string_value(json_array_get(ask, 0)));
    TT_ASSERT_STR(json_string_value(json_object_get(q, "A")), json_string_value(json_array_get(ask, 1)));
    json_decref(q);
    json_decref(fb);
    fxc_close(&c);
    fakex_stop_clean();
}

/* ---- load ---- */

static long long proc_cpu_ticks(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    long long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime, &stime) != 2) return -1;
    return utime + stime;
}

/* 200 symbols at book_rate 1000 on one connection: what fakex sends a second and the CPU it takes (printed). */
static void test_book_load_rate_printed(void) {
    const char *args[] = {"--venue", "binance", "--symbols-count", "200", "--rate", "10", "--book-rate", "1000",
                          "--log-level", "warn", NULL};
    fakex_start(args);
    static char path[16384];
    snprintf(path, sizeof path, "/stream?streams=");
    json_t *all = get("binance", "/api/v3/ticker/price", 200, NULL);
    size_t i;
    json_t *t;
    json_array_foreach(all, i, t) {
        char name[64];
        snprintf(name, sizeof name, "%s%s@depth@100ms", i ? "/" : "", json_string_value(json_object_get(t, "symbol")));
        for (char *s = name; *s && *s != '@'; s++) *s = (char)tolower((unsigned char)*s);
        strcat(path, name);
    }
    json_decref(all);
    struct fxc_conn c;
    ws_open(&c, "binance", path);
    long long frames = 0, levels = 0, cpu0 = -1;
    int64_t start = 0, warm = fxc_now_ms() + 500, end = warm + 2000;
    json_t *k0 = NULL;
    while (fxc_now_ms() < end) {
        if (!start && fxc_now_ms() >= warm) {
            start = fxc_now_ms();
            cpu0 = proc_cpu_ticks(fx.pid);
            k0 = book_counters("binance");
            frames = levels = 0;
        }
        if (fxc_fill(&c, 50) < 0) break;
        int op;
        size_t hdr, plen, off = 0;
        while (fxc_ws_peek((uint8_t *)c.buf + off, c.len - off, &op, &hdr, &plen)) {
            const char *p = c.buf + off + hdr, *e = p + plen;
            for (const char *q = p; (q = memchr(q, ']', (size_t)(e - q))) != NULL; q++) levels += q[-1] == '"';
            off += hdr + plen;
            frames++;
        }
        fxc_consume(&c, off);
    }
    double secs = (double)(fxc_now_ms() - start) / 1000.0;
    long long cpu1 = proc_cpu_ticks(fx.pid);
    json_t *k1 = book_counters("binance");
    double changes = (double)(counter(k1, "changes") - counter(k0, "changes")) / secs;
    double cpu = cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) / secs * 100 : -1;
    fprintf(stderr,
            "    fakex books: %.0f level changes/s made, %.0f levels/s in %.0f depthUpdates/s to one client (200 "
            "symbols, book_rate 1000), fakex at %.0f%% of a core, behind %lld\n",
            changes, (double)levels / secs, (double)frames / secs, cpu, counter(k1, "behind"));
    json_decref(k0);
    json_decref(k1);
    fxc_close(&c);
    TT_ASSERT(frames > 0);
    fakex_stop_clean();
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    TT_RUN(test_documented_checksums);
    TT_RUN(test_binance_book);
    TT_RUN(test_binance_book_streams);
    TT_RUN(test_binance_depth_rest);
    TT_RUN(test_coinbase_book);
    TT_RUN(test_books_never_cross);
    TT_RUN(test_kraken_book);
    TT_RUN(test_okx_book);
    TT_RUN(test_okx_book_rest);
    TT_RUN(test_book_drop_dup_reorder);
    TT_RUN(test_book_bad_checksum);
    TT_RUN(test_book_stale_snapshot);
    TT_RUN(test_book_cross);
    TT_RUN(test_book_top_is_quote);
    TT_RUN(test_book_load_rate_printed);
    if (fx.pid > 0) fxc_stop(&fx);
    return tt_finish();
}
