/* tick_order.c -- what the ordering of ticks trusts: bounded event times and the registry of runs (tick.h).
 *
 * The registry is a sorted array of the open runs and of those that ended within TICK_RUN_LINGER_US: ids only
 * grow, so a new one is appended; a run is found by binary search. It holds about as many ids as there are
 * open connections (a few, a few hundred with large symbol lists), and is asked once per tick that would move
 * a quote backwards. */
#include <stdlib.h>
#include <string.h>

#include "tickd/tick.h"

int64_t tick_event_time_bound(int64_t event_us, int64_t recv_us) {
    if (event_us < TICK_TIME_FLOOR_US) return 0;
    if (recv_us > INT64_MAX - TICK_TIME_LEAD_US || event_us - TICK_TIME_LEAD_US > recv_us) return 0;
    return event_us;
}

struct open_run {
    uint32_t id;
    int64_t ended_us; /* 0 while open */
};

static uint32_t last_run;
static struct open_run *runs;
static size_t n_runs, cap_runs;

/* Where run is, or would go, in runs. */
static size_t run_position(uint32_t run) {
    size_t lo = 0, hi = n_runs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (runs[mid].id < run) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

uint32_t tick_run_begin(void) {
    if (++last_run == 0) last_run = 1; /* after 4 billion connections: a process restarts long before */
    if (n_runs == cap_runs) {
        size_t cap = cap_runs ? cap_runs * 2 : 16;
        struct open_run *grown = realloc(runs, cap * sizeof *grown);
        /* Without room the run is not listed, so it reads as ended: its ticks may then reset a quote it
         * overlaps, which costs a step back, never a frozen quote. */
        if (!grown) return last_run;
        runs = grown;
        cap_runs = cap;
    }
    runs[n_runs++] = (struct open_run){.id = last_run};
    return last_run;
}

void tick_run_end(uint32_t run, int64_t now_us) {
    size_t i = run_position(run);
    if (i < n_runs && runs[i].id == run && !runs[i].ended_us) runs[i].ended_us = now_us > 0 ? now_us : 1;
    /* Forget the runs whose linger is over: the list stays as long as the open connections' count. */
    size_t kept = 0;
    for (size_t j = 0; j < n_runs; j++)
        if (!runs[j].ended_us || runs[j].ended_us > now_us - TICK_RUN_LINGER_US) runs[kept++] = runs[j];
    n_runs = kept;
}

bool tick_run_alive(uint32_t run, int64_t now_us) {
    size_t i = run_position(run);
    if (run == 0 || i == n_runs || runs[i].id != run) return false;
    return !runs[i].ended_us || now_us - runs[i].ended_us < TICK_RUN_LINGER_US;
}
