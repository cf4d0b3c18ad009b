/* fx_market.c -- the symbols fakex trades and the random walk of their quotes.
 *
 * Every value is an integer count of 1e-8 units, so each venue can print it with its own decimal rules without
 * a double ever touching a price. Each venue owns its own copy of the symbols and walks it with its own seeded
 * generator: the same --seed gives the same prices, and a venue's sequence numbers grow on their own. While a
 * symbol has a book (fx_book.c), its quote steps take the book's top instead of walking. Kraken's pairs live on
 * the grid of their pair_decimals and lot_decimals (fx_symbols_venue). */
#include "fakex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UNIT 100000000LL

/* Well-known symbols first, so that --symbols-count 3 gives names a reader recognizes. */
static const struct {
    const char *norm;
    int64_t price;
    int dp;
} known[] = {
    {"BTC-USDT", 30000 * UNIT, 2}, {"ETH-USDT", 2000 * UNIT, 2}, {"BTC-USD", 30000 * UNIT, 2},
    {"ETH-USD", 2000 * UNIT, 2},   {"SOL-USDT", 20 * UNIT, 3},   {"XRP-USDT", UNIT / 2, 5},
    {"DOGE-USDT", UNIT / 10, 6},   {"ETH-BTC", UNIT / 15, 6},
};

/* Kraken spells BTC "XBT" and DOGE "XDG", and prefixes its oldest assets with X (crypto) or Z (fiat) in REST keys. */
static const char *kraken_asset(const char *a) {
    if (strcmp(a, "BTC") == 0) return "XBT";
    if (strcmp(a, "DOGE") == 0) return "XDG";
    return a;
}

static char kraken_class(const char *a) {
    static const char *const crypto[] = {"XBT", "ETH", "LTC", "XRP", "XLM", "ETC", "XMR", "ZEC", "MLN", "REP", "XDG"};
    static const char *const fiat[] = {"USD", "EUR", "GBP", "JPY", "CAD"};
    for (size_t i = 0; i < sizeof crypto / sizeof *crypto; i++)
        if (strcmp(a, crypto[i]) == 0) return 'X';
    for (size_t i = 0; i < sizeof fiat / sizeof *fiat; i++)
        if (strcmp(a, fiat[i]) == 0) return 'Z';
    return 0;
}

static int symbol_names(struct fx_symbol *s, const char *norm) {
    const char *dash = strchr(norm, '-');
    if (!dash || dash == norm || !dash[1] || strlen(norm) >= sizeof s->norm) return -1;
    char base[16], quote[16];
    snprintf(base, sizeof base, "%.*s", (int)(dash - norm), norm);
    snprintf(quote, sizeof quote, "%s", dash + 1);
    memcpy(s->norm, norm, strlen(norm) + 1); /* length checked above */
    snprintf(s->binance, sizeof s->binance, "%s%s", base, quote);
    size_t i = 0;
    for (; s->binance[i]; i++) s->stream[i] = (char)tolower((unsigned char)s->binance[i]);
    snprintf(s->trade_stream, sizeof s->trade_stream, "%.*s@trade", (int)i, s->stream);
    snprintf(s->depth_stream, sizeof s->depth_stream, "%.*s@depth@100ms", (int)i, s->stream);
    snprintf(s->stream + i, sizeof s->stream - i, "@bookTicker");
    snprintf(s->kraken_ws, sizeof s->kraken_ws, "%s/%s", base, quote);
    const char *kb = kraken_asset(base), *kq = kraken_asset(quote);
    snprintf(s->kraken_alt, sizeof s->kraken_alt, "%s%s", kb, kq);
    snprintf(s->kraken_v1, sizeof s->kraken_v1, "%s/%s", kb, kq);
    char cb = kraken_class(kb), cq = kraken_class(kq);
    if (cb && cq) snprintf(s->kraken_rest, sizeof s->kraken_rest, "%c%s%c%s", cb, kb, cq, kq);
    else snprintf(s->kraken_rest, sizeof s->kraken_rest, "%s", s->kraken_alt);
    /* REST asset names: the legacy assets with their class letter (XXBT, ZUSD), the newer ones as they are */
    if (cb) snprintf(s->kraken_base, sizeof s->kraken_base, "%c%s", cb, kb);
    else snprintf(s->kraken_base, sizeof s->kraken_base, "%s", kb);
    if (cq) snprintf(s->kraken_quote, sizeof s->kraken_quote, "%c%s", cq, kq);
    else snprintf(s->kraken_quote, sizeof s->kraken_quote, "%s", kq);
    return 0;
}

