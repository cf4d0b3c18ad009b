/* toml.c -- a TOML 1.0 parser: hand-written recursive descent over the whole document.
 *
 * The document is checked for valid UTF-8 first, so the scanner below can treat every byte >= 0x80 as part of
 * a well-formed character. Each parse_* function starts at the current position, consumes its construct and
 * returns 0, or records "LINE:COL: what was expected" once and returns -1; callers only pass -1 up.
 *
 * Redefinition rules live in flags on the tree itself (see enum below) rather than in a side table keyed by
 * path: every table/array knows whether it came from a [header], a dotted key, an inline value or [[header]],
 * and that is all the spec's "cannot define twice / cannot extend" rules need. */
#include "tickd/toml.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    DEF_HEADER = 1 << 0, /* table named by [header], or an element of [[header]]: may not be defined again */
    DEF_DOTTED = 1 << 1, /* table created or extended by a dotted key: a [header] may not define it */
    DEF_FROZEN = 1 << 2, /* inline table (and all inside it): closed when its '}' is read */
    DEF_AOT = 1 << 3,    /* array made by [[header]]: more [[header]]s append to it; a value array is closed */
};

/* Arrays and inline tables recurse, and so do the walks over the tree (freeze, toml_json, the config schema):
 * every way of nesting counts against one bound, so a hostile file cannot exhaust the stack. */
#define MAX_DEPTH TOML_MAX_DEPTH

/* Below this many keys a table is searched linearly; above it, through its hash index. */
#define INDEX_MIN 8

struct parser {
    const char *src;
    size_t len, pos;
    size_t body;       /* offset after a byte order mark, where line 1 starts */
    int line;          /* line of pos, 1-based */
    size_t line_start; /* offset of the first byte of that line */
    size_t col_pos;    /* last position whose column was counted, and that column: values on a long line */
    int col;           /* are counted on from there, so a one-line array of n values costs O(n), not O(n^2) */
    int depth;         /* levels of tables and arrays around the value being read (see TOML_MAX_DEPTH) */
    char *err;
    size_t errlen;
};

struct buf {
    char *data;
    size_t len, cap;
};

struct key_part {
    char *name;
    size_t len;
    size_t pos; /* where the part starts, for messages */
};

struct key {
    struct key_part *parts;
    size_t n, cap;
};

static int parse_value(struct parser *p, toml_value **out);

/* ---------------------------------------------------------------- positions and errors */

static int column_of(const struct parser *p, size_t line_start, size_t pos) {
    int col = 1;
    for (size_t i = line_start; i < pos && i < p->len; i++)
        if (((unsigned char)p->src[i] & 0xC0) != 0x80) col++; /* count characters, not UTF-8 bytes */
    return col;
}

