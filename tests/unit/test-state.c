/* SPDX-License-Identifier: MIT */
/* The state file and the lock: round trips, golden corrupt files (tests/data/state/), atomic
 * saves, and the lock held by another process. Each test works in its own temp directory. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "reaper/state.h"
#include "util/macro.h"

#define FIXTURE_DIR "tests/data/state/"

#define U1 "0f5a2c1e-9b1d-4c3e-8f7a-6d5e4c3b2a10"
#define U2 "3c9e8d7f-1a2b-4c5d-9e8f-0a1b2c3d4e5f"
#define U3 "d41d8cd98f00b204e9800998ecf8427e" /* a static pod's uid */

#define T1 UINT64_C(1700000000000000)
#define T2 UINT64_C(1700000060000000)
#define T3 UINT64_C(1700000120000000)

/* ---- helpers ---------------------------------------------------------------------------------- */

typedef struct TestDir {
        char path[64];
} TestDir;

static int dir_setup(void **state) {
        TestDir *t = calloc(1, sizeof(*t));

        if (!t)
                return -1;
        strcpy(t->path, "/tmp/test-state-XXXXXX");
        if (!mkdtemp(t->path)) {
                free(t);
                return -1;
        }
        *state = t;
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int dir_teardown(void **state) {
        TestDir *t = *state;

        /* Only what the test made, inside its own mkdtemp directory; never across a mount. */
        (void) nftw(t->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        free(t);
        return 0;
}

static char *path_join(const char *a, const char *b) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", a, b) >= 0);
        return p;
}

static void write_file(const char *path, const void *data, size_t size) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t) size);
        assert_int_equal(close(fd), 0);
}

static char *read_file(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;
        FILE *m;
        int c;

        assert_non_null(f);
        m = open_memstream(&buf, &size);
        assert_non_null(m);
        while ((c = fgetc(f)) != EOF)
                fputc(c, m);
        assert_int_equal(fclose(m), 0);
        return buf;
}

/* Copies tests/data/state/<name> to <dir>/state. */
static void install_fixture(const char *dir, const char *name) {
        _cleanup_free_ char *src = path_join(FIXTURE_DIR, name), *dst = path_join(dir, "state");
        _cleanup_fclose_ FILE *f = fopen(src, "re");
        char buf[4096];
        size_t n;
        int fd;

        assert_non_null(f);
        fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                assert_int_equal(write(fd, buf, n), (ssize_t) n);
        assert_int_equal(close(fd), 0);
}

static size_t count_entries(const char *dir, const char *prefix) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        n++;
        return n;
}

static void assert_orphan(const State *s, size_t i, const char *uid, usec_t t) {
        assert_true(i < s->n_orphans);
        assert_string_equal(s->orphans[i].uid, uid);
        assert_true(s->orphans[i].first_seen == t);
}

/* ---- in memory -------------------------------------------------------------------------------- */

static void test_empty_state(void **state) {
        State s = {};

        (void) state;
        assert_true(state_orphan_first_seen(&s, U1) == 0);
        state_orphans_retain(&s, NULL, 0);
        assert_int_equal(s.n_orphans, 0);
        state_done(&s);
        state_done(NULL);
}

static void test_see_sorted_and_keeps_older(void **state) {
        State s = {};

        (void) state;
        assert_int_equal(state_orphan_see(&s, U3, T3), 1);
        assert_int_equal(state_orphan_see(&s, U1, T2), 1);
        assert_int_equal(state_orphan_see(&s, U2, T2), 1);
        assert_int_equal(s.n_orphans, 3);
        assert_orphan(&s, 0, U1, T2);
        assert_orphan(&s, 1, U2, T2);
        assert_orphan(&s, 2, U3, T3);

        /* Seen again later: the first sighting stands. */
        assert_int_equal(state_orphan_see(&s, U1, T3), 0);
        assert_true(state_orphan_first_seen(&s, U1) == T2);
        /* Seen "earlier" (the clock stepped back): the older time wins. */
        assert_int_equal(state_orphan_see(&s, U1, T1), 0);
        assert_true(state_orphan_first_seen(&s, U1) == T1);
        assert_int_equal(s.n_orphans, 3);

        assert_true(state_orphan_first_seen(&s, "0f5a2c1e-0000-0000-0000-000000000000") == 0);
        state_done(&s);
        assert_null(s.orphans);
        assert_int_equal(s.n_orphans, 0);
}

static void test_see_rejects_what_cannot_be_saved(void **state) {
        static const char *const bad[] = {"", "a b", "a\nb", "../etc", "a/b", "uid\t", ".", "..", "uid#1"};
        State s = {};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(state_orphan_see(&s, bad[i], T1), -EINVAL);
        assert_int_equal(state_orphan_see(&s, U1, 0), -EINVAL);
        assert_int_equal(state_orphan_see(&s, U1, USEC_INFINITY), -EINVAL);
        assert_int_equal(s.n_orphans, 0);
        state_done(&s);
}

