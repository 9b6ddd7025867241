#!/bin/bash
# Pure cgroup v2 with every controller, on the systemd driver: a fork bomb inside an orphaned pod
# slice leaves no survivor (cgroup.kill), a pod that must wait for its mounted volume gets
# cpu.weight=1 and nothing else — and keeps it when systemd re-realizes its units — and the
# memory-cgroup count `check` reports is the kernel's.
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=lib.sh
. tests/vm/lib.sh
new_node
vm_images || { not_ok "images imported"; echo "1..$n"; exit 1; }
mounts=()
bomb_pid=""
cleanup() {
        local m
        [ -n "$bomb_pid" ] && kill -KILL "$bomb_pid" 2>/dev/null
        for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null; done
        vm_cleanup
}
trap cleanup EXIT

# Two live pods with processes: one orphan among three populated pod cgroups stays below the
# circuit breaker's --max-orphan-fraction (0.5).
for q in besteffort burstable; do
        u=$(new_uid)
        VM_UIDS+=("$u")
        run_pod "$u" "$q" >/dev/null || not_ok "live $q pod started"
        mkdir -p "$NODE/kubelet/pods/$u"
        live+=("$u:$q")
done

# ---- a fork bomb in an orphaned pod slice -----------------------------------------------------
bomb=$(new_uid)
VM_UIDS+=("$bomb")
bomb_slice=$(slice_path "$bomb" besteffort)
# What a lost runtime leaves: a scope of processes nobody knows in the pod's slice. Every process
# forks without end, as many as TasksMax lets live.
systemd-run --quiet --scope --unit="podreaper-vm-bomb-$$" --slice="$(slice_name "$bomb" besteffort)" \
        -p TasksMax=256 bash -c 'b() { while :; do b & done; }; b' >/dev/null 2>&1 &
bomb_pid=$!
for i in $(seq 100); do
        [ "$(cat "$bomb_slice/pids.current" 2>/dev/null || echo 0)" -ge 200 ] && break
        sleep 0.1
done
check "fork bomb: 200+ processes in the orphan's slice ($(cat "$bomb_slice/pids.current" 2>/dev/null))" \
        test "$(cat "$bomb_slice/pids.current" 2>/dev/null || echo 0)" -ge 200
reaper run >"$WORK/bomb1.out" 2>&1
sleep "$GRACE_WAIT"
strace -f -qq -e trace=openat,write,rmdir -o "$WORK/strace" "$PODREAPER" -v run "${NODE_FLAGS[@]}" --only cgroups \
        >"$WORK/bomb2.out" 2>&1
rc=$?
check "fork bomb: run exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 20 "$WORK/bomb2.out" | sed 's/^/# /'
check "fork bomb: killed through cgroup.kill" grep -q 'cgroup.kill' "$WORK/strace"
check "fork bomb: the slice's cgroup is gone" test ! -d "$bomb_slice"
if [ -d "$bomb_slice" ]; then
        echo "# left: $(find "$bomb_slice" -type d | sed "s|$bomb_slice|.|" | paste -sd' ')"
        echo "# events: $(paste -sd' ' "$bomb_slice/cgroup.events" 2>/dev/null)"
        grep -E 'rmdir|cgroup.kill' "$WORK/strace" | tail -n 8 | sed 's/^/# strace: /'
        grep -i 'destroy\|slice' "$WORK/bomb2.out" | tail -n 6 | sed 's/^/# out: /'
        sleep 2
        check "fork bomb: ... gone 2 s later (someone else removed it: $([ -d "$bomb_slice" ] && echo no || echo yes))" test ! -d "$bomb_slice"
fi
check "fork bomb: the slice unit is gone" unit_gone "$(slice_name "$bomb" besteffort)"
wait "$bomb_pid" 2>/dev/null
bomb_pid=""
check "fork bomb: no survivor anywhere (no bash running b)" bash -c "! pgrep -f 'b() { while :; do b & done; }' >/dev/null"