/* s->trade into the ring: appended while the ring grows, over the oldest once it holds FX_TRADE_RING. */
static void ring_push(struct fx_symbol *s) {
    if (s->ring_len == s->ring_cap && s->ring_cap < FX_TRADE_RING) { /* not wrapped yet: ring_head is 0 */
        uint32_t cap = s->ring_cap ? s->ring_cap * 2 : 16;
        if (cap > FX_TRADE_RING) cap = FX_TRADE_RING;
        struct fx_trade *grown = realloc(s->ring, cap * sizeof *grown);
        if (!grown) {
            fputs("fakex: out of memory\n", stderr);
            abort();
        }
        s->ring = grown;
        s->ring_cap = cap;
    }
    if (s->ring_len < s->ring_cap) {
        s->ring[(s->ring_head + s->ring_len++) % s->ring_cap] = s->trade;
    } else {
        s->ring[s->ring_head] = s->trade;
        s->ring_head = (s->ring_head + 1) % s->ring_cap;
    }
}

const struct fx_trade *fx_trade_recent(const struct fx_symbol *s, size_t k) {
    if (k >= s->ring_len) return NULL;
    return &s->ring[(s->ring_head + s->ring_len - 1 - k) % s->ring_cap];
}

void fx_symbols_free(struct fx_symbol *syms, size_t n) {
    for (size_t i = 0; syms && i < n; i++) {
        free(syms[i].ring);
        fx_book_free(syms[i].book);
    }
    free(syms);
}

static void symbol_seed(struct fx_symbol *s, int64_t price, int dp, uint64_t *rng) {
    int64_t tick = 1;
    for (int i = dp; i < 8; i++) tick *= 10;
    s->dp = dp;
    s->qdp = 8;
    s->bid = price / tick * tick;
    s->ask = s->bid + tick;
    s->last = s->bid;
    s->open = s->high = s->low = s->bid;
    s->bid_qty = (int64_t)(1 + fx_rand(rng) % 100000) * 1000;
    s->ask_qty = (int64_t)(1 + fx_rand(rng) % 100000) * 1000;
    s->last_qty = 1000;
    s->volume = 1000 * UNIT;
    s->seq = 1000000 + fx_rand(rng) % 1000000;
    s->trade_id = 10000 + fx_rand(rng) % 10000;
    s->ts_us = clock_wall_us();
    /* the trade before the first one generated: what Coinbase's last_match names on subscribing */
    s->trade = (struct fx_trade){.id = s->trade_id, .seq = s->seq, .price = s->last, .qty = s->last_qty,
                                 .ts_us = s->ts_us, .buy = false};
    ring_push(s);
}

