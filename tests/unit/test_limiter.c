/* Unit tests of the rate limiter on a real libuv loop with real timers: limits held under a 10x overload,
 * round-robin fairness, per-client windows, pause and resume, the server's used-weight correction,
 * cancellation from callbacks, close. Time is only ever asserted as a lower bound (a grant never comes early),
 * never as a speed, so a loaded machine cannot fail these tests. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tickd/clock.h"
#include "tickd/limiter.h"
#include "tickd/log.h"
#include "tt.h"

#define MAX_GRANTS 1024
#define MS 1000000LL

struct treq {
    struct limiter_request req;
    int client;
    struct limiter_cost cost;
    int status; /* 1 = not called back yet */
};

struct grant {
    int client;
    int64_t t_ns; /* when the callback ran */
    struct limiter_cost cost;
};

static uv_loop_t loop;
static struct limiter *lim;
static struct grant grants[MAX_GRANTS];
static size_t n_grants;
static int64_t start_ns;
static bool closed;

/* Per-test hook run from each grant callback (NULL: none). */
static void (*on_grant)(struct treq *r);

static void granted(struct limiter_request *req, int status) {
    struct treq *r = req->data;
    r->status = status;
    if (status == 0 && n_grants < MAX_GRANTS) grants[n_grants++] = (struct grant){r->client, (int64_t)uv_hrtime(), r->cost};
    if (on_grant) on_grant(r);
}

static void on_closed(void *arg) {
    (void)arg;
    closed = true;
}

static void setup(const struct limiter_window *windows, size_t n) {
    TT_ASSERT_INT(uv_loop_init(&loop), 0);
    struct limiter_config cfg = {.name = "test", .windows = windows, .n_windows = n, .pause_floor_429_ms = 400};
    TT_ASSERT_INT(limiter_new(&loop, &cfg, &lim), 0);
    n_grants = 0;
    closed = false;
    on_grant = NULL;
    start_ns = (int64_t)uv_hrtime();
}

