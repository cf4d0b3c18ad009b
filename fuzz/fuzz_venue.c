/* fuzz_venue.c -- every venue adapter's ws_parse and rest_parse on arbitrary bytes.
 *
 * Input: two selector bytes, then the frame or body.
 *   byte 0: bits 0-1 venue (venue_at order: binance, coinbase, kraken, okx), bit 2 the one-symbol table
 *           (Binance answers a one-symbol plan with an object, a list with an array), bits 3-7 the tick
 *           array's capacity - 1 (small capacities reach the overflow paths);
 *   byte 1: bit 0 REST (else a websocket frame), bits 1-3 the HTTP status, bits 4-7 which request of the
 *           table's REST plan answered.
 * The frame is copied to a buffer of exactly its length, so a read past it is an ASan report.
 *
 * Beyond "never crash", it checks what venue.h promises: a websocket frame gives the same answer with the
 * fast paths and with jansson alone (byte-identical ticks), and every tick's decimals are NUL-terminated in
 * their field and either empty or valid decimals that survive tick_pack/tick_unpack unchanged. A websocket
 * frame goes to the venue's trades channel too, with a trades array of the same capacity: it writes no tick,
 * keeps no trade of a frame it does not take whole, and every trade it keeps has an id, a price and a quantity
 * above zero and the taker's side. A REST body goes to the trades channel's rest_parse too (the same request
 * index in its own plan, one request per symbol), with the same checks, origin REST and ids in ascending order.
 * Book channels alike: a frame (and a REST body, as the snapshot or instrument answer of the request's symbol)
 * writes no tick, keeps no update of a message it does not take whole, and every level it keeps is a decimal
 * within BOOK_TEXT_MAX, a price above zero, in an update of a symbol of the table whose changes are its own; the
 * updates then go through a book_sync of the table (hostile sequences, checksums and levels: never a crash).
 * A REST body goes to the venue's instrument list parser too (venue_ops.instruments, the same HTTP status): a list
 * it does not take is left empty; one it takes is sorted, each symbol once and BASE-QUOTE, every text terminated,
 * sizes decimals not below zero or empty, its JSON read back by jansson with the same texts, and compared with
 * itself and with no list. Every input also goes through the strict JSON reader those parsers share
 * (src/venue/json_scan.c), which must agree with jansson: what jansson takes it takes (unless it nests deeper than
 * JSCAN_DEPTH_MAX), and it takes nothing jansson refuses but numbers jansson cannot hold. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../src/venue/json_scan.h"
#include "tickd/book_sync.h"
#include "tickd/decimal.h"
#include "tickd/instrument.h"
#include "tickd/log.h"
#include "tickd/tick.h"
#include "tickd/trade.h"
#include "tickd/venue.h"

#define VENUES 4
#define CAP_MAX 32
#define PLAN_MAX 16

/* Names from the recorded traffic in ../shared/venues, so the seed frames map to ticks. */
static const char *const syms[VENUES][16] = {
    {"BTC-USDT", "NKN-USDT", "LRC-BTC", "BNB-USDT", "LTC-BTC", "ETH-BTC", "BNB-BTC", "ETH-USDT", NULL},
    {"BTC-USD", "BAND-BTC", "BAND-GBP", "CRV-EUR", "DASH-BTC", "NMR-EUR", "NU-GBP", "SKL-BTC", "SKL-GBP",
     "SKL-USD", "YFI-BTC", "ETH-USD", NULL},
    {"BTC-USD", "ADA-BTC", "ETH-CHF", "GRT-ETH", "KSM-BTC", "OCEAN-BTC", "OMG-USD", "SC-EUR", "WAVES-EUR",
     "BTC-CHF", "XMR-USD", "ALGO-USD", "ETH-USD", NULL},
    {"BTC-USDT", "BTC-USD-220527", "UNI-USD-SWAP", "ETH-USDT", NULL},
};

