#!/bin/bash
# test-infra.sh: self-check of the e2e infrastructure, run by hand as root:
#   - with-containerd.sh: the environment it exports, both images in ctr and in CRI, running
#     sandboxes (host and pod network, CNI) and containers through CRI (cri-smoke.py), CMD's exit
#     status passed through, a failed start exits 1, TERM mid-run still tears down;
#   - ctd_start/ctd_stop three times in a row with sandboxes running, timed;
#   - after each teardown, nothing left of what that run started: the processes (containerd,
#     shims, containers, by pid), mounts beneath its dir, its kubepods cgroups in every hierarchy,
#     its shims' sockets in /run/containerd/s, the dir itself;
#   - fault-server.py: every mode against grpcio (fault-selfcheck.py).
# TAP-ish output ("ok N - ..." / "not ok N - ..."), exit 1 if anything failed.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3

if [ "$(id -u)" -ne 0 ]; then
        echo "test-infra.sh: needs root" >&2
        exit 77
fi

n=0 failed=0
ok() {
        n=$((n + 1))
        echo "ok $n - $*"
}
not_ok() {
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - $*"
}
check() { # DESCRIPTION COMMAND...
        local what=$1
        shift
        if "$@"; then ok "$what"; else not_ok "$what"; fi
}

work=$(mktemp -d /tmp/podreaper-infra.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Inside a run: note what it started, for the leftover check after its teardown.
# Writes <file>: "dir D", "kubepods K", "pid P" (shims and container processes), "socket S".
record_run() { # FILE
        local out=$1 p cg pid
        # shellcheck source=lib/containerd.sh
        . "$here/lib/containerd.sh"
        {
                echo "dir $CTD_DIR"
                echo "kubepods $CTD_KUBEPODS"
                echo "pid $CTD_PID"
                for p in $(_ctd_find_helpers "$CTD_DIR"); do
                        echo "pid $p"
                        _ctd_shim_sockets "$p" | sed 's/^/socket /'
                done
                for cg in $(_ctd_cgroup_mounts); do
                        [ -d "$cg/$CTD_KUBEPODS" ] || continue
                        find "$cg/$CTD_KUBEPODS" -name cgroup.procs -exec cat {} + 2>/dev/null |
                                while read -r pid; do echo "pid $pid"; done
                done
        } | sort -u >"$out"
}

# Nothing of the recorded run is left. Prints what is.
leftovers() { # FILE
        local rec=$1 kind value dir="" kubepods="" left=0 h cg
        while read -r kind value; do
                case $kind in
                dir) dir=$value ;;
                kubepods) kubepods=$value ;;
                esac
        done <"$rec"
        if [ -z "$dir" ] || [ -z "$kubepods" ]; then
                echo "    # nothing recorded"
                return 1
        fi
        local -a pids=()
        local p i state
        mapfile -t pids < <(sed -n 's/^pid //p' "$rec")
        for p in "${pids[@]}"; do
                # a process that is exiting, or a zombie its new parent has yet to reap, is gone;
                # give a killed one a moment to get there
                for ((i = 0; i < 30; i++)); do
                        state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$p/status" 2>/dev/null)
                        case $state in "" | Z | X) break ;; esac
                        sleep 0.1
                done
                case $state in "" | Z | X) continue ;; esac
                # the pid may have been reused: ours only if it still names our dir or cgroup
                if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$dir" ||
                        grep -qF "/$kubepods" "/proc/$p/cgroup" 2>/dev/null; then
                        echo "    # process $p ($state) still alive: $(tr '\0' ' ' <"/proc/$p/cmdline")"
                        left=1
                fi
        done
        while read -r kind value; do
                case $kind in
                socket)
                        [ -e "$value" ] && echo "    # shim socket $value still there" && left=1
                        ;;
                esac
        done <"$rec"
        if grep -qF " $dir" /proc/self/mountinfo; then
                echo "    # still mounted: $(grep -F " $dir" /proc/self/mountinfo | cut -d' ' -f5 | tr '\n' ' ')"
                left=1
        fi
        for h in $(. "$here/lib/containerd.sh" && _ctd_cgroup_mounts /sys/fs/cgroup); do
                for cg in "$h/$kubepods"*; do
                        [ -e "$cg" ] && echo "    # cgroup $cg still there" && left=1
                done
        done
        [ -e "$dir" ] && echo "    # $dir still there" && left=1
        [ "$left" -eq 0 ]
}

