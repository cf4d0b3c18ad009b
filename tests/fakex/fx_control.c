/* fx_control.c -- what tests use to script fakex and to read what it did.
 *
 * The control port answers:
 *   GET  /_fakex/report                  the JSON report (also written to --report FILE at exit)
 *   POST /_fakex/set?venue=V&key=value   settings and faults, V = a venue name or "all" (/_fakex/fault is the same);
 *                                        the book faults take symbol=S (a normalized name, BTC-USDT) for one symbol
 *   GET  /_fakex/book?venue=V&symbol=S&depth=N   the venue's book of S as fakex holds it, the top N levels a side
 *                                        (0 or none: all): {"venue","symbol","seq","bids":[["p","q"],...],"asks"}
 *                                        with each price and size the text the venue's book messages carry, seq
 *                                        the update id of its last change (Binance's u, OKX's seqId)
 *   GET  /_fakex/health                  {"ok":true}
 *   POST /_fakex/quit                    ends fakex as SIGTERM does
 * One table of settings serves both this endpoint and the command line (--set, --scenario).
 *
 * The book settings and faults:
 *   book_rate=N            level changes a second per symbol whose book exists (default 20; 0: the books stand
 *                          still); benchmarks raise it (the book-load scenario)
 *   book_levels=N          levels a side a new book is seeded with, on average (default 100: 50 to 150)
 *   book_drop=N            the next N book messages of the symbol are not sent, the book and its ids go on: the
 *                          next one shows the gap (Binance U, OKX prevSeqId)
 *   book_dup=N             the next N are sent twice
 *   book_reorder=N         N times, a message is held back and sent after the next one
 *   book_bad_checksum=N    the next N messages carry a wrong checksum (Kraken, OKX)
 *   book_stale_snapshot=N  the next N depth snapshot requests (Binance, OKX REST) are answered with the book as it was
 *                          when the fault was set: a lastUpdateId behind the diffs streamed since
 *   book_cross=N           N times, a batch puts a bid at the best ask (the message crosses the book); the batch
 *                          after removes it
 *   snapshot_status=429|418 [snapshot_count=N]   the next N (1) depth snapshot requests are answered with that
 *                          status and a Retry-After (Binance, OKX)
 *   book_no_snapshot=1     OKX: subscribing to books brings no snapshot, only the updates (OKX's announced change)
 *   book_rest_no_seq=1     OKX: the REST book (GET /api/v5/market/books) answers without its seqId
 * The instrument list settings and controls (fx_instruments.c), with symbol=S (a normalized name):
 *   list=1&symbol=S        S is listed on the venue (or every venue with venue=all): a new symbol is added to its
 *                          instrument list, trading, and served on its streams and REST from now on like any other;
 *                          a delisted one trades again. A symbol listed and not delisted is an error
 *   halt=1&symbol=S        S is halted: listed as such (Binance HALT, Coinbase trading_disabled, Kraken cancel_only,
 *                          OKX suspend), its market stands still; halt=0 trades again
 *   delist=1&symbol=S      S is delisted: Binance BREAK, Coinbase delisted, gone from Kraken's and OKX's lists; its
 *                          market stands still
 *   instruments_status=N   the instrument list is answered with HTTP status N (500, 503, 429...) until set to 0
 *   instruments_malformed=N  the next N instrument lists are cut in the middle (HTTP 200, half a JSON text)
 * The report holds, per venue, "instruments": {"requests" (instrument lists asked for), "faults" (answered by
 * instruments_status or instruments_malformed), "listed" (symbols listed at runtime), "trading", "halted",
 * "delisted" (symbols by status now)}, and each symbol its "status".
 * The report holds, per venue, "book": {"book_rate", "book_levels", "books" (symbols whose book exists),
 * "changes" (level changes made), "messages" (batches sent, per connection), "snapshots" (sent on subscribing),
 * "dropped" (batches a subscriber behind the high-water mark missed), "faults" (book faults carried out),
 * "subscribes", "unsubscribes" (of the book channel, per connection and symbol), "depth_requests",
 * "depth_weight", "depth_refused" (REST snapshots asked for, their weight, those snapshot_status answered),
 * "behind" (changes not made because the loop fell far behind)}. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakex.h"
#include "tickd/log.h"

/* ---- violations ---- */

