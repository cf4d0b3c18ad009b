/* Unit tests of the log module: formatting, quoting, journald prefix, redaction, and an output nobody reads. */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tickd/log.h"
#include "tt.h"

static char captured[8192];

/* Runs one log call with output sent to a temp file and returns its text in `captured`. */
#define CAPTURE(stmt)                                                                                      \
    do {                                                                                                   \
        char tmpl[] = "/tmp/tickd-logXXXXXX";                                                              \
        int fd = mkstemp(tmpl);                                                                            \
        unlink(tmpl);                                                                                      \
        log_set_fd(fd);                                                                                    \
        stmt;                                                                                              \
        log_set_fd(-1);                                                                                    \
        ssize_t n = pread(fd, captured, sizeof captured - 1, 0);                                           \
        captured[n < 0 ? 0 : n] = 0;                                                                       \
        close(fd);                                                                                         \
    } while (0)

static void test_logfmt_quotes_values(void) {
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    CAPTURE(log_info("group", "task failed", "group=%s cause=%s n=%d", "g1", "connect refused", 3));
    TT_ASSERT(strstr(captured, "level=info component=group msg=\"task failed\" group=g1 "
                               "cause=\"connect refused\" n=3\n") != NULL);
    TT_ASSERT(strncmp(captured, "ts=", 3) == 0);
}

static void test_hostile_value_cannot_forge_lines(void) {
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    CAPTURE(log_warn("venue", "bad frame", "text=%s", "x\nlevel=error msg=\"forged\""));
    TT_ASSERT(strchr(captured, '\n') == captured + strlen(captured) - 1); /* exactly one line */
    TT_ASSERT(strstr(captured, "\\n") != NULL);
}

static void test_hostile_value_cannot_forge_fields(void) {
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    CAPTURE(log_warn("venue", "bad frame", "text=%s n=%d", "x level=error msg=forged", 7));
    TT_ASSERT(strstr(captured, " msg=\"bad frame\" text=\"x level=error msg=forged\" n=7\n") != NULL);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
    CAPTURE(log_warn("venue", "bad frame", "text=%s", "a\"},\"level\":\"error\n\x01\xff"));
    TT_ASSERT(strstr(captured, ",\"text\":\"a\\\"},\\\"level\\\":\\\"error\\n\\u0001\\u00ff\"}\n") != NULL);
    TT_ASSERT(strchr(captured, '\n') == captured + strlen(captured) - 1);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
}

static void test_long_line_is_cut_whole(void) {
    static char big[10000];
    memset(big, 'v', sizeof big - 1);
    big[5] = ' '; /* quoted */
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    CAPTURE(log_info("x", "long", "a=%s b=%s", big, "after"));
    size_t n = strlen(captured);
    TT_ASSERT(n <= 4096);
    TT_ASSERT(strchr(captured, '\n') == captured + n - 1);
    TT_ASSERT(n > 2 && captured[n - 2] == '"'); /* the cut value is still closed */
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
    CAPTURE(log_info("x", "long", "a=%s b=%s", big, "after"));
    n = strlen(captured);
    TT_ASSERT(n <= 4096);
    TT_ASSERT(n > 3 && strcmp(captured + n - 3, "\"}\n") == 0);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
}

/* ---- an output nobody reads ---- */

/* Without a non-blocking output, log_write would sit in write(2) for ever here: end the test binary instead of
 * hanging, with a message that says why. */
static void on_alarm(int sig) {
    (void)sig;
    static const char m[] = "    log_write blocked on an output nobody reads\n";
    if (write(STDERR_FILENO, m, sizeof m - 1) < 0) _exit(1);
    _exit(1);
}

struct drained {
    char *buf;
    size_t len, cap;
};

/* Reads everything rfd holds now (rfd is non-blocking). */
static void read_all(int rfd, struct drained *d) {
    for (;;) {
        if (d->cap - d->len < 65536) {
            d->cap = d->cap ? d->cap * 2 : 1 << 20;
            d->buf = realloc(d->buf, d->cap);
        }
        ssize_t n = read(rfd, d->buf + d->len, d->cap - d->len - 1);
        if (n <= 0) break;
        d->len += (size_t)n;
    }
    d->buf[d->len] = 0;
}

