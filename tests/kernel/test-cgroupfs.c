/* SPDX-License-Identifier: MIT */
/* Kernel tests for cgroupfs: cgfs_pod_destroy(), cgfs_pod_reduce_cpu(), cgfs_pod_is_populated()
 * and the enumeration they rely on, on real cgroups with real processes.
 *
 * Every test builds its pod cgroups under a kubepods name of its own ("kptest<pid>n<k>", no dash so
 * that systemd slice names stay valid) in every hierarchy of the machine, or of a root it mounts
 * itself (pure cgroup2; v1-only), puts forked processes into them and asserts on the kernel's
 * state afterwards: directories gone in every hierarchy, pids gone, the live pod's pids alive.
 *
 * The teardown runs also when a test fails: it kills what the test started (its own children by
 * pidfd; what they forked only where it sits in the test's own cgroups) and removes the test's
 * subtree bottom-up, then unmounts the test's mounts. Children die with the test
 * (PR_SET_PDEATHSIG); the forking loop ends by itself once its reaper is gone, the fork bomb
 * (bounded by pids.max) after 20 s. The test is a subreaper, so orphans come back to it to be
 * reaped. Runs in a private mount namespace, so a mount left behind dies with the process. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "tests/lib/cgroup-files.h"
#include "util/macro.h"

#define DESTROY_TIMEOUT_USEC (5ULL * 1000 * 1000)
#define MAX_PROCS 64
#define MAX_MOUNTS 8
#define FORKING_LOOP_LIFETIME_USEC (60ULL * 1000 * 1000) /* the loop's own limit, should all else fail */

static unsigned test_counter;

/* ---- helpers ---------------------------------------------------------------------------------- */

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
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

static bool exists(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0;
}

/* The pids in cgroup.procs of `dir` and every cgroup beneath it. */
static size_t tree_pids(const char *dir, pid_t *out, size_t n, size_t max) {
        char *procs_path = xasprintf("%s/cgroup.procs", dir);
        char *procs = read_str(procs_path);
        DIR *d;

        free(procs_path);
        for (char *line = procs, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                long pid = strtol(line, NULL, 10);
                if (n < max && pid > 0)
                        out[n++] = (pid_t) pid;
        }
        free(procs);
        d = opendir(dir);
        if (!d)
                return n;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                char *sub = xasprintf("%s/%s", dir, de->d_name);
                n = tree_pids(sub, out, n, max);
                free(sub);
        }
        closedir(d);
        return n;
}

/* Removes a cgroup tree bottom-up; cgroup files need no unlinking. */
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
        for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
                sleep_msec(10);
}

/* ---- fixture ---------------------------------------------------------------------------------- */

typedef struct Proc {
        pid_t pid; /* 0 once reaped */
        int pidfd;
} Proc;

typedef struct Fx {
        char kubepods[64];
        CgfsHierarchies h;       /* what the test works on: the machine's, or its own root's */
        CgfsHierarchies machine; /* the machine's, for the teardown */
        bool v1_only_pods;       /* pods go into the v1 hierarchies only, not into cgroup2 */
        char *tmp_root;          /* the test's own cgroup root, or NULL for /sys/fs/cgroup */
        char *mounts[MAX_MOUNTS];
        size_t n_mounts;
        Proc procs[MAX_PROCS];
        size_t n_procs;
        CgfsPods pods;
        char **strings; /* freed in teardown, so helpers can hand out paths */
        size_t n_strings;
} Fx;

static char *keep(Fx *fx, char *p) {
        assert_non_null(p);
        char **n = realloc(fx->strings, (fx->n_strings + 1) * sizeof(char *));
        assert_non_null(n);
        fx->strings = n;
        fx->strings[fx->n_strings++] = p;
        return p;
}

static int fx_setup(void **state) {
        Fx *fx = calloc(1, sizeof(Fx));

        assert_non_null(fx);
        snprintf(fx->kubepods, sizeof(fx->kubepods), "kptest%dn%u", (int) getpid(), ++test_counter);
        assert_int_equal(cgfs_hierarchies_find(NULL, "/sys/fs/cgroup", &fx->h), 0);
        assert_int_equal(cgfs_hierarchies_find(NULL, "/sys/fs/cgroup", &fx->machine), 0);
        *state = fx;
        return 0;
}

static bool in_scope(const Fx *fx, size_t i) {
        return !(fx->v1_only_pods && fx->h.items[i].v2);
}

static size_t n_in_scope(const Fx *fx) {
        size_t n = 0;
        for (size_t i = 0; i < fx->h.n; i++)
                n += in_scope(fx, i);
        return n;
}

static const char *hpath(Fx *fx, size_t i, const char *rel) {
        return keep(fx, xasprintf("%s/%s", fx->h.items[i].path, rel));
}

static const CgfsHierarchy *v2_hierarchy(const Fx *fx) {
        for (size_t i = 0; i < fx->h.n; i++)
                if (fx->h.items[i].v2)
                        return &fx->h.items[i];
        return NULL;
}

static bool has_v1(const Fx *fx) {
        for (size_t i = 0; i < fx->h.n; i++)
                if (!fx->h.items[i].v2)
                        return true;
        return false;
}

/* Kills whatever sits in the test's own cgroups (only processes the test started get there):
 * cgroup.kill where there is one, else freeze, SIGKILL each pid found that is still in one of
 * the test's cgroups, thaw. */
