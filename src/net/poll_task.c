/* poll_task.c -- one HTTP poller (see source.h).
 *
 * A cycle issues every request of the venue's plan; each request waits its turn in the source's limiter, goes
 * out through the shared curl multi, and its answer is parsed into ticks stamped with the moment the request
 * left (the merge orders REST answers by it). One timer drives everything: the next cycle, or an earlier
 * retry of a request that failed transiently. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/clock.h"
#include "tickd/http.h"
#include "tickd/log.h"
#include "tickd/source.h"
#include "tickd/task.h"

#define POLL_PLAN_MIN 64 /* requests a plan may have: this many, or one per symbol (Coinbase, trades) */
#define RETRY_BACKOFF_MIN_MS 100
#define TRADES_PER_ANSWER_MAX 1000 /* the most recent trades a venue's endpoint gives at once (Binance's limit) */

struct poll;

struct poll_request {
    struct poll *poll;
    struct venue_request plan;
    struct limiter_request lreq;
    struct http_request *http;  /* in flight, or NULL */
    int64_t due_ms;             /* monotonic time of the next attempt; INT64_MAX when waiting for the cycle */
    unsigned failures;          /* consecutive */
    int queued;                 /* waiting in the limiter */
    bool missed;                /* a cycle came while this request was still busy */
};

struct poll {
    struct task *task;
    const struct poll_args *args;
    uv_timer_t timer;
    struct limiter_client *client;
    struct poll_request *reqs; /* the plan's requests */
    size_t nreqs;
    int64_t next_cycle_ms;
    struct tick *ticks; /* one slot per configured symbol: an answer never holds more we keep */
    struct trade *trades; /* a trades channel's answers: TRADES_PER_ANSWER_MAX slots */
    const char *wanted_headers[2]; /* the venue's used-weight header, when it sends one and a window counts it */
    bool released;
};

static void arm_timer(struct poll *p);
static void issue(struct poll_request *r);

/* Stops everything in flight; safe to call twice. After this no callback of ours can run. */
static void poll_release(struct poll *p) {
    if (p->released) return;
    p->released = true;
    for (size_t i = 0; i < p->nreqs; i++) {
        struct poll_request *r = &p->reqs[i];
        if (r->queued) limiter_cancel(&r->lreq);
        r->queued = 0;
        if (r->http) http_cancel(r->http);
        r->http = NULL;
    }
    if (p->client) limiter_client_free(p->client);
    p->client = NULL;
}

static void poll_fail(struct poll *p, int status, const char *cause) {
    poll_release(p);
    task_done(p->task, status, cause);
}

static int64_t parse_retry_after_ms(const char *v) { return http_retry_after_ms(v, clock_wall_us() / 1000); }

/* A figure above what 32 bits hold is above any limit: the limiter takes it as the window full. */
void source_observe_headers(struct source *src, const struct http_response *res) {
    const char *name = src->venue->defaults.used_weight_header;
    if (src->weight_window < 0 || !name) return;
    for (size_t i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, name) != 0) continue;
        uint64_t used;
        int rc = http_parse_uint(res->headers[i].value, &used);
        if (rc == 0 || rc == -ERANGE)
            limiter_observe_used(src->limiter, (size_t)src->weight_window,
                                 used > UINT32_MAX ? UINT32_MAX : (uint32_t)used);
    }
}

static void request_failed(struct poll_request *r, const char *what) {
    struct poll *p = r->poll;
    p->args->source->counters.http_failures++;
    unsigned budget = p->args->retry_budget ? p->args->retry_budget : 5;
    if (++r->failures >= budget) {
        char cause[160];
        snprintf(cause, sizeof cause, "retry budget spent: %s", what);
        poll_fail(p, -EIO, cause);
        return;
    }
    uint64_t backoff = (uint64_t)RETRY_BACKOFF_MIN_MS << (r->failures - 1);
    if (backoff > p->args->interval_ms) backoff = p->args->interval_ms;
    r->due_ms = clock_mono_ms() + (int64_t)backoff;
    log_debug("poll", "request retry", TASK_LOG_FMT " failures=%u backoff_ms=%llu cause=%s", TASK_LOG_ARGS(p->task),
              r->failures, (unsigned long long)backoff, what);
    arm_timer(p);
}

