/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/capture.h"
#include "util/log.h"
#include "util/macro.h"

static void test_returns_negative_error(void **state) {
        (void) state;

        assert_int_equal(log_internal(LOG_ERR, EPERM, __FILE__, __LINE__, __func__, "positive"), -EPERM);
        assert_int_equal(log_internal(LOG_ERR, -ENOENT, __FILE__, __LINE__, __func__, "negative"), -ENOENT);
        assert_int_equal(log_internal(LOG_INFO, 0, __FILE__, __LINE__, __func__, "no error"), 0);
        /* The macro passes the error on unchanged, whichever sign it came with. */
        assert_int_equal(log_error_errno(-EBUSY, "busy"), -EBUSY);
        assert_int_equal(log_error_errno(EBUSY, "busy"), -EBUSY);
}

static void test_percent_m_prints_passed_error(void **state) {
        Capture *c = *state;
        _cleanup_free_ char *out = NULL;
        char expected[256];

        /* errno holds something else: %m must ignore it and use the error passed in. */
        errno = EAGAIN;
        assert_int_equal(log_error_errno(-ENOENT, "Failed to remove pod dir '%s': %m", "/x"), -ENOENT);
        assert_int_equal(errno, EAGAIN);

        out = capture_read(c);
        (void) snprintf(expected, sizeof(expected), "Failed to remove pod dir '/x': %s\n", strerror(ENOENT));
        if (!strstr(out, expected))
                fail_msg("stderr was \"%s\", expected it to contain \"%s\"", out, expected);
        assert_null(strstr(out, strerror(EAGAIN)));
        assert_non_null(strstr(out, "error: "));
}

static void test_above_max_level_not_printed(void **state) {
        Capture *c = *state;
        _cleanup_free_ char *out = NULL;

        log_set_max_level(LOG_WARNING);
        log_info("info-should-not-appear");
        log_debug("debug-should-not-appear");
        /* Suppressed or not, the error is still passed on. */
        assert_int_equal(log_notice_errno(EIO, "notice-should-not-appear"), -EIO);
        log_warning("warning-should-appear");

        out = capture_read(c);
        assert_null(strstr(out, "should-not-appear"));
        assert_non_null(strstr(out, "warning: warning-should-appear\n"));
}

static void test_at_max_level_printed(void **state) {
        Capture *c = *state;
        _cleanup_free_ char *out = NULL;

        log_set_max_level(LOG_DEBUG);
        assert_int_equal(log_get_max_level(), LOG_DEBUG);
        log_debug("debug-line %d", 42);

        out = capture_read(c);
        assert_non_null(strstr(out, "debug: debug-line 42\n"));
}

static void test_target_stderr_sticks(void **state) {
        (void) state;
        assert_int_equal(log_get_target(), LOG_TARGET_STDERR);
}

/* fd's identity as systemd writes it into $JOURNAL_STREAM: "DEV:INO", st_dev and st_ino in decimal. */
static void stream_id(int fd, uint64_t dev_delta, uint64_t ino_delta, char *buf, size_t size) {
        struct stat st;

        assert_int_equal(fstat(fd, &st), 0);
        assert_true(
                snprintf(
                        buf,
                        size,
                        "%" PRIu64 ":%" PRIu64,
                        (uint64_t) st.st_dev + dev_delta,
                        (uint64_t) st.st_ino + ino_delta) < (int) size);
}

static void test_stream_is_journal_matches(void **state) {
        char id[64], other[64];
        int p[2], q[2], dup_fd;

        (void) state;
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(pipe2(q, O_CLOEXEC), 0);
        stream_id(p[1], 0, 0, id, sizeof(id));
        stream_id(q[1], 0, 0, other, sizeof(other));

        assert_true(log_stream_is_journal(id, p[1]));
        /* A dup of the stream is the stream (systemd hands a unit the same socket as fd 1 and 2). */
        dup_fd = fcntl(p[1], F_DUPFD_CLOEXEC, 3);
        assert_true(dup_fd >= 0);
        assert_true(log_stream_is_journal(id, dup_fd));
        /* Leading zeros are still the same decimal. */
        {
                char padded[80];

                assert_true(snprintf(padded, sizeof(padded), "00%s", id) < (int) sizeof(padded));
                assert_true(log_stream_is_journal(padded, p[1]));
        }
        /* Another pipe, or the id of another stream: not the journal. */
        assert_false(log_stream_is_journal(id, q[1]));
        assert_false(log_stream_is_journal(other, p[1]));
        assert_true(log_stream_is_journal(other, q[1]));

        safe_close(dup_fd);
        safe_close(p[0]);
        safe_close(p[1]);
        safe_close(q[0]);
        safe_close(q[1]);
}

