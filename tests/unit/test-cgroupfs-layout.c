/* SPDX-License-Identifier: MIT */
/* The cgroupfs module without a kernel: pod cgroup names for both drivers, hierarchies from
 * mountinfo fixtures, /proc/cgroups fixtures (tests/data/cgroup/), and enumeration on a fake
 * hierarchy of plain directories and files in a temporary directory. Run from the repository
 * root. */

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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroupfs/cgroupfs.h"
#include "util/macro.h"

#define FIXTURE_DIR "tests/data/cgroup/"

#define U1 "5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0a11"
#define U1_ "5f0c6a2e_3b7d_4c1e_9a8f_2d4b6c8e0a11"
#define U1_UPPER "5F0C6A2E-3B7D-4C1E-9A8F-2D4B6C8E0A11"
#define U1_UPPER_ "5F0C6A2E_3B7D_4C1E_9A8F_2D4B6C8E0A11"
#define U2 "9b1d4e7f-0c2a-4f6e-8d3b-7a5c1e9f2b44"
#define U2_ "9b1d4e7f_0c2a_4f6e_8d3b_7a5c1e9f2b44"
#define U3 "c3e81f5a-6d2b-4a7c-b9e0-1f3d5a7c9e66"
#define U4 "e7a0b2c4-8f1d-4e3a-a6c5-0d2f4b6e8a99"
#define U4_ "e7a0b2c4_8f1d_4e3a_a6c5_0d2f4b6e8a99"
#define H1 "b2f9d5c8e1a34d7f9c0e6a2b8d4f1c37" /* a static pod: the manifest's hash */
#define CONTAINER "8c3b6e9d2f5a8c1b4e7d0a3f6c9b2e5d8a1f4c7b0e3d6a9f2c5b8e1d4a7f0c3b6e"
#define SANDBOX "4e1f7a9c2b5d8e0f3a6c9b2e5d8f1a4c7b0e3d6f9a2c5b8e1d4f7a0c3b6e9d2f"

#define G CGFS_QOS_GUARANTEED
#define BU CGFS_QOS_BURSTABLE
#define BE CGFS_QOS_BESTEFFORT
#define CGFS CGFS_DRIVER_CGROUPFS
#define SYSD CGFS_DRIVER_SYSTEMD

/* ---- the name parser ----------------------------------------------------------------------- */

typedef struct NameCase {
        const char *name;
        CgfsDriver driver;
        const char *kubepods;
        CgfsQos qos;
        const char *uid; /* NULL: must not parse */
} NameCase;

static const NameCase name_cases[] = {
        /* cgroupfs: the same "pod<uid>" in every QoS directory */
        {"pod" U1, CGFS, "kubepods", G, U1},
        {"pod" U1, CGFS, "kubepods", BU, U1},
        {"pod" U1, CGFS, "kubepods", BE, U1},
        {"pod" H1, CGFS, "kubepods", G, H1},
        {"pod" H1, CGFS, "kubepods", BE, H1},
        {"pod" U1, CGFS, "custom/kubepods", BU, U1},
        {"pod" U2, CGFS, "kp-test-1", G, U2},
        {"pod", CGFS, "kubepods", G, NULL},
        {"podnot-a-uid", CGFS, "kubepods", G, NULL},
        {"pod" U1_, CGFS, "kubepods", G, NULL},
        {"pod" U1_UPPER, CGFS, "kubepods", G, NULL},
        {"pod5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0A11", CGFS, "kubepods", G, NULL},
        {"pod" U1 "x", CGFS, "kubepods", G, NULL},
        {"pod" U1 "/", CGFS, "kubepods", G, NULL},
        {"pod" U1 ".slice", CGFS, "kubepods", G, NULL},
        {"Pod" U1, CGFS, "kubepods", G, NULL},
        {" pod" U1, CGFS, "kubepods", G, NULL},
        {U1, CGFS, "kubepods", G, NULL},
        {"pod5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0a1", CGFS, "kubepods", G, NULL},   /* 35 characters */
        {"pod5f0c6a2e3-b7d-4c1e-9a8f-2d4b6c8e0a11", CGFS, "kubepods", G, NULL},  /* dash misplaced */
        {"pod5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0a11-", CGFS, "kubepods", G, NULL}, /* 37 */
        {"podb2f9d5c8e1a34d7f9c0e6a2b8d4f1c3", CGFS, "kubepods", G, NULL},       /* 31 hex */
        {"podb2f9d5c8e1a34d7f9c0e6a2b8d4f1c37a", CGFS, "kubepods", G, NULL},     /* 33 hex */
        {"podb2f9d5c8e1a34d7f9c0e6a2b8d4f1c3g", CGFS, "kubepods", G, NULL},      /* not hex */
        {"podB2F9D5C8E1A34D7F9C0E6A2B8D4F1C37", CGFS, "kubepods", G, NULL},
        {"kubepods-pod" U1_ ".slice", CGFS, "kubepods", G, NULL},
        {"burstable", CGFS, "kubepods", G, NULL},
        {"", CGFS, "kubepods", G, NULL},
        {CONTAINER, CGFS, "kubepods", G, NULL},

        /* systemd: "<kubepods>[-<qos>]-pod<uid_>.slice" */
        {"kubepods-pod" U1_ ".slice", SYSD, "kubepods", G, U1},
        {"kubepods-burstable-pod" U1_ ".slice", SYSD, "kubepods", BU, U1},
        {"kubepods-besteffort-pod" U1_ ".slice", SYSD, "kubepods", BE, U1},
        {"kubepods-pod" H1 ".slice", SYSD, "kubepods", G, H1},
        {"kubepods-besteffort-pod" H1 ".slice", SYSD, "kubepods", BE, H1},
        {"kp-pod" U2_ ".slice", SYSD, "kp", G, U2},
        {"kp-burstable-pod" U2_ ".slice", SYSD, "kp", BU, U2},
        /* the QoS class is part of the name: no other class matches */
        {"kubepods-burstable-pod" U1_ ".slice", SYSD, "kubepods", G, NULL},
        {"kubepods-burstable-pod" U1_ ".slice", SYSD, "kubepods", BE, NULL},
        {"kubepods-pod" U1_ ".slice", SYSD, "kubepods", BU, NULL},
        {"kubepods-besteffort-pod" U1_ ".slice", SYSD, "kubepods", BU, NULL},
        {"kubepods-guaranteed-pod" U1_ ".slice", SYSD, "kubepods", G, NULL},
        /* '-' is systemd's hierarchy separator: never inside the uid */
        {"kubepods-pod" U1 ".slice", SYSD, "kubepods", G, NULL},
        {"kubepods-burstable-pod5f0c6a2e-3b7d_4c1e_9a8f_2d4b6c8e0a11.slice", SYSD, "kubepods", BU, NULL},
        {"kubepods-pod" U1_UPPER_ ".slice", SYSD, "kubepods", G, NULL},
        {"kubepods-pod" U1_ ".slice.bak", SYSD, "kubepods", G, NULL},
        {"kubepods-pod" U1_ ".slicex", SYSD, "kubepods", G, NULL},
        {"kubepods-pod" U1_ "_.slice", SYSD, "kubepods", G, NULL},
        {"kubepods-pod" U1_, SYSD, "kubepods", G, NULL},
        {"kubepods-pod.slice", SYSD, "kubepods", G, NULL},
        {"kubepods-pod-" U1_ ".slice", SYSD, "kubepods", G, NULL},
        {"kubepods--pod" U1_ ".slice", SYSD, "kubepods", G, NULL},
        {"kubepods.slice", SYSD, "kubepods", G, NULL},
        {"kubepods-burstable.slice", SYSD, "kubepods", BU, NULL},
        {"pod" U1, SYSD, "kubepods", G, NULL},
        {"cri-containerd-" CONTAINER ".scope", SYSD, "kubepods", G, NULL},
        /* one kubepods name a prefix of another */
        {"kubepods-pod" U1_ ".slice", SYSD, "kube", G, NULL},
        {"kubepods2-pod" U1_ ".slice", SYSD, "kubepods", G, NULL},
        {"kubepods-pod" U1_ ".slice", SYSD, "kp", G, NULL},
        {"kp-pod" U2_ ".slice", SYSD, "kubepods", G, NULL},
};

