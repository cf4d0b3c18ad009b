/* amqp_sink.h -- publishes every tick's update to a RabbitMQ topic exchange, from its own thread.
 *
 * rabbitmq-c blocks (connect, login, declares, and publish when the socket buffer is full), so the connection
 * lives in a publisher thread. The ingest loop only calls amqp_sink_put, which copies the tick into the
 * conflating buffer (conflate.h) and, when the thread may be asleep, writes its eventfd: it never blocks and
 * never waits for the broker. While the broker is slow, away or has sent connection.blocked, a newer tick
 * replaces the one waiting for its instrument, so memory stays bounded by the number of instruments.
 *
 * On the wire: a durable topic exchange (declared at connect), routing key "tick.<venue>.<symbol>" where a
 * '.' inside the symbol is sent as '_' (so a key always has three words; the body keeps the exact symbol),
 * body = sink_tick_json (sink.h), content_type application/json, delivery_mode persistent, timestamp (the
 * receive time, seconds), message_id "<venue>:<symbol>:<seq>" (or the event time, or the receive time, in µs,
 * when the venue gives no sequence). With publisher confirms (the default) a tick leaves the buffer only when
 * the broker acks it; a nack or a lost connection puts it back unless a newer one is waiting. Delivery is
 * at least once: after a reconnect a consumer may see the last unconfirmed tick of an instrument twice.
 *
 * Trades (amqp_sink_put_trade) are events: every one is published, once, in order, never conflated. Each is
 * encoded into its publish at put and waits in a FIFO bounded in bytes (trade_queue.h, trade_buffer): while the
 * broker is slow, away or blocked, what goes beyond the bound is dropped OLDEST first, counted (trades_dropped)
 * and logged, at most one line per 5 s, with the number and the time range lost. Routing key
 * "trade.<venue>.<symbol>" ('.' in the symbol sent as '_', as for ticks), message_id "<venue>:<symbol>:<trade id>",
 * body = sink_trade_json, the same properties as a tick's. With confirms a trade leaves the buffer only when
 * acked; a nack or a lost connection has the unconfirmed ones published again, in their order, ahead of newer
 * ones (at least once: a consumer may see a trade twice after a reconnect, and tells by its message id). Quotes,
 * trades, books and book deltas share the connection and its confirm window; a batch gives every kind that waits
 * an equal share of its publishes (what one leaves goes to the others), so none starves another: a backlog of
 * trades takes half a batch from waiting quotes.
 *
 * Books (amqp_sink_put_book) are states, as ticks are: routing key "book.<venue>.<symbol>" ('.' in the symbol sent
 * as '_'), message_id "<venue>:<symbol>:<seq>", body {"venue","symbol","seq","state","bids":[["price","qty"],...],
 * "asks":[...],"event_us","recv_us"} with the top `depth` levels a side, best first, the exact texts. Each is
 * encoded into its publish at put (the caller's book is not kept) and conflated per book exactly as ticks are: a
 * newer book replaces the one waiting, the one in flight stays until confirmed (a nack or a lost connection puts it
 * back unless a newer one waits); at most buffer_limit books are held, a new one beyond is refused and counted
 * (books_dropped). Book deltas (amqp_sink_put_book_delta) are events, as trades are: routing key
 * "bookdelta.<venue>.<symbol>", message_id "<venue>:<symbol>:<seq>" (":snapshot" after it for a snapshot), body
 * {"venue","symbol","type":"snapshot"|"delta","seq","bids":[[...]],"asks":[[...]],"event_us","recv_us"} with the
 * changes as sent (a qty of zero removes a level); every one published, in order, never conflated, through a FIFO
 * of their own bounded in bytes (book_delta_buffer) with the trades' rules: beyond the bound the oldest never
 * published are dropped, counted (book_deltas_dropped) and logged with their time range at most once per 5 s.
 * A body longer than a frame goes out in several (4 KiB each, the least frame_max a broker may ask for).
 *
 * Instrument changes (amqp_sink_put_instrument; sink.h, put_instrument) are events, as trades are: routing key
 * "instrument.<venue>.<symbol>" ('.' in the symbol sent as '_'), message_id "<venue>:<symbol>:<µs>" (the time of
 * the put), body {"change":"listed"|"status"|"updated"|"delisted", then instrument_json's members:
 * "venue","symbol","venue_symbol","status",...,"size_decimals"}; every one published, in order, never conflated,
 * publisher-confirmed, through a FIFO of their own bounded in bytes (instrument_buffer) with the trades' rules:
 * beyond the bound the oldest never published are dropped, counted (instruments_dropped) and logged with the range
 * of their put times at most once per 5 s.
 *
 * amqps:// runs the same connection over TLS (rabbitmq-c's OpenSSL socket). A certificate that does not chain
 * to the CA, or that does not name the URL's host, fails the connect like a refused one: logged once per outage
 * with OpenSSL's reason, retried with backoff. */
