/* net_test_util.h -- loop helpers shared by test_http.c and test_ws.c.
 *
 * Assertions cannot run inside loop callbacks (TT_ASSERT longjmps out of uv_run), so callbacks only record what
 * happened and the test asserts after the loop has run. run_until() turns the loop until a counter reaches a value
 * or a generous deadline passes; the deadline only bounds a broken test, it is never what a test asserts. */
#ifndef NET_TEST_UTIL_H
#define NET_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define TEST_DEADLINE_MS 10000

struct test_loop {
    uv_loop_t loop;
    uv_timer_t tick; /* keeps uv_run(UV_RUN_ONCE) from blocking past a deadline */
};

static void test_tick(uv_timer_t *t) { (void)t; }

static inline void test_loop_init(struct test_loop *t) {
    uv_loop_init(&t->loop);
    uv_timer_init(&t->loop, &t->tick);
    uv_timer_start(&t->tick, test_tick, 20, 20);
    uv_unref((uv_handle_t *)&t->tick);
}

/* Runs the loop until *counter >= want or max_ms passed; true when reached. */
static inline bool run_until(struct test_loop *t, const int *counter, int want, uint64_t max_ms) {
    uv_update_time(&t->loop);
    uint64_t end = uv_now(&t->loop) + max_ms;
    while (*counter < want && uv_now(&t->loop) < end) {
        uv_ref((uv_handle_t *)&t->tick);
        uv_run(&t->loop, UV_RUN_ONCE);
        uv_unref((uv_handle_t *)&t->tick);
    }
    return *counter >= want;
}

/* Runs the loop for about ms (to show that something does NOT happen). */
static inline void run_for(struct test_loop *t, uint64_t ms) {
    int never = 0;
    run_until(t, &never, 1, ms);
}

/* Closes the tick timer and runs the loop until every handle is closed. */
static inline void test_loop_drain(struct test_loop *t) {
    uv_close((uv_handle_t *)&t->tick, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
}

/* Drains the loop and returns uv_loop_close() (0 when no handle leaked). */
static inline int test_loop_finish(struct test_loop *t) {
    test_loop_drain(t);
    return uv_loop_close(&t->loop);
}

/* A loopback port nothing listens on: bind an ephemeral port, then close it. */
static inline int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* Writes a copy of data to a stream; the copy is freed when the write completes. */
struct test_write {
    uv_write_t req;
    char data[];
};
static void test_write_done(uv_write_t *req, int status) {
    (void)status;
    free(req);
}
static inline void write_copy(uv_stream_t *s, const void *data, size_t len) {
    struct test_write *w = malloc(sizeof *w + len);
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, s, &b, 1, test_write_done) < 0) free(w);
}

/* A loopback TCP server on the test loop: accepts, reads into each connection's buffer, keeps the connections
 * in a list and closes them all at the end. A server's own connection struct starts with a struct test_conn
 * (conn_size says how big it is); on_data sees the bytes read so far in buf[0..len), NUL-terminated. */
struct test_server;

struct test_conn {
    uv_tcp_t tcp;
    struct test_server *srv;
    struct test_conn *next;
    size_t len;
    char buf[65536];
};

struct test_server {
    uv_tcp_t listener;
    int port;
    int connections;
    size_t conn_size;
    void (*on_data)(struct test_conn *c);
    struct test_conn *conns;
};

static void test_conn_closed(uv_handle_t *h) { free(h->data); }

static inline void test_conn_close(struct test_conn *c) {
    if (uv_is_closing((uv_handle_t *)&c->tcp)) return;
    struct test_conn **pp = &c->srv->conns;
    while (*pp && *pp != c) pp = &(*pp)->next;
    if (*pp) *pp = c->next;
    uv_close((uv_handle_t *)&c->tcp, test_conn_closed);
}

static void test_conn_after_shutdown(uv_shutdown_t *req, int status) {
    (void)status;
    test_conn_close(req->data);
    free(req);
}

/* Closes after everything written so far has gone out. */
static inline void test_conn_finish(struct test_conn *c) {
    uv_shutdown_t *req = malloc(sizeof *req);
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, test_conn_after_shutdown) < 0) {
        free(req);
        test_conn_close(c);
    }
}

static void test_conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    (void)hint;
    struct test_conn *c = h->data;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - 1 - c->len));
}

static void test_conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    (void)buf;
    struct test_conn *c = s->data;
    if (n < 0) {
        test_conn_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = 0;
    c->srv->on_data(c);
}

static void test_server_accept(uv_stream_t *l, int status) {
    if (status < 0) return;
    struct test_server *srv = l->data;
    struct test_conn *c = calloc(1, srv->conn_size);
    c->srv = srv;
    uv_tcp_init(l->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, test_conn_closed);
        return;
    }
    c->next = srv->conns;
    srv->conns = c;
    srv->connections++;
    uv_read_start((uv_stream_t *)&c->tcp, test_conn_alloc, test_conn_read);
}

/* Listens on 127.0.0.1, an ephemeral port; returns the port (also in srv->port) or <0. */
static inline int test_server_start(uv_loop_t *loop, struct test_server *srv, size_t conn_size,
                                    void (*on_data)(struct test_conn *c)) {
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    srv->conn_size = conn_size;
    srv->on_data = on_data;
    srv->listener.data = srv;
    uv_tcp_init(loop, &srv->listener);
    int rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&a, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&srv->listener, 64, test_server_accept);
    if (rc < 0) return srv->port = rc;
    int len = sizeof a;
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&a, &len);
    return srv->port = ntohs(a.sin_port);
}

static inline void test_server_close(struct test_server *srv) {
    while (srv->conns) test_conn_close(srv->conns);
    uv_close((uv_handle_t *)&srv->listener, NULL);
}

#endif