/* Errors are rare and may point behind the scanner (e.g. a key's start), so their line is found by a scan. */
static int fail_at(struct parser *p, size_t pos, const char *fmt, ...) {
    int line = 1;
    size_t line_start = p->body;
    for (size_t i = p->body; i < pos && i < p->len; i++)
        if (p->src[i] == '\n') line++, line_start = i + 1;
    int n = snprintf(p->err, p->errlen, "%d:%d: ", line, column_of(p, line_start, pos));
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#define fail(p, ...) fail_at((p), (p)->pos, __VA_ARGS__)

/* A printable description of the character at pos for "found ..." in messages. */
static const char *describe(const struct parser *p, size_t pos, char *tmp, size_t tmplen) {
    if (pos >= p->len) return "end of file";
    unsigned char c = (unsigned char)p->src[pos];
    if (c == '\n' || (c == '\r' && pos + 1 < p->len && p->src[pos + 1] == '\n')) return "end of line";
    if (p->len - pos >= 3 && memcmp(p->src + pos, "\xEF\xBB\xBF", 3) == 0) return "a byte order mark (U+FEFF)";
    if (c < 0x20 || c == 0x7F) {
        snprintf(tmp, tmplen, "control character U+%04X", c);
        return tmp;
    }
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    snprintf(tmp, tmplen, "'%.*s'", (int)n, p->src + pos);
    return tmp;
}

static int fail_expected(struct parser *p, const char *what) {
    char tmp[40];
    return fail(p, "expected %s, found %s", what, describe(p, p->pos, tmp, sizeof tmp));
}

static int oom(struct parser *p) { return fail(p, "out of memory"); }

static int fail_too_deep(struct parser *p, size_t pos) {
    return fail_at(p, pos, "tables and arrays nested more than %d deep (headers, dotted keys, arrays and inline tables "
                   "all count)", MAX_DEPTH);
}

/* ---------------------------------------------------------------- scanning */

static int peek_at(const struct parser *p, size_t off) {
    return p->pos + off < p->len ? (unsigned char)p->src[p->pos + off] : -1;
}

static int peek(const struct parser *p) { return peek_at(p, 0); }

static bool starts_with(const struct parser *p, const char *word) {
    size_t n = strlen(word);
    return p->len - p->pos >= n && memcmp(p->src + p->pos, word, n) == 0;
}

static bool at_newline(const struct parser *p) {
    return peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n');
}

/* Consumes LF or CRLF; the caller checked at_newline(). */
static void skip_newline(struct parser *p) {
    p->pos += peek(p) == '\r' ? 2 : 1;
    p->line++;
    p->line_start = p->pos;
}

static void skip_ws(struct parser *p) {
    while (peek(p) == ' ' || peek(p) == '\t') p->pos++;
}

static bool is_control(int c) { return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F; }

static bool is_bare_key_char(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static int fail_control(struct parser *p, const char *where) {
    if (peek(p) == '\r') return fail(p, "carriage return %s must be followed by a line feed", where);
    return fail(p, "control character U+%04X is not allowed %s", peek(p), where);
}

/* '#' up to the end of the line; control characters other than tab are not allowed in comments. */
static int skip_comment(struct parser *p) {
    if (peek(p) != '#') return 0;
    for (p->pos++; p->pos < p->len && !at_newline(p); p->pos++)
        if (is_control(peek(p))) return fail_control(p, "in a comment");
    return 0;
}

/* Whitespace, comments and newlines, as allowed between array elements. */
static int skip_blank(struct parser *p) {
    for (;;) {
        skip_ws(p);
        if (skip_comment(p) < 0) return -1;
        if (!at_newline(p)) return 0;
        skip_newline(p);
    }
}

/* After a key/value pair or a header: optional whitespace and comment, then a newline or the end. */
static int expect_line_end(struct parser *p, const char *after) {
    skip_ws(p);
    if (skip_comment(p) < 0) return -1;
    if (p->pos >= p->len) return 0;
    if (at_newline(p)) {
        skip_newline(p);
        return 0;
    }
    char what[64];
    snprintf(what, sizeof what, "end of line after %s", after);
    return fail_expected(p, what);
}

/* Rejects malformed UTF-8: overlongs, surrogates, code points above U+10FFFF, truncated sequences. */
static int check_utf8(struct parser *p) {
    const unsigned char *s = (const unsigned char *)p->src;
    for (size_t i = 0; i < p->len;) {
        unsigned c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c < 0x80) n = 1;
        else if (c >= 0xC2 && c <= 0xDF) n = 2;
        else if (c >= 0xE0 && c <= 0xEF) n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4) n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else return fail_at(p, i, "invalid UTF-8 byte 0x%02X", c);
        for (size_t k = 1; k < n; k++) {
            unsigned b = i + k < p->len ? s[i + k] : 0;
            if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80)
                return fail_at(p, i, "invalid UTF-8 sequence (byte 0x%02X)", b);
        }
        i += n;
    }
    return 0;
}

/* ---------------------------------------------------------------- values and containers */

/* The column of pos on the current line. */
static int current_column(struct parser *p, size_t pos) {
    if (p->col_pos < p->line_start || pos < p->col_pos) p->col_pos = p->line_start, p->col = 1;
    p->col += column_of(p, p->col_pos, pos) - 1;
    p->col_pos = pos;
    return p->col;
}

static toml_value *new_value(struct parser *p, enum toml_type type, size_t pos) {
    toml_value *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->type = type;
    v->line = p->line;
    v->col = current_column(p, pos);
    return v;
}

/* Depth first without recursion: a container gives up its last child until it has none, then is freed, and
 * the walk goes back up through the child's `up` link. No allocation, so it cannot fail half way. */
void toml_free(toml_value *v) {
    if (v) v->up = NULL;
    while (v) {
        toml_value *child = NULL;
        if (v->type == TOML_TABLE && v->u.table.len) {
            struct toml_keyval *kv = &v->u.table.items[--v->u.table.len];
            free(kv->key);
            child = kv->value;
        } else if (v->type == TOML_ARRAY && v->u.array.len) {
            child = v->u.array.items[--v->u.array.len];
        }
        if (child) {
            child->up = v;
            v = child;
            continue;
        }
        toml_value *up = v->up;
        if (v->type == TOML_TABLE) {
            free(v->u.table.items);
            free(v->u.table.index);
        } else if (v->type == TOML_ARRAY) {
            free(v->u.array.items);
        } else if (v->type == TOML_STRING) {
            free(v->u.str.ptr);
        }
        free(v);
        v = up;
    }
}

static bool grow(void **items, size_t *cap, size_t len, size_t size) {
    if (len < *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *n = realloc(*items, ncap * size);
    if (!n) return false;
    *items = n;
    *cap = ncap;
    return true;
}

/* FNV-1a: keys are short, and a config file is not an adversary worth a keyed hash. */
static size_t key_hash(const char *key, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 32));
}

static toml_value *table_find(const toml_value *tab, const char *key, size_t len) {
    const struct toml_keyval *items = tab->u.table.items;
    if (!tab->u.table.index) {
        for (size_t i = 0; i < tab->u.table.len; i++)
            if (items[i].key_len == len && memcmp(items[i].key, key, len) == 0) return items[i].value;
        return NULL;
    }
    size_t mask = tab->u.table.index_cap - 1;
    for (size_t at = key_hash(key, len) & mask;; at = (at + 1) & mask) {
        uint32_t slot = tab->u.table.index[at];
        if (!slot) return NULL;
        const struct toml_keyval *kv = &items[slot - 1];
        if (kv->key_len == len && memcmp(kv->key, key, len) == 0) return kv->value;
    }
}

