/* Unit tests of the supervisor on a real libuv loop: backoff, restart types, parking, forgiveness, the
 * process-wide exit, orderly stop, runtime add/remove/replace. Groups are built from fixture timer and TCP tasks. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "task_fixtures.h"
#include "tickd/backoff.h"
#include "tickd/log.h"
#include "tickd/supervisor.h"
#include "tt.h"

/* ---- helpers ---- */

struct later {
    uv_timer_t timer;
    void (*fn)(void *arg);
    void *arg;
};

static void later_closed(uv_handle_t *h) {
    free(h);
}

static void later_fired(uv_timer_t *h) {
    struct later *l = (struct later *)h;
    l->fn(l->arg);
    uv_close((uv_handle_t *)h, later_closed);
}

/* Runs fn(arg) after ms on loop. */
static void at(uv_loop_t *loop, uint64_t ms, void (*fn)(void *), void *arg) {
    struct later *l = calloc(1, sizeof *l);
    l->fn = fn;
    l->arg = arg;
    uv_timer_init(loop, &l->timer);
    uv_timer_start(&l->timer, later_fired, ms, 0);
}

struct sup_run {
    uv_loop_t *loop;
    struct supervisor *sup;
    int done_calls, exit_calls, exit_status;
    unsigned parked_at_exit;
    uint64_t stop_at, done_at;
};

static void on_sup_done(struct supervisor *s, void *data) {
    (void)s;
    struct sup_run *r = data;
    r->done_calls++;
    r->done_at = uv_now(r->loop);
}

static void on_sup_exit(struct supervisor *s, int status, const char *cause, void *data) {
    (void)cause;
    struct sup_run *r = data;
    r->exit_calls++;
    r->exit_status = status;
    supervisor_stop(s, 2000);
}

static struct supervisor_opts base_opts(struct sup_run *r) {
    return (struct supervisor_opts){
        .backoff_min_ms = 5, .backoff_max_ms = 20, .max_restarts = 50, .restart_window_ms = 60000,
        .forgive_after_ms = 0, .park_ms = 60000, .max_parked = 10, .grace_ms = 1000, .seed = 42,
        .on_exit = on_sup_exit, .on_done = on_sup_done, .data = r,
    };
}

static void start_sup(uv_loop_t *loop, struct sup_run *r, const struct supervisor_opts *opts) {
    memset(r, 0, sizeof *r);
    r->loop = loop;
    TT_ASSERT_INT(supervisor_new(loop, opts, &r->sup), 0);
}

static void stop_sup(void *arg) {
    struct sup_run *r = arg;
    r->stop_at = uv_now(r->loop);
    supervisor_stop(r->sup, 5000);
}

/* A group of one timer task (arg: its fx_timer_cfg) and one loopback TCP task. */
static int spawn_timer_and_tcp(struct task_group *g, void *arg) {
    int rc = group_spawn(g, &fx_timer_ops, "timer", arg, NULL);
    return rc < 0 ? rc : group_spawn(g, &fx_tcp_ops, "tcp", NULL, NULL);
}

/* A group of two timer tasks: it completes when both have. */
static int spawn_timers(struct task_group *g, void *arg) {
    int rc = group_spawn(g, &fx_timer_ops, "timer1", arg, NULL);
    return rc < 0 ? rc : group_spawn(g, &fx_timer_ops, "timer2", arg, NULL);
}

static struct group_spec spec(const char *name, enum restart_type type, struct fx_timer_cfg *cfg) {
    return (struct group_spec){.name = name, .restart = type, .spawn = spawn_timer_and_tcp, .arg = cfg};
}

/* Lines of the tree captured before the stop. */
#define MAX_SNAP 8
struct snap {
    struct sup_run *run;
    const char *names[MAX_SNAP];
    struct tree_node node[MAX_SNAP];
    char cause[MAX_SNAP][128], state[MAX_SNAP][16];
    int rc[MAX_SNAP];
};

static void snapshot_and_stop(void *arg) {
    struct snap *sn = arg;
    for (int i = 0; i < MAX_SNAP && sn->names[i]; i++) {
        sn->rc[i] = supervisor_lookup(sn->run->sup, sn->names[i], &sn->node[i]);
        if (sn->rc[i] == 0) {
            snprintf(sn->cause[i], sizeof sn->cause[i], "%s", sn->node[i].cause);
            snprintf(sn->state[i], sizeof sn->state[i], "%s", sn->node[i].state);
        }
    }
    stop_sup(sn->run);
}

