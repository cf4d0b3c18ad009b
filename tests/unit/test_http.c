/* Unit tests of the HTTP client (src/net/http.c) over real loopback sockets.
 *
 * The server is a small libuv HTTP/1.1 server on the same loop, so the test controls exactly what the client sees
 * and counts the TCP connections it accepts (keep-alive reuse). Routes:
 *   /hello        200, body "hello world", X-MBX-USED-WEIGHT-1M: 7, Retry-After: 3, X-Other: 1
 *   /echo         200, body = the request's X-Test header
 *   /status/429   429, Retry-After: 2
 *   /big          200, 100000-byte body with Content-Length
 *   /chunked      200, 100000-byte body in chunks, no Content-Length
 *   /stall        never answers */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "net_test_util.h"
#include "tickd/http.h"
#include "tt.h"

/* ---- the server ---- */

struct srv {
    struct test_server base;
    int requests;
};

static void respond(struct test_conn *sc, int status, const char *extra_headers, const char *body, size_t len) {
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status, len,
                     extra_headers);
    write_copy((uv_stream_t *)&sc->tcp, head, (size_t)n);
    if (len) write_copy((uv_stream_t *)&sc->tcp, body, len);
}

static void respond_chunked(struct test_conn *sc, size_t total) {
    static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    write_copy((uv_stream_t *)&sc->tcp, head, sizeof head - 1);
    char chunk[10000 + 16];
    int n = snprintf(chunk, sizeof chunk, "%x\r\n", 10000);
    memset(chunk + n, 'y', 10000);
    memcpy(chunk + n + 10000, "\r\n", 2);
    for (size_t sent = 0; sent < total; sent += 10000) write_copy((uv_stream_t *)&sc->tcp, chunk, (size_t)n + 10002);
    write_copy((uv_stream_t *)&sc->tcp, "0\r\n\r\n", 5);
}

static void handle_request(struct test_conn *sc, const char *req) {
    static char big[100000];
    char path[256] = "";
    sscanf(req, "GET %255s", path);
    ((struct srv *)sc->srv)->requests++;
    if (strcmp(path, "/hello") == 0) {
        respond(sc, 200, "X-MBX-USED-WEIGHT-1M: 7\r\nRetry-After: 3\r\nX-Other: 1\r\n", "hello world", 11);
    } else if (strcmp(path, "/echo") == 0) {
        const char *h = strstr(req, "X-Test: ");
        char v[128] = "";
        if (h) sscanf(h + 8, "%127[^\r]", v);
        respond(sc, 200, "", v, strlen(v));
    } else if (strcmp(path, "/status/429") == 0) {
        respond(sc, 429, "Retry-After: 2\r\n", "slow down", 9);
    } else if (strcmp(path, "/big") == 0) {
        memset(big, 'x', sizeof big);
        respond(sc, 200, "", big, sizeof big);
    } else if (strcmp(path, "/chunked") == 0) {
        respond_chunked(sc, 100000);
    } else if (strcmp(path, "/stall") != 0) {
        respond(sc, 404, "", "", 0);
    }
}

/* Answers every complete request in the buffer (keep-alive: the connection stays open). */
static void srv_data(struct test_conn *sc) {
    char *end;
    while ((end = strstr(sc->buf, "\r\n\r\n"))) {
        end[2] = 0;
        handle_request(sc, sc->buf);
        size_t used = (size_t)(end + 4 - sc->buf);
        memmove(sc->buf, sc->buf + used, sc->len - used);
        sc->len -= used;
        sc->buf[sc->len] = 0;
    }
}

/* ---- fixture ---- */

struct fx {
    struct test_loop t;
    struct srv srv;
    struct http_client *client;
    int closed;
};

static void fx_start(struct fx *f) {
    memset(f, 0, sizeof *f);
    test_loop_init(&f->t);
    test_server_start(&f->t.loop, &f->srv.base, sizeof(struct test_conn), srv_data);
    f->client = http_client_new(&f->t.loop);
}

static void on_client_closed(void *arg) { ((struct fx *)arg)->closed++; }

