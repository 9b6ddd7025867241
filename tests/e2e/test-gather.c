/* SPDX-License-Identifier: MIT */
/* e2e tests for reaper/gather.c against a real containerd (tests/e2e/with-containerd.sh), real
 * cgroups under the run's own kubepods name and real mounts in a private mount namespace: a node
 * in a temporary directory with a live pod (sandbox + containers), an orphan (pod cgroup, pod dir
 * with a mounted volume, log dir), pod dirs with mounts in every place that matters, and a fake
 * kubelet (healthz on 127.0.0.1:10248 and a pod-resources server through grpcio) where the port is
 * free. Plus gather_kubelet_healthz() against tiny in-test HTTP servers.
 *
 * Cleanup: the sandbox (with its containers) is removed through CRI, the test's cgroups are
 * removed bottom-up in every hierarchy, its mounts are detached, its temporary dir removed — in the
 * group teardown and again at exit, so also after a failed assertion. What a crash leaves behind
 * lies below with-containerd.sh's dir and kubepods tree, which its teardown removes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reaper/gather.h"
#include "util/macro.h"

#define NAMESPACE "podreaper-e2e"
#define LIVE_POD_NAME "gather-live"
#define BUSYBOX_IMAGE "docker.io/library/busybox:1.35"
#define PYTHON "/usr/bin/python3"
#define KUBELET_PORT 10248
#define MAX_CLEANUP 64

extern char **environ;

static const char *endpoint;
static const char *kubepods;
static CriClient *client;
static CgfsHierarchies hierarchies;

/* The node. */
static char *tmp_dir;        /* canonical */
static char *root_dir;       /* <tmp>/kubelet: pods/, pod-resources/ */
static char *root_link;      /* <tmp>/kubelet-link -> kubelet: what the options name */
static char *pods_dir;       /* <tmp>/kubelet/pods, canonical */
static char *logs_dir;       /* <tmp>/pods-logs */
static char uid_live[37];    /* a sandbox (metadata and label) with a running container */
static char uid_label[37];   /* only a container's io.kubernetes.pod.uid label */
static char uid_orphan[37];  /* pod cgroup, pod dir with a mounted volume, log dir */
static char uid_mounts[37];  /* pod dir with a mount on a direct child and a nested volume mount */
static char uid_self[37];    /* pod dir that is itself a mount point */
static char uid_logonly[37]; /* only a log dir, named by the fake kubelet */
static char *sandbox_id;
static CriPodSandboxConfig sandbox_config;
static char *sandbox_cgroup_parent;
static const char *sandbox_labels[7];
static usec_t future_1h; /* the mtime of uid_live's etc-hosts */

/* What to undo, in reverse order. */
static char *cleanup_mounts[MAX_CLEANUP];
static size_t n_cleanup_mounts;
static char *cleanup_cgroups[MAX_CLEANUP];
static size_t n_cleanup_cgroups;

/* ---- helpers ------------------------------------------------------------------------------------ */

#define TRY(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "setup: %s:%d: %s failed: %m\n", __FILE__, __LINE__, #expr); \
                        return -1; \
                } \
        } while (0)

