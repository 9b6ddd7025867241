#!/bin/bash
# tests/vm/bench-vm.sh BUILD — `make bench-vm`: the same node work (tests/bench/bench-node.sh) on the
# host's cgroupfs driver (a private containerd) and on the VM node's systemd driver (pure cgroup v2,
# the system containerd), in one run, side by side. The VM is TCG-emulated (~10-20x slower), so
# what compares is the ratio reap/idle within each side, not the absolute figures.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
build=${1:?usage: bench-vm.sh BUILD}
orphans=${BENCH_NODE_ORPHANS:-200}
out=$build/vm/bench
mkdir -p "$out"

tests/e2e/with-containerd.sh tests/bench/bench-node.sh "$build" cgroupfs "$orphans" | tee "$out/host.txt"
PODREAPER_VM_BENCH_ORPHANS=$orphans tests/vm/check-vm.sh "$build" bench >"$out/vm.log" 2>&1
grep '^bench-node ' "$out/vm.log" | tee "$out/vm.txt"

val() { awk -v k="$2" '$3 == k { print $4 }' "$1"; }
printf '\n%-28s %12s %12s %8s\n' "" "host cgroupfs" "VM systemd" "VM/host"
for k in idle_cpu_ms_median reap_wall_ms reap_cpu_ms reap_maxrss_kb leftovers survivors; do
        h=$(val "$out/host.txt" "$k")
        v=$(val "$out/vm.txt" "$k")
        r=$(awk -v h="${h:-0}" -v v="${v:-0}" 'BEGIN { if (h > 0) printf "%.1fx", v / h; else print "-" }')
        printf '%-28s %12s %12s %8s\n' "$k" "${h:-?}" "${v:-?}" "$r"
done
# Per orphan, in units of the same side's idle pass: what the driver costs, TCG factored out.
awk -v hi="$(val "$out/host.txt" idle_cpu_ms_median)" -v hr="$(val "$out/host.txt" reap_cpu_ms)" \
        -v vi="$(val "$out/vm.txt" idle_cpu_ms_median)" -v vr="$(val "$out/vm.txt" reap_cpu_ms)" 'BEGIN {
        if (hi > 0 && vi > 0)
                printf "reap CPU / idle CPU: host %.1f, VM %.1f (systemd driver / cgroupfs driver: %.2fx)\n", hr / hi, vr / vi, (vr / vi) / (hr / hi)
}'