static void test_parse_pod_name_table(void **state _unused_) {
        size_t failures = 0;

        for (size_t i = 0; i < ELEMENTSOF(name_cases); i++) {
                const NameCase *c = &name_cases[i];
                char uid[CGFS_UID_MAX + 1] = "untouched";
                int r;

                r = cgfs_parse_pod_name(c->name, c->driver, c->kubepods, c->qos, uid);
                if (r != (c->uid ? 1 : 0) || (c->uid && strcmp(uid, c->uid) != 0) ||
                    (!c->uid && strcmp(uid, "untouched") != 0)) {
                        print_error(
                                "row %zu: \"%s\" (%s, %s, %s): got %d \"%s\", want %s\n",
                                i,
                                c->name,
                                cgfs_driver_to_string(c->driver),
                                c->kubepods,
                                cgfs_qos_to_string(c->qos),
                                r,
                                uid,
                                c->uid ?: "no match");
                        failures++;
                }
                /* ret_uid is optional */
                assert_int_equal(
                        cgfs_parse_pod_name(c->name, c->driver, c->kubepods, c->qos, NULL), c->uid ? 1 : 0);
        }
        assert_true(ELEMENTSOF(name_cases) >= 30);
        assert_int_equal(failures, 0);
}

static void test_parse_pod_name_bad_arguments(void **state _unused_) {
        char uid[CGFS_UID_MAX + 1];

        assert_int_equal(cgfs_parse_pod_name("pod" U1, CGFS_DRIVER_AUTO, "kubepods", G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("pod" U1, (CgfsDriver) 7, "kubepods", G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("pod" U1, CGFS, "kubepods", _CGFS_QOS_MAX, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("pod" U1, CGFS, NULL, G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("pod" U1, CGFS, "", G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("pod" U1, CGFS, "../kubepods", G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("pod" U1, CGFS, "kubepods/", G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("pod" U1, CGFS, "/kubepods", G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("pod" U1, CGFS, "a//b", G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name("a/b-pod" U1_ ".slice", SYSD, "a/b", G, uid), -EINVAL);
        assert_int_equal(cgfs_parse_pod_name(NULL, CGFS, "kubepods", G, uid), 0);
}

/* ---- paths ------------------------------------------------------------------------------------ */

typedef struct PathCase {
        CgfsDriver driver;
        const char *kubepods;
        CgfsQos qos;
        const char *uid;
        const char *path;
} PathCase;

static const PathCase path_cases[] = {
        {CGFS, "kubepods", G, U1, "kubepods/pod" U1},
        {CGFS, "kubepods", BU, U1, "kubepods/burstable/pod" U1},
        {CGFS, "kubepods", BE, U1, "kubepods/besteffort/pod" U1},
        {CGFS, "kubepods", BE, H1, "kubepods/besteffort/pod" H1},
        {CGFS, "custom/kubepods", BU, U2, "custom/kubepods/burstable/pod" U2},
        {SYSD, "kubepods", G, U1, "kubepods.slice/kubepods-pod" U1_ ".slice"},
        {SYSD,
         "kubepods",
         BU,
         U1,
         "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" U1_ ".slice"},
        {SYSD,
         "kubepods",
         BE,
         U1,
         "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" U1_ ".slice"},
        {SYSD, "kubepods", G, H1, "kubepods.slice/kubepods-pod" H1 ".slice"},
        {SYSD, "kp", BU, U2, "kp.slice/kp-burstable.slice/kp-burstable-pod" U2_ ".slice"},
};

static void test_pod_path(void **state _unused_) {
        for (size_t i = 0; i < ELEMENTSOF(path_cases); i++) {
                const PathCase *c = &path_cases[i];
                _cleanup_free_ char *path = NULL;
                char uid[CGFS_UID_MAX + 1];
                const char *base;

                assert_int_equal(cgfs_pod_path(c->driver, c->kubepods, c->qos, c->uid, &path), 0);
                assert_string_equal(path, c->path);

                /* The last component is what the name parser takes back. */
                base = strrchr(path, '/') + 1;
                assert_int_equal(cgfs_parse_pod_name(base, c->driver, c->kubepods, c->qos, uid), 1);
                assert_string_equal(uid, c->uid);
        }
}

static void test_pod_path_rejects_bad_uid(void **state _unused_) {
        static const char *const bad[] = {
                "",
                "..",
                "../../etc",
                U1_,
                U1_UPPER,
                U1 "/..",
                "pod" U1,
                "b2f9d5c8e1a34d7f9c0e6a2b8d4f1c3",
        };
        char *path = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(cgfs_pod_path(CGFS, "kubepods", BU, bad[i], &path), -EINVAL);
                assert_int_equal(cgfs_pod_path(SYSD, "kubepods", BU, bad[i], &path), -EINVAL);
        }
        assert_int_equal(cgfs_pod_path(CGFS, "kubepods", BU, NULL, &path), -EINVAL);
        assert_int_equal(cgfs_pod_path(CGFS_DRIVER_AUTO, "kubepods", BU, U1, &path), -EINVAL);
        assert_int_equal(cgfs_pod_path(CGFS, "kubepods", _CGFS_QOS_MAX, U1, &path), -EINVAL);
        assert_int_equal(cgfs_pod_path(SYSD, "custom/kubepods", BU, U1, &path), -EINVAL);
        assert_int_equal(cgfs_pod_path(CGFS, "..", BU, U1, &path), -EINVAL);
        assert_null(path);
}

/* ---- driver and QoS strings ------------------------------------------------------------------ */

static void test_driver_strings(void **state _unused_) {
        CgfsDriver d = (CgfsDriver) 42;

        assert_string_equal(cgfs_driver_to_string(CGFS_DRIVER_AUTO), "auto");
        assert_string_equal(cgfs_driver_to_string(CGFS_DRIVER_CGROUPFS), "cgroupfs");
        assert_string_equal(cgfs_driver_to_string(CGFS_DRIVER_SYSTEMD), "systemd");
        assert_null(cgfs_driver_to_string((CgfsDriver) 3));
        assert_null(cgfs_driver_to_string((CgfsDriver) -1));

        assert_int_equal(cgfs_driver_from_string("auto", &d), 0);
        assert_int_equal(d, CGFS_DRIVER_AUTO);
        assert_int_equal(cgfs_driver_from_string("cgroupfs", &d), 0);
        assert_int_equal(d, CGFS_DRIVER_CGROUPFS);
        assert_int_equal(cgfs_driver_from_string("systemd", &d), 0);
        assert_int_equal(d, CGFS_DRIVER_SYSTEMD);

        d = (CgfsDriver) 42;
        assert_int_equal(cgfs_driver_from_string("Systemd", &d), -EINVAL);
        assert_int_equal(cgfs_driver_from_string("systemd ", &d), -EINVAL);
        assert_int_equal(cgfs_driver_from_string("cgroup", &d), -EINVAL);
        assert_int_equal(cgfs_driver_from_string("", &d), -EINVAL);
        assert_int_equal(cgfs_driver_from_string(NULL, &d), -EINVAL);
        assert_int_equal(d, 42); /* untouched on failure */

        assert_string_equal(cgfs_qos_to_string(CGFS_QOS_GUARANTEED), "guaranteed");
        assert_string_equal(cgfs_qos_to_string(CGFS_QOS_BURSTABLE), "burstable");
        assert_string_equal(cgfs_qos_to_string(CGFS_QOS_BESTEFFORT), "besteffort");
        assert_null(cgfs_qos_to_string(_CGFS_QOS_MAX));
}

/* ---- hierarchies ------------------------------------------------------------------------------ */

typedef struct ExpectedHierarchy {
        const char *path;
        const char *controllers;
        bool v2;
} ExpectedHierarchy;

static void assert_hierarchies(const CgfsHierarchies *h, const ExpectedHierarchy *want, size_t n) {
        for (size_t i = 0; i < MIN(h->n, n); i++)
                if (strcmp(h->items[i].path, want[i].path) != 0 ||
                    strcmp(h->items[i].controllers, want[i].controllers) != 0 ||
                    h->items[i].v2 != want[i].v2)
                        print_error(
                                "hierarchy %zu: got %s [%s]%s, want %s [%s]%s\n",
                                i,
                                h->items[i].path,
                                h->items[i].controllers,
                                h->items[i].v2 ? " v2" : "",
                                want[i].path,
                                want[i].controllers,
                                want[i].v2 ? " v2" : "");
        assert_int_equal(h->n, n);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(h->items[i].path, want[i].path);
                assert_string_equal(h->items[i].controllers, want[i].controllers);
                assert_int_equal(h->items[i].v2, want[i].v2);
        }
}

static void hierarchies_donep(CgfsHierarchies *h) {
        cgfs_hierarchies_done(h);
}
#define _cleanup_hierarchies_ _cleanup_(hierarchies_donep)

static const ExpectedHierarchy this_machine[] = {
        {"/sys/fs/cgroup/cpu", "cpu", false},
        {"/sys/fs/cgroup/cpuacct", "cpuacct", false},
        {"/sys/fs/cgroup/cpuset", "cpuset", false},
        {"/sys/fs/cgroup/memory", "memory", false},
        {"/sys/fs/cgroup/devices", "devices", false},
        {"/sys/fs/cgroup/freezer", "freezer", false},
        {"/sys/fs/cgroup/blkio", "blkio", false},
        {"/sys/fs/cgroup/pids", "pids", false},
        {"/sys/fs/cgroup/systemd", "name=systemd", false},
        {"/sys/fs/cgroup/unified", "", true},
};

static void test_hierarchies_hybrid(void **state _unused_) {
        _cleanup_hierarchies_ CgfsHierarchies h = {};

        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "hybrid.mountinfo", "/sys/fs/cgroup", &h), 0);
        assert_hierarchies(&h, this_machine, ELEMENTSOF(this_machine));

        assert_ptr_equal(cgfs_hierarchies_get(&h, "cpu"), &h.items[0]);
        assert_ptr_equal(cgfs_hierarchies_get(&h, "freezer"), &h.items[5]);
        assert_ptr_equal(cgfs_hierarchies_get(&h, "name=systemd"), &h.items[8]);
        assert_ptr_equal(cgfs_hierarchies_get(&h, ""), &h.items[9]);
        assert_null(cgfs_hierarchies_get(&h, "hugetlb"));
        assert_null(cgfs_hierarchies_get(&h, "systemd"));
        assert_null(cgfs_hierarchies_get(&h, "cpu,cpuacct"));
        assert_null(cgfs_hierarchies_get(&h, NULL));
}

static void test_hierarchies_root_listed_last(void **state _unused_) {
        _cleanup_hierarchies_ CgfsHierarchies h = {};

        /* As on this machine, "/" may follow the mounts on top of it: it covers none of them. */
        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "root-last.mountinfo", "/sys/fs/cgroup", &h), 0);
        assert_hierarchies(&h, this_machine, ELEMENTSOF(this_machine));
}

static void test_hierarchies_trailing_slash(void **state _unused_) {
        static const char *const roots[] = {"/sys/fs/cgroup/", "/sys/fs/cgroup//", "//sys//fs/cgroup"};

        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                _cleanup_hierarchies_ CgfsHierarchies h = {};

                assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "hybrid.mountinfo", roots[i], &h), 0);
                assert_hierarchies(&h, this_machine, ELEMENTSOF(this_machine));
        }
}

