/* stream_book.c -- one connection's books and the I/O their sync needs (stream_book.h). */
#include "stream_book.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/clock.h"
#include "tickd/http.h"
#include "tickd/log.h"

#define SNAPSHOT_PARALLEL 4     /* a feed's snapshots waiting in the limiter or in flight at once */
#define SNAPSHOT_BUDGET 5       /* failed snapshots in a row before a book is STALE */
#define SNAPSHOT_TIMEOUT_MS 10000
#define SNAPSHOT_WAIT_MS 10000  /* a stream venue's resubscribed symbol sends its snapshot within this */
#define FIRST_SNAPSHOT_WAIT_MS 30000 /* the whole connection's subscribe, through the message window */
#define STALE_RETRY_MS 30000    /* a STALE book is tried again this long after it went stale */
#define RETRY_MS 1000           /* a failed snapshot is asked again after this (doubling) */

struct book_feed;

struct snapshot_req {
    struct book_feed *feed;
    int symbol; /* -1 when free */
    struct limiter_request lreq;
    struct http_request *http;
    struct venue_request plan;
    bool queued;
};

/* What the feed knows of one symbol beyond its book_entry. */
struct symbol_io {
    bool wanted;         /* waits for a snapshot (REST) or a resubscribe (stream) */
    bool resync;         /* it was live before: goes ahead of first syncs */
    bool busy;           /* a snapshot request or a resubscribe is under way */
    unsigned failures;   /* snapshots failed in a row */
    int64_t due_ms;      /* not asked again before this */
    int64_t deadline_ms; /* stream venues: the snapshot should have come by then */
    enum book_state published; /* the state last published */
    char top[4][BOOK_TEXT_MAX]; /* the top last emitted as a tick: bid, bid qty, ask, ask qty */
};

struct book_feed {
    struct book_feed_conn c;
    struct source *src;
    const struct venue_channel *ch;
    struct book_sync sync;
    struct symbol_io *io; /* sync.n of them */
    bool active;
    size_t states[4];     /* books by state: added to the source's while active */
    struct limiter_client *rest_client; /* REST venues: the snapshots' share of the source's limiter */
    struct snapshot_req reqs[SNAPSHOT_PARALLEL];
    struct book_update snap_update;     /* a snapshot answer's parse output */
    struct book_change *snap_changes;
    size_t snap_changes_cap;
    struct book_change *whole; /* a snapshot event's levels (book deltas): the whole book */
    size_t whole_cap;
    unsigned next_id;
    bool rest_unsequenced; /* STREAM_OR_REST: the venue's REST book had no sequence, so resyncs resubscribe */
    uint64_t reported_changes, reported_resyncs[BOOK_CAUSES];
    const char *wanted_headers[2];
};

static void pump(struct book_feed *f);

static void count_state(struct book_feed *f, enum book_state state, int delta) {
    f->states[state] += (size_t)delta;
    if (f->active) f->src->counters.books[state] += (uint64_t)(int64_t)delta;
}

/* Brings the feed's and the source's counts in line with the entry's state. */
static void note_state(struct book_feed *f, struct symbol_io *io, enum book_state was, enum book_state now) {
    (void)io;
    if (was == now) return;
    count_state(f, was, -1);
    count_state(f, now, +1);
}

static void report_counters(struct book_feed *f) {
    struct source_counters *sc = &f->src->counters;
    sc->book_level_changes += f->sync.counters.level_changes - f->reported_changes;
    f->reported_changes = f->sync.counters.level_changes;
    for (int i = 0; i < BOOK_CAUSES; i++) {
        sc->book_resyncs[i] += f->sync.counters.resyncs[i] - f->reported_resyncs[i];
        f->reported_resyncs[i] = f->sync.counters.resyncs[i];
    }
}

/* ---- publishing ---- */

static uint64_t view_seq(const struct book_entry *e) {
    if (e->has_seq) return e->seq;
    return (uint64_t)(e->event_us ? e->event_us : e->recv_us);
}

