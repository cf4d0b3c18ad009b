/* merge.h -- the latest tick per (venue, symbol) and the consolidated best bid and offer per symbol.
 *
 * The rule: the newest tick wins and an older one never overwrites a newer one. Every stored quote carries an
 * ORDERING KEY, and merge_apply() accepts a tick only when its key is strictly greater than the stored one, so
 * the Redis sink can repeat the very same comparison in Lua and a replica or a replay never moves Redis back.
 *
 * The ordering key is (epoch, pos, time_us, rank), compared left to right, each as an unsigned integer:
 *   epoch    how many times the ordering of this quote's stream was RESET (below); every other tick inherits
 *            the stored quote's epoch (0 for a new quote).
 *   pos      the position in the venue's stream. A stream tick with a sequence (has_seq) has pos = seq; one
 *            without a sequence but with an event time has pos = event_us; one with neither has pos = 0.
 *            A REST tick knows no stream position: it inherits the pos of the quote it replaces (0 when new),
 *            so a REST answer can never outrank a later stream update.
 *   time_us  stream: recv_us (when tickd received the frame); REST: sent_us (when the request left; recv_us if
 *            the adapter left sent_us at 0). Negative times count as 0.
 *   rank     1 for a stream tick, 0 for a REST tick: at equal pos and time the stream tick is the newer, because
 *            a REST answer describes the market no later than the moment its request left.
 *
 * What this yields (tests/unit/test_merge.c checks each):
 *   - stream vs stream: by seq, else by event time, else by receive time; an equal seq or event time is a
 *     DUPLICATE (two connections during a make-before-break deliver the same update twice);
 *   - REST vs REST: by sent_us; equal is a DUPLICATE;
 *   - REST vs stream: a REST answer whose request left at or before a stream tick was received is STALE;
 *   - stream vs REST: a stream tick beats the REST answer it follows; one whose position is not beyond the
 *     stream position the quote already holds is STALE (it is older than what the REST answer showed).
 *
 * RESETS. A venue's sequence is not forever: it restarts with a new connection or after maintenance, and one
 * bad frame (Binance u = 10^18) would otherwise stand above every real update to come -- in the merge, and in
 * Redis across restarts. Event times are bounded where they are read (tick_event_time_bound, tick.h), so a
 * time cannot poison a key; a sequence is judged by the RUN that carried it (tick.run, one per websocket
 * connection). A positioned stream tick whose pos is below the stored quote's is
 *   - a RESET when it comes on the very run the stored quote came on: one ordered connection went back, so
 *     the later frame is the truth (the bad frame stood for one tick);
 *   - a RESET when the stored quote's run has ended, and its linger too (tick_run_alive): a reconnect,
 *     whose venue started over;
 *   - STALE when the stored run is still alive: a make-before-break overlap, the old connection's updates
 *     still come, or came just before it closed, and they are the newer;
 *   - when the stored quote has no run (0: REST-only, a run-less caller, or a key adopted from Redis by
 *     merge_adopt), a RESET only if the tick was received more than MERGE_REORDER_WINDOW_US after the stored
 *     key's time, or more than TICK_TIME_LEAD_US before it (a time from a lying clock), else STALE: another
 *     process's key is trusted for the time a reorder could take.
 * A RESET is ACCEPTED with epoch = stored epoch + 1, so the key still grows and Redis's compare agrees, and is
 * counted (`resets`). The epoch stops at UINT32_MAX (then such a tick is STALE).
 *
 * HELD TICKS. A tick refused only because the stored quote's run is still trusted may be the new connection's
 * first word after its venue restarted the sequence, and in a quiet market no later tick comes to reset the
 * quote once that trust ends: Redis would keep the old connection's price for as long as the market is
 * still. So the latest such tick per quote is held (with its run), and merge_take_due() hands it back once the
 * stored run is no longer trusted, provided its own run is still alive; applied, it resets the quote. A held
 * tick is dropped when a stream tick is accepted for its quote, or when its own run repeats the stored
 * position (it caught up: the stored quote is its word too).
 *
 * The key as text, for Redis (merge_key_format): epoch as 10 decimal digits, '-', pos as 20, '-', time_us as
 * 20, '-', rank as 1 digit; always MERGE_KEY_TEXT_LEN - 1 = 54 characters, e.g.
 *     "0000000000-00000000000123456789-00001718000000123456-1"
 * Fixed width and digits only, so byte-wise string order is key order: the Lua script stores this text in the
 * quote hash (field `order`) and writes only when `not stored or new > stored`, comparing lengths first: a
 * key of the width before epochs (MERGE_KEY_OLD_TEXT_LEN, 43: pos-time-rank) is older than every key of
 * today, so data written before epochs existed -- possibly poisoned -- never blocks a write. Equal means "not
 * newer": do not write. Do not convert the parts to Lua numbers: they are doubles and lose a 20-digit
 * sequence. Across replicas positions are exact; times are each host's clock and only break ties.
 *
 * REDIS RECOVERY. Redis may hold a greater key than the merge (a restart begins with an empty merge; another
 * process wrote; a key poisoned before). The sink reports each refused write with the key Redis holds, and the
 * caller hands it to merge_adopt: the stored key becomes the greater of the two, with no run. The live stream's
 * next tick then continues above it, or -- being below it and received after the reorder window -- resets
 * over it, and that write lands.
 *
 * Fields a tick does not carry ("" = not sent, e.g. sizes in Coinbase's REST ticker) are kept from the stored
 * quote when that side's price is unchanged (and the last trade price always); the stored quote then holds the
 * merged tick, which is what the sinks write.
 *
 * EXPIRY: the merge knows no clock, so a silent venue keeps its last quote, and may stay the best side, until the
 * caller's merge_expire() finds it older than a cut-off. An expired quote is kept (merge_get still returns it,
 * and the sinks keep its last value) but leaves the best bid and offer; its next accepted tick brings it back.
 * Not thread-safe: the ingest loop owns it. */
