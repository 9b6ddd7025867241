/* SPDX-License-Identifier: MIT */
/* Golden-file tests of the mount-table snapshot: the fixtures in tests/data/mountinfo/ are
 * mountinfo files as the kernel prints them; every query asserts the exact list and its order.
 * Run from the repository root. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mountutil/mountutil.h"
#include "util/macro.h"

#define FIXTURE_DIR "tests/data/mountinfo/"

#define PODS "/var/lib/kubelet/pods"
#define POD_A PODS "/5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0a11"
#define POD_B PODS "/9b1d4e7f-0c2a-4f6e-8d3b-7a5c1e9f2b44"
#define POD_C PODS "/c3e81f5a-6d2b-4a7c-b9e0-1f3d5a7c9e66"
#define POD_D PODS "/e7a0b2c4-8f1d-4e3a-a6c5-0d2f4b6e8a99"
#define PVC "pvc-2f6a8c0e-4b1d-4e7a-9c3f-5d7b9e1a3c55"
#define EBS_GLOBALMOUNT \
        "/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/" \
        "3c0e5a7b9d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a3c5b7d9f1e3a/globalmount"
#define TOKEN PODS "/p/volumes/kubernetes.io~secret/token"

typedef struct Expected {
        int id;
        const char *target;
} Expected;

#define load_fixture(name) load_path(FIXTURE_DIR name)

static MuMountTable *load_path(const char *path) {
        MuMountTable *t = NULL;

        assert_int_equal(mu_table_load(path, &t), 0);
        assert_non_null(t);
        return t;
}

/* "id target" per line, so that a mismatch prints both whole lists. */
static char *format_expected(const Expected *expected, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%d %s\n", expected[i].id, expected[i].target);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static char *format_mounts(const MuMount *const *list, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%d %s\n", list[i]->id, list[i]->target);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void
assert_beneath(const MuMountTable *t, const char *path, const Expected *expected, size_t n_expected) {
        _cleanup_free_ const MuMount **list = NULL;
        _cleanup_free_ char *want = NULL, *got = NULL;
        size_t n = SIZE_MAX;
        int r;

        r = mu_table_mounts_beneath(t, path, &list, &n);
        assert_int_equal(r, (int) n_expected);
        assert_int_equal(n, n_expected);
        if (n_expected == 0)
                assert_null(list);

        want = format_expected(expected, n_expected);
        got = format_mounts(list, n);
        assert_string_equal(got, want);

        assert_int_equal(mu_table_has_mounts_beneath(t, path), n_expected > 0);
}

#define ASSERT_BENEATH(t, path, ...) \
        do { \
                static const Expected _e_[] = {__VA_ARGS__}; \
                assert_beneath(t, path, _e_, ELEMENTSOF(_e_)); \
        } while (0)
#define ASSERT_NOTHING_BENEATH(t, path) assert_beneath(t, path, NULL, 0)

/* The one mount with this id, found through a query for its own target. */
static const MuMount *find_mount(const MuMountTable *t, const char *target, int id) {
        _cleanup_free_ const MuMount **list = NULL;
        size_t n = 0;

        assert_true(mu_table_mounts_beneath(t, target, &list, &n) > 0);
        for (size_t i = 0; i < n; i++)
                if (list[i]->id == id)
                        return list[i];
        fail_msg("mount %d not found at '%s'", id, target);
        return NULL;
}

/* ---- a kubelet node ------------------------------------------------------------------------- */

static void test_kubelet_node_loads_every_line(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");

        assert_int_equal(mu_table_size(t), 23);
}

static void test_kubelet_pod_secret_and_projected(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");

        ASSERT_BENEATH(
                t,
                POD_A,
                {1201, POD_A "/volumes/kubernetes.io~projected/kube-api-access-7xk2p"},
                {1202, POD_A "/volumes/kubernetes.io~secret/tls-certs"});
}