/* The value of line seq: its length varies, so that lines meet the output's room at every offset. */
static size_t value_len(int seq) { return (size_t)(seq * 37 % 1500) + 1; }

/* Checks every line of d: a whole "flood" line with its full value, or the one report of the lines dropped.
 * Returns the lines seen per writer (w=0, w=1) and the count the report gave. */
static void check_lines(const struct drained *d, int seen[2], unsigned long long *reported, int *reports) {
    static char want[2048];
    int last[2] = {-1, -1};
    seen[0] = seen[1] = 0;
    *reported = 0;
    *reports = 0;
    for (char *line = d->buf; *line;) {
        char *nl = strchr(line, '\n');
        TT_ASSERT(nl != NULL); /* the last line ends too */
        *nl = 0;
        TT_ASSERT(strncmp(line, "ts=", 3) == 0);
        const char *drop = strstr(line, " level=warn component=log msg=\"log lines dropped");
        if (drop) {
            const char *n = strstr(line, " dropped=");
            TT_ASSERT(n != NULL);
            *reported += strtoull(n + 9, NULL, 10);
            (*reports)++;
        } else {
            const char *f = strstr(line, " level=info component=test msg=flood w=");
            TT_ASSERT(f != NULL);
            int w = -1, seq = -1;
            TT_ASSERT(sscanf(f, " level=info component=test msg=flood w=%d seq=%d", &w, &seq) == 2);
            TT_ASSERT(w == 0 || w == 1);
            TT_ASSERT(seq > last[w]); /* in order, each line once */
            last[w] = seq;
            size_t vn = value_len(seq);
            memset(want, 'v', vn);
            want[vn] = 0;
            const char *v = strstr(f, " v=");
            TT_ASSERT(v != NULL);
            TT_ASSERT_STR(v + 3, want); /* the whole value, and nothing after it */
            seen[w]++;
        }
        *nl = '\n';
        line = nl + 1;
    }
}

struct flood_args {
    int w, lines;
};

static void *flood(void *arg) {
    struct flood_args *a = arg;
    static char val[2][2048];
    for (int seq = 0; seq < a->lines; seq++) {
        size_t vn = value_len(seq);
        memset(val[a->w], 'v', vn);
        val[a->w][vn] = 0;
        log_info("test", "flood", "w=%d seq=%d v=%s", a->w, seq, val[a->w]);
    }
    return NULL;
}

/* Floods wfd, which nobody reads, from `writers` threads; then reads rfd until the logger has nothing left and
 * checks that no line was cut, every line logged is either read or counted once, and the queue stayed bounded. */
static void flood_then_drain(int wfd, int rfd, int writers) {
    enum { LINES = 3000 };
    signal(SIGALRM, on_alarm);
    alarm(120);
    fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    log_set_fd(wfd);
    pthread_t th[2];
    struct flood_args args[2] = {{0, LINES}, {1, LINES}};
    for (int i = 0; i < writers; i++) pthread_create(&th[i], NULL, flood, &args[i]);
    for (int i = 0; i < writers; i++) pthread_join(th[i], NULL);
    size_t waiting = log_flush();
    TT_ASSERT(waiting > 0);              /* ~2 MB for an output that holds a few KB: some must wait */
    TT_ASSERT(waiting <= 256 * 1024 + 1); /* bounded: the queue, plus the count not yet reported */

    /* The reader recovers: the timer's log_flush is all it takes for the rest to arrive. */
    struct drained d = {0};
    for (int spins = 0; spins < 100000; spins++) {
        read_all(rfd, &d);
        if (log_flush() == 0) break;
    }
    read_all(rfd, &d);
    TT_ASSERT_INT(log_flush(), 0);
    int seen[2];
    unsigned long long reported;
    int reports;
    check_lines(&d, seen, &reported, &reports);
    TT_ASSERT_INT(reports, 1);
    TT_ASSERT(reported > 0);
    TT_ASSERT_INT((unsigned long long)(seen[0] + seen[1]) + reported, (unsigned long long)(writers * LINES));
    const char *lastline = d.buf + d.len - 1;
    while (lastline > d.buf && lastline[-1] != '\n') lastline--;
    TT_ASSERT(strstr(lastline, "msg=\"log lines dropped") != NULL); /* after what waited */

    /* Writable again: the next line goes straight out, with no second report. */
    log_info("test", "flood", "w=0 seq=%d v=%s", LINES, "v");
    d.len = 0;
    read_all(rfd, &d);
    TT_ASSERT(strstr(d.buf, "msg=flood w=0 seq=3000 v=v\n") != NULL);
    TT_ASSERT(strstr(d.buf, "dropped") == NULL);
    free(d.buf);
    log_set_fd(-1);
    alarm(0);
}