static const int statuses[8] = {200, 200, 400, 404, 418, 429, 500, 503};

struct table {
    const struct venue_ops *v;
    struct venue_symbols s;
    struct venue_request plan[PLAN_MAX];
    int nplan;
    struct venue_request trades_plan[PLAN_MAX]; /* the trades channel's: one request per symbol */
    int ntrades_plan;
};

static struct table tables[VENUES][2]; /* [venue][one symbol] */

static void die(const char *what) {
    fprintf(stderr, "fuzz_venue: %s\n", what);
    abort();
}

static void setup(void) {
    /* Every log line the adapters write is formatted (venue text in it is hostile too), then discarded. */
    log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_LOGFMT);
    log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
    for (int v = 0; v < VENUES; v++) {
        size_t n = 0;
        while (syms[v][n]) n++;
        for (int one = 0; one < 2; one++) {
            struct table *t = &tables[v][one];
            t->v = venue_at((size_t)v);
            if (!t->v || venue_symbols_init(&t->s, t->v, syms[v], one ? 1 : n) != 0) die("symbol table");
            t->nplan = t->v->channels->rest_plan(&t->s, t->plan, PLAN_MAX);
            if (t->nplan < 1) die("rest plan");
            const struct venue_channel *tc = venue_channel_find(t->v, "trades");
            t->ntrades_plan = tc && tc->rest_plan ? tc->rest_plan(&t->s, t->trades_plan, PLAN_MAX) : 0;
            if (tc && tc->rest_plan && t->ntrades_plan < 1) die("trades rest plan");
        }
    }
}

static void check_ticks(const struct venue_out *out) {
    if (out->n > out->cap) die("more ticks than the array holds");
    for (size_t i = 0; i < out->n; i++) {
        const struct tick *t = &out->ticks[i];
        for (int f = 0; f < TICK_FIELDS; f++) {
            const char *d = tick_field_of(t, (enum tick_field)f);
            if (!memchr(d, 0, TICK_DECIMAL_MAX)) die("decimal not terminated in its field");
            if (d[0] && !decimal_valid(d)) die("tick carries a decimal that is not one");
        }
        struct tick_packed p;
        tick_packed_init(&p);
        if (tick_pack(&p, t) != 0) die("tick_pack");
        struct tick back;
        tick_unpack(&p, t->venue, t->symbol, &back);
        for (int f = 0; f < TICK_FIELDS; f++)
            if (strcmp(tick_field_of(t, (enum tick_field)f), tick_field_of(&back, (enum tick_field)f)) != 0)
                die("tick_pack/tick_unpack changed a decimal");
        tick_packed_free(&p);
    }
}

static void check_books(const struct venue_out *out, enum venue_msg kind, const struct venue_symbols *s) {
    if (out->n != 0 || out->n_trades != 0) die("a book parser wrote ticks or trades");
    if (out->n_books > out->books_cap || out->n_changes > out->changes_cap) die("more than the arrays hold");
    if (kind != VENUE_MSG_TICKS && (out->n_books || out->n_changes)) die("book updates kept from a message not taken");
    size_t next = 0;
    for (size_t i = 0; i < out->n_books; i++) {
        const struct book_update *u = &out->books[i];
        if (u->symbol < 0 || (size_t)u->symbol >= s->n) die("book update of a symbol outside the table");
        if (u->first_change != next || u->first_change + u->n_changes > out->n_changes) die("book changes not its own");
        next = u->first_change + u->n_changes;
    }
    for (size_t i = 0; i < out->n_changes; i++) {
        const struct book_change *c = &out->changes[i];
        if (!memchr(c->price, 0, BOOK_TEXT_MAX) || !memchr(c->qty, 0, BOOK_TEXT_MAX)) die("level text not terminated");
        if (decimal_sign(c->price) != 1 || decimal_sign(c->qty) < 0) die("level price not above zero or qty negative");
        if (c->side > BOOK_ASK) die("level of no side");
    }
}

