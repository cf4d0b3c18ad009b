/* sd_notify messages through a real NOTIFY_SOCKET (a unix datagram socket made by the test), and the watchdog timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "tickd/notify.h"
#include "tt.h"

static int notify_fd = -1;
static char sock_path[108];

static void open_notify_socket(void) {
    snprintf(sock_path, sizeof sock_path, "/tmp/tickd-notify-%d.sock", (int)getpid());
    unlink(sock_path);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    if (bind(notify_fd, (struct sockaddr *)&sa, sizeof sa) < 0) perror("bind");
    struct timeval tv = {.tv_sec = 2};
    setsockopt(notify_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", sock_path, 1);
}

static const char *next_message(void) {
    static char buf[1024];
    ssize_t n = recv(notify_fd, buf, sizeof buf - 1, 0);
    buf[n < 0 ? 0 : n] = 0;
    return buf;
}

static void test_messages_in_order(void) {
    notify_ready();
    notify_status("groups=%d running, %s", 3, "line\nbreak");
    notify_reloading();
    notify_stopping();
    TT_ASSERT_STR(next_message(), "READY=1");
    TT_ASSERT_STR(next_message(), "STATUS=groups=3 running, line break");
    TT_ASSERT_STR(next_message(), "RELOADING=1");
    TT_ASSERT_STR(next_message(), "STOPPING=1");
}

static int closed;
static void on_wd_closed(void *arg) {
    (void)arg;
    closed = 1;
}
static void stop_after(uv_timer_t *t) {
    struct notify_watchdog *wd = t->data;
    notify_watchdog_close(wd, on_wd_closed, NULL);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_watchdog_pings_from_loop(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    setenv("WATCHDOG_USEC", "40000", 1); /* 40 ms: pings every 20 ms */
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    struct notify_watchdog wd;
    TT_ASSERT_INT(notify_watchdog_start(&loop, &wd), 0);
    TT_ASSERT_INT(wd.interval_ms, 20);
    uv_timer_t stop;
    uv_timer_init(&loop, &stop);
    stop.data = &wd;
    uv_timer_start(&stop, stop_after, 150, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT(closed);
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
    int pings = 0;
    for (;;) {
        const char *m = next_message();
        if (!*m) break;
        TT_ASSERT_STR(m, "WATCHDOG=1");
        if (++pings >= 3) break;
    }
    TT_ASSERT(pings >= 3);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void test_no_watchdog_without_env(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct notify_watchdog wd;
    TT_ASSERT_INT(notify_watchdog_start(&loop, &wd), 0);
    TT_ASSERT_INT(wd.interval_ms, 0);
    notify_watchdog_close(&wd, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT); /* the unreferenced timer must not keep the loop alive */
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
}

/* Nobody reads the socket: once its queue is full, sends must be dropped, never block the caller. The test would
 * hang here (and the runner time out) if a send blocked. */
static void test_full_socket_never_blocks(void) {
    for (int i = 0; i < 5000; i++) notify_status("filler %d", i);
    notify_ready(); /* still returns at once */
    int drained = 0;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(notify_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (*next_message()) drained++;
    TT_ASSERT(drained > 0 && drained < 5001); /* some were queued, the rest dropped */
}

int main(void) {
    open_notify_socket();
    TT_RUN(test_messages_in_order);
    TT_RUN(test_watchdog_pings_from_loop);
    TT_RUN(test_no_watchdog_without_env);
    TT_RUN(test_full_socket_never_blocks);
    close(notify_fd);
    unlink(sock_path);
    return tt_finish();
}
