/* instrument.h -- a venue's instrument list: every spot instrument the venue lists, under tickd's name for it, with
 * its status and trading rules as the venue's exact text.
 *
 * A source loads its venue's list over REST (venue.h: venue_ops.instruments) at start and on every refresh. Each
 * entry is a fixed-size value (about 200 bytes, no pointers), so a list is one array: 50,000 instruments take
 * 10 MB, and a list is copied, compared and freed as a whole. A list is sorted by tickd's name (instrument_list_sort)
 * and looked up by binary search.
 *
 * Names: `symbol` is tickd's BASE-QUOTE name, as a config names the instrument ("BTC-USDT"; Kraken's XBT is BTC,
 * XDG is DOGE, as src/venue/kraken.c maps them), so that it can be subscribed under that name; `venue_symbol` is
 * the venue's own name ("BTCUSDT", "BTC-USD", "XXBTZUSD", "BTC-USDT"); `base` and `quote` are the assets as the
 * venue names them ("XXBT", "ZUSD" on Kraken). An instrument whose names tickd cannot write (not two parts of
 * upper-case letters and digits) is not in the list; the parsers count it in `skipped`.
 *
 * Texts: tick and lot sizes are the venue's decimal text exactly ("0.01000000" stays so; never a double), empty
 * when the venue gives none (a Binance symbol without a PRICE_FILTER, an OKX instrument announced but not yet
 * open). The decimals are the venue's own where it states them (Kraken's pair_decimals and lot_decimals), else
 * the decimals of the tick or lot size ("0.01000000" has 2); INSTRUMENT_DECIMALS_UNKNOWN without either.
 *
 * Status: what the venue's status means for market data: TRADING (orders match), HALTED (listed, but nothing
 * matches now: a halt, a break, cancel-only or post-only, not open yet) or DELISTED (the venue says so; an
 * instrument gone from the venue's list is delisted too, see instrument_list_diff). `venue_status` keeps the
 * venue's word ("BREAK", "cancel_only"). */
#ifndef TICKD_INSTRUMENT_H
#define TICKD_INSTRUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/tick.h"

#define INSTRUMENT_NAME_MAX 32    /* the venue's name of an instrument, with its NUL: "BTCUSDT", "XXBTZUSD" */
#define INSTRUMENT_ASSET_MAX 24   /* an asset as the venue names it, with its NUL: "BTC", "XXBT" */
#define INSTRUMENT_STATUS_MAX 24  /* the venue's status word, with its NUL: "TRADING", "cancel_only" */
#define INSTRUMENT_DECIMAL_MAX 32 /* a tick or lot size, with its NUL: "0.01000000" */
#define INSTRUMENT_DECIMALS_MAX 29 /* the most decimals a size may state: 10^-29 is 31 characters */
#define INSTRUMENT_DECIMALS_UNKNOWN 255

enum instrument_status {
    INSTRUMENT_TRADING = 0,
    INSTRUMENT_HALTED,
    INSTRUMENT_DELISTED,
};

/* "trading", "halted", "delisted" ("?" for any other value). */
const char *instrument_status_name(int status);

struct instrument {
    char symbol[TICK_SYMBOL_MAX];             /* tickd's name, BASE-QUOTE: the list's key */
    char venue_symbol[INSTRUMENT_NAME_MAX];   /* the venue's name */
    char base[INSTRUMENT_ASSET_MAX], quote[INSTRUMENT_ASSET_MAX]; /* the assets, as the venue names them */
    char venue_status[INSTRUMENT_STATUS_MAX]; /* the venue's status word, as sent */
    char tick_size[INSTRUMENT_DECIMAL_MAX];   /* price increment, exact text; "" when not given */
    char lot_size[INSTRUMENT_DECIMAL_MAX];    /* size increment, exact text; "" when not given */
    uint8_t price_decimals, size_decimals;    /* INSTRUMENT_DECIMALS_UNKNOWN when not known */
    uint8_t status;                           /* enum instrument_status */
};

/* Every field equal (texts compared as strings: bytes after a field's NUL do not count). */
bool instrument_equal(const struct instrument *a, const struct instrument *b);

/* The decimals of a size's text: the digits after the point up to the last non-zero one ("0.01000000" -> 2,
 * "1.00000000" and "10" -> 0). INSTRUMENT_DECIMALS_UNKNOWN for "", a text that is not a decimal, a size of zero
 * or below (no rule), or more than INSTRUMENT_DECIMALS_MAX decimals. */
