/* SPDX-License-Identifier: MIT */
/* How long one pass's mount-table snapshot costs on a full node: 110 pods (the kubelet's default
 * max-pods) and 5,000 mounts, loaded and asked once per pod dir. Target: < 30 ms.
 *
 *   bench-mounttable          a synthetic mountinfo file
 *   bench-mounttable --real   also real mounts in a private mount namespace (root only) */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare(), CLONE_NEWNS */
#endif

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mountutil/mountutil.h"
#include "util/macro.h"

#define N_PODS 110
#define N_MOUNTS 5000
#define N_RUNS 5
#define TARGET_MS 30.0

typedef struct Pods {
        char *dir[N_PODS];       /* the pod dirs queried */
        size_t expected[N_PODS]; /* mounts at or beneath each */
} Pods;

static void pods_done(Pods *p) {
        for (size_t i = 0; i < N_PODS; i++)
                free(p->dir[i]);
}

static void pod_uid(size_t i, char *buf, size_t size) {
        (void) snprintf(
                buf,
                size,
                "%08zx-%04zx-4%03zx-8%03zx-%012zx",
                0x5f0c6a2eu + i * 7919,
                (i * 31) & 0xffff,
                (i * 17) & 0xfff,
                (i * 13) & 0xfff,
                (size_t) 0x2d4b6c8e0a11u + i);
}

static double now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

/* One pass as the reaper does it: load, ask once per pod dir, free. */
static int run_once(const char *path, const Pods *pods, size_t *ret_n_mounts, double *ret_ms) {
        _cleanup_mu_table_ MuMountTable *t = NULL;
        double start = now_ms();
        size_t n_mounts;
        int r;

        r = mu_table_load(path, &t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < N_PODS; i++) {
                _cleanup_free_ const MuMount **list = NULL;
                size_t n = 0;

                r = mu_table_mounts_beneath(t, pods->dir[i], &list, &n);
                if (r < 0)
                        return r;
                if (n != pods->expected[i]) {
                        fprintf(stderr,
                                "bench-mounttable: %s: %zu mounts beneath, expected %zu\n",
                                pods->dir[i],
                                n,
                                pods->expected[i]);
                        return -EBADMSG;
                }
        }
        n_mounts = mu_table_size(t);
        t = mu_table_free(t);

        *ret_ms = now_ms() - start;
        *ret_n_mounts = n_mounts;
        return 0;
}

/* The kernel's share of a load: producing the text of mountinfo, which no parser can speed up. */
static int read_only_median(const char *path, double *ret_ms) {
        _cleanup_free_ char *buf = NULL;
        double ms[N_RUNS];
        const size_t size = 1 << 20;

        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < N_RUNS; i++) {
                _cleanup_close_ int fd = -EBADF;
                double start = now_ms();
                ssize_t n;

                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                while ((n = read(fd, buf, size)) > 0)
                        ;
                if (n < 0)
                        return negative_errno();
                ms[i] = now_ms() - start;
        }
        qsort(ms, N_RUNS, sizeof(ms[0]), compare_double);
        *ret_ms = ms[N_RUNS / 2];
        return 0;
}

static int bench(const char *label, const char *path, const Pods *pods) {
        double ms[N_RUNS], read_ms = 0;
        size_t n_mounts = 0;
        int r;

        for (size_t i = 0; i < N_RUNS; i++) {
                r = run_once(path, pods, &n_mounts, &ms[i]);
                if (r < 0) {
                        fprintf(stderr,
                                "bench-mounttable: %s: %s\n",
                                path ?: "/proc/self/mountinfo",
                                strerror(-r));
                        return r;
                }
        }
        qsort(ms, N_RUNS, sizeof(ms[0]), compare_double);
        r = read_only_median(path ?: "/proc/self/mountinfo", &read_ms);
        if (r < 0)
                return r;
        printf("%s: %zu mounts, load+%d queries median %.1f ms (min %.1f, max %.1f; "
               "reading the file alone %.1f ms; target < %.0f ms)\n",
               label,
               n_mounts,
               N_PODS,
               ms[N_RUNS / 2],
               ms[0],
               ms[N_RUNS - 1],
               read_ms,
               TARGET_MS);
        return 0;
}

/* ---- synthetic ------------------------------------------------------------------------------ */

static void unlink_and_freep(char **path) {
        if (*path) {
                (void) unlink(*path);
                free(*path);
        }
}

