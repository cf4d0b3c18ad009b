/* daemon.c -- the running process: builds the tree of daemon.h from a config, moves ticks from the sources
 * through the merge into the sinks, reports (stats lines, status socket, sd_notify) and stops. Reload is
 * reload.c; the state both share, and who owns what in it, is daemon_internal.h. */
#include "tickd/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "tickd/clock.h"
#include "tickd/http.h"
#include "tickd/log.h"
#include "tickd/merge.h"
#include "tickd/trade_filter.h"
#include "tickd/notify.h"
#include "tickd/sink.h"
#include "tickd/source.h"
#include "tickd/status.h"
#include "tickd/supervisor.h"
#include "tickd/ws.h"

#include "daemon_internal.h"
#include "tickd/catalog.h"

/* ---- ticks: source → merge → sinks ---- */

static void put_bbo(struct daemon *d, uint32_t bbo_id, const struct merge_bbo *bbo, int64_t updated_us) {
    for (size_t k = 0; k < d->nsinks; k++)
        if (d->sinks[k].ops->put_bbo) d->sinks[k].ops->put_bbo(d->sinks[k].state, bbo_id, bbo, updated_us);
}

static void merge_and_put(struct daemon *d, const struct tick *tick) {
    struct merge_update up;
    int r = merge_apply(d->merge, tick, &up);
    if (r == MERGE_STALE) {
        d->in.stale++;
        return;
    }
    if (r == MERGE_DUPLICATE) {
        d->in.duplicates++;
        return;
    }
    if (r == MERGE_WITHDRAWN) {
        d->in.withdrawn++;
        return;
    }
    if (r < 0) {
        d->in.invalid++;
        return;
    }
    d->in.accepted++;
    const struct tick *t = &up.quote->tick;
    /* By the merge's ids: the sinks find their records without hashing venue and symbol again. */
    for (size_t k = 0; k < d->nsinks; k++) {
        struct sink_rt *s = &d->sinks[k];
        if ((s->ops->channels & SINK_CHANNEL(CONFIG_CHANNEL_BBO)) &&
            s->ops->put_quote(s->state, up.quote_id, t, &up.quote->key) < 0)
            s->refused++;
    }
    struct merge_bbo bbo;
    if (up.bbo_changed && d->bbo_sinks && merge_bbo_by_id(d->merge, up.bbo_id, &bbo) == 0)
        put_bbo(d, up.bbo_id, &bbo, t->recv_us);
}

static void ingest(void *arg, const struct tick *ticks, size_t n) {
    struct daemon *d = arg;
    d->in.ticks += n;
    for (size_t i = 0; i < n; i++) merge_and_put(d, &ticks[i]);
}

/* Books: the state channel, the newest wins. One connection at a time publishes a book (stream_book.h), so a
 * book from the same or a newer publisher comes in order; what this refuses is a book of a publisher that is no
 * longer the newest: two groups subscribed to one book on one venue (then the venue's sequence, or its time where
 * it has none, decides), or the last words of a replaced connection. A book of a connection that has ended (its
 * run gone) never holds the place against a new one, whose sync may have restarted the venue's sequence. */
struct book_slot {
    struct instr_node node; /* first: the map's */
    uint64_t seq;
    uint32_t run;
};

static bool book_is_newest(struct daemon *d, const struct book_view *v) {
    struct instr_node *n = instr_map_find(&d->books, v->venue, v->symbol);
    struct book_slot *b = (struct book_slot *)n;
    if (!b) {
        if (!(b = calloc(1, sizeof *b))) return true; /* no memory to remember it: let it through */
        instr_map_insert(&d->books, &b->node, v->venue, v->symbol);
    } else if (v->run != b->run && v->seq < b->seq && tick_run_alive(b->run, v->recv_us)) {
        return false;
    } else if (v->run == b->run && v->seq < b->seq) {
        return false;
    }
    b->seq = v->seq;
    b->run = v->run;
    return true;
}

static void ingest_books(void *arg, const struct book_view *views, size_t n) {
    struct daemon *d = arg;
    for (size_t i = 0; i < n; i++) {
        d->in.books++;
        if (!book_is_newest(d, &views[i])) {
            d->in.books_stale++;
            continue;
        }
        for (size_t k = 0; k < d->nsinks; k++) {
            struct sink_rt *s = &d->sinks[k];
            if (s->ops->put_book && s->ops->put_book(s->state, &views[i]) < 0) d->in.books_refused++;
        }
    }
}

static void ingest_book_deltas(void *arg, const struct book_delta_view *deltas, size_t n) {
    struct daemon *d = arg;
    for (size_t i = 0; i < n; i++) {
        d->in.book_deltas++;
        for (size_t k = 0; k < d->nsinks; k++) {
            struct sink_rt *s = &d->sinks[k];
            if (s->ops->put_book_delta && s->ops->put_book_delta(s->state, &deltas[i]) < 0) d->in.books_refused++;
        }
    }
}

void daemon_books_free(struct daemon *d) {
    size_t cursor = 0;
    struct instr_node *next = NULL, *n;
    while ((n = instr_map_next(&d->books, &cursor, &next))) {
        instr_map_remove(&d->books, n);
        free(n);
    }
    instr_map_destroy(&d->books);
}

/* Trades: every new one to every sink that takes trades, in the order the venue sent them. The filter drops
 * what was published already (an overlap, a replay); a hole in dense ids is logged (at most once a second,
 * with the number not logged since) and counted in the summary. */
#define TRADE_GAP_LOG_MS 1000

static void log_trade_gap(struct daemon *d, const struct trade *t, const struct trade_check *check) {
    int64_t now = clock_mono_ms();
    if (d->trade_gap_logged_ms && now - d->trade_gap_logged_ms < TRADE_GAP_LOG_MS) {
        d->trade_gaps_unlogged++;
        return;
    }
    log_warn("trades", "trade ids skipped: trades missed", "venue=%s symbol=%s missing_from=%llu missing_to=%llu "
             "missing=%llu other_gaps_not_logged=%llu", t->venue, t->symbol, (unsigned long long)check->missing_from,
             (unsigned long long)check->missing_to,
             (unsigned long long)(check->missing_to - check->missing_from + 1),
             (unsigned long long)d->trade_gaps_unlogged);
    d->trade_gap_logged_ms = now;
    d->trade_gaps_unlogged = 0;
}

