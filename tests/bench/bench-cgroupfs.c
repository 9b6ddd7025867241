/* SPDX-License-Identifier: MIT */
/*
 * cgfs_pod_destroy against the kubelet's algorithm, side by side in one run.
 *
 * N orphan pod cgroups (default 1,000; QoS classes in turn), each with a sandbox and a container
 * child cgroup and 3 sleeping processes (children of the bench: one in the sandbox, two in the
 * container), in every hierarchy of the machine. Each algorithm gets a tree of its own, built
 * fresh the same way, and destroys all of it:
 *
 *  - podreaper: cgfs_pods_enumerate(), then cgfs_pod_destroy() for each pod (the enumeration is
 *    timed on its own).
 *  - the kubelet, reproduced from pod_container_manager_linux.go Destroy: tryKillingCgroupProcesses
 *    reads the pids once, from cgroup.procs of every cgroup at or beneath the pod in every
 *    hierarchy, and SIGKILLs each, up to 5 passes over those whose kill failed; then the
 *    cgroup manager's Destroy removes the pod per hierarchy as libcontainer's RemovePath does:
 *    rmdir; on failure remove the children first (same way), then rmdir again, retrying EBUSY up
 *    to 10 times with a delay doubling from 1 ms. It is given the pod paths (its own enumeration
 *    is not timed), and runs as C, without Go's overhead: a conservative reference.
 *
 * Leftovers are counted for both: cgroup directories of pods still there (every hierarchy) and
 * processes still running. Then the enumeration of M empty pod cgroups (default 5,000).
 *
 * Everything lives under a kubepods name of its own ("kpbench<pid>") and is removed at the end,
 * also after an error or SIGINT/SIGTERM; the sleeping children die with the bench
 * (PR_SET_PDEATHSIG).
 *
 * Usage: bench-cgroupfs [--pods N] [--enum-pods N] [--runs N]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroupfs/cgroupfs.h"
#include "tests/lib/cgroup-files.h"
#include "util/macro.h"
#include "util/parse.h"

#define PROCS_PER_POD 3
#define streq(a, b) (strcmp((a), (b)) == 0)
#define DESTROY_TIMEOUT_USEC (10 * USEC_PER_SEC)

static const char *const qos_dirs[] = {NULL, "burstable", "besteffort"};

static CgfsHierarchies hierarchies;
static char kubepods[64], kubepods_enum[64];
static pid_t *procs; /* the sleepers of the tree being measured; 0 once reaped */
static size_t n_procs, procs_allocated;
static volatile sig_atomic_t interrupted;

static void cleanup(void);

_printf_(1, 2) static _Noreturn void die(const char *fmt, ...) {
        va_list ap;
        int e = errno;

        fprintf(stderr, "bench-cgroupfs: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %s\n", strerror(e));
        cleanup();
        exit(1);
}

