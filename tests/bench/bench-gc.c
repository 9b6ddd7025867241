/* SPDX-License-Identifier: MIT */
/*
 * Runtime GC of exited containers: a podreaper pass against the kubelet's way, side by side in
 * one run (under tests/e2e/with-containerd.sh, as root).
 *
 * The node: P live pods (default 100) — READY host-network sandboxes in
 * /$PODREAPER_TEST_KUBEPODS/besteffort/pod<uid>, labelled as the kubelet labels them, each with a
 * pod dir — and in each K exited containers (default 10) of one container name, attempts 0..K-1
 * (busybox `/bin/true`, created and started in attempt order, waited for until EXITED). The
 * default policy (--maximum-dead-containers-per-container=1) keeps the newest of each pod and
 * removes P × (K − 1): 900.
 *
 * (A) `podreaper run --only containers` in a fresh process: its removals go as concurrent streams
 *     (cri_batch_run). An unmeasured `podreaper plan` first checks that it means to remove exactly
 *     those (and warms the page cache).
 * (B) The kubelet's way (kuberuntime_gc.go evictContainers → removeOldestN; crictl rm is the
 *     same): ListContainers, group by pod uid and container name, newest first, then one
 *     RemoveContainer call at a time for all but the newest, oldest first — this binary
 *     re-executed with --serial-gc, one connection with one stream. The kubelet also asks
 *     ContainerStatus for the log path before each removal; left out, so this is its lower bound.
 *
 * Both are started from a small re-executed spawner (bench_measure): wall, CPU (user+sys) and
 * peak RSS by wait4(), and containerd's own CPU over the same time. Before each side the survivors
 * of the previous one are removed (not timed) and the set is made again in the same pods, then
 * synced and the runtime left to go idle; after it, exactly the newest container of each pod must
 * be left, EXITED, and every sandbox still READY. The order alternates over the runs; medians and
 * the ratio B / A.
 *
 * Everything created is removed again (the sandboxes, with their containers), also when a step
 * fails; the node dir lives below $PODREAPER_TEST_CTD_DIR, which with-containerd.sh removes.
 *
 * Usage: bench-gc [--runs N] [--pods N] [--per-pod N] [--create-workers N]
 *                 [--sides both|podreaper|kubelet]
 *        BUILD for podreaper: $PODREAPER_BUILD, else the directory two levels above this binary.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cri/cri.h"
#include "tests/bench/lib/bench-util.h"
#include "util/macro.h"

#define NAMESPACE "podreaper-bench-gc"
#define CONTAINER_NAME "app"
#define KEEP_PER_CONTAINER 1 /* podreaper's default, as the kubelet's */

enum { SIDE_PODREAPER, SIDE_KUBELET, N_SIDES };

static const char *const side_names[N_SIDES] = {
        "podreaper run --only containers",
        "kubelet way (1 call at a time)",
};

static const char *const namespace_selector[] = {"io.kubernetes.pod.namespace", NAMESPACE, NULL};

typedef struct Side {
        double wall[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS], rss[BENCH_MAX_RUNS], runtime_cpu[BENCH_MAX_RUNS];
        unsigned n;
} Side;

static const char *podreaper, *node_dir;
static unsigned per_pod = 10;

/* ---- the kubelet's way (child) ------------------------------------------------------------------- */

static const char *pod_uid_of(const CriContainer *c) {
        return cri_map_get(&c->labels, "io.kubernetes.pod.uid");
}

/* Pod uid, container name, then newest first: the kubelet's evictUnits, each sorted byCreated. */
static int cmp_gc_unit(const void *a, const void *b) {
        const CriContainer *x = *(const CriContainer *const *) a, *y = *(const CriContainer *const *) b;
        int r = strcmp(pod_uid_of(x), pod_uid_of(y)) ?: strcmp(x->name, y->name);

        return r ?: (x->created_at < y->created_at) - (x->created_at > y->created_at);
}

static bool same_unit(const CriContainer *x, const CriContainer *y) {
        return streq(pod_uid_of(x), pod_uid_of(y)) && streq(x->name, y->name);
}

/* --serial-gc EXPECTED: removes what the default policy removes, one call at a time; prints how
 * many and exits 0 only if that was EXPECTED. */
