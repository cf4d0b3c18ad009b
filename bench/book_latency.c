/* book_latency -- time from a book diff's event time to the moment its book can be read in Redis.
 *
 *   build/bench/book_latency PORT SECONDS [SKIP_SECONDS] < keys
 *
 * stdin names the book hashes to watch, one key a line (tickd:book:<venue>:<symbol>; a sample of the books is
 * enough). The probe turns on Redis's keyspace notifications for hash commands (notify-keyspace-events Kh; the
 * setting it found is put back at the end) and subscribes to each key's channel on a RESP3 connection, where
 * the notifications and the replies to its own commands share one ordered stream. When a book's HSET is
 * notified (it comes once tickd's script call has run, as a reader would first see the book), the probe stamps
 * the arrival with the wall clock and asks HMGET <key> ts recv_ts on the same connection: Redis answers after
 * every notification of a write that came before the read, so the answer holds the write of the last
 * notification of that key seen before it, whose arrival time is the one that counts (an earlier one overtaken
 * meanwhile is counted as superseded, not sampled). A write whose ts was already sampled (the same book written
 * again) is not sampled twice. fakex stamps each diff with its wall clock when it builds the message (Coinbase
 * "time" in µs, Binance "E" and OKX "ts" in ms: up to 1 ms early), on the same machine. After ignoring the first
 * SKIP_SECONDS, for SECONDS, prints
 *   frame_to_redis_book ...   (notification's arrival - the book's ts, the diff's event time)
 *   recv_to_redis_book ...    (notification's arrival - the book's recv_ts, tickd's receive time)
 *   book_latency notified=N sampled=N superseded=N repeated=N
 * The probe adds one HMGET per sampled write to Redis's work, and the notifications a PUBLISH per hash write. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "latency.h"

#define RBUF (4 << 20)
#define CHANNEL_HEAD "__keyspace@0__:"

struct key {
    char *name;
    size_t len;
    int64_t notified_us;  /* arrival of its last notification, 0 when none is waiting for a read */
    bool asked;           /* an HMGET of it is on the way */
    bool waiting;         /* a notification came while the HMGET was on the way */
    char last_ts[24];     /* the ts last sampled */
};

static struct key *keys;
static size_t nkeys;
static size_t *table, table_cap; /* open addressing: index + 1, by the channel's key part */

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void table_add(size_t i) {
    size_t at = hash(keys[i].name, keys[i].len) & (table_cap - 1);
    while (table[at]) at = (at + 1) & (table_cap - 1);
    table[at] = i + 1;
}

static struct key *table_find(const char *s, size_t n) {
    size_t at = hash(s, n) & (table_cap - 1);
    for (; table[at]; at = (at + 1) & (table_cap - 1)) {
        struct key *k = &keys[table[at] - 1];
        if (k->len == n && memcmp(k->name, s, n) == 0) return k;
    }
    return NULL;
}

/* ---- RESP3, just what this probe meets ---- */

struct str {
    const char *p;
    size_t n;
};

struct msg {
    char type;          /* the top level's: '>' push, '*' array, '+', '-', ':', '$', '%', '_' ... */
    size_t n;           /* its elements (aggregates) */
    struct str el[4];   /* the first ones that are strings (bulk or simple; a null is {NULL, 0}) */
};

/* Parses one value at p (end: the data's end); its end, or NULL when the data stops before it does. Strings of
 * the top level's first four elements go into m (depth 1), the top level's own type and count too (depth 0). */
static const char *parse(const char *p, const char *end, struct msg *m, int depth, size_t index) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return NULL;
    char t = *p;
    long long v = strtoll(p + 1, NULL, 10);
    const char *q = nl + 1;
    if (depth == 0) {
        m->type = t;
        m->n = 0;
    }
    switch (t) {
    case '$':
    case '=':
    case '!':
        if (v < 0) {
            if (depth == 1 && index < 4) m->el[index] = (struct str){NULL, 0};
            return q;
        }
        if (end - q < v + 2) return NULL;
        if (depth == 1 && index < 4) m->el[index] = (struct str){q, (size_t)v};
        return q + v + 2;
    case '+':
    case '-':
        if (depth == 1 && index < 4) m->el[index] = (struct str){p + 1, (size_t)(nl - 1 - (p + 1))};
        return q;
    case '_':
        if (depth == 1 && index < 4) m->el[index] = (struct str){NULL, 0};
        return q;
    case ':':
    case ',':
    case '#':
    case '(':
        return q;
    case '*':
    case '>':
    case '~':
    case '%':
    case '|': {
        long long count = (t == '%' || t == '|') ? 2 * v : v;
        if (depth == 0) m->n = count < 0 ? 0 : (size_t)count;
        for (long long i = 0; i < count; i++)
            if (!(q = parse(q, end, m, depth + 1, (size_t)i))) return NULL;
        if (t == '|') return parse(q, end, m, depth, index); /* an attribute precedes the value it describes */
        return q;
    }
    default:
        fprintf(stderr, "book_latency: unexpected RESP type %c\n", t);
        exit(2);
    }
}

