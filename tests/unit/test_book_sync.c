/* Unit tests of the book sync state machine (book_sync.h) on channels of its own: the Binance rule at every
 * boundary (dropped, bridging, too old, holes among the held diffs, live gaps, repeats), the held bound, OKX's
 * prevSeqId chain, stream venues before their snapshot, checksums (mismatch, unknown precision, truncated books),
 * crossed books, stale and lost books, the state counts, symbols outside the range and refused levels. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tickd/book.h"
#include "tickd/book_sync.h"
#include "tickd/venue.h"
#include "tt.h"

/* ---- the channels ---- */

#define CK_LEVELS 10 /* levels a side the test checksum covers */

/* FNV-1a over the top CK_LEVELS of each side, bids then asks, "price:qty;" each: exact text, as the venues'. */
static uint32_t hash_book(const struct book *b) {
    uint32_t h = 2166136261u;
    for (int s = 0; s < 2; s++) {
        for (uint32_t i = 0; i < b->side[s].n && i < CK_LEVELS; i++) {
            const struct book_level *l = &b->side[s].lv[i];
            for (const char *p = l->price; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
            h = (h ^ ':') * 16777619u;
            for (const char *p = l->qty; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
            h = (h ^ ';') * 16777619u;
        }
        h = (h ^ '|') * 16777619u;
    }
    return h;
}

static int checksum_calls;
static const struct book_precision *checksum_last_p;

static int sum_always(const struct book *b, const struct book_precision *p, uint32_t *out) {
    checksum_calls++;
    checksum_last_p = p;
    *out = hash_book(b);
    return 0;
}

/* Kraken's kind: cannot be computed without the pair's precisions. */
static int sum_needs_precision(const struct book *b, const struct book_precision *p, uint32_t *out) {
    checksum_calls++;
    checksum_last_p = p;
    if (!p || !p->known) return -1;
    *out = hash_book(b);
    return 0;
}

static uint32_t levels_binance(unsigned depth) { return depth < 1000 ? 1000 : depth; }
static uint32_t levels_okx(unsigned depth) { return depth < 400 ? 400 : depth; }
static uint32_t levels_depth(unsigned depth) { return depth; }
static uint32_t levels_half(unsigned depth) { return depth / 2; }

static const struct venue_channel binance_ch = {
    .name = "book", .kind = VENUE_EVENT_BOOK, .book_sync = VENUE_BOOK_REST_SNAPSHOT, .book_levels = levels_binance};
/* A REST venue that also sends a checksum (none does today): the crossed and checksum checks after held diffs. */
static const struct venue_channel rest_sum_ch = {.name = "book",
                                                 .kind = VENUE_EVENT_BOOK,
                                                 .book_sync = VENUE_BOOK_REST_SNAPSHOT,
                                                 .book_levels = levels_binance,
                                                 .book_checksum = sum_always};
static const struct venue_channel okx_ch = {.name = "book",
                                            .kind = VENUE_EVENT_BOOK,
                                            .book_sync = VENUE_BOOK_STREAM_SNAPSHOT,
                                            .book_levels = levels_okx,
                                            .book_checksum = sum_always};
/* OKX as it runs: the stream's snapshot when it comes, else a REST one bridged to the diffs held. */
static const struct venue_channel okx_rest_ch = {.name = "book",
                                                 .kind = VENUE_EVENT_BOOK,
                                                 .book_sync = VENUE_BOOK_STREAM_OR_REST,
                                                 .book_levels = levels_okx,
                                                 .book_checksum = sum_always};
static const struct venue_channel kraken_ch = {.name = "book",
                                               .kind = VENUE_EVENT_BOOK,
                                               .book_sync = VENUE_BOOK_STREAM_SNAPSHOT,
                                               .book_levels = levels_depth,
                                               .book_checksum = sum_needs_precision,
                                               .needs_precision = true};
static const struct venue_channel coinbase_ch = {
    .name = "book", .kind = VENUE_EVENT_BOOK, .book_sync = VENUE_BOOK_STREAM_SNAPSHOT};
static const struct venue_channel half_ch = {
    .name = "book", .kind = VENUE_EVENT_BOOK, .book_sync = VENUE_BOOK_STREAM_SNAPSHOT, .book_levels = levels_half};

/* ---- updates ---- */

#define JUNK 3 /* changes before first_change that must never be read */
static struct book_change chg[40000];
static enum book_cause cause;

/* "b99:1 a101:2.5" -> changes at chg[JUNK..]; returns their count. */
static size_t parse(const char *spec) {
    for (size_t i = 0; i < JUNK; i++) {
        snprintf(chg[i].price, BOOK_TEXT_MAX, "junk");
        snprintf(chg[i].qty, BOOK_TEXT_MAX, "-1");
        chg[i].side = 7;
    }
    size_t n = 0;
    const char *s = spec;
    while (s && *s) {
        while (*s == ' ') s++;
        if (!*s) break;
        struct book_change *c = &chg[JUNK + n++];
        memset(c, 0, sizeof *c);
        c->side = *s == 'a' ? BOOK_ASK : BOOK_BID;
        s++;
        const char *colon = strchr(s, ':');
        const char *end = strchr(s, ' ');
        if (!end) end = s + strlen(s);
        snprintf(c->price, BOOK_TEXT_MAX, "%.*s", (int)(colon - s), s);
        snprintf(c->qty, BOOK_TEXT_MAX, "%.*s", (int)(end - colon - 1), colon + 1);
        s = end;
    }
    return n;
}

static enum book_verdict put(struct book_sync *bs, struct book_update u, const char *spec, int64_t recv_us) {
    u.first_change = JUNK;
    u.n_changes = parse(spec);
    cause = BOOK_CAUSES; /* "not set" */
    return book_sync_apply(bs, &u, chg, recv_us, &cause);
}

/* Binance: a REST snapshot at lastUpdateId L; a diff [U, u]. */
static enum book_verdict rest_snap(struct book_sync *bs, int sym, uint64_t L, const char *spec) {
    struct book_update u = {.symbol = sym, .kind = BOOK_UPDATE_SNAPSHOT, .seq = L, .has_seq = true};
    return put(bs, u, spec, 1000 + (int64_t)L);
}
static enum book_verdict bdiff(struct book_sync *bs, int sym, uint64_t U, uint64_t ulast, const char *spec) {
    struct book_update u = {.symbol = sym,
                            .kind = BOOK_UPDATE_DELTA,
                            .first_seq = U,
                            .seq = ulast,
                            .has_seq = true,
                            .has_first = true,
                            .event_us = 5000 + (int64_t)ulast};
    return put(bs, u, spec, 1000 + (int64_t)ulast);
}

/* OKX: a snapshot (prevSeqId -1) and an update, each with a checksum when has_sum. */
static enum book_verdict okx_snap(struct book_sync *bs, int sym, uint64_t seq, const char *spec, bool has_sum,
                                  uint32_t sum) {
    struct book_update u = {.symbol = sym,
                            .kind = BOOK_UPDATE_SNAPSHOT,
                            .seq = seq,
                            .prev_seq = UINT64_MAX,
                            .has_seq = true,
                            .has_prev = true,
                            .checksum = sum,
                            .has_checksum = has_sum};
    return put(bs, u, spec, 7);
}
static enum book_verdict okx_upd(struct book_sync *bs, int sym, uint64_t prev, uint64_t seq, const char *spec,
                                 bool has_sum, uint32_t sum) {
    struct book_update u = {.symbol = sym,
                            .kind = BOOK_UPDATE_DELTA,
                            .seq = seq,
                            .prev_seq = prev,
                            .has_seq = true,
                            .has_prev = true,
                            .checksum = sum,
                            .has_checksum = has_sum,
                            .event_us = (int64_t)seq};
    return put(bs, u, spec, 8);
}

/* OKX's update as its parser makes it (first_seq = prevSeqId + 1), and its REST snapshot at seqId `seq`. */
static enum book_verdict okx_diff(struct book_sync *bs, int sym, uint64_t prev, uint64_t seq, const char *spec) {
    struct book_update u = {.symbol = sym,
                            .kind = BOOK_UPDATE_DELTA,
                            .first_seq = prev + 1,
                            .seq = seq,
                            .prev_seq = prev,
                            .has_seq = true,
                            .has_first = true,
                            .has_prev = true,
                            .event_us = (int64_t)seq};
    return put(bs, u, spec, 10 + (int64_t)seq);
}
static enum book_verdict okx_rest_snap(struct book_sync *bs, int sym, uint64_t seq, const char *spec) {
    struct book_update u = {
        .symbol = sym, .kind = BOOK_UPDATE_SNAPSHOT, .seq = seq, .has_seq = true, .from_rest = true};
    return put(bs, u, spec, 11);
}

/* A venue without a sequence (Coinbase, Kraken): snapshot, update. */
static enum book_verdict plain(struct book_sync *bs, int sym, enum book_update_kind kind, const char *spec,
                               bool has_sum, uint32_t sum) {
    struct book_update u = {.symbol = sym, .kind = kind, .checksum = sum, .has_checksum = has_sum};
    return put(bs, u, spec, 9);
}

/* ---- books as text ---- */

static const char *side_str(const struct book *b, int s, char *out, size_t cap) {
    size_t at = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < b->side[s].n && at + 64 < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%s:%s", i ? " " : "", b->side[s].lv[i].price,
                               b->side[s].lv[i].qty);
    return out;
}

/* "bids | asks", best first. */
static const char *book_str(const struct book *b) {
    static char buf[2][65536];
    static int which;
    char *out = buf[which ^= 1];
    char bids[32768], asks[32768];
    snprintf(out, sizeof buf[0], "%s | %s", side_str(b, BOOK_BID, bids, sizeof bids),
             side_str(b, BOOK_ASK, asks, sizeof asks));
    return out;
}

/* The book a spec makes from empty, as text, and its checksum. */
static struct book spec_book(const char *spec) {
    struct book b;
    book_init(&b, 0);
    size_t n = parse(spec);
    for (size_t i = 0; i < n; i++) {
        const struct book_change *c = &chg[JUNK + i];
        if (book_set(&b, (enum book_side)c->side, c->price, strlen(c->price), c->qty, strlen(c->qty)) < 0)
            fprintf(stderr, "    spec_book: refused %s %s\n", c->price, c->qty);
    }
    return b;
}
static uint32_t spec_sum(const char *spec) {
    struct book b = spec_book(spec);
    uint32_t h = hash_book(&b);
    book_free(&b);
    return h;
}

#define SNAP "b99:1 b98:1 a101:1 a102:1"

static struct book_sync bs;

static void fresh(const struct venue_channel *ch, size_t first, size_t n, unsigned depth,
                  const struct book_precision *p) {
    book_sync_free(&bs);
    TT_ASSERT_INT(book_sync_init(&bs, ch, first, n, depth, p), 0);
    checksum_calls = 0;
    checksum_last_p = NULL;
}

static struct book_entry *E(int sym) {
    struct book_entry *e = book_sync_entry(&bs, sym);
    if (!e) TT_FAIL("no entry for symbol %d", sym);
    return e;
}

static uint64_t total_resyncs(void) {
    uint64_t t = 0;
    for (int i = 0; i < BOOK_CAUSES; i++) t += bs.counters.resyncs[i];
    return t;
}

/* ---- tests ---- */

static void test_names_and_init(void) {
    TT_ASSERT_STR(book_cause_name(BOOK_CAUSE_GAP), "gap");
    TT_ASSERT_STR(book_cause_name(BOOK_CAUSE_CHECKSUM), "checksum");
    TT_ASSERT_STR(book_cause_name(BOOK_CAUSE_CROSSED), "crossed");
    TT_ASSERT_STR(book_cause_name(BOOK_CAUSE_RECONNECT), "reconnect");
    TT_ASSERT_STR(book_cause_name(BOOK_CAUSE_OVERFLOW), "overflow");
    TT_ASSERT_STR(book_cause_name(BOOK_CAUSES), "unknown");

    fresh(&kraken_ch, 0, 3, 10, NULL);
    TT_ASSERT_INT(bs.levels, 10);
    TT_ASSERT_INT(bs.max_held, 600);
    for (int i = 0; i < 3; i++) {
        TT_ASSERT_INT(E(i)->state, BOOK_SYNCING);
        TT_ASSERT_INT(E(i)->book.max_levels, 10);
        TT_ASSERT_INT(E(i)->resyncs, 0);
        TT_ASSERT_INT(E(i)->nheld, 0);
    }
    fresh(&kraken_ch, 0, 1, 0, NULL); /* depth 0: the default */
    TT_ASSERT_INT(bs.levels, BOOK_DEPTH_DEFAULT);
    fresh(&half_ch, 0, 1, 20, NULL); /* fewer levels than the depth published: the depth */
    TT_ASSERT_INT(bs.levels, 20);
    TT_ASSERT_INT(E(0)->book.max_levels, 20);
    fresh(&coinbase_ch, 0, 1, 20, NULL); /* no book_levels: the book's default bound */
    TT_ASSERT_INT(bs.levels, 0);
    TT_ASSERT_INT(E(0)->book.max_levels, BOOK_DEPTH_MAX * 5);
    fresh(&okx_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bs.levels, 400);
    fresh(&okx_ch, 4, 0, 20, NULL); /* no symbols */
    TT_ASSERT(book_sync_entry(&bs, 4) == NULL);
    size_t counts[4] = {9, 9, 9, 9};
    book_sync_states(&bs, counts);
    TT_ASSERT(counts[0] == 0 && counts[1] == 0 && counts[2] == 0 && counts[3] == 0);
    book_sync_free(&bs);
}

/* Held diffs that end at or before the snapshot's lastUpdateId are dropped: [L-5, L-1] and [L-5, L]. */
static void test_rest_held_before_snapshot_dropped(void) {
    for (int k = 0; k < 2; k++) {
        fresh(&binance_ch, 0, 1, 20, NULL);
        uint64_t ulast = k ? 100 : 99;
        TT_ASSERT_INT(bdiff(&bs, 0, 95, ulast, "b99:7 a299:1"), BOOK_BUFFERED);
        TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
        TT_ASSERT_INT(E(0)->nheld, 1);
        TT_ASSERT_STR(book_str(&E(0)->book), " | "); /* nothing applied while buffering */
        TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
        TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
        TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 | 101:1 102:1");
        TT_ASSERT_INT(E(0)->seq, 100);
        TT_ASSERT(E(0)->has_seq);
        TT_ASSERT(!E(0)->bridged);
        TT_ASSERT_INT(E(0)->nheld, 0);
        TT_ASSERT_INT(E(0)->resyncs, 0);
        TT_ASSERT_INT(total_resyncs(), 0);
        TT_ASSERT_INT(bs.counters.level_changes, 4);
        /* the first live diff must still bridge L: [L-1, L+2] does */
        TT_ASSERT_INT(bdiff(&bs, 0, 99, 102, "b99:2"), BOOK_APPLIED);
        TT_ASSERT_INT(E(0)->seq, 102);
        TT_ASSERT(E(0)->bridged);
        TT_ASSERT_STR(book_str(&E(0)->book), "99:2 98:1 | 101:1 102:1");
    }
    book_sync_free(&bs);
}

/* A held diff that bridges ([L-3, L+1]) and one that starts at L+1 ([L+1, L+4]) are applied. */
static void test_rest_held_bridging_applied(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 97, 101, "b99:101 a301:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:101 98:1 | 101:1 102:1 301:1");
    TT_ASSERT_INT(E(0)->seq, 101);
    TT_ASSERT(E(0)->bridged);
    TT_ASSERT_INT(E(0)->recv_us, 1101); /* of the last diff applied */
    TT_ASSERT_INT(E(0)->event_us, 5101);
    /* the next must follow exactly */
    TT_ASSERT_INT(bdiff(&bs, 0, 102, 102, "a302:1"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 102);

    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 104, "b99:104 a304:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:104 98:1 | 101:1 102:1 304:1");
    TT_ASSERT_INT(E(0)->seq, 104);
    TT_ASSERT(E(0)->bridged);
    TT_ASSERT_INT(total_resyncs(), 0);

    /* [L, L] ends at L: dropped; [L+1, L+1] is the first applied */
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 100, 100, "b99:100"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 101, "b99:101"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:101 98:1 | 101:1 102:1");
    TT_ASSERT_INT(E(0)->seq, 101);
    book_sync_free(&bs);
}

