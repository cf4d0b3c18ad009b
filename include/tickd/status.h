/* status.h -- the status socket: `tickd status` connects to a unix socket in the runtime directory and gets the
 * task tree and limiter headroom as text.
 *
 * A unix socket fits a systemd service: RuntimeDirectory=tickd gives /run/tickd with the service's own
 * permissions (UMask=0077: only the service user and root may connect), nothing listens on the network, and
 * the daemon answers from its loop without blocking it (one render into a buffer, one write, close). */
#ifndef TICKD_STATUS_H
#define TICKD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "tickd/text_buf.h"

typedef void (*status_render_cb)(struct text_buf *out, void *arg);

struct status_server {
    uv_pipe_t pipe;
    char path[108];
    bool active; /* the pipe is open: listening, until status_server_close */
    status_render_cb render;
    void *arg;
    void (*on_closed)(void *arg);
    void *closed_arg;
};

/* The default socket: $RUNTIME_DIRECTORY/status.sock (systemd), else /run/tickd/status.sock when /run/tickd
 * exists, else $XDG_RUNTIME_DIR/tickd/status.sock, else /tmp/tickd-<uid>/status.sock. Returns true for the last
 * two: their directory is tickd's to make private (STATUS_PRIVATE_DIR). */
bool status_default_path(char *buf, size_t cap);

/* status_server_start flags. STATUS_PRIVATE_DIR: create the socket's directory 0700 when missing, and refuse it
 * unless it is a real directory of ours that nobody else may enter. */
#define STATUS_PRIVATE_DIR 1

/* Listens on path (a stale socket file of ours left by a crash is replaced; a live listener or someone else's
 * file is not). 0, or a negative errno with one warning logged: the daemon then runs without a status socket,
 * and status_server_close is still the one call that ends the server either way. */
int status_server_start(uv_loop_t *loop, struct status_server *s, const char *path, int flags,
                        status_render_cb render, void *arg);
/* Stops listening, removes the socket file; on_closed (may be NULL) runs from the close callback, or at once
 * when the server never listened. Safe to call more than once. */
void status_server_close(struct status_server *s, void (*on_closed)(void *arg), void *arg);

/* Client side (blocking; for the `tickd status` command): prints what the daemon sends to stdout, without its
 * control bytes (a terminal must not take orders from what it shows). Only a server running as the caller or as
 * root is read, or one whose socket directory only root could have given it (a DynamicUser service's
 * /run/tickd). Returns 0, or -1 with a message on stderr. */
int status_client_print(const char *path);

/* Removes control bytes from n bytes of buf in place (C0 but newline and tab, DEL, and the C1 controls
 * U+0080..U+009F encoded as UTF-8), carrying a split UTF-8 sequence over in st between calls. buf must have
 * room for n + 1 bytes: a lead byte held back from the previous call goes first. Returns the new length. */
struct status_strip {
    bool after_c2;
};
size_t status_strip_controls(struct status_strip *st, char *buf, size_t n);

#endif
