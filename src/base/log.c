/* log.c -- see log.h.
 *
 * Keys come from the call's format string, never from the values: each value is formatted on its own (one
 * conversion at a time, below) and then quoted and escaped, so text from a venue cannot add a field or a line.
 *
 * Output never blocks the caller. A socket (journald's stream) is written with MSG_DONTWAIT; a pipe is reopened
 * through /proc/self/fd as a non-blocking description of its own, so that the flags of the descriptor we share
 * with stdout and with whoever started us are left alone (fcntl is the fallback). A line the reader is not
 * ready for waits in a bounded queue; once the queue is full lines are dropped and counted. Whatever writes
 * next (a line, or log_flush from the daemon's timer) first sends what waits, then says how many lines were
 * dropped. One mutex keeps the publisher thread's lines and the loop's whole and in order; nothing it guards
 * can block. */
#include "tickd/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tickd/clock.h"

_Atomic int log_max_level = LOG_LEVEL_INFO;
static _Atomic int log_fmt = LOG_FORMAT_LOGFMT;
static _Atomic bool log_to_journal;

static const char *const level_names[8] = {
    [LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warn", [LOG_LEVEL_INFO] = "info", [LOG_LEVEL_DEBUG] = "debug",
};

const char *log_level_name(enum log_level level) {
    if ((int)level < 0 || (int)level > 7 || !level_names[level]) return "info";
    return level_names[level];
}

int log_level_parse(const char *s, enum log_level *out) {
    for (int i = 0; i < 8; i++)
        if (level_names[i] && strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    return -1;
}

int log_format_parse(const char *s, enum log_format *out) {
    if (strcmp(s, "logfmt") == 0) *out = LOG_FORMAT_LOGFMT;
    else if (strcmp(s, "json") == 0) *out = LOG_FORMAT_JSON;
    else return -1;
    return 0;
}

/* $JOURNAL_STREAM is "device:inode" of the journal's stream socket; it is inherited by children whose stderr
 * may point elsewhere, so it only counts when it matches our own stderr. */
static bool stderr_is_journal(void) {
    const char *js = getenv("JOURNAL_STREAM");
    if (!js) return false;
    unsigned long long dev, ino;
    if (sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) < 0) return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void open_output_locked(int fd);
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static int target_fd = STDERR_FILENO; /* what log_set_fd named, or stderr */

void log_setup(enum log_level level, enum log_format format) {
    atomic_store_explicit(&log_max_level, (int)level, memory_order_relaxed);
    atomic_store_explicit(&log_fmt, (int)format, memory_order_relaxed);
    atomic_store_explicit(&log_to_journal, stderr_is_journal(), memory_order_relaxed);
    pthread_mutex_lock(&out_mu);
    if (target_fd == STDERR_FILENO) open_output_locked(STDERR_FILENO); /* stderr may have changed since */
    pthread_mutex_unlock(&out_mu);
}

/* ---- one line ---- */

#define LINE_MAX_BYTES 4096 /* at most PIPE_BUF: a pipe takes a line whole or not at all */
_Static_assert(LINE_MAX_BYTES <= PIPE_BUF, "a line must fit one atomic pipe write");
#define LINE_RESERVE 4 /* the closing '"', '}' and '\n' always fit: a line that is too long is cut, not broken */

struct line {
    char buf[LINE_MAX_BYTES];
    size_t len;
    bool full; /* something did not fit: later fields are left out */
    bool json;
};

/* All or nothing, within the room left before the reserve. */
static bool put(struct line *l, const char *s, size_t n) {
    if (l->full || l->len + n > sizeof l->buf - LINE_RESERVE) {
        l->full = true;
        return false;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}
static bool puts_(struct line *l, const char *s) { return put(l, s, strlen(s)); }

/* The closers, into the reserve. */
static void put_close(struct line *l, char c) {
    if (l->len < sizeof l->buf) l->buf[l->len++] = c;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), with its code point, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp) {
    size_t len;
    uint32_t c, min;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) len = 2, c = s[0] & 0x1f, min = 0x80;
    else if (s[0] >= 0xe0 && s[0] <= 0xef) len = 3, c = s[0] & 0x0f, min = 0x800;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) len = 4, c = s[0] & 0x07, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return len;
}

