/* symbol_select -- what resolving a group's patterns against a venue's instruments costs, on one core.
 *
 *   build/bench/symbol_select [--names 50000] [--runs 21]
 *
 * The venue's list is --names distinct BASE-QUOTE names (bases of 3 to 8 characters over five quotes), shuffled
 * as a venue's answer may come. Each figure is the median of --runs resolutions, in CPU time: "*" over the shuffled
 * list and over the sorted one; a selection with names, two patterns, excludes and a max that cuts; and the
 * closest names of one name that the venue does not list (a typo's warning). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tickd/symbol_select.h"

static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The median CPU time of runs resolutions of sel against list; *n gets the list's length. */
static double resolve_ms(const struct symbol_select *sel, const char *const *list, size_t len, int runs, size_t *n) {
    int64_t t[101];
    for (int r = 0; r < runs; r++) {
        struct symbol_resolution res;
        int64_t t0 = cpu_ns();
        if (symbol_resolve(sel, list, len, &res) < 0) {
            fprintf(stderr, "symbol_resolve: out of memory\n");
            exit(1);
        }
        t[r] = cpu_ns() - t0;
        *n = res.n;
        symbol_resolution_free(&res);
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_i64);
    return (double)t[runs / 2] / 1e6;
}

int main(int argc, char **argv) {
    size_t names = 50000;
    int runs = 21;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--names") == 0) names = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0) runs = atoi(argv[i + 1]);
    }
    if (names < 100 || runs < 1 || runs > 101) {
        fprintf(stderr, "usage: symbol_select [--names N >= 100] [--runs 1..101]\n");
        return 2;
    }
    static const char *const quotes[] = {"USDT", "USDC", "BTC", "EUR", "USD"};
    char (*text)[SYMBOL_TEXT_MAX] = malloc(names * sizeof *text);
    const char **list = malloc(names * sizeof *list), **sorted = malloc(names * sizeof *sorted);
    if (!text || !list || !sorted) return 1;
    /* Name i is base i / 5 spelled in 3 to 8 letters, over quote i % 5; the list holds them in a shuffled order,
     * one after the other in memory as a parser of the venue's answer would write them. */
    size_t *order = malloc(names * sizeof *order);
    if (!order) return 1;
    for (size_t i = 0; i < names; i++) order[i] = i;
    unsigned seed = 12345;
    for (size_t i = names - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        size_t j = (seed >> 8) % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < names; i++) {
        size_t b = order[i] / 5, len = 3 + b % 6;
        char base[16];
        for (size_t k = 0; k < len; k++, b /= 26) base[k] = (char)('A' + b % 26);
        base[len] = 0;
        snprintf(text[i], sizeof text[i], "%s-%s", base, quotes[order[i] % 5]);
        list[i] = text[i];
    }
    free(order);
    memcpy(sorted, list, names * sizeof *sorted);
    qsort(sorted, names, sizeof *sorted, cmp_str);

    size_t n;
    const char *all[] = {"*"};
    struct symbol_select sel = {.patterns = all, .npatterns = 1};
    double shuffled_ms = resolve_ms(&sel, list, names, runs, &n);
    printf("symbol_select: %zu names against \"*\": %.2f ms shuffled (%.0f ns a name), ", n, shuffled_ms,
           shuffled_ms * 1e6 / (double)names);
    double sorted_ms = resolve_ms(&sel, sorted, names, runs, &n);
    printf("%.2f ms sorted\n", sorted_ms);

    const char *group[] = {"AAA-USDT", "BTC-USDT", "ETH-USDT"};
    const char *patterns[] = {"*-USDT", "*-USDC"};
    const char *excludes[] = {"*UP-*", "*DOWN-*", "BAA-USDT", "Z*"};
    sel = (struct symbol_select){group, 3, patterns, 2, excludes, 4, names / 4};
    double mixed_ms = resolve_ms(&sel, list, names, runs, &n);
    printf("symbol_select: 3 names, 2 patterns, 4 excludes, max %zu over %zu names: %.2f ms (%zu kept)\n",
           names / 4, names, mixed_ms, n);

    int64_t t[101];
    const char *out[SYMBOL_CLOSEST_MAX];
    size_t k = 0;
    for (int r = 0; r < runs; r++) {
        int64_t t0 = cpu_ns();
        k = symbol_closest("BTCX-USDT", list, names, out, 3);
        t[r] = cpu_ns() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_i64);
    printf("symbol_closest: 3 closest of 1 name over %zu names: %.2f ms (%zu found:", names,
           (double)t[runs / 2] / 1e6, k);
    for (size_t i = 0; i < k; i++) printf(" %s", out[i]);
    printf(")\n");
    free(text);
    free(list);
    free(sorted);
    return 0;
}
