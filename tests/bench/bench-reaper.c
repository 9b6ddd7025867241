/* SPDX-License-Identifier: MIT */
/*
 * The podreaper program against its peers, side by side in one run (under
 * tests/e2e/with-containerd.sh, as root).
 *
 * (a) Idle pass: a node with L live pods (default 110, the kubelet's maximum; real sandboxes, each
 *     a host-network pause sandbox and a sleeping busybox container made by `podctl run-pod`, with
 *     its pod dir and log dir), nothing to reap. `podreaper run` against
 *     `ctr -n k8s.io containers ls` on the same containerd, alternating, R runs each (default 5):
 *     wall, CPU (user+sys) and peak RSS by wait4(), medians. Both are started from a small
 *     re-executed spawner (--spawn), not forked from this process: a forked child's ru_maxrss
 *     starts at its parent's resident set. Targets: CPU below ctr's, peak RSS under 8 MiB.
 * (b) Reap: O orphaned pods (default 5,000) on a node of their own — a pod dir as the kubelet
 *     leaves it (volume dirs, an etc-hosts, a container file), a pod cgroup with a container child
 *     in every hierarchy (no processes), a log dir — and nothing of them in the runtime.
 *     `podreaper plan` (P runs, median; changes nothing), then the full `podreaper run`
 *     (--orphan-grace 0s); against the usual cron script on an identical fresh node: `rm -rf` of
 *     each pod dir, `rmdir` of each pod cgroup path bottom-up in every hierarchy, `rm -rf` of each
 *     log dir. Leftovers counted for both (pod dirs, log dirs, pod cgroups in any hierarchy).
 *
 * Each node's pod cgroups live under a kubepods name of their own ("kpreap<pid>n<k>"), removed at
 * the end, also after an error or SIGINT/SIGTERM; the node dirs go below $PODREAPER_TEST_CTD_DIR
 * (with-containerd.sh removes it whatever happens), the live pods are removed from the runtime.
 *
 * Usage: bench-reaper BUILD [--live-pods N] [--idle-runs N] [--orphans N] [--plan-runs N]
 *                           [--reap-runs N] [--workers N]
 *        BUILD holds podreaper and tests/e2e/podctl (`make BUILD=... all BUILD/tests/e2e/podctl`).
 *        Defaults from the environment: BENCH_LIVE_PODS (110), BENCH_ORPHANS (5000).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroupfs/cgroupfs.h"
#include "cri/cri.h"
#include "tests/bench/lib/bench-util.h"
#include "util/macro.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define NAMESPACE "podreaper-bench-reaper"
#define MAX_HIERARCHIES 32
#define MAX_KUBEPODS (2 * BENCH_MAX_RUNS)
#define RSS_TARGET_KIB 8192L

typedef struct Node {
        char *dir; /* kubelet/pods, pods-logs, containers-logs, state */
        char kubepods[64];
} Node;

typedef struct Leftovers {
        size_t pod_dirs, log_dirs, pod_cgroups;
} Leftovers;

static const char *endpoint, *ctd_sock, *podreaper, *podctl, *work_dir;
static char *hierarchies[MAX_HIERARCHIES]; /* every cgroup hierarchy, once each */
static size_t n_hierarchies;
static char kubepods_made[MAX_KUBEPODS][64]; /* to remove at the end */
static size_t n_kubepods_made;
static bool live_pods_made;

static void cleanup(void);

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

/* A container id as containerd names a container's cgroup: 64 hex digits. */
static void random_container_id(char ret[static 65]) {
        char uuid[37];
        size_t k = 0;

        while (k < 64) {
                bench_random_uuid(uuid);
                for (const char *p = uuid; *p && k < 64; p++)
                        if (*p != '-')
                                ret[k++] = *p;
        }
        ret[64] = '\0';
}

/* ---- processes ----------------------------------------------------------------------------------- */

/* Runs argv unmeasured, quietly, and waits; fails unless it exits 0. */
static void run_quiet(char *const argv[]) {
        int status;
        pid_t pid;

        pid = bench_fork();
        if (pid == 0) {
                int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

                if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        bench_fail("waitpid: %m");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                bench_fail("%s %s failed (%s)", argv[0], argv[1] ?: "", bench_exit_string(status));
}

static void rm_rf(const char *path) {
        run_quiet((char *const[]){
                (char *) "/bin/rm", (char *) "-rf", (char *) "--one-file-system", (char *) path, NULL});
}

/* ---- nodes --------------------------------------------------------------------------------------- */

static void mkdir_p(const char *path) {
        _cleanup_free_ char *p = bench_asprintf("%s", path);

        for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
                if (s)
                        *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        bench_fail("mkdir %s: %m", p);
                if (!s)
                        return;
                *s = '/';
        }
}