static void index_put(toml_value *tab, size_t item) {
    const struct toml_keyval *kv = &tab->u.table.items[item];
    size_t mask = tab->u.table.index_cap - 1, at = key_hash(kv->key, kv->key_len) & mask;
    while (tab->u.table.index[at]) at = (at + 1) & mask;
    tab->u.table.index[at] = (uint32_t)(item + 1);
}

/* Keeps the index at most half full, rebuilt at twice the size when it would fill past that. */
static bool index_update(toml_value *tab) {
    size_t len = tab->u.table.len;
    if (len <= INDEX_MIN) return true;
    if (len > UINT32_MAX - 1) return false;
    if (len * 2 <= tab->u.table.index_cap) {
        index_put(tab, len - 1);
        return true;
    }
    size_t cap = tab->u.table.index_cap ? tab->u.table.index_cap * 2 : 4 * INDEX_MIN;
    while (cap < len * 2) cap *= 2;
    uint32_t *index = calloc(cap, sizeof *index);
    if (!index) return false;
    free(tab->u.table.index);
    tab->u.table.index = index;
    tab->u.table.index_cap = cap;
    for (size_t i = 0; i < len; i++) index_put(tab, i);
    return true;
}

const toml_value *toml_get(const toml_value *tab, const char *key) {
    if (!tab || tab->type != TOML_TABLE) return NULL;
    return table_find(tab, key, strlen(key));
}

/* Adds key (copied) -> value; the caller checked the key is new. On failure the value is not owned. */
static int table_add(struct parser *p, toml_value *tab, const struct key_part *k, toml_value *value) {
    if (!grow((void **)&tab->u.table.items, &tab->u.table.cap, tab->u.table.len, sizeof *tab->u.table.items))
        return oom(p);
    char *key = malloc(k->len + 1);
    if (!key) return oom(p);
    memcpy(key, k->name, k->len + 1);
    tab->u.table.items[tab->u.table.len++] = (struct toml_keyval){key, k->len, value};
    if (!index_update(tab)) {
        free(key);
        tab->u.table.len--;
        return oom(p);
    }
    return 0;
}

static int array_push(struct parser *p, toml_value *arr, toml_value *value) {
    if (!grow((void **)&arr->u.array.items, &arr->u.array.cap, arr->u.array.len, sizeof *arr->u.array.items))
        return oom(p);
    arr->u.array.items[arr->u.array.len++] = value;
    return 0;
}

