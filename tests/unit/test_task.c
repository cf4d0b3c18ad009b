/* Unit tests of tasks and task groups on a real libuv loop, with real timers and loopback TCP sockets. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "task_fixtures.h"
#include "tickd/log.h"
#include "tt.h"

/* What a group reported, kept for assertions after the loop returns. */
struct outcome {
    int done_calls, ready_calls;
    int status;
    unsigned failed;
    char cause[128], task[64];
    int handles_open_at_done;
    int late_spawn; /* group_spawn() from inside on_done */
    uint64_t done_at;
    uv_loop_t *loop;
};

static void on_done(struct task_group *g, const struct group_result *r, void *data) {
    struct outcome *o = data;
    o->done_calls++;
    o->status = r->status;
    o->failed = r->failed;
    snprintf(o->cause, sizeof o->cause, "%s", r->cause);
    snprintf(o->task, sizeof o->task, "%s", r->task);
    o->handles_open_at_done = fx_handles_open;
    o->done_at = uv_now(o->loop);
    o->late_spawn = group_spawn(g, &fx_timer_ops, "late", NULL, NULL);
}

static void on_ready(struct task_group *g, void *data) {
    (void)g;
    ((struct outcome *)data)->ready_calls++;
}

static void cancel_when_ready(struct task_group *g, void *data) {
    on_ready(g, data);
    group_cancel(g, -ECANCELED, "test cancels");
}

static struct task_group *new_group(uv_loop_t *loop, struct outcome *o, struct group_opts opts) {
    struct task_group *g = NULL;
    memset(o, 0, sizeof *o);
    o->loop = loop;
    opts.on_done = on_done;
    if (!opts.on_ready) opts.on_ready = on_ready;
    opts.data = o;
    TT_ASSERT_INT(group_new(loop, "g", &opts, &g), 0);
    return g;
}

/* Checked inside the failing task's own callback: the siblings must not be cancelled yet (deferred), and the
 * group must already refuse new tasks. */
static int stopping_inside_callback = -1, spawn_inside_callback;

static void fail_and_probe(uv_timer_t *h) {
    struct task *t = h->data;
    task_done(t, -EPIPE, "first");
    struct fx_count c = {.state = "stopping"};
    group_visit_tasks(task_group(t), fx_count_visit, &c);
    stopping_inside_callback = c.in_state;
    spawn_inside_callback = group_spawn(task_group(t), &fx_timer_ops, "after", NULL, NULL);
}

static int probe_start(struct task *t) {
    uv_timer_t *timer = fx_owned_timer(t);
    uv_timer_start(timer, fail_and_probe, 30, 0);
    return 0;
}

static const struct task_ops probe_ops = {.state_size = sizeof(uv_timer_t), .start = probe_start};

static void test_failure_cancels_siblings_once(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct outcome o;
    struct task_group *g = new_group(&loop, &o, (struct group_opts){.grace_ms = 5000});
    struct fx_timer_cfg forever = {.after_ms = FX_NEVER};
    struct fx_timer_cfg second = {.after_ms = 30, .status = -ECONNRESET, .cause = "second"};
    TT_ASSERT_INT(group_spawn(g, &fx_tcp_ops, "tcp1", NULL, NULL), 0);
    TT_ASSERT_INT(group_spawn(g, &fx_tcp_ops, "tcp2", NULL, NULL), 0);
    TT_ASSERT_INT(group_spawn(g, &fx_timer_ops, "idle", &forever, NULL), 0);
    TT_ASSERT_INT(group_spawn(g, &probe_ops, "failer", NULL, NULL), 0);
    TT_ASSERT_INT(group_spawn(g, &fx_timer_ops, "failer2", &second, NULL), 0); /* fails in the same loop turn */
    fx_run_and_close(&loop);

    TT_ASSERT_INT(stopping_inside_callback, 1); /* only the failing task itself */
    TT_ASSERT_INT(spawn_inside_callback, -ECANCELED);
    TT_ASSERT_INT(o.done_calls, 1);
    TT_ASSERT_INT(o.status, -EPIPE);
    TT_ASSERT_STR(o.cause, "first");
    TT_ASSERT_STR(o.task, "failer");
    TT_ASSERT_INT(o.failed, 2);
    TT_ASSERT_INT(o.handles_open_at_done, 0);
    TT_ASSERT_INT(o.late_spawn, -ECANCELED);
}

static void test_done_only_after_handles_closed(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct outcome o;
    fx_destroyed = 0;
    struct task_group *g = new_group(&loop, &o, (struct group_opts){.on_ready = cancel_when_ready});
    for (int i = 0; i < 5; i++) TT_ASSERT_INT(group_spawn(g, &fx_tcp_ops, "tcp", NULL, NULL), 0);
    fx_run_and_close(&loop);

    TT_ASSERT_INT(o.ready_calls, 1);
    TT_ASSERT_INT(o.done_calls, 1);
    TT_ASSERT_INT(o.status, -ECANCELED);
    TT_ASSERT_INT(o.failed, 0);
    TT_ASSERT_INT(o.handles_open_at_done, 0);
    TT_ASSERT_INT(fx_destroyed, 5);
}

static void cancel_now(uv_timer_t *h) {
    group_cancel(h->data, -ECANCELED, "test cancels");
    uv_close((uv_handle_t *)h, NULL);
}

