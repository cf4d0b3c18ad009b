/* config.h -- the tickd configuration: one TOML file turned into a struct tickd_config by one schema table.
 *
 * config_load() reads the file, parses the TOML, applies the schema (types, defaults, ranges), checks what
 * spans several keys (duplicate names, a group naming a missing source) and reads the secret files. It either
 * returns a complete config or collects EVERY error of the file, each "FILE:LINE:COL: what was expected".
 * A config is immutable once loaded; a reload loads a new one, compares it with the running one
 * (config_group_equal, config_source_equal, config_restart_key) and frees whichever it does not keep.
 *
 * Durations are milliseconds. Secrets (passwords read from password_file, or given inline in a URL) are in
 * the struct for the sinks to use; nothing in this module prints them (URLs go through log_redact_url). */
#ifndef TICKD_CONFIG_H
#define TICKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tickd/log.h"

#define CONFIG_DEFAULT_PATH "/etc/tickd/tickd.toml"

struct venue_ops;

/* Erlang/OTP restart types: permanent always restarts, transient only after a failure, temporary never. */
enum config_restart {
    CONFIG_RESTART_PERMANENT,
    CONFIG_RESTART_TRANSIENT,
    CONFIG_RESTART_TEMPORARY,
};

enum config_task_kind {
    CONFIG_TASK_STREAM, /* websocket subscriber */
    CONFIG_TASK_POLL,   /* HTTP poller */
};

/* The kinds of event the pipeline carries, as the sinks take them (sink.h). Which channels a task may collect
 * is the venue's own table (venue.h, venue_ops.channels), by name: the config checks it there. */
enum config_channel {
    CONFIG_CHANNEL_BBO,    /* best bid and offer; each venue maps it to its own feed */
    CONFIG_CHANNEL_TRADES, /* every trade */
    CONFIG_CHANNEL_BOOK,   /* L2 order books (and, when a task asks, their deltas) */
};

struct config_daemon {
    enum log_level log_level;
    enum log_format log_format;
    uint64_t stats_interval_ms;
};

struct config_merge {
    uint64_t quote_ttl_ms; /* a quote not updated for this long leaves the best bid and offer; 0 = never */
};

struct config_redis {
    char *url;
    char *key_prefix;
    char *password_file; /* "" when none */
    char *password;      /* read from password_file at load; NULL when no file (the URL may hold one) */
    uint64_t history;    /* entries of the per-symbol history stream; 0 = none */
    uint64_t trade_history; /* entries of the per-instrument trades stream; 0 = none */
};

struct config_rabbitmq {
    char *url;
    char *exchange;
    char *password_file;
    char *password; /* read from password_file; replaces a password in the URL */
    bool confirm;
    uint64_t buffer_limit;
    uint64_t trade_buffer; /* bytes of trades held while the broker is slow or away; the oldest go beyond it */
    uint64_t book_delta_buffer; /* the same for book deltas (book_deltas = true), a bound of their own */
    char *ca_file; /* amqps: the CA bundle; "" = the system's */
};

struct config_supervisor {
    uint64_t backoff_min_ms;
    uint64_t backoff_max_ms;
    uint64_t max_restarts;      /* restarts allowed within restart_window before the group is parked */
    uint64_t restart_window_ms;
    uint64_t forgive_after_ms;  /* a group running this long has its failure history forgiven */
};

/* A limit of 0 turns that window off; an absent key takes the venue's documented limit. */
struct config_limits {
    uint64_t weight_per_minute;
    uint64_t requests_per_second;
    uint64_t ws_messages_per_second;
    uint64_t ws_streams_per_connection;
    uint64_t max_pause_ms; /* the longest pause a 429 / 418 imposes, whatever Retry-After asks */
};

struct config_source {
    char *name;
    const struct venue_ops *venue; /* the registered venue it names (venue_find) */
    char *rest_url;
    char *ws_url;
    char *ca_file; /* https:// and wss://: the CA bundle trusted instead of the system's; "" = the system's */
    bool instruments;                /* the venue's instrument list is loaded (instruments.c) */
    uint64_t instruments_refresh_ms; /* the venue's instrument list is loaded again this often; 0: at start only */
    struct config_limits limits;
    int line, col; /* where its [[source]] starts, for messages */
};

struct config_task {
    enum config_task_kind kind;
    char *channel; /* a channel of its source's venue (venue_channel_find): "bbo" */
    uint64_t stale_after_ms; /* no tick for this long: the task fails */
    uint64_t interval_ms;    /* poll tasks only */
    uint64_t max_age_ms;     /* stream tasks only: make-before-break reconnect after this long; 0 = venue's */
    uint64_t depth;          /* book: levels a side published */
    bool book_deltas;        /* book: every applied update also as an event (RabbitMQ bookdelta.<venue>.<symbol>) */
    int line, col;
};

