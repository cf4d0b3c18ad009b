/* fx_venue.c -- the life of one venue: generating ticks at the configured rate, fanning them out to the
 * subscribed websockets with the scripted faults applied, keep-alive (server pings, heartbeats, idle closes),
 * and the limits the real venue enforces.
 *
 * Two ways to generate: with --rate R a timer pays off the messages owed since the start (so timer jitter never
 * changes the average rate); with --rate 0 (load mode) an idle handle generates batches as long as some
 * subscriber's socket can take more, and stops until a write drains.
 *
 * Trades: with trade_rate 0 (the default) each quote update of a symbol is preceded by one trade of it, so trades
 * follow --rate and load mode alike; with trade_rate N > 0 a timer of their own makes N a second, round robin over
 * the symbols; a negative trade_rate makes none. Their ids are dense per symbol (trade_gap makes a hole) and they
 * draw from a generator of their own, so the quotes of a seed are the same whatever the trades do. stall and
 * heartbeats_only still the trades with the quotes.
 *
 * Books: every book makes, once per the venue's book interval (Binance 100 ms, Coinbase 50 ms, Kraken 50 ms, OKX
 * 100 ms), the changes book_rate owes it since its last batch, as one batch, and fans the batch out at once to the
 * connections on that symbol's book channel (a timer every 10 ms takes one slice of the books, so that a high
 * book_rate over many symbols never holds the loop for long), in the dialect's form, with the book faults of
 * the symbol applied (drop, dup, reorder, bad checksum; the cross fault is a change of the book itself). A
 * subscriber whose socket is behind by more than the high-water mark misses the batch (counted in dropped and
 * book_dropped): its next one shows a gap, as a venue's feed does for a slow reader.
 *
 * Only a trading symbol moves: a halted or delisted one (fx_instruments.c) makes no quote, trade or book change. */
#include "fakex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/log.h"

#define FX_HIGH_WATER (8 << 20) /* queued bytes above which a subscriber is skipped (and counted as dropped) */
#define FX_LOAD_BATCH 1024
#define FX_KEEP_MS 25

struct fx_venue fx_venues[FX_VENUE_COUNT];
uv_loop_t *fx_loop;
int64_t fx_start_ms;

static const struct fx_dialect *const dialects[FX_VENUE_COUNT] = {&fx_binance, &fx_coinbase, &fx_kraken, &fx_okx};

int fx_venue_init(struct fx_venue *v, enum fx_venue_id id, uv_loop_t *loop) {
    const struct fx_dialect *d = dialects[id];
    *v = (struct fx_venue){
        .id = id,
        .d = d,
        .loop = loop,
        .rate = 100,
        .trade_rate = 0,
        .book_rate = 20,
        .book_levels = 100,
        .trade_rng = 0x9E3779B97F4A7C15ULL,
        .ws_msg_limit = d->ws_msg_limit,
        .ws_max_streams = d->ws_max_streams,
        .ping_ms = d->ping_ms,
        .pong_timeout_ms = d->pong_timeout_ms,
        .idle_ms = d->idle_ms,
        .heartbeat_ms = d->heartbeat_ms,
        .subscribe_within_ms = d->subscribe_within_ms,
        .announce_grace_ms = d->announce_grace_ms,
        .ban_ms = 120000,
        .rest = {.limit = d->rest_limit, .window_ms = d->rest_window_ms},
        .connects = {.limit = d->connect_limit, .window_ms = d->connect_window_ms},
    };
    return 0;
}

static int64_t now_ms(void) { return (int64_t)uv_now(fx_loop); }

static bool wants_data(const struct fx_conn *c) { return c->is_ws && !c->closing && c->subscribed && !c->muted; }

enum kind { QUOTE, TRADE, BOOK };

/* Sends one market message, preceded by whatever damage the faults ask for (the real message still follows,
 * so the report's last values stay what the client was last told). */