#define FX_VIOLATIONS_MAX 10000

struct fx_violation_rec {
    int64_t t_ms;
    const char *venue;
    uint64_t conn;
    char kind[32];
    char detail[192];
};

static struct fx_violation_rec *violations;
static size_t nviolations;
static int64_t violations_total;

void fx_violation(struct fx_venue *v, uint64_t conn, const char *kind, const char *fmt, ...) {
    violations_total++;
    struct fx_violation_rec r = {.t_ms = (int64_t)uv_now(fx_loop) - fx_start_ms, .venue = v->d->name, .conn = conn};
    snprintf(r.kind, sizeof r.kind, "%s", kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.detail, sizeof r.detail, fmt, ap);
    va_end(ap);
    log_warn("fakex", "violation", "venue=%s conn=%llu kind=%s detail=%s", r.venue, (unsigned long long)conn, r.kind,
             r.detail);
    if (nviolations == FX_VIOLATIONS_MAX) return; /* counted, not kept */
    if (!violations) violations = fx_xmalloc(FX_VIOLATIONS_MAX * sizeof *violations);
    violations[nviolations++] = r;
}

void fx_violations_free(void) {
    free(violations);
    violations = NULL;
    nviolations = 0;
}

/* ---- settings ---- */

enum kind { INT, FLAG, ACTION, BOOK, LISTING };

