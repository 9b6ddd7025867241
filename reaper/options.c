/* SPDX-License-Identifier: MIT */
/* The command line and the config file: one table of options drives the flags, the config keys,
 * the error lines and --help, so none of them can miss an option the others know. */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "reaper/options.h"
#include "util/log.h"
#include "util/macro.h"

typedef enum OptionType {
        OPT_CONFIG,      /* flag only: the config file itself */
        OPT_PATH,        /* char *, absolute, normalised */
        OPT_ENDPOINT,    /* char *, unix:///path or /path */
        OPT_CGROUP_NAME, /* char *, relative cgroup path */
        OPT_IMAGE,       /* char *, an image reference */
        OPT_DRIVER,
        OPT_DURATION,
        OPT_DURATION_NONZERO,
        OPT_ONLY,
        OPT_BOOL,
        OPT_OUTPUT,
        OPT_UNSIGNED,
        OPT_FRACTION,
        OPT_DEAD_CONTAINERS, /* int, -1 = unlimited */
        OPT_PERCENT,
        OPT_VERBOSE, /* flag: counts; config: a boolean */
        OPT_QUIET,
        OPT_HELP, /* flag only */
} OptionType;

typedef struct OptionDef {
        const char *name; /* long flag without dashes = config key */
        char short_name;
        OptionType type;
        size_t offset;
        const char *metavar; /* NULL: takes no value; starting with '=': only as --name=VALUE */
        const char *help;
        const char *unset; /* default text where the default is NULL */
} OptionDef;

#define OFF(field) offsetof(Options, field)

static const OptionDef option_defs[] = {
        {"config", 0, OPT_CONFIG, OFF(config_path), "PATH", "config file", DEFAULT_CONFIG_PATH},
        {"root-dir", 0, OPT_PATH, OFF(root_dir), "PATH", "kubelet root directory", NULL},
        {"pod-logs-dir", 0, OPT_PATH, OFF(pod_logs_dir), "PATH", "pod log directories", NULL},
        {"container-logs-dir", 0, OPT_PATH, OFF(container_logs_dir), "PATH", "container log links", NULL},
        {"cgroup-root", 0, OPT_PATH, OFF(cgroup_root), "PATH", "cgroup filesystems", NULL},
        {"kubepods-cgroup", 0, OPT_CGROUP_NAME, OFF(kubepods_cgroup), "NAME", "pod cgroup parent", NULL},
        {"cgroup-driver", 0, OPT_DRIVER, OFF(cgroup_driver), "auto|cgroupfs|systemd", "", NULL},
        {"container-runtime-endpoint",
         0,
         OPT_ENDPOINT,
         OFF(runtime_endpoint),
         "ENDPOINT",
         "CRI socket",
         "containerd, CRI-O, cri-dockerd"},
        {"runtime-request-timeout",
         0,
         OPT_DURATION_NONZERO,
         OFF(runtime_request_timeout),
         "DURATION",
         "deadline of each CRI call",
         NULL},
        {"state-dir", 0, OPT_PATH, OFF(state_dir), "PATH", "state file and lock", NULL},
        {"only", 0, OPT_ONLY, OFF(only), "KIND,...", "what to reap, see Kinds", NULL},
        {"dry-run", 0, OPT_BOOL, OFF(dry_run), NULL, "plan only, change nothing", NULL},
        {"output", 0, OPT_OUTPUT, OFF(output), "text|json", "report format", NULL},
        {"orphan-grace", 0, OPT_DURATION, OFF(orphan_grace), "DURATION", "leave younger pods alone", NULL},
        {"require-kubelet",
         0,
         OPT_BOOL,
         OFF(require_kubelet),
         "=true|false",
         "pod-level work needs a healthy kubelet",
         NULL},
        {"max-deletions",
         0,
         OPT_UNSIGNED,
         OFF(max_deletions),
         "N",
         "pod-level removals per pass, 0 = no cap",
         NULL},
        {"max-orphan-fraction",
         0,
         OPT_FRACTION,
         OFF(max_orphan_fraction),
         "F",
         "kill nothing above this orphan share",
         NULL},
        {"minimum-container-ttl-duration",
         0,
         OPT_DURATION,
         OFF(minimum_container_ttl_duration),
         "DURATION",
         "minimum age of a dead container",
         NULL},
        {"maximum-dead-containers-per-container",
         0,
         OPT_DEAD_CONTAINERS,
         OFF(maximum_dead_containers_per_container),
         "N",
         "kept per container, -1 = unlimited",
         NULL},
        {"maximum-dead-containers",
         0,
         OPT_DEAD_CONTAINERS,
         OFF(maximum_dead_containers),
         "N",
         "dead containers kept, -1 = unlimited",
         NULL},
        {"image-gc-high-threshold",
         0,
         OPT_PERCENT,
         OFF(image_gc_high_threshold),
         "PERCENT",
         "image fs usage that starts image GC",
         NULL},
        {"image-gc-low-threshold",
         0,
         OPT_PERCENT,
         OFF(image_gc_low_threshold),
         "PERCENT",
         "image GC frees down to this usage",
         NULL},
        {"minimum-image-ttl-duration",
         0,
         OPT_DURATION,
         OFF(minimum_image_ttl_duration),
         "DURATION",
         "minimum age of an unused image",
         NULL},
        {"image-maximum-gc-age",
         0,
         OPT_DURATION,
         OFF(image_maximum_gc_age),
         "DURATION",
         "remove older unused images, 0 = off",
         NULL},
        {"pod-infra-container-image",
         0,
         OPT_IMAGE,
         OFF(pod_infra_container_image),
         "IMAGE",
         "kept by image GC",
         NULL},
        {"metrics-file", 0, OPT_PATH, OFF(metrics_file), "PATH", "Prometheus text file", "none"},
        {"interval",
         0,
         OPT_DURATION_NONZERO,
         OFF(interval),
         "DURATION",
         "daemon: time between passes",
         NULL},
        /* check: how long an orphan may be kept before node-problem-detector hears of it; the
         * default follows --orphan-grace, hence stored as 0 (a set value is never 0). */
        {"check-min-age",
         0,
         OPT_DURATION_NONZERO,
         OFF(check_min_age),
         "DURATION",
         "check: orphans kept longer",
         "2 x orphan-grace"},
        /* For tests of the cgroup-limit case; nobody else has a reason to set it. */
        {"proc-cgroups", 0, OPT_PATH, OFF(proc_cgroups), "PATH", "check: cgroup counts", "/proc/cgroups"},
        {"verbose", 'v', OPT_VERBOSE, OFF(verbosity), NULL, "more detail, repeatable", NULL},
        {"quiet", 'q', OPT_QUIET, OFF(verbosity), NULL, "errors and warnings only", NULL},
        {"help", 'h', OPT_HELP, 0, NULL, "this help", NULL},
};

