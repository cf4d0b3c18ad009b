/* Unit tests of the config schema: the example file, defaults, every error class with its exact message,
 * secrets read from files and never printed, value syntaxes, and the comparisons a reload uses. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tickd/config.h"
#include "tickd/toml.h"
#include "tickd/venue.h"
#include "tt.h"

/* The smallest valid file: one source, one group, one task; everything else defaults. */
#define MINIMAL                                                                                            \
    "[[source]]\nname = \"cb\"\nvenue = \"coinbase\"\n"                                                    \
    "[[group]]\nname = \"g\"\nsource = \"cb\"\nsymbols = [\"btc-usd\"]\n"                                   \
    "[[group.task]]\nkind = \"poll\"\n"

static struct tickd_config *parse_ok(const char *text) {
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    int rc = config_parse("t.toml", text, strlen(text), &cfg, &errs);
    if (rc != 0) config_errors_print(&errs, stderr);
    config_errors_free(&errs);
    return cfg;
}

/* Parses text, which must fail with exactly the messages given (a NULL-terminated list, in order). */
static int expect_errors(const char *text, const char *const *want) {
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    int rc = config_parse("t.toml", text, strlen(text), &cfg, &errs);
    size_t n = 0;
    while (want[n]) n++;
    int ok = rc < 0 && cfg == NULL && errs.len == n;
    for (size_t i = 0; ok && i < n; i++) ok = strcmp(errs.items[i].msg, want[i]) == 0;
    if (!ok) {
        fprintf(stderr, "    got rc=%d and %zu errors:\n", rc, errs.len);
        config_errors_print(&errs, stderr);
        fprintf(stderr, "    expected:\n");
        for (size_t i = 0; i < n; i++) fprintf(stderr, "%s\n", want[i]);
    }
    config_errors_free(&errs);
    config_free(cfg);
    return ok;
}
#define EXPECT_ERRORS(text, ...) TT_ASSERT(expect_errors((text), (const char *const[]){__VA_ARGS__, NULL}))

static const char *example_path(void) {
    static char path[4096];
    const char *root = getenv("TICKD_ROOT");
    snprintf(path, sizeof path, "%s/config/tickd.toml", root ? root : ".");
    return path;
}

static void test_example_loads(void) {
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    int rc = config_load(example_path(), &cfg, &errs);
    config_errors_print(&errs, stderr);
    config_errors_free(&errs);
    TT_ASSERT_INT(rc, 0);
    TT_ASSERT_INT(cfg->nsources, 4);
    TT_ASSERT_INT(cfg->ngroups, 4);
    const struct config_source *b = config_find_source(cfg, "binance");
    TT_ASSERT(b && b->venue == venue_find("binance"));
    TT_ASSERT_STR(b->ws_url, "wss://stream.binance.com:9443");
    TT_ASSERT_INT(b->limits.weight_per_minute, 6000);
    TT_ASSERT_INT(b->limits.ws_streams_per_connection, 1024);
    const struct config_group *g = config_find_group(cfg, "binance-majors");
    TT_ASSERT(g && g->source == b);
    TT_ASSERT_INT(g->nsymbols, 3);
    TT_ASSERT_STR(g->symbols[0], "BTC-USDT");
    TT_ASSERT_INT(g->ntasks, 3);
    TT_ASSERT(g->tasks[1].kind == CONFIG_TASK_POLL);
    TT_ASSERT_INT(g->tasks[1].interval_ms, 1000);
    TT_ASSERT(g->tasks[2].kind == CONFIG_TASK_STREAM);
    TT_ASSERT_STR(g->tasks[2].channel, "book");
    TT_ASSERT_INT(g->tasks[2].depth, 20);
    config_free(cfg);
}

/* Tells whether key (a dotted schema path) is written in tab, looking into every element of an array. */
static int has_key(const toml_value *tab, const char *key) {
    const char *dot = strchr(key, '.');
    char head[64];
    snprintf(head, sizeof head, "%.*s", dot ? (int)(dot - key) : (int)strlen(key), key);
    const toml_value *v = toml_get(tab, head);
    if (!v || !dot) return v != NULL;
    if (v->type == TOML_TABLE) return has_key(v, dot + 1);
    for (size_t i = 0; v->type == TOML_ARRAY && i < v->u.array.len; i++)
        if (has_key(v->u.array.items[i], dot + 1)) return 1;
    return 0;
}

/* Whether text shows key (a dotted schema path) as a commented-out line "# KEY = ...": the keys of what this
 * version cannot run yet (patterns), which the example shows in a group left commented out. */
static int commented_key(const char *text, const char *key) {
    const char *last = strrchr(key, '.');
    char line[96];
    snprintf(line, sizeof line, "\n# %s = ", last ? last + 1 : key);
    return strstr(text, line) != NULL;
}

static void test_example_shows_every_key(void) {
    FILE *f = fopen(example_path(), "r");
    TT_ASSERT(f != NULL);
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    char err[256];
    toml_value *root = toml_parse(text, len, err, sizeof err);
    TT_ASSERT(root != NULL);
    const char *keys[128];
    size_t n = config_schema_keys(keys, 128);
    TT_ASSERT(n > 20 && n <= 128);
    int missing = 0;
    for (size_t i = 0; i < n; i++)
        if (!has_key(root, keys[i]) && !commented_key(text, keys[i])) {
            fprintf(stderr, "    config/tickd.toml lacks %s\n", keys[i]);
            missing++;
        }
    toml_free(root);
    TT_ASSERT_INT(missing, 0);
}

static void test_defaults(void) {
    struct tickd_config *cfg = parse_ok(MINIMAL);
    TT_ASSERT(cfg != NULL);
    TT_ASSERT(cfg->daemon.log_level == LOG_LEVEL_INFO);
    TT_ASSERT(cfg->daemon.log_format == LOG_FORMAT_LOGFMT);
    TT_ASSERT_INT(cfg->daemon.stats_interval_ms, 10000);
    TT_ASSERT_INT(cfg->merge.quote_ttl_ms, 0); /* never: a quiet market is not a dead venue unless the user says */
    TT_ASSERT_STR(cfg->redis.url, "redis://127.0.0.1:6379/0");
    TT_ASSERT_STR(cfg->redis.key_prefix, "tickd");
    TT_ASSERT_STR(cfg->redis.password_file, "");
    TT_ASSERT(cfg->redis.password == NULL);
    TT_ASSERT_INT(cfg->redis.history, 0);
    TT_ASSERT_STR(cfg->rabbitmq.url, "amqp://guest:guest@127.0.0.1:5672/%2f");
    TT_ASSERT_STR(cfg->rabbitmq.exchange, "tickd");
    TT_ASSERT(cfg->rabbitmq.confirm);
    TT_ASSERT_INT(cfg->rabbitmq.buffer_limit, 200000);
    TT_ASSERT_INT(cfg->supervisor.backoff_min_ms, 250);
    TT_ASSERT_INT(cfg->supervisor.backoff_max_ms, 30000);
    TT_ASSERT_INT(cfg->supervisor.max_restarts, 10);
    TT_ASSERT_INT(cfg->supervisor.restart_window_ms, 60000);
    TT_ASSERT_INT(cfg->supervisor.forgive_after_ms, 120000);
    const struct config_source *s = &cfg->sources[0];
    TT_ASSERT_STR(s->rest_url, "https://api.exchange.coinbase.com"); /* by venue */
    TT_ASSERT_STR(s->ws_url, "wss://ws-feed.exchange.coinbase.com");
    TT_ASSERT_INT(s->limits.requests_per_second, 8);
    TT_ASSERT_INT(s->limits.weight_per_minute, 480);
    const struct config_group *g = &cfg->groups[0];
    TT_ASSERT(g->restart == CONFIG_RESTART_PERMANENT);
    TT_ASSERT_STR(g->symbols[0], "BTC-USD"); /* upper-cased */
    TT_ASSERT(g->tasks[0].channel && strcmp(g->tasks[0].channel, "bbo") == 0);
    TT_ASSERT_INT(g->tasks[0].stale_after_ms, 30000);
    TT_ASSERT_INT(g->tasks[0].interval_ms, 1000);
    TT_ASSERT_INT(g->tasks[0].line, 8); /* its [[group.task]] header */
    config_free(cfg);

    cfg = parse_ok(""); /* no sources or groups at all is valid: the daemon then only runs its sinks */
    TT_ASSERT(cfg != NULL && cfg->nsources == 0 && cfg->ngroups == 0);
    config_free(cfg);
}

