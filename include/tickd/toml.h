/* toml.h -- a TOML 1.0 parser that builds a tree whose every value knows its line and column.
 *
 * toml_parse() takes the whole document and returns the root table, or NULL with a message
 * "LINE:COL: what was expected" in err. The tree is owned by the caller and freed with toml_free().
 * Tables keep their keys in document order. Strings are UTF-8, validated, and may contain NUL (hence len).
 *
 * A hostile document cannot exhaust the stack or the CPU: tables, arrays and inline tables, however they are
 * made (headers, dotted keys, values), nest at most TOML_MAX_DEPTH deep; toml_free() does not recurse; a key
 * is found in a table through a hash index, so n keys take O(n) to parse. */
#ifndef TICKD_TOML_H
#define TICKD_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type {
    TOML_TABLE,
    TOML_ARRAY,
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME,       /* offset date-time */
    TOML_DATETIME_LOCAL, /* local date-time */
    TOML_DATE_LOCAL,
    TOML_TIME_LOCAL,
};

struct toml_datetime {
    int year, month, day;         /* unset (0) for TOML_TIME_LOCAL */
    int hour, minute, second;     /* unset (0) for TOML_DATE_LOCAL */
    int nanosecond;               /* fraction of a second (digits past the ninth are dropped) */
    int frac_digits;              /* digits written after '.', at most 9; 0 when none (precision "as written") */
    int offset_minutes;           /* TOML_DATETIME only; 'Z' is 0 */
    bool offset_z;                /* written as 'Z' / 'z' */
};

/* Levels of tables and arrays below the root: [a.b] is 2 deep, x = [[1]] 2, and a.b.c = { d = [1] } 4. */
#define TOML_MAX_DEPTH 256

typedef struct toml_value toml_value;

struct toml_keyval {
    char *key;      /* NUL-terminated too; a quoted key may contain NUL ("\u0000"), hence key_len */
    size_t key_len;
    toml_value *value;
};

struct toml_value {
    enum toml_type type;
    int line, col; /* 1-based position where the value starts (for a table: its header or first key);
                    * col counts characters (code points), not bytes */
    unsigned flags; /* parser-internal: how a table/array was defined, for the redefinition rules */
    union {
        struct { char *ptr; size_t len; } str; /* ptr is NUL-terminated too */
        int64_t integer;
        double floating;
        bool boolean;
        struct toml_datetime datetime;
        struct { toml_value **items; size_t len, cap; } array;
        struct {
            struct toml_keyval *items;
            size_t len, cap;
            uint32_t *index; /* private: open-addressing hash of item positions + 1, once the table grows */
            size_t index_cap;
        } table;
    } u;
    toml_value *up; /* private: toml_free()'s way back without recursion */
};

toml_value *toml_parse(const char *text, size_t len, char *err, size_t errlen);
void toml_free(toml_value *v);

/* Lookup in a table by key; NULL when absent or when tab is not a table. */
const toml_value *toml_get(const toml_value *tab, const char *key);

/* For messages: "table", "array", "string", "integer", "float", "boolean", "offset date-time", "local date-time",
 * "local date", "local time" (toml-test's tags are in toml_json.h). */
const char *toml_type_name(enum toml_type t);

#endif
