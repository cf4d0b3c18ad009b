/* source.c -- the shared runtime of one [[source]] (see source.h). */
#include "tickd/source.h"

#include <time.h>

int64_t clock_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
