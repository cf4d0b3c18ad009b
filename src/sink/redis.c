/* redis.c -- the Redis writer; see redis_sink.h.
 *
 * Connection states: DOWN (a retry timer may be pending) → HANDSHAKE (AUTH, SELECT, SCRIPT LOAD queued right
 * after the non-blocking connect) → READY (the script's sha is known). Only READY sends writes.
 *
 * Records: one struct entry per quote (venue, symbol) and per BBO ("", symbol), never freed before close, so
 * a hiredis reply callback can always point at its record, and the id indexes (id_index.h) can hold it: the
 * daemon's puts find a record by the merge's id, the name map serves the first put of an id and callers
 * without ids. An entry is `dirty` when its latest value is not
 * yet written, and `queued` (on the send list) when dirty with no write in flight: one write in flight per
 * record bounds what hiredis buffers. A failed write (no reply, NOSCRIPT) makes its record dirty again; the
 * latest value is then written, which the Lua compare makes harmless to repeat.
 *
 * Writes go out in batches: one EVALSHA carries up to BATCH_MAX records (quotes and BBOs), and the script
 * answers one character per record. Redis spends ~4-9 µs on each script call besides the HGET and HSET inside
 * it, so one call per record cost it more than the records themselves. The records of a batch are chained
 * through queue_next (free while a record is in flight) and the chain's head is the reply's privdata.
 * Commands are built here as RESP text (redisAsyncFormattedCommand), integers appended by hand, and a loop
 * turn's pipeline goes out in one write() from on_flush (redis_uv.h), not after a round of epoll.
 *
 * Trades (redis_sink.h) are not records: each is kept until answered, in two rings of struct trade. `tq` holds
 * the waiting ones in put order (grown on demand up to max_trades; beyond it its head, the oldest, is dropped).
 * on_flush sends them after the quote batches, one XADD each, up to TRADE_INFLIGHT_MAX in flight, moving each
 * to `tf`, the ring in flight, whose answers come in send order: tf_answered of them have theirs. An answer
 * marks its trade done (written, or failed: counted, not retried) or kept (no answer, the connection was lost;
 * or a transient refusal); done trades leave from the head. Once every trade in flight is answered, the kept
 * ones go back to the front of tq, in their order, to be sent again after the reconnect or the backoff; no
 * trade is sent meanwhile (trades_kept), so none overtakes them.
 *
 * Books are records too (is_book), in their own map (a book and a quote share their (venue, symbol)) and on their
 * own send list, with the same dirty / queued / in-flight life. A book record holds its script arguments as RESP
 * text, serialized at put into the record's buffer (grown, never shrunk: a book's size hardly changes), so the
 * flush only copies: the books of a turn go out as EVALSHA batches of their own, after the quotes' batches, each
 * record one 'k' of the script (one HMGET and one HSET), answered like any batch (on_batch_reply).
 *
 * Instrument changes (redis_sink_put_instrument) are events, kept like trades: each waits in `iq`, a ring of struct
 * instr_event in put order bounded by max_instrument_events (beyond it the oldest waiting one is dropped, counted
 * and logged). on_flush sends up to INSTR_BATCH_MAX of them as one batch, `ib`, and no other batch until every
 * answer of this one is in: per change an HSET of <prefix>:instruments:<venue> and, for a listing, a status change
 * or a delisting, the quote hash's `status` field where the hash exists, both outside the quotes' script (the script
 * reads and writes only the quote's own fields and `order`, so this field never touches its compare). A change
 * whose answer was lost with its connection, or refused as transient, keeps the whole batch: once all of it is
 * answered, its changes go back to the front of iq, in their order, and are written again after the reconnect or
 * the backoff (an HSET written twice, in the same order, leaves the same hashes); an error answer fails that
 * change alone (counted in errors, not written again). */
#include "tickd/redis_sink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "tickd/backoff.h"
#include "tickd/clock.h"
#include "tickd/config.h"
#include "tickd/id_index.h"
#include "tickd/instr_map.h"
#include "tickd/log.h"
#include "tickd/redis_uv.h"
#include "tickd/sink.h"
#include "tickd/text_buf.h"

#define COMPONENT "redis"

/* Compare-and-set of a batch. ARGV[1] is the history length; then each record is 'q' (a quote: its key and,
 * with history, its stream's key; then the merge's ordering key, fixed-width digits, written only when strictly
 * greater, and ten fields) or 'b' (a BBO: its key; its update time, written unless the stored one is later, and
 * eight fields) or 'k' (a book: its key; its seq and resyncs, written unless Redis holds the same resyncs with a
 * greater seq, and five fields; 'K' the same written without the compare: the first write of a new connection's
 * book, whose sync may have restarted the venue's sequence). gt compares decimal text by length, then bytes: exact for the 54-character key,
 * for times and for sequences, never via Lua doubles, and a 43-character key written before epochs is older than
 * any of today's.
 * redis.pcall keeps one bad key (say a string where a hash belongs) from failing the other records. Returns an array: a string of a character per record -- '1' written, '0' refused as older,
 * 'e' failed, 'h' written but its history entry failed --, the first error ("" when none), then the key Redis
 * holds for each quote refused as older, in record order (the merge adopts it: merge_adopt). */
static const char CAS_SCRIPT[] =
    "local function gt(a, b)\n"
    "  if #a ~= #b then return #a > #b end\n"
    "  return a > b\n"
    "end\n"
    "local err\n"
    "local function failed(r)\n"
    "  if type(r) == 'table' and r.err then err = err or r.err return true end\n"
    "  return false\n"
    "end\n"
    "local hist, out, held, k, a, n = ARGV[1], {}, {}, 1, 2, #ARGV\n"
    "while a <= n do\n"
    "  local key, res = KEYS[k], '0'\n"
    "  if ARGV[a] == 'b' then\n"
    "    local old = redis.pcall('HGET', key, 'ts')\n"
    "    if failed(old) then res = 'e'\n"
    "    elseif not old or not gt(old, ARGV[a+1]) then\n"
    "      res = failed(redis.pcall('HSET', key, 'ts', ARGV[a+1], 'bid', ARGV[a+2], 'bid_qty', ARGV[a+3],\n"
    "        'bid_venue', ARGV[a+4], 'bid_ts', ARGV[a+5], 'ask', ARGV[a+6], 'ask_qty', ARGV[a+7],\n"
    "        'ask_venue', ARGV[a+8], 'ask_ts', ARGV[a+9])) and 'e' or '1'\n"
    "    end\n"
    "    k, a = k + 1, a + 10\n"
    "  elseif ARGV[a] == 'k' or ARGV[a] == 'K' then\n"
    "    local old = ARGV[a] == 'k' and redis.pcall('HMGET', key, 'seq', 'resyncs') or {}\n"
    "    if failed(old) then res = 'e'\n"
    "    elseif not (old[1] and old[2] == ARGV[a+2] and gt(old[1], ARGV[a+1])) then\n"
    "      res = failed(redis.pcall('HSET', key, 'bids', ARGV[a+3], 'asks', ARGV[a+4], 'seq', ARGV[a+1],\n"
    "        'ts', ARGV[a+5], 'recv_ts', ARGV[a+6], 'state', ARGV[a+7], 'resyncs', ARGV[a+2])) and 'e' or '1'\n"
    "    end\n"
    "    k, a = k + 1, a + 8\n"
    "  else\n"
    "    local old = redis.pcall('HGET', key, 'order')\n"
    "    if failed(old) then res = 'e'\n"
    "    elseif old and not gt(ARGV[a+1], old) then held[#held + 1] = old\n"
    "    else\n"
    "      res = failed(redis.pcall('HSET', key, 'bid', ARGV[a+2], 'bid_qty', ARGV[a+3], 'ask', ARGV[a+4],\n"
    "        'ask_qty', ARGV[a+5], 'last', ARGV[a+6], 'ts', ARGV[a+7], 'seq', ARGV[a+8], 'recv_ts', ARGV[a+9],\n"
    "        'origin', ARGV[a+10], 'order', ARGV[a+1])) and 'e' or '1'\n"
    "      if res == '1' and hist ~= '0' and failed(redis.pcall('XADD', KEYS[k+1], 'MAXLEN', '~', hist, '*',\n"
    "          'venue', ARGV[a+11], 'bid', ARGV[a+2], 'bid_qty', ARGV[a+3], 'ask', ARGV[a+4],\n"
    "          'ask_qty', ARGV[a+5], 'last', ARGV[a+6], 'ts', ARGV[a+7], 'seq', ARGV[a+8],\n"
    "          'recv_ts', ARGV[a+9], 'origin', ARGV[a+10])) then res = 'h' end\n"
    "    end\n"
    "    k, a = k + (hist ~= '0' and 2 or 1), a + 12\n"
    "  end\n"
    "  out[#out + 1] = res\n"
    "end\n"
    "return {table.concat(out), err or '', unpack(held)}\n";

/* Records per EVALSHA: enough that the call's own cost is spread thin, few enough that one script run (which
 * blocks Redis's other clients) stays near a tenth of a millisecond. */
#define BATCH_MAX 64

/* Bounds of one record's text. Keys: <prefix>:quote:<venue>:<symbol> and <prefix>:ticks:<symbol>, or
 * <prefix>:bbo:<symbol>; the prefix is under 64 bytes (redis_sink_new), venue and symbol fit their tick arrays,
 * so a key is at most 117 bytes, 126 with its "$N\r\n...\r\n". Arguments: a quote's kind and eleven, a BBO's
 * kind and nine, none longer than TICK_DECIMAL_MAX or MERGE_KEY_TEXT_LEN (40 and 55), each with ~10 bytes
 * around it: one key of 65 and eleven arguments of 50 at most, under 12 x 58. */
#define RECORD_KEYS_MAX (2 * 126)
#define RECORD_ARGS_MAX (12 * 58)
#define BATCH_HEAD_MAX 128 /* "*<n>\r\n$7\r\nEVALSHA\r\n", the sha, the key count */

/* A book batch's arguments stop growing past this (a batch always takes one book, the largest ~110 KB at
 * BOOK_DEPTH_MAX): one script run stays within a fraction of a millisecond, and hiredis's buffer within a few of
 * them. */
#define BOOK_BATCH_BYTES (256 * 1024)

/* A book record's arguments: 'k', seq, resyncs, ts, recv_ts and state take under 160 bytes with their RESP
 * framing; each side's array takes BULK_HEAD_MAX of room while it is written (sink_put_book_levels writes it
 * after the room, then its "$<len>\r\n" goes in front) and its levels. */
#define BULK_HEAD_MAX 16
#define BOOK_ARGS_FIXED 192
#define BOOK_ARGS_MAX(levels) (BOOK_ARGS_FIXED + 2 * (BULK_HEAD_MAX + 4) + (size_t)(levels)*SINK_BOOK_LEVEL_JSON_MAX)

/* Trades sent and not yet answered, at most: bounds what hiredis buffers (~300 bytes of command each), while a
 * pipeline this deep keeps a round trip from limiting the rate (thousands of trades per millisecond of RTT). A
 * power of two (the ring's mask). */
#define TRADE_INFLIGHT_MAX 4096

/* Instrument changes sent in one batch, at most: two commands each, under 2.5 KB (the JSON, INSTRUMENT_JSON_MAX at
 * worst, ~300 bytes as venues name things), so a batch stays a few hundred kilobytes in hiredis's buffer; a
 * venue's whole list (a few thousand instruments at its first load) takes a few round trips. */
#define INSTR_BATCH_MAX 1024

