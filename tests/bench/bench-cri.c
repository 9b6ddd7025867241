/* SPDX-License-Identifier: MIT */
/*
 * cri/ against a real containerd, side by side in one run (under tests/e2e/with-containerd.sh).
 *
 * (a) Bulk removal: N exited containers (busybox `/bin/true`, started and waited for until
 *     EXITED) in a handful of host-network sandboxes are removed with cri_batch_run() as
 *     concurrent streams on one connection (max_concurrent 8); the same N are created again and
 *     removed by the same client with max_concurrent 1 — one call at a time, as the kubelet and
 *     crictl remove. The order alternates over the runs; medians and the ratio. Creation (not
 *     timed against anything) runs in a few worker processes, each with its own connection: the
 *     CRI has no batch create, and 500 serial create+start calls take minutes.
 * (b) Idle listing pass over M host-network sandboxes: Version + ListPodSandbox + ListContainers
 *     + ListImages in a fresh process (this binary re-executed with --list-pass) against
 *     `ctr -n k8s.io containers ls` on the same containerd: CPU time (user+sys) and peak RSS by
 *     wait4(). Both are started from a small re-executed spawner (--spawn), not forked from this
 *     process: a forked child's ru_maxrss starts at its parent's resident set.
 *
 * Everything created is removed again (StopPodSandbox + RemovePodSandbox, which takes the
 * containers along), also when a step fails; with-containerd.sh tears the runtime down anyway.
 *
 * Usage: bench-cri [--runs N] [--containers N] [--sandboxes N] [--create-workers N]
 *                  [--list-sandboxes N] [--list-runs N]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cri/cri.h"
#include "tests/bench/lib/bench-util.h"
#include "util/macro.h"
#include "util/parse.h"

#define NAMESPACE "podreaper-bench"
#define ROUND_LABEL "podreaper.bench/round"
#define SERIAL 1U
#define CONCURRENT CRI_DEFAULT_MAX_CONCURRENT

typedef struct Removal {
        double ms;
        double client_cpu_ms;
        double runtime_cpu_ms; /* containerd's own (not its shims'); < 0 when unknown */
} Removal;

static unsigned pod_counter;

static double cpu_ms_self(void) {
        struct rusage ru;

        if (getrusage(RUSAGE_SELF, &ru) < 0)
                bench_fail("getrusage: %m");
        return bench_tv_ms(ru.ru_utime) + bench_tv_ms(ru.ru_stime);
}

/* ---- sandboxes and containers -------------------------------------------------------------------- */

static BenchPod *pod_run(CriClient *c, const char *role) {
        _cleanup_free_ char *name = bench_asprintf("bench-%s-%u", role, ++pod_counter);

        return bench_pod_run(c, NAMESPACE, name);
}

/* Creates and starts container `index` of a round in pod index % n_pods (bench_in_workers). */
static void container_run(CriClient *c, size_t index, void *userdata) {
        _cleanup_free_ char *name = NULL;
        const char *round = userdata;

        name = bench_asprintf("r%s-c%zu", round, index);
        bench_container_run(
                c,
                bench_pods[index % bench_n_pods],
                name,
                0,
                (const char *const[]){ROUND_LABEL, round, NULL});
}

/* Waits until all n containers of the round are EXITED; returns their ids (NULL-terminated). */
static char **containers_wait_exited(CriClient *c, const char *round, size_t n) {
        CriContainerList l = {};
        char **ids;

        bench_containers_wait_exited(c, (const char *const[]){ROUND_LABEL, round, NULL}, n, &l);
        ids = calloc(n + 1, sizeof(char *));
        if (!ids)
                bench_fail("out of memory");
        for (size_t i = 0; i < n; i++)
                if (!(ids[i] = strdup(l.items[i].id)))
                        bench_fail("out of memory"); /* leaks the ones before: we fail now */
        cri_container_list_done(&l);
        return ids;
}

/* Removes the containers with cri_batch_run() on a fresh connection with that bound; times the
 * batch alone (the connection is set up and used once before). */
