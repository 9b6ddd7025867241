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
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cri/cri.h"
#include "util/macro.h"
#include "util/parse.h"

#define BUSYBOX_IMAGE "docker.io/library/busybox:1.35"
#define NAMESPACE "podreaper-bench"
#define ROUND_LABEL "podreaper.bench/round"
#define MAX_RUNS 63
#define SERIAL 1U
#define CONCURRENT CRI_DEFAULT_MAX_CONCURRENT

typedef struct Pod {
        char uid[37];
        char *name;
        char *cgroup_parent;
        const char *labels[7];
        CriPodSandboxConfig config;
        char *sandbox_id;
} Pod;

/* What a measured process cost, as the spawner reports it over its pipe. */
typedef struct Usage {
        int status; /* wait status */
        double wall_ms;
        double user_ms;
        double sys_ms;
        long rss_kib;
} Usage;

typedef struct Removal {
        double ms;
        double client_cpu_ms;
        double runtime_cpu_ms; /* containerd's own (not its shims'); < 0 when unknown */
} Removal;

static const char *self, *endpoint, *kubepods;
static bool is_worker; /* a creation worker: leaves the cleanup to its parent */
static Pod **pods;     /* the sandboxes this run created and has not removed yet */
static size_t n_pods;
static unsigned pod_counter;

static void pods_remove_all(void);

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static _printf_(1, 2) _Noreturn void fail(const char *format, ...) {
        int saved_errno = errno; /* for %m */
        va_list ap;

        fflush(stdout);
        fputs("bench-cri: ", stderr);
        errno = saved_errno;
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (is_worker)
                _exit(1);
        pods_remove_all();
        exit(1);
}

/* Fails with the call's status; releases it otherwise. */
static void check(int r, CriStatus *st, const char *what) {
        if (r < 0)
                fail("%s: %s (%s: %s)",
                     what,
                     strerror(-r),
                     cri_code_to_string(st->code) ?: "?",
                     st->message ?: "(no message)");
        cri_status_done(st);
}

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double tv_ms(struct timeval tv) {
        return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static double cpu_ms_self(void) {
        struct rusage ru;

        if (getrusage(RUSAGE_SELF, &ru) < 0)
                fail("getrusage: %m");
        return tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
}

/* containerd's CPU time (utime + stime from /proc/<CTD_PID>/stat), -1 when unknown: shows
 * whether the runtime is what bounds a removal. */
static double cpu_ms_runtime(void) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        const char *pid = getenv("CTD_PID"), *p;
        unsigned long long ticks = 0;
        size_t size = 0;

        if (!pid || asprintf(&path, "/proc/%s/stat", pid) < 0 || !(f = fopen(path, "re")) ||
            getline(&line, &size, f) < 0 || !(p = strrchr(line, ')')))
                return -1;
        /* after the comm: state is field 3, utime 14, stime 15 */
        for (unsigned field = 2; field < 15 && p; field++) {
                p = strchr(p + 1, ' ');
                if (p && field >= 13)
                        ticks += strtoull(p + 1, NULL, 10);
        }
        return p ? ticks * 1e3 / sysconf(_SC_CLK_TCK) : -1;
}

static void sleep_ms(long ms) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

static double median(const double *v, unsigned n) {
        double s[MAX_RUNS];

        memcpy(s, v, n * sizeof(double));
        qsort(s, n, sizeof(double), cmp_double);
        return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static CriClient *client_connect(unsigned max_concurrent) {
        const CriOptions opts = {.max_concurrent = max_concurrent};
        CriClient *c = NULL;
        CriStatus st = {};

        check(cri_connect(endpoint, &opts, &c, &st), &st, "connect");
        return c;
}

/* ---- sandboxes and containers -------------------------------------------------------------------- */

static void random_uuid(char ret[static 37]) {
        _cleanup_close_ int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);

        if (fd < 0 || read(fd, ret, 36) != 36)
                fail("cannot read /proc/sys/kernel/random/uuid: %m");
        ret[36] = '\0';
}

static Pod *pod_free(Pod *p) {
        if (p) {
                free(p->name);
                free(p->cgroup_parent);
                free(p->sandbox_id);
                free(p);
        }
        return NULL;
}

