/* book_sync.c -- per-symbol book state machines of one connection (book_sync.h). */
#include "tickd/book_sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A REST venue's diffs held while its snapshot is awaited: at 10 diffs a second (Binance's 100 ms stream) 600 are
 * a minute of waiting for the limiter; the changes they carry are bounded too, since one diff of a busy book can
 * hold hundreds of levels. Beyond either, the held diffs are dropped and buffering starts again from the newest:
 * the snapshot then has to be newer than that, and is fetched again if it is not. */
#define HELD_MAX 600
#define HELD_CHANGES_MAX 16384

const char *book_cause_name(enum book_cause cause) {
    switch (cause) {
    case BOOK_CAUSE_GAP: return "gap";
    case BOOK_CAUSE_CHECKSUM: return "checksum";
    case BOOK_CAUSE_CROSSED: return "crossed";
    case BOOK_CAUSE_RECONNECT: return "reconnect";
    case BOOK_CAUSE_OVERFLOW: return "overflow";
    case BOOK_CAUSES: break;
    }
    return "unknown";
}

int book_sync_init(struct book_sync *bs, const struct venue_channel *ch, size_t first, size_t n, unsigned depth,
                   const struct book_precision *precisions) {
    memset(bs, 0, sizeof *bs);
    bs->ch = ch;
    bs->precisions = precisions;
    bs->first = first;
    bs->n = n;
    if (!depth) depth = BOOK_DEPTH_DEFAULT;
    bs->levels = ch->book_levels ? ch->book_levels(depth) : 0;
    if (bs->levels && bs->levels < depth) bs->levels = depth;
    bs->max_held = HELD_MAX;
    if (n && !(bs->e = calloc(n, sizeof *bs->e))) return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        book_init(&bs->e[i].book, bs->levels);
        bs->e[i].state = BOOK_SYNCING;
    }
    return 0;
}

void book_sync_free(struct book_sync *bs) {
    for (size_t i = 0; i < bs->n; i++) {
        book_free(&bs->e[i].book);
        free(bs->e[i].held);
        free(bs->e[i].held_changes);
    }
    free(bs->e);
    bs->e = NULL;
    bs->n = 0;
}

struct book_entry *book_sync_entry(struct book_sync *bs, int symbol) {
    if (symbol < 0 || (size_t)symbol < bs->first || (size_t)symbol - bs->first >= bs->n) return NULL;
    return &bs->e[(size_t)symbol - bs->first];
}

static void held_clear(struct book_entry *e) { e->nheld = e->nheld_changes = 0; }

static bool rest_synced(const struct book_sync *bs) { return bs->ch->book_sync == VENUE_BOOK_REST_SNAPSHOT; }
/* Diffs that come before the book's snapshot are held for a REST snapshot to bridge (REST and STREAM_OR_REST). */
static bool holds_diffs(const struct book_sync *bs) { return bs->ch->book_sync != VENUE_BOOK_STREAM_SNAPSHOT; }

static void leave_live(struct book_sync *bs, struct book_entry *e, enum book_cause cause) {
    if (e->state == BOOK_LIVE) {
        e->state = BOOK_RESYNCING;
        e->resyncs++;
    } else if (e->state == BOOK_STALE) {
        e->state = BOOK_RESYNCING;
    }
    e->last_cause = cause;
    e->bridged = false;
    bs->counters.resyncs[cause]++;
}

void book_sync_lost(struct book_sync *bs, int symbol, enum book_cause cause) {
    struct book_entry *e = book_sync_entry(bs, symbol);
    if (e) leave_live(bs, e, cause);
}

void book_sync_stale(struct book_sync *bs, int symbol) {
    struct book_entry *e = book_sync_entry(bs, symbol);
    if (e && e->state != BOOK_LIVE) e->state = BOOK_STALE;
}

void book_sync_states(const struct book_sync *bs, size_t counts[4]) {
    for (int i = 0; i < 4; i++) counts[i] = 0;
    for (size_t i = 0; i < bs->n; i++) counts[bs->e[i].state]++;
}

