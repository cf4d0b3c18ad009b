/* notify.c -- see notify.h.
 *
 * The protocol is one datagram per message to the unix socket named by $NOTIFY_SOCKET. libsystemd's sd_notify()
 * sends with a blocking sendmsg(), so a notify socket whose queue is full (a manager that reads slowly, or a test
 * that does not read at all) would stall the ingest loop. Here the socket is non-blocking: a message that does not
 * fit is dropped, which costs at most a STATUS line; READY, RELOADING and STOPPING are sent when the queue is short
 * anyway (they are rare), and a WATCHDOG ping that cannot be queued is re-sent at the next tick. */
#include "tickd/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tickd/log.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len;
static bool notify_checked;

/* Resolves $NOTIFY_SOCKET once (a path, or '@' for the abstract namespace); false when there is none. */
static bool notify_open(void) {
    if (notify_checked) return notify_fd >= 0;
    notify_checked = true;
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) return false;
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof notify_addr.sun_path) return false;
    memset(&notify_addr, 0, sizeof notify_addr);
    notify_addr.sun_family = AF_UNIX;
    memcpy(notify_addr.sun_path, path, n);
    if (path[0] == '@') notify_addr.sun_path[0] = 0;
    notify_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return notify_fd >= 0;
}

/* Returns 0, or -1 when the message could not be queued (no socket, queue full). */
static int notify_send(const char *msg) {
    if (!notify_open()) return -1;
    ssize_t n = sendto(notify_fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&notify_addr,
                       notify_addr_len);
    return n < 0 ? -1 : 0;
}

void notify_ready(void) { notify_send("READY=1"); }
void notify_reloading(void) { notify_send("RELOADING=1"); }
void notify_stopping(void) { notify_send("STOPPING=1"); }

void notify_status(const char *fmt, ...) {
    char msg[512] = "STATUS=";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + 7, sizeof msg - 7, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    notify_send(msg);
}

static void watchdog_tick(uv_timer_t *t) {
    (void)t;
    notify_send("WATCHDOG=1");
}

/* $WATCHDOG_USEC applies to us only if $WATCHDOG_PID is unset or names this process (a child never pings for us). */
static uint64_t watchdog_usec(void) {
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    if (!usec) return 0;
    if (pid && strtol(pid, NULL, 10) != (long)getpid()) return 0;
    char *end;
    unsigned long long v = strtoull(usec, &end, 10);
    return (*end || end == usec) ? 0 : (uint64_t)v;
}

int notify_watchdog_start(uv_loop_t *loop, struct notify_watchdog *wd) {
    wd->interval_ms = 0;
    wd->on_closed = NULL;
    int rc = uv_timer_init(loop, &wd->timer);
    if (rc < 0) return rc;
    wd->timer.data = wd;
    uint64_t usec = watchdog_usec();
    if (usec > 0) {
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
    if (wd->on_closed) wd->on_closed(wd->closed_arg);
}

void notify_watchdog_close(struct notify_watchdog *wd, void (*on_closed)(void *arg), void *arg) {
    wd->on_closed = on_closed;
    wd->closed_arg = arg;
    if (!uv_is_closing((uv_handle_t *)&wd->timer)) uv_close((uv_handle_t *)&wd->timer, watchdog_closed);
}