static void test_hierarchies_systemd_hybrid_options(void **state _unused_) {
        static const ExpectedHierarchy want[] = {
                {"/sys/fs/cgroup/unified", "", true},
                {"/sys/fs/cgroup/systemd", "name=systemd", false},
                {"/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct", false},
                {"/sys/fs/cgroup/net_cls,net_prio", "net_cls,net_prio", false},
                {"/sys/fs/cgroup/memory", "memory", false},
                {"/sys/fs/cgroup/cpuset", "cpuset", false},
                {"/sys/fs/cgroup/pids", "pids", false},
                {"/sys/fs/cgroup/freezer", "freezer", false},
                {"/sys/fs/cgroup/devices", "devices", false},
                {"/sys/fs/cgroup/blkio", "blkio", false},
                {"/sys/fs/cgroup/hugetlb", "hugetlb", false},
                {"/sys/fs/cgroup/perf_event", "perf_event", false},
                {"/sys/fs/cgroup/rdma", "rdma", false},
                {"/sys/fs/cgroup/misc", "misc", false},
        };
        _cleanup_hierarchies_ CgfsHierarchies h = {};

        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "hybrid-systemd.mountinfo", "/sys/fs/cgroup", &h), 0);
        assert_hierarchies(&h, want, ELEMENTSOF(want));

        assert_ptr_equal(cgfs_hierarchies_get(&h, "cpu"), &h.items[2]);
        assert_ptr_equal(cgfs_hierarchies_get(&h, "cpuacct"), &h.items[2]);
        assert_ptr_equal(cgfs_hierarchies_get(&h, "cpu,cpuacct"), &h.items[2]);
        assert_ptr_equal(cgfs_hierarchies_get(&h, "net_prio"), &h.items[3]);
        assert_ptr_equal(cgfs_hierarchies_get(&h, "name=systemd"), &h.items[1]);
        assert_ptr_equal(cgfs_hierarchies_get(&h, ""), &h.items[0]);
        assert_null(cgfs_hierarchies_get(&h, "cpuacct,cpu"));
        assert_null(cgfs_hierarchies_get(&h, "xattr"));
        assert_null(cgfs_hierarchies_get(&h, "net"));
}

