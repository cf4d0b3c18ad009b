/* json_arena.c -- jansson's allocations for one parsed frame come from a bump arena instead of malloc.
 *
 * Parsing a 250-byte frame makes jansson allocate a dozen small blocks (the object, its hashtable buckets,
 * every string and number) and free them all at json_decref a microsecond later. Here they are carved from a
 * per-thread buffer that is simply rewound before the next frame.
 *
 * jansson's hooks (json_set_alloc_funcs) are process-wide, so they must be right for every thread and every
 * caller, not only the adapters: outside an arena scope (another thread, the config loader) they are plain
 * malloc and free. Inside one, a block that does not fit falls back to malloc. A block is recognised as the
 * arena's by its address, and the arena is thread-local, so no lock is needed. The one rule: a json_t made
 * inside a scope must be released inside it, on the same thread (venue_parse_frame / venue_parse_answer
 * decref the root before returning, and the adapters copy out what they keep). */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#include "adapter.h"

#define ARENA_SIZE (64 * 1024) /* a bookTicker frame needs under 2 KiB; REST answers spill to malloc */

struct arena {
    _Alignas(16) char buf[ARENA_SIZE];
    size_t used;
    int depth; /* > 0 inside a scope */
};

static __thread struct arena arena;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *arena_malloc(size_t n) {
    struct arena *a = &arena;
    if (a->depth > 0) {
        size_t need = (n + 15) & ~(size_t)15;
        if (need >= n && need <= ARENA_SIZE - a->used) {
            void *p = a->buf + a->used;
            a->used += need;
            return p;
        }
    }
    return malloc(n);
}

static void arena_free(void *p) {
    struct arena *a = &arena;
    if ((char *)p >= a->buf && (char *)p < a->buf + ARENA_SIZE) return; /* rewound at the scope's end */
    free(p);
}

static void install_hooks(void) { json_set_alloc_funcs(arena_malloc, arena_free); }

void venue_arena_begin(void) {
    pthread_once(&hooks_once, install_hooks);
    if (arena.depth++ == 0) arena.used = 0;
}

void venue_arena_end(void) {
    if (--arena.depth == 0) arena.used = 0;
}
