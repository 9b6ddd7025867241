/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
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

/* The deleted-pod rule of runtime GC (DESIGN §2): why it is off, when it is (a warning for a ready
 * pod without its pod dir); with pods, one line per pod it found, with the evidence (journald:
 * MESSAGE_ID=, POD_UID=, PODREAPER_REASON=). */
void report_log_deleted(const Plan *p, bool pods);

/* JSON string escaping (RFC 8259): control characters as \u00XX, invalid UTF-8 as U+FFFD. */
void report_json_string(FILE *f, const char *s);
