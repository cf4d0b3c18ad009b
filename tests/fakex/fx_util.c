/* fx_util.c -- small helpers of fakex: growable buffers, a seeded random generator, decimal and time text
 * without doubles or printf on the hot path, and SHA-1/base64 for the websocket handshake (written here because
 * the build links no crypto library of its own). */
#include "fakex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *fx_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("fakex: out of memory\n", stderr);
        abort();
    }
    return p;
}

void fx_buf_reserve(struct fx_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        fputs("fakex: out of memory\n", stderr);
        abort();
    }
    b->data = p;
    b->cap = cap;
}

void fx_buf_add(struct fx_buf *b, const void *p, size_t n) {
    fx_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void fx_buf_adds(struct fx_buf *b, const char *s) { fx_buf_add(b, s, strlen(s)); }

void fx_buf_printf(struct fx_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    fx_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void fx_buf_free(struct fx_buf *b) {
    free(b->data);
    *b = (struct fx_buf){0};
}

uint64_t fx_rand(uint64_t *state) {
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

size_t fx_fmt_fixed(char *out, int64_t m, int dp) {
    static const int64_t pow10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    char *p = out;
    if (dp < 0) dp = 0;
    if (dp > 8) dp = 8;
    uint64_t u = m < 0 ? (uint64_t)(-(m + 1)) + 1 : (uint64_t)m;
    if (m < 0) *p++ = '-';
    p += fmt_u64_str(p, u / 100000000u);
    if (dp > 0) {
        uint64_t frac = (u % 100000000u) / (uint64_t)pow10[8 - dp];
        *p++ = '.';
        for (int i = dp - 1; i >= 0; i--) {
            p[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        p += dp;
    }
    *p = 0;
    return (size_t)(p - out);
}

size_t fx_fmt_trim(char *out, int64_t m) {
    size_t n = fx_fmt_fixed(out, m, 8);
    while (out[n - 1] == '0') n--;
    if (out[n - 1] == '.') n--;
    out[n] = 0;
    return n;
}

size_t fx_fmt_rfc3339(char *out, int64_t us, int decimals) {
    /* The date part changes once a second; the hot path formats only the fraction. */
    static time_t cached_sec = -1;
    static char cached[24];
    time_t sec = (time_t)(us / 1000000);
    if (sec != cached_sec) {
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = sec;
    }
    char *p = fx_put(out, cached);
    if (decimals > 0) {
        uint64_t frac = (uint64_t)(us % 1000000);
        for (int i = decimals; i < 6; i++) frac /= 10;
        *p++ = '.';
        for (int i = decimals - 1; i >= 0; i--) {
            p[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        p += decimals;
    }
    *p++ = 'Z';
    *p = 0;
    return (size_t)(p - out);
}

/* ---- SHA-1 (FIPS 180-4), only for Sec-WebSocket-Accept ---- */
static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const uint8_t *blk) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 | (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1(const uint8_t *data, size_t len, uint8_t out[20]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t i = 0;
    for (; i + 64 <= len; i += 64) sha1_block(h, data + i);
    uint8_t tail[128] = {0};
    size_t rest = len - i;
    memcpy(tail, data + i, rest);
    tail[rest] = 0x80;
    size_t tlen = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int j = 0; j < 8; j++) tail[tlen - 1 - j] = (uint8_t)(bits >> (8 * j));
    for (size_t j = 0; j < tlen; j += 64) sha1_block(h, tail + j);
    for (int j = 0; j < 5; j++)
        out[4 * j] = (uint8_t)(h[j] >> 24), out[4 * j + 1] = (uint8_t)(h[j] >> 16), out[4 * j + 2] = (uint8_t)(h[j] >> 8),
                out[4 * j + 3] = (uint8_t)h[j];
}

void fx_ws_accept_key(const char *client_key, char out[29]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char joined[128];
    int n = snprintf(joined, sizeof joined, "%s%s", client_key, guid);
    uint8_t d[21] = {0};
    sha1((const uint8_t *)joined, n < 0 ? 0 : (size_t)n, d);
    char *p = out;
    for (int i = 0; i < 21; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *p++ = b64[v >> 18 & 63];
        *p++ = b64[v >> 12 & 63];
        *p++ = i + 1 < 20 ? b64[v >> 6 & 63] : '=';
        *p++ = i + 2 < 20 ? b64[v & 63] : '=';
    }
    out[28] = 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int fx_url_decode(const char *in, size_t n, char *out, size_t outlen) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= outlen) return -1;
        if (in[i] == '%' && i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            out[o++] = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i] == '+' ? ' ' : in[i];
        }
    }
    out[o] = 0;
    return 0;
}

int fx_query_get(const char *query, const char *key, char *out, size_t outlen) {
    size_t klen = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
            return fx_url_decode(p + klen + 1, len - klen - 1, out, outlen);
        p = amp ? amp + 1 : NULL;
    }
    return -1;
}

int64_t fx_query_count(const char *query, const char *key, int64_t def, int64_t max) {
    char text[32];
    if (fx_query_get(query, key, text, sizeof text) < 0 || !text[0]) return def;
    int64_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        if (n <= max) n = n * 10 + (*p - '0');
    }
    if (n < 1) n = 1;
    return n > max ? max : n;
}
