/* notify.c -- see notify.h. */
#include "tickd/notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "tickd/log.h"

void notify_ready(void) { sd_notify(0, "READY=1"); }
void notify_reloading(void) { sd_notify(0, "RELOADING=1"); }
void notify_stopping(void) { sd_notify(0, "STOPPING=1"); }

void notify_status(const char *fmt, ...) {
    char msg[512] = "STATUS=";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + 7, sizeof msg - 7, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    sd_notify(0, msg);
}

static void watchdog_tick(uv_timer_t *t) {
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

int notify_watchdog_start(uv_loop_t *loop, struct notify_watchdog *wd) {
    uint64_t usec = 0;
    wd->interval_ms = 0;
    wd->on_closed = NULL;
    int rc = uv_timer_init(loop, &wd->timer);
    if (rc < 0) return rc;
    wd->timer.data = wd;
    /* sd_watchdog_enabled() also checks $WATCHDOG_PID, so a child we spawn never pings on our behalf. */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        wd->interval_ms = usec / 2000; /* half the period, in ms */
        if (wd->interval_ms == 0) wd->interval_ms = 1;
        rc = uv_timer_start(&wd->timer, watchdog_tick, wd->interval_ms, wd->interval_ms);
        if (rc < 0) return rc;
        log_info("notify", "watchdog enabled", "interval_ms=%llu", (unsigned long long)wd->interval_ms);
    }
    uv_unref((uv_handle_t *)&wd->timer);
    return 0;
}

static void watchdog_closed(uv_handle_t *h) {
    struct notify_watchdog *wd = h->data;
    if (wd->on_closed) wd->on_closed(wd);
}

void notify_watchdog_close(struct notify_watchdog *wd, void (*on_closed)(struct notify_watchdog *)) {
    wd->on_closed = on_closed;
    if (!uv_is_closing((uv_handle_t *)&wd->timer)) uv_close((uv_handle_t *)&wd->timer, watchdog_closed);
}
