#!/bin/bash
# with-containerd.sh CMD [ARG...]: runs CMD against a private containerd (tests/e2e/lib/containerd.sh)
# and always tears it down afterwards, even when CMD fails or the run is interrupted. CMD sees:
#   PODREAPER_TEST_CRI_ENDPOINT  unix://<dir>/containerd.sock
#   PODREAPER_TEST_KUBEPODS      kpe2e<pid>: the top-level cgroup name every sandbox's cgroup_parent
#                                must start with (/<it>/besteffort/pod<uid>, ...); removed on teardown
#   PODREAPER_TEST_CTD_DIR       the temp dir (config.toml, containerd.log, root/, state/, runc/);
#                                put pod log dirs and other scratch files below it
#   CTD_DIR CTD_SOCK CTD_PID CTD_KUBEPODS  the same, as the library names them
# Exit status: CMD's; 1 (with the reason on stderr) when containerd cannot be started: the tests
# are not silently skipped. Needs root. CTD_ROOT_TMPFS=SIZE puts the image filesystem on a tmpfs.
set -u

if [ $# -eq 0 ]; then
        echo "usage: $0 CMD [ARG...]" >&2
        exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/containerd.sh
. "$here/lib/containerd.sh"

export CTD_KUBEPODS=${CTD_KUBEPODS:-kpe2e$$}
cmd_pid=""
stopped=0
teardown() {
        [ "$stopped" -eq 1 ] && return
        stopped=1
        # Quiet when all went well, so that CMD's last line (a test summary) stays the last line.
        local log
        log=$(mktemp /tmp/podreaper-ctd-stop.XXXXXX) || log=/dev/stderr
        if ! ctd_stop 2>"$log"; then
                cat "$log" >&2
                echo "with-containerd.sh: teardown left something behind (see above)" >&2
        fi
        [ "$log" = /dev/stderr ] || rm -f "$log"
}
# shellcheck disable=SC2317 # run from the traps below
# On a signal: end CMD first (by its pid; an async command ignores SIGINT, so TERM), then tear down.
on_signal() {
        local i
        if [ -n "$cmd_pid" ] && kill -0 "$cmd_pid" 2>/dev/null; then
                kill -TERM "$cmd_pid" 2>/dev/null
                for ((i = 0; i < 50; i++)); do
                        kill -0 "$cmd_pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$cmd_pid" 2>/dev/null
                wait "$cmd_pid" 2>/dev/null
        fi
        teardown
        exit "$1"
}
trap teardown EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 141' PIPE

if ! ctd_start; then
        echo "with-containerd.sh: cannot start a private containerd; not running: $*" >&2
        exit 1
fi
export PODREAPER_TEST_CRI_ENDPOINT=unix://$CTD_SOCK
export PODREAPER_TEST_KUBEPODS=$CTD_KUBEPODS
export PODREAPER_TEST_CTD_DIR=$CTD_DIR

# In the background so that a TERM (timeout(1), CI) is handled at once, not after CMD returns.
"$@" <&0 &
cmd_pid=$!
wait "$cmd_pid"
rc=$?
cmd_pid=""
teardown
exit "$rc"
