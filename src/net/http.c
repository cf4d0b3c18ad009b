/* http.c -- see http.h. libcurl multi on the libuv loop, after curl's docs/examples/multi-uv.c:
 * curl tells us which sockets to watch (on_curl_socket) and when to wake it (on_curl_timer); we hand the events
 * back through curl_multi_socket_action and then drain curl_multi_info_read for finished transfers.
 *
 * Ownership: the client owns the multi handle, the timer, one poll context per socket curl watches (kept in a list
 * so that close can reach the ones curl never removed) and every request, in flight or on the free list. Memory of a
 * libuv handle is freed only in its close callback; the client itself is freed after the last one. */
#include "tickd/clock.h"
#include "tickd/http.h"
#include "tickd/list.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tickd/log.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_BODY (4u << 20)
#define FREE_LIST_MAX 64               /* idle requests kept for reuse */
#define KEEP_BODY_BUFFER_MAX (256u << 10) /* larger buffers are not kept on the free list */
#define HEADER_VALUES_MAX 1024         /* bytes for captured header values, per request */

struct poll_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct http_client *client;
    struct list_link link; /* in client->polls */
};

struct http_request {
    struct http_client *client;
    CURL *easy;
    struct list_link link; /* in client->active or client->free_list */
    http_done_cb done;
    void *arg;
    struct curl_slist *req_headers;
    const char *const *want_headers;
    char *body;
    size_t body_len, body_cap, max_body;
    bool too_large;
    bool finishing; /* inside its own done callback */
    int64_t started_us;
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    char header_values[HEADER_VALUES_MAX];
    size_t header_values_used;
    char errbuf[CURL_ERROR_SIZE];
};

struct http_client {
    /* A view (http_client_with_ca) has base and ca_file set and nothing else: requests run on the base. */
    struct http_client *base;
    char *ca_file;
    struct http_client *views, *next_view; /* the base's views, freed with it */
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct list_link active;    /* newest first */
    struct list_link free_list; /* most recently recycled first */
    unsigned nfree;
    struct list_link polls;
    unsigned pending_closes;
    bool closing;
    bool in_cleanup; /* inside curl_multi_cleanup: curl may still call on_curl_socket */
    void (*closed)(void *arg);
    void *closed_arg;
    struct http_stats stats;
};

const char *http_error_name(int error) {
    switch (error) {
    case HTTP_OK: return "ok";
    case HTTP_ECONNECT: return "connect";
    case HTTP_ETIMEDOUT: return "timeout";
    case HTTP_ETOOLARGE: return "too_large";
    case HTTP_ECANCELLED: return "cancelled";
    case HTTP_ETRANSFER: return "transfer";
    case HTTP_ENOMEM: return "nomem";
    case HTTP_EINVAL: return "invalid";
    case HTTP_ECLOSING: return "closing";
    default: return "unknown";
    }
}

/* ---- closing: every libuv handle the client owns ends here ---- */

static void maybe_finish_close(struct http_client *c) {
    if (!c->closing || c->pending_closes > 0) return;
    void (*closed)(void *) = c->closed;
    void *arg = c->closed_arg;
    while (c->views) {
        struct http_client *v = c->views;
        c->views = v->next_view;
        free(v->ca_file);
        free(v);
    }
    free(c);
    if (closed) closed(arg);
}

static void on_poll_closed(uv_handle_t *h) {
    struct poll_ctx *p = h->data;
    struct http_client *c = p->client;
    free(p);
    c->pending_closes--;
    maybe_finish_close(c);
}

static void on_timer_closed(uv_handle_t *h) {
    struct http_client *c = h->data;
    c->pending_closes--;
    maybe_finish_close(c);
}

static void poll_ctx_close(struct http_client *c, struct poll_ctx *p) {
    list_remove(&p->link);
    uv_poll_stop(&p->poll);
    c->pending_closes++;
    uv_close((uv_handle_t *)&p->poll, on_poll_closed);
}

/* ---- curl <-> libuv ---- */

static void drain_finished(struct http_client *c);

static void on_poll(uv_poll_t *h, int status, int events) {
    struct poll_ctx *p = h->data;
    struct http_client *c = p->client;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR | CURL_CSELECT_IN | CURL_CSELECT_OUT; /* let curl find the error */
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(c->multi, p->fd, flags, &running);
    drain_finished(c);
}

static void on_timeout(uv_timer_t *t) {
    struct http_client *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_finished(c);
}

