/* SPDX-License-Identifier: MIT */
/* Kernel tests for reaper/act.c: act_remove_pod_dir() on kubelet-like pod dirs with real mounts and
 * symlinks, and act_run() on hand-built plans with a fake runtime re-check and real pod cgroups
 * holding real processes.
 *
 * Runs as root in a private mount namespace, so every mount made here dies with the process. The
 * pod-dir tests run three times: on the disk (/var/tmp) in a child whose seccomp filter refuses
 * openat2() (the O_NOFOLLOW + mount-id fallback), on a tmpfs and on the disk; the cgroup tests
 * once. Each test gets a scratch dir of its own:
 *
 *   <scratch>/root/pods/<uid>/...   the kubelet's --root-dir
 *   <scratch>/logs/<ns>_<name>_<uid> --pod-logs-dir
 *   <scratch>/outside/...           what symlinks and bind mounts point at; must stay intact
 *
 * The teardown runs also when a test fails: it kills the test's processes by pidfd, removes its
 * cgroups (a kubepods name of its own, "kpact<pid>n<k>", in every hierarchy), detaches every mount
 * beneath the scratch dir and removes it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cgroupfs/cgroupfs.h"
#include "reaper/act.h"
#include "reaper/plan.h"
#include "tests/lib/cgroup-files.h"
#include "util/macro.h"

#define UID_A "0a1b2c3d-1111-4abc-8def-00000000000a"
#define UID_B "0a1b2c3d-2222-4abc-8def-00000000000b"
#define UID_C "0a1b2c3d-3333-4abc-8def-00000000000c"
#define LOG_A "default_web-0_" UID_A
#define LOG_B "default_web-1_" UID_B
#define CONTAINER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MAX_PROCS 8

#define streq(a, b) (strcmp((a), (b)) == 0)

/* ---- configurations ------------------------------------------------------------------------- */

typedef struct Config {
        const char *name;
        bool on_tmpfs;
        bool no_openat2; /* in a child whose seccomp filter answers openat2() with EPERM */
        bool cgroups;    /* the cgroup tests run in one configuration only */
} Config;

/* The one without openat2 runs first, in a forked child, before any probe of it is cached. */
static const Config configs[] = {
        {"act-disk-no-openat2", false, true, false},
        {"act-tmpfs", true, false, true},
        {"act-disk", false, false, false},
};

static const Config *config;
static char *group_dir; /* per configuration: a tmpfs mount point or a plain dir under /var/tmp */
static unsigned test_counter;

/* ---- helpers -------------------------------------------------------------------------------- */

_printf_(1, 2) static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *p = NULL;

        va_start(ap, fmt);
        int k = vasprintf(&p, fmt, ap);
        va_end(ap);
        assert_true(k >= 0);
        return p;
}

static void unescape_octal(char *p) {
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
}

/* Detaches every mount at or beneath `dir`, from our own mountinfo (independent of the code under
 * test). */
static void umount_beneath(const char *dir) {
        size_t dl = strlen(dir);

        for (int round = 0; round < 64; round++) {
                FILE *f = fopen("/proc/self/mountinfo", "re");
                char *line = NULL, **targets = NULL;
                size_t cap = 0, n = 0;

                if (!f)
                        return;
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
                        if (!t)
                                break;
                        targets = t;
                        if (!(targets[n] = strdup(p)))
                                break;
                        n++;
                }
                free(line);
                fclose(f);
                for (size_t i = n; i-- > 0;) {
                        (void) umount2(targets[i], MNT_DETACH);
                        free(targets[i]);
                }
                free(targets);
                if (n == 0)
                        return;
        }
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (type == FTW_DP)
                (void) rmdir(path);
        else
                (void) unlink(path);
        return 0;
}