static void publish(struct book_feed *f, int symbol, struct book_entry *e) {
    struct symbol_io *io = &f->io[(size_t)symbol - f->sync.first];
    const struct stream_args *a = f->c.args;
    io->published = e->state;
    if (!f->src->sink.emit_books) return;
    struct book_view v = {
        .venue = f->src->venue->name,
        .symbol = a->symbols->list[symbol].norm,
        .book = &e->book,
        .depth = a->depth ? a->depth : BOOK_DEPTH_DEFAULT,
        .seq = view_seq(e),
        .state = e->state,
        .resyncs = e->resyncs,
        .run = f->c.run,
        .event_us = e->event_us,
        .recv_us = e->recv_us,
    };
    f->src->sink.emit_books(f->src->sink.arg, &v, 1);
    /* The book's top is the venue's quote: the bbo follows the book wherever a book task runs. */
    const struct book_levels *bid = &e->book.side[BOOK_BID], *ask = &e->book.side[BOOK_ASK];
    if (e->state != BOOK_LIVE || !bid->n || !ask->n) return;
    const char *top[4] = {bid->lv[0].price, bid->lv[0].qty, ask->lv[0].price, ask->lv[0].qty};
    bool same = true;
    for (int i = 0; i < 4; i++) same = same && strcmp(io->top[i], top[i]) == 0;
    if (same) return;
    struct tick t;
    memset(&t, 0, sizeof t);
    /* Plain copies, not snprintf, on this per-update path: a level's texts are BOOK_TEXT_MAX arrays with their NUL
     * inside (book_set), shorter than a tick's fields; venue and symbol fit theirs as every tick's do
     * (venue_out_add copies them alike). */
    _Static_assert(BOOK_TEXT_MAX <= TICK_DECIMAL_MAX, "a level's text must fit a tick's field");
    strcpy(t.venue, v.venue);
    strcpy(t.symbol, v.symbol);
    char *fields[4] = {t.bid, t.bid_qty, t.ask, t.ask_qty};
    for (int i = 0; i < 4; i++) {
        memcpy(fields[i], top[i], BOOK_TEXT_MAX);
        memcpy(io->top[i], top[i], BOOK_TEXT_MAX);
    }
    t.event_us = e->event_us;
    t.seq = view_seq(e);
    t.has_seq = e->has_seq;
    t.recv_us = e->recv_us;
    t.origin = TICK_ORIGIN_STREAM;
    t.run = f->c.run;
    f->src->sink.emit(f->src->sink.arg, &t, 1);
}

/* The whole book as one event (book deltas): what a consumer starts from at each (re)sync. */
static void publish_snapshot_event(struct book_feed *f, int symbol, const struct book_entry *e) {
    size_t n = 0, want = (size_t)e->book.side[0].n + e->book.side[1].n;
    if (want > f->whole_cap) {
        struct book_change *grown = realloc(f->whole, want * sizeof *grown);
        if (!grown) return; /* counted by the sink as nothing sent; the next resync sends one */
        f->whole = grown;
        f->whole_cap = want;
    }
    for (int s = 0; s < 2; s++)
        for (uint32_t i = 0; i < e->book.side[s].n; i++) {
            struct book_change *c = &f->whole[n++];
            memcpy(c->price, e->book.side[s].lv[i].price, BOOK_TEXT_MAX);
            memcpy(c->qty, e->book.side[s].lv[i].qty, BOOK_TEXT_MAX);
            c->side = (uint8_t)s;
        }
    struct book_delta_view d = {.venue = f->src->venue->name, .symbol = f->c.args->symbols->list[symbol].norm,
                                .snapshot = true, .seq = view_seq(e), .changes = f->whole, .n_changes = n,
                                .event_us = e->event_us, .recv_us = e->recv_us};
    f->src->sink.emit_book_deltas(f->src->sink.arg, &d, 1);
}

static bool deltas_wanted(const struct book_feed *f) { return f->active && f->c.args->book_deltas && f->src->sink.emit_book_deltas; }

