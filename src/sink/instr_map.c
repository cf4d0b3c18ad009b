/* instr_map.c -- chained hash map of instruments; see instr_map.h. FNV-1a over "venue\0symbol". */
#include "tickd/instr_map.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static uint32_t instr_hash(const char *venue, const char *symbol) {
    uint32_t h = 2166136261u;
    for (const char *p = venue; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ 0xffu) * 16777619u; /* separator: ("ab","c") and ("a","bc") hash apart */
    for (const char *p = symbol; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

int instr_map_init(struct instr_map *m, size_t expected) {
    size_t n = 16;
    while (n < expected) n <<= 1;
    m->buckets = calloc(n, sizeof *m->buckets);
    if (!m->buckets) return -ENOMEM;
    m->nbuckets = n;
    m->count = 0;
    return 0;
}

void instr_map_destroy(struct instr_map *m) {
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}

struct instr_node *instr_map_find(const struct instr_map *m, const char *venue, const char *symbol) {
    uint32_t h = instr_hash(venue, symbol);
    for (struct instr_node *n = m->buckets[h & (m->nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && strcmp(n->venue, venue) == 0 && strcmp(n->symbol, symbol) == 0) return n;
    return NULL;
}

/* Doubles the bucket array when the chains would get long; a failed grow only costs speed. */
static void instr_map_grow(struct instr_map *m) {
    size_t n = m->nbuckets * 2;
    struct instr_node **b = calloc(n, sizeof *b);
    if (!b) return;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct instr_node *node = m->buckets[i], *next;
        for (; node; node = next) {
            next = node->next;
            node->next = b[node->hash & (n - 1)];
            b[node->hash & (n - 1)] = node;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void instr_map_insert(struct instr_map *m, struct instr_node *node, const char *venue, const char *symbol) {
    if (m->count >= m->nbuckets) instr_map_grow(m);
    snprintf(node->venue, sizeof node->venue, "%s", venue);
    snprintf(node->symbol, sizeof node->symbol, "%s", symbol);
    node->hash = instr_hash(node->venue, node->symbol);
    struct instr_node **head = &m->buckets[node->hash & (m->nbuckets - 1)];
    node->next = *head;
    *head = node;
    m->count++;
}

void instr_map_remove(struct instr_map *m, struct instr_node *node) {
    struct instr_node **p = &m->buckets[node->hash & (m->nbuckets - 1)];
    while (*p && *p != node) p = &(*p)->next;
    if (!*p) return;
    *p = node->next;
    node->next = NULL;
    m->count--;
}

struct instr_node *instr_map_next(const struct instr_map *m, size_t *cursor, struct instr_node **next) {
    struct instr_node *n = *next;
    while (!n && *cursor < m->nbuckets) n = m->buckets[(*cursor)++];
    *next = n ? n->next : NULL;
    return n;
}
