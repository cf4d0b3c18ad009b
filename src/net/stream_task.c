/* stream_task.c -- one websocket subscriber for a range of a group's symbols (see source.h).
 *
 * The task holds up to two connections: the active one, and during a planned switch (the venue announced a
 * disconnect, or the connection reached its maximum age) a standby that connects and subscribes while the
 * active one still delivers. Only when the standby is subscribed and has delivered a tick is the old one
 * closed: make before break, so a planned close loses no update (the merge drops the duplicates both deliver
 * meanwhile, counted as its duplicates). A standby that delivers nothing within min(stale_after, 10 s) of
 * opening, is refused or drops fails the switch: it is closed, the old connection stays, and a maximum-age
 * switch is tried again after a backoff that doubles. A venue's announced close has no such deadline: the old
 * connection is going away, and the standby takes over when it does.
 *
 * Staleness is judged on what proves the subscription: ticks, the venue's heartbeats and acks. For a venue
 * without heartbeats a quiet market sends nothing, so once a connection has proven its subscription (an ack or
 * a tick, or it subscribed in its URL) the answers to our pings keep it alive too; before that, pongs prove only
 * the socket, and a refused or silently dropped subscription goes stale. A venue error before the connection's
 * first tick is a refused subscription: it fails the task (a standby's fails the switch).
 *
 * Connections are heap objects apart from the task state, because lws reports a close later, on the loop: if
 * the task is torn down first, its connections are orphaned (conn->stream = NULL) and free themselves in
 * their own on_close. Connects and every client message go through the source's limiter: the connect window
 * of the source, and the per-connection message window (Binance: 5 per second). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/backoff.h"
#include "tickd/clock.h"
#include "tickd/log.h"
#include "tickd/source.h"
#include "tickd/task.h"
#include "tickd/ws.h"

#include "stream_book.h"

#define STREAM_TICK_MIN_MS 250
#define MALFORMED_WINDOW_MS 10000
#define MALFORMED_LOGGED_PER_WINDOW 3
#define SUBSCRIBE_MAX_MSGS 64
#define TICKS_FIRST_CAP 8 /* ticks a frame may yield before the buffer grows: stream frames carry one or a few */
/* Trades one frame may yield (Kraken's and OKX's batches, a snapshot of recent trades): far above what a venue
 * sends, far below what a max_frame of hostile text could claim. Beyond it they are counted as overflow. */
#define TRADES_PER_FRAME_MAX 16384
/* Level changes one frame may carry: a Coinbase snapshot is the whole book (tens of thousands of levels on its
 * busiest products); beyond this the frame counts as overflow and its symbol stays unsynced. */
#define BOOK_CHANGES_PER_FRAME_MAX 262144
/* A book standby takes over once every book is live: Binance's snapshots wait their turn in the limiter. */
#define BOOK_SWITCH_WAIT_MIN_MS 30000

/* What an adapter puts in a websocket path must reach the venue whole (a longer path fails every connect). */
_Static_assert(VENUE_WS_PATH_MAX <= WS_PATH_MAX, "venue websocket paths longer than the transport carries");
#define SWITCH_WAIT_MAX_MS 10000   /* how long a standby may take to deliver its first tick */
#define SWITCH_BACKOFF_MAX_MS 300000
#define PING_IDLE_MIN_MS 1000
#define DRAIN_MS 500 /* a replaced connection still delivers what it had in flight for this long, then closes */

struct stream;

struct sub_msg {
    struct limiter_request lreq;
    struct conn *conn;
    char *text;
    size_t len;
    bool queued;
};

/* A message after the subscribe: a symbol (un)subscribed because the venue halted, delisted or reopened it, or a
 * book's resubscribe. The connection owns it until it is sent, in order, through its message window. */
struct ctl_msg {
    struct limiter_request lreq;
    struct conn *conn;
    struct ctl_msg *next;
    bool queued;
    size_t len;
    char text[];
};

struct conn {
    struct stream *stream; /* NULL once orphaned */
    struct ws_conn *ws;    /* NULL once closed */
    struct limiter_client *client;
    struct limiter_request connect_req;
    bool connect_queued;
    struct sub_msg *msgs; /* sized to the messages built: most connections need one or a few */
    size_t nmsgs, msgs_cap, sent;
    struct ctl_msg *ctl;  /* queued after the subscribe, oldest first */
    uint8_t *muted;       /* per symbol of the range: this connection's subscription leaves it out */
    unsigned muted_gen;   /* the table's muted_gen its subscription follows */
    bool open, subscribed, acked;
    bool ticked; /* a tick came on this connection: its subscription delivers */
    bool closing; /* we asked for the close */
    struct conn *next_retired; /* on stream->retired */
    int64_t retire_at_ms;      /* when a retired connection that still drains is closed */
    int64_t opened_ms;
    uint32_t run; /* its ticks' run (tick.h): the merge tells a reconnect's fresh sequence from an overlap's */
    struct book_feed *books; /* a book channel's: this connection's books (stream_book.h) */
    char name[80];
};

