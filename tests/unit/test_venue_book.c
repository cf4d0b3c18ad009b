/* Unit tests of the venue adapters' book channel (Binance, Coinbase): each venue's documented example
 * (tests/venues) parses to exact updates and level changes, every level's text as sent; the subscribe and
 * unsubscribe messages and paths are exact; Binance's snapshot request asks for the bracket's top limit with the
 * venue's weight at every bracket boundary; REST errors are told by status and by body; and every bad shape --
 * missing or ill-typed fields, prices of zero or below, texts that are not decimals or are BOOK_TEXT_MAX long,
 * unknown symbols, full arrays, truncations and flipped bytes -- gives MALFORMED, unmapped or overflow, with
 * nothing of a refused message kept: no update, no change, no count. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/decimal.h"
#include "tickd/venue.h"
#include "tt.h"

#define MAX_BOOKS 8
#define MAX_CHANGES 64
#define RECV_US 1900000000000000LL /* 2030-03-17: after every documented event time */

/* ---- fixtures -------------------------------------------------------------------------------------- */

struct fixture {
    const struct venue_ops *v;
    const struct venue_channel *ch;
    struct venue_symbols syms;
    struct tick ticks[4];
    struct book_update books[MAX_BOOKS];
    struct book_change changes[MAX_CHANGES];
    struct venue_out out;
};

static void fixture_init(struct fixture *fx, const char *venue, const char **syms, size_t n) {
    memset(fx, 0, sizeof *fx);
    fx->v = venue_find(venue);
    TT_ASSERT(fx->v != NULL);
    fx->ch = venue_channel_find(fx->v, "book");
    TT_ASSERT(fx->ch != NULL);
    TT_ASSERT_INT(venue_symbols_init(&fx->syms, fx->v, syms, n), 0);
}

/* A fresh output whose arrays hold books_cap updates and changes_cap changes. */
static void out_reset(struct fixture *fx, size_t books_cap, size_t changes_cap) {
    venue_out_init(&fx->out, fx->ticks, 4, RECV_US, 0);
    venue_out_books(&fx->out, fx->books, books_cap, fx->changes, changes_cap);
}

/* The text of the venue reference message <rel> (tests/venues, else ../shared/venues). Caller frees. */
static char *doc_file(const char *rel) {
    char path[8192];
    if (!tt_venue_path(rel, path, sizeof path)) TT_FAIL("%s not found", path);
    FILE *f = fopen(path, "rb");
    if (!f) TT_FAIL("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    return buf;
}

/* What the output held before a parse, to tell that a refused message left it as it was. */
struct held {
    size_t n_books, n_changes, unmapped, overflow;
};

static struct held held_now(const struct venue_out *out) {
    return (struct held){out->n_books, out->n_changes, out->unmapped, out->overflow};
}

/* Every invariant of a parse: no ticks or trades ever; a refused message leaves the output as it was; each
 * update names a table symbol and its changes follow the previous update's; each change is whole: a decimal price
 * above zero, a decimal size not below, each shorter than BOOK_TEXT_MAX, a side. */
static void check_out(const struct fixture *fx, enum venue_msg kind, const struct held *before) {
    const struct venue_out *o = &fx->out;
    TT_ASSERT_INT(o->n, 0);
    TT_ASSERT_INT(o->n_trades, 0);
    TT_ASSERT(kind <= VENUE_MSG_MALFORMED);
    if (kind != VENUE_MSG_TICKS) {
        TT_ASSERT_INT(o->n_books, before->n_books);
        TT_ASSERT_INT(o->n_changes, before->n_changes);
        TT_ASSERT_INT(o->unmapped, before->unmapped);
        TT_ASSERT_INT(o->overflow, before->overflow);
    }
    TT_ASSERT(o->n_books <= o->books_cap && o->n_changes <= o->changes_cap);
    size_t at = 0;
    for (size_t i = 0; i < o->n_books; i++) {
        const struct book_update *u = &o->books[i];
        TT_ASSERT(u->symbol >= 0 && (size_t)u->symbol < fx->syms.n);
        TT_ASSERT(u->kind == BOOK_UPDATE_SNAPSHOT || u->kind == BOOK_UPDATE_DELTA);
        TT_ASSERT_INT(u->first_change, at);
        at += u->n_changes;
        TT_ASSERT(!u->has_first || (u->has_seq && u->first_seq <= u->seq));
        TT_ASSERT(u->event_us == 0 || u->event_us <= RECV_US + 10000000LL);
    }
    TT_ASSERT_INT(at, o->n_changes);
    for (size_t i = 0; i < o->n_changes; i++) {
        const struct book_change *c = &o->changes[i];
        TT_ASSERT(memchr(c->price, 0, sizeof c->price) && memchr(c->qty, 0, sizeof c->qty));
        TT_ASSERT(decimal_sign(c->price) == 1);
        TT_ASSERT(decimal_sign(c->qty) == 0 || decimal_sign(c->qty) == 1);
        TT_ASSERT(c->side == BOOK_BID || c->side == BOOK_ASK);
    }
}

/* Parses len bytes (copied to a buffer of exactly that size, so ASan sees a read past it) into the output as it
 * stands (nothing reset), checking every invariant. */
static enum venue_msg parse_more(struct fixture *fx, const char *frame, size_t len) {
    struct held before = held_now(&fx->out);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, frame, len);
    enum venue_msg kind = fx->ch->ws_parse(copy, len, &fx->syms, &fx->out);
    free(copy);
    check_out(fx, kind, &before);
    return kind;
}

static enum venue_msg parse_len(struct fixture *fx, const char *frame, size_t len) {
    out_reset(fx, MAX_BOOKS, MAX_CHANGES);
    return parse_more(fx, frame, len);
}

static enum venue_msg parse(struct fixture *fx, const char *frame) {
    return parse_len(fx, frame, strlen(frame));
}

/* A REST answer into the output as it stands. */
static enum venue_msg answer_more(struct fixture *fx, const struct venue_request *req, int status, const char *body,
                                  size_t len) {
    struct held before = held_now(&fx->out);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, body, len);
    enum venue_msg kind = fx->ch->rest_parse(req, status, copy, len, &fx->syms, &fx->out);
    free(copy);
    check_out(fx, kind, &before);
    return kind;
}

static enum venue_msg answer(struct fixture *fx, const struct venue_request *req, int status, const char *body) {
    out_reset(fx, MAX_BOOKS, MAX_CHANGES);
    return answer_more(fx, req, status, body, strlen(body));
}

static void assert_update(const struct book_update *u, int symbol, enum book_update_kind kind, size_t first_change,
                          size_t n_changes) {
    TT_ASSERT_INT(u->symbol, symbol);
    TT_ASSERT_INT(u->kind, kind);
    TT_ASSERT_INT(u->first_change, first_change);
    TT_ASSERT_INT(u->n_changes, n_changes);
    TT_ASSERT(!u->has_prev && !u->has_checksum);
}

static void assert_change(const struct book_change *c, enum book_side side, const char *price, const char *qty) {
    TT_ASSERT_INT(c->side, side);
    TT_ASSERT_STR(c->price, price);
    TT_ASSERT_STR(c->qty, qty);
}

/* The message `text` with one member of its book object set to `value` (JSON text) or removed (NULL). The book
 * object is the root, or its "data" object (Binance combined). Caller frees. */
