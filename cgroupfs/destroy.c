/* SPDX-License-Identifier: MIT */
/* Destroying a pod cgroup in every hierarchy, as the kubelet's pod_container_manager Destroy does
 * (kill the processes, then remove the cgroups), but so that it finishes: a process that forks
 * while being killed cannot escape (cgroup.kill, or a frozen cgroup), a recycled pid outside the
 * pod is never signalled (pidfds, checked against /proc/<pid>/cgroup), the wait for the kernel is
 * event-driven where it can be (cgroup.events), and the removal goes depth-first and retries EBUSY
 * a bounded number of times. With the systemd driver, systemd is asked to stop the slice first,
 * where it answers. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "cgroupfs/cgroupfs-internal.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define CGROUP_DEPTH_MAX 64u                         /* levels beneath a pod cgroup */
#define KILL_ROUNDS_MAX 16u                          /* freeze-kill-thaw rounds */
#define KILL_SETTLE_USEC (500 * USEC_PER_MSEC)       /* cgroup.kill until v2 is empty */
#define FREEZE_WAIT_USEC (500 * USEC_PER_MSEC)       /* until FROZEN; then kill anyway */
#define ROUND_WAIT_MAX_USEC (200 * USEC_PER_MSEC)    /* after a round of pid kills */
#define POLL_DELAY_MAX_USEC (20 * USEC_PER_MSEC)     /* v1: re-reading cgroup.procs */
#define RMDIR_TRIES 8u                               /* EBUSY: 1 + 2 + ... + 64 ms */
#define SYSTEMD_CALL_TIMEOUT_USEC (2 * USEC_PER_SEC) /* StopUnit */
#define READ_MAX ((size_t) 64 * 1024 * 1024)

/* ---- small helpers ---------------------------------------------------------------------------- */

static cgfs_usec_t usec_add(cgfs_usec_t a, cgfs_usec_t b) {
        return a > USEC_INFINITY - b ? USEC_INFINITY : a + b;
}

static void sleep_usec(cgfs_usec_t u) {
        struct timespec ts = {
                .tv_sec = (time_t) (u / USEC_PER_SEC),
                .tv_nsec = (long) (u % USEC_PER_SEC) * 1000,
        };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Sleeps `delay`, but never past `until`; false when `until` has passed already. */
static bool sleep_until(cgfs_usec_t delay, cgfs_usec_t until) {
        cgfs_usec_t n = cg_now_usec(CLOCK_MONOTONIC);

        if (n >= until)
                return false;
        sleep_usec(MIN(delay, until - n));
        return true;
}

/* Do two comma-separated controller lists share one? Two v1 hierarchies never share a controller
 * (nor a name=), so one is enough to tell them apart, and extra options on either side do no harm. */
static bool controllers_intersect(const char *a, const char *b) {
        for (const char *c = a; *c;) {
                size_t n = strcspn(c, ",");

                if (n > 0 && cg_controllers_contain(b, c, n))
                        return true;
                c += n;
                c += *c == ',';
        }
        return false;
}

static int write_at(int dfd, const char *name, const char *value) {
        _cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        size_t len = strlen(value);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = write(fd, value, len);
        if (k < 0)
                return -errno;
        return (size_t) k == len ? 0 : -EIO;
}

/* The next child cgroup of d, for a walk `depth` levels beneath the pod cgroup: 1, or 0 at the end;
 * -ELOOP deeper than any runtime nests. */
static int next_child(DIR *d, unsigned depth, struct dirent **ret_de) {
        int r = cg_readdir_child(d, ret_de, NULL);

        return r > 0 && depth >= CGROUP_DEPTH_MAX ? -ELOOP : r;
}

/* ---- pid sets --------------------------------------------------------------------------------- */

typedef struct PidSet {
        pid_t *items;
        size_t n, allocated;
} PidSet;

static void pid_set_done(PidSet *s) {
        free(s->items);
        *s = (PidSet){};
}

static int pid_set_add(PidSet *s, pid_t pid) {
        if (cg_grow((void **) &s->items, &s->allocated, s->n, sizeof(*s->items)) < 0)
                return -ENOMEM;
        s->items[s->n++] = pid;
        return 0;
}

static int pid_compare(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;

        return (x > y) - (x < y);
}

static void pid_set_uniq(PidSet *s) {
        size_t k = 0;

        if (s->n == 0)
                return;
        qsort(s->items, s->n, sizeof(pid_t), pid_compare);
        for (size_t i = 1; i < s->n; i++)
                if (s->items[i] != s->items[k])
                        s->items[++k] = s->items[i];
        s->n = k + 1;
}

/* Adds the pids in cgroup.procs of `dfd` and of every cgroup beneath it to `out`; a cgroup
 * removed meanwhile holds none. */
static int collect_pids(int dfd, unsigned depth, PidSet *out) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ char *procs = NULL;
        struct dirent *de;
        int r;

        r = cg_read_file_at(dfd, "cgroup.procs", READ_MAX, &procs);
        if (r < 0)
                return cg_errno_is_gone(r) ? 0 : r;
        for (char *line = procs, *next; line && *line; line = next) {
                int pid;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (safe_atoi(line, &pid) < 0 || pid <= 0)
                        continue;
                r = pid_set_add(out, pid);
                if (r < 0)
                        return r;
        }

        r = cg_opendir_at(dfd, ".", &d);
        if (r < 0)
                return cg_errno_is_gone(r) ? 0 : r;
        while ((r = next_child(d, depth, &de)) > 0) {
                _cleanup_close_ int fd = -EBADF;

                fd = openat(dirfd(d), de->d_name, CG_OPEN_DIR_FLAGS);
                if (fd < 0) {
                        if (cg_errno_is_gone(errno))
                                continue;
                        return -errno;
                }
                r = collect_pids(fd, depth + 1, out);
                if (r < 0)
                        return r;
        }
        return r;
}

