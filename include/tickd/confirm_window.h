/* confirm_window.h -- how many publishes the RabbitMQ publisher may have unconfirmed, following the broker's pace.
 *
 * A tick in flight is one no consumer has seen yet and that conflation (conflate.h) can no longer replace, so a
 * window the broker drains slowly is a queue of stale prices: 4096 in flight at a broker taking 12k/s kept every
 * price 340 ms old. The window is delay-based, as TCP Vegas is: a confirm slower than the target shrinks it by a
 * quarter (at most once per window's worth of publishes, so one slow batch counts once), a timely one grows it
 * by one, between CONFIRM_WINDOW_MIN and max. While it is small the ticks wait in the conflating buffer, where a
 * newer tick of an instrument replaces the older one: the consumer gets fewer messages, each of them fresh.
 *
 * Tags are the channel's delivery tags (1, 2, ...); at most max are unconfirmed, so tag % max names a slot.
 * Used by the publisher thread only. */
#ifndef TICKD_CONFIRM_WINDOW_H
#define TICKD_CONFIRM_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define CONFIRM_WINDOW_MIN 8
#define CONFIRM_WINDOW_START 64

struct confirm_window {
    uint64_t max;           /* never more unconfirmed than this */
    uint64_t target_us;     /* a confirm slower than this shrinks the window */
    uint64_t window;        /* unconfirmed publishes allowed now */
    uint64_t unconfirmed;   /* published, not yet acked or nacked */
    uint64_t last_tag;      /* the newest tag published */
    uint64_t shrunk_before; /* tags up to this one were published before the last shrink */
    uint64_t *sent_us;      /* publish time by tag % max */
};

/* Returns 0 or -ENOMEM. max >= 1. */
int confirm_window_init(struct confirm_window *w, uint64_t max, uint64_t target_us);
void confirm_window_free(struct confirm_window *w);
/* A new connection: nothing unconfirmed, the starting window. */
void confirm_window_reset(struct confirm_window *w);
/* How many more may be published now. */
uint64_t confirm_window_room(const struct confirm_window *w);
/* `tag` was published at now_us. */
void confirm_window_sent(struct confirm_window *w, uint64_t tag, uint64_t now_us);
/* A confirm (ack or nack) of `tag` settled n publishes (conflate_confirm's count; tag is the newest of them,
 * so its delay is the broker's current one). */
void confirm_window_settled(struct confirm_window *w, uint64_t tag, size_t n, uint64_t now_us);

#endif