static char *mutated(const char *text, const char *key, const char *value) {
    json_t *root = json_loads(text, 0, NULL);
    TT_ASSERT(root != NULL);
    json_t *data = json_object_get(root, "data");
    json_t *o = json_is_object(data) ? data : root;
    if (value) {
        json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
        if (!v) TT_FAIL("bad JSON in a test: %s", value);
        json_object_set_new(o, key, v);
    } else {
        json_object_del(o, key);
    }
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

struct mutation {
    const char *key, *value; /* value NULL: the member removed */
    enum venue_msg kind;
    size_t books, changes, unmapped;
};

/* Each mutation of `text`, parsed as a frame (req NULL) or an answer of status 200 to req. */
static void apply_mutations(struct fixture *fx, const char *text, const struct venue_request *req,
                            const struct mutation *m, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char *msg = mutated(text, m[i].key, m[i].value);
        enum venue_msg kind = req ? answer(fx, req, 200, msg) : parse(fx, msg);
        if (kind != m[i].kind || fx->out.n_books != m[i].books || fx->out.n_changes != m[i].changes ||
            fx->out.unmapped != m[i].unmapped)
            TT_FAIL("%s: %s=%s gave %s with %zu updates, %zu changes, %zu unmapped: %s", fx->v->name, m[i].key,
                    m[i].value ? m[i].value : "(none)", venue_msg_name(kind), fx->out.n_books, fx->out.n_changes,
                    fx->out.unmapped, msg);
        free(msg);
    }
}

#define MUTATE(fx, text, req, list) apply_mutations(fx, text, req, list, sizeof list / sizeof list[0])

/* A decimal text of exactly n characters: "1." and zeros. */
static const char *long_decimal(size_t n) {
    static char buf[64];
    TT_ASSERT(n >= 3 && n < sizeof buf);
    memset(buf, '0', n);
    buf[0] = '1';
    buf[1] = '.';
    buf[n] = 0;
    return buf;
}

static const char *binance_syms[] = {"BNB-BTC", "BTC-USDT"};
static const char *coinbase_syms[] = {"BTC-USD", "ETH-USD"};

/* ---- the channel table ----------------------------------------------------------------------------- */

static void test_book_channels(void) {
    const struct venue_ops *v = venue_find("binance");
    TT_ASSERT(v != NULL);
    const struct venue_channel *c = venue_channel_find(v, "book");
    TT_ASSERT(c != NULL);
    TT_ASSERT_INT(c->kind, VENUE_EVENT_BOOK);
    TT_ASSERT_INT(c->book_sync, VENUE_BOOK_REST_SNAPSHOT);
    TT_ASSERT(c->ws_path && c->ws_path_subscribes && c->ws_subscribe && c->ws_parse);
    TT_ASSERT(c->rest_plan == NULL);  /* never polled */
    TT_ASSERT(c->rest_parse != NULL); /* its snapshots */
    TT_ASSERT(c->book_levels && c->book_snapshot_request);
    TT_ASSERT(c->ws_unsubscribe != NULL && c->book_checksum == NULL && !c->needs_precision);
    TT_ASSERT(!c->dense_ids);

    v = venue_find("coinbase");
    TT_ASSERT(v != NULL);
    c = venue_channel_find(v, "book");
    TT_ASSERT(c != NULL);
    TT_ASSERT_INT(c->kind, VENUE_EVENT_BOOK);
    TT_ASSERT_INT(c->book_sync, VENUE_BOOK_STREAM_SNAPSHOT);
    TT_ASSERT(c->ws_path && c->ws_subscribe && c->ws_parse && c->ws_unsubscribe);
    TT_ASSERT(c->ws_path_subscribes == NULL);
    TT_ASSERT(c->rest_plan == NULL && c->rest_parse == NULL && c->book_snapshot_request == NULL);
    TT_ASSERT(c->book_checksum == NULL && !c->needs_precision);
    /* The whole book comes: kept to 5000 levels a side, whatever the depth published. */
    TT_ASSERT(c->book_levels != NULL);
    static const unsigned depths[] = {0, 1, 20, 100, 1000, 5000};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) TT_ASSERT_INT(c->book_levels(depths[i]), 5000);

    /* The other channels do not read book messages as theirs. */
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    char *doc = doc_file("binance/doc-ws-depth-diff.json");
    out_reset(&fx, MAX_BOOKS, MAX_CHANGES);
    TT_ASSERT_INT(venue_channel_find(fx.v, "bbo")->ws_parse(doc, strlen(doc), &fx.syms, &fx.out), VENUE_MSG_UNKNOWN);
    TT_ASSERT_INT(fx.out.n + fx.out.n_books, 0);
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* ---- documented examples --------------------------------------------------------------------------- */