static Removal containers_remove(const char *round, char **ids, size_t n, unsigned max_concurrent) {
        _cleanup_cri_client_ CriClient *c = bench_connect(max_concurrent);
        _cleanup_free_ CriBatchCall *calls = calloc(n, sizeof(CriBatchCall));
        CriContainerList l = {};
        CriVersion v = {};
        CriStatus st = {};
        Removal m;
        double start, cpu, runtime_cpu;
        int r;

        if (!calls)
                bench_fail("out of memory");
        bench_check(cri_version(c, &v, &st), &st, "Version");
        cri_version_done(&v);
        for (size_t i = 0; i < n; i++)
                calls[i] = (CriBatchCall){.op = CRI_BATCH_REMOVE_CONTAINER, .id = ids[i]};

        runtime_cpu = bench_runtime_cpu_ms();
        cpu = cpu_ms_self();
        start = bench_now_ms();
        r = cri_batch_run(c, calls, n);
        m.ms = bench_now_ms() - start;
        m.client_cpu_ms = cpu_ms_self() - cpu;
        m.runtime_cpu_ms = runtime_cpu < 0 ? -1 : bench_runtime_cpu_ms() - runtime_cpu;

        if (r != 0) {
                for (size_t i = 0; i < n; i++)
                        if (calls[i].result < 0)
                                bench_fail(
                                        "round %s: %d of %zu RemoveContainer calls failed; first: %s: %s",
                                        round,
                                        r,
                                        n,
                                        calls[i].id,
                                        calls[i].status.message);
                bench_fail("round %s: cri_batch_run: %s", round, strerror(-r));
        }
        cri_batch_done(calls, n);

        bench_check(
                cri_list_containers(
                        c,
                        &(CriContainerFilter){
                                .state = -1,
                                .label_selector = (const char *const[]){ROUND_LABEL, round, NULL},
                        },
                        &l,
                        &st),
                &st,
                "ListContainers");
        if (l.n != 0)
                bench_fail("round %s: %zu containers still listed after removing them all", round, l.n);
        cri_container_list_done(&l);
        return m;
}

/* ---- (a) bulk removal ------------------------------------------------------------------------------ */

static void bench_removal(unsigned runs, size_t n, unsigned n_sandboxes, unsigned workers) {
        static const char *const mode_names[2] = {"concurrent (8 streams)", "serial (1 stream)"};
        static const unsigned mode_bounds[2] = {CONCURRENT, SERIAL};
        double ms[2][BENCH_MAX_RUNS], med[2];
        _cleanup_cri_client_ CriClient *c = bench_connect(SERIAL);
        unsigned n_rounds = 0;
        double start;

        start = bench_now_ms();
        for (unsigned i = 0; i < n_sandboxes; i++)
                (void) pod_run(c, "bulk");
        printf("bulk removal: %zu exited containers in %u host-network sandboxes (run in %.1f s), %u runs, "
               "order alternating\n",
               n,
               n_sandboxes,
               (bench_now_ms() - start) / 1e3,
               runs);

        for (unsigned run = 0; run < runs; run++)
                for (unsigned k = 0; k < 2; k++) {
                        unsigned mode = (k + run) % 2;
                        char round[16];
                        double created, exited, settled;
                        char **ids;
                        Removal m;

                        snprintf(round, sizeof(round), "%u", ++n_rounds);
                        start = bench_now_ms();
                        bench_in_workers(n, workers, container_run, round);
                        created = bench_now_ms();
                        ids = containers_wait_exited(c, round, n);
                        exited = bench_now_ms();
                        settled = bench_runtime_settle();
                        m = containers_remove(round, ids, n, mode_bounds[mode]);
                        strv_free(ids);
                        ms[mode][run] = m.ms;
                        printf("bulk removal run %u/%u %-22s %zu containers removed in %8.1f ms (%6.0f/s, "
                               "client CPU %5.1f ms, containerd CPU %6.0f ms); created+started in %5.1f s "
                               "by %u workers, all EXITED %.1f s later, synced and idle %.1f s later\n",
                               run + 1,
                               runs,
                               mode_names[mode],
                               n,
                               m.ms,
                               n / (m.ms / 1e3),
                               m.client_cpu_ms,
                               m.runtime_cpu_ms,
                               (created - start) / 1e3,
                               workers,
                               (exited - created) / 1e3,
                               settled);
                        fflush(stdout);
                }

        for (unsigned mode = 0; mode < 2; mode++) {
                med[mode] = bench_median(ms[mode], runs);
                printf("bulk removal %-22s median %8.1f ms   runs:", mode_names[mode], med[mode]);
                for (unsigned run = 0; run < runs; run++)
                        printf(" %.0f", ms[mode][run]);
                printf("\n");
        }
        printf("bulk removal ratio serial / concurrent: %.2fx (target >= 2x: %s)\n",
               med[1] / med[0],
               med[1] / med[0] >= 2 ? "met" : "MISSED");
        fflush(stdout);
}

