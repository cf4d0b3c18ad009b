/* test_amqp_sink.c -- the RabbitMQ publisher against a real rabbitmq-server (tests/lib/servers.sh).
 *
 * The consumer is this test, with rabbitmq-c directly: a durable queue bound to `tick.#` on the sink's
 * exchange (one exchange per test, so runs never see each other's messages), drained after the sink has
 * everything confirmed. The outage test stops the broker for ~8 s while ticks keep coming. Trades go to the same
 * queue (bound to `trade.#` too), books and their deltas (`book.#`, `bookdelta.#`) and instrument changes
 * (`instrument.#`). */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <uv.h>

#include "tickd/amqp_sink.h"
#include "tickd/book.h"
#include "tickd/clock.h"
#include "tickd/config.h"
#include "tickd/decimal.h"
#include "tickd/log.h"
#include "tickd/sink.h"
#include "tt.h"

static const char *amqp_url, *servers_sh;
static char exchange[256], queue[272];
static int test_no;

static void need_amqp(void) {
    if (!amqp_url) TT_SKIP("TICKD_TEST_AMQP_URL unset (start tests/lib/servers.sh)");
    snprintf(exchange, sizeof exchange, "tickd-t%d-%d", (int)getpid(), ++test_no);
    snprintf(queue, sizeof queue, "q-%s", exchange);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static struct tick mk(const char *venue, const char *symbol, uint64_t seq) {
    struct tick t = {.has_seq = true, .seq = seq, .event_us = 1700000000000000 + (int64_t)seq,
                     .recv_us = 1700000000000100 + (int64_t)seq, .origin = TICK_ORIGIN_STREAM};
    snprintf(t.venue, sizeof t.venue, "%s", venue);
    snprintf(t.symbol, sizeof t.symbol, "%s", symbol);
    snprintf(t.bid, sizeof t.bid, "%" PRIu64 ".10", seq);
    snprintf(t.bid_qty, sizeof t.bid_qty, "0.000%" PRIu64, seq);
    snprintf(t.ask, sizeof t.ask, "%" PRIu64 ".2000", seq + 1);
    snprintf(t.ask_qty, sizeof t.ask_qty, "0.00000001");
    snprintf(t.last, sizeof t.last, "%" PRIu64 ".15", seq);
    return t;
}

static bool amqp_bytes_equal(amqp_bytes_t a, amqp_bytes_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.bytes, b.bytes, a.len) == 0);
}

/* ---- the consumer ------------------------------------------------------------------------------------- */

static amqp_connection_state_t consumer_open(bool consume) {
    char url[512];
    struct amqp_connection_info info;
    snprintf(url, sizeof url, "%s", amqp_url);
    if (amqp_parse_url(url, &info) != AMQP_STATUS_OK) TT_FAIL("bad url");
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(c);
    struct timeval tv = {10, 0};
    if (amqp_socket_open_noblock(sock, info.host, info.port, &tv) != AMQP_STATUS_OK) TT_FAIL("consumer connect");
    if (amqp_login(c, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password).reply_type !=
        AMQP_RESPONSE_NORMAL)
        TT_FAIL("consumer login");
    amqp_channel_open(c, 1);
    amqp_exchange_declare(c, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"), 0, 1, 0, 0,
                          amqp_empty_table);
    amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    amqp_queue_bind(c, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), amqp_cstring_bytes("tick.#"),
                    amqp_empty_table);
    amqp_queue_bind(c, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), amqp_cstring_bytes("trade.#"),
                    amqp_empty_table);
    amqp_queue_bind(c, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), amqp_cstring_bytes("book.#"),
                    amqp_empty_table);
    amqp_queue_bind(c, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes("bookdelta.#"), amqp_empty_table);
    amqp_queue_bind(c, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes("instrument.#"), amqp_empty_table);
    if (consume)
        amqp_basic_consume(c, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
    if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL) TT_FAIL("consumer setup");
    return c;
}

static void consumer_close(amqp_connection_state_t c, bool delete_queue) {
    if (delete_queue) {
        amqp_queue_delete(c, 1, amqp_cstring_bytes(queue), 0, 0);
        amqp_exchange_delete(c, 1, amqp_cstring_bytes(exchange), 0);
    }
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
}

/* The next message within timeout_ms: 1, or 0 when none came. */
static int consumer_next(amqp_connection_state_t c, amqp_envelope_t *env, unsigned timeout_ms) {
    struct timeval tv = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000};
    amqp_maybe_release_buffers(c);
    amqp_rpc_reply_t r = amqp_consume_message(c, env, &tv, 0);
    return r.reply_type == AMQP_RESPONSE_NORMAL;
}

#define MAX_INSTR 256

/* Per instrument: the sequences seen (from message_id), checked as they come, and the last body. */
struct seen {
    char name[64];
    uint64_t last_seq;
    unsigned count, not_increasing, duplicates;
    char last_body[SINK_JSON_MAX];
};

static struct seen *seen_for(struct seen *tab, size_t *n, const char *name) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp(tab[i].name, name) == 0) return &tab[i];
    if (*n >= MAX_INSTR) return NULL;
    struct seen *s = &tab[(*n)++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

/* Drains until idle_ms pass without a message; returns how many came. */
static unsigned drain(amqp_connection_state_t c, struct seen *tab, size_t *n, unsigned idle_ms) {
    unsigned total = 0;
    amqp_envelope_t env;
    while (consumer_next(c, &env, idle_ms)) {
        char rk[64], id[128];
        snprintf(rk, sizeof rk, "%.*s", (int)env.routing_key.len, (char *)env.routing_key.bytes);
        snprintf(id, sizeof id, "%.*s", (int)env.message.properties.message_id.len,
                 (char *)env.message.properties.message_id.bytes);
        struct seen *s = seen_for(tab, n, rk);
        const char *colon = strrchr(id, ':');
        uint64_t seq = colon ? strtoull(colon + 1, NULL, 10) : 0;
        if (s) {
            if (s->count && seq == s->last_seq) s->duplicates++;
            else if (s->count && seq < s->last_seq) s->not_increasing++;
            s->last_seq = seq;
            s->count++;
            snprintf(s->last_body, sizeof s->last_body, "%.*s", (int)env.message.body.len,
                     (char *)env.message.body.bytes);
        }
        amqp_destroy_envelope(&env);
        total++;
    }
    return total;
}

/* ---- sink helpers ---------------------------------------------------------------------------------------- */

static struct amqp_sink *open_sink(uv_loop_t *loop, uint64_t limit) {
    struct amqp_sink_config cfg = {.url = amqp_url, .exchange = exchange, .buffer_limit = limit,
                                   .backoff_min_ms = 100, .backoff_max_ms = 1000, .heartbeat_s = 4,
                                   .connect_timeout_ms = 2000, .close_deadline_ms = 5000};
    struct amqp_sink *s = NULL;
    TT_ASSERT_INT(amqp_sink_new(loop, &cfg, &s), 0);
    return s;
}

/* Runs the loop's due work, as the daemon's loop does between reads (the sink wakes its thread once per loop
 * turn), then sleeps. */
static void loop_pause(uv_loop_t *loop, unsigned ms) {
    uv_run(loop, UV_RUN_NOWAIT);
    sleep_ms(ms);
}

/* Waits until everything put is confirmed. */
static bool wait_settled(uv_loop_t *loop, struct amqp_sink *s, uint64_t timeout_ms) {
    uint64_t end = now_ms() + timeout_ms;
    struct amqp_sink_stats st;
    do {
        amqp_sink_stats(s, &st);
        if (st.connected && st.depth == 0 && st.trade_depth == 0) return true;
        loop_pause(loop, 5);
    } while (now_ms() < end);
    return false;
}

static void set_flag(void *arg) {
    *(bool *)arg = true;
}

static void close_sink(uv_loop_t *loop, struct amqp_sink *s) {
    bool closed = false;
    amqp_sink_close(s, set_flag, &closed);
    uint64_t end = now_ms() + 20000;
    while (!closed && now_ms() < end) uv_run(loop, UV_RUN_ONCE);
    TT_ASSERT(closed);
    TT_ASSERT_INT(uv_loop_close(loop), 0);
}

/* ---- the shared tick text (sink.h), against the snprintf/strspn forms it replaced ---------------------------- */

static int reference_json(const struct tick *t, char *out, size_t outlen) {
    char last[TICK_DECIMAL_MAX + 2] = "null", seq[24] = "null";
    if (t->last[0]) snprintf(last, sizeof last, "\"%s\"", t->last);
    if (t->has_seq) snprintf(seq, sizeof seq, "%" PRIu64, t->seq);
    int n = snprintf(out, outlen,
                     "{\"venue\":\"%s\",\"symbol\":\"%s\",\"bid\":\"%s\",\"bid_qty\":\"%s\",\"ask\":\"%s\","
                     "\"ask_qty\":\"%s\",\"last\":%s,\"event_us\":%" PRId64 ",\"seq\":%s,\"recv_us\":%" PRId64
                     ",\"sent_us\":%" PRId64 ",\"origin\":\"%s\"}",
                     t->venue, t->symbol, t->bid, t->bid_qty, t->ask, t->ask_qty, last, t->event_us, seq,
                     t->recv_us, t->sent_us, sink_origin_name(t->origin));
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

static uint64_t rnd64(unsigned *seed) {
    uint64_t v = 0;
    for (int i = 0; i < 4; i++) v = v << 16 ^ (uint64_t)(rand_r(seed) & 0xffff);
    return v;
}

static void rnd_text(unsigned *seed, char *out, size_t size, const char *alphabet, size_t min_len) {
    size_t len = min_len + (size_t)rand_r(seed) % (size - min_len); /* up to size - 1: the longest allowed */
    for (size_t i = 0; i < len; i++) out[i] = alphabet[(size_t)rand_r(seed) % strlen(alphabet)];
    out[len] = 0;
}

/* Empty, or a decimal of decimal.h's syntax up to size - 1 characters: a sign, integer digits, a fraction. */
static void rnd_decimal(unsigned *seed, char *out, size_t size) {
    size_t len = (size_t)rand_r(seed) % size, i = 0;
    if (len && rand_r(seed) % 3 == 0) out[i++] = '-';
    size_t point = len >= i + 3 && rand_r(seed) % 2 ? i + 1 + (size_t)rand_r(seed) % (len - i - 2) : SIZE_MAX;
    for (; i < len; i++) out[i] = i == point ? '.' : (char)('0' + rand_r(seed) % 10);
    if (len == 1 && out[0] == '-') out[0] = '7';
    out[len] = 0;
}

static int64_t rnd_time(unsigned *seed) {
    static const int64_t edges[] = {0, -1, 1, INT64_MIN, INT64_MAX, 9, 10, 1700000000000000};
    int pick = rand_r(seed) % 12;
    return pick < 8 ? edges[pick] : (int64_t)rnd64(seed);
}

static void test_json_matches_reference(void) {
    unsigned seed = 8;
    for (int i = 0; i < 100000; i++) {
        struct tick t = {.has_seq = rand_r(&seed) % 2, .origin = rand_r(&seed) % 2 ? TICK_ORIGIN_REST : TICK_ORIGIN_STREAM};
        rnd_text(&seed, t.venue, sizeof t.venue, "abcxyz019_-", 1);
        rnd_text(&seed, t.symbol, sizeof t.symbol, "ABCXYZ019._-", 1);
        char *decimals[] = {t.bid, t.bid_qty, t.ask, t.ask_qty, t.last};
        for (size_t d = 0; d < 5; d++) rnd_decimal(&seed, decimals[d], TICK_DECIMAL_MAX);
        t.seq = rand_r(&seed) % 3 ? rnd64(&seed) : UINT64_MAX;
        t.event_us = rnd_time(&seed);
        t.recv_us = rnd_time(&seed);
        t.sent_us = rnd_time(&seed);
        TT_ASSERT(sink_tick_invalid(&t) == NULL);
        char want[SINK_JSON_MAX + 8], got[SINK_JSON_MAX + 8];
        size_t outlen = i % 4 ? sizeof want : (size_t)rand_r(&seed) % (SINK_JSON_MAX + 1); /* small ones too */
        memset(got, 'x', sizeof got);
        int wn = reference_json(&t, want, outlen), gn = sink_tick_json(&t, got, outlen);
        TT_ASSERT_INT(gn, wn);
        if (wn >= 0) TT_ASSERT_STR(got, want);
        TT_ASSERT(outlen >= sizeof want || got[outlen] == 'x'); /* nothing written past outlen */
    }
}

static bool reference_field_ok(const char *s, size_t size, const char *allowed, bool may_be_empty) {
    const char *end = memchr(s, '\0', size);
    if (!end || (end == s && !may_be_empty)) return false;
    return strspn(s, allowed) == (size_t)(end - s);
}

/* Every byte value, alone and inside a valid text, and the terminator rules. */
static void test_field_checks_match_reference(void) {
    const char *venue = "0123456789abcdefghijklmnopqrstuvwxyz_-", *symbol = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ._-";
    for (int c = 1; c < 256; c++) {
        for (int where = 0; where < 3; where++) {
            char text[8] = "1a1";
            if (where == 0) text[0] = (char)c, text[1] = 0;
            else text[where] = (char)c;
            TT_ASSERT_INT(sink_venue_ok(text, sizeof text), reference_field_ok(text, sizeof text, venue, false));
            TT_ASSERT_INT(sink_symbol_ok(text, sizeof text), reference_field_ok(text, sizeof text, symbol, false));
            TT_ASSERT_INT(sink_decimal_ok(text, sizeof text), text[0] == 0 || decimal_valid(text));
        }
    }
    TT_ASSERT(!sink_venue_ok("", 1) && !sink_symbol_ok("", 1) && sink_decimal_ok("", 1));
    TT_ASSERT(!sink_decimal_ok("123", 3)); /* no terminator inside the array */
    TT_ASSERT(sink_decimal_ok("123", 4));
    /* One syntax with the adapters and the merge: no exponent, sign or bare point gets into a sink. */
    const char *refused[] = {"1e5", "+1", "1.", ".5", "--1", "1-", "1.2.3", "-"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) TT_ASSERT(!sink_decimal_ok(refused[i], 8));
}

/* The accepted variant checks only what the merge does not: venue and symbol characters. */
static void test_put_accepted_still_checks_names(void) {
    need_amqp();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_sink(&loop, 0);
    struct tick bad = mk("binance", "BTC USDT.#", 1), good = mk("binance", "BTC-USDT", 2);
    TT_ASSERT_INT(amqp_sink_put_accepted(s, 0, &bad), -EINVAL);
    TT_ASSERT_INT(amqp_sink_put_accepted(s, 1, &good), 0);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.refused, 1);
    TT_ASSERT_INT(st.published, 1);
    close_sink(&loop, s);
}

/* ---- tests -------------------------------------------------------------------------------------------------- */

static void test_message_format(void) {
    need_amqp();
    amqp_connection_state_t c = consumer_open(true);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_sink(&loop, 0);
    struct tick a = mk("binance", "BTC-USDT", 77), b = mk("kraken", "ETH.X-USD", 5);
    b.has_seq = false;
    b.last[0] = 0;
    TT_ASSERT_INT(amqp_sink_put(s, &a), 0);
    TT_ASSERT(wait_settled(&loop, s, 10000)); /* in order: a, then b */
    TT_ASSERT_INT(amqp_sink_put(s, &b), 0);
    struct tick bad = mk("binance", "BTC USDT.#", 1);
    TT_ASSERT_INT(amqp_sink_put(s, &bad), -EINVAL);
    TT_ASSERT(wait_settled(&loop, s, 10000));

    amqp_envelope_t env;
    char body[SINK_JSON_MAX];
    TT_ASSERT(consumer_next(c, &env, 5000));
    amqp_basic_properties_t *p = &env.message.properties;
    TT_ASSERT(p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG);
    TT_ASSERT(p->_flags & AMQP_BASIC_TIMESTAMP_FLAG);
    TT_ASSERT(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG);
    TT_ASSERT_INT(p->delivery_mode, AMQP_DELIVERY_PERSISTENT);
    TT_ASSERT_INT(p->timestamp, 1700000000);
    TT_ASSERT(amqp_bytes_equal(p->content_type, amqp_cstring_bytes("application/json")));
    TT_ASSERT(amqp_bytes_equal(p->message_id, amqp_cstring_bytes("binance:BTC-USDT:77")));
    TT_ASSERT(amqp_bytes_equal(env.routing_key, amqp_cstring_bytes("tick.binance.BTC-USDT")));
    sink_tick_json(&a, body, sizeof body);
    TT_ASSERT(amqp_bytes_equal(env.message.body, amqp_cstring_bytes(body)));
    amqp_destroy_envelope(&env);

    TT_ASSERT(consumer_next(c, &env, 5000));
    TT_ASSERT(amqp_bytes_equal(env.routing_key, amqp_cstring_bytes("tick.kraken.ETH_X-USD")));
    TT_ASSERT(amqp_bytes_equal(env.message.properties.message_id,
                               amqp_cstring_bytes("kraken:ETH.X-USD:1700000000000005")));
    sink_tick_json(&b, body, sizeof body);
    TT_ASSERT(strstr(body, "\"symbol\":\"ETH.X-USD\"") && strstr(body, "\"last\":null,"));
    TT_ASSERT(amqp_bytes_equal(env.message.body, amqp_cstring_bytes(body)));
    amqp_destroy_envelope(&env);
    TT_ASSERT(!consumer_next(c, &env, 300)); /* nothing else: the hostile tick was refused */

    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.published, 2);
    TT_ASSERT_INT(st.confirmed, 2);
    TT_ASSERT_INT(st.refused, 1);
    close_sink(&loop, s);
    consumer_close(c, true);
}