static const char *hier_path(Fx *fx, const CgfsHierarchy *x, const char *rel) {
        return keep(fx, xasprintf("%s/%s", x->path, rel));
}

static void kill_own_cgroups(Fx *fx, const CgfsHierarchies *h) {
        const char *tops[] = {fx->kubepods, keep(fx, xasprintf("%s.slice", fx->kubepods))};

        for (int round = 0; round < 200; round++) {
                pid_t pids[4096];
                size_t n = 0;

                for (size_t i = 0; i < h->n; i++)
                        for (size_t t = 0; t < ELEMENTSOF(tops); t++) {
                                const char *top = hier_path(fx, &h->items[i], tops[t]);
                                if (!exists(top))
                                        continue;
                                if (h->items[i].v2)
                                        (void) write_str(keep(fx, xasprintf("%s/cgroup.kill", top)), "1");
                                else if (list_has(h->items[i].controllers, "freezer"))
                                        (void) write_str(
                                                keep(fx, xasprintf("%s/freezer.state", top)), "FROZEN");
                                n = tree_pids(top, pids, n, ELEMENTSOF(pids));
                        }
                for (size_t k = 0; k < n; k++) {
                        char proc[64];
                        int pidfd = sys_pidfd_open(pids[k]);
                        if (pidfd < 0)
                                continue;
                        snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int) pids[k]);
                        char *cg = read_str(proc);
                        if (cg && strstr(cg, fx->kubepods))
                                (void) sys_pidfd_send_signal(pidfd, SIGKILL);
                        free(cg);
                        close(pidfd);
                }
                for (size_t i = 0; i < h->n; i++)
                        for (size_t t = 0; t < ELEMENTSOF(tops); t++)
                                if (!h->items[i].v2 && list_has(h->items[i].controllers, "freezer") &&
                                    exists(hier_path(fx, &h->items[i], tops[t])))
                                        (void) write_str(
                                                keep(fx,
                                                     xasprintf(
                                                             "%s/freezer.state",
                                                             hier_path(fx, &h->items[i], tops[t]))),
                                                "THAWED");
                if (n == 0)
                        break;
                sleep_msec(10);
        }
}

static int fx_teardown(void **state) {
        Fx *fx = *state;

        kill_own_cgroups(fx, &fx->h);
        kill_own_cgroups(fx, &fx->machine);
        for (size_t i = 0; i < fx->n_procs; i++) {
                Proc *p = &fx->procs[i];
                if (p->pid > 0) {
                        (void) sys_pidfd_send_signal(p->pidfd, SIGKILL);
                        (void) waitpid(p->pid, NULL, 0);
                }
                if (p->pidfd >= 0)
                        close(p->pidfd);
        }
        /* Orphans that came to us (the test is a subreaper), e.g. a forking process's last child. */
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        for (const CgfsHierarchies *h = &fx->h;; h = &fx->machine) {
                for (size_t i = 0; i < h->n; i++) {
                        rm_cgroup_tree(hier_path(fx, &h->items[i], fx->kubepods));
                        rm_cgroup_tree(
                                hier_path(fx, &h->items[i], keep(fx, xasprintf("%s.slice", fx->kubepods))));
                }
                if (h == &fx->machine)
                        break;
        }
        for (size_t i = fx->n_mounts; i-- > 0;) {
                (void) umount2(fx->mounts[i], MNT_DETACH);
                free(fx->mounts[i]);
        }
        if (fx->tmp_root) {
                (void) rmdir(fx->tmp_root);
                free(fx->tmp_root);
        }
        cgfs_pods_done(&fx->pods);
        cgfs_hierarchies_done(&fx->h);
        cgfs_hierarchies_done(&fx->machine);
        for (size_t i = 0; i < fx->n_strings; i++)
                free(fx->strings[i]);
        free(fx->strings);
        free(fx);
        return 0;
}

/* A root of the test's own, as a mkdtemp dir; `fstype` mounted on it when given. */
static void fx_make_root(Fx *fx, const char *fstype, const char *options) {
        char tmpl[] = "/tmp/podreaper-test-cgroupfs.XXXXXX";

        assert_non_null(mkdtemp(tmpl));
        fx->tmp_root = strdup(tmpl);
        assert_non_null(fx->tmp_root);
        if (fstype) {
                if (mount(fstype, fx->tmp_root, fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC, options) < 0)
                        fail_msg("mount %s at %s: %s", fstype, fx->tmp_root, strerror(errno));
                fx->mounts[fx->n_mounts++] = strdup(fx->tmp_root);
        }
}

/* Mounts a v1 hierarchy beneath the test's root; false if the kernel refuses. */
static bool fx_mount_v1(Fx *fx, const char *name, const char *options) {
        char *p = xasprintf("%s/%s", fx->tmp_root, name);

        assert_int_equal(mkdir(p, 0755), 0);
        if (mount("cgroup", p, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, options) < 0) {
                print_message("# mount -t cgroup -o %s: %s\n", options, strerror(errno));
                free(p);
                return false;
        }
        assert_true(fx->n_mounts < MAX_MOUNTS);
        fx->mounts[fx->n_mounts++] = p;
        return true;
}

/* From now on the test works on the hierarchies beneath its own root (the same kernel
 * hierarchies as the machine's, mounted once more). */
static void fx_use_own_root(Fx *fx) {
        cgfs_hierarchies_done(&fx->h);
        assert_int_equal(cgfs_hierarchies_find(NULL, fx->tmp_root, &fx->h), 0);
}