static void check_interrupted(void) {
        if (interrupted) {
                errno = EINTR;
                die("interrupted");
        }
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_usec(usec_t u) {
        struct timespec ts = {
                .tv_sec = (time_t) (u / USEC_PER_SEC), .tv_nsec = (long) (u % USEC_PER_SEC) * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

_printf_(1, 2) static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *p;

        va_start(ap, fmt);
        if (vasprintf(&p, fmt, ap) < 0) {
                errno = ENOMEM;
                die("asprintf");
        }
        va_end(ap);
        return p;
}

/* ---- building a tree -------------------------------------------------------------------------- */

/* mkdir -p of `rel` in every hierarchy. */
static void cg_mkdir(const char *rel) {
        for (size_t i = 0; i < hierarchies.n; i++) {
                const CgfsHierarchy *x = &hierarchies.items[i];
                bool cpuset = !x->v2 && list_has(x->controllers, "cpuset");
                _cleanup_free_ char *p = xasprintf("%s/%s", x->path, rel);

                for (size_t k = strlen(x->path) + 1;; k++) {
                        char c = p[k];
                        if (c != '/' && c != '\0')
                                continue;
                        p[k] = '\0';
                        if (mkdir(p, 0755) == 0) {
                                if (cpuset)
                                        if (cpuset_inherit(p) < 0)
                                                die("cpuset of %s", p);
                        } else if (errno != EEXIST)
                                die("mkdir %s", p);
                        p[k] = c;
                        if (c == '\0')
                                break;
                }
        }
}

static void cg_move(const char *rel, pid_t pid) {
        char value[32];

        snprintf(value, sizeof(value), "%d", (int) pid);
        for (size_t i = 0; i < hierarchies.n; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s/cgroup.procs", hierarchies.items[i].path, rel);
                int r = write_str(p, value);
                if (r < 0) {
                        errno = -r;
                        die("move %d into %s", (int) pid, p);
                }
        }
}

static pid_t spawn_sleeper(void) {
        pid_t parent = getpid(), pid;

        if (n_procs == procs_allocated) {
                procs_allocated = procs_allocated ? procs_allocated * 2 : 1024;
                pid_t *p = reallocarray(procs, procs_allocated, sizeof(pid_t));
                if (!p)
                        die("reallocarray");
                procs = p;
        }
        pid = fork();
        if (pid < 0)
                die("fork (%zu sleepers so far)", n_procs);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(0);
                for (;;)
                        pause();
        }
        procs[n_procs++] = pid;
        return pid;
}

static char *pod_rel(const char *kp, unsigned k) {
        CgfsQos qos = (CgfsQos) (k % _CGFS_QOS_MAX);
        char uid[CGFS_UID_MAX + 1];

        snprintf(uid, sizeof(uid), "%08x-0000-4000-8000-%012x", k, 0xbe9c4u);
        return qos == CGFS_QOS_GUARANTEED ? xasprintf("%s/pod%s", kp, uid)
                                          : xasprintf("%s/%s/pod%s", kp, qos_dirs[qos], uid);
}

/* N pods, each with a sandbox and a container child and PROCS_PER_POD sleepers, in every
 * hierarchy; returns the pods' paths. */
static char **build_tree(unsigned n_pods, bool with_processes, const char *kp) {
        char **rels = calloc(n_pods + 1, sizeof(char *));

        if (!rels)
                die("calloc");
        for (unsigned k = 0; k < n_pods; k++) {
                check_interrupted();
                rels[k] = pod_rel(kp, k);
                if (!with_processes) {
                        cg_mkdir(rels[k]);
                        continue;
                }
                _cleanup_free_ char *sandbox = xasprintf("%s/%064x", rels[k], 2 * k);
                _cleanup_free_ char *container = xasprintf("%s/%064x", rels[k], 2 * k + 1);
                cg_mkdir(sandbox);
                cg_mkdir(container);
                for (unsigned p = 0; p < PROCS_PER_POD; p++)
                        cg_move(p == 0 ? sandbox : container, spawn_sleeper());
        }
        return rels;
}

/* ---- leftovers and cleanup -------------------------------------------------------------------- */

static unsigned count_dirs(const char *path) {
        DIR *d = opendir(path);
        unsigned n = 0;

        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", path, de->d_name);
                n += 1 + count_dirs(sub);
        }
        closedir(d);
        return n;
}

/* Pod cgroups (and what is beneath them) still there, in every hierarchy. */
static unsigned leftover_dirs(char **rels) {
        unsigned n = 0;

        for (size_t i = 0; i < hierarchies.n; i++)
                for (char **r = rels; *r; r++) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", hierarchies.items[i].path, *r);
                        struct stat st;
                        if (stat(p, &st) == 0)
                                n += 1 + count_dirs(p);
                }
        return n;
}

