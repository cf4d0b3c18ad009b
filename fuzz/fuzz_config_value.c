/* fuzz_config_value.c -- the configuration's value parsers on arbitrary text: config_url_parse,
 * config_parse_duration, config_normalize_symbol, symbol_parse and symbol_match, and log_redact_url, which every
 * URL passes on its way to a log line or an error message.
 *
 * Input: one selector byte (the parser, by its value mod 4), then the text (a C string: up to a NUL); for
 * matching, the pattern, a newline and the name.
 * Beyond "never crash": a URL the parser splits with a password is redacted by log_redact_url into the same
 * URL with "***" for that password (the same user, host, port and path); a duration that parses prints back
 * ("<ms>ms") to the same value; a normalized symbol is normalized again unchanged; symbol_match says what a plain
 * table of prefix against prefix says (for texts short enough for the table), and a pattern that symbol_parse
 * accepts parses again unchanged. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/config.h"
#include "tickd/log.h"
#include "tickd/symbol_select.h"

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

/* '*' any run, every other byte itself: whether s[0..sl) matches p[0..pl), by the table of every prefix pair. */
static bool reference_match(const char *p, size_t pl, const char *s, size_t sl) {
    static bool t[65][65];
    memset(t, 0, sizeof t);
    t[0][0] = true;
    for (size_t i = 1; i <= pl; i++)
        for (size_t j = 0; j <= sl; j++)
            t[i][j] = p[i - 1] == '*' ? t[i - 1][j] || (j > 0 && t[i][j - 1])
                                      : j > 0 && t[i - 1][j - 1] && p[i - 1] == s[j - 1];
    return t[pl][sl];
}

static void match(char *s) {
    char *nl = strchr(s, '\n');
    const char *name = nl ? nl + 1 : "";
    if (nl) *nl = 0;
    bool m = symbol_match(s, name);
    if (strlen(s) <= 64 && strlen(name) <= 64 && m != reference_match(s, strlen(s), name, strlen(name)))
        die("symbol_match differs from the reference", s);
    char out[SYMBOL_TEXT_MAX], again[SYMBOL_TEXT_MAX];
    enum symbol_kind k = symbol_parse(s, out, sizeof out, NULL);
    if (k != SYMBOL_BAD && (symbol_parse(out, again, sizeof again, NULL) != k || strcmp(out, again) != 0))
        die("a normalized pattern parses differently", s);
    if (k == SYMBOL_NAME && !symbol_is_name(out)) die("a parsed name is not a name", s);
    if (symbol_is_name(name) && k == SYMBOL_NAME && symbol_match(out, name) != (strcmp(out, name) == 0))
        die("a name matches other than itself", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 8192) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    switch (data[0] % 4) {
    case 0: url(s); break;
    case 1: duration(s); break;
    case 2: symbol(s); break;
    default: match(s); break;
    }
    free(s);
    return 0;
}