/* Closes client and server; returns uv_loop_close(). */
static int fx_finish(struct fx *f) {
    if (f->client) http_client_close(f->client, on_client_closed, f);
    test_server_close(&f->srv.base);
    int rc = test_loop_finish(&f->t);
    return f->closed == 1 ? rc : -1000;
}

static void url(char *out, size_t n, const struct fx *f, const char *path) {
    snprintf(out, n, "http://127.0.0.1:%d%s", f->srv.base.port, path);
}

/* What a done callback saw. */
struct seen {
    int calls;
    int error;
    long status;
    char body[256];
    size_t body_len;
    char weight[32], retry_after[32];
    int other_captured;
    int reused;
    long version;
    int64_t started_us, sent_us, total_us;
};

static void on_done(struct http_request *req, const struct http_response *res, void *arg) {
    (void)req;
    struct seen *s = arg;
    s->calls++;
    s->error = res->error;
    s->status = res->status;
    s->body_len = res->body_len;
    snprintf(s->body, sizeof s->body, "%s", res->body);
    snprintf(s->retry_after, sizeof s->retry_after, "%s", res->retry_after ? res->retry_after : "");
    for (size_t i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, "X-MBX-USED-WEIGHT-1M") == 0)
            snprintf(s->weight, sizeof s->weight, "%s", res->headers[i].value);
        if (strcasecmp(res->headers[i].name, "X-Other") == 0) s->other_captured = 1;
    }
    s->reused = res->reused_connection;
    s->version = res->http_version;
    s->started_us = res->started_us;
    s->sent_us = res->sent_us;
    s->total_us = res->total_us;
}

static const char *const want_weight[] = {"X-MBX-USED-WEIGHT-1M", NULL};

/* ---- tests ---- */