/* Two readers' updates and levels alike, field by field (the bytes after a text's NUL may differ). */
static bool same_books(const struct book_update *a, const struct book_update *b, size_t n,
                       const struct book_change *ca, const struct book_change *cb, size_t nc) {
    for (size_t i = 0; i < n; i++)
        if (a[i].symbol != b[i].symbol || a[i].kind != b[i].kind || a[i].first_seq != b[i].first_seq ||
            a[i].seq != b[i].seq || a[i].prev_seq != b[i].prev_seq || a[i].has_seq != b[i].has_seq ||
            a[i].has_first != b[i].has_first || a[i].has_prev != b[i].has_prev || a[i].checksum != b[i].checksum ||
            a[i].has_checksum != b[i].has_checksum || a[i].event_us != b[i].event_us ||
            a[i].first_change != b[i].first_change || a[i].n_changes != b[i].n_changes)
            return false;
    for (size_t i = 0; i < nc; i++)
        if (ca[i].side != cb[i].side || strcmp(ca[i].price, cb[i].price) != 0 || strcmp(ca[i].qty, cb[i].qty) != 0)
            return false;
    return true;
}

/* A book channel's parse of the frame or body, then its updates through a book_sync of the whole table. */
static void fuzz_book(const struct table *t, const char *frame, size_t len, size_t cap, int rest, int status,
                      unsigned pick) {
    const struct venue_channel *ch = venue_channel_find(t->v, "book");
    if (!ch) return;
    static struct tick no_ticks[1];
    static struct book_update updates[CAP_MAX];
    static struct book_change changes[CAP_MAX * 8];
    static struct book_precision precisions[16];
    struct venue_out out;
    venue_out_init(&out, no_ticks, 0, 1714564800000000LL, rest ? 1714564800000000LL : 0);
    venue_out_books(&out, updates, cap, changes, cap * 8);
    enum venue_msg kind;
    if (rest) {
        struct venue_request req;
        memset(&req, 0, sizeof req);
        if (ch->book_snapshot_request) {
            if (ch->book_snapshot_request(&t->s, (int)(pick % t->s.n), 20, &req) < 0) die("snapshot request");
        } else if (ch->rest_plan) {
            struct venue_request plan[PLAN_MAX];
            int n = ch->rest_plan(&t->s, plan, PLAN_MAX);
            if (n < 1) return;
            req = plan[pick % (unsigned)n];
            memset(precisions, 0, sizeof precisions);
            out.precisions = precisions;
        } else {
            return;
        }
        kind = ch->rest_parse(&req, status, frame, len, &t->s, &out);
        for (size_t i = 0; out.precisions && i < t->s.n; i++)
            if (precisions[i].known && (precisions[i].price_decimals > 30 || precisions[i].qty_decimals > 30))
                die("a precision no decimal text has");
    } else {
        kind = ch->ws_parse(frame, len, &t->s, &out);
        /* the book fast paths (OKX, Kraken) must give jansson's updates and levels, byte for byte */
        static struct book_update slow_updates[CAP_MAX];
        static struct book_change slow_changes[CAP_MAX * 8];
        struct venue_out slow;
        venue_out_init(&slow, no_ticks, 0, out.recv_us, 0);
        venue_out_books(&slow, slow_updates, cap, slow_changes, cap * 8);
        venue_fast_paths(false);
        enum venue_msg ks = ch->ws_parse(frame, len, &t->s, &slow);
        venue_fast_paths(true);
        if (ks != kind || slow.n_books != out.n_books || slow.n_changes != out.n_changes ||
            slow.unmapped != out.unmapped || slow.overflow != out.overflow || strcmp(slow.detail, out.detail) != 0 ||
            !same_books(updates, slow_updates, out.n_books, changes, slow_changes, out.n_changes)) {
            fprintf(stderr, "book fast path: %s books=%zu changes=%zu unmapped=%zu overflow=%zu\n", venue_msg_name(kind),
                    out.n_books, out.n_changes, out.unmapped, out.overflow);
            fprintf(stderr, "book jansson:   %s books=%zu changes=%zu unmapped=%zu overflow=%zu\n", venue_msg_name(ks),
                    slow.n_books, slow.n_changes, slow.unmapped, slow.overflow);
            die("the book fast path and jansson disagree");
        }
    }
    check_books(&out, kind, &t->s);
    if (kind != VENUE_MSG_TICKS || !out.n_books) return;
    struct book_sync bs;
    if (book_sync_init(&bs, ch, 0, t->s.n, 20, ch->needs_precision ? precisions : NULL) != 0) die("book_sync_init");
    for (int pass = 0; pass < 2; pass++) /* the second pass meets the books the first left, live or not */
        for (size_t i = 0; i < out.n_books; i++) {
            enum book_cause cause;
            book_sync_apply(&bs, &out.books[i], out.changes, out.recv_us, &cause);
        }
    for (size_t i = 0; i < bs.n; i++) {
        const struct book *b = &bs.e[i].book;
        for (int sd = 0; sd < 2; sd++)
            for (uint32_t j = 1; j < b->side[sd].n; j++) {
                int c = book_price_cmp(b->side[sd].lv[j - 1].price, b->side[sd].lv[j].price);
                if (sd == BOOK_BID ? c <= 0 : c >= 0) die("book side out of order");
            }
    }
    book_sync_free(&bs);
}

