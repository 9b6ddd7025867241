#!/bin/bash
# make demo: podreaper on a self-made node. A private containerd (tests/e2e/lib/containerd.sh), a
# kubelet root in a temporary directory, 3 live pods with real sandboxes and running containers,
# and 3 pods that were deleted but left their pod dir, pod cgroup and log dir behind — one of them
# with a tmpfs volume still mounted and holding data; for runtime GC, a live pod whose container
# crash-looped (4 exited attempts) and a finished job with 3 NotReady sandboxes. Then `podreaper
# plan`, `podreaper run`, the node before and after. Everything is torn down at the end, also on
# failure.
set -euo pipefail

BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
PODREAPER=$BUILD/podreaper
PODCTL=$BUILD/tests/e2e/podctl

if [ "$(id -u)" -ne 0 ]; then
        echo "demo: needs root (a containerd, cgroups, a tmpfs mount)" >&2
        exit 1
fi
# The tmpfs volume lives in a private mount namespace: it cannot outlive the demo.
if [ -z "${PODREAPER_DEMO_IN_NS:-}" ]; then
        export PODREAPER_DEMO_IN_NS=1
        exec unshare -m --propagation private "$0" "$@"
fi

. "$top/tests/e2e/lib/containerd.sh"
export CTD_KUBEPODS=kpdemo$$
NODE=$(mktemp -d /tmp/podreaper-demo.XXXXXX)
teardown() {
        set +e
        umount -l "$NODE"/kubelet/pods/*/volumes/*/* 2>/dev/null
        ctd_stop 2>/dev/null
        rm -rf --one-file-system "$NODE"
}
trap teardown EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Starting a private containerd (its own socket, state and images)"
ctd_start
export PODREAPER_TEST_CRI_ENDPOINT=unix://$CTD_SOCK
mkdir -p "$NODE/kubelet/pods" "$NODE/pods-logs" "$NODE/containers-logs" "$NODE/state"

pod_dir() { # what the kubelet leaves on disk for a pod
        local uid=$1 name=$2 p="$NODE/kubelet/pods/$1"
        mkdir -p "$p/volumes/kubernetes.io~empty-dir/cache" "$p/volumes/kubernetes.io~projected/kube-api-access" \
                "$p/containers/app" "$p/plugins/kubernetes.io~empty-dir/cache"
        echo 1 >"$p/containers/app/5f4dcc3b"
        echo "127.0.0.1 localhost" >"$p/etc-hosts"
        mkdir -p "$NODE/pods-logs/demo_${name}_$uid/app"
        echo "hello from $name" >"$NODE/pods-logs/demo_${name}_$uid/app/0.log"
}

say "Three live pods: real sandboxes, busybox running in each"
live=()
for name in web api cache; do
        uid=$(cat /proc/sys/kernel/random/uuid)
        live+=("$uid")
        "$PODCTL" run-pod "$uid" "$name" demo "$CTD_KUBEPODS" "$NODE/pods-logs/demo_${name}_$uid" >/dev/null
        pod_dir "$uid" "$name"
        echo "  $name  $uid"
done

say "Runtime GC's share: a crash-looping container and a job's old sandboxes"
worker=$(cat /proc/sys/kernel/random/uuid)
live+=("$worker")
logs="$NODE/pods-logs/demo_worker_$worker"
mkdir -p "$logs"
sb=$("$PODCTL" run-sandbox "$worker" worker demo "$CTD_KUBEPODS" "$logs" 0)
for attempt in 0 1 2 3; do
        "$PODCTL" add-container "$sb" "$CTD_KUBEPODS" "$logs" app "$attempt" exited >/dev/null
done
pod_dir "$worker" worker
echo "  worker $worker: container 'app' exited 4 times (attempts 0-3), the pod is live"
job=$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$NODE/pods-logs/demo_job_$job"
for attempt in 0 1 2; do
        "$PODCTL" stop-sandbox "$("$PODCTL" run-sandbox "$job" job demo "$CTD_KUBEPODS" "$NODE/pods-logs/demo_job_$job" "$attempt")"