/* A trade's XADD: its key (under 140 bytes with its "$N\r\n"), MAXLEN ~ <n> *, and six fields, the longest the
 * id (TRADE_ID_MAX) and the decimals (TICK_DECIMAL_MAX): well under a kilobyte; s->wire is far larger. */

enum conn_state { CONN_DOWN, CONN_HANDSHAKE, CONN_READY };

/* A FIFO of trades: v[(head + i) & (cap - 1)] is its i-th; cap a power of two (0 before the first use). */
struct trade_ring {
    struct trade *v;
    size_t cap, head, len;
};

/* An instrument change waiting to be written: the instrument (its last entry when delisted), venue, change. */
struct instr_event {
    struct instrument in;
    char venue[TICK_VENUE_MAX];
    uint8_t change; /* enum instrument_change */
};

/* A FIFO of instrument changes, as struct trade_ring. */
struct instr_ring {
    struct instr_event *v;
    size_t cap, head, len;
};

/* What became of a trade in flight (tf_state). */
enum trade_state { TRADE_SENT, TRADE_DONE, TRADE_KEPT };

struct entry {
    struct instr_node node; /* first: the map hands back this pointer; venue "" marks a BBO */
    bool is_bbo;
    bool is_book; /* in the books map */
    union {
        struct {
            struct tick_packed tick; /* packed: one record per instrument, 50k of them in a large config */
            struct merge_key key;    /* the tick's ordering key (merge.h); none yet when !has_key */
            bool has_key;
            bool has_id;             /* put by redis_sink_put_accepted: quote_id is the merge's */
            uint32_t quote_id;
        } quote;
        struct {
            struct merge_bbo *bbo; /* its own allocation: a BBO is twice a packed quote, and rarer */
            int64_t updated_us;
        } bbo;
        struct {
            char *args;            /* the script's arguments for this book, RESP text: 'k' seq resyncs bids asks
                                      ts recv_ts state */
            size_t len, cap;
            uint64_t seq;          /* of the latest put (pending or written): the next must not be below it */
            uint32_t resyncs, run; /* ... unless it comes from another sync: a resync or another connection */
            bool force;            /* the next write is a new connection's: not compared with what Redis holds */
            bool sent_forced;      /* the write in flight was; lost or failed, the next one is again */
            int64_t event_us, recv_us;
            bool has;              /* args hold a book */
        } book;
    } v;
    bool dirty, queued, inflight;
    int64_t inflight_recv_us;  /* receive time of the tick (or the BBO change) in flight, for the lag figures */
    int64_t inflight_event_us; /* the venue's event time of the quote in flight; 0 for a BBO or none sent */
    struct entry *queue_next; /* the send list while queued; the rest of its batch while in flight */
};

struct redis_sink {
    uv_loop_t *loop;
    struct redis_sink_config cfg;
    char prefix[128];
    size_t prefix_len;
    char host[256];
    int port, db;
    char password[256];
    char history[24];
    size_t history_len;
    char trade_history[24];
    size_t trade_history_len;

    redisAsyncContext *ac;
    enum conn_state state;
    char sha[48];
    size_t sha_len;
    bool script_loading;
    uint64_t conn_started_ms, last_progress_ms;
    struct backoff backoff;
    bool paused;        /* Redis answered OOM: writes wait for retry_timer (on_resume) */
    bool refusing;      /* its last writes failed as transient (READONLY, OOM): no backoff reset until one lands */
    uint64_t failed_attempts; /* since the last time it was ready */
    unsigned outstanding; /* replies hiredis still owes us */
    bool was_ready;

    struct instr_map entries;
    struct id_index quote_ids, bbo_ids; /* the same records by the merge's ids (merge_update), for the hot path */
    struct entry *queue_head, *queue_tail;
    uint64_t ndirty, ninflight;
    struct instr_map books;                   /* book records, by (venue, symbol) */
    struct entry *book_head, *book_tail;      /* the books' send list */
    uint64_t nbooks_dirty, nbooks_inflight;   /* the books among ndirty and ninflight */
    char *book_wire;                          /* one book batch's command (grown to the largest) */
    size_t book_wire_cap;

    struct trade_ring tq, tf;   /* trades waiting; trades in flight (cap TRADE_INFLIGHT_MAX once used) */
    unsigned char *tf_state;    /* enum trade_state of tf's trades, by their index in tf.v */
    size_t tf_answered;         /* tf's first ones that have their answer */
    bool trades_kept;           /* a trade in tf is kept: none is sent until tf is all answered */
    uint64_t drops_unlogged, last_drop_log_ms;
    int64_t drops_first_us, drops_last_us; /* receive times of the oldest and newest trade dropped unlogged */
    uint64_t last_trade_error_log_ms, trade_errors_unlogged;

    struct instr_ring iq;       /* instrument changes waiting, in put order */
    struct instr_event *ib;     /* the batch in flight, in send order (INSTR_BATCH_MAX of room once used) */
    unsigned char *ib_failed;   /* ib's changes that failed for good: not written again */
    size_t ib_len, ib_owed;     /* changes in the batch; answers it still waits for */
    bool ib_kept;               /* an answer was lost or transient: the batch waits again once all are in */
    uint64_t idrops_unlogged, last_idrop_log_ms;
    char idrop_first[TICK_VENUE_MAX + TICK_SYMBOL_MAX], idrop_last[TICK_VENUE_MAX + TICK_SYMBOL_MAX]; /* v:s */
    uint64_t last_instr_error_log_ms, instr_errors_unlogged;

    uv_idle_t flusher;
    uv_timer_t retry_timer, watchdog;
    int open_handles;

    uint64_t last_refusal_log_ms, refusals_unlogged;
    uint64_t last_write_error_log_ms, write_errors_unlogged;
    char batch_keys[BATCH_MAX * RECORD_KEYS_MAX];
    char wire[BATCH_HEAD_MAX + BATCH_MAX * (RECORD_KEYS_MAX + RECORD_ARGS_MAX) + 64]; /* one batch's command */
    struct redis_sink_stats stats;
    struct lat_hist lag;       /* receive → Redis's answer, per written tick, since redis_sink_take_lag */
    struct lat_hist event_lag; /* the venue's event time → Redis's answer, per written quote that has one */
    uint64_t writes_at_last_stats, trades_at_last_stats, books_at_last_stats; /* for the stats line's rates */

    bool closing, finished;
    uint64_t close_deadline;
    void (*close_cb)(void *);
    void *close_arg;
};

static void connect_now(struct redis_sink *s);
static void maybe_finish_close(struct redis_sink *s);
static void on_flush(uv_idle_t *h);

/* ---- the send list -------------------------------------------------------------------------------- */

/* Trades can go out now (the connection aside). */
static bool trades_sendable(const struct redis_sink *s) {
    return s->tq.len && s->tf.len < TRADE_INFLIGHT_MAX && !s->trades_kept;
}

/* Instrument changes can go out now (the connection aside): some wait, and no batch of them is in flight. */
static bool instruments_sendable(const struct redis_sink *s) {
    return s->iq.len && !s->ib_len;
}

static void flusher_kick(struct redis_sink *s) {
    if (s->state == CONN_READY && !s->script_loading && !s->paused &&
        (s->queue_head || s->book_head || trades_sendable(s) || instruments_sendable(s)) && !s->finished)
        uv_idle_start(&s->flusher, on_flush);
}

/* Onto its send list: the books' or the others'. */
static void queue_push(struct redis_sink *s, struct entry *e) {
    struct entry **head = e->is_book ? &s->book_head : &s->queue_head;
    struct entry **tail = e->is_book ? &s->book_tail : &s->queue_tail;
    e->queued = true;
    e->queue_next = NULL;
    if (*tail) (*tail)->queue_next = e;
    else *head = e;
    *tail = e;
    flusher_kick(s);
}

static void entry_mark_dirty(struct redis_sink *s, struct entry *e) {
    if (!e->dirty) {
        s->ndirty++;
        s->nbooks_dirty += e->is_book;
    }
    e->dirty = true;
    if (!e->inflight && !e->queued) queue_push(s, e);
}

static void mark_all_dirty(struct redis_sink *s) {
    size_t cursor = 0;
    struct instr_node *n, *next = NULL;
    while ((n = instr_map_next(&s->entries, &cursor, &next))) entry_mark_dirty(s, (struct entry *)n);
    cursor = 0;
    next = NULL;
    while ((n = instr_map_next(&s->books, &cursor, &next)))
        if (((struct entry *)n)->v.book.has) entry_mark_dirty(s, (struct entry *)n);
}

/* ---- writes ---------------------------------------------------------------------------------------- */

static bool reply_is_error(const redisReply *r, const char *prefix) {
    return r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, prefix, strlen(prefix)) == 0;
}

static void drop_connection(struct redis_sink *s, const char *why);
static void load_script(struct redis_sink *s);

static void note_reply(struct redis_sink *s) {
    s->outstanding--;
    s->last_progress_ms = uv_now(s->loop);
}

/* What became of one record of a batch. */
enum write_outcome {
    WRITE_LOST,     /* no answer (connection lost) or NOSCRIPT: written again, which the compare makes harmless */
    WRITE_FAILED,   /* an error: counted and logged, not retried until the record changes again */
    WRITE_DONE,     /* written */
    WRITE_REFUSED,  /* Redis held something newer */
    WRITE_NO_TRAIL, /* written, but its history entry failed */
};

static enum write_outcome outcome_of(char c) {
    switch (c) {
    case '1': return WRITE_DONE;
    case '0': return WRITE_REFUSED;
    case 'h': return WRITE_NO_TRAIL;
    default: return WRITE_FAILED;
    }
}

/* now_us: when the answer came (one clock read per batch, not per record), for the lag figures. */
static void write_done(struct redis_sink *s, struct entry *e, enum write_outcome o, int64_t now_us) {
    e->inflight = false;
    s->ninflight--;
    s->nbooks_inflight -= e->is_book;
    if (e->is_book && (o == WRITE_LOST || o == WRITE_FAILED)) e->v.book.force |= e->v.book.sent_forced;
    switch (o) {
    case WRITE_LOST: entry_mark_dirty(s, e); break;
    case WRITE_FAILED: s->stats.errors++; break;
    case WRITE_NO_TRAIL:
    case WRITE_DONE: {
        if (o == WRITE_NO_TRAIL) s->stats.errors++; /* the record itself was written */
        if (e->is_book) { /* not in the lag figures, which are the quotes' and BBOs' */
            s->stats.books++;
            break;
        }
        s->stats.writes++;
        lat_hist_add(&s->lag, now_us - e->inflight_recv_us);
        if (e->inflight_event_us > 0) lat_hist_add(&s->event_lag, now_us - e->inflight_event_us);
        break;
    }
    case WRITE_REFUSED: s->stats.cas_rejected++; break;
    }
    if (e->dirty && !e->queued) queue_push(s, e);
}

/* One line a second at most: a key of the wrong type fails in every batch that carries its record. */
static void log_write_errors(struct redis_sink *s, const struct entry *first, unsigned n, const char *error,
                             size_t error_len) {
    uint64_t now = uv_now(s->loop);
    s->write_errors_unlogged += n;
    if (s->last_write_error_log_ms && now - s->last_write_error_log_ms < 1000) return;
    log_warn(COMPONENT, "write failed", "venue=%s symbol=%s error=%.*s failed=%" PRIu64, first->node.venue,
             first->node.symbol, (int)error_len, error, s->write_errors_unlogged);
    s->last_write_error_log_ms = now;
    s->write_errors_unlogged = 0;
}