/* ---- (b) idle listing pass ------------------------------------------------------------------------- */

/* Child mode: one listing pass, as podreaper's snapshot does it; fails with fewer sandboxes than
 * expected, so that the pass is known to have seen them. */
static int list_pass_mode(const char *ep, const char *expected_sandboxes) {
        _cleanup_cri_client_ CriClient *c = NULL;
        CriPodSandboxList sandboxes = {};
        CriContainerList containers = {};
        CriImageList images = {};
        CriVersion v = {};
        CriStatus st = {};
        unsigned expected;
        int r;

        if (safe_atou(expected_sandboxes, &expected) < 0)
                return 2;
        r = cri_connect(ep, NULL, &c, &st);
        if (r >= 0)
                r = cri_version(c, &v, &st);
        if (r >= 0)
                r = cri_list_pod_sandboxes(c, NULL, &sandboxes, &st);
        if (r >= 0)
                r = cri_list_containers(c, NULL, &containers, &st);
        if (r >= 0)
                r = cri_list_images(c, &images, &st);
        if (r < 0) {
                fprintf(stderr, "bench-cri --list-pass: %s\n", st.message);
                cri_status_done(&st);
                return 1;
        }
        printf("%s %s: %zu sandboxes, %zu containers, %zu images\n",
               v.runtime_name,
               v.runtime_version,
               sandboxes.n,
               containers.n,
               images.n);
        r = sandboxes.n >= expected ? 0 : 1;
        cri_version_done(&v);
        cri_pod_sandbox_list_done(&sandboxes);
        cri_container_list_done(&containers);
        cri_image_list_done(&images);
        return r;
}

/* Runs argv through the spawner with stdout on out_fd; fails unless it exits 0. */
static BenchUsage measure(char *const argv[], int out_fd) {
        BenchUsage u = bench_measure(argv, out_fd, -EBADF);

        if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0)
                bench_fail("%s failed (%s)", argv[0], bench_exit_string(u.status));
        return u;
}

/* The output of one unmeasured run, to check what the tool saw. */
static char *measure_output(char *const argv[]) {
        _cleanup_close_ int fd = bench_memfd_new();

        (void) measure(argv, fd);
        return bench_memfd_read(fd);
}

static void print_usage_line(const char *what, unsigned run, unsigned runs, const BenchUsage *u) {
        printf("listing pass run %u/%u %-28s CPU %6.1f ms (user %5.1f + sys %5.1f)   peak RSS %6ld KiB   "
               "wall %6.1f ms\n",
               run,
               runs,
               what,
               u->user_ms + u->sys_ms,
               u->user_ms,
               u->sys_ms,
               u->rss_kib,
               u->wall_ms);
}

