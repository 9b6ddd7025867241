/* SPDX-License-Identifier: MIT */
/* The planner (DESIGN §2) for the pod-level kinds: pod dirs, pod cgroups, pod log dirs. A pure
 * function of (snapshot, options, saved state): no I/O, no clock, no logging. Every pod it lists
 * gets its actions or one refusal, each with the reason in the kubelet's words. */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reaper/plan-internal.h"
#include "util/macro.h"
#include "util/strutil.h"

#define POD_LEVEL_KINDS (KIND_POD_DIRS | KIND_CGROUPS | KIND_LOGS)

static const char *const action_kind_names[_ACTION_KIND_MAX] = {
        [ACTION_REMOVE_CONTAINER] = "remove-container",
        [ACTION_STOP_CONTAINER] = "stop-container",
        [ACTION_REMOVE_SANDBOX] = "remove-sandbox",
        [ACTION_REMOVE_IMAGE] = "remove-image",
        [ACTION_REMOVE_POD_DIR] = "remove-pod-dir",
        [ACTION_REMOVE_LOG_DIR] = "remove-log-dir",
        [ACTION_REMOVE_LOG_SYMLINK] = "remove-log-symlink",
        [ACTION_DESTROY_CGROUP] = "destroy-cgroup",
        [ACTION_REDUCE_CGROUP_CPU] = "reduce-cgroup-cpu",
        [ACTION_SKIP_POD] = "skip-pod",
};

static const char *const action_result_names[] = {
        [RESULT_PLANNED] = "planned",
        [RESULT_DONE] = "done",
        [RESULT_FAILED] = "failed",
        [RESULT_SKIPPED] = "skipped",
};

static const char *const refusal_names[_REFUSAL_MAX] = {
        [REFUSAL_MOUNTED] = "mounted",
        [REFUSAL_GRACE] = "grace",
        [REFUSAL_BREAKER] = "breaker",
        [REFUSAL_MAX_DELETIONS] = "max-deletions",
        [REFUSAL_LIVE] = "live",
        [REFUSAL_PROCESSES] = "processes",
        [REFUSAL_NOT_A_POD] = "not-a-pod",
        [REFUSAL_OTHER] = "other",
};

static const char *const deleted_rule_names[_DELETED_RULE_MAX] = {
        [DELETED_RULE_ON] = "on",
        [DELETED_RULE_OFF_SOURCES] = "sources",
        [DELETED_RULE_OFF_KUBELET] = "kubelet",
        [DELETED_RULE_OFF_NO_POD_DIR] = "no-pod-dir",
};

const char *deleted_rule_to_string(DeletedRule r) {
        return (unsigned) r < _DELETED_RULE_MAX ? deleted_rule_names[r] : NULL;
}

size_t plan_deleted_count(const Plan *p, bool past_grace) {
        size_t n = 0;

        for (size_t i = 0; i < p->deleted.n_pods; i++)
                n += p->deleted.pods[i].past_grace == past_grace;
        return n;
}

const char *refusal_to_string(RefusalReason r) {
        return (unsigned) r < _REFUSAL_MAX ? refusal_names[r] : NULL;
}

const char *action_kind_to_string(ActionKind k) {
        if ((unsigned) k >= _ACTION_KIND_MAX)
                return NULL;
        return action_kind_names[k];
}

bool action_kind_is_runtime_gc(ActionKind k) {
        return k == ACTION_REMOVE_CONTAINER || k == ACTION_STOP_CONTAINER || k == ACTION_REMOVE_SANDBOX ||
               k == ACTION_REMOVE_IMAGE || k == ACTION_REMOVE_LOG_SYMLINK;
}

const char *action_result_to_string(ActionResult r) {
        if ((unsigned) r >= ELEMENTSOF(action_result_names))
                return NULL;
        return action_result_names[r];
}

/* ---- the pods of the snapshot ------------------------------------------------------------------ */

typedef enum Source {
        SOURCE_CGROUP, /* first: a pod's cgroup actions come first (rule 4) */
        SOURCE_POD_DIR,
        SOURCE_LOG_DIR,
} Source;

/* One thing on the node that belongs to a pod uid. */
typedef struct Entry {
        const char *uid;
        Source source;
        const char *name; /* a log dir's name: several of one uid go in name order */
        size_t index;     /* into s->pod_cgroups.items (QoS order), s->pod_dirs or s->log_dirs */
} Entry;

