/* trade.h -- one trade, as every venue adapter produces it and every sink takes it (design.md "Channels").
 *
 * A trade is an EVENT, not a state: every one counts, once, in order per instrument, and none is conflated.
 * Like a tick it is a fixed-size value with the exchange's exact decimal text. The trade id is the venue's
 * own, as text (Binance "t", Coinbase "trade_id", Kraken v2 "trade_id", OKX "tradeId"): it identifies the trade
 * across connections, reconnects and REST answers, which is how the same trade seen twice is published once. */
#ifndef TICKD_TRADE_H
#define TICKD_TRADE_H

#include <stdbool.h>
#include <stdint.h>

#include "tickd/tick.h"

#define TRADE_ID_MAX 48 /* the longest trade id kept, with its NUL (OKX and Kraken send up to 20 digits) */

/* The taker's side: the side of the order that took liquidity. Some venues report the maker's (Coinbase
 * "match"): their adapter turns it over. */
enum trade_side {
    TRADE_SIDE_UNKNOWN = 0,
    TRADE_SIDE_BUY,
    TRADE_SIDE_SELL,
};

struct trade {
    char venue[TICK_VENUE_MAX];
    char symbol[TICK_SYMBOL_MAX];
    char id[TRADE_ID_MAX];
    char price[TICK_DECIMAL_MAX], qty[TICK_DECIMAL_MAX];
    enum trade_side side;
    int64_t event_us; /* the venue's trade time, bounded as a tick's (tick_event_time_bound); 0 when none */
    int64_t recv_us;  /* when tickd received the frame or the REST answer */
    enum tick_origin origin;
    uint32_t run;     /* the websocket connection that carried it; 0 for REST */
    bool bad_time;    /* the venue sent a trade time that was refused: event_us is 0 */
};

/* "buy", "sell" or "unknown". */
const char *trade_side_name(enum trade_side side);

/* The id as an unsigned integer, when it is one: 1 to 20 digits, no sign, no leading zero (but "0"), no
 * overflow. Venues that number trades densely per instrument are checked for holes this way. */
bool trade_id_number(const char *id, uint64_t *out);

#endif
