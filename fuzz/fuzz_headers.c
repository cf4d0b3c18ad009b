/* fuzz_headers.c -- the rate-limit headers: Retry-After and the used-weight counts (X-MBX-USED-WEIGHT-1M) as
 * the poller reads them (http_retry_after_ms, http_parse_uint), and what the limiter makes of them.
 *
 * Input: one byte (bit 0: the answer is a 418, else a 429), then the Retry-After value and, after the first
 * '\n', the used-weight value (each a C string). One limiter lives for the whole run, on a loop that is never
 * run: pauses only set its state. Beyond "never crash": a number parses to exactly its digits or saturates
 * with -ERANGE; a Retry-After in seconds is that many seconds (INT64_MAX when it does not fit); and whatever
 * the server asks, the limiter's pause ends within max_pause. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "tickd/clock.h"
#include "tickd/http.h"
#include "tickd/limiter.h"
#include "tickd/log.h"

static void die(const char *what, const char *v) {
    fprintf(stderr, "fuzz_headers: %s: \"%s\"\n", what, v);
    abort();
}

static struct limiter *lim;

static void setup(void) {
    static uv_loop_t loop;
    static FILE *null;
    null = fopen("/dev/null", "w");
    log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_LOGFMT);
    log_set_fd(fileno(null));
    static const struct limiter_window w[] = {{LIMITER_WEIGHT, 6000, 60000, 1000}, {LIMITER_REQUEST, 20, 1000, 50}};
    struct limiter_config cfg = {.name = "fuzz", .windows = w, .n_windows = 2};
    if (uv_loop_init(&loop) != 0 || limiter_new(&loop, &cfg, &lim) != 0) die("setup", "");
}

/* Digits only, by hand: the reference the parser must agree with. */
static int reference_uint(const char *v, uint64_t *out) {
    if (!*v) return -EINVAL;
    uint64_t n = 0;
    int over = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9') return -EINVAL;
        if (n > UINT64_MAX / 10 || n * 10 > UINT64_MAX - (uint64_t)(*p - '0')) over = 1;
        else n = n * 10 + (uint64_t)(*p - '0');
    }
    *out = over ? UINT64_MAX : n;
    return over ? -ERANGE : 0;
}

static void number(const char *v) {
    uint64_t got = 0, want = 0;
    int rc = http_parse_uint(v, &got), wrc = reference_uint(v, &want);
    if (rc != wrc || (rc != -EINVAL && got != want)) die("http_parse_uint", v);
    if (rc != -EINVAL) limiter_observe_used(lim, 0, got > UINT32_MAX ? UINT32_MAX : (uint32_t)got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!lim) setup();
    if (size < 1 || size > 4096) return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    char *used = strchr(text, '\n');
    if (used) *used++ = 0;

    int64_t now_ms = (int64_t)time(NULL) * 1000;
    int64_t ra = http_retry_after_ms(text, now_ms);
    if (ra < -1) die("a negative delay", text);
    uint64_t secs;
    int rc = reference_uint(text, &secs);
    if (rc == 0 && secs <= (uint64_t)INT64_MAX / 1000 && ra != (int64_t)secs * 1000) die("delay-seconds misread", text);
    if ((rc == -ERANGE || (rc == 0 && secs > (uint64_t)INT64_MAX / 1000)) && ra != INT64_MAX) die("no saturation", text);
    number(text);
    if (used) number(used);

    int64_t before = clock_mono_ms();
    int64_t until = limiter_pause_http(lim, (data[0] & 1) ? 418 : 429, ra);
    struct limiter_status st;
    limiter_status_get(lim, &st);
    int64_t bound = clock_mono_ms() + LIMITER_MAX_PAUSE_MS;
    if (until > bound || st.paused_until_ms > bound) die("a pause beyond max_pause", text);
    if (until < before) die("a pause that ends before it starts", text);
    free(text);
    return 0;
}