static void test_binance_doc_diff(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    char *doc = doc_file("binance/doc-ws-depth-diff.json");
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 1);
    TT_ASSERT_INT(fx.out.n_changes, 2);
    const struct book_update *u = &fx.books[0];
    assert_update(u, 0, BOOK_UPDATE_DELTA, 0, 2);
    TT_ASSERT(u->has_first && u->has_seq);
    TT_ASSERT_INT(u->first_seq, 157);
    TT_ASSERT_INT(u->seq, 160);
    TT_ASSERT_INT(u->event_us, 1672515782136000LL);
    assert_change(&fx.changes[0], BOOK_BID, "0.0024", "10");
    assert_change(&fx.changes[1], BOOK_ASK, "0.0026", "100");
    TT_ASSERT_INT(fx.out.unmapped + fx.out.overflow, 0);

    /* The same in a combined stream, as the path subscribes it. */
    char combined[2048];
    snprintf(combined, sizeof combined, "{\"stream\":\"bnbbtc@depth@100ms\",\"data\":%s}", doc);
    TT_ASSERT_INT(parse(&fx, combined), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 1);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_DELTA, 0, 2);
    TT_ASSERT_INT(fx.books[0].first_seq, 157);
    TT_ASSERT_INT(fx.books[0].seq, 160);
    assert_change(&fx.changes[1], BOOK_ASK, "0.0026", "100");

    /* Levels in the message's order, bids first; a zero size (a removal) passed on as sent. */
    char *many = mutated(combined, "b", "[[\"0.0024\",\"0.00000000\"],[\"0.00239\",\"7.5\"],[\"0.0023\",\"0\"]]");
    char *more = mutated(many, "a", "[[\"0.0026\",\"100\"],[\"0.0025\",\"0.000\"]]");
    TT_ASSERT_INT(parse(&fx, more), VENUE_MSG_TICKS);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_DELTA, 0, 5);
    assert_change(&fx.changes[0], BOOK_BID, "0.0024", "0.00000000");
    assert_change(&fx.changes[1], BOOK_BID, "0.00239", "7.5");
    assert_change(&fx.changes[2], BOOK_BID, "0.0023", "0");
    assert_change(&fx.changes[3], BOOK_ASK, "0.0026", "100");
    assert_change(&fx.changes[4], BOOK_ASK, "0.0025", "0.000");
    free(many);
    free(more);

    /* A diff that changes nothing still moves the update ids on. */
    char *none = mutated(doc, "b", "[]");
    char *empty = mutated(none, "a", "[]");
    TT_ASSERT_INT(parse(&fx, empty), VENUE_MSG_TICKS);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_DELTA, 0, 0);
    TT_ASSERT_INT(fx.books[0].seq, 160);
    free(none);
    free(empty);

    /* The other symbol by its name; U == u is one update id. */
    char *other = mutated(doc, "s", "\"BTCUSDT\"");
    char *one = mutated(other, "U", "160");
    TT_ASSERT_INT(parse(&fx, one), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.books[0].symbol, 1);
    TT_ASSERT_INT(fx.books[0].first_seq, 160);
    free(other);
    free(one);

    /* An event time tickd cannot trust is dropped (0), the update kept; none sent is none. */
    static const char *const bad_times[] = {"99999999999999", "1000", "0", "18446744073709551"};
    for (size_t i = 0; i < sizeof bad_times / sizeof bad_times[0]; i++) {
        char *t = mutated(doc, "E", bad_times[i]);
        TT_ASSERT_INT(parse(&fx, t), VENUE_MSG_TICKS);
        TT_ASSERT_INT(fx.out.n_books, 1);
        TT_ASSERT_INT(fx.books[0].event_us, 0);
        TT_ASSERT_INT(fx.books[0].seq, 160);
        free(t);
    }
    char *no_time = mutated(doc, "E", NULL);
    TT_ASSERT_INT(parse(&fx, no_time), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.books[0].event_us, 0);
    free(no_time);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_binance_doc_snapshot(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    struct venue_request req;
    TT_ASSERT_INT(fx.ch->book_snapshot_request(&fx.syms, 1, 20, &req), 0);
    char *doc = doc_file("binance/doc-rest-depth.json");
    /* The answer does not name its symbol: the request does. */
    TT_ASSERT_INT(answer(&fx, &req, 200, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 1);
    TT_ASSERT_INT(fx.out.n_changes, 2);
    const struct book_update *u = &fx.books[0];
    assert_update(u, 1, BOOK_UPDATE_SNAPSHOT, 0, 2);
    TT_ASSERT(u->has_seq && !u->has_first);
    TT_ASSERT_INT(u->seq, 1027024);
    TT_ASSERT_INT(u->event_us, 0);
    assert_change(&fx.changes[0], BOOK_BID, "4.00000000", "431.00000000");
    assert_change(&fx.changes[1], BOOK_ASK, "4.00000200", "12.00000000");

    req.symbol = 0;
    TT_ASSERT_INT(answer(&fx, &req, 200, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.books[0].symbol, 0);
    /* Any 2xx is an answer. */
    TT_ASSERT_INT(answer(&fx, &req, 203, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 1);

    /* Several levels a side, best first as sent, kept in that order. */
    const char *deep = "{\"lastUpdateId\":7,\"bids\":[[\"4.00000000\",\"431.00000000\"],[\"3.99\",\"1\"],"
                       "[\"3.5\",\"0.1\"]],\"asks\":[[\"4.00000200\",\"12.00000000\"],[\"4.1\",\"2\"]]}";
    TT_ASSERT_INT(answer(&fx, &req, 200, deep), VENUE_MSG_TICKS);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_SNAPSHOT, 0, 5);
    TT_ASSERT_INT(fx.books[0].seq, 7);
    assert_change(&fx.changes[1], BOOK_BID, "3.99", "1");
    assert_change(&fx.changes[2], BOOK_BID, "3.5", "0.1");
    assert_change(&fx.changes[3], BOOK_ASK, "4.00000200", "12.00000000");
    assert_change(&fx.changes[4], BOOK_ASK, "4.1", "2");

    /* An empty book is a book. */
    TT_ASSERT_INT(answer(&fx, &req, 200, "{\"lastUpdateId\":0,\"bids\":[],\"asks\":[]}"), VENUE_MSG_TICKS);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_SNAPSHOT, 0, 0);
    TT_ASSERT(fx.books[0].has_seq);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_coinbase_docs(void) {
    struct fixture fx;
    fixture_init(&fx, "coinbase", coinbase_syms, 2);

    char *doc = doc_file("coinbase/doc-ws-level2-snapshot.json");
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 1);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_SNAPSHOT, 0, 2);
    TT_ASSERT(!fx.books[0].has_seq && !fx.books[0].has_first); /* no sequence in the feed */
    TT_ASSERT_INT(fx.books[0].event_us, 0);
    assert_change(&fx.changes[0], BOOK_BID, "10101.10", "0.45054140");
    assert_change(&fx.changes[1], BOOK_ASK, "10102.55", "0.57753524");
    free(doc);

    doc = doc_file("coinbase/doc-ws-level2-l2update.json");
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 1);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_DELTA, 0, 2);
    TT_ASSERT(!fx.books[0].has_seq && !fx.books[0].has_first);
    TT_ASSERT_INT(fx.books[0].event_us, 1659626705010758LL); /* 2022-08-04T15:25:05.010758Z */
    assert_change(&fx.changes[0], BOOK_BID, "22356.270000", "0.00000000");
    assert_change(&fx.changes[1], BOOK_BID, "22356.300000", "1.00000000");

    /* sell is an ask, each change its own side, in order. */
    char *mixed = mutated(doc, "changes", "[[\"sell\",\"22356.310000\",\"2\"],[\"buy\",\"22356.1\",\"0\"],"
                                          "[\"sell\",\"22357\",\"0.5\"]]");
    TT_ASSERT_INT(parse(&fx, mixed), VENUE_MSG_TICKS);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_DELTA, 0, 3);
    assert_change(&fx.changes[0], BOOK_ASK, "22356.310000", "2");
    assert_change(&fx.changes[1], BOOK_BID, "22356.1", "0");
    assert_change(&fx.changes[2], BOOK_ASK, "22357", "0.5");
    free(mixed);

    /* A time far ahead is dropped, the update kept. */
    char *ahead = mutated(doc, "time", "\"2099-01-01T00:00:00Z\"");
    TT_ASSERT_INT(parse(&fx, ahead), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 1);
    TT_ASSERT_INT(fx.books[0].event_us, 0);
    free(ahead);
    free(doc);

    doc = doc_file("coinbase/doc-ws-level2-l2update-single.json");
    TT_ASSERT_INT(parse(&fx, doc), VENUE_MSG_TICKS);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_DELTA, 0, 1);
    TT_ASSERT_INT(fx.books[0].event_us, 1565815347265000LL); /* 2019-08-14T20:42:27.265Z */
    assert_change(&fx.changes[0], BOOK_BID, "10101.80000000", "0.162567");
    char *eth = mutated(doc, "product_id", "\"ETH-USD\"");
    TT_ASSERT_INT(parse(&fx, eth), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.books[0].symbol, 1);
    free(eth);
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* ---- messages the tasks send ----------------------------------------------------------------------- */