#define STREAM_INSTR 100

/* One tick for every instrument, by name, or by id as the daemon puts them (the id is the instrument's index). */
static void put_round_by(struct amqp_sink *s, uint64_t r, bool by_id) {
    char sym[32];
    for (int i = 0; i < STREAM_INSTR; i++) {
        snprintf(sym, sizeof sym, "I%d-USDT", i);
        struct tick t = mk("binance", sym, r);
        int rc = by_id ? amqp_sink_put_accepted(s, (uint32_t)i, &t) : amqp_sink_put(s, &t);
        if (rc) TT_FAIL("put: %d", rc);
    }
}

static void put_round(struct amqp_sink *s, uint64_t r) {
    put_round_by(s, r, false);
}

static void check_final(struct seen *tab, size_t n, uint64_t last, bool allow_duplicates) {
    TT_ASSERT_INT(n, STREAM_INSTR);
    unsigned dups = 0;
    for (size_t i = 0; i < n; i++) {
        TT_ASSERT_INT(tab[i].not_increasing, 0);
        if (!allow_duplicates) TT_ASSERT_INT(tab[i].duplicates, 0);
        dups += tab[i].duplicates;
        TT_ASSERT_INT(tab[i].last_seq, last);
        struct tick want = mk("binance", tab[i].name + strlen("tick.binance."), last);
        char body[SINK_JSON_MAX];
        sink_tick_json(&want, body, sizeof body);
        TT_ASSERT_STR(tab[i].last_body, body);
    }
    if (dups) fprintf(stderr, "    %u duplicate deliveries after reconnects (at least once)\n", dups);
}

/* Puts by id publish what puts by name do: instruments new to the buffer, replaced while waiting, and again
 * by id after their records were confirmed and freed; a consumer sees every instrument's last tick. */
static void test_put_by_id_publishes_as_by_name(void) {
    need_amqp();
    amqp_connection_state_t c = consumer_open(false);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_sink(&loop, 0);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    put_round_by(s, 1, true);
    put_round_by(s, 2, false); /* the same records, found by name */
    put_round_by(s, 3, true);
    TT_ASSERT(wait_settled(&loop, s, 30000)); /* confirmed: the records are freed */
    put_round_by(s, 4, true);
    TT_ASSERT(wait_settled(&loop, s, 30000));
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.published, st.confirmed);
    TT_ASSERT_INT(st.depth, 0);
    close_sink(&loop, s);
    consumer_close(c, false);

    c = consumer_open(true);
    static struct seen tab[MAX_INSTR];
    size_t n = 0;
    TT_ASSERT_INT(drain(c, tab, &n, 1000), st.confirmed);
    check_final(tab, n, 4, false);
    consumer_close(c, true);
}

/* A turn's puts go out as batches of publishes in one write each (the frames encoded here, not by rabbitmq-c):
 * 600 instruments, more than two batches, every field at its longest and an exchange name of 255 bytes, the
 * most AMQP allows. Each message arrives whole, with its own properties and body. */
#define BATCH_INSTR 600
static void test_batches_of_longest_publishes(void) {
    need_amqp();
    memset(exchange, 'x', 255);
    exchange[255] = 0;
    snprintf(exchange, 40, "tickd-t%d-%d-", (int)getpid(), test_no);
    exchange[strlen(exchange)] = 'x'; /* snprintf's NUL, back to the padding */
    snprintf(queue, sizeof queue, "q-%d-%d", (int)getpid(), test_no);
    TT_ASSERT_INT(strlen(exchange), 255);
    amqp_connection_state_t c = consumer_open(false);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_sink(&loop, 0);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    static const char longest[] = "123456789012345678.12345678901234567890";
    _Static_assert(sizeof longest == TICK_DECIMAL_MAX, "a decimal of the largest size");
    static struct tick sent[BATCH_INSTR];
    for (int i = 0; i < BATCH_INSTR; i++) {
        struct tick *t = &sent[i];
        char sym[48];
        snprintf(sym, sizeof sym, "S%05d-%s", i, "XXXXXXXXXXXXXXXXXXXXXXXX"); /* 31 characters */
        *t = mk("binance", sym, UINT64_MAX - (uint64_t)i);
        TT_ASSERT_INT(strlen(t->symbol), TICK_SYMBOL_MAX - 1);
        memcpy(t->bid, longest, sizeof longest);
        memcpy(t->bid_qty, longest, sizeof longest);
        memcpy(t->ask, longest, sizeof longest);
        memcpy(t->ask_qty, longest, sizeof longest);
        memcpy(t->last, longest, sizeof longest);
        t->event_us = t->recv_us = t->sent_us = INT64_MIN;
        TT_ASSERT_INT(amqp_sink_put(s, t), 0);
    }
    TT_ASSERT(wait_settled(&loop, s, 30000));
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.published, BATCH_INSTR);
    TT_ASSERT_INT(st.confirmed, BATCH_INSTR);
    close_sink(&loop, s);

    amqp_basic_consume(c, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
    TT_ASSERT(amqp_get_rpc_reply(c).reply_type == AMQP_RESPONSE_NORMAL);
    static bool got[BATCH_INSTR];
    memset(got, 0, sizeof got);
    amqp_envelope_t env;
    char want[SINK_JSON_MAX], id[128], rk[128];
    int n = 0;
    while (n < BATCH_INSTR && consumer_next(c, &env, 5000)) {
        int i = atoi((char *)env.routing_key.bytes + strlen("tick.binance.S"));
        TT_ASSERT(i >= 0 && i < BATCH_INSTR && !got[i]);
        got[i] = true;
        const struct tick *t = &sent[i];
        snprintf(rk, sizeof rk, "tick.binance.%s", t->symbol);
        snprintf(id, sizeof id, "binance:%s:%" PRIu64, t->symbol, t->seq);
        TT_ASSERT_INT(sink_tick_json(t, want, sizeof want) > 0, 1);
        TT_ASSERT(amqp_bytes_equal(env.routing_key, amqp_cstring_bytes(rk)));
        TT_ASSERT(amqp_bytes_equal(env.exchange, amqp_cstring_bytes(exchange)));
        TT_ASSERT(amqp_bytes_equal(env.message.properties.message_id, amqp_cstring_bytes(id)));
        TT_ASSERT_INT(env.message.properties.delivery_mode, AMQP_DELIVERY_PERSISTENT);
        TT_ASSERT_INT(env.message.properties.timestamp, 0); /* an unset receive time */
        TT_ASSERT(amqp_bytes_equal(env.message.body, amqp_cstring_bytes(want)));
        amqp_destroy_envelope(&env);
        n++;
    }
    TT_ASSERT_INT(n, BATCH_INSTR);
    consumer_close(c, true);
}

