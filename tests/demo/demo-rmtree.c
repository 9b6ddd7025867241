/* SPDX-License-Identifier: MIT */
/*
 * make demo (until the reaper arrives): a self-made orphaned pod dir full of the traps that made
 * `rm -rf /var/lib/kubelet/pods/<uid>` destroy live volume data — a tmpfs volume still mounted,
 * an outside directory bind-mounted into containers/, a symlink to /, a CSI vol_data.json — is
 * removed with mu_rm_tree. It prints what went, what was refused and why, and proves the mounted
 * data is intact. Everything happens in a private mount namespace under a temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mountutil/mountutil.h"
#include "util/macro.h"

#define UID "5f1b2c3d-0000-4a5b-9c8d-112233445566"

static int sh(const char *fmt, const char *arg) {
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, fmt, arg, arg, arg) < 0)
                return -ENOMEM;
        fflush(stdout);
        return system(cmd) == 0 ? 0 : -EIO;
}

/* The same orphaned pod dir each time: an outside "NFS export" bound into containers/ (same
 * filesystem, so st_dev cannot see it), a tmpfs volume still mounted, symlinks out, CSI leftovers. */
static int build_pod(const char *base, const char *uid) {
        _cleanup_free_ char *arg = NULL;
        if (asprintf(&arg, "%s %s", base, uid) < 0)
                return -ENOMEM;
        return sh(
                "set -e; set -- %s; p=$1/var/lib/kubelet/pods/$2; o=$1/nfs-export;"
                "mkdir -p $p/volumes/kubernetes.io~empty-dir/cache $p/volumes/kubernetes.io~csi/pvc-1/mount"
                " $p/containers/app $p/plugins/kubernetes.io~empty-dir/wrapped_cache $o;"
                "echo 'customer data' > $o/db.sqlite;"
                "mount -t tmpfs tmpfs $p/volumes/kubernetes.io~empty-dir/cache;"
                "echo 'live volume data' > $p/volumes/kubernetes.io~empty-dir/cache/important;"
                "mount --bind $o $p/containers/app;"
                "echo '{\"driverName\":\"csi.example\"}' > $p/volumes/kubernetes.io~csi/pvc-1/vol_data.json;"
                "echo log > $p/containers/app-restart.log; ln -s / $p/containers/root-link;"
                "ln -s $o $p/plugins/export-link; printf 'etc' > $p/etc-hosts",
                arg);
}

/* Prints (print) or unmounts, deepest first, every mount at or beneath path. */
static void mounts_beneath(const char *path, bool print) {
        _cleanup_mu_table_ MuMountTable *t = NULL;
        _cleanup_free_ const MuMount **m = NULL;
        size_t n = 0;

        if (mu_table_load(NULL, &t) < 0 || mu_table_mounts_beneath(t, path, &m, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (print)
                        printf("   %s  (%s, %s)\n",
                               m[i]->target + strlen(path) + 1,
                               m[i]->fstype,
                               m[i]->source);
                else
                        (void) umount2(m[i]->target, MNT_DETACH);
}

int main(void) {
        char base[] = "/tmp/podreaper-demo-XXXXXX";
        _cleanup_free_ char *pods = NULL, *pod = NULL;
        MuRmReport report;
        int r;

        if (geteuid() != 0) {
                fprintf(stderr, "demo: needs root (mount namespace, tmpfs, bind mounts)\n");
                return 1;
        }
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                perror("demo: private mount namespace");
                return 1;
        }
        if (!mkdtemp(base) || asprintf(&pods, "%s/var/lib/kubelet/pods", base) < 0 ||
            asprintf(&pod, "%s/" UID, pods) < 0)
                return 1;

        if (build_pod(base, UID) < 0) {
                fprintf(stderr, "demo: could not build the demo pod dir\n");
                return 1;
        }

        printf("== An orphaned pod dir with traps in it (%s):\n", pod);
        sh("cd %s && find . | sort | sed 's/^/   /'", pod);
        printf("\n== Mounted beneath it:\n");
        mounts_beneath(pod, true);

        printf("\n== mu_rm_tree(pods_fd, \"" UID "\", MU_RM_ROOT):\n");
        _cleanup_close_ int pods_fd = open(pods, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = mu_rm_tree(pods_fd, UID, &(MuRmOptions){.flags = MU_RM_ROOT}, &report);
        printf("   removed %llu files and %llu directories\n",
               (unsigned long long) report.n_files,
               (unsigned long long) report.n_dirs);
        for (size_t i = 0; i < report.n_refusals; i++)
                printf("   refused %s: %s\n",
                       report.refusals[i].path,
                       mu_rm_refusal_reason(report.refusals[i].error));
        printf("   result: %s\n", r < 0 ? strerror(-r) : "everything removed");
        mu_rm_report_done(&report);

        printf("\n== What is left, and the data behind the mounts:\n");
        sh("cd %s && find . | sort | sed 's/^/   /'", pod);
        int intact = sh("grep -q 'live volume data' %s/var/lib/kubelet/pods/" UID
                        "/volumes/kubernetes.io~empty-dir/cache/important && grep -q 'customer data' "
                        "%s/nfs-export/db.sqlite",
                        base) == 0;
        printf("   mounted volume data intact: %s\n", intact ? "yes" : "NO");

        /* The same layout, the way the cron scripts in the incident reports did it. */
        mounts_beneath(pod, false);
        sh("rm -rf %s", pod);
        build_pod(base, UID);
        printf("\n== Compare: rm -rf --one-file-system on the same layout:\n");
        sh("rm -rf --one-file-system %s 2>&1 | sed 's/^/   /'", pod);
        int rm_destroyed = sh("test ! -e %s/nfs-export/db.sqlite", base) == 0;
        printf("   customer data in the bind-mounted export: %s\n",
               rm_destroyed ? "DESTROYED (same device, so --one-file-system went in)" : "intact");

        mounts_beneath(base, false);
        sh("rm -rf --one-file-system %s", base);
        return intact && r == -EXDEV ? 0 : 1;
}
