/* ws.c -- see ws.h. libwebsockets 4.1 client on a foreign libuv loop.
 *
 * A connection goes RESOLVING (uv_getaddrinfo) -> CONNECTING (lws: TCP, TLS, upgrade) -> OPEN -> DONE. It is
 * handed to lws as the wsi's external user space, and detached from the wsi (lws_set_wsi_user NULL) the moment
 * its on_close has run, so any later lws callback for that wsi finds no connection and does nothing. Its memory
 * is freed in the close callback of its connect-timeout timer, the last handle it owns.
 *
 * lws 4.1 on a foreign libuv loop leaks a poll handle when a connect fails after its socket was made (a reset
 * between epoll's "writable" and lws's SO_ERROR check, as a venue refusing in a storm does): lws closes the fd
 * itself and then never closes the handle, so uv_loop_close fails at exit. release_orphan_polls closes it.
 *
 * Why a close is reported with which error: a close handshake (either side began it) is error 0 with the
 * peer's code; otherwise the first cause we recorded (pending_error: timeout, too large, cancelled) wins, and a
 * connection that just dropped is WS_ECLOSED (or WS_ECONNECT when it never opened). */
#include "tickd/ws.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "tickd/list.h"
#include "tickd/log.h"

#define DEFAULT_MAX_FRAME (1u << 20)
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_MAX_QUEUE 64
#define DEFAULT_MAX_FDS 65536
#define RX_CHUNK 4096 /* lws hands a large frame over in pieces of this size; it is also each connection's
                       * receive buffer (388 connections for 50k instruments: 16 KB each was 6 MB) */
#define PROTOCOL_NAME "tickd-ws"
#define CLOSE_NO_STATUS 1006
#define PING_PAYLOAD_MAX 125
/* lws writes its own close frames with lws_write(..., LWS_WRITE_CLOSE), 4, an enum value its public header
 * leaves out; we need it to close politely from WRITEABLE (see on_writeable). */
#define WRITE_CLOSE ((enum lws_write_protocol)4)
#define CLOSE_ACK_TIMEOUT_S 5 /* how long a peer may take to answer our close frame */

enum conn_state { CONN_RESOLVING, CONN_CONNECTING, CONN_OPEN, CONN_DONE };

struct ws_msg {
    struct ws_msg *next;
    size_t len;
    enum lws_write_protocol type;
    unsigned char buf[]; /* LWS_PRE bytes of headroom for lws, then the payload */
};

struct ws_conn {
    struct ws_client *client; /* the base, never a view */
    struct ws_client *view;   /* whose TLS vhost it uses: the client ws_connect was given */
    struct list_link link; /* in client->conns until it is finished */
    struct lws *wsi;
    enum conn_state state;
    bool close_requested;
    bool close_sent;
    bool refusing;     /* the peer's data is dropped until the close (see refuse_rx) */
    int refuse_status; /* the close code we send then */
    struct ws_callbacks cb;
    void *arg;
    size_t max_frame;
    unsigned max_queue;
    uv_getaddrinfo_t gai;
    uv_timer_t timer; /* connect timeout; its close callback frees the connection */
    struct ws_msg *q_head, *q_tail;
    unsigned q_len;
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_binary;
    int pending_error;
    int close_code; /* 0 until a close handshake began */
    char close_reason[128];
    bool tls;
    int port;
    char host[256];
    char host_header[272];
    char path[WS_PATH_MAX];
};

struct ws_client {
    /* A view (ws_client_with_ca) has base, ca_file and its own TLS vhost; its connections live on the base. */
    struct ws_client *base;
    char *ca_file;
    struct ws_client *views, *next_view; /* the base's views, freed with it */
    unsigned nviews;
    uv_loop_t *loop;
    void *foreign_loops[1];
    struct lws_context *ctx;
    /* Two client vhosts: loading the system's CA bundle takes ~35 ms of the loop, a third of tickd's start-up,
     * and only wss:// needs it, so the TLS vhost is made at the first wss:// connect. */
    struct lws_vhost *plain, *tls;
    struct list_link conns; /* newest first */
    bool closing;
};

