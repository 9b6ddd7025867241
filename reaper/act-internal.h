/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the two halves of the actor: act.c (pod-level kinds) and act-runtime.c (runtime GC). */

#include "reaper/act.h"
#include "util/macro.h"

/* Sets the action's result and its error text (format NULL: none). */
void action_finish(Action *a, ActionResult result, const char *format, ...) _printf_(3, 4);

/* The runtime GC actions of p, in steps: containers, sandboxes, log symlinks, images. Returns the
 * number of failed actions. */
size_t act_runtime_gc(const ActContext *c, Plan *p);