/* Runs a host-network sandbox for a new BestEffort pod and registers it for the cleanup. */
static Pod *pod_run(CriClient *c, const char *role) {
        _cleanup_free_ Pod *p = calloc(1, sizeof(Pod));
        Pod **grown;
        CriStatus st = {};

        if (!p)
                fail("out of memory");
        random_uuid(p->uid);
        if (asprintf(&p->name, "bench-%s-%u", role, ++pod_counter) < 0 ||
            asprintf(&p->cgroup_parent, "/%s/besteffort/pod%s", kubepods, p->uid) < 0)
                fail("out of memory");
        p->labels[0] = "io.kubernetes.pod.uid";
        p->labels[1] = p->uid;
        p->labels[2] = "io.kubernetes.pod.name";
        p->labels[3] = p->name;
        p->labels[4] = "io.kubernetes.pod.namespace";
        p->labels[5] = NAMESPACE;
        p->config = (CriPodSandboxConfig){
                .name = p->name,
                .namespace = NAMESPACE,
                .uid = p->uid,
                .hostname = "", /* host network: must be empty */
                .cgroup_parent = p->cgroup_parent,
                .host_network = true,
                .labels = p->labels,
        };
        grown = reallocarray(pods, n_pods + 1, sizeof(Pod *));
        if (!grown) {
                pod_free(TAKE_PTR(p));
                fail("out of memory");
        }
        pods = grown;

        check(cri_run_pod_sandbox(c, &p->config, &p->sandbox_id, &st), &st, "RunPodSandbox");
        pods[n_pods++] = p;
        return TAKE_PTR(p);
}

/* Stops and removes every registered sandbox (with its containers), on a connection of its own:
 * the one in use may be what broke. */
static void pods_remove_all(void) {
        static const CriBatchOp ops[] = {CRI_BATCH_STOP_POD_SANDBOX, CRI_BATCH_REMOVE_POD_SANDBOX};
        _cleanup_free_ CriBatchCall *calls = NULL;
        _cleanup_cri_client_ CriClient *c = NULL;
        CriStatus st = {};

        if (n_pods == 0)
                return;
        calls = calloc(n_pods, sizeof(CriBatchCall));
        if (!calls)
                fprintf(stderr, "bench-cri: cleanup: out of memory, %zu sandboxes left behind\n", n_pods);
        else if (cri_connect(endpoint, NULL, &c, &st) < 0)
                fprintf(stderr,
                        "bench-cri: cleanup: %s; %zu sandboxes left behind\n",
                        st.message ?: "cannot connect",
                        n_pods);
        cri_status_done(&st);

        for (size_t k = 0; c && calls && k < ELEMENTSOF(ops); k++) {
                for (size_t i = 0; i < n_pods; i++)
                        calls[i] = (CriBatchCall){.op = ops[k], .id = pods[i]->sandbox_id};
                (void) cri_batch_run(c, calls, n_pods);
                for (size_t i = 0; i < n_pods; i++)
                        if (calls[i].result < 0 && calls[i].result != -ENOENT)
                                fprintf(stderr,
                                        "bench-cri: cleanup: %s sandbox %s: %s\n",
                                        k == 0 ? "stop" : "remove",
                                        pods[i]->sandbox_id,
                                        calls[i].status.message);
                cri_batch_done(calls, n_pods);
        }
        for (size_t i = 0; i < n_pods; i++)
                pod_free(pods[i]);
        pods = mfree(pods);
        n_pods = 0;
}

/* Creates and starts container `index` of a round in pod index % n_pods: busybox running
 * /bin/true, which exits at once. */
static void container_run(CriClient *c, const char *round, size_t index) {
        _cleanup_free_ char *name = NULL, *id = NULL;
        Pod *p = pods[index % n_pods];
        CriStatus st = {};

        if (asprintf(&name, "r%s-c%zu", round, index) < 0)
                fail("out of memory");
        const char *labels[] = {
                "io.kubernetes.pod.uid",
                p->uid,
                "io.kubernetes.pod.name",
                p->name,
                "io.kubernetes.pod.namespace",
                NAMESPACE,
                "io.kubernetes.container.name",
                name,
                ROUND_LABEL,
                round,
                NULL,
        };
        const CriContainerConfig config = {
                .name = name,
                .image = BUSYBOX_IMAGE,
                .command = (const char *const[]){"/bin/true", NULL},
                .labels = labels,
        };

        check(cri_create_container(c, p->sandbox_id, &config, &p->config, &id, &st), &st, "CreateContainer");
        check(cri_start_container(c, id, &st), &st, "StartContainer");
}

