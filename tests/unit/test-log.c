/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"
#include "util/macro.h"

/* stderr goes to an unlinked temp file for the duration of a test, so what log_* printed can be
 * read back. */
typedef struct Capture {
        int saved_stderr;
        int fd;
} Capture;

static int capture_setup(void **state) {
        char path[] = "/tmp/test-log-XXXXXX";
        Capture *c;

        c = malloc(sizeof(*c));
        if (!c)
                return -1;

        c->fd = mkostemp(path, O_CLOEXEC);
        if (c->fd < 0) {
                free(c);
                return -1;
        }
        (void) unlink(path);

        fflush(stderr);
        c->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (c->saved_stderr < 0 || dup2(c->fd, STDERR_FILENO) < 0) {
                c->saved_stderr = safe_close(c->saved_stderr);
                c->fd = safe_close(c->fd);
                free(c);
                return -1;
        }

        log_set_target(LOG_TARGET_STDERR);
        log_set_max_level(LOG_INFO);
        *state = c;
        return 0;
}

/* Everything written to stderr since setup, as a string the caller frees; NULL if unreadable. */
static char *capture_read_raw(Capture *c) {
        char *buf;
        off_t size;
        ssize_t n;

        fflush(stderr);
        size = lseek(c->fd, 0, SEEK_END);
        if (size < 0)
                return NULL;
        buf = malloc((size_t) size + 1);
        if (!buf)
                return NULL;
        n = pread(c->fd, buf, (size_t) size, 0);
        if (n != size) {
                free(buf);
                return NULL;
        }
        buf[n] = '\0';
        return buf;
}

static char *capture_read(Capture *c) {
        char *buf = capture_read_raw(c);

        assert_non_null(buf);
        return buf;
}

static int capture_teardown(void **state) {
        Capture *c = *state;
        _cleanup_free_ char *out = capture_read_raw(c);

        (void) dup2(c->saved_stderr, STDERR_FILENO);
        c->saved_stderr = safe_close(c->saved_stderr);
        c->fd = safe_close(c->fd);
        free(c);

        /* cmocka reports a failed assertion on stderr too, i.e. into the capture: replay it, as TAP
         * comments, so a failure does not vanish with the temp file. */
        if (out)
                for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
                        fprintf(stderr, "# %s\n", line);
        return 0;
}

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

#define capture_test(f) cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                capture_test(test_returns_negative_error),
                capture_test(test_percent_m_prints_passed_error),
                capture_test(test_above_max_level_not_printed),
                capture_test(test_at_max_level_printed),
                capture_test(test_target_stderr_sticks),
                cmocka_unit_test(test_journal_unavailable_without_socket),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
