/* status.c -- see status.h. Each connection gets one rendered snapshot and is closed: no request parsing, so
 * there is nothing a client can send to confuse the daemon. */
#define _GNU_SOURCE /* struct ucred */
#include "tickd/status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tickd/log.h"

bool status_default_path(char *buf, size_t cap) {
    const char *rt = getenv("RUNTIME_DIRECTORY");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (rt && *rt) {
        /* systemd may list several directories separated by ':'; ours is the first. */
        size_t n = strcspn(rt, ":");
        snprintf(buf, cap, "%.*s/status.sock", (int)n, rt);
        return false;
    }
    if (stat("/run/tickd", &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, cap, "/run/tickd/status.sock");
        return false;
    }
    /* A path cut to fit would be another path: too long a $XDG_RUNTIME_DIR falls back to /tmp. */
    if (!xdg || xdg[0] != '/' || (size_t)snprintf(buf, cap, "%s/tickd/status.sock", xdg) >= cap)
        snprintf(buf, cap, "/tmp/tickd-%u/status.sock", (unsigned)geteuid());
    return true;
}

/* The socket's directory, made 0700 when missing. It must then be a real directory (not a symlink), ours, and
 * closed to everyone else: in /tmp another user may have made it first, to listen in our place. */
static int private_dir(const char *sock_path, const char **why) {
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(dir, sizeof dir, "%s", sock_path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        *why = "cannot create its directory";
        return -errno;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *why = errno == ELOOP || errno == ENOTDIR ? "its directory is a symlink or not a directory"
                                                  : "cannot open its directory";
        return errno == ENOTDIR ? -ELOOP : -errno;
    }
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? -errno : 0;
    close(fd);
    if (rc < 0) {
        *why = "cannot stat its directory";
        return rc;
    }
    if (st.st_uid != geteuid()) {
        *why = "its directory belongs to another user";
        return -EPERM;
    }
    if (st.st_mode & 077) {
        *why = "its directory is open to other users (mode must be 0700)";
        return -EPERM;
    }
    return 0;
}

/* A listening socket at path, or a negative errno with *why. A socket file left by a crashed daemon of ours
 * is replaced; anything else at path (a live listener, another user's file) is left alone. */
static int listen_at(const char *path, int flags, const char **why) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        *why = "path too long for a unix socket";
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int rc;
    if ((flags & STATUS_PRIVATE_DIR) && (rc = private_dir(path, why)) < 0) return rc;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid()) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0) {
            if (connect(probe, (struct sockaddr *)&sa, sizeof sa) < 0 && errno == ECONNREFUSED) unlink(path);
            close(probe);
        }
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = "socket";
        return -errno;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        rc = -errno;
        *why = rc == -EADDRINUSE ? "the path is taken (another daemon, or a file someone else made)" : "bind";
        close(fd);
        return rc;
    }
    /* Only the daemon's user may ask (systemd's UMask=0077 does this already; a shell's umask may not). */
    if (chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
        rc = -errno;
        *why = "listen";
        unlink(path);
        close(fd);
        return rc;
    }
    return fd;
}