static void put_trade(struct daemon *d, const struct trade *t, const struct trade_check *check) {
    if (check->missing_from) log_trade_gap(d, t, check);
    d->in.trades_new++;
    for (size_t k = 0; k < d->nsinks; k++) {
        struct sink_rt *s = &d->sinks[k];
        if ((s->ops->channels & SINK_CHANNEL(CONFIG_CHANNEL_TRADES)) && s->ops->put_trade &&
            s->ops->put_trade(s->state, t) < 0) {
            s->refused++;
            d->in.trades_refused++;
        }
    }
}

/* The held trades whose hole was filled or given up (trade_filter.h, HOLES), in order. */
static void put_due_trades(struct daemon *d, int64_t now_us) {
    struct trade due[16];
    struct trade_check checks[16];
    size_t n;
    while ((n = trade_filter_take(d->trade_filter, now_us, due, checks, 16)) > 0)
        for (size_t i = 0; i < n; i++) put_trade(d, &due[i], &checks[i]);
}

/* How long a hole in the venue's stream trades may wait for a poll to fill it (trade_filter.h, HOLES): 0 when
 * no group polls its trades; else two of the slowest poll's rounds -- an answer may have left just before the
 * hole, and a round of one request per symbol takes the longer of the interval and what the source's request
 * rate allows -- and a second more for the answer itself. */
static int64_t trade_fill_wait_us(const struct tickd_config *cfg, const struct venue_ops *v) {
    uint64_t round_ms = 0;
    bool polled = false;
    for (size_t i = 0; i < cfg->ngroups; i++) {
        const struct config_group *g = &cfg->groups[i];
        if (g->source->venue != v) continue;
        for (size_t j = 0; j < g->ntasks; j++) {
            const struct config_task *task = &g->tasks[j];
            if (task->kind != CONFIG_TASK_POLL || !task->channel || strcmp(task->channel, "trades") != 0) continue;
            uint64_t rps = g->source->limits.requests_per_second, ms = task->interval_ms;
            if (rps && g->nsymbols * 1000 / rps > ms) ms = g->nsymbols * 1000 / rps;
            if (ms > round_ms) round_ms = ms;
            polled = true;
        }
    }
    return polled ? (int64_t)(2 * round_ms + 1000) * 1000 : 0;
}

/* What judging a venue's trades needs from the venue table and the config, worked out once per configuration
 * (start, reload) instead of per frame. */
void daemon_trade_venues_update(struct daemon *d) {
    d->n_trade_venues = 0;
    for (size_t i = 0; venue_at(i) && d->n_trade_venues < TRADE_VENUES_MAX; i++) {
        const struct venue_ops *v = venue_at(i);
        const struct venue_channel *ch = venue_channel_find(v, "trades");
        bool dense = ch && ch->dense_ids;
        d->trade_venues[d->n_trade_venues++] =
            (struct trade_venue){.venue = v, .dense = dense, .fill_wait_us = dense ? trade_fill_wait_us(d->cfg, v) : 0};
    }
}

static const struct trade_venue *trade_venue_of(const struct daemon *d, const char *name) {
    for (size_t i = 0; i < d->n_trade_venues; i++)
        if (strcmp(d->trade_venues[i].venue->name, name) == 0) return &d->trade_venues[i];
    return NULL;
}

static void ingest_trades(void *arg, const struct trade *trades, size_t n) {
    struct daemon *d = arg;
    d->in.trades += n;
    if (!n) return;
    static const struct trade_venue unknown = {0};
    const struct trade_venue *tv = trade_venue_of(d, trades[0].venue); /* a task's trades share its venue */
    if (!tv) tv = &unknown;
    for (size_t i = 0; i < n; i++) {
        const struct trade *t = &trades[i];
        struct trade_check check;
        int verdict = trade_filter_check(d->trade_filter, t, tv->dense, tv->fill_wait_us, &check);
        if (verdict == -ENOBUFS) { /* its hole was given up: what waited goes first */
            put_due_trades(d, t->recv_us);
            verdict = trade_filter_check(d->trade_filter, t, tv->dense, tv->fill_wait_us, &check);
        }
        if (verdict == TRADE_DUPLICATE || verdict == TRADE_HELD) continue;
        put_trade(d, t, &check);
    }
    if (trade_filter_holding(d->trade_filter)) put_due_trades(d, trades[n - 1].recv_us);
}

/* What waits for time to pass, every HELD_CHECK_MS: the merge's held ticks (merge.h, HELD TICKS: a new
 * connection's word that waited for the old connection's linger to end; counted once, when they arrived, as
 * stale then and accepted now), and the trades held behind a hole whose wait is over (trade_filter.h). */
#define HELD_CHECK_MS 250

static void on_held_check(uv_timer_t *h) {
    struct daemon *d = h->data;
    if (d->trade_filter && trade_filter_holding(d->trade_filter)) put_due_trades(d, clock_wall_us());
    if (!d->merge || !merge_held_count(d->merge)) return;
    struct tick due[32];
    int64_t now_us = clock_wall_us();
    size_t n;
    while ((n = merge_take_due(d->merge, now_us, due, sizeof due / sizeof due[0])) > 0)
        for (size_t i = 0; i < n; i++) merge_and_put(d, &due[i]);
}

/* Redis holds a greater key than the merge for this quote (a restart began with an empty merge, another
 * process wrote, or a key was poisoned before): the merge takes it, so the live stream continues above it or
 * resets over it (merge.h, REDIS RECOVERY) instead of being refused by Redis forever. */
static void on_cas_rejected(void *arg, uint32_t quote_id, const struct merge_key *held) {
    struct daemon *d = arg;
    (void)merge_adopt(d->merge, quote_id, held);
}

/* ---- quote expiry (merge.quote_ttl) ---- */

#define EXPIRY_PERIOD_MIN_MS 250
#define EXPIRY_PERIOD_MAX_MS 5000
#define EXPIRY_LOG_EVERY_MS 10000 /* a symbol that trades less often than the TTL expires again and again */

