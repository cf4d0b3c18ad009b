/* ws.h -- the websocket client of the ingest loop: libwebsockets 4.1 on the loop's own libuv loop.
 *
 * One `struct ws_client` per loop owns one lws_context (LWS_SERVER_OPTION_LIBUV with the loop as foreign loop).
 * A connection delivers whole text messages (fragments reassembled; a message over max_frame closes the
 * connection with WS_ETOOLARGE), sends from a bounded queue when the socket is writeable, and answers server pings
 * (lws does that itself). Host names are resolved with uv_getaddrinfo on libuv's thread pool, because lws 4.1
 * resolves with a blocking getaddrinfo(); lws then connects to the address and uses the name for the Host header,
 * TLS SNI and the certificate check.
 *
 *     struct ws_client *wc = ws_client_new(loop, 0);
 *     struct ws_conn *conn = ws_connect(wc, "wss://stream.binance.com:9443/ws", &opts, &callbacks, task, &err);
 *     ws_send_text(conn, sub, strlen(sub));   // queued; may be called before on_open
 *     ws_close(conn);                         // graceful; on_close follows once
 *
 * Callbacks run on the loop, never from inside ws_connect/ws_send_text/ws_close. on_close runs exactly once for
 * every connection ws_connect returned, whether it opened or not; the connection is invalid after it returns.
 *
 * Teardown, the exact sequence (lws 4.1 frees a foreign-loop context only in a second destroy after the loop ends):
 *   1. ws_client_close(wc)   -- on the loop (in a callback, or before the final uv_run). Every connection still
 *                               open gets on_close(WS_ECANCELLED); lws starts closing its libuv handles.
 *   2. uv_run(loop, UV_RUN_DEFAULT) returns once lws and everything else has closed its handles.
 *   3. ws_client_free(wc)    -- the second lws_context_destroy, which frees the context; then frees wc.
 *   4. uv_loop_close(loop) == 0.
 * The process should ignore SIGPIPE (OpenSSL may write to a socket the peer has closed). */
#ifndef TICKD_WS_H
#define TICKD_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <uv.h>

struct ws_client;
struct ws_conn;

/* The longest path and query a URL may have, with its NUL (a longer one is WS_EINVAL): libwebsockets keeps 1 KiB of
 * handshake header data unless told more, and a request beyond it never completes its upgrade. */
#define WS_PATH_MAX 1024

/* Errors are negative errno values, as everywhere in tickd (and libuv): the names say what each means here. */
enum ws_error {
    WS_OK = 0,
    WS_ECONNECT = -ECONNREFUSED, /* resolve, connect, TLS or upgrade failed */
    WS_ETIMEDOUT = -ETIMEDOUT,   /* not open within connect_timeout_ms */
    WS_ETOOLARGE = -EMSGSIZE,    /* a message over max_frame (the server is told 1009) */
    WS_ECLOSED = -ECONNRESET,    /* the connection dropped without a close handshake */
    WS_ECANCELLED = -ECANCELED,  /* ws_close before it opened, or ws_client_close */
    WS_EQUEUEFULL = -ENOBUFS,    /* ws_send_*: the send queue is full */
    WS_ENOMEM = -ENOMEM,
    WS_EINVAL = -EINVAL,         /* bad URL or arguments */
    WS_ECLOSING = -ESHUTDOWN,    /* ws_send_* after ws_close, or ws_connect on a closing client */
};

/* A short name for a WS_E* code ("connect", "timeout", ...), for log lines; "unknown" for any other value. */
const char *ws_error_name(int error);

struct ws_opts {
    size_t max_frame;            /* largest whole message accepted; 0: 1 MiB */
    uint32_t connect_timeout_ms; /* resolve + connect + TLS + upgrade; 0: 10000 */
    unsigned max_queue;          /* messages waiting to be written; 0: 64 */
};

/* How a connection ended. error 0 means a close handshake happened (either side began it): code and reason
 * are the peer's (or ours, 1000, when we closed and the peer echoed). */
struct ws_close_info {
    int error;          /* 0 or enum ws_error */
    int code;           /* close code; 1006 when there was no close frame */
    const char *reason; /* close reason or error text; never NULL */
    bool was_open;      /* on_open had run */
};

struct ws_callbacks {
    void (*on_open)(struct ws_conn *conn, void *arg);
    /* A whole text message; data is valid during the call only (not NUL-terminated). */
    void (*on_text)(struct ws_conn *conn, const char *data, size_t len, void *arg);
    void (*on_close)(struct ws_conn *conn, const struct ws_close_info *info, void *arg);
    /* Optional: the answer to a ws_send_ping. Venues without heartbeats (Binance) prove liveness this way. */
    void (*on_pong)(struct ws_conn *conn, void *arg);
};

/* max_fds: the highest fd number lws may track, plus one (0: the process limit, at most 65536). lws would
 * otherwise size its tables from the process fd limit, which can be huge. Returns NULL on failure (logged). lws logs go to the log module at
 * warn and error only. */
struct ws_client *ws_client_new(uv_loop_t *loop, unsigned max_fds);

/* A client whose wss:// connections trust only the CA(s) in the PEM file ca_file, not the system's store (peer
 * and host name are verified as always), for a venue behind a private CA. It is a view of c: same lws context,
 * its connections count and close with c's; it has its own lws TLS vhost, made (and the file read) at its first
 * wss:// connect -- a file that cannot be loaded fails that connect, logged, and the next one tries again. The
 * same ca_file gives the same view. c owns it: valid until ws_client_free(c) (ws_client_close and
 * ws_client_free of a view do nothing). NULL when out of memory or ca_file is empty. */
struct ws_client *ws_client_with_ca(struct ws_client *c, const char *ca_file);

/* Starts connecting to ws:// or wss:// url. Returns the connection or NULL with *err (when err is not NULL)
 * set -- then no callback runs. opts may be NULL for defaults; callbacks is copied. */
struct ws_conn *ws_connect(struct ws_client *c, const char *url, const struct ws_opts *opts,
                           const struct ws_callbacks *callbacks, void *arg, int *err);

/* Queues a text message (copied). 0, WS_EQUEUEFULL, WS_ECLOSING or WS_ENOMEM. Before on_open the message waits
 * and is written once the connection opens. */
int ws_send_text(struct ws_conn *conn, const char *data, size_t len);

/* Queues a protocol-level ping (opcode 9, payload at most 125 bytes). Venues that want application pings (OKX's
 * "ping" text) use ws_send_text. */
int ws_send_ping(struct ws_conn *conn, const char *payload, size_t len);

/* Graceful close: queued messages are written, then a close frame (1000). Before the connection is open it is
 * abandoned instead (on_close gets WS_ECANCELLED). Idempotent; on_close runs once, later, on the loop. */
void ws_close(struct ws_conn *conn);

/* Connections ws_connect returned whose on_close has not run yet (a daemon lets them finish their close
 * handshakes before step 1). */
size_t ws_client_connections(const struct ws_client *c);

/* Step 1 of the teardown above. Call once. */
void ws_client_close(struct ws_client *c);
/* Step 3 of the teardown above, after uv_run has returned. */
void ws_client_free(struct ws_client *c);

#endif
