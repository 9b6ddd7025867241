/* SPDX-License-Identifier: MIT */
/* The planner's runtime GC half (DESIGN §1): the kubelet's container, sandbox, container log
 * symlink and image policies (gc.c) turned into actions with reasons. Pure, as plan.c: no I/O, no
 * clock, no logging. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reaper/gc.h"
#include "reaper/plan-internal.h"
#include "util/macro.h"
#include "util/strutil.h"

static int state_images_copy(const State *from, State *to) {
        for (size_t i = 0; i < from->n_images; i++) {
                const ImageSeen *e = &from->images[i];
                int r = state_image_set(to, e->id, e->first_detected, e->last_used, e->unused_since);

                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* A pass that cannot judge the deleted pods keeps their clocks as they were. */
static int state_deleted_copy(const State *from, State *to) {
        for (size_t i = 0; i < from->n_deleted; i++) {
                int r = state_deleted_see(to, from->deleted[i].uid, from->deleted[i].first_seen);

                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static const char *container_uid(const CriContainer *c) {
        return cri_map_get(&c->labels, POD_UID_LABEL);
}

/* A uid for Action.uid: only a valid pod uid, so that nothing downstream mistakes garbage for one. */
static const char *action_uid(const char *uid) {
        return uid && cgfs_uid_is_valid(uid) ? uid : "";
}

/* Gone (DESIGN §2): the runtime has no sandbox of the uid in any state and the kubelet does not
 * report it active. Only when every source is ready, as the kubelet's allSourcesReady: otherwise
 * no pod is gone and only the per-container limits apply. Sorted, pointing into s. */
static int gone_uids_collect(const Snapshot *s, bool ready, const char ***ret, size_t *ret_n) {
        _cleanup_free_ const char **sandbox_uids = NULL, **gone = NULL;
        size_t n_sandbox = 0, n_gone = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!ready)
                return 0;

        sandbox_uids = calloc(s->sandboxes.n + 1, sizeof(*sandbox_uids));
        gone = calloc(s->containers.n + 1, sizeof(*gone));
        if (!sandbox_uids || !gone)
                return -ENOMEM;
        for (size_t i = 0; i < s->sandboxes.n; i++)
                sandbox_uids[n_sandbox++] = s->sandboxes.items[i].pod_uid;
        qsort(sandbox_uids, n_sandbox, sizeof(*sandbox_uids), compare_strings);

        for (size_t i = 0; i < s->containers.n; i++) {
                const char *uid = container_uid(&s->containers.items[i]);

                /* Only a uid that Action.uid can hold, so that the actor can re-check it. */
                if (!uid || !cgfs_uid_is_valid(uid) ||
                    uid_list_contains((char *const *) sandbox_uids, n_sandbox, uid) ||
                    uid_list_contains(s->kubelet_uids, s->n_kubelet_uids, uid))
                        continue;
                gone[n_gone++] = uid;
        }
        qsort(gone, n_gone, sizeof(*gone), compare_strings);

        /* Unique, so that uid_list_contains() can search it. */
        size_t n = 0;
        for (size_t i = 0; i < n_gone; i++)
                if (n == 0 || !streq(gone[n - 1], gone[i]))
                        gone[n++] = gone[i];
        *ret = TAKE_PTR(gone);
        *ret_n = n;
        return 0;
}

/* ---- deleted pods (DESIGN §2) -------------------------------------------------------------------- */

/* What the runtime says of one pod uid that has sandboxes. */
typedef struct PodFacts {
        const char *uid;
        bool ready;          /* a READY sandbox */
        bool maybe_ready;    /* READY, or in a state this podreaper does not know */
        bool live_container; /* a container that is not EXITED, by its label or its sandbox */
} PodFacts;

static int compare_facts(const void *a, const void *b) {
        return strcmp(((const PodFacts *) a)->uid, ((const PodFacts *) b)->uid);
}

static PodFacts *facts_find(PodFacts *facts, size_t n, const char *uid) {
        PodFacts key = {.uid = uid};

        return n > 0 && uid ? bsearch(&key, facts, n, sizeof(*facts), compare_facts) : NULL;
}

static int compare_sandbox_ids(const void *a, const void *b) {
        return strcmp((*(const CriPodSandbox *const *) a)->id, (*(const CriPodSandbox *const *) b)->id);
}

/* One entry per uid that has a sandbox with a uid, sorted. */
static int pod_facts_collect(const Snapshot *s, PodFacts **ret, size_t *ret_n) {
        _cleanup_free_ const CriPodSandbox **by_id = NULL;
        _cleanup_free_ PodFacts *facts = NULL;
        size_t n = 0, n_unique = 0;

        facts = calloc(s->sandboxes.n + 1, sizeof(*facts));
        by_id = calloc(s->sandboxes.n + 1, sizeof(*by_id));
        if (!facts || !by_id)
                return -ENOMEM;
        for (size_t i = 0; i < s->sandboxes.n; i++) {
                const CriPodSandbox *sb = &s->sandboxes.items[i];

                by_id[i] = sb;
                if (sb->pod_uid && sb->pod_uid[0] != '\0')
                        facts[n++] = (PodFacts){
                                .uid = sb->pod_uid,
                                .ready = sb->state == CRI_SANDBOX_READY,
                                .maybe_ready = sb->state != CRI_SANDBOX_NOTREADY,
                        };
        }
        qsort(facts, n, sizeof(*facts), compare_facts);
        for (size_t i = 0; i < n; i++)
                if (n_unique > 0 && streq(facts[n_unique - 1].uid, facts[i].uid)) {
                        facts[n_unique - 1].ready |= facts[i].ready;
                        facts[n_unique - 1].maybe_ready |= facts[i].maybe_ready;
                } else
                        facts[n_unique++] = facts[i];
        qsort(by_id, s->sandboxes.n, sizeof(*by_id), compare_sandbox_ids);

        for (size_t i = 0; i < s->containers.n; i++) {
                const CriContainer *c = &s->containers.items[i];
                CriPodSandbox key = {.id = c->pod_sandbox_id ?: ""};
                const CriPodSandbox *k = &key, **sb;
                PodFacts *f;

                if (c->state == CRI_CONTAINER_EXITED)
                        continue;
                /* Running, created (about to start) or unknown (may run): the pod may be running. */
                f = facts_find(facts, n_unique, container_uid(c));
                if (f)
                        f->live_container = true;
                sb = s->sandboxes.n > 0
                             ? bsearch(&k, by_id, s->sandboxes.n, sizeof(*by_id), compare_sandbox_ids)
                             : NULL;
                f = sb ? facts_find(facts, n_unique, (*sb)->pod_uid) : NULL;
                if (f)
                        f->live_container = true;
        }
        *ret = TAKE_PTR(facts);
        *ret_n = n_unique;
        return 0;
}

static int compare_pod_dir_uids(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static bool pod_dir_has(const char **uids, size_t n, const char *uid) {
        return n > 0 && bsearch(&uid, uids, n, sizeof(*uids), compare_pod_dir_uids);
}

/* The pod's deleted-pod record if it is past the grace (deleted), else NULL. */
static const DeletedPod *deleted_past_grace(const Plan *p, const char *uid) {
        for (size_t lo = 0, hi = p->deleted.n_pods; uid && lo < hi;) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(uid, p->deleted.pods[mid].uid);

                if (c == 0)
                        return p->deleted.pods[mid].past_grace ? &p->deleted.pods[mid] : NULL;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

static int deleted_off(Plan *p, DeletedRule rule, const State *saved, const char *format, ...)
        _printf_(4, 5);
static int deleted_off(Plan *p, DeletedRule rule, const State *saved, const char *format, ...) {
        va_list ap;
        int r;

        p->deleted.rule = rule;
        va_start(ap, format);
        r = vasprintf(&p->deleted.off_reason, format, ap);
        va_end(ap);
        if (r < 0) {
                p->deleted.off_reason = NULL;
                return -ENOMEM;
        }
        /* Sources that cannot be judged stop no clock; a wrong pod dir root restarts them all, as
         * the absence of a pod dir meant nothing. */
        return saved ? state_deleted_copy(saved, &p->state) : 0;
}

/* Deleted pods (DESIGN §2, issue 12): the kubelet removes <root-dir>/pods/<uid> only for a pod
 * it no longer has — cleanupOrphanedPodDirs skips every pod of its pod manager (finished ones too,
 * until the API deletes them) and every pod with a running container or a ready sandbox. A pod
 * the runtime has sandboxes of, none ready, no container that may run, no pod dir, not active in
 * the kubelet, for the grace, is one the kubelet's podDeletionProvider (ShouldPodContentBeRemoved)
 * calls deleted: kuberuntime_gc.go then removes all its dead containers and inactive sandboxes.
 * Fills p->deleted and the deleted records of p->state; *ret gets the uids past the grace (sorted,
 * pointing into p). */
static int deleted_judge(
        const Snapshot *s, const Options *o, const State *saved, Plan *p, const char ***ret, size_t *ret_n) {
        _cleanup_free_ const char **dirs = NULL, **past = NULL;
        _cleanup_free_ PodFacts *facts = NULL;
        char age[DURATION_MAX_LEN], grace[DURATION_MAX_LEN];
        size_t n_facts = 0, n_past = 0, n_no_dir = 0;
        const char *no_dir = NULL;
        int r;

        *ret = NULL;
        *ret_n = 0;
        p->deleted.considered = true;
        format_duration(grace, sizeof(grace), o->orphan_grace);

        /* Every source read, as the kubelet's allSourcesReady; the kubelet also when it is not
         * required for the pod-level kinds: nothing else says which pods are active. */
        if (p->pod_level_blocked)
                return deleted_off(p, DELETED_RULE_OFF_SOURCES, saved, "not every source was read");
        if (!s->kubelet.ok)
                return deleted_off(
                        p,
                        DELETED_RULE_OFF_KUBELET,
                        saved,
                        "the kubelet was not read (--require-kubelet=false): %s",
                        s->kubelet.error ?: "unknown error");
        if (s->kubelet_started == 0)
                return deleted_off(
                        p,
                        DELETED_RULE_OFF_KUBELET,
                        saved,
                        "kubelet start time unknown (no pod-resources socket change time)");
        if (s->now < s->kubelet_started || s->now - s->kubelet_started < o->orphan_grace)
                return deleted_off(
                        p,
                        DELETED_RULE_OFF_KUBELET,
                        saved,
                        "kubelet up for %s, less than the %s grace",
                        plan_format_age(
                                age,
                                sizeof(age),
                                s->now > s->kubelet_started ? s->now - s->kubelet_started : 0),
                        grace);

        r = pod_facts_collect(s, &facts, &n_facts);
        if (r < 0)
                return r;
        dirs = calloc(s->n_pod_dirs + 1, sizeof(*dirs));
        past = calloc(n_facts + 1, sizeof(*past));
        p->deleted.pods = calloc(n_facts + 1, sizeof(*p->deleted.pods));
        if (!dirs || !past || !p->deleted.pods)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_pod_dirs; i++)
                dirs[i] = s->pod_dirs[i].uid;
        qsort(dirs, s->n_pod_dirs, sizeof(*dirs), compare_pod_dir_uids);

        /* The kubelet makes the pod dir before the sandbox and keeps it while a sandbox is ready:
         * a ready one without it says the dirs looked at are not the kubelet's. */
        for (size_t i = 0; i < n_facts; i++)
                if (facts[i].ready && !pod_dir_has(dirs, s->n_pod_dirs, facts[i].uid)) {
                        no_dir = no_dir ?: facts[i].uid;
                        n_no_dir++;
                }
        if (no_dir) {
                _cleanup_free_ char *pods = NULL, *more = NULL;

                p->deleted.no_pod_dir_uid = strdup(no_dir);
                r = path_join(o->root_dir, "pods", &pods);
                if (r < 0 || !p->deleted.no_pod_dir_uid ||
                    (n_no_dir > 1 && asprintf(&more, " (and %zu more such pods)", n_no_dir - 1) < 0))
                        return -ENOMEM;
                return deleted_off(
                        p,
                        DELETED_RULE_OFF_NO_POD_DIR,
                        NULL,
                        "pod %s has a ready sandbox but no pod dir in %s%s: --root-dir is not the "
                        "kubelet's, or the kubelet does not manage this node's pods",
                        no_dir,
                        pods,
                        more ?: "");
        }

        for (size_t i = 0; i < n_facts; i++) {
                const PodFacts *f = &facts[i];
                DeletedPod *d = &p->deleted.pods[p->deleted.n_pods];
                usec_t first;

                /* Only a uid that Action.uid and the state file can hold, so that the actor can
                 * re-check it. */
                if (!cgfs_uid_is_valid(f->uid) || f->maybe_ready || f->live_container ||
                    pod_dir_has(dirs, s->n_pod_dirs, f->uid) ||
                    uid_list_contains(s->kubelet_uids, s->n_kubelet_uids, f->uid))
                        continue;
                first = state_deleted_first_seen(saved, f->uid);
                if (first == 0 || first > s->now)
                        first = s->now; /* a clock that went back starts it now */
                r = state_deleted_see(&p->state, f->uid, first);
                if (r < 0)
                        return r;

                *d = (DeletedPod){.first_seen = first, .past_grace = s->now - first >= o->orphan_grace};
                (void) snprintf(d->uid, sizeof(d->uid), "%s", f->uid);
                if (asprintf(
                            &d->evidence,
                            "pod dir removed by the kubelet, no ready sandbox, no running container, not "
                            "active in the kubelet, for %s (grace %s)",
                            plan_format_age(age, sizeof(age), s->now - first),
                            grace) < 0) {
                        d->evidence = NULL;
                        return -ENOMEM;
                }
                p->deleted.n_pods++;
                if (d->past_grace)
                        past[n_past++] = d->uid;
        }
        *ret = TAKE_PTR(past);
        *ret_n = n_past;
        return 0;
}

/* gone and deleted in one sorted list: both lose every dead container and inactive sandbox. */
static int
uids_merge(const char **a, size_t n_a, const char **b, size_t n_b, const char ***ret, size_t *ret_n) {
        const char **m = calloc(n_a + n_b + 1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        if (n_a > 0)
                memcpy(m, a, n_a * sizeof(*m));
        if (n_b > 0)
                memcpy(m + n_a, b, n_b * sizeof(*m));
        qsort(m, n_a + n_b, sizeof(*m), compare_strings);
        *ret = m;
        *ret_n = n_a + n_b;
        return 0;
}

static usec_t age_of(const Snapshot *s, int64_t created_ns) {
        usec_t created = created_ns > 0 ? (usec_t) created_ns / 1000 : 0;

        return s->now > created ? s->now - created : 0;
}

/* ---- containers ---------------------------------------------------------------------------------- */

static const char *container_state_words(int state) {
        switch (state) {
        case CRI_CONTAINER_CREATED:
                return "created (never started)";
        case CRI_CONTAINER_EXITED:
                return "exited";
        case CRI_CONTAINER_UNKNOWN:
                return "unknown-state";
        default:
                return "dead";
        }
}

static int container_reason(
        const Snapshot *s,
        const Options *o,
        const CriContainer *c,
        GcVerdict v,
        const DeletedPod *deleted,
        char **ret) {
        char age[DURATION_MAX_LEN];
        const char *state = container_state_words(c->state);
        int r;

        plan_format_age(age, sizeof(age), age_of(s, c->created_at));
        switch (v) {
        case GC_EVICT_POD_GONE:
                if (deleted) {
                        r = asprintf(
                                ret,
                                "%s container '%s' (attempt %u, created %s ago) of a deleted pod: %s",
                                state,
                                c->name,
                                c->attempt,
                                age,
                                deleted->evidence);
                        break;
                }
                r = asprintf(
                        ret,
                        "%s container '%s' (attempt %u, created %s ago) of a gone pod: no sandbox of it in "
                        "the "
                        "runtime, not active in the kubelet",
                        state,
                        c->name,
                        c->attempt,
                        age);
                break;
        case GC_EVICT_PER_CONTAINER:
                r = asprintf(
                        ret,
                        "%s container '%s' (attempt %u, created %s ago): more than %d dead of it in the pod "
                        "(--maximum-dead-containers-per-container), oldest first",
                        state,
                        c->name,
                        c->attempt,
                        age,
                        o->maximum_dead_containers_per_container);
                break;
        default:
                r = asprintf(
                        ret,
                        "%s container '%s' (attempt %u, created %s ago): more than %d dead containers on "
                        "the "
                        "node (--maximum-dead-containers), an equal share per container, then oldest first",
                        state,
                        c->name,
                        c->attempt,
                        age,
                        o->maximum_dead_containers);
                break;
        }
        return r < 0 ? -ENOMEM : 0;
}

typedef struct Evicted {
        const CriContainer *container;
        GcVerdict verdict;
} Evicted;

/* The plan lists them by pod and container name, oldest first: how an operator reads them. */
static int compare_evicted(const void *a, const void *b) {
        const CriContainer *x = ((const Evicted *) a)->container, *y = ((const Evicted *) b)->container;
        int c;

        if ((c = strcmp(container_uid(x) ?: "", container_uid(y) ?: "")) != 0 ||
            (c = strcmp(x->name, y->name)) != 0)
                return c;
        if (x->created_at != y->created_at)
                return x->created_at < y->created_at ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int containers_emit(Builder *b, const Snapshot *s, const Options *o, const GcVerdict *verdicts) {
        _cleanup_free_ Evicted *evicted = NULL;
        size_t n = 0;

        evicted = calloc(s->containers.n + 1, sizeof(*evicted));
        if (!evicted)
                return -ENOMEM;
        for (size_t i = 0; i < s->containers.n; i++)
                if (verdicts[i] != GC_KEEP)
                        evicted[n++] = (Evicted){&s->containers.items[i], verdicts[i]};
        qsort(evicted, n, sizeof(*evicted), compare_evicted);

        for (size_t i = 0; i < n; i++) {
                const CriContainer *c = evicted[i].container;
                const char *uid = action_uid(container_uid(c));
                const DeletedPod *deleted =
                        evicted[i].verdict == GC_EVICT_POD_GONE ? deleted_past_grace(b->plan, uid) : NULL;
                bool gone = evicted[i].verdict == GC_EVICT_POD_GONE && !deleted;
                _cleanup_free_ char *reason = NULL, *stop_reason = NULL;
                Action *a;
                int r;

                r = container_reason(s, o, c, evicted[i].verdict, deleted, &reason);
                if (r < 0)
                        return r;
                /* removeOldestN: a container in an unknown state may still run; stop it first. */
                if (c->state == CRI_CONTAINER_UNKNOWN) {
                        if (asprintf(
                                    &stop_reason,
                                    "%s; stopped at once (timeout 0) before its removal",
                                    reason) < 0)
                                return -ENOMEM;
                        a = plan_action_add(b, ACTION_STOP_CONTAINER, uid, c->id, stop_reason);
                        if (!a)
                                return -ENOMEM;
                        a->pod_gone = gone;
                        a->pod_deleted = deleted != NULL;
                }
                a = plan_action_add(b, ACTION_REMOVE_CONTAINER, uid, c->id, reason);
                if (!a)
                        return -ENOMEM;
                a->pod_gone = gone;
                a->pod_deleted = deleted != NULL;
        }
        return 0;
}

/* ---- sandboxes ----------------------------------------------------------------------------------- */

static int sandboxes_emit(Builder *b, const Snapshot *s, const GcVerdict *verdicts) {
        for (size_t i = 0; i < s->sandboxes.n; i++) {
                const CriPodSandbox *sb = &s->sandboxes.items[i];
                const char *uid = action_uid(sb->pod_uid);
                const DeletedPod *deleted = NULL;
                _cleanup_free_ char *reason = NULL, *why = NULL;
                char age[DURATION_MAX_LEN];
                Action *a;

                if (verdicts[i] == GC_KEEP)
                        continue;
                if (verdicts[i] == GC_EVICT_POD_GONE)
                        deleted = deleted_past_grace(b->plan, uid);
                if (deleted) {
                        if (asprintf(&why, "its pod is deleted (%s)", deleted->evidence) < 0)
                                return -ENOMEM;
                } else if (!(why = strdup(
                                     verdicts[i] == GC_EVICT_POD_GONE ? "its pod is gone"
                                                                      : "not the pod's newest sandbox")))
                        return -ENOMEM;
                plan_format_age(age, sizeof(age), age_of(s, sb->created_at));
                if (asprintf(
                            &reason,
                            "NotReady sandbox (attempt %u, created %s ago) without containers: %s; stopped, "
                            "then removed",
                            sb->attempt,
                            age,
                            why) < 0)
                        return -ENOMEM;
                a = plan_action_add(b, ACTION_REMOVE_SANDBOX, uid, sb->id, reason);
                if (!a)
                        return -ENOMEM;
                a->pod_gone = verdicts[i] == GC_EVICT_POD_GONE && !deleted;
                a->pod_deleted = deleted != NULL;
        }
        return 0;
}

/* ---- dead container log symlinks ----------------------------------------------------------------- */

static int log_links_emit(Builder *b, const Snapshot *s, const Options *o) {
        for (size_t i = 0; i < s->n_dead_log_links; i++) {
                const char *name = s->dead_log_links[i];
                _cleanup_free_ char *target = NULL, *reason = NULL;
                size_t len = 0;
                const char *id = gc_log_symlink_container_id(name, &len);
                bool listed = false;
                int r;

                if (!gc_log_symlink_removable(name, s->containers.items, s->containers.n))
                        continue;
                for (size_t j = 0; id && j < s->containers.n; j++)
                        listed = listed || strncmp(s->containers.items[j].id, id, len) == 0;
                if (!id)
                        r = asprintf(
                                &reason,
                                "dead symlink: its target is gone and its name holds no container id");
                else
                        r = asprintf(
                                &reason,
                                "dead symlink: its target is gone and container %.*s %s",
                                (int) len,
                                id,
                                listed ? "has exited" : "is not in the runtime");
                if (r < 0)
                        return -ENOMEM;
                r = path_join(o->container_logs_dir, name, &target);
                if (r < 0)
                        return r;
                if (!plan_action_add(b, ACTION_REMOVE_LOG_SYMLINK, "", target, reason))
                        return -ENOMEM;
        }
        return 0;
}

/* ---- images -------------------------------------------------------------------------------------- */

static const char *image_name(const CriImage *im) {
        if (im->n_repo_tags > 0)
                return im->repo_tags[0];
        if (im->n_repo_digests > 0)
                return im->repo_digests[0];
        return im->id;
}

static int image_reason(
        const Snapshot *s,
        const Options *o,
        const GcImage *g,
        const CriImage *im,
        GcVerdict v,
        const ImageGc *ig,
        char **ret) {
        char size[BYTES_MAX_LEN], used[DURATION_MAX_LEN], seen[DURATION_MAX_LEN], max_age[DURATION_MAX_LEN],
                to_free[BYTES_MAX_LEN];
        _cleanup_free_ char *last = NULL;
        int r;

        format_bytes(size, sizeof(size), g->size);
        plan_format_age(seen, sizeof(seen), s->now > g->first_detected ? s->now - g->first_detected : 0);
        if (g->last_used == 0)
                last = strdup("never seen in use");
        else if (
                asprintf(
                        &last,
                        "last used %s ago",
                        plan_format_age(
                                used, sizeof(used), s->now > g->last_used ? s->now - g->last_used : 0)) < 0)
                last = NULL;
        if (!last)
                return -ENOMEM;

        if (v == GC_EVICT_IMAGE_AGE)
                r = asprintf(
                        ret,
                        "unused image %s (%s), %s, first seen %s ago: unused for longer than "
                        "--image-maximum-gc-age=%s",
                        image_name(im),
                        size,
                        last,
                        seen,
                        format_duration(max_age, sizeof(max_age), o->image_maximum_gc_age));
        else
                r = asprintf(
                        ret,
                        "unused image %s (%s), %s, first seen %s ago: image filesystem at %u%% "
                        "(--image-gc-high-threshold=%u), %s to free to reach %u%%, least recently used "
                        "first",
                        image_name(im),
                        size,
                        last,
                        seen,
                        ig->usage_percent,
                        o->image_gc_high_threshold,
                        format_bytes(to_free, sizeof(to_free), ig->bytes_to_free),
                        o->image_gc_low_threshold);
        return r < 0 ? -ENOMEM : 0;
}

/* FreeDiskSpaceFailed, in the kubelet's sense: over the threshold and not enough to remove. */
static int image_gc_problem(const Snapshot *s, const Options *o, ImageGc *ig) {
        char to_free[BYTES_MAX_LEN], freed[BYTES_MAX_LEN];

        if (!ig->over_threshold || ig->bytes_freed >= ig->bytes_to_free)
                return 0;
        if (asprintf(
                    &ig->problem,
                    "image filesystem %s at %u%% (--image-gc-high-threshold=%u): %s to free to reach %u%%, "
                    "only "
                    "%s eligible (unused, unpinned, not a sandbox image, first seen at least "
                    "--minimum-image-ttl-duration ago)",
                    s->image_fs.mountpoint,
                    ig->usage_percent,
                    o->image_gc_high_threshold,
                    format_bytes(to_free, sizeof(to_free), ig->bytes_to_free),
                    o->image_gc_low_threshold,
                    format_bytes(freed, sizeof(freed), ig->bytes_freed)) < 0)
                return -ENOMEM;
        return 0;
}

/* A runtime that answers an image without an id, or one id twice, is not one to take at its
 * word: such images count as in use (the second of an id too, so its size is not counted twice). */
static int images_unnamed_or_twice(const CriImageList *l, bool *in_use) {
        _cleanup_free_ const char **sorted = NULL;

        sorted = calloc(l->n + 1, sizeof(*sorted));
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++)
                sorted[i] = l->items[i].id;
        qsort(sorted, l->n, sizeof(*sorted), compare_strings);
        for (size_t i = 0; i < l->n; i++) {
                const char *id = l->items[i].id;
                const char **at = bsearch(&id, sorted, l->n, sizeof(*sorted), compare_strings);

                if (id[0] == '\0' || (at > sorted && streq(at[-1], id)) ||
                    (at + 1 < sorted + l->n && streq(at[1], id)))
                        in_use[i] = true;
        }
        return 0;
}

static int images_plan(
        Builder *b,
        const Snapshot *s,
        const Options *o,
        const State *saved,
        const GcVerdict *container_verdicts) {
        _cleanup_(gc_image_refs_freep) GcImageRefs *refs = NULL;
        const CriImageList *l = &s->image_list;
        _cleanup_free_ const char **ids = NULL;
        _cleanup_free_ GcImage *images = NULL;
        _cleanup_free_ GcVerdict *verdicts = NULL;
        _cleanup_free_ bool *in_use = NULL;
        ImageGc *ig = &b->plan->image_gc;
        GcImageResult result;
        int r;

        ids = calloc(l->n + 1, sizeof(*ids));
        images = calloc(l->n + 1, sizeof(*images));
        verdicts = calloc(l->n + 1, sizeof(*verdicts));
        in_use = calloc(l->n + 1, sizeof(*in_use));
        if (!ids || !images || !verdicts || !in_use)
                return -ENOMEM;

        r = gc_image_refs_for_node(
                s->containers.items,
                s->containers.n,
                container_verdicts,
                s->sandbox_image,
                o->pod_infra_container_image,
                &refs);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n; i++) {
                ids[i] = l->items[i].id;
                in_use[i] = gc_image_refs_has(refs, &l->items[i]);
        }
        r = images_unnamed_or_twice(l, in_use);
        if (r < 0)
                return r;
        r = gc_images_detect(saved, ids, in_use, l->n, s->now, &b->plan->state);
        if (r < 0)
                return r;

        for (size_t i = 0; i < l->n; i++) {
                const ImageSeen *rec = state_image_find(&b->plan->state, ids[i]);

                images[i] = (GcImage){
                        .id = ids[i],
                        .size = l->items[i].size,
                        .pinned = l->items[i].pinned,
                        .in_use = in_use[i] || !rec, /* no record (an id the state cannot hold): kept */
                        .first_detected = rec ? rec->first_detected : s->now,
                        .last_used = rec ? rec->last_used : 0,
                        .unused_since = rec ? rec->unused_since : 0,
                };
        }

        const GcImagePolicy policy = {
                .high_threshold = o->image_gc_high_threshold,
                .low_threshold = o->image_gc_low_threshold,
                .min_age = o->minimum_image_ttl_duration,
                .max_age = o->image_maximum_gc_age,
        };
        r = gc_images(
                images,
                l->n,
                &policy,
                s->image_fs.capacity,
                s->image_fs.available,
                s->now,
                verdicts,
                &result);
        if (r == -EINVAL)
                return asprintf(
                               &ig->problem,
                               "invalid capacity 0 on image filesystem %s",
                               s->image_fs.mountpoint) < 0
                               ? -ENOMEM
                               : 0;
        if (r < 0)
                return r;
        *ig = (ImageGc){
                .ran = true,
                .usage_percent = result.usage_percent,
                .over_threshold = result.over_threshold,
                .bytes_to_free = result.bytes_to_free,
                .bytes_freed = result.bytes_freed,
                .bytes_aged = result.bytes_aged,
        };

        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *reason = NULL;

                if (verdicts[i] == GC_KEEP)
                        continue;
                r = image_reason(s, o, &images[i], &l->items[i], verdicts[i], ig, &reason);
                if (r < 0)
                        return r;
                if (!plan_action_add(b, ACTION_REMOVE_IMAGE, "", ids[i], reason))
                        return -ENOMEM;
        }
        return image_gc_problem(s, o, ig);
}

/* ---- the runtime GC plan ------------------------------------------------------------------------- */

int plan_gc_build(Builder *b, const Snapshot *s, const Options *o, const State *saved) {
        _cleanup_free_ GcVerdict *container_verdicts = NULL, *sandbox_verdicts = NULL;
        _cleanup_free_ const char **gone = NULL, **deleted = NULL, **evict = NULL;
        Plan *p = b->plan;
        size_t n_gone = 0, n_deleted = 0, n_evict = 0;
        int r;

        /* reap-pod is about one pod's leftovers; without the runtime's lists there is nothing to go
         * by. The image and deleted-pod records then stay as they were. */
        if (o->command == COMMAND_REAP_POD || !s->cri.ok) {
                r = state_deleted_copy(saved, &p->state);
                return r < 0 ? r : state_images_copy(saved, &p->state);
        }

        r = gone_uids_collect(s, !p->pod_level_blocked, &gone, &n_gone);
        if (r < 0)
                return r;
        if (o->only & (KIND_CONTAINERS | KIND_SANDBOXES))
                r = deleted_judge(s, o, saved, p, &deleted, &n_deleted);
        else
                r = state_deleted_copy(saved, &p->state);
        if (r < 0)
                return r;
        r = uids_merge(gone, n_gone, deleted, n_deleted, &evict, &n_evict);
        if (r < 0)
                return r;

        container_verdicts = calloc(s->containers.n + 1, sizeof(*container_verdicts));
        sandbox_verdicts = calloc(s->sandboxes.n + 1, sizeof(*sandbox_verdicts));
        if (!container_verdicts || !sandbox_verdicts)
                return -ENOMEM;

        /* The later kinds see the containers this pass removes as gone, as the kubelet's sandbox
         * and image GC see them after its container GC. The actor re-checks before each step. */
        if (o->only & KIND_CONTAINERS) {
                const GcContainerPolicy policy = {
                        .min_age = o->minimum_container_ttl_duration,
                        .max_per_pod_container = o->maximum_dead_containers_per_container,
                        .max_containers = o->maximum_dead_containers,
                };
                r = gc_containers(
                        s->containers.items,
                        s->containers.n,
                        &policy,
                        (char *const *) evict,
                        n_evict,
                        s->now,
                        container_verdicts);
                if (r < 0)
                        return r;
                r = containers_emit(b, s, o, container_verdicts);
                if (r < 0)
                        return r;
        }
        if (o->only & KIND_SANDBOXES) {
                r = gc_sandboxes(
                        s->sandboxes.items,
                        s->sandboxes.n,
                        s->containers.items,
                        s->containers.n,
                        container_verdicts,
                        (char *const *) evict,
                        n_evict,
                        sandbox_verdicts);
                if (r < 0)
                        return r;
                r = sandboxes_emit(b, s, sandbox_verdicts);
                if (r < 0)
                        return r;
        }
        if ((o->only & KIND_LOGS) && s->log_links.ok) {
                r = log_links_emit(b, s, o);
                if (r < 0)
                        return r;
        }

        if (!(o->only & KIND_IMAGES))
                return state_images_copy(saved, &p->state);
        if (!s->images.ok) {
                if (asprintf(
                            &p->image_gc.problem,
                            "image data not read: %s",
                            s->images.error ?: "unknown error") < 0)
                        return -ENOMEM;
                return state_images_copy(saved, &p->state);
        }
        return images_plan(b, s, o, saved, container_verdicts);
}