static void test_see_many_stays_sorted(void **state) {
        State s = {};
        char uid[40];

        (void) state;
        /* A scrambled order: 7919 is prime, so i * 7919 % 1000 visits every number once. */
        for (unsigned i = 0; i < 1000; i++) {
                snprintf(uid, sizeof(uid), "pod-%04u", i * 7919 % 1000);
                assert_int_equal(state_orphan_see(&s, uid, T1 + i), 1);
        }
        assert_int_equal(s.n_orphans, 1000);
        for (size_t i = 1; i < s.n_orphans; i++)
                assert_true(strcmp(s.orphans[i - 1].uid, s.orphans[i].uid) < 0);
        for (unsigned i = 0; i < 1000; i++) {
                snprintf(uid, sizeof(uid), "pod-%04u", i * 7919 % 1000);
                assert_true(state_orphan_first_seen(&s, uid) == T1 + i);
        }
        state_done(&s);
}

static void test_retain(void **state) {
        char *const keep[] = {(char *) U1, (char *) "77777777-7777-7777-7777-777777777777", (char *) U3};
        State s = {};

        (void) state;
        assert_int_equal(state_orphan_see(&s, U1, T1), 1);
        assert_int_equal(state_orphan_see(&s, U2, T2), 1);
        assert_int_equal(state_orphan_see(&s, U3, T3), 1);

        /* U2 came back or is gone for good; a kept uid that was never recorded adds nothing. */
        state_orphans_retain(&s, keep, ELEMENTSOF(keep));
        assert_int_equal(s.n_orphans, 2);
        assert_orphan(&s, 0, U1, T1);
        assert_orphan(&s, 1, U3, T3);
        assert_true(state_orphan_first_seen(&s, U2) == 0);

        /* Retaining is idempotent, and the array still takes inserts. */
        state_orphans_retain(&s, keep, ELEMENTSOF(keep));
        assert_int_equal(s.n_orphans, 2);
        assert_int_equal(state_orphan_see(&s, U2, T2), 1);
        assert_int_equal(s.n_orphans, 3);

        /* Nothing to keep: everything goes. */
        state_orphans_retain(&s, NULL, 0);
        assert_int_equal(s.n_orphans, 0);
        assert_true(state_orphan_first_seen(&s, U1) == 0);
        state_done(&s);
}

/* ---- load ------------------------------------------------------------------------------------- */

static void test_load_missing(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *missing = path_join(t->path, "does-not-exist");
        char *problem = (char *) "sentinel";
        State s = {};

        /* Neither the file nor the directory: a first run. */
        assert_int_equal(state_load(t->path, &s, &problem), 0);
        assert_null(problem);
        assert_int_equal(s.n_orphans, 0);
        assert_int_equal(state_load(missing, &s, &problem), 0);
        assert_null(problem);
        assert_int_equal(s.n_orphans, 0);
        state_done(&s);
}

static void test_load_good(void **state) {
        TestDir *t = *state;
        char *problem = (char *) "sentinel";
        State s = {};

        install_fixture(t->path, "good.state");
        assert_int_equal(state_load(t->path, &s, &problem), 0);
        assert_null(problem);
        assert_int_equal(s.n_orphans, 3);
        assert_orphan(&s, 0, U1, T1);
        assert_orphan(&s, 1, U2, T2);
        assert_orphan(&s, 2, U3, T3);
        state_done(&s);

        /* The problem out-parameter is optional. */
        assert_int_equal(state_load(t->path, &s, NULL), 0);
        assert_int_equal(s.n_orphans, 3);
        state_done(&s);
}

static void test_load_tolerates_unknown_kinds(void **state) {
        TestDir *t = *state;
        char *problem = NULL;
        State s = {};

        install_fixture(t->path, "unknown-kind.state");
        assert_int_equal(state_load(t->path, &s, &problem), 0);
        assert_null(problem);
        assert_int_equal(s.n_orphans, 2);
        assert_orphan(&s, 0, U1, T1);
        assert_orphan(&s, 1, U2, T2);
        state_done(&s);
}

static void test_load_sorts(void **state) {
        TestDir *t = *state;
        char *problem = NULL;
        State s = {};

        install_fixture(t->path, "unsorted.state");
        assert_int_equal(state_load(t->path, &s, &problem), 0);
        assert_null(problem);
        assert_int_equal(s.n_orphans, 3);
        assert_orphan(&s, 0, U1, T1);
        assert_orphan(&s, 1, U2, T2);
        assert_orphan(&s, 2, U3, T3);
        state_done(&s);

        install_fixture(t->path, "header-only.state");
        assert_int_equal(state_load(t->path, &s, &problem), 0);
        assert_null(problem);
        assert_int_equal(s.n_orphans, 0);
        state_done(&s);
}

