/* task.c -- tasks and task groups (see task.h).
 *
 * The core, not the task, decides when a task is DONE: when it has reported done (or been killed) and the close
 * callback of its last owned handle has run. Every task owns at least its grace timer, so DONE always happens in
 * a close callback, never inside the task's own code: the task's memory cannot be freed under its feet. */
#include "tickd/task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/list.h"
#include "tickd/log.h"

#define NAME_LEN 64
#define CAUSE_LEN 128

struct owned {
    uv_handle_t *h;
    uv_close_cb on_closed;
    bool closing;
};

struct task {
    struct task_group *group;
    struct list_link link; /* in group->tasks */
    const struct task_ops *ops;
    void *arg, *state;
    char name[NAME_LEN];
    enum task_state st;
    bool ready, cancel_requested, finishing;
    int status;
    char cause[CAUSE_LEN];
    struct owned *owned; /* owned[0] is the grace timer until the task finishes */
    size_t n_owned, cap_owned;
    uv_timer_t grace;
};

enum group_state { GROUP_RUNNING, GROUP_CANCELLING, GROUP_DONE };
static const char *const group_state_names[] = {"running", "cancelling", "done"};

struct task_group {
    uv_loop_t *loop;
    char name[NAME_LEN];
    struct group_opts opts;
    enum group_state st;
    struct list_link tasks; /* spawn order */
    unsigned live, ready_count, spawned, failed;
    bool cancelled, ready_reported;
    int first_status;
    char first_cause[CAUSE_LEN], first_task[NAME_LEN];
    uv_timer_t tick;     /* deferred work: cancel siblings, report ready, finish */
    uv_timer_t deadline;
    int closing;         /* own handles still closing once DONE */
};

static unsigned live_tasks, live_groups;

static const char *const task_state_names[] = {"new", "starting", "running", "stopping", "done"};

const char *task_state_name(enum task_state s) {
    return (unsigned)s <= TASK_DONE ? task_state_names[s] : "?";
}

void task_live_counts(unsigned *tasks, unsigned *groups) {
    if (tasks) *tasks = live_tasks;
    if (groups) *groups = live_groups;
}

static bool is_failure(int status) {
    return status != 0 && status != -ECANCELED;
}

static void copy_text(char *dst, size_t len, const char *src) {
    snprintf(dst, len, "%s", src ? src : "");
}

/* ---- tasks ---- */

static void group_schedule(struct task_group *g);
static void group_task_finished(struct task_group *g, struct task *t);

static void task_set_state(struct task *t, enum task_state st, const char *cause) {
    if (t->st == st) return;
    t->st = st;
    if (st == TASK_DONE && is_failure(t->status))
        log_warn("task", "state", "group=%s task=%s state=%s status=%d cause=%s", t->group->name, t->name,
                 task_state_name(st), t->status, cause);
    else
        log_info("task", "state", "group=%s task=%s state=%s cause=%s", t->group->name, t->name,
                 task_state_name(st), cause);
}

static struct owned *owned_find(struct task *t, const uv_handle_t *h) {
    for (size_t i = 0; i < t->n_owned; i++)
        if (t->owned[i].h == h) return &t->owned[i];
    return NULL;
}

/* Last close callback of a finished task: it is DONE, tell the group, free everything. */
static void task_retire(struct task *t) {
    struct task_group *g = t->group;
    task_set_state(t, TASK_DONE, t->cause);
    list_remove(&t->link);
    g->live--;
    if (t->ready) g->ready_count--;
    if (t->ops->destroy) t->ops->destroy(t);
    free(t->state);
    free(t->owned);
    free(t);
    live_tasks--;
    group_schedule(g);
}

static void task_handle_closed(uv_handle_t *h) {
    struct task *t = h->data;
    struct owned *o = owned_find(t, h);
    uv_close_cb on_closed = o->on_closed;
    *o = t->owned[--t->n_owned];
    if (on_closed) on_closed(h);
    if (t->finishing && t->n_owned == 0) task_retire(t);
}

static void owned_close(struct task *t, struct owned *o) {
    o->closing = true;
    o->h->data = t;
    uv_close(o->h, task_handle_closed);
}

/* Done or killed: record the outcome once and close every handle; DONE follows from the last close callback. */
static void task_finish(struct task *t, int status, const char *cause) {
    if (t->finishing) return;
    t->finishing = true;
    t->status = status;
    copy_text(t->cause, sizeof t->cause, cause);
    task_set_state(t, TASK_STOPPING, t->cause);
    group_task_finished(t->group, t);
    for (size_t i = 0; i < t->n_owned; i++)
        if (!t->owned[i].closing) owned_close(t, &t->owned[i]);
}

