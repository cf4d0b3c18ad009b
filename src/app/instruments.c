/* instruments.c -- what a source's instrument list (catalog.h) changes in the running daemon.
 *
 * Each good list that differs from the last one:
 *   - goes to the sinks, one instrument per change (listed, status, updated, delisted): put_instrument;
 *   - mutes, in every group table of the source, the symbols the venue does not list as trading (halted,
 *     delisted, or not listed at all: the stream tasks unsubscribe them on their live connections,
 *     stream_task.c) and withdraws their quotes from the best bid and offer (merge_withdraw); unmutes those that
 *     trade again, and a name that comes to be listed;
 *   - resolves the groups whose symbols hold patterns (symbol_select.h) against the venue's trading
 *     instruments: a group that waited for its first list starts; a running one whose patterns now match new
 *     listings gets them on a companion group of its own ("<group>+<n>": new connections within the venue's
 *     connect limits, its other connections untouched), up to its `max`;
 *   - reports the names given explicitly that the venue does not list, with the closest names it does.
 * A pattern group never starts with nothing to subscribe: it waits, logged, for a list that matches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_internal.h"

#include "tickd/catalog.h"
#include "tickd/clock.h"
#include "tickd/log.h"
#include "tickd/symbol_select.h"

#define CLOSEST_MAX 3
/* Unlisted names a list looks the closest names up for (a few ms each over 50k instruments, on the loop): the
 * others are warned about without them. */
#define CLOSEST_LOOKUPS_MAX 16

/* ---- the sinks ---- */

struct change_ctx {
    struct daemon *d;
    const char *venue;
};

static void put_change(void *arg, enum instrument_change change, const struct instrument *before,
                       const struct instrument *now) {
    struct change_ctx *ctx = arg;
    struct instrument gone;
    const struct instrument *in = now;
    if (!in) { /* gone from the list: its last entry, delisted */
        gone = *before;
        gone.status = INSTRUMENT_DELISTED;
        in = &gone;
    }
    for (size_t k = 0; k < ctx->d->nsinks; k++) {
        struct sink_rt *s = &ctx->d->sinks[k];
        if (s->state && s->ops->put_instrument && s->ops->put_instrument(s->state, ctx->venue, in, change) < 0)
            s->refused++;
    }
}

/* ---- mutes and the best bid and offer ---- */

static void on_bbo_withdrawn(void *arg, uint32_t bbo_id) {
    struct daemon *d = arg;
    struct merge_bbo bbo;
    if (d->bbo_sinks && merge_bbo_by_id(d->merge, bbo_id, &bbo) == 0)
        for (size_t k = 0; k < d->nsinks; k++)
            if (d->sinks[k].state && d->sinks[k].ops->put_bbo)
                d->sinks[k].ops->put_bbo(d->sinks[k].state, bbo_id, &bbo, clock_wall_us());
}

/* A symbol is subscribed while the venue lists it as trading: a halted, delisted or unlisted one is muted (an
 * unlisted name is retried at each list: a listing can come later; subscribing it meanwhile would only earn the
 * venue's error, which fails the connection's subscription on some venues). */
static void follow_group(struct daemon *d, struct group_rt *g, const struct instrument_list *now, size_t *muted,
                         size_t *unmuted) {
    const char *venue = g->source->src.venue->name;
    for (size_t i = 0; i < g->symbols.n; i++) {
        const char *sym = g->symbols.list[i].norm;
        const struct instrument *in = instrument_list_find(now, sym);
        bool mute = !in || in->status != INSTRUMENT_TRADING;
        if (venue_symbols_mute(&g->symbols, i, mute)) mute ? (*muted)++ : (*unmuted)++;
        (void)merge_withdraw(d->merge, venue, sym, mute, on_bbo_withdrawn, d); /* -ENOENT: no quote yet */
    }
}

static void follow_statuses(struct daemon *d, struct source_rt *s, const struct instrument_list *now) {
    size_t muted = 0, unmuted = 0;
    for (struct group_rt *g = d->groups; g; g = g->next)
        if (!g->retired_at_ms && g->source == s) follow_group(d, g, now, &muted, &unmuted);
    if (muted || unmuted)
        log_info("instruments", "subscriptions follow the venue's statuses", "source=%s muted=%zu unmuted=%zu",
                 s->src.name, muted, unmuted);
}

/* ---- names the venue does not list ---- */