static void write_file(const char *path, const char *content) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t n = strlen(content);

        if (fd < 0 || write(fd, content, n) != (ssize_t) n)
                bench_fail("write %s: %m", path);
}

/* Every cgroup hierarchy under CGROUP_ROOT, once each, as podreaper finds them (mountinfo): not
 * the directories below it, which on pure cgroup v2 are systemd's cgroups. */
static void hierarchies_find(void) {
        CgfsHierarchies h = {};
        int r;

        r = cgfs_hierarchies_find(NULL, CGROUP_ROOT, &h);
        if (r < 0)
                bench_fail("no cgroup hierarchy under %s: %s", CGROUP_ROOT, strerror(-r));
        if (h.n > MAX_HIERARCHIES)
                bench_fail("%zu cgroup hierarchies, at most %d", h.n, MAX_HIERARCHIES);
        for (size_t i = 0; i < h.n; i++)
                hierarchies[n_hierarchies++] = bench_asprintf("%s", h.items[i].path);
        cgfs_hierarchies_done(&h);
}

/* Removes a cgroup tree bottom-up (rmdir only: the files are the kernel's); ENOENT is fine. */
static int cgroup_remove_tree(const char *path) {
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *child = NULL;

                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                child = bench_asprintf("%s/%s", path, de->d_name);
                r = cgroup_remove_tree(child) ?: r;
        }
        if (rmdir(path) < 0 && errno != ENOENT)
                return -errno;
        return r;
}

static Node node_new(const char *name) {
        Node n = {.dir = bench_asprintf("%s/%s", work_dir, name)};

        if (n_kubepods_made == MAX_KUBEPODS)
                bench_fail("too many nodes");
        snprintf(n.kubepods, sizeof(n.kubepods), "kpreap%dn%zu", (int) getpid(), n_kubepods_made);
        memcpy(kubepods_made[n_kubepods_made++], n.kubepods, sizeof(n.kubepods));
        for (const char *sub = "kubelet/pods\0pods-logs\0containers-logs\0state\0"; *sub;
             sub += strlen(sub) + 1) {
                _cleanup_free_ char *p = bench_asprintf("%s/%s", n.dir, sub);

                mkdir_p(p);
        }
        return n;
}

static void node_remove(Node *n) {
        if (!n->dir)
                return;
        rm_rf(n->dir);
        n->dir = mfree_str(n->dir);
}

/* What the kubelet leaves on disk for a pod (as tests/e2e/podreaper.t's make_pod_dir): the pod
 * dir and the pod log dir "<namespace>_<name>_<uid>" (the name is "pod-<uid>", as podctl's). */
static void pod_dir_make(const Node *n, const char *namespace, const char *uid) {
        _cleanup_free_ char *p = bench_asprintf("%s/kubelet/pods/%s", n->dir, uid);
        _cleanup_free_ char *logs =
                bench_asprintf("%s/pods-logs/%s_pod-%s_%s/app", n->dir, namespace, uid, uid);
        static const char *const dirs[] = {
                "volumes/kubernetes.io~empty-dir/cache",
                "volumes/kubernetes.io~secret/token",
                "containers/app",
                "plugins/kubernetes.io~empty-dir/cache",
                "volume-subpaths",
        };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *d = bench_asprintf("%s/%s", p, dirs[i]);

                mkdir_p(d);
        }
        {
                _cleanup_free_ char *f = bench_asprintf("%s/containers/app/0a1b2c3d", p);

                write_file(f, "0\n");
        }
        {
                _cleanup_free_ char *f = bench_asprintf("%s/etc-hosts", p);

                write_file(f, "127.0.0.1 localhost\n");
        }
        mkdir_p(logs);
        {
                _cleanup_free_ char *f = bench_asprintf("%s/0.log", logs);

                write_file(f, "log line\n");
        }
}

/* A pod cgroup with one container child in every hierarchy, no processes: what is left of a pod
 * whose runtime forgot it (containerd never removes the pod level). */
static void pod_cgroup_make(const Node *n, const char *uid) {
        char id[65];

        random_container_id(id);
        for (size_t i = 0; i < n_hierarchies; i++) {
                _cleanup_free_ char *p =
                        bench_asprintf("%s/%s/besteffort/pod%s/%s", hierarchies[i], n->kubepods, uid, id);

                mkdir_p(p);
        }
}

