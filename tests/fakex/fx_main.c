/* fx_main.c -- fakex's command line and main().
 *
 *   fakex --venue binance|coinbase|kraken|okx|all [--port N | --ports binance=N,okx=M] [--control-port N]
 *         [--symbols BTC-USDT,ETH-USDT | --symbols @FILE | --symbols-count N] [--rate R] [--trade-rate T]
 *         [--book-rate B] [--scenario NAME] [--seed S]
 *         [--set 'key=value&key=value'] [--replay FILE] [--report FILE] [--duration-ms N] [--log-level L]
 *
 * Each venue gets its own loopback port and serves REST and websockets there (as one host would); --port 0 (the
 * default) picks free ports. --trade-rate: trades a second per venue (0, the default: one with each quote update;
 * negative: none); trades go to the connections that subscribed a symbol's trade channel. --book-rate: level
 * changes a second of each symbol's book, once something uses it (20 by default; 0: the books stand still). When
 * ready, one line
 * on stdout names them:
 *   fakex ready binance=127.0.0.1:40001 okx=127.0.0.1:40002 control=127.0.0.1:40003
 * SIGTERM or SIGINT (or POST /_fakex/quit) writes the report and ends with every handle closed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakex.h"
#include "tickd/log.h"

static const struct {
    const char *name, *settings, *help;
} scenarios[] = {
    {"normal", "", "prices walk at --rate, no faults"},
    {"load", "rate=0", "as many messages as the subscribers take"},
    {"stall", "stall=1", "connections stay open, nothing is sent or answered"},
    {"refuse", "refuse=1", "connections are reset as soon as accepted"},
    {"slow", "delay_ms=2000", "REST answers come 2 s late"},
    {"http5xx", "http_status=503", "REST answers 503"},
    {"malformed", "malformed=1000000", "a cut JSON frame before every message"},
    {"truncated", "truncated=1", "a frame cut in the middle, then the socket closes"},
    {"oversized", "oversized=2097152", "one 2 MiB frame"},
    {"unknown", "unknown=1000000", "a message of an unknown type before every message"},
    {"sub-error", "sub_error=1000000", "every subscribe is refused with the venue's error (OKX)"},
    {"mute-next", "mute_next=1", "the next websocket connection's subscription is silently dropped"},
    {"heartbeats-only", "heartbeats_only=1", "keep-alive traffic but no market data"},
    {"flaky", "close_after=100", "each websocket is closed after 100 messages"},
    {"short-lived", "close_in_ms=10000", "each websocket is closed after 10 s (the 24 h close, sooner)"},
    {"rate-limit", "rest_limit=10&rest_window_ms=10000&ban_ms=5000", "small REST limits: 429 and 418 come fast"},
    {"book-load", "book_rate=1000", "1000 book level changes a second per symbol whose book is used"},
};

static struct {
    bool venue[FX_VENUE_COUNT];
    int port[FX_VENUE_COUNT], base_port, control_port;
    const char *symbols, *scenario, *report, *replay;
    const char *sets[16];
    int nsets;
    size_t symbols_count;
    int64_t rate, trade_rate, book_rate, duration_ms;
    uint64_t seed;
} opt = {.symbols_count = 4, .rate = 100, .book_rate = 20, .seed = 1, .duration_ms = 0};

static uv_signal_t sig_term, sig_int;
static uv_timer_t duration_timer;
static bool shutting_down;

/* "--symbols @FILE": the list from a file (commas or newlines between names), for lists longer than a command
 * line may be (the scale benchmark's 12,500 symbols per venue). */
static char *symbols_from_file;

static int read_symbols_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "fakex: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int c;
    while (mem && (c = getc(f)) != EOF)
        if (c != '\r') putc(c == '\n' ? ',' : c, mem);
    fclose(f);
    if (!mem || fclose(mem) != 0) return -1;
    while (len && text[len - 1] == ',') text[--len] = '\0'; /* a final newline names no symbol */
    free(symbols_from_file);
    symbols_from_file = text;
    opt.symbols = text;
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: fakex --venue binance|coinbase|kraken|okx|all [--port N | --ports binance=N,...]\n"
            "             [--control-port N] [--symbols A-B,C-D | --symbols-count N] [--rate R] [--trade-rate T]\n"
            "             [--book-rate B] [--scenario NAME]\n"
            "             [--seed S] [--set 'key=value&...'] [--replay FILE] [--report FILE] [--duration-ms N]\n"
            "             [--log-level error|warn|info|debug]\nscenarios:\n");
    for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++)
        fprintf(stderr, "  %-16s %s\n", scenarios[i].name, scenarios[i].help);
}

