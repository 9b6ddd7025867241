/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "cgroupfs/cgroupfs.h"
#include "util/parse.h"

/* The command line and /etc/podreaper/podreaper.conf: the same keys (a flag without its dashes),
 * flags win over the file. Defaults and names as in DESIGN §4, the kubelet's where it has one. */

typedef enum Command {
        COMMAND_PLAN,
        COMMAND_RUN,
        COMMAND_DAEMON,
        COMMAND_CHECK,
        COMMAND_REAP_POD,
        COMMAND_VERSION,
        COMMAND_HELP,
} Command;

/* The kinds of things podreaper reaps (--only), as a bit mask. */
typedef enum ReapKind {
        KIND_CONTAINERS = 1 << 0,
        KIND_SANDBOXES = 1 << 1,
        KIND_LOGS = 1 << 2,
        KIND_IMAGES = 1 << 3,
        KIND_POD_DIRS = 1 << 4,
        KIND_CGROUPS = 1 << 5,
        KIND_ALL = (1 << 6) - 1,
} ReapKind;

typedef enum OutputFormat {
        OUTPUT_TEXT,
        OUTPUT_JSON,
} OutputFormat;

#define DEFAULT_CONFIG_PATH "/etc/podreaper/podreaper.conf"

typedef struct Options {
        Command command;
        char *reap_pod_uid; /* reap-pod UID */

        char *config_path;              /* NULL: DEFAULT_CONFIG_PATH if it exists */
        char *root_dir;                 /* /var/lib/kubelet */
        char *pod_logs_dir;             /* /var/log/pods */
        char *container_logs_dir;       /* /var/log/containers */
        char *cgroup_root;              /* /sys/fs/cgroup */
        char *kubepods_cgroup;          /* kubepods */
        CgfsDriver cgroup_driver;       /* auto */
        char *runtime_endpoint;         /* NULL: containerd, then CRI-O, then cri-dockerd */
        usec_t runtime_request_timeout; /* 2m */
        char *state_dir;                /* /var/lib/podreaper */
        unsigned only;                  /* ReapKind mask; KIND_ALL */
        bool dry_run;
        OutputFormat output;
        usec_t orphan_grace;                       /* 10m */
        bool require_kubelet;                      /* true */
        unsigned max_deletions;                    /* 0 = unlimited */
        double max_orphan_fraction;                /* 0.5 */
        usec_t minimum_container_ttl_duration;     /* 0 */
        int maximum_dead_containers_per_container; /* 1 */
        int maximum_dead_containers;               /* -1 = unlimited */
        unsigned image_gc_high_threshold;          /* 85 */
        unsigned image_gc_low_threshold;           /* 80 */
        usec_t minimum_image_ttl_duration;         /* 2m */
        usec_t image_maximum_gc_age;               /* 0 = off */
        char *pod_infra_container_image;           /* registry.k8s.io/pause:3.9 */
        char *metrics_file;                        /* NULL: none */
        usec_t interval;                           /* 1m */
        usec_t check_min_age;                      /* 0: twice orphan_grace */
        char *proc_cgroups;                        /* NULL: /proc/cgroups */
        int verbosity;                             /* -v: +1, -q: -1 */
} Options;

/* Defaults, then the config file, then the flags (argv, options before or after the command).
 * Errors are logged as one line naming the flag or file:line and returned as -EINVAL (or -errno
 * for an unreadable config file given with --config); nothing else happens. A missing default
 * config file is fine. */
int options_parse(int argc, char *argv[], Options *ret);
void options_done(Options *o);

/* Applies one `key = value` (a long flag name without dashes); `where` names the source for the
 * error line ("--orphan-grace", "/etc/podreaper/podreaper.conf:12"). For the config reload too. */
int options_set(Options *o, const char *key, const char *value, const char *where);

const char *reap_kind_to_string(ReapKind k); /* "containers", ..., "cgroups" */
void options_help(void);