struct config_group {
    char *name;
    char *source_name;
    const struct config_source *source; /* resolved: points into the same config's sources */
    enum config_restart restart;
    char **symbols; /* the names of `symbols`: normalized BASE-QUOTE, unique, in the file's order */
    size_t nsymbols;
    char **patterns; /* the patterns of `symbols` ("*-USDT"), normalized, in the file's order (symbol_select.h) */
    size_t npatterns;
    char **excludes; /* `exclude`: names and patterns taken out of what the patterns match; only with patterns */
    size_t nexcludes;
    uint64_t max_symbols; /* `max`: the whole list at most, cut from the pattern matches; 0 = no bound */
    struct config_task *tasks;
    size_t ntasks;
    int line, col;
};

struct tickd_config {
    char *path;
    struct config_daemon daemon;
    struct config_redis redis;
    struct config_rabbitmq rabbitmq;
    struct config_merge merge;
    struct config_supervisor supervisor;
    struct config_source *sources;
    size_t nsources;
    struct config_group *groups;
    size_t ngroups;
    size_t *source_order, *group_order; /* private: positions sorted by name, for config_find_* */
};

struct config_error {
    int line, col; /* 0 when the error has no position (an unreadable file) */
    char *msg;     /* the whole line: "FILE:LINE:COL: what was expected" */
};

struct config_errors {
    struct config_error *items; /* in document order */
    size_t len, cap;
};

/* Loads path. Returns 0 and *out (free with config_free), or a negative errno-style value with every problem
 * in errs (free with config_errors_free; errs must be zeroed before the first use). */
int config_load(const char *path, struct tickd_config **out, struct config_errors *errs);

/* The same from text in memory; name is used in messages and relative password_file paths resolve against
 * its directory. */
int config_parse(const char *name, const char *text, size_t len, struct tickd_config **out,
                 struct config_errors *errs);

void config_free(struct tickd_config *cfg);

void config_errors_print(const struct config_errors *errs, FILE *f);
void config_errors_free(struct config_errors *errs);

const struct config_source *config_find_source(const struct tickd_config *cfg, const char *name);
const struct config_group *config_find_group(const struct tickd_config *cfg, const char *name);

/* Reload helpers. Two sources are equal when every key is; two groups when every key, every task and the
 * source they use are equal (a group whose source changed must restart). */
bool config_source_equal(const struct config_source *a, const struct config_source *b);
bool config_group_equal(const struct config_group *a, const struct config_group *b);

/* The first key (e.g. "redis.url") whose change a reload cannot apply, the daemon must restart for it;
 * NULL when there is none. The text is valid until the next call. */
const char *config_restart_key(const struct tickd_config *old_cfg, const struct tickd_config *new_cfg);

/* A URL split into parts (no percent-decoding: the path keeps "%2f" as written). */
struct config_url {
    char scheme[8];
    char user[128];
    char password[256];
    bool has_password;
    char host[256]; /* an IPv6 address without its brackets */
    int port;       /* 0 when the URL names none */
    char path[512]; /* from the '/' after the authority, "" when none */
};

/* Splits "scheme://[user[:password]@]host[:port][/path]". The userinfo ends at the last '@', so a password may
 * hold '/', '?', '#' or '@' as written (a '@' in the path must be written %40). Returns 0, or -1 when it is not
 * of that form (no scheme, empty host, a port outside 1..65535, spaces or control characters, a part too long). */
int config_url_parse(const char *url, struct config_url *out);

/* "250ms", "30s", "2m", "1h", and sums such as "1m30s". Returns 0, or -1 for anything else. */
int config_parse_duration(const char *s, uint64_t *ms);

/* Upper-cases "btc-usdt" into "BTC-USDT" in out; returns -1 unless it is BASE-QUOTE (letters, digits, one dash;
 * symbol_parse's names, at most SYMBOL_LEN_MAX characters). */
int config_normalize_symbol(const char *s, char *out, size_t outlen);

const char *config_restart_name(enum config_restart r);
const char *config_task_kind_name(enum config_task_kind k);

/* Logs the effective configuration (URLs redacted, secrets never) at info level, one line per part. */
void config_log_summary(const struct tickd_config *cfg);

/* Prints the schema as Markdown tables: every key, its type, default and meaning (the README's reference). */
void config_print_reference(FILE *f);

/* Every key of the schema as a dotted path ("redis.url", "group.task.kind"); returns how many, fills up to max. */
size_t config_schema_keys(const char **out, size_t max);

#endif