static void test_hierarchies_pure_v2(void **state _unused_) {
        static const ExpectedHierarchy want[] = {{"/sys/fs/cgroup", "", true}};
        _cleanup_hierarchies_ CgfsHierarchies h = {};

        /* The cgroup root is the cgroup2 mount itself. */
        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "v2.mountinfo", "/sys/fs/cgroup", &h), 0);
        assert_hierarchies(&h, want, ELEMENTSOF(want));
        assert_ptr_equal(cgfs_hierarchies_get(&h, ""), &h.items[0]);
        assert_null(cgfs_hierarchies_get(&h, "memory"));
        assert_null(cgfs_hierarchies_get(&h, "name=systemd"));
}

static void test_hierarchies_v1_only(void **state _unused_) {
        static const ExpectedHierarchy want[] = {
                {"/sys/fs/cgroup/systemd", "name=systemd", false},
                {"/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct", false},
                {"/sys/fs/cgroup/memory", "memory", false},
                {"/sys/fs/cgroup/freezer", "freezer", false},
                {"/sys/fs/cgroup/pids", "pids", false},
                {"/sys/fs/cgroup/cpuset", "cpuset", false},
        };
        _cleanup_hierarchies_ CgfsHierarchies h = {};

        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "v1.mountinfo", "/sys/fs/cgroup", &h), 0);
        assert_hierarchies(&h, want, ELEMENTSOF(want));
        assert_null(cgfs_hierarchies_get(&h, ""));
        assert_ptr_equal(cgfs_hierarchies_get(&h, "cpuset"), &h.items[5]);
}

static void test_hierarchies_outside_root_ignored(void **state _unused_) {
        static const ExpectedHierarchy want_default[] = {{"/sys/fs/cgroup", "", true}};
        static const ExpectedHierarchy want_tmp[] = {
                {"/tmp/cg1/memory", "memory", false},
                {"/tmp/cg2", "", true},
        };
        static const ExpectedHierarchy want_cg2[] = {{"/tmp/cg2", "", true}};
        _cleanup_hierarchies_ CgfsHierarchies h = {}, t = {}, c = {}, x = {};

        /* Neither /sys/fs/cgroupX nor a container's cgroup mount nor /tmp/... belongs to it. */
        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "outside-root.mountinfo", "/sys/fs/cgroup", &h), 0);
        assert_hierarchies(&h, want_default, ELEMENTSOF(want_default));

        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "outside-root.mountinfo", "/tmp", &t), 0);
        assert_hierarchies(&t, want_tmp, ELEMENTSOF(want_tmp));

        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "outside-root.mountinfo", "/tmp/cg2/", &c), 0);
        assert_hierarchies(&c, want_cg2, ELEMENTSOF(want_cg2));

        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "outside-root.mountinfo", "/tmp/cg", &x), -ENOENT);
        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "outside-root.mountinfo", "/sys/fs/cgroup/unified", &x),
                -ENOENT);
        assert_int_equal(x.n, 0);
}

static void test_hierarchies_root_beneath_a_mount(void **state _unused_) {
        static const ExpectedHierarchy want[] = {{"/sys/fs/cgroup/memory", "memory", false}};
        _cleanup_hierarchies_ CgfsHierarchies h = {};

        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "hybrid.mountinfo", "/sys/fs/cgroup/memory", &h), 0);
        assert_hierarchies(&h, want, ELEMENTSOF(want));
}

static void test_hierarchies_mounted_twice(void **state _unused_) {
        static const ExpectedHierarchy want[] = {
                {"/sys/fs/cgroup/memory", "memory", false},
                {"/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct", false},
                {"/sys/fs/cgroup/unified", "", true},
                {"/sys/fs/cgroup/cpuacct", "cpuacct", false},
        };
        _cleanup_hierarchies_ CgfsHierarchies h = {};

        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "double.mountinfo", "/sys/fs/cgroup", &h), 0);
        assert_hierarchies(&h, want, ELEMENTSOF(want));
        /* "cpuacct" alone is its own hierarchy, but cpu,cpuacct was mounted first. */
        assert_ptr_equal(cgfs_hierarchies_get(&h, "cpuacct"), &h.items[1]);
}

static void test_hierarchies_covered_mounts_ignored(void **state _unused_) {
        static const ExpectedHierarchy want[] = {
                {"/sys/fs/cgroup/memory", "memory", false},
                {"/sys/fs/cgroup/freezer", "freezer", false},
        };
        static const ExpectedHierarchy want_root[] = {{"/sys/fs/cgroup", "", true}};
        _cleanup_hierarchies_ CgfsHierarchies h = {}, r = {};

        /* A tmpfs over pids hides it; one beneath freezer does not. */
        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "covered.mountinfo", "/sys/fs/cgroup", &h), 0);
        assert_hierarchies(&h, want, ELEMENTSOF(want));

        /* cgroup2 mounted over the whole v1 tree: only it is reachable. */
        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "covered-root.mountinfo", "/sys/fs/cgroup", &r), 0);
        assert_hierarchies(&r, want_root, ELEMENTSOF(want_root));
}

static void test_hierarchies_errors(void **state _unused_) {
        CgfsHierarchies h = {};

        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "no-cgroup.mountinfo", "/sys/fs/cgroup", &h), -ENOENT);
        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "malformed.mountinfo", "/sys/fs/cgroup", &h), -EINVAL);
        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "does-not-exist", "/sys/fs/cgroup", &h), -ENOENT);
        assert_int_equal(
                cgfs_hierarchies_find(FIXTURE_DIR "hybrid.mountinfo", "sys/fs/cgroup", &h), -EINVAL);
        assert_int_equal(cgfs_hierarchies_find(FIXTURE_DIR "hybrid.cgroups", "/sys/fs/cgroup", &h), -EINVAL);
        assert_null(h.items);
        assert_int_equal(h.n, 0);

        cgfs_hierarchies_done(NULL);
        cgfs_hierarchies_done(&h);
        assert_null(cgfs_hierarchies_get(NULL, "cpu"));
}

/* ---- /proc/cgroups ---------------------------------------------------------------------------- */

static void test_count_hybrid(void **state _unused_) {
        static const struct {
                const char *name;
                unsigned num;
        } want[] = {
                {"cpuset", 1},
                {"cpu", 1},
                {"cpuacct", 1},
                {"blkio", 1},
                {"memory", 12},
                {"devices", 1},
                {"freezer", 1},
                {"net_cls", 1},
                {"perf_event", 1},
                {"net_prio", 1},
                {"hugetlb", 1},
                {"pids", 1},
        };
        _cleanup_free_ CgfsControllerCount *c = NULL;
        size_t n = 0;

        assert_int_equal(cgfs_count_cgroups(FIXTURE_DIR "hybrid.cgroups", &c, &n), 0);
        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(c[i].name, want[i].name);
                assert_int_equal(c[i].num_cgroups, want[i].num);
                assert_true(c[i].enabled);
        }
}