static void test_stream_is_journal_rejects(void **state) {
        char id[64], dev_off[64], ino_off[64], buf[128];
        const char *dev, *ino;
        int p[2], closed_fd;

        (void) state;
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        stream_id(p[1], 0, 0, id, sizeof(id));
        stream_id(p[1], 1, 0, dev_off, sizeof(dev_off));
        stream_id(p[1], 0, 1, ino_off, sizeof(ino_off));

        /* Unset, empty, or one number off. */
        assert_false(log_stream_is_journal(NULL, p[1]));
        assert_false(log_stream_is_journal("", p[1]));
        assert_false(log_stream_is_journal(dev_off, p[1]));
        assert_false(log_stream_is_journal(ino_off, p[1]));

        /* The right numbers in the wrong shape. */
        *strchr(id, ':') = '\0';
        dev = id;
        ino = id + strlen(id) + 1;
#define assert_rejected(format) \
        do { \
                assert_true(snprintf(buf, sizeof(buf), format, dev, ino) < (int) sizeof(buf)); \
                if (log_stream_is_journal(buf, p[1])) \
                        fail_msg("\"%s\" taken for the stream", buf); \
        } while (0)
        assert_rejected("%s%s");    /* no separator */
        assert_rejected("%s;%s");   /* another one */
        assert_rejected("%s::%s");  /* an empty field */
        assert_rejected("%s:%s:");  /* a third, empty */
        assert_rejected("%s:%s:0"); /* a third */
        assert_rejected(" %s:%s");  /* whitespace */
        assert_rejected("%s:%s ");  /* trailing whitespace */
        assert_rejected("%s:%s\n"); /* a newline */
        assert_rejected("%s :%s");  /* space before the separator */
        assert_rejected("%s: %s");  /* space after it */
        assert_rejected("+%s:%s");  /* a sign */
        assert_rejected("%s:+%s");
        assert_rejected("-%s:%s");
        assert_rejected("%s:-%s");
        assert_rejected("0x%s:%s");                      /* a hex prefix */
        assert_rejected("%s:%s.0");                      /* a fraction */
        assert_rejected("%s:%sx");                       /* trailing junk */
        assert_rejected("x%s:%s");                       /* leading junk */
        assert_rejected(":%s%s");                        /* dev empty */
        assert_rejected("%s%s:");                        /* ino empty */
        assert_rejected("%s:99999999999999999999999%s"); /* beyond 64 bits */
#undef assert_rejected
        assert_false(log_stream_is_journal(":", p[1]));
        assert_false(log_stream_is_journal("junk", p[1]));
        assert_false(log_stream_is_journal("18446744073709551616:1", p[1]));

        /* The right value, but fd names nothing (a program started with stderr closed). */
        assert_int_equal(
                snprintf(buf, sizeof(buf), "%s:%s", dev, ino), (int) (strlen(dev) + 1 + strlen(ino)));
        assert_true(log_stream_is_journal(buf, p[1]));
        assert_false(log_stream_is_journal(buf, -1));
        closed_fd = fcntl(p[1], F_DUPFD_CLOEXEC, 3);
        assert_true(closed_fd >= 0);
        safe_close(closed_fd);
        assert_false(log_stream_is_journal(buf, closed_fd));

        safe_close(p[0]);
        safe_close(p[1]);
}

/* LOG_TARGET_AUTO asks about fd 2 (here capture's file). */
static void test_auto_target_follows_journal_stream(void **state) {
        _cleanup_free_ char *saved = NULL;
        char id[64];

        (void) state;
        if (getenv("JOURNAL_STREAM")) {
                saved = strdup(getenv("JOURNAL_STREAM"));
                assert_non_null(saved);
        }

        assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);
        log_set_target(LOG_TARGET_AUTO);
        assert_int_equal(log_get_target(), LOG_TARGET_STDERR);

        stream_id(STDERR_FILENO, 0, 0, id, sizeof(id));
        assert_int_equal(setenv("JOURNAL_STREAM", id, 1), 0);
        log_set_target(LOG_TARGET_AUTO);
        assert_int_equal(log_get_target(), LOG_TARGET_JOURNAL);

        /* Inherited from a service by a shell whose stderr is elsewhere. */
        stream_id(STDERR_FILENO, 0, 1, id, sizeof(id));
        assert_int_equal(setenv("JOURNAL_STREAM", id, 1), 0);
        log_set_target(LOG_TARGET_AUTO);
        assert_int_equal(log_get_target(), LOG_TARGET_STDERR);

        assert_int_equal(setenv("JOURNAL_STREAM", "garbage", 1), 0);
        log_set_target(LOG_TARGET_AUTO);
        assert_int_equal(log_get_target(), LOG_TARGET_STDERR);

        /* An explicit target is not second-guessed. */
        log_set_target(LOG_TARGET_STDERR);
        assert_int_equal(log_get_target(), LOG_TARGET_STDERR);

        if (saved)
                assert_int_equal(setenv("JOURNAL_STREAM", saved, 1), 0);
        else
                assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);
}