static void test_stream_increasing_and_last(void) {
    need_amqp();
    amqp_connection_state_t c = consumer_open(false); /* the queue collects; drained at the end */
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_sink(&loop, 0);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    /* Every instrument changes as fast as this thread can put, for 1.5 s: the buffer conflates what the
     * broker cannot take; confirms/s is the broker's pace (durable queue, persistent messages). */
    uint64_t t0 = now_ms(), r = 0;
    while (now_ms() - t0 < 1500) {
        put_round(s, ++r);
        if (r % 20 == 0) loop_pause(&loop, 1); /* leave the publisher thread a core now and then */
    }
    TT_ASSERT(wait_settled(&loop, s, 30000));
    uint64_t ms = now_ms() - t0;
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    fprintf(stderr,
            "    rabbitmq: %" PRIu64 " puts, %" PRIu64 " published, %" PRIu64 " confirmed in %" PRIu64
            " ms = %.0f confirms/s (durable queue, persistent)\n",
            r * STREAM_INSTR, st.published, st.confirmed, ms, st.confirmed * 1000.0 / (double)ms);
    TT_ASSERT_INT(st.published, st.confirmed);
    close_sink(&loop, s);
    consumer_close(c, false);

    c = consumer_open(true);
    static struct seen tab[MAX_INSTR];
    size_t n = 0;
    unsigned got = drain(c, tab, &n, 1000);
    TT_ASSERT_INT(got, st.confirmed);
    check_final(tab, n, r, false);
    consumer_close(c, true);
}

static atomic_bool outage_over;

static void *outage(void *arg) {
    (void)arg;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "%s rabbit_stop && sleep 8 && %s rabbit_start", servers_sh, servers_sh);
    intptr_t rc = system(cmd);
    atomic_store(&outage_over, true);
    return (void *)rc;
}

static void test_broker_outage(void) {
    need_amqp();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset: cannot stop the broker");
    consumer_close(consumer_open(false), false); /* durable queue bound before the first tick */
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_sink(&loop, 0);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    uint64_t r = 0;
    for (; r < 50; r++) put_round(s, r + 1);

    pthread_t th;
    TT_ASSERT(pthread_create(&th, NULL, outage, NULL) == 0);
    uint64_t max_depth = 0, t0 = now_ms();
    long rss_max = 0, rss_start = rss_kb();
    bool outage_done = false, saw_disconnect = false;
    uint64_t after = 0;
    while (!outage_done || after++ < 200) { /* ticks keep coming through the outage and a while after */
        put_round(s, ++r);
        struct amqp_sink_stats st;
        amqp_sink_stats(s, &st);
        if (st.depth > max_depth) max_depth = st.depth;
        if (!st.connected) saw_disconnect = true;
        long kb = rss_kb();
        if (kb > rss_max) rss_max = kb;
        loop_pause(&loop, 5);
        if (!outage_done && atomic_load(&outage_over)) {
            void *rc;
            pthread_join(th, &rc);
            TT_ASSERT(rc == NULL);
            outage_done = true;
        }
        TT_ASSERT(now_ms() - t0 < 120000);
    }
    TT_ASSERT(wait_settled(&loop, s, 30000));
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    fprintf(stderr,
            "    outage: %" PRIu64 " rounds x %d instruments; published=%" PRIu64 " confirmed=%" PRIu64
            " nacked=%" PRIu64 " reconnects=%" PRIu64 " max_depth=%" PRIu64 " rss start=%ld kB max=%ld kB\n",
            r, STREAM_INSTR, st.published, st.confirmed, st.nacked, st.reconnects, max_depth, rss_start, rss_max);
    TT_ASSERT(saw_disconnect);
    TT_ASSERT(st.reconnects >= 1);
    TT_ASSERT(max_depth <= STREAM_INSTR);
    close_sink(&loop, s);

    amqp_connection_state_t c = consumer_open(true);
    static struct seen tab[MAX_INSTR];
    size_t n = 0;
    drain(c, tab, &n, 1500);
    check_final(tab, n, r, true);
    consumer_close(c, true);
}

/* rabbitmqctl against the test node (servers.sh knows its environment). */
static int rabbitmqctl(const char *args) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "bash -c 'source %s && _load_state && _rabbit_env && "
             "/usr/lib/rabbitmq/bin/rabbitmqctl -q -n \"$RABBITMQ_NODENAME\" %s' >/dev/null 2>&1",
             servers_sh, args);
    return system(cmd);
}

/* A memory alarm makes the broker send connection.blocked: the sink stops publishing and buffers (depth stays
 * at most the number of instruments), put never blocks; once unblocked, the latest of every instrument
 * arrives. */
static void test_connection_blocked(void) {
    need_amqp();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset");
    consumer_close(consumer_open(false), false);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_sink(&loop, 0);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    uint64_t r = 0;
    put_round(s, ++r);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    if (rabbitmqctl("set_vm_memory_high_watermark 0.000001") != 0) TT_SKIP("rabbitmqctl failed");
    bool saw_blocked = false;
    uint64_t max_depth = 0, max_put_ms = 0, t0 = now_ms();
    while (now_ms() - t0 < 3000) {
        uint64_t p0 = now_ms();
        put_round(s, ++r);
        if (now_ms() - p0 > max_put_ms) max_put_ms = now_ms() - p0;
        struct amqp_sink_stats st;
        amqp_sink_stats(s, &st);
        saw_blocked |= st.blocked;
        if (st.depth > max_depth) max_depth = st.depth;
        loop_pause(&loop, 5);
    }
    int rc = rabbitmqctl("set_vm_memory_high_watermark 0.4");
    TT_ASSERT_INT(rc, 0);
    TT_ASSERT(wait_settled(&loop, s, 30000));
    fprintf(stderr, "    blocked: seen=%d max_depth=%" PRIu64 " slowest put round=%" PRIu64 " ms\n", saw_blocked,
            max_depth, max_put_ms);
    TT_ASSERT(saw_blocked);
    TT_ASSERT(max_depth <= STREAM_INSTR);
    close_sink(&loop, s);
    amqp_connection_state_t c = consumer_open(true);
    static struct seen tab[MAX_INSTR];
    size_t n = 0;
    drain(c, tab, &n, 1000);
    check_final(tab, n, r, false);
    consumer_close(c, true);
}

/* ---- trades ------------------------------------------------------------------------------------------------ */

static struct trade mk_trade(const char *venue, const char *symbol, uint64_t id) {
    struct trade t = {.side = id % 2 ? TRADE_SIDE_BUY : TRADE_SIDE_SELL, .event_us = 1700000000000000 + (int64_t)id,
                      .recv_us = 1700000000000500 + (int64_t)id, .origin = TICK_ORIGIN_STREAM, .run = 1};
    snprintf(t.venue, sizeof t.venue, "%s", venue);
    snprintf(t.symbol, sizeof t.symbol, "%s", symbol);
    snprintf(t.id, sizeof t.id, "%" PRIu64, id);
    snprintf(t.price, sizeof t.price, "%" PRIu64 ".25", id);
    snprintf(t.qty, sizeof t.qty, "0.00%" PRIu64, id);
    return t;
}

static struct amqp_sink *open_trade_sink(uv_loop_t *loop, const char *url, uint64_t trade_buffer) {
    struct amqp_sink_config cfg = {.url = url, .exchange = exchange, .trade_buffer = trade_buffer,
                                   .backoff_min_ms = 100, .backoff_max_ms = 1000, .heartbeat_s = 4,
                                   .connect_timeout_ms = 2000, .close_deadline_ms = 5000};
    struct amqp_sink *s = NULL;
    TT_ASSERT_INT(amqp_sink_new(loop, &cfg, &s), 0);
    return s;
}

/* The trades a consumer saw, in the order it saw them: per instrument (routing key) the ids from message ids. */
struct trades_seen {
    unsigned count, out_of_order, duplicates, bad;
    uint64_t last_id[4], first_id[4];
    unsigned per[4];
};

/* Drains the queue: trades of up to 4 symbols "T0".."T3" of binance; quotes are counted in *quotes. Checks each
 * trade's key, id and body against mk_trade. */
static void drain_trades(amqp_connection_state_t c, struct trades_seen *ts, unsigned *quotes, unsigned idle_ms) {
    memset(ts, 0, sizeof *ts);
    amqp_envelope_t env;
    while (consumer_next(c, &env, idle_ms)) {
        char rk[64], id[128], body[SINK_JSON_MAX];
        snprintf(rk, sizeof rk, "%.*s", (int)env.routing_key.len, (char *)env.routing_key.bytes);
        snprintf(id, sizeof id, "%.*s", (int)env.message.properties.message_id.len,
                 (char *)env.message.properties.message_id.bytes);
        if (strncmp(rk, "tick.", 5) == 0) {
            if (quotes) (*quotes)++;
            amqp_destroy_envelope(&env);
            continue;
        }
        int k = -1;
        uint64_t n = 0;
        if (sscanf(rk, "trade.binance.T%d", &k) != 1 || k < 0 || k > 3) {
            ts->bad++;
            amqp_destroy_envelope(&env);
            continue;
        }
        char sym[8], want_id[64];
        snprintf(sym, sizeof sym, "T%d", k);
        const char *colon = strrchr(id, ':');
        n = colon ? strtoull(colon + 1, NULL, 10) : 0;
        snprintf(want_id, sizeof want_id, "binance:%s:%" PRIu64, sym, n);
        struct trade want = mk_trade("binance", sym, n);
        sink_trade_json(&want, body, sizeof body);
        if (strcmp(id, want_id) != 0 || !amqp_bytes_equal(env.message.body, amqp_cstring_bytes(body))) ts->bad++;
        if (ts->per[k] && n == ts->last_id[k]) ts->duplicates++;
        else if (ts->per[k] && n < ts->last_id[k]) ts->out_of_order++;
        if (!ts->per[k]) ts->first_id[k] = n;
        ts->last_id[k] = n;
        ts->per[k]++;
        ts->count++;
        amqp_destroy_envelope(&env);
    }
}

/* Every trade published once, in order per instrument, with its routing key, message id, body and properties. */
static void test_trade_message_format(void) {
    need_amqp();
    amqp_connection_state_t c = consumer_open(true);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_trade_sink(&loop, amqp_url, 0);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    struct trade a = mk_trade("kraken", "ETH.X-USD", 42);
    snprintf(a.id, sizeof a.id, "%s", "ab-12_Z.9"); /* ids are text */
    a.side = TRADE_SIDE_UNKNOWN;
    a.event_us = 0;
    TT_ASSERT_INT(amqp_sink_put_trade(s, &a), 0);
    struct trade bad = mk_trade("binance", "T0", 1);
    snprintf(bad.id, sizeof bad.id, "%s", "a\"b");
    TT_ASSERT_INT(amqp_sink_put_trade(s, &bad), -EINVAL);
    bad = mk_trade("binance", "T0", 1);
    bad.price[0] = 0;
    TT_ASSERT_INT(amqp_sink_put_trade(s, &bad), -EINVAL);
    TT_ASSERT(wait_settled(&loop, s, 10000));

    amqp_envelope_t env;
    char body[SINK_JSON_MAX];
    TT_ASSERT(consumer_next(c, &env, 5000));
    amqp_basic_properties_t *p = &env.message.properties;
    TT_ASSERT(p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG);
    TT_ASSERT(p->_flags & AMQP_BASIC_TIMESTAMP_FLAG);
    TT_ASSERT(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG);
    TT_ASSERT_INT(p->delivery_mode, AMQP_DELIVERY_PERSISTENT);
    TT_ASSERT_INT(p->timestamp, 1700000000);
    TT_ASSERT(amqp_bytes_equal(p->content_type, amqp_cstring_bytes("application/json")));
    TT_ASSERT(amqp_bytes_equal(p->message_id, amqp_cstring_bytes("kraken:ETH.X-USD:ab-12_Z.9")));
    TT_ASSERT(amqp_bytes_equal(env.routing_key, amqp_cstring_bytes("trade.kraken.ETH_X-USD")));
    TT_ASSERT(sink_trade_json(&a, body, sizeof body) > 0);
    TT_ASSERT(strstr(body, "\"side\":\"unknown\"") && strstr(body, "\"event_us\":0,"));
    TT_ASSERT(amqp_bytes_equal(env.message.body, amqp_cstring_bytes(body)));
    amqp_destroy_envelope(&env);

    /* a stream of trades of 4 instruments, interleaved, many per loop turn */
    for (uint64_t i = 1; i <= 2000; i++) {
        char sym[8];
        snprintf(sym, sizeof sym, "T%d", (int)(i % 4));
        struct trade t = mk_trade("binance", sym, i);
        TT_ASSERT_INT(amqp_sink_put_trade(s, &t), 0);
        if (i % 100 == 0) loop_pause(&loop, 1);
    }
    TT_ASSERT(wait_settled(&loop, s, 30000));
    struct trades_seen ts;
    drain_trades(c, &ts, NULL, 500);
    TT_ASSERT_INT(ts.bad, 0);
    TT_ASSERT_INT(ts.count, 2000);
    TT_ASSERT_INT(ts.duplicates, 0);
    TT_ASSERT_INT(ts.out_of_order, 0);
    for (int k = 0; k < 4; k++) TT_ASSERT_INT(ts.per[k], 500);
    TT_ASSERT_INT(ts.last_id[0], 2000);
    TT_ASSERT_INT(ts.first_id[1], 1);

    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.trades, 2001);
    TT_ASSERT_INT(st.trades_published, 2001);
    TT_ASSERT_INT(st.trades_confirmed, 2001);
    TT_ASSERT_INT(st.trades_refused, 2);
    TT_ASSERT_INT(st.trades_dropped, 0);
    TT_ASSERT_INT(st.trade_depth, 0);
    TT_ASSERT_INT(st.trade_bytes, 0);
    TT_ASSERT_INT(st.published, 0); /* the tick counters count ticks only */
    TT_ASSERT_INT(st.confirmed, 0);
    close_sink(&loop, s);
    consumer_close(c, true);
}