static void test_durations(void) {
    uint64_t ms = 0;
    TT_ASSERT(config_parse_duration("250ms", &ms) == 0 && ms == 250);
    TT_ASSERT(config_parse_duration("30s", &ms) == 0 && ms == 30000);
    TT_ASSERT(config_parse_duration("2m", &ms) == 0 && ms == 120000);
    TT_ASSERT(config_parse_duration("1h", &ms) == 0 && ms == 3600000);
    TT_ASSERT(config_parse_duration("1m30s", &ms) == 0 && ms == 90000);
    TT_ASSERT(config_parse_duration("0s", &ms) == 0 && ms == 0);
    const char *bad[] = {"10", "5x", "-1s", "", "1.5s", " 1s", "1s ", "s", "1ms2", "1hh", "99999999999999999999h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (config_parse_duration(bad[i], &ms) == 0) TT_FAIL("accepted \"%s\"", bad[i]);
}

static void test_symbols_and_urls(void) {
    char sym[32];
    TT_ASSERT(config_normalize_symbol("btc-usdt", sym, sizeof sym) == 0);
    TT_ASSERT_STR(sym, "BTC-USDT");
    const char *bad[] = {"BTCUSDT", "BTC/USDT", "-USDT", "BTC-", "A-B-C", "", "BTC USDT"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (config_normalize_symbol(bad[i], sym, sizeof sym) == 0) TT_FAIL("accepted symbol \"%s\"", bad[i]);

    struct config_url u;
    TT_ASSERT(config_url_parse("amqp://guest:p@ss@127.0.0.1:5672/%2f", &u) == 0);
    TT_ASSERT_STR(u.scheme, "amqp");
    TT_ASSERT_STR(u.user, "guest");
    TT_ASSERT_STR(u.password, "p@ss");
    TT_ASSERT_STR(u.host, "127.0.0.1");
    TT_ASSERT_INT(u.port, 5672);
    TT_ASSERT_STR(u.path, "/%2f");
    TT_ASSERT(config_url_parse("redis://[::1]:6379", &u) == 0);
    TT_ASSERT_STR(u.host, "::1");
    TT_ASSERT(config_url_parse("wss://ws.kraken.com/v2", &u) == 0 && u.port == 0);
    const char *badu[] = {"redis://", "redis://:6379", "redis://h:0", "redis://h:65536", "redis://h:x",
                          "127.0.0.1:6379", "redis://h o", "://h"};
    for (size_t i = 0; i < sizeof badu / sizeof badu[0]; i++)
        if (config_url_parse(badu[i], &u) == 0) TT_FAIL("accepted URL \"%s\"", badu[i]);
}

static void test_error_unknown_key_and_type(void) {
    EXPECT_ERRORS("[redis]\npasword_file = \"x\"\n",
                  "t.toml:2:16: redis: unknown key \"pasword_file\" (did you mean \"password_file\"?)");
    EXPECT_ERRORS("colour = 1\n", "t.toml:1:10: unknown key \"colour\"");
    EXPECT_ERRORS("[redis]\nhistory = \"5\"\n", "t.toml:2:11: redis.history: expected an integer, got string");
    EXPECT_ERRORS("[rabbitmq]\nconfirm = \"yes\"\n", "t.toml:2:11: rabbitmq.confirm: expected true or false, got string");
    EXPECT_ERRORS("[source]\nname = \"x\"\n",
                  "t.toml:1:1: source: expected an array of tables ([[source]]), got table");
    EXPECT_ERRORS("daemon = 3\n", "t.toml:1:10: daemon: expected a table ([daemon]), got integer");
}

static void test_error_values(void) {
    EXPECT_ERRORS("[daemon]\nlog_level = \"loud\"\n",
                  "t.toml:2:13: daemon.log_level: expected one of error | warn | info | debug, got \"loud\"");
    EXPECT_ERRORS("[supervisor]\nbackoff_max = \"10\"\n",
                  "t.toml:2:15: supervisor.backoff_max: expected a duration with a unit (ms, s, m, h) such as "
                  "\"30s\", got \"10\"");
    EXPECT_ERRORS("[daemon]\nstats_interval = \"100ms\"\n",
                  "t.toml:2:18: daemon.stats_interval: must be at least 1s, got \"100ms\"");
    EXPECT_ERRORS("[merge]\nquote_ttl = \"25h\"\n", "t.toml:2:13: merge.quote_ttl: must be at most 24h, got \"25h\"");
    EXPECT_ERRORS("[rabbitmq]\nbuffer_limit = 0\n", "t.toml:2:16: rabbitmq.buffer_limit: must be at least 1, got 0");
    EXPECT_ERRORS("[supervisor]\nmax_restarts = -1\n",
                  "t.toml:2:16: supervisor.max_restarts: must be at least 0, got -1");
    EXPECT_ERRORS("[redis]\nurl = \"http://127.0.0.1:6379\"\n",
                  "t.toml:2:7: redis.url: expected a URL redis://host[:port][/path], got \"http://127.0.0.1:6379\"");
    EXPECT_ERRORS("[redis]\nkey_prefix = \"a b\"\n",
                  "t.toml:2:14: redis.key_prefix: expected a name of letters, digits, '_', '.' or '-' (at most 64), "
                  "got \"a b\"");
    EXPECT_ERRORS("[supervisor]\nbackoff_min = \"1m\"\n",
                  "t.toml:2:15: supervisor.backoff_min: must not exceed backoff_max (30s), got 1m");
}

static void test_error_sources_and_groups(void) {
    EXPECT_ERRORS("[[source]]\nname = \"a\"\nvenue = \"bitmex\"\nws_url = \"https://x\"\n",
                  "t.toml:3:9: source \"a\": venue: expected one of binance | coinbase | kraken | okx, got \"bitmex\"",
                  "t.toml:4:10: source \"a\": ws_url: expected a URL ws|wss://host[:port][/path], got \"https://x\"");
    EXPECT_ERRORS("[[source]]\nvenue = \"okx\"\n[source.limits]\nws_streams_per_connection = 0\n",
                  "t.toml:1:1: source #1: missing key \"name\"",
                  "t.toml:4:29: source #1: limits.ws_streams_per_connection: must be at least 1, got 0");
    EXPECT_ERRORS(MINIMAL "[[source]]\nname = \"cb\"\nvenue = \"okx\"\n",
                  "t.toml:11:8: source \"cb\" is defined twice (first at line 2)");
    EXPECT_ERRORS(MINIMAL "[[group]]\nname = \"g\"\nsource = \"cb\"\nsymbols = [\"A-B\"]\n[[group.task]]\nkind = \"stream\"\n",
                  "t.toml:11:8: group \"g\" is defined twice (first at line 5)");
    EXPECT_ERRORS("[[group]]\nname = \"x\"\nsource = \"y\"\nsymbols = [\"A-B\"]\n[[group.task]]\nkind = \"stream\"\n",
                  "t.toml:3:10: group \"x\": source \"y\" is not defined");
    EXPECT_ERRORS(MINIMAL "[[group]]\nname = \"h\"\nsource = \"cb\"\nsymbols = []\n[[group.task]]\nkind = \"stream\"\n",
                  "t.toml:13:11: group \"h\": symbols: the list is empty, expected at least one symbol");
    EXPECT_ERRORS(MINIMAL "[[group]]\nname = \"h\"\nsource = \"cb\"\nsymbols = [\"BTC-USD\", \"btc-usd\", \"BTCUSD\"]\n"
                          "[[group.task]]\nkind = \"stream\"\n",
                  "t.toml:13:23: group \"h\": symbols: \"BTC-USD\" is listed twice",
                  "t.toml:13:34: group \"h\": symbols: expected BASE-QUOTE such as \"BTC-USDT\" (letters and "
                  "digits, one dash) or a pattern such as \"*-USDT\" ('*' for any run), got \"BTCUSD\" (no dash)");
    EXPECT_ERRORS(MINIMAL "[[group]]\nname = \"h\"\nsource = \"cb\"\nrestart = \"always\"\nsymbols = [\"A-B\"]\n",
                  "t.toml:10:1: group \"h\": missing [[group.task]], expected at least one",
                  "t.toml:13:11: group \"h\": restart: expected one of permanent | transient | temporary, got "
                  "\"always\"");
}

static char captured[16384];
static void capture_summary(const struct tickd_config *cfg);

/* A group of patterns: "[[group]]" at line 4, its symbols at 7; then the given lines, then a task. */
#define PATTERN_GROUP(symbols, more)                                                                       \
    "[[source]]\nname = \"b\"\nvenue = \"binance\"\n[[group]]\nname = \"g\"\nsource = \"b\"\n"                  \
    "symbols = " symbols "\n" more "[[group.task]]\nkind = \"stream\"\n"

/* symbols holds names and patterns, kept apart, each normalized and in the file's order; exclude and max go with
 * patterns. */
static void test_patterns(void) {
    struct tickd_config *cfg =
        parse_ok(PATTERN_GROUP("[\"eth-usdt\", \"*-usdt\", \"BTC-USDT\", \"btc-*\", \"*\"]",
                               "exclude = [\"*up-*\", \"luna-usdt\"]\nmax = 50\n"));
    TT_ASSERT(cfg != NULL);
    const struct config_group *g = &cfg->groups[0];
    TT_ASSERT_INT(g->nsymbols, 2);
    TT_ASSERT_STR(g->symbols[0], "ETH-USDT");
    TT_ASSERT_STR(g->symbols[1], "BTC-USDT");
    TT_ASSERT_INT(g->npatterns, 3);
    TT_ASSERT_STR(g->patterns[0], "*-USDT");
    TT_ASSERT_STR(g->patterns[1], "BTC-*");
    TT_ASSERT_STR(g->patterns[2], "*");
    TT_ASSERT_INT(g->nexcludes, 2);
    TT_ASSERT_STR(g->excludes[0], "*UP-*");
    TT_ASSERT_STR(g->excludes[1], "LUNA-USDT");
    TT_ASSERT_INT(g->max_symbols, 50);
    capture_summary(cfg);
    TT_ASSERT(strstr(captured, "symbols=2 patterns=3 excludes=2 max=50 tasks=stream/bbo") != NULL);
    config_free(cfg);

    /* patterns alone: no names; exclude and max are optional, an empty exclude is nothing to exclude */
    cfg = parse_ok(PATTERN_GROUP("[\"*-USDT\"]", "exclude = []\n"));
    TT_ASSERT(cfg != NULL);
    TT_ASSERT(cfg->groups[0].nsymbols == 0 && cfg->groups[0].npatterns == 1);
    TT_ASSERT(cfg->groups[0].nexcludes == 0 && cfg->groups[0].max_symbols == 0);
    config_free(cfg);

    /* names alone, as before: no patterns, no exclude, no bound */
    cfg = parse_ok(MINIMAL);
    TT_ASSERT(cfg != NULL);
    TT_ASSERT(cfg->groups[0].npatterns == 0 && cfg->groups[0].patterns == NULL);
    TT_ASSERT(cfg->groups[0].nexcludes == 0 && cfg->groups[0].max_symbols == 0);
    config_free(cfg);
}

static void test_pattern_errors(void) {
    /* malformed patterns, each at its own place, saying what is wrong */
    EXPECT_ERRORS(PATTERN_GROUP("[\"**-USDT\", \"*-USDT-*\", \"-*\", \"BTC-U?DT\", \"\"]", ""),
                  "t.toml:7:12: group \"g\": symbols: expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one "
                  "dash) or a pattern such as \"*-USDT\" ('*' for any run), got \"**-USDT\" (two '*' in a row)",
                  "t.toml:7:23: group \"g\": symbols: expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one "
                  "dash) or a pattern such as \"*-USDT\" ('*' for any run), got \"*-USDT-*\" (more than one dash)",
                  "t.toml:7:35: group \"g\": symbols: expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one "
                  "dash) or a pattern such as \"*-USDT\" ('*' for any run), got \"-*\" (a dash first or last)",
                  "t.toml:7:41: group \"g\": symbols: expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one "
                  "dash) or a pattern such as \"*-USDT\" ('*' for any run), got \"BTC-U?DT\" (a character other than a "
                  "letter, a digit, '-' or '*')",
                  "t.toml:7:53: group \"g\": symbols: expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one "
                  "dash) or a pattern such as \"*-USDT\" ('*' for any run), got \"\" (empty)");
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USDT\"]", "exclude = [\"BTC-USDT-PERP\", 5]\n"),
                  "t.toml:8:12: group \"g\": exclude: expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one "
                  "dash) or a pattern such as \"*-USDT\" ('*' for any run), got \"BTC-USDT-PERP\" (more than one dash)",
                  "t.toml:8:29: group \"g\": exclude: expected a symbol string, got integer");
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USDT\", \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-*\"]", ""),
                  "t.toml:7:22: group \"g\": symbols: expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one "
                  "dash) or a pattern such as \"*-USDT\" ('*' for any run), got \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-*\" (longer "
                  "than 31 characters)");
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USD\\u0000T\"]", ""),
                  "t.toml:7:12: group \"g\": symbols: contains a NUL character");

    /* duplicates: in symbols (after upper-casing), in exclude, and an entry in both */
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USDT\", \"BTC-USDT\", \"*-usdt\", \"btc-usdt\"]",
                                "exclude = [\"X*\", \"x*\", \"btc-usdt\", \"*-USDT\", \"ETH-USDT\"]\n"),
                  "t.toml:7:34: group \"g\": symbols: \"*-USDT\" is listed twice",
                  "t.toml:7:44: group \"g\": symbols: \"BTC-USDT\" is listed twice",
                  "t.toml:8:18: group \"g\": exclude: \"X*\" is listed twice");
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USDT\", \"BTC-USDT\"]", "exclude = [\"ETH-USDT\", \"btc-usdt\", \"*-USDT\"]\n"),
                  "t.toml:8:24: group \"g\": exclude: \"BTC-USDT\" is also in symbols",
                  "t.toml:8:36: group \"g\": exclude: \"*-USDT\" is also in symbols");

    /* exclude and max apply to what patterns match: in a group of names only they are refused, at the key */
    EXPECT_ERRORS(PATTERN_GROUP("[\"BTC-USDT\"]", "exclude = [\"ETH-USDT\"]\nmax = 5\n"),
                  "t.toml:8:11: group \"g\": exclude: applies to what patterns match, and symbols has no pattern (a "
                  "name is left out by not listing it)",
                  "t.toml:9:7: group \"g\": max: applies to what patterns match, and symbols has no pattern");
    /* max: at least 1, and above the names listed (they are always kept) */
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USDT\"]", "max = 0\n"), "t.toml:8:7: group \"g\": max: must be at least 1, got 0");
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USDT\"]", "max = -3\n"), "t.toml:8:7: group \"g\": max: must be at least 1, got -3");
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USDT\"]", "max = 1000001\n"),
                  "t.toml:8:7: group \"g\": max: must be at most 1000000, got 1000001");
    EXPECT_ERRORS(PATTERN_GROUP("[\"*-USDT\"]", "max = \"10\"\n"),
                  "t.toml:8:7: group \"g\": max: expected an integer, got string");
    EXPECT_ERRORS(PATTERN_GROUP("[\"BTC-USDT\", \"ETH-USDT\", \"*-USDT\"]", "max = 2\n"),
                  "t.toml:8:7: group \"g\": max: must be more than the 2 names listed in symbols (they are always "
                  "kept), got 2");
    EXPECT_ERRORS(PATTERN_GROUP("[\"BTC-USDT\", \"*-USDT\"]", "max = 1\n"),
                  "t.toml:8:7: group \"g\": max: must be more than the 1 name listed in symbols (it is always kept), "
                  "got 1");
    struct tickd_config *cfg = parse_ok(PATTERN_GROUP("[\"BTC-USDT\", \"ETH-USDT\", \"*-USDT\"]", "max = 3\n"));
    TT_ASSERT(cfg && cfg->groups[0].max_symbols == 3);
    config_free(cfg);
    /* a group with errors elsewhere is not judged on exclude and max too */
    EXPECT_ERRORS(PATTERN_GROUP("[\"BTC-USDT\"]", "restart = \"never\"\nmax = 5\n"),
                  "t.toml:8:11: group \"g\": restart: expected one of permanent | transient | temporary, got \"never\"");
    EXPECT_ERRORS(PATTERN_GROUP("\"*-USDT\"", ""), "t.toml:7:11: group \"g\": symbols: expected an array of symbols, got string");
}

