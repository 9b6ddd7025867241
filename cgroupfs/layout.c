/* SPDX-License-Identifier: MIT */
/* Names of the kubelet's pod cgroups for both cgroup drivers: what the kubelet's cgroupfs and
 * systemd cgroup managers (cgroup_manager_linux.go, ToSystemd/ConvertCgroupNameToSystemd) make of
 * the cgroup name ["kubepods", "<qos>", "pod<uid>"]. */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroupfs/cgroupfs-internal.h"
#include "util/macro.h"

#define UUID_LEN 36
#define HASH_LEN 32 /* a static pod's uid: the hash of its manifest */

static const char *const driver_names[] = {
        [CGFS_DRIVER_AUTO] = "auto",
        [CGFS_DRIVER_CGROUPFS] = "cgroupfs",
        [CGFS_DRIVER_SYSTEMD] = "systemd",
};

static const char *const qos_names[_CGFS_QOS_MAX] = {
        [CGFS_QOS_GUARANTEED] = "guaranteed",
        [CGFS_QOS_BURSTABLE] = "burstable",
        [CGFS_QOS_BESTEFFORT] = "besteffort",
};

const char *cgfs_driver_to_string(CgfsDriver d) {
        if ((unsigned) d >= ELEMENTSOF(driver_names))
                return NULL;
        return driver_names[d];
}

int cgfs_driver_from_string(const char *s, CgfsDriver *ret) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(driver_names); i++)
                if (strcmp(s, driver_names[i]) == 0) {
                        if (ret)
                                *ret = (CgfsDriver) i;
                        return 0;
                }
        return -EINVAL;
}

const char *cgfs_qos_to_string(CgfsQos q) {
        if ((unsigned) q >= _CGFS_QOS_MAX)
                return NULL;
        return qos_names[q];
}

static bool is_lower_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* s[0..len) is a uid whose UUID dashes are written as `sep`: 8-4-4-4-12 lowercase hex, or 32
 * lowercase hex without separators. On success the uid with '-' is written to ret (may be NULL). */
static bool uid_parse(const char *s, size_t len, char sep, char *ret) {
        if (len == UUID_LEN) {
                for (size_t i = 0; i < len; i++) {
                        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

                        if (dash ? s[i] != sep : !is_lower_hex(s[i]))
                                return false;
                }
        } else if (len == HASH_LEN) {
                for (size_t i = 0; i < len; i++)
                        if (!is_lower_hex(s[i]))
                                return false;
        } else
                return false;

        if (ret) {
                for (size_t i = 0; i < len; i++)
                        ret[i] = s[i] == sep ? '-' : s[i];
                ret[len] = '\0';
        }
        return true;
}

bool cgfs_uid_is_valid(const char *s) {
        return s && uid_parse(s, strlen(s), '-', NULL);
}

/* The cgroupfs driver takes a relative path of plain components ("kubepods", or
 * "custom/kubepods" under a kubelet --cgroup-root); the systemd driver a slice name prefix, which
 * cannot hold a '/'. */
bool cgfs_kubepods_is_valid(const char *kubepods, CgfsDriver driver) {
        if (!kubepods || kubepods[0] == '\0')
                return false;
        if (driver == CGFS_DRIVER_SYSTEMD)
                return !strchr(kubepods, '/') && strcmp(kubepods, ".") != 0 && strcmp(kubepods, "..") != 0;
        return cg_path_is_safe(kubepods);
}

static bool driver_is_valid(CgfsDriver driver) {
        return driver == CGFS_DRIVER_CGROUPFS || driver == CGFS_DRIVER_SYSTEMD;
}

/* Moves *p past `prefix` if s starts with it. */
static bool skip_prefix(const char **p, const char *prefix) {
        size_t l = strlen(prefix);

        if (strncmp(*p, prefix, l) != 0)
                return false;
        *p += l;
        return true;
}

