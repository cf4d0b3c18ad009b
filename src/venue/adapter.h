/* adapter.h -- helpers shared by the venue adapters in src/venue/ (private to this folder).
 *
 * They keep each adapter down to the venue's own field names: copying and checking decimal text, mapping a
 * JSON symbol through the table, claiming the next tick slot, and building comma-separated lists of names
 * that stop before a size cap. None of them allocates. */
#ifndef TICKD_VENUE_ADAPTER_H
#define TICKD_VENUE_ADAPTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tickd/fmt.h"
#include "tickd/venue.h"

/* An adapter's classifier of one parsed message; req is NULL for websocket frames. */
typedef enum venue_msg venue_json_fn(const json_t *root, const struct venue_request *req,
                                     const struct venue_symbols *s, struct venue_out *out);

/* The ticks written since `mark` hold market values (decimal_tick_values_ok: prices above zero, sizes not
 * below): kind as given, or for a message carrying one that does not, MALFORMED with its ticks forgotten.
 * Every parse ends here (venue_parse_frame, venue_parse_answer, each fast path), so a frame is refused alike
 * by the fast reader and by jansson. */
int venue_out_checked(struct venue_out *out, size_t mark, int kind);

/* Parses a frame (jansson `flags`) and classifies it; not JSON is MALFORMED. Ticks are kept only when the
 * result is TICKS: a message is taken whole or not at all. */
enum venue_msg venue_parse_frame(const char *text, size_t len, size_t flags, venue_json_fn *fn,
                                 const struct venue_symbols *s, struct venue_out *out);

/* The same for a REST answer: the HTTP status decides first (the body's `detail_key` string, when given, is
 * kept as detail); a 2xx body goes to fn. */
enum venue_msg venue_parse_answer(const struct venue_request *req, int http_status, const char *body, size_t len,
                                  const char *detail_key, venue_json_fn *fn, const struct venue_symbols *s,
                                  struct venue_out *out);

/* A scope in which jansson allocates from a per-thread arena rewound at its end (json_arena.c). Every json_t
 * made inside must be released inside, on the same thread. Scopes nest. */
void venue_arena_begin(void);
void venue_arena_end(void);

/* The members of a shallow frame (json_flat.c): an object of plain strings and numbers, holding objects and
 * arrays of such at most four levels deep. venue_flat_parse returns 0, or -1 for any text outside that strict
 * subset of JSON, which the caller then parses with jansson: the flat reader accelerates, it never decides
 * alone. Members are in document order, a container before its children; array elements have key NULL. */
#define VENUE_FLAT_MAX 64
enum venue_flat_type {
    VENUE_FLAT_STRING,
    VENUE_FLAT_UINT,   /* an unsigned integer of at most 18 digits */
    VENUE_FLAT_NUMBER, /* any other number (negative, with a fraction); never an exponent */
    VENUE_FLAT_OBJECT,
    VENUE_FLAT_ARRAY,
};
struct venue_flat_member {
    const char *key;
    size_t key_len;
    int parent; /* index of the enclosing container member, -1 at the top */
    enum venue_flat_type type;
    const char *str; /* STRING: the text between the quotes (no escapes in it); UINT, NUMBER: the number's text */
    size_t len;
    uint64_t num; /* UINT */
    int end;      /* index past this member and everything inside it: a lookup among its children stops there */
};
struct venue_flat {
    struct venue_flat_member *m; /* own, or the caller's (venue_flat_parse_in) */
    size_t n, cap;
    struct venue_flat_member own[VENUE_FLAT_MAX];
};
int venue_flat_parse(const char *text, size_t len, struct venue_flat *out);
/* The same into the caller's array of `cap` members instead of the VENUE_FLAT_MAX of its own: a book's message
 * takes a few members a level, hundreds in all. */
int venue_flat_parse_in(const char *text, size_t len, struct venue_flat_member *m, size_t cap,
                        struct venue_flat *out);
