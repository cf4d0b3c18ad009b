/* config_value.c -- the value syntaxes of the config that are more than a TOML type: durations, URLs, symbols
 * (whose grammar is symbol_select's).
 * Pure functions on strings, so the schema and the tests can use them alike. */
#include "tickd/config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tickd/symbol_select.h"

static const struct {
    const char *suffix;
    uint64_t ms;
} duration_units[] = {
    /* "ms" before "m": the longer suffix must win. */
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000},
};

int config_parse_duration(const char *s, uint64_t *ms) {
    uint64_t total = 0;
    if (!s || !*s) return -1;
    while (*s) {
        if (!isdigit((unsigned char)*s)) return -1; /* no sign, no fraction, no spaces */
        uint64_t n = 0;
        for (; isdigit((unsigned char)*s); s++) {
            if (n > (UINT64_MAX - 9) / 10) return -1;
            n = n * 10 + (uint64_t)(*s - '0');
        }
        size_t u, nunits = sizeof duration_units / sizeof duration_units[0];
        for (u = 0; u < nunits; u++) {
            size_t len = strlen(duration_units[u].suffix);
            if (strncmp(s, duration_units[u].suffix, len) == 0 && !isalpha((unsigned char)s[len])) break;
        }
        if (u == nunits) return -1; /* a bare number is ambiguous: the unit is required */
        if (n > (UINT64_MAX - total) / duration_units[u].ms) return -1;
        total += n * duration_units[u].ms;
        s += strlen(duration_units[u].suffix);
    }
    *ms = total;
    return 0;
}

int config_normalize_symbol(const char *s, char *out, size_t outlen) {
    return symbol_parse(s, out, outlen, NULL) == SYMBOL_NAME ? 0 : -1;
}

/* Copies [from, to) into out; -1 when it does not fit. */
static int copy_part(char *out, size_t outlen, const char *from, const char *to) {
    size_t n = (size_t)(to - from);
    if (n + 1 > outlen) return -1;
    memcpy(out, from, n);
    out[n] = 0;
    return 0;
}

int config_url_parse(const char *url, struct config_url *out) {
    memset(out, 0, sizeof *out);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) return -1;
    const char *sep = strstr(url, "://");
    if (!sep || sep == url || copy_part(out->scheme, sizeof out->scheme, url, sep) < 0) return -1;
    for (char *c = out->scheme; *c; c++) {
        if (!isalpha((unsigned char)*c)) return -1;
        *c = (char)tolower((unsigned char)*c);
    }
    const char *auth = sep + 3;
    /* The userinfo ends at the last '@': a password may hold '@', '/', '?' or '#', and a host never does. */
    const char *at = strrchr(auth, '@');
    const char *host = auth;
    const char *end = (at ? at + 1 : auth) + strcspn(at ? at + 1 : auth, "/?#");
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (copy_part(out->user, sizeof out->user, auth, colon ? colon : at) < 0) return -1;
        if (colon) {
            if (copy_part(out->password, sizeof out->password, colon + 1, at) < 0) return -1;
            out->has_password = true;
        }
        host = at + 1;
    }
    const char *host_end, *port = NULL;
    if (*host == '[') { /* [::1]:6379 */
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close || copy_part(out->host, sizeof out->host, host + 1, close) < 0) return -1;
        host_end = close + 1;
        if (host_end < end && *host_end != ':') return -1;
    } else {
        host_end = memchr(host, ':', (size_t)(end - host));
        if (!host_end) host_end = end;
        if (copy_part(out->host, sizeof out->host, host, host_end) < 0) return -1;
        for (const char *c = out->host; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.' && *c != '_') return -1;
    }
    if (!out->host[0]) return -1;
    if (host_end < end) port = host_end + 1;
    if (port) {
        int n = 0;
        if (port == end) return -1;
        for (const char *p = port; p < end; p++) {
            if (!isdigit((unsigned char)*p) || n > 65535) return -1;
            n = n * 10 + (*p - '0');
        }
        if (n < 1 || n > 65535) return -1;
        out->port = n;
    }
    return copy_part(out->path, sizeof out->path, end, end + strlen(end));
}
