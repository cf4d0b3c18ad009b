/* daemon.c -- the daemon's loop: logging from [daemon], then wait for SIGTERM/SIGINT and shut down cleanly.
 * The runtime (sinks, supervisor, sources) starts and stops here; until it exists the loop holds only the
 * signal watchers. */
#include "tickd/daemon.h"

#include <signal.h>
#include <unistd.h>
#include <uv.h>

struct daemon {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    int stop_signal;
};

static void on_closed(uv_handle_t *h) { (void)h; /* the handles live in struct daemon on the stack */ }

static void on_signal(uv_signal_t *sig, int signum) {
    struct daemon *d = sig->data;
    if (d->stop_signal) return;
    d->stop_signal = signum;
    log_info("daemon", "stopping", "signal=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    uv_close((uv_handle_t *)&d->sigterm, on_closed);
    uv_close((uv_handle_t *)&d->sigint, on_closed);
}

int daemon_run(const struct tickd_config *cfg) {
    struct daemon d = {0};
    int rc;
    log_setup(cfg->daemon.log_level, cfg->daemon.log_format);
    log_info("daemon", "starting", "version=%s", TICKD_VERSION);
    config_log_summary(cfg);
    /* A Redis or RabbitMQ peer that goes away must give a write error, not kill the process. */
    signal(SIGPIPE, SIG_IGN);

    if ((rc = uv_loop_init(&d.loop)) < 0) goto fail;
    uv_signal_init(&d.loop, &d.sigterm);
    uv_signal_init(&d.loop, &d.sigint);
    d.sigterm.data = d.sigint.data = &d;
    if ((rc = uv_signal_start(&d.sigterm, on_signal, SIGTERM)) < 0 ||
        (rc = uv_signal_start(&d.sigint, on_signal, SIGINT)) < 0) {
        uv_close((uv_handle_t *)&d.sigterm, on_closed);
        uv_close((uv_handle_t *)&d.sigint, on_closed);
        uv_run(&d.loop, UV_RUN_DEFAULT);
        uv_loop_close(&d.loop);
        goto fail;
    }
    log_info("daemon", "running", "pid=%d", (int)getpid());
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if ((rc = uv_loop_close(&d.loop)) < 0) {
        log_error("daemon", "handles left open at exit", "error=%s", uv_strerror(rc));
        return rc;
    }
    log_info("daemon", "stopped", "signal=%d", d.stop_signal);
    return 0;
fail:
    log_error("daemon", "cannot start the loop", "error=%s", uv_strerror(rc));
    return rc;
}
