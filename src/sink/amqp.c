/* amqp.c -- the RabbitMQ publisher thread; see amqp_sink.h.
 *
 * The thread's life: connect (every step bounded by connect_timeout_ms), then loop { publish what the
 * buffer holds, up to the confirm window, unless the broker said connection.blocked -- a batch of publishes
 * per write, framed here around rabbitmq-c's encoders (its amqp_basic_publish makes three send() calls per
 * message, with no timeout); poll the eventfd and the
 * socket; drain every frame without blocking (acks, nacks, blocked/unblocked, close) -- which is also what
 * sends heartbeats, since rabbitmq-c only sends them inside its calls }. Any error: the unconfirmed ticks go
 * back to the buffer, the connection is destroyed, and a backoff with full jitter precedes the next try.
 *
 * Trades take the same path through their own buffer, a FIFO bounded in bytes (trade_queue.h): each is encoded
 * into its publish frames on the loop, at put, so the bytes it holds are the bytes it sends. The two buffers share
 * the channel, its delivery tags and the confirm window, with the books' buffers below.
 *
 * Books take the quotes' way with their own conflating buffer (struct book_buf below: conflate.c's life, but each
 * record holds its book's publish, encoded on the loop at put, since the caller's book is not kept); book deltas
 * take the trades' way through a second trade_queue. A second queue rather than the trades' one: it keeps a
 * delta's drop count and time range its own (book_deltas_dropped, its log line) and a burst of deltas from
 * evicting trades or the reverse, while order per instrument holds in either. A batch gives each kind with work
 * an equal share of the confirm window's room (enum publish_kind), the kind that goes first changing with every
 * batch, so that a publish of any size reaches an empty wire in turn.
 *
 * Instrument changes take the trades' way through a third trade_queue of their own (bounded like the trades'): an
 * event each, never conflated, encoded at put, publisher-confirmed; their own queue keeps their drop count theirs
 * and a listing burst (a venue's whole list at its first load) from evicting trades, or the reverse.
 *
 * Shared with the loop thread: the conflating buffers and the queues (each with its own mutex), the eventfd,
 * atomic counters and the stopping flag. Nothing else. */
#include "tickd/amqp_sink.h"

#include <errno.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tickd/backoff.h"
#include "tickd/clock.h"
#include "tickd/config.h"
#include "tickd/confirm_window.h"
#include "tickd/conflate.h"
#include "tickd/instr_map.h"
#include "tickd/log.h"
#include "tickd/sink.h"
#include "tickd/text_buf.h"
#include "tickd/trade_queue.h"

#define COMPONENT "amqp"
#define CHANNEL 1
#define PUBLISH_BATCH 256

/* AMQP frame types and the byte that ends every frame (AMQP 0-9-1, section 4.2.3). */
#define FRAME_METHOD 1
#define FRAME_HEADER 2
#define FRAME_BODY 3
#define FRAME_END 0xCE
#define FRAME_OVERHEAD 8 /* type, channel, size before the payload; FRAME_END after it */

/* A basic.publish: its method (method id, ticket, exchange and routing key as short strings, flags), its
 * content header (class, weight, body size, then the properties: flags, content type, delivery mode, message id,
 * timestamp), its body. The most one takes in the batch buffer is the sum of the three frames. */
#define PUBLISH_METHOD_MAX (4 + 2 + 256 + 256 + 1)
#define PUBLISH_PROPS_MAX (2 + 256 + 1 + 256 + 8)
#define PUBLISH_MAX (3 * FRAME_OVERHEAD + PUBLISH_METHOD_MAX + 12 + PUBLISH_PROPS_MAX + SINK_JSON_MAX)

/* A body goes out in frames of at most this much: AMQP's least frame_max (4096) less a frame's overhead, so any
 * broker takes them. Ticks and trades take one; a deep book several. */
#define BODY_FRAME_MAX (4096 - FRAME_OVERHEAD)

/* A publish of `body` bytes of JSON, at most (the method, the header, the body in its frames). */
#define MESSAGE_MAX(body)                                                                                      \
    (2 * FRAME_OVERHEAD + PUBLISH_METHOD_MAX + 12 + PUBLISH_PROPS_MAX + (body) +                               \
     ((body) / BODY_FRAME_MAX + 1) * FRAME_OVERHEAD)

/* A book's or a delta's JSON besides its levels: the names (under 48 bytes), seq and two times (20 digits each),
 * the state or type, the keys. */
#define BOOK_BODY_FIXED 320
#define BOOK_BODY_MAX(levels) (BOOK_BODY_FIXED + (size_t)(levels)*SINK_BOOK_LEVEL_JSON_MAX)

/* The most changes a book delta may carry: a snapshot of the deepest book a book keeps (book.h: BOOK_DEPTH_MAX * 5
 * levels a side). A longer one is refused (-EMSGSIZE), which bounds the largest publish, BOOK_MESSAGE_MAX. */
#define BOOK_DELTA_CHANGES_MAX (2 * 5 * BOOK_DEPTH_MAX)
#define BOOK_MESSAGE_MAX MESSAGE_MAX(BOOK_BODY_MAX(BOOK_DELTA_CHANGES_MAX))

/* An instrument change's body: {"change":"<name>", then instrument_json's members. */
#define INSTRUMENT_BODY_MAX (INSTRUMENT_JSON_MAX + 32)

/* A batch's frames: a full batch of the small publishes and the largest publish beside them, so that any publish
 * fits a batch that starts with it. */
#define WIRE_MAX (PUBLISH_BATCH * PUBLISH_MAX + BOOK_MESSAGE_MAX)

/* A confirm this much slower than the broker's base delay shrinks the confirm window (confirm_window.h): about
 * the queueing a consumer may see on top of the broker's own delay. On one 2-core machine with a local broker
 * (base delay ~0.2 ms) at 30k-50k ticks/s, a bound of 0.5 / 1 / 2 / 8 ms in all gave a consumer p99 of 5-7 /
 * 6 / 7-32 / 16-25 ms for about as many prices delivered: a queue in the broker only ages them. */
#define CONFIRM_QUEUE_US 1000

/* Trades dropped by a full trade buffer are logged at most once per this long (the count and time range cover
 * everything dropped since the last line). Book deltas alike, on their own line. */
#define TRADE_DROP_LOG_MS 5000

struct book_buf;

/* What a batch publishes, in turn (publish_waiting). */
enum publish_kind { KIND_TRADES, KIND_DELTAS, KIND_INSTRUMENTS, KIND_QUOTES, KIND_BOOKS, KINDS };

/* The event queues, for their drop lines (log_queue_drops). */
enum event_queue { QUEUE_TRADES, QUEUE_DELTAS, QUEUE_INSTRUMENTS };

struct amqp_sink {
    struct amqp_sink_config cfg;
    char url_buf[1024]; /* amqp_parse_url splits it in place; info points into it */
    struct amqp_connection_info info;
    char password[256];
    char exchange[256];
    amqp_bytes_t exchange_bytes; /* points into exchange */
    char host_port[300]; /* for log lines */
    char ca_file[4096];  /* amqps: the CA bundle, "" = the system's store */
    bool tls;

    struct conflate *buf;
    struct trade_queue *trades;
    struct book_buf *books;
    struct trade_queue *deltas;
    struct trade_queue *instruments;
    int wake_fd; /* eventfd: the loop wakes the thread; stop wakes it too */
    pthread_t thread;
    atomic_bool stopping;

    /* thread-only */
    amqp_connection_state_t conn;
    SSL *ssl; /* amqps: rabbitmq-c's TLS session, which send_all writes batches through */
    uint64_t next_tag;
    struct confirm_window window;
    struct backoff backoff;
    uint64_t failed_attempts; /* since the last connection */
    bool blocked_local;
    uint64_t stop_deadline_ms; /* once stopping: when the thread gives up on what is left */
    unsigned first_kind;       /* the kind that opens the next batch */
    uint8_t wire[WIRE_MAX];    /* a batch's frames, sent in one write (pages touched as used) */

    _Atomic uint64_t published, confirmed, nacked, reconnects, refused, window_now;
    atomic_bool connected, blocked;
    _Atomic uint64_t last_refusal_log_ms;
    _Atomic uint64_t trades_published, trades_refused, last_drop_log_ms;
    _Atomic uint64_t books_published, books_refused, deltas_published, deltas_refused, last_delta_drop_log_ms;
    _Atomic uint64_t instruments_published, instruments_refused, last_instrument_drop_log_ms;

    /* loop-only: a book's or a delta's JSON and then its publish, encoded at put (grown to the largest) */
    uint8_t *scratch;
    size_t scratch_cap;

    uv_loop_t *loop;
    uv_async_t done; /* the thread's last act: tells the loop it can be joined */
    uv_idle_t waker; /* one wake per loop turn, after the turn's puts, instead of one eventfd write per put */
    int open_handles;
    void (*close_cb)(void *);
    void *close_arg;
    uint64_t published_at_last_stats, trades_published_at_last_stats; /* the loop's, for the stats line's rates */
    uint64_t books_published_at_last_stats, deltas_published_at_last_stats;
};

static void drain_wake_fd(struct amqp_sink *s) {
    uint64_t n;
    while (read(s->wake_fd, &n, sizeof n) == (ssize_t)sizeof n) {
    }
}

static void wake(struct amqp_sink *s) {
    uint64_t one = 1;
    /* Non-blocking; EAGAIN only when the counter is already huge, i.e. the thread has been woken anyway. */
    if (write(s->wake_fd, &one, sizeof one) < 0) {
    }
}

/* Sleeps up to ms, or less when woken (a stop, or a tick). */
static void nap(struct amqp_sink *s, uint64_t ms) {
    struct pollfd p = {.fd = s->wake_fd, .events = POLLIN};
    if (poll(&p, 1, (int)ms) > 0) drain_wake_fd(s);
}

/* ---- the books' conflating buffer ----------------------------------------------------------------------------
 *
 * conflate.c's life (conflate.h) for records that hold a publish instead of a tick: one record per book, a put
 * replaces the publish still waiting for the same book, the one in flight stays until confirmed (only the newest
 * in flight matters: its ack frees the record, its nack brings it back unless a newer one waits). Memory is
 * bounded by the books held (limit: buffer_limit; a new book beyond it is refused and counted). Thread-safe. */

struct msg_buf {
    uint8_t *p;
    size_t len, cap;
};