#ifndef TICKD_AMQP_SINK_H
#define TICKD_AMQP_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "tickd/sink.h"
#include "tickd/tick.h"
#include "tickd/trade.h"

struct amqp_sink;

struct amqp_sink_config {
    const char *url;      /* amqp[s]://user:password@host:port/vhost (vhost "%2f" = "/") */
    const char *password; /* from password_file; replaces the URL's; NULL or "" = the URL's */
    const char *exchange; /* default "tickd" */
    const char *ca_file;  /* amqps: PEM CA bundle the broker's chain is verified against; NULL or "" = the
                           * system's store. The broker's host name is always verified too. */
    bool no_confirm;      /* publisher confirms are on unless this is set */
    /* 0 takes the default given in brackets */
    uint64_t buffer_limit;       /* [100000] instruments held by the conflating buffer */
    uint64_t max_inflight;       /* [4096] most unconfirmed messages; the window in use adapts below it */
    uint64_t heartbeat_s;        /* [10] */
    uint64_t connect_timeout_ms; /* [5000] TCP connect, login, each declare; a publish write making no progress */
    uint64_t backoff_min_ms;     /* [200] */
    uint64_t backoff_max_ms;     /* [5000] */
    uint64_t close_deadline_ms;  /* [3000] how long close waits for the buffers to be confirmed */
    uint64_t trade_buffer;       /* [64 MiB] bytes of trades held (their encoded publishes); the oldest go beyond */
    uint64_t book_delta_buffer;  /* [trade_buffer] bytes of book deltas held, likewise (a queue of their own) */
    uint64_t instrument_buffer;  /* [trade_buffer] bytes of instrument changes held, likewise (their own queue) */
};

struct amqp_sink_stats {
    uint64_t published, confirmed, nacked, reconnects;
    uint64_t refused; /* invalid ticks */
    uint64_t dropped; /* refused by a full buffer (new instrument beyond buffer_limit) */
    uint64_t depth;   /* instruments held: waiting or unconfirmed */
    uint64_t inflight;
    uint64_t window; /* unconfirmed publishes allowed now: it shrinks while the broker confirms slowly */
    /* trades: published, confirmed and nacked above count ticks only */
    uint64_t trades;           /* accepted by amqp_sink_put_trade */
    uint64_t trades_published; /* publishes of trades (a trade published again after a nack counts again) */
    uint64_t trades_confirmed, trades_nacked;
    uint64_t trades_refused;   /* invalid trades */
    uint64_t trades_dropped;   /* dropped, oldest first, by a full trade buffer */
    uint64_t trade_depth;      /* trades held: waiting or unconfirmed */
    uint64_t trade_bytes;      /* bytes they hold */
    uint64_t trade_inflight;
    /* books (conflated per book, as ticks) */
    uint64_t books;           /* accepted by amqp_sink_put_book (a replaced one counts too) */
    uint64_t books_published; /* publishes of books (again after a nack counts again) */
    uint64_t books_confirmed, books_nacked;
    uint64_t books_replaced;  /* waiting books replaced by newer ones */
    uint64_t books_refused;   /* invalid books */
    uint64_t books_dropped;   /* refused by a full buffer (a new book beyond buffer_limit) */
    uint64_t book_depth;      /* books held: waiting or unconfirmed */
    /* book deltas (events, as trades) */
    uint64_t book_deltas;           /* accepted by amqp_sink_put_book_delta */
    uint64_t book_deltas_published; /* publishes of deltas (again after a nack counts again) */
    uint64_t book_deltas_confirmed, book_deltas_nacked;
    uint64_t book_deltas_refused;   /* invalid deltas, or longer than the largest snapshot */
    uint64_t book_deltas_dropped;   /* dropped, oldest first, by a full delta buffer */
    uint64_t book_delta_depth;      /* deltas held: waiting or unconfirmed */
    uint64_t book_delta_bytes;      /* bytes they hold */
    /* instrument changes (events, as trades) */
    uint64_t instruments;           /* accepted by amqp_sink_put_instrument */
    uint64_t instruments_published; /* publishes of changes (again after a nack counts again) */
    uint64_t instruments_confirmed, instruments_nacked;
    uint64_t instruments_refused;   /* invalid changes */
    uint64_t instruments_dropped;   /* dropped, oldest first, by a full instrument buffer */
    uint64_t instrument_depth;      /* changes held: waiting or unconfirmed */
    uint64_t instrument_bytes;      /* bytes they hold */
    bool connected, blocked;
};

