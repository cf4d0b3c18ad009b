/* trade.c -- see trade.h. */
#include "tickd/trade.h"

#include <stddef.h>

const char *trade_side_name(enum trade_side side) {
    switch (side) {
    case TRADE_SIDE_BUY: return "buy";
    case TRADE_SIDE_SELL: return "sell";
    default: return "unknown";
    }
}

bool trade_id_number(const char *id, uint64_t *out) {
    uint64_t v = 0;
    size_t n = 0;
    for (; id[n]; n++) {
        unsigned d = (unsigned)(id[n] - '0');
        if (d > 9 || n == 20) return false;
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (n == 0 || (n > 1 && id[0] == '0')) return false;
    *out = v;
    return true;
}
