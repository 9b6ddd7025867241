/* SPDX-License-Identifier: MIT */
/* The state file is read at the start of every pass, and a bad one must only ever cost the saved
 * times (state.c): whatever the bytes, state_load() returns 0 with a state or a problem line, and a
 * state it accepts saves and loads back as the same records. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reaper/state.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz-state-XXXXXX", copy[] = "/tmp/fuzz-state-copy-XXXXXX";

/* The two directories hold only "state" (a save's temp file is renamed over it). */
static void remove_dirs(void) {
        char p[64];

        (void) snprintf(p, sizeof(p), "%s/state", dir);
        (void) unlink(p);
        (void) snprintf(p, sizeof(p), "%s/state", copy);
        (void) unlink(p);
        (void) rmdir(dir);
        (void) rmdir(copy);
}

static void same_or_abort(const State *a, const State *b) {
        if (a->n_orphans != b->n_orphans || a->n_deleted != b->n_deleted || a->n_images != b->n_images)
                abort();
        for (size_t i = 0; i < a->n_orphans; i++)
                if (strcmp(a->orphans[i].uid, b->orphans[i].uid) != 0 ||
                    a->orphans[i].first_seen != b->orphans[i].first_seen ||
                    a->orphans[i].reaping != b->orphans[i].reaping)
                        abort();
        for (size_t i = 0; i < a->n_deleted; i++)
                if (strcmp(a->deleted[i].uid, b->deleted[i].uid) != 0 ||
                    a->deleted[i].first_seen != b->deleted[i].first_seen)
                        abort();
        for (size_t i = 0; i < a->n_images; i++)
                if (strcmp(a->images[i].id, b->images[i].id) != 0 ||
                    a->images[i].first_detected != b->images[i].first_detected ||
                    a->images[i].last_used != b->images[i].last_used ||
                    a->images[i].unused_since != b->images[i].unused_since)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool made = false;
        _cleanup_free_ char *path = NULL, *problem = NULL, *problem2 = NULL;
        State s = {}, again = {};
        int fd, r;

        if (!made) {
                if (!mkdtemp(dir) || !mkdtemp(copy))
                        abort();
                atexit(remove_dirs);
                made = true;
        }
        if (asprintf(&path, "%s/state", dir) < 0)
                return 0;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, data, size) != (ssize_t) size)
                abort();
        close(fd);

        r = state_load(dir, &s, &problem);
        if (r == -ENOMEM)
                return 0;
        if (r != 0)
                abort();
        /* A bad file is an empty state plus the reason, never half a state. */
        if (problem && (s.n_orphans > 0 || s.n_deleted > 0 || s.n_images > 0))
                abort();
        if (!problem) {
                if (state_save(copy, &s) != 0 || state_load(copy, &again, &problem2) != 0 || problem2)
                        abort();
                same_or_abort(&s, &again);
        }
        state_done(&s);
        state_done(&again);
        return 0;
}