/* ---- resyncing ---- */

/* Snapshots come from REST requests (REST venues, and STREAM_OR_REST's resyncs and first syncs without the
 * stream's snapshot), not from resubscribing; unless the venue's REST book cannot be bridged to its diffs (no
 * sequence in it): then only the stream's snapshot can sync a book. */
static bool rest_synced(const struct book_feed *f) {
    return f->ch->book_sync == VENUE_BOOK_REST_SNAPSHOT ||
           (f->ch->book_sync == VENUE_BOOK_STREAM_OR_REST && !f->rest_unsequenced);
}

/* Symbol wants a new snapshot (or resubscribe): queued, resyncs first. */
static void want_snapshot(struct book_feed *f, int symbol, bool resync) {
    struct symbol_io *io = &f->io[(size_t)symbol - f->sync.first];
    io->wanted = true;
    io->resync |= resync;
    pump(f);
}

static void snapshot_failed(struct book_feed *f, struct symbol_io *io, int symbol, const char *why) {
    io->busy = false;
    io->failures++;
    struct book_entry *e = book_sync_entry(&f->sync, symbol);
    int64_t now = clock_mono_ms();
    if (io->failures >= SNAPSHOT_BUDGET) {
        enum book_state was = e->state;
        book_sync_stale(&f->sync, symbol);
        note_state(f, io, was, e->state);
        if (was != BOOK_STALE)
            log_warn("book", "book stale: cannot resync", TASK_LOG_FMT " conn=%s symbol=%s failures=%u cause=\"%s\" "
                     "retry_in_ms=%d", TASK_LOG_ARGS(f->c.task), f->c.name, f->c.args->symbols->list[symbol].norm,
                     io->failures, why, STALE_RETRY_MS);
        if (f->active && e->state != io->published) publish(f, symbol, e);
        io->due_ms = now + STALE_RETRY_MS;
        io->failures = 0;
    } else {
        io->due_ms = now + ((int64_t)RETRY_MS << (io->failures - 1));
        log_debug("book", "snapshot failed", TASK_LOG_FMT " conn=%s symbol=%s failures=%u cause=\"%s\"",
                  TASK_LOG_ARGS(f->c.task), f->c.name, f->c.args->symbols->list[symbol].norm, io->failures, why);
    }
    io->wanted = true;
}

/* What became of one update: the books' state follows, the book is published, a resync is asked for. */
static void settle(struct book_feed *f, const struct book_update *u, enum book_verdict verdict, enum book_cause cause,
                   enum book_state was, const struct book_change *changes) {
    struct book_entry *e = book_sync_entry(&f->sync, u->symbol);
    struct symbol_io *io = &f->io[(size_t)u->symbol - f->sync.first];
    note_state(f, io, was, e->state);
    switch (verdict) {
    case BOOK_APPLIED:
        if (was != BOOK_LIVE && e->state == BOOK_LIVE) {
            io->failures = 0;
            io->wanted = io->busy = io->resync = false;
            if (deltas_wanted(f)) publish_snapshot_event(f, u->symbol, e);
        } else if (deltas_wanted(f) && u->kind == BOOK_UPDATE_DELTA) {
            struct book_delta_view d = {.venue = f->src->venue->name,
                                        .symbol = f->c.args->symbols->list[u->symbol].norm,
                                        .seq = view_seq(e), .changes = changes + u->first_change,
                                        .n_changes = u->n_changes, .event_us = e->event_us, .recv_us = e->recv_us};
            f->src->sink.emit_book_deltas(f->src->sink.arg, &d, 1);
        }
        if (f->active) publish(f, u->symbol, e);
        return;
    case BOOK_RESYNC:
    case BOOK_FAILED:
        if (was == BOOK_LIVE)
            log_warn("book", "book out of sync, resyncing", TASK_LOG_FMT " conn=%s symbol=%s cause=%s seq=%llu",
                     TASK_LOG_ARGS(f->c.task), f->c.name, f->c.args->symbols->list[u->symbol].norm,
                     book_cause_name(cause), (unsigned long long)u->seq);
        if (f->active && e->state != io->published) publish(f, u->symbol, e);
        if (io->busy && rest_synced(f)) return; /* a snapshot is on its way: the answer decides */
        want_snapshot(f, u->symbol, was == BOOK_LIVE || e->resyncs > 0);
        return;
    case BOOK_BUFFERED:
        if (!io->busy && !io->wanted) want_snapshot(f, u->symbol, e->resyncs > 0);
        return;
    case BOOK_DROPPED:
        return;
    }
}

