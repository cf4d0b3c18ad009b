/* task_fixtures.h -- real tasks for the task, supervisor and stress tests: uv timers and loopback TCP.
 *
 * Every handle these tasks open is counted in fx_handles_open and uncounted in its close callback, so a test
 * can check that "group done" really means "no handle left". */
#ifndef TASK_FIXTURES_H
#define TASK_FIXTURES_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "tickd/task.h"
#include "tt.h"

static int fx_handles_open; /* handles of fixture tasks not yet closed */
static int fx_destroyed;    /* destroy() calls */

static void fx_closed(uv_handle_t *h) {
    (void)h;
    fx_handles_open--;
}

static void fx_closed_free(uv_handle_t *h) {
    fx_handles_open--;
    free(h);
}

static int fx_own(struct task *t, uv_handle_t *h, uv_close_cb on_closed) {
    h->data = t;
    fx_handles_open++;
    return task_own(t, h, on_closed);
}

/* The task's state is one uv timer: initialize it, own it, return it. */
static uv_timer_t *fx_owned_timer(struct task *t) {
    uv_timer_t *timer = task_state(t);
    uv_timer_init(task_loop(t), timer);
    fx_own(t, (uv_handle_t *)timer, fx_closed);
    return timer;
}

static void fx_destroy(struct task *t) {
    (void)t;
    fx_destroyed++;
}

/* Timer task: ready at once, then reports `status` after `after_ms` (FX_NEVER: runs until cancelled). */
#define FX_NEVER UINT64_MAX
struct fx_timer_cfg {
    uint64_t after_ms;
    int status;
    const char *cause;
};

static void fx_timer_fired(uv_timer_t *h) {
    struct task *t = h->data;
    const struct fx_timer_cfg *cfg = task_arg(t);
    task_done(t, cfg->status, cfg->cause);
}

static int fx_timer_start(struct task *t) {
    uv_timer_t *timer = fx_owned_timer(t);
    const struct fx_timer_cfg *cfg = task_arg(t);
    task_ready(t);
    if (cfg->after_ms != FX_NEVER) uv_timer_start(timer, fx_timer_fired, cfg->after_ms, 0);
    return 0;
}

static void fx_ignore_cancel(struct task *t) {
    (void)t;
}

static const struct task_ops fx_timer_ops = {
    .state_size = sizeof(uv_timer_t),
    .start = fx_timer_start,
    .destroy = fx_destroy,
};

/* Same, but deaf to cancel: only the grace period ends it. */
static const struct task_ops fx_stubborn_ops = {
    .state_size = sizeof(uv_timer_t),
    .start = fx_timer_start,
    .cancel = fx_ignore_cancel,
    .destroy = fx_destroy,
};

/* TCP task: listens on 127.0.0.1, connects to itself, is ready once the connection is accepted. Cancel is
 * polite: it sends "bye" and reports done when the write completed. */
struct fx_tcp {
    uv_tcp_t listener, client;
    uv_connect_t connect;
    uv_write_t write;
};

static void fx_tcp_accept(uv_stream_t *server, int status) {
    struct task *t = server->data;
    if (status < 0) {
        task_done(t, status, "accept failed");
        return;
    }
    uv_tcp_t *conn = malloc(sizeof *conn);
    if (!conn) {
        task_done(t, -ENOMEM, "accept: out of memory");
        return;
    }
    uv_tcp_init(task_loop(t), conn);
    if (fx_own(t, (uv_handle_t *)conn, fx_closed_free) < 0) {
        fx_handles_open--;
        free(conn); /* never opened: nothing to close */
        task_done(t, -ENOMEM, "accept: out of memory");
        return;
    }
    if (uv_accept(server, (uv_stream_t *)conn) < 0) task_done(t, -EIO, "accept failed");
    else task_ready(t);
}

static void fx_tcp_connected(uv_connect_t *req, int status) {
    if (status < 0 && status != UV_ECANCELED) task_done(req->data, status, "connect failed");
}

static int fx_tcp_start(struct task *t) {
    struct fx_tcp *st = task_state(t);
    uv_loop_t *loop = task_loop(t);
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_init(loop, &st->listener);
    uv_tcp_init(loop, &st->client);
    int rc = fx_own(t, (uv_handle_t *)&st->listener, fx_closed);
    if (rc == 0) rc = fx_own(t, (uv_handle_t *)&st->client, fx_closed);
    if (rc == 0) rc = uv_tcp_bind(&st->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&st->listener, 8, fx_tcp_accept);
    if (rc == 0) rc = uv_tcp_getsockname(&st->listener, (struct sockaddr *)&bound, &len);
    st->connect.data = t;
    if (rc == 0) rc = uv_tcp_connect(&st->connect, &st->client, (const struct sockaddr *)&bound, fx_tcp_connected);
    return rc; /* on error the core closes what was owned */
}

static void fx_tcp_wrote(uv_write_t *req, int status) {
    (void)status;
    task_done(req->data, -ECANCELED, "cancelled politely");
}

static void fx_tcp_cancel(struct task *t) {
    struct fx_tcp *st = task_state(t);
    uv_buf_t bye = uv_buf_init((char *)"bye", 3);
    st->write.data = t;
    if (uv_write(&st->write, (uv_stream_t *)&st->client, &bye, 1, fx_tcp_wrote) < 0)
        task_done(t, -ECANCELED, "cancelled");
}

static const struct task_ops fx_tcp_ops = {
    .state_size = sizeof(struct fx_tcp),
    .start = fx_tcp_start,
    .cancel = fx_tcp_cancel,
    .destroy = fx_destroy,
};

/* Fills a tree_visit_cb counter: how many task lines, how many of them in a given state. */
struct fx_count {
    const char *state;
    int tasks, in_state;
};

static inline void fx_count_visit(const struct tree_node *n, void *arg) {
    struct fx_count *c = arg;
    if (!n->task) return;
    c->tasks++;
    if (c->state && strcmp(n->state, c->state) == 0) c->in_state++;
}

/* Runs the loop to its end and checks that nothing is left: loop, tasks, groups, fixture handles. */
static inline void fx_run_and_close(uv_loop_t *loop) {
    uv_run(loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(uv_loop_close(loop), 0);
    unsigned tasks, groups;
    task_live_counts(&tasks, &groups);
    TT_ASSERT_INT(tasks, 0);
    TT_ASSERT_INT(groups, 0);
    TT_ASSERT_INT(fx_handles_open, 0);
}

#endif
