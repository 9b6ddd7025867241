#!/bin/bash
# The node is what the VM suite is for, or nothing else counts: systemd is PID 1 and the system is
# up, cgroup v2 is the only cgroup filesystem (mounted at /sys/fs/cgroup, no v1 hierarchy, no
# hybrid "unified" mount) with the controllers a kubelet needs, and the system containerd answers
# on its default socket with the systemd cgroup driver.
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=lib.sh
. tests/vm/lib.sh

check "PID 1 is systemd" test "$(cat /proc/1/comm)" = systemd
state=$(systemctl is-system-running --wait 2>&1)
check "the system is running (is-system-running: $state)" test "$state" = running
[ "$state" = running ] || systemctl --failed --no-pager | sed 's/^/# /'
cg_mounts=$(awk '$9 == "cgroup" || $9 == "cgroup2" { print $9 " " $5 }' /proc/self/mountinfo)
check "one cgroup filesystem: cgroup2 at /sys/fs/cgroup ($(echo "$cg_mounts" | paste -sd,))" \
        test "$cg_mounts" = "cgroup2 /sys/fs/cgroup"
for c in cpu memory pids io; do
        check "cgroup2 controller $c available and delegated to the root's children" \
                grep -qw "$c" "$CGROOT/cgroup.subtree_control"
done
check "cgroup.kill exists (kernel >= 5.14)" test -e "$CGROOT/system.slice/cgroup.kill"
check "containerd.service is active" unit_active containerd.service
check "containerd answers on $SOCK" ctr --address "$SOCK" version
check "containerd's CRI runs runc with SystemdCgroup = true" \
        bash -c "containerd config dump 2>/dev/null | grep -q 'SystemdCgroup = true'"
check "the pause and busybox images imported" vm_images
echo "1..$n"
[ "$failed" -eq 0 ]