typedef enum Verdict {
        VERDICT_NONE,        /* live, not considered, or nothing of a kind in --only */
        VERDICT_LIVE,        /* reap-pod of a live uid: refused */
        VERDICT_GRACE,       /* orphan, but within the grace */
        VERDICT_MOUNTED,     /* a volume is still mounted: its cgroup only gets less CPU */
        VERDICT_HELD,        /* its cgroup holds processes and is not destroyed this pass */
        VERDICT_REAP,        /* removal actions */
        VERDICT_OVER_BUDGET, /* would be reaped, but --max-deletions is used up */
} Verdict;

typedef struct Pod {
        const char *uid;
        const Entry *entries; /* cgroups, then the pod dir, then log dirs */
        size_t n_entries;
        const PodDir *dir;
        size_t n_cgroups;
        size_t n_logs;
        bool considered; /* reap-pod: only its uid */
        bool in_cri;
        bool in_kubelet;
        bool populated;    /* any of its cgroups holds processes */
        usec_t changed;    /* newest change of its dir, cgroups, log dirs */
        usec_t first_seen; /* as an orphan, in the output state (orphans only) */
        bool reaping;      /* an earlier pass began removing it (saved state) */
        Verdict verdict;
        bool held_by_breaker;
} Pod;

static bool pod_is_orphan(const Pod *pod) {
        return !pod->in_cri && !pod->in_kubelet;
}

/* A pod log dir is "<namespace>_<pod name>_<uid>" (kubelet BuildPodLogsDirectory). Namespaces and
 * pod names cannot hold '_', so the uid is what follows the last one, as the kubelet's
 * parsePodUIDFromLogsDirectory reads it. NULL for any other name. */
static const char *log_dir_uid(const char *name) {
        const char *first, *last;

        if (!name)
                return NULL;
        first = strchr(name, '_');
        last = strrchr(name, '_');
        if (!first || first == name || last == first + 1 || last == first)
                return NULL;
        return cgfs_uid_is_valid(last + 1) ? last + 1 : NULL;
}

static int compare_entries(const void *a, const void *b) {
        const Entry *x = a, *y = b;
        int c = strcmp(x->uid, y->uid);

        if (c != 0)
                return c;
        if (x->source != y->source)
                return x->source < y->source ? -1 : 1;
        if (x->name && y->name && (c = strcmp(x->name, y->name)) != 0)
                return c;
        return x->index < y->index ? -1 : x->index > y->index;
}

static usec_t usec_age(usec_t now, usec_t t) {
        return now > t ? now - t : 0;
}

/* Every valid pod uid of the snapshot with its things, sorted by uid. */
static int
pods_collect(const Snapshot *s, const Options *o, Entry **ret_entries, Pod **ret_pods, size_t *ret_n) {
        _cleanup_free_ Entry *entries = NULL;
        _cleanup_free_ Pod *pods = NULL;
        size_t n = 0, n_pods = 0;

        entries = calloc(s->pod_cgroups.n + s->n_pod_dirs + s->n_log_dirs + 1, sizeof(*entries));
        pods = calloc(s->pod_cgroups.n + s->n_pod_dirs + s->n_log_dirs + 1, sizeof(*pods));
        if (!entries || !pods)
                return -ENOMEM;

        for (size_t i = 0; i < s->pod_cgroups.n; i++)
                entries[n++] = (Entry){s->pod_cgroups.items[i].uid, SOURCE_CGROUP, NULL, i};
        for (size_t i = 0; i < s->n_pod_dirs; i++)
                if (cgfs_uid_is_valid(s->pod_dirs[i].uid))
                        entries[n++] = (Entry){s->pod_dirs[i].uid, SOURCE_POD_DIR, NULL, i};
        for (size_t i = 0; i < s->n_log_dirs; i++) {
                const char *uid = log_dir_uid(s->log_dirs[i].name);

                if (uid)
                        entries[n++] = (Entry){uid, SOURCE_LOG_DIR, s->log_dirs[i].name, i};
        }
        qsort(entries, n, sizeof(*entries), compare_entries);

        for (size_t i = 0, j; i < n; i = j) {
                Pod *pod = &pods[n_pods++];

                *pod = (Pod){.uid = entries[i].uid, .entries = entries + i};
                for (j = i; j < n && strcmp(entries[j].uid, pod->uid) == 0; j++) {
                        const Entry *e = &entries[j];
                        usec_t changed = 0;

                        switch (e->source) {
                        case SOURCE_CGROUP:
                                pod->n_cgroups++;
                                pod->populated = pod->populated || s->pod_cgroups.items[e->index].populated;
                                changed = s->pod_cgroups.items[e->index].changed;
                                break;
                        case SOURCE_POD_DIR:
                                pod->dir = &s->pod_dirs[e->index];
                                changed = pod->dir->changed;
                                break;
                        case SOURCE_LOG_DIR:
                                pod->n_logs++;
                                changed = s->log_dirs[e->index].changed;
                                break;
                        }
                        pod->changed = MAX(pod->changed, changed);
                }
                pod->n_entries = j - i;
                pod->considered = o->command != COMMAND_REAP_POD || strcmp(pod->uid, o->reap_pod_uid) == 0;
                pod->in_cri = uid_list_contains(s->cri_uids, s->n_cri_uids, pod->uid);
                pod->in_kubelet = uid_list_contains(s->kubelet_uids, s->n_kubelet_uids, pod->uid);
        }

        *ret_entries = TAKE_PTR(entries);
        *ret_pods = TAKE_PTR(pods);
        *ret_n = n_pods;
        return 0;
}

