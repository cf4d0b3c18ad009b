/* config.c -- one schema table turns the TOML tree into a struct tickd_config.
 *
 * Every key is a row: name, type, where it goes (an offset into its struct), its default as text, its bounds
 * and a description. The same rows drive parsing, defaults, validation, freeing, comparing two configs for a
 * reload, and the printed reference, so a new key is one new row (the idea of Redis's static_configs).
 * Tables and arrays of tables are rows too, pointing at the table of their own rows.
 *
 * Errors never stop the walk: each bad key is reported with its position and the key is left zeroed, so one
 * run reports every problem of the file. Defaults go through the same conversions as the file's values. */
#define _GNU_SOURCE /* asprintf */
#include "tickd/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tickd/symbol_select.h"
#include "tickd/toml.h"
#include "tickd/venue.h"

#define CONFIG_FILE_MAX (16 << 20)
#define SECRET_MAX 4096
#define NOT_REGULAR (-ESPIPE)  /* read_file: a FIFO, socket, device or directory */
#define NOT_PRIVATE (-EPERM)   /* read_file: a secret that group or others may read or write */
#define NAME_MAX_LEN 64
/* Errors kept with their message; past this they are only counted, so a file of a million bad lines costs
 * neither a million messages nor the "did you mean" search for each. */
#define ERRORS_SHOWN_MAX 100
#define MS_SECOND 1000ull
#define MS_MINUTE (60 * MS_SECOND)
#define MS_HOUR (60 * MS_MINUTE)

/* ---- the schema ------------------------------------------------------------------------------------------ */

enum row_type {
    T_NAME,     /* identifier: letters, digits, '_', '.', '-' */
    T_PATH,     /* a file path, "" = none */
    T_SECRET,   /* a path whose file is read at load; aux_offset gets the contents */
    T_ENUM,     /* one of values, stored as int */
    T_VENUE,    /* a registered venue's name -> const struct venue_ops * (venue_find); later rows default by it */
    T_CHANNEL,  /* a name as T_NAME; check_root checks it against the channels of the group's venue */
    T_DURATION, /* "30s" -> uint64 ms */
    T_UINT,     /* TOML integer -> uint64 */
    T_BOOL,
    T_URL,      /* string, scheme one of schemes, with a host */
    T_SYMBOLS,  /* array of names and patterns (symbol_select.h) -> char **, count at aux_offset; with pat_offset
                 * the patterns go apart, to the char ** at pat_offset - 1, their count at pat_aux_offset */
    T_TABLE,    /* a sub-table: sub's rows apply at offset */
    T_TABLES,   /* an array of tables: a malloc'd array at offset, count at aux_offset */
};

enum row_flags {
    F_REQUIRED = 1 << 0, /* no default: the key must be given */
    F_RESTART = 1 << 1,  /* a reload cannot apply a change: the daemon must restart */
    F_READABLE = 1 << 2, /* T_PATH: a file that must be readable when the config is loaded */
};

struct enum_value {
    const char *name;
    int value;
};

struct section;

struct row {
    const char *name;
    enum row_type type;
    size_t offset;
    const char *def;                           /* default as it would be written, unquoted */
    size_t venue_def;                          /* BY_VENUE: the default is the venue's (venue.h) */
    uint64_t min, max;                         /* T_UINT, T_DURATION (ms) */
    const struct enum_value *values;           /* T_ENUM, ends with {NULL} */
    const char *schemes;                       /* T_URL: space-separated */
    size_t aux_offset;
    size_t pat_offset, pat_aux_offset;         /* T_SYMBOLS: where patterns go, apart from names (+1; 0 = with them) */
    size_t elem_size;                          /* T_TABLES */
    const struct section *sub;                 /* T_TABLE, T_TABLES */
    unsigned flags;
    const char *doc;
};

struct ctx;

struct section {
    const char *name;  /* "task": used in element labels ("task #2") */
    const char *toml_path; /* "group.task": as written in a [[header]] */
    const struct row *rows;
    size_t nrows;
    bool named;        /* elements have a "name" key that labels them in messages */
    size_t pos_offset; /* int line, col of an element; SIZE_MAX for none */
    void (*check)(struct ctx *c, const toml_value *tab, void *base); /* what spans several keys */
};

#define NO_POS SIZE_MAX
#define ROWS(a) (a), sizeof(a) / sizeof((a)[0])
#define ROW(st, field, nm, typ, ...) {.name = (nm), .type = (typ), .offset = offsetof(st, field), __VA_ARGS__}
/* The default is the venue's venue_defaults.field: a string for T_URL rows, a uint32_t for T_UINT rows. */
#define BY_VENUE(field) .venue_def = offsetof(struct venue_defaults, field) + 1

static const struct enum_value log_levels[] = {
    {"error", LOG_LEVEL_ERROR}, {"warn", LOG_LEVEL_WARN}, {"info", LOG_LEVEL_INFO}, {"debug", LOG_LEVEL_DEBUG}, {0}};
static const struct enum_value log_formats[] = {{"logfmt", LOG_FORMAT_LOGFMT}, {"json", LOG_FORMAT_JSON}, {0}};
static const struct enum_value restarts[] = {{"permanent", CONFIG_RESTART_PERMANENT},
                                             {"transient", CONFIG_RESTART_TRANSIENT},
                                             {"temporary", CONFIG_RESTART_TEMPORARY},
                                             {0}};
static const struct enum_value task_kinds[] = {{"stream", CONFIG_TASK_STREAM}, {"poll", CONFIG_TASK_POLL}, {0}};

_Static_assert(sizeof(enum log_level) == sizeof(int) && sizeof(enum config_restart) == sizeof(int) &&
                   sizeof(enum config_task_kind) == sizeof(int) && sizeof(enum log_format) == sizeof(int),
               "T_ENUM stores enums as int");

static void check_supervisor(struct ctx *c, const toml_value *tab, void *base);
static void check_task(struct ctx *c, const toml_value *tab, void *base);
static void check_group(struct ctx *c, const toml_value *tab, void *base);
static void check_root(struct ctx *c, const toml_value *tab, void *base);

static const struct row daemon_rows[] = {
    ROW(struct config_daemon, log_level, "log_level", T_ENUM, .def = "info", .values = log_levels,
        .doc = "Least severe level logged."),
    ROW(struct config_daemon, log_format, "log_format", T_ENUM, .def = "logfmt", .values = log_formats,
        .doc = "Log line format on stderr."),
    ROW(struct config_daemon, stats_interval_ms, "stats_interval", T_DURATION, .def = "10s", .min = MS_SECOND,
        .max = MS_HOUR, .doc = "How often the stats lines are logged."),
};

static const struct row redis_rows[] = {
    ROW(struct config_redis, url, "url", T_URL, .def = "redis://127.0.0.1:6379/0", .schemes = "redis",
        .flags = F_RESTART, .doc = "Redis server; the path selects the database. A password may be given inline."),
    ROW(struct config_redis, key_prefix, "key_prefix", T_NAME, .def = "tickd", .flags = F_RESTART,
        .doc = "First part of every key (`tickd:quote:<venue>:<symbol>`)."),
    ROW(struct config_redis, password_file, "password_file", T_SECRET, .def = "",
        .aux_offset = offsetof(struct config_redis, password), .flags = F_RESTART,
        .doc = "File holding the password (e.g. a systemd credential); replaces one in the URL. Empty: none."),
    ROW(struct config_redis, history, "history", T_UINT, .def = "0", .max = 10000000, .flags = F_RESTART,
        .doc = "Entries kept in the per-symbol history stream `tickd:ticks:<symbol>`; 0 = no history."),
    ROW(struct config_redis, trade_history, "trade_history", T_UINT, .def = "0", .max = 10000000, .flags = F_RESTART,
        .doc = "Trades kept (approximately) in the capped stream `tickd:trades:<venue>:<symbol>`; 0 = none."),
};

static const struct row rabbitmq_rows[] = {
    ROW(struct config_rabbitmq, url, "url", T_URL, .def = "amqp://guest:guest@127.0.0.1:5672/%2f",
        .schemes = "amqp amqps", .flags = F_RESTART,
        .doc = "RabbitMQ broker; the path is the vhost (`%2f` is `/`). A password may be given inline."),
    ROW(struct config_rabbitmq, exchange, "exchange", T_NAME, .def = "tickd", .flags = F_RESTART,
        .doc = "Durable topic exchange the ticks are published to (declared at connect)."),
    ROW(struct config_rabbitmq, password_file, "password_file", T_SECRET, .def = "",
        .aux_offset = offsetof(struct config_rabbitmq, password), .flags = F_RESTART,
        .doc = "File holding the password; replaces the one in the URL. Empty: none."),
    ROW(struct config_rabbitmq, confirm, "confirm", T_BOOL, .def = "true", .flags = F_RESTART,
        .doc = "Publisher confirms: a tick leaves the buffer only once the broker has confirmed it."),
    ROW(struct config_rabbitmq, buffer_limit, "buffer_limit", T_UINT, .def = "200000", .min = 1, .max = 100000000,
        .flags = F_RESTART, .doc = "Instruments held while the broker is slow or away (newer ticks replace older)."),
    ROW(struct config_rabbitmq, trade_buffer, "trade_buffer", T_UINT, .def = "67108864", .min = 65536,
        .max = 17179869184ULL, .flags = F_RESTART,
        .doc = "Bytes of trades held while the broker is slow or away; beyond it the oldest are dropped, counted "
               "(`trades_dropped`) and logged with the time range lost. Trades are never conflated. Instrument "
               "changes are held apart, in a buffer of the same size (`instruments_dropped`)."),
    ROW(struct config_rabbitmq, book_delta_buffer, "book_delta_buffer", T_UINT, .def = "67108864", .min = 65536,
        .max = 17179869184ULL, .flags = F_RESTART,
        .doc = "Bytes of book deltas (`book_deltas = true`) held while the broker is slow or away, apart from the "
               "trades; beyond it the oldest are dropped, counted (`book_deltas_dropped`) and logged with the time "
               "range lost. Deltas are never conflated."),
    ROW(struct config_rabbitmq, ca_file, "ca_file", T_PATH, .def = "", .flags = F_RESTART,
        .doc = "`amqps://` only: PEM file of the CA(s) the broker's certificate must chain to (peer and host name are "
               "always verified). Empty: the system's CA store."),
};

