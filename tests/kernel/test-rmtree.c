/* SPDX-License-Identifier: MIT */
/* Kernel tests for mu_rm_tree(): tree removal that never crosses into a mount.
 *
 * Runs as root in a private mount namespace, so every mount made here dies with the process. The
 * suite runs three times: on a tmpfs, on the real disk, and on the disk with the O_NOFOLLOW +
 * mount-id fallback forced. Each test gets a fresh scratch dir.
 *
 * Every mu_rm_tree() call runs in a forked child chrooted into the test's scratch dir: an
 * implementation that follows a symlink to "/" or walks up through ".." can only reach the
 * scratch dir, never the host (that is exactly how `rm -rf` destroyed live volume data). The
 * child sends the return value and the report back through a pipe; test hooks keep their state
 * in shared memory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mountutil/mountutil.h"
#include "util/macro.h"

#define CHILD_TIMEOUT_SEC 120
#define REPORT_SENTINEL UINT64_C(0xdeadbeefcafe)
#define DEEP_LEVELS 10000
#define WIDE_FILES 200000
#define BRANCH_WIDE_DIRS 3000   /* several getdents batches of 32 KiB */
#define BRANCH_CHAIN_LEVELS 300 /* deeper than the walk's fd window (256 today) */
#define PARALLEL_TOP_DIRS 3000

#define streq(a, b) (strcmp((a), (b)) == 0)

/* ---- configurations ------------------------------------------------------------------------- */

typedef struct Config {
        const char *name;
        bool on_tmpfs;
        bool use_openat2;
} Config;

static const Config configs[] = {
        {"rmtree-tmpfs", true, true},
        {"rmtree-disk", false, true},
        {"rmtree-fallback", false, false},
};

static const Config *config;
static char *group_dir; /* per configuration: a tmpfs mount point or a plain dir under /var/tmp */

/* ---- per-test scratch state ----------------------------------------------------------------- */

typedef struct Refusal {
        char *path;
        int error;
} Refusal;

/* What the child's mu_rm_tree() returned, copied out of its report. */
typedef struct RmResult {
        int r;
        bool filled;
        uint64_t n_files;
        uint64_t n_dirs;
        Refusal *refusals;
        size_t n_refusals;
} RmResult;

typedef struct Scratch {
        char *dir; /* absolute; the chroot of every mu_rm_tree() call */
        int fd;
        char **strings; /* freed in teardown, so helpers can hand out paths */
        size_t n_strings;
        void *shared[4];
        size_t n_shared;
        RmResult res;
} Scratch;

static const char *errname(int e) {
        if (e == 0)
                return "0";
        const char *n = strerrorname_np(e < 0 ? -e : e);
        return n ? n : "?";
}

static char *keep(Scratch *s, char *p) {
        assert_non_null(p);
        char **n = realloc(s->strings, (s->n_strings + 1) * sizeof(char *));
        assert_non_null(n);
        s->strings = n;
        s->strings[s->n_strings++] = p;
        return p;
}

_printf_(1, 2) static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *p = NULL;

        va_start(ap, fmt);
        int k = vasprintf(&p, fmt, ap);
        va_end(ap);
        assert_true(k >= 0);
        return p;
}

/* Absolute path of `rel` inside the scratch dir (as the parent sees it, not the chroot). */
static const char *sp(Scratch *s, const char *rel) {
        return keep(s, xasprintf("%s/%s", s->dir, rel));
}