static void test_kubelet_pod_csi_and_subpaths(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");
        const MuMount *m;

        ASSERT_BENEATH(
                t,
                POD_B,
                {1212, POD_B "/volume-subpaths/data/app/0"},
                {1213, POD_B "/volume-subpaths/logs/sidecar/1"},
                {1211, POD_B "/volumes/kubernetes.io~csi/" PVC "/mount"},
                {1210, POD_B "/volumes/kubernetes.io~projected/kube-api-access-q8wzd"});

        /* A subpath is a bind of a directory inside the volume: its root is not "/". */
        m = find_mount(t, POD_B "/volume-subpaths/data/app/0", 1212);
        assert_string_equal(m->root, "/config");
        assert_string_equal(m->source, "/dev/nvme2n1");
        assert_string_equal(m->fstype, "ext4");
        assert_int_equal(m->parent_id, 40);

        m = find_mount(t, POD_B "/volumes/kubernetes.io~csi/" PVC "/mount", 1211);
        assert_string_equal(m->root, "/");
}

static void test_kubelet_pod_nfs(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");
        const MuMount *m;

        ASSERT_BENEATH(
                t,
                POD_C,
                {1220, POD_C "/volumes/kubernetes.io~nfs/shared-data"},
                {1221, POD_C "/volumes/kubernetes.io~projected/kube-api-access-m2n4v"});

        m = find_mount(t, POD_C "/volumes/kubernetes.io~nfs/shared-data", 1220);
        assert_string_equal(m->source, "10.0.0.5:/exports/shared");
        assert_string_equal(m->fstype, "nfs4");
}

static void test_kubelet_pod_without_mounts(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");

        ASSERT_NOTHING_BENEATH(t, POD_D);
        ASSERT_NOTHING_BENEATH(t, POD_A "/volumes/kubernetes.io~configmap");
}

static void test_kubelet_pods_dir(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");

        ASSERT_BENEATH(
                t,
                PODS,
                {1212, POD_B "/volume-subpaths/data/app/0"},
                {1213, POD_B "/volume-subpaths/logs/sidecar/1"},
                {1211, POD_B "/volumes/kubernetes.io~csi/" PVC "/mount"},
                {1201, POD_A "/volumes/kubernetes.io~projected/kube-api-access-7xk2p"},
                {1202, POD_A "/volumes/kubernetes.io~secret/tls-certs"},
                {1210, POD_B "/volumes/kubernetes.io~projected/kube-api-access-q8wzd"},
                {1220, POD_C "/volumes/kubernetes.io~nfs/shared-data"},
                {1221, POD_C "/volumes/kubernetes.io~projected/kube-api-access-m2n4v"});
}

static void test_kubelet_root_dir_includes_itself(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");

        ASSERT_BENEATH(
                t,
                "/var/lib/kubelet",
                {1300, EBS_GLOBALMOUNT},
                {1212, POD_B "/volume-subpaths/data/app/0"},
                {1213, POD_B "/volume-subpaths/logs/sidecar/1"},
                {1211, POD_B "/volumes/kubernetes.io~csi/" PVC "/mount"},
                {1201, POD_A "/volumes/kubernetes.io~projected/kube-api-access-7xk2p"},
                {1202, POD_A "/volumes/kubernetes.io~secret/tls-certs"},
                {1210, POD_B "/volumes/kubernetes.io~projected/kube-api-access-q8wzd"},
                {1220, POD_C "/volumes/kubernetes.io~nfs/shared-data"},
                {1221, POD_C "/volumes/kubernetes.io~projected/kube-api-access-m2n4v"},
                {40, "/var/lib/kubelet"});
}

static void test_kubelet_run_containerd(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");

        ASSERT_BENEATH(
                t,
                "/run",
                {1500,
                 "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/"
                 "4e1f7a9c2b5d8e0f3a6c9b2e5d8f1a4c7b0e3d6f9a2c5b8e1d4f7a0c3b6e9d2f/shm"},
                {1501,
                 "/run/containerd/io.containerd.runtime.v2.task/k8s.io/"
                 "8c3b6e9d2f5a8c1b4e7d0a3f6c9b2e5d8a1f4c7b0e3d6a9f2c5b8e1d4a7f0c3b6e/rootfs"},
                {1502, "/run/netns/cni-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"},
                {28, "/run"});
}

static void test_kubelet_exact_mount_point(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");

        ASSERT_BENEATH(
                t,
                POD_B "/volumes/kubernetes.io~csi/" PVC "/mount",
                {1211, POD_B "/volumes/kubernetes.io~csi/" PVC "/mount"});
        ASSERT_NOTHING_BENEATH(t, POD_B "/volumes/kubernetes.io~csi/" PVC "/mount/data");
}

