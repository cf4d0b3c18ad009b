/* redis_uv.h -- attaches a hiredis async context to a libuv loop (replaces hiredis' adapters/libuv.h).
 *
 * Why not hiredis' adapter: it calls uv_poll_start for every command hiredis queues, and libuv 1.44's
 * uv_poll_start always removes the fd from epoll and adds it again (two epoll_ctl per command). This one
 * keeps the poll's event mask and calls uv_poll_start only when the mask changes, and it lets a caller that
 * queues many commands at once write them straight away, polling for writability only when the socket
 * would block:
 *
 *     redis_uv_batch_begin(ac);
 *     ...redisAsync*Command(ac, ...) any number of times...
 *     redis_uv_batch_end(ac);   // one write() now; may run hiredis callbacks and free ac (disconnect)
 *
 * Lifecycle as in hiredis' adapter: the poll handle is closed (uv_close with a callback that frees it) when
 * hiredis frees the context. */
#ifndef TICKD_REDIS_UV_H
#define TICKD_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

/* Returns REDIS_OK or REDIS_ERR (then nothing is attached and the caller frees ac as usual). */
int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

/* Until batch_end, commands queued on ac do not start write polling. */
void redis_uv_batch_begin(redisAsyncContext *ac);

/* Writes what the batch queued now (as hiredis would once the socket is writable). On a write error hiredis
 * disconnects: its callbacks run and ac is freed before this returns. The caller must not use ac afterwards
 * unless it knows the context is still its own (e.g. by its disconnect callback not having run). */
void redis_uv_batch_end(redisAsyncContext *ac);

#endif