#define N_OPTIONS ELEMENTSOF(option_defs)

static const struct {
        const char *name;
        Command command;
} command_names[] = {
        {"plan", COMMAND_PLAN},
        {"run", COMMAND_RUN},
        {"daemon", COMMAND_DAEMON},
        {"check", COMMAND_CHECK},
        {"reap-pod", COMMAND_REAP_POD},
        {"version", COMMAND_VERSION},
        {"help", COMMAND_HELP},
};

static const char *const kind_names[] = {
        "containers",
        "sandboxes",
        "logs",
        "images",
        "pod-dirs",
        "cgroups",
};

#define KINDS_EXPECTED "containers, sandboxes, logs, images, pod-dirs, cgroups"

const char *reap_kind_to_string(ReapKind k) {
        for (size_t i = 0; i < ELEMENTSOF(kind_names); i++)
                if (k == (ReapKind) (1u << i))
                        return kind_names[i];
        return NULL;
}

static const OptionDef *option_find(const char *name, size_t len) {
        for (size_t i = 0; i < N_OPTIONS; i++)
                if (strlen(option_defs[i].name) == len && strncmp(option_defs[i].name, name, len) == 0)
                        return &option_defs[i];
        return NULL;
}

static const OptionDef *option_find_short(char c) {
        for (size_t i = 0; i < N_OPTIONS; i++)
                if (option_defs[i].short_name == c)
                        return &option_defs[i];
        return NULL;
}

/* A flag names itself ("--orphan-grace"); a config line names file:line, and then the key. */
static bool where_is_flag(const char *where) {
        return where[0] == '-';
}

/* A value goes into a log line quoted: control characters must not break it into two. */
static char *printable(const char *s) {
        char *p = strdup(s);

        if (p)
                for (char *c = p; *c; c++)
                        if ((unsigned char) *c < ' ' || *c == 0x7f)
                                *c = '?';
        return p;
}

/* "invalid duration for --orphan-grace: '10' (expected ...)" or
 * "/etc/podreaper/podreaper.conf:12: invalid duration for orphan-grace: '10' (expected ...)". */
_printf_(5, 6) static int invalid_value(
        const char *where,
        const char *key,
        const char *what,
        const char *value,
        const char *hint_format,
        ...) {
        _cleanup_free_ char *v = printable(value), *hint = NULL;
        va_list ap;
        int r;

        va_start(ap, hint_format);
        r = vasprintf(&hint, hint_format, ap);
        va_end(ap);
        if (r < 0 || !v)
                return -ENOMEM;

        if (where_is_flag(where))
                log_error("invalid %s for %s: '%s' (%s)", what, where, v, hint);
        else
                log_error("%s: invalid %s for %s: '%s' (%s)", where, what, key, v, hint);
        return -EINVAL;
}

