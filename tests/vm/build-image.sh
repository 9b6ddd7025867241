#!/bin/bash
# tests/vm/build-image.sh CACHE_DIR: the VM node's disk image, built from Debian's packages only.
#
# A Debian 12 root filesystem (mmdebstrap, tests/vm/packages.list) made into a raw ext4 disk image
# (mkfs.ext4 -d, no loop mount), with the kernel and initrd beside it. The image is what a node
# looks like before the test: systemd as PID 1, pure cgroup v2, Debian's containerd under systemd
# configured as kubeadm configures it (SystemdCgroup = true), and one oneshot unit that runs the
# suite from the second disk (/dev/vdb, see run-vm.sh) and powers off.
#
# Cached in CACHE_DIR (which holds nothing else): rootfs-<key>.tar by the package list, <key>/ (the
# disk image) by that and the customization; a finished one is never rebuilt, a changed input gets
# a new one and the older ones are removed. Prints the image's directory on stdout; progress on
# stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: build-image.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Two levels: the root filesystem from Debian's packages (slow: ~3 min) keyed by the package list,
# and the disk image made from it with image-customize.sh (fast: ~30 s) keyed by that too.
rootfs_key=$(cat "$here/packages.list" | sha256sum | cut -c1-16)
key=$( (echo "$rootfs_key"; cat "$0" "$here/image-customize.sh") | sha256sum | cut -c1-16)
tarball=$cache/rootfs-$rootfs_key.tar
img=$cache/$key
if [ -f "$img/done" ]; then
        echo "$img"
        exit 0
fi
for old in "$cache"/*; do
        case $old in "$img" | "$tarball" | "$tarball.seconds") continue ;; esac
        [ -e "$old" ] && rm -rf --one-file-system "$old"
done

for tool in mmdebstrap mkfs.ext4 qemu-system-x86_64; do
        command -v "$tool" >/dev/null || {
                echo "build-image: $tool is missing (tools/install-deps.sh --vm installs it)" >&2
                exit 2
        }
done

start=$(date +%s)
if [ ! -f "$tarball" ]; then
        packages=$(grep -v '^#' "$here/packages.list" | grep -v '^$' | paste -sd, -)
        mirror=http://deb.debian.org/debian
        partial=$cache/partial.tar # mmdebstrap picks the output format by the name's ending
        echo "build-image: mmdebstrap bookworm ($(tr ',' '\n' <<<"$packages" | wc -l) packages) ..." >&2
        # In a mount and PID namespace of its own: what mmdebstrap mounts in its build root (/proc,
        # /sys, /dev) and any daemon a maintainer script leaves running go with the namespace.
        unshare --mount --propagation private --pid --fork --kill-child mmdebstrap --quiet --variant=apt \
                --include="$packages" --aptopt='Acquire::Retries "3"' \
                --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
                --dpkgopt='path-exclude=/usr/share/locale/*' \
                bookworm "$partial" \
                "deb $mirror bookworm main" \
                "deb $mirror bookworm-updates main" \
                "deb http://deb.debian.org/debian-security bookworm-security main" >&2 || {
                rm -f "$partial"
                exit 1
        }
        mv "$partial" "$tarball"
        echo "$(($(date +%s) - start))" >"$tarball.seconds"
fi

rm -rf --one-file-system "$img"
mkdir -p "$img"
root=$img/rootfs
trap 'rm -rf --one-file-system "$root"' EXIT
mkdir "$root"
tar -C "$root" --numeric-owner -xpf "$tarball"
"$here/image-customize.sh" "$root"

cp "$root"/boot/vmlinuz-* "$img/vmlinuz"
cp "$root"/boot/initrd.img-* "$img/initrd"
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$img/manifest"
cp "$here/packages.list" "$img/packages.list"
cp "$tarball.seconds" "$img/rootfs-seconds" 2>/dev/null || true

# Room for the tests' containers and images: the disk is sparse, qemu runs it with -snapshot.
truncate -s 12G "$img/disk.img"
mkfs.ext4 -q -F -L vmroot -d "$root" "$img/disk.img"
rm -rf --one-file-system "$root"
echo "$(($(date +%s) - start))" >"$img/build-seconds"
touch "$img/done"
echo "build-image: $img in $(cat "$img/build-seconds") s" >&2
echo "$img"