static char *joinf(const char *format, ...) _printf_(1, 2);
static char *joinf(const char *format, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

static bool random_uuid(char ret[static 37]) {
        _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");

        return f && fgets(ret, 37, f) && strlen(ret) == 36;
}

static usec_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static usec_t ts_usec(const struct timespec *ts) {
        return (usec_t) ts->tv_sec * USEC_PER_SEC + (usec_t) ts->tv_nsec / 1000;
}

static usec_t stat_changed(const struct stat *st) {
        return MAX(ts_usec(&st->st_mtim), ts_usec(&st->st_ctim));
}

static int mkdirf(const char *format, ...) _printf_(1, 2);
static int mkdirf(const char *format, ...) {
        _cleanup_free_ char *path = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&path, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int touchf(const char *format, ...) _printf_(1, 2);
static int touchf(const char *format, ...) {
        _cleanup_free_ char *path = NULL;
        va_list ap;
        int r, fd;

        va_start(ap, format);
        r = vasprintf(&path, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static int set_mtime(const char *path, usec_t t) {
        struct timespec times[2] = {
                {.tv_nsec = UTIME_OMIT},
                {.tv_sec = (time_t) (t / USEC_PER_SEC)},
        };

        return utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* A tmpfs at path, undone by the cleanup. */
static int mount_tmpfs(const char *path) {
        if (mount("tmpfs", path, "tmpfs", 0, "size=1m,mode=0755") < 0)
                return -errno;
        if (n_cleanup_mounts == MAX_CLEANUP)
                return -ENOBUFS;
        cleanup_mounts[n_cleanup_mounts] = strdup(path);
        return cleanup_mounts[n_cleanup_mounts++] ? 0 : -ENOMEM;
}

/* mkdir in a cgroup hierarchy; what this test created is removed again, bottom-up. */
static int mkdir_cgroup(const char *path) {
        if (mkdir(path, 0755) < 0)
                return errno == EEXIST ? 0 : -errno;
        if (n_cleanup_cgroups == MAX_CLEANUP)
                return -ENOBUFS;
        cleanup_cgroups[n_cleanup_cgroups] = strdup(path);
        return cleanup_cgroups[n_cleanup_cgroups++] ? 0 : -ENOMEM;
}

/* The pod cgroup of `uid` (cgroupfs driver, BestEffort) in every hierarchy. */
static int make_pod_cgroup(const char *uid) {
        for (size_t i = 0; i < hierarchies.n; i++) {
                const char *h = hierarchies.items[i].path;
                _cleanup_free_ char *a = joinf("%s/%s", h, kubepods);
                _cleanup_free_ char *b = joinf("%s/%s/besteffort", h, kubepods);
                _cleanup_free_ char *c = joinf("%s/%s/besteffort/pod%s", h, kubepods, uid);
                int r;

                if (!a || !b || !c)
                        return -ENOMEM;
                if ((r = mkdir_cgroup(a)) < 0 || (r = mkdir_cgroup(b)) < 0 || (r = mkdir_cgroup(c)) < 0)
                        return r;
        }
        return 0;
}

static Options options_for(const char *root, const char *logs) {
        return (Options){
                .root_dir = (char *) root,
                .pod_logs_dir = (char *) logs,
                .cgroup_root = (char *) "/sys/fs/cgroup",
                .kubepods_cgroup = (char *) kubepods,
                .cgroup_driver = CGFS_DRIVER_AUTO,
                .orphan_grace = 10 * USEC_PER_MINUTE,
                .require_kubelet = true,
        };
}

static const PodDir *find_pod_dir(const Snapshot *s, const char *uid) {
        for (size_t i = 0; i < s->n_pod_dirs; i++)
                if (strcmp(s->pod_dirs[i].uid, uid) == 0)
                        return &s->pod_dirs[i];
        return NULL;
}

static const LogDir *find_log_dir(const Snapshot *s, const char *name) {
        for (size_t i = 0; i < s->n_log_dirs; i++)
                if (strcmp(s->log_dirs[i].name, name) == 0)
                        return &s->log_dirs[i];
        return NULL;
}

static void assert_strictly_sorted(char *const *l, size_t n) {
        for (size_t i = 1; i < n; i++)
                if (strcmp(l[i - 1], l[i]) >= 0)
                        fail_msg("not sorted or duplicate: '%s' before '%s'", l[i - 1], l[i]);
}

static void assert_contains(const char *haystack, const char *needle) {
        if (!haystack || !strstr(haystack, needle))
                fail_msg("'%s' does not contain '%s'", haystack ?: "(null)", needle);
}

/* The change time gather_snapshot() should see: the dir and its direct children, not following
 * symlinks. */
static usec_t expected_changed(const char *dir) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        struct stat st;
        usec_t changed;

        assert_int_equal(lstat(dir, &st), 0);
        changed = stat_changed(&st);
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                assert_int_equal(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
                changed = MAX(changed, stat_changed(&st));
        }
        return changed;
}

/* ---- child processes ------------------------------------------------------------------------------ */

/* The helper process of the running test (a server), stopped by its teardown, by cleanup_all(),
 * and by the kernel when this process dies (PR_SET_PDEATHSIG): never left behind. */
static pid_t child_pid = -1;
static int child_stdout = -EBADF;

static void stop_child(void) {
        child_stdout = safe_close(child_stdout);
        if (child_pid <= 0)
                return;
        kill(child_pid, SIGTERM);
        for (int i = 0; i < 50; i++) {
                if (waitpid(child_pid, NULL, WNOHANG) == child_pid) {
                        child_pid = -1;
                        return;
                }
                usleep(100 * 1000);
        }
        kill(child_pid, SIGKILL);
        waitpid(child_pid, NULL, 0);
        child_pid = -1;
}

/* Starts argv as the test's child, stdout on a pipe, and waits until it prints "ready" (10 s).
 * The pipe stays open until stop_child(): the child may write more. false if it does not start. */
static bool start_child(char *const argv[]) {
        pid_t parent = getpid();
        char buf[256];
        size_t n = 0;
        int p[2];

        assert_true(child_pid < 0);
        if (pipe2(p, O_CLOEXEC) < 0)
                return false;
        child_pid = fork();
        if (child_pid < 0) {
                close(p[0]);
                close(p[1]);
                return false;
        }
        if (child_pid == 0) {
                /* Only async-signal-safe calls here: the parent may have threads. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
                    dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execve(argv[0], argv, environ);
                _exit(127);
        }
        close(p[1]);
        child_stdout = p[0];

        for (;;) {
                struct pollfd pfd = {.fd = child_stdout, .events = POLLIN};
                ssize_t k;

                if (poll(&pfd, 1, 10000) <= 0)
                        break;
                k = read(child_stdout, buf + n, sizeof(buf) - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
                buf[n] = '\0';
                if (strstr(buf, "ready\n"))
                        return true;
                if (n == sizeof(buf) - 1)
                        break;
        }
        stop_child();
        return false;
}

/* The kubelet's pod-resources List through grpcio: a generic handler answering hand-encoded
 * protobuf (ListPodResourcesResponse: pod_resources = 1 {name = 1, namespace = 2, containers = 3
 * {name = 1}}), one pod per argument "namespace/name". */
static const char pod_resources_server[] =
        "import sys, grpc\n"
        "from concurrent import futures\n"
        "def varint(n):\n"
        "    out = bytearray()\n"
        "    while True:\n"
        "        b = n & 0x7f\n"
        "        n >>= 7\n"
        "        if n:\n"
        "            out.append(b | 0x80)\n"
        "        else:\n"
        "            out.append(b)\n"
        "            return bytes(out)\n"
        "def field(num, payload):\n"
        "    return varint(num << 3 | 2) + varint(len(payload)) + payload\n"
        "pods = [a.split('/', 1) for a in sys.argv[2:]]\n"
        "def List(request, context):\n"
        "    return b''.join(field(1, field(1, name.encode()) + field(2, ns.encode()) +\n"
        "                             field(3, field(1, b'main'))) for ns, name in pods)\n"
        "handler = grpc.method_handlers_generic_handler('v1.PodResourcesLister', {\n"
        "    'List': grpc.unary_unary_rpc_method_handler(List)})\n"
        "server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))\n"
        "server.add_generic_rpc_handlers((handler,))\n"
        "server.add_insecure_port('unix:' + sys.argv[1])\n"
        "server.start()\n"
        "print('ready', flush=True)\n"
        "server.wait_for_termination()\n";

/* ---- a tiny HTTP server ------------------------------------------------------------------------- */

typedef struct FakeHttp {
        int fd; /* listening */
        uint16_t port;
        const char *response; /* NULL: close without a word; atomic */
        bool split;           /* the response in two writes, 50 ms apart */
        bool stop;            /* atomic */
        pthread_t thread;
        unsigned n_requests; /* atomic */
        char request[512];   /* the last request's head, written before n_requests grows */
} FakeHttp;

static void *fake_http_serve(void *userdata) {
        FakeHttp *f = userdata;

        while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
                struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
                const char *response;
                char req[512];
                size_t n = 0;
                int c;

                if (poll(&pfd, 1, 50) <= 0)
                        continue;
                c = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                /* The request head, up to the blank line (2 s at most). */
                while (n < sizeof(req) - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
                        struct pollfd cp = {.fd = c, .events = POLLIN};
                        ssize_t k;

                        if (poll(&cp, 1, 2000) <= 0)
                                break;
                        k = read(c, req + n, sizeof(req) - 1 - n);
                        if (k <= 0)
                                break;
                        n += (size_t) k;
                }
                req[n] = '\0';
                memcpy(f->request, req, n + 1);
                __atomic_add_fetch(&f->n_requests, 1, __ATOMIC_RELEASE);

                response = __atomic_load_n(&f->response, __ATOMIC_ACQUIRE);
                if (response) {
                        size_t l = strlen(response), half = f->split ? l / 2 : l;

                        (void) !write(c, response, half);
                        if (half < l) {
                                usleep(50 * 1000);
                                (void) !write(c, response + half, l - half);
                        }
                }
                close(c);
        }
        return NULL;
}

/* port 0: a random one. -errno if the port cannot be had. */
static int fake_http_start(FakeHttp *f, uint16_t port, const char *response, bool split, bool serve) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        socklen_t l = sizeof(a);
        int one = 1;

        *f = (FakeHttp){.response = response, .split = split};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (f->fd < 0)
                return -errno;
        (void) setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(f->fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(f->fd, 16) < 0 ||
            getsockname(f->fd, (struct sockaddr *) &a, &l) < 0) {
                int r = -errno;

                f->fd = safe_close(f->fd);
                return r;
        }
        f->port = ntohs(a.sin_port);
        if (serve && pthread_create(&f->thread, NULL, fake_http_serve, f) != 0) {
                f->fd = safe_close(f->fd);
                return -EAGAIN;
        }
        if (!serve)
                f->stop = true; /* listening only: connections wait in the backlog */
        return 0;
}

static void fake_http_stop(FakeHttp *f) {
        if (f->fd < 0)
                return;
        if (!f->stop) {
                __atomic_store_n(&f->stop, true, __ATOMIC_RELEASE);
                pthread_join(f->thread, NULL);
        }
        f->fd = safe_close(f->fd);
}

static void fake_http_set_response(FakeHttp *f, const char *response) {
        __atomic_store_n(&f->response, response, __ATOMIC_RELEASE);
}

#define OK_RESPONSE \
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n" \
        "Content-Length: 2\r\n\r\nok"
#define FAILED_RESPONSE \
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n" \
        "Content-Length: 57\r\n\r\n[-]syncloop failed: reason withheld\nhealthz check failed\n"

/* The fake kubelet's healthz of the running test; its teardown stops it. */
static FakeHttp kubelet_http = {.fd = -EBADF};

static void remove_sandbox(void) {
        CriStatus st = {};
        int r;

        if (!sandbox_id)
                return;
        (void) cri_stop_pod_sandbox(client, sandbox_id, &st);
        cri_status_done(&st);
        r = cri_remove_pod_sandbox(client, sandbox_id, &st);
        if (r < 0 && r != -ENOENT)
                fprintf(stderr, "cleanup: cannot remove sandbox %s: %s\n", sandbox_id, st.message);
        cri_status_done(&st);
        sandbox_id = (free(sandbox_id), NULL);
}

/* Idempotent: the group teardown and exit both call it. */
static void cleanup_all(void) {
        stop_child();
        fake_http_stop(&kubelet_http);
        remove_sandbox();

        /* The live pod's cgroup: containerd leaves the pod<uid> level behind (the kubelet removes
         * it). Then ours, bottom-up; levels shared with containerd may stay busy. */
        for (size_t i = 0; uid_live[0] && i < hierarchies.n; i++) {
                _cleanup_free_ char *p =
                        joinf("%s/%s/besteffort/pod%s", hierarchies.items[i].path, kubepods, uid_live);

                if (p && rmdir(p) < 0 && errno != ENOENT && errno != EBUSY)
                        fprintf(stderr, "cleanup: cannot remove cgroup %s: %m\n", p);
        }
        while (n_cleanup_cgroups > 0) {
                char *p = cleanup_cgroups[--n_cleanup_cgroups];

                if (rmdir(p) < 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY)
                        fprintf(stderr, "cleanup: cannot remove cgroup %s: %m\n", p);
                free(p);
        }

        while (n_cleanup_mounts > 0) {
                char *p = cleanup_mounts[--n_cleanup_mounts];

                if (umount2(p, MNT_DETACH) < 0)
                        fprintf(stderr, "cleanup: cannot unmount %s: %m\n", p);
                free(p);
        }

        if (tmp_dir) {
                /* Nothing is mounted below any more; --one-file-system all the same. */
                char *argv[] = {(char *) "rm", (char *) "-rf", (char *) "--one-file-system", tmp_dir, NULL};
                pid_t pid;
                int status;

                if (posix_spawn(&pid, "/bin/rm", NULL, NULL, argv, environ) == 0)
                        (void) waitpid(pid, &status, 0);
        }
        tmp_dir = (free(tmp_dir), NULL);
        root_dir = (free(root_dir), NULL);
        root_link = (free(root_link), NULL);
        pods_dir = (free(pods_dir), NULL);
        logs_dir = (free(logs_dir), NULL);
        sandbox_cgroup_parent = (free(sandbox_cgroup_parent), NULL);
        client = cri_client_free(client);
        cgfs_hierarchies_done(&hierarchies);
}

/* ---- healthz ------------------------------------------------------------------------------------- */

static void test_healthz_ok(void **state) {
        FakeHttp f;

        (void) state;
        assert_int_equal(fake_http_start(&f, 0, OK_RESPONSE, false, true), 0);
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 1);
        assert_int_equal(__atomic_load_n(&f.n_requests, __ATOMIC_ACQUIRE), 1);
        /* What the kubelet's healthz handler is asked: GET /healthz, a Host, no keep-alive. */
        assert_true(strncmp(f.request, "GET /healthz HTTP/1.1\r\n", 23) == 0);
        assert_contains(f.request, "\r\nHost: 127.0.0.1:");
        assert_contains(f.request, "\r\nConnection: close\r\n");

        /* Slow: the answer arrives in two pieces. */
        f.split = true;
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 1);

        /* Without Content-Length: the body ends with the connection. */
        fake_http_set_response(&f, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok\n");
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 1);

        /* Chunked. */
        fake_http_set_response(
                &f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 1);
        fake_http_stop(&f);
}

static void test_healthz_not_ok(void **state) {
        FakeHttp f;

        (void) state;
        assert_int_equal(fake_http_start(&f, 0, FAILED_RESPONSE, false, true), 0);
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 0);

        /* 200, but not "ok". */
        fake_http_set_response(&f, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nnot ok");
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 0);
        fake_http_set_response(&f, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 0);
        /* "ok" beyond the announced length does not count. */
        fake_http_set_response(&f, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nok");
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 0);
        fake_http_set_response(&f, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nok");
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), 0);

        /* Not HTTP at all; closed without a word. */
        fake_http_set_response(&f, "SSH-2.0-OpenSSH_9.2\r\n");
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), -EBADMSG);
        fake_http_set_response(&f, NULL);
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 2 * USEC_PER_SEC), -ECONNRESET);
        fake_http_stop(&f);
}