/* ---- processes -------------------------------------------------------------------------------- */

static Proc *track(Fx *fx, pid_t pid) {
        assert_true(fx->n_procs < MAX_PROCS);
        Proc *p = &fx->procs[fx->n_procs++];
        p->pid = pid;
        p->pidfd = sys_pidfd_open(pid);
        assert_true(p->pidfd >= 0);
        return p;
}

static Proc *find_proc(Fx *fx, pid_t pid) {
        for (size_t i = 0; i < fx->n_procs; i++)
                if (fx->procs[i].pid == pid)
                        return &fx->procs[i];
        fail_msg("pid %d is not one of the test's", (int) pid);
        return NULL;
}

static pid_t spawn_sleeper(Fx *fx) {
        pid_t parent = getpid(), pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(0);
                for (;;)
                        pause();
        }
        track(fx, pid);
        return pid;
}

/* Forks and waits for the child, over and over: a stable pid with ever new children. */
static pid_t spawn_spawner(Fx *fx) {
        pid_t parent = getpid(), pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(0);
                for (uint64_t until = now_usec() + FORKING_LOOP_LIFETIME_USEC; now_usec() < until;) {
                        pid_t c = fork();
                        if (c == 0)
                                _exit(0);
                        if (c > 0)
                                (void) waitpid(c, NULL, 0);
                }
                _exit(0);
        }
        track(fx, pid);
        return pid;
}

/* Every process forks without end, as many as the pod's pids.max lets live: each one killed is
 * replaced at once by the others. Only a complete snapshot of the pids (a frozen cgroup, or
 * cgroup.kill) ends it. Kept on a short leash should the teardown never come. */
#define FORK_BOMB_PIDS_MAX "48"
#define FORK_BOMB_LIFETIME_USEC (20ULL * 1000 * 1000)

static void cg_move(Fx *fx, const char *rel, pid_t pid);

static pid_t spawn_fork_bomb(Fx *fx, const char *rel) {
        pid_t parent = getpid(), pid;
        int go[2];

        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char ch;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent || read(go[0], &ch, 1) != 1)
                        _exit(0);
                for (uint64_t until = now_usec() + FORK_BOMB_LIFETIME_USEC;;) {
                        if (now_usec() > until)
                                _exit(0);
                        if (fork() < 0)
                                sleep_msec(1);
                }
        }
        track(fx, pid);
        close(go[0]);
        cg_move(fx, rel, pid);
        assert_int_equal(write(go[1], "x", 1), 1);
        close(go[1]);
        return pid;
}

/* Each generation forks the next and exits at once, so the loop's pid changes all the time: the
 * case that defeats killing by pid alone. Its orphans go to `reaper`; a reaper gone (the test
 * died) or the time limit ends the loop. */
static _Noreturn void forking_loop(pid_t reaper, uint64_t until) {
        for (;;) {
                pid_t self = getpid(), c = fork();

                if (c > 0)
                        _exit(0);
                if (c < 0) {
                        sleep_msec(1);
                        continue;
                }
                pid_t pp = getppid();
                if ((pp != self && pp != reaper) || now_usec() > until)
                        _exit(0);
        }
}

/* Starts a forking loop whose first generation is moved into `rel` before it starts; returns its
 * reaper (a subreaper that stays outside the pod). */
static pid_t spawn_forking_loop(Fx *fx, const char *rel) {
        pid_t test = getpid(), reaper, first;
        int go[2], report[2];

        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        assert_int_equal(pipe2(report, O_CLOEXEC), 0);
        reaper = fork();
        assert_true(reaper >= 0);
        if (reaper == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != test)
                        _exit(0);
                (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
                pid_t self = getpid(), c = fork();
                if (c == 0) {
                        char ch;
                        if (read(go[0], &ch, 1) != 1)
                                _exit(0);
                        forking_loop(self, now_usec() + FORKING_LOOP_LIFETIME_USEC);
                }
                if (write(report[1], &c, sizeof(c)) != (ssize_t) sizeof(c))
                        _exit(1);
                for (;;)
                        if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
                                pause();
        }
        track(fx, reaper);
        close(go[0]);
        close(report[1]);
        assert_int_equal(read(report[0], &first, sizeof(first)), (ssize_t) sizeof(first));
        close(report[0]);
        assert_true(first > 0);
        cg_move(fx, rel, first);
        assert_int_equal(write(go[1], "x", 1), 1);
        close(go[1]);
        return reaper;
}

/* Killed, by SIGKILL: exited (a zombie of ours) within a short while, reaped, and its pid no
 * longer there. */
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
        assert_int_equal(kill(pid, 0), -1);
        assert_int_equal(errno, ESRCH);
}

static void assert_alive(Fx *fx, pid_t pid) {
        (void) find_proc(fx, pid);
        if (waitpid(pid, NULL, WNOHANG) != 0)
                fail_msg("pid %d has exited", (int) pid);
        assert_int_equal(kill(pid, 0), 0);
}

/* ---- cgroups ---------------------------------------------------------------------------------- */