static bool dot_or_dotdot(const char *n) {
        return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

static int mnt_id_of(int dfd, const char *name, int flags, uint64_t *ret) {
        struct statx sx;

        if (statx(dfd, name, flags | AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret = sx.stx_mnt_id;
        return 0;
}

static int set_immutable(int dfd, const char *name, bool on) {
        int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        int attr = 0, r = 0;

        if (fd < 0)
                return -errno;
        if (ioctl(fd, FS_IOC_GETFLAGS, &attr) < 0)
                r = -errno;
        else {
                attr = on ? (attr | FS_IMMUTABLE_FL) : (attr & ~FS_IMMUTABLE_FL);
                if (ioctl(fd, FS_IOC_SETFLAGS, &attr) < 0)
                        r = -errno;
        }
        close(fd);
        return r;
}

/* ---- cleanup that never crosses a mount (independent of the code under test) ---------------- */

static int unescape_octal(char *p) {
        char *o = p;
        for (char *i = p; *i; i++) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '7' && i[2] >= '0' && i[2] <= '7' &&
                    i[3] >= '0' && i[3] <= '7') {
                        *o++ = (char) ((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                        i += 3;
                } else
                        *o++ = *i;
        }
        *o = '\0';
        return 0;
}

/* Detaches every mount at or beneath `dir`, found in our own mountinfo. */
static int umount_beneath(const char *dir) {
        size_t dl = strlen(dir);

        for (int round = 0; round < 64; round++) {
                FILE *f = fopen("/proc/self/mountinfo", "re");
                char *line = NULL, **targets = NULL;
                size_t cap = 0, n = 0;
                bool progress = false;

                if (!f)
                        return -errno;
                while (getline(&line, &cap, f) > 0) {
                        char *p = line, *end;
                        for (int k = 0; k < 4 && p; k++) {
                                p = strchr(p, ' ');
                                if (p)
                                        p++;
                        }
                        if (!p || !(end = strchr(p, ' ')))
                                continue;
                        *end = '\0';
                        unescape_octal(p);
                        if (strncmp(p, dir, dl) != 0 || (p[dl] != '\0' && p[dl] != '/'))
                                continue;
                        char **t = realloc(targets, (n + 1) * sizeof(char *));
                        if (!t || !(t[n] = strdup(p))) {
                                free(t ? t : targets);
                                free(line);
                                fclose(f);
                                return -ENOMEM;
                        }
                        targets = t;
                        n++;
                }
                free(line);
                fclose(f);
                if (n == 0)
                        return 0;
                for (size_t i = n; i-- > 0;) {
                        if (umount2(targets[i], MNT_DETACH) == 0)
                                progress = true;
                        free(targets[i]);
                }
                free(targets);
                if (!progress)
                        return -EBUSY;
        }
        return -EBUSY;
}

/* Unlinks the non-directories in fd and collects the names of its subdirectories. Kept out of
 * cleanup_children() so that the recursion (10,000 levels) carries no statx buffer per frame. */
__attribute__((noinline)) static int cleanup_scan(int fd, uint64_t mnt_id, char ***ret_dirs, size_t *ret_n) {
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3), r = 0;
        char **dirs = NULL;
        size_t n = 0;
        DIR *d;

        if (dup_fd < 0)
                return -errno;
        d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                struct statx sx;

                if (dot_or_dotdot(de->d_name))
                        continue;
                if (statx(fd, de->d_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MNT_ID, &sx) < 0) {
                        if (errno != ENOENT)
                                r = -errno;
                        continue;
                }
                if (sx.stx_mnt_id != mnt_id) {
                        r = -EXDEV; /* never reached: mounts were detached first */
                        continue;
                }
                if (S_ISDIR(sx.stx_mode)) {
                        char **t = realloc(dirs, (n + 1) * sizeof(char *));
                        if (!t || !(t[n] = strdup(de->d_name))) {
                                free(t);
                                r = -ENOMEM;
                                break;
                        }
                        dirs = t;
                        n++;
                        continue;
                }
                if (unlinkat(fd, de->d_name, 0) < 0 && errno == EPERM &&
                    set_immutable(fd, de->d_name, false) >= 0)
                        (void) unlinkat(fd, de->d_name, 0);
                if (faccessat(fd, de->d_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        r = -EBUSY;
        }
        closedir(d);
        *ret_dirs = dirs;
        *ret_n = n;
        return r;
}

static int cleanup_children(int fd, uint64_t mnt_id) {
        char **dirs = NULL;
        size_t n = 0;
        int r = cleanup_scan(fd, mnt_id, &dirs, &n);

        for (size_t i = 0; i < n; i++) {
                int sub = openat(fd, dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) {
                        int k = cleanup_children(sub, mnt_id);
                        close(sub);
                        if (k < 0 && r >= 0)
                                r = k;
                }
                if (unlinkat(fd, dirs[i], AT_REMOVEDIR) < 0 && errno != ENOENT && r >= 0)
                        r = -errno;
                free(dirs[i]);
        }
        free(dirs);
        return r;
}

static int cleanup_tree(const char *path) {
        uint64_t mnt_id;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = mnt_id_of(fd, "", AT_EMPTY_PATH, &mnt_id);
        if (r >= 0)
                r = cleanup_children(fd, mnt_id);
        close(fd);
        if (rmdir(path) < 0 && errno != ENOENT && r >= 0)
                r = -errno;
        return r;
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static void mkdir_p(Scratch *s, const char *rel) {
        char *p = keep(s, strdup(rel));

        for (size_t i = 1;; i++) {
                if (p[i] != '/' && p[i] != '\0')
                        continue;
                char c = p[i];
                p[i] = '\0';
                if (mkdirat(s->fd, p, 0755) < 0 && errno != EEXIST)
                        fail_msg("mkdir '%s': %s", p, strerror(errno));
                p[i] = c;
                if (c == '\0')
                        break;
        }
}

static void mkdir_parent(Scratch *s, const char *rel) {
        char *p = keep(s, strdup(rel)), *slash = strrchr(p, '/');
        if (slash) {
                *slash = '\0';
                mkdir_p(s, p);
        }
}

static void write_data(Scratch *s, const char *rel, const void *data, size_t len) {
        mkdir_parent(s, rel);
        int fd = openat(s->fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                fail_msg("create '%s': %s", rel, strerror(errno));
        for (size_t done = 0; done < len;) {
                ssize_t k = write(fd, (const char *) data + done, len - done);
                if (k <= 0)
                        fail_msg("write '%s': %s", rel, strerror(errno));
                done += (size_t) k;
        }
        close(fd);
}

static void write_file(Scratch *s, const char *rel, const char *content) {
        write_data(s, rel, content, strlen(content));
}

static void make_symlink(Scratch *s, const char *target, const char *rel) {
        mkdir_parent(s, rel);
        if (symlinkat(target, s->fd, rel) < 0)
                fail_msg("symlink '%s' -> '%s': %s", rel, target, strerror(errno));
}

static void mount_tmpfs(Scratch *s, const char *rel) {
        mkdir_p(s, rel);
        if (mount("tmpfs", sp(s, rel), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m") < 0)
                fail_msg("mount tmpfs at '%s': %s", rel, strerror(errno));
}

static void bind_mount(Scratch *s, const char *src_rel, const char *dst_rel) {
        if (mount(sp(s, src_rel), sp(s, dst_rel), NULL, MS_BIND, NULL) < 0)
                fail_msg("bind '%s' -> '%s': %s", src_rel, dst_rel, strerror(errno));
}

static bool exists(Scratch *s, const char *rel) {
        struct stat st;
        return fstatat(s->fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static const char *read_text(Scratch *s, const char *rel) {
        int fd = openat(s->fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        char *buf = NULL;
        size_t len = 0;

        if (fd < 0)
                fail_msg("open '%s': %s", rel, strerror(errno));
        for (;;) {
                char *n = realloc(buf, len + 4097);
                assert_non_null(n);
                buf = n;
                ssize_t k = read(fd, buf + len, 4096);
                assert_true(k >= 0);
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        close(fd);
        buf[len] = '\0';
        return keep(s, buf);
}

/* ---- tree digest: sorted relative paths with type (and mode, size, FNV-1a of contents) ------- */

typedef struct Entry {
        char *key;
        char *line;
} Entry;

typedef struct Listing {
        Entry *v;
        size_t n;
} Listing;

static char *escape(const char *p) {
        char *out = malloc(strlen(p) * 4 + 1), *o = out;

        assert_non_null(out);
        for (const unsigned char *c = (const unsigned char *) p; *c; c++) {
                if (*c <= 0x20 || *c >= 0x7f || *c == '\\')
                        o += snprintf(o, 5, "\\x%02x", *c);
                else
                        *o++ = (char) *c;
        }
        *o = '\0';
        return out;
}

static uint64_t fnv1a_file(int dfd, const char *name) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        unsigned char buf[65536];
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

        assert_true(fd >= 0);
        for (ssize_t k; (k = read(fd, buf, sizeof buf)) != 0;) {
                assert_true(k > 0);
                for (ssize_t i = 0; i < k; i++)
                        h = (h ^ buf[i]) * UINT64_C(0x100000001b3);
        }
        close(fd);
        return h;
}

static void digest_dir(int dfd, const char *prefix, uint64_t mnt_id, bool content, Listing *l) {
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d;

        assert_true(dup_fd >= 0);
        d = fdopendir(dup_fd);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                struct statx sx;
                char *path, *key, *line;
                unsigned mode;

                if (dot_or_dotdot(de->d_name))
                        continue;
                assert_int_equal(
                        statx(dfd, de->d_name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_MNT_ID, &sx),
                        0);
                path = prefix ? xasprintf("%s/%s", prefix, de->d_name) : xasprintf("%s", de->d_name);
                key = escape(path);
                mode = sx.stx_mode & 07777;
                if (sx.stx_mnt_id != mnt_id)
                        line = xasprintf("M %s", key);
                else if (S_ISDIR(sx.stx_mode)) {
                        line = content ? xasprintf("d %s %04o", key, mode) : xasprintf("d %s", key);
                        int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        assert_true(sub >= 0);
                        digest_dir(sub, path, mnt_id, content, l);
                        close(sub);
                } else if (S_ISREG(sx.stx_mode))
                        line = content ? xasprintf(
                                                 "f %s %04o %llu %016llx",
                                                 key,
                                                 mode,
                                                 (unsigned long long) sx.stx_size,
                                                 (unsigned long long) fnv1a_file(dfd, de->d_name))
                                       : xasprintf("f %s", key);
                else if (S_ISLNK(sx.stx_mode)) {
                        char target[PATH_MAX + 1];
                        ssize_t k = readlinkat(dfd, de->d_name, target, sizeof target - 1);
                        assert_true(k >= 0);
                        target[k] = '\0';
                        char *et = escape(target);
                        line = content ? xasprintf("l %s -> %s", key, et) : xasprintf("l %s", key);
                        free(et);
                } else if (S_ISCHR(sx.stx_mode) || S_ISBLK(sx.stx_mode))
                        line = xasprintf(
                                "%c %s %u:%u",
                                S_ISCHR(sx.stx_mode) ? 'c' : 'b',
                                key,
                                sx.stx_rdev_major,
                                sx.stx_rdev_minor);
                else
                        line = xasprintf("%c %s", S_ISFIFO(sx.stx_mode) ? 'p' : 's', key);

                Entry *v = realloc(l->v, (l->n + 1) * sizeof(Entry));
                assert_non_null(v);
                l->v = v;
                l->v[l->n++] = (Entry){.key = key, .line = line};
                free(path);
        }
        closedir(d);
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const Entry *) a)->key, ((const Entry *) b)->key);
}

/* One line per entry beneath `rel` ("" = the scratch dir), sorted by path. Mount points are
 * listed as "M path" and not entered. With `content`: mode, size and FNV-1a of every file, link
 * targets, device numbers — equal digests mean the data is byte-for-byte unchanged. */
static const char *tree_digest(Scratch *s, const char *rel, bool content) {
        int fd = openat(s->fd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        Listing l = {};
        uint64_t mnt_id;
        size_t len = 1;
        char *out, *o;

        if (fd < 0)
                fail_msg("digest: open '%s': %s", rel, strerror(errno));
        assert_int_equal(mnt_id_of(fd, "", AT_EMPTY_PATH, &mnt_id), 0);
        digest_dir(fd, NULL, mnt_id, content, &l);
        close(fd);
        if (l.n > 0)
                qsort(l.v, l.n, sizeof(Entry), entry_cmp);
        for (size_t i = 0; i < l.n; i++)
                len += strlen(l.v[i].line) + 1;
        o = out = malloc(len);
        assert_non_null(out);
        for (size_t i = 0; i < l.n; i++) {
                o = stpcpy(o, l.v[i].line);
                *o++ = '\n';
                free(l.v[i].key);
                free(l.v[i].line);
        }
        *o = '\0';
        free(l.v);
        return keep(s, out);
}

#define listing(s, rel) tree_digest(s, rel, false)
#define digest(s, rel) tree_digest(s, rel, true)

static const char *file_digest(Scratch *s, const char *rel) {
        struct stat st;
        if (fstatat(s->fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                fail_msg("stat '%s': %s", rel, strerror(errno));
        return keep(
                s,
                xasprintf(
                        "%04o %lld %016llx",
                        st.st_mode & 07777,
                        (long long) st.st_size,
                        (unsigned long long) fnv1a_file(s->fd, rel)));
}

/* ---- running mu_rm_tree() in a chrooted child ----------------------------------------------- */

static void result_clear(RmResult *res) {
        for (size_t i = 0; i < res->n_refusals; i++)
                free(res->refusals[i].path);
        free(res->refusals);
        *res = (RmResult){};
}

static void write_all(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k <= 0)
                        _exit(3);
                p = (const char *) p + k;
                n -= (size_t) k;
        }
}

typedef struct Wire {
        int32_t r;
        int32_t filled;
        uint64_t n_files;
        uint64_t n_dirs;
        uint64_t n_refusals;
} Wire;

_Noreturn static void
rm_child(Scratch *s, int out_fd, int dir_fd, const char *path, const MuRmOptions *opts, bool with_report) {
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT};
        MuRmReport rep = {.n_files = REPORT_SENTINEL, .n_dirs = REPORT_SENTINEL};
        int root_fd;

        /* cmocka's handlers would longjmp back into its runner and go on with the next test. */
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                signal(sigs[i], SIG_DFL);
        alarm(CHILD_TIMEOUT_SEC);
        root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0 || chroot(s->dir) < 0 || chdir("/") < 0)
                _exit(2);

        int r = mu_rm_tree(dir_fd, path, opts, with_report ? &rep : NULL);

        Wire w = {
                .r = r,
                .filled = rep.n_files != REPORT_SENTINEL || rep.n_dirs != REPORT_SENTINEL,
                .n_files = rep.n_files,
                .n_dirs = rep.n_dirs,
                .n_refusals = with_report ? rep.n_refusals : 0,
        };
        write_all(out_fd, &w, sizeof w);
        for (size_t i = 0; i < w.n_refusals; i++) {
                int32_t e = rep.refusals[i].error;
                int32_t len = rep.refusals[i].path ? (int32_t) strlen(rep.refusals[i].path) : -1;
                write_all(out_fd, &e, sizeof e);
                write_all(out_fd, &len, sizeof len);
                if (len > 0)
                        write_all(out_fd, rep.refusals[i].path, (size_t) len);
        }
        if (with_report)
                mu_rm_report_done(&rep);
        close(out_fd);
        /* Back to the real root, so that LeakSanitizer finds /proc at exit. */
        if (fchdir(root_fd) < 0 || chroot(".") < 0)
                _exit(4);
        exit(0);
}

static void take(const char **p, const char *end, void *dst, size_t n) {
        if ((size_t) (end - *p) < n)
                fail_msg("short report from the child");
        memcpy(dst, *p, n);
        *p += n;
}

/* mu_rm_tree(dir_fd, path, opts) inside the scratch chroot: `path` "/pod" is scratch/pod. */
static void
run_rm_full(Scratch *s, int dir_fd, const char *path, const MuRmOptions *opts, bool with_report) {
        int pipefd[2], status;
        char *buf = NULL;
        size_t len = 0;
        pid_t pid;

        result_clear(&s->res);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(pipefd[0]);
                rm_child(s, pipefd[1], dir_fd, path, opts, with_report);
        }
        close(pipefd[1]);
        for (;;) {
                char *n = realloc(buf, len + 65536);
                assert_non_null(n);
                buf = n;
                ssize_t k = read(pipefd[0], buf + len, 65536);
                if (k < 0 && errno == EINTR)
                        continue;
                assert_true(k >= 0);
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        close(pipefd[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        keep(s, buf);
        if (WIFSIGNALED(status))
                fail_msg(
                        "mu_rm_tree('%s') child killed by signal %d (%s)%s",
                        path,
                        WTERMSIG(status),
                        strsignal(WTERMSIG(status)),
                        WTERMSIG(status) == SIGALRM ? ": timed out (hang?)" : "");
        if (WEXITSTATUS(status) != 0)
                fail_msg(
                        "mu_rm_tree('%s') child exited %d (2: chroot failed; 23: leak found by LSan)",
                        path,
                        WEXITSTATUS(status));

        const char *p = buf, *end = buf + len;
        Wire w;
        take(&p, end, &w, sizeof w);
        s->res.r = w.r;
        s->res.filled = w.filled;
        s->res.n_files = w.n_files;
        s->res.n_dirs = w.n_dirs;
        if (w.n_refusals > 0) {
                s->res.refusals = calloc(w.n_refusals, sizeof(Refusal));
                assert_non_null(s->res.refusals);
        }
        for (size_t i = 0; i < w.n_refusals; i++) {
                int32_t e, l;
                take(&p, end, &e, sizeof e);
                take(&p, end, &l, sizeof l);
                if (l < 0)
                        fail_msg("refusal %zu has a NULL path", i);
                char *rp = malloc((size_t) l + 1);
                assert_non_null(rp);
                take(&p, end, rp, (size_t) l);
                rp[l] = '\0';
                s->res.refusals[i] = (Refusal){.path = rp, .error = e};
                s->res.n_refusals = i + 1;
        }
        if (with_report && !s->res.filled)
                fail_msg("mu_rm_tree('%s') returned %d but did not fill in the report", path, w.r);
}

static void run_rm(Scratch *s, int dir_fd, const char *path, const MuRmOptions *opts) {
        run_rm_full(s, dir_fd, path, opts, true);
}

static void rm_at(Scratch *s, const char *path, MuRmFlags flags) {
        run_rm(s, AT_FDCWD, path, &(MuRmOptions){.flags = flags});
}

static void dump_result(const Scratch *s) {
        print_error(
                "# mu_rm_tree returned %d (%s), n_files=%llu n_dirs=%llu, %zu refusals:\n",
                s->res.r,
                errname(s->res.r),
                (unsigned long long) s->res.n_files,
                (unsigned long long) s->res.n_dirs,
                s->res.n_refusals);
        for (size_t i = 0; i < s->res.n_refusals; i++) {
                char *e = escape(s->res.refusals[i].path);
                print_error(
                        "#   '%s': %d (%s) \"%s\"\n",
                        e,
                        s->res.refusals[i].error,
                        errname(s->res.refusals[i].error),
                        mu_rm_refusal_reason(s->res.refusals[i].error) ?: "(null)");
                free(e);
        }
}

static void check_r(const Scratch *s, int expected, const char *file, int line) {
        if (s->res.r == expected)
                return;
        dump_result(s);
        print_error("# expected return %d (%s)\n", expected, errname(expected));
        _fail(file, line);
}
#define assert_rm_r(s, expected) check_r(s, expected, __FILE__, __LINE__)

static void check_counts(const Scratch *s, uint64_t files, uint64_t dirs, const char *file, int line) {
        if (s->res.n_files == files && s->res.n_dirs == dirs)
                return;
        dump_result(s);
        print_error(
                "# expected n_files=%llu n_dirs=%llu\n",
                (unsigned long long) files,
                (unsigned long long) dirs);
        _fail(file, line);
}
#define assert_counts(s, files, dirs) check_counts(s, files, dirs, __FILE__, __LINE__)

typedef struct Expect {
        const char *path;
        int error;
        int alt_error; /* 0, or a second acceptable error */
} Expect;

static bool is_proper_ancestor(const char *a, const char *b) {
        size_t n = strlen(a);
        if (n == 0)
                return b[0] != '\0';
        return strncmp(a, b, n) == 0 && b[n] == '/';
}

/* Every expected refusal appears exactly once. Any other refusal must be -ENOTEMPTY on a dir
 * above an expected one (a dir left because of refused content below), at most once each. */
static void check_refusals(const Scratch *s, const Expect *exp, size_t n, const char *file, int line) {
        const RmResult *res = &s->res;
        bool ok = true;

        for (size_t i = 0; i < n; i++) {
                size_t seen = 0;
                for (size_t j = 0; j < res->n_refusals; j++)
                        if (streq(res->refusals[j].path, exp[i].path) &&
                            (res->refusals[j].error == exp[i].error ||
                             (exp[i].alt_error != 0 && res->refusals[j].error == exp[i].alt_error)))
                                seen++;
                if (seen != 1) {
                        print_error(
                                "# refusal '%s' %s%s%s expected once, seen %zu times\n",
                                exp[i].path,
                                errname(exp[i].error),
                                exp[i].alt_error ? " or " : "",
                                exp[i].alt_error ? errname(exp[i].alt_error) : "",
                                seen);
                        ok = false;
                }
        }
        for (size_t j = 0; j < res->n_refusals; j++) {
                const Refusal *f = &res->refusals[j];
                bool expected = false, ancestor = false, dup = false;
                for (size_t i = 0; i < n; i++) {
                        if (streq(f->path, exp[i].path))
                                expected = true;
                        if (is_proper_ancestor(f->path, exp[i].path))
                                ancestor = true;
                }
                for (size_t k = 0; k < j; k++)
                        if (streq(res->refusals[k].path, f->path))
                                dup = true;
                if (expected)
                        continue;
                if (!ancestor || f->error != -ENOTEMPTY || dup) {
                        char *e = escape(f->path);
                        print_error(
                                "# unexpected refusal '%s' %s%s\n",
                                e,
                                errname(f->error),
                                dup ? " (duplicate)" : "");
                        free(e);
                        ok = false;
                }
        }
        if (ok)
                return;
        dump_result(s);
        _fail(file, line);
}
#define assert_refusals(s, ...) \
        do { \
                const Expect _exp_[] = {__VA_ARGS__}; \
                check_refusals(s, _exp_, ELEMENTSOF(_exp_), __FILE__, __LINE__); \
        } while (0)
#define assert_no_refusals(s) check_refusals(s, NULL, 0, __FILE__, __LINE__)

/* ---- test hooks (they run in the child; their state lives in shared memory) ----------------- */

typedef struct HookCtx {
        int calls;
        int fired;
        int err; /* errno of an action in the hook that failed */
        int removed;
        unsigned pending_mask;
        size_t seen_len;
        char seen[16384]; /* every path the hook saw, one per line */
} HookCtx;

static HookCtx *hook_ctx_new(Scratch *s) {
        assert_true(s->n_shared < ELEMENTSOF(s->shared));
        void *p = mmap(NULL, sizeof(HookCtx), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(p != MAP_FAILED);
        s->shared[s->n_shared++] = p;
        return p;
}

static void hook_log(HookCtx *c, const char *path) {
        size_t n = strlen(path);
        c->calls++;
        if (c->seen_len + n + 2 < sizeof c->seen) {
                memcpy(c->seen + c->seen_len, path, n);
                c->seen_len += n;
                c->seen[c->seen_len++] = '\n';
                c->seen[c->seen_len] = '\0';
        }
}

static bool hook_saw(const HookCtx *c, const char *path) {
        size_t n = strlen(path);
        for (const char *p = c->seen; *p;) {
                const char *nl = strchr(p, '\n');
                if ((size_t) (nl - p) == n && strncmp(p, path, n) == 0)
                        return true;
                p = nl + 1;
        }
        return false;
}

static int hook_record(int dir_fd, const char *path, void *userdata) {
        (void) dir_fd;
        hook_log(userdata, path);
        return 0;
}

/* Entering "a/b": a tmpfs appears on "a/b/c/d", not opened yet, and gets data. */
static int hook_mount_midwalk(int dir_fd, const char *path, void *userdata) {
        HookCtx *c = userdata;
        (void) dir_fd;
        hook_log(c, path);
        if (!streq(path, "a/b") || c->fired)
                return 0;
        c->fired = 1;
        if (mount("tmpfs", "/pod/a/b/c/d", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0) {
                c->err = errno;
                return 0;
        }
        int fd = open("/pod/a/b/c/d/precious", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "live volume data\n", 17) != 17)
                c->err = errno ?: EIO;
        if (fd >= 0)
                close(fd);
        return 0;
}

static const char *const sibling_names[] = {"f1", "f2", "f3", "f4", "f5", "d1", "d2", "d3", "d4", "d5"};

/* Entering the first top-level dir: someone else removes every other top-level entry that is
 * still there, after the walk has started on the root. */
static int hook_remove_siblings(int dir_fd, const char *path, void *userdata) {
        HookCtx *c = userdata;
        (void) dir_fd;
        hook_log(c, path);
        if (c->fired || path[0] == '\0' || strchr(path, '/'))
                return 0;
        c->fired = 1;
        for (size_t i = 0; i < ELEMENTSOF(sibling_names); i++) {
                const char *n = sibling_names[i];
                char p[64];
                if (streq(n, path))
                        continue;
                if (n[0] == 'f') {
                        snprintf(p, sizeof p, "/pod/%s", n);
                        if (unlink(p) == 0)
                                c->removed++;
                        continue;
                }
                snprintf(p, sizeof p, "/pod/%s/x", n);
                (void) unlink(p);
                snprintf(p, sizeof p, "/pod/%s/s/y", n);
                (void) unlink(p);
                snprintf(p, sizeof p, "/pod/%s/s", n);
                (void) rmdir(p);
                snprintf(p, sizeof p, "/pod/%s", n);
                if (rmdir(p) == 0)
                        c->removed++;
        }
        return 0;
}

/* Entering "victim": someone else removes it entirely while the walk holds its fd. */
static int hook_remove_self(int dir_fd, const char *path, void *userdata) {
        HookCtx *c = userdata;
        (void) dir_fd;
        hook_log(c, path);
        if (!streq(path, "victim") || c->fired)
                return 0;
        c->fired = 1;
        if (unlink("/pod/victim/x") < 0 || unlink("/pod/victim/s/y") < 0 || rmdir("/pod/victim/s") < 0 ||
            rmdir("/pod/victim") < 0)
                c->err = errno;
        return 0;
}

/* Entering d/sub, a file appears in d, which the walk has listed already: what a writer does, and
 * what a readdir position that skipped entries looks like (tmpfs before Linux 6.6, an offset kept
 * across an fd eviction while entries before it went). */
static int hook_add_to_listed_parent(int dir_fd, const char *path, void *userdata) {
        HookCtx *c = userdata;

        hook_log(c, path);
        if (!streq(path, "d/sub") || c->fired)
                return 0;
        c->fired = 1;
        int f = openat(dir_fd, "../late", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (f < 0)
                c->err = errno;
        else
                close(f);
        return 0;
}

static int hook_abort(int dir_fd, const char *path, void *userdata) {
        (void) dir_fd;
        hook_log(userdata, path);
        return streq(path, "a") ? -ECANCELED : 0;
}

/* ---- setup / teardown ----------------------------------------------------------------------- */

static int scratch_setup(void **state) {
        Scratch *s = calloc(1, sizeof(Scratch));

        if (!s)
                return -1;
        s->fd = -EBADF;
        *state = s;
        if (asprintf(&s->dir, "%s/t-XXXXXX", group_dir) < 0) {
                s->dir = NULL;
                return -1;
        }
        if (!mkdtemp(s->dir)) {
                print_error("mkdtemp '%s': %s\n", s->dir, strerror(errno));
                return -1;
        }
        s->fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return s->fd < 0 ? -1 : 0;
}

static int scratch_teardown(void **state) {
        Scratch *s = *state;
        int ret = 0, r;

        if (!s)
                return 0;
        result_clear(&s->res);
        for (size_t i = 0; i < s->n_shared; i++)
                munmap(s->shared[i], sizeof(HookCtx));
        s->fd = safe_close(s->fd);
        if (s->dir) {
                r = umount_beneath(s->dir);
                if (r < 0) {
                        print_error("teardown: cannot unmount beneath '%s': %s\n", s->dir, strerror(-r));
                        ret = -1;
                } else if ((r = cleanup_tree(s->dir)) < 0) {
                        print_error("teardown: cannot remove '%s': %s\n", s->dir, strerror(-r));
                        ret = -1;
                }
        }
        for (size_t i = 0; i < s->n_strings; i++)
                free(s->strings[i]);
        free(s->strings);
        free(s->dir);
        free(s);
        *state = NULL;
        return ret;
}

static int group_setup(void **state) {
        char *tmpl = NULL, *real;

        (void) state;
        if (asprintf(&tmpl, "/var/tmp/podreaper-test-%s.XXXXXX", config->name) < 0)
                return -1;
        if (!mkdtemp(tmpl)) {
                print_error("mkdtemp '%s': %s\n", tmpl, strerror(errno));
                free(tmpl);
                return -1;
        }
        real = realpath(tmpl, NULL);
        if (!real) {
                (void) rmdir(tmpl);
                free(tmpl);
                return -1;
        }
        free(tmpl);
        group_dir = real;
        if (config->on_tmpfs && mount("tmpfs", group_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
                print_error("mount tmpfs at '%s': %s\n", group_dir, strerror(errno));
                (void) rmdir(group_dir);
                return -1;
        }
        mu_rm_tree_set_use_openat2(config->use_openat2);
        return 0;
}

static int group_teardown(void **state) {
        int ret = 0;

        (void) state;
        mu_rm_tree_set_use_openat2(true);
        if (umount_beneath(group_dir) < 0 || cleanup_tree(group_dir) < 0) {
                print_error("group teardown: cannot clean up '%s'\n", group_dir);
                ret = -1;
        }
        free(group_dir);
        group_dir = NULL;
        return ret;
}

/* ---- tests: plain removal ------------------------------------------------------------------- */

static void make_plain_tree(Scratch *s) {
        write_file(s, "pod/a/file1", "one");
        write_file(s, "pod/a/b/c/file2", "two");
        mkdir_p(s, "pod/a/b/empty");
        write_file(s, "pod/d", "dee");
        mkdir_p(s, "pod/e");
        write_file(s, "pod/.hidden", "h");
        /* Neighbours that share a prefix with the root must stay. */
        write_file(s, "pod2/keep", "keep");
        write_file(s, "pod.bak", "keep");
}

static void test_plain_with_root(void **state) {
        Scratch *s = *state;
        HookCtx *c = hook_ctx_new(s);

        make_plain_tree(s);
        const char *neighbours = digest(s, "pod2");
        const char *bak = file_digest(s, "pod.bak");

        run_rm(s,
               AT_FDCWD,
               "/pod",
               &(MuRmOptions){.flags = MU_RM_ROOT, .on_enter_dir = hook_record, .userdata = c});
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, 4, 6); /* 5 dirs below + the root */
        assert_false(exists(s, "pod"));
        assert_string_equal(digest(s, "pod2"), neighbours);
        assert_string_equal(file_digest(s, "pod.bak"), bak);
        /* Hook paths are relative to the root, without "./" or a leading "/". */
        if (!hook_saw(c, "a") || !hook_saw(c, "a/b") || !hook_saw(c, "a/b/c") || !hook_saw(c, "e"))
                fail_msg("hook paths not relative to the root; saw:\n%s", c->seen);
}

static void test_plain_without_root(void **state) {
        Scratch *s = *state;

        make_plain_tree(s);
        /* Relative to a dir fd this time. */
        run_rm(s, s->fd, "pod", &(MuRmOptions){.flags = 0});
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, 4, 5);
        assert_true(exists(s, "pod"));
        assert_string_equal(listing(s, "pod"), "");
        assert_string_equal(listing(s, "pod2"), "f keep\n");
}

static void test_plain_null_report(void **state) {
        Scratch *s = *state;

        make_plain_tree(s);
        run_rm_full(s, AT_FDCWD, "/pod", &(MuRmOptions){.flags = MU_RM_ROOT}, false);
        assert_int_equal(s->res.r, 0);
        assert_false(exists(s, "pod"));
}

static void test_root_trailing_slash(void **state) {
        Scratch *s = *state;

        make_plain_tree(s);
        rm_at(s, "/pod/", MU_RM_ROOT);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_false(exists(s, "pod"));
        assert_true(exists(s, "pod2/keep"));
}

/* /var/lib/kubelet is often a mount of its own: mounts above the root are no reason to refuse. */
static void test_root_below_mount(void **state) {
        Scratch *s = *state;

        mount_tmpfs(s, "kubelet");
        write_file(s, "kubelet/pods/uid/containers/app/0", "log");
        write_file(s, "kubelet/pods/other/keep", "keep");
        rm_at(s, "/kubelet/pods/uid", MU_RM_ROOT);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, 1, 3);
        assert_string_equal(listing(s, "kubelet"), "d pods\nd pods/other\nf pods/other/keep\n");
}

/* ---- tests: symlinks ------------------------------------------------------------------------ */

static void test_symlinks_not_followed(void **state) {
        Scratch *s = *state;

        write_file(s, "outside/f1", "data1");
        write_file(s, "outside/sub/f2", "data2");
        write_file(s, "outside-file", "outside file");
        /* Absolute targets resolve inside the chroot, i.e. in the scratch dir: "/" is the scratch
         * dir itself, so a walk that followed "to-root" would hit "outside" and the digest. */
        make_symlink(s, "/outside", "pod/to-outside-abs");
        make_symlink(s, "../outside", "pod/to-outside-rel");
        make_symlink(s, "/outside-file", "pod/to-file");
        make_symlink(s, "/", "pod/to-root");
        make_symlink(s, "/does/not/exist", "pod/dangling");
        make_symlink(s, "inner", "pod/to-inner");
        write_file(s, "pod/inner/x", "x");
        make_symlink(s, "..", "pod/inner/back");
        make_symlink(s, "loop", "pod/loop");
        make_symlink(s, "../../outside", "pod/deep/l");
        const char *outside = digest(s, "outside");
        const char *outside_file = file_digest(s, "outside-file");

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, 10, 3);
        assert_false(exists(s, "pod"));
        assert_string_equal(digest(s, "outside"), outside);
        assert_string_equal(file_digest(s, "outside-file"), outside_file);
        assert_string_equal(
                listing(s, ""),
                "d outside\nf outside-file\nf outside/f1\nd outside/sub\nf outside/sub/f2\n");
}

/* ---- tests: mounts inside the tree ---------------------------------------------------------- */

static void test_emptydir_tmpfs_refused(void **state) {
        Scratch *s = *state;

        write_file(s, "pod/containers/app/0", "log");
        write_file(s, "pod/etc-hosts", "127.0.0.1 localhost\n");
        write_file(s, "pod/plugins/x/ready", "");
        write_file(s, "pod/volumes/kubernetes.io~empty-dir/other/o", "not mounted: goes");
        mount_tmpfs(s, "pod/volumes/kubernetes.io~empty-dir/x");
        write_file(s, "pod/volumes/kubernetes.io~empty-dir/x/data/a", "A");
        write_file(s, "pod/volumes/kubernetes.io~empty-dir/x/data/b", "B");
        write_file(s, "pod/volumes/kubernetes.io~empty-dir/x/.hidden", "h");
        const char *volume = digest(s, "pod/volumes/kubernetes.io~empty-dir/x");

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"volumes/kubernetes.io~empty-dir/x", -EXDEV, 0});
        assert_counts(s, 4, 5);
        assert_string_equal(digest(s, "pod/volumes/kubernetes.io~empty-dir/x"), volume);
        assert_string_equal(
                listing(s, "pod"),
                "d volumes\nd volumes/kubernetes.io~empty-dir\nM volumes/kubernetes.io~empty-dir/x\n");
}

static void test_bind_outside_dir(void **state) {
        Scratch *s = *state;

        write_file(s, "outside/f", "x");
        write_file(s, "outside/sub/g", "y");
        write_file(s, "pod/containers/app/log", "l");
        mkdir_p(s, "pod/containers/app/vol");
        bind_mount(s, "outside", "pod/containers/app/vol");
        const char *outside = digest(s, "outside");

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"containers/app/vol", -EXDEV, 0});
        assert_counts(s, 1, 0);
        assert_string_equal(digest(s, "outside"), outside);
        assert_string_equal(digest(s, "pod/containers/app/vol"), outside);
        assert_string_equal(listing(s, "pod"), "d containers\nd containers/app\nM containers/app/vol\n");
}

/* A self-bind has the same st_dev as its parent: only the mount id or RESOLVE_NO_XDEV sees it. */
static void test_bind_self(void **state) {
        Scratch *s = *state;

        write_file(s, "pod/volumes/self/data", "self-bound");
        write_file(s, "pod/volumes/self/sub/more", "more");
        write_file(s, "pod/other", "o");
        bind_mount(s, "pod/volumes/self", "pod/volumes/self");
        const char *data = digest(s, "pod/volumes/self");

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"volumes/self", -EXDEV, 0});
        assert_counts(s, 1, 0);
        assert_string_equal(listing(s, "pod"), "d volumes\nM volumes/self\n");
        assert_string_equal(digest(s, "pod/volumes/self"), data);
        assert_int_equal(umount2(sp(s, "pod/volumes/self"), MNT_DETACH), 0);
        assert_string_equal(digest(s, "pod/volumes/self"), data);
}

