/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/lib/bench-util.h"
#include "util/parse.h"

const char *bench_self, *bench_endpoint, *bench_kubepods;
void (*bench_cleanup)(void);
BenchPod **bench_pods;
size_t bench_n_pods;

static bool is_worker; /* a bench_in_workers() process: leaves the cleanup to its parent */
static volatile sig_atomic_t interrupted;
static volatile pid_t measured_pid; /* the spawner running now, ended on a signal */

/* ---- failing ------------------------------------------------------------------------------------- */

_Noreturn void bench_fail(const char *format, ...) {
        int saved_errno = errno; /* for %m */
        va_list ap;

        fflush(stdout);
        fprintf(stderr, "%s: ", program_invocation_short_name);
        errno = saved_errno;
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (is_worker)
                _exit(1);
        if (bench_cleanup)
                bench_cleanup();
        bench_pods_remove_all();
        exit(1);
}

void bench_check(int r, CriStatus *st, const char *what) {
        if (r < 0)
                bench_fail(
                        "%s: %s (%s: %s)",
                        what,
                        strerror(-r),
                        cri_code_to_string(st->code) ?: "?",
                        st->message ?: "(no message)");
        cri_status_done(st);
}

char *bench_asprintf(const char *format, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0)
                bench_fail("out of memory");
        return s;
}

unsigned bench_parse_count(const char *option, const char *value, unsigned min, unsigned max) {
        unsigned u;

        if (!value || safe_atou(value, &u) < 0 || u < min || u > max) {
                fprintf(stderr,
                        "%s: %s wants a number in [%u, %u]\n",
                        program_invocation_short_name,
                        option,
                        min,
                        max);
                exit(2);
        }
        return u;
}

void bench_runtime_env(void) {
        bench_endpoint = getenv("PODREAPER_TEST_CRI_ENDPOINT");
        bench_kubepods = getenv("PODREAPER_TEST_KUBEPODS");
        if (!bench_endpoint || !bench_kubepods) {
                fprintf(stderr,
                        "%s: PODREAPER_TEST_CRI_ENDPOINT / PODREAPER_TEST_KUBEPODS not set: run under "
                        "tests/e2e/with-containerd.sh\n",
                        program_invocation_short_name);
                exit(77);
        }
}

/* ---- figures ------------------------------------------------------------------------------------- */

double bench_now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double bench_tv_ms(struct timeval tv) {
        return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

void bench_sleep_ms(long ms) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !interrupted)
                ;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

double bench_median(const double *v, unsigned n) {
        _cleanup_free_ double *s = NULL;

        if (n == 0)
                return 0;
        s = malloc(n * sizeof(double));
        if (!s)
                bench_fail("out of memory");
        memcpy(s, v, n * sizeof(double));
        qsort(s, n, sizeof(double), cmp_double);
        return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void bench_random_uuid(char ret[static 37]) {
        _cleanup_close_ int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);

        if (fd < 0 || read(fd, ret, 36) != 36)
                bench_fail("cannot read /proc/sys/kernel/random/uuid: %m");
        ret[36] = '\0';
}

