#!/bin/bash
# Runs cmocka test binaries with TAP output and sums up the test cases of all of them. A binary
# that exits 77 skipped (reason on its stderr); one that crashes or fails without a TAP verdict
# counts as one failure. The last line is always "N passed, N failed". RUN_TESTS_SKIP_FAILS=1 (the
# VM node, where everything a test needs is there by construction): a skip is a failure.
set -u
build=$1; shift
passed=0 failed=0 skipped=0 skipped_cases=0
log_dir="$build/test-logs"
mkdir -p "$log_dir"

for t in "$@"; do
        name=${t#"$build"/tests/}
        log="$log_dir/${name//\//_}.log"
        CMOCKA_MESSAGE_OUTPUT=TAP timeout $((600 * ${PODREAPER_TEST_TIME_SCALE:-1})) "$t" >"$log" 2>&1
        rc=$?
        ok=$(grep -c '^ok ' "$log")
        # cmocka prints a skipped case as "not ok N # SKIP": a skip, not a failure.
        case_skips=$(grep -c '^not ok .*# SKIP' "$log")
        notok=$(($(grep -c '^not ok ' "$log") - case_skips))
        skipped_cases=$((skipped_cases + case_skips))
        if [ "$rc" -eq 77 ] && [ "${RUN_TESTS_SKIP_FAILS:-0}" = 1 ]; then
                failed=$((failed + 1))
                echo "FAIL $name: skipped where nothing may skip: $(tail -n 1 "$log")"
                continue
        fi
        if [ "$rc" -eq 77 ]; then
                skipped=$((skipped + 1))
                echo "SKIP $name: $(tail -n 1 "$log")"
                continue
        fi
        passed=$((passed + ok))
        failed=$((failed + notok))
        if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
                failed=$((failed + 1))
                notok=1
        fi
        if [ "$notok" -gt 0 ]; then
                echo "FAIL $name ($ok ok, $notok not ok, exit $rc):"
                grep -v '^ok ' "$log" | tail -n 30 | sed 's/^/    /'
        else
                echo "PASS $name ($ok)"
        fi
done

[ "$skipped" -gt 0 ] && echo "$skipped test programs skipped"
[ "$skipped_cases" -gt 0 ] && echo "$skipped_cases test cases skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