static int serial_gc_mode(const char *expected_s) {
        _cleanup_cri_client_ CriClient *c = NULL;
        _cleanup_free_ const CriContainer **units = NULL;
        CriContainerList l = {};
        CriStatus st = {};
        size_t n = 0, removed = 0;
        unsigned expected = bench_parse_count("--serial-gc", expected_s, 0, 1000000);

        bench_runtime_env();
        c = bench_connect(1);
        bench_check(cri_list_containers(c, NULL, &l, &st), &st, "ListContainers");
        units = calloc(l.n ?: 1, sizeof(CriContainer *));
        if (!units)
                bench_fail("out of memory");
        /* evictableContainers: not running, labelled by the kubelet; here also of this bench only */
        for (size_t i = 0; i < l.n; i++) {
                const char *ns = cri_map_get(&l.items[i].labels, "io.kubernetes.pod.namespace");

                if (l.items[i].state != CRI_CONTAINER_RUNNING && pod_uid_of(&l.items[i]) && ns &&
                    streq(ns, NAMESPACE))
                        units[n++] = &l.items[i];
        }
        qsort(units, n, sizeof(CriContainer *), cmp_gc_unit);

        for (size_t start = 0, end; start < n; start = end) {
                for (end = start + 1; end < n && same_unit(units[start], units[end]); end++)
                        ;
                /* removeOldestN: from the oldest to the newest of those beyond the limit */
                for (size_t i = end; i > start + KEEP_PER_CONTAINER; i--) {
                        int r = cri_remove_container(c, units[i - 1]->id, &st);

                        if (r == -ENOENT) /* already gone: the kubelet counts it removed too */
                                cri_status_done(&st);
                        else
                                bench_check(r, &st, "RemoveContainer");
                        removed++;
                }
        }
        cri_container_list_done(&l);
        printf("%zu removed\n", removed);
        return removed == expected ? 0 : 1;
}

/* ---- the node ------------------------------------------------------------------------------------ */

static void make_dir(const char *path) {
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                bench_fail("mkdir %s: %m", path);
}

/* The live pods, each with a pod dir as the kubelet keeps for it. */
static void pods_run(unsigned n_pods) {
        _cleanup_cri_client_ CriClient *c = bench_connect(1);

        for (unsigned i = 0; i < n_pods; i++) {
                _cleanup_free_ char *name = bench_asprintf("gc-%u", i), *dir = NULL;
                BenchPod *p = bench_pod_run(c, NAMESPACE, name);

                dir = bench_asprintf("%s/kubelet/pods/%s", node_dir, p->uid);
                make_dir(dir);
                bench_check_interrupted();
        }
}

/* Job for bench_in_workers(): the per_pod containers of pod i, in attempt order. */
static void pod_containers_run(CriClient *c, size_t i, void *userdata) {
        (void) userdata;
        for (unsigned attempt = 0; attempt < per_pod; attempt++)
                bench_container_run(c, bench_pods[i], CONTAINER_NAME, attempt, NULL);
}

/* Removes what is left of the bench's containers (the previous side's survivors), in one batch. */
static void containers_remove_all(CriClient *c) {
        const CriContainerFilter filter = {.state = -1, .label_selector = namespace_selector};
        _cleanup_free_ CriBatchCall *calls = NULL;
        CriContainerList l = {};
        CriStatus st = {};

        bench_check(cri_list_containers(c, &filter, &l, &st), &st, "ListContainers");
        calls = calloc(l.n ?: 1, sizeof(CriBatchCall));
        if (!calls)
                bench_fail("out of memory");
        for (size_t i = 0; i < l.n; i++)
                calls[i] = (CriBatchCall){.op = CRI_BATCH_REMOVE_CONTAINER, .id = l.items[i].id};
        (void) cri_batch_run(c, calls, l.n);
        for (size_t i = 0; i < l.n; i++)
                if (calls[i].result < 0 && calls[i].result != -ENOENT)
                        bench_fail("removing container %s: %s", l.items[i].id, calls[i].status.message);
        cri_batch_done(calls, l.n);
        cri_container_list_done(&l);
}

/* Makes the set again: per_pod exited containers in every pod, nothing else of the bench's. */
static void set_make(CriClient *c, unsigned workers, const char *what) {
        double start, created, exited, settled;
        CriContainerList l = {};

        containers_remove_all(c);
        start = bench_now_ms();
        bench_in_workers(bench_n_pods, workers, pod_containers_run, NULL);
        created = bench_now_ms();
        bench_containers_wait_exited(c, namespace_selector, bench_n_pods * per_pod, &l);
        cri_container_list_done(&l);
        exited = bench_now_ms();
        settled = bench_runtime_settle();
        printf("%s set made: %zu containers created+started in %5.1f s by %u workers, all EXITED %.1f s "
               "later, synced and idle %.1f s later\n",
               what,
               bench_n_pods * per_pod,
               (created - start) / 1e3,
               workers,
               (exited - created) / 1e3,
               settled);
        fflush(stdout);
}

