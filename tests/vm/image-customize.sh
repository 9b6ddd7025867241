#!/bin/bash
# tests/vm/image-customize.sh ROOT: mmdebstrap's customize hook for the VM node (build-image.sh).
# Runs on the host; ROOT is the new root filesystem.
set -euo pipefail
root=${1:?}

echo vm >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 vm\n' >"$root/etc/hosts"
echo "LABEL=vmroot / ext4 defaults 0 1" >"$root/etc/fstab"
# A fixed machine id: no first-boot logic (systemd-firstboot would ask on the console).
echo 5eed0000000000000000000000000001 >"$root/etc/machine-id"

# Nothing that wakes up on its own and takes the 2 TCG-emulated CPUs from the suite; no network.
for unit in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer \
        dpkg-db-backup.timer e2scrub_reap.service systemd-timesyncd.service \
        systemd-networkd-wait-online.service systemd-firstboot.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# The node's runtime as kubeadm sets it up: containerd's CRI on the systemd cgroup driver, the
# sandbox image the suite imports by hand (no registry is reachable), no CNI needed (host network).
mkdir -p "$root/etc/containerd"
cat >"$root/etc/containerd/config.toml" <<'TOML'
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
TOML

# The suite's disk (run-vm.sh): /dev/vdb, mounted at /root/work when it is there.
mkdir -p "$root/root/work"
echo "/dev/vdb /root/work ext4 defaults,nofail,x-systemd.device-timeout=120s 0 2" >>"$root/etc/fstab"

# The suite runs once the node is up, writes TAP to the second serial port and powers off.
# Type=simple, not oneshot: the boot must finish (is-system-running: running) while it runs.
cat >"$root/etc/systemd/system/vm-suite.service" <<'UNIT'
[Unit]
Description=podreaper VM suite
After=multi-user.target containerd.service
RequiresMountsFor=/root/work

[Service]
Type=simple
StandardOutput=file:/dev/ttyS1
StandardError=inherit
WorkingDirectory=/root/work
ExecStart=/bin/bash -c 'if [ -x tests/vm/guest-run.sh ]; then tests/vm/guest-run.sh; echo "VM-SUITE-EXIT $?"; else echo "VM-SUITE-EXIT 99 no tests/vm/guest-run.sh on /dev/vdb"; fi; sync'
ExecStopPost=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/vm-suite.service "$root/etc/systemd/system/multi-user.target.wants/vm-suite.service"