/* ---- tests ---- */

static void test_backoff_within_floor_and_cap_growing_jittered(void) {
    uint64_t rng = 7, prev_max = 0;
    for (unsigned attempt = 1; attempt <= 8; attempt++) {
        uint64_t cap = 100ULL << attempt;
        if (cap > 5000) cap = 5000;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (int i = 0; i < 2000; i++) {
            uint64_t d = backoff_delay_ms(100, 5000, attempt, &rng);
            TT_ASSERT(d >= 100 && d <= cap);
            if (d < lo) lo = d;
            if (d > hi) hi = d;
        }
        TT_ASSERT(hi > lo);                           /* jittered */
        TT_ASSERT(hi >= prev_max);                    /* grows until the cap */
        TT_ASSERT(hi * 10 >= cap * 9);                /* reaches near its cap */
        prev_max = hi;
    }
    TT_ASSERT(prev_max <= 5000);
    uint64_t a = 99, b = 99;
    for (int i = 0; i < 10; i++) TT_ASSERT_INT(backoff_delay_ms(10, 1000, 3, &a), backoff_delay_ms(10, 1000, 3, &b));
}

static void test_restart_types(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    start_sup(&loop, &r, &o);
    struct fx_timer_cfg ok = {.after_ms = 10, .status = 0, .cause = "finished"};
    struct fx_timer_cfg fail = {.after_ms = 10, .status = -EPIPE, .cause = "feed broken"};
    struct group_spec specs[] = {
        {.name = "perm-ok", .restart = RESTART_PERMANENT, .spawn = spawn_timers, .arg = &ok},
        {.name = "trans-ok", .restart = RESTART_TRANSIENT, .spawn = spawn_timers, .arg = &ok},
        spec("trans-fail", RESTART_TRANSIENT, &fail), spec("temp-fail", RESTART_TEMPORARY, &fail),
    };
    struct snap sn = {.run = &r};
    for (int i = 0; i < 4; i++) {
        TT_ASSERT_INT(supervisor_add_group(r.sup, &specs[i]), 0);
        sn.names[i] = specs[i].name;
    }
    TT_ASSERT_INT(supervisor_add_group(r.sup, &specs[0]), -EEXIST);
    at(&loop, 400, snapshot_and_stop, &sn);
    fx_run_and_close(&loop);

    TT_ASSERT_INT(r.done_calls, 1);
    TT_ASSERT_INT(r.exit_calls, 0);
    TT_ASSERT(sn.node[0].restarts >= 2); /* permanent: restarted even after a clean exit */
    TT_ASSERT_INT(sn.node[1].restarts, 0);
    TT_ASSERT_STR(sn.state[1], "stopped");
    TT_ASSERT(sn.node[2].restarts >= 2);
    TT_ASSERT_INT(sn.node[2].status, -EPIPE);
    TT_ASSERT_INT(sn.node[3].restarts, 0);
    TT_ASSERT_STR(sn.state[3], "stopped");
    TT_ASSERT_STR(sn.cause[3], "timer: feed broken");
}

static void test_intensity_limit_parks(void) {
    char tmpl[] = "/tmp/tickd-supXXXXXX";
    int fd = mkstemp(tmpl);
    unlink(tmpl);
    log_set_fd(fd);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    o.max_restarts = 3;
    start_sup(&loop, &r, &o);
    struct fx_timer_cfg fail = {.after_ms = 1, .status = -EPIPE, .cause = "storm"};
    struct group_spec s = spec("stormy", RESTART_PERMANENT, &fail);
    struct snap sn = {.run = &r, .names = {"stormy"}};
    TT_ASSERT_INT(supervisor_add_group(r.sup, &s), 0);
    at(&loop, 500, snapshot_and_stop, &sn);
    fx_run_and_close(&loop);
    log_set_fd(-1);

    char text[65536];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    text[n < 0 ? 0 : n] = 0;
    TT_ASSERT_STR(sn.state[0], "parked");
    TT_ASSERT_INT(sn.node[0].restarts, 3);
    TT_ASSERT(strstr(text, "msg=parked group=stormy state=parked restarts=3") != NULL);
    TT_ASSERT(strstr(text, "retry_in_ms=60000 retry_at=") != NULL);
    TT_ASSERT(strstr(text, "msg=restart group=stormy state=backoff attempt=3 backoff_ms=") != NULL);
    TT_ASSERT_INT(r.exit_calls, 0);
}

