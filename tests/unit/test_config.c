/* Unit tests of the config schema: the example file, defaults, every error class with its exact message,
 * secrets read from files and never printed, value syntaxes, and the comparisons a reload uses. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tickd/config.h"
#include "tickd/toml.h"
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
    TT_ASSERT(b && b->venue == CONFIG_VENUE_BINANCE);
    TT_ASSERT_STR(b->ws_url, "wss://stream.binance.com:9443");
    TT_ASSERT_INT(b->limits.weight_per_minute, 6000);
    TT_ASSERT_INT(b->limits.ws_streams_per_connection, 1024);
    const struct config_group *g = config_find_group(cfg, "binance-majors");
    TT_ASSERT(g && g->source == b);
    TT_ASSERT_INT(g->nsymbols, 3);
    TT_ASSERT_STR(g->symbols[0], "BTC-USDT");
    TT_ASSERT_INT(g->ntasks, 2);
    TT_ASSERT(g->tasks[1].kind == CONFIG_TASK_POLL);
    TT_ASSERT_INT(g->tasks[1].interval_ms, 1000);
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

static void test_example_shows_every_key(void) {
    FILE *f = fopen(example_path(), "r");
    TT_ASSERT(f != NULL);
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    char err[256];
    toml_value *root = toml_parse(text, len, err, sizeof err);
    TT_ASSERT(root != NULL);
    const char *keys[128];
    size_t n = config_schema_keys(keys, 128);
    TT_ASSERT(n > 20 && n <= 128);
    int missing = 0;
    for (size_t i = 0; i < n; i++)
        if (!has_key(root, keys[i])) {
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
    TT_ASSERT(g->tasks[0].channel == CONFIG_CHANNEL_BBO);
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
                  "digits, one dash), got \"BTCUSD\"");
    EXPECT_ERRORS(MINIMAL "[[group]]\nname = \"h\"\nsource = \"cb\"\nrestart = \"always\"\nsymbols = [\"A-B\"]\n",
                  "t.toml:10:1: group \"h\": missing [[group.task]], expected at least one",
                  "t.toml:13:11: group \"h\": restart: expected one of permanent | transient | temporary, got "
                  "\"always\"");
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
    snprintf(text, sizeof text, "%s[[group.task]]\nchannel = \"trades\"\n", head);
    EXPECT_ERRORS(text, "t.toml:8:1: group \"g\": task #1: missing key \"kind\"",
                  "t.toml:9:11: group \"g\": task #1: channel: expected one of bbo, got \"trades\"");
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

static char captured[16384];

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
    EXPECT_ERRORS("[rabbitmq]\npassword_file = \"/dev/null\"\n",
                  "t.toml:2:17: rabbitmq.password_file: cannot read \"/dev/null\": the file is empty");
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
    TT_RUN(test_error_tasks);
    TT_RUN(test_error_syntax_and_file);
    TT_RUN(test_all_errors_reported_in_order);
    TT_RUN(test_password_file_read_not_leaked);
    TT_RUN(test_reload_comparisons);
    TT_RUN(test_reference_lists_every_key);
    return tt_finish();
}