static bool path_has_dot_component(const char *p) {
        for (const char *c = p; *c;) {
                size_t n = strcspn(c, "/");

                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return true;
                c += n;
                c += strspn(c, "/");
        }
        return false;
}

/* "//var/lib//kubelet/" -> "/var/lib/kubelet": paths are compared with the mount table's, which
 * knows only the normal form. */
static char *path_normalize(const char *p) {
        char *n = malloc(strlen(p) + 1), *o = n;

        if (!n)
                return NULL;
        for (const char *c = p; *c; c++)
                if (*c != '/' || o == n || o[-1] != '/')
                        *o++ = *c;
        if (o > n + 1 && o[-1] == '/')
                o--;
        *o = '\0';
        return n;
}

static int set_string(char **field, const char *value) {
        char *c = strdup(value);

        if (!c)
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

static int set_path(char **field, const OptionDef *d, const char *value, const char *where) {
        char *n;

        if (value[0] != '/')
                return invalid_value(where, d->name, "path", value, "must be absolute");
        /* ".." would make a path that the mount table and the pod dir walk disagree about. */
        if (path_has_dot_component(value))
                return invalid_value(where, d->name, "path", value, "must not contain '.' or '..'");
        n = path_normalize(value);
        if (!n)
                return -ENOMEM;
        free(*field);
        *field = n;
        return 0;
}

static int set_endpoint(char **field, const OptionDef *d, const char *value, const char *where) {
        const char *path = value;

        /* What the CRI client takes (and crictl, and the kubelet): only unix sockets. */
        if (strncmp(value, "unix://", 7) == 0)
                path = value + 7;
        else if (strncmp(value, "unix:", 5) == 0)
                path = value + 5;
        if (path[0] != '/')
                return invalid_value(
                        where,
                        d->name,
                        "endpoint",
                        value,
                        "expected unix:///path/to/socket or an absolute socket path");
        if (strlen(path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return invalid_value(where, d->name, "endpoint", value, "socket path too long");
        return set_string(field, value);
}

/* An image reference as a runtime takes it: one token, printable ASCII. */
static bool image_ref_is_valid(const char *s) {
        if (s[0] == '\0' || strlen(s) > 512)
                return false;
        for (const char *c = s; *c; c++)
                if (*c <= ' ' || *c >= 0x7f)
                        return false;
        return true;
}

static int parse_bool(const char *s, bool *ret) {
        if (strcmp(s, "true") == 0)
                *ret = true;
        else if (strcmp(s, "false") == 0)
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

static int parse_only(const OptionDef *d, const char *value, const char *where, unsigned *ret) {
        unsigned mask = 0;

        for (const char *c = value;; c++) {
                size_t n = strcspn(c, ","), b = 0, e = n;
                size_t i;

                /* "pod-dirs, cgroups" reads naturally in a config file. */
                while (b < e && (c[b] == ' ' || c[b] == '\t'))
                        b++;
                while (e > b && (c[e - 1] == ' ' || c[e - 1] == '\t'))
                        e--;
                if (b == e)
                        return invalid_value(
                                where,
                                d->name,
                                "kind list",
                                value,
                                "empty kind; expected %s",
                                KINDS_EXPECTED);
                for (i = 0; i < ELEMENTSOF(kind_names); i++)
                        if (strlen(kind_names[i]) == e - b && strncmp(kind_names[i], c + b, e - b) == 0)
                                break;
                if (i >= ELEMENTSOF(kind_names)) {
                        _cleanup_free_ char *kind = strndup(c + b, e - b), *k = NULL;

                        if (!kind || !(k = printable(kind)))
                                return -ENOMEM;
                        return invalid_value(
                                where,
                                d->name,
                                "kind list",
                                value,
                                "unknown kind '%s'; expected %s",
                                k,
                                KINDS_EXPECTED);
                }
                mask |= 1u << i;
                c += n;
                if (*c == '\0')
                        break;
        }

        *ret = mask;
        return 0;
}

static int set_option(Options *o, const OptionDef *d, const char *value, const char *where) {
        void *field = (char *) o + d->offset;
        usec_t u;
        unsigned n;
        int i, r;

        switch (d->type) {
        case OPT_CONFIG:
                if (!where_is_flag(where)) {
                        log_error("%s: 'config' cannot be set in a config file", where);
                        return -EINVAL;
                }
                /* Read right away, so unlike the paths podreaper works on it may be relative. */
                if (value[0] == '\0')
                        return invalid_value(where, d->name, "path", value, "empty");
                return set_string(field, value);

        case OPT_PATH:
                return set_path(field, d, value, where);

        case OPT_ENDPOINT:
                return set_endpoint(field, d, value, where);

        case OPT_CGROUP_NAME:
                /* The cgroupfs driver's rule; the systemd driver's is checked once both are known. */
                if (!cgfs_kubepods_is_valid(value, CGFS_DRIVER_CGROUPFS))
                        return invalid_value(
                                where,
                                d->name,
                                "cgroup name",
                                value,
                                "expected a relative cgroup path such as kubepods");
                return set_string(field, value);

        case OPT_IMAGE:
                if (!image_ref_is_valid(value))
                        return invalid_value(
                                where,
                                d->name,
                                "image",
                                value,
                                "expected an image reference such as registry.k8s.io/pause:3.9");
                return set_string(field, value);

        case OPT_DRIVER: {
                CgfsDriver driver;

                if (cgfs_driver_from_string(value, &driver) < 0)
                        return invalid_value(
                                where,
                                d->name,
                                "cgroup driver",
                                value,
                                "expected auto, cgroupfs or systemd");
                *(CgfsDriver *) field = driver;
                return 0;
        }

        case OPT_DURATION:
        case OPT_DURATION_NONZERO:
                r = parse_duration(value, &u);
                if (r == -ERANGE)
                        return invalid_value(where, d->name, "duration", value, "too large");
                if (r < 0)
                        return invalid_value(
                                where, d->name, "duration", value, "expected e.g. 90s, 10m, 1h30m");
                if (u == 0 && d->type == OPT_DURATION_NONZERO)
                        return invalid_value(where, d->name, "duration", value, "must be more than 0");
                *(usec_t *) field = u;
                return 0;

        case OPT_ONLY:
                return parse_only(d, value, where, field);

        case OPT_BOOL:
                if (parse_bool(value, field) < 0)
                        return invalid_value(where, d->name, "boolean", value, "expected true or false");
                return 0;

        case OPT_OUTPUT:
                if (strcmp(value, "text") == 0)
                        o->output = OUTPUT_TEXT;
                else if (strcmp(value, "json") == 0)
                        o->output = OUTPUT_JSON;
                else
                        return invalid_value(
                                where, d->name, "output format", value, "expected text or json");
                return 0;

        case OPT_UNSIGNED:
                r = safe_atou(value, &n);
                if (r < 0)
                        return invalid_value(
                                where,
                                d->name,
                                "number",
                                value,
                                "%s",
                                r == -ERANGE ? "too large" : "expected a whole number >= 0");
                *(unsigned *) field = n;
                return 0;

        case OPT_PERCENT:
                r = safe_atou(value, &n);
                if (r == -EINVAL)
                        return invalid_value(
                                where,
                                d->name,
                                "percentage",
                                value,
                                "expected a whole number from 0 to 100");
                if (r < 0 || n > 100)
                        return invalid_value(where, d->name, "percentage", value, "must be from 0 to 100");
                *(unsigned *) field = n;
                return 0;

        case OPT_FRACTION: {
                double f;

                r = safe_atofraction(value, &f);
                if (r == -ERANGE)
                        return invalid_value(where, d->name, "fraction", value, "must be from 0 to 1");
                if (r < 0)
                        return invalid_value(
                                where,
                                d->name,
                                "fraction",
                                value,
                                "expected a number from 0 to 1, e.g. 0.5");
                *(double *) field = f;
                return 0;
        }

        case OPT_DEAD_CONTAINERS:
                /* The kubelet reads any negative number as "no limit": so does podreaper, so that a
                 * kubelet's settings carry over as they are. Stored as -1. */
                r = safe_atoi(value, &i);
                if (r < 0)
                        return invalid_value(
                                where,
                                d->name,
                                "number",
                                value,
                                "expected a whole number, negative = unlimited");
                *(int *) field = MAX(i, -1);
                return 0;

        case OPT_VERBOSE:
        case OPT_QUIET: {
                bool b;

                /* The config file's spelling; the flags count (-vv) in options_parse(). */
                if (parse_bool(value, &b) < 0)
                        return invalid_value(where, d->name, "boolean", value, "expected true or false");
                if (b)
                        o->verbosity = d->type == OPT_VERBOSE ? 1 : -1;
                else if (d->type == OPT_VERBOSE ? o->verbosity > 0 : o->verbosity < 0)
                        o->verbosity = 0;
                return 0;
        }

        case OPT_HELP:
                break;
        }

        assert(false);
        return -EINVAL;
}

int options_set(Options *o, const char *key, const char *value, const char *where) {
        const OptionDef *d;

        assert(o);
        assert(key);
        assert(value);
        assert(where);

        d = option_find(key, strlen(key));
        if (!d || d->type == OPT_HELP) {
                _cleanup_free_ char *k = printable(key);

                if (!k)
                        return -ENOMEM;
                if (where_is_flag(where))
                        log_error("unknown option '%s', see 'podreaper --help'", where);
                else
                        log_error(
                                "%s: unknown key '%s'%s",
                                where,
                                k,
                                k[0] == '-' ? " (keys are the long option names without dashes)" : "");
                return -EINVAL;
        }
        return set_option(o, d, value, where);
}

static int options_defaults(Options *o) {
        *o = (Options){
                .command = COMMAND_HELP,
                .cgroup_driver = CGFS_DRIVER_AUTO,
                .runtime_request_timeout = 2 * USEC_PER_MINUTE,
                .only = KIND_ALL,
                .output = OUTPUT_TEXT,
                .orphan_grace = 10 * USEC_PER_MINUTE,
                .require_kubelet = true,
                .max_orphan_fraction = 0.5,
                .maximum_dead_containers_per_container = 1,
                .maximum_dead_containers = -1,
                .image_gc_high_threshold = 85,
                .image_gc_low_threshold = 80,
                .minimum_image_ttl_duration = 2 * USEC_PER_MINUTE,
                .interval = USEC_PER_MINUTE,
        };

        o->root_dir = strdup("/var/lib/kubelet");
        o->pod_logs_dir = strdup("/var/log/pods");
        o->container_logs_dir = strdup("/var/log/containers");
        o->cgroup_root = strdup("/sys/fs/cgroup");
        o->kubepods_cgroup = strdup("kubepods");
        o->state_dir = strdup("/var/lib/podreaper");
        o->pod_infra_container_image = strdup("registry.k8s.io/pause:3.9");
        if (!o->root_dir || !o->pod_logs_dir || !o->container_logs_dir || !o->cgroup_root ||
            !o->kubepods_cgroup || !o->state_dir || !o->pod_infra_container_image) {
                options_done(o);
                return -ENOMEM;
        }
        return 0;
}

void options_done(Options *o) {
        if (!o)
                return;
        free(o->reap_pod_uid);
        free(o->config_path);
        free(o->root_dir);
        free(o->pod_logs_dir);
        free(o->container_logs_dir);
        free(o->cgroup_root);
        free(o->kubepods_cgroup);
        free(o->runtime_endpoint);
        free(o->state_dir);
        free(o->pod_infra_container_image);
        free(o->metrics_file);
        free(o->proc_cgroups);
        *o = (Options){};
}

/* ---- options_parse ------------------------------------------------------------------------------ */

/* One --key value from argv, applied after the config file so that flags win. */
typedef struct Setting {
        const OptionDef *def;
        const char *value;
} Setting;

typedef struct ParseContext {
        Setting *settings;
        size_t n_settings;
        char *origin[N_OPTIONS]; /* the flag or file:line that last set an option; NULL: default */
        bool have_verbosity;     /* -v/-q on the command line replace the file's verbose/quiet */
        int verbosity;
        bool help;
        bool have_command;
        Command command;
        const char *uid;
} ParseContext;

static void parse_context_done(ParseContext *c) {
        free(c->settings);
        for (size_t i = 0; i < N_OPTIONS; i++)
                free(c->origin[i]);
}

static const char *origin(const ParseContext *c, const char *name) {
        const OptionDef *d = option_find(name, strlen(name));

        assert(d);
        return c->origin[d - option_defs] ?: "default";
}

static int apply(ParseContext *c, Options *o, const OptionDef *d, const char *value, const char *where) {
        char **slot = &c->origin[d - option_defs];
        int r;

        r = set_option(o, d, value, where);
        if (r < 0)
                return r;
        return set_string(slot, where);
}

/* Kubernetes pod UIDs: a lowercase UUID, or 32 lowercase hex digits for static pods (the hash of
 * the manifest). Anything else cannot name a pod dir or a pod cgroup, and must never become a
 * path component. */
static bool pod_uid_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n != 32 && n != 36)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool dash = n == 36 && (i == 8 || i == 13 || i == 18 || i == 23);

                if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        }
        return true;
}

static int parse_positional(ParseContext *c, const char *arg, const OptionDef *last_bool) {
        _cleanup_free_ char *a = printable(arg);

        if (!a)
                return -ENOMEM;

        if (!c->have_command) {
                for (size_t i = 0; i < ELEMENTSOF(command_names); i++)
                        if (strcmp(arg, command_names[i].name) == 0) {
                                c->have_command = true;
                                c->command = command_names[i].command;
                                return 0;
                        }
                /* "--require-kubelet false": a boolean flag never takes the next argument. */
                if (last_bool && (strcmp(arg, "true") == 0 || strcmp(arg, "false") == 0))
                        log_error(
                                "unknown command '%s' (a boolean is set as --%s=%s), see 'podreaper --help'",
                                a,
                                last_bool->name,
                                a);
                else
                        log_error("unknown command '%s', see 'podreaper --help'", a);
                return -EINVAL;
        }

        if (c->command == COMMAND_REAP_POD && !c->uid) {
                if (!pod_uid_is_valid(arg)) {
                        log_error(
                                "invalid pod UID for reap-pod: '%s' (expected a lowercase UUID such as "
                                "0f5a2c1e-9b1d-4c3e-8f7a-6d5e4c3b2a10, or 32 hex digits for a static pod)",
                                a);
                        return -EINVAL;
                }
                c->uid = arg;
                return 0;
        }

        log_error("unexpected argument '%s' after the command, see 'podreaper --help'", a);
        return -EINVAL;
}

/* Walks argv once: the command, its UID, and the settings in order. Stops at -h/--help, as
 * getopt does. */
static int parse_argv(ParseContext *c, int argc, char *argv[]) {
        const OptionDef *last_bool = NULL;
        bool options_end = false;

        c->settings = calloc((size_t) MAX(argc, 1), sizeof(Setting));
        if (!c->settings)
                return -ENOMEM;

        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];
                const OptionDef *d;
                const char *eq;
                int r;

                if (options_end || arg[0] != '-' || arg[1] == '\0') {
                        r = parse_positional(c, arg, last_bool);
                        if (r < 0)
                                return r;
                        last_bool = NULL;
                        continue;
                }
                last_bool = NULL;

                if (strcmp(arg, "--") == 0) {
                        options_end = true;
                        continue;
                }

                if (arg[1] != '-') {
                        /* Short options take no values: -v, -q, -h, and clusters such as -vv. */
                        for (const char *s = arg + 1; *s; s++) {
                                d = option_find_short(*s);
                                if (!d) {
                                        _cleanup_free_ char *a = printable(arg);

                                        if (!a)
                                                return -ENOMEM;
                                        if (strlen(arg) == 2)
                                                log_error("unknown option '%s', see 'podreaper --help'", a);
                                        else
                                                log_error(
                                                        "unknown option '-%c' in '%s', see 'podreaper "
                                                        "--help'",
                                                        *s,
                                                        a);
                                        return -EINVAL;
                                }
                                if (d->type == OPT_HELP) {
                                        c->help = true;
                                        return 0;
                                }
                                c->have_verbosity = true;
                                c->verbosity += d->type == OPT_VERBOSE ? 1 : -1;
                        }
                        continue;
                }

                eq = strchr(arg + 2, '=');
                d = option_find(arg + 2, eq ? (size_t) (eq - arg - 2) : strlen(arg + 2));
                if (!d) {
                        _cleanup_free_ char *a = printable(arg), *name = NULL;

                        if (!a || !(name = strndup(a, eq ? (size_t) (eq - arg) : strlen(a))))
                                return -ENOMEM;
                        log_error("unknown option '%s', see 'podreaper --help'", name);
                        return -EINVAL;
                }

                switch (d->type) {
                case OPT_HELP:
                case OPT_VERBOSE:
                case OPT_QUIET:
                        if (eq) {
                                log_error("option --%s takes no value", d->name);
                                return -EINVAL;
                        }
                        if (d->type == OPT_HELP) {
                                c->help = true;
                                return 0;
                        }
                        c->have_verbosity = true;
                        c->verbosity += d->type == OPT_VERBOSE ? 1 : -1;
                        continue;
                case OPT_BOOL:
                        if (!eq) {
                                c->settings[c->n_settings++] = (Setting){d, "true"};
                                last_bool = d;
                                continue;
                        }
                        break;
                default:
                        if (!eq) {
                                if (i + 1 >= argc) {
                                        log_error(
                                                "option --%s needs a value, see 'podreaper --help'",
                                                d->name);
                                        return -EINVAL;
                                }
                                /* Whatever follows is the value, even "-1". */
                                c->settings[c->n_settings++] = (Setting){d, argv[++i]};
                                continue;
                        }
                }
                c->settings[c->n_settings++] = (Setting){d, eq + 1};
        }
        return 0;
}