struct book_slot {
    struct instr_node node; /* first: the map hands back this pointer */
    struct msg_buf waiting, inflight;
    bool has_waiting, has_inflight;
    uint64_t inflight_tag; /* of the newest publish of this book */
    unsigned refs;         /* flights naming this record */
    struct book_slot *queue_next;
};

struct book_flight {
    uint64_t tag;
    struct book_slot *slot;
    bool settled;
};

struct book_buf {
    pthread_mutex_t mu;
    struct instr_map map;
    size_t limit;
    struct book_slot *queue_head, *queue_tail;
    size_t waiting;
    struct book_flight *ring;
    size_t ring_cap, ring_head, ring_len, unsettled;
    uint64_t put, replaced, dropped, acked, nacked, requeued;
};

struct book_buf_stats {
    size_t depth, waiting, inflight;
    uint64_t put, replaced, dropped, acked, nacked, requeued;
};

static struct book_buf *book_buf_new(size_t limit, size_t max_inflight) {
    struct book_buf *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->limit = limit ? limit : 1;
    b->ring_cap = max_inflight ? max_inflight : 1;
    if (!(b->ring = calloc(b->ring_cap, sizeof *b->ring))) goto fail_ring;
    if (instr_map_init(&b->map, 64) < 0) goto fail_map;
    if (pthread_mutex_init(&b->mu, NULL) != 0) goto fail_mutex;
    return b;
fail_mutex:
    instr_map_destroy(&b->map);
fail_map:
    free(b->ring);
fail_ring:
    free(b);
    return NULL;
}

static void book_slot_free(struct book_slot *slot) {
    free(slot->waiting.p);
    free(slot->inflight.p);
    free(slot);
}

static void book_buf_free(struct book_buf *b) {
    if (!b) return;
    size_t cursor = 0;
    struct instr_node *n, *next = NULL;
    while ((n = instr_map_next(&b->map, &cursor, &next))) book_slot_free((struct book_slot *)n);
    instr_map_destroy(&b->map);
    free(b->ring);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static void book_enqueue(struct book_buf *b, struct book_slot *slot) {
    slot->queue_next = NULL;
    if (b->queue_tail) b->queue_tail->queue_next = slot;
    else b->queue_head = slot;
    b->queue_tail = slot;
    b->waiting++;
}

static void book_swap(struct book_slot *slot) {
    struct msg_buf m = slot->waiting;
    slot->waiting = slot->inflight;
    slot->inflight = m;
}

static void book_release_if_empty(struct book_buf *b, struct book_slot *slot) {
    if (slot->has_waiting || slot->has_inflight || slot->refs) return;
    instr_map_remove(&b->map, &slot->node);
    book_slot_free(slot);
}

/* msg[0..len) becomes the waiting publish of (venue, symbol). CONFLATE_FULL: limit books held and this one not
 * among them, or no memory for it (counted in dropped either way). */
static enum conflate_put_result book_buf_put(struct book_buf *b, const char *venue, const char *symbol,
                                             const uint8_t *msg, size_t len) {
    enum conflate_put_result res;
    pthread_mutex_lock(&b->mu);
    struct book_slot *slot = (struct book_slot *)instr_map_find(&b->map, venue, symbol);
    bool is_new = !slot;
    if (is_new) {
        if (b->map.count >= b->limit || !(slot = calloc(1, sizeof *slot))) goto full;
        instr_map_insert(&b->map, &slot->node, venue, symbol);
    }
    if (slot->waiting.cap < len) {
        uint8_t *p = realloc(slot->waiting.p, len);
        if (!p) {
            if (is_new) {
                instr_map_remove(&b->map, &slot->node);
                book_slot_free(slot);
            }
            goto full;
        }
        slot->waiting.p = p;
        slot->waiting.cap = len;
    }
    memcpy(slot->waiting.p, msg, len);
    slot->waiting.len = len;
    b->put++;
    if (slot->has_waiting) {
        b->replaced++;
        res = CONFLATE_REPLACED;
    } else {
        res = b->waiting == 0 ? CONFLATE_WAKE : CONFLATE_ADDED;
        slot->has_waiting = true;
        book_enqueue(b, slot);
    }
    pthread_mutex_unlock(&b->mu);
    return res;
full:
    b->dropped++;
    pthread_mutex_unlock(&b->mu);
    return CONFLATE_FULL;
}

/* Moves up to max waiting publishes, oldest first, into flight, copying them one after the other to out while they
 * fit in cap bytes; the i-th gets tag first_tag + i. Returns how many; *len the bytes written. */
static size_t book_buf_take(struct book_buf *b, uint8_t *out, size_t cap, size_t max, uint64_t first_tag,
                            size_t *len) {
    size_t n = 0, w = 0;
    pthread_mutex_lock(&b->mu);
    struct book_slot *slot;
    while (n < max && b->ring_len < b->ring_cap && (slot = b->queue_head) && slot->waiting.len <= cap - w) {
        b->queue_head = slot->queue_next;
        if (!b->queue_head) b->queue_tail = NULL;
        b->waiting--;
        slot->has_waiting = false;
        book_swap(slot);
        slot->has_inflight = true;
        slot->inflight_tag = first_tag + n;
        slot->refs++;
        b->ring[(b->ring_head + b->ring_len) % b->ring_cap] =
            (struct book_flight){.tag = slot->inflight_tag, .slot = slot, .settled = false};
        b->ring_len++;
        b->unsettled++;
        memcpy(out + w, slot->inflight.p, slot->inflight.len);
        w += slot->inflight.len;
        n++;
    }
    pthread_mutex_unlock(&b->mu);
    *len = w;
    return n;
}

static void book_settle(struct book_buf *b, struct book_flight *f, bool ack) {
    struct book_slot *slot = f->slot;
    f->settled = true;
    b->unsettled--;
    slot->refs--;
    if (slot->has_inflight && slot->inflight_tag == f->tag) {
        slot->has_inflight = false;
        if (!ack && !slot->has_waiting) {
            book_swap(slot);
            slot->has_waiting = true;
            book_enqueue(b, slot);
            b->requeued++;
        }
    }
    book_release_if_empty(b, slot);
}

/* A broker confirm (conflate_confirm's rules). Returns how many publishes of books it settled. */
static size_t book_buf_confirm(struct book_buf *b, uint64_t tag, bool multiple, bool ack) {
    size_t n = 0;
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->ring_len; i++) {
        struct book_flight *f = &b->ring[(b->ring_head + i) % b->ring_cap];
        if (f->tag > tag) break;
        if (f->settled || (!multiple && f->tag != tag)) continue;
        book_settle(b, f, ack);
        if (ack) b->acked++;
        else b->nacked++;
        n++;
    }
    while (b->ring_len && b->ring[b->ring_head].settled) {
        b->ring_head = (b->ring_head + 1) % b->ring_cap;
        b->ring_len--;
    }
    pthread_mutex_unlock(&b->mu);
    return n;
}

/* The channel is gone: every book in flight waits again unless a newer one does. Tags restart. */
static void book_buf_requeue_all(struct book_buf *b) {
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->ring_len; i++) {
        struct book_flight *f = &b->ring[(b->ring_head + i) % b->ring_cap];
        if (!f->settled) book_settle(b, f, false);
    }
    b->ring_head = b->ring_len = 0;
    pthread_mutex_unlock(&b->mu);
}

static void book_buf_stats(struct book_buf *b, struct book_buf_stats *out) {
    pthread_mutex_lock(&b->mu);
    *out = (struct book_buf_stats){.depth = b->map.count, .waiting = b->waiting, .inflight = b->unsettled,
                                   .put = b->put, .replaced = b->replaced, .dropped = b->dropped,
                                   .acked = b->acked, .nacked = b->nacked, .requeued = b->requeued};
    pthread_mutex_unlock(&b->mu);
}

/* ---- connection --------------------------------------------------------------------------------------- */

static const char *reply_error(amqp_rpc_reply_t r) {
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return NULL;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) return "server closed the connection";
        if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) return "server closed the channel";
        return "server exception";
    default: return "no reply";
    }
}

/* A confirm settled n publishes up to `tag`. */
static void confirmed(struct amqp_sink *s, uint64_t tag, size_t n) {
    confirm_window_settled(&s->window, tag, n, (uint64_t)clock_mono_us());
    atomic_store(&s->window_now, s->window.window);
}

static void disconnect(struct amqp_sink *s) {
    if (!s->conn) return;
    atomic_store(&s->connected, false);
    atomic_store(&s->blocked, false);
    s->blocked_local = false;
    amqp_destroy_connection(s->conn); /* closes the socket; a polite close could block on a dead broker */
    s->conn = NULL;
    s->ssl = NULL;
    conflate_requeue_all(s->buf);
    trade_queue_requeue_all(s->trades);
    book_buf_requeue_all(s->books);
    trade_queue_requeue_all(s->deltas);
    trade_queue_requeue_all(s->instruments);
}