done
echo "  job    $job: 3 NotReady sandboxes (attempts 0-2), no containers"

say "Three pods deleted from the runtime, leftovers behind (pod dir, pod cgroup, log dir)"
gone=()
for name in batch-1 batch-2 report; do
        uid=$(cat /proc/sys/kernel/random/uuid)
        gone+=("$uid")
        "$PODCTL" run-pod "$uid" "$name" demo "$CTD_KUBEPODS" "$NODE/pods-logs/demo_${name}_$uid" >/dev/null
        "$PODCTL" rm-pod "$uid"
        pod_dir "$uid" "$name"
        echo "  $name  $uid"
done
vol="$NODE/kubelet/pods/${gone[2]}/volumes/kubernetes.io~empty-dir/cache"
mount -t tmpfs tmpfs "$vol"
echo "quarterly numbers, still being written" >"$vol/report.csv"
echo "  'report' still has a tmpfs volume mounted at volumes/kubernetes.io~empty-dir/cache with data"

pod_cgroups() { # each pod's cgroup once, whichever hierarchies hold it (cgroup v1, v2, hybrid)
        local h p
        for h in $(_ctd_cgroup_mounts /sys/fs/cgroup); do
                for p in "$h/$CTD_KUBEPODS"/besteffort/pod*; do [ -d "$p" ] && echo "${p##*/}"; done
        done | sort -u
}
show_node() {
        echo "  pod dirs:   $(ls "$NODE/kubelet/pods" | wc -l)   log dirs: $(ls "$NODE/pods-logs" | wc -l)" \
                "  pod cgroups: $(pod_cgroups | wc -l)" \
                "  sandboxes: $("$PODCTL" list-sandboxes | wc -l)   containers: $("$PODCTL" list-containers | wc -l)"
}
say "The node before"
show_node

reaper() {
        "$PODREAPER" "$@" --root-dir "$NODE/kubelet" --pod-logs-dir "$NODE/pods-logs" \
                --container-logs-dir "$NODE/containers-logs" --state-dir "$NODE/state" \
                --kubepods-cgroup "$CTD_KUBEPODS" --container-runtime-endpoint "$PODREAPER_TEST_CRI_ENDPOINT" \
                --require-kubelet=false --orphan-grace 0s
}
echo
echo "  (no kubelet runs here: --require-kubelet=false; and a demo cannot wait the 10m grace: --orphan-grace 0s)"

say "podreaper plan   (changes nothing)"
reaper plan || true

say "podreaper run"
rc=0
reaper run || rc=$?
echo "  exit status: $rc"

say "The node after"
show_node
echo
for uid in "${live[@]}"; do
        if "$PODCTL" has-pod "$uid" && [ -d "$NODE/kubelet/pods/$uid" ]; then
                echo "  live pod $uid: still runs, its dir is there"
        else
                echo "  live pod $uid: TOUCHED" && exit 1
        fi
done
for i in 0 1; do
        [ -e "$NODE/kubelet/pods/${gone[$i]}" ] && { echo "  removed pod ${gone[$i]}: NOT reaped"; exit 1; }
        echo "  removed pod ${gone[$i]}: pod dir, log dir and cgroup gone"
done
left=$("$PODCTL" list-containers | awk -v u="$worker" '$2 == u && $3 == "app" { print $4 }')
[ "$left" = 3 ] || { echo "  worker: dead containers left: '$left', expected attempt 3 only"; exit 1; }
echo "  worker: the newest exited container (attempt 3) kept for restart counts and --previous logs, 3 removed"
left=$("$PODCTL" list-sandboxes | awk -v u="$job" '$2 == u { print $4 }')
[ "$left" = 2 ] || { echo "  job: sandboxes left: '$left', expected attempt 2 only"; exit 1; }
echo "  job: the newest sandbox (attempt 2) kept, 2 removed"
if grep -q "quarterly numbers" "$vol/report.csv"; then
        echo "  removed pod ${gone[2]}: kept, its mounted volume's data is intact: $(cat "$vol/report.csv")"
else
        echo "  mounted volume data LOST" && exit 1
fi
say "Tearing down"