/* A request that was still waiting or in flight when its cycle came asks again at once rather than one
 * interval later. This also keeps the limiter fair: requests rejoin its round-robin in the order they were
 * answered (about the order they were granted), not in the order of the tasks' timer phases, which would let
 * the same tasks go first every round while the others share what is left. */
static void catch_up(struct poll_request *r) {
    if (!r->missed) return;
    r->missed = false;
    issue(r);
}

static void on_answer(struct http_request *req, const struct http_response *res, void *arg) {
    (void)req;
    struct poll_request *r = arg;
    struct poll *p = r->poll;
    struct source *src = p->args->source;
    r->http = NULL;
    if (res->error == HTTP_ECANCELLED || p->released) return;
    if (res->error) {
        request_failed(r, res->error_text && *res->error_text ? res->error_text : http_error_name(res->error));
        return;
    }
    src->counters.frames++;
    source_observe_headers(src, res);
    if (res->status == 429 || res->status == 418) {
        src->counters.rate_limited++;
        limiter_pause_http(src->limiter, (int)res->status, parse_retry_after_ms(res->retry_after));
        r->due_ms = INT64_MAX; /* asked again by the next cycle, granted after the pause */
        catch_up(r);
        return;
    }
    struct venue_out out;
    venue_out_init(&out, p->ticks, p->args->symbols->n, clock_wall_us(), res->sent_us);
    if (p->trades) venue_out_trades(&out, p->trades, TRADES_PER_ANSWER_MAX);
    enum venue_msg kind = p->args->channel->rest_parse(&r->plan, (int)res->status, res->body, res->body_len,
                                                       p->args->symbols, &out);
    switch (kind) {
    case VENUE_MSG_TICKS:
        r->failures = 0;
        r->due_ms = INT64_MAX;
        src->counters.ticks += out.n;
        src->counters.trades += out.n_trades;
        if (out.n) src->sink.emit(src->sink.arg, p->ticks, out.n);
        if (out.n_trades && src->sink.emit_trades) src->sink.emit_trades(src->sink.arg, p->trades, out.n_trades);
        task_ready(p->task);
        source_works(src);
        catch_up(r);
        return;
    case VENUE_MSG_RATE_LIMITED:
        src->counters.rate_limited++;
        limiter_pause_http(src->limiter, 429, parse_retry_after_ms(res->retry_after));
        r->due_ms = INT64_MAX;
        catch_up(r);
        return;
    case VENUE_MSG_UNAVAILABLE:
        request_failed(r, "venue unavailable");
        return;
    case VENUE_MSG_ERROR:
        src->counters.venue_errors++;
        log_warn("poll", "venue error", TASK_LOG_FMT " status=%ld detail=%s",
                 TASK_LOG_ARGS(p->task), res->status, out.detail);
        request_failed(r, out.detail[0] ? out.detail : "venue error");
        return;
    default:
        src->counters.malformed++;
        log_warn("poll", "malformed answer", TASK_LOG_FMT " status=%ld bytes=%zu", TASK_LOG_ARGS(p->task), res->status,
                 res->body_len);
        request_failed(r, "malformed answer");
        return;
    }
}

static void on_granted(struct limiter_request *lreq, int status) {
    struct poll_request *r = lreq->data;
    struct poll *p = r->poll;
    r->queued = 0;
    if (status < 0 || p->released) return;
    struct source *src = p->args->source;
    char url[sizeof src->rest_url + VENUE_PATH_MAX];
    snprintf(url, sizeof url, "%s%s", src->rest_url, r->plan.path);
    uint64_t timeout = p->args->request_timeout_ms;
    if (!timeout) timeout = p->args->interval_ms < 10000 ? p->args->interval_ms : 10000;
    if (timeout < 1000) timeout = 1000;
    struct http_opts o = {.timeout_ms = (uint32_t)timeout, .want_headers = p->wanted_headers};
    int err = 0;
    src->counters.requests++;
    r->http = http_get(src->http, url, NULL, &o, on_answer, r, &err);
    if (!r->http) request_failed(r, http_error_name(err));
}

