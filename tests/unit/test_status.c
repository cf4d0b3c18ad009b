/* The status socket over a real unix socket: a client thread connects while the loop serves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "tickd/status.h"
#include "tt.h"

static void render(struct status_buf *out, void *arg) {
    status_printf(out, "group %s running\n", (const char *)arg);
    for (int i = 0; i < 2000; i++) status_printf(out, "task t%d state=running\n", i); /* grows past 4 KiB */
}

struct client_run {
    char path[108];
    char got[128 * 1024];
    size_t len;
    int rc;
    uv_async_t *done;
};

static void client_thread(void *arg) {
    struct client_run *r = arg;
    /* The client prints to stdout: point stdout at a temp file for the call. */
    fflush(stdout);
    int saved = dup(1);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 1);
    r->rc = status_client_print(r->path);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    r->len = fread(r->got, 1, sizeof r->got - 1, tmp);
    r->got[r->len] = 0;
    fclose(tmp);
    uv_async_send(r->done);
}

static struct status_server server;
static void on_client_done(uv_async_t *a) {
    status_server_close(&server, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void test_snapshot_served_and_socket_removed(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    static struct client_run run;
    snprintf(run.path, sizeof run.path, "/tmp/tickd-status-test-%d.sock", (int)getpid());
    TT_ASSERT_INT(status_server_start(&loop, &server, run.path, render, "g1"), 0);
    uv_async_t done;
    uv_async_init(&loop, &done, on_client_done);
    run.done = &done;
    uv_thread_t th;
    uv_thread_create(&th, client_thread, &run);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_thread_join(&th);
    TT_ASSERT_INT(run.rc, 0);
    TT_ASSERT(strncmp(run.got, "group g1 running\n", 17) == 0);
    TT_ASSERT(strstr(run.got, "task t1999 state=running\n") != NULL);
    TT_ASSERT(access(run.path, F_OK) != 0); /* removed on close */
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
}

static void test_client_without_daemon_fails_clearly(void) {
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    int rc = status_client_print("/tmp/tickd-no-such-daemon.sock");
    fclose(stderr);
    stderr = saved;
    TT_ASSERT_INT(rc, -1);
}

static void test_default_path_prefers_runtime_directory(void) {
    char p[256];
    setenv("RUNTIME_DIRECTORY", "/run/tickd:/run/other", 1);
    status_default_path(p, sizeof p);
    TT_ASSERT_STR(p, "/run/tickd/status.sock");
    unsetenv("RUNTIME_DIRECTORY");
}

int main(void) {
    TT_RUN(test_snapshot_served_and_socket_removed);
    TT_RUN(test_client_without_daemon_fails_clearly);
    TT_RUN(test_default_path_prefers_runtime_directory);
    return tt_finish();
}