size_t bench_count_lines(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

char *bench_last_line(const char *s) {
        const char *end = s + strlen(s), *start;

        while (end > s && end[-1] == '\n')
                end--;
        start = end;
        while (start > s && start[-1] != '\n')
                start--;
        return strndup(start, end - start) ?: bench_asprintf("%s", "");
}

const char *bench_exit_string(int status) {
        static char buf[32];

        if (WIFEXITED(status))
                snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
        else
                snprintf(buf, sizeof(buf), "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
        return buf;
}

int bench_memfd_new(void) {
        int fd = memfd_create("bench-out", MFD_CLOEXEC);

        if (fd < 0)
                bench_fail("memfd_create: %m");
        return fd;
}

char *bench_memfd_read(int fd) {
        off_t size = lseek(fd, 0, SEEK_END);
        char *buf;

        if (size < 0 || !(buf = calloc(1, size + 1)))
                bench_fail("reading the output: %m");
        if (pread(fd, buf, size, 0) != size)
                bench_fail("reading the output: %m");
        return buf;
}

/* ---- measured processes -------------------------------------------------------------------------- */

int bench_spawn_mode(char *argv[]) {
        BenchUsage u = {};
        struct rusage ru;
        double start;
        pid_t pid;

        if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
                return 1;
        start = bench_now_ms();
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                execvp(argv[0], argv);
                _exit(127);
        }
        if (wait4(pid, &u.status, 0, &ru) < 0)
                return 1;
        u.wall_ms = bench_now_ms() - start;
        u.user_ms = bench_tv_ms(ru.ru_utime);
        u.sys_ms = bench_tv_ms(ru.ru_stime);
        u.rss_kib = ru.ru_maxrss;
        return write(3, &u, sizeof(u)) == (ssize_t) sizeof(u) ? 0 : 1;
}

pid_t bench_fork(void) {
        pid_t pid;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                bench_fail("fork: %m");
        return pid;
}

static void on_signal(int sig) {
        pid_t pid = measured_pid;

        interrupted = sig;
        if (pid > 0) { /* the spawner and what it runs: its own process group */
                (void) kill(-pid, SIGKILL);
                (void) kill(pid, SIGKILL);
        }
}

void bench_catch_signals(void) {
        struct sigaction sa = {.sa_handler = on_signal};

        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
}

void bench_check_interrupted(void) {
        if (interrupted)
                bench_fail("interrupted by signal %d", (int) interrupted);
}

BenchUsage bench_measure(char *const argv[], int out_fd, int err_fd) {
        _cleanup_close_ int rfd = -EBADF;
        _cleanup_free_ char **sargv = NULL;
        size_t n = 0;
        int p[2], status = 0;
        BenchUsage u;
        ssize_t got;
        pid_t pid;

        while (argv[n])
                n++;
        sargv = calloc(n + 3, sizeof(char *));
        if (!sargv)
                bench_fail("out of memory");
        sargv[0] = (char *) bench_self;
        sargv[1] = (char *) "--spawn";
        memcpy(sargv + 2, argv, n * sizeof(char *));

        if (pipe2(p, O_CLOEXEC) < 0)
                bench_fail("pipe2: %m");
        rfd = p[0];
        pid = bench_fork();
        if (pid == 0) {
                (void) setpgid(0, 0);
                if (dup2(out_fd, STDOUT_FILENO) < 0 || (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0))
                        _exit(127);
                if (p[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(p[1], 3) < 0)
                        _exit(127);
                execv(bench_self, sargv);
                _exit(127);
        }
        measured_pid = pid;
        close(p[1]);
        do
                got = read(rfd, &u, sizeof(u));
        while (got < 0 && errno == EINTR && !interrupted);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        measured_pid = 0;
        bench_check_interrupted();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t) sizeof(u))
                bench_fail("spawner for %s failed (status 0x%x)", argv[0], status);
        return u;
}

char **bench_reaper_argv(
        const char *podreaper,
        const char *node_dir,
        const char *kubepods,
        const char *command,
        const char *const *extra) {
        static const char *const dir_options[][2] = {
                {"--root-dir", "kubelet"},
                {"--pod-logs-dir", "pods-logs"},
                {"--container-logs-dir", "containers-logs"},
                {"--state-dir", "state"},
        };
        size_t n_extra = 0, k = 0;
        char **argv;

        while (extra && extra[n_extra])
                n_extra++;
        argv = calloc(2 + 2 * ELEMENTSOF(dir_options) + 5 + n_extra + 1, sizeof(char *));
        if (!argv)
                bench_fail("out of memory");
        argv[k++] = bench_asprintf("%s", podreaper);
        argv[k++] = bench_asprintf("%s", command);
        for (size_t i = 0; i < ELEMENTSOF(dir_options); i++) {
                argv[k++] = bench_asprintf("%s", dir_options[i][0]);
                argv[k++] = bench_asprintf("%s/%s", node_dir, dir_options[i][1]);
        }
        argv[k++] = bench_asprintf("--kubepods-cgroup");
        argv[k++] = bench_asprintf("%s", kubepods);
        argv[k++] = bench_asprintf("--container-runtime-endpoint");
        argv[k++] = bench_asprintf("%s", bench_endpoint);
        argv[k++] = bench_asprintf("--require-kubelet=false");
        for (size_t i = 0; i < n_extra; i++)
                argv[k++] = bench_asprintf("%s", extra[i]);
        return argv;
}

