/* conflate.h -- the bounded, conflating buffer between the ingest loop and the RabbitMQ publisher thread.
 *
 * One record per instrument, never a queue of ticks: a put replaces the tick still waiting for the same
 * instrument, so memory is bounded by the instruments held, however fast ticks come or however long the
 * broker is away. A tick leaves only when the broker confirms it or a newer one replaces it:
 *
 *   put ──> waiting ──take──> in flight (delivery tag) ──ack──> gone
 *              ^                   │ nack / requeue_all
 *              └───────────────────┘  (back to waiting, unless a newer tick is already waiting)
 *
 * An instrument may have several ticks in flight (publisher confirms stream); only the newest matters: its
 * ack frees the record, its nack brings it back. Acks of older tags of that instrument change nothing.
 *
 * Full buffer: when `limit` distinct instruments are held and a tick of another instrument arrives, that
 * tick is refused and counted in `dropped` (the caller logs, rate-limited). A held instrument always takes its
 * newest tick: the latest price of an instrument already in the buffer is never dropped. Since the daemon's
 * instruments come from its config, a limit at or above their number never refuses anything.
 *
 * Thread-safe: every function takes the buffer's mutex. */
#ifndef TICKD_CONFLATE_H
#define TICKD_CONFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/tick.h"

struct conflate;

struct conflate_stats {
    size_t depth;       /* instruments held (waiting or in flight) */
    size_t waiting;     /* instruments with a tick waiting to be published */
    size_t inflight;    /* published ticks not yet confirmed (all tags) */
    uint64_t replaced;  /* waiting ticks replaced by newer ones */
    uint64_t dropped;   /* ticks refused because the buffer was full of other instruments */
    uint64_t requeued;  /* in-flight ticks sent back to waiting by a nack or a reconnect */
};

/* limit: most instruments held; max_inflight: most unconfirmed ticks (take returns fewer when reached). */
struct conflate *conflate_new(size_t limit, size_t max_inflight);
void conflate_free(struct conflate *c);

enum conflate_put_result {
    CONFLATE_WAKE = 0,     /* added, and nothing else was waiting: wake the consumer */
    CONFLATE_ADDED = 1,    /* added behind other waiting instruments (the consumer is awake already) */
    CONFLATE_REPLACED = 2, /* replaced the tick waiting for the same instrument */
    CONFLATE_FULL = -1,    /* refused: limit instruments held, this one not among them */
};
enum conflate_put_result conflate_put(struct conflate *c, const struct tick *t);

/* The same, finding the instrument's record by id instead of hashing venue and symbol: id is the merge's
 * quote_id (merge.h; dense and stable), and must always name the tick's instrument. The first put of an id,
 * and the first after its record was freed (confirmed, nothing waiting), finds or makes the record by name.
 * id must be below UINT32_MAX. */
enum conflate_put_result conflate_put_id(struct conflate *c, uint32_t id, const struct tick *t);

/* Moves up to max waiting ticks (oldest first) into flight, copying them to out; the i-th gets delivery tag
 * first_tag + i. Returns how many. */
size_t conflate_take(struct conflate *c, struct tick *out, size_t max, uint64_t first_tag);

/* A broker confirm: ack or nack of `tag`, or of every tag up to it when `multiple`. Returns how many
 * published ticks it settled. */
size_t conflate_confirm(struct conflate *c, uint64_t tag, bool multiple, bool ack);

/* The channel is gone: every in-flight tick goes back to waiting unless a newer one waits. Tags restart. */
void conflate_requeue_all(struct conflate *c);

void conflate_stats(struct conflate *c, struct conflate_stats *out);

#endif