/* ---- text ---------------------------------------------------------------------------------------- */

const char *plan_format_age(char *buf, size_t size, usec_t d) {
        if (d >= USEC_PER_SEC)
                d -= d % USEC_PER_SEC;
        return format_duration(buf, size, d);
}

static int pod_dir_path(const Options *o, const char *name, char **ret) {
        _cleanup_free_ char *pods = NULL;
        int r;

        r = path_join(o->root_dir, "pods", &pods);
        if (r < 0)
                return r;
        return path_join(pods, name, ret);
}

static int source_problem(char **reason, const char *what, const SourceStatus *st) {
        if (st->ok)
                return 0;
        return strextendf(reason, "%s%s: %s", *reason ? "; " : "", what, st->error ?: "unknown error");
}

/* Sources ready (DESIGN §2): every list answered, and the kubelet (unless not required) healthy
 * and up for at least the grace, as a kubelet that just started may not know all its pods yet.
 * *ret is NULL when ready. */
static int sources_check(const Snapshot *s, const Options *o, char **ret) {
        _cleanup_free_ char *reason = NULL;
        int r;

        r = source_problem(&reason, "pod cgroups not read", &s->cgroups);
        if (r < 0)
                return r;
        r = source_problem(&reason, "container runtime not ready", &s->cri);
        if (r < 0)
                return r;
        if (o->require_kubelet) {
                r = source_problem(&reason, "kubelet not ready", &s->kubelet);
                if (r < 0)
                        return r;
                if (s->kubelet.ok && s->kubelet_started == 0)
                        r = strextendf(
                                &reason,
                                "%skubelet start time unknown (no pod-resources socket change time)",
                                reason ? "; " : "");
                else if (s->kubelet.ok && usec_age(s->now, s->kubelet_started) < o->orphan_grace) {
                        char up[DURATION_MAX_LEN], grace[DURATION_MAX_LEN];

                        r = strextendf(
                                &reason,
                                "%skubelet up for %s, less than the %s grace",
                                reason ? "; " : "",
                                plan_format_age(up, sizeof(up), usec_age(s->now, s->kubelet_started)),
                                format_duration(grace, sizeof(grace), o->orphan_grace));
                }
                if (r < 0)
                        return r;
        }
        r = source_problem(&reason, "disk not read", &s->disk);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(reason);
        return 0;
}

/* ---- state --------------------------------------------------------------------------------------- */

static int state_copy(const State *from, const char *except, State *to) {
        for (size_t i = 0; i < from->n_orphans; i++) {
                const OrphanSeen *e = &from->orphans[i];
                int r;

                if (except && strcmp(e->uid, except) == 0)
                        continue;
                r = state_orphan_see(to, e->uid, e->first_seen);
                if (r < 0)
                        return r;
                if (e->reaping)
                        (void) state_orphan_set_reaping(to, e->uid);
        }
        return 0;
}

/* The state after this pass: every orphan keeps its first-seen time, new orphans are seen now (and
 * so is one first seen in the future, after the clock went back: the older time wins), uids that
 * are live again or gone from the node are dropped. reap-pod looks at one uid only and leaves the
 * others be. */
