#!/bin/bash
# The systemd cgroup driver end to end, on the node's own containerd (SystemdCgroup = true) and
# the kubepods.slice tree systemd manages: pods of all three QoS classes started through the CRI
# with the cgroup parent the kubelet passes (kubepods-<qos>-pod<uid_>.slice), orphans made for
# real — sandboxes removed (their slice stays: containerd never removes it), and a pod whose
# runtime crashed and lost it (containerd and the pod's shim SIGKILLed, runc's state gone: its
# processes keep running in their scopes) — and `podreaper run` with --cgroup-driver auto.
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=lib.sh
. tests/vm/lib.sh
new_node
reaper() { "$PODREAPER" "$1" "${NODE_FLAGS[@]}" --only cgroups,pod-dirs,logs "${@:2}"; }

vm_images || { not_ok "images imported"; echo "1..$n"; exit 1; }

# ---- live pods, one per QoS class, and orphans whose sandbox was removed ----------------------
declare -A qos
live=()
removed=()
for q in besteffort burstable guaranteed; do
        u=$(new_uid)
        VM_UIDS+=("$u")
        qos[$u]=$q
        live+=("$u")
        run_pod "$u" "$q" >/dev/null || not_ok "live $q pod started"
        mkdir -p "$NODE/kubelet/pods/$u/volumes"
done
for q in besteffort burstable guaranteed; do
        u=$(new_uid)
        VM_UIDS+=("$u")
        qos[$u]=$q
        removed+=("$u")
        run_pod "$u" "$q" >/dev/null && "$PODCTL" rm-pod "$u" || not_ok "removed $q pod set up"
        mkdir -p "$NODE/kubelet/pods/$u/volumes/kubernetes.io~empty-dir/cache" "$NODE/logs/default_pod-${u}_$u"
done

for u in "${live[@]}"; do
        check "live ${qos[$u]} pod: its slice is a systemd unit, active" unit_active "$(slice_name "$u" "${qos[$u]}")"
        check "live ${qos[$u]} pod: its containers run in cri-containerd-*.scope" \
                bash -c "ls -d '$(slice_path "$u" "${qos[$u]}")'/cri-containerd-*.scope | wc -l | grep -qx 2"
done
for u in "${removed[@]}"; do
        check "removed ${qos[$u]} pod: the runtime forgot it" bash -c "! '$PODCTL' has-pod $u"
        check "removed ${qos[$u]} pod: its slice stays (containerd never removes it)" \
                test -d "$(slice_path "$u" "${qos[$u]}")"
done

# ---- a pod lost in a runtime crash: processes left inside, nobody knows them -----------------
lost=$(new_uid)
VM_UIDS+=("$lost")
read -r lost_sandbox lost_ctr < <(run_pod "$lost" burstable)
lost_slice=$(slice_path "$lost" burstable)
shim=$(pgrep -f "containerd-shim-runc-v2 .*-id $lost_sandbox" | head -n 1)
ctd=$(systemctl show -P MainPID containerd.service)
if [ -n "$shim" ] && [ -n "$lost_ctr" ] && [ "$ctd" -gt 0 ]; then
        # SIGKILL the runtime and the pod's shim, then take runc's state away: what a node sees after
        # a runtime crash that lost its state; the pod's processes go on in their scopes.
        kill -KILL "$ctd" "$shim"
        mkdir -p "$WORK/runc-state"
        mv /run/containerd/runc/k8s.io/"$lost_sandbox" /run/containerd/runc/k8s.io/"$lost_ctr" "$WORK/runc-state/"
        systemctl restart containerd.service
        for i in $(seq 50); do ctr --address "$SOCK" version >/dev/null 2>&1 && break; sleep 0.2; done
        "$PODCTL" rm-pod "$lost" >/dev/null 2>&1
fi
lost_pids=$(cgroup_pids "$lost_slice")
check "lost pod: the runtime does not know it" bash -c "! '$PODCTL' has-pod $lost"
check "lost pod: its processes still run in its slice ($(echo $lost_pids))" test -n "$lost_pids"
mkdir -p "$NODE/kubelet/pods/$lost/volumes"

# ---- the passes --------------------------------------------------------------------------------
reaper plan --output json >"$WORK/plan.json" 2>"$WORK/plan.err"
check "plan: --cgroup-driver auto finds the systemd driver's pods (5 orphans listed)" \
        /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
uids = set(sys.argv[2:])
seen = {a["pod_uid"] for a in d["actions"] if a["pod_uid"] in uids}
assert seen == uids, (seen, uids)
for a in d["actions"]:
    if a["kind"] == "destroy-cgroup":
        assert ".slice" in a["target"], a["target"]
' "$WORK/plan.json" "${removed[@]}" "$lost"
reaper run >"$WORK/run1.out" 2>&1
check "first run: the orphans wait out the grace (slices kept)" test -d "$lost_slice"
sleep "$GRACE_WAIT"
strace -f -qq -e trace=openat,openat2 -o "$WORK/strace" "$PODREAPER" run "${NODE_FLAGS[@]}" \
        --only cgroups,pod-dirs,logs --output json >"$WORK/run2.json" 2>"$WORK/run2.err"
rc=$?
check "second run exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/# /' "$WORK/run2.err" | tail -n 20

for u in "${removed[@]}" "$lost"; do
        q=${qos[$u]:-burstable}
        check "orphan $q $u: slice stopped through systemd (not in list-units)" unit_gone "$(slice_name "$u" "$q")"
        check "orphan $q $u: its cgroup removed" test ! -d "$(slice_path "$u" "$q")"
        check "orphan $q $u: pod dir removed" test ! -d "$NODE/kubelet/pods/$u"
done
alive=""
for p in $lost_pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
check "lost pod: every process it had is dead (${lost_pids//$'\n'/ })" test -z "$alive"
check "the kill used cgroup.kill (strace)" grep -q 'cgroup.kill' "$WORK/strace"
check "JSON: destroy-cgroup done for all 4 orphans" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
done = [a for a in d["actions"] if a["kind"] == "destroy-cgroup" and a["result"] == "done"]
assert len(done) == 4, done
' "$WORK/run2.json"

for u in "${live[@]}"; do
        q=${qos[$u]}
        check "live $q pod untouched: the runtime has it" "$PODCTL" has-pod "$u"
        check "live $q pod untouched: slice active" unit_active "$(slice_name "$u" "$q")"
        check "live $q pod untouched: its scopes still hold processes" test -n "$(cgroup_pids "$(slice_path "$u" "$q")")"
        check "live $q pod untouched: pod dir kept" test -d "$NODE/kubelet/pods/$u"
done

echo "1..$n"
[ "$failed" -eq 0 ]