static void count_change(void *ctx, enum instrument_change change, const struct instrument *before,
                         const struct instrument *now) {
    size_t *n = ctx;
    if (change != INSTRUMENT_CHANGE_LISTED || before || !now || now->status == INSTRUMENT_DELISTED)
        die("a change against no list that is not a listing");
    (*n)++;
}

/* BASE-QUOTE: two parts of upper-case letters and digits. */
static bool symbol_ok(const char *s) {
    size_t parts = 1, run = 0;
    for (; *s; s++) {
        if (*s == '-') {
            if (!run) return false;
            parts++, run = 0;
        } else if ((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) {
            run++;
        } else {
            return false;
        }
    }
    return parts == 2 && run > 0;
}

/* The venue's instrument list parser on a REST body: every promise of venue_instruments.parse. */
static void fuzz_instruments(const struct venue_ops *v, const char *body, size_t len, int status) {
    if (!v->instruments) return;
    static struct instrument_list l;
    char detail[VENUE_DETAIL_MAX];
    enum venue_msg kind = v->instruments->parse(status, body, len, &l, detail);
    if (!memchr(detail, 0, sizeof detail)) die("instrument detail not terminated");
    if (kind > VENUE_MSG_MALFORMED) die("instrument parse: no such kind");
    if (kind != VENUE_MSG_TICKS) {
        if (l.n) die("instruments kept from an answer not taken");
        return;
    }
    if (!l.n || l.n > l.cap) die("an instrument list taken without instruments");
    size_t live = 0;
    for (size_t i = 0; i < l.n; i++) {
        const struct instrument *in = &l.v[i];
        if (!memchr(in->symbol, 0, sizeof in->symbol) || !memchr(in->venue_symbol, 0, sizeof in->venue_symbol) ||
            !memchr(in->base, 0, sizeof in->base) || !memchr(in->quote, 0, sizeof in->quote) ||
            !memchr(in->venue_status, 0, sizeof in->venue_status) || !memchr(in->tick_size, 0, sizeof in->tick_size) ||
            !memchr(in->lot_size, 0, sizeof in->lot_size))
            die("instrument text not terminated");
        if (!symbol_ok(in->symbol)) die("instrument symbol not BASE-QUOTE");
        if (!in->venue_symbol[0]) die("instrument without the venue's name");
        if ((in->tick_size[0] && decimal_sign(in->tick_size) < 0) ||
            (in->lot_size[0] && decimal_sign(in->lot_size) < 0))
            die("instrument size not a decimal at or above zero");
        if (in->status > INSTRUMENT_DELISTED) die("instrument status out of range");
        if ((in->price_decimals > INSTRUMENT_DECIMALS_MAX && in->price_decimals != INSTRUMENT_DECIMALS_UNKNOWN) ||
            (in->size_decimals > INSTRUMENT_DECIMALS_MAX && in->size_decimals != INSTRUMENT_DECIMALS_UNKNOWN))
            die("instrument decimals out of range");
        if (i > 0 && strcmp(l.v[i - 1].symbol, in->symbol) >= 0) die("instrument list not sorted, or a symbol twice");
        if (instrument_list_find(&l, in->symbol) != in) die("instrument not found by its symbol");
        live += in->status != INSTRUMENT_DELISTED;
        char json[INSTRUMENT_JSON_MAX];
        int n = instrument_json(in, v->name, json, sizeof json);
        if (n <= 0) die("instrument JSON");
        json_t *j = json_loadb(json, (size_t)n, 0, NULL);
        if (!json_is_object(j) || strcmp(json_string_value(json_object_get(j, "symbol")), in->symbol) != 0 ||
            strcmp(json_string_value(json_object_get(j, "venue_symbol")), in->venue_symbol) != 0 ||
            (in->tick_size[0] && strcmp(json_string_value(json_object_get(j, "tick_size")), in->tick_size) != 0))
            die("instrument JSON does not read back");
        json_decref(j);
    }
    struct instrument_list none;
    instrument_list_init(&none);
    size_t listed = 0;
    if (instrument_list_diff(&l, &l, NULL, NULL, NULL) != 0) die("a list changed against itself");
    if (instrument_list_diff(&none, &l, count_change, &listed, NULL) != live || listed != live)
        die("a list against no list: not every live instrument listed");
}

/* How deep containers nest in a text (strings passed over), to tell a refusal for depth from a disagreement. */
static size_t nesting(const char *p, size_t len) {
    size_t depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max) max = depth;
        } else if ((c == ']' || c == '}') && depth) {
            depth--;
        }
    }
    return max;
}

