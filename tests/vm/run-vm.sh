#!/bin/bash
# tests/vm/run-vm.sh IMAGE_DIR STAGE_DIR OUT_DIR [TIMEOUT_S]
#
# Boots the VM node (build-image.sh's IMAGE_DIR) under qemu TCG on pure cgroup v2, with STAGE_DIR
# (the source tree, host-built binaries and the .deb, see stage.sh) as its second disk, mounted at
# /root/work. The image's vm-suite.service runs /root/work/tests/vm/guest-run.sh there once the
# node is up; its output comes out on the second serial port (OUT_DIR/suite.log), the console on
# the first (OUT_DIR/console.log). Afterwards OUT_DIR/results holds what the guest left in
# /root/work/vm-results (TAP logs, journal excerpts).
#
# The base disk is never written (qemu -snapshot), so every boot sees the node as built. Exit
# status: the suite's own, or 124 when the VM did not power off within TIMEOUT_S (default 2400),
# 3 when the suite never reported.
#
# /dev/kvm here is nested and a stock kernel hangs on it: TCG, ~10-20x slower than the host.
set -uo pipefail

img=${1:?usage: run-vm.sh IMAGE_DIR STAGE_DIR OUT_DIR [TIMEOUT_S]}
stage=${2:?}
out=${3:?}
timeout_s=${4:-2400}
mem=${PODREAPER_VM_MEM:-6144}

mkdir -p "$out"
rm -f "$out/suite.log" "$out/console.log"
rm -rf "$out/results"
work=$out/work.img

# The suite's disk: the staged tree plus room for what the suite writes (make check builds there).
rm -f "$work"
truncate -s 8G "$work"
mkfs.ext4 -q -F -L vmwork -d "$stage" "$work" || exit 2

start=$(date +%s)
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
        -accel tcg,thread=multi -cpu max -smp 2 -m "$mem" \
        -display none -no-reboot -nic none \
        -kernel "$img/vmlinuz" -initrd "$img/initrd" \
        -append "root=LABEL=vmroot rw console=ttyS0 loglevel=3 systemd.unified_cgroup_hierarchy=1 systemd.show_status=1" \
        -drive file="$img/disk.img",format=raw,if=virtio,snapshot=on \
        -drive file="$work",format=raw,if=virtio \
        -serial file:"$out/console.log" -serial file:"$out/suite.log" &
qemu_pid=$!
# A node that never starts the suite (a unit that failed, a disk that did not show up) is known
# within minutes, not at the end of the whole budget: the suite's first line must come by then.
started=0
while kill -0 "$qemu_pid" 2>/dev/null; do
        if [ "$started" -eq 0 ]; then
                if grep -q '^# vm: ' "$out/suite.log" 2>/dev/null; then
                        started=1
                elif [ $(($(date +%s) - start)) -gt "${PODREAPER_VM_START_TIMEOUT:-420}" ]; then
                        echo "run-vm: the suite did not start within ${PODREAPER_VM_START_TIMEOUT:-420} s of boot" >&2
                        kill "$qemu_pid"
                fi
        fi
        sleep 2
done
wait "$qemu_pid"
qemu_rc=$?
echo "$(($(date +%s) - start))" >"$out/vm-seconds"
sed -i 's/\r$//' "$out/suite.log" # the serial line's CRLF

# Results back without a loop mount: debugfs reads the ext4 image directly.
mkdir -p "$out/results"
debugfs -R "rdump /vm-results $out/results" "$work" >/dev/null 2>&1
[ -d "$out/results/vm-results" ] && mv "$out/results/vm-results"/* "$out/results/" 2>/dev/null &&
        rmdir "$out/results/vm-results"
rm -f "$work"

if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
        echo "run-vm: the VM did not power off within ${timeout_s} s; last console lines:" >&2
        tail -n 20 "$out/console.log" >&2
        exit 124
fi
rc=$(sed -n 's/^VM-SUITE-EXIT \([0-9]*\).*/\1/p' "$out/suite.log" | tail -n 1)
if [ -z "$rc" ]; then
        echo "run-vm: the suite never reported (qemu exit $qemu_rc); last console lines:" >&2
        tail -n 30 "$out/console.log" >&2
        exit 3
fi
exit "$rc"