struct stream {
    struct task *task;
    const struct stream_args *a;
    uv_timer_t timer;
    struct conn *active, *standby;
    struct conn *retired; /* replaced or refused connections, draining or closing: the task owns them until their
                           * on_close, so a task that ends meanwhile orphans them instead of leaving them its state */
    unsigned next_id;
    int64_t last_frame_ms, last_ping_ms;
    int64_t malformed_window_start;
    unsigned malformed_in_window;
    struct limiter_request ping_req;
    bool ping_queued;
    bool switch_announced;     /* the current switch is the venue's announced close: no deadline */
    unsigned switch_failures;  /* in a row; the next maximum-age switch waits a backoff */
    uint64_t rng;              /* the backoff's jitter */
    int64_t next_switch_ms;
    bool stopping, failed;
    struct tick *ticks; /* the parse output: grows on demand up to one tick per symbol of the range */
    size_t ticks_cap;
    struct trade *trades; /* a trades channel's parse output: grows on demand up to TRADES_PER_FRAME_MAX */
    size_t trades_cap;
    struct book_update *book_updates; /* a book channel's parse output: up to one per symbol of the range */
    size_t book_updates_cap;
    struct book_change *book_changes; /* ... and their levels, up to BOOK_CHANGES_PER_FRAME_MAX */
    size_t book_changes_cap;
    struct book_precision *precisions; /* per table symbol, when the venue's checksum needs them */
    struct book_precisions *precision_fetch;
    unsigned book_conns; /* connections that kept books */
};

static void stream_fail(struct stream *s, int status, const char *cause);
static void switch_to(struct stream *s, struct conn *c);
static void switch_failed(struct stream *s, const char *cause);

static void conn_release_requests(struct conn *c) {
    book_feed_free(c->books); /* its snapshots are requests too */
    c->books = NULL;
    if (c->connect_queued) limiter_cancel(&c->connect_req);
    c->connect_queued = false;
    for (size_t i = 0; i < c->nmsgs; i++) {
        if (c->msgs[i].queued) limiter_cancel(&c->msgs[i].lreq);
        c->msgs[i].queued = false;
    }
    while (c->ctl) {
        struct ctl_msg *m = c->ctl;
        c->ctl = m->next;
        if (m->queued) limiter_cancel(&m->lreq);
        free(m);
    }
}

static void conn_free(struct conn *c) {
    book_feed_free(c->books);
    c->books = NULL;
    conn_release_requests(c);
    tick_run_end(c->run, clock_wall_us());
    if (c->client) limiter_client_free(c->client);
    for (size_t i = 0; i < c->nmsgs; i++) free(c->msgs[i].text);
    free(c->msgs);
    free(c->muted);
    free(c);
}

/* Retires a connection we no longer want: it drains until drain_until_ms (0: it closes now), then frees itself in
 * on_close (or now, if it never connected). */
static void conn_retire(struct stream *s, struct conn *c, int64_t drain_until_ms) {
    conn_release_requests(c);
    if (!c->ws) {
        conn_free(c);
        return;
    }
    c->next_retired = s->retired;
    s->retired = c;
    c->retire_at_ms = drain_until_ms;
    if (!drain_until_ms) {
        c->closing = true;
        ws_close(c->ws);
    }
}

static void retired_unlink(struct stream *s, struct conn *c) {
    for (struct conn **p = &s->retired; *p; p = &(*p)->next_retired)
        if (*p == c) {
            *p = c->next_retired;
            return;
        }
}

/* Closes the retired connections whose drain has ended (all of them when now < 0). */
static void retired_close_due(struct stream *s, int64_t now) {
    for (struct conn *c = s->retired; c; c = c->next_retired)
        if (!c->closing && (now < 0 || now >= c->retire_at_ms)) {
            c->closing = true;
            ws_close(c->ws);
        }
}

static void maybe_finish_stop(struct stream *s) {
    if (s->stopping && !s->active && !s->standby && !s->retired)
        task_done(s->task, s->failed ? -EIO : -ECANCELED, "cancelled");
}

static bool ready_to_serve(const struct conn *c, const struct venue_ops *v) {
    /* Subscribed when every subscribe message went out and the venue acknowledged (or, for venues that take the
     * subscription in the URL and send no ack, when the connection opened). */
    return c->open && c->sent == c->nmsgs && (c->acked || c->nmsgs == 0 || !v->heartbeats);
}

/* A standby may take over: it delivered, and a book connection's books are all live. */
static bool conn_delivers(const struct conn *c) { return c->ticked && (!c->books || book_feed_live(c->books)); }

static void conn_check_subscribed(struct conn *c) {
    struct stream *s = c->stream;
    if (!s || c->subscribed || !ready_to_serve(c, s->a->source->venue)) return;
    c->subscribed = true;
    source_works(s->a->source);
    if (c == s->standby) {
        if (conn_delivers(c)) switch_to(s, c);
    } else if (c == s->active) {
        log_info("stream", "subscribed", TASK_LOG_FMT " conn=%s symbols=%zu",
                 TASK_LOG_ARGS(s->task), c->name, s->a->count);
        task_ready(s->task);
    }
}

