/* SPDX-License-Identifier: MIT */
/* Fault tests for cri/: a misbehaving CRI server (tests/e2e/fault-server.py, a hand-written HTTP/2
 * server on Debian's /usr/bin/python3) answers every call in one bad way per test, and the client
 * must report the right gRPC code and a clear message — never crash, never hang.
 *
 * Each test starts its own server on a socket in a temp dir of its own, waits for its "ready",
 * and its teardown ends it by pid (TERM, then KILL) and removes the dir. Needs no containerd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cri/cri.h"
#include "util/macro.h"

#define PYTHON "/usr/bin/python3"
#define READY_TIMEOUT_MS 10000
#define SECOND (1000ULL * 1000)
#define MISSING_ID "0000000000000000000000000000000000000000000000000000000000000000"

extern char **environ;

static const char *fault_server;

/* What a test asks for: a mode, extra arguments, the client's options. */
typedef struct FaultSpec {
        const char *mode;
        const char *args[4];
        CriOptions opts;
} FaultSpec;

typedef struct Fault {
        const FaultSpec *spec;
        char dir[64];
        char *socket;
        char *log;
        pid_t pid;
        CriClient *client;
} Fault;

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * SECOND + (uint64_t) ts.tv_nsec / 1000;
}

/* Waits for the server's "ready" line; false when it died or took too long. */
static bool wait_ready(int fd, pid_t pid) {
        char buf[256];
        size_t len = 0;
        uint64_t deadline = now_usec() + READY_TIMEOUT_MS * 1000ULL;

        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                uint64_t now = now_usec();
                ssize_t n;

                if (now >= deadline || poll(&p, 1, (int) ((deadline - now) / 1000) + 1) <= 0)
                        return false;
                n = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        return false;
                len += (size_t) n;
                buf[len] = '\0';
                if (strstr(buf, "ready\n"))
                        return true;
                if (len == sizeof(buf) - 1 || waitpid(pid, NULL, WNOHANG) != 0)
                        return false;
        }
}

static void fault_stop(Fault *f) {
        if (f->pid > 0) {
                /* TERM, then KILL if it does not go within 5 s; by pid, never by name. */
                (void) kill(f->pid, SIGTERM);
                for (int i = 0; i < 500; i++) {
                        if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
                                f->pid = 0;
                                break;
                        }
                        usleep(10 * 1000);
                }
                if (f->pid > 0) {
                        (void) kill(f->pid, SIGKILL);
                        (void) waitpid(f->pid, NULL, 0);
                        f->pid = 0;
                }
        }
}

static int fault_setup(void **state) {
        const FaultSpec *spec = *state;
        posix_spawn_file_actions_t actions;
        const char *argv[16];
        size_t n = 0;
        int pipefd[2] = {-EBADF, -EBADF};
        CriStatus st = {};
        Fault *f;
        int r;

        f = calloc(1, sizeof(Fault));
        if (!f)
                return -1;
        *state = f;
        f->spec = spec;
        snprintf(f->dir, sizeof(f->dir), "/tmp/cri-fault-XXXXXX");
        if (!mkdtemp(f->dir) || asprintf(&f->socket, "%s/cri.sock", f->dir) < 0 ||
            asprintf(&f->log, "%s/requests.jsonl", f->dir) < 0)
                return -1;

        argv[n++] = PYTHON;
        argv[n++] = fault_server;
        argv[n++] = "--socket";
        argv[n++] = f->socket;
        argv[n++] = "--mode";
        argv[n++] = spec->mode;
        argv[n++] = "--log";
        argv[n++] = f->log;
        for (size_t i = 0; i < ELEMENTSOF(spec->args) && spec->args[i]; i++)
                argv[n++] = spec->args[i];
        argv[n] = NULL;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -1;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
        r = posix_spawn(&f->pid, PYTHON, &actions, NULL, (char *const *) argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        safe_close(pipefd[1]);
        if (r != 0) {
                safe_close(pipefd[0]);
                fprintf(stderr, "cannot start %s: %s\n", fault_server, strerror(r));
                f->pid = 0;
                return -1;
        }
        if (!wait_ready(pipefd[0], f->pid)) {
                safe_close(pipefd[0]);
                fprintf(stderr, "%s --mode %s did not get ready\n", fault_server, spec->mode);
                return -1;
        }
        safe_close(pipefd[0]);

        r = cri_connect(f->socket, &spec->opts, &f->client, &st);
        if (r < 0) {
                fprintf(stderr, "cannot connect to the fault server: %s\n", st.message);
                cri_status_done(&st);
                return -1;
        }
        return 0;
}

static int fault_teardown(void **state) {
        Fault *f = *state;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!f)
                return 0;
        f->client = cri_client_free(f->client);
        fault_stop(f);
        /* The dir holds the socket (the server removes it) and the request log. */
        d = opendir(f->dir);
        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        (void) rmdir(f->dir);
        free(f->socket);
        free(f->log);
        free(f);
        return 0;
}

