#!/bin/bash
# e2e: the podreaper binary against the private containerd (tests/e2e/with-containerd.sh), a
# temporary kubelet root, real pod cgroups under the test's kubepods name, and real mounts in a
# private mount namespace. Every case asserts the kernel's and the runtime's state afterwards.
# Prints TAP. Needs root; PODREAPER_BUILD names the build dir.
set -u

TAP_WORK_PREFIX=podreaper-e2e
. "$(dirname "$0")/lib/tap.sh"
GRACE=2s
GRACE_WAIT=2.2

sleepers=()

cleanup() {
        local pid
        for pid in "${sleepers[@]}"; do kill -KILL "$pid" 2>/dev/null; done
        tap_remove_work
}
trap cleanup EXIT

# A node: its own kubelet root, log dirs, state dir.
new_node() {
        NODE=$(mktemp -d "$WORK/node.XXXXXX")
        mkdir -p "$NODE/kubelet/pods" "$NODE/pods-logs" "$NODE/state"
}

reaper() { # reaper COMMAND [flags...]: runs podreaper on the current node ($REAPER_EXEC=exec: in place)
        local cmd=$1
        shift
        ${REAPER_EXEC:-} "$PODREAPER" "$cmd" --root-dir "$NODE/kubelet" --pod-logs-dir "$NODE/pods-logs" \
                --container-logs-dir "$NODE/containers-logs" --state-dir "$NODE/state" \
                --kubepods-cgroup "$KP" --cgroup-driver cgroupfs \
                --container-runtime-endpoint "$PODREAPER_TEST_CRI_ENDPOINT" \
                --orphan-grace "$GRACE" --require-kubelet=false "$@"
}

# What the kubelet leaves on disk for a pod.
make_pod_dir() {
        local uid=$1 p="$NODE/kubelet/pods/$1"
        mkdir -p "$p/volumes/kubernetes.io~empty-dir/cache" "$p/volumes/kubernetes.io~secret/token" \
                "$p/containers/app" "$p/plugins/kubernetes.io~empty-dir/cache" "$p/volume-subpaths"
        echo 0 >"$p/containers/app/0a1b2c3d"
        echo "127.0.0.1 localhost" >"$p/etc-hosts"
        mkdir -p "$NODE/pods-logs/default_pod-${uid}_$uid/app"
        echo "log line" >"$NODE/pods-logs/default_pod-${uid}_$uid/app/0.log"
}

# A pod that ran and was deleted: its sandbox is gone from the runtime, its pod cgroup (containerd
# never removes that level), pod dir and log dir stay behind.
make_removed_pod() {
        local uid=$1
        "$PODCTL" run-pod "$uid" "pod-$uid" default "$KP" "$NODE/pods-logs/default_pod-${uid}_$uid" >/dev/null || return 1
        "$PODCTL" rm-pod "$uid" || return 1
        make_pod_dir "$uid"
}

make_live_pod() {
        local uid=$1
        "$PODCTL" run-pod "$uid" "pod-$uid" default "$KP" "$NODE/pods-logs/default_pod-${uid}_$uid" >/dev/null || return 1
        make_pod_dir "$uid"
}

# A pod cgroup in every hierarchy holding a process nobody knows (a runtime that lost its state).
make_lost_pod_cgroup() {
        local uid=$1 h pid
        sleep 100000 &
        pid=$!
        sleepers+=("$pid")
        for h in "${CG_HIERARCHIES[@]}"; do
                mkdir -p "$h/$KP/besteffort/pod$uid/lost"
                echo "$pid" 2>/dev/null >"$h/$KP/besteffort/pod$uid/lost/cgroup.procs" # cpuset: ENOSPC, fine
        done
        echo "$pid"
}

cgroup_exists() { # in any hierarchy
        local h
        for h in "${CG_HIERARCHIES[@]}"; do
                [ -d "$h/$KP/besteffort/pod$1" ] && return 0
        done
        return 1
}
cgroup_gone() { ! cgroup_exists "$1"; }
each() { # each PREDICATE UID...: true for every one
        local f=$1 x
        shift
        for x; do "$f" "$x" || return 1; done
}
# The kubelet's least CPU in every hierarchy with the cpu controller, at least one: cpu.shares=2 on
# v1, cpu.weight=1 on cgroup2. A missing file fails: on v2 it exists only when the parent's
# cgroup.subtree_control has +cpu (runc enables it on the way down when it makes the sandbox's cgroup).
cpu_reduced() {
        local uid=$1 h f want got n=0
        for h in "${CG_HIERARCHIES[@]}"; do
                if [ -e "$h/cgroup.controllers" ]; then # cgroup2: controller-less on hybrid
                        grep -qw cpu "$h/cgroup.controllers" || continue
                        f=cpu.weight want=1
                elif [ -e "$h/cpu.shares" ]; then # the v1 hierarchy with cpu
                        f=cpu.shares want=2
                else
                        continue
                fi
                f=$h/$KP/besteffort/pod$uid/$f
                got=$(cat "$f") || return 1
                [ "$got" = "$want" ] || { echo "$f: $got, expected $want"; return 1; }
                n=$((n + 1))
        done
        [ "$n" -gt 0 ] || { echo "no hierarchy with the cpu controller under $CG"; return 1; }
}
dir_gone() { [ ! -e "$NODE/kubelet/pods/$1" ] && [ ! -e "$NODE/pods-logs/default_pod-${1}_$1" ]; }
dir_exists() { [ -d "$NODE/kubelet/pods/$1" ]; }
pod_runs() { "$PODCTL" has-pod "$1" && cgroup_exists "$1"; }
listing() { # everything podreaper could touch, to compare before and after
        (cd "$NODE" && find . -path ./state -prune -o -printf '%p %y %s\n' | sort) # state/: our own
        for h in "${CG_HIERARCHIES[@]}"; do [ -d "$h/$KP" ] && (cd "$h/$KP" && find . -type d | sort); done
}

