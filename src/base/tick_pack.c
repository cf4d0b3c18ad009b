/* tick_pack.c -- the packed form of a tick (tick.h): what long-lived per-instrument records store. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/tick.h"

#define SPILL_SIZE (TICK_FIELDS * TICK_DECIMAL_MAX) /* every decimal at its longest, with its NUL */

_Static_assert(sizeof(struct tick_packed) == 112, "tick_packed grew: check TICK_PACKED_INLINE");
_Static_assert(SPILL_SIZE <= 255, "end offsets are bytes");

void tick_packed_init(struct tick_packed *p) {
    memset(p, 0, sizeof *p);
    for (int f = 0; f < TICK_FIELDS; f++) p->end[f] = (uint8_t)(f + 1); /* five empty texts */
}

int tick_pack(struct tick_packed *p, const struct tick *t) {
    size_t len[TICK_FIELDS], total = 0;
    for (int f = 0; f < TICK_FIELDS; f++) {
        len[f] = strnlen(tick_field_of(t, f), TICK_DECIMAL_MAX - 1) + 1;
        total += len[f];
    }
    char *text = p->text;
    if (total > sizeof p->text) {
        /* Keep the spill buffer once made: an instrument that sent long decimals likely sends them again. */
        if (!p->spill && !(p->spill = malloc(SPILL_SIZE))) return -ENOMEM;
        text = p->spill;
    } else if (p->spill) {
        free(p->spill);
        p->spill = NULL;
    }
    size_t at = 0;
    for (int f = 0; f < TICK_FIELDS; f++) {
        memcpy(text + at, tick_field_of(t, f), len[f] - 1);
        at += len[f];
        text[at - 1] = 0;
        p->end[f] = (uint8_t)at;
    }
    p->event_us = t->event_us;
    p->recv_us = t->recv_us;
    p->sent_us = t->sent_us;
    p->seq = t->seq;
    p->has_seq = t->has_seq;
    p->origin = (uint8_t)t->origin;
    return 0;
}

static void copy_text(char *dst, size_t cap, const char *src) {
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

void tick_unpack(const struct tick_packed *p, const char *venue, const char *symbol, struct tick *out) {
    copy_text(out->venue, sizeof out->venue, venue);
    copy_text(out->symbol, sizeof out->symbol, symbol);
    copy_text(out->bid, sizeof out->bid, tick_packed_get(p, TICK_BID));
    copy_text(out->bid_qty, sizeof out->bid_qty, tick_packed_get(p, TICK_BID_QTY));
    copy_text(out->ask, sizeof out->ask, tick_packed_get(p, TICK_ASK));
    copy_text(out->ask_qty, sizeof out->ask_qty, tick_packed_get(p, TICK_ASK_QTY));
    copy_text(out->last, sizeof out->last, tick_packed_get(p, TICK_LAST));
    out->event_us = p->event_us;
    out->recv_us = p->recv_us;
    out->sent_us = p->sent_us;
    out->seq = p->seq;
    out->has_seq = p->has_seq;
    out->origin = (enum tick_origin)p->origin;
}

void tick_packed_free(struct tick_packed *p) {
    free(p->spill);
    tick_packed_init(p);
}