static const char base_mounts[] =
        "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw,discard\n"
        "23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
        "24 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "25 22 0:5 / /dev rw,nosuid shared:8 - devtmpfs devtmpfs "
        "rw,size=8035456k,nr_inodes=2008864,mode=755\n"
        "26 25 0:23 / /dev/shm rw,nosuid,nodev shared:9 - tmpfs tmpfs rw\n"
        "27 25 0:24 / /dev/pts rw,nosuid,noexec,relatime shared:10 - devpts devpts "
        "rw,gid=5,mode=620,ptmxmode=000\n"
        "28 22 0:25 / /run rw,nosuid,nodev shared:11 - tmpfs tmpfs "
        "rw,size=1607092k,nr_inodes=819200,mode=755\n"
        "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
        "rw,nsdelegate\n"
        "40 22 259:3 / /var/lib/kubelet rw,relatime shared:20 - xfs /dev/nvme1n1p1 "
        "rw,attr2,inode64,noquota\n"
        "41 22 259:3 /containerd /var/lib/containerd rw,relatime shared:20 - xfs /dev/nvme1n1p1 rw,attr2\n";
#define N_BASE_MOUNTS 10

/* One mount of a kubelet node, by kind: pod volumes (most of them), a CSI staging mount, and the
 * container runtime's mounts, which are not under any pod dir. 9 kinds and 110 pods share no
 * factor, so every pod gets every kind. */
static int write_mount(FILE *f, unsigned id, size_t k, const char *uid, size_t *ret_in_pod) {
        bool in_pod = true;
        int r = 0;

        switch (k % 9) {
        case 0:
                r = fprintf(
                        f,
                        "%u 40 0:%u / /var/lib/kubelet/pods/%s/volumes/kubernetes.io~projected/"
                        "kube-api-access-%05zx rw,relatime shared:%u - tmpfs tmpfs rw,size=3940980k\n",
                        id,
                        id,
                        uid,
                        k,
                        id);
                break;
        case 1:
                r =
                        fprintf(f,
                                "%u 40 0:%u / /var/lib/kubelet/pods/%s/volumes/kubernetes.io~secret/tls-%zu "
                                "rw,relatime shared:%u - tmpfs tmpfs rw,size=3940980k\n",
                                id,
                                id,
                                uid,
                                k,
                                id);
                break;
        case 2:
                r =
                        fprintf(f,
                                "%u 40 259:7 / /var/lib/kubelet/pods/%s/volumes/kubernetes.io~csi/"
                                "pvc-%s-%zu/mount rw,relatime shared:700 - ext4 /dev/nvme2n1 rw\n",
                                id,
                                uid,
                                uid,
                                k);
                break;
        case 3:
                r = fprintf(
                        f,
                        "%u 40 259:7 /data/%zu /var/lib/kubelet/pods/%s/volume-subpaths/data/app/%zu "
                        "rw,relatime shared:700 - ext4 /dev/nvme2n1 rw\n",
                        id,
                        k,
                        uid,
                        k);
                break;
        case 4:
                r = fprintf(
                        f,
                        "%u 40 0:%u / /var/lib/kubelet/pods/%s/volumes/kubernetes.io~nfs/shared-%zu "
                        "rw,relatime shared:%u - nfs4 10.0.0.5:/exports/shared rw,vers=4.1,hard,proto=tcp,"
                        "timeo=600,retrans=2,sec=sys,clientaddr=10.0.1.17,local_lock=none,addr=10.0.0.5\n",
                        id,
                        id,
                        uid,
                        k,
                        id);
                break;
        case 5:
                r = fprintf(
                        f,
                        "%u 40 0:%u / /var/lib/kubelet/pods/%s/volumes/kubernetes.io~empty-dir/cache-%zu "
                        "rw,relatime shared:%u - tmpfs tmpfs rw,size=1048576k\n",
                        id,
                        id,
                        uid,
                        k,
                        id);
                break;
        case 6:
                in_pod = false;
                r =
                        fprintf(f,
                                "%u 40 259:7 / /var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/"
                                "%064zx/globalmount rw,relatime shared:700 - ext4 /dev/nvme2n1 rw\n",
                                id,
                                k);
                break;
        case 7:
                in_pod = false;
                r = fprintf(
                        f,
                        "%u 28 0:%u / /run/containerd/io.containerd.runtime.v2.task/k8s.io/%064zx/rootfs "
                        "rw,relatime shared:%u - overlay overlay rw,lowerdir=/var/lib/containerd/"
                        "io.containerd.snapshotter.v1.overlayfs/snapshots/%zu/fs,upperdir=/var/lib/"
                        "containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/%zu/fs,workdir=/var/"
                        "lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/%zu/work\n",
                        id,
                        id,
                        k,
                        id,
                        k,
                        k + 1,
                        k + 1);
                break;
        case 8:
                in_pod = false;
                r = fprintf(
                        f,
                        "%u 28 0:%u / /run/containerd/io.containerd.grpc.v1.cri/sandboxes/%064zx/shm "
                        "rw,nosuid,nodev,noexec,relatime shared:%u - tmpfs shm rw,size=65536k\n",
                        id,
                        id,
                        k,
                        id);
                break;
        }
        if (r < 0)
                return -EIO;
        *ret_in_pod = in_pod;
        return 0;
}