static int
state_update(const Snapshot *s, const Options *o, const State *saved, Pod *pods, size_t n_pods, State *out) {
        _cleanup_free_ char **keep = NULL;
        size_t n_keep = 0;
        int r;

        if (o->command == COMMAND_REAP_POD) {
                r = state_copy(saved, o->reap_pod_uid, out);
                if (r < 0)
                        return r;
        } else {
                r = state_copy(saved, NULL, out);
                if (r < 0)
                        return r;
                keep = calloc(n_pods + 1, sizeof(*keep));
                if (!keep)
                        return -ENOMEM;
        }

        for (size_t i = 0; i < n_pods; i++) {
                Pod *pod = &pods[i];

                if (!pod_is_orphan(pod) || !pod->considered)
                        continue;
                r = state_orphan_see(out, pod->uid, s->now);
                if (r < 0)
                        return r;
                pod->first_seen = state_orphan_first_seen(out, pod->uid);
                pod->reaping = state_orphan_is_reaping(saved, pod->uid);
                if (keep)
                        keep[n_keep++] = (char *) pod->uid;
        }
        if (keep)
                state_orphans_retain(out, keep, n_keep);
        return 0;
}

/* ---- the circuit breaker ------------------------------------------------------------------------- */

/* Killing processes is the irreversible act: if more than --max-orphan-fraction of the pods whose
 * cgroups hold processes look orphaned (grace not considered), and more than one, a source is
 * more likely wrong than the node that empty. *ret is NULL when the breaker holds. */
static int breaker_check(const Options *o, const Pod *pods, size_t n_pods, char **ret) {
        size_t n_populated = 0, n_orphaned = 0;
        char *reason;

        for (size_t i = 0; i < n_pods; i++) {
                if (!pods[i].populated)
                        continue;
                n_populated++;
                if (pod_is_orphan(&pods[i]))
                        n_orphaned++;
        }

        /* "More than" the fraction: exactly at it holds, also where the product rounds down
         * (0.58 * 50 is 28.999999999999996 in doubles). */
        *ret = NULL;
        if (n_orphaned <= 1 || (double) n_orphaned <= o->max_orphan_fraction * (double) n_populated + 1e-9)
                return 0;
        if (asprintf(
                    &reason,
                    "%zu of %zu pod cgroups with processes look orphaned (more than %g%%): a wrong "
                    "source? no process is killed this pass",
                    n_orphaned,
                    n_populated,
                    o->max_orphan_fraction * 100.0) < 0)
                return -ENOMEM;
        *ret = reason;
        return 0;
}

/* ---- verdicts ------------------------------------------------------------------------------------ */

static bool pod_has_selected(const Pod *pod, unsigned only) {
        return ((only & KIND_CGROUPS) && pod->n_cgroups > 0) || ((only & KIND_POD_DIRS) && pod->dir) ||
               ((only & KIND_LOGS) && pod->n_logs > 0);
}

static void pod_decide(const Snapshot *s, const Options *o, bool breaker, Pod *pod) {
        bool reap_pod = o->command == COMMAND_REAP_POD;

        pod->verdict = VERDICT_NONE;
        if (!pod->considered || !pod_has_selected(pod, o->only))
                return;
        if (!pod_is_orphan(pod)) {
                /* Live pods are not listed; reap-pod names the refusal. */
                if (reap_pod)
                        pod->verdict = VERDICT_LIVE;
                return;
        }

        /* A pass that began reaping it changed its times itself: then only the first sighting counts. */
        if (!reap_pod && ((!pod->reaping && usec_age(s->now, pod->changed) < o->orphan_grace) ||
                          usec_age(s->now, pod->first_seen) < o->orphan_grace)) {
                pod->verdict = VERDICT_GRACE;
                return;
        }

        /* As the kubelet's cleanupOrphanedPodCgroups: volumes still there, only reduce CPU. */
        if (pod->dir && pod->dir->n_mounts > 0) {
                pod->verdict = VERDICT_MOUNTED;
                return;
        }

        /* Rule 4: the dir and log dir go only after the cgroup is emptied in this pass, so not while
         * processes hold it and its destroy is not planned. */
        if (pod->populated && (breaker || !(o->only & KIND_CGROUPS))) {
                pod->verdict = VERDICT_HELD;
                pod->held_by_breaker = breaker && (o->only & KIND_CGROUPS);
                return;
        }
        pod->verdict = VERDICT_REAP;
}

