/* supervisor.c -- restarts, parking and orderly stop of task groups (see supervisor.h).
 *
 * Each group spec lives in a `child`, which keeps the spec, the running group (if any), the restart history
 * and one timer. The timer's meaning follows the child's state: backoff before a restart, the park cool-down,
 * or the forgiveness period while the group runs; the states never overlap, so one timer is enough. A source's
 * recovery only moves that timer earlier (see RECOVERY in supervisor.h). */
#include "tickd/supervisor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tickd/backoff.h"
#include "tickd/list.h"
#include "tickd/log.h"

enum child_state { CHILD_RUNNING, CHILD_BACKOFF, CHILD_PARKED, CHILD_STOPPING, CHILD_STOPPED };
static const char *const child_state_names[] = {"running", "backoff", "parked", "stopping", "stopped"};

enum after_stop { AFTER_NOTHING, AFTER_REMOVE, AFTER_REPLACE };

struct child {
    struct supervisor *sup;
    struct list_link link; /* in sup->children */
    char name[64];
    char source[64];
    struct group_spec spec;      /* spec.name points at name, spec.source at source (or is NULL) */
    enum child_state st;
    enum after_stop after_stop;
    struct task_group *group;    /* NULL unless running or stopping */
    bool ready;
    uv_timer_t timer;
    uint64_t recent[SUPERVISOR_MAX_RESTARTS]; /* loop times of the restarts still inside the window */
    unsigned n_recent, restarts;
    int last_status;
    char last_error[128];
    bool cut;       /* the current wait was shortened by the source's recovery */
    bool by_cut;    /* the running group was started by such a cut */
    bool cut_spent; /* a cut restart failed on its own: no cut until ready or restarted on its own timer */
};

struct supervisor {
    uv_loop_t *loop;
    struct supervisor_opts opts;
    uint64_t rng;
    struct list_link children; /* in the order added: started first to last, stopped last to first */
    unsigned parked, pending_closes;
    bool exit_reported, stopping, finishing;
    uv_timer_t deadline;
};

static void child_set_state(struct child *c, enum child_state st, const char *cause) {
    c->st = st;
    log_info("supervisor", "state", "group=%s state=%s cause=%s", c->name, child_state_names[st], cause);
}

static void sup_closed_one(struct supervisor *s) {
    if (--s->pending_closes > 0 || !s->finishing) return;
    log_info("supervisor", "stopped", "groups=0");
    if (s->opts.on_done) s->opts.on_done(s, s->opts.data);
    free(s);
}

static void child_closed(uv_handle_t *h) {
    struct child *c = h->data;
    struct supervisor *s = c->sup;
    free(c);
    sup_closed_one(s);
}

static void deadline_closed(uv_handle_t *h) {
    sup_closed_one(h->data);
}

/* Ends a backoff or a park without starting the group. */
static void child_halt(struct child *c) {
    uv_timer_stop(&c->timer);
    c->cut = false;
    if (c->st == CHILD_PARKED) c->sup->parked--;
}

static void child_forget(struct child *c) {
    struct supervisor *s = c->sup;
    child_halt(c);
    list_remove(&c->link);
    s->pending_closes++;
    uv_close((uv_handle_t *)&c->timer, child_closed);
}

static struct child *child_of(const struct list_link *l) {
    return list_entry(l, struct child, link);
}

static struct child *child_find(const struct supervisor *s, const char *name) {
    for (const struct list_link *l = s->children.next; l != &s->children; l = l->next)
        if (strcmp(child_of(l)->name, name) == 0) return child_of(l);
    return NULL;
}

static void child_start(struct child *c);

static void child_forgive(uv_timer_t *timer) {
    struct child *c = timer->data;
    if (c->n_recent == 0) return;
    log_info("supervisor", "forgiven", "group=%s restarts=%u", c->name, c->n_recent);
    c->n_recent = 0;
}

static void child_on_ready(struct task_group *g, void *data) {
    (void)g;
    struct child *c = data;
    c->ready = true;
    c->cut_spent = false;
    if (c->sup->opts.forgive_after_ms) uv_timer_start(&c->timer, child_forgive, c->sup->opts.forgive_after_ms, 0);
}

