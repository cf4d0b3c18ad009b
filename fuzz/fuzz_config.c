/* fuzz_config.c -- the configuration loader on arbitrary text: config_parse (TOML, schema, cross-checks),
 * the reload comparisons and the summary log of what it accepts.
 *
 * The document's name puts its directory where nothing exists, so a relative password_file is a read that
 * fails, not a file of this machine. A failed load must report at least one error. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickd/config.h"
#include "tickd/log.h"

static void die(const char *what) {
    fprintf(stderr, "fuzz_config: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *null;
    if (!null) {
        null = fopen("/dev/null", "w");
        log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_LOGFMT);
        log_set_fd(fileno(null));
    }
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    int rc = config_parse("/nonexistent-tickd-fuzz/tickd.toml", text, size, &cfg, &errs);
    if (rc == 0) {
        if (!cfg) die("success without a config");
        if (config_restart_key(cfg, cfg)) die("a config differs from itself");
        for (size_t i = 0; i < cfg->nsources; i++)
            if (!config_source_equal(&cfg->sources[i], &cfg->sources[i])) die("a source differs from itself");
        for (size_t i = 0; i < cfg->ngroups; i++) {
            if (!config_group_equal(&cfg->groups[i], &cfg->groups[i])) die("a group differs from itself");
            if (config_find_group(cfg, cfg->groups[i].name) == NULL) die("a group cannot be found by its name");
        }
        config_log_summary(cfg);
        config_free(cfg);
    } else {
        if (rc > 0) die("a positive error code");
        if (errs.len == 0) die("a failed load without an error message");
        config_errors_print(&errs, null);
    }
    config_errors_free(&errs);
    free(text);
    return 0;
}
