/* SPDX-License-Identifier: MIT */
#pragma once

/* What the benches share: failing with a cleanup, the spawner that measures a child's wall, CPU
 * and peak RSS by wait4(), medians, and the CRI set-up — host-network sandboxes of live pods,
 * exited containers made by a few worker processes, waiting for them, a settled runtime. Linked
 * into every tests/bench/bench-*.c (Makefile: BENCH_HELPERS). Messages start with the program's
 * name. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "cri/cri.h"
#include "util/macro.h"

#define BENCH_BUSYBOX_IMAGE "docker.io/library/busybox:1.35"
#define BENCH_MAX_RUNS 63

/* What a measured process cost, as the spawner reports it over its pipe. */
typedef struct BenchUsage {
        int status; /* wait status */
        double wall_ms;
        double user_ms;
        double sys_ms;
        long rss_kib;
} BenchUsage;

/* A live pod: a READY host-network sandbox in /<kubepods>/besteffort/pod<uid>, labelled as the
 * kubelet labels it. */
typedef struct BenchPod {
        char uid[37];
        char *name;
        char *cgroup_parent;
        const char *labels[7];
        CriPodSandboxConfig config;
        char *sandbox_id;
} BenchPod;

extern const char *bench_self;      /* argv[0], re-executed as the spawner */
extern const char *bench_endpoint;  /* $PODREAPER_TEST_CRI_ENDPOINT */
extern const char *bench_kubepods;  /* $PODREAPER_TEST_KUBEPODS */
extern void (*bench_cleanup)(void); /* bench_fail() runs it before exiting, unless in a worker */
extern BenchPod **bench_pods;       /* the sandboxes run and not removed yet, in order */
extern size_t bench_n_pods;

/* ---- failing ------------------------------------------------------------------------------------- */

/* Prints "<program>: <message>", runs bench_cleanup, removes bench_pods and exits 1; a worker
 * process just exits 1 (its parent cleans up). */
_printf_(1, 2) _Noreturn void bench_fail(const char *format, ...);
/* Fails with the call's status; releases it otherwise. */
void bench_check(int r, CriStatus *st, const char *what);
_printf_(1, 2) char *bench_asprintf(const char *format, ...);
/* A number in [min, max] for an option, else exits 2. */
unsigned bench_parse_count(const char *option, const char *value, unsigned min, unsigned max);
/* Reads $PODREAPER_TEST_CRI_ENDPOINT and $PODREAPER_TEST_KUBEPODS; exits 77 without them. */
void bench_runtime_env(void);

/* ---- figures ------------------------------------------------------------------------------------- */

double bench_now_ms(void);
double bench_tv_ms(struct timeval tv);
void bench_sleep_ms(long ms);
double bench_median(const double *v, unsigned n);
void bench_random_uuid(char ret[static 37]);
size_t bench_count_lines(const char *s);
/* The last non-empty line of s, without its newline. */
char *bench_last_line(const char *s);
const char *bench_exit_string(int status);
int bench_memfd_new(void);
char *bench_memfd_read(int fd);

/* ---- measured processes -------------------------------------------------------------------------- */

/* `BENCH --spawn ARGV...`: runs argv in a child of this fresh, small process and writes its
 * BenchUsage to fd 3. A child forked from the bench itself would start its ru_maxrss at the
 * bench's resident set. */
int bench_spawn_mode(char *argv[]);
/* fork() with stdio flushed first; fails on error. */
pid_t bench_fork(void);
/* SIGINT/SIGTERM end the measured process and make bench_check_interrupted() fail. */
void bench_catch_signals(void);
void bench_check_interrupted(void);
/* Runs argv through the spawner with stdout on out_fd and stderr on err_fd (< 0: ours); returns
 * what it cost and how it ended, the caller decides whether that was a failure. */
BenchUsage bench_measure(char *const argv[], int out_fd, int err_fd);
/* `PODREAPER COMMAND` on a node dir (kubelet/, pods-logs/, containers-logs/, state/ below it) and
 * the runtime of with-containerd.sh, with --require-kubelet=false, then `extra` (NULL-terminated,
 * may be NULL). Free it with strv_free(). */
char **bench_reaper_argv(
        const char *podreaper,
        const char *node_dir,
        const char *kubepods,
        const char *command,
        const char *const *extra);

/* ---- the runtime --------------------------------------------------------------------------------- */

CriClient *bench_connect(unsigned max_concurrent);
/* containerd's CPU time (from /proc/$CTD_PID/stat), -1 when unknown. */
double bench_runtime_cpu_ms(void);
/* Syncs, then waits (at most 10 s) until containerd is idle; returns the seconds it took. */
double bench_runtime_settle(void);

/* Runs a sandbox for a new BestEffort pod named `name` and registers it in bench_pods. */
BenchPod *bench_pod_run(CriClient *c, const char *namespace, const char *name);
/* Creates and starts a container in the pod: busybox running /bin/true, which exits at once,
 * labelled with the pod's labels, the container name and `extra` (at most 2 pairs; may be NULL). */
void bench_container_run(
        CriClient *c, const BenchPod *p, const char *name, uint32_t attempt, const char *const *extra);
/* Stops and removes the sandboxes (with their containers) as one batch each; reports failures. */
void bench_sandboxes_remove(CriClient *c, const char *const *ids, size_t n);
/* bench_sandboxes_remove() of every registered pod, on a connection of its own. */
void bench_pods_remove_all(void);

/* Calls job(c, i, userdata) for i in [0, n) in `workers` processes, each with a connection of its
 * own (worker w: i = w, w + workers, ...); fails if any of them failed. The CRI has no batch
 * create, and hundreds of serial create+start calls take minutes. */
void bench_in_workers(
        size_t n, unsigned workers, void (*job)(CriClient *c, size_t i, void *userdata), void *userdata);
/* Waits until the n containers the selector matches are all EXITED (fails when a different number
 * is listed, or after 2 minutes + 100 ms a container); returns their list. */
void bench_containers_wait_exited(
        CriClient *c, const char *const *selector, size_t n, CriContainerList *ret);