static void cg_mkdir(Fx *fx, const char *rel) {
        for (size_t i = 0; i < fx->h.n; i++) {
                const CgfsHierarchy *x = &fx->h.items[i];
                bool cpuset = !x->v2 && list_has(x->controllers, "cpuset");
                char *p;

                if (!in_scope(fx, i))
                        continue;
                p = keep(fx, xasprintf("%s/%s", x->path, rel));
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
                if (!in_scope(fx, i))
                        continue;
                const char *procs = keep(fx, xasprintf("%s/%s/cgroup.procs", fx->h.items[i].path, rel));
                int r = write_str(procs, value);
                if (r < 0)
                        fail_msg("move %d into %s: %s", (int) pid, procs, strerror(-r));
        }
}

/* Gone in every hierarchy the test works on, and in the machine's. */
static void assert_gone_everywhere(Fx *fx, const char *rel) {
        for (size_t i = 0; i < fx->h.n; i++)
                if (exists(hpath(fx, i, rel)))
                        fail_msg("%s is still there", hpath(fx, i, rel));
        for (size_t i = 0; i < fx->machine.n; i++)
                if (exists(hier_path(fx, &fx->machine.items[i], rel)))
                        fail_msg("%s is still there", hier_path(fx, &fx->machine.items[i], rel));
}

static void assert_exists_in_scope(Fx *fx, const char *rel) {
        for (size_t i = 0; i < fx->h.n; i++)
                if (in_scope(fx, i) && !exists(hpath(fx, i, rel)))
                        fail_msg("%s is gone", hpath(fx, i, rel));
}

/* ---- pods ------------------------------------------------------------------------------------- */

typedef struct TestPod {
        char uid[CGFS_UID_MAX + 1];
        CgfsQos qos;
        const char *rel;         /* the pod cgroup, relative to each hierarchy */
        const char *children[2]; /* sandbox, container */
        pid_t pids[8];
        size_t n_pids;
} TestPod;

/* The layout written out here, independently of cgfs_pod_path(). */
static const char *pod_rel(Fx *fx, CgfsDriver driver, CgfsQos qos, const char *uid) {
        static const char *const qos_dirs[] = {NULL, "burstable", "besteffort"};
        const char *kp = fx->kubepods;

        if (driver == CGFS_DRIVER_CGROUPFS)
                return qos == CGFS_QOS_GUARANTEED
                               ? keep(fx, xasprintf("%s/pod%s", kp, uid))
                               : keep(fx, xasprintf("%s/%s/pod%s", kp, qos_dirs[qos], uid));

        char uid_[CGFS_UID_MAX + 1];
        for (size_t i = 0;; i++) {
                uid_[i] = uid[i] == '-' ? '_' : uid[i];
                if (!uid[i])
                        break;
        }
        if (qos == CGFS_QOS_GUARANTEED)
                return keep(fx, xasprintf("%s.slice/%s-pod%s.slice", kp, kp, uid_));
        return keep(
                fx,
                xasprintf(
                        "%s.slice/%s-%s.slice/%s-%s-pod%s.slice",
                        kp,
                        kp,
                        qos_dirs[qos],
                        kp,
                        qos_dirs[qos],
                        uid_));
}

static const char *container_id(Fx *fx, unsigned k) {
        return keep(fx, xasprintf("%08x%056x", test_counter, k));
}

/* A pod cgroup with a sandbox and a container child in every hierarchy in scope, and `n_procs`
 * sleeping processes: the first in the sandbox, the others in the container. */
static TestPod *new_pod(Fx *fx, CgfsDriver driver, CgfsQos qos, unsigned k, size_t n_procs) {
        TestPod *pod = (TestPod *) keep(fx, calloc(1, sizeof(TestPod)));

        snprintf(pod->uid, sizeof(pod->uid), "%08x-%04x-4abc-8def-%012x", test_counter, k, 0x5eed00u + k);
        pod->qos = qos;
        pod->rel = pod_rel(fx, driver, qos, pod->uid);
        for (unsigned c = 0; c < 2; c++) {
                const char *id = container_id(fx, k * 2 + c);
                pod->children[c] = driver == CGFS_DRIVER_SYSTEMD
                                           ? keep(fx, xasprintf("%s/cri-containerd-%s.scope", pod->rel, id))
                                           : keep(fx, xasprintf("%s/%s", pod->rel, id));
                cg_mkdir(fx, pod->children[c]);
        }
        assert_true(n_procs <= ELEMENTSOF(pod->pids));
        for (size_t i = 0; i < n_procs; i++) {
                pid_t pid = spawn_sleeper(fx);
                cg_move(fx, pod->children[i == 0 ? 0 : 1], pid);
                pod->pids[pod->n_pids++] = pid;
        }
        return pod;
}

static const CgfsPod *enumerate_find(Fx *fx, CgfsDriver driver, const TestPod *want) {
        const CgfsPod *pod;

        cgfs_pods_done(&fx->pods);
        assert_int_equal(cgfs_pods_enumerate(&fx->h, fx->kubepods, driver, &fx->pods), 0);
        pod = cgfs_pods_find(&fx->pods, want->uid);
        if (!pod)
                fail_msg("pod %s not enumerated (%zu pods found)", want->uid, fx->pods.n);
        assert_int_equal(pod->qos, want->qos);
        for (size_t i = 0; i < fx->h.n; i++) {
                if (in_scope(fx, i)) {
                        assert_non_null(pod->paths[i]);
                        assert_string_equal(pod->paths[i], want->rel);
                } else
                        assert_null(pod->paths[i]);
        }
        return pod;
}