/* The index of the pod in bench_pods, or bench_n_pods. */
static size_t pod_find(const char *uid) {
        size_t i = 0;

        while (uid && i < bench_n_pods && !streq(bench_pods[i]->uid, uid))
                i++;
        return uid ? i : bench_n_pods;
}

/* Exactly the newest container of each pod is left, EXITED, and every sandbox is still READY. */
static void set_check_survivors(CriClient *c, const char *what) {
        const CriContainerFilter filter = {.state = -1, .label_selector = namespace_selector};
        const CriPodSandboxFilter sandbox_filter = {
                .state = CRI_SANDBOX_READY,
                .label_selector = namespace_selector,
        };
        _cleanup_free_ bool *seen = calloc(bench_n_pods ?: 1, sizeof(bool));
        CriPodSandboxList sandboxes = {};
        CriContainerList l = {};
        CriStatus st = {};

        if (!seen)
                bench_fail("out of memory");
        bench_check(cri_list_containers(c, &filter, &l, &st), &st, "ListContainers");
        if (l.n != bench_n_pods)
                bench_fail("%s: %zu containers left, expected %zu (one per pod)", what, l.n, bench_n_pods);
        for (size_t i = 0; i < l.n; i++) {
                const CriContainer *k = &l.items[i];
                size_t p = pod_find(pod_uid_of(k));

                if (p == bench_n_pods || seen[p] || k->attempt != per_pod - 1 ||
                    k->state != CRI_CONTAINER_EXITED)
                        bench_fail(
                                "%s: container %s left (pod %s, attempt %u, %s): not the newest of its pod",
                                what,
                                k->id,
                                pod_uid_of(k) ?: "?",
                                k->attempt,
                                cri_container_state_to_string(k->state) ?: "?");
                seen[p] = true;
        }
        cri_container_list_done(&l);
        bench_check(cri_list_pod_sandboxes(c, &sandbox_filter, &sandboxes, &st), &st, "ListPodSandbox");
        if (sandboxes.n != bench_n_pods)
                bench_fail("%s: %zu of %zu sandboxes READY", what, sandboxes.n, bench_n_pods);
        cri_pod_sandbox_list_done(&sandboxes);
}

/* ---- the sides ----------------------------------------------------------------------------------- */

/* podreaper COMMAND --only containers on the node, as the issue names it; free it with
 * strv_free(). */
static char **reaper_argv(const char *command) {
        const char *const extra[] = {"--only", "containers", "--output", "json", "-q", NULL};

        return bench_reaper_argv(podreaper, node_dir, bench_kubepods, command, extra);
}

static size_t count_substr(const char *s, const char *needle) {
        size_t n = 0;

        for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* The JSON report's remove-container actions, and the summary's "<key>":N. */
static void report_check(const char *what, const char *report, const char *key, size_t expected) {
        _cleanup_free_ char *needle = bench_asprintf("\"%s\":", key);
        const char *summary = strstr(report, "\"summary\":");
        const char *v = summary ? strstr(summary, needle) : NULL;
        size_t actions = count_substr(report, "{\"kind\":\"remove-container\"");
        size_t counted = v ? strtoul(v + strlen(needle), NULL, 10) : 0;

        if (actions != expected || counted != expected)
                bench_fail(
                        "%s: %zu remove-container actions, summary \"%s\" %zu; expected %zu of each: "
                        "%.2000s",
                        what,
                        actions,
                        key,
                        counted,
                        expected,
                        summary ?: report);
}

static BenchUsage side_run(unsigned side, size_t expected, double *ret_runtime_cpu) {
        _cleanup_close_ int out = bench_memfd_new();
        _cleanup_free_ char *output = NULL, *expected_s = bench_asprintf("%zu", expected);
        double runtime_cpu = bench_runtime_cpu_ms();
        BenchUsage u;

        if (side == SIDE_PODREAPER) {
                char **argv = reaper_argv("run");

                u = bench_measure(argv, out, out);
                strv_free(argv);
        } else
                u = bench_measure(
                        (char *const[]){(char *) bench_self, (char *) "--serial-gc", expected_s, NULL},
                        out,
                        out);
        *ret_runtime_cpu = runtime_cpu < 0 ? -1 : bench_runtime_cpu_ms() - runtime_cpu;
        output = bench_memfd_read(out);
        if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0)
                bench_fail("%s failed (%s): %.4000s", side_names[side], bench_exit_string(u.status), output);
        if (side == SIDE_PODREAPER)
                report_check(side_names[side], output, "done", expected);
        return u;
}