int fx_symbols_init(struct fx_symbol **out, size_t *n, const char *list, size_t count, uint64_t *rng) {
    size_t cap = count ? count : 1;
    if (list && *list) {
        cap = 1;
        for (const char *p = list; *p; p++) cap += *p == ',';
    }
    struct fx_symbol *syms = calloc(cap, sizeof *syms);
    if (!syms) return -1;
    size_t k = 0;
    const char *next = list;
    for (size_t i = 0; i < cap; i++) {
        char name[48];
        if (list && *list) {
            const char *start = next, *end = strchr(start, ',');
            next = end ? end + 1 : start + strlen(start);
            snprintf(name, sizeof name, "%.*s", (int)(end ? end - start : (long)strlen(start)), start);
        } else if (i < sizeof known / sizeof *known) {
            snprintf(name, sizeof name, "%s", known[i].norm);
        } else {
            snprintf(name, sizeof name, "S%05zu-USDT", i);
        }
        if (symbol_names(&syms[k], name) < 0) {
            fprintf(stderr, "fakex: bad symbol '%s' (want BASE-QUOTE)\n", name);
            fx_symbols_free(syms, k);
            return -1;
        }
        int64_t price = (int64_t)(fx_rand(rng) % (500 * UNIT)) + UNIT / 2;
        int dp = 4;
        for (size_t j = 0; j < sizeof known / sizeof *known; j++)
            if (strcmp(known[j].norm, name) == 0) price = known[j].price, dp = known[j].dp;
        symbol_seed(&syms[k], price, dp, rng);
        k++;
    }
    *out = syms;
    *n = k;
    return 0;
}

bool fx_symbol_name_ok(const char *norm) {
    const char *dash = strchr(norm, '-');
    if (!dash || dash == norm || !dash[1] || strchr(dash + 1, '-') ||
        strlen(norm) >= sizeof((struct fx_symbol *)0)->norm)
        return false;
    for (const char *p = norm; *p; p++)
        if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-')) return false;
    return true;
}

int fx_symbol_append(struct fx_symbol **syms, size_t *n, const char *norm, enum fx_venue_id id) {
    struct fx_symbol one;
    memset(&one, 0, sizeof one);
    if (!fx_symbol_name_ok(norm) || symbol_names(&one, norm) < 0) return -1;
    uint64_t rng = 1469598103934665603ULL; /* FNV-1a of the name: the same listing gets the same market */
    for (const char *p = norm; *p; p++) rng = (rng ^ (uint8_t)*p) * 1099511628211ULL;
    if (!rng) rng = 1;
    int64_t price = (int64_t)(fx_rand(&rng) % (500 * UNIT)) + UNIT / 2;
    int dp = 4;
    for (size_t j = 0; j < sizeof known / sizeof *known; j++)
        if (strcmp(known[j].norm, norm) == 0) price = known[j].price, dp = known[j].dp;
    symbol_seed(&one, price, dp, &rng);
    struct fx_symbol *grown = realloc(*syms, (*n + 1) * sizeof *grown);
    if (!grown) {
        free(one.ring);
        return -1;
    }
    grown[*n] = one;
    fx_symbols_venue(&grown[*n], 1, id);
    *syms = grown;
    (*n)++;
    return 0;
}

/* Kraken's precisions of its pairs (AssetPairs' pair_decimals and lot_decimals); a pair not listed keeps the
 * symbol's price decimals and gets one of a few lot precisions, so that checksums meet more than one. */