# ---- a pod that must wait: cpu.weight=1, nothing else -----------------------------------------
mounted=$(new_uid)
VM_UIDS+=("$mounted")
run_pod "$mounted" burstable >/dev/null && "$PODCTL" rm-pod "$mounted" || not_ok "mounted pod set up"
mslice=$(slice_path "$mounted" burstable)
v=$NODE/kubelet/pods/$mounted/volumes/kubernetes.io~empty-dir/cache
mkdir -p "$v" && mount -t tmpfs tmpfs "$v" && mounts+=("$v") && echo "live volume data" >"$v/data"
weight_before=$(cat "$mslice/cpu.weight" 2>/dev/null || echo none)
reaper run >/dev/null 2>&1
sleep "$GRACE_WAIT"
reaper run --output json >"$WORK/mounted.json" 2>"$WORK/mounted.err"
weight_is_1() { [ "$(cat "$mslice/cpu.weight" 2>/dev/null)" = 1 ]; }
for i in $(seq 20); do weight_is_1 && break; sleep 0.1; done
check "mounted: cpu.weight 1 (was $weight_before)" weight_is_1
check "mounted: systemd holds it as the slice's CPUWeight" test "$(systemctl show -P CPUWeight "$(slice_name "$mounted" burstable)")" = 1
systemctl daemon-reload
sleep 0.5
check "mounted: cpu.weight still 1 after systemctl daemon-reload" weight_is_1
check "mounted: the slice stays (not destroyed)" test -d "$mslice"
check "mounted: the slice unit stays active" unit_active "$(slice_name "$mounted" burstable)"
check "mounted: pod dir and volume data intact" grep -q "live volume data" "$v/data"
check "mounted: JSON has reduce-cgroup-cpu done and no destroy-cgroup for it" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); u = sys.argv[2]
kinds = {(a["kind"], a["result"]) for a in d["actions"] if a["pod_uid"] == u}
assert ("reduce-cgroup-cpu", "done") in kinds, kinds
assert not any(k == "destroy-cgroup" for k, _ in kinds), kinds
' "$WORK/mounted.json" "$mounted"
for lq in "${live[@]}"; do
        u=${lq%%:*} q=${lq#*:}
        check "live $q pod: cpu.weight not touched" \
                bash -c "[ \"\$(cat '$(slice_path "$u" "$q")/cpu.weight' 2>/dev/null || echo 100)\" != 1 ]"
        check "live $q pod: still runs" "$PODCTL" has-pod "$u"
done

# ---- the memory-cgroup count ------------------------------------------------------------------
memcg() { awk '$1 == "memory" { print $3 }' /proc/cgroups; }
count_of() { sed -n 's/.*memory cgroups at \([0-9]*\) of 65535.*/\1/p' "$1"; }
"$PODREAPER" check "${NODE_FLAGS[@]}" --check-min-age 1h >"$WORK/check1.out" 2>&1
before=$(count_of "$WORK/check1.out")
k=$(memcg)
check "check: the memory cgroup count is the kernel's (/proc/cgroups: $k, check: ${before:-none})" \
        test -n "$before" -a "${before:-0}" -ge $((k - 5)) -a "${before:-0}" -le $((k + 5))
mkdir -p "$CGROOT/podreaper-vm-count-$$"
echo +memory >"$CGROOT/podreaper-vm-count-$$/cgroup.subtree_control"
for i in $(seq 25); do mkdir "$CGROOT/podreaper-vm-count-$$/c$i"; done
"$PODREAPER" check "${NODE_FLAGS[@]}" --check-min-age 1h >"$WORK/check2.out" 2>&1
after=$(count_of "$WORK/check2.out")
rmdir "$CGROOT/podreaper-vm-count-$$"/c[0-9]* "$CGROOT/podreaper-vm-count-$$"
check "check: 26 more cgroups counted 26 more ($before -> $after)" test "$((after - before))" -eq 26

echo "1..$n"
[ "$failed" -eq 0 ]