static void send_market(struct fx_venue *v, struct fx_conn *c, const char *msg, size_t len, enum kind kind) {
    struct fx_faults *f = &v->faults;
    if (f->truncated > 0) { /* a frame header announcing more bytes than ever come, then the end of the socket */
        f->truncated--;
        fx_buf_reserve(&c->out, len + 10);
        size_t mark = c->out.len;
        fx_ws_frame(c, 1, msg, len);
        c->out.len = mark + (len < 126 ? 2 : 4) + len / 2;
        c->close_sent = true;
        fx_conn_close(c, FX_CLOSE_GRACEFUL);
        return;
    }
    if (f->malformed > 0) {
        f->malformed--;
        fx_ws_frame(c, 1, msg, len / 2);
    }
    if (f->unknown > 0) {
        f->unknown--;
        v->d->unknown(c);
    }
    if (f->oversized > 0) { /* valid JSON, but larger than any sane frame limit */
        size_t n = (size_t)f->oversized;
        f->oversized = 0;
        char *big = fx_xmalloc(n);
        memset(big, 'x', n);
        memcpy(big, "{\"fakex\":\"", 10);
        memcpy(big + n - 2, "\"}", 2);
        fx_ws_frame(c, 1, big, n);
        free(big);
    }
    fx_ws_frame(c, 1, msg, len);
    c->data_sent++;
    if (kind == TRADE) v->trades_sent++;
    else if (kind == BOOK) v->book_messages++;
    else v->messages_sent++;
    if (f->close_after > 0 && c->data_sent >= f->close_after) {
        c->close_sent = true; /* a plain TCP close, no websocket goodbye */
        fx_conn_close(c, FX_CLOSE_GRACEFUL);
    }
}

static void flush_all(struct fx_venue *v) {
    for (struct fx_conn *c = v->conns; c; c = c->next) fx_conn_flush(c);
}

static void fan_out_replay(struct fx_venue *v) {
    const char *line = v->replay[v->next_replay++ % v->nreplay];
    size_t len = strlen(line);
    for (struct fx_conn *c = v->conns; c; c = c->next)
        if (wants_data(c) && c->queued + c->out.len < FX_HIGH_WATER) send_market(v, c, line, len, QUOTE);
}

/* Sends symbol s's last trade to every connection that subscribed its trades. */
static void fan_out_trade(struct fx_venue *v, size_t s) {
    static char msg[4][FX_MSG_MAX];
    size_t mlen[4] = {0};
    for (struct fx_conn *c = v->conns; c; c = c->next) {
        if (!wants_data(c) || !(c->subs[s] & FX_SUB_TRADE)) continue;
        if (c->queued + c->out.len > FX_HIGH_WATER) {
            v->dropped++;
            continue;
        }
        int var = c->variant & 3;
        if (!mlen[var]) mlen[var] = v->d->trade_msg(v, s, var, false, msg[var]);
        send_market(v, c, msg[var], mlen[var], TRADE);
    }
}

/* The next trade of symbol s, sent to its subscribers. A venue whose trades carry the symbol's sequence
 * (Coinbase) gives the trade the next number, before the quote that follows takes its own. */
static void gen_trade(struct fx_venue *v, size_t s, int64_t now_us) {
    struct fx_symbol *sym = &v->syms[s];
    if (v->d->trade_seq) sym->seq++;
    fx_trade_step(sym, &v->trade_rng, now_us);
    fan_out_trade(v, s);
}

void fx_venue_trade_dup(struct fx_venue *v) {
    for (size_t s = 0; s < v->nsyms; s++)
        if (v->syms[s].trades) fan_out_trade(v, s);
    flush_all(v);
}

