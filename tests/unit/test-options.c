/* SPDX-License-Identifier: MIT */
/* The command line and the config file (fixtures in tests/data/config/): defaults, every flag in
 * both spellings, flags over the file, and for every kind of bad input exactly one error line that
 * names the flag or file:line. stderr goes to a temp file so that the line can be checked. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "reaper/options.h"
#include "tests/lib/capture.h"
#include "util/log.h"
#include "util/macro.h"

#define FIXTURE_DIR "tests/data/config/"
#define UID "0f5a2c1e-9b1d-4c3e-8f7a-6d5e4c3b2a10"
#define STATIC_UID "d41d8cd98f00b204e9800998ecf8427e"

/* Where the error line starts: "<program>: error: ". */
static char prefix[64];

/* ---- helpers ---------------------------------------------------------------------------------- */

/* options_parse() on "podreaper" + the NULL-terminated arguments. */
static int parse_argv_list(Options *o, const char *const *args) {
        char *argv[64];
        int argc = 0;

        argv[argc++] = (char *) "podreaper";
        for (; *args; args++) {
                assert_true(argc < 63);
                argv[argc++] = (char *) *args;
        }
        argv[argc] = NULL;
        return options_parse(argc, argv, o);
}

#define PARSE(o, ...) parse_argv_list(o, (const char *const[]){__VA_ARGS__, NULL})

/* Expects a parse to succeed without a word on stderr. */
#define PARSE_OK(c, o, ...) \
        do { \
                _cleanup_free_ char *_out_ = NULL; \
                int _r_ = PARSE(o, __VA_ARGS__); \
                _out_ = capture_take(c); \
                if (_r_ != 0 || _out_[0] != '\0') \
                        fail_msg("parse failed (%d): %s", _r_, _out_); \
        } while (0)

/* Expects -EINVAL (or `error`) and exactly one line on stderr: the error prefix + `line`. */
static void assert_one_error(Capture *c, int r, int error, const char *line) {
        _cleanup_free_ char *out = capture_take(c), *expected = NULL;

        assert_true(asprintf(&expected, "%s%s\n", prefix, line) >= 0);
        if (r != error || strcmp(out, expected) != 0)
                fail_msg("got %d and\n%s\nexpected %d and\n%s", r, out, error, expected);
}

#define PARSE_FAILS(c, line, ...) \
        do { \
                Options _o_ = {.verbosity = 4242}; \
                int _r_ = PARSE(&_o_, __VA_ARGS__); \
                assert_one_error(c, _r_, -EINVAL, line); \
                assert_int_equal(_o_.verbosity, 4242); /* ret untouched */ \
        } while (0)

static void assert_defaults_except_command(const Options *o) {
        assert_null(o->reap_pod_uid);
        assert_string_equal(o->root_dir, "/var/lib/kubelet");
        assert_string_equal(o->pod_logs_dir, "/var/log/pods");
        assert_string_equal(o->container_logs_dir, "/var/log/containers");
        assert_string_equal(o->cgroup_root, "/sys/fs/cgroup");
        assert_string_equal(o->kubepods_cgroup, "kubepods");
        assert_int_equal(o->cgroup_driver, CGFS_DRIVER_AUTO);
        assert_null(o->runtime_endpoint);
        assert_true(o->runtime_request_timeout == 2 * USEC_PER_MINUTE);
        assert_string_equal(o->state_dir, "/var/lib/podreaper");
        assert_int_equal(o->only, KIND_ALL);
        assert_false(o->dry_run);
        assert_int_equal(o->output, OUTPUT_TEXT);
        assert_true(o->orphan_grace == 10 * USEC_PER_MINUTE);
        assert_true(o->require_kubelet);
        assert_int_equal(o->max_deletions, 0);
        assert_true(o->max_orphan_fraction == 0.5);
        assert_true(o->minimum_container_ttl_duration == 0);
        assert_int_equal(o->maximum_dead_containers_per_container, 1);
        assert_int_equal(o->maximum_dead_containers, -1);
        assert_int_equal(o->image_gc_high_threshold, 85);
        assert_int_equal(o->image_gc_low_threshold, 80);
        assert_true(o->minimum_image_ttl_duration == 2 * USEC_PER_MINUTE);
        assert_true(o->image_maximum_gc_age == 0);
        assert_null(o->metrics_file);
        assert_true(o->interval == USEC_PER_MINUTE);
        assert_true(o->check_min_age == 0); /* twice orphan-grace */
        assert_null(o->proc_cgroups);
        assert_int_equal(o->verbosity, 0);
}

