/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cgroupfs/cgroupfs.h"
#include "reaper/plan.h"
#include "reaper/snapshot.h"
#include "util/parse.h"

/* --metrics-file (DESIGN §4): what the last pass found and did, in the Prometheus text exposition
 * format 0.0.4, for node_exporter's textfile collector. Every series is a gauge about the last
 * pass (nothing is carried over from one pass to the next except the last success time), so that
 * a oneshot `run` and the daemon write the same thing.
 *
 *   podreaper_pass_duration_seconds, podreaper_last_pass_timestamp_seconds,
 *   podreaper_last_pass_success, podreaper_last_success_timestamp_seconds,
 *   podreaper_actions{kind,result}, podreaper_orphans, podreaper_refusals{reason},
 *   podreaper_source_up{source}, podreaper_pod_level_blocked, podreaper_breaker_tripped,
 *   podreaper_deleted_pods{state}, podreaper_deleted_rule_off{reason},
 *   podreaper_cgroups{controller}, podreaper_image_fs_usage_ratio
 *
 * The action and refusal series are written for every kind x result and every reason, 0 where
 * nothing happened: a series that comes and goes makes rate() and alerts on it misleading, and the
 * set is fixed and small (9 x 4 + 8). skip-pod is counted in podreaper_refusals only, as the JSON
 * report's summary does. */

typedef struct PassMetrics {
        usec_t started; /* CLOCK_REALTIME, usec */
        usec_t finished;
        bool success;                             /* sources ready and no action failed */
        const Snapshot *snapshot;                 /* NULL: not taken: every source is down */
        const Plan *plan;                         /* NULL: no plan: no action, refusal, orphan,
                                                   * blocked or breaker series at all (unknown, not 0) */
        const CgfsControllerCount *cgroup_counts; /* cgfs_count_cgroups(); NULL: no cgroups series */
        size_t n_cgroup_counts;
        bool image_fs_known;         /* false (as zero-initialized): no image-fs series */
        double image_fs_usage_ratio; /* used / capacity of the image filesystem, 0..1 */
} PassMetrics;

/* Writes the metrics of pass m to path atomically: a temp file ".<name>.XXXXXX" in the same
 * directory (which the textfile collector, reading only *.prom, ignores), mode 0644, fsync'd, then
 * renamed over path. podreaper_last_success_timestamp_seconds is m->finished when m->success, else
 * last_success (the previous success; 0: never). Returns 0 or -errno; on failure path is
 * untouched and no temp file is left. Does not log: the caller does. */
int metrics_write(const char *path, const PassMetrics *m, usec_t last_success);

/* podreaper_last_success_timestamp_seconds of an existing metrics file, so that a oneshot `run`
 * can carry the last success over a failed pass. -ENOENT: no file; -ENODATA: no such sample;
 * -EINVAL: not a timestamp this module writes. */
int metrics_read_last_success(const char *path, usec_t *ret);

/* The podreaper_refusals reason of a skip-pod action: "mounted", "grace", "breaker",
 * "max-deletions", "live", "processes", "not-a-pod" or "other"; NULL for any other kind. Read from
 * the reason texts of reaper/plan.c (tests/unit/test-metrics.c produces each through plan_build(),
 * so a reworded reason fails there, not silently here). */
const char *metrics_refusal_reason(const Action *a);
