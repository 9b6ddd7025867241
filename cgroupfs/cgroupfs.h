/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cgroupfs: find every pod cgroup on any layout (cgroup v1, v2, hybrid; cgroupfs and systemd
 * drivers) and destroy orphans completely. Knows nothing of CRI or mounts: the planner decides
 * which pods are orphans. Returns -errno; logs at debug at most. */

#define CGFS_UID_MAX 36 /* a UUID; static pods use 32 hex characters (a config hash) */

typedef uint64_t cgfs_usec_t;

/* ---- hierarchies ------------------------------------------------------------------------------ */

typedef struct CgfsHierarchy {
        char *path;        /* mount point, e.g. "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified" */
        char *controllers; /* v1: "memory", "cpu,cpuacct", "name=systemd"; v2: "" */
        bool v2;
} CgfsHierarchy;

typedef struct CgfsHierarchies {
        CgfsHierarchy *items;
        size_t n;
} CgfsHierarchies;

/* Every cgroup (v1, each controller or named hierarchy) and cgroup2 mount at or beneath
 * cgroup_root, from `mountinfo` (NULL: /proc/self/mountinfo). Of several mounts of one v1
 * hierarchy (same controllers) only the first is kept. -ENOENT when there is none. */
int cgfs_hierarchies_find(const char *mountinfo, const char *cgroup_root, CgfsHierarchies *ret);
void cgfs_hierarchies_done(CgfsHierarchies *h);

/* The v1 hierarchy that carries `controller` ("freezer", "cpu", "name=systemd"), or the v2 one for
 * controller ""; NULL if none. Only v1 hierarchies are matched by controller (v2's controllers
 * string is ""): on pure v2, "cpu" is NULL. */
const CgfsHierarchy *cgfs_hierarchies_get(const CgfsHierarchies *h, const char *controller);

/* ---- layout ------------------------------------------------------------------------------------ */

typedef enum CgfsDriver {
        CGFS_DRIVER_AUTO,
        CGFS_DRIVER_CGROUPFS, /* <kubepods>/{burstable,besteffort}/pod<uid>, <kubepods>/pod<uid> */
        CGFS_DRIVER_SYSTEMD, /* <kubepods>.slice/<kubepods>-burstable.slice/<kubepods>-burstable-pod<uid_>.slice */
} CgfsDriver;

typedef enum CgfsQos {
        CGFS_QOS_GUARANTEED,
        CGFS_QOS_BURSTABLE,
        CGFS_QOS_BESTEFFORT,
        _CGFS_QOS_MAX,
} CgfsQos;

const char *cgfs_driver_to_string(CgfsDriver d);
int cgfs_driver_from_string(const char *s, CgfsDriver *ret);
const char *cgfs_qos_to_string(CgfsQos q); /* "guaranteed", "burstable", "besteffort" */

/* Is `name` exactly the directory name of a pod cgroup of `qos` under `driver` and `kubepods`?
 * cgroupfs: "pod<uid>"; systemd: "<kubepods>[-<qos>]-pod<uid with _ for ->.slice". A uid is a
 * lowercase UUID (8-4-4-4-12 hex) or 32 lowercase hex digits (static pods). On a match the uid,
 * with '-' restored, is written to ret_uid (CGFS_UID_MAX + 1 bytes; may be NULL) and 1 returned;
 * 0 for any other name (and a NULL one). -EINVAL for a bad driver (AUTO too), qos or kubepods,
 * whatever the name. */
int cgfs_parse_pod_name(
        const char *name, CgfsDriver driver, const char *kubepods, CgfsQos qos, char *ret_uid);

/* Is s a pod uid as the kubelet writes it: a lowercase UUID (8-4-4-4-12 hex) or 32 lowercase hex
 * digits (a static pod's manifest hash)? The same check as cgfs_parse_pod_name(); false for NULL. */
bool cgfs_uid_is_valid(const char *s);

/* The directory of the pod's cgroup relative to a hierarchy's root, e.g.
 * "kubepods/burstable/pod<uid>" or "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice". */
int cgfs_pod_path(CgfsDriver driver, const char *kubepods, CgfsQos qos, const char *uid, char **ret);

/* Is kubepods a name the driver takes: cgroupfs a relative path of plain components ("kubepods",
 * "custom/kubepods"), systemd a slice name prefix without '/'. */
bool cgfs_kubepods_is_valid(const char *kubepods, CgfsDriver driver);

/* Which driver's tree exists under `kubepods` in any hierarchy: -ENOENT if neither. */
int cgfs_detect_driver(const CgfsHierarchies *h, const char *kubepods, CgfsDriver *ret);

/* ---- enumeration ------------------------------------------------------------------------------- */

