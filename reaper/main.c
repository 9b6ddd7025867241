/* SPDX-License-Identifier: MIT */
/*
 * podreaper: one pass is lock → snapshot (cgroups, then CRI and the kubelet, then the disk) →
 * plan → act → report → save state → unlock (DESIGN §3). The commands differ only in what they
 * do with the plan: plan prints it, run and reap-pod act on it, daemon runs a pass every
 * --interval under systemd's notify protocol, check turns it into node-problem-detector's one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "cgroupfs/cgroupfs.h"
#include "cri/cri.h"
#include "reaper/act.h"
#include "reaper/gather.h"
#include "reaper/metrics.h"
#include "reaper/options.h"
#include "reaper/plan.h"
#include "reaper/report.h"
#include "reaper/state.h"
#include "util/log.h"
#include "util/strutil.h"

/* Exit codes of the CLI contract (DESIGN §4). */
enum {
        EXIT_DONE = 0,
        EXIT_ACTIONS_FAILED = 1,
        EXIT_NOT_READY = 2,
        EXIT_LOCKED = 75,
};

/* node-problem-detector's custom plugin statuses. */
enum {
        CHECK_OK = 0,
        CHECK_PROBLEM = 1,
        CHECK_UNKNOWN = 2,
};

#define POD_UID_LABEL "io.kubernetes.pod.uid"

/* The daemon's STATUS= line: systemctl status shows one line; keep it about that long. */
#define STATUS_MAX 200

/* Set by the daemon's signal handlers: act_run() reads stop_requested between actions, the waits
 * wake on the self-pipe. Global because a signal handler reaches nothing else. */
static volatile sig_atomic_t stop_requested = 0; /* the signal number */
static volatile sig_atomic_t reload_requested = 0;
static int wake_fd = -EBADF; /* the self-pipe's write end */

/* WATCHDOG_USEC from the service manager (0: none), and when we last said we are alive. */
static usec_t watchdog_usec = 0;
static usec_t watchdog_last = 0;

static usec_t now_usec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static usec_t usec_add(usec_t a, usec_t b) {
        return a > USEC_INFINITY - b ? USEC_INFINITY : a + b;
}

/* sd_watchdog_enabled(3) asks for WATCHDOG=1 at least every WATCHDOG_USEC/2; more often than every
 * quarter would only cost datagrams. A no-op without a watchdog, and sd_notify() is one without
 * NOTIFY_SOCKET (not under systemd). */
static void watchdog_ping(void) {
        usec_t n;

        if (watchdog_usec == 0)
                return;
        n = now_usec(CLOCK_MONOTONIC);
        if (watchdog_last != 0 && n - watchdog_last < watchdog_usec / 4)
                return;
        (void) sd_notify(false, "WATCHDOG=1");
        watchdog_last = n;
}

/* Control characters would end an sd_notify assignment or an NPD line early: spaces instead. */
static void one_line(char *s) {
        for (char *c = s; *c; c++)
                if ((unsigned char) *c < ' ' || *c == 0x7f)
                        *c = ' ';
}

/* Cuts s to at most max bytes, never inside a UTF-8 sequence, and without trailing separators. */
static void truncate_utf8(char *s, size_t max) {
        size_t n = strlen(s);

        if (n > max) {
                n = max;
                /* s[n] starts the first character that does not fit, unless it continues one. */
                while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                        n--;
        }
        while (n > 0 && strchr(" ;,:", s[n - 1]))
                n--;
        s[n] = '\0';
}

static void set_log_level(const Options *o) {
        if (o->verbosity < 0)
                log_set_max_level(LOG_WARNING);
        else if (o->verbosity > 0)
                log_set_max_level(LOG_DEBUG);
        else
                log_set_max_level(LOG_INFO);
}

/* Ages in messages are whole seconds: "25m3s", not "25m3s417ms". */
static const char *format_age(char *buf, size_t size, usec_t d) {
        if (d >= USEC_PER_SEC)
                d -= d % USEC_PER_SEC;
        return format_duration(buf, size, d);
}

/* ---- one pass ----------------------------------------------------------------------------------- */

typedef struct Pass {
        const Options *options;
        CgfsHierarchies hierarchies;
        CriClient *cri;
        char *cri_error;
        Snapshot snapshot;
        State saved;
        Plan plan;
        size_t n_failed;
} Pass;

static void pass_done(Pass *p) {
        plan_done(&p->plan);
        state_done(&p->saved);
        snapshot_done(&p->snapshot);
        cri_client_free(p->cri);
        free(p->cri_error);
        cgfs_hierarchies_done(&p->hierarchies);
}