static CgfsDestroyStats destroy_ok(Fx *fx, const CgfsPod *pod, CgfsDriver driver) {
        CgfsDestroyStats stats = {};
        int r = cgfs_pod_destroy(&fx->h, pod, driver, DESTROY_TIMEOUT_USEC, &stats);

        if (r < 0)
                fail_msg("cgfs_pod_destroy(%s): %s", pod->uid, strerror(-r));
        return stats;
}

static void assert_pod_destroyed(Fx *fx, const TestPod *pod) {
        for (size_t i = 0; i < pod->n_pids; i++)
                assert_killed(fx, pod->pids[i]);
        assert_gone_everywhere(fx, pod->rel);
}

static void assert_pod_alive(Fx *fx, const TestPod *pod) {
        assert_exists_in_scope(fx, pod->children[0]);
        assert_exists_in_scope(fx, pod->children[1]);
        for (size_t i = 0; i < pod->n_pids; i++)
                assert_alive(fx, pod->pids[i]);
}

static bool v2_has_kill_file(Fx *fx) {
        const CgfsHierarchy *v2 = v2_hierarchy(fx);
        return v2 && exists(keep(fx, xasprintf("%s/%s/cgroup.kill", v2->path, fx->kubepods)));
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_empty_orphan(void **state) {
        Fx *fx = *state;
        TestPod *pod = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 0);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, pod);
        CgfsDestroyStats stats;

        assert_false(p->populated);
        assert_non_null(p->children);
        assert_non_null(p->children[0]);
        assert_non_null(p->children[1]);
        assert_null(p->children[2]);
        assert_int_equal(cgfs_pod_is_populated(&fx->h, p), 0);

        stats = destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);
        assert_int_equal(stats.n_killed, 0);
        assert_int_equal(stats.n_removed, 3 * n_in_scope(fx));
        assert_false(stats.used_systemd);
        assert_gone_everywhere(fx, pod->rel);
        assert_exists_in_scope(fx, keep(fx, xasprintf("%s/burstable", fx->kubepods)));

        /* Gone already: success, nothing removed. */
        assert_int_equal(cgfs_pod_destroy(&fx->h, p, CGFS_DRIVER_CGROUPFS, DESTROY_TIMEOUT_USEC, &stats), 0);
        assert_int_equal(stats.n_removed, 0);
        assert_int_equal(stats.n_killed, 0);
        assert_int_equal(cgfs_pod_is_populated(&fx->h, p), 0);
}

static void test_orphan_with_processes(void **state) {
        Fx *fx = *state;
        TestPod *pod = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 3);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, pod);
        bool kill_file = v2_has_kill_file(fx);
        CgfsDestroyStats stats;

        assert_true(p->populated);
        assert_int_equal(cgfs_pod_is_populated(&fx->h, p), 1);

        stats = destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);
        assert_int_equal(stats.n_killed, 3);
        assert_int_equal(stats.n_removed, 3 * n_in_scope(fx));
        assert_int_equal(stats.used_kill_file, kill_file);
        assert_false(stats.used_systemd);
        assert_pod_destroyed(fx, pod);
        assert_int_equal(cgfs_pod_is_populated(&fx->h, p), 0);
}

/* The set of pids beneath `rel` in the first hierarchy in scope, as text. */
static char *pids_text(Fx *fx, const char *rel) {
        pid_t pids[256];
        size_t n = 0;
        char *text = NULL;
        size_t size = 0;
        FILE *m;

        for (size_t i = 0; i < fx->h.n && n == 0; i++)
                if (in_scope(fx, i))
                        n = tree_pids(hpath(fx, i, rel), pids, 0, ELEMENTSOF(pids));
        m = open_memstream(&text, &size);
        assert_non_null(m);
        for (size_t i = 0; i < n; i++)
                fprintf(m, "%d ", (int) pids[i]);
        fclose(m);
        return text;
}

static size_t reaper_children(pid_t reaper) {
        char path[64];
        char *children;
        size_t n = 0;

        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) reaper, (int) reaper);
        children = read_str(path);
        if (!children)
                return 0; /* no CONFIG_PROC_CHILDREN: the cgroup checks have to do */
        for (char *c = children; *c; c++)
                n += *c == ' ';
        free(children);
        return n;
}

/* The forking loop (and a process forking and reaping without end) in a pod: destroyed
 * completely, while the loop's reaper outside the pod lives on. */
