# shellcheck shell=bash
# Sourced by the VM suite's TAP scripts (tests/vm/*.t). They run on the VM node only (make
# check-vm boots it): unlike every other test they use the node's real paths — the system
# containerd on /run/containerd/containerd.sock, the kubepods.slice tree systemd manages,
# /var/lib/kubelet, the installed package and its units — because that node is the test's own,
# thrown away after the run.
if [ "${PODREAPER_VM:-}" != 1 ] || [ "$(cat /etc/machine-id 2>/dev/null)" != 5eed0000000000000000000000000001 ]; then
        echo "tests/vm: runs only inside the VM node (make check-vm): it uses the node's real paths" >&2
        exit 2
fi

# The e2e TAP helpers (ok, not_ok, check, WORK; with them containerd.sh's image builder), pointed
# at the node's own runtime; no private mount namespace: systemd, the units and containerd must see
# the test's mounts.
export PODREAPER_TEST_CRI_ENDPOINT=unix:///run/containerd/containerd.sock
export PODREAPER_TEST_KUBEPODS=kubepods.slice
export PODREAPER_T_IN_NS=1
export PODREAPER_BUILD=${PODREAPER_BUILD:-build}
# shellcheck source=../e2e/lib/tap.sh
. tests/e2e/lib/tap.sh

SOCK=/run/containerd/containerd.sock
CGROOT=/sys/fs/cgroup
VM_IMAGES_DONE=/run/podreaper-vm/images-imported

# The pause and busybox images in the system containerd, once per boot (no registry here).
vm_images() {
        [ -f "$VM_IMAGES_DONE" ] && return 0
        mkdir -p /run/podreaper-vm/ctd/images
        local i
        for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.2; done
        CTD_DIR=/run/podreaper-vm/ctd CTD_SOCK=$SOCK ctd_build_image registry.k8s.io/pause:3.9 -- sleep infinity &&
                CTD_DIR=/run/podreaper-vm/ctd CTD_SOCK=$SOCK ctd_build_image docker.io/library/busybox:1.35 -- /bin/sh &&
                touch "$VM_IMAGES_DONE"
}

# The systemd driver's names for a pod: slice_name UID QOS, slice_path UID QOS (the cgroup).
slice_name() {
        local u=${1//-/_}
        case $2 in
        guaranteed) echo "kubepods-pod$u.slice" ;;
        *) echo "kubepods-$2-pod$u.slice" ;;
        esac
}
slice_path() {
        case $2 in
        guaranteed) echo "$CGROOT/kubepods.slice/$(slice_name "$1" "$2")" ;;
        *) echo "$CGROOT/kubepods.slice/kubepods-$2.slice/$(slice_name "$1" "$2")" ;;
        esac
}
unit_active() { [ "$(systemctl is-active "$1" 2>/dev/null)" = active ]; }
# Gone as systemd sees it: not in `systemctl list-units` (active units) and not active.
unit_gone() {
        ! systemctl list-units --plain --no-legend 'kubepods*' | awk '{print $1}' | grep -qxF "$1" && ! unit_active "$1"
}
# Every pid in a cgroup tree, one per line.
cgroup_pids() { find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null; }

# run_pod UID QOS: a running pod of that QoS class through the CRI, as the kubelet on the systemd
# driver starts it; prints "<sandbox id> <container id>".
run_pod() {
        "$PODCTL" run-pod "$1" "pod-$1" default "kubepods.slice/$2" "$WORK/logs/default_pod-$1_$1"
}

# A node of the test's own dirs (kubelet root, log dirs, state) over the node's real cgroup tree
# and runtime; reaper COMMAND [flags...] runs the built podreaper on it with --cgroup-driver auto
# and the default --kubepods-cgroup, as a kubelet on the systemd driver would need.
GRACE=2s
GRACE_WAIT=2.2
new_node() {
        NODE=$(mktemp -d "$WORK/node.XXXXXX")
        mkdir -p "$NODE/kubelet/pods" "$NODE/logs" "$NODE/containers" "$NODE/state"
        NODE_FLAGS=(--root-dir "$NODE/kubelet" --pod-logs-dir "$NODE/logs" --container-logs-dir "$NODE/containers"
                --state-dir "$NODE/state" --orphan-grace "$GRACE" --require-kubelet=false)
}
reaper() {
        local cmd=$1
        shift
        "$PODREAPER" "$cmd" "${NODE_FLAGS[@]}" "$@"
}

# The .deb check-vm.sh staged, installed as an operator would (once per boot).
vm_install_deb() {
        dpkg-query -W -f='${Status}' podreaper 2>/dev/null | grep -q 'install ok installed' && return 0
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./deb/podreaper_*.deb >"$WORK/apt.log" 2>&1 ||
                { sed 's/^/# /' "$WORK/apt.log" | tail -n 20; return 1; }
}

# Pods this script made: removed from the runtime and their slices stopped on the way out.
VM_UIDS=()
vm_cleanup_pods() {
        local u q
        for u in "${VM_UIDS[@]}"; do "$PODCTL" rm-pod "$u" >/dev/null 2>&1; done
        for u in "${VM_UIDS[@]}"; do
                for q in besteffort burstable guaranteed; do
                        systemctl stop "$(slice_name "$u" "$q")" >/dev/null 2>&1
                done
        done
}
vm_cleanup() {
        vm_cleanup_pods
        tap_remove_work
}
trap vm_cleanup EXIT
mkdir -p "$WORK/logs" # run_pod's pod log dirs