/* The actor's runtime re-check: does the runtime have a sandbox or container of uid right now? */
static int runtime_knows_uid(void *userdata, const char *uid) {
        CriClient *cri = userdata;
        const char *const labels[] = {POD_UID_LABEL, uid, NULL};
        CriStatus status = {};
        int r;

        /* Every action begins here: that is progress, so a pass of many slow actions (each cgroup
         * destroy may wait seconds) is not mistaken for a hang by the service's watchdog. */
        watchdog_ping();

        if (!cri)
                return -ENOTCONN;

        CriPodSandboxList sandboxes = {};
        r = cri_list_pod_sandboxes(
                cri, &(CriPodSandboxFilter){.state = -1, .label_selector = labels}, &sandboxes, &status);
        cri_status_done(&status);
        if (r < 0)
                return r;
        size_t n = sandboxes.n;
        cri_pod_sandbox_list_done(&sandboxes);
        if (n > 0)
                return 1;

        CriContainerList containers = {};
        r = cri_list_containers(
                cri, &(CriContainerFilter){.state = -1, .label_selector = labels}, &containers, &status);
        cri_status_done(&status);
        if (r < 0)
                return r;
        n = containers.n;
        cri_container_list_done(&containers);
        return n > 0;
}

static int pass_gather(Pass *p) {
        const Options *o = p->options;
        CriStatus status = {};
        int r;

        /* Cgroups first: a pod created while we read the other sources is then live, not orphaned. */
        r = cgfs_hierarchies_find(NULL, o->cgroup_root, &p->hierarchies);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(
                        r, "Failed to find the cgroup hierarchies under %s: %m", o->cgroup_root);

        /* SIGTERM ends a CRI call in flight too: a wedged runtime would hold a stop for up to
         * --runtime-request-timeout, beyond the unit's TimeoutStopSec. */
        CriOptions cri_options = {.timeout_usec = o->runtime_request_timeout, .cancel = &stop_requested};
        r = cri_connect(o->runtime_endpoint, &cri_options, &p->cri, &status);
        if (r < 0) {
                p->cri_error = strdup(status.message ?: strerror(-r));
                p->cri = NULL;
        }
        cri_status_done(&status);

        r = gather_snapshot(o, &p->hierarchies, p->cri, p->cri_error, &p->snapshot);
        if (r < 0)
                return log_error_errno(r, "Failed to take the node snapshot: %m");

        _cleanup_free_ char *problem = NULL;
        r = state_load(o->state_dir, &p->saved, &problem);
        if (r < 0)
                return log_error_errno(r, "Failed to load the state: %m");
        if (problem)
                log_warning("%s; starting from an empty state (grace periods restart)", problem);
        return 0;
}

static int pass_act(Pass *p) {
        const Options *o = p->options;
        ActContext ctx = {
                .options = o,
                .hierarchies = &p->hierarchies,
                .pod_cgroups = &p->snapshot.pod_cgroups,
                .runtime_knows_uid = runtime_knows_uid,
                .userdata = p->cri,
                .stop = &stop_requested,
                .cri = p->cri,
                .sandbox_image = p->snapshot.sandbox_image,
        };

        /* Crash safety: the marks of what this pass begins to reap reach the disk first, so that a
         * pass killed midway is finished by the next one (DESIGN §2). */
        if (!o->dry_run && p->plan.n_actions > 0) {
                int r = state_save(o->state_dir, &p->plan.state);
                if (r < 0)
                        log_warning_errno(r, "Failed to save the state in %s, ignoring: %m", o->state_dir);
        }

        p->n_failed = act_run(&ctx, &p->plan);
        for (size_t i = 0; i < p->plan.n_actions; i++)
                report_log_action(&p->plan.actions[i]);

        if (stop_requested && !o->dry_run) {
                size_t left = 0;

                for (size_t i = 0; i < p->plan.n_actions; i++)
                        if (p->plan.actions[i].kind != ACTION_SKIP_POD &&
                            p->plan.actions[i].result == RESULT_PLANNED)
                                left++;
                if (left > 0)
                        log_notice("Stopping: %zu actions not acted on, left for the next pass.", left);
        }

        if (o->dry_run)
                return 0;
        int r = state_save(o->state_dir, &p->plan.state);
        if (r < 0)
                /* Not fatal: the next pass sees its orphans as new and waits the grace again. */
                log_warning_errno(r, "Failed to save the state in %s, ignoring: %m", o->state_dir);
        return 0;
}

/* "3 pods reaped, 0 refused, 0 failed": per pod, as the report's summary line counts them (a pod
 * with a failed action is failed, else with a refusal refused, ...). */