static void child_timer_start(uv_timer_t *timer) {
    struct child *c = timer->data;
    c->by_cut = c->cut;
    c->cut = false;
    if (!c->by_cut) c->cut_spent = false; /* what the backoff alone would have done: the cut may be tried again */
    if (c->st == CHILD_PARKED) {
        c->sup->parked--;
        /* A park that ran its course starts afresh; one cut short keeps the history that parked the group,
         * so that a cause that did not end parks it again at its next failure. */
        if (!c->by_cut) c->n_recent = 0;
    }
    child_start(c);
}

static void park(struct child *c) {
    struct supervisor *s = c->sup;
    char at[32];
    time_t when = time(NULL) + (time_t)(s->opts.park_ms / 1000);
    struct tm tm;
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
    c->st = CHILD_PARKED;
    s->parked++;
    log_warn("supervisor", "parked", "group=%s state=parked restarts=%u window_ms=%llu retry_in_ms=%llu "
             "retry_at=%s cause=%s", c->name, c->n_recent, (unsigned long long)s->opts.restart_window_ms,
             (unsigned long long)s->opts.park_ms, at, c->last_error);
    uv_timer_start(&c->timer, child_timer_start, s->opts.park_ms, 0);
    if (s->parked > s->opts.max_parked && !s->exit_reported) {
        s->exit_reported = true;
        log_error("supervisor", "too many groups parked, exiting", "parked=%u max_parked=%u status=%d", s->parked,
                  s->opts.max_parked, SUPERVISOR_EXIT_STATUS);
        if (s->opts.on_exit) s->opts.on_exit(s, SUPERVISOR_EXIT_STATUS, "too many groups parked", s->opts.data);
    }
}

/* Restart intensity: the history keeps only the restarts inside the window; one more than allowed parks. An
 * uncounted restart is not added to it: it neither brings the group closer to a park nor lengthens its backoff,
 * though a history that is already full still parks it. */
static void schedule_restart(struct child *c, int status, const char *cause, bool counted) {
    struct supervisor *s = c->sup;
    uint64_t now = uv_now(s->loop);
    unsigned kept = 0;
    c->cut = false;
    for (unsigned i = 0; i < c->n_recent; i++)
        if (now - c->recent[i] < s->opts.restart_window_ms) c->recent[kept++] = c->recent[i];
    c->n_recent = kept;
    if (c->n_recent >= s->opts.max_restarts) {
        park(c);
        return;
    }
    if (counted) c->recent[c->n_recent++] = now;
    c->restarts++;
    unsigned attempt = c->n_recent ? c->n_recent : 1;
    uint64_t delay = backoff_delay_ms(s->opts.backoff_min_ms, s->opts.backoff_max_ms, attempt, &s->rng);
    c->st = CHILD_BACKOFF;
    log_at(status ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, "supervisor", "restart",
           "group=%s state=backoff attempt=%u backoff_ms=%llu status=%d cause=%s", c->name, attempt,
           (unsigned long long)delay, status, cause);
    uv_timer_start(&c->timer, child_timer_start, delay, 0);
}

static void sup_stop_next(struct supervisor *s);

