/* tt.h -- the tiny unit-test runner every tests/unit/test_*.c uses.
 *
 *     static void test_something(void) { TT_ASSERT(x == 1); TT_ASSERT_STR(a, "b"); }
 *     int main(void) { TT_RUN(test_something); return tt_finish(); }
 *
 * A failed assertion reports file:line and ends the current test (the next TT_RUN goes on). The last line,
 * "# passed=N failed=M skipped=K", is what scripts/run-tests.sh adds up. TT_SKIP("why") marks a test skipped. */
#ifndef TT_H
#define TT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tt_passed, tt_failed, tt_skipped;
static jmp_buf tt_jmp;
static int tt_state; /* 0 ok, 1 failed, 2 skipped */

#define TT_FAIL(...)                                                                                       \
    do {                                                                                                   \
        fprintf(stderr, "    %s:%d: ", __FILE__, __LINE__);                                                \
        fprintf(stderr, __VA_ARGS__);                                                                      \
        fprintf(stderr, "\n");                                                                             \
        tt_state = 1;                                                                                      \
        longjmp(tt_jmp, 1);                                                                                \
    } while (0)

#define TT_ASSERT(cond)                                                                                    \
    do {                                                                                                   \
        if (!(cond)) TT_FAIL("assertion failed: %s", #cond);                                               \
    } while (0)

#define TT_ASSERT_INT(a, b)                                                                                \
    do {                                                                                                   \
        long long tt_a = (long long)(a), tt_b = (long long)(b);                                            \
        if (tt_a != tt_b) TT_FAIL("%s == %lld, expected %s == %lld", #a, tt_a, #b, tt_b);                  \
    } while (0)

#define TT_ASSERT_STR(a, b)                                                                                \
    do {                                                                                                   \
        const char *tt_a = (a), *tt_b = (b);                                                               \
        if (!tt_a || !tt_b || strcmp(tt_a, tt_b) != 0)                                                     \
            TT_FAIL("%s == \"%s\", expected \"%s\"", #a, tt_a ? tt_a : "(null)", tt_b ? tt_b : "(null)");  \
    } while (0)

#define TT_SKIP(...)                                                                                       \
    do {                                                                                                   \
        fprintf(stderr, "    skipped: ");                                                                  \
        fprintf(stderr, __VA_ARGS__);                                                                      \
        fprintf(stderr, "\n");                                                                             \
        tt_state = 2;                                                                                      \
        longjmp(tt_jmp, 1);                                                                                \
    } while (0)

#define TT_RUN(fn)                                                                                         \
    do {                                                                                                   \
        tt_state = 0;                                                                                      \
        if (setjmp(tt_jmp) == 0) fn();                                                                     \
        if (tt_state == 0) {                                                                               \
            tt_passed++;                                                                                   \
            fprintf(stderr, "ok   %s\n", #fn);                                                             \
        } else if (tt_state == 2) {                                                                        \
            tt_skipped++;                                                                                  \
            fprintf(stderr, "skip %s\n", #fn);                                                             \
        } else {                                                                                           \
            tt_failed++;                                                                                   \
            fprintf(stderr, "FAIL %s\n", #fn);                                                             \
        }                                                                                                  \
    } while (0)

static inline int tt_finish(void) {
    fprintf(stderr, "# passed=%d failed=%d skipped=%d\n", tt_passed, tt_failed, tt_skipped);
    return tt_failed ? 1 : 0;
}

/* ../shared beside the project, or $TICKD_SHARED; NULL when absent (tests then skip with a message). */
static inline const char *tt_shared_dir(void) {
    static char path[4096];
    const char *env = getenv("TICKD_SHARED");
    const char *cands[] = {env, "../shared", "../../shared"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        if (!cands[i]) continue;
        snprintf(path, sizeof path, "%s/venues/README.md", cands[i]);
        FILE *f = fopen(path, "r");
        if (f) {
            fclose(f);
            snprintf(path, sizeof path, "%s", cands[i]);
            return path;
        }
    }
    return NULL;
}

/* The path of a venue reference message: tests/venues/<rel> in the project (the examples ../shared lacks), else
 * ../shared/venues/<rel>. False when neither holds it; path then names the shared one, for the message. */
static inline bool tt_venue_path(const char *rel, char *path, size_t size) {
    const char *root = getenv("TICKD_ROOT");
    snprintf(path, size, "%s/tests/venues/%s", root ? root : ".", rel);
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        return true;
    }
    const char *shared = tt_shared_dir();
    snprintf(path, size, "%s/venues/%s", shared ? shared : "../shared", rel);
    f = fopen(path, "r");
    if (f) fclose(f);
    return f != NULL;
}

#endif