/* A new empty table added under k; NULL (error recorded) on failure. */
static toml_value *add_table(struct parser *p, toml_value *parent, const struct key_part *k, unsigned flags) {
    toml_value *t = new_value(p, TOML_TABLE, k->pos);
    if (!t) return oom(p), NULL;
    t->flags = flags;
    if (table_add(p, parent, k, t) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

static void freeze(toml_value *v) {
    v->flags |= DEF_FROZEN;
    if (v->type == TOML_TABLE)
        for (size_t i = 0; i < v->u.table.len; i++) freeze(v->u.table.items[i].value);
    else if (v->type == TOML_ARRAY)
        for (size_t i = 0; i < v->u.array.len; i++) freeze(v->u.array.items[i]);
}

const char *toml_type_name(enum toml_type t) {
    switch (t) {
    case TOML_TABLE: return "table";
    case TOML_ARRAY: return "array";
    case TOML_STRING: return "string";
    case TOML_INTEGER: return "integer";
    case TOML_FLOAT: return "float";
    case TOML_BOOL: return "boolean";
    case TOML_DATETIME: return "offset date-time";
    case TOML_DATETIME_LOCAL: return "local date-time";
    case TOML_DATE_LOCAL: return "local date";
    case TOML_TIME_LOCAL: return "local time";
    }
    return "?";
}

/* ---------------------------------------------------------------- strings */

static int buf_put(struct parser *p, struct buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 32;
        while (ncap < b->len + n + 1) ncap *= 2;
        char *d = realloc(b->data, ncap);
        if (!d) return oom(p);
        b->data = d;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int buf_put_utf8(struct parser *p, struct buf *b, uint32_t cp) {
    static const unsigned char lead[] = {0x00, 0xC0, 0xE0, 0xF0}; /* first-byte marks of 1- to 4-byte forms */
    char s[4];
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (size_t i = n - 1; i > 0; i--, cp >>= 6) s[i] = (char)(0x80 | (cp & 0x3F));
    s[0] = (char)(lead[n - 1] | cp);
    return buf_put(p, b, s, n);
}

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* At a backslash in a basic string: one escape sequence. */
static int parse_escape(struct parser *p, struct buf *b) {
    size_t start = p->pos;
    p->pos++;
    int c = peek(p);
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case 'u':
    case 'U': break;
    default: {
        char tmp[40];
        return fail_at(p, start, "invalid escape sequence: expected one of \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX "
                                 "\\UXXXXXXXX after '\\', found %s", describe(p, p->pos, tmp, sizeof tmp));
    }
    }
    p->pos++;
    if (simple) return buf_put(p, b, simple, 1);
    int digits = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++, p->pos++) {
        int h = hex_value(peek(p));
        if (h < 0) return fail_at(p, start, "invalid escape sequence: \\%c needs %d hex digits", c, digits);
        cp = cp << 4 | (uint32_t)h;
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return fail_at(p, start, "invalid escape sequence: U+%04" PRIX32 " is not a Unicode scalar value", cp);
    return buf_put_utf8(p, b, cp);
}

/* In a multi-line string at a run of quote characters: 1-2 are content, 3 close, 4-5 are 1-2 quotes of
 * content before the closing three. Returns 1 when the string was closed. */
static int ml_quotes(struct parser *p, struct buf *b, char q) {
    size_t n = 0;
    while (peek_at(p, n) == q) n++;
    if (n > 5) return fail_at(p, p->pos + 5, "too many quotes: at most 2 may precede the closing %c%c%c", q, q, q);
    if (buf_put(p, b, p->src + p->pos, n >= 3 ? n - 3 : n) < 0) return -1;
    p->pos += n;
    return n >= 3;
}

/* In a multi-line basic string at '\\': when only whitespace follows it on the line, the backslash, the newline
 * and all whitespace and newlines after it are dropped. Returns false, consuming nothing, otherwise. */
static bool skip_line_ending_backslash(struct parser *p) {
    size_t save = p->pos;
    p->pos++;
    skip_ws(p);
    if (!at_newline(p)) {
        p->pos = save;
        return false;
    }
    while (at_newline(p) || peek(p) == ' ' || peek(p) == '\t') {
        if (at_newline(p)) skip_newline(p);
        else p->pos++;
    }
    return true;
}

/* A string of any of the four kinds; the opening quote is at pos. Keys pass multiline_ok = false. */
static int parse_string(struct parser *p, struct buf *b, bool multiline_ok) {
    char q = (char)peek(p);
    bool basic = q == '"';
    bool multi = peek_at(p, 1) == q && peek_at(p, 2) == q;
    size_t start = p->pos;
    if (multi && !multiline_ok) return fail(p, "a key cannot be a multi-line string");
    if (buf_put(p, b, "", 0) < 0) return -1; /* an empty string is still allocated */
    p->pos += multi ? 3 : 1;
    if (multi && at_newline(p)) skip_newline(p); /* a newline right after the opening quotes is trimmed */
    for (;;) {
        int c = peek(p);
        if (c < 0 || (!multi && at_newline(p)))
            return fail_at(p, start, "unterminated string: expected closing %s", multi ? (basic ? "\"\"\"" : "'''")
                                                                                     : (basic ? "\"" : "'"));
        if (c == q && !multi) {
            p->pos++;
            return 0;
        }
        if (c == q) {
            int closed = ml_quotes(p, b, q);
            if (closed) return closed < 0 ? -1 : 0;
        } else if (basic && c == '\\') {
            if (!(multi && skip_line_ending_backslash(p)) && parse_escape(p, b) < 0) return -1;
        } else if (multi && at_newline(p)) {
            skip_newline(p); /* CRLF is read as LF, so a string does not depend on the file's line endings */
            if (buf_put(p, b, "\n", 1) < 0) return -1;
        } else if (is_control(c)) {
            return fail_control(p, "in a string");
        } else {
            size_t n = 1;
            while (p->pos + n < p->len && ((unsigned char)p->src[p->pos + n] & 0xC0) == 0x80) n++;
            if (buf_put(p, b, p->src + p->pos, n) < 0) return -1;
            p->pos += n;
        }
    }
}

/* ---------------------------------------------------------------- keys */

static void key_clear(struct key *k) {
    for (size_t i = 0; i < k->n; i++) free(k->parts[i].name);
    free(k->parts);
    *k = (struct key){0};
}

/* One part of a key: bare (letters, digits, '_', '-'), "basic" or 'literal'. */
static int parse_simple_key(struct parser *p, struct key_part *part, bool after_dot) {
    struct buf b = {0};
    int c = peek(p);
    part->pos = p->pos;
    if (c == '"' || c == '\'') {
        if (parse_string(p, &b, false) < 0) goto fail;
    } else if (is_bare_key_char(c)) {
        while (is_bare_key_char(peek(p))) p->pos++;
        if (buf_put(p, &b, p->src + part->pos, p->pos - part->pos) < 0) goto fail;
    } else {
        fail_expected(p, after_dot ? "a key after '.'" : "a key (letters, digits, '_', '-' or a quoted string)");
        goto fail;
    }
    part->name = b.data;
    part->len = b.len;
    return 0;
fail:
    free(b.data);
    return -1;
}

/* A dotted key: simple keys separated by '.', whitespace allowed around the dots. Every part but the last is a
 * table level, so the caller says how many parts the depth bound leaves room for. */
static int parse_key(struct parser *p, struct key *k, size_t max_parts) {
    for (;;) {
        skip_ws(p);
        if (k->n == max_parts) return fail_too_deep(p, p->pos);
        if (!grow((void **)&k->parts, &k->cap, k->n, sizeof *k->parts)) return oom(p);
        if (parse_simple_key(p, &k->parts[k->n], k->n > 0) < 0) return -1;
        k->n++;
        skip_ws(p);
        if (peek(p) != '.') return 0;
        p->pos++;
    }
}

/* Prints a dotted key for messages as far as part n (inclusive), quoting parts that are not bare. */
static const char *key_text(const struct key *k, size_t n, char *out, size_t outlen) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i <= n && i < k->n && o < outlen; i++) {
        const struct key_part *kp = &k->parts[i];
        bool bare = kp->len > 0;
        for (size_t j = 0; j < kp->len; j++) bare = bare && is_bare_key_char((unsigned char)kp->name[j]);
        int w = snprintf(out + o, outlen - o, bare ? "%s%.*s" : "%s\"%.*s\"", i ? "." : "", (int)kp->len, kp->name);
        if (w < 0) break;
        o += (size_t)w;
    }
    return out;
}

