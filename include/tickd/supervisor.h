/* supervisor.h -- keeps task groups running: restarts with backoff, parking, orderly stop.
 *
 * The supervisor does not hold groups directly but *group specs*: a name, a restart type and a spawn callback
 * that fills a fresh group with its tasks. So it can rebuild a group whenever the old one is done:
 *
 *     static int binance_spawn(struct task_group *g, void *cfg) {
 *         return group_spawn(g, &ws_ops, "ws", cfg, NULL);
 *     }
 *     supervisor_add_group(sup, &(struct group_spec){.name = "binance", .restart = RESTART_PERMANENT,
 *                                                    .spawn = binance_spawn, .arg = cfg});
 *
 * RESTARTS (the Erlang/OTP rules). When a group is done, its restart type decides: permanent groups always
 * restart, transient ones only after a failure (an outcome other than 0 or -ECANCELED), temporary ones never
 * (they stay in the tree as "stopped" until removed). A restart waits a backoff with full jitter: a random
 * delay in [backoff_min, cap], where cap doubles with each recent restart up to backoff_max. More than
 * max_restarts restarts within restart_window park the group for park_ms (logged as "parked" with the time it
 * retries); a group that has been ready for forgive_after has its restart history cleared. When more than
 * max_parked groups are parked at once, on_exit() is called with a non-zero exit status: the daemon exits and
 * lets systemd restart it.
 *
 * RECOVERY. A backoff assumes the cause lasts. A group knows its source (spec.source), and when the source shows
 * that the venue works again (a connection subscribed, a REST answer parsed: the tasks report it through
 * supervisor_source_recovered()), the groups of that source waiting after a failure, in backoff or parked,
 * restart after a jittered delay of at most recovery_delay_ms instead of the rest of their wait; their connects
 * still queue behind the source's limiter. A waiting group is cut once per wait, so evidence while no group of
 * the source waits does nothing, and a stream of answers is not a stream of restarts. A cut never clears the
 * restart history: a parked group restarted early that fails again is parked again at once (only a park that
 * ran its course starts afresh), and is not cut again before that. A group restarted early that was ready and
 * then failed met a source still in trouble (drops): that failure does not count towards its park, and the
 * next evidence may cut its wait again. One that failed before it was ready had a cause of its own, which its
 * siblings' health says nothing about: it is not cut again until it has been ready or restarted on its own
 * timer, so beside healthy siblings it restarts at most twice as often as its backoff alone would allow.
 *
 * CHANGES AT RUNTIME (config reload). add starts a new group; replace swaps the spec of an existing one (its
 * running group is stopped and then restarted at once under the new spec); remove stops a group and then
 * forgets it.
 *
 * STOP. supervisor_stop() stops the groups one by one in the reverse order they were added; when the deadline
 * passes, the ones left are killed at once. Then on_done() is called and the supervisor is freed.
 *
 * The tree (groups with their state, restarts and last error, then their tasks) is visible through
 * supervisor_visit(). Jitter comes from a seedable PRNG, so tests are deterministic. */
#ifndef TICKD_SUPERVISOR_H
#define TICKD_SUPERVISOR_H

#include <stdint.h>

#include "tickd/task.h"

struct supervisor;

enum restart_type { RESTART_PERMANENT, RESTART_TRANSIENT, RESTART_TEMPORARY };

struct group_spec {
    const char *name;                                /* unique in the supervisor; copied */
    enum restart_type restart;
    int (*spawn)(struct task_group *g, void *arg);   /* fills the group; a negative return fails it */
    void *arg;                                       /* borrowed: must outlive the spec's use */
    const char *source;                              /* the source whose health its restarts follow; copied; NULL: none */
};

#define SUPERVISOR_MAX_RESTARTS 64 /* largest max_restarts accepted */
#define SUPERVISOR_EXIT_STATUS 1
#define SUPERVISOR_RECOVERY_DELAY_MS 500 /* spreads a source's restarts after it recovered, well within 2 s */

struct supervisor_opts {
    uint64_t backoff_min_ms, backoff_max_ms;   /* 1 <= min <= max */
    unsigned max_restarts;                     /* 1..SUPERVISOR_MAX_RESTARTS */
    uint64_t restart_window_ms;
    uint64_t forgive_after_ms;                 /* 0: never forgive */
    uint64_t park_ms;
    unsigned max_parked;                       /* on_exit() when more groups than this are parked */
    uint64_t grace_ms;                         /* each group's grace period (0: TASK_GRACE_DEFAULT_MS) */
    uint64_t recovery_delay_ms;                /* longest wait after its source recovered (0: SUPERVISOR_RECOVERY_DELAY_MS) */
    uint64_t seed;                             /* jitter PRNG seed; 0 takes one from the clock */
    void (*on_exit)(struct supervisor *s, int exit_status, const char *cause, void *data); /* at most once */
    void (*on_done)(struct supervisor *s, void *data); /* after stop; s is freed when it returns */
    void *data;
};

/* -EINVAL for inconsistent options. */
int supervisor_new(uv_loop_t *loop, const struct supervisor_opts *opts, struct supervisor **out);
/* Starts the group now. -EEXIST for a taken name, -ECANCELED while stopping. */
int supervisor_add_group(struct supervisor *s, const struct group_spec *spec);
/* Adds the spec, or swaps it in for the group of the same name and restarts that group without backoff. */
int supervisor_replace_group(struct supervisor *s, const struct group_spec *spec);
/* Stops the group (deferred), then forgets it. -ENOENT if unknown. */
int supervisor_remove_group(struct supervisor *s, const char *name);
/* Fills out with the group's line of the tree. -ENOENT if unknown. */
int supervisor_lookup(const struct supervisor *s, const char *name, struct tree_node *out);
/* Visits each group's line (task == NULL), then each of its tasks. */
void supervisor_visit(const struct supervisor *s, tree_visit_cb cb, void *arg);
void supervisor_stop(struct supervisor *s, uint64_t deadline_ms);
/* Evidence that the venue behind `source` works now: cuts the wait of that source's failed groups (RECOVERY). */
void supervisor_source_recovered(struct supervisor *s, const char *source);

#endif