/* The values of full.conf, which the every-flag tests set too. */
static void assert_full(const Options *o) {
        assert_string_equal(o->root_dir, "/srv/kubelet");
        assert_string_equal(o->pod_logs_dir, "/srv/log/pods");
        assert_string_equal(o->container_logs_dir, "/srv/log/containers");
        assert_string_equal(o->cgroup_root, "/sys/fs/cgroup/unified");
        assert_string_equal(o->kubepods_cgroup, "custom/kubepods");
        assert_int_equal(o->cgroup_driver, CGFS_DRIVER_CGROUPFS);
        assert_string_equal(o->runtime_endpoint, "unix:///run/containerd/containerd.sock");
        assert_true(o->runtime_request_timeout == 30 * USEC_PER_SEC);
        assert_string_equal(o->state_dir, "/srv/podreaper");
        assert_int_equal(o->only, KIND_POD_DIRS | KIND_CGROUPS | KIND_LOGS);
        assert_true(o->dry_run);
        assert_int_equal(o->output, OUTPUT_JSON);
        assert_true(o->orphan_grace == 90 * USEC_PER_MINUTE);
        assert_false(o->require_kubelet);
        assert_int_equal(o->max_deletions, 50);
        assert_true(o->max_orphan_fraction == 0.25);
        assert_true(o->minimum_container_ttl_duration == USEC_PER_MINUTE);
        assert_int_equal(o->maximum_dead_containers_per_container, 2);
        assert_int_equal(o->maximum_dead_containers, 100);
        assert_int_equal(o->image_gc_high_threshold, 90);
        assert_int_equal(o->image_gc_low_threshold, 70);
        assert_true(o->minimum_image_ttl_duration == 5 * USEC_PER_MINUTE);
        assert_true(o->image_maximum_gc_age == 168 * USEC_PER_HOUR);
        assert_string_equal(o->metrics_file, "/srv/metrics/podreaper.prom");
        assert_true(o->interval == 5 * USEC_PER_MINUTE);
        assert_true(o->check_min_age == 45 * USEC_PER_MINUTE);
        assert_string_equal(o->proc_cgroups, "/srv/proc/cgroups");
        assert_int_equal(o->verbosity, 1);
}

/* ---- defaults, flags, commands ---------------------------------------------------------------- */

static void test_defaults(void **state) {
        Options o;

        PARSE_OK(*state, &o, "run", "--config", "/dev/null");
        assert_int_equal(o.command, COMMAND_RUN);
        assert_string_equal(o.config_path, "/dev/null");
        assert_defaults_except_command(&o);
        options_done(&o);
}

static void test_default_config_file_optional(void **state) {
        struct stat st;
        Options o;

        if (stat(DEFAULT_CONFIG_PATH, &st) >= 0)
                skip(); /* this machine has one: the test cannot know its contents */
        PARSE_OK(*state, &o, "plan");
        assert_int_equal(o.command, COMMAND_PLAN);
        assert_null(o.config_path);
        assert_defaults_except_command(&o);
        options_done(&o);
}

static void test_every_flag_separate_value(void **state) {
        Options o;

        PARSE_OK(
                *state,
                &o,
                "--config",
                "/dev/null",
                "--root-dir",
                "/srv/kubelet",
                "--pod-logs-dir",
                "/srv/log/pods",
                "--container-logs-dir",
                "/srv/log/containers",
                "--cgroup-root",
                "/sys/fs/cgroup/unified",
                "--kubepods-cgroup",
                "custom/kubepods",
                "--cgroup-driver",
                "cgroupfs",
                "--container-runtime-endpoint",
                "unix:///run/containerd/containerd.sock",
                "--runtime-request-timeout",
                "30s",
                "--state-dir",
                "/srv/podreaper",
                "--only",
                "pod-dirs,cgroups,logs",
                "--dry-run",
                "--output",
                "json",
                "--orphan-grace",
                "1h30m",
                "--require-kubelet=false",
                "--max-deletions",
                "50",
                "--max-orphan-fraction",
                "0.25",
                "--minimum-container-ttl-duration",
                "1m",
                "--maximum-dead-containers-per-container",
                "2",
                "--maximum-dead-containers",
                "100",
                "--image-gc-high-threshold",
                "90",
                "--image-gc-low-threshold",
                "70",
                "--minimum-image-ttl-duration",
                "5m",
                "--image-maximum-gc-age",
                "168h",
                "--metrics-file",
                "/srv/metrics/podreaper.prom",
                "--interval",
                "5m",
                "--check-min-age",
                "45m",
                "--proc-cgroups",
                "/srv/proc/cgroups",
                "--verbose",
                "daemon");
        assert_int_equal(o.command, COMMAND_DAEMON);
        assert_full(&o);
        options_done(&o);
}

static void test_every_flag_equals_value(void **state) {
        Options o;

        PARSE_OK(
                *state,
                &o,
                "daemon",
                "--config=/dev/null",
                "--root-dir=/srv/kubelet",
                "--pod-logs-dir=/srv/log/pods",
                "--container-logs-dir=/srv/log/containers",
                "--cgroup-root=/sys/fs/cgroup/unified",
                "--kubepods-cgroup=custom/kubepods",
                "--cgroup-driver=cgroupfs",
                "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
                "--runtime-request-timeout=30s",
                "--state-dir=/srv/podreaper",
                "--only=pod-dirs,cgroups,logs",
                "--dry-run=true",
                "--output=json",
                "--orphan-grace=1h30m",
                "--require-kubelet=false",
                "--max-deletions=50",
                "--max-orphan-fraction=0.25",
                "--minimum-container-ttl-duration=1m",
                "--maximum-dead-containers-per-container=2",
                "--maximum-dead-containers=100",
                "--image-gc-high-threshold=90",
                "--image-gc-low-threshold=70",
                "--minimum-image-ttl-duration=5m",
                "--image-maximum-gc-age=168h",
                "--metrics-file=/srv/metrics/podreaper.prom",
                "--interval=5m",
                "--check-min-age=45m",
                "--proc-cgroups=//srv/proc/cgroups/",
                "-v");
        assert_int_equal(o.command, COMMAND_DAEMON);
        assert_full(&o);
        options_done(&o);
}