const char *ws_error_name(int error) {
    switch (error) {
    case WS_OK: return "ok";
    case WS_ECONNECT: return "connect";
    case WS_ETIMEDOUT: return "timeout";
    case WS_ETOOLARGE: return "too_large";
    case WS_ECLOSED: return "closed";
    case WS_ECANCELLED: return "cancelled";
    case WS_EQUEUEFULL: return "queue_full";
    case WS_ENOMEM: return "nomem";
    case WS_EINVAL: return "invalid";
    case WS_ECLOSING: return "closing";
    default: return "unknown";
    }
}

/* ---- ending a connection ---- */

static void conn_freed(uv_handle_t *h) { free(h->data); }

/* Reports the end once, detaches from lws and closes the last handle. */
static void conn_finish(struct ws_conn *conn, struct lws *wsi, int error, int code, const char *reason) {
    if (conn->state == CONN_DONE) return;
    struct ws_close_info info = {
        .error = error, .code = code, .reason = reason ? reason : "", .was_open = conn->state == CONN_OPEN};
    conn->state = CONN_DONE;
    if (wsi) lws_set_wsi_user(wsi, NULL);
    conn->wsi = NULL;
    uv_timer_stop(&conn->timer);
    list_remove(&conn->link);
    conn->cb.on_close(conn, &info, conn->arg);
    while (conn->q_head) {
        struct ws_msg *m = conn->q_head;
        conn->q_head = m->next;
        free(m);
    }
    free(conn->rx);
    uv_close((uv_handle_t *)&conn->timer, conn_freed);
}

/* The wsi is gone: say why, from what we saw on the way. */
static void conn_closed(struct ws_conn *conn, struct lws *wsi, const char *why) {
    int error = conn->pending_error;
    if (!error && !conn->close_code) error = conn->state == CONN_OPEN ? WS_ECLOSED : WS_ECONNECT;
    const char *reason = conn->close_reason[0] ? conn->close_reason : why;
    if (error && error != WS_ECLOSED && error != WS_ECONNECT) reason = ws_error_name(error);
    conn_finish(conn, wsi, error, error ? CLOSE_NO_STATUS : conn->close_code, reason);
}

/* Ends a connection that is not open yet (timeout, ws_close, client closing); the cause is pending_error. */
static void conn_abandon(struct ws_conn *conn, int error) {
    if (!conn->pending_error) conn->pending_error = error;
    if (conn->state == CONN_RESOLVING) uv_cancel((uv_req_t *)&conn->gai); /* on_resolved reports */
    else if (conn->state == CONN_CONNECTING && conn->wsi)
        lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC); /* lws reports the close */
}

static void on_connect_timeout(uv_timer_t *t) {
    struct ws_conn *conn = t->data;
    if (conn->state == CONN_RESOLVING || conn->state == CONN_CONNECTING) conn_abandon(conn, WS_ETIMEDOUT);
}

/* ---- lws protocol callback ---- */

static void record_peer_close(struct ws_conn *conn, const unsigned char *in, size_t len) {
    conn->close_code = len >= 2 ? (in[0] << 8) | in[1] : 1005; /* 1005: a close frame without a code */
    size_t n = len > 2 ? len - 2 : 0;
    if (n >= sizeof conn->close_reason) n = sizeof conn->close_reason - 1;
    memcpy(conn->close_reason, in + 2, n);
    conn->close_reason[n] = 0;
}

/* Ends a connection whose incoming data we will not take (a message over max_frame, no memory for one). lws 4.1
 * must not be refused from inside RECEIVE: a -1 there in the middle of a message makes it write the rest of
 * the frame past its rx buffer (a remote heap overflow). So every further byte is read and dropped, and the close
 * frame goes out from WRITEABLE; the close-ack timeout also bounds a peer that keeps sending or never lets us
 * write. */
static void refuse_rx(struct ws_conn *conn, struct lws *wsi, int error, int status) {
    if (conn->refusing) return;
    conn->refusing = true;
    conn->refuse_status = status;
    conn->pending_error = error;
    conn->rx_len = 0;
    log_warn("ws", "closing: cannot take a message", "host=%s port=%d error=%s max_frame=%zu", conn->host,
             conn->port, ws_error_name(error), conn->max_frame);
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_ACK_TIMEOUT_S);
    lws_callback_on_writable(wsi);
}