# ---- cases ------------------------------------------------------------------------------------

case_live_and_removed() {
        new_node
        local live gone
        live=$(new_uid)
        gone=$(new_uid)
        make_live_pod "$live" && make_removed_pod "$gone" || { not_ok "set up live and removed pods"; return; }

        reaper run >"$WORK/out1" 2>&1
        check "first run: removed pod is within the grace, kept" dir_exists "$gone"
        check "first run: its cgroup kept" cgroup_exists "$gone"
        check "first run: report names the grace" grep -q "grace" "$WORK/out1"

        sleep "$GRACE_WAIT"
        reaper run --output json --metrics-file "$NODE/podreaper.prom" >"$WORK/out2" 2>"$WORK/err2"
        rc=$?
        check "second run exits 0" test $rc -eq 0
        check "second run: removed pod's dir and log dir gone" dir_gone "$gone"
        check "second run: removed pod's cgroup gone in every hierarchy" cgroup_gone "$gone"
        check "second run: JSON report is valid" /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/out2"
        check "metrics file: the pass's removals, counted as the JSON report counts them" \
                grep -qx 'podreaper_actions{kind="remove-pod-dir",result="done"} 1' "$NODE/podreaper.prom"
        check "metrics file: the last pass succeeded" grep -qx 'podreaper_last_pass_success 1' "$NODE/podreaper.prom"
        check "live pod untouched: runtime has it, cgroup and dir exist" pod_runs "$live"
        check "live pod dir untouched" dir_exists "$live"
        "$PODCTL" rm-pod "$live"
}

case_mounted_volume() {
        new_node
        local uid v
        uid=$(new_uid)
        make_removed_pod "$uid" || { not_ok "set up removed pod"; return; }
        v="$NODE/kubelet/pods/$uid/volumes/kubernetes.io~empty-dir/cache"
        mount -t tmpfs tmpfs "$v" && echo "live volume data" >"$v/data"
        sleep "$GRACE_WAIT"

        reaper run >/dev/null 2>"$WORK/err" # first sighting
        sleep "$GRACE_WAIT"
        reaper run >"$WORK/out" 2>"$WORK/err"
        check "mounted: pod dir kept" dir_exists "$uid"
        check "mounted: volume data intact" grep -q "live volume data" "$v/data"
        check "mounted: refusal names the mount" grep -q "volume still mounted" "$WORK/out"
        check "mounted: cgroup CPU reduced (cpu.shares=2 on v1, cpu.weight=1 on v2)" cpu_reduced "$uid"

        umount "$v"
        reaper run >"$WORK/out" 2>"$WORK/err"
        check "after the unmount: reaped on the next run" dir_gone "$uid"
        check "after the unmount: cgroup gone" cgroup_gone "$uid"
}

case_new_pod_dir() {
        new_node
        local uid
        uid=$(new_uid)
        make_pod_dir "$uid" # the kubelet made the dir, the sandbox is not there yet
        reaper run >"$WORK/out" 2>&1
        check "brand-new pod dir without a sandbox untouched" dir_exists "$uid"
}

case_runtime_down() {
        new_node
        local uid before after rc
        uid=$(new_uid)
        make_removed_pod "$uid" || { not_ok "set up"; return; }
        sleep "$GRACE_WAIT"
        before=$(listing)
        "$PODREAPER" run --root-dir "$NODE/kubelet" --pod-logs-dir "$NODE/pods-logs" --state-dir "$NODE/state" \
                --kubepods-cgroup "$KP" --container-runtime-endpoint "unix://$WORK/no-such.sock" \
                --orphan-grace "$GRACE" --require-kubelet=false >"$WORK/out" 2>&1
        rc=$?
        after=$(listing)
        check "runtime down: exit 2" test "$rc" -eq 2
        check "runtime down: nothing touched" test "$before" = "$after"
        check "runtime down: the reason names the endpoint" grep -q "no-such.sock" "$WORK/out"
}