count_sockets() {
        local s c=0
        for s in /run/containerd/s/*; do
                [ -S "$s" ] && c=$((c + 1))
        done
        echo "$c"
}

# --- with-containerd.sh ----------------------------------------------------------------------

rec=$work/run1
out=$work/run1.out
"$here/with-containerd.sh" bash -c '
        set -e
        echo "endpoint=$PODREAPER_TEST_CRI_ENDPOINT kubepods=$PODREAPER_TEST_KUBEPODS dir=$PODREAPER_TEST_CTD_DIR"
        ctr --address "$CTD_SOCK" -n k8s.io images ls -q | grep -v "^sha256:" | sed "s/^/image /"
        '"$py"' "'"$here"'/cri-smoke.py" --pods 3 | sed "s/^/smoke /"
        '"$(declare -f record_run)"'
        here='"$here"' record_run '"$rec"'
        exit 7' >"$out" 2>"$work/run1.err"
rc=$?
check "with-containerd.sh passes CMD's exit status through (7)" [ "$rc" -eq 7 ]
check "CMD sees PODREAPER_TEST_CRI_ENDPOINT/_KUBEPODS/_CTD_DIR" \
        grep -Eq '^endpoint=unix:///tmp/podreaper-ctd\.[^ ]+/containerd\.sock kubepods=kpe2e[0-9]+ dir=/tmp/podreaper-ctd\.' "$out"
check "ctr lists registry.k8s.io/pause:3.9 and docker.io/library/busybox:1.35" \
        bash -c "grep -qx 'image registry.k8s.io/pause:3.9' '$out' && grep -qx 'image docker.io/library/busybox:1.35' '$out'"
check "CRI: 3 sandboxes with running containers (host network, pod network with a CNI IP)" \
        bash -c "[ \$(grep -c '^smoke [0-9a-f]\{64\} [0-9a-f]\{64\} ' '$out') -eq 3 ] && grep -q '^smoke .* 10\.88\.' '$out' && grep -qx 'smoke ok' '$out'"
check "the run had shims and container processes to clean up" \
        bash -c "[ \$(grep -c '^pid ' '$rec') -ge 7 ] && grep -q '^socket ' '$rec'"
check "with-containerd.sh prints one line each for start and stop, on stderr" \
        bash -c "[ \$(wc -l <'$work/run1.err') -eq 2 ]"
sed 's/^/    # /' "$work/run1.err"
check "nothing left of that run" leftovers "$rec"

"$here/with-containerd.sh" true 2>/dev/null
check "with-containerd.sh true exits 0" [ $? -eq 0 ]

CTD_TMPDIR=/nonexistent "$here/with-containerd.sh" true 2>"$work/fail.err"
rc=$?
check "a containerd that cannot start: exit 1, not a skip" [ "$rc" -eq 1 ]
check "... and says why" grep -q 'cannot start a private containerd' "$work/fail.err"

# CTD_ROOT_TMPFS: the image filesystem on a small tmpfs, unmounted on teardown.
rec=$work/run-tmpfs
CTD_ROOT_TMPFS=64M "$here/with-containerd.sh" bash -c '
        findmnt -n -o FSTYPE,SIZE "$CTD_DIR/root" >'"$work"'/tmpfs.out
        . "'"$here"'/lib/containerd.sh"
        ctd_build_image example.test/fill:1 --size-bytes 100000000 -- /bin/sh 2>/dev/null && exit 1
        '"$(declare -f record_run)"'
        here='"$here"' record_run '"$rec"'' 2>/dev/null
rc=$?
check "CTD_ROOT_TMPFS=64M: containerd's root on a 64M tmpfs, a 100 MB image does not fit" \
        bash -c "[ $rc -eq 0 ] && grep -Eq '^tmpfs +64M$' '$work/tmpfs.out'"
check "nothing left of the tmpfs run" leftovers "$rec"

# TERM while CMD runs: CMD is ended, containerd torn down, exit 143.
rec=$work/run-term
"$here/with-containerd.sh" bash -c '
        '"$py"' "'"$here"'/cri-smoke.py" --pods 1 >/dev/null
        '"$(declare -f record_run)"'
        here='"$here"' record_run '"$rec"'
        touch '"$work"'/term-ready
        exec sleep 300' 2>/dev/null &
wpid=$!
for ((i = 0; i < 300; i++)); do
        [ -e "$work/term-ready" ] && break
        sleep 0.1
done
t0=${EPOCHREALTIME/./}
kill -TERM "$wpid"
wait "$wpid"
rc=$?
t1=${EPOCHREALTIME/./}
check "TERM to with-containerd.sh mid-run: exit 143 in $(((t1 - t0) / 1000)) ms" [ "$rc" -eq 143 ]
check "nothing left of the TERMed run" leftovers "$rec"

# with-containerd.sh SIGKILLed (no teardown possible): ctd_cleanup_stale finds the run by its dead
# owner and tears it down; a live run is left alone.
rec=$work/run-kill
rm -f "$work/kill-ready"
"$here/with-containerd.sh" bash -c '
        '"$py"' "'"$here"'/cri-smoke.py" --pods 1 >/dev/null
        '"$(declare -f record_run)"'
        here='"$here"' record_run '"$rec"'
        echo $$ >'"$work"'/kill-ready
        exec sleep 300' 2>/dev/null &
wpid=$!
for ((i = 0; i < 300; i++)); do
        [ -s "$work/kill-ready" ] && break
        sleep 0.1
done
"$here/with-containerd.sh" bash -c '
        . "'"$here"'/lib/containerd.sh"
        ctd_cleanup_stale 2>'"$work"'/stale-live.err' 2>/dev/null
check "ctd_cleanup_stale leaves a run whose owner lives alone" \
        bash -c "[ ! -s '$work/stale-live.err' ] && [ -S '$(sed -n 's/^dir //p' "$rec")/containerd.sock' ]"
disown "$wpid"
kill -KILL "$wpid" "$(cat "$work/kill-ready")"
sleep 0.2
(
        . "$here/lib/containerd.sh"
        ctd_cleanup_stale
) 2>"$work/stale.err"
rc=$?
sed 's/^/    # /' "$work/stale.err"
check "ctd_cleanup_stale tears down the run of a SIGKILLed with-containerd.sh" \
        bash -c "[ $rc -eq 0 ] && grep -q 'owner pid $wpid is gone' '$work/stale.err'"
check "nothing left of the SIGKILLed run" leftovers "$rec"

# A runtime crash with runc's state moved away (DESIGN.md §6's orphans): after ctd_restart CRI
# answers, the containers still run in the kubepods cgroups; ctd_stop still ends them.
rec=$work/run-crash
(
        . "$here/lib/containerd.sh"
        trap ctd_stop EXIT
        ctd_start || exit 1
        PODREAPER_TEST_CTD_DIR=$CTD_DIR "$py" "$here/cri-smoke.py" --endpoint "unix://$CTD_SOCK" \
                --kubepods "$CTD_KUBEPODS" --pods 2 >/dev/null || exit 1
        record_run "$rec"
        ctd_crash || exit 1
        mv "$CTD_DIR/runc/k8s.io" "$CTD_DIR/runc-moved" || exit 1
        ctd_restart || exit 1
        timeout 5 ctr --address "$CTD_SOCK" version >/dev/null || exit 2
        # the containers' processes, in kubepods/<qos>/pod<uid>/<id> of every hierarchy
        [ "$(for h in $(_ctd_cgroup_mounts /sys/fs/cgroup); do
                cat "$h/$CTD_KUBEPODS"/*/*/*/cgroup.procs 2>/dev/null
        done | sort -u | wc -l)" -ge 4 ] || exit 3
) 2>"$work/crash.err"
rc=$?
sed 's/containerd.sh: /    # /' "$work/crash.err"
check "ctd_crash + runc state moved + ctd_restart: CRI answers, orphans run on (status $rc)" [ "$rc" -eq 0 ]
check "nothing left of the crashed run" leftovers "$rec"

# --- ctd_start/ctd_stop three times in a row, timed ------------------------------------------

sockets_before=$(count_sockets)
for round in 1 2 3; do
        rec=$work/round$round
        (
                # shellcheck source=lib/containerd.sh
                . "$here/lib/containerd.sh"
                trap ctd_stop EXIT
                ctd_start 2>"$work/round$round.start" || exit 1
                PODREAPER_TEST_CTD_DIR=$CTD_DIR "$py" "$here/cri-smoke.py" --endpoint "unix://$CTD_SOCK" \
                        --kubepods "$CTD_KUBEPODS" --pods 4 >/dev/null || exit 1
                record_run "$rec"
                t=$(_ctd_now_us)
                ctd_build_image example.test/padded:1 --size-bytes 50000000 -- /bin/sh || exit 1
                echo "    # round $round: padded 50 MB image built and imported in $(_ctd_since "$t") s"
                ctd_stop 2>"$work/round$round.stop"
        )
        rc=$?
        sed 's/containerd.sh: /    # /' "$work/round$round.start" "$work/round$round.stop" 2>/dev/null
        check "round $round: start, 4 sandboxes + containers, padded image, stop" [ "$rc" -eq 0 ]
        check "round $round: nothing left" leftovers "$rec"
done
check "/run/containerd/s holds no more sockets than before the rounds ($sockets_before -> $(count_sockets))" \
        [ "$(count_sockets)" -le "$sockets_before" ]

# ctd_stop is idempotent, also with no run at all, and refuses a dir it did not make.
(
        . "$here/lib/containerd.sh"
        ctd_stop && ctd_stop
) 2>/dev/null
check "ctd_stop without ctd_start: a no-op, twice" [ $? -eq 0 ]
mkdir "$work/not-ours"
(
        . "$here/lib/containerd.sh"
        CTD_DIR=$work/not-ours ctd_stop
) 2>/dev/null
check "ctd_stop refuses a CTD_DIR it did not make" [ $? -ne 0 ] && [ -d "$work/not-ours" ]

# --- fault-server.py -------------------------------------------------------------------------

"$py" "$here/fault-selfcheck.py" >"$work/fault.out" 2>&1
rc=$?
sed 's/^/    # /' "$work/fault.out"
check "fault-server.py: every mode against grpcio" [ "$rc" -eq 0 ]

echo "1..$n"
[ "$failed" -eq 0 ] && echo "# all $n passed" || echo "# $failed of $n failed"
[ "$failed" -eq 0 ]
