#!/bin/sh
# make bench: every benchmark, side by side with its peer, figures on stdout.
set -eu
build=$1
"$build/tests/bench/bench-rmtree" --runs "${BENCH_RUNS:-3}"
if [ -x "$build/tests/bench/bench-mounttable" ]; then
        "$build/tests/bench/bench-mounttable"
        "$build/tests/bench/bench-mounttable" --real
fi
"$build/tests/bench/bench-cgroupfs" --pods "${BENCH_CGROUP_PODS:-1000}" --enum-pods "${BENCH_CGROUP_ENUM_PODS:-5000}"
"$(dirname "$0")/../e2e/with-containerd.sh" "$build/tests/bench/bench-cri" --runs "${BENCH_RUNS:-3}" --containers "${BENCH_CRI_CONTAINERS:-500}"
"$(dirname "$0")/../e2e/with-containerd.sh" "$build/tests/bench/bench-reaper" "$build"
"$(dirname "$0")/../e2e/with-containerd.sh" "$build/tests/bench/bench-gc" --runs "${BENCH_RUNS:-3}" --pods "${BENCH_GC_PODS:-100}" --per-pod "${BENCH_GC_PER_POD:-10}"
