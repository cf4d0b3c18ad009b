/* main.c -- the command line: parse options, load the config, hand it to the daemon.
 * Exit codes follow sysexits(3): 64 for a usage error, 78 for a config error (systemd's
 * RestartPreventExitStatus=78 then does not restart a daemon that cannot start). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tickd/config.h"
#include "tickd/daemon.h"
#include "tickd/status.h"
#include "tickd/watch.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tickd [-c FILE]                 run the daemon\n"
            "       tickd --check-config [-c FILE]  validate the configuration and exit\n"
            "       tickd status [-s SOCKET]        print the task tree of the running daemon\n"
            "       tickd watch [OPTIONS]           live view of the prices in Redis (tickd watch --help)\n"
            "       tickd --config-reference        print every configuration key as Markdown\n"
            "       tickd --version | --help\n"
            "options:\n"
            "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
            "  -s, --status-socket PATH\n"
            "                      the status socket (default $RUNTIME_DIRECTORY/status.sock, else\n"
            "                      /run/tickd/status.sock, else $XDG_RUNTIME_DIR/tickd/status.sock, else\n"
            "                      /tmp/tickd-UID/status.sock)\n");
}

/* Loads path, or prints every error on stderr and returns NULL. */
static struct tickd_config *load(const char *path) {
    struct tickd_config *cfg = NULL;
    struct config_errors errs = {0};
    size_t n = 0;
    if (config_load(path, &cfg, &errs) < 0) {
        config_errors_print(&errs, stderr);
        n = errs.len;
    }
    if (n) fprintf(stderr, "tickd: %s: %zu error%s\n", path, n, n == 1 ? "" : "s");
    config_errors_free(&errs);
    return cfg;
}

int main(int argc, char **argv) {
    enum { RUN, CHECK, REFERENCE, STATUS } mode = RUN;
    const char *path = CONFIG_DEFAULT_PATH;
    const char *status_socket = NULL;
    if (argc > 1 && strcmp(argv[1], "watch") == 0) return watch_main(argc - 1, argv + 1); /* argv[0] = "watch" */
    if (argc > 1 && strcmp(argv[1], "status") == 0) {
        mode = STATUS;
        argv[1] = argv[0]; /* getopt then sees the options after the sub-command */
        argv++;
        argc--;
    }
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},     {"check-config", no_argument, NULL, 'C'},
        {"config-reference", no_argument, NULL, 'R'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},             {"status-socket", required_argument, NULL, 's'},
        {0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 's': status_socket = optarg; break;
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
    if (mode == STATUS) {
        char def[4096];
        if (!status_socket) status_default_path(def, sizeof def);
        return status_client_print(status_socket ? status_socket : def) == 0 ? 0 : EX_UNAVAILABLE;
    }
    if (mode == REFERENCE) {
        config_print_reference(stdout);
        return 0;
    }

    struct tickd_config *cfg = load(path);
    if (!cfg) return EX_CONFIG;
    if (mode == CHECK) {
        printf("%s: ok (%zu sources, %zu groups)\n", path, cfg->nsources, cfg->ngroups);
        config_free(cfg);
        return 0;
    }
    struct daemon_opts dopts = {.status_socket = status_socket};
    return daemon_run(cfg, &dopts); /* takes cfg */
}
