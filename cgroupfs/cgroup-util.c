/* SPDX-License-Identifier: MIT */
/* What enumerating and destroying pod cgroups both need: reading cgroup files, listing child
 * cgroups, and whether a cgroup holds processes. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroupfs/cgroupfs-internal.h"
#include "util/macro.h"

#define EVENTS_SIZE_MAX 4096
#define READ_CHUNK 4096

bool cg_errno_is_gone(int e) {
        e = e < 0 ? -e : e;
        return e == ENOENT || e == ENODEV;
}

/* cgroup files report a size of 4096 or 0, so read until EOF. */
int cg_read_file_at(int dir_fd, const char *name, size_t max, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t allocated = 0, n = 0;

        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        for (;;) {
                ssize_t k;

                /* Room for one byte more than max, to tell a file of max bytes from a larger one,
                 * and for the NUL. */
                if (n == allocated) {
                        size_t a = MIN(allocated ? allocated * 2 : READ_CHUNK, max + 1);
                        char *b = realloc(buf, a);

                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated = a;
                }
                k = read(fd, buf + n, allocated - n);
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
        return 0;
}

int cg_opendir_at(int dir_fd, const char *name, DIR **ret) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;

        fd = openat(dir_fd, name, CG_OPEN_DIR_FLAGS);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);
        *ret = d;
        return 0;
}

int cg_readdir_child(DIR *d, struct dirent **ret_de, struct stat *ret_st) {
        for (;;) {
                struct dirent *de;
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return errno == 0 || cg_errno_is_gone(errno) ? 0 : negative_errno();
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (ret_st || de->d_type == DT_UNKNOWN) {
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (cg_errno_is_gone(errno))
                                        continue;
                                return negative_errno();
                        }
                        if (!S_ISDIR(st.st_mode))
                                continue;
                        if (ret_st)
                                *ret_st = st;
                }
                *ret_de = de;
                return 1;
        }
}

int cg_events_get(const char *events, const char *key) {
        size_t kl = strlen(key);

        for (const char *line = events; *line;) {
                size_t l = strcspn(line, "\n");

                if (l > kl + 1 && strncmp(line, key, kl) == 0 && line[kl] == ' ') {
                        const char *v = line + kl + 1;

                        if (l - kl - 1 == 1 && (v[0] == '0' || v[0] == '1'))
                                return v[0] == '1';
                        return -EBADMSG;
                }
                line += l;
                line += *line == '\n';
        }
        return -ENODATA;
}

int cg_has_procs(int dir_fd, const char *child) {
        char path[NAME_MAX + sizeof("/cgroup.procs")]; /* a d_name is at most NAME_MAX */
        _cleanup_close_ int fd = -EBADF;
        char buf[64];
        ssize_t k;

        if ((size_t) snprintf(path, sizeof(path), "%s%scgroup.procs", child ?: "", child ? "/" : "") >=
            sizeof(path))
                return -ENAMETOOLONG;
        fd = openat(dir_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cg_errno_is_gone(errno) || errno == ENOTDIR ? 0 : negative_errno();
        /* One read: a pid is a line. */
        do
                k = read(fd, buf, sizeof(buf));
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return cg_errno_is_gone(errno) ? 0 : negative_errno();
        return k > 0;
}

/* v1 has no "populated" file. Depth-first with bounded recursion: a tree deeper than any runtime
 * makes counts as populated, the safe answer for a liveness check. */
int cg_tree_has_procs(
        int dir_fd, const char *child, const struct stat *child_st, unsigned depth, unsigned max_depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        struct stat st;
        int r;

        r = cg_has_procs(dir_fd, child);
        if (r != 0)
                return r;
        if (depth >= max_depth)
                return 1;
        /* A leaf, the usual container cgroup, is not listed: it has no subdirectory when its link
         * count is 2 (kernfs counts subdirectories there, as most file systems do). */
        if (child_st && child_st->st_nlink == 2)
                return 0;

        r = cg_opendir_at(dir_fd, child ?: ".", &d);
        if (r < 0)
                return cg_errno_is_gone(r) || r == -ENOTDIR || r == -ELOOP ? 0 : r;
        while ((r = cg_readdir_child(d, &de, &st)) > 0) {
                r = cg_tree_has_procs(dirfd(d), de->d_name, &st, depth + 1, max_depth);
                if (r != 0)
                        return r;
        }
        return r;
}

int cg_is_populated(int dir_fd, bool v2, unsigned max_depth) {
        if (v2) {
                _cleanup_free_ char *events = NULL;
                int r;

                /* "populated 1" covers the cgroup and every descendant. */
                r = cg_read_file_at(dir_fd, "cgroup.events", EVENTS_SIZE_MAX, &events);
                if (r >= 0)
                        r = cg_events_get(events, "populated");
                if (r != -ENOENT && r != -ENODATA)
                        return cg_errno_is_gone(r) ? 0 : r;
                /* No cgroup.events (not a cgroup2 file system after all): walk. */
        }
        return cg_tree_has_procs(dir_fd, NULL, NULL, 0, max_depth);
}

bool cg_controllers_contain(const char *list, const char *controller, size_t len) {
        for (const char *c = list; *c;) {
                size_t n = strcspn(c, ",");

                if (n == len && strncmp(c, controller, len) == 0)
                        return true;
                c += n;
                c += *c == ',';
        }
        return false;
}

bool cg_path_is_safe(const char *p) {
        if (!p || p[0] == '\0' || p[0] == '/')
                return false;
        for (const char *c = p; *c;) {
                size_t n = strcspn(c, "/");

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += n;
                if (*c == '/' && *++c == '\0')
                        return false;
        }
        return true;
}

int cg_grow(void **items, size_t *allocated, size_t n, size_t size) {
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

cgfs_usec_t cg_timespec_to_usec(const struct timespec *ts) {
        return (cgfs_usec_t) ts->tv_sec * 1000000u + (cgfs_usec_t) ts->tv_nsec / 1000u;
}

cgfs_usec_t cg_now_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return cg_timespec_to_usec(&ts);
}
