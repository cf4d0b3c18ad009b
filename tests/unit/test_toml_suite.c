/* toml-test 1.0.0 conformance, in process: every file listed in <shared>/toml-test/tests/files-toml-1.0.0.
 *
 * valid/X.toml must parse and its tagged JSON must equal valid/X.json the way toml-test compares: same keys
 * and types, integers and floats numerically (nan equals nan), date-times as the same instant and precision.
 * invalid/X.toml must be rejected. Each failing file is one line on stderr; the figures are printed as
 * "toml-test 1.0.0: valid A/210, invalid B/499". One test per category, failing unless every file passes. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/toml.h"
#include "tickd/toml_json.h"
#include "tt.h"

struct tally {
    int passed, total;
};

static struct tally valid_tally, invalid_tally;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        data = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
        if (data) data[n] = '\0', *len = (size_t)n;
    }
    fclose(f);
    return data;
}

/* ---------------------------------------------------------------- comparison as toml-test does it */

/* jansson cannot load a NUL inside an object key, which valid/key/quoted-unicode.json has. Every \u0000 escape
 * of an expected file is therefore read as U+F8FF (private use, in no test file) and turned back into NUL
 * before it is compared. */
#define NUL_ESCAPE "\\u0000"
#define NUL_STANDIN_ESCAPE "\\uF8FF"
#define NUL_STANDIN "\xEF\xA3\xBF"

static void hide_nul_escapes(char *json) {
    for (char *s = json; *s; s++) {
        if (*s != '\\') continue;
        if (strncmp(s, NUL_ESCAPE, 6) == 0) memcpy(s, NUL_STANDIN_ESCAPE, 6);
        if (*++s == '\0') break; /* skip the escaped character: in \\u0000 the u0000 is text */
    }
}

/* Copies s into out (at least len + 1 bytes) with the stand-ins turned back into NUL; returns the new length. */
static size_t restore_nul(const char *s, size_t len, char *out) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (i + 3 <= len && memcmp(s + i, NUL_STANDIN, 3) == 0) {
            out[n++] = '\0';
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return n;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* An RFC 3339 date, time or date-time as (seconds, nanoseconds); an offset shifts it to UTC. */
static bool instant_of(const char *s, long long *secs, long *nanos) {
    int y = 1970, mo = 1, d = 1, h = 0, mi = 0, sec = 0, n = 0;
    *secs = 0;
    *nanos = 0;
    if (strlen(s) >= 10 && s[4] == '-') {
        if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) return false;
        s += n;
        if (*s == '\0') goto done;
        if (*s != 'T' && *s != 't' && *s != ' ') return false;
        s++;
    }
    if (sscanf(s, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3) return false;
    s += n;
    if (*s == '.') {
        long scale = 100000000;
        for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10) *nanos += (*s - '0') * scale;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int oh, om;
        if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2) return false;
        *secs -= (*s == '-' ? -1 : 1) * (oh * 3600LL + om * 60);
        s += 1 + n;
    }
    if (*s != '\0') return false;
done:
    *secs += days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600LL + mi * 60 + sec;
    return true;
}

static bool same_scalar(const char *type, const char *want, const char *got, size_t want_len, size_t got_len) {
    if (strcmp(type, "integer") == 0) return strtoll(want, NULL, 10) == strtoll(got, NULL, 10);
    if (strcmp(type, "float") == 0) {
        double a = strtod(want, NULL), b = strtod(got, NULL);
        return (isnan(a) && isnan(b)) || a == b;
    }
    if (strncmp(type, "date", 4) == 0 || strcmp(type, "time-local") == 0) {
        long long sa, sb;
        long na, nb;
        return instant_of(want, &sa, &na) && instant_of(got, &sb, &nb) && sa == sb && na == nb;
    }
    char *plain = malloc(want_len + 1);
    bool same = plain && restore_nul(want, want_len, plain) == got_len && memcmp(plain, got, got_len) == 0;
    free(plain);
    return same;
}

/* A leaf is {"type": "<string>", "value": "<string>"}; a table with such keys has objects as their values. */
static bool is_leaf(const json_t *j) {
    return json_is_object(j) && json_object_size(j) == 2 && json_is_string(json_object_get(j, "type")) &&
           json_is_string(json_object_get(j, "value"));
}