static bool in_names(char *const *names, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return true;
    return false;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* The explicit names of the source's groups the list does not hold, each warned about once with the closest
 * names the venue has; one that comes to be listed is said so. */
static void report_unlisted(struct daemon *d, struct source_rt *s, const struct instrument_list *now) {
    const char **all = calloc(now->n ? now->n : 1, sizeof *all); /* the names the closest are looked for in */
    if (!all) return;
    size_t nall = now->n;
    for (size_t i = 0; i < nall; i++) all[i] = now->v[i].symbol;
    char **found = NULL;
    size_t nfound = 0, cap = 0;
    unsigned lookups = 0;
    for (size_t gi = 0; gi < d->cfg->ngroups; gi++) {
        const struct config_group *cg = &d->cfg->groups[gi];
        if (strcmp(cg->source->name, s->src.name) != 0) continue;
        for (size_t i = 0; i < cg->nsymbols; i++) {
            const char *name = cg->symbols[i];
            if (instrument_list_find(now, name) || in_names(found, nfound, name)) continue;
            if (nfound == cap) {
                cap = cap ? 2 * cap : 8;
                char **grown = realloc(found, cap * sizeof *grown);
                if (!grown) break;
                found = grown;
            }
            if (!(found[nfound] = strdup(name))) break;
            nfound++;
            if (in_names(s->unlisted, s->nunlisted, name)) continue;
            const char *close[CLOSEST_MAX];
            size_t nc = lookups++ < CLOSEST_LOOKUPS_MAX ? symbol_closest(name, all, nall, close, CLOSEST_MAX) : 0;
            char hint[CLOSEST_MAX * (TICK_SYMBOL_MAX + 1)] = "";
            for (size_t k = 0, off = 0; k < nc; k++)
                off += (size_t)snprintf(hint + off, sizeof hint - off, "%s%s", k ? "," : "", close[k]);
            log_warn("instruments", "the venue does not list this symbol: not subscribed until it does",
                     "source=%s group=%s symbol=%s closest=\"%s\"", s->src.name, cg->name, name, hint);
        }
    }
    for (size_t i = 0; i < s->nunlisted; i++)
        if (!in_names(found, nfound, s->unlisted[i]))
            log_info("instruments", "the venue lists it now", "source=%s symbol=%s", s->src.name, s->unlisted[i]);
    free_names(s->unlisted, s->nunlisted);
    s->unlisted = found;
    s->nunlisted = nfound;
    free(all);
}

/* ---- pattern groups ---- */

static int cmp_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The names the runtimes of config group `config_name` subscribe, sorted (pointers into their tables), or NULL
 * when there is no memory. */
static const char **covered_names(const struct daemon *d, const char *config_name, size_t n) {
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names) return NULL;
    size_t k = 0;
    for (const struct group_rt *g = d->groups; g; g = g->next) {
        if (g->retired_at_ms || strcmp(g->config_name, config_name) != 0) continue;
        for (size_t i = 0; i < g->symbols.n && k < n; i++) names[k++] = g->symbols.list[i].norm;
    }
    qsort(names, k, sizeof *names, cmp_name);
    return names;
}

/* How many runtimes serve config group `config_name` (its own and its companions). */
static size_t group_count_any(const struct daemon *d, const char *config_name) {
    size_t n = 0;
    for (const struct group_rt *g = d->groups; g; g = g->next)
        if (!g->retired_at_ms && strcmp(g->config_name, config_name) == 0) n++;
    return n;
}

static size_t group_count(const struct daemon *d, const char *config_name, unsigned *companions) {
    size_t n = 0;
    *companions = 0;
    for (const struct group_rt *g = d->groups; g; g = g->next) {
        if (g->retired_at_ms || strcmp(g->config_name, config_name) != 0) continue;
        n += g->symbols.n;
        if (strcmp(g->name, config_name) != 0) (*companions)++;
    }
    return n;
}

/* Resolves one pattern group against the trading instruments `trading`: starts it, or gives its new matches a
 * companion group. */
static void resolve_group(struct daemon *d, const struct config_group *cg, const char *const *trading,
                          size_t ntrading, bool replace) {
    struct symbol_select sel = {.names = (const char *const *)cg->symbols, .nnames = cg->nsymbols,
                                .patterns = (const char *const *)cg->patterns, .npatterns = cg->npatterns,
                                .excludes = (const char *const *)cg->excludes, .nexcludes = cg->nexcludes,
                                .max = cg->max_symbols};
    struct symbol_resolution res;
    if (symbol_resolve(&sel, trading, ntrading, &res) < 0) {
        log_error("instruments", "cannot resolve the group's patterns", "group=%s error=%s", cg->name,
                  strerror(ENOMEM));
        return;
    }
    unsigned companions;
    size_t have = group_count(d, cg->name, &companions);
    bool running = have > 0 && !replace;
    const char **pick = calloc(res.n ? res.n : 1, sizeof *pick);
    const char **covered = running ? covered_names(d, cg->name, have) : NULL;
    size_t npick = 0;
    for (size_t i = 0; pick && (covered || !running) && i < res.n; i++) {
        if (running && bsearch(&res.list[i], covered, have, sizeof *covered, cmp_name)) continue;
        if (running && cg->max_symbols && have + npick >= cg->max_symbols) break; /* at max: the rest wait */
        pick[npick++] = res.list[i];
    }
    if (!running && res.cut)
        log_info("instruments", "patterns matched more than max: the list is cut", "group=%s max=%llu cut=%zu "
                 "first_cut=%s last_cut=%s", cg->name, (unsigned long long)cg->max_symbols, res.cut,
                 res.cut_first ? res.cut_first : "", res.cut_last ? res.cut_last : "");
    free(covered);
    if (!npick) {
        if (!running)
            log_warn("instruments", "the group's patterns match nothing the venue trades: it waits for a listing",
                     "group=%s patterns=%zu", cg->name, cg->npatterns);
        free(pick);
        symbol_resolution_free(&res);
        return;
    }
    struct config_group g = *cg; /* the group as its resolved names: group_rt_new copies what it keeps */
    char name[96];
    if (running) snprintf(name, sizeof name, "%s+%u", cg->name, companions + 1);
    else snprintf(name, sizeof name, "%s", cg->name);
    g.name = name;
    g.symbols = (char **)pick;
    g.nsymbols = npick;
    g.patterns = NULL;
    g.npatterns = 0;
    int rc = daemon_group_start(d, &g, cg->name, replace);
    if (rc == 0)
        log_info("instruments", running ? "new listings subscribed" : "patterns resolved: group started",
                 "group=%s as=%s symbols=%zu first=%s", cg->name, name, npick, pick[0]);
    free(pick);
    symbol_resolution_free(&res);
}