static void on_bbo_expired(void *arg, uint32_t bbo_id) {
    struct daemon *d = arg;
    struct merge_bbo bbo;
    if (d->bbo_sinks && merge_bbo_by_id(d->merge, bbo_id, &bbo) == 0) put_bbo(d, bbo_id, &bbo, d->expiry_now_us);
}

static void on_expiry(uv_timer_t *h) {
    struct daemon *d = h->data;
    uint64_t ttl_ms = d->cfg->merge.quote_ttl_ms;
    d->expiry_now_us = clock_wall_us();
    d->expired_unlogged += merge_expire(d->merge, d->expiry_now_us - (int64_t)ttl_ms * 1000, on_bbo_expired, d);
    uint64_t now_ms = uv_now(&d->loop);
    if (d->expired_unlogged && (!d->expiry_logged_ms || now_ms - d->expiry_logged_ms >= EXPIRY_LOG_EVERY_MS)) {
        log_info("merge", "quotes expired: out of the best bid and offer until they tick again",
                 "count=%llu quote_ttl_ms=%llu", (unsigned long long)d->expired_unlogged, (unsigned long long)ttl_ms);
        d->expired_unlogged = 0;
        d->expiry_logged_ms = now_ms;
    }
}

/* (Re)starts the sweep for the configured TTL: a quarter of it, so a quote leaves at most a quarter late. */
void daemon_expiry_arm(struct daemon *d) {
    uint64_t ttl_ms = d->cfg->merge.quote_ttl_ms;
    if (!ttl_ms) {
        uv_timer_stop(&d->expiry_timer);
        return;
    }
    uint64_t period = ttl_ms / 4;
    if (period < EXPIRY_PERIOD_MIN_MS) period = EXPIRY_PERIOD_MIN_MS;
    if (period > EXPIRY_PERIOD_MAX_MS) period = EXPIRY_PERIOD_MAX_MS;
    uv_timer_start(&d->expiry_timer, on_expiry, period, period);
}

/* ---- sources ---- */

struct source_rt *daemon_source_new(struct daemon *d, const struct config_source *cs) {
    struct source_rt *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = cs;
    struct source *src = &s->src;
    snprintf(src->name, sizeof src->name, "%s", cs->name);
    src->venue = cs->venue;
    snprintf(src->rest_url, sizeof src->rest_url, "%s", cs->rest_url);
    snprintf(src->ws_url, sizeof src->ws_url, "%s", cs->ws_url);
    /* A base URL ending in '/' would double the slash of every path the adapters write. */
    size_t n = strlen(src->rest_url);
    if (n && src->rest_url[n - 1] == '/') src->rest_url[n - 1] = 0;
    n = strlen(src->ws_url);
    if (n && src->ws_url[n - 1] == '/') src->ws_url[n - 1] = 0;
    /* A private CA is the source's own: its TLS connections trust that file alone, the others the system's. */
    const char *ca = cs->ca_file && cs->ca_file[0] ? cs->ca_file : NULL;
    src->http = ca ? http_client_with_ca(d->http, ca) : d->http;
    src->ws = ca ? ws_client_with_ca(d->ws, ca) : d->ws;
    src->sink = (struct tick_sink){.emit = ingest, .emit_trades = ingest_trades, .emit_books = ingest_books,
                                   .emit_book_deltas = ingest_book_deltas, .arg = d};
    src->supervisor = d->sup;
    src->weight_window = -1;
    size_t nw = 0;
    const struct config_limits *l = &cs->limits;
    if (l->weight_per_minute) {
        src->weight_window = (int)nw;
        s->windows[nw++] = (struct limiter_window){LIMITER_WEIGHT, (uint32_t)l->weight_per_minute, 60000, 1000};
    }
    if (l->requests_per_second)
        s->windows[nw++] = (struct limiter_window){LIMITER_REQUEST, (uint32_t)l->requests_per_second, 1000, 100};
    /* New connections as the venue takes them: a reconnect storm waits instead of getting the IP banned. */
    for (size_t i = 0; src->venue && i < VENUE_CONNECT_RATES_MAX && src->venue->defaults.connect[i].limit; i++) {
        const struct venue_rate *c = &src->venue->defaults.connect[i];
        s->windows[nw++] = (struct limiter_window){LIMITER_CONNECT, c->limit, c->period_ms, c->margin_ms};
    }
    if (l->ws_messages_per_second) {
        src->conn_windows[0] = (struct limiter_window){LIMITER_MESSAGE, (uint32_t)l->ws_messages_per_second, 1000, 100};
        src->n_conn_windows = 1;
    }
    src->ws_streams_per_connection = l->ws_streams_per_connection;
    struct limiter_config lc = {.name = src->name, .windows = s->windows, .n_windows = nw,
                                .max_pause_ms = (uint32_t)l->max_pause_ms};
    if (!src->venue || !src->http || !src->ws || limiter_new(&d->loop, &lc, &src->limiter) < 0) {
        log_error("daemon", "cannot create the source", "source=%s", cs->name);
        free(s);
        return NULL;
    }
    s->d = d;
    s->next = d->sources;
    d->sources = s;
    daemon_instruments_start(d, s);
    return s;
}

struct source_rt *daemon_source_find(struct daemon *d, const char *name) {
    for (struct source_rt *s = d->sources; s; s = s->next)
        if (!s->retired_at_ms && strcmp(s->src.name, name) == 0) return s;
    return NULL;
}

/* ---- groups ---- */

static int group_spawn_tasks(struct task_group *g, void *arg) {
    struct group_rt *rt = arg;
    char name[48];
    for (size_t i = 0; i < rt->npolls; i++) {
        snprintf(name, sizeof name, rt->npolls > 1 ? "poll-%zu" : "poll", i);
        int rc = group_spawn(g, &poll_task_ops, name, &rt->polls[i], NULL);
        if (rc < 0) return rc;
    }
    for (size_t i = 0; i < rt->nstreams; i++) {
        snprintf(name, sizeof name, rt->nstreams > 1 ? "stream-%zu" : "stream", i);
        int rc = group_spawn(g, &stream_task_ops, name, &rt->streams[i], NULL);
        if (rc < 0) return rc;
    }
    return 0;
}