static void issue(struct poll_request *r) {
    struct poll *p = r->poll;
    if (r->queued || r->http) { /* still busy with the previous attempt */
        r->missed = true;
        return;
    }
    r->missed = false;
    struct limiter_cost cost = {{0}};
    cost.units[LIMITER_WEIGHT] = r->plan.weight;
    cost.units[LIMITER_REQUEST] = 1;
    r->lreq.data = r;
    r->due_ms = INT64_MAX;
    int rc = limiter_acquire(p->client, &r->lreq, &cost, on_granted);
    if (rc == 0) {
        r->queued = 1;
    } else {
        char cause[96];
        snprintf(cause, sizeof cause, "limiter refused the request: %s", uv_strerror(rc));
        poll_fail(p, rc == UV_E2BIG ? -E2BIG : -ECANCELED, cause);
    }
}

static void on_timer(uv_timer_t *t) {
    struct poll *p = task_state(t->data);
    int64_t now = clock_mono_ms();
    bool cycle = now >= p->next_cycle_ms;
    if (cycle) p->next_cycle_ms = now + (int64_t)p->args->interval_ms;
    for (size_t i = 0; i < p->nreqs && !p->released; i++)
        if (cycle || p->reqs[i].due_ms <= now) issue(&p->reqs[i]);
    if (!p->released) arm_timer(p);
}

static void arm_timer(struct poll *p) {
    int64_t next = p->next_cycle_ms;
    for (size_t i = 0; i < p->nreqs; i++)
        if (p->reqs[i].due_ms < next) next = p->reqs[i].due_ms;
    int64_t delay = next - clock_mono_ms();
    uv_timer_start(&p->timer, on_timer, delay > 0 ? (uint64_t)delay : 0, 0);
}

static int poll_start(struct task *t) {
    struct poll *p = task_state(t);
    p->task = t;
    p->args = task_arg(t);
    const struct poll_args *a = p->args;
    if (!a->interval_ms) return -EINVAL;
    size_t cap = a->symbols->n > POLL_PLAN_MIN ? a->symbols->n : POLL_PLAN_MIN;
    struct venue_request *plan = calloc(cap, sizeof *plan);
    if (!plan) return -ENOMEM;
    int n = a->channel->rest_plan(a->symbols, plan, cap);
    if (n > 0 && !(p->reqs = calloc((size_t)n, sizeof *p->reqs))) n = -ENOMEM;
    for (int i = 0; i < n; i++) p->reqs[i] = (struct poll_request){.poll = p, .plan = plan[i], .due_ms = INT64_MAX};
    free(plan);
    if (n <= 0) return n < 0 ? n : -EINVAL;
    p->nreqs = (size_t)n;
    if (!(p->ticks = calloc(a->symbols->n, sizeof *p->ticks))) return -ENOMEM;
    if (a->channel->kind == VENUE_EVENT_TRADE && !(p->trades = calloc(TRADES_PER_ANSWER_MAX, sizeof *p->trades)))
        return -ENOMEM;
    if (a->source->weight_window >= 0) p->wanted_headers[0] = a->source->venue->defaults.used_weight_header;
    int rc = limiter_client_new(a->source->limiter, task_name(t), NULL, 0, &p->client);
    if (rc < 0) return rc;
    if ((rc = uv_timer_init(task_loop(t), &p->timer)) < 0) return rc;
    p->timer.data = t;
    task_own(t, (uv_handle_t *)&p->timer, NULL);
    p->next_cycle_ms = clock_mono_ms();
    uv_timer_start(&p->timer, on_timer, 0, 0);
    return 0;
}

static void poll_cancel(struct task *t) { poll_fail(task_state(t), -ECANCELED, "cancelled"); }

static void poll_destroy(struct task *t) {
    struct poll *p = task_state(t);
    poll_release(p);
    free(p->ticks);
    free(p->trades);
    free(p->reqs);
}

const struct task_ops poll_task_ops = {
    .state_size = sizeof(struct poll),
    .start = poll_start,
    .cancel = poll_cancel,
    .destroy = poll_destroy,
};