static void test_subscribe_messages(void) {
    struct fixture fx;
    char buf[VENUE_MSG_MAX];
    size_t next;

    /* Binance: the streams ride in the combined path; a SUBSCRIBE names the same streams. */
    fixture_init(&fx, "binance", binance_syms, 2);
    int len = fx.ch->ws_path(&fx.syms, 0, 2, buf, sizeof buf);
    TT_ASSERT_STR(buf, "/stream?streams=bnbbtc@depth@100ms/btcusdt@depth@100ms");
    TT_ASSERT_INT(len, strlen(buf));
    TT_ASSERT(fx.ch->ws_path_subscribes(&fx.syms, 0, 2));
    len = fx.ch->ws_subscribe(&fx.syms, 0, 2, 7, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf,
                  "{\"method\":\"SUBSCRIBE\",\"params\":[\"bnbbtc@depth@100ms\",\"btcusdt@depth@100ms\"],\"id\":7}");
    TT_ASSERT_INT(len, strlen(buf));
    TT_ASSERT_INT(next, 2);
    len = fx.ch->ws_subscribe(&fx.syms, 1, 1, 9, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth@100ms\"],\"id\":9}");
    TT_ASSERT_INT(next, 2);
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 1, 1, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/stream?streams=btcusdt@depth@100ms");
    /* A buffer too small for even one name. */
    TT_ASSERT_INT(fx.ch->ws_subscribe(&fx.syms, 0, 2, 1, buf, 20, &next), -ENOSPC);
    venue_symbols_free(&fx.syms);

    /* Streams too many for the path: connect to /stream and SUBSCRIBE them all, in messages under the cap. */
    static char names[400][16];
    const char *many[400];
    for (size_t i = 0; i < 400; i++) {
        snprintf(names[i], sizeof names[i], "S%zuX-USDT", i);
        many[i] = names[i];
    }
    fixture_init(&fx, "binance", many, 400);
    TT_ASSERT(!fx.ch->ws_path_subscribes(&fx.syms, 0, 400));
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 0, 400, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/stream");
    /* The most that fit: the path below VENUE_WS_PATH_MAX, one more over it. */
    size_t fit = 0;
    while (fit < 400 && fx.ch->ws_path_subscribes(&fx.syms, 0, fit + 1)) fit++;
    TT_ASSERT(fit > 10 && fit < 400);
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 0, fit, buf, sizeof buf) > 0);
    TT_ASSERT(strlen(buf) < VENUE_WS_PATH_MAX && strncmp(buf, "/stream?streams=s0xusdt@depth@100ms/", 36) == 0);
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 0, fit + 1, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/stream");
    size_t covered = 0, msgs = 0;
    for (size_t at = 0; at < 400; at = next, msgs++) {
        len = fx.ch->ws_subscribe(&fx.syms, at, 400 - at, (unsigned)msgs + 1, buf, sizeof buf, &next);
        TT_ASSERT(len > 0 && (size_t)len < fx.v->ws_msg_max && next > at);
        json_t *msg = json_loads(buf, 0, NULL);
        TT_ASSERT(msg != NULL);
        TT_ASSERT_INT(json_integer_value(json_object_get(msg, "id")), msgs + 1);
        json_t *params = json_object_get(msg, "params");
        for (size_t k = 0; k < json_array_size(params); k++, covered++) {
            char want[40];
            snprintf(want, sizeof want, "s%zuxusdt@depth@100ms", covered);
            TT_ASSERT_STR(json_string_value(json_array_get(params, k)), want);
        }
        json_decref(msg);
    }
    TT_ASSERT_INT(covered, 400);
    TT_ASSERT(msgs >= 2);
    venue_symbols_free(&fx.syms);

    /* Coinbase: level2_batch with heartbeats, as the other channels ask for theirs. */
    fixture_init(&fx, "coinbase", coinbase_syms, 2);
    TT_ASSERT(fx.ch->ws_path(&fx.syms, 0, 2, buf, sizeof buf) > 0);
    TT_ASSERT_STR(buf, "/");
    len = fx.ch->ws_subscribe(&fx.syms, 0, 2, 1, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],"
                       "\"channels\":[\"level2_batch\",\"heartbeat\"]}");
    TT_ASSERT_INT(len, strlen(buf));
    TT_ASSERT_INT(next, 2);
    /* The documentation's request, with the heartbeat. */
    char *doc = doc_file("coinbase/doc-ws-level2-batch-subscribe.json");
    json_t *want = json_loads(doc, 0, NULL);
    free(doc);
    TT_ASSERT(want != NULL);
    json_array_append_new(json_object_get(want, "channels"), json_string("heartbeat"));
    json_object_set_new(want, "product_ids", json_pack("[ss]", "BTC-USD", "ETH-USD"));
    json_t *got = json_loads(buf, 0, NULL);
    TT_ASSERT(json_equal(got, want));
    json_decref(got);
    json_decref(want);

    /* A resync unsubscribes one product's level2_batch (its heartbeat stays), then subscribes it again. */
    TT_ASSERT(fx.ch->ws_unsubscribe != NULL);
    len = fx.ch->ws_unsubscribe(&fx.syms, 1, 1, 5, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"type\":\"unsubscribe\",\"product_ids\":[\"ETH-USD\"],\"channels\":[\"level2_batch\"]}");
    TT_ASSERT_INT(len, strlen(buf));
    TT_ASSERT_INT(next, 2);
    len = fx.ch->ws_subscribe(&fx.syms, 1, 1, 6, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"type\":\"subscribe\",\"product_ids\":[\"ETH-USD\"],"
                       "\"channels\":[\"level2_batch\",\"heartbeat\"]}");
    len = fx.ch->ws_unsubscribe(&fx.syms, 0, 2, 5, buf, sizeof buf, &next);
    TT_ASSERT_STR(buf, "{\"type\":\"unsubscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],"
                       "\"channels\":[\"level2_batch\"]}");
    TT_ASSERT_INT(next, 2);
    /* The documentation's unsubscribe has the same members. */
    doc = doc_file("coinbase/doc-ws-unsubscribe.json");
    want = json_loads(doc, 0, NULL);
    free(doc);
    got = json_loads(buf, 0, NULL);
    TT_ASSERT(want && got && json_object_size(want) == json_object_size(got));
    const char *key;
    json_t *value;
    json_object_foreach(want, key, value) {
        TT_ASSERT(json_object_get(got, key) != NULL);
        TT_ASSERT_INT(json_typeof(json_object_get(got, key)), json_typeof(value));
    }
    json_decref(got);
    json_decref(want);
    /* Too small a buffer for one product. */
    TT_ASSERT_INT(fx.ch->ws_unsubscribe(&fx.syms, 0, 2, 5, buf, 30, &next), -ENOSPC);
    venue_symbols_free(&fx.syms);

    /* Many products: each message stops before the cap, and together they name every product once. */
    static char cb_names[3000][16];
    const char *cb_many[3000];
    for (size_t i = 0; i < 3000; i++) {
        snprintf(cb_names[i], sizeof cb_names[i], "C%zuX-USD", i);
        cb_many[i] = cb_names[i];
    }
    fixture_init(&fx, "coinbase", cb_many, 3000);
    char small[2048];
    for (int unsub = 0; unsub < 2; unsub++) {
        covered = msgs = 0;
        for (size_t at = 0; at < 3000; at = next, msgs++) {
            len = unsub ? fx.ch->ws_unsubscribe(&fx.syms, at, 3000 - at, 1, small, sizeof small, &next)
                        : fx.ch->ws_subscribe(&fx.syms, at, 3000 - at, 1, small, sizeof small, &next);
            TT_ASSERT(len > 0 && (size_t)len < sizeof small && next > at);
            json_t *msg = json_loads(small, 0, NULL);
            TT_ASSERT(msg != NULL);
            TT_ASSERT_STR(json_string_value(json_object_get(msg, "type")), unsub ? "unsubscribe" : "subscribe");
            json_t *ids = json_object_get(msg, "product_ids");
            for (size_t k = 0; k < json_array_size(ids); k++, covered++)
                TT_ASSERT_STR(json_string_value(json_array_get(ids, k)), cb_many[covered]);
            json_decref(msg);
        }
        TT_ASSERT_INT(covered, 3000);
        TT_ASSERT(msgs >= 2);
    }
    venue_symbols_free(&fx.syms);
}

