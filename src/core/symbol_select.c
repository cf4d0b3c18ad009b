/* symbol_select.c -- names, patterns, exclusions and a bound resolved against a venue's names (symbol_select.h).
 *
 * Resolution sorts the venue's valid names once (skipped when they come sorted), then walks them in order: each is
 * tested against the patterns and, when one matches, against the excludes; membership in the group's names and in
 * the exclude names is a binary search in sorted copies. So 50,000 names against "*" cost one sort and 50,000
 * short matches. */
#define _GNU_SOURCE /* memmem, memrchr */
#include "tickd/symbol_select.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/tick.h"

_Static_assert(SYMBOL_TEXT_MAX == TICK_SYMBOL_MAX, "a resolved name must fit a tick's symbol");

#define STR_(x) #x
#define STR(x) STR_(x)

enum symbol_kind symbol_parse(const char *s, char *out, size_t outlen, const char **why) {
    const char *bad = NULL;
    size_t len = strnlen(s, SYMBOL_LEN_MAX + 1), dashes = 0, stars = 0;
    if (len == 0) bad = "empty";
    else if (len > SYMBOL_LEN_MAX || len + 1 > outlen) bad = "longer than " STR(SYMBOL_LEN_MAX) " characters";
    for (size_t i = 0; !bad && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '-') dashes++;
        else if (c == '*') {
            stars++;
            if (i > 0 && s[i - 1] == '*') bad = "two '*' in a row";
        } else if (!isalnum(c) || c > 0x7f) bad = "a character other than a letter, a digit, '-' or '*'";
        out[i] = (char)toupper(c);
    }
    if (!bad && dashes > 1) bad = "more than one dash";
    else if (!bad && (s[0] == '-' || s[len - 1] == '-')) bad = "a dash first or last";
    else if (!bad && !stars && !dashes) bad = "no dash";
    if (bad) {
        if (why) *why = bad;
        if (outlen) out[0] = 0;
        return SYMBOL_BAD;
    }
    out[len] = 0;
    return stars ? SYMBOL_PATTERN : SYMBOL_NAME;
}

bool symbol_is_name(const char *s) {
    size_t len = 0, dash = 0, dashes = 0;
    for (; s[len] && len <= SYMBOL_LEN_MAX; len++) {
        unsigned char c = (unsigned char)s[len];
        if (c == '-') dashes++, dash = len;
        else if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9')) return false;
    }
    return len <= SYMBOL_LEN_MAX && dashes == 1 && dash > 0 && dash < len - 1;
}

/* With stars only, matching is exact at both ends and leftmost in between: the text before the first star is a
 * prefix, the text after the last a suffix, and each run between stars may be taken at its first occurrence after
 * the previous one (a later one leaves less room for the rest, never more). */
