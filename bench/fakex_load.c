/* fakex_load -- how many messages per second fakex sends in load mode.
 *
 *   BUILD=build TICKD_ROOT=$PWD build/bench/fakex_load [--seconds 5] [--symbols 100] [--conns 1]
 *
 * Starts fakex (--venue binance --rate 0), opens --conns combined-stream websockets that each subscribe every
 * symbol's bookTicker, counts whole frames for --seconds and prints the rate received, and fakex's own count
 * from its report. The client only walks frame headers, so on two cores the figure is fakex's. */
#define _GNU_SOURCE
#include <ctype.h>
#include <jansson.h>

#include "../tests/fakex/fx_client.h"

#define MAX_CONNS 16

static json_t *get_json(int port, const char *target) {
    struct fxc_conn c = {.fd = fxc_connect(port)};
    struct fxc_http r;
    json_t *j = NULL;
    if (c.fd >= 0 && fxc_http(&c, "GET", target, &r, 5000) == 0) {
        j = json_loadb(r.body, r.len, 0, NULL);
        free(r.body);
    }
    fxc_close(&c);
    return j;
}

/* "/stream?streams=a@bookTicker/b@bookTicker/..." for every symbol fakex serves. */
static char *stream_path(int port) {
    json_t *all = get_json(port, "/api/v3/ticker/price");
    size_t n = json_array_size(all), i;
    char *path = calloc(32 + n * 40, 1);
    json_t *t;
    strcpy(path, "/stream?streams=");
    json_array_foreach(all, i, t) {
        char *end = path + strlen(path);
        sprintf(end, "%s%s@bookTicker", i ? "/" : "", json_string_value(json_object_get(t, "symbol")));
        for (char *s = end; *s && *s != '@'; s++) *s = (char)tolower((unsigned char)*s);
    }
    json_decref(all);
    return path;
}

int main(int argc, char **argv) {
    double seconds = 5;
    int nconns = 1;
    const char *symbols = "100";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--symbols") == 0) symbols = argv[i + 1];
        else if (strcmp(argv[i], "--conns") == 0) nconns = atoi(argv[i + 1]);
    }
    if (nconns < 1 || nconns > MAX_CONNS) nconns = 1;
    signal(SIGPIPE, SIG_IGN);
    struct fxc_proc fx;
    const char *args[] = {"--venue", "binance", "--symbols-count", symbols, "--rate", "0", "--log-level", "warn", NULL};
    if (fxc_spawn(&fx, args) < 0) {
        fprintf(stderr, "fakex_load: fakex did not start (set TICKD_ROOT and BUILD)\n");
        return 1;
    }
    int port = fxc_port(&fx, "binance");
    char *path = stream_path(port);
    struct fxc_conn conns[MAX_CONNS];
    struct pollfd pfds[MAX_CONNS];
    for (int i = 0; i < nconns; i++) {
        if (fxc_ws_open(&conns[i], port, path) != 0) {
            fprintf(stderr, "fakex_load: websocket refused (a request line holds about 400 stream names)\n");
            fxc_stop(&fx);
            return 1;
        }
        pfds[i] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
    }
    free(path);
    long frames = 0;
    int64_t start = fxc_now_ms(), end = start + (int64_t)(seconds * 1000);
    while (fxc_now_ms() < end) {
        if (poll(pfds, (nfds_t)nconns, 100) <= 0) continue;
        for (int i = 0; i < nconns; i++) {
            if (!(pfds[i].revents & POLLIN)) continue;
            struct fxc_conn *c = &conns[i];
            if (fxc_fill(c, 0) < 0) goto done;
            int op;
            size_t hdr, plen, off = 0;
            while (fxc_ws_peek((uint8_t *)c->buf + off, c->len - off, &op, &hdr, &plen)) off += hdr + plen, frames++;
            fxc_consume(c, off);
        }
    }
done:;
    double secs = (double)(fxc_now_ms() - start) / 1000.0;
    json_t *rep = get_json(fxc_port(&fx, "control"), "/_fakex/report");
    long long sent = (long long)json_integer_value(
        json_object_get(json_object_get(json_object_get(rep, "venues"), "binance"), "messages_sent"));
    json_decref(rep);
    for (int i = 0; i < nconns; i++) fxc_close(&conns[i]);
    int status = fxc_stop(&fx);
    printf("fakex_load: venue=binance symbols=%s conns=%d seconds=%.2f received=%ld rate=%.0f msg/s "
           "(fakex sent %lld in total; fakex exit %d)\n",
           symbols, nconns, secs, frames, frames / secs, sent, status);
    return status == 0 ? 0 : 1;
}
