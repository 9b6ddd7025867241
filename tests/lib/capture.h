/* SPDX-License-Identifier: MIT */
#pragma once

/* stderr into an unlinked temp file while a test runs, for the tests of what podreaper logs.
 * capture_setup() / capture_teardown() are cmocka setup/teardown functions (the state is the
 * Capture); the teardown replays what was captured as TAP comments, so that a failed assertion
 * (cmocka reports it on stderr, i.e. into the capture) does not vanish with the file. The log
 * goes to stderr at LOG_INFO while capturing. */

typedef struct Capture {
        int saved_stderr;
        int fd;
} Capture;

int capture_setup(void **state);
int capture_teardown(void **state);

/* Everything written since the setup (or the last capture_take()), NUL-terminated; the caller
 * frees it. Aborts when the temp file cannot be read: no test can go on then. */
char *capture_read(Capture *c);
/* capture_read(), then forgets it: the next read starts empty. */
char *capture_take(Capture *c);

/* The whole of a file, NUL-terminated; NULL when it cannot be read. */
char *fd_read_all(int fd);

/* Runs `child` in a forked process (for what must not touch the test process: a private mount
 * namespace, a stand-in journal socket) and asserts on its exit status: 0 passes, 77 skips the
 * test, anything else fails it. Skips when not root. */
void assert_child_passes(int (*child)(void));
