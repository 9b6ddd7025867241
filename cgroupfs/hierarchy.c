/* SPDX-License-Identifier: MIT */
/* The cgroup hierarchies under the cgroup root, from one libmount parse of mountinfo: every v1
 * controller or named hierarchy (its controllers from the superblock options) and the cgroup2
 * mount. */

#include <assert.h>
#include <errno.h>
#include <libmount.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs/cgroupfs-internal.h"
#include "util/macro.h"

#define CGROUP_ROOT_DEFAULT "/sys/fs/cgroup"

static void libmnt_table_unrefp(struct libmnt_table **tb) {
        mnt_unref_table(*tb);
}

static void libmnt_iter_freep(struct libmnt_iter **iter) {
        mnt_free_iter(*iter);
}

static void hierarchies_donep(CgfsHierarchies *h) {
        cgfs_hierarchies_done(h);
}

/* A bad line could hide a hierarchy whose pod cgroups would then never be removed. */
static int on_parse_error(struct libmnt_table *tb, const char *filename _unused_, int line _unused_) {
        bool *bad_line = mnt_table_get_userdata(tb);

        if (bad_line)
                *bad_line = true;
        return -EINVAL;
}

/* A copy with repeated slashes collapsed and a trailing one dropped ("/" stays). */
static char *path_normalize_dup(const char *p) {
        char *s = malloc(strlen(p) + 1);
        size_t n = 0;

        if (!s)
                return NULL;
        for (; *p; p++) {
                if (*p == '/' && n > 0 && s[n - 1] == '/')
                        continue;
                s[n++] = *p;
        }
        if (n > 1 && s[n - 1] == '/')
                n--;
        s[n] = '\0';
        return s;
}

/* Is `path` (normalised) `root` (normalised) or beneath it? "/sys/fs/cgroupX" is not. */
static bool path_is_at_or_beneath(const char *path, const char *root) {
        size_t l = strlen(root);

        if (strcmp(root, "/") == 0)
                return path[0] == '/';
        return strncmp(path, root, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

/* Superblock options of a cgroup (v1) mount that are not controllers: the kernel's
 * cgroup1_show_options() and the VFS's rw/ro; cgroup2's mount options in case a v2 mount is
 * ever read this way. Options with a value ("release_agent=") are dropped separately. */
static const char *const non_controller_options[] = {
        "rw",
        "ro",
        "none",
        "xattr",
        "noprefix",
        "clone_children",
        "cpuset_v2_mode",
        "favordynmods",
        "nsdelegate",
        "memory_recursiveprot",
        "memory_localevents",
        "memory_hugetlb_accounting",
        "pids_localevents",
};

static bool option_is_controller(const char *opt, size_t len) {
        const char *eq = memchr(opt, '=', len);

        if (len == 0)
                return false;
        if (eq)
                return (size_t) (eq - opt) == strlen("name") && strncmp(opt, "name", 4) == 0 &&
                       len > strlen("name=");
        for (size_t i = 0; i < ELEMENTSOF(non_controller_options); i++)
                if (strlen(non_controller_options[i]) == len &&
                    strncmp(opt, non_controller_options[i], len) == 0)
                        return false;
        return true;
}

/* "rw,cpu,cpuacct" -> "cpu,cpuacct"; "rw,xattr,name=systemd" -> "name=systemd". */
static char *controllers_from_options(const char *options) {
        char *s, *p;

        s = p = malloc(strlen(options ?: "") + 1);
        if (!s)
                return NULL;
        for (const char *o = options ?: ""; *o;) {
                size_t l = strcspn(o, ",");

                if (option_is_controller(o, l)) {
                        if (p != s)
                                *p++ = ',';
                        memcpy(p, o, l);
                        p += l;
                }
                o += l;
                o += *o == ',';
        }
        *p = '\0';
        return s;
}

static bool hierarchies_contain(const CgfsHierarchies *h, bool v2, const char *controllers) {
        for (size_t i = 0; i < h->n; i++)
                if (h->items[i].v2 == v2 && strcmp(h->items[i].controllers, controllers) == 0)
                        return true;
        return false;
}

typedef struct MountEntry {
        struct libmnt_fs *fs;
        char *target; /* normalised */
        int id, parent_id;
} MountEntry;

typedef struct MountList {
        MountEntry *items;
        size_t n;
} MountList;

static void mount_list_done(MountList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].target);
        free(l->items);
}

static const MountEntry *mount_list_find_id(const MountList *l, int id) {
        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].id == id)
                        return &l->items[i];
        return NULL;
}

/* Is mounts[i] covered by a mount made after it on its target or above it (a tmpfs or cgroup2
 * mounted over the cgroup root)? Its path would then lead into that other filesystem. A mount
 * that is its parent or grandparent is not a cover, whatever its position in the file. */
