/* watch.c -- see watch.h. One frame: SCAN the keys, pipeline HGETALL over them (each quote's with the XREVRANGE of
 * its trades stream), sort; SCAN the book keys, sort them by name, pipeline HMGET over those that fit below the
 * quotes, parse their top levels; print a table cut to the screen. The live loop redraws in place (cursor home, each
 * line cleared to its end, then the rest of the screen) from one write() per frame, so the terminal never shows
 * half a frame. Blocking hiredis is fine here: this is its own process, and every command has a timeout, so a
 * hung Redis shows as an error, not a freeze. */
#include "tickd/watch.h"

#include "tickd/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tickd/config.h"
#include "tickd/log.h"

#define TIMEOUT_MS 1000
#define PIPELINE_BATCH 256    /* keys whose HGETALL (and XREVRANGE) are sent before their replies are read */
#define MAX_INSTRUMENTS 100000 /* the Redis sink's default max_instruments: memory stays bounded */
#define LINE_CAP 1024
#define PASSWORD_MAX 4096
#define MIN_INTERVAL_MS 50
#define WATCH_SIDE_MAX 8 /* buy, sell, unknown */
#define BOOK_BATCH 64             /* books whose HMGET are sent before their replies are read (each tens of KB) */
#define BOOK_JSON_MAX (1u << 20)  /* a side's JSON longer than this is not parsed ("?"): the sink's is under 64 KB */
#define BOOK_STATE_MAX 16

struct watch_quote {
    char symbol[WATCH_FIELD_MAX], venue[WATCH_FIELD_MAX];
    char bid[WATCH_FIELD_MAX], ask[WATCH_FIELD_MAX], seq[WATCH_FIELD_MAX];
    int64_t recv_us; /* -1: absent or not a number */
    /* the last trade: the newest entry of <prefix>:trades:<venue>:<symbol> */
    bool has_trade;
    char trade_price[WATCH_FIELD_MAX], trade_qty[WATCH_FIELD_MAX], trade_side[WATCH_SIDE_MAX];
    int64_t trade_recv_us; /* -1: absent or not a number */
};

struct watch_bbo {
    char symbol[WATCH_FIELD_MAX];
    char bid[WATCH_FIELD_MAX], bid_venue[WATCH_FIELD_MAX], ask[WATCH_FIELD_MAX], ask_venue[WATCH_FIELD_MAX];
};

/* One level of a book's side, the exact texts stored. */
struct watch_level {
    char price[WATCH_FIELD_MAX], qty[WATCH_FIELD_MAX];
    bool bad; /* not two strings: "?" */
};

struct watch_side {
    bool ok;                /* the field was a JSON array (else "?"): lv holds its first n levels */
    size_t n;               /* at most the view's levels */
    struct watch_level *lv;
};

struct watch_book {
    char symbol[WATCH_FIELD_MAX], venue[WATCH_FIELD_MAX], seq[WATCH_FIELD_MAX], state[BOOK_STATE_MAX];
    int64_t recv_us; /* -1: absent or not a number */
    struct watch_side side[2]; /* bids, asks */
};

struct snapshot {
    struct watch_quote *quotes;
    size_t nquotes, quotes_cap;
    struct watch_bbo *bbos;
    size_t nbbos, bbos_cap;
    bool truncated; /* more than MAX_INSTRUMENTS keys */
    /* the books: only those on screen are read */
    struct watch_book *books;
    size_t nbooks, books_cap;
    size_t book_keys;     /* <prefix>:book:<venue>:<symbol> keys (SCAN's duplicates dropped) */
    size_t books_more;    /* book keys after the last book shown: the "... and N more books" line */
    bool books_truncated; /* more than MAX_INSTRUMENTS book keys */
    int book_lines;       /* lines the books' section takes: 0 when it has no room */
};

struct watch_view {
    struct watch_quote *prev; /* the previous frame's quotes, sorted */
    size_t nprev;
    int64_t prev_us; /* 0: no previous frame */
};

struct key {
    char *s;
    size_t len;
};

struct keys {
    struct key *v;
    size_t len, cap;
};

/* ---- small helpers ---- */

void watch_sanitize(char *dst, size_t cap, const char *src, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        if (src[i] >= 0x20 && src[i] <= 0x7e) dst[n++] = src[i];
    if (cap) dst[n] = 0;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t cap2 = *cap ? *cap * 2 : 64;
    while (cap2 < need) cap2 *= 2;
    void *q = realloc(*p, cap2 * elem);
    if (!q) return false;
    *p = q;
    *cap = cap2;
    return true;
}

static void keys_free(struct keys *k) {
    for (size_t i = 0; i < k->len; i++) free(k->v[i].s);
    free(k->v);
    *k = (struct keys){0};
}

/* The reason a connection failed, in err. Always -1. */
static int conn_error(redisContext *c, const char *what, char *err, size_t errlen) {
    char reason[128];
    watch_sanitize(reason, sizeof reason, c->errstr, strlen(c->errstr));
    snprintf(err, errlen, "redis %s: %s", what, c->err ? reason : "connection lost");
    return -1;
}

/* The reason Redis refused a command (an error reply, or a reply of the wrong shape), in err. Always -1. */
static int reply_error(const redisReply *r, const char *what, char *err, size_t errlen) {
    char reason[128] = "unexpected reply";
    if (r->type == REDIS_REPLY_ERROR) watch_sanitize(reason, sizeof reason, r->str, r->len);
    snprintf(err, errlen, "redis %s: %s", what, reason);
    return -1;
}

/* redis://[user[:password]@]host[:port][/db]: 0, or -1 with the reason in err. */
static int parse_redis_url(const char *url, struct config_url *u, int *db, char *err, size_t errlen) {
    if (config_url_parse(url, u) < 0 || strcmp(u->scheme, "redis") != 0) {
        char red[512];
        snprintf(err, errlen, "expected --redis redis://host[:port][/db], got '%s'",
                 log_redact_url(url, red, sizeof red));
        return -1;
    }
    *db = 0;
    const char *p = u->path[0] == '/' ? u->path + 1 : u->path;
    if (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || *end || v < 0 || v > 65535 || !(*p >= '0' && *p <= '9')) {
            snprintf(err, errlen, "the database in the --redis URL must be a number, got '%s'", p);
            return -1;
        }
        *db = (int)v;
    }
    if (!u->port) u->port = 6379;
    return 0;
}

