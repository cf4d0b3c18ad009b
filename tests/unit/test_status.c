/* The status socket over a real unix socket: a client thread connects while the loop serves; the ways it cannot
 * listen (a missing directory, a path taken, a directory that is not private) end without a handle left open;
 * the client refuses a server of another user and strips control bytes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "tickd/status.h"
#include "tt.h"

static void render(struct text_buf *out, void *arg) {
    text_printf(out, "group %s running\n", (const char *)arg);
    for (int i = 0; i < 2000; i++) text_printf(out, "task t%d state=running\n", i); /* grows past 4 KiB */
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
    status_server_close(&server, NULL, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void test_snapshot_served_and_socket_removed(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    static struct client_run run;
    snprintf(run.path, sizeof run.path, "/tmp/tickd-status-test-%d.sock", (int)getpid());
    TT_ASSERT_INT(status_server_start(&loop, &server, run.path, 0, render, "g1"), 0);
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

/* What status_client_print(path) prints, into out; returns its result. */
static int client_output(const char *path, char *out, size_t cap) {
    fflush(stdout);
    int saved = dup(1);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 1);
    FILE *saved_err = stderr;
    stderr = fopen("/dev/null", "w");
    int rc = status_client_print(path);
    fclose(stderr);
    stderr = saved_err;
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = 0;
    fclose(tmp);
    return rc;
}

static int closed_calls;
static void count_closed(void *arg) {
    (void)arg;
    closed_calls++;
}

/* A start that fails leaves nothing open: the close that follows (the daemon's shutdown) is safe, and the loop
 * closes clean. The old code closed the handle itself and the daemon initialised it again while it was closing. */
static void start_fails_cleanly(const char *path, int flags, int want_rc) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct status_server s;
    TT_ASSERT_INT(status_server_start(&loop, &s, path, flags, render, "g"), want_rc);
    closed_calls = 0;
    status_server_close(&s, count_closed, NULL);
    status_server_close(&s, count_closed, NULL);
    TT_ASSERT_INT(closed_calls, 2);
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
}

static void test_missing_directory_fails_without_a_handle(void) {
    start_fails_cleanly("/tmp/tickd-no-such-dir-for-status/status.sock", 0, -ENOENT);
}

static void test_path_taken_by_a_listener_is_left_alone(void) {
    char path[108];
    snprintf(path, sizeof path, "/tmp/tickd-status-taken-%d.sock", (int)getpid());
    unlink(path);
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    TT_ASSERT_INT(bind(other, (struct sockaddr *)&sa, sizeof sa), 0);
    TT_ASSERT_INT(listen(other, 4), 0);
    start_fails_cleanly(path, 0, -EADDRINUSE);
    /* The other listener still has its socket: the daemon neither removed nor replaced it. */
    int probe = socket(AF_UNIX, SOCK_STREAM, 0);
    TT_ASSERT_INT(connect(probe, (struct sockaddr *)&sa, sizeof sa), 0);
    close(probe);
    close(other);
    unlink(path);
}

static void test_too_long_a_path_is_refused_not_cut(void) {
    char path[200];
    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = 0;
    start_fails_cleanly(path, 0, -ENAMETOOLONG);
}

