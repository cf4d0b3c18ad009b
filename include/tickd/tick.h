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
};

#endif
