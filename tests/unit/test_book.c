/* Unit tests of the L2 book (book.h): both sides sorted by exact decimal value whatever the text's form, the
 * same level written two ways, removal by any zero, the max_levels bound, refused texts, crossed books, growth
 * to thousands of levels, book_price_cmp against a slow reference, and a random walk against a simple book. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tickd/book.h"
#include "tickd/decimal.h"
#include "tt.h"

static int set(struct book *b, enum book_side side, const char *price, const char *qty) {
    return book_set(b, side, price, strlen(price), qty, strlen(qty));
}

/* A side as "price:qty price:qty ...", best first. */
static const char *render(const struct book *b, enum book_side side) {
    static char buf[2][8192];
    char *out = buf[side];
    size_t at = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < b->side[side].n && at < sizeof buf[0] - 64; i++)
        at += (size_t)snprintf(out + at, sizeof buf[0] - at, "%s%s:%s", i ? " " : "", b->side[side].lv[i].price,
                               b->side[side].lv[i].qty);
    return out;
}

/* Every side strictly sorted, best first, by book_price_cmp. */
static bool sorted(const struct book *b) {
    for (int s = 0; s < 2; s++)
        for (uint32_t i = 1; i < b->side[s].n; i++) {
            int c = book_price_cmp(b->side[s].lv[i - 1].price, b->side[s].lv[i].price);
            if (s == BOOK_BID ? c <= 0 : c >= 0) return false;
        }
    return true;
}

static void test_state_names(void) {
    TT_ASSERT_STR(book_state_name(BOOK_SYNCING), "syncing");
    TT_ASSERT_STR(book_state_name(BOOK_LIVE), "live");
    TT_ASSERT_STR(book_state_name(BOOK_RESYNCING), "resyncing");
    TT_ASSERT_STR(book_state_name(BOOK_STALE), "stale");
    TT_ASSERT_STR(book_state_name((enum book_state)42), "unknown");
}

static void test_empty(void) {
    struct book b;
    book_init(&b, 0);
    TT_ASSERT_INT(b.max_levels, BOOK_DEPTH_MAX * 5);
    TT_ASSERT_INT(b.side[BOOK_BID].n, 0);
    TT_ASSERT_INT(b.side[BOOK_ASK].n, 0);
    TT_ASSERT(b.side[BOOK_BID].lv == NULL && b.side[BOOK_ASK].lv == NULL); /* nothing allocated yet */
    TT_ASSERT(!book_crossed(&b));
    book_free(&b);
    book_free(&b); /* twice: harmless */
    book_init(&b, 7);
    TT_ASSERT_INT(b.max_levels, 7);
    book_free(&b);
}

/* Prices of different lengths and forms sort by value, never by text. */
static void test_sorted_by_value(void) {
    struct book b;
    book_init(&b, 0);
    const char *prices[] = {"10", "9.5", "100", "0.001", "0.0001", "99.99", "9.55", "9.049", "1000.5", "0.01", "1"};
    for (size_t i = 0; i < sizeof prices / sizeof prices[0]; i++) {
        TT_ASSERT_INT(set(&b, BOOK_ASK, prices[i], "1"), 1);
        TT_ASSERT_INT(set(&b, BOOK_BID, prices[i], "2"), 1);
    }
    TT_ASSERT_STR(render(&b, BOOK_ASK),
                  "0.0001:1 0.001:1 0.01:1 1:1 9.049:1 9.5:1 9.55:1 10:1 99.99:1 100:1 1000.5:1");
    TT_ASSERT_STR(render(&b, BOOK_BID),
                  "1000.5:2 100:2 99.99:2 10:2 9.55:2 9.5:2 9.049:2 1:2 0.01:2 0.001:2 0.0001:2");
    TT_ASSERT(sorted(&b));
    book_free(&b);
}

/* One level written two ways ("100.10" and "100.1", "7" and "007.000"): the size updates and the level keeps the
 * price text it was first given (the checksum venues send one form per level). */