/* Run only after umount_beneath(): FTW_MOUNT keeps it on one filesystem all the same. */
static void rm_rf(const char *dir) {
        (void) nftw(dir, rm_one, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* ---- fixture -------------------------------------------------------------------------------- */

typedef struct Proc {
        pid_t pid; /* 0 once reaped */
        int pidfd;
} Proc;

typedef struct FakeRuntime {
        int answer; /* what runtime_knows_uid() returns */
        unsigned calls;
        char last_uid[CGFS_UID_MAX + 1];
} FakeRuntime;

typedef struct Fx {
        char *dir; /* absolute, canonical */
        int fd;
        int pods_fd;
        char **strings; /* freed in teardown, so helpers can hand out paths */
        size_t n_strings;

        Options o;
        FakeRuntime rt;
        Plan plan;
        size_t allocated;

        char kubepods[64];
        CgfsHierarchies h;
        CgfsPods pods;
        bool cgroups;
        Proc procs[MAX_PROCS];
        size_t n_procs;
} Fx;

static char *keep(Fx *fx, char *p) {
        assert_non_null(p);
        char **n = realloc(fx->strings, (fx->n_strings + 1) * sizeof(char *));
        assert_non_null(n);
        fx->strings = n;
        fx->strings[fx->n_strings++] = p;
        return p;
}

/* Absolute path of `rel` inside the scratch dir. */
static const char *sp(Fx *fx, const char *rel) {
        return keep(fx, xasprintf("%s/%s", fx->dir, rel));
}

/* A path inside pod `uid`'s dir, relative to the scratch dir. */
static const char *pp(Fx *fx, const char *uid, const char *rel) {
        return keep(fx, xasprintf("root/pods/%s/%s", uid, rel));
}

static void mkdir_p(Fx *fx, const char *rel) {
        char *p = keep(fx, strdup(rel));

        for (size_t i = 1;; i++) {
                if (p[i] != '/' && p[i] != '\0')
                        continue;
                char c = p[i];
                p[i] = '\0';
                if (mkdirat(fx->fd, p, 0755) < 0 && errno != EEXIST)
                        fail_msg("mkdir '%s': %s", p, strerror(errno));
                p[i] = c;
                if (c == '\0')
                        break;
        }
}

static void mkdir_parent(Fx *fx, const char *rel) {
        char *p = keep(fx, strdup(rel)), *slash = strrchr(p, '/');

        if (slash) {
                *slash = '\0';
                mkdir_p(fx, p);
        }
}

static void write_file(Fx *fx, const char *rel, const char *content) {
        size_t len = strlen(content);
        int fd;

        mkdir_parent(fx, rel);
        fd = openat(fx->fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                fail_msg("create '%s': %s", rel, strerror(errno));
        if (len > 0 && write(fd, content, len) != (ssize_t) len)
                fail_msg("write '%s': %s", rel, strerror(errno));
        close(fd);
}

static void make_symlink(Fx *fx, const char *target, const char *rel) {
        mkdir_parent(fx, rel);
        if (symlinkat(target, fx->fd, rel) < 0)
                fail_msg("symlink '%s' -> '%s': %s", rel, target, strerror(errno));
}

static void mount_tmpfs(Fx *fx, const char *rel) {
        mkdir_p(fx, rel);
        if (mount("tmpfs", sp(fx, rel), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m") < 0)
                fail_msg("mount tmpfs at '%s': %s", rel, strerror(errno));
}

static void bind_mount(Fx *fx, const char *src_rel, const char *dst_rel) {
        if (mount(sp(fx, src_rel), sp(fx, dst_rel), NULL, MS_BIND, NULL) < 0)
                fail_msg("bind '%s' -> '%s': %s", src_rel, dst_rel, strerror(errno));
}

static bool exists(Fx *fx, const char *rel) {
        struct stat st;
        return fstatat(fx->fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ---- listings: sorted "type path [content | -> target]" lines, into mounts too ----------- */

typedef struct Lines {
        char **v;
        size_t n;
} Lines;

static void lines_add(Lines *l, char *line) {
        char **n = realloc(l->v, (l->n + 1) * sizeof(char *));

        assert_non_null(n);
        l->v = n;
        l->v[l->n++] = line;
}

static void list_dir(int dfd, const char *rel, Lines *out) {
        int dup_fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        assert_true(dup_fd >= 0);
        d = fdopendir(dup_fd);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                char *path;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                path = rel ? xasprintf("%s/%s", rel, de->d_name) : strdup(de->d_name);
                assert_non_null(path);
                assert_int_equal(fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        assert_true(sub >= 0);
                        lines_add(out, xasprintf("d %s", path));
                        list_dir(sub, path, out);
                        close(sub);
                } else if (S_ISREG(st.st_mode)) {
                        char buf[256] = "";
                        int f = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        ssize_t k;

                        assert_true(f >= 0);
                        k = read(f, buf, sizeof(buf) - 1);
                        assert_true(k >= 0);
                        buf[k] = '\0';
                        close(f);
                        lines_add(out, xasprintf("f %s %s", path, buf));
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t k = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);

                        assert_true(k >= 0);
                        target[k] = '\0';
                        lines_add(out, xasprintf("l %s -> %s", path, target));
                } else
                        lines_add(out, xasprintf("? %s", path));
                free(path);
        }
        closedir(d);
}

static int compare_lines(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The whole tree at `rel` (a directory), one line per entry; "" if it is missing. */
static const char *listing(Fx *fx, const char *rel) {
        Lines l = {};
        char *text = NULL;
        size_t size = 0;
        FILE *f;
        int dfd = openat(fx->fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (dfd < 0)
                return "";
        list_dir(dfd, NULL, &l);
        close(dfd);
        qsort(l.v, l.n, sizeof(char *), compare_lines);
        f = open_memstream(&text, &size);
        assert_non_null(f);
        for (size_t i = 0; i < l.n; i++) {
                fprintf(f, "%s\n", l.v[i]);
                free(l.v[i]);
        }
        fclose(f);
        free(l.v);
        return keep(fx, text);
}

/* ---- processes and cgroups ------------------------------------------------------------------ */

static pid_t spawn_sleeper(Fx *fx) {
        pid_t parent = getpid(), pid;
        Proc *p;

        assert_true(fx->n_procs < MAX_PROCS);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(0);
                for (;;)
                        pause();
        }
        p = &fx->procs[fx->n_procs++];
        p->pid = pid;
        p->pidfd = sys_pidfd_open(pid);
        assert_true(p->pidfd >= 0);
        return pid;
}

static Proc *find_proc(Fx *fx, pid_t pid) {
        for (size_t i = 0; i < fx->n_procs; i++)
                if (fx->procs[i].pid == pid)
                        return &fx->procs[i];
        fail_msg("pid %d is not one of the test's", (int) pid);
        return NULL;
}

static void assert_killed(Fx *fx, pid_t pid) {
        Proc *p = find_proc(fx, pid);
        struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
        int status = 0;

        if (poll(&pfd, 1, 2000) != 1)
                fail_msg("pid %d is still running", (int) pid);
        assert_int_equal(waitpid(pid, &status, WNOHANG), pid);
        p->pid = 0;
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void assert_alive(Fx *fx, pid_t pid) {
        (void) find_proc(fx, pid);
        if (waitpid(pid, NULL, WNOHANG) != 0)
                fail_msg("pid %d has exited", (int) pid);
        assert_int_equal(kill(pid, 0), 0);
}

/* The test's cgroups, or a skip where the machine has none. */
static void cg_setup(Fx *fx) {
        snprintf(fx->kubepods, sizeof(fx->kubepods), "kpact%dn%u", (int) getpid(), test_counter);
        if (cgfs_hierarchies_find(NULL, "/sys/fs/cgroup", &fx->h) < 0) {
                print_message("# no cgroup hierarchy under /sys/fs/cgroup\n");
                skip();
        }
        fx->cgroups = true;
        fx->o.kubepods_cgroup = fx->kubepods;
}

/* `rel` (relative to each hierarchy's root) in every hierarchy. */
static void cg_mkdir(Fx *fx, const char *rel) {
        for (size_t i = 0; i < fx->h.n; i++) {
                const CgfsHierarchy *x = &fx->h.items[i];
                bool cpuset = !x->v2 && list_has(x->controllers, "cpuset");
                char *p = keep(fx, xasprintf("%s/%s", x->path, rel));

                for (size_t k = strlen(x->path) + 1;; k++) {
                        char c = p[k];
                        if (c != '/' && c != '\0')
                                continue;
                        p[k] = '\0';
                        if (mkdir(p, 0755) == 0) {
                                if (cpuset)
                                        assert_int_equal(cpuset_inherit(p), 0);
                        } else if (errno != EEXIST)
                                fail_msg("mkdir %s: %s", p, strerror(errno));
                        p[k] = c;
                        if (c == '\0')
                                break;
                }
        }
}

static void cg_move(Fx *fx, const char *rel, pid_t pid) {
        char value[32];

        snprintf(value, sizeof(value), "%d", (int) pid);
        for (size_t i = 0; i < fx->h.n; i++) {
                const char *procs = keep(fx, xasprintf("%s/%s/cgroup.procs", fx->h.items[i].path, rel));
                int r = write_str(procs, value);

                if (r < 0)
                        fail_msg("move %d into %s: %s", (int) pid, procs, strerror(-r));
        }
}

static bool cg_exists_anywhere(Fx *fx, const char *rel) {
        struct stat st;

        for (size_t i = 0; i < fx->h.n; i++)
                if (stat(keep(fx, xasprintf("%s/%s", fx->h.items[i].path, rel)), &st) == 0)
                        return true;
        return false;
}

static bool cg_exists_everywhere(Fx *fx, const char *rel) {
        struct stat st;

        for (size_t i = 0; i < fx->h.n; i++)
                if (stat(keep(fx, xasprintf("%s/%s", fx->h.items[i].path, rel)), &st) < 0)
                        return false;
        return true;
}

/* The pod cgroup of `uid` in `qos_dir` ("burstable", "besteffort"), cgroupfs driver, written out
 * here independently of cgfs_pod_path(). */
static const char *cg_pod_rel(Fx *fx, const char *qos_dir, const char *uid) {
        return keep(fx, xasprintf("%s/%s/pod%s", fx->kubepods, qos_dir, uid));
}

/* A pod cgroup with one container child and, if asked, a sleeping process in it. */
static pid_t cg_make_pod(Fx *fx, const char *rel, bool with_process) {
        const char *child = keep(fx, xasprintf("%s/%s", rel, CONTAINER_ID));
        pid_t pid;

        cg_mkdir(fx, child);
        if (!with_process)
                return 0;
        pid = spawn_sleeper(fx);
        cg_move(fx, child, pid);
        return pid;
}

static void cg_enumerate(Fx *fx) {
        cgfs_pods_done(&fx->pods);
        assert_int_equal(cgfs_pods_enumerate(&fx->h, fx->kubepods, CGFS_DRIVER_CGROUPFS, &fx->pods), 0);
}

static void rm_cgroup_tree(const char *dir) {
        DIR *d = opendir(dir);

        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                char *sub = xasprintf("%s/%s", dir, de->d_name);
                rm_cgroup_tree(sub);
                free(sub);
        }
        closedir(d);
        for (int i = 0; i < 200 && rmdir(dir) < 0 && errno == EBUSY; i++)
                sleep_msec(10);
}

/* ---- plans ---------------------------------------------------------------------------------- */

static int fake_runtime_knows_uid(void *userdata, const char *uid) {
        FakeRuntime *rt = userdata;

        rt->calls++;
        snprintf(rt->last_uid, sizeof(rt->last_uid), "%s", uid);
        return rt->answer;
}

static Action *plan_add(Fx *fx, ActionKind kind, const char *uid, const char *target) {
        Plan *p = &fx->plan;
        Action *a;

        if (p->n_actions == fx->allocated) {
                fx->allocated = fx->allocated ? fx->allocated * 2 : 8;
                p->actions = realloc(p->actions, fx->allocated * sizeof(Action));
                assert_non_null(p->actions);
        }
        a = &p->actions[p->n_actions++];
        *a = (Action){.kind = kind, .result = RESULT_PLANNED};
        snprintf(a->uid, sizeof(a->uid), "%s", uid);
        a->target = strdup(target);
        a->reason = strdup("orphaned (test)");
        assert_non_null(a->target);
        assert_non_null(a->reason);
        return a;
}

static ActContext context(Fx *fx) {
        return (ActContext){
                .options = &fx->o,
                .hierarchies = fx->cgroups ? &fx->h : NULL,
                .pod_cgroups = fx->cgroups ? &fx->pods : NULL,
                .runtime_knows_uid = fake_runtime_knows_uid,
                .userdata = &fx->rt,
        };
}

static void assert_result(const Action *a, ActionResult result, const char *error) {
        if (a->result != result)
                fail_msg(
                        "%s %s: %s (%s), expected %s",
                        action_kind_to_string(a->kind),
                        a->target,
                        action_result_to_string(a->result),
                        a->error ?: "no error",
                        action_result_to_string(result));
        if (!error)
                assert_null(a->error);
        else {
                assert_non_null(a->error);
                assert_string_equal(a->error, error);
        }
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int group_setup(void **state) {
        char tmpl[] = "/var/tmp/podreaper-test-act.XXXXXX";
        char *canonical;

        (void) state;
        assert_non_null(mkdtemp(tmpl));
        canonical = realpath(tmpl, NULL);
        assert_non_null(canonical);
        group_dir = canonical;
        if (config->on_tmpfs &&
            mount("tmpfs", group_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m") < 0) {
                fprintf(stderr, "mount tmpfs at %s: %m\n", group_dir);
                return -1;
        }
        return 0;
}

static int group_teardown(void **state) {
        (void) state;
        umount_beneath(group_dir);
        rm_rf(group_dir);
        free(group_dir);
        group_dir = NULL;
        return 0;
}

static int fx_setup(void **state) {
        Fx *fx = calloc(1, sizeof(Fx));

        assert_non_null(fx);
        fx->fd = fx->pods_fd = -EBADF;
        fx->dir = xasprintf("%s/t%u", group_dir, ++test_counter);
        assert_int_equal(mkdir(fx->dir, 0755), 0);
        fx->fd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fx->fd >= 0);
        mkdir_p(fx, "root/pods");
        mkdir_p(fx, "logs");
        mkdir_p(fx, "outside");
        fx->pods_fd = openat(fx->fd, "root/pods", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fx->pods_fd >= 0);
        fx->o = (Options){
                .root_dir = (char *) sp(fx, "root"),
                .pod_logs_dir = (char *) sp(fx, "logs"),
                .kubepods_cgroup = (char *) "kubepods",
                .cgroup_driver = CGFS_DRIVER_CGROUPFS,
        };
        *state = fx;
        return 0;
}

static int fx_teardown(void **state) {
        Fx *fx = *state;

        for (size_t i = 0; i < fx->n_procs; i++) {
                Proc *p = &fx->procs[i];
                if (p->pid > 0) {
                        (void) sys_pidfd_send_signal(p->pidfd, SIGKILL);
                        (void) waitpid(p->pid, NULL, 0);
                }
                if (p->pidfd >= 0)
                        close(p->pidfd);
        }
        if (fx->cgroups)
                for (size_t i = 0; i < fx->h.n; i++) {
                        char *top = xasprintf("%s/%s", fx->h.items[i].path, fx->kubepods);
                        rm_cgroup_tree(top);
                        free(top);
                }
        cgfs_pods_done(&fx->pods);
        cgfs_hierarchies_done(&fx->h);
        plan_done(&fx->plan);
        safe_close(fx->pods_fd);
        safe_close(fx->fd);
        umount_beneath(fx->dir);
        rm_rf(fx->dir);
        free(fx->dir);
        for (size_t i = 0; i < fx->n_strings; i++)
                free(fx->strings[i]);
        free(fx->strings);
        free(fx);
        return 0;
}

/* ---- pod dirs ------------------------------------------------------------------------------- */

/* What a kubelet leaves of a pod whose volumes were torn down (and the two leftovers that block
 * its own cleanup forever): empty volume dirs, a CSI vol_data.json beside an empty mount/ (and one
 * without mount/), an empty-dir volume with files, subpath mount points, containers/, plugins/,
 * etc-hosts. */
static void make_pod(Fx *fx, const char *uid) {
        mkdir_p(fx, pp(fx, uid, "volumes/kubernetes.io~secret/token"));
        mkdir_p(fx, pp(fx, uid, "volumes/kubernetes.io~configmap/config"));
        mkdir_p(fx, pp(fx, uid, "volumes/kubernetes.io~projected/kube-api-access-x7k2p"));
        write_file(
                fx,
                pp(fx, uid, "volumes/kubernetes.io~csi/pvc-1/vol_data.json"),
                "{\"driverName\":\"csi.example.com\",\"volumeHandle\":\"vol-1\"}");
        mkdir_p(fx, pp(fx, uid, "volumes/kubernetes.io~csi/pvc-1/mount"));
        write_file(
                fx,
                pp(fx, uid, "volumes/kubernetes.io~csi/pvc-2/vol_data.json"),
                "{\"driverName\":\"csi.example.com\",\"volumeHandle\":\"vol-2\"}");
        write_file(fx, pp(fx, uid, "volumes/kubernetes.io~empty-dir/cache/a"), "cached a");
        write_file(fx, pp(fx, uid, "volumes/kubernetes.io~empty-dir/cache/sub/b"), "cached b");
        write_file(fx, pp(fx, uid, "volumes/kubernetes.io~empty-dir/cache/sub/deep/c"), "cached c");
        mkdir_p(fx, pp(fx, uid, "volumes/kubernetes.io~empty-dir/empty"));
        mkdir_p(fx, pp(fx, uid, "volume-subpaths/config/app/0"));
        write_file(fx, pp(fx, uid, "volume-subpaths/config/app/1"), "");
        mkdir_p(fx, pp(fx, uid, "volume-subpaths/data/sidecar/0"));
        write_file(fx, pp(fx, uid, "containers/app/3f2a91c0"), "");
        write_file(fx, pp(fx, uid, "containers/app/7d1e22b4"), "terminated: OOMKilled");
        write_file(fx, pp(fx, uid, "containers/sidecar/91aa0c3e"), "");
        write_file(fx, pp(fx, uid, "plugins/kubernetes.io~empty-dir/cache/ready"), "");
        write_file(fx, pp(fx, uid, "plugins/kubernetes.io~empty-dir/wrapped_token/ready"), "");
        mkdir_p(fx, pp(fx, uid, "volumeDevices/kubernetes.io~csi"));
        write_file(fx, pp(fx, uid, "etc-hosts"), "127.0.0.1 localhost\n");
}

static void test_full_pod_dir(void **state) {
        Fx *fx = *state;
        char *detail = NULL;
        const char *neighbor;

        make_pod(fx, UID_A);
        make_pod(fx, UID_B);
        neighbor = listing(fx, "root/pods/" UID_B);

        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, &detail), 0);
        assert_null(detail);
        assert_false(exists(fx, "root/pods/" UID_A));
        assert_string_equal(listing(fx, "root/pods/" UID_B), neighbor);
}

static void test_other_plugin_leftover_stays(void **state) {
        Fx *fx = *state;
        char *detail = NULL;

        make_pod(fx, UID_A);
        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~nfs/data/report.csv"), "nfs data");

        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, &detail), -ENOTEMPTY);
        assert_non_null(detail);
        assert_string_equal(detail, "volumes/kubernetes.io~nfs/data: not empty");
        free(detail);
        assert_string_equal(
                listing(fx, "root/pods/" UID_A),
                "d volumes\n"
                "d volumes/kubernetes.io~nfs\n"
                "d volumes/kubernetes.io~nfs/data\n"
                "f volumes/kubernetes.io~nfs/data/report.csv nfs data\n");
}

/* Data in an unmounted CSI mount/ dir is not the known leftover: mount/ and vol_data.json (which
 * the kubelet needs to unmount) stay. A CSI volume dir with anything else in it is not touched. */
static void test_csi_not_the_leftover(void **state) {
        Fx *fx = *state;
        char *detail = NULL;

        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~csi/pvc-1/vol_data.json"), "{}");
        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~csi/pvc-1/mount/data"), "unmounted data");
        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~csi/pvc-2/vol_data.json"), "{}");
        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~csi/pvc-2/other"), "other");
        write_file(fx, pp(fx, UID_A, "containers/app/3f2a91c0"), "");

        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, &detail), -ENOTEMPTY);
        assert_non_null(detail);
        assert_string_equal(
                detail,
                "volumes/kubernetes.io~csi/pvc-1/mount: not empty; volumes/kubernetes.io~csi/pvc-2: not "
                "empty");
        free(detail);
        assert_string_equal(
                listing(fx, "root/pods/" UID_A),
                "d volumes\n"
                "d volumes/kubernetes.io~csi\n"
                "d volumes/kubernetes.io~csi/pvc-1\n"
                "d volumes/kubernetes.io~csi/pvc-1/mount\n"
                "d volumes/kubernetes.io~csi/pvc-2\n"
                "f volumes/kubernetes.io~csi/pvc-1/mount/data unmounted data\n"
                "f volumes/kubernetes.io~csi/pvc-1/vol_data.json {}\n"
                "f volumes/kubernetes.io~csi/pvc-2/other other\n"
                "f volumes/kubernetes.io~csi/pvc-2/vol_data.json {}\n");
}

/* A memory-backed empty-dir (tmpfs) still mounted: the precondition fails, nothing is touched. */
static void test_tmpfs_emptydir_refused(void **state) {
        Fx *fx = *state;
        char *detail = NULL;
        const char *before;

        make_pod(fx, UID_A);
        mount_tmpfs(fx, pp(fx, UID_A, "volumes/kubernetes.io~empty-dir/scratch"));
        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~empty-dir/scratch/live"), "mounted data");
        before = listing(fx, "root/pods/" UID_A);

        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, &detail), -EBUSY);
        assert_non_null(detail);
        assert_string_equal(
                detail,
                keep(fx,
                     xasprintf(
                             "mounted: %s/root/pods/%s/volumes/kubernetes.io~empty-dir/scratch",
                             fx->dir,
                             UID_A)));
        free(detail);
        assert_string_equal(listing(fx, "root/pods/" UID_A), before);
}

