/* daemon.h -- runs tickd on a loaded configuration until SIGTERM or SIGINT.
 *
 * For now it only sets up logging, logs the effective configuration and waits for a signal; the sources,
 * sinks and supervisor tree attach here as they arrive. */
#ifndef TICKD_DAEMON_H
#define TICKD_DAEMON_H

#include "tickd/config.h"

/* Returns 0 after a clean shutdown (every handle closed, uv_loop_close() == 0), a negative value otherwise. */
int daemon_run(const struct tickd_config *cfg);

#endif
