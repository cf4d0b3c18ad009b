/* fuzz_config_value.c -- the configuration's value parsers on arbitrary text: config_url_parse,
 * config_parse_duration, config_normalize_symbol, and log_redact_url, which every URL passes on its way to a
 * log line or an error message.
 *
 * Input: one selector byte (the parser, by its value mod 3), then the text (a C string: up to a NUL).
 * Beyond "never crash": a URL the parser splits with a password is redacted by log_redact_url into the same
 * URL with "***" for that password (the same user, host, port and path); a duration that parses prints back
 * ("<ms>ms") to the same value; a normalized symbol is normalized again unchanged. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/config.h"
#include "tickd/log.h"

static void die(const char *what, const char *s) {
    fprintf(stderr, "fuzz_config_value: %s: \"%s\"\n", what, s);
    abort();
}

static void url(const char *s) {
    struct config_url u, r;
    char red[4096];
    log_redact_url(s, red, sizeof red);
    if (!memchr(red, 0, sizeof red)) die("redacted URL not terminated", s);
    if (config_url_parse(s, &u) != 0 || !u.has_password) return;
    /* The redacted text is the same URL with "***" for the password: it splits into the same parts. */
    if (config_url_parse(red, &r) != 0 || !r.has_password || strcmp(r.password, "***") != 0 ||
        strcmp(r.user, u.user) != 0 || strcmp(r.host, u.host) != 0 || r.port != u.port || strcmp(r.path, u.path) != 0) {
        fprintf(stderr, "redacted: %s\n", red);
        die("log_redact_url does not redact the password config_url_parse reads", s);
    }
}

static void duration(const char *s) {
    uint64_t ms, again;
    if (config_parse_duration(s, &ms) != 0) return;
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64 "ms", ms);
    if (config_parse_duration(buf, &again) != 0 || again != ms) die("a duration does not read back", s);
}

static void symbol(const char *s) {
    char out[64], again[64];
    if (config_normalize_symbol(s, out, sizeof out) != 0) return;
    if (!memchr(out, 0, sizeof out)) die("symbol not terminated", s);
    if (config_normalize_symbol(out, again, sizeof again) != 0 || strcmp(out, again) != 0)
        die("a normalized symbol normalizes differently", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 8192) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    switch (data[0] % 3) {
    case 0: url(s); break;
    case 1: duration(s); break;
    default: symbol(s); break;
    }
    free(s);
    return 0;
}
