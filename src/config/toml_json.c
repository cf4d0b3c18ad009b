/* toml_json.c -- a TOML tree as toml-test's tagged JSON: the decoder's output and what the conformance test
 * compares with the suite's expected .json files. Kept apart from toml.c so the parser needs no jansson. */
#include "tickd/toml_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *tag_of(enum toml_type t) {
    switch (t) {
    case TOML_STRING: return "string";
    case TOML_INTEGER: return "integer";
    case TOML_FLOAT: return "float";
    case TOML_BOOL: return "bool";
    case TOML_DATETIME: return "datetime";
    case TOML_DATETIME_LOCAL: return "datetime-local";
    case TOML_DATE_LOCAL: return "date-local";
    case TOML_TIME_LOCAL: return "time-local";
    default: return NULL;
    }
}

/* The shortest decimal text that reads back as the same double. */
static void format_float(double d, char *out, size_t outlen) {
    if (isnan(d)) {
        snprintf(out, outlen, "nan");
        return;
    }
    if (isinf(d)) {
        snprintf(out, outlen, d < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, outlen, "%.*g", prec, d);
        if (strtod(out, NULL) == d) return;
    }
}

/* RFC 3339 text with the fraction written to the precision the document used. */
static void format_datetime(enum toml_type t, const struct toml_datetime *dt, char *out, size_t outlen) {
    size_t n = 0;
    if (t != TOML_TIME_LOCAL) n += (size_t)snprintf(out, outlen, "%04d-%02d-%02d", dt->year, dt->month, dt->day);
    if (t == TOML_DATE_LOCAL) return;
    if (t != TOML_TIME_LOCAL) out[n++] = 'T';
    n += (size_t)snprintf(out + n, outlen - n, "%02d:%02d:%02d", dt->hour, dt->minute, dt->second);
    if (dt->frac_digits) {
        int frac = dt->nanosecond;
        for (int i = dt->frac_digits; i < 9; i++) frac /= 10;
        n += (size_t)snprintf(out + n, outlen - n, ".%0*d", dt->frac_digits, frac);
    }
    if (t != TOML_DATETIME) return;
    if (dt->offset_z) {
        snprintf(out + n, outlen - n, "Z");
        return;
    }
    int off = dt->offset_minutes < 0 ? -dt->offset_minutes : dt->offset_minutes;
    snprintf(out + n, outlen - n, "%c%02d:%02d", dt->offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
}

static json_t *tagged(const char *type, json_t *value) {
    return value ? json_pack("{s:s, s:o}", "type", type, "value", value) : NULL;
}

json_t *toml_to_tagged_json(const toml_value *v) {
    char text[64];
    json_t *out;
    switch (v->type) {
    case TOML_TABLE:
        out = json_object();
        for (size_t i = 0; out && i < v->u.table.len; i++) {
            const struct toml_keyval *kv = &v->u.table.items[i];
            if (json_object_setn_new(out, kv->key, kv->key_len, toml_to_tagged_json(kv->value)) < 0) {
                json_decref(out);
                out = NULL;
            }
        }
        return out;
    case TOML_ARRAY:
        out = json_array();
        for (size_t i = 0; out && i < v->u.array.len; i++) {
            if (json_array_append_new(out, toml_to_tagged_json(v->u.array.items[i])) < 0) {
                json_decref(out);
                out = NULL;
            }
        }
        return out;
    case TOML_STRING:
        return tagged("string", json_stringn(v->u.str.ptr, v->u.str.len));
    case TOML_INTEGER:
        snprintf(text, sizeof text, "%" PRId64, v->u.integer);
        break;
    case TOML_FLOAT:
        format_float(v->u.floating, text, sizeof text);
        break;
    case TOML_BOOL:
        snprintf(text, sizeof text, "%s", v->u.boolean ? "true" : "false");
        break;
    default:
        format_datetime(v->type, &v->u.datetime, text, sizeof text);
        break;
    }
    return tagged(tag_of(v->type), json_string(text));
}