static void test_load_corrupt(void **state) {
        static const struct {
                const char *fixture;
                const char *problem; /* after "state file <dir>/state" */
        } cases[] = {
                {"empty.state", ": empty, expected 'podreaper-state 1'"},
                {"newer-version.state", " line 1: version '2', this podreaper reads 1"},
                {"bad-header.state", " line 1: not a podreaper state file"},
                {"not-state.state", " line 1: not a podreaper state file"},
                {"bad-number.state", " line 3: invalid first-seen time '17000000x0000000' for " U2},
                {"zero-time.state", " line 2: invalid first-seen time '0' for " U1},
                {"overflow-time.state",
                 " line 2: invalid first-seen time '99999999999999999999999' for " U1},
                {"duplicate.state", " line 4: duplicate orphan " U1},
                {"bad-uid.state", " line 3: invalid pod uid '../../etc'"},
                {"truncated.state", " line 3: truncated (no newline at the end)"},
                {"extra-field.state", " line 2: expected 'orphan <pod uid> <first-seen usec>'"},
                {"missing-field.state", " line 2: expected 'orphan <pod uid> <first-seen usec>'"},
                {"double-space.state", " line 2: expected 'orphan <pod uid> <first-seen usec>'"},
                {"empty-line.state", " line 3: not a record"},
                {"garbage.state", " line 3: not a record"},
                {"nul.state", " line 3: contains a NUL byte"},
        };
        TestDir *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *problem = NULL, *expected = NULL;
                State s = {};

                install_fixture(t->path, cases[i].fixture);
                assert_true(asprintf(&expected, "state file %s/state%s", t->path, cases[i].problem) >= 0);
                assert_int_equal(state_load(t->path, &s, &problem), 0);
                if (!problem || strcmp(problem, expected) != 0)
                        fail_msg("%s: got '%s', expected '%s'", cases[i].fixture, problem, expected);
                /* Never half a state: what was read before the bad line is dropped too. */
                if (s.n_orphans != 0 || s.orphans)
                        fail_msg("%s: %zu orphans kept from a corrupt file", cases[i].fixture, s.n_orphans);
                state_done(&s);
        }
}

static void test_load_unreadable(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"), *expected = NULL, *problem = NULL;
        State s = {};

        /* A directory where the file should be. */
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(state_load(t->path, &s, &problem), 0);
        assert_true(asprintf(&expected, "state file %s: cannot read: Is a directory", path) >= 0);
        assert_string_equal(problem, expected);
        assert_int_equal(s.n_orphans, 0);
        assert_int_equal(rmdir(path), 0);

        /* A FIFO: must neither block nor be read. */
        free(problem);
        free(expected);
        problem = NULL;
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(state_load(t->path, &s, &problem), 0);
        assert_true(asprintf(&expected, "state file %s: not a regular file", path) >= 0);
        assert_string_equal(problem, expected);
        assert_int_equal(unlink(path), 0);

        /* Permission denied: only meaningful when not root (root reads anything). */
        free(problem);
        free(expected);
        problem = expected = NULL;
        if (geteuid() != 0) {
                install_fixture(t->path, "good.state");
                assert_int_equal(chmod(path, 0), 0);
                assert_int_equal(state_load(t->path, &s, &problem), 0);
                assert_true(asprintf(&expected, "state file %s: cannot open: Permission denied", path) >= 0);
                assert_string_equal(problem, expected);
                assert_int_equal(s.n_orphans, 0);
        }
        state_done(&s);
}

/* ---- save ------------------------------------------------------------------------------------- */

/* The mark of a pod a pass began to reap survives a save and a load; a mark without its orphan is
 * corrupt. */
static void test_reaping_round_trip(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *dir = path_join(t->path, "podreaper"), *path = path_join(dir, "state");
        _cleanup_free_ char *content = NULL, *problem = NULL;
        State s = {}, loaded = {}, bad = {};

        assert_int_equal(state_orphan_see(&s, U1, T1), 1);
        assert_int_equal(state_orphan_see(&s, U2, T2), 1);
        assert_int_equal(state_orphan_set_reaping(&s, U2), 0);
        assert_int_equal(state_orphan_set_reaping(&s, U3), -ENOENT);
        assert_int_equal(state_save(dir, &s), 0);
        content = read_file(path);
        assert_string_equal(
                content,
                "podreaper-state 1\n"
                "orphan " U1 " 1700000000000000\n"
                "orphan " U2 " 1700000060000000\n"
                "reaping " U2 "\n");
        assert_int_equal(state_load(dir, &loaded, &problem), 0);
        assert_null(problem);
        assert_false(state_orphan_is_reaping(&loaded, U1));
        assert_true(state_orphan_is_reaping(&loaded, U2));

        write_file(
                path, "podreaper-state 1\nreaping " U1 "\n", strlen("podreaper-state 1\nreaping " U1 "\n"));
        assert_int_equal(state_load(dir, &bad, &problem), 0);
        assert_non_null(problem);
        assert_int_equal(bad.n_orphans, 0);
        state_done(&s);
        state_done(&loaded);
        state_done(&bad);
}

static void test_save_round_trip(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *dir = path_join(t->path, "podreaper"), *path = path_join(dir, "state");
        _cleanup_free_ char *content = NULL, *problem = NULL;
        State s = {}, loaded = {};
        struct stat st;

        assert_int_equal(state_orphan_see(&s, U3, T3), 1);
        assert_int_equal(state_orphan_see(&s, U1, T1), 1);
        assert_int_equal(state_orphan_see(&s, U2, T2), 1);

        /* The directory does not exist yet: created 0700. */
        assert_int_equal(state_save(dir, &s), 0);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        content = read_file(path);
        assert_string_equal(
                content,
                "podreaper-state 1\n"
                "orphan " U1 " 1700000000000000\n"
                "orphan " U2 " 1700000060000000\n"
                "orphan " U3 " 1700000120000000\n");

        assert_int_equal(state_load(dir, &loaded, &problem), 0);
        assert_null(problem);
        assert_int_equal(loaded.n_orphans, 3);
        for (size_t i = 0; i < 3; i++)
                assert_orphan(&loaded, i, s.orphans[i].uid, s.orphans[i].first_seen);

        /* No temp file left behind. */
        assert_int_equal(count_entries(dir, "state.tmp."), 0);
        assert_int_equal(count_entries(dir, ""), 3); /* ".", "..", "state" */

        state_done(&s);
        state_done(&loaded);
}