static void task_kill(struct task *t, const char *why) {
    if (t->finishing) return;
    log_warn("task", "killed", "group=%s task=%s cause=%s", t->group->name, t->name, why);
    task_finish(t, -ECANCELED, why);
}

static void task_grace_expired(uv_timer_t *timer) {
    task_kill(timer->data, "did not stop within the grace period");
}

/* Idempotent. The grace timer bounds how long the task's own cancel may take. */
static void task_cancel(struct task *t, const char *why) {
    if (t->finishing || t->cancel_requested) return;
    t->cancel_requested = true;
    task_set_state(t, TASK_STOPPING, why);
    uv_timer_start(&t->grace, task_grace_expired, t->group->opts.grace_ms, 0);
    if (t->ops->cancel) t->ops->cancel(t);
    else task_finish(t, -ECANCELED, why);
}

void task_done(struct task *t, int status, const char *cause) {
    task_finish(t, status, cause);
}

void task_ready(struct task *t) {
    if (t->ready || t->finishing || t->cancel_requested) return;
    t->ready = true;
    t->group->ready_count++;
    task_set_state(t, TASK_RUNNING, "ready");
    group_schedule(t->group);
}

int task_own(struct task *t, uv_handle_t *h, uv_close_cb on_closed) {
    if (t->n_owned == t->cap_owned) {
        size_t cap = t->cap_owned * 2;
        struct owned *grown = realloc(t->owned, cap * sizeof *grown);
        if (!grown) return -ENOMEM;
        t->owned = grown;
        t->cap_owned = cap;
    }
    struct owned *o = &t->owned[t->n_owned++];
    *o = (struct owned){.h = h, .on_closed = on_closed};
    if (t->finishing) owned_close(t, o); /* a late handle of a finishing task closes at once */
    return 0;
}

int task_close(struct task *t, uv_handle_t *h) {
    struct owned *o = owned_find(t, h);
    if (!o) return -ENOENT;
    if (!o->closing) owned_close(t, o);
    return 0;
}

void *task_state(const struct task *t) { return t->state; }
void *task_arg(const struct task *t) { return t->arg; }
const char *task_name(const struct task *t) { return t->name; }
uv_loop_t *task_loop(const struct task *t) { return t->group->loop; }
struct task_group *task_group(const struct task *t) { return t->group; }
enum task_state task_get_state(const struct task *t) { return t->st; }

/* ---- groups ---- */

static void group_set_state(struct task_group *g, enum group_state st, const char *cause) {
    g->st = st;
    log_info("group", "state", "group=%s state=%s cause=%s failed=%u", g->name, group_state_names[st], cause,
             g->failed);
}

static void group_tick(uv_timer_t *timer);

static void group_schedule(struct task_group *g) {
    if (g->st != GROUP_DONE) uv_timer_start(&g->tick, group_tick, 0, 0);
}

static void group_record_error(struct task_group *g, int status, const char *cause, const char *task) {
    if (g->first_status != 0) return;
    g->first_status = status;
    copy_text(g->first_cause, sizeof g->first_cause, cause);
    copy_text(g->first_task, sizeof g->first_task, task);
}

static void group_task_finished(struct task_group *g, struct task *t) {
    if (!is_failure(t->status)) return;
    g->failed++;
    if (g->first_status == 0) {
        log_warn("group", "task failed, cancelling the others", "group=%s task=%s status=%d cause=%s", g->name,
                 t->name, t->status, t->cause);
        group_record_error(g, t->status, t->cause, t->name);
    }
    if (g->st == GROUP_RUNNING) group_set_state(g, GROUP_CANCELLING, "task failed");
    group_schedule(g);
}

static void group_closed(uv_handle_t *h) {
    struct task_group *g = h->data;
    if (--g->closing > 0) return;
    int status = g->first_status ? g->first_status : g->cancelled ? -ECANCELED : 0;
    struct group_result r = {.status = status, .cause = g->first_cause, .task = g->first_task, .failed = g->failed};
    if (g->opts.on_done) g->opts.on_done(g, &r, g->opts.data);
    free(g);
    live_groups--;
}

static void group_finish(struct task_group *g) {
    group_set_state(g, GROUP_DONE, g->first_status ? g->first_cause : g->cancelled ? "cancelled" : "completed");
    g->closing = 2;
    uv_close((uv_handle_t *)&g->tick, group_closed);
    uv_close((uv_handle_t *)&g->deadline, group_closed);
}