#ifndef TICKD_MERGE_H
#define TICKD_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tickd/tick.h"

#define MERGE_KEY_TEXT_LEN 55     /* 54 characters and the NUL */
#define MERGE_KEY_OLD_TEXT_LEN 43 /* a key without epoch, as written before epochs existed */
#define MERGE_REORDER_WINDOW_US 2000000 /* how long a foreign key's position is trusted (RESETS) */
#define MERGE_VENUES_MAX 16     /* venues per symbol in the best bid and offer */

enum merge_result {
    MERGE_ACCEPTED = 0,  /* stored; hand it to the sinks */
    MERGE_STALE = 1,     /* older than the stored quote; dropped */
    MERGE_DUPLICATE = 2, /* the same position as the stored quote; dropped so sinks get no repeats */
    MERGE_WITHDRAWN = 3, /* the instrument does not trade (merge_withdraw); dropped */
};

struct merge_key {
    uint32_t epoch;       /* resets of the quote's ordering */
    uint64_t pos;
    uint64_t time_us;
    uint8_t rank;         /* 1 stream, 0 REST */
    bool positioned;      /* pos came from a stream's sequence or event time (possibly inherited) */
};

struct merge_quote {
    struct tick tick;
    struct merge_key key;
};

/* One side of the best bid and offer: the price, its size, the venue quoting it and that quote's time
 * (event_us, or recv_us when the venue sends no event time). Empty strings when no venue quotes that side. */
struct merge_bbo_side {
    char price[TICK_DECIMAL_MAX];
    char qty[TICK_DECIMAL_MAX];
    char venue[TICK_VENUE_MAX];
    int64_t time_us;
};

struct merge_bbo {
    char symbol[TICK_SYMBOL_MAX];
    struct merge_bbo_side bid; /* highest bid across venues */
    struct merge_bbo_side ask; /* lowest ask across venues */
};

/* What merge_apply() changed, valid until the next merge_apply() or merge_get().
 *
 * IDS: every (venue, symbol) the merge holds has a quote_id and every symbol a bbo_id: dense indexes (0, 1,
 * 2, ... in the order the merge first saw them), never reused or changed for the life of the merge, since it
 * removes nothing. They let the sinks keep their per-instrument records in arrays (id_index.h) instead of
 * hashing venue and symbol again for every tick; a sink must be fed by one merge only, or the ids collide. */
struct merge_update {
    const struct merge_quote *quote; /* the stored quote (ACCEPTED) or the one that won (STALE, DUPLICATE) */
    uint32_t quote_id;               /* the quote's (venue, symbol) */
    uint32_t bbo_id;                 /* its symbol's best bid and offer (merge_bbo_by_id) */
    bool bbo_changed;                /* the symbol's best bid or offer (price, size or venue) changed */
};

struct merge_counters {
    uint64_t accepted, stale, duplicates, invalid;
    uint64_t expired; /* quotes merge_expire took out of the best bid and offer */
    uint64_t resets;   /* ticks accepted as a reset of their stream's ordering (RESETS) */
    uint64_t bad_time; /* ticks whose venue event time was refused (tick.bad_time), whatever became of them */
    uint64_t adopted;  /* keys merge_adopt took from Redis */
    uint64_t released; /* held ticks merge_take_due handed back (HELD TICKS) */
    uint64_t withdrawn_refused; /* ticks of withdrawn quotes (merge_withdraw) */
    size_t quotes;  /* (venue, symbol) pairs held */
    size_t symbols; /* symbols with a best bid and offer */
};