static size_t count_entries(const char *path) {
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;
        size_t n = 0;

        if (!d && errno == ENOENT)
                return 0;
        if (!d)
                bench_fail("%s: %m", path);
        while ((de = readdir(d)))
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        return n;
}

static size_t count_pod_cgroups(const Node *n) {
        size_t total = 0;

        for (size_t i = 0; i < n_hierarchies; i++) {
                _cleanup_free_ char *p = bench_asprintf("%s/%s/besteffort", hierarchies[i], n->kubepods);
                _cleanup_closedir_ DIR *d = opendir(p);
                struct dirent *de;

                if (!d && errno != ENOENT)
                        bench_fail("%s: %m", p);
                while (d && (de = readdir(d)))
                        total += de->d_type == DT_DIR && strncmp(de->d_name, "pod", 3) == 0;
        }
        return total;
}

static Leftovers node_leftovers(const Node *n) {
        _cleanup_free_ char *pods = bench_asprintf("%s/kubelet/pods", n->dir);
        _cleanup_free_ char *logs = bench_asprintf("%s/pods-logs", n->dir);

        return (Leftovers){
                .pod_dirs = count_entries(pods),
                .log_dirs = count_entries(logs),
                .pod_cgroups = count_pod_cgroups(n),
        };
}

static void node_sync(const Node *n) {
        _cleanup_close_ int fd = open(n->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || syncfs(fd) < 0)
                bench_fail("syncfs %s: %m", n->dir);
}

/* podreaper COMMAND on the node, with the flags of tests/e2e/podreaper.t; free it with
 * strv_free(). */
static char **reaper_argv(const Node *n, const char *command, const char *grace, const char *output) {
        const char *const extra[] = {
                "--cgroup-driver",
                "cgroupfs",
                "--orphan-grace",
                grace,
                output ? "--output" : NULL,
                output,
                NULL,
        };

        return bench_reaper_argv(podreaper, n->dir, n->kubepods, command, extra);
}

static void print_usage_line(const char *what, const BenchUsage *u) {
        printf("%-44s wall %8.1f ms   CPU %8.1f ms (user %7.1f + sys %7.1f)   peak RSS %6ld KiB\n",
               what,
               u->wall_ms,
               u->user_ms + u->sys_ms,
               u->user_ms,
               u->sys_ms,
               u->rss_kib);
}

/* ---- (a) idle pass ------------------------------------------------------------------------------- */

/* Removes every sandbox of this bench (with its containers) from the runtime. */
static void live_pods_remove(void) {
        const char *const selector[] = {"io.kubernetes.pod.namespace", NAMESPACE, NULL};
        _cleanup_free_ const char **ids = NULL;
        CriPodSandboxList l = {};
        CriClient *c = NULL;
        CriStatus st = {};

        if (!live_pods_made)
                return;
        live_pods_made = false;
        if (cri_connect(endpoint, NULL, &c, &st) < 0 ||
            cri_list_pod_sandboxes(
                    c, &(CriPodSandboxFilter){.state = -1, .label_selector = selector}, &l, &st) < 0) {
                fprintf(stderr,
                        "bench-reaper: cleanup: %s; sandboxes left behind\n",
                        st.message ?: "cannot list");
                cri_status_done(&st);
                cri_client_free(c);
                return;
        }
        ids = calloc(l.n ?: 1, sizeof(char *));
        for (size_t i = 0; ids && i < l.n; i++)
                ids[i] = l.items[i].id;
        if (ids)
                bench_sandboxes_remove(c, ids, l.n);
        cri_pod_sandbox_list_done(&l);
        cri_client_free(c);
}

static size_t live_pods_count(void) {
        const char *const selector[] = {"io.kubernetes.pod.namespace", NAMESPACE, NULL};
        CriPodSandboxList l = {};
        CriClient *c = NULL;
        CriStatus st = {};
        size_t ready = 0;

        if (cri_connect(endpoint, NULL, &c, &st) < 0 ||
            cri_list_pod_sandboxes(
                    c,
                    &(CriPodSandboxFilter){.state = CRI_SANDBOX_READY, .label_selector = selector},
                    &l,
                    &st) < 0) {
                cri_client_free(c);
                bench_fail("ListPodSandbox: %s", st.message ?: "failed");
        }
        ready = l.n;
        cri_status_done(&st);
        cri_pod_sandbox_list_done(&l);
        cri_client_free(c);
        return ready;
}

