#!/bin/bash
# The package under the real systemd: the .deb installed with apt-get; podreaper.service runs one
# pass, hardened as shipped, on the node's default paths (/var/lib/kubelet, /var/log/pods, the
# kubepods.slice tree, the system containerd) and its exit status is what `run` returns; the timer
# fires; podreaper-daemon.service (Type=notify) is active only once READY, keeps its configuration
# over a bad reload and takes a good one, is restarted by the watchdog when a pass hangs, and stops
# cleanly; the journal has every action with MESSAGE_ID, POD_UID and its reason as fields.
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=lib.sh
. tests/vm/lib.sh
vm_images || { not_ok "images imported"; echo "1..$n"; exit 1; }
CONF=/etc/podreaper/podreaper.conf
DROPIN=/run/systemd/system
silent_pid=""
cleanup() {
        systemctl stop podreaper.timer podreaper.service podreaper-daemon.service >/dev/null 2>&1
        systemctl reset-failed podreaper.service podreaper-daemon.service >/dev/null 2>&1
        rm -rf "$DROPIN"/podreaper*.d
        systemctl daemon-reload
        [ -n "$silent_pid" ] && kill -KILL "$silent_pid" 2>/dev/null
        [ -f "$WORK/podreaper.conf.orig" ] && cp "$WORK/podreaper.conf.orig" "$CONF"
        vm_cleanup
}
trap cleanup EXIT
show() { systemctl show -P "$2" "$1"; }
since=$(date '+%Y-%m-%d %H:%M:%S')
journal_has() { journalctl --since "$since" --no-pager -o cat "$@" >"$WORK/journal.out" 2>&1; }

vm_install_deb
check "apt-get install ./podreaper_*.deb" dpkg-query -W -f='${Status}' podreaper
cp "$CONF" "$WORK/podreaper.conf.orig"
check "the units are installed and disabled" \
        bash -c '[ "$(systemctl is-enabled podreaper.timer)" = disabled ] && [ "$(systemctl is-enabled podreaper-daemon.service)" = disabled ]'

# ---- podreaper.service: one pass, the exit status is run's -----------------------------------
systemctl start podreaper.service
check "default config, no kubelet on this node: the unit fails with run's exit 2 (sources not ready)" \
        test "$(show podreaper.service ExecMainStatus)" = 2
journal_has -u podreaper.service
check "... and the journal says which source is not ready" grep -qi "kubelet" "$WORK/journal.out"

# An orphan on the node's own paths, with a process nobody knows in its slice.
orphan=$(new_uid)
VM_UIDS+=("$orphan")
run_pod "$orphan" besteffort >/dev/null && "$PODCTL" rm-pod "$orphan" || not_ok "orphan set up"
mkdir -p "/var/lib/kubelet/pods/$orphan/volumes/kubernetes.io~empty-dir/cache" "/var/log/pods/default_pod-${orphan}_$orphan/app"
echo line >"/var/log/pods/default_pod-${orphan}_$orphan/app/0.log"
systemd-run --quiet --scope --unit="podreaper-vm-lost-$$" --slice="$(slice_name "$orphan" besteffort)" \
        sleep 100000 >/dev/null 2>&1 &
lost_pid=$!
sleep 1
printf 'require-kubelet = false\norphan-grace = 1s\n' >>"$CONF"
systemctl start podreaper.service
check "require-kubelet = false: the first pass exits 0, the unit succeeds" \
        test "$(show podreaper.service ExecMainStatus)" = 0 -a "$(show podreaper.service Result)" = success
sleep 1.2
systemctl start podreaper.service
check "second pass exits 0" test "$(show podreaper.service ExecMainStatus)" = 0
check "hardened unit did its job: the orphan's slice stopped through systemd" unit_gone "$(slice_name "$orphan" besteffort)"
check "hardened unit did its job: the orphan's cgroup removed" test ! -d "$(slice_path "$orphan" besteffort)"
check "hardened unit did its job: the process nobody knew is dead" bash -c "! kill -0 $lost_pid 2>/dev/null"
check "hardened unit did its job: /var/lib/kubelet/pods/<uid> removed" test ! -e "/var/lib/kubelet/pods/$orphan"
check "hardened unit did its job: /var/log/pods/<ns>_<name>_<uid> removed" test ! -e "/var/log/pods/default_pod-${orphan}_$orphan"

journalctl --since "$since" -u podreaper.service -o json --no-pager >"$WORK/journal.json"
check "journal -o json: every action of the orphan has MESSAGE_ID, POD_UID, PODREAPER_ACTION and PODREAPER_REASON" \
        /usr/bin/python3 -c '
import json, sys
uid = sys.argv[2]
entries = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mine = [e for e in entries if e.get("POD_UID") == uid and "PODREAPER_ACTION" in e]
kinds = {e.get("PODREAPER_ACTION") for e in mine}
assert {"destroy-cgroup", "remove-pod-dir", "remove-log-dir"} <= kinds, kinds
for e in mine:
    for f in ("MESSAGE_ID", "PODREAPER_ACTION", "PODREAPER_RESULT", "PODREAPER_REASON"):
        assert e.get(f), (f, e)
' "$WORK/journal.json" "$orphan"
check "journal: the unit'\''s lines are structured entries (stderr is the journal: JOURNAL_STREAM)" \
        grep -q '"PODREAPER_ACTION"' "$WORK/journal.json"

