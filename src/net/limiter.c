/* limiter.c -- see limiter.h.
 *
 * Each window is a ring of (time, units) entries: the grants of the last period + margin. The queue is two
 * level: every client has a FIFO of requests, and clients with something queued sit in the limiter's
 * round-robin ring. A dispatch pass scans that ring from the cursor for the first head request that fits,
 * grants it, moves the cursor past that client, and repeats until nothing fits; then the one timer is armed
 * for the earliest moment something may fit. Dispatch runs only from the timer callback, so grant callbacks
 * never run inside limiter_acquire() and every change made by a callback is seen by the next pass. */
#include "tickd/limiter.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tickd/clock.h"
#include "tickd/list.h"
#include "tickd/log.h"

#define NS_PER_MS 1000000LL
#define COALESCE_STEPS 1024 /* log entries per window span, at most */
#define DEFAULT_FLOOR_429_MS 1000
#define DEFAULT_FLOOR_418_MS 120000
#define NEVER INT64_MAX

struct log_entry {
    int64_t t_ns;
    uint32_t units;
};

struct window_log {
    struct limiter_window cfg;
    int64_t span_ns;     /* period + margin: an entry counts for this long */
    int64_t coalesce_ns; /* grants closer than this share an entry */
    struct log_entry *entries; /* ring */
    uint32_t cap, head, count;
    uint64_t used; /* sum of units of the entries */
};

struct limiter_client {
    struct limiter *lim; /* NULL once the limiter closed */
    char name[32];
    struct list_link queue;   /* its requests, oldest first */
    struct list_link turn;    /* its place in lim->active while it has requests */
    struct list_link sibling; /* in lim->clients */
    bool active;
    struct window_log windows[LIMITER_WINDOWS_MAX];
    size_t n_windows;
};

struct limiter {
    uv_loop_t *loop;
    uv_timer_t timer;
    char name[48];
    struct window_log windows[LIMITER_WINDOWS_MAX];
    size_t n_windows;
    uint32_t floor_429_ms, floor_418_ms, max_pause_ms;

    struct list_link active;  /* clients with queued requests: the round-robin ring */
    size_t n_active;
    struct list_link *cursor; /* the client whose turn is next, or NULL: the first */
    struct list_link clients; /* every live client */
    struct list_link doomed;  /* requests to fail with UV_ECANCELED once closed */

    size_t queued;
    int64_t paused_until_ns; /* 0: not paused */
    uint64_t granted, pauses, wakeups;
    bool dispatching, closing;
    void (*close_cb)(void *arg);
    void *close_arg;
};

/* ---- time ---- */

/* ---- window logs ---- */

static int window_init(struct window_log *w, const struct limiter_window *cfg) {
    if (cfg->limit == 0 || cfg->period_ms == 0 || (unsigned)cfg->kind >= LIMITER_KIND_COUNT) return UV_EINVAL;
    memset(w, 0, sizeof *w);
    w->cfg = *cfg;
    w->span_ns = ((int64_t)cfg->period_ms + cfg->margin_ms) * NS_PER_MS;
    w->coalesce_ns = (w->span_ns + COALESCE_STEPS - 1) / COALESCE_STEPS;
    /* Live entries are coalesce_ns apart within span_ns, and each holds at least one unit of the limit. */
    w->cap = (cfg->limit < COALESCE_STEPS + 1 ? cfg->limit : COALESCE_STEPS + 1) + 1;
    w->entries = calloc(w->cap, sizeof *w->entries);
    return w->entries ? 0 : UV_ENOMEM;
}

static void windows_free(struct window_log *ws, size_t n) {
    for (size_t i = 0; i < n; i++) free(ws[i].entries);
}

static int windows_init(struct window_log *ws, const struct limiter_window *cfgs, size_t n) {
    if (n > LIMITER_WINDOWS_MAX || (n && !cfgs)) return UV_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int rc = window_init(&ws[i], &cfgs[i]);
        if (rc < 0) {
            windows_free(ws, i);
            return rc;
        }
    }
    return 0;
}