static void forking_loop_scenario(Fx *fx, unsigned k) {
        CgfsDriver driver = CGFS_DRIVER_CGROUPFS;
        TestPod *pod = new_pod(fx, driver, CGFS_QOS_GUARANTEED, k, 1);
        bool kill_file = !fx->v1_only_pods && v2_has_kill_file(fx);
        pid_t reaper = spawn_forking_loop(fx, pod->children[1]);
        pid_t spawner = spawn_spawner(fx), bomb = 0;
        cg_move(fx, pod->children[1], spawner);

        /* Without cgroup.kill, and where pids.max can bound it: a fork bomb too. */
        const CgfsHierarchy *pids = cgfs_hierarchies_get(&fx->h, "pids");
        if (!kill_file && pids) {
                const char *max = keep(fx, xasprintf("%s/%s/pids.max", pids->path, pod->children[0]));
                assert_int_equal(write_str(max, FORK_BOMB_PIDS_MAX), 0);
                bomb = spawn_fork_bomb(fx, pod->children[0]);
        }

        /* It forks for real: the pids in the container change from one look to the next (give a
         * loaded machine up to 5 s to schedule the loop). */
        sleep_msec(20);
        char *before = pids_text(fx, pod->children[1]), *after = NULL;
        for (int i = 0; i < 500; i++) {
                free(after);
                sleep_msec(10);
                after = pids_text(fx, pod->children[1]);
                if (strcmp(before, after) != 0)
                        break;
        }
        assert_true(before[0] && after[0]);
        assert_string_not_equal(before, after);
        free(before);
        free(after);

        if (bomb > 0) {
                char *current =
                        read_str(keep(fx, xasprintf("%s/%s/pids.current", pids->path, pod->children[0])));
                assert_non_null(current);
                print_message(
                        "# fork bomb at %s of " FORK_BOMB_PIDS_MAX " processes\n", strtok(current, "\n"));
                free(current);
        }
        const CgfsPod *p = enumerate_find(fx, driver, pod);
        CgfsDestroyStats stats = destroy_ok(fx, p, driver);
        print_message("# forking loop destroyed: %u processes signalled\n", stats.n_killed);
        assert_int_equal(stats.used_kill_file, kill_file);
        assert_true(stats.n_killed >= 3); /* the sleeper, the spawner, a loop generation at least */
        assert_int_equal(stats.n_removed, 3 * n_in_scope(fx));
        assert_gone_everywhere(fx, pod->rel); /* a surviving generation would keep its cgroup busy */
        assert_pod_destroyed(fx, pod);
        assert_killed(fx, spawner);
        if (bomb > 0)
                assert_killed(fx, bomb);
        assert_alive(fx, reaper);
        for (int i = 0; i < 200 && reaper_children(reaper) > 0; i++)
                sleep_msec(10);
        assert_int_equal(reaper_children(reaper), 0);
}

static void test_forking_loop(void **state) {
        Fx *fx = *state;
        forking_loop_scenario(fx, 1);
}

static void test_live_pod_survives(void **state) {
        Fx *fx = *state;
        TestPod *orphan = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 3);
        TestPod *live = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BESTEFFORT, 2, 2);
        TestPod *live_guaranteed = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_GUARANTEED, 3, 1);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, orphan);
        const CgfsPod *lp;

        assert_int_equal(fx->pods.n, 3);
        destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);
        assert_pod_destroyed(fx, orphan);
        assert_pod_alive(fx, live);
        assert_pod_alive(fx, live_guaranteed);

        lp = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, live);
        assert_int_equal(fx->pods.n, 2);
        assert_true(lp->populated);
        assert_int_equal(cgfs_pod_is_populated(&fx->h, lp), 1);
}

static void test_stray_dirs_ignored(void **state) {
        Fx *fx = *state;
        const char *kp = fx->kubepods;
        const char *strays[] = {
                keep(fx, xasprintf("%s/burstable/podnot-a-uid", kp)),
                keep(fx, xasprintf("%s/foo", kp)),
                keep(fx, xasprintf("%s/besteffort/pod", kp)),
                keep(fx, xasprintf("%s/burstable/pod01234567-89AB-4abc-8def-0123456789ab", kp)),
                keep(fx, xasprintf("%s/podnot-a-uid/%s", kp, container_id(fx, 99))),
        };
        for (size_t i = 0; i < ELEMENTSOF(strays); i++)
                cg_mkdir(fx, strays[i]);
        TestPod *pod = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 1);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, pod);

        assert_int_equal(fx->pods.n, 1);
        destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);
        assert_pod_destroyed(fx, pod);
        for (size_t i = 0; i < ELEMENTSOF(strays); i++)
                assert_exists_in_scope(fx, strays[i]);
}

/* The systemd driver's names on this machine; whether systemd answers or not, the direct path
 * removes what is left. Where no systemd runs, that fallback is quick. */
static void test_systemd_naming(void **state) {
        Fx *fx = *state;
        TestPod *burstable = new_pod(fx, CGFS_DRIVER_SYSTEMD, CGFS_QOS_BURSTABLE, 1, 3);
        TestPod *guaranteed = new_pod(fx, CGFS_DRIVER_SYSTEMD, CGFS_QOS_GUARANTEED, 2, 0);
        TestPod *besteffort = new_pod(fx, CGFS_DRIVER_SYSTEMD, CGFS_QOS_BESTEFFORT, 3, 1);
        bool systemd_runs = exists("/run/systemd/system");
        const CgfsPod *p;

        enumerate_find(fx, CGFS_DRIVER_SYSTEMD, guaranteed);
        assert_int_equal(fx->pods.n, 3);
        enumerate_find(fx, CGFS_DRIVER_AUTO, besteffort);
        assert_int_equal(fx->pods.driver, CGFS_DRIVER_SYSTEMD);
        assert_int_equal(fx->pods.n, 3);
        cgfs_pods_done(&fx->pods);
        assert_int_equal(cgfs_pods_enumerate(&fx->h, fx->kubepods, CGFS_DRIVER_CGROUPFS, &fx->pods), 0);
        assert_int_equal(fx->pods.n, 0);

        p = enumerate_find(fx, CGFS_DRIVER_SYSTEMD, burstable);
        assert_non_null(p->children);
        assert_true(strncmp(p->children[0], "cri-containerd-", 15) == 0);
        uint64_t t0 = now_usec();
        CgfsDestroyStats stats = destroy_ok(fx, p, CGFS_DRIVER_SYSTEMD);
        uint64_t took = now_usec() - t0;
        if (!systemd_runs) {
                assert_false(stats.used_systemd);
                if (took > 1000000)
                        fail_msg(
                                "the fallback without systemd took %llu ms",
                                (unsigned long long) took / 1000);
        }
        assert_int_equal(stats.n_killed, 3);
        assert_pod_destroyed(fx, burstable);
        assert_pod_alive(fx, besteffort);
        assert_exists_in_scope(
                fx, keep(fx, xasprintf("%s.slice/%s-burstable.slice", fx->kubepods, fx->kubepods)));

        p = enumerate_find(fx, CGFS_DRIVER_AUTO, guaranteed);
        destroy_ok(fx, p, CGFS_DRIVER_AUTO);
        assert_gone_everywhere(fx, guaranteed->rel);
        assert_pod_alive(fx, besteffort);
}