static void test_bind_into_containers_refused(void **state) {
        Fx *fx = *state;
        char *detail = NULL;
        const char *before, *outside;

        make_pod(fx, UID_A);
        write_file(fx, "outside/data/precious", "precious");
        outside = listing(fx, "outside");
        mkdir_p(fx, pp(fx, UID_A, "containers/app/mnt"));
        bind_mount(fx, "outside/data", pp(fx, UID_A, "containers/app/mnt"));
        before = listing(fx, "root/pods/" UID_A);

        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, &detail), -EBUSY);
        assert_non_null(detail);
        assert_non_null(strstr(detail, "/containers/app/mnt"));
        free(detail);
        assert_string_equal(listing(fx, "root/pods/" UID_A), before);
        assert_string_equal(listing(fx, "outside"), outside);
}

/* Symlinks are unlinked, never followed, wherever they are outside volumes/. */
static void test_symlinks_outside(void **state) {
        Fx *fx = *state;
        const char *outside;

        write_file(fx, "outside/hosts", "10.0.0.1 db\n");
        write_file(fx, "outside/dir/f", "keep me");
        write_file(fx, "outside/dir/sub/g", "keep me too");
        outside = listing(fx, "outside");
        make_pod(fx, UID_A);
        make_symlink(fx, sp(fx, "outside/hosts"), pp(fx, UID_A, "etc-hosts-link"));
        make_symlink(fx, sp(fx, "outside/dir"), pp(fx, UID_A, "containers/app/link"));
        make_symlink(fx, "../../../../../outside/dir", pp(fx, UID_A, "plugins/rel/link"));
        make_symlink(fx, sp(fx, "outside/dir/f"), pp(fx, UID_A, "plugins/kubernetes.io~empty-dir/cache/f"));
        make_symlink(fx, sp(fx, "outside/dir"), pp(fx, UID_A, "volumes/kubernetes.io~empty-dir/cache/link"));
        make_symlink(fx, sp(fx, "outside"), pp(fx, UID_A, "containers-link"));

        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, NULL), 0);
        assert_false(exists(fx, "root/pods/" UID_A));
        assert_string_equal(listing(fx, "outside"), outside);
}

