/* http.h -- the HTTP client of the ingest loop: libcurl multi driven by libuv (one uv_poll_t per socket, one timer).
 *
 * One `struct http_client` per loop. All its requests share one curl multi handle, so connections are reused
 * (HTTP/1.1 keep-alive; HTTP/2 over TLS when the server offers it, with streams multiplexed on one connection).
 * Finished requests are kept on a free list with their easy handle and body buffer, so a steady poll rate does not
 * allocate per request.
 *
 *     struct http_client *c = http_client_new(loop);
 *     static const char *const want[] = {"X-MBX-USED-WEIGHT-1M", NULL};
 *     struct http_opts o = {.timeout_ms = 5000, .want_headers = want};
 *     struct http_request *r = http_get(c, "https://api.binance.com/api/v3/ticker/bookTicker", NULL, &o, done, task);
 *     ...
 *     http_client_close(c, closed, arg);      // then let uv_run return; uv_loop_close() == 0
 *
 * Callbacks run on the loop, never from inside http_get. Errors are values: `res->error` is 0 or an HTTP_E* code;
 * an HTTP error status (429, 5xx) is NOT an error here -- `res->status` tells, and the caller decides. */
#ifndef TICKD_HTTP_H
#define TICKD_HTTP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_client;
struct http_request;

/* Errors are negative errno values, as everywhere in tickd (and libuv): the names say what each means here. */
enum http_error {
    HTTP_OK = 0,
    HTTP_ECONNECT = -ECONNREFUSED, /* resolve, connect or TLS handshake failed */
    HTTP_ETIMEDOUT = -ETIMEDOUT,   /* connect timeout or whole-request timeout */
    HTTP_ETOOLARGE = -EMSGSIZE,    /* body longer than opts.max_body */
    HTTP_ECANCELLED = -ECANCELED,  /* only from http_client_close (http_cancel runs no callback) */
    HTTP_ETRANSFER = -EPROTO,      /* connection lost, malformed response, other transfer errors */
    HTTP_ENOMEM = -ENOMEM,
    HTTP_EINVAL = -EINVAL,         /* bad URL or arguments */
    HTTP_ECLOSING = -ESHUTDOWN,    /* the client is closing: no new requests */
};

/* A short name for an HTTP_E* code ("connect", "timeout", ...), for log lines; "unknown" for any other value. */
const char *http_error_name(int error);

struct http_opts {
    uint32_t connect_timeout_ms; /* 0: 5000 */
    uint32_t timeout_ms;         /* whole request, connect included; 0: 10000 */
    size_t max_body;             /* 0: 4 MiB */
    /* Response headers to capture besides Retry-After (which always is), case-insensitive, NULL-terminated.
     * The array must stay valid until the request is done (a static array is the usual case). */
    const char *const *want_headers;
    /* The connection is closed after this answer instead of kept for the next request: for a request made every
     * few minutes (an instrument list), whose connection would only idle meanwhile. */
    bool no_reuse;
};

#define HTTP_MAX_HEADERS 8

struct http_header {
    const char *name;  /* as the caller spelled it in want_headers ("Retry-After" for the built-in one) */
    const char *value; /* trimmed */
};

/* Everything the callback gets. Pointers are valid only during the callback. */
struct http_response {
    int error;           /* 0 or enum http_error */
    long status;         /* HTTP status of the last response, 0 when none arrived */
    const char *body;    /* NUL-terminated for convenience; body_len excludes the NUL */
    size_t body_len;
    const char *error_text; /* curl's explanation when error != 0, else "" */
    const char *retry_after; /* raw Retry-After value or NULL */
    const struct http_header *headers; /* captured headers: Retry-After and want_headers that were present */
    size_t nheaders;
    /* Wall clock, microseconds since the epoch. started_us: curl took the request. sent_us: the request left
     * (started_us + curl's pretransfer time) -- an answer describes the market no earlier than this moment, which
     * is what the merge rule orders REST answers by. */
    int64_t started_us;
    int64_t sent_us;
    /* Durations from started_us, microseconds (0 when the phase was not reached). */
    int64_t connect_us, first_byte_us, total_us;
    int reused_connection; /* 1 when no new connection was opened for this request */
    long http_version;     /* 11 or 20 (HTTP/1.1, HTTP/2), 0 when unknown */
};

typedef void (*http_done_cb)(struct http_request *req, const struct http_response *res, void *arg);

/* Returns NULL on allocation or curl initialisation failure (logged). */
struct http_client *http_client_new(uv_loop_t *loop);

/* A client whose https:// requests trust only the CA(s) in the PEM file ca_file, not the system's store (peer
 * and host name are verified as always), for a venue behind a private CA. It is a view of c: same loop, same
 * multi handle and connection cache (curl reuses a connection only for the same CA setting), same stats. The
 * same ca_file gives the same view. c owns it: valid until http_client_close(c) (never close a view; that is a
 * no-op). The file is read by curl when a connection is made, not here. NULL when out of memory or ca_file is
 * empty. */
struct http_client *http_client_with_ca(struct http_client *c, const char *ca_file);

/* Starts a GET. headers: NULL or NULL-terminated "Name: value" lines (copied). opts: NULL for defaults.
 * Returns the request, or NULL with *err set (when err is not NULL) -- then done never runs.
 * done runs exactly once unless the request is cancelled with http_cancel. */
struct http_request *http_get(struct http_client *c, const char *url, const char *const *headers,
                              const struct http_opts *opts, http_done_cb done, void *arg, int *err);

/* Cancels a request in flight: its done callback will NOT run, and req is invalid when this returns.
 * Safe from any callback on the loop, including another request's done callback; a no-op (returns -1) from the
 * request's own done callback, where it is already finishing. */
int http_cancel(struct http_request *req);

/* A header's number: decimal digits only (the value as captured, trimmed). Returns 0, -EINVAL (empty, a sign,
 * anything else) or -ERANGE (more than 64 bits: *out is then UINT64_MAX, for callers that saturate). */
int http_parse_uint(const char *value, uint64_t *out);

/* Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date, against the wall clock now_ms (ms since the
 * epoch). Returns the delay in ms (0 for a date already past; INT64_MAX when it does not fit), or -1 when the
 * value is absent or neither form: the caller then applies its floor. */
int64_t http_retry_after_ms(const char *value, int64_t now_ms);

/* Requests started and finished, connections opened (curl's count), for stats and tests. */
struct http_stats {
    uint64_t started, completed, failed, cancelled, connections_opened;
    unsigned in_flight;
};
void http_client_stats(const struct http_client *c, struct http_stats *out);

/* Cancels every request in flight -- each done callback runs once with HTTP_ECANCELLED, so owners learn their
 * request is gone -- then curl_multi_cleanup, then closes the timer and every poll handle. `closed` (may be NULL)
 * runs after the last close callback, and the client's memory is freed just before it. Call once. */
void http_client_close(struct http_client *c, void (*closed)(void *arg), void *arg);

#endif