/* The member `key` of the object at `parent` (-1: the top), or NULL. Inline so that the length of a literal
 * key is known at compile time: a frame makes a dozen lookups. */
const struct venue_flat_member *venue_flat_find(const struct venue_flat *f, int parent, const char *key, size_t len);
static inline const struct venue_flat_member *venue_flat_get(const struct venue_flat *f, int parent, const char *key) {
    return venue_flat_find(f, parent, key, strlen(key));
}
/* The index of the next child of `parent` after member `after` (pass parent itself for the first), or -1. */
int venue_flat_next(const struct venue_flat *f, int parent, int after);
/* True for a STRING member holding exactly `lit`. */
bool venue_flat_is(const struct venue_flat_member *m, const char *lit);
/* Copies the STRING member `key` holding a decimal (as venue_copy_decimal_str); -1 when absent, not a string
 * or not a decimal. */
int venue_flat_decimal(const struct venue_flat *f, int parent, const char *key, char dst[TICK_DECIMAL_MAX]);
/* Maps the STRING member naming a symbol and claims a stream tick for it: 1 with *t set, 0 to skip (unmapped
 * and counted, or the output is full), -1 when the member is absent or not a string. */
int venue_flat_claim(const struct venue_flat_member *name, const struct venue_symbols *s, struct venue_out *out,
                     struct tick **t);
/* One element of a ticker array: 0, or -1 to decline the whole frame. */
typedef int venue_flat_item_fn(const struct venue_flat *f, int item, const struct venue_symbols *s,
                               struct venue_out *out);
/* Runs fn on every element of the ARRAY member `array` (-1 or not an array: declined). VENUE_MSG_TICKS, or
 * VENUE_FAST_DECLINED with out rewound. */
int venue_flat_each(const struct venue_flat *f, const struct venue_flat_member *array, venue_flat_item_fn *fn,
                    const struct venue_symbols *s, struct venue_out *out);
/* Copies decimal text (as venue_copy_decimal_str) from a span. 0 or -1. */
int venue_copy_decimal_span(char dst[TICK_DECIMAL_MAX], const char *p, size_t len);

/* Fast paths are on unless a test or benchmark turns them off to compare with jansson's answers. A fast path
 * returns a venue_msg, or VENUE_FAST_DECLINED (out untouched) to let jansson decide. */
extern bool venue_fast_paths_on;
#define VENUE_FAST_DECLINED (-1)

/* What venue_out holds at one moment, so a fast path that declines midway leaves no trace. */
struct venue_out_mark {
    size_t n, unmapped, overflow;
};
struct venue_out_mark venue_out_mark(const struct venue_out *out);
void venue_out_rewind(struct venue_out *out, const struct venue_out_mark *mark);

/* True for exactly the JSON string `lit`. */
bool venue_json_is(const json_t *v, const char *lit);

/* Copies a JSON string holding a plain decimal ("-12.3400", or "" for "not sent") into dst. 0 or -1. */
int venue_copy_decimal_str(char dst[TICK_DECIMAL_MAX], const json_t *v);
/* Renders a JSON number as its shortest round-trip plain decimal into dst. 0 or -1. */
int venue_copy_decimal_num(char dst[TICK_DECIMAL_MAX], const json_t *v);

/* A non-negative JSON integer. 0 or -1. */
int venue_json_uint(const json_t *v, uint64_t *out);
/* A JSON string of decimal digits counting milliseconds (OKX "ts") to microseconds. 0 or -1. */
int venue_json_ms_text(const json_t *v, int64_t *us);
/* The same for the text of a span. */
int venue_ms_text(const char *p, size_t len, int64_t *us);
/* Milliseconds to microseconds; -1 (an event time tick_event_time_bound refuses) when it would overflow. */
int64_t venue_ms_to_us(uint64_t ms);
/* Sets t's event time to event_us if tick_event_time_bound keeps it (t->recv_us is set), else to 0 with
 * t->bad_time. `orders`: the venue has no sequence and its event time orders the stream (OKX, Kraken v2), so
 * seq is the event time too -- or, for a refused one, the receive time: the tick is still ordered, by when it
 * came, instead of by a time that would outrank every real update. */