static void group_rt_free(struct group_rt *rt) {
    venue_symbols_free(&rt->symbols);
    free(rt->polls);
    free(rt->streams);
    free(rt);
}

static struct group_rt *group_rt_new(struct daemon *d, const struct config_group *cg, struct source_rt *s) {
    struct group_rt *rt = calloc(1, sizeof *rt);
    if (!rt) return NULL;
    rt->d = d;
    rt->source = s;
    snprintf(rt->name, sizeof rt->name, "%s", cg->name);
    rt->restart = cg->restart == CONFIG_RESTART_TRANSIENT   ? RESTART_TRANSIENT
                  : cg->restart == CONFIG_RESTART_TEMPORARY ? RESTART_TEMPORARY
                                                            : RESTART_PERMANENT;
    const struct venue_ops *v = s->src.venue;
    if (venue_symbols_init(&rt->symbols, v, (const char *const *)cg->symbols, cg->nsymbols) < 0) goto fail;
    size_t per = s->src.ws_streams_per_connection;
    if (v->ws_max_symbols && (!per || per > v->ws_max_symbols)) per = v->ws_max_symbols;
    if (!per) per = cg->nsymbols;
    size_t nconn = (cg->nsymbols + per - 1) / per;
    for (size_t i = 0; i < cg->ntasks; i++) {
        if (cg->tasks[i].kind == CONFIG_TASK_POLL) rt->npolls++;
        else rt->nstreams += nconn;
    }
    rt->polls = calloc(rt->npolls ? rt->npolls : 1, sizeof *rt->polls);
    rt->streams = calloc(rt->nstreams ? rt->nstreams : 1, sizeof *rt->streams);
    if (!rt->polls || !rt->streams) goto fail;
    size_t ip = 0, is = 0;
    for (size_t i = 0; i < cg->ntasks; i++) {
        const struct config_task *t = &cg->tasks[i];
        const struct venue_channel *ch = venue_channel_find(v, t->channel); /* the config checked it */
        if (!ch) goto fail;
        if (ch->kind == VENUE_EVENT_BOOK) rt->symbols.book_depth = (unsigned)t->depth;
        if (t->kind == CONFIG_TASK_POLL) {
            rt->polls[ip++] = (struct poll_args){.source = &s->src, .channel = ch, .symbols = &rt->symbols,
                                                 .interval_ms = t->interval_ms};
            continue;
        }
        /* Spread the symbols evenly over the connections the venue's per-connection limit requires. */
        size_t first = 0;
        for (size_t c = 0; c < nconn; c++) {
            size_t count = cg->nsymbols / nconn + (c < cg->nsymbols % nconn ? 1 : 0);
            rt->streams[is++] = (struct stream_args){
                .source = &s->src, .channel = ch, .symbols = &rt->symbols, .first = first, .count = count,
                .stale_after_ms = t->stale_after_ms,
                .max_age_ms = t->max_age_ms,
                /* a book's first message is the whole book: Coinbase's busiest are megabytes */
                .max_frame = ch->kind == VENUE_EVENT_BOOK ? BOOK_MAX_FRAME : 0,
                .depth = (unsigned)t->depth,
                .book_deltas = t->book_deltas};
            first += count;
        }
    }
    rt->next = d->groups;
    d->groups = rt;
    return rt;
fail:
    log_error("daemon", "cannot build the group", "group=%s", cg->name);
    group_rt_free(rt);
    return NULL;
}

int daemon_group_add(struct daemon *d, const struct config_group *cg, bool replace) {
    if (cg->npatterns) return daemon_pattern_group_add(d, cg, replace);
    return daemon_group_start(d, cg, cg->name, replace);
}

int daemon_group_start(struct daemon *d, const struct config_group *cg, const char *config_name, bool replace) {
    if (!cg->nsymbols) return -EINVAL; /* never a group of no symbols */
    struct source_rt *s = daemon_source_find(d, cg->source->name);
    struct group_rt *rt = s ? group_rt_new(d, cg, s) : NULL;
    if (!rt) return -ENOMEM;
    snprintf(rt->config_name, sizeof rt->config_name, "%s", config_name);
    daemon_instruments_group(d, rt);
    struct group_spec spec = {.name = rt->name, .restart = rt->restart, .spawn = group_spawn_tasks, .arg = rt,
                              .source = s->src.name};
    int rc = replace ? supervisor_replace_group(d->sup, &spec) : supervisor_add_group(d->sup, &spec);
    if (rc < 0) log_error("daemon", "cannot add the group", "group=%s error=%s", rt->name, strerror(-rc));
    return rc;
}

void daemon_group_retire_all(struct daemon *d, const char *config_name) {
    for (struct group_rt *g = d->groups; g; g = g->next) {
        if (g->retired_at_ms || strcmp(g->config_name, config_name) != 0) continue;
        if (strcmp(g->name, config_name) != 0 && d->sup) supervisor_remove_group(d->sup, g->name);
        g->retired_at_ms = clock_mono_ms();
    }
}

/* Frees what was retired long enough ago that no task of it can still run (everything, when `all`). */
static void sweep_retired(struct daemon *d, bool all) {
    int64_t now = clock_mono_ms();
    for (struct group_rt **pg = &d->groups; *pg;) {
        struct group_rt *g = *pg;
        if (all || (g->retired_at_ms && now - g->retired_at_ms > RETIRE_AFTER_MS)) {
            *pg = g->next;
            group_rt_free(g);
        } else {
            pg = &g->next;
        }
    }
    for (struct source_rt **ps = &d->sources; *ps;) {
        struct source_rt *s = *ps;
        bool in_use = false;
        for (struct group_rt *g = d->groups; g; g = g->next) in_use |= g->source == s;
        if (s->retired_at_ms && !in_use && now - s->retired_at_ms > RETIRE_AFTER_MS) {
            *ps = s->next;
            daemon_instruments_stop(s);
            limiter_close(s->src.limiter, NULL, NULL);
            free(s);
        } else {
            ps = &s->next;
        }
    }
}

/* ---- seeing what it does ---- */