/* Issue 11: on a node booted with systemd, with journald's socket there, a person running podreaper
 * at a terminal must still see its errors. In a private mount namespace /run/systemd/system makes
 * sd_booted() true and a datagram socket stands in for journald's; fd 2 is a pipe. Only a
 * $JOURNAL_STREAM naming that pipe sends the lines to the socket. 0 pass, 1 fail, 77 cannot set up. */
static int booted_child(void) {
        const struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket"};
        char buf[8192], id[64];
        struct stat st;
        ssize_t n;
        int fd, p[2], err;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0 ||
            mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 || mkdir("/run/systemd", 0755) < 0 ||
            mkdir("/run/systemd/system", 0755) < 0 || mkdir("/run/systemd/journal", 0755) < 0)
                return 77;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0 || sd_booted() <= 0)
                return 77;
        err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (err < 0 || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0 || dup2(p[1], STDERR_FILENO) < 0 ||
            fstat(STDERR_FILENO, &st) < 0)
                return 77;
        log_set_max_level(LOG_INFO);

        /* Unset, and inherited but naming another stream: stderr, nothing to journald. */
        for (int i = 0; i < 2; i++) {
                if (i == 0)
                        (void) unsetenv("JOURNAL_STREAM");
                else {
                        (void) snprintf(
                                id,
                                sizeof(id),
                                "%" PRIu64 ":%" PRIu64,
                                (uint64_t) st.st_dev,
                                (uint64_t) st.st_ino + 1);
                        (void) setenv("JOURNAL_STREAM", id, 1);
                }
                log_set_target(LOG_TARGET_AUTO);
                log_error("error-for-the-terminal %d", i);
                fflush(stderr);
                n = read(p[0], buf, sizeof(buf) - 1);
                if (n <= 0 || (buf[n] = '\0', !strstr(buf, "error: error-for-the-terminal"))) {
                        dprintf(err, "case %d: the error did not reach stderr\n", i);
                        return 1;
                }
                if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
                        dprintf(err, "case %d: the error went to the journal\n", i);
                        return 1;
                }
        }

        /* stderr is the journal's stream: the journal, with its fields, and not the pipe as well. */
        (void) snprintf(id, sizeof(id), "%" PRIu64 ":%" PRIu64, (uint64_t) st.st_dev, (uint64_t) st.st_ino);
        (void) setenv("JOURNAL_STREAM", id, 1);
        log_set_target(LOG_TARGET_AUTO);
        log_error("error-for-the-journal");
        fflush(stderr);
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n <= 0 || (buf[n] = '\0', !strstr(buf, "MESSAGE=error-for-the-journal\n"))) {
                dprintf(err, "JOURNAL_STREAM named stderr, but the journal got no line\n");
                return 1;
        }
        if (read(p[0], buf, sizeof(buf)) > 0) {
                dprintf(err, "JOURNAL_STREAM named stderr, and the line went to stderr too\n");
                return 1;
        }
        return 0;
}

static void test_booted_terminal_gets_stderr(void **state) {
        (void) state;
        assert_child_passes(booted_child);
}

static void test_fields_stderr_message_only(void **state) {
        Capture *c = *state;
        _cleanup_free_ char *out = NULL;
        const char *const fields[] = {
                "POD_UID=0a1b2c3d-0000-4000-8000-000000000001",
                "PODREAPER_ACTION=destroy-cgroup",
                "bad key=dropped",
                NULL,
        };

        log_fields(LOG_INFO, fields, "destroy-cgroup pod %s: done", "0a1b2c3d");
        assert_int_equal(log_fields_errno(LOG_ERR, -EBUSY, fields, "failed: %m"), -EBUSY);
        /* No fields at all is fine too. */
        log_fields(LOG_WARNING, NULL, "no fields");
        /* Above the max level: nothing, and the error still comes back. */
        assert_int_equal(log_fields_errno(LOG_DEBUG, EIO, fields, "fields-should-not-appear"), -EIO);

        out = capture_read(c);
        assert_non_null(strstr(out, ": destroy-cgroup pod 0a1b2c3d: done\n"));
        assert_non_null(strstr(out, "error: failed: "));
        assert_non_null(strstr(out, strerror(EBUSY)));
        assert_non_null(strstr(out, "warning: no fields\n"));
        /* The fields are for journald: the stderr line is the message alone. */
        assert_null(strstr(out, "POD_UID"));
        assert_null(strstr(out, "PODREAPER_ACTION"));
        assert_null(strstr(out, "dropped"));
        assert_null(strstr(out, "should-not-appear"));
}