static void test_error_tasks(void) {
    const char *head = "[[source]]\nname = \"b\"\nvenue = \"binance\"\n"
                       "[[group]]\nname = \"g\"\nsource = \"b\"\nsymbols = [\"A-B\"]\n";
    char text[1024];
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"stream\"\ninterval = \"1s\"\n", head);
    EXPECT_ERRORS(text, "t.toml:10:12: group \"g\": task #1: interval: applies to poll tasks only, this task is a stream");
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"poll\"\ninterval = \"1m\"\n", head);
    EXPECT_ERRORS(text, "t.toml:8:1: group \"g\": task #1: stale_after: must be longer than interval (1m), got 30s");
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"poll\"\n[[group.task]]\nkind = \"poll\"\n", head);
    EXPECT_ERRORS(text, "t.toml:10:1: group \"g\": task #2: same kind and channel as task #1 (poll bbo)");
    snprintf(text, sizeof text, "%s[[group.task]]\nchannel = \"depth\"\n", head);
    EXPECT_ERRORS(text, "t.toml:8:1: group \"g\": task #1: missing key \"kind\"",
                  "t.toml:9:11: group \"g\": task #1: channel: venue binance has no channel \"depth\" "
                  "(has: bbo, trades, book)");
    /* A book is kept in sync by a stream; its depth within 1..1000. */
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"poll\"\nchannel = \"book\"\n", head);
    EXPECT_ERRORS(text, "t.toml:9:8: group \"g\": task #1: venue binance has no REST poll for channel book "
                  "(use kind = \"stream\")");
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"stream\"\nchannel = \"book\"\ndepth = 1001\n", head);
    EXPECT_ERRORS(text, "t.toml:11:9: group \"g\": task #1: depth: must be at most 1000, got 1001");
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"stream\"\nchannel = \"book\"\ndepth = 50\n"
             "book_deltas = true\n", head);
    struct tickd_config *book_cfg = parse_ok(text);
    TT_ASSERT(book_cfg);
    config_free(book_cfg);
    /* depth and book_deltas belong to a book: on another channel they are a mistake, said at the key */
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"stream\"\nchannel = \"trades\"\ndepth = 5\n"
             "book_deltas = true\n", head);
    EXPECT_ERRORS(text, "t.toml:11:9: group \"g\": task #1: depth: applies to book tasks only, this task collects trades",
                  "t.toml:12:15: group \"g\": task #1: book_deltas: applies to book tasks only, this task collects "
                  "trades");
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"stream\"\nchannel = \"book\"\ndepth = 50\n"
             "book_deltas = true\n", head);
    book_cfg = parse_ok(text);
    TT_ASSERT(book_cfg && book_cfg->groups[0].tasks[0].depth == 50 && book_cfg->groups[0].tasks[0].book_deltas);
    config_free(book_cfg);
    /* A group may collect both channels, each by stream and by poll. */
    snprintf(text, sizeof text, "%s[[group.task]]\nkind = \"stream\"\nchannel = \"trades\"\n"
             "[[group.task]]\nkind = \"poll\"\nchannel = \"trades\"\n[[group.task]]\nkind = \"stream\"\n", head);
    struct tickd_config *cfg = parse_ok(text);
    TT_ASSERT(cfg && cfg->groups[0].ntasks == 3);
    TT_ASSERT_STR(cfg->groups[0].tasks[0].channel, "trades");
    TT_ASSERT_STR(cfg->groups[0].tasks[1].channel, "trades");
    TT_ASSERT_STR(cfg->groups[0].tasks[2].channel, "bbo");
    config_free(cfg);
}