/* The client must announce connection.blocked, or the broker never sends it. */
static amqp_table_t client_properties(amqp_table_entry_t *cap, amqp_table_entry_t *props) {
    cap[0].key = amqp_cstring_bytes("connection.blocked");
    cap[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    cap[0].value.value.boolean = 1;
    cap[1].key = amqp_cstring_bytes("publisher_confirms");
    cap[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    cap[1].value.value.boolean = 1;
    props[0].key = amqp_cstring_bytes("capabilities");
    props[0].value.kind = AMQP_FIELD_KIND_TABLE;
    props[0].value.value.table = (amqp_table_t){.num_entries = 2, .entries = cap};
    props[1].key = amqp_cstring_bytes("product");
    props[1].value.kind = AMQP_FIELD_KIND_UTF8;
    props[1].value.value.bytes = amqp_cstring_bytes("tickd");
    return (amqp_table_t){.num_entries = 2, .entries = props};
}

/* rabbitmq-c keeps its SSL object to itself, and its publish would send each frame as a write of its own with no
 * timeout; the batches of send_all need the session. Every SSL of the context reports here during the handshake,
 * and each connection has a context of its own. */
static void tls_info(const SSL *ssl, int where, int ret) {
    (void)where;
    (void)ret;
    struct amqp_sink *s = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (s) s->ssl = (SSL *)ssl;
}

/* A TLS socket that verifies the broker's certificate chain (ca_file, else the system's store) and host name. */
static amqp_socket_t *tls_socket_new(struct amqp_sink *s, const char **why) {
    amqp_socket_t *sock = amqp_ssl_socket_new(s->conn);
    if (!sock) {
        *why = "no TLS socket";
        return NULL;
    }
    amqp_ssl_socket_set_verify_peer(sock, 1);
    amqp_ssl_socket_set_verify_hostname(sock, 1);
    SSL_CTX *ctx = amqp_ssl_socket_get_context(sock);
    if (s->ca_file[0]) {
        if (amqp_ssl_socket_set_cacert(sock, s->ca_file) != AMQP_STATUS_OK) {
            *why = "ca_file cannot be read as PEM certificates";
            return NULL;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        *why = "the system's CA store cannot be read";
        return NULL;
    }
    SSL_CTX_set_app_data(ctx, s);
    SSL_CTX_set_info_callback(ctx, tls_info);
    return sock;
}

/* Why a TLS connect failed, for its log line: the certificate check's verdict (rabbitmq-c checks it after the
 * handshake, e.g. "unable to get local issuer certificate"), else what OpenSSL said last on this thread. */
static const char *tls_reason(struct amqp_sink *s) {
    const char *r = NULL;
    long v = s->ssl ? SSL_get_verify_result(s->ssl) : X509_V_OK;
    if (v != X509_V_OK) {
        r = X509_verify_cert_error_string(v);
    } else {
        unsigned long e = ERR_peek_last_error();
        r = e ? ERR_reason_error_string(e) : NULL;
    }
    ERR_clear_error();
    return r;
}

static int connect_broker(struct amqp_sink *s) {
    const char *why = NULL, *detail = NULL;
    struct timeval tv = {.tv_sec = (time_t)(s->cfg.connect_timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(s->cfg.connect_timeout_ms % 1000) * 1000};
    s->conn = amqp_new_connection();
    if (!s->conn) return -ENOMEM;
    s->ssl = NULL;
    amqp_socket_t *sock = s->tls ? tls_socket_new(s, &why) : amqp_tcp_socket_new(s->conn);
    if (!sock) {
        if (!why) why = "no socket";
        goto fail;
    }
    int rc = amqp_socket_open_noblock(sock, s->info.host, s->info.port, &tv);
    if (rc != AMQP_STATUS_OK) {
        why = amqp_error_string2(rc);
        if (s->tls) detail = tls_reason(s);
        goto fail;
    }
    if (s->tls && !s->ssl) {
        why = "TLS session not found";
        goto fail;
    }
    amqp_set_handshake_timeout(s->conn, &tv);
    amqp_set_rpc_timeout(s->conn, &tv);
    amqp_table_entry_t cap[2], props[2];
    amqp_table_t table = client_properties(cap, props);
    why = reply_error(amqp_login_with_properties(s->conn, s->info.vhost, 0, 131072, (int)s->cfg.heartbeat_s,
                                                 &table, AMQP_SASL_METHOD_PLAIN, s->info.user, s->password));
    if (why) goto fail;
    amqp_channel_open(s->conn, CHANNEL);
    if ((why = reply_error(amqp_get_rpc_reply(s->conn)))) goto fail;
    amqp_exchange_declare(s->conn, CHANNEL, amqp_cstring_bytes(s->exchange), amqp_cstring_bytes("topic"), 0, 1,
                          0, 0, amqp_empty_table);
    if ((why = reply_error(amqp_get_rpc_reply(s->conn)))) goto fail;
    if (!s->cfg.no_confirm) {
        amqp_confirm_select(s->conn, CHANNEL);
        if ((why = reply_error(amqp_get_rpc_reply(s->conn)))) goto fail;
    }
    s->next_tag = 1;
    confirm_window_reset(&s->window);
    atomic_store(&s->window_now, s->window.window);
    backoff_reset(&s->backoff);
    atomic_store(&s->connected, true);
    log_info(COMPONENT, "connected", "broker=%s exchange=%s confirms=%s attempts=%" PRIu64, s->host_port,
             s->exchange, s->cfg.no_confirm ? "off" : "on", s->failed_attempts + 1);
    s->failed_attempts = 0;
    return 0;
fail:
    /* One warning per outage; the retries that follow are debug lines, summed up once connected. */
    if (s->failed_attempts++ == 0)
        log_warn(COMPONENT, "connect failed", "broker=%s error=%s tls_error=%s", s->host_port,
                 why ? why : "unknown", detail ? detail : "none");
    else
        log_debug(COMPONENT, "connect failed", "broker=%s error=%s tls_error=%s", s->host_port,
                  why ? why : "unknown", detail ? detail : "none");
    amqp_destroy_connection(s->conn);
    s->conn = NULL;
    s->ssl = NULL;
    return -ECONNREFUSED;
}

static void wait_backoff(struct amqp_sink *s) {
    uint64_t end = (uint64_t)clock_mono_ms() + backoff_next(&s->backoff);
    for (uint64_t now; !atomic_load(&s->stopping) && (now = (uint64_t)clock_mono_ms()) < end;) nap(s, end - now);
}

/* ---- publishing ---------------------------------------------------------------------------------------- */

/* "tick.<venue>.<symbol>", a '.' of the symbol sent as '_' (three words always). Returns the length. */
static size_t routing_key(const struct tick *t, char *out) {
    char *p = sink_put_mem(out, "tick.", 5);
    p = sink_put_field(p, t->venue, sizeof t->venue);
    *p++ = '.';
    char *symbol = p;
    p = sink_put_field(p, t->symbol, sizeof t->symbol);
    for (char *c = symbol; c < p; c++)
        if (*c == '.') *c = '_';
    return (size_t)(p - out);
}

/* "<venue>:<symbol>:<seq>", or the event time, or the receive time (µs) when the venue gives no sequence. */
static size_t message_id(const struct tick *t, char *out) {
    char *p = sink_put_field(out, t->venue, sizeof t->venue);
    *p++ = ':';
    p = sink_put_field(p, t->symbol, sizeof t->symbol);
    *p++ = ':';
    p = t->has_seq ? fmt_u64(p, t->seq) : sink_put_i64(p, t->event_us ? t->event_us : t->recv_us);
    return (size_t)(p - out);
}


static uint8_t *put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v) {
    p = put_u16(p, (uint16_t)(v >> 16));
    return put_u16(p, (uint16_t)v);
}

static uint8_t *put_u64(uint8_t *p, uint64_t v) {
    p = put_u32(p, (uint32_t)(v >> 32));
    return put_u32(p, (uint32_t)v);
}

/* Starts a frame at p; its payload goes at the returned pointer and end_frame closes it. */
static uint8_t *begin_frame(uint8_t *p, uint8_t type) {
    *p = type;
    put_u16(p + 1, CHANNEL);
    return p + 7;
}

static uint8_t *end_frame(uint8_t *frame, uint8_t *payload_end) {
    put_u32(frame + 3, (uint32_t)(payload_end - (frame + 7)));
    *payload_end = FRAME_END;
    return payload_end + 1;
}


/* Appends a basic.publish (method, content header, body) to out; rabbitmq-c's own encoders write the method
 * and the properties, the frames around them are written here. Returns the end, or NULL when it cannot be
 * encoded. recv_us: the receive time, the timestamp property (seconds). The body goes in frames of at most
 * BODY_FRAME_MAX bytes; out holds MESSAGE_MAX(len). */
static uint8_t *encode_message(const struct amqp_sink *s, amqp_bytes_t key, amqp_bytes_t id, int64_t recv_us,
                               const char *body, size_t len, uint8_t *out) {
    amqp_basic_publish_t method = {
        .exchange = s->exchange_bytes,
        .routing_key = key,
    };
    amqp_basic_properties_t props = {
        ._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
                  AMQP_BASIC_MESSAGE_ID_FLAG,
        .content_type = amqp_cstring_bytes("application/json"),
        .delivery_mode = AMQP_DELIVERY_PERSISTENT,
        .timestamp = (uint64_t)(recv_us > 0 ? recv_us / 1000000 : 0),
        .message_id = id,
    };
    uint8_t *frame = out, *p = put_u32(begin_frame(frame, FRAME_METHOD), AMQP_BASIC_PUBLISH_METHOD);
    int n = amqp_encode_method(AMQP_BASIC_PUBLISH_METHOD, &method, (amqp_bytes_t){.len = PUBLISH_METHOD_MAX - 4, .bytes = p});
    if (n < 0) return NULL;
    frame = end_frame(frame, p + n);
    p = put_u16(begin_frame(frame, FRAME_HEADER), AMQP_BASIC_CLASS);
    p = put_u64(put_u16(p, 0), (uint64_t)len); /* weight (unused), body size */
    n = amqp_encode_properties(AMQP_BASIC_CLASS, &props, (amqp_bytes_t){.len = PUBLISH_PROPS_MAX, .bytes = p});
    if (n < 0) return NULL;
    frame = end_frame(frame, p + n);
    do {
        size_t chunk = len < BODY_FRAME_MAX ? len : BODY_FRAME_MAX;
        p = begin_frame(frame, FRAME_BODY);
        memcpy(p, body, chunk);
        frame = end_frame(frame, p + chunk);
        body += chunk;
        len -= chunk;
    } while (len);
    return frame;
}

/* Appends t's basic.publish to out. Returns the end, or NULL when t has no valid JSON form (sink_tick_json). */
static uint8_t *encode_publish(const struct amqp_sink *s, const struct tick *t, uint8_t *out) {
    char body[SINK_JSON_MAX], key[8 + TICK_VENUE_MAX + TICK_SYMBOL_MAX], id[24 + TICK_VENUE_MAX + TICK_SYMBOL_MAX];
    int len = sink_tick_json(t, body, sizeof body);
    if (len < 0) return NULL;
    return encode_message(s, (amqp_bytes_t){.len = routing_key(t, key), .bytes = key},
                          (amqp_bytes_t){.len = message_id(t, id), .bytes = id}, t->recv_us, body, (size_t)len, out);
}

/* "trade.<venue>.<symbol>", a '.' of the symbol sent as '_' as in a tick's key. Returns the length. */
static size_t trade_routing_key(const struct trade *t, char *out) {
    char *p = sink_put_mem(out, "trade.", 6);
    p = sink_put_field(p, t->venue, sizeof t->venue);
    *p++ = '.';
    char *symbol = p;
    p = sink_put_field(p, t->symbol, sizeof t->symbol);
    for (char *c = symbol; c < p; c++)
        if (*c == '.') *c = '_';
    return (size_t)(p - out);
}

/* "<venue>:<symbol>:<trade id>". */
static size_t trade_message_id(const struct trade *t, char *out) {
    char *p = sink_put_field(out, t->venue, sizeof t->venue);
    *p++ = ':';
    p = sink_put_field(p, t->symbol, sizeof t->symbol);
    *p++ = ':';
    p = sink_put_field(p, t->id, sizeof t->id);
    return (size_t)(p - out);
}

/* A trade's basic.publish, as encode_publish; the JSON body is sink_trade_json. */
static uint8_t *encode_trade(const struct amqp_sink *s, const struct trade *t, uint8_t *out) {
    char body[SINK_JSON_MAX], key[8 + TICK_VENUE_MAX + TICK_SYMBOL_MAX], id[4 + TICK_VENUE_MAX + TICK_SYMBOL_MAX +
                                                                               TRADE_ID_MAX];
    int len = sink_trade_json(t, body, sizeof body);
    if (len < 0) return NULL;
    return encode_message(s, (amqp_bytes_t){.len = trade_routing_key(t, key), .bytes = key},
                          (amqp_bytes_t){.len = trade_message_id(t, id), .bytes = id}, t->recv_us, body,
                          (size_t)len, out);
}

/* "<kind>.<venue>.<symbol>", a '.' of the symbol sent as '_' as in a tick's key. Returns the length. */
static size_t book_routing_key(const char *kind, const char *venue, const char *symbol, char *out) {
    char *p = sink_put_mem(out, kind, strlen(kind));
    *p++ = '.';
    p = sink_put_field(p, venue, TICK_VENUE_MAX);
    *p++ = '.';
    char *sym = p;
    p = sink_put_field(p, symbol, TICK_SYMBOL_MAX);
    for (char *c = sym; c < p; c++)
        if (*c == '.') *c = '_';
    return (size_t)(p - out);
}

/* "<venue>:<symbol>:<seq>", and ":snapshot" after it for a delta that is one. Returns the length. */
static size_t book_message_id(const char *venue, const char *symbol, uint64_t seq, bool snapshot, char *out) {
    char *p = sink_put_field(out, venue, TICK_VENUE_MAX);
    *p++ = ':';
    p = sink_put_field(p, symbol, TICK_SYMBOL_MAX);
    *p++ = ':';
    p = fmt_u64(p, seq);
    if (snapshot) p = sink_put_mem(p, ":snapshot", 9);
    return (size_t)(p - out);
}

/* A book's or a delta's publish (kind "book" or "bookdelta"), as encode_message. */
static uint8_t *encode_book_message(const struct amqp_sink *s, const char *kind, const char *venue,
                                    const char *symbol, uint64_t seq, bool snapshot, int64_t recv_us,
                                    const char *body, size_t len, uint8_t *out) {
    char key[16 + TICK_VENUE_MAX + TICK_SYMBOL_MAX], id[40 + TICK_VENUE_MAX + TICK_SYMBOL_MAX];
    return encode_message(s, (amqp_bytes_t){.len = book_routing_key(kind, venue, symbol, key), .bytes = key},
                          (amqp_bytes_t){.len = book_message_id(venue, symbol, seq, snapshot, id), .bytes = id},
                          recv_us, body, len, out);
}

#define PUT_LIT(p, lit) sink_put_mem(p, lit, sizeof lit - 1)

/* {"venue":..,"symbol":..,"seq":N,"state":"live","bids":[["p","q"],...],"asks":[...],"event_us":N,"recv_us":N}
 * (the levels: the top v->depth a side, sink_put_book_levels). Returns the length; BOOK_BODY_MAX(levels) holds it. */
static size_t book_json(const struct book_view *v, char *out) {
    char *p = PUT_LIT(out, "{\"venue\":\"");
    p = sink_put_field(p, v->venue, TICK_VENUE_MAX);
    p = PUT_LIT(p, "\",\"symbol\":\"");
    p = sink_put_field(p, v->symbol, TICK_SYMBOL_MAX);
    p = fmt_u64(PUT_LIT(p, "\",\"seq\":"), v->seq);
    p = PUT_LIT(p, ",\"state\":\"");
    const char *state = book_state_name(v->state);
    p = sink_put_mem(p, state, strlen(state));
    p = sink_put_book_levels(PUT_LIT(p, "\",\"bids\":"), &v->book->side[BOOK_BID], v->depth);
    p = sink_put_book_levels(PUT_LIT(p, ",\"asks\":"), &v->book->side[BOOK_ASK], v->depth);
    p = sink_put_i64(PUT_LIT(p, ",\"event_us\":"), v->event_us);
    p = sink_put_i64(PUT_LIT(p, ",\"recv_us\":"), v->recv_us);
    *p++ = '}';
    return (size_t)(p - out);
}

/* A delta's changes of one side, in the order sent, as [["p","q"],...] (the pair writer the levels use). */
static char *put_changes(char *p, const struct book_delta_view *v, enum book_side side) {
    bool first = true;
    *p++ = '[';
    for (size_t i = 0; i < v->n_changes; i++) {
        if (v->changes[i].side != side) continue;
        if (!first) *p++ = ',';
        first = false;
        p = sink_put_book_level(p, v->changes[i].price, v->changes[i].qty);
    }
    *p++ = ']';
    return p;
}

/* {"venue":..,"symbol":..,"type":"snapshot"|"delta","seq":N,"bids":[...],"asks":[...],"event_us":N,"recv_us":N}.
 * Returns the length; BOOK_BODY_MAX(v->n_changes) holds it. */
static size_t book_delta_json(const struct book_delta_view *v, char *out) {
    char *p = PUT_LIT(out, "{\"venue\":\"");
    p = sink_put_field(p, v->venue, TICK_VENUE_MAX);
    p = PUT_LIT(p, "\",\"symbol\":\"");
    p = sink_put_field(p, v->symbol, TICK_SYMBOL_MAX);
    p = v->snapshot ? PUT_LIT(p, "\",\"type\":\"snapshot\"") : PUT_LIT(p, "\",\"type\":\"delta\"");
    p = fmt_u64(PUT_LIT(p, ",\"seq\":"), v->seq);
    p = put_changes(PUT_LIT(p, ",\"bids\":"), v, BOOK_BID);
    p = put_changes(PUT_LIT(p, ",\"asks\":"), v, BOOK_ASK);
    p = sink_put_i64(PUT_LIT(p, ",\"event_us\":"), v->event_us);
    p = sink_put_i64(PUT_LIT(p, ",\"recv_us\":"), v->recv_us);
    *p++ = '}';
    return (size_t)(p - out);
}

/* An instrument change's publish: routing key "instrument.<venue>.<symbol>" ('.' in the symbol sent as '_'),
 * message id "<venue>:<symbol>:<put_us>" (the put's wall time, µs: a change published again after a lost connection
 * keeps it), body {"change":"<name>",...} with instrument_json's members after "change". Returns the end, or NULL
 * when the instrument has no JSON (a text not terminated in its field). out holds MESSAGE_MAX(INSTRUMENT_BODY_MAX). */
static uint8_t *encode_instrument(const struct amqp_sink *s, const char *venue, const struct instrument *in,
                                  enum instrument_change change, int64_t put_us, uint8_t *out) {
    char body[INSTRUMENT_BODY_MAX], key[16 + TICK_VENUE_MAX + TICK_SYMBOL_MAX];
    char id[24 + TICK_VENUE_MAX + TICK_SYMBOL_MAX];
    const char *name = instrument_change_name((int)change);
    char *p = PUT_LIT(body, "{\"change\":\"");
    p = sink_put_mem(p, name, strlen(name));
    p = PUT_LIT(p, "\",");
    /* instrument_json's text after its '{', written over it: its members follow "change" */
    int n = instrument_json(in, venue, p - 1, sizeof body - (size_t)(p - 1 - body));
    if (n < 0) return NULL;
    *(p - 1) = ',';
    size_t len = (size_t)(p - 1 - body) + (size_t)n;
    char *q = sink_put_field(id, venue, TICK_VENUE_MAX);
    *q++ = ':';
    q = sink_put_field(q, in->symbol, sizeof in->symbol);
    *q++ = ':';
    q = sink_put_i64(q, put_us);
    size_t key_len = book_routing_key("instrument", venue, in->symbol, key);
    return encode_message(s, (amqp_bytes_t){.len = key_len, .bytes = key},
                          (amqp_bytes_t){.len = (size_t)(q - id), .bytes = id}, put_us, body, len, out);
}

/* One non-blocking write of what is left: the bytes taken (> 0), 0 with *events to wait for, or an amqp status
 * (< 0). Over TLS a write is retried with the same bytes until OpenSSL takes them, as it requires. */
static ssize_t send_some(struct amqp_sink *s, int fd, const uint8_t *p, size_t len, short *events) {
    *events = POLLOUT;
    if (s->ssl) {
        ERR_clear_error();
        int n = SSL_write(s->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
        if (n > 0) return n;
        switch (SSL_get_error(s->ssl, n)) {
        case SSL_ERROR_WANT_WRITE: return 0;
        case SSL_ERROR_WANT_READ: *events = POLLIN; return 0;
        default: return AMQP_STATUS_SSL_ERROR;
        }
    }
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n > 0) return n;
    if (n < 0 && errno == EINTR) *events = 0; /* try again at once */
    else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return AMQP_STATUS_SOCKET_ERROR;
    return 0;
}

/* Writes the whole batch: one send() for what rabbitmq-c would send as three per publish. The socket is
 * rabbitmq-c's and non-blocking; a broker that takes nothing for connect_timeout_ms, or a stop past its
 * deadline, ends the connection (a partly written frame leaves no other way). */
static int send_all(struct amqp_sink *s, const uint8_t *p, size_t len) {
    int fd = amqp_get_sockfd(s->conn);
    uint64_t stall_end = (uint64_t)clock_mono_ms() + s->cfg.connect_timeout_ms;
    while (len) {
        short events;
        ssize_t n = send_some(s, fd, p, len, &events);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            stall_end = (uint64_t)clock_mono_ms() + s->cfg.connect_timeout_ms;
            continue;
        }
        if (n < 0) return (int)n;
        if (!events) continue; /* interrupted */
        uint64_t now = (uint64_t)clock_mono_ms();
        if (now >= stall_end || (atomic_load(&s->stopping) && now >= s->stop_deadline_ms))
            return AMQP_STATUS_TIMEOUT;
        struct pollfd w = {.fd = fd, .events = events};
        uint64_t wait = stall_end - now < 100 ? stall_end - now : 100; /* a stop is noticed within 100 ms */
        if (poll(&w, 1, (int)wait) < 0 && errno != EINTR) return AMQP_STATUS_SOCKET_ERROR;
    }
    return AMQP_STATUS_OK;
}

/* How many more publishes the confirm window allows now, at most one batch. */
static size_t window_room(const struct amqp_sink *s) {
    uint64_t room = s->cfg.no_confirm ? PUBLISH_BATCH : confirm_window_room(&s->window);
    return room < PUBLISH_BATCH ? (size_t)room : PUBLISH_BATCH;
}

/* Up to max waiting publishes of kind k into the batch at *p, as far as they fit in the wire, with tags from tag
 * (ticks: the caller's room for the quotes taken). Returns how many, or -1 when a quote cannot be encoded. */
static ssize_t take_kind(struct amqp_sink *s, enum publish_kind k, uint8_t **p, size_t max, uint64_t tag,
                         struct tick *ticks) {
    size_t cap = (size_t)(s->wire + sizeof s->wire - *p), len = 0, n = 0;
    switch (k) {
    case KIND_TRADES: n = trade_queue_take(s->trades, *p, cap, max, tag, &len); break;
    case KIND_DELTAS: n = trade_queue_take(s->deltas, *p, cap, max, tag, &len); break;
    case KIND_INSTRUMENTS: n = trade_queue_take(s->instruments, *p, cap, max, tag, &len); break;
    case KIND_BOOKS: n = book_buf_take(s->books, *p, cap, max, tag, &len); break;
    case KIND_QUOTES: /* encoded here: each takes at most PUBLISH_MAX */
        if (max > cap / PUBLISH_MAX) max = cap / PUBLISH_MAX;
        n = conflate_take(s->buf, ticks, max, tag);
        for (size_t i = 0; i < n; i++) {
            uint8_t *end = encode_publish(s, &ticks[i], *p + len);
            if (!end) return -1;
            len = (size_t)(end - *p);
        }
        break;
    case KINDS: break;
    }
    *p += len;
    return (ssize_t)n;
}

/* Publishes what waits, within the confirm window, a batch per write. Each kind with work gets an equal share of the
 * room, and what a kind leaves goes to the others in further rounds (a kind that took less than its share has no
 * more, or no more that fits: it is done for this batch), so that none starves another: a backlog of trades takes
 * half a batch from waiting quotes, not all of it. The kind that goes first turns with every batch, and a batch's
 * first publish always fits the wire. The tags follow the order on the wire. Returns 0 or an amqp status. */
static int publish_waiting(struct amqp_sink *s) {
    struct tick ticks[PUBLISH_BATCH];
    size_t room;
    while (!s->blocked_local && (room = window_room(s)) > 0) {
        uint8_t *p = s->wire;
        uint64_t tag = s->next_tag;
        size_t n = 0, left = room, taken[KINDS] = {0};
        bool busy[KINDS];
        for (unsigned k = 0; k < KINDS; k++) busy[k] = true;
        unsigned nbusy = KINDS, first = s->first_kind;
        s->first_kind = (first + 1) % KINDS;
        while (left && nbusy) {
            size_t share = (left + nbusy - 1) / nbusy;
            for (unsigned i = 0; i < KINDS && left; i++) {
                enum publish_kind k = (enum publish_kind)((first + i) % KINDS);
                if (!busy[k]) continue;
                size_t want = share < left ? share : left;
                ssize_t got = take_kind(s, k, &p, want, tag + n, ticks);
                if (got < 0) return AMQP_STATUS_BAD_AMQP_DATA;
                taken[k] += (size_t)got;
                n += (size_t)got;
                left -= (size_t)got;
                if ((size_t)got < want) {
                    busy[k] = false;
                    nbusy--;
                }
            }
        }
        if (!n) break;
        int rc = send_all(s, s->wire, (size_t)(p - s->wire));
        if (rc != AMQP_STATUS_OK) return rc;
        uint64_t now = (uint64_t)clock_mono_us();
        for (size_t i = 0; i < n; i++) confirm_window_sent(&s->window, tag + i, now);
        atomic_fetch_add(&s->published, taken[KIND_QUOTES]);
        atomic_fetch_add(&s->trades_published, taken[KIND_TRADES]);
        atomic_fetch_add(&s->books_published, taken[KIND_BOOKS]);
        atomic_fetch_add(&s->deltas_published, taken[KIND_DELTAS]);
        atomic_fetch_add(&s->instruments_published, taken[KIND_INSTRUMENTS]);
        if (s->cfg.no_confirm) {
            conflate_confirm(s->buf, tag + n - 1, true, true);
            trade_queue_confirm(s->trades, tag + n - 1, true, true);
            book_buf_confirm(s->books, tag + n - 1, true, true);
            trade_queue_confirm(s->deltas, tag + n - 1, true, true);
            trade_queue_confirm(s->instruments, tag + n - 1, true, true);
        }
        s->next_tag += n;
    }
    return AMQP_STATUS_OK;
}

static int handle_method(struct amqp_sink *s, const amqp_method_t *m) {
    switch (m->id) {
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *a = m->decoded;
        size_t n = conflate_confirm(s->buf, a->delivery_tag, a->multiple, true);
        atomic_fetch_add(&s->confirmed, n);
        n += trade_queue_confirm(s->trades, a->delivery_tag, a->multiple, true);
        n += book_buf_confirm(s->books, a->delivery_tag, a->multiple, true);
        n += trade_queue_confirm(s->deltas, a->delivery_tag, a->multiple, true);
        n += trade_queue_confirm(s->instruments, a->delivery_tag, a->multiple, true);
        confirmed(s, a->delivery_tag, n);
        return 0;
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *a = m->decoded;
        size_t n = conflate_confirm(s->buf, a->delivery_tag, a->multiple, false);
        atomic_fetch_add(&s->nacked, n);
        n += trade_queue_confirm(s->trades, a->delivery_tag, a->multiple, false);
        n += book_buf_confirm(s->books, a->delivery_tag, a->multiple, false);
        n += trade_queue_confirm(s->deltas, a->delivery_tag, a->multiple, false);
        n += trade_queue_confirm(s->instruments, a->delivery_tag, a->multiple, false);
        confirmed(s, a->delivery_tag, n);
        return 0;
    }
    case AMQP_CONNECTION_BLOCKED_METHOD:
        log_warn(COMPONENT, "broker blocked publishing", "broker=%s", s->host_port);
        s->blocked_local = true;
        atomic_store(&s->blocked, true);
        return 0;
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
        log_info(COMPONENT, "broker unblocked publishing", "broker=%s", s->host_port);
        s->blocked_local = false;
        atomic_store(&s->blocked, false);
        return 0;
    case AMQP_CONNECTION_CLOSE_METHOD: {
        const amqp_connection_close_t *c = m->decoded;
        log_warn(COMPONENT, "broker closed the connection", "broker=%s code=%u text=%.*s", s->host_port,
                 c->reply_code, (int)c->reply_text.len, (const char *)c->reply_text.bytes);
        amqp_connection_close_ok_t ok = {0};
        amqp_send_method(s->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        return AMQP_STATUS_CONNECTION_CLOSED;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
        const amqp_channel_close_t *c = m->decoded;
        log_warn(COMPONENT, "broker closed the channel", "broker=%s code=%u text=%.*s", s->host_port,
                 c->reply_code, (int)c->reply_text.len, (const char *)c->reply_text.bytes);
        return AMQP_STATUS_CONNECTION_CLOSED;
    }
    default:
        return 0; /* basic.return and the like: nothing to do */
    }
}

/* Reads every frame already available, never waiting. Also where rabbitmq-c sends heartbeats and notices a
 * silent broker (AMQP_STATUS_HEARTBEAT_TIMEOUT). *opened: a confirm or an unblock came, which may let more
 * be published now. */
static int drain_frames(struct amqp_sink *s, bool *opened) {
    for (;;) {
        amqp_frame_t frame;
        struct timeval zero = {0, 0};
        int rc = amqp_simple_wait_frame_noblock(s->conn, &frame, &zero);
        if (rc == AMQP_STATUS_TIMEOUT) break;
        if (rc != AMQP_STATUS_OK) return rc;
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        if ((rc = handle_method(s, &frame.payload.method)) != 0) return rc;
        *opened = true;
    }
    amqp_maybe_release_buffers(s->conn);
    return 0;
}

/* Waits for a tick, a frame, or the next heartbeat pump. */
static void wait_events(struct amqp_sink *s) {
    struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN}, {.fd = amqp_get_sockfd(s->conn), .events = POLLIN}};
    int timeout = (int)(s->cfg.heartbeat_s * 1000 / 4);
    if (timeout > 200 || timeout <= 0) timeout = 200;
    if (s->ssl && SSL_pending(s->ssl) > 0) timeout = 0; /* decrypted bytes wait in OpenSSL, not in the socket */
    if (poll(p, 2, timeout) > 0 && (p[0].revents & POLLIN)) drain_wake_fd(s);
}

