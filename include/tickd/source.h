/* source.h -- what every task of every group on one [[source]] shares, and the two task kinds built on it.
 *
 * A `struct source` is owned by the daemon, not by a group: its rate limiter must survive group restarts (a
 * restart storm must not reset the count the exchange keeps), and its counters feed the stats line. Tasks
 * borrow it. Ticks leave a task through source->sink, which the daemon points at the merge and the sinks.
 *
 * The tasks (task.h explains the lifecycle):
 *   poll   one HTTP poller: the venue's cheapest request plan for the group's symbols, every interval,
 *          each request through the limiter; 429/418 pause the whole source; transient failures (connect
 *          errors, timeouts, 5xx) are retried with backoff inside the task, which fails only when its retry
 *          budget is spent. Ready after the first good answer.
 *   stream one websocket connection for a range of the group's symbols (the venue's per-connection limit
 *          decides how many connections a group gets): connect and subscribe through the limiter, keep-alive
 *          (application pings, heartbeat watch), make-before-break on a planned close; an unplanned close,
 *          a stale feed or a flood of malformed frames fails the task. Ready once subscribed. */
#ifndef TICKD_SOURCE_H
#define TICKD_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tickd/book_sync.h"
#include "tickd/clock.h"
#include "tickd/limiter.h"
#include "tickd/sink.h"
#include "tickd/supervisor.h"
#include "tickd/tick.h"
#include "tickd/venue.h"

struct http_client;
struct ws_client;
struct task_ops;

/* Where events go: called on the loop with the events the caller owns (copy what you keep). A task emits
 * what its channel carries (venue_channel.kind): quotes through emit, trades through emit_trades, books through
 * emit_books (with the book's top as a quote through emit, so the bbo follows the book) and, when its task asks,
 * their updates through emit_book_deltas. */
struct tick_sink {
    void (*emit)(void *arg, const struct tick *ticks, size_t n);
    void (*emit_trades)(void *arg, const struct trade *trades, size_t n);
    void (*emit_books)(void *arg, const struct book_view *books, size_t n);
    void (*emit_book_deltas)(void *arg, const struct book_delta_view *deltas, size_t n);
    void *arg;
};

struct source_counters {
    uint64_t frames;          /* websocket frames and REST answers received */
    uint64_t ticks;           /* ticks parsed */
    uint64_t trades;          /* trades parsed */
    uint64_t malformed;       /* frames or answers that did not parse */
    uint64_t unknown;         /* well-formed but not ours: ignored */
    uint64_t venue_errors;    /* error events or error bodies from the venue */
    uint64_t requests;        /* HTTP requests sent */
    uint64_t http_failures;   /* connect errors, timeouts, 5xx */
    uint64_t rate_limited;    /* 429 / 418 / the venue's rate-limit error */
    uint64_t connects;        /* websocket connections opened */
    uint64_t planned_reconnects; /* make-before-break switches */
    uint64_t failed_switches;    /* standbys that did not deliver in time, were refused or dropped: the old stayed */
    /* books (of the connections that publish them) */
    uint64_t books[4];           /* by enum book_state, now */
    uint64_t book_updates;       /* book updates parsed */
    uint64_t book_level_changes; /* level changes applied */
    uint64_t book_resyncs[BOOK_CAUSES];
    uint64_t snapshot_requests, snapshot_weight; /* REST snapshots asked for, and their weight */
    uint64_t book_resubscribes;  /* stream venues: one symbol unsubscribed and subscribed again */
};

struct source {
    char name[64];
    const struct venue_ops *venue;
    char rest_url[512];
    char ws_url[512];
    struct limiter *limiter;
    int weight_window; /* index of the request-weight window in the limiter (for used-weight headers), or -1 */
    struct limiter_window conn_windows[1]; /* per websocket connection (client messages per second) */
    size_t n_conn_windows;
    size_t ws_streams_per_connection; /* 0: the venue's own limit */
    struct http_client *http;
    struct ws_client *ws;
    struct tick_sink sink;
    struct source_counters counters;
    struct supervisor *supervisor; /* told when the venue works, to cut its failed groups' backoff; NULL: nobody */
};

struct http_response;
/* What every REST answer tells the source's limiter: the venue's used-weight header, where it sends one. */
void source_observe_headers(struct source *src, const struct http_response *res);

/* Evidence that the venue works now: a connection subscribed, a REST answer parsed. Tasks call it at those
 * moments, not per frame; the supervisor turns it into at most one early restart per failed group. */
static inline void source_works(const struct source *src) {
    if (src->supervisor) supervisor_source_recovered(src->supervisor, src->name);
}


/* What a poll task is given (task arg). Borrowed: must outlive the task (the daemon's group runtime owns it). */
struct poll_args {
    struct source *source;
    const struct venue_channel *channel; /* what it collects: one of source->venue's channels */
    const struct venue_symbols *symbols;
    uint64_t interval_ms;
    unsigned retry_budget;      /* consecutive failed attempts before the task fails; 0: 5 */
    uint64_t request_timeout_ms; /* 0: min(interval, 10 s), at least 1 s */
};

/* What a stream task is given (task arg): one connection for symbols [first, first+count). */
struct stream_args {
    struct source *source;
    const struct venue_channel *channel; /* what it collects: one of source->venue's channels */
    const struct venue_symbols *symbols;
    size_t first, count;
    uint64_t stale_after_ms;     /* no frame at all for this long: the feed is dead (0: the venue's stale_ms) */
    uint64_t max_age_ms;         /* reconnect (make before break) after this long; 0: the venue's own cut */
    size_t max_frame;            /* 0: 1 MiB */
    unsigned malformed_limit;    /* malformed frames per 10 s that fail the task; 0: 100 */
    unsigned depth;              /* book: levels a side published (0: BOOK_DEPTH_DEFAULT) */
    bool book_deltas;            /* book: every applied update as an event too */
};

/* The prefix of every log line of a task: the group names it, since every group has a task called "stream". */
#define TASK_LOG_FMT "group=%s task=%s"
#define TASK_LOG_ARGS(t) group_name(task_group(t)), task_name(t)

extern const struct task_ops poll_task_ops;
extern const struct task_ops stream_task_ops;

#endif
