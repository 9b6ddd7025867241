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
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroupfs/cgroupfs.h"
#include "util/macro.h"

/* Deeper than any runtime nests below a pod cgroup (pod / container / maybe one more). */
#define CGROUP_DEPTH_MAX 16
#define EVENTS_SIZE_MAX 4096

#define OPEN_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

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

static int grow(void **items, size_t *allocated, size_t n, size_t size) {
        size_t a;
        void *p;

        if (n < *allocated)
                return 0;
        a = *allocated ? *allocated * 2 : 64;
        p = reallocarray(*items, a, size);
        if (!p)
                return -ENOMEM;
        *items = p;
        *allocated = a;
        return 0;
}

static int names_add(Names *l, const char *name) {
        char *s;

        if (grow((void **) &l->items, &l->allocated, l->n, sizeof(*l->items)) < 0)
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

static cgfs_usec_t timespec_to_usec(const struct timespec *ts) {
        return (cgfs_usec_t) ts->tv_sec * 1000000u + (cgfs_usec_t) ts->tv_nsec / 1000u;
}

static cgfs_usec_t stat_changed(const struct stat *st) {
        return MAX(timespec_to_usec(&st->st_mtim), timespec_to_usec(&st->st_ctim));
}

/* A cgroup that is removed while we look reads ENODEV; one already gone ENOENT. */
static bool errno_is_gone(int e) {
        return e == ENOENT || e == ENODEV;
}

/* Reads the whole of the small file `name` beneath dir_fd (at most max bytes, else -EFBIG) and
 * NUL-terminates it. cgroup files report a size of 4096 or 0, so read until EOF. */
static int read_small_file_at(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + n, max + 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max)
                        return -EFBIG;
        }
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

/* v1: does cgroup.procs of the cgroup at dir_fd (or of its child cgroup `child`, without opening
 * the child directory) list a pid? One read: a pid is a line. */
static int cgroup_has_procs(int dir_fd, const char *child) {
        char path[NAME_MAX + sizeof("/cgroup.procs")]; /* a d_name is at most NAME_MAX */
        _cleanup_close_ int fd = -EBADF;
        char buf[64];
        ssize_t k;

        if ((size_t) snprintf(path, sizeof(path), "%s%scgroup.procs", child ?: "", child ? "/" : "") >=
            sizeof(path))
                return -ENAMETOOLONG;
        fd = openat(dir_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno_is_gone(errno) || errno == ENOTDIR ? 0 : negative_errno();
        do
                k = read(fd, buf, sizeof(buf));
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return errno_is_gone(errno) ? 0 : negative_errno();
        return k > 0;
}

/* v1 has no "populated" file: a cgroup holds processes if it or any descendant lists one. Takes
 * dir_fd over. Depth-first with bounded recursion; a tree deeper than any runtime makes counts as
 * populated, the safe answer for a liveness check. */
static int cgroup_tree_has_procs(int dir_fd, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = cgroup_has_procs(dir_fd, NULL);
        if (r != 0) {
                safe_close(dir_fd);
                return r;
        }
        if (depth >= CGROUP_DEPTH_MAX) {
                safe_close(dir_fd);
                return 1;
        }

        d = fdopendir(dir_fd);
        if (!d) {
                r = negative_errno();
                safe_close(dir_fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                int fd;

                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                fd = openat(dirfd(d), de->d_name, OPEN_DIR_FLAGS);
                if (fd < 0) {
                        if (errno_is_gone(errno) || errno == ENOTDIR || errno == ELOOP)
                                continue;
                        return negative_errno();
                }
                r = cgroup_tree_has_procs(fd, depth + 1);
                if (r != 0)
                        return r;
        }
        if (errno != 0 && !errno_is_gone(errno))
                return negative_errno();
        return 0;
}

/* v2: "populated 1" in cgroup.events covers the cgroup and every descendant. -ENODATA when the
 * file has no populated line. */
static int cgroup2_events_populated(int dir_fd) {
        _cleanup_free_ char *events = NULL;
        int r;

        r = read_small_file_at(dir_fd, "cgroup.events", EVENTS_SIZE_MAX, &events, NULL);
        if (r < 0)
                return r;
        for (const char *line = events; *line;) {
                size_t l = strcspn(line, "\n");

                if (l > strlen("populated ") && strncmp(line, "populated ", strlen("populated ")) == 0) {
                        const char *v = line + strlen("populated ");
                        size_t vl = l - strlen("populated ");

                        if (vl == 1 && (v[0] == '0' || v[0] == '1'))
                                return v[0] == '1';
                        return -EBADMSG;
                }
                line += l;
                line += *line == '\n';
        }
        return -ENODATA;
}

static int cgroup_is_populated(int dir_fd, bool v2) {
        int r, fd;

        if (v2) {
                r = cgroup2_events_populated(dir_fd);
                if (r != -ENOENT && r != -ENODATA)
                        return errno_is_gone(-r) ? 0 : r;
                /* No cgroup.events (not a cgroup2 file system after all): fall back to the walk. */
        }

        fd = openat(dir_fd, ".", OPEN_DIR_FLAGS);
        if (fd < 0)
                return errno_is_gone(errno) ? 0 : negative_errno();
        return cgroup_tree_has_procs(fd, 0);
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
        int fd;

        fd = openat(kubepods_fd, qos_dir ?: ".", OPEN_DIR_FLAGS);
        if (fd < 0)
                return errno_is_gone(errno) ? 0 : negative_errno();
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();
                safe_close(fd);
                return r;
        }

        while ((errno = 0, de = readdir(d))) {
                char uid[CGFS_UID_MAX + 1];
                PodRef *ref;
                int r;

                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                r = cgfs_parse_pod_name(de->d_name, driver, kubepods, qos, uid);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (de->d_type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (errno_is_gone(errno))
                                        continue;
                                return negative_errno();
                        }
                        if (!S_ISDIR(st.st_mode))
                                continue;
                }

                if (grow((void **) &refs->items, &refs->allocated, refs->n, sizeof(*refs->items)) < 0)
                        return -ENOMEM;
                ref = &refs->items[refs->n++];
                memcpy(ref->uid, uid, sizeof(uid));
                ref->qos = qos;
                ref->hierarchy = hierarchy;
        }
        if (errno != 0 && !errno_is_gone(errno))
                return negative_errno();
        return 0;
}