bool symbol_match(const char *pattern, const char *name) {
    size_t pl = strlen(pattern), nl = strlen(name);
    const char *first = memchr(pattern, '*', pl);
    if (!first) return pl == nl && memcmp(pattern, name, pl) == 0;
    const char *last = memrchr(pattern, '*', pl);
    size_t head = (size_t)(first - pattern), tail = pl - (size_t)(last - pattern) - 1;
    if (head + tail > nl || memcmp(pattern, name, head) != 0 || memcmp(last + 1, name + nl - tail, tail) != 0)
        return false;
    const char *at = name + head, *end = name + nl - tail;
    for (const char *run = first + 1; run < last;) {
        const char *star = memchr(run, '*', (size_t)(last - run) + 1);
        size_t len = (size_t)(star - run);
        if (len) {
            const char *found = memmem(at, (size_t)(end - at), run, len);
            if (!found) return false;
            at = found + len;
        }
        run = star + 1;
    }
    return true;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static bool sorted_has(const char *const *v, size_t n, const char *s) {
    return n && bsearch(&s, v, n, sizeof *v, str_cmp) != NULL;
}

/* Copies the n strings of src into a new array, sorted and without repeats; *len gets how many. */
static const char **sorted_set(const char *const *src, size_t n, size_t *len) {
    const char **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    if (n) memcpy(v, src, n * sizeof *v);
    qsort(v, n, sizeof *v, str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(v[k - 1], v[i]) != 0) v[k++] = v[i];
    *len = k;
    return v;
}

struct at {
    const char *s;
    size_t i;
};

static int at_cmp(const void *a, const void *b) {
    const struct at *x = a, *y = b;
    int d = strcmp(x->s, y->s);
    return d ? d : (x->i > y->i) - (x->i < y->i);
}

/* For each of the n strings, whether an equal one comes before it. NULL without memory. */
static bool *find_repeats(const char *const *v, size_t n) {
    struct at *s = malloc((n ? n : 1) * sizeof *s);
    bool *rep = calloc(n ? n : 1, sizeof *rep);
    if (!s || !rep) {
        free(s);
        free(rep);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) s[i] = (struct at){v[i], i};
    qsort(s, n, sizeof *s, at_cmp);
    for (size_t k = 1; k < n; k++) rep[s[k].i] = strcmp(s[k - 1].s, s[k].s) == 0;
    free(s);
    return rep;
}

/* Sorts n names as strcmp orders them: by their first 8 bytes as one number (a shorter name padded with 0, so it
 * comes first, as in strcmp), in a radix sort of the 8 bytes, then each run of names with the same first 8 bytes by
 * strcmp. qsort by strcmp took twice as long over 50,000 names (bench/symbol_select); a venue's names rarely share
 * 8 bytes, and when they all do the runs are still sorted in O(n log n). */
struct keyed {
    uint64_t key;
    const char *s;
};

static int keyed_cmp(const void *a, const void *b) {
    return strcmp(((const struct keyed *)a)->s, ((const struct keyed *)b)->s);
}

static int sort_names(const char **v, size_t n) {
    struct keyed *k = malloc((n ? n : 1) * sizeof *k), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!k || !tmp) {
        free(k);
        free(tmp);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t key = 0;
        for (size_t j = 0, end = 0; j < 8; j++) {
            end = end || !v[i][j];
            key = key << 8 | (end ? 0u : (unsigned char)v[i][j]);
        }
        k[i] = (struct keyed){key, v[i]};
    }
    for (unsigned shift = 0; shift < 64; shift += 8) { /* least significant byte first, each pass stable */
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) count[(k[i].key >> shift & 0xff) + 1]++;
        if (n && count[(k[0].key >> shift & 0xff) + 1] == n) continue; /* one value: the pass changes nothing */
        for (size_t b = 1; b < 257; b++) count[b] += count[b - 1];
        for (size_t i = 0; i < n; i++) tmp[count[k[i].key >> shift & 0xff]++] = k[i];
        struct keyed *t = k;
        k = tmp, tmp = t;
    }
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && k[j].key == k[i].key; j++) continue;
        if (j - i > 1) qsort(k + i, j - i, sizeof *k, keyed_cmp);
    }
    for (size_t i = 0; i < n; i++) v[i] = k[i].s;
    free(k);
    free(tmp);
    return 0;
}

static bool any_match(const char *const *patterns, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (symbol_match(patterns[i], name)) return true;
    return false;
}

void symbol_resolution_free(struct symbol_resolution *r) {
    free(r->list);
    free(r->unlisted);
    *r = (struct symbol_resolution){0};
}

int symbol_resolve(const struct symbol_select *sel, const char *const *available, size_t n,
                   struct symbol_resolution *out) {
    *out = (struct symbol_resolution){0};
    const char **venue = malloc((n ? n : 1) * sizeof *venue);
    const char **names = NULL, **ex_names = malloc((sel->nexcludes ? sel->nexcludes : 1) * sizeof *ex_names);
    const char **ex_patterns = malloc((sel->nexcludes ? sel->nexcludes : 1) * sizeof *ex_patterns);
    size_t nvenue = 0, nnames = 0, nex_names = 0, nex_patterns = 0;
    bool *repeats = NULL;
    if (!venue || !ex_names || !ex_patterns) goto nomem;

    /* The venue's names, sorted, each once. A list that comes sorted is not sorted again. */
    bool in_order = true;
    for (size_t i = 0; i < n; i++) {
        if (!available[i] || !symbol_is_name(available[i])) continue;
        if (nvenue && in_order) in_order = strcmp(venue[nvenue - 1], available[i]) <= 0;
        venue[nvenue++] = available[i];
    }
    if (!in_order && sort_names(venue, nvenue) < 0) goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < nvenue; i++)
        if (k == 0 || strcmp(venue[k - 1], venue[i]) != 0) venue[k++] = venue[i];
    out->ignored = n - k;
    nvenue = k;

    for (size_t i = 0; i < sel->nexcludes; i++) {
        if (strchr(sel->excludes[i], '*')) ex_patterns[nex_patterns++] = sel->excludes[i];
        else ex_names[nex_names++] = sel->excludes[i];
    }
    qsort(ex_names, nex_names, sizeof *ex_names, str_cmp);
    if (!(names = sorted_set(sel->names, sel->nnames, &nnames))) goto nomem;
    if (nnames < sel->nnames && !(repeats = find_repeats(sel->names, sel->nnames))) goto nomem;

    out->list = malloc((sel->nnames + nvenue ? sel->nnames + nvenue : 1) * sizeof *out->list);
    out->unlisted = malloc((sel->nnames ? sel->nnames : 1) * sizeof *out->unlisted);
    if (!out->list || !out->unlisted) goto nomem;

    /* The group's names, in order, each once: the first of equal names is kept (found sorted, so a long list costs
     * O(n log n)). */
    for (size_t i = 0; i < sel->nnames; i++) {
        if (repeats && repeats[i]) continue;
        out->list[out->n++] = sel->names[i];
        if (!sorted_has(venue, nvenue, sel->names[i])) out->unlisted[out->nunlisted++] = i;
    }
    out->nnames = out->n;

    size_t room = sel->max == 0 ? SIZE_MAX : sel->max > out->n ? sel->max - out->n : 0;
    for (size_t i = 0; i < nvenue && sel->npatterns; i++) {
        const char *v = venue[i];
        if (!any_match(sel->patterns, sel->npatterns, v) || sorted_has(names, nnames, v)) continue;
        out->matched++;
        if (sorted_has(ex_names, nex_names, v) || any_match(ex_patterns, nex_patterns, v)) {
            out->excluded++;
        } else if (room) {
            out->list[out->n++] = v;
            room--;
        } else {
            if (!out->cut++) out->cut_first = v;
            out->cut_last = v;
        }
    }
    free(venue);
    free(names);
    free(ex_names);
    free(ex_patterns);
    free(repeats);
    return 0;