/* A message that came in one piece, as nearly all do, is handed over straight from lws's buffer; only a
 * fragmented one (or one larger than lws's rx buffer) is gathered in conn->rx first. */
static int on_receive(struct ws_conn *conn, struct lws *wsi, const char *in, size_t len) {
    if (conn->refusing) return 0;
    if (conn->rx_len == 0) {
        conn->rx_binary = lws_frame_is_binary(wsi);
        if (lws_is_final_fragment(wsi)) {
            if (len > conn->max_frame) refuse_rx(conn, wsi, WS_ETOOLARGE, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
            else if (!conn->rx_binary && conn->cb.on_text) conn->cb.on_text(conn, in, len, conn->arg);
            return 0;
        }
    }
    if (len > conn->max_frame - conn->rx_len) {
        refuse_rx(conn, wsi, WS_ETOOLARGE, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
        return 0;
    }
    if (conn->rx_len + len > conn->rx_cap) {
        size_t cap = conn->rx_cap ? conn->rx_cap : RX_CHUNK;
        while (cap < conn->rx_len + len) cap *= 2;
        char *b = realloc(conn->rx, cap);
        if (!b) {
            refuse_rx(conn, wsi, WS_ENOMEM, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
            return 0;
        }
        conn->rx = b;
        conn->rx_cap = cap;
    }
    memcpy(conn->rx + conn->rx_len, in, len);
    conn->rx_len += len;
    if (!lws_is_final_fragment(wsi)) return 0;
    size_t n = conn->rx_len;
    conn->rx_len = 0;
    if (!conn->rx_binary && conn->cb.on_text) conn->cb.on_text(conn, conn->rx, n, conn->arg);
    return 0;
}

/* The close frame, written by us: lws 4.1 treats -1 from WRITEABLE as a dead socket and drops it without one.
 * The peer's echo ends the connection (see PEER_INITIATED_CLOSE). */
static int write_close(struct ws_conn *conn, struct lws *wsi, int status) {
    unsigned char frame[LWS_PRE + 2];
    frame[LWS_PRE] = (unsigned char)(status >> 8);
    frame[LWS_PRE + 1] = (unsigned char)(status & 0xff);
    conn->close_sent = true;
    conn->close_code = status;
    if (lws_write(wsi, frame + LWS_PRE, 2, WRITE_CLOSE) < 2) return -1;
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_ACK_TIMEOUT_S);
    return 0;
}

/* One message per WRITEABLE, as lws wants; the close frame goes after the queue is empty, or at once when we
 * refuse the peer's data. */
static int on_writeable(struct ws_conn *conn, struct lws *wsi) {
    if (conn->refusing) return conn->close_sent ? 0 : write_close(conn, wsi, conn->refuse_status);
    struct ws_msg *m = conn->q_head;
    if (m) {
        conn->q_head = m->next;
        if (!conn->q_head) conn->q_tail = NULL;
        conn->q_len--;
        int n = lws_write(wsi, m->buf + LWS_PRE, m->len, m->type);
        bool short_write = n < (int)m->len;
        free(m);
        if (short_write) return -1;
        if (conn->q_head || conn->close_requested) lws_callback_on_writable(wsi);
        return 0;
    }
    if (conn->close_requested && !conn->close_sent) return write_close(conn, wsi, LWS_CLOSE_STATUS_NORMAL);
    return 0;
}

/* ---- poll handles lws forgets ---- */

static void orphan_poll_freed(uv_handle_t *h) { lws_realloc(h, 0, "orphan poll"); /* lws_malloc'd by lws */ }

static void close_if_orphan(uv_handle_t *h, void *wsi) {
    if (h->type != UV_POLL || h->data != wsi || uv_is_closing(h)) return;
    uv_os_fd_t fd = -1;
    uv_fileno(h, &fd);
    log_debug("ws", "closing a poll handle lws left open", "fd=%d", (int)fd);
    uv_close(h, orphan_poll_freed);
}

/* Runs at WSI_DESTROY, just before lws frees the wsi. lws keeps one uv_poll_t per wsi (data = the wsi) and
 * closes it only in its logical close, which it skips once the socket is gone -- as after connect3's "Unable to
 * connect", where lws closed the fd itself. A poll handle still naming this wsi and not closing is such an
 * orphan: lws keeps no other pointer to it (its uv plugin has no destroy_wsi), will not touch it again, and
 * frees it only in a close callback that will never run, so its memory is valid. connect3 closes the fd,
 * reports the failure and frees the wsi in one call, so closing the handle here cannot unregister a newer socket
 * on the same fd: libuv clears loop->watchers[fd] only when it is this handle's watcher, and a socket made since
 * is not in epoll before the next poll. A wsi closed the normal way gets here from lws's close callback, its
 * handle already off the loop's list, so nothing is found. */
static void release_orphan_polls(struct lws *wsi) {
    struct ws_client *c = lws_context_user(lws_get_context(wsi));
    uv_walk(c->loop, close_if_orphan, wsi);
}

/* A wsi nobody wants any more is closed from lws's timer, not by a -1 from a callback that may be in the middle
 * of a message (see refuse_rx). */
static int kill_later(struct lws *wsi) {
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    return 0;
}

/* lws 4.1 reports a refused certificate as "connect SSL err 1: error:00000001:lib(0)::reason(1)"; OpenSSL's
 * verdict on the peer's certificate (unknown CA, host name mismatch, expired) is what tells an operator why. */
static const char *connect_error_text(const struct ws_conn *conn, struct lws *wsi, const char *in, char *buf,
                                      size_t n) {
    const char *why = in ? in : "connect failed";
    SSL *ssl = conn->tls ? lws_get_ssl(wsi) : NULL;
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v == X509_V_OK) return why;
    snprintf(buf, n, "certificate verify failed: %s", X509_verify_cert_error_string(v));
    return buf;
}

static int on_lws_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct ws_conn *conn = user;
    char why[160];
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (conn) conn_closed(conn, wsi, connect_error_text(conn, wsi, in, why, sizeof why));
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!conn) return kill_later(wsi);
        conn->state = CONN_OPEN;
        uv_timer_stop(&conn->timer);
        if (conn->cb.on_open) conn->cb.on_open(conn, conn->arg);
        if (conn->state == CONN_OPEN && (conn->q_head || conn->close_requested)) lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return conn ? on_receive(conn, wsi, in, len) : kill_later(wsi);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return conn ? on_writeable(conn, wsi) : -1;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        if (conn && conn->state == CONN_OPEN && conn->cb.on_pong) conn->cb.on_pong(conn, conn->arg);
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (!conn) return 0;
        record_peer_close(conn, in, len);
        return conn->close_sent ? 1 : 0; /* the echo of our close ends it; else lws answers the peer's close */
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (conn) conn_closed(conn, wsi, "connection closed");
        return 0;
    case LWS_CALLBACK_WSI_DESTROY: /* the last word on a wsi: nothing may stay unreported or open */
        if (conn) conn_closed(conn, wsi, "connection closed");
        release_orphan_polls(wsi);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {.name = PROTOCOL_NAME, .callback = on_lws_event, .rx_buffer_size = RX_CHUNK},
    {0},
};