void book_feed_frame(struct book_feed *f, const struct venue_out *out) {
    for (size_t i = 0; i < out->n_books; i++) {
        const struct book_update *u = &out->books[i];
        struct book_entry *e = book_sync_entry(&f->sync, u->symbol);
        if (!e) continue;
        enum book_state was = e->state;
        enum book_cause cause = BOOK_CAUSE_GAP;
        enum book_verdict verdict = book_sync_apply(&f->sync, u, out->changes, out->recv_us, &cause);
        settle(f, u, verdict, cause, was, out->changes);
    }
    report_counters(f);
}

/* ---- REST snapshots ---- */

static void on_snapshot(struct http_request *http, const struct http_response *res, void *arg) {
    (void)http;
    struct snapshot_req *r = arg;
    struct book_feed *f = r->feed;
    int symbol = r->symbol;
    r->http = NULL;
    r->symbol = -1;
    if (res->error == HTTP_ECANCELLED) return;
    struct symbol_io *io = &f->io[(size_t)symbol - f->sync.first];
    struct source *src = f->src;
    src->counters.frames++;
    source_observe_headers(src, res);
    if (res->error) {
        src->counters.http_failures++;
        snapshot_failed(f, io, symbol, res->error_text && *res->error_text ? res->error_text : http_error_name(res->error));
        pump(f);
        return;
    }
    struct venue_out out;
    venue_out_init(&out, NULL, 0, clock_wall_us(), res->sent_us);
    venue_out_books(&out, &f->snap_update, 1, f->snap_changes, f->snap_changes_cap);
    enum venue_msg kind = f->ch->rest_parse(&r->plan, (int)res->status, res->body, res->body_len, f->c.args->symbols,
                                            &out);
    if (kind == VENUE_MSG_TICKS && (out.overflow || out.n_books != 1 || f->snap_update.symbol != symbol))
        kind = VENUE_MSG_MALFORMED; /* deeper than asked, or not the symbol asked for */
    switch (kind) {
    case VENUE_MSG_TICKS: {
        io->busy = false;
        struct book_entry *e = book_sync_entry(&f->sync, symbol);
        if (e->state == BOOK_LIVE) break; /* the stream's own snapshot came first (STREAM_OR_REST) */
        if (f->ch->book_sync == VENUE_BOOK_STREAM_OR_REST && !f->snap_update.has_seq) {
            f->rest_unsequenced = true;
            log_warn("book", "the venue's REST book has no sequence: books resync by resubscribing",
                     TASK_LOG_FMT " conn=%s symbol=%s", TASK_LOG_ARGS(f->c.task), f->c.name,
                     f->c.args->symbols->list[symbol].norm);
            io->wanted = true;
            break;
        }
        f->snap_update.from_rest = true;
        enum book_state was = e->state;
        enum book_cause cause = BOOK_CAUSE_GAP;
        enum book_verdict verdict = book_sync_apply(&f->sync, &f->snap_update, f->snap_changes, out.recv_us, &cause);
        if (verdict == BOOK_APPLIED) {
            settle(f, &f->snap_update, verdict, cause, was, f->snap_changes);
        } else { /* older than the diffs held, or refused: another one */
            note_state(f, io, was, e->state);
            snapshot_failed(f, io, symbol, verdict == BOOK_RESYNC ? "snapshot older than the diffs" : "snapshot refused");
        }
        report_counters(f);
        break;
    }
    case VENUE_MSG_RATE_LIMITED: {
        src->counters.rate_limited++;
        int status = res->status == 418 ? 418 : 429;
        limiter_pause_http(src->limiter, status, http_retry_after_ms(res->retry_after, clock_wall_us() / 1000));
        io->busy = false;
        io->wanted = true; /* asked again once the pause is over: not a failure of the book */
        break;
    }
    case VENUE_MSG_ERROR:
        src->counters.venue_errors++;
        snapshot_failed(f, io, symbol, out.detail[0] ? out.detail : "venue error");
        break;
    case VENUE_MSG_UNAVAILABLE:
        src->counters.http_failures++;
        snapshot_failed(f, io, symbol, "venue unavailable");
        break;
    default:
        src->counters.malformed++;
        snapshot_failed(f, io, symbol, "malformed snapshot");
        break;
    }
    pump(f);
}

