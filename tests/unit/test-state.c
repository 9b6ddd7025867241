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
                {unsorted, ELEMENTSOF(unsorted)},
                {duplicate, ELEMENTSOF(duplicate)},
                {bad_uid, ELEMENTSOF(bad_uid)},
                {zero, ELEMENTSOF(zero)},
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
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
