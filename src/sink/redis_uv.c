/* redis_uv.c -- hiredis async on libuv with as few epoll_ctl as possible; see redis_uv.h.
 *
 * `want` is the mask hiredis asked for, `polled` the mask the uv_poll_t runs with. In steady state the
 * poll stays on UV_READABLE only: a batch's commands are written directly by batch_end, and hiredis asks for
 * UV_WRITABLE again only when a write would block (then the poll takes it until the buffer is drained). */
#include "tickd/redis_uv.h"

#include <stdbool.h>
#include <stdlib.h>

struct redis_uv {
    redisAsyncContext *context; /* NULL once hiredis has freed it (the handle is closing) */
    uv_poll_t handle;
    int want, polled;
    bool batching;  /* commands are being queued: their write waits for batch_end */
    bool write_due; /* hiredis asked to write during the batch */
};

static void on_poll(uv_poll_t *h, int status, int events) {
    struct redis_uv *p = h->data;
    if (status < 0) return; /* as hiredis' adapter: the read or write that follows reports the error */
    if (p->context && (events & UV_READABLE)) redisAsyncHandleRead(p->context);
    if (p->context && (events & UV_WRITABLE)) redisAsyncHandleWrite(p->context);
}

static void sync_poll(struct redis_uv *p) {
    if (p->want == p->polled) return;
    p->polled = p->want;
    if (p->want) uv_poll_start(&p->handle, p->want, on_poll);
    else uv_poll_stop(&p->handle);
}

static void add_read(void *arg) {
    struct redis_uv *p = arg;
    p->want |= UV_READABLE;
    sync_poll(p);
}

static void del_read(void *arg) {
    struct redis_uv *p = arg;
    p->want &= ~UV_READABLE;
    sync_poll(p);
}

static void add_write(void *arg) {
    struct redis_uv *p = arg;
    if (p->batching) {
        p->write_due = true;
        return;
    }
    p->want |= UV_WRITABLE;
    sync_poll(p);
}

static void del_write(void *arg) {
    struct redis_uv *p = arg;
    p->write_due = false;
    p->want &= ~UV_WRITABLE;
    sync_poll(p);
}

static void on_closed(uv_handle_t *h) {
    free(h->data);
}

static void cleanup(void *arg) {
    struct redis_uv *p = arg;
    p->context = NULL; /* hiredis is freeing it */
    uv_close((uv_handle_t *)&p->handle, on_closed);
}

int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop) {
    if (ac->ev.data) return REDIS_ERR;
    struct redis_uv *p = calloc(1, sizeof *p);
    if (!p) return REDIS_ERR;
    if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
        free(p); /* never started: nothing for the loop to close */
        return REDIS_ERR;
    }
    p->handle.data = p;
    p->context = ac;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = p;
    return REDIS_OK;
}

void redis_uv_batch_begin(redisAsyncContext *ac) {
    struct redis_uv *p = ac->ev.data;
    p->batching = true;
}

void redis_uv_batch_end(redisAsyncContext *ac) {
    struct redis_uv *p = ac->ev.data;
    p->batching = false;
    if (!p->write_due) return;
    p->write_due = false;
    if (!(ac->c.flags & REDIS_CONNECTED) || (p->want & UV_WRITABLE)) {
        add_write(p); /* not connected yet, or a write is already waiting for the socket: the poll decides */
        return;
    }
    redisAsyncHandleWrite(ac); /* asks for UV_WRITABLE itself if the socket took only part of it */
}