/* Logs what a full event buffer (the trades', the book deltas' or the instrument changes') dropped since the last
 * such line, with the range of the events' times (the venue's time, else the receive time; an instrument change's
 * put time; µs): at most once per TRADE_DROP_LOG_MS per buffer, from whichever thread comes first (the exchange
 * elects one), or at once when force (the sink's end). */
static void log_queue_drops(struct amqp_sink *s, enum event_queue which, bool force) {
    struct trade_queue *q = which == QUEUE_DELTAS ? s->deltas : which == QUEUE_INSTRUMENTS ? s->instruments : s->trades;
    _Atomic uint64_t *last_log = which == QUEUE_DELTAS        ? &s->last_delta_drop_log_ms
                                 : which == QUEUE_INSTRUMENTS ? &s->last_instrument_drop_log_ms
                                                              : &s->last_drop_log_ms;
    uint64_t now = (uint64_t)clock_mono_ms(), last = atomic_load(last_log);
    if (!force && last && now - last < TRADE_DROP_LOG_MS) return;
    if (!atomic_compare_exchange_strong(last_log, &last, now)) return;
    struct trade_queue_drops d;
    if (!trade_queue_drops_take(q, &d)) {
        atomic_store(last_log, last); /* nothing said: the next drop may be logged at once */
        return;
    }
    struct trade_queue_stats ts;
    trade_queue_stats(q, &ts);
    const char *connected = atomic_load(&s->connected) ? "yes" : "no";
    const char *blocked = atomic_load(&s->blocked) ? "yes" : "no";
    if (which == QUEUE_INSTRUMENTS)
        log_warn(COMPONENT, "instrument changes dropped, the instrument buffer is full",
                 "dropped=%" PRIu64 " from_us=%" PRId64 " to_us=%" PRId64 " instruments_dropped=%" PRIu64
                 " instrument_bytes=%" PRIu64 " instrument_buffer=%" PRIu64 " connected=%s blocked=%s",
                 d.count, d.first_us, d.last_us, ts.dropped, ts.bytes, ts.limit, connected, blocked);
    else if (which == QUEUE_DELTAS)
        log_warn(COMPONENT, "book deltas dropped, the delta buffer is full",
                 "dropped=%" PRIu64 " from_us=%" PRId64 " to_us=%" PRId64 " book_deltas_dropped=%" PRIu64
                 " delta_bytes=%" PRIu64 " delta_buffer=%" PRIu64 " connected=%s blocked=%s",
                 d.count, d.first_us, d.last_us, ts.dropped, ts.bytes, ts.limit, connected, blocked);
    else
        log_warn(COMPONENT, "trades dropped, the trade buffer is full",
                 "dropped=%" PRIu64 " from_us=%" PRId64 " to_us=%" PRId64 " trades_dropped=%" PRIu64
                 " trade_bytes=%" PRIu64 " trade_buffer=%" PRIu64 " connected=%s blocked=%s",
                 d.count, d.first_us, d.last_us, ts.dropped, ts.bytes, ts.limit, connected, blocked);
}