/* In volumes/ nothing but the two known leftovers is ever unlinked, a symlink neither. */
static void test_symlink_volume_stays(void **state) {
        Fx *fx = *state;
        char *detail = NULL;

        write_file(fx, "outside/dir/f", "keep me");
        make_symlink(fx, sp(fx, "outside/dir"), pp(fx, UID_A, "volumes/kubernetes.io~configmap/config"));
        mkdir_p(fx, pp(fx, UID_A, "volumes/kubernetes.io~secret/token"));

        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, &detail), -ENOTEMPTY);
        assert_non_null(detail);
        assert_string_equal(detail, "volumes/kubernetes.io~configmap: not empty");
        free(detail);
        assert_string_equal(
                listing(fx, "root/pods/" UID_A),
                keep(fx,
                     xasprintf(
                             "d volumes\n"
                             "d volumes/kubernetes.io~configmap\n"
                             "l volumes/kubernetes.io~configmap/config -> %s/outside/dir\n",
                             fx->dir)));
        assert_string_equal(listing(fx, "outside"), "d dir\nf dir/f keep me\n");
}

/* volume-subpaths: empty dirs and empty files (the mount points of file subpaths) go; a file with
 * data stays. */
static void test_subpath_entries(void **state) {
        Fx *fx = *state;
        char *detail = NULL;

        mkdir_p(fx, pp(fx, UID_A, "volume-subpaths/config/app/0"));
        write_file(fx, pp(fx, UID_A, "volume-subpaths/config/app/1"), "");
        write_file(fx, pp(fx, UID_A, "volume-subpaths/config/app/2"), "written while unmounted");
        write_file(fx, pp(fx, UID_A, "containers/app/3f2a91c0"), "");

        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, &detail), -ENOTEMPTY);
        assert_non_null(detail);
        assert_string_equal(detail, "volume-subpaths/config/app: not empty");
        free(detail);
        assert_string_equal(
                listing(fx, "root/pods/" UID_A),
                "d volume-subpaths\n"
                "d volume-subpaths/config\n"
                "d volume-subpaths/config/app\n"
                "f volume-subpaths/config/app/2 written while unmounted\n");
}