static void gen_batch(struct fx_venue *v, int64_t n) {
    if (!v->nsyms) return;
    /* A quiet market does not move either, so the report's values stay the last ones actually sent. */
    if (v->faults.stall || v->faults.heartbeats_only) return;
    int64_t now_us = clock_wall_us();
    static char msg[4][FX_MSG_MAX];
    for (int64_t k = 0; k < n; k++) {
        if (v->nreplay) {
            fan_out_replay(v);
            continue;
        }
        size_t s = v->next_sym++ % v->nsyms;
        struct fx_symbol *sym = &v->syms[s];
        if (sym->status != FX_TRADING) continue; /* halted or delisted: its market stands still */
        if (v->trade_rate == 0) gen_trade(v, s, now_us); /* one trade with each quote update */
        fx_symbol_step(sym, &v->rng, now_us);
        v->ticks++;
        uint64_t true_seq = sym->seq;
        int64_t true_ts_us = sym->ts_us;
        bool poisoned = v->faults.poison > 0;
        if (poisoned) {
            v->faults.poison--;
            sym->seq = 1000000000000000000ULL;
            sym->ts_us = 253402300799000000LL; /* 9999-12-31T23:59:59Z */
        }
        size_t mlen[4] = {0};
        for (struct fx_conn *c = v->conns; c; c = c->next) {
            if (!wants_data(c) || !(c->subs[s] & FX_SUB_DATA)) continue;
            if (c->queued + c->out.len > FX_HIGH_WATER) {
                v->dropped++;
                continue;
            }
            int var = c->variant & 3;
            if (!mlen[var]) mlen[var] = v->d->tick_msg(v, s, var, msg[var]);
            send_market(v, c, msg[var], mlen[var], QUOTE);
        }
        if (poisoned) {
            sym->seq = true_seq;
            sym->ts_us = true_ts_us;
        }
    }
    flush_all(v);
}

static void on_gen_timer(uv_timer_t *t) {
    struct fx_venue *v = t->data;
    int64_t now = now_ms();
    int64_t owed = v->rate * (now - v->gen_base_ms) / 1000 - v->gen_done;
    if (owed > v->rate / 4 + 1000) { /* fell far behind (a stopped process, a busy machine): no burst */
        v->gen_base_ms = now;
        v->gen_done = 0;
        owed = 1;
    }
    if (owed <= 0) return;
    gen_batch(v, owed);
    v->gen_done += owed;
}

/* trade_rate > 0: trades on their own clock, round robin over the symbols, paid off as the quotes are. */
static void on_trade_timer(uv_timer_t *t) {
    struct fx_venue *v = t->data;
    if (!v->nsyms || v->nreplay || v->faults.stall || v->faults.heartbeats_only) return;
    int64_t now = now_ms();
    int64_t owed = v->trade_rate * (now - v->trade_base_ms) / 1000 - v->trade_done;
    if (owed > v->trade_rate / 4 + 1000) {
        v->trade_base_ms = now;
        v->trade_done = 0;
        owed = 1;
    }
    if (owed <= 0) return;
    int64_t now_us = clock_wall_us();
    for (int64_t k = 0; k < owed; k++) {
        size_t s = v->next_trade_sym++ % v->nsyms;
        if (v->syms[s].status == FX_TRADING) gen_trade(v, s, now_us);
    }
    v->trade_done += owed;
    flush_all(v);
}

void fx_venue_trade_retime(struct fx_venue *v) {
    if (!v->enabled || uv_is_closing((uv_handle_t *)&v->trade_timer)) return;
    uv_timer_stop(&v->trade_timer);
    v->trade_base_ms = now_ms();
    v->trade_done = 0;
    if (v->trade_rate > 0) {
        int64_t period = v->trade_rate >= 1000 ? 1 : 1000 / v->trade_rate;
        uv_timer_start(&v->trade_timer, on_trade_timer, (uint64_t)period, (uint64_t)period);
    }
}

/* ---- books ---- */