/* Errors that say "not now" rather than "never": a replica after a failover (READONLY, MASTERDOWN), a full
 * maxmemory (OOM), a server still loading its data (LOADING). A record that failed by one of them is written
 * again after a backoff, or Redis would keep an old quote until the instrument ticked again. */
enum transient { NOT_TRANSIENT, TRANSIENT_RECONNECT, TRANSIENT_WAIT };

static enum transient transient_of(const char *error, size_t len) {
    static const struct {
        const char *prefix;
        enum transient kind;
    } known[] = {{"READONLY", TRANSIENT_RECONNECT}, {"MASTERDOWN", TRANSIENT_RECONNECT},
                 {"OOM", TRANSIENT_WAIT},           {"LOADING", TRANSIENT_WAIT}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].prefix);
        if (len >= n && memcmp(error, known[i].prefix, n) == 0) return known[i].kind;
    }
    return NOT_TRANSIENT;
}

/* A write landed: a run of transient refusals is over. */
static void writes_landed(struct redis_sink *s) {
    if (!s->refusing) return;
    s->refusing = false;
    backoff_reset(&s->backoff);
    log_info(COMPONENT, "writes accepted again", "pending=%" PRIu64 " trades_pending=%zu",
             s->ndirty + s->ninflight, s->tq.len + s->tf.len);
}

static void on_resume(uv_timer_t *h) {
    struct redis_sink *s = h->data;
    s->paused = false;
    flusher_kick(s);
}

/* Writes failed as transient: every record is dirty again already. A replica is left (the address may lead
 * to the new master on the next connect, and the reconnect rewrites every record); a full or loading server
 * is given time. Both wait a backoff that grows while the refusals go on. */
static void back_off_writes(struct redis_sink *s, enum transient kind, const char *error, size_t error_len) {
    uint64_t delay = backoff_next(&s->backoff);
    if (!s->refusing)
        log_warn(COMPONENT, "writes refused, retrying",
                 "error=%.*s retry_ms=%" PRIu64 " pending=%" PRIu64 " trades_pending=%zu", (int)error_len, error,
                 delay, s->ndirty + s->ninflight, s->tq.len + s->tf.len);
    s->refusing = true;
    if (kind == TRANSIENT_RECONNECT) {
        drop_connection(s, "read-only replica");
        return;
    }
    s->paused = true;
    uv_idle_stop(&s->flusher);
    uv_timer_start(&s->retry_timer, on_resume, delay, 0);
}

/* A refused quote's record learns the key Redis holds (the next of the answer's held keys), and the daemon's
 * merge adopts it, so that the live stream can continue above it or reset over it (merge.h). */
static void report_held_key(struct redis_sink *s, const struct entry *e, const redisReply *reply, size_t *next_held) {
    if (!reply || reply->type != REDIS_REPLY_ARRAY || *next_held >= reply->elements) return;
    const redisReply *held = reply->element[(*next_held)++];
    struct merge_key key;
    if (!s->cfg.on_cas_rejected || !e->v.quote.has_id || held->type != REDIS_REPLY_STRING ||
        merge_key_parse(held->str, (size_t)held->len, &key) < 0)
        return;
    s->cfg.on_cas_rejected(s->cfg.cas_arg, e->v.quote.quote_id, &key);
}

/* A batch's answer: CAS_SCRIPT's array, an error for all of them, or nothing (lost). */
static void on_batch_reply(redisAsyncContext *ac, void *r, void *privdata) {
    struct redis_sink *s = ac->data;
    redisReply *reply = r;
    note_reply(s);
    bool lost = !reply || reply_is_error(reply, "NOSCRIPT");
    bool answered = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
                    reply->element[0]->type == REDIS_REPLY_STRING && reply->element[1]->type == REDIS_REPLY_STRING;
    const char *results = answered ? reply->element[0]->str : "", *error = "unexpected reply";
    size_t nresults = answered ? (size_t)reply->element[0]->len : 0, error_len = strlen(error), next_held = 2;
    if (answered && reply->element[1]->len > 0) {
        error = reply->element[1]->str;
        error_len = (size_t)reply->element[1]->len;
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        error = reply->str;
        error_len = (size_t)reply->len;
    }
    enum transient transient = lost || !reply ? NOT_TRANSIENT : transient_of(error, error_len);
    struct entry *first_failed = NULL;
    unsigned nfailed = 0, nretried = 0;
    bool landed = false;
    size_t i = 0;
    int64_t now_us = clock_wall_us();
    for (struct entry *e = privdata, *next; e; e = next, i++) {
        next = e->queue_next; /* write_done may put e back on the send list */
        enum write_outcome o = lost ? WRITE_LOST : i < nresults ? outcome_of(results[i]) : WRITE_FAILED;
        if (o == WRITE_FAILED && transient != NOT_TRANSIENT) {
            o = WRITE_LOST;
            nretried++;
        }
        if (o == WRITE_FAILED || o == WRITE_NO_TRAIL) {
            if (!nfailed++) first_failed = e;
        }
        landed |= o == WRITE_DONE || o == WRITE_REFUSED || o == WRITE_NO_TRAIL;
        if (o == WRITE_REFUSED && !e->is_bbo && !e->is_book)
            report_held_key(s, e, answered ? reply : NULL, &next_held);
        write_done(s, e, o, now_us);
    }
    if (nfailed) log_write_errors(s, first_failed, nfailed, error, error_len);
    if (landed) writes_landed(s);
    if (nretried && s->state == CONN_READY && !s->paused) back_off_writes(s, transient, error, error_len);
    else if (reply_is_error(reply, "NOSCRIPT") && s->state == CONN_READY) load_script(s);
    maybe_finish_close(s);
}

/* ---- RESP text ---- */

static char *put_bulk(char *p, const char *text, size_t n) {
    *p++ = '$';
    p = fmt_u64(p, n);
    p = sink_put_mem(p, "\r\n", 2);
    p = sink_put_mem(p, text, n);
    return sink_put_mem(p, "\r\n", 2);
}

static char *put_bulk_field(char *p, const char *field, size_t size) {
    return put_bulk(p, field, strnlen(field, size));
}

static char *put_bulk_u64(char *p, uint64_t v) {
    char digits[24];
    return put_bulk(p, digits, (size_t)(fmt_u64(digits, v) - digits));
}

/* Times are written as they always were: negative (unset) as 0. */
static char *put_bulk_time(char *p, int64_t us) {
    return put_bulk_u64(p, us < 0 ? 0 : (uint64_t)us);
}

#define PUT_BULK_FIELD(p, field) put_bulk_field(p, field, sizeof field)

/* One key as a RESP bulk string: "$N\r\n<prefix>:<kind>:[<venue>:]<symbol>\r\n". Built per write rather
 * than kept per record: 75 bytes a record is 4.7 MB at 50k instruments, and this is a few memcpy. */
static char *put_key(char *p, const struct redis_sink *s, const char *kind, size_t kind_len, const char *venue,
                     const char *symbol) {
    size_t venue_len = venue ? strlen(venue) : 0, symbol_len = strlen(symbol);
    *p++ = '$';
    p = fmt_u64(p, s->prefix_len + 1 + kind_len + 1 + (venue ? venue_len + 1 : 0) + symbol_len);
    p = sink_put_mem(p, "\r\n", 2);
    p = sink_put_mem(p, s->prefix, s->prefix_len);
    *p++ = ':';
    p = sink_put_mem(p, kind, kind_len);
    *p++ = ':';
    if (venue) {
        p = sink_put_mem(p, venue, venue_len);
        *p++ = ':';
    }
    p = sink_put_mem(p, symbol, symbol_len);
    return sink_put_mem(p, "\r\n", 2);
}

/* A BBO's nine arguments: update time, then per side price, qty, venue, time. */
static char *put_bbo_args(char *p, const struct entry *e) {
    const struct merge_bbo *b = e->v.bbo.bbo;
    p = put_bulk_time(p, e->v.bbo.updated_us);
    p = PUT_BULK_FIELD(p, b->bid.price);
    p = PUT_BULK_FIELD(p, b->bid.qty);
    p = PUT_BULK_FIELD(p, b->bid.venue);
    p = put_bulk_time(p, b->bid.time_us);
    p = PUT_BULK_FIELD(p, b->ask.price);
    p = PUT_BULK_FIELD(p, b->ask.qty);
    p = PUT_BULK_FIELD(p, b->ask.venue);
    return put_bulk_time(p, b->ask.time_us);
}

/* A quote's eleven arguments: order, the five decimals, event time, seq, receive time, origin, venue. */
static char *put_quote_args(char *p, const struct entry *e) {
    const struct tick_packed *t = &e->v.quote.tick;
    char order[MERGE_KEY_TEXT_LEN];
    merge_key_format(&e->v.quote.key, order);
    p = put_bulk(p, order, MERGE_KEY_TEXT_LEN - 1);
    for (enum tick_field f = TICK_BID; f < TICK_FIELDS; f++) {
        const char *text = tick_packed_get(t, f);
        p = put_bulk(p, text, strlen(text));
    }
    p = put_bulk_time(p, t->event_us);
    p = t->has_seq ? put_bulk_u64(p, t->seq) : put_bulk(p, "", 0);
    p = put_bulk_time(p, t->recv_us);
    const char *origin = sink_origin_name(t->origin);
    p = put_bulk(p, origin, strlen(origin));
    return PUT_BULK_FIELD(p, e->node.venue);
}


/* Appends e's keys and arguments; returns how many keys. */
static unsigned put_record(const struct redis_sink *s, const struct entry *e, char **keys, char **args) {
    if (e->is_bbo) {
        *keys = put_key(*keys, s, "bbo", 3, NULL, e->node.symbol);
        *args = put_bbo_args(put_bulk(*args, "b", 1), e);
        return 1;
    }
    *keys = put_key(*keys, s, "quote", 5, e->node.venue, e->node.symbol);
    *args = put_quote_args(put_bulk(*args, "q", 1), e);
    if (!s->cfg.history) return 1;
    *keys = put_key(*keys, s, "ticks", 5, NULL, e->node.symbol);
    return 2;
}

/* "*<nargs> EVALSHA <sha> <nkeys>", written to end at `end`; returns its start. */
static char *put_evalsha_head_before(char *end, const struct redis_sink *s, unsigned nargs, unsigned nkeys) {
    char head[BATCH_HEAD_MAX], *p = head;
    *p++ = '*';
    p = fmt_u64(p, nargs);
    p = sink_put_mem(p, "\r\n$7\r\nEVALSHA\r\n", 15);
    p = put_bulk(p, s->sha, s->sha_len);
    p = put_bulk_u64(p, nkeys);
    size_t len = (size_t)(p - head);
    return memcpy(end - len, head, len);
}

static void mark_sent(struct redis_sink *s, struct entry *e) {
    e->dirty = false;
    s->ndirty--;
    e->inflight = true;
    if (e->is_book) {
        e->inflight_recv_us = e->v.book.recv_us;
        e->inflight_event_us = e->v.book.event_us;
        s->nbooks_dirty--;
        s->nbooks_inflight++;
    } else {
        e->inflight_recv_us = e->is_bbo ? e->v.bbo.updated_us : e->v.quote.tick.recv_us;
        e->inflight_event_us = e->is_bbo ? 0 : e->v.quote.tick.event_us;
    }
    s->ninflight++;
}

static struct entry *list_pop(struct entry **head, struct entry **tail) {
    struct entry *e = *head;
    if (!e) return NULL;
    *head = e->queue_next;
    if (!*head) *tail = NULL;
    e->queued = false;
    return e;
}

