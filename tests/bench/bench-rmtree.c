/* SPDX-License-Identifier: MIT */
/*
 * mu_rm_tree against `rm -rf --one-file-system`, side by side in one run.
 *
 * A pod-like tree (2,000 dirs x 50 files = 100,000 files) is built, synced and — where allowed —
 * evicted from the caches, then removed by each tool in its own process, alternating, RUNS times,
 * on a private tmpfs and on the disk (a directory under /var/tmp). Each removal runs in a fresh
 * process (this binary re-executed with --remove), so the peak RSS compared is the tool's own.
 * A 10,000-deep chain measures how memory grows with depth.
 *
 * Usage: bench-rmtree [--runs N] [--dirs N] [--files N] [--disk-dir DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mountutil/mountutil.h"
#include "util/macro.h"

typedef struct Sample {
        double ms;
        long rss_kib;
} Sample;

static void die(const char *what) {
        fprintf(stderr, "bench-rmtree: %s: %s\n", what, strerror(errno));
        exit(1);
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Child mode: remove one tree with mu_rm_tree and exit with 0 only if all of it went. */
static int remove_mode(const char *path, bool parallel) {
        MuRmOptions o = {.flags = MU_RM_ROOT | (parallel ? MU_RM_PARALLEL : 0)};
        MuRmReport report;
        int r = mu_rm_tree(AT_FDCWD, path, &o, &report);
        if (r < 0)
                fprintf(stderr, "mu_rm_tree %s: %s (%zu refusals)\n", path, strerror(-r), report.n_refusals);
        mu_rm_report_done(&report);
        return r < 0;
}

static void build_wide(const char *root, int n_dirs, int n_files) {
        if (mkdir(root, 0755) < 0)
                die(root);
        _cleanup_close_ int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                die(root);
        for (int d = 0; d < n_dirs; d++) {
                char name[32];
                snprintf(name, sizeof(name), "containers-%04d", d);
                if (mkdirat(root_fd, name, 0755) < 0)
                        die("mkdirat");
                _cleanup_close_ int dfd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        die("openat");
                for (int f = 0; f < n_files; f++) {
                        char fname[32];
                        snprintf(fname, sizeof(fname), "log.%02d", f);
                        int fd = openat(dfd, fname, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                        if (fd < 0 || write(fd, "x\n", 2) != 2)
                                die("create file");
                        close(fd);
                }
        }
        syncfs(root_fd);
}

static void build_deep(const char *root, int depth) {
        if (mkdir(root, 0755) < 0)
                die(root);
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < depth && fd >= 0; i++) {
                if (mkdirat(fd, "d", 0755) < 0)
                        die("mkdirat deep");
                int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(fd);
                fd = next;
        }
        if (fd < 0)
                die("open deep");
        syncfs(fd);
        close(fd);
}

static void drop_caches(void) {
        int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void) !write(fd, "3\n", 2);
                close(fd);
        }
}

