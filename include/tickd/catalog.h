/* catalog.h -- a source's instrument list, loaded from its venue and kept up to date (instrument.h).
 *
 * The venue's one request that lists every spot instrument (venue_ops.instruments) goes through the source's
 * limiter with the venue's weight, at start and then every `refresh_ms`. An answer is taken whole or not at all:
 * a failed or refused load (an error, a 429, a malformed or truncated answer) keeps the last good list, is
 * logged, and is tried again after a backoff (1 s doubling, at most the refresh period; a 429 or 418 pauses the
 * whole source as any request's does). Each good list that differs from the one held (and the first one) is
 * handed to on_list with the list it replaces, so the caller walks the changes (instrument_list_diff). */
#ifndef TICKD_CATALOG_H
#define TICKD_CATALOG_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "tickd/instrument.h"
#include "tickd/source.h"

struct catalog;

struct catalog_hooks {
    /* A new list: `before` is the one it replaces (empty before the first good answer). Both valid during the
     * call only. */
    void (*on_list)(void *arg, const struct instrument_list *before, const struct instrument_list *now);
    void *arg;
};

struct catalog_stats {
    uint64_t loads, failures; /* answers taken; loads that failed (each logged) */
    size_t instruments;       /* in the list held */
    int64_t loaded_ms;        /* monotonic ms of the last good answer; 0: none yet */
    bool failing;             /* the last load failed */
};

/* Starts loading src's list now. 0, -ENOTSUP when the venue has no instrument list, or -ENOMEM. The source must
 * outlive the catalog. */
int catalog_new(uv_loop_t *loop, struct source *src, uint64_t refresh_ms, const struct catalog_hooks *hooks,
                struct catalog **out);
/* Cancels what is under way; the timer closes on the loop (the catalog frees itself then). */
void catalog_free(struct catalog *c);
/* The list held: NULL before the first good answer. */
const struct instrument_list *catalog_list(const struct catalog *c);
void catalog_stats(const struct catalog *c, struct catalog_stats *out);

#endif