static struct entry *queue_pop(struct redis_sink *s) {
    return list_pop(&s->queue_head, &s->queue_tail);
}

/* One EVALSHA with up to BATCH_MAX queued records. The arguments are built in place in s->wire, the keys beside
 * it, then the keys and the head are copied in front of the arguments. Returns 0 (nothing queued: 0 sent too),
 * 1 when a batch went out, or -1 when hiredis refused it (the connection is dropped). */
static int send_batch(struct redis_sink *s) {
    char *args_start = s->wire + BATCH_HEAD_MAX + BATCH_MAX * RECORD_KEYS_MAX, *args = args_start;
    char *keys = s->batch_keys;
    struct entry *chain = NULL, **tail = &chain, *e;
    unsigned n = 0, nkeys = 0, nargs = 4; /* EVALSHA, sha, key count, history length */
    args = put_bulk(args, s->history, s->history_len);
    while (n < BATCH_MAX && (e = queue_pop(s))) {
        if (!e->dirty) continue;
        nkeys += put_record(s, e, &keys, &args);
        nargs += e->is_bbo ? 10 : 12;
        mark_sent(s, e);
        e->queue_next = NULL;
        *tail = e;
        tail = &e->queue_next;
        n++;
    }
    if (!n) return 0;
    nargs += nkeys;
    size_t keys_len = (size_t)(keys - s->batch_keys);
    char *start = put_evalsha_head_before(memcpy(args_start - keys_len, s->batch_keys, keys_len), s, nargs, nkeys);
    if (redisAsyncFormattedCommand(s->ac, on_batch_reply, chain, start, (size_t)(args - start)) == REDIS_OK) {
        s->stats.commands++;
        if (s->outstanding++ == 0) s->last_progress_ms = uv_now(s->loop);
        return 1;
    }
    for (struct entry *c = chain, *next; c; c = next) {
        next = c->queue_next;
        c->inflight = false;
        s->ninflight--;
        entry_mark_dirty(s, c);
    }
    drop_connection(s, "command refused by hiredis"); /* frees ac */
    return -1;
}

/* Room for len bytes in the book batch buffer. */
static int book_wire_room(struct redis_sink *s, size_t len) {
    if (len <= s->book_wire_cap) return 0;
    size_t cap = s->book_wire_cap ? s->book_wire_cap : 64 * 1024;
    while (cap < len) cap *= 2;
    char *w = malloc(cap); /* nothing in it to keep: hiredis copied the last command */
    if (!w) return -ENOMEM;
    free(s->book_wire);
    s->book_wire = w;
    s->book_wire_cap = cap;
    return 0;
}

/* One EVALSHA with queued books, up to BATCH_MAX of them and, past the first, BOOK_BATCH_BYTES of arguments: their
 * keys, the history argument ("0": a book has none), then each record's serialized arguments, copied. Returns 1
 * when a batch went out, 0 when none did (nothing queued, or no memory for the batch: the books wait for the next
 * turn), or -1 when hiredis refused it (the connection is dropped). */
static int send_book_batch(struct redis_sink *s) {
    struct entry *chain = NULL, **tail = &chain, *e;
    unsigned n = 0;
    size_t args_len = 0;
    while (n < BATCH_MAX && (e = s->book_head) && (!n || args_len + e->v.book.len <= BOOK_BATCH_BYTES)) {
        list_pop(&s->book_head, &s->book_tail);
        if (!e->dirty) continue;
        e->queue_next = NULL;
        *tail = e;
        tail = &e->queue_next;
        args_len += e->v.book.len;
        n++;
    }
    if (!n) return 0;
    if (book_wire_room(s, BATCH_HEAD_MAX + n * RECORD_KEYS_MAX / 2 + 8 + args_len) < 0) {
        for (struct entry *c = chain, *next; c; c = next) { /* back on the list, in their order, for the next turn */
            next = c->queue_next;
            queue_push(s, c);
        }
        return 0;
    }
    char *start = s->book_wire + BATCH_HEAD_MAX, *p = start;
    for (e = chain; e; e = e->queue_next) p = put_key(p, s, "book", 4, e->node.venue, e->node.symbol);
    p = sink_put_mem(p, "$1\r\n0\r\n", 7);
    for (e = chain; e; e = e->queue_next) {
        e->v.book.args[4] = e->v.book.force ? 'K' : 'k'; /* the record kind, "$1\r\nk\r\n" */
        e->v.book.sent_forced = e->v.book.force;
        e->v.book.force = false;
        p = sink_put_mem(p, e->v.book.args, e->v.book.len);
        mark_sent(s, e);
    }
    start = put_evalsha_head_before(start, s, 4 + 9 * n, n); /* EVALSHA sha n, n keys, "0", 8 per book */
    if (redisAsyncFormattedCommand(s->ac, on_batch_reply, chain, start, (size_t)(p - start)) == REDIS_OK) {
        s->stats.commands++;
        if (s->outstanding++ == 0) s->last_progress_ms = uv_now(s->loop);
        return 1;
    }
    for (struct entry *c = chain, *next; c; c = next) {
        next = c->queue_next;
        c->inflight = false;
        s->ninflight--;
        s->nbooks_inflight--;
        c->v.book.force |= c->v.book.sent_forced;
        entry_mark_dirty(s, c);
    }
    drop_connection(s, "command refused by hiredis"); /* frees ac */
    return -1;
}


/* ---- trades ---------------------------------------------------------------------------------------------- */

static struct trade *ring_at(const struct trade_ring *r, size_t i) {
    return &r->v[(r->head + i) % r->cap];
}

/* Room for one more in r, growing it (doubling from 64, but to no more than limit) when full. */
static int ring_room(struct trade_ring *r, size_t limit) {
    if (r->len < r->cap) return 0;
    size_t cap = r->cap ? r->cap * 2 : 64;
    if (cap > limit) cap = limit > r->len ? limit : r->len + 1;
    struct trade *v = malloc(cap * sizeof *v);
    if (!v) return -ENOMEM;
    for (size_t i = 0; i < r->len; i++) v[i] = *ring_at(r, i);
    free(r->v);
    r->v = v;
    r->cap = cap;
    r->head = 0;
    return 0;
}

static void ring_pop(struct trade_ring *r) {
    r->head = (r->head + 1) % r->cap;
    r->len--;
}

/* Logs the drops not logged yet, at most once a second (force: now, if any). */
static void log_trade_drops(struct redis_sink *s, bool force) {
    uint64_t now = uv_now(s->loop);
    if (!s->drops_unlogged || (!force && s->last_drop_log_ms && now - s->last_drop_log_ms < 1000)) return;
    log_warn(COMPONENT, "trades dropped, the oldest first",
             "dropped=%" PRIu64 " first_recv_us=%" PRId64 " last_recv_us=%" PRId64 " trades_dropped=%" PRIu64
             " max_trades=%" PRIu64,
             s->drops_unlogged, s->drops_first_us, s->drops_last_us, s->stats.trades_dropped, s->cfg.max_trades);
    s->last_drop_log_ms = now;
    s->drops_unlogged = 0;
}

static void trade_dropped(struct redis_sink *s, const struct trade *t) {
    s->stats.trades_dropped++;
    if (!s->drops_unlogged++ || t->recv_us < s->drops_first_us) s->drops_first_us = t->recv_us;
    if (s->drops_unlogged == 1 || t->recv_us > s->drops_last_us) s->drops_last_us = t->recv_us;
    log_trade_drops(s, false);
}

/* A kept trade goes back to the front of the waiting ones; with those at the bound, it is the oldest: dropped. */
static void trade_requeue(struct redis_sink *s, const struct trade *t) {
    if (s->tq.len >= s->cfg.max_trades || ring_room(&s->tq, s->cfg.max_trades) < 0) {
        trade_dropped(s, t);
        return;
    }
    s->tq.head = (s->tq.head + s->tq.cap - 1) % s->tq.cap;
    s->tq.len++;
    *ring_at(&s->tq, 0) = *t;
}

static void log_trade_error(struct redis_sink *s, const struct trade *t, const char *error, size_t error_len) {
    uint64_t now = uv_now(s->loop);
    s->trade_errors_unlogged++;
    if (s->last_trade_error_log_ms && now - s->last_trade_error_log_ms < 1000) return;
    log_warn(COMPONENT, "trade write failed", "venue=%s symbol=%s id=%s error=%.*s failed=%" PRIu64, t->venue,
             t->symbol, t->id, (int)error_len, error, s->trade_errors_unlogged);
    s->last_trade_error_log_ms = now;
    s->trade_errors_unlogged = 0;
}

/* One trade's answer: the next one in flight's (they come in send order, also when lost: hiredis answers every
 * pending command with NULL when a connection goes, before any of the next connection's). */
static void on_trade_reply(redisAsyncContext *ac, void *r, void *privdata) {
    struct redis_sink *s = ac->data;
    redisReply *reply = r;
    (void)privdata;
    note_reply(s);
    size_t slot = (s->tf.head + s->tf_answered++) % s->tf.cap;
    const struct trade *t = &s->tf.v[slot];
    bool is_error = reply && reply->type == REDIS_REPLY_ERROR;
    enum transient transient = is_error ? transient_of(reply->str, (size_t)reply->len) : NOT_TRANSIENT;
    if (!reply || transient != NOT_TRANSIENT) {
        s->tf_state[slot] = TRADE_KEPT;
        s->trades_kept = true;
    } else if (reply->type != REDIS_REPLY_STRING) {
        s->tf_state[slot] = TRADE_DONE;
        s->stats.errors++;
        log_trade_error(s, t, is_error ? reply->str : "unexpected reply",
                        is_error ? (size_t)reply->len : strlen("unexpected reply"));
    } else {
        s->tf_state[slot] = TRADE_DONE;
        s->stats.trades++;
        writes_landed(s);
    }
    while (s->tf_answered && s->tf_state[s->tf.head] == TRADE_DONE) {
        ring_pop(&s->tf);
        s->tf_answered--;
    }
    if (s->tf.len && s->tf_answered == s->tf.len) {
        /* All answered, a kept one first: the kept ones wait again, in front of the rest, in their order. */
        for (size_t i = s->tf.len; i-- > 0;) {
            size_t k = (s->tf.head + i) % s->tf.cap;
            if (s->tf_state[k] == TRADE_KEPT) trade_requeue(s, &s->tf.v[k]);
        }
        s->tf.head = s->tf.len = s->tf_answered = 0;
    }
    if (!s->tf.len) s->trades_kept = false;
    if (transient != NOT_TRANSIENT && s->state == CONN_READY && !s->paused)
        back_off_writes(s, transient, reply->str, (size_t)reply->len);
    else flusher_kick(s);
    maybe_finish_close(s);
}

#define PUT_LIT(p, lit) sink_put_mem(p, lit, sizeof lit - 1)

/* XADD <prefix>:trades:<venue>:<symbol> MAXLEN ~ <trade_history> * id .. price .. qty .. side .. ts .. recv_ts ..
 * (the times in µs, as the quote hash's). */