static Sample run_child(char *const argv[]) {
        struct rusage ru;
        int status;
        double start = now_ms();
        pid_t pid = fork();

        if (pid < 0)
                die("fork");
        if (pid == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
        if (wait4(pid, &status, 0, &ru) < 0)
                die("wait4");
        Sample s = {.ms = now_ms() - start, .rss_kib = ru.ru_maxrss};
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench-rmtree: %s failed (status %d)\n", argv[0], status);
                exit(1);
        }
        return s;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static Sample median(Sample *s, int n) {
        double ms[64];
        long rss = 0;
        for (int i = 0; i < n; i++) {
                ms[i] = s[i].ms;
                rss = MAX(rss, s[i].rss_kib);
        }
        qsort(ms, n, sizeof(double), cmp_double);
        return (Sample){.ms = ms[n / 2], .rss_kib = rss};
}

static const char *self;

enum { TOOL_MU, TOOL_MU_PARALLEL, TOOL_RM, N_TOOLS };
static const char *tool_names[N_TOOLS] = {"mu_rm_tree", "mu_rm_tree parallel", "rm -rf --one-file-system"};

static Sample remove_with(int tool, const char *path) {
        char *mu[] = {(char *) self, (char *) "--remove", (char *) path, NULL};
        char *mup[] = {(char *) self, (char *) "--remove-parallel", (char *) path, NULL};
        char *rm[] = {(char *) "/bin/rm", (char *) "-rf", (char *) "--one-file-system", (char *) path, NULL};
        Sample s = run_child(tool == TOOL_MU ? mu : tool == TOOL_MU_PARALLEL ? mup : rm);
        if (access(path, F_OK) == 0) {
                fprintf(stderr, "bench-rmtree: %s left %s behind\n", tool_names[tool], path);
                exit(1);
        }
        return s;
}

static void bench_fs(const char *label, const char *base, int runs, int n_dirs, int n_files) {
        Sample s[N_TOOLS][64];
        char path[4096];

        snprintf(path, sizeof(path), "%s/pod-%d", base, getpid());
        for (int i = 0; i < runs; i++)
                for (int t = 0; t < N_TOOLS; t++) {
                        /* Rotate the order so no tool always runs right after a build. */
                        int tool = (t + i) % N_TOOLS;
                        build_wide(path, n_dirs, n_files);
                        drop_caches();
                        s[tool][i] = remove_with(tool, path);
                }

        Sample m[N_TOOLS];
        for (int t = 0; t < N_TOOLS; t++) {
                m[t] = median(s[t], runs);
                printf("%-6s %-26s median %8.1f ms   peak RSS %6ld KiB   runs:",
                       label,
                       tool_names[t],
                       m[t].ms,
                       m[t].rss_kib);
                for (int i = 0; i < runs; i++)
                        printf(" %.0f", s[t][i].ms);
                printf("\n");
        }
        printf("%-6s ratio rm -rf / mu_rm_tree: %.2fx sequential, %.2fx parallel (>1 = mu_rm_tree faster)\n",
               label,
               m[TOOL_RM].ms / m[TOOL_MU].ms,
               m[TOOL_RM].ms / m[TOOL_MU_PARALLEL].ms);
}

static void bench_deep(const char *label, const char *base) {
        char path[4096];
        long rss[2][2];
        int depths[2] = {10, 10000};

        snprintf(path, sizeof(path), "%s/deep-%d", base, getpid());
        for (int d = 0; d < 2; d++)
                for (int tool = 0; tool < 2; tool++) {
                        build_deep(path, depths[d]);
                        rss[d][tool] = remove_with(tool == 0 ? TOOL_MU : TOOL_RM, path).rss_kib;
                }
        printf("%-6s deep chain peak RSS: mu_rm_tree %ld KiB at depth 10, %ld KiB at depth 10000 "
               "(%.0f bytes/level); rm -rf %ld -> %ld KiB\n",
               label,
               rss[0][0],
               rss[1][0],
               (rss[1][0] - rss[0][0]) * 1024.0 / (depths[1] - depths[0]),
               rss[0][1],
               rss[1][1]);
}

int main(int argc, char *argv[]) {
        int runs = 3, n_dirs = 2000, n_files = 50;
        const char *disk_dir = "/var/tmp";

        self = argv[0];
        if (argc == 3 && strcmp(argv[1], "--remove") == 0)
                return remove_mode(argv[2], false);
        if (argc == 3 && strcmp(argv[1], "--remove-parallel") == 0)
                return remove_mode(argv[2], true);
        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--runs") == 0)
                        runs = MIN(MAX(atoi(argv[i + 1]), 1), 63);
                else if (strcmp(argv[i], "--dirs") == 0)
                        n_dirs = atoi(argv[i + 1]);
                else if (strcmp(argv[i], "--files") == 0)
                        n_files = atoi(argv[i + 1]);
                else if (strcmp(argv[i], "--disk-dir") == 0)
                        disk_dir = argv[i + 1];
        }

        /* A private mount namespace: the tmpfs below vanishes with us, whatever happens. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("private mount namespace (run as root)");
        char tmpfs_dir[] = "/tmp/bench-rmtree-XXXXXX";
        if (!mkdtemp(tmpfs_dir))
                die("mkdtemp");
        if (mount("tmpfs", tmpfs_dir, "tmpfs", 0, "size=2g") < 0)
                die("mount tmpfs");

        printf("rm_tree bench: %d dirs x %d files = %d files, %d runs each, caches dropped before each "
               "run\n",
               n_dirs,
               n_files,
               n_dirs * n_files,
               runs);
        bench_fs("tmpfs", tmpfs_dir, runs, n_dirs, n_files);
        bench_fs("disk", disk_dir, runs, n_dirs, n_files);
        bench_deep("tmpfs", tmpfs_dir);

        umount2(tmpfs_dir, MNT_DETACH);
        rmdir(tmpfs_dir);
        return 0;
}