static int fail_defined(struct parser *p, const struct key *k, size_t i, const toml_value *old, const char *what) {
    char name[256];
    return fail_at(p, k->parts[i].pos, "%s '%s': already defined at %d:%d (%s)", what,
                   key_text(k, i, name, sizeof name), old->line, old->col, toml_type_name(old->type));
}

/* ---------------------------------------------------------------- numbers */

/* Digits of the given base, with single underscores allowed only between two digits. */
static int scan_digits(struct parser *p, int base, uint64_t *value, bool *overflow) {
    size_t start = p->pos;
    uint64_t v = 0;
    bool over = false;
    for (;;) {
        int c = peek(p), d = hex_value(c);
        if (c == '_') {
            if (p->pos == start || hex_value(peek_at(p, 1)) < 0 || hex_value(peek_at(p, 1)) >= base)
                return fail(p, "'_' in a number must be between two digits");
            p->pos++;
            continue;
        }
        if (d < 0 || d >= base) break;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) over = true;
        v = v * (uint64_t)base + (uint64_t)d;
        p->pos++;
    }
    if (p->pos == start) return fail_expected(p, base == 10 ? "a digit" : "a digit of the number's base");
    if (value) *value = v;
    if (overflow) *overflow = over;
    return 0;
}

/* inf/nan, 0x/0o/0b integers, decimal integers and floats. The whole token is checked, so "1.2.3" fails. */
static int parse_number(struct parser *p, toml_value *v) {
    size_t start = p->pos;
    int sign = peek(p);
    if (sign == '+' || sign == '-') p->pos++;
    if (starts_with(p, "inf")) {
        p->pos += 3;
        v->type = TOML_FLOAT;
        v->u.floating = sign == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (starts_with(p, "nan")) {
        p->pos += 3;
        v->type = TOML_FLOAT;
        v->u.floating = sign == '-' ? -NAN : NAN;
        return 0;
    }
    uint64_t mag;
    bool over;
    int radix = 0;
    if (peek(p) == '0' && (peek_at(p, 1) == 'x' || peek_at(p, 1) == 'o' || peek_at(p, 1) == 'b'))
        radix = peek_at(p, 1) == 'x' ? 16 : peek_at(p, 1) == 'o' ? 8 : 2;
    if (radix) {
        if (sign == '+' || sign == '-')
            return fail_at(p, start, "a sign is not allowed on hex, octal or binary integers");
        p->pos += 2;
        if (scan_digits(p, radix, &mag, &over) < 0) return -1;
        if (over || mag > INT64_MAX) return fail_at(p, start, "integer out of range: does not fit in 64 bits");
        v->type = TOML_INTEGER;
        v->u.integer = (int64_t)mag;
        return 0;
    }
    size_t int_start = p->pos;
    if (!is_digit(peek(p))) return fail_expected(p, "a number");
    if (scan_digits(p, 10, &mag, &over) < 0) return -1;
    if (p->src[int_start] == '0' && p->pos - int_start > 1)
        return fail_at(p, int_start, "leading zeros are not allowed in a decimal number");
    bool is_float = false;
    if (peek(p) == '.') {
        p->pos++;
        if (!is_digit(peek(p))) return fail_expected(p, "a digit after the decimal point");
        if (scan_digits(p, 10, NULL, NULL) < 0) return -1;
        is_float = true;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-') p->pos++;
        if (!is_digit(peek(p))) return fail_expected(p, "a digit in the exponent");
        if (scan_digits(p, 10, NULL, NULL) < 0) return -1;
        is_float = true;
    }
    if (!is_float) {
        uint64_t limit = sign == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (over || mag > limit) return fail_at(p, start, "integer out of range: does not fit in 64 bits");
        v->type = TOML_INTEGER;
        v->u.integer = sign == '-' ? (int64_t)(0 - mag) : (int64_t)mag;
        return 0;
    }
    char *digits = malloc(p->pos - start + 1); /* the text without underscores, for strtod */
    if (!digits) return oom(p);
    size_t n = 0;
    for (size_t i = start; i < p->pos; i++)
        if (p->src[i] != '_') digits[n++] = p->src[i];
    digits[n] = '\0';
    errno = 0;
    double d = strtod(digits, NULL); /* tickd never calls setlocale(), so the decimal point is '.' */
    free(digits);
    if (errno == ERANGE && isinf(d)) return fail_at(p, start, "float out of range");
    v->type = TOML_FLOAT;
    v->u.floating = d;
    return 0;
}

/* ---------------------------------------------------------------- dates and times */

/* Exactly n digits (no sign) into *out. */
static int fixed_digits(struct parser *p, int n, int *out, const char *what) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(peek_at(p, (size_t)i))) {
            char msg[64];
            snprintf(msg, sizeof msg, "%d digits for the %s", n, what);
            p->pos += (size_t)i;
            return fail_expected(p, msg);
        }
        v = v * 10 + peek_at(p, (size_t)i) - '0';
    }
    p->pos += (size_t)n;
    *out = v;
    return 0;
}

