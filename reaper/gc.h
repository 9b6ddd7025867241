/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cri/cri.h"
#include "reaper/state.h"
#include "util/parse.h"

/* Runtime garbage collection (DESIGN §1: containers, sandboxes, images, dead container log
 * symlinks): the kubelet's policies — kuberuntime_gc.go evictContainers / evictSandboxes /
 * evictPodLogsDirectories and images/image_gc_manager.go — as pure functions of the runtime's
 * lists. They only decide; plan-gc.c words the reasons, act-runtime.c calls the runtime. Times in
 * usec since the epoch (CRI's created_at is in nanoseconds and is converted here). */

#define POD_UID_LABEL "io.kubernetes.pod.uid"

typedef enum GcVerdict {
        GC_KEEP,
        GC_EVICT_POD_GONE,      /* of a pod that is gone or deleted (gone_uids): all of them */
        GC_EVICT_PER_CONTAINER, /* beyond --maximum-dead-containers-per-container, oldest first */
        GC_EVICT_TOTAL,         /* beyond --maximum-dead-containers, evenly per group, then oldest */
        GC_EVICT_SANDBOX,       /* an inactive sandbox that is not its pod's newest */
        GC_EVICT_IMAGE_SPACE,   /* unused, least recently used, while the image fs is over the high
                                 * threshold */
        GC_EVICT_IMAGE_AGE,     /* unused for longer than --image-maximum-gc-age */
} GcVerdict;

/* ---- containers (evictContainers) -------------------------------------------------------------- */

typedef struct GcContainerPolicy {
        usec_t min_age;            /* --minimum-container-ttl-duration, by created_at */
        int max_per_pod_container; /* --maximum-dead-containers-per-container; < 0: no limit */
        int max_containers;        /* --maximum-dead-containers; < 0: no limit */
} GcContainerPolicy;

/* verdicts[i] for containers[i]. Evictable: not RUNNING, created at least min_age before now, with
 * the kubelet's pod uid label; grouped by (pod uid, container name), newest first. A group whose
 * pod uid is in gone_uids (sorted) goes whole; then at most max_per_pod_container per group; then,
 * if more than max_containers remain on the node, max_containers / groups per group (at least 1),
 * then the oldest across the node. Everything else is GC_KEEP. -ENOMEM or 0. */
int gc_containers(
        const CriContainer *containers,
        size_t n,
        const GcContainerPolicy *policy,
        char *const *gone_uids,
        size_t n_gone,
        usec_t now,
        GcVerdict *verdicts);

/* ---- sandboxes (evictSandboxes) ---------------------------------------------------------------- */

/* verdicts[i] for sandboxes[i]. A sandbox is active if READY or referenced (pod_sandbox_id) by a
 * container that stays: containers[j] with container_verdicts[j] == GC_KEEP (container_verdicts
 * NULL: every container stays). Per pod uid: gone (in gone_uids) → every inactive sandbox goes
 * (GC_EVICT_POD_GONE); else the newest sandbox (by created_at) stays whatever its state and the
 * other inactive ones go (GC_EVICT_SANDBOX). -ENOMEM or 0. gone_uids are the kubelet's pods whose
 * content should be removed (podDeletionProvider): podreaper's gone pods (no sandbox in any state)
 * and deleted ones (plan-gc.c: sandboxes, none ready, no pod dir, ...), whose newest sandbox then
 * goes too, as the kubelet removes a deleted pod's. */
int gc_sandboxes(
        const CriPodSandbox *sandboxes,
        size_t n,
        const CriContainer *containers,
        size_t n_containers,
        const GcVerdict *container_verdicts,
        char *const *gone_uids,
        size_t n_gone,
        GcVerdict *verdicts);

/* ---- images (image_gc_manager.go) -------------------------------------------------------------- */

/* Whether `image` is in use: a container that stays (as in gc_sandboxes) references it by image
 * id, image_ref or image (as the id, a repo tag or a repo digest), or it is a sandbox image
 * (sandbox_images: NULL-terminated references, NULL: none — the runtime's own and
 * --pod-infra-container-image; matched as the id, a tag or a digest, with "docker.io/library/" and
 * ":latest" normalized as the runtime does). */
bool gc_image_in_use(
        const CriImage *image,
        const CriContainer *containers,
        size_t n_containers,
        const GcVerdict *container_verdicts,
        const char *const *sandbox_images);

/* The same for many images at once: every reference of the containers that stay (as given and
 * normalized) in one sorted set, built once. any_pause: the runtime did not say which its sandbox
 * image is, so every image named ".../pause:*" counts as in use too (pinning cannot be relied on:
 * containerd 1.6 never pins). */
