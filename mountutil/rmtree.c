/* SPDX-License-Identifier: MIT */
/*
 * One-filesystem tree removal that never crosses into a mount.
 *
 * Every directory is opened relative to its parent's fd, by a name read from the parent, with
 * openat2(RESOLVE_NO_XDEV|RESOLVE_NO_SYMLINKS): the kernel itself refuses to step onto a mount
 * (any mount: a bind mount from the same filesystem and a directory bind-mounted onto itself
 * included, which st_dev cannot tell apart) or to follow a symlink, at the moment of the open.
 * So a mount that appears after the caller's mount-table check stops the walk too. Where openat2
 * is missing (kernel < 5.6) the same is done by O_NOFOLLOW plus a mount-id compare.
 *
 * Non-directories are unlinked, never opened: a symlink goes, its target stays; unlinking a
 * bind-mounted file fails with EBUSY and the mount is reported.
 *
 * The walk is iterative. Per level it keeps the directory fd, its name and the names of the
 * subdirectories still to visit from the last getdents batch; beyond FD_WINDOW levels the fds of
 * the upper levels are closed and reopened through ".." on the way back (verified by inode), so
 * a 10,000-deep tree needs neither a deep C stack nor 10,000 fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mountutil/mountutil.h"
#include "util/macro.h"

#define GETDENTS_BUF_SIZE (32 * 1024)
#define FD_WINDOW 256
#define MAX_THREADS 8
#define RESCANS_MAX 8u /* a directory read again from the start at most this often */

/* Cached kernel probe: -1 not probed yet, 0 fall back, 1 use openat2. */
static int use_openat2 = -1;

void mu_rm_tree_set_use_openat2(bool use) {
        use_openat2 = use;
}

static bool have_openat2(void) {
        if (use_openat2 < 0) {
                struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC};
                int fd = (int) syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

                use_openat2 = fd >= 0;
                safe_close(fd);
        }
        return use_openat2 > 0;
}

const char *mu_rm_refusal_reason(int error) {
        switch (-abs(error)) {
        case -EXDEV:
        case -EBUSY:
                return "mount point";
        case -ENOTEMPTY:
                return "not empty";
        case -EPERM:
                return "not permitted";
        case -ELOOP:
                return "symlink in path";
        case -ENOTDIR:
                return "not a directory";
        case -ESTALE:
                return "directory moved during removal";
        default:
                return strerror(abs(error));
        }
}

/* The mount id of fd (name "" ) or of name relative to it, without following a final symlink.
 * statx(STATX_MNT_ID) since 5.8; before that name_to_handle_at() reports it too. */
