/* redis_sink.h -- writes the merged state into Redis from the ingest loop (hiredis async on libuv).
 *
 * Keys (prefix from config):
 *   <prefix>:quote:<venue>:<symbol>  hash  bid bid_qty ask ask_qty last ts seq recv_ts origin order
 *   <prefix>:bbo:<symbol>            hash  bid bid_qty bid_venue bid_ts ask ask_qty ask_venue ask_ts ts
 *   <prefix>:ticks:<symbol>          stream, XADD MAXLEN ~ history (only when history > 0)
 *   <prefix>:trades:<venue>:<symbol> stream, XADD MAXLEN ~ trade_history (only when trade_history > 0), fields
 *                                    id price qty side ts recv_ts (side: buy, sell or unknown, the taker's)
 * ts is the exchange's event time, recv_ts tickd's receive time (µs); `order` is the merge's ordering key as
 * text (merge_key_format, merge.h). Writes are EVALSHA of one Lua script, up to 64 records a call, that compares
 * each record's new key with the stored one and writes only when strictly greater -- the merge's own rule -- so
 * a second tickd or a replay never moves a quote backwards. A record whose key fails (a wrong type) fails alone.
 *
 * The sink keeps one record per instrument (the latest tick) and a list of the ones not yet written; an idle
 * handle sends them all as one pipeline per loop turn, at most one write in flight per instrument. So memory
 * and hiredis's buffers are bounded by the number of instruments, never by the tick rate, and while Redis is
 * away the latest tick of every instrument waits and is written on reconnect.
 *
 * hiredis 0.14 has no timeouts: a watchdog timer drops a connection whose handshake takes longer than
 * connect_timeout_ms, or that answers nothing for reply_timeout_ms while writes (or the PING it sends when
 * idle) are outstanding; then it reconnects after a backoff with full jitter. Answers that mean "not now"
 * -- READONLY (a failover left this address a replica), MASTERDOWN, OOM (maxmemory), LOADING -- fail no
 * record: the records are dirty again and wait a backoff that grows while the refusals last (after READONLY
 * and MASTERDOWN the sink reconnects, which rewrites every record), until a write lands. Put and close must not be
 * called after close. The process must ignore SIGPIPE (hiredis uses write()).
 *
 * Trades are events, not states (trade.h): each is one XADD, never conflated, sent in the order put (so in order
 * per instrument) in the same pipeline as the quotes' batches. They wait in a FIFO bounded by a count,
 * max_trades (REDIS_SINK_MAX_TRADES by default): while Redis is away or refusing, they wait there and are
 * written in order once it takes writes again; beyond the bound the oldest waiting one is dropped, counted
 * (trades_dropped) and logged at most once a second with the receive times of what was dropped. A trade Redis
 * answers with an error (other than the transient ones above) is counted in errors and not retried. A trade
 * whose answer was lost with its connection is written again after the reconnect: around an outage a stream
 * may hold a trade twice (its id tells).
 *
 * Books are states, like quotes (redis_sink_put_book): one record per book (venue, symbol), the newest wins.
 *   <prefix>:book:<venue>:<symbol>   hash  bids asks seq ts recv_ts state resyncs
 * bids and asks are JSON arrays [["price","qty"],...], best first, at most the view's depth levels, the exact
 * texts; state is book_state_name's. A put serializes the record's arguments at once into the record's own
 * buffer (reused: it only grows), so the caller's book is not kept; the record is written with the next loop
 * turn's pipeline, at most one write in flight per book, so however many puts come in a turn a book is one HSET
 * (several books share one EVALSHA, up to BATCH_MAX of them or BOOK_BATCH_BYTES of arguments). A book never moves
 * backwards: a put whose seq is below the record's (the pending one or the last written) is refused, -ESTALE,
 * counted in books_stale, unless it comes from another sync -- its resyncs or its run (its connection) differ from
 * the record's --, since a new sync may restart the venue's sequence. The script repeats the compare against the
 * hash Redis holds (a lower seq with the same resyncs is not written), so a second tickd or a replay cannot move
 * it back either; the first write of a new run's book is not compared (Redis holds no run to tell a restarted
 * sequence by). While Redis is away the latest of every book waits and all are written on reconnect, as quotes
 * are.
 *
 * Instrument changes (redis_sink_put_instrument; sink.h, put_instrument) are events, kept like trades:
 *   <prefix>:instruments:<venue>     hash  <symbol> -> instrument_json (instrument.h), "venue" included
 * and for a listing, a status change or a delisting also the `status` field (trading, halted, delisted) of the
 * quote's hash <prefix>:quote:<venue>:<symbol>, written alone by a plain HSET: the compare-and-set script reads
 * only `order` and writes only the quote's own fields, so the two never disturb each other (a quote written later
 * keeps the status; a status written before the first quote makes a hash holding only it, which that quote then
 * fills). Each change is written once, in put order, in batches of up to a thousand changes, one batch at a time:
 * they wait in a FIFO bounded by a count, max_instrument_events (REDIS_SINK_MAX_INSTRUMENT_EVENTS by default);
 * while Redis is away or refusing (the transient answers above) they wait and are written in order once it takes
 * writes again; beyond the bound the oldest waiting one is dropped, counted (instruments_dropped) and logged at
 * most once a second with the first and last dropped. An error answer fails that change (counted in errors, not
 * written again). What was written is not kept: a Redis that restarts empty has only the changes made since. */