static const struct row merge_rows[] = {
    ROW(struct config_merge, quote_ttl_ms, "quote_ttl", T_DURATION, .def = "0s", .max = 24 * MS_HOUR,
        .doc = "A venue's quote not updated for this long leaves the symbol's best bid and offer (its own hash keeps "
               "its last value) until it ticks again; checked every quarter of it (every 250ms to 5s). `\"0s\"` = "
               "never. Set it above the longest quiet spell of the least traded symbol."),
};

static const struct row supervisor_rows[] = {
    ROW(struct config_supervisor, backoff_min_ms, "backoff_min", T_DURATION, .def = "250ms", .min = 1,
        .max = MS_HOUR, .doc = "Shortest wait before a failed group restarts (full jitter up to the backoff)."),
    ROW(struct config_supervisor, backoff_max_ms, "backoff_max", T_DURATION, .def = "30s", .min = 1,
        .max = 24 * MS_HOUR, .doc = "Longest wait before a restart; the backoff doubles up to it."),
    ROW(struct config_supervisor, max_restarts, "max_restarts", T_UINT, .def = "10", .max = 1000000,
        .doc = "Restarts allowed within restart_window; one more parks the group. 0 = never restart."),
    ROW(struct config_supervisor, restart_window_ms, "restart_window", T_DURATION, .def = "60s", .min = MS_SECOND,
        .max = 24 * MS_HOUR, .doc = "Window over which restarts are counted."),
    ROW(struct config_supervisor, forgive_after_ms, "forgive_after", T_DURATION, .def = "120s", .min = MS_SECOND,
        .max = 24 * MS_HOUR, .doc = "A group running healthily this long has its restart history forgiven."),
};

/* Defaults by venue are each venue's own (venue_defaults in its file in src/venue/). Each request weighs 1
 * except on Binance, so weight_per_minute is a request count there. */
static const struct row limits_rows[] = {
    ROW(struct config_limits, weight_per_minute, "weight_per_minute", T_UINT,
        BY_VENUE(weight_per_minute), .max = 10000000,
        .doc = "REST request weight allowed per minute (Binance REQUEST_WEIGHT); 0 = no such window."),
    ROW(struct config_limits, requests_per_second, "requests_per_second", T_UINT,
        BY_VENUE(requests_per_second), .max = 100000, .doc = "REST requests per second; 0 = no such window."),
    ROW(struct config_limits, ws_messages_per_second, "ws_messages_per_second", T_UINT,
        BY_VENUE(ws_messages_per_second), .max = 100000,
        .doc = "Client messages (subscribes, pongs) per second per websocket connection; 0 = unlimited."),
    ROW(struct config_limits, ws_streams_per_connection, "ws_streams_per_connection", T_UINT,
        BY_VENUE(ws_streams_per_connection), .min = 1, .max = 100000,
        .doc = "Subscriptions per websocket connection; a longer symbol list is split across connections."),
    ROW(struct config_limits, max_pause_ms, "max_pause", T_DURATION, .def = "5m", .min = MS_SECOND,
        .max = 24 * MS_HOUR,
        .doc = "Longest pause a 429 or 418 stops the whole source for, whatever its Retry-After asks; the log line "
               "then says what the venue asked."),
};
static const struct section limits_section = {"limits", "source.limits", ROWS(limits_rows), false, NO_POS, NULL};

static const struct row source_rows[] = {
    ROW(struct config_source, name, "name", T_NAME, .flags = F_REQUIRED,
        .doc = "Unique name; groups refer to it. One source per exchange account or IP: it owns the rate limiter."),
    ROW(struct config_source, venue, "venue", T_VENUE, .flags = F_REQUIRED,
        .doc = "Which exchange API this source speaks."),
    ROW(struct config_source, rest_url, "rest_url", T_URL, .schemes = "http https", BY_VENUE(rest_url),
        .doc = "Base URL of the venue's REST API."),
    ROW(struct config_source, ws_url, "ws_url", T_URL, .schemes = "ws wss", BY_VENUE(ws_url),
        .doc = "Websocket endpoint of the venue, scheme://host[:port] without a path: the venue adapter adds the path (`/stream`, `/v2`, `/ws/v5/public`)."),
    ROW(struct config_source, ca_file, "ca_file", T_PATH, .def = "", .flags = F_READABLE,
        .doc = "`https://` and `wss://` of this source only: PEM file of the CA(s) the venue's certificate must chain "
               "to, trusted instead of the system's CA store (peer and host name are always verified). Empty: the "
               "system's CA store."),
    ROW(struct config_source, instruments, "instruments", T_BOOL, .def = "true",
        .doc = "Load the venue's instrument list (below). `false`: no list is loaded (no request to the venue for it): "
               "the names are subscribed as given, unchecked, halts and delistings are not followed, no metadata is "
               "written, and a group of this source cannot use patterns."),
    ROW(struct config_source, instruments_refresh_ms, "instruments_refresh", T_DURATION, .def = "10m",
        .max = 24 * MS_HOUR,
        .doc = "How often the venue's instrument list is loaded again (at start, then every this long), through the "
               "source's limiter: new listings matching a group's patterns are subscribed, halted and delisted "
               "instruments unsubscribed and taken out of the best bid and offer, the instruments' metadata "
               "written to the sinks. A failed load keeps the last good list. `\"0s\"`: loaded at start only."),
    ROW(struct config_source, limits, "limits", T_TABLE, .sub = &limits_section,
        .doc = "Rate limits shared by every group of this source (`[source.limits]`)."),
};
static const struct section source_section = {"source", "source", ROWS(source_rows), true,
                                              offsetof(struct config_source, line), NULL};

static const struct row task_rows[] = {
    ROW(struct config_task, kind, "kind", T_ENUM, .values = task_kinds, .flags = F_REQUIRED,
        .doc = "`stream`: a websocket subscriber; `poll`: an HTTP poller."),
    ROW(struct config_task, channel, "channel", T_CHANNEL, .def = "bbo",
        .doc = "What is collected: `bbo` is the best bid and offer. Streams: Binance `<symbol>@bookTicker`, Kraken v2 "
               "`ticker` with `event_trigger` `bbo`, OKX `bbo-tbt` (no last price; at most one push per 10 ms), each "
               "pushed when the best bid or offer changes; Coinbase `ticker`, which is pushed on trades only, so a "
               "quote that moves without a trade is not seen until the next trade. Polls: each venue's ticker "
               "endpoint. `trades` is every trade: streams Binance `<symbol>@trade`, Coinbase `matches`, Kraken v2 "
               "`trade`, OKX `trades`; polls each venue's recent-trades endpoint (the last 100 per symbol, one request "
               "per symbol); a stream and a poll of one group merge by trade id: each trade is published once, in "
               "order, never conflated. `book` is the L2 order book, kept in sync per symbol (streams only): Binance "
               "`<symbol>@depth@100ms` with REST snapshots, Coinbase `level2_batch`, Kraken v2 `book` (checksummed), "
               "OKX `books` (sequenced, checksummed); a gap, a failed checksum or a crossed book resyncs that symbol "
               "alone."),
    ROW(struct config_task, depth, "depth", T_UINT, .def = "20", .min = 1, .max = 1000,
        .doc = "Book tasks only: levels a side published (Redis `tickd:book:<venue>:<symbol>`, RabbitMQ "
               "`book.<venue>.<symbol>`)."),
    ROW(struct config_task, book_deltas, "book_deltas", T_BOOL, .def = "false",
        .doc = "Book tasks only: also publish every applied update, in order and never conflated, on RabbitMQ "
               "`bookdelta.<venue>.<symbol>`, with a snapshot message at each (re)sync, so a consumer can rebuild "
               "the whole book."),
    ROW(struct config_task, stale_after_ms, "stale_after", T_DURATION, .def = "30s", .min = MS_SECOND,
        .max = MS_HOUR, .doc = "Stream tasks: a feed silent this long (no data, heartbeat or pong) is dead; the task fails and its group restarts."),
    ROW(struct config_task, interval_ms, "interval", T_DURATION, .def = "1s", .min = 10, .max = MS_HOUR,
        .doc = "Poll tasks only: time between two polls of the symbol list."),
    ROW(struct config_task, max_age_ms, "max_age", T_DURATION, .def = "0s", .min = 0, .max = 7 * 24 * MS_HOUR,
        .doc = "Stream tasks only: a connection open this long is replaced, make before break (a new one "
               "subscribes before the old one closes). 0 = the venue's own cut (Binance closes at 24 h: 23 h)."),
};
static const struct section task_section = {"task", "group.task", ROWS(task_rows), false, offsetof(struct config_task, line),
                                            check_task};