static void test_forgiveness_clears_history(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run forgiving, strict;
    struct supervisor_opts o = base_opts(&forgiving);
    o.max_restarts = 2;
    o.forgive_after_ms = 30;
    start_sup(&loop, &forgiving, &o);
    o = base_opts(&strict);
    o.max_restarts = 2;
    start_sup(&loop, &strict, &o);

    struct fx_timer_cfg fail_late = {.after_ms = 80, .status = -EPIPE, .cause = "stale feed"};
    struct group_spec s = spec("g", RESTART_PERMANENT, &fail_late);
    TT_ASSERT_INT(supervisor_add_group(forgiving.sup, &s), 0);
    TT_ASSERT_INT(supervisor_add_group(strict.sup, &s), 0);
    struct snap a = {.run = &forgiving, .names = {"g"}}, b = {.run = &strict, .names = {"g"}};
    at(&loop, 800, snapshot_and_stop, &a);
    at(&loop, 800, snapshot_and_stop, &b);
    fx_run_and_close(&loop);

    TT_ASSERT(a.node[0].restarts >= 4); /* beyond max_restarts: each run was ready long enough to be forgiven */
    TT_ASSERT(strcmp(a.state[0], "parked") != 0);
    TT_ASSERT_STR(b.state[0], "parked");
    TT_ASSERT_INT(b.node[0].restarts, 2);
}

static void test_too_many_parked_reports_exit(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    o.max_restarts = 1;
    o.max_parked = 1;
    start_sup(&loop, &r, &o);
    struct fx_timer_cfg fail = {.after_ms = 1, .status = -EPIPE, .cause = "down"};
    struct group_spec s1 = spec("a", RESTART_PERMANENT, &fail), s2 = spec("b", RESTART_PERMANENT, &fail),
                      s3 = spec("c", RESTART_TRANSIENT, &fail);
    TT_ASSERT_INT(supervisor_add_group(r.sup, &s1), 0);
    TT_ASSERT_INT(supervisor_add_group(r.sup, &s2), 0);
    TT_ASSERT_INT(supervisor_add_group(r.sup, &s3), 0);
    fx_run_and_close(&loop); /* on_sup_exit stops the supervisor */

    TT_ASSERT_INT(r.exit_calls, 1);
    TT_ASSERT_INT(r.exit_status, SUPERVISOR_EXIT_STATUS);
    TT_ASSERT_INT(r.done_calls, 1);
}

/* Records the order in which groups' tasks are destroyed: the task is named after its group. */
static char stop_order[16];

static void record_order(struct task *t) {
    size_t n = strlen(stop_order);
    if (n + 1 < sizeof stop_order) stop_order[n] = task_name(t)[0];
}

static const struct task_ops ordered_tcp_ops = {
    .state_size = sizeof(struct fx_tcp), .start = fx_tcp_start, .cancel = fx_tcp_cancel, .destroy = record_order};

static int spawn_ordered(struct task_group *g, void *arg) {
    (void)arg;
    return group_spawn(g, &ordered_tcp_ops, group_name(g), NULL, NULL);
}

static void test_stop_in_reverse_order_before_deadline(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    start_sup(&loop, &r, &o);
    const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        struct group_spec s = {.name = names[i], .restart = RESTART_PERMANENT, .spawn = spawn_ordered};
        TT_ASSERT_INT(supervisor_add_group(r.sup, &s), 0);
    }
    stop_order[0] = 0;
    at(&loop, 100, stop_sup, &r);
    fx_run_and_close(&loop);

    TT_ASSERT_STR(stop_order, "dcba");
    TT_ASSERT_INT(r.done_calls, 1);
    TT_ASSERT(r.done_at - r.stop_at < 5000);
}

static int spawn_stubborn(struct task_group *g, void *arg) {
    return group_spawn(g, &fx_stubborn_ops, "deaf", arg, NULL);
}

static void stop_fast(void *arg) {
    struct sup_run *r = arg;
    r->stop_at = uv_now(r->loop);
    supervisor_stop(r->sup, 100);
}