static bool mount_is_covered(const MountList *l, size_t i) {
        const MountEntry *m = &l->items[i];

        for (size_t j = i + 1; j < l->n; j++) {
                const MountEntry *n = &l->items[j], *a = m;
                bool ancestor = false;

                if (!path_is_at_or_beneath(m->target, n->target))
                        continue;
                /* Bounded: a parent loop in a corrupt file must not hang us. */
                for (size_t steps = 0; a && !ancestor && steps < l->n; steps++) {
                        const MountEntry *parent =
                                a->parent_id != a->id ? mount_list_find_id(l, a->parent_id) : NULL;

                        ancestor = parent == n;
                        a = parent;
                }
                if (!ancestor)
                        return true;
        }
        return false;
}

int cgfs_hierarchies_find(const char *mountinfo, const char *cgroup_root, CgfsHierarchies *ret) {
        _cleanup_(libmnt_table_unrefp) struct libmnt_table *tb = NULL;
        _cleanup_(libmnt_iter_freep) struct libmnt_iter *iter = NULL;
        _cleanup_(hierarchies_donep) CgfsHierarchies h = {};
        _cleanup_(mount_list_done) MountList mounts = {};
        _cleanup_free_ char *root = NULL;
        struct libmnt_fs *fs;
        bool bad_line = false;
        size_t allocated = 0;
        int r, n;

        assert(ret);

        root = path_normalize_dup(cgroup_root ?: CGROUP_ROOT_DEFAULT);
        if (!root)
                return -ENOMEM;
        if (root[0] != '/')
                return -EINVAL;

        tb = mnt_new_table();
        iter = mnt_new_iter(MNT_ITER_FORWARD);
        if (!tb || !iter)
                return -ENOMEM;
        r = mnt_table_set_userdata(tb, &bad_line);
        if (r < 0)
                return r;
        r = mnt_table_set_parser_errcb(tb, on_parse_error);
        if (r < 0)
                return r;
        r = mnt_table_parse_file(tb, mountinfo ?: "/proc/self/mountinfo");
        if (r < 0)
                return r;
        if (bad_line)
                return -EINVAL;

        n = mnt_table_get_nents(tb);
        if (n <= 0)
                return -ENOENT;
        mounts.items = calloc((size_t) n, sizeof(*mounts.items));
        if (!mounts.items)
                return -ENOMEM;
        while (mounts.n < (size_t) n && (r = mnt_table_next_fs(tb, iter, &fs)) == 0) {
                const char *target = mnt_fs_get_target(fs);

                /* An fstab or garbage parses as entries without a root: not a mountinfo. */
                if (!mnt_fs_is_kernel(fs) || !mnt_fs_get_root(fs) || !target || target[0] != '/')
                        return -EINVAL;
                mounts.items[mounts.n] = (MountEntry){
                        .fs = fs,
                        .target = path_normalize_dup(target),
                        .id = mnt_fs_get_id(fs),
                        .parent_id = mnt_fs_get_parent_id(fs),
                };
                if (!mounts.items[mounts.n++].target)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;

        for (size_t i = 0; i < mounts.n; i++) {
                const char *fstype = mnt_fs_get_fstype(mounts.items[i].fs);
                _cleanup_free_ char *path = NULL, *controllers = NULL;
                bool v2;

                if (!fstype)
                        continue;
                if (strcmp(fstype, "cgroup2") == 0)
                        v2 = true;
                else if (strcmp(fstype, "cgroup") == 0)
                        v2 = false;
                else
                        continue;

                if (!path_is_at_or_beneath(mounts.items[i].target, root) || mount_is_covered(&mounts, i))
                        continue;

                controllers = v2 ? strdup("")
                                 : controllers_from_options(mnt_fs_get_fs_options(mounts.items[i].fs));
                if (!controllers)
                        return -ENOMEM;
                /* A v1 mount always has a controller or a name; one without cannot be told
                 * apart from another, so it is left out rather than let it alias one. */
                if (!v2 && controllers[0] == '\0')
                        continue;
                /* One hierarchy mounted twice (a bind mount, a container's view): the first. */
                if (hierarchies_contain(&h, v2, controllers))
                        continue;

                path = strdup(mounts.items[i].target);
                if (!path)
                        return -ENOMEM;
                if (cg_grow((void **) &h.items, &allocated, h.n, sizeof(*h.items)) < 0)
                        return -ENOMEM;
                h.items[h.n++] = (CgfsHierarchy){
                        .path = TAKE_PTR(path),
                        .controllers = TAKE_PTR(controllers),
                        .v2 = v2,
                };
        }
        if (h.n == 0)
                return -ENOENT;

        *ret = h;
        h = (CgfsHierarchies){};
        return 0;
}

void cgfs_hierarchies_done(CgfsHierarchies *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n; i++) {
                free(h->items[i].path);
                free(h->items[i].controllers);
        }
        free(h->items);
        *h = (CgfsHierarchies){};
}

const CgfsHierarchy *cgfs_hierarchies_get(const CgfsHierarchies *h, const char *controller) {
        size_t l;

        if (!h || !controller)
                return NULL;

        l = strlen(controller);
        for (size_t i = 0; i < h->n; i++) {
                const CgfsHierarchy *x = &h->items[i];

                if (l == 0 ? x->v2
                           : !x->v2 && (strcmp(x->controllers, controller) == 0 ||
                                        cg_controllers_contain(x->controllers, controller, l)))
                        return x;
        }
        return NULL;
}
