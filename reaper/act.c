/* SPDX-License-Identifier: MIT */
/* The actor: carries out a plan's pod-level actions (DESIGN §2), each after re-checking its own
 * precondition, and removes pod dirs in the kubelet's order (kubelet_volumes.go:
 * cleanupOrphanedPodDirs, removeOrphanedPodVolumeDirs). No logging above debug: results and
 * reasons go into the actions, main and report log them. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mountutil/mountutil.h"
#include "reaper/act-internal.h"
#include "util/macro.h"

#define DESTROY_TIMEOUT_USEC (5 * USEC_PER_SEC)

#define VOLUMES_DIR "volumes"
#define SUBPATHS_DIR "volume-subpaths"
#define CSI_PLUGIN_DIR "kubernetes.io~csi"
#define EMPTY_DIR_PLUGIN_DIR "kubernetes.io~empty-dir"
#define CSI_VOL_DATA "vol_data.json"
#define CSI_MOUNT_DIR "mount"

/* ---- directories ------------------------------------------------------------------------------ */

/* Cached kernel probe: -1 not probed yet, 0 openat2() unusable (kernel < 5.6, or a seccomp
 * profile of a container runtime that answers EPERM), 1 usable. As mountutil probes it. */
static int have_openat2 = -1;

static bool openat2_usable(void) {
        if (have_openat2 < 0) {
                struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC};
                int fd = (int) syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

                have_openat2 = fd >= 0;
                safe_close(fd);
        }
        return have_openat2 > 0;
}

static int mount_id_of(int fd, const char *name, int *ret) {
        int flags = AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH);
        struct file_handle h = {.handle_bytes = 0};
        struct statx sx;
        int mnt_id;

        if (statx(fd, name, flags, STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        if (sx.stx_mask & STATX_MNT_ID) {
                *ret = (int) sx.stx_mnt_id;
                return 0;
        }
        /* Before 5.8: a zero-sized handle fails with EOVERFLOW but still reports the mount id. */
        if (name_to_handle_at(fd, name, &h, &mnt_id, flags) < 0 && errno != EOVERFLOW)
                return negative_errno();
        *ret = mnt_id;
        return 0;
}

/* Opens the directory `name` (one component) beneath dir_fd without following a symlink and
 * without stepping onto a mount: -ELOOP/-ENOTDIR for a symlink or a file, -EXDEV for a mount
 * point (a same-device bind mount included). */
static int open_dir_beneath(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        int mnt_id, parent_mnt_id, r;

        if (openat2_usable()) {
                struct open_how how = {
                        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                        .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                   RESOLVE_BENEATH,
                };

                fd = (int) syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
                return fd >= 0 ? TAKE_FD(fd) : negative_errno();
        }

        /* The fallback: O_NOFOLLOW, and a mount-id compare with the parent. */
        if (strchr(name, '/'))
                return -EINVAL;
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = mount_id_of(fd, "", &mnt_id);
        if (r < 0)
                return r;
        r = mount_id_of(dir_fd, "", &parent_mnt_id);
        if (r < 0)
                return r;
        if (mnt_id != parent_mnt_id)
                return -EXDEV;
        return TAKE_FD(fd);
}

typedef struct DirEntries {
        char **names;
        unsigned char *types; /* d_type: DT_UNKNOWN where the filesystem does not say */
        size_t n;
} DirEntries;

static void dir_entries_done(DirEntries *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->names[i]);
        free(e->names);
        free(e->types);
        *e = (DirEntries){};
}

/* The names in dir_fd (read on a file description of its own), without stat'ing any of them: a
 * dead NFS mount blocks stat. Read in full first, so that removing entries never disturbs the
 * listing. */
static int dir_entries_read(int dir_fd, DirEntries *ret) {
        _cleanup_(dir_entries_done) DirEntries e = {};
        _cleanup_closedir_ DIR *d = NULL;
        size_t allocated = 0;
        int fd;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }

        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return negative_errno();
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (e.n == allocated) {
                        size_t a = MAX(allocated * 2, (size_t) 16);
                        char **names = reallocarray(e.names, a, sizeof(*names));

                        if (!names)
                                return -ENOMEM;
                        e.names = names;
                        unsigned char *types = reallocarray(e.types, a, sizeof(*types));
                        if (!types)
                                return -ENOMEM;
                        e.types = types;
                        allocated = a;
                }
                e.names[e.n] = strdup(de->d_name);
                if (!e.names[e.n])
                        return -ENOMEM;
                e.types[e.n++] = de->d_type;
        }

        *ret = e;
        e = (DirEntries){};
        return 0;
}