static void test_stop_deadline_kills_what_is_left(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    o.grace_ms = 60000; /* only the stop deadline can end the deaf task in time */
    start_sup(&loop, &r, &o);
    struct fx_timer_cfg forever = {.after_ms = FX_NEVER};
    struct group_spec s = {.name = "deaf", .restart = RESTART_PERMANENT, .spawn = spawn_stubborn, .arg = &forever};
    TT_ASSERT_INT(supervisor_add_group(r.sup, &s), 0);
    struct group_spec t = spec("fine", RESTART_PERMANENT, &forever);
    TT_ASSERT_INT(supervisor_add_group(r.sup, &t), 0);
    at(&loop, 50, stop_fast, &r);
    fx_run_and_close(&loop);

    TT_ASSERT_INT(r.done_calls, 1);
    TT_ASSERT(r.done_at - r.stop_at >= 100);
    TT_ASSERT(r.done_at - r.stop_at < 10000);
}

/* Each spec's arg counts how often its spawn ran. */
static int spawn_counted(struct task_group *g, void *arg) {
    static struct fx_timer_cfg forever = {.after_ms = FX_NEVER};
    (*(int *)arg)++;
    return group_spawn(g, &fx_timer_ops, "t", &forever, NULL);
}

struct reload {
    struct sup_run *run;
    int spawns_a, spawns_b;
    int rc_remove, rc_remove_again, rc_replace, rc_add;
    char state_after_remove[16];
};

static void reload_step(void *arg) {
    struct reload *rl = arg;
    struct supervisor *s = rl->run->sup;
    struct tree_node n;
    rl->rc_remove = supervisor_remove_group(s, "x");
    supervisor_lookup(s, "x", &n);
    snprintf(rl->state_after_remove, sizeof rl->state_after_remove, "%s", n.state);
    rl->rc_replace = supervisor_replace_group(
        s, &(struct group_spec){.name = "y", .restart = RESTART_PERMANENT, .spawn = spawn_counted, .arg = &rl->spawns_b});
    rl->rc_add = supervisor_add_group(
        s, &(struct group_spec){.name = "z", .restart = RESTART_TEMPORARY, .spawn = spawn_counted, .arg = &rl->spawns_b});
}

static void check_and_stop(void *arg) {
    struct reload *rl = arg;
    struct tree_node n;
    rl->rc_remove_again = supervisor_lookup(rl->run->sup, "x", &n);
    stop_sup(rl->run);
}

static void test_add_remove_replace_at_runtime(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    start_sup(&loop, &r, &o);
    struct reload rl = {.run = &r};
    struct group_spec x = {.name = "x", .restart = RESTART_PERMANENT, .spawn = spawn_counted, .arg = &rl.spawns_a};
    struct group_spec y = x;
    y.name = "y";
    TT_ASSERT_INT(supervisor_add_group(r.sup, &x), 0);
    TT_ASSERT_INT(supervisor_add_group(r.sup, &y), 0);
    at(&loop, 50, reload_step, &rl);
    at(&loop, 200, check_and_stop, &rl);
    fx_run_and_close(&loop);

    TT_ASSERT_INT(rl.rc_remove, 0);
    TT_ASSERT_STR(rl.state_after_remove, "stopping");
    TT_ASSERT_INT(rl.rc_remove_again, -ENOENT);
    TT_ASSERT_INT(rl.rc_replace, 0);
    TT_ASSERT_INT(rl.rc_add, 0);
    TT_ASSERT_INT(rl.spawns_a, 2); /* x and y once each, nothing restarted */
    TT_ASSERT_INT(rl.spawns_b, 2); /* y again under its new spec, and z */
    TT_ASSERT_INT(r.done_calls, 1);
}

/* ---- recovery: evidence that a source works again cuts the wait of its failed groups ---- */

/* A task that fails after after_ms without ever being ready: a cause of its own (a refused subscription). */
static int fail_unready_start(struct task *t) {
    uv_timer_t *timer = fx_owned_timer(t);
    const struct fx_timer_cfg *cfg = task_arg(t);
    uv_timer_start(timer, fx_timer_fired, cfg->after_ms, 0);
    return 0;
}