static void kraken_precision(const struct fx_symbol *s, int *dp, int *qdp) {
    static const struct {
        const char *norm;
        int dp, qdp;
    } pairs[] = {{"BTC-USD", 1, 8}, {"BTC-USDT", 1, 8}, {"ETH-USD", 2, 8},   {"ETH-USDT", 2, 8},
                 {"SOL-USDT", 2, 8}, {"XRP-USDT", 5, 8}, {"DOGE-USDT", 7, 8}, {"ETH-BTC", 5, 8}};
    static const int lots[] = {8, 5, 4, 6};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        if (strcmp(pairs[i].norm, s->norm) == 0) {
            *dp = pairs[i].dp;
            *qdp = pairs[i].qdp;
            return;
        }
    uint32_t h = 2166136261u; /* FNV-1a of the name */
    for (const char *p = s->norm; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    *dp = s->dp;
    *qdp = lots[h % (sizeof lots / sizeof *lots)];
}

static int64_t round_to(int64_t x, int64_t grid) { return x / grid * grid; }

void fx_symbols_venue(struct fx_symbol *syms, size_t n, enum fx_venue_id id) {
    for (size_t i = 0; i < n && id == FX_KRAKEN; i++) {
        struct fx_symbol *s = &syms[i];
        int dp, qdp;
        kraken_precision(s, &dp, &qdp);
        int64_t tick = 1, lot = 1;
        for (int k = dp; k < 8; k++) tick *= 10;
        for (int k = qdp; k < 8; k++) lot *= 10;
        s->dp = dp;
        s->qdp = qdp;
        s->bid = round_to(s->bid, tick) < tick ? tick : round_to(s->bid, tick);
        s->ask = round_to(s->ask + tick - 1, tick);
        if (s->ask <= s->bid) s->ask = s->bid + tick;
        s->last = s->open = s->high = s->low = s->bid;
        s->bid_qty = round_to(s->bid_qty, lot) ? round_to(s->bid_qty, lot) : lot;
        s->ask_qty = round_to(s->ask_qty, lot) ? round_to(s->ask_qty, lot) : lot;
        s->trade.price = s->last; /* the seeded trade, alone in the ring */
        if (s->ring_len) s->ring[0].price = s->last;
    }
}

void fx_symbol_step(struct fx_symbol *s, uint64_t *rng, int64_t now_us) {
    int64_t tick = 1;
    for (int i = s->dp; i < 8; i++) tick *= 10;
    uint64_t r = fx_rand(rng);
    int64_t bid, bid_qty, ask, ask_qty;
    if (s->book && fx_book_top(s->book, &bid, &bid_qty, &ask, &ask_qty)) { /* the quote is the book's top */
        s->bid = bid;
        s->ask = ask;
        s->bid_qty = bid_qty;
        s->ask_qty = ask_qty;
    } else if (!s->book) {
        s->bid += ((int64_t)(r % 5) - 2) * tick;
        if (s->bid < 10 * tick) s->bid = 10 * tick;
        s->ask = s->bid + (int64_t)(1 + (r >> 8) % 3) * tick;
        s->bid_qty = (int64_t)(1 + (r >> 16) % 100000) * 100000;
        s->ask_qty = (int64_t)(1 + (r >> 33) % 100000) * 100000;
    }
    if ((r >> 50) % 4 == 0) { /* a trade now and then moves last */
        s->last = (r >> 52) & 1 ? s->ask : s->bid;
        s->last_qty = (int64_t)(1 + (r >> 54) % 1000) * 100000;
        s->volume += s->last_qty; /* (trade ids belong to the trade feed: fx_trade_step) */
        if (s->last > s->high) s->high = s->last;
        if (s->last < s->low) s->low = s->last;
    }
    s->seq += 1 + (r >> 60) % 3; /* update ids grow with gaps, as Binance's do */
    s->ts_us = now_us > s->ts_us ? now_us : s->ts_us + 1;
    s->updates++;
}

void fx_trade_step(struct fx_symbol *s, uint64_t *rng, int64_t now_us) {
    uint64_t r = fx_rand(rng);
    bool buy = r & 1;
    s->trade_id += 1 + (uint64_t)(s->trade_gap > 0 ? s->trade_gap : 0);
    s->trade_gap = 0;
    s->trade = (struct fx_trade){
        .id = s->trade_id,
        .seq = s->seq,
        .price = buy ? s->ask : s->bid,
        .qty = (int64_t)(1 + (r >> 1) % 100000) * 1000, /* 0.00001 to 1 */
        .ts_us = now_us > s->trade.ts_us ? now_us : s->trade.ts_us + 1,
        .buy = buy,
    };
    s->trades++;
    ring_push(s);
}

long fx_symbol_find(const struct fx_symbol *syms, size_t n, size_t offset, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp((const char *)&syms[i] + offset, name) == 0) return (long)i;
    return -1;
}

long fx_symbol_find_ci(const struct fx_symbol *syms, size_t n, size_t offset, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcasecmp((const char *)&syms[i] + offset, name) == 0) return (long)i;
    return -1;
}
