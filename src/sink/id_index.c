/* id_index.c -- see id_index.h. */
#include "tickd/id_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int id_index_set(struct id_index *x, uint32_t id, void *item) {
    if (id >= ID_INDEX_MAX) return -ERANGE;
    if (id >= x->cap) {
        if (!item) return 0; /* nothing stored there anyway */
        size_t cap = x->cap ? x->cap : 64;
        while (cap <= id) cap *= 2;
        void **items = realloc(x->items, cap * sizeof *items);
        if (!items) return -ENOMEM;
        memset(items + x->cap, 0, (cap - x->cap) * sizeof *items);
        x->items = items;
        x->cap = cap;
    }
    x->items[id] = item;
    return 0;
}

void id_index_free(struct id_index *x) {
    free(x->items);
    x->items = NULL;
    x->cap = 0;
}
