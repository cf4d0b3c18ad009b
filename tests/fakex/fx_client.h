/* fx_client.h -- a small blocking client of fakex for tests/unit/test_fakex.c and bench/fakex_load.c: start
 * the fakex binary and read its ports, plain HTTP/1.1 requests, and an RFC 6455 client (masked frames out,
 * frames in). Header-only (static inline) because the build compiles each test and bench file alone; it is a
 * .h so that the fakex binary does not compile it. Every wait is bounded by a timeout. */
#ifndef FX_CLIENT_H
#define FX_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fxc_proc {
    pid_t pid;
    char ready[512]; /* "fakex ready binance=127.0.0.1:P ... control=127.0.0.1:P" */
};

static inline int64_t fxc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts "$TICKD_ROOT/$BUILD/fakex" with args (NULL-terminated) and waits for its ready line. */
static inline int fxc_spawn(struct fxc_proc *p, const char *const *args) {
    const char *root = getenv("TICKD_ROOT"), *build = getenv("BUILD");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/fakex", root ? root : ".", build ? build : "build");
    int fds[2];
    if (pipe(fds) < 0) return -1;
    const char *argv[64] = {path};
    int n = 1;
    for (; args && args[n - 1] && n < 63; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    p->pid = fork();
    if (p->pid < 0) return -1;
    if (p->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    int64_t deadline = fxc_now_ms() + 10000;
    p->ready[0] = 0;
    while (len < sizeof p->ready - 1 && !strchr(p->ready, '\n')) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int left = (int)(deadline - fxc_now_ms());
        if (left <= 0 || poll(&pfd, 1, left) <= 0) break;
        ssize_t r = read(fds[0], p->ready + len, sizeof p->ready - 1 - len);
        if (r <= 0) break;
        len += (size_t)r;
        p->ready[len] = 0;
    }
    close(fds[0]);
    return strncmp(p->ready, "fakex ready", 11) == 0 ? 0 : -1;
}

/* The port printed for name ("binance", ..., "control"), or 0. */
static inline int fxc_port(const struct fxc_proc *p, const char *name) {
    char key[32];
    snprintf(key, sizeof key, " %s=127.0.0.1:", name);
    const char *at = strstr(p->ready, key);
    return at ? atoi(at + strlen(key)) : 0;
}

/* SIGTERM, then the exit status (-1 when it did not end within 10 s or died of a signal). */
static inline int fxc_stop(struct fxc_proc *p) {
    if (p->pid <= 0) return -1;
    kill(p->pid, SIGTERM);
    for (int i = 0; i < 1000; i++) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        usleep(10000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
    return -1;
}

static inline int fxc_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int fxc_send_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A connection with its unread bytes (HTTP or websocket). */
struct fxc_conn {
    int fd;
    char *buf;
    size_t len, cap;
};

/* Reads more bytes; 1 read, 0 timeout, -1 closed or error. */
static inline int fxc_fill(struct fxc_conn *c, int timeout_ms) {
    if (c->cap - c->len < 65536) {
        c->cap = c->cap ? c->cap * 2 : 262144;
        c->buf = realloc(c->buf, c->cap);
    }
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms);
    if (r <= 0) return 0;
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n <= 0) return -1;
    c->len += (size_t)n;
    return 1;
}

