/* fuzz_merge_key.c -- merge_key_parse on arbitrary bytes: the ordering key Redis hands back when it refuses a
 * write is text another process (or an older tickd, or anyone with access to Redis) may have written.
 *
 * A key it accepts must be one merge_key_format writes back byte for byte (today's 54 characters) or, for the
 * 43-character key of before epochs, the same key with epoch 0; and the merge must adopt it without harm. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/merge.h"

static void die(const char *what, const uint8_t *data, size_t size) {
    fprintf(stderr, "fuzz_merge_key: %s: \"%.*s\"\n", what, (int)size, (const char *)data);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct merge_key k;
    if (merge_key_parse((const char *)data, size, &k) < 0) return 0;
    char text[MERGE_KEY_TEXT_LEN];
    merge_key_format(&k, text);
    if (size == MERGE_KEY_TEXT_LEN - 1 && memcmp(text, data, size) != 0) die("formats back differently", data, size);
    if (size == MERGE_KEY_OLD_TEXT_LEN && (k.epoch != 0 || memcmp(text + 11, data, size) != 0))
        die("an old key is not today's with epoch 0", data, size);
    if (k.positioned != (k.pos != 0)) die("positioned disagrees with pos", data, size);

    static struct merge *m;
    if (!m && merge_new(&m) < 0) return 0;
    struct tick t = {.venue = "binance", .symbol = "BTC-USDT", .bid = "1", .ask = "2", .has_seq = true, .seq = 5,
                     .recv_us = 1700000000000000, .origin = TICK_ORIGIN_STREAM};
    struct merge_update up;
    if (merge_apply(m, &t, &up) < 0) return 0;
    (void)merge_adopt(m, up.quote_id, &k);
    t.seq = 6;
    t.recv_us += 3000000; /* past the reorder window: a lower position resets over an adopted key */
    (void)merge_apply(m, &t, &up);
    return 0;
}