static void test_same_level_other_text(void) {
    struct book b;
    book_init(&b, 0);
    TT_ASSERT_INT(set(&b, BOOK_BID, "100.10", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "100.1", "2"), 1);
    TT_ASSERT_INT(b.side[BOOK_BID].n, 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "100.10:2");
    TT_ASSERT_INT(set(&b, BOOK_BID, "0100.100000", "3"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "100.10:3");
    TT_ASSERT_INT(set(&b, BOOK_ASK, "7", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "007.000", "5"), 1);
    TT_ASSERT_STR(render(&b, BOOK_ASK), "7:5");
    /* removed by another form of its price */
    TT_ASSERT_INT(set(&b, BOOK_ASK, "7.0", "0"), 1);
    TT_ASSERT_INT(b.side[BOOK_ASK].n, 0);
    TT_ASSERT_INT(set(&b, BOOK_BID, "100.1000", "0.0"), 1);
    TT_ASSERT_INT(b.side[BOOK_BID].n, 0);
    book_free(&b);
}

/* Any zero removes: "0", "0.000", "00", "000.0"; removing an absent level changes nothing. */
static void test_removal(void) {
    struct book b;
    book_init(&b, 0);
    const char *zeros[] = {"0", "0.000", "00", "000.0", "0.00000000000000000000"};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++) {
        TT_ASSERT_INT(set(&b, BOOK_ASK, "5", "1"), 1);
        TT_ASSERT_INT(set(&b, BOOK_ASK, "6", "1"), 1);
        TT_ASSERT_INT(set(&b, BOOK_ASK, "4", "1"), 1);
        TT_ASSERT_INT(set(&b, BOOK_ASK, "5", zeros[i]), 1);
        TT_ASSERT_STR(render(&b, BOOK_ASK), "4:1 6:1");
        TT_ASSERT_INT(set(&b, BOOK_ASK, "5", zeros[i]), 0); /* absent now */
        TT_ASSERT_INT(set(&b, BOOK_ASK, "4", zeros[i]), 1); /* the best */
        TT_ASSERT_INT(set(&b, BOOK_ASK, "6", zeros[i]), 1); /* the last */
        TT_ASSERT_INT(b.side[BOOK_ASK].n, 0);
        TT_ASSERT_INT(set(&b, BOOK_ASK, "6", zeros[i]), 0); /* absent from an empty side */
    }
    /* an absent level between two present ones, and on the other side of the same price */
    TT_ASSERT_INT(set(&b, BOOK_BID, "10", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "8", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "9", "0"), 0);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10", "0"), 0);
    TT_ASSERT_STR(render(&b, BOOK_BID), "10:1 8:1");
    TT_ASSERT_STR(render(&b, BOOK_ASK), "");
    book_free(&b);
}