static void on_snapshot_granted(struct limiter_request *lreq, int status) {
    struct snapshot_req *r = lreq->data;
    struct book_feed *f = r->feed;
    r->queued = false;
    if (status < 0) {
        f->io[(size_t)r->symbol - f->sync.first].busy = false;
        r->symbol = -1;
        return;
    }
    struct source *src = f->src;
    char url[sizeof src->rest_url + VENUE_PATH_MAX];
    snprintf(url, sizeof url, "%s%s", src->rest_url, r->plan.path);
    struct http_opts o = {.timeout_ms = SNAPSHOT_TIMEOUT_MS, .want_headers = f->wanted_headers};
    int err = 0;
    src->counters.requests++;
    src->counters.snapshot_requests++;
    src->counters.snapshot_weight += r->plan.weight;
    r->http = http_get(src->http, url, NULL, &o, on_snapshot, r, &err);
    if (!r->http) {
        int symbol = r->symbol;
        r->symbol = -1;
        snapshot_failed(f, &f->io[(size_t)symbol - f->sync.first], symbol, http_error_name(err));
    }
}

static struct snapshot_req *free_req(struct book_feed *f) {
    for (size_t i = 0; i < SNAPSHOT_PARALLEL; i++)
        if (f->reqs[i].symbol < 0) return &f->reqs[i];
    return NULL;
}

/* The next symbol to resync: resyncs before first syncs, each in table order. -1 when none is due. */
static int next_wanted(const struct book_feed *f, int64_t now) {
    int first_sync = -1;
    for (size_t i = 0; i < f->sync.n; i++) {
        const struct symbol_io *io = &f->io[i];
        if (!io->wanted || io->busy || io->due_ms > now || f->c.args->symbols->list[f->sync.first + i].muted)
            continue;
        if (io->resync) return (int)(f->sync.first + i);
        if (first_sync < 0) first_sync = (int)(f->sync.first + i);
    }
    return first_sync;
}

static int request_snapshot(struct book_feed *f, int symbol) {
    struct snapshot_req *r = free_req(f);
    if (!r) return -EBUSY;
    const struct stream_args *a = f->c.args;
    if (f->ch->book_snapshot_request(a->symbols, symbol, a->depth ? a->depth : BOOK_DEPTH_DEFAULT, &r->plan) < 0)
        return -ENOSPC;
    struct limiter_cost cost = {{0}};
    cost.units[LIMITER_WEIGHT] = r->plan.weight;
    cost.units[LIMITER_REQUEST] = 1;
    r->lreq.data = r;
    int rc = limiter_acquire(f->rest_client, &r->lreq, &cost, on_snapshot_granted);
    if (rc < 0) return rc;
    r->symbol = symbol;
    r->queued = true;
    return 0;
}

/* ---- stream venues: unsubscribe and subscribe one symbol ---- */