/* ---- connecting ---- */

static int parse_url(struct ws_conn *conn, const char *url) {
    const char *p;
    if (strncasecmp(url, "ws://", 5) == 0) {
        conn->tls = false, conn->port = 80, p = url + 5;
    } else if (strncasecmp(url, "wss://", 6) == 0) {
        conn->tls = true, conn->port = 443, p = url + 6;
    } else {
        return WS_EINVAL;
    }
    const char *host = p, *after;
    size_t host_len;
    if (*p == '[') { /* [IPv6] */
        const char *close = strchr(p, ']');
        if (!close) return WS_EINVAL;
        host = p + 1, host_len = (size_t)(close - host), after = close + 1;
    } else {
        host_len = strcspn(p, ":/?"), after = p + host_len;
    }
    if (host_len == 0 || host_len >= sizeof conn->host) return WS_EINVAL;
    memcpy(conn->host, host, host_len);
    conn->host[host_len] = 0;
    if (*after == ':') {
        char *end;
        long port = strtol(after + 1, &end, 10);
        if (end == after + 1 || port <= 0 || port > 65535) return WS_EINVAL;
        conn->port = (int)port, after = end;
    }
    if (*after != 0 && *after != '/' && *after != '?') return WS_EINVAL;
    int n = snprintf(conn->path, sizeof conn->path, "%s%s", *after == '/' ? "" : "/", after);
    if (n < 0 || (size_t)n >= sizeof conn->path) return WS_EINVAL;
    bool default_port = conn->port == (conn->tls ? 443 : 80);
    snprintf(conn->host_header, sizeof conn->host_header, default_port ? "%s" : "%s:%d", conn->host, conn->port);
    return WS_OK;
}