static int expect_char(struct parser *p, char c, const char *what) {
    if (peek(p) != c) return fail_expected(p, what);
    p->pos++;
    return 0;
}

static bool looks_like_date(const struct parser *p) {
    for (size_t i = 0; i < 4; i++)
        if (!is_digit(peek_at(p, i))) return false;
    return peek_at(p, 4) == '-';
}

static bool looks_like_time(const struct parser *p) {
    return is_digit(peek(p)) && is_digit(peek_at(p, 1)) && peek_at(p, 2) == ':';
}

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* HH:MM:SS with an optional fraction (seconds are required in TOML 1.0). */
static int parse_time(struct parser *p, struct toml_datetime *dt) {
    size_t start = p->pos;
    if (fixed_digits(p, 2, &dt->hour, "hour") < 0 || expect_char(p, ':', "':' after the hour") < 0 ||
        fixed_digits(p, 2, &dt->minute, "minute") < 0 || expect_char(p, ':', "':' and seconds after the minute") < 0 ||
        fixed_digits(p, 2, &dt->second, "second") < 0)
        return -1;
    if (dt->hour > 23) return fail_at(p, start, "hour %02d out of range: expected 00 to 23", dt->hour);
    if (dt->minute > 59) return fail_at(p, start + 3, "minute %02d out of range: expected 00 to 59", dt->minute);
    if (dt->second > 60) return fail_at(p, start + 6, "second %02d out of range: expected 00 to 60", dt->second);
    if (peek(p) != '.') return 0;
    p->pos++;
    if (!is_digit(peek(p))) return fail_expected(p, "a digit after '.' in the seconds");
    for (; is_digit(peek(p)); p->pos++) {
        if (dt->frac_digits == 9) continue; /* precision beyond nanoseconds is dropped */
        dt->nanosecond = dt->nanosecond * 10 + peek(p) - '0';
        dt->frac_digits++;
    }
    for (int i = dt->frac_digits; i < 9; i++) dt->nanosecond *= 10;
    return 0;
}

/* Z, z or +HH:MM / -HH:MM after a date-time; absent for a local date-time. */
static int parse_offset(struct parser *p, toml_value *v) {
    int c = peek(p);
    if (c == 'Z' || c == 'z') {
        p->pos++;
        v->type = TOML_DATETIME;
        v->u.datetime.offset_z = true;
        return 0;
    }
    if (c != '+' && c != '-') return 0;
    size_t start = p->pos++;
    int h, m;
    if (fixed_digits(p, 2, &h, "offset hour") < 0 || expect_char(p, ':', "':' in the offset") < 0 ||
        fixed_digits(p, 2, &m, "offset minute") < 0)
        return -1;
    if (h > 23 || m > 59) return fail_at(p, start, "offset %c%02d:%02d out of range", c, h, m);
    v->type = TOML_DATETIME;
    v->u.datetime.offset_minutes = (c == '-' ? -1 : 1) * (h * 60 + m);
    return 0;
}

/* A local time, or a date optionally followed by [Tt ]time and an offset. */
static int parse_datetime(struct parser *p, toml_value *v) {
    struct toml_datetime *dt = &v->u.datetime;
    size_t start = p->pos;
    if (!looks_like_date(p)) {
        v->type = TOML_TIME_LOCAL;
        return parse_time(p, dt);
    }
    if (fixed_digits(p, 4, &dt->year, "year") < 0 || expect_char(p, '-', "'-' after the year") < 0 ||
        fixed_digits(p, 2, &dt->month, "month") < 0 || expect_char(p, '-', "'-' after the month") < 0 ||
        fixed_digits(p, 2, &dt->day, "day") < 0)
        return -1;
    if (dt->month < 1 || dt->month > 12)
        return fail_at(p, start + 5, "month %02d out of range: expected 01 to 12", dt->month);
    if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
        return fail_at(p, start + 8, "day %02d out of range: %04d-%02d has %d days", dt->day, dt->year, dt->month,
                       days_in_month(dt->year, dt->month));
    v->type = TOML_DATE_LOCAL;
    int c = peek(p);
    /* a space separates date and time only when a time follows; otherwise it ends the value */
    if (c == 'T' || c == 't' || (c == ' ' && is_digit(peek_at(p, 1)))) {
        p->pos++;
        if (!looks_like_time(p)) return fail_expected(p, "a time (HH:MM:SS) after the date");
        if (parse_time(p, dt) < 0) return -1;
        v->type = TOML_DATETIME_LOCAL;
        return parse_offset(p, v);
    }
    return 0;
}

