/* Unit tests of symbol_select: the syntax of names and patterns, matching (against a reference matcher on every
 * short input), resolution order, exclusions, the cut at max, repeats, the closest names, and hostile sizes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tickd/symbol_select.h"
#include "tt.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_parse_names_and_patterns(void) {
    char out[SYMBOL_TEXT_MAX];
    const char *why = NULL;
    TT_ASSERT(symbol_parse("btc-usdt", out, sizeof out, &why) == SYMBOL_NAME);
    TT_ASSERT_STR(out, "BTC-USDT");
    TT_ASSERT(symbol_parse("1000SHIB-USDT", out, sizeof out, &why) == SYMBOL_NAME);
    static const struct {
        const char *in, *out;
    } pats[] = {{"*-usdt", "*-USDT"}, {"BTC-*", "BTC-*"}, {"*", "*"}, {"*usd*", "*USD*"}, {"b*-u*t", "B*-U*T"},
                {"*-*", "*-*"}, {"*BTC", "*BTC"}, {"ETH*", "ETH*"}, {"*a*b*c*", "*A*B*C*"}};
    for (size_t i = 0; i < N(pats); i++) {
        if (symbol_parse(pats[i].in, out, sizeof out, &why) != SYMBOL_PATTERN) TT_FAIL("refused \"%s\"", pats[i].in);
        TT_ASSERT_STR(out, pats[i].out);
    }
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"", "empty"},
        {"BTCUSDT", "no dash"},
        {"BTC--USDT", "more than one dash"},
        {"A-B-C", "more than one dash"},
        {"*-*-*", "more than one dash"},
        {"-USDT", "a dash first or last"},
        {"BTC-", "a dash first or last"},
        {"-*", "a dash first or last"},
        {"*-", "a dash first or last"},
        {"-", "a dash first or last"},
        {"**", "two '*' in a row"},
        {"**-USDT", "two '*' in a row"},
        {"BTC-U**", "two '*' in a row"},
        {"BTC/USDT", "a character other than a letter, a digit, '-' or '*'"},
        {"BTC USDT", "a character other than a letter, a digit, '-' or '*'"},
        {"BTC-US?T", "a character other than a letter, a digit, '-' or '*'"},
        {"BTC-[U]", "a character other than a letter, a digit, '-' or '*'"},
        {"BT\xc3\x89-USD", "a character other than a letter, a digit, '-' or '*'"},
        {"BTC-USD\n", "a character other than a letter, a digit, '-' or '*'"},
        {"AAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBB", "longer than 31 characters"}, /* 32 */
    };
    for (size_t i = 0; i < N(bad); i++) {
        why = NULL;
        if (symbol_parse(bad[i].in, out, sizeof out, &why) != SYMBOL_BAD) TT_FAIL("accepted \"%s\"", bad[i].in);
        TT_ASSERT_STR(why, bad[i].why);
    }
    TT_ASSERT(symbol_parse("AAAAAAAAAAAAAAAA-BBBBBBBBBBBBBB", out, sizeof out, NULL) == SYMBOL_NAME); /* 31 */
    TT_ASSERT(symbol_parse("*AAAAAAAAAAAAAAA-BBBBBBBBBBBBBB*", out, sizeof out, NULL) == SYMBOL_BAD);
    /* out too small is a refusal, never an overflow */
    char small[8];
    TT_ASSERT(symbol_parse("BTC-USDT", small, sizeof small, &why) == SYMBOL_BAD);
    TT_ASSERT(symbol_parse("BTC-USD", small, sizeof small, &why) == SYMBOL_NAME);
    TT_ASSERT(symbol_parse("A-B", small, 0, &why) == SYMBOL_BAD);

    TT_ASSERT(symbol_is_name("BTC-USDT") && symbol_is_name("A-B") && symbol_is_name("1INCH-USDT"));
    const char *not_names[] = {"btc-usdt", "BTC", "-A", "A-", "A-B-C", "", "*-USDT", "BTC-USD ", "BTC_USD",
                               "AAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBB"};
    for (size_t i = 0; i < N(not_names); i++)
        if (symbol_is_name(not_names[i])) TT_FAIL("\"%s\" taken for a name", not_names[i]);
    TT_ASSERT(symbol_is_name("AAAAAAAAAAAAAAAA-BBBBBBBBBBBBBB"));
}