/* ---- options ---- */

static void usage(FILE *f) {
    fprintf(f,
            "usage: tickd watch [options]   live view of the prices tickd keeps in Redis (Ctrl-C ends it)\n"
            "  --redis URL           redis://[user[:password]@]host[:port][/db] (default " WATCH_DEFAULT_URL ")\n"
            "  --password-file FILE  the Redis password, read from FILE (replaces one in the URL)\n"
            "  --prefix PREFIX       key prefix (default " WATCH_DEFAULT_PREFIX ")\n"
            "  --interval DURATION   refresh period, e.g. 250ms, 2s (default 500ms, at least 50ms)\n"
            "  --levels N            each order book's top N levels a side (default 5, 1 to 50)\n"
            "  --once                print one frame without escape sequences and exit (1 if Redis is unreachable)\n"
            "  -h, --help            this text\n");
}

static bool prefix_valid(const char *p) {
    if (!*p || strlen(p) > 64) return false;
    for (; *p; p++)
        if (*p <= 0x20 || *p > 0x7e) return false;
    return true;
}

int watch_parse_args(int argc, char **argv, struct watch_opts *o) {
    static const struct option longopts[] = {
        {"redis", required_argument, NULL, 'r'},    {"password-file", required_argument, NULL, 'p'},
        {"prefix", required_argument, NULL, 'P'},   {"interval", required_argument, NULL, 'i'},
        {"once", no_argument, NULL, 'o'},           {"help", no_argument, NULL, 'h'},
        {"levels", required_argument, NULL, 'l'},  {0},
    };
    *o = (struct watch_opts){
        .redis_url = WATCH_DEFAULT_URL,
        .prefix = WATCH_DEFAULT_PREFIX,
        .interval_ms = WATCH_DEFAULT_INTERVAL_MS,
        .rows = 24,
        .cols = 100,
        .levels = WATCH_DEFAULT_LEVELS,
    };
    optind = 0; /* main may have run getopt already: start afresh */
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': o->redis_url = optarg; break;
        case 'p': o->password_file = optarg; break;
        case 'P': o->prefix = optarg; break;
        case 'o': o->once = true; break;
        case 'h': usage(stdout); return 1;
        case 'i':
            if (config_parse_duration(optarg, &o->interval_ms) < 0 || o->interval_ms < MIN_INTERVAL_MS ||
                o->interval_ms > 3600000) {
                fprintf(stderr, "tickd watch: --interval expects a duration from 50ms to 1h, got '%s'\n", optarg);
                return -1;
            }
            break;
        case 'l': {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (errno || *end || !(*optarg >= '0' && *optarg <= '9') || n < 1 || n > WATCH_LEVELS_MAX) {
                fprintf(stderr, "tickd watch: --levels expects a number from 1 to %d, got '%s'\n", WATCH_LEVELS_MAX,
                        optarg);
                return -1;
            }
            o->levels = (int)n;
            break;
        }
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tickd watch: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    if (!prefix_valid(o->prefix)) {
        fprintf(stderr, "tickd watch: --prefix expects 1 to 64 printable characters without spaces\n");
        return -1;
    }
    struct config_url u;
    int db;
    char err[600];
    if (parse_redis_url(o->redis_url, &u, &db, err, sizeof err) < 0) {
        fprintf(stderr, "tickd watch: %s\n", err);
        return -1;
    }
    return 0;
}

/* Reads the password file: one line, a trailing newline is not part of it. 0, or -1 with a message. */
static int read_password(const char *path, char *out, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "tickd watch: --password-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n < 0 || (size_t)n == cap - 1) {
        fprintf(stderr, "tickd watch: --password-file %s: %s\n", path, n < 0 ? strerror(errno) : "too long");
        return -1;
    }
    out[n] = 0;
    out[strcspn(out, "\r\n")] = 0;
    if (!*out) {
        fprintf(stderr, "tickd watch: --password-file %s is empty\n", path);
        return -1;
    }
    return 0;
}

/* ---- reading Redis ---- */

static int command_ok(redisContext *c, int argc, const char **argv, char *err, size_t errlen) {
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r) return conn_error(c, argv[0], err, errlen);
    int rc = r->type == REDIS_REPLY_ERROR ? reply_error(r, argv[0], err, errlen) : 0;
    freeReplyObject(r);
    return rc;
}