static const struct setting {
    const char *key;
    enum kind kind;
    size_t offset; /* into struct fx_venue; BOOK: into struct fx_book_faults, per symbol */
} settings[] = {
    {"rate", INT, offsetof(struct fx_venue, rate)},
    {"trade_rate", INT, offsetof(struct fx_venue, trade_rate)}, /* trades a second; 0: one per quote update; <0: none */
    {"book_rate", INT, offsetof(struct fx_venue, book_rate)},
    {"book_levels", INT, offsetof(struct fx_venue, book_levels)},
    {"snapshot_status", INT, offsetof(struct fx_venue, faults.snapshot_status)},
    {"snapshot_count", INT, offsetof(struct fx_venue, faults.snapshot_count)},
    {"instruments_status", INT, offsetof(struct fx_venue, faults.instruments_status)},
    {"instruments_malformed", INT, offsetof(struct fx_venue, faults.instruments_malformed)},
    {"list", LISTING, 0},   /* symbol= is listed (new, or again after a delisting) */
    {"halt", LISTING, 0},   /* symbol= is halted (1) or trades again (0) */
    {"delist", LISTING, 0}, /* symbol= is delisted */
    {"book_drop", BOOK, offsetof(struct fx_book_faults, drop)},
    {"book_dup", BOOK, offsetof(struct fx_book_faults, dup)},
    {"book_reorder", BOOK, offsetof(struct fx_book_faults, reorder)},
    {"book_bad_checksum", BOOK, offsetof(struct fx_book_faults, bad_checksum)},
    {"book_stale_snapshot", BOOK, offsetof(struct fx_book_faults, stale)},
    {"book_cross", BOOK, offsetof(struct fx_book_faults, cross)},
    {"rest_limit", INT, offsetof(struct fx_venue, rest.limit)},
    {"rest_window_ms", INT, offsetof(struct fx_venue, rest.window_ms)},
    {"ban_ms", INT, offsetof(struct fx_venue, ban_ms)},
    {"ws_msg_limit", INT, offsetof(struct fx_venue, ws_msg_limit)},
    {"ws_max_streams", INT, offsetof(struct fx_venue, ws_max_streams)},
    {"ping_ms", INT, offsetof(struct fx_venue, ping_ms)},
    {"pong_timeout_ms", INT, offsetof(struct fx_venue, pong_timeout_ms)},
    {"idle_ms", INT, offsetof(struct fx_venue, idle_ms)},
    {"heartbeat_ms", INT, offsetof(struct fx_venue, heartbeat_ms)},
    {"subscribe_within_ms", INT, offsetof(struct fx_venue, subscribe_within_ms)},
    {"announce_grace_ms", INT, offsetof(struct fx_venue, announce_grace_ms)},
    {"connect_limit", INT, offsetof(struct fx_venue, connects.limit)},
    {"close_after", INT, offsetof(struct fx_venue, faults.close_after)},
    {"close_in_ms", INT, offsetof(struct fx_venue, faults.close_in_ms)},
    {"delay_ms", INT, offsetof(struct fx_venue, faults.delay_ms)},
    {"http_status", INT, offsetof(struct fx_venue, faults.http_status)},
    {"malformed", INT, offsetof(struct fx_venue, faults.malformed)},
    {"truncated", INT, offsetof(struct fx_venue, faults.truncated)},
    {"unknown", INT, offsetof(struct fx_venue, faults.unknown)},
    {"oversized", INT, offsetof(struct fx_venue, faults.oversized)},
    {"sub_error", INT, offsetof(struct fx_venue, faults.sub_error)},
    {"mute_next", INT, offsetof(struct fx_venue, faults.mute_next)},
    {"poison", INT, offsetof(struct fx_venue, faults.poison)},
    {"stall", FLAG, offsetof(struct fx_venue, faults.stall)},
    {"refuse", FLAG, offsetof(struct fx_venue, faults.refuse)},
    {"heartbeats_only", FLAG, offsetof(struct fx_venue, faults.heartbeats_only)},
    {"book_no_snapshot", FLAG, offsetof(struct fx_venue, faults.book_no_snapshot)},
    {"book_rest_no_seq", FLAG, offsetof(struct fx_venue, faults.book_rest_no_seq)},
    {"announce", ACTION, 0},  /* send the planned-close notice now, close after the grace (value ms, 0 = default) */
    {"close_all", ACTION, 0}, /* drop every connection of the venue now */
    {"clear", ACTION, 0},     /* no faults, no ban, a fresh rate window */
    {"ban", ACTION, 0},       /* ban the IP now: REST answers 418 with Retry-After for value ms (0 = ban_ms) */
    {"seq_restart", ACTION, 0}, /* the venue restarts its sequences: every symbol's update id starts again at 1 */
    {"trade_gap", ACTION, 0},   /* the next trade of each symbol skips value ids (a hole of value; 0 = 1) */
    {"trade_dup", ACTION, 0},   /* each symbol's last trade is sent again now (the same id) */
};

static const struct setting *setting_find(const char *key) {
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if (strcmp(settings[i].key, key) == 0) return &settings[i];
    return NULL;
}

/* A book fault for symbol sym (-1: every symbol): value N arms it N times, 0 disarms it. */
static void apply_book(struct fx_venue *v, const struct setting *s, int64_t value, long sym) {
    for (size_t i = sym < 0 ? 0 : (size_t)sym; i < v->nsyms && (sym < 0 || i == (size_t)sym); i++) {
        *(int64_t *)((char *)&v->syms[i].bf + s->offset) = value > 0 ? value : 0;
        if (s->offset == offsetof(struct fx_book_faults, stale) && value > 0) fx_book_capture(v, i);
    }
}

/* A listing control for symbol `name` (index sym, -1 when the venue does not have it yet): checked beforehand. */
static void apply_listing(struct fx_venue *v, const struct setting *s, int64_t value, long sym, const char *name) {
    char err[160];
    if (strcmp(s->key, "list") == 0) {
        if (value > 0 && fx_instrument_list(v, name, err, sizeof err) < 0)
            log_warn("fakex", "listing refused", "venue=%s detail=%s", v->d->name, err);
    } else if (sym >= 0 && strcmp(s->key, "halt") == 0) {
        if (value > 0) fx_instrument_status(v, (size_t)sym, FX_HALTED);
        else if (v->syms[sym].status == FX_HALTED) fx_instrument_status(v, (size_t)sym, FX_TRADING);
    } else if (sym >= 0 && strcmp(s->key, "delist") == 0 && value > 0) {
        fx_instrument_status(v, (size_t)sym, FX_DELISTED);
    }
}