static struct log_entry *entry_at(const struct window_log *w, uint32_t i) {
    return &w->entries[(w->head + i) % w->cap];
}

static void window_expire(struct window_log *w, int64_t now) {
    while (w->count && entry_at(w, 0)->t_ns + w->span_ns <= now) {
        w->used -= entry_at(w, 0)->units;
        w->head = (w->head + 1) % w->cap;
        w->count--;
    }
}

/* The earliest time >= now at which `units` more fit. */
static int64_t window_fit(struct window_log *w, int64_t now, uint32_t units) {
    window_expire(w, now);
    if (w->used + units <= w->cfg.limit) return now;
    uint64_t must_expire = w->used + units - w->cfg.limit, expired = 0;
    for (uint32_t i = 0; i < w->count; i++) {
        expired += entry_at(w, i)->units;
        if (expired >= must_expire) return entry_at(w, i)->t_ns + w->span_ns;
    }
    return NEVER; /* units > limit: refused at acquire */
}

static void window_charge(struct window_log *w, int64_t now, uint32_t units) {
    if (units == 0) return;
    window_expire(w, now);
    struct log_entry *last = w->count ? entry_at(w, w->count - 1) : NULL;
    if (last && (now - last->t_ns < w->coalesce_ns || w->count == w->cap)) {
        last->t_ns = now; /* later than the truth: the units count a little longer, never shorter */
        last->units += units;
    } else {
        *entry_at(w, w->count++) = (struct log_entry){now, units};
    }
    w->used += units;
}

static uint32_t window_used_at(const struct window_log *w, int64_t now) {
    uint64_t used = 0;
    for (uint32_t i = 0; i < w->count; i++)
        if (entry_at(w, i)->t_ns + w->span_ns > now) used += entry_at(w, i)->units;
    return (uint32_t)used;
}

/* The earliest time >= now at which cost fits every window; sets a bit in *failing per window that has no room. */
static int64_t windows_fit(struct window_log *ws, size_t n, int64_t now, const struct limiter_cost *cost,
                           uint32_t *failing) {
    int64_t t = now;
    for (size_t i = 0; i < n; i++) {
        uint32_t units = cost->units[ws[i].cfg.kind];
        if (units == 0) continue;
        int64_t fit = window_fit(&ws[i], now, units);
        if (fit > now) {
            *failing |= 1u << i;
            if (fit > t) t = fit;
        }
    }
    return t;
}

static void windows_charge(struct window_log *ws, size_t n, int64_t now, const struct limiter_cost *cost) {
    for (size_t i = 0; i < n; i++) window_charge(&ws[i], now, cost->units[ws[i].cfg.kind]);
}

static uint32_t windows_touched(const struct window_log *ws, size_t n, const struct limiter_cost *cost) {
    uint32_t mask = 0;
    for (size_t i = 0; i < n; i++)
        if (cost->units[ws[i].cfg.kind]) mask |= 1u << i;
    return mask;
}

static bool windows_could_fit(const struct window_log *ws, size_t n, const struct limiter_cost *cost) {
    for (size_t i = 0; i < n; i++)
        if (cost->units[ws[i].cfg.kind] > ws[i].cfg.limit) return false;
    return true;
}

/* ---- the round-robin ring ---- */

static struct limiter_client *client_of_turn(struct list_link *l) {
    return container_of(l, struct limiter_client, turn);
}

static struct list_link *turn_after(struct limiter *lim, struct list_link *l) {
    l = l->next;
    return l == &lim->active ? l->next : l;
}

static void active_add(struct limiter *lim, struct limiter_client *c) {
    /* Joins at the end of the current round: just before the client whose turn is next. */
    list_insert_before(lim->cursor ? lim->cursor : &lim->active, &c->turn);
    c->active = true;
    lim->n_active++;
}

static void active_remove(struct limiter *lim, struct limiter_client *c) {
    if (!c->active) return;
    if (lim->cursor == &c->turn) lim->cursor = lim->n_active > 1 ? turn_after(lim, &c->turn) : NULL;
    list_remove(&c->turn);
    c->active = false;
    lim->n_active--;
}

