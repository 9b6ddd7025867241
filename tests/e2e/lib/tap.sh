# shellcheck shell=bash
# Sourced by the e2e TAP scripts (tests/e2e/*.t): the gate (root, the private containerd), a
# private mount namespace (mounts made by a test vanish with it, whatever happens), the binaries,
# a work dir, and TAP output. Set TAP_WORK_PREFIX before sourcing.

if [ "$(id -u)" -ne 0 ]; then
        echo "needs root (cgroups, mounts)" >&2
        exit 77
fi
if [ -z "${PODREAPER_TEST_CRI_ENDPOINT:-}" ]; then
        echo "run under tests/e2e/with-containerd.sh" >&2
        exit 77
fi
if [ -z "${PODREAPER_T_IN_NS:-}" ]; then
        export PODREAPER_T_IN_NS=1
        exec unshare -m --propagation private "$0" "$@"
fi

BUILD=${PODREAPER_BUILD:-build}
PODREAPER=$(realpath "$BUILD/podreaper")
PODCTL=$(realpath "$BUILD/tests/e2e/podctl")
KP=$PODREAPER_TEST_KUBEPODS
CG=/sys/fs/cgroup

# shellcheck source=containerd.sh
. "$(dirname "${BASH_SOURCE[0]}")/containerd.sh"
# The cgroup hierarchies' mount points under $CG, one per line, from mountinfo: $CG itself on pure
# v2; $CG/<controllers>, $CG/systemd and $CG/unified on hybrid. Never "$CG"/*/: on pure v2 those
# are systemd's own cgroups (init.scope, system.slice), and a fixture made in them stays there.
cgroup_hierarchies() { _ctd_cgroup_mounts "$CG"; }
mapfile -t CG_HIERARCHIES < <(cgroup_hierarchies) # the same, once: mounts do not change here
if [ "${#CG_HIERARCHIES[@]}" -eq 0 ]; then
        echo "no cgroup hierarchy mounted under $CG" >&2
        exit 77
fi

WORK=$(mktemp -d "/tmp/${TAP_WORK_PREFIX:-podreaper-t}.XXXXXX")
n=0
failed=0

# Unmounts everything beneath the work dir, deepest first, and removes it.
tap_remove_work() {
        local m
        for m in $(awk -v w="$WORK" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
                umount -l "$m" 2>/dev/null
        done
        rm -rf --one-file-system "$WORK"
}

ok() {
        n=$((n + 1))
        echo "ok $n - $1"
}
not_ok() {
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - $1"
        shift
        for line in "$@"; do echo "#   $line"; done
}
check() { # check DESCRIPTION COMMAND...
        local d=$1
        shift
        if "$@" >"$WORK/check.out" 2>&1; then
                ok "$d"
        else
                not_ok "$d" "command: $*" "$(tail -n 5 "$WORK/check.out")"
        fi
}
new_uid() { cat /proc/sys/kernel/random/uuid; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS times
# $PODREAPER_TEST_TIME_SCALE (default 1; the TCG-emulated VM node is 10-20x slower than the host).
wait_for() {
        local until=$((SECONDS + $1 * ${PODREAPER_TEST_TIME_SCALE:-1} + 1))
        shift
        while [ "$SECONDS" -lt "$until" ]; do
                "$@" 2>/dev/null && return 0
                sleep 0.1
        done
        "$@" 2>/dev/null
}