static void test_commands(void **state) {
        static const struct {
                const char *arg;
                Command command;
        } cases[] = {
                {"plan", COMMAND_PLAN},
                {"run", COMMAND_RUN},
                {"daemon", COMMAND_DAEMON},
                {"check", COMMAND_CHECK},
                {"version", COMMAND_VERSION},
                {"help", COMMAND_HELP},
        };
        Options o;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                PARSE_OK(*state, &o, "--config", "/dev/null", cases[i].arg);
                assert_int_equal(o.command, cases[i].command);
                assert_null(o.reap_pod_uid);
                options_done(&o);
        }

        PARSE_OK(*state, &o, "reap-pod", UID, "--config", "/dev/null");
        assert_int_equal(o.command, COMMAND_REAP_POD);
        assert_string_equal(o.reap_pod_uid, UID);
        options_done(&o);

        /* A static pod's uid; and options between the command and its UID. */
        PARSE_OK(*state, &o, "reap-pod", "--dry-run", STATIC_UID, "--config=/dev/null");
        assert_string_equal(o.reap_pod_uid, STATIC_UID);
        assert_true(o.dry_run);
        options_done(&o);
}

static void test_options_after_command(void **state) {
        Options o;

        PARSE_OK(*state, &o, "run", "--root-dir", "/srv/kubelet", "--config", "/dev/null", "-q");
        assert_int_equal(o.command, COMMAND_RUN);
        assert_string_equal(o.root_dir, "/srv/kubelet");
        assert_int_equal(o.verbosity, -1);
        options_done(&o);

        PARSE_OK(*state, &o, "--only", "logs", "plan", "--output=json", "--config=/dev/null");
        assert_int_equal(o.command, COMMAND_PLAN);
        assert_int_equal(o.only, KIND_LOGS);
        assert_int_equal(o.output, OUTPUT_JSON);
        options_done(&o);

        /* "--" ends the options: what follows is positional. */
        PARSE_OK(*state, &o, "--config=/dev/null", "--", "run");
        assert_int_equal(o.command, COMMAND_RUN);
        options_done(&o);
}

static void test_booleans(void **state) {
        Options o;

        PARSE_OK(*state, &o, "run", "--config=/dev/null", "--dry-run", "--require-kubelet");
        assert_true(o.dry_run);
        assert_true(o.require_kubelet);
        options_done(&o);

        PARSE_OK(*state, &o, "run", "--config=/dev/null", "--dry-run=false", "--require-kubelet=false");
        assert_false(o.dry_run);
        assert_false(o.require_kubelet);
        options_done(&o);

        /* The last one wins. */
        PARSE_OK(*state, &o, "run", "--config=/dev/null", "--require-kubelet=false", "--require-kubelet");
        assert_true(o.require_kubelet);
        options_done(&o);
}

static void test_verbosity(void **state) {
        static const struct {
                const char *args[4];
                int verbosity;
        } cases[] = {
                {{"-v"}, 1},
                {{"-v", "-v"}, 2},
                {{"-vv", "--verbose"}, 3},
                {{"-q"}, -1},
                {{"--quiet", "-q"}, -2},
                {{"-vq"}, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *args[8] = {"run", "--config=/dev/null"};
                size_t n = 2;
                Options o;

                for (size_t j = 0; j < ELEMENTSOF(cases[i].args) && cases[i].args[j]; j++)
                        args[n++] = cases[i].args[j];
                args[n] = NULL;
                assert_int_equal(parse_argv_list(&o, args), 0);
                assert_int_equal(o.verbosity, cases[i].verbosity);
                options_done(&o);
        }
        free(capture_take(*state));
}

static void test_only(void **state) {
        static const struct {
                const char *value;
                unsigned mask;
        } cases[] = {
                {"containers", KIND_CONTAINERS},
                {"sandboxes", KIND_SANDBOXES},
                {"logs", KIND_LOGS},
                {"images", KIND_IMAGES},
                {"pod-dirs", KIND_POD_DIRS},
                {"cgroups", KIND_CGROUPS},
                {"cgroups,pod-dirs", KIND_CGROUPS | KIND_POD_DIRS},
                {"logs,logs", KIND_LOGS},
                {"pod-dirs, cgroups", KIND_POD_DIRS | KIND_CGROUPS},
                {"containers,sandboxes,logs,images,pod-dirs,cgroups", KIND_ALL},
        };
        Options o;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                PARSE_OK(*state, &o, "run", "--config=/dev/null", "--only", cases[i].value);
                if (o.only != cases[i].mask)
                        fail_msg("--only %s: 0x%x", cases[i].value, o.only);
                options_done(&o);
        }
}

static void test_values(void **state) {
        Options o;

        /* Paths in their normal form; "0" grace; a fraction of 1; -1 as a separate argument. */
        PARSE_OK(
                *state,
                &o,
                "run",
                "--config=/dev/null",
                "--root-dir",
                "//var//lib/kubelet/",
                "--state-dir=/",
                "--orphan-grace=0",
                "--max-orphan-fraction=1",
                "--maximum-dead-containers-per-container",
                "-1",
                "--maximum-dead-containers",
                "-5", /* the kubelet's "any negative": stored as -1 */
                "--image-gc-high-threshold=100",
                "--image-gc-low-threshold=0",
                "--container-runtime-endpoint=/run/crio/crio.sock",
                "--cgroup-driver=systemd",
                "--kubepods-cgroup=kubepods",
                "--runtime-request-timeout=1.5s",
                "--max-deletions=4294967295");
        assert_string_equal(o.root_dir, "/var/lib/kubelet");
        assert_string_equal(o.state_dir, "/");
        assert_true(o.orphan_grace == 0);
        assert_true(o.max_orphan_fraction == 1.0);
        assert_int_equal(o.maximum_dead_containers_per_container, -1);
        assert_int_equal(o.maximum_dead_containers, -1);
        assert_int_equal(o.image_gc_high_threshold, 100);
        assert_int_equal(o.image_gc_low_threshold, 0);
        assert_string_equal(o.runtime_endpoint, "/run/crio/crio.sock");
        assert_int_equal(o.cgroup_driver, CGFS_DRIVER_SYSTEMD);
        assert_true(o.runtime_request_timeout == 1500 * USEC_PER_MSEC);
        assert_int_equal(o.max_deletions, 4294967295u);
        options_done(&o);

        PARSE_OK(
                *state, &o, "run", "--config=/dev/null", "--container-runtime-endpoint", "unix:/run/x.sock");
        assert_string_equal(o.runtime_endpoint, "unix:/run/x.sock");
        options_done(&o);
}