/* Runs in its own loop turn, never inside a task's callback. */
static void group_tick(uv_timer_t *timer) {
    struct task_group *g = timer->data;
    if (g->st == GROUP_CANCELLING) {
        const char *why = g->first_status ? "group failing" : "group cancelled";
        struct list_link *l, *tmp;
        list_for_each_safe(l, tmp, &g->tasks) task_cancel(list_entry(l, struct task, link), why);
    } else if (!g->ready_reported && g->live > 0 && g->ready_count == g->live) {
        g->ready_reported = true;
        log_info("group", "ready", "group=%s tasks=%u", g->name, g->live);
        if (g->opts.on_ready) g->opts.on_ready(g, g->opts.data);
    }
    if (g->live == 0 && (g->st == GROUP_CANCELLING || g->spawned > 0)) group_finish(g);
}

static void group_deadline_passed(uv_timer_t *timer) {
    group_cancel(timer->data, -ETIMEDOUT, "deadline exceeded");
}

int group_new(uv_loop_t *loop, const char *name, const struct group_opts *opts, struct task_group **out) {
    if (!loop || !name || !opts || !out) return -EINVAL;
    struct task_group *g = calloc(1, sizeof *g);
    if (!g) return -ENOMEM;
    g->loop = loop;
    copy_text(g->name, sizeof g->name, name);
    g->opts = *opts;
    list_init(&g->tasks);
    if (g->opts.grace_ms == 0) g->opts.grace_ms = TASK_GRACE_DEFAULT_MS;
    uv_timer_init(loop, &g->tick);
    uv_timer_init(loop, &g->deadline);
    g->tick.data = g->deadline.data = g;
    if (opts->deadline_ms) uv_timer_start(&g->deadline, group_deadline_passed, opts->deadline_ms, 0);
    live_groups++;
    group_set_state(g, GROUP_RUNNING, "created");
    *out = g;
    return 0;
}

int group_spawn(struct task_group *g, const struct task_ops *ops, const char *name, void *arg, struct task **out) {
    if (!g || !ops || !ops->start || !name) return -EINVAL;
    if (g->st != GROUP_RUNNING) {
        log_info("group", "spawn refused", "group=%s task=%s state=%s", g->name, name, group_state_names[g->st]);
        return -ECANCELED;
    }
    struct task *t = calloc(1, sizeof *t);
    if (!t) goto fail;
    t->cap_owned = 4;
    t->owned = malloc(t->cap_owned * sizeof *t->owned);
    if (!t->owned) goto fail;
    if (ops->state_size && !(t->state = calloc(1, ops->state_size))) goto fail;

    t->group = g;
    t->ops = ops;
    t->arg = arg;
    copy_text(t->name, sizeof t->name, name);
    uv_timer_init(g->loop, &t->grace);
    t->grace.data = t;
    t->owned[t->n_owned++] = (struct owned){.h = (uv_handle_t *)&t->grace};
    list_insert_before(&g->tasks, &t->link);
    g->live++;
    g->spawned++;
    live_tasks++;
    log_info("task", "state", "group=%s task=%s state=%s cause=spawned", g->name, t->name, task_state_name(t->st));
    if (out) *out = t;

    task_set_state(t, TASK_STARTING, "start");
    int rc = ops->start(t);
    if (rc < 0) task_finish(t, rc, "start failed");
    return 0;
fail:
    if (t) free(t->owned);
    free(t);
    return -ENOMEM;
}

void group_cancel(struct task_group *g, int status, const char *cause) {
    if (g->st == GROUP_DONE) return;
    if (is_failure(status)) group_record_error(g, status, cause, "");
    g->cancelled = true;
    if (g->st == GROUP_RUNNING) group_set_state(g, GROUP_CANCELLING, cause ? cause : "cancelled");
    group_schedule(g);
}

void group_kill(struct task_group *g) {
    group_cancel(g, -ECANCELED, "killed");
    struct list_link *l, *tmp;
    list_for_each_safe(l, tmp, &g->tasks) task_kill(list_entry(l, struct task, link), "group killed");
}

const char *group_name(const struct task_group *g) { return g->name; }

bool group_is_ready(const struct task_group *g) {
    return g->st == GROUP_RUNNING && g->live > 0 && g->ready_count == g->live;
}

void group_visit_tasks(const struct task_group *g, tree_visit_cb cb, void *arg) {
    for (const struct list_link *l = g->tasks.next; l != &g->tasks; l = l->next) {
        const struct task *t = list_entry(l, const struct task, link);
        struct tree_node n = {.group = g->name, .task = t->name, .state = task_state_name(t->st),
                              .ready = t->ready, .status = t->status, .cause = t->finishing ? t->cause : ""};
        cb(&n, arg);
    }
}