/* The request log, one JSON object per line. */
static char *read_log(const Fault *f) {
        _cleanup_fclose_ FILE *file = fopen(f->log, "re");
        char *buf = NULL;
        size_t size = 0;
        FILE *mem;
        int c;

        assert_non_null(file);
        mem = open_memstream(&buf, &size);
        assert_non_null(mem);
        while ((c = fgetc(file)) != EOF)
                fputc(c, mem);
        fclose(mem);
        return buf;
}

/* The largest value of an integer field over all lines of the log, and how many lines have it. */
static long log_max(const char *log, const char *field, size_t *ret_count) {
        _cleanup_free_ char *key = NULL;
        long max = -1;
        size_t count = 0;

        assert_true(asprintf(&key, "\"%s\": ", field) > 0);
        for (const char *p = strstr(log, key); p; p = strstr(p + 1, key)) {
                long v = strtol(p + strlen(key), NULL, 10);
                max = MAX(max, v);
                count++;
        }
        if (ret_count)
                *ret_count = count;
        return max;
}

/* Every failure must come with our or the server's words: never empty. */
#define assert_status(r, st, want_r, want_code) \
        do { \
                if ((r) != (want_r) || (st).code != (want_code)) \
                        fail_msg( \
                                "got %d %s (%s), want %d %s", \
                                (r), \
                                cri_code_to_string((st).code) ?: "?", \
                                (st).message ?: "(no message)", \
                                (want_r), \
                                cri_code_to_string(want_code)); \
                if ((want_code) != CRI_CODE_OK) { \
                        assert_non_null((st).message); \
                        assert_true(strlen((st).message) > 0); \
                } \
        } while (0)

static void assert_message_has(const CriStatus *st, const char *words) {
        if (!st->message || !strstr(st->message, words))
                fail_msg("message \"%s\" lacks \"%s\"", st->message ?: "(null)", words);
}

/* ---- the faults --------------------------------------------------------------------------------- */

static void test_unavailable(void **state) {
        Fault *f = *state;
        CriVersion v = {};
        CriStatus st = {};
        int r;

        r = cri_version(f->client, &v, &st);
        assert_status(r, st, -EAGAIN, CRI_CODE_UNAVAILABLE);
        /* the server's grpc-message, percent-decoded */
        assert_string_equal(st.message, "runtime is down: 100% sure");
        assert_null(v._message);
        cri_status_done(&st);
        assert_false(cri_client_is_broken(f->client));
}

static void test_delay(void **state) {
        Fault *f = *state;
        _cleanup_free_ char *log = NULL;
        CriContainerList l = {};
        CriStatus st = {};
        uint64_t t0, elapsed;
        int r;

        /* The deadline ends the call, not the server. */
        t0 = now_usec();
        r = cri_list_containers(f->client, NULL, &l, &st);
        elapsed = now_usec() - t0;
        assert_status(r, st, -ETIMEDOUT, CRI_CODE_DEADLINE_EXCEEDED);
        assert_message_has(&st, "deadline exceeded");
        assert_message_has(&st, "ListContainers");
        assert_message_has(&st, "1s");
        cri_status_done(&st);
        if (elapsed < SECOND || elapsed > 2500 * 1000)
                fail_msg("the call took %llu ms, not about 1000", (unsigned long long) (elapsed / 1000));

        /* The connection survives a deadline: the next call times out the same way. */
        assert_false(cri_client_is_broken(f->client));
        r = cri_stop_container(f->client, MISSING_ID, 0, &st);
        assert_status(r, st, -ETIMEDOUT, CRI_CODE_DEADLINE_EXCEEDED);
        cri_status_done(&st);

        /* The server was told the deadline: grpc-timeout, 1 s in microseconds. */
        log = read_log(f);
        assert_non_null(strstr(log, "[\"grpc-timeout\", \"1000000u\"]"));
        assert_int_equal(log_max(log, "conn", NULL), 1);
}