/* Venue and channel names are the venue table's (venue.h): no list of the config's own to fall out of step. */
static void test_channels_by_venue(void) {
    char text[1024];
    for (size_t i = 0; venue_at(i); i++) {
        const struct venue_ops *v = venue_at(i);
        snprintf(text, sizeof text, "[[source]]\nname = \"s\"\nvenue = \"%s\"\n[[group]]\nname = \"g\"\n"
                 "source = \"s\"\nsymbols = [\"BTC-USD\"]\n[[group.task]]\nkind = \"stream\"\n", v->name);
        struct tickd_config *cfg = parse_ok(text);
        TT_ASSERT(cfg && cfg->sources[0].venue == v);
        TT_ASSERT(venue_channel_find(v, cfg->groups[0].tasks[0].channel) == v->channels);
        config_free(cfg);
        /* A channel no venue serves: refused at its own line, naming the venue and what it does serve. */
        snprintf(text, sizeof text, "[[source]]\nname = \"s\"\nvenue = \"%s\"\n[[group]]\nname = \"g\"\n"
                 "source = \"s\"\nsymbols = [\"BTC-USD\"]\n[[group.task]]\nkind = \"poll\"\n"
                 "channel = \"depth\"\n", v->name);
        char want[256];
        snprintf(want, sizeof want, "t.toml:10:11: group \"g\": task #1: channel: venue %s has no channel \"depth\" "
                 "(has: bbo, trades, book)", v->name);
        EXPECT_ERRORS(text, want);
    }
    /* The source's venue decides, also for a group defined before its source. */
    EXPECT_ERRORS("[[group]]\nname = \"g\"\nsource = \"s\"\nsymbols = [\"BTC-USD\"]\n[[group.task]]\n"
                  "kind = \"stream\"\nchannel = \"depth\"\n[[source]]\nname = \"s\"\nvenue = \"okx\"\n",
                  "t.toml:7:11: group \"g\": task #1: channel: venue okx has no channel \"depth\" "
                  "(has: bbo, trades, book)");
    /* An unknown venue is one error: its groups' channels are not judged against a venue that is not there. */
    EXPECT_ERRORS("[[source]]\nname = \"s\"\nvenue = \"bitmex\"\n[[group]]\nname = \"g\"\nsource = \"s\"\n"
                  "symbols = [\"BTC-USD\"]\n[[group.task]]\nkind = \"stream\"\nchannel = \"book\"\n",
                  "t.toml:3:9: source \"s\": venue: expected one of binance | coinbase | kraken | okx, got \"bitmex\"");
}