int watch_connect(const struct watch_opts *o, redisContext **out, char *err, size_t errlen) {
    struct config_url u;
    int db;
    *out = NULL;
    if (parse_redis_url(o->redis_url, &u, &db, err, errlen) < 0) return -1;
    const struct timeval tv = {.tv_sec = TIMEOUT_MS / 1000, .tv_usec = (TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(u.host, u.port, tv);
    if (!c) {
        snprintf(err, errlen, "redis: out of memory");
        return -1;
    }
    char where[300];
    snprintf(where, sizeof where, "%s:%d", u.host, u.port);
    if (c->err) goto fail_conn;
    if (redisSetTimeout(c, tv) != REDIS_OK) goto fail_conn;

    const char *password = o->password && *o->password ? o->password : u.has_password ? u.password : NULL;
    if (password) {
        /* AUTH user password (Redis 6 ACL) when the URL names a user, else AUTH password */
        const char *auth[] = {"AUTH", u.user, password};
        bool user = u.user[0] != 0;
        if (command_ok(c, user ? 3 : 2, user ? auth : (const char *[]){"AUTH", password}, err, errlen) < 0)
            goto fail;
    }
    if (db) {
        char dbtext[16];
        snprintf(dbtext, sizeof dbtext, "%d", db);
        if (command_ok(c, 2, (const char *[]){"SELECT", dbtext}, err, errlen) < 0) goto fail;
    }
    *out = c;
    return 0;

fail_conn:
    conn_error(c, where, err, errlen);
fail:
    redisFree(c);
    return -1;
}

/* MATCH pattern for keys that start with prefix: glob characters in the prefix match only themselves. */
static void match_pattern(char *out, size_t cap, const char *prefix, const char *rest) {
    size_t n = 0;
    for (const char *p = prefix; *p && n + 2 < cap; p++) {
        if (strchr("*?[]\\", *p)) out[n++] = '\\';
        out[n++] = *p;
    }
    snprintf(out + n, cap - n, "%s", rest);
}

static int scan_keys(redisContext *c, const char *pattern, struct keys *out, bool *truncated, char *err,
                     size_t errlen) {
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!r) return conn_error(c, "SCAN", err, errlen);
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            reply_error(r, "SCAN", err, errlen);
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        const redisReply *ks = r->element[1];
        for (size_t i = 0; i < ks->elements; i++) {
            const redisReply *k = ks->element[i];
            if (k->type != REDIS_REPLY_STRING) continue;
            if (out->len >= MAX_INSTRUMENTS) {
                *truncated = true;
                break;
            }
            char *s = malloc(k->len + 1);
            if (!s || !grow((void **)&out->v, &out->cap, out->len + 1, sizeof *out->v)) {
                free(s);
                freeReplyObject(r);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            memcpy(s, k->str, k->len);
            s[k->len] = 0;
            out->v[out->len++] = (struct key){s, k->len};
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0 && !*truncated);
    return 0;
}

/* The value of field `name` in h, an array of field, value, ... (an HGETALL reply, a stream entry's fields),
 * sanitized into dst of cap bytes ("" when absent). */
static void field_value(const redisReply *h, const char *name, char *dst, size_t cap) {
    dst[0] = 0;
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *f = h->element[i], *v = h->element[i + 1];
        if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING && strcmp(f->str, name) == 0) {
            watch_sanitize(dst, cap, v->str, v->len);
            return;
        }
    }
}

static void hash_field(const redisReply *h, const char *name, char *dst) { field_value(h, name, dst, WATCH_FIELD_MAX); }

static int64_t parse_us(const char *s) {
    if (!(*s >= '0' && *s <= '9')) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno || *end ? -1 : (int64_t)v;
}

/* name = the key after "<prefix>:quote:" or "<prefix>:bbo:"; h = its HGETALL reply. */
typedef bool (*hash_take)(struct snapshot *s, const char *name, size_t len, const redisReply *h);

static bool take_quote(struct snapshot *s, const char *name, size_t len, const redisReply *h) {
    const char *colon = memchr(name, ':', len);
    if (!colon) return true; /* not <venue>:<symbol>: not ours to show */
    if (!grow((void **)&s->quotes, &s->quotes_cap, s->nquotes + 1, sizeof *s->quotes)) return false;
    struct watch_quote *q = &s->quotes[s->nquotes++];
    q->has_trade = false; /* until its XREVRANGE answers one */
    watch_sanitize(q->venue, sizeof q->venue, name, (size_t)(colon - name));
    watch_sanitize(q->symbol, sizeof q->symbol, colon + 1, len - (size_t)(colon - name) - 1);
    hash_field(h, "bid", q->bid);
    hash_field(h, "ask", q->ask);
    hash_field(h, "seq", q->seq);
    char recv[WATCH_FIELD_MAX];
    hash_field(h, "recv_ts", recv);
    q->recv_us = parse_us(recv);
    return true;
}

/* r: the reply to XREVRANGE <prefix>:trades:<venue>:<symbol> + - COUNT 1, [[id, [field, value, ...]]]. An empty
 * stream, a missing key, a key of another type (an error reply) or an entry of another shape: no trade. */
static void take_trade(struct watch_quote *q, const redisReply *r) {
    q->has_trade = false;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) return;
    const redisReply *e = r->element[0];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY) return;
    const redisReply *f = e->element[1];
    field_value(f, "price", q->trade_price, sizeof q->trade_price);
    field_value(f, "qty", q->trade_qty, sizeof q->trade_qty);
    field_value(f, "side", q->trade_side, sizeof q->trade_side);
    char recv[WATCH_FIELD_MAX];
    field_value(f, "recv_ts", recv, sizeof recv);
    q->trade_recv_us = parse_us(recv);
    q->has_trade = true;
}

static bool take_bbo(struct snapshot *s, const char *name, size_t len, const redisReply *h) {
    if (!grow((void **)&s->bbos, &s->bbos_cap, s->nbbos + 1, sizeof *s->bbos)) return false;
    struct watch_bbo *b = &s->bbos[s->nbbos++];
    watch_sanitize(b->symbol, sizeof b->symbol, name, len);
    hash_field(h, "bid", b->bid);
    hash_field(h, "bid_venue", b->bid_venue);
    hash_field(h, "ask", b->ask);
    hash_field(h, "ask_venue", b->ask_venue);
    return true;
}

/* Appends XREVRANGE <trades><name> + - COUNT 1, name = the key after its "<prefix>:quote:". */
static int append_last_trade(redisContext *c, const char *trades, const struct key *k, size_t skip, char *err,
                             size_t errlen) {
    size_t tlen = strlen(trades), nlen = k->len >= skip ? k->len - skip : 0;
    char *key = malloc(tlen + nlen + 1);
    if (!key) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(key, trades, tlen);
    memcpy(key + tlen, k->s + (k->len >= skip ? skip : k->len), nlen);
    const char *argv[] = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
    const size_t argvlen[] = {9, tlen + nlen, 1, 1, 5, 1};
    int rc = redisAppendCommandArgv(c, 6, argv, argvlen); /* hiredis keeps its own copy */
    free(key);
    return rc == REDIS_OK ? 0 : conn_error(c, "XREVRANGE", err, errlen);
}

/* HGETALL of every key, PIPELINE_BATCH at a time; keys gone or of another type since the SCAN are skipped. With
 * trades ("<prefix>:trades:", for the quotes), each HGETALL is followed in the same pipeline by the XREVRANGE of
 * the instrument's trades stream, whose newest entry becomes the quote's last trade. */