static char *pass_summary(const Plan *plan) {
        size_t reaped = 0, refused = 0, failed = 0, skipped = 0, not_acted = 0, n_pod = 0;
        size_t gc_done = 0, gc_failed = 0;
        char *s = NULL;

        /* Runtime GC comes after the pod-level actions, and is counted by action. */
        while (n_pod < plan->n_actions && !action_kind_is_runtime_gc(plan->actions[n_pod].kind))
                n_pod++;
        for (size_t i = n_pod; i < plan->n_actions; i++) {
                gc_done += plan->actions[i].result == RESULT_DONE;
                gc_failed += plan->actions[i].result == RESULT_FAILED;
        }

        for (size_t i = 0, j; i < n_pod; i = j) {
                const char *uid = plan->actions[i].uid;
                bool f = false, r = false, sk = false, planned = false;

                /* The plan lists each pod's actions together. */
                for (j = i; j < n_pod && strcmp(plan->actions[j].uid, uid) == 0; j++) {
                        const Action *a = &plan->actions[j];

                        if (a->kind == ACTION_SKIP_POD)
                                r = true;
                        else if (a->result == RESULT_FAILED)
                                f = true;
                        else if (a->result == RESULT_SKIPPED)
                                sk = true;
                        else if (a->result == RESULT_PLANNED)
                                planned = true;
                }
                if (uid[0] == '\0')
                        continue; /* names that are no pod's */
                if (f)
                        failed++;
                else if (r)
                        refused++;
                else if (sk)
                        skipped++;
                else if (planned)
                        not_acted++;
                else
                        reaped++;
        }

        if (strextendf(
                    &s,
                    "%zu %s reaped, %zu refused, %zu failed",
                    reaped,
                    reaped == 1 ? "pod" : "pods",
                    refused,
                    failed) < 0 ||
            (skipped > 0 && strextendf(&s, ", %zu skipped", skipped) < 0) ||
            (not_acted > 0 && strextendf(&s, ", %zu not acted on", not_acted) < 0) ||
            (n_pod < plan->n_actions &&
             strextendf(&s, "; runtime GC: %zu removed, %zu failed", gc_done, gc_failed) < 0) ||
            (plan->image_gc.problem && strextendf(&s, "; image GC: %s", plan->image_gc.problem) < 0)) {
                free(s);
                return NULL;
        }
        return s;
}

/* --metrics-file after a pass of run (the daemon's passes are runs too): reap-pod and plan never
 * overwrite the regular pass's numbers. The last success outlives failed passes through the file
 * itself, so the oneshot run keeps it as the daemon does. plan NULL: gathering or planning failed,
 * and its series are left out rather than written as 0. Never fatal. */
static void
pass_write_metrics(const Options *o, const Pass *p, const Plan *plan, usec_t started, bool success) {
        _cleanup_free_ CgfsControllerCount *counts = NULL;
        usec_t last_success = 0;
        size_t n_counts = 0;
        int r;

        if (!o->metrics_file || o->command != COMMAND_RUN)
                return;
        r = cgfs_count_cgroups(o->proc_cgroups, &counts, &n_counts);
        if (r < 0)
                log_debug_errno(
                        r,
                        "Failed to read %s, no cgroup counts in the metrics: %m",
                        o->proc_cgroups ?: "/proc/cgroups");
        r = metrics_read_last_success(o->metrics_file, &last_success);
        if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "No last success time in %s, ignoring: %m", o->metrics_file);

        PassMetrics m = {
                .started = started,
                .finished = now_usec(CLOCK_REALTIME),
                .success = success,
                .snapshot = &p->snapshot,
                .plan = plan,
                .cgroup_counts = counts,
                .n_cgroup_counts = n_counts,
        };
        const ImageFs *fs = &p->snapshot.image_fs;
        if (p->snapshot.images.ok && fs->capacity > 0) {
                m.image_fs_known = true;
                m.image_fs_usage_ratio =
                        1.0 - (double) MIN(fs->available, fs->capacity) / (double) fs->capacity;
        }
        r = metrics_write(o->metrics_file, &m, last_success);
        if (r < 0)
                log_warning_errno(r, "Failed to write the metrics file %s, ignoring: %m", o->metrics_file);
}

/* One pass of plan, run, reap-pod or the daemon; returns the exit code. ret_summary (may be NULL)
 * gets one line on what the pass came to, for the daemon's STATUS=. */