void venue_event_time(struct tick *t, int64_t event_us, bool orders);
/* A JSON string holding an RFC 3339 time to microseconds. 0 or -1. */
int venue_json_rfc3339(const json_t *v, int64_t *us);

/* The table index of the symbol a JSON string names; -1 when it is not in the table, -2 when v is not a string. */
int venue_json_symbol(const struct venue_symbols *s, const json_t *v);

/* The next tick slot, stamped with venue, symbol, times and origin; NULL (counted in overflow) when full. */
struct tick *venue_out_add(struct venue_out *out, const struct venue_symbols *s, int index, enum tick_origin origin);
/* The next trade slot, stamped with venue, symbol, recv_us, origin and (stream) run; NULL (counted in overflow)
 * when full or when the caller gave no trades array. */
struct trade *venue_trade_add(struct venue_out *out, const struct venue_symbols *s, int index,
                              enum tick_origin origin);
/* Sets t's event time to event_us if tick_event_time_bound keeps it (t->recv_us is set), else 0 with bad_time. */
void venue_trade_time(struct trade *t, int64_t event_us);
/* One trade as a trades parser reads it, before it is appended (venue_trade_put). */
struct venue_trade_fields {
    char id[TRADE_ID_MAX];
    char price[TICK_DECIMAL_MAX], qty[TICK_DECIMAL_MAX];
    enum trade_side side;
    int64_t event_us;
};
/* A trade id into dst: a JSON string of 1 to TRADE_ID_MAX-1 characters of [0-9A-Za-z._-], as sent, or a
 * non-negative JSON integer in decimal -- or a real holding a whole number below 2^53 (Kraken's frames are read
 * with integers as reals, exact up to there). 0 or -1. */
int venue_json_trade_id(char dst[TRADE_ID_MAX], const json_t *v);
/* A JSON "buy" or "sell" as the taker's side; `maker`: the text names the maker's side and is turned over
 * (Coinbase "match"). 0 or -1. */
int venue_json_side(const json_t *v, bool maker, enum trade_side *side);
/* Appends trade f (origin STREAM, its event time through venue_trade_time) for the symbol a JSON string names:
 * 0 when appended or skipped (an unmapped symbol or a full trades array: counted), -1 when the name is not a
 * string or the price or the quantity is not a decimal above zero. f is judged before the symbol is, so a frame
 * is refused alike whatever the table and the array hold. */
int venue_trade_put(struct venue_out *out, const struct venue_symbols *s, const json_t *symbol,
                    const struct venue_trade_fields *f);
/* venue_trade_put with the trade's origin given (REST answers: TICK_ORIGIN_REST). */
int venue_trade_put_as(struct venue_out *out, const struct venue_symbols *s, const json_t *symbol,
                       const struct venue_trade_fields *f, enum tick_origin origin);
/* The same for the symbol at table index `index` (a REST request's symbol, or a name mapped by the caller); an
 * index outside the table (-1: a name not in it) counts as unmapped. f is judged first, as venue_trade_put does. */
int venue_trade_put_index(struct venue_out *out, const struct venue_symbols *s, int index,
                          const struct venue_trade_fields *f, enum tick_origin origin);
/* venue_parse_answer for a trades channel's REST parser: its trades are kept only when the result is TICKS, and
 * then sorted by ascending trade id (numerically where ids are numbers), whatever order the venue sent them in. */
enum venue_msg venue_parse_trade_answer(const struct venue_request *req, int http_status, const char *body,
                                        size_t len, const char *detail_key, venue_json_fn *fn,
                                        const struct venue_symbols *s, struct venue_out *out);
/* venue_parse_frame for a trades channel's parser: its trades are kept only when the result is TICKS. */
enum venue_msg venue_parse_trade_frame(const char *text, size_t len, size_t flags, venue_json_fn *fn,
                                       const struct venue_symbols *s, struct venue_out *out);