static void apply_one(struct fx_venue *v, const struct setting *s, int64_t value, long sym, const char *name) {
    int64_t now = (int64_t)uv_now(fx_loop);
    if (s->kind == LISTING) apply_listing(v, s, value, sym, name);
    else if (s->kind == BOOK) apply_book(v, s, value, sym);
    else if (s->kind == INT) *(int64_t *)((char *)v + s->offset) = value;
    else if (s->kind == FLAG) *(bool *)((char *)v + s->offset) = value != 0;
    else if (strcmp(s->key, "announce") == 0) fx_venue_announce(v, value > 0 ? value : v->announce_grace_ms);
    else if (strcmp(s->key, "close_all") == 0) fx_venue_conns_close(v);
    else if (strcmp(s->key, "ban") == 0) v->banned_until_ms = now + (value > 0 ? value : v->ban_ms);
    else if (strcmp(s->key, "seq_restart") == 0)
        for (size_t i = 0; i < v->nsyms; i++) v->syms[i].seq = 1;
    else if (strcmp(s->key, "trade_gap") == 0)
        for (size_t i = 0; i < v->nsyms; i++) v->syms[i].trade_gap = value > 0 ? value : 1;
    else if (strcmp(s->key, "trade_dup") == 0) {
        if (value > 0) fx_venue_trade_dup(v);
    }
    else if (strcmp(s->key, "clear") == 0) {
        v->faults = (struct fx_faults){0};
        for (size_t i = 0; i < v->nsyms; i++) {
            v->syms[i].trade_gap = 0;
            v->syms[i].bf = (struct fx_book_faults){0};
        }
        v->banned_until_ms = v->limited_until_ms = 0;
        v->rest.used = 0;
        v->rest.start_ms = now;
    }
    if (strcmp(s->key, "rate") == 0) fx_venue_retime(v);
    if (strcmp(s->key, "trade_rate") == 0) fx_venue_trade_retime(v);
    if (strcmp(s->key, "book_rate") == 0) fx_venue_book_retime(v);
    for (struct fx_conn *c = v->conns; c; c = c->next) { /* new clocks apply to open connections too */
        c->in_rate.limit = v->ws_msg_limit;
        if (strcmp(s->key, "ping_ms") == 0) c->next_ping_ms = now + v->ping_ms;
        if (strcmp(s->key, "heartbeat_ms") == 0) c->next_hb_ms = now + v->heartbeat_ms;
    }
}

static bool venue_selected(const struct fx_venue *v, const char *venue) {
    return v->enabled && (!venue || strcmp(venue, "all") == 0 || strcmp(venue, v->d->name) == 0);
}

