/* SPDX-License-Identifier: MIT */
/* The kubelet's runtime garbage collection policies, as pure functions (see gc.h). The structure
 * follows kuberuntime_gc.go and image_gc_manager.go closely, so that their test cases carry over
 * unchanged: "evict units" are (pod uid, container name) groups, newest first. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reaper/gc.h"
#include "reaper/snapshot.h"
#include "util/macro.h"

static usec_t ns_to_usec(int64_t ns) {
        return ns > 0 ? (usec_t) ns / 1000 : 0;
}

static usec_t usec_age(usec_t now, usec_t t) {
        return now > t ? now - t : 0;
}

static bool container_stays(const GcVerdict *verdicts, size_t i) {
        return !verdicts || verdicts[i] == GC_KEEP;
}

/* ---- containers ---------------------------------------------------------------------------------- */

typedef struct Dead {
        size_t index; /* into the caller's containers */
        const char *uid;
        const char *name;
        int64_t created_at;
        const char *id;
} Dead;

/* Evict units together, each newest first (the kubelet's byCreated); ties by id, for a stable
 * order. */
static int compare_dead(const void *a, const void *b) {
        const Dead *x = a, *y = b;
        int c;

        if ((c = strcmp(x->uid, y->uid)) != 0 || (c = strcmp(x->name, y->name)) != 0)
                return c;
        if (x->created_at != y->created_at)
                return x->created_at > y->created_at ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int compare_dead_newest_first(const void *a, const void *b) {
        const Dead *x = *(Dead *const *) a, *y = *(Dead *const *) b;

        if (x->created_at != y->created_at)
                return x->created_at > y->created_at ? -1 : 1;
        return strcmp(x->id, y->id);
}

typedef struct Unit {
        Dead *dead; /* newest first */
        size_t n;   /* still kept */
} Unit;

/* removeOldestN: the unit keeps its `keep` newest. */
static void unit_keep_newest(Unit *u, size_t keep, GcVerdict why, GcVerdict *verdicts) {
        for (size_t i = keep; i < u->n; i++)
                verdicts[u->dead[i].index] = why;
        u->n = MIN(u->n, keep);
}

int gc_containers(
        const CriContainer *containers,
        size_t n,
        const GcContainerPolicy *policy,
        char *const *gone_uids,
        size_t n_gone,
        usec_t now,
        GcVerdict *verdicts) {
        _cleanup_free_ Dead *dead = NULL;
        _cleanup_free_ Unit *units = NULL;
        _cleanup_free_ Dead **flat = NULL;
        size_t n_dead = 0, n_units = 0, n_left = 0;

        if ((n > 0 && (!containers || !verdicts)) || !policy)
                return -EINVAL;

        dead = calloc(n + 1, sizeof(*dead));
        units = calloc(n + 1, sizeof(*units));
        if (!dead || !units)
                return -ENOMEM;

        /* evictableContainers: not running, older than the minimum age, the kubelet's. */
        for (size_t i = 0; i < n; i++) {
                const CriContainer *c = &containers[i];
                const char *uid = cri_map_get(&c->labels, POD_UID_LABEL);

                verdicts[i] = GC_KEEP;
                if (c->state == CRI_CONTAINER_RUNNING || !uid || uid[0] == '\0' || c->id[0] == '\0')
                        continue;
                if (usec_age(now, ns_to_usec(c->created_at)) < policy->min_age ||
                    ns_to_usec(c->created_at) > now)
                        continue;
                dead[n_dead++] = (Dead){i, uid, c->name, c->created_at, c->id};
        }
        qsort(dead, n_dead, sizeof(*dead), compare_dead);

        for (size_t i = 0, j; i < n_dead; i = j) {
                for (j = i + 1;
                     j < n_dead && streq(dead[j].uid, dead[i].uid) && streq(dead[j].name, dead[i].name);
                     j++)
                        ;
                /* A pod that is gone loses every dead container, and its units count no further. */
                if (uid_list_contains(gone_uids, n_gone, dead[i].uid)) {
                        for (size_t k = i; k < j; k++)
                                verdicts[dead[k].index] = GC_EVICT_POD_GONE;
                        continue;
                }
                units[n_units++] = (Unit){dead + i, j - i};
        }

        if (policy->max_per_pod_container >= 0)
                for (size_t u = 0; u < n_units; u++)
                        unit_keep_newest(
                                &units[u],
                                (size_t) policy->max_per_pod_container,
                                GC_EVICT_PER_CONTAINER,
                                verdicts);

        for (size_t u = 0; u < n_units; u++)
                n_left += units[u].n;
        if (policy->max_containers < 0 || n_left <= (size_t) policy->max_containers)
                return 0;

        /* An equal share per unit (at least 1), then the oldest across the node. */
        size_t share = MAX((size_t) policy->max_containers / n_units, (size_t) 1);
        n_left = 0;
        for (size_t u = 0; u < n_units; u++) {
                unit_keep_newest(&units[u], share, GC_EVICT_TOTAL, verdicts);
                n_left += units[u].n;
        }
        if (n_left <= (size_t) policy->max_containers)
                return 0;

        flat = calloc(n_left, sizeof(*flat));
        if (!flat)
                return -ENOMEM;
        size_t k = 0;
        for (size_t u = 0; u < n_units; u++)
                for (size_t i = 0; i < units[u].n; i++)
                        flat[k++] = &units[u].dead[i];
        qsort(flat, k, sizeof(*flat), compare_dead_newest_first);
        for (size_t i = (size_t) policy->max_containers; i < k; i++)
                verdicts[flat[i]->index] = GC_EVICT_TOTAL;
        return 0;
}

/* ---- sandboxes ----------------------------------------------------------------------------------- */

typedef struct SandboxInfo {
        size_t index;
        const char *uid;
        int64_t created_at;
        const char *id;
        bool active;
} SandboxInfo;

static int compare_sandboxes(const void *a, const void *b) {
        const SandboxInfo *x = a, *y = b;
        int c = strcmp(x->uid, y->uid);

        if (c != 0)
                return c;
        if (x->created_at != y->created_at)
                return x->created_at > y->created_at ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int gc_sandboxes(
        const CriPodSandbox *sandboxes,
        size_t n,
        const CriContainer *containers,
        size_t n_containers,
        const GcVerdict *container_verdicts,
        char *const *gone_uids,
        size_t n_gone,
        GcVerdict *verdicts) {
        _cleanup_free_ SandboxInfo *info = NULL;
        _cleanup_free_ const char **referenced = NULL;
        size_t n_info = 0, n_referenced = 0;

        if ((n > 0 && (!sandboxes || !verdicts)) || (n_containers > 0 && !containers))
                return -EINVAL;

        info = calloc(n + 1, sizeof(*info));
        referenced = calloc(n_containers + 1, sizeof(*referenced));
        if (!info || !referenced)
                return -ENOMEM;

        /* The sandboxes that containers staying on the node still belong to. */
        for (size_t i = 0; i < n_containers; i++)
                if (container_stays(container_verdicts, i) && containers[i].pod_sandbox_id)
                        referenced[n_referenced++] = containers[i].pod_sandbox_id;
        qsort(referenced, n_referenced, sizeof(*referenced), compare_strings);

        for (size_t i = 0; i < n; i++) {
                const CriPodSandbox *sb = &sandboxes[i];

                verdicts[i] = GC_KEEP;
                /* The kubelet creates no sandbox without a uid; one that has none is not ours. */
                if (!sb->pod_uid || sb->pod_uid[0] == '\0' || sb->id[0] == '\0')
                        continue;
                info[n_info++] = (SandboxInfo){
                        .index = i,
                        .uid = sb->pod_uid,
                        .created_at = sb->created_at,
                        .id = sb->id,
                        .active = sb->state == CRI_SANDBOX_READY || bsearch(&sb->id,
                                                                            referenced,
                                                                            n_referenced,
                                                                            sizeof(*referenced),
                                                                            compare_strings),
                };
        }
        qsort(info, n_info, sizeof(*info), compare_sandboxes);

        for (size_t i = 0, j; i < n_info; i = j) {
                bool gone = uid_list_contains(gone_uids, n_gone, info[i].uid);

                for (j = i + 1; j < n_info && streq(info[j].uid, info[i].uid); j++)
                        ;
                /* Gone: every inactive one, even the newest. Else the newest stays, active or not. */
                for (size_t k = gone ? i : i + 1; k < j; k++)
                        if (!info[k].active)
                                verdicts[info[k].index] = gone ? GC_EVICT_POD_GONE : GC_EVICT_SANDBOX;
        }
        return 0;
}

/* ---- images -------------------------------------------------------------------------------------- */

/* A reference as the runtime stores it: "busybox" is "docker.io/library/busybox:latest",
 * "docker.io/busybox" "docker.io/library/busybox:latest". Ids and digests stay as they are. NULL
 * when out of memory. */
static char *normalize_ref(const char *ref) {
        const char *slash = strchr(ref, '/'), *last = strrchr(ref, '/');
        const char *name = last ? last + 1 : ref;
        bool id = strncmp(ref, "sha256:", 7) == 0;
        bool has_tag = strchr(name, ':') || strchr(ref, '@');
        const char *prefix = "", *rest = ref;
        char *ret;

        if (id)
                return strdup(ref);
        if (!slash)
                prefix = "docker.io/library/";
        else if (strncmp(ref, "docker.io/", 10) == 0 && !strchr(ref + 10, '/')) {
                prefix = "docker.io/library/"; /* the official images' short form */
                rest = ref + 10;
        } else if (strcspn(ref, ".:") > (size_t) (slash - ref) && strncmp(ref, "localhost/", 10) != 0)
                prefix = "docker.io/"; /* the first part is no registry host */
        if (asprintf(&ret, "%s%s%s", prefix, rest, has_tag ? "" : ":latest") < 0)
                return NULL;
        return ret;
}

/* The repository's last path component is "pause": the sandbox image of every distribution. */
static bool image_is_pause(const CriImage *image) {
        for (size_t i = 0; i < image->n_repo_tags; i++) {
                const char *t = image->repo_tags[i], *slash = strrchr(t, '/');
                const char *name = slash ? slash + 1 : t;

                if (strncmp(name, "pause:", 6) == 0 || streq(name, "pause"))
                        return true;
        }
        return false;
}

struct GcImageRefs {
        char **refs; /* sorted, as given and normalized */
        size_t n, allocated;
        bool any_pause;
};

GcImageRefs *gc_image_refs_free(GcImageRefs *r) {
        if (r) {
                for (size_t i = 0; i < r->n; i++)
                        free(r->refs[i]);
                free(r->refs);
                free(r);
        }
        return NULL;
}

/* The reference as given and as normalized. */
static int refs_add(GcImageRefs *r, const char *ref) {
        if (!ref || ref[0] == '\0')
                return 0;
        if (r->n + 2 > r->allocated) {
                size_t allocated = MAX(r->allocated * 2, (size_t) 64);
                char **a = reallocarray(r->refs, allocated, sizeof(*a));

                if (!a)
                        return -ENOMEM;
                r->refs = a;
                r->allocated = allocated;
        }
        r->refs[r->n] = strdup(ref);
        if (!r->refs[r->n])
                return -ENOMEM;
        r->n++;
        r->refs[r->n] = normalize_ref(ref);
        if (!r->refs[r->n])
                return -ENOMEM;
        r->n++;
        return 0;
}

int gc_image_refs_new(
        const CriContainer *containers,
        size_t n_containers,
        const GcVerdict *container_verdicts,
        const char *const *sandbox_images,
        bool any_pause,
        GcImageRefs **ret) {
        GcImageRefs *r = calloc(1, sizeof(*r));
        int k = 0;

        if (!r)
                return -ENOMEM;
        r->any_pause = any_pause;
        for (const char *const *s = sandbox_images; s && *s && k >= 0; s++)
                k = refs_add(r, *s);
        for (size_t i = 0; i < n_containers && k >= 0; i++) {
                const CriContainer *c = &containers[i];

                if (!container_stays(container_verdicts, i))
                        continue;
                k = refs_add(r, c->image_id);
                if (k >= 0)
                        k = refs_add(r, c->image_ref);
                if (k >= 0)
                        k = refs_add(r, c->image);
        }
        if (k < 0) {
                gc_image_refs_free(r);
                return k;
        }
        if (r->n > 1)
                qsort(r->refs, r->n, sizeof(*r->refs), compare_strings);
        *ret = r;
        return 0;
}

static bool refs_contain(const GcImageRefs *r, const char *ref) {
        return r->n > 0 && bsearch(&ref, r->refs, r->n, sizeof(*r->refs), compare_strings);
}

/* A name of the image, as given and normalized. */
static bool refs_name(const GcImageRefs *r, const char *name) {
        _cleanup_free_ char *normalized = NULL;

        if (refs_contain(r, name))
                return true;
        normalized = normalize_ref(name);
        /* Out of memory: "in use", the safe answer. */
        return !normalized || refs_contain(r, normalized);
}

bool gc_image_refs_has(const GcImageRefs *r, const CriImage *image) {
        if (r->any_pause && image_is_pause(image))
                return true;
        if (refs_contain(r, image->id))
                return true;
        for (size_t i = 0; i < image->n_repo_tags; i++)
                if (refs_name(r, image->repo_tags[i]))
                        return true;
        for (size_t i = 0; i < image->n_repo_digests; i++)
                if (refs_name(r, image->repo_digests[i]))
                        return true;
        return false;
}

int gc_image_refs_for_node(
        const CriContainer *containers,
        size_t n_containers,
        const GcVerdict *container_verdicts,
        const char *runtime_sandbox_image,
        const char *pod_infra_container_image,
        GcImageRefs **ret) {
        const char *sandbox_images[] = {
                runtime_sandbox_image ?: pod_infra_container_image,
                runtime_sandbox_image ? pod_infra_container_image : NULL,
                NULL,
        };

        return gc_image_refs_new(
                containers, n_containers, container_verdicts, sandbox_images, !runtime_sandbox_image, ret);
}

bool gc_image_in_use(
        const CriImage *image,
        const CriContainer *containers,
        size_t n_containers,
        const GcVerdict *container_verdicts,
        const char *const *sandbox_images) {
        GcImageRefs *r = NULL;
        bool used;

        if (gc_image_refs_new(containers, n_containers, container_verdicts, sandbox_images, false, &r) < 0)
                return true; /* out of memory: the safe answer */
        used = gc_image_refs_has(r, image);
        gc_image_refs_free(r);
        return used;
}

int gc_images_detect(
        const State *saved, const char *const *ids, const bool *in_use, size_t n, usec_t now, State *out) {
        if (!saved || !out || (n > 0 && (!ids || !in_use)))
                return -EINVAL;

        for (size_t i = 0; i < out->n_images; i++)
                free(out->images[i].id);
        out->n_images = 0;

        for (size_t i = 0; i < n; i++) {
                const ImageSeen *rec = state_image_find(saved, ids[i]);
                usec_t first = rec ? rec->first_detected : now;
                usec_t last = in_use[i] ? now : rec ? rec->last_used : 0;
                /* Unused from the first pass that saw it so: a time podreaper did not run (a
                 * node down, the timer off) between its last use and now is not counted. */
                usec_t unused = in_use[i] ? 0 : rec && rec->unused_since ? rec->unused_since : now;
                int r;

                /* An id the file cannot hold gets no record: the caller keeps such an image. */
                r = state_image_set(out, ids[i], first, last, unused);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* byLastUsedAndDetected, then the id for a stable order. */
static int compare_images(const void *a, const void *b) {
        const GcImage *x = *(GcImage *const *) a, *y = *(GcImage *const *) b;

        if (x->last_used != y->last_used)
                return x->last_used < y->last_used ? -1 : 1;
        if (x->first_detected != y->first_detected)
                return x->first_detected < y->first_detected ? -1 : 1;
        return strcmp(x->id, y->id);
}

/* A runtime may report any size: sums stop at the top rather than wrap round to "little freed". */
static uint64_t add_saturating(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static unsigned usage_percent(uint64_t capacity, uint64_t available) {
        return 100 - (unsigned) ((unsigned __int128) available * 100 / capacity);
}

int gc_images(
        const GcImage *images,
        size_t n,
        const GcImagePolicy *policy,
        uint64_t capacity,
        uint64_t available,
        usec_t now,
        GcVerdict *verdicts,
        GcImageResult *ret) {
        _cleanup_free_ const GcImage **order = NULL;
        GcImageResult result = {};
        size_t n_order = 0;

        if ((n > 0 && (!images || !verdicts)) || !policy || !ret)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                verdicts[i] = GC_KEEP;
        if (capacity == 0)
                return -EINVAL;
        available = MIN(available, capacity);
        result.usage_percent = usage_percent(capacity, available);
        /* The kubelet's StartGarbageCollection: a high threshold of 100 and no max age turn image
         * GC off (100% usage would otherwise still start it). */
        if (policy->high_threshold >= 100 && policy->max_age == 0) {
                *ret = result;
                return 0;
        }

        /* imagesInEvictionOrder: neither in use nor pinned, least recently used first. */
        order = calloc(n + 1, sizeof(*order));
        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!images[i].in_use && !images[i].pinned)
                        order[n_order++] = &images[i];
        qsort(order, n_order, sizeof(*order), compare_images);

        /* freeOldImages. The kubelet waits until it has itself run for the max age; the records
         * here outlive restarts, so the image must have been watched that long instead. */
        if (policy->max_age > 0)
                for (size_t i = 0; i < n_order; i++) {
                        const GcImage *im = order[i];

                        /* Records written by gc_images_detect() say since when; others count
                         * from the last use, or from when the image was first seen. */
                        usec_t unused = im->unused_since ?: MAX(im->last_used, im->first_detected);

                        if (usec_age(now, unused) > policy->max_age) {
                                verdicts[im - images] = GC_EVICT_IMAGE_AGE;
                                result.bytes_aged = add_saturating(result.bytes_aged, im->size);
                        }
                }

        /* The kubelet measures again after removing the old ones; count their sizes as freed. */
        available = available > capacity - MIN(result.bytes_aged, capacity) ? capacity
                                                                            : available + result.bytes_aged;
        result.over_threshold = usage_percent(capacity, available) >= policy->high_threshold;
        if (result.over_threshold) {
                uint64_t target =
                        (uint64_t) ((unsigned __int128) capacity * (100 - policy->low_threshold) / 100);

                result.bytes_to_free = target > available ? target - available : 0;
                /* freeSpace */
                for (size_t i = 0; i < n_order && result.bytes_freed < result.bytes_to_free; i++) {
                        const GcImage *im = order[i];

                        if (verdicts[im - images] != GC_KEEP)
                                continue;
                        if (im->last_used >= now) /* in use this very pass */
                                continue;
                        if (usec_age(now, im->first_detected) < policy->min_age)
                                continue; /* just pulled: a container may be about to use it */
                        verdicts[im - images] = GC_EVICT_IMAGE_SPACE;
                        result.bytes_freed = add_saturating(result.bytes_freed, im->size);
                }
        }

        *ret = result;
        return 0;
}

/* ---- dead log symlinks --------------------------------------------------------------------------- */

#define LOG_SUFFIX ".log"
#define CONTAINER_ID_MIN_LEN 6

const char *gc_log_symlink_container_id(const char *name, size_t *ret_len) {
        size_t l = name ? strlen(name) : 0;
        const char *dash;

        if (l <= strlen(LOG_SUFFIX) || !streq(name + l - strlen(LOG_SUFFIX), LOG_SUFFIX))
                return NULL;
        l -= strlen(LOG_SUFFIX);
        dash = memrchr(name, '-', l);
        if (!dash || (size_t) (name + l - dash - 1) < CONTAINER_ID_MIN_LEN)
                return NULL;
        if (ret_len)
                *ret_len = (size_t) (name + l - dash - 1);
        return dash + 1;
}

bool gc_log_symlink_removable(const char *name, const CriContainer *containers, size_t n) {
        size_t len = 0;
        const char *id = gc_log_symlink_container_id(name, &len);

        if (!id)
                return true;
        for (size_t i = 0; i < n; i++)
                if (strncmp(containers[i].id, id, len) == 0 && containers[i].state != CRI_CONTAINER_EXITED)
                        return false;
        return true;
}