static char *put_trade_command(char *p, const struct redis_sink *s, const struct trade *t) {
    p = PUT_LIT(p, "*18\r\n$4\r\nXADD\r\n");
    p = put_key(p, s, "trades", 6, t->venue, t->symbol);
    p = PUT_LIT(p, "$6\r\nMAXLEN\r\n$1\r\n~\r\n");
    p = put_bulk(p, s->trade_history, s->trade_history_len);
    p = PUT_LIT(p, "$1\r\n*\r\n$2\r\nid\r\n");
    p = PUT_BULK_FIELD(p, t->id);
    p = PUT_LIT(p, "$5\r\nprice\r\n");
    p = PUT_BULK_FIELD(p, t->price);
    p = PUT_LIT(p, "$3\r\nqty\r\n");
    p = PUT_BULK_FIELD(p, t->qty);
    p = PUT_LIT(p, "$4\r\nside\r\n");
    const char *side = trade_side_name(t->side);
    p = put_bulk(p, side, strlen(side));
    p = PUT_LIT(p, "$2\r\nts\r\n");
    p = put_bulk_time(p, t->event_us);
    p = PUT_LIT(p, "$7\r\nrecv_ts\r\n");
    return put_bulk_time(p, t->recv_us);
}

/* Sends the oldest waiting trade and moves it in flight. Returns 1, 0 (out of memory for the ring in flight:
 * it waits) or -1 when hiredis refused it (the connection is dropped; the trade still waits). */
static int send_trade(struct redis_sink *s) {
    if (!s->tf.v) {
        s->tf.v = malloc(TRADE_INFLIGHT_MAX * sizeof *s->tf.v);
        s->tf_state = malloc(TRADE_INFLIGHT_MAX);
        if (!s->tf.v || !s->tf_state) {
            free(s->tf.v);
            free(s->tf_state);
            s->tf.v = NULL;
            s->tf_state = NULL;
            return 0;
        }
        s->tf.cap = TRADE_INFLIGHT_MAX;
    }
    const struct trade *t = ring_at(&s->tq, 0);
    char *end = put_trade_command(s->wire, s, t);
    if (redisAsyncFormattedCommand(s->ac, on_trade_reply, NULL, s->wire, (size_t)(end - s->wire)) != REDIS_OK) {
        drop_connection(s, "command refused by hiredis"); /* frees ac */
        return -1;
    }
    size_t slot = (s->tf.head + s->tf.len++) % s->tf.cap;
    s->tf.v[slot] = *t;
    s->tf_state[slot] = TRADE_SENT;
    ring_pop(&s->tq);
    if (!s->tq.len && s->tq.cap > 4096) { /* an outage's backlog is written: its memory goes back */
        free(s->tq.v);
        s->tq.v = NULL;
        s->tq.cap = s->tq.head = 0;
    }
    if (s->outstanding++ == 0) s->last_progress_ms = uv_now(s->loop);
    return 1;
}

/* ---- instrument changes ------------------------------------------------------------------------------------ */

static struct instr_event *iring_at(const struct instr_ring *r, size_t i) {
    return &r->v[(r->head + i) % r->cap];
}

/* Room for one more in r, as ring_room. */
static int iring_room(struct instr_ring *r, size_t limit) {
    if (r->len < r->cap) return 0;
    size_t cap = r->cap ? r->cap * 2 : 64;
    if (cap > limit) cap = limit > r->len ? limit : r->len + 1;
    struct instr_event *v = malloc(cap * sizeof *v);
    if (!v) return -ENOMEM;
    for (size_t i = 0; i < r->len; i++) v[i] = *iring_at(r, i);
    free(r->v);
    r->v = v;
    r->cap = cap;
    r->head = 0;
    return 0;
}

static void iring_pop(struct instr_ring *r) {
    r->head = (r->head + 1) % r->cap;
    r->len--;
}

/* Logs the dropped changes not logged yet, at most once a second (force: now, if any). */
static void log_instrument_drops(struct redis_sink *s, bool force) {
    uint64_t now = uv_now(s->loop);
    if (!s->idrops_unlogged || (!force && s->last_idrop_log_ms && now - s->last_idrop_log_ms < 1000)) return;
    log_warn(COMPONENT, "instrument changes dropped, the oldest first",
             "dropped=%" PRIu64 " first=%s last=%s instruments_dropped=%" PRIu64 " max_instrument_events=%" PRIu64,
             s->idrops_unlogged, s->idrop_first, s->idrop_last, s->stats.instruments_dropped,
             s->cfg.max_instrument_events);
    s->last_idrop_log_ms = now;
    s->idrops_unlogged = 0;
}

static void instrument_dropped(struct redis_sink *s, const struct instr_event *ev) {
    s->stats.instruments_dropped++;
    char *name = s->idrops_unlogged++ ? s->idrop_last : s->idrop_first;
    snprintf(name, sizeof s->idrop_last, "%s:%s", ev->venue, ev->in.symbol); /* both checked at put: they fit */
    if (name == s->idrop_first) memcpy(s->idrop_last, name, sizeof s->idrop_last);
    log_instrument_drops(s, false);
}

/* A kept change goes back to the front of the waiting ones; with those at the bound, it is the oldest: dropped. */
static void instrument_requeue(struct redis_sink *s, const struct instr_event *ev) {
    if (s->iq.len >= s->cfg.max_instrument_events || iring_room(&s->iq, s->cfg.max_instrument_events) < 0) {
        instrument_dropped(s, ev);
        return;
    }
    s->iq.head = (s->iq.head + s->iq.cap - 1) % s->iq.cap;
    s->iq.len++;
    *iring_at(&s->iq, 0) = *ev;
}

static void log_instrument_error(struct redis_sink *s, const struct instr_event *ev, const char *error,
                                 size_t error_len) {
    uint64_t now = uv_now(s->loop);
    s->instr_errors_unlogged++;
    if (s->last_instr_error_log_ms && now - s->last_instr_error_log_ms < 1000) return;
    log_warn(COMPONENT, "instrument write failed", "venue=%s symbol=%s change=%s error=%.*s failed=%" PRIu64,
             ev->venue, ev->in.symbol, instrument_change_name(ev->change), (int)error_len, error,
             s->instr_errors_unlogged);
    s->last_instr_error_log_ms = now;
    s->instr_errors_unlogged = 0;
}

/* Every answer of the batch is in: kept, its changes (but the failed) wait again in front, in their order; else it
 * is done. */
static void instruments_batch_done(struct redis_sink *s) {
    size_t n = s->ib_len;
    s->ib_len = 0;
    if (s->ib_kept) {
        for (size_t i = n; i-- > 0;)
            if (!s->ib_failed[i]) instrument_requeue(s, &s->ib[i]);
    } else {
        for (size_t i = 0; i < n; i++) s->stats.instruments += !s->ib_failed[i];
    }
    s->ib_kept = false;
}

static void instrument_failed(struct redis_sink *s, const struct instr_event *ev, const char *error, size_t len) {
    size_t i = (size_t)(ev - s->ib);
    if (!s->ib_failed[i]) s->stats.errors++; /* a change counts once, whichever of its commands failed */
    s->ib_failed[i] = 1;
    log_instrument_error(s, ev, error, len);
}

/* One answer of the batch in flight (privdata: its change). An integer is an HSET done; an error fails the change,
 * unless it is transient; no answer (the connection was lost) or a transient one keeps the batch. */
static void on_instrument_reply(redisAsyncContext *ac, void *r, void *privdata) {
    struct redis_sink *s = ac->data;
    redisReply *reply = r;
    note_reply(s);
    s->ib_owed--;
    bool is_error = reply && reply->type == REDIS_REPLY_ERROR;
    enum transient transient = is_error ? transient_of(reply->str, (size_t)reply->len) : NOT_TRANSIENT;
    if (!reply || transient != NOT_TRANSIENT) s->ib_kept = true;
    else if (reply->type != REDIS_REPLY_INTEGER)
        instrument_failed(s, privdata, is_error ? reply->str : "unexpected reply",
                          is_error ? (size_t)reply->len : strlen("unexpected reply"));
    else writes_landed(s);
    if (!s->ib_owed) instruments_batch_done(s);
    if (transient != NOT_TRANSIENT && s->state == CONN_READY && !s->paused)
        back_off_writes(s, transient, reply->str, (size_t)reply->len);
    else flusher_kick(s);
    maybe_finish_close(s);
}

/* Queues one command of ev's; -1 when hiredis refused it. */
static int send_instrument_command(struct redis_sink *s, struct instr_event *ev, const char *end) {
    if (redisAsyncFormattedCommand(s->ac, on_instrument_reply, ev, s->wire, (size_t)(end - s->wire)) != REDIS_OK)
        return -1;
    s->ib_owed++;
    if (s->outstanding++ == 0) s->last_progress_ms = uv_now(s->loop);
    return 0;
}

/* The quote hash's status, where the hash exists: an instrument that never quoted gets no hash of one field (the
 * first load lists a venue's thousands; readers of quote:* would see rows without prices). */
#define STATUS_IF_QUOTED "if redis.call('EXISTS',KEYS[1])==1 then return redis.call('HSET',KEYS[1],'status',ARGV[1]) end return 0"

/* HSET <prefix>:instruments:<venue> <symbol> <instrument_json>; and for a listing, a status change or a delisting,
 * the `status` field of <prefix>:quote:<venue>:<symbol> (trading|halted|delisted), that field alone, where the
 * quote hash exists. Returns 0, or -1 when hiredis refused a command. */
static int send_instrument(struct redis_sink *s, struct instr_event *ev) {
    char json[INSTRUMENT_JSON_MAX];
    int n = instrument_json(&ev->in, ev->venue, json, sizeof json);
    if (n < 0) { /* put checked it: not reached */
        instrument_failed(s, ev, "no JSON", strlen("no JSON"));
        return 0;
    }
    char *p = PUT_LIT(s->wire, "*4\r\n$4\r\nHSET\r\n");
    p = put_key(p, s, "instruments", 11, NULL, ev->venue);
    p = PUT_BULK_FIELD(p, ev->in.symbol);
    p = put_bulk(p, json, (size_t)n);
    if (send_instrument_command(s, ev, p) < 0) return -1;
    if (ev->change == INSTRUMENT_CHANGE_UPDATED) return 0;
    const char *status = instrument_status_name(ev->in.status);
    p = PUT_LIT(s->wire, "*5\r\n$4\r\nEVAL\r\n");
    p = put_bulk(p, STATUS_IF_QUOTED, strlen(STATUS_IF_QUOTED));
    p = PUT_LIT(p, "$1\r\n1\r\n");
    p = put_key(p, s, "quote", 5, ev->venue, ev->in.symbol);
    p = put_bulk(p, status, strlen(status));
    return send_instrument_command(s, ev, p);
}

/* Sends the oldest waiting changes, up to INSTR_BATCH_MAX, as the batch in flight. Returns 1 (sent), 0 (nothing
 * sent: out of memory for the batch, the changes wait) or -1 when hiredis refused a command (the connection is
 * dropped; the batch waits again). */
static int send_instruments(struct redis_sink *s) {
    if (!s->ib) {
        s->ib = malloc(INSTR_BATCH_MAX * sizeof *s->ib);
        s->ib_failed = malloc(INSTR_BATCH_MAX);
        if (!s->ib || !s->ib_failed) {
            free(s->ib);
            free(s->ib_failed);
            s->ib = NULL;
            s->ib_failed = NULL;
            return 0;
        }
    }
    size_t n = 0;
    for (; n < INSTR_BATCH_MAX && s->iq.len; n++) {
        s->ib[n] = *iring_at(&s->iq, 0);
        iring_pop(&s->iq);
    }
    if (!s->iq.len && s->iq.cap > 4096) { /* an outage's backlog is sent: its memory goes back */
        free(s->iq.v);
        s->iq.v = NULL;
        s->iq.cap = s->iq.head = 0;
    }
    memset(s->ib_failed, 0, n);
    s->ib_len = n;
    s->ib_owed = 0;
    s->ib_kept = false;
    for (size_t i = 0; i < n; i++) {
        if (send_instrument(s, &s->ib[i]) == 0) continue;
        /* This change and the ones after it are not (all) queued: the batch waits again, once the queued ones
         * have their answers (the drop below gives them, lost), or at once when none was queued. */
        s->ib_kept = true;
        drop_connection(s, "command refused by hiredis"); /* frees ac */
        if (s->ib_len && !s->ib_owed) instruments_batch_done(s);
        return -1;
    }
    if (!s->ib_owed) instruments_batch_done(s); /* none had JSON: not reached */
    return 1;
}