static void log_trade_drops(struct amqp_sink *s, bool force) {
    log_queue_drops(s, QUEUE_TRADES, force);
}

static void log_delta_drops(struct amqp_sink *s, bool force) {
    log_queue_drops(s, QUEUE_DELTAS, force);
}

static void log_instrument_drops(struct amqp_sink *s, bool force) {
    log_queue_drops(s, QUEUE_INSTRUMENTS, force);
}

static bool stop_reached(struct amqp_sink *s) {
    if (!atomic_load(&s->stopping)) return false;
    struct conflate_stats st;
    conflate_stats(s->buf, &st);
    struct trade_queue_stats ts, ds, is;
    trade_queue_stats(s->trades, &ts);
    trade_queue_stats(s->deltas, &ds);
    trade_queue_stats(s->instruments, &is);
    struct book_buf_stats bs;
    book_buf_stats(s->books, &bs);
    return (st.depth == 0 && ts.held == 0 && bs.depth == 0 && ds.held == 0 && is.held == 0) ||
           (uint64_t)clock_mono_ms() >= s->stop_deadline_ms;
}

static void *publisher_main(void *arg) {
    struct amqp_sink *s = arg;
    s->stop_deadline_ms = UINT64_MAX;
    bool was_connected = false;
    for (;;) {
        if (atomic_load(&s->stopping) && s->stop_deadline_ms == UINT64_MAX)
            s->stop_deadline_ms = (uint64_t)clock_mono_ms() + s->cfg.close_deadline_ms;
        if (stop_reached(s)) break;
        if (!s->conn) {
            if (connect_broker(s) < 0) {
                wait_backoff(s);
                continue;
            }
            if (was_connected) atomic_fetch_add(&s->reconnects, 1);
            was_connected = true;
        }
        /* Poll only when nothing can be published: confirms drained here may have opened the window for ticks
         * that are waiting, and the loop does not wake the thread for those (conflate_put says it is awake). */
        bool opened = false;
        int rc = publish_waiting(s);
        if (rc == 0) rc = drain_frames(s, &opened);
        if (rc == 0 && !opened) {
            wait_events(s);
            rc = drain_frames(s, &opened);
        }
        if (rc != 0) {
            log_warn(COMPONENT, "connection lost", "broker=%s error=%s", s->host_port, amqp_error_string2(rc));
            disconnect(s);
            s->failed_attempts = 1; /* the loss was the warning of this outage */
            wait_backoff(s);
        }
    }
    struct conflate_stats st;
    conflate_stats(s->buf, &st);
    if (st.depth)
        log_warn(COMPONENT, "closing with unconfirmed ticks", "instruments=%zu", st.depth);
    struct trade_queue_stats ts;
    trade_queue_stats(s->trades, &ts);
    if (ts.held)
        log_warn(COMPONENT, "closing with unconfirmed trades", "trades=%zu bytes=%" PRIu64, ts.held, ts.bytes);
    struct book_buf_stats bs;
    book_buf_stats(s->books, &bs);
    if (bs.depth) log_warn(COMPONENT, "closing with unconfirmed books", "books=%zu", bs.depth);
    trade_queue_stats(s->deltas, &ts);
    if (ts.held)
        log_warn(COMPONENT, "closing with unconfirmed book deltas", "book_deltas=%zu bytes=%" PRIu64, ts.held,
                 ts.bytes);
    trade_queue_stats(s->instruments, &ts);
    if (ts.held)
        log_warn(COMPONENT, "closing with unconfirmed instrument changes", "instruments=%zu bytes=%" PRIu64, ts.held,
                 ts.bytes);
    log_trade_drops(s, true);
    log_delta_drops(s, true);
    log_instrument_drops(s, true);
    if (s->conn) {
        amqp_connection_close(s->conn, AMQP_REPLY_SUCCESS); /* bounded by the rpc timeout */
        amqp_destroy_connection(s->conn);
        s->conn = NULL;
        s->ssl = NULL;
    }
    uv_async_send(&s->done);
    return NULL;
}