static int capture_log(void) {
    char tmpl[] = "/tmp/tickd-amqp-logXXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) TT_FAIL("mkstemp");
    unlink(tmpl);
    log_set_fd(fd);
    return fd;
}

static char captured[1 << 16];

static const char *captured_log(int fd) {
    log_set_fd(-1);
    ssize_t n = pread(fd, captured, sizeof captured - 1, 0);
    captured[n < 0 ? 0 : n] = 0;
    close(fd);
    return captured;
}

static unsigned count_in(const char *text, const char *what) {
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

/* No broker: the trades wait within trade_buffer bytes; beyond it the oldest go, counted exactly, and logged once
 * (the rate limit) with their number and time range. */
static void test_trade_buffer_unreachable(void) {
    snprintf(exchange, sizeof exchange, "tickd-unreachable");
    uv_loop_t loop;
    uv_loop_init(&loop);
    const uint64_t limit = 16384;
    struct amqp_sink_config cfg = {.url = "amqp://guest:guest@127.0.0.1:1/%2f", .exchange = exchange,
                                   .trade_buffer = limit, .close_deadline_ms = 300, .connect_timeout_ms = 300,
                                   .backoff_min_ms = 50, .backoff_max_ms = 100};
    struct amqp_sink *s = NULL;
    TT_ASSERT_INT(amqp_sink_new(&loop, &cfg, &s), 0);
    int fd = capture_log();
    /* all trades of one size: ids 1000..2999 have 4 digits, one side */
    for (uint64_t i = 1000; i < 3000; i++) {
        struct trade t = mk_trade("binance", "T0", i);
        t.side = TRADE_SIDE_SELL;
        TT_ASSERT_INT(amqp_sink_put_trade(s, &t), 0);
    }
    loop_pause(&loop, 50);
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT(!st.connected);
    TT_ASSERT_INT(st.trades, 2000);
    TT_ASSERT(st.trade_bytes <= limit);
    uint64_t size = st.trade_bytes / st.trade_depth;
    TT_ASSERT_INT(st.trade_bytes, st.trade_depth * size);
    TT_ASSERT_INT(st.trade_depth, limit / size);
    TT_ASSERT_INT(st.trades_dropped, 2000 - limit / size);
    TT_ASSERT_INT(st.trades_published, 0);
    close_sink(&loop, s);
    const char *log = captured_log(fd);
    /* one line at the first drop (the rate limit holds the rest), the rest at the end */
    TT_ASSERT_INT(count_in(log, "trades dropped"), 2);
    char want[128];
    snprintf(want, sizeof want, "dropped=1 from_us=%" PRId64 " to_us=%" PRId64, mk_trade("binance", "T0", 1000).event_us,
             mk_trade("binance", "T0", 1000).event_us);
    TT_ASSERT(strstr(log, want) != NULL);
    snprintf(want, sizeof want, "dropped=%" PRIu64 " from_us=%" PRId64 " to_us=%" PRId64, 2000 - limit / size - 1,
             mk_trade("binance", "T0", 1001).event_us, mk_trade("binance", "T0", 1000 + 2000 - limit / size - 1).event_us);
    TT_ASSERT(strstr(log, want) != NULL);
    TT_ASSERT(strstr(log, "closing with unconfirmed trades") != NULL);
}

/* connection.blocked (a memory alarm) with a small trade_buffer: the oldest trades are dropped and counted, the
 * newest are delivered once the broker takes publishes again, in order, once each. */
static void test_trade_buffer_blocked(void) {
    need_amqp();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset");
    consumer_close(consumer_open(false), false);
    uv_loop_t loop;
    uv_loop_init(&loop);
    const uint64_t limit = 32768;
    struct amqp_sink *s = open_trade_sink(&loop, amqp_url, limit);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    if (rabbitmqctl("set_vm_memory_high_watermark 0.000001") != 0) TT_SKIP("rabbitmqctl failed");
    uint64_t id = 0, t0 = now_ms();
    bool saw_blocked = false;
    struct amqp_sink_stats st;
    while (now_ms() - t0 < 3000 || !saw_blocked) {
        for (int i = 0; i < 20; i++) {
            struct trade t = mk_trade("binance", "T1", 100000 + ++id);
            TT_ASSERT_INT(amqp_sink_put_trade(s, &t), 0);
        }
        amqp_sink_stats(s, &st);
        saw_blocked |= st.blocked;
        loop_pause(&loop, 5);
        TT_ASSERT(now_ms() - t0 < 20000);
    }
    amqp_sink_stats(s, &st);
    fprintf(stderr, "    trades while blocked: put=%" PRIu64 " dropped=%" PRIu64 " depth=%" PRIu64 " bytes=%" PRIu64
            " inflight=%" PRIu64 "\n", st.trades, st.trades_dropped, st.trade_depth, st.trade_bytes,
            st.trade_inflight);
    TT_ASSERT(st.trades_dropped > 0);
    TT_ASSERT(st.trade_bytes <= limit + st.trade_inflight * 1024);
    TT_ASSERT_INT(rabbitmqctl("set_vm_memory_high_watermark 0.4"), 0);
    TT_ASSERT(wait_settled(&loop, s, 30000));
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.trades, id);
    TT_ASSERT_INT(st.trades_confirmed + st.trades_dropped, id);
    close_sink(&loop, s);

    amqp_connection_state_t c = consumer_open(true);
    struct trades_seen ts;
    drain_trades(c, &ts, NULL, 1000);
    consumer_close(c, true);
    TT_ASSERT_INT(ts.bad, 0);
    TT_ASSERT_INT(ts.duplicates, 0);
    TT_ASSERT_INT(ts.out_of_order, 0);
    TT_ASSERT_INT(ts.count, id - st.trades_dropped);
    TT_ASSERT_INT(ts.last_id[1], 100000 + id); /* the newest survive */
}

/* A backlog of trades does not hold the quotes back: a batch takes at most half its publishes from the trades
 * when quotes wait, so the quotes put behind 20000 trades are confirmed while most of the trades still wait. */
static void test_quotes_flow_during_trade_backlog(void) {
    need_amqp();
    consumer_close(consumer_open(false), false);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_trade_sink(&loop, amqp_url, 0);
    TT_ASSERT(wait_settled(&loop, s, 10000));
    const uint64_t backlog = 20000;
    for (uint64_t i = 1; i <= backlog; i++) {
        struct trade t = mk_trade("binance", i % 2 ? "T2" : "T3", i);
        TT_ASSERT_INT(amqp_sink_put_trade(s, &t), 0);
    }
    put_round(s, 1); /* in the same loop turn: the thread sees both at once */
    struct amqp_sink_stats st;
    uint64_t t0 = now_ms(), depth_when_quotes_done = 0;
    for (;;) {
        loop_pause(&loop, 1);
        amqp_sink_stats(s, &st);
        if (st.confirmed == STREAM_INSTR) {
            depth_when_quotes_done = st.trade_depth;
            break;
        }
        TT_ASSERT(now_ms() - t0 < 30000);
    }
    /* the quotes keep flowing while the backlog drains */
    uint64_t r = 1, max_depth_seen_with_quotes = 0;
    while (st.trade_depth > 0 && now_ms() - t0 < 30000) {
        put_round(s, ++r);
        loop_pause(&loop, 2);
        amqp_sink_stats(s, &st);
        if (st.trade_depth > 0 && st.confirmed > STREAM_INSTR) max_depth_seen_with_quotes = st.trade_depth;
    }
    TT_ASSERT(wait_settled(&loop, s, 30000));
    amqp_sink_stats(s, &st);
    fprintf(stderr, "    %" PRIu64 " trades waiting when the first quotes were confirmed; quote rounds during the "
            "backlog %" PRIu64 "\n", depth_when_quotes_done, r);
    TT_ASSERT(depth_when_quotes_done > backlog / 2);
    TT_ASSERT_INT(st.trades_confirmed, backlog);
    TT_ASSERT_INT(st.trades_dropped, 0);
    (void)max_depth_seen_with_quotes;
    close_sink(&loop, s);

    amqp_connection_state_t c = consumer_open(true);
    struct trades_seen ts;
    unsigned quotes = 0;
    drain_trades(c, &ts, &quotes, 1000);
    consumer_close(c, true);
    TT_ASSERT_INT(ts.bad, 0);
    TT_ASSERT_INT(ts.count, backlog);
    TT_ASSERT_INT(ts.duplicates, 0);
    TT_ASSERT_INT(ts.out_of_order, 0);
    TT_ASSERT_INT(ts.last_id[2], backlog - 1);
    TT_ASSERT_INT(ts.last_id[3], backlog);
    TT_ASSERT(quotes >= STREAM_INSTR);
}

static void test_unreachable_broker_close_bounded(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink_config cfg = {.url = "amqp://guest:guest@127.0.0.1:1/%2f", .close_deadline_ms = 500,
                                   .connect_timeout_ms = 300, .backoff_min_ms = 50, .backoff_max_ms = 100};
    struct amqp_sink *s = NULL;
    TT_ASSERT_INT(amqp_sink_new(&loop, &cfg, &s), 0);
    struct tick t = mk("binance", "BTC-USDT", 1);
    TT_ASSERT_INT(amqp_sink_put(s, &t), 0); /* never blocks, broker or not */
    sleep_ms(300);
    uint64_t t0 = now_ms();
    close_sink(&loop, s);
    TT_ASSERT(now_ms() - t0 < 5000);
    cfg.url = "http://x";
    TT_ASSERT_INT(amqp_sink_new(&loop, &cfg, &s), -EINVAL);
}

/* ---- books and book deltas --------------------------------------------------------------------------------- */

/* Level i (0 = best) of a test book, version v: bids descending, asks ascending, sizes with trailing zeros. */
static void book_level_text(bool bid, int i, uint64_t v, char *price, char *qty) {
    if (bid) snprintf(price, BOOK_TEXT_MAX, "%" PRIu64 ".10", 1000 + v - (uint64_t)i);
    else snprintf(price, BOOK_TEXT_MAX, "%" PRIu64 ".2500", 1001 + v + (uint64_t)i);
    snprintf(qty, BOOK_TEXT_MAX, "%d.%03d00", i % 7, i + 1);
}