#ifndef TICKD_REDIS_SINK_H
#define TICKD_REDIS_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "tickd/lat_hist.h"
#include "tickd/merge.h"
#include "tickd/sink.h"
#include "tickd/tick.h"
#include "tickd/trade.h"

struct redis_sink;

/* Trades held waiting by default (config max_trades): about 21 MB of them (struct trade, ~210 bytes each) at
 * most, the memory only taken while Redis is away or slower than the trades come; a minute of a busy day's trades
 * on a few hundred instruments. */
#define REDIS_SINK_MAX_TRADES 100000

/* Instrument changes held waiting by default (config max_instrument_events): about 22 MB (struct instrument and its
 * venue, ~220 bytes each) at most, only while Redis is away or refusing; twice the listings of a 50,000-instrument
 * configuration's first load. */
#define REDIS_SINK_MAX_INSTRUMENT_EVENTS 100000

struct redis_sink_config {
    const char *url;      /* redis://[user:password@]host[:port][/db] */
    const char *password; /* from password_file; replaces the URL's; NULL or "" = the URL's, if any */
    const char *prefix;   /* key prefix, default "tickd" */
    uint64_t history;     /* stream entries kept per symbol; 0 = no history stream */
    /* 0 takes the default given in brackets */
    uint64_t connect_timeout_ms; /* [2000] connect + AUTH + SELECT + SCRIPT LOAD */
    uint64_t reply_timeout_ms;   /* [3000] no reply for this long while writes are outstanding: hung */
    uint64_t backoff_min_ms;     /* [100] */
    uint64_t backoff_max_ms;     /* [5000] */
    uint64_t close_deadline_ms;  /* [3000] how long close waits for pending writes */
    uint64_t max_instruments;    /* [100000] records kept; ticks of further instruments are refused */
    uint64_t trade_history;      /* entries kept per instrument's trades stream; 0 = trades are not taken */
    uint64_t max_trades;         /* [REDIS_SINK_MAX_TRADES] trades waiting; beyond it the oldest are dropped */
    uint64_t max_instrument_events; /* [REDIS_SINK_MAX_INSTRUMENT_EVENTS] instrument changes waiting; beyond it the
                                       oldest are dropped */
    /* Called when Redis refused a quote put by redis_sink_put_accepted as older than what it holds, with the
     * merge's quote_id and the key Redis holds (a key without epoch reads as epoch 0), for merge_adopt. NULL:
     * not told. Runs on the loop, inside the sink's reply handling: it must not call back into the sink. */
    void (*on_cas_rejected)(void *arg, uint32_t quote_id, const struct merge_key *held);
    void *cas_arg;
};

struct redis_sink_stats {
    uint64_t writes;       /* records (quotes, BBOs) written */
    uint64_t batches;      /* pipelines sent (one per loop turn with something to write) */
    uint64_t commands;     /* EVALSHA sent: each carries up to 64 records */
    uint64_t cas_rejected; /* writes refused because Redis (or, for quotes and BBOs, the record here) held something
                              newer */
    uint64_t reconnects;   /* connections made ready after the first */
    uint64_t errors;       /* records and trades that failed other than by NOSCRIPT or a transient refusal
                              (logged, not retried), or records whose history entry did */
    uint64_t refused;      /* invalid ticks, trades, books or instrument changes, or ticks or books beyond
                              max_instruments */
    uint64_t pending;      /* records (quotes, BBOs, books) waiting to be written + writes in flight */
    uint64_t trades;         /* trades written (XADD answered with an id) */
    uint64_t trades_dropped; /* trades dropped, the oldest first, beyond max_trades */
    uint64_t trades_pending; /* trades waiting + in flight */
    uint64_t books;          /* book hashes written (HSET done) */
    uint64_t books_pending;  /* books waiting to be written + in flight (counted in pending too) */
    uint64_t books_stale;    /* book puts refused as older than the record's (-ESTALE) */
    uint64_t instruments;         /* instrument changes written (every HSET of the change done) */
    uint64_t instruments_dropped; /* instrument changes dropped, the oldest first, beyond max_instrument_events */
    uint64_t instruments_pending; /* instrument changes waiting + in flight */
    bool ready;            /* connected, authenticated, script loaded */
};