static const struct row group_rows[] = {
    ROW(struct config_group, name, "name", T_NAME, .flags = F_REQUIRED,
        .doc = "Unique name of this supervised task group."),
    ROW(struct config_group, source_name, "source", T_NAME, .flags = F_REQUIRED,
        .doc = "The `[[source]]` whose connections and rate limiter the tasks use."),
    ROW(struct config_group, restart, "restart", T_ENUM, .def = "permanent", .values = restarts,
        .doc = "`permanent`: always restart; `transient`: only after a failure; `temporary`: never."),
    ROW(struct config_group, symbols, "symbols", T_SYMBOLS, .aux_offset = offsetof(struct config_group, nsymbols),
        .pat_offset = offsetof(struct config_group, patterns) + 1,
        .pat_aux_offset = offsetof(struct config_group, npatterns), .flags = F_REQUIRED,
        .doc = "Instruments as BASE-QUOTE (`BTC-USDT`); lower case is upper-cased. Also patterns, in which `*` "
               "stands for any run of characters (`\"*-USDT\"`, `\"BTC-*\"`, `\"*\"`): the group then collects the "
               "names listed, in their order, and after them the venue's trading instruments a pattern matches, "
               "sorted by name, from the venue's instrument list (`instruments_refresh`): new listings that match are "
               "subscribed while the group runs. A name given here that the venue does not list is warned about with the "
               "closest ones it does, and subscribed once the venue lists it."),
    ROW(struct config_group, excludes, "exclude", T_SYMBOLS, .aux_offset = offsetof(struct config_group, nexcludes),
        .doc = "With patterns only: names and patterns left out of what the patterns match (a name listed in "
               "`symbols` is always kept; an entry of `symbols` is not also an entry here)."),
    ROW(struct config_group, max_symbols, "max", T_UINT, .min = 1, .max = 1000000,
        .doc = "With patterns only: the group collects at most this many instruments, more than the names listed "
               "(which are always kept); what the patterns match beyond it is left out, the last by name, and "
               "logged once with how many and the first and last left out."),
    ROW(struct config_group, tasks, "task", T_TABLES, .aux_offset = offsetof(struct config_group, ntasks),
        .elem_size = sizeof(struct config_task), .sub = &task_section, .flags = F_REQUIRED,
        .doc = "The group's tasks (`[[group.task]]`), at least one; when one fails, the group restarts."),
};
static const struct section group_section = {"group", "group", ROWS(group_rows), true, offsetof(struct config_group, line),
                                             check_group};

static const struct section daemon_section = {"daemon", "daemon", ROWS(daemon_rows), false, NO_POS, NULL};
static const struct section redis_section = {"redis", "redis", ROWS(redis_rows), false, NO_POS, NULL};
static const struct section rabbitmq_section = {"rabbitmq", "rabbitmq", ROWS(rabbitmq_rows), false, NO_POS, NULL};
static const struct section merge_section = {"merge", "merge", ROWS(merge_rows), false, NO_POS, NULL};
static const struct section supervisor_section = {"supervisor", "supervisor", ROWS(supervisor_rows), false, NO_POS,
                                                  check_supervisor};

static const struct row root_rows[] = {
    ROW(struct tickd_config, daemon, "daemon", T_TABLE, .sub = &daemon_section, .doc = "Logging and stats."),
    ROW(struct tickd_config, redis, "redis", T_TABLE, .sub = &redis_section, .doc = "Where the merged state goes."),
    ROW(struct tickd_config, rabbitmq, "rabbitmq", T_TABLE, .sub = &rabbitmq_section,
        .doc = "Where the updates are published."),
    ROW(struct tickd_config, merge, "merge", T_TABLE, .sub = &merge_section,
        .doc = "The consolidated best bid and offer."),
    ROW(struct tickd_config, supervisor, "supervisor", T_TABLE, .sub = &supervisor_section,
        .doc = "How failed groups are restarted."),
    ROW(struct tickd_config, sources, "source", T_TABLES, .aux_offset = offsetof(struct tickd_config, nsources),
        .elem_size = sizeof(struct config_source), .sub = &source_section, .doc = "Exchange connections."),
    ROW(struct tickd_config, groups, "group", T_TABLES, .aux_offset = offsetof(struct tickd_config, ngroups),
        .elem_size = sizeof(struct config_group), .sub = &group_section, .doc = "Supervised task groups."),
};
static const struct section root_section = {"", "", ROWS(root_rows), false, NO_POS, check_root};

/* ---- errors ---------------------------------------------------------------------------------------------- */

struct ctx {
    const char *file;
    char dir[PATH_MAX];          /* of the config file: relative password_file paths resolve here */
    struct config_errors *errs;
    size_t errs_base;            /* errs->len before this file's first error */
    size_t nerrs;
    char label[256];             /* 'group "x": task #2: ' -- which element a key belongs to */
    char path[128];              /* 'limits.' -- the tables between that element and the key */
    const struct venue_ops *venue; /* of the source being read, NULL when unknown */
};

/* Keeps the list in document order; errors at one position stay in the order they were found. */
static void errors_add(struct config_errors *errs, int line, int col, char *msg) {
    if (errs->len == errs->cap) {
        size_t cap = errs->cap ? errs->cap * 2 : 8;
        struct config_error *items = realloc(errs->items, cap * sizeof *items);
        if (!items) {
            free(msg);
            return;
        }
        errs->items = items;
        errs->cap = cap;
    }
    size_t at = errs->len;
    while (at > 0 && (errs->items[at - 1].line > line ||
                      (errs->items[at - 1].line == line && errs->items[at - 1].col > col)))
        at--;
    memmove(errs->items + at + 1, errs->items + at, (errs->len - at) * sizeof errs->items[0]);
    errs->items[at] = (struct config_error){line, col, msg};
    errs->len++;
}

static bool errors_full(const struct ctx *c) { return c->errs->len - c->errs_base >= ERRORS_SHOWN_MAX; }

static void verr(struct ctx *c, int line, int col, const char *fmt, va_list ap) {
    char text[768], *msg = NULL;
    if (errors_full(c)) {
        c->nerrs++;
        return;
    }
    vsnprintf(text, sizeof text, fmt, ap);
    int n = line > 0 ? asprintf(&msg, "%s:%d:%d: %s", c->file, line, col, text)
                     : asprintf(&msg, "%s: %s", c->file, text);
    c->nerrs++;
    if (n >= 0) errors_add(c->errs, line, col, msg);
}

static void err_at(struct ctx *c, const toml_value *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err_at(struct ctx *c, const toml_value *at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verr(c, at ? at->line : 0, at ? at->col : 0, fmt, ap);
    va_end(ap);
}

/* An error about one key: "LABEL PATH.KEY: message". */
static void key_err(struct ctx *c, const toml_value *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void key_err(struct ctx *c, const toml_value *at, const char *key, const char *fmt, ...) {
    char text[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    err_at(c, at, "%s%s%s: %s", c->label, c->path, key, text);
}

/* A value quoted for a message: cut, control bytes replaced, so a hostile file cannot garble the output. */
static const char *quoted(const char *s, char *buf, size_t n) {
    size_t j = 0;
    buf[j++] = '"';
    for (; *s && j + 5 < n; s++) buf[j++] = ((unsigned char)*s < ' ' || *s == 0x7f) ? '?' : *s;
    if (*s) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j++] = '"';
    buf[j] = 0;
    return buf;
}

void config_errors_print(const struct config_errors *errs, FILE *f) {
    for (size_t i = 0; i < errs->len; i++) fprintf(f, "%s\n", errs->items[i].msg);
}

void config_errors_free(struct config_errors *errs) {
    for (size_t i = 0; i < errs->len; i++) free(errs->items[i].msg);
    free(errs->items);
    *errs = (struct config_errors){0};
}

/* ---- one key ---------------------------------------------------------------------------------------------- */

#define FIELD(base, off, type) ((type *)((char *)(base) + (off)))

static const char *duration_text(uint64_t ms, char *buf, size_t n) {
    if (ms && ms % MS_HOUR == 0) snprintf(buf, n, "%lluh", (unsigned long long)(ms / MS_HOUR));
    else if (ms && ms % MS_MINUTE == 0) snprintf(buf, n, "%llum", (unsigned long long)(ms / MS_MINUTE));
    else if (ms && ms % MS_SECOND == 0) snprintf(buf, n, "%llus", (unsigned long long)(ms / MS_SECOND));
    else snprintf(buf, n, "%llums", (unsigned long long)ms);
    return buf;
}

static void enum_choices(const struct enum_value *v, char *buf, size_t n) {
    size_t len = 0;
    buf[0] = 0;
    for (; v->name && len < n; v++) len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? " | " : "", v->name);
}

/* The registered venues' names, each between pre and post, separated by sep. */
static void venue_choices(const char *pre, const char *post, const char *sep, char *buf, size_t n) {
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; venue_at(i) && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s%s%s", i ? sep : "", pre, venue_at(i)->name, post);
}

/* A BY_VENUE row's default for venue v, as it would be written. */
static const char *venue_default(const struct row *r, const struct venue_ops *v, char *buf, size_t n) {
    const char *field = (const char *)&v->defaults + (r->venue_def - 1);
    if (r->type == T_URL) return *(const char *const *)field;
    uint32_t u;
    memcpy(&u, field, sizeof u);
    snprintf(buf, n, "%u", u);
    return buf;
}

static bool is_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-') return false;
    return true;
}