static void test_query_slashes_are_normalised(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");
        static const char *const variants[] = {
                POD_A "/",
                POD_A "///",
                "//var/lib//kubelet///pods/5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0a11",
                "//var/lib//kubelet///pods/5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0a11//",
        };

        for (size_t i = 0; i < ELEMENTSOF(variants); i++)
                ASSERT_BENEATH(
                        t,
                        variants[i],
                        {1201, POD_A "/volumes/kubernetes.io~projected/kube-api-access-7xk2p"},
                        {1202, POD_A "/volumes/kubernetes.io~secret/tls-certs"});
}

/* ---- path boundaries ------------------------------------------------------------------------ */

static void test_boundary_pod_uid_prefix(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("boundary.mountinfo");

        /* "ab-x", "ab.d" and "ab\nx" sort between "ab" and "ab/"; "abc" after; none is beneath. */
        ASSERT_BENEATH(t, PODS "/ab", {10, PODS "/ab/volumes/kubernetes.io~secret/s"}, {14, PODS "/ab"});
        ASSERT_BENEATH(t, PODS "/abc", {11, PODS "/abc/volumes/kubernetes.io~secret/s"});
        ASSERT_BENEATH(t, PODS "/ab-x", {12, PODS "/ab-x/volumes/kubernetes.io~secret/s"});
        ASSERT_BENEATH(t, PODS "/ab.d", {13, PODS "/ab.d"});
        ASSERT_BENEATH(t, PODS "/a", {15, PODS "/a/volumes/kubernetes.io~secret/s"});
        ASSERT_BENEATH(t, PODS "/ab\nx", {16, PODS "/ab\nx"});
        ASSERT_NOTHING_BENEATH(t, PODS "/abcd");
        ASSERT_NOTHING_BENEATH(t, PODS "/b");
        ASSERT_NOTHING_BENEATH(t, PODS "/ab/volumes/kubernetes.io~secret/s/deeper");
}

static void test_boundary_pods_dir(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("boundary.mountinfo");

        /* Not "pods-old/ab" nor "podsab". */
        ASSERT_BENEATH(
                t,
                PODS,
                {15, PODS "/a/volumes/kubernetes.io~secret/s"},
                {12, PODS "/ab-x/volumes/kubernetes.io~secret/s"},
                {10, PODS "/ab/volumes/kubernetes.io~secret/s"},
                {11, PODS "/abc/volumes/kubernetes.io~secret/s"},
                {14, PODS "/ab"},
                {16, PODS "/ab\nx"},
                {13, PODS "/ab.d"});
        ASSERT_BENEATH(t, "/var/lib/kubelet/pods-old", {17, "/var/lib/kubelet/pods-old/ab"});
}

/* ---- escapes -------------------------------------------------------------------------------- */

static void test_escaped_space_newline_tab_backslash(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("escapes.mountinfo");
        const MuMount *m;

        ASSERT_BENEATH(t, PODS "/sp ace", {20, PODS "/sp ace/volumes/kubernetes.io~secret/a b"});
        ASSERT_NOTHING_BENEATH(t, PODS "/sp\\040ace");
        ASSERT_NOTHING_BENEATH(t, PODS "/sp");

        /* "new\nline" sorts before "new/" and must not leak into "new". */
        ASSERT_BENEATH(t, PODS "/new", {22, PODS "/new"});
        ASSERT_BENEATH(t, PODS "/new\nline", {21, PODS "/new\nline"});

        m = find_mount(t, PODS "/tab\tand\\backslash", 23);
        assert_string_equal(m->target, PODS "/tab\tand\\backslash");
        assert_string_equal(m->source, ""); /* an empty source field */
        assert_string_equal(m->fstype, "fuse.sshfs");

        m = find_mount(t, "/mnt/bind", 24);
        assert_string_equal(m->root, "/dir with space");
}

/* The kernel prints clean targets; a hand-written table is cleaned the same way as a query. */
static void test_table_targets_are_normalised(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("unnormalised-target.mountinfo");

        ASSERT_BENEATH(t, PODS "/x", {11, PODS "/x/volumes/kubernetes.io~secret/s"}, {10, PODS "/x"});
}

