/* clock.h -- the wall clock every tick, REST request and log stamp is measured by.
 *
 * Microseconds since the Unix epoch. Ticks carry wall times because they are compared with the exchanges' own
 * event times and across processes (two tickd on one Redis); durations use the monotonic clock (uv_hrtime). */
#ifndef TICKD_CLOCK_H
#define TICKD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
