/* ws_recv -- CPU per websocket frame of tickd's ws client alone (src/net/ws.c on libwebsockets), no parsing.
 *
 *   BUILD=build TICKD_ROOT=$PWD build/bench/ws_recv [--seconds 5] [--symbols 1000] [--rate 0] [--raw 1]
 *
 * Starts fakex (binance, --rate per second, 0: as fast as it can), opens one websocket through ws_connect that
 * subscribes every symbol's bookTicker, counts on_text messages, and prints this process's CPU time per
 * message (user + system, from getrusage) over the window after a one-second warm-up. fakex runs in its own
 * process, so the figure is the receive path only: kernel, libuv, lws's rx parser and ws.c's on_receive.
 *
 * --raw 1 measures the alternative instead: lws as transport only (a RAW client connection, LWS_CALLBACK_RAW_RX
 * hands over each read whole) and the upgrade and frame headers handled here, a frame at a time. The difference
 * between the two is what lws 4.1's byte-at-a-time client rx state machine costs (bench/ws_raw_transport.patch
 * does the same in ws.c). This mode is a measurement, not a client: it checks nothing in the upgrade answer and
 * ignores control frames. */
#define _GNU_SOURCE
#include <ctype.h>
#include <jansson.h>
#include <sys/resource.h>
#include <uv.h>

#include "../tests/fakex/fx_client.h"
#include "tickd/ws.h"

#include <libwebsockets.h>

#define WARMUP_MS 1000

struct bench {
    struct ws_client *client;
    struct ws_conn *conn;
    uv_timer_t timer;
    double seconds;
    long frames, frames_at_start, frames_in_window;
    double cpu_at_start, cpu_at_end;
    int64_t wall_start, wall_end;
    bool measuring;
    /* --raw */
    struct lws_context *ctx;
    struct lws *wsi;
    const char *subscribe;
    int port;
    bool upgraded, request_sent;
    unsigned char *rx;
    size_t rx_len;
};

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* One SUBSCRIBE message for every symbol's bookTicker that fakex serves (a URL holds only about 400 names). */
static char *subscribe_message(int port) {
    struct fxc_conn c = {.fd = fxc_connect(port)};
    struct fxc_http r;
    json_t *all = NULL;
    if (c.fd >= 0 && fxc_http(&c, "GET", "/api/v3/ticker/price", &r, 5000) == 0) {
        all = json_loadb(r.body, r.len, 0, NULL);
        free(r.body);
    }
    fxc_close(&c);
    size_t n = json_array_size(all), i;
    char *msg = calloc(64 + n * 40, 1), *end = msg;
    json_t *t;
    end += sprintf(end, "{\"method\":\"SUBSCRIBE\",\"id\":1,\"params\":[");
    json_array_foreach(all, i, t) {
        char *name = end + (i ? 2 : 1);
        end += sprintf(end, "%s\"%s@bookTicker\"", i ? "," : "", json_string_value(json_object_get(t, "symbol")));
        for (char *s = name; *s && *s != '@'; s++) *s = (char)tolower((unsigned char)*s);
    }
    strcpy(end, "]}");
    json_decref(all);
    return msg;
}

static void on_text(struct ws_conn *conn, const char *data, size_t len, void *arg) {
    (void)conn, (void)data, (void)len;
    ((struct bench *)arg)->frames++;
}

static void on_close(struct ws_conn *conn, const struct ws_close_info *info, void *arg) {
    struct bench *b = arg;
    (void)conn;
    b->conn = NULL;
    if (!b->measuring || b->wall_end == 0)
        fprintf(stderr, "ws_recv: connection ended: %s (%d) %s\n", ws_error_name(info->error), info->code, info->reason);
    uv_timer_stop(&b->timer);
    uv_close((uv_handle_t *)&b->timer, NULL);
    ws_client_close(b->client);
}

static void on_tick(uv_timer_t *t) {
    struct bench *b = t->data;
    if (!b->measuring) {
        b->measuring = true;
        b->frames_at_start = b->frames;
        b->cpu_at_start = cpu_seconds();
        b->wall_start = fxc_now_ms();
        uv_timer_start(t, on_tick, (uint64_t)(b->seconds * 1000), 0);
        return;
    }
    b->cpu_at_end = cpu_seconds();
    b->wall_end = fxc_now_ms();
    b->frames_in_window = b->frames - b->frames_at_start;
    if (b->conn) ws_close(b->conn);
    if (b->ctx) { /* the first destroy, on the loop: lws closes the connection and its handles */
        uv_close((uv_handle_t *)&b->timer, NULL);
        lws_context_destroy(b->ctx);
    }
}

/* ---- --raw: lws as transport, frames parsed here ---- */

#define RAW_RX_CAP (1u << 20)