static void test_bind_readonly(void **state) {
        Scratch *s = *state;

        write_file(s, "outside/ro/config", "k=v");
        write_file(s, "outside/ro/sub/x", "x");
        write_file(s, "pod/other", "o");
        mkdir_p(s, "pod/ro");
        bind_mount(s, "outside/ro", "pod/ro");
        assert_int_equal(mount(NULL, sp(s, "pod/ro"), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL), 0);
        assert_true(mkdirat(s->fd, "pod/ro/probe", 0755) < 0 && errno == EROFS);
        const char *outside = digest(s, "outside");

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"ro", -EXDEV, 0});
        assert_counts(s, 1, 0);
        assert_string_equal(digest(s, "outside"), outside);
        assert_string_equal(listing(s, "pod"), "M ro\n");
}

/* The kubelet bind-mounts files (etc-hosts, termination logs): unlink of a mount point is EBUSY. */
static void test_bind_file(void **state) {
        Scratch *s = *state;

        write_file(s, "outside/hosts", "127.0.0.1 localhost\n10.0.0.7 pod\n");
        write_file(s, "pod/etc-hosts", "");
        write_file(s, "pod/other", "o");
        bind_mount(s, "outside/hosts", "pod/etc-hosts");
        const char *hosts = file_digest(s, "outside/hosts");

        rm_at(s, "/pod", MU_RM_ROOT);
        if (s->res.r != -EBUSY)
                assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"etc-hosts", -EBUSY, -EXDEV});
        assert_counts(s, 1, 0);
        assert_string_equal(file_digest(s, "outside/hosts"), hosts);
        assert_string_equal(read_text(s, "pod/etc-hosts"), "127.0.0.1 localhost\n10.0.0.7 pod\n");
        assert_string_equal(listing(s, "pod"), "M etc-hosts\n");
}