/* d_type, or lstat's answer where the filesystem does not fill it in. */
static unsigned char entry_type(int dir_fd, const DirEntries *e, size_t i) {
        struct stat st;

        if (e->types[i] != DT_UNKNOWN)
                return e->types[i];
        if (fstatat(dir_fd, e->names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                return DT_UNKNOWN;
        return S_ISDIR(st.st_mode)   ? DT_DIR
               : S_ISREG(st.st_mode) ? DT_REG
               : S_ISLNK(st.st_mode) ? DT_LNK
                                     : DT_UNKNOWN;
}

/* The canonical path of <the directory of dir_fd>/<name>, as mountinfo lists mount points. */
static int fd_child_path(int dir_fd, const char *name, char **ret) {
        char proc[64];
        _cleanup_free_ char *buf = NULL;
        size_t size = 256;

        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dir_fd);
        for (;;) {
                ssize_t n;

                free(buf);
                buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                n = readlink(proc, buf, size);
                if (n < 0)
                        return negative_errno();
                if ((size_t) n < size) {
                        buf[n] = '\0';
                        break;
                }
                size *= 2;
        }
        /* An fd of a deleted directory, or of one outside our root, names no path to match. */
        if (buf[0] != '/' || strstr(buf, " (deleted)"))
                return -ENOENT;
        if (asprintf(ret, "%s%s%s", buf, streq(buf, "/") ? "" : "/", name) < 0)
                return -ENOMEM;
        return 0;
}

/* A fresh mount-table snapshot: is anything mounted at or beneath <dir of dir_fd>/<name>? 1 with
 * one such mount point in *ret_target (and how many in *ret_n), 0 if none, -errno. */
static int mounts_beneath(int dir_fd, const char *name, char **ret_target, size_t *ret_n) {
        _cleanup_mu_table_ MuMountTable *t = NULL;
        _cleanup_free_ const MuMount **mounts = NULL;
        _cleanup_free_ char *path = NULL;
        size_t n = 0;
        int r;

        r = fd_child_path(dir_fd, name, &path);
        if (r < 0)
                return r;
        r = mu_table_load(NULL, &t);
        if (r < 0)
                return r;
        r = mu_table_mounts_beneath(t, path, &mounts, &n);
        if (r < 0)
                return r;
        if (n == 0)
                return 0;
        if (ret_target) {
                /* Deepest first: the last is the outermost, the volume an operator recognizes. */
                char *target = strdup(mounts[n - 1]->target);

                if (!target)
                        return -ENOMEM;
                *ret_target = target;
        }
        if (ret_n)
                *ret_n = n;
        return 1;
}

/* ---- what stays behind ------------------------------------------------------------------------ */

typedef struct Refusal {
        char *path; /* relative to the pod dir; "" the pod dir itself */
        int error;
} Refusal;

typedef struct Refusals {
        Refusal *items;
        size_t n;
        int first_error;
} Refusals;

static void refusals_done(Refusals *r) {
        for (size_t i = 0; i < r->n; i++)
                free(r->items[i].path);
        free(r->items);
        *r = (Refusals){};
}

static bool path_is_at_or_above(const char *above, const char *path) {
        size_t l = strlen(above);

        if (l == 0)
                return true;
        return strncmp(above, path, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

/* Records that `prefix`/`path` stays, and why. A refusal already recorded at or beneath it says
 * the same thing more precisely (a dir left non-empty because of it), so it is not repeated. */
static void refusals_add(Refusals *r, const char *prefix, const char *path, int error) {
        _cleanup_free_ char *full = NULL;
        Refusal *items;

        if (r->first_error == 0)
                r->first_error = error;
        if (asprintf(&full, "%s%s%s", prefix, prefix[0] && path[0] ? "/" : "", path) < 0) {
                if (r->first_error == error)
                        r->first_error = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < r->n; i++)
                if (path_is_at_or_above(full, r->items[i].path))
                        return;
        items = reallocarray(r->items, r->n + 1, sizeof(*items));
        if (!items)
                return;
        r->items = items;
        r->items[r->n++] = (Refusal){.path = TAKE_PTR(full), .error = error};
}

/* mu_rm_tree() of `path` beneath dir_fd; what it leaves goes into r, relative to the pod dir. */
static int rm_tree(Refusals *r, int dir_fd, const char *path, const char *prefix, MuRmFlags flags) {
        MuRmReport report = {};
        int k;

        k = mu_rm_tree(dir_fd, path, &(MuRmOptions){.flags = flags}, &report);
        for (size_t i = 0; i < report.n_refusals; i++)
                refusals_add(r, prefix, report.refusals[i].path, report.refusals[i].error);
        if (k < 0 && report.n_refusals == 0)
                refusals_add(r, prefix, "", k);
        mu_rm_report_done(&report);
        return k;
}

/* "volumes/kubernetes.io~nfs/data: not empty; containers/app: mount point" */
static int refusals_format(const Refusals *r, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < r->n; i++)
                fprintf(f,
                        "%s%s: %s",
                        i > 0 ? "; " : "",
                        r->items[i].path[0] ? r->items[i].path : "pod dir",
                        mu_rm_refusal_reason(r->items[i].error));
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

/* ---- the pod dir ------------------------------------------------------------------------------ */

/* A CSI volume dir that holds nothing but vol_data.json and an empty, unmounted mount/ (or no
 * mount/ at all) is what a kubelet that lost track of the volume leaves behind
 * (kubernetes #105536, #114698): its rmdir-only cleanup fails on the file forever. mount/ goes
 * first, rmdir-only: while it cannot go, vol_data.json stays, as the kubelet needs it to unmount. */
static void remove_csi_leftover(Refusals *r, int plugin_fd, const char *vol) {
        _cleanup_(dir_entries_done) DirEntries e = {};
        _cleanup_close_ int vol_fd = -EBADF;
        _cleanup_free_ char *prefix = NULL;
        bool vol_data = false, mount_dir = false;

        /* Anything that does not open or read is left to the rmdir-only pass, which reports it. */
        vol_fd = open_dir_beneath(plugin_fd, vol);
        if (vol_fd < 0 || dir_entries_read(vol_fd, &e) < 0)
                return;
        for (size_t i = 0; i < e.n; i++) {
                unsigned char type = entry_type(vol_fd, &e, i);

                if (streq(e.names[i], CSI_VOL_DATA) && type == DT_REG)
                        vol_data = true;
                else if (streq(e.names[i], CSI_MOUNT_DIR) && type == DT_DIR)
                        mount_dir = true;
                else
                        return; /* not the known leftover */
        }
        if (!vol_data)
                return;
        if (asprintf(&prefix, VOLUMES_DIR "/" CSI_PLUGIN_DIR "/%s", vol) < 0) {
                refusals_add(r, "", VOLUMES_DIR, -ENOMEM);
                return;
        }
        if (mount_dir) {
                _cleanup_free_ char *mount_prefix = NULL;

                if (asprintf(&mount_prefix, "%s/" CSI_MOUNT_DIR, prefix) < 0) {
                        refusals_add(r, prefix, "", -ENOMEM);
                        return;
                }
                if (rm_tree(r, vol_fd, CSI_MOUNT_DIR, mount_prefix, MU_RM_ROOT | MU_RM_ONLY_DIRS) < 0)
                        return;
        }
        if (unlinkat(vol_fd, CSI_VOL_DATA, 0) < 0 && errno != ENOENT)
                refusals_add(r, prefix, CSI_VOL_DATA, errno == EBUSY ? -EXDEV : -errno);
}

/* volumes/ as the kubelet's removeOrphanedPodVolumeDirs: rmdir only, never a recursive delete,
 * since a volume dir that still holds files may be data of a volume the kubelet did not tear
 * down. The two exceptions are the leftovers that block the kubelet forever: a CSI vol_data.json
 * beside an empty mount/, and an empty-dir volume with files (the pod's own scratch space, on the
 * node's disk, meant to go with the pod). Both only because the caller proved nothing is mounted
 * beneath the pod dir; mu_rm_tree() would refuse a mount that appeared since, all the same. */
static void remove_volumes(Refusals *r, int pod_fd) {
        _cleanup_(dir_entries_done) DirEntries plugins = {};
        _cleanup_close_ int volumes_fd = -EBADF;
        int k;

        volumes_fd = open_dir_beneath(pod_fd, VOLUMES_DIR);
        if (volumes_fd == -ENOENT)
                return;
        if (volumes_fd < 0 || (k = dir_entries_read(volumes_fd, &plugins)) < 0) {
                refusals_add(r, VOLUMES_DIR, "", volumes_fd < 0 ? volumes_fd : k);
                return;
        }

        for (size_t i = 0; i < plugins.n; i++) {
                _cleanup_(dir_entries_done) DirEntries vols = {};
                _cleanup_close_ int plugin_fd = -EBADF;
                bool csi = streq(plugins.names[i], CSI_PLUGIN_DIR);

                if (!csi && !streq(plugins.names[i], EMPTY_DIR_PLUGIN_DIR))
                        continue;
                plugin_fd = open_dir_beneath(volumes_fd, plugins.names[i]);
                if (plugin_fd < 0 || dir_entries_read(plugin_fd, &vols) < 0)
                        continue; /* the rmdir-only pass below reports it */

                for (size_t j = 0; j < vols.n; j++) {
                        _cleanup_free_ char *prefix = NULL;

                        if (entry_type(plugin_fd, &vols, j) != DT_DIR)
                                continue;
                        if (csi) {
                                remove_csi_leftover(r, plugin_fd, vols.names[j]);
                                continue;
                        }
                        if (asprintf(&prefix, VOLUMES_DIR "/" EMPTY_DIR_PLUGIN_DIR "/%s", vols.names[j]) <
                            0) {
                                refusals_add(r, VOLUMES_DIR, "", -ENOMEM);
                                continue;
                        }
                        (void) rm_tree(r, plugin_fd, vols.names[j], prefix, MU_RM_ROOT | MU_RM_MISSING_OK);
                }
        }

        (void) rm_tree(r, pod_fd, VOLUMES_DIR, VOLUMES_DIR, MU_RM_ROOT | MU_RM_ONLY_DIRS | MU_RM_MISSING_OK);
}

/* The empty regular files in volume-subpaths/<volume>/<container>/: the mount points of file
 * subpaths. A bind-mounted one refuses with EBUSY. */
static void remove_subpath_files(Refusals *r, int container_fd, const char *vol, const char *container) {
        _cleanup_(dir_entries_done) DirEntries e = {};

        if (dir_entries_read(container_fd, &e) < 0)
                return; /* the rmdir-only pass reports it */
        for (size_t i = 0; i < e.n; i++) {
                _cleanup_free_ char *prefix = NULL;
                struct stat st;

                if (e.types[i] != DT_REG && e.types[i] != DT_UNKNOWN)
                        continue;
                if (fstatat(container_fd, e.names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode) || st.st_size != 0)
                        continue;
                if (unlinkat(container_fd, e.names[i], 0) >= 0 || errno != EBUSY)
                        continue;
                if (asprintf(&prefix, SUBPATHS_DIR "/%s/%s", vol, container) >= 0)
                        refusals_add(r, prefix, e.names[i], -EXDEV);
        }
}

/* volume-subpaths/<volume>/<container>/<index> are the mount points of subPath bind mounts: an
 * empty dir, or an empty file where a file was bind-mounted. As the kubelet (os.Remove of each
 * entry, "the subpath may have been a bind-mount of a file or a directory"): the empty files are
 * unlinked and the dirs go rmdir-only; anything else stays and is reported. Stricter than the
 * kubelet, which one-filesystem-removes what is left of volume-subpaths/ afterwards. */
static void remove_subpaths(Refusals *r, int pod_fd) {
        _cleanup_(dir_entries_done) DirEntries vols = {};
        _cleanup_close_ int subpaths_fd = -EBADF;

        subpaths_fd = open_dir_beneath(pod_fd, SUBPATHS_DIR);
        if (subpaths_fd == -ENOENT)
                return;
        if (subpaths_fd >= 0 && dir_entries_read(subpaths_fd, &vols) >= 0)
                for (size_t i = 0; i < vols.n; i++) {
                        _cleanup_(dir_entries_done) DirEntries containers = {};
                        _cleanup_close_ int vol_fd = open_dir_beneath(subpaths_fd, vols.names[i]);

                        if (vol_fd < 0 || dir_entries_read(vol_fd, &containers) < 0)
                                continue;
                        for (size_t j = 0; j < containers.n; j++) {
                                _cleanup_close_ int container_fd =
                                        open_dir_beneath(vol_fd, containers.names[j]);

                                if (container_fd >= 0)
                                        remove_subpath_files(
                                                r, container_fd, vols.names[i], containers.names[j]);
                        }
                }

        (void) rm_tree(
                r, pod_fd, SUBPATHS_DIR, SUBPATHS_DIR, MU_RM_ROOT | MU_RM_ONLY_DIRS | MU_RM_MISSING_OK);
}

/* Every other entry of the pod dir (containers/, plugins/, etc-hosts, ...): one-filesystem
 * removal, as the kubelet's RemoveAllOneFilesystem of each subdir. volumes/ and volume-subpaths/
 * are never removed recursively, even if they stayed. */
static void remove_others(Refusals *r, int pod_fd) {
        _cleanup_(dir_entries_done) DirEntries e = {};
        int k;

        k = dir_entries_read(pod_fd, &e);
        if (k < 0) {
                refusals_add(r, "", "", k);
                return;
        }
        for (size_t i = 0; i < e.n; i++) {
                const char *name = e.names[i];

                if (streq(name, VOLUMES_DIR) || streq(name, SUBPATHS_DIR))
                        continue;
                if (e.types[i] != DT_DIR) {
                        /* Symlinks are unlinked, never followed; a bind-mounted file says EBUSY. */
                        if (unlinkat(pod_fd, name, 0) >= 0 || errno == ENOENT)
                                continue;
                        if (errno != EISDIR) {
                                refusals_add(r, name, "", errno == EBUSY ? -EXDEV : -errno);
                                continue;
                        }
                }
                (void) rm_tree(r, pod_fd, name, name, MU_RM_ROOT | MU_RM_MISSING_OK);
        }
}

/* The pod dir itself, if the name in pods/ still is the dir we emptied. */
static void remove_pod_dir_itself(Refusals *r, int pods_fd, int pod_fd, const char *uid) {
        struct stat st, now;

        if (fstat(pod_fd, &st) < 0 || fstatat(pods_fd, uid, &now, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        refusals_add(r, "", "", -errno);
                return;
        }
        if (st.st_dev != now.st_dev || st.st_ino != now.st_ino) {
                refusals_add(r, "", "", -ESTALE);
                return;
        }
        if (unlinkat(pods_fd, uid, AT_REMOVEDIR) >= 0 || errno == ENOENT)
                return;
        /* Not empty because of a refusal already reported: nothing to add. */
        if ((errno == ENOTEMPTY || errno == EEXIST) && r->n > 0)
                return;
        refusals_add(r, "", "", errno == EBUSY ? -EXDEV : errno == EEXIST ? -ENOTEMPTY : -errno);
}

/* The pod dir's removal proper, once nothing is mounted beneath it. */
static int pod_dir_remove_unmounted(int pods_fd, int pod_fd, const char *uid, char **ret_detail) {
        _cleanup_(refusals_done) Refusals r = {};
        int k;

        /* The kubelet's order: volumes, volume subpaths, the rest, the pod dir. */
        remove_volumes(&r, pod_fd);
        remove_subpaths(&r, pod_fd);
        remove_others(&r, pod_fd);
        remove_pod_dir_itself(&r, pods_fd, pod_fd, uid);

        if (ret_detail && r.n > 0) {
                k = refusals_format(&r, ret_detail);
                if (k < 0)
                        return k;
        }
        return r.first_error;
}

int act_remove_pod_dir(int pods_fd, const char *uid, char **ret_detail) {
        _cleanup_close_ int pod_fd = -EBADF;
        _cleanup_free_ char *mount = NULL;
        size_t n_mounts = 0;
        int k;

        if (pods_fd < 0 || !cgfs_uid_is_valid(uid))
                return -EINVAL;

        /* No symlink, no mount point: -ELOOP, -ENOTDIR, -EXDEV. */
        pod_fd = open_dir_beneath(pods_fd, uid);
        if (pod_fd < 0)
                return pod_fd;

        /* The precondition of everything below, verified here once more on a fresh mount table: the
         * leftovers removed beyond the kubelet's rmdir-only rule (vol_data.json, an empty-dir
         * volume's files) are only safe to remove because nothing at all is mounted beneath the
         * pod dir. Any mount: nothing is touched, -EBUSY. */
        k = mounts_beneath(pods_fd, uid, &mount, &n_mounts);
        if (k < 0)
                return k;
        if (k > 0) {
                if (ret_detail) {
                        char *detail;

                        if (n_mounts > 1)
                                k = asprintf(&detail, "mounted: %s (and %zu more)", mount, n_mounts - 1);
                        else
                                k = asprintf(&detail, "mounted: %s", mount);
                        if (k < 0)
                                return -ENOMEM;
                        *ret_detail = detail;
                }
                return -EBUSY;
        }

        return pod_dir_remove_unmounted(pods_fd, pod_fd, uid, ret_detail);
}

/* ---- actions ---------------------------------------------------------------------------------- */

void action_finish(Action *a, ActionResult result, const char *format, ...) {
        char *error = NULL;

        if (format) {
                va_list ap;

                va_start(ap, format);
                if (vasprintf(&error, format, ap) < 0)
                        error = NULL;
                va_end(ap);
        }
        free(a->error);
        a->error = error;
        a->result = result;
}

static const char *errno_text(int r) {
        return strerror(abs(r));
}

/* The pod cgroup the action names: a uid may have cgroups in two QoS classes (leftovers), so the
 * target path decides. */
static const CgfsPod *action_find_cgroup(const ActContext *c, const Action *a) {
        const CgfsPods *pods = c->pod_cgroups;

        if (!pods || !c->hierarchies || !a->target)
                return NULL;
        for (size_t i = 0; i < pods->n; i++) {
                const CgfsPod *pod = &pods->items[i];
                _cleanup_free_ char *path = NULL;
                int r;

                if (!streq(pod->uid, a->uid))
                        continue;
                r = cgfs_pod_path(pods->driver, c->options->kubepods_cgroup, pod->qos, pod->uid, &path);
                if (r >= 0 && streq(path, a->target))
                        return pod;
                for (size_t j = 0; pod->paths && j < c->hierarchies->n; j++)
                        if (pod->paths[j] && streq(pod->paths[j], a->target))
                                return pod;
        }
        return NULL;
}

/* Liveness rule 1, asked again right before acting. */
static bool recheck_runtime(const ActContext *c, Action *a) {
        int r = c->runtime_knows_uid ? c->runtime_knows_uid(c->userdata, a->uid) : -EOPNOTSUPP;

        if (r > 0) {
                action_finish(a, RESULT_SKIPPED, "the runtime knows this pod now");
                return false;
        }
        if (r < 0) {
                action_finish(a, RESULT_SKIPPED, "runtime re-check failed: %s", errno_text(r));
                return false;
        }
        return true;
}

/* Liveness rule 4, asked again: none of the uid's pod cgroups holds processes now. */
static bool recheck_cgroups_empty(const ActContext *c, Action *a) {
        if (!c->pod_cgroups)
                return true;
        for (size_t i = 0; i < c->pod_cgroups->n; i++) {
                const CgfsPod *pod = &c->pod_cgroups->items[i];
                int r;

                if (!streq(pod->uid, a->uid))
                        continue;
                r = cgfs_pod_is_populated(c->hierarchies, pod);
                if (r == -ENOENT || r == -ENODEV || r == 0)
                        continue; /* destroyed earlier in this pass, or empty */
                if (r > 0)
                        action_finish(a, RESULT_SKIPPED, "pod cgroup still holds processes");
                else
                        action_finish(a, RESULT_SKIPPED, "pod cgroup re-check failed: %s", errno_text(r));
                return false;
        }
        return true;
}

static int open_pods_dir(const Options *o) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (!o->root_dir)
                return -EINVAL;
        if (asprintf(&path, "%s/pods", o->root_dir) < 0)
                return -ENOMEM;
        /* --root-dir itself may be a symlink (/var/lib/kubelet -> /data/kubelet): followed. */
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

/* As the kubelet (podVolumesExist): nothing of a pod goes while a volume of it is mounted. */
static bool recheck_not_mounted(Action *a, int pods_fd) {
        _cleanup_free_ char *target = NULL;
        size_t n = 0;
        int r;

        r = mounts_beneath(pods_fd, a->uid, &target, &n);
        if (r == 0)
                return true;
        if (r > 0 && n > 1)
                action_finish(
                        a,
                        RESULT_SKIPPED,
                        "volume mounted since the plan: %s (and %zu more)",
                        target,
                        n - 1);
        else if (r > 0)
                action_finish(a, RESULT_SKIPPED, "volume mounted since the plan: %s", target);
        else
                action_finish(a, RESULT_SKIPPED, "mount table re-check failed: %s", errno_text(r));
        return false;
}

static void act_destroy_cgroup(const ActContext *c, Action *a) {
        const CgfsPod *pod = action_find_cgroup(c, a);
        _cleanup_close_ int pods_fd = -EBADF;
        int r;

        if (!pod) {
                action_finish(a, RESULT_FAILED, "pod cgroup not in this pass's snapshot");
                return;
        }
        if (!recheck_runtime(c, a))
                return;
        /* As the kubelet's cleanupOrphanedPodCgroups: a pod with a volume mounted keeps its cgroup. */
        pods_fd = open_pods_dir(c->options);
        if (pods_fd < 0 && pods_fd != -ENOENT) {
                action_finish(a, RESULT_SKIPPED, "cannot open the pods dir: %s", errno_text(pods_fd));
                return;
        }
        if (pods_fd >= 0 && !recheck_not_mounted(a, pods_fd))
                return;

        r = cgfs_pod_destroy(c->hierarchies, pod, c->pod_cgroups->driver, DESTROY_TIMEOUT_USEC, NULL);
        if (r == -EBUSY)
                action_finish(a, RESULT_FAILED, "processes still in the pod cgroup after 5s");
        else if (r < 0)
                action_finish(a, RESULT_FAILED, "failed to destroy the pod cgroup: %s", errno_text(r));
        else
                action_finish(a, RESULT_DONE, NULL);
}

static void act_reduce_cpu(const ActContext *c, Action *a) {
        const CgfsPod *pod = action_find_cgroup(c, a);
        int r;

        if (!pod) {
                action_finish(a, RESULT_FAILED, "pod cgroup not in this pass's snapshot");
                return;
        }
        if (!recheck_runtime(c, a))
                return;
        r = cgfs_pod_reduce_cpu(c->hierarchies, pod, c->pod_cgroups->driver);
        if (r < 0)
                action_finish(a, RESULT_FAILED, "failed to lower the pod cgroup's CPU: %s", errno_text(r));
        else
                action_finish(a, RESULT_DONE, NULL);
}

static void act_pod_dir(const ActContext *c, Action *a) {
        _cleanup_close_ int pods_fd = -EBADF, pod_fd = -EBADF;
        _cleanup_free_ char *detail = NULL;
        int r;

        if (!recheck_runtime(c, a) || !recheck_cgroups_empty(c, a))
                return;
        pods_fd = open_pods_dir(c->options);
        if (pods_fd == -ENOENT) {
                action_finish(a, RESULT_DONE, NULL); /* already gone */
                return;
        }
        if (pods_fd < 0) {
                action_finish(a, RESULT_FAILED, "cannot open the pods dir: %s", errno_text(pods_fd));
                return;
        }
        /* The precondition of act_remove_pod_dir(), checked here (one mount-table snapshot per pod
         * dir) so that the skip carries the reason. A mount that appears after it is refused by
         * the walk itself. */
        if (!recheck_not_mounted(a, pods_fd))
                return;
        pod_fd = open_dir_beneath(pods_fd, a->uid);
        if (pod_fd == -ENOENT) {
                action_finish(a, RESULT_DONE, NULL);
                return;
        }
        if (pod_fd < 0) {
                action_finish(a, RESULT_FAILED, "pod dir refused: %s", mu_rm_refusal_reason(pod_fd));
                return;
        }

        r = pod_dir_remove_unmounted(pods_fd, pod_fd, a->uid, &detail);
        if (r >= 0)
                action_finish(a, RESULT_DONE, NULL);
        else
                action_finish(a, RESULT_FAILED, "%s", detail ?: errno_text(r));
}

/* The log dir's name under --pod-logs-dir, if the target is exactly one of the uid's there. */
static const char *log_dir_name(const Options *o, const Action *a) {
        const char *name, *uid_part;
        size_t l;

        if (!o->pod_logs_dir || !a->target)
                return NULL;
        name = strrchr(a->target, '/');
        if (!name)
                return NULL;
        name++;
        l = strlen(o->pod_logs_dir);
        while (l > 1 && o->pod_logs_dir[l - 1] == '/')
                l--;
        if ((size_t) (name - a->target) != l + 1 || strncmp(a->target, o->pod_logs_dir, l) != 0)
                return NULL;
        uid_part = strrchr(name, '_');
        if (!uid_part || uid_part == name || !streq(uid_part + 1, a->uid))
                return NULL;
        return name;
}

static void act_log_dir(const ActContext *c, Action *a) {
        _cleanup_(refusals_done) Refusals r = {};
        _cleanup_close_ int logs_fd = -EBADF;
        _cleanup_free_ char *detail = NULL;
        const char *name;
        int k;

        name = log_dir_name(c->options, a);
        if (!name) {
                action_finish(a, RESULT_FAILED, "not a log dir of this pod under --pod-logs-dir");
                return;
        }
        if (!recheck_runtime(c, a) || !recheck_cgroups_empty(c, a))
                return;
        logs_fd = open(c->options->pod_logs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (logs_fd < 0) {
                if (errno == ENOENT)
                        action_finish(a, RESULT_DONE, NULL);
                else
                        action_finish(a, RESULT_FAILED, "cannot open the pod logs dir: %s", strerror(errno));
                return;
        }

        k = rm_tree(&r, logs_fd, name, name, MU_RM_ROOT | MU_RM_MISSING_OK);
        if (k >= 0) {
                action_finish(a, RESULT_DONE, NULL);
                return;
        }
        if (refusals_format(&r, &detail) < 0)
                detail = NULL;
        action_finish(a, RESULT_FAILED, "%s", detail ?: errno_text(k));
}

size_t act_run(const ActContext *c, Plan *p) {
        size_t n_failed = 0;

        if (!c || !c->options || !p || c->options->dry_run)
                return 0;

        for (size_t i = 0; i < p->n_actions; i++) {
                Action *a = &p->actions[i];

                /* Between actions only: the current one completes, and a pass stopped here is finished
                 * by the next one (the saved state marks its pods reaping). */
                if (c->stop && *c->stop)
                        break;
                if (a->result != RESULT_PLANNED)
                        continue;
                if (!cgfs_uid_is_valid(a->uid)) {
                        if (a->kind == ACTION_DESTROY_CGROUP || a->kind == ACTION_REDUCE_CGROUP_CPU ||
                            a->kind == ACTION_REMOVE_POD_DIR || a->kind == ACTION_REMOVE_LOG_DIR) {
                                action_finish(a, RESULT_FAILED, "not a pod uid: '%s'", a->uid);
                                n_failed++;
                        }
                        continue;
                }

                switch (a->kind) {
                case ACTION_DESTROY_CGROUP:
                        act_destroy_cgroup(c, a);
                        break;
                case ACTION_REDUCE_CGROUP_CPU:
                        act_reduce_cpu(c, a);
                        break;
                case ACTION_REMOVE_POD_DIR:
                        act_pod_dir(c, a);
                        break;
                case ACTION_REMOVE_LOG_DIR:
                        act_log_dir(c, a);
                        break;
                default:
                        /* skip-pod is a refusal, not an action; runtime GC goes below, in steps. */
                        continue;
                }
                if (a->result == RESULT_FAILED)
                        n_failed++;
        }
        return n_failed + act_runtime_gc(c, p);
}