static int fetch_hashes(redisContext *c, const struct keys *k, size_t skip, hash_take take, const char *trades,
                        struct snapshot *s, char *err, size_t errlen) {
    for (size_t i = 0; i < k->len; i += PIPELINE_BATCH) {
        size_t end = i + PIPELINE_BATCH < k->len ? i + PIPELINE_BATCH : k->len;
        for (size_t j = i; j < end; j++) {
            const char *argv[] = {"HGETALL", k->v[j].s};
            const size_t argvlen[] = {7, k->v[j].len};
            if (redisAppendCommandArgv(c, 2, argv, argvlen) != REDIS_OK) return conn_error(c, "HGETALL", err, errlen);
            if (trades && append_last_trade(c, trades, &k->v[j], skip, err, errlen) < 0) return -1;
        }
        for (size_t j = i; j < end; j++) {
            redisReply *r;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) return conn_error(c, "HGETALL", err, errlen);
            bool ok = true;
            size_t before = s->nquotes;
            if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && k->v[j].len >= skip)
                ok = take(s, k->v[j].s + skip, k->v[j].len - skip, r);
            freeReplyObject(r);
            if (trades) { /* its reply comes next, whether or not the hash made a quote */
                redisReply *t;
                if (redisGetReply(c, (void **)&t) != REDIS_OK || !t) return conn_error(c, "XREVRANGE", err, errlen);
                if (ok && s->nquotes > before) take_trade(&s->quotes[s->nquotes - 1], t);
                freeReplyObject(t);
            }
            if (!ok) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    return 0;
}

/* Reads "<prefix><kind>*" keys into s through take; with trades, each one's last trade too (fetch_hashes). */
static int read_kind(redisContext *c, const char *prefix, const char *kind, hash_take take, const char *trades,
                     struct snapshot *s, char *err, size_t errlen) {
    char pattern[160], base[96];
    snprintf(base, sizeof base, "%s%s", prefix, kind);
    match_pattern(pattern, sizeof pattern, prefix, kind);
    strncat(pattern, "*", sizeof pattern - strlen(pattern) - 1);
    struct keys k = {0};
    int rc = scan_keys(c, pattern, &k, &s->truncated, err, errlen);
    if (rc == 0) rc = fetch_hashes(c, &k, strlen(base), take, trades, s, err, errlen);
    keys_free(&k);
    return rc;
}

static int quote_cmp(const void *a, const void *b) {
    const struct watch_quote *x = a, *y = b;
    int c = strcmp(x->symbol, y->symbol);
    return c ? c : strcmp(x->venue, y->venue);
}

static int bbo_cmp(const void *a, const void *b) {
    return strcmp(((const struct watch_bbo *)a)->symbol, ((const struct watch_bbo *)b)->symbol);
}

/* Sorts, and drops the duplicates SCAN may return. */
static void snapshot_sort(struct snapshot *s) {
    if (s->nquotes) qsort(s->quotes, s->nquotes, sizeof *s->quotes, quote_cmp);
    if (s->nbbos) qsort(s->bbos, s->nbbos, sizeof *s->bbos, bbo_cmp);
    size_t n = 0;
    for (size_t i = 0; i < s->nquotes; i++)
        if (n == 0 || quote_cmp(&s->quotes[n - 1], &s->quotes[i]) != 0) s->quotes[n++] = s->quotes[i];
    s->nquotes = n;
}

/* ---- books ---- */

/* A book key: its name after "<prefix>:book:" and the venue and symbol it names, as they are shown. */
struct book_ref {
    const struct key *key; /* the SCAN's */
    const char *name;      /* in key, after "<prefix>:book:" */
    size_t len;
    char venue[WATCH_FIELD_MAX], symbol[WATCH_FIELD_MAX];
};

static int book_ref_cmp(const void *a, const void *b) {
    const struct book_ref *x = a, *y = b;
    int c = strcmp(x->symbol, y->symbol);
    if (!c) c = strcmp(x->venue, y->venue);
    if (!c) c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The keys that name <venue>:<symbol>, sorted by symbol then venue, SCAN's duplicates dropped. 0, or -1. */
static int book_refs(const struct keys *k, size_t skip, struct book_ref **out, size_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    if (!k->len) return 0;
    struct book_ref *r = malloc(k->len * sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < k->len; i++) {
        if (k->v[i].len <= skip) continue;
        const char *name = k->v[i].s + skip;
        size_t len = k->v[i].len - skip;
        const char *colon = memchr(name, ':', len);
        if (!colon) continue; /* not <venue>:<symbol>: not ours to show */
        r[m].key = &k->v[i];
        r[m].name = name;
        r[m].len = len;
        watch_sanitize(r[m].venue, sizeof r[m].venue, name, (size_t)(colon - name));
        watch_sanitize(r[m].symbol, sizeof r[m].symbol, colon + 1, len - (size_t)(colon - name) - 1);
        m++;
    }
    if (m) qsort(r, m, sizeof *r, book_ref_cmp);
    size_t d = 0;
    for (size_t i = 0; i < m; i++)
        if (d == 0 || book_ref_cmp(&r[d - 1], &r[i]) != 0) r[d++] = r[i];
    *out = r;
    *n = d;
    return 0;
}

static void book_free(struct watch_book *b) {
    free(b->side[0].lv);
    free(b->side[1].lv);
}

/* v: the side's value, a JSON array [["price","qty"],...] best first. Keeps its first `levels` levels; a value
 * that is absent, too long, not JSON or not an array leaves the side not ok ("?"), a level that is not an array
 * of two strings is bad ("?"). Returns false when out of memory. */
static bool take_side(struct watch_side *sd, const redisReply *v, size_t levels) {
    *sd = (struct watch_side){0};
    if (v->type != REDIS_REPLY_STRING || v->len > BOOK_JSON_MAX) return true;
    json_t *a = json_loadb(v->str, v->len, 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return true;
    }
    size_t n = json_array_size(a);
    if (n > levels) n = levels;
    if (n && !(sd->lv = calloc(n, sizeof *sd->lv))) {
        json_decref(a);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        struct watch_level *l = &sd->lv[i];
        const json_t *e = json_array_get(a, i), *p = json_array_get(e, 0), *q = json_array_get(e, 1);
        if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_string(p) || !json_is_string(q)) {
            l->bad = true;
            continue;
        }
        watch_sanitize(l->price, sizeof l->price, json_string_value(p), json_string_length(p));
        watch_sanitize(l->qty, sizeof l->qty, json_string_value(q), json_string_length(q));
    }
    sd->n = n;
    sd->ok = true;
    json_decref(a);
    return true;
}

