/* trade_queue.c -- the byte-bounded FIFO of trades between the loop and the publisher thread; see trade_queue.h.
 *
 * Entries sit in a ring of pointers in put order, each named by a sequence number (head_seq is the head's); an
 * entry that leaves (acked or dropped) leaves a NULL in its place, and the head moves past the NULLs. first_waiting
 * is a hint: no entry before it waits, so take and the drops start looking there. Published entries are also
 * remembered in a ring of (tag, seq) in tag order, which is the order confirms refer to (as conflate.c does);
 * entries are never dropped while in flight, so a flight always finds its entry -- nor once they were in flight
 * when the connection went: the broker may have them, so dropping them would count as lost what a consumer got
 * (they are at most a confirm window; they wait to be published again, at least once). */
#include "tickd/trade_queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    uint64_t tag; /* while in flight */
    int64_t time_us;
    size_t len;
    bool inflight;
    bool maybe_delivered; /* in flight when the connection went: never dropped */
    unsigned char data[];
};

struct flight {
    uint64_t tag, seq;
    bool settled;
};

struct trade_queue {
    pthread_mutex_t mu;
    uint64_t limit;
    struct entry **ring;
    size_t cap, head, len; /* cap a power of two; len counts the NULLs inside too */
    uint64_t head_seq, first_waiting;
    struct flight *fl;
    size_t fl_cap, fl_head, fl_len;
    size_t held, waiting, inflight;
    uint64_t bytes, put, taken, acked, nacked, requeued, dropped, dropped_bytes;
    struct trade_queue_drops drops;
};

#define RING_START 1024

struct trade_queue *trade_queue_new(uint64_t limit, size_t max_inflight) {
    struct trade_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->limit = limit ? limit : 1;
    q->fl_cap = max_inflight ? max_inflight : 1;
    q->cap = RING_START;
    if (!(q->ring = calloc(q->cap, sizeof *q->ring))) goto fail_ring;
    if (!(q->fl = calloc(q->fl_cap, sizeof *q->fl))) goto fail_fl;
    if (pthread_mutex_init(&q->mu, NULL) != 0) goto fail_mutex;
    return q;
fail_mutex:
    free(q->fl);
fail_fl:
    free(q->ring);
fail_ring:
    free(q);
    return NULL;
}

