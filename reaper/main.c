/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "util/log.h"

/* The pod-level commands (plan, run, daemon, check, reap-pod) arrive with the reaper issue; until
 * then the program knows only what it can do truthfully. */

static void help(void) {
        printf("Usage: podreaper [OPTIONS] COMMAND\n"
               "\n"
               "Keeps a Kubernetes node clean from the outside, safely.\n"
               "\n"
               "Commands:\n"
               "  version    print the version\n"
               "\n"
               "Options:\n"
               "  -h, --help print this help\n");
}

int main(int argc, char *argv[]) {
        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                help();
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "version") == 0) {
                printf("podreaper %s\n", PODREAPER_VERSION);
                return 0;
        }
        log_error(
                "Unknown command line '%s%s', see 'podreaper --help'.",
                argc > 1 ? argv[1] : "",
                argc > 2 ? " ..." : "");
        return 2;
}