enum { BF_BIDS, BF_ASKS, BF_SEQ, BF_RECV, BF_STATE, BF_COUNT };

/* r: the reply to HMGET <key> bids asks seq recv_ts state. Returns 1 with the book in b, 0 when there is none to
 * show (the key is gone since the SCAN, is not a hash, or has none of a book's fields), -1 when out of memory. */
static int take_book(struct watch_book *b, const struct book_ref *ref, const redisReply *r, size_t levels) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != BF_COUNT) return 0;
    bool any = false;
    for (size_t i = 0; i < BF_COUNT; i++) any |= r->element[i]->type == REDIS_REPLY_STRING;
    if (!any) return 0;
    *b = (struct watch_book){0};
    memcpy(b->venue, ref->venue, sizeof b->venue);
    memcpy(b->symbol, ref->symbol, sizeof b->symbol);
    const redisReply *seq = r->element[BF_SEQ], *state = r->element[BF_STATE], *recv = r->element[BF_RECV];
    if (seq->type == REDIS_REPLY_STRING) watch_sanitize(b->seq, sizeof b->seq, seq->str, seq->len);
    if (state->type == REDIS_REPLY_STRING) watch_sanitize(b->state, sizeof b->state, state->str, state->len);
    char text[WATCH_FIELD_MAX] = "";
    if (recv->type == REDIS_REPLY_STRING) watch_sanitize(text, sizeof text, recv->str, recv->len);
    b->recv_us = parse_us(text);
    if (!take_side(&b->side[0], r->element[BF_BIDS], levels) || !take_side(&b->side[1], r->element[BF_ASKS], levels)) {
        book_free(b);
        return -1;
    }
    return 1;
}

/* Lines a book's block takes: one per level of its deeper side, at least one (a side that is "?" or empty shows
 * on the first). */
static size_t book_height(const struct watch_book *b) {
    size_t h = 1;
    for (int i = 0; i < 2; i++)
        if (b->side[i].ok && b->side[i].n > h) h = b->side[i].n;
    return h;
}

/* Reads the books, in order, while their blocks fit in `lines` (the "... and N more books" line included, the
 * titles not): HMGET BOOK_BATCH at a time, and never more books than there are lines left, so memory and the
 * bytes read from Redis follow the screen, not the number or the depth of the books. */
static int fetch_books(redisContext *c, const struct book_ref *refs, size_t nrefs, size_t levels, size_t lines,
                       struct snapshot *s, char *err, size_t errlen) {
    static const char *const fields[BF_COUNT] = {"bids", "asks", "seq", "recv_ts", "state"};
    size_t used = 0, next = 0;
    bool full = false, oom = false;
    while (!full && next < nrefs) {
        size_t batch = nrefs - next;
        if (batch > BOOK_BATCH) batch = BOOK_BATCH;
        if (batch > lines - used) batch = lines - used; /* every block takes a line at least */
        if (batch == 0) break;
        for (size_t j = next; j < next + batch; j++) {
            const char *argv[2 + BF_COUNT] = {"HMGET", refs[j].key->s};
            size_t argvlen[2 + BF_COUNT] = {5, refs[j].key->len};
            for (int f = 0; f < BF_COUNT; f++) {
                argv[2 + f] = fields[f];
                argvlen[2 + f] = strlen(fields[f]);
            }
            if (redisAppendCommandArgv(c, 2 + BF_COUNT, argv, argvlen) != REDIS_OK)
                return conn_error(c, "HMGET", err, errlen);
        }
        for (size_t j = next; j < next + batch; j++) { /* every reply is read, also past a book that did not fit */
            redisReply *r;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) return conn_error(c, "HMGET", err, errlen);
            struct watch_book b;
            int took = full || oom ? 0 : take_book(&b, &refs[j], r, levels);
            freeReplyObject(r);
            if (took < 0) oom = true;
            if (took <= 0) continue;
            size_t h = book_height(&b);
            bool last = j + 1 == nrefs; /* no "more" line to keep room for */
            if (used + h + (last ? 0 : 1) > lines) {
                book_free(&b);
                full = true;
                s->books_more = nrefs - j;
                continue;
            }
            if (!grow((void **)&s->books, &s->books_cap, s->nbooks + 1, sizeof *s->books)) {
                book_free(&b);
                oom = true;
                continue;
            }
            s->books[s->nbooks++] = b;
            used += h;
        }
        next += batch;
    }
    if (oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!full && next < nrefs) s->books_more = nrefs - next;
    /* the titles over the blocks; when not one block fits, the section is its "... and N more books" alone */
    s->book_lines = (int)((s->nbooks ? 1 + used : 0) + (s->books_more ? 1 : 0));
    return 0;
}

/* The book keys, then as many books as fit below the quotes: the quotes keep up to half the lines under the
 * header (all they need when that is less), the books' section takes the rest, its title line included. */
static int read_books(redisContext *c, const struct watch_opts *o, struct snapshot *s, char *err, size_t errlen) {
    char pattern[160], base[96];
    snprintf(base, sizeof base, "%s:book:", o->prefix);
    match_pattern(pattern, sizeof pattern, o->prefix, ":book:*");
    struct keys k = {0};
    struct book_ref *refs = NULL;
    size_t nrefs = 0;
    int rc = scan_keys(c, pattern, &k, &s->books_truncated, err, errlen);
    if (rc == 0) rc = book_refs(&k, strlen(base), &refs, &nrefs, err, errlen);
    s->book_keys = nrefs;
    if (rc == 0 && nrefs) {
        int room = o->rows - 1; /* below the header */
        int quotes = 0;
        if (s->nquotes) {
            quotes = (room + 1) / 2;
            if ((size_t)quotes > s->nquotes + 1) quotes = (int)s->nquotes + 1; /* titles and rows */
        }
        int lines = room - quotes - 1; /* below the books' titles */
        size_t levels = (size_t)(o->levels > 0 ? o->levels : WATCH_DEFAULT_LEVELS);
        if (lines >= 1) rc = fetch_books(c, refs, nrefs, levels, (size_t)lines, s, err, errlen);
    }
    free(refs);
    keys_free(&k);
    return rc;
}