static struct lws_vhost *vhost_new(struct ws_client *c, const char *name, uint64_t options, const char *ca_file) {
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.vhost_name = name;
    info.options = options;
    info.client_ssl_ca_filepath = ca_file;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = c;
    info.ka_time = 30; /* TCP keepalive notices a dead peer even when the venue's heartbeat is slow */
    info.ka_probes = 3;
    info.ka_interval = 10;
    struct lws_vhost *vh = lws_create_vhost(c->ctx, &info);
    if (!vh) log_error("ws", "lws_create_vhost failed", "vhost=%s ca_file=%s", name, ca_file ? ca_file : "none");
    return vh;
}

/* A view's TLS vhost trusts its CA file alone: the system's store is not loaded beside it. */
static struct lws_vhost *tls_vhost(struct ws_client *v) {
    if (v->tls) return v->tls;
    struct ws_client *c = v->base ? v->base : v;
    char name[32];
    snprintf(name, sizeof name, v->base ? "tls-ca-%u" : "tls", v->base ? v->nviews : 0);
    uint64_t options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (v->ca_file) options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    v->tls = vhost_new(c, name, options, v->ca_file);
    return v->tls;
}

static void connect_address(struct ws_conn *conn, const char *address) {
    struct ws_client *c = conn->client;
    struct lws_vhost *vhost = conn->tls ? tls_vhost(conn->view) : c->plain;
    if (!vhost) {
        conn_finish(conn, NULL, WS_ECONNECT, CLOSE_NO_STATUS, "no lws vhost");
        return;
    }
    struct lws_client_connect_info ci = {
        .context = c->ctx,
        .vhost = vhost,
        .address = address,
        .port = conn->port,
        .path = conn->path,
        .host = conn->host_header, /* Host header, TLS SNI and the name the certificate must carry */
        .ssl_connection = conn->tls ? LCCSCF_USE_SSL : 0,
        .protocol = NULL, /* exchanges expect no subprotocol */
        .local_protocol_name = PROTOCOL_NAME,
        .userdata = conn,
    };
    conn->state = CONN_CONNECTING;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    if (conn->state == CONN_DONE) return; /* lws already reported the failure through our callback */
    if (!wsi) {
        conn_finish(conn, NULL, conn->pending_error ? conn->pending_error : WS_ECONNECT, CLOSE_NO_STATUS,
                    "lws could not start the connection");
        return;
    }
    conn->wsi = wsi;
    if (conn->pending_error) conn_abandon(conn, conn->pending_error);
}

/* Picks an IPv4 address when there is one (exchanges' IPv6 paths are not always as good). */
static const struct addrinfo *pick_address(const struct addrinfo *res) {
    for (const struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) return a;
    return res;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    struct ws_conn *conn = req->data;
    char ip[INET6_ADDRSTRLEN] = "";
    if (status == 0) {
        const struct addrinfo *a = pick_address(res);
        const void *src = a->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                                                  : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        inet_ntop(a->ai_family, src, ip, sizeof ip);
    }
    uv_freeaddrinfo(res);
    if (conn->pending_error) {
        conn_finish(conn, NULL, conn->pending_error, CLOSE_NO_STATUS, ws_error_name(conn->pending_error));
        return;
    }
    if (status < 0 || !ip[0]) {
        conn_finish(conn, NULL, WS_ECONNECT, CLOSE_NO_STATUS, status < 0 ? uv_strerror(status) : "no address");
        return;
    }
    connect_address(conn, ip);
}