void daemon_count_node(const struct tree_node *n, void *arg) {
    struct tree_counts *c = arg;
    if (n->task) {
        c->tasks++;
        return;
    }
    c->groups++;
    if (strcmp(n->state, "running") == 0) c->running++;
    if (strcmp(n->state, "running") == 0 && n->ready) c->ready++;
    if (strcmp(n->state, "backoff") == 0) c->restarting++;
    if (strcmp(n->state, "parked") == 0) c->parked++;
    if (strcmp(n->state, "stopped") == 0) c->stopped++;
}

/* Units per second since the last stats line; *last becomes now. */
static double per_second(uint64_t now, uint64_t *last, double secs) {
    double r = now >= *last ? (double)(now - *last) / secs : 0;
    *last = now;
    return r;
}

static uint64_t total_frames(const struct daemon *d) {
    uint64_t n = 0;
    for (const struct source_rt *s = d->sources; s; s = s->next) n += s->src.counters.frames;
    return n;
}

static void log_source_stats(struct source_rt *s, double secs) {
    struct source_counters *c = &s->src.counters;
    struct catalog_stats cat = {0};
    if (s->catalog) catalog_stats(s->catalog, &cat);
    struct limiter_status ls;
    limiter_status_get(s->src.limiter, &ls);
    char headroom[160] = "";
    size_t off = 0;
    for (size_t i = 0; i < ls.n_windows && off < sizeof headroom - 32; i++) {
        static const char *const kinds[] = {"weight", "req", "conn", "msg"};
        off += (size_t)snprintf(headroom + off, sizeof headroom - off, "%s%s:%u/%u/%us", off ? "," : "",
                                kinds[ls.windows[i].kind], ls.windows[i].used, ls.windows[i].limit,
                                ls.windows[i].period_ms / 1000);
    }
    log_info("stats", "source", "source=%s frames=%llu frames_per_s=%.0f ticks=%llu trades=%llu malformed=%llu "
             "unknown=%llu "
             "venue_errors=%llu requests=%llu http_failures=%llu rate_limited=%llu connects=%llu switches=%llu "
             "failed_switches=%llu limiter=%s queued=%zu paused=%s instruments=%zu unlisted=%zu interval_s=%.1f",
             s->src.name, (unsigned long long)c->frames, per_second(c->frames, &s->frames_at_last_stats, secs),
             (unsigned long long)c->ticks, (unsigned long long)c->trades, (unsigned long long)c->malformed,
             (unsigned long long)c->unknown, (unsigned long long)c->venue_errors,
             (unsigned long long)c->requests, (unsigned long long)c->http_failures,
             (unsigned long long)c->rate_limited, (unsigned long long)c->connects,
             (unsigned long long)c->planned_reconnects, (unsigned long long)c->failed_switches, headroom, ls.queued,
             ls.paused_until_ms > clock_mono_ms() ? "yes" : "no", cat.instruments, daemon_instruments_unlisted(s),
             secs);
    if (!c->book_updates && !c->snapshot_requests) return;
    log_info("stats", "books", "source=%s syncing=%llu live=%llu resyncing=%llu stale=%llu updates=%llu "
             "level_changes=%llu level_changes_per_s=%.0f resyncs_gap=%llu resyncs_checksum=%llu "
             "resyncs_crossed=%llu resyncs_reconnect=%llu resyncs_overflow=%llu resubscribes=%llu snapshots=%llu snapshot_weight=%llu",
             s->src.name, (unsigned long long)c->books[BOOK_SYNCING], (unsigned long long)c->books[BOOK_LIVE],
             (unsigned long long)c->books[BOOK_RESYNCING], (unsigned long long)c->books[BOOK_STALE],
             (unsigned long long)c->book_updates, (unsigned long long)c->book_level_changes,
             per_second(c->book_level_changes, &s->level_changes_at_last_stats, secs),
             (unsigned long long)c->book_resyncs[BOOK_CAUSE_GAP], (unsigned long long)c->book_resyncs[BOOK_CAUSE_CHECKSUM],
             (unsigned long long)c->book_resyncs[BOOK_CAUSE_CROSSED],
             (unsigned long long)c->book_resyncs[BOOK_CAUSE_RECONNECT],
             (unsigned long long)c->book_resyncs[BOOK_CAUSE_OVERFLOW], (unsigned long long)c->book_resubscribes,
             (unsigned long long)c->snapshot_requests, (unsigned long long)c->snapshot_weight);
}

/* STATUS= for `systemctl status`: the summary line's essentials. */
void daemon_send_status(const struct daemon *d, const struct tree_counts *tc) {
    notify_status("groups %u running, %u restarting, %u parked; %.0f ticks/s", tc->running, tc->restarting,
                  tc->parked, d->ticks_per_s);
}

void daemon_on_stats(uv_timer_t *t) {
    struct daemon *d = t->data;
    int64_t now = clock_mono_ms();
    double secs = (double)(now - d->last_stats_ms) / 1000.0;
    if (secs <= 0) secs = 1;
    d->last_stats_ms = now;
    /* The RabbitMQ buffer's records live only until confirmed, so a slow broker (or the start of a 50k
     * instrument config) leaves freed memory glibc keeps: hand it back once per interval (~75 µs at 50k). */
    malloc_trim(0);
    for (struct source_rt *s = d->sources; s; s = s->next)
        if (!s->retired_at_ms) log_source_stats(s, secs);
    for (size_t k = 0; k < d->nsinks; k++) d->sinks[k].ops->stats_log(d->sinks[k].state, secs);
    struct tree_counts tc = {0};
    supervisor_visit(d->sup, daemon_count_node, &tc);
    double fps = per_second(total_frames(d), &d->frames_at_last_stats, secs);
    struct merge_counters mc;
    merge_counters_get(d->merge, &mc);
    struct trade_filter_counters tc_trades;
    trade_filter_counters_get(d->trade_filter, &tc_trades);
    d->ticks_per_s = per_second(d->in.accepted, &d->accepted_at_last_stats, secs);
    log_info("stats", "summary", "groups=%u running=%u ready=%u restarting=%u parked=%u tasks=%u frames_per_s=%.0f "
             "ticks_per_s=%.0f ticks=%llu accepted=%llu stale=%llu duplicates=%llu invalid=%llu expired=%llu "
             "resets=%llu bad_time=%llu adopted=%llu trades=%llu trades_new=%llu trade_duplicates=%llu "
             "trade_gaps=%llu trades_missing=%llu trade_resets=%llu trades_filled=%llu",
             tc.groups, tc.running, tc.ready, tc.restarting, tc.parked, tc.tasks, fps, d->ticks_per_s,
             (unsigned long long)d->in.ticks, (unsigned long long)d->in.accepted, (unsigned long long)d->in.stale,
             (unsigned long long)d->in.duplicates, (unsigned long long)d->in.invalid, (unsigned long long)mc.expired,
             (unsigned long long)mc.resets, (unsigned long long)mc.bad_time, (unsigned long long)mc.adopted,
             (unsigned long long)d->in.trades, (unsigned long long)d->in.trades_new,
             (unsigned long long)tc_trades.duplicates, (unsigned long long)tc_trades.gaps,
             (unsigned long long)tc_trades.missing, (unsigned long long)tc_trades.resets,
             (unsigned long long)tc_trades.filled);
    daemon_send_status(d, &tc);
    sweep_retired(d, false);
}

