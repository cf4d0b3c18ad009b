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
 * sends one).
 *
 * HOLES THAT A POLL CAN FILL. A dropped connection loses the trades made until its replacement subscribes: the
 * new connection's first trade comes with a hole in dense ids. When the venue's trades are also polled
 * (fill_wait_us > 0), the recent-trades answer will hold the missing ones -- but they are older than what the
 * stream brings meanwhile, and trades are published in order. So the trades after such a hole are HELD, sorted
 * by id, for at most the caller's fill wait (about two rounds of the poll; a later hole gets its own): the next
 * id after the published ones is published at once, an answer's other ids are held in their place, and
 * trade_filter_take hands back, in order, every held trade that follows the published ones without a hole --
 * or across one that a poll answer went past without its ids (they are not coming), or once the wait is over.
 * What a hole still lacked then is a gap, reported with the trade after it. A hole more than TRADE_FILL_MAX ids
 * wide is not waited for (no answer reaches that far back). Loop thread only. */
#ifndef TICKD_TRADE_FILTER_H
#define TICKD_TRADE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/trade.h"

#define TRADE_RESET_DISTANCE 1000000 /* ids below the highest, from another connection, that mean a renumbering */
#define TRADE_FILL_MAX 1000           /* the widest hole waited for: a venue's recent-trades answer holds 100-1000 */
#define TRADE_HELD_MAX 100000         /* trades held per instrument at most: beyond, the hole is given up */

enum trade_verdict {
    TRADE_NEW = 0,   /* publish it */
    TRADE_DUPLICATE, /* published before: drop */
    TRADE_RESET,     /* publish it: the instrument's ids start again from it (counted) */
    TRADE_HELD,      /* kept until its hole is filled or given up: trade_filter_take hands it back */
};

/* What the filter noticed about one new trade. */
struct trade_check {
    uint64_t missing_from, missing_to; /* dense ids: the hole before it, inclusive; both 0 when none */
};

struct trade_filter_counters {
    uint64_t duplicates, gaps, missing, resets;
    uint64_t filled;   /* trades that filled a hole (published late, still in order) */
    uint64_t released; /* held trades handed back */
    size_t instruments;
};

struct trade_filter;

/* 0 and a new filter in *out, or -ENOMEM. */
int trade_filter_new(struct trade_filter **out);
void trade_filter_free(struct trade_filter *f);

/* Judges t (venue, symbol, id, run, recv_us, origin are read). dense: the channel's ids are consecutive
 * (venue_channel.dense_ids), so a hole is reported in *check; fill_wait_us > 0: the venue's trades are also
 * polled, so a stream's hole may be filled, and the trades after it wait that long at most (HOLES above). Returns a verdict; -ENOMEM (t is then new: publish it rather
 * than lose it); or -ENOBUFS when t cannot be held (TRADE_HELD_MAX): the hole is given up, so take the held
 * trades now (trade_filter_take) and judge t again. */
int trade_filter_check(struct trade_filter *f, const struct trade *t, bool dense, int64_t fill_wait_us,
                       struct trade_check *check);

/* Copies into out (room for max) the held trades that are due at now_us -- their hole filled or given up, or
 * their wait over -- in order per instrument, and forgets them; checks (NULL or room for max) gets, with the
 * first trade of each instrument, the ids its hole still lacked (a gap, counted). Returns how many; call again
 * until 0 when it returned max. */
size_t trade_filter_take(struct trade_filter *f, int64_t now_us, struct trade *out, struct trade_check *checks,
                         size_t max);
/* Instruments holding trades now: 0 almost always, so a periodic caller can skip the work. */
size_t trade_filter_holding(const struct trade_filter *f);

void trade_filter_counters_get(const struct trade_filter *f, struct trade_filter_counters *out);

#endif