struct ws_conn *ws_connect(struct ws_client *c, const char *url, const struct ws_opts *opts,
                           const struct ws_callbacks *callbacks, void *arg, int *err) {
    int rc = WS_EINVAL;
    struct ws_conn *conn = NULL;
    if (!c || !url || !callbacks || !callbacks->on_close) goto fail;
    struct ws_client *view = c;
    if (c->base) c = c->base;
    rc = WS_ECLOSING;
    if (c->closing) goto fail;
    rc = WS_ENOMEM;
    conn = calloc(1, sizeof *conn);
    if (!conn) goto fail;
    list_init(&conn->link);
    rc = parse_url(conn, url);
    if (rc != WS_OK) goto fail_free;
    conn->client = c;
    conn->view = view;
    conn->cb = *callbacks;
    conn->arg = arg;
    conn->max_frame = opts && opts->max_frame ? opts->max_frame : DEFAULT_MAX_FRAME;
    conn->max_queue = opts && opts->max_queue ? opts->max_queue : DEFAULT_MAX_QUEUE;
    uint32_t timeout_ms = opts && opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    conn->gai.data = conn;
    rc = uv_getaddrinfo(c->loop, &conn->gai, on_resolved, conn->host, NULL, &hints);
    if (rc < 0) {
        log_warn("ws", "cannot resolve", "host=%s error=%s", conn->host, uv_strerror(rc));
        rc = WS_ECONNECT;
        goto fail_free;
    }
    conn->state = CONN_RESOLVING;
    uv_timer_init(c->loop, &conn->timer);
    conn->timer.data = conn;
    uv_timer_start(&conn->timer, on_connect_timeout, timeout_ms, 0);
    list_insert_after(&c->conns, &conn->link);
    return conn;

fail_free:
    free(conn);
fail:
    if (err) *err = rc;
    return NULL;
}

/* ---- sending and closing ---- */

static int enqueue(struct ws_conn *conn, const char *data, size_t len, enum lws_write_protocol type) {
    if (conn->state == CONN_DONE || conn->close_requested) return WS_ECLOSING;
    if (conn->q_len >= conn->max_queue) return WS_EQUEUEFULL;
    struct ws_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) return WS_ENOMEM;
    m->next = NULL;
    m->len = len;
    m->type = type;
    memcpy(m->buf + LWS_PRE, data, len);
    if (conn->q_tail) conn->q_tail->next = m;
    else conn->q_head = m;
    conn->q_tail = m;
    conn->q_len++;
    if (conn->state == CONN_OPEN) lws_callback_on_writable(conn->wsi);
    return WS_OK;
}

int ws_send_text(struct ws_conn *conn, const char *data, size_t len) {
    return enqueue(conn, data, len, LWS_WRITE_TEXT);
}

int ws_send_ping(struct ws_conn *conn, const char *payload, size_t len) {
    if (len > PING_PAYLOAD_MAX) return WS_EINVAL;
    return enqueue(conn, payload, len, LWS_WRITE_PING);
}

void ws_close(struct ws_conn *conn) {
    if (!conn || conn->state == CONN_DONE || conn->close_requested) return;
    conn->close_requested = true;
    if (conn->state == CONN_OPEN) lws_callback_on_writable(conn->wsi);
    else conn_abandon(conn, WS_ECANCELLED);
}

/* ---- the client ---- */

static void on_lws_log(int level, const char *line) {
    size_t n = strcspn(line, "\n");
    if (level & LLL_ERR) log_error("ws", "libwebsockets", "text=%.*s", (int)n, line);
    else log_warn("ws", "libwebsockets", "text=%.*s", (int)n, line);
}

