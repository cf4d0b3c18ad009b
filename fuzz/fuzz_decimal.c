/* fuzz_decimal.c -- the exact decimal code: decimal_valid, decimal_compare, decimal_sign, and the venues'
 * decimal texts of JSON numbers (venue_decimal_shortest, venue_number_is_shortest, venue_copy_decimal_real).
 *
 * Input: two texts split at the first '\n' (each copied to its own C string). Besides "never crash" it checks
 * what decimal.h promises: compare is reflexive and antisymmetric and agrees with decimal_valid and
 * decimal_sign; and where both texts have at most 15 significant digits (so distinct values are distinct
 * doubles and rounding keeps their order) the order is the one strtod's doubles have. The first 8 bytes, read
 * as a double, go through venue_decimal_shortest, whose text must read back to the same double. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/decimal.h"
#include "tickd/tick.h"
#include "tickd/venue.h"

static void die(const char *what, const char *a, const char *b) {
    fprintf(stderr, "fuzz_decimal: %s (a=\"%s\" b=\"%s\")\n", what, a, b ? b : "");
    abort();
}

/* Digits that carry the value: leading zeros (across the point) and trailing fraction zeros dropped. */
static int significant(const char *s) {
    const char *p = s + (*s == '-');
    const char *first = NULL, *last = NULL;
    int point = 0, n = 0;
    for (const char *q = p; *q; q++) {
        if (*q == '.') {
            point = 1;
            continue;
        }
        if (*q != '0' && !first) first = q;
        if (first) n++;
        if (*q != '0') last = q;
    }
    if (!first) return 0;
    /* Trailing zeros after the last non-zero digit count only in the integer part. */
    if (point) {
        int trailing = 0;
        for (const char *q = last + 1; *q; q++)
            if (*q == '0') trailing++;
        const char *dot = strchr(p, '.');
        if (dot && last < dot) trailing = 0; /* zeros before the point are part of the value */
        n -= trailing;
    }
    return n;
}

static int sgn(double d) {
    return d < 0 ? -1 : d > 0 ? 1 : 0;
}

static void pair(const char *a, const char *b) {
    int ab = 2, ba = 2, aa = 2;
    int ra = decimal_compare(a, b, &ab);
    int rb = decimal_compare(b, a, &ba);
    bool va = decimal_valid(a), vb = decimal_valid(b);
    if ((ra == 0) != (va && vb) || (rb == 0) != (va && vb)) die("compare and valid disagree", a, b);
    if (ra != 0) {
        if (ab != 2) die("a failed compare wrote its order", a, b);
        return;
    }
    if (ab != -ba || ab < -1 || ab > 1) die("compare is not antisymmetric", a, b);
    if (decimal_compare(a, a, &aa) != 0 || aa != 0) die("compare is not reflexive", a, b);
    if (decimal_sign(a) != (decimal_compare(a, "0", &aa), aa)) die("decimal_sign disagrees with compare", a, b);
    if (significant(a) <= 15 && significant(b) <= 15) {
        double da = strtod(a, NULL), db = strtod(b, NULL);
        if (isfinite(da) && isfinite(db) && da != 0 && db != 0 && fabs(da) > 1e-300 && fabs(db) > 1e-300 &&
            sgn(da - db) != ab)
            die("compare disagrees with the doubles", a, b);
    }
}

static void number(const char *a, size_t len) {
    char dst[TICK_DECIMAL_MAX];
    bool shortest = venue_number_is_shortest(a, len);
    if (venue_copy_decimal_real(dst, a, len) == 0) {
        if (!memchr(dst, 0, sizeof dst)) die("copy_decimal_real left its text unterminated", a, NULL);
        if (shortest && (strlen(dst) != len || memcmp(dst, a, len) != 0)) die("a shortest text was rewritten", a, NULL);
    }
}

static void shortest(double v) {
    char buf[TICK_DECIMAL_MAX];
    int n = venue_decimal_shortest(v, buf, sizeof buf);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf || buf[n] != 0 || strlen(buf) != (size_t)n) die("shortest: length", buf, NULL);
    if (strtod(buf, NULL) != v) die("shortest does not read back to its double", buf, NULL);
    if (strchr(buf, 'e') || strchr(buf, 'E')) die("shortest has an exponent", buf, NULL);
    if (!decimal_valid(buf)) die("shortest is not a decimal", buf, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t la = nl ? (size_t)(nl - data) : size;
    char *a = malloc(la + 1);
    size_t lb = nl ? size - la - 1 : 0;
    char *b = malloc(lb + 1);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memcpy(a, data, la);
    a[la] = 0;
    if (nl) memcpy(b, nl + 1, lb);
    b[lb] = 0;
    /* A NUL inside ends the C string the decimal functions see; the length-taking ones see all of it. */
    pair(a, b);
    number(a, la);
    if (size >= 8) {
        double v;
        memcpy(&v, data, sizeof v);
        shortest(v);
    }
    free(a);
    free(b);
    return 0;
}
