/* test_sink_table.c -- sink_table (sink.h) is what the daemon drives every sink through: each row complete, so
 * the daemon can call any callback but put_bbo without a check, its name usable as a log field's key and in
 * `tickd status`, the names unique, and the table within the daemon's SINK_TABLE_MAX. */
#include <stdlib.h>
#include <string.h>

#include "tickd/config.h"
#include "tickd/sink.h"
#include "tickd/text_buf.h"
#include "tt.h"

static void test_every_row_is_complete(void) {
    size_t n = 0;
    for (const struct sink_ops *const *o = sink_table; *o; o++, n++) {
        const struct sink_ops *s = *o;
        TT_ASSERT(s->name && s->name[0]);
        TT_ASSERT(strspn(s->name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s->name));
        TT_ASSERT(strlen(s->name) <= 8); /* the status lines' column */
        TT_ASSERT(s->channels != 0);
        TT_ASSERT(s->open && s->put_quote && s->ready && s->stats_log && s->status && s->close);
    }
    TT_ASSERT(n >= 1);
    TT_ASSERT(n <= SINK_TABLE_MAX);
}

static void test_names_are_unique(void) {
    for (const struct sink_ops *const *a = sink_table; *a; a++)
        for (const struct sink_ops *const *b = a + 1; *b; b++) TT_ASSERT(strcmp((*a)->name, (*b)->name) != 0);
}

static void test_todays_rows_take_bbo(void) {
    /* The daemon hands quotes only to the sinks whose channels include bbo: both of today's must. */
    size_t bbo = 0, with_bbo_records = 0;
    for (const struct sink_ops *const *o = sink_table; *o; o++) {
        bbo += ((*o)->channels & SINK_CHANNEL(CONFIG_CHANNEL_BBO)) != 0;
        with_bbo_records += (*o)->put_bbo != NULL;
        if (strcmp((*o)->name, "redis") == 0) TT_ASSERT((*o)->put_bbo != NULL); /* the <prefix>:bbo hashes */
    }
    TT_ASSERT_INT(bbo, 2);
    TT_ASSERT_INT(with_bbo_records, 1);
}

static void test_status_of_a_sink_never_opened_reads_zeros(void) {
    for (const struct sink_ops *const *o = sink_table; *o; o++) {
        struct text_buf out = {0};
        (*o)->status(NULL, &out);
        TT_ASSERT(out.len > 0 && out.data[out.len - 1] == '\n');
        TT_ASSERT(strstr(out.data, "=0") != NULL);
        free(out.data);
    }
}

int main(void) {
    TT_RUN(test_every_row_is_complete);
    TT_RUN(test_names_are_unique);
    TT_RUN(test_todays_rows_take_bbo);
    TT_RUN(test_status_of_a_sink_never_opened_reads_zeros);
    return tt_finish();
}