static int compare_by_first_seen(const void *a, const void *b) {
        const Pod *x = *(Pod *const *) a, *y = *(Pod *const *) b;

        if (x->first_seen != y->first_seen)
                return x->first_seen < y->first_seen ? -1 : 1;
        return strcmp(x->uid, y->uid);
}

/* --max-deletions: the oldest orphans first, the rest wait for the next pass. */
static int budget_apply(const Options *o, Pod *pods, size_t n_pods) {
        _cleanup_free_ Pod **reap = NULL;
        size_t n = 0;

        if (o->max_deletions == 0)
                return 0;
        reap = calloc(n_pods + 1, sizeof(*reap));
        if (!reap)
                return -ENOMEM;
        for (size_t i = 0; i < n_pods; i++)
                if (pods[i].verdict == VERDICT_REAP)
                        reap[n++] = &pods[i];
        qsort(reap, n, sizeof(*reap), compare_by_first_seen);
        for (size_t i = o->max_deletions; i < n; i++)
                reap[i]->verdict = VERDICT_OVER_BUDGET;
        return 0;
}

/* ---- actions ------------------------------------------------------------------------------------- */

Action *
plan_action_add(Builder *b, ActionKind kind, const char *uid, const char *target, const char *reason) {
        _cleanup_free_ char *t = NULL, *r = NULL;
        Plan *p = b->plan;

        if (p->n_actions == b->allocated) {
                size_t allocated = MAX(b->allocated * 2, (size_t) 16);
                Action *a = reallocarray(p->actions, allocated, sizeof(*a));

                if (!a)
                        return NULL;
                p->actions = a;
                b->allocated = allocated;
        }
        t = strdup(target);
        r = strdup(reason);
        if (!t || !r)
                return NULL;

        p->actions[p->n_actions] = (Action){
                .kind = kind,
                .target = TAKE_PTR(t),
                .reason = TAKE_PTR(r),
                .result = RESULT_PLANNED,
        };
        (void) snprintf(p->actions[p->n_actions].uid, sizeof(p->actions[p->n_actions].uid), "%s", uid);
        return &p->actions[p->n_actions++];
}

static int action_add(Builder *b, ActionKind kind, const char *uid, const char *target, const char *reason) {
        return plan_action_add(b, kind, uid, target, reason) ? 0 : -ENOMEM;
}

/* The cgroup's directory relative to every hierarchy root where it exists: paths[] holds the
 * same string (cgfs_pods_enumerate() builds it with cgfs_pod_path()), but not how many entries. */
static int cgroup_target(const Snapshot *s, const Options *o, const CgfsPod *cg, char **ret) {
        int r;

        r = cgfs_pod_path(s->pod_cgroups.driver, o->kubepods_cgroup, cg->qos, cg->uid, ret);
        if (r != -EINVAL)
                return r;
        return asprintf(ret, "pod%s cgroup (%s)", cg->uid, cgfs_qos_to_string(cg->qos) ?: "?") < 0 ? -ENOMEM
                                                                                                   : 0;
}

/* A refusal names the pod by the thing the operator would look at first. */
static int pod_target(const Snapshot *s, const Options *o, const Pod *pod, char **ret) {
        const Entry *e = &pod->entries[0];

        if (pod->dir)
                return pod_dir_path(o, pod->uid, ret);
        if (e->source == SOURCE_CGROUP)
                return cgroup_target(s, o, &s->pod_cgroups.items[e->index], ret);
        return path_join(o->pod_logs_dir, s->log_dirs[e->index].name, ret);
}

static int
refusal_add(Builder *b, RefusalReason refusal, const char *uid, const char *target, const char *reason) {
        Action *a = plan_action_add(b, ACTION_SKIP_POD, uid, target, reason);

        if (!a)
                return -ENOMEM;
        a->refusal = refusal;
        return 0;
}

static int pod_skip(
        Builder *b,
        const Snapshot *s,
        const Options *o,
        const Pod *pod,
        RefusalReason refusal,
        const char *reason) {
        _cleanup_free_ char *target = NULL;
        int r;

        r = pod_target(s, o, pod, &target);
        if (r < 0)
                return r;
        return refusal_add(b, refusal, pod->uid, target, reason);
}