/* ---- stacked and bind mounts, "/" ------------------------------------------------------------ */

static void test_overmount_returns_both_top_first(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("overmount.mountinfo");
        const MuMount *top;

        ASSERT_BENEATH(t, TOKEN, {43, TOKEN "/sub"}, {41, TOKEN}, {40, TOKEN});

        top = find_mount(t, TOKEN, 41);
        assert_int_equal(top->parent_id, 40);
}

static void test_bind_mount_with_subdir_root(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("overmount.mountinfo");
        const MuMount *m;

        ASSERT_BENEATH(t, PODS "/q", {42, PODS "/q/volume-subpaths/shared/app/0"});
        m = find_mount(t, PODS "/q/volume-subpaths/shared/app/0", 42);
        assert_string_equal(m->root, PODS "/p/volumes/kubernetes.io~empty-dir/shared");
        assert_string_equal(m->source, "/dev/sda1");
        assert_int_equal(m->parent_id, 1);

        /* The bind's source directory is not a mount point itself. */
        ASSERT_NOTHING_BENEATH(t, PODS "/p/volumes/kubernetes.io~empty-dir");
}

static void test_root_query_matches_everything(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("overmount.mountinfo");
        static const char *const variants[] = {"/", "//", "///"};

        for (size_t i = 0; i < ELEMENTSOF(variants); i++)
                ASSERT_BENEATH(
                        t,
                        variants[i],
                        {43, TOKEN "/sub"},
                        {42, PODS "/q/volume-subpaths/shared/app/0"},
                        {41, TOKEN},
                        {40, TOKEN},
                        {2, "/proc"},
                        {3, "/run"},
                        {1, "/"});
        assert_int_equal(mu_table_size(t), 7);
}

static void test_count_only(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("overmount.mountinfo");
        size_t n = 0;

        assert_int_equal(mu_table_mounts_beneath(t, TOKEN, NULL, NULL), 3);
        assert_int_equal(mu_table_mounts_beneath(t, TOKEN, NULL, &n), 3);
        assert_int_equal(n, 3);
        assert_int_equal(mu_table_mounts_beneath(t, "/nothing/here", NULL, NULL), 0);
}

/* ---- errors --------------------------------------------------------------------------------- */

static void assert_load_fails(const char *path, int error) {
        MuMountTable *sentinel = (MuMountTable *) (uintptr_t) 0xdeadbeef, *t = sentinel;
        int r;

        r = mu_table_load(path, &t);
        if (r != error)
                fail_msg(
                        "%s: expected %s, got %d (%s)", path, strerror(-error), r, strerror(r < 0 ? -r : 0));
        assert_ptr_equal(t, sentinel); /* ret untouched on failure */
}

static void test_error_missing_file(void **state _unused_) {
        assert_load_fails(FIXTURE_DIR "does-not-exist.mountinfo", -ENOENT);
}

/* libmount skips lines it cannot parse and reports success; the snapshot treats any bad line as
 * a failed load, since a skipped line may be a mount. */
static void test_error_malformed(void **state _unused_) {
        static const char *const fixtures[] = {
                FIXTURE_DIR "malformed-middle.mountinfo",       /* libmount alone: skips it, returns 0 */
                FIXTURE_DIR "malformed-no-separator.mountinfo", /* no " - " between the halves */
                FIXTURE_DIR "malformed-first-line.mountinfo",   /* libmount guesses fstab from line 1 */
                FIXTURE_DIR "malformed-truncated.mountinfo",    /* libmount ignores errcb on the last line */
                FIXTURE_DIR "fstab.mountinfo",                  /* parses, but as fstab entries */
                FIXTURE_DIR "relative-target.mountinfo",
                FIXTURE_DIR "dotdot-target.mountinfo",
        };

        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                assert_load_fails(fixtures[i], -EINVAL);
        }
}

static void test_error_empty(void **state _unused_) {
        assert_load_fails(FIXTURE_DIR "empty.mountinfo", -ENODATA);
}