static void test_nested_mounts(void **state) {
        Scratch *s = *state;

        mount_tmpfs(s, "pod/volumes/outer");
        write_file(s, "pod/volumes/outer/o1", "outer data");
        mount_tmpfs(s, "pod/volumes/outer/inner");
        write_file(s, "pod/volumes/outer/inner/i1", "inner data");
        write_file(s, "pod/plain/f", "f");
        const char *outer = digest(s, "pod/volumes/outer");
        const char *inner = digest(s, "pod/volumes/outer/inner");

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"volumes/outer", -EXDEV, 0});
        assert_counts(s, 1, 1);
        assert_string_equal(digest(s, "pod/volumes/outer"), outer);
        assert_string_equal(digest(s, "pod/volumes/outer/inner"), inner);
        assert_string_equal(listing(s, "pod"), "d volumes\nM volumes/outer\n");
}

/* A pod dir as the kubelet leaves it, with a secret tmpfs, a CSI mount, a subpath bind. */
static void test_pod_dir_layout(void **state) {
        Scratch *s = *state;

        write_file(s, "outside/nfs-export/db/table", "rows");
        write_file(s, "outside/subpath-src/app.conf", "sub");
        write_file(s, "pod/etc-hosts", "hosts");
        write_file(s, "pod/containers/app/0c1d2e3f", "terminated");
        write_file(s, "pod/plugins/kubernetes.io~empty-dir/wrapped_cfg/ready", "");
        mount_tmpfs(s, "pod/volumes/kubernetes.io~secret/token");
        write_file(s, "pod/volumes/kubernetes.io~secret/token/..2024_05_01_12_00_00.1/token", "secret");
        make_symlink(s, "..2024_05_01_12_00_00.1", "pod/volumes/kubernetes.io~secret/token/..data");
        make_symlink(s, "..data/token", "pod/volumes/kubernetes.io~secret/token/token");
        write_file(s, "pod/volumes/kubernetes.io~configmap/cfg/..2024_05_01/app.conf", "k=v");
        make_symlink(s, "..2024_05_01", "pod/volumes/kubernetes.io~configmap/cfg/..data");
        make_symlink(s, "..data/app.conf", "pod/volumes/kubernetes.io~configmap/cfg/app.conf");
        write_file(
                s, "pod/volumes/kubernetes.io~csi/pvc-1/vol_data.json", "{\"driverName\":\"csi.example\"}");
        mkdir_p(s, "pod/volumes/kubernetes.io~csi/pvc-1/mount");
        bind_mount(s, "outside/nfs-export", "pod/volumes/kubernetes.io~csi/pvc-1/mount");
        mkdir_p(s, "pod/volume-subpaths/cfgvol/app/0");
        bind_mount(s, "outside/subpath-src", "pod/volume-subpaths/cfgvol/app/0");
        const char *outside = digest(s, "outside");
        const char *secret = digest(s, "pod/volumes/kubernetes.io~secret/token");

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, -EXDEV);
        assert_refusals(
                s,
                {"volumes/kubernetes.io~secret/token", -EXDEV, 0},
                {"volumes/kubernetes.io~csi/pvc-1/mount", -EXDEV, 0},
                {"volume-subpaths/cfgvol/app/0", -EXDEV, 0});
        assert_counts(s, 7, 8);
        assert_string_equal(digest(s, "outside"), outside);
        assert_string_equal(digest(s, "pod/volumes/kubernetes.io~secret/token"), secret);
        assert_string_equal(
                listing(s, "pod"),
                "d volume-subpaths\n"
                "d volume-subpaths/cfgvol\n"
                "d volume-subpaths/cfgvol/app\n"
                "M volume-subpaths/cfgvol/app/0\n"
                "d volumes\n"
                "d volumes/kubernetes.io~csi\n"
                "d volumes/kubernetes.io~csi/pvc-1\n"
                "M volumes/kubernetes.io~csi/pvc-1/mount\n"
                "d volumes/kubernetes.io~secret\n"
                "M volumes/kubernetes.io~secret/token\n");
}