static void test_stalled_pipe_never_blocks(void) {
    int p[2];
    TT_ASSERT(pipe(p) == 0);
    fcntl(p[1], F_SETPIPE_SZ, 4096); /* the smallest pipe: lines meet a full pipe at every offset */
    flood_then_drain(p[1], p[0], 1);
    /* The caller's description of the pipe is left as it was: blocking. */
    TT_ASSERT(!(fcntl(p[1], F_GETFL) & O_NONBLOCK));
    close(p[0]);
    close(p[1]);
}

/* journald's stream socket takes part of a line when it has room for part of it. */
static void test_stalled_socket_never_splits_a_line(void) {
    int sv[2];
    TT_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    flood_then_drain(sv[0], sv[1], 1);
    close(sv[0]);
    close(sv[1]);
}

static void test_two_threads_on_a_stalled_output(void) {
    int sv[2];
    TT_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    flood_then_drain(sv[0], sv[1], 2);
    close(sv[0]);
    close(sv[1]);
}

/* In JSON the count is a field of a JSON line like any other. */
static void test_dropped_count_in_json(void) {
    signal(SIGALRM, on_alarm);
    alarm(60);
    int p[2];
    TT_ASSERT(pipe(p) == 0);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
    log_set_fd(p[1]);
    for (int i = 0; i < 2000; i++) log_info("test", "fill", "i=%d pad=%0200d", i, 0); /* ~500 KB */
    struct drained d = {0};
    for (int spins = 0; spins < 100000; spins++) {
        read_all(p[0], &d);
        if (log_flush() == 0) break;
    }
    read_all(p[0], &d);
    const char *last = d.buf + d.len - 1;
    while (last > d.buf && last[-1] != '\n') last--;
    TT_ASSERT(strstr(last, "\"level\":\"warn\",\"component\":\"log\",\"msg\":\"log lines dropped: the output was "
                           "not writable\",\"dropped\":\"") != NULL);
    TT_ASSERT(strcmp(d.buf + d.len - 3, "\"}\n") == 0);
    free(d.buf);
    log_set_fd(-1);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    close(p[0]);
    close(p[1]);
    alarm(0);
}

/* At exit, log_drain waits (bounded) for a reader that comes back, and gives up on one that never does. */
static void test_drain_is_bounded(void) {
    signal(SIGALRM, on_alarm);
    alarm(60);
    int p[2];
    TT_ASSERT(pipe(p) == 0);
    fcntl(p[1], F_SETPIPE_SZ, 4096);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    log_set_fd(p[1]);
    for (int i = 0; i < 100; i++) log_info("test", "fill", "i=%d pad=%0200d", i, 0);
    TT_ASSERT(log_flush() > 0);
    log_drain(200); /* nobody reads: returns after its bound with lines still waiting */
    TT_ASSERT(log_flush() > 0);
    log_set_fd(-1);
    close(p[0]);
    close(p[1]);
    alarm(0);
}

