/* SPDX-License-Identifier: MIT */
/* Unit tests for cri/'s wire pieces: gRPC message framing (encode, reassembly from any chunking,
 * every malformed case), grpc-timeout, grpc-message percent-decoding, content-type, the mapping of
 * HTTP statuses, HTTP/2 errors and gRPC codes, endpoint parsing, and cri_connect()'s errors on
 * real paths (missing, not a socket, nothing listening, permission denied). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cri/cri-internal.h"
#include "util/macro.h"

/* ---- framing ------------------------------------------------------------------------------------ */

static void test_frame_encode(void **state) {
        _cleanup_free_ uint8_t *f = NULL, *empty = NULL;
        size_t size = 0;

        (void) state;
        assert_int_equal(
                cri_frame_encode(
                        "\x0a\x03"
                        "abc",
                        5,
                        &f,
                        &size),
                0);
        assert_int_equal(size, 10);
        assert_memory_equal(
                f,
                "\x00\x00\x00\x00\x05\x0a\x03"
                "abc",
                10);

        assert_int_equal(cri_frame_encode(NULL, 0, &empty, &size), 0);
        assert_int_equal(size, 5);
        assert_memory_equal(empty, "\x00\x00\x00\x00\x00", 5);
}

static void test_frame_encode_length_big_endian(void **state) {
        _cleanup_free_ uint8_t *msg = NULL, *f = NULL;
        size_t size = 0, n = 0x012345;

        (void) state;
        msg = calloc(1, n);
        assert_non_null(msg);
        assert_int_equal(cri_frame_encode(msg, n, &f, &size), 0);
        assert_int_equal(size, n + 5);
        assert_memory_equal(f, "\x00\x00\x01\x23\x45", 5);
}

/* Feeds `data` split into pieces of `chunk` bytes. */
static int feed_chunked(CriFrameReader *r, const uint8_t *data, size_t size, size_t chunk) {
        for (size_t off = 0; off < size; off += chunk) {
                int k = cri_frame_reader_feed(r, data + off, MIN(chunk, size - off));
                if (k < 0)
                        return k;
        }
        return 0;
}