/* ---- loop side ------------------------------------------------------------------------------------------ */

/* Refuses t when why is set, else hands it to the buffer: by the merge's quote id, or by name (NO_QUOTE_ID, which
 * the merge never gives). */
#define NO_QUOTE_ID UINT32_MAX

/* At the next loop turn, before it polls: the thread takes everything put during this turn in one batch. Woken per
 * put, at 50k ticks/s it would take one tick per wake, and the wakes (an eventfd write here, a poll return and a
 * context switch there) would cost more than the publishing. */
static void on_wake_turn(uv_idle_t *h) {
    struct amqp_sink *s = h->data;
    uv_idle_stop(h);
    wake(s);
}

static int put(struct amqp_sink *s, uint32_t quote_id, const struct tick *t, const char *why) {
    if (why) {
        atomic_fetch_add(&s->refused, 1);
        uint64_t now = (uint64_t)clock_mono_ms(), last = atomic_load(&s->last_refusal_log_ms);
        if (!last || now - last >= 1000) {
            atomic_store(&s->last_refusal_log_ms, now);
            log_warn(COMPONENT, "tick refused", "cause=%s venue=%.*s symbol=%.*s", why, TICK_VENUE_MAX, t->venue,
                     TICK_SYMBOL_MAX, t->symbol);
        }
        return -EINVAL;
    }
    enum conflate_put_result res =
        quote_id == NO_QUOTE_ID ? conflate_put(s->buf, t) : conflate_put_id(s->buf, quote_id, t);
    switch (res) {
    case CONFLATE_WAKE: uv_idle_start(&s->waker, on_wake_turn); return 0;
    case CONFLATE_FULL: return -ENOSPC; /* counted by the buffer; the stats line shows it */
    default: return 0;
    }
}

int amqp_sink_put_trade(struct amqp_sink *s, const struct trade *t) {
    const char *why = sink_trade_invalid(t);
    uint8_t msg[PUBLISH_MAX], *end = why ? NULL : encode_trade(s, t, msg);
    if (!end) {
        atomic_fetch_add(&s->trades_refused, 1);
        uint64_t now = (uint64_t)clock_mono_ms(), last = atomic_load(&s->last_refusal_log_ms);
        if (!last || now - last >= 1000) {
            atomic_store(&s->last_refusal_log_ms, now);
            log_warn(COMPONENT, "trade refused", "cause=%s venue=%.*s symbol=%.*s", why ? why : "cannot encode",
                     TICK_VENUE_MAX, t->venue, TICK_SYMBOL_MAX, t->symbol);
        }
        return -EINVAL;
    }
    size_t dropped;
    enum trade_queue_put_result res =
        trade_queue_put(s->trades, msg, (size_t)(end - msg), t->event_us ? t->event_us : t->recv_us, &dropped);
    if (dropped) log_trade_drops(s, false);
    switch (res) {
    case TRADE_QUEUE_WAKE: uv_idle_start(&s->waker, on_wake_turn); return 0;
    case TRADE_QUEUE_NOMEM: return -ENOMEM;
    default: return 0;
    }
}

/* A refused book or delta: counted, and logged at most once a second (the ticks' and trades' limit). */
static int refuse_book(struct amqp_sink *s, _Atomic uint64_t *counter, const char *what, const char *why,
                       const char *venue, const char *symbol, int err) {
    atomic_fetch_add(counter, 1);
    uint64_t now = (uint64_t)clock_mono_ms(), last = atomic_load(&s->last_refusal_log_ms);
    if (!last || now - last >= 1000) {
        atomic_store(&s->last_refusal_log_ms, now);
        log_warn(COMPONENT, what, "cause=%s venue=%.*s symbol=%.*s", why, TICK_VENUE_MAX, venue ? venue : "",
                 TICK_SYMBOL_MAX, symbol ? symbol : "");
    }
    return err;
}

/* The loop's scratch buffer, at least size bytes; NULL when out of memory. */
static uint8_t *scratch(struct amqp_sink *s, size_t size) {
    if (size <= s->scratch_cap) return s->scratch;
    size_t cap = s->scratch_cap ? s->scratch_cap : 16384;
    while (cap < size) cap *= 2;
    uint8_t *p = malloc(cap);
    if (!p) return NULL;
    free(s->scratch);
    s->scratch = p;
    s->scratch_cap = cap;
    return p;
}

int amqp_sink_put_book(struct amqp_sink *s, const struct book_view *v) {
    const char *why = sink_book_invalid(v);
    if (why) return refuse_book(s, &s->books_refused, "book refused", why, v->venue, v->symbol, -EINVAL);
    const struct book *b = v->book;
    uint32_t levels = (b->side[BOOK_BID].n < v->depth ? b->side[BOOK_BID].n : v->depth) +
                      (b->side[BOOK_ASK].n < v->depth ? b->side[BOOK_ASK].n : v->depth);
    size_t body_max = BOOK_BODY_MAX(levels);
    uint8_t *buf = scratch(s, body_max + MESSAGE_MAX(body_max));
    if (!buf) return refuse_book(s, &s->books_refused, "book refused", "out of memory", v->venue, v->symbol, -ENOMEM);
    uint8_t *msg = buf + body_max;
    uint8_t *end = encode_book_message(s, "book", v->venue, v->symbol, v->seq, false, v->recv_us, (char *)buf,
                                       book_json(v, (char *)buf), msg);
    if (!end) return refuse_book(s, &s->books_refused, "book refused", "cannot encode", v->venue, v->symbol, -EINVAL);
    switch (book_buf_put(s->books, v->venue, v->symbol, msg, (size_t)(end - msg))) {
    case CONFLATE_WAKE: uv_idle_start(&s->waker, on_wake_turn); return 0;
    case CONFLATE_FULL: return -ENOSPC; /* counted by the buffer; the stats line shows it */
    default: return 0;
    }
}