static bool scheme_allowed(const char *schemes, const char *scheme) {
    size_t n = strlen(scheme);
    for (const char *p = schemes; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, scheme, n) == 0) return true;
        p += len;
        while (*p == ' ') p++;
    }
    return false;
}

/* Reads a whole regular file of at most max bytes into a malloc'd buffer of max + 1 (NUL-terminated).
 * Opened without blocking and checked before reading: a FIFO or a device named by mistake would otherwise
 * hang --check-config, or a reload on the loop thread. A secret must be private to its owner. */
static int read_file(const char *path, size_t max, bool secret, char **out, size_t *len) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? -errno
             : !S_ISREG(st.st_mode) ? NOT_REGULAR
             : secret && (st.st_mode & 077) ? NOT_PRIVATE
             : (uint64_t)st.st_size > max ? -EFBIG
                                          : 0;
    char *buf = rc == 0 ? malloc(max + 1) : NULL;
    if (rc == 0 && !buf) rc = -ENOMEM;
    size_t n = 0;
    while (rc == 0 && n <= max) { /* a file growing while read is still cut at max + 1 */
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = -errno;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (rc == 0 && n > max) rc = -EFBIG;
    if (rc < 0) {
        if (buf) explicit_bzero(buf, n < max + 1 ? n : max + 1);
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

static const char *read_error(int rc, const char *path, char *buf, size_t n) {
    if (rc == NOT_REGULAR) return "not a regular file";
    if (rc == NOT_PRIVATE) {
        snprintf(buf, n, "readable or writable by group or others: chmod 0600 %s", path);
        return buf;
    }
    return strerror(-rc);
}

/* A file opened later, on the loop (a CA bundle): a FIFO there would block it, a missing one would fail only
 * then, so both are refused at load. Non-blocking open: a FIFO is found without waiting for a writer. */
static int check_readable(const char *path) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? NOT_REGULAR : 0;
    close(fd);
    return rc;
}

/* Relative paths are systemd credentials when $CREDENTIALS_DIRECTORY is set, else beside the config file. */
static int read_secret(struct ctx *c, const char *path, char **out, char *full, size_t fulllen) {
    const char *creds = getenv("CREDENTIALS_DIRECTORY");
    int len = path[0] == '/' ? snprintf(full, fulllen, "%s", path)
                             : snprintf(full, fulllen, "%s/%s", creds && *creds ? creds : c->dir, path);
    if (len < 0 || (size_t)len >= fulllen) return -ENAMETOOLONG;
    char *buf;
    size_t size;
    int rc = read_file(full, SECRET_MAX, true, &buf, &size);
    if (rc < 0) return rc;
    ssize_t n = (ssize_t)size;
    /* One trailing newline is how editors and `echo` end a file; it is not part of the password. */
    if (n > 0 && buf[n - 1] == '\n') n--;
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = 0;
    if (n == 0) n = -ENODATA;
    else if (memchr(buf, 0, (size_t)n) || strchr(buf, '\n')) n = -EINVAL;
    if (n < 0) {
        explicit_bzero(buf, SECRET_MAX + 1);
        free(buf);
        return (int)n;
    }
    *out = buf;
    return 0;
}

static const char *expected_type(const struct row *r, char *buf, size_t n) {
    switch (r->type) {
    case T_UINT: return "an integer";
    case T_BOOL: return "true or false";
    case T_DURATION: return "a duration string such as \"30s\"";
    case T_SYMBOLS: return "an array of symbols";
    case T_TABLE: snprintf(buf, n, "a table ([%s])", r->sub->toml_path); return buf;
    case T_TABLES: snprintf(buf, n, "an array of tables ([[%s]])", r->sub->toml_path); return buf;
    default: return "a string";
    }
}

static enum toml_type toml_type_of(const struct row *r) {
    switch (r->type) {
    case T_UINT: return TOML_INTEGER;
    case T_BOOL: return TOML_BOOL;
    case T_SYMBOLS: case T_TABLES: return TOML_ARRAY;
    case T_TABLE: return TOML_TABLE;
    default: return TOML_STRING;
    }
}

static void set_uint(struct ctx *c, const struct row *r, void *base, int64_t v, const toml_value *at) {
    uint64_t max = r->max ? r->max : UINT64_MAX;
    if (v < 0 || (uint64_t)v < r->min)
        key_err(c, at, r->name, "must be at least %llu, got %lld", (unsigned long long)r->min, (long long)v);
    else if ((uint64_t)v > max)
        key_err(c, at, r->name, "must be at most %llu, got %lld", (unsigned long long)max, (long long)v);
    else *FIELD(base, r->offset, uint64_t) = (uint64_t)v;
}

/* Sets a key given as text: a string from the file, or the schema's default. */
static void set_text(struct ctx *c, const struct row *r, void *base, const char *s, const toml_value *at) {
    char q[96], buf[160], red[512];
    switch (r->type) {
    case T_NAME:
    case T_CHANNEL:
        if (!is_name(s)) {
            key_err(c, at, r->name, "expected a name of letters, digits, '_', '.' or '-' (at most %d), got %s",
                    NAME_MAX_LEN, quoted(s, q, sizeof q));
            return;
        }
        /* fall through */
    case T_PATH:
    case T_SECRET:
        *FIELD(base, r->offset, char *) = strdup(s);
        if ((r->flags & F_READABLE) && *s) {
            char why[96];
            int rc = check_readable(s);
            if (rc < 0) key_err(c, at, r->name, "cannot read %s: %s", quoted(s, red, sizeof red),
                                read_error(rc, s, why, sizeof why));
        }
        if (r->type == T_SECRET && *s) {
            char full[PATH_MAX], why[PATH_MAX + 96];
            int rc = read_secret(c, s, FIELD(base, r->aux_offset, char *), full, sizeof full);
            if (rc < 0)
                key_err(c, at, r->name, "cannot read %s: %s", quoted(s, q, sizeof q),
                        rc == -ENODATA ? "the file is empty"
                        : rc == -EFBIG ? "longer than 4096 bytes"
                        : rc == -EINVAL ? "expected one line"
                                        : read_error(rc, quoted(full, red, sizeof red), why, sizeof why));
        }
        return;
    case T_ENUM:
        for (const struct enum_value *v = r->values; v->name; v++)
            if (strcmp(v->name, s) == 0) {
                *FIELD(base, r->offset, int) = v->value;
                return;
            }
        enum_choices(r->values, buf, sizeof buf);
        key_err(c, at, r->name, "expected one of %s, got %s", buf, quoted(s, q, sizeof q));
        return;
    case T_VENUE: {
        const struct venue_ops *v = venue_find(s);
        if (v) {
            *FIELD(base, r->offset, const struct venue_ops *) = c->venue = v;
            return;
        }
        venue_choices("", "", " | ", buf, sizeof buf);
        key_err(c, at, r->name, "expected one of %s, got %s", buf, quoted(s, q, sizeof q));
        return;
    }
    case T_DURATION: {
        uint64_t ms;
        char lim[32];
        if (config_parse_duration(s, &ms) < 0)
            key_err(c, at, r->name, "expected a duration with a unit (ms, s, m, h) such as \"30s\", got %s",
                    quoted(s, q, sizeof q));
        else if (ms < r->min)
            key_err(c, at, r->name, "must be at least %s, got %s", duration_text(r->min, lim, sizeof lim),
                    quoted(s, q, sizeof q));
        else if (r->max && ms > r->max)
            key_err(c, at, r->name, "must be at most %s, got %s", duration_text(r->max, lim, sizeof lim),
                    quoted(s, q, sizeof q));
        else *FIELD(base, r->offset, uint64_t) = ms;
        return;
    }
    case T_UINT: set_uint(c, r, base, strtoll(s, NULL, 10), at); return;
    case T_BOOL: *FIELD(base, r->offset, bool) = strcmp(s, "true") == 0; return;
    case T_URL: {
        struct config_url u;
        if (config_url_parse(s, &u) < 0 || !scheme_allowed(r->schemes, u.scheme)) {
            /* The URL may hold a password: the message shows it redacted. */
            log_redact_url(s, red, sizeof red);
            snprintf(buf, sizeof buf, "%s", r->schemes);
            for (char *p = strchr(buf, ' '); p; p = strchr(p, ' ')) *p = '|';
            key_err(c, at, r->name, "expected a URL %s://host[:port][/path], got %s", buf,
                    quoted(red, q, sizeof q));
            return;
        }
        /* rabbitmq-c's parser ends the user and the password at any of these: written as they are, the broker
         * would be asked for another host or refuse the login. */
        const char *bad = strncmp(u.scheme, "amqp", 4) == 0 ? ":/?#@[]" : "";
        size_t ul = strcspn(u.user, bad), pl = strcspn(u.password, bad);
        if (u.user[ul] || u.password[pl]) { /* which character is not said: it may be the password's */
            log_redact_url(s, red, sizeof red);
            key_err(c, at, r->name, "the user or password holds one of %s: percent-encode it (a '/' is %%2F) or put "
                    "the password in password_file; got %s", bad, quoted(red, q, sizeof q));
            return;
        }
        *FIELD(base, r->offset, char *) = strdup(s);
        return;
    }
    default: return;
    }
}

struct named {
    const char *name;
    size_t i;
};

static int named_cmp(const void *a, const void *b) {
    const struct named *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d ? d : (x->i > y->i) - (x->i < y->i);
}

/* The n names (NULL ones left out) sorted by name, then by position; *len gets how many. NULL without memory. */
static struct named *sort_names(const char *(*name_of)(const void *arr, size_t i), const void *arr, size_t n,
                                size_t *len) {
    struct named *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++)
        if (name_of(arr, i)) v[(*len)++] = (struct named){name_of(arr, i), i};
    qsort(v, *len, sizeof *v, named_cmp);
    return v;
}

