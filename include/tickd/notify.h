/* notify.h -- the daemon's side of systemd's Type=notify protocol.
 *
 * Messages go to $NOTIFY_SOCKET without ever blocking the loop (nothing is sent when it is unset,
 * so the same binary runs outside systemd). What this adds is the watchdog: a loop timer that sends WATCHDOG=1 at
 * half of $WATCHDOG_USEC. Because it runs on the ingest loop, a stuck loop stops the pings and systemd kills us;
 * a dead exchange does not, since the loop keeps turning. */
#ifndef TICKD_NOTIFY_H
#define TICKD_NOTIFY_H

#include <stdint.h>
#include <uv.h>

struct notify_watchdog {
    uv_timer_t timer;
    uint64_t interval_ms; /* 0 when systemd asked for no watchdog */
    void (*on_closed)(void *arg);
    void *closed_arg;
};

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
/* STATUS=<one line>; newlines are replaced, since the protocol is line-based. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Starts the watchdog timer if $WATCHDOG_USEC asks for one (returns 0 either way; <0 on a libuv error).
 * The timer is unreferenced: it never keeps the loop alive by itself. */
int notify_watchdog_start(uv_loop_t *loop, struct notify_watchdog *wd);
/* Closes the timer; on_closed (may be NULL) runs from its close callback. */
void notify_watchdog_close(struct notify_watchdog *wd, void (*on_closed)(void *arg), void *arg);

#endif