/* Keeps a diff until the snapshot: false when there is no memory for it. */
static bool hold(struct book_sync *bs, struct book_entry *e, const struct book_update *u,
                 const struct book_change *changes, int64_t recv_us) {
    if (e->nheld >= bs->max_held || e->nheld_changes + u->n_changes > HELD_CHANGES_MAX) {
        held_clear(e);
        bs->counters.resyncs[BOOK_CAUSE_OVERFLOW]++;
        if (u->n_changes > HELD_CHANGES_MAX) return true; /* not even this one fits: the snapshot will not bridge */
    }
    if (e->nheld == e->held_cap) {
        size_t cap = e->held_cap ? 2 * e->held_cap : 8;
        struct book_held *grown = realloc(e->held, cap * sizeof *grown);
        if (!grown) return false;
        e->held = grown;
        e->held_cap = cap;
    }
    if (e->nheld_changes + u->n_changes > e->held_changes_cap) {
        size_t cap = e->held_changes_cap ? 2 * e->held_changes_cap : 64;
        while (cap < e->nheld_changes + u->n_changes) cap *= 2;
        struct book_change *grown = realloc(e->held_changes, cap * sizeof *grown);
        if (!grown) return false;
        e->held_changes = grown;
        e->held_changes_cap = cap;
    }
    if (u->n_changes)
        memcpy(&e->held_changes[e->nheld_changes], &changes[u->first_change], u->n_changes * sizeof *changes);
    e->held[e->nheld++] = (struct book_held){.first_seq = u->first_seq, .seq = u->seq, .event_us = u->event_us,
                                             .recv_us = recv_us, .first = e->nheld_changes, .n = u->n_changes};
    e->nheld_changes += u->n_changes;
    return true;
}

/* 0, or -1 when a level is refused (the book is then out of sync). The book is cut to its levels after the whole
 * update, not after each change: a message that inserts a level into a full book and then removes another keeps
 * the level that was worst before it (Kraken's rule, which its checksum follows: the venue never sends that level
 * again). While the update applies, the book may hold its levels plus the update's changes. */
static int apply_changes(struct book_sync *bs, struct book_entry *e, const struct book_change *c, size_t n) {
    uint32_t levels = e->book.max_levels;
    if (n < BOOK_DEPTH_MAX * 5) e->book.max_levels = levels + (uint32_t)n;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (book_set(&e->book, (enum book_side)c[i].side, c[i].price, strlen(c[i].price), c[i].qty,
                     strlen(c[i].qty)) < 0)
            rc = -1;
        else
            bs->counters.level_changes++;
    }
    e->book.max_levels = levels;
    book_truncate(&e->book, levels);
    return rc;
}

/* The checks every applied update ends with: the venue's checksum, then a crossed book. */
static enum book_verdict verify(struct book_sync *bs, struct book_entry *e, int symbol, const struct book_update *u,
                                enum book_cause *cause) {
    if (u->has_checksum && bs->ch->book_checksum) {
        uint32_t sum;
        const struct book_precision *p = bs->precisions ? &bs->precisions[symbol] : NULL;
        if (bs->ch->book_checksum(&e->book, p, &sum) < 0) {
            bs->counters.checksums_unchecked++;
        } else if (sum != u->checksum) {
            *cause = BOOK_CAUSE_CHECKSUM;
            leave_live(bs, e, *cause);
            return BOOK_RESYNC;
        }
    }
    if (book_crossed(&e->book)) {
        *cause = BOOK_CAUSE_CROSSED;
        leave_live(bs, e, *cause);
        return BOOK_RESYNC;
    }
    return BOOK_APPLIED;
}

/* A snapshot's last step: LIVE once the book passes the checks. */
static enum book_verdict go_live(struct book_sync *bs, struct book_entry *e, int symbol, const struct book_update *u,
                                 enum book_cause *cause) {
    enum book_verdict v = verify(bs, e, symbol, u, cause);
    if (v == BOOK_APPLIED) e->state = BOOK_LIVE;
    return v;
}

static void stamp(struct book_entry *e, uint64_t seq, bool has_seq, int64_t event_us, int64_t recv_us) {
    if (has_seq) e->seq = seq;
    e->has_seq = has_seq;
    if (event_us) e->event_us = event_us;
    e->recv_us = recv_us;
}

/* A REST venue's snapshot, then the held diffs it bridges to. */
static enum book_verdict apply_rest_snapshot(struct book_sync *bs, struct book_entry *e, int symbol,
                                             const struct book_update *u, enum book_cause *cause) {
    size_t skip = 0;
    while (skip < e->nheld && e->held[skip].seq <= u->seq) skip++;
    if (skip < e->nheld && e->held[skip].first_seq > u->seq + 1) {
        /* The snapshot is older than the first diff held: what lies between is lost. Another snapshot, newer. */
        *cause = BOOK_CAUSE_GAP;
        leave_live(bs, e, *cause);
        return BOOK_RESYNC;
    }
    uint64_t seq = u->seq;
    for (size_t i = skip; i + 1 < e->nheld; i++)
        if (e->held[i + 1].first_seq != e->held[i].seq + 1) { /* the held diffs themselves have a hole */
            *cause = BOOK_CAUSE_GAP;
            leave_live(bs, e, *cause);
            return BOOK_RESYNC;
        }
    /* The book goes LIVE only once it passed every check: a first sync that fails stays SYNCING. */
    stamp(e, seq, true, u->event_us, e->recv_us);
    for (size_t i = skip; i < e->nheld; i++) {
        const struct book_held *h = &e->held[i];
        if (apply_changes(bs, e, &e->held_changes[h->first], h->n) < 0) {
            held_clear(e);
            *cause = BOOK_CAUSE_GAP;
            leave_live(bs, e, *cause);
            return BOOK_FAILED;
        }
        stamp(e, h->seq, true, h->event_us, h->recv_us);
        e->bridged = true;
    }
    held_clear(e);
    return go_live(bs, e, symbol, u, cause);
}

