#!/bin/bash
# e2e: podreaper's runtime GC (kinds containers, sandboxes, images, logs) against real containerd
# state, judged by the kubelet's rules (kuberuntime_gc.go, image_gc_manager.go). Every scenario
# builds the runtime state it claims (exited attempts, CREATED and UNKNOWN containers, NOTREADY
# sandboxes, images over the high threshold of a real file system), checks that the set-up is what
# it claims, runs podreaper, and compares the runtime's own lists (podctl) with the survivors
# written out here. The report is checked against what the runtime lost, not taken on its word.
#
# Containers, sandboxes and log links: the private containerd of tests/e2e/with-containerd.sh.
# Images and UNKNOWN containers: a second private containerd started here (lib/containerd.sh) with
# its root on a small tmpfs, so that usage crosses the thresholds for real and containerd can be
# restarted (an UNKNOWN container needs a restart); stopped in the EXIT trap.
# Prints TAP. Needs root; PODREAPER_BUILD names the build dir.
set -u

TAP_WORK_PREFIX=podreaper-rgc
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=lib/containerd.sh
. "$(dirname "$0")/lib/containerd.sh"

PY=/usr/bin/python3
BUSYBOX=docker.io/library/busybox:1.35
# with-containerd.sh exports its own CTD_* for the library; they name the shared containerd, which
# this script never stops: forget them before ctd_start makes the second one.
unset CTD_DIR CTD_SOCK CTD_PID
CTD2_STARTED=0
ENDPOINT0=$PODREAPER_TEST_CRI_ENDPOINT # the shared containerd
ENDPOINT=$ENDPOINT0                   # the runtime podreaper and podctl talk to
KPNOW=$KP                             # and its kubepods cgroup
uids=()                               # pods made in the shared containerd, removed at the end

cleanup() {
        local uid
        for uid in "${uids[@]}"; do
                PODREAPER_TEST_CRI_ENDPOINT=$ENDPOINT0 "$PODCTL" rm-pod "$uid" >/dev/null 2>&1
        done
        [ "$CTD2_STARTED" -eq 1 ] && ctd_stop
        tap_remove_work
}
trap cleanup EXIT
trap 'exit 143' TERM # with-containerd.sh ends us with TERM: the EXIT trap still stops our containerd
trap 'exit 130' INT

use_shared_runtime() {
        ENDPOINT=$ENDPOINT0
        KPNOW=$KP
        export PODREAPER_TEST_CRI_ENDPOINT=$ENDPOINT
}
use_own_runtime() {
        ENDPOINT=unix://$CTD_SOCK
        KPNOW=$CTD_KUBEPODS
        export PODREAPER_TEST_CRI_ENDPOINT=$ENDPOINT
}

# A node: its own kubelet root, log dirs, state dir.
new_node() {
        NODE=$(mktemp -d "$WORK/node.XXXXXX")
        mkdir -p "$NODE/kubelet/pods" "$NODE/pods-logs" "$NODE/containers-logs" "$NODE/state"
}

reaper() { # reaper COMMAND [flags...]: podreaper on the current node and runtime
        local cmd=$1
        shift
        "$PODREAPER" "$cmd" --root-dir "$NODE/kubelet" --pod-logs-dir "$NODE/pods-logs" \
                --container-logs-dir "$NODE/containers-logs" --state-dir "$NODE/state" \
                --kubepods-cgroup "$KPNOW" --cgroup-driver cgroupfs \
                --container-runtime-endpoint "$ENDPOINT" --require-kubelet=false "$@"
}

# Runs podreaper with --output json into $WORK/$1.json (stderr $WORK/$1.err), exit status in RC.
reap_json() {
        local name=$1
        shift
        reaper "$@" --output json >"$WORK/$name.json" 2>"$WORK/$name.err"
        RC=$?
}

# ---- the runtime's lists, by the names this script gave its objects ---------------------------

declare -A NAME_OF=() # container / sandbox / image id -> name in this script
declare -A ID_OF=()   # name -> id

remember() { # remember NAME ID
        NAME_OF[$2]=$1
        ID_OF[$1]=$2
}

# A sandbox of pod $1 (a name of this script, "A"), attempt $2, for uid $3; remembered as A/sb<attempt>.
# Its log dir is made as the kubelet makes it.
sandbox() {
        local pod=$1 attempt=$2 uid=$3 id logdir
        logdir=$NODE/pods-logs/default_pod-${pod}_$uid
        mkdir -p "$logdir"
        id=$("$PODCTL" run-sandbox "$uid" "pod-$pod" default "$KPNOW" "$logdir" "$attempt") || return 1
        remember "$pod/sb$attempt" "$id"
        LOGDIR_OF[$pod]=$logdir
}
declare -A LOGDIR_OF=()