/* ---- config file ------------------------------------------------------------------------------ */

static void test_config_every_key(void **state) {
        Options o;

        PARSE_OK(*state, &o, "run", "--config", FIXTURE_DIR "full.conf");
        assert_int_equal(o.command, COMMAND_RUN);
        assert_string_equal(o.config_path, FIXTURE_DIR "full.conf");
        assert_full(&o);
        options_done(&o);
}

static void test_config_whitespace_and_comments(void **state) {
        Options o;

        PARSE_OK(*state, &o, "--config=" FIXTURE_DIR "whitespace.conf", "plan");
        assert_string_equal(o.root_dir, "/srv/kubelet");
        assert_true(o.orphan_grace == 5 * USEC_PER_MINUTE);
        /* A '#' inside a value (not after whitespace) is the value's. */
        assert_string_equal(o.state_dir, "/srv/state#1");
        assert_int_equal(o.only, KIND_POD_DIRS | KIND_CGROUPS);
        /* CRLF line ends. */
        assert_string_equal(o.metrics_file, "/srv/m.prom");
        /* The last line without a newline. */
        assert_true(o.interval == 2 * USEC_PER_MINUTE);
        options_done(&o);
}

static void test_flags_win_over_file(void **state) {
        Options o;

        /* The flags stand before and after --config: they win wherever they stand. */
        PARSE_OK(
                *state,
                &o,
                "--orphan-grace=20m",
                "run",
                "--config",
                FIXTURE_DIR "flags-win.conf",
                "--dry-run=false",
                "-q");
        assert_string_equal(o.root_dir, "/srv/kubelet"); /* from the file */
        assert_true(o.orphan_grace == 20 * USEC_PER_MINUTE);
        assert_false(o.dry_run);
        assert_int_equal(o.verbosity, -1); /* -q replaces the file's verbose = true */
        options_done(&o);

        /* Without flags the file's values stand. */
        PARSE_OK(*state, &o, "run", "--config", FIXTURE_DIR "flags-win.conf");
        assert_true(o.orphan_grace == 5 * USEC_PER_MINUTE);
        assert_true(o.dry_run);
        assert_int_equal(o.verbosity, 1);
        options_done(&o);

        /* The last --config wins. */
        PARSE_OK(*state, &o, "run", "--config", FIXTURE_DIR "flags-win.conf", "--config=/dev/null");
        assert_string_equal(o.root_dir, "/var/lib/kubelet");
        options_done(&o);
}

static void test_config_errors(void **state) {
        static const struct {
                const char *fixture;
                const char *line; /* after "tests/data/config/" */
        } cases[] = {
                {"bad-duration.conf",
                 "bad-duration.conf:12: invalid duration for orphan-grace: '10' (expected e.g. 90s, 10m, "
                 "1h30m)"},
                {"unknown-key.conf", "unknown-key.conf:2: unknown key 'reap-everything'"},
                {"config-key.conf", "config-key.conf:3: 'config' cannot be set in a config file"},
                {"no-equals.conf", "no-equals.conf:2: expected 'key = value', got 'orphan-grace 10m'"},
                {"empty-key.conf", "empty-key.conf:1: expected 'key = value', got '= /srv/kubelet'"},
                {"dashed-key.conf",
                 "dashed-key.conf:1: unknown key '--root-dir' (keys are the long option names without "
                 "dashes)"},
                {"bad-bool.conf",
                 "bad-bool.conf:1: invalid boolean for dry-run: 'yes' (expected true or false)"},
                {"relative-path.conf",
                 "relative-path.conf:2: invalid path for root-dir: 'var/lib/kubelet' (must be absolute)"},
                {"help-key.conf", "help-key.conf:1: unknown key 'help'"},
                {"empty-value.conf",
                 "empty-value.conf:1: invalid duration for orphan-grace: '' (expected e.g. 90s, 10m, "
                 "1h30m)"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *line = NULL, *path = NULL;
                Options o = {.verbosity = 4242};
                int r;

                assert_true(asprintf(&line, FIXTURE_DIR "%s", cases[i].line) >= 0);
                assert_true(asprintf(&path, FIXTURE_DIR "%s", cases[i].fixture) >= 0);
                r = PARSE(&o, "run", "--config", path);
                assert_one_error(*state, r, -EINVAL, line);
                assert_int_equal(o.verbosity, 4242);
        }
}

static void test_config_nul_byte(void **state) {
        char path[] = "/tmp/test-options-nul-XXXXXX";
        _cleanup_free_ char *line = NULL;
        Options o;
        int fd, r;

        fd = mkostemp(path, O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "dry-run = true\nroot-dir = /srv\0/x\n", 34), 34);
        assert_int_equal(close(fd), 0);

        r = PARSE(&o, "run", "--config", path);
        assert_true(asprintf(&line, "%s:2: line contains a NUL byte", path) >= 0);
        assert_one_error(*state, r, -EINVAL, line);
        assert_int_equal(unlink(path), 0);
}

