/* Unit tests of the log module: formatting, quoting, journald prefix, redaction. */
#include <fcntl.h>
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
    return tt_finish();
}