# ctr NAME SANDBOX_NAME STATE [IMAGE [LABEL_UID]]: a container NAME = pod/container/attempt in the
# sandbox named SANDBOX_NAME, in STATE (created, running, exited).
ctr() {
        local name=$1 sb=$2 state=$3 image=${4:-$BUSYBOX} label_uid=${5:-} id
        local pod=${sb%%/*} cname attempt
        cname=${name#*/}
        attempt=${cname##*/}
        cname=${cname%/*}
        id=$("$PODCTL" add-container "${ID_OF[$sb]}" "$KPNOW" "${LOGDIR_OF[$pod]}" "$cname" "$attempt" \
                "$state" "$image" ${label_uid:+"$label_uid"}) || return 1
        remember "$name" "$id"
}

named() { # ids on stdin (first field) -> names, sorted, one line
        local id _
        while read -r id _; do
                echo "${NAME_OF[$id]:-?${id:0:12}}"
        done | sort | tr '\n' ' '
}
containers_now() { "$PODCTL" list-containers | named; }
sandboxes_now() { "$PODCTL" list-sandboxes | named; }
images_now() { "$PODCTL" list-images | named; }
states_now() { # "name STATE ..." for containers
        "$PODCTL" list-containers | while read -r id _ _ _ state _; do
                echo "${NAME_OF[$id]:-?${id:0:12}}=$state"
        done | sort | tr '\n' ' '
}
sandbox_states_now() {
        "$PODCTL" list-sandboxes | while read -r id _ _ _ state _; do
                echo "${NAME_OF[$id]:-?${id:0:12}}=$state"
        done | sort | tr '\n' ' '
}
links_now() { (cd "$NODE/containers-logs" && find . -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' '); }

expect() { # expect DESCRIPTION LISTER WANT...: the lister's names are exactly WANT
        local d=$1 lister=$2 want got
        shift 2
        want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')
        got=$($lister)
        if [ "$want" = "$got" ]; then
                ok "$d"
        else
                not_ok "$d" "want: $want" "got:  $got"
        fi
}

# Everything runtime GC could touch, to compare before and after.
listing() {
        {
                "$PODCTL" list-containers | awk '{print "c", $1, $5}'
                "$PODCTL" list-sandboxes | awk '{print "s", $1, $5}'
                "$PODCTL" list-images | awk '{print "i", $1}'
        } | sort
        (cd "$NODE" && find . -path ./state -prune -o -printf '%p %y %l\n' | sort)
}

# Targets of the report's actions of KIND with RESULT (any result if empty), as names.
json_targets() { # FILE KIND [RESULT]
        $PY - "$@" <<'EOF' | named
import json, sys
r = json.load(open(sys.argv[1]))
for a in r.get("actions", []):
    if a.get("kind") == sys.argv[2] and (len(sys.argv) < 4 or a.get("result") == sys.argv[3]):
        print(a.get("target"))
EOF
}
json_field() { # FILE PYTHON-EXPRESSION over the report r: prints it
        $PY -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
json_valid() { $PY -c 'import json, sys; json.load(open(sys.argv[1]))' "$1"; }

# What disappeared between two name lists ("a b c" "a c" -> "b").
gone_between() {
        comm -23 <(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort) <(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort) |
                tr '\n' ' '
}

# "The report's done actions of KIND are exactly what the runtime lost."
check_report() { # DESCRIPTION FILE KIND BEFORE AFTER
        local lost reported
        lost=$(gone_between "$4" "$5")
        reported=$(json_targets "$2" "$3" "done")
        if [ "$lost" = "$reported" ]; then
                ok "$1"
        else
                not_ok "$1" "runtime lost: $lost" "report done: $reported" "$(head -c 600 "$2")"
        fi
}

# One line on stderr, exit 2, nothing touched.
check_bad_value() { # DESCRIPTION FLAGS...
        local d=$1 before after rc lines
        shift
        before=$(listing)
        reaper run --only containers,sandboxes,images,logs "$@" >"$WORK/bad.out" 2>"$WORK/bad.err"
        rc=$?
        after=$(listing)
        lines=$(wc -l <"$WORK/bad.err")
        if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$WORK/bad.out" ] && [ "$before" = "$after" ]; then
                ok "$d"
        else
                not_ok "$d" "exit $rc (want 2), $lines stderr lines (want 1), nothing touched: $([ "$before" = "$after" ] && echo yes || echo NO)" \
                        "$(head -n 3 "$WORK/bad.err")" "$(head -c 300 "$WORK/bad.out")"
        fi
}

# plan and run --dry-run with FLAGS change nothing.
check_no_change() { # DESCRIPTION FLAGS...
        local d=$1 before after
        shift
        before=$(listing)
        reaper plan "$@" >"$WORK/plan.out" 2>&1
        reaper run --dry-run "$@" >"$WORK/dry.out" 2>&1
        after=$(listing)
        if [ "$before" = "$after" ]; then
                ok "$d"
        else
                not_ok "$d" "changed: $(diff <(echo "$before") <(echo "$after") | head -n 5 | tr '\n' ' ')"
        fi
}

runtime_empty() {
        local left
        left=$("$PODCTL" list-containers; "$PODCTL" list-sandboxes)
        if [ -z "$left" ]; then
                ok "the runtime has no containers or sandboxes before $1"
        else
                not_ok "the runtime has no containers or sandboxes before $1 (node-wide limits would count others)" "$left"
        fi
}

# ---- 1. containers (evictContainers) ----------------------------------------------------------

# Live pods A and B (READY sandboxes), pod G gone (no sandbox; its containers sit in A's sandbox,
# labelled with G's uid). Creation order is the age order the policies use.
setup_containers() {
        local A=$1 B=$2 G=$3 a
        sandbox A 0 "$A" && sandbox B 0 "$B" || return 1
        ctr A/app/0 A/sb0 exited && ctr A/app/1 A/sb0 running || return 1
        for a in 0 1 2 3; do
                ctr "A/init/$a" A/sb0 exited && ctr "A/job/$a" A/sb0 exited && ctr "B/init/$a" B/sb0 exited || return 1
        done
        ctr B/lazy/0 B/sb0 created && ctr B/lazy/1 B/sb0 created || return 1
        ctr G/g/0 A/sb0 exited "$BUSYBOX" "$G" && ctr G/g/1 A/sb0 exited "$BUSYBOX" "$G" &&
                ctr G/run/0 A/sb0 running "$BUSYBOX" "$G"
}

case_containers() {
        new_node
        use_shared_runtime
        runtime_empty "the container scenario"
        local A B G
        A=$(new_uid)
        B=$(new_uid)
        G=$(new_uid) # a pod whose sandbox is lost: its containers are labelled with its uid
        uids+=("$A" "$B" "$G")
        if ! setup_containers "$A" "$B" "$G"; then
                not_ok "containers: set up"
                return
        fi
        expect "containers set-up: 4 exited attempts per (pod, name), CREATED, RUNNING, a gone pod's" states_now \
                A/app/0=EXITED A/app/1=RUNNING \
                A/init/{0,1,2,3}=EXITED A/job/{0,1,2,3}=EXITED B/init/{0,1,2,3}=EXITED \
                B/lazy/0=CREATED B/lazy/1=CREATED G/g/0=EXITED G/g/1=EXITED G/run/0=RUNNING
        expect "containers set-up: both sandboxes READY, none of uid G" sandbox_states_now A/sb0=READY B/sb0=READY

        # Bad values: exit 2, one line, nothing touched.
        check_bad_value "--pod-infra-container-image='': exit 2, one line, nothing touched" \
                --pod-infra-container-image=
        check_bad_value "--image-gc-low-threshold=90 --image-gc-high-threshold=80: exit 2, one line, nothing touched" \
                --image-gc-low-threshold=90 --image-gc-high-threshold=80
        check_bad_value "--maximum-dead-containers-per-container=x: exit 2, one line, nothing touched" \
                --maximum-dead-containers-per-container=x
        check_bad_value "--image-gc-high-threshold=101: exit 2, one line, nothing touched" \
                --image-gc-high-threshold=101

        check_no_change "containers: plan and --dry-run change nothing" --only containers
        reap_json plan plan --only containers
        local planned
        planned=$(json_targets "$WORK/plan.json" remove-container planned)
        check "containers: plan names exactly the default policy's evictions (gone pod's dead, all but the newest dead per name)" \
                test "$planned" = "$(printf '%s\n' A/init/{0,1,2} A/job/{0,1,2} B/init/{0,1,2} B/lazy/0 G/g/{0,1} | sort | tr '\n' ' ')"
        [ "$planned" = "$(printf '%s\n' A/init/{0,1,2} A/job/{0,1,2} B/init/{0,1,2} B/lazy/0 G/g/{0,1} | sort | tr '\n' ' ')" ] ||
                echo "#   plan: $planned"

        local before after
        before=$(containers_now)
        reap_json ttl run --only containers --minimum-container-ttl-duration=1h
        check "containers --minimum-container-ttl-duration=1h: exit 0" test "$RC" -eq 0
        # shellcheck disable=SC2086 # a list of names
        expect "containers --minimum-container-ttl-duration=1h: nothing removed, not even the gone pod's" containers_now $before

        before=$(containers_now)
        reap_json per3 run --only containers --maximum-dead-containers-per-container=3
        after=$(containers_now)
        check "containers per-container=3: exit 0" test "$RC" -eq 0
        expect "containers per-container=3: the gone pod's dead containers all go, 3 newest dead per (pod, name), running ones stay" \
                containers_now A/app/0 A/app/1 A/init/{1,2,3} A/job/{1,2,3} B/init/{1,2,3} B/lazy/0 B/lazy/1 G/run/0
        check_report "containers per-container=3: the report's done remove-container actions are what the runtime lost" \
                "$WORK/per3.json" remove-container "$before" "$after"
        check "containers: the gone pod's removals carry its uid" \
                test "$(json_field "$WORK/per3.json" "sorted(set(a.get('pod_uid') for a in r['actions'] if a['target'] in ('${ID_OF[G/g/0]}', '${ID_OF[G/g/1]}')))")" = "['$G']"

        before=$after
        reap_json per2 run --only containers --maximum-dead-containers-per-container=2
        after=$(containers_now)
        expect "containers --maximum-dead-containers-per-container=2: two newest dead per (pod, name)" \
                containers_now A/app/0 A/app/1 A/init/{2,3} A/job/{2,3} B/init/{2,3} B/lazy/0 B/lazy/1 G/run/0
        check_report "containers per-container=2: report = runtime" "$WORK/per2.json" remove-container "$before" "$after"

        before=$after
        reap_json per1 run --only containers
        after=$(containers_now)
        expect "containers default (1 per container): the newest dead per (pod, name); a dead attempt beside a running one stays; CREATED counts as dead" \
                containers_now A/app/0 A/app/1 A/init/3 A/job/3 B/init/3 B/lazy/1 G/run/0
        check_report "containers default: report = runtime" "$WORK/per1.json" remove-container "$before" "$after"
        check "containers: no image_gc object in the report when images are not among --only" \
                test "$(json_field "$WORK/per1.json" "'image_gc' in r")" = False

        before=$after
        reap_json total2 run --only containers --maximum-dead-containers=2
        after=$(containers_now)
        # 5 dead in 5 groups: 2/5 per group rounds to the minimum 1, then the 3 oldest on the node go
        expect "containers --maximum-dead-containers=2: the 2 newest dead on the node, running ones stay" \
                containers_now A/app/1 B/init/3 B/lazy/1 G/run/0
        check_report "containers --maximum-dead-containers=2: report = runtime" "$WORK/total2.json" remove-container "$before" "$after"
        expect "containers runs leave the sandboxes alone" sandbox_states_now A/sb0=READY B/sb0=READY

        "$PODCTL" rm-pod "$A" && "$PODCTL" rm-pod "$B" && "$PODCTL" rm-pod "$G"
}

# --maximum-dead-containers leaves max / groups per group first, then the oldest on the node.
# Groups (pod uid, name) with a dead container count; a name with only a running container and a
# gone pod's containers (removed first) do not.
setup_total() {
        local a
        sandbox E 0 "$1" && ctr E/c/0 E/sb0 exited && ctr E/d/0 E/sb0 running || return 1
        for a in 0 1 2 3; do
                ctr "E/a/$a" E/sb0 exited && ctr "E/b/$a" E/sb0 exited || return 1
        done
        ctr F/z/0 E/sb0 exited "$BUSYBOX" "$2"
}
case_containers_total() {
        new_node
        use_shared_runtime
        local E F
        E=$(new_uid)
        F=$(new_uid)
        uids+=("$E" "$F")
        if ! setup_total "$E" "$F"; then
                not_ok "containers (total): set up"
                return
        fi
        local before after
        before=$(containers_now)
        reap_json total7 run --only containers --maximum-dead-containers-per-container=-1 --maximum-dead-containers=7
        after=$(containers_now)
        check "containers per-container=-1 total=7: exit 0" test "$RC" -eq 0
        # the gone pod's z goes first; 9 dead in 3 groups > 7: 7/3 = 2 per group, 5 left <= 7
        # (oldest-first alone would keep 7; counting d's or z's group: 7/4 = 1 per group, 3 left)
        expect "containers --maximum-dead-containers=7 over 3 names: 2 per name first (7/3), as the kubelet" \
                containers_now E/a/{2,3} E/b/{2,3} E/c/0 E/d/0
        check_report "containers total=7: report = runtime" "$WORK/total7.json" remove-container "$before" "$after"
        ctr E/c/1 E/sb0 exited || {
                not_ok "containers (total): more containers"
                return
        }
        reap_json total0 run --only containers --maximum-dead-containers=0
        expect "containers --maximum-dead-containers=0: every dead container goes, the running one stays" \
                containers_now E/d/0
        "$PODCTL" rm-pod "$E" && "$PODCTL" rm-pod "$F"
}

# ---- 2. sandboxes (evictSandboxes) ------------------------------------------------------------

case_sandboxes() {
        new_node
        use_shared_runtime
        runtime_empty "the sandbox scenario"
        local S T U R V
        S=$(new_uid)
        T=$(new_uid)
        U=$(new_uid)
        R=$(new_uid)
        V=$(new_uid)
        uids+=("$S" "$T" "$U" "$R" "$V")
        if ! {
                # S: three NOTREADY attempts, no containers
                sandbox S 0 "$S" && "$PODCTL" stop-sandbox "${ID_OF[S/sb0]}" &&
                        sandbox S 1 "$S" && "$PODCTL" stop-sandbox "${ID_OF[S/sb1]}" &&
                        sandbox S 2 "$S" && "$PODCTL" stop-sandbox "${ID_OF[S/sb2]}" &&
                        # T: an old NOTREADY sandbox holding the pod's only (kept) dead container
                        sandbox T 0 "$T" && ctr T/x/0 T/sb0 exited && "$PODCTL" stop-sandbox "${ID_OF[T/sb0]}" &&
                        sandbox T 1 "$T" && "$PODCTL" stop-sandbox "${ID_OF[T/sb1]}" &&
                        # U: each NOTREADY sandbox holds an attempt of x; x/0 goes, then its sandbox
                        sandbox U 0 "$U" && ctr U/x/0 U/sb0 exited && "$PODCTL" stop-sandbox "${ID_OF[U/sb0]}" &&
                        sandbox U 1 "$U" && ctr U/x/1 U/sb1 exited && "$PODCTL" stop-sandbox "${ID_OF[U/sb1]}" &&
                        # R: an old READY sandbox, then two NOTREADY ones
                        sandbox R 0 "$R" && sandbox R 1 "$R" && "$PODCTL" stop-sandbox "${ID_OF[R/sb1]}" &&
                        sandbox R 2 "$R" && "$PODCTL" stop-sandbox "${ID_OF[R/sb2]}" &&
                        # V: a running pod
                        sandbox V 0 "$V" && ctr V/app/0 V/sb0 running
        }; then
                not_ok "sandboxes: set up"
                return
        fi
        expect "sandboxes set-up: states as claimed" sandbox_states_now \
                S/sb{0,1,2}=NOTREADY T/sb{0,1}=NOTREADY U/sb{0,1}=NOTREADY R/sb0=READY R/sb{1,2}=NOTREADY V/sb0=READY
        expect "sandboxes set-up: containers as claimed" states_now T/x/0=EXITED U/x/0=EXITED U/x/1=EXITED V/app/0=RUNNING

        check_no_change "sandboxes: plan and --dry-run change nothing" --only containers,sandboxes

        local before after cbefore
        before=$(sandboxes_now)
        cbefore=$(containers_now)
        reap_json sb1 run --only sandboxes
        after=$(sandboxes_now)
        check "sandboxes --only sandboxes: exit 0" test "$RC" -eq 0
        expect "sandboxes --only sandboxes: newest per pod, READY ones and those with containers stay" \
                sandboxes_now S/sb2 T/sb{0,1} U/sb{0,1} R/sb0 R/sb2 V/sb0
        # shellcheck disable=SC2086 # a list of names
        expect "sandboxes --only sandboxes: no container touched" containers_now $cbefore
        check_report "sandboxes --only sandboxes: report = runtime" "$WORK/sb1.json" remove-sandbox "$before" "$after"

        before=$after
        cbefore=$(containers_now)
        reap_json sb2 run --only containers,sandboxes
        after=$(sandboxes_now)
        check "sandboxes --only containers,sandboxes: exit 0" test "$RC" -eq 0
        expect "sandboxes --only containers,sandboxes: a sandbox whose last container went this pass goes too" \
                sandboxes_now S/sb2 T/sb{0,1} U/sb1 R/sb0 R/sb2 V/sb0
        expect "sandboxes --only containers,sandboxes: the newest dead container per name stays" \
                containers_now T/x/0 U/x/1 V/app/0
        check_report "sandboxes containers,sandboxes: report = runtime (sandboxes)" "$WORK/sb2.json" remove-sandbox "$before" "$after"
        check_report "sandboxes containers,sandboxes: report = runtime (containers)" "$WORK/sb2.json" remove-container \
                "$cbefore" "$(containers_now)"

        local uid
        for uid in "$S" "$T" "$U" "$R" "$V"; do "$PODCTL" rm-pod "$uid"; done
}

# ---- 4. dead container log symlinks (evictPodLogsDirectories) ----------------------------------

case_logs() {
        new_node
        use_shared_runtime
        local L
        L=$(new_uid)
        uids+=("$L")
        if ! {
                sandbox L 0 "$L" && ctr L/run/0 L/sb0 running && ctr L/ex/0 L/sb0 exited &&
                        ctr L/ex2/0 L/sb0 exited && ctr L/ex3/0 L/sb0 exited && ctr L/new/0 L/sb0 created
        }; then
                not_ok "logs: set up"
                return
        fi
        local d=$NODE/containers-logs p=pod-L_default gone=${LOGDIR_OF[L]}/nothing/0.log absent
        absent=$(sha256sum <<<"$L $EPOCHREALTIME")
        absent=${absent%% *}
        local run=${ID_OF[L/run/0]} ex=${ID_OF[L/ex/0]} ex2=${ID_OF[L/ex2/0]} ex3=${ID_OF[L/ex3/0]} new=${ID_OF[L/new/0]}
        ln -s "$gone" "$d/${p}_run-$run.log"                 # running, target gone: kept
        ln -s "$gone" "$d/${p}_run-${run:0:12}.log"          # the same by a 12-char prefix: kept
        ln -s "$gone" "$d/${p}_new-$new.log"                 # created, target gone: kept
        ln -s "$gone" "$d/${p}_ex-$ex.log"                   # exited, target gone: removed
        ln -s "$gone" "$d/${p}_ex3-${ex3:0:12}.log"          # exited by prefix, target gone: removed
        ln -s "${LOGDIR_OF[L]}/ex2/0.log" "$d/${p}_ex2-$ex2.log" # exited, target exists: kept
        ln -s "$gone" "$d/${p}_old-$absent.log"              # not in the runtime, target gone: removed
        ln -s "$gone" "$d/${p}_short-abc.log"                # no container id (< 6 chars): removed
        ln -s "$gone" "$d/${p}_ex-$ex.txt"                   # not *.log: not the kubelet's, kept
        echo "a file" >"$d/${p}_file-$absent.log"            # a file, not a dead link: kept
        mkdir -p "$NODE/pods-logs/default_pod-L_$L/run"      # the live pod's log dir
        if [ -e "${LOGDIR_OF[L]}/ex2/0.log" ] && [ ! -e "$gone" ]; then
                ok "logs set-up: the live target exists, the dead ones do not"
        else
                not_ok "logs set-up: the live target exists, the dead ones do not" "$(ls -lR "${LOGDIR_OF[L]}")"
        fi
        expect "logs set-up: container states" states_now L/run/0=RUNNING L/ex/0=EXITED L/ex2/0=EXITED L/ex3/0=EXITED L/new/0=CREATED

        check_no_change "logs: plan and --dry-run change nothing" --only logs
        local before after
        before=$(links_now)
        reap_json logs run --only logs
        after=$(links_now)
        check "logs: exit 0" test "$RC" -eq 0
        expect "logs: dead links of exited or absent containers (and without an id) go; running, created, live-target, non-.log stay" \
                links_now "${p}_run-$run.log" "${p}_run-${run:0:12}.log" "${p}_new-$new.log" "${p}_ex2-$ex2.log" \
                "${p}_ex-$ex.txt" "${p}_file-$absent.log"
        local lost reported
        lost=$(gone_between "$before" "$after")
        reported=$($PY - "$WORK/logs.json" <<'EOF' | sort | tr '\n' ' '
import json, os, sys
for a in json.load(open(sys.argv[1])).get("actions", []):
    if a.get("kind") == "remove-log-symlink" and a.get("result") == "done":
        print(os.path.basename(a.get("target", "")))
EOF
)
        check "logs: the report's done remove-log-symlink actions are the links that went" test "$lost" = "$reported"
        [ "$lost" = "$reported" ] || echo "#   lost: $lost; reported: $reported"
        expect "logs: containers untouched" containers_now L/run/0 L/ex/0 L/ex2/0 L/ex3/0 L/new/0
        check "logs: the live pod's log dir stays" test -d "$NODE/pods-logs/default_pod-L_$L"
        "$PODCTL" rm-pod "$L"
}

# ---- the second containerd: UNKNOWN containers, images ----------------------------------------

start_own_runtime() {
        export CTD_KUBEPODS=${KP}i CTD_ROOT_TMPFS=96M
        CTD2_STARTED=1
        if ! ctd_start; then
                not_ok "a second private containerd with its root on a ${CTD_ROOT_TMPFS} tmpfs starts"
                return 1
        fi
        ok "a second private containerd with its root on a ${CTD_ROOT_TMPFS} tmpfs starts"
        use_own_runtime
}

# containerd 1.6 reports CONTAINER_UNKNOWN (created_at 0) for a container whose status checkpoint
# is lost across a restart (unknownContainerStatus in its recovery); the kubelet stops such a
# container (grace 0) before removing it, and otherwise treats it as any dead container.
case_unknown() {
        new_node
        local K
        K=$(new_uid)
        if ! {
                sandbox K 0 "$K" && ctr K/lost/0 K/sb0 exited && ctr K/lost/1 K/sb0 exited &&
                        ctr K/solo/0 K/sb0 exited && ctr K/app/0 K/sb0 running
        }; then
                not_ok "unknown: set up"
                return
        fi
        local cri=$CTD_DIR/root/io.containerd.grpc.v1.cri/containers
        # containerd only (ours, by pid; not the shims): the running container survives the restart
        _ctd_pid_has_arg "$CTD_PID" "$CTD_DIR/config.toml" && kill -KILL "$CTD_PID" && _ctd_wait_dead 50 "$CTD_PID"
        rm -f "$cri/${ID_OF[K/lost/0]}/status" "$cri/${ID_OF[K/solo/0]}/status"
        if ! ctd_restart; then
                not_ok "unknown: containerd restarts"
                return
        fi
        expect "unknown set-up: containerd reports the containers whose checkpoint was lost as UNKNOWN" states_now \
                K/lost/0=UNKNOWN K/lost/1=EXITED K/solo/0=UNKNOWN K/app/0=RUNNING
        local d=$NODE/containers-logs gone=$NODE/nothing.log solo=${ID_OF[K/solo/0]}
        ln -s "$gone" "$d/pod-K_default_solo-$solo.log"

        local before after
        before=$(containers_now)
        reap_json unknown run --only containers,logs
        after=$(containers_now)
        check "unknown: exit 0" test "$RC" -eq 0
        expect "unknown: an UNKNOWN attempt older than the newest dead one goes; an UNKNOWN newest dead one stays" \
                containers_now K/lost/1 K/solo/0 K/app/0
        check_report "unknown: report = runtime" "$WORK/unknown.json" remove-container "$before" "$after"
        check "unknown: the UNKNOWN container is stopped (stop-container) before its removal" \
                test "$(json_field "$WORK/unknown.json" "[a['kind'] for a in r['actions'] if a['target'] == '${ID_OF[K/lost/0]}']")" = \
                "['stop-container', 'remove-container']"
        check "unknown: a dead log link of an UNKNOWN container stays (not EXITED)" test -L "$d/pod-K_default_solo-$solo.log"
        "$PODCTL" rm-pod "$K"
}

# statvfs of the image file system: "capacity available usage%"; usage as the kubelet computes it.
image_fs() {
        $PY -c 'import os, sys
s = os.statvfs(sys.argv[1])
cap, avail = s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize
print(cap, avail, 100 - avail * 100 // cap)' "$CTD_DIR/root/io.containerd.snapshotter.v1.overlayfs"
}
json_planned_images() { json_targets "$WORK/planimg.json" remove-image planned; }
image_size() { "$PODCTL" list-images | awk -v id="${ID_OF[$1]}" '$1 == id {print $2}'; }

build_image() { # NAME PADDING: example.test/NAME:1, remembered as NAME
        ctd_build_image "example.test/$1:1" --size-bytes "$2" -- /bin/sh || return 1
        remember "$1" "$("$PODCTL" list-images | awk -v t="example.test/$1:1" '$3 ~ t {print $1}')"
}

# First detections in separate passes (default thresholds: nothing to do yet), so that the least
# recently used order of never-used images is old, mid, new. A running container uses busybox, an
# exited one used, another exited one once (removed later: once was used, then not).
setup_images() {
        build_image old 4000000 && reap_json d1 run --only images || return 1
        build_image mid 2500000 && reap_json d2 run --only images || return 1
        build_image new 3000000 && build_image once 1000000 && build_image used 1000000 || return 1
        sandbox K 0 "$1" && ctr K/app/0 K/sb0 running "$BUSYBOX" || return 1
        ctr K/used/0 K/sb0 exited example.test/used:1 && ctr K/once/0 K/sb0 exited example.test/once:1
}

case_images() {
        new_node
        local K
        K=$(new_uid)
        remember pause "$("$PODCTL" list-images | awk '$3 ~ /pause:3.9/ {print $1}')"
        remember busybox "$("$PODCTL" list-images | awk '$3 ~ /busybox:1.35/ {print $1}')"
        if ! setup_images "$K"; then
                not_ok "images: set up"
                return
        fi
        reap_json d3 run --only images # once and used are in use now
        local t_used=$EPOCHREALTIME
        "$PODCTL" rm-container "${ID_OF[K/once/0]}" # once: unused from now on, last used at d3
        check "images set-up: the detection passes exit 0" test "$RC" -eq 0
        expect "images set-up: the detection passes remove nothing" images_now busybox mid new old once pause used
        check "images set-up: first-detected records in the state file for every image" \
                test "$(grep -c '^image sha256:' "$NODE/state/state")" -eq 7

        # Thresholds from the real file system: high just under the current usage; low so that the
        # bytes to free (capacity x (100 - low) / 100 - available) need old and mid, not new.
        local cap avail usage s_old s_mid high low btf target
        read -r cap avail usage < <(image_fs)
        s_old=$(image_size old)
        s_mid=$(image_size mid)
        high=$usage
        target=$((s_old + s_mid / 2))
        low=$((100 - (avail + target) * 100 / cap))
        for l in $low $((low - 1)) $((low + 1)); do
                btf=$((cap * (100 - l) / 100 - avail))
                if [ "$btf" -gt "$s_old" ] && [ "$btf" -le $((s_old + s_mid)) ]; then
                        low=$l
                        break
                fi
        done
        btf=$((cap * (100 - low) / 100 - avail))
        echo "# image fs: capacity $cap, available $avail, usage $usage%; high $high, low $low, to free $btf (old $s_old, mid $s_mid)"
        if [ "$btf" -gt "$s_old" ] && [ "$btf" -le $((s_old + s_mid)) ] && [ "$low" -lt "$high" ] && [ "$low" -ge 0 ]; then
                ok "images set-up: usage $usage% reaches a high threshold of $high%; the low threshold $low% needs old and mid freed"
        else
                not_ok "images set-up: usage reaches the high threshold; a low threshold needs old and mid" \
                        "capacity $cap available $avail usage $usage high $high low $low to-free $btf old $s_old mid $s_mid"
                return
        fi
        local TH=(--image-gc-high-threshold="$high" --image-gc-low-threshold="$low")

        local records
        records=$(cat "$NODE/state/state")
        check_no_change "images: plan and --dry-run change nothing (over the threshold, minimum age 0)" \
                --only images "${TH[@]}" --minimum-image-ttl-duration=0
        check "images: plan and --dry-run leave the image records in the state file alone" \
                test "$records" = "$(cat "$NODE/state/state")"
        reap_json planimg plan --only images "${TH[@]}" --minimum-image-ttl-duration=0
        expect "images: plan (minimum age 0) names old and mid as planned remove-image" json_planned_images old mid
        reap_json young run --only images "${TH[@]}"
        check "images over the threshold, all younger than --minimum-image-ttl-duration (2m): exit 0" test "$RC" -eq 0
        expect "images over the threshold, all younger than --minimum-image-ttl-duration (2m): nothing removed" \
                images_now busybox mid new old once pause used
        check "images, all young: the report says the target cannot be reached (image_gc.problem)" \
                test "$(json_field "$WORK/young.json" "r['image_gc']['problem'] is not None")" = True

        # the minimum age passes (1 s): the least recently used go until usage <= low
        sleep 1.1
        read -r cap avail usage < <(image_fs)
        btf=$((cap * (100 - low) / 100 - avail))
        local before after
        before=$(images_now)
        reap_json space run --only images "${TH[@]}" --minimum-image-ttl-duration=1s
        after=$(images_now)
        check "images over the threshold: exit 0" test "$RC" -eq 0
        expect "images over the threshold: never-used old then mid removed (LRU), new (enough freed), once (used later), in-use, pause stay" \
                images_now busybox new once pause used
        check_report "images over the threshold: report = runtime" "$WORK/space.json" remove-image "$before" "$after"
        # bytes to free within 64 KiB of ours: containerd may write a page between the two statvfs
        local want_gc got_gc
        want_gc="root $cap $usage $high $low $btf $((s_old + s_mid)) None"
        got_gc=$(json_field "$WORK/space.json" "' '.join(str(x) for x in ['root' if r['image_gc']['mountpoint'].startswith('$CTD_DIR/root/') else r['image_gc']['mountpoint'], r['image_gc']['capacity_bytes'], r['image_gc']['usage_percent'], r['image_gc']['high_threshold'], r['image_gc']['low_threshold'], $btf if abs(r['image_gc']['bytes_to_free'] - $btf) <= 65536 else r['image_gc']['bytes_to_free'], r['image_gc']['bytes_freed'], r['image_gc']['problem']])")
        check "images over the threshold: image_gc = mountpoint, capacity, usage%, thresholds, bytes to free (kubelet formula), freed (sizes), no problem" \
                test "$want_gc" = "$got_gc"
        [ "$want_gc" = "$got_gc" ] || echo "#   want: $want_gc; got: $got_gc"
        local i
        for i in $(seq 1 20); do
                read -r cap avail usage < <(image_fs)
                [ "$usage" -le "$low" ] && break
                sleep 0.1
        done
        check "images: the file system's usage is now at most the low threshold ($usage% <= $low%)" test "$usage" -le "$low"

        # --image-maximum-gc-age: unused images unused for longer go, whatever the usage
        local wait
        wait=$($PY -c "import sys; print(max(0.0, 2.2 - ($EPOCHREALTIME - $t_used)))")
        sleep "$wait"
        before=$(images_now)
        reap_json age1 run --only images --image-maximum-gc-age=2s --pod-infra-container-image=example.test/once:1
        after=$(images_now)
        check "images --image-maximum-gc-age=2s: exit 0" test "$RC" -eq 0
        check "images --image-maximum-gc-age=2s: usage is under the default high threshold" \
                test "$(json_field "$WORK/age1.json" "r['image_gc']['usage_percent'] < 85")" = True
        expect "images --image-maximum-gc-age=2s --pod-infra-container-image=once: unused new goes; once (infra image), pause (the runtime's sandbox image), in-use stay" \
                images_now busybox once pause used
        check_report "images --image-maximum-gc-age (infra once): report = runtime" "$WORK/age1.json" remove-image "$before" "$after"
        # the sandbox image counts as in use (the kubelet's detectImages): once was last used at age1.
        # Disuse counts from the first pass that sees it (a time podreaper did not run is not
        # disuse): this pass sees once unused, the one 2.2 s later removes it.
        reap_json age1b run --only images
        check "images: a pass without a max age removes nothing" test "$(images_now)" = "$after"
        sleep 2.2
        before=$after
        reap_json age2 run --only images --image-maximum-gc-age=2s
        after=$(images_now)
        expect "images --image-maximum-gc-age=2s: unused once goes; pause (sandbox image, never used) and in-use stay" \
                images_now busybox pause used
        check_report "images --image-maximum-gc-age: report = runtime" "$WORK/age2.json" remove-image "$before" "$after"

        # the target cannot be reached: every image left is in use or the sandbox image
        reap_json unreach run --only images --image-gc-high-threshold=1 --image-gc-low-threshold=0 \
                --minimum-image-ttl-duration=0
        expect "images, nothing removable (in use, sandbox image): nothing removed" images_now busybox pause used
        check "images, nothing removable: the report says the target cannot be reached (image_gc.problem)" \
                test "$(json_field "$WORK/unreach.json" "r['image_gc']['problem'] is not None")" = True
        check "images, nothing removable: exit status 0 or 1, not a crash" test "$RC" -le 1

        # --image-gc-high-threshold=100 turns image GC off in the kubelet (with no maximum age), even
        # on a full image file system.
        build_image spare 500000 || {
                not_ok "images: one more image"
                return
        }
        reaper run --only images >/dev/null 2>&1 # first detection
        read -r cap avail usage < <(image_fs)
        fallocate -l $((avail - cap / 200)) "$CTD_DIR/root/filler" 2>/dev/null
        read -r cap avail usage < <(image_fs)
        check "images set-up: the image file system is full (usage $usage%)" test "$usage" -eq 100
        reap_json full run --only images --image-gc-high-threshold=100 --image-gc-low-threshold=99 \
                --minimum-image-ttl-duration=0
        expect "images --image-gc-high-threshold=100 at 100% usage: image GC is off, as the kubelet's, nothing removed" \
                images_now busybox pause spare used
        # with a maximum age the kubelet runs image GC, and 100% usage reaches a high threshold of 100
        reap_json full-age run --only images --image-gc-high-threshold=100 --image-gc-low-threshold=99 \
                --minimum-image-ttl-duration=0 --image-maximum-gc-age=1h
        rm -f "$CTD_DIR/root/filler"
        expect "images --image-gc-high-threshold=100 --image-maximum-gc-age=1h at 100% usage: image GC is on, the unused image goes" \
                images_now busybox pause used

        "$PODCTL" rm-pod "$K"
}

case_containers
case_containers_total
case_sandboxes
case_logs
if start_own_runtime; then
        case_unknown
        case_images
fi

echo "1..$n"
[ "$failed" -eq 0 ]