/* The same size again is no change; the same size in another text is (the text is what checksums read). */
static void test_same_size(void) {
    struct book b;
    book_init(&b, 0);
    TT_ASSERT_INT(set(&b, BOOK_BID, "1.5", "2.25"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "1.5", "2.25"), 0);
    TT_ASSERT_INT(set(&b, BOOK_BID, "1.50", "2.25"), 0);
    TT_ASSERT_STR(render(&b, BOOK_BID), "1.5:2.25");
    TT_ASSERT_INT(set(&b, BOOK_BID, "1.5", "2.250"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "1.5:2.250");
    TT_ASSERT_INT(set(&b, BOOK_BID, "1.5", "3"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "1.5:3");
    book_free(&b);
}

/* max_levels: a level beyond is not kept; a better one drops the worst; after removals there is room again. */
static void test_max_levels(void) {
    struct book b;
    book_init(&b, 3);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "11", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "12", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "13", "1"), 0); /* beyond */
    TT_ASSERT_STR(render(&b, BOOK_ASK), "10:1 11:1 12:1");
    TT_ASSERT_INT(set(&b, BOOK_ASK, "13", "0"), 0);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "9", "2"), 1); /* better: 12 goes */
    TT_ASSERT_STR(render(&b, BOOK_ASK), "9:2 10:1 11:1");
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10.5", "3"), 1); /* between: 11 goes */
    TT_ASSERT_STR(render(&b, BOOK_ASK), "9:2 10:1 10.5:3");
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10.50", "4"), 1); /* present, at the edge: updated */
    TT_ASSERT_STR(render(&b, BOOK_ASK), "9:2 10:1 10.5:4");
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10.6", "4"), 0); /* just beyond the worst */
    TT_ASSERT_INT(set(&b, BOOK_ASK, "9", "0"), 1);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10.6", "4"), 1); /* room again */
    TT_ASSERT_STR(render(&b, BOOK_ASK), "10:1 10.5:4 10.6:4");
    /* bids: the worst is the lowest */
    TT_ASSERT_INT(set(&b, BOOK_BID, "5", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "4", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "3", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "2", "1"), 0);
    TT_ASSERT_INT(set(&b, BOOK_BID, "6", "1"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "6:1 5:1 4:1");
    TT_ASSERT_INT(set(&b, BOOK_BID, "4.5", "1"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "6:1 5:1 4.5:1");
    TT_ASSERT(b.side[BOOK_BID].cap <= 3 && b.side[BOOK_ASK].cap <= 3); /* never more memory than the bound */
    book_free(&b);

    /* one level a side */
    book_init(&b, 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "5", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "4", "1"), 0);
    TT_ASSERT_INT(set(&b, BOOK_BID, "6", "2"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "6:2");
    TT_ASSERT_INT(set(&b, BOOK_BID, "6", "0"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "4", "1"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "4:1");
    book_free(&b);
}

/* Refused texts leave the book as it was. */
static void test_refused(void) {
    struct book b;
    book_init(&b, 0);
    TT_ASSERT_INT(set(&b, BOOK_BID, "10", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "11", "1"), 1);
    const char *bad_prices[] = {"-1", "-0.5", "abc", "", "1e5", "+1", " 1", "1 ", "1.", ".5", "1.2.3", "0x10",
                                "0", "0.0", "00", "0.000000", "-0", "１", "1,5", "nan", "inf"};
    for (size_t i = 0; i < sizeof bad_prices / sizeof bad_prices[0]; i++)
        for (int s = 0; s < 2; s++) {
            if (book_set(&b, (enum book_side)s, bad_prices[i], strlen(bad_prices[i]), "1", 1) != -EINVAL)
                TT_FAIL("price \"%s\" side %d not refused", bad_prices[i], s);
        }
    const char *bad_qtys[] = {"-1", "-0.5", "abc", "", "1e5", "+1", " 1", "1.", ".5", "1.2.3", "-0"};
    for (size_t i = 0; i < sizeof bad_qtys / sizeof bad_qtys[0]; i++)
        for (int s = 0; s < 2; s++) {
            /* at a present level and at an absent one */
            const char *p = s == BOOK_BID ? "10" : "11";
            if (book_set(&b, (enum book_side)s, p, strlen(p), bad_qtys[i], strlen(bad_qtys[i])) != -EINVAL)
                TT_FAIL("qty \"%s\" at a present level not refused", bad_qtys[i]);
            if (book_set(&b, (enum book_side)s, "10.5", 4, bad_qtys[i], strlen(bad_qtys[i])) != -EINVAL)
                TT_FAIL("qty \"%s\" at an absent level not refused", bad_qtys[i]);
        }
    /* a side that is neither */
    TT_ASSERT_INT(book_set(&b, (enum book_side)2, "10", 2, "1", 1), -EINVAL);
    TT_ASSERT_INT(book_set(&b, (enum book_side)-1, "10", 2, "1", 1), -EINVAL);

    /* BOOK_TEXT_MAX - 1 characters fit, BOOK_TEXT_MAX do not */
    char longest[BOOK_TEXT_MAX + 8];
    memset(longest, 0, sizeof longest);
    longest[0] = '1';
    longest[1] = '.';
    memset(longest + 2, '5', BOOK_TEXT_MAX - 3);
    TT_ASSERT_INT(strlen(longest), BOOK_TEXT_MAX - 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, longest, "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "2", longest), 1);
    TT_ASSERT_STR(b.side[BOOK_BID].lv[0].price, "10");
    TT_ASSERT_STR(b.side[BOOK_BID].lv[1].price, "2");
    TT_ASSERT_STR(b.side[BOOK_BID].lv[1].qty, longest);
    TT_ASSERT_STR(b.side[BOOK_BID].lv[2].price, longest);
    longest[BOOK_TEXT_MAX - 1] = '5';
    TT_ASSERT_INT(strlen(longest), BOOK_TEXT_MAX);
    TT_ASSERT_INT(set(&b, BOOK_BID, longest, "1"), -EINVAL);
    TT_ASSERT_INT(set(&b, BOOK_BID, "3", longest), -EINVAL);
    TT_ASSERT_INT(set(&b, BOOK_BID, "2", longest), -EINVAL); /* present level, too-long size */
    /* a zero too long to hold is refused too, not taken as a removal */
    char longzero[BOOK_TEXT_MAX + 1];
    memset(longzero, '0', BOOK_TEXT_MAX);
    longzero[1] = '.';
    longzero[BOOK_TEXT_MAX] = 0;
    TT_ASSERT_INT(set(&b, BOOK_BID, "2", longzero), -EINVAL);
    TT_ASSERT_INT(b.side[BOOK_BID].n, 3);

    /* spans are read to their length only: the bytes after do not count */
    TT_ASSERT_INT(book_set(&b, BOOK_ASK, "12xyz", 2, "4junk", 1), 1);
    TT_ASSERT_STR(render(&b, BOOK_ASK), "11:1 12:4");
    TT_ASSERT_INT(book_set(&b, BOOK_ASK, "12", 0, "1", 1), -EINVAL);
    TT_ASSERT_INT(book_set(&b, BOOK_ASK, "12", 2, "1", 0), -EINVAL);

    /* the book is what the accepted calls made it */
    TT_ASSERT_INT(b.side[BOOK_BID].n, 3);
    TT_ASSERT_INT(b.side[BOOK_ASK].n, 2);
    TT_ASSERT(sorted(&b));
    book_free(&b);
}

static void test_crossed(void) {
    struct book b;
    book_init(&b, 0);
    TT_ASSERT(!book_crossed(&b));
    TT_ASSERT_INT(set(&b, BOOK_BID, "10", "1"), 1);
    TT_ASSERT(!book_crossed(&b)); /* one side only */
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10.01", "1"), 1);
    TT_ASSERT(!book_crossed(&b));
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10.000", "1"), 1); /* equality, in another text */
    TT_ASSERT(book_crossed(&b));
    TT_ASSERT_INT(set(&b, BOOK_ASK, "10.000", "0"), 1);
    TT_ASSERT(!book_crossed(&b));
    TT_ASSERT_INT(set(&b, BOOK_BID, "10.02", "1"), 1); /* beyond */
    TT_ASSERT(book_crossed(&b));
    TT_ASSERT_INT(set(&b, BOOK_BID, "10.02", "0"), 1);
    TT_ASSERT_INT(set(&b, BOOK_BID, "10.009", "1"), 1);
    TT_ASSERT(!book_crossed(&b));
    TT_ASSERT_INT(set(&b, BOOK_BID, "9", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "9.5", "1"), 1); /* best ask below the best bid, not the other asks */
    TT_ASSERT(book_crossed(&b));
    TT_ASSERT_INT(set(&b, BOOK_ASK, "9.5", "0"), 1);
    TT_ASSERT(!book_crossed(&b));
    book_free(&b);
}

/* book_clear empties both sides and keeps their memory; the book fills again from empty. */
static void test_clear_keeps_memory(void) {
    struct book b;
    book_init(&b, 0);
    char p[32];
    for (int i = 1; i <= 100; i++) {
        snprintf(p, sizeof p, "%d", i);
        TT_ASSERT_INT(set(&b, BOOK_BID, p, "1"), 1);
        snprintf(p, sizeof p, "%d", 1000 + i);
        TT_ASSERT_INT(set(&b, BOOK_ASK, p, "1"), 1);
    }
    struct book_level *bids = b.side[BOOK_BID].lv, *asks = b.side[BOOK_ASK].lv;
    uint32_t bcap = b.side[BOOK_BID].cap, acap = b.side[BOOK_ASK].cap;
    TT_ASSERT(bcap >= 100 && acap >= 100);
    book_clear(&b);
    TT_ASSERT_INT(b.side[BOOK_BID].n, 0);
    TT_ASSERT_INT(b.side[BOOK_ASK].n, 0);
    TT_ASSERT(b.side[BOOK_BID].lv == bids && b.side[BOOK_ASK].lv == asks);
    TT_ASSERT_INT(b.side[BOOK_BID].cap, bcap);
    TT_ASSERT_INT(b.side[BOOK_ASK].cap, acap);
    TT_ASSERT(!book_crossed(&b));
    TT_ASSERT_INT(set(&b, BOOK_BID, "50", "0"), 0); /* what was there is gone */
    TT_ASSERT_INT(set(&b, BOOK_BID, "50", "2"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "50:2");
    TT_ASSERT(b.side[BOOK_BID].lv == bids);
    TT_ASSERT_INT(b.max_levels, BOOK_DEPTH_MAX * 5);
    book_free(&b);
    TT_ASSERT(b.side[BOOK_BID].lv == NULL && b.side[BOOK_BID].n == 0 && b.side[BOOK_BID].cap == 0);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "1", "1"), 1); /* usable again after book_free */
    book_free(&b);
}

/* book_truncate keeps the best `levels` a side, and the memory. */
static void test_truncate(void) {
    struct book b;
    book_init(&b, 0);
    const char *bids[] = {"5", "4.5", "4", "3", "10"}, *asks[] = {"11", "12", "11.5"};
    for (size_t i = 0; i < 5; i++) TT_ASSERT_INT(set(&b, BOOK_BID, bids[i], "1"), 1);
    for (size_t i = 0; i < 3; i++) TT_ASSERT_INT(set(&b, BOOK_ASK, asks[i], "2"), 1);
    struct book_level *lv = b.side[BOOK_BID].lv;
    book_truncate(&b, 10);
    TT_ASSERT_STR(render(&b, BOOK_BID), "10:1 5:1 4.5:1 4:1 3:1");
    TT_ASSERT_STR(render(&b, BOOK_ASK), "11:2 11.5:2 12:2");
    book_truncate(&b, 3);
    TT_ASSERT_STR(render(&b, BOOK_BID), "10:1 5:1 4.5:1");
    TT_ASSERT_STR(render(&b, BOOK_ASK), "11:2 11.5:2 12:2");
    book_truncate(&b, 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "10:1");
    TT_ASSERT_STR(render(&b, BOOK_ASK), "11:2");
    TT_ASSERT(b.side[BOOK_BID].lv == lv);
    TT_ASSERT_INT(set(&b, BOOK_BID, "4", "0"), 0); /* gone */
    TT_ASSERT_INT(set(&b, BOOK_BID, "4", "7"), 1);
    TT_ASSERT_STR(render(&b, BOOK_BID), "10:1 4:7");
    book_truncate(&b, 0);
    TT_ASSERT_INT(b.side[BOOK_BID].n, 0);
    TT_ASSERT_INT(b.side[BOOK_ASK].n, 0);
    book_free(&b);
    book_truncate(&b, 5); /* an empty book */
    TT_ASSERT_INT(b.side[BOOK_BID].n, 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Thousands of levels a side, inserted out of order, up to the default bound and past it. */
static void test_thousands(void) {
    struct book b;
    book_init(&b, 0);
    const uint32_t max = BOOK_DEPTH_MAX * 5;
    /* a permutation of 1..max: level i is price i/100 ("0.01" .. "50"), text written in varying forms */
    static uint32_t order[BOOK_DEPTH_MAX * 5];
    for (uint32_t i = 0; i < max; i++) order[i] = i + 1;
    for (uint32_t i = max - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rnd() % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    char p[32];
    for (uint32_t k = 0; k < max; k++) {
        uint32_t i = order[k];
        if (i % 100 == 0) snprintf(p, sizeof p, "%u", i / 100);
        else if (i % 10 == 0) snprintf(p, sizeof p, "%u.%u", i / 100, (i % 100) / 10);
        else snprintf(p, sizeof p, "%u.%02u", i / 100, i % 100);
        TT_ASSERT_INT(set(&b, BOOK_BID, p, "1"), 1);
        TT_ASSERT_INT(set(&b, BOOK_ASK, p, "2"), 1);
    }
    TT_ASSERT_INT(b.side[BOOK_BID].n, max);
    TT_ASSERT_INT(b.side[BOOK_ASK].n, max);
    TT_ASSERT(sorted(&b));
    TT_ASSERT_STR(b.side[BOOK_BID].lv[0].price, "50");
    TT_ASSERT_STR(b.side[BOOK_BID].lv[max - 1].price, "0.01");
    TT_ASSERT_STR(b.side[BOOK_ASK].lv[0].price, "0.01");
    TT_ASSERT_STR(b.side[BOOK_ASK].lv[max - 1].price, "50");
    TT_ASSERT_STR(b.side[BOOK_ASK].lv[9].price, "0.1");
    TT_ASSERT(b.side[BOOK_BID].cap == max); /* grown by doubling, capped at the bound */
    /* past the bound: worse is not kept, better drops the worst */
    TT_ASSERT_INT(set(&b, BOOK_BID, "0.005", "1"), 0);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "50.001", "1"), 0);
    TT_ASSERT_INT(set(&b, BOOK_BID, "50.5", "1"), 1);
    TT_ASSERT_INT(set(&b, BOOK_ASK, "0.005", "1"), 1);
    TT_ASSERT_INT(b.side[BOOK_BID].n, max);
    TT_ASSERT_STR(b.side[BOOK_BID].lv[0].price, "50.5");
    TT_ASSERT_STR(b.side[BOOK_BID].lv[max - 1].price, "0.02");
    TT_ASSERT_STR(b.side[BOOK_ASK].lv[0].price, "0.005");
    TT_ASSERT_STR(b.side[BOOK_ASK].lv[max - 1].price, "49.99");
    /* remove every other level by its other written form */
    for (uint32_t i = 2; i <= max; i += 2) {
        snprintf(p, sizeof p, "%u.%02u0", i / 100, i % 100);
        TT_ASSERT_INT(set(&b, BOOK_BID, p, "0"), 1);
    }
    TT_ASSERT_INT(b.side[BOOK_BID].n, max / 2); /* 50.5 and the odd hundredths 0.03 .. 49.99 */
    TT_ASSERT(sorted(&b));
    for (uint32_t i = 1; i < b.side[BOOK_BID].n; i++) {
        /* what is left: 50.5, then the odd hundredths */
        uint32_t want = max + 1 - 2 * i;
        snprintf(p, sizeof p, "%u.%02u", want / 100, want % 100);
        TT_ASSERT_INT(book_price_cmp(b.side[BOOK_BID].lv[i].price, p), 0);
    }
    book_free(&b);
}

/* ---- book_price_cmp against a slow reference: both texts padded to the same integer and fraction widths,
 * then compared as strings; and decimal_compare, written apart. ---- */
static int slow_cmp(const char *a, const char *b) {
    char ai[64] = "", af[64] = "", bi[64] = "", bf[64] = "";
    const char *d = strchr(a, '.');
    snprintf(ai, sizeof ai, "%.*s", d ? (int)(d - a) : (int)strlen(a), a);
    snprintf(af, sizeof af, "%s", d ? d + 1 : "");
    d = strchr(b, '.');
    snprintf(bi, sizeof bi, "%.*s", d ? (int)(d - b) : (int)strlen(b), b);
    snprintf(bf, sizeof bf, "%s", d ? d + 1 : "");
    char pa[160], pb[160];
    size_t iw = strlen(ai) > strlen(bi) ? strlen(ai) : strlen(bi);
    size_t fw = strlen(af) > strlen(bf) ? strlen(af) : strlen(bf);
    memset(pa, '0', iw + fw);
    memset(pb, '0', iw + fw);
    memcpy(pa + iw - strlen(ai), ai, strlen(ai));
    memcpy(pb + iw - strlen(bi), bi, strlen(bi));
    memcpy(pa + iw, af, strlen(af));
    memcpy(pb + iw, bf, strlen(bf));
    int c = memcmp(pa, pb, iw + fw);
    return c < 0 ? -1 : c > 0;
}

static void random_decimal(char *out, size_t cap) {
    char buf[64];
    size_t at = 0;
    size_t lead = rnd() % 4 == 0 ? rnd() % 3 : 0; /* leading zeros */
    for (size_t i = 0; i < lead; i++) buf[at++] = '0';
    size_t idig = 1 + rnd() % 6;
    for (size_t i = 0; i < idig; i++) buf[at++] = (char)('0' + (rnd() % 4 == 0 ? 0 : rnd() % 10));
    if (rnd() % 3) {
        buf[at++] = '.';
        size_t fdig = 1 + rnd() % 8;
        for (size_t i = 0; i < fdig; i++) buf[at++] = (char)('0' + (rnd() % 3 == 0 ? 0 : rnd() % 10));
        size_t trail = rnd() % 3;
        for (size_t i = 0; i < trail; i++) buf[at++] = '0';
    }
    buf[at] = 0;
    snprintf(out, cap, "%s", buf);
}

/* The same value in another form: leading zeros added or removed, trailing fraction zeros added or removed. */
static void reform(const char *in, char *out, size_t cap) {
    char buf[96];
    const char *s = in;
    while (*s == '0' && s[1] && s[1] != '.') s++;
    size_t lead = rnd() % 3;
    size_t at = 0;
    for (size_t i = 0; i < lead; i++) buf[at++] = '0';
    at += (size_t)snprintf(buf + at, sizeof buf - at, "%s", s);
    char *dot = strchr(buf, '.');
    if (dot) {
        while (at > (size_t)(dot - buf) + 2 && buf[at - 1] == '0' && rnd() % 2) buf[--at] = 0;
        if (at == (size_t)(dot - buf) + 2 && buf[at - 1] == '0' && rnd() % 2) buf[at = (size_t)(dot - buf)] = 0;
    } else if (rnd() % 2) {
        buf[at++] = '.';
        buf[at++] = '0';
        buf[at] = 0;
    }
    size_t trail = dot || rnd() % 2 ? rnd() % 3 : 0;
    if (strchr(buf, '.'))
        for (size_t i = 0; i < trail; i++) buf[at++] = '0';
    buf[at] = 0;
    snprintf(out, cap, "%s", buf);
}

static void check_cmp(const char *a, const char *b) {
    int want = slow_cmp(a, b), got = book_price_cmp(a, b), order = 9;
    if (got != want) TT_FAIL("book_price_cmp(\"%s\", \"%s\") == %d, expected %d", a, b, got, want);
    if (book_price_cmp(b, a) != -want) TT_FAIL("book_price_cmp(\"%s\", \"%s\") not antisymmetric", b, a);
    if (decimal_compare(a, b, &order) != 0 || order != want)
        TT_FAIL("the reference disagrees with decimal_compare on \"%s\" \"%s\"", a, b);
}

static void test_price_cmp(void) {
    TT_ASSERT_INT(book_price_cmp("9.5", "10"), -1);
    TT_ASSERT_INT(book_price_cmp("10", "9.5"), 1);
    TT_ASSERT_INT(book_price_cmp("0.0001", "0.001"), -1);
    TT_ASSERT_INT(book_price_cmp("100.10", "100.1"), 0);
    TT_ASSERT_INT(book_price_cmp("100.1", "100.10"), 0);
    TT_ASSERT_INT(book_price_cmp("007", "7.000"), 0);
    TT_ASSERT_INT(book_price_cmp("0", "0.0"), 0);
    TT_ASSERT_INT(book_price_cmp("00", "0"), 0);
    TT_ASSERT_INT(book_price_cmp("0.1", "00.09"), 1);
    TT_ASSERT_INT(book_price_cmp("1.000000001", "1"), 1);
    TT_ASSERT_INT(book_price_cmp("1", "1.000000001"), -1);
    TT_ASSERT_INT(book_price_cmp("99999999999999999999.5", "100000000000000000000"), -1);
    static const char *fixed[] = {"0",      "0.0",    "00",      "0.00001", "0.0001", "0.001",    "0.01",
                                  "0.1",    "0.10",   "0.09",    "0.099",   "1",      "1.0",      "01",
                                  "001.00", "1.01",   "1.001",   "1.1",     "9",      "9.5",      "9.50",
                                  "9.05",   "10",     "010",     "10.0",    "10.01",  "99.999",   "100",
                                  "100.1",  "100.10", "100.100", "100.09",  "100.01", "1000",     "999.9999",
                                  "65000.1", "65000.10", "65000.01", "650001", "6500.01", "123456789.123456789"};
    size_t nf = sizeof fixed / sizeof fixed[0];
    for (size_t i = 0; i < nf; i++)
        for (size_t j = 0; j < nf; j++) check_cmp(fixed[i], fixed[j]);
    char a[64], b[64];
    for (int i = 0; i < 200000; i++) {
        random_decimal(a, sizeof a);
        switch (i % 3) {
        case 0: random_decimal(b, sizeof b); break;
        case 1: reform(a, b, sizeof b); break; /* equal values in other forms */
        default: {                             /* one digit apart */
            reform(a, b, sizeof b);
            size_t len = strlen(b), k = rnd() % len;
            if (b[k] != '.') b[k] = (char)('0' + (b[k] - '0' + 1 + rnd() % 9) % 10);
        }
        }
        check_cmp(a, b);
        if (i % 3 == 1 && book_price_cmp(a, b) != 0) TT_FAIL("\"%s\" and \"%s\" differ", a, b);
    }
}

/* ---- a random walk against a simple reference book: an unsorted array of levels keyed by the number the price
 * text was written from (quarters), so it shares no comparison with the book ---- */
struct ref_level {
    uint32_t key;
    char price[BOOK_TEXT_MAX], qty[BOOK_TEXT_MAX];
};
struct ref_book {
    struct ref_level lv[2][512];
    size_t n[2];
    size_t max;
};

static bool better_key(int side, uint32_t a, uint32_t b) { return side == BOOK_BID ? a > b : a < b; }

static int ref_set(struct ref_book *r, int side, uint32_t key, const char *p, const char *q, bool zero) {
    size_t n = r->n[side];
    for (size_t i = 0; i < n; i++)
        if (r->lv[side][i].key == key) {
            if (zero) {
                r->lv[side][i] = r->lv[side][n - 1];
                r->n[side]--;
                return 1;
            }
            if (strcmp(r->lv[side][i].qty, q) == 0) return 0;
            snprintf(r->lv[side][i].qty, BOOK_TEXT_MAX, "%s", q);
            return 1;
        }
    if (zero) return 0;
    size_t better = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (better_key(side, r->lv[side][i].key, key)) better++;
        if (better_key(side, r->lv[side][worst].key, r->lv[side][i].key)) worst = i;
    }
    if (better >= r->max) return 0;
    if (n == r->max) r->lv[side][worst] = r->lv[side][--r->n[side]];
    struct ref_level *l = &r->lv[side][r->n[side]++];
    l->key = key;
    snprintf(l->price, BOOK_TEXT_MAX, "%s", p);
    snprintf(l->qty, BOOK_TEXT_MAX, "%s", q);
    return 1;
}

static int ref_side;
static int ref_order(const void *a, const void *b) {
    uint32_t x = ((const struct ref_level *)a)->key, y = ((const struct ref_level *)b)->key;
    return x == y ? 0 : better_key(ref_side, x, y) ? -1 : 1;
}

/* The reference side sorted, rendered as render() does. */
static const char *ref_render(struct ref_book *r, int side) {
    static char buf[16384];
    static struct ref_level tmp[512];
    size_t n = r->n[side];
    memcpy(tmp, r->lv[side], n * sizeof tmp[0]);
    ref_side = side;
    qsort(tmp, n, sizeof tmp[0], ref_order);
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s:%s", i ? " " : "", tmp[i].price, tmp[i].qty);
    return buf;
}

static void random_walk(uint32_t max_levels, size_t ref_max, int steps, int grid) {
    struct book b;
    book_init(&b, max_levels);
    static struct ref_book r;
    memset(&r, 0, sizeof r);
    r.max = ref_max;
    static const char *qtys[] = {"0", "0.000", "00", "1", "1.0", "1.00", "2.5", "2.50", "3", "0.001", "17", "4.2"};
    char p[BOOK_TEXT_MAX];
    for (int step = 0; step < steps; step++) {
        int side = (int)(rnd() % 2);
        uint32_t k = 1 + (uint32_t)(rnd() % (uint32_t)grid); /* price k/4, written in one of several forms */
        uint32_t ip = k / 4, fp = (k % 4) * 25;
        switch (rnd() % 5) {
        case 0: snprintf(p, sizeof p, fp ? "%u.%02u" : "%u", ip, fp); break;
        case 1: snprintf(p, sizeof p, "%u.%02u0", ip, fp); break;
        case 2: snprintf(p, sizeof p, "0%u.%02u", ip, fp); break;
        case 3: snprintf(p, sizeof p, fp % 10 ? "%u.%02u" : "%u.%u", ip, fp % 10 ? fp : fp / 10); break;
        default: snprintf(p, sizeof p, "%u.%02u%s", ip, fp, "0000"); break;
        }
        size_t qi = rnd() % (sizeof qtys / sizeof qtys[0]);
        const char *q = qtys[qi];
        int want = ref_set(&r, side, k, p, q, qi < 3);
        int got = set(&b, (enum book_side)side, p, q);
        if (got != want) TT_FAIL("step %d: book_set(%d, \"%s\", \"%s\") == %d, expected %d", step, side, p, q, got,
                                 want);
        if (b.side[side].n != r.n[side]) TT_FAIL("step %d: %u levels, expected %zu", step, b.side[side].n, r.n[side]);
        if (step % 3 == 0 || step == steps - 1)
            for (int s = 0; s < 2; s++) {
                const char *mine = render(&b, (enum book_side)s), *theirs = ref_render(&r, s);
                if (strcmp(mine, theirs) != 0)
                    TT_FAIL("step %d side %d:\n      book %s\n      ref  %s", step, s, mine, theirs);
            }
        uint32_t bb = 0, ba = UINT32_MAX;
        for (size_t i = 0; i < r.n[0]; i++)
            if (r.lv[0][i].key > bb) bb = r.lv[0][i].key;
        for (size_t i = 0; i < r.n[1]; i++)
            if (r.lv[1][i].key < ba) ba = r.lv[1][i].key;
        bool crossed = r.n[0] && r.n[1] && bb >= ba;
        if (book_crossed(&b) != crossed) TT_FAIL("step %d: book_crossed disagrees", step);
        if (step % 5000 == 4999) { /* now and then a fresh snapshot */
            book_clear(&b);
            r.n[0] = r.n[1] = 0;
        }
    }
    book_free(&b);
}

static void test_random_unbounded(void) { random_walk(0, 512, 60000, 200); }
static void test_random_bounded(void) { random_walk(8, 8, 60000, 60); }
static void test_random_one_level(void) { random_walk(1, 1, 20000, 20); }

int main(void) {
    TT_RUN(test_state_names);
    TT_RUN(test_empty);
    TT_RUN(test_sorted_by_value);
    TT_RUN(test_same_level_other_text);
    TT_RUN(test_removal);
    TT_RUN(test_same_size);
    TT_RUN(test_max_levels);
    TT_RUN(test_refused);
    TT_RUN(test_crossed);
    TT_RUN(test_clear_keeps_memory);
    TT_RUN(test_truncate);
    TT_RUN(test_thousands);
    TT_RUN(test_price_cmp);
    TT_RUN(test_random_unbounded);
    TT_RUN(test_random_bounded);
    TT_RUN(test_random_one_level);
    return tt_finish();
}