static void render_node(const struct tree_node *n, void *arg) {
    struct text_buf *out = arg;
    if (n->task)
        text_printf(out, "    task %-20s %-9s ready=%s%s%s\n", n->task, n->state, n->ready ? "yes" : "no",
                      n->status ? " last_error=" : "", n->status ? n->cause : "");
    else
        text_printf(out, "  group %-20s %-9s ready=%s restarts=%u%s%s\n", n->group, n->state,
                      n->ready ? "yes" : "no", n->restarts, n->status ? " last_error=" : "",
                      n->status ? n->cause : "");
}

static void render_status(struct text_buf *out, void *arg) {
    struct daemon *d = arg;
    text_printf(out, "tickd %s pid %d uptime %llds%s\n", TICKD_VERSION, (int)getpid(),
                  (long long)((clock_mono_ms() - d->started_ms) / 1000), d->stopping ? " (stopping)" : "");
    text_printf(out, "sources:\n");
    for (struct source_rt *s = d->sources; s; s = s->next) {
        if (s->retired_at_ms) continue;
        struct limiter_status ls;
        limiter_status_get(s->src.limiter, &ls);
        text_printf(out, "  %-12s venue=%s frames=%llu ticks=%llu trades=%llu malformed=%llu queued=%zu%s\n",
                      s->src.name, s->src.venue->name, (unsigned long long)s->src.counters.frames,
                      (unsigned long long)s->src.counters.ticks, (unsigned long long)s->src.counters.trades,
                      (unsigned long long)s->src.counters.malformed,
                      ls.queued, ls.paused_until_ms > clock_mono_ms() ? " PAUSED" : "");
        for (size_t i = 0; i < ls.n_windows; i++) {
            static const char *const kinds[] = {"weight", "requests", "connects", "messages"};
            text_printf(out, "    limit %-8s used %u of %u per %u ms (headroom %u)\n", kinds[ls.windows[i].kind],
                          ls.windows[i].used, ls.windows[i].limit, ls.windows[i].period_ms,
                          ls.windows[i].limit > ls.windows[i].used ? ls.windows[i].limit - ls.windows[i].used : 0);
        }
        if (s->catalog) {
            struct catalog_stats cs;
            catalog_stats(s->catalog, &cs);
            text_printf(out, "    instruments listed=%zu unlisted=%zu loads=%llu failures=%llu loaded_s_ago=%lld%s\n",
                        cs.instruments, s->nunlisted, (unsigned long long)cs.loads, (unsigned long long)cs.failures,
                        cs.loaded_ms ? (long long)((clock_mono_ms() - cs.loaded_ms) / 1000) : -1LL,
                        cs.failing ? " FAILING" : "");
        }
        const struct source_counters *c = &s->src.counters;
        if (c->book_updates || c->snapshot_requests)
            text_printf(out, "    books syncing=%llu live=%llu resyncing=%llu stale=%llu resyncs gap=%llu "
                        "checksum=%llu crossed=%llu reconnect=%llu overflow=%llu snapshots=%llu weight=%llu level_changes=%llu\n",
                        (unsigned long long)c->books[BOOK_SYNCING], (unsigned long long)c->books[BOOK_LIVE],
                        (unsigned long long)c->books[BOOK_RESYNCING], (unsigned long long)c->books[BOOK_STALE],
                        (unsigned long long)c->book_resyncs[BOOK_CAUSE_GAP],
                        (unsigned long long)c->book_resyncs[BOOK_CAUSE_CHECKSUM],
                        (unsigned long long)c->book_resyncs[BOOK_CAUSE_CROSSED],
                        (unsigned long long)c->book_resyncs[BOOK_CAUSE_RECONNECT],
                        (unsigned long long)c->book_resyncs[BOOK_CAUSE_OVERFLOW],
                        (unsigned long long)c->snapshot_requests, (unsigned long long)c->snapshot_weight,
                        (unsigned long long)c->book_level_changes);
    }
    text_printf(out, "groups:\n");
    if (d->sup) supervisor_visit(d->sup, render_node, out); /* none once stopped, or when the start failed */
    struct merge_counters mc = {0};
    if (d->merge) merge_counters_get(d->merge, &mc); /* none when the start failed */
    text_printf(out, "merge: quotes=%zu symbols=%zu accepted=%llu stale=%llu duplicates=%llu expired=%llu "
                  "withdrawn=%llu quote_ttl_ms=%llu\n", mc.quotes, mc.symbols, (unsigned long long)mc.accepted,
                  (unsigned long long)mc.stale, (unsigned long long)mc.duplicates, (unsigned long long)mc.expired,
                  (unsigned long long)mc.withdrawn_refused, (unsigned long long)d->cfg->merge.quote_ttl_ms);
    text_printf(out, "sinks:\n");
    for (size_t k = 0; k < d->nsinks; k++) {
        text_printf(out, "  %-8s ", d->sinks[k].ops->name);
        d->sinks[k].ops->status(d->sinks[k].state, out);
    }
}