/* Runs `podctl run-pod` for each pod, at most `workers` at once. */
static void live_pods_run(const Node *n, char (*uids)[37], size_t n_pods, unsigned workers) {
        size_t next = 0, running = 0;
        bool failed = false;

        live_pods_made = true;
        fflush(stdout);
        fflush(stderr);
        while (next < n_pods || running > 0) {
                int status;
                pid_t pid;

                bench_check_interrupted();
                if (next < n_pods && running < workers && !failed) {
                        _cleanup_free_ char *name = bench_asprintf("pod-%s", uids[next]);
                        _cleanup_free_ char *logs =
                                bench_asprintf("%s/pods-logs/%s_%s_%s", n->dir, NAMESPACE, name, uids[next]);

                        pid = fork();
                        if (pid < 0)
                                bench_fail("fork: %m");
                        if (pid == 0) {
                                int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

                                if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
                                        _exit(127);
                                execl(podctl,
                                      podctl,
                                      "run-pod",
                                      uids[next],
                                      name,
                                      NAMESPACE,
                                      n->kubepods,
                                      logs,
                                      (char *) NULL);
                                _exit(127);
                        }
                        next++;
                        running++;
                        continue;
                }
                if (running == 0)
                        break;
                pid = wait(&status);
                if (pid < 0) {
                        if (errno == EINTR)
                                continue;
                        bench_fail("wait: %m");
                }
                running--;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed = true;
        }
        if (failed)
                bench_fail("podctl run-pod failed (see above)");
}

