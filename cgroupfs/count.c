/* SPDX-License-Identifier: MIT */
/* /proc/cgroups: "#subsys_name\thierarchy\tnum_cgroups\tenabled", then one line per controller.
 * num_cgroups counts every cgroup of the controller, so it shows how close the node is to
 * running out of memory cgroup ids. */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs/cgroupfs-internal.h"
#include "util/macro.h"
#include "util/parse.h"

#define FIELDS 4

/* Splits a line in place at tabs into exactly FIELDS non-empty fields. */
static int split_fields(char *line, char *fields[static FIELDS]) {
        size_t n = 0;

        for (char *p = line;;) {
                size_t l = strcspn(p, "\t");

                if (l == 0 || n == FIELDS)
                        return -EINVAL;
                fields[n++] = p;
                if (p[l] == '\0')
                        break;
                p[l] = '\0';
                p += l + 1;
        }
        return n == FIELDS ? 0 : -EINVAL;
}

static int parse_line(char *line, CgfsControllerCount *ret) {
        char *fields[FIELDS];
        unsigned hierarchy, num, enabled;
        int r;

        r = split_fields(line, fields);
        if (r < 0)
                return r;
        if (strlen(fields[0]) >= sizeof(ret->name))
                return -EINVAL;
        if (safe_atou(fields[1], &hierarchy) < 0 || safe_atou(fields[2], &num) < 0 ||
            safe_atou(fields[3], &enabled) < 0 || enabled > 1)
                return -EINVAL;

        *ret = (CgfsControllerCount){.num_cgroups = num, .enabled = enabled == 1};
        memcpy(ret->name, fields[0], strlen(fields[0]) + 1);
        return 0;
}

int cgfs_count_cgroups(const char *path, CgfsControllerCount **ret, size_t *ret_n) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ CgfsControllerCount *items = NULL;
        _cleanup_free_ char *line = NULL;
        size_t n = 0, allocated = 0, size = 0;
        bool header = false;
        ssize_t l;
        int r;

        assert(ret);
        assert(ret_n);

        f = fopen(path ?: "/proc/cgroups", "re");
        if (!f)
                return negative_errno();

        while ((l = getline(&line, &size, f)) >= 0) {
                if (l > 0 && line[l - 1] == '\n')
                        line[--l] = '\0';
                if ((size_t) l != strlen(line)) /* an embedded NUL */
                        return -EINVAL;

                /* The header comes first and only there. */
                if (!header) {
                        if (strncmp(line, "#subsys_name\t", strlen("#subsys_name\t")) != 0)
                                return -EINVAL;
                        header = true;
                        continue;
                }

                if (cg_grow((void **) &items, &allocated, n, sizeof(*items)) < 0)
                        return -ENOMEM;
                r = parse_line(line, &items[n]);
                if (r < 0)
                        return r;
                n++;
        }
        if (ferror(f))
                return -EIO;
        if (!header)
                return -EINVAL; /* empty: not /proc/cgroups */

        *ret = TAKE_PTR(items);
        *ret_n = n;
        return 0;
}