static void test_pod_dir_symlink_refused(void **state) {
        Fx *fx = *state;
        const char *outside;
        int r;

        write_file(fx, "outside/pod/containers/app/3f2a91c0", "");
        write_file(fx, "outside/pod/etc-hosts", "hosts");
        outside = listing(fx, "outside");
        make_symlink(fx, sp(fx, "outside/pod"), "root/pods/" UID_A);

        r = act_remove_pod_dir(fx->pods_fd, UID_A, NULL);
        if (r != -ELOOP && r != -ENOTDIR)
                fail_msg("expected -ELOOP or -ENOTDIR, got %d (%s)", r, strerror(-r));
        assert_string_equal(listing(fx, "outside"), outside);
        assert_true(exists(fx, "root/pods/" UID_A));
}

static void test_pod_dir_mount_point_refused(void **state) {
        Fx *fx = *state;
        const char *before;
        int r;

        mount_tmpfs(fx, "root/pods/" UID_A);
        make_pod(fx, UID_A);
        before = listing(fx, "root/pods/" UID_A);

        r = act_remove_pod_dir(fx->pods_fd, UID_A, NULL);
        if (r != -EXDEV && r != -EBUSY)
                fail_msg("expected -EXDEV or -EBUSY, got %d (%s)", r, strerror(-r));
        assert_string_equal(listing(fx, "root/pods/" UID_A), before);
}

static void test_bad_arguments(void **state) {
        Fx *fx = *state;

        write_file(fx, "root/pods/not-a-uid/f", "f");
        write_file(fx, "root/f", "f");
        assert_int_equal(act_remove_pod_dir(fx->pods_fd, "not-a-uid", NULL), -EINVAL);
        assert_int_equal(act_remove_pod_dir(fx->pods_fd, "..", NULL), -EINVAL);
        assert_int_equal(act_remove_pod_dir(fx->pods_fd, "", NULL), -EINVAL);
        assert_int_equal(act_remove_pod_dir(fx->pods_fd, NULL, NULL), -EINVAL);
        assert_int_equal(act_remove_pod_dir(-EBADF, UID_A, NULL), -EINVAL);
        assert_int_equal(act_remove_pod_dir(fx->pods_fd, UID_A, NULL), -ENOENT);
        assert_true(exists(fx, "root/pods/not-a-uid/f"));
        assert_true(exists(fx, "root/f"));
}

/* ---- act_run -------------------------------------------------------------------------------- */

static void make_log_dirs(Fx *fx) {
        write_file(fx, "logs/" LOG_A "/app/0.log", "2024-01-01T00:00:00Z stdout F hello\n");
        write_file(fx, "logs/" LOG_A "/app/1.log", "");
        write_file(fx, "logs/" LOG_B "/app/0.log", "live pod log");
}

static void plan_pod_a(Fx *fx) {
        plan_add(fx, ACTION_SKIP_POD, UID_B, sp(fx, "root/pods/" UID_B));
        plan_add(fx, ACTION_REMOVE_POD_DIR, UID_A, sp(fx, "root/pods/" UID_A));
        plan_add(fx, ACTION_REMOVE_LOG_DIR, UID_A, sp(fx, "logs/" LOG_A));
}