static void bench_idle(unsigned n_pods, unsigned runs, unsigned workers) {
        enum { TOOL_OURS, TOOL_CTR, N_TOOLS };
        static const char *const tool_names[N_TOOLS] = {"podreaper run", "ctr containers ls"};
        _cleanup_free_ char(*uids)[37] = calloc(n_pods ?: 1, 37);
        _cleanup_free_ char *ours_out = NULL, *ctr_out = NULL, *summary = NULL;
        _cleanup_close_ int devnull = -EBADF;
        double wall[N_TOOLS][BENCH_MAX_RUNS], cpu[N_TOOLS][BENCH_MAX_RUNS], rss[N_TOOLS][BENCH_MAX_RUNS],
                med_cpu[N_TOOLS];
        long max_rss[N_TOOLS] = {};
        const char *kubepods = getenv("PODREAPER_TEST_KUBEPODS");
        Node n = {};
        double start;
        char **ours, **ours_json;
        BenchUsage u;

        if (!uids)
                bench_fail("out of memory");
        if (!kubepods || strlen(kubepods) >= sizeof(n.kubepods))
                bench_fail("PODREAPER_TEST_KUBEPODS not set or too long");
        /* The live pods' cgroups go where the runtime's test setup allows them (with-containerd.sh
         * removes that tree); the node dir is ours. */
        n.dir = bench_asprintf("%s/idle", work_dir);
        snprintf(n.kubepods, sizeof(n.kubepods), "%s", kubepods);
        mkdir_p(n.dir);
        for (const char *sub = "kubelet/pods\0pods-logs\0containers-logs\0state\0"; *sub;
             sub += strlen(sub) + 1) {
                _cleanup_free_ char *p = bench_asprintf("%s/%s", n.dir, sub);

                mkdir_p(p);
        }

        start = bench_now_ms();
        for (unsigned i = 0; i < n_pods; i++) {
                bench_random_uuid(uids[i]);
                pod_dir_make(&n, NAMESPACE, uids[i]);
        }
        live_pods_run(&n, uids, n_pods, workers);
        if (live_pods_count() != n_pods)
                bench_fail("%zu of %u sandboxes ready", live_pods_count(), n_pods);
        printf("idle pass: %u live pods (sandbox + running container each, podctl run-pod in %u workers: "
               "%.1f s), "
               "%u runs each, order alternating\n",
               n_pods,
               workers,
               (bench_now_ms() - start) / 1e3,
               runs);

        ours = reaper_argv(&n, "run", "10m", NULL);
        ours_json = reaper_argv(&n, "run", "10m", "json");
        char *const ctr[] = {
                (char *) "ctr",
                (char *) "--address",
                (char *) ctd_sock,
                (char *) "-n",
                (char *) "k8s.io",
                (char *) "containers",
                (char *) "ls",
                NULL,
        };

        /* One unmeasured run each: warms the page cache for both binaries (and gives podreaper its
         * state file), and shows what each saw. */
        {
                _cleanup_close_ int fd = bench_memfd_new();

                u = bench_measure(ours_json, fd, fd);
                ours_out = bench_memfd_read(fd);
                if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0)
                        bench_fail("podreaper run failed (%s): %s", bench_exit_string(u.status), ours_out);
                if (!strstr(ours_out, "\"runtime\":{\"ok\":true}") || !strstr(ours_out, "\"actions\":[]"))
                        bench_fail(
                                "podreaper run: runtime not read, or something to do on an idle node: %s",
                                ours_out);
                summary = bench_last_line(ours_out);
        }
        {
                _cleanup_close_ int fd = bench_memfd_new();

                u = bench_measure(ctr, fd, fd);
                ctr_out = bench_memfd_read(fd);
                if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0)
                        bench_fail("ctr failed (%s): %s", bench_exit_string(u.status), ctr_out);
                if (bench_count_lines(ctr_out) < 2 * (size_t) n_pods + 1)
                        bench_fail(
                                "ctr listed %zu lines, expected a header and >= %u containers",
                                bench_count_lines(ctr_out),
                                2 * n_pods);
        }
        printf("idle pass: podreaper's JSON report: %s\n", strstr(summary, "\"summary\"") ?: summary);
        printf("idle pass: ctr listed %zu containers\n", bench_count_lines(ctr_out) - 1);

        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull < 0)
                bench_fail("/dev/null: %m");
        u = bench_measure((char *const[]){(char *) "/bin/true", NULL}, devnull, devnull);
        print_usage_line("idle pass /bin/true (the floor)", &u);

        for (unsigned run = 0; run < runs; run++)
                for (unsigned k = 0; k < N_TOOLS; k++) {
                        unsigned tool = (k + run) % N_TOOLS;
                        _cleanup_free_ char *what = NULL;

                        u = bench_measure(tool == TOOL_OURS ? ours : ctr, devnull, devnull);
                        if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0)
                                bench_fail("%s failed (%s)", tool_names[tool], bench_exit_string(u.status));
                        wall[tool][run] = u.wall_ms;
                        cpu[tool][run] = u.user_ms + u.sys_ms;
                        rss[tool][run] = u.rss_kib;
                        max_rss[tool] = MAX(max_rss[tool], u.rss_kib);
                        what = bench_asprintf("idle pass run %u/%u %s", run + 1, runs, tool_names[tool]);
                        print_usage_line(what, &u);
                }

        for (unsigned tool = 0; tool < N_TOOLS; tool++) {
                med_cpu[tool] = bench_median(cpu[tool], runs);
                printf("idle pass %-18s median: wall %7.1f ms   CPU %7.1f ms   peak RSS %6.0f KiB (max "
                       "%ld)\n",
                       tool_names[tool],
                       bench_median(wall[tool], runs),
                       med_cpu[tool],
                       bench_median(rss[tool], runs),
                       max_rss[tool]);
        }
        printf("idle pass ratio ctr / podreaper: wall %.2fx, CPU %.2fx, peak RSS %.2fx\n",
               bench_median(wall[TOOL_CTR], runs) / bench_median(wall[TOOL_OURS], runs),
               med_cpu[TOOL_CTR] / med_cpu[TOOL_OURS],
               bench_median(rss[TOOL_CTR], runs) / bench_median(rss[TOOL_OURS], runs));
        printf("idle pass target CPU below ctr's (%.1f < %.1f ms): %s\n",
               med_cpu[TOOL_OURS],
               med_cpu[TOOL_CTR],
               med_cpu[TOOL_OURS] < med_cpu[TOOL_CTR] ? "met" : "MISSED");
        printf("idle pass target peak RSS under 8 MiB (max of %u runs %ld KiB): %s\n",
               runs,
               max_rss[TOOL_OURS],
               max_rss[TOOL_OURS] < RSS_TARGET_KIB ? "met" : "MISSED");

        /* Nothing live touched. */
        if (live_pods_count() != n_pods)
                bench_fail("after the idle passes: %zu of %u sandboxes ready", live_pods_count(), n_pods);
        {
                _cleanup_free_ char *pods = bench_asprintf("%s/kubelet/pods", n.dir);

                if (count_entries(pods) != n_pods)
                        bench_fail(
                                "after the idle passes: %zu of %u pod dirs left",
                                count_entries(pods),
                                n_pods);
        }
        fflush(stdout);
        strv_free(ours);
        strv_free(ours_json);
        live_pods_remove();
        node_remove(&n);
}

/* ---- (b) reap ------------------------------------------------------------------------------------- */

