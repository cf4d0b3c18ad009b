/* fuzz_status.c -- what `tickd status` does to the daemon's answer before a terminal shows it
 * (status_strip_controls), on arbitrary bytes cut into arbitrary reads.
 *
 * Input: one byte (bits 0-5: the length of each read - 1, bit 6: reads of growing length), then the answer.
 * The answer is stripped once whole and once read by read, each read in a buffer of exactly its length + 1 (the
 * room the function asks for), so a write past it is an ASan report. Beyond "never crash": the two results are
 * the same bytes (a UTF-8 sequence split between reads changes nothing), and no control reaches the terminal:
 * no C0 byte but newline and tab, no DEL, no C1 control encoded as UTF-8 (0xc2 followed by 0x80..0x9f) even
 * where removing a byte brought the two together. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/status.h"

static void die(const char *what, const uint8_t *in, size_t len) {
    fprintf(stderr, "fuzz_status: %s; input:", what);
    for (size_t i = 0; i < len && i < 64; i++) fprintf(stderr, " %02x", in[i]);
    fprintf(stderr, "\n");
    abort();
}

static void check_clean(const char *out, size_t n, const uint8_t *in, size_t len) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) die("a C0 control or DEL let through", in, len);
        if (c == 0xc2 && i + 1 < n && (unsigned char)out[i + 1] >= 0x80 && (unsigned char)out[i + 1] <= 0x9f)
            die("a C1 control let through", in, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t *in = data + 1;
    size_t len = size - 1, step = 1 + (data[0] & 63);
    int growing = data[0] & 64;

    char *whole = malloc(len + 1);
    char *pieces = malloc(len + 1);
    if (!whole || !pieces) abort();
    memcpy(whole, in, len);
    struct status_strip st = {0};
    size_t nw = status_strip_controls(&st, whole, len);
    if (nw > len) die("the whole answer grew", in, len);
    check_clean(whole, nw, in, len);

    struct status_strip sp = {0};
    size_t np = 0;
    for (size_t at = 0; at < len;) {
        size_t n = len - at < step ? len - at : step;
        char *buf = malloc(n + 1);
        if (!buf) abort();
        memcpy(buf, in + at, n);
        size_t got = status_strip_controls(&sp, buf, n);
        if (got > n + 1) die("a read grew by more than the byte held back", in, len);
        if (np + got > len) die("the pieces grew", in, len);
        memcpy(pieces + np, buf, got);
        np += got;
        free(buf);
        at += n;
        if (growing) step = step * 2 + 1;
    }
    check_clean(pieces, np, in, len);
    if (np != nw || memcmp(whole, pieces, nw) != 0) die("read by read differs from whole", in, len);
    free(whole);
    free(pieces);
    return 0;
}