static int write_synthetic(char **ret_path, Pods *pods) {
        _cleanup_(unlink_and_freep) char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *tmp = getenv("TMPDIR") ?: "/tmp";
        int r;

        if (asprintf(&path, "%s/bench-mounttable.XXXXXX", tmp) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0) {
                free(path);
                path = NULL;
                return negative_errno();
        }
        f = fdopen(fd, "we");
        if (!f)
                return negative_errno();
        TAKE_FD(fd);

        if (fputs(base_mounts, f) < 0)
                return -EIO;
        for (size_t k = 0; k < N_MOUNTS - N_BASE_MOUNTS; k++) {
                char uid[64];
                size_t pod = k % N_PODS, in_pod;

                pod_uid(pod, uid, sizeof(uid));
                r = write_mount(f, (unsigned) (1000 + k), k, uid, &in_pod);
                if (r < 0)
                        return r;
                pods->expected[pod] += in_pod;
        }
        if (fflush(f) != 0)
                return negative_errno();

        for (size_t i = 0; i < N_PODS; i++) {
                char uid[64];

                pod_uid(i, uid, sizeof(uid));
                if (asprintf(&pods->dir[i], "/var/lib/kubelet/pods/%s", uid) < 0) {
                        pods->dir[i] = NULL;
                        return -ENOMEM;
                }
        }

        *ret_path = TAKE_PTR(path);
        return 0;
}

/* ---- real mounts ---------------------------------------------------------------------------- */

/* The whole tree goes with its top mount; the directory under it was left empty. */
static void real_dir_cleanup(char **top) {
        if (!*top)
                return;
        (void) umount2(*top, MNT_DETACH);
        (void) rmdir(*top);
        free(*top);
}

static int mkdir_parents(char *path) {
        for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                        *s = '/';
                        return negative_errno();
                }
                *s = '/';
        }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

static int bench_real(void) {
        _cleanup_(real_dir_cleanup) char *top = NULL;
        _cleanup_(pods_done) Pods pods = {};
        _cleanup_free_ char *template = NULL;
        int r;

        if (geteuid() != 0) {
                printf("mounttable --real: skipped, needs root\n");
                return 0;
        }
        /* Our own mount namespace, with propagation cut: nothing we mount is seen outside, and the
         * whole experiment vanishes with this process even if the cleanup does not run. */
        if (unshare(CLONE_NEWNS) < 0) {
                if (errno == EPERM) {
                        printf("mounttable --real: skipped, cannot create a mount namespace: %m\n");
                        return 0;
                }
                return negative_errno();
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return negative_errno();

        if (asprintf(&template, "%s/bench-mounttable-real.XXXXXX", getenv("TMPDIR") ?: "/tmp") < 0) {
                template = NULL;
                return -ENOMEM;
        }
        if (!mkdtemp(template))
                return negative_errno();
        top = TAKE_PTR(template);
        if (mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=0755") < 0)
                return negative_errno();

        for (size_t i = 0; i < N_PODS; i++) {
                char uid[64];

                pod_uid(i, uid, sizeof(uid));
                if (asprintf(&pods.dir[i], "%s/pods/%s", top, uid) < 0) {
                        pods.dir[i] = NULL;
                        return -ENOMEM;
                }
        }

        /* Half tmpfs (secrets, projected tokens), half bind mounts (subpaths). */
        for (size_t k = 0; k < N_MOUNTS; k++) {
                _cleanup_free_ char *dir = NULL;
                size_t pod = k % N_PODS;
                bool tmpfs = k % 2 == 0;

                if (asprintf(
                            &dir,
                            "%s/%s/%zu",
                            pods.dir[pod],
                            tmpfs ? "volumes/kubernetes.io~secret" : "volume-subpaths/data/app",
                            k) < 0)
                        return -ENOMEM;
                r = mkdir_parents(dir);
                if (r < 0)
                        return r;
                if (tmpfs)
                        r = mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755");
                else
                        r = mount(dir, dir, NULL, MS_BIND, NULL);
                if (r < 0) {
                        r = negative_errno();
                        fprintf(stderr, "bench-mounttable: mount on %s: %s\n", dir, strerror(-r));
                        return r;
                }
                pods.expected[pod]++;
        }

        return bench("mounttable --real", NULL, &pods);
}

int main(int argc, char **argv) {
        _cleanup_(unlink_and_freep) char *path = NULL;
        _cleanup_(pods_done) Pods pods = {};
        bool real = false;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--real") == 0)
                        real = true;
                else {
                        fprintf(stderr, "Usage: %s [--real]\n", argv[0]);
                        return EXIT_FAILURE;
                }
        }

        r = write_synthetic(&path, &pods);
        if (r < 0) {
                fprintf(stderr, "bench-mounttable: writing the synthetic mountinfo: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        r = bench("mounttable", path, &pods);
        if (r < 0)
                return EXIT_FAILURE;

        if (real) {
                r = bench_real();
                if (r < 0) {
                        fprintf(stderr, "bench-mounttable --real: %s\n", strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        return EXIT_SUCCESS;
}
