/* instr_map.h -- a small intrusive hash map keyed by instrument (venue, symbol).
 *
 * The sinks keep one record per instrument (the latest tick waiting for Redis, the tick waiting for or in
 * flight to RabbitMQ), so their memory is bounded by the number of instruments, never by the tick rate.
 * The record embeds a struct instr_node (first member, or reached with container_of); the map never
 * allocates or frees records, only its bucket array. Not thread-safe: the owner locks if it needs to. */
#ifndef TICKD_INSTR_MAP_H
#define TICKD_INSTR_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "tickd/tick.h"

struct instr_node {
    struct instr_node *next; /* bucket chain */
    uint32_t hash;
    char venue[TICK_VENUE_MAX];
    char symbol[TICK_SYMBOL_MAX];
};

struct instr_map {
    struct instr_node **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
};

/* Returns 0 or -ENOMEM. */
int instr_map_init(struct instr_map *m, size_t expected);
/* Frees the buckets only; the records belong to the caller (walk them first with instr_map_next). */
void instr_map_destroy(struct instr_map *m);

struct instr_node *instr_map_find(const struct instr_map *m, const char *venue, const char *symbol);
/* Copies the key into node and links it; the key must not be present. */
void instr_map_insert(struct instr_map *m, struct instr_node *node, const char *venue, const char *symbol);
void instr_map_remove(struct instr_map *m, struct instr_node *node);

/* Iteration: start with *cursor = 0 and node = NULL; returns NULL at the end. Removing the returned node
 * during the walk is allowed. */
struct instr_node *instr_map_next(const struct instr_map *m, size_t *cursor, struct instr_node **next);

#endif
