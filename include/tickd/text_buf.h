/* text_buf.h -- a growing text buffer appended to with printf formats: what the status report is rendered into,
 * by the daemon and by each sink for its own line. Out of memory is sticky (oom) and later appends do nothing,
 * so a renderer need not check every call. The owner frees data. */
#ifndef TICKD_TEXT_BUF_H
#define TICKD_TEXT_BUF_H

#include <stddef.h>

struct text_buf {
    char *data;
    size_t len, cap;
    int oom;
};

void text_printf(struct text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