static void test_frame_reader_any_chunking(void **state) {
        static const uint8_t framed[] = {
                0, 0, 0, 0, 11, 'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};

        (void) state;
        for (size_t chunk = 1; chunk <= sizeof(framed); chunk++) {
                CriFrameReader r = {.max_size = 100};
                const uint8_t *data = NULL;
                size_t size = 0;

                assert_int_equal(feed_chunked(&r, framed, sizeof(framed), chunk), 0);
                assert_int_equal(cri_frame_reader_finish(&r, &data, &size), 0);
                assert_int_equal(size, 11);
                assert_memory_equal(data, "hello world", 11);
                cri_frame_reader_done(&r);
                assert_null(r.message);
        }
}

static void test_frame_reader_empty_message(void **state) {
        CriFrameReader r = {.max_size = 0};
        const uint8_t *data = (const uint8_t *) "sentinel";
        size_t size = 99;

        (void) state;
        assert_int_equal(cri_frame_reader_feed(&r, "\0\0\0\0\0", 5), 0);
        assert_int_equal(cri_frame_reader_finish(&r, &data, &size), 0);
        assert_null(data);
        assert_int_equal(size, 0);
        cri_frame_reader_done(&r);
}

static void test_frame_reader_errors(void **state) {
        static const struct {
                const char *what;
                const char *data;
                size_t size;
                size_t max;
                int feed; /* error of feed() */
                int finish;
        } cases[] = {
                {"nothing", "", 0, 10, 0, -ENODATA},
                {"half a header", "\0\0\0", 3, 10, 0, -EBADMSG},
                {"truncated message", "\0\0\0\0\5abc", 8, 10, 0, -EBADMSG},
                {"compressed", "\1\0\0\0\1x", 6, 10, -EPROTONOSUPPORT, -EPROTONOSUPPORT},
                {"bad flag", "\2\0\0\0\1x", 6, 10, -EBADMSG, -EBADMSG},
                {"too large", "\0\0\0\0\13", 5, 10, -EMSGSIZE, -EMSGSIZE},
                {"4 GiB announced", "\0\377\377\377\377", 5, 16 << 20, -EMSGSIZE, -EMSGSIZE},
                {"second message", "\0\0\0\0\1x\0\0\0\0\1y", 12, 10, -EBADMSG, -EBADMSG},
                {"trailing byte", "\0\0\0\0\0\0", 6, 10, -EBADMSG, -EBADMSG},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                for (size_t chunk = 1; chunk <= MAX(cases[i].size, (size_t) 1); chunk++) {
                        CriFrameReader r = {.max_size = cases[i].max};
                        const uint8_t *data;
                        size_t size;
                        int k;

                        k = feed_chunked(&r, (const uint8_t *) cases[i].data, cases[i].size, chunk);
                        if (k != cases[i].feed)
                                fail_msg(
                                        "%s (chunk %zu): feed %d, not %d",
                                        cases[i].what,
                                        chunk,
                                        k,
                                        cases[i].feed);
                        k = cri_frame_reader_finish(&r, &data, &size);
                        if (k != cases[i].finish)
                                fail_msg(
                                        "%s (chunk %zu): finish %d, not %d",
                                        cases[i].what,
                                        chunk,
                                        k,
                                        cases[i].finish);
                        /* Sticky: feeding after an error keeps the error. */
                        if (cases[i].feed < 0)
                                assert_int_equal(cri_frame_reader_feed(&r, "\0", 1), cases[i].feed);
                        cri_frame_reader_done(&r);
                }
}

static void test_frame_reader_exact_limit(void **state) {
        _cleanup_free_ uint8_t *msg = NULL, *f = NULL;
        CriFrameReader r = {.max_size = 100000};
        const uint8_t *data;
        size_t size;

        (void) state;
        msg = malloc(100000);
        assert_non_null(msg);
        for (size_t i = 0; i < 100000; i++)
                msg[i] = (uint8_t) (i * 7);
        assert_int_equal(cri_frame_encode(msg, 100000, &f, &size), 0);
        assert_int_equal(feed_chunked(&r, f, size, 16384), 0);
        assert_int_equal(cri_frame_reader_finish(&r, &data, &size), 0);
        assert_int_equal(size, 100000);
        assert_memory_equal(data, msg, 100000);
        cri_frame_reader_done(&r);

        /* One byte over: refused from the header alone. */
        r = (CriFrameReader){.max_size = 99999};
        assert_int_equal(cri_frame_reader_feed(&r, f, 5), -EMSGSIZE);
        assert_null(r.message);
        cri_frame_reader_done(&r);
}

/* ---- headers ------------------------------------------------------------------------------------ */

static void test_grpc_timeout(void **state) {
        static const struct {
                uint64_t usec;
                const char *s;
        } cases[] = {
                {0, "0u"},
                {1, "1u"},
                {999, "999u"},
                {1000000, "1000000u"},
                {99999999, "99999999u"},
                {100000000, "100000m"},
                {100000001, "100001m"},            /* rounded up, never shorter */
                {120ULL * 1000 * 1000, "120000m"}, /* --runtime-request-timeout 2m */
                {99999999ULL * 1000, "99999999m"},
                {99999999ULL * 1000 + 1, "100000S"},
                {99999999ULL * 1000 * 1000, "99999999S"},
                {100000000ULL * 1000 * 1000, "1666667M"},
                {10000ULL * 3600 * 1000 * 1000 * 1000, "10000000H"},
                {UINT64_MAX, "99999999H"}, /* clamped */
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[CRI_GRPC_TIMEOUT_MAX];

                if (strcmp(cri_grpc_timeout_format(cases[i].usec, buf), cases[i].s) != 0)
                        fail_msg(
                                "grpc-timeout of %llu usec: \"%s\", not \"%s\"",
                                (unsigned long long) cases[i].usec,
                                buf,
                                cases[i].s);
                /* at most 8 digits and a unit */
                assert_true(strlen(buf) <= 9);
        }
}

static void test_percent_decode(void **state) {
        static const struct {
                const char *in;
                const char *out;
        } cases[] = {
                {"", ""},
                {"plain text", "plain text"},
                {"a%20b", "a b"},
                {"100%25", "100%"},
                {"%E2%9C%93 ok", "\xe2\x9c\x93 ok"},
                {"%e2%9c%93", "\xe2\x9c\x93"}, /* lowercase hex too */
                {"100%", "100%"},              /* invalid escapes stay as they are */
                {"%2", "%2"},
                {"%zz%4", "%zz%4"},
                {"%%41", "%A"},
                {"line%0Abreak", "line break"}, /* control characters become spaces */
                {"nul%00byte", "nul byte"},
                {"tab\there", "tab here"},
                {"del%7F", "del "},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = NULL;

                assert_int_equal(cri_percent_decode(cases[i].in, strlen(cases[i].in), &out), 0);
                if (strcmp(out, cases[i].out) != 0)
                        fail_msg("\"%s\" -> \"%s\", not \"%s\"", cases[i].in, out, cases[i].out);
        }

        /* Only `len` bytes are read: an escape cut off by the length stays literal. */
        _cleanup_free_ char *cut = NULL;
        assert_int_equal(cri_percent_decode("ab%41", 4, &cut), 0);
        assert_string_equal(cut, "ab%4");
}

static void test_content_type(void **state) {
        static const struct {
                const char *value;
                bool grpc;
        } cases[] = {
                {"application/grpc", true},
                {"application/grpc+proto", true},
                {"application/grpc;charset=utf-8", true},
                {"Application/GRPC", true},
                {"application/grpcx", false},
                {"application/grp", false},
                {"application/json", false},
                {"text/html; charset=utf-8", false},
                {"", false},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (cri_content_type_is_grpc(cases[i].value, strlen(cases[i].value)) != cases[i].grpc)
                        fail_msg("content-type \"%s\"", cases[i].value);
        assert_false(cri_content_type_is_grpc(NULL, 0));
}

/* ---- status mapping ----------------------------------------------------------------------------- */

static void test_code_from_http_status(void **state) {
        static const struct {
                unsigned status;
                int code;
        } cases[] = {
                {400, CRI_CODE_INTERNAL},
                {401, CRI_CODE_UNAUTHENTICATED},
                {403, CRI_CODE_PERMISSION_DENIED},
                {404, CRI_CODE_UNIMPLEMENTED},
                {429, CRI_CODE_UNAVAILABLE},
                {502, CRI_CODE_UNAVAILABLE},
                {503, CRI_CODE_UNAVAILABLE},
                {504, CRI_CODE_UNAVAILABLE},
                {415, CRI_CODE_UNKNOWN},
                {500, CRI_CODE_UNKNOWN},
                {302, CRI_CODE_UNKNOWN},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (cri_code_from_http_status(cases[i].status) != cases[i].code)
                        fail_msg(
                                "HTTP %u -> %d, not %d",
                                cases[i].status,
                                cri_code_from_http_status(cases[i].status),
                                cases[i].code);
}

static void test_code_from_h2_error(void **state) {
        (void) state;
        assert_int_equal(cri_code_from_h2_error(0x0 /* NO_ERROR */), CRI_CODE_INTERNAL);
        assert_int_equal(cri_code_from_h2_error(0x1 /* PROTOCOL_ERROR */), CRI_CODE_INTERNAL);
        assert_int_equal(cri_code_from_h2_error(0x2 /* INTERNAL_ERROR */), CRI_CODE_INTERNAL);
        assert_int_equal(cri_code_from_h2_error(0x7 /* REFUSED_STREAM */), CRI_CODE_UNAVAILABLE);
        assert_int_equal(cri_code_from_h2_error(0x8 /* CANCEL */), CRI_CODE_CANCELLED);
        assert_int_equal(cri_code_from_h2_error(0xb /* ENHANCE_YOUR_CALM */), CRI_CODE_RESOURCE_EXHAUSTED);
        assert_int_equal(cri_code_from_h2_error(0xc /* INADEQUATE_SECURITY */), CRI_CODE_PERMISSION_DENIED);
        assert_int_equal(cri_code_from_h2_error(0x1234), CRI_CODE_INTERNAL);
}

static void test_code_to_errno_and_string(void **state) {
        (void) state;
        assert_int_equal(cri_code_to_errno(CRI_CODE_OK), 0);
        assert_int_equal(cri_code_to_errno(CRI_CODE_NOT_FOUND), -ENOENT);
        assert_int_equal(cri_code_to_errno(CRI_CODE_DEADLINE_EXCEEDED), -ETIMEDOUT);
        assert_int_equal(cri_code_to_errno(CRI_CODE_UNAVAILABLE), -EAGAIN);
        assert_int_equal(cri_code_to_errno(CRI_CODE_UNIMPLEMENTED), -EOPNOTSUPP);
        assert_int_equal(cri_code_to_errno(CRI_CODE_RESOURCE_EXHAUSTED), -ENOBUFS);
        assert_int_equal(cri_code_to_errno(CRI_CODE_INTERNAL), -EPROTO);
        assert_int_equal(cri_code_to_errno(CRI_CODE_INVALID_ARGUMENT), -EINVAL);
        assert_int_equal(cri_code_to_errno(-1), -EIO);
        assert_int_equal(cri_code_to_errno(17), -EIO);
        assert_int_equal(cri_code_to_errno(1000), -EIO);
        /* Every defined failure is a distinct, negative errno. */
        for (int a = 1; a < _CRI_CODE_MAX; a++) {
                assert_true(cri_code_to_errno(a) < 0);
                assert_non_null(cri_code_to_string(a));
                for (int b = a + 1; b < _CRI_CODE_MAX; b++)
                        if (cri_code_to_errno(a) == cri_code_to_errno(b))
                                fail_msg(
                                        "%s and %s map to the same errno",
                                        cri_code_to_string(a),
                                        cri_code_to_string(b));
        }

        assert_string_equal(cri_code_to_string(CRI_CODE_OK), "OK");
        assert_string_equal(cri_code_to_string(CRI_CODE_NOT_FOUND), "NOT_FOUND");
        assert_string_equal(cri_code_to_string(CRI_CODE_UNAUTHENTICATED), "UNAUTHENTICATED");
        assert_null(cri_code_to_string(_CRI_CODE_MAX));
        assert_null(cri_code_to_string(-1));
}

static void test_status_set(void **state) {
        CriStatus s = {};

        (void) state;
        assert_int_equal(cri_status_set(&s, CRI_CODE_NOT_FOUND, "container %s not found", "abc"), -ENOENT);
        assert_int_equal(s.code, CRI_CODE_NOT_FOUND);
        assert_string_equal(s.message, "container abc not found");
        /* Overwriting releases the old message (ASan/valgrind would see a leak). */
        assert_int_equal(cri_status_set(&s, CRI_CODE_OK, "ignored"), 0);
        assert_int_equal(s.code, CRI_CODE_OK);
        assert_null(s.message);
        assert_int_equal(cri_status_set_local(&s, -ENOMEM, "decoding"), -ENOMEM);
        assert_int_equal(s.code, CRI_CODE_INTERNAL);
        assert_non_null(strstr(s.message, "decoding"));
        cri_status_done(&s);
        assert_null(s.message);
        cri_status_done(&s);
        cri_status_done(NULL);
        assert_int_equal(cri_status_set(NULL, CRI_CODE_UNAVAILABLE, "nobody listens"), -EAGAIN);
}

static void test_state_names(void **state) {
        (void) state;
        assert_string_equal(cri_container_state_to_string(CRI_CONTAINER_EXITED), "CONTAINER_EXITED");
        assert_string_equal(cri_container_state_to_string(CRI_CONTAINER_UNKNOWN), "CONTAINER_UNKNOWN");
        assert_null(cri_container_state_to_string(4));
        assert_null(cri_container_state_to_string(-1));
        assert_string_equal(cri_pod_sandbox_state_to_string(CRI_SANDBOX_NOTREADY), "SANDBOX_NOTREADY");
        assert_null(cri_pod_sandbox_state_to_string(2));
}

/* ---- endpoints ---------------------------------------------------------------------------------- */

static void test_endpoint_parse(void **state) {
        static const struct {
                const char *endpoint;
                const char *path;
                int error;
        } cases[] = {
                {"unix:///run/containerd/containerd.sock", "/run/containerd/containerd.sock", 0},
                {"unix:/run/crio/crio.sock", "/run/crio/crio.sock", 0},
                {"/var/run/cri-dockerd.sock", "/var/run/cri-dockerd.sock", 0},
                {"unix:///", "/", 0},
                {"", NULL, -EINVAL},
                {"unix://", NULL, -EINVAL},
                {"unix://run/containerd.sock", NULL, -EINVAL}, /* a host, not a path */
                {"run/containerd.sock", NULL, -EINVAL},
                {"tcp://localhost:1234", NULL, -EINVAL},
                {"npipe:////./pipe/containerd-containerd", NULL, -EINVAL},
                {"UNIX:///run/x.sock", NULL, -EINVAL},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = NULL;
                int r = cri_endpoint_parse(cases[i].endpoint, &path);

                if (r != cases[i].error)
                        fail_msg("\"%s\": %d, not %d", cases[i].endpoint, r, cases[i].error);
                if (cases[i].path)
                        assert_string_equal(path, cases[i].path);
                else
                        assert_null(path);
        }

        _cleanup_free_ char *long_endpoint = NULL, *path = NULL;
        assert_true(asprintf(&long_endpoint, "unix:///%0200d.sock", 0) > 0);
        assert_int_equal(cri_endpoint_parse(long_endpoint, &path), -ENAMETOOLONG);
        assert_int_equal(cri_endpoint_parse(NULL, &path), -EINVAL);
        assert_null(path);
}

static void test_default_endpoints(void **state) {
        const char *const *e = cri_default_endpoints();

        (void) state;
        assert_string_equal(e[0], "unix:///run/containerd/containerd.sock");
        assert_string_equal(e[1], "unix:///var/run/crio/crio.sock");
        assert_string_equal(e[2], "unix:///var/run/cri-dockerd.sock");
        assert_null(e[3]);
}

typedef struct TmpDir {
        char path[64];
} TmpDir;

static int tmpdir_setup(void **state) {
        TmpDir *t = calloc(1, sizeof(TmpDir));

        if (!t)
                return -1;
        snprintf(t->path, sizeof(t->path), "/tmp/test-cri-XXXXXX");
        if (!mkdtemp(t->path)) {
                free(t);
                return -1;
        }
        *state = t;
        return 0;
}

/* The tests make plain entries one level deep: files, sockets, an empty dir. */
static int tmpdir_teardown(void **state) {
        TmpDir *t = *state;
        _cleanup_closedir_ DIR *d = opendir(t->path);
        struct dirent *de;
        int ret = 0;

        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                    unlinkat(dirfd(d), de->d_name, de->d_type == DT_DIR ? AT_REMOVEDIR : 0) < 0)
                        ret = -1;
        if (rmdir(t->path) < 0)
                ret = -1;
        free(t);
        return ret;
}

static void assert_connect_fails(const char *endpoint, int error, int code, const char *words) {
        CriClient *c = NULL;
        CriStatus st = {};
        int r;

        r = cri_connect(endpoint, NULL, &c, &st);
        if (r != error)
                fail_msg("connect %s: %d (%s), not %d", endpoint, r, st.message, error);
        assert_null(c);
        assert_int_equal(st.code, code);
        assert_non_null(st.message);
        if (!strstr(st.message, words))
                fail_msg("connect %s: message \"%s\" lacks \"%s\"", endpoint, st.message, words);
        cri_status_done(&st);
}

static void test_connect_errors(void **state) {
        TmpDir *t = *state;
        _cleanup_free_ char *missing = NULL, *file = NULL, *dir = NULL, *stale = NULL;
        _cleanup_close_ int fd = -EBADF, sfd = -EBADF;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        assert_true(asprintf(&missing, "unix://%s/missing.sock", t->path) > 0);
        assert_true(asprintf(&file, "%s/file", t->path) > 0);
        assert_true(asprintf(&dir, "%s/dir", t->path) > 0);
        assert_true(asprintf(&stale, "%s/stale.sock", t->path) > 0);

        /* The message names the endpoint. */
        assert_connect_fails(missing, -ENOENT, CRI_CODE_UNAVAILABLE, missing);
        assert_connect_fails(missing, -ENOENT, CRI_CODE_UNAVAILABLE, "no such socket");

        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_connect_fails(file, -ENOTSOCK, CRI_CODE_UNAVAILABLE, "not a socket");
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_connect_fails(dir, -ENOTSOCK, CRI_CODE_UNAVAILABLE, "not a socket");

        /* A socket nobody listens on (a runtime that died). */
        sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(sfd >= 0);
        memcpy(sa.sun_path, stale, strlen(stale) + 1);
        assert_int_equal(bind(sfd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_connect_fails(stale, -ECONNREFUSED, CRI_CODE_UNAVAILABLE, "nothing listens");

        /* A path below a regular file. */
        _cleanup_free_ char *below_file = NULL;
        assert_true(asprintf(&below_file, "%s/x.sock", file) > 0);
        assert_connect_fails(below_file, -ENOENT, CRI_CODE_UNAVAILABLE, "no such socket");

        assert_connect_fails(
                "tcp://127.0.0.1:10010", -EINVAL, CRI_CODE_INVALID_ARGUMENT, "tcp://127.0.0.1:10010");
        assert_connect_fails("relative.sock", -EINVAL, CRI_CODE_INVALID_ARGUMENT, "unix:///");
}

/* Permission denied: needs a user without access, so root drops to nobody in a child. */
static void test_connect_permission_denied(void **state) {
        TmpDir *t = *state;
        _cleanup_free_ char *sock = NULL;
        _cleanup_close_ int sfd = -EBADF;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int status;
        pid_t pid;

        if (geteuid() != 0)
                skip();

        assert_true(asprintf(&sock, "%s/private.sock", t->path) > 0);
        sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(sfd >= 0);
        memcpy(sa.sun_path, sock, strlen(sock) + 1);
        assert_int_equal(bind(sfd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(sfd, 1), 0);
        assert_int_equal(chmod(sock, 0600), 0);
        assert_int_equal(chmod(t->path, 0755), 0);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                CriClient *c = NULL;
                CriStatus st = {};
                int r;

                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(10);
                r = cri_connect(sock, NULL, &c, &st);
                if (r != -EACCES)
                        _exit(11);
                if (!st.message || !strstr(st.message, "permission denied") || !strstr(st.message, sock))
                        _exit(12);
                cri_status_done(&st);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_frame_encode),
                cmocka_unit_test(test_frame_encode_length_big_endian),
                cmocka_unit_test(test_frame_reader_any_chunking),
                cmocka_unit_test(test_frame_reader_empty_message),
                cmocka_unit_test(test_frame_reader_errors),
                cmocka_unit_test(test_frame_reader_exact_limit),
                cmocka_unit_test(test_grpc_timeout),
                cmocka_unit_test(test_percent_decode),
                cmocka_unit_test(test_content_type),
                cmocka_unit_test(test_code_from_http_status),
                cmocka_unit_test(test_code_from_h2_error),
                cmocka_unit_test(test_code_to_errno_and_string),
                cmocka_unit_test(test_status_set),
                cmocka_unit_test(test_state_names),
                cmocka_unit_test(test_endpoint_parse),
                cmocka_unit_test(test_default_endpoints),
                cmocka_unit_test_setup_teardown(test_connect_errors, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(
                        test_connect_permission_denied, tmpdir_setup, tmpdir_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
