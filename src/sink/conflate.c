/* conflate.c -- the bounded conflating buffer between the loop and the publisher thread; see conflate.h.
 *
 * Records live in an instr_map; the ones with a tick waiting form a FIFO (intrusive list) so instruments are
 * published in the order they first became waiting. Published ticks are remembered in a ring of
 * (tag, record) in tag order, which is the order confirms refer to. A record is freed once nothing waits,
 * nothing is in flight and no ring entry names it; then its id (if it had one) is forgotten too, and the next
 * put of that id finds or makes a record by name again.
 *
 * A record holds its ticks packed (tick.h; venue and symbol are the map key): about 330 bytes an instrument
 * instead of 670. Moving a tick between waiting and in flight swaps the two packed ticks, so each keeps
 * owning its own spill buffer. */
#include "tickd/conflate.h"

#include <pthread.h>
#include <stdlib.h>

#include "tickd/id_index.h"
#include "tickd/instr_map.h"

#define NO_ID UINT32_MAX

struct slot {
    struct instr_node node; /* first: the map hands back this pointer */
    struct tick_packed waiting, inflight;
    bool has_waiting, has_inflight;
    uint64_t inflight_tag; /* tag of the newest published tick of this instrument */
    unsigned refs;         /* ring entries naming this record */
    uint32_t id;           /* its place in conflate.ids, or NO_ID when put by name only */
    struct slot *queue_next;
};

struct flight {
    uint64_t tag;
    struct slot *slot;
    bool settled;
};

struct conflate {
    pthread_mutex_t mu;
    struct instr_map map;
    struct id_index ids; /* the records again, by the caller's instrument ids (conflate_put_id) */
    size_t limit;
    struct slot *queue_head, *queue_tail;
    size_t waiting;
    struct flight *ring;
    size_t ring_cap, ring_head, ring_len, unsettled;
    uint64_t replaced, dropped, requeued;
};

static void slot_free(struct slot *s) {
    tick_packed_free(&s->waiting);
    tick_packed_free(&s->inflight);
    free(s);
}

static void swap_ticks(struct slot *s) {
    struct tick_packed t = s->waiting;
    s->waiting = s->inflight;
    s->inflight = t;
}

struct conflate *conflate_new(size_t limit, size_t max_inflight) {
    struct conflate *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (limit == 0) limit = 1;
    if (max_inflight == 0) max_inflight = 1;
    c->limit = limit;
    c->ring_cap = max_inflight;
    c->ring = calloc(max_inflight, sizeof *c->ring);
    if (!c->ring) goto fail_ring;
    if (instr_map_init(&c->map, limit < 4096 ? limit : 4096) < 0) goto fail_map;
    if (pthread_mutex_init(&c->mu, NULL) != 0) goto fail_mutex;
    return c;
fail_mutex:
    instr_map_destroy(&c->map);
fail_map:
    free(c->ring);
fail_ring:
    free(c);
    return NULL;
}