/* A book of nbids and nasks levels of version v, set worst first. */
static void fill_book(struct book *b, int nbids, int nasks, uint64_t v) {
    book_init(b, 0);
    for (int side = 0; side < 2; side++) {
        int n = side ? nasks : nbids;
        for (int i = n - 1; i >= 0; i--) {
            char price[BOOK_TEXT_MAX], qty[BOOK_TEXT_MAX];
            book_level_text(side == 0, i, v, price, qty);
            TT_ASSERT(book_set(b, side ? BOOK_ASK : BOOK_BID, price, strlen(price), qty, strlen(qty)) == 1);
        }
    }
}

static struct book_view book_view_of(const struct book *b, const char *venue, const char *symbol, unsigned depth,
                                     uint64_t seq) {
    return (struct book_view){.venue = venue, .symbol = symbol, .book = b, .depth = depth, .seq = seq,
                              .state = BOOK_LIVE, .event_us = 1700000000000000 + (int64_t)seq,
                              .recv_us = 1700000000000300 + (int64_t)seq};
}

#define BOOK_JSON_MAX (1 << 20)

/* The body a book must have, written here with snprintf from the test's own level texts (n levels of the book's
 * sides, version v), not by the sink's writer. */
static const char *want_book_json(const struct book_view *bv, int nbids, int nasks, uint64_t v) {
    static char out[BOOK_JSON_MAX];
    size_t len = (size_t)snprintf(out, sizeof out, "{\"venue\":\"%s\",\"symbol\":\"%s\",\"seq\":%" PRIu64
                                  ",\"state\":\"%s\",\"bids\":[", bv->venue, bv->symbol, bv->seq,
                                  book_state_name(bv->state));
    for (int side = 0; side < 2; side++) {
        int n = side ? nasks : nbids;
        for (int i = 0; i < n && i < (int)bv->depth; i++) {
            char price[BOOK_TEXT_MAX], qty[BOOK_TEXT_MAX];
            book_level_text(side == 0, i, v, price, qty);
            len += (size_t)snprintf(out + len, sizeof out - len, "%s[\"%s\",\"%s\"]", i ? "," : "", price, qty);
        }
        len += (size_t)snprintf(out + len, sizeof out - len, side ? "]" : "],\"asks\":[");
    }
    snprintf(out + len, sizeof out - len, ",\"event_us\":%" PRId64 ",\"recv_us\":%" PRId64 "}", bv->event_us,
             bv->recv_us);
    return out;
}

/* A delta of seq n for a book: a bid set, an ask set, a bid removed (qty 0), an ask set; a snapshot has more. */
#define DELTA_CHANGES_MAX 16
struct test_delta {
    struct book_change changes[DELTA_CHANGES_MAX];
    struct book_delta_view v;
};

static void mk_delta(struct test_delta *d, const char *venue, const char *symbol, uint64_t n, bool snapshot) {
    memset(d, 0, sizeof *d);
    size_t k = snapshot ? 8 : 4;
    for (size_t i = 0; i < k; i++) {
        struct book_change *c = &d->changes[i];
        c->side = i % 2 ? BOOK_ASK : BOOK_BID;
        snprintf(c->price, sizeof c->price, "%" PRIu64 ".%zu5", (uint64_t)(c->side == BOOK_BID ? 500 - i : 501 + i), i);
        if (i == 2 && !snapshot) snprintf(c->qty, sizeof c->qty, "0");
        else snprintf(c->qty, sizeof c->qty, "%" PRIu64 ".000%zu", n % 1000, i);
    }
    d->v = (struct book_delta_view){.venue = venue, .symbol = symbol, .snapshot = snapshot, .seq = n,
                                    .changes = d->changes, .n_changes = k,
                                    .event_us = 1700000000000000 + (int64_t)n,
                                    .recv_us = 1700000000000700 + (int64_t)n};
}

static const char *want_delta_json(const struct book_delta_view *v) {
    static char out[BOOK_JSON_MAX];
    size_t len = (size_t)snprintf(out, sizeof out,
                                  "{\"venue\":\"%s\",\"symbol\":\"%s\",\"type\":\"%s\",\"seq\":%" PRIu64 ",\"bids\":[",
                                  v->venue, v->symbol, v->snapshot ? "snapshot" : "delta", v->seq);
    for (int side = 0; side < 2; side++) {
        bool first = true;
        for (size_t i = 0; i < v->n_changes; i++) {
            if (v->changes[i].side != side) continue;
            len += (size_t)snprintf(out + len, sizeof out - len, "%s[\"%s\",\"%s\"]", first ? "" : ",",
                                    v->changes[i].price, v->changes[i].qty);
            first = false;
        }
        len += (size_t)snprintf(out + len, sizeof out - len, side ? "]" : "],\"asks\":[");
    }
    snprintf(out + len, sizeof out - len, ",\"event_us\":%" PRId64 ",\"recv_us\":%" PRId64 "}", v->event_us,
             v->recv_us);
    return out;
}

static struct amqp_sink *open_book_sink(uv_loop_t *loop, const char *url, uint64_t delta_buffer) {
    struct amqp_sink_config cfg = {.url = url, .exchange = exchange, .book_delta_buffer = delta_buffer,
                                   .backoff_min_ms = 100, .backoff_max_ms = 1000, .heartbeat_s = 4,
                                   .connect_timeout_ms = 2000, .close_deadline_ms = 5000};
    struct amqp_sink *s = NULL;
    TT_ASSERT_INT(amqp_sink_new(loop, &cfg, &s), 0);
    return s;
}

/* Everything put is confirmed: quotes, trades, books, deltas. */
static bool books_settled(uv_loop_t *loop, struct amqp_sink *s, uint64_t timeout_ms) {
    uint64_t end = now_ms() + timeout_ms;
    struct amqp_sink_stats st;
    do {
        amqp_sink_stats(s, &st);
        if (st.connected && st.depth == 0 && st.trade_depth == 0 && st.book_depth == 0 && st.book_delta_depth == 0)
            return true;
        loop_pause(loop, 5);
    } while (now_ms() < end);
    return false;
}

/* One message as the tests look at it. */
struct got {
    char rk[128], id[128];
    const char *body; /* a static buffer: the next message replaces it */
    bool json;        /* content_type application/json */
    amqp_flags_t flags;
    uint8_t delivery_mode;
    uint64_t timestamp;
};

static bool next_message(amqp_connection_state_t c, unsigned timeout_ms, struct got *g) {
    static char buf[BOOK_JSON_MAX];
    amqp_envelope_t env;
    if (!consumer_next(c, &env, timeout_ms)) return false;
    const amqp_basic_properties_t *p = &env.message.properties;
    snprintf(g->rk, sizeof g->rk, "%.*s", (int)env.routing_key.len, (char *)env.routing_key.bytes);
    snprintf(g->id, sizeof g->id, "%.*s", (int)p->message_id.len, (char *)p->message_id.bytes);
    TT_ASSERT(env.message.body.len < sizeof buf);
    memcpy(buf, env.message.body.bytes, env.message.body.len);
    buf[env.message.body.len] = 0;
    g->body = buf;
    g->json = amqp_bytes_equal(p->content_type, amqp_cstring_bytes("application/json"));
    g->flags = p->_flags;
    g->delivery_mode = p->delivery_mode;
    g->timestamp = p->timestamp;
    amqp_destroy_envelope(&env);
    return true;
}

/* A book and a delta as a consumer gets them: routing keys, message ids, properties, bodies to the byte. */
static void test_book_message_format(void) {
    need_amqp();
    TT_ASSERT(amqp_sink_ops.channels & SINK_CHANNEL(CONFIG_CHANNEL_BOOK));
    TT_ASSERT(amqp_sink_ops.put_book && amqp_sink_ops.put_book_delta);
    amqp_connection_state_t c = consumer_open(true);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_book_sink(&loop, amqp_url, 0);
    TT_ASSERT(books_settled(&loop, s, 10000));
    struct book b;
    fill_book(&b, 5, 4, 0);
    struct book_view bv = book_view_of(&b, "binance", "BTC-USDT", 3, 77);
    bv.state = BOOK_RESYNCING;
    TT_ASSERT_INT(amqp_sink_put_book(s, &bv), 0);
    char want_book[4096];
    snprintf(want_book, sizeof want_book, "%s", want_book_json(&bv, 5, 4, 0));
    TT_ASSERT_STR(want_book, "{\"venue\":\"binance\",\"symbol\":\"BTC-USDT\",\"seq\":77,\"state\":\"resyncing\","
                             "\"bids\":[[\"1000.10\",\"0.00100\"],[\"999.10\",\"1.00200\"],[\"998.10\",\"2.00300\"]],"
                             "\"asks\":[[\"1001.2500\",\"0.00100\"],[\"1002.2500\",\"1.00200\"],"
                             "[\"1003.2500\",\"2.00300\"]],\"event_us\":1700000000000077,"
                             "\"recv_us\":1700000000000377}");
    book_free(&b); /* the caller's book: the sink keeps its publish */
    fill_book(&b, 2, 0, 9);
    struct book_view dot = book_view_of(&b, "kraken", "ETH.X-USD", 20, 5);
    TT_ASSERT_INT(amqp_sink_put_book(s, &dot), 0);
    char want_dot[4096];
    snprintf(want_dot, sizeof want_dot, "%s", want_book_json(&dot, 2, 0, 9));
    TT_ASSERT(strstr(want_dot, "\"asks\":[],") != NULL);
    book_free(&b);
    struct test_delta d, snap;
    mk_delta(&snap, "okx", "SOL-USDT", 41, true);
    mk_delta(&d, "okx", "SOL-USDT", 42, false);
    TT_ASSERT_INT(amqp_sink_put_book_delta(s, &snap.v), 0);
    TT_ASSERT_INT(amqp_sink_put_book_delta(s, &d.v), 0);
    TT_ASSERT(books_settled(&loop, s, 10000));

    /* the refused */
    fill_book(&b, 2, 2, 1);
    struct book_view bad = book_view_of(&b, "binance", "BTC USDT.#", 3, 1);
    TT_ASSERT_INT(amqp_sink_put_book(s, &bad), -EINVAL);
    bad = book_view_of(&b, "binance", "BTC-USDT", 3, 1);
    memcpy(b.side[BOOK_BID].lv[1].price, "1\",\"x", 6);
    TT_ASSERT_INT(amqp_sink_put_book(s, &bad), -EINVAL);
    book_free(&b);
    struct test_delta bd;
    mk_delta(&bd, "okx", "SOL-USDT", 43, false);
    bd.changes[1].side = 2;
    TT_ASSERT_INT(amqp_sink_put_book_delta(s, &bd.v), -EINVAL);
    mk_delta(&bd, "okx", "SOL-USDT", 43, false);
    bd.changes[3].qty[0] = 0;
    TT_ASSERT_INT(amqp_sink_put_book_delta(s, &bd.v), -EINVAL);

    struct got g;
    /* books and deltas are not ordered against each other: the four are told apart by routing key and id */
    int seen = 0, snapshot_at = -1, delta_at = -1;
    while (seen < 4 && next_message(c, 5000, &g)) {
        TT_ASSERT(g.json && (g.flags & AMQP_BASIC_CONTENT_TYPE_FLAG));
        TT_ASSERT(g.flags & AMQP_BASIC_MESSAGE_ID_FLAG);
        TT_ASSERT(g.flags & AMQP_BASIC_TIMESTAMP_FLAG);
        TT_ASSERT_INT(g.delivery_mode, AMQP_DELIVERY_PERSISTENT);
        TT_ASSERT_INT(g.timestamp, 1700000000);
        if (strcmp(g.rk, "book.binance.BTC-USDT") == 0) {
            TT_ASSERT_STR(g.id, "binance:BTC-USDT:77");
            TT_ASSERT_STR(g.body, want_book);
        } else if (strcmp(g.rk, "book.kraken.ETH_X-USD") == 0) {
            TT_ASSERT_STR(g.id, "kraken:ETH.X-USD:5");
            TT_ASSERT_STR(g.body, want_dot);
        } else if (strcmp(g.rk, "bookdelta.okx.SOL-USDT") == 0 && strcmp(g.id, "okx:SOL-USDT:41:snapshot") == 0) {
            TT_ASSERT_STR(g.body, want_delta_json(&snap.v));
            TT_ASSERT(strstr(g.body, "\"type\":\"snapshot\"") != NULL);
            snapshot_at = seen;
        } else if (strcmp(g.rk, "bookdelta.okx.SOL-USDT") == 0) {
            TT_ASSERT_STR(g.id, "okx:SOL-USDT:42");
            TT_ASSERT_STR(g.body, want_delta_json(&d.v));
            TT_ASSERT(strstr(g.body, ",\"bids\":[[\"500.05\",\"42.0000\"],[\"498.25\",\"0\"]],") != NULL);
            delta_at = seen;
        } else {
            TT_FAIL("unexpected message %s %s", g.rk, g.id);
        }
        seen++;
    }
    TT_ASSERT_INT(seen, 4);
    TT_ASSERT(snapshot_at >= 0 && delta_at > snapshot_at); /* one book's deltas in order */
    TT_ASSERT(!next_message(c, 300, &g)); /* nothing else: the refused were not published */
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.books, 2);
    TT_ASSERT_INT(st.books_published, 2);
    TT_ASSERT_INT(st.books_confirmed, 2);
    TT_ASSERT_INT(st.books_refused, 2);
    TT_ASSERT_INT(st.book_deltas, 2);
    TT_ASSERT_INT(st.book_deltas_published, 2);
    TT_ASSERT_INT(st.book_deltas_confirmed, 2);
    TT_ASSERT_INT(st.book_deltas_refused, 2);
    TT_ASSERT_INT(st.published + st.trades_published, 0); /* the tick and trade counters count their own */
    close_sink(&loop, s);
    consumer_close(c, true);
}