static void test_count_v2_and_limits(void **state _unused_) {
        _cleanup_free_ CgfsControllerCount *c = NULL, *l = NULL, *e = NULL;
        size_t n = 0, nl = 0, ne = 42;

        assert_int_equal(cgfs_count_cgroups(FIXTURE_DIR "v2.cgroups", &c, &n), 0);
        assert_int_equal(n, 14);
        assert_string_equal(c[13].name, "misc");
        assert_false(c[13].enabled);
        assert_int_equal(c[4].num_cgroups, 57);

        assert_int_equal(cgfs_count_cgroups(FIXTURE_DIR "near-limit.cgroups", &l, &nl), 0);
        assert_int_equal(nl, 1);
        assert_string_equal(l[0].name, "memory");
        assert_int_equal(l[0].num_cgroups, 65530);
        assert_true(l[0].num_cgroups < CGFS_MEMORY_CGROUP_LIMIT);

        assert_int_equal(cgfs_count_cgroups(FIXTURE_DIR "header-only.cgroups", &e, &ne), 0);
        assert_int_equal(ne, 0);
        assert_null(e);
}

static void test_count_malformed(void **state _unused_) {
        static const char *const files[] = {
                "malformed-missing-field.cgroups",
                "malformed-extra-field.cgroups",
                "malformed-negative.cgroups",
                "malformed-not-a-number.cgroups",
                "malformed-enabled.cgroups",
                "malformed-spaces.cgroups",
                "malformed-overflow.cgroups",
                "malformed-long-name.cgroups",
                "malformed-empty-line.cgroups",
                "malformed-no-header.cgroups",
                "malformed-empty.cgroups",
                "hybrid.mountinfo",
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = NULL;
                CgfsControllerCount *c = NULL;
                size_t n = 42;

                assert_true(asprintf(&path, FIXTURE_DIR "%s", files[i]) > 0);
                if (cgfs_count_cgroups(path, &c, &n) != -EINVAL)
                        fail_msg("%s: not refused with -EINVAL", files[i]);
                assert_null(c);
                assert_int_equal(n, 42);
        }
}

static void test_count_missing_and_real(void **state _unused_) {
        _cleanup_free_ CgfsControllerCount *c = NULL;
        size_t n = 0;
        int r;

        assert_int_equal(cgfs_count_cgroups(FIXTURE_DIR "does-not-exist", &c, &n), -ENOENT);

        /* The real file, where the kernel still has it (v1 support compiled in). */
        r = cgfs_count_cgroups(NULL, &c, &n);
        if (r == -ENOENT)
                return;
        assert_int_equal(r, 0);
        assert_true(n > 0);
}

/* ---- enumeration on a fake hierarchy ------------------------------------------------------------ */

typedef struct FakeTree {
        char *root;
        char *v1, *v2;
        CgfsHierarchies h;
} FakeTree;

static _printf_(2, 3) void make_dir(const FakeTree *t, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&rel, fmt, ap) > 0);
        va_end(ap);
        assert_true(asprintf(&path, "%s/%s", t->root, rel) > 0);

        /* mkdir -p */
        for (char *p = path + strlen(t->root) + 1;; p++) {
                if (*p == '/' || *p == '\0') {
                        char c = *p;

                        *p = '\0';
                        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                                fail_msg("mkdir %s: %m", path);
                        *p = c;
                }
                if (*p == '\0')
                        break;
        }
}

static _printf_(3, 4) void write_file(const FakeTree *t, const char *content, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&rel, fmt, ap) > 0);
        va_end(ap);
        assert_true(asprintf(&path, "%s/%s", t->root, rel) > 0);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                fail_msg("open %s: %m", path);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
}

static int fake_tree_setup(void **state) {
        FakeTree *t = calloc(1, sizeof(*t));
        char tmpl[] = "/tmp/test-cgroupfs-layout-XXXXXX";

        assert_non_null(t);
        assert_non_null(mkdtemp(tmpl));
        t->root = strdup(tmpl);
        assert_true(asprintf(&t->v1, "%s/v1", t->root) > 0);
        assert_true(asprintf(&t->v2, "%s/v2", t->root) > 0);
        assert_int_equal(mkdir(t->v1, 0755), 0);
        assert_int_equal(mkdir(t->v2, 0755), 0);

        /* As cgfs_hierarchies_find() would build it: index 0 a v1 controller, 1 the v2 one. */
        t->h.n = 2;
        t->h.items = calloc(2, sizeof(CgfsHierarchy));
        assert_non_null(t->h.items);
        t->h.items[0] = (CgfsHierarchy){.path = strdup(t->v1), .controllers = strdup("memory"), .v2 = false};
        t->h.items[1] = (CgfsHierarchy){.path = strdup(t->v2), .controllers = strdup(""), .v2 = true};

        *state = t;
        return 0;
}

static int
remove_entry(const char *path, const struct stat *st _unused_, int flag _unused_, struct FTW *ftw _unused_) {
        return remove(path);
}