/* Once per loop turn while something is queued: everything queued goes out as one pipeline of batches (hiredis
 * buffers the commands and writes them when the socket is writable, in this turn's poll phase), then a batch of
 * the waiting instrument changes, then the waiting trades, up to TRADE_INFLIGHT_MAX in flight. */
static void on_flush(uv_idle_t *h) {
    struct redis_sink *s = h->data;
    uv_idle_stop(h);
    redisAsyncContext *ac = s->ac;
    if (!ac) return;
    redis_uv_batch_begin(ac);
    int rc = 0;
    unsigned sent = 0;
    while (s->queue_head && s->state == CONN_READY && !s->script_loading && !s->paused && (rc = send_batch(s)) > 0)
        sent++;
    while (rc >= 0 && s->book_head && s->state == CONN_READY && !s->script_loading && !s->paused &&
           (rc = send_book_batch(s)) > 0)
        sent++;
    while (rc >= 0 && instruments_sendable(s) && s->state == CONN_READY && !s->script_loading && !s->paused &&
           (rc = send_instruments(s)) > 0)
        sent++;
    while (rc >= 0 && trades_sendable(s) && s->state == CONN_READY && !s->script_loading && !s->paused &&
           (rc = send_trade(s)) > 0)
        sent++;
    if (sent) s->stats.batches++;
    /* Last: a refused command disconnects, which runs the reply callbacks and frees ac inside send_batch. */
    if (rc >= 0) redis_uv_batch_end(ac);
}

/* ---- connection ------------------------------------------------------------------------------------- */

static void on_retry(uv_timer_t *h) {
    connect_now(h->data);
}

static void schedule_retry(struct redis_sink *s) {
    if (s->finished) return;
    uv_timer_start(&s->retry_timer, on_retry, backoff_next(&s->backoff), 0);
}

/* The context is gone (freed by hiredis or by us): forget it and try again later. */
static void connection_lost(struct redis_sink *s, const char *why) {
    s->ac = NULL;
    s->state = CONN_DOWN;
    s->script_loading = false;
    s->paused = false; /* retry_timer is the reconnect's now */
    /* One warning per outage; the retries that follow are debug lines, summed up when ready again. */
    if (s->failed_attempts++ == 0 && !s->closing)
        log_warn(COMPONENT, "connection lost", "host=%s port=%d cause=%s pending=%" PRIu64, s->host, s->port,
                 why, s->ndirty + s->ninflight);
    else
        log_debug(COMPONENT, "connect failed", "host=%s port=%d cause=%s", s->host, s->port, why);
    schedule_retry(s);
    maybe_finish_close(s);
}

static void drop_connection(struct redis_sink *s, const char *why) {
    redisAsyncContext *ac = s->ac;
    if (!ac) return;
    s->ac = NULL; /* callbacks run by the free below see a context that is no longer ours */
    redisAsyncFree(ac);
    connection_lost(s, why);
}

static void on_connect(const redisAsyncContext *ac, int status) {
    struct redis_sink *s = ac->data;
    if (status != REDIS_OK && s->ac == ac) connection_lost(s, ac->errstr); /* hiredis frees ac */
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    struct redis_sink *s = ac->data;
    if (s->ac == ac) connection_lost(s, status == REDIS_OK ? "closed" : ac->errstr);
}

static void on_handshake_reply(redisAsyncContext *ac, void *r, void *privdata) {
    struct redis_sink *s = ac->data;
    redisReply *reply = r;
    const char *step = privdata;
    note_reply(s);
    if (s->ac != ac || !reply) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (s->failed_attempts == 0) log_error(COMPONENT, "handshake failed", "step=%s error=%s", step, reply->str);
        else log_debug(COMPONENT, "handshake failed", "step=%s error=%s", step, reply->str);
        drop_connection(s, step);
    }
}