static void test_ignoring_cancel_is_killed_after_grace(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct outcome o;
    struct task_group *g = new_group(&loop, &o, (struct group_opts){.grace_ms = 150});
    struct fx_timer_cfg forever = {.after_ms = FX_NEVER};
    TT_ASSERT_INT(group_spawn(g, &fx_stubborn_ops, "deaf", &forever, NULL), 0);
    TT_ASSERT_INT(group_spawn(g, &fx_tcp_ops, "polite", NULL, NULL), 0);
    uv_timer_t trigger;
    uv_timer_init(&loop, &trigger);
    trigger.data = g;
    uv_timer_start(&trigger, cancel_now, 20, 0);
    uint64_t start = uv_now(&loop);
    fx_run_and_close(&loop);

    TT_ASSERT_INT(o.done_calls, 1);
    TT_ASSERT_INT(o.status, -ECANCELED);
    TT_ASSERT_INT(o.failed, 0);
    TT_ASSERT_INT(o.handles_open_at_done, 0);
    TT_ASSERT(o.done_at - start >= 20 + 150); /* the deaf task held the group until its grace ran out */
}

static void test_deadline_fails_group(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct outcome o;
    struct task_group *g = new_group(&loop, &o, (struct group_opts){.deadline_ms = 50});
    struct fx_timer_cfg forever = {.after_ms = FX_NEVER};
    TT_ASSERT_INT(group_spawn(g, &fx_timer_ops, "slow", &forever, NULL), 0);
    TT_ASSERT_INT(group_spawn(g, &fx_tcp_ops, "tcp", NULL, NULL), 0);
    fx_run_and_close(&loop);

    TT_ASSERT_INT(o.status, -ETIMEDOUT);
    TT_ASSERT_STR(o.cause, "deadline exceeded");
    TT_ASSERT_INT(o.failed, 0);
}

static int failing_start(struct task *t) {
    fx_owned_timer(t);
    return -EADDRINUSE; /* the core closes the timer */
}

static const struct task_ops failing_start_ops = {.state_size = sizeof(uv_timer_t), .start = failing_start};

static void test_start_failure_and_completion(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct outcome o;
    struct task_group *g = new_group(&loop, &o, (struct group_opts){0});
    TT_ASSERT_INT(group_spawn(g, &failing_start_ops, "bad", NULL, NULL), 0);
    TT_ASSERT_INT(group_spawn(g, &fx_tcp_ops, "tcp", NULL, NULL), -ECANCELED); /* already failing */
    fx_run_and_close(&loop);
    TT_ASSERT_INT(o.status, -EADDRINUSE);
    TT_ASSERT_STR(o.cause, "start failed");
    TT_ASSERT_INT(o.handles_open_at_done, 0);

    uv_loop_init(&loop);
    g = new_group(&loop, &o, (struct group_opts){0});
    struct fx_timer_cfg ok = {.after_ms = 10, .status = 0, .cause = "finished"};
    for (int i = 0; i < 3; i++) TT_ASSERT_INT(group_spawn(g, &fx_timer_ops, "job", &ok, NULL), 0);
    fx_run_and_close(&loop);
    TT_ASSERT_INT(o.status, 0);
    TT_ASSERT_INT(o.failed, 0);
    TT_ASSERT_INT(o.ready_calls, 1);
}

/* A second done and a late ready are ignored; so is a second cancel. */
static void report_twice(uv_timer_t *h) {
    struct task *t = h->data;
    task_done(t, -EPIPE, "once");
    task_done(t, -EIO, "twice");
    task_ready(t);
}

static int cancel_calls;

static void finish_later(uv_timer_t *h) {
    task_done(h->data, -ECANCELED, "cancelled");
}

static void slow_cancel(struct task *t) {
    cancel_calls++;
    uv_timer_start(task_state(t), finish_later, 20, 0);
}

static int twice_start(struct task *t) {
    uv_timer_t *timer = fx_owned_timer(t);
    uv_timer_start(timer, report_twice, 5, 0);
    return 0;
}

static const struct task_ops twice_ops = {.state_size = sizeof(uv_timer_t), .start = twice_start};
static const struct task_ops slow_cancel_ops = {
    .state_size = sizeof(uv_timer_t), .start = fx_timer_start, .cancel = slow_cancel};

static void test_second_reports_are_ignored(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct outcome o;
    struct task_group *g = new_group(&loop, &o, (struct group_opts){0});
    TT_ASSERT_INT(group_spawn(g, &twice_ops, "twice", NULL, NULL), 0);
    fx_run_and_close(&loop);
    TT_ASSERT_INT(o.done_calls, 1);
    TT_ASSERT_INT(o.status, -EPIPE);
    TT_ASSERT_STR(o.cause, "once");
    TT_ASSERT_INT(o.failed, 1);
    TT_ASSERT_INT(o.ready_calls, 0);

    uv_loop_init(&loop);
    g = new_group(&loop, &o, (struct group_opts){0});
    struct fx_timer_cfg forever = {.after_ms = FX_NEVER};
    TT_ASSERT_INT(group_spawn(g, &slow_cancel_ops, "slow", &forever, NULL), 0);
    group_cancel(g, -ECANCELED, "a");
    group_cancel(g, -ECANCELED, "b");
    fx_run_and_close(&loop);
    TT_ASSERT_INT(cancel_calls, 1);
    TT_ASSERT_INT(o.status, -ECANCELED);
    TT_ASSERT_INT(o.handles_open_at_done, 0);
}

int main(void) {
    alarm(60); /* a hung loop fails the run instead of blocking it */
    TT_RUN(test_failure_cancels_siblings_once);
    TT_RUN(test_done_only_after_handles_closed);
    TT_RUN(test_ignoring_cancel_is_killed_after_grace);
    TT_RUN(test_deadline_fails_group);
    TT_RUN(test_start_failure_and_completion);
    TT_RUN(test_second_reports_are_ignored);
    return tt_finish();
}