/* ---- Binance's snapshot requests --------------------------------------------------------------------- */

static void test_snapshot_requests(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    /* Each bracket's top: the weight is the bracket's, so nothing less is asked for (1-100: 5, 101-500: 25,
     * 501-1000: 50, 1001-5000: 250). */
    static const struct {
        unsigned depth;
        uint32_t limit;
        unsigned weight;
    } want[] = {
        {0, 100, 5},       {1, 100, 5},       {20, 100, 5},      {100, 100, 5},
        {101, 500, 25},    {499, 500, 25},    {500, 500, 25},    {501, 1000, 50},
        {1000, 1000, 50},  {1001, 5000, 250}, {4999, 5000, 250}, {5000, 5000, 250},
        {70000, 5000, 250},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        TT_ASSERT_INT(fx.ch->book_levels(want[i].depth), want[i].limit);
        struct venue_request req;
        memset(&req, 0x5a, sizeof req);
        TT_ASSERT_INT(fx.ch->book_snapshot_request(&fx.syms, 0, want[i].depth, &req), 0);
        char path[64];
        snprintf(path, sizeof path, "/api/v3/depth?symbol=BNBBTC&limit=%u", (unsigned)want[i].limit);
        TT_ASSERT_STR(req.path, path);
        TT_ASSERT_INT(req.weight, want[i].weight);
        TT_ASSERT_INT(req.symbol, 0);
    }
    struct venue_request req;
    TT_ASSERT_INT(fx.ch->book_snapshot_request(&fx.syms, 1, 1000, &req), 0);
    TT_ASSERT_STR(req.path, "/api/v3/depth?symbol=BTCUSDT&limit=1000");
    TT_ASSERT_INT(req.weight, 50);
    TT_ASSERT_INT(req.symbol, 1);
    /* Not a symbol of the table. */
    TT_ASSERT_INT(fx.ch->book_snapshot_request(&fx.syms, -1, 20, &req), -EINVAL);
    TT_ASSERT_INT(fx.ch->book_snapshot_request(&fx.syms, 2, 20, &req), -EINVAL);
    venue_symbols_free(&fx.syms);
}

/* ---- REST answers -------------------------------------------------------------------------------------- */

struct rest_case {
    int status;
    const char *body;
    enum venue_msg kind;
    const char *detail;
};