/* ---- the runtime --------------------------------------------------------------------------------- */

CriClient *bench_connect(unsigned max_concurrent) {
        const CriOptions opts = {.max_concurrent = max_concurrent};
        CriClient *c = NULL;
        CriStatus st = {};

        bench_check(cri_connect(bench_endpoint, &opts, &c, &st), &st, "connect");
        return c;
}

double bench_runtime_cpu_ms(void) {
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

/* Writes back what the creation left dirty (else the removal's fsyncs pay for it), then waits
 * until containerd is under 5% of a CPU over 250 ms, so that what is measured does not share the
 * runtime with the tail of the creation (exit events, GC). There is no event for "idle": a
 * bounded poll. */
double bench_runtime_settle(void) {
        double start = bench_now_ms(), before;

        sync();
        before = bench_runtime_cpu_ms();
        if (before < 0)
                return 0;
        while (bench_now_ms() - start < 10e3) {
                double after;

                bench_sleep_ms(250);
                after = bench_runtime_cpu_ms();
                if (after - before < 0.05 * 250)
                        break;
                before = after;
        }
        return (bench_now_ms() - start) / 1e3;
}

static BenchPod *pod_free(BenchPod *p) {
        if (p) {
                free(p->name);
                free(p->cgroup_parent);
                free(p->sandbox_id);
                free(p);
        }
        return NULL;
}

BenchPod *bench_pod_run(CriClient *c, const char *namespace, const char *name) {
        _cleanup_free_ BenchPod *p = calloc(1, sizeof(BenchPod));
        BenchPod **grown;
        CriStatus st = {};

        if (!p)
                bench_fail("out of memory");
        bench_random_uuid(p->uid);
        p->name = bench_asprintf("%s", name);
        p->cgroup_parent = bench_asprintf("/%s/besteffort/pod%s", bench_kubepods, p->uid);
        p->labels[0] = "io.kubernetes.pod.uid";
        p->labels[1] = p->uid;
        p->labels[2] = "io.kubernetes.pod.name";
        p->labels[3] = p->name;
        p->labels[4] = "io.kubernetes.pod.namespace";
        p->labels[5] = namespace;
        p->config = (CriPodSandboxConfig){
                .name = p->name,
                .namespace = namespace,
                .uid = p->uid,
                .hostname = "", /* host network: must be empty */
                .cgroup_parent = p->cgroup_parent,
                .host_network = true,
                .labels = p->labels,
        };
        grown = reallocarray(bench_pods, bench_n_pods + 1, sizeof(BenchPod *));
        if (!grown) {
                pod_free(TAKE_PTR(p));
                bench_fail("out of memory");
        }
        bench_pods = grown;

        bench_check(cri_run_pod_sandbox(c, &p->config, &p->sandbox_id, &st), &st, "RunPodSandbox");
        bench_pods[bench_n_pods++] = p;
        return TAKE_PTR(p);
}

void bench_container_run(
        CriClient *c, const BenchPod *p, const char *name, uint32_t attempt, const char *const *extra) {
        const char *labels[ELEMENTSOF(p->labels) + 2 + 4] = {};
        size_t k = 0;
        _cleanup_free_ char *id = NULL;
        CriStatus st = {};

        while (p->labels[k] && k < ELEMENTSOF(p->labels) - 1) {
                labels[k] = p->labels[k];
                k++;
        }
        labels[k++] = "io.kubernetes.container.name";
        labels[k++] = name;
        for (size_t i = 0; extra && extra[i] && k < ELEMENTSOF(labels) - 1; i++)
                labels[k++] = extra[i];
        const CriContainerConfig config = {
                .name = name,
                .attempt = attempt,
                .image = BENCH_BUSYBOX_IMAGE,
                .command = (const char *const[]){"/bin/true", NULL},
                .labels = labels,
        };

        bench_check(
                cri_create_container(c, p->sandbox_id, &config, &p->config, &id, &st),
                &st,
                "CreateContainer");
        bench_check(cri_start_container(c, id, &st), &st, "StartContainer");
}

void bench_sandboxes_remove(CriClient *c, const char *const *ids, size_t n) {
        static const CriBatchOp ops[] = {CRI_BATCH_STOP_POD_SANDBOX, CRI_BATCH_REMOVE_POD_SANDBOX};
        _cleanup_free_ CriBatchCall *calls = calloc(n ?: 1, sizeof(CriBatchCall));

        if (!calls) {
                fprintf(stderr,
                        "%s: cleanup: out of memory, %zu sandboxes left behind\n",
                        program_invocation_short_name,
                        n);
                return;
        }
        for (size_t k = 0; k < ELEMENTSOF(ops); k++) {
                for (size_t i = 0; i < n; i++)
                        calls[i] = (CriBatchCall){.op = ops[k], .id = ids[i]};
                (void) cri_batch_run(c, calls, n);
                for (size_t i = 0; i < n; i++)
                        if (calls[i].result < 0 && calls[i].result != -ENOENT)
                                fprintf(stderr,
                                        "%s: cleanup: %s sandbox %s: %s\n",
                                        program_invocation_short_name,
                                        k == 0 ? "stop" : "remove",
                                        ids[i],
                                        calls[i].status.message ?: strerror(-calls[i].result));
                cri_batch_done(calls, n);
        }
}

/* On a connection of its own: the one in use may be what broke. */
void bench_pods_remove_all(void) {
        _cleanup_cri_client_ CriClient *c = NULL;
        _cleanup_free_ const char **ids = NULL;
        CriStatus st = {};

        if (bench_n_pods == 0)
                return;
        ids = calloc(bench_n_pods, sizeof(char *));
        if (cri_connect(bench_endpoint, NULL, &c, &st) < 0)
                fprintf(stderr,
                        "%s: cleanup: %s; %zu sandboxes left behind\n",
                        program_invocation_short_name,
                        st.message ?: "cannot connect",
                        bench_n_pods);
        cri_status_done(&st);
        for (size_t i = 0; ids && i < bench_n_pods; i++)
                ids[i] = bench_pods[i]->sandbox_id;
        if (c && ids)
                bench_sandboxes_remove(c, ids, bench_n_pods);
        for (size_t i = 0; i < bench_n_pods; i++)
                pod_free(bench_pods[i]);
        free(bench_pods);
        bench_pods = NULL;
        bench_n_pods = 0;
}

void bench_in_workers(
        size_t n, unsigned workers, void (*job)(CriClient *c, size_t i, void *userdata), void *userdata) {
        _cleanup_free_ pid_t *pids = calloc(workers, sizeof(pid_t));
        bool failed = false;

        if (!pids)
                bench_fail("out of memory");
        for (unsigned w = 0; w < workers; w++) {
                pids[w] = bench_fork();
                if (pids[w] == 0) {
                        CriClient *c;

                        is_worker = true;
                        c = bench_connect(1);
                        for (size_t i = w; i < n; i += workers) {
                                bench_check_interrupted();
                                job(c, i, userdata);
                        }
                        cri_client_free(c);
                        _exit(0);
                }
        }
        for (unsigned w = 0; w < workers; w++) {
                int status;

                while (waitpid(pids[w], &status, 0) < 0) {
                        if (errno != EINTR)
                                bench_fail("waitpid: %m");
                        for (unsigned v = w; interrupted && v < workers; v++)
                                (void) kill(pids[v], SIGTERM); /* they stop between two jobs */
                }
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed = true;
        }
        bench_check_interrupted();
        if (failed)
                bench_fail("a creation worker failed (see above)");
}

void bench_containers_wait_exited(
        CriClient *c, const char *const *selector, size_t n, CriContainerList *ret) {
        const CriContainerFilter filter = {.state = -1, .label_selector = selector};
        double deadline = bench_now_ms() + 120e3 + n * 100.0;

        for (;;) {
                CriContainerList l = {};
                CriStatus st = {};
                size_t exited = 0;

                bench_check(cri_list_containers(c, &filter, &l, &st), &st, "ListContainers");
                if (l.n != n)
                        bench_fail("%zu containers listed, %zu created", l.n, n);
                for (size_t i = 0; i < l.n; i++)
                        exited += l.items[i].state == CRI_CONTAINER_EXITED;
                if (exited == n) {
                        *ret = l;
                        return;
                }
                cri_container_list_done(&l);
                bench_check_interrupted();
                if (bench_now_ms() > deadline)
                        bench_fail("%zu of %zu containers exited, gave up waiting", exited, n);
                bench_sleep_ms(50);
        }
}