static void test_field_names(void **state) {
        (void) state;

        assert_true(log_field_is_valid("POD_UID=x"));
        assert_true(log_field_is_valid("PODREAPER_ACTION=destroy-cgroup"));
        assert_true(log_field_is_valid("CGROUP_PATH=")); /* an empty value is a value */
        assert_true(log_field_is_valid("A1_B2=x=y"));    /* the value may hold '=' */
        assert_true(
                log_field_is_valid("A234567890123456789012345678901234567890123456789012345678901234=x"));

        assert_false(log_field_is_valid(NULL));
        assert_false(log_field_is_valid("POD_UID"));   /* no '=' */
        assert_false(log_field_is_valid("=x"));        /* empty key */
        assert_false(log_field_is_valid("pod_uid=x")); /* lowercase */
        assert_false(log_field_is_valid("POD-UID=x"));
        assert_false(log_field_is_valid("POD UID=x"));
        assert_false(log_field_is_valid("_PID=1")); /* trusted fields are journald's */
        assert_false(log_field_is_valid("1POD=x")); /* journald refuses a leading digit */
        assert_false(
                log_field_is_valid("A2345678901234567890123456789012345678901234567890123456789012345=x"));
        assert_false(log_field_is_valid("MESSAGE=forged")); /* log_* writes these itself */
        assert_false(log_field_is_valid("PRIORITY=0"));
        assert_true(log_field_is_valid("MESSAGE_ID=0123456789abcdef0123456789abcdef"));
}

/* The journald side, for real: in a private mount namespace a datagram socket stands in for
 * journald's at /run/systemd/journal/socket, and the native-protocol message that arrives must hold
 * the valid fields and none of the invalid ones. 0 pass, 1 fail, 77 cannot set up. */
static int journal_child(void) {
        const struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket"};
        const char *const fields[] = {
                "POD_UID=0a1b2c3d-0000-4000-8000-000000000001",
                "CGROUP_PATH=kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-000000000001",
                "pod_uid=lowercase",
                "_PID=1",
                "MESSAGE=forged",
                "NOEQUALS",
                NULL,
        };
        const char *const want[] = {
                "\nPOD_UID=0a1b2c3d-0000-4000-8000-000000000001\n",
                "\nCGROUP_PATH=kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-000000000001\n",
                "MESSAGE=destroy-cgroup pod 0a1b2c3d: done\n",
                "\nPRIORITY=6\n",
                "\nERRNO=16\n",
        };
        char buf[8192];
        ssize_t n;
        int fd;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0 ||
            mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 || mkdir("/run/systemd", 0755) < 0 ||
            mkdir("/run/systemd/journal", 0755) < 0)
                return 77;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0)
                return 77;

        log_set_target(LOG_TARGET_JOURNAL);
        log_set_max_level(LOG_INFO);
        (void) log_fields_errno(LOG_INFO, EBUSY, fields, "destroy-cgroup pod %s: done", "0a1b2c3d");

        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n <= 0)
                return 1;
        buf[n] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!strstr(buf, want[i])) {
                        fprintf(stderr, "missing %s in the journal message:\n%s\n", want[i], buf);
                        return 1;
                }
        if (strstr(buf, "lowercase") || strstr(buf, "_PID=") || strstr(buf, "forged") ||
            strstr(buf, "NOEQUALS")) {
                fprintf(stderr, "an invalid field reached the journal:\n%s\n", buf);
                return 1;
        }
        return 0;
}

static void test_fields_journal(void **state) {
        (void) state;
        assert_child_passes(journal_child);
}

#define capture_test(f) cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                capture_test(test_returns_negative_error),
                capture_test(test_percent_m_prints_passed_error),
                capture_test(test_above_max_level_not_printed),
                capture_test(test_at_max_level_printed),
                capture_test(test_target_stderr_sticks),
                cmocka_unit_test(test_stream_is_journal_matches),
                cmocka_unit_test(test_stream_is_journal_rejects),
                capture_test(test_auto_target_follows_journal_stream),
                cmocka_unit_test(test_booted_terminal_gets_stderr),
                capture_test(test_fields_stderr_message_only),
                cmocka_unit_test(test_field_names),
                cmocka_unit_test(test_fields_journal),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
