/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/lib/capture.h"
#include "util/log.h"
#include "util/macro.h"

int capture_setup(void **state) {
        char path[] = "/tmp/test-capture-XXXXXX";
        Capture *c = malloc(sizeof(*c));

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

char *fd_read_all(int fd) {
        off_t size;
        char *buf;

        size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return NULL;
        buf = malloc((size_t) size + 1);
        if (!buf)
                return NULL;
        if (pread(fd, buf, (size_t) size, 0) != size) {
                free(buf);
                return NULL;
        }
        buf[size] = '\0';
        return buf;
}

char *capture_read(Capture *c) {
        char *out;

        fflush(stderr);
        out = fd_read_all(c->fd);
        if (!out)
                abort();
        return out;
}

char *capture_take(Capture *c) {
        char *out = capture_read(c);

        if (ftruncate(c->fd, 0) < 0 || lseek(c->fd, 0, SEEK_SET) < 0)
                abort();
        return out;
}

int capture_teardown(void **state) {
        Capture *c = *state;
        _cleanup_free_ char *out = NULL;

        fflush(stderr);
        out = fd_read_all(c->fd);
        (void) dup2(c->saved_stderr, STDERR_FILENO);
        c->saved_stderr = safe_close(c->saved_stderr);
        c->fd = safe_close(c->fd);
        free(c);

        if (out)
                for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
                        fprintf(stderr, "# %s\n", line);
        return 0;
}

void assert_child_passes(int (*child)(void)) {
        int status;
        pid_t pid;

        if (geteuid() != 0)
                skip();
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(child());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}