static void test_reduce_cpu(void **state) {
        Fx *fx = *state;
        TestPod *pod = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 2);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, pod);
        bool v2_cpu[32] = {};
        unsigned checked = 0;

        /* cgroup2 as a kubelet leaves it: cpu enabled down to the pod where the root offers it. */
        assert_true(fx->h.n <= ELEMENTSOF(v2_cpu));
        assert_int_equal(cg2_enable_cpu_to(&fx->h, pod->rel, v2_cpu), 0);
        for (int pass = 0; pass < 2; pass++)
                assert_int_equal(cgfs_pod_reduce_cpu(&fx->h, p, CGFS_DRIVER_CGROUPFS), 0);
        for (size_t i = 0; i < fx->h.n; i++) {
                const CgfsHierarchy *x = &fx->h.items[i];
                const char *file = x->v2                             ? "cpu.weight"
                                   : list_has(x->controllers, "cpu") ? "cpu.shares"
                                                                     : NULL;
                if (!file)
                        continue;
                const char *path = keep(fx, xasprintf("%s/%s/%s", x->path, pod->rel, file));
                char *value = read_str(path);
                if (!value) {
                        /* cgroup2 without the cpu controller (hybrid: it is v1's): nothing to lower,
                         * nothing created. Where it is enabled, the file must be there. */
                        if (!x->v2 || v2_cpu[i])
                                fail_msg("%s missing", path);
                        assert_false(exists(path));
                        continue;
                }
                assert_string_equal(value, x->v2 ? "1\n" : "2\n");
                free(value);
                checked++;
        }
        print_message("# reduce_cpu: %u hierarchies with a cpu knob checked\n", checked);
        assert_pod_alive(fx, pod);
}

/* On this hybrid machine cgroup2 has cgroup.kill; a pod that exists in the v1 hierarchies only
 * goes the freeze, pidfd SIGKILL, thaw way. */
static void test_v1_fallback_on_hybrid(void **state) {
        Fx *fx = *state;

        if (!has_v1(fx)) {
                print_message("# no v1 hierarchy here\n");
                skip();
        }
        fx->v1_only_pods = true;
        TestPod *live = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BESTEFFORT, 2, 1);
        TestPod *pod = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 3);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, pod);
        CgfsDestroyStats stats = destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);

        assert_false(stats.used_kill_file);
        assert_int_equal(stats.n_killed, 3);
        assert_int_equal(stats.n_removed, 3 * n_in_scope(fx));
        assert_pod_destroyed(fx, pod);
        assert_pod_alive(fx, live);
}

/* A pod in every hierarchy, plus a process that is in the pod only in the v1 hierarchies (in
 * cgroup2 it sits in the test's own cgroup): cgroup.kill does not reach it, the v1 way must. */
static void test_v1_straggler_on_hybrid(void **state) {
        Fx *fx = *state;

        if (!has_v1(fx) || !v2_hierarchy(fx))
                skip();
        TestPod *pod = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 2);
        pid_t straggler = spawn_sleeper(fx);
        fx->v1_only_pods = true;
        cg_move(fx, pod->children[1], straggler);
        fx->v1_only_pods = false;
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, pod);
        CgfsDestroyStats stats = destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);

        assert_int_equal(stats.used_kill_file, v2_has_kill_file(fx));
        assert_int_equal(stats.n_killed, 3);
        assert_int_equal(stats.n_removed, 3 * n_in_scope(fx));
        assert_pod_destroyed(fx, pod);
        assert_killed(fx, straggler);
}

static void test_v1_fallback_forking_loop(void **state) {
        Fx *fx = *state;

        if (!has_v1(fx))
                skip();
        fx->v1_only_pods = true;
        forking_loop_scenario(fx, 1);
}

/* Pure cgroup2: the same cgroup2 hierarchy mounted at a root of the test's own. */
static void test_pure_v2(void **state) {
        Fx *fx = *state;

        if (!v2_hierarchy(fx)) {
                print_message("# no cgroup2 here\n");
                skip();
        }
        fx_make_root(fx, "cgroup2", NULL);
        fx_use_own_root(fx);
        assert_int_equal(fx->h.n, 1);
        assert_true(fx->h.items[0].v2);
        TestPod *orphan = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 3);
        TestPod *live = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_GUARANTEED, 2, 1);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, orphan);
        bool kill_file = v2_has_kill_file(fx);
        CgfsDestroyStats stats = destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);

        assert_int_equal(stats.used_kill_file, kill_file);
        assert_int_equal(stats.n_killed, 3);
        assert_int_equal(stats.n_removed, 3);
        assert_pod_destroyed(fx, orphan);
        assert_pod_alive(fx, live);
        forking_loop_scenario(fx, 3);
}