/* The unmeasured plan: podreaper means to remove exactly the expected containers. */
static void plan_check(size_t expected) {
        _cleanup_close_ int out = bench_memfd_new();
        _cleanup_free_ char *output = NULL;
        char **argv = reaper_argv("plan");
        BenchUsage u = bench_measure(argv, out, out);

        strv_free(argv);
        output = bench_memfd_read(out);
        if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0)
                bench_fail("podreaper plan failed (%s): %.4000s", bench_exit_string(u.status), output);
        report_check("podreaper plan", output, "planned", expected);
}

static void print_usage_line(const char *what, const BenchUsage *u, double runtime_cpu) {
        printf("%-44s wall %8.1f ms   CPU %7.1f ms (user %6.1f + sys %6.1f)   peak RSS %6ld KiB   "
               "containerd CPU %7.1f ms\n",
               what,
               u->wall_ms,
               u->user_ms + u->sys_ms,
               u->user_ms,
               u->sys_ms,
               u->rss_kib,
               runtime_cpu);
}

static void bench_gc(unsigned runs, unsigned n_pods, unsigned workers, const bool sides[N_SIDES]) {
        _cleanup_cri_client_ CriClient *c = bench_connect(CRI_DEFAULT_MAX_CONCURRENT);
        size_t expected = (size_t) n_pods * (per_pod - KEEP_PER_CONTAINER);
        Side s[N_SIDES] = {};
        double start = bench_now_ms(), load[3] = {};

        pods_run(n_pods);
        printf("gc: %u live pods (READY host-network sandboxes, run in %.1f s), %u exited containers each "
               "(one "
               "name, attempts 0..%u); the default policy keeps %d per container: %zu removals; %u run(s), "
               "order alternating\n",
               n_pods,
               (bench_now_ms() - start) / 1e3,
               per_pod,
               per_pod - 1,
               KEEP_PER_CONTAINER,
               expected,
               runs);
        fflush(stdout);

        for (unsigned run = 0; run < runs; run++)
                for (unsigned k = 0; k < N_SIDES; k++) {
                        unsigned side = (k + run) % N_SIDES;
                        _cleanup_free_ char *what = NULL;
                        double runtime_cpu;
                        BenchUsage u;

                        if (!sides[side])
                                continue;
                        what = bench_asprintf("gc run %u/%u %s", run + 1, runs, side_names[side]);
                        set_make(c, workers, what);
                        if (side == SIDE_PODREAPER) {
                                plan_check(expected);
                                (void) bench_runtime_settle();
                        }
                        u = side_run(side, expected, &runtime_cpu);
                        set_check_survivors(c, what);
                        s[side].wall[s[side].n] = u.wall_ms;
                        s[side].cpu[s[side].n] = u.user_ms + u.sys_ms;
                        s[side].rss[s[side].n] = u.rss_kib;
                        s[side].runtime_cpu[s[side].n++] = runtime_cpu;
                        print_usage_line(what, &u, runtime_cpu);
                        printf("%s: %zu removed, the newest of each pod left\n", what, expected);
                        fflush(stdout);
                }

        for (unsigned side = 0; side < N_SIDES; side++)
                if (s[side].n > 0)
                        printf("gc %-32s median: wall %8.1f ms   CPU %7.1f ms   peak RSS %6.0f KiB   "
                               "containerd CPU %7.1f ms   per removal: wall %.2f ms, CPU %.3f ms\n",
                               side_names[side],
                               bench_median(s[side].wall, s[side].n),
                               bench_median(s[side].cpu, s[side].n),
                               bench_median(s[side].rss, s[side].n),
                               bench_median(s[side].runtime_cpu, s[side].n),
                               bench_median(s[side].wall, s[side].n) / expected,
                               bench_median(s[side].cpu, s[side].n) / expected);
        if (s[SIDE_PODREAPER].n > 0 && s[SIDE_KUBELET].n > 0)
                printf("gc ratio kubelet way / podreaper: wall %.2fx, CPU %.2fx, containerd CPU %.2fx\n",
                       bench_median(s[SIDE_KUBELET].wall, s[SIDE_KUBELET].n) /
                               bench_median(s[SIDE_PODREAPER].wall, s[SIDE_PODREAPER].n),
                       bench_median(s[SIDE_KUBELET].cpu, s[SIDE_KUBELET].n) /
                               bench_median(s[SIDE_PODREAPER].cpu, s[SIDE_PODREAPER].n),
                       bench_median(s[SIDE_KUBELET].runtime_cpu, s[SIDE_KUBELET].n) /
                               bench_median(s[SIDE_PODREAPER].runtime_cpu, s[SIDE_PODREAPER].n));
        if (getloadavg(load, 3) == 3)
                printf("gc load average at the end: %.2f %.2f %.2f on %ld CPUs\n",
                       load[0],
                       load[1],
                       load[2],
                       sysconf(_SC_NPROCESSORS_ONLN));
        fflush(stdout);
}