static bool needs_quotes(const char *v, size_t n) {
    if (n == 0) return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
    }
    return false;
}

/* The same escapes serve logfmt's quoted values and JSON strings: '"', '\', \n \r \t, other control bytes
 * (C0, DEL and the C1 range, which terminals obey) as \u00XX, and a byte that is not valid UTF-8 as \u00XX
 * (its value read as Latin-1), so that a JSON line always parses. One character at a time: a cut never leaves
 * half an escape. */
static void put_escaped(struct line *l, const char *v, size_t n) {
    const unsigned char *s = (const unsigned char *)v;
    char esc[8];
    for (size_t i = 0; i < n && !l->full;) {
        unsigned char c = s[i];
        uint32_t cp = c;
        size_t len = c < 0x80 ? 1 : utf8_seq(s + i, n - i, &cp);
        const char *out = NULL;
        switch (c) {
        case '"': out = "\\\""; break;
        case '\\': out = "\\\\"; break;
        case '\n': out = "\\n"; break;
        case '\r': out = "\\r"; break;
        case '\t': out = "\\t"; break;
        default: break;
        }
        if (out) {
            puts_(l, out);
        } else if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            snprintf(esc, sizeof esc, "\\u%04x", len == 0 ? c : (unsigned)cp);
            puts_(l, esc);
        } else {
            put(l, v + i, len);
        }
        i += len ? len : 1;
    }
}

static void put_pair(struct line *l, const char *k, size_t kn, const char *v, size_t vn) {
    char head[96];
    if (kn > sizeof head - 8) return;
    if (l->json) {
        int hn = snprintf(head, sizeof head, ",\"%.*s\":\"", (int)kn, k); /* keys come from format literals */
        if (!put(l, head, (size_t)hn)) return;
        put_escaped(l, v, vn);
        put_close(l, '"');
        return;
    }
    bool quoted = needs_quotes(v, vn);
    int hn = snprintf(head, sizeof head, " %.*s=%s", (int)kn, k, quoted ? "\"" : "");
    if (!put(l, head, (size_t)hn)) return;
    put_escaped(l, v, vn);
    if (quoted) put_close(l, '"');
}

/* ---- values: the call's format, one conversion at a time ---- */

/* Formats one conversion of fmt (at '%') with the next argument(s) of ap into out; returns the characters
 * of fmt it took. A conversion this does not know (or %n) is copied as text and takes no argument. */