struct merge;

/* Returns 0 and a new empty merge in *out, or -ENOMEM. */
int merge_new(struct merge **out);
/* Sizes the quote records for this many (venue, symbol) pairs, the configured ones, so a large config does not
 * pay the arrays' doubling slack (50k instruments: 65,536 records). More can still be added. 0 or -ENOMEM. */
int merge_reserve(struct merge *m, size_t quotes);
void merge_free(struct merge *m);

/* Applies one tick. Returns MERGE_ACCEPTED, MERGE_STALE or MERGE_DUPLICATE; or -EINVAL for a tick with an
 * empty or unterminated venue or symbol, or a price or size that is neither empty nor a valid decimal
 * (decimal.h), or a price not above zero or a size below it (decimal_tick_values_ok); or -ENOMEM; or -ENOSPC when a symbol already has MERGE_VENUES_MAX venues. `out` may be NULL. */
int merge_apply(struct merge *m, const struct tick *t, struct merge_update *out);

/* The stored quote of (venue, symbol) or NULL; valid until the next merge_apply() or merge_get() (the merge
 * stores quotes packed and hands out one unpacked copy). */
const struct merge_quote *merge_get(struct merge *m, const char *venue, const char *symbol);

/* Copies the symbol's best bid and offer into *out; returns 0 or -ENOENT when no venue quotes the symbol. */
int merge_bbo_get(const struct merge *m, const char *symbol, struct merge_bbo *out);

/* The same by merge_update.bbo_id, without looking the symbol up; returns 0 or -ENOENT for an id the merge
 * never gave. It fills the caller's struct rather than handing out a pointer: the merge keeps no struct
 * merge_bbo (it assembles one from the best quotes, so a pointer would need a scratch copy with a lifetime
 * rule and save nothing), and the caller's copy stays valid across later merge_apply() calls. */
int merge_bbo_by_id(const struct merge *m, uint32_t bbo_id, struct merge_bbo *out);

/* Expires every quote last received (recv_us of its stored tick) before received_before_us and not expired yet:
 * it leaves its symbol's best bid and offer, which is recomputed over the venues left (a side no venue quotes is
 * empty). Calls on_bbo_changed(arg, bbo_id) for each symbol whose best bid or offer changed, possibly more than
 * once per symbol; merge_bbo_by_id then gives the new one. Returns how many quotes expired. O(quotes). */
typedef void (*merge_bbo_changed_fn)(void *arg, uint32_t bbo_id);
size_t merge_expire(struct merge *m, int64_t received_before_us, merge_bbo_changed_fn on_bbo_changed, void *arg);
/* WITHDRAWN: the venue halted or delisted the instrument. Its quote leaves the best bid and offer at once
 * (on_bbo_changed tells which changed) and its ticks are refused (MERGE_WITHDRAWN) until it is withdrawn no more;
 * then its next tick brings it back, as after an expiry. The quote itself is kept. 0, or -ENOENT when the merge
 * holds no quote of (venue, symbol): it has nothing to take out. */
int merge_withdraw(struct merge *m, const char *venue, const char *symbol, bool withdrawn,
                   merge_bbo_changed_fn on_bbo_changed, void *arg);

void merge_counters_get(const struct merge *m, struct merge_counters *out);

/* Copies into out (room for max) the held ticks that are due at now_us (HELD TICKS above) and forgets them; the
 * caller applies each with merge_apply, which accepts it as a RESET (nothing else ran between), and hands it on
 * to the sinks. Returns how many were copied; the rest stay held for the next call. O(held ticks). */
size_t merge_take_due(struct merge *m, int64_t now_us, struct tick *out, size_t max);
/* How many ticks are held: 0 on almost every call, so a periodic caller can skip the work. */
size_t merge_held_count(const struct merge *m);

/* Writes the key as the fixed-width text described above into buf (at least MERGE_KEY_TEXT_LEN bytes). */
void merge_key_format(const struct merge_key *k, char buf[MERGE_KEY_TEXT_LEN]);

/* Reads a key's text (len characters, no NUL needed): today's 54, or the 43 of a key without epoch (epoch 0).
 * positioned is set for a non-zero pos. 0, or -EINVAL for any other text. */
int merge_key_parse(const char *text, size_t len, struct merge_key *out);

/* Takes a key Redis holds for quote_id (REDIS RECOVERY above): when it is greater than the stored key it
 * becomes the stored key, with no run, and 1 is returned; 0 when the stored key is already as great; -ENOENT
 * for an id the merge never gave. The stored tick is unchanged. */
int merge_adopt(struct merge *m, uint32_t quote_id, const struct merge_key *key);

#endif