static void child_on_done(struct task_group *g, const struct group_result *r, void *data) {
    (void)g;
    struct child *c = data;
    struct supervisor *s = c->sup;
    bool was_ready = c->ready, was_cut = c->by_cut;
    c->group = NULL;
    c->ready = false;
    c->by_cut = false;
    uv_timer_stop(&c->timer);
    bool failed = r->status != 0 && r->status != -ECANCELED;
    if (failed) {
        c->last_status = r->status;
        snprintf(c->last_error, sizeof c->last_error, "%s%s%s", r->task, *r->task ? ": " : "", r->cause);
    }
    if (c->after_stop == AFTER_REMOVE) {
        child_forget(c);
    } else if (c->after_stop == AFTER_REPLACE && !s->stopping) {
        c->after_stop = AFTER_NOTHING;
        child_start(c);
    } else if (s->stopping) {
        child_set_state(c, CHILD_STOPPED, "supervisor stopping");
    } else if (c->spec.restart == RESTART_TEMPORARY || (c->spec.restart == RESTART_TRANSIENT && !failed)) {
        child_set_state(c, CHILD_STOPPED, failed ? "temporary group failed" : "group completed");
    } else {
        /* A group restarted early that was ready and then failed again met a source still in trouble (drops):
         * that failure is the source's, not the group's, so it does not count towards the group's park, and
         * the source's next evidence may cut the wait again. A connect per evidence at most, each through the
         * source's connect limiter. */
        schedule_restart(c, r->status, failed ? c->last_error : "group completed", !(was_cut && was_ready));
        if (was_cut && (!was_ready || c->st == CHILD_PARKED)) c->cut_spent = true;
    }
    if (s->stopping) sup_stop_next(s);
}

static void child_start(struct child *c) {
    struct supervisor *s = c->sup;
    struct group_opts go = {.grace_ms = s->opts.grace_ms, .on_ready = child_on_ready, .on_done = child_on_done,
                            .data = c};
    int rc = group_new(s->loop, c->name, &go, &c->group);
    if (rc < 0) {
        c->last_status = rc;
        snprintf(c->last_error, sizeof c->last_error, "group_new: %s", uv_strerror(rc));
        schedule_restart(c, rc, c->last_error, true);
        return;
    }
    child_set_state(c, CHILD_RUNNING, c->restarts ? "restart" : "start");
    rc = c->spec.spawn(c->group, c->spec.arg);
    if (rc < 0) group_cancel(c->group, rc, "spawn failed");
}

static void child_stop(struct child *c, enum after_stop after, const char *why) {
    if (after != AFTER_NOTHING) c->after_stop = after;
    if (c->st != CHILD_STOPPING) child_set_state(c, CHILD_STOPPING, why);
    group_cancel(c->group, -ECANCELED, why);
}

static void child_set_spec(struct child *c, const struct group_spec *spec) {
    snprintf(c->name, sizeof c->name, "%s", spec->name);
    snprintf(c->source, sizeof c->source, "%s", spec->source ? spec->source : "");
    c->spec = *spec;
    c->spec.name = c->name;
    c->spec.source = spec->source ? c->source : NULL;
}

int supervisor_new(uv_loop_t *loop, const struct supervisor_opts *o, struct supervisor **out) {
    if (!loop || !o || !out || o->backoff_min_ms == 0 || o->backoff_max_ms < o->backoff_min_ms ||
        o->max_restarts == 0 || o->max_restarts > SUPERVISOR_MAX_RESTARTS || o->restart_window_ms == 0)
        return -EINVAL;
    struct supervisor *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->loop = loop;
    s->opts = *o;
    list_init(&s->children);
    s->rng = o->seed ? o->seed : uv_hrtime();
    uv_timer_init(loop, &s->deadline);
    s->deadline.data = s;
    *out = s;
    return 0;
}

int supervisor_add_group(struct supervisor *s, const struct group_spec *spec) {
    if (!spec || !spec->name || !spec->spawn) return -EINVAL;
    if (s->stopping) return -ECANCELED;
    if (child_find(s, spec->name)) return -EEXIST;
    struct child *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    c->sup = s;
    child_set_spec(c, spec);
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    list_insert_before(&s->children, &c->link);
    child_start(c);
    return 0;
}

int supervisor_replace_group(struct supervisor *s, const struct group_spec *spec) {
    if (!spec || !spec->name || !spec->spawn) return -EINVAL;
    if (s->stopping) return -ECANCELED;
    struct child *c = child_find(s, spec->name);
    if (!c) return supervisor_add_group(s, spec);
    child_set_spec(c, spec);
    c->n_recent = 0;
    c->cut_spent = false;
    if (c->group) {
        child_stop(c, AFTER_REPLACE, "replaced");
    } else {
        child_halt(c);
        child_start(c);
    }
    return 0;
}