/* A delta's changes: each a side, a non-empty decimal price and qty within their arrays. */
static const char *book_delta_invalid(const struct book_delta_view *v) {
    if (!v->venue || !sink_venue_ok(v->venue, TICK_VENUE_MAX)) return "bad venue";
    if (!v->symbol || !sink_symbol_ok(v->symbol, TICK_SYMBOL_MAX)) return "bad symbol";
    if (v->n_changes && !v->changes) return "no changes";
    for (size_t i = 0; i < v->n_changes; i++) {
        const struct book_change *c = &v->changes[i];
        if (c->side != BOOK_BID && c->side != BOOK_ASK) return "bad side";
        if (!c->price[0] || !sink_decimal_ok(c->price, sizeof c->price) || !c->qty[0] ||
            !sink_decimal_ok(c->qty, sizeof c->qty))
            return "bad level";
    }
    return NULL;
}

int amqp_sink_put_book_delta(struct amqp_sink *s, const struct book_delta_view *v) {
    const char *what = "book delta refused";
    if (v->n_changes > BOOK_DELTA_CHANGES_MAX)
        return refuse_book(s, &s->deltas_refused, what, "too many changes", v->venue, v->symbol, -EMSGSIZE);
    const char *why = book_delta_invalid(v);
    if (why) return refuse_book(s, &s->deltas_refused, what, why, v->venue, v->symbol, -EINVAL);
    size_t body_max = BOOK_BODY_MAX(v->n_changes);
    uint8_t *buf = scratch(s, body_max + MESSAGE_MAX(body_max));
    if (!buf) return refuse_book(s, &s->deltas_refused, what, "out of memory", v->venue, v->symbol, -ENOMEM);
    uint8_t *msg = buf + body_max;
    uint8_t *end = encode_book_message(s, "bookdelta", v->venue, v->symbol, v->seq, v->snapshot, v->recv_us,
                                       (char *)buf, book_delta_json(v, (char *)buf), msg);
    if (!end) return refuse_book(s, &s->deltas_refused, what, "cannot encode", v->venue, v->symbol, -EINVAL);
    size_t dropped;
    enum trade_queue_put_result res = trade_queue_put(s->deltas, msg, (size_t)(end - msg),
                                                      v->event_us ? v->event_us : v->recv_us, &dropped);
    if (dropped) log_delta_drops(s, false);
    switch (res) {
    case TRADE_QUEUE_WAKE: uv_idle_start(&s->waker, on_wake_turn); return 0;
    case TRADE_QUEUE_NOMEM: return -ENOMEM;
    default: return 0;
    }
}

int amqp_sink_put_instrument(struct amqp_sink *s, const char *venue, const struct instrument *in,
                             enum instrument_change change) {
    const char *what = "instrument change refused", *why = sink_instrument_change_invalid(venue, in, (int)change);
    if (why) return refuse_book(s, &s->instruments_refused, what, why, venue, in ? in->symbol : NULL, -EINVAL);
    uint8_t msg[MESSAGE_MAX(INSTRUMENT_BODY_MAX)];
    int64_t put_us = clock_wall_us();
    uint8_t *end = encode_instrument(s, venue, in, change, put_us, msg);
    if (!end) return refuse_book(s, &s->instruments_refused, what, "bad instrument", venue, in->symbol, -EINVAL);
    size_t dropped;
    enum trade_queue_put_result res = trade_queue_put(s->instruments, msg, (size_t)(end - msg), put_us, &dropped);
    if (dropped) log_instrument_drops(s, false);
    switch (res) {
    case TRADE_QUEUE_WAKE: uv_idle_start(&s->waker, on_wake_turn); return 0;
    case TRADE_QUEUE_NOMEM: return -ENOMEM;
    default: return 0;
    }
}

int amqp_sink_put(struct amqp_sink *s, const struct tick *t) {
    return put(s, NO_QUOTE_ID, t, sink_tick_invalid(t));
}

int amqp_sink_put_accepted(struct amqp_sink *s, uint32_t quote_id, const struct tick *t) {
    return put(s, quote_id, t, sink_instrument_invalid(t)); /* the merge checked the decimals */
}

void amqp_sink_stats(struct amqp_sink *s, struct amqp_sink_stats *out) {
    struct conflate_stats st;
    conflate_stats(s->buf, &st);
    struct trade_queue_stats ts, ds, is;
    trade_queue_stats(s->trades, &ts);
    trade_queue_stats(s->deltas, &ds);
    trade_queue_stats(s->instruments, &is);
    struct book_buf_stats bs;
    book_buf_stats(s->books, &bs);
    *out = (struct amqp_sink_stats){
        .instruments = is.put,
        .instruments_published = atomic_load(&s->instruments_published),
        .instruments_confirmed = is.acked,
        .instruments_nacked = is.nacked,
        .instruments_refused = atomic_load(&s->instruments_refused),
        .instruments_dropped = is.dropped,
        .instrument_depth = is.held,
        .instrument_bytes = is.bytes,
        .books = bs.put,
        .books_published = atomic_load(&s->books_published),
        .books_confirmed = bs.acked,
        .books_nacked = bs.nacked,
        .books_replaced = bs.replaced,
        .books_refused = atomic_load(&s->books_refused),
        .books_dropped = bs.dropped,
        .book_depth = bs.depth,
        .book_deltas = ds.put,
        .book_deltas_published = atomic_load(&s->deltas_published),
        .book_deltas_confirmed = ds.acked,
        .book_deltas_nacked = ds.nacked,
        .book_deltas_refused = atomic_load(&s->deltas_refused),
        .book_deltas_dropped = ds.dropped,
        .book_delta_depth = ds.held,
        .book_delta_bytes = ds.bytes,
        .trades = ts.put,
        .trades_published = atomic_load(&s->trades_published),
        .trades_confirmed = ts.acked,
        .trades_nacked = ts.nacked,
        .trades_refused = atomic_load(&s->trades_refused),
        .trades_dropped = ts.dropped,
        .trade_depth = ts.held,
        .trade_bytes = ts.bytes,
        .trade_inflight = ts.inflight,
        .published = atomic_load(&s->published),
        .confirmed = atomic_load(&s->confirmed),
        .nacked = atomic_load(&s->nacked),
        .reconnects = atomic_load(&s->reconnects),
        .refused = atomic_load(&s->refused),
        .dropped = st.dropped,
        .depth = st.depth,
        .inflight = st.inflight,
        .window = atomic_load(&s->window_now),
        .connected = atomic_load(&s->connected),
        .blocked = atomic_load(&s->blocked),
    };
}

static uint64_t or_default(uint64_t v, uint64_t d) {
    return v ? v : d;
}

static int parse_url(struct amqp_sink *s, const struct amqp_sink_config *cfg) {
    if (!cfg->url || strlen(cfg->url) >= sizeof s->url_buf) return -EINVAL;
    snprintf(s->url_buf, sizeof s->url_buf, "%s", cfg->url);
    amqp_default_connection_info(&s->info);
    if (amqp_parse_url(s->url_buf, &s->info) != AMQP_STATUS_OK) return -EINVAL;
    s->tls = s->info.ssl;
    const char *ca = cfg->ca_file ? cfg->ca_file : "";
    if (strlen(ca) >= sizeof s->ca_file) return -ENAMETOOLONG;
    snprintf(s->ca_file, sizeof s->ca_file, "%s", ca);
    /* A CA file that cannot be read will not become readable by retrying: refuse to start rather than retry. */
    if (s->tls && s->ca_file[0] && access(s->ca_file, R_OK) < 0) return -errno;
    const char *pw = cfg->password && cfg->password[0] ? cfg->password : s->info.password;
    snprintf(s->password, sizeof s->password, "%s", pw ? pw : "");
    snprintf(s->host_port, sizeof s->host_port, "%s:%d", s->info.host, s->info.port);
    return 0;
}

static void on_done(uv_async_t *h);
static void on_closed(uv_handle_t *h);

int amqp_sink_new(uv_loop_t *loop, const struct amqp_sink_config *cfg, struct amqp_sink **out) {
    int rc = -ENOMEM;
    struct amqp_sink *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->cfg = *cfg;
    s->cfg.url = s->cfg.password = s->cfg.exchange = s->cfg.ca_file = NULL; /* not kept: copied below */
    s->cfg.buffer_limit = or_default(cfg->buffer_limit, 100000);
    s->cfg.max_inflight = or_default(cfg->max_inflight, 4096);
    s->cfg.heartbeat_s = or_default(cfg->heartbeat_s, 10);
    s->cfg.connect_timeout_ms = or_default(cfg->connect_timeout_ms, 5000);
    backoff_init(&s->backoff, or_default(cfg->backoff_min_ms, 200), or_default(cfg->backoff_max_ms, 5000), 0);
    s->cfg.close_deadline_ms = or_default(cfg->close_deadline_ms, 3000);
    s->cfg.trade_buffer = or_default(cfg->trade_buffer, 64 << 20);
    s->cfg.book_delta_buffer = or_default(cfg->book_delta_buffer, s->cfg.trade_buffer);
    s->cfg.instrument_buffer = or_default(cfg->instrument_buffer, s->cfg.trade_buffer);
    snprintf(s->exchange, sizeof s->exchange, "%s", cfg->exchange && cfg->exchange[0] ? cfg->exchange : "tickd");
    s->exchange_bytes = amqp_cstring_bytes(s->exchange);
    if ((rc = parse_url(s, cfg)) < 0) goto fail_url;
    s->loop = loop;
    s->buf = conflate_new(s->cfg.buffer_limit, s->cfg.max_inflight);
    if (!s->buf) goto fail_url;
    s->trades = trade_queue_new(s->cfg.trade_buffer, s->cfg.max_inflight);
    if (!s->trades) goto fail_trades;
    s->books = book_buf_new(s->cfg.buffer_limit, s->cfg.max_inflight);
    s->deltas = trade_queue_new(s->cfg.book_delta_buffer, s->cfg.max_inflight);
    s->instruments = trade_queue_new(s->cfg.instrument_buffer, s->cfg.max_inflight);
    if (!s->books || !s->deltas || !s->instruments) goto fail_fd;
    if (confirm_window_init(&s->window, s->cfg.max_inflight, CONFIRM_QUEUE_US) < 0) goto fail_fd;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) {
        rc = -errno;
        goto fail_fd;
    }
    if ((rc = uv_async_init(loop, &s->done, on_done)) < 0) goto fail_async;
    uv_idle_init(loop, &s->waker);
    s->done.data = s->waker.data = s;
    s->open_handles = 2;
    if ((rc = -pthread_create(&s->thread, NULL, publisher_main, s)) < 0) goto fail_thread;
    *out = s;
    return 0;
