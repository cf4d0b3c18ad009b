/* status.c -- see status.h. Each connection gets one rendered snapshot and is closed: no request parsing, so
 * there is nothing a client can send to confuse the daemon. */
#include "tickd/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tickd/log.h"

void status_printf(struct status_buf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap - b->len <= (size_t)n) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
}

void status_default_path(char *buf, size_t cap) {
    const char *rt = getenv("RUNTIME_DIRECTORY");
    struct stat st;
    if (rt && *rt) {
        /* systemd may list several directories separated by ':'; ours is the first. */
        size_t n = strcspn(rt, ":");
        snprintf(buf, cap, "%.*s/status.sock", (int)n, rt);
    } else if (stat("/run/tickd", &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, cap, "/run/tickd/status.sock");
    } else {
        snprintf(buf, cap, "/tmp/tickd-%u.sock", (unsigned)getuid());
    }
}

struct status_conn {
    uv_pipe_t pipe;
    uv_write_t req;
    struct status_buf out;
};

static void conn_closed(uv_handle_t *h) {
    struct status_conn *c = h->data;
    free(c->out.data);
    free(c);
}

static void conn_written(uv_write_t *req, int status) {
    (void)status; /* a client that went away early is not our problem */
    struct status_conn *c = req->data;
    uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void on_connection(uv_stream_t *server, int status) {
    struct status_server *s = server->data;
    if (status < 0) return;
    struct status_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    if (uv_pipe_init(server->loop, &c->pipe, 0) < 0) {
        free(c);
        return;
    }
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
        return;
    }
    s->render(&c->out, s->arg);
    if (c->out.oom || c->out.len == 0) {
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
        return;
    }
    uv_buf_t buf = uv_buf_init(c->out.data, (unsigned)c->out.len);
    c->req.data = c;
    if (uv_write(&c->req, (uv_stream_t *)&c->pipe, &buf, 1, conn_written) < 0)
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

int status_server_start(uv_loop_t *loop, struct status_server *s, const char *path, status_render_cb render,
                        void *arg) {
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->render = render;
    s->arg = arg;
    int rc = uv_pipe_init(loop, &s->pipe, 0);
    if (rc < 0) return rc;
    s->pipe.data = s;
    /* A socket file left by a crashed daemon would make bind fail; only remove it if nobody answers on it. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s->path);
        if (connect(probe, (struct sockaddr *)&sa, sizeof sa) < 0 && errno == ECONNREFUSED) unlink(s->path);
        close(probe);
    }
    rc = uv_pipe_bind(&s->pipe, s->path);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&s->pipe, 16, on_connection);
    if (rc < 0) {
        log_warn("status", "status socket not available", "path=%s error=%s", s->path, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->pipe, NULL);
        s->path[0] = 0;
        return rc;
    }
    uv_unref((uv_handle_t *)&s->pipe); /* the status socket alone never keeps the daemon running */
    log_info("status", "status socket listening", "path=%s", s->path);
    return 0;
}

static void server_closed(uv_handle_t *h) {
    struct status_server *s = h->data;
    if (s->on_closed) s->on_closed(s);
}

void status_server_close(struct status_server *s, void (*on_closed)(struct status_server *)) {
    s->on_closed = on_closed;
    if (s->path[0]) unlink(s->path);
    if (!uv_is_closing((uv_handle_t *)&s->pipe)) uv_close((uv_handle_t *)&s->pipe, server_closed);
}

int status_client_print(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "tickd status: socket: %s\n", strerror(errno));
        return -1;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "tickd status: no daemon answers at %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    close(fd);
    return n < 0 ? -1 : 0;
}
