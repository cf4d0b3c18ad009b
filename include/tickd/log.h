/* log.h -- one event per line on stderr, logfmt or JSON.
 *
 * Levels are syslog severities, so that when stderr is the journal the "<N>" prefix journald reads is the
 * level itself. A call names its component, a fixed message and a printf format of `key=value` pairs:
 *
 *     log_info("group", "task failed", "group=%s task=%s cause=%s", g, t, why);
 *
 * The logger takes the keys from the format string (a value's format runs to the next " key=" of the format)
 * and formats, quotes and escapes each value on its own, so a value from the network (an error text, a symbol)
 * can never forge a key or start a new line, whatever it holds. The level is checked before anything is
 * formatted: a disabled debug line costs one relaxed atomic load and a compare.
 *
 * Writing never blocks the caller: when stderr is a pipe or a socket nobody reads (a stalled journald, a stuck
 * log shipper), lines wait in a bounded queue (256 KiB), then are dropped and counted; once the output takes
 * lines again, what waited goes first and then one warning "log lines dropped" with dropped=N. A line is
 * written whole or not at all. Thread-safe: the RabbitMQ publisher thread logs too.
 *
 * Secrets never reach this module: pass URLs through log_redact_url() first. */
#ifndef TICKD_LOG_H
#define TICKD_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
    LOG_LEVEL_ERROR = 3,
    LOG_LEVEL_WARN = 4,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7,
};

enum log_format {
    LOG_FORMAT_LOGFMT = 0,
    LOG_FORMAT_JSON = 1,
};

extern _Atomic int log_max_level; /* lines above this severity number are dropped; reload sets it */

/* Sets level and format; detects whether stderr is the journal ($JOURNAL_STREAM names stderr's device and
 * inode) and then prefixes every line with "<N>" and leaves the timestamp to journald. */
void log_setup(enum log_level level, enum log_format format);

/* Parses "error" | "warn" | "info" | "debug" (and "json" | "logfmt"); returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
int log_format_parse(const char *s, enum log_format *out);
const char *log_level_name(enum log_level level);

/* Redirects output (tests capture lines through a pipe or a file); -1 restores stderr. What still waits for
 * the previous output is sent if it can be at once, else discarded. */
void log_set_fd(int fd);

/* Sends what waits in the queue, without blocking; returns what is still waiting (bytes, plus one for an
 * unreported count of dropped lines). The daemon calls it from a timer, so a reader that recovers gets the
 * waiting lines without a new one having to be logged. */
size_t log_flush(void);

/* At exit: flushes for at most timeout_ms, waiting for the output to become writable. */
void log_drain(int timeout_ms);

void log_write(enum log_level level, const char *component, const char *msg, const char *kv_fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_at(level, component, msg, ...)                                                                  \
    do {                                                                                                    \
        if ((int)(level) <= atomic_load_explicit(&log_max_level, memory_order_relaxed))                     \
            log_write((level), (component), (msg), __VA_ARGS__);                                            \
    } while (0)
#define log_error(component, msg, ...) log_at(LOG_LEVEL_ERROR, component, msg, __VA_ARGS__)
#define log_warn(component, msg, ...) log_at(LOG_LEVEL_WARN, component, msg, __VA_ARGS__)
#define log_info(component, msg, ...) log_at(LOG_LEVEL_INFO, component, msg, __VA_ARGS__)
#define log_debug(component, msg, ...) log_at(LOG_LEVEL_DEBUG, component, msg, __VA_ARGS__)

/* Copies url into out with any password (the part between "user:" and "@") replaced by "***".
 * Always terminates out; returns out. */
char *log_redact_url(const char *url, char *out, size_t outlen);

#endif