/* The (un)subscribe of one symbol, queued on the connection (which sends it in turn through its message window). */
static int queue_msg(struct book_feed *f, int symbol, bool subscribe) {
    static char buf[VENUE_MSG_MAX];
    size_t next = (size_t)symbol;
    const struct venue_symbols *s = f->c.args->symbols;
    int n = subscribe ? f->ch->ws_subscribe(s, (size_t)symbol, 1, ++f->next_id, buf, sizeof buf, &next)
                      : f->ch->ws_unsubscribe(s, (size_t)symbol, 1, ++f->next_id, buf, sizeof buf, &next);
    if (n <= 0) return n < 0 ? n : -EINVAL;
    return f->c.queue(f->c.conn, buf, (size_t)n);
}

static int resubscribe(struct book_feed *f, int symbol) {
    int rc = queue_msg(f, symbol, false);
    if (rc == 0) rc = queue_msg(f, symbol, true);
    if (rc == 0) f->src->counters.book_resubscribes++;
    return rc;
}

/* Starts what the wanted symbols need, as far as the feed's share allows. */
static void pump(struct book_feed *f) {
    int64_t now = clock_mono_ms();
    for (;;) {
        int symbol = next_wanted(f, now);
        if (symbol < 0) return;
        struct symbol_io *io = &f->io[(size_t)symbol - f->sync.first];
        int rc;
        if (rest_synced(f)) {
            rc = request_snapshot(f, symbol);
            if (rc == -EBUSY) return;
        } else {
            if (!f->c.queue || !f->ch->ws_unsubscribe) {
                io->wanted = false; /* nothing to do but wait for the next connection */
                continue;
            }
            rc = resubscribe(f, symbol);
            io->deadline_ms = now + SNAPSHOT_WAIT_MS;
        }
        if (rc < 0) {
            snapshot_failed(f, io, symbol, "cannot ask for the snapshot");
            continue;
        }
        io->busy = true;
        io->wanted = false;
    }
}

void book_feed_tick(struct book_feed *f, int64_t now_ms) {
    if (!rest_synced(f))
        for (size_t i = 0; i < f->sync.n; i++) {
            struct symbol_io *io = &f->io[i];
            if (io->busy && now_ms >= io->deadline_ms) { /* no snapshot after the resubscribe */
                if (f->sync.e[i].state == BOOK_LIVE) io->busy = false;
                else snapshot_failed(f, io, (int)(f->sync.first + i), "no snapshot after resubscribing");
            }
        }
    pump(f);
}

/* ---- life ---- */

int book_feed_new(const struct book_feed_conn *conn, struct book_feed **out) {
    struct book_feed *f = calloc(1, sizeof *f);
    if (!f) return -ENOMEM;
    f->c = *conn;
    f->src = conn->args->source;
    f->ch = conn->args->channel;
    for (size_t i = 0; i < SNAPSHOT_PARALLEL; i++) f->reqs[i] = (struct snapshot_req){.feed = f, .symbol = -1};
    int rc = book_sync_init(&f->sync, f->ch, conn->args->first, conn->args->count, conn->args->depth,
                            conn->precisions);
    if (rc < 0 || !(f->io = calloc(conn->args->count ? conn->args->count : 1, sizeof *f->io))) goto fail;
    f->states[BOOK_SYNCING] = f->sync.n;
    if (rest_synced(f)) {
        if (!f->ch->book_snapshot_request || !f->ch->rest_parse) {
            rc = -EINVAL;
            goto fail;
        }
        f->snap_changes_cap = 2 * (size_t)f->sync.levels + 16;
        if (!(f->snap_changes = malloc(f->snap_changes_cap * sizeof *f->snap_changes))) goto fail;
        if (f->src->weight_window >= 0) f->wanted_headers[0] = f->src->venue->defaults.used_weight_header;
        if ((rc = limiter_client_new(f->src->limiter, conn->name, NULL, 0, &f->rest_client)) < 0) goto fail;
        /* Each symbol's snapshot is asked for once its first diff is held (settle): a snapshot taken before the
         * stream delivers would be older than the first diff, and fetched again. A STREAM_OR_REST venue's
         * subscribe may bring the snapshots instead: then no diff is held before them. */
    } else { /* the subscribe brings each snapshot; one that does not come in time is asked for again */
        int64_t deadline = clock_mono_ms() + FIRST_SNAPSHOT_WAIT_MS;
        for (size_t i = 0; i < f->sync.n; i++) {
            f->io[i].busy = true;
            f->io[i].deadline_ms = deadline;
        }
    }
    *out = f;
    return 0;
fail:
    book_feed_free(f);
    return rc < 0 ? rc : -ENOMEM;
}