static void test_run_done(void **state) {
        Fx *fx = *state;
        ActContext c = context(fx);
        const char *neighbor;

        make_pod(fx, UID_A);
        make_pod(fx, UID_B);
        make_log_dirs(fx);
        neighbor = listing(fx, "root/pods/" UID_B);
        plan_pod_a(fx);

        assert_int_equal(act_run(&c, &fx->plan), 0);
        assert_result(&fx->plan.actions[0], RESULT_PLANNED, NULL);
        assert_result(&fx->plan.actions[1], RESULT_DONE, NULL);
        assert_result(&fx->plan.actions[2], RESULT_DONE, NULL);
        assert_int_equal(fx->rt.calls, 2);
        assert_string_equal(fx->rt.last_uid, UID_A);
        assert_false(exists(fx, "root/pods/" UID_A));
        assert_false(exists(fx, "logs/" LOG_A));
        assert_string_equal(listing(fx, "root/pods/" UID_B), neighbor);
        assert_string_equal(
                listing(fx, "logs"), "d " LOG_B "\nd " LOG_B "/app\nf " LOG_B "/app/0.log live pod log\n");
}

/* Runtime GC needs the connection: without one its actions fail, the pod-level ones still run.
 * (The steps themselves are tested against a real containerd: tests/e2e/runtime-gc.t.) */
static void test_run_runtime_gc_not_connected(void **state) {
        Fx *fx = *state;
        ActContext c = context(fx);

        make_pod(fx, UID_A);
        make_log_dirs(fx);
        plan_pod_a(fx);
        plan_add(fx, ACTION_REMOVE_CONTAINER, "", CONTAINER_ID);
        assert_null(c.cri);

        assert_int_equal(act_run(&c, &fx->plan), 1);
        assert_result(&fx->plan.actions[1], RESULT_DONE, NULL);
        assert_result(&fx->plan.actions[3], RESULT_FAILED, "not connected to the container runtime");
}

/* The daemon's SIGTERM arriving while the first action runs: its handler sets the flag. */
static volatile sig_atomic_t stop_flag;

static int fake_runtime_knows_uid_then_stop(void *userdata, const char *uid) {
        stop_flag = 1;
        return fake_runtime_knows_uid(userdata, uid);
}

static void test_run_stop(void **state) {
        Fx *fx = *state;
        ActContext c = context(fx);

        make_pod(fx, UID_A);
        make_log_dirs(fx);
        plan_pod_a(fx);
        stop_flag = 0;
        c.stop = &stop_flag;
        c.runtime_knows_uid = fake_runtime_knows_uid_then_stop;

        assert_int_equal(act_run(&c, &fx->plan), 0);
        assert_result(&fx->plan.actions[1], RESULT_DONE, NULL);    /* the current action completes */
        assert_result(&fx->plan.actions[2], RESULT_PLANNED, NULL); /* the next one never starts */
        assert_int_equal(fx->rt.calls, 1);
        assert_false(exists(fx, "root/pods/" UID_A));
        assert_true(exists(fx, "logs/" LOG_A "/app/0.log"));

        /* Set before act_run(): nothing is started at all. */
        fx->plan.actions[1].result = RESULT_PLANNED;
        c.runtime_knows_uid = fake_runtime_knows_uid;
        assert_int_equal(act_run(&c, &fx->plan), 0);
        for (size_t i = 0; i < fx->plan.n_actions; i++)
                assert_result(&fx->plan.actions[i], RESULT_PLANNED, NULL);
        assert_int_equal(fx->rt.calls, 1);
        assert_true(exists(fx, "logs/" LOG_A "/app/0.log"));
}

static void run_refused(Fx *fx, int answer, const char *error) {
        ActContext c = context(fx);
        const char *root, *logs;

        make_pod(fx, UID_A);
        make_log_dirs(fx);
        root = listing(fx, "root");
        logs = listing(fx, "logs");
        plan_pod_a(fx);
        fx->rt.answer = answer;

        assert_int_equal(act_run(&c, &fx->plan), 0);
        assert_result(&fx->plan.actions[1], RESULT_SKIPPED, error);
        assert_result(&fx->plan.actions[2], RESULT_SKIPPED, error);
        assert_int_equal(fx->rt.calls, 2);
        assert_string_equal(listing(fx, "root"), root);
        assert_string_equal(listing(fx, "logs"), logs);
}

static void test_run_runtime_knows(void **state) {
        run_refused(*state, 1, "the runtime knows this pod now");
}

static void test_run_runtime_error(void **state) {
        run_refused(
                *state,
                -ETIMEDOUT,
                keep(*state, xasprintf("runtime re-check failed: %s", strerror(ETIMEDOUT))));
}

static void test_run_dry_run(void **state) {
        Fx *fx = *state;
        ActContext c = context(fx);
        const char *root, *logs;

        make_pod(fx, UID_A);
        make_log_dirs(fx);
        root = listing(fx, "root");
        logs = listing(fx, "logs");
        plan_pod_a(fx);
        fx->o.dry_run = true;

        assert_int_equal(act_run(&c, &fx->plan), 0);
        for (size_t i = 0; i < fx->plan.n_actions; i++)
                assert_result(&fx->plan.actions[i], RESULT_PLANNED, NULL);
        assert_int_equal(fx->rt.calls, 0);
        assert_string_equal(listing(fx, "root"), root);
        assert_string_equal(listing(fx, "logs"), logs);
}

static void test_run_mounted_since_plan(void **state) {
        Fx *fx = *state;
        ActContext c = context(fx);
        const char *before;

        make_pod(fx, UID_A);
        mount_tmpfs(fx, pp(fx, UID_A, "volumes/kubernetes.io~secret/token"));
        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~secret/token/token"), "secret");
        mount_tmpfs(fx, pp(fx, UID_A, "volumes/kubernetes.io~secret/token/nested"));
        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~secret/token/nested/data"), "nested");
        before = listing(fx, "root");
        plan_add(fx, ACTION_REMOVE_POD_DIR, UID_A, sp(fx, "root/pods/" UID_A));

        assert_int_equal(act_run(&c, &fx->plan), 0);
        assert_result(
                &fx->plan.actions[0],
                RESULT_SKIPPED,
                keep(fx,
                     xasprintf(
                             "volume mounted since the plan: "
                             "%s/root/pods/%s/volumes/kubernetes.io~secret/token (and 1 more)",
                             fx->dir,
                             UID_A)));
        assert_string_equal(listing(fx, "root"), before);
}

