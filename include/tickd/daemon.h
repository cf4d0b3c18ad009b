/* daemon.h -- runs tickd: the tree of the running process, from the loop down to every task.
 *
 *     root (this module, on one libuv loop)
 *      ├── sinks: merge → Redis writer (hiredis on the loop) + RabbitMQ publisher (its own thread)
 *      ├── sources: one rate limiter and counters per [[source]], kept across group restarts and reloads
 *      └── supervisor → groups → tasks (poll and stream tasks, see source.h)
 *
 * Start: sinks first, then sources, then the groups; READY=1 once the sinks are connected and every group has
 * started (ready, or failed and scheduled for a restart). Stop (SIGTERM/SIGINT): the supervisor stops the groups
 * in reverse order, then the sinks flush within their deadline, then every handle is closed and the loop ends
 * with uv_loop_close() == 0. Reload (SIGHUP): see daemon.c. */
#ifndef TICKD_DAEMON_H
#define TICKD_DAEMON_H

#include "tickd/config.h"

struct daemon_opts {
    const char *status_socket; /* NULL: status_default_path() */
};

/* Takes ownership of cfg. Returns the process exit status: 0 after a clean stop, 1 when the supervisor gave up
 * (too many groups parked) or a handle was left open, 70 when the runtime could not start. */
int daemon_run(struct tickd_config *cfg, const struct daemon_opts *opts);

#endif
