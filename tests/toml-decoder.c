/* toml-decoder -- toml-test's decoder interface for tickd's TOML parser.
 *
 * Reads a TOML document on stdin. Valid: prints its tagged JSON on stdout and exits 0.
 * Invalid: prints "LINE:COL: message" on stderr and exits 1. */
#include <stdio.h>
#include <stdlib.h>

#include "tickd/toml.h"
#include "tickd/toml_json.h"

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *data = malloc(cap);
    while (data) {
        n += fread(data + n, 1, cap - n, f);
        if (n < cap) break;
        char *bigger = realloc(data, cap *= 2);
        if (!bigger) free(data);
        data = bigger;
    }
    if (data && ferror(f)) {
        free(data);
        data = NULL;
    }
    *len = n;
    return data;
}

int main(void) {
    size_t len;
    char *text = read_all(stdin, &len);
    if (!text) {
        fprintf(stderr, "toml-decoder: cannot read stdin\n");
        return 1;
    }
    char err[512];
    toml_value *root = toml_parse(text, len, err, sizeof err);
    free(text);
    if (!root) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    json_t *json = toml_to_tagged_json(root);
    toml_free(root);
    int rc = json && json_dumpf(json, stdout, JSON_INDENT(2)) == 0 ? 0 : 1;
    if (rc) fprintf(stderr, "toml-decoder: out of memory\n");
    else putchar('\n');
    json_decref(json);
    return rc;
}
