#!/bin/bash
# e2e: `podreaper daemon` under systemd's notify protocol and `podreaper check` as a
# node-problem-detector plugin, against the private containerd (tests/e2e/with-containerd.sh), a
# temporary kubelet root, real pod cgroups under the test's kubepods name and real mounts in a
# private mount namespace. The daemon's NOTIFY_SOCKET is a datagram socket this script listens on.
# Prints TAP. Needs root; PODREAPER_BUILD names the build dir.
set -u

TAP_WORK_PREFIX=podreaper-dc
. "$(dirname "$0")/lib/tap.sh"
PYTHON=/usr/bin/python3 # Debian's: the pyenv one on PATH may lack nothing here, but be plain
GRACE=2s
GRACE_WAIT=2.2
NPD_TIMEOUT_MS=5000 # node-problem-detector's default plugin timeout
NPD_MAX_BYTES=80    # and its maxOutputLength

pids=() # everything started in the background, ended by pid
immutable=()

cleanup() {
        local pid f
        for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
        for f in "${immutable[@]}"; do chattr -i "$f" 2>/dev/null; done
        tap_remove_work
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A node: its own kubelet root, log dirs, state dir; NODE_FLAGS point podreaper at it.
new_node() {
        NODE=$(mktemp -d "$WORK/node.XXXXXX")
        mkdir -p "$NODE/kubelet/pods" "$NODE/pods-logs" "$NODE/state"
        NODE_FLAGS=(--root-dir "$NODE/kubelet" --pod-logs-dir "$NODE/pods-logs"
                --container-logs-dir "$NODE/containers-logs" --state-dir "$NODE/state"
                --kubepods-cgroup "$KP" --cgroup-driver cgroupfs
                --container-runtime-endpoint "$PODREAPER_TEST_CRI_ENDPOINT" --require-kubelet=false)
}

reaper() { # reaper COMMAND [flags...]: podreaper on the current node, with the test's grace
        local cmd=$1
        shift
        "$PODREAPER" "$cmd" "${NODE_FLAGS[@]}" --orphan-grace "$GRACE" "$@"
}

# What the kubelet leaves on disk for a pod.
make_pod_dir() {
        local uid=$1 p="$NODE/kubelet/pods/$1"
        mkdir -p "$p/volumes/kubernetes.io~empty-dir/cache" "$p/containers/app" "$p/volume-subpaths"
        echo 0 >"$p/containers/app/0a1b2c3d"
        echo "127.0.0.1 localhost" >"$p/etc-hosts"
        mkdir -p "$NODE/pods-logs/default_pod-${uid}_$uid/app"
        echo "log line" >"$NODE/pods-logs/default_pod-${uid}_$uid/app/0.log"
}

# A pod that ran and was deleted: sandbox gone from the runtime, pod cgroup, dir and log dir left.
make_removed_pod() {
        local uid=$1
        "$PODCTL" run-pod "$uid" "pod-$uid" default "$KP" "$NODE/pods-logs/default_pod-${uid}_$uid" >/dev/null || return 1
        "$PODCTL" rm-pod "$uid" || return 1
        make_pod_dir "$uid"
}

make_live_pod() {
        local uid=$1
        "$PODCTL" run-pod "$uid" "pod-$uid" default "$KP" "$NODE/pods-logs/default_pod-${uid}_$uid" >/dev/null || return 1
        make_pod_dir "$uid"
}

cgroup_exists() { # in any hierarchy
        local h
        for h in "${CG_HIERARCHIES[@]}"; do
                [ -d "$h/$KP/besteffort/pod$1" ] && return 0
        done
        return 1
}
cgroup_gone() { ! cgroup_exists "$1"; }
dir_gone() { [ ! -e "$NODE/kubelet/pods/$1" ] && [ ! -e "$NODE/pods-logs/default_pod-${1}_$1" ]; }
dir_exists() { [ -d "$NODE/kubelet/pods/$1" ]; }
pod_runs() { "$PODCTL" has-pod "$1" && cgroup_exists "$1"; }

# ---- check ------------------------------------------------------------------------------------

# run_check NAME [flags...]: podreaper check on the current node; CHECK_RC, CHECK_OUT (stdout),
# CHECK_MS. Asserts what every plugin answer must be: one line, at most 80 bytes, valid UTF-8,
# within node-problem-detector's timeout.
run_check() {
        local name=$1 start bytes lines
        shift
        start=$(now_ms)
        "$PODREAPER" check "${NODE_FLAGS[@]}" --orphan-grace "$GRACE" "$@" >"$WORK/check-$name.out" 2>"$WORK/check-$name.err"
        CHECK_RC=$?
        CHECK_MS=$(($(now_ms) - start))
        CHECK_OUT=$(cat "$WORK/check-$name.out")
        lines=$(wc -l <"$WORK/check-$name.out")
        bytes=$(($(wc -c <"$WORK/check-$name.out") - 1))
        check "$name: exactly one line on stdout ('$CHECK_OUT')" test "$lines" -eq 1 -a "$(wc -c <"$WORK/check-$name.out")" -gt 1
        check "$name: at most $NPD_MAX_BYTES bytes ($bytes)" test "$bytes" -le "$NPD_MAX_BYTES"
        check "$name: valid UTF-8" "$PYTHON" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$WORK/check-$name.out"
        check "$name: within ${NPD_TIMEOUT_MS}ms (${CHECK_MS}ms)" test "$CHECK_MS" -lt "$NPD_TIMEOUT_MS"
}

case_check_ok() {
        new_node
        local live gone
        live=$(new_uid)
        gone=$(new_uid)
        make_live_pod "$live" && make_removed_pod "$gone" || { not_ok "set up live and removed pods"; return; }
        run_check ok --check-min-age 2s
        check "ok: exit 0 (a live pod, an orphan podreaper can reap)" test "$CHECK_RC" -eq 0
        check "ok: says nothing is kept" grep -q "^no orphaned pod kept beyond 2s" "$WORK/check-ok.out"
        check "ok: changed nothing" dir_exists "$gone"
        check "ok: wrote no state" test ! -e "$NODE/state/state"
        "$PODCTL" rm-pod "$live"
}

case_check_mounted() {
        new_node
        local uid v
        uid=$(new_uid)
        make_removed_pod "$uid" || { not_ok "set up removed pod"; return; }
        v="$NODE/kubelet/pods/$uid/volumes/kubernetes.io~empty-dir/cache"
        mount -t tmpfs tmpfs "$v" && echo "live volume data" >"$v/data"

        run_check mounted-young --check-min-age 3s
        check "mounted, younger than --check-min-age: exit 0" test "$CHECK_RC" -eq 0

        sleep 3.2
        run_check mounted --check-min-age 3s
        check "mounted, older than --check-min-age: exit 1" test "$CHECK_RC" -eq 1
        check "mounted: names the reason" grep -q "^1 orphaned pod kept: volume mounted (for " "$WORK/check-mounted.out"
        check "mounted: volume data intact" grep -q "live volume data" "$v/data"

        # Orphans that are not kept (reapable) are no problem, mounted or not elsewhere.
        umount "$v"
        run_check unmounted --check-min-age 3s
        check "after the unmount: exit 0" test "$CHECK_RC" -eq 0
}

case_check_removal_failed() {
        new_node
        local uid f
        uid=$(new_uid)
        make_removed_pod "$uid" || { not_ok "set up removed pod"; return; }
        f="$NODE/kubelet/pods/$uid/containers/app/0a1b2c3d"
        if ! chattr +i "$f" 2>/dev/null; then
                ok "# SKIP removal failed: no chattr +i on $(stat -f -c %T "$NODE")"
                return
        fi
        immutable+=("$f")
        sleep "$GRACE_WAIT"
        reaper run >/dev/null 2>&1 # first sighting
        sleep "$GRACE_WAIT"
        reaper run >"$WORK/run.out" 2>&1
        check "removal failed: the run could not remove the pod dir" dir_exists "$uid"
        sleep 2.2
        run_check removal-failed --check-min-age 2s
        check "removal failed: exit 1" test "$CHECK_RC" -eq 1
        check "removal failed: says so" grep -q "^1 orphaned pod kept: removal failed" "$WORK/check-removal-failed.out"

        # While a pass holds the lock, a reaping mark may be that pass's own: no problem claimed.
        flock "$NODE/state/lock" "$PODREAPER" check "${NODE_FLAGS[@]}" --orphan-grace "$GRACE" \
                --check-min-age 2s >"$WORK/check-locked.out" 2>&1
        check "removal failed, but a pass is running: exit 0" test $? -eq 0

        chattr -i "$f"
        reaper run >/dev/null 2>&1
        check "removal failed: the next run after the cause is gone reaps it" dir_gone "$uid"
}

case_check_cgroups() {
        new_node
        printf '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t65500\t1\nmemory\t4\t65000\t1\npids\t5\t120\t1\n' >"$WORK/cgroups-full"
        printf '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t65500\t1\nmemory\t4\t58900\t1\npids\t5\t120\t1\n' >"$WORK/cgroups-ok"
        run_check cgroups-full --proc-cgroups "$WORK/cgroups-full"
        check "memory cgroups at 65000 of 65535: exit 1" test "$CHECK_RC" -eq 1
        check "memory cgroups: the line says so" grep -q "^memory cgroups at 65000 of 65535$" "$WORK/check-cgroups-full.out"
        run_check cgroups-below --proc-cgroups "$WORK/cgroups-ok"
        check "memory cgroups below 90%: exit 0" test "$CHECK_RC" -eq 0
        check "memory cgroups below 90%: the count is there" grep -q "memory cgroups at 58900 of 65535" "$WORK/check-cgroups-below.out"
        run_check cgroups-real
        check "the real /proc/cgroups: exit 0" test "$CHECK_RC" -eq 0
}

case_check_unknown() {
        new_node
        local sock dir
        run_check runtime-down --container-runtime-endpoint unix:///nonexistent/cri.sock
        check "runtime down: exit 2" test "$CHECK_RC" -eq 2
        check "runtime down: the cause, then the endpoint" grep -q "^runtime unreachable: no such socket (unix:///nonexistent/cri.sock)$" "$WORK/check-runtime-down.out"

        # A cut at 80 bytes never splits a character: two paths, one byte apart, so that byte 80
        # falls inside a two-byte "é" in one of them.
        for pad in "" a; do
                dir="$WORK/$pad"
                sock="$dir$(printf 'é%.0s' $(seq 1 24)).sock"
                run_check "runtime-down-utf8$pad" --container-runtime-endpoint "unix://$sock"
                check "runtime down, long UTF-8 path: exit 2" test "$CHECK_RC" -eq 2
        done

        run_check runtime-down-cgroups --container-runtime-endpoint "unix://$WORK/no-such.sock" \
                --proc-cgroups "$WORK/cgroups-full"
        check "runtime down but memory cgroups at the limit: the known problem wins (exit 1)" test "$CHECK_RC" -eq 1
        check "runtime down but memory cgroups at the limit: both said" \
                grep -q "^memory cgroups at 65000 of 65535; runtime unreachable: " "$WORK/check-runtime-down-cgroups.out"

        run_check kubelet-down --require-kubelet=true
        check "kubelet required and down: exit 2" test "$CHECK_RC" -eq 2
        check "kubelet required and down: names the kubelet" grep -q "^kubelet not ready: " "$WORK/check-kubelet-down.out"

        "$PODREAPER" check "${NODE_FLAGS[@]}" --orphan-grace banana >"$WORK/check-bad.out" 2>/dev/null
        check "bad flag: exit 2" test $? -eq 2
        check "bad flag: still one line for node-problem-detector" test "$(wc -l <"$WORK/check-bad.out")" -eq 1
}

# A unix socket that takes connections and never says a word (a wedged runtime or kubelet).
SILENT='
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(64)
time.sleep(3600)
'
# The kubelet's healthz, answering "ok".
HEALTHZ='
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", 10248), H).serve_forever()
'

# A runtime that hangs costs check its shortened CRI deadline, not --runtime-request-timeout; a
# kubelet that hangs as well runs into check's own deadline, which still answers in time.
case_check_hang() {
        new_node
        local silent silent_kubelet healthz
        "$PYTHON" -c "$SILENT" "$WORK/silent-cri.sock" &
        silent=$!
        pids+=("$silent")
        mkdir -p "$NODE/kubelet/pod-resources"
        "$PYTHON" -c "$SILENT" "$NODE/kubelet/pod-resources/kubelet.sock" &
        silent_kubelet=$!
        pids+=("$silent_kubelet")
        wait_for 5 test -S "$WORK/silent-cri.sock" -a -S "$NODE/kubelet/pod-resources/kubelet.sock"

        run_check runtime-hangs --container-runtime-endpoint "unix://$WORK/silent-cri.sock"
        check "runtime hangs: exit 2" test "$CHECK_RC" -eq 2
        check "runtime hangs: the call and the cause first" \
                grep -q "^runtime unreachable: ListPodSandbox: deadline exceeded" "$WORK/check-runtime-hangs.out"
        check "runtime hangs: the CRI deadline is check's (2 s), not the 2m default (${CHECK_MS}ms)" \
                test "$CHECK_MS" -ge 1900 -a "$CHECK_MS" -lt 3500

        if (exec 3<>/dev/tcp/127.0.0.1/10248) 2>/dev/null; then
                ok "# SKIP kubelet hangs: something listens on 127.0.0.1:10248 already"
                kill -KILL "$silent" "$silent_kubelet"
                wait "$silent" "$silent_kubelet" 2>/dev/null
                return
        fi
        "$PYTHON" -c "$HEALTHZ" &
        healthz=$!
        pids+=("$healthz")
        wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/10248" 2>/dev/null
        run_check everything-hangs --container-runtime-endpoint "unix://$WORK/silent-cri.sock"
        check "runtime and kubelet hang: exit 2" test "$CHECK_RC" -eq 2
        check "runtime and kubelet hang: check's deadline says so" \
                grep -q "^no answer within 4s: container runtime or kubelet too slow$" "$WORK/check-everything-hangs.out"
        run_check everything-hangs-cgroups --container-runtime-endpoint "unix://$WORK/silent-cri.sock" \
                --proc-cgroups "$WORK/cgroups-full"
        check "... with memory cgroups at the limit: exit 1" test "$CHECK_RC" -eq 1
        check "... with memory cgroups at the limit: the problem is in the late line" \
                grep -q "^memory cgroups at 65000 of 65535; runtime or kubelet too slow" "$WORK/check-everything-hangs-cgroups.out"
        kill -KILL "$healthz" "$silent" "$silent_kubelet"
        wait "$healthz" "$silent" "$silent_kubelet" 2>/dev/null
}

# A node of 110 pods (the kubelet's default --max-pods) with everything a pod has: sandbox and
# container in the runtime, pod cgroup, pod dir, log dir. check must stay well within 5 s.
case_check_110_pods() {
        new_node
        local uids=() batch=() uid i
        for i in $(seq 1 110); do
                uid=$(new_uid)
                uids+=("$uid")
                make_live_pod "$uid" &
                batch+=($!)
                [ $((i % 22)) -eq 0 ] && { wait "${batch[@]}"; batch=(); }
        done
        local have=0
        for uid in "${uids[@]}"; do cgroup_exists "$uid" && have=$((have + 1)); done
        check "110 pods running ($have)" test "$have" -eq 110
        run_check 110-pods --check-min-age 2s
        check "110 pods: exit 0" test "$CHECK_RC" -eq 0
        check "110 pods: well within 5 s (${CHECK_MS}ms < 2500ms)" test "$CHECK_MS" -lt 2500
        echo "# check on 110 pods: ${CHECK_MS}ms"
        for i in "${!uids[@]}"; do
                "$PODCTL" rm-pod "${uids[$i]}" &
                batch+=($!)
                [ $(((i + 1) % 22)) -eq 0 ] && { wait "${batch[@]}"; batch=(); }
        done
}

# ---- daemon -----------------------------------------------------------------------------------

# Records every datagram on a NOTIFY_SOCKET as one line: "<monotonic seconds> <fields joined by |>".
LISTENER='
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        m = s.recv(65536).decode("utf-8", "replace").strip("\n").replace("\n", "|")
        f.write("%.3f %s\n" % (time.monotonic(), m))
'

# Where the daemon's log lines go: journald on a systemd machine, else its stderr.
daemon_log() {
        if [ -d /run/systemd/system ] && [ -S /run/systemd/journal/socket ]; then
                journalctl -q -o cat "_PID=$DAEMON_PID"
        else
                cat "$DAEMON_ERR"
        fi
}
log_has() { daemon_log | grep -q -- "$1"; }
notified() { grep -q -- "$1" "$NOTIFY_LOG"; }
notified_count() { grep -c -- "$1" "$NOTIFY_LOG"; }
count_at_least() { [ "$(notified_count "$1")" -ge "$2" ]; }

# start_daemon NAME [env...] -- [flags...]: podreaper daemon on the current node, in the
# background, its notifications in $NOTIFY_LOG.
start_daemon() {
        local name=$1 sock env=()
        shift
        while [ $# -gt 0 ] && [ "$1" != -- ]; do
                env+=("$1")
                shift
        done
        shift
        sock="$WORK/$name.notify.sock"
        NOTIFY_LOG="$WORK/$name.notify"
        DAEMON_ERR="$WORK/$name.err"
        : >"$NOTIFY_LOG"
        "$PYTHON" -c "$LISTENER" "$sock" "$NOTIFY_LOG" &
        LISTENER_PID=$!
        pids+=("$LISTENER_PID")
        wait_for 5 test -S "$sock" || return 1
        env NOTIFY_SOCKET="$sock" "${env[@]}" "$PODREAPER" daemon "${NODE_FLAGS[@]}" "$@" \
                >"$WORK/$name.out" 2>"$DAEMON_ERR" &
        DAEMON_PID=$!
        pids+=("$DAEMON_PID")
}

# The listener, once the daemon's last datagram is in the log (it was sent before the exit).
stop_listener() {
        wait_for 2 notified "STOPPING=1"
        kill -KILL "$LISTENER_PID" 2>/dev/null
        wait "$LISTENER_PID" 2>/dev/null
}

# stop_daemon: SIGTERM; STOP_RC, STOP_MS (-1: still running after 5 s, then killed).
stop_daemon() {
        local start
        start=$(now_ms)
        kill -TERM "$DAEMON_PID"
        if wait_for 5 bash -c "! kill -0 $DAEMON_PID"; then
                wait "$DAEMON_PID"
                STOP_RC=$?
                STOP_MS=$(($(now_ms) - start))
        else
                kill -KILL "$DAEMON_PID"
                wait "$DAEMON_PID"
                STOP_RC=$?
                STOP_MS=-1
        fi
}

case_daemon() {
        new_node
        local live gone conf="$NODE/podreaper.conf"
        live=$(new_uid)
        gone=$(new_uid)
        make_live_pod "$live" && make_removed_pod "$gone" || { not_ok "set up live and removed pods"; return; }
        printf '# the test changes this\norphan-grace = 1h\n' >"$conf"

        start_daemon daemon -- --config "$conf" --interval 1s || { not_ok "start the notify listener"; return; }
        check "daemon: READY=1 over NOTIFY_SOCKET" wait_for 5 notified " READY=1"
        check "daemon: a STATUS line after a pass" wait_for 5 notified "STATUS=last pass [0-9:]*: 0 pods reaped, 1 refused, 0 failed"
        check "daemon: passes every --interval (3 STATUS lines)" wait_for 5 count_at_least "STATUS=last pass" 3
        check "daemon: orphan within the 1h grace kept" dir_exists "$gone"

        # The grace shortened in the file: the first sighting was over 2 s ago, so the next pass reaps.
        printf 'orphan-grace = 1s\n' >"$conf"
        kill -HUP "$DAEMON_PID"
        check "SIGHUP: RELOADING=1 with MONOTONIC_USEC" wait_for 5 notified "RELOADING=1.*MONOTONIC_USEC=[0-9]"
        check "SIGHUP: then READY=1 again" wait_for 5 count_at_least "READY=1" 2
        check "SIGHUP: logged" wait_for 5 log_has "Reloaded the configuration from $conf"
        check "SIGHUP: the new grace applies: the orphan's dir is reaped" wait_for 5 dir_gone "$gone"
        check "SIGHUP: ... and its cgroup" wait_for 5 cgroup_gone "$gone"
        check "SIGHUP: STATUS says a pod was reaped" wait_for 5 notified "STATUS=last pass [0-9:]*: 1 pod reaped"
        check "daemon: live pod untouched" pod_runs "$live"

        printf 'orphan-grace = banana\n' >"$conf"
        local before
        before=$(notified_count "STATUS=last pass")
        kill -HUP "$DAEMON_PID"
        check "bad config on SIGHUP: logs why (file:line)" wait_for 5 log_has "$conf:1: invalid duration for orphan-grace: 'banana'"
        check "bad config on SIGHUP: keeps the previous configuration" wait_for 5 log_has "keeping the previous one"
        check "bad config on SIGHUP: still running" kill -0 "$DAEMON_PID"
        check "bad config on SIGHUP: passes go on" wait_for 5 count_at_least "STATUS=last pass" $((before + 2))

        stop_daemon
        check "SIGTERM: exit 0" test "$STOP_RC" -eq 0
        check "SIGTERM: within 5 s (${STOP_MS}ms)" test "$STOP_MS" -ge 0
        check "SIGTERM: STOPPING=1" wait_for 2 notified "STOPPING=1"
        check "SIGTERM: logged" log_has "Stopping on SIGTERM"
        check "daemon: no WATCHDOG=1 without WATCHDOG_USEC" bash -c "! grep -q WATCHDOG=1 '$NOTIFY_LOG'"
        stop_listener
        "$PODCTL" rm-pod "$live"
}

# With WATCHDOG_USEC the long wait between passes wakes to ping: at least every WATCHDOG_USEC/2.
case_daemon_watchdog() {
        new_node
        local gaps
        start_daemon watchdog WATCHDOG_USEC=400000 -- --orphan-grace 1h --interval 1h || { not_ok "start the notify listener"; return; }
        check "watchdog: READY=1" wait_for 5 notified " READY=1"
        sleep 2.5
        check "watchdog: one pass in 2.5 s (--interval 1h)" test "$(notified_count "STATUS=last pass")" -eq 1
        check "watchdog: WATCHDOG=1 while waiting ($(notified_count WATCHDOG=1) in 2.5 s)" count_at_least "WATCHDOG=1" 5
        gaps=$(awk '/WATCHDOG=1/ { if (last) { g = $1 - last; if (g > max) max = g } last = $1 } END { printf "%.3f", max }' "$NOTIFY_LOG")
        check "watchdog: no gap above WATCHDOG_USEC/2 + 50ms (largest ${gaps}s)" awk -v g="$gaps" 'BEGIN { exit !(g <= 0.25) }'
        stop_daemon
        check "watchdog: SIGTERM during the 1h wait: exit 0 (${STOP_MS}ms)" test "$STOP_RC" -eq 0 -a "$STOP_MS" -ge 0 -a "$STOP_MS" -lt 1000
        stop_listener
}

# SIGTERM while a pass acts: the current action finishes, the rest stay planned for the next pass,
# exit 0 within the bound. Whether the signal lands mid-pass depends on the machine's speed; the
# invariants hold either way, and the next run finishes whatever was left.
case_daemon_stop_mid_pass() {
        new_node
        local uids=() uid i j left=0
        for i in $(seq 1 60); do
                uid=$(new_uid)
                uids+=("$uid")
                make_pod_dir "$uid"
                for j in $(seq 1 300); do echo "$j"; done | split -l 1 - "$NODE/kubelet/pods/$uid/containers/app/f"
                for h in "${CG_HIERARCHIES[@]}"; do mkdir -p "$h/$KP/besteffort/pod$uid/c1"; done
        done
        sleep "$GRACE_WAIT"
        reaper run >/dev/null 2>&1 # first sighting
        sleep "$GRACE_WAIT"

        start_daemon midpass -- --orphan-grace "$GRACE" --interval 1h || { not_ok "start the notify listener"; return; }
        # The signal as soon as the first pod is gone: the pass is acting then.
        for i in $(seq 1 500); do
                [ "$(find "$NODE/kubelet/pods" -mindepth 1 -maxdepth 1 | wc -l)" -lt 60 ] && break
                sleep 0.01
        done
        stop_daemon
        check "SIGTERM mid-pass: exit 0" test "$STOP_RC" -eq 0
        check "SIGTERM mid-pass: within 5 s (${STOP_MS}ms)" test "$STOP_MS" -ge 0
        for uid in "${uids[@]}"; do dir_gone "$uid" || left=$((left + 1)); done
        if log_has "actions not acted on, left for the next pass"; then
                echo "# stopped mid-pass: $left of 60 pods left"
                check "SIGTERM mid-pass: some pods left for the next pass ($left)" test "$left" -gt 0
                check "SIGTERM mid-pass: the report says what was not acted on" grep -q "not acted on" "$WORK/midpass.out"
        else
                echo "# the pass ended before the signal ($left of 60 pods left)"
                check "SIGTERM after the pass: everything reaped" test "$left" -eq 0
        fi
        stop_listener
        reaper run >/dev/null 2>&1
        left=0
        for uid in "${uids[@]}"; do dir_gone "$uid" && cgroup_gone "$uid" || left=$((left + 1)); done
        check "after the stop, the next run finishes the job ($left left)" test "$left" -eq 0
}

case_check_ok
case_check_mounted
case_check_removal_failed
case_check_cgroups
case_check_unknown
case_check_hang
case_daemon
case_daemon_watchdog
case_daemon_stop_mid_pass
case_check_110_pods

echo "1..$n"
[ "$failed" -eq 0 ]
