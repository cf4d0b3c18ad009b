/* fuzz_toml.c -- the TOML parser on arbitrary bytes: toml_parse, a walk of the tree it returns, toml_free.
 *
 * The text is copied to a buffer of exactly its length (toml_parse takes a length, not a C string), so a
 * read past the end is an ASan report. A failed parse must say where: "LINE:COL: ...". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/toml.h"

static void die(const char *what) {
    fprintf(stderr, "fuzz_toml: %s\n", what);
    abort();
}

/* Visits every value the way config.c reads them: by key through toml_get, by index through arrays. The
 * walk is iterative, so a deep tree tests the parser's depth limit, not this stack. */
static void walk(const toml_value *root) {
    const toml_value *stack[256];
    size_t n = 0;
    stack[n++] = root;
    while (n) {
        const toml_value *v = stack[--n];
        if (v->line < 1 || v->col < 1) die("value without a position");
        if (v->type == TOML_TABLE) {
            for (size_t i = 0; i < v->u.table.len; i++) {
                const struct toml_keyval *kv = &v->u.table.items[i];
                if (kv->key[kv->key_len] != 0) die("key not NUL-terminated");
                /* A key with a NUL inside cannot be looked up by C string; the others must be found. */
                if (strlen(kv->key) == kv->key_len && !toml_get(v, kv->key)) die("toml_get misses a key");
                if (n < sizeof stack / sizeof stack[0]) stack[n++] = kv->value;
            }
        } else if (v->type == TOML_ARRAY) {
            for (size_t i = 0; i < v->u.array.len && n < sizeof stack / sizeof stack[0]; i++) stack[n++] = v->u.array.items[i];
        } else if (v->type == TOML_STRING) {
            if (v->u.str.ptr[v->u.str.len] != 0) die("string not NUL-terminated");
        }
        (void)toml_type_name(v->type);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    char err[256] = "";
    toml_value *root = toml_parse(text, size, err, sizeof err);
    if (root) {
        if (root->type != TOML_TABLE) die("the root is not a table");
        walk(root);
        toml_free(root);
    } else {
        int line, col;
        if (sscanf(err, "%d:%d:", &line, &col) != 2 || line < 1 || col < 1) {
            fprintf(stderr, "error text: %s\n", err);
            die("a parse error without LINE:COL");
        }
    }
    free(text);
    return 0;
}