static void test_status_body_headers(void) {
    struct fx f;
    fx_start(&f);
    TT_ASSERT(f.srv.base.port > 0 && f.client);
    char u[128];
    url(u, sizeof u, &f, "/hello");
    struct seen s = {0};
    struct http_opts o = {.want_headers = want_weight};
    int64_t before = (int64_t)time(NULL) * 1000000;
    TT_ASSERT(http_get(f.client, u, NULL, &o, on_done, &s, NULL) != NULL);
    TT_ASSERT(s.calls == 0); /* never from inside http_get */
    TT_ASSERT(run_until(&f.t, &s.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT_INT(s.error, HTTP_OK);
    TT_ASSERT_INT(s.status, 200);
    TT_ASSERT_STR(s.body, "hello world");
    TT_ASSERT_INT(s.body_len, 11);
    TT_ASSERT_STR(s.weight, "7");
    TT_ASSERT_STR(s.retry_after, "3");
    TT_ASSERT_INT(s.other_captured, 0);
    TT_ASSERT_INT(s.version, 11);
    TT_ASSERT(s.started_us >= before - 1000000 && s.sent_us >= s.started_us);
    TT_ASSERT(s.sent_us <= s.started_us + s.total_us);
    TT_ASSERT_INT(fx_finish(&f), 0);
}

static void test_request_headers_and_429(void) {
    struct fx f;
    fx_start(&f);
    char u1[128], u2[128];
    url(u1, sizeof u1, &f, "/echo");
    url(u2, sizeof u2, &f, "/status/429");
    static const char *const hdrs[] = {"X-Test: abc 123", NULL};
    struct seen s1 = {0}, s2 = {0};
    TT_ASSERT(http_get(f.client, u1, hdrs, NULL, on_done, &s1, NULL));
    TT_ASSERT(http_get(f.client, u2, NULL, NULL, on_done, &s2, NULL));
    TT_ASSERT(run_until(&f.t, &s1.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT(run_until(&f.t, &s2.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT_STR(s1.body, "abc 123");
    TT_ASSERT_INT(s2.error, HTTP_OK); /* an HTTP error status is the caller's business */
    TT_ASSERT_INT(s2.status, 429);
    TT_ASSERT_STR(s2.retry_after, "2");
    TT_ASSERT_INT(fx_finish(&f), 0);
}

/* no_reuse: the connection is closed after the answer, so the next request opens another; without it, the next
 * reuses it. */
static void test_no_reuse_closes_the_connection(void) {
    struct fx f;
    fx_start(&f);
    char u[128];
    url(u, sizeof u, &f, "/hello");
    struct http_opts once = {.no_reuse = true};
    struct seen a = {0}, b = {0}, c = {0};
    TT_ASSERT(http_get(f.client, u, NULL, &once, on_done, &a, NULL));
    TT_ASSERT(run_until(&f.t, &a.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT(http_get(f.client, u, NULL, NULL, on_done, &b, NULL));
    TT_ASSERT(run_until(&f.t, &b.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT(http_get(f.client, u, NULL, NULL, on_done, &c, NULL));
    TT_ASSERT(run_until(&f.t, &c.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT_INT(a.status, 200);
    TT_ASSERT_INT(b.status, 200);
    TT_ASSERT_INT(b.reused, 0); /* the first one's connection was closed */
    TT_ASSERT_INT(c.reused, 1); /* the second one's was kept */
    TT_ASSERT_INT(fx_finish(&f), 0);
}

/* Each request starts the next from its done callback: all must share one TCP connection. */
struct chain {
    struct http_client *client;
    char url[128];
    int done, reused, left;
};

static void on_chain_done(struct http_request *req, const struct http_response *res, void *arg) {
    (void)req;
    struct chain *ch = arg;
    ch->done++;
    ch->reused += res->reused_connection && res->error == 0 && res->status == 200;
    if (--ch->left > 0) http_get(ch->client, ch->url, NULL, NULL, on_chain_done, ch, NULL);
}

static void test_keepalive_reuses_connection(void) {
    struct fx f;
    fx_start(&f);
    struct chain ch = {.client = f.client, .left = 5};
    url(ch.url, sizeof ch.url, &f, "/hello");
    TT_ASSERT(http_get(f.client, ch.url, NULL, NULL, on_chain_done, &ch, NULL));
    TT_ASSERT(run_until(&f.t, &ch.done, 5, TEST_DEADLINE_MS));
    TT_ASSERT_INT(f.srv.requests, 5);
    TT_ASSERT_INT(f.srv.base.connections, 1);
    TT_ASSERT_INT(ch.reused, 4);
    struct http_stats st;
    http_client_stats(f.client, &st);
    TT_ASSERT_INT(st.connections_opened, 1);
    TT_ASSERT_INT(st.completed, 5);
    TT_ASSERT_INT(st.in_flight, 0);
    TT_ASSERT_INT(fx_finish(&f), 0);
}

static void test_timeout_on_stalled_server(void) {
    struct fx f;
    fx_start(&f);
    char u[128];
    url(u, sizeof u, &f, "/stall");
    struct seen s = {0};
    struct http_opts o = {.timeout_ms = 300};
    TT_ASSERT(http_get(f.client, u, NULL, &o, on_done, &s, NULL));
    TT_ASSERT(run_until(&f.t, &s.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT_INT(s.error, HTTP_ETIMEDOUT);
    TT_ASSERT_INT(s.status, 0);
    TT_ASSERT(s.total_us >= 300000);
    TT_ASSERT_INT(fx_finish(&f), 0);
}

static void test_connect_refused(void) {
    struct fx f;
    fx_start(&f);
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/hello", closed_port());
    struct seen s = {0};
    TT_ASSERT(http_get(f.client, u, NULL, NULL, on_done, &s, NULL));
    TT_ASSERT(run_until(&f.t, &s.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT_INT(s.error, HTTP_ECONNECT);
    TT_ASSERT_INT(fx_finish(&f), 0);
}

static void test_bad_url_fails_at_once(void) {
    struct fx f;
    fx_start(&f);
    struct seen s = {0};
    int err = 0;
    TT_ASSERT(http_get(f.client, "ftp://127.0.0.1/x", NULL, NULL, on_done, &s, &err) == NULL ||
              run_until(&f.t, &s.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT(err == HTTP_EINVAL || s.error == HTTP_EINVAL);
    TT_ASSERT_INT(fx_finish(&f), 0);
}

/* /hello's done callback cancels the stalled request: that one's callback must never run. */
struct cancel_ctx {
    struct http_request *stalled;
    struct seen hello, stall;
    int cancel_rc, own_cancel_rc;
};

static void on_hello_cancels(struct http_request *req, const struct http_response *res, void *arg) {
    struct cancel_ctx *cc = arg;
    on_done(req, res, &cc->hello);
    cc->cancel_rc = http_cancel(cc->stalled);
    cc->own_cancel_rc = http_cancel(req); /* its own request is already finishing: refused */
}

static void test_cancel_from_callback(void) {
    struct fx f;
    fx_start(&f);
    char u1[128], u2[128];
    url(u1, sizeof u1, &f, "/hello");
    url(u2, sizeof u2, &f, "/stall");
    struct cancel_ctx cc = {.cancel_rc = -99, .own_cancel_rc = -99};
    cc.stalled = http_get(f.client, u2, NULL, NULL, on_done, &cc.stall, NULL);
    TT_ASSERT(cc.stalled);
    TT_ASSERT(http_get(f.client, u1, NULL, NULL, on_hello_cancels, &cc, NULL));
    TT_ASSERT(run_until(&f.t, &cc.hello.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT_INT(cc.cancel_rc, 0);
    TT_ASSERT_INT(cc.own_cancel_rc, -1);
    run_for(&f.t, 100);
    TT_ASSERT_INT(cc.stall.calls, 0);
    struct http_stats st;
    http_client_stats(f.client, &st);
    TT_ASSERT_INT(st.cancelled, 1);
    TT_ASSERT_INT(st.in_flight, 0);
    /* The client still works afterwards. */
    struct seen again = {0};
    TT_ASSERT(http_get(f.client, u1, NULL, NULL, on_done, &again, NULL));
    TT_ASSERT(run_until(&f.t, &again.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT_INT(again.status, 200);
    TT_ASSERT_INT(fx_finish(&f), 0);
}

static void test_body_cap(void) {
    struct fx f;
    fx_start(&f);
    char u1[128], u2[128], u3[128];
    url(u1, sizeof u1, &f, "/big");
    url(u2, sizeof u2, &f, "/chunked");
    url(u3, sizeof u3, &f, "/big");
    struct http_opts small = {.max_body = 1000};
    struct http_opts enough = {.max_body = 100000};
    struct seen s1 = {0}, s2 = {0}, s3 = {0};
    TT_ASSERT(http_get(f.client, u1, NULL, &small, on_done, &s1, NULL)); /* refused by Content-Length */
    TT_ASSERT(http_get(f.client, u2, NULL, &small, on_done, &s2, NULL)); /* refused while reading */
    TT_ASSERT(http_get(f.client, u3, NULL, &enough, on_done, &s3, NULL)); /* exactly at the cap */
    TT_ASSERT(run_until(&f.t, &s1.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT(run_until(&f.t, &s2.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT(run_until(&f.t, &s3.calls, 1, TEST_DEADLINE_MS));
    TT_ASSERT_INT(s1.error, HTTP_ETOOLARGE);
    TT_ASSERT_INT(s2.error, HTTP_ETOOLARGE);
    TT_ASSERT_INT(s3.error, HTTP_OK);
    TT_ASSERT_INT(s3.body_len, 100000);
    TT_ASSERT_INT(fx_finish(&f), 0);
}

static void test_close_with_requests_in_flight(void) {
    struct fx f;
    fx_start(&f);
    char u[128];
    url(u, sizeof u, &f, "/stall");
    struct seen s[3] = {{0}};
    for (int i = 0; i < 3; i++) TT_ASSERT(http_get(f.client, u, NULL, NULL, on_done, &s[i], NULL));
    TT_ASSERT(run_until(&f.t, &f.srv.requests, 3, TEST_DEADLINE_MS)); /* all three reached the server */
    http_client_close(f.client, on_client_closed, &f);
    for (int i = 0; i < 3; i++) {
        TT_ASSERT_INT(s[i].calls, 1);
        TT_ASSERT_INT(s[i].error, HTTP_ECANCELLED);
    }
    f.client = NULL;
    TT_ASSERT(run_until(&f.t, &f.closed, 1, TEST_DEADLINE_MS));
    TT_ASSERT_INT(fx_finish(&f), 0);
}

/* Every number a server sends in a header is read with overflow checks: strtoul wrapped "4294967297" to 1 and
 * "-1" to 2^64-1; a Retry-After of 10000000000 s overflowed the pause end (the 429 was then ignored). */
static void test_header_numbers(void) {
    uint64_t v = 7;
    TT_ASSERT_INT(http_parse_uint("0", &v), 0);
    TT_ASSERT_INT(v, 0);
    TT_ASSERT_INT(http_parse_uint("4294967297", &v), 0);
    TT_ASSERT(v == 4294967297ull);
    TT_ASSERT_INT(http_parse_uint("18446744073709551615", &v), 0);
    TT_ASSERT(v == UINT64_MAX);
    TT_ASSERT_INT(http_parse_uint("18446744073709551616", &v), -ERANGE);
    TT_ASSERT(v == UINT64_MAX);
    TT_ASSERT_INT(http_parse_uint("99999999999999999999999999999999", &v), -ERANGE);
    const char *bad[] = {"", "-1", "+1", " 1", "1 ", "1.5", "0x10", "12a", NULL};
    for (int i = 0; bad[i]; i++)
        if (http_parse_uint(bad[i], &v) != -EINVAL) TT_FAIL("accepted \"%s\"", bad[i]);
    TT_ASSERT_INT(http_parse_uint(NULL, &v), -EINVAL);
}

static void test_retry_after(void) {
    int64_t now_ms = 1700000000000LL; /* 2023-11-14T22:13:20Z */
    TT_ASSERT_INT(http_retry_after_ms(NULL, now_ms), -1);
    TT_ASSERT_INT(http_retry_after_ms("0", now_ms), 0);
    TT_ASSERT_INT(http_retry_after_ms("120", now_ms), 120000);
    TT_ASSERT_INT(http_retry_after_ms("9000000000", now_ms), 9000000000000LL);
    TT_ASSERT_INT(http_retry_after_ms("9223372036854775", now_ms), 9223372036854775000LL);
    TT_ASSERT(http_retry_after_ms("9223372036854776", now_ms) == INT64_MAX); /* * 1000 passes 2^63 */
    TT_ASSERT(http_retry_after_ms("10000000000000000000000", now_ms) == INT64_MAX);
    /* The HTTP-date forms of RFC 9110: IMF-fixdate, and the obsolete RFC 850 and asctime ones. */
    TT_ASSERT_INT(http_retry_after_ms("Tue, 14 Nov 2023 22:15:20 GMT", now_ms), 120000);
    TT_ASSERT_INT(http_retry_after_ms("Tuesday, 14-Nov-23 22:15:20 GMT", now_ms), 120000);
    TT_ASSERT_INT(http_retry_after_ms("Tue Nov 14 22:15:20 2023", now_ms), 120000);
    TT_ASSERT_INT(http_retry_after_ms("Tue, 14 Nov 2023 22:00:00 GMT", now_ms), 0); /* past: no wait */
    TT_ASSERT(http_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", now_ms) > 250000000000000LL);
    const char *bad[] = {"", "-5", "1.5", "10s", "soon", "+3", "Tue, 99 Nov 2023 22:15:20 GMT", NULL};
    for (int i = 0; bad[i]; i++)
        if (http_retry_after_ms(bad[i], now_ms) != -1) TT_FAIL("\"%s\" read as a delay", bad[i]);
}

int main(void) {
    TT_RUN(test_header_numbers);
    TT_RUN(test_retry_after);
    TT_RUN(test_status_body_headers);
    TT_RUN(test_request_headers_and_429);
    TT_RUN(test_keepalive_reuses_connection);
    TT_RUN(test_no_reuse_closes_the_connection);
    TT_RUN(test_timeout_on_stalled_server);
    TT_RUN(test_connect_refused);
    TT_RUN(test_bad_url_fails_at_once);
    TT_RUN(test_cancel_from_callback);
    TT_RUN(test_body_cap);
    TT_RUN(test_close_with_requests_in_flight);
    return tt_finish();
}