/* Sleepers not exited yet (a zombie has exited; it is only not reaped). */
static unsigned live_procs(void) {
        unsigned n = 0;

        for (size_t i = 0; i < n_procs; i++) {
                siginfo_t si = {};
                if (procs[i] > 0 && waitid(P_PID, (id_t) procs[i], &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                    si.si_pid == 0)
                        n++;
        }
        return n;
}

/* Our own unreaped children: their pids cannot have been recycled, so kill() by pid is safe. */
static void reap_procs(void) {
        for (size_t i = 0; i < n_procs; i++)
                if (procs[i] > 0) {
                        (void) kill(procs[i], SIGKILL);
                        (void) waitpid(procs[i], NULL, 0);
                        procs[i] = 0;
                }
        n_procs = 0;
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
        for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
                sleep_usec(10 * USEC_PER_MSEC);
}

static void remove_own_trees(void) {
        for (size_t i = 0; i < hierarchies.n; i++) {
                _cleanup_free_ char *a = xasprintf("%s/%s", hierarchies.items[i].path, kubepods);
                _cleanup_free_ char *b = xasprintf("%s/%s", hierarchies.items[i].path, kubepods_enum);
                rm_cgroup_tree(a);
                rm_cgroup_tree(b);
        }
}

static void cleanup(void) {
        reap_procs();
        if (kubepods[0])
                remove_own_trees();
}

/* ---- the kubelet's algorithm ------------------------------------------------------------------ */

typedef struct Pids {
        pid_t *items;
        size_t n, allocated;
} Pids;

static void pids_add(Pids *p, pid_t pid) {
        for (size_t i = 0; i < p->n; i++) /* a set, as the kubelet's sets.New[int]() */
                if (p->items[i] == pid)
                        return;
        if (p->n == p->allocated) {
                p->allocated = p->allocated ? p->allocated * 2 : 16;
                pid_t *items = reallocarray(p->items, p->allocated, sizeof(pid_t));
                if (!items)
                        die("reallocarray");
                p->items = items;
        }
        p->items[p->n++] = pid;
}

/* getCgroupProcs for `dir` and, as filepath.Walk, every directory beneath it. */
static void kubelet_walk_procs(const char *dir, Pids *pids) {
        _cleanup_free_ char *procs_path = xasprintf("%s/cgroup.procs", dir);
        _cleanup_free_ char *content = read_str(procs_path);
        DIR *d;

        for (char *line = content, *next; line && *line; line = next) {
                int pid;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (safe_atoi(line, &pid) >= 0 && pid > 0)
                        pids_add(pids, pid);
        }
        d = opendir(dir);
        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
                kubelet_walk_procs(sub, pids);
        }
        closedir(d);
}

/* libcontainer's rmdir(path, retry): EBUSY retried 10 times, 1 ms doubling. */
static int kubelet_rmdir(const char *path, bool retry) {
        usec_t delay = USEC_PER_MSEC;
        int tries = 10;

        for (;;) {
                if (rmdir(path) == 0 || errno == ENOENT)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno == EBUSY && retry && tries > 0) {
                        sleep_usec(delay);
                        delay *= 2;
                        tries--;
                        continue;
                }
                return -errno;
        }
}

/* libcontainer's RemovePath: the fast path, else children first, then the dir with retries. */
static int kubelet_remove_path(const char *path) {
        int r = 0;
        DIR *d;

        if (kubelet_rmdir(path, false) == 0)
                return 0;
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", path, de->d_name);
                r = kubelet_remove_path(sub);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r < 0 ? r : kubelet_rmdir(path, true);
}

