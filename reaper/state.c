/* SPDX-License-Identifier: MIT */
/* <state-dir>/state and <state-dir>/lock.
 *
 *   podreaper-state 1
 *   orphan <uid> <first-seen, usec since the epoch>
 *   reaping <uid>
 *   deleted <uid> <first seen deleted, usec since the epoch>
 *   image <image id> <first-detected usec> <last-used usec, 0: never> <unused-since usec, 0: in use>
 *
 * Strict about the header (another version is another format), tolerant of record kinds it does
 * not know (a newer podreaper may add some; they are dropped on the next save: "deleted" came so,
 * and an older podreaper only restarts its grace). Anything wrong
 * makes the whole file an empty state: forgetting first-seen times only restarts the grace, the
 * safe direction. */

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reaper/state.h"
#include "util/log.h"
#include "util/macro.h"

#define STATE_MAGIC "podreaper-state"
#define STATE_VERSION "1"
#define STATE_FILE "state"
#define STATE_TMP_PREFIX "state.tmp."
#define LOCK_FILE "lock"
#define UID_MAX_LEN 128

/* Whatever the planner records must read back: no separators, no control characters, nothing
 * that walks out of a directory. Pod UIDs are UUIDs; the state file does not judge more than that
 * it can hold them. */
static bool state_uid_is_valid(const char *uid) {
        size_t n = strlen(uid);

        if (n == 0 || n > UID_MAX_LEN || strcmp(uid, ".") == 0 || strcmp(uid, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = uid[i];

                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '-' || c == '_' || c == '.'))
                        return false;
        }
        return true;
}

static int uid_cmp_key(const void *key, const void *elem) {
        return strcmp(key, *(char *const *) elem);
}

/* Binary search in an array of records sorted by their first member, a string (OrphanSeen's uid,
 * ImageSeen's id): 1 and the index when found, else 0 and where it belongs. */
static int record_find(const void *items, size_t n, size_t size, const char *key, size_t *ret_idx) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(key, *(char *const *) ((const char *) items + mid * size));

                if (c == 0) {
                        *ret_idx = mid;
                        return 1;
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        *ret_idx = lo;
        return 0;
}

static int orphan_find(const State *s, const char *uid, size_t *ret_idx) {
        return record_find(s->orphans, s->n_orphans, sizeof(OrphanSeen), uid, ret_idx);
}

usec_t state_orphan_first_seen(const State *s, const char *uid) {
        size_t i;

        assert(s);
        assert(uid);

        return orphan_find(s, uid, &i) ? s->orphans[i].first_seen : 0;
}

static int orphan_insert(State *s, size_t at, const char *uid, usec_t when) {
        OrphanSeen *a;
        char *u;

        u = strdup(uid);
        if (!u)
                return -ENOMEM;
        /* Grown by one: the State may come from elsewhere (the planner) without a capacity. */
        a = reallocarray(s->orphans, s->n_orphans + 1, sizeof(OrphanSeen));
        if (!a) {
                free(u);
                return -ENOMEM;
        }
        s->orphans = a;
        memmove(a + at + 1, a + at, (s->n_orphans - at) * sizeof(OrphanSeen));
        a[at] = (OrphanSeen){.uid = u, .first_seen = when};
        s->n_orphans++;
        return 0;
}

int state_orphan_see(State *s, const char *uid, usec_t when) {
        size_t i;
        int r;

        assert(s);
        assert(uid);

        /* 0 means "never seen" to state_orphan_first_seen(). */
        if (!state_uid_is_valid(uid) || when == 0 || when == USEC_INFINITY)
                return -EINVAL;

        if (orphan_find(s, uid, &i)) {
                /* The older time wins: a clock stepping back must not restart the grace. */
                if (when < s->orphans[i].first_seen)
                        s->orphans[i].first_seen = when;
                return 0;
        }

        r = orphan_insert(s, i, uid, when);
        return r < 0 ? r : 1;
}

int state_orphan_set_reaping(State *s, const char *uid) {
        size_t i;

        if (!orphan_find(s, uid, &i))
                return -ENOENT;
        s->orphans[i].reaping = true;
        return 0;
}

bool state_orphan_is_reaping(const State *s, const char *uid) {
        size_t i;

        return orphan_find(s, uid, &i) && s->orphans[i].reaping;
}

