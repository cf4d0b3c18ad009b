/* Unit tests of the TOML parser: values and their positions, the redefinition rules, and the exact
 * "LINE:COL: message" of each kind of error. The toml-test conformance data is run by test_toml_suite. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tickd/toml.h"
#include "tickd/toml_json.h"
#include "tt.h"

static char err[512];

static toml_value *parse(const char *text) { return toml_parse(text, strlen(text), err, sizeof err); }

/* The message of a document that must be rejected ("(accepted)" when it was not). */
static const char *error_of(const char *text) {
    toml_value *v = parse(text);
    if (!v) return err;
    toml_free(v);
    return "(accepted)";
}

struct bad_case {
    const char *toml, *error; /* a document and the exact message it must be rejected with */
};

static void expect_errors(const struct bad_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) TT_ASSERT_STR(error_of(cases[i].toml), cases[i].error);
}

static bool accepted(const char *text) {
    toml_value *v = parse(text);
    if (!v) fprintf(stderr, "    rejected: %s\n", err);
    toml_free(v);
    return v != NULL;
}

#define TOO_DEEP "tables and arrays nested more than 256 deep (headers, dotted keys, arrays and inline tables all count)"

static char *repeat(const char *head, const char *unit, size_t n, const char *tail);

static bool accepted_repeat(const char *head, const char *unit, size_t n, const char *tail) {
    char *text = repeat(head, unit, n, tail);
    bool ok = text && accepted(text);
    free(text);
    return ok;
}

/* The tagged-JSON "value" text of key k in a one-table document. */
static const char *tagged_text(const toml_value *root, const char *k) {
    static char out[256];
    json_t *j = toml_to_tagged_json(toml_get(root, k));
    snprintf(out, sizeof out, "%s", j ? json_string_value(json_object_get(j, "value")) : "(null)");
    json_decref(j);
    return out;
}

static void test_scalars_and_positions(void) {
    toml_value *root = parse("# comment\n"
                             "name = \"tickd\"\n"
                             "  count = -42\n"
                             "ratio = 6.5e-1\n"
                             "on = true\n");
    TT_ASSERT(root != NULL);
    const toml_value *name = toml_get(root, "name"), *count = toml_get(root, "count");
    TT_ASSERT(name && name->type == TOML_STRING);
    TT_ASSERT_STR(name->u.str.ptr, "tickd");
    TT_ASSERT_INT(name->line, 2);
    TT_ASSERT_INT(name->col, 8);
    TT_ASSERT(count && count->type == TOML_INTEGER);
    TT_ASSERT_INT(count->u.integer, -42);
    TT_ASSERT_INT(count->line, 3);
    TT_ASSERT_INT(count->col, 11);
    TT_ASSERT(toml_get(root, "ratio")->u.floating == 0.65);
    TT_ASSERT(toml_get(root, "on")->u.boolean);
    TT_ASSERT(toml_get(root, "missing") == NULL);
    TT_ASSERT(toml_get(name, "x") == NULL); /* not a table */
    TT_ASSERT_STR(root->u.table.items[0].key, "name"); /* document order */
    TT_ASSERT_STR(root->u.table.items[3].key, "on");
    toml_free(root);
}

static void test_table_positions_and_order(void) {
    toml_value *root = parse("[a.b]\nx = 1\n[a]\ny = 2\n\n  [[list]]\n  [[list]]\nz = 3\n");
    TT_ASSERT(root != NULL);
    const toml_value *a = toml_get(root, "a"), *list = toml_get(root, "list");
    TT_ASSERT_INT(a->line, 3); /* created implicitly by [a.b], defined by [a] */
    TT_ASSERT_INT(a->col, 1);
    TT_ASSERT_STR(a->u.table.items[0].key, "b");
    TT_ASSERT(list->type == TOML_ARRAY && list->u.array.len == 2);
    TT_ASSERT_INT(list->u.array.items[1]->line, 7);
    TT_ASSERT_INT(list->u.array.items[1]->col, 3);
    TT_ASSERT_INT(toml_get(list->u.array.items[1], "z")->u.integer, 3);
    toml_free(root);
}