void trade_queue_free(struct trade_queue *q) {
    if (!q) return;
    for (size_t i = 0; i < q->len; i++) free(q->ring[(q->head + i) & (q->cap - 1)]);
    free(q->ring);
    free(q->fl);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static struct entry **slot(struct trade_queue *q, uint64_t seq) {
    return &q->ring[(q->head + (size_t)(seq - q->head_seq)) & (q->cap - 1)];
}

/* The head moves past the entries that left. */
static void pop_gone(struct trade_queue *q) {
    while (q->len && !q->ring[q->head]) {
        q->head = (q->head + 1) & (q->cap - 1);
        q->len--;
        q->head_seq++;
    }
    if (q->first_waiting < q->head_seq) q->first_waiting = q->head_seq;
}

/* The oldest waiting entry's seq, or UINT64_MAX when none waits. */
static uint64_t oldest_waiting(struct trade_queue *q) {
    if (!q->waiting) return UINT64_MAX;
    uint64_t end = q->head_seq + q->len;
    for (uint64_t seq = q->first_waiting; seq < end; seq++) {
        struct entry *e = *slot(q, seq);
        if (e && !e->inflight) {
            q->first_waiting = seq;
            return seq;
        }
    }
    q->first_waiting = end; /* not reached while waiting > 0 */
    return UINT64_MAX;
}

static void remove_entry(struct trade_queue *q, uint64_t seq) {
    struct entry **sp = slot(q, seq);
    q->held--;
    q->bytes -= (*sp)->len;
    free(*sp);
    *sp = NULL;
}

/* The oldest waiting entry that was never published, or UINT64_MAX. */
static uint64_t oldest_droppable(struct trade_queue *q) {
    if (!q->waiting) return UINT64_MAX;
    uint64_t end = q->head_seq + q->len;
    for (uint64_t seq = oldest_waiting(q); seq < end; seq++) {
        struct entry *e = *slot(q, seq);
        if (e && !e->inflight && !e->maybe_delivered) return seq;
    }
    return UINT64_MAX;
}

/* Drops the oldest waiting entry never published; false when every waiting one may have been delivered. */
static bool drop_oldest(struct trade_queue *q) {
    uint64_t seq = oldest_droppable(q);
    if (seq == UINT64_MAX) return false;
    struct entry *e = *slot(q, seq);
    struct trade_queue_drops *d = &q->drops;
    if (!d->count || e->time_us < d->first_us) d->first_us = e->time_us;
    if (!d->count || e->time_us > d->last_us) d->last_us = e->time_us;
    d->count++;
    q->dropped++;
    q->dropped_bytes += e->len;
    q->waiting--;
    remove_entry(q, seq);
    return true;
}

static int grow(struct trade_queue *q) {
    size_t cap = q->cap * 2;
    struct entry **ring = malloc(cap * sizeof *ring);
    if (!ring) return -1;
    for (size_t i = 0; i < q->len; i++) ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
    memset(ring + q->len, 0, (cap - q->len) * sizeof *ring);
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    return 0;
}

enum trade_queue_put_result trade_queue_put(struct trade_queue *q, const void *msg, size_t len, int64_t time_us,
                                            size_t *dropped) {
    size_t n = 0;
    struct entry *e = malloc(sizeof *e + len);
    if (!e) goto nomem;
    *e = (struct entry){.time_us = time_us, .len = len};
    memcpy(e->data, msg, len);
    pthread_mutex_lock(&q->mu);
    if (q->len == q->cap && grow(q) < 0) {
        pthread_mutex_unlock(&q->mu);
        free(e);
        goto nomem;
    }
    enum trade_queue_put_result res = q->waiting ? TRADE_QUEUE_ADDED : TRADE_QUEUE_WAKE;
    for (; q->waiting && q->bytes + len > q->limit && drop_oldest(q); n++) {}
    pop_gone(q);
    q->ring[(q->head + q->len) & (q->cap - 1)] = e;
    q->len++;
    q->held++;
    q->waiting++;
    q->bytes += len;
    q->put++;
    pthread_mutex_unlock(&q->mu);
    if (dropped) *dropped = n;
    return res;
nomem:
    if (dropped) *dropped = 0;
    return TRADE_QUEUE_NOMEM;
}

size_t trade_queue_take(struct trade_queue *q, void *out, size_t cap, size_t max, uint64_t first_tag, size_t *len) {
    size_t n = 0, w = 0;
    pthread_mutex_lock(&q->mu);
    while (n < max && q->fl_len < q->fl_cap) {
        uint64_t seq = oldest_waiting(q);
        if (seq == UINT64_MAX) break;
        struct entry *e = *slot(q, seq);
        if (e->len > cap - w) break;
        memcpy((unsigned char *)out + w, e->data, e->len);
        w += e->len;
        e->inflight = true;
        e->tag = first_tag + n;
        q->fl[(q->fl_head + q->fl_len) % q->fl_cap] = (struct flight){.tag = e->tag, .seq = seq};
        q->fl_len++;
        q->waiting--;
        q->inflight++;
        q->taken++;
        q->first_waiting = seq + 1;
        n++;
    }
    pthread_mutex_unlock(&q->mu);
    *len = w;
    return n;
}

/* Acked, the entry goes; nacked (or its channel gone: lost, the broker may have it), it waits again in its place. */
static void settle(struct trade_queue *q, struct flight *f, bool ack, bool lost) {
    struct entry *e = *slot(q, f->seq);
    f->settled = true;
    q->inflight--;
    if (ack) {
        q->acked++;
        remove_entry(q, f->seq);
        return;
    }
    e->inflight = false;
    e->maybe_delivered |= lost;
    q->waiting++;
    q->requeued++;
    if (f->seq < q->first_waiting) q->first_waiting = f->seq;
}

size_t trade_queue_confirm(struct trade_queue *q, uint64_t tag, bool multiple, bool ack) {
    size_t n = 0;
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < q->fl_len; i++) {
        struct flight *f = &q->fl[(q->fl_head + i) % q->fl_cap];
        if (f->tag > tag) break;
        if (f->settled || (!multiple && f->tag != tag)) continue;
        settle(q, f, ack, false);
        if (!ack) q->nacked++;
        n++;
    }
    while (q->fl_len && q->fl[q->fl_head].settled) {
        q->fl_head = (q->fl_head + 1) % q->fl_cap;
        q->fl_len--;
    }
    pop_gone(q);
    pthread_mutex_unlock(&q->mu);
    return n;
}

void trade_queue_requeue_all(struct trade_queue *q) {
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < q->fl_len; i++) {
        struct flight *f = &q->fl[(q->fl_head + i) % q->fl_cap];
        if (!f->settled) settle(q, f, false, true);
    }
    q->fl_head = q->fl_len = 0;
    pthread_mutex_unlock(&q->mu);
}

bool trade_queue_drops_take(struct trade_queue *q, struct trade_queue_drops *out) {
    pthread_mutex_lock(&q->mu);
    *out = q->drops;
    q->drops = (struct trade_queue_drops){0};
    pthread_mutex_unlock(&q->mu);
    return out->count > 0;
}

void trade_queue_stats(struct trade_queue *q, struct trade_queue_stats *out) {
    pthread_mutex_lock(&q->mu);
    *out = (struct trade_queue_stats){
        .held = q->held,
        .waiting = q->waiting,
        .inflight = q->inflight,
        .bytes = q->bytes,
        .limit = q->limit,
        .put = q->put,
        .taken = q->taken,
        .acked = q->acked,
        .nacked = q->nacked,
        .requeued = q->requeued,
        .dropped = q->dropped,
        .dropped_bytes = q->dropped_bytes,
    };
    pthread_mutex_unlock(&q->mu);
}
