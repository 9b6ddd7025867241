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
