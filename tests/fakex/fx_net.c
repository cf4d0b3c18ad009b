/* fx_net.c -- fakex's own HTTP/1.1 and RFC 6455 server on raw uv_tcp.
 *
 * Written by hand rather than with libwebsockets because the faults need full control of the bytes (a frame
 * cut in the middle, a reply that never comes, a reset at accept) and because load mode must batch thousands of
 * frames into one uv_write: every send appends to the connection's `out` buffer and fx_conn_flush() hands the
 * whole buffer to the kernel at once. Memory of a connection is freed only in its close callback. */
#define _GNU_SOURCE /* memmem, strcasestr */
#include "fakex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tickd/log.h"

struct fx_listener {
    uv_tcp_t tcp;
    struct fx_venue *venue;
};

struct fx_wreq {
    uv_write_t req;
    char *data;
    size_t len;
    int *borrowed; /* NULL: data is the write's to free; else the count of writes reading the caller's data */
};

#define FX_DRAINED (256 * 1024) /* below this many queued bytes a load generator may resume */

static struct fx_listener listeners[FX_VENUE_COUNT + 1];
static size_t nlisteners;
static struct fx_conn *control_conns;
static uint64_t next_conn_id = 1;

static struct fx_conn **conn_list(struct fx_conn *c) { return c->venue ? &c->venue->conns : &control_conns; }

static int64_t now_ms(void) { return (int64_t)uv_now(fx_loop); }

static void on_close(uv_handle_t *h) {
    struct fx_conn *c = h->data;
    struct fx_conn **head = conn_list(c);
    if (c->prev) c->prev->next = c->next;
    else *head = c->next;
    if (c->next) c->next->prev = c->prev;
    fx_buf_free(&c->in);
    fx_buf_free(&c->out);
    fx_buf_free(&c->msg);
    fx_buf_free(&c->held);
    free(c->subs);
    free(c);
}

static void close_now(struct fx_conn *c) {
    c->closing = true;
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
    struct fx_conn *c = req->handle->data;
    (void)status;
    free(req);
    close_now(c);
}

void fx_conn_close(struct fx_conn *c, enum fx_close_how how) {
    if (c->closing) return;
    if (how == FX_CLOSE_GRACEFUL) {
        if (c->is_ws && !c->close_sent) {
            static const uint8_t normal[2] = {0x03, 0xE8}; /* 1000 */
            fx_ws_frame(c, 8, normal, 2);
            c->close_sent = true;
        }
        fx_conn_flush(c);
        c->closing = true;
        uv_shutdown_t *req = fx_xmalloc(sizeof *req);
        if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) == 0) return;
        free(req);
    }
    c->closing = true;
    if (how == FX_CLOSE_RESET && uv_tcp_close_reset(&c->tcp, on_close) == 0) return;
    close_now(c);
}

static void on_write(uv_write_t *req, int status) {
    struct fx_wreq *w = (struct fx_wreq *)req;
    struct fx_conn *c = req->handle->data;
    c->queued -= w->len;
    if (w->borrowed) (*w->borrowed)--;
    else free(w->data);
    free(w);
    if (status < 0) {
        close_now(c);
        return;
    }
    if (c->venue && c->is_ws && c->queued < FX_DRAINED) fx_venue_kick(c->venue);
}

void fx_conn_flush(struct fx_conn *c) {
    if (!c->out.len || c->closing) return;
    struct fx_wreq *w = fx_xmalloc(sizeof *w);
    w->data = c->out.data;
    w->len = c->out.len;
    w->borrowed = NULL;
    c->out = (struct fx_buf){0};
    c->queued += w->len;
    c->last_out_ms = now_ms();
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
        c->queued -= w->len;
        free(w->data);
        free(w);
        close_now(c);
    }
}