static void snapshot_free(struct snapshot *s) {
    free(s->quotes);
    free(s->bbos);
    for (size_t i = 0; i < s->nbooks; i++) book_free(&s->books[i]);
    free(s->books);
}

/* ---- drawing ---- */

/* One line of at most cols characters, trailing blanks dropped. */
static void __attribute__((format(printf, 3, 4))) emit(FILE *out, int cols, const char *fmt, ...) {
    char line[LINE_CAP];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (cols > 0 && len > (size_t)cols) len = (size_t)cols;
    while (len > 0 && line[len - 1] == ' ') len--;
    fprintf(out, "%.*s\n", (int)len, line);
}

static int64_t frame_now(const struct watch_opts *o) { return o->now_us ? o->now_us : clock_wall_us(); }

static void header(const struct watch_opts *o, FILE *out, int64_t now, const char *counts) {
    char url[512], when[16] = "";
    time_t t = (time_t)(now / 1000000);
    struct tm tm;
    if (localtime_r(&t, &tm)) strftime(when, sizeof when, "%H:%M:%S", &tm);
    log_redact_url(o->redis_url, url, sizeof url);
    emit(out, o->cols, "tickd watch  %s%s prefix=%s  %s", counts, url, o->prefix, when);
}

void watch_render_error(const struct watch_opts *o, FILE *out, const char *reason) {
    header(o, out, frame_now(o), "");
    if (o->rows > 1) emit(out, o->cols, "%s -- retrying every %llums", reason, (unsigned long long)o->interval_ms);
}

static void fmt_age(char *out, size_t cap, int64_t recv_us, int64_t now) {
    if (recv_us < 0) {
        snprintf(out, cap, "?");
        return;
    }
    long long ms = now > recv_us ? (long long)((now - recv_us) / 1000) : 0;
    if (ms < 1000) snprintf(out, cap, "%lldms", ms);
    else if (ms < 60000) snprintf(out, cap, "%lld.%llds", ms / 1000, ms % 1000 / 100);
    else if (ms < 3600000) snprintf(out, cap, "%lldm", ms / 60000);
    else if (ms < 86400000) snprintf(out, cap, "%lldh", ms / 3600000);
    else snprintf(out, cap, "%lldd", ms / 86400000);
}

/* Instruments whose seq or recv_ts changed since the previous frame (both lists sorted). */
static size_t count_changed(const struct watch_view *v, const struct snapshot *s) {
    size_t changed = 0, j = 0;
    for (size_t i = 0; i < s->nquotes; i++) {
        const struct watch_quote *q = &s->quotes[i];
        while (j < v->nprev && quote_cmp(&v->prev[j], q) < 0) j++;
        bool same = j < v->nprev && quote_cmp(&v->prev[j], q) == 0 && strcmp(v->prev[j].seq, q->seq) == 0 &&
                    v->prev[j].recv_us == q->recv_us;
        if (!same) changed++;
    }
    return changed;
}

/* Remembers this frame's quotes (takes them from s) for the next frame's updates/s. */
static void view_remember(struct watch_view *v, struct snapshot *s, int64_t now) {
    free(v->prev);
    v->prev = s->quotes;
    v->nprev = s->nquotes;
    v->prev_us = now;
    s->quotes = NULL;
    s->nquotes = s->quotes_cap = 0;
}

struct widths {
    int symbol, venue, bid, ask, best_bid;
    bool trades; /* some quote shown has a last trade: the TRADE QTY SIDE TRADED columns are drawn */
    int trade, qty, side;
};

static int max_int(int a, size_t b) { return (size_t)a > b ? a : (int)b; }

static void column_widths(const struct snapshot *s, size_t shown, struct widths *w) {
    *w = (struct widths){.symbol = 6, .venue = 5, .bid = 3, .ask = 3, .best_bid = 8, .trade = 5, .qty = 3, .side = 4};
    for (size_t i = 0; i < s->nquotes; i++) {
        const struct watch_quote *q = &s->quotes[i];
        w->symbol = max_int(w->symbol, strlen(q->symbol));
        w->venue = max_int(w->venue, strlen(q->venue));
        w->bid = max_int(w->bid, strlen(q->bid));
        w->ask = max_int(w->ask, strlen(q->ask));
        if (i < shown && q->has_trade) {
            w->trades = true;
            w->trade = max_int(w->trade, strlen(q->trade_price));
            w->qty = max_int(w->qty, strlen(q->trade_qty));
            w->side = max_int(w->side, strlen(q->trade_side));
        }
    }
    for (size_t i = 0; i < s->nbbos; i++)
        w->best_bid = max_int(w->best_bid, strlen(s->bbos[i].bid) + 1 + strlen(s->bbos[i].bid_venue));
}

