/* SPDX-License-Identifier: MIT */
/* Every pod cgroup under kubepods, in every hierarchy, merged per pod: one readdir of each QoS
 * directory per hierarchy, then one visit of each pod cgroup (children, change time, processes).
 * Collect, sort by uid, merge: the bench enumerates 5,000 pods in ten hierarchies. Reads only
 * directories and the cgroup.events/cgroup.procs files, so a tree of plain directories stands in
 * for cgroupfs in the unit tests. */

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroupfs/cgroupfs-internal.h"
#include "util/macro.h"

/* Deeper than any runtime nests below a pod cgroup (pod / container / maybe one more). */
#define CGROUP_DEPTH_MAX 16

/* A pod cgroup as found in one hierarchy. */
typedef struct PodRef {
        char uid[CGFS_UID_MAX + 1];
        CgfsQos qos;
        size_t hierarchy;
} PodRef;

typedef struct PodRefs {
        PodRef *items;
        size_t n, allocated;
} PodRefs;

typedef struct Names {
        char **items;
        size_t n, allocated;
} Names;

typedef struct HierarchyFds {
        int *fds; /* per hierarchy: its root, or -EBADF where it cannot be opened (gone) */
        size_t n;
} HierarchyFds;

static void pod_refs_done(PodRefs *r) {
        free(r->items);
}

static void names_done(Names *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i]);
        free(l->items);
        *l = (Names){};
}

static void hierarchy_fds_done(HierarchyFds *f) {
        for (size_t i = 0; i < f->n; i++)
                safe_close(f->fds[i]);
        free(f->fds);
}

/* paths[] and the one path string its entries share (the pod's path is the same relative to every
 * hierarchy root) are one allocation: CgfsPods does not record the number of hierarchies. */
static void pod_done(CgfsPod *pod) {
        free(pod->paths);
        strv_free(pod->children);
        pod->paths = NULL;
        pod->children = NULL;
}

static void pods_donep(CgfsPods *p) {
        cgfs_pods_done(p);
}