static int config_parse_line(ParseContext *c, Options *o, char *line, const char *where) {
        char *key, *value, *eq, *end;
        const OptionDef *d;

        /* '#' starts a comment at the beginning of a line or after whitespace; "a#b" is a value. */
        for (char *p = line; *p; p++)
                if (*p == '#' && (p == line || strchr(" \t", p[-1]))) {
                        *p = '\0';
                        break;
                }

        key = line + strspn(line, " \t\r\n");
        if (*key == '\0')
                return 0;

        eq = strchr(key, '=');
        if (!eq || eq == key) {
                _cleanup_free_ char *l = NULL;

                end = key + strlen(key);
                while (end > key && strchr(" \t\r\n", end[-1]))
                        end--;
                *end = '\0';
                l = printable(key);
                if (!l)
                        return -ENOMEM;
                log_error("%s: expected 'key = value', got '%s'", where, l);
                return -EINVAL;
        }

        end = eq;
        while (end > key && strchr(" \t", end[-1]))
                end--;
        *end = '\0';

        value = eq + 1;
        value += strspn(value, " \t");
        end = value + strlen(value);
        while (end > value && strchr(" \t\r\n", end[-1]))
                end--;
        *end = '\0';

        d = option_find(key, strlen(key));
        if (!d || d->type == OPT_HELP)
                return options_set(o, key, value, where); /* logs the unknown key */
        return apply(c, o, d, value, where);
}