static int venue_index(const char *name) {
    static const char *const names[FX_VENUE_COUNT] = {"binance", "coinbase", "kraken", "okx"};
    for (int i = 0; i < FX_VENUE_COUNT; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

static int parse_venues(const char *list) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *v = strtok_r(buf, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        if (strcmp(v, "all") == 0) {
            for (int i = 0; i < FX_VENUE_COUNT; i++) opt.venue[i] = true;
            continue;
        }
        int i = venue_index(v);
        if (i < 0) return -1;
        opt.venue[i] = true;
    }
    return 0;
}

static int parse_ports(const char *list) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(p, '=');
        if (!eq) return -1;
        *eq = 0;
        int i = venue_index(p);
        if (i < 0) return -1;
        opt.port[i] = atoi(eq + 1);
    }
    return 0;
}

static int parse_args(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return -1;
        if (!val) return -1;
        i++;
        if (strcmp(a, "--venue") == 0) {
            if (parse_venues(val) < 0) return -1;
        } else if (strcmp(a, "--port") == 0) opt.base_port = atoi(val);
        else if (strcmp(a, "--ports") == 0) {
            if (parse_ports(val) < 0) return -1;
        } else if (strcmp(a, "--control-port") == 0) opt.control_port = atoi(val);
        else if (strcmp(a, "--symbols") == 0) {
            if (val[0] == '@' && read_symbols_file(val + 1) < 0) return -1;
            if (val[0] != '@') opt.symbols = val;
        }
        else if (strcmp(a, "--symbols-count") == 0) opt.symbols_count = strtoul(val, NULL, 10);
        else if (strcmp(a, "--rate") == 0) opt.rate = strtoll(val, NULL, 10);
        else if (strcmp(a, "--trade-rate") == 0) opt.trade_rate = strtoll(val, NULL, 10);
        else if (strcmp(a, "--book-rate") == 0) opt.book_rate = strtoll(val, NULL, 10);
        else if (strcmp(a, "--scenario") == 0) opt.scenario = val;
        else if (strcmp(a, "--seed") == 0) opt.seed = strtoull(val, NULL, 10);
        else if (strcmp(a, "--report") == 0) opt.report = val;
        else if (strcmp(a, "--replay") == 0) opt.replay = val;
        else if (strcmp(a, "--duration-ms") == 0) opt.duration_ms = strtoll(val, NULL, 10);
        else if (strcmp(a, "--set") == 0 && opt.nsets < 16) opt.sets[opt.nsets++] = val;
        else if (strcmp(a, "--log-level") == 0) {
            enum log_level level;
            if (log_level_parse(val, &level) < 0) return -1;
            log_setup(level, LOG_FORMAT_LOGFMT);
        } else return -1;
    }
    for (int i = 0; i < FX_VENUE_COUNT; i++)
        if (opt.venue[i]) return 0;
    return -1; /* no venue */
}

static void on_handle_closed(uv_handle_t *h) { (void)h; }

void fx_shutdown(void) {
    if (shutting_down) return;
    shutting_down = true;
    if (opt.report) fx_report_write(opt.report);
    fx_listeners_close();
    for (int i = 0; i < FX_VENUE_COUNT; i++) fx_venue_stop(&fx_venues[i]);
    fx_control_conns_close();
    uv_close((uv_handle_t *)&sig_term, on_handle_closed);
    uv_close((uv_handle_t *)&sig_int, on_handle_closed);
    uv_close((uv_handle_t *)&duration_timer, on_handle_closed);
}

static void on_signal(uv_signal_t *h, int signum) {
    (void)h;
    log_info("fakex", "stopping", "signal=%d", signum);
    fx_shutdown();
}

