/* book_sync.h -- keeping one connection's L2 books in sync with the venue (design.md "Order books").
 *
 * Per symbol a state machine, driven by the venue's messages and pure of I/O (the stream task fetches the
 * snapshots and sends the resubscribes it asks for):
 *
 *   SYNCING ──snapshot (and, REST venues, the first diff that bridges it)──> LIVE
 *   LIVE ──a gap, a failed checksum, a crossed book──> RESYNCING ──snapshot──> LIVE
 *   SYNCING/RESYNCING ──the stream task gives up for now (book_sync_stale)──> STALE ──snapshot──> LIVE
 *
 * Only that symbol leaves LIVE: the connection and its other symbols go on.
 *
 * Sequencing follows the venue's rule (venue_channel.book_sync and the update's fields):
 *   - REST snapshot (Binance): diffs are buffered (bounded) until the snapshot comes; then those with
 *     u <= lastUpdateId are dropped, the first applied must have U <= lastUpdateId + 1 <= u, and every next one
 *     U == the previous u + 1. A snapshot older than the first buffered diff is refused (fetch another).
 *   - stream snapshot with a sequence (OKX): each update's prevSeqId is the previous seqId; an update whose
 *     seqId is not above the held one is a repeat, dropped.
 *   - stream snapshot without one (Coinbase, Kraken): updates apply in order; the checksum (Kraken) and the
 *     crossed-book check catch what was lost.
 *   - stream or REST snapshot (OKX): the stream's snapshot when one comes; diffs before it are held as a REST
 *     venue's, and a REST snapshot (book_update.from_rest) bridges them by the REST rule (first_seq =
 *     prevSeqId + 1). Once LIVE, OKX's chain. A diff whose seqId is below its prevSeqId (the venue restarted its
 *     sequence) drops what was held.
 * Updates that come before a STREAM_SNAPSHOT venue's snapshot (the end of a resubscribed symbol's old
 * subscription) are dropped: the snapshot that follows holds them. */
#ifndef TICKD_BOOK_SYNC_H
#define TICKD_BOOK_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/book.h"
#include "tickd/venue.h"

/* Why a book left LIVE (or never reached it). */
enum book_cause {
    BOOK_CAUSE_GAP = 0,   /* a sequence gap, or a snapshot that does not bridge to the buffered diffs */
    BOOK_CAUSE_CHECKSUM,  /* the venue's checksum differs from the book's */
    BOOK_CAUSE_CROSSED,   /* best bid at or above best ask */
    BOOK_CAUSE_RECONNECT, /* a new connection's first sync (counted per connection, not per symbol) */
    BOOK_CAUSE_OVERFLOW,  /* too many diffs buffered while waiting for the snapshot */
    BOOK_CAUSES,
};
const char *book_cause_name(enum book_cause cause);

/* What an update did. */
enum book_verdict {
    BOOK_APPLIED = 0, /* the book changed or was confirmed (LIVE): publish it */
    BOOK_BUFFERED,    /* kept until the snapshot (REST venues) */
    BOOK_DROPPED,     /* a repeat, or before a stream venue's snapshot: nothing to do */
    BOOK_RESYNC,      /* the book is out of sync (cause says why): the caller fetches a snapshot / resubscribes */
    BOOK_FAILED,      /* no memory, or a level the book refuses: resync too */
};

/* A diff kept while a REST venue's snapshot is awaited. */
struct book_held {
    uint64_t first_seq, seq;
    int64_t event_us, recv_us;
    size_t first, n; /* in the entry's held changes */
};

struct book_entry {
    struct book book;
    enum book_state state;
    uint64_t seq;        /* the last applied update's sequence, when the venue gives one */
    bool has_seq;
    bool bridged;        /* REST venues: a diff has bridged the snapshot (LIVE waits for it) */
    int64_t event_us, recv_us; /* of the last applied update */
    uint32_t resyncs;    /* times this book left LIVE */
    enum book_cause last_cause;
    struct book_held *held;        /* REST venues while not LIVE */
    size_t nheld, held_cap;
    struct book_change *held_changes;
    size_t nheld_changes, held_changes_cap;
};

struct book_sync_counters {
    uint64_t resyncs[BOOK_CAUSES];
    uint64_t level_changes;   /* applied to books */
    uint64_t updates_dropped; /* repeats and updates before a snapshot */
    uint64_t checksums_unchecked; /* updates whose checksum could not be computed (precision unknown) */
};

struct book_sync {
    const struct venue_channel *ch;
    const struct book_precision *precisions; /* per table symbol (Kraken), or NULL; borrowed */
    size_t first, n;                         /* the symbols [first, first+n) of the table */
    uint32_t levels;                         /* per side, the channel's book_levels(depth) */
    size_t max_held;                         /* diffs a symbol may buffer before its snapshot */
    struct book_entry *e;                    /* n entries, by symbol index - first */
    struct book_sync_counters counters;
};

/* Sets up n SYNCING books for the symbols [first, first+n). precisions may be NULL (or filled later: it is read
 * at each checksum). 0 or -ENOMEM. */
int book_sync_init(struct book_sync *bs, const struct venue_channel *ch, size_t first, size_t n, unsigned depth,
                   const struct book_precision *precisions);
void book_sync_free(struct book_sync *bs);

/* The entry of table symbol `symbol`, or NULL when outside the range. */
struct book_entry *book_sync_entry(struct book_sync *bs, int symbol);

/* Applies one update of the stream (or a REST snapshot: u->kind SNAPSHOT), whose changes are changes[u->first_change,
 * +u->n_changes). recv_us: when it came. On BOOK_RESYNC and BOOK_FAILED the entry is RESYNCING (or stays
 * SYNCING) with *cause set; a REST venue's entry keeps buffering the diffs from there on. */
enum book_verdict book_sync_apply(struct book_sync *bs, const struct book_update *u, const struct book_change *changes,
                                  int64_t recv_us, enum book_cause *cause);

/* Marks a book out of sync (the caller found it so: e.g. its snapshot answer was refused): RESYNCING, held diffs
 * kept. Counts the cause. */
void book_sync_lost(struct book_sync *bs, int symbol, enum book_cause cause);
/* The stream task cannot resync it for now: STALE until a snapshot comes. */
void book_sync_stale(struct book_sync *bs, int symbol);

/* How many of the books are in each state. */
void book_sync_states(const struct book_sync *bs, size_t counts[4]);

#endif