/* ---- the pod cgroup in each hierarchy --------------------------------------------------------- */

typedef struct Target {
        const CgfsHierarchy *hierarchy;
        const char *path; /* the pod cgroup, relative to the hierarchy's mount */
        int root_fd;      /* the hierarchy's mount */
        int fd;           /* the pod cgroup; -EBADF: not in this hierarchy (or gone) */
        int events_fd;    /* v2: cgroup.events, opened on first use */
        bool freezer;     /* v1 hierarchy with the freezer controller */
        bool frozen;      /* frozen by us: thawed on every way out */
} Target;

typedef struct Targets {
        Target *items;
        size_t n;
} Targets;

static void target_thaw(Target *t) {
        if (!t->frozen)
                return;
        /* Best effort: a thaw that fails on a cgroup that is gone has nothing left to thaw. */
        if (t->hierarchy->v2)
                (void) write_at(t->fd, "cgroup.freeze", "0");
        else
                (void) write_at(t->fd, "freezer.state", "THAWED");
        t->frozen = false;
}

static void targets_done(Targets *ts) {
        for (size_t i = 0; i < ts->n; i++) {
                Target *t = &ts->items[i];

                target_thaw(t);
                safe_close(t->events_fd);
                safe_close(t->fd);
                safe_close(t->root_fd);
        }
        free(ts->items);
        *ts = (Targets){};
}

