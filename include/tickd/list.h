/* list.h -- the one linked list of tickd: an intrusive, circular, doubly linked list (as libuv's queue and
 * the Linux kernel's list). A struct holds a `struct list_link` for each list it can be on; the list itself is
 * a link that is its own head. Insert and remove are O(1) and never allocate, so a task, a connection or a
 * queued request can be unlinked from inside any callback. A removed link points at itself: removing it
 * again is harmless, and list_linked() tells whether it is on a list. */
#ifndef TICKD_LIST_H
#define TICKD_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_link {
    struct list_link *prev, *next;
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* The struct of type `type` whose member `member` is link l. */
#define list_entry(l, type, member) container_of(l, type, member)

static inline void list_init(struct list_link *l) { l->prev = l->next = l; }
static inline bool list_empty(const struct list_link *head) { return head->next == head; }
static inline bool list_linked(const struct list_link *l) { return l->next != l; }

/* Inserts l before pos: at the tail when pos is the head. */
static inline void list_insert_before(struct list_link *pos, struct list_link *l) {
    l->prev = pos->prev;
    l->next = pos;
    pos->prev->next = l;
    pos->prev = l;
}

/* Inserts l after pos: at the front when pos is the head. */
static inline void list_insert_after(struct list_link *pos, struct list_link *l) {
    list_insert_before(pos->next, l);
}

static inline void list_remove(struct list_link *l) {
    l->prev->next = l->next;
    l->next->prev = l->prev;
    list_init(l);
}

/* Walks the list at head; the body may remove the current element (the next one is read before it runs). */
#define list_for_each_safe(pos, tmp, head)                                                                   \
    for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); (pos) = (tmp), (tmp) = (pos)->next)

#endif
