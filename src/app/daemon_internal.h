/* daemon_internal.h -- the daemon's state, shared by the files of src/app/ that make up the running process
 * (daemon.c: build, ticks, stats, stop; reload.c: SIGHUP). Not an interface: nothing outside src/app/ includes it.
 *
 * Ownership. The daemon owns the sinks (one `struct sink_rt` per row of sink_table, sink.h), one
 * `struct source_rt` per [[source]] and one `struct group_rt` per [[group]]. A group runtime holds what the
 * group's tasks borrow (the symbol table, the task arguments); the supervisor rebuilds the group from it at
 * every restart. On reload a runtime that is replaced is not freed at
 * once: the old group's tasks may still be finishing (at most the grace period), so it is retired and freed
 * by a later sweep. A source runtime lives as long as a group may use it: its limiter is what keeps a restart
 * storm from breaking the exchange's limits. */
#ifndef TICKD_APP_DAEMON_INTERNAL_H
#define TICKD_APP_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "tickd/config.h"
#include "tickd/daemon.h"
#include "tickd/http.h"
#include "tickd/instr_map.h"
#include "tickd/merge.h"
#include "tickd/notify.h"
#include "tickd/sink.h"
#include "tickd/source.h"
#include "tickd/status.h"
#include "tickd/supervisor.h"
#include "tickd/venue.h"
#include "tickd/ws.h"

#define GROUP_GRACE_MS 3000
#define RETIRE_AFTER_MS (3 * GROUP_GRACE_MS)
#define STOP_DEADLINE_MS 8000
#define WS_DRAIN_MS 2000      /* how long websocket close handshakes may take at shutdown */
#define WS_DRAIN_CHECK_MS 10
#define READY_CHECK_MS 5 /* only while starting: READY waits at most this long after its last condition */
#define READY_ANYWAY_MS 30000 /* sinks still away after this: report READY degraded rather than never */
#define LOG_FLUSH_MS 200 /* lines a stalled stderr held back go out this soon after it drains */
#define LOG_DRAIN_MS 1000
#define BOOK_MAX_FRAME ((size_t)32 << 20) /* a book stream's longest message: a whole book */ /* at exit: how long the last lines may wait for a slow stderr */

struct daemon;

struct catalog;

struct source_rt {
    struct source src;
    struct daemon *d;
    struct catalog *catalog; /* the venue's instrument list (instruments.c); NULL when the venue has none */
    char **unlisted;         /* explicit names the venue does not list, as last reported */
    size_t nunlisted;
    const struct config_source *cfg; /* in the current config; NULL once retired */
    struct limiter_window windows[2 + VENUE_CONNECT_RATES_MAX]; /* weight, requests, the venue's connect rates */
    uint64_t frames_at_last_stats, level_changes_at_last_stats;
    struct source_rt *next;
    int64_t retired_at_ms; /* 0 while in use */
};

struct group_rt {
    char name[96];
    char config_name[96]; /* the [[group]] it serves: its own name, or its parent's for a companion
                             ("<group>+<n>": listings a pattern group matched while running, instruments.c) */
    struct daemon *d;
    struct source_rt *source;
    enum restart_type restart;
    struct venue_symbols symbols;
    struct poll_args *polls;
    size_t npolls;
    struct stream_args *streams;
    size_t nstreams;
    struct group_rt *next;
    int64_t retired_at_ms;
};

struct ingest_counters {
    uint64_t ticks, accepted, stale, duplicates, invalid;
    uint64_t withdrawn; /* ticks of instruments the venue halted or delisted (merge_withdraw) */
    uint64_t trades, trades_new, trades_refused; /* trades in, new ones (after the filter), refused by a sink */
    uint64_t books, books_stale, books_refused, book_deltas; /* books in, refused as older, refused by a sink */
};

/* How the daemon judges one venue's trades (trade_filter_check's dense and fill_wait_us). */
#define TRADE_VENUES_MAX 16
struct trade_venue {
    const struct venue_ops *venue;
    bool dense;
    int64_t fill_wait_us;
};

struct sink_rt {
    const struct sink_ops *ops;
    void *state;      /* NULL until opened (a failed start may leave it so) */
    uint64_t refused; /* ticks its put_quote refused */
};

