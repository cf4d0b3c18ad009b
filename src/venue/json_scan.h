/* json_scan.h -- a strict reader of a JSON text in place, without a tree (private to src/venue/).
 *
 * For answers too large to build a jansson tree of: a venue's instrument list (Binance's exchangeInfo runs to
 * megabytes, and a tree costs ten times its text). The reader walks the text once, front to back; the caller asks
 * for what it expects next (a member of an object, an element of an array, a string, a boolean) and skips the
 * rest, and every byte is checked on the way, skipped values too: RFC 8259's grammar, strings of valid UTF-8
 * without control characters, escapes (\u0000 and unpaired surrogates refused, as jansson refuses them), numbers,
 * the three literals, nesting at most JSCAN_DEPTH_MAX deep. An error is sticky: once the text broke a rule every
 * call fails, so a reader may check once at its end (jscan_end: the text is whole, nothing follows). Nothing is
 * allocated; strings stay spans of the text, decoded only when copied. */
#ifndef TICKD_JSON_SCAN_H
#define TICKD_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSCAN_DEPTH_MAX 128 /* containers within containers that a skipped value may hold */

struct jscan {
    const char *p, *end;
    bool error;
};

/* A string as it stands between its quotes (escapes not decoded: `escaped` says whether it holds any). */
struct jscan_str {
    const char *p;
    size_t len;
    bool escaped;
};

enum jscan_type {
    JSCAN_NONE = 0, /* the text ended, an error came before, or the next byte starts no value */
    JSCAN_OBJECT,
    JSCAN_ARRAY,
    JSCAN_STRING,
    JSCAN_NUMBER,
    JSCAN_TRUE,
    JSCAN_FALSE,
    JSCAN_NULL,
};

void jscan_init(struct jscan *s, const char *text, size_t len);
/* The type of the value that starts next (whitespace skipped); nothing is consumed. */
enum jscan_type jscan_peek(struct jscan *s);

/* The members of an object: with *i = 0 the next value must be an object (its '{' is consumed); call again after
 * reading or skipping each member's value. 1: *key holds the next member's key, its ':' consumed; 0: the object
 * ended ('}' consumed); -1: not an object, or malformed. *i counts the members. */
int jscan_member(struct jscan *s, size_t *i, struct jscan_str *key);
/* The elements of an array alike: 1 an element follows (the caller reads or skips it), 0 the array ended, -1. */
int jscan_element(struct jscan *s, size_t *i);

/* One value of any type, checked and passed over. 0 or -1. */
int jscan_skip(struct jscan *s);
/* A string value. 0, or -1 when the next value is not a string (the error is set). */
int jscan_string(struct jscan *s, struct jscan_str *out);
/* A string value decoded into dst (cap bytes with the NUL): its length; -1 when the next value is not a string
 * (the error is set); -2 when it is one but does not fit (consumed, dst empty, no error). */
int jscan_text(struct jscan *s, char *dst, size_t cap);
/* A number's text as written ("-1003", "0.26"). 0, or -1 when the next value is not a number (the error is set). */
int jscan_number(struct jscan *s, struct jscan_str *out);
/* true or false. 0, or -1 (the error is set). */
int jscan_bool(struct jscan *s, bool *v);
/* A number that is a non-negative integer below 2^63 written without fraction or exponent ("8", not "8.0").
 * 0, or -1 (the error is set). */
int jscan_uint(struct jscan *s, uint64_t *v);

/* True when the text held one whole value and only whitespace follows it, with no error on the way. */
bool jscan_end(struct jscan *s);

/* Whether the string is exactly `lit` once decoded. */
bool jscan_str_is(const struct jscan_str *str, const char *lit);
/* The string decoded (escapes to UTF-8) into dst: its length, or -1 when it does not fit in cap bytes with the
 * NUL (dst empty). The string must come from this reader (its escapes were checked). */
int jscan_str_copy(const struct jscan_str *str, char *dst, size_t cap);

#endif