static void test_run_failed_detail(void **state) {
        Fx *fx = *state;
        ActContext c = context(fx);

        make_pod(fx, UID_A);
        write_file(fx, pp(fx, UID_A, "volumes/kubernetes.io~nfs/data/report.csv"), "nfs data");
        plan_add(fx, ACTION_REMOVE_POD_DIR, UID_A, sp(fx, "root/pods/" UID_A));
        plan_add(fx, ACTION_REMOVE_POD_DIR, UID_B, sp(fx, "root/pods/" UID_B)); /* already gone */
        write_file(fx, "outside/pod/etc-hosts", "hosts");
        make_symlink(fx, sp(fx, "outside/pod"), "root/pods/" UID_C);
        plan_add(fx, ACTION_REMOVE_POD_DIR, UID_C, sp(fx, "root/pods/" UID_C));

        assert_int_equal(act_run(&c, &fx->plan), 2);
        assert_result(&fx->plan.actions[0], RESULT_FAILED, "volumes/kubernetes.io~nfs/data: not empty");
        assert_result(&fx->plan.actions[1], RESULT_DONE, NULL);
        assert_int_equal(fx->plan.actions[2].result, RESULT_FAILED);
        assert_non_null(fx->plan.actions[2].error);
        assert_true(
                strncmp(fx->plan.actions[2].error, "pod dir refused: ", strlen("pod dir refused: ")) == 0);
        assert_true(exists(fx, "outside/pod/etc-hosts"));
        assert_true(exists(fx, pp(fx, UID_A, "volumes/kubernetes.io~nfs/data/report.csv")));
        assert_false(exists(fx, pp(fx, UID_A, "containers")));
}

/* A log dir action whose target is not the uid's log dir under --pod-logs-dir is refused. */
static void test_run_log_dir_target_checked(void **state) {
        Fx *fx = *state;
        ActContext c = context(fx);
        const char *logs, *root;

        make_log_dirs(fx);
        write_file(fx, "root/other_" UID_A "/f", "f");
        logs = listing(fx, "logs");
        root = listing(fx, "root");
        plan_add(fx, ACTION_REMOVE_LOG_DIR, UID_A, sp(fx, "logs/" LOG_B));
        plan_add(fx, ACTION_REMOVE_LOG_DIR, UID_A, sp(fx, "root/other_" UID_A));
        plan_add(fx, ACTION_REMOVE_LOG_DIR, UID_A, sp(fx, "logs/" LOG_A "/app"));

        assert_int_equal(act_run(&c, &fx->plan), 3);
        for (size_t i = 0; i < 3; i++)
                assert_result(
                        &fx->plan.actions[i],
                        RESULT_FAILED,
                        "not a log dir of this pod under --pod-logs-dir");
        assert_int_equal(fx->rt.calls, 0);
        assert_string_equal(listing(fx, "logs"), logs);
        assert_string_equal(listing(fx, "root"), root);
}

/* An orphan with a process in its pod cgroup: destroy-cgroup kills it and removes the cgroup in
 * every hierarchy, then the pod dir and log dir go. The uid's second, empty cgroup in another QoS
 * class is not the action's target and stays; a target that is not in the snapshot fails. */
static void test_run_destroy_cgroup(void **state) {
        Fx *fx = *state;
        ActContext c;
        const char *burstable, *besteffort;
        pid_t pid;

        cg_setup(fx);
        burstable = cg_pod_rel(fx, "burstable", UID_A);
        besteffort = cg_pod_rel(fx, "besteffort", UID_A);
        pid = cg_make_pod(fx, burstable, true);
        (void) cg_make_pod(fx, besteffort, false);
        cg_enumerate(fx);
        assert_int_equal(fx->pods.n, 2);
        make_pod(fx, UID_A);
        make_log_dirs(fx);

        plan_add(fx, ACTION_DESTROY_CGROUP, UID_A, burstable);
        plan_add(fx, ACTION_DESTROY_CGROUP, UID_A, keep(fx, xasprintf("%s/pod%s", fx->kubepods, UID_A)));
        plan_add(fx, ACTION_REMOVE_POD_DIR, UID_A, sp(fx, "root/pods/" UID_A));
        plan_add(fx, ACTION_REMOVE_LOG_DIR, UID_A, sp(fx, "logs/" LOG_A));
        c = context(fx);

        assert_int_equal(act_run(&c, &fx->plan), 1);
        assert_result(&fx->plan.actions[0], RESULT_DONE, NULL);
        assert_result(&fx->plan.actions[1], RESULT_FAILED, "pod cgroup not in this pass's snapshot");
        assert_result(&fx->plan.actions[2], RESULT_DONE, NULL);
        assert_result(&fx->plan.actions[3], RESULT_DONE, NULL);
        assert_killed(fx, pid);
        assert_false(cg_exists_anywhere(fx, burstable));
        assert_true(cg_exists_everywhere(fx, besteffort));
        assert_false(exists(fx, "root/pods/" UID_A));
        assert_false(exists(fx, "logs/" LOG_A));
}

/* Rule 4: while the pod cgroup holds processes (its destroy was not planned, or failed), neither
 * its dir nor its log dir goes. */
static void test_run_populated_skips(void **state) {
        Fx *fx = *state;
        ActContext c;
        const char *root, *logs, *rel;
        pid_t pid;

        cg_setup(fx);
        rel = cg_pod_rel(fx, "besteffort", UID_A);
        pid = cg_make_pod(fx, rel, true);
        cg_enumerate(fx);
        make_pod(fx, UID_A);
        make_log_dirs(fx);
        root = listing(fx, "root");
        logs = listing(fx, "logs");
        plan_add(fx, ACTION_REMOVE_POD_DIR, UID_A, sp(fx, "root/pods/" UID_A));
        plan_add(fx, ACTION_REMOVE_LOG_DIR, UID_A, sp(fx, "logs/" LOG_A));
        c = context(fx);

        assert_int_equal(act_run(&c, &fx->plan), 0);
        assert_result(&fx->plan.actions[0], RESULT_SKIPPED, "pod cgroup still holds processes");
        assert_result(&fx->plan.actions[1], RESULT_SKIPPED, "pod cgroup still holds processes");
        assert_alive(fx, pid);
        assert_true(cg_exists_everywhere(fx, rel));
        assert_string_equal(listing(fx, "root"), root);
        assert_string_equal(listing(fx, "logs"), logs);
}

/* The runtime knows the uid again: no process is killed, nothing goes. */
static void test_run_destroy_runtime_knows(void **state) {
        Fx *fx = *state;
        ActContext c;
        const char *rel;
        pid_t pid;

        cg_setup(fx);
        rel = cg_pod_rel(fx, "burstable", UID_A);
        pid = cg_make_pod(fx, rel, true);
        cg_enumerate(fx);
        make_pod(fx, UID_A);
        plan_add(fx, ACTION_DESTROY_CGROUP, UID_A, rel);
        plan_add(fx, ACTION_REMOVE_POD_DIR, UID_A, sp(fx, "root/pods/" UID_A));
        fx->rt.answer = 1;
        c = context(fx);

        assert_int_equal(act_run(&c, &fx->plan), 0);
        assert_result(&fx->plan.actions[0], RESULT_SKIPPED, "the runtime knows this pod now");
        assert_result(&fx->plan.actions[1], RESULT_SKIPPED, "the runtime knows this pod now");
        assert_alive(fx, pid);
        assert_true(cg_exists_everywhere(fx, rel));
        assert_true(exists(fx, "root/pods/" UID_A));
}