/* ---- main ---------------------------------------------------------------------------------------- */

static char *podreaper_find(void) {
        const char *build = getenv("PODREAPER_BUILD");
        _cleanup_free_ char *self_dir = NULL, *p = NULL;
        char *abs;

        if (build)
                p = bench_asprintf("%s/podreaper", build);
        else {
                self_dir = realpath("/proc/self/exe", NULL);
                if (!self_dir || !strrchr(self_dir, '/'))
                        bench_fail("realpath /proc/self/exe: %m");
                *strrchr(self_dir, '/') = '\0';
                p = bench_asprintf("%s/../../podreaper", self_dir); /* BUILD/tests/bench/bench-gc */
        }
        abs = realpath(p, NULL);
        if (!abs || access(abs, X_OK) < 0) {
                fprintf(stderr,
                        "bench-gc: %s missing: build it (make BUILD=... all), or set PODREAPER_BUILD\n",
                        p);
                exit(1);
        }
        return abs;
}

int main(int argc, char *argv[]) {
        unsigned runs = 3, n_pods = 100, workers = 4;
        bool sides[N_SIDES] = {true, true};
        _cleanup_free_ char *dir = NULL, *reaper = NULL;
        const char *ctd_dir;

        bench_self = argv[0];
        if (argc >= 3 && streq(argv[1], "--spawn"))
                return bench_spawn_mode(argv + 2);
        if (argc == 3 && streq(argv[1], "--serial-gc"))
                return serial_gc_mode(argv[2]);

        for (int i = 1; i < argc; i += 2) {
                const char *o = argv[i], *v = argv[i + 1];

                if (streq(o, "--runs"))
                        runs = bench_parse_count(o, v, 1, BENCH_MAX_RUNS);
                else if (streq(o, "--pods"))
                        n_pods = bench_parse_count(o, v, 1, 1000);
                else if (streq(o, "--per-pod"))
                        per_pod = bench_parse_count(o, v, KEEP_PER_CONTAINER + 1, 1000);
                else if (streq(o, "--create-workers"))
                        workers = bench_parse_count(o, v, 1, 64);
                else if (
                        streq(o, "--sides") && v &&
                        (streq(v, "both") || streq(v, "podreaper") || streq(v, "kubelet"))) {
                        sides[SIDE_PODREAPER] = !streq(v, "kubelet");
                        sides[SIDE_KUBELET] = !streq(v, "podreaper");
                } else {
                        fprintf(stderr,
                                "usage: bench-gc [--runs N] [--pods N] [--per-pod N] [--create-workers N] "
                                "[--sides both|podreaper|kubelet]\n");
                        return 2;
                }
        }

        bench_runtime_env();
        ctd_dir = getenv("PODREAPER_TEST_CTD_DIR");
        if (!ctd_dir) {
                fprintf(stderr,
                        "bench-gc: PODREAPER_TEST_CTD_DIR not set: run under "
                        "tests/e2e/with-containerd.sh\n");
                return 77;
        }
        if (sides[SIDE_PODREAPER])
                podreaper = reaper = podreaper_find();
        dir = bench_asprintf("%s/bench-gc.XXXXXX", ctd_dir);
        if (!mkdtemp(dir))
                bench_fail("mkdtemp %s: %m", dir);
        node_dir = dir;
        for (const char *sub = "kubelet\0kubelet/pods\0pods-logs\0containers-logs\0state\0"; *sub;
             sub += strlen(sub) + 1) {
                _cleanup_free_ char *p = bench_asprintf("%s/%s", node_dir, sub);

                make_dir(p);
        }
        bench_catch_signals();

        bench_gc(runs, n_pods, workers, sides);
        bench_pods_remove_all();
        return 0;
}