static int pass_run(const Options *o, char **ret_summary) {
        _cleanup_close_ int lock_fd = -EBADF;
        bool acting = o->command != COMMAND_PLAN;
        _cleanup_free_ char *summary = NULL;
        usec_t started = now_usec(CLOCK_REALTIME);
        Pass p = {.options = o};
        int r, ret;

        if (acting) {
                int holder = 0;
                lock_fd = state_lock(o->state_dir, &holder);
                if (lock_fd == -EWOULDBLOCK) {
                        if (holder > 0)
                                log_error(
                                        "Another podreaper run (pid %i) holds %s/lock, not starting.",
                                        holder,
                                        o->state_dir);
                        else
                                log_error(
                                        "Another podreaper run holds %s/lock, not starting.", o->state_dir);
                        if (ret_summary)
                                *ret_summary = strdup("skipped, another run holds the lock");
                        return EXIT_LOCKED;
                }
                if (lock_fd < 0) {
                        log_error_errno(lock_fd, "Failed to take the lock in %s: %m", o->state_dir);
                        if (ret_summary)
                                *ret_summary = strdup("failed to take the lock, see the log");
                        return EXIT_NOT_READY;
                }
        }

        r = pass_gather(&p);
        if (r >= 0)
                r = plan_build(&p.snapshot, o, &p.saved, &p.plan);
        if (r < 0) {
                if (r != -ENOMEM && r != -EINVAL)
                        log_error_errno(r, "Failed to plan: %m");
                pass_write_metrics(o, &p, NULL, started, false);
                pass_done(&p);
                if (ret_summary)
                        *ret_summary = strdup("failed, see the log");
                return EXIT_NOT_READY;
        }

        snapshot_drop_runtime_lists(&p.snapshot);

        if (p.plan.pod_level_blocked)
                log_error("No pod-level action this pass: %s", p.plan.blocked_reason);
        if (p.plan.breaker_tripped)
                log_warning("Circuit breaker: %s", p.plan.breaker_reason);
        /* plan's report has the deleted pods; the log names them for what a pass acts on. */
        report_log_deleted(&p.plan, acting);
        /* The kubelet's FreeDiskSpaceFailed warning event. */
        if (p.plan.image_gc.problem)
                log_warning("Image GC: %s", p.plan.image_gc.problem);

        /* plan only prints its report: the log lines are the audit trail of what was done. */
        if (acting)
                (void) pass_act(&p);

        /* The daemon's passes go to the journal as their log lines (one per action and refusal);
         * the whole report every --interval would only repeat them. -v asks for it. */
        if (o->command != COMMAND_DAEMON || o->verbosity > 0)
                report_print(stdout, o, &p.snapshot, &p.plan);
        fflush(stdout);

        if (ret_summary) {
                if (p.plan.pod_level_blocked) {
                        if (asprintf(&summary, "sources not ready: %s", p.plan.blocked_reason ?: "?") < 0)
                                summary = NULL;
                } else
                        summary = pass_summary(&p.plan);
                *ret_summary = TAKE_PTR(summary);
        }

        ret = p.plan.pod_level_blocked ? EXIT_NOT_READY : p.n_failed > 0 ? EXIT_ACTIONS_FAILED : EXIT_DONE;
        pass_write_metrics(o, &p, &p.plan, started, ret == EXIT_DONE);
        pass_done(&p);
        return ret;
}

/* ---- check: a node-problem-detector custom plugin ------------------------------------------------ */

/* NPD keeps this much of a plugin's output (maxOutputLength), and kills it after 5 s (timeout). */
#define CHECK_LINE_MAX 80
#define CHECK_DEADLINE_SEC 4
/* One CRI call may take this long: the runtime lists answer in milliseconds on a node of 110 pods,
 * and gather stops at the first call that fails. */
#define CHECK_CRI_TIMEOUT (2 * USEC_PER_SEC)
/* Memory cgroup ids run out at CGFS_MEMORY_CGROUP_LIMIT (mkdir: ENOSPC); warn from here. */
#define CHECK_CGROUPS_PERCENT 90

/* What check prints when CHECK_DEADLINE_SEC passes first, from the SIGALRM handler. */
static char check_late_line[CHECK_LINE_MAX + 2];
static size_t check_late_len;
static volatile sig_atomic_t check_late_exit = CHECK_UNKNOWN;

static void check_on_deadline(int sig) {
        ssize_t k;

        (void) sig;
        k = write(STDOUT_FILENO, check_late_line, check_late_len);
        (void) k;
        _exit(check_late_exit);
}

static void check_set_late_line(const char *line, int code) {
        size_t n;

        (void) snprintf(check_late_line, sizeof(check_late_line) - 1, "%s", line);
        one_line(check_late_line);
        truncate_utf8(check_late_line, CHECK_LINE_MAX);
        n = strlen(check_late_line);
        check_late_line[n] = '\n';
        check_late_line[n + 1] = '\0';
        check_late_len = n + 1;
        check_late_exit = code;
}

static void check_arm_deadline(void) {
        struct sigaction sa = {.sa_handler = check_on_deadline};
        char line[CHECK_LINE_MAX + 1];

        (void) snprintf(
                line,
                sizeof(line),
                "no answer within %ds: container runtime or kubelet too slow",
                CHECK_DEADLINE_SEC);
        check_set_late_line(line, CHECK_UNKNOWN);
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGALRM, &sa, NULL) < 0)
                log_warning_errno(errno, "Failed to set up the check's deadline, ignoring: %m");
        else
                (void) alarm(CHECK_DEADLINE_SEC);
}

/* The answer is about to be printed: the late line must not follow it. */
static void check_disarm_deadline(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGALRM);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) alarm(0);
}

/* "memory cgroups at 61234 of 65535": *ret_problem from CHECK_CGROUPS_PERCENT of the limit on,
 * else the same words in *ret_note. Neither when /proc/cgroups cannot be read: that alone is no
 * problem of the node. */
static int check_cgroups(const Options *o, char **ret_problem, char **ret_note) {
        _cleanup_free_ CgfsControllerCount *counts = NULL;
        size_t n = 0;
        int r;

        r = cgfs_count_cgroups(o->proc_cgroups, &counts, &n);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning_errno(r, "Failed to read %s, ignoring: %m", o->proc_cgroups ?: "/proc/cgroups");
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                const CgfsControllerCount *c = &counts[i];
                char **ret;

                if (strcmp(c->name, "memory") != 0 || !c->enabled)
                        continue;
                ret = (uint64_t) c->num_cgroups * 100 >=
                                      (uint64_t) CGFS_MEMORY_CGROUP_LIMIT * CHECK_CGROUPS_PERCENT
                              ? ret_problem
                              : ret_note;
                if (asprintf(ret, "memory cgroups at %u of %u", c->num_cgroups, CGFS_MEMORY_CGROUP_LIMIT) <
                    0)
                        return -ENOMEM;
                break;
        }
        return 0;
}

