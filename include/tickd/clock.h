/* clock.h -- the two clocks of tickd, and the only place either is read.
 *
 * clock_wall_us: microseconds since the Unix epoch. Ticks carry wall times because they are compared with the
 * exchanges' own event times and across processes (two tickd on one Redis); a wall clock may step.
 * clock_mono_*: the monotonic clock (CLOCK_MONOTONIC, the clock libuv's uv_hrtime and uv_now read), for every
 * duration, deadline and rate window: it never steps, so a lying or corrected system clock cannot stretch a
 * pause or fire a timeout early. Any thread may call them. */
#ifndef TICKD_CLOCK_H
#define TICKD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t clock_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t clock_mono_us(void) { return clock_mono_ns() / 1000; }
static inline int64_t clock_mono_ms(void) { return clock_mono_ns() / 1000000; }

#endif
