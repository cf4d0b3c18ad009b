/* book.h -- an L2 order book: price levels per side, each the exchange's exact decimal text (design.md "Order
 * books").
 *
 * A side is one sorted array of fixed-size levels, best first (bids descending, asks ascending), searched by
 * binary search on the exact decimal value (never a double). An update sets a level's size, and a size of zero
 * removes it; the array grows by doubling, so applying an update allocates nothing once a book has its size.
 * A side keeps at most `max_levels` levels: a level that would rank beyond them is not kept, and a book that
 * grows past them drops its worst (Kraken's rule: the client truncates to the depth it subscribed; elsewhere
 * it bounds memory to what the snapshot gave).
 *
 * Levels are 48 bytes: a price or size longer than BOOK_TEXT_MAX - 1 characters is refused (no venue sends one;
 * a message carrying one is malformed). 1,000 books of 1,000 levels a side fit in about 96 MiB.
 *
 * A book change (struct book_change) and a book update (struct book_update) are how a venue adapter reports
 * what one message did to one symbol's book; the sync state machine (book_sync.h) decides what to apply. */
#ifndef TICKD_BOOK_H
#define TICKD_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/tick.h"

#define BOOK_TEXT_MAX 24      /* one price or size, with its NUL */
#define BOOK_DEPTH_DEFAULT 20 /* levels a side published when a task does not say */
#define BOOK_DEPTH_MAX 1000   /* the most a task may publish */

enum book_side {
    BOOK_BID = 0,
    BOOK_ASK = 1,
};

struct book_level {
    char price[BOOK_TEXT_MAX];
    char qty[BOOK_TEXT_MAX];
};

struct book_levels {
    struct book_level *lv; /* best first */
    uint32_t n, cap;
};

struct book {
    struct book_levels side[2]; /* BOOK_BID, BOOK_ASK */
    uint32_t max_levels;        /* per side; 0: BOOK_DEPTH_MAX * 5 */
};

/* An empty book keeping at most max_levels a side (0: the default). Allocates nothing until levels come. */
void book_init(struct book *b, uint32_t max_levels);
/* Frees the levels; the book is empty and usable again. */
void book_free(struct book *b);
/* Empties both sides, keeping their memory for the next snapshot. */
void book_clear(struct book *b);

/* Sets the size of the level at `price` on `side` (texts of plen and qlen bytes, not NUL-terminated): a size
 * of zero removes the level (absent: nothing to do). Returns 1 when the book changed, 0 when it did not (a
 * removal of an absent level, a level beyond max_levels, the same size again), -EINVAL when a text is not a
 * decimal in decimal.h's syntax, is negative, a price is not above zero, or a text is BOOK_TEXT_MAX or longer;
 * -ENOMEM when the side cannot grow. */
int book_set(struct book *b, enum book_side side, const char *price, size_t plen, const char *qty, size_t qlen);

/* Keeps at most `levels` levels a side, dropping the worst. */
void book_truncate(struct book *b, uint32_t levels);

/* True when both sides have levels and the best bid is at or above the best ask. */
bool book_crossed(const struct book *b);

/* Compares two decimal texts that decimal_valid accepts and that are not negative: -1, 0, 1. */
int book_price_cmp(const char *a, const char *b);

/* A symbol's book, as Redis and RabbitMQ say it (design.md "Order books"). */
enum book_state {
    BOOK_SYNCING = 0, /* waiting for its first snapshot: diffs buffered */
    BOOK_LIVE,        /* in sync */
    BOOK_RESYNCING,   /* a gap, a failed checksum or a crossed book: waiting for a new snapshot */
    BOOK_STALE,       /* cannot be resynced now (the venue refuses, the snapshot budget is spent) */
};

/* "syncing", "live", "resyncing", "stale". */
const char *book_state_name(enum book_state state);

/* ---- what a venue message does to a book ---- */

/* One level change, copied out of the message (the parse tree does not outlive the parse). */
struct book_change {
    char price[BOOK_TEXT_MAX];
    char qty[BOOK_TEXT_MAX]; /* "0" (any zero) removes the level */
    uint8_t side;            /* enum book_side */
};

enum book_update_kind {
    BOOK_UPDATE_SNAPSHOT = 0, /* the whole book (as deep as the venue gives it): replaces what is held */
    BOOK_UPDATE_DELTA,        /* changes to apply to the book held */
};

/* One message's effect on one symbol's book: its changes are out->changes[first_change, +n_changes). */
struct book_update {
    int symbol; /* index in the subscription's symbol table */
    enum book_update_kind kind;
    /* Sequencing, as the venue gives it (design.md's table): Binance diffs first_seq = U, seq = u; a Binance
     * REST snapshot seq = lastUpdateId; OKX seq = seqId, prev_seq = prevSeqId (-1 on a snapshot) and first_seq =
     * prevSeqId + 1, so that a REST snapshot (seq = its seqId) bridges OKX's diffs by Binance's rule. Venues
     * without a sequence (Coinbase, Kraken) leave has_seq false. */
    uint64_t first_seq, seq, prev_seq;
    bool has_seq, has_first, has_prev;
    /* A snapshot fetched over REST (set by the stream task, not the parser): it is bridged to the diffs held
     * meanwhile by first_seq and seq, as a REST venue's (book_sync.h). */
    bool from_rest;
    /* The venue's checksum of the book after this update (Kraken, OKX), when sent and non-zero. */
    uint32_t checksum;
    bool has_checksum;
    int64_t event_us; /* the venue's time of the update (bounded as a tick's); 0 when none */
    size_t first_change, n_changes;
};

/* Per symbol, what a venue's checksum needs beyond the levels (Kraken: the pair's decimals; learnt from the
 * venue's instrument list). Zero: not known. */
struct book_precision {
    uint8_t price_decimals, qty_decimals;
    bool known;
};

#endif