/* CURLMOPT_TIMERFUNCTION. A 0 ms timeout becomes a 0 ms timer, never a socket_action from in here. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    struct http_client *c = userp;
    if (c->in_cleanup) return 0;
    if (timeout_ms < 0) uv_timer_stop(&c->timer);
    else uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one uv_poll_t per socket, created on first use, closed on CURL_POLL_REMOVE. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void)easy;
    struct http_client *c = userp;
    struct poll_ctx *p = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (p) {
            poll_ctx_close(c, p);
            if (!c->in_cleanup) curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p) return -1;
        int rc = uv_poll_init_socket(c->loop, &p->poll, fd);
        if (rc < 0) {
            log_error("http", "cannot watch socket", "fd=%d error=%s", (int)fd, uv_strerror(rc));
            free(p);
            return -1;
        }
        p->fd = fd;
        p->client = c;
        p->poll.data = p;
        list_insert_after(&c->polls, &p->link);
        curl_multi_assign(c->multi, fd, p);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(&p->poll, events, on_poll);
    return 0;
}

/* ---- per-request curl callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp) {
    struct http_request *r = userp;
    size_t n = size * nmemb;
    if (n > r->max_body - r->body_len) {
        r->too_large = true;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + n + 1) cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) return 0;
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    return n;
}

static const char *wanted_name(const struct http_request *r, const char *name, size_t len) {
    static const char retry_after[] = "Retry-After";
    if (len == sizeof retry_after - 1 && strncasecmp(name, retry_after, len) == 0) return retry_after;
    for (const char *const *w = r->want_headers; w && *w; w++)
        if (strlen(*w) == len && strncasecmp(name, *w, len) == 0) return *w;
    return NULL;
}

static void capture_header(struct http_request *r, const char *wanted, const char *value, size_t len) {
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name == wanted) return; /* first one wins */
    if (r->nheaders == HTTP_MAX_HEADERS || len + 1 > HEADER_VALUES_MAX - r->header_values_used) return;
    char *dst = r->header_values + r->header_values_used;
    memcpy(dst, value, len);
    dst[len] = 0;
    r->header_values_used += len + 1;
    r->headers[r->nheaders++] = (struct http_header){.name = wanted, .value = dst};
}

/* Called once per header line, status line and blank line included. */
static size_t on_header(char *line, size_t size, size_t nitems, void *userp) {
    struct http_request *r = userp;
    size_t n = size * nitems;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) { /* a new response (after 100 Continue): forget the old one */
        r->nheaders = 0;
        r->header_values_used = 0;
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon) return n;
    const char *wanted = wanted_name(r, line, (size_t)(colon - line));
    if (!wanted) return n;
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
    capture_header(r, wanted, v, (size_t)(end - v));
    return n;
}

/* ---- header values ---- */