/* Starts the publisher thread. The loop wakes it once per turn in which ticks were put (so the loop must run for
 * them to be published promptly; otherwise the thread finds them within 200 ms), and reports the end of
 * amqp_sink_close. Returns 0 or a negative errno (-EINVAL: bad URL). */
int amqp_sink_new(uv_loop_t *loop, const struct amqp_sink_config *cfg, struct amqp_sink **out);

/* Never blocks. Returns 0, -EINVAL (invalid tick, logged rate-limited) or -ENOSPC (buffer full). */
int amqp_sink_put(struct amqp_sink *s, const struct tick *t);

/* The same for a tick merge_apply has just accepted (its decimals are valid already: only the venue and
 * symbol characters are checked), with merge_update.quote_id: the buffer finds the instrument's record by
 * that id instead of hashing its name (conflate_put_id). The ids must all come from one merge. */
int amqp_sink_put_accepted(struct amqp_sink *s, uint32_t quote_id, const struct tick *t);

/* A trade: never blocks. Returns 0 (taken, perhaps dropping older trades to make room), -EINVAL (invalid,
 * sink_trade_invalid; logged rate-limited) or -ENOMEM. */
int amqp_sink_put_trade(struct amqp_sink *s, const struct trade *t);

/* A book's top levels (sink.h, put_book): never blocks. Returns 0 (taken, perhaps replacing the one waiting),
 * -EINVAL (sink_book_invalid; logged rate-limited), -ENOSPC (buffer_limit books held, this one not among them) or
 * -ENOMEM. */
int amqp_sink_put_book(struct amqp_sink *s, const struct book_view *v);

/* A book's applied update (sink.h, put_book_delta): never blocks. Returns 0 (taken, perhaps dropping older deltas
 * to make room), -EINVAL (a bad venue, symbol, side or level text; logged rate-limited), -EMSGSIZE (more changes
 * than a snapshot of the deepest book a book keeps: 2 * 5 * BOOK_DEPTH_MAX) or -ENOMEM. */
int amqp_sink_put_book_delta(struct amqp_sink *s, const struct book_delta_view *v);

/* An instrument change (sink.h, put_instrument): never blocks. Returns 0 (taken, perhaps dropping older changes to
 * make room), -EINVAL (sink_instrument_change_invalid, or an instrument without JSON: a text not terminated in its
 * field; logged rate-limited) or -ENOMEM. */
int amqp_sink_put_instrument(struct amqp_sink *s, const char *venue, const struct instrument *in,
                             enum instrument_change change);

void amqp_sink_stats(struct amqp_sink *s, struct amqp_sink_stats *out);

/* Asks the thread to publish what is buffered and have it confirmed within close_deadline_ms, then to close
 * the connection and end. cb runs on the loop once the thread is joined and everything is freed; put must not
 * be called after close. The wait can exceed the deadline by one connect attempt (connect_timeout_ms) or by
 * rabbitmq-c's closing handshake (also bounded by connect_timeout_ms); a publish to a broker that stopped
 * reading gives up at the deadline. */
void amqp_sink_close(struct amqp_sink *s, void (*cb)(void *arg), void *arg);

/* The RabbitMQ row of sink_table (sink.h): opened from [rabbitmq], takes bbo quotes, trades, books, book deltas
 * and instrument changes; the deltas' bound is [rabbitmq] book_delta_buffer, the instrument changes' the trades'
 * trade_buffer (in a queue of their own). */
extern const struct sink_ops amqp_sink_ops;

#endif