static bool scan_takes(const char *text, size_t len) {
    struct jscan s;
    jscan_init(&s, text, len);
    return jscan_skip(&s) == 0 && jscan_end(&s);
}

/* The strict reader against jansson on the same bytes. A text holding a NUL byte is no JSON text, and the reader
 * takes none; jansson reads such bytes its own way (a NUL after a number passes for the end of the input), so
 * those texts are not compared. */
static void fuzz_scan(const char *text, size_t len) {
    bool ours = scan_takes(text, len);
    if (memchr(text, 0, len)) {
        if (ours) die("json_scan takes a text holding a NUL byte");
        return;
    }
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &err);
    json_decref(j);
    if (j && !ours && nesting(text, len) <= JSCAN_DEPTH_MAX) die("json_scan refuses what jansson takes");
    if (!j && ours && !strstr(err.text, "too big") && !strstr(err.text, "overflow"))
        die("json_scan takes what jansson refuses");
}

static void check_trades(const struct venue_out *out, enum venue_msg kind, enum tick_origin origin) {
    if (out->n != 0) die("a trades parser wrote ticks");
    if (out->n_trades > out->trades_cap) die("more trades than the array holds");
    if (kind != VENUE_MSG_TICKS && out->n_trades != 0) die("trades kept from a frame not taken");
    for (size_t i = 0; i < out->n_trades; i++) {
        const struct trade *t = &out->trades[i];
        if (!memchr(t->id, 0, sizeof t->id) || !t->id[0]) die("trade id empty or not terminated");
        if (!memchr(t->price, 0, sizeof t->price) || decimal_sign(t->price) != 1) die("trade price not above zero");
        if (!memchr(t->qty, 0, sizeof t->qty) || decimal_sign(t->qty) != 1) die("trade qty not above zero");
        if (t->side != TRADE_SIDE_BUY && t->side != TRADE_SIDE_SELL) die("trade without the taker's side");
        if (!memchr(t->symbol, 0, sizeof t->symbol) || !memchr(t->venue, 0, sizeof t->venue))
            die("trade names not terminated");
        if (t->origin != origin) die("a trade of another origin");
        uint64_t a, b;
        if (origin == TICK_ORIGIN_REST && i > 0 && trade_id_number(out->trades[i - 1].id, &a) &&
            trade_id_number(t->id, &b) && a > b)
            die("REST trades out of id order");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 2) return 0;
    const struct table *t = &tables[data[0] & 3][(data[0] >> 2) & 1];
    size_t cap = 1 + (data[0] >> 3);
    int rest = data[1] & 1;
    int status = statuses[(data[1] >> 1) & 7];
    const struct venue_request *req = &t->plan[(data[1] >> 4) % t->nplan];
    size_t len = size - 2;
    char *frame = malloc(len ? len : 1);
    if (!frame) return 0;
    memcpy(frame, data + 2, len);

    static struct tick fast_ticks[CAP_MAX], slow_ticks[CAP_MAX];
    struct venue_out fast, slow;
    if (rest) {
        venue_out_init(&fast, fast_ticks, cap, 1000, 500);
        t->v->channels->rest_parse(req, status, frame, len, &t->s, &fast);
        check_ticks(&fast);
        const struct venue_channel *trades_channel = venue_channel_find(t->v, "trades");
        if (trades_channel && trades_channel->rest_parse && t->ntrades_plan > 0) {
            static struct trade trades[CAP_MAX];
            struct venue_out out;
            venue_out_init(&out, fast_ticks, cap, 1000, 500);
            venue_out_trades(&out, trades, cap);
            const struct venue_request *treq = &t->trades_plan[(data[1] >> 4) % t->ntrades_plan];
            check_trades(&out, trades_channel->rest_parse(treq, status, frame, len, &t->s, &out), TICK_ORIGIN_REST);
        }
    } else {
        venue_out_init(&fast, fast_ticks, cap, 1000, 0);
        venue_out_init(&slow, slow_ticks, cap, 1000, 0);
        venue_fast_paths(false);
        enum venue_msg ks = t->v->channels->ws_parse(frame, len, &t->s, &slow);
        venue_fast_paths(true);
        enum venue_msg kf = t->v->channels->ws_parse(frame, len, &t->s, &fast);
        check_ticks(&fast);
        check_ticks(&slow);
        if (kf != ks || fast.n != slow.n || fast.unmapped != slow.unmapped || fast.overflow != slow.overflow ||
            strcmp(fast.detail, slow.detail) != 0 || memcmp(fast_ticks, slow_ticks, fast.n * sizeof fast_ticks[0]) != 0) {
            fprintf(stderr, "fast path: %s n=%zu unmapped=%zu overflow=%zu detail=%s\n", venue_msg_name(kf), fast.n,
                    fast.unmapped, fast.overflow, fast.detail);
            fprintf(stderr, "jansson:   %s n=%zu unmapped=%zu overflow=%zu detail=%s\n", venue_msg_name(ks), slow.n,
                    slow.unmapped, slow.overflow, slow.detail);
            die("the fast path and jansson disagree");
        }
        const struct venue_channel *trades_channel = venue_channel_find(t->v, "trades");
        if (trades_channel) {
            static struct trade trades[CAP_MAX];
            struct venue_out out;
            venue_out_init(&out, fast_ticks, cap, 1000, 0);
            venue_out_trades(&out, trades, cap);
            check_trades(&out, trades_channel->ws_parse(frame, len, &t->s, &out), TICK_ORIGIN_STREAM);
        }
    }
    fuzz_book(t, frame, len, cap, rest, status, data[1] >> 4);
    if (rest) fuzz_instruments(t->v, frame, len, status);
    fuzz_scan(frame, len);
    free(frame);
    return 0;
}