static void test_match_cases(void) {
    static const struct {
        const char *p, *s;
        bool m;
    } cases[] = {
        {"*", "BTC-USDT", true},       {"*", "", true},                {"*-USDT", "BTC-USDT", true},
        {"*-USDT", "BTC-USDTX", false}, {"*-USDT", "BTC-USD", false},   {"*-USDT", "-USDT", true},
        {"BTC-*", "BTC-USDT", true},   {"BTC-*", "BTC-", true},        {"BTC-*", "XBTC-USDT", false},
        {"*USD*", "BTC-USDT", true},   {"*USD*", "USD", true},         {"*USD*", "US", false},
        {"A*A", "A", false},           {"A*A", "AA", true},            {"A*A", "ABA", true},
        {"*AB*AB*", "ABAB", true},     {"*AB*AB*", "ABA", false},      {"*AB*AB*", "XABYABZ", true},
        {"B*-U*T", "BTC-USDT", true},  {"B*-U*T", "BTC-USDC", false},  {"btc-*", "BTC-USDT", false},
        {"BTC-USDT", "BTC-USDT", true}, {"BTC-USDT", "BTC-USDC", false}, {"", "", true},
        {"", "A", false},              {"*A", "BA", true},             {"*A", "AB", false},
        {"A*", "AB", true},            {"A*B*C", "ABC", true},         {"A*B*C", "ACB", false},
        {"*-*", "BTC-USDT", true},     {"*-*", "BTCUSDT", false},      {"AB*BA", "ABA", false},
    };
    for (size_t i = 0; i < N(cases); i++)
        if (symbol_match(cases[i].p, cases[i].s) != cases[i].m)
            TT_FAIL("\"%s\" against \"%s\": expected %s", cases[i].p, cases[i].s, cases[i].m ? "a match" : "none");
}

/* The plain definition: a table of prefix against prefix. */
static bool reference_match(const char *p, const char *s) {
    size_t pl = strlen(p), sl = strlen(s);
    bool t[16][16] = {{false}};
    t[0][0] = true;
    for (size_t i = 1; i <= pl; i++)
        for (size_t j = 0; j <= sl; j++)
            t[i][j] = p[i - 1] == '*' ? t[i - 1][j] || (j > 0 && t[i][j - 1])
                                      : j > 0 && t[i - 1][j - 1] && p[i - 1] == s[j - 1];
    return t[pl][sl];
}

/* Every pattern of up to 6 characters over {A, B, -, *} against every text of up to 6 over {A, B, -}. */
static void test_match_agrees_with_reference(void) {
    static const char pa[] = "AB-*", sa[] = "AB-";
    char p[8], s[8];
    size_t checked = 0;
    for (size_t pl = 0; pl <= 6; pl++) {
        size_t pn = 1;
        for (size_t k = 0; k < pl; k++) pn *= 4;
        for (size_t pi = 0; pi < pn; pi++) {
            for (size_t k = 0, x = pi; k < pl; k++, x /= 4) p[k] = pa[x % 4];
            p[pl] = 0;
            for (size_t sl = 0; sl <= 6; sl++) {
                size_t sn = 1;
                for (size_t k = 0; k < sl; k++) sn *= 3;
                for (size_t si = 0; si < sn; si++) {
                    for (size_t k = 0, x = si; k < sl; k++, x /= 3) s[k] = sa[x % 3];
                    s[sl] = 0;
                    if (symbol_match(p, s) != reference_match(p, s))
                        TT_FAIL("\"%s\" against \"%s\": %d, the reference says %d", p, s, symbol_match(p, s),
                                reference_match(p, s));
                    checked++;
                }
            }
        }
    }
    fprintf(stderr, "    %zu pairs agree\n", checked);
}