/* READY=1 once the sinks are connected and every group has started: ready, or failed and scheduled again. */
static void on_ready_check(uv_timer_t *t) {
    struct daemon *d = t->data;
    /* "redis=up rabbitmq=down": the sinks' states, one word each, for the degraded line */
    char sinks[SINK_TABLE_MAX * 24] = "";
    size_t off = 0;
    bool sinks_ready = true;
    for (size_t k = 0; k < d->nsinks; k++) {
        bool up = d->sinks[k].ops->ready(d->sinks[k].state);
        sinks_ready &= up;
        off += (size_t)snprintf(sinks + off, sizeof sinks - off, "%s%s=%s", off ? " " : "", d->sinks[k].ops->name,
                                up ? "up" : "down");
        if (off >= sizeof sinks) off = sizeof sinks - 1;
    }
    struct tree_counts tc = {0};
    supervisor_visit(d->sup, daemon_count_node, &tc);
    bool groups_started = tc.ready + tc.restarting + tc.parked + tc.stopped == tc.groups;
    int64_t waited = clock_mono_ms() - d->started_ms;
    if (!(sinks_ready && groups_started) && waited < READY_ANYWAY_MS) return;
    uv_timer_stop(t);
    d->ready_sent = true;
    notify_ready();
    if (sinks_ready && groups_started)
        log_info("daemon", "ready", "startup_ms=%lld groups=%u", (long long)waited, tc.groups);
    else
        log_warn("daemon", "ready, degraded", "startup_ms=%lld sinks=%s groups_started=%s", (long long)waited, sinks,
                 groups_started ? "yes" : "no");
    daemon_send_status(d, &tc);
}

/* Logging never blocks (log.h); what a stalled stderr held back must not wait for the next line to go out. */
static void on_log_flush(uv_timer_t *t) {
    (void)t;
    log_flush();
}

/* ---- stop ---- */

static void nop_closed(uv_handle_t *h) { (void)h; }

static void one_closed(void *arg) {
    struct daemon *d = arg;
    if (--d->pending_closes == 0)
        log_info("daemon", "sinks flushed and closed", "stop_ms=%lld",
                 (long long)(clock_mono_ms() - d->stop_started_ms));
}
/* The stream tasks asked their connections to close; let the close handshakes finish (bounded) before the
 * websocket client goes, so the venues see a clean close rather than a cut. */
static void on_ws_drain(uv_timer_t *t) {
    struct daemon *d = t->data;
    if (ws_client_connections(d->ws) > 0 && clock_mono_ms() - d->ws_drain_started_ms < WS_DRAIN_MS) return;
    if (d->ws) ws_client_close(d->ws);
    uv_close((uv_handle_t *)t, nop_closed);
}

static void on_supervisor_done(struct supervisor *s, void *arg) {
    (void)s;
    struct daemon *d = arg;
    d->sup = NULL;
    log_info("daemon", "sources stopped; flushing sinks", "%s", "");
    sweep_retired(d, true);
    for (struct source_rt *s2 = d->sources; s2; s2 = s2->next) {
        d->pending_closes++;
        limiter_close(s2->src.limiter, one_closed, d);
    }
    /* After a failed start any of these may never have been made: close what exists. */
    for (size_t k = 0; k < d->nsinks; k++) {
        if (!d->sinks[k].state) continue;
        d->pending_closes++;
        d->sinks[k].ops->close(d->sinks[k].state, one_closed, d);
        d->sinks[k].state = NULL;
    }
    if (d->http) {
        d->pending_closes++;
        http_client_close(d->http, one_closed, d);
    }
    d->ws_drain_started_ms = clock_mono_ms();
    uv_timer_start(&d->phase_timer, on_ws_drain, 0, WS_DRAIN_CHECK_MS);
    status_server_close(&d->status, NULL, NULL);
    notify_watchdog_close(&d->watchdog, NULL, NULL);
    uv_close((uv_handle_t *)&d->stats_timer, nop_closed);
    uv_close((uv_handle_t *)&d->expiry_timer, nop_closed);
    uv_close((uv_handle_t *)&d->held_timer, nop_closed);
    uv_close((uv_handle_t *)&d->log_timer, nop_closed); /* log_drain takes over at exit */
    uv_close((uv_handle_t *)&d->sigterm, nop_closed);
    uv_close((uv_handle_t *)&d->sigint, nop_closed);
    uv_close((uv_handle_t *)&d->sighup, nop_closed);
}

static void daemon_stop(struct daemon *d, int exit_status, const char *why) {
    if (d->stopping) return;
    d->stopping = true;
    d->exit_status = exit_status;
    d->stop_started_ms = clock_mono_ms();
    notify_stopping();
    notify_status("stopping (%s)", why);
    log_info("daemon", "stopping", "reason=%s", why);
    uv_timer_stop(&d->stats_timer);
    uv_timer_stop(&d->phase_timer);
    uv_timer_stop(&d->expiry_timer);
    uv_timer_stop(&d->held_timer);
    for (struct source_rt *s = d->sources; s; s = s->next) daemon_instruments_stop(s); /* no list after this */
    if (d->sup) supervisor_stop(d->sup, STOP_DEADLINE_MS);
    else on_supervisor_done(NULL, d); /* a start that failed before the tree existed: nothing to stop */
}

static void on_supervisor_exit(struct supervisor *s, int exit_status, const char *cause, void *arg) {
    (void)s;
    struct daemon *d = arg;
    log_error("daemon", "supervisor gave up", "cause=%s exit_status=%d", cause, exit_status);
    daemon_stop(d, exit_status, "too many groups parked");
}