static void test_config_unreadable(void **state) {
        Options o;
        int r;

        /* Given with --config and missing: an error with the errno, not silence. */
        r = PARSE(&o, "run", "--config", "/nonexistent/podreaper.conf");
        assert_one_error(
                *state,
                r,
                -ENOENT,
                "cannot read config file /nonexistent/podreaper.conf (--config): No such file or directory");

        r = PARSE(&o, "--config=/", "plan");
        assert_one_error(*state, r, -EISDIR, "cannot read config file / (--config): Is a directory");

        /* Permission denied: only meaningful when not root (root reads anything). */
        if (geteuid() != 0) {
                char path[] = "/tmp/test-options-denied-XXXXXX";
                _cleanup_free_ char *line = NULL;
                int fd = mkostemp(path, O_CLOEXEC);

                assert_true(fd >= 0);
                assert_int_equal(fchmod(fd, 0), 0);
                assert_int_equal(close(fd), 0);
                r = PARSE(&o, "run", "--config", path);
                assert_true(
                        asprintf(&line, "cannot read config file %s (--config): Permission denied", path) >=
                        0);
                assert_one_error(*state, r, -EACCES, line);
                assert_int_equal(unlink(path), 0);
        }

        /* `version` must answer on a node whose config is broken: the file is not read. */
        PARSE_OK(*state, &o, "version", "--config", "/nonexistent/podreaper.conf");
        assert_int_equal(o.command, COMMAND_VERSION);
        options_done(&o);
        PARSE_OK(*state, &o, "version", "--config", FIXTURE_DIR "bad-duration.conf");
        options_done(&o);
}

static void test_config_thresholds(void **state) {
        Options o;

        /* From the file: the line that set the high threshold is named. */
        PARSE_FAILS(
                *state,
                "image-gc-low-threshold 80 (default) must be below image-gc-high-threshold 75 "
                "(" FIXTURE_DIR "thresholds.conf:1)",
                "run",
                "--config",
                FIXTURE_DIR "thresholds.conf");

        /* A flag repairs it: checked only once everything is applied. */
        PARSE_OK(
                *state, &o, "run", "--config", FIXTURE_DIR "thresholds.conf", "--image-gc-low-threshold=60");
        assert_int_equal(o.image_gc_low_threshold, 60);
        assert_int_equal(o.image_gc_high_threshold, 75);
        options_done(&o);

        PARSE_FAILS(
                *state,
                "image-gc-low-threshold 90 (--image-gc-low-threshold) must be below image-gc-high-threshold "
                "85 "
                "(default)",
                "run",
                "--config=/dev/null",
                "--image-gc-low-threshold",
                "90");
        /* Equal is not below (as the kubelet). */
        PARSE_FAILS(
                *state,
                "image-gc-low-threshold 50 (--image-gc-low-threshold) must be below image-gc-high-threshold "
                "50 "
                "(--image-gc-high-threshold)",
                "run",
                "--config=/dev/null",
                "--image-gc-high-threshold=50",
                "--image-gc-low-threshold=50");

        PARSE_FAILS(
                *state,
                "kubepods-cgroup 'custom/kubepods' (" FIXTURE_DIR
                "systemd-slash.conf:2) cannot contain '/' with cgroup-driver systemd (" FIXTURE_DIR
                "systemd-slash.conf:1)",
                "run",
                "--config",
                FIXTURE_DIR "systemd-slash.conf");
        PARSE_OK(
                *state, &o, "run", "--config", FIXTURE_DIR "systemd-slash.conf", "--cgroup-driver=cgroupfs");
        options_done(&o);
}

/* ---- command line errors ---------------------------------------------------------------------- */

static void test_error_unknown_option(void **state) {
        PARSE_FAILS(*state, "unknown option '--bogus', see 'podreaper --help'", "run", "--bogus");
        PARSE_FAILS(*state, "unknown option '--bogus', see 'podreaper --help'", "--bogus=1", "run");
        PARSE_FAILS(*state, "unknown option '-x', see 'podreaper --help'", "-x", "run");
        PARSE_FAILS(*state, "unknown option '-x' in '-vxq', see 'podreaper --help'", "run", "-vxq");
        /* The long name only: "--root" is no abbreviation of --root-dir. */
        PARSE_FAILS(*state, "unknown option '--root', see 'podreaper --help'", "run", "--root", "/x");
        PARSE_FAILS(*state, "option --verbose takes no value", "run", "--verbose=2");
        PARSE_FAILS(*state, "option --help takes no value", "run", "--help=yes");
}

static void test_error_missing_value(void **state) {
        PARSE_FAILS(*state, "option --root-dir needs a value, see 'podreaper --help'", "run", "--root-dir");
        PARSE_FAILS(*state, "option --config needs a value, see 'podreaper --help'", "run", "--config");
}