/* ---- book channels ---- */
/* The next book update slot for the symbol at table index `index`, its changes starting at the next change slot;
 * NULL when the index is outside the table (counted unmapped) or the updates' array is full (overflow). */
struct book_update *venue_book_add(struct venue_out *out, const struct venue_symbols *s, int index,
                                   enum book_update_kind kind);
/* Appends a level change to update u (NULL: the change is judged, not kept). The texts must be decimals in
 * decimal.h's syntax, not negative, 1 to BOOK_TEXT_MAX-1 characters: -1 otherwise (the message is malformed).
 * A full changes array counts overflow. 0 or -1. */
int venue_book_change(struct venue_out *out, struct book_update *u, enum book_side side, const char *price,
                      size_t plen, const char *qty, size_t qlen);
/* The same from JSON values: strings holding decimals, or numbers (their shortest round-trip text). */
int venue_book_change_json(struct venue_out *out, struct book_update *u, enum book_side side, const json_t *price,
                           const json_t *qty);
/* venue_parse_frame / venue_parse_answer for a book channel: its updates and changes are kept only when the
 * result is TICKS (a message is taken whole or not at all). */
enum venue_msg venue_parse_book_frame(const char *text, size_t len, size_t flags, venue_json_fn *fn,
                                      const struct venue_symbols *s, struct venue_out *out);
enum venue_msg venue_parse_book_answer(const struct venue_request *req, int http_status, const char *body,
                                       size_t len, const char *detail_key, venue_json_fn *fn,
                                       const struct venue_symbols *s, struct venue_out *out);

/* Forgets the ticks written after the first n (a message is taken whole or not at all). */
void venue_out_truncate(struct venue_out *out, size_t n);
/* Keeps the venue's words about an error or notice (a string or a number) in out->detail. */
void venue_out_detail(struct venue_out *out, const json_t *v);

/* What an HTTP status alone says: RATE_LIMITED (429, 418), UNAVAILABLE (5xx), ERROR (other non-2xx), or
 * TICKS when the body decides. */
enum venue_msg venue_rest_status(int http_status);

/* Splits "BASE-QUOTE[-MORE]" into its first two parts (upper-case letters and digits). Returns the number of
 * dash-separated parts, or -1 when the text is not a normalized symbol. */
int venue_split_symbol(const char *norm, char base[TICK_SYMBOL_MAX], char quote[TICK_SYMBOL_MAX]);
/* Names for venues that use the normalized symbol itself (Coinbase, OKX): ws, rest and the one alias are
 * `norm`, which must have between min_parts and max_parts dash-separated parts. 0 or -EINVAL. */
int venue_names_same(const char *norm, int min_parts, int max_parts, struct venue_names_buf *out);
/* Copies a fixed websocket path into buf; returns its length or -ENOSPC. */
int venue_fixed_path(const char *path, char *buf, size_t cap);
/* Copies the concatenation of up to three strings into dst; -1 (dst emptied) when it does not fit. */
int venue_concat(char *dst, size_t cap, const char *a, const char *b, const char *c);

/* The shape of a list built from symbol names: head, item_pre NAME item_post, sep, ..., tail. */
struct venue_list_fmt {
    const char *head, *item_pre, *item_post, *sep, *tail;
    bool rest_name; /* names.rest instead of names.ws */
};

/* Writes the list for symbols [first, first+count), stopping before an item that would make the whole text
 * (tail included) longer than cap-1. Sets *next to the first symbol left out. Returns the length, or -ENOSPC
 * when not even one item fits. */
int venue_join(const struct venue_symbols *s, size_t first, size_t count, const struct venue_list_fmt *f, char *buf,
               size_t cap, size_t *next);


/* min(cap, the venue's message cap) */
size_t venue_msg_cap(const struct venue_symbols *s, size_t cap);

#endif