static int servers(const char *what) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", servers_sh, what);
    return system(cmd);
}

static atomic_bool stop_done;

static void *stop_broker(void *arg) {
    (void)arg;
    intptr_t rc = servers("rabbit_stop");
    atomic_store(&stop_done, true);
    return (void *)rc;
}

#define OUT_BOOKS 3
#define BURST 200

/* Per book of the outage test: its newest book put, its deltas put, and what the consumer saw of each. */
struct book_track {
    char sym[16];
    uint64_t book_seq;   /* the newest book put */
    uint64_t delta_seq;  /* deltas put: 1..delta_seq */
    uint64_t next_delta; /* the consumer: the next delta expected */
    unsigned books_seen, burst_seen, deltas_seen, delta_repeats;
    char last_book[4096];
};

/* Puts that failed: counted, not asserted, so that a failure while the broker is stopped cannot leave it stopped
 * (checked once it runs again). */
static unsigned put_failures;

static void put_book_version(struct amqp_sink *s, struct book_track *t, uint64_t v) {
    struct book b;
    book_init(&b, 0);
    for (int side = 0; side < 2; side++)
        for (int i = 5; i >= 0; i--) {
            char price[BOOK_TEXT_MAX], qty[BOOK_TEXT_MAX];
            book_level_text(side == 0, i, v, price, qty);
            put_failures += book_set(&b, side ? BOOK_ASK : BOOK_BID, price, strlen(price), qty, strlen(qty)) != 1;
        }
    struct book_view bv = book_view_of(&b, "coinbase", t->sym, 4, v);
    put_failures += amqp_sink_put_book(s, &bv) != 0;
    book_free(&b);
    t->book_seq = v;
}

static void put_deltas(struct amqp_sink *s, struct book_track *t, int n) {
    for (int i = 0; i < n; i++) {
        struct test_delta d;
        mk_delta(&d, "coinbase", t->sym, t->delta_seq + 1, t->delta_seq == 0);
        put_failures += amqp_sink_put_book_delta(s, &d.v) != 0;
        t->delta_seq++;
    }
}

/* Books and deltas flowing when the broker stops, and while it is away, and a burst of puts for every book while
 * it is away: the books held stay one per book and the burst reaches the consumer as its latest book only; every
 * delta arrives, in order per book, none lost within the bound (one in flight when the connection went may come
 * twice: at least once); each book's last message is its newest. */
static void test_books_and_deltas_through_outage(void) {
    need_amqp();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset: cannot stop the broker");
    consumer_close(consumer_open(false), false); /* the durable queue, bound before the first publish */
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_book_sink(&loop, amqp_url, 8 << 20);
    TT_ASSERT(books_settled(&loop, s, 10000));
    static struct book_track tr[OUT_BOOKS];
    memset(tr, 0, sizeof tr);
    put_failures = 0;
    for (int k = 0; k < OUT_BOOKS; k++) snprintf(tr[k].sym, sizeof tr[k].sym, "OB%u-USD", (unsigned)k % 1000u);
    uint64_t v = 0;
    for (; v < 20; v++)
        for (int k = 0; k < OUT_BOOKS; k++) {
            put_book_version(s, &tr[k], v + 1);
            put_deltas(s, &tr[k], 2);
        }
    TT_ASSERT(books_settled(&loop, s, 10000));

    /* The broker stops while books and deltas flow. Nothing is asserted until it runs again. */
    atomic_store(&stop_done, false);
    pthread_t th;
    TT_ASSERT(pthread_create(&th, NULL, stop_broker, NULL) == 0);
    struct amqp_sink_stats st;
    uint64_t t0 = now_ms();
    bool down = false;
    while ((!atomic_load(&stop_done) || !down) && now_ms() - t0 < 60000) {
        v++;
        for (int k = 0; k < OUT_BOOKS; k++) {
            put_book_version(s, &tr[k], v);
            put_deltas(s, &tr[k], 2);
        }
        loop_pause(&loop, 5);
        amqp_sink_stats(s, &st);
        down |= !st.connected;
    }
    void *rc;
    pthread_join(th, &rc);
    /* away: more rounds, then a burst of every book in one turn */
    for (int r = 0; r < 50; r++) {
        v++;
        for (int k = 0; k < OUT_BOOKS; k++) {
            put_book_version(s, &tr[k], v);
            put_deltas(s, &tr[k], 2);
        }
        loop_pause(&loop, 2);
    }
    amqp_sink_stats(s, &st);
    uint64_t replaced = st.books_replaced, burst_first = v + 1;
    for (int i = 0; i < BURST; i++) {
        v++;
        for (int k = 0; k < OUT_BOOKS; k++) put_book_version(s, &tr[k], v);
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    struct amqp_sink_stats away;
    amqp_sink_stats(s, &away);
    TT_ASSERT_INT(servers("rabbit_start"), 0);
    TT_ASSERT(rc == NULL && down);
    TT_ASSERT_INT(put_failures, 0);
    TT_ASSERT(!away.connected);
    TT_ASSERT_INT(away.book_depth, OUT_BOOKS); /* one record per book, however many puts */
    TT_ASSERT_INT(away.books_replaced - replaced, BURST * OUT_BOOKS);
    TT_ASSERT_INT(away.book_deltas_dropped, 0);
    uint64_t deltas_put = 0;
    for (int k = 0; k < OUT_BOOKS; k++) deltas_put += tr[k].delta_seq;
    TT_ASSERT_INT(away.book_deltas, deltas_put);
    fprintf(stderr, "    outage: %" PRIu64 " book versions a book, %" PRIu64 " deltas; away: deltas held=%" PRIu64
            " bytes=%" PRIu64 "\n", v, deltas_put, away.book_delta_depth, away.book_delta_bytes);
    TT_ASSERT(books_settled(&loop, s, 60000));
    amqp_sink_stats(s, &st);
    TT_ASSERT(st.reconnects >= 1);
    TT_ASSERT(st.book_deltas_confirmed >= deltas_put); /* one published again after the loss counts again */
    close_sink(&loop, s);

    amqp_connection_state_t c = consumer_open(true);
    struct got g;
    unsigned other = 0;
    while (next_message(c, 1500, &g)) {
        int k = -1;
        uint64_t seq = strtoull(strrchr(g.id, ':') ? strrchr(g.id, ':') + 1 : "0", NULL, 10);
        char sym[16];
        if (sscanf(g.rk, "book.coinbase.OB%d-USD", &k) == 1 && k >= 0 && k < OUT_BOOKS) {
            tr[k].books_seen++;
            if (seq >= burst_first) tr[k].burst_seen++;
            snprintf(tr[k].last_book, sizeof tr[k].last_book, "%s", g.body);
        } else if (sscanf(g.rk, "bookdelta.coinbase.OB%d-USD", &k) == 1 && k >= 0 && k < OUT_BOOKS) {
            bool snapshot = strstr(g.id, ":snapshot") != NULL;
            if (snapshot) seq = strtoull(strchr(strchr(g.id, ':') + 1, ':') + 1, NULL, 10);
            if (tr[k].next_delta && seq <= tr[k].next_delta) {
                tr[k].delta_repeats++; /* delivered before: at least once */
                continue;
            }
            TT_ASSERT_INT(seq, tr[k].next_delta + 1); /* no hole, no reordering */
            snprintf(sym, sizeof sym, "OB%d-USD", k);
            struct test_delta d;
            mk_delta(&d, "coinbase", sym, seq, seq == 1);
            TT_ASSERT_STR(g.body, want_delta_json(&d.v));
            tr[k].next_delta = seq;
            tr[k].deltas_seen++;
        } else {
            other++;
        }
    }
    consumer_close(c, true);
    TT_ASSERT_INT(other, 0);
    for (int k = 0; k < OUT_BOOKS; k++) {
        struct book b;
        fill_book(&b, 6, 6, tr[k].book_seq);
        struct book_view bv = book_view_of(&b, "coinbase", tr[k].sym, 4, tr[k].book_seq);
        TT_ASSERT_STR(tr[k].last_book, want_book_json(&bv, 6, 6, tr[k].book_seq)); /* the newest, last */
        book_free(&b);
        TT_ASSERT_INT(tr[k].burst_seen, 1); /* of the burst, its latest only */
        TT_ASSERT_INT(tr[k].next_delta, tr[k].delta_seq); /* every delta */
        fprintf(stderr, "    %s: %u books seen of %" PRIu64 " put, %u deltas (%u again)\n", tr[k].sym,
                tr[k].books_seen, tr[k].book_seq, tr[k].deltas_seen, tr[k].delta_repeats);
    }
}

/* No broker: the deltas wait within their own bound of bytes; beyond it the oldest go, counted exactly and logged
 * (once at the first drop, the rate limit holding the rest, then at the end) with their time range. The trades'
 * buffer is another: trades put meanwhile lose nothing, and their count is theirs. */
static void test_book_deltas_dropped_exactly(void) {
    snprintf(exchange, sizeof exchange, "tickd-unreachable");
    uv_loop_t loop;
    uv_loop_init(&loop);
    const uint64_t limit = 16384;
    struct amqp_sink_config cfg = {.url = "amqp://guest:guest@127.0.0.1:1/%2f", .exchange = exchange,
                                   .book_delta_buffer = limit, .close_deadline_ms = 300, .connect_timeout_ms = 300,
                                   .backoff_min_ms = 50, .backoff_max_ms = 100};
    struct amqp_sink *s = NULL;
    TT_ASSERT_INT(amqp_sink_new(&loop, &cfg, &s), 0);
    int fd = capture_log();
    /* deltas of one size: seq 1100..1599 (the sizes' digits alike) */
    for (uint64_t n = 1100; n < 1600; n++) {
        struct test_delta d;
        mk_delta(&d, "okx", "BTC-USDT", n, false);
        TT_ASSERT_INT(amqp_sink_put_book_delta(s, &d.v), 0);
        if (n % 50 == 0) {
            struct trade t = mk_trade("binance", "T0", n);
            TT_ASSERT_INT(amqp_sink_put_trade(s, &t), 0);
        }
    }
    loop_pause(&loop, 50);
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT(!st.connected);
    TT_ASSERT_INT(st.book_deltas, 500);
    TT_ASSERT(st.book_delta_bytes <= limit);
    uint64_t size = st.book_delta_bytes / st.book_delta_depth;
    TT_ASSERT_INT(st.book_delta_bytes, st.book_delta_depth * size);
    TT_ASSERT_INT(st.book_delta_depth, limit / size);
    TT_ASSERT_INT(st.book_deltas_dropped, 500 - limit / size);
    TT_ASSERT_INT(st.book_deltas_published, 0);
    TT_ASSERT_INT(st.trades, 10);
    TT_ASSERT_INT(st.trade_depth, 10);
    TT_ASSERT_INT(st.trades_dropped, 0);
    close_sink(&loop, s);
    const char *log = captured_log(fd);
    TT_ASSERT_INT(count_in(log, "book deltas dropped"), 2);
    TT_ASSERT_INT(count_in(log, "trades dropped"), 0);
    struct test_delta first, second, last;
    mk_delta(&first, "okx", "BTC-USDT", 1100, false);
    mk_delta(&second, "okx", "BTC-USDT", 1101, false);
    mk_delta(&last, "okx", "BTC-USDT", 1100 + 500 - limit / size - 1, false);
    char want[160];
    snprintf(want, sizeof want, "dropped=1 from_us=%" PRId64 " to_us=%" PRId64 " book_deltas_dropped=1 ",
             first.v.event_us, first.v.event_us);
    TT_ASSERT(strstr(log, want) != NULL);
    snprintf(want, sizeof want, "dropped=%" PRIu64 " from_us=%" PRId64 " to_us=%" PRId64 " book_deltas_dropped=%" PRIu64
             " ", 500 - limit / size - 1, second.v.event_us, last.v.event_us, 500 - limit / size);
    TT_ASSERT(strstr(log, want) != NULL);
    TT_ASSERT(strstr(log, "closing with unconfirmed book deltas") != NULL);
}

/* The largest publishes: a book of BOOK_DEPTH_MAX levels a side and a snapshot delta of the most changes a delta may
 * carry, every text of 23 characters (~108 KB and ~540 KB of JSON: bodies of many frames, larger than a batch of
 * ticks), arrive whole and exact; one change more is refused. */
static void test_largest_book_and_delta(void) {
    need_amqp();
    amqp_connection_state_t c = consumer_open(true);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_book_sink(&loop, amqp_url, 0);
    TT_ASSERT(books_settled(&loop, s, 10000));
    const size_t most = 2 * 5 * BOOK_DEPTH_MAX;
    static struct book_change changes[2 * 5 * BOOK_DEPTH_MAX + 1];
    for (size_t i = 0; i <= most; i++) {
        changes[i].side = i % 2 ? BOOK_ASK : BOOK_BID;
        snprintf(changes[i].price, sizeof changes[i].price, "1%015zu.%06zu", i % 2 ? 600000 + i : 500000 - i, i);
        snprintf(changes[i].qty, sizeof changes[i].qty, "2%015zu.%06zu", i, i);
        TT_ASSERT_INT(strlen(changes[i].price), BOOK_TEXT_MAX - 1);
    }
    struct book_delta_view dv = {.venue = "okx", .symbol = "BTC-USDT", .snapshot = true, .seq = 9, .changes = changes,
                                 .n_changes = most + 1, .event_us = 1, .recv_us = 2};
    TT_ASSERT_INT(amqp_sink_put_book_delta(s, &dv), -EMSGSIZE);
    dv.n_changes = most;
    TT_ASSERT_INT(amqp_sink_put_book_delta(s, &dv), 0);
    struct book b;
    book_init(&b, 0);
    for (size_t i = 0; i < 2 * BOOK_DEPTH_MAX + 10; i++)
        TT_ASSERT(book_set(&b, changes[i].side, changes[i].price, strlen(changes[i].price), changes[i].qty,
                           strlen(changes[i].qty)) == 1);
    struct book_view bv = {.venue = "okx", .symbol = "BTC-USDT", .book = &b, .depth = BOOK_DEPTH_MAX, .seq = 9,
                           .state = BOOK_LIVE, .event_us = 3, .recv_us = 4};
    TT_ASSERT_INT(amqp_sink_put_book(s, &bv), 0);
    TT_ASSERT(books_settled(&loop, s, 20000));
    /* the book as a consumer must see it: the top BOOK_DEPTH_MAX of each side, best first */
    static char want_book[BOOK_JSON_MAX];
    size_t len = (size_t)snprintf(want_book, sizeof want_book,
                                  "{\"venue\":\"okx\",\"symbol\":\"BTC-USDT\",\"seq\":9,\"state\":\"live\",\"bids\":[");
    for (int side = 0; side < 2; side++) {
        for (size_t i = 0; i < BOOK_DEPTH_MAX; i++) {
            const struct book_change *ch = &changes[2 * i + (size_t)side]; /* bids improve downwards: i = best */
            len += (size_t)snprintf(want_book + len, sizeof want_book - len, "%s[\"%s\",\"%s\"]", i ? "," : "",
                                    ch->price, ch->qty);
        }
        len += (size_t)snprintf(want_book + len, sizeof want_book - len, side ? "]" : "],\"asks\":[");
    }
    snprintf(want_book + len, sizeof want_book - len, ",\"event_us\":3,\"recv_us\":4}");
    book_free(&b);
    static char want_delta[BOOK_JSON_MAX];
    snprintf(want_delta, sizeof want_delta, "%s", want_delta_json(&dv));
    TT_ASSERT(strlen(want_delta) > 500000);
    struct got g;
    int got_book = 0, got_delta = 0;
    while ((got_book + got_delta) < 2 && next_message(c, 5000, &g)) {
        if (strcmp(g.rk, "book.okx.BTC-USDT") == 0) {
            TT_ASSERT_STR(g.id, "okx:BTC-USDT:9");
            TT_ASSERT_INT(strlen(g.body), strlen(want_book));
            TT_ASSERT(strcmp(g.body, want_book) == 0);
            got_book++;
        } else {
            TT_ASSERT_STR(g.rk, "bookdelta.okx.BTC-USDT");
            TT_ASSERT_STR(g.id, "okx:BTC-USDT:9:snapshot");
            TT_ASSERT_INT(strlen(g.body), strlen(want_delta));
            TT_ASSERT(strcmp(g.body, want_delta) == 0);
            got_delta++;
        }
    }
    TT_ASSERT(got_book == 1 && got_delta == 1);
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.book_deltas_refused, 1);
    close_sink(&loop, s);
    consumer_close(c, true);
}