static struct fx_conn *conn_by_id(struct fx_venue *v, uint64_t id) {
    for (struct fx_conn *c = v->conns; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

/* The messages book_reorder held back, after the batch that overtook them. */
static void release_reordered(struct fx_venue *v, struct fx_book *b) {
    for (uint32_t i = 0; i < b->nheld; i++) {
        struct fx_conn *c = conn_by_id(v, b->held[i].conn);
        if (c && wants_data(c)) send_market(v, c, b->held[i].msg, b->held[i].len, BOOK);
        free(b->held[i].msg);
    }
    b->nheld = 0;
}

static int book_key(struct fx_venue *v, const struct fx_conn *c, size_t s) {
    return v->d->book_key ? v->d->book_key(c, s) & (FX_BOOK_KEYS - 1) : 0;
}

/* Sends the batch of symbol s to its book subscribers, each in the form of its key, with the symbol's faults. A
 * fault counts only a batch that some subscriber was to be sent (Kraken sends nothing for a batch that changed no
 * level within a subscription's depth). */
static void fan_out_book(struct fx_venue *v, size_t s) {
    struct fx_symbol *sym = &v->syms[s];
    struct fx_book *b = sym->book;
    struct fx_book_faults *f = &sym->bf;
    bool built[FX_BOOK_KEYS] = {false}, any = false;
    b->bad_checksum = v->d->book_checksum && f->bad_checksum > 0;
    for (struct fx_conn *c = v->conns; c; c = c->next) {
        if (!wants_data(c) || !(c->subs[s] & FX_SUB_BOOK)) continue;
        int key = book_key(v, c, s);
        if (!built[key]) {
            v->book_out[key].len = 0;
            v->d->book_update(v, s, key, &v->book_out[key]);
            built[key] = true;
        }
        any = any || v->book_out[key].len > 0;
    }
    bool bad = b->bad_checksum;
    b->bad_checksum = false;
    if (!any) return;
    bool drop = f->drop > 0, hold = !drop && f->reorder > 0 && !b->nheld, dup = !drop && !hold && f->dup > 0;
    f->drop -= drop;
    f->reorder -= hold;
    f->dup -= dup;
    f->bad_checksum -= bad;
    v->book_faults += drop + hold + dup + bad;
    for (struct fx_conn *c = v->conns; c && !drop; c = c->next) {
        if (!wants_data(c) || !(c->subs[s] & FX_SUB_BOOK)) continue;
        const struct fx_buf *out = &v->book_out[book_key(v, c, s)];
        if (!out->len) continue;
        if (c->queued + c->out.len > FX_HIGH_WATER) {
            v->dropped++;
            v->book_dropped++;
            continue;
        }
        if (hold) {
            if (!(b->nheld & (b->nheld + 1))) { /* 0, 1, 3, 7...: grow to the next power of two */
                struct fx_held *grown = realloc(b->held, (b->nheld + 1) * 2 * sizeof *grown);
                if (!grown) {
                    fputs("fakex: out of memory\n", stderr);
                    abort();
                }
                b->held = grown;
            }
            char *copy = fx_xmalloc(out->len);
            memcpy(copy, out->data, out->len);
            b->held[b->nheld++] = (struct fx_held){.conn = c->id, .msg = copy, .len = out->len};
            continue;
        }
        send_market(v, c, out->data, out->len, BOOK);
        if (dup) send_market(v, c, out->data, out->len, BOOK);
    }
    if (!hold) release_reordered(v, b);
}

/* The changes book_rate owes book b by now (none past a long stall: no burst, counted as behind). */
static int64_t book_owed(struct fx_venue *v, struct fx_book *b, int64_t now) {
    if (v->book_rate <= 0) return 0;
    int64_t owed = v->book_rate * (now - b->base_ms) / 1000 - b->done;
    if (owed > v->book_rate / 4 + 1000) {
        v->book_behind += owed;
        b->base_ms = now;
        b->done = 0;
        return 0;
    }
    if (owed < 0) owed = 0;
    b->done += owed;
    return owed;
}

/* One slice of the books: those whose turn it is make their batch and fan it out. With the venue's interval of
 * N slices, each book batches once an interval and each turn of the loop holds 1/N of the work. */
static void on_book_timer(uv_timer_t *t) {
    struct fx_venue *v = t->data;
    if (!v->nbooks || v->faults.stall || v->faults.heartbeats_only) return;
    int64_t interval = v->d->book_interval_ms > FX_BOOK_SLICE_MS ? v->d->book_interval_ms : FX_BOOK_SLICE_MS;
    size_t slices = (size_t)(interval / FX_BOOK_SLICE_MS), slice = (size_t)(v->book_ticks++ % slices);
    int64_t now = now_ms();
    for (size_t i = slice; i < v->nbooks; i += slices) {
        size_t s = v->books[i];
        struct fx_book *b = v->syms[s].book;
        int64_t owed = book_owed(v, b, now); /* owed while halted too: no burst when it trades again */
        if (v->syms[s].status == FX_TRADING && fx_book_batch(v, s, owed)) fan_out_book(v, s);
        b->sent_seq = b->seq;
    }
    flush_all(v);
    uv_update_time(v->loop); /* else the loop waits a whole period from the time before this slice's work */
}

void fx_venue_book_retime(struct fx_venue *v) {
    if (!v->enabled || uv_is_closing((uv_handle_t *)&v->book_timer)) return;
    uv_timer_stop(&v->book_timer);
    int64_t now = now_ms();
    for (size_t i = 0; i < v->nbooks; i++) {
        v->syms[v->books[i]].book->base_ms = now;
        v->syms[v->books[i]].book->done = 0;
    }
    uint64_t period = v->d->book_interval_ms > 0 && v->d->book_interval_ms < FX_BOOK_SLICE_MS
                          ? (uint64_t)v->d->book_interval_ms
                          : FX_BOOK_SLICE_MS;
    uv_timer_start(&v->book_timer, on_book_timer, period, period);
}

void fx_book_snapshot_sent(struct fx_conn *c, const char *msg, size_t len) {
    fx_ws_text(c, msg, len);
    c->venue->book_snapshots++;
}

static void on_gen_idle(uv_idle_t *h) {
    struct fx_venue *v = h->data;
    bool room = false;
    for (struct fx_conn *c = v->conns; c && !room; c = c->next)
        room = wants_data(c) && c->queued < FX_HIGH_WATER;
    if (!room) {
        uv_idle_stop(h);
        return;
    }
    gen_batch(v, FX_LOAD_BATCH);
}

void fx_venue_kick(struct fx_venue *v) {
    if (v->enabled && v->rate == 0 && !uv_is_active((uv_handle_t *)&v->gen_idle) &&
        !uv_is_closing((uv_handle_t *)&v->gen_idle))
        uv_idle_start(&v->gen_idle, on_gen_idle);
}

void fx_venue_retime(struct fx_venue *v) {
    if (!v->enabled || uv_is_closing((uv_handle_t *)&v->gen_timer)) return;
    uv_timer_stop(&v->gen_timer);
    uv_idle_stop(&v->gen_idle);
    v->gen_base_ms = now_ms();
    v->gen_done = 0;
    if (v->rate > 0) {
        int64_t period = v->rate >= 1000 ? 1 : 1000 / v->rate;
        uv_timer_start(&v->gen_timer, on_gen_timer, (uint64_t)period, (uint64_t)period);
    } else {
        fx_venue_kick(v);
    }
}

static void release_held(struct fx_conn *c, int64_t now) {
    if (!c->held.len || now < c->held_due_ms) return;
    fx_buf_add(&c->out, c->held.data, c->held.len);
    c->held.len = 0;
    if (c->close_after_reply) fx_conn_close(c, FX_CLOSE_GRACEFUL);
}

/* The per-connection clocks: planned closes, the venue's idle and subscribe deadlines, pings, heartbeats. */
static void keep_ws(struct fx_venue *v, struct fx_conn *c, int64_t now) {
    int64_t last = c->last_in_ms > c->last_out_ms ? c->last_in_ms : c->last_out_ms;
    if ((v->faults.close_in_ms > 0 && now - c->opened_ms >= v->faults.close_in_ms) ||
        (c->close_at_ms && now >= c->close_at_ms)) {
        fx_conn_close(c, FX_CLOSE_GRACEFUL);
    } else if (v->subscribe_within_ms > 0 && !c->subscribed && now - c->opened_ms > v->subscribe_within_ms) {
        fx_violation(v, c->id, "subscribe_timeout", "no subscription within %lld ms", (long long)v->subscribe_within_ms);
        fx_conn_close(c, FX_CLOSE_GRACEFUL);
    } else if (v->idle_ms > 0 && now - last > v->idle_ms) {
        fx_violation(v, c->id, "idle_timeout", "no traffic for %lld ms", (long long)(now - last));
        fx_conn_close(c, FX_CLOSE_GRACEFUL);
    } else if (c->awaiting_pong && v->pong_timeout_ms > 0 && now - c->ping_sent_ms > v->pong_timeout_ms) {
        fx_violation(v, c->id, "pong_timeout", "ping unanswered for %lld ms", (long long)(now - c->ping_sent_ms));
        fx_conn_close(c, FX_CLOSE_ABRUPT);
    } else if (!v->faults.stall) {
        if (v->ping_ms > 0 && now >= c->next_ping_ms) {
            char payload[24];
            size_t n = fmt_u64_str(payload, (uint64_t)(clock_wall_us() / 1000));
            fx_ws_frame(c, 9, payload, n);
            if (!c->awaiting_pong) c->ping_sent_ms = now;
            c->awaiting_pong = true;
            c->next_ping_ms = now + v->ping_ms;
        }
        if (v->heartbeat_ms > 0 && v->d->heartbeat && c->subscribed && now >= c->next_hb_ms) {
            v->d->heartbeat(c);
            c->next_hb_ms = now + v->heartbeat_ms;
        }
    }
}

static void on_keep_timer(uv_timer_t *t) {
    struct fx_venue *v = t->data;
    int64_t now = now_ms();
    for (struct fx_conn *c = v->conns, *next; c; c = next) {
        next = c->next;
        if (c->closing) continue;
        if (c->is_ws) keep_ws(v, c, now);
        else if (!v->faults.stall) release_held(c, now);
        fx_conn_flush(c);
    }
}

int fx_venue_start(struct fx_venue *v) {
    v->enabled = true;
    uv_timer_init(v->loop, &v->gen_timer);
    uv_timer_init(v->loop, &v->keep_timer);
    uv_timer_init(v->loop, &v->trade_timer);
    uv_timer_init(v->loop, &v->book_timer);
    uv_idle_init(v->loop, &v->gen_idle);
    v->gen_timer.data = v->keep_timer.data = v->gen_idle.data = v->trade_timer.data = v->book_timer.data = v;
    uv_timer_start(&v->keep_timer, on_keep_timer, FX_KEEP_MS, FX_KEEP_MS);
    fx_venue_retime(v);
    fx_venue_trade_retime(v);
    fx_venue_book_retime(v);
    return 0;
}

void fx_venue_stop(struct fx_venue *v) {
    if (!v->enabled) return;
    fx_venue_conns_close(v);
    uv_handle_t *hs[] = {(uv_handle_t *)&v->gen_timer, (uv_handle_t *)&v->keep_timer, (uv_handle_t *)&v->gen_idle,
                         (uv_handle_t *)&v->trade_timer, (uv_handle_t *)&v->book_timer};
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if (!uv_is_closing(hs[i])) uv_close(hs[i], NULL); /* embedded in a static struct: nothing to free */
}

void fx_venue_free(struct fx_venue *v) {
    fx_symbols_free(v->syms, v->nsyms);
    for (size_t i = 0; i < v->nreplay; i++) free(v->replay[i]);
    free(v->replay);
    free(v->books);
    for (int k = 0; k < FX_BOOK_KEYS; k++) fx_buf_free(&v->book_out[k]);
    fx_buf_free(&v->instruments_body);
    v->syms = NULL;
    v->replay = NULL;
    v->books = NULL;
    v->nsyms = v->nreplay = v->nbooks = v->books_cap = 0;
}

int fx_venue_load_replay(struct fx_venue *v, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        char **grown = realloc(v->replay, (n + 1) * sizeof *grown);
        if (!grown) break;
        v->replay = grown;
        v->replay[n++] = strdup(line);
    }
    free(line);
    fclose(f);
    v->nreplay = n;
    return n ? 0 : -1;
}

void fx_venue_announce(struct fx_venue *v, int64_t grace_ms) {
    int64_t now = now_ms();
    for (struct fx_conn *c = v->conns; c; c = c->next) {
        if (!c->is_ws || c->closing) continue;
        if (v->d->announce) v->d->announce(c);
        c->close_at_ms = now + (grace_ms > 0 ? grace_ms : 1);
        fx_conn_flush(c);
    }
}

void fx_window_hit(struct fx_window *w, int64_t now_ms, int64_t weight) {
    if (w->window_ms <= 0) w->window_ms = 1000;
    if (now_ms - w->start_ms >= w->window_ms) { /* a window opens with the first request after the last one ended */
        w->start_ms = now_ms;
        w->used = 0;
    }
    w->used += weight;
}

static int64_t ceil_s(int64_t ms) { return ms <= 0 ? 1 : (ms + 999) / 1000; }

int fx_venue_rest_admit(struct fx_venue *v, int64_t weight, int64_t *retry_after_s) {
    int64_t now = now_ms();
    if (v->banned_until_ms > now) {
        *retry_after_s = ceil_s(v->banned_until_ms - now);
        v->rejected_418++;
        fx_violation(v, 0, "request_during_ban", "banned for %lld ms more", (long long)(v->banned_until_ms - now));
        return 418;
    }
    int64_t before = v->rest.start_ms;
    fx_window_hit(&v->rest, now, weight);
    if (v->rest.start_ms != before || !v->nwindows) { /* keep the last windows for the report */
        if (v->nwindows == sizeof v->windows / sizeof *v->windows) {
            memmove(v->windows, v->windows + 1, sizeof v->windows - sizeof *v->windows);
            v->nwindows--;
        }
        v->windows[v->nwindows].start_ms = now - fx_start_ms;
        v->windows[v->nwindows].requests = v->windows[v->nwindows].weight = 0;
        v->nwindows++;
    }
    v->windows[v->nwindows - 1].requests++;
    v->windows[v->nwindows - 1].weight += weight;
    if (v->rest.limit <= 0 || v->rest.used <= v->rest.limit) return 0;
    if (v->d->rest_bans && v->limited_until_ms > now) { /* kept going after a 429: banned */
        v->banned_until_ms = now + v->ban_ms;
        *retry_after_s = ceil_s(v->ban_ms);
        v->rejected_418++;
        fx_violation(v, 0, "ban", "request after a 429 before Retry-After; banned for %lld ms", (long long)v->ban_ms);
        return 418;
    }
    *retry_after_s = ceil_s(v->rest.start_ms + v->rest.window_ms - now);
    v->limited_until_ms = now + *retry_after_s * 1000;
    v->rejected_429++;
    fx_violation(v, 0, "rate_limit", "weight %lld over the limit of %lld per %lld ms", (long long)v->rest.used,
                 (long long)v->rest.limit, (long long)v->rest.window_ms);
    return 429;
}

bool fx_venue_ws_admit(struct fx_conn *c) {
    struct fx_venue *v = c->venue;
    fx_window_hit(&c->in_rate, now_ms(), 1);
    if (c->in_rate.limit <= 0 || c->in_rate.used <= c->in_rate.limit) return true;
    fx_violation(v, c->id, "ws_msg_rate", "%lld client messages within %lld ms, limit %lld", (long long)c->in_rate.used,
                 (long long)c->in_rate.window_ms, (long long)c->in_rate.limit);
    fx_conn_close(c, FX_CLOSE_ABRUPT);
    return false;
}

void fx_venue_conn_opened(struct fx_conn *c) { c->venue->connects_total++; }

/* The venues' connect limits are on websocket connections (OKX 3 a second, Binance 300 per 5 minutes): a REST
 * request's connection is counted by the REST limits instead. */
void fx_venue_ws_opened(struct fx_conn *c) {
    struct fx_venue *v = c->venue;
    v->ws_connects++;
    if (v->connects.limit <= 0) return;
    fx_window_hit(&v->connects, now_ms(), 1);
    if (v->connects.used > v->connects.limit)
        fx_violation(v, c->id, "connect_rate", "%lld connections within %lld ms, limit %lld", (long long)v->connects.used,
                     (long long)v->connects.window_ms, (long long)v->connects.limit);
}

void fx_conn_update_subscribed(struct fx_conn *c) {
    c->subscribed = false;
    for (size_t i = 0; i < c->venue->nsyms && !c->subscribed; i++)
        c->subscribed = c->subs[i] & (FX_SUB_DATA | FX_SUB_TRADE | FX_SUB_BOOK);
}