int supervisor_remove_group(struct supervisor *s, const char *name) {
    struct child *c = child_find(s, name);
    if (!c) return -ENOENT;
    if (c->group) child_stop(c, AFTER_REMOVE, "removed");
    else child_forget(c);
    return 0;
}

static struct tree_node child_node(const struct child *c) {
    return (struct tree_node){.group = c->name, .state = child_state_names[c->st], .ready = c->ready,
                              .restarts = c->restarts, .status = c->last_status, .cause = c->last_error};
}

int supervisor_lookup(const struct supervisor *s, const char *name, struct tree_node *out) {
    const struct child *c = child_find(s, name);
    if (!c) return -ENOENT;
    *out = child_node(c);
    return 0;
}

void supervisor_visit(const struct supervisor *s, tree_visit_cb cb, void *arg) {
    for (const struct list_link *l = s->children.next; l != &s->children; l = l->next) {
        const struct child *c = child_of(l);
        struct tree_node n = child_node(c);
        cb(&n, arg);
        if (c->group) group_visit_tasks(c->group, cb, arg);
    }
}

static void sup_finish(struct supervisor *s) {
    s->finishing = true;
    uv_timer_stop(&s->deadline);
    while (!list_empty(&s->children)) child_forget(child_of(s->children.next));
    s->pending_closes++;
    uv_close((uv_handle_t *)&s->deadline, deadline_closed);
}

/* Stops one group at a time, last added first; called again each time a group is done. */
static void sup_stop_next(struct supervisor *s) {
    if (s->finishing) return;
    for (struct list_link *l = s->children.prev; l != &s->children; l = l->prev) {
        struct child *c = child_of(l);
        if (c->st == CHILD_STOPPING) return;
        if (c->st == CHILD_RUNNING) {
            child_stop(c, AFTER_NOTHING, "supervisor stopping");
            return;
        }
        if (c->st != CHILD_STOPPED) {
            child_halt(c);
            child_set_state(c, CHILD_STOPPED, "supervisor stopping");
        }
    }
    sup_finish(s);
}

static void sup_deadline_passed(uv_timer_t *timer) {
    struct supervisor *s = timer->data;
    log_warn("supervisor", "stop deadline passed, killing the remaining groups", "parked=%u", s->parked);
    for (struct list_link *l = s->children.prev, *prev = l->prev; l != &s->children; l = prev, prev = l->prev) {
        struct child *c = child_of(l);
        if (c->group) {
            if (c->st != CHILD_STOPPING) child_set_state(c, CHILD_STOPPING, "stop deadline");
            group_kill(c->group);
        }
    }
}

void supervisor_stop(struct supervisor *s, uint64_t deadline_ms) {
    if (s->stopping) return;
    s->stopping = true;
    log_info("supervisor", "stopping", "deadline_ms=%llu", (unsigned long long)deadline_ms);
    uv_timer_start(&s->deadline, sup_deadline_passed, deadline_ms, 0);
    sup_stop_next(s);
}

void supervisor_source_recovered(struct supervisor *s, const char *source) {
    if (!s || !source || s->stopping) return;
    uint64_t cap = s->opts.recovery_delay_ms ? s->opts.recovery_delay_ms : SUPERVISOR_RECOVERY_DELAY_MS;
    struct list_link *l, *tmp;
    list_for_each_safe(l, tmp, &s->children) {
        struct child *c = child_of(l);
        if ((c->st != CHILD_BACKOFF && c->st != CHILD_PARKED) || c->cut || c->cut_spent || !c->spec.source ||
            strcmp(c->source, source) != 0)
            continue;
        uint64_t left = uv_timer_get_due_in(&c->timer);
        /* Jittered, so that the groups of a source do not all ask for a connect in the same instant. */
        uint64_t delay = prng_next(&s->rng) % (cap + 1);
        if (delay >= left) continue;
        c->cut = true;
        log_info("supervisor", "source recovered", "group=%s source=%s state=%s restart_in_ms=%llu was_in_ms=%llu",
                 c->name, c->source, child_state_names[c->st], (unsigned long long)delay, (unsigned long long)left);
        uv_timer_start(&c->timer, child_timer_start, delay, 0);
    }
}