/* ---- instrument changes ------------------------------------------------------------------------------------ */

/* Everything put is confirmed, the instrument changes included. */
static bool instruments_settled(uv_loop_t *loop, struct amqp_sink *s, uint64_t timeout_ms) {
    uint64_t end = now_ms() + timeout_ms;
    struct amqp_sink_stats st;
    do {
        amqp_sink_stats(s, &st);
        if (st.connected && st.depth == 0 && st.trade_depth == 0 && st.instrument_depth == 0) return true;
        loop_pause(loop, 5);
    } while (now_ms() < end);
    return false;
}

/* Binance's BTC-USDT as its exchangeInfo gives it (instrument.h's example). */
static struct instrument btc_usdt(void) {
    struct instrument in;
    memset(&in, 0, sizeof in);
    strcpy(in.symbol, "BTC-USDT");
    strcpy(in.venue_symbol, "BTCUSDT");
    strcpy(in.base, "BTC");
    strcpy(in.quote, "USDT");
    strcpy(in.venue_status, "TRADING");
    strcpy(in.tick_size, "0.01000000");
    strcpy(in.lot_size, "0.00001000");
    in.price_decimals = 2;
    in.size_decimals = 5;
    in.status = INSTRUMENT_TRADING;
    return in;
}

/* Instrument k of the bulk tests, "I<k>-USDT" (k below 10000): every one's JSON of the same length. */
static struct instrument mk_instr(unsigned k) {
    struct instrument in;
    memset(&in, 0, sizeof in);
    k %= 10000u;
    snprintf(in.symbol, sizeof in.symbol, "I%04u-USDT", k);
    snprintf(in.venue_symbol, sizeof in.venue_symbol, "I%04uUSDT", k);
    snprintf(in.base, sizeof in.base, "I%04u", k);
    strcpy(in.quote, "USDT");
    strcpy(in.venue_status, "TRADING");
    snprintf(in.tick_size, sizeof in.tick_size, "0.%04u0", k);
    strcpy(in.lot_size, "1.000");
    in.price_decimals = (uint8_t)(10 + k % 20);
    in.size_decimals = 0;
    in.status = INSTRUMENT_TRADING;
    return in;
}

/* The body a consumer must get for mk_instr(k) listed on binance, written here, not by instrument_json. */
static const char *want_instr_body(unsigned k) {
    static char out[1024];
    struct instrument in = mk_instr(k);
    snprintf(out, sizeof out,
             "{\"change\":\"listed\",\"venue\":\"binance\",\"symbol\":\"%s\",\"venue_symbol\":\"%s\",\"status\":"
             "\"trading\",\"venue_status\":\"TRADING\",\"base\":\"%s\",\"quote\":\"USDT\",\"tick_size\":\"%s\","
             "\"lot_size\":\"1.000\",\"price_decimals\":%u,\"size_decimals\":0}",
             in.symbol, in.venue_symbol, in.base, in.tick_size, (unsigned)in.price_decimals);
    return out;
}

/* A message id "<venue>:<symbol>:<µs>" whose time lies within [from, to]; its µs in *us. */
static bool instrument_id_ok(const char *id, const char *venue_symbol, int64_t from, int64_t to, int64_t *us) {
    size_t n = strlen(venue_symbol);
    if (strncmp(id, venue_symbol, n) != 0 || id[n] != ':' || !id[n + 1]) return false;
    char *end;
    long long v = strtoll(id + n + 1, &end, 10);
    *us = v;
    return !*end && v >= from && v <= to;
}

/* Each change as a consumer gets it, through the sink_table row: routing key, message id, properties, the body to
 * the byte ("change" first, then the instrument's JSON); in put order; the refused are not published. */