void book_feed_free(struct book_feed *f) {
    if (!f) return;
    if (f->active) /* the publishing connection is gone (a planned switch hands over first): its books are not live */
        for (size_t i = 0; i < f->sync.n; i++) {
            struct book_entry *e = &f->sync.e[i];
            if (e->state != BOOK_LIVE) continue;
            e->state = BOOK_RESYNCING;
            note_state(f, &f->io[i], BOOK_LIVE, BOOK_RESYNCING);
            publish(f, (int)(f->sync.first + i), e);
        }
    book_feed_set_active(f, false);
    for (size_t i = 0; i < SNAPSHOT_PARALLEL; i++) {
        if (f->reqs[i].queued) limiter_cancel(&f->reqs[i].lreq);
        if (f->reqs[i].http) http_cancel(f->reqs[i].http);
    }
    if (f->rest_client) limiter_client_free(f->rest_client);
    book_sync_free(&f->sync);
    free(f->io);
    free(f->snap_changes);
    free(f->whole);
    free(f);
}

/* A muted symbol (halted or delisted, unsubscribed) syncs no book, and holds no switch back. */
bool book_feed_live(const struct book_feed *f) {
    const struct venue_symbols *syms = f->c.args->symbols;
    if (f->states[BOOK_LIVE] == f->sync.n || !syms->muted_gen) return f->states[BOOK_LIVE] == f->sync.n;
    for (size_t i = 0; i < f->sync.n; i++)
        if (f->sync.e[i].state != BOOK_LIVE && !syms->list[f->sync.first + i].muted) return false;
    return true;
}

void book_feed_set_active(struct book_feed *f, bool active) {
    if (f->active == active) return;
    for (int s = 0; s < 4; s++)
        f->src->counters.books[s] += active ? (uint64_t)f->states[s] : (uint64_t)-(int64_t)f->states[s];
    f->active = active;
    if (!active) return;
    for (size_t i = 0; i < f->sync.n; i++) {
        struct book_entry *e = &f->sync.e[i];
        int symbol = (int)(f->sync.first + i);
        if (e->state == BOOK_LIVE && deltas_wanted(f)) publish_snapshot_event(f, symbol, e);
        if (e->state != BOOK_SYNCING) publish(f, symbol, e);
    }
}

void book_feed_states(const struct book_feed *f, size_t counts[4]) {
    for (int s = 0; s < 4; s++) counts[s] = f->states[s];
}

/* ---- precisions ---- */

struct book_precisions {
    struct task *task;
    const struct stream_args *a;
    struct book_precision *out;
    struct limiter_client *client;
    struct venue_request *plan;
    size_t nplan, next; /* the request asked now (or next) */
    struct limiter_request lreq;
    struct http_request *http;
    bool queued;
    unsigned failures;
    int64_t due_ms;
};

static void precisions_issue(struct book_precisions *p);

static void precisions_failed(struct book_precisions *p, const char *why) {
    p->failures++;
    int64_t backoff = (int64_t)RETRY_MS << (p->failures < 6 ? p->failures - 1 : 5);
    p->due_ms = clock_mono_ms() + backoff;
    log_warn("book", "cannot fetch the instruments' precisions: checksums unchecked meanwhile",
             TASK_LOG_FMT " cause=\"%s\" retry_in_ms=%lld", TASK_LOG_ARGS(p->task), why, (long long)backoff);
}

