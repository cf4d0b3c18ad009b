/* instr_map.c -- chained hash map of instruments; see instr_map.h.
 *
 * Looked up for every tick by each sink, so the hash reads 8 bytes at a time (venue and symbol are short:
 * two or three words) and the compare is a memcmp of known lengths with the NUL, not strcmp. */
#include "tickd/instr_map.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MIX_MUL 0x9e3779b97f4a7c15ull

/* Every input bit must reach the low bits the bucket index uses: symbols differ in a byte or two. */
static uint64_t mix(uint64_t h, uint64_t word) {
    h = (h ^ word) * MIX_MUL;
    return h ^ (h >> 32);
}

static uint64_t mix_text(uint64_t h, const char *s, size_t n) {
    uint64_t word;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&word, s, 8);
        h = mix(h, word);
    }
    word = 0;
    for (size_t i = 0; i < n; i++) word |= (uint64_t)(uint8_t)s[i] << (8 * i);
    return mix(h, word);
}

/* murmur3's 64-bit finalizer */
static uint64_t finish(uint64_t h) {
    h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
    h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

/* The lengths go in too: ("ab","c") and ("a","bc") hash apart. */
static uint32_t instr_hash(const char *venue, size_t venue_len, const char *symbol, size_t symbol_len) {
    uint64_t h = mix_text(mix(0, venue_len << 32 | symbol_len), venue, venue_len);
    return (uint32_t)finish(mix_text(h, symbol, symbol_len));
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
    size_t vl = strlen(venue), sl = strlen(symbol);
    if (vl >= TICK_VENUE_MAX || sl >= TICK_SYMBOL_MAX) return NULL; /* longer than any key held */
    uint32_t h = instr_hash(venue, vl, symbol, sl);
    for (struct instr_node *n = m->buckets[h & (m->nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && memcmp(n->venue, venue, vl + 1) == 0 && memcmp(n->symbol, symbol, sl + 1) == 0)
            return n;
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
    node->hash = instr_hash(node->venue, strlen(node->venue), node->symbol, strlen(node->symbol));
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
