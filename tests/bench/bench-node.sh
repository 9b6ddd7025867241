#!/bin/bash
# tests/bench/bench-node.sh BUILD DRIVER [ORPHANS] — one node's podreaper figures, the same work
# on either cgroup driver, for the host/VM comparison of `make bench-vm`:
#   idle   `podreaper run` (every kind) over LIVE pods started through the CRI: CPU, median of 5
#   reap   ORPHANS (default 200) orphaned pods, each a pod cgroup with one child holding a sleeping
#          process nobody knows, a pod dir and a log dir: the second `podreaper run` (the first
#          sees them, the grace is 1 s) destroys them all; wall and CPU, leftovers counted.
# DRIVER cgroupfs: under tests/e2e/with-containerd.sh (its private containerd, the kubepods name it
# gives), the pod cgroup in every hierarchy of the mount table. DRIVER systemd: on the VM node
# (the system containerd, kubepods.slice), each orphan a slice with a scope made by systemd-run.
# Prints "bench-node DRIVER KEY VALUE" lines; no timing is asserted.
set -u
build=${1:?usage: bench-node.sh BUILD cgroupfs|systemd [ORPHANS]}
driver=${2:?}
orphans=${3:-200}
live=${BENCH_NODE_LIVE:-10}
PODREAPER=$(realpath "$build/podreaper")
PODCTL=$(realpath "$build/tests/e2e/podctl")
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/bench-node.XXXXXX)
mkdir -p "$WORK/kubelet/pods" "$WORK/logs" "$WORK/containers" "$WORK/state" "$WORK/podlogs"
sleepers=()
uids=()

case $driver in
cgroupfs)
        : "${PODREAPER_TEST_CRI_ENDPOINT:?run under tests/e2e/with-containerd.sh}"
        kp=$PODREAPER_TEST_KUBEPODS
        kp_arg=$kp
        ;;
systemd)
        [ "${PODREAPER_VM:-}" = 1 ] || {
                echo "bench-node.sh systemd: only on the VM node (make bench-vm)" >&2
                exit 2
        }
        export PODREAPER_TEST_CRI_ENDPOINT=unix:///run/containerd/containerd.sock
        kp=kubepods
        kp_arg=kubepods.slice
        ;;
*)
        echo "bench-node.sh: driver cgroupfs or systemd, not '$driver'" >&2
        exit 2
        ;;
esac
flags=(--root-dir "$WORK/kubelet" --pod-logs-dir "$WORK/logs" --container-logs-dir "$WORK/containers"
        --state-dir "$WORK/state" --kubepods-cgroup "$kp" --container-runtime-endpoint "$PODREAPER_TEST_CRI_ENDPOINT"
        --require-kubelet=false --orphan-grace 1s --max-orphan-fraction 1)

cleanup() {
        local p u
        for p in "${sleepers[@]}"; do kill -KILL "$p" 2>/dev/null; done
        for u in "${uids[@]}"; do "$PODCTL" rm-pod "$u" >/dev/null 2>&1; done
        if [ "$driver" = systemd ]; then
                for u in "${uids[@]}"; do systemctl stop "kubepods-besteffort-pod${u//-/_}.slice" 2>/dev/null; done
        fi
        rm -rf "$WORK"
}
trap cleanup EXIT

# rusage of one command: "wall_ms cpu_ms maxrss_kb".
measure() {
        "$PY" -c '
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
w = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%d %d %d" % (w * 1000, (r.ru_utime + r.ru_stime) * 1000, r.ru_maxrss))
' "$@"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
hierarchies() { awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | grep '^/sys/fs/cgroup'; }

# ---- idle: live pods only ---------------------------------------------------------------------
for i in $(seq "$live"); do
        u=$(cat /proc/sys/kernel/random/uuid)
        uids+=("$u")
        "$PODCTL" run-pod "$u" "pod-$u" default "$kp_arg" "$WORK/podlogs/default_pod-${u}_$u" >/dev/null || {
                echo "bench-node: starting live pod $i failed" >&2
                exit 1
        }
        mkdir -p "$WORK/kubelet/pods/$u"
done
"$PODREAPER" run "${flags[@]}" >/dev/null 2>&1 # warm: the state file exists from here on
for i in 1 2 3 4 5; do measure "$PODREAPER" run "${flags[@]}" | cut -d' ' -f2; done >"$WORK/idle"
echo "bench-node $driver idle_cpu_ms_median $(median <"$WORK/idle") ($live live pods)"

# ---- reap: orphans with a process each --------------------------------------------------------
mapfile -t hs < <(hierarchies)
t0=$(date +%s%N)
orphan_uids=()
for i in $(seq "$orphans"); do
        u=$(cat /proc/sys/kernel/random/uuid)
        orphan_uids+=("$u")
        if [ "$driver" = systemd ]; then
                systemd-run --quiet --scope --slice="kubepods-besteffort-pod${u//-/_}.slice" \
                        --unit="bench-node-$i-$$" sleep 100000 >/dev/null 2>&1 &
                sleepers+=($!)
                disown $! # its SIGKILL is the point, not news
        else
                sleep 100000 &
                p=$!
                disown "$p"
                sleepers+=("$p")
                for h in "${hs[@]}"; do
                        [ -e "$h/cgroup.procs" ] || continue
                        mkdir -p "$h/$kp/besteffort/pod$u/c1"
                        echo "$p" 2>/dev/null >"$h/$kp/besteffort/pod$u/c1/cgroup.procs"
                done
        fi
        mkdir -p "$WORK/kubelet/pods/$u/volumes/kubernetes.io~empty-dir/cache" "$WORK/logs/default_pod-${u}_$u/app"
        echo "log" >"$WORK/logs/default_pod-${u}_$u/app/0.log"
done
echo "bench-node $driver setup_ms $((($(date +%s%N) - t0) / 1000000)) ($orphans orphans)"
sleep 1.5
"$PODREAPER" run "${flags[@]}" >/dev/null 2>&1 # first sighting
sleep 1.2
read -r wall cpu rss < <(measure "$PODREAPER" run "${flags[@]}")
echo "bench-node $driver reap_wall_ms $wall"
echo "bench-node $driver reap_cpu_ms $cpu"
echo "bench-node $driver reap_maxrss_kb $rss"
left=0
for u in "${orphan_uids[@]}"; do
        if [ "$driver" = systemd ]; then
                [ -d "/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${u//-/_}.slice" ] && left=$((left + 1))
        else
                for h in "${hs[@]}"; do [ -d "$h/$kp/besteffort/pod$u" ] && left=$((left + 1)) && break; done
        fi
        [ -e "$WORK/kubelet/pods/$u" ] && left=$((left + 1))
done
alive=0
for p in "${sleepers[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
echo "bench-node $driver leftovers $left"
echo "bench-node $driver survivors $alive"