void conflate_free(struct conflate *c) {
    if (!c) return;
    size_t cursor = 0;
    struct instr_node *n, *next = NULL;
    while ((n = instr_map_next(&c->map, &cursor, &next))) slot_free((struct slot *)n);
    instr_map_destroy(&c->map);
    id_index_free(&c->ids);
    free(c->ring);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void enqueue(struct conflate *c, struct slot *s) {
    s->queue_next = NULL;
    if (c->queue_tail) c->queue_tail->queue_next = s;
    else c->queue_head = s;
    c->queue_tail = s;
    c->waiting++;
}

static struct slot *dequeue(struct conflate *c) {
    struct slot *s = c->queue_head;
    if (!s) return NULL;
    c->queue_head = s->queue_next;
    if (!c->queue_head) c->queue_tail = NULL;
    c->waiting--;
    return s;
}

static void release_if_empty(struct conflate *c, struct slot *s) {
    if (s->has_waiting || s->has_inflight || s->refs) return;
    if (s->id != NO_ID) id_index_set(&c->ids, s->id, NULL);
    instr_map_remove(&c->map, &s->node);
    slot_free(s);
}

/* Under the mutex: t becomes the waiting tick of record s, found by the caller (NULL: not held yet, make it
 * unless the buffer is full). A record made or found here is stored under id unless id is NO_ID. */
static enum conflate_put_result put_locked(struct conflate *c, struct slot *s, uint32_t id, const struct tick *t) {
    bool is_new = !s;
    if (is_new && c->map.count < c->limit && (s = calloc(1, sizeof *s))) {
        tick_packed_init(&s->waiting);
        tick_packed_init(&s->inflight);
        s->id = NO_ID;
    }
    /* Packing fails only when a long tick finds no memory for its spill buffer: refused like a full buffer. */
    if (!s || tick_pack(&s->waiting, t) < 0) {
        if (is_new && s) slot_free(s);
        c->dropped++;
        return CONFLATE_FULL;
    }
    if (is_new) instr_map_insert(&c->map, &s->node, t->venue, t->symbol);
    if (id != NO_ID && s->id != id) {
        if (s->id != NO_ID) id_index_set(&c->ids, s->id, NULL); /* one id per record: the newest wins */
        /* A failed grow only costs the next put a lookup; the record just is not found by id. */
        s->id = id_index_set(&c->ids, id, s) == 0 ? id : NO_ID;
    }
    if (s->has_waiting) {
        c->replaced++;
        return CONFLATE_REPLACED;
    }
    enum conflate_put_result res = c->waiting == 0 ? CONFLATE_WAKE : CONFLATE_ADDED;
    s->has_waiting = true;
    enqueue(c, s);
    return res;
}

enum conflate_put_result conflate_put(struct conflate *c, const struct tick *t) {
    pthread_mutex_lock(&c->mu);
    struct slot *s = (struct slot *)instr_map_find(&c->map, t->venue, t->symbol);
    enum conflate_put_result res = put_locked(c, s, NO_ID, t);
    pthread_mutex_unlock(&c->mu);
    return res;
}

enum conflate_put_result conflate_put_id(struct conflate *c, uint32_t id, const struct tick *t) {
    pthread_mutex_lock(&c->mu);
    struct slot *s = id_index_get(&c->ids, id);
    if (!s) s = (struct slot *)instr_map_find(&c->map, t->venue, t->symbol);
    enum conflate_put_result res = put_locked(c, s, id, t);
    pthread_mutex_unlock(&c->mu);
    return res;
}

size_t conflate_take(struct conflate *c, struct tick *out, size_t max, uint64_t first_tag) {
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    while (n < max && c->ring_len < c->ring_cap) {
        struct slot *s = dequeue(c);
        if (!s) break;
        s->has_waiting = false;
        swap_ticks(s);
        s->has_inflight = true;
        s->inflight_tag = first_tag + n;
        s->refs++;
        c->ring[(c->ring_head + c->ring_len) % c->ring_cap] =
            (struct flight){.tag = s->inflight_tag, .slot = s, .settled = false};
        c->ring_len++;
        c->unsettled++;
        tick_unpack(&s->inflight, s->node.venue, s->node.symbol, &out[n++]);
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Only the instrument's newest published tick decides: acked, the record may go; nacked, it waits again
 * unless a newer tick already does. */
static void settle(struct conflate *c, struct flight *f, bool ack) {
    struct slot *s = f->slot;
    f->settled = true;
    c->unsettled--;
    s->refs--;
    if (s->has_inflight && s->inflight_tag == f->tag) {
        s->has_inflight = false;
        if (!ack && !s->has_waiting) {
            swap_ticks(s);
            s->has_waiting = true;
            enqueue(c, s);
            c->requeued++;
        }
    }
    release_if_empty(c, s);
}

static void ring_pop_settled(struct conflate *c) {
    while (c->ring_len && c->ring[c->ring_head].settled) {
        c->ring_head = (c->ring_head + 1) % c->ring_cap;
        c->ring_len--;
    }
}

size_t conflate_confirm(struct conflate *c, uint64_t tag, bool multiple, bool ack) {
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->ring_len; i++) {
        struct flight *f = &c->ring[(c->ring_head + i) % c->ring_cap];
        if (f->tag > tag) break;
        if (f->settled || (!multiple && f->tag != tag)) continue;
        settle(c, f, ack);
        n++;
    }
    ring_pop_settled(c);
    pthread_mutex_unlock(&c->mu);
    return n;
}

void conflate_requeue_all(struct conflate *c) {
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->ring_len; i++) {
        struct flight *f = &c->ring[(c->ring_head + i) % c->ring_cap];
        if (!f->settled) settle(c, f, false);
    }
    c->ring_head = c->ring_len = 0;
    pthread_mutex_unlock(&c->mu);
}

void conflate_stats(struct conflate *c, struct conflate_stats *out) {
    pthread_mutex_lock(&c->mu);
    *out = (struct conflate_stats){
        .depth = c->map.count,
        .waiting = c->waiting,
        .inflight = c->unsettled,
        .replaced = c->replaced,
        .dropped = c->dropped,
        .requeued = c->requeued,
    };
    pthread_mutex_unlock(&c->mu);
}