/* What the daemon's SIGTERM handler sets; a signal sets it here too, so that the poll the call
 * waits in is interrupted as it would be by a real SIGTERM. */
static volatile sig_atomic_t cancel_requested = 0;
static void on_alarm(int sig) {
        cancel_requested = sig;
}

static void test_cancel(void **state) {
        Fault *f = *state;
        struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART}, old_sa;
        struct itimerval in_300ms = {.it_value = {.tv_usec = 300 * 1000}}, off = {};
        CriContainerList l = {};
        CriStatus st = {};
        uint64_t t0, elapsed;
        int r;

        /* The server sleeps 30 s, the deadline is 30 s: only the cancel can end the call early. */
        cancel_requested = 0;
        assert_int_equal(sigaction(SIGALRM, &sa, &old_sa), 0);
        assert_int_equal(setitimer(ITIMER_REAL, &in_300ms, NULL), 0);
        t0 = now_usec();
        r = cri_list_containers(f->client, NULL, &l, &st);
        elapsed = now_usec() - t0;
        (void) setitimer(ITIMER_REAL, &off, NULL);
        (void) sigaction(SIGALRM, &old_sa, NULL);

        assert_status(r, st, -ECANCELED, CRI_CODE_CANCELLED);
        assert_message_has(&st, "ListContainers");
        assert_message_has(&st, "cancelled");
        cri_status_done(&st);
        if (elapsed > 2 * SECOND)
                fail_msg("the cancelled call took %llu ms", (unsigned long long) (elapsed / 1000));
        /* Its stream was left half-way: the connection takes no more calls. */
        assert_true(cri_client_is_broken(f->client));
        r = cri_list_containers(f->client, NULL, &l, &st);
        assert_int_not_equal(r, 0);
        cri_status_done(&st);
}

static void test_oversize(void **state) {
        Fault *f = *state;
        CriImageList l = {};
        CriStatus st = {};
        int r;

        r = cri_list_images(f->client, &l, &st);
        assert_status(r, st, -ENOBUFS, CRI_CODE_RESOURCE_EXHAUSTED);
        assert_message_has(&st, "exceeds the limit");
        assert_message_has(&st, "16777216");
        cri_status_done(&st);

        /* The stream was reset, the connection lives on. */
        assert_false(cri_client_is_broken(f->client));
        r = cri_list_images(f->client, &l, &st);
        assert_status(r, st, -ENOBUFS, CRI_CODE_RESOURCE_EXHAUSTED);
        cri_status_done(&st);
}

/* 3 MiB: beyond a 1 MiB cap, within the default 16 MiB. */
static void test_oversize_configured(void **state) {
        Fault *f = *state;
        CriImageList l = {};
        CriStatus st = {};
        int r;

        r = cri_list_images(f->client, &l, &st);
        assert_status(r, st, -ENOBUFS, CRI_CODE_RESOURCE_EXHAUSTED);
        assert_message_has(&st, "1048576");
        cri_status_done(&st);
}