static void on_script_loaded(redisAsyncContext *ac, void *r, void *privdata) {
    struct redis_sink *s = ac->data;
    redisReply *reply = r;
    (void)privdata;
    note_reply(s);
    if (s->ac != ac) return;
    s->script_loading = false;
    if (!reply || reply->type != REDIS_REPLY_STRING || reply->len >= (int)sizeof s->sha) {
        log_error(COMPONENT, "handshake failed", "step=script_load error=%s",
                  reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        drop_connection(s, "script_load");
        return;
    }
    memcpy(s->sha, reply->str, (size_t)reply->len + 1);
    s->sha_len = (size_t)reply->len;
    if (s->state == CONN_HANDSHAKE) {
        s->state = CONN_READY;
        if (!s->refusing) backoff_reset(&s->backoff); /* a replica accepts the connect, not the writes */
        if (s->was_ready) {
            /* Redis may have restarted empty: write every instrument's latest again (the compare makes
             * this a no-op where it did not). */
            s->stats.reconnects++;
            mark_all_dirty(s);
        }
        s->was_ready = true;
        log_info(COMPONENT, "ready", "host=%s port=%d db=%d attempts=%" PRIu64 " pending=%" PRIu64, s->host,
                 s->port, s->db, s->failed_attempts + 1, s->ndirty + s->ninflight);
        s->failed_attempts = 0;
    }
    flusher_kick(s);
}

/* Sends SCRIPT LOAD (once at a time); writes wait meanwhile (the flusher is gated on script_loading). */
static void load_script(struct redis_sink *s) {
    if (s->script_loading) return;
    const char *argv[] = {"SCRIPT", "LOAD", CAS_SCRIPT};
    if (redisAsyncCommandArgv(s->ac, on_script_loaded, NULL, 3, argv, NULL) != REDIS_OK) return;
    s->script_loading = true;
    if (s->outstanding++ == 0) s->last_progress_ms = uv_now(s->loop);
}

static int send_handshake(struct redis_sink *s) {
    if (s->password[0]) {
        const char *argv[] = {"AUTH", s->password};
        if (redisAsyncCommandArgv(s->ac, on_handshake_reply, "auth", 2, argv, NULL) != REDIS_OK) return -1;
        s->outstanding++;
    }
    if (s->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", s->db);
        const char *argv[] = {"SELECT", db};
        if (redisAsyncCommandArgv(s->ac, on_handshake_reply, "select", 2, argv, NULL) != REDIS_OK) return -1;
        s->outstanding++;
    }
    load_script(s);
    return s->script_loading ? 0 : -1;
}

static void connect_now(struct redis_sink *s) {
    if (s->ac || s->finished) return;
    redisAsyncContext *ac = redisAsyncConnect(s->host, s->port);
    if (!ac) {
        schedule_retry(s);
        return;
    }
    if (ac->err || redis_uv_attach(ac, s->loop) != REDIS_OK) {
        connection_lost(s, ac->err ? ac->errstr : "attach");
        redisAsyncFree(ac);
        return;
    }
    ac->data = s;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    s->ac = ac;
    s->state = CONN_HANDSHAKE;
    s->conn_started_ms = uv_now(s->loop);
    if (send_handshake(s) < 0) drop_connection(s, "handshake not queued");
}

static void send_ping(struct redis_sink *s) {
    const char *argv[] = {"PING"};
    if (redisAsyncCommandArgv(s->ac, on_handshake_reply, "ping", 1, argv, NULL) != REDIS_OK) return;
    s->outstanding++;
    s->last_progress_ms = uv_now(s->loop);
}

/* hiredis 0.14 has no timeouts of its own: this timer is them. */
static void on_watchdog(uv_timer_t *h) {
    struct redis_sink *s = h->data;
    uint64_t now = uv_now(s->loop);
    if (s->state == CONN_HANDSHAKE && now - s->conn_started_ms > s->cfg.connect_timeout_ms)
        drop_connection(s, "connect timeout");
    else if (s->ac && s->outstanding && now - s->last_progress_ms > s->cfg.reply_timeout_ms)
        drop_connection(s, "reply timeout");
    else if (s->state == CONN_READY && !s->outstanding && now - s->last_progress_ms > s->cfg.reply_timeout_ms)
        send_ping(s); /* idle: a PING, so a half-open connection is noticed before the next write needs it */
    log_trade_drops(s, false); /* drops that came within a second of the last line */
    log_instrument_drops(s, false);
    maybe_finish_close(s);
}

/* ---- public ------------------------------------------------------------------------------------------ */

static int parse_url(struct redis_sink *s, const struct redis_sink_config *cfg) {
    struct config_url u;
    if (!cfg->url || config_url_parse(cfg->url, &u) < 0 || strcmp(u.scheme, "redis") != 0) return -EINVAL;
    snprintf(s->host, sizeof s->host, "%s", u.host);
    s->port = u.port ? u.port : 6379;
    if (u.path[0] && strcmp(u.path, "/") != 0) {
        char *end;
        long db = strtol(u.path + 1, &end, 10);
        if (*end || db < 0 || db > 1000000) return -EINVAL;
        s->db = (int)db;
    }
    const char *pw = cfg->password && cfg->password[0] ? cfg->password : (u.has_password ? u.password : "");
    snprintf(s->password, sizeof s->password, "%s", pw);
    return 0;
}

static uint64_t or_default(uint64_t v, uint64_t d) {
    return v ? v : d;
}

int redis_sink_new(uv_loop_t *loop, const struct redis_sink_config *cfg, struct redis_sink **out) {
    int rc = -ENOMEM;
    struct redis_sink *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->loop = loop;
    s->cfg = *cfg;
    s->cfg.url = s->cfg.password = s->cfg.prefix = NULL; /* not kept: copied below */
    s->cfg.connect_timeout_ms = or_default(cfg->connect_timeout_ms, 2000);
    s->cfg.reply_timeout_ms = or_default(cfg->reply_timeout_ms, 3000);
    backoff_init(&s->backoff, or_default(cfg->backoff_min_ms, 100), or_default(cfg->backoff_max_ms, 5000), 0);
    s->cfg.close_deadline_ms = or_default(cfg->close_deadline_ms, 3000);
    s->cfg.max_instruments = or_default(cfg->max_instruments, 100000);
    s->cfg.max_trades = or_default(cfg->max_trades, REDIS_SINK_MAX_TRADES);
    s->cfg.max_instrument_events = or_default(cfg->max_instrument_events, REDIS_SINK_MAX_INSTRUMENT_EVENTS);
    const char *prefix = cfg->prefix && cfg->prefix[0] ? cfg->prefix : "tickd";
    if (strlen(prefix) >= 64 || strpbrk(prefix, " \r\n\t") || parse_url(s, cfg) < 0) {
        rc = -EINVAL;
        goto fail;
    }
    s->prefix_len = (size_t)snprintf(s->prefix, sizeof s->prefix, "%s", prefix); /* < 64, checked above */
    s->history_len = (size_t)(fmt_u64(s->history, cfg->history) - s->history);
    s->trade_history_len = (size_t)(fmt_u64(s->trade_history, cfg->trade_history) - s->trade_history);
    if (instr_map_init(&s->entries, 64) < 0) goto fail;
    if (instr_map_init(&s->books, 64) < 0) {
        instr_map_destroy(&s->entries);
        goto fail;
    }

    uv_idle_init(loop, &s->flusher);
    uv_timer_init(loop, &s->retry_timer);
    uv_timer_init(loop, &s->watchdog);
    s->flusher.data = s->retry_timer.data = s->watchdog.data = s;
    s->open_handles = 3;
    uint64_t tick_ms = s->cfg.reply_timeout_ms < s->cfg.connect_timeout_ms ? s->cfg.reply_timeout_ms
                                                                             : s->cfg.connect_timeout_ms;
    uv_timer_start(&s->watchdog, on_watchdog, tick_ms / 4 + 1, tick_ms / 4 + 1);
    connect_now(s);
    *out = s;
    return 0;
fail:
    free(s);
    return rc;
}

/* A refusal's log line, at most one a second (the others are counted in its suppressed=). */
static void log_rejection(struct redis_sink *s, const char *what, const char *why, const char *venue,
                          const char *symbol) {
    uint64_t now = uv_now(s->loop);
    if (now - s->last_refusal_log_ms < 1000 && s->last_refusal_log_ms) {
        s->refusals_unlogged++;
        return;
    }
    /* venue/symbol may be hostile: the logger quotes values, and %.*s keeps an unterminated one bounded */
    log_warn(COMPONENT, what, "cause=%s venue=%.*s symbol=%.*s suppressed=%" PRIu64, why, TICK_VENUE_MAX, venue,
             TICK_SYMBOL_MAX, symbol, s->refusals_unlogged);
    s->last_refusal_log_ms = now;
    s->refusals_unlogged = 0;
}

static void log_refused(struct redis_sink *s, const char *what, const char *why, const char *venue,
                        const char *symbol) {
    s->stats.refused++;
    log_rejection(s, what, why, venue, symbol);
}

static void log_refusal(struct redis_sink *s, const char *why, const char *venue, const char *symbol) {
    log_refused(s, "tick refused", why, venue, symbol);
}

/* The record of (venue, symbol), made on first use; NULL when max_instruments are held. */
static struct entry *entry_for(struct redis_sink *s, const char *venue, const char *symbol) {
    struct entry *e = (struct entry *)instr_map_find(&s->entries, venue, symbol);
    if (e) return e;
    if (s->entries.count >= s->cfg.max_instruments || !(e = calloc(1, sizeof *e))) return NULL;
    if (venue[0]) tick_packed_init(&e->v.quote.tick);
    instr_map_insert(&s->entries, &e->node, venue, symbol);
    return e;
}

/* The merge's order: epoch, position, time, rank (merge_key_format's text compares the same way). */
static bool key_greater(const struct merge_key *a, const struct merge_key *b) {
    if (a->epoch != b->epoch) return a->epoch > b->epoch;
    if (a->pos != b->pos) return a->pos > b->pos;
    if (a->time_us != b->time_us) return a->time_us > b->time_us;
    return a->rank > b->rank;
}

/* The record for a quote put by name. trusted: merge_apply accepted t, so its fields are NUL-terminated, its
 * origin valid and its decimals valid (decimal.h). What remains are the venue and symbol characters, and a
 * quote record exists only for a pair that passed them when it was made: then there is nothing left to check. */
static int quote_entry(struct redis_sink *s, const struct tick *t, bool trusted, struct entry **out) {
    const char *why = trusted ? NULL : sink_tick_invalid(t);
    struct entry *e = why ? NULL : (struct entry *)instr_map_find(&s->entries, t->venue, t->symbol);
    if (trusted && (!e || !e->node.venue[0])) why = sink_instrument_invalid(t);
    if (why) {
        log_refusal(s, why, t->venue, t->symbol);
        return -EINVAL;
    }
    if (!e && !(e = entry_for(s, t->venue, t->symbol))) {
        log_refusal(s, "too many instruments", t->venue, t->symbol);
        return -ENOSPC;
    }
    *out = e;
    return 0;
}

static int quote_store(struct redis_sink *s, struct entry *e, const struct tick *t, const struct merge_key *key) {
    if (e->v.quote.has_key && !key_greater(key, &e->v.quote.key)) {
        s->stats.cas_rejected++;
        return 0;
    }
    if (tick_pack(&e->v.quote.tick, t) < 0) {
        log_refusal(s, "out of memory", t->venue, t->symbol);
        return -ENOMEM;
    }
    e->v.quote.key = *key;
    e->v.quote.has_key = true;
    entry_mark_dirty(s, e);
    return 0;
}

int redis_sink_put(struct redis_sink *s, const struct tick *t, const struct merge_key *key) {
    struct entry *e;
    int rc = quote_entry(s, t, false, &e);
    return rc < 0 ? rc : quote_store(s, e, t, key);
}

int redis_sink_put_accepted(struct redis_sink *s, uint32_t quote_id, const struct tick *t,
                            const struct merge_key *key) {
    struct entry *e = id_index_get(&s->quote_ids, quote_id);
    if (!e) {
        int rc = quote_entry(s, t, true, &e);
        if (rc < 0) return rc;
        (void)id_index_set(&s->quote_ids, quote_id, e); /* failing, it only costs the next put a lookup */
        e->v.quote.has_id = true;
        e->v.quote.quote_id = quote_id;
    }
    return quote_store(s, e, t, key);
}

static bool bbo_side_ok(const struct merge_bbo_side *side) {
    return sink_decimal_ok(side->price, sizeof side->price) && sink_decimal_ok(side->qty, sizeof side->qty) &&
           (!side->venue[0] || sink_venue_ok(side->venue, sizeof side->venue));
}

/* Checks b and, when *e is NULL, finds or makes its record by name into *e. */
static int bbo_entry(struct redis_sink *s, const struct merge_bbo *b, struct entry **e) {
    if (!sink_symbol_ok(b->symbol, sizeof b->symbol) || !bbo_side_ok(&b->bid) || !bbo_side_ok(&b->ask)) {
        log_refusal(s, "bad bbo", "", b->symbol);
        return -EINVAL;
    }
    if (!*e && !(*e = entry_for(s, "", b->symbol))) {
        log_refusal(s, "too many instruments", "", b->symbol);
        return -ENOSPC;
    }
    return 0;
}

static int bbo_store(struct redis_sink *s, struct entry *e, const struct merge_bbo *b, int64_t updated_us) {
    if (e->is_bbo && updated_us < e->v.bbo.updated_us) {
        s->stats.cas_rejected++;
        return 0;
    }
    if (!e->v.bbo.bbo && !(e->v.bbo.bbo = malloc(sizeof *e->v.bbo.bbo))) {
        log_refusal(s, "out of memory", "", b->symbol);
        return -ENOMEM;
    }
    e->is_bbo = true;
    *e->v.bbo.bbo = *b;
    e->v.bbo.updated_us = updated_us;
    entry_mark_dirty(s, e);
    return 0;
}

int redis_sink_put_bbo(struct redis_sink *s, const struct merge_bbo *b, int64_t updated_us) {
    struct entry *e = NULL;
    int rc = bbo_entry(s, b, &e);
    return rc < 0 ? rc : bbo_store(s, e, b, updated_us);
}

int redis_sink_put_bbo_id(struct redis_sink *s, uint32_t bbo_id, const struct merge_bbo *b, int64_t updated_us) {
    struct entry *e = id_index_get(&s->bbo_ids, bbo_id);
    bool known = e != NULL;
    int rc = bbo_entry(s, b, &e);
    if (rc < 0) return rc;
    if (!known) (void)id_index_set(&s->bbo_ids, bbo_id, e); /* failing, it only costs the next put a lookup */
    return bbo_store(s, e, b, updated_us);
}

int redis_sink_put_trade(struct redis_sink *s, const struct trade *t) {
    if (!s->cfg.trade_history) return 0;
    const char *why = sink_trade_invalid(t);
    if (why) {
        log_refused(s, "trade refused", why, t->venue, t->symbol);
        return -EINVAL;
    }
    if (s->tq.len >= s->cfg.max_trades) { /* the bound: the oldest waiting one goes */
        trade_dropped(s, ring_at(&s->tq, 0));
        ring_pop(&s->tq);
    }
    if (ring_room(&s->tq, s->cfg.max_trades) < 0) {
        log_refused(s, "trade refused", "out of memory", t->venue, t->symbol);
        return -ENOMEM;
    }
    *ring_at(&s->tq, s->tq.len++) = *t;
    flusher_kick(s);
    return 0;
}

int redis_sink_put_instrument(struct redis_sink *s, const char *venue, const struct instrument *in,
                              enum instrument_change change) {
    const char *why = sink_instrument_change_invalid(venue, in, (int)change);
    char json[INSTRUMENT_JSON_MAX];
    if (!why && instrument_json(in, venue, json, sizeof json) < 0) why = "bad instrument";
    if (why) {
        log_refused(s, "instrument change refused", why, venue ? venue : "", in ? in->symbol : "");
        return -EINVAL;
    }
    if (s->iq.len >= s->cfg.max_instrument_events) { /* the bound: the oldest waiting one goes */
        instrument_dropped(s, iring_at(&s->iq, 0));
        iring_pop(&s->iq);
    }
    if (iring_room(&s->iq, s->cfg.max_instrument_events) < 0) {
        log_refused(s, "instrument change refused", "out of memory", venue, in->symbol);
        return -ENOMEM;
    }
    struct instr_event *ev = iring_at(&s->iq, s->iq.len++);
    ev->in = *in;
    memcpy(ev->venue, venue, strlen(venue) + 1); /* terminated within TICK_VENUE_MAX: checked above */
    ev->change = (uint8_t)change;
    flusher_kick(s);
    return 0;
}

/* "$<len>\r\n<side's levels as JSON>\r\n": the array is written BULK_HEAD_MAX bytes on, then moved behind its
 * length (a few hundred bytes: less than measuring the texts twice). */
static char *put_bulk_levels(char *p, const struct book_levels *side, unsigned depth) {
    char *json = p + BULK_HEAD_MAX, *end = sink_put_book_levels(json, side, depth);
    size_t n = (size_t)(end - json);
    char head[BULK_HEAD_MAX], *h = head;
    *h++ = '$';
    h = sink_put_mem(fmt_u64(h, n), "\r\n", 2);
    size_t head_len = (size_t)(h - head);
    memmove(p + head_len, json, n);
    memcpy(p, head, head_len);
    return sink_put_mem(p + head_len + n, "\r\n", 2);
}

/* The record's script arguments for v, into its buffer (grown to fit, else -ENOMEM with the record unchanged). */
static int book_serialize(struct entry *e, const struct book_view *v) {
    const struct book *b = v->book;
    uint32_t nb = b->side[BOOK_BID].n < v->depth ? b->side[BOOK_BID].n : v->depth;
    uint32_t na = b->side[BOOK_ASK].n < v->depth ? b->side[BOOK_ASK].n : v->depth;
    size_t need = BOOK_ARGS_MAX(nb + na);
    if (need > e->v.book.cap) {
        size_t cap = e->v.book.cap ? e->v.book.cap : 1024;
        while (cap < need) cap *= 2;
        char *args = realloc(e->v.book.args, cap);
        if (!args) return -ENOMEM;
        e->v.book.args = args;
        e->v.book.cap = cap;
    }
    char *p = e->v.book.args;
    p = put_bulk(p, "k", 1);
    p = put_bulk_u64(p, v->seq);
    p = put_bulk_u64(p, v->resyncs);
    p = put_bulk_levels(p, &b->side[BOOK_BID], v->depth);
    p = put_bulk_levels(p, &b->side[BOOK_ASK], v->depth);
    p = put_bulk_time(p, v->event_us);
    p = put_bulk_time(p, v->recv_us);
    const char *state = book_state_name(v->state);
    p = put_bulk(p, state, strlen(state));
    e->v.book.len = (size_t)(p - e->v.book.args);
    return 0;
}

int redis_sink_put_book(struct redis_sink *s, const struct book_view *v) {
    const char *why = sink_book_invalid(v);
    if (why) {
        log_refused(s, "book refused", why, v->venue ? v->venue : "", v->symbol ? v->symbol : "");
        return -EINVAL;
    }
    struct entry *e = (struct entry *)instr_map_find(&s->books, v->venue, v->symbol);
    if (!e) {
        bool full = s->books.count >= s->cfg.max_instruments;
        if (full || !(e = calloc(1, sizeof *e))) {
            log_refused(s, "book refused", full ? "too many instruments" : "out of memory", v->venue, v->symbol);
            return full ? -ENOSPC : -ENOMEM;
        }
        e->is_book = true;
        instr_map_insert(&s->books, &e->node, v->venue, v->symbol);
    }
    /* Never backwards within one sync; a resync or a new connection may have restarted the venue's sequence. */
    if (e->v.book.has && v->run == e->v.book.run && v->resyncs == e->v.book.resyncs && v->seq < e->v.book.seq) {
        s->stats.books_stale++;
        log_rejection(s, "book refused", "older than the book held", v->venue, v->symbol);
        return -ESTALE;
    }
    if (book_serialize(e, v) < 0) {
        log_refused(s, "book refused", "out of memory", v->venue, v->symbol);
        return -ENOMEM;
    }
    if (e->v.book.has && v->run != e->v.book.run) e->v.book.force = true;
    e->v.book.seq = v->seq;
    e->v.book.resyncs = v->resyncs;
    e->v.book.run = v->run;
    e->v.book.event_us = v->event_us;
    e->v.book.recv_us = v->recv_us;
    e->v.book.has = true;
    entry_mark_dirty(s, e);
    return 0;
}

void redis_sink_take_lag(struct redis_sink *s, struct lat_hist *recv_lag, struct lat_hist *event_lag) {
    *recv_lag = s->lag;
    *event_lag = s->event_lag;
    lat_hist_reset(&s->lag);
    lat_hist_reset(&s->event_lag);
}

void redis_sink_stats(const struct redis_sink *s, struct redis_sink_stats *out) {
    *out = s->stats;
    out->pending = s->ndirty + s->ninflight;
    out->trades_pending = s->tq.len + s->tf.len;
    out->books_pending = s->nbooks_dirty + s->nbooks_inflight;
    out->instruments_pending = s->iq.len + s->ib_len;
    out->ready = s->state == CONN_READY;
}

/* ---- close --------------------------------------------------------------------------------------------- */

static void free_entries(struct redis_sink *s) {
    size_t cursor = 0;
    struct instr_node *n, *next = NULL;
    while ((n = instr_map_next(&s->entries, &cursor, &next))) {
        struct entry *e = (struct entry *)n;
        if (e->node.venue[0]) tick_packed_free(&e->v.quote.tick);
        else free(e->v.bbo.bbo);
        free(e);
    }
    instr_map_destroy(&s->entries);
    cursor = 0;
    next = NULL;
    while ((n = instr_map_next(&s->books, &cursor, &next))) {
        free(((struct entry *)n)->v.book.args);
        free(n);
    }
    instr_map_destroy(&s->books);
    free(s->book_wire);
    free(s->tq.v);
    free(s->tf.v);
    free(s->tf_state);
    free(s->iq.v);
    free(s->ib);
    free(s->ib_failed);
    id_index_free(&s->quote_ids);
    id_index_free(&s->bbo_ids);
}

static void on_handle_closed(uv_handle_t *h) {
    struct redis_sink *s = h->data;
    if (--s->open_handles) return;
    void (*cb)(void *) = s->close_cb;
    void *arg = s->close_arg;
    free_entries(s);
    free(s);
    if (cb) cb(arg);
}

static void maybe_finish_close(struct redis_sink *s) {
    if (!s->closing || s->finished) return;
    bool drained = s->ndirty == 0 && s->ninflight == 0 && s->tq.len == 0 && s->tf.len == 0 && s->iq.len == 0 &&
                   s->ib_len == 0;
    if (!drained && uv_now(s->loop) < s->close_deadline) return;
    s->finished = true;
    log_trade_drops(s, true);
    log_instrument_drops(s, true);
    if (!drained)
        log_warn(COMPONENT, "closing with unwritten ticks",
                 "pending=%" PRIu64 " trades_pending=%zu instruments_pending=%zu", s->ndirty + s->ninflight,
                 s->tq.len + s->tf.len, s->iq.len + s->ib_len);
    redisAsyncContext *ac = s->ac;
    s->ac = NULL;
    s->state = CONN_DOWN;
    if (ac) redisAsyncFree(ac); /* deferred by hiredis when we are inside one of its callbacks */
    uv_close((uv_handle_t *)&s->flusher, on_handle_closed);
    uv_close((uv_handle_t *)&s->retry_timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->watchdog, on_handle_closed);
}

void redis_sink_close(struct redis_sink *s, void (*cb)(void *arg), void *arg) {
    s->closing = true;
    s->close_cb = cb;
    s->close_arg = arg;
    s->close_deadline = uv_now(s->loop) + s->cfg.close_deadline_ms;
    maybe_finish_close(s);
}

/* ---- the sink_table row (sink.h) ---------------------------------------------------------------------- */

static int ops_open(uv_loop_t *loop, const struct tickd_config *c, const struct sink_hooks *hooks, void **state) {
    struct redis_sink_config rc = {.url = c->redis.url, .password = c->redis.password,
                                   .prefix = c->redis.key_prefix, .history = c->redis.history,
                                   .trade_history = c->redis.trade_history,
                                   .on_cas_rejected = hooks->on_cas_rejected, .cas_arg = hooks->arg};
    struct redis_sink *s;
    int err = redis_sink_new(loop, &rc, &s);
    if (err < 0) {
        log_error("daemon", "cannot start the Redis sink", "error=%s", strerror(-err));
        return err;
    }
    *state = s;
    return 0;
}

static int ops_put_quote(void *state, uint32_t quote_id, const struct tick *t, const struct merge_key *key) {
    return redis_sink_put_accepted(state, quote_id, t, key);
}

static int ops_put_trade(void *state, const struct trade *t) {
    return redis_sink_put_trade(state, t);
}

static int ops_put_book(void *state, const struct book_view *v) {
    return redis_sink_put_book(state, v);
}

static int ops_put_instrument(void *state, const char *venue, const struct instrument *in,
                              enum instrument_change change) {
    return redis_sink_put_instrument(state, venue, in, change);
}

static int ops_put_bbo(void *state, uint32_t bbo_id, const struct merge_bbo *b, int64_t updated_us) {
    return redis_sink_put_bbo_id(state, bbo_id, b, updated_us);
}

static bool ops_ready(void *state) {
    return ((struct redis_sink *)state)->state == CONN_READY;
}

static void ops_stats_log(void *state, double secs) {
    struct redis_sink *s = state;
    struct redis_sink_stats rs;
    redis_sink_stats(s, &rs);
    struct lat_hist lag, event_lag;
    redis_sink_take_lag(s, &lag, &event_lag);
    log_info("stats", "redis", "ready=%s writes=%llu writes_per_s=%.0f batches=%llu commands=%llu cas_rejected=%llu "
             "pending=%llu reconnects=%llu errors=%llu refused=%llu trades=%llu trades_per_s=%.0f "
             "trades_dropped=%llu trades_pending=%llu books=%llu books_per_s=%.0f books_pending=%llu "
             "books_stale=%llu instruments=%llu instruments_pending=%llu instruments_dropped=%llu "
             "lag_p50_us=%llu lag_p99_us=%llu "
             "lag_p999_us=%llu lag_max_us=%llu event_lag_p50_us=%llu event_lag_p99_us=%llu event_lag_p999_us=%llu "
             "event_lag_max_us=%llu",
             rs.ready ? "yes" : "no", (unsigned long long)rs.writes,
             sink_per_second(rs.writes, &s->writes_at_last_stats, secs), (unsigned long long)rs.batches,
             (unsigned long long)rs.commands, (unsigned long long)rs.cas_rejected, (unsigned long long)rs.pending,
             (unsigned long long)rs.reconnects, (unsigned long long)rs.errors, (unsigned long long)rs.refused,
             (unsigned long long)rs.trades, sink_per_second(rs.trades, &s->trades_at_last_stats, secs),
             (unsigned long long)rs.trades_dropped, (unsigned long long)rs.trades_pending,
             (unsigned long long)rs.books, sink_per_second(rs.books, &s->books_at_last_stats, secs),
             (unsigned long long)rs.books_pending, (unsigned long long)rs.books_stale,
             (unsigned long long)rs.instruments, (unsigned long long)rs.instruments_pending,
             (unsigned long long)rs.instruments_dropped,
             (unsigned long long)lat_hist_quantile(&lag, 0.5), (unsigned long long)lat_hist_quantile(&lag, 0.99),
             (unsigned long long)lat_hist_quantile(&lag, 0.999), (unsigned long long)lag.max_us,
             (unsigned long long)lat_hist_quantile(&event_lag, 0.5),
             (unsigned long long)lat_hist_quantile(&event_lag, 0.99),
             (unsigned long long)lat_hist_quantile(&event_lag, 0.999), (unsigned long long)event_lag.max_us);
}

static void ops_status(void *state, struct text_buf *out) {
    struct redis_sink_stats rs = {0};
    if (state) redis_sink_stats(state, &rs);
    text_printf(out, "ready=%s writes=%llu pending=%llu reconnects=%llu commands=%llu batches=%llu trades=%llu "
                "trades_dropped=%llu trades_pending=%llu books=%llu books_pending=%llu instruments=%llu "
                "instruments_pending=%llu instruments_dropped=%llu\n",
                rs.ready ? "yes" : "no", (unsigned long long)rs.writes, (unsigned long long)rs.pending,
                (unsigned long long)rs.reconnects, (unsigned long long)rs.commands, (unsigned long long)rs.batches,
                (unsigned long long)rs.trades, (unsigned long long)rs.trades_dropped,
                (unsigned long long)rs.trades_pending, (unsigned long long)rs.books,
                (unsigned long long)rs.books_pending, (unsigned long long)rs.instruments,
                (unsigned long long)rs.instruments_pending, (unsigned long long)rs.instruments_dropped);
}

static void ops_close(void *state, void (*closed)(void *arg), void *arg) {
    redis_sink_close(state, closed, arg);
}

const struct sink_ops redis_sink_ops = {
    .name = "redis",
    .channels = SINK_CHANNEL(CONFIG_CHANNEL_BBO) | SINK_CHANNEL(CONFIG_CHANNEL_TRADES) |
                SINK_CHANNEL(CONFIG_CHANNEL_BOOK),
    .open = ops_open,
    .put_quote = ops_put_quote,
    .put_bbo = ops_put_bbo,
    .put_trade = ops_put_trade,
    .put_book = ops_put_book,
    .put_book_delta = NULL, /* book deltas are events for consumers that rebuild a book: RabbitMQ's */
    .put_instrument = ops_put_instrument,
    .ready = ops_ready,
    .stats_log = ops_stats_log,
    .status = ops_status,
    .close = ops_close,
};