struct status_conn {
    uv_pipe_t pipe;
    uv_write_t req;
    struct text_buf out;
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

int status_server_start(uv_loop_t *loop, struct status_server *s, const char *path, int flags,
                        status_render_cb render, void *arg) {
    memset(s, 0, sizeof *s);
    s->render = render;
    s->arg = arg;
    const char *why = "";
    int fd = listen_at(path, flags, &why);
    if (fd < 0) {
        log_warn("status", "status socket not available: running without it", "path=%s reason=%s error=%s", path,
                 why, strerror(-fd));
        return fd;
    }
    /* From here the server owns the handle: it is made only for a socket that listens, and closed only by
     * status_server_close. */
    int rc = uv_pipe_init(loop, &s->pipe, 0);
    if (rc < 0) {
        unlink(path);
        close(fd);
        log_warn("status", "status socket not available: running without it", "path=%s reason=uv_pipe_init "
                 "error=%s", path, uv_strerror(rc));
        return rc;
    }
    s->pipe.data = s;
    s->active = true;
    snprintf(s->path, sizeof s->path, "%s", path);
    rc = uv_pipe_open(&s->pipe, fd);
    if (rc < 0) close(fd); /* not adopted by the pipe */
    else rc = uv_listen((uv_stream_t *)&s->pipe, 16, on_connection);
    if (rc < 0) {
        log_warn("status", "status socket not available: running without it", "path=%s reason=listen error=%s",
                 path, uv_strerror(rc));
        status_server_close(s, NULL, NULL);
        return rc;
    }
    uv_unref((uv_handle_t *)&s->pipe); /* the status socket alone never keeps the daemon running */
    log_info("status", "status socket listening", "path=%s", s->path);
    return 0;
}

static void server_closed(uv_handle_t *h) {
    struct status_server *s = h->data;
    if (s->on_closed) s->on_closed(s->closed_arg);
}

void status_server_close(struct status_server *s, void (*on_closed)(void *arg), void *arg) {
    s->on_closed = on_closed;
    s->closed_arg = arg;
    if (!s->active) { /* never listened, or closed already */
        if (on_closed) on_closed(arg);
        return;
    }
    s->active = false;
    if (s->path[0]) unlink(s->path);
    uv_close((uv_handle_t *)&s->pipe, server_closed);
}

size_t status_strip_controls(struct status_strip *st, char *buf, size_t n) {
    /* The lead byte held back goes in front, so that writing never overtakes reading. */
    if (st->after_c2 && n) {
        memmove(buf + 1, buf, n++);
        buf[0] = (char)0xc2;
        st->after_c2 = false;
    }
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        bool after_c2 = st->after_c2;
        st->after_c2 = c == 0xc2;
        if (st->after_c2) continue; /* held back until the next byte says whether it starts a C1 control */
        bool control = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
        /* A lead byte before a dropped control goes too: kept, it would meet the byte after the control, and
         * 0xc2 0x9b is a CSI. */
        if (after_c2) {
            if (c >= 0x80 && c <= 0x9f) continue; /* U+0080..U+009F: C1 controls (0x9b is a CSI) */
            if (!control) buf[out++] = (char)0xc2;
        }
        if (control) continue;
        buf[out++] = (char)c;
    }
    return out;
}

/* Whether a server running as uid may be believed. Ours and root's always. Another user's only when the socket
 * lies in a directory of that user which nobody else may write into, under directories only root (or we) may
 * write into: then whoever set it up (systemd's RuntimeDirectory= for a DynamicUser service) had root's consent.
 * A socket in /tmp, or in a directory someone else made there, is not believed. */
static bool server_trusted(const char *path, uid_t uid) {
    uid_t me = geteuid();
    if (uid == me || uid == 0) return true;
    char dir[PATH_MAX];
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    char *slash = strrchr(copy, '/');
    if (slash == copy) return false;
    if (slash) *slash = 0;
    if (!realpath(slash ? copy : ".", dir)) return false;
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 022)) return false;
    for (char *p = strrchr(dir, '/'); p; p = strrchr(dir, '/')) {
        if (p == dir) p[1] = 0; /* the root itself */
        else *p = 0;
        if (lstat(dir, &st) < 0 || (st.st_uid != 0 && st.st_uid != me) || (st.st_mode & 022)) return false;
        if (p == dir) break;
    }
    return true;
}

int status_client_print(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "tickd status: socket: %s\n", strerror(errno));
        return -1;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "tickd status: socket path too long: %s\n", path);
        close(fd);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "tickd status: no daemon answers at %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        fprintf(stderr, "tickd status: cannot tell who answers at %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!server_trusted(path, cred.uid)) {
        fprintf(stderr, "tickd status: the process answering at %s runs as uid %u, neither you nor root: not "
                "reading it\n", path, (unsigned)cred.uid);
        close(fd);
        return -1;
    }
    char buf[8192];
    ssize_t n;
    struct status_strip st = {0};
    while ((n = read(fd, buf, sizeof buf - 1)) > 0) fwrite(buf, 1, status_strip_controls(&st, buf, (size_t)n), stdout);
    close(fd);
    return n < 0 ? -1 : 0;
}
