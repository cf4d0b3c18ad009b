/* reload.c -- SIGHUP: the config file read anew and applied to the running daemon, keeping what did not change.
 *
 * The whole new configuration is validated first; an invalid one is logged and the running one stays. Then a
 * source whose settings are unchanged keeps its runtime (its limiter remembers what the venue counted), a group
 * whose settings are unchanged keeps running, and the others are retired and started anew. Keys that only a
 * restart can apply (config_restart_key) are named in a warning and left as they were. */
#include "daemon_internal.h"

#include "tickd/clock.h"
#include "tickd/config.h"
#include "tickd/log.h"
#include "tickd/notify.h"

/* Ends RELOADING=1. Before the first READY=1 the startup check still owes it: sending it here would report a
 * daemon ready whose sinks may not be connected yet. */
static void reload_done(struct daemon *d) {
    if (!d->ready_sent) return;
    notify_ready();
    struct tree_counts tc = {0};
    supervisor_visit(d->sup, daemon_count_node, &tc);
    daemon_send_status(d, &tc);
}

void daemon_reload(struct daemon *d) {
    notify_reloading();
    log_info("daemon", "reloading", "path=%s", d->cfg->path);
    struct tickd_config *ncfg = NULL;
    struct config_errors errs = {0};
    if (config_load(d->cfg->path, &ncfg, &errs) < 0) {
        for (size_t i = 0; i < errs.len; i++) log_error("config", "invalid", "error=%s", errs.items[i].msg);
        log_error("daemon", "reload refused: the running configuration stays", "errors=%zu", errs.len);
        config_errors_free(&errs);
        reload_done(d);
        return;
    }
    config_errors_free(&errs);
    const char *key = config_restart_key(d->cfg, ncfg);
    if (key) log_warn("daemon", "a changed key needs a restart and is not applied", "key=%s", key);
    log_setup(ncfg->daemon.log_level, ncfg->daemon.log_format);
    if (ncfg->daemon.stats_interval_ms != d->cfg->daemon.stats_interval_ms)
        uv_timer_start(&d->stats_timer, daemon_on_stats, ncfg->daemon.stats_interval_ms, ncfg->daemon.stats_interval_ms);

    /* Sources: an unchanged one keeps its runtime (and its limiter's memory of what the venue counted). */
    for (struct source_rt *s = d->sources; s; s = s->next) {
        if (s->retired_at_ms) continue;
        const struct config_source *ns = config_find_source(ncfg, s->src.name);
        if (ns && config_source_equal(s->cfg, ns)) {
            s->cfg = ns;
        } else {
            s->cfg = NULL;
            s->retired_at_ms = clock_mono_ms();
            daemon_instruments_stop(s); /* its groups go too: a new source runtime loads the list anew */
        }
    }
    for (size_t i = 0; i < ncfg->nsources; i++)
        if (!daemon_source_find(d, ncfg->sources[i].name)) daemon_source_new(d, &ncfg->sources[i]);

    unsigned added = 0, changed = 0, removed = 0, kept = 0;
    for (size_t i = 0; i < d->cfg->ngroups; i++) {
        const struct config_group *og = &d->cfg->groups[i];
        if (!config_find_group(ncfg, og->name)) {
            supervisor_remove_group(d->sup, og->name);
            daemon_group_retire_all(d, og->name);
            removed++;
        }
    }
    for (size_t i = 0; i < ncfg->ngroups; i++) {
        const struct config_group *ng = &ncfg->groups[i];
        const struct config_group *og = config_find_group(d->cfg, ng->name);
        if (og && config_group_equal(og, ng)) {
            kept++;
            continue;
        }
        if (og) daemon_group_retire_all(d, ng->name);
        if (daemon_group_add(d, ng, og != NULL) == 0) og ? changed++ : added++;
    }
    config_free(d->cfg);
    d->cfg = ncfg;
    daemon_expiry_arm(d);
    daemon_trade_venues_update(d);
    daemon_instruments_reloaded(d);
    log_info("daemon", "reloaded", "groups_added=%u groups_changed=%u groups_removed=%u groups_kept=%u", added,
             changed, removed, kept);
    reload_done(d);
}

