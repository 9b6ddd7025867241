/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "reaper/plan.h"

/* A hand-built action for the report and metrics tests; the strings stay the caller's. */
static inline Action
act(ActionKind kind,
    const char *uid,
    const char *target,
    const char *reason,
    ActionResult result,
    const char *error) {
        Action a = {
                .kind = kind,
                .target = (char *) target,
                .reason = (char *) reason,
                .result = result,
                .error = (char *) error,
        };

        (void) snprintf(a.uid, sizeof(a.uid), "%s", uid);
        return a;
}
