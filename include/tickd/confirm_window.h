/* confirm_window.h -- how many publishes the RabbitMQ publisher may have unconfirmed, following the broker's pace.
 *
 * A tick in flight is one no consumer has seen yet and that conflation (conflate.h) can no longer replace, so a
 * window the broker drains slowly is a queue of stale prices: 4096 in flight at a broker taking 12k/s kept every
 * price 340 ms old. The window is delay-based, as TCP Vegas is: a confirm slower than the base delay plus the
 * allowed queueing shrinks it by a quarter (at most once per window's worth of publishes, so one slow batch
 * counts once), a timely one grows it by one, between CONFIRM_WINDOW_MIN and max. While it is small the ticks
 * wait in the conflating buffer, where a newer tick of an instrument replaces the older one: the consumer gets
 * fewer messages, each of them fresh.
 *
 * The base delay is the least confirm delay seen over the last one to two CONFIRM_BASE_EPOCH_US: the network's
 * round trip and the broker's work on an empty queue. Measured, not assumed, because a fixed bound would be
 * wrong one way or the other: a broker across a network with a 3 ms round trip would find every confirm
 * "slow" against a 2 ms bound and never get more than the minimum window in flight (8 per round trip, a few
 * thousand prices a second), while a broker on the same machine confirms in ~0.2 ms and builds a 2 ms queue
 * before a 2 ms bound notices. The filter forgets its minimum after an epoch or two, so a route that got
 * slower is learnt too.
 *
 * Tags are the channel's delivery tags (1, 2, ...); at most max are unconfirmed, so tag % max names a slot.
 * Used by the publisher thread only. */
#ifndef TICKD_CONFIRM_WINDOW_H
#define TICKD_CONFIRM_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define CONFIRM_WINDOW_MIN 8
#define CONFIRM_WINDOW_START 64
#define CONFIRM_BASE_EPOCH_US 10000000

struct confirm_window {
    uint64_t max;           /* never more unconfirmed than this */
    uint64_t queue_us;      /* a confirm slower than the base delay plus this shrinks the window */
    uint64_t base_now_us;   /* the least delay of this epoch of the base filter, UINT64_MAX for none yet */
    uint64_t base_prev_us;  /* the least delay of the epoch before, UINT64_MAX for none */
    uint64_t epoch_start_us; /* when this epoch's first delay came */
    uint64_t window;        /* unconfirmed publishes allowed now */
    uint64_t unconfirmed;   /* published, not yet acked or nacked */
    uint64_t last_tag;      /* the newest tag published */
    uint64_t shrunk_before; /* tags up to this one were published before the last shrink */
    uint64_t *sent_us;      /* publish time by tag % max */
};

/* Returns 0 or -ENOMEM. max >= 1. queue_us: the queueing delay allowed above the base delay. */
int confirm_window_init(struct confirm_window *w, uint64_t max, uint64_t queue_us);
void confirm_window_free(struct confirm_window *w);
/* A new connection: nothing unconfirmed, the starting window, no base delay known (it may reach another
 * broker). */
void confirm_window_reset(struct confirm_window *w);
/* How many more may be published now. */
uint64_t confirm_window_room(const struct confirm_window *w);
/* `tag` was published at now_us. */
void confirm_window_sent(struct confirm_window *w, uint64_t tag, uint64_t now_us);
/* A confirm (ack or nack) of `tag` settled n publishes (conflate_confirm's count; tag is the newest of them,
 * so its delay is the broker's current one). */
void confirm_window_settled(struct confirm_window *w, uint64_t tag, size_t n, uint64_t now_us);
/* The base delay now: the least confirm delay of this epoch and the one before; UINT64_MAX before the first. */
uint64_t confirm_window_base_us(const struct confirm_window *w);

#endif
