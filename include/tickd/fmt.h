/* fmt.h -- integers as decimal text without printf, for the per-frame paths (subscribe ids, Redis commands,
 * JSON bodies): snprintf parses its format string on every call, which showed in every profile. */
#ifndef TICKD_FMT_H
#define TICKD_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Appends the digits of v at p (no NUL); returns the end. At most 20 characters. */
static inline char *fmt_u64(char *p, uint64_t v) {
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = digits[--n];
    return p;
}

/* The same as a NUL-terminated string; returns its length. buf holds at least 21 bytes. */
static inline size_t fmt_u64_str(char *buf, uint64_t v) {
    char *end = fmt_u64(buf, v);
    *end = 0;
    return (size_t)(end - buf);
}

#endif