int http_parse_uint(const char *value, uint64_t *out) {
    uint64_t v = 0;
    if (!value || !*value) return -EINVAL;
    for (const char *p = value; *p; p++)
        if (*p < '0' || *p > '9') return -EINVAL;
    for (const char *p = value; *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *out = UINT64_MAX;
            return -ERANGE;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int64_t http_retry_after_ms(const char *value, int64_t now_ms) {
    uint64_t s;
    if (!value) return -1;
    int rc = http_parse_uint(value, &s);
    if (rc == -ERANGE || (rc == 0 && s > (uint64_t)INT64_MAX / 1000)) return INT64_MAX;
    if (rc == 0) return (int64_t)s * 1000;
    if (!*value || (*value >= '0' && *value <= '9') || *value == '-' || *value == '+')
        return -1; /* "1.5", "-5", "10s": neither form (curl_getdate would read some of them as dates) */
    time_t t = curl_getdate(value, NULL); /* IMF-fixdate, and the obsolete RFC 850 and asctime forms */
    if (t == (time_t)-1) return -1;
    if (t < 0) return 0;
    if ((int64_t)t > INT64_MAX / 1000) return INT64_MAX;
    int64_t at_ms = (int64_t)t * 1000;
    return at_ms > now_ms ? at_ms - now_ms : 0;
}

/* ---- requests ---- */

static void request_free(struct http_request *r) {
    curl_easy_cleanup(r->easy);
    free(r->body);
    free(r);
}

/* Back to the free list, so the next request reuses the easy handle and the body buffer. */
static void request_recycle(struct http_client *c, struct http_request *r) {
    curl_slist_free_all(r->req_headers);
    r->req_headers = NULL;
    if (c->closing || c->nfree >= FREE_LIST_MAX) {
        request_free(r);
        return;
    }
    if (r->body_cap > KEEP_BODY_BUFFER_MAX) {
        free(r->body);
        r->body = NULL;
        r->body_cap = 0;
    }
    list_insert_after(&c->free_list, &r->link);
    c->nfree++;
}

static struct http_request *request_take(struct http_client *c) {
    struct http_request *r;
    if (!list_empty(&c->free_list)) {
        r = list_entry(c->free_list.next, struct http_request, link);
        list_remove(&r->link);
        c->nfree--;
        curl_easy_reset(r->easy);
    } else {
        r = calloc(1, sizeof *r);
        if (!r) return NULL;
        r->easy = curl_easy_init();
        if (!r->easy) {
            free(r);
            return NULL;
        }
        r->client = c;
        list_init(&r->link);
    }
    r->body_len = 0;
    r->too_large = false;
    r->finishing = false;
    r->nheaders = 0;
    r->header_values_used = 0;
    r->errbuf[0] = 0;
    return r;
}

static int map_curl_error(const struct http_request *r, CURLcode code) {
    switch (code) {
    case CURLE_OK: return HTTP_OK;
    case CURLE_WRITE_ERROR: return r->too_large ? HTTP_ETOOLARGE : HTTP_ENOMEM;
    case CURLE_FILESIZE_EXCEEDED: return HTTP_ETOOLARGE;
    case CURLE_OPERATION_TIMEDOUT: return HTTP_ETIMEDOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: return HTTP_ECONNECT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return HTTP_EINVAL;
    case CURLE_OUT_OF_MEMORY: return HTTP_ENOMEM;
    default: return HTTP_ETRANSFER;
    }
}

static int64_t info_us(CURL *easy, CURLINFO what) {
    curl_off_t v = 0;
    if (curl_easy_getinfo(easy, what, &v) != CURLE_OK) return 0;
    return (int64_t)v;
}

/* Builds the response, runs the done callback once and recycles the request. r is already out of the multi. */
static void request_finish(struct http_client *c, struct http_request *r, int error, CURLcode code) {
    struct http_response res = {.error = error};
    long num_connects = 0, version = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
    curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &num_connects);
    curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &version);
    res.http_version = version == CURL_HTTP_VERSION_2_0 ? 20 : version == CURL_HTTP_VERSION_1_1 ? 11 : 0;
    res.reused_connection = num_connects == 0;
    res.started_us = r->started_us;
    res.sent_us = r->started_us + info_us(r->easy, CURLINFO_PRETRANSFER_TIME_T);
    res.connect_us = info_us(r->easy, CURLINFO_CONNECT_TIME_T);
    res.first_byte_us = info_us(r->easy, CURLINFO_STARTTRANSFER_TIME_T);
    res.total_us = info_us(r->easy, CURLINFO_TOTAL_TIME_T);
    if (r->body) r->body[r->body_len] = 0;
    res.body = r->body ? r->body : "";
    res.body_len = r->body_len;
    res.headers = r->headers;
    res.nheaders = r->nheaders;
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, "Retry-After") == 0) res.retry_after = r->headers[i].value;
    if (error == HTTP_ECANCELLED) res.error_text = "cancelled";
    else if (error) res.error_text = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
    else res.error_text = "";

    c->stats.connections_opened += (uint64_t)num_connects;
    if (error) c->stats.failed++;
    else c->stats.completed++;
    c->stats.in_flight--;

    r->finishing = true;
    r->done(r, &res, r->arg);
    request_recycle(c, r);
}

static void drain_finished(struct http_client *c) {
    CURLMsg *m;
    int left;
    /* c->multi turns NULL when a done callback closed the client. */
    while (c->multi && (m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *easy = m->easy_handle;
        CURLcode code = m->data.result; /* m is invalid after remove_handle */
        struct http_request *r = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(c->multi, easy);
        list_remove(&r->link);
        request_finish(c, r, map_curl_error(r, code), code);
    }
}

static int request_setup(struct http_request *r, const char *url, const char *const *headers,
                         const struct http_opts *o, const char *ca_file) {
    for (const char *const *h = headers; h && *h; h++) {
        struct curl_slist *l = curl_slist_append(r->req_headers, *h);
        if (!l) return HTTP_ENOMEM;
        r->req_headers = l;
    }
    CURL *e = r->easy;
    long connect_ms = o && o->connect_timeout_ms ? (long)o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    long timeout_ms = o && o->timeout_ms ? (long)o->timeout_ms : DEFAULT_TIMEOUT_MS;
    r->max_body = o && o->max_body ? o->max_body : DEFAULT_MAX_BODY;
    r->want_headers = o ? o->want_headers : NULL;

    CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, url);
    if (rc != CURLE_OK) return rc == CURLE_OUT_OF_MEMORY ? HTTP_ENOMEM : HTTP_EINVAL;
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* Over TLS, ALPN tells after the handshake whether a connection multiplexes: a request may wait that long
     * for a stream on it rather than open its own connection. Over plain http, curl would learn it only from
     * the first response, so a slow answer would hold every other request back. */
    if (strncasecmp(url, "https:", 6) == 0) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (o && o->no_reuse) curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode; big ticker lists compress well */
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tickd/" TICKD_VERSION);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body); /* early refusal by Content-Length */
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    if (r->req_headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->req_headers);
    /* The file alone: Debian's curl also searches a CA directory by default, which would trust the system's
     * CAs beside it. Peer and host name verification keep curl's defaults (on). */
    if (ca_file && (curl_easy_setopt(e, CURLOPT_CAINFO, ca_file) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_CAPATH, NULL) != CURLE_OK))
        return HTTP_ENOMEM;
    return HTTP_OK;
}