/* Creates and starts n containers, split over `workers` processes with a connection each. */
static void containers_run(const char *round, size_t n, unsigned workers) {
        pid_t pids[MAX_RUNS];
        bool failed = false;

        fflush(stdout);
        fflush(stderr);
        for (unsigned w = 0; w < workers; w++) {
                pids[w] = fork();
                if (pids[w] < 0)
                        fail("fork: %m");
                if (pids[w] == 0) {
                        CriClient *c;

                        is_worker = true;
                        c = client_connect(SERIAL);
                        for (size_t i = w; i < n; i += workers)
                                container_run(c, round, i);
                        cri_client_free(c);
                        _exit(0);
                }
        }
        for (unsigned w = 0; w < workers; w++) {
                int status;

                if (waitpid(pids[w], &status, 0) != pids[w] || !WIFEXITED(status) ||
                    WEXITSTATUS(status) != 0)
                        failed = true;
        }
        if (failed)
                fail("round %s: creating the containers failed (see above)", round);
}

/* Waits until all n containers of the round are EXITED; returns their ids (NULL-terminated). */
static char **containers_wait_exited(CriClient *c, const char *round, size_t n) {
        const CriContainerFilter filter = {
                .state = -1,
                .label_selector = (const char *const[]){ROUND_LABEL, round, NULL},
        };
        double deadline = now_ms() + 120e3 + n * 100.0;

        for (;;) {
                CriContainerList l = {};
                CriStatus st = {};
                size_t exited = 0;

                check(cri_list_containers(c, &filter, &l, &st), &st, "ListContainers");
                if (l.n != n)
                        fail("round %s: %zu containers listed, %zu created", round, l.n, n);
                for (size_t i = 0; i < l.n; i++)
                        exited += l.items[i].state == CRI_CONTAINER_EXITED;
                if (exited == n) {
                        char **ids = calloc(n + 1, sizeof(char *));

                        for (size_t i = 0; ids && i < n; i++)
                                if (!(ids[i] = strdup(l.items[i].id)))
                                        ids = mfree(ids); /* leaks the ones before: we fail now */
                        cri_container_list_done(&l);
                        if (!ids)
                                fail("out of memory");
                        return ids;
                }
                cri_container_list_done(&l);
                if (now_ms() > deadline)
                        fail("round %s: %zu of %zu containers exited, gave up waiting", round, exited, n);
                sleep_ms(50);
        }
}

/* Writes back what the creation left dirty (else the removal's fsyncs pay for it), then waits
 * (at most 10 s) until containerd is idle — under 5% of a CPU over 250 ms — so that the removal
 * does not share the runtime with the tail of the creation (exit events, GC). There is no event
 * for "idle": a bounded poll. Returns the seconds it all took. */
static double runtime_settle(void) {
        double start = now_ms(), before;

        sync();
        before = cpu_ms_runtime();
        if (before < 0)
                return 0;
        while (now_ms() - start < 10e3) {
                double after;

                sleep_ms(250);
                after = cpu_ms_runtime();
                if (after - before < 12.5)
                        break;
                before = after;
        }
        return (now_ms() - start) / 1e3;
}

/* Removes the containers with cri_batch_run() on a fresh connection with that bound; times the
 * batch alone (the connection is set up and used once before). */