static int reason_live(const Pod *pod, char **ret) {
        return asprintf(
                       ret,
                       "live: %s%s%s; reap-pod never touches a live pod",
                       pod->in_cri ? "the container runtime has a sandbox or container of it" : "",
                       pod->in_cri && pod->in_kubelet ? ", " : "",
                       pod->in_kubelet ? "the kubelet reports it active" : "") < 0
                       ? -ENOMEM
                       : 0;
}

static int reason_grace(const Snapshot *s, const Options *o, const Pod *pod, char **ret) {
        char seen[DURATION_MAX_LEN], changed[DURATION_MAX_LEN], grace[DURATION_MAX_LEN];
        _cleanup_free_ char *seen_text = NULL, *changed_text = NULL;

        if (pod->first_seen >= s->now)
                seen_text = strdup("first seen now");
        else if (
                asprintf(
                        &seen_text,
                        "first seen %s ago",
                        plan_format_age(seen, sizeof(seen), s->now - pod->first_seen)) < 0)
                seen_text = NULL;
        if (pod->changed == 0)
                changed_text = strdup("change time unknown");
        else if (
                asprintf(
                        &changed_text,
                        "changed %s ago",
                        plan_format_age(changed, sizeof(changed), usec_age(s->now, pod->changed))) < 0)
                changed_text = NULL;
        if (!seen_text || !changed_text)
                return -ENOMEM;
        return asprintf(
                       ret,
                       "orphan, within the grace (%s, %s; grace %s)",
                       seen_text,
                       changed_text,
                       format_duration(grace, sizeof(grace), o->orphan_grace)) < 0
                       ? -ENOMEM
                       : 0;
}

static int reason_mounted(const Pod *pod, char **ret) {
        const PodDir *d = pod->dir;
        int r;

        if (d->first_mount && d->n_mounts > 1)
                r = asprintf(
                        ret, "volume still mounted: %s (and %zu more)", d->first_mount, d->n_mounts - 1);
        else if (d->first_mount)
                r = asprintf(ret, "volume still mounted: %s", d->first_mount);
        else
                r = asprintf(ret, "volume still mounted (%zu mounts beneath the pod dir)", d->n_mounts);
        return r < 0 ? -ENOMEM : 0;
}

/* Why an orphan goes, in the kubelet's words: which sources do not know it, for how long. */
static int reason_orphan(const Snapshot *s, const Options *o, const Pod *pod, char **ret) {
        char age[DURATION_MAX_LEN], grace[DURATION_MAX_LEN];
        const char *kubelet = o->require_kubelet || s->kubelet.ok
                                      ? "not active in the kubelet"
                                      : "kubelet not consulted (--require-kubelet=false)";
        int r;

        if (o->command == COMMAND_REAP_POD)
                r = asprintf(
                        ret,
                        "orphaned: no sandbox or container in the runtime, %s, reap-pod (grace ignored)",
                        kubelet);
        else
                r = asprintf(
                        ret,
                        "orphaned: no sandbox or container in the runtime, %s, orphaned for %s (grace %s)",
                        kubelet,
                        plan_format_age(age, sizeof(age), usec_age(s->now, pod->first_seen)),
                        format_duration(grace, sizeof(grace), o->orphan_grace));
        return r < 0 ? -ENOMEM : 0;
}