/* Starts connecting at once. Returns 0 or a negative errno (-EINVAL: bad URL or prefix). */
int redis_sink_new(uv_loop_t *loop, const struct redis_sink_config *cfg, struct redis_sink **out);

/* Takes an accepted tick and its ordering key (merge_update.quote) as the instrument's latest, unless the
 * record already holds a greater key. Never blocks. Returns 0, -EINVAL for a tick that fails
 * sink_tick_invalid (logged, rate-limited), -ENOSPC (max_instruments) or -ENOMEM. */
int redis_sink_put(struct redis_sink *s, const struct tick *t, const struct merge_key *key);

/* The same for a tick merge_apply has just accepted (MERGE_ACCEPTED; pass merge_update's quote_id and its
 * quote's tick and key): the merge validated its fields already, so only a new instrument's venue and symbol
 * are checked. The record is found by quote_id (merge.h: dense, stable) instead of by name; the first put of
 * an id finds or makes it by name. The ids must all come from one merge and name the tick's instrument. */
int redis_sink_put_accepted(struct redis_sink *s, uint32_t quote_id, const struct tick *t,
                            const struct merge_key *key);

/* A symbol's best bid and offer (merge_bbo_get). Positions of different venues do not compare, so the BBO is
 * versioned by updated_us, the receive time of the tick that changed it: written unless Redis holds a later
 * one. Returns 0, -EINVAL, -ENOSPC or -ENOMEM. */
int redis_sink_put_bbo(struct redis_sink *s, const struct merge_bbo *b, int64_t updated_us);

/* The same with the record found by merge_update.bbo_id (merge_bbo_by_id gives b); same checks and results. */
int redis_sink_put_bbo_id(struct redis_sink *s, uint32_t bbo_id, const struct merge_bbo *b, int64_t updated_us);

/* A trade (sink.h, put_trade: new to tickd, in order per instrument), written to its instrument's trades stream.
 * Never blocks. Returns 0 (also, without any work, when trade_history is 0), -EINVAL for a trade that fails
 * sink_trade_invalid (logged, rate-limited) or -ENOMEM. */
int redis_sink_put_trade(struct redis_sink *s, const struct trade *t);

/* A book's top levels (sink.h, put_book) as the book's latest. Never blocks. Returns 0, -EINVAL for a view that
 * fails sink_book_invalid (logged, rate-limited), -ESTALE for one older than the record's (see above: counted,
 * not written), -ENOSPC (max_instruments books held) or -ENOMEM. */
int redis_sink_put_book(struct redis_sink *s, const struct book_view *v);

/* An instrument change (sink.h, put_instrument), written to <prefix>:instruments:<venue> and, unless the change is
 * INSTRUMENT_CHANGE_UPDATED, to the quote hash's status field (see above). Never blocks. Returns 0 (taken, perhaps
 * dropping the oldest waiting change), -EINVAL for a change that fails sink_instrument_change_invalid or whose
 * instrument has no JSON (a text not terminated in its field; logged, rate-limited) or -ENOMEM. */
int redis_sink_put_instrument(struct redis_sink *s, const char *venue, const struct instrument *in,
                              enum instrument_change change);

void redis_sink_stats(const struct redis_sink *s, struct redis_sink_stats *out);

/* How stale Redis is: for every tick written since the last call, the time from its receive (recv_us; for a
 * BBO, the receive of the tick that changed it) to Redis's answer to the write. An upper bound of receive →
 * applied by the reply's way back. event_lag: for every written quote whose venue sent an event time, from that
 * time to Redis's answer -- the venue's delay and the network's on top of tickd's, and on another machine the
 * clocks' difference too (a time ahead of ours counts as 0). Hands both histograms over and starts new ones. */
void redis_sink_take_lag(struct redis_sink *s, struct lat_hist *recv_lag, struct lat_hist *event_lag);

/* Flushes what is pending (waiting for a reconnect if need be) until it is written or close_deadline_ms
 * passes, then closes every handle; cb runs once all are closed and s is freed. */
void redis_sink_close(struct redis_sink *s, void (*cb)(void *arg), void *arg);

/* The Redis row of sink_table (sink.h): opened from [redis], takes bbo quotes and BBOs, trades (put_trade
 * does nothing when [redis] trade_history is 0), books (put_book; no book deltas: put_book_delta is NULL) and
 * instrument changes (put_instrument), and wires its CAS refusals (on_cas_rejected above) to the hooks'. */
extern const struct sink_ops redis_sink_ops;

#endif