static int mount_id_at(int fd, const char *name, int *ret) {
        struct statx sx;
        int flags = AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH);

        if (statx(fd, name, flags, STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        if (sx.stx_mask & STATX_MNT_ID) {
                *ret = (int) sx.stx_mnt_id;
                return 0;
        }

        /* With a zero-sized handle the call fails with EOVERFLOW but still fills in the mount id. */
        struct file_handle h = {.handle_bytes = 0};
        int mnt_id;
        if (name_to_handle_at(fd, name, &h, &mnt_id, flags) < 0 && errno != EOVERFLOW)
                return negative_errno();
        *ret = mnt_id;
        return 0;
}

/* Opens the subdirectory `name` of dir_fd without following a symlink and without stepping onto
 * a mount. -EXDEV: it is a mount point. -ELOOP/-ENOTDIR: it is not a directory (any more). */
static int open_child_dir(int dir_fd, int dir_mnt_id, const char *name) {
        if (have_openat2()) {
                struct open_how how = {
                        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                        .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                   RESOLVE_BENEATH,
                };
                int fd = (int) syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
                return fd < 0 ? negative_errno() : fd;
        }

        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        int mnt_id, r = mount_id_at(fd, "", &mnt_id);
        if (r < 0)
                return r;
        if (mnt_id != dir_mnt_id)
                return -EXDEV;
        return TAKE_FD(fd);
}

typedef struct Level {
        int fd;         /* -EBADF while evicted beyond FD_WINDOW */
        bool borrowed;  /* fd is not ours to close */
        bool eof;       /* getdents said end of directory */
        bool dirty;     /* something below stays (refused, failed): our rmdir would fail */
        bool has_files; /* MU_RM_ONLY_DIRS: non-directories left in this directory */
        bool keep_all;  /* accumulate pending names across batches (root in parallel mode) */
        int mnt_id;     /* the fallback compares it; with openat2 it is set on eviction */
        dev_t dev;      /* identity recorded on eviction, checked when reopened via ".." */
        ino_t ino;
        off_t offset;     /* readdir position recorded on eviction */
        unsigned rescans; /* times read again from the start after its rmdir found it not empty */
        char *name;       /* name in the parent; NULL for the root */
        char *pending;    /* NUL-separated subdirectory names still to visit */
        size_t pending_size, pending_alloc, pending_pos;
} Level;

typedef struct Shared {
        pthread_mutex_t lock;
        MuRmReport *report;
        const MuRmOptions *opts;
        int first_error;
        atomic_bool abort;
        /* Parallel mode: the root's subdirectories, handed out one by one. */
        Level *jobs;
        bool root_dirty;
} Shared;

typedef struct Walk {
        Shared *shared;
        Level *levels;
        size_t n_levels, n_alloc;
        uint64_t n_files, n_dirs;
        uint8_t *buf;
} Walk;

static void record_error(Walk *w, int error) {
        pthread_mutex_lock(&w->shared->lock);
        if (w->shared->first_error == 0)
                w->shared->first_error = error;
        pthread_mutex_unlock(&w->shared->lock);
}

/* Path of `name` inside level `depth`, relative to the root; name NULL means level depth itself. */
static char *build_path(Walk *w, size_t depth, const char *name) {
        size_t len = 1;
        for (size_t i = 1; i <= depth; i++)
                len += strlen(w->levels[i].name) + 1;
        if (name)
                len += strlen(name) + 1;

        char *p = malloc(len), *q = p;
        if (!p)
                return NULL;
        for (size_t i = 1; i <= depth; i++)
                q = stpcpy(stpcpy(q, w->levels[i].name), "/");
        if (name)
                q = stpcpy(q, name);
        else if (q > p)
                q--; /* drop the trailing slash */
        *q = 0;
        return p;
}

/* Something under level `depth` stays: report it, remember the first error, mark the level. */
static void refuse(Walk *w, size_t depth, const char *name, int error) {
        Shared *s = w->shared;
        char *path = build_path(w, depth, name);

        pthread_mutex_lock(&s->lock);
        if (s->first_error == 0)
                s->first_error = error;
        MuRmReport *r = s->report;
        MuRmRefusal *n = path ? realloc(r->refusals, (r->n_refusals + 1) * sizeof(MuRmRefusal)) : NULL;
        if (n) {
                r->refusals = n;
                r->refusals[r->n_refusals++] = (MuRmRefusal){.path = path, .error = error};
        } else {
                free(path);
                if (s->first_error == error)
                        s->first_error = -ENOMEM;
        }
        pthread_mutex_unlock(&s->lock);

        w->levels[depth].dirty = true;
}

static int pending_add(Level *l, const char *name) {
        size_t len = strlen(name) + 1;

        if (l->pending_size + len > l->pending_alloc) {
                size_t a = MAX(l->pending_alloc * 2, l->pending_size + len + 64);
                char *p = realloc(l->pending, a);
                if (!p)
                        return -ENOMEM;
                l->pending = p;
                l->pending_alloc = a;
        }
        memcpy(l->pending + l->pending_size, name, len);
        l->pending_size += len;
        return 0;
}

static const char *pending_next(Walk *w, Level *l) {
        if (l->pending_pos < l->pending_size) {
                const char *n = l->pending + l->pending_pos;
                l->pending_pos += strlen(n) + 1;
                return n;
        }
        if (w->n_levels == 1 && w->shared->jobs) {
                Level *jobs = w->shared->jobs;
                const char *n = NULL;

                pthread_mutex_lock(&w->shared->lock);
                if (jobs->pending_pos < jobs->pending_size) {
                        n = jobs->pending + jobs->pending_pos;
                        jobs->pending_pos += strlen(n) + 1;
                }
                pthread_mutex_unlock(&w->shared->lock);
                return n;
        }
        return NULL;
}

static void unlink_entry(Walk *w, Level *l, const char *name, bool *ret_is_dir) {
        *ret_is_dir = false;
        if (unlinkat(l->fd, name, 0) >= 0) {
                w->n_files++;
                return;
        }
        switch (errno) {
        case ENOENT: /* removed by someone else: fine */
                return;
        case EISDIR: /* d_type was DT_UNKNOWN, or it became a directory */
                *ret_is_dir = true;
                return;
        case EBUSY: /* a bind-mounted file */
                refuse(w, w->n_levels - 1, name, -EXDEV);
                return;
        default:
                refuse(w, w->n_levels - 1, name, -errno);
        }
}

/* Reads one getdents batch of the top level: unlinks what is not a directory, queues the rest. */
static void read_batch(Walk *w) {
        size_t depth = w->n_levels - 1;
        Level *l = &w->levels[depth];
        int flags = w->shared->opts->flags;

        ssize_t n = getdents64(l->fd, w->buf, GETDENTS_BUF_SIZE);
        if (n <= 0) {
                /* ENOENT: removed by someone else after we opened it, which is what we wanted. */
                if (n < 0 && errno != ENOENT)
                        refuse(w, depth, NULL, negative_errno());
                l->eof = true;
                return;
        }

        if (!l->keep_all)
                l->pending_size = l->pending_pos = 0;

        for (ssize_t pos = 0; pos < n;) {
                struct dirent64 *de = (struct dirent64 *) (w->buf + pos);
                const char *name = de->d_name;
                bool is_dir = de->d_type == DT_DIR;

                pos += de->d_reclen;
                if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
                        continue;

                if (de->d_type == DT_UNKNOWN) {
                        struct stat st;
                        if (fstatat(l->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (errno != ENOENT)
                                        refuse(w, depth, name, negative_errno());
                                continue;
                        }
                        is_dir = S_ISDIR(st.st_mode);
                }

                if (!is_dir) {
                        if (flags & MU_RM_ONLY_DIRS) {
                                l->has_files = true;
                                continue;
                        }
                        unlink_entry(w, l, name, &is_dir);
                        if (!is_dir)
                                continue;
                }

                if (pending_add(l, name) < 0)
                        refuse(w, depth, name, -ENOMEM);
        }
}

/* Closes the fd of an upper level to bound the number of open fds; it is reopened via "..". */
static void evict(Level *l) {
        struct stat st;

        if (l->fd < 0 || l->borrowed)
                return;
        /* Keep it open where a reopen could not be verified. */
        if (fstat(l->fd, &st) < 0 || mount_id_at(l->fd, "", &l->mnt_id) < 0)
                return;
        l->dev = st.st_dev;
        l->ino = st.st_ino;
        l->offset = lseek(l->fd, 0, SEEK_CUR);
        l->fd = safe_close(l->fd);
}

/* ".." from the child lands on whatever is mounted on the parent now: a mount stacked there after
 * we closed its fd (a self-bind keeps dev and inode) shows only in the mount id. */
static int reopen_via_dotdot(Level *parent, const Level *child) {
        _cleanup_close_ int fd = openat(child->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        int mnt_id, r;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        r = mount_id_at(fd, "", &mnt_id);
        if (r < 0)
                return r;
        if (mnt_id != parent->mnt_id)
                return -EXDEV;
        if (st.st_dev != parent->dev || st.st_ino != parent->ino)
                return -ESTALE;
        if (lseek(fd, parent->offset, SEEK_SET) < 0)
                return negative_errno();
        parent->fd = TAKE_FD(fd);
        return 0;
}

static int push(Walk *w, int fd, const char *name, int mnt_id) {
        if (w->n_levels == w->n_alloc) {
                size_t a = MAX(w->n_alloc * 2, 16u);
                Level *n = realloc(w->levels, a * sizeof(Level));
                if (!n)
                        return -ENOMEM;
                w->levels = n;
                w->n_alloc = a;
        }

        char *copy = NULL;
        if (name && !(copy = strdup(name)))
                return -ENOMEM;

        w->levels[w->n_levels++] = (Level){.fd = fd, .name = copy, .mnt_id = mnt_id};
        if (w->n_levels > FD_WINDOW)
                evict(&w->levels[w->n_levels - 1 - FD_WINDOW]);
        return 0;
}

static void level_done(Level *l) {
        if (!l->borrowed)
                safe_close(l->fd);
        free(l->name);
        free(l->pending);
}

static void descend(Walk *w, const char *name) {
        size_t depth = w->n_levels - 1;
        Level *l = &w->levels[depth];
        int mnt_id = 0;

        int fd = open_child_dir(l->fd, l->mnt_id, name);
        if (fd == -ENOENT)
                return;
        if (fd == -ELOOP || fd == -ENOTDIR) {
                /* Replaced by a symlink or a file since getdents: unlink it like any non-dir. */
                bool is_dir;
                if (w->shared->opts->flags & MU_RM_ONLY_DIRS)
                        l->has_files = true;
                else
                        unlink_entry(w, l, name, &is_dir);
                return;
        }
        if (fd < 0) {
                refuse(w, depth, name, fd);
                return;
        }
        if (!have_openat2()) {
                int r = mount_id_at(fd, "", &mnt_id);
                if (r < 0) {
                        safe_close(fd);
                        refuse(w, depth, name, r);
                        return;
                }
        }

        int r = push(w, fd, name, mnt_id);
        if (r < 0) {
                safe_close(fd);
                refuse(w, depth, name, r);
                return;
        }

        const MuRmOptions *o = w->shared->opts;
        if (o->on_enter_dir) {
                _cleanup_free_ char *path = build_path(w, w->n_levels - 1, NULL);
                r = path ? o->on_enter_dir(fd, path, o->userdata) : -ENOMEM;
                if (r < 0) {
                        record_error(w, r);
                        atomic_store(&w->shared->abort, true);
                }
        }
}

/* A directory whose rmdir finds it not empty though nothing in it was refused is read again from
 * the start: a readdir position kept across its fd's eviction is an entry count on filesystems
 * without stable offsets (tmpfs before Linux 6.6), and the removals since shifted what it counts,
 * so entries were skipped. What is listed now is all still to do. True if it will be read again. */
static bool rescan(Level *l) {
        if (l->rescans >= RESCANS_MAX || l->fd < 0 || lseek(l->fd, 0, SEEK_SET) < 0)
                return false;
        l->rescans++;
        l->eof = false;
        l->pending_size = l->pending_pos = 0;
        return true;
}

/* Leaves the top level and removes its (now hopefully empty) directory from the parent; or, see
 * rescan(), stays to read it again. */
static int pop(Walk *w) {
        size_t depth = w->n_levels - 1;
        Level *l = &w->levels[depth];
        int r = 0;

        if (depth > 0) {
                Level *p = &w->levels[depth - 1];

                if (p->fd < 0)
                        r = reopen_via_dotdot(p, l);
                if (r < 0)
                        refuse(w, depth - 1, NULL, r);
                else if (l->dirty && !l->has_files)
                        p->dirty = true; /* the refusal below was reported already */
                else if (unlinkat(p->fd, l->name, AT_REMOVEDIR) >= 0)
                        w->n_dirs++;
                else if ((errno == ENOTEMPTY || errno == EEXIST) && !l->dirty && rescan(l))
                        return 0;
                else if (errno == EBUSY)
                        refuse(w, depth - 1, l->name, -EXDEV);
                else if (errno != ENOENT)
                        refuse(w, depth - 1, l->name, errno == EEXIST ? -ENOTEMPTY : -errno);
        }

        level_done(l);
        w->n_levels--;
        return r;
}

static void walk_run(Walk *w) {
        while (w->n_levels > 0) {
                if (atomic_load(&w->shared->abort)) {
                        /* Unwind without removing anything more. */
                        for (size_t i = 1; i < w->n_levels; i++)
                                level_done(&w->levels[i]);
                        w->levels[0].dirty = true;
                        w->n_levels = 1;
                        break;
                }

                Level *l = &w->levels[w->n_levels - 1];
                const char *name = pending_next(w, l);
                if (name)
                        descend(w, name);
                else if (!l->eof)
                        read_batch(w);
                else if (w->n_levels == 1)
                        break; /* the root is the caller's */
                else if (pop(w) < 0)
                        atomic_store(&w->shared->abort, true);
        }
}

static void walk_done(Walk *w) {
        for (size_t i = 0; i < w->n_levels; i++)
                level_done(&w->levels[i]);
        free(w->levels);
        free(w->buf);
}

static int walk_init(Walk *w, Shared *s, int root_fd, int root_mnt_id) {
        *w = (Walk){.shared = s};
        w->buf = malloc(GETDENTS_BUF_SIZE);
        if (!w->buf)
                return -ENOMEM;
        int r = push(w, root_fd, NULL, root_mnt_id);
        if (r < 0)
                return r;
        w->levels[0].borrowed = true;
        return 0;
}

static void *worker(void *userdata) {
        Walk *w = userdata;

        walk_run(w);
        if (w->levels[0].dirty) {
                pthread_mutex_lock(&w->shared->lock);
                w->shared->root_dirty = true;
                pthread_mutex_unlock(&w->shared->lock);
        }
        return NULL;
}

static unsigned n_threads_for(const MuRmOptions *o, size_t n_jobs) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned n = o->n_threads > 0 ? o->n_threads : (unsigned) MAX(cpus, 1L);

        n = MIN(n, (unsigned) MAX_THREADS);
        return (unsigned) MIN((size_t) n, n_jobs);
}

/* Removes the root's subtrees on several threads: the main walk has read the whole root (files
 * unlinked, subdirectory names queued); each worker pulls names from that queue. */
static void walk_parallel(Walk *main_walk, Shared *s) {
        Level *root = &main_walk->levels[0];
        size_t n_jobs = 0;

        root->keep_all = true;
        while (!root->eof)
                read_batch(main_walk);
        for (size_t i = 0; i < root->pending_size; i++)
                n_jobs += root->pending[i] == 0;

        unsigned n = n_threads_for(s->opts, n_jobs);
        if (n < 2)
                return; /* the sequential walk takes the queue as it is */

        Walk walks[MAX_THREADS];
        pthread_t threads[MAX_THREADS];
        unsigned started = 0;

        s->jobs = root;
        for (unsigned i = 0; i < n; i++) {
                if (walk_init(&walks[i], s, root->fd, root->mnt_id) < 0)
                        break;
                walks[i].levels[0].eof = true;
                if (pthread_create(&threads[i], NULL, worker, &walks[i]) != 0) {
                        walk_done(&walks[i]);
                        break;
                }
                started++;
        }
        if (started == 0) {
                s->jobs = NULL;
                return;
        }
        for (unsigned i = 0; i < started; i++) {
                pthread_join(threads[i], NULL);
                main_walk->n_files += walks[i].n_files;
                main_walk->n_dirs += walks[i].n_dirs;
                walk_done(&walks[i]);
        }
        s->jobs = NULL;
        root->dirty = root->dirty || s->root_dirty;
}

/* Opens the root without following a symlink anywhere in `path`. */
static int open_root(int dir_fd, const char *path) {
        if (have_openat2()) {
                struct open_how how = {
                        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                };
                int fd = (int) syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
                return fd < 0 ? negative_errno() : fd;
        }

        /* Component by component, each with O_NOFOLLOW. */
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int fd = -EBADF;
        if (!copy)
                return -ENOMEM;
        fd =
                openat(path[0] == '/' ? AT_FDCWD : dir_fd,
                       path[0] == '/' ? "/" : ".",
                       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return negative_errno();
                safe_close(fd);
                fd = next;
        }
        return TAKE_FD(fd);
}

/* The last component of path, for the final rmdir from the parent; NULL for "", ".", "..". */
static char *last_component(const char *path) {
        size_t end = strlen(path);
        while (end > 0 && path[end - 1] == '/')
                end--;
        size_t start = end;
        while (start > 0 && path[start - 1] != '/')
                start--;
        char *c = strndup(path + start, end - start);
        if (c && (!c[0] || strcmp(c, ".") == 0 || strcmp(c, "..") == 0)) {
                free(c);
                return NULL;
        }
        return c;
}

/* Refuses "/" and a root that is itself a mount point. */
static int check_root(int root_fd, int *ret_mnt_id) {
        struct stat st, slash;
        int mnt_id, parent_mnt_id, r;

        if (fstat(root_fd, &st) < 0 || stat("/", &slash) < 0)
                return negative_errno();
        if (st.st_dev == slash.st_dev && st.st_ino == slash.st_ino)
                return -EPERM;
        r = mount_id_at(root_fd, "", &mnt_id);
        if (r < 0)
                return r;
        r = mount_id_at(root_fd, "..", &parent_mnt_id);
        if (r < 0)
                return r;
        if (mnt_id != parent_mnt_id)
                return -EXDEV;
        *ret_mnt_id = mnt_id;
        return 0;
}

static int remove_root(int root_fd, const char *path, uint64_t *n_dirs) {
        _cleanup_free_ char *name = last_component(path);
        struct stat st, now;

        if (!name)
                return -EINVAL;
        _cleanup_close_ int parent_fd = openat(root_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return negative_errno();
        /* Make sure the name in the parent still is our root before the rmdir. */
        if (fstat(root_fd, &st) < 0 || fstatat(parent_fd, name, &now, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (st.st_dev != now.st_dev || st.st_ino != now.st_ino)
                return -ESTALE;
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0)
                return errno == ENOENT ? 0 : errno == EEXIST ? -ENOTEMPTY : negative_errno();
        (*n_dirs)++;
        return 0;
}

void mu_rm_report_done(MuRmReport *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_refusals; i++)
                free(r->refusals[i].path);
        free(r->refusals);
        *r = (MuRmReport){};
}

int mu_rm_tree(int dir_fd, const char *path, const MuRmOptions *opts, MuRmReport *ret_report) {
        static const MuRmOptions defaults = {};
        MuRmReport report = {};
        Shared s = {.lock = PTHREAD_MUTEX_INITIALIZER, .report = &report, .opts = opts ?: &defaults};
        int flags = s.opts->flags, root_mnt_id = 0, r;
        Walk w = {};

        (void) have_openat2(); /* probe once, before any thread runs */

        _cleanup_close_ int root_fd = open_root(dir_fd, path);
        if (root_fd == -ENOENT && (flags & MU_RM_MISSING_OK))
                goto finish;
        r = root_fd < 0 ? root_fd : check_root(root_fd, &root_mnt_id);
        if (r < 0) {
                s.first_error = r;
                MuRmRefusal *refusal = calloc(1, sizeof(MuRmRefusal));
                if (refusal && (refusal->path = strdup(""))) {
                        refusal->error = r;
                        report.refusals = refusal;
                        report.n_refusals = 1;
                } else
                        free(refusal);
                goto finish;
        }

        r = walk_init(&w, &s, root_fd, root_mnt_id);
        if (r < 0) {
                s.first_error = r;
                goto finish;
        }
        if (flags & MU_RM_PARALLEL)
                walk_parallel(&w, &s);
        walk_run(&w);

        if ((flags & MU_RM_ROOT) && !w.levels[0].dirty && !atomic_load(&s.abort)) {
                r = remove_root(root_fd, path, &w.n_dirs);
                if (r < 0)
                        refuse(&w, 0, NULL, r);
        }
        report.n_files = w.n_files;
        report.n_dirs = w.n_dirs;

finish:
        walk_done(&w);
        if (ret_report)
                *ret_report = report;
        else
                mu_rm_report_done(&report);
        return s.first_error;
}
