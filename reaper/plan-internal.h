/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the two halves of the planner: plan.c (pod-level kinds) and plan-gc.c (runtime GC). */

#include "reaper/plan.h"

typedef struct Builder {
        Plan *plan;
        size_t allocated;
} Builder;

/* Appends a planned action; target and reason are copied. Returns the new action or NULL (ENOMEM). */
Action *
plan_action_add(Builder *b, ActionKind kind, const char *uid, const char *target, const char *reason);
/* Ages in reasons are whole seconds: "25m3s", not "25m3s417ms". */
const char *plan_format_age(char *buf, size_t size, usec_t d);

/* Runtime GC: containers, sandboxes, dead log symlinks, images (DESIGN §1), after the pod-level
 * actions. pod_level_blocked: the sources are not all ready, so no pod counts as gone or deleted.
 * Sets plan->image_gc, plan->deleted, and the image and deleted-pod records of plan->state (from
 * saved when the images were not read or the deleted-pod rule could not judge). */
int plan_gc_build(Builder *b, const Snapshot *s, const Options *o, const State *saved);
