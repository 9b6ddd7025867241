/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cgroupfs/cgroupfs.h"
#include "cri/cri.h"
#include "util/parse.h"

/* What one pass saw of the node, gathered in the order of DESIGN §3 (cgroups first, then CRI and
 * the kubelet, then the disk). Plain data: the planner is a pure function of it. All lists of
 * uids are sorted (strcmp) and without duplicates, so membership is a binary search. */

typedef struct SourceStatus {
        bool ok;
        char *error;  /* why not, one line; NULL when ok */
        char *detail; /* what was read, one line ("unix:///run/containerd/containerd.sock"); may be NULL */
} SourceStatus;

typedef struct PodDir {
        char *uid;         /* the directory name under <root-dir>/pods */
        usec_t changed;    /* newest mtime/ctime of the dir and its direct children */
        size_t n_mounts;   /* mounts at or beneath it, from the mount-table snapshot */
        char *first_mount; /* one of them, for the reason text; NULL when none */
} PodDir;

typedef struct LogDir {
        char *name; /* <namespace>_<pod name>_<uid> under --pod-logs-dir */
        char *uid;  /* parsed from the name: the part after the last '_' */
        usec_t changed;
} LogDir;

/* The filesystem ImageFsInfo names, measured as the kubelet does: statvfs of its mountpoint. */
typedef struct ImageFs {
        char *mountpoint;
        uint64_t capacity;  /* f_blocks * f_frsize */
        uint64_t available; /* f_bavail * f_frsize */
} ImageFs;

typedef struct Snapshot {
        usec_t now; /* CLOCK_REALTIME at the start of the pass */

        SourceStatus cgroups;
        SourceStatus cri;
        SourceStatus kubelet;   /* healthz answered and pod-resources listed */
        usec_t kubelet_started; /* change time of the pod-resources socket; 0 unknown */
        SourceStatus disk;      /* pod dirs, log dirs, the mount table */

        CgfsPods pod_cgroups; /* taken before the sources were read */
        char **cri_uids;      /* uids of every sandbox (any state) and every labelled container */
        size_t n_cri_uids;
        char **kubelet_uids; /* uids of the pods the kubelet reports active */
        size_t n_kubelet_uids;
        PodDir *pod_dirs;
        size_t n_pod_dirs;
        LogDir *log_dirs;
        size_t n_log_dirs;

        /* Runtime GC: the runtime's own lists as it answered them (complete when cri.ok). */
        CriPodSandboxList sandboxes;
        CriContainerList containers;
        SourceStatus images; /* ListImages, ImageFsInfo and statvfs; only read with images in --only */
        CriImageList image_list;
        ImageFs image_fs;
        char *sandbox_image;    /* the runtime's (verbose Status, "sandboxImage"); NULL unknown */
        SourceStatus log_links; /* --container-logs-dir read; only with logs in --only */
        char **dead_log_links;  /* names of *.log symlinks there whose target is gone, sorted */
        size_t n_dead_log_links;
} Snapshot;

void snapshot_done(Snapshot *s);
/* Drops the runtime's lists once the plan is built (the actor lists afresh): with thousands of
 * containers they are most of a pass's memory. */
void snapshot_drop_runtime_lists(Snapshot *s);
bool uid_list_contains(char *const *uids, size_t n, const char *uid);
