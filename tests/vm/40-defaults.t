#!/bin/bash
# The default paths: with no options at all, only the package's own configuration file,
# `podreaper plan` on this node finds the system containerd's socket, /var/lib/kubelet,
# /var/log/pods, the cgroup tree and its driver (systemd) by itself.
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=lib.sh
. tests/vm/lib.sh
vm_images || { not_ok "images imported"; echo "1..$n"; exit 1; }
CONF=/etc/podreaper/podreaper.conf
cleanup() {
        [ -f "$WORK/podreaper.conf.orig" ] && cp "$WORK/podreaper.conf.orig" "$CONF"
        rm -rf "/var/lib/kubelet/pods/$orphan" "/var/log/pods/default_pod-${orphan}_$orphan"
        vm_cleanup
}
trap cleanup EXIT
vm_install_deb || not_ok "the package installed"
cp "$CONF" "$WORK/podreaper.conf.orig"
check "the package's config sets nothing (every key commented out)" \
        bash -c "! grep -Ev '^[[:space:]]*(#|$)' '$CONF'"

orphan=$(new_uid)
VM_UIDS+=("$orphan")
run_pod "$orphan" burstable >/dev/null && "$PODCTL" rm-pod "$orphan" || not_ok "orphan set up"
mkdir -p "/var/lib/kubelet/pods/$orphan/volumes" "/var/log/pods/default_pod-${orphan}_$orphan/app"
live=$(new_uid)
VM_UIDS+=("$live")
run_pod "$live" guaranteed >/dev/null || not_ok "live pod started"
mkdir -p "/var/lib/kubelet/pods/$live/volumes"

/usr/sbin/podreaper plan --output json >"$WORK/plan1.json" 2>"$WORK/plan1.err"
rc=$?
check "no options, no kubelet on this node: plan exits 2 (sources not ready)" test "$rc" -eq 2
check "no options: the runtime found on its default socket and read" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["sources"]["runtime"]["ok"], d["sources"]
assert d["sources"]["cgroups"]["ok"], d["sources"]
assert not d["sources"]["kubelet"]["ok"], d["sources"]
' "$WORK/plan1.json"
check "no options: the error names the kubelet" grep -qi kubelet "$WORK/plan1.json"

# The kubelet requirement and the grace off in the config file (plan saves no first sighting, so
# with a grace it would only say "waiting") — still no options on the command line.
printf 'require-kubelet = false\norphan-grace = 0s\n' >>"$CONF"
/usr/sbin/podreaper plan --output json >"$WORK/plan2.json" 2>"$WORK/plan2.err"
rc=$?
check "require-kubelet = false: plan exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/# /' "$WORK/plan2.err" | tail -n 10
check "plan: the orphan's pod dir under /var/lib/kubelet/pods, its log dir under /var/log/pods, its slice in kubepods.slice" \
        /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); u = sys.argv[2]; uu = u.replace("-", "_")
t = {a["target"] for a in d["actions"] if a["pod_uid"] == u}
assert any(x.startswith("/var/lib/kubelet/pods/" + u) for x in t), t
assert any(x.startswith("/var/log/pods/default_pod-" + u + "_" + u) for x in t), t
assert any("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uu + ".slice" in x for x in t), t
' "$WORK/plan2.json" "$orphan"
check "plan: the live pod is not in it" bash -c "! grep -q '$live' '$WORK/plan2.json'"
/usr/sbin/podreaper plan >"$WORK/plan3.out" 2>&1
check "plan: the runtime read on its default socket" grep -qF 'runtime ok (unix:///run/containerd/containerd.sock)' "$WORK/plan3.out"
check "plan: the systemd driver detected on cgroup2" grep -qF 'cgroups ok (systemd driver, cgroup2 at /sys/fs/cgroup)' "$WORK/plan3.out"
check "plan: the default kubelet root and pod log dir" grep -qF 'disk ok (/var/lib/kubelet/pods, /var/log/pods)' "$WORK/plan3.out"
check "plan changed nothing: the orphan's slice and pod dir are there" \
        test -d "$(slice_path "$orphan" burstable)" -a -d "/var/lib/kubelet/pods/$orphan"

echo "1..$n"
[ "$failed" -eq 0 ]