static const struct task_ops fail_unready_ops = {
    .state_size = sizeof(uv_timer_t), .start = fail_unready_start, .destroy = fx_destroy};

struct counted {
    int spawns;
    const struct task_ops *ops;
    struct fx_timer_cfg cfg;
};

static int spawn_counted_task(struct task_group *g, void *arg) {
    struct counted *c = arg;
    c->spawns++;
    return group_spawn(g, c->ops, "feed", &c->cfg, NULL);
}

static struct group_spec source_spec(const char *name, const char *source, struct counted *c) {
    return (struct group_spec){.name = name, .restart = RESTART_PERMANENT, .spawn = spawn_counted_task, .arg = c,
                               .source = source};
}

static int add_with_source(struct supervisor *sup, const char *name, const char *source, struct counted *c) {
    struct group_spec s = source_spec(name, source, c);
    return supervisor_add_group(sup, &s);
}

struct recovery {
    struct sup_run *run;
    const char *source;
    int spawns_at[4];
    struct counted *watch[4];
    char state[4][16];
};

static void signal_recovered(void *arg) {
    struct recovery *rv = arg;
    supervisor_source_recovered(rv->run->sup, rv->source);
}

static void recovery_snapshot_and_stop(void *arg) {
    struct recovery *rv = arg;
    for (int i = 0; i < 4 && rv->watch[i]; i++) {
        rv->spawns_at[i] = rv->watch[i]->spawns;
        char name[16];
        snprintf(name, sizeof name, "g%d", i);
        struct tree_node n;
        if (supervisor_lookup(rv->run->sup, name, &n) == 0) snprintf(rv->state[i], sizeof rv->state[i], "%s", n.state);
    }
    stop_sup(rv->run);
}

static void test_recovery_restarts_waiting_groups_of_that_source_only(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    o.backoff_min_ms = o.backoff_max_ms = 30000; /* only the recovery can restart a group within the test */
    o.recovery_delay_ms = 50;
    start_sup(&loop, &r, &o);
    /* Ready, then dropped: the storm. g0 and g1 on "alpha", g2 on "beta", g3 on no source. */
    struct counted c[4];
    for (int i = 0; i < 4; i++) c[i] = (struct counted){.ops = &fx_timer_ops, .cfg = {.after_ms = 5, .status = -EPIPE}};
    TT_ASSERT_INT(add_with_source(r.sup, "g0", "alpha", &c[0]), 0);
    TT_ASSERT_INT(add_with_source(r.sup, "g1", "alpha", &c[1]), 0);
    TT_ASSERT_INT(add_with_source(r.sup, "g2", "beta", &c[2]), 0);
    TT_ASSERT_INT(add_with_source(r.sup, "g3", NULL, &c[3]), 0);
    struct recovery rv = {.run = &r, .source = "alpha", .watch = {&c[0], &c[1], &c[2], &c[3]}};
    at(&loop, 100, signal_recovered, &rv);
    at(&loop, 400, recovery_snapshot_and_stop, &rv);
    fx_run_and_close(&loop);

    TT_ASSERT_INT(rv.spawns_at[0], 2); /* restarted within recovery_delay_ms of the evidence, not after 30 s */
    TT_ASSERT_INT(rv.spawns_at[1], 2);
    TT_ASSERT_INT(rv.spawns_at[2], 1); /* another source's group keeps its backoff */
    TT_ASSERT_INT(rv.spawns_at[3], 1);
    TT_ASSERT_STR(rv.state[0], "backoff"); /* failed again: a full backoff, the cut was once */
    TT_ASSERT_STR(rv.state[2], "backoff");
}

static void test_recovery_cuts_once_per_failure_not_per_signal(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    o.backoff_min_ms = o.backoff_max_ms = 30000;
    o.recovery_delay_ms = 20;
    start_sup(&loop, &r, &o);
    /* g0 fails before it is ready, for a cause of its own, while its source keeps answering (a healthy sibling
     * polls every 25 ms): one early restart, then its own backoff, not a restart per answer. */
    struct counted c0 = {.ops = &fail_unready_ops, .cfg = {.after_ms = 5, .status = -EPROTO}};
    TT_ASSERT_INT(add_with_source(r.sup, "g0", "alpha", &c0), 0);
    struct recovery rv = {.run = &r, .source = "alpha", .watch = {&c0}};
    for (uint64_t t = 50; t < 1000; t += 25) at(&loop, t, signal_recovered, &rv);
    at(&loop, 1100, recovery_snapshot_and_stop, &rv);
    fx_run_and_close(&loop);

    TT_ASSERT_INT(rv.spawns_at[0], 2);
    TT_ASSERT_STR(rv.state[0], "backoff");
}