static size_t format_one(const char *fmt, va_list *ap, char *out, size_t cap) {
    const char *p = fmt + 1;
    int stars[2], nstars = 0;
    if (*p == '%') {
        snprintf(out, cap, "%%");
        return 2;
    }
    p += strspn(p, "-+ #0'");
    if (*p == '*') stars[nstars++] = va_arg(*ap, int), p++;
    else p += strspn(p, "0123456789");
    if (*p == '.') {
        p++;
        if (*p == '*') stars[nstars++] = va_arg(*ap, int), p++;
        else p += strspn(p, "0123456789");
    }
    enum { NONE, HH, H, L, LL, J, Z, T, LD } len = NONE;
    if (p[0] == 'h' && p[1] == 'h') len = HH, p += 2;
    else if (p[0] == 'l' && p[1] == 'l') len = LL, p += 2;
    else if (*p == 'h') len = H, p++;
    else if (*p == 'l') len = L, p++;
    else if (*p == 'q') len = LL, p++;
    else if (*p == 'j') len = J, p++;
    else if (*p == 'z') len = Z, p++;
    else if (*p == 't') len = T, p++;
    else if (*p == 'L') len = LD, p++;
    char conv = *p;
    if (!conv || !strchr("diouxXcspfFeEgGaA", conv) || (conv == 's' && len == L) || (conv == 'c' && len == L)) {
        size_t n = (size_t)(p - fmt) + (conv ? 1 : 0);
        snprintf(out, cap, "%.*s", (int)n, fmt);
        return n;
    }
    p++;
    char spec[32];
    size_t sn = (size_t)(p - fmt);
    if (sn >= sizeof spec) {
        snprintf(out, cap, "?");
        return sn;
    }
    memcpy(spec, fmt, sn);
    spec[sn] = 0;
#define EMIT(T)                                                                                             \
    do {                                                                                                    \
        T v_ = va_arg(*ap, T);                                                                              \
        if (nstars == 0) snprintf(out, cap, spec, v_);                                                      \
        else if (nstars == 1) snprintf(out, cap, spec, stars[0], v_);                                       \
        else snprintf(out, cap, spec, stars[0], stars[1], v_);                                              \
    } while (0)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    switch (conv) {
    case 'd': case 'i':
        if (len == L) EMIT(long);
        else if (len == LL) EMIT(long long);
        else if (len == J) EMIT(intmax_t);
        else if (len == Z) EMIT(ssize_t);
        else if (len == T) EMIT(ptrdiff_t);
        else EMIT(int);
        break;
    case 'o': case 'u': case 'x': case 'X':
        if (len == L) EMIT(unsigned long);
        else if (len == LL) EMIT(unsigned long long);
        else if (len == J) EMIT(uintmax_t);
        else if (len == Z) EMIT(size_t);
        else if (len == T) EMIT(ptrdiff_t);
        else EMIT(unsigned);
        break;
    case 'c': EMIT(int); break;
    case 's': EMIT(const char *); break;
    case 'p': EMIT(void *); break;
    default:
        if (len == LD) EMIT(long double);
        else EMIT(double);
    }
#pragma GCC diagnostic pop
#undef EMIT
    return sn;
}

/* Formats n characters of fmt (one value's format) into out. */
static size_t format_value(const char *fmt, size_t n, va_list *ap, char *out, size_t cap) {
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < n;) {
        if (fmt[i] != '%') {
            if (len + 1 < cap) out[len++] = fmt[i];
            i++;
            continue;
        }
        i += format_one(fmt + i, ap, out + len, cap - len);
        len += strlen(out + len);
    }
    out[len] = 0;
    return len;
}

static bool is_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

/* Returns the length of a key starting at s if s is "key=", else 0. */
static size_t key_at(const char *s) {
    size_t n = 0;
    while (is_key_char(s[n])) n++;
    return (n > 0 && s[n] == '=') ? n : 0;
}

/* Splits the format "a=%d b=%s c=%s" into pairs: a value's format runs to the next " key=" of the format, and
 * its text (whatever the arguments hold) is that key's value. Text without a key goes under "detail". */
static void put_kv(struct line *l, const char *fmt, va_list *ap) {
    char val[LINE_MAX_BYTES];
    const char *p = fmt;
    while (*p == ' ') p++;
    while (*p) {
        size_t kn = key_at(p);
        if (kn == 0) {
            size_t vn = format_value(p, strlen(p), ap, val, sizeof val);
            if (vn) put_pair(l, "detail", 6, val, vn);
            return;
        }
        const char *v = p + kn + 1, *end = v;
        while (*end && !(end[0] == ' ' && key_at(end + 1))) end++;
        size_t fn = (size_t)(end - v);
        if (fn >= 2 && v[0] == '"' && v[fn - 1] == '"') { /* caller pre-quoted: the logger quotes itself */
            v++;
            fn -= 2;
        }
        size_t vn = format_value(v, fn, ap, val, sizeof val);
        put_pair(l, p, kn, val, vn);
        p = *end ? end + 1 : end;
    }
}

