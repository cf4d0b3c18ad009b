/* stream_book.h -- the books one websocket connection keeps (private to src/net/: stream_task.c drives it).
 *
 * A book feed holds one connection's books (book_sync.h) and does the I/O their sync needs: the REST snapshots
 * of a venue that takes them from REST (each through the source's limiter with the venue's weight, a few at a
 * time, resyncs ahead of first syncs, 429 and 418 pausing the source), or the unsubscribe and subscribe that
 * make a stream venue send one symbol's snapshot again (through the connection's message window). A symbol
 * whose snapshot fails SNAPSHOT_BUDGET times in a row is STALE, and tried again later.
 *
 * Each connection has its own feed, so a make-before-break standby syncs its books while the active connection
 * still serves; only the active connection's feed publishes (book_feed_set_active), so a book has one publisher
 * at a time and the new one takes over with its books already live. */
#ifndef TICKD_NET_STREAM_BOOK_H
#define TICKD_NET_STREAM_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/book_sync.h"
#include "tickd/source.h"
#include "tickd/task.h"

struct book_feed;

/* What a feed needs of its connection. */
struct book_feed_conn {
    struct task *task;
    const struct stream_args *args;
    const struct book_precision *precisions; /* per table symbol, or NULL (the task's; filled when fetched) */
    /* Queues a text frame (copied) for the connection to send in turn through its message window, after what it
     * queued before: 0, or < 0 (no memory, or the connection is closing). */
    int (*queue)(void *conn, const char *text, size_t len);
    void *conn;
    uint32_t run;
    const char *name; /* the connection's, for logs */
};

/* 0, or -ENOMEM. The feed starts with every book SYNCING and, for a REST venue, asks for their snapshots at once
 * (the diffs are buffered meanwhile). */
int book_feed_new(const struct book_feed_conn *conn, struct book_feed **out);
void book_feed_free(struct book_feed *f);

/* The updates of one parsed frame (out->books, out->changes). */
void book_feed_frame(struct book_feed *f, const struct venue_out *out);
/* Whether every book is LIVE (a standby may take over). */
bool book_feed_live(const struct book_feed *f);
/* The connection now publishes (true: every live book is published at once) or no longer does. */
void book_feed_set_active(struct book_feed *f, bool active);
/* Timer: snapshot deadlines, stale retries. now: monotonic ms. */
void book_feed_tick(struct book_feed *f, int64_t now_ms);
/* Books by state. */
void book_feed_states(const struct book_feed *f, size_t counts[4]);

#endif

/* ---- precisions (venue_channel.needs_precision) ----
 * A book task's instruments' precisions, fetched once per task over REST (rest_plan's requests, one at a time,
 * through the source's limiter) into the task's array, which its feeds read at each checksum; a failed request
 * is asked again at the next book_precisions_tick after a backoff. Until they are known, checksums are counted
 * unchecked, never failed. */
struct book_precisions;
int book_precisions_start(struct task *task, const struct stream_args *a, struct book_precision *out,
                          struct book_precisions **fetch);
void book_precisions_tick(struct book_precisions *p, int64_t now_ms);
bool book_precisions_done(const struct book_precisions *p);
void book_precisions_free(struct book_precisions *p);