static Removal containers_remove(const char *round, char **ids, size_t n, unsigned max_concurrent) {
        _cleanup_cri_client_ CriClient *c = client_connect(max_concurrent);
        _cleanup_free_ CriBatchCall *calls = calloc(n, sizeof(CriBatchCall));
        CriContainerList l = {};
        CriVersion v = {};
        CriStatus st = {};
        Removal m;
        double start, cpu, runtime_cpu;
        int r;

        if (!calls)
                fail("out of memory");
        check(cri_version(c, &v, &st), &st, "Version");
        cri_version_done(&v);
        for (size_t i = 0; i < n; i++)
                calls[i] = (CriBatchCall){.op = CRI_BATCH_REMOVE_CONTAINER, .id = ids[i]};

        runtime_cpu = cpu_ms_runtime();
        cpu = cpu_ms_self();
        start = now_ms();
        r = cri_batch_run(c, calls, n);
        m.ms = now_ms() - start;
        m.client_cpu_ms = cpu_ms_self() - cpu;
        m.runtime_cpu_ms = runtime_cpu < 0 ? -1 : cpu_ms_runtime() - runtime_cpu;

        if (r != 0) {
                for (size_t i = 0; i < n; i++)
                        if (calls[i].result < 0)
                                fail("round %s: %d of %zu RemoveContainer calls failed; first: %s: %s",
                                     round,
                                     r,
                                     n,
                                     calls[i].id,
                                     calls[i].status.message);
                fail("round %s: cri_batch_run: %s", round, strerror(-r));
        }
        cri_batch_done(calls, n);

        check(cri_list_containers(
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
                fail("round %s: %zu containers still listed after removing them all", round, l.n);
        cri_container_list_done(&l);
        return m;
}

/* ---- (a) bulk removal ------------------------------------------------------------------------------ */

static void bench_removal(unsigned runs, size_t n, unsigned n_sandboxes, unsigned workers) {
        static const char *const mode_names[2] = {"concurrent (8 streams)", "serial (1 stream)"};
        static const unsigned mode_bounds[2] = {CONCURRENT, SERIAL};
        double ms[2][MAX_RUNS], med[2];
        _cleanup_cri_client_ CriClient *c = client_connect(SERIAL);
        unsigned n_rounds = 0;
        double start;

        start = now_ms();
        for (unsigned i = 0; i < n_sandboxes; i++)
                (void) pod_run(c, "bulk");
        printf("bulk removal: %zu exited containers in %u host-network sandboxes (run in %.1f s), %u runs, "
               "order alternating\n",
               n,
               n_sandboxes,
               (now_ms() - start) / 1e3,
               runs);

        for (unsigned run = 0; run < runs; run++)
                for (unsigned k = 0; k < 2; k++) {
                        unsigned mode = (k + run) % 2;
                        char round[16];
                        double created, exited, settled;
                        char **ids;
                        Removal m;

                        snprintf(round, sizeof(round), "%u", ++n_rounds);
                        start = now_ms();
                        containers_run(round, n, workers);
                        created = now_ms();
                        ids = containers_wait_exited(c, round, n);
                        exited = now_ms();
                        settled = runtime_settle();
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
                med[mode] = median(ms[mode], runs);
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

/* Spawner mode: runs argv in a child of this fresh, small process and writes its Usage to fd 3. */
static int spawn_mode(char *argv[]) {
        Usage u = {};
        struct rusage ru;
        double start;
        pid_t pid;

        if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
                return 1;
        start = now_ms();
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                execvp(argv[0], argv);
                _exit(127);
        }
        if (wait4(pid, &u.status, 0, &ru) < 0)
                return 1;
        u.wall_ms = now_ms() - start;
        u.user_ms = tv_ms(ru.ru_utime);
        u.sys_ms = tv_ms(ru.ru_stime);
        u.rss_kib = ru.ru_maxrss;
        return write(3, &u, sizeof(u)) == (ssize_t) sizeof(u) ? 0 : 1;
}

/* Runs argv through the spawner with stdout on out_fd; fails unless it exits 0. */
static Usage measure(char *const argv[], int out_fd) {
        _cleanup_close_ int rfd = -EBADF;
        char *sargv[16] = {(char *) self, (char *) "--spawn"};
        size_t k = 2;
        int p[2], status;
        Usage u;
        ssize_t got;
        pid_t pid;

        for (size_t i = 0; argv[i] && k + 1 < ELEMENTSOF(sargv); i++)
                sargv[k++] = argv[i];
        if (pipe2(p, O_CLOEXEC) < 0)
                fail("pipe2: %m");
        rfd = p[0];
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                fail("fork: %m");
        if (pid == 0) {
                if (dup2(out_fd, STDOUT_FILENO) < 0)
                        _exit(127);
                if (p[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(p[1], 3) < 0)
                        _exit(127);
                execv(self, sargv);
                _exit(127);
        }
        close(p[1]);
        do
                got = read(rfd, &u, sizeof(u));
        while (got < 0 && errno == EINTR);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
            got != (ssize_t) sizeof(u))
                fail("spawner for %s failed (status 0x%x)", argv[0], status);
        if (!WIFEXITED(u.status) || WEXITSTATUS(u.status) != 0)
                fail("%s failed (status 0x%x)", argv[0], u.status);
        return u;
}

/* The output of one unmeasured run, to check what the tool saw. */
static char *measure_output(char *const argv[]) {
        _cleanup_close_ int fd = memfd_create("bench-cri-out", MFD_CLOEXEC);
        char *buf;
        off_t size;

        if (fd < 0)
                fail("memfd_create: %m");
        (void) measure(argv, fd);
        size = lseek(fd, 0, SEEK_END);
        if (size < 0 || !(buf = calloc(1, size + 1)))
                fail("reading the output of %s: %m", argv[0]);
        if (pread(fd, buf, size, 0) != size)
                fail("reading the output of %s: %m", argv[0]);
        return buf;
}

static size_t count_lines(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void print_usage_line(const char *what, unsigned run, unsigned runs, const Usage *u) {
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
        double cpu[N_TOOLS][MAX_RUNS], med[N_TOOLS];
        long rss[N_TOOLS] = {};
        const char *ctd_sock = getenv("CTD_SOCK");
        char expected[16];
        double start;
        Usage floor;

        if (!ctd_sock)
                fail("CTD_SOCK not set: run under tests/e2e/with-containerd.sh");
        snprintf(expected, sizeof(expected), "%u", n_sandboxes);
        char *const ours[] = {(char *) self, (char *) "--list-pass", (char *) endpoint, expected, NULL};
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
                _cleanup_cri_client_ CriClient *c = client_connect(CONCURRENT);

                start = now_ms();
                for (unsigned i = 0; i < n_sandboxes; i++)
                        (void) pod_run(c, "idle");
        }
        printf("listing pass: %u host-network sandboxes (run in %.1f s), %u runs each, order alternating\n",
               n_sandboxes,
               (now_ms() - start) / 1e3,
               runs);

        /* One unmeasured run each: warms the page cache for both binaries, and shows that both
         * saw the sandboxes (ctr: one pause container each, plus a header line). */
        ours_out = measure_output(ours);
        ctr_out = measure_output(ctr);
        if (count_lines(ctr_out) < n_sandboxes + 1)
                fail("ctr listed %zu lines, expected a header and >= %u containers",
                     count_lines(ctr_out),
                     n_sandboxes);
        printf("listing pass: podreaper saw %s", ours_out);
        printf("listing pass: ctr listed %zu containers\n", count_lines(ctr_out) - 1);

        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull < 0)
                fail("/dev/null: %m");
        floor = measure(true_argv, devnull);
        print_usage_line("/bin/true (the floor)", 1, 1, &floor);

        for (unsigned run = 0; run < runs; run++)
                for (unsigned k = 0; k < N_TOOLS; k++) {
                        unsigned tool = (k + run) % N_TOOLS;
                        Usage u = measure(tool == TOOL_OURS ? ours : ctr, devnull);

                        cpu[tool][run] = u.user_ms + u.sys_ms;
                        rss[tool] = MAX(rss[tool], u.rss_kib);
                        print_usage_line(tool_names[tool], run + 1, runs, &u);
                }

        for (unsigned tool = 0; tool < N_TOOLS; tool++) {
                med[tool] = median(cpu[tool], runs);
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

static unsigned parse_count(const char *option, const char *value, unsigned min, unsigned max) {
        unsigned u;

        if (!value || safe_atou(value, &u) < 0 || u < min || u > max) {
                fprintf(stderr, "bench-cri: %s wants a number in [%u, %u]\n", option, min, max);
                exit(2);
        }
        return u;
}

int main(int argc, char *argv[]) {
        unsigned runs = 3, n_containers = 500, n_sandboxes = 5, workers = 4, list_sandboxes = 100,
                 list_runs = 5;

        self = argv[0];
        if (argc >= 3 && strcmp(argv[1], "--spawn") == 0)
                return spawn_mode(argv + 2);
        if (argc == 4 && strcmp(argv[1], "--list-pass") == 0)
                return list_pass_mode(argv[2], argv[3]);

        for (int i = 1; i < argc; i += 2) {
                const char *o = argv[i], *v = argv[i + 1];

                if (strcmp(o, "--runs") == 0)
                        runs = parse_count(o, v, 1, MAX_RUNS);
                else if (strcmp(o, "--containers") == 0)
                        n_containers = parse_count(o, v, 1, 100000);
                else if (strcmp(o, "--sandboxes") == 0)
                        n_sandboxes = parse_count(o, v, 1, 1000);
                else if (strcmp(o, "--create-workers") == 0)
                        workers = parse_count(o, v, 1, MAX_RUNS);
                else if (strcmp(o, "--list-sandboxes") == 0)
                        list_sandboxes = parse_count(o, v, 0, 10000);
                else if (strcmp(o, "--list-runs") == 0)
                        list_runs = parse_count(o, v, 1, MAX_RUNS);
                else {
                        fprintf(stderr,
                                "usage: bench-cri [--runs N] [--containers N] [--sandboxes N] "
                                "[--create-workers N] [--list-sandboxes N] [--list-runs N]\n");
                        return 2;
                }
        }

        endpoint = getenv("PODREAPER_TEST_CRI_ENDPOINT");
        kubepods = getenv("PODREAPER_TEST_KUBEPODS");
        if (!endpoint || !kubepods) {
                fprintf(stderr,
                        "bench-cri: PODREAPER_TEST_CRI_ENDPOINT / PODREAPER_TEST_KUBEPODS not set: run "
                        "under tests/e2e/with-containerd.sh\n");
                return 77;
        }

        bench_removal(runs, n_containers, n_sandboxes, workers);
        pods_remove_all();
        bench_listing(list_runs, list_sandboxes);
        pods_remove_all();
        return 0;
}