static void test_error_commands(void **state) {
        PARSE_FAILS(*state, "unknown command 'reap', see 'podreaper --help'", "reap");
        PARSE_FAILS(*state, "unknown command 'RUN', see 'podreaper --help'", "RUN");
        PARSE_FAILS(
                *state,
                "missing command (plan, run, daemon, check, reap-pod UID, version), see 'podreaper --help'",
                "--config=/dev/null");
        PARSE_FAILS(
                *state,
                "unexpected argument 'plan' after the command, see 'podreaper --help'",
                "run",
                "plan");
        PARSE_FAILS(
                *state,
                "unexpected argument '" UID "' after the command, see 'podreaper --help'",
                "reap-pod",
                UID,
                UID);
        PARSE_FAILS(
                *state, "unexpected argument 'x' after the command, see 'podreaper --help'", "version", "x");
        PARSE_FAILS(*state, "reap-pod needs the pod UID: podreaper reap-pod UID", "reap-pod", "--dry-run");
        PARSE_FAILS(
                *state,
                "invalid pod UID for reap-pod: '../../etc' (expected a lowercase UUID such as "
                "0f5a2c1e-9b1d-4c3e-8f7a-6d5e4c3b2a10, or 32 hex digits for a static pod)",
                "reap-pod",
                "../../etc");
        PARSE_FAILS(
                *state,
                "invalid pod UID for reap-pod: '0F5A2C1E-9B1D-4C3E-8F7A-6D5E4C3B2A10' (expected a lowercase "
                "UUID "
                "such as 0f5a2c1e-9b1d-4c3e-8f7a-6d5e4c3b2a10, or 32 hex digits for a static pod)",
                "reap-pod",
                "0F5A2C1E-9B1D-4C3E-8F7A-6D5E4C3B2A10");
        /* A boolean flag never takes the next argument, and the error says how to write it. */
        PARSE_FAILS(
                *state,
                "unknown command 'false' (a boolean is set as --require-kubelet=false), see 'podreaper "
                "--help'",
                "--require-kubelet",
                "false",
                "run");
}