/* A key a source leaves out takes its venue's default, from the venue's own file. */
static void test_defaults_are_the_venues(void) {
    char text[256];
    for (size_t i = 0; venue_at(i); i++) {
        const struct venue_ops *v = venue_at(i);
        snprintf(text, sizeof text, "[[source]]\nname = \"s\"\nvenue = \"%s\"\n", v->name);
        struct tickd_config *cfg = parse_ok(text);
        TT_ASSERT(cfg != NULL);
        if (!cfg) continue;
        const struct config_source *s = &cfg->sources[0];
        TT_ASSERT_STR(s->rest_url, v->defaults.rest_url);
        TT_ASSERT_STR(s->ws_url, v->defaults.ws_url);
        TT_ASSERT_INT(s->limits.weight_per_minute, v->defaults.weight_per_minute);
        TT_ASSERT_INT(s->limits.requests_per_second, v->defaults.requests_per_second);
        TT_ASSERT_INT(s->limits.ws_messages_per_second, v->defaults.ws_messages_per_second);
        TT_ASSERT_INT(s->limits.ws_streams_per_connection, v->defaults.ws_streams_per_connection);
        config_free(cfg);
    }
}

static void test_error_syntax_and_file(void) {
    EXPECT_ERRORS("[daemon]\nlog_level = \n",
                  "t.toml:2:13: expected a value (string, number, boolean, date-time, array or inline table), "
                  "found end of line");
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    TT_ASSERT(config_load("/nonexistent/tickd.toml", &cfg, &errs) < 0);
    TT_ASSERT_INT(errs.len, 1);
    TT_ASSERT_STR(errs.items[0].msg, "/nonexistent/tickd.toml: cannot read: No such file or directory");
    config_errors_free(&errs);
}

static void test_all_errors_reported_in_order(void) {
    EXPECT_ERRORS("[[group]]\nname = \"x\"\nsource = \"y\"\nsymbols = [\"A-B\"]\n[[group.task]]\nkind = \"stream\"\n"
                  "[redis]\nhistory = -5\n[daemon]\nlog_format = \"xml\"\nstats_interval = \"5x\"\nfoo = 1\n",
                  "t.toml:3:10: group \"x\": source \"y\" is not defined",
                  "t.toml:8:11: redis.history: must be at least 0, got -5",
                  "t.toml:10:14: daemon.log_format: expected one of logfmt | json, got \"xml\"",
                  "t.toml:11:18: daemon.stats_interval: expected a duration with a unit (ms, s, m, h) such as "
                  "\"30s\", got \"5x\"",
                  "t.toml:12:7: daemon: unknown key \"foo\"");
}

/* The log lines of stmt, through a temp file. */
static void capture_summary(const struct tickd_config *cfg) {
    char tmpl[] = "/tmp/tickd-cfglogXXXXXX";
    int fd = mkstemp(tmpl);
    unlink(tmpl);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    log_set_fd(fd);
    config_log_summary(cfg);
    log_set_fd(-1);
    ssize_t n = pread(fd, captured, sizeof captured - 1, 0);
    captured[n < 0 ? 0 : n] = 0;
    close(fd);
}

