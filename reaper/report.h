/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "reaper/options.h"
#include "reaper/plan.h"
#include "reaper/snapshot.h"

/* What a pass found and did: a text table (one line per pod: uid, what was found, what was done or
 * refused, why) or the JSON document of DESIGN §4. */
void report_print(FILE *f, const Options *o, const Snapshot *s, const Plan *p);

/* One log line per action and refusal, with the pod uid, target and reason (journald: POD_UID=,
 * PODREAPER_ACTION= fields). */
void report_log_action(const Action *a);

/* JSON string escaping (RFC 8259): control characters as \u00XX, invalid UTF-8 as U+FFFD. */
void report_json_string(FILE *f, const char *s);