static void test_mount_appears_midwalk(void **state) {
        Scratch *s = *state;
        HookCtx *c = hook_ctx_new(s);

        mkdir_p(s, "pod/a/b/c/d");
        write_file(s, "pod/a/b/c/sibling", "s");
        write_file(s, "pod/a/f", "f");

        run_rm(s,
               AT_FDCWD,
               "/pod",
               &(MuRmOptions){.flags = MU_RM_ROOT, .on_enter_dir = hook_mount_midwalk, .userdata = c});
        if (!c->fired || c->err != 0)
                fail_msg(
                        "hook did not mount (fired=%d, %s); it saw:\n%s",
                        c->fired,
                        strerror(c->err),
                        c->seen);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"a/b/c/d", -EXDEV, 0});
        assert_counts(s, 2, 0);
        assert_string_equal(read_text(s, "pod/a/b/c/d/precious"), "live volume data\n");
        assert_string_equal(listing(s, "pod"), "d a\nd a/b\nd a/b/c\nM a/b/c/d\n");
}

/* ---- tests: flags --------------------------------------------------------------------------- */

static void test_only_dirs_empty_tree(void **state) {
        Scratch *s = *state;

        mkdir_p(s, "pod/a/b/c");
        mkdir_p(s, "pod/a/d");
        mkdir_p(s, "pod/e/f/g/h");
        rm_at(s, "/pod", MU_RM_ONLY_DIRS | MU_RM_ROOT);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, 0, 9);
        assert_false(exists(s, "pod"));
}

