/* SPDX-License-Identifier: MIT */
/*
 * podreaper: one pass is lock → snapshot (cgroups, then CRI and the kubelet, then the disk) →
 * plan → act → report → save state → unlock (DESIGN §3). The commands differ only in what they
 * do with the plan.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroupfs/cgroupfs.h"
#include "cri/cri.h"
#include "reaper/act.h"
#include "reaper/gather.h"
#include "reaper/options.h"
#include "reaper/plan.h"
#include "reaper/report.h"
#include "reaper/state.h"
#include "util/log.h"

/* Exit codes of the CLI contract (DESIGN §4). */
enum {
        EXIT_DONE = 0,
        EXIT_ACTIONS_FAILED = 1,
        EXIT_NOT_READY = 2,
        EXIT_LOCKED = 75,
};

#define POD_UID_LABEL "io.kubernetes.pod.uid"

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

        CriOptions cri_options = {.timeout_usec = o->runtime_request_timeout};
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

        if (o->dry_run)
                return 0;
        int r = state_save(o->state_dir, &p->plan.state);
        if (r < 0)
                /* Not fatal: the next pass sees its orphans as new and waits the grace again. */
                log_warning_errno(r, "Failed to save the state in %s, ignoring: %m", o->state_dir);
        return 0;
}

/* One pass of plan, run or reap-pod; returns the exit code. */
static int pass_run(const Options *o) {
        _cleanup_close_ int lock_fd = -EBADF;
        bool acting = o->command != COMMAND_PLAN;
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
                        return EXIT_LOCKED;
                }
                if (lock_fd < 0) {
                        log_error_errno(lock_fd, "Failed to take the lock in %s: %m", o->state_dir);
                        return EXIT_NOT_READY;
                }
        }

        r = pass_gather(&p);
        if (r >= 0)
                r = plan_build(&p.snapshot, o, &p.saved, &p.plan);
        if (r < 0) {
                if (r != -ENOMEM && r != -EINVAL)
                        log_error_errno(r, "Failed to plan: %m");
                pass_done(&p);
                return EXIT_NOT_READY;
        }

        if (p.plan.pod_level_blocked)
                log_error("No pod-level action this pass: %s", p.plan.blocked_reason);
        if (p.plan.breaker_tripped)
                log_warning("Circuit breaker: %s", p.plan.breaker_reason);

        /* plan only prints its report: the log lines are the audit trail of what was done. */
        if (acting)
                (void) pass_act(&p);

        report_print(stdout, o, &p.snapshot, &p.plan);
        fflush(stdout);

        ret = p.plan.pod_level_blocked ? EXIT_NOT_READY : p.n_failed > 0 ? EXIT_ACTIONS_FAILED : EXIT_DONE;
        pass_done(&p);
        return ret;
}

/* node-problem-detector custom plugin: one line of at most 80 bytes; 0 OK, 1 problem, 2 unknown.
 * A problem is an orphan beyond the grace that podreaper would have to refuse. */
static int check_run(const Options *o) {
        Pass p = {.options = o};
        size_t refused = 0;
        int ret;

        if (pass_gather(&p) < 0 || plan_build(&p.snapshot, o, &p.saved, &p.plan) < 0) {
                printf("podreaper: cannot read the node\n");
                pass_done(&p);
                return EXIT_NOT_READY;
        }
        for (size_t i = 0; i < p.plan.n_actions; i++)
                if (p.plan.actions[i].kind == ACTION_SKIP_POD &&
                    !strstr(p.plan.actions[i].reason, "within the grace"))
                        refused++;

        if (p.plan.pod_level_blocked) {
                printf("%.79s\n", p.plan.blocked_reason);
                ret = EXIT_NOT_READY;
        } else if (refused > 0) {
                printf("%zu orphaned pods podreaper must refuse to reap\n", refused);
                ret = 1;
        } else {
                printf("no orphaned pod leftovers beyond the grace\n");
                ret = 0;
        }
        pass_done(&p);
        return ret;
}

/* A pass every --interval until SIGTERM/SIGINT, which end the wait at once and never a pass
 * midway: the current pass finishes first. */
static int daemon_run(const Options *o) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return EXIT_NOT_READY;
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                log_error_errno(errno, "Failed to set up signal handling: %m");
                return EXIT_NOT_READY;
        }

        Options pass_options = *o;
        pass_options.command = COMMAND_RUN;
        for (;;) {
                int r = pass_run(&pass_options);
                if (r == EXIT_LOCKED)
                        log_info("Skipped a pass: another run holds the lock.");

                struct pollfd pfd = {.fd = sfd, .events = POLLIN};
                int timeout_ms = (int) MIN(o->interval / USEC_PER_MSEC, (usec_t) INT32_MAX);
                if (poll(&pfd, 1, timeout_ms) > 0) {
                        log_info("Stopping on signal.");
                        return EXIT_DONE;
                }
        }
}

static void set_log_level(const Options *o) {
        if (o->verbosity < 0)
                log_set_max_level(LOG_WARNING);
        else if (o->verbosity > 0)
                log_set_max_level(LOG_DEBUG);
        else
                log_set_max_level(LOG_INFO);
}

int main(int argc, char *argv[]) {
        Options o = {};
        int ret;

        if (options_parse(argc, argv, &o) < 0)
                return EXIT_NOT_READY;
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
                ret = daemon_run(&o);
                break;
        default:
                ret = pass_run(&o);
        }

        options_done(&o);
        return ret;
}