/* Text of a megabyte against the patterns that make a backtracking matcher quadratic: still immediate. */
static void test_match_hostile_lengths(void) {
    size_t n = 1 << 20;
    char *big = malloc(n + 1), *pat = malloc(4096);
    TT_ASSERT(big && pat);
    memset(big, 'A', n);
    big[n] = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t k = 0;
    for (int i = 0; i < 1000; i++) pat[k++] = '*', pat[k++] = 'A';
    pat[k++] = '*', pat[k++] = 'B', pat[k] = 0; /* *A*A*...*A*B */
    TT_ASSERT(!symbol_match(pat, big));
    pat[k - 1] = 'A';
    TT_ASSERT(symbol_match(pat, big));
    memset(pat, 'A', 2000);
    pat[0] = '*', pat[1999] = 'B', pat[2000] = '*', pat[2001] = 0; /* *AAA...AB* */
    TT_ASSERT(!symbol_match(pat, big));
    big[n / 2] = 'B';
    pat[1999] = 'A', pat[2000] = 'B', pat[2001] = '*', pat[2002] = 0;
    TT_ASSERT(symbol_match(pat, big)); /* *AAA...AB*: 1999 A then the B in the middle */
    TT_ASSERT(symbol_match("*", big) && !symbol_match("BTC-*", big) && !symbol_match(big, "A"));
    TT_ASSERT(symbol_match(big, big));
    double s = seconds_since(&t0);
    fprintf(stderr, "    megabyte matches in %.4f s\n", s);
    TT_ASSERT(s < 2.0);
    free(big);
    free(pat);
}

static bool list_is(const struct symbol_resolution *r, const char *const *want, size_t n) {
    bool ok = r->n == n;
    for (size_t i = 0; ok && i < n; i++) ok = strcmp(r->list[i], want[i]) == 0;
    if (!ok) {
        fprintf(stderr, "    got %zu:", r->n);
        for (size_t i = 0; i < r->n; i++) fprintf(stderr, " %s", r->list[i]);
        fprintf(stderr, "\n    expected %zu:", n);
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %s", want[i]);
        fprintf(stderr, "\n");
    }
    return ok;
}
#define LIST_IS(r, ...) TT_ASSERT(list_is((r), (const char *const[]){__VA_ARGS__}, \
                                          N(((const char *const[]){__VA_ARGS__}))))

static const char *const venue[] = {"SOL-USDT", "ETH-USDT", "BTC-USDT", "ETH-BTC", "DOGE-USDT", "BTC-USDC",
                                    "ADA-USDT", "XRP-USDT", "BTC-EUR", "ETH-USDC"};