static void test_only_dirs_csi(void **state) {
        Scratch *s = *state;
        const char *json = "{\"driverName\":\"csi.example.com\",\"volumeHandle\":\"vol-1\"}";

        write_file(s, "pod/volumes/kubernetes.io~csi/pv/vol_data.json", json);
        mkdir_p(s, "pod/volumes/kubernetes.io~csi/pv/mount");
        rm_at(s, "/pod/volumes/kubernetes.io~csi", MU_RM_ONLY_DIRS);
        assert_rm_r(s, -ENOTEMPTY);
        assert_refusals(s, {"pv", -ENOTEMPTY, 0});
        assert_counts(s, 0, 1);
        assert_string_equal(read_text(s, "pod/volumes/kubernetes.io~csi/pv/vol_data.json"), json);
        assert_string_equal(listing(s, "pod/volumes/kubernetes.io~csi"), "d pv\nf pv/vol_data.json\n");
}

static void test_only_dirs_never_unlinks(void **state) {
        Scratch *s = *state;

        make_symlink(s, "target", "pod/x/link");
        mkdir_p(s, "pod/y");
        assert_int_equal(mkfifoat(s->fd, "pod/y/fifo", 0644), 0);
        write_file(s, "pod/z/file", "z");
        mkdir_p(s, "pod/e/e2");
        rm_at(s, "/pod", MU_RM_ONLY_DIRS | MU_RM_ROOT);
        assert_rm_r(s, -ENOTEMPTY);
        assert_refusals(s, {"x", -ENOTEMPTY, 0}, {"y", -ENOTEMPTY, 0}, {"z", -ENOTEMPTY, 0});
        assert_counts(s, 0, 2);
        assert_string_equal(listing(s, "pod"), "d x\nl x/link\nd y\np y/fifo\nd z\nf z/file\n");
}

static void test_missing_ok(void **state) {
        Scratch *s = *state;

        rm_at(s, "/nope", MU_RM_ROOT | MU_RM_MISSING_OK);
        assert_rm_r(s, 0);
        rm_at(s, "/nope", MU_RM_MISSING_OK);
        assert_rm_r(s, 0);
        run_rm(s, s->fd, "nope/deeper", &(MuRmOptions){.flags = MU_RM_ROOT | MU_RM_MISSING_OK});
        assert_rm_r(s, 0);
        rm_at(s, "/nope", MU_RM_ROOT);
        assert_rm_r(s, -ENOENT);
        rm_at(s, "/nope", 0);
        assert_rm_r(s, -ENOENT);
        run_rm(s, s->fd, "nope/deeper", &(MuRmOptions){.flags = MU_RM_ROOT});
        assert_rm_r(s, -ENOENT);
        assert_string_equal(listing(s, ""), "");
}

/* ---- tests: refused roots ------------------------------------------------------------------- */

static void make_sentinel(Scratch *s) {
        mkdir_p(s, "e1");
        mkdir_p(s, "e2/e3");
        write_file(s, "f", "sentinel");
        write_file(s, "d/g", "g");
}

/* "/" of the chroot is the scratch dir: a wrong implementation can only hurt the sentinel. */
static void test_refuse_root(void **state) {
        Scratch *s = *state;
        static const MuRmFlags flag_sets[] = {
                MU_RM_ONLY_DIRS,
                0,
                MU_RM_ROOT,
                MU_RM_ROOT | MU_RM_MISSING_OK | MU_RM_PARALLEL,
        };

        make_sentinel(s);
        const char *sentinel = digest(s, "");
        for (size_t i = 0; i < ELEMENTSOF(flag_sets); i++) {
                run_rm(s, AT_FDCWD, "/", &(MuRmOptions){.flags = flag_sets[i], .n_threads = 2});
                if (s->res.r != -EPERM)
                        print_error("# flags 0x%x\n", (unsigned) flag_sets[i]);
                assert_rm_r(s, -EPERM);
                assert_refusals(s, {"", -EPERM, 0});
                assert_counts(s, 0, 0);
                assert_string_equal(digest(s, ""), sentinel);
        }
}

/* Other spellings of "/" (a misconfigured --root-dir with ".." or "//"). */
static void test_refuse_root_aliases(void **state) {
        Scratch *s = *state;
        static const char *const aliases[] = {"//", "/.", "/./", "/..", "/../..", "/e1/.."};

        make_sentinel(s);
        const char *sentinel = digest(s, "");
        for (size_t i = 0; i < ELEMENTSOF(aliases) + 3; i++) {
                int dir_fd = i < ELEMENTSOF(aliases)    ? AT_FDCWD
                             : i == ELEMENTSOF(aliases) ? s->fd
                                                        : AT_FDCWD;
                const char *path = i < ELEMENTSOF(aliases)        ? aliases[i]
                                   : i == ELEMENTSOF(aliases)     ? "."
                                   : i == ELEMENTSOF(aliases) + 1 ? "."
                                                                  : "..";
                run_rm(s, dir_fd, path, &(MuRmOptions){.flags = MU_RM_ONLY_DIRS});
                if (s->res.r != -EPERM)
                        print_error(
                                "# root alias '%s' (dir_fd %s)\n",
                                path,
                                dir_fd == AT_FDCWD ? "AT_FDCWD" : "scratch");
                assert_rm_r(s, -EPERM);
                assert_string_equal(digest(s, ""), sentinel);
        }
}

static void test_root_is_mount(void **state) {
        Scratch *s = *state;

        mount_tmpfs(s, "pod");
        write_file(s, "pod/data", "mounted");
        write_file(s, "pod/sub/more", "more");
        const char *data = digest(s, "pod");
        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"", -EXDEV, 0});
        assert_string_equal(digest(s, "pod"), data);
        rm_at(s, "/pod", 0);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"", -EXDEV, 0});
        assert_string_equal(digest(s, "pod"), data);

        /* Same filesystem as its parent: a self-bind at the root. */
        write_file(s, "self/data", "self");
        bind_mount(s, "self", "self");
        const char *self = digest(s, "self");
        rm_at(s, "/self", MU_RM_ROOT);
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"", -EXDEV, 0});
        assert_string_equal(digest(s, "self"), self);
}