/* Compares want and got; on a difference writes "at PATH: ..." into why. */
static bool same_json(const json_t *want, const json_t *got, const char *path, char *why, size_t whylen) {
    char sub[1024];
    if (is_leaf(want)) {
        const char *wt = json_string_value(json_object_get(want, "type"));
        const json_t *wv = json_object_get(want, "value");
        const char *gt = is_leaf(got) ? json_string_value(json_object_get(got, "type")) : "(not a value)";
        const json_t *gv = is_leaf(got) ? json_object_get(got, "value") : NULL;
        if (strcmp(wt, gt) == 0 && same_scalar(wt, json_string_value(wv), json_string_value(gv),
                                               json_string_length(wv), json_string_length(gv)))
            return true;
        snprintf(why, whylen, "at %s: expected %s %s, got %s %s", path, wt, json_string_value(wv), gt,
                 gv ? json_string_value(gv) : "");
        return false;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(got) != json_array_size(want)) {
            snprintf(why, whylen, "at %s: expected an array of %zu elements", path, json_array_size(want));
            return false;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (!same_json(json_array_get(want, i), json_array_get(got, i), sub, why, whylen)) return false;
        }
        return true;
    }
    if (!json_is_object(got) || is_leaf(got) || json_object_size(got) != json_object_size(want)) {
        snprintf(why, whylen, "at %s: expected a table of %zu keys", path, json_object_size(want));
        return false;
    }
    const char *key;
    size_t key_len;
    json_t *value;
    json_object_keylen_foreach((json_t *)want, key, key_len, value) {
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        char *plain = malloc(key_len + 1);
        const json_t *other = plain ? json_object_getn(got, plain, restore_nul(key, key_len, plain)) : NULL;
        free(plain);
        if (!other) {
            snprintf(why, whylen, "at %s: key missing", sub);
            return false;
        }
        if (!same_json(value, other, sub, why, whylen)) return false;
    }
    return true;
}

/* ---------------------------------------------------------------- one file */

/* Returns true when the file behaves as its category demands; otherwise prints why. */
static bool check_file(const char *dir, const char *name) {
    char path[8192], err[512], why[2048] = "";
    size_t len;
    bool valid = strncmp(name, "valid/", 6) == 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = read_file(path, &len);
    if (!text) {
        fprintf(stderr, "FAIL %s: cannot read %s\n", name, path);
        return false;
    }
    toml_value *root = toml_parse(text, len, err, sizeof err);
    free(text);
    if (!valid) {
        if (root) fprintf(stderr, "FAIL %s: accepted, expected an error\n", name);
        toml_free(root);
        return root == NULL;
    }
    if (!root) {
        fprintf(stderr, "FAIL %s: rejected: %s\n", name, err);
        return false;
    }
    memcpy(strrchr(path, '.'), ".json", 5); /* the name ends in .toml: same length */
    json_error_t jerr;
    char *want_text = read_file(path, &len);
    if (!want_text) {
        fprintf(stderr, "FAIL %s: cannot read %s\n", name, path);
        toml_free(root);
        return false;
    }
    hide_nul_escapes(want_text);
    json_t *want = json_loads(want_text, JSON_ALLOW_NUL, &jerr);
    free(want_text);
    json_t *got = toml_to_tagged_json(root);
    toml_free(root);
    bool same = want && got && same_json(want, got, "$", why, sizeof why);
    if (!want) fprintf(stderr, "FAIL %s: cannot load expected JSON: %s\n", name, jerr.text);
    else if (!same) fprintf(stderr, "FAIL %s: %s\n", name, why);
    json_decref(want);
    json_decref(got);
    return same;
}

/* Runs every listed file of one category ("valid/" or "invalid/") and counts them. */
static void run_category(const char *prefix, struct tally *t) {
    const char *shared = tt_shared_dir();
    if (!shared) TT_SKIP("../shared (toml-test data) not found; set TICKD_SHARED to run the conformance suite");
    char dir[4200], list[4300], line[1024];
    snprintf(dir, sizeof dir, "%s/toml-test/tests", shared);
    snprintf(list, sizeof list, "%s/files-toml-1.0.0", dir);
    FILE *f = fopen(list, "r");
    if (!f) TT_SKIP("%s not found", list);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t n = strlen(line);
        if (strncmp(line, prefix, strlen(prefix)) != 0 || n < 5 || strcmp(line + n - 5, ".toml") != 0) continue;
        t->total++;
        if (check_file(dir, line)) t->passed++;
    }
    fclose(f);
    TT_ASSERT(t->total > 0);
    TT_ASSERT_INT(t->passed, t->total);
}

static void test_toml_test_valid(void) { run_category("valid/", &valid_tally); }

static void test_toml_test_invalid(void) { run_category("invalid/", &invalid_tally); }

int main(void) {
    TT_RUN(test_toml_test_valid);
    TT_RUN(test_toml_test_invalid);
    if (valid_tally.total || invalid_tally.total)
        printf("toml-test 1.0.0: valid %d/%d, invalid %d/%d\n", valid_tally.passed, valid_tally.total,
               invalid_tally.passed, invalid_tally.total);
    else
        printf("toml-test 1.0.0: not run (no ../shared/toml-test)\n");
    fflush(stdout);
    return tt_finish();
}