static void test_healthz_unreachable(void **state) {
        struct timespec t0, t1;
        FakeHttp f;
        uint16_t port;
        long ms;

        (void) state;
        /* A port that was just free: nothing listens. */
        assert_int_equal(fake_http_start(&f, 0, NULL, false, false), 0);
        port = f.port;
        fake_http_stop(&f);
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", port, 2 * USEC_PER_SEC), -ECONNREFUSED);

        /* Listening, but never answering (the connection waits in the backlog): the timeout. */
        assert_int_equal(fake_http_start(&f, 0, NULL, false, false), 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(gather_kubelet_healthz("127.0.0.1", f.port, 300 * USEC_PER_MSEC), -ETIMEDOUT);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        assert_true(ms >= 290 && ms < 2000);
        fake_http_stop(&f);

        /* Names are not resolved: no resolver that could hang. */
        assert_int_equal(gather_kubelet_healthz("localhost", KUBELET_PORT, USEC_PER_SEC), -EINVAL);
        assert_int_equal(gather_kubelet_healthz(NULL, KUBELET_PORT, USEC_PER_SEC), -EINVAL);
        /* IPv6 loopback: refused or answered, never a parse error. */
        assert_int_not_equal(gather_kubelet_healthz("::1", port, USEC_PER_SEC), -EINVAL);
}

/* ---- the node ------------------------------------------------------------------------------------- */

static int run_live_pod(void) {
        const char *main_labels[] = {
                "io.kubernetes.pod.uid",
                uid_live,
                "io.kubernetes.pod.name",
                LIVE_POD_NAME,
                "io.kubernetes.pod.namespace",
                NAMESPACE,
                "io.kubernetes.container.name",
                "main",
                NULL,
        };
        /* A container whose label names another uid than its sandbox: only the label knows it. */
        const char *stray_labels[] = {
                "io.kubernetes.pod.uid", uid_label, "io.kubernetes.container.name", "stray", NULL};
        CriContainerConfig config = {
                .name = "main",
                .image = BUSYBOX_IMAGE,
                .command = (const char *const[]){"/bin/sleep", "1000", NULL},
                .labels = main_labels,
        };
        _cleanup_free_ char *main_id = NULL, *stray_id = NULL;
        CriStatus st = {};
        int r;

        TRY(sandbox_cgroup_parent = joinf("/%s/besteffort/pod%s", kubepods, uid_live));
        sandbox_labels[0] = "io.kubernetes.pod.uid";
        sandbox_labels[1] = uid_live;
        sandbox_labels[2] = "io.kubernetes.pod.name";
        sandbox_labels[3] = LIVE_POD_NAME;
        sandbox_labels[4] = "io.kubernetes.pod.namespace";
        sandbox_labels[5] = NAMESPACE;
        sandbox_labels[6] = NULL;
        sandbox_config = (CriPodSandboxConfig){
                .name = LIVE_POD_NAME,
                .namespace = NAMESPACE,
                .uid = uid_live,
                .hostname = "", /* host network: must be empty */
                .cgroup_parent = sandbox_cgroup_parent,
                .host_network = true,
                .labels = sandbox_labels,
        };
        r = cri_run_pod_sandbox(client, &sandbox_config, &sandbox_id, &st);
        if (r < 0) {
                fprintf(stderr, "setup: RunPodSandbox: %s\n", st.message);
                cri_status_done(&st);
                return -1;
        }
        r = cri_create_container(client, sandbox_id, &config, &sandbox_config, &main_id, &st);
        if (r >= 0)
                r = cri_start_container(client, main_id, &st);
        if (r >= 0) {
                config.name = "stray";
                config.labels = stray_labels;
                r = cri_create_container(client, sandbox_id, &config, &sandbox_config, &stray_id, &st);
        }
        if (r < 0) {
                fprintf(stderr, "setup: containers: %s\n", st.message);
                cri_status_done(&st);
                return -1;
        }
        return 0;
}

static int group_setup(void **state) {
        _cleanup_free_ char *tmpl = NULL, *p = NULL;
        const char *base = getenv("PODREAPER_TEST_CTD_DIR") ?: "/tmp";
        CriStatus st = {};
        char *t;

        (void) state;
        if (cri_connect(endpoint, &(CriOptions){.timeout_usec = 60 * USEC_PER_SEC}, &client, &st) < 0) {
                fprintf(stderr, "setup: cannot connect to %s: %s\n", endpoint, st.message);
                cri_status_done(&st);
                return -1;
        }
        TRY(cgfs_hierarchies_find(NULL, "/sys/fs/cgroup", &hierarchies) >= 0);
        TRY(hierarchies.n > 0);

        TRY(tmpl = joinf("%s/gather.XXXXXX", base));
        TRY(t = mkdtemp(tmpl));
        TRY(tmp_dir = realpath(t, NULL));
        TRY(root_dir = joinf("%s/kubelet", tmp_dir));
        TRY(root_link = joinf("%s/kubelet-link", tmp_dir));
        TRY(pods_dir = joinf("%s/pods", root_dir));
        TRY(logs_dir = joinf("%s/pods-logs", tmp_dir));
        TRY(mkdir(root_dir, 0755) == 0 && mkdir(pods_dir, 0755) == 0 && mkdir(logs_dir, 0755) == 0);
        TRY(mkdirf("%s/pod-resources", root_dir) == 0);
        TRY(symlink("kubelet", root_link) == 0);

        TRY(random_uuid(uid_live) && random_uuid(uid_label) && random_uuid(uid_orphan) &&
            random_uuid(uid_mounts) && random_uuid(uid_self) && random_uuid(uid_logonly));

        /* The live pod: a running sandbox and containers; containerd makes its pod cgroup. */
        TRY(run_live_pod() == 0);
        /* The orphan's pod cgroup, in every hierarchy, as a removed pod leaves it. */
        TRY(make_pod_cgroup(uid_orphan) == 0);

        /* Pod dirs. The live one: etc-hosts changed in an hour (a direct child counts); a file deep
         * in a volume changed in a day and a symlink to a dir changed in two (neither counts). */
        future_1h = (now_usec() / USEC_PER_SEC + 3600) * USEC_PER_SEC;
        TRY(mkdirf("%s/%s", pods_dir, uid_live) == 0);
        TRY(mkdirf("%s/%s/containers", pods_dir, uid_live) == 0);
        TRY(mkdirf("%s/%s/volumes", pods_dir, uid_live) == 0);
        TRY(mkdirf("%s/%s/volumes/kubernetes.io~empty-dir", pods_dir, uid_live) == 0);
        TRY(mkdirf("%s/%s/volumes/kubernetes.io~empty-dir/cache", pods_dir, uid_live) == 0);
        TRY(touchf("%s/%s/volumes/kubernetes.io~empty-dir/cache/deep", pods_dir, uid_live) == 0);
        TRY(p = joinf("%s/%s/volumes/kubernetes.io~empty-dir/cache/deep", pods_dir, uid_live));
        TRY(set_mtime(p, future_1h + 23 * 3600 * USEC_PER_SEC) == 0);
        p = (free(p), NULL);
        TRY(mkdirf("%s/future", tmp_dir) == 0);
        TRY(p = joinf("%s/future", tmp_dir));
        TRY(set_mtime(p, future_1h + 47 * 3600 * USEC_PER_SEC) == 0);
        p = (free(p), NULL);
        TRY(p = joinf("%s/%s/plugins", pods_dir, uid_live));
        TRY(symlink("../../../future", p) == 0);
        p = (free(p), NULL);
        TRY(touchf("%s/%s/etc-hosts", pods_dir, uid_live) == 0);
        TRY(p = joinf("%s/%s/etc-hosts", pods_dir, uid_live));
        TRY(set_mtime(p, future_1h) == 0);
        p = (free(p), NULL);

        /* The orphan: an empty-dir volume still mounted. */
        TRY(mkdirf("%s/%s", pods_dir, uid_orphan) == 0);
        TRY(mkdirf("%s/%s/volumes", pods_dir, uid_orphan) == 0);
        TRY(mkdirf("%s/%s/volumes/kubernetes.io~empty-dir", pods_dir, uid_orphan) == 0);
        TRY(mkdirf("%s/%s/volumes/kubernetes.io~empty-dir/data", pods_dir, uid_orphan) == 0);
        TRY(p = joinf("%s/%s/volumes/kubernetes.io~empty-dir/data", pods_dir, uid_orphan));
        TRY(mount_tmpfs(p) == 0);
        p = (free(p), NULL);
        TRY(touchf("%s/%s/volumes/kubernetes.io~empty-dir/data/precious", pods_dir, uid_orphan) == 0);

        /* Mounts on a direct child (plugins/, its root's mtime in three days: not stat'ed) and a
         * CSI volume with a mount inside the mount (the deeper one is named). */
        TRY(mkdirf("%s/%s", pods_dir, uid_mounts) == 0);
        TRY(mkdirf("%s/%s/plugins", pods_dir, uid_mounts) == 0);
        TRY(p = joinf("%s/%s/plugins", pods_dir, uid_mounts));
        TRY(mount_tmpfs(p) == 0);
        TRY(set_mtime(p, future_1h + 71 * 3600 * USEC_PER_SEC) == 0);
        p = (free(p), NULL);
        TRY(mkdirf("%s/%s/volumes", pods_dir, uid_mounts) == 0);
        TRY(mkdirf("%s/%s/volumes/kubernetes.io~csi", pods_dir, uid_mounts) == 0);
        TRY(mkdirf("%s/%s/volumes/kubernetes.io~csi/pvc-1", pods_dir, uid_mounts) == 0);
        TRY(mkdirf("%s/%s/volumes/kubernetes.io~csi/pvc-1/mount", pods_dir, uid_mounts) == 0);
        TRY(touchf("%s/%s/volumes/kubernetes.io~csi/pvc-1/vol_data.json", pods_dir, uid_mounts) == 0);
        TRY(p = joinf("%s/%s/volumes/kubernetes.io~csi/pvc-1/mount", pods_dir, uid_mounts));
        TRY(mount_tmpfs(p) == 0);
        p = (free(p), NULL);
        TRY(mkdirf("%s/%s/volumes/kubernetes.io~csi/pvc-1/mount/sub", pods_dir, uid_mounts) == 0);
        TRY(p = joinf("%s/%s/volumes/kubernetes.io~csi/pvc-1/mount/sub", pods_dir, uid_mounts));
        TRY(mount_tmpfs(p) == 0);
        p = (free(p), NULL);

        /* A pod dir that is a mount point itself. */
        TRY(mkdirf("%s/%s", pods_dir, uid_self) == 0);
        TRY(p = joinf("%s/%s", pods_dir, uid_self));
        TRY(mount_tmpfs(p) == 0);
        p = (free(p), NULL);

        /* Not pod dirs: a bogus name (listed; the planner rejects it), a file, a symlink. */
        TRY(mkdirf("%s/not-a-uid", pods_dir) == 0);
        TRY(touchf("%s/stray-file", pods_dir) == 0);
        TRY(p = joinf("%s/link-to-live", pods_dir));
        TRY(symlink(uid_live, p) == 0);
        p = (free(p), NULL);

        /* Log dirs: <namespace>_<pod name>_<uid>, one without '_', and no file or symlink. */
        TRY(mkdirf("%s/%s_%s_%s", logs_dir, NAMESPACE, LIVE_POD_NAME, uid_live) == 0);
        TRY(mkdirf("%s/%s_%s_%s/main", logs_dir, NAMESPACE, LIVE_POD_NAME, uid_live) == 0);
        TRY(mkdirf("%s/%s_gather-orphan_%s", logs_dir, NAMESPACE, uid_orphan) == 0);
        TRY(mkdirf("%s/%s_gather-logonly_%s", logs_dir, NAMESPACE, uid_logonly) == 0);
        TRY(mkdirf("%s/nounderscore", logs_dir) == 0);
        TRY(touchf("%s/ns_file_%s", logs_dir, uid_orphan) == 0);
        TRY(p = joinf("%s/ns_link_%s", logs_dir, uid_orphan));
        TRY(symlink("nounderscore", p) == 0);
        return 0;
}

static int group_teardown(void **state) {
        (void) state;
        cleanup_all();
        return 0;
}

/* Is a healthz on 127.0.0.1:10248 refused? A kubelet on this machine (or the fake one of a
 * concurrent run) would make the "no kubelet" expectations wrong. */
static bool kubelet_port_free(void) {
        return gather_kubelet_healthz("127.0.0.1", KUBELET_PORT, USEC_PER_SEC) == -ECONNREFUSED;
}

static void test_gather_node(void **state) {
        _cleanup_(snapshot_done) Snapshot s = {};
        _cleanup_free_ char *mount_orphan = NULL, *mount_sub = NULL, *self = NULL, *orphan_dir = NULL,
                            *live_log = NULL, *orphan_log = NULL;
        Options o = options_for(root_link, logs_dir);
        const CgfsPod *pod;
        const PodDir *d;
        const LogDir *l;
        usec_t t0, t1;
        bool port_free;

        (void) state;
        port_free = kubelet_port_free();
        t0 = now_usec();
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        t1 = now_usec();
        assert_true(s.now >= t0 && s.now <= t1);

        /* Pod cgroups: the live pod's (made by containerd under cgroup_parent), the orphan's in
         * every hierarchy; the driver detected from the layout. */
        assert_true(s.cgroups.ok);
        assert_null(s.cgroups.error);
        assert_int_equal(s.pod_cgroups.driver, CGFS_DRIVER_CGROUPFS);
        pod = cgfs_pods_find(&s.pod_cgroups, uid_live);
        assert_non_null(pod);
        assert_int_equal(pod->qos, CGFS_QOS_BESTEFFORT);
        assert_true(pod->populated);
        pod = cgfs_pods_find(&s.pod_cgroups, uid_orphan);
        assert_non_null(pod);
        assert_false(pod->populated);
        for (size_t i = 0; i < hierarchies.n; i++)
                assert_non_null(pod->paths[i]);
        assert_null(cgfs_pods_find(&s.pod_cgroups, uid_label));

        /* CRI: the sandbox's metadata uid and a container's label uid; sorted, each once (the live
         * uid is named by the sandbox and by a container). */
        assert_true(s.cri.ok);
        assert_null(s.cri.error);
        assert_strictly_sorted(s.cri_uids, s.n_cri_uids);
        assert_true(uid_list_contains(s.cri_uids, s.n_cri_uids, uid_live));
        assert_true(uid_list_contains(s.cri_uids, s.n_cri_uids, uid_label));
        assert_false(uid_list_contains(s.cri_uids, s.n_cri_uids, uid_orphan));

        /* No kubelet here (unless a concurrent run of this test plays one). */
        if (port_free && kubelet_port_free()) {
                assert_false(s.kubelet.ok);
                assert_non_null(s.kubelet.error);
                assert_string_equal(s.kubelet.error, "healthz on 127.0.0.1:10248: connection refused");
                assert_int_equal(s.n_kubelet_uids, 0);
                assert_int_equal(s.kubelet_started, 0);
        }

        /* Pod dirs: sorted, the file and the symlink left out, mounts from the mount table with
         * the root dir made canonical (the options name it through a symlink). */
        assert_true(s.disk.ok);
        assert_null(s.disk.error);
        assert_int_equal(s.n_pod_dirs, 5);
        for (size_t i = 1; i < s.n_pod_dirs; i++)
                assert_true(strcmp(s.pod_dirs[i - 1].uid, s.pod_dirs[i].uid) < 0);
        assert_null(find_pod_dir(&s, "stray-file"));
        assert_null(find_pod_dir(&s, "link-to-live"));

        d = find_pod_dir(&s, uid_live);
        assert_non_null(d);
        assert_int_equal(d->n_mounts, 0);
        assert_null(d->first_mount);
        assert_int_equal(d->changed, future_1h); /* etc-hosts; not the deep file, not the symlink's target */

        assert_non_null(orphan_dir = joinf("%s/%s", pods_dir, uid_orphan));
        assert_non_null(mount_orphan = joinf("%s/volumes/kubernetes.io~empty-dir/data", orphan_dir));
        d = find_pod_dir(&s, uid_orphan);
        assert_non_null(d);
        assert_int_equal(d->n_mounts, 1);
        assert_string_equal(d->first_mount, mount_orphan);
        assert_int_equal(d->changed, expected_changed(orphan_dir));
        assert_true(d->changed <= t1);

        assert_non_null(
                mount_sub = joinf("%s/%s/volumes/kubernetes.io~csi/pvc-1/mount/sub", pods_dir, uid_mounts));
        d = find_pod_dir(&s, uid_mounts);
        assert_non_null(d);
        assert_int_equal(d->n_mounts, 3);
        assert_string_equal(d->first_mount, mount_sub);
        assert_true(d->changed <= t1); /* the mounted plugins/ root (in three days) was not stat'ed */

        assert_non_null(self = joinf("%s/%s", pods_dir, uid_self));
        d = find_pod_dir(&s, uid_self);
        assert_non_null(d);
        assert_int_equal(d->n_mounts, 1);
        assert_string_equal(d->first_mount, self);
        assert_int_equal(d->changed, s.now); /* mounted itself: not stat'ed, counts as new */

        d = find_pod_dir(&s, "not-a-uid");
        assert_non_null(d);
        assert_int_equal(d->n_mounts, 0);

        /* Log dirs: directories only, sorted by name, the uid after the last '_'. */
        assert_int_equal(s.n_log_dirs, 4);
        for (size_t i = 1; i < s.n_log_dirs; i++)
                assert_true(strcmp(s.log_dirs[i - 1].name, s.log_dirs[i].name) < 0);
        assert_non_null(live_log = joinf("%s_%s_%s", NAMESPACE, LIVE_POD_NAME, uid_live));
        l = find_log_dir(&s, live_log);
        assert_non_null(l);
        assert_string_equal(l->uid, uid_live);
        assert_true(l->changed > 0 && l->changed <= t1);
        assert_non_null(orphan_log = joinf("%s_gather-orphan_%s", NAMESPACE, uid_orphan));
        l = find_log_dir(&s, orphan_log);
        assert_non_null(l);
        assert_string_equal(l->uid, uid_orphan);
        l = find_log_dir(&s, "nounderscore");
        assert_non_null(l);
        assert_null(l->uid);
}

static int teardown_helpers(void **state) {
        (void) state;
        stop_child();
        fake_http_stop(&kubelet_http);
        return 0;
}

static void test_gather_kubelet(void **state) {
        _cleanup_(snapshot_done) Snapshot s = {};
        _cleanup_free_ char *sock = NULL, *logonly = NULL, *live = NULL;
        Options o = options_for(root_dir, logs_dir);
        struct stat st;
        int r;

        (void) state;
        if (access(PYTHON, X_OK) < 0)
                skip();
        r = fake_http_start(&kubelet_http, KUBELET_PORT, OK_RESPONSE, false, true);
        if (r == -EADDRINUSE) {
                fprintf(stderr, "# 127.0.0.1:%d is in use (a kubelet?): skipped\n", KUBELET_PORT);
                skip();
        }
        assert_int_equal(r, 0);

        /* Healthy, but no pod-resources socket yet: not ready, start time unknown. */
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        assert_false(s.kubelet.ok);
        assert_contains(s.kubelet.error, "pod-resources: ");
        assert_contains(s.kubelet.error, "pod-resources/kubelet.sock");
        assert_int_equal(s.kubelet_started, 0);
        snapshot_done(&s);

        /* The kubelet's List names three pods: the live one (its uid from the sandbox's metadata),
         * one known only by its log dir, one nothing names. */
        assert_non_null(sock = joinf("%s/pod-resources/kubelet.sock", root_dir));
        assert_non_null(live = joinf("%s/%s", NAMESPACE, LIVE_POD_NAME));
        assert_non_null(logonly = joinf("%s/gather-logonly", NAMESPACE));
        if (!start_child((char *const[]){
                    (char *) PYTHON,
                    (char *) "-c",
                    (char *) pod_resources_server,
                    sock,
                    live,
                    logonly,
                    (char *) "elsewhere/unknown",
                    NULL}))
                fail_msg("the pod-resources server (grpcio) did not start");

        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        if (!s.kubelet.ok)
                fail_msg("kubelet not ok: %s", s.kubelet.error);
        assert_null(s.kubelet.error);
        assert_int_equal(stat(sock, &st), 0);
        assert_int_equal(s.kubelet_started, ts_usec(&st.st_ctim));
        assert_int_equal(s.n_kubelet_uids, 2);
        assert_strictly_sorted(s.kubelet_uids, s.n_kubelet_uids);
        assert_true(uid_list_contains(s.kubelet_uids, s.n_kubelet_uids, uid_live));
        assert_true(uid_list_contains(s.kubelet_uids, s.n_kubelet_uids, uid_logonly));
        snapshot_done(&s);

        /* healthz failing: nothing else is asked, the answer is in the reason. */
        fake_http_set_response(&kubelet_http, FAILED_RESPONSE);
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        assert_false(s.kubelet.ok);
        assert_string_equal(
                s.kubelet.error,
                "healthz on 127.0.0.1:10248: HTTP 500, \"[-]syncloop failed: reason withheld\"");
        assert_int_equal(s.n_kubelet_uids, 0);
        assert_int_equal(s.kubelet_started, 0);
        snapshot_done(&s);

        /* Healthy again, the pod-resources server gone (its socket stale). */
        fake_http_set_response(&kubelet_http, OK_RESPONSE);
        stop_child();
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        assert_false(s.kubelet.ok);
        assert_contains(s.kubelet.error, "pod-resources");
        assert_int_equal(s.n_kubelet_uids, 0);
        assert_int_equal(unlink(sock), 0);
}

static void test_gather_cri_null(void **state) {
        _cleanup_(snapshot_done) Snapshot s = {};
        Options o = options_for(root_dir, logs_dir);
        const char *why = "CRI endpoint unix:///run/nothing.sock: no such socket";

        (void) state;
        assert_int_equal(gather_snapshot(&o, &hierarchies, NULL, why, &s), 0);
        assert_false(s.cri.ok);
        assert_string_equal(s.cri.error, why);
        assert_int_equal(s.n_cri_uids, 0);
        assert_null(s.cri_uids);
        /* The other sources are read all the same. */
        assert_true(s.cgroups.ok);
        assert_non_null(cgfs_pods_find(&s.pod_cgroups, uid_orphan));
        assert_true(s.disk.ok);
        assert_int_equal(s.n_pod_dirs, 5);
        snapshot_done(&s);

        assert_int_equal(gather_snapshot(&o, &hierarchies, NULL, NULL, &s), 0);
        assert_false(s.cri.ok);
        assert_non_null(s.cri.error);
}

/* A runtime that answers every call with UNAVAILABLE (tests/e2e/fault-server.py). */
static void test_gather_cri_fails(void **state) {
        _cleanup_(snapshot_done) Snapshot s = {};
        _cleanup_cri_client_ CriClient *c = NULL;
        _cleanup_free_ char *sock = NULL, *script = NULL;
        Options o = options_for(root_dir, logs_dir);
        CriStatus st = {};

        (void) state;
        assert_non_null(
                script = joinf("%s/fault-server.py", getenv("PODREAPER_TEST_E2E_DIR") ?: "tests/e2e"));
        if (access(PYTHON, X_OK) < 0 || access(script, R_OK) < 0)
                skip();
        assert_non_null(sock = joinf("%s/fault.sock", tmp_dir));
        if (!start_child((char *const[]){
                    (char *) PYTHON,
                    script,
                    (char *) "--socket",
                    sock,
                    (char *) "--mode",
                    (char *) "unavailable",
                    NULL}))
                fail_msg("%s did not start", script);
        assert_int_equal(cri_connect(sock, NULL, &c, &st), 0);

        assert_int_equal(gather_snapshot(&o, &hierarchies, c, NULL, &s), 0);
        assert_false(s.cri.ok);
        assert_string_equal(s.cri.error, "ListPodSandbox: runtime is down: 100% sure");
        assert_int_equal(s.n_cri_uids, 0);
        assert_true(s.disk.ok);
}

static void test_gather_no_pods_dir(void **state) {
        _cleanup_(snapshot_done) Snapshot s = {};
        _cleanup_free_ char *empty = NULL, *missing = NULL, *file = NULL;
        Options o;

        (void) state;
        /* A root dir without pods/, a logs dir that does not exist: nothing there, and fine. */
        assert_non_null(empty = joinf("%s/empty-root", tmp_dir));
        assert_non_null(missing = joinf("%s/no-such-dir", tmp_dir));
        assert_int_equal(mkdir(empty, 0755), 0);
        o = options_for(empty, missing);
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        assert_true(s.disk.ok);
        assert_null(s.disk.error);
        assert_int_equal(s.n_pod_dirs, 0);
        assert_null(s.pod_dirs);
        assert_int_equal(s.n_log_dirs, 0);
        assert_true(s.cri.ok);
        snapshot_done(&s);

        /* A root dir that does not exist: the disk cannot be read (no pod dirs, not "none"). */
        o = options_for(missing, logs_dir);
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        assert_false(s.disk.ok);
        assert_contains(s.disk.error, missing);
        assert_contains(s.disk.error, "no such file or directory");
        assert_int_equal(s.n_pod_dirs, 0);
        assert_int_equal(s.n_log_dirs, 4); /* read all the same, for the report */
        snapshot_done(&s);

        /* pods/ a file, the logs dir a file: not readable, said so. */
        assert_non_null(file = joinf("%s/pods", empty));
        assert_int_equal(touchf("%s", file), 0);
        o = options_for(empty, file);
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        assert_false(s.disk.ok);
        assert_contains(s.disk.error, file);
        assert_contains(s.disk.error, "not a directory");
}

static void test_gather_cgroups(void **state) {
        _cleanup_(snapshot_done) Snapshot s = {};
        Options o = options_for(root_dir, logs_dir);
        CgfsHierarchies none = {};

        (void) state;
        /* No hierarchy: not readable, whatever else is there. */
        assert_int_equal(gather_snapshot(&o, &none, client, NULL, &s), 0);
        assert_false(s.cgroups.ok);
        assert_string_equal(s.cgroups.error, "no cgroup hierarchy under /sys/fs/cgroup");
        assert_int_equal(s.pod_cgroups.n, 0);
        assert_true(s.cri.ok);
        snapshot_done(&s);

        /* A kubepods name nothing uses: no pod cgroups, and fine. */
        o.kubepods_cgroup = (char *) "podreaper-gather-nothing-here";
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        assert_true(s.cgroups.ok);
        assert_int_equal(s.pod_cgroups.n, 0);
        snapshot_done(&s);

        /* A kubepods name that cannot be one. */
        o.kubepods_cgroup = (char *) "../escape";
        o.cgroup_driver = CGFS_DRIVER_CGROUPFS;
        assert_int_equal(gather_snapshot(&o, &hierarchies, client, NULL, &s), 0);
        assert_false(s.cgroups.ok);
        assert_contains(s.cgroups.error, "../escape");
}

int main(void) {
        const struct CMUnitTest healthz_tests[] = {
                cmocka_unit_test(test_healthz_ok),
                cmocka_unit_test(test_healthz_not_ok),
                cmocka_unit_test(test_healthz_unreachable),
        };
        const struct CMUnitTest node_tests[] = {
                cmocka_unit_test(test_gather_node),
                cmocka_unit_test_teardown(test_gather_kubelet, teardown_helpers),
                cmocka_unit_test(test_gather_cri_null),
                cmocka_unit_test_teardown(test_gather_cri_fails, teardown_helpers),
                cmocka_unit_test(test_gather_no_pods_dir),
                cmocka_unit_test(test_gather_cgroups),
        };
        int r;

        endpoint = getenv("PODREAPER_TEST_CRI_ENDPOINT");
        kubepods = getenv("PODREAPER_TEST_KUBEPODS");
        if (!endpoint || !kubepods) {
                fprintf(stderr,
                        "PODREAPER_TEST_CRI_ENDPOINT / PODREAPER_TEST_KUBEPODS not set: run under "
                        "tests/e2e/with-containerd.sh (make check does)\n");
                return 77;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "needs root (mounts, cgroups)\n");
                return 77;
        }
        /* Our mounts stay in a mount namespace of our own and vanish with it. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "cannot make a private mount namespace: %m\n");
                return 1;
        }

        r = cmocka_run_group_tests_name("healthz", healthz_tests, NULL, NULL);
        r += cmocka_run_group_tests_name("gather", node_tests, group_setup, group_teardown);
        cleanup_all();
        return r;
}
