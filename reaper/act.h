/* SPDX-License-Identifier: MIT */
#pragma once

#include <signal.h>

#include "cgroupfs/cgroupfs.h"
#include "cri/cri.h"
#include "reaper/options.h"
#include "reaper/plan.h"

/* Carries out a plan's actions in order. Each action re-checks its own precondition right before
 * it acts and is skipped with the reason if it no longer holds: the runtime must still not know
 * the uid, nothing may be mounted at or beneath the pod dir (a fresh mount-table snapshot), the
 * pod cgroup must hold no processes before its dir or log dir goes. */

typedef struct ActContext {
        const Options *options;
        const CgfsHierarchies *hierarchies;
        const CgfsPods *pod_cgroups; /* what the plan's destroy/reduce actions refer to */
        /* The runtime re-check, behind a pointer so unit tests can fake it: 1 if the runtime has a
         * sandbox or container of uid now, 0 if not, -errno if it cannot tell (then: skip). */
        int (*runtime_knows_uid)(void *userdata, const char *uid);
        void *userdata;
        /* May be NULL. Once *stop is set (a signal handler: the daemon's SIGTERM), act_run() starts
         * no further action: the current one finishes, the rest stay planned. */
        const volatile sig_atomic_t *stop;
        /* Runtime GC (stop/remove-container, remove-sandbox, remove-image; the log symlinks' re-check):
         * the connection, and the runtime's sandbox image (NULL unknown). NULL cri: those fail. */
        CriClient *cri;
        const char *sandbox_image;
} ActContext;

/* Acts on every planned action of p (with --dry-run: none), setting result and error, until
 * c->stop is set. Returns the number of failed actions. */
size_t act_run(const ActContext *c, Plan *p);

/* A pod dir, in the kubelet's order (cleanupOrphanedPodDirs): rmdir-only in volumes/ (never a
 * recursive delete there), remove the entries of volume-subpaths/, one-filesystem removal of every
 * other subdir, rmdir the pod dir. Plus the leftovers that block the kubelet forever: a CSI
 * vol_data.json beside an empty, unmounted mount/, and an empty-dir volume with files — both only
 * because the caller proved that nothing is mounted beneath the pod. pods_fd is <root-dir>/pods.
 * Returns 0 or the first error; ret_detail (may be NULL) gets a one-line account of what stayed. */
int act_remove_pod_dir(int pods_fd, const char *uid, char **ret_detail);