static void format_line(struct line *l, enum log_level level, const char *component, const char *msg,
                        const char *kv_fmt, va_list *ap) {
    l->len = 0;
    l->full = false;
    l->json = atomic_load_explicit(&log_fmt, memory_order_relaxed) == LOG_FORMAT_JSON;
    bool journal = atomic_load_explicit(&log_to_journal, memory_order_relaxed);
    char ts[40] = "";
    if (!journal) {
        int64_t now_us = clock_wall_us();
        time_t secs = (time_t)(now_us / 1000000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(now_us / 1000 % 1000));
    } else {
        char pfx[8];
        snprintf(pfx, sizeof pfx, "<%d>", (int)level);
        puts_(l, pfx);
    }
    if (l->json) {
        put(l, "{", 1);
        if (ts[0]) {
            puts_(l, "\"ts\":\"");
            puts_(l, ts);
            puts_(l, "\",");
        }
        puts_(l, "\"level\":\"");
        puts_(l, log_level_name(level));
        puts_(l, "\",\"component\":\"");
        put_escaped(l, component, strlen(component));
        puts_(l, "\",\"msg\":\"");
        put_escaped(l, msg, strlen(msg));
        put_close(l, '"');
        if (kv_fmt) put_kv(l, kv_fmt, ap);
        put_close(l, '}');
    } else {
        if (ts[0]) {
            puts_(l, "ts=");
            puts_(l, ts);
            puts_(l, " ");
        }
        puts_(l, "level=");
        puts_(l, log_level_name(level));
        put_pair(l, "component", 9, component, strlen(component));
        put_pair(l, "msg", 3, msg, strlen(msg));
        if (kv_fmt) put_kv(l, kv_fmt, ap);
    }
    put_close(l, '\n');
}

/* ---- output ---- */

static void format_linef(struct line *l, enum log_level level, const char *component, const char *msg,
                         const char *kv_fmt, ...) __attribute__((format(printf, 5, 6)));
static void format_linef(struct line *l, enum log_level level, const char *component, const char *msg,
                         const char *kv_fmt, ...) {
    va_list ap;
    va_start(ap, kv_fmt);
    format_line(l, level, component, msg, kv_fmt, &ap);
    va_end(ap);
}

/* Everything below is guarded by out_mu. */
#define QUEUE_BYTES (256 * 1024)

static int out_fd = STDERR_FILENO; /* what is written: target_fd, or our own non-blocking opening of it */
static bool out_owned;             /* out_fd is ours to close */
static bool out_socket;            /* written with send(MSG_DONTWAIT) */
static char queue[QUEUE_BYTES];
static size_t q_off, q_len; /* waiting: queue[q_off, q_off + q_len) */
static uint64_t dropped;    /* lines that found the queue full, not yet reported */

