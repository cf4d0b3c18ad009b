/* confirm_window.c -- the publisher's delay-based confirm window; see confirm_window.h. */
#include "tickd/confirm_window.h"

#include <errno.h>
#include <stdlib.h>

int confirm_window_init(struct confirm_window *w, uint64_t max, uint64_t target_us) {
    *w = (struct confirm_window){.max = max ? max : 1, .target_us = target_us};
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
    if (now_us > sent && now_us - sent > w->target_us) {
        if (tag <= w->shrunk_before) return; /* published before the last shrink: counted already */
        w->window -= w->window / 4;
        uint64_t floor = w->max < CONFIRM_WINDOW_MIN ? w->max : CONFIRM_WINDOW_MIN;
        if (w->window < floor) w->window = floor;
        w->shrunk_before = w->last_tag;
    } else if (w->window < w->max) {
        w->window++;
    }
}