struct daemon {
    uv_loop_t loop;
    struct tickd_config *cfg;
    const struct daemon_opts *opts;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t stats_timer;
    uv_timer_t phase_timer; /* the READY check while starting, the websocket drain while stopping */
    uv_timer_t expiry_timer; /* merge.quote_ttl's sweep; stopped when it is 0 */
    uv_timer_t held_timer;   /* hands on the merge's due held ticks and the trade filter's due held trades */
    uv_timer_t log_timer;    /* log_flush; unref'd: it never keeps the loop alive */
    int64_t expiry_now_us;   /* the sweep's time, for the BBOs it rewrites */
    uint64_t expired_unlogged;
    uint64_t expiry_logged_ms;
    struct status_server status;
    struct notify_watchdog watchdog;
    struct http_client *http;
    struct ws_client *ws;
    struct merge *merge;
    struct trade_filter *trade_filter; /* which trades are new (trade_filter.h) */
    struct instr_map books;            /* per book, its last publisher and seq (daemon.c, book_is_newest) */
    struct trade_venue trade_venues[TRADE_VENUES_MAX]; /* per venue: its trade ids dense, its fill wait */
    size_t n_trade_venues;
    int64_t trade_gap_logged_ms;       /* the last "trade ids skipped" line: they are logged at most once a second */
    uint64_t trade_gaps_unlogged;
    struct sink_rt sinks[SINK_TABLE_MAX]; /* sink_table's rows, in its order */
    size_t nsinks;
    bool bbo_sinks; /* some sink takes BBOs (put_bbo): only then is a changed one fetched from the merge */
    struct supervisor *sup;
    struct source_rt *sources;
    struct group_rt *groups;
    struct ingest_counters in;
    /* counters at the last stats line, for the per-second rates */
    uint64_t frames_at_last_stats, accepted_at_last_stats;
    int64_t started_ms, last_stats_ms, stop_started_ms;
    int64_t ws_drain_started_ms;
    double ticks_per_s; /* at the last stats line */
    bool ready_sent, stopping;
    int exit_status;
    int pending_closes; /* sinks and limiters still closing during shutdown */
};

struct tree_counts {
    unsigned groups, running, ready, restarting, parked, stopped, tasks;
};

/* daemon.c */
struct source_rt *daemon_source_new(struct daemon *d, const struct config_source *cs);
struct source_rt *daemon_source_find(struct daemon *d, const char *name);
/* Adds [[group]] cg to the supervisor (replace: it stands for a group of that name being retired). A group with
 * patterns waits for its source's instrument list (instruments.c). */
int daemon_group_add(struct daemon *d, const struct config_group *cg, bool replace);
/* Adds a group of names to the supervisor as serving [[group]] `config_name` (itself, or its companion). */
int daemon_group_start(struct daemon *d, const struct config_group *cg, const char *config_name, bool replace);
/* Retires the runtimes serving [[group]] `config_name` (freed by a later sweep, once their tasks are surely done);
 * its companions leave the supervisor, the group itself is the caller's to replace or remove. */
void daemon_group_retire_all(struct daemon *d, const char *config_name);
/* (Re)arms merge.quote_ttl's sweep from the current config. */
void daemon_expiry_arm(struct daemon *d);
/* Frees the books' map (at exit). */
void daemon_books_free(struct daemon *d);
/* Works out d->trade_venues from the venue table and d->cfg; at start and after each reload. */
void daemon_trade_venues_update(struct daemon *d);
void daemon_count_node(const struct tree_node *n, void *arg); /* supervisor_visit: adds into a tree_counts */
void daemon_send_status(const struct daemon *d, const struct tree_counts *tc);
void daemon_on_stats(uv_timer_t *t);

/* instruments.c: the sources' instrument lists (catalog.h) followed by the groups, the merge and the sinks. */
void daemon_instruments_start(struct daemon *d, struct source_rt *s);
void daemon_instruments_stop(struct source_rt *s);
int daemon_pattern_group_add(struct daemon *d, const struct config_group *cg, bool replace);
size_t daemon_instruments_unlisted(const struct source_rt *s);
/* A group runtime about to start follows the list its source holds now (its halted, delisted and unlisted
 * symbols muted), so that a group added by a reload does not wait for the list's next change. */
void daemon_instruments_group(struct daemon *d, struct group_rt *g);
/* After a reload: the names the new configuration adds that the venue does not list are reported. */
void daemon_instruments_reloaded(struct daemon *d);

/* reload.c: applies the config file anew (SIGHUP); an invalid one leaves the running configuration as it is. */
void daemon_reload(struct daemon *d);

#endif