void state_orphans_retain(State *s, char *const *keep, size_t n_keep) {
        size_t j = 0;

        assert(s);
        assert(keep || n_keep == 0);

        for (size_t i = 0; i < s->n_orphans; i++) {
                if (n_keep > 0 && bsearch(s->orphans[i].uid, keep, n_keep, sizeof(char *), uid_cmp_key))
                        s->orphans[j++] = s->orphans[i];
                else
                        free(s->orphans[i].uid);
        }
        s->n_orphans = j;
}

/* ---- deleted pods ---------------------------------------------------------------------------------- */

static int deleted_find(const State *s, const char *uid, size_t *ret_idx) {
        return record_find(s->deleted, s->n_deleted, sizeof(DeletedSeen), uid, ret_idx);
}

usec_t state_deleted_first_seen(const State *s, const char *uid) {
        size_t i;

        assert(s);
        assert(uid);

        return deleted_find(s, uid, &i) ? s->deleted[i].first_seen : 0;
}

int state_deleted_see(State *s, const char *uid, usec_t when) {
        DeletedSeen *a;
        size_t i;
        char *u;

        assert(s);
        assert(uid);

        if (!state_uid_is_valid(uid) || when == 0 || when == USEC_INFINITY)
                return -EINVAL;
        if (deleted_find(s, uid, &i)) {
                /* As orphans: a clock stepping back must not restart the grace. */
                if (when < s->deleted[i].first_seen)
                        s->deleted[i].first_seen = when;
                return 0;
        }

        u = strdup(uid);
        if (!u)
                return -ENOMEM;
        a = reallocarray(s->deleted, s->n_deleted + 1, sizeof(DeletedSeen));
        if (!a) {
                free(u);
                return -ENOMEM;
        }
        s->deleted = a;
        memmove(a + i + 1, a + i, (s->n_deleted - i) * sizeof(DeletedSeen));
        a[i] = (DeletedSeen){.uid = u, .first_seen = when};
        s->n_deleted++;
        return 1;
}

/* ---- image records -------------------------------------------------------------------------------- */

#define IMAGE_ID_MAX_LEN 512

static bool state_image_id_is_valid(const char *id) {
        size_t n = strlen(id);

        if (n == 0 || n > IMAGE_ID_MAX_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) id[i] <= ' ' || (unsigned char) id[i] >= 0x7f)
                        return false;
        return true;
}

static int image_find(const State *s, const char *id, size_t *ret_idx) {
        return record_find(s->images, s->n_images, sizeof(ImageSeen), id, ret_idx);
}

const ImageSeen *state_image_find(const State *s, const char *id) {
        size_t i;

        assert(s);
        assert(id);

        return image_find(s, id, &i) ? &s->images[i] : NULL;
}

int state_image_set(State *s, const char *id, usec_t first_detected, usec_t last_used, usec_t unused_since) {
        ImageSeen *a;
        size_t i;
        char *d;

        assert(s);
        assert(id);

        if (!state_image_id_is_valid(id) || first_detected == 0 || first_detected == USEC_INFINITY ||
            last_used == USEC_INFINITY || unused_since == USEC_INFINITY)
                return -EINVAL;
        if (image_find(s, id, &i)) {
                s->images[i].first_detected = first_detected;
                s->images[i].last_used = last_used;
                s->images[i].unused_since = unused_since;
                return 0;
        }

        d = strdup(id);
        if (!d)
                return -ENOMEM;
        a = reallocarray(s->images, s->n_images + 1, sizeof(ImageSeen));
        if (!a) {
                free(d);
                return -ENOMEM;
        }
        s->images = a;
        memmove(a + i + 1, a + i, (s->n_images - i) * sizeof(ImageSeen));
        a[i] = (ImageSeen){
                .id = d,
                .first_detected = first_detected,
                .last_used = last_used,
                .unused_since = unused_since};
        s->n_images++;
        return 1;
}

void state_done(State *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_orphans; i++)
                free(s->orphans[i].uid);
        free(s->orphans);
        for (size_t i = 0; i < s->n_deleted; i++)
                free(s->deleted[i].uid);
        free(s->deleted);
        for (size_t i = 0; i < s->n_images; i++)
                free(s->images[i].id);
        free(s->images);
        *s = (State){};
}

/* ---- load --------------------------------------------------------------------------------------- */

/* A bad uid is quoted in the problem line: control characters must not split it. */
static char *printable(const char *s, size_t max) {
        size_t n = strnlen(s, max);
        char *p = strndup(s, n);

        if (p)
                for (char *c = p; *c; c++)
                        if ((unsigned char) *c < ' ' || (unsigned char) *c >= 0x7f)
                                *c = '?';
        return p;
}