enum book_verdict book_sync_apply(struct book_sync *bs, const struct book_update *u, const struct book_change *changes,
                                  int64_t recv_us, enum book_cause *cause) {
    struct book_entry *e = book_sync_entry(bs, u->symbol);
    if (!e) return BOOK_DROPPED;
    bool rest = rest_synced(bs);
    const struct book_change *c = &changes[u->first_change];
    if (u->kind == BOOK_UPDATE_SNAPSHOT) {
        bool bridge = rest || (u->from_rest && holds_diffs(bs));
        if (!bridge) held_clear(e); /* the stream's own snapshot holds what they held */
        book_clear(&e->book);
        e->bridged = false;
        e->recv_us = recv_us;
        if (apply_changes(bs, e, c, u->n_changes) < 0) {
            *cause = BOOK_CAUSE_GAP;
            leave_live(bs, e, *cause);
            return BOOK_FAILED;
        }
        if (bridge) {
            if (!u->has_seq) {
                *cause = BOOK_CAUSE_GAP;
                leave_live(bs, e, *cause);
                return BOOK_FAILED;
            }
            return apply_rest_snapshot(bs, e, u->symbol, u, cause);
        }
        stamp(e, u->seq, u->has_seq, u->event_us, recv_us);
        return go_live(bs, e, u->symbol, u, cause);
    }
    if (e->state != BOOK_LIVE) {
        if (!holds_diffs(bs)) {
            bs->counters.updates_dropped++;
            return BOOK_DROPPED;
        }
        if (!u->has_seq || !u->has_first) {
            bs->counters.updates_dropped++;
            return BOOK_DROPPED;
        }
        if (u->has_prev && u->seq < u->prev_seq) {
            /* OKX's sequence restarts (maintenance): what is held cannot bridge to anything after it */
            held_clear(e);
            bs->counters.updates_dropped++;
            return BOOK_DROPPED;
        }
        if (!hold(bs, e, u, changes, recv_us)) {
            *cause = BOOK_CAUSE_OVERFLOW;
            return BOOK_FAILED;
        }
        return BOOK_BUFFERED;
    }
    if (rest) {
        if (!u->has_seq || !u->has_first) {
            bs->counters.updates_dropped++;
            return BOOK_DROPPED;
        }
        if (u->seq <= e->seq) {
            bs->counters.updates_dropped++;
            return BOOK_DROPPED;
        }
        bool follows = e->bridged ? u->first_seq == e->seq + 1 : u->first_seq <= e->seq + 1;
        if (!follows) {
            *cause = BOOK_CAUSE_GAP;
            leave_live(bs, e, *cause);
            held_clear(e);
            if (!hold(bs, e, u, changes, recv_us)) return BOOK_FAILED;
            return BOOK_RESYNC;
        }
        e->bridged = true;
    } else if (u->has_prev && e->has_seq) {
        if (u->prev_seq != e->seq) {
            if (u->has_seq && u->seq <= e->seq) {
                bs->counters.updates_dropped++;
                return BOOK_DROPPED;
            }
            *cause = BOOK_CAUSE_GAP;
            leave_live(bs, e, *cause);
            /* STREAM_OR_REST resyncs by REST: this diff is the first the snapshot may have to bridge to */
            if (holds_diffs(bs) && u->has_first && !hold(bs, e, u, changes, recv_us)) return BOOK_FAILED;
            return BOOK_RESYNC;
        }
    }
    if (apply_changes(bs, e, c, u->n_changes) < 0) {
        *cause = BOOK_CAUSE_GAP;
        leave_live(bs, e, *cause);
        return BOOK_FAILED;
    }
    stamp(e, u->seq, u->has_seq || (rest && e->has_seq), u->event_us, recv_us);
    return verify(bs, e, u->symbol, u, cause);
}