case_kubelet_required() {
        new_node
        local uid before after rc
        uid=$(new_uid)
        make_removed_pod "$uid" || { not_ok "set up"; return; }
        sleep "$GRACE_WAIT"
        before=$(listing)
        reaper run --require-kubelet=true >"$WORK/out" 2>&1
        rc=$?
        after=$(listing)
        check "kubelet required but absent: exit 2" test "$rc" -eq 2
        check "kubelet required but absent: no pod-level action" test "$before" = "$after"
        check "kubelet required but absent: says why" grep -qi "kubelet" "$WORK/out"
}

case_breaker() {
        new_node
        local a b c
        a=$(new_uid)
        b=$(new_uid)
        c=$(new_uid)
        make_lost_pod_cgroup "$a" >/dev/null
        make_lost_pod_cgroup "$b" >/dev/null
        make_lost_pod_cgroup "$c" >/dev/null
        sleep "$GRACE_WAIT"
        reaper run >/dev/null 2>&1
        reaper run >"$WORK/out" 2>&1
        check "breaker: 3 of 3 populated pod cgroups orphaned, none killed" each cgroup_exists "$a" "$b" "$c"
        check "breaker: the report says why" grep -qi "circuit breaker\|look orphaned" "$WORK/out"
        sleep "$GRACE_WAIT"
        reaper run --max-orphan-fraction 1 >"$WORK/out" 2>&1
        check "breaker lifted (--max-orphan-fraction 1): the lost cgroups are destroyed" \
                each cgroup_gone "$a" "$b" "$c"
}

case_reap_pod_live() {
        new_node
        local live rc
        live=$(new_uid)
        make_live_pod "$live" || { not_ok "set up"; return; }
        reaper reap-pod "$live" >"$WORK/out" 2>&1
        rc=$?
        check "reap-pod of a live uid: refused, pod runs" pod_runs "$live"
        check "reap-pod of a live uid: its dir stays" dir_exists "$live"
        check "reap-pod of a live uid: says live" grep -qi "live" "$WORK/out"
        "$PODCTL" rm-pod "$live"
        reaper reap-pod "$live" >"$WORK/out" 2>&1
        check "reap-pod after deletion: reaped at once, grace ignored" dir_gone "$live"
        check "reap-pod after deletion: cgroup gone" cgroup_gone "$live"
}

case_two_runs() {
        new_node
        local rc
        exec 9>"$NODE/state/lock"
        flock -n 9
        reaper run >"$WORK/out" 2>&1
        rc=$?
        exec 9>&-
        check "second run at once: exit 75" test "$rc" -eq 75
        check "second run at once: names the lock" grep -q "lock" "$WORK/out"
}

case_dry_run() {
        new_node
        local uid before after
        uid=$(new_uid)
        make_removed_pod "$uid" || { not_ok "set up"; return; }
        sleep "$GRACE_WAIT"
        reaper run --dry-run >/dev/null 2>&1 # a first sighting is not saved either
        before=$(listing)
        reaper plan >"$WORK/plan" 2>&1
        reaper run --dry-run >"$WORK/dry" 2>&1
        after=$(listing)
        check "plan and --dry-run change nothing (full listing)" test "$before" = "$after"
        check "plan says what it would do" grep -q "$uid" "$WORK/plan"
}

case_crash_safety() {
        new_node
        local uids=() uid i live
        live=$(new_uid)
        make_live_pod "$live" || { not_ok "set up"; return; }
        for i in $(seq 1 40); do
                uid=$(new_uid)
                uids+=("$uid")
                make_pod_dir "$uid"
                for j in $(seq 1 200); do echo "$j" >"$NODE/kubelet/pods/$uid/containers/app/f$j"; done
                for h in "${CG_HIERARCHIES[@]}"; do mkdir -p "$h/$KP/besteffort/pod$uid/c1"; done
        done
        sleep "$GRACE_WAIT" # the grace counts the last change too
        reaper run >/dev/null 2>&1 # first sighting
        sleep "$GRACE_WAIT"
        for i in $(seq 1 20); do
                # exec: $! is podreaper itself, not a subshell that would die and leave it running.
                REAPER_EXEC=exec reaper run >/dev/null 2>&1 &
                local pid=$!
                sleep "0.0$((RANDOM % 9 + 1))"
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        reaper run >"$WORK/out" 2>&1
        local left=0
        for uid in "${uids[@]}"; do
                dir_gone "$uid" && cgroup_gone "$uid" || left=$((left + 1))
        done
        check "crash safety: after 20 SIGKILLs and a final run, every orphan is gone ($left left)" test "$left" -eq 0
        check "crash safety: the live pod untouched" pod_runs "$live"
        check "crash safety: the state file is valid" head -n 1 "$NODE/state/state"
        check "crash safety: no temp state files left" bash -c "! ls $NODE/state | grep -q tmp"
        "$PODCTL" rm-pod "$live"
}

case_live_and_removed
case_mounted_volume
case_new_pod_dir
case_runtime_down
case_kubelet_required
case_breaker
case_reap_pod_live
case_two_runs
case_dry_run
case_crash_safety

echo "1..$n"
[ "$failed" -eq 0 ]