/* Sets *problem to "state file <path> line <n>: ..." (line 0: no line); -ENOMEM, else 1 so that
 * the caller can return it as "stop, the file is bad". */
_printf_(4, 5) static int problem_set(
        char **problem, const char *path, unsigned line, const char *format, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&what, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        if (line > 0)
                r = asprintf(problem, "state file %s line %u: %s", path, line, what);
        else
                r = asprintf(problem, "state file %s: %s", path, what);
        if (r < 0) {
                *problem = NULL;
                return -ENOMEM;
        }
        return 1;
}

static bool record_kind_is_valid(const char *kind, size_t n) {
        if (n == 0 || !(kind[0] >= 'a' && kind[0] <= 'z'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9') ||
                      kind[i] == '-'))
                        return false;
        return true;
}

/* "<kind> <uid> <usec>" (orphan, deleted), line without its newline. */
static int parse_uid_record(
        State *s, char *line, const char *kind, bool deleted, const char *path, unsigned n, char **problem) {
        _cleanup_free_ char *u = NULL;
        char *uid, *when, *extra;
        uint64_t t;
        size_t i;

        uid = strchr(line, ' ');
        when = uid ? strchr(uid + 1, ' ') : NULL;
        extra = when ? strchr(when + 1, ' ') : NULL;
        if (!uid || !when || extra)
                return problem_set(problem, path, n, "expected '%s <pod uid> <first-seen usec>'", kind);
        *uid++ = '\0';
        *when++ = '\0';

        if (!state_uid_is_valid(uid)) {
                u = printable(uid, 64);
                if (!u)
                        return -ENOMEM;
                return problem_set(problem, path, n, "invalid pod uid '%s'", u);
        }
        if (safe_atou64(when, &t) < 0 || t == 0 || t == USEC_INFINITY) {
                u = printable(when, 64);
                if (!u)
                        return -ENOMEM;
                return problem_set(problem, path, n, "invalid first-seen time '%s' for %s", u, uid);
        }
        if (deleted) {
                if (deleted_find(s, uid, &i))
                        return problem_set(problem, path, n, "duplicate deleted pod %s", uid);
                return state_deleted_see(s, uid, t) < 0 ? -ENOMEM : 0;
        }
        if (orphan_find(s, uid, &i))
                return problem_set(problem, path, n, "duplicate orphan %s", uid);

        /* The file is written sorted, so this appends. */
        return orphan_insert(s, i, uid, t);
}

/* "reaping <uid>", after that uid's orphan line; `rest` starts at the space. */
static int parse_reaping(State *s, const char *rest, const char *path, unsigned n, char **problem) {
        size_t i;

        if (rest[0] != ' ' || !orphan_find(s, rest + 1, &i))
                return problem_set(
                        problem, path, n, "expected 'reaping <pod uid>' of an orphan listed before");
        s->orphans[i].reaping = true;
        return 0;
}

/* "image <id> <first-detected usec> <last-used usec> <unused-since usec>". */
static int parse_image(State *s, char *line, const char *path, unsigned n, char **problem) {
        _cleanup_free_ char *u = NULL;
        char *field[5] = {line};
        uint64_t t[3];
        size_t i;

        /* Exactly four fields after the kind, one space apart. */
        for (i = 1; i < ELEMENTSOF(field); i++) {
                field[i] = strchr(field[i - 1], ' ');
                if (!field[i])
                        break;
                *field[i]++ = '\0';
        }
        if (i != ELEMENTSOF(field) || strchr(field[4], ' '))
                return problem_set(
                        problem,
                        path,
                        n,
                        "expected 'image <image id> <first-detected usec> <last-used usec> <unused-since "
                        "usec>'");

        if (!state_image_id_is_valid(field[1])) {
                u = printable(field[1], 64);
                if (!u)
                        return -ENOMEM;
                return problem_set(problem, path, n, "invalid image id '%s'", u);
        }
        for (size_t k = 0; k < ELEMENTSOF(t); k++)
                if (safe_atou64(field[2 + k], &t[k]) < 0 || t[k] == USEC_INFINITY || (k == 0 && t[k] == 0))
                        return problem_set(problem, path, n, "invalid times for image %s", field[1]);
        if (image_find(s, field[1], &i))
                return problem_set(problem, path, n, "duplicate image %s", field[1]);
        return state_image_set(s, field[1], t[0], t[1], t[2]) < 0 ? -ENOMEM : 0;
}