/* v1 only: a tmpfs root with memory, freezer (when `with_freezer`) and name=systemd beneath. */
static size_t make_v1_only_root(Fx *fx, bool with_freezer) {
        size_t n = 0;

        fx_make_root(fx, "tmpfs", "mode=0755,size=1m");
        n += fx_mount_v1(fx, "memory", "memory");
        if (with_freezer)
                n += fx_mount_v1(fx, "freezer", "freezer");
        n += fx_mount_v1(fx, "systemd", "none,name=systemd");
        if (with_freezer)
                n += fx_mount_v1(fx, "pids", "pids");
        if (n == 0)
                skip();
        fx_use_own_root(fx);
        assert_int_equal(fx->h.n, n);
        return n;
}

static void test_v1_only(void **state) {
        Fx *fx = *state;
        size_t n = make_v1_only_root(fx, true);

        assert_null(v2_hierarchy(fx));
        TestPod *orphan = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 3);
        TestPod *live = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BESTEFFORT, 2, 1);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, orphan);
        CgfsDestroyStats stats = destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);

        assert_false(stats.used_kill_file);
        assert_int_equal(stats.n_killed, 3);
        assert_int_equal(stats.n_removed, 3 * n);
        assert_pod_destroyed(fx, orphan);
        assert_pod_alive(fx, live);
        if (cgfs_hierarchies_get(&fx->h, "freezer"))
                forking_loop_scenario(fx, 3);
}

/* v1 without a freezer: SIGKILL pid by pid, round after round, as long as processes are left. */
static void test_v1_only_no_freezer(void **state) {
        Fx *fx = *state;
        make_v1_only_root(fx, false);
        assert_null(cgfs_hierarchies_get(&fx->h, "freezer"));
        TestPod *orphan = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_GUARANTEED, 1, 3);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, orphan);
        CgfsDestroyStats stats = destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);

        assert_int_equal(stats.n_killed, 3);
        assert_pod_destroyed(fx, orphan);
}

/* A process that cannot die in time (kept frozen by a v1 freezer above the pod): -EBUSY once the
 * timeout has passed, nothing removed; thawed, the next destroy finishes. */
static void test_busy_after_timeout(void **state) {
        Fx *fx = *state;
        const CgfsHierarchy *freezer = cgfs_hierarchies_get(&fx->h, "freezer");
        CgfsDestroyStats stats = {};

        if (!freezer) {
                print_message("# no v1 freezer here\n");
                skip();
        }
        TestPod *pod = new_pod(fx, CGFS_DRIVER_CGROUPFS, CGFS_QOS_BURSTABLE, 1, 1);
        const CgfsPod *p = enumerate_find(fx, CGFS_DRIVER_CGROUPFS, pod);
        const char *top_state = keep(fx, xasprintf("%s/%s/freezer.state", freezer->path, fx->kubepods));

        assert_int_equal(write_str(top_state, "FROZEN"), 0);
        uint64_t t0 = now_usec();
        assert_int_equal(cgfs_pod_destroy(&fx->h, p, CGFS_DRIVER_CGROUPFS, 300 * 1000, &stats), -EBUSY);
        uint64_t took = now_usec() - t0;
        assert_true(took >= 300 * 1000);
        if (took > 3 * 1000 * 1000)
                fail_msg("-EBUSY after %llu ms for a 300 ms timeout", (unsigned long long) took / 1000);
        assert_int_equal(stats.n_killed, 1);
        assert_int_equal(stats.n_removed, 0);
        assert_exists_in_scope(fx, pod->children[1]);
        assert_int_equal(cgfs_pod_is_populated(&fx->h, p), 1);

        assert_int_equal(write_str(top_state, "THAWED"), 0);
        destroy_ok(fx, p, CGFS_DRIVER_CGROUPFS);
        assert_pod_destroyed(fx, pod);
}

/* ---- main ------------------------------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_empty_orphan),
                T(test_orphan_with_processes),
                T(test_forking_loop),
                T(test_live_pod_survives),
                T(test_stray_dirs_ignored),
                T(test_systemd_naming),
                T(test_reduce_cpu),
                T(test_v1_fallback_on_hybrid),
                T(test_v1_fallback_forking_loop),
                T(test_v1_straggler_on_hybrid),
                T(test_pure_v2),
                T(test_v1_only),
                T(test_v1_only_no_freezer),
                T(test_busy_after_timeout),
        };
        CgfsHierarchies h = {};

        if (geteuid() != 0) {
                fprintf(stderr, "test-cgroupfs: needs root (cgroups, mounts)\n");
                return 77;
        }
        if (cgfs_hierarchies_find(NULL, "/sys/fs/cgroup", &h) < 0) {
                fprintf(stderr, "test-cgroupfs: no cgroup hierarchy under /sys/fs/cgroup\n");
                return 77;
        }
        cgfs_hierarchies_done(&h);
        /* Orphans of what the tests start come back to us, to be reaped, not to init. */
        (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "test-cgroupfs: cannot set up a private mount namespace: %m\n");
                return 1;
        }
        return cmocka_run_group_tests_name("cgroupfs", tests, NULL, NULL);
}