static void on_msg_granted(struct limiter_request *req, int status) {
    struct sub_msg *m = req->data;
    struct conn *c = m->conn;
    m->queued = false;
    if (status < 0 || !c->stream || !c->ws) return;
    int rc = ws_send_text(c->ws, m->text, m->len);
    if (rc < 0) {
        stream_fail(c->stream, -EIO, "cannot send the subscribe message");
        return;
    }
    c->sent++;
    conn_check_subscribed(c);
}

/* Builds the subscribe messages of the task's range, leaving out the muted symbols, and queues each through the
 * per-connection limiter. A range its path subscribes is subscribed whole: conn_follow_mutes unsubscribes the
 * muted ones once the connection is open. */
static int conn_subscribe(struct conn *c) {
    struct stream *s = c->stream;
    const struct stream_args *a = s->a;
    static char buf[VENUE_MSG_MAX];
    size_t at = a->first, end = a->first + a->count;
    c->muted_gen = a->symbols->muted_gen;
    if (a->channel->ws_path_subscribes && a->channel->ws_path_subscribes(a->symbols, a->first, a->count)) return 0;
    size_t run_end = at;
    while (at < end) {
        if (at >= run_end) { /* the next run of symbols that are not muted */
            while (at < end && a->symbols->list[at].muted) c->muted[at++ - a->first] = 1;
            for (run_end = at; run_end < end && !a->symbols->list[run_end].muted;) run_end++;
            if (at == end) break;
        }
        size_t next = at;
        int n = a->channel->ws_subscribe(a->symbols, at, run_end - at, ++s->next_id, buf, sizeof buf, &next);
        if (n < 0 || next <= at) return -ENOSPC;
        if (n > 0) {
            if (c->nmsgs == SUBSCRIBE_MAX_MSGS) return -E2BIG;
            if (c->nmsgs == c->msgs_cap) { /* nothing points into it yet: the array may move */
                size_t cap = c->msgs_cap ? 2 * c->msgs_cap : 2;
                struct sub_msg *grown = realloc(c->msgs, cap * sizeof *grown);
                if (!grown) return -ENOMEM;
                c->msgs = grown;
                c->msgs_cap = cap;
            }
            struct sub_msg *m = &c->msgs[c->nmsgs];
            memset(m, 0, sizeof *m);
            if (!(m->text = malloc((size_t)n))) return -ENOMEM;
            memcpy(m->text, buf, (size_t)n);
            m->len = (size_t)n;
            m->conn = c;
            c->nmsgs++;
        }
        at = next;
    }
    for (size_t i = 0; i < c->nmsgs; i++) { /* the array is final now: requests may point into it */
        struct limiter_cost cost = {{0}};
        cost.units[LIMITER_MESSAGE] = 1;
        c->msgs[i].lreq.data = &c->msgs[i];
        int rc = limiter_acquire(c->client, &c->msgs[i].lreq, &cost, on_msg_granted);
        if (rc < 0) return rc;
        c->msgs[i].queued = true;
    }
    return 0;
}