fail_thread:
    uv_close((uv_handle_t *)&s->done, on_closed); /* s is freed with its handles; close_cb is NULL */
    uv_close((uv_handle_t *)&s->waker, on_closed);
    return rc;
fail_async:
    close(s->wake_fd);
fail_fd:
    confirm_window_free(&s->window);
    trade_queue_free(s->trades);
    book_buf_free(s->books);
    trade_queue_free(s->deltas);
    trade_queue_free(s->instruments);
fail_trades:
    conflate_free(s->buf);
fail_url:
    free(s);
    return rc;
}

static void on_closed(uv_handle_t *h) {
    struct amqp_sink *s = h->data;
    if (--s->open_handles) return;
    void (*cb)(void *) = s->close_cb;
    void *arg = s->close_arg;
    close(s->wake_fd);
    confirm_window_free(&s->window);
    trade_queue_free(s->trades);
    book_buf_free(s->books);
    trade_queue_free(s->deltas);
    trade_queue_free(s->instruments);
    conflate_free(s->buf);
    free(s->scratch);
    free(s);
    if (cb) cb(arg);
}

static void on_done(uv_async_t *h) {
    struct amqp_sink *s = h->data;
    if (!atomic_load(&s->stopping)) return;
    pthread_join(s->thread, NULL); /* the thread has sent its last signal: this returns at once */
    uv_close((uv_handle_t *)&s->done, on_closed);
    uv_close((uv_handle_t *)&s->waker, on_closed);
}

void amqp_sink_close(struct amqp_sink *s, void (*cb)(void *arg), void *arg) {
    s->close_cb = cb;
    s->close_arg = arg;
    atomic_store(&s->stopping, true);
    uv_idle_stop(&s->waker);
    wake(s);
}

/* ---- the sink_table row (sink.h) ---------------------------------------------------------------------- */

static int ops_open(uv_loop_t *loop, const struct tickd_config *c, const struct sink_hooks *hooks, void **state) {
    (void)hooks;
    struct amqp_sink_config ac = {.url = c->rabbitmq.url, .password = c->rabbitmq.password,
                                  .exchange = c->rabbitmq.exchange, .ca_file = c->rabbitmq.ca_file,
                                  .no_confirm = !c->rabbitmq.confirm,
                                  .buffer_limit = c->rabbitmq.buffer_limit,
                                  .trade_buffer = c->rabbitmq.trade_buffer,
                                  /* no key of its own yet: book deltas are bounded like trades */
                                  .book_delta_buffer = c->rabbitmq.book_delta_buffer,
                                  /* instrument changes too, in their own queue */
                                  .instrument_buffer = c->rabbitmq.trade_buffer};
    struct amqp_sink *s;
    int err = amqp_sink_new(loop, &ac, &s);
    if (err < 0) {
        log_error("daemon", "cannot start the RabbitMQ sink", "error=%s ca_file=%s", strerror(-err),
                  c->rabbitmq.ca_file && c->rabbitmq.ca_file[0] ? c->rabbitmq.ca_file : "none");
        return err;
    }
    *state = s;
    return 0;
}

static int ops_put_quote(void *state, uint32_t quote_id, const struct tick *t, const struct merge_key *key) {
    (void)key; /* the broker keeps no order: the merge's, by which ticks reach the buffer, is enough */
    return amqp_sink_put_accepted(state, quote_id, t);
}

static int ops_put_trade(void *state, const struct trade *t) {
    return amqp_sink_put_trade(state, t);
}

static int ops_put_book(void *state, const struct book_view *v) {
    return amqp_sink_put_book(state, v);
}

static int ops_put_book_delta(void *state, const struct book_delta_view *v) {
    return amqp_sink_put_book_delta(state, v);
}

static int ops_put_instrument(void *state, const char *venue, const struct instrument *in,
                              enum instrument_change change) {
    return amqp_sink_put_instrument(state, venue, in, change);
}

static bool ops_ready(void *state) {
    return atomic_load(&((struct amqp_sink *)state)->connected);
}

static void ops_stats_log(void *state, double secs) {
    struct amqp_sink *s = state;
    struct amqp_sink_stats as;
    amqp_sink_stats(s, &as);
    log_trade_drops(s, false); /* what the rate limit held back, once the drops have stopped */
    log_delta_drops(s, false);
    log_instrument_drops(s, false);
    log_info("stats", "rabbitmq", "connected=%s blocked=%s published=%llu published_per_s=%.0f confirmed=%llu "
             "nacked=%llu depth=%llu inflight=%llu window=%llu reconnects=%llu dropped=%llu trades=%llu "
             "trades_published=%llu trades_published_per_s=%.0f trades_confirmed=%llu trades_nacked=%llu "
             "trades_refused=%llu trades_dropped=%llu trade_depth=%llu trade_bytes=%llu trade_inflight=%llu "
             "books=%llu books_published=%llu books_published_per_s=%.0f books_confirmed=%llu books_replaced=%llu "
             "books_refused=%llu books_dropped=%llu book_depth=%llu book_deltas=%llu book_deltas_published=%llu "
             "book_deltas_published_per_s=%.0f book_deltas_confirmed=%llu book_deltas_refused=%llu "
             "book_deltas_dropped=%llu book_delta_depth=%llu book_delta_bytes=%llu instruments=%llu "
             "instruments_published=%llu instruments_confirmed=%llu instruments_refused=%llu "
             "instruments_dropped=%llu instrument_depth=%llu instrument_bytes=%llu",
             as.connected ? "yes" : "no", as.blocked ? "yes" : "no", (unsigned long long)as.published,
             sink_per_second(as.published, &s->published_at_last_stats, secs), (unsigned long long)as.confirmed,
             (unsigned long long)as.nacked, (unsigned long long)as.depth, (unsigned long long)as.inflight,
             (unsigned long long)as.window, (unsigned long long)as.reconnects, (unsigned long long)as.dropped,
             (unsigned long long)as.trades, (unsigned long long)as.trades_published,
             sink_per_second(as.trades_published, &s->trades_published_at_last_stats, secs),
             (unsigned long long)as.trades_confirmed, (unsigned long long)as.trades_nacked,
             (unsigned long long)as.trades_refused, (unsigned long long)as.trades_dropped,
             (unsigned long long)as.trade_depth, (unsigned long long)as.trade_bytes,
             (unsigned long long)as.trade_inflight, (unsigned long long)as.books,
             (unsigned long long)as.books_published,
             sink_per_second(as.books_published, &s->books_published_at_last_stats, secs),
             (unsigned long long)as.books_confirmed, (unsigned long long)as.books_replaced,
             (unsigned long long)as.books_refused, (unsigned long long)as.books_dropped,
             (unsigned long long)as.book_depth, (unsigned long long)as.book_deltas,
             (unsigned long long)as.book_deltas_published,
             sink_per_second(as.book_deltas_published, &s->deltas_published_at_last_stats, secs),
             (unsigned long long)as.book_deltas_confirmed, (unsigned long long)as.book_deltas_refused,
             (unsigned long long)as.book_deltas_dropped, (unsigned long long)as.book_delta_depth,
             (unsigned long long)as.book_delta_bytes, (unsigned long long)as.instruments,
             (unsigned long long)as.instruments_published, (unsigned long long)as.instruments_confirmed,
             (unsigned long long)as.instruments_refused, (unsigned long long)as.instruments_dropped,
             (unsigned long long)as.instrument_depth, (unsigned long long)as.instrument_bytes);
}

static void ops_status(void *state, struct text_buf *out) {
    struct amqp_sink_stats as = {0};
    if (state) amqp_sink_stats(state, &as);
    text_printf(out, "connected=%s published=%llu confirmed=%llu depth=%llu reconnects=%llu trades=%llu "
                "trades_published=%llu trades_dropped=%llu trade_depth=%llu trade_bytes=%llu books_published=%llu "
                "book_depth=%llu book_deltas_published=%llu book_deltas_dropped=%llu instruments_published=%llu "
                "instruments_dropped=%llu instrument_depth=%llu\n",
                as.connected ? "yes" : "no", (unsigned long long)as.published, (unsigned long long)as.confirmed,
                (unsigned long long)as.depth, (unsigned long long)as.reconnects, (unsigned long long)as.trades,
                (unsigned long long)as.trades_published, (unsigned long long)as.trades_dropped,
                (unsigned long long)as.trade_depth, (unsigned long long)as.trade_bytes,
                (unsigned long long)as.books_published, (unsigned long long)as.book_depth,
                (unsigned long long)as.book_deltas_published, (unsigned long long)as.book_deltas_dropped,
                (unsigned long long)as.instruments_published, (unsigned long long)as.instruments_dropped,
                (unsigned long long)as.instrument_depth);
}

static void ops_close(void *state, void (*closed)(void *arg), void *arg) {
    amqp_sink_close(state, closed, arg);
}

const struct sink_ops amqp_sink_ops = {
    .name = "rabbitmq",
    .channels = SINK_CHANNEL(CONFIG_CHANNEL_BBO) | SINK_CHANNEL(CONFIG_CHANNEL_TRADES) |
                SINK_CHANNEL(CONFIG_CHANNEL_BOOK),
    .open = ops_open,
    .put_quote = ops_put_quote,
    .put_trade = ops_put_trade,
    .put_book = ops_put_book,
    .put_book_delta = ops_put_book_delta,
    .put_instrument = ops_put_instrument,
    .ready = ops_ready,
    .stats_log = ops_stats_log,
    .status = ops_status,
    .close = ops_close,
};
