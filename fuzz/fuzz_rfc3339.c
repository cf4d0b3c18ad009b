/* fuzz_rfc3339.c -- venue_parse_rfc3339 (Coinbase "time", Kraken v2 "timestamp") on arbitrary bytes.
 *
 * The text is copied to a buffer of exactly its length. A time it accepts is checked against the C
 * library: the same fields through timegm() give the same second (the parser's own calendar arithmetic must
 * agree with glibc's for every year 0000-9999 and every offset), and no conversion may overflow (UBSan). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tickd/venue.h"

static void die(const char *what, const char *s, size_t len) {
    fprintf(stderr, "fuzz_rfc3339: %s: \"%.*s\"\n", what, (int)len, s);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The parser gets exactly the input's bytes (ASan sees a read past them); the reference reads a
     * NUL-terminated copy, since sscanf takes the length of its string first. */
    char *exact = malloc(size ? size : 1), *s = malloc(size + 1);
    if (!exact || !s) {
        free(exact);
        free(s);
        return 0;
    }
    memcpy(exact, data, size);
    memcpy(s, data, size);
    s[size] = 0;
    int64_t us = 0;
    if (venue_parse_rfc3339(exact, size, &us) == 0) {
        int y, mo, d, h, mi, sec, oh = 0, om = 0;
        char sep;
        int64_t frac_us = 0;
        if (size < 20 || sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &sec) != 7)
            die("accepted without the date and time fields", s, size);
        size_t i = 19;
        if (s[i] == '.') {
            int n = 0;
            for (i++; i < size && s[i] >= '0' && s[i] <= '9'; i++, n++)
                if (n < 6) frac_us = frac_us * 10 + (s[i] - '0');
            for (; n < 6; n++) frac_us *= 10;
        }
        int sign = 0;
        if (i < size && (s[i] == '+' || s[i] == '-')) {
            sign = s[i] == '+' ? 1 : -1;
            if (sscanf(s + i + 1, "%2d:%2d", &oh, &om) != 2) die("accepted an offset it did not read", s, size);
        }
        struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
        int64_t want = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
        /* The parser may refuse more (an event time bounded to a sane range), never answer differently. */
        if (us != want * 1000000 + frac_us) die("a different time than timegm", s, size);
    }
    free(exact);
    free(s);
    return 0;
}