static void test_resolve_order(void) {
    const char *names[] = {"XRP-USDT", "LUNA-USDT", "BTC-USDT"};
    const char *patterns[] = {"*-USDT"};
    struct symbol_select sel = {names, N(names), patterns, N(patterns), NULL, 0, 0};
    struct symbol_resolution r;
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    /* names first as given (LUNA-USDT kept though unlisted), then the matches by name, without the names */
    LIST_IS(&r, "XRP-USDT", "LUNA-USDT", "BTC-USDT", "ADA-USDT", "DOGE-USDT", "ETH-USDT", "SOL-USDT");
    TT_ASSERT_INT(r.nnames, 3);
    TT_ASSERT_INT(r.nunlisted, 1);
    TT_ASSERT_INT(r.unlisted[0], 1);
    TT_ASSERT_INT(r.matched, 4);
    TT_ASSERT_INT(r.excluded + r.cut + r.ignored, 0);
    TT_ASSERT(r.cut_first == NULL && r.cut_last == NULL);
    symbol_resolution_free(&r);

    /* several patterns, overlapping: each name once, in one sorted run (not pattern by pattern) */
    const char *two[] = {"ETH-*", "*-USDC", "*-BTC"};
    sel = (struct symbol_select){NULL, 0, two, N(two), NULL, 0, 0};
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    LIST_IS(&r, "BTC-USDC", "ETH-BTC", "ETH-USDC", "ETH-USDT");
    TT_ASSERT_INT(r.matched, 4);
    symbol_resolution_free(&r);

    /* "*" is every name the venue lists */
    const char *all[] = {"*"};
    sel = (struct symbol_select){NULL, 0, all, 1, NULL, 0, 0};
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    LIST_IS(&r, "ADA-USDT", "BTC-EUR", "BTC-USDC", "BTC-USDT", "DOGE-USDT", "ETH-BTC", "ETH-USDC", "ETH-USDT",
            "SOL-USDT", "XRP-USDT");
    symbol_resolution_free(&r);

    /* names alone: no pattern, nothing of the venue's added; a pattern matching nothing adds nothing */
    const char *none[] = {"*-GBP"};
    sel = (struct symbol_select){names, N(names), none, 1, NULL, 0, 0};
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    LIST_IS(&r, "XRP-USDT", "LUNA-USDT", "BTC-USDT");
    TT_ASSERT_INT(r.matched, 0);
    symbol_resolution_free(&r);
    sel = (struct symbol_select){names, N(names), NULL, 0, NULL, 0, 0};
    TT_ASSERT_INT(symbol_resolve(&sel, NULL, 0, &r), 0); /* a venue that lists nothing: every name unlisted */
    LIST_IS(&r, "XRP-USDT", "LUNA-USDT", "BTC-USDT");
    TT_ASSERT_INT(r.nunlisted, 3);
    symbol_resolution_free(&r);
    sel = (struct symbol_select){0};
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    TT_ASSERT_INT(r.n, 0);
    symbol_resolution_free(&r);
}

/* The same inputs in any order give the same list. */
static void test_resolve_is_deterministic(void) {
    const char *shuffled[N(venue)];
    const char *patterns[] = {"*-USDT", "BTC-*"};
    const char *names[] = {"ETH-BTC"};
    struct symbol_select sel = {names, 1, patterns, 2, NULL, 0, 5};
    struct symbol_resolution first, r;
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &first), 0);
    LIST_IS(&first, "ETH-BTC", "ADA-USDT", "BTC-EUR", "BTC-USDC", "BTC-USDT");
    unsigned seed = 7;
    for (int round = 0; round < 50; round++) {
        memcpy(shuffled, venue, sizeof venue);
        for (size_t i = N(venue) - 1; i > 0; i--) {
            seed = seed * 1103515245u + 12345u;
            size_t j = (seed >> 16) % (i + 1);
            const char *t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        TT_ASSERT_INT(symbol_resolve(&sel, shuffled, N(shuffled), &r), 0);
        TT_ASSERT_INT(r.n, first.n);
        for (size_t i = 0; i < r.n; i++) TT_ASSERT_STR(r.list[i], first.list[i]);
        TT_ASSERT_STR(r.cut_first, first.cut_first);
        TT_ASSERT_STR(r.cut_last, first.cut_last);
        symbol_resolution_free(&r);
    }
    symbol_resolution_free(&first);
}

static void test_resolve_exclude(void) {
    const char *names[] = {"DOGE-USDT"};
    const char *patterns[] = {"*-USDT", "*-USDC"};
    const char *excludes[] = {"SOL-USDT", "*-USDC", "DOGE-*", "LUNA-USDT"};
    struct symbol_select sel = {names, 1, patterns, 2, excludes, N(excludes), 0};
    struct symbol_resolution r;
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    /* DOGE-USDT stays: it is listed by name, and exclude only takes out what patterns bring */
    LIST_IS(&r, "DOGE-USDT", "ADA-USDT", "BTC-USDT", "ETH-USDT", "XRP-USDT");
    TT_ASSERT_INT(r.matched, 7); /* ADA BTC ETH SOL XRP -USDT, BTC ETH -USDC */
    TT_ASSERT_INT(r.excluded, 3);
    TT_ASSERT_INT(r.nunlisted, 0);
    symbol_resolution_free(&r);
    /* everything excluded: an empty run after the names */
    const char *every[] = {"*"};
    sel.excludes = every;
    sel.nexcludes = 1;
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    LIST_IS(&r, "DOGE-USDT");
    TT_ASSERT_INT(r.excluded, 7);
    symbol_resolution_free(&r);
}