static void on_ctl_granted(struct limiter_request *req, int status) {
    struct ctl_msg *m = req->data;
    struct conn *c = m->conn;
    m->queued = false;
    if (status == 0 && c->ws && !c->closing && ws_send_text(c->ws, m->text, m->len) < 0 && c->stream)
        log_warn("stream", "cannot send a message", TASK_LOG_FMT " conn=%s", TASK_LOG_ARGS(c->stream->task), c->name);
    for (struct ctl_msg **p = &c->ctl; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    free(m);
}

/* Queues a text after the subscribe: sent in turn through the connection's message window (the limiter grants
 * one client's requests in order, so an unsubscribe goes before the subscribe queued after it). */
static int conn_queue_text(void *arg, const char *text, size_t len) {
    struct conn *c = arg;
    if (!c->ws || c->closing) return -ENOTCONN;
    struct ctl_msg *m = malloc(sizeof *m + len);
    if (!m) return -ENOMEM;
    *m = (struct ctl_msg){.conn = c, .len = len};
    memcpy(m->text, text, len);
    m->lreq.data = m;
    struct limiter_cost cost = {{0}};
    cost.units[LIMITER_MESSAGE] = 1;
    int rc = limiter_acquire(c->client, &m->lreq, &cost, on_ctl_granted);
    if (rc < 0) {
        free(m);
        return rc;
    }
    m->queued = true;
    struct ctl_msg **p = &c->ctl;
    while (*p) p = &(*p)->next;
    *p = m;
    return 0;
}

/* Brings the connection's subscription in line with the table's muted symbols: an unsubscribe for each symbol
 * muted since it subscribed (the venue halted or delisted it), a subscribe for each one unmuted. */
static void conn_follow_mutes(struct stream *s, struct conn *c) {
    const struct stream_args *a = s->a;
    if (!c->open || c->closing || c->muted_gen == a->symbols->muted_gen || !a->channel->ws_unsubscribe) return;
    c->muted_gen = a->symbols->muted_gen;
    static char buf[VENUE_MSG_MAX];
    for (size_t i = 0; i < a->count; i++) {
        size_t sym = a->first + i, next = sym;
        bool want = a->symbols->list[sym].muted;
        if (want == (bool)c->muted[i]) continue;
        int n = want ? a->channel->ws_unsubscribe(a->symbols, sym, 1, ++s->next_id, buf, sizeof buf, &next)
                     : a->channel->ws_subscribe(a->symbols, sym, 1, ++s->next_id, buf, sizeof buf, &next);
        if (n <= 0 || conn_queue_text(c, buf, (size_t)n) < 0) {
            log_warn("stream", want ? "cannot unsubscribe a symbol" : "cannot subscribe a symbol",
                     TASK_LOG_FMT " conn=%s symbol=%s", TASK_LOG_ARGS(s->task), c->name, a->symbols->list[sym].norm);
            c->muted_gen--; /* tried again at the next timer */
            continue;
        }
        c->muted[i] = want;
        log_info("stream", want ? "unsubscribed: the venue halted or delisted it" : "subscribed again: it trades",
                 TASK_LOG_FMT " conn=%s symbol=%s", TASK_LOG_ARGS(s->task), c->name, a->symbols->list[sym].norm);
    }
}

/* Whether every symbol of the range is muted: nothing can come, and silence is no stale feed. */
static bool all_muted(const struct stream *s) {
    for (size_t i = 0; i < s->a->count; i++)
        if (!s->a->symbols->list[s->a->first + i].muted) return false;
    return true;
}

static int conn_books_start(struct stream *s, struct conn *c) {
    struct book_feed_conn fc = {.task = s->task, .args = s->a, .precisions = s->precisions,
                                .queue = conn_queue_text, .conn = c, .run = c->run, .name = c->name};
    int rc = book_feed_new(&fc, &c->books);
    if (rc < 0) return rc;
    if (c == s->active) book_feed_set_active(c->books, true);
    /* Every connection after the task's first syncs its books anew: the reconnect's share of the resyncs. */
    if (s->book_conns++) s->a->source->counters.book_resyncs[BOOK_CAUSE_RECONNECT] += s->a->count;
    return 0;
}

static void on_open(struct ws_conn *ws, void *arg) {
    (void)ws;
    struct conn *c = arg;
    struct stream *s = c->stream;
    if (!s) return;
    if (s->a->channel->kind == VENUE_EVENT_BOOK && conn_books_start(s, c) < 0) {
        stream_fail(s, -ENOMEM, "cannot keep the connection's books");
        return;
    }
    c->open = true;
    c->opened_ms = clock_mono_ms();
    if (c == s->active) s->last_frame_ms = c->opened_ms;
    int rc = conn_subscribe(c);
    if (rc < 0) {
        stream_fail(s, rc, "cannot build the subscribe messages");
        return;
    }
    c->muted_gen--; /* a path subscribes muted symbols too: they are unsubscribed now */
    conn_follow_mutes(s, c);
    conn_check_subscribed(c);
}

static void count_malformed(struct stream *s, struct conn *c, const char *data, size_t len) {
    struct source *src = s->a->source;
    src->counters.malformed++;
    int64_t now = clock_mono_ms();
    if (now - s->malformed_window_start > MALFORMED_WINDOW_MS) {
        s->malformed_window_start = now;
        s->malformed_in_window = 0;
    }
    s->malformed_in_window++;
    if (s->malformed_in_window <= MALFORMED_LOGGED_PER_WINDOW)
        log_warn("stream", "malformed frame", TASK_LOG_FMT " conn=%s bytes=%zu head=%.*s",
                 TASK_LOG_ARGS(s->task), c->name, len, (int)(len < 64 ? len : 64), data);
    unsigned limit = s->a->malformed_limit ? s->a->malformed_limit : 100;
    if (s->malformed_in_window > limit) stream_fail(s, -EPROTO, "flood of malformed frames");
}

static void start_standby(struct stream *s, const char *why, bool announced);

/* Grows *items (of size `size`, *cap of them) to want, at most max. false when it cannot grow. */
static bool grow_output(void **items, size_t *cap, size_t want, size_t max, size_t size) {
    if (*cap >= max) return false;
    if (want > max) want = max;
    void *grown = realloc(*items, want * size);
    if (!grown) return false;
    *items = grown;
    *cap = want;
    return true;
}

/* Parses a frame into s->ticks (or s->trades). A frame with more than the buffer holds is parsed again into a
 * buffer grown to fit (parsing has no side effects), so the buffer costs a few entries, not one per symbol, and
 * a frame still yields up to one tick per symbol of the range (trades: TRADES_PER_FRAME_MAX). */
static enum venue_msg parse_frame(struct stream *s, const struct conn *c, const char *data, size_t len,
                                  struct venue_out *out) {
    const struct venue_channel *ch = s->a->channel;
    int64_t now_us = clock_wall_us();
    for (;;) {
        venue_out_init(out, s->ticks, s->ticks_cap, now_us, 0);
        if (ch->kind == VENUE_EVENT_TRADE) venue_out_trades(out, s->trades, s->trades_cap);
        if (ch->kind == VENUE_EVENT_BOOK)
            venue_out_books(out, s->book_updates, s->book_updates_cap, s->book_changes, s->book_changes_cap);
        out->run = c->run;
        enum venue_msg kind = ch->ws_parse(data, len, s->a->symbols, out);
        if (!out->overflow) return kind;
        bool grown;
        if (ch->kind == VENUE_EVENT_TRADE) {
            grown = grow_output((void **)&s->trades, &s->trades_cap, out->n_trades + out->overflow,
                                TRADES_PER_FRAME_MAX, sizeof *s->trades);
        } else if (ch->kind == VENUE_EVENT_BOOK) { /* which array ran out is not told: grow the full one(s) */
            bool updates = out->n_books >= s->book_updates_cap, changes = out->n_changes >= s->book_changes_cap;
            bool grew_updates = updates && grow_output((void **)&s->book_updates, &s->book_updates_cap,
                                                       2 * s->book_updates_cap, s->a->count, sizeof *s->book_updates);
            bool grew_changes = changes && grow_output((void **)&s->book_changes, &s->book_changes_cap,
                                                       4 * s->book_changes_cap + out->overflow,
                                                       BOOK_CHANGES_PER_FRAME_MAX, sizeof *s->book_changes);
            grown = grew_updates || grew_changes;
        } else {
            grown = grow_output((void **)&s->ticks, &s->ticks_cap, out->n + out->overflow, s->a->count,
                                sizeof *s->ticks);
        }
        if (!grown) return kind; /* keep what fitted: the rest is counted as overflow */
    }
}

/* Whether the connection has shown that its subscription works, so that signs of a live socket (pongs, status
 * events) may stand for a quiet market's silence on a venue without heartbeats. */
static bool conn_proven(const struct conn *c) { return c->acked || (c->open && c->sent == c->nmsgs && !c->nmsgs); }

/* A frame of this kind on this connection shows the feed alive (see the file comment). */
static void note_alive(struct stream *s, struct conn *c, enum venue_msg kind) {
    if (c != s->active) return; /* a standby proves itself by switching, not by keeping the old one alive */
    bool data = kind == VENUE_MSG_TICKS || kind == VENUE_MSG_HEARTBEAT || kind == VENUE_MSG_SUBSCRIBED;
    bool sign_of_life = kind == VENUE_MSG_PONG || kind == VENUE_MSG_STATUS || kind == VENUE_MSG_PLANNED_CLOSE ||
                        kind == VENUE_MSG_UNKNOWN;
    if (data || (sign_of_life && !s->a->source->venue->heartbeats && conn_proven(c))) s->last_frame_ms = clock_mono_ms();
}

static void on_text(struct ws_conn *ws, const char *data, size_t len, void *arg) {
    (void)ws;
    struct conn *c = arg;
    struct stream *s = c->stream;
    if (!s || s->stopping) return;
    struct source *src = s->a->source;
    src->counters.frames++;
    struct venue_out out;
    enum venue_msg kind = parse_frame(s, c, data, len, &out);
    note_alive(s, c, kind);
    switch (kind) {
    case VENUE_MSG_TICKS:
        src->counters.ticks += out.n;
        src->counters.trades += out.n_trades;
        if (out.n) src->sink.emit(src->sink.arg, s->ticks, out.n);
        if (out.n_trades && src->sink.emit_trades) src->sink.emit_trades(src->sink.arg, s->trades, out.n_trades);
        if (out.n_books && c->books && out.overflow) {
            /* a message larger than a book frame may be (BOOK_CHANGES_PER_FRAME_MAX): applying part of it would make
             * a wrong book, so none of it is; the symbol's snapshot is asked for again when it does not come */
            count_malformed(s, c, data, len);
        } else if (out.n_books && c->books) {
            src->counters.book_updates += out.n_books;
            book_feed_frame(c->books, &out);
        }
        if (!c->ticked) {
            c->ticked = true;
            c->acked = true; /* data flowing is the strongest ack */
            if (!(c->subscribed && c == s->standby)) conn_check_subscribed(c);
        }
        if (c->subscribed && c == s->standby && conn_delivers(c)) switch_to(s, c);
        break;
    case VENUE_MSG_SUBSCRIBED:
        c->acked = true;
        conn_check_subscribed(c);
        break;
    case VENUE_MSG_HEARTBEAT:
    case VENUE_MSG_PONG:
    case VENUE_MSG_STATUS:
        break;
    case VENUE_MSG_PLANNED_CLOSE:
        log_info("stream", "venue announced a disconnect", TASK_LOG_FMT " conn=%s detail=%s",
                 TASK_LOG_ARGS(s->task), c->name,
                 out.detail);
        if (c == s->active) start_standby(s, "planned close", true);
        break;
    case VENUE_MSG_ERROR:
        src->counters.venue_errors++;
        log_warn("stream", "venue error", TASK_LOG_FMT " conn=%s detail=%s",
                 TASK_LOG_ARGS(s->task), c->name, out.detail);
        if (!c->ticked && (c == s->active || c == s->standby)) {
            char cause[64 + VENUE_DETAIL_MAX];
            snprintf(cause, sizeof cause, "venue refused the subscription: %s",
                     out.detail[0] ? out.detail : "(no reason given)");
            if (c == s->standby) switch_failed(s, cause);
            else stream_fail(s, -EPROTO, cause);
        }
        break;
    case VENUE_MSG_UNKNOWN:
        src->counters.unknown++;
        break;
    default:
        count_malformed(s, c, data, len);
        break;
    }
}

static void on_close(struct ws_conn *ws, const struct ws_close_info *info, void *arg) {
    (void)ws;
    struct conn *c = arg;
    struct stream *s = c->stream;
    c->ws = NULL;
    if (!s) { /* orphaned by a torn-down task */
        conn_free(c);
        return;
    }
    bool planned = c->closing, was_standby = c == s->standby, was_retired = c != s->active && !was_standby;
    if (c == s->active) s->active = NULL;
    if (c == s->standby) s->standby = NULL;
    if (was_retired) retired_unlink(s, c);
    char cause[200];
    snprintf(cause, sizeof cause, "connection closed: %s (code %d%s%s)",
             info->error ? ws_error_name(info->error) : "by the venue", info->code, *info->reason ? ", " : "",
             info->reason);
    if (info->error == WS_ETOOLARGE && !s->stopping) { /* the venue sent a message over max_frame */
        s->a->source->counters.malformed++;
        log_warn("stream", "message over max_frame, connection closed", TASK_LOG_FMT " conn=%s max_frame=%zu",
                 TASK_LOG_ARGS(s->task), c->name, s->a->max_frame ? s->a->max_frame : (size_t)1 << 20);
    }
    conn_free(c);
    if (s->stopping) {
        maybe_finish_stop(s);
        return;
    }
    if (planned || was_retired) return;
    if (was_standby && s->active) {
        switch_failed(s, cause);
        return;
    }
    if (!s->active && s->standby) { /* the active one dropped during a switch: the standby takes over */
        log_warn("stream", "connection lost during a switch", TASK_LOG_FMT " cause=%s", TASK_LOG_ARGS(s->task), cause);
        s->active = s->standby;
        s->standby = NULL;
        if (s->active->books) book_feed_set_active(s->active->books, true);
        if (s->active->subscribed) task_ready(s->task);
        return;
    }
    if (!s->active) stream_fail(s, -ECONNRESET, cause);
}

/* A websocket pong: a sign of life, never data (see note_alive). */
static void on_pong(struct ws_conn *ws, void *arg) {
    (void)ws;
    struct conn *c = arg;
    if (c->stream && !c->stream->stopping) note_alive(c->stream, c, VENUE_MSG_PONG);
}

static void on_connect_granted(struct limiter_request *req, int status) {
    struct conn *c = req->data;
    struct stream *s = c->stream;
    c->connect_queued = false;
    if (status < 0 || !s) return;
    const struct stream_args *a = s->a;
    struct source *src = a->source;
    char path[VENUE_PATH_MAX];
    if (a->channel->ws_path(a->symbols, a->first, a->count, path, sizeof path) < 0) {
        stream_fail(s, -ENOSPC, "websocket path too long");
        return;
    }
    char url[sizeof src->ws_url + VENUE_PATH_MAX];
    snprintf(url, sizeof url, "%s%s", src->ws_url, path);
    struct ws_opts o = {.max_frame = a->max_frame, .connect_timeout_ms = 10000};
    static const struct ws_callbacks cbs = {
        .on_open = on_open, .on_text = on_text, .on_close = on_close, .on_pong = on_pong};
    int err = 0;
    src->counters.connects++;
    c->ws = ws_connect(src->ws, url, &o, &cbs, c, &err);
    if (!c->ws) {
        char cause[96];
        snprintf(cause, sizeof cause, "cannot connect: %s", ws_error_name(err));
        stream_fail(s, -ECONNREFUSED, cause);
    }
}

/* A new connection, queued behind the source's connect window. */
static struct conn *conn_open(struct stream *s, const char *role) {
    struct conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (!(c->muted = calloc(s->a->count, 1))) {
        free(c);
        return NULL;
    }
    c->stream = s;
    c->run = tick_run_begin();
    snprintf(c->name, sizeof c->name, "%s/%s#%u", task_name(s->task), role, ++s->next_id);
    struct source *src = s->a->source;
    struct limiter_cost cost = {{0}};
    cost.units[LIMITER_CONNECT] = 1;
    c->connect_req.data = c;
    if (limiter_client_new(src->limiter, c->name, src->conn_windows, src->n_conn_windows, &c->client) < 0 ||
        limiter_acquire(c->client, &c->connect_req, &cost, on_connect_granted) < 0) {
        conn_free(c);
        return NULL;
    }
    c->connect_queued = true;
    return c;
}

static void start_standby(struct stream *s, const char *why, bool announced) {
    if (s->stopping) return;
    if (s->standby) {
        s->switch_announced |= announced;
        return;
    }
    log_info("stream", "switching connection", TASK_LOG_FMT " reason=%s", TASK_LOG_ARGS(s->task), why);
    s->switch_announced = announced;
    s->standby = conn_open(s, "standby");
    if (!s->standby) stream_fail(s, -ENOMEM, "cannot open the standby connection");
}

static void switch_to(struct stream *s, struct conn *c) {
    struct conn *old = s->active;
    if (old && old->books) book_feed_set_active(old->books, false);
    if (c->books) book_feed_set_active(c->books, true);
    s->active = c;
    s->standby = NULL;
    s->switch_failures = 0;
    s->last_frame_ms = clock_mono_ms(); /* it just delivered */
    s->a->source->counters.planned_reconnects++;
    log_info("stream", "switched connection", TASK_LOG_FMT " conn=%s", TASK_LOG_ARGS(s->task), c->name);
    if (old) conn_retire(s, old, clock_mono_ms() + DRAIN_MS);
    task_ready(s->task);
}

static uint64_t stale_limit_ms(const struct stream *s) {
    return s->a->stale_after_ms ? s->a->stale_after_ms : (uint64_t)s->a->source->venue->stale_ms;
}

static int64_t switch_wait_ms(const struct stream *s) {
    uint64_t stale = stale_limit_ms(s);
    int64_t wait = (int64_t)(stale && stale < SWITCH_WAIT_MAX_MS ? stale : SWITCH_WAIT_MAX_MS);
    return s->a->channel->kind == VENUE_EVENT_BOOK && wait < BOOK_SWITCH_WAIT_MIN_MS ? BOOK_SWITCH_WAIT_MIN_MS : wait;
}

/* The standby did not make it: the old connection keeps serving, and the next maximum-age switch waits. */
static void switch_failed(struct stream *s, const char *cause) {
    if (s->standby) {
        conn_retire(s, s->standby, 0);
        s->standby = NULL;
    }
    s->a->source->counters.failed_switches++;
    int64_t backoff = (int64_t)backoff_delay_ms((uint64_t)switch_wait_ms(s), SWITCH_BACKOFF_MAX_MS,
                                                s->switch_failures + 1, &s->rng);
    if (s->switch_failures < 64) s->switch_failures++;
    s->next_switch_ms = clock_mono_ms() + backoff;
    log_warn("stream", "switch failed, keeping the connection", TASK_LOG_FMT " conn=%s cause=\"%s\" retry_in_ms=%lld",
             TASK_LOG_ARGS(s->task), s->active ? s->active->name : "-", cause, (long long)backoff);
}

static void on_ping_granted(struct limiter_request *req, int status) {
    struct stream *s = req->data;
    s->ping_queued = false;
    if (status < 0 || !s->active || !s->active->ws || s->stopping) return;
    const char *ping = s->a->source->venue->ping_text;
    if (ping) ws_send_text(s->active->ws, ping, strlen(ping));
    else ws_send_ping(s->active->ws, "tickd", 5);
}

/* The idle time after which we ask the venue for a sign of life: its own application ping when it has one (OKX),
 * else a websocket ping (Binance: its server pings are answered inside lws and never reach us). Either comes at
 * most a third of the stale limit after the last frame, so a quiet but healthy feed is never taken for dead (the
 * venue's own idle time, OKX's 20 s, is only an upper bound). Venues with heartbeats need nothing. Returns 0 for
 * "never". */
static int64_t ping_idle_ms(const struct venue_ops *v, uint64_t stale_ms) {
    if (v->heartbeats && !v->ping_text) return 0;
    int64_t idle = stale_ms ? (int64_t)(stale_ms / 3) : 0;
    if (idle && idle < PING_IDLE_MIN_MS) idle = PING_IDLE_MIN_MS;
    if (v->ping_text && v->ping_idle_ms > 0 && (!idle || v->ping_idle_ms < idle)) idle = v->ping_idle_ms;
    return idle;
}

static void on_timer(uv_timer_t *t) {
    struct stream *s = task_state(t->data);
    if (s->stopping) return;
    const struct stream_args *a = s->a;
    const struct venue_ops *v = a->source->venue;
    int64_t now = clock_mono_ms();
    uint64_t stale = stale_limit_ms(s);
    /* A connection still waiting for the source's connect limiter has no feed to go stale yet: a large group
     * (125 OKX connections at 3 a second) waits longer than stale_after for its last connects. */
    if (s->active && s->active->connect_queued) s->last_frame_ms = now;
    if (s->active) conn_follow_mutes(s, s->active);
    if (s->standby) conn_follow_mutes(s, s->standby);
    if (s->a->symbols->muted_gen && all_muted(s)) s->last_frame_ms = now;
    if (stale && now - s->last_frame_ms > (int64_t)stale) {
        char cause[96];
        snprintf(cause, sizeof cause, "feed stale: no frame for %lld ms", (long long)(now - s->last_frame_ms));
        stream_fail(s, -ETIMEDOUT, cause);
        return;
    }
    struct conn *c = s->active;
    int64_t idle = ping_idle_ms(v, stale);
    if (c && c->open && idle && !s->ping_queued && now - s->last_frame_ms >= idle && now - s->last_ping_ms >= idle) {
        struct limiter_cost cost = {{0}};
        cost.units[LIMITER_MESSAGE] = 1;
        s->ping_req.data = s;
        if (limiter_acquire(c->client, &s->ping_req, &cost, on_ping_granted) == 0) {
            s->ping_queued = true;
            s->last_ping_ms = now;
        }
    }
    retired_close_due(s, now);
    if (s->precision_fetch) book_precisions_tick(s->precision_fetch, now);
    if (c && c->books) book_feed_tick(c->books, now);
    if (s->standby && s->standby->books) book_feed_tick(s->standby->books, now);
    struct conn *sb = s->standby;
    if (sb && sb->open && !s->switch_announced && now - sb->opened_ms > switch_wait_ms(s)) {
        char cause[96];
        snprintf(cause, sizeof cause, "no tick on the new connection within %lld ms", (long long)switch_wait_ms(s));
        switch_failed(s, cause);
    }
    uint64_t max_age = a->max_age_ms ? a->max_age_ms : v->max_connection_ms;
    if (c && c->subscribed && max_age && now - c->opened_ms > (int64_t)max_age && now >= s->next_switch_ms)
        start_standby(s, "maximum connection age", false);
}

/* Stops both connections; the task is done when their close callbacks have run. */
static void stream_stop(struct stream *s) {
    if (s->stopping) return;
    s->stopping = true;
    if (s->ping_queued) limiter_cancel(&s->ping_req);
    s->ping_queued = false;
    uv_timer_stop(&s->timer);
    struct conn *conns[2] = {s->active, s->standby};
    for (int i = 0; i < 2; i++)
        if (conns[i] && !conns[i]->ws) { /* never connected: nothing to wait for */
            if (conns[i] == s->active) s->active = NULL;
            else s->standby = NULL;
            conn_free(conns[i]);
        } else if (conns[i]) {
            conn_release_requests(conns[i]);
            conns[i]->closing = true;
            ws_close(conns[i]->ws);
        }
    retired_close_due(s, -1);
}

static void stream_fail(struct stream *s, int status, const char *cause) {
    if (s->stopping) return;
    s->failed = true;
    stream_stop(s);
    task_done(s->task, status, cause); /* the core closes the timer; the connections follow on their own */
}

static int stream_start(struct task *t) {
    struct stream *s = task_state(t);
    s->task = t;
    s->a = task_arg(t);
    s->rng = (uint64_t)clock_mono_ns() ^ (uint64_t)(uintptr_t)s;
    if (!s->a->count) return -EINVAL;
    s->ticks_cap = s->a->count < TICKS_FIRST_CAP ? s->a->count : TICKS_FIRST_CAP;
    if (!(s->ticks = calloc(s->ticks_cap, sizeof *s->ticks))) return -ENOMEM;
    if (s->a->channel->kind == VENUE_EVENT_TRADE) {
        s->trades_cap = TICKS_FIRST_CAP;
        if (!(s->trades = calloc(s->trades_cap, sizeof *s->trades))) return -ENOMEM;
    }
    if (s->a->channel->kind == VENUE_EVENT_BOOK) {
        s->book_updates_cap = s->ticks_cap;
        s->book_changes_cap = 256;
        if (!(s->book_updates = calloc(s->book_updates_cap, sizeof *s->book_updates)) ||
            !(s->book_changes = calloc(s->book_changes_cap, sizeof *s->book_changes)))
            return -ENOMEM;
        if (s->a->channel->needs_precision) {
            if (!(s->precisions = calloc(s->a->symbols->n, sizeof *s->precisions))) return -ENOMEM;
            int rc = book_precisions_start(t, s->a, s->precisions, &s->precision_fetch);
            if (rc < 0) return rc;
        }
    }
    int rc = uv_timer_init(task_loop(t), &s->timer);
    if (rc < 0) return rc;
    s->timer.data = t;
    task_own(t, (uv_handle_t *)&s->timer, NULL);
    s->last_frame_ms = clock_mono_ms();
    s->active = conn_open(s, "ws");
    if (!s->active) return -ENOMEM;
    int64_t idle = ping_idle_ms(s->a->source->venue, stale_limit_ms(s));
    uint64_t tick = idle ? (uint64_t)idle / 4 : 1000;
    if (tick < STREAM_TICK_MIN_MS) tick = STREAM_TICK_MIN_MS;
    if (tick > 1000) tick = 1000;
    uv_timer_start(&s->timer, on_timer, tick, tick);
    return 0;
}

static void stream_cancel(struct task *t) {
    struct stream *s = task_state(t);
    stream_stop(s);
    maybe_finish_stop(s);
}

/* Hard teardown, or the end after a failure: whatever connection is still closing is orphaned. */
static void stream_destroy(struct task *t) {
    struct stream *s = task_state(t);
    if (s->ping_queued) limiter_cancel(&s->ping_req);
    for (struct conn *c = s->retired; c; c = c->next_retired) {
        c->stream = NULL;
        if (!c->closing) ws_close(c->ws);
    }
    s->retired = NULL;
    struct conn *conns[2] = {s->active, s->standby};
    for (int i = 0; i < 2; i++) {
        if (!conns[i]) continue;
        conns[i]->stream = NULL;
        if (conns[i]->ws) {
            conn_release_requests(conns[i]);
            ws_close(conns[i]->ws);
        } else {
            conn_free(conns[i]);
        }
    }
    book_precisions_free(s->precision_fetch);
    free(s->precisions); /* after the connections: their books were the readers */
    free(s->ticks);
    free(s->trades);
    free(s->book_updates);
    free(s->book_changes);
}

const struct task_ops stream_task_ops = {
    .state_size = sizeof(struct stream),
    .start = stream_start,
    .cancel = stream_cancel,
    .destroy = stream_destroy,
};