/* ---- the connection ---- */

static int fd;
static char *out;
static size_t out_len, out_cap;

static void put(const char *s, size_t n) {
    if (out_len + n > out_cap) {
        while (out_len + n > out_cap) out_cap = out_cap ? 2 * out_cap : 1 << 16;
        out = realloc(out, out_cap);
        if (!out) exit(2);
    }
    memcpy(out + out_len, s, n);
    out_len += n;
}

static void put_bulk(const char *s, size_t n) {
    char head[32];
    put(head, (size_t)snprintf(head, sizeof head, "$%zu\r\n", n));
    put(s, n);
    put("\r\n", 2);
}

static void put_cmd(int argc, const char **argv) {
    char head[32];
    put(head, (size_t)snprintf(head, sizeof head, "*%d\r\n", argc));
    for (int i = 0; i < argc; i++) put_bulk(argv[i], strlen(argv[i]));
}

static void flush_out(void) {
    size_t done = 0;
    while (done < out_len) {
        ssize_t w = write(fd, out + done, out_len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            perror("book_latency: write");
            exit(2);
        }
        done += (size_t)w;
    }
    out_len = 0;
}

static char *in;
static size_t in_len;

/* Reads more into the input buffer (waiting up to timeout_ms); false when nothing came. */
static bool fill(int timeout_ms) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0) return false;
    if (in_len == RBUF) {
        fprintf(stderr, "book_latency: a reply over %d bytes\n", RBUF);
        exit(2);
    }
    ssize_t r = read(fd, in + in_len, RBUF - in_len);
    if (r <= 0) {
        fprintf(stderr, "book_latency: Redis closed the connection\n");
        exit(2);
    }
    in_len += (size_t)r;
    return true;
}

/* The next whole message (waiting for it). It stays at the buffer's head, where m points, until the next call
 * (or drop_kept) takes it out. */
static size_t kept;

static void drop_kept(void) {
    memmove(in, in + kept, in_len - kept);
    in_len -= kept;
    kept = 0;
}

static void next_msg(struct msg *m) {
    drop_kept();
    const char *end;
    while (!(end = in_len ? parse(in, in + in_len, m, 0, 0) : NULL)) fill(1000);
    kept = (size_t)(end - in);
}

