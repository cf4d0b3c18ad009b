/* confirm_window.c -- the publisher's delay-based confirm window; see confirm_window.h. */
#include "tickd/confirm_window.h"

#include <errno.h>
#include <stdlib.h>

int confirm_window_init(struct confirm_window *w, uint64_t max, uint64_t queue_us) {
    *w = (struct confirm_window){.max = max ? max : 1, .queue_us = queue_us};
    if (!(w->sent_us = calloc(w->max, sizeof *w->sent_us))) return -ENOMEM;
    confirm_window_reset(w);
    return 0;
}

void confirm_window_free(struct confirm_window *w) {
    free(w->sent_us);
    w->sent_us = NULL;
}

void confirm_window_reset(struct confirm_window *w) {
    w->unconfirmed = w->last_tag = w->shrunk_before = 0;
    w->window = w->max < CONFIRM_WINDOW_START ? w->max : CONFIRM_WINDOW_START;
    w->base_now_us = w->base_prev_us = UINT64_MAX;
}

uint64_t confirm_window_base_us(const struct confirm_window *w) {
    return w->base_now_us < w->base_prev_us ? w->base_now_us : w->base_prev_us;
}

/* A windowed minimum in two epochs: cheap, and it keeps a minimum at least one whole epoch old. The first
 * delay after a reset opens the first epoch. */
static void base_observe(struct confirm_window *w, uint64_t delay_us, uint64_t now_us) {
    if (w->base_now_us == UINT64_MAX || now_us - w->epoch_start_us >= CONFIRM_BASE_EPOCH_US) {
        w->base_prev_us = w->base_now_us;
        w->base_now_us = delay_us;
        w->epoch_start_us = now_us;
    } else if (delay_us < w->base_now_us) {
        w->base_now_us = delay_us;
    }
}

uint64_t confirm_window_room(const struct confirm_window *w) {
    return w->window > w->unconfirmed ? w->window - w->unconfirmed : 0;
}

void confirm_window_sent(struct confirm_window *w, uint64_t tag, uint64_t now_us) {
    w->sent_us[tag % w->max] = now_us;
    w->last_tag = tag;
    w->unconfirmed++;
}

void confirm_window_settled(struct confirm_window *w, uint64_t tag, size_t n, uint64_t now_us) {
    if (n == 0 || tag > w->last_tag) return; /* nothing of ours, or a tag never published */
    w->unconfirmed = w->unconfirmed > n ? w->unconfirmed - n : 0;
    uint64_t sent = w->sent_us[tag % w->max];
    uint64_t delay = now_us > sent ? now_us - sent : 0;
    base_observe(w, delay, now_us);
    if (delay > confirm_window_base_us(w) + w->queue_us) {
        if (tag <= w->shrunk_before) return; /* published before the last shrink: counted already */
        w->window -= w->window / 4;
        uint64_t floor = w->max < CONFIRM_WINDOW_MIN ? w->max : CONFIRM_WINDOW_MIN;
        if (w->window < floor) w->window = floor;
        w->shrunk_before = w->last_tag;
    } else if (w->window < w->max) {
        w->window++;
    }
}