static void teardown(void) {
    if (!closed) limiter_close(lim, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT(closed);
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
}

static void enqueue(struct limiter_client *c, struct treq *r, int client, struct limiter_cost cost) {
    memset(r, 0, sizeof *r);
    r->req.data = r;
    r->client = client;
    r->cost = cost;
    r->status = 1;
    TT_ASSERT_INT(limiter_acquire(c, &r->req, &cost, granted), 0);
}

/* Checks that no window of `period_ms` ever held more than `limit` units of `kind` (of one client, or of all
 * when client < 0). The limiter stamps grant i somewhere between callback i-1 and callback i, so the window
 * anchored at callback i-1 is the one the limiter promises about: this check cannot fail on a busy machine. */
static void check_windows(enum limiter_kind kind, uint32_t limit, uint32_t period_ms, int client) {
    for (size_t i = 0; i < n_grants; i++) {
        if (client >= 0 && grants[i].client != client) continue;
        int64_t from = i ? grants[i - 1].t_ns : start_ns;
        uint64_t sum = 0;
        for (size_t j = i; j < n_grants && grants[j].t_ns < from + period_ms * MS; j++)
            if (client < 0 || grants[j].client == client) sum += grants[j].cost.units[kind];
        if (sum > limit) TT_FAIL("kind %d: %llu units in %u ms after grant %zu (limit %u)", kind,
                                 (unsigned long long)sum, period_ms, i, limit);
    }
}

static struct limiter_cost cost_of(enum limiter_kind kind, uint32_t units) {
    struct limiter_cost c = {{0}};
    c.units[kind] = units;
    return c;
}

/* ---- limits under overload, and round-robin order ---- */

static void test_overload_never_exceeds_any_window(void) {
    const struct limiter_window windows[] = {{LIMITER_REQUEST, 8, 100, 1}, {LIMITER_WEIGHT, 20, 300, 1}};
    setup(windows, 2);
    enum { CLIENTS = 4, EACH = 20 };
    struct limiter_client *clients[CLIENTS];
    static struct treq reqs[CLIENTS][EACH];
    for (int c = 0; c < CLIENTS; c++) TT_ASSERT_INT(limiter_client_new(lim, "poller", NULL, 0, &clients[c]), 0);
    for (int k = 0; k < EACH; k++)
        for (int c = 0; c < CLIENTS; c++) {
            struct limiter_cost cost = cost_of(LIMITER_REQUEST, 1);
            cost.units[LIMITER_WEIGHT] = 1 + (uint32_t)((k + c) % 3);
            enqueue(clients[c], &reqs[c][k], c, cost);
        }
    struct limiter_status st;
    limiter_status_get(lim, &st);
    TT_ASSERT_INT(st.queued, CLIENTS * EACH);
    TT_ASSERT_INT(n_grants, 0); /* nothing is granted inside limiter_acquire */

    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(n_grants, CLIENTS * EACH);
    check_windows(LIMITER_REQUEST, 8, 100, -1);
    check_windows(LIMITER_WEIGHT, 20, 300, -1);

    /* Strict turns: in every prefix of the grants no client is more than one ahead of another. */
    int counts[CLIENTS] = {0};
    for (size_t i = 0; i < n_grants; i++) {
        counts[grants[i].client]++;
        int lo = counts[0], hi = counts[0];
        for (int c = 1; c < CLIENTS; c++) lo = counts[c] < lo ? counts[c] : lo, hi = counts[c] > hi ? counts[c] : hi;
        if (hi - lo > 1) TT_FAIL("grant %zu: client counts %d..%d", i, lo, hi);
    }
    limiter_status_get(lim, &st);
    TT_ASSERT_INT(st.queued, 0);
    TT_ASSERT_INT(st.granted, CLIENTS * EACH);
    fprintf(stderr, "    %llu grants in %.2f s, %llu timer wakeups\n", (unsigned long long)st.granted,
            (double)(grants[n_grants - 1].t_ns - start_ns) / 1e9, (unsigned long long)st.wakeups);
    TT_ASSERT(st.wakeups <= 2 * st.granted + 2); /* a wakeup grants, or waits for a window that then has room */
    for (int c = 0; c < CLIENTS; c++) limiter_client_free(clients[c]);
    teardown();
}

/* Three clients re-acquire from their callbacks (always backlogged), a fourth queued 60 at once: each gets a
 * quarter. At 100 grants the test cancels what is left, from inside a callback. */
static struct limiter_client *fair_clients[4];
static struct treq fair_loop_reqs[3], fair_bulk[60];

static void fair_hook(struct treq *r) {
    if (n_grants < 100) {
        if (r->client < 3) enqueue(fair_clients[r->client], r, r->client, cost_of(LIMITER_REQUEST, 1));
        return;
    }
    if (n_grants == 100) {
        for (int i = 0; i < 60; i++) limiter_cancel(&fair_bulk[i].req);
        for (int c = 0; c < 3; c++) limiter_cancel(&fair_loop_reqs[c].req);
    }
}

static void test_fair_share_between_clients(void) {
    const struct limiter_window windows[] = {{LIMITER_REQUEST, 25, 100, 1}};
    setup(windows, 1);
    for (int c = 0; c < 4; c++) TT_ASSERT_INT(limiter_client_new(lim, "task", NULL, 0, &fair_clients[c]), 0);
    for (int i = 0; i < 60; i++) enqueue(fair_clients[3], &fair_bulk[i], 3, cost_of(LIMITER_REQUEST, 1));
    for (int c = 0; c < 3; c++) enqueue(fair_clients[c], &fair_loop_reqs[c], c, cost_of(LIMITER_REQUEST, 1));
    on_grant = fair_hook;
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(n_grants, 100);
    int counts[4] = {0};
    for (size_t i = 0; i < n_grants; i++) counts[grants[i].client]++;
    for (int c = 0; c < 4; c++)
        if (counts[c] < 24 || counts[c] > 26) TT_FAIL("client %d got %d of 100 grants", c, counts[c]);
    check_windows(LIMITER_REQUEST, 25, 100, -1);
    int cancelled = 0;
    for (int i = 0; i < 60; i++) cancelled += fair_bulk[i].status == 1;
    TT_ASSERT_INT(cancelled, 60 - counts[3]);
    struct limiter_status st;
    limiter_status_get(lim, &st);
    TT_ASSERT_INT(st.queued, 0);
    for (int c = 0; c < 4; c++) limiter_client_free(fair_clients[c]);
    teardown();
}

/* ---- per-connection message budget, connects, kinds that do not block each other ---- */

static void test_client_windows_and_kinds(void) {
    const struct limiter_window windows[] = {{LIMITER_MESSAGE, 100, 1000, 0}, {LIMITER_CONNECT, 2, 300, 1}};
    setup(windows, 2);
    const struct limiter_window per_connection[] = {{LIMITER_MESSAGE, 2, 200, 1}};
    struct limiter_client *a, *b, *c;
    TT_ASSERT_INT(limiter_client_new(lim, "conn-a", per_connection, 1, &a), 0);
    TT_ASSERT_INT(limiter_client_new(lim, "conn-b", NULL, 0, &b), 0);
    TT_ASSERT_INT(limiter_client_new(lim, "connector", NULL, 0, &c), 0);
    struct treq ra[6], rb[6], rc[5];
    for (int i = 0; i < 6; i++) enqueue(a, &ra[i], 0, cost_of(LIMITER_MESSAGE, 1));
    for (int i = 0; i < 5; i++) enqueue(c, &rc[i], 2, cost_of(LIMITER_CONNECT, 1));
    for (int i = 0; i < 6; i++) enqueue(b, &rb[i], 1, cost_of(LIMITER_MESSAGE, 1));
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(n_grants, 17);
    check_windows(LIMITER_MESSAGE, 2, 200, 0);
    check_windows(LIMITER_CONNECT, 2, 300, -1);
    /* B was never held up by A's own budget nor by the connect window: all of B went before A's third. */
    size_t b_last = 0, a_seen = 0, a_third = 0;
    for (size_t i = 0; i < n_grants; i++) {
        if (grants[i].client == 1) b_last = i;
        if (grants[i].client == 0 && ++a_seen == 3) a_third = i;
    }
    TT_ASSERT(b_last < a_third);
    limiter_client_free(a);
    limiter_client_free(b);
    limiter_client_free(c);
    teardown();
}

/* ---- pause ---- */

static char captured[8192];

static int count_lines(const char *needle) {
    int n = 0;
    for (const char *p = captured; (p = strstr(p, needle)); p++) n++;
    return n;
}

static void test_pause_blocks_everything_until_its_end(void) {
    const struct limiter_window windows[] = {{LIMITER_REQUEST, 100, 1000, 0}};
    setup(windows, 1);
    char tmpl[] = "/tmp/tickd-limiterXXXXXX";
    int fd = mkstemp(tmpl);
    TT_ASSERT(fd >= 0);
    unlink(tmpl);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    log_set_fd(fd);

    struct limiter_client *c;
    TT_ASSERT_INT(limiter_client_new(lim, "poller", NULL, 0, &c), 0);
    struct treq reqs[5];
    enqueue(c, &reqs[0], 0, cost_of(LIMITER_REQUEST, 1)); /* queued before the pause: held too */
    int64_t first_end = clock_mono_ms() + 300;
    limiter_pause(lim, first_end, "http 429");
    limiter_pause(lim, first_end - 200, "http 429"); /* inside the pause: nothing, no log */
    int64_t until = limiter_pause_http(lim, 429, -1); /* the 400 ms floor: extends, logs again */
    TT_ASSERT(until >= first_end);
    TT_ASSERT_INT(limiter_pause_http(lim, 500, -1), 0);
    struct limiter_status st;
    limiter_status_get(lim, &st);
    TT_ASSERT_INT(st.paused_until_ms, until);
    TT_ASSERT_INT(st.pauses, 2);
    for (int i = 1; i < 5; i++) enqueue(c, &reqs[i], 0, cost_of(LIMITER_REQUEST, 1));

    uv_run(&loop, UV_RUN_DEFAULT);
    log_set_fd(-1);
    ssize_t n = pread(fd, captured, sizeof captured - 1, 0);
    captured[n < 0 ? 0 : n] = 0;
    close(fd);

    TT_ASSERT_INT(n_grants, 5);
    for (size_t i = 0; i < n_grants; i++) TT_ASSERT(grants[i].t_ns >= until * MS);
    TT_ASSERT_INT(count_lines("msg=\"source paused\""), 2);
    TT_ASSERT_INT(count_lines("msg=\"source resumed\""), 1);
    TT_ASSERT(strstr(captured, "source=test reason=\"http 429\" until=") != NULL);
    limiter_status_get(lim, &st);
    TT_ASSERT_INT(st.paused_until_ms, 0);
    limiter_client_free(c);
    teardown();
}

/* A Retry-After of 9000000000 s paused the whole source for 285 years, and one of 10000000000 overflowed the
 * pause end and the 429 was ignored. Every pause is now capped by max_pause, logged with what was asked. */
static void test_pause_is_capped_by_max_pause(void) {
    const struct limiter_window windows[] = {{LIMITER_REQUEST, 100, 1000, 0}};
    TT_ASSERT_INT(uv_loop_init(&loop), 0);
    struct limiter_config cfg = {.name = "capped", .windows = windows, .n_windows = 1, .max_pause_ms = 300};
    TT_ASSERT_INT(limiter_new(&loop, &cfg, &lim), 0);
    n_grants = 0;
    closed = false;
    on_grant = NULL;
    char tmpl[] = "/tmp/tickd-limiterXXXXXX";
    int fd = mkstemp(tmpl);
    TT_ASSERT(fd >= 0);
    unlink(tmpl);
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    log_set_fd(fd);

    struct limiter_status st;
    int64_t before = clock_mono_ms();
    int64_t until = limiter_pause_http(lim, 429, 10000000000LL * 1000); /* past 2^63 ns from now */
    TT_ASSERT(until >= before + 300 && until <= clock_mono_ms() + 300);
    limiter_status_get(lim, &st);
    TT_ASSERT_INT(st.pauses, 1);
    TT_ASSERT_INT(st.paused_until_ms, until);
    TT_ASSERT(limiter_pause_http(lim, 429, INT64_MAX) <= clock_mono_ms() + 300);
    limiter_pause(lim, INT64_MAX, "test"); /* the direct call is capped the same way */
    limiter_status_get(lim, &st);
    TT_ASSERT(st.paused_until_ms <= clock_mono_ms() + 300);

    struct limiter_client *c;
    TT_ASSERT_INT(limiter_client_new(lim, "poller", NULL, 0, &c), 0);
    struct treq r;
    enqueue(c, &r, 0, cost_of(LIMITER_REQUEST, 1));
    uv_run(&loop, UV_RUN_DEFAULT); /* returns once the request is granted: the pause ended */
    TT_ASSERT_INT(n_grants, 1);
    TT_ASSERT(grants[0].t_ns >= until * MS);

    /* A ban's floor (120 s without Retry-After) is capped too. */
    before = clock_mono_ms();
    until = limiter_pause_http(lim, 418, -1);
    TT_ASSERT(until >= before + 300 && until <= clock_mono_ms() + 300);
    enqueue(c, &r, 0, cost_of(LIMITER_REQUEST, 1));
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(n_grants, 2);

    log_set_fd(-1);
    ssize_t n = pread(fd, captured, sizeof captured - 1, 0);
    captured[n < 0 ? 0 : n] = 0;
    close(fd);
    TT_ASSERT(strstr(captured, "reason=\"http 429 too many requests\"") != NULL);
    TT_ASSERT(strstr(captured, " asked_ms=10000000000000 max_pause_ms=300") != NULL);
    TT_ASSERT(strstr(captured, " asked_ms=120000 max_pause_ms=300") != NULL);
    limiter_client_free(c);
    teardown();
}

/* ---- the server's count ---- */

static void test_server_used_weight_raises_the_count(void) {
    const struct limiter_window windows[] = {{LIMITER_WEIGHT, 10, 400, 0}};
    setup(windows, 1);
    int64_t observed_ns = (int64_t)uv_hrtime();
    TT_ASSERT_INT(limiter_observe_used(lim, 0, 8), 0);
    TT_ASSERT_INT(limiter_observe_used(lim, 0, 3), 0); /* lower: ignored */
    TT_ASSERT_INT(limiter_observe_used(lim, 1, 3), UV_EINVAL);
    struct limiter_status st;
    limiter_status_get(lim, &st);
    TT_ASSERT_INT(st.n_windows, 1);
    TT_ASSERT_INT(st.windows[0].used, 8);
    TT_ASSERT_INT(st.windows[0].limit, 10);

    struct limiter_client *c;
    TT_ASSERT_INT(limiter_client_new(lim, "poller", NULL, 0, &c), 0);
    struct treq reqs[3];
    for (int i = 0; i < 3; i++) enqueue(c, &reqs[i], 0, cost_of(LIMITER_WEIGHT, 1));
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(n_grants, 3);
    /* Two fitted beside the server's 8; the third waited for the server's units to leave the window. */
    TT_ASSERT(grants[2].t_ns >= observed_ns + 400 * MS);
    limiter_client_free(c);
    teardown();
}

/* ---- cancellation, errors, close ---- */

static struct treq cancel_reqs[6];
static struct limiter_client *cancel_client;
static int cancelled_callbacks, acquire_when_closing;

static void cancel_hook(struct treq *r) {
    if (r->status == UV_ECANCELED) {
        cancelled_callbacks++;
        struct treq again;
        memset(&again, 0, sizeof again);
        struct limiter_cost cost = cost_of(LIMITER_REQUEST, 1);
        acquire_when_closing = limiter_acquire(cancel_client, &again.req, &cost, granted);
        return;
    }
    if (r == &cancel_reqs[0]) {
        TT_ASSERT_INT(limiter_cancel(&cancel_reqs[3].req), 0);
        TT_ASSERT_INT(limiter_cancel(&cancel_reqs[4].req), 0);
        TT_ASSERT_INT(limiter_cancel(&cancel_reqs[4].req), UV_ENOENT);
        TT_ASSERT_INT(limiter_cancel(&r->req), UV_ENOENT); /* granted: no longer queued */
    } else {
        limiter_close(lim, on_closed, NULL); /* from inside a grant callback */
    }
}

static void test_cancel_and_close_from_callbacks(void) {
    const struct limiter_window windows[] = {{LIMITER_REQUEST, 2, 60000, 0}};
    setup(windows, 1);
    TT_ASSERT_INT(limiter_client_new(lim, "poller", NULL, 0, &cancel_client), 0);
    for (int i = 0; i < 6; i++) enqueue(cancel_client, &cancel_reqs[i], 0, cost_of(LIMITER_REQUEST, 1));
    TT_ASSERT_INT(limiter_acquire(cancel_client, &cancel_reqs[5].req, &cancel_reqs[5].cost, granted), UV_EBUSY);
    struct treq big;
    memset(&big, 0, sizeof big);
    struct limiter_cost too_much = cost_of(LIMITER_REQUEST, 3);
    TT_ASSERT_INT(limiter_acquire(cancel_client, &big.req, &too_much, granted), UV_E2BIG);

    cancelled_callbacks = 0;
    acquire_when_closing = 0;
    on_grant = cancel_hook;
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT(closed);
    TT_ASSERT_INT(n_grants, 2);
    TT_ASSERT_INT(cancel_reqs[0].status, 0);
    TT_ASSERT_INT(cancel_reqs[1].status, 0);
    TT_ASSERT_INT(cancel_reqs[2].status, UV_ECANCELED);
    TT_ASSERT_INT(cancel_reqs[3].status, 1); /* cancelled: never called back */
    TT_ASSERT_INT(cancel_reqs[4].status, 1);
    TT_ASSERT_INT(cancel_reqs[5].status, UV_ECANCELED);
    TT_ASSERT_INT(cancelled_callbacks, 2);
    TT_ASSERT_INT(acquire_when_closing, UV_ECANCELED);
    limiter_client_free(cancel_client); /* detached by the close; its owner still frees it */
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
}

/* A client freed while it has queued requests: they vanish, others go on. */
static struct limiter_client *doomed_client;

static void free_client_hook(struct treq *r) {
    if (r->client == 1 && doomed_client) {
        limiter_client_free(doomed_client);
        doomed_client = NULL;
    }
}

static void test_free_client_with_queued_requests(void) {
    const struct limiter_window windows[] = {{LIMITER_REQUEST, 1, 20, 1}};
    setup(windows, 1);
    struct limiter_client *keep;
    TT_ASSERT_INT(limiter_client_new(lim, "doomed", NULL, 0, &doomed_client), 0);
    TT_ASSERT_INT(limiter_client_new(lim, "keep", NULL, 0, &keep), 0);
    struct treq d[4], k[4];
    for (int i = 0; i < 4; i++) enqueue(doomed_client, &d[i], 0, cost_of(LIMITER_REQUEST, 1));
    for (int i = 0; i < 4; i++) enqueue(keep, &k[i], 1, cost_of(LIMITER_REQUEST, 1));
    on_grant = free_client_hook;
    uv_run(&loop, UV_RUN_DEFAULT);
    TT_ASSERT_INT(n_grants, 5); /* d[0], then k[0] frees the doomed client, then k[1..3] */
    TT_ASSERT_INT(d[0].status, 0);
    for (int i = 1; i < 4; i++) TT_ASSERT_INT(d[i].status, 1);
    for (int i = 0; i < 4; i++) TT_ASSERT_INT(k[i].status, 0);
    struct limiter_status st;
    limiter_status_get(lim, &st);
    TT_ASSERT_INT(st.queued, 0);
    limiter_client_free(keep);
    teardown();
}

static void test_bad_config_is_refused(void) {
    TT_ASSERT_INT(uv_loop_init(&loop), 0);
    const struct limiter_window zero[] = {{LIMITER_WEIGHT, 0, 1000, 0}};
    struct limiter_config cfg = {.name = "bad", .windows = zero, .n_windows = 1};
    struct limiter *l = NULL;
    TT_ASSERT_INT(limiter_new(&loop, &cfg, &l), UV_EINVAL);
    cfg.n_windows = LIMITER_WINDOWS_MAX + 1;
    TT_ASSERT_INT(limiter_new(&loop, &cfg, &l), UV_EINVAL);
    TT_ASSERT_INT(uv_loop_close(&loop), 0);
}

int main(void) {
    TT_RUN(test_overload_never_exceeds_any_window);
    TT_RUN(test_fair_share_between_clients);
    TT_RUN(test_client_windows_and_kinds);
    TT_RUN(test_pause_blocks_everything_until_its_end);
    TT_RUN(test_pause_is_capped_by_max_pause);
    TT_RUN(test_server_used_weight_raises_the_count);
    TT_RUN(test_cancel_and_close_from_callbacks);
    TT_RUN(test_free_client_with_queued_requests);
    TT_RUN(test_bad_config_is_refused);
    return tt_finish();
}