/* For each of n names, the position of the first equal one before it, or SIZE_MAX. Sorted, so a list of
 * 100,000 costs O(n log n) where comparing every pair took minutes. NULL without memory. */
static size_t *first_equal(const char *(*name_of)(const void *arr, size_t i), const void *arr, size_t n) {
    size_t len, *first = malloc((n ? n : 1) * sizeof *first);
    struct named *v = first ? sort_names(name_of, arr, n, &len) : NULL;
    if (!v) {
        free(first);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) first[i] = SIZE_MAX;
    for (size_t k = 1, head = 0; k < len; k++) {
        if (strcmp(v[k].name, v[head].name) != 0) head = k;
        else first[v[k].i] = v[head].i;
    }
    free(v);
    return first;
}

static const char *string_at(const void *arr, size_t i) { return ((char *const *)arr)[i]; }

static int string_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void free_strings(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

/* Names and patterns, each normalized (symbol_parse) and given once; a row with pat_offset keeps the patterns
 * apart from the names, each list in the file's order. */
static void set_symbols(struct ctx *c, const struct row *r, void *base, const toml_value *v) {
    char q[96], sym[SYMBOL_TEXT_MAX];
    size_t n = v->u.array.len;
    if (n == 0) {
        if (r->flags & F_REQUIRED) key_err(c, v, r->name, "the list is empty, expected at least one symbol");
        return;
    }
    char **syms = calloc(n, sizeof *syms), **norm = calloc(n, sizeof *norm);
    char **pats = r->pat_offset ? calloc(n, sizeof *pats) : syms;
    if (!syms || !norm || !pats) {
        free(syms);
        free(norm);
        if (pats != syms) free(pats);
        key_err(c, v, r->name, "out of memory");
        return;
    }
    *FIELD(base, r->offset, char **) = syms;
    size_t *count = FIELD(base, r->aux_offset, size_t), *pcount = count;
    if (r->pat_offset) {
        *FIELD(base, r->pat_offset - 1, char **) = pats;
        pcount = FIELD(base, r->pat_aux_offset, size_t);
    }
    for (size_t i = 0; i < n; i++) {
        const toml_value *item = v->u.array.items[i];
        const char *why = "";
        if (item->type != TOML_STRING)
            key_err(c, item, r->name, "expected a symbol string, got %s", toml_type_name(item->type));
        else if (memchr(item->u.str.ptr, 0, item->u.str.len))
            key_err(c, item, r->name, "contains a NUL character");
        else if (symbol_parse(item->u.str.ptr, sym, sizeof sym, &why) == SYMBOL_BAD)
            key_err(c, item, r->name, "expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one dash) or a "
                    "pattern such as \"*-USDT\" ('*' for any run), got %s (%s)", quoted(item->u.str.ptr, q, sizeof q),
                    why);
        else norm[i] = strdup(sym);
    }
    size_t *first = first_equal(string_at, norm, n);
    for (size_t i = 0; i < n; i++) {
        if (!norm[i]) continue;
        if (!first || first[i] != SIZE_MAX) {
            if (first) key_err(c, v->u.array.items[i], r->name, "\"%s\" is listed twice", norm[i]);
            free(norm[i]);
            continue;
        }
        if (strchr(norm[i], '*')) pats[(*pcount)++] = norm[i];
        else syms[(*count)++] = norm[i];
    }
    if (!first) key_err(c, v, r->name, "out of memory");
    free(first);
    free(norm);
    if (r->pat_offset && !*pcount) { /* a list of none is NULL */
        free(pats);
        *FIELD(base, r->pat_offset - 1, char **) = NULL;
    }
    if (!*count) {
        free(syms);
        *FIELD(base, r->offset, char **) = NULL;
    }
}

static void apply_table(struct ctx *c, const struct section *sec, const toml_value *tab, void *base);

static void apply_tables(struct ctx *c, const struct row *r, void *base, const toml_value *v) {
    const struct section *sec = r->sub;
    size_t n = v->u.array.len;
    if (n == 0) return;
    char *elems = calloc(n, r->elem_size);
    if (!elems) return;
    *FIELD(base, r->offset, void *) = elems;
    *FIELD(base, r->aux_offset, size_t) = n;
    struct ctx saved = *c;
    for (size_t i = 0; i < n; i++) {
        const toml_value *tab = v->u.array.items[i];
        void *elem = elems + i * r->elem_size;
        if (tab->type != TOML_TABLE) {
            key_err(c, tab, r->name, "expected an array of tables ([[%s]]), got an array holding %s",
                    sec->toml_path, toml_type_name(tab->type));
            continue;
        }
        const toml_value *name = sec->named ? toml_get(tab, "name") : NULL;
        size_t len = strlen(c->label);
        if (name && name->type == TOML_STRING && is_name(name->u.str.ptr))
            snprintf(c->label + len, sizeof c->label - len, "%s \"%s\": ", sec->name, name->u.str.ptr);
        else snprintf(c->label + len, sizeof c->label - len, "%s #%zu: ", sec->name, i + 1);
        c->path[0] = 0;
        if (sec->pos_offset != NO_POS) {
            FIELD(elem, sec->pos_offset, int)[0] = tab->line;
            FIELD(elem, sec->pos_offset, int)[1] = tab->col;
        }
        apply_table(c, sec, tab, elem);
        saved.nerrs = c->nerrs;
        *c = saved;
    }
}

/* Levenshtein distance, for "did you mean": config keys are short, so the quadratic cost does not matter. */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la >= 63 || lb >= 63) return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof cur[0]);
    }
    return prev[lb];
}

static void unknown_key(struct ctx *c, const struct section *sec, const char *key, const toml_value *at) {
    char where[400], hint[96] = "";
    const char *best = NULL;
    if (errors_full(c)) {
        c->nerrs++;
        return;
    }
    size_t best_d = 3;
    for (size_t i = 0; i < sec->nrows; i++) {
        size_t d = edit_distance(key, sec->rows[i].name);
        if (d < best_d) best_d = d, best = sec->rows[i].name;
    }
    if (best) snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", best);
    snprintf(where, sizeof where, "%s%s", c->label, c->path);
    size_t len = strlen(where);
    if (len && where[len - 1] == '.') where[len - 1] = 0; /* "redis." -> "redis" */
    len = strlen(where);
    if (len >= 2 && where[len - 2] == ':') where[len - 2] = 0; /* 'source "x": ' -> 'source "x"' */
    char q[96];
    if (where[0]) err_at(c, at, "%s: unknown key %s%s", where, quoted(key, q, sizeof q), hint);
    else err_at(c, at, "unknown key %s%s", quoted(key, q, sizeof q), hint);
}

static void apply_row(struct ctx *c, const struct row *r, void *base, const toml_value *tab) {
    const toml_value *v = tab ? toml_get(tab, r->name) : NULL;
    if (v && v->type != toml_type_of(r)) {
        char buf[64];
        key_err(c, v, r->name, "expected %s, got %s", expected_type(r, buf, sizeof buf), toml_type_name(v->type));
        v = NULL;
        if (r->type != T_TABLE) return;
    }
    if (r->type == T_TABLE) {
        size_t len = strlen(c->path);
        snprintf(c->path + len, sizeof c->path - len, "%s.", r->name);
        apply_table(c, r->sub, v, FIELD(base, r->offset, void));
        c->path[len] = 0;
        return;
    }
    if (v) {
        if (r->type == T_TABLES) apply_tables(c, r, base, v);
        else if (r->type == T_SYMBOLS) set_symbols(c, r, base, v);
        else if (r->type == T_UINT) set_uint(c, r, base, v->u.integer, v);
        else if (r->type == T_BOOL) *FIELD(base, r->offset, bool) = v->u.boolean;
        else if (memchr(v->u.str.ptr, 0, v->u.str.len)) key_err(c, v, r->name, "contains a NUL character");
        else set_text(c, r, base, v->u.str.ptr, v);
        return;
    }
    char vdef[32];
    const char *def = r->def;
    if (!def && r->venue_def && c->venue) def = venue_default(r, c->venue, vdef, sizeof vdef);
    if (def) set_text(c, r, base, def, tab);
    else if (r->flags & F_REQUIRED) {
        if (r->type == T_TABLES)
            err_at(c, tab, "%smissing [[%s]], expected at least one", c->label, r->sub->toml_path);
        else err_at(c, tab, "%smissing key \"%s%s\"", c->label, c->path, r->name);
    }
}

