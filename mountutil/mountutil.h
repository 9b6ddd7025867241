/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mountutil: the mount table and tree removal that never crosses into a mount.
 *
 * Nothing here logs above debug: functions return -errno and the caller decides. */

/* ---- mount-table snapshot ------------------------------------------------------------------ */

typedef struct MuMountTable MuMountTable;

typedef struct MuMount {
        const char *target; /* mount point, unescaped, absolute */
        const char *source; /* e.g. "tmpfs", "/dev/sda1", "server:/export"; may be "" */
        const char *fstype; /* e.g. "tmpfs", "nfs4", "ext4" */
        const char *root;   /* root of the mount within its filesystem ("/" or a bind's subdir) */
        int id;             /* mount id (mountinfo field 1) */
        int parent_id;
} MuMount;

/* Parses `path` (NULL: /proc/self/mountinfo) with libmount into an immutable snapshot. Any line
 * that is not a kernel mountinfo line fails the load with -EINVAL (a snapshot that silently lost a
 * mount would make a mounted pod dir look empty); an empty table is -ENODATA. */
int mu_table_load(const char *path, MuMountTable **ret);
MuMountTable *mu_table_free(MuMountTable *t);
static inline void mu_table_freep(MuMountTable **t) {
        mu_table_free(*t);
}
#define _cleanup_mu_table_ __attribute__((cleanup(mu_table_freep)))

size_t mu_table_size(const MuMountTable *t);

/* Every mount whose target is `path` itself or lies beneath it, path-boundary aware ("/a/b" does
 * not match "/a/bc"), deepest first (of two mounts on one target, the top one first). `path` is
 * absolute and canonical (matching is lexical: resolve symlinks first); repeated and trailing
 * slashes are ignored, "." and ".." components are -EINVAL. *ret is one array the caller frees
 * with free(); the MuMounts it points to live until mu_table_free(). NULL with no match; ret and
 * ret_n may be NULL to only count. Returns the count, or -EINVAL / -ENOMEM. */
int mu_table_mounts_beneath(const MuMountTable *t, const char *path, const MuMount ***ret, size_t *ret_n);

/* 1 if anything is mounted at or beneath path, 0 if nothing, -errno. */
int mu_table_has_mounts_beneath(const MuMountTable *t, const char *path);

/* ---- tree removal --------------------------------------------------------------------------- */

typedef enum MuRmFlags {
        MU_RM_ROOT = 1 << 0,       /* remove the directory itself too, not only its children */
        MU_RM_ONLY_DIRS = 1 << 1,  /* rmdir only: never unlink anything; non-empty dirs stay */
        MU_RM_MISSING_OK = 1 << 2, /* a missing root is success */
        MU_RM_PARALLEL = 1 << 3,   /* remove the root's subdirectories in several threads */
} MuRmFlags;

/* Something the walk did not remove, and why. `path` is relative to the root ("" = the root). */
typedef struct MuRmRefusal {
        char *path;
        int error; /* -EXDEV: a mount point; -EPERM: "/"; -ENOTEMPTY: left non-empty (only-dirs, or
                    * refused content below); other -errno: the call that failed */
} MuRmRefusal;

typedef struct MuRmReport {
        MuRmRefusal *refusals;
        size_t n_refusals;
        uint64_t n_files; /* non-directories unlinked (files, symlinks, sockets, ...) */
        uint64_t n_dirs;  /* directories removed */
} MuRmReport;

void mu_rm_report_done(MuRmReport *r);

typedef struct MuRmOptions {
        MuRmFlags flags;
        unsigned n_threads; /* with MU_RM_PARALLEL; 0 = number of CPUs, at most 8 */
        /* Test hook: called with each directory's fd right after it was opened, before it is
         * read; `path` is relative to the root. A negative return aborts the walk with it. */
        int (*on_enter_dir)(int dir_fd, const char *path, void *userdata);
        void *userdata;
} MuRmOptions;

/* Removes the tree at `path` relative to `dir_fd` (AT_FDCWD allowed). `path` is resolved without
 * following any symlink; the root must be a directory and not a mount point, and never "/".
 * Inside, symlinks are unlinked and never followed; every directory is opened relative to its
 * parent's fd so that no mount is ever crossed: a mount point (also a bind mount from the same
 * filesystem, also one that appears during the walk) is refused with everything behind it.
 * Iterative: memory grows with depth by a few dozen bytes per level, not a stack frame or a
 * directory buffer. Goes on past errors; returns 0, or the first error (a refusal counts).
 * ret_report (may be NULL) is filled in either way and must be released with mu_rm_report_done. */
int mu_rm_tree(int dir_fd, const char *path, const MuRmOptions *opts, MuRmReport *ret_report);

/* Test knob for the cached kernel probe: false forces the O_NOFOLLOW + mount-id fallback that
 * runs where openat2(2) is missing (kernel < 5.6). */
void mu_rm_tree_set_use_openat2(bool use);

/* Human words for a refusal's error ("mount point", "not empty", ...). */
const char *mu_rm_refusal_reason(int error);