static void test_recovery_ends_a_park_but_keeps_its_history(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    o.backoff_min_ms = o.backoff_max_ms = 1;
    o.max_restarts = 2;
    o.recovery_delay_ms = 20;
    start_sup(&loop, &r, &o);
    struct counted c0 = {.ops = &fx_timer_ops, .cfg = {.after_ms = 5, .status = -EPIPE}};
    TT_ASSERT_INT(add_with_source(r.sup, "g0", "alpha", &c0), 0);
    struct recovery rv = {.run = &r, .source = "alpha", .watch = {&c0}};
    at(&loop, 150, signal_recovered, &rv);
    for (uint64_t t = 300; t < 600; t += 25) at(&loop, t, signal_recovered, &rv);
    at(&loop, 700, recovery_snapshot_and_stop, &rv);
    fx_run_and_close(&loop);

    /* Start and two restarts, parked; the evidence restarts it once; it fails again and, its history kept, is
     * parked at once (a fresh history would have allowed two more restarts); that failed early restart spends
     * the cut: the later evidence leaves the park alone. */
    TT_ASSERT_INT(rv.spawns_at[0], 4);
    TT_ASSERT_STR(rv.state[0], "parked");
    TT_ASSERT_INT(r.exit_calls, 0);
}

static void test_recovery_during_drops_does_not_park(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor_opts o = base_opts(&r);
    o.backoff_min_ms = o.backoff_max_ms = 30000;
    o.max_restarts = 3;
    o.recovery_delay_ms = 10;
    start_sup(&loop, &r, &o);
    /* The venue drops every connection just after it subscribed, and its other connections keep subscribing:
     * each drop waits for the next evidence, but these failures are the source's, not the group's. */
    struct counted c0 = {.ops = &fx_timer_ops, .cfg = {.after_ms = 5, .status = -ECONNRESET}};
    TT_ASSERT_INT(add_with_source(r.sup, "g0", "alpha", &c0), 0);
    struct recovery rv = {.run = &r, .source = "alpha", .watch = {&c0}};
    for (uint64_t t = 50; t < 800; t += 50) at(&loop, t, signal_recovered, &rv);
    at(&loop, 900, recovery_snapshot_and_stop, &rv);
    fx_run_and_close(&loop);

    TT_ASSERT(rv.spawns_at[0] >= 10); /* one restart per evidence */
    TT_ASSERT_STR(rv.state[0], "backoff"); /* three restarts were allowed: the early ones are not counted */
}

static void test_rejects_bad_options(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sup_run r;
    struct supervisor *s = NULL;
    struct supervisor_opts o = base_opts(&r);
    o.backoff_max_ms = 1;
    TT_ASSERT_INT(supervisor_new(&loop, &o, &s), -EINVAL);
    o = base_opts(&r);
    o.max_restarts = SUPERVISOR_MAX_RESTARTS + 1;
    TT_ASSERT_INT(supervisor_new(&loop, &o, &s), -EINVAL);
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
}

int main(void) {
    alarm(120); /* a hung loop fails the run instead of blocking it */
    TT_RUN(test_backoff_within_floor_and_cap_growing_jittered);
    TT_RUN(test_restart_types);
    TT_RUN(test_intensity_limit_parks);
    TT_RUN(test_forgiveness_clears_history);
    TT_RUN(test_too_many_parked_reports_exit);
    TT_RUN(test_stop_in_reverse_order_before_deadline);
    TT_RUN(test_stop_deadline_kills_what_is_left);
    TT_RUN(test_add_remove_replace_at_runtime);
    TT_RUN(test_recovery_restarts_waiting_groups_of_that_source_only);
    TT_RUN(test_recovery_cuts_once_per_failure_not_per_signal);
    TT_RUN(test_recovery_ends_a_park_but_keeps_its_history);
    TT_RUN(test_recovery_during_drops_does_not_park);
    TT_RUN(test_rejects_bad_options);
    return tt_finish();
}