/* The CRI client names the endpoint in every error: "CRI endpoint unix:///run/x.sock: no such
 * socket", gather adds the call: "ListPodSandbox: ListPodSandbox on unix:///run/x.sock: deadline
 * exceeded, ...". In 80 bytes the cause matters more than the path: "no such socket
 * (unix:///run/x.sock)", "ListPodSandbox: deadline exceeded, ... (unix:///run/x.sock)". */
static char *runtime_error_compact(const char *error) {
        static const char *const before[] = {"CRI endpoint ", " on "};
        const char *endpoint = strstr(error, "unix://"), *end, *head_end, *colon;
        size_t head_len;
        char *s;

        if (!endpoint || !(end = strstr(endpoint, ": ")))
                return strdup(error);
        head_end = endpoint;
        for (size_t i = 0; i < ELEMENTSOF(before); i++) {
                size_t l = strlen(before[i]);

                if ((size_t) (endpoint - error) >= l && strncmp(endpoint - l, before[i], l) == 0) {
                        head_end = endpoint - l;
                        break;
                }
        }
        head_len = (size_t) (head_end - error);
        /* "ListPodSandbox: ListPodSandbox": the call once. */
        colon = memmem(error, head_len, ": ", 2);
        if (colon && head_len - (size_t) (colon + 2 - error) == (size_t) (colon - error) &&
            strncmp(colon + 2, error, (size_t) (colon - error)) == 0)
                head_len = (size_t) (colon - error);

        if (asprintf(
                    &s,
                    "%.*s%s%s (%.*s)",
                    (int) head_len,
                    error,
                    head_len > 0 ? ": " : "",
                    end + 2,
                    (int) (end - endpoint),
                    endpoint) < 0)
                return NULL;
        return s;
}

/* Is a pass running right now, holding <state-dir>/lock? Read from /proc/locks so that check never
 * takes the lock itself: a run starting meanwhile would find it held and give up. When it cannot
 * tell, it says yes: check then claims no failure it cannot prove. */
static bool pass_is_running(const char *state_dir) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char id[64];
        size_t size = 0;
        struct stat st;

        if (asprintf(&path, "%s/lock", state_dir) < 0)
                return true;
        if (stat(path, &st) < 0)
                return errno != ENOENT;
        (void) snprintf(
                id,
                sizeof(id),
                "%02x:%02x:%llu",
                major(st.st_dev),
                minor(st.st_dev),
                (unsigned long long) st.st_ino);

        f = fopen("/proc/locks", "re");
        if (!f)
                return true;
        while (getline(&line, &size, f) > 0) {
                char type[16], where[64];

                /* "1: FLOCK  ADVISORY  WRITE 15700 fe:00:10953045 0 EOF"; waiters have "->". */
                if (sscanf(line, "%*s %15s %*s %*s %*d %63s", type, where) == 2 &&
                    strcmp(type, "FLOCK") == 0 && strcmp(where, id) == 0)
                        return true;
        }
        return false;
}

/* Since when uid has been an orphan, as far as the node tells: the later of its last change (dir,
 * cgroups, log dirs) and podreaper's first sighting, when a pass saw it. As the grace: both. */
static usec_t orphan_since(const Snapshot *s, const State *saved, const char *uid) {
        usec_t since = state_orphan_first_seen(saved, uid);

        for (size_t i = 0; i < s->n_pod_dirs; i++)
                if (strcmp(s->pod_dirs[i].uid, uid) == 0)
                        since = MAX(since, s->pod_dirs[i].changed);
        for (size_t i = 0; i < s->pod_cgroups.n; i++)
                if (strcmp(s->pod_cgroups.items[i].uid, uid) == 0)
                        since = MAX(since, (usec_t) s->pod_cgroups.items[i].changed);
        for (size_t i = 0; i < s->n_log_dirs; i++)
                if (s->log_dirs[i].uid && strcmp(s->log_dirs[i].uid, uid) == 0)
                        since = MAX(since, s->log_dirs[i].changed);
        return since;
}

/* Why podreaper keeps an orphan, in a few words. */
static const char *kept_words(const Action *skip) {
        switch (skip->refusal) {
        case REFUSAL_MOUNTED:
                return "volume mounted";
        case REFUSAL_PROCESSES:
                return "processes running";
        case REFUSAL_MAX_DELETIONS:
                return "over max-deletions";
        case REFUSAL_BREAKER:
                return "circuit breaker";
        default:
                return "see podreaper plan";
        }
}

typedef struct KeptCount {
        const char *words;
        size_t n;
} KeptCount;

/* "2 orphaned pods kept: volume mounted (oldest 3h2m)" for the orphans kept longer than the
 * threshold; *ret stays NULL when there are none. `plan` was built without a grace, so that every
 * orphan gets its verdict (reaped or kept, and why) whatever its age: the age is judged here. */