/* 0: read (or missing), 1: problem set, -ENOMEM. */
static int state_read(const char *path, State *s, char **problem) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t allocated = 0;
        struct stat st;
        unsigned n = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* a FIFO must not block us */
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return problem_set(problem, path, 0, "cannot open: %s", strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return problem_set(problem, path, 0, "cannot stat: %s", strerror(errno));
        if (S_ISDIR(st.st_mode))
                return problem_set(problem, path, 0, "cannot read: %s", strerror(EISDIR));
        if (!S_ISREG(st.st_mode))
                return problem_set(problem, path, 0, "not a regular file");

        f = fdopen(fd, "r");
        if (!f)
                return -ENOMEM;
        TAKE_FD(fd);

        for (;;) {
                ssize_t l;
                size_t kind_len;
                int r;

                errno = 0;
                l = getline(&line, &allocated, f);
                if (l < 0) {
                        if (ferror(f))
                                return problem_set(
                                        problem, path, 0, "cannot read: %s", strerror(errno ?: EIO));
                        break;
                }
                n++;

                if (strlen(line) != (size_t) l)
                        return problem_set(problem, path, n, "contains a NUL byte");
                /* Written whole or not at all: a missing newline is a cut file. */
                if (line[l - 1] != '\n')
                        return problem_set(problem, path, n, "truncated (no newline at the end)");
                line[l - 1] = '\0';

                if (n == 1) {
                        _cleanup_free_ char *h = NULL;
                        const char *v;

                        if (strcmp(line, STATE_MAGIC " " STATE_VERSION) == 0)
                                continue;
                        if (strncmp(line, STATE_MAGIC " ", strlen(STATE_MAGIC " ")) != 0)
                                return problem_set(problem, path, n, "not a podreaper state file");
                        v = line + strlen(STATE_MAGIC " ");
                        h = printable(v, 32);
                        if (!h)
                                return -ENOMEM;
                        return problem_set(
                                problem, path, n, "version '%s', this podreaper reads " STATE_VERSION, h);
                }

                kind_len = strcspn(line, " ");
                if (!record_kind_is_valid(line, kind_len))
                        return problem_set(problem, path, n, "not a record");
                if (kind_len == strlen("orphan") && strncmp(line, "orphan", kind_len) == 0) {
                        r = parse_uid_record(s, line, "orphan", false, path, n, problem);
                        if (r != 0)
                                return r;
                } else if (kind_len == strlen("deleted") && strncmp(line, "deleted", kind_len) == 0) {
                        r = parse_uid_record(s, line, "deleted", true, path, n, problem);
                        if (r != 0)
                                return r;
                } else if (kind_len == strlen("reaping") && strncmp(line, "reaping", kind_len) == 0) {
                        r = parse_reaping(s, line + kind_len, path, n, problem);
                        if (r != 0)
                                return r;
                } else if (kind_len == strlen("image") && strncmp(line, "image", kind_len) == 0) {
                        r = parse_image(s, line, path, n, problem);
                        if (r != 0)
                                return r;
                }
                /* Another kind: a newer podreaper's, skipped. */
        }

        if (n == 0)
                return problem_set(problem, path, 0, "empty, expected '" STATE_MAGIC " " STATE_VERSION "'");
        return 0;
}

int state_load(const char *dir, State *ret, char **ret_problem) {
        _cleanup_free_ char *path = NULL, *problem = NULL;
        State s = {};
        int r;

        assert(dir);
        assert(ret);

        if (asprintf(&path, "%s/" STATE_FILE, dir) < 0)
                return -ENOMEM;

        r = state_read(path, &s, &problem);
        if (r != 0)
                state_done(&s); /* a bad file is an empty state */
        if (r < 0)
                return r;

        *ret = s;
        if (ret_problem)
                *ret_problem = TAKE_PTR(problem);
        return 0;
}

/* ---- save --------------------------------------------------------------------------------------- */