static void test_rest_errors(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    struct venue_request req;
    TT_ASSERT_INT(fx.ch->book_snapshot_request(&fx.syms, 0, 20, &req), 0);
    static const struct rest_case cases[] = {
        {429, "{\"code\":-1003,\"msg\":\"Too much request weight used.\"}", VENUE_MSG_RATE_LIMITED,
         "Too much request weight used."},
        {418, "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned until 1659146400000.\"}",
         VENUE_MSG_RATE_LIMITED, "Way too much request weight used; IP banned until 1659146400000."},
        {429, "", VENUE_MSG_RATE_LIMITED, ""},
        {500, "", VENUE_MSG_UNAVAILABLE, ""},
        {502, "<html>Bad Gateway</html>", VENUE_MSG_UNAVAILABLE, ""},
        {503, "{\"code\":-1008,\"msg\":\"Server is currently overloaded with other requests.\"}",
         VENUE_MSG_UNAVAILABLE, "Server is currently overloaded with other requests."},
        {400, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", VENUE_MSG_ERROR, "Invalid symbol."},
        {400, "{\"code\":-1100,\"msg\":\"Illegal characters found in parameter 'limit'.\"}", VENUE_MSG_ERROR,
         "Illegal characters found in parameter 'limit'."},
        {403, "", VENUE_MSG_ERROR, ""},
        {404, "{\"lastUpdateId\":1,\"bids\":[],\"asks\":[]}", VENUE_MSG_ERROR, ""},
        /* The venue's error body whatever the status says. */
        {200, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", VENUE_MSG_ERROR, "Invalid symbol."},
        {200, "{\"code\":-1003,\"msg\":\"Too many requests.\"}", VENUE_MSG_RATE_LIMITED, "Too many requests."},
    };
    char *doc = doc_file("binance/doc-rest-depth.json");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Into an output already holding a snapshot: a refused answer adds nothing to it. */
        out_reset(&fx, MAX_BOOKS, MAX_CHANGES);
        TT_ASSERT_INT(answer_more(&fx, &req, 200, doc, strlen(doc)), VENUE_MSG_TICKS);
        enum venue_msg kind = answer_more(&fx, &req, cases[i].status, cases[i].body, strlen(cases[i].body));
        if (kind != cases[i].kind)
            TT_FAIL("status %d body %s gave %s", cases[i].status, cases[i].body, venue_msg_name(kind));
        TT_ASSERT_INT(fx.out.n_books, 1);
        TT_ASSERT_INT(fx.out.n_changes, 2);
        TT_ASSERT_STR(fx.out.detail, cases[i].detail);
    }
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_rest_malformed(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    struct venue_request req;
    TT_ASSERT_INT(fx.ch->book_snapshot_request(&fx.syms, 1, 20, &req), 0);
    char *doc = doc_file("binance/doc-rest-depth.json");
    char price23[128], price24[128];
    snprintf(price23, sizeof price23, "[[\"%s\",\"1\"]]", long_decimal(BOOK_TEXT_MAX - 1));
    snprintf(price24, sizeof price24, "[[\"%s\",\"1\"]]", long_decimal(BOOK_TEXT_MAX));
    const struct mutation m[] = {
        {"lastUpdateId", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"lastUpdateId", "\"1027024\"", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"lastUpdateId", "-1", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"lastUpdateId", "1027024.5", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"lastUpdateId", "null", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"lastUpdateId", "0", VENUE_MSG_TICKS, 1, 2, 0},
        {"bids", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"asks", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "{}", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"asks", "\"none\"", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[]", VENUE_MSG_TICKS, 1, 1, 0},
        {"bids", "[[\"4.00000000\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[\"4.00000000\"]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[4.0,\"431\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"4\",431]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"4\",null]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"0\",\"431\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"0.00000000\",\"431\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"-4.00000000\",\"431\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"4\",\"-1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"4e2\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"4.\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\" 4\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"+4\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"4\",\"\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"NaN\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"4\",\"1\"],[\"3\",\"x\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"4\",\"1\",[]]]", VENUE_MSG_TICKS, 1, 2, 0}, /* the venue's former third member */
        {"asks", price23, VENUE_MSG_TICKS, 1, 2, 0},
        {"asks", price24, VENUE_MSG_MALFORMED, 0, 0, 0},
    };
    MUTATE(&fx, doc, &req, m);
    /* A size of BOOK_TEXT_MAX - 1 characters is taken, one more is not. */
    char level[128];
    snprintf(level, sizeof level, "[[\"4\",\"%s\"]]", long_decimal(BOOK_TEXT_MAX - 1));
    char *ok = mutated(doc, "bids", level);
    TT_ASSERT_INT(answer(&fx, &req, 200, ok), VENUE_MSG_TICKS);
    TT_ASSERT_STR(fx.changes[0].qty, long_decimal(BOOK_TEXT_MAX - 1));
    free(ok);
    snprintf(level, sizeof level, "[[\"4\",\"%s\"]]", long_decimal(BOOK_TEXT_MAX));
    char *bad = mutated(doc, "bids", level);
    TT_ASSERT_INT(answer(&fx, &req, 200, bad), VENUE_MSG_MALFORMED);
    free(bad);

    /* Not an answer's shape at all. */
    static const char *const bodies[] = {"", "[]", "null", "42", "\"x\"", "not json", "{}", "[{\"lastUpdateId\":1}]"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        TT_ASSERT_INT(answer(&fx, &req, 200, bodies[i]), VENUE_MSG_MALFORMED);

    /* A request that names no symbol of the table: nothing to file the snapshot under. */
    struct venue_request stray = req;
    stray.symbol = -1;
    TT_ASSERT_INT(answer(&fx, &stray, 200, doc), VENUE_MSG_MALFORMED);
    stray.symbol = 2;
    TT_ASSERT_INT(answer(&fx, &stray, 200, doc), VENUE_MSG_MALFORMED);
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* ---- hostile frames ------------------------------------------------------------------------------------ */

static void test_binance_bad_shapes(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    char *doc = doc_file("binance/doc-ws-depth-diff.json");
    char combined[2048];
    snprintf(combined, sizeof combined, "{\"stream\":\"bnbbtc@depth@100ms\",\"data\":%s}", doc);
    char price23[128], price24[128], qty24[128];
    snprintf(price23, sizeof price23, "[[\"%s\",\"1\"]]", long_decimal(BOOK_TEXT_MAX - 1));
    snprintf(price24, sizeof price24, "[[\"%s\",\"1\"]]", long_decimal(BOOK_TEXT_MAX));
    snprintf(qty24, sizeof qty24, "[[\"1\",\"%s\"]]", long_decimal(BOOK_TEXT_MAX));
    const struct mutation m[] = {
        {"e", NULL, VENUE_MSG_UNKNOWN, 0, 0, 0},
        {"e", "\"depth\"", VENUE_MSG_UNKNOWN, 0, 0, 0},
        {"e", "5", VENUE_MSG_UNKNOWN, 0, 0, 0},
        {"s", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"s", "5", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"s", "\"ETHBTC\"", VENUE_MSG_TICKS, 0, 0, 1},
        {"s", "\"bnbbtc\"", VENUE_MSG_TICKS, 0, 0, 1}, /* names are the venue's, exactly */
        {"U", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"U", "\"157\"", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"U", "-1", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"U", "157.5", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"U", "161", VENUE_MSG_MALFORMED, 0, 0, 0}, /* first after final */
        {"U", "0", VENUE_MSG_TICKS, 1, 2, 0},
        {"u", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"u", "null", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"u", "true", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"E", "\"1672515782136\"", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"E", "-5", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"a", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "{}", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"a", "null", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[]", VENUE_MSG_TICKS, 1, 1, 0},
        {"b", "[[\"0.0024\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"0.0024\",10]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[0.0024,\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[{\"p\":\"0.0024\",\"q\":\"10\"}]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"0\",\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"0.0000\",\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"-0\",\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"-0.0024\",\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"0.0024\",\"-10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"0x10\",\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"1e-3\",\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\".5\",\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"0.0024\",\"10 \"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"Infinity\",\"10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", "[[\"0.0024\",\"10\"],[\"0.0023\",\"x\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"a", "[[\"0.0026\",\"100\"],5]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"b", price23, VENUE_MSG_TICKS, 1, 2, 0},
        {"b", price24, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"a", qty24, VENUE_MSG_MALFORMED, 0, 0, 0},
    };
    MUTATE(&fx, doc, NULL, m);
    MUTATE(&fx, combined, NULL, m);

    /* A symbol not in the table is counted, but only for a message that is whole: a bad level refuses it. */
    char *stranger = mutated(doc, "s", "\"ETHBTC\"");
    char *broken = mutated(stranger, "a", "[[\"0\",\"1\"]]");
    TT_ASSERT_INT(parse(&fx, broken), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.unmapped, 0);
    free(stranger);
    free(broken);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_coinbase_bad_shapes(void) {
    struct fixture fx;
    fixture_init(&fx, "coinbase", coinbase_syms, 2);
    char price24[128], change24[128], change23[128];
    snprintf(price24, sizeof price24, "[[\"%s\",\"1\"]]", long_decimal(BOOK_TEXT_MAX));
    snprintf(change24, sizeof change24, "[[\"sell\",\"1\",\"%s\"]]", long_decimal(BOOK_TEXT_MAX));
    snprintf(change23, sizeof change23, "[[\"sell\",\"%s\",\"1\"]]", long_decimal(BOOK_TEXT_MAX - 1));
    char *doc = doc_file("coinbase/doc-ws-level2-snapshot.json");
    const struct mutation snap[] = {
        {"product_id", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"product_id", "7", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"product_id", "\"SOL-USD\"", VENUE_MSG_TICKS, 0, 0, 1},
        {"product_id", "\"btc-usd\"", VENUE_MSG_TICKS, 0, 0, 1},
        {"bids", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"asks", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "{}", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[]", VENUE_MSG_TICKS, 1, 1, 0},
        {"bids", "[[\"10101.10\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[10101.10,\"0.45054140\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"0\",\"0.45054140\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"-10101.10\",\"0.45054140\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"10101.10\",\"-0.45054140\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"10,101.10\",\"0.45054140\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"bids", "[[\"buy\",\"10101.10\",\"0.45054140\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"asks", price24, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"asks", "[[\"10102.55\",\"0.57753524\"],[\"10103\",\"1\"]]", VENUE_MSG_TICKS, 1, 3, 0},
        {"time", "\"2019-08-14T20:42:27.265Z\"", VENUE_MSG_TICKS, 1, 2, 0}, /* a snapshot's time is not read */
    };
    MUTATE(&fx, doc, NULL, snap);
    free(doc);

    doc = doc_file("coinbase/doc-ws-level2-l2update.json");
    const struct mutation upd[] = {
        {"product_id", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"product_id", "[]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"product_id", "\"SOL-USD\"", VENUE_MSG_TICKS, 0, 0, 1},
        {"time", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"time", "\"yesterday\"", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"time", "1659626705", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"time", "\"2022-08-04 15:25:05\"", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", NULL, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "{}", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[]", VENUE_MSG_TICKS, 1, 0, 0},
        {"changes", "[[\"bid\",\"1\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[\"BUY\",\"1\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[null,\"1\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[\"buy\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[\"1\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[\"buy\",1,\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[\"sell\",\"0.00\",\"1\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[\"sell\",\"1\",\"-0.5\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[\"sell\",\"1\",\"1.5e3\"]]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", "[[\"buy\",\"1\",\"1\"],\"sell\"]", VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", change24, VENUE_MSG_MALFORMED, 0, 0, 0},
        {"changes", change23, VENUE_MSG_TICKS, 1, 1, 0},
    };
    MUTATE(&fx, doc, NULL, upd);

    /* A product not in the table is counted only for a whole message. */
    char *stranger = mutated(doc, "product_id", "\"SOL-USD\"");
    char *broken = mutated(stranger, "time", "\"never\"");
    TT_ASSERT_INT(parse(&fx, broken), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.unmapped, 0);
    free(broken);
    broken = mutated(stranger, "changes", "[[\"buy\",\"1\",\"1\"],[\"sell\",\"0\",\"1\"]]");
    TT_ASSERT_INT(parse(&fx, broken), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.unmapped, 0);
    free(broken);
    free(stranger);
    free(doc);
    venue_symbols_free(&fx.syms);
}

/* ---- control messages -------------------------------------------------------------------------------- */

struct control {
    const char *frame;
    enum venue_msg kind;
    const char *detail;
};

static void classify_all(const char *venue, const char **syms, const struct control *c, size_t n) {
    struct fixture fx;
    fixture_init(&fx, venue, syms, 2);
    for (size_t i = 0; i < n; i++) {
        enum venue_msg kind = parse(&fx, c[i].frame);
        if (kind != c[i].kind)
            TT_FAIL("%s: %s gave %s, expected %s", venue, c[i].frame, venue_msg_name(kind), venue_msg_name(c[i].kind));
        TT_ASSERT_INT(fx.out.n_books + fx.out.n_changes, 0);
        if (c[i].detail) TT_ASSERT_STR(fx.out.detail, c[i].detail);
    }
    venue_symbols_free(&fx.syms);
}

#define CLASSIFY(venue, syms, list) classify_all(venue, syms, list, sizeof list / sizeof list[0])

static void test_control_messages(void) {
    static const struct control binance[] = {
        {"{\"result\":null,\"id\":1}", VENUE_MSG_SUBSCRIBED, NULL},
        {"{\"error\":{\"code\":2,\"msg\":\"Invalid request: too many parameters\"},\"id\":1}", VENUE_MSG_ERROR,
         "Invalid request: too many parameters"},
        {"{\"e\":\"serverShutdown\",\"E\":1}", VENUE_MSG_PLANNED_CLOSE, NULL},
        {"{\"stream\":\"bnbbtc@depth@100ms\",\"data\":{\"e\":\"serverShutdown\",\"E\":1}}", VENUE_MSG_PLANNED_CLOSE,
         NULL},
        {"{\"u\":400900217,\"s\":\"BNBBTC\",\"b\":\"25.3519\",\"B\":\"31.21\",\"a\":\"25.3652\",\"A\":\"40.66\"}",
         VENUE_MSG_UNKNOWN, NULL},
        {"{\"e\":\"trade\",\"E\":1,\"s\":\"BNBBTC\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}",
         VENUE_MSG_UNKNOWN, NULL},
        /* A partial depth (depth<levels>) is not a diff. */
        {"{\"lastUpdateId\":160,\"bids\":[[\"0.0024\",\"10\"]],\"asks\":[[\"0.0026\",\"100\"]]}", VENUE_MSG_UNKNOWN,
         NULL},
        {"[]", VENUE_MSG_MALFORMED, NULL},
        {"\"depthUpdate\"", VENUE_MSG_MALFORMED, NULL},
        {"not json", VENUE_MSG_MALFORMED, NULL},
        {"", VENUE_MSG_MALFORMED, NULL},
    };
    CLASSIFY("binance", binance_syms, binance);
    static const struct control coinbase[] = {
        {"{\"type\":\"heartbeat\",\"sequence\":90,\"last_trade_id\":20,\"product_id\":\"BTC-USD\","
         "\"time\":\"2014-11-07T08:19:28.464459Z\"}",
         VENUE_MSG_HEARTBEAT, NULL},
        {"{\"type\":\"subscriptions\",\"channels\":[{\"name\":\"level2_batch\",\"product_ids\":[\"BTC-USD\"]}]}",
         VENUE_MSG_SUBSCRIBED, NULL},
        {"{\"type\":\"error\",\"message\":\"Failed to subscribe\",\"reason\":\"level2 requires authentication\"}",
         VENUE_MSG_ERROR, "level2 requires authentication"},
        {"{\"type\":\"error\",\"message\":\"error message\"}", VENUE_MSG_ERROR, "error message"},
        {"{\"type\":\"status\",\"products\":[],\"currencies\":[]}", VENUE_MSG_STATUS, NULL},
        {"{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"BTC-USD\",\"price\":\"1\"}", VENUE_MSG_UNKNOWN, NULL},
        {"{\"type\":\"match\",\"trade_id\":10,\"product_id\":\"BTC-USD\",\"price\":\"1\",\"size\":\"1\"}",
         VENUE_MSG_UNKNOWN, NULL},
        {"{\"type\":\"l2_data\"}", VENUE_MSG_UNKNOWN, NULL},
        {"{\"product_id\":\"BTC-USD\",\"bids\":[],\"asks\":[]}", VENUE_MSG_MALFORMED, NULL},
        {"{\"type\":5}", VENUE_MSG_MALFORMED, NULL},
        {"[]", VENUE_MSG_MALFORMED, NULL},
        {"not json", VENUE_MSG_MALFORMED, NULL},
    };
    CLASSIFY("coinbase", coinbase_syms, coinbase);
}

/* ---- full arrays and whole messages ---------------------------------------------------------------- */

static void test_overflow(void) {
    struct fixture fx;
    fixture_init(&fx, "binance", binance_syms, 2);
    char *doc = doc_file("binance/doc-ws-depth-diff.json");
    size_t len = strlen(doc);

    /* No room for an update: counted, nothing written, the message still taken (the caller parses again). */
    out_reset(&fx, 0, MAX_CHANGES);
    TT_ASSERT_INT(parse_more(&fx, doc, len), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books + fx.out.n_changes, 0);
    TT_ASSERT_INT(fx.out.overflow, 1);
    /* No room for the second change: counted. */
    out_reset(&fx, MAX_BOOKS, 1);
    TT_ASSERT_INT(parse_more(&fx, doc, len), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 1);
    TT_ASSERT_INT(fx.books[0].n_changes, 1);
    TT_ASSERT_INT(fx.out.overflow, 1);
    assert_change(&fx.changes[0], BOOK_BID, "0.0024", "10");
    /* A venue_out given no book arrays at all. */
    venue_out_init(&fx.out, fx.ticks, 4, RECV_US, 0);
    TT_ASSERT_INT(parse_more(&fx, doc, len), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.overflow, 1);

    /* Frames parsed one after another into one output: each update's changes follow the last one's; the one
     * past the updates' cap is counted. */
    out_reset(&fx, 2, MAX_CHANGES);
    TT_ASSERT_INT(parse_more(&fx, doc, len), VENUE_MSG_TICKS);
    char *other = mutated(doc, "s", "\"BTCUSDT\"");
    TT_ASSERT_INT(parse_more(&fx, other, strlen(other)), VENUE_MSG_TICKS);
    TT_ASSERT_INT(parse_more(&fx, doc, len), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_books, 2);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_DELTA, 0, 2);
    assert_update(&fx.books[1], 1, BOOK_UPDATE_DELTA, 2, 2);
    TT_ASSERT_INT(fx.out.n_changes, 4);
    TT_ASSERT_INT(fx.out.overflow, 1);
    /* ... and a refused frame then changes no count. */
    char *bad = mutated(doc, "a", "[[\"0.0026\",\"-1\"]]");
    TT_ASSERT_INT(parse_more(&fx, bad, strlen(bad)), VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.overflow, 1);
    free(bad);
    free(other);
    free(doc);

    /* A deep snapshot, 5000 levels a side: every one kept in order when the arrays hold it, the rest counted. */
    size_t cap = 10000;
    struct book_change *many = malloc(cap * sizeof *many);
    struct venue_request req;
    TT_ASSERT_INT(fx.ch->book_snapshot_request(&fx.syms, 0, 5000, &req), 0);
    size_t blen = 0, bcap = 400000;
    char *body = malloc(bcap);
    blen += (size_t)snprintf(body + blen, bcap - blen, "{\"lastUpdateId\":99,\"bids\":[");
    for (size_t i = 0; i < 5000; i++)
        blen += (size_t)snprintf(body + blen, bcap - blen, "%s[\"%zu.5\",\"%zu\"]", i ? "," : "", 10000 - i, i + 1);
    blen += (size_t)snprintf(body + blen, bcap - blen, "],\"asks\":[");
    for (size_t i = 0; i < 5000; i++)
        blen += (size_t)snprintf(body + blen, bcap - blen, "%s[\"%zu.5\",\"%zu\"]", i ? "," : "", 10001 + i, i + 1);
    blen += (size_t)snprintf(body + blen, bcap - blen, "]}");
    TT_ASSERT(blen < bcap - 1);
    venue_out_init(&fx.out, fx.ticks, 4, RECV_US, 0);
    venue_out_books(&fx.out, fx.books, 1, many, cap);
    TT_ASSERT_INT(fx.ch->rest_parse(&req, 200, body, blen, &fx.syms, &fx.out), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_changes, 10000);
    assert_update(&fx.books[0], 0, BOOK_UPDATE_SNAPSHOT, 0, 10000);
    assert_change(&many[0], BOOK_BID, "10000.5", "1");
    assert_change(&many[4999], BOOK_BID, "5001.5", "5000");
    assert_change(&many[5000], BOOK_ASK, "10001.5", "1");
    assert_change(&many[9999], BOOK_ASK, "15000.5", "5000");
    TT_ASSERT_INT(fx.out.overflow, 0);
    venue_out_books(&fx.out, fx.books, 1, many, cap - 1);
    TT_ASSERT_INT(fx.ch->rest_parse(&req, 200, body, blen, &fx.syms, &fx.out), VENUE_MSG_TICKS);
    TT_ASSERT_INT(fx.out.n_changes, cap - 1);
    TT_ASSERT_INT(fx.books[0].n_changes, cap - 1);
    TT_ASSERT_INT(fx.out.overflow, 1);
    free(body);
    free(many);
    venue_symbols_free(&fx.syms);
}

/* One message that a bad level at its very end refuses, parsed into an output already holding an update: the
 * output is exactly as it was, counts included (check_out compares). */
static void whole_message(const char *venue, const char **syms, const char *rel, const char *key, const char *bad,
                          bool rest) {
    struct fixture fx;
    fixture_init(&fx, venue, syms, 2);
    struct venue_request req = {.symbol = 0};
    char *doc = doc_file(rel);
    char *broken = mutated(doc, key, bad);
    out_reset(&fx, MAX_BOOKS, MAX_CHANGES);
    for (int i = 0; i < 2; i++) {
        enum venue_msg kind = rest ? answer_more(&fx, &req, 200, doc, strlen(doc)) : parse_more(&fx, doc, strlen(doc));
        TT_ASSERT_INT(kind, VENUE_MSG_TICKS);
    }
    size_t books = fx.out.n_books, changes = fx.out.n_changes;
    TT_ASSERT_INT(books, 2);
    enum venue_msg kind =
        rest ? answer_more(&fx, &req, 200, broken, strlen(broken)) : parse_more(&fx, broken, strlen(broken));
    TT_ASSERT_INT(kind, VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.n_books, books);
    TT_ASSERT_INT(fx.out.n_changes, changes);
    /* The same with the updates' array full: no overflow is counted for a refused message either. */
    out_reset(&fx, 0, 0);
    kind = rest ? answer_more(&fx, &req, 200, broken, strlen(broken)) : parse_more(&fx, broken, strlen(broken));
    TT_ASSERT_INT(kind, VENUE_MSG_MALFORMED);
    TT_ASSERT_INT(fx.out.overflow, 0);
    free(broken);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_whole_message(void) {
    whole_message("binance", binance_syms, "binance/doc-ws-depth-diff.json", "a",
                  "[[\"0.0026\",\"100\"],[\"0.0027\",\"1\"],[\"0.0028\",\"1x\"]]", false);
    whole_message("binance", binance_syms, "binance/doc-rest-depth.json", "asks",
                  "[[\"4.00000200\",\"12.00000000\"],[\"0\",\"1\"]]", true);
    whole_message("coinbase", coinbase_syms, "coinbase/doc-ws-level2-snapshot.json", "asks",
                  "[[\"10102.55\",\"0.57753524\"],[\"10103\",\"-1\"]]", false);
    whole_message("coinbase", coinbase_syms, "coinbase/doc-ws-level2-l2update.json", "changes",
                  "[[\"buy\",\"1\",\"1\"],[\"sell\",\"2\",\"2\"],[\"hold\",\"3\",\"3\"]]", false);
}

/* Every prefix and every byte flipped of each documented message: check_out's invariants hold, a prefix short of
 * the closing brace is refused, and whatever is refused leaves nothing. */
static void hostile(const char *venue, const char **syms, const char *rel, bool rest) {
    struct fixture fx;
    fixture_init(&fx, venue, syms, 2);
    struct venue_request req = {.symbol = 1};
    char *doc = doc_file(rel);
    size_t len = strlen(doc), close = (size_t)(strrchr(doc, '}') - doc);
    for (size_t n = 0; n <= len; n++) {
        out_reset(&fx, MAX_BOOKS, MAX_CHANGES);
        enum venue_msg kind = rest ? answer_more(&fx, &req, 200, doc, n) : parse_more(&fx, doc, n);
        if (n <= close) TT_ASSERT_INT(kind, VENUE_MSG_MALFORMED);
        else TT_ASSERT_INT(kind, VENUE_MSG_TICKS);
    }
    static const char flips[] = {'0', '-', '"', ',', ']', '}', '[', 'x', ' ', '\\', '\x01', '\xff', '.', 'e'};
    char *copy = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(copy, doc, len + 1);
            copy[i] = flips[f];
            out_reset(&fx, MAX_BOOKS, MAX_CHANGES);
            if (rest) answer_more(&fx, &req, 200, copy, len);
            else parse_more(&fx, copy, len);
        }
    free(copy);
    free(doc);
    venue_symbols_free(&fx.syms);
}

static void test_truncated_and_flipped(void) {
    hostile("binance", binance_syms, "binance/doc-ws-depth-diff.json", false);
    hostile("binance", binance_syms, "binance/doc-rest-depth.json", true);
    hostile("coinbase", coinbase_syms, "coinbase/doc-ws-level2-snapshot.json", false);
    hostile("coinbase", coinbase_syms, "coinbase/doc-ws-level2-l2update.json", false);
    hostile("coinbase", coinbase_syms, "coinbase/doc-ws-level2-l2update-single.json", false);
}

int main(void) {
    TT_RUN(test_book_channels);
    TT_RUN(test_binance_doc_diff);
    TT_RUN(test_binance_doc_snapshot);
    TT_RUN(test_coinbase_docs);
    TT_RUN(test_subscribe_messages);
    TT_RUN(test_snapshot_requests);
    TT_RUN(test_rest_errors);
    TT_RUN(test_rest_malformed);
    TT_RUN(test_binance_bad_shapes);
    TT_RUN(test_coinbase_bad_shapes);
    TT_RUN(test_control_messages);
    TT_RUN(test_overflow);
    TT_RUN(test_whole_message);
    TT_RUN(test_truncated_and_flipped);
    return tt_finish();
}
