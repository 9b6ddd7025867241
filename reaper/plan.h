/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "reaper/options.h"
#include "reaper/snapshot.h"
#include "reaper/state.h"

/* The planner: a pure function from snapshot + options + saved state to actions, each with its
 * reason (DESIGN §2). No I/O, no clock: everything comes in through its arguments. */

typedef enum ActionKind {
        ACTION_REMOVE_CONTAINER,
        ACTION_STOP_CONTAINER,
        ACTION_REMOVE_SANDBOX,
        ACTION_REMOVE_IMAGE,
        ACTION_REMOVE_POD_DIR,
        ACTION_REMOVE_LOG_DIR,
        ACTION_REMOVE_LOG_SYMLINK,
        ACTION_DESTROY_CGROUP,
        ACTION_REDUCE_CGROUP_CPU,
        ACTION_SKIP_POD, /* a refusal: the pod's leftovers stay, reason says why */
        _ACTION_KIND_MAX,
} ActionKind;

typedef enum ActionResult {
        RESULT_PLANNED,
        RESULT_DONE,
        RESULT_FAILED,
        RESULT_SKIPPED, /* its precondition no longer held when it was its turn */
} ActionResult;

/* Why a pod's leftovers stay (skip-pod), as the metrics and check count it; the reason text says it
 * in words. */
typedef enum RefusalReason {
        REFUSAL_NONE, /* not a refusal */
        REFUSAL_MOUNTED,
        REFUSAL_GRACE,
        REFUSAL_BREAKER,
        REFUSAL_MAX_DELETIONS,
        REFUSAL_LIVE,      /* reap-pod of a live pod */
        REFUSAL_PROCESSES, /* its cgroup holds processes and cgroups are not in --only */
        REFUSAL_NOT_A_POD, /* a name under pods/ or the log dir that is no pod's */
        REFUSAL_OTHER,     /* reap-pod: nothing of the pod (among --only) on the node */
        _REFUSAL_MAX,
} RefusalReason;

typedef struct Action {
        ActionKind kind;
        char uid[CGFS_UID_MAX + 1]; /* "" where no pod is involved */
        char *target;               /* pod dir path, cgroup path, log dir, container id, ... */
        char *reason;               /* one line, in the field's words */
        ActionResult result;
        char *error;           /* when failed/skipped at act time */
        bool pod_gone;         /* runtime GC of a gone pod: acted on only while no sandbox of uid exists */
        bool pod_deleted;      /* runtime GC of a deleted pod: acted on only while uid has no ready
                                * sandbox, no running, created or unknown container and no pod dir */
        RefusalReason refusal; /* skip-pod: why */
} Action;

/* What image GC found (DESIGN §1, images), for the report, the metrics and check. */
typedef struct ImageGc {
        bool ran;               /* images in --only and the image data read */
        unsigned usage_percent; /* of the image filesystem, as the kubelet computes it */
        bool over_threshold;
        uint64_t bytes_to_free;
        uint64_t bytes_freed; /* planned: the removed images' sizes */
        uint64_t bytes_aged;  /* of images removed for --image-maximum-gc-age */
        char *problem;        /* the target cannot be reached (the kubelet's FreeDiskSpaceFailed), or
                               * the image data could not be read; NULL: none */
} ImageGc;

/* The deleted-pod rule of runtime GC (DESIGN §2, "deleted"): on, or why it is off this pass. */
typedef enum DeletedRule {
        DELETED_RULE_ON,
        DELETED_RULE_OFF_SOURCES,    /* not every source was read */
        DELETED_RULE_OFF_KUBELET,    /* --require-kubelet=false, and the kubelet not read or up for
                                      * less than the grace: nobody says which pods are active */
        DELETED_RULE_OFF_NO_POD_DIR, /* a pod with a ready sandbox has no pod dir: --root-dir is wrong,
                                      * or the kubelet does not manage this node's pods */
        _DELETED_RULE_MAX,
} DeletedRule;

/* A pod the runtime has sandboxes of, none ready, no running, created or unknown container, no pod
 * dir, not active in the kubelet. */
typedef struct DeletedPod {
        char uid[CGFS_UID_MAX + 1];
        usec_t first_seen; /* in that state (the state file), at most now */
        bool past_grace;   /* deleted: every inactive sandbox and dead container of it goes */
        char *evidence;    /* "pod dir removed by the kubelet, no ready sandbox, ..., for 12m (grace 10m)" */
} DeletedPod;

typedef struct DeletedPods {
        bool considered;      /* containers or sandboxes in --only and the runtime's lists read */
        DeletedRule rule;     /* meaningful when considered */
        char *off_reason;     /* one line when off; NULL when on */
        char *no_pod_dir_uid; /* DELETED_RULE_OFF_NO_POD_DIR: one such pod's uid, as the runtime says it */
        DeletedPod *pods;     /* with the rule on: every such pod, by uid; past the grace or not */
        size_t n_pods;
} DeletedPods;

typedef struct Plan {
        /* Per pod: destroy-cgroup before remove-pod-dir before remove-log-dir; then runtime GC:
         * stop-container, remove-container, remove-sandbox, remove-log-symlink, remove-image. */
        Action *actions;
        size_t n_actions;
        bool pod_level_blocked; /* sources not ready: no pod-level action at all */
        char *blocked_reason;
        bool breaker_tripped; /* too many orphans hold processes: no cgroup kills this pass */
        char *breaker_reason;
        ImageGc image_gc;
        DeletedPods deleted;
        State state;      /* the state to save after this pass (first-seen times updated) */
        size_t n_orphans; /* pods found orphaned (whether acted on or not) */
} Plan;

int plan_build(const Snapshot *s, const Options *o, const State *saved, Plan *ret);
void plan_done(Plan *p);

/* remove-container, stop-container, remove-sandbox, remove-image, remove-log-symlink: runtime GC,
 * which is about containers, sandboxes and images rather than whole pods. */
bool action_kind_is_runtime_gc(ActionKind k);
const char *action_kind_to_string(ActionKind k);     /* "remove-pod-dir", ... as in DESIGN §4 */
const char *action_result_to_string(ActionResult r); /* "planned", "done", "failed", "skipped" */
/* "mounted", "grace", "breaker", "max-deletions", "live", "processes", "not-a-pod", "other"; NULL
 * for REFUSAL_NONE. */
const char *refusal_to_string(RefusalReason r);
/* "on", "sources", "kubelet", "no-pod-dir"; NULL for anything else. */
const char *deleted_rule_to_string(DeletedRule r);
/* How many of p's deleted pods are past the grace (past_grace), or within it. */
size_t plan_deleted_count(const Plan *p, bool past_grace);