static void test_password_file_read_not_leaked(void) {
    char dir[] = "/tmp/tickd-cfgXXXXXX", path[256], text[1024];
    TT_ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/redis-pw", dir);
    FILE *f = fopen(path, "w");
    TT_ASSERT(f != NULL);
    fputs("s3cr3t-redis\n", f);
    fclose(f);
    TT_ASSERT(chmod(path, 0600) == 0);
    snprintf(text, sizeof text,
             "[redis]\nurl = \"redis://:inline-pw@127.0.0.1:6379/1\"\npassword_file = \"%s\"\n"
             "[rabbitmq]\nurl = \"amqp://u:amqp-pw@127.0.0.1/%%2f\"\npassword_file = \"redis-pw\"\n",
             path);
    /* Relative: resolved in $CREDENTIALS_DIRECTORY, as systemd's LoadCredential= provides it. */
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    struct tickd_config *cfg = parse_ok(text);
    unsetenv("CREDENTIALS_DIRECTORY");
    unlink(path);
    rmdir(dir);
    TT_ASSERT(cfg != NULL);
    TT_ASSERT_STR(cfg->redis.password, "s3cr3t-redis");
    TT_ASSERT_STR(cfg->rabbitmq.password, "s3cr3t-redis");
    capture_summary(cfg);
    config_free(cfg);
    TT_ASSERT(strstr(captured, "url=redis://:***@127.0.0.1:6379/1") != NULL);
    TT_ASSERT(strstr(captured, "s3cr3t") == NULL);
    TT_ASSERT(strstr(captured, "inline-pw") == NULL);
    TT_ASSERT(strstr(captured, "amqp-pw") == NULL);

    /* Missing or empty files are errors; a bad URL is shown without its password. */
    EXPECT_ERRORS("[redis]\npassword_file = \"/nonexistent/pw\"\n",
                  "t.toml:2:17: redis.password_file: cannot read \"/nonexistent/pw\": No such file or directory");
    EXPECT_ERRORS("[rabbitmq]\nurl = \"http://u:amqp-pw@h/\"\n",
                  "t.toml:2:7: rabbitmq.url: expected a URL amqp|amqps://host[:port][/path], got \"http://u:***@h/\"");
    /* systemd's SetCredential= fallback: an empty file. */
    snprintf(path, sizeof path, "%s/empty", dir);
    TT_ASSERT(mkdir(dir, 0700) == 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    TT_ASSERT(fd >= 0);
    close(fd);
    snprintf(text, sizeof text, "[rabbitmq]\npassword_file = \"%s\"\n", path);
    char want[512];
    snprintf(want, sizeof want, "t.toml:2:17: rabbitmq.password_file: cannot read \"%s\": the file is empty", path);
    EXPECT_ERRORS(text, want);
    unlink(path);
    rmdir(dir);
}


static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Writes text to dir/name with mode; returns the path (static). */
static const char *write_file(const char *dir, const char *name, const char *text, mode_t mode) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return chmod(path, mode) == 0 ? path : NULL;
}

/* The one error of a file whose redis.password_file is path. */
static const char *password_file_error(const char *path) {
    static char text[1024], msg[1024];
    snprintf(text, sizeof text, "[redis]\npassword_file = \"%s\"\n", path);
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    int rc = config_parse("t.toml", text, strlen(text), &cfg, &errs);
    snprintf(msg, sizeof msg, "%s", rc == 0 ? "(accepted)" : errs.len == 1 ? errs.items[0].msg : "(several errors)");
    config_errors_free(&errs);
    config_free(cfg);
    return msg;
}

/* A FIFO as the config or as a password file hung --check-config (and a reload on the loop thread) in open();
 * a password file others could read was taken silently. Files are opened without blocking and refused unless
 * they are regular, bounded in size, and (secrets) private to their owner. */
static void test_files_must_be_regular_bounded_and_private(void) {
    char dir[] = "/tmp/tickd-cfgfileXXXXXX", fifo[256], want[1024];
    TT_ASSERT(mkdtemp(dir) != NULL);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    TT_ASSERT(mkfifo(fifo, 0600) == 0);
    alarm(20); /* without the fix open() waits for a writer forever: the alarm ends the test as a failure */

    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    TT_ASSERT(config_load(fifo, &cfg, &errs) < 0);
    TT_ASSERT_INT(errs.len, 1);
    snprintf(want, sizeof want, "%s: cannot read: not a regular file", fifo);
    TT_ASSERT_STR(errs.items[0].msg, want);
    config_errors_free(&errs);
    TT_ASSERT(config_load(dir, &cfg, &errs) < 0);
    snprintf(want, sizeof want, "%s: cannot read: not a regular file", dir);
    TT_ASSERT_STR(errs.items[0].msg, want);
    config_errors_free(&errs);

    snprintf(want, sizeof want, "t.toml:2:17: redis.password_file: cannot read \"%s\": not a regular file", fifo);
    TT_ASSERT_STR(password_file_error(fifo), want);
    TT_ASSERT_STR(password_file_error("/dev/zero"),
                  "t.toml:2:17: redis.password_file: cannot read \"/dev/zero\": not a regular file");
    alarm(0);

    const char *pw = write_file(dir, "pw", "s3cret\n", 0644);
    TT_ASSERT(pw != NULL);
    snprintf(want, sizeof want, "t.toml:2:17: redis.password_file: cannot read \"%s\": readable or writable by "
             "group or others: chmod 0600 \"%s\"", pw, pw);
    TT_ASSERT_STR(password_file_error(pw), want);
    TT_ASSERT(strstr(password_file_error(pw), "s3cret") == NULL);
    TT_ASSERT(chmod(pw, 0620) == 0); /* writable by the group: someone else could choose the password */
    TT_ASSERT_STR(password_file_error(pw), want);
    TT_ASSERT(chmod(pw, 0400) == 0);
    TT_ASSERT_STR(password_file_error(pw), "(accepted)");
    TT_ASSERT(chmod(pw, 0600) == 0);
    TT_ASSERT_STR(password_file_error(pw), "(accepted)");

    /* Relative to $CREDENTIALS_DIRECTORY: the message names the file that was opened. */
    TT_ASSERT(chmod(pw, 0640) == 0);
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    snprintf(want, sizeof want, "t.toml:2:17: redis.password_file: cannot read \"pw\": readable or writable by "
             "group or others: chmod 0600 \"%s/pw\"", dir);
    TT_ASSERT_STR(password_file_error("pw"), want);
    unsetenv("CREDENTIALS_DIRECTORY");
    unlink(pw);

    static char big[5000];
    memset(big, 'x', sizeof big - 1);
    const char *bigpw = write_file(dir, "big", big, 0600);
    TT_ASSERT(bigpw != NULL);
    snprintf(want, sizeof want, "t.toml:2:17: redis.password_file: cannot read \"%s\": longer than 4096 bytes", bigpw);
    TT_ASSERT_STR(password_file_error(bigpw), want);
    unlink(bigpw);

    /* The config itself: at most 16 MiB. */
    char cfgpath[512];
    snprintf(cfgpath, sizeof cfgpath, "%s/big.toml", dir);
    FILE *f = fopen(cfgpath, "w");
    TT_ASSERT(f != NULL);
    TT_ASSERT(fseek(f, 16 << 20, SEEK_SET) == 0 && fputc('\n', f) == '\n');
    fclose(f);
    TT_ASSERT_INT(config_load(cfgpath, &cfg, &errs), -EFBIG);
    snprintf(want, sizeof want, "%s: cannot read: larger than 16 MiB", cfgpath);
    TT_ASSERT_STR(errs.items[0].msg, want);
    config_errors_free(&errs);
    unlink(cfgpath);
    unlink(fifo);
    rmdir(dir);
}

/* A password holding '/', '?' or '#' was printed whole: the redaction stopped at the first of them, taking it
 * for the start of the path. The userinfo ends at the last '@', in the parser and in every message. */
