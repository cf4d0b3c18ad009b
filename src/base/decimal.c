/* decimal.c -- see decimal.h. A decimal is split into sign, significant integer digits and significant
 * fraction digits; two decimals then compare by sign, integer length, integer digits, fraction digits. */
#include "tickd/decimal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

struct decimal_parts {
    bool negative;
    const char *int_digits; /* without leading zeros */
    size_t int_len;
    const char *frac_digits; /* without trailing zeros */
    size_t frac_len;
};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Splits s into its parts; returns false when s is not in the accepted syntax. */
static bool decimal_split(const char *s, struct decimal_parts *p) {
    if (!s) return false;
    p->negative = (*s == '-');
    if (p->negative) s++;

    const char *int_start = s;
    while (is_digit(*s)) s++;
    size_t int_len = (size_t)(s - int_start);
    if (int_len == 0) return false;

    const char *frac_start = s;
    size_t frac_len = 0;
    if (*s == '.') {
        frac_start = ++s;
        while (is_digit(*s)) s++;
        frac_len = (size_t)(s - frac_start);
        if (frac_len == 0) return false;
    }
    if (*s != '\0') return false;

    while (int_len > 0 && *int_start == '0') int_start++, int_len--;
    while (frac_len > 0 && frac_start[frac_len - 1] == '0') frac_len--;
    p->int_digits = int_start;
    p->int_len = int_len;
    p->frac_digits = frac_start;
    p->frac_len = frac_len;
    if (int_len == 0 && frac_len == 0) p->negative = false; /* -0 == 0 */
    return true;
}

bool decimal_span_valid(const char *p, size_t len) {
    size_t i = 0;
    if (i < len && p[i] == '-') i++;
    size_t int_start = i;
    while (i < len && is_digit(p[i])) i++;
    if (i == int_start) return false;
    if (i < len && p[i] == '.') {
        size_t frac_start = ++i;
        while (i < len && is_digit(p[i])) i++;
        if (i == frac_start) return false;
    }
    return i == len;
}

bool decimal_valid(const char *s) {
    struct decimal_parts p;
    return decimal_split(s, &p);
}

/* -1, 0, 1 comparing |a| and |b|. */
static int magnitude_compare(const struct decimal_parts *a, const struct decimal_parts *b) {
    if (a->int_len != b->int_len) return a->int_len < b->int_len ? -1 : 1;
    int c = memcmp(a->int_digits, b->int_digits, a->int_len);
    if (c != 0) return c < 0 ? -1 : 1;
    size_t n = a->frac_len > b->frac_len ? a->frac_len : b->frac_len;
    for (size_t i = 0; i < n; i++) {
        char da = i < a->frac_len ? a->frac_digits[i] : '0';
        char db = i < b->frac_len ? b->frac_digits[i] : '0';
        if (da != db) return da < db ? -1 : 1;
    }
    return 0;
}

int decimal_compare(const char *a, const char *b, int *order) {
    struct decimal_parts pa, pb;
    if (!decimal_split(a, &pa) || !decimal_split(b, &pb)) return -EINVAL;
    if (pa.negative != pb.negative) {
        *order = pa.negative ? -1 : 1;
        return 0;
    }
    int c = magnitude_compare(&pa, &pb);
    *order = pa.negative ? -c : c;
    return 0;
}

int decimal_sign(const char *s) {
    struct decimal_parts p;
    if (!decimal_split(s, &p)) return -2;
    if (p.int_len == 0 && p.frac_len == 0) return 0;
    return p.negative ? -1 : 1;
}

static bool field_ok(const char *s, int min_sign) {
    return s[0] == '\0' || decimal_sign(s) >= min_sign;
}

bool decimal_tick_values_ok(const struct tick *t) {
    return field_ok(t->bid, 1) && field_ok(t->ask, 1) && field_ok(t->last, 1) && field_ok(t->bid_qty, 0) &&
           field_ok(t->ask_qty, 0);
}