static void raw_write_request(struct bench *b) {
    size_t sub_len = strlen(b->subscribe), n;
    unsigned char *buf = malloc(LWS_PRE + 512 + 8 + sub_len), *p = buf + LWS_PRE;
    n = (size_t)sprintf((char *)p,
                        "GET /stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                        b->port);
    /* the subscribe message as one masked text frame; a zero mask key leaves the payload as it is */
    p[n++] = 0x81, p[n++] = 0x80 | 126, p[n++] = (unsigned char)(sub_len >> 8), p[n++] = (unsigned char)sub_len;
    memset(p + n, 0, 4), n += 4;
    memcpy(p + n, b->subscribe, sub_len), n += sub_len;
    lws_write(b->wsi, p, n, LWS_WRITE_RAW);
    free(buf);
}

/* Counts the whole frames at the start of b->rx and keeps the partial one. */
static void raw_frames(struct bench *b) {
    size_t off = 0;
    if (!b->upgraded) {
        unsigned char *end = memmem(b->rx, b->rx_len, "\r\n\r\n", 4);
        if (!end) return;
        off = (size_t)(end - b->rx) + 4;
        b->upgraded = true;
    }
    for (;;) {
        const unsigned char *h = b->rx + off;
        size_t avail = b->rx_len - off, hl = 2, len;
        if (avail < 2) break;
        len = h[1] & 0x7f;
        if (len == 126) hl = 4;
        else if (len == 127) hl = 10;
        if (avail < hl) break;
        if (len == 126) len = (size_t)h[2] << 8 | h[3];
        else if (len == 127)
            for (int i = 0, j = (int)(len = 0); i < 8; i++, j++) len = len << 8 | h[2 + j];
        if (avail - hl < len) break;
        if ((h[0] & 0x0f) == 1) b->frames++;
        off += hl + len;
    }
    memmove(b->rx, b->rx + off, b->rx_len - off);
    b->rx_len -= off;
}

static int raw_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct bench *b = lws_context_user(lws_get_context(wsi));
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_RAW_CONNECTED:
        b->wsi = wsi;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (!b->request_sent) raw_write_request(b);
        b->request_sent = true;
        return 0;
    case LWS_CALLBACK_RAW_RX:
        if (len > RAW_RX_CAP - b->rx_len) return -1;
        memcpy(b->rx + b->rx_len, in, len);
        b->rx_len += len;
        raw_frames(b);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_RAW_CLOSE:
        if (!b->wall_end) fprintf(stderr, "ws_recv: raw connection ended early\n");
        b->wsi = NULL;
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols raw_protocols[] = {{.name = "raw-bench", .callback = raw_event}, {0}};

static int raw_connect(struct bench *b, uv_loop_t *loop) {
    static void *foreign[1];
    foreign[0] = loop;
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    struct lws_context_creation_info info = {.options = LWS_SERVER_OPTION_LIBUV, .foreign_loops = foreign,
                                             .port = CONTEXT_PORT_NO_LISTEN, .protocols = raw_protocols,
                                             .fd_limit_per_thread = 64, .user = b, .gid = -1, .uid = -1};
    b->ctx = lws_create_context(&info);
    b->rx = malloc(RAW_RX_CAP);
    if (!b->ctx || !b->rx) return -1;
    struct lws_client_connect_info ci = {
        .context = b->ctx, .address = "127.0.0.1", .port = b->port, .path = "/", .host = "127.0.0.1",
        .method = "RAW", .local_protocol_name = "raw-bench"};
    return lws_client_connect_via_info(&ci) ? 0 : -1;
}


int main(int argc, char **argv) {
    struct bench b = {.seconds = 5};
    const char *symbols = "1000", *rate = "0";
    bool raw = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0) b.seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--symbols") == 0) symbols = argv[i + 1];
        else if (strcmp(argv[i], "--rate") == 0) rate = argv[i + 1];
        else if (strcmp(argv[i], "--raw") == 0) raw = atoi(argv[i + 1]) != 0;
    }
    signal(SIGPIPE, SIG_IGN);
    struct fxc_proc fx;
    const char *args[] = {"--venue", "binance", "--symbols-count", symbols, "--rate", rate, "--log-level", "warn", NULL};
    if (fxc_spawn(&fx, args) < 0) {
        fprintf(stderr, "ws_recv: fakex did not start (set TICKD_ROOT and BUILD)\n");
        return 1;
    }
    b.port = fxc_port(&fx, "binance");
    char *subscribe = subscribe_message(b.port), url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/stream", b.port);
    b.subscribe = subscribe;

    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_init(&loop, &b.timer);
    b.timer.data = &b;
    int err = WS_ECONNECT;
    if (raw) {
        if (raw_connect(&b, &loop) == 0) err = 0;
    } else {
        struct ws_opts opts = {.max_frame = 1 << 20};
        struct ws_callbacks cb = {.on_text = on_text, .on_close = on_close};
        b.client = ws_client_new(&loop, 0);
        b.conn = b.client ? ws_connect(b.client, url, &opts, &cb, &b, &err) : NULL;
        if (b.conn) err = ws_send_text(b.conn, subscribe, strlen(subscribe));
    }
    if (err) {
        fprintf(stderr, "ws_recv: connect failed: %s\n", ws_error_name(err));
        uv_close((uv_handle_t *)&b.timer, NULL);
        if (b.client) ws_client_close(b.client); /* on_close does not run for a connection never made */
        if (b.ctx) lws_context_destroy(b.ctx);
    } else {
        uv_timer_start(&b.timer, on_tick, WARMUP_MS, 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = 1;
    if (b.wall_end) {
        double cpu = b.cpu_at_end - b.cpu_at_start, secs = (double)(b.wall_end - b.wall_start) / 1000.0;
        printf("ws_recv: %s symbols=%s rate=%s seconds=%.2f frames=%ld (%.0f/s) cpu %.0f%%: %.3f us per frame "
               "(%ld frames in all)\n",
               raw ? "raw" : "ws.c", symbols, rate, secs, b.frames_in_window, b.frames_in_window / secs,
               100 * cpu / secs, 1e6 * cpu / (double)b.frames_in_window, b.frames);
        rc = 0;
    }
    ws_client_free(b.client);
    if (b.ctx) lws_context_destroy(b.ctx); /* the second destroy frees it */
    free(b.rx);
    free(subscribe);
    if (uv_loop_close(&loop) != 0) fprintf(stderr, "ws_recv: handles left open\n");
    fxc_stop(&fx);
    return rc;
}