static void on_precisions(struct http_request *http, const struct http_response *res, void *arg) {
    (void)http;
    struct book_precisions *p = arg;
    p->http = NULL;
    if (res->error == HTTP_ECANCELLED) return;
    struct source *src = p->a->source;
    src->counters.frames++;
    source_observe_headers(src, res);
    if (res->error) {
        src->counters.http_failures++;
        precisions_failed(p, http_error_name(res->error));
        return;
    }
    struct venue_out out;
    venue_out_init(&out, NULL, 0, clock_wall_us(), res->sent_us);
    out.precisions = p->out;
    enum venue_msg kind = p->a->channel->rest_parse(&p->plan[p->next], (int)res->status, res->body, res->body_len,
                                                    p->a->symbols, &out);
    if (kind == VENUE_MSG_RATE_LIMITED) {
        src->counters.rate_limited++;
        limiter_pause_http(src->limiter, res->status == 418 ? 418 : 429,
                           http_retry_after_ms(res->retry_after, clock_wall_us() / 1000));
        precisions_issue(p); /* granted after the pause */
        return;
    }
    if (kind != VENUE_MSG_TICKS) {
        if (kind == VENUE_MSG_MALFORMED) src->counters.malformed++;
        else src->counters.venue_errors++;
        precisions_failed(p, out.detail[0] ? out.detail : venue_msg_name(kind));
        return;
    }
    p->failures = 0;
    if (++p->next < p->nplan) precisions_issue(p);
}

static void on_precisions_granted(struct limiter_request *lreq, int status) {
    struct book_precisions *p = lreq->data;
    p->queued = false;
    if (status < 0) return;
    struct source *src = p->a->source;
    char url[sizeof src->rest_url + VENUE_PATH_MAX];
    snprintf(url, sizeof url, "%s%s", src->rest_url, p->plan[p->next].path);
    struct http_opts o = {.timeout_ms = SNAPSHOT_TIMEOUT_MS};
    int err = 0;
    src->counters.requests++;
    p->http = http_get(src->http, url, NULL, &o, on_precisions, p, &err);
    if (!p->http) precisions_failed(p, http_error_name(err));
}

static void precisions_issue(struct book_precisions *p) {
    struct limiter_cost cost = {{0}};
    cost.units[LIMITER_WEIGHT] = p->plan[p->next].weight;
    cost.units[LIMITER_REQUEST] = 1;
    p->lreq.data = p;
    p->due_ms = INT64_MAX;
    if (limiter_acquire(p->client, &p->lreq, &cost, on_precisions_granted) == 0) p->queued = true;
    else precisions_failed(p, "the limiter refused the request");
}

int book_precisions_start(struct task *task, const struct stream_args *a, struct book_precision *out,
                          struct book_precisions **fetch) {
    struct book_precisions *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->task = task;
    p->a = a;
    p->out = out;
    size_t cap = a->symbols->n + 1;
    int n = -ENOMEM, rc;
    if ((p->plan = calloc(cap, sizeof *p->plan))) n = a->channel->rest_plan(a->symbols, p->plan, cap);
    if (n <= 0) {
        rc = n < 0 ? n : -EINVAL;
        goto fail;
    }
    p->nplan = (size_t)n;
    if ((rc = limiter_client_new(a->source->limiter, task_name(task), NULL, 0, &p->client)) < 0) goto fail;
    precisions_issue(p);
    *fetch = p;
    return 0;
fail:
    book_precisions_free(p);
    return rc;
}

void book_precisions_tick(struct book_precisions *p, int64_t now_ms) {
    if (p->next < p->nplan && !p->queued && !p->http && now_ms >= p->due_ms) precisions_issue(p);
}

bool book_precisions_done(const struct book_precisions *p) { return p->next >= p->nplan; }

void book_precisions_free(struct book_precisions *p) {
    if (!p) return;
    if (p->queued) limiter_cancel(&p->lreq);
    if (p->http) http_cancel(p->http);
    if (p->client) limiter_client_free(p->client);
    free(p->plan);
    free(p);
}
