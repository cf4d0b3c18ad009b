/* amqp_latency -- time from a frame's event time to a RabbitMQ consumer receiving tickd's message of it.
 *
 *   build/bench/amqp_latency URL EXCHANGE SECONDS [SKIP_SECONDS]
 *
 * Binds a private auto-delete queue to EXCHANGE with "tick.#", prints "ready" on stderr, consumes with
 * no-ack for SECONDS (after ignoring the first SKIP_SECONDS) and prints
 *   frame_to_consumer samples=.. per_s=.. p50_us=.. p99_us=.. p999_us=.. max_us=..
 * from the body's "event_us" (fakex's clock, the same wall clock on one machine). */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <string.h>

#include "latency.h"

static void need(const char *what, amqp_rpc_reply_t r) {
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return;
    fprintf(stderr, "amqp_latency: %s failed (reply type %d)\n", what, r.reply_type);
    exit(2);
}

static int64_t body_event_us(amqp_bytes_t b) {
    static const char key[] = "\"event_us\":";
    const char *p = memmem(b.bytes, b.len, key, sizeof key - 1);
    return p ? strtoll(p + sizeof key - 1, NULL, 10) : -1; /* the body is not NUL-terminated, but a digit run is */
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: amqp_latency URL EXCHANGE SECONDS [SKIP_SECONDS]\n");
        return 64;
    }
    double seconds = atof(argv[3]), skip = argc > 4 ? atof(argv[4]) : 0;
    struct amqp_connection_info ci;
    char *url = strdup(argv[1]);
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK) return 64;
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(conn);
    if (amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK) {
        fprintf(stderr, "amqp_latency: cannot connect\n");
        return 2;
    }
    need("login", amqp_login(conn, ci.vhost, 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password));
    amqp_channel_open(conn, 1);
    need("channel", amqp_get_rpc_reply(conn));
    amqp_exchange_declare(conn, 1, amqp_cstring_bytes(argv[2]), amqp_cstring_bytes("topic"), 0, 1, 0, 0,
                          amqp_empty_table);
    need("exchange.declare", amqp_get_rpc_reply(conn));
    amqp_queue_declare_ok_t *q = amqp_queue_declare(conn, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
    need("queue.declare", amqp_get_rpc_reply(conn));
    amqp_bytes_t queue = amqp_bytes_malloc_dup(q->queue);
    amqp_queue_bind(conn, 1, queue, amqp_cstring_bytes(argv[2]), amqp_cstring_bytes("tick.#"), amqp_empty_table);
    need("queue.bind", amqp_get_rpc_reply(conn));
    amqp_basic_consume(conn, 1, queue, amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
    need("basic.consume", amqp_get_rpc_reply(conn));
    fprintf(stderr, "ready\n");
    struct samples lat = {0};
    int64_t from = wall_us() + (int64_t)(skip * 1e6), until = from + (int64_t)(seconds * 1e6);
    while (wall_us() < until) {
        amqp_envelope_t env;
        struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
        amqp_maybe_release_buffers(conn);
        amqp_rpc_reply_t r = amqp_consume_message(conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) continue;
        if (r.reply_type != AMQP_RESPONSE_NORMAL) break;
        int64_t now = wall_us(), ev = body_event_us(env.message.body);
        if (now >= from && ev > 0) samples_add(&lat, now - ev);
        amqp_destroy_envelope(&env);
    }
    samples_print(&lat, "frame_to_consumer", seconds);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    amqp_bytes_free(queue);
    free(url);
    return lat.n ? 0 : 1;
}