static void on_duration(uv_timer_t *t) {
    (void)t;
    fx_shutdown();
}

static int start_venues(uv_loop_t *loop, char *ready, size_t readylen) {
    size_t used = (size_t)snprintf(ready, readylen, "fakex ready");
    int k = 0;
    for (int i = 0; i < FX_VENUE_COUNT; i++) {
        struct fx_venue *v = &fx_venues[i];
        fx_venue_init(v, (enum fx_venue_id)i, loop);
        if (!opt.venue[i]) continue;
        uint64_t rng = opt.seed * 7919 + (uint64_t)i + 1;
        v->rng = rng;
        v->trade_rng = (rng ^ 0x5DEECE66DULL) * 0x9E3779B97F4A7C15ULL | 1; /* never 0: xorshift would stay there */
        v->rate = opt.rate;
        v->trade_rate = opt.trade_rate;
        v->book_rate = opt.book_rate;
        v->book_rng = (rng ^ 0xB00CB00CB00CULL) * 0xBF58476D1CE4E5B9ULL | 1; /* the books draw on their own too */
        if (fx_symbols_init(&v->syms, &v->nsyms, opt.symbols, opt.symbols_count, &rng) < 0) return -1;
        fx_symbols_venue(v->syms, v->nsyms, (enum fx_venue_id)i);
        if (opt.replay && fx_venue_load_replay(v, opt.replay) < 0) {
            log_error("fakex", "cannot read replay file", "path=%s", opt.replay);
            return -1;
        }
        int port = opt.port[i] ? opt.port[i] : (opt.base_port ? opt.base_port + k : 0);
        if (fx_listen(loop, v, port, &v->port) < 0) return -1;
        fx_venue_start(v);
        k++;
        used += (size_t)snprintf(ready + used, readylen - used, " %s=127.0.0.1:%d", v->d->name, v->port);
    }
    int control_port;
    if (fx_listen(loop, NULL, opt.control_port, &control_port) < 0) return -1;
    snprintf(ready + used, readylen - used, " control=127.0.0.1:%d", control_port);
    return 0;
}

static int apply_scenario(void) {
    char err[160];
    const char *settings = NULL;
    for (size_t i = 0; opt.scenario && i < sizeof scenarios / sizeof *scenarios; i++)
        if (strcmp(opt.scenario, scenarios[i].name) == 0) settings = scenarios[i].settings;
    if (opt.scenario && !settings) {
        fprintf(stderr, "fakex: unknown scenario '%s'\n", opt.scenario);
        return -1;
    }
    if (settings && fx_settings_apply("all", settings, err, sizeof err) < 0) return -1;
    for (int i = 0; i < opt.nsets; i++)
        if (fx_settings_apply("all", opt.sets[i], err, sizeof err) < 0) {
            fprintf(stderr, "fakex: --set: %s\n", err);
            return -1;
        }
    return 0;
}

static void print_open_handle(uv_handle_t *h, void *arg) {
    (void)arg;
    log_error("fakex", "handle left open", "type=%s", uv_handle_type_name(uv_handle_get_type(h)));
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    if (parse_args(argc, argv) < 0) {
        usage();
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    fx_loop = &loop;
    fx_start_ms = (int64_t)uv_now(&loop);
    uv_signal_init(&loop, &sig_term);
    uv_signal_init(&loop, &sig_int);
    uv_timer_init(&loop, &duration_timer);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    if (opt.duration_ms > 0) uv_timer_start(&duration_timer, on_duration, (uint64_t)opt.duration_ms, 0);
    char ready[512];
    int status = 0;
    if (start_venues(&loop, ready, sizeof ready) < 0 || apply_scenario() < 0) {
        status = 1;
        opt.report = NULL;
        fx_shutdown();
    } else {
        printf("%s\n", ready);
        fflush(stdout);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < FX_VENUE_COUNT; i++) fx_venue_free(&fx_venues[i]);
    fx_violations_free();
    free(symbols_from_file);
    if (uv_loop_close(&loop) != 0) {
        uv_walk(&loop, print_open_handle, NULL);
        return 1;
    }
    return status;
}