/* A snapshot older than the first diff held ([L+2, L+4]): RESYNC (gap), the diffs kept for a newer snapshot. */
static void test_rest_snapshot_too_old(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 102, 104, "b99:104"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 105, 105, "a305:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT(E(0)->state != BOOK_LIVE);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING); /* never live: still its first sync */
    TT_ASSERT_INT(E(0)->resyncs, 0);
    TT_ASSERT_INT(E(0)->last_cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_GAP], 1);
    TT_ASSERT_INT(total_resyncs(), 1);
    TT_ASSERT_INT(E(0)->nheld, 2);
    /* diffs still buffer */
    TT_ASSERT_INT(bdiff(&bs, 0, 106, 107, "a307:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(E(0)->nheld, 3);
    /* a newer snapshot, at L+1: [L+2, L+4] now starts right after it */
    TT_ASSERT_INT(rest_snap(&bs, 0, 101, "b99:5 b98:1 a101:1 a102:1"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(E(0)->seq, 107);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:104 98:1 | 101:1 102:1 305:1 307:1");
    TT_ASSERT_INT(E(0)->nheld, 0);
    TT_ASSERT_INT(total_resyncs(), 1);

    /* a snapshot newer than every held diff: all dropped, the next live diff must bridge it */
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 102, 104, "b99:104"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 110, SNAP), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 | 101:1 102:1");
    TT_ASSERT_INT(E(0)->seq, 110);
    TT_ASSERT(!E(0)->bridged);
    book_sync_free(&bs);
}

/* A hole among the held diffs after the snapshot: RESYNC; a snapshot past the hole then bridges. Holes among the
 * dropped diffs do not matter. */
static void test_rest_hole_in_held(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 104, "b99:104"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 105, 106, "b99:106"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 108, 110, "b99:110 a310:1"), BOOK_BUFFERED); /* 107 missing */
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_GAP], 1);
    /* a snapshot at 105 still meets the hole (105 bridges [105,106], then 108 != 107) */
    TT_ASSERT_INT(rest_snap(&bs, 0, 105, SNAP), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_GAP], 2);
    TT_ASSERT(E(0)->state != BOOK_LIVE);
    /* at 107: [108,110] starts right after it */
    TT_ASSERT_INT(rest_snap(&bs, 0, 107, "b99:107 b98:1 a101:1"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:110 98:1 | 101:1 310:1");
    TT_ASSERT_INT(E(0)->seq, 110);

    /* holes before the snapshot: nothing to do with it */
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 90, 92, "b99:92"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 95, 96, "b99:96"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 99, 101, "b99:101"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 102, 103, "a303:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:101 98:1 | 101:1 102:1 303:1");
    TT_ASSERT_INT(E(0)->seq, 103);
    TT_ASSERT_INT(total_resyncs(), 0);
    book_sync_free(&bs);
}