static int kubelet_destroy(const char *rel) {
        Pids pids = {};
        bool *killed;
        int ret = 0;

        /* tryKillingCgroupProcesses */
        for (size_t i = 0; i < hierarchies.n; i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%s", hierarchies.items[i].path, rel);
                struct stat st;
                if (stat(dir, &st) < 0)
                        continue;
                kubelet_walk_procs(dir, &pids);
        }
        killed = calloc(pids.n + 1, sizeof(bool));
        if (!killed)
                die("calloc");
        for (int pass = 0; pass < 5; pass++) {
                size_t errors = 0;
                for (size_t k = 0; k < pids.n; k++) {
                        if (killed[k])
                                continue;
                        if (kill(pids.items[k], SIGKILL) == 0)
                                killed[k] = true;
                        else
                                errors++;
                }
                if (errors == 0)
                        break;
        }
        free(killed);
        free(pids.items);

        /* cgroupManager.Destroy: RemovePaths over every subsystem's path */
        for (size_t i = 0; i < hierarchies.n; i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%s", hierarchies.items[i].path, rel);
                int r = kubelet_remove_path(dir);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

/* ---- runs ------------------------------------------------------------------------------------- */

typedef struct Result {
        double build_ms, enum_ms, destroy_ms;
        unsigned failed, leftover_dirs, leftover_procs;
        unsigned long n_killed, n_removed, n_kill_file;
} Result;

static void run_podreaper(unsigned n_pods, Result *res) {
        _cleanup_strv_free_ char **rels = NULL;
        CgfsPods pods = {};
        double t0;

        t0 = now_ms();
        rels = build_tree(n_pods, true, kubepods);
        res->build_ms = now_ms() - t0;

        t0 = now_ms();
        if (cgfs_pods_enumerate(&hierarchies, kubepods, CGFS_DRIVER_CGROUPFS, &pods) < 0)
                die("cgfs_pods_enumerate");
        res->enum_ms = now_ms() - t0;
        if (pods.n != n_pods) {
                errno = EPROTO;
                die("enumerated %zu pods of %u", pods.n, n_pods);
        }

        t0 = now_ms();
        for (size_t i = 0; i < pods.n; i++) {
                CgfsDestroyStats stats = {};
                if (cgfs_pod_destroy(
                            &hierarchies,
                            &pods.items[i],
                            CGFS_DRIVER_CGROUPFS,
                            DESTROY_TIMEOUT_USEC,
                            &stats) < 0)
                        res->failed++;
                res->n_killed += stats.n_killed;
                res->n_removed += stats.n_removed;
                res->n_kill_file += stats.used_kill_file;
        }
        res->destroy_ms = now_ms() - t0;
        cgfs_pods_done(&pods);

        res->leftover_dirs = leftover_dirs(rels);
        res->leftover_procs = live_procs();
        cleanup();
}

static void run_kubelet(unsigned n_pods, Result *res) {
        _cleanup_strv_free_ char **rels = NULL;
        double t0;

        t0 = now_ms();
        rels = build_tree(n_pods, true, kubepods);
        res->build_ms = now_ms() - t0;

        t0 = now_ms();
        for (char **r = rels; *r; r++)
                if (kubelet_destroy(*r) < 0)
                        res->failed++;
        res->destroy_ms = now_ms() - t0;

        res->leftover_dirs = leftover_dirs(rels);
        res->leftover_procs = live_procs();
        cleanup();
}

static void print_result(const char *name, const Result *r, unsigned n_pods) {
        printf("  %-28s %9.1f ms  (%.3f ms/pod)  leftovers: %u dirs, %u live pids  failed: %u",
               name,
               r->destroy_ms,
               r->destroy_ms / n_pods,
               r->leftover_dirs,
               r->leftover_procs,
               r->failed);
        if (r->n_removed > 0)
                printf("  [killed %lu, removed %lu, cgroup.kill in %lu pods]",
                       r->n_killed,
                       r->n_removed,
                       r->n_kill_file);
        printf("\n");
}

static void on_signal(int sig) {
        (void) sig;
        interrupted = 1;
}

static unsigned parse_count(const char *flag, const char *value) {
        unsigned n;

        if (!value || safe_atou(value, &n) < 0 || n == 0) {
                fprintf(stderr, "bench-cgroupfs: %s needs a positive number\n", flag);
                exit(2);
        }
        return n;
}

int main(int argc, char **argv) {
        unsigned n_pods = 1000, n_enum = 5000, runs = 1, n_v1 = 0;
        Result mine = {}, theirs = {};
        struct rlimit rl;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--pods"))
                        n_pods = parse_count(argv[i], argv[i + 1]), i++;
                else if (streq(argv[i], "--enum-pods"))
                        n_enum = parse_count(argv[i], argv[i + 1]), i++;
                else if (streq(argv[i], "--runs"))
                        runs = parse_count(argv[i], argv[i + 1]), i++;
                else {
                        fprintf(stderr, "usage: bench-cgroupfs [--pods N] [--enum-pods N] [--runs N]\n");
                        return 2;
                }
        }
        if (geteuid() != 0) {
                printf("bench-cgroupfs: skipped (needs root: cgroups)\n");
                return 0;
        }
        if (cgfs_hierarchies_find(NULL, "/sys/fs/cgroup", &hierarchies) < 0) {
                printf("bench-cgroupfs: skipped (no cgroup hierarchy under /sys/fs/cgroup)\n");
                return 0;
        }
        if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur < (rlim_t) n_pods * PROCS_PER_POD + 100)
                fprintf(stderr,
                        "bench-cgroupfs: RLIMIT_NPROC %llu may be too low for %u processes\n",
                        (unsigned long long) rl.rlim_cur,
                        n_pods * PROCS_PER_POD);
        snprintf(kubepods, sizeof(kubepods), "kpbench%d", (int) getpid());
        snprintf(kubepods_enum, sizeof(kubepods_enum), "kpbench%de", (int) getpid());
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        for (size_t i = 0; i < hierarchies.n; i++)
                n_v1 += !hierarchies.items[i].v2;

        printf("bench-cgroupfs: %u orphan pods x 2 child cgroups x %d processes, %zu hierarchies (%u "
               "v1%s)\n",
               n_pods,
               PROCS_PER_POD,
               hierarchies.n,
               n_v1,
               hierarchies.n > n_v1 ? " + cgroup2" : "");
        for (unsigned run = 0; run < runs; run++) {
                Result a = {}, b = {};

                /* Alternate who goes first, so that neither always gets the colder kernel. */
                if (run % 2 == 0) {
                        run_podreaper(n_pods, &a);
                        run_kubelet(n_pods, &b);
                } else {
                        run_kubelet(n_pods, &b);
                        run_podreaper(n_pods, &a);
                }
                printf(" run %u (trees built in %.0f / %.0f ms):\n", run + 1, a.build_ms, b.build_ms);
                print_result("podreaper cgfs_pod_destroy", &a, n_pods);
                print_result("kubelet reference", &b, n_pods);
                printf("  enumerate (%u busy pods)     %9.1f ms\n", n_pods, a.enum_ms);
                mine.destroy_ms += a.destroy_ms;
                theirs.destroy_ms += b.destroy_ms;
                mine.leftover_dirs += a.leftover_dirs;
                mine.leftover_procs += a.leftover_procs;
                theirs.leftover_dirs += b.leftover_dirs;
                theirs.leftover_procs += b.leftover_procs;
        }
        printf("  ratio kubelet / podreaper: %.2fx  (leftovers podreaper: %u dirs, %u pids; kubelet: %u "
               "dirs, "
               "%u pids)\n",
               theirs.destroy_ms / mine.destroy_ms,
               mine.leftover_dirs,
               mine.leftover_procs,
               theirs.leftover_dirs,
               theirs.leftover_procs);

        /* Enumeration of many pods: empty pod cgroups are enough. */
        {
                _cleanup_strv_free_ char **rels = NULL;
                double t0 = now_ms(), best = 0;
                size_t found = 0;

                rels = build_tree(n_enum, false, kubepods_enum);
                printf("bench-cgroupfs: enumerate %u pod cgroups in %zu hierarchies (built in %.0f ms):",
                       n_enum,
                       hierarchies.n,
                       now_ms() - t0);
                for (int i = 0; i < 3; i++) {
                        CgfsPods pods = {};
                        t0 = now_ms();
                        if (cgfs_pods_enumerate(&hierarchies, kubepods_enum, CGFS_DRIVER_CGROUPFS, &pods) <
                            0)
                                die("cgfs_pods_enumerate");
                        double t = now_ms() - t0;
                        best = i == 0 || t < best ? t : best;
                        found = pods.n;
                        cgfs_pods_done(&pods);
                }
                printf(" %.1f ms (best of 3), %zu found\n", best, found);
        }

        cleanup();
        cgfs_hierarchies_done(&hierarchies);
        free(procs);
        return mine.leftover_dirs + mine.leftover_procs > 0;
}