static const char *status_text(int status) {
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 418: return "I'm a teapot";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

/* The status line and headers of a reply whose body is len bytes. */
static void reply_head(struct fx_conn *c, struct fx_buf *dst, int status, const char *headers, size_t len) {
    struct fx_venue *v = c->venue;
    fx_buf_printf(dst, "HTTP/1.1 %d %s\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: %zu\r\n",
                  status, status_text(status), len);
    if (v && v->d->rest_headers) v->d->rest_headers(v, dst);
    if (c->retry_after_s > 0) fx_buf_printf(dst, "Retry-After: %lld\r\n", (long long)c->retry_after_s);
    if (headers) fx_buf_adds(dst, headers);
    fx_buf_adds(dst, c->close_after_reply ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
}

void fx_http_reply(struct fx_conn *c, int status, const char *headers, const char *body, size_t len) {
    struct fx_venue *v = c->venue;
    if (v && v->faults.stall) return; /* the request stays unanswered */
    struct fx_buf *dst = &c->out;
    if (v && (v->faults.delay_ms > 0 || c->held.len)) {
        dst = &c->held;
        if (!c->held.len) c->held_due_ms = now_ms() + v->faults.delay_ms;
    }
    if (v && status == 200 && v->faults.malformed > 0) { /* half a JSON document */
        v->faults.malformed--;
        len /= 2;
    }
    reply_head(c, dst, status, headers, len);
    fx_buf_add(dst, body, len);
    if (dst == &c->out && c->close_after_reply) fx_conn_close(c, FX_CLOSE_GRACEFUL);
}

void fx_http_reply_large(struct fx_conn *c, int status, char *body, size_t len, int *writes) {
    struct fx_venue *v = c->venue;
    if (v && (v->faults.stall || v->faults.delay_ms > 0 || c->held.len)) { /* held back: copied, as any reply */
        fx_http_reply(c, status, NULL, body, len);
        if (!writes) free(body);
        return;
    }
    if (v && status == 200 && v->faults.malformed > 0) {
        v->faults.malformed--;
        len /= 2;
    }
    reply_head(c, &c->out, status, NULL, len);
    fx_conn_flush(c); /* what waited and the head first: writes go out in order */
    if (c->closing) {
        if (!writes) free(body);
        return;
    }
    struct fx_wreq *w = fx_xmalloc(sizeof *w);
    w->data = body;
    w->len = len;
    w->borrowed = writes;
    if (writes) (*writes)++;
    c->queued += len;
    uv_buf_t b = uv_buf_init(body, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
        c->queued -= len;
        if (writes) (*writes)--;
        else free(body);
        free(w);
        close_now(c);
        return;
    }
    if (c->close_after_reply) fx_conn_close(c, FX_CLOSE_GRACEFUL);
}

void fx_http_reply_json(struct fx_conn *c, int status, json_t *body) {
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fx_http_reply(c, status, NULL, text ? text : "{}", text ? strlen(text) : 2);
    free(text);
    json_decref(body);
}

void fx_ws_frame(struct fx_conn *c, int opcode, const void *data, size_t len) {
    fx_buf_reserve(&c->out, len + 10);
    uint8_t *p = (uint8_t *)c->out.data + c->out.len;
    *p++ = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        *p++ = (uint8_t)len;
    } else if (len < 65536) {
        *p++ = 126;
        *p++ = (uint8_t)(len >> 8);
        *p++ = (uint8_t)len;
    } else {
        *p++ = 127;
        for (int i = 7; i >= 0; i--) *p++ = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(p, data, len);
    c->out.len = (size_t)((char *)p + len - c->out.data);
}

void fx_ws_text(struct fx_conn *c, const char *s, size_t len) {
    if (c->venue && c->venue->faults.stall) return;
    fx_ws_frame(c, 1, s, len);
}

void fx_ws_json(struct fx_conn *c, json_t *msg) {
    char *text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text) fx_ws_text(c, text, strlen(text));
    free(text);
    json_decref(msg);
}

/* ---- HTTP requests ---- */

static void consume(struct fx_buf *b, size_t n) {
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static bool header_is(const char *line, const char *name, const char **value) {
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':') return false;
    *value = line + n + 1;
    while (**value == ' ' || **value == '\t') (*value)++;
    return true;
}

/* Parses the request head (NUL-terminated text, lines ending in CRLF). */
static int parse_head(char *head, struct fx_http_req *req, size_t *content_length) {
    memset(req, 0, sizeof *req);
    *content_length = 0;
    char *line_end = strstr(head, "\r\n");
    if (!line_end) return -1;
    *line_end = 0;
    char target[sizeof req->path + sizeof req->query], version[16];
    if (sscanf(head, "%7s %9215s %15s", req->method, target, version) != 3) return -1;
    if (strncmp(version, "HTTP/1.", 7) != 0) return -1;
    req->keep_alive = strcmp(version, "HTTP/1.1") == 0;
    char *q = strchr(target, '?');
    if (q) *q++ = 0;
    if (strlen(target) >= sizeof req->path || (q && strlen(q) >= sizeof req->query)) return -1;
    memcpy(req->path, target, strlen(target) + 1); /* lengths checked just above */
    if (q) memcpy(req->query, q, strlen(q) + 1);
    for (char *line = line_end + 2; *line;) {
        char *end = strstr(line, "\r\n");
        if (!end) break;
        *end = 0;
        const char *val;
        if (header_is(line, "Connection", &val)) {
            if (strcasestr(val, "close")) req->keep_alive = false;
            if (strcasestr(val, "keep-alive")) req->keep_alive = true;
        } else if (header_is(line, "Upgrade", &val)) {
            req->upgrade = strcasecmp(val, "websocket") == 0;
        } else if (header_is(line, "Sec-WebSocket-Key", &val)) {
            snprintf(req->ws_key, sizeof req->ws_key, "%s", val);
        } else if (header_is(line, "Content-Length", &val)) {
            *content_length = strtoul(val, NULL, 10);
        }
        line = end + 2;
    }
    return 0;
}

static void ws_upgrade(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    if (!req->ws_key[0]) {
        fx_http_reply(c, 400, NULL, "{}", 2);
        return;
    }
    char accept[29];
    fx_ws_accept_key(req->ws_key, accept);
    size_t mark = c->out.len;
    fx_buf_printf(&c->out,
                  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: %s\r\n\r\n",
                  accept);
    c->subs = calloc(v->nsyms ? v->nsyms : 1, 1);
    if (!c->subs) {
        close_now(c);
        return;
    }
    c->is_ws = true;
    int64_t now = now_ms();
    c->opened_ms = c->last_in_ms = c->last_out_ms = now;
    c->next_ping_ms = now + v->ping_ms;
    c->next_hb_ms = now + v->heartbeat_ms;
    c->in_rate = (struct fx_window){.limit = v->ws_msg_limit, .window_ms = 1000};
    int refuse = v->d->ws_open(c, req);
    if (refuse) { /* take the 101 back and answer plainly */
        c->out.len = mark;
        c->is_ws = false;
        fx_http_reply(c, refuse, NULL, "{}", 2);
        return;
    }
    fx_venue_ws_opened(c);
    if (v->faults.mute_next > 0) {
        v->faults.mute_next--;
        c->muted = true;
    }
    if (c->subscribed) fx_venue_kick(v);
}

static void http_dispatch(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    if (!req->keep_alive) c->close_after_reply = true;
    if (!v) {
        fx_control_request(c, req);
        return;
    }
    v->http_requests++;
    if (req->upgrade) {
        ws_upgrade(c, req);
        return;
    }
    bool listing = v->d->instruments_path && strcmp(req->path, v->d->instruments_path) == 0;
    int64_t weight = listing ? v->d->instruments_weight : v->d->rest_weight ? v->d->rest_weight(req) : 1;
    int verdict = fx_venue_rest_admit(v, weight, &c->retry_after_s);
    if (verdict) {
        v->d->rest_limited(c, verdict);
        c->retry_after_s = 0;
        return;
    }
    if (v->faults.http_status) {
        static const char html[] = "<html><body><h1>fakex: injected server error</h1></body></html>";
        fx_http_reply(c, (int)v->faults.http_status, NULL, html, sizeof html - 1);
        return;
    }
    if (listing && fx_instruments_request(c, req)) return;
    v->d->rest(c, req);
}

static void http_parse_all(struct fx_conn *c) {
    while (!c->closing && !c->is_ws) {
        char *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
        if (!end) {
            if (c->in.len > 65536) fx_conn_close(c, FX_CLOSE_ABRUPT);
            return;
        }
        size_t hlen = (size_t)(end - c->in.data) + 4;
        char *head = fx_xmalloc(hlen + 1);
        memcpy(head, c->in.data, hlen);
        head[hlen] = 0;
        struct fx_http_req *req = fx_xmalloc(sizeof *req);
        size_t body = 0;
        int rc = parse_head(head, req, &body);
        free(head);
        if (rc < 0) {
            free(req);
            c->close_after_reply = true;
            fx_http_reply(c, 400, NULL, "{}", 2);
            return;
        }
        if (c->in.len < hlen + body) {
            free(req);
            return;
        }
        consume(&c->in, hlen + body);
        http_dispatch(c, req);
        free(req);
    }
}

/* ---- websocket frames from the client ---- */

static void ws_deliver(struct fx_conn *c, int opcode, char *data, size_t len) {
    if (!fx_venue_ws_admit(c)) return;
    if (opcode == 1) c->venue->d->ws_text(c, data, len);
}

static void ws_frame_in(struct fx_conn *c, int opcode, bool fin, char *data, size_t len) {
    if (opcode >= 8) {
        if (!fx_venue_ws_admit(c)) return;
        if (opcode == 8) {
            fx_ws_frame(c, 8, data, len >= 2 ? 2 : 0);
            c->close_sent = true;
            fx_conn_close(c, FX_CLOSE_GRACEFUL);
        } else if (opcode == 9) {
            if (!(c->venue && c->venue->faults.stall)) fx_ws_frame(c, 10, data, len); /* a stalled server is mute */
        } else if (opcode == 10) {
            c->awaiting_pong = false;
        }
        return;
    }
    if (opcode == 0) {
        fx_buf_add(&c->msg, data, len);
        if (c->msg.len > FX_FRAME_MAX) {
            fx_conn_close(c, FX_CLOSE_ABRUPT);
            return;
        }
        if (fin) {
            ws_deliver(c, c->msg_opcode, c->msg.data, c->msg.len);
            c->msg.len = 0;
        }
    } else if (!fin) {
        c->msg_opcode = opcode;
        c->msg.len = 0;
        fx_buf_add(&c->msg, data, len);
    } else {
        ws_deliver(c, opcode, data, len);
    }
}

static void ws_parse(struct fx_conn *c) {
    size_t off = 0;
    while (!c->closing && c->in.len - off >= 2) {
        uint8_t *p = (uint8_t *)c->in.data + off;
        size_t avail = c->in.len - off, hdr = 2;
        uint64_t len = p[1] & 0x7f;
        if (len == 126) {
            if (avail < 4) break;
            len = (uint64_t)p[2] << 8 | p[3];
            hdr = 4;
        } else if (len == 127) {
            if (avail < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = len << 8 | p[2 + i];
            hdr = 10;
        }
        if (!(p[1] & 0x80) || len > FX_FRAME_MAX) { /* clients must mask; huge frames are refused */
            fx_conn_close(c, FX_CLOSE_ABRUPT);
            return;
        }
        if (avail < hdr + 4 + len) break;
        uint8_t *mask = p + hdr, *data = p + hdr + 4;
        for (uint64_t i = 0; i < len; i++) data[i] ^= mask[i & 3];
        ws_frame_in(c, p[0] & 0x0f, p[0] & 0x80, (char *)data, (size_t)len);
        off += hdr + 4 + (size_t)len;
    }
    if (!c->closing) consume(&c->in, off);
}

/* ---- sockets ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    struct fx_conn *c = h->data;
    (void)suggested;
    fx_buf_reserve(&c->in, 65536);
    *buf = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    struct fx_conn *c = s->data;
    (void)buf;
    if (nread < 0) {
        close_now(c);
        return;
    }
    if (nread == 0 || c->closing) return;
    c->in.len += (size_t)nread;
    c->last_in_ms = now_ms();
    if (c->in.len > FX_IN_MAX) {
        fx_conn_close(c, FX_CLOSE_ABRUPT);
        return;
    }
    if (!c->is_ws) http_parse_all(c);
    if (c->is_ws) ws_parse(c);
    fx_conn_flush(c);
}

static void on_connection(uv_stream_t *server, int status) {
    struct fx_listener *l = server->data;
    if (status < 0) return;
    struct fx_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->venue = l->venue;
    c->id = next_conn_id++;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    struct fx_conn **head = conn_list(c);
    c->next = *head;
    if (*head) (*head)->prev = c;
    *head = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        close_now(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (c->venue) {
        fx_venue_conn_opened(c);
        if (c->venue->faults.refuse) {
            fx_conn_close(c, FX_CLOSE_RESET);
            return;
        }
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int fx_listen(uv_loop_t *loop, struct fx_venue *venue, int port, int *bound_port) {
    if (nlisteners >= sizeof listeners / sizeof *listeners) return UV_ENOSPC;
    struct fx_listener *l = &listeners[nlisteners];
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    int rc = uv_tcp_init(loop, &l->tcp);
    if (rc < 0) return rc;
    nlisteners++;
    l->venue = venue;
    l->tcp.data = l;
    if ((rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&addr, 0)) < 0) goto fail;
    if ((rc = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection)) < 0) goto fail;
    struct sockaddr_in got;
    int len = sizeof got;
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&got, &len);
    *bound_port = ntohs(got.sin_port);
    return 0;
fail:
    log_error("fakex", "cannot listen", "port=%d err=%s", port, uv_strerror(rc));
    return rc;
}

void fx_listeners_close(void) {
    for (size_t i = 0; i < nlisteners; i++)
        if (!uv_is_closing((uv_handle_t *)&listeners[i].tcp)) uv_close((uv_handle_t *)&listeners[i].tcp, NULL);
}

void fx_control_conns_close(void) {
    for (struct fx_conn *c = control_conns; c; c = c->next) close_now(c);
}

void fx_venue_conns_close(struct fx_venue *v) {
    for (struct fx_conn *c = v->conns; c; c = c->next) close_now(c);
}