static void test_save_empty_and_many(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"), *content = NULL;
        State s = {}, loaded = {};
        char uid[40];

        assert_int_equal(state_save(t->path, &s), 0);
        content = read_file(path);
        assert_string_equal(content, "podreaper-state 1\n");

        for (unsigned i = 0; i < 5000; i++) {
                snprintf(uid, sizeof(uid), "%08x-0000-4000-8000-%012x", i * 2654435761u, i);
                assert_int_equal(state_orphan_see(&s, uid, T1 + i), 1);
        }
        assert_int_equal(state_save(t->path, &s), 0);
        assert_int_equal(state_load(t->path, &loaded, NULL), 0);
        assert_int_equal(loaded.n_orphans, 5000);
        for (size_t i = 0; i < 5000; i++)
                assert_orphan(&loaded, i, s.orphans[i].uid, s.orphans[i].first_seen);
        state_done(&s);
        state_done(&loaded);
}

static void test_save_replaces_atomically(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"),
                            *stale = path_join(t->path, "state.tmp.Ab12Cd");
        _cleanup_free_ char *content = NULL;
        State s = {}, loaded = {};
        struct stat before, after;
        int fd;

        install_fixture(t->path, "good.state");
        assert_int_equal(stat(path, &before), 0);

        /* What a run killed mid-save leaves: a half-written temp file. */
        write_file(stale, "podreaper-state 1\norphan ", 25);

        assert_int_equal(state_orphan_see(&s, U2, T3), 1);
        assert_int_equal(state_save(t->path, &s), 0);

        /* A new inode was renamed over the old one (never rewritten in place). */
        assert_int_equal(stat(path, &after), 0);
        assert_true(before.st_ino != after.st_ino);
        content = read_file(path);
        assert_string_equal(content, "podreaper-state 1\norphan " U2 " 1700000120000000\n");

        /* The stale file is untouched by the save and harmless to the load... */
        assert_int_equal(count_entries(t->path, "state.tmp."), 1);
        assert_int_equal(state_load(t->path, &loaded, NULL), 0);
        assert_int_equal(loaded.n_orphans, 1);
        assert_orphan(&loaded, 0, U2, T3);

        /* ...and the next lock holder, the only one who may save, sweeps it away. */
        fd = state_lock(t->path, NULL);
        assert_true(fd >= 0);
        assert_int_equal(count_entries(t->path, "state.tmp."), 0);
        assert_int_equal(close(fd), 0);

        state_done(&s);
        state_done(&loaded);
}

static void test_save_refuses_unloadable_state(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"), *content = NULL;
        OrphanSeen unsorted[] = {
                {.uid = (char *) U2, .first_seen = T1}, {.uid = (char *) U1, .first_seen = T2}};
        OrphanSeen duplicate[] = {
                {.uid = (char *) U1, .first_seen = T1}, {.uid = (char *) U1, .first_seen = T2}};
        OrphanSeen bad_uid[] = {{.uid = (char *) "a b", .first_seen = T1}};
        OrphanSeen zero[] = {{.uid = (char *) U1, .first_seen = 0}};
        const State bad[] = {
                {.orphans = unsorted, .n_orphans = ELEMENTSOF(unsorted)},
                {.orphans = duplicate, .n_orphans = ELEMENTSOF(duplicate)},
                {.orphans = bad_uid, .n_orphans = ELEMENTSOF(bad_uid)},
                {.orphans = zero, .n_orphans = ELEMENTSOF(zero)},
        };

        install_fixture(t->path, "good.state");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(state_save(t->path, &bad[i]), -EINVAL);

        /* The good file stays, and no temp file was made. */
        content = read_file(path);
        assert_non_null(strstr(content, "orphan " U3 " 1700000120000000\n"));
        assert_int_equal(count_entries(t->path, "state.tmp."), 0);
}

static void test_save_errors(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *nested = path_join(t->path, "no/such/dir"), *file = path_join(t->path, "file");
        State s = {};

        assert_int_equal(state_orphan_see(&s, U1, T1), 1);
        /* Only the state dir itself is created, not its parents. */
        assert_int_equal(state_save(nested, &s), -ENOENT);
        /* The state dir is a file. */
        write_file(file, "x", 1);
        assert_int_equal(state_save(file, &s), -ENOTDIR);
        assert_int_equal(state_lock(file, NULL), -ENOTDIR);
        state_done(&s);
}

/* ---- lock ------------------------------------------------------------------------------------- */

static int read_pid_file(const char *path) {
        _cleanup_free_ char *content = read_file(path);
        int pid = 0;

        assert_int_equal(sscanf(content, "%d\n", &pid), 1);
        return pid;
}

