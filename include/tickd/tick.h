/* tick.h -- the normalized tick every venue adapter produces and every sink consumes.
 *
 * A tick is a fixed-size value (no pointers, no malloc): adapters fill one on the stack, the merge copies it
 * into its table, the sinks copy it into their buffers. Prices and sizes are the exchange's exact decimal text,
 * never a double; an empty string means "not sent". Times are microseconds since the Unix epoch. */
#ifndef TICKD_TICK_H
#define TICKD_TICK_H

#include <stdbool.h>
#include <stdint.h>

#define TICK_VENUE_MAX 16   /* "binance" */
#define TICK_SYMBOL_MAX 32  /* normalized "BASE-QUOTE" */
#define TICK_DECIMAL_MAX 40 /* longest decimal text kept, with its NUL */

enum tick_origin {
    TICK_ORIGIN_STREAM = 0, /* websocket */
    TICK_ORIGIN_REST = 1,   /* HTTP poll */
};

struct tick {
    char venue[TICK_VENUE_MAX];
    char symbol[TICK_SYMBOL_MAX];
    char bid[TICK_DECIMAL_MAX], bid_qty[TICK_DECIMAL_MAX];
    char ask[TICK_DECIMAL_MAX], ask_qty[TICK_DECIMAL_MAX];
    char last[TICK_DECIMAL_MAX];
    int64_t event_us;   /* the exchange's event time; 0 when the venue sends none */
    uint64_t seq;       /* the venue's sequence or update id; valid when has_seq */
    bool has_seq;
    int64_t recv_us;    /* when tickd received the frame or the REST answer */
    int64_t sent_us;    /* REST: when the request left (the merge orders REST answers by it); else 0 */
    enum tick_origin origin;
    uint32_t run;       /* the websocket connection that carried it (tick_run_begin); 0 for REST or none */
    bool bad_time;      /* the venue sent an event time tick_event_time_bound refused: event_us is 0 */
};

/* ---- event times ----
 * A venue's clock is not trusted blindly: one frame with a time far in the future (a year 9999, an OKX ts of
 * 999999999999999 ms) would otherwise order above every real update to come, in the merge and in Redis. An
 * event time is kept only when it is after TICK_TIME_FLOOR_US (2010-01-01, before any venue tickd speaks)
 * and at most TICK_TIME_LEAD_US ahead of the moment tickd received it -- generous for clock skew, far below
 * any poisoning jump. */
#define TICK_TIME_FLOOR_US 1262304000000000LL
#define TICK_TIME_LEAD_US 10000000LL

/* event_us when it passes the bounds above against recv_us, else 0 (no event time). */
int64_t tick_event_time_bound(int64_t event_us, int64_t recv_us);

/* ---- runs ----
 * A run is one websocket connection's life: the venue's sequence is ordered within it, and a new connection
 * may start the sequence afresh (a venue restarted, maintenance). Ids are process-unique and increasing, never
 * 0 (which means "no run": REST, or a quote adopted from Redis). The registry says which runs are alive, so the
 * merge can tell a make-before-break overlap (both alive) from a reconnect (the old one gone). A run stays
 * alive for TICK_RUN_LINGER_US after its connection ended: the new connection may lag the old one by a few
 * updates, and those must read as an overlap's stale ones, not as a reset that steps the quote back. Loop
 * thread only; times are wall-clock microseconds, a tick's recv_us. */
#define TICK_RUN_LINGER_US 2000000LL
uint32_t tick_run_begin(void);
void tick_run_end(uint32_t run, int64_t now_us);
bool tick_run_alive(uint32_t run, int64_t now_us);

/* ---- the packed form ----
 * For records that keep one tick per instrument for a long time (the merge's quotes, the RabbitMQ buffer):
 * the times and flags, and the five decimals as consecutive NUL-terminated texts in one buffer. Venue and
 * symbol are not kept: such a record already knows its instrument. 112 bytes instead of 296; the usual
 * decimals (five of up to 12 characters) fit inline, and longer ones spill whole into one heap buffer that the
 * packed tick owns and keeps for reuse, so every valid decimal is kept exactly, never cut. */
enum tick_field { TICK_BID = 0, TICK_BID_QTY, TICK_ASK, TICK_ASK_QTY, TICK_LAST, TICK_FIELDS };

#define TICK_PACKED_INLINE 65 /* makes struct tick_packed 112 bytes */

struct tick_packed {
    int64_t event_us, recv_us, sent_us;
    uint64_t seq;
    char *spill;                /* heap text when the decimals do not fit inline; NULL otherwise */
    uint8_t end[TICK_FIELDS];   /* offset just past each decimal's NUL in the text */
    bool has_seq;
    uint8_t origin;             /* enum tick_origin */
    char text[TICK_PACKED_INLINE];
};

/* An empty packed tick (every decimal ""). */
void tick_packed_init(struct tick_packed *p);
/* Stores t's times, flags and decimals (each must be NUL-terminated within its field). Returns 0, or -ENOMEM
 * when the decimals need a spill buffer and none can be had (p is then unchanged). */
int tick_pack(struct tick_packed *p, const struct tick *t);
/* The whole tick again, venue and symbol from the caller. */
void tick_unpack(const struct tick_packed *p, const char *venue, const char *symbol, struct tick *out);
/* Frees the spill buffer; p is then empty. */
void tick_packed_free(struct tick_packed *p);

/* One decimal's text, NUL-terminated, valid until p changes. */
static inline const char *tick_packed_get(const struct tick_packed *p, enum tick_field f) {
    return (p->spill ? p->spill : p->text) + (f == TICK_BID ? 0 : p->end[f - 1]);
}

/* A tick's decimal by field. */
static inline const char *tick_field_of(const struct tick *t, enum tick_field f) {
    switch (f) {
    case TICK_BID: return t->bid;
    case TICK_BID_QTY: return t->bid_qty;
    case TICK_ASK: return t->ask;
    case TICK_ASK_QTY: return t->ask_qty;
    default: return t->last;
    }
}

#endif