static int fake_tree_teardown(void **state) {
        FakeTree *t = *state;

        /* Only ever beneath the mkdtemp() directory: FTW_PHYS does not follow the symlinks. */
        assert_int_equal(nftw(t->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
        cgfs_hierarchies_done(&t->h);
        free(t->root);
        free(t->v1);
        free(t->v2);
        free(t);
        return 0;
}

static void pods_donep(CgfsPods *p) {
        cgfs_pods_done(p);
}
#define _cleanup_pods_ _cleanup_(pods_donep)

static cgfs_usec_t now_usec(void) {
        struct timespec ts;

        assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
        return (cgfs_usec_t) ts.tv_sec * 1000000u + (cgfs_usec_t) ts.tv_nsec / 1000u;
}

static void assert_children(const CgfsPod *pod, const char *const *want, size_t n) {
        size_t i;

        assert_non_null(pod->children);
        for (i = 0; pod->children[i]; i++) {
                assert_true(i < n);
                assert_string_equal(pod->children[i], want[i]);
        }
        assert_int_equal(i, n);
}

/* Four pods of the cgroupfs driver in both fake hierarchies, and strays. */
static void make_cgroupfs_tree(FakeTree *t) {
        /* U1 guaranteed: in both; empty; a sandbox child in v1, a container in v2 */
        make_dir(t, "v1/kubepods/pod" U1 "/" SANDBOX);
        write_file(t, "", "v1/kubepods/pod" U1 "/cgroup.procs");
        write_file(t, "", "v1/kubepods/pod" U1 "/" SANDBOX "/cgroup.procs");
        make_dir(t, "v2/kubepods/pod" U1 "/" CONTAINER);
        make_dir(t, "v2/kubepods/pod" U1 "/" SANDBOX);
        write_file(t, "populated 0\nfrozen 0\n", "v2/kubepods/pod" U1 "/cgroup.events");

        /* U2 burstable: a process two levels down in v1 only; v2 says empty */
        make_dir(t, "v1/kubepods/burstable/pod" U2 "/" CONTAINER "/nested");
        write_file(t, "", "v1/kubepods/burstable/pod" U2 "/cgroup.procs");
        write_file(t, "", "v1/kubepods/burstable/pod" U2 "/" CONTAINER "/cgroup.procs");
        write_file(t, "4242\n", "v1/kubepods/burstable/pod" U2 "/" CONTAINER "/nested/cgroup.procs");
        make_dir(t, "v2/kubepods/burstable/pod" U2);
        write_file(t, "populated 0\nfrozen 0\n", "v2/kubepods/burstable/pod" U2 "/cgroup.events");

        /* U3 besteffort: only in v2, populated there */
        make_dir(t, "v2/kubepods/besteffort/pod" U3 "/" CONTAINER);
        write_file(t, "frozen 0\npopulated 1\n", "v2/kubepods/besteffort/pod" U3 "/cgroup.events");

        /* H1 static pod, guaranteed, only in v1, a process in the pod cgroup itself */
        make_dir(t, "v1/kubepods/pod" H1);
        write_file(t, "1\n", "v1/kubepods/pod" H1 "/cgroup.procs");

        /* strays, all ignored */
        make_dir(t, "v1/kubepods/podnot-a-uid");
        make_dir(t, "v1/kubepods/foo");
        make_dir(t, "v1/kubepods/burstable/pod" U1_UPPER);
        make_dir(t, "v2/kubepods/burstable/pod" U1_);
        make_dir(t, "v2/kubepods/burstable/pod" U4 "-x");
        make_dir(t, "v2/kubepods/besteffort/kubepods-besteffort-pod" U1_ ".slice");
        make_dir(t, "v2/kubepods/guaranteed/pod" U4);
        make_dir(t, "v1/elsewhere/pod" U4);
        write_file(t, "", "v1/kubepods/pod" U4);
        make_dir(t, "v1/kubepods/besteffort");
        {
                _cleanup_free_ char *link = NULL;

                /* a symlink named like a pod, to a directory named like one */
                assert_true(asprintf(&link, "%s/v1/kubepods/besteffort/pod" U4, t->root) > 0);
                assert_int_equal(symlink("../../elsewhere/pod" U4, link), 0);
        }
}

static void test_enumerate_cgroupfs(void **state) {
        FakeTree *t = *state;
        _cleanup_pods_ CgfsPods pods = {};
        cgfs_usec_t before, after;
        const CgfsPod *p;

        before = now_usec() - 1000000u; /* file systems with coarse timestamps */
        make_cgroupfs_tree(t);

        assert_int_equal(cgfs_pods_enumerate(&t->h, "kubepods", CGFS_DRIVER_AUTO, &pods), 0);
        after = now_usec();
        assert_int_equal(pods.driver, CGFS_DRIVER_CGROUPFS);
        assert_int_equal(pods.n, 4);

        /* sorted by uid: U1 5f0c.., U2 9b1d.., H1 b2f9.., U3 c3e8.. */
        p = &pods.items[0];
        assert_string_equal(p->uid, U1);
        assert_int_equal(p->qos, CGFS_QOS_GUARANTEED);
        assert_string_equal(p->paths[0], "kubepods/pod" U1);
        assert_string_equal(p->paths[1], "kubepods/pod" U1);
        assert_children(p, (const char *const[]){SANDBOX, CONTAINER}, 2);
        assert_false(p->populated);
        assert_true(p->changed >= before && p->changed <= after);

        p = &pods.items[1];
        assert_string_equal(p->uid, U2);
        assert_int_equal(p->qos, CGFS_QOS_BURSTABLE);
        assert_string_equal(p->paths[0], "kubepods/burstable/pod" U2);
        assert_string_equal(p->paths[1], "kubepods/burstable/pod" U2);
        assert_children(p, (const char *const[]){CONTAINER}, 1);
        assert_true(p->populated);

        p = &pods.items[2];
        assert_string_equal(p->uid, H1);
        assert_int_equal(p->qos, CGFS_QOS_GUARANTEED);
        assert_string_equal(p->paths[0], "kubepods/pod" H1);
        assert_null(p->paths[1]);
        assert_children(p, NULL, 0);
        assert_true(p->populated);

        p = &pods.items[3];
        assert_string_equal(p->uid, U3);
        assert_int_equal(p->qos, CGFS_QOS_BESTEFFORT);
        assert_null(p->paths[0]);
        assert_string_equal(p->paths[1], "kubepods/besteffort/pod" U3);
        assert_children(p, (const char *const[]){CONTAINER}, 1);
        assert_true(p->populated);
        assert_true(p->changed >= before && p->changed <= after);

        assert_ptr_equal(cgfs_pods_find(&pods, U1), &pods.items[0]);
        assert_ptr_equal(cgfs_pods_find(&pods, H1), &pods.items[2]);
        assert_ptr_equal(cgfs_pods_find(&pods, U3), &pods.items[3]);
        assert_null(cgfs_pods_find(&pods, U4));
        assert_null(cgfs_pods_find(&pods, "5f0c6a2e"));
        assert_null(cgfs_pods_find(&pods, NULL));
        assert_null(cgfs_pods_find(NULL, U1));

        /* The systemd driver finds none of them. */
        cgfs_pods_done(&pods);
        assert_int_equal(pods.n, 0);
        assert_int_equal(cgfs_pods_enumerate(&t->h, "kubepods", CGFS_DRIVER_SYSTEMD, &pods), 0);
        assert_int_equal(pods.n, 0);
        assert_int_equal(pods.driver, CGFS_DRIVER_SYSTEMD);
}

static bool only_u3(const char *uid, void *userdata) {
        (*(unsigned *) userdata)++;
        return strcmp(uid, U3) == 0;
}

/* The two steps of the enumeration: names first, then the detail only where asked for; the rest
 * gets `populated` alone, with the same answer as the full visit. */
static void test_list_then_fill(void **state) {
        FakeTree *t = *state;
        _cleanup_pods_ CgfsPods pods = {};
        _cleanup_free_ char *h1 = NULL;
        unsigned asked = 0;

        make_cgroupfs_tree(t);
        assert_int_equal(cgfs_pods_list(&t->h, "kubepods", CGFS_DRIVER_AUTO, &pods), 0);
        assert_int_equal(pods.driver, CGFS_DRIVER_CGROUPFS);
        assert_int_equal(pods.n, 4);
        for (size_t i = 0; i < pods.n; i++) {
                assert_null(pods.items[i].children);
                assert_false(pods.items[i].populated);
                assert_true(pods.items[i].changed == 0);
        }
        assert_string_equal(pods.items[0].paths[0], "kubepods/pod" U1);
        assert_string_equal(pods.items[0].paths[1], "kubepods/pod" U1);
        assert_null(pods.items[2].paths[1]); /* H1: only in v1 */

        /* H1 goes between the two steps: dropped. */
        assert_true(asprintf(&h1, "%s/v1/kubepods/pod" H1 "/cgroup.procs", t->root) > 0);
        assert_int_equal(unlink(h1), 0);
        h1[strlen(h1) - strlen("/cgroup.procs")] = '\0';
        assert_int_equal(rmdir(h1), 0);

        assert_int_equal(cgfs_pods_fill(&t->h, &pods, only_u3, &asked), 0);
        assert_int_equal(asked, 4);
        assert_int_equal(pods.n, 3);
        assert_string_equal(pods.items[0].uid, U1);
        assert_null(pods.items[0].children);
        assert_false(pods.items[0].populated);
        assert_string_equal(pods.items[1].uid, U2);
        assert_null(pods.items[1].children);
        assert_true(pods.items[1].populated); /* v2 says empty, the v1 walk finds the process */
        assert_string_equal(pods.items[2].uid, U3);
        assert_children(&pods.items[2], (const char *const[]){CONTAINER}, 1);
        assert_true(pods.items[2].populated);
        assert_true(pods.items[2].changed > 0);
        assert_null(cgfs_pods_find(&pods, H1));

        assert_int_equal(cgfs_pods_fill(NULL, &pods, NULL, NULL), -EINVAL);
}

/* A fill that fails midway (a cgroup.events it cannot read) after dropping a vanished pod leaves
 * every pod once: the caller's cgfs_pods_done() frees each exactly once (ASan checks). */
static void test_fill_error_after_drop(void **state) {
        FakeTree *t = *state;
        _cleanup_pods_ CgfsPods pods = {};
        _cleanup_free_ char *h1 = NULL;

        make_cgroupfs_tree(t);
        /* cgroup.events a directory: reading it fails (EISDIR). */
        {
                _cleanup_free_ char *ev = NULL;

                assert_true(asprintf(&ev, "%s/v2/kubepods/besteffort/pod" U3 "/cgroup.events", t->root) > 0);
                assert_int_equal(unlink(ev), 0);
                assert_int_equal(mkdir(ev, 0755), 0);
        }
        assert_int_equal(cgfs_pods_list(&t->h, "kubepods", CGFS_DRIVER_CGROUPFS, &pods), 0);
        assert_int_equal(pods.n, 4);
        /* U1 vanishes from both hierarchies: dropped, so U2 and H1 move down. */
        assert_true(
                asprintf(&h1, "rm -rf %s/v1/kubepods/pod" U1 " %s/v2/kubepods/pod" U1, t->root, t->root) >
                0);
        assert_int_equal(system(h1), 0);

        assert_true(cgfs_pods_fill(&t->h, &pods, NULL, NULL) < 0);
        assert_int_equal(pods.n, 3);
        assert_string_equal(pods.items[0].uid, U2);
        assert_string_equal(pods.items[1].uid, H1);
        assert_string_equal(pods.items[2].uid, U3);
        assert_int_equal(cgfs_pods_list(NULL, "kubepods", CGFS_DRIVER_CGROUPFS, &pods), -EINVAL);
}

static void test_enumerate_systemd(void **state) {
        FakeTree *t = *state;
        _cleanup_pods_ CgfsPods pods = {};
        CgfsDriver d;

#define KP "kp"
#define SLICE KP ".slice"
        make_dir(t, "v1/" SLICE "/" KP "-pod" U2_ ".slice/cri-containerd-" CONTAINER ".scope");
        write_file(t, "", "v1/" SLICE "/" KP "-pod" U2_ ".slice/cgroup.procs");
        write_file(
                t,
                "",
                "v1/" SLICE "/" KP "-pod" U2_ ".slice/cri-containerd-" CONTAINER ".scope/cgroup.procs");
        make_dir(t, "v2/" SLICE "/" KP "-pod" U2_ ".slice/cri-containerd-" SANDBOX ".scope");
        write_file(t, "populated 0\n", "v2/" SLICE "/" KP "-pod" U2_ ".slice/cgroup.events");

        make_dir(t, "v1/" SLICE "/" KP "-burstable.slice/" KP "-burstable-pod" U1_ ".slice");
        make_dir(t, "v2/" SLICE "/" KP "-burstable.slice/" KP "-burstable-pod" U1_ ".slice");
        write_file(
                t,
                "populated 1\n",
                "v2/" SLICE "/" KP "-burstable.slice/" KP "-burstable-pod" U1_ ".slice/cgroup.events");

        make_dir(t, "v2/" SLICE "/" KP "-besteffort.slice/" KP "-besteffort-pod" H1 ".slice");
        write_file(
                t,
                "populated 0\n",
                "v2/" SLICE "/" KP "-besteffort.slice/" KP "-besteffort-pod" H1 ".slice/cgroup.events");

        /* strays: wrong class prefix, dashes in the uid, cgroupfs names, another kubepods */
        make_dir(t, "v2/" SLICE "/" KP "-burstable.slice/" KP "-pod" U4_ ".slice");
        make_dir(t, "v2/" SLICE "/" KP "-besteffort.slice/" KP "-burstable-pod" U3 ".slice");
        make_dir(t, "v2/" SLICE "/" KP "-pod" U3 ".slice");
        make_dir(t, "v2/" SLICE "/pod" U3);
        make_dir(t, "v2/" SLICE "/kubepods-pod" U3 ".slice");
        make_dir(t, "v2/kubepods.slice/kubepods-pod" U4_ ".slice");

        assert_int_equal(cgfs_detect_driver(&t->h, KP, &d), 0);
        assert_int_equal(d, CGFS_DRIVER_SYSTEMD);

        assert_int_equal(cgfs_pods_enumerate(&t->h, KP, CGFS_DRIVER_AUTO, &pods), 0);
        assert_int_equal(pods.driver, CGFS_DRIVER_SYSTEMD);
        assert_int_equal(pods.n, 3);

        assert_string_equal(pods.items[0].uid, U1);
        assert_int_equal(pods.items[0].qos, CGFS_QOS_BURSTABLE);
        assert_string_equal(
                pods.items[0].paths[0], SLICE "/" KP "-burstable.slice/" KP "-burstable-pod" U1_ ".slice");
        assert_string_equal(pods.items[0].paths[1], pods.items[0].paths[0]);
        assert_children(&pods.items[0], NULL, 0);
        assert_true(pods.items[0].populated);

        assert_string_equal(pods.items[1].uid, U2);
        assert_int_equal(pods.items[1].qos, CGFS_QOS_GUARANTEED);
        assert_string_equal(pods.items[1].paths[0], SLICE "/" KP "-pod" U2_ ".slice");
        assert_children(
                &pods.items[1],
                (const char *const[]){
                        "cri-containerd-" SANDBOX ".scope", "cri-containerd-" CONTAINER ".scope"},
                2);
        assert_false(pods.items[1].populated);

        assert_string_equal(pods.items[2].uid, H1);
        assert_int_equal(pods.items[2].qos, CGFS_QOS_BESTEFFORT);
        assert_null(pods.items[2].paths[0]);
        assert_false(pods.items[2].populated);

        /* "kubepods" (a different name) has one pod of its own, detected the same way. */
        cgfs_pods_done(&pods);
        assert_int_equal(cgfs_pods_enumerate(&t->h, "kubepods", CGFS_DRIVER_AUTO, &pods), 0);
        assert_int_equal(pods.driver, CGFS_DRIVER_SYSTEMD);
        assert_int_equal(pods.n, 1);
        assert_string_equal(pods.items[0].uid, U4);
#undef KP
#undef SLICE
}

static void test_enumerate_same_uid_in_two_classes(void **state) {
        FakeTree *t = *state;
        _cleanup_pods_ CgfsPods pods = {};

        /* Leftovers of one uid in two QoS directories: two pods, so both get destroyed. */
        make_dir(t, "v1/kubepods/burstable/pod" U1);
        make_dir(t, "v1/kubepods/besteffort/pod" U1);
        make_dir(t, "v2/kubepods/besteffort/pod" U1);
        write_file(t, "populated 0\n", "v2/kubepods/besteffort/pod" U1 "/cgroup.events");

        assert_int_equal(cgfs_pods_enumerate(&t->h, "kubepods", CGFS_DRIVER_CGROUPFS, &pods), 0);
        assert_int_equal(pods.n, 2);
        assert_string_equal(pods.items[0].uid, U1);
        assert_int_equal(pods.items[0].qos, CGFS_QOS_BURSTABLE);
        assert_string_equal(pods.items[0].paths[0], "kubepods/burstable/pod" U1);
        assert_null(pods.items[0].paths[1]);
        assert_string_equal(pods.items[1].uid, U1);
        assert_int_equal(pods.items[1].qos, CGFS_QOS_BESTEFFORT);
        assert_string_equal(pods.items[1].paths[1], "kubepods/besteffort/pod" U1);
        assert_ptr_equal(cgfs_pods_find(&pods, U1), &pods.items[0]);
}

static void test_enumerate_v2_without_events_walks_procs(void **state) {
        FakeTree *t = *state;
        _cleanup_pods_ CgfsPods pods = {};

        make_dir(t, "v2/kubepods/pod" U1 "/" CONTAINER);
        write_file(t, "77\n", "v2/kubepods/pod" U1 "/" CONTAINER "/cgroup.procs");
        make_dir(t, "v2/kubepods/pod" U2 "/" CONTAINER);

        assert_int_equal(cgfs_pods_enumerate(&t->h, "kubepods", CGFS_DRIVER_CGROUPFS, &pods), 0);
        assert_int_equal(pods.n, 2);
        assert_true(pods.items[0].populated);
        assert_false(pods.items[1].populated);
}

static void test_enumerate_deep_tree_counts_as_populated(void **state) {
        FakeTree *t = *state;
        _cleanup_pods_ CgfsPods pods = {};
        _cleanup_free_ char *deep = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&deep, &size);

        assert_non_null(f);
        fputs("v1/kubepods/pod" U1, f);
        for (int i = 0; i < 20; i++)
                fputs("/d", f);
        assert_int_equal(fclose(f), 0);
        make_dir(t, "%s", deep);
        make_dir(t, "v1/kubepods/pod" U2 "/a/b/c");

        assert_int_equal(cgfs_pods_enumerate(&t->h, "kubepods", CGFS_DRIVER_CGROUPFS, &pods), 0);
        assert_int_equal(pods.n, 2);
        assert_true(pods.items[0].populated); /* too deep to prove empty */
        assert_false(pods.items[1].populated);
}

static void test_enumerate_nothing_there(void **state) {
        FakeTree *t = *state;
        _cleanup_pods_ CgfsPods pods = {.n = 42};
        CgfsDriver d = (CgfsDriver) 42;

        assert_int_equal(cgfs_detect_driver(&t->h, "kubepods", &d), -ENOENT);
        assert_int_equal(d, 42);
        assert_int_equal(cgfs_pods_enumerate(&t->h, "kubepods", CGFS_DRIVER_AUTO, &pods), 0);
        assert_int_equal(pods.n, 0);
        assert_int_equal(pods.driver, CGFS_DRIVER_AUTO);
        cgfs_pods_done(&pods);

        /* A QoS directory without pods, and a kubepods tree in only one hierarchy. */
        make_dir(t, "v2/kubepods/burstable");
        assert_int_equal(cgfs_detect_driver(&t->h, "kubepods", &d), 0);
        assert_int_equal(d, CGFS_DRIVER_CGROUPFS);
        assert_int_equal(cgfs_pods_enumerate(&t->h, "kubepods", CGFS_DRIVER_AUTO, &pods), 0);
        assert_int_equal(pods.n, 0);
        assert_int_equal(pods.driver, CGFS_DRIVER_CGROUPFS);

        assert_int_equal(cgfs_pods_enumerate(&t->h, "", CGFS_DRIVER_CGROUPFS, &pods), -EINVAL);
        assert_int_equal(cgfs_pods_enumerate(&t->h, "a/b", CGFS_DRIVER_SYSTEMD, &pods), -EINVAL);
        assert_int_equal(cgfs_pods_enumerate(NULL, "kubepods", CGFS_DRIVER_SYSTEMD, &pods), -EINVAL);
        cgfs_pods_done(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_pod_name_table),
                cmocka_unit_test(test_parse_pod_name_bad_arguments),
                cmocka_unit_test(test_pod_path),
                cmocka_unit_test(test_pod_path_rejects_bad_uid),
                cmocka_unit_test(test_driver_strings),
                cmocka_unit_test(test_hierarchies_hybrid),
                cmocka_unit_test(test_hierarchies_root_listed_last),
                cmocka_unit_test(test_hierarchies_trailing_slash),
                cmocka_unit_test(test_hierarchies_systemd_hybrid_options),
                cmocka_unit_test(test_hierarchies_pure_v2),
                cmocka_unit_test(test_hierarchies_v1_only),
                cmocka_unit_test(test_hierarchies_outside_root_ignored),
                cmocka_unit_test(test_hierarchies_root_beneath_a_mount),
                cmocka_unit_test(test_hierarchies_mounted_twice),
                cmocka_unit_test(test_hierarchies_covered_mounts_ignored),
                cmocka_unit_test(test_hierarchies_errors),
                cmocka_unit_test(test_count_hybrid),
                cmocka_unit_test(test_count_v2_and_limits),
                cmocka_unit_test(test_count_malformed),
                cmocka_unit_test(test_count_missing_and_real),
                cmocka_unit_test_setup_teardown(
                        test_enumerate_cgroupfs, fake_tree_setup, fake_tree_teardown),
                cmocka_unit_test_setup_teardown(test_list_then_fill, fake_tree_setup, fake_tree_teardown),
                cmocka_unit_test_setup_teardown(
                        test_fill_error_after_drop, fake_tree_setup, fake_tree_teardown),
                cmocka_unit_test_setup_teardown(test_enumerate_systemd, fake_tree_setup, fake_tree_teardown),
                cmocka_unit_test_setup_teardown(
                        test_enumerate_same_uid_in_two_classes, fake_tree_setup, fake_tree_teardown),
                cmocka_unit_test_setup_teardown(
                        test_enumerate_v2_without_events_walks_procs, fake_tree_setup, fake_tree_teardown),
                cmocka_unit_test_setup_teardown(
                        test_enumerate_deep_tree_counts_as_populated, fake_tree_setup, fake_tree_teardown),
                cmocka_unit_test_setup_teardown(
                        test_enumerate_nothing_there, fake_tree_setup, fake_tree_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