static void test_passwords_with_url_delimiters_never_printed(void) {
    struct config_url u;
    TT_ASSERT(config_url_parse("redis://:pa/ss?w#r@d@127.0.0.1:6380/2", &u) == 0);
    TT_ASSERT_STR(u.password, "pa/ss?w#r@d");
    TT_ASSERT_STR(u.host, "127.0.0.1");
    TT_ASSERT_INT(u.port, 6380);
    TT_ASSERT_STR(u.path, "/2");
    TT_ASSERT(config_url_parse("redis://h/0?#x", &u) == 0 && strcmp(u.host, "h") == 0 && !u.has_password);

    char out[256];
    TT_ASSERT_STR(log_redact_url("redis://:pa/ss?w#r@d@127.0.0.1:6380/2", out, sizeof out),
                  "redis://:***@127.0.0.1:6380/2");
    TT_ASSERT_STR(log_redact_url("amqp://u:se#cret@h/%2f", out, sizeof out), "amqp://u:***@h/%2f");
    TT_ASSERT_STR(log_redact_url("https://h:8443/x?y=1", out, sizeof out), "https://h:8443/x?y=1");

    /* Accepted for Redis, and logged redacted. */
    struct tickd_config *cfg = parse_ok("[redis]\nurl = \"redis://:pa/ss?w#rd@127.0.0.1:6380/2\"\n");
    TT_ASSERT(cfg != NULL);
    capture_summary(cfg);
    config_free(cfg);
    TT_ASSERT(strstr(captured, "url=redis://:***@127.0.0.1:6380/2") != NULL);
    TT_ASSERT(strstr(captured, "pa/ss") == NULL && strstr(captured, "w#rd") == NULL);

    /* Refused URLs: the message shows them redacted. */
    EXPECT_ERRORS("[rabbitmq]\nurl = \"http://u:se/cr?et#x@h/\"\n",
                  "t.toml:2:7: rabbitmq.url: expected a URL amqp|amqps://host[:port][/path], got \"http://u:***@h/\"");
    EXPECT_ERRORS("[redis]\nurl = \"redis://:pw/with?all#three@\"\n",
                  "t.toml:2:7: redis.url: expected a URL redis://host[:port][/path], got \"redis://:***@\"");
    EXPECT_ERRORS("[redis]\nurl = \"redis://:s3/cr3t@host:99999/0\"\n",
                  "t.toml:2:7: redis.url: expected a URL redis://host[:port][/path], got \"redis://:***@host:99999/0\"");
    /* rabbitmq-c ends the password at these: refused, without saying which character the password holds. */
    EXPECT_ERRORS("[rabbitmq]\nurl = \"amqp://u:se/cr#et@127.0.0.1/%2f\"\n",
                  "t.toml:2:7: rabbitmq.url: the user or password holds one of :/?#@[]: percent-encode it (a '/' "
                  "is %2F) or put the password in password_file; got \"amqp://u:***@127.0.0.1/%2f\"");
    cfg = parse_ok("[rabbitmq]\nurl = \"amqp://u:se%2Fcr%23et@127.0.0.1/%2f\"\n");
    TT_ASSERT(cfg != NULL);
    config_free(cfg);
}

/* Durations and integers at and past 64 bits are errors, never a wrapped value. */
static void test_numbers_do_not_wrap(void) {
    uint64_t ms = 0;
    TT_ASSERT(config_parse_duration("5124095576030431h", &ms) < 0); /* * 3,600,000 passes 2^64 */
    TT_ASSERT(config_parse_duration("307445734561825860m", &ms) < 0);
    TT_ASSERT(config_parse_duration("18446744073709551615ms1ms", &ms) < 0);
    TT_ASSERT(config_parse_duration("18446744073709551615s", &ms) < 0);
    TT_ASSERT(config_parse_duration("5124095576030h", &ms) == 0 && ms == 5124095576030ull * 3600000ull);
    EXPECT_ERRORS("[daemon]\nstats_interval = \"5124095576030431h\"\n",
                  "t.toml:2:18: daemon.stats_interval: expected a duration with a unit (ms, s, m, h) such as "
                  "\"30s\", got \"5124095576030431h\"");
    EXPECT_ERRORS("[redis]\nhistory = 9223372036854775807\n",
                  "t.toml:2:11: redis.history: must be at most 10000000, got 9223372036854775807");
    EXPECT_ERRORS("[redis]\nhistory = 9223372036854775808\n",
                  "t.toml:2:11: integer out of range: does not fit in 64 bits");
    EXPECT_ERRORS("[redis]\nhistory = -9223372036854775808\n",
                  "t.toml:2:11: redis.history: must be at least 0, got -9223372036854775808");
}

/* limits.max_pause: 5 minutes unless given, 1 s to 24 h. */
static void test_max_pause(void) {
    struct tickd_config *cfg = parse_ok(MINIMAL);
    TT_ASSERT(cfg != NULL);
    TT_ASSERT_INT(cfg->sources[0].limits.max_pause_ms, 300000);
    config_free(cfg);
    cfg = parse_ok("[[source]]\nname = \"cb\"\nvenue = \"coinbase\"\nlimits.max_pause = \"90s\"\n"
                   "[[group]]\nname = \"g\"\nsource = \"cb\"\nsymbols = [\"btc-usd\"]\n[[group.task]]\nkind = \"poll\"\n");
    TT_ASSERT(cfg != NULL);
    TT_ASSERT_INT(cfg->sources[0].limits.max_pause_ms, 90000);
    config_free(cfg);
    EXPECT_ERRORS("[[source]]\nname = \"cb\"\nvenue = \"coinbase\"\nlimits.max_pause = \"500ms\"\n",
                  "t.toml:4:20: source \"cb\": limits.max_pause: must be at least 1s, got \"500ms\"");
    EXPECT_ERRORS("[[source]]\nname = \"cb\"\nvenue = \"coinbase\"\nlimits.max_pause = \"2d\"\n",
                  "t.toml:4:20: source \"cb\": limits.max_pause: expected a duration with a unit (ms, s, m, h) such "
                  "as \"30s\", got \"2d\"");
}

/* A list of 100,000 symbols was checked for duplicates pair by pair (minutes), and so were 100,000 groups for
 * their names and sources; a file of 100,000 unknown keys made as many messages, each with a "did you mean"
 * search. Sorted checks make them O(n log n) and errors past 100 are counted, not written. The times are
 * printed for the log (no assertion on speed). */
