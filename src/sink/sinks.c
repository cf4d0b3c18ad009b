/* sinks.c -- the table of sinks the daemon drives (sink.h). A new sink is its own file, with its sink_ops at
 * the end, and a row here. */
#include "tickd/amqp_sink.h"
#include "tickd/redis_sink.h"
#include "tickd/sink.h"

const struct sink_ops *const sink_table[] = {
    &redis_sink_ops,
    &amqp_sink_ops,
    NULL,
};

double sink_per_second(uint64_t now, uint64_t *last, double secs) {
    double r = now >= *last ? (double)(now - *last) / secs : 0;
    *last = now;
    return r;
}