static void test_resolve_max_cut(void) {
    const char *names[] = {"ETH-BTC", "LUNA-USDT"};
    const char *patterns[] = {"*-USDT"};
    const char *excludes[] = {"BTC-USDT"};
    struct symbol_select sel = {names, 2, patterns, 1, excludes, 1, 4};
    struct symbol_resolution r;
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    /* 4 in all: the 2 names and the first 2 matches by name; the excluded one is not counted as cut */
    LIST_IS(&r, "ETH-BTC", "LUNA-USDT", "ADA-USDT", "DOGE-USDT");
    TT_ASSERT_INT(r.matched, 6);
    TT_ASSERT_INT(r.excluded, 1);
    TT_ASSERT_INT(r.cut, 3);
    TT_ASSERT_STR(r.cut_first, "ETH-USDT");
    TT_ASSERT_STR(r.cut_last, "XRP-USDT");
    symbol_resolution_free(&r);

    sel.max = 6; /* one cut: first and last are that one */
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    TT_ASSERT_INT(r.n, 6);
    TT_ASSERT_INT(r.cut, 1);
    TT_ASSERT_STR(r.cut_first, "XRP-USDT");
    TT_ASSERT_STR(r.cut_last, "XRP-USDT");
    symbol_resolution_free(&r);

    sel.max = 7; /* exactly room for all: nothing cut */
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    TT_ASSERT_INT(r.n, 7);
    TT_ASSERT(r.cut == 0 && r.cut_first == NULL && r.cut_last == NULL);
    symbol_resolution_free(&r);

    sel.max = 1; /* below the names (the config refuses it): the names stay, every match is cut */
    TT_ASSERT_INT(symbol_resolve(&sel, venue, N(venue), &r), 0);
    LIST_IS(&r, "ETH-BTC", "LUNA-USDT");
    TT_ASSERT_INT(r.cut, 5);
    TT_ASSERT_STR(r.cut_first, "ADA-USDT");
    TT_ASSERT_STR(r.cut_last, "XRP-USDT");
    symbol_resolution_free(&r);
}

static void test_resolve_repeats_and_junk(void) {
    const char *avail[] = {"BTC-USDT", "btc-usdt", "ETH-USDT", "BTC-USDT", NULL, "", "BTC/USDT", "ETH-USDT",
                           "SOL-USDT", "AAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBB", "*-USDT", "XRP-USDT\n", "A-B-C"};
    const char *names[] = {"SOL-USDT", "ETH-USDT", "SOL-USDT", "NEW-USDT", "NEW-USDT"};
    const char *patterns[] = {"*-USDT", "*"};
    struct symbol_select sel = {names, N(names), patterns, 2, NULL, 0, 0};
    struct symbol_resolution r;
    TT_ASSERT_INT(symbol_resolve(&sel, avail, N(avail), &r), 0);
    LIST_IS(&r, "SOL-USDT", "ETH-USDT", "NEW-USDT", "BTC-USDT");
    TT_ASSERT_INT(r.nnames, 3);
    TT_ASSERT_INT(r.nunlisted, 1);
    TT_ASSERT_INT(r.unlisted[0], 3); /* the first NEW-USDT */
    TT_ASSERT_INT(r.ignored, 10);    /* 3 valid of 13 */
    TT_ASSERT_INT(r.matched, 1);
    symbol_resolution_free(&r);
}

