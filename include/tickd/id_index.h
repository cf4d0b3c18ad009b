/* id_index.h -- a sink's records indexed by the merge's dense ids (merge.h: quote_id, bbo_id).
 *
 * The sinks keep one record per instrument in a map keyed by name (instr_map.h). Hashing venue and symbol for
 * every tick cost more than the sinks' own work, so a sink also keeps its records in an array indexed by the
 * id the merge hands out with each accepted tick: one load instead of a hash and a compare. NULL means "no
 * record known for this id yet": the caller then finds or makes the record by name and stores it here.
 * The array grows on demand; a failed grow (no memory, an id beyond ID_INDEX_MAX) only costs speed, since the
 * name path still works. Stores pointers only: the records belong to the caller. Not thread-safe. */
#ifndef TICKD_ID_INDEX_H
#define TICKD_ID_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define ID_INDEX_MAX (1u << 24) /* ids are dense (one per instrument): far beyond any config */

struct id_index {
    void **items;
    size_t cap;
};

static inline void *id_index_get(const struct id_index *x, uint32_t id) {
    return id < x->cap ? x->items[id] : NULL;
}

/* Stores item (NULL to forget) at id. Returns 0, -ERANGE (id >= ID_INDEX_MAX) or -ENOMEM. */
int id_index_set(struct id_index *x, uint32_t id, void *item);

/* Frees the array (not the records); x is empty again. */
void id_index_free(struct id_index *x);

#endif