/* The usual cron script: rm -rf of each pod dir, rmdir of each pod cgroup path bottom-up in every
 * hierarchy, rm -rf of each log dir. $1 node, $2 kubepods, $3... the hierarchies. */
static const char cron_script[] = "node=$1 kp=$2; shift 2\n"
                                  "for d in \"$node\"/kubelet/pods/*; do rm -rf \"$d\"; done\n"
                                  "for h in \"$@\"; do\n"
                                  "  for p in \"$h/$kp\"/besteffort/pod*; do rmdir \"$p\"/*/ \"$p\"; done\n"
                                  "done\n"
                                  "for d in \"$node\"/pods-logs/*; do rm -rf \"$d\"; done\n";

static Node orphan_node_make(const char *name, unsigned n_orphans, double *ret_ms) {
        double start = bench_now_ms();
        Node n = node_new(name);

        for (unsigned i = 0; i < n_orphans; i++) {
                char uid[37];

                if (i % 256 == 0)
                        bench_check_interrupted();
                bench_random_uuid(uid);
                pod_dir_make(&n, "default", uid);
                pod_cgroup_make(&n, uid);
        }
        node_sync(&n);
        *ret_ms = bench_now_ms() - start;
        return n;
}

static void node_cgroups_remove(const Node *n) {
        for (size_t i = 0; i < n_hierarchies; i++) {
                _cleanup_free_ char *p = bench_asprintf("%s/%s", hierarchies[i], n->kubepods);
                int r = cgroup_remove_tree(p);

                if (r < 0)
                        fprintf(stderr, "bench-reaper: cannot remove %s: %s\n", p, strerror(-r));
        }
}

static bool print_leftovers(const char *what, const Leftovers *l) {
        size_t total = l->pod_dirs + l->log_dirs + l->pod_cgroups;

        printf("%-44s leftovers: %zu pod dirs, %zu log dirs, %zu pod cgroups: %s\n",
               what,
               l->pod_dirs,
               l->log_dirs,
               l->pod_cgroups,
               total == 0 ? "none" : "LEFT BEHIND");
        return total == 0;
}