static void test_lock_in_process(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *dir = path_join(t->path, "podreaper"), *lock = path_join(dir, "lock");
        int fd, fd2, holder = -1;
        struct stat st;

        /* The directory does not exist: created. */
        fd = state_lock(dir, &holder);
        assert_true(fd >= 0);
        assert_int_equal(holder, -1); /* untouched on success */
        assert_int_equal(stat(lock, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(read_pid_file(lock), getpid());

        /* flock is per open file description: a second open in the same process conflicts. */
        assert_int_equal(state_lock(dir, &holder), -EWOULDBLOCK);
        assert_int_equal(holder, getpid());
        assert_int_equal(state_lock(dir, NULL), -EWOULDBLOCK);

        /* Released with the fd. */
        assert_int_equal(close(fd), 0);
        fd2 = state_lock(dir, &holder);
        assert_true(fd2 >= 0);
        assert_int_equal(close(fd2), 0);
}

static void test_lock_overwrites_longer_pid(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *lock = path_join(t->path, "lock"), *content = NULL, *expected = NULL;
        int fd;

        /* A previous holder with a longer pid and junk after it. */
        write_file(lock, "4194303\nleftover\n", 17);
        fd = state_lock(t->path, NULL);
        assert_true(fd >= 0);
        content = read_file(lock);
        assert_true(asprintf(&expected, "%d\n", (int) getpid()) >= 0);
        assert_string_equal(content, expected);
        assert_int_equal(close(fd), 0);
}

static void test_lock_held_by_child(void **state) {
        TestDir *t = *state;
        int ready[2], done[2], holder = 0, status, fd;
        char c = 0;
        pid_t pid;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(done, O_CLOEXEC), 0);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r;

                (void) close(ready[0]);
                (void) close(done[1]);
                r = state_lock(t->path, NULL);
                c = r >= 0 ? 'L' : 'E';
                if (write(ready[1], &c, 1) != 1)
                        _exit(2);
                /* Hold the lock until the parent has looked. */
                if (read(done[0], &c, 1) < 0)
                        _exit(3);
                _exit(r >= 0 ? 0 : 1);
        }

        (void) close(ready[1]);
        (void) close(done[0]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        assert_int_equal(c, 'L');

        assert_int_equal(state_lock(t->path, &holder), -EWOULDBLOCK);
        assert_int_equal(holder, pid);

        /* The child ends: the kernel drops its lock, and it is ours. */
        assert_int_equal(write(done[1], "x", 1), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        fd = state_lock(t->path, &holder);
        assert_true(fd >= 0);
        assert_int_equal(close(fd), 0);
        (void) close(ready[0]);
        (void) close(done[1]);
}

static void test_lock_unknown_holder(void **state) {
        TestDir *t = *state;
        int fd, holder = -1;

        fd = state_lock(t->path, NULL);
        assert_true(fd >= 0);
        /* The holder's pid cannot be told (emptied, or garbage): 0, still -EWOULDBLOCK. */
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(state_lock(t->path, &holder), -EWOULDBLOCK);
        assert_int_equal(holder, 0);
        assert_int_equal(pwrite(fd, "x12\n", 4, 0), 4);
        holder = -1;
        assert_int_equal(state_lock(t->path, &holder), -EWOULDBLOCK);
        assert_int_equal(holder, 0);
        assert_int_equal(close(fd), 0);
}

/* ---- image records ------------------------------------------------------------------------------ */

#define IMG_A "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define IMG_B "sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"

static void assert_image(const State *s, const char *id, usec_t first_detected, usec_t last_used) {
        const ImageSeen *r = state_image_find(s, id);

        if (!r)
                fail_msg("no record of image %s", id);
        assert_string_equal(r->id, id);
        assert_true(r->first_detected == first_detected);
        assert_true(r->last_used == last_used);
}

static void test_image_set_find(void **state) {
        _cleanup_free_ char *longest = NULL, *too_long = NULL;
        State s = {};

        (void) state;
        assert_null(state_image_find(&s, IMG_A));

        assert_true(state_image_set(&s, IMG_B, T2, T3, 0) >= 0);
        assert_true(state_image_set(&s, IMG_A, T1, 0, 0) >= 0);
        assert_true(state_image_set(&s, "registry.k8s.io/pause:3.9", T1, T1, 0) >= 0);
        assert_int_equal(s.n_images, 3);
        /* Sorted by id. */
        for (size_t i = 1; i < s.n_images; i++)
                assert_true(strcmp(s.images[i - 1].id, s.images[i].id) < 0);
        assert_image(&s, IMG_A, T1, 0);
        assert_image(&s, IMG_B, T2, T3);
        assert_image(&s, "registry.k8s.io/pause:3.9", T1, T1);
        assert_null(state_image_find(&s, "sha256:0a1b"));

        /* Replaces, both times. */
        assert_true(state_image_set(&s, IMG_A, T2, T3, 0) >= 0);
        assert_int_equal(s.n_images, 3);
        assert_image(&s, IMG_A, T2, T3);

        /* Images and orphans live side by side. */
        assert_int_equal(state_orphan_see(&s, U1, T1), 1);
        state_orphans_retain(&s, NULL, 0);
        assert_int_equal(s.n_images, 3);
        assert_image(&s, IMG_B, T2, T3);

        /* The longest id the file holds: 512 bytes. */
        longest = malloc(514);
        assert_non_null(longest);
        memset(longest, 'x', 513);
        longest[513] = '\0';
        too_long = strdup(longest);
        assert_non_null(too_long);
        longest[512] = '\0';
        assert_true(state_image_set(&s, longest, T1, 0, 0) >= 0);
        assert_image(&s, longest, T1, 0);
        assert_int_equal(state_image_set(&s, too_long, T1, 0, 0), -EINVAL);
        assert_int_equal(s.n_images, 4);

        state_done(&s);
        assert_null(s.images);
        assert_int_equal(s.n_images, 0);
        assert_int_equal(s.n_orphans, 0);
}

static void test_image_set_rejects_what_cannot_be_saved(void **state) {
        static const char *const bad[] = {
                "", "a b", "sha256:a\nb", "a\tb", "a\rb", " sha256:a", "sha256:a "};
        State s = {};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (state_image_set(&s, bad[i], T1, 0, 0) != -EINVAL)
                        fail_msg("image id '%s' accepted", bad[i]);
        assert_int_equal(state_image_set(&s, IMG_A, 0, 0, 0), -EINVAL);
        assert_int_equal(state_image_set(&s, IMG_A, 0, T1, 0), -EINVAL);
        assert_int_equal(s.n_images, 0);
        assert_null(state_image_find(&s, IMG_A));

        /* A bad update leaves the record as it was. */
        assert_true(state_image_set(&s, IMG_A, T1, T2, 0) >= 0);
        assert_int_equal(state_image_set(&s, IMG_A, 0, T3, 0), -EINVAL);
        assert_image(&s, IMG_A, T1, T2);
        state_done(&s);
}

static void test_image_round_trip(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"), *content = NULL, *problem = NULL;
        State s = {}, loaded = {};

        assert_int_equal(state_orphan_see(&s, U2, T2), 1);
        assert_int_equal(state_orphan_see(&s, U1, T1), 1);
        assert_int_equal(state_orphan_set_reaping(&s, U1), 0);
        assert_true(state_image_set(&s, IMG_B, T2, T3, 0) >= 0);
        assert_true(state_image_set(&s, IMG_A, T1, 0, T1) >= 0);
        assert_true(state_image_set(&s, "registry.k8s.io/pause:3.9", T3, T3, 0) >= 0);

        /* One line per image, after the orphan lines, sorted by id; last used 0: never; unused since
         * 0: in use at the last pass. */
        assert_int_equal(state_save(t->path, &s), 0);
        content = read_file(path);
        assert_string_equal(
                content,
                "podreaper-state 1\n"
                "orphan " U1 " 1700000000000000\n"
                "reaping " U1 "\n"
                "orphan " U2 " 1700000060000000\n"
                "image registry.k8s.io/pause:3.9 1700000120000000 1700000120000000 0\n"
                "image " IMG_A " 1700000000000000 0 1700000000000000\n"
                "image " IMG_B " 1700000060000000 1700000120000000 0\n");

        assert_int_equal(state_load(t->path, &loaded, &problem), 0);
        assert_null(problem);
        assert_int_equal(loaded.n_orphans, 2);
        assert_orphan(&loaded, 0, U1, T1);
        assert_orphan(&loaded, 1, U2, T2);
        assert_true(state_orphan_is_reaping(&loaded, U1));
        assert_int_equal(loaded.n_images, 3);
        assert_image(&loaded, IMG_A, T1, 0);
        assert_true(state_image_find(&loaded, IMG_A)->unused_since == T1);
        assert_image(&loaded, IMG_B, T2, T3);
        assert_image(&loaded, "registry.k8s.io/pause:3.9", T3, T3);
        state_done(&loaded);
        state_done(&s);

        /* Images alone. */
        free(content);
        assert_true(state_image_set(&s, IMG_A, T1, T2, 0) >= 0);
        assert_int_equal(state_save(t->path, &s), 0);
        content = read_file(path);
        assert_string_equal(
                content, "podreaper-state 1\nimage " IMG_A " 1700000000000000 1700000060000000 0\n");
        assert_int_equal(state_load(t->path, &loaded, &problem), 0);
        assert_null(problem);
        assert_int_equal(loaded.n_orphans, 0);
        assert_int_equal(loaded.n_images, 1);
        assert_image(&loaded, IMG_A, T1, T2);
        state_done(&loaded);
        state_done(&s);
}

static void test_image_round_trip_many(void **state) {
        TestDir *t = *state;
        State s = {}, loaded = {};
        char id[80];

        for (unsigned i = 0; i < 3000; i++) {
                snprintf(id, sizeof(id), "sha256:%064x", i * 2654435761u);
                assert_true(state_image_set(&s, id, T1 + i, i % 3 == 0 ? 0 : T2 + i, 0) >= 0);
        }
        assert_int_equal(s.n_images, 3000);
        assert_int_equal(state_save(t->path, &s), 0);
        assert_int_equal(state_load(t->path, &loaded, NULL), 0);
        assert_int_equal(loaded.n_images, 3000);
        for (size_t i = 0; i < s.n_images; i++) {
                assert_string_equal(loaded.images[i].id, s.images[i].id);
                assert_true(loaded.images[i].first_detected == s.images[i].first_detected);
                assert_true(loaded.images[i].last_used == s.images[i].last_used);
        }
        state_done(&s);
        state_done(&loaded);
}

static void test_image_load_corrupt(void **state) {
        static const struct {
                const char *line; /* line 4, after a good orphan line and a good image line */
                const char *what;
        } cases[] = {
                {"image " IMG_B "\n", "missing times"},
                {"image " IMG_B " 1700000000000000\n", "missing last-used"},
                {"image " IMG_B " 1700000000000000 0\n", "missing unused-since"},
                {"image " IMG_B " 1700000000000000 0 0 0\n", "extra field"},
                {"image  " IMG_B " 1700000000000000 0 0\n", "double space"},
                {"image " IMG_B " 0 0 0\n", "first-detected 0"},
                {"image " IMG_B " 17000000x0000000 0 0\n", "bad first-detected"},
                {"image " IMG_B " 1700000000000000 -1 0\n", "negative last-used"},
                {"image " IMG_B " 1700000000000000 99999999999999999999999 0\n", "overflowing last-used"},
                {"image " IMG_B " 1700000000000000 0 x\n", "bad unused-since"},
                {"image " IMG_A " 1700000060000000 0 0\n", "duplicate image"},
                {"image\n", "no id"},
                {"image " IMG_B " 1700000000000000 0 0", "truncated"},
        };
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"), *prefix = NULL;

        assert_true(asprintf(&prefix, "state file %s line 4: ", path) >= 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *content = NULL, *problem = NULL;
                State s = {};

                assert_true(
                        asprintf(
                                &content,
                                "podreaper-state 1\norphan " U1 " 1700000000000000\nimage " IMG_A
                                " 1700000000000000 0 0\n%s",
                                cases[i].line) >= 0);
                write_file(path, content, strlen(content));

                assert_int_equal(state_load(t->path, &s, &problem), 0);
                if (!problem || strncmp(problem, prefix, strlen(prefix)) != 0)
                        fail_msg("%s: got problem '%s', expected '%s...'", cases[i].what, problem, prefix);
                /* Never half a state: the orphan and the image read before the bad line go too. */
                if (s.n_orphans != 0 || s.orphans || s.n_images != 0 || s.images)
                        fail_msg(
                                "%s: %zu orphans and %zu images kept from a corrupt file",
                                cases[i].what,
                                s.n_orphans,
                                s.n_images);
                state_done(&s);
        }
}

static void test_image_save_refuses_unloadable_state(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"), *content = NULL;
        ImageSeen unsorted[] = {
                {.id = (char *) IMG_B, .first_detected = T1}, {.id = (char *) IMG_A, .first_detected = T1}};
        ImageSeen duplicate[] = {
                {.id = (char *) IMG_A, .first_detected = T1}, {.id = (char *) IMG_A, .first_detected = T2}};
        ImageSeen bad_id[] = {{.id = (char *) "a b", .first_detected = T1}};
        ImageSeen zero[] = {{.id = (char *) IMG_A, .first_detected = 0}};
        const State bad[] = {
                {.images = unsorted, .n_images = ELEMENTSOF(unsorted)},
                {.images = duplicate, .n_images = ELEMENTSOF(duplicate)},
                {.images = bad_id, .n_images = ELEMENTSOF(bad_id)},
                {.images = zero, .n_images = ELEMENTSOF(zero)},
        };

        install_fixture(t->path, "good.state");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (state_save(t->path, &bad[i]) != -EINVAL)
                        fail_msg("unloadable image records #%zu saved", i);
        content = read_file(path);
        assert_non_null(strstr(content, "orphan " U3 " 1700000120000000\n"));
        assert_int_equal(count_entries(t->path, "state.tmp."), 0);
}

/* ---- deleted pods ------------------------------------------------------------------------------- */

static void test_deleted_see_keeps_older(void **state) {
        State s = {};

        (void) state;
        assert_true(state_deleted_first_seen(&s, U1) == 0);
        assert_int_equal(state_deleted_see(&s, U2, T2), 1);
        assert_int_equal(state_deleted_see(&s, U1, T2), 1);
        /* Seen again later: the first sighting stands; earlier (the clock went back): that wins. */
        assert_int_equal(state_deleted_see(&s, U1, T3), 0);
        assert_true(state_deleted_first_seen(&s, U1) == T2);
        assert_int_equal(state_deleted_see(&s, U1, T1), 0);
        assert_true(state_deleted_first_seen(&s, U1) == T1);
        assert_int_equal(s.n_deleted, 2);
        assert_string_equal(s.deleted[0].uid, U1);
        assert_string_equal(s.deleted[1].uid, U2);
        /* A deleted pod is not an orphan: the two clocks are apart. */
        assert_true(state_orphan_first_seen(&s, U1) == 0);
        assert_int_equal(s.n_orphans, 0);

        assert_int_equal(state_deleted_see(&s, "", T1), -EINVAL);
        assert_int_equal(state_deleted_see(&s, "a/b", T1), -EINVAL);
        assert_int_equal(state_deleted_see(&s, U3, 0), -EINVAL);
        assert_int_equal(state_deleted_see(&s, U3, USEC_INFINITY), -EINVAL);
        assert_int_equal(s.n_deleted, 2);
        state_done(&s);
        assert_null(s.deleted);
        assert_int_equal(s.n_deleted, 0);
}

static void test_deleted_round_trip(void **state) {
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"), *content = NULL, *problem = NULL;
        State s = {}, loaded = {};

        assert_int_equal(state_orphan_see(&s, U1, T1), 1);
        assert_int_equal(state_deleted_see(&s, U3, T3), 1);
        assert_int_equal(state_deleted_see(&s, U2, T2), 1);
        assert_true(state_image_set(&s, IMG_A, T1, 0, T1) >= 0);

        /* After the orphans, before the images, sorted by uid. */
        assert_int_equal(state_save(t->path, &s), 0);
        content = read_file(path);
        assert_string_equal(
                content,
                "podreaper-state 1\n"
                "orphan " U1 " 1700000000000000\n"
                "deleted " U2 " 1700000060000000\n"
                "deleted " U3 " 1700000120000000\n"
                "image " IMG_A " 1700000000000000 0 1700000000000000\n");

        assert_int_equal(state_load(t->path, &loaded, &problem), 0);
        assert_null(problem);
        assert_int_equal(loaded.n_orphans, 1);
        assert_int_equal(loaded.n_deleted, 2);
        assert_true(state_deleted_first_seen(&loaded, U2) == T2);
        assert_true(state_deleted_first_seen(&loaded, U3) == T3);
        assert_true(state_deleted_first_seen(&loaded, U1) == 0);
        assert_int_equal(loaded.n_images, 1);
        state_done(&loaded);
        state_done(&s);

        /* A file of an older podreaper (no deleted records) loads with none. */
        install_fixture(t->path, "good.state");
        assert_int_equal(state_load(t->path, &loaded, &problem), 0);
        assert_null(problem);
        assert_int_equal(loaded.n_deleted, 0);
        assert_true(loaded.n_orphans > 0);
        state_done(&loaded);
}

static void test_deleted_load_corrupt(void **state) {
        static const struct {
                const char *line; /* line 3, after a good deleted line */
                const char *what;
        } cases[] = {
                {"deleted " U2 "\n", "missing time"},
                {"deleted " U2 " 1700000000000000 1\n", "extra field"},
                {"deleted " U2 " 0\n", "time 0"},
                {"deleted " U2 " 17x\n", "bad time"},
                {"deleted " U2 " 18446744073709551615\n", "infinity"},
                {"deleted a/b 1700000000000000\n", "bad uid"},
                {"deleted " U1 " 1700000060000000\n", "duplicate"},
                {"deleted " U2 " 1700000000000000", "truncated"},
        };
        TestDir *t = *state;
        _cleanup_free_ char *path = path_join(t->path, "state"), *prefix = NULL;

        assert_true(asprintf(&prefix, "state file %s line 3: ", path) >= 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *content = NULL, *problem = NULL;
                State s = {};

                assert_true(
                        asprintf(
                                &content,
                                "podreaper-state 1\ndeleted " U1 " 1700000000000000\n%s",
                                cases[i].line) >= 0);
                write_file(path, content, strlen(content));

                assert_int_equal(state_load(t->path, &s, &problem), 0);
                if (!problem || strncmp(problem, prefix, strlen(prefix)) != 0)
                        fail_msg("%s: got problem '%s', expected '%s...'", cases[i].what, problem, prefix);
                if (s.n_deleted != 0 || s.deleted)
                        fail_msg(
                                "%s: %zu deleted records kept from a corrupt file",
                                cases[i].what,
                                s.n_deleted);
                state_done(&s);
        }
}

static void test_deleted_save_refuses_unloadable_state(void **state) {
        TestDir *t = *state;
        DeletedSeen unsorted[] = {
                {.uid = (char *) U2, .first_seen = T1}, {.uid = (char *) U1, .first_seen = T1}};
        DeletedSeen zero[] = {{.uid = (char *) U1, .first_seen = 0}};
        DeletedSeen bad_uid[] = {{.uid = (char *) "a b", .first_seen = T1}};
        const State bad[] = {
                {.deleted = unsorted, .n_deleted = ELEMENTSOF(unsorted)},
                {.deleted = zero, .n_deleted = ELEMENTSOF(zero)},
                {.deleted = bad_uid, .n_deleted = ELEMENTSOF(bad_uid)},
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (state_save(t->path, &bad[i]) != -EINVAL)
                        fail_msg("unloadable deleted records #%zu saved", i);
        assert_int_equal(count_entries(t->path, "state"), 0);
}

#define dir_test(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_state),
                cmocka_unit_test(test_see_sorted_and_keeps_older),
                cmocka_unit_test(test_see_rejects_what_cannot_be_saved),
                cmocka_unit_test(test_see_many_stays_sorted),
                cmocka_unit_test(test_retain),
                dir_test(test_load_missing),
                dir_test(test_load_good),
                dir_test(test_load_tolerates_unknown_kinds),
                dir_test(test_load_sorts),
                dir_test(test_load_corrupt),
                dir_test(test_load_unreadable),
                dir_test(test_reaping_round_trip),
                dir_test(test_save_round_trip),
                dir_test(test_save_empty_and_many),
                dir_test(test_save_replaces_atomically),
                dir_test(test_save_refuses_unloadable_state),
                dir_test(test_save_errors),
                dir_test(test_lock_in_process),
                dir_test(test_lock_overwrites_longer_pid),
                dir_test(test_lock_held_by_child),
                dir_test(test_lock_unknown_holder),
                cmocka_unit_test(test_image_set_find),
                cmocka_unit_test(test_image_set_rejects_what_cannot_be_saved),
                dir_test(test_image_round_trip),
                dir_test(test_image_round_trip_many),
                dir_test(test_image_load_corrupt),
                dir_test(test_image_save_refuses_unloadable_state),
                cmocka_unit_test(test_deleted_see_keeps_older),
                dir_test(test_deleted_round_trip),
                dir_test(test_deleted_load_corrupt),
                dir_test(test_deleted_save_refuses_unloadable_state),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
