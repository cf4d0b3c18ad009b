/* limiter.h -- the rate limiter of one source (an exchange account or IP), on the ingest loop.
 *
 * The daemon owns one limiter per [[source]] and keeps it across group restarts; tasks only hold CLIENTS of
 * it (one per poller or per websocket connection) and queue REQUESTS through them. A request carries a cost
 * in units of each kind (weight, requests, connects, messages); every window of that kind is charged.
 *
 * Windows are sliding-window logs: a grant at time g is allowed only when the units granted in the last
 * period + margin, plus its own, stay within the limit. Any fixed window of the server (Binance counts per
 * clock minute) is contained in such an interval, so it is never exceeded either; the margin covers the
 * jitter between granting here and arriving there. Grants closer than period/1024 share one log entry
 * stamped with the later time, which keeps memory bounded and only errs on the safe side.
 *
 * Requests wait; they are never dropped and nothing spins: one uv_timer is armed for the next moment a
 * request can go. Clients are served round-robin. A request held up by a source window pins the turn: later
 * clients may not use that window before it, so a heavy request is not starved by light ones, while requests
 * of other kinds (a connect while the weight window is full) go on. A client's own windows (Binance: 5
 * messages per second per connection) hold up only that client. Grant callbacks run from the loop, never
 * inside limiter_acquire(). Inside any callback it is safe to acquire, cancel, free a client or close.
 *
 * The server is the authority: limiter_observe_used() raises the local count to the server's header,
 * limiter_pause() stops the whole source until a time (429 / 418 with Retry-After, or a floor), logged once
 * with its end; a later pause logs again only when it extends the end. No pause lasts longer than max_pause,
 * whatever the server asks (a Retry-After of 9000000000 would otherwise stop the source for 285 years): the
 * log line then says what was asked and what is applied.
 *
 * Times are milliseconds of the monotonic clock, clock_mono_ms() (clock.h). Errors are negative UV_E*. */
#ifndef TICKD_LIMITER_H
#define TICKD_LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tickd/list.h"

#define LIMITER_WINDOWS_MAX 8

enum limiter_kind {
    LIMITER_WEIGHT = 0,  /* request weight (Binance REQUEST_WEIGHT) */
    LIMITER_REQUEST = 1, /* HTTP requests */
    LIMITER_CONNECT = 2, /* new websocket connections */
    LIMITER_MESSAGE = 3, /* client websocket messages (subscribe, pong, ping) */
    LIMITER_KIND_COUNT
};

struct limiter_window {
    enum limiter_kind kind;
    uint32_t limit;     /* units per period, >= 1 */
    uint32_t period_ms; /* >= 1 */
    uint32_t margin_ms; /* added to the period: the send jitter to tolerate */
};

struct limiter_config {
    const char *name; /* the source, for logs */
    const struct limiter_window *windows;
    size_t n_windows; /* at most LIMITER_WINDOWS_MAX */
    uint32_t pause_floor_429_ms; /* pause after a 429 without Retry-After; 0 = 1000 */
    uint32_t pause_floor_418_ms; /* after a 418 (ban) without Retry-After; 0 = 120000 */
    uint32_t max_pause_ms;       /* the longest pause, floors included; 0 = LIMITER_MAX_PAUSE_MS */
};

#define LIMITER_MAX_PAUSE_MS 300000

struct limiter_cost {
    uint32_t units[LIMITER_KIND_COUNT];
};

struct limiter;
struct limiter_client;
struct limiter_request;

/* status: 0 = granted (go now), UV_ECANCELED = the limiter closed first. */
typedef void (*limiter_cb)(struct limiter_request *req, int status);

/* Owned by the caller, zeroed before its first use, and kept alive while it is queued (until its callback or
 * limiter_cancel()). It can be queued again from its own callback. */
struct limiter_request {
    void *data; /* the caller's */
    /* private */
    struct list_link link;
    struct limiter_client *client;
    struct limiter_cost cost;
    limiter_cb cb;
    bool queued;
};

struct limiter_window_status {
    enum limiter_kind kind;
    uint32_t used, limit, period_ms; /* used: units counted in the current sliding window */
};

struct limiter_status {
    struct limiter_window_status windows[LIMITER_WINDOWS_MAX];
    size_t n_windows;
    size_t queued;             /* requests waiting */
    int64_t paused_until_ms;   /* 0 when not paused */
    uint64_t granted, pauses;  /* totals since creation */
    uint64_t wakeups;          /* timer callbacks: about one per grant burst, never a spin */
};

/* Creates a limiter on loop. Returns 0, UV_EINVAL (a bad window) or UV_ENOMEM. */
int limiter_new(uv_loop_t *loop, const struct limiter_config *cfg, struct limiter **out);

/* Fails every queued request with UV_ECANCELED, closes the timer, then calls cb (may be NULL) and frees the
 * limiter. Clients still alive are detached: their owner still calls limiter_client_free(). */
void limiter_close(struct limiter *lim, void (*closed)(void *arg), void *arg);

/* A client: one requester in the round-robin (a poller, a websocket connection). Its own windows (may be
 * none) limit it alone, e.g. {LIMITER_MESSAGE, 5, 1000} per Binance connection. */
int limiter_client_new(struct limiter *lim, const char *name, const struct limiter_window *windows, size_t n_windows,
                       struct limiter_client **out);
/* Drops the client's queued requests without calling them back, and frees it. */
void limiter_client_free(struct limiter_client *client);

/* Queues req; cb runs from the loop once every window has room. Returns 0, UV_EBUSY (req already queued),
 * UV_E2BIG (the cost exceeds a window's limit: it could never go) or UV_ECANCELED (limiter closing). */
int limiter_acquire(struct limiter_client *client, struct limiter_request *req, const struct limiter_cost *cost,
                    limiter_cb cb);
/* Removes a queued request; its callback will not run. Returns 0, or UV_ENOENT when it was not queued. */
int limiter_cancel(struct limiter_request *req);

/* The server counts `used` units in window number `window` (the order of cfg->windows): raise the local count
 * to it. A lower figure is ignored (the local count is the safe one). Returns 0 or UV_EINVAL. */
int limiter_observe_used(struct limiter *lim, size_t window, uint32_t used);

/* Pauses every grant until until_ms (at most max_pause from now); logs once per extension. */
void limiter_pause(struct limiter *lim, int64_t until_ms, const char *reason);
/* For an HTTP answer: 429 or 418 pauses for retry_after_ms, or the configured floor when retry_after_ms < 0
 * (no header), at most max_pause; other statuses do nothing. Returns the pause end, or 0. */
int64_t limiter_pause_http(struct limiter *lim, int http_status, int64_t retry_after_ms);

void limiter_status_get(const struct limiter *lim, struct limiter_status *out);

#endif