static void test_private_directory_made_0700_or_refused(void) {
    char base[] = "/tmp/tickd-status-dir-XXXXXX";
    TT_ASSERT(mkdtemp(base) != NULL);
    char dir[64], path[96];
    snprintf(dir, sizeof dir, "%s/tickd", base);
    snprintf(path, sizeof path, "%s/status.sock", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct status_server s;
    TT_ASSERT_INT(status_server_start(&loop, &s, path, STATUS_PRIVATE_DIR, render, "g"), 0);
    struct stat st;
    TT_ASSERT_INT(lstat(dir, &st), 0);
    TT_ASSERT_INT(st.st_mode & 0777, 0700);
    TT_ASSERT_INT(lstat(path, &st), 0);
    TT_ASSERT(S_ISSOCK(st.st_mode));
    status_server_close(&s, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(uv_loop_close(&loop), 0);

    chmod(dir, 0755); /* made by someone careless: others could enter */
    start_fails_cleanly(path, STATUS_PRIVATE_DIR, -EPERM);
    rmdir(dir);
    char target[160];
    snprintf(target, sizeof target, "%s/elsewhere", base);
    mkdir(target, 0700);
    TT_ASSERT_INT(symlink(target, dir), 0); /* a symlink planted where the directory goes */
    start_fails_cleanly(path, STATUS_PRIVATE_DIR, -ELOOP);
    unlink(dir);
    rmdir(target);
    rmdir(base);
}

static void test_strip_controls(void) {
    struct status_strip st = {0};
    char buf[] = "ok\x1b[2J\x1b]0;owned\x07 tab\there\r\n\x7f\x01" "end \xc2\xa3 \xc2\x9b" "31m";
    size_t n = status_strip_controls(&st, buf, sizeof buf - 1);
    buf[n] = 0;
    TT_ASSERT_STR(buf, "ok[2J]0;owned tab\there\nend \xc2\xa3 31m");
    /* A C1 control split over two reads is still caught, and a split '\xc2\xa3' still arrives whole. */
    struct status_strip st2 = {0};
    char a[] = "x\xc2", b[] = "\x9by\xc2", c[] = "\xa3";
    size_t na = status_strip_controls(&st2, a, 2), nb = status_strip_controls(&st2, b, 3),
           nc = status_strip_controls(&st2, c, 1);
    TT_ASSERT_INT(na, 1);
    TT_ASSERT(memcmp(a, "x", 1) == 0);
    TT_ASSERT_INT(nb, 1);
    TT_ASSERT(memcmp(b, "y", 1) == 0);
    TT_ASSERT_INT(nc, 2);
    TT_ASSERT(memcmp(c, "\xc2\xa3", 2) == 0); /* c has the one byte of room the held 0xc2 needs */
}

/* A server in a child running as `nobody` answers once with hostile text. */
static pid_t serve_as_nobody(const char *dir, const char *path) {
    chown(dir, 65534, 65534);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0) _exit(2);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) _exit(3);
        chmod(path, 0666);
        int c = accept(fd, NULL, NULL);
        const char msg[] = "tickd 9.9 \x1b]0;fake\x07groups:\n";
        if (c >= 0 && write(c, msg, sizeof msg - 1) < 0) _exit(4);
        _exit(0);
    }
    for (int i = 0; i < 200 && access(path, F_OK) != 0; i++) usleep(10000);
    return pid;
}

static void test_client_refuses_a_server_of_another_user(void) {
    if (geteuid() != 0) TT_SKIP("needs root to run a server as another user");
    char base[] = "/tmp/tickd-status-uid-XXXXXX";
    TT_ASSERT(mkdtemp(base) != NULL);
    chmod(base, 0777);
    char path[160];
    snprintf(path, sizeof path, "%s/status.sock", base);
    pid_t pid = serve_as_nobody(base, path);
    char out[512];
    TT_ASSERT_INT(client_output(path, out, sizeof out), -1);
    TT_ASSERT_STR(out, "");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(path);
    rmdir(base);
}

/* systemd's DynamicUser: the server's uid is not ours, but root made its directory, under root's. */
static void test_client_reads_a_service_user_in_a_root_made_directory(void) {
    if (geteuid() != 0) TT_SKIP("needs root to run a server as another user");
    char base[64], dir[96], path[128];
    snprintf(base, sizeof base, "/run/tickd-status-test-%d", (int)getpid());
    if (mkdir(base, 0755) < 0) TT_SKIP("cannot make a directory in /run");
    snprintf(dir, sizeof dir, "%s/svc", base);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/status.sock", dir);
    pid_t pid = serve_as_nobody(dir, path);
    char out[512];
    int rc = client_output(path, out, sizeof out);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(path);
    rmdir(dir);
    rmdir(base);
    TT_ASSERT_INT(rc, 0);
    TT_ASSERT_STR(out, "tickd 9.9 ]0;fakegroups:\n"); /* and without the terminal's title escape */
}

int main(void) {
    TT_RUN(test_snapshot_served_and_socket_removed);
    TT_RUN(test_client_without_daemon_fails_clearly);
    TT_RUN(test_default_path_prefers_runtime_directory);
    TT_RUN(test_missing_directory_fails_without_a_handle);
    TT_RUN(test_path_taken_by_a_listener_is_left_alone);
    TT_RUN(test_too_long_a_path_is_refused_not_cut);
    TT_RUN(test_private_directory_made_0700_or_refused);
    TT_RUN(test_strip_controls);
    TT_RUN(test_client_refuses_a_server_of_another_user);
    TT_RUN(test_client_reads_a_service_user_in_a_root_made_directory);
    return tt_finish();
}