/* The quotes' section in `lines` lines (its titles included): rows cut to fit, "... and N more" for the rest. */
static void render_quotes(const struct watch_opts *o, const struct snapshot *s, int lines, FILE *out, int64_t now) {
    if (lines < 2) return;
    if (s->nquotes == 0) {
        emit(out, o->cols, "no quotes under %s:quote:* yet", o->prefix);
        return;
    }
    size_t room = (size_t)lines - 1; /* below the column titles */
    size_t shown = s->nquotes <= room ? s->nquotes : room - 1;
    struct widths w;
    column_widths(s, shown, &w);
    char trade[4 * WATCH_FIELD_MAX + 16] = ""; /* the trade columns of a line, each with its blank after it */
    if (w.trades)
        snprintf(trade, sizeof trade, "%-*s %-*s %-*s %-6s ", w.trade, "TRADE", w.qty, "QTY", w.side, "SIDE", "TRADED");
    emit(out, o->cols, "%-*s %-*s %-*s %-*s %-6s %s%-*s %s", w.symbol, "SYMBOL", w.venue, "VENUE", w.bid, "BID", w.ask,
         "ASK", "AGE", trade, w.best_bid, "BEST BID", "BEST ASK");
    for (size_t i = 0; i < shown; i++) {
        const struct watch_quote *q = &s->quotes[i];
        bool first = i == 0 || strcmp(s->quotes[i - 1].symbol, q->symbol) != 0;
        const struct watch_bbo *b = NULL;
        if (first && s->nbbos) {
            struct watch_bbo key;
            memcpy(key.symbol, q->symbol, sizeof key.symbol);
            b = bsearch(&key, s->bbos, s->nbbos, sizeof *s->bbos, bbo_cmp);
        }
        char age[32], best_bid[2 * WATCH_FIELD_MAX] = "", best_ask[2 * WATCH_FIELD_MAX] = "";
        fmt_age(age, sizeof age, q->recv_us, now);
        if (b) {
            snprintf(best_bid, sizeof best_bid, "%s %s", b->bid, b->bid_venue);
            snprintf(best_ask, sizeof best_ask, "%s %s", b->ask, b->ask_venue);
        }
        if (w.trades) {
            char traded[32] = "";
            if (q->has_trade) fmt_age(traded, sizeof traded, q->trade_recv_us, now);
            snprintf(trade, sizeof trade, "%-*s %-*s %-*s %-6s ", w.trade, q->has_trade ? q->trade_price : "-", w.qty,
                     q->has_trade ? q->trade_qty : "", w.side, q->has_trade ? q->trade_side : "", traded);
        }
        emit(out, o->cols, "%-*s %-*s %-*s %-*s %-6s %s%-*s %s", w.symbol, first ? q->symbol : "", w.venue, q->venue,
             w.bid, q->bid, w.ask, q->ask, age, trade, w.best_bid, best_bid, best_ask);
    }
    if (shown < s->nquotes)
        emit(out, o->cols, "... and %zu more", s->nquotes - shown);
}

/* A book's state as shown: `live` as it is, any other upper case so that it stands out, "?" when absent. */
static void book_state(char *out, size_t cap, const struct watch_book *b) {
    if (!b->state[0]) {
        snprintf(out, cap, "?");
        return;
    }
    bool live = strcmp(b->state, "live") == 0;
    size_t i = 0;
    for (; b->state[i] && i + 1 < cap; i++)
        out[i] = live || b->state[i] < 'a' || b->state[i] > 'z' ? b->state[i] : (char)(b->state[i] - 'a' + 'A');
    out[i] = 0;
}

/* Level i of a side as shown: its price and qty, "?" for a side or level that cannot be read, "-" for an empty
 * side, nothing past its depth. */
static void side_level(const struct watch_side *sd, size_t i, const char **price, const char **qty) {
    *price = *qty = "";
    if (!sd->ok) {
        if (i == 0) *price = *qty = "?";
    } else if (i < sd->n) {
        if (sd->lv[i].bad) *price = *qty = "?";
        else {
            *price = sd->lv[i].price;
            *qty = sd->lv[i].qty;
        }
    } else if (i == 0) {
        *price = "-";
    }
}

struct book_widths {
    int symbol, venue, state, seq, bid_qty, bid, ask;
};

static void book_widths(const struct snapshot *s, struct book_widths *w) {
    *w = (struct book_widths){.symbol = 4, .venue = 5, .state = 5, .seq = 3, .bid_qty = 7, .bid = 3, .ask = 3};
    for (size_t i = 0; i < s->nbooks; i++) {
        const struct watch_book *b = &s->books[i];
        char state[BOOK_STATE_MAX];
        book_state(state, sizeof state, b);
        w->symbol = max_int(w->symbol, strlen(b->symbol));
        w->venue = max_int(w->venue, strlen(b->venue));
        w->state = max_int(w->state, strlen(state));
        w->seq = max_int(w->seq, strlen(b->seq[0] ? b->seq : "?"));
        for (size_t l = 0, h = book_height(b); l < h; l++) {
            const char *price, *qty;
            side_level(&b->side[0], l, &price, &qty);
            w->bid = max_int(w->bid, strlen(price));
            w->bid_qty = max_int(w->bid_qty, strlen(qty));
            side_level(&b->side[1], l, &price, &qty);
            w->ask = max_int(w->ask, strlen(price));
        }
    }
}

/* The books' section: titles, then each book's block (its line beside the best levels, then the next levels),
 * then "... and N more books" when some did not fit. */
static void render_books(const struct watch_opts *o, const struct snapshot *s, FILE *out, int64_t now) {
    struct book_widths w;
    book_widths(s, &w);
    if (s->nbooks)
        emit(out, o->cols, "%-*s %-*s %-*s %-*s %-6s %-*s %-*s %-*s %s", w.symbol, "BOOK", w.venue, "VENUE", w.state,
             "STATE", w.seq, "SEQ", "AGE", w.bid_qty, "BID QTY", w.bid, "BID", w.ask, "ASK", "ASK QTY");
    for (size_t i = 0; i < s->nbooks; i++) {
        const struct watch_book *b = &s->books[i];
        char state[BOOK_STATE_MAX], age[32];
        book_state(state, sizeof state, b);
        fmt_age(age, sizeof age, b->recv_us, now);
        for (size_t l = 0, h = book_height(b); l < h; l++) {
            const char *bid, *bid_qty, *ask, *ask_qty;
            side_level(&b->side[0], l, &bid, &bid_qty);
            side_level(&b->side[1], l, &ask, &ask_qty);
            bool first = l == 0;
            emit(out, o->cols, "%-*s %-*s %-*s %-*s %-6s %-*s %-*s %-*s %s", w.symbol, first ? b->symbol : "",
                 w.venue, first ? b->venue : "", w.state, first ? state : "", w.seq,
                 first ? (b->seq[0] ? b->seq : "?") : "", first ? age : "", w.bid_qty, bid_qty, w.bid, bid, w.ask, ask,
                 ask_qty);
        }
    }
    if (s->books_more) emit(out, o->cols, "... and %zu more books", s->books_more);
}