static void test_large_within_limit(void **state) {
        Fault *f = *state;
        CriImageList l = {};
        CriStatus st = {};
        int r;

        /* 3 MiB of an unknown field: decodes to an empty list. */
        r = cri_list_images(f->client, &l, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        assert_null(st.message);
        assert_int_equal(l.n, 0);
        cri_image_list_done(&l);
}

static void test_garbage(void **state) {
        Fault *f = *state;
        CriContainerList cl = {};
        CriPodSandboxList sl = {};
        CriStatus st = {};
        int r;

        r = cri_list_containers(f->client, NULL, &cl, &st);
        assert_status(r, st, -EPROTO, CRI_CODE_INTERNAL);
        assert_message_has(&st, "not a valid runtime.v1.ListContainersResponse");
        cri_status_done(&st);

        r = cri_list_pod_sandboxes(f->client, NULL, &sl, &st);
        assert_status(r, st, -EPROTO, CRI_CODE_INTERNAL);
        cri_status_done(&st);

        /* Also in a batch: each call decodes its own answer. */
        CriBatchCall calls[] = {
                {.op = CRI_BATCH_REMOVE_CONTAINER, .id = "a"},
                {.op = CRI_BATCH_REMOVE_POD_SANDBOX, .id = "b"},
        };
        assert_int_equal(cri_batch_run(f->client, calls, ELEMENTSOF(calls)), 2);
        assert_int_equal(calls[0].result, -EPROTO);
        assert_int_equal(calls[1].status.code, CRI_CODE_INTERNAL);
        cri_batch_done(calls, ELEMENTSOF(calls));
}

static void test_trailers_only(void **state) {
        Fault *f = *state;
        CriContainerStatus cs = {};
        CriStatus st = {};
        int r;

        r = cri_container_status(f->client, MISSING_ID, false, &cs, &st);
        assert_status(r, st, -ENOENT, CRI_CODE_NOT_FOUND);
        assert_string_equal(st.message, "café %/é");
        cri_status_done(&st);
}

static void test_reset(void **state) {
        Fault *f = *state;
        const char *code_arg = f->spec->args[1];
        CriVersion v = {};
        CriStatus st = {};
        int r;

        r = cri_version(f->client, &v, &st);
        if (!code_arg) { /* the default: INTERNAL_ERROR */
                assert_status(r, st, -EPROTO, CRI_CODE_INTERNAL);
                assert_message_has(&st, "INTERNAL_ERROR");
        } else if (strcmp(code_arg, "7") == 0) {
                assert_status(r, st, -EAGAIN, CRI_CODE_UNAVAILABLE);
                assert_message_has(&st, "REFUSED_STREAM");
        } else {
                assert_status(r, st, -ECANCELED, CRI_CODE_CANCELLED);
                assert_message_has(&st, "CANCEL");
        }
        assert_message_has(&st, "reset by the runtime");
        cri_status_done(&st);
        assert_false(cri_client_is_broken(f->client));
}

static void test_drop(void **state) {
        Fault *f = *state;
        CriVersion v = {};
        CriStatus st = {};
        uint64_t t0;
        int r;

        r = cri_version(f->client, &v, &st);
        assert_status(r, st, -EAGAIN, CRI_CODE_UNAVAILABLE);
        assert_message_has(&st, "connection lost");
        assert_message_has(&st, f->socket); /* names the endpoint */
        cri_status_done(&st);
        assert_true(cri_client_is_broken(f->client));

        /* Every later call fails at once, and says why. */
        t0 = now_usec();
        r = cri_version(f->client, &v, &st);
        assert_status(r, st, -EAGAIN, CRI_CODE_UNAVAILABLE);
        assert_message_has(&st, "connection lost earlier");
        cri_status_done(&st);
        assert_true(now_usec() - t0 < SECOND / 10);

        CriBatchCall calls[3] = {
                {.op = CRI_BATCH_REMOVE_CONTAINER, .id = "a"},
                {.op = CRI_BATCH_REMOVE_CONTAINER, .id = "b"},
                {.op = CRI_BATCH_REMOVE_IMAGE, .id = "c"},
        };
        assert_int_equal(cri_batch_run(f->client, calls, 3), 3);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(calls[i].status.code, CRI_CODE_UNAVAILABLE);
        cri_batch_done(calls, 3);
}

static void test_content_type(void **state) {
        Fault *f = *state;
        CriVersion v = {};
        CriStatus st = {};
        int r;

        r = cri_version(f->client, &v, &st);
        assert_status(r, st, -EPROTO, CRI_CODE_INTERNAL);
        assert_message_has(&st, "content-type 'text/html; charset=utf-8'");
        cri_status_done(&st);
}

static void test_http_status(void **state) {
        Fault *f = *state;
        const char *status = f->spec->args[1];
        CriVersion v = {};
        CriStatus st = {};
        int r;

        r = cri_version(f->client, &v, &st);
        if (strcmp(status, "503") == 0)
                assert_status(r, st, -EAGAIN, CRI_CODE_UNAVAILABLE);
        else if (strcmp(status, "404") == 0)
                assert_status(r, st, -EOPNOTSUPP, CRI_CODE_UNIMPLEMENTED);
        else
                assert_status(r, st, -EIO, CRI_CODE_UNKNOWN);
        assert_message_has(&st, "HTTP status");
        assert_message_has(&st, status);
        cri_status_done(&st);
}

static void test_compressed(void **state) {
        Fault *f = *state;
        CriVersion v = {};
        CriStatus st = {};
        int r;

        r = cri_version(f->client, &v, &st);
        assert_status(r, st, -EPROTO, CRI_CODE_INTERNAL);
        assert_message_has(&st, "compressed");
        cri_status_done(&st);
}

static void test_ok_version(void **state) {
        Fault *f = *state;
        _cleanup_free_ char *log = NULL;
        CriCgroupDriver driver;
        CriVersion v = {};
        CriStatus st = {};
        size_t n;
        int r;

        r = cri_version(f->client, &v, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        assert_string_equal(v.version, "0.1.0");
        assert_string_equal(v.runtime_name, "fault");
        assert_string_equal(v.runtime_version, "1");
        assert_string_equal(v.runtime_api_version, "v1");
        cri_version_done(&v);

        r = cri_runtime_config(f->client, &driver, &st);
        assert_status(r, st, -EOPNOTSUPP, CRI_CODE_UNIMPLEMENTED);
        assert_message_has(&st, "RuntimeConfig");
        cri_status_done(&st);

        /* What went over the wire: gRPC's headers, both calls on the one connection. */
        log = read_log(f);
        assert_int_equal(log_max(log, "conn", &n), 1);
        assert_int_equal(n, 2);
        assert_non_null(strstr(log, "\"path\": \"/runtime.v1.RuntimeService/Version\""));
        assert_non_null(strstr(log, "\"path\": \"/runtime.v1.RuntimeService/RuntimeConfig\""));
        assert_non_null(strstr(log, "[\":method\", \"POST\"]"));
        assert_non_null(strstr(log, "[\":scheme\", \"http\"]"));
        assert_non_null(strstr(log, "[\":authority\", \"localhost\"]"));
        assert_non_null(strstr(log, "[\"content-type\", \"application/grpc\"]"));
        assert_non_null(strstr(log, "[\"te\", \"trailers\"]"));
        assert_non_null(strstr(log, "[\"grpc-timeout\", \"120000m\"]")); /* the default 2 min */
        assert_non_null(strstr(log, "[\"user-agent\", \"podreaper/"));
        assert_non_null(strstr(log, "\"compressed\": 0"));
}

/* An empty message decodes as every response: empty lists, and our own checks on what must be
 * there. */
static void test_empty_answers(void **state) {
        Fault *f = *state;
        CriContainerStatus cs = {};
        CriPodSandboxList sl = {};
        CriContainerList cl = {};
        CriImageList il = {};
        CriImageFsInfo fs = {};
        CriRuntimeStatus rs = {};
        CriPodResourcesList pr = {};
        CriCgroupDriver driver;
        CriVersion v = {};
        CriStatus st = {};
        int r;

        r = cri_version(f->client, &v, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        assert_string_equal(v.runtime_name, "");
        cri_version_done(&v);
        r = cri_list_pod_sandboxes(f->client, &(CriPodSandboxFilter){.state = CRI_SANDBOX_READY}, &sl, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        assert_int_equal(sl.n, 0);
        cri_pod_sandbox_list_done(&sl);
        r = cri_list_containers(
                f->client,
                &(CriContainerFilter){.state = -1, .label_selector = (const char *const[]){"a", "b", NULL}},
                &cl,
                &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        assert_int_equal(cl.n, 0);
        cri_container_list_done(&cl);
        r = cri_list_images(f->client, &il, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        cri_image_list_done(&il);
        r = cri_image_fs_info(f->client, &fs, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        assert_int_equal(fs.n_image_filesystems, 0);
        cri_image_fs_info_done(&fs);
        r = cri_runtime_status(f->client, true, &rs, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        assert_int_equal(rs.n_conditions, 0);
        cri_runtime_status_done(&rs);
        r = cri_list_pod_resources(f->client, &pr, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        assert_int_equal(pr.n, 0);
        cri_pod_resources_list_done(&pr);
        r = cri_start_container(f->client, "x", &st);
        assert_status(r, st, 0, CRI_CODE_OK);

        /* ContainerStatus without a status, RuntimeConfig without a Linux part: said so. */
        r = cri_container_status(f->client, "x", false, &cs, &st);
        assert_status(r, st, -EPROTO, CRI_CODE_INTERNAL);
        assert_message_has(&st, "no status");
        cri_status_done(&st);
        r = cri_runtime_config(f->client, &driver, &st);
        assert_status(r, st, -EOPNOTSUPP, CRI_CODE_UNIMPLEMENTED);
        cri_status_done(&st);

        /* Bad arguments never reach the wire. */
        r = cri_container_status(f->client, "", false, &cs, &st);
        assert_status(r, st, -EINVAL, CRI_CODE_INVALID_ARGUMENT);
        cri_status_done(&st);
        r = cri_remove_container(f->client, NULL, &st);
        assert_status(r, st, -EINVAL, CRI_CODE_INVALID_ARGUMENT);
        cri_status_done(&st);
        r = cri_list_containers(
                f->client,
                &(CriContainerFilter){.state = -1, .label_selector = (const char *const[]){"odd", NULL}},
                &cl,
                &st);
        assert_status(r, st, -EINVAL, CRI_CODE_INVALID_ARGUMENT);
        cri_status_done(&st);
        /* NULL status: fine too */
        assert_int_equal(cri_remove_image(f->client, "busybox", NULL), 0);
}

/* Concurrency: 20 removals, each answered after 0.4 s. With 8 streams in flight they take 3
 * rounds, not 20; the server never sees more than 8 at once, all on one connection. */
static void run_concurrent(Fault *f, unsigned expect_max_active) {
        _cleanup_free_ char *log = NULL;
        CriBatchCall calls[20];
        char ids[20][8];
        uint64_t t0, elapsed;
        size_t n;
        long max_active;
        unsigned rounds = (20 + expect_max_active - 1) / expect_max_active;

        for (size_t i = 0; i < 20; i++) {
                snprintf(ids[i], sizeof(ids[i]), "c%zu", i);
                calls[i] = (CriBatchCall){
                        .op = i % 2 ? CRI_BATCH_REMOVE_CONTAINER : CRI_BATCH_STOP_CONTAINER, .id = ids[i]};
        }
        t0 = now_usec();
        assert_int_equal(cri_batch_run(f->client, calls, 20), 0);
        elapsed = now_usec() - t0;
        for (size_t i = 0; i < 20; i++) {
                assert_int_equal(calls[i].result, 0);
                assert_int_equal(calls[i].status.code, CRI_CODE_OK);
                assert_null(calls[i].status.message);
        }
        cri_batch_done(calls, 20);

        log = read_log(f);
        max_active = log_max(log, "active", &n);
        assert_int_equal(n, 20);
        assert_int_equal(log_max(log, "conn", NULL), 1);
        if (max_active != (long) expect_max_active)
                fail_msg("at most %ld streams at once, not %u", max_active, expect_max_active);
        if (elapsed < rounds * 400 * 1000 || elapsed > (rounds + 2) * 400 * 1000)
                fail_msg("%u rounds took %llu ms", rounds, (unsigned long long) (elapsed / 1000));
}

static void test_concurrent_default(void **state) {
        run_concurrent(*state, CRI_DEFAULT_MAX_CONCURRENT);
}

static void test_concurrent_three(void **state) {
        run_concurrent(*state, 3);
}

/* The server goes away between calls: the next call says the connection is lost. */
static void test_server_killed(void **state) {
        Fault *f = *state;
        CriVersion v = {};
        CriStatus st = {};
        int r;

        r = cri_version(f->client, &v, &st);
        assert_status(r, st, 0, CRI_CODE_OK);
        cri_version_done(&v);

        (void) kill(f->pid, SIGKILL);
        assert_int_equal(waitpid(f->pid, NULL, 0), f->pid);
        f->pid = 0;

        r = cri_version(f->client, &v, &st);
        assert_status(r, st, -EAGAIN, CRI_CODE_UNAVAILABLE);
        assert_message_has(&st, "connection lost");
        cri_status_done(&st);
        assert_true(cri_client_is_broken(f->client));
}

#define SPEC(...) (&(FaultSpec){__VA_ARGS__})
#define FAULT_TEST(f, spec) \
        cmocka_unit_test_prestate_setup_teardown(f, fault_setup, fault_teardown, (void *) (spec))

int main(void) {
        const CriOptions quick = {.timeout_usec = 5 * SECOND};
        const struct CMUnitTest tests[] = {
                FAULT_TEST(test_unavailable, SPEC(.mode = "unavailable", .opts = quick)),
                FAULT_TEST(
                        test_delay,
                        SPEC(.mode = "delay", .args = {"--delay", "30"}, .opts = {.timeout_usec = SECOND})),
                FAULT_TEST(
                        test_cancel,
                        SPEC(.mode = "delay",
                             .args = {"--delay", "30"},
                             .opts = {.timeout_usec = 30 * SECOND, .cancel = &cancel_requested})),
                FAULT_TEST(test_oversize, SPEC(.mode = "oversize", .opts = quick)),
                FAULT_TEST(
                        test_oversize_configured,
                        SPEC(.mode = "oversize",
                             .args = {"--size", "3145728"},
                             .opts = {.timeout_usec = 5 * SECOND, .max_recv_size = 1024 * 1024})),
                FAULT_TEST(
                        test_large_within_limit,
                        SPEC(.mode = "oversize", .args = {"--size", "3145728"}, .opts = quick)),
                FAULT_TEST(test_garbage, SPEC(.mode = "garbage", .opts = quick)),
                FAULT_TEST(test_trailers_only, SPEC(.mode = "trailers-only", .opts = quick)),
                FAULT_TEST(test_reset, SPEC(.mode = "reset", .opts = quick)),
                FAULT_TEST(test_reset, SPEC(.mode = "reset", .args = {"--rst-code", "7"}, .opts = quick)),
                FAULT_TEST(test_reset, SPEC(.mode = "reset", .args = {"--rst-code", "8"}, .opts = quick)),
                FAULT_TEST(test_drop, SPEC(.mode = "drop", .opts = quick)),
                FAULT_TEST(test_content_type, SPEC(.mode = "content-type", .opts = quick)),
                FAULT_TEST(
                        test_http_status,
                        SPEC(.mode = "http-status", .args = {"--http-status", "503"}, .opts = quick)),
                FAULT_TEST(
                        test_http_status,
                        SPEC(.mode = "http-status", .args = {"--http-status", "404"}, .opts = quick)),
                FAULT_TEST(
                        test_http_status,
                        SPEC(.mode = "http-status", .args = {"--http-status", "500"}, .opts = quick)),
                FAULT_TEST(test_compressed, SPEC(.mode = "compressed", .opts = quick)),
                FAULT_TEST(test_ok_version, SPEC(.mode = "ok-version")),
                FAULT_TEST(test_empty_answers, SPEC(.mode = "empty", .opts = quick)),
                FAULT_TEST(
                        test_concurrent_default,
                        SPEC(.mode = "delay", .args = {"--delay", "0.4"}, .opts = quick)),
                FAULT_TEST(
                        test_concurrent_three,
                        SPEC(.mode = "delay",
                             .args = {"--delay", "0.4"},
                             .opts = {.timeout_usec = 5 * SECOND, .max_concurrent = 3})),
                FAULT_TEST(test_server_killed, SPEC(.mode = "ok-version", .opts = quick)),
        };

        fault_server = getenv("PODREAPER_TEST_FAULT_SERVER") ?: "tests/e2e/fault-server.py";
        if (access(PYTHON, X_OK) < 0) {
                fprintf(stderr, "%s not found: the fault server needs Debian's python3\n", PYTHON);
                return 77;
        }
        if (access(fault_server, R_OK) < 0) {
                fprintf(stderr, "%s: %s (run from the source tree)\n", fault_server, strerror(errno));
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