static void test_no_final_newline_is_fine(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("no-final-newline.mountinfo");

        assert_int_equal(mu_table_size(t), 2);
        ASSERT_BENEATH(t, PODS "/a", {10, PODS "/a/volumes/kubernetes.io~secret/s"});
}

static void test_error_bad_query(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = load_fixture("kubelet-node.mountinfo");
        static const char *const bad[] = {
                "",
                "var/lib/kubelet/pods",
                "./var/lib/kubelet",
                "/var/lib/kubelet/pods/..",
                PODS "/../pods",
                POD_A "/.",
                "/./var",
                "/..",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const MuMount **sentinel = (const MuMount **) (uintptr_t) 0xdeadbeef, **list = sentinel;
                size_t n = 4242;
                int r;

                r = mu_table_mounts_beneath(t, bad[i], &list, &n);
                if (r != -EINVAL)
                        fail_msg("'%s': expected -EINVAL, got %d", bad[i], r);
                assert_ptr_equal(list, sentinel);
                assert_int_equal(n, 4242);
                assert_int_equal(mu_table_has_mounts_beneath(t, bad[i]), -EINVAL);
        }

        /* Dots inside a name are just names. */
        ASSERT_NOTHING_BENEATH(t, "/var/lib/kubelet/..pods");
        ASSERT_NOTHING_BENEATH(t, "/var/lib/kubelet/.pods.");
}

static void test_free_null(void **state _unused_) {
        assert_null(mu_table_free(NULL));
        assert_int_equal(mu_table_size(NULL), 0);
}

/* ---- the real table ------------------------------------------------------------------------- */

static void test_proc_self_mountinfo(void **state _unused_) {
        _cleanup_mu_table_ MuMountTable *t = NULL, *t2 = NULL;
        _cleanup_free_ const MuMount **list = NULL;
        size_t n = 0;
        bool found = false;

        assert_int_equal(mu_table_load(NULL, &t), 0);
        assert_true(mu_table_size(t) > 0);
        assert_int_equal(mu_table_has_mounts_beneath(t, "/"), 1);
        assert_int_equal(mu_table_mounts_beneath(t, "/", NULL, NULL), (int) mu_table_size(t));

        assert_true(mu_table_mounts_beneath(t, "/proc", &list, &n) > 0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i]->target, "/proc") == 0 && strcmp(list[i]->fstype, "proc") == 0)
                        found = true;
        assert_true(found);
        /* Deepest first: /proc itself, the shallowest, is last. */
        assert_string_equal(list[n - 1]->target, "/proc");

        assert_int_equal(mu_table_load("/proc/self/mountinfo", &t2), 0);
        assert_int_equal(mu_table_has_mounts_beneath(t2, "/proc"), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kubelet_node_loads_every_line),
                cmocka_unit_test(test_kubelet_pod_secret_and_projected),
                cmocka_unit_test(test_kubelet_pod_csi_and_subpaths),
                cmocka_unit_test(test_kubelet_pod_nfs),
                cmocka_unit_test(test_kubelet_pod_without_mounts),
                cmocka_unit_test(test_kubelet_pods_dir),
                cmocka_unit_test(test_kubelet_root_dir_includes_itself),
                cmocka_unit_test(test_kubelet_run_containerd),
                cmocka_unit_test(test_kubelet_exact_mount_point),
                cmocka_unit_test(test_query_slashes_are_normalised),
                cmocka_unit_test(test_boundary_pod_uid_prefix),
                cmocka_unit_test(test_boundary_pods_dir),
                cmocka_unit_test(test_escaped_space_newline_tab_backslash),
                cmocka_unit_test(test_table_targets_are_normalised),
                cmocka_unit_test(test_overmount_returns_both_top_first),
                cmocka_unit_test(test_bind_mount_with_subdir_root),
                cmocka_unit_test(test_root_query_matches_everything),
                cmocka_unit_test(test_count_only),
                cmocka_unit_test(test_error_missing_file),
                cmocka_unit_test(test_error_malformed),
                cmocka_unit_test(test_error_empty),
                cmocka_unit_test(test_no_final_newline_is_fine),
                cmocka_unit_test(test_error_bad_query),
                cmocka_unit_test(test_free_null),
                cmocka_unit_test(test_proc_self_mountinfo),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
