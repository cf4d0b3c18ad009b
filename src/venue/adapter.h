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

#include "tickd/venue.h"

/* An adapter's classifier of one parsed message; req is NULL for websocket frames. */
typedef enum venue_msg venue_json_fn(const json_t *root, const struct venue_request *req,
                                     const struct venue_symbols *s, struct venue_out *out);

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

/* The members of a flat frame (json_flat.c): an object of plain strings and unsigned integers, with at most one
 * level of nested such objects. venue_flat_parse returns 0, or -1 for any text outside that strict subset of
 * JSON, which the caller then parses with jansson: the flat reader accelerates, it never decides alone. */
#define VENUE_FLAT_MAX 32
enum venue_flat_type { VENUE_FLAT_STRING, VENUE_FLAT_UINT, VENUE_FLAT_OBJECT };
struct venue_flat_member {
    const char *key;
    size_t key_len;
    int parent; /* index of the enclosing object member, -1 at the top */
    enum venue_flat_type type;
    const char *str; /* STRING: the text between the quotes (no escapes in it), not NUL-terminated */
    size_t len;
    uint64_t num; /* UINT */
};
struct venue_flat {
    struct venue_flat_member m[VENUE_FLAT_MAX];
    size_t n;
};
int venue_flat_parse(const char *text, size_t len, struct venue_flat *out);
/* The member `key` of the object at `parent` (-1: the top), or NULL. */
const struct venue_flat_member *venue_flat_get(const struct venue_flat *f, int parent, const char *key);
/* Copies decimal text (as venue_copy_decimal_str) from a span. 0 or -1. */
int venue_copy_decimal_span(char dst[TICK_DECIMAL_MAX], const char *p, size_t len);

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
/* A JSON string holding an RFC 3339 time to microseconds. 0 or -1. */
int venue_json_rfc3339(const json_t *v, int64_t *us);

/* The table index of the symbol a JSON string names; -1 when it is not in the table, -2 when v is not a string. */
int venue_json_symbol(const struct venue_symbols *s, const json_t *v);

/* The next tick slot, stamped with venue, symbol, times and origin; NULL (counted in overflow) when full. */
struct tick *venue_out_add(struct venue_out *out, const struct venue_symbols *s, int index, enum tick_origin origin);
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
int venue_names_same(const char *norm, int min_parts, int max_parts, struct venue_names *out);
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

/* Writes an unsigned number in decimal; returns its length (buf holds at least 21 bytes). */
size_t venue_utoa(uint64_t v, char *buf);

/* min(cap, the venue's message cap) */
size_t venue_msg_cap(const struct venue_symbols *s, size_t cap);

#endif