typedef struct CgfsPod {
        char uid[CGFS_UID_MAX + 1];
        CgfsQos qos;
        char **paths;        /* per hierarchy, indexed like the CgfsHierarchies the pods were
                              * enumerated with: the pod's cgroup relative to the hierarchy root,
                              * or NULL where absent. One allocation: every entry points to the
                              * same string inside it, so free only paths (cgfs_pods_done), never
                              * paths[i] */
        char **children;     /* NULL-terminated names of the child cgroups (sandboxes, containers),
                              * union over all hierarchies */
        bool populated;      /* holds processes, in itself or below, in any hierarchy (v1: a tree
                              * too deep to walk counts as populated) */
        cgfs_usec_t changed; /* newest change time (CLOCK_REALTIME, usec) of the pod cgroup and its
                              * children in any hierarchy: for the orphan grace */
} CgfsPod;

typedef struct CgfsPods {
        CgfsPod *items;
        size_t n;
        CgfsDriver driver; /* the one found (with AUTO) or given */
} CgfsPods;

/* Every pod cgroup under `kubepods` for `driver` (AUTO: detected; nothing there: 0 pods). Stray
 * directories that are not exactly pod cgroups are ignored. One item per uid and QoS class: a uid
 * found in two QoS directories (leftovers) is two items. Sorted by uid, then QoS class. Pass the
 * same `h` to every call on these pods: paths[] is indexed by it. */
int cgfs_pods_enumerate(const CgfsHierarchies *h, const char *kubepods, CgfsDriver driver, CgfsPods *ret);

/* cgfs_pods_enumerate() in two steps, so that a caller can learn which pods need the detail in
 * between: cgfs_pods_list() reads only the QoS directories (uid, qos and paths[] where listed;
 * children NULL, populated false, changed 0); cgfs_pods_fill() then visits every pod — fully where
 * detail(uid) says so (NULL: all), else only for `populated`, from one hierarchy (v2's
 * cgroup.events if the pod is there, else one v1 walk). Pods gone from every hierarchy in between
 * are dropped. */
int cgfs_pods_list(const CgfsHierarchies *h, const char *kubepods, CgfsDriver driver, CgfsPods *ret);
int cgfs_pods_fill(
        const CgfsHierarchies *h,
        CgfsPods *pods,
        bool (*detail)(const char *uid, void *userdata),
        void *userdata);
void cgfs_pods_done(CgfsPods *p);
/* The first pod (lowest QoS class) with `uid`, or NULL. */
const CgfsPod *cgfs_pods_find(const CgfsPods *p, const char *uid);

/* Re-reads whether the pod cgroup holds processes now (1/0), in any hierarchy of `h` (the one the
 * pod was enumerated with). */
int cgfs_pod_is_populated(const CgfsHierarchies *h, const CgfsPod *pod);

/* ---- destruction ------------------------------------------------------------------------------- */

typedef struct CgfsDestroyStats {
        unsigned n_killed;   /* processes signalled */
        unsigned n_removed;  /* cgroup directories removed, all hierarchies */
        bool used_kill_file; /* cgroup.kill did the killing */
        bool used_systemd;   /* systemd stopped the slice */
} CgfsDestroyStats;

/* Kills every process in the pod cgroup and below (v2 cgroup.kill; else freeze, SIGKILL each pid
 * through a pidfd after checking it still is inside, always thaw), waits until it is empty
 * (cgroup.events, at most `timeout`; 0: one kill pass, no waiting), then removes it depth-first in
 * every hierarchy of `h` (the one the pod was enumerated with). EBUSY is retried a bounded number
 * of times; a cgroup already gone is success. With the systemd driver it first asks systemd to stop
 * the slice, where systemd answers. Processes outside the pod cgroup are never signalled. -EBUSY:
 * still populated after the timeout. ret_stats (may be NULL) is filled on every return, failures
 * and -EBUSY included (what was done), except -EINVAL for a NULL h or pod. */
int cgfs_pod_destroy(
        const CgfsHierarchies *h,
        const CgfsPod *pod,
        CgfsDriver driver,
        cgfs_usec_t timeout,
        CgfsDestroyStats *ret_stats);

/* A pod that must wait (volumes still mounted) gets the least CPU, as the kubelet does:
 * cpu.shares=2 on v1, cpu.weight=1 on v2, in every hierarchy of `h` (the one the pod was
 * enumerated with). A hierarchy without the cpu controller is skipped. A systemd-driver pod slice
 * gets it as a unit property (CPUWeight=1 / CPUShares=2) where systemd answers, as the kubelet's
 * systemd driver sets it: systemd would overwrite a bare file write. */
int cgfs_pod_reduce_cpu(const CgfsHierarchies *h, const CgfsPod *pod, CgfsDriver driver);

/* ---- counts ------------------------------------------------------------------------------------ */

typedef struct CgfsControllerCount {
        char name[32];
        unsigned num_cgroups;
        bool enabled;
} CgfsControllerCount;

/* /proc/cgroups (`path`, NULL: the real one): cgroups per controller, for the "close to the limit"
 * warning (memory cgroup ids run out at 65,535). */
int cgfs_count_cgroups(const char *path, CgfsControllerCount **ret, size_t *ret_n);

#define CGFS_MEMORY_CGROUP_LIMIT 65535u
