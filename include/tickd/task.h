/* task.h -- tasks and task groups: the structured-concurrency core of tickd.
 *
 * TASKS. A task is one unit of work on the libuv loop: one REST poller, one websocket subscriber. It lives in
 * a group (group_spawn() is the only way to make one) and moves through NEW -> STARTING -> RUNNING -> STOPPING
 * -> DONE. Its behaviour is a `struct task_ops`, written with designated initializers:
 *
 *     static const struct task_ops poller_ops = {
 *         .state_size = sizeof(struct poller), // zeroed memory owned by the task: task_state(t)
 *         .start = poller_start,               // open handles, begin work; 0 or a negative errno
 *         .cancel = poller_cancel,             // optional: stop politely, then call task_done()
 *         .destroy = poller_destroy,           // optional: release what the state points to
 *     };
 *     group_spawn(group, &poller_ops, "binance-rest", cfg, NULL);
 *
 * A task reports twice. task_ready() once, when it is doing its job (connected and subscribed, first poll
 * answered): STARTING -> RUNNING. task_done(t, status, cause) once, when it is finished: status 0 for a job
 * completed, -ECANCELED after a cancel, any other negative errno for a failure; `cause` is a short text for
 * the log. Later reports are ignored, so a task never needs to remember whether it already reported.
 *
 * HANDLES. A task registers each uv handle it opens with task_own(), right after uv_*_init(). When the task is
 * finished the core closes whatever it still owns, and the task becomes DONE only after the last close
 * callback: then destroy() runs and the state is freed. So "done" always means "no handle left open", and a
 * task that is torn down hard leaks nothing. Convention: set each handle's `data` to the task and reach your
 * state through task_state(). Without a cancel op, cancelling a task simply closes its handles.
 *
 * GROUPS. A group owns its tasks, like a Trio nursery or a libdill bundle. The first failure of a task (a
 * status other than 0 and -ECANCELED) is recorded with its cause; from then on the group refuses new tasks
 * and cancels every other task from a deferred callback (never from inside the failing task's callback). A
 * cancelled task that is not DONE within the group's grace period is torn down hard: its handles are closed
 * for it. A group can be cancelled from outside and can carry a deadline. When its last task is DONE the group
 * reports once through on_done() (outcome, first error, failed count) and is freed when on_done() returns.
 * The group is ready (on_ready(), once) when all its live tasks are ready.
 *
 * Everything here runs on the loop's thread. Every state change is one log line with group=, task=, state=. */
#ifndef TICKD_TASK_H
#define TICKD_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct task;
struct task_group;

enum task_state { TASK_NEW, TASK_STARTING, TASK_RUNNING, TASK_STOPPING, TASK_DONE };

struct task_ops {
    size_t state_size;                  /* bytes of zeroed state the core allocates and frees */
    int (*start)(struct task *t);       /* required; a negative return fails the task */
    void (*cancel)(struct task *t);     /* optional; called at most once; must lead to task_done() */
    void (*destroy)(struct task *t);    /* optional; after the last handle closed, before the state is freed */
};

/* What a finished group reports. status: 0 when every task completed, the first failure's status, or
 * -ECANCELED when cancelled from outside without a failure (-ETIMEDOUT when its deadline passed). */
struct group_result {
    int status;
    const char *cause;   /* text of the first failure or of the cancel; "" when status is 0 */
    const char *task;    /* name of the task that failed first, or "" */
    unsigned failed;     /* how many tasks failed */
};

struct group_opts {
    uint64_t grace_ms;    /* a cancelled task must be DONE within this; 0 means TASK_GRACE_DEFAULT_MS */
    uint64_t deadline_ms; /* 0: none; else the group fails with -ETIMEDOUT after running this long */
    void (*on_ready)(struct task_group *g, void *data);
    void (*on_done)(struct task_group *g, const struct group_result *r, void *data); /* last call; g freed after */
    void *data;
};
#define TASK_GRACE_DEFAULT_MS 5000

/* One line of the tree, for stats, status output and tests (see also supervisor_visit()). Strings are
 * borrowed for the duration of the callback. */
struct tree_node {
    const char *group;
    const char *task;      /* NULL for a group's own line */
    const char *state;
    bool ready;
    unsigned restarts;     /* groups under a supervisor */
    int status;            /* last error (negative) or 0 */
    const char *cause;     /* its text, or "" */
};
typedef void (*tree_visit_cb)(const struct tree_node *node, void *arg);

/* Groups. */
int group_new(uv_loop_t *loop, const char *name, const struct group_opts *opts, struct task_group **out);
/* Spawns and starts a task. 0 (out, if given, is valid until the task is DONE), -ECANCELED when the group is
 * cancelling or done, -EINVAL, -ENOMEM. A failing start() still returns 0: the failure reaches the group. */
int group_spawn(struct task_group *g, const struct task_ops *ops, const char *name, void *arg, struct task **out);
/* Cancels every task (deferred). A status other than 0/-ECANCELED is recorded as the group's error. */
void group_cancel(struct task_group *g, int status, const char *cause);
/* Hard: tears every task down now, without waiting for grace. For shutdown deadlines. */
void group_kill(struct task_group *g);
const char *group_name(const struct task_group *g);
bool group_is_ready(const struct task_group *g);
void group_visit_tasks(const struct task_group *g, tree_visit_cb cb, void *arg);

/* Tasks (called by task code). */
void *task_state(const struct task *t);
void *task_arg(const struct task *t);
const char *task_name(const struct task *t);
uv_loop_t *task_loop(const struct task *t);
struct task_group *task_group(const struct task *t);
enum task_state task_get_state(const struct task *t);
/* Hands an initialized handle to the task; on_closed (may be NULL) runs after it closed, e.g. to free it.
 * Never uv_close() an owned handle yourself: use task_close(). -ENOMEM: not owned, close it yourself. */
int task_own(struct task *t, uv_handle_t *h, uv_close_cb on_closed);
/* Closes one owned handle early. Takes over h->data (it becomes the task). -ENOENT if not owned. */
int task_close(struct task *t, uv_handle_t *h);
void task_ready(struct task *t);
void task_done(struct task *t, int status, const char *cause);

const char *task_state_name(enum task_state s);
/* Tasks and groups alive in the process: both return to zero when everything is torn down. */
void task_live_counts(unsigned *tasks, unsigned *groups);

#endif