/* A volume mounted beneath the pod dir since the plan: as the kubelet, the pod keeps its cgroup
 * and its processes. */
static void test_run_destroy_mounted(void **state) {
        Fx *fx = *state;
        ActContext c;
        const char *rel;
        pid_t pid;

        cg_setup(fx);
        rel = cg_pod_rel(fx, "burstable", UID_A);
        pid = cg_make_pod(fx, rel, true);
        cg_enumerate(fx);
        make_pod(fx, UID_A);
        mount_tmpfs(fx, pp(fx, UID_A, "volumes/kubernetes.io~secret/token"));
        plan_add(fx, ACTION_DESTROY_CGROUP, UID_A, rel);
        c = context(fx);

        assert_int_equal(act_run(&c, &fx->plan), 0);
        assert_result(
                &fx->plan.actions[0],
                RESULT_SKIPPED,
                keep(fx,
                     xasprintf(
                             "volume mounted since the plan: "
                             "%s/root/pods/%s/volumes/kubernetes.io~secret/token",
                             fx->dir,
                             UID_A)));
        assert_alive(fx, pid);
        assert_true(cg_exists_everywhere(fx, rel));
}

/* A pod that must wait for its volumes gets the least CPU (cpu.weight 1 on v2, cpu.shares 2 on
 * v1), and keeps its processes. */
static void test_run_reduce_cpu(void **state) {
        Fx *fx = *state;
        ActContext c;
        const char *rel, *path;
        bool v2_cpu[32] = {};
        size_t n_checked = 0;
        pid_t pid;

        cg_setup(fx);
        rel = cg_pod_rel(fx, "burstable", UID_A);
        pid = cg_make_pod(fx, rel, true);
        /* cgroup2 as a kubelet leaves it: cpu enabled down to the pod where the root offers it. */
        assert_true(fx->h.n <= ELEMENTSOF(v2_cpu));
        assert_int_equal(cg2_enable_cpu_to(&fx->h, rel, v2_cpu), 0);
        cg_enumerate(fx);
        plan_add(fx, ACTION_REDUCE_CGROUP_CPU, UID_A, rel);
        c = context(fx);

        assert_int_equal(act_run(&c, &fx->plan), 0);
        assert_result(&fx->plan.actions[0], RESULT_DONE, NULL);
        assert_int_equal(fx->rt.calls, 1);
        for (size_t i = 0; i < fx->h.n; i++) {
                const CgfsHierarchy *x = &fx->h.items[i];
                const char *file = x->v2                             ? "cpu.weight"
                                   : list_has(x->controllers, "cpu") ? "cpu.shares"
                                                                     : NULL;
                char *value;

                if (!file)
                        continue;
                path = keep(fx, xasprintf("%s/%s/%s", x->path, rel, file));
                value = read_str(path);
                if (!value) {
                        /* cgroup2 without the cpu controller (hybrid: it is v1's); where it is
                         * enabled, the file must be there. */
                        if (!x->v2 || v2_cpu[i])
                                fail_msg("%s missing", path);
                        continue;
                }
                keep(fx, value);
                assert_string_equal(value, x->v2 ? "1\n" : "2\n");
                n_checked++;
        }
        if (n_checked == 0)
                print_message("# no cpu controller to check\n");
        assert_alive(fx, pid);
        assert_true(cg_exists_everywhere(fx, rel));
}

/* ---- main ----------------------------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

static const struct {
        struct CMUnitTest test;
        bool cgroups; /* in one configuration only */
} all_tests[] = {
        {T(test_full_pod_dir), false},
        {T(test_other_plugin_leftover_stays), false},
        {T(test_csi_not_the_leftover), false},
        {T(test_tmpfs_emptydir_refused), false},
        {T(test_bind_into_containers_refused), false},
        {T(test_symlinks_outside), false},
        {T(test_symlink_volume_stays), false},
        {T(test_subpath_entries), false},
        {T(test_pod_dir_symlink_refused), false},
        {T(test_pod_dir_mount_point_refused), false},
        {T(test_bad_arguments), false},
        {T(test_run_done), false},
        {T(test_run_runtime_gc_not_connected), false},
        {T(test_run_stop), false},
        {T(test_run_runtime_knows), false},
        {T(test_run_runtime_error), false},
        {T(test_run_dry_run), false},
        {T(test_run_mounted_since_plan), false},
        {T(test_run_failed_detail), false},
        {T(test_run_log_dir_target_checked), false},
        {T(test_run_destroy_cgroup), true},
        {T(test_run_populated_skips), true},
        {T(test_run_destroy_runtime_knows), true},
        {T(test_run_destroy_mounted), true},
        {T(test_run_reduce_cpu), true},
};

/* What a container runtime's seccomp profile does to openat2() on older runtimes (EPERM), so
 * that act.c and mountutil take their O_NOFOLLOW + mount-id fallback. */
static int block_openat2(void) {
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = ELEMENTSOF(filter), .filter = filter};
        struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC};

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return -errno;
        if (syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how)) >= 0 || errno != EPERM)
                return -ENOTRECOVERABLE;
        return 0;
}

static int run_config(const Config *c) {
        struct CMUnitTest tests[ELEMENTSOF(all_tests)];
        size_t n = 0;

        config = c;
        for (size_t j = 0; j < ELEMENTSOF(all_tests); j++)
                if (!all_tests[j].cgroups || c->cgroups)
                        tests[n++] = all_tests[j].test;
        return _cmocka_run_group_tests(c->name, tests, n, group_setup, group_teardown);
}

static int run_config_in_child(const Config *c) {
        int status = 0, r;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                r = block_openat2();
                if (r < 0) {
                        fprintf(stderr, "test-act: cannot block openat2(): %s\n", strerror(-r));
                        _exit(1);
                }
                r = run_config(c);
                fflush(NULL);
                _exit(r == 0 ? 0 : 1);
        }
        if (waitpid(pid, &status, 0) != pid)
                return 1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(void) {
        int failed = 0;

        if (geteuid() != 0) {
                fprintf(stderr, "test-act: needs root (mount namespace, tmpfs, bind mounts, cgroups)\n");
                return 77;
        }
        /* Orphans of what the tests start come back to us, to be reaped, not to init. */
        (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "test-act: cannot set up a private mount namespace: %m\n");
                return 1;
        }

        for (size_t i = 0; i < ELEMENTSOF(configs); i++)
                failed += configs[i].no_openat2 ? run_config_in_child(&configs[i]) : run_config(&configs[i]);
        return failed == 0 ? 0 : 1;
}