static void apply_table(struct ctx *c, const struct section *sec, const toml_value *tab, void *base) {
    if (tab)
        for (size_t i = 0; i < tab->u.table.len; i++) {
            const char *key = tab->u.table.items[i].key;
            size_t r = 0;
            while (r < sec->nrows && strcmp(sec->rows[r].name, key) != 0) r++;
            if (r == sec->nrows) unknown_key(c, sec, key, tab->u.table.items[i].value);
        }
    size_t errors_before = c->nerrs;
    for (size_t i = 0; i < sec->nrows; i++) apply_row(c, &sec->rows[i], base, tab);
    /* Without a table every key has its (consistent) default. A check across keys of a table with a bad key
     * would only repeat that error in other words; the root's checks (names, references) cope with gaps. */
    if (sec->check && tab && (c->nerrs == errors_before || sec == &root_section)) sec->check(c, tab, base);
}

/* ---- what spans several keys ------------------------------------------------------------------------------ */

/* The position of key in tab, or of tab itself when the key is absent (its default is what clashes). */
static const toml_value *pos_of(const toml_value *tab, const char *key) {
    const toml_value *v = tab ? toml_get(tab, key) : NULL;
    return v ? v : tab;
}

static void check_supervisor(struct ctx *c, const toml_value *tab, void *base) {
    const struct config_supervisor *s = base;
    char a[32], b[32];
    if (s->backoff_min_ms > s->backoff_max_ms)
        key_err(c, pos_of(tab, "backoff_min"), "backoff_min", "must not exceed backoff_max (%s), got %s",
                duration_text(s->backoff_max_ms, b, sizeof b), duration_text(s->backoff_min_ms, a, sizeof a));
}

static void check_task(struct ctx *c, const toml_value *tab, void *base) {
    const struct config_task *t = base;
    char a[32], b[32];
    if (t->kind == CONFIG_TASK_STREAM && toml_get(tab, "interval"))
        key_err(c, toml_get(tab, "interval"), "interval", "applies to poll tasks only, this task is a stream");
    if (t->kind == CONFIG_TASK_POLL && toml_get(tab, "max_age"))
        key_err(c, toml_get(tab, "max_age"), "max_age", "applies to stream tasks only, this task is a poll");
    if (t->kind == CONFIG_TASK_POLL && t->interval_ms && t->stale_after_ms <= t->interval_ms)
        key_err(c, pos_of(tab, "stale_after"), "stale_after", "must be longer than interval (%s), got %s",
                duration_text(t->interval_ms, b, sizeof b), duration_text(t->stale_after_ms, a, sizeof a));
}

/* exclude and max shape what patterns match: without a pattern they would do nothing, and they never touch the
 * names listed (an exclude entry equal to an entry of symbols is a contradiction, a max not above the names
 * leaves the patterns nothing). */
static void check_selection(struct ctx *c, const toml_value *tab, const struct config_group *g) {
    const toml_value *ex = toml_get(tab, "exclude"), *mx = toml_get(tab, "max");
    if (!g->npatterns) {
        if (ex)
            key_err(c, ex, "exclude", "applies to what patterns match, and symbols has no pattern (a name is left out "
                    "by not listing it)");
        if (mx) key_err(c, mx, "max", "applies to what patterns match, and symbols has no pattern");
        return;
    }
    if (mx && g->max_symbols <= g->nsymbols)
        key_err(c, mx, "max", "must be more than the %zu name%s listed in symbols (%s always kept), got %llu",
                g->nsymbols, g->nsymbols == 1 ? "" : "s", g->nsymbols == 1 ? "it is" : "they are",
                (unsigned long long)g->max_symbols);
    if (!ex || ex->type != TOML_ARRAY || ex->u.array.len != g->nexcludes || !g->nexcludes) return;
    size_t nlisted = g->nsymbols + g->npatterns;
    char **listed = malloc(nlisted * sizeof *listed);
    if (!listed) {
        key_err(c, ex, "exclude", "out of memory");
        return;
    }
    if (g->nsymbols) memcpy(listed, g->symbols, g->nsymbols * sizeof *listed);
    memcpy(listed + g->nsymbols, g->patterns, g->npatterns * sizeof *listed);
    qsort(listed, nlisted, sizeof *listed, string_cmp);
    for (size_t i = 0; i < g->nexcludes; i++)
        if (bsearch(&g->excludes[i], listed, nlisted, sizeof *listed, string_cmp))
            key_err(c, ex->u.array.items[i], "exclude", "\"%s\" is also in symbols", g->excludes[i]);
    free(listed);
}

static void check_group(struct ctx *c, const toml_value *tab, void *base) {
    const struct config_group *g = base;
    check_selection(c, tab, g);
    const toml_value *tasks = toml_get(tab, "task");
    for (size_t i = 0; i < g->ntasks; i++)
        for (size_t j = 0; j < i; j++) {
            const struct config_task *a = &g->tasks[i], *b = &g->tasks[j];
            if (a->line == 0 || b->line == 0 || a->kind != b->kind || !a->channel || !b->channel ||
                strcmp(a->channel, b->channel) != 0)
                continue;
            err_at(c, tasks->u.array.items[i], "%stask #%zu: same kind and channel as task #%zu (%s %s)", c->label,
                   i + 1, j + 1, config_task_kind_name(a->kind), a->channel);
            break;
        }
}

static const char *source_name(const void *cfg, size_t i) {
    return ((const struct tickd_config *)cfg)->sources[i].name;
}
static const char *group_name(const void *cfg, size_t i) { return ((const struct tickd_config *)cfg)->groups[i].name; }