/* lws sizes its fd tables from this and indexes them by fd number, so it must exceed every fd the process
 * may hold (Redis, RabbitMQ, curl, the status socket, and ~400 websockets for 50k instruments over four
 * venues: 256 refused connections there, "Too many fds"). The process limit can be a million; 65536 costs
 * lws about a megabyte of table, and systemd/tickd.service sets LimitNOFILE=65536. */
static unsigned fd_limit(unsigned wanted) {
    struct rlimit rl;
    if (wanted == 0) wanted = DEFAULT_MAX_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted)
        wanted = (unsigned)rl.rlim_cur;
    return wanted;
}

struct ws_client *ws_client_new(uv_loop_t *loop, unsigned max_fds) {
    struct ws_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->loop = loop;
    list_init(&c->conns);
    c->foreign_loops[0] = loop;
    lws_set_log_level(LLL_ERR | LLL_WARN, on_lws_log); /* before the context, which logs notices at start */

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = c->foreign_loops;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = fd_limit(max_fds);
    info.user = c;
    info.gid = -1;
    info.uid = -1;
    c->ctx = lws_create_context(&info);
    if (!c->ctx) {
        log_error("ws", "lws_create_context failed", "%s", "");
        free(c);
        return NULL;
    }
    c->plain = vhost_new(c, "plain", LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS, NULL); /* NULL: ws:// connects fail */
    return c;
}

struct ws_client *ws_client_with_ca(struct ws_client *c, const char *ca_file) {
    if (!c || !ca_file || !*ca_file) return NULL;
    if (c->base) c = c->base;
    for (struct ws_client *v = c->views; v; v = v->next_view)
        if (strcmp(v->ca_file, ca_file) == 0) return v;
    struct ws_client *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->ca_file = strdup(ca_file);
    if (!v->ca_file) {
        free(v);
        return NULL;
    }
    v->base = c;
    v->loop = c->loop;
    list_init(&v->conns);
    v->nviews = ++c->nviews; /* names its vhost */
    v->next_view = c->views;
    c->views = v;
    return v;
}

size_t ws_client_connections(const struct ws_client *c) {
    size_t n = 0;
    if (c && c->base) c = c->base;
    if (!c) return 0;
    for (const struct list_link *l = c->conns.next; l != &c->conns; l = l->next) n++;
    return n;
}

void ws_client_close(struct ws_client *c) {
    if (c->base || c->closing) return;
    c->closing = true;
    struct list_link *l, *tmp;
    /* Connections still resolving have no wsi: cancel the lookup, on_resolved reports. */
    list_for_each_safe(l, tmp, &c->conns) {
        struct ws_conn *conn = list_entry(l, struct ws_conn, link);
        if (!conn->pending_error) conn->pending_error = WS_ECANCELLED;
    }
    list_for_each_safe(l, tmp, &c->conns) {
        struct ws_conn *conn = list_entry(l, struct ws_conn, link);
        if (conn->state == CONN_RESOLVING) uv_cancel((uv_req_t *)&conn->gai);
    }
    lws_context_destroy(c->ctx); /* first call: closes every wsi (reporting each) and starts closing handles */
    /* Anything lws did not report (it should have) is reported here, so on_close runs once for all. Each pass
     * starts again at the head: an on_close may finish any other connection, and a saved next that was
     * unlinked points at itself. Finishing unlinks, and the resolving ones stay, so this ends. */
    for (;;) {
        struct ws_conn *conn = NULL;
        for (l = c->conns.next; l != &c->conns; l = l->next) {
            struct ws_conn *x = list_entry(l, struct ws_conn, link);
            if (x->state != CONN_RESOLVING) {
                conn = x;
                break;
            }
        }
        if (!conn) break;
        conn_finish(conn, conn->wsi, WS_ECANCELLED, CLOSE_NO_STATUS, "cancelled");
    }
}

void ws_client_free(struct ws_client *c) {
    if (!c || c->base) return;
    lws_context_destroy(c->ctx); /* second call, after uv_run returned: frees the context and every vhost */
    while (c->views) {
        struct ws_client *v = c->views;
        c->views = v->next_view;
        free(v->ca_file);
        free(v);
    }
    free(c);
}