static int config_parse_file(ParseContext *c, Options *o, const char *path, bool explicit) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0;
        unsigned n = 0;

        f = fopen(path, "re");
        if (!f) {
                if (!explicit && errno == ENOENT)
                        return 0;
                return log_error_errno(
                        errno, "cannot read config file %s%s: %m", path, explicit ? " (--config)" : "");
        }

        for (;;) {
                _cleanup_free_ char *where = NULL;
                ssize_t l;
                int r;

                errno = 0;
                l = getline(&line, &allocated, f);
                if (l < 0) {
                        if (ferror(f))
                                return log_error_errno(
                                        errno ?: EIO,
                                        "cannot read config file %s%s: %m",
                                        path,
                                        explicit ? " (--config)" : "");
                        break;
                }
                n++;

                if (asprintf(&where, "%s:%u", path, n) < 0) {
                        where = NULL;
                        return -ENOMEM;
                }
                if (strlen(line) != (size_t) l) {
                        log_error("%s: line contains a NUL byte", where);
                        return -EINVAL;
                }
                r = config_parse_line(c, o, line, where);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Checks between options, once everything is applied, naming where each value came from. */
static int options_verify(const ParseContext *c, const Options *o) {
        /* As the kubelet's validation: low < high. */
        if (o->image_gc_low_threshold >= o->image_gc_high_threshold) {
                log_error(
                        "image-gc-low-threshold %u (%s) must be below image-gc-high-threshold %u (%s)",
                        o->image_gc_low_threshold,
                        origin(c, "image-gc-low-threshold"),
                        o->image_gc_high_threshold,
                        origin(c, "image-gc-high-threshold"));
                return -EINVAL;
        }
        /* A systemd slice name cannot hold a '/'. */
        if (o->cgroup_driver == CGFS_DRIVER_SYSTEMD && strchr(o->kubepods_cgroup, '/')) {
                log_error(
                        "kubepods-cgroup '%s' (%s) cannot contain '/' with cgroup-driver systemd (%s)",
                        o->kubepods_cgroup,
                        origin(c, "kubepods-cgroup"),
                        origin(c, "cgroup-driver"));
                return -EINVAL;
        }
        return 0;
}

/* Everything after argv is walked: the config file, then the flags over it, then the checks. */
static int options_apply(ParseContext *c, Options *o) {
        const char *config_path = NULL;
        int r;

        /* --config first, wherever it stands, since the flags are applied over the file. */
        for (size_t i = 0; i < c->n_settings; i++)
                if (c->settings[i].def->type == OPT_CONFIG) {
                        r = apply(c, o, c->settings[i].def, c->settings[i].value, "--config");
                        if (r < 0)
                                return r;
                        config_path = o->config_path;
                }

        /* `version` must answer even on a node whose config file is broken. */
        if (c->command != COMMAND_VERSION) {
                r = config_parse_file(c, o, config_path ?: DEFAULT_CONFIG_PATH, config_path);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < c->n_settings; i++) {
                _cleanup_free_ char *where = NULL;

                if (c->settings[i].def->type == OPT_CONFIG)
                        continue;
                if (asprintf(&where, "--%s", c->settings[i].def->name) < 0) {
                        where = NULL;
                        return -ENOMEM;
                }
                r = apply(c, o, c->settings[i].def, c->settings[i].value, where);
                if (r < 0)
                        return r;
        }
        if (c->have_verbosity)
                o->verbosity = c->verbosity;

        return options_verify(c, o);
}

int options_parse(int argc, char *argv[], Options *ret) {
        _cleanup_(parse_context_done) ParseContext c = {};
        _cleanup_(options_done) Options o = {};
        int r;

        assert(argc >= 0);
        assert(ret);

        r = options_defaults(&o);
        if (r < 0)
                return r;

        r = parse_argv(&c, argc, argv);
        if (r < 0)
                return r;

        if (c.help)
                c.command = COMMAND_HELP;
        else if (!c.have_command) {
                log_error("missing command (plan, run, daemon, check, reap-pod UID, version), see "
                          "'podreaper --help'");
                return -EINVAL;
        } else if (c.command == COMMAND_REAP_POD && !c.uid) {
                log_error("reap-pod needs the pod UID: podreaper reap-pod UID");
                return -EINVAL;
        }

        /* Help needs nothing else, and must work whatever is wrong elsewhere. */
        if (c.command != COMMAND_HELP) {
                r = options_apply(&c, &o);
                if (r < 0)
                        return r;
        }

        if (c.uid) {
                o.reap_pod_uid = strdup(c.uid);
                if (!o.reap_pod_uid)
                        return -ENOMEM;
        }
        o.command = c.command;

        *ret = o;
        o = (Options){};
        return 0;
}

/* ---- help --------------------------------------------------------------------------------------- */

static void format_default(const Options *o, const OptionDef *d, char *buf, size_t size) {
        const void *field = (const char *) o + d->offset;

        buf[0] = '\0';
        switch (d->type) {
        case OPT_CONFIG:
        case OPT_PATH:
        case OPT_ENDPOINT:
        case OPT_CGROUP_NAME:
        case OPT_IMAGE:
                (void) snprintf(buf, size, "%s", *(char *const *) field ?: d->unset);
                break;
        case OPT_DRIVER:
                (void) snprintf(buf, size, "%s", cgfs_driver_to_string(*(const CgfsDriver *) field));
                break;
        case OPT_DURATION:
        case OPT_DURATION_NONZERO:
                if (*(const usec_t *) field == 0 && d->unset)
                        (void) snprintf(buf, size, "%s", d->unset);
                else
                        (void) format_duration(buf, size, *(const usec_t *) field);
                break;
        case OPT_ONLY:
                (void) snprintf(buf, size, "%s", *(const unsigned *) field == KIND_ALL ? "all" : "some");
                break;
        case OPT_BOOL:
                (void) snprintf(buf, size, "%s", *(const bool *) field ? "true" : "false");
                break;
        case OPT_OUTPUT:
                (void) snprintf(buf, size, "%s", o->output == OUTPUT_JSON ? "json" : "text");
                break;
        case OPT_UNSIGNED:
        case OPT_PERCENT:
                (void) snprintf(buf, size, "%u", *(const unsigned *) field);
                break;
        case OPT_FRACTION:
                (void) snprintf(buf, size, "%g", *(const double *) field);
                break;
        case OPT_DEAD_CONTAINERS:
                (void) snprintf(buf, size, "%d", *(const int *) field);
                break;
        case OPT_VERBOSE:
        case OPT_QUIET:
        case OPT_HELP:
                break;
        }
}

void options_help(void) {
        _cleanup_(options_done) Options defaults = {};
        bool have_defaults = options_defaults(&defaults) >= 0;

        printf("Usage: podreaper [OPTIONS] COMMAND\n"
               "\n"
               "Cleans up after the kubelet, safely: never anything mounted, never a live pod.\n"
               "\n"
               "Commands:\n"
               "  plan            show what would be done and why; changes nothing\n"
               "  run             one pass\n"
               "  daemon          a pass every --interval\n"
               "  check           node-problem-detector plugin: one line; exit 0 OK, 1 problem, 2 unknown\n"
               "  reap-pod UID    reap one pod's leftovers now (liveness checked, grace ignored)\n"
               "  version         print the version\n"
               "\n"
               "Options, before or after the command; also keys (without dashes) in\n"
               "%s as key = value; flags win:\n",
               DEFAULT_CONFIG_PATH);

        for (size_t i = 0; i < N_OPTIONS; i++) {
                const OptionDef *d = &option_defs[i];
                char left[64], def[DURATION_MAX_LEN + 64] = "";

                if (d->short_name)
                        (void) snprintf(left, sizeof(left), "-%c, --%s", d->short_name, d->name);
                else
                        (void) snprintf(
                                left,
                                sizeof(left),
                                "--%s%s%s",
                                d->name,
                                d->metavar && d->metavar[0] != '=' ? " " : "",
                                d->metavar ?: "");
                if (have_defaults)
                        format_default(&defaults, d, def, sizeof(def));

                printf("  %-42s %s%s%s%s%s\n",
                       left,
                       d->help,
                       def[0] && d->help[0] ? " " : "",
                       def[0] ? "[" : "",
                       def,
                       def[0] ? "]" : "");
        }

        printf("\n"
               "Kinds: containers, sandboxes, logs, images, pod-dirs, cgroups. Durations as the kubelet's:\n"
               "90s, 10m, 1h30m. Exit status: 0 done; 1 some actions failed; 2 bad input or sources not\n"
               "ready; 75 another run holds the lock.\n");
}