/* A command whose one reply is read at once (before any subscription). */
static void command(int argc, const char **argv, struct msg *m) {
    put_cmd(argc, argv);
    flush_out();
    next_msg(m);
    if (m->type == '-') {
        fprintf(stderr, "book_latency: %s: %.*s\n", argv[0], (int)m->el[0].n, m->el[0].p);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: book_latency PORT SECONDS [SKIP_SECONDS] < keys\n");
        return 64;
    }
    double seconds = atof(argv[2]), skip = argc > 3 ? atof(argv[3]) : 0;
    size_t cap = 0;
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strcspn(line, "\r\n");
        if (!n) continue;
        if (nkeys == cap) keys = realloc(keys, (cap = cap ? 2 * cap : 1024) * sizeof *keys);
        keys[nkeys] = (struct key){.name = strndup(line, n), .len = n};
        nkeys++;
    }
    if (!nkeys) {
        fprintf(stderr, "book_latency: no keys on stdin\n");
        return 64;
    }
    for (table_cap = 64; table_cap < 2 * nkeys; table_cap *= 2) {}
    table = calloc(table_cap, sizeof *table);
    for (size_t i = 0; i < nkeys; i++) table_add(i);
    in = malloc(RBUF);

    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "book_latency: cannot connect\n");
        return 2;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    struct msg m;
    command(2, (const char *[]){"HELLO", "3"}, &m);
    command(3, (const char *[]){"CONFIG", "GET", "notify-keyspace-events"}, &m);
    char saved[64] = "";
    if (m.n >= 2 && m.el[1].p) snprintf(saved, sizeof saved, "%.*s", (int)m.el[1].n, m.el[1].p);
    command(4, (const char *[]){"CONFIG", "SET", "notify-keyspace-events", "Kh"}, &m);

    /* SUBSCRIBE, in commands of up to 1000 channels; each channel's confirmation is a push of its own. */
    size_t hl = strlen(CHANNEL_HEAD);
    for (size_t i = 0; i < nkeys; i += 1000) {
        size_t n = nkeys - i < 1000 ? nkeys - i : 1000;
        char head[32];
        put(head, (size_t)snprintf(head, sizeof head, "*%zu\r\n", n + 1));
        put_bulk("SUBSCRIBE", 9);
        for (size_t j = i; j < i + n; j++) {
            char ch[600];
            int cl = snprintf(ch, sizeof ch, "%s%s", CHANNEL_HEAD, keys[j].name);
            put_bulk(ch, (size_t)cl);
        }
    }
    flush_out();
    for (size_t confirmed = 0; confirmed < nkeys;) {
        next_msg(&m);
        if (m.type == '>' && m.el[0].n == 9 && memcmp(m.el[0].p, "subscribe", 9) == 0) confirmed++;
    }
    drop_kept();
    fprintf(stderr, "ready\n");

    /* The queue of keys asked, in send order: their answers come in that order. */
    size_t *asked = calloc(nkeys, sizeof *asked), ahead = 0, atail = 0, nasked = 0;
    struct samples frame = {0}, recv = {0};
    long long notified = 0, superseded = 0, repeated = 0;
    int64_t from = wall_us() + (int64_t)(skip * 1e6), until = from + (int64_t)(seconds * 1e6);
    int64_t stamp = 0;
    while (wall_us() < until) {
        /* Whatever is in the buffer was there at `stamp`, the time of the read that brought it. */
        if (!in_len) {
            if (!fill(100)) continue;
            stamp = wall_us();
        }
        const char *end = parse(in, in + in_len, &m, 0, 0);
        if (!end) {
            if (out_len) flush_out();
            if (fill(100)) stamp = wall_us();
            continue;
        }
        if (m.type == '>') {
            if (m.n == 3 && m.el[0].n == 7 && memcmp(m.el[0].p, "message", 7) == 0 && m.el[1].n > hl) {
                struct key *k = table_find(m.el[1].p + hl, m.el[1].n - hl);
                if (k && stamp >= from) {
                    notified++;
                    if (k->asked) {
                        if (k->waiting) superseded++;
                        k->waiting = true;
                    } else if (k->notified_us) {
                        superseded++;
                    }
                    k->notified_us = stamp;
                    if (!k->asked) {
                        const char *cmd[] = {"HMGET", k->name, "ts", "recv_ts"};
                        put_cmd(4, cmd);
                        k->asked = true;
                        asked[atail] = (size_t)(k - keys);
                        atail = (atail + 1) % nkeys;
                        nasked++;
                    }
                }
            }
        } else if (nasked) { /* an HMGET's answer: ts, recv_ts */
            struct key *k = &keys[asked[ahead]];
            ahead = (ahead + 1) % nkeys;
            nasked--;
            k->asked = false;
            k->waiting = false;
            char ts[24] = "", rc[24] = "";
            if (m.type == '*' && m.n == 2 && m.el[0].p && m.el[0].n < sizeof ts) {
                memcpy(ts, m.el[0].p, m.el[0].n);
                if (m.el[1].p && m.el[1].n < sizeof rc) memcpy(rc, m.el[1].p, m.el[1].n);
            }
            if (!ts[0] || strcmp(ts, k->last_ts) == 0) {
                repeated++;
            } else {
                samples_add(&frame, k->notified_us - strtoll(ts, NULL, 10));
                if (rc[0]) samples_add(&recv, k->notified_us - strtoll(rc, NULL, 10));
                memcpy(k->last_ts, ts, sizeof ts);
            }
            k->notified_us = 0;
        }
        size_t used = (size_t)(end - in);
        memmove(in, end, in_len - used);
        in_len -= used;
        if (out_len && !in_len) flush_out(); /* ask once the messages at hand are all read */
    }
    /* Leave Redis as it was: no subscriptions (the connection closes) and its own notification setting. */
    flush_out();
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        in_len = 0;
        command(4, (const char *[]){"CONFIG", "SET", "notify-keyspace-events", saved}, &m);
        close(fd);
    }
    samples_print(&frame, "frame_to_redis_book", seconds);
    samples_print(&recv, "recv_to_redis_book", seconds);
    printf("book_latency notified=%lld sampled=%zu superseded=%lld repeated=%lld\n", notified, frame.n, superseded,
           repeated);
    return frame.n ? 0 : 1;
}
