/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"

int strextendf(char **s, const char *format, ...) {
        _cleanup_free_ char *tail = NULL;
        char *joined;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&tail, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(&joined, "%s%s", *s ?: "", tail) < 0)
                return -ENOMEM;
        free(*s);
        *s = joined;
        return 0;
}

int path_join(const char *dir, const char *name, char **ret) {
        size_t l = strlen(dir);

        while (l > 0 && dir[l - 1] == '/')
                l--;
        return asprintf(ret, "%.*s/%s", (int) l, dir, name) < 0 ? -ENOMEM : 0;
}