static int names_add(Names *l, const char *name) {
        char *s;

        if (cg_grow((void **) &l->items, &l->allocated, l->n, sizeof(*l->items)) < 0)
                return -ENOMEM;
        s = strdup(name);
        if (!s)
                return -ENOMEM;
        l->items[l->n++] = s;
        return 0;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted, without duplicates, NULL-terminated; empties l. */
static int names_to_strv(Names *l, char ***ret) {
        char **v;
        size_t k = 0;

        if (l->n > 1)
                qsort(l->items, l->n, sizeof(*l->items), compare_names);
        v = malloc((l->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                if (k > 0 && strcmp(v[k - 1], l->items[i]) == 0) {
                        free(l->items[i]);
                        continue;
                }
                v[k++] = l->items[i];
        }
        v[k] = NULL;
        free(l->items);
        *l = (Names){};
        *ret = v;
        return 0;
}

static cgfs_usec_t stat_changed(const struct stat *st) {
        return MAX(cg_timespec_to_usec(&st->st_mtim), cg_timespec_to_usec(&st->st_ctim));
}

/* Lists the pod cgroups of one QoS class in one hierarchy. */
static int collect_qos_dir(
        int kubepods_fd,
        const char *qos_dir, /* NULL: kubepods itself (guaranteed) */
        CgfsDriver driver,
        const char *kubepods,
        CgfsQos qos,
        size_t hierarchy,
        PodRefs *refs) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = cg_opendir_at(kubepods_fd, qos_dir ?: ".", &d);
        if (r < 0)
                return cg_errno_is_gone(r) ? 0 : r;

        while ((r = cg_readdir_child(d, &de, NULL)) > 0) {
                char uid[CGFS_UID_MAX + 1];
                PodRef *ref;

                r = cgfs_parse_pod_name(de->d_name, driver, kubepods, qos, uid);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;

                if (cg_grow((void **) &refs->items, &refs->allocated, refs->n, sizeof(*refs->items)) < 0)
                        return -ENOMEM;
                ref = &refs->items[refs->n++];
                memcpy(ref->uid, uid, sizeof(uid));
                ref->qos = qos;
                ref->hierarchy = hierarchy;
        }
        return r;
}

static int collect_hierarchy(
        int hierarchy_fd, size_t hierarchy, CgfsDriver driver, const char *kubepods, PodRefs *refs) {
        _cleanup_free_ char *kubepods_dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (driver == CGFS_DRIVER_SYSTEMD && asprintf(&kubepods_dir, "%s.slice", kubepods) < 0)
                return -ENOMEM;
        fd = openat(hierarchy_fd, kubepods_dir ?: kubepods, CG_OPEN_DIR_FLAGS);
        if (fd < 0)
                return cg_errno_is_gone(errno) ? 0 : negative_errno();

        for (CgfsQos q = 0; q < _CGFS_QOS_MAX; q++) {
                _cleanup_free_ char *qos_dir = NULL;

                if (q != CGFS_QOS_GUARANTEED) {
                        if (driver == CGFS_DRIVER_SYSTEMD)
                                r = asprintf(&qos_dir, "%s-%s.slice", kubepods, cgfs_qos_to_string(q));
                        else
                                r = asprintf(&qos_dir, "%s", cgfs_qos_to_string(q));
                        if (r < 0)
                                return -ENOMEM;
                }
                r = collect_qos_dir(fd, qos_dir, driver, kubepods, q, hierarchy, refs);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int compare_refs(const void *a, const void *b) {
        const PodRef *x = a, *y = b;
        int c = strcmp(x->uid, y->uid);

        if (c != 0)
                return c;
        if (x->qos != y->qos)
                return x->qos < y->qos ? -1 : 1;
        return x->hierarchy < y->hierarchy ? -1 : x->hierarchy > y->hierarchy;
}

/* One pod is one uid in one QoS class: a uid found in two QoS directories (leftovers) yields two
 * pods, so that each of its cgroups can be destroyed. */
static bool same_pod(const PodRef *a, const PodRef *b) {
        return a->qos == b->qos && strcmp(a->uid, b->uid) == 0;
}

/* One pod cgroup in one hierarchy: its children into `children`, its change time into *changed,
 * whether it holds processes into *populated (unless already known). -ENOENT: it is gone. */
static int visit_pod(
        int hierarchy_fd,
        const char *path,
        bool v2,
        Names *children,
        bool *populated,
        cgfs_usec_t *changed) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        struct stat st;
        int r;

        r = cg_opendir_at(hierarchy_fd, path, &d);
        if (r < 0)
                return cg_errno_is_gone(r) ? -ENOENT : r;
        if (fstat(dirfd(d), &st) < 0)
                return negative_errno();
        *changed = MAX(*changed, stat_changed(&st));

        /* v2 answers for the whole subtree in one read; v1 is walked along with the children. */
        if (!*populated) {
                r = v2 ? cg_is_populated(dirfd(d), true, CGROUP_DEPTH_MAX) : cg_has_procs(dirfd(d), NULL);
                if (r < 0)
                        return r;
                *populated = r > 0;
        }

        while ((r = cg_readdir_child(d, &de, &st)) > 0) {
                *changed = MAX(*changed, stat_changed(&st));

                r = names_add(children, de->d_name);
                if (r < 0)
                        return r;

                if (!v2 && !*populated) {
                        r = cg_tree_has_procs(dirfd(d), de->d_name, &st, 1, CGROUP_DEPTH_MAX);
                        if (r < 0)
                                return r;
                        *populated = r > 0;
                }
        }
        return r;
}

/* The pod of refs[0..n) (one uid and QoS class, by hierarchy), with paths[] where it was listed:
 * no visit yet. */
static int pod_from_refs(
        const CgfsHierarchies *h,
        CgfsDriver driver,
        const char *kubepods,
        const PodRef *refs,
        size_t n,
        CgfsPod *pod) {
        _cleanup_free_ char *p = NULL;
        size_t l;
        char *path;
        int r;

        *pod = (CgfsPod){.qos = refs[0].qos};
        memcpy(pod->uid, refs[0].uid, sizeof(pod->uid));

        r = cgfs_pod_path(driver, kubepods, pod->qos, pod->uid, &p);
        if (r < 0)
                return r;
        l = strlen(p) + 1;
        pod->paths = calloc(1, h->n * sizeof(*pod->paths) + l);
        if (!pod->paths)
                return -ENOMEM;
        path = memcpy((char *) (pod->paths + h->n), p, l);
        for (size_t i = 0; i < n; i++)
                pod->paths[refs[i].hierarchy] = path;
        return 0;
}

/* Visits the pod in every hierarchy it was listed in: children, change time, processes. A
 * hierarchy where it vanished meanwhile loses its path. Returns how many still have it. */
static int pod_visit_all(const CgfsHierarchies *h, const HierarchyFds *fds, CgfsPod *pod) {
        _cleanup_(names_done) Names children = {};
        size_t found = 0;
        int r;

        /* v2 first: where it answers "populated", the v1 walks are skipped. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t hi = 0; hi < h->n; hi++) {
                        if (!pod->paths[hi] || h->items[hi].v2 != (pass == 0))
                                continue;
                        r = visit_pod(
                                fds->fds[hi],
                                pod->paths[hi],
                                h->items[hi].v2,
                                &children,
                                &pod->populated,
                                &pod->changed);
                        if (r == -ENOENT) {
                                pod->paths[hi] = NULL;
                                continue;
                        }
                        if (r < 0)
                                return r;
                        found++;
                }

        strv_free(pod->children);
        pod->children = NULL;
        r = names_to_strv(&children, &pod->children);
        return r < 0 ? r : (int) MIN(found, (size_t) 1);
}

/* Only whether the pod holds processes (in any hierarchy, as pod_visit_all() tells it), without
 * its children and change times: v2's cgroup.events first, which answers for a running pod in one
 * read; the v1 walks only while nothing was found. Returns 1, or 0 when it vanished from every
 * hierarchy. */
static int pod_visit_populated(const CgfsHierarchies *h, const HierarchyFds *fds, CgfsPod *pod) {
        size_t found = 0;

        for (int pass = 0; pass < 2; pass++)
                for (size_t hi = 0; hi < h->n && !pod->populated; hi++) {
                        _cleanup_close_ int fd = -EBADF;
                        int r;

                        if (!pod->paths[hi] || h->items[hi].v2 != (pass == 0))
                                continue;
                        fd = openat(fds->fds[hi], pod->paths[hi], CG_OPEN_DIR_FLAGS);
                        if (fd < 0) {
                                if (!cg_errno_is_gone(errno))
                                        return negative_errno();
                                pod->paths[hi] = NULL;
                                continue;
                        }
                        r = cg_is_populated(fd, h->items[hi].v2, CGROUP_DEPTH_MAX);
                        if (r < 0)
                                return r;
                        pod->populated = r > 0;
                        found++;
                }
        /* Populated early: the hierarchies not visited still list it. */
        return pod->populated || found > 0;
}

static int hierarchy_fds_open(const CgfsHierarchies *h, HierarchyFds *fds) {
        fds->fds = malloc(MAX(h->n, (size_t) 1) * sizeof(*fds->fds));
        if (!fds->fds)
                return -ENOMEM;
        for (size_t i = 0; i < h->n; i++) {
                fds->fds[fds->n++] = open(h->items[i].path, CG_OPEN_DIR_FLAGS);
                if (fds->fds[i] < 0 && !cg_errno_is_gone(errno))
                        return negative_errno();
        }
        return 0;
}

int cgfs_pods_list(const CgfsHierarchies *h, const char *kubepods, CgfsDriver driver, CgfsPods *ret) {
        _cleanup_(hierarchy_fds_done) HierarchyFds fds = {};
        _cleanup_(pod_refs_done) PodRefs refs = {};
        _cleanup_(pods_donep) CgfsPods pods = {};
        size_t n_pods = 0;
        int r;

        assert(ret);

        if (!h || (h->n > 0 && !h->items))
                return -EINVAL;

        if (driver == CGFS_DRIVER_AUTO) {
                r = cgfs_detect_driver(h, kubepods, &driver);
                if (r == -ENOENT) {
                        *ret = (CgfsPods){.driver = CGFS_DRIVER_AUTO};
                        return 0;
                }
                if (r < 0)
                        return r;
        }
        /* Checks driver and kubepods before any file is opened. */
        r = cgfs_parse_pod_name("", driver, kubepods, CGFS_QOS_GUARANTEED, NULL);
        if (r < 0)
                return r;

        r = hierarchy_fds_open(h, &fds);
        if (r < 0)
                return r;
        for (size_t i = 0; i < h->n; i++)
                if (fds.fds[i] >= 0) {
                        r = collect_hierarchy(fds.fds[i], i, driver, kubepods, &refs);
                        if (r < 0)
                                return r;
                }

        if (refs.n > 1)
                qsort(refs.items, refs.n, sizeof(*refs.items), compare_refs);
        for (size_t i = 0; i < refs.n; i++)
                if (i == 0 || !same_pod(&refs.items[i], &refs.items[i - 1]))
                        n_pods++;

        pods.driver = driver;
        if (n_pods > 0) {
                pods.items = calloc(n_pods, sizeof(*pods.items));
                if (!pods.items)
                        return -ENOMEM;
        }
        for (size_t i = 0, j; i < refs.n; i = j) {
                for (j = i + 1; j < refs.n && same_pod(&refs.items[j], &refs.items[i]); j++)
                        ;
                r = pod_from_refs(h, driver, kubepods, refs.items + i, j - i, &pods.items[pods.n]);
                if (r < 0)
                        return r;
                pods.n++;
        }

        *ret = pods;
        pods = (CgfsPods){};
        return 0;
}

int cgfs_pods_fill(
        const CgfsHierarchies *h,
        CgfsPods *pods,
        bool (*detail)(const char *uid, void *userdata),
        void *userdata) {
        _cleanup_(hierarchy_fds_done) HierarchyFds fds = {};
        size_t n = 0;
        int r;

        if (!h || !pods || (h->n > 0 && !h->items))
                return -EINVAL;
        r = hierarchy_fds_open(h, &fds);
        if (r < 0)
                return r;

        for (size_t i = 0; i < pods->n; i++) {
                CgfsPod *pod = &pods->items[i];

                r = !detail || detail(pod->uid, userdata) ? pod_visit_all(h, &fds, pod)
                                                          : pod_visit_populated(h, &fds, pod);
                if (r < 0) {
                        /* Keep every pod exactly once (compacted ones moved down), for the caller
                         * to release. */
                        for (; i < pods->n; i++)
                                pods->items[n++] = pods->items[i];
                        pods->n = n;
                        return r;
                }
                /* Gone from every hierarchy since it was listed: no longer a pod cgroup. */
                if (r == 0) {
                        pod_done(pod);
                        continue;
                }
                pods->items[n++] = *pod;
        }
        pods->n = n;
        return 0;
}

int cgfs_pods_enumerate(const CgfsHierarchies *h, const char *kubepods, CgfsDriver driver, CgfsPods *ret) {
        _cleanup_(pods_donep) CgfsPods pods = {};
        int r;

        assert(ret);

        r = cgfs_pods_list(h, kubepods, driver, &pods);
        if (r < 0)
                return r;
        r = cgfs_pods_fill(h, &pods, NULL, NULL);
        if (r < 0)
                return r;
        *ret = pods;
        pods = (CgfsPods){};
        return 0;
}

void cgfs_pods_done(CgfsPods *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                pod_done(&p->items[i]);
        free(p->items);
        *p = (CgfsPods){};
}

const CgfsPod *cgfs_pods_find(const CgfsPods *p, const char *uid) {
        size_t lo = 0, hi;

        if (!p || !uid)
                return NULL;

        /* Sorted by uid: the first of the (rarely more than one) pods with it. */
        hi = p->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(p->items[mid].uid, uid) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < p->n && strcmp(p->items[lo].uid, uid) == 0 ? &p->items[lo] : NULL;
}
