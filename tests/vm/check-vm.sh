#!/bin/bash
# tests/vm/check-vm.sh BUILD [MODE] — `make check-vm`: the VM suite on a production-like node.
#
# Builds (or takes from the cache) the VM image (build-image.sh: Debian 12 from Debian's packages,
# systemd as PID 1, pure cgroup v2, Debian's containerd on the systemd cgroup driver), builds the
# .deb from the working tree, stages the tree with the host-built binaries and the .deb onto the
# VM's second disk, boots it (run-vm.sh), and prints the suite's TAP summary. The last line is
# "N passed, N failed"; exit 0 only when every case passed and the VM came back in time.
#
#   MODE suite (default): tests/vm/*.t. PODREAPER_VM_ONLY="tests/vm/10-x.t ..." runs only those
#        (00-node.t always runs first).
#   MODE make-check: the project's whole `make check` inside the VM (~25 min), for the record.
#   MODE bench: tests/bench/bench-node.sh on the systemd driver (make bench-vm prints the ratios).
#
# Figures (image build, boot, suite) go to BUILD/vm/out/figures.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
build=${1:?usage: check-vm.sh BUILD [suite|make-check]}
mode=${2:-suite}
vm=$build/vm
out=$vm/out
timeout_s=${PODREAPER_VM_TIMEOUT:-2700}
[ "$mode" = make-check ] && timeout_s=${PODREAPER_VM_TIMEOUT:-4800}

if [ "$(id -u)" -ne 0 ]; then
        echo "check-vm: needs root (mmdebstrap, mkfs.ext4 -d of a root filesystem)" >&2
        exit 2
fi
mkdir -p "$vm" "$out"

t0=$(date +%s)
img=$(tests/vm/build-image.sh "$vm/image") || {
        echo "check-vm: building the VM image failed"
        echo "0 passed, 1 failed"
        exit 1
}
t1=$(date +%s)

deb=$(packaging/build-deb.sh "$vm/deb" 2>"$vm/deb.log" | tail -n 1)
if [ ! -f "$deb" ]; then
        echo "check-vm: building the .deb failed:"
        tail -n 20 "$vm/deb.log"
        echo "0 passed, 1 failed"
        exit 1
fi

# The second disk: the source tree as git sees it, the host's build (Debian 12 both sides, the
# same libraries), the .deb, and what to run.
stage=$vm/stage
rm -rf "$stage"
mkdir -p "$stage/deb"
packaging/source-files.sh | tar --null -T - -cf - | tar -xf - -C "$stage"
if [ "$mode" = make-check ]; then
        # up to date (mtimes kept): make check there rebuilds nothing; not the VM's own files
        mkdir -p "$stage/build"
        tar -C "$build" --exclude=./vm --exclude=./test-logs -cf - . | tar -C "$stage/build" -xf -
else
        mkdir -p "$stage/build/tests/e2e" "$stage/build/tests/kernel"
        cp -a "$build/podreaper" "$stage/build/"
        cp -a "$build/tests/e2e/podctl" "$stage/build/tests/e2e/"
        cp -a "$build"/tests/kernel/test-* "$stage/build/tests/kernel/" 2>/dev/null
fi
cp "$deb" "$stage/deb/"
echo "$mode" >"$stage/vm-mode"
if [ -n "${PODREAPER_VM_ONLY:-}" ]; then
        printf '%s\n' $PODREAPER_VM_ONLY >"$stage/vm-only"
fi

tests/vm/run-vm.sh "$img" "$stage" "$out" "$timeout_s"
rc=$?
t2=$(date +%s)
rm -rf "$stage"

boot=$(grep -m1 '^# vm: up ' "$out/suite.log" 2>/dev/null | sed 's/^# vm: up \([0-9.]*\).*/\1/')
{
        echo "image: root filesystem $(cat "$img/rootfs-seconds" 2>/dev/null || echo '?') s, disk $(cat "$img/build-seconds" 2>/dev/null || echo '?') s to build ($((t1 - t0)) s this run)," \
                "$(du -s --block-size=1M "$img/disk.img" | cut -f1) MB on disk, $(wc -l <"$img/manifest") packages"
        echo "boot to the suite: ${boot:-?} s; VM in all: $(cat "$out/vm-seconds" 2>/dev/null || echo '?') s;" \
                "check-vm in all: $((t2 - t0)) s"
} >"$out/figures"

# The guest's summary (tests/run-tests.sh) is the suite's; the host adds the VM's own verdict.
grep -v '^VM-SUITE-EXIT' "$out/suite.log" 2>/dev/null
sed 's/^/# /' "$out/figures"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out/suite.log" 2>/dev/null | tail -n 1)
if [ "$rc" -ne 0 ] && { [ -z "$last" ] || [ "$rc" -ge 3 ]; }; then
        # the VM hung or the suite never finished: that is a failure of its own
        p=${last%% passed*}
        f=${last#*passed, }
        f=${f%% failed}
        echo "check-vm: the VM run failed (exit $rc)"
        echo "${p:-0} passed, $((${f:-0} + 1)) failed"
        exit 1
fi
[ -n "$last" ] || echo "0 passed, 1 failed"
exit "$rc"