static void on_signal(uv_signal_t *sig, int signum) {
    struct daemon *d = sig->data;
    if (signum == SIGHUP) {
        if (!d->stopping) daemon_reload(d);
        return;
    }
    daemon_stop(d, 0, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- start ---- */

/* Every row of sink_table, in its order; a sink that cannot start logged why, and the start fails. Every row
 * is in d->sinks before any opens: the stop path then closes the ones that did, and skips the rest. */
static int start_sinks(struct daemon *d) {
    for (const struct sink_ops *const *o = sink_table; *o && d->nsinks < SINK_TABLE_MAX; o++) {
        d->sinks[d->nsinks++] = (struct sink_rt){.ops = *o};
        d->bbo_sinks |= (*o)->put_bbo != NULL;
    }
    struct sink_hooks hooks = {.on_cas_rejected = on_cas_rejected, .arg = d};
    for (size_t k = 0; k < d->nsinks; k++)
        if (d->sinks[k].ops->open(&d->loop, d->cfg, &hooks, &d->sinks[k].state) < 0) return -1;
    return 0;
}

static int start_tree(struct daemon *d) {
    const struct tickd_config *c = d->cfg;
    struct supervisor_opts so = {
        .backoff_min_ms = c->supervisor.backoff_min_ms, .backoff_max_ms = c->supervisor.backoff_max_ms,
        .max_restarts = (unsigned)c->supervisor.max_restarts, .restart_window_ms = c->supervisor.restart_window_ms,
        .forgive_after_ms = c->supervisor.forgive_after_ms, .park_ms = 10 * c->supervisor.backoff_max_ms,
        .max_parked = c->ngroups > 1 ? (unsigned)(c->ngroups / 2) : 1, .grace_ms = GROUP_GRACE_MS,
        .on_exit = on_supervisor_exit, .on_done = on_supervisor_done, .data = d};
    if (so.max_restarts < 1) so.max_restarts = 1;
    if (so.max_restarts > SUPERVISOR_MAX_RESTARTS) so.max_restarts = SUPERVISOR_MAX_RESTARTS;
    if (supervisor_new(&d->loop, &so, &d->sup) < 0) return -1;
    for (size_t i = 0; i < c->nsources; i++)
        if (!daemon_source_new(d, &c->sources[i])) return -1;
    for (size_t i = 0; i < c->ngroups; i++)
        if (daemon_group_add(d, &c->groups[i], false) < 0) return -1;
    return 0;
}

int daemon_run(struct tickd_config *cfg, const struct daemon_opts *opts) {
    static struct daemon d; /* static: signal handles and the status server point into it */
    memset(&d, 0, sizeof d);
    d.cfg = cfg;
    d.opts = opts;
    log_setup(cfg->daemon.log_level, cfg->daemon.log_format);
    log_info("daemon", "starting", "version=%s pid=%d", TICKD_VERSION, (int)getpid());
    config_log_summary(cfg);
    /* A Redis or RabbitMQ peer that goes away must give a write error, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    int rc = uv_loop_init(&d.loop);
    if (rc < 0) {
        log_error("daemon", "cannot start the loop", "error=%s", uv_strerror(rc));
        config_free(cfg);
        return 70;
    }
    d.started_ms = d.last_stats_ms = clock_mono_ms();
    uv_signal_init(&d.loop, &d.sigterm);
    uv_signal_init(&d.loop, &d.sigint);
    uv_signal_init(&d.loop, &d.sighup);
    d.sigterm.data = d.sigint.data = d.sighup.data = &d;
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);
    uv_signal_start(&d.sighup, on_signal, SIGHUP);
    uv_timer_init(&d.loop, &d.stats_timer);
    uv_timer_init(&d.loop, &d.phase_timer);
    uv_timer_init(&d.loop, &d.expiry_timer);
    uv_timer_init(&d.loop, &d.held_timer);
    uv_timer_init(&d.loop, &d.log_timer);
    uv_timer_start(&d.log_timer, on_log_flush, LOG_FLUSH_MS, LOG_FLUSH_MS);
    uv_unref((uv_handle_t *)&d.log_timer);
    d.stats_timer.data = d.phase_timer.data = d.expiry_timer.data = d.held_timer.data = &d;
    uv_timer_start(&d.held_timer, on_held_check, HELD_CHECK_MS, HELD_CHECK_MS);
    notify_watchdog_start(&d.loop, &d.watchdog);
    char path[4096]; /* more than a socket path holds: one too long is refused, not cut */
    int status_flags = 0;
    if (opts && opts->status_socket) snprintf(path, sizeof path, "%s", opts->status_socket);
    else if (status_default_path(path, sizeof path)) status_flags = STATUS_PRIVATE_DIR;
    /* A failure is logged; the daemon runs without it. */
    status_server_start(&d.loop, &d.status, path, status_flags, render_status, &d);

    d.http = http_client_new(&d.loop);
    d.ws = ws_client_new(&d.loop, 0);
    size_t instruments = 0;
    for (size_t i = 0; i < cfg->ngroups; i++) instruments += cfg->groups[i].nsymbols;
    bool ok = d.http && d.ws && merge_new(&d.merge) == 0 && merge_reserve(d.merge, instruments) == 0 &&
              trade_filter_new(&d.trade_filter) == 0 && instr_map_init(&d.books, 64) == 0 &&
              start_sinks(&d) == 0 && start_tree(&d) == 0;
    if (!ok) {
        log_error("daemon", "cannot start the runtime", "%s", "");
        /* Unwind through the normal stop path, which closes what was made and skips what was not. */
        daemon_stop(&d, 70, "start failed");
    } else {
        uv_timer_start(&d.stats_timer, daemon_on_stats, cfg->daemon.stats_interval_ms, cfg->daemon.stats_interval_ms);
        uv_timer_start(&d.phase_timer, on_ready_check, READY_CHECK_MS, READY_CHECK_MS);
        daemon_expiry_arm(&d);
        daemon_trade_venues_update(&d);
    }
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (d.ws) ws_client_free(d.ws);
    merge_free(d.merge);
    trade_filter_free(d.trade_filter);
    daemon_books_free(&d);
    rc = uv_loop_close(&d.loop);
    if (rc < 0) {
        log_error("daemon", "handles left open at exit", "error=%s", uv_strerror(rc));
        uv_print_all_handles(&d.loop, stderr);
        if (!d.exit_status) d.exit_status = 1;
    }
    log_info("daemon", "stopped", "exit_status=%d", d.exit_status);
    config_free(d.cfg);
    log_drain(LOG_DRAIN_MS);
    return d.exit_status;
}