static void bench_reap(unsigned n_orphans, unsigned plan_runs, unsigned runs) {
        double plan_ms[BENCH_MAX_RUNS * BENCH_MAX_RUNS], reap_ms[BENCH_MAX_RUNS], cron_ms[BENCH_MAX_RUNS];
        double plan_cpu[BENCH_MAX_RUNS * BENCH_MAX_RUNS], reap_cpu[BENCH_MAX_RUNS], cron_cpu[BENCH_MAX_RUNS];
        long plan_rss = 0, reap_rss = 0;
        unsigned n_plans = 0;
        bool clean = true;

        printf("reap: %u orphaned pods per node (pod dir: 5 volume/plugin dirs, 2 files; a pod cgroup with "
               "one "
               "container child in each of %zu hierarchies, no processes; a log dir with 1 file), %u "
               "run(s), "
               "order alternating\n",
               n_orphans,
               n_hierarchies,
               runs);

        for (unsigned run = 0; run < runs; run++)
                for (unsigned k = 0; k < 2; k++) {
                        bool ours = (k + run) % 2 == 0;
                        _cleanup_free_ char *name =
                                bench_asprintf("reap%u-%s", run, ours ? "podreaper" : "cron");
                        _cleanup_free_ char *what = NULL;
                        _cleanup_close_ int out = bench_memfd_new();
                        double build_ms;
                        Leftovers l;
                        Node n;
                        BenchUsage u;

                        n = orphan_node_make(name, n_orphans, &build_ms);
                        printf("reap run %u/%u: node for %s built in %.1f s\n",
                               run + 1,
                               runs,
                               ours ? "podreaper" : "the cron script",
                               build_ms / 1e3);
                        if (ours) {
                                char **plan = reaper_argv(&n, "plan", "0s", NULL);
                                char **reap = reaper_argv(&n, "run", "0s", NULL);
                                _cleanup_free_ char *output = NULL, *last = NULL;

                                for (unsigned p = 0; p < plan_runs; p++) {
                                        _cleanup_close_ int fd = bench_memfd_new();

                                        u = bench_measure(plan, fd, fd);
                                        if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0) {
                                                _cleanup_free_ char *o = bench_memfd_read(fd);

                                                bench_fail(
                                                        "podreaper plan failed (%s): %s",
                                                        bench_exit_string(u.status),
                                                        o);
                                        }
                                        plan_ms[n_plans] = u.wall_ms;
                                        plan_cpu[n_plans++] = u.user_ms + u.sys_ms;
                                        plan_rss = MAX(plan_rss, u.rss_kib);
                                        what = bench_asprintf(
                                                "reap run %u/%u podreaper plan %u/%u",
                                                run + 1,
                                                runs,
                                                p + 1,
                                                plan_runs);
                                        print_usage_line(what, &u);
                                        what = mfree_str(what);
                                        if (p == 0) {
                                                _cleanup_free_ char *o = bench_memfd_read(fd);
                                                _cleanup_free_ char *s = bench_last_line(o);

                                                printf("reap run %u/%u podreaper plan says: %s\n",
                                                       run + 1,
                                                       runs,
                                                       s);
                                        }
                                }
                                l = node_leftovers(&n);
                                if (l.pod_dirs != n_orphans || l.log_dirs != n_orphans ||
                                    l.pod_cgroups != n_orphans * n_hierarchies)
                                        bench_fail(
                                                "podreaper plan changed the node: %zu pod dirs, %zu log "
                                                "dirs, "
                                                "%zu pod "
                                                "cgroups left",
                                                l.pod_dirs,
                                                l.log_dirs,
                                                l.pod_cgroups);

                                u = bench_measure(reap, out, out);
                                output = bench_memfd_read(out);
                                last = bench_last_line(output);
                                reap_ms[run] = u.wall_ms;
                                reap_cpu[run] = u.user_ms + u.sys_ms;
                                reap_rss = MAX(reap_rss, u.rss_kib);
                                what = bench_asprintf(
                                        "reap run %u/%u podreaper run (%s)",
                                        run + 1,
                                        runs,
                                        bench_exit_string(u.status));
                                print_usage_line(what, &u);
                                printf("reap run %u/%u podreaper run says: %s\n", run + 1, runs, last);
                                if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0) {
                                        fprintf(stderr, "bench-reaper: podreaper run: %.4000s\n", output);
                                        clean = false;
                                }
                                strv_free(plan);
                                strv_free(reap);
                        } else {
                                char *argv[8 + MAX_HIERARCHIES] = {
                                        (char *) "/bin/bash",
                                        (char *) "-c",
                                        (char *) cron_script,
                                        (char *) "cron",
                                        n.dir,
                                        n.kubepods,
                                };

                                memcpy(argv + 6, hierarchies, n_hierarchies * sizeof(char *));
                                u = bench_measure(argv, out, out);
                                cron_ms[run] = u.wall_ms;
                                cron_cpu[run] = u.user_ms + u.sys_ms;
                                what = bench_asprintf(
                                        "reap run %u/%u cron script (%s)",
                                        run + 1,
                                        runs,
                                        bench_exit_string(u.status));
                                print_usage_line(what, &u);
                                if (lseek(out, 0, SEEK_END) > 0) {
                                        _cleanup_free_ char *o = bench_memfd_read(out);
                                        _cleanup_free_ char *s = bench_last_line(o);

                                        printf("reap run %u/%u cron script's last complaint: %s\n",
                                               run + 1,
                                               runs,
                                               s);
                                }
                        }
                        l = node_leftovers(&n);
                        clean = print_leftovers(what, &l) && clean;
                        fflush(stdout);
                        node_cgroups_remove(&n);
                        node_remove(&n);
                        bench_check_interrupted();
                }

        printf("reap podreaper plan    median: wall %9.1f ms   CPU %9.1f ms   peak RSS %6ld KiB (%u runs)\n",
               bench_median(plan_ms, n_plans),
               bench_median(plan_cpu, n_plans),
               plan_rss,
               n_plans);
        printf("reap podreaper run     median: wall %9.1f ms   CPU %9.1f ms   peak RSS %6ld KiB\n",
               bench_median(reap_ms, runs),
               bench_median(reap_cpu, runs),
               reap_rss);
        printf("reap cron script       median: wall %9.1f ms   CPU %9.1f ms\n",
               bench_median(cron_ms, runs),
               bench_median(cron_cpu, runs));
        printf("reap ratio cron / podreaper run: wall %.2fx, CPU %.2fx; per pod: podreaper %.3f ms, cron "
               "%.3f ms\n",
               bench_median(cron_ms, runs) / bench_median(reap_ms, runs),
               bench_median(cron_cpu, runs) / bench_median(reap_cpu, runs),
               bench_median(reap_ms, runs) / n_orphans,
               bench_median(cron_ms, runs) / n_orphans);
        printf("reap leftovers (must be none, both): %s\n", clean ? "none" : "LEFT BEHIND (see above)");
        fflush(stdout);
        if (!clean)
                bench_fail("the reap left something behind, or podreaper run failed");
}