/* Names are unique per kind; the later one is the error, pointing at the first. */
static void check_unique(struct ctx *c, const toml_value *root, const char *key, const char *kind,
                         const char *(*name_of)(const void *cfg, size_t i), const struct tickd_config *cfg, size_t n) {
    const toml_value *arr = toml_get(root, key);
    size_t *first = first_equal(name_of, cfg, n);
    if (!first) {
        if (n) err_at(c, arr, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (first[i] == SIZE_MAX) continue;
        const toml_value *at = pos_of(arr->u.array.items[first[i]], "name");
        err_at(c, pos_of(arr->u.array.items[i], "name"), "%s \"%s\" is defined twice (first at line %d)", kind,
               name_of(cfg, i), at->line);
    }
    free(first);
}

/* Positions in the config's array sorted by name: config_find_source and config_find_group search them. */
static size_t *name_order(const char *(*name_of)(const void *cfg, size_t i), const struct tickd_config *cfg,
                          size_t n) {
    size_t len, *order = malloc((n ? n : 1) * sizeof *order);
    struct named *v = order ? sort_names(name_of, cfg, n, &len) : NULL;
    if (!v) {
        free(order);
        return NULL;
    }
    for (size_t k = 0; k < len; k++) order[k] = v[k].i;
    for (size_t k = len; k < n; k++) order[k] = SIZE_MAX; /* unnamed (an error was reported) */
    free(v);
    return order;
}

static size_t find_named(const char *(*name_of)(const void *cfg, size_t i), const struct tickd_config *cfg,
                         const size_t *order, size_t n, const char *name) {
    if (!name) return SIZE_MAX;
    if (!order) { /* only without memory */
        for (size_t i = 0; i < n; i++)
            if (name_of(cfg, i) && strcmp(name_of(cfg, i), name) == 0) return i;
        return SIZE_MAX;
    }
    size_t lo = 0, hi = n;
    while (hi > 0 && order[hi - 1] == SIZE_MAX) hi--;
    while (lo < hi) { /* the first at or after name: of equal names, the first defined */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(name_of(cfg, order[mid]), name) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && order[lo] != SIZE_MAX && strcmp(name_of(cfg, order[lo]), name) == 0 ? order[lo] : SIZE_MAX;
}

/* A task collects a channel its source's venue serves: the venue's table is the one list of them. */
static void check_channels(struct ctx *c, const struct config_group *g, const toml_value *group_tab) {
    const toml_value *tasks = toml_get(group_tab, "task");
    char q[96], has[160];
    for (size_t j = 0; tasks && j < g->ntasks; j++) {
        const char *ch = g->tasks[j].channel;
        const struct venue_channel *found = ch ? venue_channel_find(g->source->venue, ch) : NULL;
        if (found && found->kind != VENUE_EVENT_BOOK) {
            static const char *const book_keys[] = {"depth", "book_deltas"};
            for (size_t k = 0; k < 2; k++) {
                const toml_value *v = toml_get(tasks->u.array.items[j], book_keys[k]);
                if (v)
                    err_at(c, v, "group \"%s\": task #%zu: %s: applies to book tasks only, this task collects %s",
                           g->name ? g->name : "?", j + 1, book_keys[k], ch);
            }
        }
        if (found) {
            bool poll = g->tasks[j].kind == CONFIG_TASK_POLL;
            if (poll ? !found->rest_plan || found->kind == VENUE_EVENT_BOOK : !found->ws_parse)
                err_at(c, pos_of(tasks->u.array.items[j], "kind"), "group \"%s\": task #%zu: venue %s has no %s "
                       "for channel %s (use kind = \"%s\")", g->name ? g->name : "?", j + 1,
                       g->source->venue->name, poll ? "REST poll" : "websocket stream", ch, poll ? "stream" : "poll");
            continue;
        }
        if (!ch) continue;
        venue_channel_list(g->source->venue, has, sizeof has);
        err_at(c, pos_of(tasks->u.array.items[j], "channel"), "group \"%s\": task #%zu: channel: venue %s has no "
               "channel %s (has: %s)", g->name ? g->name : "?", j + 1, g->source->venue->name, quoted(ch, q, sizeof q),
               has);
    }
}

static void check_root(struct ctx *c, const toml_value *tab, void *base) {
    struct tickd_config *cfg = base;
    check_unique(c, tab, "source", "source", source_name, cfg, cfg->nsources);
    check_unique(c, tab, "group", "group", group_name, cfg, cfg->ngroups);
    cfg->source_order = name_order(source_name, cfg, cfg->nsources);
    cfg->group_order = name_order(group_name, cfg, cfg->ngroups);
    const toml_value *groups = toml_get(tab, "group");
    for (size_t i = 0; i < cfg->ngroups; i++) {
        struct config_group *g = &cfg->groups[i];
        if (!g->source_name) continue;
        g->source = config_find_source(cfg, g->source_name);
        if (!g->source)
            err_at(c, toml_get(groups->u.array.items[i], "source"), "group \"%s\": source \"%s\" is not defined",
                   g->name ? g->name : "?", g->source_name);
        else if (g->source->venue) check_channels(c, g, groups->u.array.items[i]);
        if (g->source && g->npatterns && !g->source->instruments)
            err_at(c, toml_get(groups->u.array.items[i], "symbols"), "group \"%s\": symbols: \"%s\" is a pattern, and "
                   "source \"%s\" loads no instrument list to resolve it (instruments = false)", g->name ? g->name : "?",
                   g->patterns[0], g->source_name);
    }
}

/* ---- load, free, compare ---------------------------------------------------------------------------------- */

static void free_table(const struct section *sec, void *base) {
    for (size_t i = 0; i < sec->nrows; i++) {
        const struct row *r = &sec->rows[i];
        void *field = FIELD(base, r->offset, void);
        switch (r->type) {
        case T_SECRET: {
            char *secret = *FIELD(base, r->aux_offset, char *);
            if (secret) explicit_bzero(secret, strlen(secret));
            free(secret);
        } /* fall through */
        case T_NAME: case T_CHANNEL: case T_PATH: case T_URL: free(*(char **)field); break;
        case T_SYMBOLS:
            free_strings(*(char ***)field, *FIELD(base, r->aux_offset, size_t));
            if (r->pat_offset)
                free_strings(*FIELD(base, r->pat_offset - 1, char **), *FIELD(base, r->pat_aux_offset, size_t));
            break;
        case T_TABLE: free_table(r->sub, field); break;
        case T_TABLES: {
            char *elems = *(char **)field;
            for (size_t j = 0; elems && j < *FIELD(base, r->aux_offset, size_t); j++)
                free_table(r->sub, elems + j * r->elem_size);
            free(elems);
            break;
        }
        default: break;
        }
    }
}

void config_free(struct tickd_config *cfg) {
    if (!cfg) return;
    free_table(&root_section, cfg);
    free(cfg->source_order);
    free(cfg->group_order);
    free(cfg->path);
    free(cfg);
}

static bool str_equal(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static bool strings_equal(char *const *a, size_t na, char *const *b, size_t nb) {
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (!str_equal(a[i], b[i])) return false;
    return true;
}

/* Row by row; with only_restart, just the keys a reload cannot apply, naming the first that differs. */
static bool table_equal(const struct section *sec, const void *a, const void *b, bool only_restart,
                        const struct row **differs) {
    for (size_t i = 0; i < sec->nrows; i++) {
        const struct row *r = &sec->rows[i];
        const void *fa = FIELD(a, r->offset, const void), *fb = FIELD(b, r->offset, const void);
        bool eq = true;
        if (only_restart && !(r->flags & F_RESTART) && r->type != T_TABLE) continue;
        switch (r->type) {
        case T_SECRET:
            eq = str_equal(*FIELD(a, r->aux_offset, char *), *FIELD(b, r->aux_offset, char *));
            /* fall through */
        case T_NAME: case T_CHANNEL: case T_PATH: case T_URL: eq = eq && str_equal(*(char *const *)fa, *(char *const *)fb); break;
        case T_ENUM: eq = *(const int *)fa == *(const int *)fb; break;
        case T_VENUE: eq = *(const struct venue_ops *const *)fa == *(const struct venue_ops *const *)fb; break;
        case T_DURATION: case T_UINT: eq = *(const uint64_t *)fa == *(const uint64_t *)fb; break;
        case T_BOOL: eq = *(const bool *)fa == *(const bool *)fb; break;
        case T_SYMBOLS:
            eq = strings_equal(*(char **const *)fa, *FIELD(a, r->aux_offset, const size_t), *(char **const *)fb,
                               *FIELD(b, r->aux_offset, const size_t));
            if (eq && r->pat_offset)
                eq = strings_equal(*FIELD(a, r->pat_offset - 1, char *const *), *FIELD(a, r->pat_aux_offset, const size_t),
                                   *FIELD(b, r->pat_offset - 1, char *const *), *FIELD(b, r->pat_aux_offset, const size_t));
            break;
        case T_TABLE: eq = table_equal(r->sub, fa, fb, only_restart, differs); break;
        case T_TABLES: {
            size_t n = *FIELD(a, r->aux_offset, const size_t);
            const char *ea = *(char *const *)fa, *eb = *(char *const *)fb;
            eq = n == *FIELD(b, r->aux_offset, const size_t);
            for (size_t j = 0; eq && j < n; j++)
                eq = table_equal(r->sub, ea + j * r->elem_size, eb + j * r->elem_size, only_restart, differs);
            break;
        }
        }
        if (!eq) {
            if (differs && !*differs) *differs = r;
            return false;
        }
    }
    return true;
}

bool config_source_equal(const struct config_source *a, const struct config_source *b) {
    return table_equal(&source_section, a, b, false, NULL);
}

bool config_group_equal(const struct config_group *a, const struct config_group *b) {
    if (!table_equal(&group_section, a, b, false, NULL)) return false;
    return a->source && b->source && config_source_equal(a->source, b->source);
}

const char *config_restart_key(const struct tickd_config *old_cfg, const struct tickd_config *new_cfg) {
    static char key[96];
    for (size_t i = 0; i < root_section.nrows; i++) {
        const struct row *r = &root_section.rows[i], *differs = NULL;
        if (r->type != T_TABLE) continue;
        if (!table_equal(r->sub, FIELD(old_cfg, r->offset, const void), FIELD(new_cfg, r->offset, const void), true,
                         &differs)) {
            snprintf(key, sizeof key, "%s.%s", r->name, differs->name);
            return key;
        }
    }
    return NULL;
}

const struct config_source *config_find_source(const struct tickd_config *cfg, const char *name) {
    size_t i = find_named(source_name, cfg, cfg->source_order, cfg->nsources, name);
    return i == SIZE_MAX ? NULL : &cfg->sources[i];
}

const struct config_group *config_find_group(const struct tickd_config *cfg, const char *name) {
    size_t i = find_named(group_name, cfg, cfg->group_order, cfg->ngroups, name);
    return i == SIZE_MAX ? NULL : &cfg->groups[i];
}

int config_parse(const char *name, const char *text, size_t len, struct tickd_config **out,
                 struct config_errors *errs) {
    struct ctx c = {.file = name, .errs = errs, .errs_base = errs->len};
    char tomlerr[512];
    *out = NULL;
    const char *slash = strrchr(name, '/');
    if (slash) snprintf(c.dir, sizeof c.dir, "%.*s", (int)(slash == name ? 1 : slash - name), name);
    else snprintf(c.dir, sizeof c.dir, ".");

    toml_value *root = toml_parse(text, len, tomlerr, sizeof tomlerr);
    if (!root) {
        int line = 0, col = 0;
        char *msg = NULL;
        sscanf(tomlerr, "%d:%d:", &line, &col);
        if (asprintf(&msg, "%s:%s", name, tomlerr) >= 0) errors_add(errs, line, col, msg);
        return -EINVAL;
    }
    struct tickd_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(name))) {
        free(cfg);
        toml_free(root);
        return -ENOMEM;
    }
    apply_table(&c, &root_section, root, cfg);
    toml_free(root);
    size_t shown = errs->len - c.errs_base;
    char *more = NULL;
    if (c.nerrs > shown && asprintf(&more, "%s: %zu more errors not shown", name, c.nerrs - shown) >= 0)
        errors_add(errs, INT_MAX, INT_MAX, more); /* sorts last */
    if (c.nerrs) {
        config_free(cfg);
        return -EINVAL;
    }
    *out = cfg;
    return 0;
}

int config_load(const char *path, struct tickd_config **out, struct config_errors *errs) {
    char *msg = NULL, *text = NULL, why[64];
    size_t len = 0;
    *out = NULL;
    int rc = read_file(path, CONFIG_FILE_MAX, false, &text, &len);
    if (rc == 0) {
        rc = config_parse(path, text, len, out, errs);
        explicit_bzero(text, len); /* it may hold a password inline in a URL */
    } else if (asprintf(&msg, "%s: cannot read: %s", path,
                        rc == -EFBIG ? "larger than 16 MiB" : read_error(rc, path, why, sizeof why)) >= 0)
        errors_add(errs, 0, 0, msg);
    free(text);
    return rc;
}

/* ---- names, summary, reference ---------------------------------------------------------------------------- */

static const char *enum_name(const struct enum_value *v, int value) {
    for (; v->name; v++)
        if (v->value == value) return v->name;
    return "?";
}

const char *config_restart_name(enum config_restart r) { return enum_name(restarts, (int)r); }
const char *config_task_kind_name(enum config_task_kind k) { return enum_name(task_kinds, (int)k); }

void config_log_summary(const struct tickd_config *cfg) {
    char a[512], b[512];
    const char *C = "config";
    log_info(C, "config loaded", "path=%s sources=%zu groups=%zu", cfg->path, cfg->nsources, cfg->ngroups);
    log_info(C, "redis", "url=%s key_prefix=%s password_file=%s history=%llu",
             log_redact_url(cfg->redis.url, a, sizeof a), cfg->redis.key_prefix,
             cfg->redis.password_file[0] ? cfg->redis.password_file : "none",
             (unsigned long long)cfg->redis.history);
    log_info(C, "rabbitmq", "url=%s exchange=%s password_file=%s confirm=%s buffer_limit=%llu",
             log_redact_url(cfg->rabbitmq.url, a, sizeof a), cfg->rabbitmq.exchange,
             cfg->rabbitmq.password_file[0] ? cfg->rabbitmq.password_file : "none",
             cfg->rabbitmq.confirm ? "true" : "false", (unsigned long long)cfg->rabbitmq.buffer_limit);
    for (size_t i = 0; i < cfg->nsources; i++) {
        const struct config_source *s = &cfg->sources[i];
        log_info(C, "source", "name=%s venue=%s rest_url=%s ws_url=%s weight_per_minute=%llu "
                 "requests_per_second=%llu ws_messages_per_second=%llu ws_streams_per_connection=%llu",
                 s->name, s->venue ? s->venue->name : "?", log_redact_url(s->rest_url, a, sizeof a),
                 log_redact_url(s->ws_url, b, sizeof b), (unsigned long long)s->limits.weight_per_minute,
                 (unsigned long long)s->limits.requests_per_second,
                 (unsigned long long)s->limits.ws_messages_per_second,
                 (unsigned long long)s->limits.ws_streams_per_connection);
    }
    for (size_t i = 0; i < cfg->ngroups; i++) {
        const struct config_group *g = &cfg->groups[i];
        size_t len = 0;
        a[0] = 0;
        for (size_t t = 0; t < g->ntasks && len < sizeof a; t++)
            len += (size_t)snprintf(a + len, sizeof a - len, "%s%s/%s", t ? "," : "",
                                    config_task_kind_name(g->tasks[t].kind), g->tasks[t].channel);
        log_info(C, "group", "name=%s source=%s restart=%s symbols=%zu patterns=%zu excludes=%zu max=%llu tasks=%s",
                 g->name, g->source_name, config_restart_name(g->restart), g->nsymbols, g->npatterns, g->nexcludes,
                 (unsigned long long)g->max_symbols, a);
    }
}

static const char *type_doc(const struct row *r, char *buf, size_t n) {
    char lim[2][32];
    switch (r->type) {
    case T_NAME: return "name";
    case T_PATH: case T_SECRET: return "path";
    case T_CHANNEL: { /* every venue's, once each */
        size_t len = (size_t)snprintf(buf, n, "a channel of the source's venue:");
        char item[64];
        for (size_t i = 0; venue_at(i); i++)
            for (const struct venue_channel *ch = venue_at(i)->channels; ch && ch->name && len < n; ch++) {
                snprintf(item, sizeof item, "`%s`", ch->name);
                if (!strstr(buf, item))
                    len += (size_t)snprintf(buf + len, n - len, "%s %s", buf[len - 1] == ':' ? "" : ",", item);
            }
        return buf;
    }
    case T_VENUE: /* not "|"-separated: it would split a Markdown table cell */
        snprintf(buf, n, "one of");
        venue_choices(" `", "`", ",", buf + strlen(buf), n - strlen(buf));
        return buf;
    case T_ENUM: { /* not enum_choices(): '|' would split a Markdown table cell */
        size_t len = (size_t)snprintf(buf, n, "one of");
        for (const struct enum_value *v = r->values; v->name && len < n; v++)
            len += (size_t)snprintf(buf + len, n - len, "%s `%s`", v == r->values ? "" : ",", v->name);
        return buf;
    }
    case T_DURATION:
        snprintf(buf, n, "duration, %s to %s", duration_text(r->min, lim[0], sizeof lim[0]),
                 duration_text(r->max, lim[1], sizeof lim[1]));
        return buf;
    case T_UINT: snprintf(buf, n, "integer, %llu to %llu", (unsigned long long)r->min, (unsigned long long)r->max);
        return buf;
    case T_BOOL: return "boolean";
    case T_URL: {
        size_t len = (size_t)snprintf(buf, n, "URL:");
        for (const char *p = r->schemes; *p && len < n;) {
            size_t w = strcspn(p, " ");
            len += (size_t)snprintf(buf + len, n - len, "%s `%.*s://`", p == r->schemes ? "" : ",", (int)w, p);
            p += w + (p[w] == ' ');
        }
        return buf;
    }
    case T_SYMBOLS: return "array of symbols and patterns";
    case T_TABLE: return "table";
    case T_TABLES: return "array of tables";
    }
    return "";
}

static void print_section(FILE *f, const struct section *sec, bool array) {
    char type[160], def[160];
    fprintf(f, "\n### %s%s%s\n\n| key | type | default | meaning |\n|---|---|---|---|\n", array ? "[[" : "[",
            sec->toml_path, array ? "]]" : "]");
    for (size_t i = 0; i < sec->nrows; i++) {
        const struct row *r = &sec->rows[i];
        if (r->def) snprintf(def, sizeof def, r->type == T_UINT || r->type == T_BOOL ? "`%s`" : "`\"%s\"`", r->def);
        else snprintf(def, sizeof def, "%s", r->venue_def                  ? "by venue (below)"
                                             : (r->flags & F_REQUIRED) ? "required"
                                             : r->type == T_TABLE      ? "see its table"
                                                                       : "none");
        fprintf(f, "| `%s` | %s | %s | %s%s |\n", r->name, type_doc(r, type, sizeof type), def, r->doc,
                (r->flags & F_RESTART) ? " A change needs a restart (not a reload)." : "");
    }
    for (size_t i = 0; i < sec->nrows; i++)
        if (sec->rows[i].sub) print_section(f, sec->rows[i].sub, sec->rows[i].type == T_TABLES);
}

void config_print_reference(FILE *f) {
    for (size_t i = 0; i < root_section.nrows; i++)
        print_section(f, root_section.rows[i].sub, root_section.rows[i].type == T_TABLES);
    char cell[32];
    fprintf(f, "\n### Defaults by venue\n\n| key |");
    for (size_t v = 0; venue_at(v); v++) fprintf(f, " %s |", venue_at(v)->name);
    fprintf(f, "\n|---|");
    for (size_t v = 0; venue_at(v); v++) fprintf(f, "---|");
    fprintf(f, "\n");
    const struct section *secs[] = {&source_section, &limits_section};
    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < secs[s]->nrows; i++) {
            const struct row *r = &secs[s]->rows[i];
            if (!r->venue_def) continue;
            fprintf(f, "| `%s%s` |", s ? "limits." : "", r->name);
            for (size_t v = 0; venue_at(v); v++) fprintf(f, " `%s` |", venue_default(r, venue_at(v), cell, sizeof cell));
            fprintf(f, "\n");
        }
}

static size_t schema_keys(const struct section *sec, const char *prefix, const char **out, size_t max, size_t n) {
    static char paths[128][64];
    for (size_t i = 0; i < sec->nrows; i++) {
        const struct row *r = &sec->rows[i];
        if (r->sub) {
            n = schema_keys(r->sub, r->sub->toml_path, out, max, n);
            continue;
        }
        if (n < max && n < sizeof paths / sizeof paths[0]) {
            snprintf(paths[n], sizeof paths[n], "%s.%s", prefix, r->name);
            out[n] = paths[n];
        }
        n++;
    }
    return n;
}

size_t config_schema_keys(const char **out, size_t max) { return schema_keys(&root_section, "", out, max, 0); }
