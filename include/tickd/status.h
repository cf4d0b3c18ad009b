/* status.h -- the status socket: `tickd status` connects to a unix socket in the runtime directory and gets the
 * task tree and limiter headroom as text.
 *
 * A unix socket fits a systemd service: RuntimeDirectory=tickd gives /run/tickd with the service's own
 * permissions (UMask=0077: only the service user and root may connect), nothing listens on the network, and
 * the daemon answers from its loop without blocking it (one render into a buffer, one write, close). */
#ifndef TICKD_STATUS_H
#define TICKD_STATUS_H

#include <stddef.h>
#include <uv.h>

/* Appends text to a growing buffer; the renderer calls it as often as it likes. */
struct status_buf {
    char *data;
    size_t len, cap;
    int oom;
};
void status_printf(struct status_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef void (*status_render_cb)(struct status_buf *out, void *arg);

struct status_server {
    uv_pipe_t pipe;
    char path[108];
    status_render_cb render;
    void *arg;
    void (*on_closed)(struct status_server *);
};

/* The default socket: $RUNTIME_DIRECTORY/status.sock (systemd), else /run/tickd/status.sock when /run/tickd
 * exists, else /tmp/tickd-<uid>.sock. */
void status_default_path(char *buf, size_t cap);

/* Listens on path (a stale socket file left by a crash is replaced). 0 or a negative libuv error. */
int status_server_start(uv_loop_t *loop, struct status_server *s, const char *path, status_render_cb render,
                        void *arg);
/* Stops listening, removes the socket file; on_closed (may be NULL) runs from the close callback. */
void status_server_close(struct status_server *s, void (*on_closed)(struct status_server *));

/* Client side (blocking; for the `tickd status` command): prints what the daemon sends to stdout.
 * Returns 0, or -1 with a message on stderr when nothing answers at path. */
int status_client_print(const char *path);

#endif
