/* amqp_tap -- a RabbitMQ consumer for tests: binds a private queue to an exchange and prints every message as
 * one JSON line (routing key, properties, body), flushed at once, until SIGTERM/SIGINT or --seconds.
 *
 *   amqp_tap URL EXCHANGE BINDING [--seconds N]
 *
 * Prints "ready" on stderr once the queue is bound, so a test knows no later message can be missed. */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_signal(int s) {
    (void)s;
    stop = 1;
}

static int die(const char *what, amqp_rpc_reply_t r) {
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return 0;
    fprintf(stderr, "amqp_tap: %s failed (reply type %d)\n", what, r.reply_type);
    exit(2);
}

static json_t *bytes_json(amqp_bytes_t b) { return json_stringn(b.bytes ? b.bytes : "", b.len); }

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: amqp_tap URL EXCHANGE BINDING [--seconds N]\n");
        return 64;
    }
    double seconds = 0;
    if (argc >= 6 && strcmp(argv[4], "--seconds") == 0) seconds = atof(argv[5]);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    struct amqp_connection_info ci;
    char *url = strdup(argv[1]);
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK) {
        fprintf(stderr, "amqp_tap: bad url\n");
        return 64;
    }
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(conn);
    if (amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK) {
        fprintf(stderr, "amqp_tap: cannot connect\n");
        return 2;
    }
    die("login", amqp_login(conn, ci.vhost, 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password));
    amqp_channel_open(conn, 1);
    die("channel", amqp_get_rpc_reply(conn));
    amqp_exchange_declare(conn, 1, amqp_cstring_bytes(argv[2]), amqp_cstring_bytes("topic"), 0, 1, 0, 0,
                          amqp_empty_table);
    die("exchange.declare", amqp_get_rpc_reply(conn));
    amqp_queue_declare_ok_t *q = amqp_queue_declare(conn, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
    die("queue.declare", amqp_get_rpc_reply(conn));
    amqp_bytes_t queue = amqp_bytes_malloc_dup(q->queue);
    amqp_queue_bind(conn, 1, queue, amqp_cstring_bytes(argv[2]), amqp_cstring_bytes(argv[3]), amqp_empty_table);
    die("queue.bind", amqp_get_rpc_reply(conn));
    amqp_basic_consume(conn, 1, queue, amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
    die("basic.consume", amqp_get_rpc_reply(conn));
    fprintf(stderr, "ready\n");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!stop) {
        if (seconds > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 > seconds) break;
        }
        amqp_envelope_t env;
        struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
        amqp_maybe_release_buffers(conn);
        amqp_rpc_reply_t r = amqp_consume_message(conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) continue;
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "amqp_tap: consume ended (reply type %d)\n", r.reply_type);
            return 2;
        }
        amqp_basic_properties_t *p = &env.message.properties;
        json_t *line = json_object();
        json_object_set_new(line, "routing_key", bytes_json(env.routing_key));
        if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) json_object_set_new(line, "message_id", bytes_json(p->message_id));
        if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
            json_object_set_new(line, "content_type", bytes_json(p->content_type));
        if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
            json_object_set_new(line, "timestamp", json_integer((json_int_t)p->timestamp));
        if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
            json_object_set_new(line, "delivery_mode", json_integer(p->delivery_mode));
        json_object_set_new(line, "body", bytes_json(env.message.body));
        char *s = json_dumps(line, JSON_COMPACT);
        printf("%s\n", s);
        fflush(stdout);
        free(s);
        json_decref(line);
        amqp_destroy_envelope(&env);
    }
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    amqp_bytes_free(queue);
    free(url);
    return 0;
}