# ---- the timer -------------------------------------------------------------------------------
mkdir -p "$DROPIN/podreaper.timer.d"
printf '[Timer]\nOnBootSec=\nOnActiveSec=1s\nOnUnitActiveSec=3s\nAccuracySec=1s\n' >"$DROPIN/podreaper.timer.d/vm.conf"
systemctl daemon-reload
# Each run of the oneshot service starts its main process anew: count the distinct start times.
starts=("$(show podreaper.service ExecMainStartTimestampMonotonic)")
systemctl enable --now podreaper.timer >/dev/null 2>&1
fired() { [ "${#starts[@]}" -ge 3 ]; }
for i in $(seq 60); do
        t=$(show podreaper.service ExecMainStartTimestampMonotonic)
        [ "$t" != "${starts[-1]}" ] && starts+=("$t")
        fired && break
        sleep 0.5
done
check "the timer is enabled and fires (podreaper.service ran twice more)" fired
check "the timer's runs succeed" test "$(show podreaper.service Result)" = success
systemctl disable --now podreaper.timer >/dev/null 2>&1
systemctl stop podreaper.service

# ---- podreaper-daemon.service ----------------------------------------------------------------
printf 'interval = 2s\n' >>"$CONF"
t0=$(date +%s%N)
systemctl start podreaper-daemon.service
t1=$(date +%s%N)
check "daemon: active once systemctl start returns (Type=notify: READY came)" \
        test "$(systemctl is-active podreaper-daemon.service)" = active
echo "# daemon: READY after $(((t1 - t0) / 1000000)) ms"
check "daemon: STATUS= set" bash -c '[ -n "$(systemctl show -P StatusText podreaper-daemon.service)" ]'
pid=$(show podreaper-daemon.service MainPID)
cp "$CONF" "$WORK/good.conf"
echo "no-such-key = 1" >>"$CONF"
systemctl reload podreaper-daemon.service
sleep 1
check "bad config reload: still active" test "$(systemctl is-active podreaper-daemon.service)" = active
check "bad config reload: same process" test "$(show podreaper-daemon.service MainPID)" = "$pid"
journal_has -u podreaper-daemon.service
check "bad config reload: the journal names the key and keeps the old configuration" \
        bash -c "grep -q 'no-such-key' '$WORK/journal.out' && grep -q 'Configuration not reloaded' '$WORK/journal.out'"
cp "$WORK/good.conf" "$CONF"
echo "interval = 3s" >>"$CONF"
systemctl reload podreaper-daemon.service
sleep 1
journal_has -u podreaper-daemon.service
check "good config reload: taken" grep -q 'Reloaded the configuration' "$WORK/journal.out"
check "good config reload: still active, same process" \
        test "$(systemctl is-active podreaper-daemon.service)" = active -a "$(show podreaper-daemon.service MainPID)" = "$pid"
stop_t0=$(date +%s%N)
systemctl stop podreaper-daemon.service
stop_ms=$((($(date +%s%N) - stop_t0) / 1000000))
check "stop: inactive, result success, in ${stop_ms} ms" \
        test "$(systemctl is-active podreaper-daemon.service)" = inactive -a "$(show podreaper-daemon.service Result)" = success
journal_has -u podreaper-daemon.service
check "stop: the daemon said why it stopped" grep -q 'Stopping on SIGTERM' "$WORK/journal.out"

# A pass that hangs: a runtime socket that accepts and never answers, a CRI deadline far beyond
# the watchdog. systemd must kill and restart the daemon.
mkdir -p /run/podreaper-vm
rm -f /run/podreaper-vm/silent.sock
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' /run/podreaper-vm/silent.sock &
silent_pid=$!
for i in $(seq 50); do [ -S /run/podreaper-vm/silent.sock ] && break; sleep 0.1; done
mkdir -p "$DROPIN/podreaper-daemon.service.d"
printf '[Service]\nWatchdogSec=4s\nRestartSec=1s\n' >"$DROPIN/podreaper-daemon.service.d/vm.conf"
systemctl daemon-reload
printf 'container-runtime-endpoint = unix:///run/podreaper-vm/silent.sock\nruntime-request-timeout = 10m\n' >>"$CONF"
wsince=$(date '+%Y-%m-%d %H:%M:%S')
systemctl start podreaper-daemon.service
restarted() { [ "$(show podreaper-daemon.service NRestarts)" -ge 1 ]; }
for i in $(seq 40); do restarted && break; sleep 0.5; done
check "watchdog: a hanging pass gets the daemon restarted (NRestarts $(show podreaper-daemon.service NRestarts))" restarted
journalctl -u podreaper-daemon.service --since "$wsince" --no-pager -o cat >"$WORK/wd.out" 2>&1
check "watchdog: systemd says why" grep -qi 'watchdog timeout' "$WORK/wd.out"
# Stopped while its pass hangs on that runtime: SIGTERM ends the CRI call too, not TimeoutStopSec.
stop_t0=$(date +%s%N)
systemctl stop podreaper-daemon.service
stop_ms=$((($(date +%s%N) - stop_t0) / 1000000))
check "stop while a pass hangs on the runtime: inactive in ${stop_ms} ms (< 20 s, TimeoutStopSec is 3 min)" \
        test "$(systemctl is-active podreaper-daemon.service)" = inactive -a "$stop_ms" -lt 20000
cp "$WORK/podreaper.conf.orig" "$CONF"

# ---- the sandbox's exposure ------------------------------------------------------------------
for u in podreaper.service podreaper-daemon.service; do
        score=$(systemd-analyze security --no-pager "$u" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        echo "# systemd-analyze security $u: ${score:-?}"
        check "systemd-analyze security $u: exposure ${score:-?} <= 3.0" \
                awk -v s="${score:-99}" 'BEGIN { exit !(s <= 3.0) }'
done

echo "1..$n"
[ "$failed" -eq 0 ]