/* Live: U == prev u + 1 applies; U == prev u + 2 is a gap (RESYNC, the diff held for the next snapshot); a
 * repeat (u <= held) is dropped; an overlap once bridged (U <= prev u < u) is a gap too. */
static void test_rest_live(void) {
    fresh(&binance_ch, 0, 2, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 104, "b99:104"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(rest_snap(&bs, 1, 50, SNAP), BOOK_APPLIED); /* a second symbol, live too */
    TT_ASSERT_INT(E(0)->seq, 104);
    TT_ASSERT_INT(bdiff(&bs, 0, 105, 107, "a307:1"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 107);
    TT_ASSERT_INT(E(0)->recv_us, 1107);
    TT_ASSERT_INT(E(0)->event_us, 5107);
    uint64_t changes = bs.counters.level_changes;
    /* repeats: dropped, counted, nothing changes */
    TT_ASSERT_INT(bdiff(&bs, 0, 105, 107, "a307:9"), BOOK_DROPPED);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 104, "b99:9"), BOOK_DROPPED);
    TT_ASSERT_INT(bdiff(&bs, 0, 107, 107, "b99:9"), BOOK_DROPPED);
    TT_ASSERT_INT(bs.counters.updates_dropped, 3);
    TT_ASSERT_INT(bs.counters.level_changes, changes);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:104 98:1 | 101:1 102:1 307:1");
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(E(0)->seq, 107);
    /* a gap: 108 missing */
    TT_ASSERT_INT(bdiff(&bs, 0, 109, 110, "a310:1"), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(E(0)->last_cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_GAP], 1);
    TT_ASSERT_INT(E(0)->nheld, 1); /* the diff that showed the gap waits for the snapshot */
    TT_ASSERT_STR(book_str(&E(0)->book), "99:104 98:1 | 101:1 102:1 307:1"); /* not applied */
    TT_ASSERT_INT(E(1)->state, BOOK_LIVE);                                   /* that symbol only */
    TT_ASSERT_INT(bdiff(&bs, 0, 111, 112, "a312:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 1, 51, 51, "b97:1"), BOOK_APPLIED);
    /* the snapshot at 108 bridges the held [109,110] */
    TT_ASSERT_INT(rest_snap(&bs, 0, 108, "b99:108 a101:1"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(E(0)->seq, 112);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:108 | 101:1 310:1 312:1");
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(total_resyncs(), 1);
    /* an overlap once bridged: [112, 113] after 112 */
    TT_ASSERT_INT(bdiff(&bs, 0, 112, 113, "a313:1"), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->resyncs, 2);
    book_sync_free(&bs);
}

/* A snapshot with nothing held, then a first diff that bridges it (or does not). */
static void test_rest_first_live_diff(void) {
    struct {
        uint64_t U, u;
        enum book_verdict v;
    } cases[] = {
        {90, 100, BOOK_DROPPED},  /* ends at L */
        {95, 99, BOOK_DROPPED},   /* ends before L */
        {98, 103, BOOK_APPLIED},  /* U <= L+1 <= u */
        {101, 101, BOOK_APPLIED}, /* U == L+1 == u */
        {100, 101, BOOK_APPLIED},
        {101, 120, BOOK_APPLIED},
        {102, 103, BOOK_RESYNC}, /* starts past L+1 */
        {150, 160, BOOK_RESYNC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fresh(&binance_ch, 0, 1, 20, NULL);
        TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
        TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
        TT_ASSERT(!E(0)->bridged);
        enum book_verdict v = bdiff(&bs, 0, cases[i].U, cases[i].u, "b99:5");
        if (v != cases[i].v) TT_FAIL("[%llu,%llu]: verdict %d, expected %d", (unsigned long long)cases[i].U,
                                     (unsigned long long)cases[i].u, v, cases[i].v);
        switch (v) {
        case BOOK_APPLIED:
            TT_ASSERT_INT(E(0)->seq, cases[i].u);
            TT_ASSERT(E(0)->bridged);
            TT_ASSERT_STR(book_str(&E(0)->book), "99:5 98:1 | 101:1 102:1");
            /* from here, strictly U == prev u + 1 */
            TT_ASSERT_INT(bdiff(&bs, 0, cases[i].u + 1, cases[i].u + 1, "b98:2"), BOOK_APPLIED);
            TT_ASSERT_STR(book_str(&E(0)->book), "99:5 98:2 | 101:1 102:1");
            break;
        case BOOK_DROPPED:
            TT_ASSERT_INT(bs.counters.updates_dropped, 1);
            TT_ASSERT_INT(E(0)->seq, 100);
            TT_ASSERT(!E(0)->bridged);
            TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 | 101:1 102:1");
            TT_ASSERT_INT(bdiff(&bs, 0, 101, 101, "b99:5"), BOOK_APPLIED); /* the next still bridges */
            break;
        default:
            TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
            TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
            TT_ASSERT_INT(E(0)->nheld, 1);
            TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 | 101:1 102:1");
            /* the snapshot just before it bridges it */
            TT_ASSERT_INT(rest_snap(&bs, 0, cases[i].U - 1, SNAP), BOOK_APPLIED);
            TT_ASSERT_INT(E(0)->seq, cases[i].u);
            TT_ASSERT_STR(book_str(&E(0)->book), "99:5 98:1 | 101:1 102:1");
            break;
        }
    }
    book_sync_free(&bs);
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random diffs of varying [U, u] widths buffered, then a snapshot at some lastUpdateId that holds what the diffs
 * up to it did: the book after the held diffs is exactly the reference's after all of them. */
static void test_rest_held_match_reference(void) {
    static char specs[200][512];
    static uint64_t Us[200], us[200];
    for (int round = 0; round < 40; round++) {
        fresh(&binance_ch, 0, 1, 20, NULL);
        struct book ref;
        book_init(&ref, 1000);
        int ndiffs = 5 + (int)(rnd() % 150);
        uint64_t seq = 1000 + rnd() % 1000;
        uint64_t L = 0;
        int at_l = (int)(rnd() % (uint64_t)ndiffs);
        char snap[16384] = "";
        for (int d = 0; d < ndiffs; d++) {
            Us[d] = seq + 1;
            us[d] = seq + 1 + rnd() % 5;
            seq = us[d];
            size_t at = 0;
            int nch = (int)(rnd() % 6);
            specs[d][0] = 0;
            for (int k = 0; k < nch; k++) {
                bool bid = rnd() % 2;
                unsigned price = bid ? 1 + (unsigned)(rnd() % 40) : 41 + (unsigned)(rnd() % 40);
                const char *qs[] = {"0", "1", "2.5", "0.000", "3.25", "10"};
                const char *q = qs[rnd() % 6];
                at += (size_t)snprintf(specs[d] + at, sizeof specs[d] - at, "%s%c%u.%u:%s", k ? " " : "",
                                       bid ? 'b' : 'a', price, (unsigned)(rnd() % 4), q);
            }
            TT_ASSERT_INT(bdiff(&bs, 0, Us[d], us[d], specs[d]), BOOK_BUFFERED);
            /* the reference: every diff in order */
            size_t n = parse(specs[d]);
            for (size_t i = 0; i < n; i++)
                TT_ASSERT(book_set(&ref, (enum book_side)chg[JUNK + i].side, chg[JUNK + i].price,
                                   strlen(chg[JUNK + i].price), chg[JUNK + i].qty, strlen(chg[JUNK + i].qty)) >= 0);
            if (d == at_l) { /* the snapshot: the reference as it stands after diff d, at some u' in [U, u] */
                L = Us[d] + rnd() % (us[d] - Us[d] + 1);
                size_t sat = 0;
                for (int s = 0; s < 2; s++)
                    for (uint32_t i = 0; i < ref.side[s].n; i++)
                        sat += (size_t)snprintf(snap + sat, sizeof snap - sat, "%s%c%s:%s", sat ? " " : "",
                                                s ? 'a' : 'b', ref.side[s].lv[i].price, ref.side[s].lv[i].qty);
                /* what diff d did is in the snapshot only where d ends at L: otherwise it is applied again */
                if (L != us[d]) {
                    /* the snapshot is then as of before d: rebuild it from the reference minus d */
                    struct book before;
                    book_init(&before, 1000);
                    for (int e = 0; e < d; e++) {
                        size_t m = parse(specs[e]);
                        for (size_t i = 0; i < m; i++)
                            book_set(&before, (enum book_side)chg[JUNK + i].side, chg[JUNK + i].price,
                                     strlen(chg[JUNK + i].price), chg[JUNK + i].qty, strlen(chg[JUNK + i].qty));
                    }
                    sat = 0;
                    snap[0] = 0;
                    for (int s = 0; s < 2; s++)
                        for (uint32_t i = 0; i < before.side[s].n; i++)
                            sat += (size_t)snprintf(snap + sat, sizeof snap - sat, "%s%c%s:%s", sat ? " " : "",
                                                    s ? 'a' : 'b', before.side[s].lv[i].price,
                                                    before.side[s].lv[i].qty);
                    book_free(&before);
                }
            }
        }
        TT_ASSERT_INT(E(0)->nheld, (size_t)ndiffs);
        TT_ASSERT_INT(rest_snap(&bs, 0, L, snap), BOOK_APPLIED);
        TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
        TT_ASSERT_INT(E(0)->seq, us[ndiffs - 1]);
        TT_ASSERT_INT(E(0)->nheld, 0);
        char want[65536];
        snprintf(want, sizeof want, "%s", book_str(&ref));
        if (strcmp(book_str(&E(0)->book), want) != 0)
            TT_FAIL("round %d (L=%llu, %d diffs):\n      book %s\n      ref  %s", round, (unsigned long long)L, ndiffs,
                    book_str(&E(0)->book), want);
        book_free(&ref);
    }
    book_sync_free(&bs);
}

/* At most HELD_MAX (600) diffs wait: the 601st drops them (counted) and buffering starts again from it. */
static void test_rest_held_bound(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bs.max_held, 600);
    char spec[64];
    for (uint64_t i = 1; i <= 600; i++) {
        snprintf(spec, sizeof spec, "b%llu:1", (unsigned long long)(1 + i % 50));
        TT_ASSERT_INT(bdiff(&bs, 0, i, i, spec), BOOK_BUFFERED);
    }
    TT_ASSERT_INT(E(0)->nheld, 600);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_OVERFLOW], 0);
    TT_ASSERT_INT(bdiff(&bs, 0, 601, 601, "b60:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_OVERFLOW], 1);
    TT_ASSERT_INT(E(0)->nheld, 1);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    /* a snapshot from before what was dropped no longer bridges */
    TT_ASSERT_INT(rest_snap(&bs, 0, 300, SNAP), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(rest_snap(&bs, 0, 599, SNAP), BOOK_RESYNC);
    /* one at 600 does */
    TT_ASSERT_INT(rest_snap(&bs, 0, 600, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 601);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 60:1 | 101:1 102:1");

    /* a smaller bound set by the caller is honoured the same way */
    fresh(&binance_ch, 0, 1, 20, NULL);
    bs.max_held = 3;
    for (uint64_t i = 1; i <= 7; i++) TT_ASSERT_INT(bdiff(&bs, 0, i, i, "b1:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_OVERFLOW], 2); /* at the 4th and the 7th */
    TT_ASSERT_INT(E(0)->nheld, 1);
    book_sync_free(&bs);
}

/* The changes held are bounded too (16384): a diff beyond on its own is not kept; two that together pass it keep
 * only the newer. */
static void test_rest_held_changes_bound(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    static char spec[16400 * 16];
    size_t at = 0;
    for (int i = 0; i < 16385; i++)
        at += (size_t)snprintf(spec + at, sizeof spec - at, "%sb%d.%d:1", i ? " " : "", 1 + i / 10, i % 10);
    TT_ASSERT_INT(bdiff(&bs, 0, 1, 1, spec), BOOK_BUFFERED);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_OVERFLOW], 1);
    TT_ASSERT_INT(E(0)->nheld, 0);
    TT_ASSERT_INT(bdiff(&bs, 0, 2, 2, "b1:2"), BOOK_BUFFERED);
    TT_ASSERT_INT(E(0)->nheld, 1);
    TT_ASSERT_INT(rest_snap(&bs, 0, 0, SNAP), BOOK_RESYNC); /* diff 1 is lost to it */
    TT_ASSERT_INT(rest_snap(&bs, 0, 1, SNAP), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 1:2 | 101:1 102:1");

    fresh(&binance_ch, 0, 1, 20, NULL);
    at = 0;
    for (int i = 0; i < 10000; i++)
        at += (size_t)snprintf(spec + at, sizeof spec - at, "%sb%d.%d:1", i ? " " : "", 1 + i / 10, i % 10);
    TT_ASSERT_INT(bdiff(&bs, 0, 1, 1, spec), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 2, 2, spec), BOOK_BUFFERED);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_OVERFLOW], 1);
    TT_ASSERT_INT(E(0)->nheld, 1);
    TT_ASSERT_INT(E(0)->nheld_changes, 10000);
    TT_ASSERT_INT(rest_snap(&bs, 0, 1, "a2000:1"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 2);
    TT_ASSERT_INT(E(0)->book.side[BOOK_BID].n, 1000); /* the book's bound */
    TT_ASSERT_STR(E(0)->book.side[BOOK_BID].lv[0].price, "1000.9");
    book_sync_free(&bs);
}

/* OKX: prevSeqId == the seqId held applies; a repeat is dropped; a hole is a RESYNC; prevSeqId == seqId (no
 * change) applies; updates before the snapshot are dropped. */
static void test_okx_sequence(void) {
    fresh(&okx_ch, 0, 2, 20, NULL);
    TT_ASSERT_INT(okx_upd(&bs, 0, 990, 995, "b99:7", false, 0), BOOK_DROPPED); /* before the snapshot */
    TT_ASSERT_INT(bs.counters.updates_dropped, 1);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_STR(book_str(&E(0)->book), " | ");
    TT_ASSERT_INT(okx_snap(&bs, 0, 1000, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(okx_snap(&bs, 1, 7, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(E(0)->seq, 1000);
    TT_ASSERT(E(0)->has_seq);
    TT_ASSERT_INT(okx_upd(&bs, 0, 1000, 1005, "b99:2 a103:1", false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 1005);
    TT_ASSERT_INT(E(0)->event_us, 1005);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:2 98:1 | 101:1 102:1 103:1");
    /* repeats */
    TT_ASSERT_INT(okx_upd(&bs, 0, 1000, 1005, "b99:9", false, 0), BOOK_DROPPED);
    TT_ASSERT_INT(okx_upd(&bs, 0, 990, 1000, "b99:9", false, 0), BOOK_DROPPED);
    TT_ASSERT_INT(bs.counters.updates_dropped, 3);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:2 98:1 | 101:1 102:1 103:1");
    TT_ASSERT_INT(E(0)->seq, 1005);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    /* no change: prevSeqId == seqId */
    TT_ASSERT_INT(okx_upd(&bs, 0, 1005, 1005, "", false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 1005);
    TT_ASSERT_INT(okx_upd(&bs, 0, 1005, 1010, "a103:0", false, 0), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:2 98:1 | 101:1 102:1");
    TT_ASSERT_INT(total_resyncs(), 0);
    /* a hole: 1010 -> (1012 missing) */
    TT_ASSERT_INT(okx_upd(&bs, 0, 1012, 1015, "b99:9", false, 0), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_GAP], 1);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:2 98:1 | 101:1 102:1");
    TT_ASSERT_INT(E(1)->state, BOOK_LIVE); /* that symbol only */
    TT_ASSERT_INT(okx_upd(&bs, 1, 7, 8, "b97:1", false, 0), BOOK_APPLIED);
    /* until its snapshot, the symbol's updates are dropped */
    TT_ASSERT_INT(okx_upd(&bs, 0, 1015, 1020, "b99:9", false, 0), BOOK_DROPPED);
    TT_ASSERT_INT(bs.counters.updates_dropped, 4);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_GAP], 1);
    TT_ASSERT_INT(okx_snap(&bs, 0, 2000, "b50:1 a60:1", false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(E(0)->seq, 2000);
    TT_ASSERT_STR(book_str(&E(0)->book), "50:1 | 60:1");
    TT_ASSERT_INT(okx_upd(&bs, 0, 2000, 2001, "b51:1", false, 0), BOOK_APPLIED);
    /* an overlap: prevSeqId before the one held, seqId past it */
    TT_ASSERT_INT(okx_upd(&bs, 0, 1999, 2003, "b52:1", false, 0), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->resyncs, 2);
    book_sync_free(&bs);
}

/* OKX without the stream's snapshot: the diffs are held and a REST snapshot bridges them by Binance's rule
 * (prevSeqId < snapshot seqId + 1 <= seqId), then OKX's chain; each boundary of the bridge. */
static void test_okx_rest_bridge(void) {
    fresh(&okx_rest_ch, 0, 2, 20, NULL);
    TT_ASSERT_INT(okx_diff(&bs, 0, 990, 995, "b99:7"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_diff(&bs, 0, 995, 1000, "b98:5"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_diff(&bs, 0, 1000, 1005, "a103:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(E(0)->nheld, 3);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    /* the snapshot at 997 lies inside the second diff (995, 1000]: the first is in it, the rest apply */
    TT_ASSERT_INT(okx_rest_snap(&bs, 0, 997, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(E(0)->seq, 1005);
    TT_ASSERT_INT(E(0)->nheld, 0);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:5 | 101:1 102:1 103:1");
    TT_ASSERT_INT(okx_diff(&bs, 0, 1005, 1009, "b99:2"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 1009);
    /* a keep-alive (prevSeqId == seqId) changes nothing and keeps the chain */
    TT_ASSERT_INT(okx_diff(&bs, 0, 1009, 1009, ""), BOOK_APPLIED);
    TT_ASSERT_INT(okx_diff(&bs, 0, 1009, 1012, "b97:1"), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:2 98:5 97:1 | 101:1 102:1 103:1");
    TT_ASSERT_INT(total_resyncs(), 0);

    /* boundaries: the snapshot equal to the last held seqId (nothing to apply but the later diffs) */
    TT_ASSERT_INT(okx_diff(&bs, 1, 10, 20, "b99:3"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_diff(&bs, 1, 20, 30, "b99:4"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_rest_snap(&bs, 1, 20, SNAP), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(1)->book), "99:4 98:1 | 101:1 102:1");
    TT_ASSERT_INT(E(1)->seq, 30);
    /* a snapshot at exactly a diff's prevSeqId: that diff is the first applied */
    fresh(&okx_rest_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(okx_diff(&bs, 0, 50, 60, "b99:3"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_rest_snap(&bs, 0, 50, SNAP), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:3 98:1 | 101:1 102:1");
    TT_ASSERT_INT(E(0)->seq, 60);
    /* a snapshot before the first diff held: what lies between is lost; another, newer, is needed */
    fresh(&okx_rest_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(okx_diff(&bs, 0, 50, 60, "b99:3"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_rest_snap(&bs, 0, 49, SNAP), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(okx_diff(&bs, 0, 60, 70, "b99:4"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_rest_snap(&bs, 0, 65, SNAP), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:4 98:1 | 101:1 102:1");
    /* a REST answer without a sequence cannot be bridged */
    fresh(&okx_rest_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(okx_diff(&bs, 0, 50, 60, "b99:3"), BOOK_BUFFERED);
    struct book_update u = {.symbol = 0, .kind = BOOK_UPDATE_SNAPSHOT, .from_rest = true};
    TT_ASSERT_INT(put(&bs, u, SNAP, 12), BOOK_FAILED);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    book_sync_free(&bs);
}

/* OKX while the stream still sends its snapshot: it wins over the diffs held (they are older than it), and a
 * resync leaves the stream flowing: the diff that broke the chain is held for the REST snapshot. */
static void test_okx_stream_snapshot_and_rest_resync(void) {
    fresh(&okx_rest_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(okx_diff(&bs, 0, 990, 995, "b99:7"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_snap(&bs, 0, 1000, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(E(0)->nheld, 0);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 | 101:1 102:1");
    TT_ASSERT_INT(okx_diff(&bs, 0, 1000, 1004, "b99:2"), BOOK_APPLIED);
    /* a hole: 1004 -> (1006 missing) */
    TT_ASSERT_INT(okx_diff(&bs, 0, 1006, 1010, "b97:1"), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->nheld, 1);
    TT_ASSERT_INT(okx_diff(&bs, 0, 1010, 1015, "a101:0"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_rest_snap(&bs, 0, 1008, "b99:5 b98:1 a101:1 a102:1"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(E(0)->seq, 1015);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:5 98:1 97:1 | 102:1");
    /* the venue restarts its sequence while live: the push still names the last seqId as its prevSeqId */
    TT_ASSERT_INT(okx_diff(&bs, 0, 1015, 3, "b96:1"), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 3);
    TT_ASSERT_INT(okx_diff(&bs, 0, 3, 4, "b95:1"), BOOK_APPLIED);
    TT_ASSERT_INT(total_resyncs(), 1);
    book_sync_free(&bs);
}

/* A restart of OKX's sequence while diffs are held: they cannot bridge to anything after it, and are dropped. */
static void test_okx_sequence_restart_while_held(void) {
    fresh(&okx_rest_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(okx_diff(&bs, 0, 990, 995, "b99:7"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_diff(&bs, 0, 995, 5, "b99:8"), BOOK_DROPPED);
    TT_ASSERT_INT(E(0)->nheld, 0);
    TT_ASSERT_INT(okx_diff(&bs, 0, 5, 9, "b98:2"), BOOK_BUFFERED);
    TT_ASSERT_INT(okx_rest_snap(&bs, 0, 6, SNAP), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:2 | 101:1 102:1");
    TT_ASSERT_INT(E(0)->seq, 9);
    book_sync_free(&bs);
}

/* A checksum that differs: RESYNC (checksum), counted once however many more updates fail it before the snapshot. */
static void test_checksum_mismatch(void) {
    fresh(&okx_ch, 0, 2, 20, NULL);
    TT_ASSERT_INT(okx_snap(&bs, 0, 1, SNAP, true, spec_sum(SNAP)), BOOK_APPLIED);
    TT_ASSERT_INT(checksum_calls, 1);
    TT_ASSERT_INT(okx_snap(&bs, 1, 1, SNAP, true, spec_sum(SNAP)), BOOK_APPLIED);
    TT_ASSERT_INT(okx_upd(&bs, 0, 1, 2, "b99:3", true, spec_sum("b99:3 b98:1 a101:1 a102:1")), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    /* no checksum sent: not checked */
    int calls = checksum_calls;
    TT_ASSERT_INT(okx_upd(&bs, 0, 2, 3, "b99:4", false, 12345), BOOK_APPLIED);
    TT_ASSERT_INT(checksum_calls, calls);
    /* the venue's checksum says 99:5, the book holds 99:4 after a lost update */
    uint32_t venue = spec_sum("b99:5 b98:1 b97:1 a101:1 a102:1");
    TT_ASSERT_INT(okx_upd(&bs, 0, 3, 4, "b97:1", true, venue), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(E(0)->last_cause, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_CHECKSUM], 1);
    TT_ASSERT_INT(total_resyncs(), 1);
    TT_ASSERT_INT(E(1)->state, BOOK_LIVE);
    /* more updates failing it: dropped, not counted again */
    TT_ASSERT_INT(okx_upd(&bs, 0, 4, 5, "b96:1", true, venue), BOOK_DROPPED);
    TT_ASSERT_INT(okx_upd(&bs, 0, 5, 6, "b95:1", true, 1), BOOK_DROPPED);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_CHECKSUM], 1);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    size_t counts[4];
    book_sync_states(&bs, counts);
    TT_ASSERT(counts[BOOK_SYNCING] == 0 && counts[BOOK_LIVE] == 1 && counts[BOOK_RESYNCING] == 1 &&
              counts[BOOK_STALE] == 0);
    /* a snapshot that matches: live again */
    const char *s2 = "b99:5 b98:1 b97:1 a101:1 a102:1";
    TT_ASSERT_INT(okx_snap(&bs, 0, 10, s2, true, spec_sum(s2)), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:5 98:1 97:1 | 101:1 102:1");
    TT_ASSERT_INT(E(0)->resyncs, 1);
    /* a snapshot that does not match its own checksum */
    TT_ASSERT_INT(okx_snap(&bs, 0, 20, s2, true, spec_sum(s2) ^ 1), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 2);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_CHECKSUM], 2);
    book_sync_free(&bs);
}

/* The checksum is over the exact text sent: "99.50" and "99.5" are one level but not one checksum. */
static void test_checksum_exact_text(void) {
    fresh(&okx_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(okx_snap(&bs, 0, 1, "b99.50:1 a101:1", true, spec_sum("b99.50:1 a101:1")), BOOK_APPLIED);
    /* the venue changes the size at 99.5, writing the price its other way: the level keeps its first text */
    TT_ASSERT_INT(okx_upd(&bs, 0, 1, 2, "b99.5:2", true, spec_sum("b99.50:2 a101:1")), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99.50:2 | 101:1");
    TT_ASSERT_INT(okx_upd(&bs, 0, 2, 3, "b99.5:2.0", true, spec_sum("b99.50:2 a101:1")), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CHECKSUM); /* the size's text is now "2.0" */
    book_sync_free(&bs);
}

/* Kraken: the book is truncated to the depth subscribed, and the checksum is over what it keeps. */
static void test_checksum_truncated_book(void) {
    static struct book_precision prec[1] = {{.price_decimals = 1, .qty_decimals = 8, .known = true}};
    fresh(&kraken_ch, 0, 1, 10, prec);
    const char *snap = "b100:1 b99:1 b98:1 b97:1 b96:1 b95:1 b94:1 b93:1 b92:1 b91:1 b90:1 b89:1 "
                       "a101:1 a102:1 a103:1 a104:1 a105:1 a106:1 a107:1 a108:1 a109:1 a110:1 a111:1 a112:1";
    struct book top = spec_book(snap);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, snap, true, hash_book(&top)), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->book.side[BOOK_BID].n, 10);
    TT_ASSERT_INT(E(0)->book.side[BOOK_ASK].n, 10);
    TT_ASSERT_STR(E(0)->book.side[BOOK_BID].lv[9].price, "91");
    TT_ASSERT_STR(E(0)->book.side[BOOK_ASK].lv[9].price, "110");
    TT_ASSERT(checksum_last_p == &prec[0]);
    /* a level removed at the top and the next one beyond sent in the same update (Kraken's way) */
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "b100:0 b90:2", true,
                        spec_sum("b99:1 b98:1 b97:1 b96:1 b95:1 b94:1 b93:1 b92:1 b91:1 b90:2 a101:1 a102:1 a103:1 "
                                 "a104:1 a105:1 a106:1 a107:1 a108:1 a109:1 a110:1")),
                  BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT(!E(0)->has_seq);
    /* a better level pushes the worst out */
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "a100.5:1", true,
                        spec_sum("b99:1 b98:1 b97:1 b96:1 b95:1 b94:1 b93:1 b92:1 b91:1 b90:2 a100.5:1 a101:1 "
                                 "a102:1 a103:1 a104:1 a105:1 a106:1 a107:1 a108:1 a109:1")),
                  BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->book.side[BOOK_ASK].n, 10);
    TT_ASSERT_STR(E(0)->book.side[BOOK_ASK].lv[9].price, "109");
    TT_ASSERT_INT(bs.counters.checksums_unchecked, 0);
    book_free(&top);
    book_sync_free(&bs);
}

/* The book is cut to its levels after the whole update, not after each change (Kraken's rule, which its checksum
 * follows): an insert into a full book and a removal in one message keep the level that was worst before it,
 * whichever comes first in the message. */
static void test_truncated_after_whole_update(void) {
    static struct book_precision prec[1] = {{.price_decimals = 1, .qty_decimals = 8, .known = true}};
    fresh(&kraken_ch, 0, 1, 10, prec);
    const char *asks = "a101:1 a102:1 a103:1 a104:1 a105:1 a106:1 a107:1 a108:1 a109:1 a110:1";
    char snap[512], want[512];
    snprintf(snap, sizeof snap, "b100:1 b99:1 b98:1 b97:1 b96:1 b95:1 b94:1 b93:1 b92:1 b91:1 %s", asks);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, snap, true, spec_sum(snap)), BOOK_APPLIED);
    struct {
        const char *update, *bids;
    } steps[] = {
        /* insert first, then remove: 91 stays */
        {"b100.5:1 b95:0", "b100.5:1 b100:1 b99:1 b98:1 b97:1 b96:1 b94:1 b93:1 b92:1 b91:1"},
        /* remove first, then insert */
        {"b96:0 b100.7:1", "b100.7:1 b100.5:1 b100:1 b99:1 b98:1 b97:1 b94:1 b93:1 b92:1 b91:1"},
        /* two better levels: the two worst go */
        {"b100.8:1 b100.9:1", "b100.9:1 b100.8:1 b100.7:1 b100.5:1 b100:1 b99:1 b98:1 b97:1 b94:1 b93:1"},
        /* a worse level into a full book: not kept */
        {"b90:1", "b100.9:1 b100.8:1 b100.7:1 b100.5:1 b100:1 b99:1 b98:1 b97:1 b94:1 b93:1"},
        /* the level entering as another leaves, the entering one first in the message */
        {"b92.5:1 b100.9:0", "b100.8:1 b100.7:1 b100.5:1 b100:1 b99:1 b98:1 b97:1 b94:1 b93:1 b92.5:1"},
        /* and last */
        {"b100.8:0 b92.4:1", "b100.7:1 b100.5:1 b100:1 b99:1 b98:1 b97:1 b94:1 b93:1 b92.5:1 b92.4:1"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        snprintf(want, sizeof want, "%s %s", steps[i].bids, asks);
        enum book_verdict v = plain(&bs, 0, BOOK_UPDATE_DELTA, steps[i].update, true, spec_sum(want));
        struct book wb = spec_book(want);
        char w[4096];
        snprintf(w, sizeof w, "%s", book_str(&wb));
        book_free(&wb);
        if (v != BOOK_APPLIED || strcmp(book_str(&E(0)->book), w) != 0)
            TT_FAIL("step %zu \"%s\": verdict %d\n      book %s\n      want %s", i, steps[i].update, v,
                    book_str(&E(0)->book), w);
        TT_ASSERT_INT(E(0)->book.side[BOOK_BID].n, 10);
        TT_ASSERT_INT(E(0)->book.max_levels, 10);
    }
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(total_resyncs(), 0);
    book_sync_free(&bs);
}

/* A checksum that cannot be computed (precision unknown) is counted unchecked; the book stays live. Precisions
 * are per table symbol and read at each checksum. */
static void test_checksum_unchecked(void) {
    static struct book_precision prec[4]; /* the table's symbols 0..3; this connection has 2 and 3 */
    memset(prec, 0, sizeof prec);
    prec[3].known = true;
    fresh(&kraken_ch, 2, 2, 10, prec);
    TT_ASSERT(book_sync_entry(&bs, 1) == NULL);
    TT_ASSERT_INT(plain(&bs, 2, BOOK_UPDATE_SNAPSHOT, SNAP, true, 42), BOOK_APPLIED);
    TT_ASSERT(checksum_last_p == &prec[2]);
    TT_ASSERT_INT(bs.counters.checksums_unchecked, 1);
    TT_ASSERT_INT(E(2)->state, BOOK_LIVE);
    TT_ASSERT_INT(plain(&bs, 2, BOOK_UPDATE_DELTA, "b99:2", true, 42), BOOK_APPLIED);
    TT_ASSERT_INT(bs.counters.checksums_unchecked, 2);
    TT_ASSERT_INT(E(2)->state, BOOK_LIVE);
    TT_ASSERT_STR(book_str(&E(2)->book), "99:2 98:1 | 101:1 102:1");
    TT_ASSERT_INT(total_resyncs(), 0);
    /* symbol 3's precision is known: its wrong checksum is caught */
    TT_ASSERT_INT(plain(&bs, 3, BOOK_UPDATE_SNAPSHOT, SNAP, true, spec_sum(SNAP)), BOOK_APPLIED);
    TT_ASSERT(checksum_last_p == &prec[3]);
    TT_ASSERT_INT(plain(&bs, 3, BOOK_UPDATE_DELTA, "b99:2", true, 42), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(bs.counters.checksums_unchecked, 2);
    /* symbol 2's precision learnt later: checked from then on */
    prec[2].known = true;
    TT_ASSERT_INT(plain(&bs, 2, BOOK_UPDATE_DELTA, "b99:3", true, 42), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(E(2)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(bs.counters.checksums_unchecked, 2);
    /* no precisions at all */
    fresh(&kraken_ch, 0, 1, 10, NULL);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, SNAP, true, 42), BOOK_APPLIED);
    TT_ASSERT(checksum_last_p == NULL);
    TT_ASSERT_INT(bs.counters.checksums_unchecked, 1);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    book_sync_free(&bs);
}

/* A crossed book (best bid at or above best ask): RESYNC (crossed). */
static void test_crossed(void) {
    fresh(&coinbase_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "b100.99:1", false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "b101.00:1", false, 0), BOOK_RESYNC); /* at equality */
    TT_ASSERT_INT(cause, BOOK_CAUSE_CROSSED);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(E(0)->last_cause, BOOK_CAUSE_CROSSED);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_CROSSED], 1);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "b101:0", false, 0), BOOK_DROPPED); /* until the snapshot */
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "a98.5:1", false, 0), BOOK_RESYNC); /* beyond */
    TT_ASSERT_INT(cause, BOOK_CAUSE_CROSSED);
    TT_ASSERT_INT(E(0)->resyncs, 2);
    /* a snapshot that is crossed itself */
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, "b101:1 a101:1", false, 0), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CROSSED);
    TT_ASSERT(E(0)->state != BOOK_LIVE);

    /* a REST venue: a crossing diff, then the diffs are buffered again for the next snapshot */
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 101, "a99:1"), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CROSSED);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(bdiff(&bs, 0, 102, 102, "a99:0"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 101, "b99:1 a99.5:1"), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:1 | 99.5:1");
    TT_ASSERT_INT(E(0)->seq, 102);
    /* held diffs that cross the snapshot's book */
    TT_ASSERT_INT(bdiff(&bs, 0, 104, 104, "b1:1"), BOOK_RESYNC); /* gap */
    TT_ASSERT_INT(bdiff(&bs, 0, 105, 105, "b99.5:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 103, "b99:1 a99.5:1"), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CROSSED);
    TT_ASSERT(E(0)->state != BOOK_LIVE);
    book_sync_free(&bs);
}

/* Stream venues: updates before the snapshot are dropped and counted; the snapshot makes the book live. */
static void test_stream_before_snapshot(void) {
    fresh(&coinbase_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "b99:5", false, 0), BOOK_DROPPED);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "a101:5", false, 0), BOOK_DROPPED);
    TT_ASSERT_INT(bs.counters.updates_dropped, 2);
    TT_ASSERT_INT(bs.counters.level_changes, 0);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(E(0)->nheld, 0); /* nothing held for a stream venue */
    TT_ASSERT_STR(book_str(&E(0)->book), " | ");
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 | 101:1 102:1");
    TT_ASSERT_INT(E(0)->recv_us, 9);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "b99:5 b98:0", false, 0), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:5 | 101:1 102:1");
    TT_ASSERT_INT(bs.counters.level_changes, 6);
    /* a second snapshot replaces the whole book */
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, "b1:1 a2:1", false, 0), BOOK_APPLIED);
    TT_ASSERT_STR(book_str(&E(0)->book), "1:1 | 2:1");
    TT_ASSERT_INT(total_resyncs(), 0);
    book_sync_free(&bs);
}

static void test_stale_and_lost(void) {
    fresh(&coinbase_ch, 0, 2, 20, NULL);
    book_sync_stale(&bs, 0);
    TT_ASSERT_INT(E(0)->state, BOOK_STALE);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_DELTA, "b99:5", false, 0), BOOK_DROPPED);
    TT_ASSERT_INT(E(0)->state, BOOK_STALE);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    book_sync_stale(&bs, 0); /* a live book is not stale */
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    book_sync_stale(&bs, 99); /* outside: nothing */
    book_sync_stale(&bs, -1);
    /* lost: the caller found it out of sync */
    book_sync_lost(&bs, 0, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(E(0)->last_cause, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(bs.counters.resyncs[BOOK_CAUSE_CHECKSUM], 1);
    TT_ASSERT_INT(E(1)->state, BOOK_SYNCING);
    book_sync_stale(&bs, 0);
    TT_ASSERT_INT(E(0)->state, BOOK_STALE);
    book_sync_lost(&bs, 0, BOOK_CAUSE_GAP); /* stale -> resyncing, not a new resync of a live book */
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(E(0)->last_cause, BOOK_CAUSE_GAP);
    uint64_t before = total_resyncs();
    book_sync_lost(&bs, 2, BOOK_CAUSE_GAP); /* outside: nothing */
    book_sync_lost(&bs, -5, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(total_resyncs(), before);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);

    /* a REST venue: stale while syncing still buffers; lost keeps what is held */
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 101, "b99:101"), BOOK_BUFFERED);
    book_sync_stale(&bs, 0);
    TT_ASSERT_INT(E(0)->state, BOOK_STALE);
    TT_ASSERT_INT(bdiff(&bs, 0, 102, 102, "b99:102"), BOOK_BUFFERED);
    TT_ASSERT_INT(E(0)->nheld, 2);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->state, BOOK_LIVE);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:102 98:1 | 101:1 102:1");
    book_sync_lost(&bs, 0, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    TT_ASSERT_INT(bdiff(&bs, 0, 103, 103, "b99:103"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 104, 104, "b99:104"), BOOK_BUFFERED);
    book_sync_lost(&bs, 0, BOOK_CAUSE_GAP);
    TT_ASSERT_INT(E(0)->nheld, 2);
    TT_ASSERT_INT(E(0)->resyncs, 1);
    TT_ASSERT_INT(rest_snap(&bs, 0, 102, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 104);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:104 98:1 | 101:1 102:1");
    book_sync_free(&bs);
}

static void test_states(void) {
    fresh(&okx_ch, 10, 6, 20, NULL);
    size_t counts[4];
    book_sync_states(&bs, counts);
    TT_ASSERT(counts[BOOK_SYNCING] == 6 && counts[BOOK_LIVE] == 0 && counts[BOOK_RESYNCING] == 0 &&
              counts[BOOK_STALE] == 0);
    TT_ASSERT_INT(okx_snap(&bs, 10, 1, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(okx_snap(&bs, 11, 1, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(okx_snap(&bs, 12, 1, SNAP, false, 0), BOOK_APPLIED);
    TT_ASSERT_INT(okx_upd(&bs, 11, 5, 6, "", false, 0), BOOK_RESYNC);
    book_sync_stale(&bs, 13);
    book_sync_stale(&bs, 14);
    book_sync_states(&bs, counts);
    TT_ASSERT_INT(counts[BOOK_SYNCING], 1);
    TT_ASSERT_INT(counts[BOOK_LIVE], 2);
    TT_ASSERT_INT(counts[BOOK_RESYNCING], 1);
    TT_ASSERT_INT(counts[BOOK_STALE], 2);
    TT_ASSERT_INT(E(15)->state, BOOK_SYNCING);
    book_sync_free(&bs);
}

/* Symbols outside [first, first+n): dropped, no book touched. */
static void test_outside_range(void) {
    fresh(&okx_ch, 5, 3, 20, NULL);
    TT_ASSERT(book_sync_entry(&bs, 4) == NULL);
    TT_ASSERT(book_sync_entry(&bs, 8) == NULL);
    TT_ASSERT(book_sync_entry(&bs, -1) == NULL);
    TT_ASSERT(book_sync_entry(&bs, 5) == &bs.e[0]);
    TT_ASSERT(book_sync_entry(&bs, 7) == &bs.e[2]);
    int outside[] = {-1, 0, 4, 8, 1000000};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        TT_ASSERT_INT(okx_snap(&bs, outside[i], 1, SNAP, false, 0), BOOK_DROPPED);
        TT_ASSERT_INT(okx_upd(&bs, outside[i], 1, 2, "b99:2", false, 0), BOOK_DROPPED);
    }
    for (int s = 5; s < 8; s++) {
        TT_ASSERT_INT(E(s)->state, BOOK_SYNCING);
        TT_ASSERT_STR(book_str(&E(s)->book), " | ");
    }
    TT_ASSERT_INT(bs.counters.level_changes, 0);
    TT_ASSERT_INT(total_resyncs(), 0);

    fresh(&binance_ch, 5, 3, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 8, 1, 1, "b1:1"), BOOK_DROPPED);
    TT_ASSERT_INT(rest_snap(&bs, 4, 1, SNAP), BOOK_DROPPED);
    for (int s = 5; s < 8; s++) TT_ASSERT_INT(E(s)->nheld, 0);
    book_sync_free(&bs);
}

/* A level the book refuses: FAILED, and the book leaves LIVE (or never reaches it). */
static void test_refused_level(void) {
    const char *bad[] = {"babc:1", "b-1:1", "b0:1", "b99:-1", "b99:1e3", "b:1", "b99:", "b1.:1", "b99:1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* a stream venue, live */
        fresh(&coinbase_ch, 0, 2, 20, NULL);
        TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, SNAP, false, 0), BOOK_APPLIED);
        TT_ASSERT_INT(plain(&bs, 1, BOOK_UPDATE_SNAPSHOT, SNAP, false, 0), BOOK_APPLIED);
        char spec[128];
        snprintf(spec, sizeof spec, "b97:1 %s", bad[i]);
        if (plain(&bs, 0, BOOK_UPDATE_DELTA, spec, false, 0) != BOOK_FAILED) TT_FAIL("\"%s\" not refused", bad[i]);
        TT_ASSERT(cause < BOOK_CAUSES);
        TT_ASSERT_INT(E(0)->last_cause, cause);
        TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
        TT_ASSERT_INT(E(0)->resyncs, 1);
        TT_ASSERT_INT(total_resyncs(), 1);
        TT_ASSERT_INT(E(1)->state, BOOK_LIVE);
        /* a stream snapshot with it */
        snprintf(spec, sizeof spec, "b97:1 %s a101:1", bad[i]);
        TT_ASSERT_INT(plain(&bs, 1, BOOK_UPDATE_SNAPSHOT, spec, false, 0), BOOK_FAILED);
        TT_ASSERT_INT(E(1)->state, BOOK_RESYNCING);
        TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, spec, false, 0), BOOK_FAILED);
        TT_ASSERT(E(0)->state != BOOK_LIVE);

        /* a REST venue: a live diff, a snapshot, a held diff */
        fresh(&binance_ch, 0, 1, 20, NULL);
        TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
        snprintf(spec, sizeof spec, "b97:1 %s", bad[i]);
        TT_ASSERT_INT(bdiff(&bs, 0, 101, 101, spec), BOOK_FAILED);
        TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
        TT_ASSERT_INT(E(0)->resyncs, 1);
        TT_ASSERT_INT(bdiff(&bs, 0, 102, 102, "b97:2"), BOOK_BUFFERED); /* buffering again */
        TT_ASSERT_INT(rest_snap(&bs, 0, 101, spec), BOOK_FAILED);
        TT_ASSERT(E(0)->state != BOOK_LIVE);
        TT_ASSERT_INT(rest_snap(&bs, 0, 101, SNAP), BOOK_APPLIED); /* the held diff still waited */
        TT_ASSERT_STR(book_str(&E(0)->book), "99:1 98:1 97:2 | 101:1 102:1");
        TT_ASSERT_INT(bdiff(&bs, 0, 104, 104, "b1:1"), BOOK_RESYNC);
        TT_ASSERT_INT(bdiff(&bs, 0, 105, 105, spec), BOOK_BUFFERED);
        TT_ASSERT_INT(rest_snap(&bs, 0, 103, SNAP), BOOK_FAILED);
        TT_ASSERT(E(0)->state != BOOK_LIVE);
    }
    /* a REST snapshot without its lastUpdateId */
    fresh(&binance_ch, 0, 1, 20, NULL);
    struct book_update u = {.symbol = 0, .kind = BOOK_UPDATE_SNAPSHOT};
    TT_ASSERT_INT(put(&bs, u, SNAP, 1), BOOK_FAILED);
    TT_ASSERT(E(0)->state != BOOK_LIVE);
    book_sync_free(&bs);
}

/* A first sync that fails is still a first sync: the book never was live, so it stays SYNCING and its resyncs
 * (times it left LIVE, published in Redis; a book with resyncs > 0 is queued as a resync, before first syncs) stay
 * 0 -- as they do when the snapshot is too old or refuses a level itself. */
static void test_first_sync_snapshot_too_old(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 105, 105, "b1:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_RESYNC);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 0);
    book_sync_free(&bs);
}
static void test_first_sync_snapshot_refused(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(rest_snap(&bs, 0, 104, "babc:1"), BOOK_FAILED);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 0);
    fresh(&okx_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(okx_snap(&bs, 0, 1, "babc:1", false, 0), BOOK_FAILED);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 0);
    book_sync_free(&bs);
}
static void test_first_sync_held_diff_refused(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 101, "babc:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_FAILED);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 0);
    book_sync_free(&bs);
}
static void test_first_sync_held_diffs_cross(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 101, "b101:1"), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CROSSED);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 0);
    book_sync_free(&bs);
}
static void test_first_sync_checksum_fails(void) {
    fresh(&okx_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(okx_snap(&bs, 0, 1, SNAP, true, spec_sum(SNAP) ^ 1), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 0);
    book_sync_free(&bs);
}
static void test_first_sync_snapshot_crossed(void) {
    fresh(&coinbase_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(plain(&bs, 0, BOOK_UPDATE_SNAPSHOT, "b101:1 a101:1", false, 0), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CROSSED);
    TT_ASSERT_INT(E(0)->state, BOOK_SYNCING);
    TT_ASSERT_INT(E(0)->resyncs, 0);
    book_sync_free(&bs);
}

/* A REST diff with no changes (held first, and live) is a diff like another. */
static void test_rest_empty_diffs(void) {
    fresh(&binance_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(bdiff(&bs, 0, 101, 101, ""), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 102, 102, "b99:2"), BOOK_BUFFERED);
    TT_ASSERT_INT(bdiff(&bs, 0, 103, 103, ""), BOOK_BUFFERED);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 103);
    TT_ASSERT_INT(bdiff(&bs, 0, 104, 104, ""), BOOK_APPLIED);
    TT_ASSERT_INT(E(0)->seq, 104);
    TT_ASSERT_STR(book_str(&E(0)->book), "99:2 98:1 | 101:1 102:1");
    book_sync_free(&bs);
}

/* A REST venue's checksum, where one is sent: checked after the held diffs too. */
static void test_rest_checksum(void) {
    fresh(&rest_sum_ch, 0, 1, 20, NULL);
    TT_ASSERT_INT(rest_snap(&bs, 0, 100, SNAP), BOOK_APPLIED); /* none sent with it */
    TT_ASSERT_INT(checksum_calls, 0);
    struct book_update u = {.symbol = 0,
                            .kind = BOOK_UPDATE_DELTA,
                            .first_seq = 101,
                            .seq = 101,
                            .has_seq = true,
                            .has_first = true,
                            .checksum = spec_sum("b99:2 b98:1 a101:1 a102:1"),
                            .has_checksum = true};
    TT_ASSERT_INT(put(&bs, u, "b99:2", 1), BOOK_APPLIED);
    u.first_seq = u.seq = 102;
    TT_ASSERT_INT(put(&bs, u, "b99:3", 1), BOOK_RESYNC);
    TT_ASSERT_INT(cause, BOOK_CAUSE_CHECKSUM);
    TT_ASSERT_INT(E(0)->state, BOOK_RESYNCING);
    book_sync_free(&bs);
}

int main(void) {
    TT_RUN(test_names_and_init);
    TT_RUN(test_rest_held_before_snapshot_dropped);
    TT_RUN(test_rest_held_bridging_applied);
    TT_RUN(test_rest_snapshot_too_old);
    TT_RUN(test_rest_hole_in_held);
    TT_RUN(test_rest_live);
    TT_RUN(test_rest_first_live_diff);
    TT_RUN(test_rest_empty_diffs);
    TT_RUN(test_rest_held_match_reference);
    TT_RUN(test_rest_held_bound);
    TT_RUN(test_rest_held_changes_bound);
    TT_RUN(test_okx_sequence);
    TT_RUN(test_okx_rest_bridge);
    TT_RUN(test_okx_stream_snapshot_and_rest_resync);
    TT_RUN(test_okx_sequence_restart_while_held);
    TT_RUN(test_checksum_mismatch);
    TT_RUN(test_checksum_exact_text);
    TT_RUN(test_checksum_truncated_book);
    TT_RUN(test_truncated_after_whole_update);
    TT_RUN(test_checksum_unchecked);
    TT_RUN(test_crossed);
    TT_RUN(test_stream_before_snapshot);
    TT_RUN(test_stale_and_lost);
    TT_RUN(test_states);
    TT_RUN(test_outside_range);
    TT_RUN(test_refused_level);
    TT_RUN(test_first_sync_snapshot_too_old);
    TT_RUN(test_first_sync_snapshot_refused);
    TT_RUN(test_first_sync_held_diff_refused);
    TT_RUN(test_first_sync_held_diffs_cross);
    TT_RUN(test_first_sync_checksum_fails);
    TT_RUN(test_first_sync_snapshot_crossed);
    TT_RUN(test_rest_checksum);
    book_sync_free(&bs);
    return tt_finish();
}