nomem:
    free(venue);
    free(names);
    free(ex_names);
    free(ex_patterns);
    free(repeats);
    symbol_resolution_free(out);
    return -ENOMEM;
}

/* ---- closest names ----------------------------------------------------------------------------------------- */

size_t symbol_distance(const char *a, const char *b, size_t bound) {
    size_t la = strnlen(a, SYMBOL_LEN_MAX + 1), lb = strnlen(b, SYMBOL_LEN_MAX + 1);
    if (la > SYMBOL_LEN_MAX || lb > SYMBOL_LEN_MAX) return SIZE_MAX;
    if (bound > SYMBOL_LEN_MAX) bound = SYMBOL_LEN_MAX;
    if ((la > lb ? la - lb : lb - la) > bound) return bound + 1;
    /* Three rows of the optimal string alignment table: d[i][j] of a[0..i) and b[0..j). A row whose every cell is
     * above bound ends the work: no later cell can come back under it (a swap from two rows up is never cheaper
     * than the match it implies in the row between). */
    unsigned char rows[3][SYMBOL_LEN_MAX + 1];
    unsigned char *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++) prev[j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        size_t low = (size_t)i;
        cur[0] = (unsigned char)i;
        for (size_t j = 1; j <= lb; j++) {
            size_t d = (size_t)prev[j - 1] + (a[i - 1] != b[j - 1]);
            if ((size_t)prev[j] + 1 < d) d = (size_t)prev[j] + 1;
            if ((size_t)cur[j - 1] + 1 < d) d = (size_t)cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && (size_t)prev2[j - 2] + 1 < d)
                d = (size_t)prev2[j - 2] + 1;
            cur[j] = (unsigned char)d;
            if (d < low) low = d;
        }
        if (low > bound) return bound + 1;
        unsigned char *t = prev2;
        prev2 = prev, prev = cur, cur = t;
    }
    return prev[lb] > bound ? bound + 1 : prev[lb];
}

size_t symbol_closest(const char *name, const char *const *available, size_t n, const char **out, size_t max) {
    struct {
        const char *name;
        size_t d;
    } best[SYMBOL_CLOSEST_MAX];
    size_t len = strnlen(name, SYMBOL_LEN_MAX + 1), nbest = 0;
    if (max > SYMBOL_CLOSEST_MAX) max = SYMBOL_CLOSEST_MAX;
    if (len > SYMBOL_LEN_MAX || max == 0) return 0;
    size_t limit = len / 3 < 1 ? 1 : len / 3 < SYMBOL_CLOSEST_DISTANCE ? len / 3 : SYMBOL_CLOSEST_DISTANCE;
    for (size_t i = 0; i < n; i++) {
        const char *v = available[i];
        if (!v || !symbol_is_name(v)) continue;
        /* While the list is full, a candidate must beat its last: be nearer, or as near and first by name. */
        size_t bound = nbest == max ? best[max - 1].d : limit;
        size_t d = symbol_distance(name, v, bound);
        if (d > bound) continue;
        if (nbest == max && d == bound && strcmp(v, best[max - 1].name) >= 0) continue;
        size_t at = nbest < max ? nbest++ : max - 1;
        while (at > 0 && (best[at - 1].d > d || (best[at - 1].d == d && strcmp(best[at - 1].name, v) > 0))) {
            best[at] = best[at - 1];
            at--;
        }
        best[at].name = v;
        best[at].d = d;
    }
    for (size_t i = 0; i < nbest; i++) out[i] = best[i].name;
    return nbest;
}