/* Two passes: nothing is applied unless every key and value is valid. */
int fx_settings_apply(const char *venue, const char *query, char *err, size_t errlen) {
    char symbol[64] = "", list[16] = "";
    long syms[FX_VENUE_COUNT];
    fx_query_get(query, "symbol", symbol, sizeof symbol);
    bool listing = fx_query_get(query, "list", list, sizeof list) == 0 && strcmp(list, "0") != 0 &&
                   strcmp(list, "false") != 0; /* a symbol to list need not be served yet */
    if (listing && !fx_symbol_name_ok(symbol)) {
        snprintf(err, errlen, "list needs symbol=BASE-QUOTE (upper-case letters and digits), not '%s'", symbol);
        return -1;
    }
    for (int i = 0; i < FX_VENUE_COUNT; i++) {
        syms[i] = -1;
        if (!symbol[0] || !venue_selected(&fx_venues[i], venue)) continue;
        syms[i] = fx_symbol_find(fx_venues[i].syms, fx_venues[i].nsyms, offsetof(struct fx_symbol, norm), symbol);
        if (listing && syms[i] >= 0 && fx_venues[i].syms[syms[i]].status != FX_DELISTED) {
            snprintf(err, errlen, "symbol '%s' is listed on %s already", symbol, fx_venues[i].d->name);
            return -1;
        }
        if (syms[i] < 0 && !listing) {
            snprintf(err, errlen, "symbol '%s' is not served by %s", symbol, fx_venues[i].d->name);
            return -1;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (const char *p = query; p && *p;) {
            const char *amp = strchr(p, '&');
            size_t len = amp ? (size_t)(amp - p) : strlen(p);
            char pair[256], *eq;
            snprintf(pair, sizeof pair, "%.*s", (int)(len < sizeof pair ? len : sizeof pair - 1), p);
            p = amp ? amp + 1 : NULL;
            if (!pair[0]) continue;
            if ((eq = strchr(pair, '=')) == NULL) eq = pair + strlen(pair);
            else *eq++ = 0;
            if (strcmp(pair, "venue") == 0 || strcmp(pair, "symbol") == 0) continue;
            const struct setting *s = setting_find(pair);
            int64_t value = 1; /* a bare key ("stall") means on */
            bool valid = true;
            if (strcmp(eq, "true") == 0 || strcmp(eq, "false") == 0) {
                value = eq[0] == 't';
            } else if (*eq) {
                char *end;
                value = strtoll(eq, &end, 10);
                valid = *end == 0;
            }
            if (!s || !valid) {
                snprintf(err, errlen, "%s '%s'", s ? "bad value for" : "unknown setting", pair);
                return -1;
            }
            if (s->kind == LISTING && !symbol[0]) {
                snprintf(err, errlen, "%s needs symbol=", s->key);
                return -1;
            }
            if (pass == 0) continue;
            for (int i = 0; i < FX_VENUE_COUNT; i++)
                if (venue_selected(&fx_venues[i], venue)) apply_one(&fx_venues[i], s, value, syms[i], symbol);
        }
        bool known = !venue || strcmp(venue, "all") == 0;
        for (int i = 0; i < FX_VENUE_COUNT && !known; i++) known = fx_venues[i].enabled && !strcmp(venue, fx_venues[i].d->name);
        if (!known) {
            snprintf(err, errlen, "venue '%s' is not served", venue);
            return -1;
        }
    }
    return 0;
}

/* ---- report ---- */

static json_t *venue_report(struct fx_venue *v) {
    json_t *syms = json_object(), *windows = json_array();
    for (size_t i = 0; i < v->nsyms; i++) {
        const struct fx_symbol *s = &v->syms[i];
        struct fx_quote_text q;
        char seq[24], trade_id[24];
        v->d->quote_text(s, &q);
        fmt_u64_str(seq, s->seq);
        fmt_u64_str(trade_id, s->trade_id);
        json_int_t subscribers = 0; /* connections that want its quotes now */
        for (const struct fx_conn *c = v->conns; c; c = c->next)
            if (c->subs && (c->subs[i] & FX_SUB_DATA)) subscribers++;
        json_object_set_new(syms, s->norm,
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:I}", "bid", q.bid,
                                      "bid_qty", q.bid_qty, "ask", q.ask, "ask_qty", q.ask_qty, "last", q.last, "seq",
                                      seq, "ts_us", (json_int_t)s->ts_us, "updates", (json_int_t)s->updates, "trades",
                                      (json_int_t)s->trades, "last_trade_id", trade_id, "status",
                                      fx_status_name(s->status), "subscribers", subscribers));
    }
    for (size_t i = 0; i < v->nwindows; i++)
        json_array_append_new(windows, json_pack("{s:I, s:I, s:I}", "start_ms", (json_int_t)v->windows[i].start_ms,
                                                 "requests", (json_int_t)v->windows[i].requests, "weight",
                                                 (json_int_t)v->windows[i].weight));
    int open = 0;
    for (struct fx_conn *c = v->conns; c; c = c->next) open += !c->closing;
    json_t *books = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "book_rate",
                              (json_int_t)v->book_rate, "book_levels", (json_int_t)v->book_levels, "books",
                              (json_int_t)v->nbooks, "changes", (json_int_t)v->book_changes, "messages",
                              (json_int_t)v->book_messages, "snapshots", (json_int_t)v->book_snapshots, "dropped",
                              (json_int_t)v->book_dropped, "faults", (json_int_t)v->book_faults, "subscribes",
                              (json_int_t)v->book_subscribes, "unsubscribes", (json_int_t)v->book_unsubscribes,
                              "depth_requests", (json_int_t)v->depth_requests, "depth_weight",
                              (json_int_t)v->depth_weight, "depth_refused", (json_int_t)v->depth_refused, "behind",
                              (json_int_t)v->book_behind);
    json_t *r = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:o, s:o}",
                     "port", v->port, "rate", (json_int_t)v->rate, "trade_rate", (json_int_t)v->trade_rate, "ticks",
                     (json_int_t)v->ticks, "messages_sent", (json_int_t)v->messages_sent, "trades_sent",
                     (json_int_t)v->trades_sent, "dropped", (json_int_t)v->dropped, "connects",
                     (json_int_t)v->connects_total, "ws_connects", (json_int_t)v->ws_connects, "open_connections", open,
                     "http_requests", (json_int_t)v->http_requests, "rejected_429", (json_int_t)v->rejected_429,
                     "rejected_418", (json_int_t)v->rejected_418, "rest_window", "limit", (json_int_t)v->rest.limit,
                     "window_ms", (json_int_t)v->rest.window_ms, "used", (json_int_t)v->rest.used, "windows", windows,
                     "symbols", syms);
    json_object_set_new(r, "book", books);
    json_int_t by_status[3] = {0};
    for (size_t i = 0; i < v->nsyms; i++) by_status[v->syms[i].status <= FX_DELISTED ? v->syms[i].status : FX_HALTED]++;
    json_object_set_new(r, "instruments",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "requests", (json_int_t)v->instrument_requests,
                                  "faults", (json_int_t)v->instrument_faults, "listed",
                                  (json_int_t)v->instruments_listed, "trading", by_status[FX_TRADING], "halted",
                                  by_status[FX_HALTED], "delisted", by_status[FX_DELISTED]));
    return r;
}