/* ---- main ---------------------------------------------------------------------------------------- */

static void cleanup(void) {
        static bool done;

        if (done)
                return;
        done = true;
        live_pods_remove();
        for (size_t k = 0; k < n_kubepods_made; k++)
                for (size_t i = 0; i < n_hierarchies; i++) {
                        _cleanup_free_ char *p = NULL;
                        int r;

                        if (asprintf(&p, "%s/%s", hierarchies[i], kubepods_made[k]) < 0)
                                continue;
                        r = cgroup_remove_tree(p);
                        if (r < 0)
                                fprintf(stderr,
                                        "bench-reaper: cleanup: cannot remove %s: %s\n",
                                        p,
                                        strerror(-r));
                }
}

static char *path_in(const char *dir, const char *name) {
        _cleanup_free_ char *p = bench_asprintf("%s/%s", dir, name);
        char *abs = realpath(p, NULL);

        if (!abs || access(abs, X_OK) < 0) {
                fprintf(stderr,
                        "bench-reaper: %s missing: build it with `make BUILD=%s all %s/tests/e2e/podctl`\n",
                        p,
                        dir,
                        dir);
                exit(1);
        }
        return abs;
}

int main(int argc, char *argv[]) {
        unsigned live_pods = 110, idle_runs = 5, orphans = 5000, plan_runs = 3, reap_runs = 1, workers = 8;
        const char *e, *ctd_dir;
        _cleanup_free_ char *dir = NULL;

        bench_self = argv[0];
        bench_cleanup = cleanup;
        if (argc >= 3 && strcmp(argv[1], "--spawn") == 0)
                return bench_spawn_mode(argv + 2);

        if ((e = getenv("BENCH_LIVE_PODS")))
                live_pods = bench_parse_count("BENCH_LIVE_PODS", e, 0, 1000);
        if ((e = getenv("BENCH_ORPHANS")))
                orphans = bench_parse_count("BENCH_ORPHANS", e, 0, 30000);
        if (argc < 2 || argv[1][0] == '-') {
                fprintf(stderr,
                        "usage: bench-reaper BUILD [--live-pods N] [--idle-runs N] [--orphans N] "
                        "[--plan-runs N] "
                        "[--reap-runs N] [--workers N]\n");
                return 2;
        }
        for (int i = 2; i < argc; i += 2) {
                const char *o = argv[i], *v = argv[i + 1];

                if (strcmp(o, "--live-pods") == 0)
                        live_pods = bench_parse_count(o, v, 0, 1000);
                else if (strcmp(o, "--idle-runs") == 0)
                        idle_runs = bench_parse_count(o, v, 1, BENCH_MAX_RUNS);
                else if (strcmp(o, "--orphans") == 0)
                        orphans = bench_parse_count(o, v, 0, 30000);
                else if (strcmp(o, "--plan-runs") == 0)
                        plan_runs = bench_parse_count(o, v, 1, BENCH_MAX_RUNS);
                else if (strcmp(o, "--reap-runs") == 0)
                        reap_runs = bench_parse_count(o, v, 1, BENCH_MAX_RUNS);
                else if (strcmp(o, "--workers") == 0)
                        workers = bench_parse_count(o, v, 1, 64);
                else {
                        fprintf(stderr, "bench-reaper: unknown option %s\n", o);
                        return 2;
                }
        }

        endpoint = bench_endpoint = getenv("PODREAPER_TEST_CRI_ENDPOINT");
        ctd_sock = getenv("CTD_SOCK");
        ctd_dir = getenv("PODREAPER_TEST_CTD_DIR");
        if (!endpoint || !ctd_sock || !ctd_dir) {
                fprintf(stderr, "bench-reaper: run under tests/e2e/with-containerd.sh\n");
                return 77;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "bench-reaper: needs root (cgroups)\n");
                return 77;
        }
        podreaper = path_in(argv[1], "podreaper");
        podctl = path_in(argv[1], "tests/e2e/podctl");
        dir = bench_asprintf("%s/bench-reaper.XXXXXX", ctd_dir);
        if (!mkdtemp(dir))
                bench_fail("mkdtemp %s: %m", dir);
        work_dir = dir;
        hierarchies_find();

        bench_catch_signals();

        if (live_pods > 0)
                bench_idle(live_pods, idle_runs, workers);
        if (orphans > 0)
                bench_reap(orphans, plan_runs, reap_runs);
        cleanup();
        rm_rf(work_dir);
        return 0;
}
