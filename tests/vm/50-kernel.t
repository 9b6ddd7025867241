#!/bin/bash
# The kernel tests (cgroups, mounts, tree removal) on the node's own kernel — Debian 12's, what the
# users run, not the host's — on pure cgroup v2 with its controllers. A skip is a failure here.
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=lib.sh
. tests/vm/lib.sh
for t in test-cgroupfs test-act test-rmtree; do
        CMOCKA_MESSAGE_OUTPUT=TAP "build/tests/kernel/$t" >"$WORK/$t.log" 2>&1
        rc=$?
        check "kernel/$t on $(uname -r): exit 0 ($(grep -c '^ok ' "$WORK/$t.log") ok, $(grep -c '^not ok ' "$WORK/$t.log") not ok)" \
                test "$rc" -eq 0
        [ "$rc" -eq 0 ] || grep -A4 '^not ok\|^# ' "$WORK/$t.log" | head -n 30 | sed 's/^/# /'
done
echo "1..$n"
[ "$failed" -eq 0 ]