static int collect_hierarchy(
        int hierarchy_fd, size_t hierarchy, CgfsDriver driver, const char *kubepods, PodRefs *refs) {
        _cleanup_free_ char *kubepods_dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (driver == CGFS_DRIVER_SYSTEMD && asprintf(&kubepods_dir, "%s.slice", kubepods) < 0)
                return -ENOMEM;
        fd = openat(hierarchy_fd, kubepods_dir ?: kubepods, OPEN_DIR_FLAGS);
        if (fd < 0)
                return errno_is_gone(errno) ? 0 : negative_errno();

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
        int fd, r;

        fd = openat(hierarchy_fd, path, OPEN_DIR_FLAGS);
        if (fd < 0)
                return errno_is_gone(errno) ? -ENOENT : negative_errno();
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                safe_close(fd);
                return r;
        }
        if (fstat(dirfd(d), &st) < 0)
                return negative_errno();
        *changed = MAX(*changed, stat_changed(&st));

        /* v2 answers for the whole subtree in one read; v1 is walked along with the children. */
        if (v2 && !*populated) {
                r = cgroup_is_populated(dirfd(d), true);
                if (r < 0)
                        return r;
                *populated = r > 0;
        } else if (!v2 && !*populated) {
                r = cgroup_has_procs(dirfd(d), NULL);
                if (r < 0)
                        return r;
                *populated = r > 0;
        }

        while ((errno = 0, de = readdir(d))) {
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno_is_gone(errno))
                                continue;
                        return negative_errno();
                }
                if (!S_ISDIR(st.st_mode))
                        continue;
                *changed = MAX(*changed, stat_changed(&st));

                r = names_add(children, de->d_name);
                if (r < 0)
                        return r;

                /* A leaf (no subdirectory: kernfs and most file systems count them in the link
                 * count) needs no directory of its own opened: the pod's containers. */
                if (!v2 && !*populated && st.st_nlink == 2) {
                        r = cgroup_has_procs(dirfd(d), de->d_name);
                        if (r < 0)
                                return r;
                        *populated = r > 0;
                } else if (!v2 && !*populated) {
                        int child_fd = openat(dirfd(d), de->d_name, OPEN_DIR_FLAGS);

                        if (child_fd < 0) {
                                if (errno_is_gone(errno))
                                        continue;
                                return negative_errno();
                        }
                        r = cgroup_tree_has_procs(child_fd, 1);
                        if (r < 0)
                                return r;
                        *populated = r > 0;
                }
        }
        if (errno != 0 && !errno_is_gone(errno))
                return negative_errno();
        return 0;
}

/* Builds the pod of refs[0..n) (one uid and QoS class, by hierarchy). 0 with pod->paths NULL when
 * it vanished from every hierarchy meanwhile. */
static int pod_build(
        const CgfsHierarchies *h,
        const HierarchyFds *fds,
        CgfsDriver driver,
        const char *kubepods,
        const PodRef *refs,
        size_t n,
        CgfsPod *pod) {
        _cleanup_(names_done) Names children = {};
        _cleanup_free_ char *p = NULL;
        size_t found = 0, l;
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

        /* v2 first: where it answers "populated", the v1 walks are skipped. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < n; i++) {
                        size_t hi = refs[i].hierarchy;

                        if (h->items[hi].v2 != (pass == 0))
                                continue;
                        r = visit_pod(
                                fds->fds[hi],
                                path,
                                h->items[hi].v2,
                                &children,
                                &pod->populated,
                                &pod->changed);
                        if (r == -ENOENT)
                                continue;
                        if (r < 0)
                                return r;
                        pod->paths[hi] = path;
                        found++;
                }

        if (found == 0) {
                pod_done(pod);
                return 0;
        }
        return names_to_strv(&children, &pod->children);
}

int cgfs_pods_enumerate(const CgfsHierarchies *h, const char *kubepods, CgfsDriver driver, CgfsPods *ret) {
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

        fds.fds = malloc(MAX(h->n, (size_t) 1) * sizeof(*fds.fds));
        if (!fds.fds)
                return -ENOMEM;
        for (size_t i = 0; i < h->n; i++) {
                fds.fds[fds.n++] = open(h->items[i].path, OPEN_DIR_FLAGS);
                if (fds.fds[i] < 0) {
                        if (!errno_is_gone(errno))
                                return negative_errno();
                        continue;
                }
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
        if (n_pods == 0) {
                *ret = pods;
                pods = (CgfsPods){};
                return 0;
        }
        pods.items = calloc(n_pods, sizeof(*pods.items));
        if (!pods.items)
                return -ENOMEM;

        for (size_t i = 0, j; i < refs.n; i = j) {
                CgfsPod *pod = &pods.items[pods.n];

                for (j = i + 1; j < refs.n && same_pod(&refs.items[j], &refs.items[i]); j++)
                        ;
                r = pod_build(h, &fds, driver, kubepods, refs.items + i, j - i, pod);
                if (r < 0) {
                        pod_done(pod);
                        return r;
                }
                if (pod->paths)
                        pods.n++;
        }

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