static void test_integers(void) {
    toml_value *root = parse("a = 0xDEAD_beef\nb = 0o755\nc = 0b1010\nd = 1_000\ne = +7\n"
                             "max = 9223372036854775807\nmin = -9223372036854775808\nhex = 0x7FFFFFFFFFFFFFFF\n");
    TT_ASSERT(root != NULL);
    TT_ASSERT_INT(toml_get(root, "a")->u.integer, 0xDEADBEEF);
    TT_ASSERT_INT(toml_get(root, "b")->u.integer, 0755);
    TT_ASSERT_INT(toml_get(root, "c")->u.integer, 10);
    TT_ASSERT_INT(toml_get(root, "d")->u.integer, 1000);
    TT_ASSERT_INT(toml_get(root, "e")->u.integer, 7);
    TT_ASSERT(toml_get(root, "max")->u.integer == INT64_MAX);
    TT_ASSERT(toml_get(root, "min")->u.integer == INT64_MIN);
    TT_ASSERT(toml_get(root, "hex")->u.integer == INT64_MAX);
    toml_free(root);
}

static void test_integer_errors(void) {
    static const struct bad_case cases[] = {
        {"n = 9223372036854775808", "1:5: integer out of range: does not fit in 64 bits"},
        {"n = -9223372036854775809", "1:5: integer out of range: does not fit in 64 bits"},
        {"n = 0x8000000000000000", "1:5: integer out of range: does not fit in 64 bits"},
        {"n = 99999999999999999999999", "1:5: integer out of range: does not fit in 64 bits"},
        {"n = 012", "1:5: leading zeros are not allowed in a decimal number"},
        {"n = 1__0", "1:6: '_' in a number must be between two digits"},
        {"n = 1_", "1:6: '_' in a number must be between two digits"},
        {"n = -0x1", "1:5: a sign is not allowed on hex, octal or binary integers"},
        {"n = 0o8", "1:7: expected a digit of the number's base, found '8'"},
        {"n = 0B1", "1:6: expected end of line after a value, found 'B'"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

static void test_floats(void) {
    toml_value *root = parse("a = 1e3\nb = -0.5\nc = inf\nd = -inf\ne = nan\nf = 1_000.5E-1_0\ng = +0.0\nh = 0e0\n");
    TT_ASSERT(root != NULL);
    TT_ASSERT(toml_get(root, "a")->u.floating == 1000.0);
    TT_ASSERT(toml_get(root, "b")->u.floating == -0.5);
    TT_ASSERT(isinf(toml_get(root, "c")->u.floating) && toml_get(root, "c")->u.floating > 0);
    TT_ASSERT(isinf(toml_get(root, "d")->u.floating) && toml_get(root, "d")->u.floating < 0);
    TT_ASSERT(isnan(toml_get(root, "e")->u.floating));
    TT_ASSERT(toml_get(root, "f")->u.floating == 1000.5e-10);
    TT_ASSERT(toml_get(root, "h")->type == TOML_FLOAT);
    TT_ASSERT_STR(tagged_text(root, "b"), "-0.5");
    TT_ASSERT_STR(tagged_text(root, "d"), "-inf");
    toml_free(root);
    static const struct bad_case cases[] = {
        {"x = 1.", "1:7: expected a digit after the decimal point, found end of file"},
        {"x = .5", "1:5: expected a value (string, number, boolean, date-time, array or "
         "inline table), found '.'"},
        {"x = 1e", "1:7: expected a digit in the exponent, found end of file"},
        {"x = 1e400", "1:5: float out of range"},
        {"x = infinity", "1:8: expected end of line after a value, found 'i'"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
    char long_float[300] = "x = 0.";
    memset(long_float + 6, '0', 250);
    strcpy(long_float + 256, "1e250");
    root = parse(long_float);
    TT_ASSERT(root && fabs(toml_get(root, "x")->u.floating - 1e-1) < 1e-15);
    toml_free(root);
}

static void test_strings_and_escapes(void) {
    toml_value *root = parse("a = \"tab\\there \\u00E9 \\U0001F600 \\\\ \\\"\"\n"
                             "b = 'C:\\path\\no\\escape'\n"
                             "c = \"\"\"\nline one\\\n     still one\r\nline two\"\"\"\"\n"
                             "d = '''\n''quoted''\n'''\n"
                             "\"\\u0000k\" = \"nul\\u0000inside\"\n");
    TT_ASSERT(root != NULL);
    TT_ASSERT_STR(toml_get(root, "a")->u.str.ptr, "tab\there \xC3\xA9 \xF0\x9F\x98\x80 \\ \"");
    TT_ASSERT_STR(toml_get(root, "b")->u.str.ptr, "C:\\path\\no\\escape");
    /* newline after """ trimmed, backslash-newline joins, CRLF read as LF, 4 quotes = 1 quote + close */
    TT_ASSERT_STR(toml_get(root, "c")->u.str.ptr, "line onestill one\nline two\"");
    TT_ASSERT_STR(toml_get(root, "d")->u.str.ptr, "''quoted''\n");
    const struct toml_keyval *kv = &root->u.table.items[4];
    TT_ASSERT_INT(kv->key_len, 2);
    TT_ASSERT(memcmp(kv->key, "\0k", 2) == 0);
    TT_ASSERT_INT(kv->value->u.str.len, 10);
    TT_ASSERT(memcmp(kv->value->u.str.ptr, "nul\0inside", 11) == 0);
    toml_free(root);
}

static void test_string_errors(void) {
    static const struct bad_case cases[] = {
        {"s = \"abc\nt = 1\n", "1:5: unterminated string: expected closing \""},
        {"s = '''abc", "1:5: unterminated string: expected closing '''"},
        {"s = \"a\\qb\"", "1:7: invalid escape sequence: expected one of \\b \\t \\n \\f \\r "
         "\\\" \\\\ \\uXXXX \\UXXXXXXXX after '\\', found 'q'"},
        {"s = \"\\u12\"", "1:6: invalid escape sequence: \\u needs 4 hex digits"},
        {"s = \"\\uD800\"", "1:6: invalid escape sequence: U+D800 is not a Unicode scalar value"},
        {"s = \"\\U00110000\"", "1:6: invalid escape sequence: U+110000 is not a Unicode scalar value"},
        {"s = \"a\x01\"", "1:7: control character U+0001 is not allowed in a string"},
        {"s = 'a\x7F'", "1:7: control character U+007F is not allowed in a string"},
        {"s = \"\"\"a\rb\"\"\"", "1:9: carriage return in a string must be followed by a line feed"},
        {"s = \"\"\"a\"\"\"\"\"\"\"", "1:14: too many quotes: at most 2 may precede the closing \"\"\""},
        {"\"\"\"k\"\"\" = 1", "1:1: a key cannot be a multi-line string"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

static void test_utf8_validation(void) {
    static const struct bad_case cases[] = {
        {"s = \"\xC0\x80\"", "1:6: invalid UTF-8 byte 0xC0"}, /* overlong */
        {"s = \"\xE0\x80\x80\"", "1:6: invalid UTF-8 sequence (byte 0x80)"}, /* overlong */
        {"s = \"\xED\xA0\x80\"", "1:6: invalid UTF-8 sequence (byte 0xA0)"}, /* surrogate */
        {"s = \"\xF4\x90\x80\x80\"", "1:6: invalid UTF-8 sequence (byte 0x90)"}, /* > U+10FFFF */
        {"# \xE2\x82", "1:3: invalid UTF-8 sequence (byte 0x00)"}, /* truncated */
        {"k = 1\n\xEF\xBB\xBF", "2:1: expected a key, a [table] header or a comment, "
         "found a byte order mark (U+FEFF)"},
        /* columns count characters: the error is on the 9th character, the 10th byte */
        {"k = \"\xC3\xA9\" x", "1:9: expected end of line after a value, found 'x'"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
    TT_ASSERT(accepted("s = \"\xF4\x8F\xBF\xBF \xEF\xBB\xBF\"")); /* U+10FFFF, and a BOM inside a string */
    TT_ASSERT(accepted("\xEF\xBB\xBFk = 1"));                        /* a leading BOM */
}

static void test_comments_and_control_characters(void) {
    TT_ASSERT(accepted("# tab\tin comment\r\nk = 1 # end\r\n"));
    static const struct bad_case cases[] = {
        {"# a\x01", "1:4: control character U+0001 is not allowed in a comment"},
        {"k = 1\rj = 2", "1:6: expected end of line after a value, found control character U+000D"},
        {"\x0Bk = 1", "1:1: control character U+000B is not allowed here"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

static void test_datetimes(void) {
    toml_value *root = parse("odt = 1979-05-27T07:32:00.5-07:30\nz = 1979-05-27 07:32:00z\n"
                             "ldt = 1979-05-27t07:32:00.123456789123\nld = 2024-02-29\nlt = 23:59:60.000\n"
                             "d2 = 2000-02-29 # leap: divisible by 400\n");
    TT_ASSERT(root != NULL);
    const toml_value *odt = toml_get(root, "odt");
    TT_ASSERT(odt->type == TOML_DATETIME);
    TT_ASSERT_INT(odt->u.datetime.offset_minutes, -450);
    TT_ASSERT_INT(odt->u.datetime.nanosecond, 500000000);
    TT_ASSERT_STR(tagged_text(root, "odt"), "1979-05-27T07:32:00.5-07:30");
    TT_ASSERT(toml_get(root, "z")->type == TOML_DATETIME && toml_get(root, "z")->u.datetime.offset_z);
    TT_ASSERT_STR(tagged_text(root, "z"), "1979-05-27T07:32:00Z");
    TT_ASSERT(toml_get(root, "ldt")->type == TOML_DATETIME_LOCAL);
    TT_ASSERT_STR(tagged_text(root, "ldt"), "1979-05-27T07:32:00.123456789"); /* beyond nanoseconds dropped */
    TT_ASSERT(toml_get(root, "ld")->type == TOML_DATE_LOCAL);
    TT_ASSERT_STR(tagged_text(root, "ld"), "2024-02-29");
    TT_ASSERT(toml_get(root, "lt")->type == TOML_TIME_LOCAL);
    TT_ASSERT_STR(tagged_text(root, "lt"), "23:59:60.000");
    toml_free(root);

    static const struct bad_case cases[] = {
        {"d = 2023-02-29", "1:13: day 29 out of range: 2023-02 has 28 days"},
        {"d = 1900-02-29", "1:13: day 29 out of range: 1900-02 has 28 days"},
        {"d = 2023-04-31", "1:13: day 31 out of range: 2023-04 has 30 days"},
        {"d = 2023-13-01", "1:10: month 13 out of range: expected 01 to 12"},
        {"d = 2023-00-01", "1:10: month 00 out of range: expected 01 to 12"},
        {"t = 24:00:00", "1:5: hour 24 out of range: expected 00 to 23"},
        {"t = 12:60:00", "1:8: minute 60 out of range: expected 00 to 59"},
        {"t = 12:00:61", "1:11: second 61 out of range: expected 00 to 60"},
        {"t = 12:00", "1:10: expected ':' and seconds after the minute, found end of file"},
        {"d = 2023-1-01", "1:11: expected 2 digits for the month, found '-'"},
        {"d = 2023-01-01T", "1:16: expected a time (HH:MM:SS) after the date, found end of file"},
        {"d = 2023-01-01T00:00:00+24:00", "1:24: offset +24:00 out of range"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

static void test_redefinition_rules(void) {
    static const struct bad_case cases[] = {
        {"a = 1\na = 2\n", "2:1: duplicate key 'a': already defined at 1:5 (integer)"},
        {"[a]\nx = 1\n[a]\n", "3:2: cannot define table 'a': already defined at 1:1 (table)"},
        {"[a]\nb = 1\n[a.b]\n", "3:4: cannot define table 'a.b': already defined at 2:5 (integer)"},
        /* a table made by dotted keys cannot be defined by a header */
        {"[fruit]\napple.color = 1\n[fruit.apple]\n",
         "3:8: cannot define table 'fruit.apple': already defined at 2:1 (table)"},
            {"[a.b]\nc = 1\n[a]\nb.d = 2\n", "4:1: cannot add keys to 'b': already defined at 1:1 (table)"},
        /* inline tables and value arrays are closed */
        {"a = {b = 1}\na.c = 2\n", "2:1: cannot add keys to 'a': already defined at 1:5 (table)"},
        {"a = {b = 1}\n[a.c]\n", "2:2: cannot add a table to 'a': already defined at 1:5 (table)"},
        {"a = {b = {c = 1}, b.d = 2}\n", "1:19: cannot add keys to 'b': already defined at 1:10 (table)"},
        {"a = []\n[[a]]\n", "2:3: cannot append a table to 'a': already defined at 1:5 (array)"},
        {"[[a]]\n[a]\n", "2:2: cannot define table 'a': already defined at 1:3 (array)"},
        {"[a]\n[[a]]\n", "2:3: cannot append a table to 'a': already defined at 1:1 (table)"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
    /* a table made by dotted keys may get sub-tables from headers */
    TT_ASSERT(accepted("[fruit]\napple.color = 1\n[fruit.apple.texture]\nsmooth = true\n"));
    /* implicit tables may be defined once, later */
    TT_ASSERT(accepted("[a.b.c]\n[a.b]\n[a]\n"));
    /* [[a]] starts a new table each time; headers below it go into the last one */
    toml_value *root = parse("[[a]]\nb.c = 1\n[[a]]\nb.c = 2\n[a.d]\ne = 3\n");
    TT_ASSERT(root != NULL);
    const toml_value *a = toml_get(root, "a");
    TT_ASSERT_INT(a->u.array.len, 2);
    TT_ASSERT_INT(toml_get(toml_get(a->u.array.items[1], "d"), "e")->u.integer, 3);
    toml_free(root);
}

static void test_syntax_errors(void) {
    static const struct bad_case cases[] = {
        {"k", "1:2: expected '=' after the key, found end of file"},
        {"k =", "1:4: expected a value (string, number, boolean, date-time, array or inline "
         "table), found end of file"},
        {"k = 1 2", "1:7: expected end of line after a value, found '2'"},
        {"a = [1 2]", "1:8: expected ',' or ']' after an array element, found '2'"},
        {"a = {b = 1,}", "1:12: trailing comma: expected a key/value pair before '}'"},
        {"a = {b = 1\n}", "1:11: expected ',' or '}' after a key/value pair in an inline table, "
         "found end of line"},
        {"[a", "1:3: expected ']' to close the table header, found end of file"},
        {"[[a]", "1:4: expected ']]' to close the array-of-tables header, found ']'"},
        {"[a] x", "1:5: expected end of line after a table header, found 'x'"},
        {"a.=1", "1:3: expected a key after '.', found '='"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
    TT_ASSERT(accepted("a = [\n  1, # one\n  2,\n]\nb = { c . d = 1, 'e' = [] }\n"));
    TT_ASSERT(accepted(""));
}

static void test_deep_nesting_is_an_error_not_a_crash(void) {
    size_t depth = 100000;
    char *text = malloc(depth + 8);
    TT_ASSERT(text != NULL);
    memcpy(text, "a = ", 4);
    memset(text + 4, '[', depth);
    text[depth + 4] = '\0';
    toml_value *v = parse(text);
    free(text);
    TT_ASSERT(v == NULL);
    TT_ASSERT_STR(err, "1:261: " TOO_DEEP);
}

/* A document of n repetitions of unit between head and tail. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail) {
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *text = malloc(hl + ul * n + tl + 1);
    if (!text) return NULL;
    memcpy(text, head, hl);
    for (size_t i = 0; i < n; i++) memcpy(text + hl + i * ul, unit, ul);
    memcpy(text + hl + ul * n, tail, tl + 1);
    return text;
}

static const char *error_of_repeat(const char *head, const char *unit, size_t n, const char *tail) {
    char *text = repeat(head, unit, n, tail);
    if (!text) return "(out of memory)";
    const char *e = error_of(text);
    free(text);
    return e;
}

/* Dotted keys and headers used to nest without bound: 400,000 levels parsed, then toml_free recursed once per
 * level and overflowed the stack. Every kind of nesting now counts against the one bound, and the error says
 * where it was crossed. */
static void test_one_depth_bound_for_every_nesting(void) {
    TT_ASSERT_STR(error_of_repeat("", "a.", 400000, "b = 1\n"), "1:515: " TOO_DEEP);
    TT_ASSERT_STR(error_of_repeat("[", "a.", 400000, "b]\n"), "1:514: " TOO_DEEP);
    TT_ASSERT_STR(error_of_repeat("[[", "a.", 400000, "b]]\n"), "1:515: " TOO_DEEP);
    TT_ASSERT_STR(error_of_repeat("x = { ", "a.", 400000, "b = 1 }\n"), "1:519: " TOO_DEEP);
    /* At the bound: 256 tables from dotted keys hold a scalar, not an array (257 levels). */
    TT_ASSERT(accepted_repeat("", "a.", 256, "b = 1\n"));
    TT_ASSERT_STR(error_of_repeat("", "a.", 256, "b = []\n"), "1:517: " TOO_DEEP);
    TT_ASSERT(accepted_repeat("[", "a.", 255, "b]\nc = 1\n"));
    TT_ASSERT_STR(error_of_repeat("[", "a.", 255, "b]\nc = []\n"), "2:5: " TOO_DEEP);
    TT_ASSERT_STR(error_of_repeat("[", "a.", 255, "b]\nc.d = 1\n"), "2:3: " TOO_DEEP);
    TT_ASSERT_STR(error_of_repeat("[", "a.", 256, "b]\n"), "1:514: " TOO_DEEP);
    /* The kinds add up: a header 200 deep, a dotted key 50 deep, then arrays and inline tables. */
    TT_ASSERT_STR(error_of_repeat("[", "h.", 199, "h]\nk.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k."
                                              "k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k = [[{ x = [{ y = [[[[[[1]]]]]] }] }]]\n"),
                  "2:120: " TOO_DEEP);
    /* An element of an array of tables is a level below its array. */
    TT_ASSERT_STR(error_of_repeat("[[a]]\n[", "a.", 255, "b]\n"), "2:1: " TOO_DEEP);
    TT_ASSERT(accepted_repeat("[[a]]\n[", "a.", 254, "b]\n"));
}

/* The tree at the bound is freed without recursion (ASan and valgrind see every node go). */
static void test_free_at_the_bound(void) {
    char *text = repeat("a = ", "[", 256, "");
    TT_ASSERT(text != NULL);
    size_t n = strlen(text);
    text = realloc(text, n + 257);
    TT_ASSERT(text != NULL);
    memset(text + n, ']', 256);
    text[n + 256] = 0;
    toml_value *v = parse(text);
    free(text);
    TT_ASSERT(v != NULL);
    const toml_value *a = toml_get(v, "a");
    size_t depth = 0;
    while (a && a->type == TOML_ARRAY) depth++, a = a->u.array.len ? a->u.array.items[0] : NULL;
    TT_ASSERT_INT(depth, 256);
    toml_free(v);
}

/* 100,000 keys in one table took 21 s: every insert searched the table from the start. A hash index makes it
 * linear. Each key is found again, and the document order is kept. */
static void test_many_keys_parse_in_linear_time(void) {
    size_t n = 100000;
    char *text = malloc(n * 16 + 16), *w = text;
    TT_ASSERT(text != NULL);
    w += sprintf(w, "[t]\n");
    for (size_t i = 0; i < n; i++) w += sprintf(w, "k%zu = %zu\n", (i * 7919) % n, i);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    toml_value *v = toml_parse(text, (size_t)(w - text), err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(text);
    TT_ASSERT(v != NULL);
    fprintf(stderr, "    %zu keys parsed in %.3f s\n", n,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    const toml_value *t = toml_get(v, "t");
    TT_ASSERT(t && t->u.table.len == n);
    char key[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%zu", (i * 7919) % n);
        const toml_value *k = toml_get(t, key);
        if (!k || k->type != TOML_INTEGER || k->u.integer != (int64_t)i) TT_FAIL("%s not found or wrong", key);
        if (strcmp(t->u.table.items[i].key, key) != 0) TT_FAIL("key %zu is %s", i, t->u.table.items[i].key);
    }
    TT_ASSERT(toml_get(t, "k100000") == NULL);
    TT_ASSERT(toml_get(t, "") == NULL);
    TT_ASSERT_STR(error_of("[t]\na=1\nb=1\nc=1\nd=1\ne=1\nf=1\ng=1\nh=1\ni=1\nj=1\nk=1\nb=2\n"),
                  "13:1: duplicate key 'b': already defined at 3:3 (integer)");
    toml_free(v);
}

static void test_small_error_buffer_is_truncated(void) {
    char small[8];
    toml_value *v = toml_parse("a = 1\na = 2\n", 12, small, sizeof small);
    TT_ASSERT(v == NULL);
    TT_ASSERT_STR(small, "2:1: du");
    TT_ASSERT(toml_parse("a = ", 4, NULL, 0) == NULL);
}

int main(void) {
    TT_RUN(test_scalars_and_positions);
    TT_RUN(test_table_positions_and_order);
    TT_RUN(test_integers);
    TT_RUN(test_integer_errors);
    TT_RUN(test_floats);
    TT_RUN(test_strings_and_escapes);
    TT_RUN(test_string_errors);
    TT_RUN(test_utf8_validation);
    TT_RUN(test_comments_and_control_characters);
    TT_RUN(test_datetimes);
    TT_RUN(test_redefinition_rules);
    TT_RUN(test_syntax_errors);
    TT_RUN(test_deep_nesting_is_an_error_not_a_crash);
    TT_RUN(test_one_depth_bound_for_every_nesting);
    TT_RUN(test_free_at_the_bound);
    TT_RUN(test_many_keys_parse_in_linear_time);
    TT_RUN(test_small_error_buffer_is_truncated);
    return tt_finish();
}
