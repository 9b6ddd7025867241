/* SPDX-License-Identifier: MIT */
/* cgfs_parse_pod_name() decides which directories are pod cgroups that may be destroyed: whatever
 * it accepts must be exactly the name cgfs_pod_path() gives that uid, in every driver and class. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs/cgroupfs.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "kube" is a prefix of "kubepods", "kp-x" holds systemd's separator. */
static const char *const kubepods_names[] = {"kubepods", "kube", "kp-x"};

static void check(const char *name, CgfsDriver driver, const char *kubepods) {
        unsigned matches = 0;

        for (CgfsQos qos = 0; qos < _CGFS_QOS_MAX; qos++) {
                _cleanup_free_ char *path = NULL;
                char uid[CGFS_UID_MAX + 2];
                size_t lp, ln = strlen(name);
                int r;

                memset(uid, 'X', sizeof(uid));
                r = cgfs_parse_pod_name(name, driver, kubepods, qos, uid);
                if (r == 0)
                        continue;
                if (r != 1 || uid[CGFS_UID_MAX + 1] != 'X' || strlen(uid) > CGFS_UID_MAX) {
                        fprintf(stderr, "\"%s\": returned %d or overran the uid buffer\n", name, r);
                        abort();
                }
                matches++;

                if (cgfs_pod_path(driver, kubepods, qos, uid, &path) < 0) {
                        fprintf(stderr,
                                "\"%s\" parsed to uid \"%s\" that cgfs_pod_path() refuses\n",
                                name,
                                uid);
                        abort();
                }
                lp = strlen(path);
                if (lp <= ln || path[lp - ln - 1] != '/' || strcmp(path + lp - ln, name) != 0) {
                        fprintf(stderr,
                                "\"%s\" (%s, %s, %s) parsed to \"%s\" whose path is \"%s\"\n",
                                name,
                                cgfs_driver_to_string(driver),
                                kubepods,
                                cgfs_qos_to_string(qos),
                                uid,
                                path);
                        abort();
                }
        }

        /* With the systemd driver the class is part of the name: at most one class matches. */
        if (driver == CGFS_DRIVER_SYSTEMD && matches > 1) {
                fprintf(stderr, "\"%s\" (%s) matched %u classes\n", name, kubepods, matches);
                abort();
        }
        if (driver == CGFS_DRIVER_CGROUPFS && matches != 0 && matches != _CGFS_QOS_MAX) {
                fprintf(stderr, "\"%s\": a cgroupfs name matched %u classes, not all\n", name, matches);
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *name = NULL;

        /* A directory name is a C string: an embedded NUL ends it, as in readdir(). */
        name = malloc(size + 1);
        if (!name)
                return 0;
        memcpy(name, data, size);
        name[size] = '\0';

        for (size_t i = 0; i < ELEMENTSOF(kubepods_names); i++) {
                check(name, CGFS_DRIVER_CGROUPFS, kubepods_names[i]);
                check(name, CGFS_DRIVER_SYSTEMD, kubepods_names[i]);
        }
        return 0;
}