static inline void fxc_consume(struct fxc_conn *c, size_t n) {
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

static inline void fxc_close(struct fxc_conn *c) {
    if (c->fd >= 0) close(c->fd);
    free(c->buf);
    *c = (struct fxc_conn){.fd = -1};
}

struct fxc_http {
    int status;
    char headers[4096];
    char *body; /* NUL-terminated, caller frees */
    size_t len;
};

/* One request on an open keep-alive connection. 0, or -1 on timeout or close. */
static inline int fxc_http(struct fxc_conn *c, const char *method, const char *target, struct fxc_http *r,
                           int timeout_ms) {
    char req[8192];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", method, target);
    memset(r, 0, sizeof *r);
    if (fxc_send_all(c->fd, req, (size_t)n) < 0) return -1;
    int64_t deadline = fxc_now_ms() + timeout_ms;
    char *end;
    while (!(c->len && (end = memmem(c->buf, c->len, "\r\n\r\n", 4)))) {
        int left = (int)(deadline - fxc_now_ms());
        if (left <= 0 || fxc_fill(c, left) <= 0) return -1;
    }
    size_t hlen = (size_t)(end - c->buf) + 4;
    snprintf(r->headers, sizeof r->headers, "%.*s", (int)hlen, c->buf);
    r->status = atoi(c->buf + 9);
    const char *cl = strcasestr(r->headers, "\r\nContent-Length:");
    size_t blen = cl ? strtoul(cl + 17, NULL, 10) : 0;
    while (c->len < hlen + blen) {
        int left = (int)(deadline - fxc_now_ms());
        if (left <= 0 || fxc_fill(c, left) <= 0) return -1;
    }
    r->body = malloc(blen + 1);
    memcpy(r->body, c->buf + hlen, blen);
    r->body[blen] = 0;
    r->len = blen;
    fxc_consume(c, hlen + blen);
    return 0;
}

/* The value of header name in r (trimmed), or NULL. */
static inline const char *fxc_header(const struct fxc_http *r, const char *name, char *out, size_t outlen) {
    char key[128];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *at = strcasestr(r->headers, key);
    if (!at) return NULL;
    at += strlen(key);
    while (*at == ' ') at++;
    size_t n = strcspn(at, "\r\n");
    snprintf(out, outlen, "%.*s", (int)n, at);
    return out;
}

/* Opens a websocket on port/path; fills c and returns 0, or the HTTP status (or -1) when refused. */
static inline int fxc_ws_open(struct fxc_conn *c, int port, const char *path) {
    *c = (struct fxc_conn){.fd = fxc_connect(port)};
    if (c->fd < 0) return -1;
    char req[8192];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path);
    if (fxc_send_all(c->fd, req, (size_t)n) < 0) return -1;
    char *end;
    int64_t deadline = fxc_now_ms() + 5000;
    while (!(c->len && (end = memmem(c->buf, c->len, "\r\n\r\n", 4)))) {
        int left = (int)(deadline - fxc_now_ms());
        if (left <= 0 || fxc_fill(c, left) <= 0) return -1;
    }
    int status = atoi(c->buf + 9);
    /* RFC 6455's own example key and accept value */
    if (status != 101 || !memmem(c->buf, (size_t)(end - c->buf), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28))
        return status ? status : -1;
    fxc_consume(c, (size_t)(end - c->buf) + 4);
    return 0;
}

static inline int fxc_ws_send(struct fxc_conn *c, int opcode, const char *data, size_t len) {
    uint8_t hdr[14], mask[4] = {0x12, 0x34, 0x56, 0x78};
    size_t h = 0;
    hdr[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (uint8_t)(len >> 8);
        hdr[h++] = (uint8_t)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) hdr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(hdr + h, mask, 4);
    h += 4;
    char *frame = malloc(h + len);
    memcpy(frame, hdr, h);
    for (size_t i = 0; i < len; i++) frame[h + i] = (char)(data[i] ^ mask[i & 3]);
    int rc = fxc_send_all(c->fd, frame, h + len);
    free(frame);
    return rc;
}

static inline int fxc_ws_text(struct fxc_conn *c, const char *text) { return fxc_ws_send(c, 1, text, strlen(text)); }

/* Looks at buf for one whole server frame: 1 with its opcode, header and payload length, 0 if incomplete. */
static inline int fxc_ws_peek(const uint8_t *buf, size_t len, int *opcode, size_t *hdr, size_t *plen) {
    if (len < 2) return 0;
    uint64_t n = buf[1] & 0x7f;
    size_t h = 2;
    if (n == 126) {
        if (len < 4) return 0;
        n = (uint64_t)buf[2] << 8 | buf[3];
        h = 4;
    } else if (n == 127) {
        if (len < 10) return 0;
        n = 0;
        for (int i = 0; i < 8; i++) n = n << 8 | buf[2 + i];
        h = 10;
    }
    if (len < h + n) return 0;
    *opcode = buf[0] & 0x0f;
    *hdr = h;
    *plen = (size_t)n;
    return 1;
}

/* The next frame: 1 with a malloc'ed NUL-terminated payload, 0 on timeout, -1 when the connection ended. */
static inline int fxc_ws_recv(struct fxc_conn *c, int *opcode, char **payload, size_t *plen, int timeout_ms) {
    int64_t deadline = fxc_now_ms() + timeout_ms;
    size_t hdr;
    while (!fxc_ws_peek((uint8_t *)c->buf, c->len, opcode, &hdr, plen)) {
        int left = (int)(deadline - fxc_now_ms());
        if (left <= 0) return 0;
        int r = fxc_fill(c, left);
        if (r < 0) return -1;
    }
    *payload = malloc(*plen + 1);
    memcpy(*payload, c->buf + hdr, *plen);
    (*payload)[*plen] = 0;
    fxc_consume(c, hdr + *plen);
    return 1;
}

#endif
