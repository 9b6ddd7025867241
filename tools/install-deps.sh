#!/bin/sh
# Installs the build and test packages podreaper needs on Debian 12. Idempotent, and quiet when
# everything is already there. Not root or no apt: say what is missing and let the build fail.
set -eu

# build, test and e2e: the CRI client (nghttp2, protobuf-c), a private containerd with runc and a
# static busybox for the hand-built images, Debian's python3-grpcio for the fault-injecting server.
# packaging/ci-packages.sh: dpkg-buildpackage + debhelper, lintian, rpmbuild, groff, bash-completion,
# python3-yaml, systemd-analyze (package systemd; installing it does not boot it).
PACKAGES="build-essential pkg-config libmount-dev libblkid-dev libsystemd-dev libcmocka-dev
clang libclang-rt-14-dev clang-format util-linux coreutils
libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler
containerd runc busybox-static python3-grpcio iproute2 valgrind
debhelper dpkg-dev lintian rpm groff-base bash-completion python3-yaml systemd python3-prometheus-client"

# --vm: what `make check-vm` needs on top: a Debian root filesystem from Debian's packages
# (mmdebstrap), qemu to boot it, e2fsprogs' mkfs.ext4 -d and debugfs to write and read its disks.
if [ "${1:-}" = --vm ]; then
        PACKAGES="mmdebstrap qemu-system-x86 e2fsprogs"
fi

missing=""
for p in $PACKAGES; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "install-deps: missing packages:$missing (run as root on Debian, or install them yourself)" >&2
        exit 0
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
