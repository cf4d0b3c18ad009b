/* instruments.h -- what the venue adapters share to read their instrument lists (private to src/venue/).
 *
 * An adapter reads its answer with json_scan.h, one instrument at a time, into a struct venue_instrument_text,
 * and venue_instrument_put checks it and appends it. The rules are the same for every venue:
 *   - names: an instrument whose names tickd cannot write (tickd's two parts not upper-case letters and digits,
 *     the venue's texts too long or with bytes outside printable ASCII) is skipped and counted: the venue may list
 *     what tickd has no name for, and the rest of the list is still the venue's list;
 *   - values: a size that is not a decimal (or is negative, or too long to keep exactly), a status word too long
 *     to keep, a field of another type, a required field missing: the answer is malformed, taken not at all;
 *   - venue_instruments_answer: the HTTP status first, then the adapter's reader, then the text must end where the
 *     value ends; a list without a single instrument is malformed too (no venue lists none, and an empty list
 *     would read as every instrument delisted). */
#ifndef TICKD_VENUE_INSTRUMENTS_H
#define TICKD_VENUE_INSTRUMENTS_H

#include <stdbool.h>

#include "json_scan.h"
#include "tickd/instrument.h"
#include "tickd/venue.h"

#define VENUE_TEXT_MAX 64 /* one text of an instrument as read (a longer name skips it, a longer size is malformed) */

/* What an instrument reader's steps return. */
#define VENUE_INST_OK 0
#define VENUE_INST_MALFORMED (-1)
#define VENUE_INST_NOMEM (-2)

/* One instrument as an adapter read it. */
struct venue_instrument_text {
    char base_norm[VENUE_TEXT_MAX], quote_norm[VENUE_TEXT_MAX]; /* tickd's parts of the symbol: "BTC", "USD" */
    char venue_symbol[VENUE_TEXT_MAX];
    char base[VENUE_TEXT_MAX], quote[VENUE_TEXT_MAX]; /* the venue's asset names, "" when not sent */
    char venue_status[VENUE_TEXT_MAX];
    char tick_size[VENUE_TEXT_MAX], lot_size[VENUE_TEXT_MAX]; /* "" when not sent */
    enum instrument_status status;
    int price_decimals, size_decimals; /* the venue's own (0..INSTRUMENT_DECIMALS_MAX), or -1: from the sizes */
    bool unnamed;                      /* a name did not fit VENUE_TEXT_MAX: skipped */
};

/* A fresh text: every field empty, decimals from the sizes. */
void venue_instrument_text_init(struct venue_instrument_text *t);

/* Checks t and appends it to out (see the rules above): VENUE_INST_OK (appended, or skipped and counted in
 * out->skipped), VENUE_INST_MALFORMED or VENUE_INST_NOMEM. */
int venue_instrument_put(struct instrument_list *out, const struct venue_instrument_text *t);

/* A string value that names something into dst (VENUE_TEXT_MAX bytes): VENUE_INST_OK, with *unnamed set when it
 * does not fit (dst empty); VENUE_INST_MALFORMED when the value is not a string. */
int venue_take_name(struct jscan *s, char dst[VENUE_TEXT_MAX], bool *unnamed);
/* A string value that must be kept whole (a size, a status word): VENUE_INST_OK, or VENUE_INST_MALFORMED when it
 * is not a string or does not fit. */
int venue_take_value(struct jscan *s, char dst[VENUE_TEXT_MAX]);
/* An optional boolean: true, false or null (false). VENUE_INST_OK or VENUE_INST_MALFORMED. */
int venue_take_flag(struct jscan *s, bool *v);

/* Splits "BASE<sep>QUOTE" into its two parts (each at most VENUE_TEXT_MAX - 1 bytes); false unless there are
 * exactly two non-empty parts. */
bool venue_instrument_split(const char *name, char sep, char base[VENUE_TEXT_MAX], char quote[VENUE_TEXT_MAX]);

/* An adapter's reader of a 2xx body: the whole value from s, each instrument through venue_instrument_put.
 * VENUE_MSG_TICKS, or what else the answer is (detail: the venue's words, VENUE_DETAIL_MAX bytes). */
typedef enum venue_msg venue_instruments_fn(struct jscan *s, struct instrument_list *out, char *detail);

/* The parse of venue_instruments.parse: out emptied; a status other than 2xx decides (detail from the body's
 * top-level string `detail_key` when it is a JSON object); else fn, then the text must end there and hold at
 * least one instrument; the list is sorted on success and emptied on anything else. */
enum venue_msg venue_instruments_answer(int http_status, const char *body, size_t len, const char *detail_key,
                                        venue_instruments_fn *fn, struct instrument_list *out, char *detail);

/* What a reader's step result makes of the answer: MALFORMED, or ERROR ("out of memory" as detail). */
enum venue_msg venue_instrument_failed(int rc, char *detail);

/* Copies a string's decoded text into detail (VENUE_DETAIL_MAX bytes), cut to fit. */
void venue_instrument_detail(char *detail, const struct jscan_str *str);

#endif
