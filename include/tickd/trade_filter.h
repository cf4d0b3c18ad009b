/* trade_filter.h -- which trades are new: the same trade seen twice is published once, and a hole in a venue's
 * dense trade ids is noticed (design.md "Channels": events are deduplicated by the venue's id).
 *
 * Every venue tickd speaks numbers its trades with increasing integers per instrument (Binance, Coinbase and
 * Kraken densely, OKX with skips), so per instrument the filter keeps the highest id published: a trade at or
 * below it has been published already (a make-before-break overlap, a reconnect's replay, Coinbase's
 * last_match) and is a DUPLICATE. Trades come in order per instrument on one connection, so this is exact and
 * O(1) per trade, with 24 bytes per instrument.
 *
 * One bad frame must not silence an instrument (the class of defect a poisoned sequence had in quotes): an id
 * far ahead would make every real trade after it a "duplicate". So a lower id on the SAME run (connection) as
 * the highest is a RESET -- one ordered connection went back, its latest frame is the truth -- and so is one
 * more than TRADE_RESET_DISTANCE below the highest once that id's run is over (tick_run_alive): the venue
 * renumbered, as after maintenance. An id that is not an integer is published, unfiltered (no venue here
 * sends one). Loop thread only. */
#ifndef TICKD_TRADE_FILTER_H
#define TICKD_TRADE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/trade.h"

#define TRADE_RESET_DISTANCE 1000000 /* ids below the highest, from another connection, that mean a renumbering */

enum trade_verdict {
    TRADE_NEW = 0,   /* publish it */
    TRADE_DUPLICATE, /* published before: drop */
    TRADE_RESET,     /* publish it: the instrument's ids start again from it (counted) */
};

/* What the filter noticed about one new trade. */
struct trade_check {
    uint64_t missing_from, missing_to; /* dense ids: the hole before it, inclusive; both 0 when none */
};

struct trade_filter_counters {
    uint64_t duplicates, gaps, missing, resets;
    size_t instruments;
};

struct trade_filter;

/* 0 and a new filter in *out, or -ENOMEM. */
int trade_filter_new(struct trade_filter **out);
void trade_filter_free(struct trade_filter *f);

/* Judges t (venue, symbol, id, run, recv_us are read). dense: the channel's ids are consecutive
 * (venue_channel.dense_ids), so a hole is reported in *check. Returns a verdict, or -ENOMEM (t is then new:
 * publish it rather than lose it). */
int trade_filter_check(struct trade_filter *f, const struct trade *t, bool dense, struct trade_check *check);

void trade_filter_counters_get(const struct trade_filter *f, struct trade_filter_counters *out);

#endif
