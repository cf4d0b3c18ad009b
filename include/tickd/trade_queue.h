/* trade_queue.h -- the FIFO of trades between the ingest loop and the RabbitMQ publisher thread, bounded in bytes.
 *
 * Trades are events (design.md "Channels"): every one is published, once, in order, never conflated. So this is
 * a queue, not conflate.h's one record per instrument, and its bound is on bytes: each entry is an opaque message
 * (the caller's serialized publish) whose length is what it costs. An entry lives until the broker confirms it:
 *
 *   put ──> waiting ──take──> in flight (delivery tag) ──ack──> gone
 *              ^                   │ nack / requeue_all
 *              └───────────────────┘  (waiting again, in its own place: ahead of every newer entry)
 *
 * Entries never move: take hands out the oldest waiting ones, so a trade that comes back from a nack or a lost
 * connection is published again before anything put after it.
 *
 * Full: a put that would take the bytes held (waiting and in flight) beyond `limit` first drops the OLDEST
 * waiting entries until it fits, counting them and the range of their times (trade_queue_drops_take gives what
 * was dropped since it was last asked, for a rate-limited log line). In-flight entries are never dropped: they are
 * on the wire already and may yet be confirmed; nor are those that were in flight when the connection went
 * (trade_queue_requeue_all): the broker may have them, and a drop count must not name as lost what a consumer got.
 * A nacked entry was refused by the broker, so it is droppable again. So the bytes held can exceed the limit by
 * what is or was in flight (bounded by max_inflight) and by the newest entry, which a put always keeps: the
 * newest trades are the ones that survive an outage, and `dropped` is exactly what never reached the broker.
 *
 * Thread-safe: every function takes the queue's mutex. */
#ifndef TICKD_TRADE_QUEUE_H
#define TICKD_TRADE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trade_queue;

struct trade_queue_stats {
    size_t held;       /* entries held: waiting or in flight */
    size_t waiting;    /* entries waiting to be published */
    size_t inflight;   /* entries published, not yet confirmed */
    uint64_t bytes;    /* bytes held (the sum of the entries' lengths) */
    uint64_t limit;    /* the bound on bytes */
    uint64_t put;      /* entries accepted */
    uint64_t taken;    /* entries handed out for publishing (a republish counts again) */
    uint64_t acked, nacked;
    uint64_t requeued; /* in-flight entries sent back to waiting by a nack or requeue_all */
    uint64_t dropped;  /* waiting entries dropped, oldest first, to make room */
    uint64_t dropped_bytes;
};

/* What was dropped since the last trade_queue_drops_take: how many, and the least and greatest time of them
 * (the time given to put). */
struct trade_queue_drops {
    uint64_t count;
    int64_t first_us, last_us;
};

/* limit: most bytes held (0 takes 1); max_inflight: most unconfirmed entries (take returns fewer when reached).
 * NULL when out of memory. */
struct trade_queue *trade_queue_new(uint64_t limit, size_t max_inflight);
void trade_queue_free(struct trade_queue *q);

enum trade_queue_put_result {
    TRADE_QUEUE_WAKE = 0,  /* added, and nothing else was waiting: wake the consumer */
    TRADE_QUEUE_ADDED = 1, /* added behind other waiting entries (the consumer is awake already) */
    TRADE_QUEUE_NOMEM = -1 /* refused: no memory for the entry (nothing was dropped) */
};

/* Appends a copy of msg[0..len) (len >= 1), with time_us for the drop report, dropping the oldest waiting entries
 * when the bytes would go beyond the limit; *dropped (may be NULL) gets how many this put dropped. */
enum trade_queue_put_result trade_queue_put(struct trade_queue *q, const void *msg, size_t len, int64_t time_us,
                                            size_t *dropped);

/* Moves up to max waiting entries, oldest first, into flight, copying them one after the other to out (as long as
 * they fit in cap bytes); the i-th gets delivery tag first_tag + i. Returns how many; *len the bytes written. */
size_t trade_queue_take(struct trade_queue *q, void *out, size_t cap, size_t max, uint64_t first_tag, size_t *len);

/* A broker confirm: ack or nack of `tag`, or of every tag up to it when `multiple`. Tags of other publishes on the
 * channel (the quotes') are not found and change nothing. Returns how many entries it settled. A nacked entry
 * waits again, in its place. */
size_t trade_queue_confirm(struct trade_queue *q, uint64_t tag, bool multiple, bool ack);

/* The channel is gone: every in-flight entry waits again, in its place. Tags restart. */
void trade_queue_requeue_all(struct trade_queue *q);

/* What was dropped since the last call (and forgets it): true when anything was. */
bool trade_queue_drops_take(struct trade_queue *q, struct trade_queue_drops *out);

void trade_queue_stats(struct trade_queue *q, struct trade_queue_stats *out);

#endif