uint8_t instrument_decimals_of(const char *size);

/* Upper bound of instrument_json's length (with its NUL) for any instrument and a venue name under
 * TICK_VENUE_MAX, every text escaped at worst. */
#define INSTRUMENT_JSON_MAX 2048

/* One instrument's metadata as a JSON object, what the Redis hash <prefix>:instruments:<venue> holds per symbol
 * and the body of the RabbitMQ message instrument.<venue>.<symbol>:
 *   {"venue":"binance","symbol":"BTC-USDT","venue_symbol":"BTCUSDT","status":"trading","venue_status":"TRADING",
 *    "base":"BTC","quote":"USDT","tick_size":"0.01000000","lot_size":"0.00001000","price_decimals":2,
 *    "size_decimals":5}
 * "venue" only when venue is not NULL; a text not given ("") and unknown decimals are null. Texts are written as
 * they are (no number ever goes through a double or printf), escaped where JSON needs it. Returns the length
 * (the text is NUL-terminated), -ENOSPC when cap is too small, -EINVAL when a text is not terminated within its
 * field or the status is not one of enum instrument_status. */
int instrument_json(const struct instrument *in, const char *venue, char *out, size_t cap);

/* ---- lists ---- */

/* An owned, growable array of instruments. After instrument_list_sort (every parser ends with it) the entries are
 * in strcmp order of symbol, each symbol once. */
struct instrument_list {
    struct instrument *v;
    size_t n, cap;
    size_t skipped;    /* instruments of the answer left out: names tickd cannot write, not spot */
    size_t duplicates; /* entries that named a symbol another entry named too: one is kept (instrument_list_sort) */
};

void instrument_list_init(struct instrument_list *l);
/* Frees the array; l is empty (and usable) after. */
void instrument_list_free(struct instrument_list *l);
/* Forgets every entry and count, keeping the array for reuse. */
void instrument_list_clear(struct instrument_list *l);
/* Exchanges the contents of two lists (a refresh's new list becomes the current one without a copy). */
void instrument_list_swap(struct instrument_list *a, struct instrument_list *b);
/* A new zeroed entry at the end (the list is unsorted until instrument_list_sort), or NULL when out of memory. */
struct instrument *instrument_list_add(struct instrument_list *l);
/* Sorts by symbol and keeps one entry per symbol, whatever order the venue sent them in: the one whose status is
 * the most alive (TRADING, then HALTED, then DELISTED), then the smallest venue_symbol, then the smallest bytes;
 * the others are counted in duplicates. Shrinks an array much larger than its entries. */
void instrument_list_sort(struct instrument_list *l);
/* The entry of `symbol` in a sorted list, or NULL. */
const struct instrument *instrument_list_find(const struct instrument_list *l, const char *symbol);

/* ---- what changed between two lists ---- */

/* An instrument is live while it is in the list with a status other than DELISTED. */
enum instrument_change {
    INSTRUMENT_CHANGE_LISTED = 0, /* live now, not before: new in the list, or back from delisted */
    INSTRUMENT_CHANGE_STATUS,     /* live before and now, its status changed (trading <-> halted) */
    INSTRUMENT_CHANGE_UPDATED,    /* live before and now, the same status, another field changed (a tick size) */
    INSTRUMENT_CHANGE_DELISTED,   /* live before, not now: gone from the list, or listed as delisted */
};

/* "listed", "status", "updated", "delisted" ("?" for any other value). */
const char *instrument_change_name(int change);

/* One change: `before` is NULL for an instrument not in the earlier list, `now` NULL for one gone from the new
 * list. Both point into the lists, valid while they are. */
typedef void instrument_change_fn(void *ctx, enum instrument_change change, const struct instrument *before,
                                  const struct instrument *now);

struct instrument_changes {
    size_t listed, status, updated, delisted;
};

/* Walks two sorted lists once (O(n + m)) and calls fn (may be NULL) for every change, in symbol order. An
 * instrument that is not live in either list is no change, whatever its fields. Returns the number of changes;
 * counts (may be NULL) gets them by kind. */
size_t instrument_list_diff(const struct instrument_list *before, const struct instrument_list *now,
                            instrument_change_fn *fn, void *ctx, struct instrument_changes *counts);

#endif