int cgfs_parse_pod_name(
        const char *name, CgfsDriver driver, const char *kubepods, CgfsQos qos, char *ret_uid) {
        const char *p = name;
        size_t len;

        if (!driver_is_valid(driver) || (unsigned) qos >= _CGFS_QOS_MAX ||
            !cgfs_kubepods_is_valid(kubepods, driver))
                return -EINVAL;
        if (!name)
                return 0;

        if (driver == CGFS_DRIVER_CGROUPFS) {
                /* The same "pod<uid>" in every QoS directory. */
                if (!skip_prefix(&p, "pod"))
                        return 0;
                return uid_parse(p, strlen(p), '-', ret_uid);
        }

        /* systemd: "<kubepods>[-<qos>]-pod<uid_>.slice"; systemd reads '-' as the slice
         * hierarchy separator, so the kubelet escapes the uid's dashes as '_'. */
        if (!skip_prefix(&p, kubepods))
                return 0;
        if (qos != CGFS_QOS_GUARANTEED && !(skip_prefix(&p, "-") && skip_prefix(&p, qos_names[qos])))
                return 0;
        if (!skip_prefix(&p, "-pod"))
                return 0;
        len = strlen(p);
        if (len < strlen(".slice") || strcmp(p + len - strlen(".slice"), ".slice") != 0)
                return 0;
        return uid_parse(p, len - strlen(".slice"), '_', ret_uid);
}

int cgfs_pod_path(CgfsDriver driver, const char *kubepods, CgfsQos qos, const char *uid, char **ret) {
        char uid_[CGFS_UID_MAX + 1];
        int r;

        assert(ret);

        if (!driver_is_valid(driver) || (unsigned) qos >= _CGFS_QOS_MAX ||
            !cgfs_kubepods_is_valid(kubepods, driver))
                return -EINVAL;
        /* Only a well-formed uid: it becomes part of a path that is removed. */
        if (!uid || !uid_parse(uid, strlen(uid), '-', NULL))
                return -EINVAL;

        if (driver == CGFS_DRIVER_CGROUPFS) {
                if (qos == CGFS_QOS_GUARANTEED)
                        r = asprintf(ret, "%s/pod%s", kubepods, uid);
                else
                        r = asprintf(ret, "%s/%s/pod%s", kubepods, qos_names[qos], uid);
                return r < 0 ? -ENOMEM : 0;
        }

        for (size_t i = 0;; i++) {
                uid_[i] = uid[i] == '-' ? '_' : uid[i];
                if (uid[i] == '\0')
                        break;
        }
        if (qos == CGFS_QOS_GUARANTEED)
                r = asprintf(ret, "%s.slice/%s-pod%s.slice", kubepods, kubepods, uid_);
        else
                r = asprintf(
                        ret,
                        "%s.slice/%s-%s.slice/%s-%s-pod%s.slice",
                        kubepods,
                        kubepods,
                        qos_names[qos],
                        kubepods,
                        qos_names[qos],
                        uid_);
        return r < 0 ? -ENOMEM : 0;
}

/* 1 if `name` is a directory beneath `path`, 0 if not; -errno when that cannot be told. */
static int dir_exists_beneath(const char *path, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(path, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        return S_ISDIR(st.st_mode);
}

/* 1 if `name` is a directory beneath the root of any hierarchy; else 0, or the first error. */
static int hierarchies_have_dir(const CgfsHierarchies *h, const char *name) {
        int error = 0;

        for (size_t i = 0; i < h->n; i++) {
                int r = dir_exists_beneath(h->items[i].path, name);

                if (r > 0)
                        return 1;
                if (r < 0 && error == 0)
                        error = r;
        }
        return error;
}

int cgfs_detect_driver(const CgfsHierarchies *h, const char *kubepods, CgfsDriver *ret) {
        _cleanup_free_ char *slice = NULL;
        int r_systemd = 0, r;

        if (!h || !cgfs_kubepods_is_valid(kubepods, CGFS_DRIVER_CGROUPFS))
                return -EINVAL;

        /* systemd first: a node switched from cgroupfs to systemd may still carry the old tree. */
        if (cgfs_kubepods_is_valid(kubepods, CGFS_DRIVER_SYSTEMD)) {
                if (asprintf(&slice, "%s.slice", kubepods) < 0)
                        return -ENOMEM;
                r_systemd = hierarchies_have_dir(h, slice);
                if (r_systemd > 0) {
                        if (ret)
                                *ret = CGFS_DRIVER_SYSTEMD;
                        return 0;
                }
        }

        r = hierarchies_have_dir(h, kubepods);
        if (r > 0) {
                if (ret)
                        *ret = CGFS_DRIVER_CGROUPFS;
                return 0;
        }
        if (r_systemd < 0)
                return r_systemd;
        return r < 0 ? r : -ENOENT;
}