static void test_root_symlink_component(void **state) {
        Scratch *s = *state;
        struct stat st;

        write_file(s, "real/pod/data", "d");
        write_file(s, "real/pod/sub/x", "x");
        make_symlink(s, "real", "link");
        make_symlink(s, "real/pod", "podlink");
        const char *data = digest(s, "real/pod");

        rm_at(s, "/link/pod", MU_RM_ROOT);
        assert_true(s->res.r < 0);
        assert_string_equal(digest(s, "real/pod"), data);
        run_rm(s, s->fd, "link/pod", &(MuRmOptions){.flags = 0});
        assert_true(s->res.r < 0);
        assert_string_equal(digest(s, "real/pod"), data);
        rm_at(s, "/podlink", MU_RM_ROOT);
        assert_true(s->res.r < 0);
        assert_string_equal(digest(s, "real/pod"), data);
        rm_at(s, "/podlink/", MU_RM_ROOT);
        assert_true(s->res.r < 0);
        assert_string_equal(digest(s, "real/pod"), data);
        assert_int_equal(fstatat(s->fd, "podlink", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(fstatat(s->fd, "link", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISLNK(st.st_mode));
}

static void test_root_not_dir(void **state) {
        Scratch *s = *state;

        write_file(s, "pod", "a file");
        rm_at(s, "/pod", MU_RM_ROOT);
        assert_true(s->res.r < 0);
        assert_string_equal(read_text(s, "pod"), "a file");
        assert_int_equal(mkfifoat(s->fd, "fifo", 0644), 0);
        rm_at(s, "/fifo", MU_RM_ROOT);
        assert_true(s->res.r < 0);
        assert_true(exists(s, "fifo"));
}

/* ---- tests: odd content --------------------------------------------------------------------- */

static void test_odd_names(void **state) {
        Scratch *s = *state;
        char n255[256], d255[256], f255[256];
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *sock_path = sp(s, "pod/sock");
        static char big[1 << 20];

        memset(n255, 'n', 255);
        memset(d255, 'd', 255);
        memset(f255, 'f', 255);
        n255[255] = d255[255] = f255[255] = '\0';

        write_file(s, "pod/new\nline", "1");
        write_file(s, "pod/\xff\xfe", "2");
        write_file(s, keep(s, xasprintf("pod/%s", n255)), "3");
        write_file(s, keep(s, xasprintf("pod/%s/%s", d255, f255)), "4");
        write_file(s, "pod/-rf", "5");
        write_file(s, "pod/--no-preserve-root/-", "6");
        write_file(s, "pod/tab\there", "7");
        write_file(s, "pod/sp ace ", "8");
        write_file(s, "pod/*", "9");
        write_file(s, "pod/\\", "10");
        write_file(s, "pod/dir\nwith\nnl/\x01\x02", "11");
        write_file(s, "pod/mode000", "12");
        assert_int_equal(fchmodat(s->fd, "pod/mode000", 0, 0), 0);
        write_file(s, "pod/dir000/a", "13");
        write_file(s, "pod/dir000/b", "14");
        mkdir_p(s, "pod/dir000/c");
        assert_int_equal(fchmodat(s->fd, "pod/dir000/c", 0, 0), 0);
        assert_int_equal(fchmodat(s->fd, "pod/dir000", 0, 0), 0);
        assert_int_equal(mkfifoat(s->fd, "pod/fifo", 0644), 0);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        if (strlen(sock_path) < sizeof sa.sun_path) {
                memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
                assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        } else
                assert_int_equal(mknodat(s->fd, "pod/sock", S_IFSOCK | 0644, 0), 0);
        close(fd);
        assert_int_equal(mknodat(s->fd, "pod/null", S_IFCHR | 0666, makedev(1, 3)), 0);
        write_file(s, "pod/hard1", "15");
        assert_int_equal(linkat(s->fd, "pod/hard1", s->fd, "pod/hard2", 0), 0);
        memset(big, 'b', sizeof big);
        write_data(s, "pod/big", big, sizeof big);

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, 20, 6);
        assert_false(exists(s, "pod"));
}

/* `levels` nested dirs "d" below `rel`, built with relative fds (the path would pass PATH_MAX),
 * with an empty file `bottom` (may be NULL) in the deepest. */
static void make_chain(Scratch *s, const char *rel, int levels, const char *bottom) {
        int fd;

        mkdir_p(s, rel);
        fd = openat(s->fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        for (int i = 0; i < levels; i++) {
                if (mkdirat(fd, "d", 0755) < 0)
                        fail_msg("mkdir at level %d: %s", i, strerror(errno));
                int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                assert_true(sub >= 0);
                close(fd);
                fd = sub;
        }
        if (bottom) {
                int f = openat(fd, bottom, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(f >= 0);
                close(f);
        }
        close(fd);
}

static void test_deep_chain(void **state) {
        Scratch *s = *state;

        make_chain(s, "pod", DEEP_LEVELS, "bottom");
        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, 1, DEEP_LEVELS + 1);
        assert_false(exists(s, "pod"));
}

/* A dir that needs several getdents batches, with chains deeper than any fd window hanging off
 * several of its subdirs: its fd is closed and reopened mid-listing, and the listing goes on. */
static void test_deep_branching(void **state) {
        Scratch *s = *state;
        static const int deep[] = {100, 1000, 1700, 2500, BRANCH_WIDE_DIRS - 1};
        int fd;

        mkdir_p(s, "pod/wide");
        fd = openat(s->fd, "pod/wide", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        for (int i = 0; i < BRANCH_WIDE_DIRS; i++) {
                char name[32];
                snprintf(name, sizeof name, "s%04d", i);
                assert_int_equal(mkdirat(fd, name, 0755), 0);
                snprintf(name, sizeof name, "s%04d/f", i);
                int f = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(f >= 0);
                close(f);
        }
        close(fd);
        for (size_t i = 0; i < ELEMENTSOF(deep); i++)
                make_chain(s, keep(s, xasprintf("pod/wide/s%04d", deep[i])), BRANCH_CHAIN_LEVELS, "bottom");

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(
                s,
                BRANCH_WIDE_DIRS + ELEMENTSOF(deep),
                BRANCH_WIDE_DIRS + ELEMENTSOF(deep) * BRANCH_CHAIN_LEVELS + 2);
        assert_false(exists(s, "pod"));
}

/* A self-bind appears on an ancestor whose fd the walk closed (deep trees) and reopens through
 * "..": ".." lands on the new mount (same inode, other mount id). What is still to visit below
 * that ancestor is behind a mount now and must stay. p holds 20 chains deeper than the fd window;
 * when the first one visited reaches the bottom, the other 19 are still to visit, whatever the
 * readdir order. */
static int hook_bind_evicted_ancestor(int dir_fd, const char *path, void *userdata) {
        HookCtx *c = userdata;
        int slashes = 0;

        (void) dir_fd;
        c->calls++;
        for (const char *p = path; *p; p++)
                slashes += *p == '/';
        if (c->fired || slashes != BRANCH_CHAIN_LEVELS + 1)
                return 0;
        c->fired = 1;
        for (int i = 0; i < 20; i++) {
                char p[64];
                snprintf(p, sizeof p, "/pod/p/c%02d/data", i);
                if (access(p, F_OK) == 0)
                        c->pending_mask |= 1u << i;
        }
        if (mount("/pod/p", "/pod/p", NULL, MS_BIND, NULL) < 0 || mkdir("/pod/p/new", 0755) < 0) {
                c->err = errno;
                return 0;
        }
        int fd = open("/pod/p/new/precious", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "mounted\n", 8) != 8)
                c->err = errno ?: EIO;
        if (fd >= 0)
                close(fd);
        return 0;
}

static void test_mount_on_evicted_ancestor(void **state) {
        Scratch *s = *state;
        HookCtx *c = hook_ctx_new(s);

        for (int i = 0; i < 20; i++) {
                write_file(s, keep(s, xasprintf("pod/p/c%02d/data", i)), "sibling");
                make_chain(s, keep(s, xasprintf("pod/p/c%02d", i)), BRANCH_CHAIN_LEVELS, NULL);
        }

        run_rm(s,
               AT_FDCWD,
               "/pod",
               &(MuRmOptions){
                       .flags = MU_RM_ROOT, .on_enter_dir = hook_bind_evicted_ancestor, .userdata = c});
        if (!c->fired || c->err != 0)
                fail_msg("hook did not bind-mount (fired=%d, %s)", c->fired, strerror(c->err));
        if (__builtin_popcount(c->pending_mask) != 19)
                fail_msg(
                        "expected 19 chains still to visit when the mount appeared, got mask 0x%x",
                        c->pending_mask);
        assert_true(s->res.r < 0);
        for (int i = 0; i < 20; i++)
                if ((c->pending_mask & (1u << i)) && !exists(s, keep(s, xasprintf("pod/p/c%02d/data", i)))) {
                        dump_result(s);
                        fail_msg(
                                "'p/c%02d/data' was still to visit when 'p' became a mount, and is gone", i);
                }
        if (!exists(s, "pod/p/new/precious")) {
                dump_result(s);
                fail_msg("'p/new/precious', created inside the new mount, is gone");
        }
}

/* tmpfs only (not registered for the disk configurations), to keep the run short. */
static void test_wide_dir(void **state) {
        Scratch *s = *state;
        int fd;

        mkdir_p(s, "pod/wide");
        fd = openat(s->fd, "pod/wide", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        for (unsigned i = 0; i < WIDE_FILES; i++) {
                char name[16];
                snprintf(name, sizeof name, "f%06u", i);
                int f = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (f < 0)
                        fail_msg("create file %u: %s", i, strerror(errno));
                close(f);
        }
        close(fd);

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, WIDE_FILES, 2);
        assert_false(exists(s, "pod"));
}

/* ---- tests: errors, parallel, races --------------------------------------------------------- */

static void test_errors_keep_going(void **state) {
        Scratch *s = *state;
        int r;

        write_file(s, "pod/a/locked", "L");
        write_file(s, "pod/a/other", "o");
        write_file(s, "pod/a/sub/x", "x");
        write_file(s, "pod/b/f", "f");
        write_file(s, "pod/c", "c");
        write_file(s, "pod/z/y", "y");
        r = set_immutable(s->fd, "pod/a/locked", true);
        if (r == -ENOTTY || r == -EOPNOTSUPP || r == -EINVAL) {
                print_message(
                        "# %s: no FS_IMMUTABLE_FL on this filesystem (%s), nothing to check\n",
                        config->name,
                        errname(r));
                return;
        }
        assert_int_equal(r, 0);

        rm_at(s, "/pod", MU_RM_ROOT);
        assert_int_equal(set_immutable(s->fd, "pod/a/locked", false), 0);
        assert_rm_r(s, -EPERM);
        assert_refusals(s, {"a/locked", -EPERM, 0});
        assert_counts(s, 5, 3); /* a/sub, b, z; a and the root stay */
        assert_string_equal(listing(s, "pod"), "d a\nf a/locked\n");
}

static void test_parallel_with_mounts(void **state) {
        Scratch *s = *state;

        for (int i = 0; i < 200; i++) {
                if (i == 117)
                        continue;
                for (int j = 0; j < 20; j++)
                        write_file(s, keep(s, xasprintf("pod/d%03d/f%02d", i, j)), "x");
        }
        mount_tmpfs(s, "pod/d117");
        for (int j = 0; j < 5; j++)
                write_file(s, keep(s, xasprintf("pod/d117/t%d", j)), "mounted");
        mount_tmpfs(s, "pod/d050/sub/m");
        write_file(s, "pod/d050/sub/m/data", "deep mounted");
        const char *d117 = digest(s, "pod/d117");
        const char *m = digest(s, "pod/d050/sub/m");

        run_rm(s, AT_FDCWD, "/pod", &(MuRmOptions){.flags = MU_RM_ROOT | MU_RM_PARALLEL, .n_threads = 4});
        assert_rm_r(s, -EXDEV);
        assert_refusals(s, {"d117", -EXDEV, 0}, {"d050/sub/m", -EXDEV, 0});
        assert_counts(s, 199 * 20, 198);
        assert_string_equal(digest(s, "pod/d117"), d117);
        assert_string_equal(digest(s, "pod/d050/sub/m"), m);
        assert_string_equal(listing(s, "pod"), "d d050\nd d050/sub\nM d050/sub/m\nM d117\n");
}

/* The root needs several getdents batches; one subtree is deeper than the fd window. */
static void test_parallel_default_threads(void **state) {
        Scratch *s = *state;
        int fd;

        mkdir_p(s, "pod");
        fd = openat(s->fd, "pod", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        for (int i = 0; i < PARALLEL_TOP_DIRS; i++) {
                char name[32];
                snprintf(name, sizeof name, "d%04d", i);
                assert_int_equal(mkdirat(fd, name, 0755), 0);
                snprintf(name, sizeof name, "d%04d/f", i);
                int f = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(f >= 0);
                close(f);
        }
        close(fd);
        make_chain(s, "pod/d0042", BRANCH_CHAIN_LEVELS, "bottom");
        write_file(s, "pod/top", "t");

        run_rm(s, AT_FDCWD, "/pod", &(MuRmOptions){.flags = MU_RM_ROOT | MU_RM_PARALLEL, .n_threads = 0});
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_counts(s, PARALLEL_TOP_DIRS + 2, PARALLEL_TOP_DIRS + BRANCH_CHAIN_LEVELS + 1);
        assert_false(exists(s, "pod"));
}

static void test_concurrent_sibling_removed(void **state) {
        Scratch *s = *state;
        HookCtx *c = hook_ctx_new(s);

        for (size_t i = 0; i < ELEMENTSOF(sibling_names); i++) {
                const char *n = sibling_names[i];
                if (n[0] == 'f')
                        write_file(s, keep(s, xasprintf("pod/%s", n)), "f");
                else {
                        write_file(s, keep(s, xasprintf("pod/%s/x", n)), "x");
                        write_file(s, keep(s, xasprintf("pod/%s/s/y", n)), "y");
                }
        }
        run_rm(s,
               AT_FDCWD,
               "/pod",
               &(MuRmOptions){.flags = MU_RM_ROOT, .on_enter_dir = hook_remove_siblings, .userdata = c});
        if (!c->fired || c->removed == 0)
                fail_msg("the hook removed nothing (fired=%d); it saw:\n%s", c->fired, c->seen);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_false(exists(s, "pod"));
}

/* d's rmdir finds it not empty though nothing was refused: d is read again from the start and the
 * late file goes too. */
static void test_entry_appears_in_listed_dir(void **state) {
        Scratch *s = *state;
        HookCtx *c = hook_ctx_new(s);

        write_file(s, "pod/d/early", "e");
        write_file(s, "pod/d/sub/x", "x");
        run_rm(s,
               AT_FDCWD,
               "/pod",
               &(MuRmOptions){
                       .flags = MU_RM_ROOT, .on_enter_dir = hook_add_to_listed_parent, .userdata = c});
        if (!c->fired || c->err != 0)
                fail_msg(
                        "the hook added nothing (fired=%d, %s); it saw:\n%s",
                        c->fired,
                        strerror(c->err),
                        c->seen);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_false(exists(s, "pod"));
}

static void test_concurrent_dir_removed_while_open(void **state) {
        Scratch *s = *state;
        HookCtx *c = hook_ctx_new(s);

        write_file(s, "pod/victim/x", "x");
        write_file(s, "pod/victim/s/y", "y");
        write_file(s, "pod/other/z", "z");
        run_rm(s,
               AT_FDCWD,
               "/pod",
               &(MuRmOptions){.flags = MU_RM_ROOT, .on_enter_dir = hook_remove_self, .userdata = c});
        if (!c->fired || c->err != 0)
                fail_msg(
                        "hook did not remove 'victim' (fired=%d, %s); it saw:\n%s",
                        c->fired,
                        strerror(c->err),
                        c->seen);
        assert_rm_r(s, 0);
        assert_no_refusals(s);
        assert_false(exists(s, "pod"));
}

static void test_hook_abort(void **state) {
        Scratch *s = *state;
        HookCtx *c = hook_ctx_new(s);

        write_file(s, "pod/a/b/f", "f");
        write_file(s, "pod/c/g", "g");
        run_rm(s,
               AT_FDCWD,
               "/pod",
               &(MuRmOptions){.flags = MU_RM_ROOT, .on_enter_dir = hook_abort, .userdata = c});
        assert_rm_r(s, -ECANCELED);
        assert_true(exists(s, "pod/a/b/f"));
}

static void test_refusal_reason(void **state) {
        const char *exdev = mu_rm_refusal_reason(-EXDEV);
        const char *notempty = mu_rm_refusal_reason(-ENOTEMPTY);
        const char *perm = mu_rm_refusal_reason(-EPERM);

        (void) state;
        assert_non_null(exdev);
        assert_non_null(notempty);
        assert_non_null(perm);
        assert_true(exdev[0] && notempty[0] && perm[0]);
        assert_string_not_equal(exdev, notempty);
        assert_string_not_equal(exdev, perm);
        assert_string_not_equal(notempty, perm);
}

/* ---- main ----------------------------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, scratch_setup, scratch_teardown)

static const struct {
        struct CMUnitTest test;
        bool tmpfs_only;
} all_tests[] = {
        {T(test_plain_with_root), false},
        {T(test_plain_without_root), false},
        {T(test_plain_null_report), false},
        {T(test_root_trailing_slash), false},
        {T(test_root_below_mount), false},
        {T(test_symlinks_not_followed), false},
        {T(test_emptydir_tmpfs_refused), false},
        {T(test_bind_outside_dir), false},
        {T(test_bind_self), false},
        {T(test_bind_readonly), false},
        {T(test_bind_file), false},
        {T(test_nested_mounts), false},
        {T(test_pod_dir_layout), false},
        {T(test_mount_appears_midwalk), false},
        {T(test_only_dirs_empty_tree), false},
        {T(test_only_dirs_csi), false},
        {T(test_only_dirs_never_unlinks), false},
        {T(test_missing_ok), false},
        {T(test_refuse_root), false},
        {T(test_refuse_root_aliases), false},
        {T(test_root_is_mount), false},
        {T(test_root_symlink_component), false},
        {T(test_root_not_dir), false},
        {T(test_odd_names), false},
        {T(test_deep_chain), false},
        {T(test_deep_branching), false},
        {T(test_mount_on_evicted_ancestor), false},
        {T(test_wide_dir), true},
        {T(test_errors_keep_going), false},
        {T(test_parallel_with_mounts), false},
        {T(test_parallel_default_threads), false},
        {T(test_concurrent_sibling_removed), false},
        {T(test_concurrent_dir_removed_while_open), false},
        {T(test_entry_appears_in_listed_dir), false},
        {T(test_hook_abort), false},
        {T(test_refusal_reason), false},
};

int main(void) {
        struct CMUnitTest tests[ELEMENTSOF(all_tests)];
        struct rlimit rl;
        int failed = 0;

        if (geteuid() != 0) {
                fprintf(stderr, "test-rmtree: needs root (mount namespace, tmpfs, bind mounts, chroot)\n");
                return 77;
        }
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "test-rmtree: cannot set up a private mount namespace: %m\n");
                return 1;
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        for (size_t i = 0; i < ELEMENTSOF(configs); i++) {
                size_t n = 0;
                config = &configs[i];
                for (size_t j = 0; j < ELEMENTSOF(all_tests); j++)
                        if (!all_tests[j].tmpfs_only || config->on_tmpfs)
                                tests[n++] = all_tests[j].test;
                failed += _cmocka_run_group_tests(config->name, tests, n, group_setup, group_teardown);
        }
        return failed == 0 ? 0 : 1;
}
