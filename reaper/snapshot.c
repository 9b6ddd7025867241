/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "reaper/snapshot.h"

static void source_status_done(SourceStatus *st) {
        free(st->error);
        free(st->detail);
        *st = (SourceStatus){};
}

static void uids_free(char **uids, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(uids[i]);
        free(uids);
}

void snapshot_done(Snapshot *s) {
        if (!s)
                return;

        source_status_done(&s->cgroups);
        source_status_done(&s->cri);
        source_status_done(&s->kubelet);
        source_status_done(&s->disk);
        cgfs_pods_done(&s->pod_cgroups);
        uids_free(s->cri_uids, s->n_cri_uids);
        uids_free(s->kubelet_uids, s->n_kubelet_uids);
        for (size_t i = 0; i < s->n_pod_dirs; i++) {
                free(s->pod_dirs[i].uid);
                free(s->pod_dirs[i].first_mount);
        }
        free(s->pod_dirs);
        for (size_t i = 0; i < s->n_log_dirs; i++) {
                free(s->log_dirs[i].name);
                free(s->log_dirs[i].uid);
        }
        free(s->log_dirs);
        cri_pod_sandbox_list_done(&s->sandboxes);
        cri_container_list_done(&s->containers);
        source_status_done(&s->images);
        cri_image_list_done(&s->image_list);
        free(s->image_fs.mountpoint);
        free(s->sandbox_image);
        source_status_done(&s->log_links);
        uids_free(s->dead_log_links, s->n_dead_log_links);
        *s = (Snapshot){};
}

void snapshot_drop_runtime_lists(Snapshot *s) {
        cri_pod_sandbox_list_done(&s->sandboxes);
        cri_container_list_done(&s->containers);
        cri_image_list_done(&s->image_list);
}

bool uid_list_contains(char *const *uids, size_t n, const char *uid) {
        size_t lo = 0, hi = n;

        if (!uids || !uid)
                return false;

        /* Sorted with strcmp and without duplicates (snapshot.h): a binary search. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(uids[mid], uid);

                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}