/* When writing stops for good (the drain's bound at exit), the reader has whole lines only. */
static void test_drain_leaves_no_half_line(void) {
    signal(SIGALRM, on_alarm);
    alarm(60);
    int p[2];
    TT_ASSERT(pipe(p) == 0);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    log_set_fd(p[1]);
    for (int i = 0; i < 400; i++) log_info("test", "fill", "i=%d pad=%0200d", i, 0); /* more than the pipe */
    TT_ASSERT(log_flush() > 0);
    struct drained d = {0};
    d.cap = 1 << 20;
    d.buf = malloc(d.cap);
    ssize_t n = read(p[0], d.buf, 5000); /* the reader takes a little, then stalls for good */
    TT_ASSERT(n == 5000);
    d.len = (size_t)n;
    log_drain(100);
    TT_ASSERT(log_flush() > 0);
    read_all(p[0], &d);
    TT_ASSERT(d.len > 65536);
    TT_ASSERT(d.buf[d.len - 1] == '\n');
    int next = 0;
    for (char *line = d.buf; *line; line = strchr(line, '\n') + 1) {
        int i = -1;
        const char *f = strstr(line, " msg=fill i=");
        TT_ASSERT(strncmp(line, "ts=", 3) == 0 && f && sscanf(f, " msg=fill i=%d", &i) == 1);
        TT_ASSERT_INT(i, next++);
    }
    free(d.buf);
    log_set_fd(-1);
    close(p[0]);
    close(p[1]);
    alarm(0);
}

static void test_level_filter(void) {
    log_setup(LOG_LEVEL_WARN, LOG_FORMAT_LOGFMT);
    CAPTURE(log_info("x", "hidden", "%s", ""));
    TT_ASSERT_STR(captured, "");
    CAPTURE(log_error("x", "shown", "%s", ""));
    TT_ASSERT(strstr(captured, "level=error") != NULL);
}

static void test_json_format(void) {
    log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON);
    CAPTURE(log_debug("sink", "flush", "keys=%d what=%s", 12, "a \"b\""));
    TT_ASSERT(strstr(captured, "\"level\":\"debug\",\"component\":\"sink\",\"msg\":\"flush\","
                               "\"keys\":\"12\",\"what\":\"a \\\"b\\\"\"}\n") != NULL);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
}

static void test_journal_prefix(void) {
    char tmpl[] = "/tmp/tickd-jXXXXXX";
    int fd = mkstemp(tmpl);
    unlink(tmpl);
    int saved = dup(2);
    dup2(fd, 2);
    struct stat st;
    fstat(2, &st);
    char js[64];
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    log_warn("x", "to journal", "%s", "");
    dup2(saved, 2);
    close(saved);
    unsetenv("JOURNAL_STREAM");
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    ssize_t n = pread(fd, captured, sizeof captured - 1, 0);
    captured[n < 0 ? 0 : n] = 0;
    close(fd);
    TT_ASSERT(strncmp(captured, "<4>level=warn", 13) == 0);
}

static void test_redact_url(void) {
    char out[256];
    TT_ASSERT_STR(log_redact_url("amqp://guest:s3cret@127.0.0.1:5672/%2f", out, sizeof out),
                  "amqp://guest:***@127.0.0.1:5672/%2f");
    TT_ASSERT_STR(log_redact_url("redis://:pw@host:6379/0", out, sizeof out), "redis://:***@host:6379/0");
    TT_ASSERT_STR(log_redact_url("redis://host:6379/0", out, sizeof out), "redis://host:6379/0");
    TT_ASSERT_STR(log_redact_url("amqp://user@host/", out, sizeof out), "amqp://user@host/");
}

int main(void) {
    TT_RUN(test_logfmt_quotes_values);
    TT_RUN(test_hostile_value_cannot_forge_lines);
    TT_RUN(test_level_filter);
    TT_RUN(test_json_format);
    TT_RUN(test_journal_prefix);
    TT_RUN(test_redact_url);
    TT_RUN(test_hostile_value_cannot_forge_fields);
    TT_RUN(test_long_line_is_cut_whole);
    TT_RUN(test_stalled_pipe_never_blocks);
    TT_RUN(test_stalled_socket_never_splits_a_line);
    TT_RUN(test_two_threads_on_a_stalled_output);
    TT_RUN(test_dropped_count_in_json);
    TT_RUN(test_drain_is_bounded);
    TT_RUN(test_drain_leaves_no_half_line);
    return tt_finish();
}