static void test_error_values(void **state) {
        static const struct {
                const char *flag;
                const char *value;
                const char *line;
        } cases[] = {
                {"--orphan-grace",
                 "10",
                 "invalid duration for --orphan-grace: '10' (expected e.g. 90s, 10m, 1h30m)"},
                {"--orphan-grace",
                 "-5m",
                 "invalid duration for --orphan-grace: '-5m' (expected e.g. 90s, 10m, 1h30m)"},
                {"--interval",
                 "99999999999h",
                 "invalid duration for --interval: '99999999999h' (too large)"},
                {"--interval", "0", "invalid duration for --interval: '0' (must be more than 0)"},
                {"--runtime-request-timeout",
                 "0s",
                 "invalid duration for --runtime-request-timeout: '0s' (must be more than 0)"},
                /* 0 would report an orphan the moment a volume is still being unmounted. */
                {"--check-min-age", "0", "invalid duration for --check-min-age: '0' (must be more than 0)"},
                {"--check-min-age",
                 "20",
                 "invalid duration for --check-min-age: '20' (expected e.g. 90s, 10m, 1h30m)"},
                {"--proc-cgroups",
                 "proc/cgroups",
                 "invalid path for --proc-cgroups: 'proc/cgroups' (must be absolute)"},
                {"--image-gc-high-threshold",
                 "101",
                 "invalid percentage for --image-gc-high-threshold: '101' (must be from 0 to 100)"},
                {"--image-gc-low-threshold",
                 "80%",
                 "invalid percentage for --image-gc-low-threshold: '80%' (expected a whole number from 0 to "
                 "100)"},
                {"--max-orphan-fraction",
                 "1.5",
                 "invalid fraction for --max-orphan-fraction: '1.5' (must be from 0 to 1)"},
                {"--max-orphan-fraction",
                 "50%",
                 "invalid fraction for --max-orphan-fraction: '50%' (expected a number from 0 to 1, e.g. "
                 "0.5)"},
                {"--max-deletions",
                 "-1",
                 "invalid number for --max-deletions: '-1' (expected a whole number >= 0)"},
                {"--max-deletions",
                 "4294967296",
                 "invalid number for --max-deletions: '4294967296' (too large)"},
                {"--maximum-dead-containers",
                 "1.5",
                 "invalid number for --maximum-dead-containers: '1.5' (expected a whole number, negative = "
                 "unlimited)"},
                {"--maximum-dead-containers-per-container",
                 "one",
                 "invalid number for --maximum-dead-containers-per-container: 'one' (expected a whole "
                 "number, negative = unlimited)"},
                {"--output", "yaml", "invalid output format for --output: 'yaml' (expected text or json)"},
                {"--cgroup-driver",
                 "cgroupv2",
                 "invalid cgroup driver for --cgroup-driver: 'cgroupv2' (expected auto, cgroupfs or "
                 "systemd)"},
                {"--only",
                 "",
                 "invalid kind list for --only: '' (empty kind; expected containers, sandboxes, logs, "
                 "images, pod-dirs, cgroups)"},
                {"--only",
                 "logs,,cgroups",
                 "invalid kind list for --only: 'logs,,cgroups' (empty kind; expected containers, "
                 "sandboxes, logs, images, pod-dirs, cgroups)"},
                {"--only",
                 "logs,volumes",
                 "invalid kind list for --only: 'logs,volumes' (unknown kind 'volumes'; expected "
                 "containers, sandboxes, logs, images, pod-dirs, cgroups)"},
                {"--root-dir",
                 "var/lib/kubelet",
                 "invalid path for --root-dir: 'var/lib/kubelet' (must be absolute)"},
                {"--state-dir", "", "invalid path for --state-dir: '' (must be absolute)"},
                {"--pod-logs-dir",
                 "/var/log/../pods",
                 "invalid path for --pod-logs-dir: '/var/log/../pods' (must not contain '.' or '..')"},
                {"--container-logs-dir",
                 "/var/log/./containers",
                 "invalid path for --container-logs-dir: '/var/log/./containers' (must not contain '.' or "
                 "'..')"},
                {"--cgroup-root",
                 "sys/fs/cgroup",
                 "invalid path for --cgroup-root: 'sys/fs/cgroup' (must be absolute)"},
                {"--metrics-file",
                 "metrics.prom",
                 "invalid path for --metrics-file: 'metrics.prom' (must be absolute)"},
                {"--config", "", "invalid path for --config: '' (empty)"},
                {"--kubepods-cgroup",
                 "/kubepods",
                 "invalid cgroup name for --kubepods-cgroup: '/kubepods' (expected a relative cgroup path "
                 "such as kubepods)"},
                {"--kubepods-cgroup",
                 "../x",
                 "invalid cgroup name for --kubepods-cgroup: '../x' (expected a relative cgroup path such "
                 "as kubepods)"},
                {"--container-runtime-endpoint",
                 "tcp://10.0.0.1:1234",
                 "invalid endpoint for --container-runtime-endpoint: 'tcp://10.0.0.1:1234' (expected "
                 "unix:///path/to/socket or an absolute socket path)"},
                {"--container-runtime-endpoint",
                 "unix://run/x.sock",
                 "invalid endpoint for --container-runtime-endpoint: 'unix://run/x.sock' (expected "
                 "unix:///path/to/socket or an absolute socket path)"},
                {"--container-runtime-endpoint",
                 "/run/"
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaa.sock",
                 "invalid endpoint for --container-runtime-endpoint: "
                 "'/run/"
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaa.sock' (socket path too long)"},
                {"--dry-run", "yes", "invalid boolean for --dry-run: 'yes' (expected true or false)"},
                {"--require-kubelet",
                 "",
                 "invalid boolean for --require-kubelet: '' (expected true or false)"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *joined = NULL;
                Options o = {.verbosity = 4242};
                int r;

                /* Both spellings give the same line (booleans only take the '=' one). */
                if (strcmp(cases[i].flag, "--dry-run") != 0 &&
                    strcmp(cases[i].flag, "--require-kubelet") != 0) {
                        r = PARSE(&o, "run", "--config=/dev/null", cases[i].flag, cases[i].value);
                        assert_one_error(*state, r, -EINVAL, cases[i].line);
                }
                assert_true(asprintf(&joined, "%s=%s", cases[i].flag, cases[i].value) >= 0);
                r = PARSE(&o, joined, "--config=/dev/null", "run");
                assert_one_error(*state, r, -EINVAL, cases[i].line);
                assert_int_equal(o.verbosity, 4242);
        }
}

static void test_error_control_characters_quoted(void **state) {
        /* A value with a newline must not make two log lines. */
        PARSE_FAILS(
                *state,
                "invalid duration for --orphan-grace: '10m?rm -rf /' (expected e.g. 90s, 10m, 1h30m)",
                "run",
                "--config=/dev/null",
                "--orphan-grace=10m\nrm -rf /");
}

/* ---- options_set, help, kinds ----------------------------------------------------------------- */

static void test_options_set(void **state) {
        Options o;
        int r;

        PARSE_OK(*state, &o, "run", "--config=/dev/null");
        assert_int_equal(options_set(&o, "orphan-grace", "15m", "/etc/podreaper/podreaper.conf:3"), 0);
        assert_true(o.orphan_grace == 15 * USEC_PER_MINUTE);
        assert_int_equal(options_set(&o, "root-dir", "/srv/k", "--root-dir"), 0);
        assert_string_equal(o.root_dir, "/srv/k");
        assert_int_equal(options_set(&o, "verbose", "true", "x.conf:1"), 0);
        assert_int_equal(o.verbosity, 1);
        assert_int_equal(options_set(&o, "quiet", "true", "x.conf:2"), 0);
        assert_int_equal(o.verbosity, -1);
        assert_int_equal(options_set(&o, "verbose", "false", "x.conf:3"), 0);
        assert_int_equal(o.verbosity, -1);
        assert_int_equal(options_set(&o, "quiet", "false", "x.conf:4"), 0);
        assert_int_equal(o.verbosity, 0);
        free(capture_take(*state));

        r = options_set(&o, "orphan-grace", "10", "/etc/podreaper/podreaper.conf:12");
        assert_one_error(
                *state,
                r,
                -EINVAL,
                "/etc/podreaper/podreaper.conf:12: invalid duration for orphan-grace: '10' (expected e.g. "
                "90s, "
                "10m, 1h30m)");
        assert_true(o.orphan_grace == 15 * USEC_PER_MINUTE); /* unchanged */
        r = options_set(&o, "no-such-key", "1", "/etc/podreaper/podreaper.conf:1");
        assert_one_error(*state, r, -EINVAL, "/etc/podreaper/podreaper.conf:1: unknown key 'no-such-key'");
        r = options_set(&o, "config", "/x", "/etc/podreaper/podreaper.conf:2");
        assert_one_error(
                *state,
                r,
                -EINVAL,
                "/etc/podreaper/podreaper.conf:2: 'config' cannot be set in a config file");
        options_done(&o);
        options_done(&o); /* twice is fine */
        options_done(NULL);
}

static void test_help(void **state) {
        Options o;

        PARSE_OK(*state, &o, "--help");
        assert_int_equal(o.command, COMMAND_HELP);
        options_done(&o);
        PARSE_OK(*state, &o, "run", "-h");
        assert_int_equal(o.command, COMMAND_HELP);
        options_done(&o);
        PARSE_OK(*state, &o, "help");
        assert_int_equal(o.command, COMMAND_HELP);
        options_done(&o);

        /* As getopt: --help stops the parse, so what follows is not looked at, nor the config. */
        PARSE_OK(*state, &o, "--config=/nonexistent", "--help", "--bogus", "nonsense");
        assert_int_equal(o.command, COMMAND_HELP);
        options_done(&o);
        PARSE_OK(*state, &o, "-vh");
        assert_int_equal(o.command, COMMAND_HELP);
        options_done(&o);
        /* What stands before it is. */
        PARSE_FAILS(*state, "unknown option '--bogus', see 'podreaper --help'", "--bogus", "--help");
}

static void test_help_text(void **state) {
        static const char *const expected[] = {
                "Usage: podreaper [OPTIONS] COMMAND\n",
                "  plan ",
                "  run ",
                "  daemon ",
                "  check ",
                "  reap-pod UID ",
                "  version ",
                "  --config PATH ",
                "[/etc/podreaper/podreaper.conf]\n",
                "  --root-dir PATH ",
                "[/var/lib/kubelet]\n",
                "  --pod-logs-dir PATH ",
                "[/var/log/pods]\n",
                "  --container-logs-dir PATH ",
                "[/var/log/containers]\n",
                "  --cgroup-root PATH ",
                "[/sys/fs/cgroup]\n",
                "  --kubepods-cgroup NAME ",
                "[kubepods]\n",
                "  --cgroup-driver auto|cgroupfs|systemd ",
                "[auto]\n",
                "  --container-runtime-endpoint ENDPOINT ",
                "  --runtime-request-timeout DURATION ",
                "[2m]\n",
                "  --state-dir PATH ",
                "[/var/lib/podreaper]\n",
                "  --only KIND,... ",
                "  --dry-run ",
                "  --output text|json ",
                "[text]\n",
                "  --orphan-grace DURATION ",
                "[10m]\n",
                "  --require-kubelet=true|false ",
                "[true]\n",
                "  --max-deletions N ",
                "[0]\n",
                "  --max-orphan-fraction F ",
                "[0.5]\n",
                "  --minimum-container-ttl-duration DURATION ",
                "[0s]\n",
                "  --maximum-dead-containers-per-container N ",
                "[1]\n",
                "  --maximum-dead-containers N ",
                "[-1]\n",
                "  --image-gc-high-threshold PERCENT ",
                "[85]\n",
                "  --image-gc-low-threshold PERCENT ",
                "[80]\n",
                "  --minimum-image-ttl-duration DURATION ",
                "  --image-maximum-gc-age DURATION ",
                "  --metrics-file PATH ",
                "[none]\n",
                "  --interval DURATION ",
                "[1m]\n",
                "  --check-min-age DURATION ",
                "[2 x orphan-grace]\n",
                "  --proc-cgroups PATH ",
                "[/proc/cgroups]\n",
                "  -v, --verbose ",
                "  -q, --quiet ",
                "  -h, --help ",
                "containers, sandboxes, logs, images, pod-dirs, cgroups",
                "75 another run holds the lock",
        };
        char path[] = "/tmp/test-options-help-XXXXXX";
        _cleanup_free_ char *out = NULL;
        int fd, saved;
        size_t lines = 0;

        (void) state;
        fd = mkostemp(path, O_CLOEXEC);
        assert_true(fd >= 0);
        (void) unlink(path);
        fflush(stdout);
        saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        assert_true(saved >= 0);
        assert_true(dup2(fd, STDOUT_FILENO) >= 0);
        options_help();
        fflush(stdout);
        assert_true(dup2(saved, STDOUT_FILENO) >= 0);
        (void) close(saved);
        out = fd_read_all(fd);
        (void) close(fd);
        assert_non_null(out);

        for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                if (!strstr(out, expected[i]))
                        fail_msg("help lacks '%s':\n%s", expected[i], out);
        /* Short: one screen, and lines that fit a terminal. */
        for (char *l = out, *e; *l; l = e + 1) {
                e = strchrnul(l, '\n');
                if (e - l > 90)
                        fail_msg("help line of %td columns: %.*s", e - l, (int) (e - l), l);
                lines++;
                if (!*e)
                        break;
        }
        assert_true(lines <= 50);
}

static void test_reap_kind_to_string(void **state) {
        (void) state;
        assert_string_equal(reap_kind_to_string(KIND_CONTAINERS), "containers");
        assert_string_equal(reap_kind_to_string(KIND_SANDBOXES), "sandboxes");
        assert_string_equal(reap_kind_to_string(KIND_LOGS), "logs");
        assert_string_equal(reap_kind_to_string(KIND_IMAGES), "images");
        assert_string_equal(reap_kind_to_string(KIND_POD_DIRS), "pod-dirs");
        assert_string_equal(reap_kind_to_string(KIND_CGROUPS), "cgroups");
        assert_null(reap_kind_to_string(KIND_ALL));
        assert_null(reap_kind_to_string(0));
        assert_null(reap_kind_to_string(KIND_LOGS | KIND_IMAGES));
}

#define capture_test(f) cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                capture_test(test_defaults),
                capture_test(test_default_config_file_optional),
                capture_test(test_every_flag_separate_value),
                capture_test(test_every_flag_equals_value),
                capture_test(test_commands),
                capture_test(test_options_after_command),
                capture_test(test_booleans),
                capture_test(test_verbosity),
                capture_test(test_only),
                capture_test(test_values),
                capture_test(test_config_every_key),
                capture_test(test_config_whitespace_and_comments),
                capture_test(test_flags_win_over_file),
                capture_test(test_config_errors),
                capture_test(test_config_nul_byte),
                capture_test(test_config_unreadable),
                capture_test(test_config_thresholds),
                capture_test(test_error_unknown_option),
                capture_test(test_error_missing_value),
                capture_test(test_error_commands),
                capture_test(test_error_values),
                capture_test(test_error_control_characters_quoted),
                capture_test(test_options_set),
                capture_test(test_help),
                capture_test(test_help_text),
                cmocka_unit_test(test_reap_kind_to_string),
        };

        (void) snprintf(prefix, sizeof(prefix), "%s: error: ", program_invocation_short_name);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
