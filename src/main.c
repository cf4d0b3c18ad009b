/* main.c -- placeholder entry point; the command line grows with the config module. */
#include <stdio.h>
#include <string.h>

#include "tickd/log.h"

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("tickd %s\n", TICKD_VERSION);
        return 0;
    }
    log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
    log_info("main", "tickd starting", "version=%s", TICKD_VERSION);
    return 0;
}