typedef struct GcImageRefs GcImageRefs;
int gc_image_refs_new(
        const CriContainer *containers,
        size_t n_containers,
        const GcVerdict *container_verdicts,
        const char *const *sandbox_images,
        bool any_pause,
        GcImageRefs **ret);
bool gc_image_refs_has(const GcImageRefs *refs, const CriImage *image);
GcImageRefs *gc_image_refs_free(GcImageRefs *refs);
static inline void gc_image_refs_freep(GcImageRefs **refs) {
        gc_image_refs_free(*refs);
}

/* What keeps images for image GC on this node: the references of the containers that stay, the
 * runtime's sandbox image (NULL: it did not say — then any ".../pause" image) and
 * --pod-infra-container-image (NULL: none). */
int gc_image_refs_for_node(
        const CriContainer *containers,
        size_t n_containers,
        const GcVerdict *container_verdicts,
        const char *runtime_sandbox_image,
        const char *pod_infra_container_image,
        GcImageRefs **ret);

/* detectImages: the image records after this pass replace out's (its orphan records are left as
 * they are). Every listed image (ids[i]) gets a record: kept from `saved`, or new with
 * first_detected = now (an image seen for the first time is young, not old); in_use[i] sets
 * last_used = now. Records of images no longer listed are dropped. An id the state file cannot
 * hold gets no record (the caller then treats it as first detected now: never removed). -ENOMEM,
 * -EINVAL for bad arguments, else 0. */
int gc_images_detect(
        const State *saved, const char *const *ids, const bool *in_use, size_t n, usec_t now, State *out);

typedef struct GcImagePolicy {
        unsigned high_threshold; /* --image-gc-high-threshold, percent */
        unsigned low_threshold;  /* --image-gc-low-threshold */
        usec_t min_age;          /* --minimum-image-ttl-duration, since first detected */
        usec_t max_age;          /* --image-maximum-gc-age; 0: off */
} GcImagePolicy;

typedef struct GcImage {
        const char *id;
        uint64_t size;
        bool pinned;
        bool in_use;           /* gc_image_in_use() */
        usec_t first_detected; /* from the records (gc_images_detect) */
        usec_t last_used;      /* 0: never seen in use */
        usec_t unused_since;   /* from the records (ImageSeen); 0: not known, then the max age
                                * counts from max(last_used, first_detected) */
} GcImage;

typedef struct GcImageResult {
        unsigned usage_percent; /* 100 - available * 100 / capacity, as the kubelet, as measured */
        bool over_threshold;    /* at or over high_threshold once the images removed for age are
                                 * counted as freed (the kubelet measures again after removing
                                 * them) */
        uint64_t bytes_to_free; /* capacity * (100 - low) / 100 - available (with the aged bytes
                                 * counted); 0 when not over */
        uint64_t bytes_freed;   /* sizes of the images evicted for space */
        uint64_t bytes_aged;    /* sizes of the images evicted for age */
} GcImageResult;

/* verdicts[i] for images[i]. First the max age: unused, unpinned images unused for longer than
 * max_age (and watched for longer: since max(last used, first detected)) go, and their sizes count
 * as freed. Then, when usage >= high threshold: unused, unpinned images at least min_age old, least recently
 * used first (ties: first detected, then id), until bytes_to_free is reached. A high threshold of
 * 100 without a max age is image GC off, as in the kubelet. -EINVAL when the capacity is 0 (the
 * kubelet's "invalid capacity 0 on image filesystem"), else 0. */
int gc_images(
        const GcImage *images,
        size_t n,
        const GcImagePolicy *policy,
        uint64_t capacity,
        uint64_t available,
        usec_t now,
        GcVerdict *verdicts,
        GcImageResult *ret);

/* ---- dead log symlinks (evictPodLogsDirectories) ------------------------------------------------ */

/* The container id of a /var/log/containers name "<pod>_<namespace>_<container>-<id>.log": the
 * last '-' field without ".log", at least 6 characters (CRI accepts an id prefix that long). NULL
 * when there is none. Points into name; *ret_len gets its length. */
const char *gc_log_symlink_container_id(const char *name, size_t *ret_len);

/* Whether a dead symlink (its target gone) may go: no container of the id (a prefix match) that
 * is not EXITED — the kubelet keeps the link of a container that is running, created or unknown,
 * as log rotation may be between its steps. A name without an id is the kubelet's too: it goes. */
bool gc_log_symlink_removable(const char *name, const CriContainer *containers, size_t n);
