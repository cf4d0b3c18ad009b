/* catalog.c -- a source's instrument list, loaded and refreshed through its limiter (catalog.h). */
#include "tickd/catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/clock.h"
#include "tickd/http.h"
#include "tickd/log.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 60000 /* a failing load is tried at least this often, whatever the refresh period */
#define LOAD_TIMEOUT_MS 30000 /* an answer of megabytes (Binance's exchangeInfo) takes longer than a ticker's */

struct catalog {
    struct source *src;
    const struct venue_instruments *vi;
    struct catalog_hooks hooks;
    uint64_t refresh_ms;
    uv_timer_t timer;
    struct limiter_client *client;
    struct limiter_request lreq;
    bool queued;
    struct http_request *http;
    struct instrument_list list, next; /* the list held; the answer being read */
    bool have_list;
    unsigned failures; /* in a row */
    struct catalog_stats stats;
    const char *wanted_headers[2];
};

static void load(uv_timer_t *t);

static void schedule(struct catalog *c, uint64_t ms) { uv_timer_start(&c->timer, load, ms, 0); }

static void failed(struct catalog *c, const char *why) {
    c->failures++;
    c->stats.failures++;
    c->stats.failing = true;
    uint64_t backoff = (uint64_t)RETRY_MIN_MS << (c->failures < 7 ? c->failures - 1 : 6);
    uint64_t ceiling = c->refresh_ms && c->refresh_ms < RETRY_MAX_MS ? c->refresh_ms : RETRY_MAX_MS;
    if (backoff > ceiling) backoff = ceiling;
    log_warn("instruments", c->have_list ? "cannot load the instrument list: the last good one stays"
                                         : "cannot load the instrument list: patterns wait for it",
             "source=%s cause=\"%s\" failures=%u retry_in_ms=%llu", c->src->name, why, c->failures,
             (unsigned long long)backoff);
    schedule(c, backoff);
}

static void on_answer(struct http_request *http, const struct http_response *res, void *arg) {
    (void)http;
    struct catalog *c = arg;
    c->http = NULL;
    if (res->error == HTTP_ECANCELLED) return;
    struct source *src = c->src;
    src->counters.frames++;
    source_observe_headers(src, res);
    if (res->error) {
        src->counters.http_failures++;
        failed(c, res->error_text && *res->error_text ? res->error_text : http_error_name(res->error));
        return;
    }
    char detail[VENUE_DETAIL_MAX] = "";
    enum venue_msg kind = c->vi->parse((int)res->status, res->body, res->body_len, &c->next, detail);
    if (kind == VENUE_MSG_RATE_LIMITED) {
        src->counters.rate_limited++;
        limiter_pause_http(src->limiter, res->status == 418 ? 418 : 429,
                           http_retry_after_ms(res->retry_after, clock_wall_us() / 1000));
    }
    if (kind != VENUE_MSG_TICKS) {
        if (kind == VENUE_MSG_MALFORMED) src->counters.malformed++;
        else if (kind == VENUE_MSG_ERROR) src->counters.venue_errors++;
        else if (kind == VENUE_MSG_UNAVAILABLE) src->counters.http_failures++;
        char why[VENUE_DETAIL_MAX + 48];
        snprintf(why, sizeof why, "%s%s%s (HTTP %ld)", venue_msg_name(kind), detail[0] ? ": " : "", detail,
                 res->status);
        failed(c, why);
        return;
    }
    source_works(src);
    bool first = !c->have_list;
    c->failures = 0;
    c->stats.loads++;
    c->stats.failing = false;
    c->stats.loaded_ms = clock_mono_ms();
    c->stats.instruments = c->next.n;
    if (first) log_info("instruments", "instrument list loaded", "source=%s instruments=%zu skipped=%zu",
                        src->name, c->next.n, c->next.skipped);
    bool changed = first || instrument_list_diff(&c->list, &c->next, NULL, NULL, NULL) > 0;
    instrument_list_swap(&c->list, &c->next); /* next now holds the list replaced */
    c->have_list = true;
    if (changed && c->hooks.on_list) c->hooks.on_list(c->hooks.arg, &c->next, &c->list);
    instrument_list_free(&c->next); /* a list of 50k is 10 MB: not kept between loads */
    if (c->refresh_ms) schedule(c, c->refresh_ms);
}

static void on_granted(struct limiter_request *req, int status) {
    struct catalog *c = req->data;
    c->queued = false;
    if (status < 0) return; /* cancelled */
    struct source *src = c->src;
    char url[sizeof src->rest_url + VENUE_PATH_MAX];
    snprintf(url, sizeof url, "%s%s", src->rest_url, c->vi->path);
    struct http_opts o = {.timeout_ms = c->vi->timeout_ms ? c->vi->timeout_ms : LOAD_TIMEOUT_MS,
                          .max_body = c->vi->max_body, .want_headers = c->wanted_headers, .no_reuse = true};
    int err = 0;
    src->counters.requests++;
    c->http = http_get(src->http, url, NULL, &o, on_answer, c, &err);
    if (!c->http) failed(c, http_error_name(err));
}

static void load(uv_timer_t *t) {
    struct catalog *c = t->data;
    if (c->queued || c->http) return;
    struct limiter_cost cost = {{0}};
    cost.units[LIMITER_WEIGHT] = c->vi->weight;
    cost.units[LIMITER_REQUEST] = 1;
    c->lreq.data = c;
    int rc = limiter_acquire(c->client, &c->lreq, &cost, on_granted);
    if (rc < 0) {
        failed(c, "the limiter refused the request");
        return;
    }
    c->queued = true;
}

int catalog_new(uv_loop_t *loop, struct source *src, uint64_t refresh_ms, const struct catalog_hooks *hooks,
                struct catalog **out) {
    if (!src->venue || !src->venue->instruments) return -ENOTSUP;
    struct catalog *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    c->src = src;
    c->vi = src->venue->instruments;
    c->hooks = *hooks;
    c->refresh_ms = refresh_ms;
    instrument_list_init(&c->list);
    instrument_list_init(&c->next);
    if (src->weight_window >= 0) c->wanted_headers[0] = src->venue->defaults.used_weight_header;
    char name[96];
    snprintf(name, sizeof name, "%s/instruments", src->name);
    int rc = limiter_client_new(src->limiter, name, NULL, 0, &c->client);
    if (rc < 0) {
        free(c);
        return rc;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    schedule(c, 0);
    *out = c;
    return 0;
}

static void on_timer_closed(uv_handle_t *h) {
    struct catalog *c = h->data;
    instrument_list_free(&c->list);
    instrument_list_free(&c->next);
    free(c);
}

void catalog_free(struct catalog *c) {
    if (!c) return;
    if (c->queued) limiter_cancel(&c->lreq);
    if (c->http) http_cancel(c->http);
    c->http = NULL;
    limiter_client_free(c->client);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

const struct instrument_list *catalog_list(const struct catalog *c) { return c && c->have_list ? &c->list : NULL; }

void catalog_stats(const struct catalog *c, struct catalog_stats *out) { *out = c->stats; }