static void bench_listing(unsigned runs, unsigned n_sandboxes) {
        enum { TOOL_OURS, TOOL_CTR, N_TOOLS };
        static const char *const tool_names[N_TOOLS] = {"podreaper --list-pass", "ctr containers ls"};
        _cleanup_free_ char *ours_out = NULL, *ctr_out = NULL;
        _cleanup_close_ int devnull = -EBADF;
        double cpu[N_TOOLS][BENCH_MAX_RUNS], med[N_TOOLS];
        long rss[N_TOOLS] = {};
        const char *ctd_sock = getenv("CTD_SOCK");
        char expected[16];
        double start;
        BenchUsage floor;

        if (!ctd_sock)
                bench_fail("CTD_SOCK not set: run under tests/e2e/with-containerd.sh");
        snprintf(expected, sizeof(expected), "%u", n_sandboxes);
        char *const ours[] = {
                (char *) bench_self, (char *) "--list-pass", (char *) bench_endpoint, expected, NULL};
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
        char *const true_argv[] = {(char *) "/bin/true", NULL};

        {
                _cleanup_cri_client_ CriClient *c = bench_connect(CONCURRENT);

                start = bench_now_ms();
                for (unsigned i = 0; i < n_sandboxes; i++)
                        (void) pod_run(c, "idle");
        }
        printf("listing pass: %u host-network sandboxes (run in %.1f s), %u runs each, order alternating\n",
               n_sandboxes,
               (bench_now_ms() - start) / 1e3,
               runs);

        /* One unmeasured run each: warms the page cache for both binaries, and shows that both
         * saw the sandboxes (ctr: one pause container each, plus a header line). */
        ours_out = measure_output(ours);
        ctr_out = measure_output(ctr);
        if (bench_count_lines(ctr_out) < n_sandboxes + 1)
                bench_fail(
                        "ctr listed %zu lines, expected a header and >= %u containers",
                        bench_count_lines(ctr_out),
                        n_sandboxes);
        printf("listing pass: podreaper saw %s", ours_out);
        printf("listing pass: ctr listed %zu containers\n", bench_count_lines(ctr_out) - 1);

        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull < 0)
                bench_fail("/dev/null: %m");
        floor = measure(true_argv, devnull);
        print_usage_line("/bin/true (the floor)", 1, 1, &floor);

        for (unsigned run = 0; run < runs; run++)
                for (unsigned k = 0; k < N_TOOLS; k++) {
                        unsigned tool = (k + run) % N_TOOLS;
                        BenchUsage u = measure(tool == TOOL_OURS ? ours : ctr, devnull);

                        cpu[tool][run] = u.user_ms + u.sys_ms;
                        rss[tool] = MAX(rss[tool], u.rss_kib);
                        print_usage_line(tool_names[tool], run + 1, runs, &u);
                }

        for (unsigned tool = 0; tool < N_TOOLS; tool++) {
                med[tool] = bench_median(cpu[tool], runs);
                printf("listing pass %-22s median CPU %6.1f ms   max peak RSS %6ld KiB\n",
                       tool_names[tool],
                       med[tool],
                       rss[tool]);
        }
        printf("listing pass ratio ctr / podreaper: CPU %.2fx, peak RSS %.2fx (target > 1x both: %s)\n",
               med[TOOL_CTR] / med[TOOL_OURS],
               (double) rss[TOOL_CTR] / rss[TOOL_OURS],
               med[TOOL_CTR] > med[TOOL_OURS] && rss[TOOL_CTR] > rss[TOOL_OURS] ? "met" : "MISSED");
        fflush(stdout);
}

/* ---- main ---------------------------------------------------------------------------------------- */

int main(int argc, char *argv[]) {
        unsigned runs = 3, n_containers = 500, n_sandboxes = 5, workers = 4, list_sandboxes = 100,
                 list_runs = 5;

        bench_self = argv[0];
        if (argc >= 3 && strcmp(argv[1], "--spawn") == 0)
                return bench_spawn_mode(argv + 2);
        if (argc == 4 && strcmp(argv[1], "--list-pass") == 0)
                return list_pass_mode(argv[2], argv[3]);

        for (int i = 1; i < argc; i += 2) {
                const char *o = argv[i], *v = argv[i + 1];

                if (strcmp(o, "--runs") == 0)
                        runs = bench_parse_count(o, v, 1, BENCH_MAX_RUNS);
                else if (strcmp(o, "--containers") == 0)
                        n_containers = bench_parse_count(o, v, 1, 100000);
                else if (strcmp(o, "--sandboxes") == 0)
                        n_sandboxes = bench_parse_count(o, v, 1, 1000);
                else if (strcmp(o, "--create-workers") == 0)
                        workers = bench_parse_count(o, v, 1, BENCH_MAX_RUNS);
                else if (strcmp(o, "--list-sandboxes") == 0)
                        list_sandboxes = bench_parse_count(o, v, 0, 10000);
                else if (strcmp(o, "--list-runs") == 0)
                        list_runs = bench_parse_count(o, v, 1, BENCH_MAX_RUNS);
                else {
                        fprintf(stderr,
                                "usage: bench-cri [--runs N] [--containers N] [--sandboxes N] "
                                "[--create-workers N] [--list-sandboxes N] [--list-runs N]\n");
                        return 2;
                }
        }

        bench_runtime_env();

        bench_removal(runs, n_containers, n_sandboxes, workers);
        bench_pods_remove_all();
        bench_listing(list_runs, list_sandboxes);
        bench_pods_remove_all();
        return 0;
}