struct http_request *http_get(struct http_client *c, const char *url, const char *const *headers,
                              const struct http_opts *opts, http_done_cb done, void *arg, int *err) {
    int rc = HTTP_EINVAL;
    struct http_request *r = NULL;
    if (!c || !url || !done) goto fail;
    const char *ca_file = c->ca_file;
    if (c->base) c = c->base;
    rc = HTTP_ECLOSING;
    if (c->closing) goto fail;
    rc = HTTP_ENOMEM;
    r = request_take(c);
    if (!r) goto fail;
    rc = request_setup(r, url, headers, opts, ca_file);
    if (rc != HTTP_OK) goto fail_recycle;
    r->done = done;
    r->arg = arg;
    r->started_us = clock_wall_us();
    if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
        rc = HTTP_ENOMEM;
        goto fail_recycle;
    }
    list_insert_after(&c->active, &r->link);
    c->stats.started++;
    c->stats.in_flight++;
    return r;

fail_recycle:
    request_recycle(c, r);
fail:
    if (err) *err = rc;
    return NULL;
}

int http_cancel(struct http_request *r) {
    if (!r || r->finishing) return -1;
    struct http_client *c = r->client;
    curl_multi_remove_handle(c->multi, r->easy); /* also drops its message if it had finished unread */
    list_remove(&r->link);
    c->stats.cancelled++;
    c->stats.in_flight--;
    request_recycle(c, r);
    return 0;
}

void http_client_stats(const struct http_client *c, struct http_stats *out) {
    *out = c->base ? c->base->stats : c->stats;
}

struct http_client *http_client_with_ca(struct http_client *c, const char *ca_file) {
    if (!c || !ca_file || !*ca_file) return NULL;
    if (c->base) c = c->base;
    for (struct http_client *v = c->views; v; v = v->next_view)
        if (strcmp(v->ca_file, ca_file) == 0) return v;
    struct http_client *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->ca_file = strdup(ca_file);
    if (!v->ca_file) {
        free(v);
        return NULL;
    }
    v->base = c;
    v->loop = c->loop;
    list_init(&v->active);
    list_init(&v->free_list);
    list_init(&v->polls);
    v->next_view = c->views;
    c->views = v;
    return v;
}

struct http_client *http_client_new(uv_loop_t *loop) {
    static bool curl_ready;
    if (!curl_ready) { /* not thread-safe; only the loop thread uses curl */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            log_error("http", "curl_global_init failed", "%s", "");
            return NULL;
        }
        curl_ready = true;
    }
    struct http_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->loop = loop;
    list_init(&c->active);
    list_init(&c->free_list);
    list_init(&c->polls);
    c->multi = curl_multi_init();
    if (!c->multi) goto fail;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return c;

fail:
    log_error("http", "curl_multi_init failed", "%s", "");
    free(c);
    return NULL;
}

void http_client_close(struct http_client *c, void (*closed)(void *arg), void *arg) {
    if (c->base || c->closing) return;
    c->closing = true;
    c->closed = closed;
    c->closed_arg = arg;

    /* The first each time, not a saved next: a done callback may cancel any other request. */
    while (!list_empty(&c->active)) {
        struct http_request *r = list_entry(c->active.next, struct http_request, link);
        curl_multi_remove_handle(c->multi, r->easy);
        list_remove(&r->link);
        request_finish(c, r, HTTP_ECANCELLED, CURLE_OK);
    }
    c->in_cleanup = true; /* curl_multi_cleanup closes cached connections and may report their sockets */
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    while (!list_empty(&c->free_list)) {
        struct http_request *r = list_entry(c->free_list.next, struct http_request, link);
        list_remove(&r->link);
        request_free(r);
    }
    c->nfree = 0;
    while (!list_empty(&c->polls)) poll_ctx_close(c, list_entry(c->polls.next, struct poll_ctx, link));
    c->pending_closes++;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}
