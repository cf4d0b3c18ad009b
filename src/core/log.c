/* log.c -- see log.h. One write() per line, so lines from the publisher thread and the loop never interleave. */
#include "tickd/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int log_max_level = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_LOGFMT;
static bool log_to_journal;
static int log_fd = STDERR_FILENO;

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

void log_setup(enum log_level level, enum log_format format) {
    log_max_level = (int)level;
    log_fmt = format;
    log_to_journal = stderr_is_journal();
}

void log_set_fd(int fd) { log_fd = fd < 0 ? STDERR_FILENO : fd; }

struct line {
    char buf[4096];
    size_t len;
};

static void put(struct line *l, const char *s, size_t n) {
    /* Keep room for the closing "}\n" or "\n"; a line that does not fit is cut, never split. */
    size_t room = sizeof(l->buf) - 4 - l->len;
    if (n > room) n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}
static void puts_(struct line *l, const char *s) { put(l, s, strlen(s)); }

static bool needs_quotes(const char *v, size_t n) {
    if (n == 0) return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
    }
    return false;
}

/* Escapes for both logfmt quoted values and JSON strings: the same rules serve both. */
static void put_escaped(struct line *l, const char *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        char esc[8];
        switch (c) {
        case '"': put(l, "\\\"", 2); break;
        case '\\': put(l, "\\\\", 2); break;
        case '\n': put(l, "\\n", 2); break;
        case '\r': put(l, "\\r", 2); break;
        case '\t': put(l, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                puts_(l, esc);
            } else {
                put(l, (const char *)&c, 1);
            }
        }
    }
}

static void put_pair(struct line *l, const char *k, size_t kn, const char *v, size_t vn) {
    if (log_fmt == LOG_FORMAT_JSON) {
        put(l, ",\"", 2);
        put_escaped(l, k, kn);
        put(l, "\":\"", 3);
        put_escaped(l, v, vn);
        put(l, "\"", 1);
    } else {
        put(l, " ", 1);
        put(l, k, kn);
        put(l, "=", 1);
        if (needs_quotes(v, vn)) {
            put(l, "\"", 1);
            put_escaped(l, v, vn);
            put(l, "\"", 1);
        } else {
            put(l, v, vn);
        }
    }
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

/* Splits "a=1 b=two words c=3" into pairs: a value runs to the next " key=" or the end. */
static void put_kv(struct line *l, const char *kv) {
    const char *p = kv;
    while (*p == ' ') p++;
    while (*p) {
        size_t kn = key_at(p);
        if (kn == 0) { /* text without a key: keep it, under "detail" */
            put_pair(l, "detail", 6, p, strlen(p));
            return;
        }
        const char *v = p + kn + 1, *end = v;
        while (*end && !(end[0] == ' ' && key_at(end + 1))) end++;
        size_t vn = (size_t)(end - v);
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') { /* caller pre-quoted: unwrap */
            v++;
            vn -= 2;
        }
        put_pair(l, p, kn, v, vn);
        p = *end ? end + 1 : end;
    }
}

void log_write(enum log_level level, const char *component, const char *msg, const char *kv_fmt, ...) {
    int saved_errno = errno;
    struct line l = {.len = 0};
    char kv[3072];
    kv[0] = 0;
    if (kv_fmt && *kv_fmt) {
        va_list ap;
        va_start(ap, kv_fmt);
        vsnprintf(kv, sizeof kv, kv_fmt, ap);
        va_end(ap);
    }

    char ts[40] = "";
    if (!log_to_journal) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);
    }

    if (log_to_journal) {
        char pfx[8];
        snprintf(pfx, sizeof pfx, "<%d>", (int)level);
        puts_(&l, pfx);
    }
    if (log_fmt == LOG_FORMAT_JSON) {
        put(&l, "{", 1);
        bool first = true;
        if (ts[0]) {
            puts_(&l, "\"ts\":\"");
            puts_(&l, ts);
            puts_(&l, "\"");
            first = false;
        }
        puts_(&l, first ? "\"level\":\"" : ",\"level\":\"");
        puts_(&l, log_level_name(level));
        puts_(&l, "\",\"component\":\"");
        put_escaped(&l, component, strlen(component));
        puts_(&l, "\",\"msg\":\"");
        put_escaped(&l, msg, strlen(msg));
        puts_(&l, "\"");
        put_kv(&l, kv);
        puts_(&l, "}");
    } else {
        if (ts[0]) {
            puts_(&l, "ts=");
            puts_(&l, ts);
            puts_(&l, " ");
        }
        puts_(&l, "level=");
        puts_(&l, log_level_name(level));
        put_pair(&l, "component", 9, component, strlen(component));
        put_pair(&l, "msg", 3, msg, strlen(msg));
        put_kv(&l, kv);
    }
    l.buf[l.len++] = '\n';
    ssize_t off = 0;
    while ((size_t)off < l.len) {
        ssize_t w = write(log_fd, l.buf + off, l.len - (size_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* nowhere to complain about a broken stderr */
        off += w;
    }
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
