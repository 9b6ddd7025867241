/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
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

static void test_journal_unavailable_without_socket(void **state) {
        (void) state;
        assert_false(log_journal_available("/nonexistent"));
        /* Exists but is no socket. */
        assert_false(log_journal_available("/dev/null"));
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
        int status;
        pid_t pid;

        (void) state;
        if (geteuid() != 0)
                skip();
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(journal_child());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

#define capture_test(f) cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                capture_test(test_returns_negative_error),
                capture_test(test_percent_m_prints_passed_error),
                capture_test(test_above_max_level_not_printed),
                capture_test(test_at_max_level_printed),
                capture_test(test_target_stderr_sticks),
                cmocka_unit_test(test_journal_unavailable_without_socket),
                capture_test(test_fields_stderr_message_only),
                cmocka_unit_test(test_field_names),
                cmocka_unit_test(test_fields_journal),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
