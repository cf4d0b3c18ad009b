/* main.c -- the command line: parse options, load the config, hand it to the daemon.
 * Exit codes follow sysexits(3): 64 for a usage error, 78 for a config error (systemd's
 * RestartPreventExitStatus=78 then does not restart a daemon that cannot start). */
#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>

#include "tickd/config.h"
#include "tickd/daemon.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tickd [-c FILE]                 run the daemon\n"
            "       tickd --check-config [-c FILE]  validate the configuration and exit\n"
            "       tickd --config-reference        print every configuration key as Markdown\n"
            "       tickd --version | --help\n"
            "options:\n"
            "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n");
}

/* Loads path, or prints every error on stderr and returns NULL. */
static struct tickd_config *load(const char *path) {
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    if (config_load(path, &cfg, &errs) < 0) {
        config_errors_print(&errs, stderr);
        fprintf(stderr, "tickd: %s: %zu error%s\n", path, errs.len, errs.len == 1 ? "" : "s");
    }
    config_errors_free(&errs);
    return cfg;
}

int main(int argc, char **argv) {
    enum { RUN, CHECK, REFERENCE } mode = RUN;
    const char *path = CONFIG_DEFAULT_PATH;
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},     {"check-config", no_argument, NULL, 'C'},
        {"config-reference", no_argument, NULL, 'R'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},             {0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'C': mode = CHECK; break;
        case 'R': mode = REFERENCE; break;
        case 'V': printf("tickd %s\n", TICKD_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tickd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EX_USAGE;
    }
    if (mode == REFERENCE) {
        config_print_reference(stdout);
        return 0;
    }

    struct tickd_config *cfg = load(path);
    if (!cfg) return EX_CONFIG;
    int rc = 0;
    if (mode == CHECK)
        printf("%s: ok (%zu sources, %zu groups)\n", path, cfg->nsources, cfg->ngroups);
    else
        rc = daemon_run(cfg) < 0 ? EX_SOFTWARE : 0;
    config_free(cfg);
    return rc;
}