json_t *fx_report(void) {
    json_t *venues = json_object(), *list = json_array();
    for (int i = 0; i < FX_VENUE_COUNT; i++)
        if (fx_venues[i].enabled) json_object_set_new(venues, fx_venues[i].d->name, venue_report(&fx_venues[i]));
    for (size_t i = 0; i < nviolations; i++) {
        const struct fx_violation_rec *r = &violations[i];
        json_array_append_new(list, json_pack("{s:I, s:s, s:I, s:s, s:s}", "t_ms", (json_int_t)r->t_ms, "venue",
                                              r->venue, "conn", (json_int_t)r->conn, "kind", r->kind, "detail",
                                              r->detail));
    }
    return json_pack("{s:I, s:I, s:o, s:o}", "uptime_ms", (json_int_t)((int64_t)uv_now(fx_loop) - fx_start_ms),
                     "violations_total", (json_int_t)violations_total, "violations", list, "venues", venues);
}

int fx_report_write(const char *path) {
    json_t *r = fx_report();
    int rc = json_dump_file(r, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(r);
    if (rc < 0) log_error("fakex", "cannot write report", "path=%s", path);
    return rc;
}

static void control_error(struct fx_conn *c, int status, const char *msg) {
    fx_http_reply_json(c, status, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

/* GET /_fakex/book?venue=V&symbol=S&depth=N: the book as fakex holds it (made now if nothing used it yet). */
static void book_request(struct fx_conn *c, const struct fx_http_req *req) {
    char venue[32] = "", symbol[64] = "", depth_text[16] = "";
    fx_query_get(req->query, "venue", venue, sizeof venue);
    fx_query_get(req->query, "symbol", symbol, sizeof symbol);
    fx_query_get(req->query, "depth", depth_text, sizeof depth_text);
    struct fx_venue *v = NULL;
    for (int i = 0; i < FX_VENUE_COUNT; i++)
        if (fx_venues[i].enabled && strcmp(venue, fx_venues[i].d->name) == 0) v = &fx_venues[i];
    if (!v) {
        control_error(c, 400, "venue= names no venue served");
        return;
    }
    static const size_t names[] = {offsetof(struct fx_symbol, norm), offsetof(struct fx_symbol, binance),
                                   offsetof(struct fx_symbol, kraken_ws)};
    long i = -1;
    for (size_t k = 0; k < sizeof names / sizeof *names && i < 0; k++)
        i = fx_symbol_find(v->syms, v->nsyms, names[k], symbol);
    if (i < 0) {
        control_error(c, 404, "symbol= names no symbol of the venue");
        return;
    }
    char *end;
    long depth = depth_text[0] ? strtol(depth_text, &end, 10) : 0;
    if (depth_text[0] && (*end || depth < 0)) {
        control_error(c, 400, "depth= is not a count");
        return;
    }
    const struct fx_symbol *s = &v->syms[i];
    const struct fx_book *b = fx_book_get(v, (size_t)i);
    struct fx_buf out = {0};
    fx_buf_printf(&out, "{\"venue\":\"%s\",\"symbol\":\"%s\",\"seq\":%llu", v->d->name, s->norm,
                  (unsigned long long)b->seq);
    for (int side = 0; side < 2; side++) {
        uint32_t n = fx_book_depth(b, side, (uint32_t)(depth > 100000 ? 100000 : depth));
        fx_buf_adds(&out, side ? "],\"asks\":[" : ",\"bids\":[");
        for (uint32_t k = 0; k < n; k++) {
            fx_buf_reserve(&out, 2 * FX_NUM_MAX + 8);
            char *p = out.data + out.len;
            p = fx_put(p, k ? ",[\"" : "[\"");
            p += fx_book_fmt(v, s, b->lv[side][k].price, false, p);
            p = fx_put(p, "\",\"");
            p += fx_book_fmt(v, s, b->lv[side][k].qty, true, p);
            p = fx_put(p, "\"]");
            out.len = (size_t)(p - out.data);
        }
    }
    fx_buf_adds(&out, "]}");
    fx_http_reply(c, 200, NULL, out.data, out.len);
    fx_buf_free(&out);
}

void fx_control_request(struct fx_conn *c, const struct fx_http_req *req) {
    if (strcmp(req->path, "/_fakex/report") == 0) {
        fx_http_reply_json(c, 200, fx_report());
    } else if (strcmp(req->path, "/_fakex/set") == 0 || strcmp(req->path, "/_fakex/fault") == 0) {
        char venue[32] = "all", err[160];
        fx_query_get(req->query, "venue", venue, sizeof venue);
        if (fx_settings_apply(venue, req->query, err, sizeof err) < 0)
            fx_http_reply_json(c, 400, json_pack("{s:b, s:s}", "ok", 0, "error", err));
        else
            fx_http_reply_json(c, 200, json_pack("{s:b}", "ok", 1));
    } else if (strcmp(req->path, "/_fakex/book") == 0) {
        book_request(c, req);
    } else if (strcmp(req->path, "/_fakex/health") == 0) {
        fx_http_reply_json(c, 200, json_pack("{s:b}", "ok", 1));
    } else if (strcmp(req->path, "/_fakex/quit") == 0) {
        fx_http_reply_json(c, 200, json_pack("{s:b}", "ok", 1));
        fx_conn_flush(c);
        fx_shutdown();
    } else {
        fx_http_reply_json(c, 404, json_pack("{s:b, s:s}", "ok", 0, "error", "unknown control path"));
    }
}