static int check_orphans(const Pass *p, const Plan *plan, usec_t threshold, char **ret) {
        KeptCount kept[8] = {};
        size_t n_kept = 0, n_pods = 0;
        usec_t oldest = 0;
        int running = -1;
        char age[DURATION_MAX_LEN];
        int r;

        for (size_t i = 0, j; i < plan->n_actions; i = j) {
                const char *uid = plan->actions[i].uid, *words = NULL;
                const Action *skip = NULL;
                bool acts = false;
                usec_t since, a;

                for (j = i; j < plan->n_actions && strcmp(plan->actions[j].uid, uid) == 0; j++)
                        if (plan->actions[j].kind == ACTION_SKIP_POD)
                                skip = &plan->actions[j];
                        else
                                acts = true;
                if (uid[0] == '\0')
                        continue; /* names that are no pod's: listed by plan, not a pod kept */

                if (skip)
                        words = kept_words(skip);
                else if (acts && state_orphan_is_reaping(&p->saved, uid)) {
                        /* An earlier pass began removing it and it is still here: that pass failed
                         * (a process that does not die, a file that cannot go) or is running now. */
                        if (running < 0)
                                running = pass_is_running(p->options->state_dir);
                        if (!running)
                                words = "removal failed";
                }
                if (!words)
                        continue;

                since = orphan_since(&p->snapshot, &p->saved, uid);
                a = p->snapshot.now > since ? p->snapshot.now - since : 0;
                if (a < threshold)
                        continue;

                n_pods++;
                oldest = MAX(oldest, a);
                size_t k = 0;
                while (k < n_kept && strcmp(kept[k].words, words) != 0)
                        k++;
                if (k == ELEMENTSOF(kept))
                        continue; /* counted, not named: the line has no room for more anyway */
                if (k == n_kept)
                        kept[n_kept++] = (KeptCount){words, 0};
                kept[k].n++;
        }
        if (n_pods == 0)
                return 0;

        _cleanup_free_ char *s = NULL;
        r = strextendf(&s, "%zu orphaned %s kept: ", n_pods, n_pods == 1 ? "pod" : "pods");
        for (size_t i = 0; r >= 0 && i < n_kept; i++) {
                if (n_kept == 1)
                        r = strextendf(&s, "%s", kept[i].words);
                else
                        r = strextendf(&s, "%s%zu %s", i > 0 ? ", " : "", kept[i].n, kept[i].words);
        }
        if (r >= 0)
                r = strextendf(
                        &s,
                        " (%s %s)",
                        n_pods == 1 ? "for" : "oldest",
                        format_age(age, sizeof(age), oldest));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* One line of at most 80 bytes on stdout; 0 OK, 1 problem, 2 unknown. The problems: orphans that
 * podreaper keeps (or failed to remove) beyond --check-min-age, a cgroup controller close to its
 * limit, an image filesystem image GC cannot bring under its threshold, a ready pod without its pod
 * dir (the deleted-pod rule off); a node it cannot read (runtime unreachable, sources not ready)
 * is unknown. It only reads: no lock, no action, no state written. */
static int check_run(const Options *o) {
        _cleanup_free_ char *cgroups_problem = NULL, *cgroups_note = NULL, *orphans = NULL, *unknown = NULL,
                            *images = NULL, *no_pod_dir = NULL, *line = NULL;
        Options co = *o; /* shallow: the strings stay o's */
        usec_t threshold = o->check_min_age;
        char when[DURATION_MAX_LEN];
        Pass p = {.options = &co};
        Plan no_grace = {};
        int r, ret;

        check_arm_deadline();
        co.runtime_request_timeout = MIN(o->runtime_request_timeout, CHECK_CRI_TIMEOUT);
        if (threshold == 0)
                threshold = o->orphan_grace > USEC_INFINITY / 2 ? USEC_INFINITY : 2 * o->orphan_grace;

        r = check_cgroups(o, &cgroups_problem, &cgroups_note);
        if (r < 0)
                goto oom;
        if (cgroups_problem) {
                _cleanup_free_ char *late = NULL;

                /* Known already: the deadline must not hide it behind "unknown". */
                if (asprintf(&late, "%s; runtime or kubelet too slow to tell more", cgroups_problem) < 0)
                        goto oom;
                check_set_late_line(late, CHECK_PROBLEM);
        }

        /* The sources as a pass sees them, the kubelet's uptime against the real grace included. */
        if (pass_gather(&p) < 0 || plan_build(&p.snapshot, &co, &p.saved, &p.plan) < 0) {
                if (!(unknown = strdup("cannot read the node, see the log")))
                        goto oom;
        } else if (!p.snapshot.cri.ok) {
                _cleanup_free_ char *e = runtime_error_compact(p.snapshot.cri.error ?: "unknown error");

                if (!e || asprintf(&unknown, "runtime unreachable: %s", e) < 0) {
                        unknown = NULL;
                        goto oom;
                }
        } else if (p.plan.pod_level_blocked) {
                if (!(unknown = strdup(p.plan.blocked_reason ?: "sources not ready")))
                        goto oom;
        } else {
                /* A ready pod without its pod dir: --root-dir is wrong or the pods are not the
                 * kubelet's, and the deleted-pod rule is off until that changes. */
                if (p.plan.deleted.rule == DELETED_RULE_OFF_NO_POD_DIR &&
                    asprintf(
                            &no_pod_dir,
                            "deleted-pod GC off: ready pod %s, no pod dir",
                            p.plan.deleted.no_pod_dir_uid ?: "?") < 0) {
                        no_pod_dir = NULL;
                        goto oom;
                }
                /* Every orphan's verdict regardless of its age: check_orphans() judges the age. */
                co.orphan_grace = 0;
                r = plan_build(&p.snapshot, &co, &p.saved, &no_grace);
                if (r >= 0)
                        r = check_orphans(&p, &no_grace, threshold, &orphans);
                plan_done(&no_grace);
                if (r < 0)
                        goto oom;
        }

        /* The kubelet's FreeDiskSpaceFailed: over the high threshold, and image GC cannot free
         * enough. Only from data that was read: "image data not read" is no problem of the node. */
        const ImageGc *ig = &p.plan.image_gc;
        if (ig->ran && ig->problem) {
                char to_free[BYTES_MAX_LEN], freed[BYTES_MAX_LEN];

                if (asprintf(
                            &images,
                            "image fs %u%% (>= %u%%): %s to free, %s freeable",
                            ig->usage_percent,
                            co.image_gc_high_threshold,
                            format_bytes(to_free, sizeof(to_free), ig->bytes_to_free),
                            format_bytes(freed, sizeof(freed), ig->bytes_freed)) < 0) {
                        images = NULL;
                        goto oom;
                }
        }

        if (cgroups_problem || orphans || images || no_pod_dir) {
                ret = CHECK_PROBLEM;
                r = strextendf(&line, "%s", cgroups_problem ?: orphans ?: images ?: no_pod_dir);
                if (r >= 0 && cgroups_problem && orphans)
                        r = strextendf(&line, "; %s", orphans);
                if (r >= 0 && images && (cgroups_problem || orphans))
                        r = strextendf(&line, "; %s", images);
                if (r >= 0 && no_pod_dir && (cgroups_problem || orphans || images))
                        r = strextendf(&line, "; %s", no_pod_dir);
                /* Known problems stand even when the rest of the node could not be read. */
                if (r >= 0 && unknown)
                        r = strextendf(&line, "; %s", unknown);
        } else if (unknown) {
                ret = CHECK_UNKNOWN;
                r = strextendf(&line, "%s", unknown);
        } else {
                ret = CHECK_OK;
                r = strextendf(
                        &line,
                        "no orphaned pod kept beyond %s",
                        format_duration(when, sizeof(when), threshold));
                if (r >= 0 && cgroups_note)
                        r = strextendf(&line, "; %s", cgroups_note);
        }
        if (r < 0)
                goto oom;

        one_line(line);
        truncate_utf8(line, CHECK_LINE_MAX);
        check_disarm_deadline();
        printf("%s\n", line);
        fflush(stdout);
        pass_done(&p);
        return ret;

oom:
        check_disarm_deadline();
        printf("podreaper check: out of memory\n");
        fflush(stdout);
        pass_done(&p);
        return CHECK_UNKNOWN;
}

/* ---- daemon ------------------------------------------------------------------------------------- */

static void daemon_on_signal(int sig) {
        int saved_errno = errno;
        ssize_t k;

        if (sig == SIGHUP)
                reload_requested = 1;
        else
                stop_requested = sig;
        k = write(wake_fd, "x", 1); /* full pipe: a wake-up is pending anyway */
        (void) k;
        errno = saved_errno;
}

/* Handlers rather than a signalfd: act_run() must see SIGTERM between actions, while the pass
 * runs, not only in the waits. SA_RESTART, and every poll loop of the pass retries on EINTR. */
static int daemon_signals_setup(int *ret_wake_read_fd) {
        struct sigaction sa = {.sa_handler = daemon_on_signal, .sa_flags = SA_RESTART};
        static const int signals[] = {SIGTERM, SIGINT, SIGHUP};
        int fds[2];
        sigset_t mask;

        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        wake_fd = fds[1];

        sigemptyset(&sa.sa_mask);
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                if (sigaction(signals[i], &sa, NULL) < 0) {
                        int r = -errno;

                        (void) close(fds[0]);
                        return r;
                }
                sigaddset(&mask, signals[i]);
        }
        /* Whoever started us may have left them blocked. */
        (void) sigprocmask(SIG_UNBLOCK, &mask, NULL);
        *ret_wake_read_fd = fds[0];
        return 0;
}