static int pod_emit_cgroups(
        Builder *b,
        const Snapshot *s,
        const Options *o,
        const Pod *pod,
        ActionKind kind,
        const char *reason) {
        for (size_t i = 0; i < pod->n_entries; i++) {
                const Entry *e = &pod->entries[i];
                _cleanup_free_ char *target = NULL;
                int r;

                if (e->source != SOURCE_CGROUP)
                        continue;
                r = cgroup_target(s, o, &s->pod_cgroups.items[e->index], &target);
                if (r < 0)
                        return r;
                r = action_add(b, kind, pod->uid, target, reason);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pod_emit_reap(Builder *b, const Snapshot *s, const Options *o, const Pod *pod) {
        _cleanup_free_ char *reason = NULL, *reason_kill = NULL, *reason_after = NULL;
        int r;

        r = reason_orphan(s, o, pod, &reason);
        if (r < 0)
                return r;
        if (pod->populated) {
                if (asprintf(&reason_kill, "%s; its processes are killed", reason) < 0 ||
                    asprintf(&reason_after, "%s; after its cgroup is destroyed", reason) < 0)
                        return -ENOMEM;
        }

        if (o->only & KIND_CGROUPS) {
                r = pod_emit_cgroups(b, s, o, pod, ACTION_DESTROY_CGROUP, reason_kill ?: reason);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < pod->n_entries; i++) {
                const Entry *e = &pod->entries[i];
                _cleanup_free_ char *target = NULL;

                if (e->source == SOURCE_POD_DIR && (o->only & KIND_POD_DIRS)) {
                        r = pod_dir_path(o, pod->uid, &target);
                        if (r >= 0)
                                r = action_add(
                                        b, ACTION_REMOVE_POD_DIR, pod->uid, target, reason_after ?: reason);
                } else if (e->source == SOURCE_LOG_DIR && (o->only & KIND_LOGS)) {
                        r = path_join(o->pod_logs_dir, s->log_dirs[e->index].name, &target);
                        if (r >= 0)
                                r = action_add(
                                        b, ACTION_REMOVE_LOG_DIR, pod->uid, target, reason_after ?: reason);
                } else
                        continue;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pod_emit(Builder *b, const Snapshot *s, const Options *o, const Pod *pod) {
        _cleanup_free_ char *reason = NULL;
        RefusalReason refusal;
        int r;

        switch (pod->verdict) {
        case VERDICT_NONE:
                return 0;
        case VERDICT_LIVE:
                refusal = REFUSAL_LIVE;
                r = reason_live(pod, &reason);
                break;
        case VERDICT_GRACE:
                refusal = REFUSAL_GRACE;
                r = reason_grace(s, o, pod, &reason);
                break;
        case VERDICT_MOUNTED:
                refusal = REFUSAL_MOUNTED;
                r = reason_mounted(pod, &reason);
                if (r >= 0 && (o->only & KIND_CGROUPS))
                        r = pod_emit_cgroups(b, s, o, pod, ACTION_REDUCE_CGROUP_CPU, reason);
                break;
        case VERDICT_HELD:
                refusal = pod->held_by_breaker ? REFUSAL_BREAKER : REFUSAL_PROCESSES;
                reason =
                        strdup(pod->held_by_breaker
                                       ? b->plan->breaker_reason
                                       : "pod cgroup still holds processes, and cgroups are not in --only");
                r = reason ? 0 : -ENOMEM;
                break;
        case VERDICT_REAP:
                return pod_emit_reap(b, s, o, pod);
        case VERDICT_OVER_BUDGET:
                refusal = REFUSAL_MAX_DELETIONS;
                r = asprintf(&reason, "over --max-deletions (%u) this pass", o->max_deletions) < 0 ? -ENOMEM
                                                                                                   : 0;
                break;
        default:
                assert(false);
                return -EINVAL;
        }
        if (r < 0)
                return r;
        return pod_skip(b, s, o, pod, refusal, reason);
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(const char *const *) a ?: "", *(const char *const *) b ?: "");
}

/* Names under pods/ and the log dir that are not a pod's: listed, never removed. */
static int invalid_names_emit(Builder *b, const Snapshot *s, const Options *o) {
        _cleanup_free_ const char **names = NULL;
        int r;

        names = calloc(MAX(s->n_pod_dirs, s->n_log_dirs) + 1, sizeof(*names));
        if (!names)
                return -ENOMEM;

        for (int pass = 0; pass < 2; pass++) {
                size_t n = 0;

                if (pass == 0 && (o->only & KIND_POD_DIRS)) {
                        for (size_t i = 0; i < s->n_pod_dirs; i++)
                                if (!cgfs_uid_is_valid(s->pod_dirs[i].uid))
                                        names[n++] = s->pod_dirs[i].uid;
                } else if (pass == 1 && (o->only & KIND_LOGS)) {
                        for (size_t i = 0; i < s->n_log_dirs; i++)
                                if (!log_dir_uid(s->log_dirs[i].name))
                                        names[n++] = s->log_dirs[i].name;
                }
                qsort(names, n, sizeof(*names), compare_names);

                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *target = NULL;

                        if (pass == 0)
                                r = pod_dir_path(o, names[i] ?: "", &target);
                        else
                                r = path_join(o->pod_logs_dir, names[i] ?: "", &target);
                        if (r >= 0)
                                r = refusal_add(
                                        b,
                                        REFUSAL_NOT_A_POD,
                                        "",
                                        target,
                                        pass == 0
                                                ? "not a pod uid: kept"
                                                : "not a pod log dir (<namespace>_<pod name>_<uid>): kept");
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* ---- the plan ------------------------------------------------------------------------------------ */

static const Pod *pods_find(const Pod *pods, size_t n_pods, const char *uid) {
        for (size_t i = 0; i < n_pods; i++)
                if (strcmp(pods[i].uid, uid) == 0)
                        return &pods[i];
        return NULL;
}

/* Per pod, in uid order: its actions, or why not. */
static int actions_build(Builder *b, const Snapshot *s, const Options *o, Pod *pods, size_t n_pods) {
        int r;

        for (size_t i = 0; i < n_pods; i++)
                pod_decide(s, o, b->plan->breaker_tripped, &pods[i]);
        r = budget_apply(o, pods, n_pods);
        if (r < 0)
                return r;

        if (o->command == COMMAND_REAP_POD) {
                const Pod *pod = pods_find(pods, n_pods, o->reap_pod_uid);

                if (!pod || !pod_has_selected(pod, o->only)) {
                        _cleanup_free_ char *target = NULL;

                        r = pod_dir_path(o, o->reap_pod_uid, &target);
                        if (r >= 0)
                                r = refusal_add(
                                        b,
                                        REFUSAL_OTHER,
                                        o->reap_pod_uid,
                                        target,
                                        pod ? "nothing of this pod among the --only kinds"
                                            : "nothing of this pod on the node (no pod dir, pod cgroup or "
                                              "log dir)");
                        if (r < 0)
                                return r;
                }
        } else {
                r = invalid_names_emit(b, s, o);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < n_pods; i++) {
                r = pod_emit(b, s, o, &pods[i]);
                if (r < 0)
                        return r;
        }

        return 0;
}

int plan_build(const Snapshot *s, const Options *o, const State *saved, Plan *ret) {
        _cleanup_(plan_done) Plan plan = {};
        _cleanup_free_ Entry *entries = NULL;
        _cleanup_free_ Pod *pods = NULL;
        Builder b = {.plan = &plan};
        size_t n_pods = 0;
        int r;

        if (!s || !o || !saved || !ret)
                return -EINVAL;
        if (o->command == COMMAND_REAP_POD && !cgfs_uid_is_valid(o->reap_pod_uid))
                return -EINVAL;

        r = pods_collect(s, o, &entries, &pods, &n_pods);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_pods; i++)
                if (pods[i].considered && pod_is_orphan(&pods[i]))
                        plan.n_orphans++;

        r = sources_check(s, o, &plan.blocked_reason);
        if (r < 0)
                return r;
        if (plan.blocked_reason) {
                /* Nothing pod-level, and no orphan clock starts or stops on sources we cannot trust. */
                plan.pod_level_blocked = true;
                r = state_copy(saved, NULL, &plan.state);
                if (r < 0)
                        return r;
        } else {
                r = state_update(s, o, saved, pods, n_pods, &plan.state);
                if (r < 0)
                        return r;

                r = breaker_check(o, pods, n_pods, &plan.breaker_reason);
                if (r < 0)
                        return r;
                plan.breaker_tripped = plan.breaker_reason != NULL;

                if (o->only & POD_LEVEL_KINDS) {
                        r = actions_build(&b, s, o, pods, n_pods);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < n_pods; i++)
                        if (pods[i].verdict == VERDICT_REAP)
                                (void) state_orphan_set_reaping(&plan.state, pods[i].uid);
        }

        r = plan_gc_build(&b, s, o, saved);
        if (r < 0)
                return r;

        *ret = plan;
        plan = (Plan){};
        return 0;
}

void plan_done(Plan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_actions; i++) {
                free(p->actions[i].target);
                free(p->actions[i].reason);
                free(p->actions[i].error);
        }
        free(p->actions);
        free(p->blocked_reason);
        free(p->breaker_reason);
        free(p->image_gc.problem);
        for (size_t i = 0; i < p->deleted.n_pods; i++)
                free(p->deleted.pods[i].evidence);
        free(p->deleted.pods);
        free(p->deleted.off_reason);
        free(p->deleted.no_pod_dir_uid);
        state_done(&p->state);
        *p = (Plan){};
}