static int state_dir_make(const char *dir) {
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int state_write(FILE *f, const State *s) {
        if (fputs(STATE_MAGIC " " STATE_VERSION "\n", f) < 0)
                return negative_errno();
        for (size_t i = 0; i < s->n_orphans; i++)
                if (fprintf(f, "orphan %s %" PRIu64 "\n", s->orphans[i].uid, s->orphans[i].first_seen) < 0 ||
                    (s->orphans[i].reaping && fprintf(f, "reaping %s\n", s->orphans[i].uid) < 0))
                        return negative_errno();
        for (size_t i = 0; i < s->n_deleted; i++)
                if (fprintf(f, "deleted %s %" PRIu64 "\n", s->deleted[i].uid, s->deleted[i].first_seen) < 0)
                        return negative_errno();
        for (size_t i = 0; i < s->n_images; i++)
                if (fprintf(f,
                            "image %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                            s->images[i].id,
                            s->images[i].first_detected,
                            s->images[i].last_used,
                            s->images[i].unused_since) < 0)
                        return negative_errno();
        if (fflush(f) != 0 || ferror(f))
                return negative_errno();
        if (fsync(fileno(f)) < 0)
                return -errno;
        return 0;
}

int state_save(const char *dir, const State *s) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_fclose_ FILE *f = NULL;
        int fd, r;

        assert(dir);
        assert(s);

        /* Never write what state_load() would call corrupt. */
        for (size_t i = 0; i < s->n_orphans; i++)
                if (!state_uid_is_valid(s->orphans[i].uid) || s->orphans[i].first_seen == 0 ||
                    s->orphans[i].first_seen == USEC_INFINITY ||
                    (i > 0 && strcmp(s->orphans[i - 1].uid, s->orphans[i].uid) >= 0))
                        return -EINVAL;
        for (size_t i = 0; i < s->n_deleted; i++)
                if (!state_uid_is_valid(s->deleted[i].uid) || s->deleted[i].first_seen == 0 ||
                    s->deleted[i].first_seen == USEC_INFINITY ||
                    (i > 0 && strcmp(s->deleted[i - 1].uid, s->deleted[i].uid) >= 0))
                        return -EINVAL;
        for (size_t i = 0; i < s->n_images; i++)
                if (!state_image_id_is_valid(s->images[i].id) || s->images[i].first_detected == 0 ||
                    s->images[i].first_detected == USEC_INFINITY ||
                    s->images[i].last_used == USEC_INFINITY || s->images[i].unused_since == USEC_INFINITY ||
                    (i > 0 && strcmp(s->images[i - 1].id, s->images[i].id) >= 0))
                        return -EINVAL;

        r = state_dir_make(dir);
        if (r < 0)
                return r;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;

        if (asprintf(&path, "%s/" STATE_FILE, dir) < 0 ||
            asprintf(&tmp, "%s/" STATE_TMP_PREFIX "XXXXXX", dir) < 0)
                return -ENOMEM;

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                (void) close(fd);
                (void) unlink(tmp);
                return r;
        }

        /* Temp file, fsync, rename, fsync the directory: a crash leaves the old file or the new. */
        r = state_write(f, s);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

/* ---- lock --------------------------------------------------------------------------------------- */

/* The holder's pid: the first line of the lock file, 0 if it cannot be told. */
static int lock_read_holder(int fd) {
        char buf[32];
        ssize_t n;
        int pid;

        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (safe_atoi(buf, &pid) < 0 || pid <= 0)
                return 0;
        return pid;
}

/* Temp files of a run killed while saving. Only the lock holder saves, so none is in use. */
static void state_remove_stale_tmp(const char *dir) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        d = opendir(dir);
        if (!d)
                return;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, STATE_TMP_PREFIX, strlen(STATE_TMP_PREFIX)) == 0) {
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                                log_debug_errno(
                                        errno,
                                        "Failed to remove stale %s/%s: %m, ignoring",
                                        dir,
                                        de->d_name);
                        else
                                log_debug("Removed stale %s/%s from an interrupted run", dir, de->d_name);
                }
}

int state_lock(const char *dir, int *ret_holder_pid) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char buf[32];
        int n, r;

        assert(dir);

        r = state_dir_make(dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/" LOCK_FILE, dir) < 0)
                return -ENOMEM;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;

        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return -errno;
                if (ret_holder_pid)
                        *ret_holder_pid = lock_read_holder(fd);
                return -EWOULDBLOCK;
        }

        /* Overwrite, then cut: a reader never finds the file empty, at worst the old pid still. */
        n = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
        if (n < 0 || (size_t) n >= sizeof(buf))
                return -EIO;
        if (pwrite(fd, buf, (size_t) n, 0) != n)
                return negative_errno();
        if (ftruncate(fd, n) < 0)
                return -errno;

        state_remove_stale_tmp(dir);
        return TAKE_FD(fd);
}