/* ---------------------------------------------------------------- arrays, inline tables, key/values */

static int insert_keyval(struct parser *p, toml_value *tab, struct key *k, toml_value *value);

static int enter(struct parser *p) {
    if (++p->depth > MAX_DEPTH) return fail_too_deep(p, p->pos);
    return 0;
}

/* '[' values separated by ',' (a trailing comma is allowed), with newlines and comments anywhere ']'. */
static int parse_array(struct parser *p, toml_value *arr) {
    arr->type = TOML_ARRAY;
    if (enter(p) < 0) return -1;
    p->pos++;
    for (;;) {
        if (skip_blank(p) < 0) return -1;
        if (peek(p) == ']') break;
        toml_value *item;
        if (parse_value(p, &item) < 0) return -1;
        if (array_push(p, arr, item) < 0) {
            toml_free(item);
            return -1;
        }
        if (skip_blank(p) < 0) return -1;
        if (peek(p) == ']') break;
        if (peek(p) != ',') return fail_expected(p, "',' or ']' after an array element");
        p->pos++;
    }
    p->pos++;
    p->depth--;
    return 0;
}

/* key = value, shared by the document and inline tables. */
static int parse_keyval(struct parser *p, toml_value *tab) {
    struct key k = {0};
    toml_value *value = NULL;
    int depth = p->depth;
    if (parse_key(p, &k, (size_t)(MAX_DEPTH - depth) + 1) < 0) goto fail;
    if (peek(p) != '=') {
        fail_expected(p, "'=' after the key");
        goto fail;
    }
    p->pos++;
    skip_ws(p);
    p->depth += (int)k.n - 1; /* the tables the dotted key makes */
    if (parse_value(p, &value) < 0) goto fail;
    p->depth = depth;
    if (insert_keyval(p, tab, &k, value) < 0) goto fail;
    key_clear(&k);
    return 0;
fail:
    toml_free(value);
    key_clear(&k);
    return -1;
}

/* '{' key = value pairs separated by ',' on one line '}'; no trailing comma. Closed once read. */
static int parse_inline_table(struct parser *p, toml_value *tab) {
    tab->type = TOML_TABLE;
    if (enter(p) < 0) return -1;
    p->pos++;
    skip_ws(p);
    if (peek(p) != '}') {
        for (;;) {
            if (parse_keyval(p, tab) < 0) return -1;
            skip_ws(p);
            if (peek(p) == '}') break;
            if (peek(p) != ',') return fail_expected(p, "',' or '}' after a key/value pair in an inline table");
            p->pos++;
            skip_ws(p);
            if (peek(p) == '}') return fail(p, "trailing comma: expected a key/value pair before '}'");
        }
    }
    p->pos++;
    p->depth--;
    freeze(tab);
    return 0;
}

