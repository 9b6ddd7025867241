/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"
#include "util/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        char buf[DURATION_MAX_LEN];
        usec_t d, again;

        /* parse_duration() takes a C string: an embedded NUL just ends it early, as in real use. */
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        if (parse_duration(s, &d) < 0)
                return 0;

        /* Whatever parses must format to something that parses back to the same value. */
        format_duration(buf, sizeof(buf), d);
        if (strlen(buf) >= sizeof(buf) - 1) {
                fprintf(stderr, "format_duration(%ju) filled the buffer: \"%s\"\n", (uintmax_t) d, buf);
                abort();
        }
        if (parse_duration(buf, &again) < 0 || again != d) {
                fprintf(stderr, "\"%s\" -> %ju -> \"%s\" does not round-trip\n", s, (uintmax_t) d, buf);
                abort();
        }

        return 0;
}