static struct limiter_request *head_request(struct limiter_client *c) {
    return container_of(c->queue.next, struct limiter_request, link);
}

/* ---- dispatch ---- */

static void on_timer(uv_timer_t *timer);

static void arm(struct limiter *lim, int64_t wake, int64_t now) {
    if (lim->closing) return;
    if (wake == NEVER) {
        uv_timer_stop(&lim->timer);
        return;
    }
    uint64_t delay_ms = wake > now ? (uint64_t)((wake - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
    uv_update_time(lim->loop); /* the timer counts from the loop's time: make it now */
    uv_timer_start(&lim->timer, on_timer, delay_ms, 0);
}

/* Lets the next loop turn dispatch; never dispatches here, so no callback runs inside the caller. */
static void kick(struct limiter *lim) {
    if (!lim->dispatching && !lim->closing) uv_timer_start(&lim->timer, on_timer, 0, 0);
}

static void resume_if_due(struct limiter *lim, int64_t now) {
    if (lim->paused_until_ns && now >= lim->paused_until_ns) {
        lim->paused_until_ns = 0;
        log_info("limiter", "source resumed", "source=%s", lim->name);
    }
}

struct scan {
    struct limiter_client *grant; /* whose head request fits now, or NULL */
    struct list_link *pin;     /* the first client held up by a source window */
    int64_t wake;                 /* the earliest time a held-up request may fit */
};

static void scan(struct limiter *lim, int64_t now, struct scan *r) {
    *r = (struct scan){NULL, NULL, NEVER};
    if (lim->paused_until_ns) {
        r->wake = lim->paused_until_ns;
        return;
    }
    uint32_t blocked = 0; /* source windows that a held-up client has first claim on */
    struct list_link *l = lim->cursor ? lim->cursor : lim->active.next;
    for (size_t i = 0; i < lim->n_active; i++, l = turn_after(lim, l)) {
        struct limiter_client *c = client_of_turn(l);
        const struct limiter_cost *cost = &head_request(c)->cost;
        if (windows_touched(lim->windows, lim->n_windows, cost) & blocked) continue;
        uint32_t failing = 0;
        int64_t t = windows_fit(lim->windows, lim->n_windows, now, cost, &failing);
        if (t > now) {
            blocked |= failing;
            if (!r->pin) r->pin = l;
        } else {
            t = windows_fit(c->windows, c->n_windows, now, cost, &failing);
            if (t == now) {
                r->grant = c;
                return;
            }
        }
        if (t < r->wake) r->wake = t;
    }
}

static void dispatch(struct limiter *lim) {
    lim->dispatching = true;
    while (!lim->closing) {
        int64_t now = clock_mono_ns();
        resume_if_due(lim, now);
        struct scan r;
        scan(lim, now, &r);
        if (!r.grant) {
            if (r.pin) lim->cursor = r.pin;
            arm(lim, r.wake, now);
            break;
        }
        struct limiter_client *c = r.grant;
        struct limiter_request *req = head_request(c);
        windows_charge(lim->windows, lim->n_windows, now, &req->cost);
        windows_charge(c->windows, c->n_windows, now, &req->cost);
        list_remove(&req->link);
        req->queued = false;
        lim->queued--;
        lim->granted++;
        lim->cursor = r.pin ? r.pin : turn_after(lim, &c->turn);
        if (list_empty(&c->queue)) active_remove(lim, c);
        req->cb(req, 0); /* may acquire, cancel, free clients or close: the next pass looks afresh */
    }
    lim->dispatching = false;
}

static void on_timer(uv_timer_t *timer) {
    struct limiter *lim = timer->data;
    lim->wakeups++;
    dispatch(lim);
}

/* ---- public ---- */

int limiter_new(uv_loop_t *loop, const struct limiter_config *cfg, struct limiter **out) {
    struct limiter *lim = calloc(1, sizeof *lim);
    if (!lim) return UV_ENOMEM;
    int rc = windows_init(lim->windows, cfg->windows, cfg->n_windows);
    if (rc < 0) goto fail_windows;
    lim->n_windows = cfg->n_windows;
    rc = uv_timer_init(loop, &lim->timer);
    if (rc < 0) goto fail_timer;
    lim->timer.data = lim;
    lim->loop = loop;
    snprintf(lim->name, sizeof lim->name, "%s", cfg->name ? cfg->name : "");
    lim->floor_429_ms = cfg->pause_floor_429_ms ? cfg->pause_floor_429_ms : DEFAULT_FLOOR_429_MS;
    lim->floor_418_ms = cfg->pause_floor_418_ms ? cfg->pause_floor_418_ms : DEFAULT_FLOOR_418_MS;
    lim->max_pause_ms = cfg->max_pause_ms ? cfg->max_pause_ms : LIMITER_MAX_PAUSE_MS;
    list_init(&lim->active);
    list_init(&lim->clients);
    list_init(&lim->doomed);
    *out = lim;
    return 0;

fail_timer:
    windows_free(lim->windows, cfg->n_windows);
fail_windows:
    free(lim);
    return rc;
}

static void on_closed(uv_handle_t *handle) {
    struct limiter *lim = handle->data;
    while (!list_empty(&lim->doomed)) {
        struct limiter_request *req = container_of(lim->doomed.next, struct limiter_request, link);
        list_remove(&req->link);
        req->queued = false;
        req->cb(req, UV_ECANCELED);
    }
    if (lim->close_cb) lim->close_cb(lim->close_arg);
    windows_free(lim->windows, lim->n_windows);
    free(lim);
}

void limiter_close(struct limiter *lim, void (*cb)(void *arg), void *arg) {
    if (lim->closing) return;
    lim->closing = true;
    lim->close_cb = cb;
    lim->close_arg = arg;
    while (!list_empty(&lim->clients)) {
        struct limiter_client *c = container_of(lim->clients.next, struct limiter_client, sibling);
        while (!list_empty(&c->queue)) {
            struct limiter_request *req = head_request(c);
            list_remove(&req->link);
            req->client = NULL;
            list_insert_before(&lim->doomed, &req->link);
        }
        active_remove(lim, c);
        list_remove(&c->sibling);
        c->lim = NULL;
    }
    lim->queued = 0;
    uv_timer_stop(&lim->timer);
    uv_close((uv_handle_t *)&lim->timer, on_closed);
}

int limiter_client_new(struct limiter *lim, const char *name, const struct limiter_window *windows, size_t n_windows,
                       struct limiter_client **out) {
    if (lim->closing) return UV_ECANCELED;
    struct limiter_client *c = calloc(1, sizeof *c);
    if (!c) return UV_ENOMEM;
    int rc = windows_init(c->windows, windows, n_windows);
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->n_windows = n_windows;
    c->lim = lim;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    list_init(&c->queue);
    list_init(&c->turn);
    list_insert_before(&lim->clients, &c->sibling);
    *out = c;
    return 0;
}

void limiter_client_free(struct limiter_client *c) {
    if (!c) return;
    struct limiter *lim = c->lim;
    while (!list_empty(&c->queue)) {
        struct limiter_request *req = head_request(c);
        list_remove(&req->link);
        req->queued = false;
        req->client = NULL;
        if (lim) lim->queued--;
    }
    if (lim) {
        active_remove(lim, c);
        list_remove(&c->sibling);
    }
    windows_free(c->windows, c->n_windows);
    free(c);
}

int limiter_acquire(struct limiter_client *c, struct limiter_request *req, const struct limiter_cost *cost,
                    limiter_cb cb) {
    struct limiter *lim = c->lim;
    if (!lim || lim->closing) return UV_ECANCELED;
    if (req->queued) return UV_EBUSY;
    if (!windows_could_fit(lim->windows, lim->n_windows, cost) || !windows_could_fit(c->windows, c->n_windows, cost))
        return UV_E2BIG;
    req->client = c;
    req->cost = *cost;
    req->cb = cb;
    req->queued = true;
    list_insert_before(&c->queue, &req->link);
    if (!c->active) active_add(lim, c);
    lim->queued++;
    kick(lim);
    return 0;
}

int limiter_cancel(struct limiter_request *req) {
    if (!req->queued) return UV_ENOENT;
    list_remove(&req->link);
    req->queued = false;
    struct limiter_client *c = req->client;
    req->client = NULL;
    if (c && c->lim) { /* else it sat in the closed limiter's doomed list */
        c->lim->queued--;
        if (list_empty(&c->queue)) active_remove(c->lim, c);
    }
    return 0;
}

int limiter_observe_used(struct limiter *lim, size_t window, uint32_t used) {
    if (window >= lim->n_windows) return UV_EINVAL;
    struct window_log *w = &lim->windows[window];
    int64_t now = clock_mono_ns();
    window_expire(w, now);
    if (used > w->cfg.limit) used = w->cfg.limit;
    if (used > w->used) window_charge(w, now, (uint32_t)(used - w->used));
    return 0;
}

/* Formats a monotonic time as the wall-clock time it will be, for the log. */
static void format_wall(int64_t mono_ns, char *buf, size_t len) {
    int64_t wall_ms = clock_wall_us() / 1000 + (mono_ns - clock_mono_ns()) / NS_PER_MS;
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", date, (int)(wall_ms % 1000));
}

/* Pauses for asked_ms from now_ms, at most max_pause; returns the end (ms) actually applied. */
static int64_t pause_for(struct limiter *lim, int64_t now_ms, int64_t asked_ms, const char *reason) {
    int64_t for_ms = asked_ms < lim->max_pause_ms ? asked_ms : lim->max_pause_ms;
    int64_t until_ms = now_ms + for_ms, until = until_ms * NS_PER_MS, now = clock_mono_ns();
    if (for_ms <= 0 || until <= now || until <= lim->paused_until_ns) return until_ms; /* said already */
    lim->paused_until_ns = until;
    lim->pauses++;
    char end[40];
    format_wall(until, end, sizeof end);
    int64_t paused_ms = (until - now) / NS_PER_MS;
    if (for_ms < asked_ms)
        log_warn("limiter", "source paused",
                 "source=%s reason=%s until=%s for_ms=%" PRId64 " asked_ms=%" PRId64 " max_pause_ms=%" PRIu32,
                 lim->name, reason ? reason : "", end, paused_ms, asked_ms, lim->max_pause_ms);
    else
        log_warn("limiter", "source paused", "source=%s reason=%s until=%s for_ms=%" PRId64, lim->name,
                 reason ? reason : "", end, paused_ms);
    kick(lim);
    return until_ms;
}

void limiter_pause(struct limiter *lim, int64_t until_ms, const char *reason) {
    int64_t now_ms = clock_mono_ms();
    if (until_ms > now_ms) pause_for(lim, now_ms, until_ms - now_ms, reason);
}

int64_t limiter_pause_http(struct limiter *lim, int http_status, int64_t retry_after_ms) {
    const char *reason;
    uint32_t floor_ms;
    if (http_status == 429) reason = "http 429 too many requests", floor_ms = lim->floor_429_ms;
    else if (http_status == 418) reason = "http 418 banned", floor_ms = lim->floor_418_ms;
    else return 0;
    return pause_for(lim, clock_mono_ms(), retry_after_ms >= 0 ? retry_after_ms : floor_ms, reason);
}

void limiter_status_get(const struct limiter *lim, struct limiter_status *out) {
    memset(out, 0, sizeof *out);
    int64_t now = clock_mono_ns();
    for (size_t i = 0; i < lim->n_windows; i++) {
        const struct window_log *w = &lim->windows[i];
        out->windows[i] = (struct limiter_window_status){w->cfg.kind, window_used_at(w, now), w->cfg.limit,
                                                         w->cfg.period_ms};
    }
    out->n_windows = lim->n_windows;
    out->queued = lim->queued;
    out->paused_until_ms = lim->paused_until_ns > now ? lim->paused_until_ns / NS_PER_MS : 0;
    out->granted = lim->granted;
    out->pauses = lim->pauses;
    out->wakeups = lim->wakeups;
}
