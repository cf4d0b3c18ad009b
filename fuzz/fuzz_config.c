/* fuzz_config.c -- the configuration loader on arbitrary text: config_parse (TOML, schema, cross-checks),
 * the reload comparisons and the summary log of what it accepts.
 *
 * The document's name puts its directory where nothing exists, so a relative password_file is a read that
 * fails, not a file of this machine. A failed load must report at least one error. An accepted group's
 * selection holds what the config promises (names and patterns as symbol_parse writes them, exclude and max
 * only with patterns, max above the names), the daemon refuses exactly the groups with patterns, and the
 * selection resolves against a small venue list into a list that keeps the promises of symbol_select.h. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/config.h"
#include "tickd/log.h"
#include "tickd/symbol_select.h"

static void die(const char *what) {
    fprintf(stderr, "fuzz_config: %s\n", what);
    abort();
}

static const char *const venue_names[] = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USDC", "ETH-BTC", "A-B",
                                          "BTCUP-USDT", "X1-Y2", "ZZZ-USDT"};

static void check_selection(const struct config_group *g) {
    char norm[SYMBOL_TEXT_MAX];
    for (size_t i = 0; i < g->nsymbols; i++)
        if (symbol_parse(g->symbols[i], norm, sizeof norm, NULL) != SYMBOL_NAME || strcmp(norm, g->symbols[i]) != 0)
            die("a group's name is not a normalized name");
    for (size_t i = 0; i < g->npatterns; i++)
        if (symbol_parse(g->patterns[i], norm, sizeof norm, NULL) != SYMBOL_PATTERN || strcmp(norm, g->patterns[i]) != 0)
            die("a group's pattern is not a normalized pattern");
    for (size_t i = 0; i < g->nexcludes; i++)
        if (symbol_parse(g->excludes[i], norm, sizeof norm, NULL) == SYMBOL_BAD || strcmp(norm, g->excludes[i]) != 0)
            die("an exclude entry is not normalized");
    if (g->nsymbols + g->npatterns == 0) die("a group selects nothing");
    if (!g->npatterns && (g->nexcludes || g->max_symbols)) die("exclude or max without a pattern");
    if (g->max_symbols && g->max_symbols <= g->nsymbols) die("a max that leaves the patterns no room");
    struct symbol_select sel = {(const char *const *)g->symbols, g->nsymbols, (const char *const *)g->patterns,
                                g->npatterns, (const char *const *)g->excludes, g->nexcludes, g->max_symbols};
    struct symbol_resolution r;
    size_t nvenue = sizeof venue_names / sizeof venue_names[0];
    if (symbol_resolve(&sel, venue_names, nvenue, &r) < 0) return;
    if (r.nnames != g->nsymbols || r.n < r.nnames || (g->max_symbols && r.n > g->max_symbols))
        die("a resolution lost a name or passed max");
    for (size_t i = 0; i < r.nnames; i++)
        if (r.list[i] != g->symbols[i]) die("the names are not first, in their order");
    for (size_t i = r.nnames + 1; i < r.n; i++)
        if (strcmp(r.list[i - 1], r.list[i]) >= 0) die("the matches are not sorted, each once");
    if (r.matched != r.n - r.nnames + r.excluded + r.cut) die("the resolution's counts do not add up");
    symbol_resolution_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *null;
    if (!null) {
        null = fopen("/dev/null", "w");
        log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_LOGFMT);
        log_set_fd(fileno(null));
    }
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    int rc = config_parse("/nonexistent-tickd-fuzz/tickd.toml", text, size, &cfg, &errs);
    if (rc == 0) {
        if (!cfg) die("success without a config");
        if (config_restart_key(cfg, cfg)) die("a config differs from itself");
        for (size_t i = 0; i < cfg->nsources; i++)
            if (!config_source_equal(&cfg->sources[i], &cfg->sources[i])) die("a source differs from itself");
        for (size_t i = 0; i < cfg->ngroups; i++) {
            if (!config_group_equal(&cfg->groups[i], &cfg->groups[i])) die("a group differs from itself");
            if (config_find_group(cfg, cfg->groups[i].name) == NULL) die("a group cannot be found by its name");
            check_selection(&cfg->groups[i]);
            if (cfg->groups[i].npatterns && !cfg->groups[i].source->instruments)
                die("patterns on a source that loads no instrument list");
        }
        config_log_summary(cfg);
        config_free(cfg);
    } else {
        if (rc > 0) die("a positive error code");
        if (errs.len == 0) die("a failed load without an error message");
        config_errors_print(&errs, null);
    }
    config_errors_free(&errs);
    free(text);
    return 0;
}
