/* SPDX-License-Identifier: MIT */
#pragma once

#include "cgroupfs/cgroupfs.h"
#include "cri/cri.h"
#include "reaper/options.h"
#include "reaper/snapshot.h"

/* Takes the snapshot of one pass, in the order of DESIGN §3: the pod cgroups first (so a pod
 * created during the pass is never mistaken for an orphan), then the CRI lists (every sandbox and
 * container, any state) and the kubelet (healthz on 127.0.0.1:10248, its start time from the
 * pod-resources socket's change time, pod-resources List mapped to uids through sandbox metadata
 * and /var/log/pods names), then the disk (pod dirs, pod log dirs, one mount-table snapshot).
 * A source that fails is marked in the snapshot with its reason; only out of memory is an error.
 * `cri` may be NULL (could not connect: s->cri says why, from connect_error). */
int gather_snapshot(
        const Options *o,
        const CgfsHierarchies *h,
        CriClient *cri,
        const char *connect_error,
        Snapshot *ret);

/* The kubelet's healthz: 1 healthy, 0 answered but not "ok", -errno not reachable. */
int gather_kubelet_healthz(const char *host, uint16_t port, usec_t timeout);
