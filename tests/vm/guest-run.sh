#!/bin/bash
# tests/vm/guest-run.sh: runs inside the VM node (vm-suite.service, from /root/work), never on a
# developer's machine — the VM suite uses the node's real paths, the system containerd and
# systemd. What it runs is in /root/work/vm-mode (check-vm.sh writes it):
#   suite       tests/vm/*.t, each a TAP script (tests/vm/lib.sh), 00-node.t first: if the node
#               is not what it must be (systemd PID 1 and running, pure cgroup v2 with its
#               controllers) nothing else runs and the suite fails.
#   make-check  the project's own `make check` on this node, then a look for leftover cgroups.
#   bench       tests/bench/bench-node.sh on the systemd driver (make bench-vm).
# Output (stdout) is the second serial port; results and logs go to /root/work/vm-results, which
# run-vm.sh reads back from the disk image.
set -u
cd /root/work || exit 2
results=/root/work/vm-results
mkdir -p "$results"
export PODREAPER_VM=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mode=$(cat vm-mode 2>/dev/null || echo suite)

echo "# vm: $(uname -r), systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'), mode $mode"
echo "# vm: up $(cut -d' ' -f1 /proc/uptime) s when the suite started"

rc=0
case $mode in
suite)
        # The node first: when it is not what the suite is for, nothing else runs.
        if ! tests/vm/00-node.t >"$results/preflight.log" 2>&1; then
                echo "# vm: the node is not a booted systemd on pure cgroup v2: nothing else runs"
                sed 's/^/#   /' "$results/preflight.log"
                echo "0 passed, 1 failed"
                rc=1
        else
                cases=(tests/vm/[0-9][0-9]-*.t)
                [ -f vm-only ] && mapfile -t cases < <(echo tests/vm/00-node.t; cat vm-only)
                RUN_TESTS_SKIP_FAILS=1 tests/run-tests.sh build "${cases[@]}" || rc=1
        fi
        cp build/test-logs/tests_vm_* "$results/" 2>/dev/null
        ;;
bench)
        # make bench-vm: the systemd-driver half of the host/VM comparison.
        bash -c '. tests/vm/lib.sh && vm_images' || rc=1 # the hand-built pause and busybox images
        tests/bench/bench-node.sh build systemd "${PODREAPER_VM_BENCH_ORPHANS:-200}" || rc=1
        ;;
make-check)
        start=$(date +%s)
        # The waits of the e2e scripts are for the host: TCG runs 10-20x slower.
        PODREAPER_TEST_TIME_SCALE=10 make check >"$results/make-check.log" 2>&1 || rc=1
        echo "# vm: make check took $(($(date +%s) - start)) s"
        grep -E '^(FAIL|SKIP) |passed, .* failed' "$results/make-check.log"
        grep -A30 '^FAIL ' "$results/make-check.log" | head -n 400
        cp -r build/test-logs "$results/" 2>/dev/null
        # Nothing the suite made may stay in systemd's tree.
        left=$(find /sys/fs/cgroup -mindepth 1 -type d \( -name 'kp*' -o -name 'kpe2e*' \) 2>/dev/null)
        if [ -n "$left" ]; then
                echo "# vm: leftover cgroups after make check:"
                echo "$left" | sed 's/^/#   /' | head -n 40
                rc=1
        else
                echo "# vm: no leftover test cgroups"
        fi
        ;;
*)
        echo "# vm: unknown mode '$mode'"
        rc=2
        ;;
esac
journalctl -b --no-pager -o short-monotonic >"$results/journal.txt" 2>&1
systemctl --failed --no-pager >"$results/failed-units.txt" 2>&1
exit "$rc"