/* 50,000 venue names, shuffled, against "*" and against a selection with everything: timed. */
static void test_resolve_large(void) {
    size_t n = 50000;
    char (*text)[SYMBOL_TEXT_MAX] = malloc(n * sizeof *text);
    const char **avail = malloc(n * sizeof *avail);
    TT_ASSERT(text && avail);
    static const char *const quotes[] = {"USDT", "USDC", "BTC", "EUR", "USD"};
    for (size_t i = 0; i < n; i++) {
        size_t k = (i * 7919) % n;
        snprintf(text[i], sizeof text[i], "C%05u-%s", (unsigned)(k / 5 % 100000), quotes[k % 5]);
        avail[i] = text[i];
    }
    const char *all[] = {"*"};
    struct symbol_select sel = {NULL, 0, all, 1, NULL, 0, 0};
    struct symbol_resolution r;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TT_ASSERT_INT(symbol_resolve(&sel, avail, n, &r), 0);
    double s = seconds_since(&t0);
    TT_ASSERT_INT(r.n, n);
    TT_ASSERT_INT(r.ignored, 0);
    for (size_t i = 1; i < r.n; i++) TT_ASSERT(strcmp(r.list[i - 1], r.list[i]) < 0);
    fprintf(stderr, "    %zu names against \"*\" in %.4f s\n", n, s);
    TT_ASSERT(s < 1.0);
    symbol_resolution_free(&r);

    const char *names[] = {"C00007-USDT", "NOPE-USDT"};
    const char *patterns[] = {"*-USDT", "C01*-USDC"};
    const char *excludes[] = {"C00009-USDT", "*9-USDT", "C02*"};
    sel = (struct symbol_select){names, 2, patterns, 2, excludes, 3, 5000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TT_ASSERT_INT(symbol_resolve(&sel, avail, n, &r), 0);
    s = seconds_since(&t0);
    TT_ASSERT_INT(r.n, 5000);
    TT_ASSERT_INT(r.nunlisted, 1);
    TT_ASSERT_STR(r.list[2], "C00000-USDT");
    TT_ASSERT_INT(r.matched, 9999 + 1000); /* USDT but the named one, C01xxx-USDC */
    TT_ASSERT_INT(r.excluded, 1000 + 900);  /* ...9-USDT, C02xxx but those ending in 9 */
    TT_ASSERT_INT(r.cut, 9099 - 4998);
    TT_ASSERT_STR(r.cut_last, "C09998-USDT");
    fprintf(stderr, "    %zu names against 2 patterns, 3 excludes, max 5000 in %.4f s (cut %zu, %s .. %s)\n", n, s,
            r.cut, r.cut_first, r.cut_last);
    symbol_resolution_free(&r);

    /* sorted input: the same result */
    const char *sorted_all[] = {"*"};
    sel = (struct symbol_select){NULL, 0, sorted_all, 1, NULL, 0, 0};
    TT_ASSERT_INT(symbol_resolve(&sel, avail, n, &r), 0);
    const char **sorted = malloc(n * sizeof *sorted);
    TT_ASSERT(sorted != NULL);
    memcpy(sorted, r.list, n * sizeof *sorted);
    symbol_resolution_free(&r);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TT_ASSERT_INT(symbol_resolve(&sel, sorted, n, &r), 0);
    fprintf(stderr, "    %zu sorted names against \"*\" in %.4f s\n", n, seconds_since(&t0));
    TT_ASSERT_INT(r.n, n);
    for (size_t i = 0; i < n; i++) TT_ASSERT(r.list[i] == sorted[i]);
    symbol_resolution_free(&r);

    /* closest names over the 50,000 */
    const char *out[SYMBOL_CLOSEST_MAX];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t k = symbol_closest("C0007-USDT", avail, n, out, 3);
    s = seconds_since(&t0);
    fprintf(stderr, "    closest of 1 name over %zu in %.4f s\n", n, s);
    TT_ASSERT_INT(k, 3);
    TT_ASSERT_STR(out[0], "C00007-USDT"); /* one insertion; its neighbours by name come next at distance 1 too */
    TT_ASSERT_STR(out[1], "C00017-USDT");
    TT_ASSERT_STR(out[2], "C00027-USDT");
    TT_ASSERT(s < 1.0);
    free(sorted);
    free(avail);
    free(text);
}

static void test_distance(void) {
    static const struct {
        const char *a, *b;
        size_t d;
    } cases[] = {
        {"BTC-USDT", "BTC-USDT", 0}, {"BTC-USDT", "BTC-UDST", 1}, {"BTC-USDT", "BTC-USD", 1},
        {"BTC-USD", "BTC-USDT", 1},  {"BTC-USDT", "ETH-USDT", 2}, {"XBT-USD", "BTC-USD", 2},
        {"CA", "ABC", 3}, /* the optimal string alignment distance: a swapped pair is not edited again */
        {"", "ABC", 3},              {"AB", "BA", 1},             {"ABCD", "BADC", 2},
    };
    for (size_t i = 0; i < N(cases); i++) {
        size_t d = symbol_distance(cases[i].a, cases[i].b, 10);
        if (d != cases[i].d) TT_FAIL("\"%s\" to \"%s\": %zu, expected %zu", cases[i].a, cases[i].b, d, cases[i].d);
        if (symbol_distance(cases[i].b, cases[i].a, 10) != d) TT_FAIL("not symmetric: \"%s\"", cases[i].a);
    }
    TT_ASSERT_INT(symbol_distance("BTC-USDT", "ETH-USDT", 1), 2); /* above the bound: bound + 1 */
    TT_ASSERT_INT(symbol_distance("A-B", "AAAAAAAA-B", 3), 4);   /* lengths alone tell */
    TT_ASSERT_INT(symbol_distance("AAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBB", "A-B", 100), SIZE_MAX);
    TT_ASSERT_INT(symbol_distance("AAAAAAAAAAAAAAAA-BBBBBBBBBBBBBB", "BBBBBBBBBBBBBBBB-AAAAAAAAAAAAAA", 100), 30);
}

static void test_closest(void) {
    const char *avail[] = {"BTC-USDT", "BTC-USDC", "ETH-USDT", "BTC-TUSD", "BTC-USD", "btc-usdx", "XBT-USDT",
                           "BTC-EUR", "SOL-USDT", "BTC-USDE"};
    const char *out[SYMBOL_CLOSEST_MAX];
    /* a swap: one edit; then those at two, by name */
    size_t n = symbol_closest("BTC-UDST", avail, N(avail), out, 3);
    TT_ASSERT_INT(n, 3);
    TT_ASSERT_STR(out[0], "BTC-USDT");
    TT_ASSERT_STR(out[1], "BTC-USD");
    TT_ASSERT_STR(out[2], "BTC-USDC");
    /* ties at one edit, by name: BTC-USD, BTC-USDC, BTC-USDE, BTC-USDT; the lower-case entry is no name */
    n = symbol_closest("BTC-USDX", avail, N(avail), out, 3);
    TT_ASSERT_INT(n, 3);
    TT_ASSERT_STR(out[0], "BTC-USD");
    TT_ASSERT_STR(out[1], "BTC-USDC");
    TT_ASSERT_STR(out[2], "BTC-USDE");
    n = symbol_closest("BTC-USDX", avail, N(avail), out, 8);
    TT_ASSERT_INT(n, 5); /* the 4 at one edit, BTC-TUSD at two; ETH-USDT and XBT-USDT at three: too far for 8 */
    TT_ASSERT_STR(out[3], "BTC-USDT");
    TT_ASSERT_STR(out[4], "BTC-TUSD");
    /* a third of the length: 10 characters allow 3 edits */
    const char *far[] = {"BTCX-USDT", "ETH-USDT"};
    n = symbol_closest("BTCX-USDXY", far, N(far), out, 3);
    TT_ASSERT_INT(n, 1);
    TT_ASSERT_STR(out[0], "BTCX-USDT");
    /* the name itself first when listed */
    n = symbol_closest("BTC-USD", avail, N(avail), out, 2);
    TT_ASSERT_INT(n, 2);
    TT_ASSERT_STR(out[0], "BTC-USD");
    TT_ASSERT_STR(out[1], "BTC-TUSD"); /* one of four at one edit, first by name */
    /* nothing close: nothing said */
    TT_ASSERT_INT(symbol_closest("DOGE-JPY", avail, N(avail), out, 3), 0);
    /* short names allow fewer edits: A-B is 1 away at most */
    const char *shorts[] = {"A-C", "AB-C", "X-Y"};
    n = symbol_closest("A-B", shorts, N(shorts), out, 3);
    TT_ASSERT_INT(n, 1);
    TT_ASSERT_STR(out[0], "A-C");
    TT_ASSERT_INT(symbol_closest("AAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBB", avail, N(avail), out, 3), 0);
    TT_ASSERT_INT(symbol_closest("BTC-USDT", avail, N(avail), out, 0), 0);
    TT_ASSERT_INT(symbol_closest("BTC-USDT", NULL, 0, out, 3), 0);
}

/* Hostile sizes: a venue list of megabyte strings, very many names, many patterns. */
static void test_resolve_hostile(void) {
    size_t big = 1 << 20;
    char *huge = malloc(big + 1);
    TT_ASSERT(huge != NULL);
    memset(huge, 'A', big);
    huge[big / 2] = '-';
    huge[big] = 0;
    const char *avail[] = {huge, "BTC-USDT", huge, huge};
    const char *all[] = {"*"};
    struct symbol_select sel = {NULL, 0, all, 1, NULL, 0, 0};
    struct symbol_resolution r;
    TT_ASSERT_INT(symbol_resolve(&sel, avail, N(avail), &r), 0);
    LIST_IS(&r, "BTC-USDT");
    TT_ASSERT_INT(r.ignored, 3);
    symbol_resolution_free(&r);
    const char *out[SYMBOL_CLOSEST_MAX];
    TT_ASSERT_INT(symbol_closest(huge, avail, N(avail), out, 3), 0);
    TT_ASSERT_INT(symbol_closest("BTC-USDX", avail, N(avail), out, 3), 1);
    free(huge);

    /* 100,000 names, half of them repeats, and 1,000 patterns none of which matches */
    size_t n = 100000, np = 1000;
    char (*text)[SYMBOL_TEXT_MAX] = malloc(n * sizeof *text);
    char (*ptext)[SYMBOL_TEXT_MAX] = malloc(np * sizeof *ptext);
    const char **names = malloc(n * sizeof *names), **pats = malloc(np * sizeof *pats);
    TT_ASSERT(text && ptext && names && pats);
    for (size_t i = 0; i < n; i++) {
        snprintf(text[i], sizeof text[i], "N%05u-USD", (unsigned)((i * 7919) % (n / 2)));
        names[i] = text[i];
    }
    for (size_t i = 0; i < np; i++) {
        snprintf(ptext[i], sizeof ptext[i], "*Q%04u*", (unsigned)i);
        pats[i] = ptext[i];
    }
    const char *few[] = {"N00001-USD", "X-USD", "Y-USD"};
    sel = (struct symbol_select){names, n, pats, np, NULL, 0, 3};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TT_ASSERT_INT(symbol_resolve(&sel, few, N(few), &r), 0);
    fprintf(stderr, "    %zu names, %zu patterns in %.4f s\n", n, np, seconds_since(&t0));
    TT_ASSERT_INT(r.n, n / 2);
    TT_ASSERT_INT(r.nnames, n / 2);
    TT_ASSERT_INT(r.nunlisted, n / 2 - 1);
    TT_ASSERT_INT(r.matched, 0);
    symbol_resolution_free(&r);
    free(text);
    free(ptext);
    free(names);
    free(pats);
}

int main(void) {
    TT_RUN(test_parse_names_and_patterns);
    TT_RUN(test_match_cases);
    TT_RUN(test_match_agrees_with_reference);
    TT_RUN(test_match_hostile_lengths);
    TT_RUN(test_resolve_order);
    TT_RUN(test_resolve_is_deterministic);
    TT_RUN(test_resolve_exclude);
    TT_RUN(test_resolve_max_cut);
    TT_RUN(test_resolve_repeats_and_junk);
    TT_RUN(test_resolve_large);
    TT_RUN(test_distance);
    TT_RUN(test_closest);
    TT_RUN(test_resolve_hostile);
    return tt_finish();
}