static int targets_open(const CgfsHierarchies *h, const CgfsPod *pod, Targets *ret) {
        _cleanup_(targets_done) Targets ts = {};

        ts.items = calloc(MAX(h->n, (size_t) 1), sizeof(Target));
        if (!ts.items)
                return -ENOMEM;
        for (size_t i = 0; i < h->n; i++) {
                const char *path = pod->paths ? pod->paths[i] : NULL;
                Target *t = &ts.items[ts.n++];

                *t = (Target){
                        .hierarchy = &h->items[i],
                        .path = path,
                        .root_fd = -EBADF,
                        .fd = -EBADF,
                        .events_fd = -EBADF,
                        .freezer = !h->items[i].v2 &&
                                   cg_controllers_contain(
                                           h->items[i].controllers, "freezer", strlen("freezer")),
                };
                if (!path)
                        continue;
                if (!cg_path_is_safe(path))
                        return -EINVAL;
                t->root_fd = open(h->items[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (t->root_fd < 0) {
                        if (cg_errno_is_gone(errno))
                                continue;
                        return -errno;
                }
                t->fd = openat(t->root_fd, path, CG_OPEN_DIR_FLAGS);
                if (t->fd < 0 && !cg_errno_is_gone(errno))
                        return -errno;
        }
        *ret = ts;
        ts = (Targets){};
        return 0;
}

/* The value of `key` in cgroup.events ("populated", "frozen"): 1/0; a cgroup gone is 0. */
static int target_event(Target *t, const char *key) {
        char buf[256];
        ssize_t k;
        int r;

        if (t->events_fd < 0) {
                t->events_fd = openat(t->fd, "cgroup.events", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (t->events_fd < 0)
                        return cg_errno_is_gone(errno) ? 0 : -errno;
        }
        k = pread(t->events_fd, buf, sizeof(buf) - 1, 0);
        if (k < 0)
                return cg_errno_is_gone(errno) ? 0 : -errno;
        buf[k] = '\0';
        r = cg_events_get(buf, key);
        return r == -ENODATA ? -EBADMSG : r;
}

/* Waits for cgroup.events to show `key` as `value`, woken by the kernel's notification. 0, or
 * -ETIME when `until` passed first. */
static int target_wait_event(Target *t, const char *key, int value, cgfs_usec_t until) {
        for (;;) {
                struct pollfd p;
                cgfs_usec_t n;
                int r = target_event(t, key);

                if (r < 0)
                        return r;
                if (r == value || t->events_fd < 0)
                        return 0;
                n = cg_now_usec(CLOCK_MONOTONIC);
                if (n >= until)
                        return -ETIME;
                p = (struct pollfd){.fd = t->events_fd, .events = POLLPRI};
                if (poll(&p, 1, (int) MIN((until - n + 999) / 1000, (cgfs_usec_t) INT_MAX)) < 0 &&
                    errno != EINTR)
                        return -errno;
        }
}

/* Holds the target processes, in itself or beneath: 1/0. As deep as collect_pids() reads; a
 * cgroup deeper than that counts as populated. */
static int target_populated(Target *t) {
        if (t->fd < 0)
                return 0;
        return cg_is_populated(t->fd, t->hierarchy->v2, CGROUP_DEPTH_MAX + 1);
}

static int targets_populated(Targets *ts) {
        int ret = 0;

        for (size_t i = 0; i < ts->n; i++) {
                int r = target_populated(&ts->items[i]);

                if (r > 0)
                        return 1;
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static Target *targets_v2(Targets *ts) {
        for (size_t i = 0; i < ts->n; i++)
                if (ts->items[i].hierarchy->v2 && ts->items[i].fd >= 0)
                        return &ts->items[i];
        return NULL;
}

/* Until nothing is left in any hierarchy: v2 woken by cgroup.events, v1 by re-reading
 * cgroup.procs with short, growing sleeps. -EBUSY when `until` passes first. */
static int targets_wait_empty(Targets *ts, cgfs_usec_t until) {
        Target *v2 = targets_v2(ts);
        cgfs_usec_t delay = USEC_PER_MSEC;

        if (v2) {
                int r = target_wait_event(v2, "populated", 0, until);
                if (r < 0)
                        return r == -ETIME ? -EBUSY : r;
        }
        for (;;) {
                int r = targets_populated(ts);

                if (r <= 0)
                        return r;
                if (!sleep_until(delay, until))
                        return -EBUSY;
                delay = MIN(delay * 2, POLL_DELAY_MAX_USEC);
        }
}

/* ---- killing ---------------------------------------------------------------------------------- */

/* Is the process in the pod cgroup (or beneath it) in one of the hierarchies the pod is in? From
 * /proc/<pid>/cgroup, whose paths are relative to the hierarchy roots the mounts show. */
static int pid_is_inside(const Targets *ts, pid_t pid) {
        _cleanup_free_ char *content = NULL;
        char proc[32];
        int r;

        (void) snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int) pid);
        r = cg_read_file_at(AT_FDCWD, proc, READ_MAX, &content);
        if (r == -ENOENT || r == -ESRCH) /* exited */
                return 0;
        if (r < 0)
                return r;

        for (char *line = content, *next; line && *line; line = next) {
                char *controllers, *path;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                controllers = strchr(line, ':');
                if (!controllers)
                        continue;
                *controllers++ = '\0';
                path = strchr(controllers, ':');
                if (!path)
                        continue;
                *path++ = '\0';
                if (path[0] != '/')
                        continue;
                path++;

                for (size_t i = 0; i < ts->n; i++) {
                        const Target *t = &ts->items[i];
                        size_t l;

                        if (t->fd < 0)
                                continue;
                        if (t->hierarchy->v2
                                    ? !(controllers[0] == '\0' && strcmp(line, "0") == 0)
                                    : !controllers_intersect(controllers, t->hierarchy->controllers))
                                continue;
                        l = strlen(t->path);
                        if (strncmp(path, t->path, l) == 0 && (path[l] == '\0' || path[l] == '/'))
                                return 1;
                }
        }
        return 0;
}

/* SIGKILL to `pid` if it is inside the pod, through a pidfd opened before the check: should the
 * pid have been recycled meanwhile, the signal goes to the exited process, i.e. nowhere. 1 if
 * signalled, 0 if gone or outside. Kernels without pidfds (< 5.3) get kill(); the cgroup is
 * frozen by then where the freezer is available, and a frozen process keeps its pid. */
static int kill_pid_if_inside(const Targets *ts, pid_t pid) {
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        int r;

        if (pidfd < 0) {
                if (errno == ESRCH)
                        return 0;
                if (errno != ENOSYS)
                        return -errno;
        }
        r = pid_is_inside(ts, pid);
        if (r <= 0)
                return r;
        if (pidfd >= 0 ? syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0
                       : kill(pid, SIGKILL) < 0)
                return errno == ESRCH ? 0 : -errno;
        return 1;
}

/* v1 freezer.state=FROZEN, or v2 cgroup.freeze=1 where cgroup.kill is missing, and wait a short
 * while for it: a frozen cgroup cannot fork, so its pid list is complete. Not frozen in time (a
 * process in D state) is no reason to stop: the kill goes on and the next round tries again. */
static void targets_freeze(Targets *ts, bool v2_has_kill_file, cgfs_usec_t until) {
        until = MIN(until, usec_add(cg_now_usec(CLOCK_MONOTONIC), FREEZE_WAIT_USEC));

        for (size_t i = 0; i < ts->n; i++) {
                Target *t = &ts->items[i];

                if (t->fd < 0 || t->frozen)
                        continue;
                if (t->freezer) {
                        if (write_at(t->fd, "freezer.state", "FROZEN") >= 0)
                                t->frozen = true;
                } else if (t->hierarchy->v2 && !v2_has_kill_file) {
                        if (write_at(t->fd, "cgroup.freeze", "1") >= 0)
                                t->frozen = true;
                }
        }
        for (size_t i = 0; i < ts->n; i++) {
                Target *t = &ts->items[i];
                cgfs_usec_t delay = 100;

                if (!t->frozen)
                        continue;
                if (t->hierarchy->v2) {
                        (void) target_wait_event(t, "frozen", 1, until);
                        continue;
                }
                for (;;) {
                        _cleanup_free_ char *state = NULL;

                        if (cg_read_file_at(t->fd, "freezer.state", READ_MAX, &state) < 0 ||
                            strncmp(state, "FROZEN", 6) == 0)
                                break;
                        if (!sleep_until(delay, until))
                                break;
                        delay = MIN(delay * 2, 10 * USEC_PER_MSEC);
                }
        }
}

static void targets_thaw(Targets *ts) {
        for (size_t i = 0; i < ts->n; i++)
                target_thaw(&ts->items[i]);
}

/* One round of the fallback: freeze, SIGKILL every pid found in any hierarchy that is still inside
 * the pod, thaw (a v1-frozen process dies only when thawed). Signalled pids go to `killed`. */
static int targets_kill_round(Targets *ts, bool v2_has_kill_file, cgfs_usec_t until, PidSet *killed) {
        _cleanup_(pid_set_done) PidSet pids = {};
        int ret = 0;

        targets_freeze(ts, v2_has_kill_file, until);
        for (size_t i = 0; i < ts->n; i++) {
                int r;

                if (ts->items[i].fd < 0)
                        continue;
                r = collect_pids(ts->items[i].fd, 0, &pids);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        pid_set_uniq(&pids);
        for (size_t i = 0; i < pids.n; i++) {
                int r = kill_pid_if_inside(ts, pids.items[i]);

                if (r > 0)
                        r = pid_set_add(killed, pids.items[i]);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        targets_thaw(ts);
        return ret;
}

/* v2 cgroup.kill: the kernel kills the whole subtree, forks in flight included. 1 if written, 0
 * if the kernel has no cgroup.kill (< 5.14). The pids it is about to kill are counted first. */
static int target_kill_file(Target *t, PidSet *killed) {
        _cleanup_(pid_set_done) PidSet pids = {};
        int r;

        r = collect_pids(t->fd, 0, &pids);
        if (r < 0)
                return r;
        r = write_at(t->fd, "cgroup.kill", "1");
        if (r == -ENOENT)
                return 0;
        if (r < 0 && r != -ENODEV) /* ENODEV: removed meanwhile, nothing left to kill */
                return r;
        for (size_t i = 0; i < pids.n; i++) {
                r = pid_set_add(killed, pids.items[i]);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* cgroup.kill on the pod in cgroup2, then a short wait for it to empty. 1 when it is empty; 0
 * without cgroup2 or its cgroup.kill, or when processes are left. */
static int targets_kill_file(Targets *ts, cgfs_usec_t until, PidSet *killed, bool *used_kill_file) {
        Target *v2 = targets_v2(ts);
        int r;

        if (!v2)
                return 0;
        r = target_kill_file(v2, killed);
        if (r <= 0)
                return r;
        *used_kill_file = true;
        r = target_wait_event(
                v2, "populated", 0, MIN(until, usec_add(cg_now_usec(CLOCK_MONOTONIC), KILL_SETTLE_USEC)));
        if (r == -ETIME)
                return 0;
        return r < 0 ? r : 1;
}

/* Kills until every hierarchy is empty, or `until` passes, or the rounds run out. 1 when verified
 * empty, 0 when processes may be left. */
static int targets_kill(Targets *ts, cgfs_usec_t until, PidSet *killed, bool *used_kill_file) {
        bool try_kill_file = true;
        int ret = 0;

        for (unsigned round = 0; round < KILL_ROUNDS_MAX; round++) {
                int r;

                /* Again every round: it also gets what was moved into the pod meanwhile. */
                if (try_kill_file) {
                        r = targets_kill_file(ts, until, killed, used_kill_file);
                        if (r < 0 && ret == 0)
                                ret = r;
                        try_kill_file = *used_kill_file;
                }

                /* Whatever cgroup.kill left (a pod only in v1 hierarchies, no cgroup.kill) the
                 * pid by pid way. */
                r = targets_populated(ts);
                if (r == 0)
                        return 1;
                if (round > 0 && cg_now_usec(CLOCK_MONOTONIC) >= until)
                        break;
                r = targets_kill_round(ts, *used_kill_file, until, killed);
                if (r < 0 && ret == 0)
                        ret = r;
                r = targets_wait_empty(
                        ts,
                        MIN(until,
                            usec_add(
                                    cg_now_usec(CLOCK_MONOTONIC),
                                    MIN((round + 1) * 10 * USEC_PER_MSEC, ROUND_WAIT_MAX_USEC))));
                if (r == 0)
                        return 1;
        }
        return ret < 0 ? ret : 0;
}

/* ---- removal ---------------------------------------------------------------------------------- */

static int rmdir_retry(int dfd, const char *name, unsigned tries, unsigned *n_removed) {
        cgfs_usec_t delay = USEC_PER_MSEC;

        for (unsigned i = 0;; i++) {
                if (unlinkat(dfd, name, AT_REMOVEDIR) >= 0) {
                        (*n_removed)++;
                        return 0;
                }
                if (cg_errno_is_gone(errno))
                        return 0;
                if (errno != EBUSY || i + 1 >= tries)
                        return -errno;
                sleep_usec(delay);
                delay *= 2;
        }
}

/* Removes every cgroup beneath `dfd`, children before their parents. */
static int remove_children(int dfd, unsigned depth, unsigned tries, unsigned *n_removed) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r, ret = 0;

        r = cg_opendir_at(dfd, ".", &d);
        if (r < 0)
                return cg_errno_is_gone(r) ? 0 : r;
        while ((r = next_child(d, depth, &de)) > 0) {
                _cleanup_close_ int fd = -EBADF;

                /* A leaf (a sandbox or container cgroup, the usual case) goes at once, without
                 * listing it; EBUSY means children (or tasks) and sends us down into it. */
                r = rmdir_retry(dirfd(d), de->d_name, 1, n_removed);
                if (r != -EBUSY) {
                        if (r < 0 && ret == 0)
                                ret = r;
                        continue;
                }
                fd = openat(dirfd(d), de->d_name, CG_OPEN_DIR_FLAGS);
                if (fd < 0) {
                        if (!cg_errno_is_gone(errno) && ret == 0)
                                ret = -errno;
                        continue;
                }
                r = remove_children(fd, depth + 1, tries, n_removed);
                if (r < 0 && ret == 0)
                        ret = r;
                r = rmdir_retry(dirfd(d), de->d_name, tries, n_removed);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        if (r < 0 && ret == 0)
                ret = r;
        return ret;
}

static int target_remove(Target *t, unsigned tries, unsigned *n_removed) {
        _cleanup_close_ int parent_fd = -EBADF;
        _cleanup_free_ char *parent = NULL;
        const char *slash, *name;
        int r;

        if (t->fd < 0)
                return 0;
        r = remove_children(t->fd, 0, tries, n_removed);

        slash = strrchr(t->path, '/');
        name = slash ? slash + 1 : t->path;
        if (slash) {
                parent = strndup(t->path, (size_t) (slash - t->path));
                if (!parent)
                        return -ENOMEM;
                parent_fd = openat(t->root_fd, parent, CG_OPEN_DIR_FLAGS);
                if (parent_fd < 0)
                        return cg_errno_is_gone(errno) ? r : -errno;
        }
        {
                int k = rmdir_retry(slash ? parent_fd : t->root_fd, name, tries, n_removed);
                return r < 0 ? r : k;
        }
}

/* Depth-first in every hierarchy. With `tries` 1 it stops at the first EBUSY. */
static int targets_remove(Targets *ts, unsigned tries, unsigned *n_removed) {
        int ret = 0;

        for (size_t i = 0; i < ts->n; i++) {
                int r = target_remove(&ts->items[i], tries, n_removed);

                if (r == -EBUSY && tries == 1)
                        return r;
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

/* ---- systemd ---------------------------------------------------------------------------------- */

/* The leaf slice of a systemd-driver pod ("kubepods-burstable-pod<uid_>.slice"), or NULL. */
static const char *pod_slice_name(const CgfsHierarchies *h, const CgfsPod *pod) {
        for (size_t i = 0; pod->paths && i < h->n; i++) {
                const char *p = pod->paths[i], *leaf;
                size_t l;

                if (!p)
                        continue;
                leaf = strrchr(p, '/');
                leaf = leaf ? leaf + 1 : p;
                l = strlen(leaf);
                if (l > strlen(".slice") && strcmp(leaf + l - strlen(".slice"), ".slice") == 0)
                        return leaf;
                return NULL;
        }
        return NULL;
}

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_NO_SUCH_UNIT "org.freedesktop.systemd1.NoSuchUnit"
#define SYSTEMD_POLL_USEC (20 * USEC_PER_MSEC) /* ActiveState while a stop job runs */

static int systemd_bus_open(sd_bus **ret) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_method_call_timeout(bus, SYSTEMD_CALL_TIMEOUT_USEC);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

/* StopUnit(slice, "replace") with a bounded call timeout. 1 if systemd took the job, 0 if it does
 * not know the unit. The job is not waited for here: the caller kills right after, instead of the
 * SIGTERM and TimeoutStopSec a stop job would give each scope, then waits for the job's end. */
static int systemd_stop_slice(sd_bus *bus, const char *slice) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(
                bus,
                SYSTEMD_DEST,
                SYSTEMD_PATH,
                SYSTEMD_MANAGER,
                "StopUnit",
                &error,
                NULL,
                "ss",
                slice,
                "replace");
        if (r < 0)
                return sd_bus_error_has_name(&error, SYSTEMD_NO_SUCH_UNIT) ? 0 : r;
        return 1;
}

/* Until systemd has the slice inactive or unloaded, or `until`: while its stop job runs the unit
 * is still active, and systemd creates an active unit's cgroup again when it re-realizes the tree
 * (a sibling scope going away does that) — removed now, the slice's directory would come back.
 * With its processes killed, that is a few milliseconds. 0, -ETIME, or a bus error. */
static int systemd_wait_inactive(sd_bus *bus, const char *slice, cgfs_usec_t until) {
        for (;;) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_free_ char *state = NULL;
                const char *object;
                int r;

                r = sd_bus_call_method(
                        bus,
                        SYSTEMD_DEST,
                        SYSTEMD_PATH,
                        SYSTEMD_MANAGER,
                        "GetUnit",
                        &error,
                        &reply,
                        "s",
                        slice);
                if (r < 0)
                        return sd_bus_error_has_name(&error, SYSTEMD_NO_SUCH_UNIT) ? 0 : r;
                r = sd_bus_message_read(reply, "o", &object);
                if (r < 0)
                        return r;
                r = sd_bus_get_property_string(
                        bus,
                        SYSTEMD_DEST,
                        object,
                        "org.freedesktop.systemd1.Unit",
                        "ActiveState",
                        &error,
                        &state);
                if (r < 0)
                        return r;
                if (streq(state, "inactive") || streq(state, "failed"))
                        return 0;
                if (!sleep_until(SYSTEMD_POLL_USEC, until))
                        return -ETIME;
        }
}

/* SetUnitProperties(slice, runtime, CPUWeight=1 or CPUShares=2): systemd owns a systemd-driver
 * pod's attributes and writes them again whenever it re-realizes the unit (daemon-reload, a sibling
 * unit started), so a bare cpu.weight write would be undone; it also enables the cpu controller on
 * the way down, which the file write cannot. 1 if systemd took it, 0 if it does not know the unit. */
static int systemd_reduce_slice_cpu(const char *slice, bool unified) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = systemd_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_call_method(
                bus,
                SYSTEMD_DEST,
                SYSTEMD_PATH,
                SYSTEMD_MANAGER,
                "SetUnitProperties",
                &error,
                NULL,
                "sba(sv)",
                slice,
                1,
                1,
                unified ? "CPUWeight" : "CPUShares",
                "t",
                (uint64_t) (unified ? 1 : 2));
        if (r < 0)
                return sd_bus_error_has_name(&error, SYSTEMD_NO_SUCH_UNIT) ? 0 : r;
        return 1;
}

/* ---- public ----------------------------------------------------------------------------------- */

int cgfs_pod_destroy(
        const CgfsHierarchies *h,
        const CgfsPod *pod,
        CgfsDriver driver,
        cgfs_usec_t timeout,
        CgfsDestroyStats *ret_stats) {
        _cleanup_(targets_done) Targets ts = {};
        _cleanup_(pid_set_done) PidSet killed = {};
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        CgfsDestroyStats stats = {};
        cgfs_usec_t until;
        const char *slice;
        bool done = false;
        int r;

        if (!h || !pod)
                return -EINVAL;
        until = usec_add(cg_now_usec(CLOCK_MONOTONIC), timeout);

        slice = pod_slice_name(h, pod);
        if (slice && (driver == CGFS_DRIVER_SYSTEMD || driver == CGFS_DRIVER_AUTO)) {
                r = systemd_bus_open(&bus);
                if (r >= 0)
                        r = systemd_stop_slice(bus, slice);
                if (r > 0)
                        stats.used_systemd = true;
                else
                        log_debug_errno(r, "systemd did not stop %s (%m), removing it directly", slice);
        }

        r = targets_open(h, pod, &ts);
        /* The common case first: cgroup.kill emptied the pod in cgroup2. A v1 cgroup refuses
         * rmdir (EBUSY) exactly while it holds tasks once its children are gone, so instead of
         * walking every v1 hierarchy for pids, the removal goes ahead without retries, and any
         * EBUSY falls back to the full way: kill pid by pid, wait until empty, remove. */
        if (r >= 0) {
                r = targets_kill_file(&ts, until, &killed, &stats.used_kill_file);
                if (r > 0 && stats.used_systemd) {
                        int k = systemd_wait_inactive(bus, slice, until);
                        if (k < 0)
                                log_debug_errno(
                                        k, "%s not stopped by systemd yet (%m), removing it anyway", slice);
                }
                if (r > 0) {
                        r = targets_remove(&ts, 1, &stats.n_removed);
                        done = r != -EBUSY;
                        if (!done)
                                r = 0;
                } else
                        r = 0;
        }
        if (r >= 0 && !done) {
                r = targets_kill(&ts, until, &killed, &stats.used_kill_file);
                if (r >= 0)
                        r = r > 0 ? 0 : targets_wait_empty(&ts, until);
                if (r >= 0 && stats.used_systemd)
                        (void) systemd_wait_inactive(bus, slice, until);
                if (r >= 0)
                        r = targets_remove(&ts, RMDIR_TRIES, &stats.n_removed);
        }

        pid_set_uniq(&killed);
        stats.n_killed = (unsigned) MIN(killed.n, (size_t) UINT_MAX);
        /* Filled on failure too: what was done before it failed is worth reporting. */
        if (ret_stats)
                *ret_stats = stats;
        return r;
}

int cgfs_pod_reduce_cpu(const CgfsHierarchies *h, const CgfsPod *pod, CgfsDriver driver) {
        const char *slice;
        int ret = 0;

        if (!h || !pod)
                return -EINVAL;
        slice = pod_slice_name(h, pod);
        if (slice && (driver == CGFS_DRIVER_SYSTEMD || driver == CGFS_DRIVER_AUTO)) {
                /* systemd puts the cpu controller on cgroup2 only when it is the sole hierarchy. */
                ret = systemd_reduce_slice_cpu(slice, h->n == 1 && h->items[0].v2);
                if (ret < 0)
                        log_debug_errno(
                                ret, "systemd did not set the CPU of %s (%m), writing it directly", slice);
                ret = 0;
        }
        /* The files too: without systemd, and for the window before systemd applies the property. */
        for (size_t i = 0; pod->paths && i < h->n; i++) {
                const CgfsHierarchy *x = &h->items[i];
                _cleanup_close_ int root_fd = -EBADF, fd = -EBADF;
                const char *path = pod->paths[i], *file, *value;
                int r;

                if (!path)
                        continue;
                /* As the kubelet: MinShares (2) on v1, its cpu.weight equivalent (1) on v2. */
                if (x->v2) {
                        file = "cpu.weight";
                        value = "1";
                } else if (cg_controllers_contain(x->controllers, "cpu", strlen("cpu"))) {
                        file = "cpu.shares";
                        value = "2";
                } else
                        continue;
                if (!cg_path_is_safe(path))
                        return -EINVAL;
                root_fd = open(x->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (root_fd >= 0)
                        fd = openat(root_fd, path, CG_OPEN_DIR_FLAGS);
                if (fd < 0) {
                        if (!cg_errno_is_gone(errno) && ret == 0)
                                ret = -errno;
                        continue;
                }
                r = write_at(fd, file, value);
                /* v2 without the cpu controller enabled for the pod has no cpu.weight. */
                if (r == -ENOENT && x->v2)
                        continue;
                if (r < 0 && !cg_errno_is_gone(r) && ret == 0)
                        ret = r;
        }
        return ret;
}

int cgfs_pod_is_populated(const CgfsHierarchies *h, const CgfsPod *pod) {
        _cleanup_(targets_done) Targets ts = {};
        int r;

        if (!h || !pod)
                return -EINVAL;
        r = targets_open(h, pod, &ts);
        if (r < 0)
                return r;
        return targets_populated(&ts);
}