static int parse_value(struct parser *p, toml_value **out) {
    int c = peek(p);
    toml_value *v = new_value(p, TOML_BOOL, p->pos); /* a type that owns no memory until the real one is known */
    if (!v) return oom(p);
    int rc;
    if (c == '"' || c == '\'') {
        struct buf b = {0};
        rc = parse_string(p, &b, true);
        v->type = TOML_STRING;
        v->u.str.ptr = b.data;
        v->u.str.len = b.len;
    } else if (starts_with(p, "true")) {
        v->type = TOML_BOOL;
        v->u.boolean = true;
        p->pos += 4;
        rc = 0;
    } else if (starts_with(p, "false")) {
        v->type = TOML_BOOL;
        p->pos += 5;
        rc = 0;
    } else if (c == '[') {
        rc = parse_array(p, v);
    } else if (c == '{') {
        rc = parse_inline_table(p, v);
    } else if (looks_like_date(p) || looks_like_time(p)) {
        rc = parse_datetime(p, v);
    } else if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n') {
        rc = parse_number(p, v);
    } else {
        rc = fail_expected(p, "a value (string, number, boolean, date-time, array or inline table)");
    }
    if (rc < 0) {
        toml_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

/* Stores value under a dotted key relative to tab, creating the intermediate tables. */
static int insert_keyval(struct parser *p, toml_value *tab, struct key *k, toml_value *value) {
    for (size_t i = 0; i + 1 < k->n; i++) {
        toml_value *sub = table_find(tab, k->parts[i].name, k->parts[i].len);
        if (!sub) {
            sub = add_table(p, tab, &k->parts[i], DEF_DOTTED);
            if (!sub) return -1;
        } else if (sub->type != TOML_TABLE || (sub->flags & (DEF_HEADER | DEF_FROZEN))) {
            return fail_defined(p, k, i, sub, "cannot add keys to");
        }
        sub->flags |= DEF_DOTTED;
        tab = sub;
    }
    const struct key_part *last = &k->parts[k->n - 1];
    toml_value *old = table_find(tab, last->name, last->len);
    if (old) return fail_defined(p, k, k->n - 1, old, "duplicate key");
    return table_add(p, tab, last, value);
}

/* ---------------------------------------------------------------- headers and the document */

/* The table a header's last key part goes into: the first parts are walked from the root, creating implicit
 * tables; an array of tables stands for its last element (one level more: *aot_levels counts them). NULL (error
 * recorded) on failure. */
static toml_value *header_parent(struct parser *p, toml_value *root, const struct key *k, int *aot_levels) {
    toml_value *tab = root;
    *aot_levels = 0;
    for (size_t i = 0; tab && i + 1 < k->n; i++) {
        toml_value *sub = table_find(tab, k->parts[i].name, k->parts[i].len);
        if (!sub) tab = add_table(p, tab, &k->parts[i], 0);
        else if (sub->type == TOML_ARRAY && (sub->flags & DEF_AOT))
            tab = sub->u.array.items[sub->u.array.len - 1], ++*aot_levels;
        else if (sub->type == TOML_TABLE && !(sub->flags & DEF_FROZEN)) tab = sub;
        else return fail_defined(p, k, i, sub, "cannot add a table to"), NULL;
    }
    return tab;
}

/* [a.b]: a new table, or one created implicitly by an earlier [a.b.c] that this header now defines. */
static toml_value *define_table(struct parser *p, toml_value *parent, const struct key *k) {
    const struct key_part *last = &k->parts[k->n - 1];
    toml_value *old = table_find(parent, last->name, last->len);
    if (!old) return add_table(p, parent, last, DEF_HEADER);
    if (old->type != TOML_TABLE || (old->flags & (DEF_HEADER | DEF_DOTTED | DEF_FROZEN)))
        return fail_defined(p, k, k->n - 1, old, "cannot define table"), NULL;
    old->flags |= DEF_HEADER;
    return old;
}

/* [[a.b]]: a new table appended to the array of tables a.b, which this creates when absent. */
static toml_value *append_table(struct parser *p, toml_value *parent, const struct key *k, size_t start) {
    const struct key_part *last = &k->parts[k->n - 1];
    toml_value *arr = table_find(parent, last->name, last->len);
    if (arr && (arr->type != TOML_ARRAY || !(arr->flags & DEF_AOT)))
        return fail_defined(p, k, k->n - 1, arr, "cannot append a table to"), NULL;
    if (!arr) {
        arr = new_value(p, TOML_ARRAY, last->pos);
        if (!arr) return oom(p), NULL;
        arr->flags = DEF_AOT;
        if (table_add(p, parent, last, arr) < 0) {
            free(arr);
            return NULL;
        }
    }
    toml_value *tab = new_value(p, TOML_TABLE, start);
    if (!tab) return oom(p), NULL;
    tab->flags = DEF_HEADER;
    if (array_push(p, arr, tab) < 0) {
        free(tab);
        return NULL;
    }
    return tab;
}

/* [a.b.c] or [[a.b.c]]: finds or creates the table that the following key/value pairs go into. */
static int parse_header(struct parser *p, toml_value *root, toml_value **current) {
    size_t start = p->pos;
    bool aot = peek_at(p, 1) == '[';
    p->pos += aot ? 2 : 1;
    struct key k = {0};
    int rc = -1, aot_levels;
    if (parse_key(p, &k, MAX_DEPTH) < 0) goto out;
    if (peek(p) != ']' || (aot && peek_at(p, 1) != ']')) {
        fail_expected(p, aot ? "']]' to close the array-of-tables header" : "']' to close the table header");
        goto out;
    }
    p->pos += aot ? 2 : 1;
    toml_value *parent = header_parent(p, root, &k, &aot_levels);
    if (parent && (int)k.n + aot_levels + aot > MAX_DEPTH) {
        fail_too_deep(p, start);
        goto out;
    }
    p->depth = (int)k.n + aot_levels + aot;
    toml_value *target = !parent ? NULL : aot ? append_table(p, parent, &k, start) : define_table(p, parent, &k);
    if (!target) goto out;
    target->line = p->line;
    target->col = current_column(p, start);
    *current = target;
    rc = expect_line_end(p, aot ? "an array-of-tables header" : "a table header");
out:
    key_clear(&k);
    return rc;
}

toml_value *toml_parse(const char *text, size_t len, char *err, size_t errlen) {
    struct parser p = {.src = text, .len = len, .line = 1, .col = 1, .err = err, .errlen = errlen};
    if (errlen) err[0] = '\0';
    if (check_utf8(&p) < 0) return NULL;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) p.pos = p.line_start = p.body = 3; /* byte order mark */
    toml_value *root = new_value(&p, TOML_TABLE, p.pos);
    if (!root) return oom(&p), NULL;
    toml_value *current = root;
    while (p.pos < p.len) {
        skip_ws(&p);
        int c = peek(&p);
        int rc;
        if (c < 0) break;
        if (c == '#' || at_newline(&p)) rc = expect_line_end(&p, "a comment");
        else if (c == '[') rc = parse_header(&p, root, &current);
        else if (c == '"' || c == '\'' || is_bare_key_char(c)) {
            rc = parse_keyval(&p, current);
            if (rc == 0) rc = expect_line_end(&p, "a value");
        } else if (c == '\r' || is_control(c)) rc = fail_control(&p, "here");
        else rc = fail_expected(&p, "a key, a [table] header or a comment");
        if (rc < 0) {
            toml_free(root);
            return NULL;
        }
    }
    return root;
}