static void test_instrument_message_format(void) {
    need_amqp();
    TT_ASSERT(amqp_sink_ops.put_instrument != NULL);
    amqp_connection_state_t c = consumer_open(true);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_trade_sink(&loop, amqp_url, 0);
    TT_ASSERT(instruments_settled(&loop, s, 10000));
    struct instrument btc = btc_usdt(), eth = btc_usdt(), gone = btc_usdt();
    strcpy(eth.symbol, "ETH.X-USD"); /* a '.' a routing key cannot take as it is */
    strcpy(eth.venue_symbol, "XETHZUSD");
    strcpy(eth.base, "XETH");
    strcpy(eth.quote, "ZUSD");
    strcpy(eth.venue_status, "cancel_only");
    eth.lot_size[0] = 0;
    eth.size_decimals = INSTRUMENT_DECIMALS_UNKNOWN;
    eth.status = INSTRUMENT_HALTED;
    strcpy(gone.venue_symbol, "BTC-USDT");
    strcpy(gone.venue_status, "expired");
    gone.status = INSTRUMENT_DELISTED;
    int64_t t0 = clock_wall_us();
    TT_ASSERT_INT(amqp_sink_ops.put_instrument(s, "binance", &btc, INSTRUMENT_CHANGE_LISTED), 0);
    TT_ASSERT_INT(amqp_sink_ops.put_instrument(s, "kraken", &eth, INSTRUMENT_CHANGE_STATUS), 0);
    strcpy(btc.tick_size, "0.00100000");
    btc.price_decimals = 3;
    TT_ASSERT_INT(amqp_sink_put_instrument(s, "binance", &btc, INSTRUMENT_CHANGE_UPDATED), 0);
    TT_ASSERT_INT(amqp_sink_put_instrument(s, "okx", &gone, INSTRUMENT_CHANGE_DELISTED), 0);
    int64_t t1 = clock_wall_us();
    /* the refused */
    TT_ASSERT_INT(amqp_sink_put_instrument(s, "bin.ance", &btc, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    TT_ASSERT_INT(amqp_sink_put_instrument(s, NULL, &btc, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    struct instrument bad = btc;
    strcpy(bad.symbol, "BTC USDT.#");
    TT_ASSERT_INT(amqp_sink_put_instrument(s, "binance", &bad, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    TT_ASSERT_INT(amqp_sink_put_instrument(s, "binance", &btc, (enum instrument_change)4), -EINVAL);
    bad = btc;
    memset(bad.base, 'B', sizeof bad.base); /* not terminated: no JSON */
    TT_ASSERT_INT(amqp_sink_put_instrument(s, "binance", &bad, INSTRUMENT_CHANGE_LISTED), -EINVAL);
    TT_ASSERT(instruments_settled(&loop, s, 10000));

    static const struct {
        const char *rk, *venue_symbol, *body;
    } want[] = {
        {"instrument.binance.BTC-USDT", "binance:BTC-USDT",
         "{\"change\":\"listed\",\"venue\":\"binance\",\"symbol\":\"BTC-USDT\",\"venue_symbol\":\"BTCUSDT\","
         "\"status\":\"trading\",\"venue_status\":\"TRADING\",\"base\":\"BTC\",\"quote\":\"USDT\",\"tick_size\":"
         "\"0.01000000\",\"lot_size\":\"0.00001000\",\"price_decimals\":2,\"size_decimals\":5}"},
        {"instrument.kraken.ETH_X-USD", "kraken:ETH.X-USD",
         "{\"change\":\"status\",\"venue\":\"kraken\",\"symbol\":\"ETH.X-USD\",\"venue_symbol\":\"XETHZUSD\","
         "\"status\":\"halted\",\"venue_status\":\"cancel_only\",\"base\":\"XETH\",\"quote\":\"ZUSD\",\"tick_size\":"
         "\"0.01000000\",\"lot_size\":null,\"price_decimals\":2,\"size_decimals\":null}"},
        {"instrument.binance.BTC-USDT", "binance:BTC-USDT",
         "{\"change\":\"updated\",\"venue\":\"binance\",\"symbol\":\"BTC-USDT\",\"venue_symbol\":\"BTCUSDT\","
         "\"status\":\"trading\",\"venue_status\":\"TRADING\",\"base\":\"BTC\",\"quote\":\"USDT\",\"tick_size\":"
         "\"0.00100000\",\"lot_size\":\"0.00001000\",\"price_decimals\":3,\"size_decimals\":5}"},
        {"instrument.okx.BTC-USDT", "okx:BTC-USDT",
         "{\"change\":\"delisted\",\"venue\":\"okx\",\"symbol\":\"BTC-USDT\",\"venue_symbol\":\"BTC-USDT\","
         "\"status\":\"delisted\",\"venue_status\":\"expired\",\"base\":\"BTC\",\"quote\":\"USDT\",\"tick_size\":"
         "\"0.01000000\",\"lot_size\":\"0.00001000\",\"price_decimals\":2,\"size_decimals\":5}"},
    };
    struct got g;
    int64_t last_us = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        TT_ASSERT(next_message(c, 5000, &g));
        TT_ASSERT_STR(g.rk, want[i].rk);
        TT_ASSERT_STR(g.body, want[i].body);
        int64_t us;
        if (!instrument_id_ok(g.id, want[i].venue_symbol, t0, t1, &us)) TT_FAIL("message id %s", g.id);
        TT_ASSERT(us >= last_us); /* in put order */
        last_us = us;
        TT_ASSERT(g.json && (g.flags & AMQP_BASIC_CONTENT_TYPE_FLAG) && (g.flags & AMQP_BASIC_TIMESTAMP_FLAG));
        TT_ASSERT_INT(g.delivery_mode, AMQP_DELIVERY_PERSISTENT);
        TT_ASSERT_INT(g.timestamp, us / 1000000);
    }
    TT_ASSERT(!next_message(c, 300, &g)); /* nothing else: the refused were not published */
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT_INT(st.instruments, 4);
    TT_ASSERT_INT(st.instruments_published, 4);
    TT_ASSERT_INT(st.instruments_confirmed, 4);
    TT_ASSERT_INT(st.instruments_refused, 5);
    TT_ASSERT_INT(st.instruments_dropped + st.instrument_depth + st.instrument_bytes, 0);
    TT_ASSERT_INT(st.published + st.trades_published + st.books_published + st.book_deltas_published, 0);
    close_sink(&loop, s);
    consumer_close(c, true);
}

/* No broker: the changes wait within their own bound of bytes; beyond it the oldest go, counted exactly and logged
 * (at the first drop, then at the end) with the range of their put times. Trades put meanwhile lose nothing. */
static void test_instruments_dropped_exactly(void) {
    snprintf(exchange, sizeof exchange, "tickd-unreachable");
    uv_loop_t loop;
    uv_loop_init(&loop);
    const uint64_t limit = 16384;
    struct amqp_sink_config cfg = {.url = "amqp://guest:guest@127.0.0.1:1/%2f", .exchange = exchange,
                                   .instrument_buffer = limit, .close_deadline_ms = 300, .connect_timeout_ms = 300,
                                   .backoff_min_ms = 50, .backoff_max_ms = 100};
    struct amqp_sink *s = NULL;
    TT_ASSERT_INT(amqp_sink_new(&loop, &cfg, &s), 0);
    int fd = capture_log();
    int64_t t0 = clock_wall_us();
    for (unsigned k = 0; k < 100; k++) {
        struct instrument in = mk_instr(k);
        TT_ASSERT_INT(amqp_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED), 0);
        if (k % 10 == 0) {
            struct trade t = mk_trade("binance", "T0", k + 1);
            TT_ASSERT_INT(amqp_sink_put_trade(s, &t), 0);
        }
    }
    int64_t t1 = clock_wall_us();
    loop_pause(&loop, 50);
    struct amqp_sink_stats st;
    amqp_sink_stats(s, &st);
    TT_ASSERT(!st.connected);
    TT_ASSERT_INT(st.instruments, 100);
    TT_ASSERT(st.instrument_bytes <= limit);
    uint64_t size = st.instrument_bytes / st.instrument_depth;
    TT_ASSERT_INT(st.instrument_bytes, st.instrument_depth * size); /* all of one size */
    TT_ASSERT_INT(st.instrument_depth, limit / size);
    TT_ASSERT_INT(st.instruments_dropped, 100 - limit / size);
    TT_ASSERT_INT(st.instruments_published, 0);
    TT_ASSERT_INT(st.trades, 10);
    TT_ASSERT_INT(st.trade_depth, 10);
    TT_ASSERT_INT(st.trades_dropped, 0);
    close_sink(&loop, s);
    const char *log = captured_log(fd);
    TT_ASSERT_INT(count_in(log, "instrument changes dropped"), 2);
    TT_ASSERT_INT(count_in(log, "trades dropped"), 0);
    const char *first = strstr(log, "dropped=1 from_us=");
    TT_ASSERT(first != NULL);
    long long from = 0, to = 0;
    TT_ASSERT(sscanf(first, "dropped=1 from_us=%lld to_us=%lld", &from, &to) == 2);
    TT_ASSERT(from == to && from >= t0 && from <= t1);
    TT_ASSERT(strstr(first, " instruments_dropped=1 ") != NULL);
    char want[96];
    snprintf(want, sizeof want, "dropped=%u from_us=", (unsigned)(100 - limit / size - 1) % 1000u);
    TT_ASSERT(strstr(log, want) != NULL);
    snprintf(want, sizeof want, " instruments_dropped=%u ", (unsigned)(100 - limit / size) % 1000u);
    TT_ASSERT(strstr(log, want) != NULL);
    TT_ASSERT(strstr(log, "closing with unconfirmed instrument changes") != NULL);
}

/* The broker stops while changes flow, and more come while it is away: once it is back every one arrives, in put
 * order, exact; one that was in flight when the connection went may arrive twice (at least once), never out of
 * order. */
static void test_instruments_through_outage(void) {
    need_amqp();
    if (!getenv("TICKD_TEST_SERVERS_DIR")) TT_SKIP("TICKD_TEST_SERVERS_DIR unset: cannot stop the broker");
    consumer_close(consumer_open(false), false); /* the durable queue, bound before the first publish */
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct amqp_sink *s = open_trade_sink(&loop, amqp_url, 0);
    TT_ASSERT(instruments_settled(&loop, s, 10000));
    unsigned failures = 0, k = 0; /* failures counted, not asserted, until the broker runs again */
    for (; k < 10; k++) {
        struct instrument in = mk_instr(k);
        TT_ASSERT_INT(amqp_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED), 0);
    }
    TT_ASSERT(instruments_settled(&loop, s, 10000));
    atomic_store(&stop_done, false);
    pthread_t th;
    TT_ASSERT(pthread_create(&th, NULL, stop_broker, NULL) == 0);
    struct amqp_sink_stats st;
    bool down = false;
    uint64_t t0 = now_ms();
    while ((!atomic_load(&stop_done) || !down) && now_ms() - t0 < 60000 && k < 5000) {
        struct instrument in = mk_instr(k++);
        failures += amqp_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED) != 0;
        loop_pause(&loop, 5);
        amqp_sink_stats(s, &st);
        down |= !st.connected;
    }
    void *rc;
    pthread_join(th, &rc);
    for (unsigned i = 0; i < 50; i++) { /* away */
        struct instrument in = mk_instr(k++);
        failures += amqp_sink_put_instrument(s, "binance", &in, INSTRUMENT_CHANGE_LISTED) != 0;
    }
    loop_pause(&loop, 100);
    struct amqp_sink_stats away;
    amqp_sink_stats(s, &away);
    TT_ASSERT_INT(servers("rabbit_start"), 0);
    TT_ASSERT(rc == NULL && down);
    TT_ASSERT_INT(failures, 0);
    TT_ASSERT(!away.connected);
    TT_ASSERT(away.instrument_depth >= 50);
    TT_ASSERT_INT(away.instruments, k);
    TT_ASSERT(instruments_settled(&loop, s, 60000));
    amqp_sink_stats(s, &st);
    TT_ASSERT(st.reconnects >= 1);
    TT_ASSERT(st.instruments_confirmed >= k); /* one published again after the loss counts again */
    TT_ASSERT_INT(st.instruments_dropped, 0);
    close_sink(&loop, s);

    amqp_connection_state_t c = consumer_open(true);
    struct got g;
    unsigned next = 0, repeats = 0;
    while (next_message(c, 1500, &g)) {
        unsigned n = 0;
        if (sscanf(g.rk, "instrument.binance.I%4u-USDT", &n) != 1) TT_FAIL("unexpected message %s", g.rk);
        TT_ASSERT_STR(g.body, want_instr_body(n));
        if (n < next) {
            repeats++; /* delivered before: at least once */
            continue;
        }
        TT_ASSERT_INT(n, next); /* no hole, no reordering */
        next++;
    }
    consumer_close(c, true);
    fprintf(stderr, "    instrument changes through an outage: %u put, %u again\n", k, repeats);
    TT_ASSERT_INT(next, k);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    log_setup(LOG_LEVEL_WARN, LOG_FORMAT_LOGFMT);
    amqp_url = getenv("TICKD_TEST_AMQP_URL");
    const char *root = getenv("TICKD_ROOT");
    static char sh[600];
    snprintf(sh, sizeof sh, "%s/tests/lib/servers.sh", root ? root : ".");
    servers_sh = sh;
    TT_RUN(test_json_matches_reference);
    TT_RUN(test_field_checks_match_reference);
    TT_RUN(test_put_accepted_still_checks_names);
    TT_RUN(test_put_by_id_publishes_as_by_name);
    TT_RUN(test_unreachable_broker_close_bounded);
    TT_RUN(test_message_format);
    TT_RUN(test_batches_of_longest_publishes);
    TT_RUN(test_stream_increasing_and_last);
    TT_RUN(test_connection_blocked);
    TT_RUN(test_broker_outage);
    TT_RUN(test_trade_buffer_unreachable);
    TT_RUN(test_trade_message_format);
    TT_RUN(test_quotes_flow_during_trade_backlog);
    TT_RUN(test_trade_buffer_blocked);
    TT_RUN(test_book_message_format);
    TT_RUN(test_book_deltas_dropped_exactly);
    TT_RUN(test_largest_book_and_delta);
    TT_RUN(test_books_and_deltas_through_outage);
    TT_RUN(test_instrument_message_format);
    TT_RUN(test_instruments_dropped_exactly);
    TT_RUN(test_instruments_through_outage);
    return tt_finish();
}