/* The trading instruments' names of a list (pointers into it). */
static const char **trading_names(const struct instrument_list *l, size_t *n) {
    const char **names = calloc(l->n ? l->n : 1, sizeof *names);
    *n = 0;
    for (size_t i = 0; names && i < l->n; i++)
        if (l->v[i].status == INSTRUMENT_TRADING) names[(*n)++] = l->v[i].symbol;
    return names;
}

/* Resolves the source's pattern groups (only `one`, when given: a group of a configuration being applied). */
static void resolve_source_groups(struct daemon *d, struct source_rt *s, const struct instrument_list *now,
                                  const struct config_group *one, bool replace) {
    size_t ntrading;
    const char **trading = trading_names(now, &ntrading);
    if (!trading) return;
    if (one) {
        resolve_group(d, one, trading, ntrading, replace);
    } else {
        for (size_t i = 0; i < d->cfg->ngroups; i++) {
            const struct config_group *cg = &d->cfg->groups[i];
            if (cg->npatterns && strcmp(cg->source->name, s->src.name) == 0)
                resolve_group(d, cg, trading, ntrading, false);
        }
    }
    free(trading);
}

/* ---- the catalog's hook ---- */

static void on_list(void *arg, const struct instrument_list *before, const struct instrument_list *now) {
    struct source_rt *s = arg;
    struct daemon *d = s->d;
    if (d->stopping) return;
    struct change_ctx ctx = {.d = d, .venue = s->src.venue->name};
    struct instrument_changes counts;
    instrument_list_diff(before, now, put_change, &ctx, &counts);
    log_info("instruments", "instrument list changed", "source=%s instruments=%zu listed=%zu status=%zu updated=%zu "
             "delisted=%zu", s->src.name, now->n, counts.listed, counts.status, counts.updated, counts.delisted);
    resolve_source_groups(d, s, now, NULL, false); /* before the mutes: a companion's table is muted like the others */
    follow_statuses(d, s, now);
    report_unlisted(d, s, now);
}

/* ---- wiring ---- */

void daemon_instruments_start(struct daemon *d, struct source_rt *s) {
    if (!s->src.venue->instruments || !s->cfg->instruments) return;
    struct catalog_hooks hooks = {.on_list = on_list, .arg = s};
    int rc = catalog_new(&d->loop, &s->src, s->cfg->instruments_refresh_ms, &hooks, &s->catalog);
    if (rc < 0)
        log_error("instruments", "cannot load the venue's instruments", "source=%s error=%s", s->src.name,
                  strerror(-rc));
}

void daemon_instruments_stop(struct source_rt *s) {
    catalog_free(s->catalog);
    s->catalog = NULL;
    free_names(s->unlisted, s->nunlisted);
    s->unlisted = NULL;
    s->nunlisted = 0;
}

int daemon_pattern_group_add(struct daemon *d, const struct config_group *cg, bool replace) {
    struct source_rt *s = daemon_source_find(d, cg->source->name);
    if (!s) return -ENOENT;
    if (replace) daemon_group_retire_all(d, cg->name);
    const struct instrument_list *now = catalog_list(s->catalog);
    if (!now) {
        if (replace) supervisor_remove_group(d->sup, cg->name); /* its old patterns' group stops meanwhile */
        log_info("instruments", "the group's patterns wait for the venue's instrument list", "group=%s source=%s",
                 cg->name, s->src.name);
        return 0;
    }
    resolve_source_groups(d, s, now, cg, replace);
    if (replace && group_count_any(d, cg->name) == 0) supervisor_remove_group(d->sup, cg->name);
    return 0;
}

size_t daemon_instruments_unlisted(const struct source_rt *s) { return s->nunlisted; }

void daemon_instruments_group(struct daemon *d, struct group_rt *g) {
    const struct instrument_list *now = catalog_list(g->source->catalog);
    size_t muted = 0, unmuted = 0;
    if (now) follow_group(d, g, now, &muted, &unmuted);
}

void daemon_instruments_reloaded(struct daemon *d) {
    for (struct source_rt *s = d->sources; s; s = s->next) {
        const struct instrument_list *now = catalog_list(s->catalog);
        if (!s->retired_at_ms && now) report_unlisted(d, s, now);
    }
}