static void test_large_files_stay_linear(void) {
    size_t n = 100000;
    char *text = malloc(n * 64 + 4096), *w = text;
    TT_ASSERT(text != NULL);
    w += sprintf(w, "[[source]]\nname = \"cb\"\nvenue = \"coinbase\"\n[[group]]\nname = \"big\"\nsource = \"cb\"\n"
                    "symbols = [");
    for (size_t i = 0; i < n; i++) w += sprintf(w, "\"S%zu-USD\",", (i * 7919) % n);
    w += sprintf(w, "\"s5-usd\"]\n[[group.task]]\nkind = \"poll\"\n");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    TT_ASSERT(config_parse("t.toml", text, (size_t)(w - text), &cfg, &errs) < 0);
    fprintf(stderr, "    %zu symbols checked in %.3f s\n", n + 1, seconds_since(&t0));
    TT_ASSERT_INT(errs.len, 1);
    TT_ASSERT(strstr(errs.items[0].msg, "symbols: \"S5-USD\" is listed twice") != NULL);
    config_errors_free(&errs);

    w = text;
    w += sprintf(w, "[[source]]\nname = \"s0\"\nvenue = \"okx\"\n");
    for (size_t i = 0; i < n / 4; i++)
        w += sprintf(w, "[[group]]\nname = \"g%zu\"\nsource = \"s0\"\nsymbols = [\"A-B\"]\ntask = [{kind = \"poll\"}]\n",
                     (i * 7919) % (n / 4));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TT_ASSERT_INT(config_parse("t.toml", text, (size_t)(w - text), &cfg, &errs), 0);
    fprintf(stderr, "    %zu groups checked in %.3f s\n", n / 4, seconds_since(&t0));
    TT_ASSERT_INT(cfg->ngroups, n / 4);
    const struct config_group *g = config_find_group(cfg, "g1234");
    TT_ASSERT(g && strcmp(g->name, "g1234") == 0 && g->source == config_find_source(cfg, "s0"));
    TT_ASSERT(config_find_group(cfg, "g25000") == NULL && config_find_source(cfg, "s1") == NULL);
    config_free(cfg);

    w = text;
    w += sprintf(w, "[daemon]\n");
    for (size_t i = 0; i < n; i++) w += sprintf(w, "log_levelxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx%zu = 1\n", i);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TT_ASSERT(config_parse("t.toml", text, (size_t)(w - text), &cfg, &errs) < 0);
    fprintf(stderr, "    %zu unknown keys reported in %.3f s\n", n, seconds_since(&t0));
    TT_ASSERT_INT(errs.len, 101);
    TT_ASSERT_STR(errs.items[0].msg,
                  "t.toml:2:58: daemon: unknown key \"log_levelxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx0\"");
    TT_ASSERT_STR(errs.items[100].msg, "t.toml: 99900 more errors not shown");
    config_errors_free(&errs);
    free(text);
}

static void test_reload_comparisons(void) {
    struct tickd_config *a = parse_ok(MINIMAL);
    struct tickd_config *b = parse_ok("[daemon]\nlog_level = \"debug\"\n" MINIMAL);
    TT_ASSERT(a && b);
    TT_ASSERT(config_group_equal(&a->groups[0], &b->groups[0]));
    TT_ASSERT(config_source_equal(&a->sources[0], &b->sources[0]));
    TT_ASSERT(config_restart_key(a, b) == NULL); /* log_level applies live */
    config_free(b);

    /* A changed source limit changes the source and every group on it. */
    b = parse_ok(MINIMAL "[source.limits]\nrequests_per_second = 4\n");
    TT_ASSERT(b != NULL);
    TT_ASSERT(!config_source_equal(&a->sources[0], &b->sources[0]));
    TT_ASSERT(!config_group_equal(&a->groups[0], &b->groups[0]));
    config_free(b);

    b = parse_ok("[[source]]\nname = \"cb\"\nvenue = \"coinbase\"\n"
                 "[[group]]\nname = \"g\"\nsource = \"cb\"\nsymbols = [\"BTC-USD\", \"ETH-USD\"]\n"
                 "[[group.task]]\nkind = \"poll\"\n");
    TT_ASSERT(b != NULL);
    TT_ASSERT(config_source_equal(&a->sources[0], &b->sources[0]));
    TT_ASSERT(!config_group_equal(&a->groups[0], &b->groups[0]));
    config_free(b);

    /* Patterns, exclude and max are the group's keys: a change in any restarts it; the same ones keep it. */
    const char *variants[] = {
        PATTERN_GROUP("[\"BTC-USDT\", \"*-USDT\"]", "exclude = [\"*UP-*\"]\nmax = 50\n"),
        PATTERN_GROUP("[\"BTC-USDT\", \"*-USDC\"]", "exclude = [\"*UP-*\"]\nmax = 50\n"),
        PATTERN_GROUP("[\"BTC-USDT\", \"*-USDT\", \"*-USDC\"]", "exclude = [\"*UP-*\"]\nmax = 50\n"),
        PATTERN_GROUP("[\"*-USDT\", \"BTC-USDT\"]", "exclude = [\"*UP-*\"]\nmax = 50\n"), /* same lists */
        PATTERN_GROUP("[\"BTC-USDT\", \"*-USDT\"]", "exclude = [\"*DOWN-*\"]\nmax = 50\n"),
        PATTERN_GROUP("[\"BTC-USDT\", \"*-USDT\"]", "exclude = [\"*UP-*\"]\nmax = 51\n"),
        PATTERN_GROUP("[\"BTC-USDT\", \"*-USDT\"]", "exclude = [\"*UP-*\"]\n"),
        PATTERN_GROUP("[\"BTC-USDT\", \"*-USDT\"]", "max = 50\n"),
        PATTERN_GROUP("[\"BTC-USDT\"]", ""),
    };
    struct tickd_config *v0 = parse_ok(variants[0]);
    TT_ASSERT(v0 != NULL);
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        struct tickd_config *vi = parse_ok(variants[i]);
        TT_ASSERT(vi != NULL);
        bool same = i == 0 || i == 3;
        if (config_group_equal(&v0->groups[0], &vi->groups[0]) != same)
            TT_FAIL("variant %zu: the group is %s", i, same ? "changed" : "unchanged");
        TT_ASSERT(config_restart_key(v0, vi) == NULL);
        config_free(vi);
    }
    config_free(v0);

    b = parse_ok("[redis]\nurl = \"redis://127.0.0.1:6380/0\"\n" MINIMAL);
    TT_ASSERT(b != NULL);
    TT_ASSERT_STR(config_restart_key(a, b), "redis.url");
    config_free(b);
    config_free(a);
}

static void test_reference_lists_every_key(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    config_print_reference(f);
    fclose(f);
    const char *keys[128];
    size_t n = config_schema_keys(keys, 128);
    for (size_t i = 0; i < n; i++) {
        char cell[96];
        snprintf(cell, sizeof cell, "| `%s` |", strrchr(keys[i], '.') + 1);
        if (!strstr(buf, cell)) {
            free(buf);
            TT_FAIL("reference lacks %s", keys[i]);
        }
    }
    TT_ASSERT(strstr(buf, "### [[group.task]]") != NULL);
    free(buf);
}

int main(void) {
    TT_RUN(test_example_loads);
    TT_RUN(test_example_shows_every_key);
    TT_RUN(test_defaults);
    TT_RUN(test_durations);
    TT_RUN(test_symbols_and_urls);
    TT_RUN(test_error_unknown_key_and_type);
    TT_RUN(test_error_values);
    TT_RUN(test_error_sources_and_groups);
    TT_RUN(test_patterns);
    TT_RUN(test_pattern_errors);
    TT_RUN(test_error_tasks);
    TT_RUN(test_error_syntax_and_file);
    TT_RUN(test_all_errors_reported_in_order);
    TT_RUN(test_password_file_read_not_leaked);
    TT_RUN(test_files_must_be_regular_bounded_and_private);
    TT_RUN(test_passwords_with_url_delimiters_never_printed);
    TT_RUN(test_numbers_do_not_wrap);
    TT_RUN(test_max_pause);
    TT_RUN(test_large_files_stay_linear);
    TT_RUN(test_reload_comparisons);
    TT_RUN(test_reference_lists_every_key);
    TT_RUN(test_channels_by_venue);
    TT_RUN(test_defaults_are_the_venues);
    return tt_finish();
}