static void open_output_locked(int fd) {
    if (out_owned) close(out_fd);
    target_fd = out_fd = fd;
    out_owned = out_socket = false;
    struct stat st;
    if (fstat(fd, &st) < 0) return;
    if (S_ISSOCK(st.st_mode)) {
        out_socket = true;
        return;
    }
    if (!S_ISFIFO(st.st_mode)) return; /* a file or a terminal: a stalled one is the user's own doing */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int own = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (own >= 0) {
        out_fd = own;
        out_owned = true;
        return;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Writes what the output takes now; returns the bytes taken. EAGAIN means the reader is behind; any other
 * error (a reader gone, a full disk) is treated the same way: there is nowhere to complain about stderr. */
static size_t write_some(const char *s, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t w = out_socket ? send(out_fd, s + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL)
                               : write(out_fd, s + off, n - off);
        if (w > 0) off += (size_t)w;
        else if (!(w < 0 && errno == EINTR)) break;
    }
    return off;
}

/* Sends a whole line, or what the output takes of it with the rest queued, or queues all of it behind what
 * already waits, or drops it (counted). The output only ever takes part of a line when nothing waits, and then
 * the rest (at most one line) always fits: so the reader never sees half a line followed by another one. */
static void send_locked(const char *s, size_t n) {
    if (q_len == 0) {
        size_t w = write_some(s, n);
        s += w;
        n -= w;
        q_off = 0;
    }
    if (!n) return;
    if (q_len + n > QUEUE_BYTES) {
        dropped++;
        return;
    }
    if (q_off + q_len + n > QUEUE_BYTES) {
        memmove(queue, queue + q_off, q_len);
        q_off = 0;
    }
    memcpy(queue + q_off + q_len, s, n);
    q_len += n;
}

/* Sends what waits; once all of it is out, reports the lines dropped meanwhile. */
static void flush_locked(void) {
    /* In pieces of whole lines of at most PIPE_BUF bytes, which a pipe takes whole or not at all: wherever
     * writing stops (at exit, for good), the reader is left with no half line. */
    while (q_len) {
        size_t n = q_len;
        if (n > PIPE_BUF) {
            n = PIPE_BUF;
            while (n > 0 && queue[q_off + n - 1] != '\n') n--; /* a line is at most PIPE_BUF: one ends here */
            if (!n) n = PIPE_BUF;
        }
        size_t w = write_some(queue + q_off, n);
        q_off += w;
        q_len -= w;
        if (w < n) return;
    }
    if (dropped) {
        struct line l;
        unsigned long long n = dropped;
        dropped = 0;
        format_linef(&l, LOG_LEVEL_WARN, "log", "log lines dropped: the output was not writable", "dropped=%llu",
                     n);
        send_locked(l.buf, l.len); /* nothing waits: it is written or queued, never dropped */
    }
}

/* Flushes; returns what still waits (bytes, plus one for a count not yet reported) and the output's fd. */
static size_t flush(int *fd) {
    pthread_mutex_lock(&out_mu);
    flush_locked();
    size_t left = q_len + (dropped ? 1 : 0);
    if (fd) *fd = out_fd;
    pthread_mutex_unlock(&out_mu);
    return left;
}

size_t log_flush(void) { return flush(NULL); }

void log_drain(int timeout_ms) {
    int64_t t0 = clock_mono_ms();
    size_t before = SIZE_MAX;
    for (;;) {
        int fd;
        size_t left = flush(&fd);
        if (!left || left == before) return; /* done, or writable yet taking nothing: a broken output */
        before = left;
        long spent = (long)(clock_mono_ms() - t0);
        if (spent >= timeout_ms) return;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int rc = poll(&p, 1, (int)(timeout_ms - spent));
        if (rc < 0 && errno == EINTR) {
            before = SIZE_MAX;
            continue;
        }
        if (rc <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) return;
    }
}

void log_set_fd(int fd) {
    pthread_mutex_lock(&out_mu);
    flush_locked(); /* what can still go to the previous output; the rest was for it, not for the next one */
    q_off = q_len = 0;
    dropped = 0;
    open_output_locked(fd < 0 ? STDERR_FILENO : fd);
    pthread_mutex_unlock(&out_mu);
}

void log_write(enum log_level level, const char *component, const char *msg, const char *kv_fmt, ...) {
    int saved_errno = errno;
    struct line l;
    va_list ap;
    va_start(ap, kv_fmt);
    format_line(&l, level, component, msg, kv_fmt, &ap);
    va_end(ap);
    pthread_mutex_lock(&out_mu);
    flush_locked();
    send_locked(l.buf, l.len);
    pthread_mutex_unlock(&out_mu);
    errno = saved_errno;
}

char *log_redact_url(const char *url, char *out, size_t outlen) {
    if (!outlen) return out;
    if (!url) url = "";
    const char *scheme = strstr(url, "://");
    const char *auth = scheme ? scheme + 3 : url;
    const char *at = NULL;
    for (const char *p = auth; *p; p++)
        if (*p == '@') at = p; /* the last '@' ends the userinfo: a password may hold '/', '?', '#' or '@' */
    const char *colon = NULL;
    if (at)
        for (const char *p = auth; p < at; p++)
            if (*p == ':') {
                colon = p;
                break;
            }
    if (!at || !colon) {
        snprintf(out, outlen, "%s", url);
        return out;
    }
    snprintf(out, outlen, "%.*s***%s", (int)(colon + 1 - url), url, at);
    return out;
}