/* Sleeps until `until` (CLOCK_MONOTONIC) or a signal, telling the watchdog in between. */
static void daemon_wait(int wake_read_fd, usec_t until) {
        for (;;) {
                struct pollfd pfd = {.fd = wake_read_fd, .events = POLLIN};
                usec_t n = now_usec(CLOCK_MONOTONIC), wake = until;
                int timeout_ms;
                char buf[64];

                if (stop_requested || reload_requested || n >= until)
                        return;
                if (watchdog_usec > 0)
                        wake = MIN(wake, watchdog_last + watchdog_usec / 2);
                timeout_ms =
                        wake > n
                                ? (int) MIN((wake - n + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (usec_t) INT_MAX)
                                : 0;
                if (poll(&pfd, 1, timeout_ms) > 0)
                        while (read(wake_read_fd, buf, sizeof(buf)) > 0)
                                ;
                watchdog_ping();
        }
}

/* SIGHUP: the command line again, over the config file as it is now. A bad config keeps the old
 * options: options_parse() has logged why (file:line), and nothing else changes. */
static void daemon_reload(int argc, char *argv[], Options *o) {
        _cleanup_(options_done) Options n = {};

        (void) sd_notifyf(
                false,
                "RELOADING=1\nSTATUS=Reloading the configuration\nMONOTONIC_USEC=%llu",
                (unsigned long long) now_usec(CLOCK_MONOTONIC));

        if (options_parse(argc, argv, &n) < 0)
                log_error("Configuration not reloaded (see above): keeping the previous one.");
        else {
                options_done(o);
                *o = n;
                n = (Options){};
                set_log_level(o);
                log_info(
                        "Reloaded the configuration from %s.",
                        o->config_path                           ? o->config_path
                        : access(DEFAULT_CONFIG_PATH, F_OK) >= 0 ? DEFAULT_CONFIG_PATH
                                                                 : "the command line (no config file)");
        }
        (void) sd_notify(false, "READY=1");
}

/* A pass every --interval, from the start of one to the start of the next, until SIGTERM/SIGINT:
 * they end a wait at once, and a pass after its current action. READY=1 comes once set up, before
 * the first pass: a pass is bounded only by the CRI deadlines (2m each by default), beyond
 * systemd's start timeout, and the daemon does its job from then on. */
static int daemon_run(int argc, char *argv[], Options *o) {
        _cleanup_close_ int wake_read_fd = -EBADF;
        char interval[DURATION_MAX_LEN];
        uint64_t wd = 0;
        int r;

        r = daemon_signals_setup(&wake_read_fd);
        if (r < 0) {
                log_error_errno(r, "Failed to set up signal handling: %m");
                return EXIT_NOT_READY;
        }
        if (sd_watchdog_enabled(false, &wd) > 0)
                watchdog_usec = wd;

        log_info(
                "podreaper %s: a pass every %s.",
                PODREAPER_VERSION,
                format_duration(interval, sizeof(interval), o->interval));
        (void) sd_notify(false, "READY=1\nSTATUS=First pass running");
        watchdog_ping();

        while (!stop_requested) {
                _cleanup_free_ char *summary = NULL, *status = NULL;
                usec_t started = now_usec(CLOCK_MONOTONIC);
                Options pass_options = *o; /* shallow: a reload happens only between passes */
                time_t wall = time(NULL);
                char hms[16] = "?";
                struct tm tm;

                pass_options.command = COMMAND_RUN;
                (void) pass_run(&pass_options, &summary);
                if (localtime_r(&wall, &tm))
                        (void) strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
                if (asprintf(&status, "STATUS=last pass %s: %s", hms, summary ?: "done") >= 0) {
                        one_line(status);
                        truncate_utf8(status, STATUS_MAX);
                        (void) sd_notify(false, status);
                }
                watchdog_ping();

                for (;;) {
                        daemon_wait(wake_read_fd, usec_add(started, o->interval));
                        if (!reload_requested || stop_requested)
                                break;
                        reload_requested = 0;
                        daemon_reload(argc, argv, o);
                }
        }

        log_info("Stopping on SIG%s.", sigabbrev_np(stop_requested) ?: "?");
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        return EXIT_DONE;
}

/* ---- main --------------------------------------------------------------------------------------- */

int main(int argc, char *argv[]) {
        Options o = {};
        int ret;

        if (options_parse(argc, argv, &o) < 0) {
                /* options_parse() logged why; node-problem-detector shows only stdout. A bare "check"
                 * is the command but for odd option values (--kubepods-cgroup check). */
                for (int i = 1; i < argc; i++)
                        if (strcmp(argv[i], "check") == 0) {
                                printf("bad podreaper command line or config, see its log\n");
                                break;
                        }
                return EXIT_NOT_READY; /* = unknown for check */
        }
        set_log_level(&o);

        switch (o.command) {
        case COMMAND_HELP:
                options_help();
                ret = EXIT_DONE;
                break;
        case COMMAND_VERSION:
                printf("podreaper %s\n", PODREAPER_VERSION);
                ret = EXIT_DONE;
                break;
        case COMMAND_CHECK:
                ret = check_run(&o);
                break;
        case COMMAND_DAEMON:
                ret = daemon_run(argc, argv, &o);
                break;
        default:
                ret = pass_run(&o, NULL);
        }

        options_done(&o);
        return ret;
}