static void render_table(const struct watch_opts *o, const struct snapshot *s, const char *rate, FILE *out,
                         int64_t now) {
    char counts[128], books[48] = "";
    if (s->book_keys) snprintf(books, sizeof books, "%zu%s books  ", s->book_keys, s->books_truncated ? "+" : "");
    snprintf(counts, sizeof counts, "%zu%s instruments  %s%s updates/s  ", s->nquotes, s->truncated ? "+" : "", books,
             rate);
    header(o, out, now, counts);
    int room = o->rows - 1; /* below the header */
    if (s->book_keys == 0) { /* the quotes' frame */
        render_quotes(o, s, room, out, now);
        return;
    }
    if (s->nquotes) render_quotes(o, s, room - s->book_lines, out, now);
    if (s->book_lines) render_books(o, s, out, now);
}

int watch_render_frame(redisContext *c, const struct watch_opts *o, struct watch_view *v, FILE *out, char *err,
                       size_t errlen) {
    struct snapshot s = {0};
    char trades[96];
    snprintf(trades, sizeof trades, "%s:trades:", o->prefix);
    int rc = read_kind(c, o->prefix, ":quote:", take_quote, trades, &s, err, errlen);
    if (rc == 0) rc = read_kind(c, o->prefix, ":bbo:", take_bbo, NULL, &s, err, errlen);
    if (rc == 0) {
        snapshot_sort(&s);
        rc = read_books(c, o, &s, err, errlen);
    }
    if (rc == 0) {
        int64_t now = frame_now(o);
        char rate[24] = "-";
        if (v->prev_us && now > v->prev_us)
            snprintf(rate, sizeof rate, "%llu",
                     (unsigned long long)(count_changed(v, &s) * 1000000 / (uint64_t)(now - v->prev_us)));
        render_table(o, &s, rate, out, now);
        view_remember(v, &s, now);
    }
    snapshot_free(&s);
    return rc;
}

struct watch_view *watch_view_new(void) { return calloc(1, sizeof(struct watch_view)); }

void watch_view_free(struct watch_view *v) {
    if (!v) return;
    free(v->prev);
    free(v);
}

/* ---- the command ---- */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void on_winch(int sig) { (void)sig; /* only interrupts the sleep: the next frame reads the new size */ }

static void install_signals(void) {
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop; /* no SA_RESTART: the sleep between frames ends at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* the terminal went away */
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* hiredis writes with write(); a dropped connection is an error, not a signal */
}

/* $LINES or $COLUMNS when set to a number from 1 to LINE_CAP - 1, else def. */
static int env_size(const char *name, int def) {
    const char *s = getenv(name);
    if (!s || !(*s >= '0' && *s <= '9')) return def;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || *end || v < 1 || v >= LINE_CAP ? def : (int)v;
}

/* The terminal's size; not a terminal (a pipe, a file): $LINES x $COLUMNS if set, else 24 x 100. */
static void screen_size(int *rows, int *cols) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        *rows = ws.ws_row;
        *cols = ws.ws_col;
    } else {
        *rows = env_size("LINES", 24);
        *cols = env_size("COLUMNS", 100);
    }
}

static void write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* Draws a frame in place: home, each line cleared to its end, then the rest of the screen; one write. */
static void draw(const char *frame, size_t len, bool tty) {
    if (!tty) { /* a pipe or a file: frames one after another */
        write_all(frame, len);
        write_all("\n", 1);
        return;
    }
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (!f) return;
    fputs("\x1b[H", f);
    for (size_t i = 0; i < len; i++) {
        if (frame[i] == '\n') fputs("\x1b[K", f);
        fputc(frame[i], f);
    }
    fputs("\x1b[J", f);
    if (fclose(f) == 0) write_all(buf, blen);
    free(buf);
}

static void sleep_ms(uint64_t ms) {
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
}

static int run_once(const struct watch_opts *o, struct watch_view *v) {
    char err[256];
    redisContext *c = NULL;
    int rc = watch_connect(o, &c, err, sizeof err);
    if (rc == 0) rc = watch_render_frame(c, o, v, stdout, err, sizeof err);
    if (c) redisFree(c);
    if (rc < 0) fprintf(stderr, "tickd watch: %s\n", err);
    return rc < 0 ? 1 : 0;
}

static int run_live(struct watch_opts *o, struct watch_view *v) {
    bool tty = isatty(STDOUT_FILENO);
    redisContext *c = NULL;
    install_signals();
    if (tty) write_all("\x1b[?25l\x1b[2J", 10); /* hide the cursor, clear once */
    while (!stop_requested) {
        char err[256] = "", *frame = NULL;
        size_t len = 0;
        screen_size(&o->rows, &o->cols);
        FILE *f = open_memstream(&frame, &len);
        if (!f) break;
        if (!c && watch_connect(o, &c, err, sizeof err) < 0) c = NULL;
        if (c && watch_render_frame(c, o, v, f, err, sizeof err) < 0) {
            redisFree(c); /* reconnect on the next frame */
            c = NULL;
        }
        if (!c) watch_render_error(o, f, err);
        if (fclose(f) == 0 && !stop_requested) draw(frame, len, tty);
        free(frame);
        if (!stop_requested) sleep_ms(o->interval_ms);
    }
    if (c) redisFree(c);
    if (tty) write_all("\x1b[?25h", 6); /* the cursor back; the last frame stays on screen */
    return 0;
}

int watch_main(int argc, char **argv) {
    struct watch_opts o;
    int rc = watch_parse_args(argc, argv, &o);
    if (rc != 0) return rc > 0 ? 0 : 64;
    char password[PASSWORD_MAX];
    if (o.password_file) {
        if (read_password(o.password_file, password, sizeof password) < 0) return 64;
        o.password = password;
    }
    struct watch_view *v = watch_view_new();
    if (!v) return 1;
    if (o.once) screen_size(&o.rows, &o.cols);
    rc = o.once ? run_once(&o, v) : run_live(&o, v);
    watch_view_free(v);
    explicit_bzero(password, sizeof password);
    return rc;
}
