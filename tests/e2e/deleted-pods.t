#!/bin/bash
# e2e: the deleted-pod rule of runtime GC (DESIGN §2 "deleted", issue 12) against the private
# containerd of tests/e2e/with-containerd.sh and a fake kubelet (healthz on 127.0.0.1:10248, the
# pod-resources List through grpcio naming the pods it has):
#   - a pod deleted while the kubelet could not clean up (its sandbox NotReady, its containers
#     exited, its pod dir removed as the kubelet's cleanupOrphanedPodDirs removes it) keeps its
#     newest sandbox and dead container for the grace, then loses them; then, as an ordinary
#     orphan with its own grace, its log dir and pod cgroup;
#   - a finished Job pod whose pod dir is still there keeps its newest sandbox and container;
#   - a ready sandbox without a pod dir turns the rule off (report, log line, check, metrics),
#     nothing of the kind goes, and every deleted-pod clock starts again once it is fixed.
# Every claim is checked against the runtime's own lists (podctl), the cgroup filesystem and the
# disk, not taken from the report. Prints TAP. Needs root; PODREAPER_BUILD names the build dir.
set -u

TAP_WORK_PREFIX=podreaper-del
. "$(dirname "$0")/lib/tap.sh"

PY=/usr/bin/python3
GRACE=3s
GRACE_WAIT=3.3
pids=() # the fake kubelet's servers, ended by pid
uids=() # pods made in the runtime, removed at the end

cleanup() {
        local pid uid
        for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
        for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
        for uid in "${uids[@]}"; do "$PODCTL" rm-pod "$uid" >/dev/null 2>&1; done
        tap_remove_work
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

NODE=$WORK/node
mkdir -p "$NODE/kubelet/pods" "$NODE/pods-logs" "$NODE/containers-logs" "$NODE/state"

reaper() { # reaper COMMAND [flags...]: podreaper on this node, the kubelet required (the default)
        local cmd=$1
        shift
        "$PODREAPER" "$cmd" --root-dir "$NODE/kubelet" --pod-logs-dir "$NODE/pods-logs" \
                --container-logs-dir "$NODE/containers-logs" --state-dir "$NODE/state" \
                --kubepods-cgroup "$KP" --cgroup-driver cgroupfs \
                --container-runtime-endpoint "$PODREAPER_TEST_CRI_ENDPOINT" --orphan-grace "$GRACE" "$@"
}

# run with --output json into $WORK/NAME.json, stderr (the log lines) into $WORK/NAME.err, the
# metrics into $WORK/NAME.prom; exit status in RC.
reap_json() {
        local name=$1
        shift
        reaper run --output json --metrics-file "$WORK/$name.prom" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"
        RC=$?
}
json_field() { # FILE PYTHON-EXPRESSION over the report r: prints it
        $PY -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
expect_field() { # DESCRIPTION FILE EXPRESSION WANT
        local got
        got=$(json_field "$2" "$3")
        if [ "$got" = "$4" ]; then
                ok "$1"
        else
                not_ok "$1" "$3" "want: $4" "got:  $got" "$(head -c 800 "$2")"
        fi
}

# ---- the fake kubelet ---------------------------------------------------------------------------

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
# pod-resources List (ListPodResourcesResponse: pod_resources = 1 {name = 1, namespace = 2,
# containers = 3 {name = 1}}, hand-encoded), one pod per line "namespace/name" of argv[2], read at
# every call: the pods the kubelet has can change without a restart (whose socket change time would
# be a new kubelet start).
POD_RESOURCES='
import sys, grpc
from concurrent import futures
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)
def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload
def List(request, context):
    pods = [l.split("/", 1) for l in open(sys.argv[2]).read().split()]
    return b"".join(field(1, field(1, name.encode()) + field(2, ns.encode()) +
                             field(3, field(1, b"main"))) for ns, name in pods)
handler = grpc.method_handlers_generic_handler("v1.PodResourcesLister", {
    "List": grpc.unary_unary_rpc_method_handler(List)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
server.add_generic_rpc_handlers((handler,))
server.add_insecure_port("unix:" + sys.argv[1])
server.start()
print("ready", flush=True)
server.wait_for_termination()
'
KUBELET_PODS=$WORK/kubelet-pods

port_answers() { (exec 3<>/dev/tcp/127.0.0.1/10248) 2>/dev/null; }

start_kubelet() {
        mkdir -p "$NODE/kubelet/pod-resources"
        : >"$KUBELET_PODS"
        $PY -c "$POD_RESOURCES" "$NODE/kubelet/pod-resources/kubelet.sock" "$KUBELET_PODS" >"$WORK/pod-resources.out" 2>&1 &
        pids+=($!)
        $PY -c "$HEALTHZ" >"$WORK/healthz.out" 2>&1 &
        pids+=($!)
        wait_for 10 grep -q ready "$WORK/pod-resources.out" && wait_for 10 port_answers
}

# ---- the node -----------------------------------------------------------------------------------

declare -A ID_OF=() # name (D/sb0, D/app/1) -> id
declare -A NAME_OF=()
remember() { ID_OF[$1]=$2; NAME_OF[$2]=$1; }
logdir_of() { echo "$NODE/pods-logs/default_pod-${1}_$2"; } # POD UID

# A pod as the kubelet makes it: pod dir first, log dir, then the sandbox (attempt 0).
pod_start() { # POD UID
        local id
        mkdir -p "$NODE/kubelet/pods/$2/volumes" "$NODE/kubelet/pods/$2/containers" "$(logdir_of "$1" "$2")"
        id=$("$PODCTL" run-sandbox "$2" "pod-$1" default "$KP" "$(logdir_of "$1" "$2")" 0) || return 1
        remember "$1/sb0" "$id"
        uids+=("$2")
}
ctr() { # POD UID NAME ATTEMPT STATE
        local id
        id=$("$PODCTL" add-container "${ID_OF[$1/sb0]}" "$KP" "$(logdir_of "$1" "$2")" "$3" "$4" "$5") || return 1
        remember "$1/$3/$4" "$id"
}
named() { # ids on stdin (first field) -> names, sorted, one line
        local id _
        while read -r id _; do echo "${NAME_OF[$id]:-?${id:0:12}}"; done | sort | tr '\n' ' '
}
sandboxes_now() {
        "$PODCTL" list-sandboxes | while read -r id _ _ _ state _; do
                echo "${NAME_OF[$id]:-?${id:0:12}}=$state"
        done | sort | tr '\n' ' '
}
containers_now() {
        "$PODCTL" list-containers | while read -r id _ _ _ state _; do
                echo "${NAME_OF[$id]:-?${id:0:12}}=$state"
        done | sort | tr '\n' ' '
}
expect() { # DESCRIPTION LISTER WANT...: the lister's names are exactly WANT
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
cgroup_count() { # UID: in how many hierarchies the pod cgroup exists
        local h n=0
        for h in "${CG_HIERARCHIES[@]}"; do [ -d "$h/$KP/besteffort/pod$1" ] && n=$((n + 1)); done
        echo "$n"
}
state_has() { grep -q "^$1 $2" "$NODE/state/state" 2>/dev/null; } # KIND UID

if port_answers; then
        ok "# SKIP something listens on 127.0.0.1:10248 already: no fake kubelet"
        echo "1..$n"
        exit 0
fi
if ! $PY -c 'import grpc' 2>/dev/null; then
        not_ok "$PY has grpcio (python3-grpcio) for the fake kubelet's pod-resources"
        echo "1..$n"
        exit 1
fi
if start_kubelet; then
        ok "the fake kubelet answers healthz and pod-resources"
else
        not_ok "the fake kubelet answers healthz and pod-resources" "$(cat "$WORK/pod-resources.out" "$WORK/healthz.out")"
        echo "1..$n"
        exit 1
fi

L=$(new_uid) # live: ready sandbox, running container, pod dir, the kubelet has it
D=$(new_uid) # deleted while the kubelet was down: NotReady, exited, pod dir removed
J=$(new_uid) # a finished Job: NotReady, exited, pod dir still there, not active in the kubelet
echo "# L=$L D=$D J=$J"
if ! {
        pod_start L "$L" && ctr L "$L" app 0 running &&
                pod_start D "$D" && ctr D "$D" app 0 exited && ctr D "$D" app 1 exited &&
                "$PODCTL" stop-sandbox "${ID_OF[D/sb0]}" &&
                pod_start J "$J" && ctr J "$J" job 0 exited && "$PODCTL" stop-sandbox "${ID_OF[J/sb0]}"
}; then
        not_ok "set up the pods"
        echo "1..$n"
        exit 1
fi
echo "default/pod-L" >"$KUBELET_PODS"
# The kubelet's cleanupOrphanedPodDirs: D is no longer in its pod manager and runs nothing.
rm -rf "${NODE:?}/kubelet/pods/$D"

expect "set-up: L ready, D and J NotReady" sandboxes_now L/sb0=READY D/sb0=NOTREADY J/sb0=NOTREADY
expect "set-up: L running, D's two attempts and J's one exited" containers_now \
        L/app/0=RUNNING D/app/0=EXITED D/app/1=EXITED J/job/0=EXITED
check "set-up: pod dirs of L and J, none of D" test -d "$NODE/kubelet/pods/$L" -a -d "$NODE/kubelet/pods/$J" \
        -a ! -e "$NODE/kubelet/pods/$D"
check "set-up: D's log dir and pod cgroup are there" test -d "$(logdir_of D "$D")" -a "$(cgroup_count "$D")" -gt 0
sleep "$GRACE_WAIT" # the kubelet up for the grace (its pod-resources socket's change time)

# ---- pass 1: D first seen deleted: within the grace it is a live pod to runtime GC ------------

reap_json p1
check "pass 1: exit 0" test "$RC" -eq 0
expect "pass 1: every sandbox stays (D's is its newest, within the grace)" sandboxes_now \
        L/sb0=READY D/sb0=NOTREADY J/sb0=NOTREADY
expect "pass 1: only D's older attempt goes (per container, as for a live pod)" containers_now \
        L/app/0=RUNNING D/app/1=EXITED J/job/0=EXITED
expect_field "pass 1: the report lists D, within the grace, and no other pod" "$WORK/p1.json" \
        "(r['deleted_pods']['rule'], [(p['pod_uid'], p['verdict']) for p in r['deleted_pods']['pods']])" \
        "('on', [('$D', 'grace')])"
expect_field "pass 1: D's evidence" "$WORK/p1.json" \
        "r['deleted_pods']['pods'][0]['evidence'].startswith('pod dir removed by the kubelet, no ready sandbox, no running container, not active in the kubelet, for ')" \
        True
check "pass 1: the state file holds D's deleted clock" state_has deleted "$D"
check "pass 1: metrics: one deleted pod within the grace, none deleted" \
        grep -qx 'podreaper_deleted_pods{state="grace"} 1' "$WORK/p1.prom"

sleep "$GRACE_WAIT"

# ---- pass 2: D past the grace: its last sandbox and dead container go ----------------------------

reap_json p2
check "pass 2: exit 0" test "$RC" -eq 0
expect "pass 2: D's last sandbox is gone; the finished Job keeps its newest sandbox" sandboxes_now \
        L/sb0=READY J/sb0=NOTREADY
expect "pass 2: D's last dead container is gone; the Job's stays; L's runs" containers_now \
        L/app/0=RUNNING J/job/0=EXITED
expect_field "pass 2: the report's done runtime GC actions are D's container and sandbox, with the evidence" \
        "$WORK/p2.json" \
        "sorted((a['kind'], a['pod_uid'], a['result'], 'of a deleted pod: pod dir removed by the kubelet, no ready sandbox' in a['reason'] or 'its pod is deleted (pod dir removed by the kubelet' in a['reason']) for a in r['actions'] if a['kind'] in ('remove-container', 'remove-sandbox', 'stop-container'))" \
        "[('remove-container', '$D', 'done', True), ('remove-sandbox', '$D', 'done', True)]"
expect_field "pass 2: the removed ids are D's" "$WORK/p2.json" \
        "sorted(a['target'] for a in r['actions'] if a['kind'] in ('remove-container', 'remove-sandbox'))" \
        "$($PY -c 'import sys; print(sorted(sys.argv[1:]))' "${ID_OF[D/app/1]}" "${ID_OF[D/sb0]}")"
expect_field "pass 2: the report says D is deleted" "$WORK/p2.json" \
        "[(p['pod_uid'], p['verdict'], p['for_seconds'] >= 3) for p in r['deleted_pods']['pods']]" \
        "[('$D', 'deleted', True)]"
check "pass 2: the log has D's verdict with its evidence" \
        grep -q "pod $D deleted: pod dir removed by the kubelet, no ready sandbox, no running container, not active in the kubelet, for [0-9.]*s (grace 3s); every inactive sandbox and dead container of it goes" "$WORK/p2.err"
check "pass 2: metrics: one deleted pod, the rule on" \
        bash -c "grep -qx 'podreaper_deleted_pods{state=\"deleted\"} 1' '$WORK/p2.prom' && ! grep -q '^podreaper_deleted_rule_off{.*} 1' '$WORK/p2.prom'"
check "pass 2: D's log dir and pod cgroup stay (the runtime had it when the pass looked)" \
        test -d "$(logdir_of D "$D")" -a "$(cgroup_count "$D")" -gt 0

# ---- passes 3, 4: D is an ordinary orphan now: its own grace, then its log dir and cgroup -------

reap_json p3
check "pass 3: exit 0" test "$RC" -eq 0
expect_field "pass 3: D is an orphan within the grace (first seen now), not a deleted pod" "$WORK/p3.json" \
        "([a['kind'] for a in r['actions'] if a['pod_uid'] == '$D'], 'within the grace' in ''.join(a['reason'] for a in r['actions'] if a['pod_uid'] == '$D'), r['deleted_pods']['pods'])" \
        "(['skip-pod'], True, [])"
check "pass 3: the state file has D as an orphan, its deleted clock dropped" \
        bash -c "grep -q '^orphan $D ' '$NODE/state/state' && ! grep -q '^deleted $D' '$NODE/state/state'"
check "pass 3: D's log dir and cgroup still there" test -d "$(logdir_of D "$D")" -a "$(cgroup_count "$D")" -gt 0

sleep "$GRACE_WAIT"
reap_json p4
check "pass 4: exit 0" test "$RC" -eq 0
expect_field "pass 4: D's cgroup destroyed and log dir removed, done" "$WORK/p4.json" \
        "sorted(set((a['kind'], a['result']) for a in r['actions'] if a['pod_uid'] == '$D'))" \
        "[('destroy-cgroup', 'done'), ('remove-log-dir', 'done')]"
check "pass 4: D's pod cgroup is gone from every hierarchy" test "$(cgroup_count "$D")" -eq 0
check "pass 4: D's log dir is gone" test ! -e "$(logdir_of D "$D")"
expect "pass 4: the Job and L keep their sandboxes" sandboxes_now L/sb0=READY J/sb0=NOTREADY
expect "pass 4: the Job and L keep their containers" containers_now L/app/0=RUNNING J/job/0=EXITED
check "pass 4: the Job's and L's pod dirs, log dirs and cgroups are all there" \
        test -d "$NODE/kubelet/pods/$J" -a -d "$NODE/kubelet/pods/$L" -a -d "$(logdir_of J "$J")" \
        -a -d "$(logdir_of L "$L")" -a "$(cgroup_count "$J")" -gt 0 -a "$(cgroup_count "$L")" -gt 0

# ---- the guard: a ready sandbox without a pod dir turns the rule off ---------------------------

G=$(new_uid) # ready, no pod dir: not the kubelet's pod, or --root-dir is not the kubelet's
E=$(new_uid) # looks deleted, as D did
echo "# G=$G E=$E"
if ! {
        pod_start G "$G" && rm -rf "${NODE:?}/kubelet/pods/$G" &&
                pod_start E "$E" && ctr E "$E" app 0 exited && "$PODCTL" stop-sandbox "${ID_OF[E/sb0]}" &&
                rm -rf "${NODE:?}/kubelet/pods/$E"
}; then
        not_ok "guard: set up"
        echo "1..$n"
        exit 1
fi
expect "guard set-up: G ready without a pod dir, E NotReady" sandboxes_now \
        L/sb0=READY J/sb0=NOTREADY G/sb0=READY E/sb0=NOTREADY

reap_json g1
check "guard pass 1: exit 0" test "$RC" -eq 0
expect_field "guard pass 1: the rule is off, naming G" "$WORK/g1.json" \
        "(r['deleted_pods']['rule'], r['deleted_pods']['no_pod_dir_pod_uid'], 'pod $G has a ready sandbox but no pod dir in $NODE/kubelet/pods' in r['deleted_pods']['reason'], r['deleted_pods']['pods'])" \
        "('no-pod-dir', '$G', True, [])"
check "guard pass 1: the log says why, naming G" \
        grep -q "Deleted-pod rule off this pass, a pod's last sandbox and dead containers stay: pod $G has a ready sandbox but no pod dir" "$WORK/g1.err"
check "guard pass 1: no deleted clock in the state file" bash -c "! grep -q '^deleted ' '$NODE/state/state'"
check "guard pass 1: metrics: rule off for no-pod-dir" grep -qx 'podreaper_deleted_rule_off{reason="no-pod-dir"} 1' "$WORK/g1.prom"
reaper plan >"$WORK/g1-plan.txt" 2>&1
check "guard: plan's text report says the rule is off and why" \
        grep -q "^Deleted-pod rule off (a pod's last sandbox and dead containers stay): pod $G has a ready sandbox but no pod dir" "$WORK/g1-plan.txt"
reaper check >"$WORK/check-off.out" 2>/dev/null
CHECK_RC=$?
check "guard: check exits 1 (a problem)" test "$CHECK_RC" -eq 1
check "guard: check names the ready pod without its pod dir, in 80 bytes" \
        bash -c "grep -qx 'deleted-pod GC off: ready pod $G, no pod dir' '$WORK/check-off.out' && [ \$(wc -c <'$WORK/check-off.out') -le 81 ]"

sleep "$GRACE_WAIT"
reap_json g2
expect "guard pass 2, past the grace: E keeps its last sandbox" sandboxes_now \
        L/sb0=READY J/sb0=NOTREADY G/sb0=READY E/sb0=NOTREADY
expect "guard pass 2, past the grace: E keeps its dead container" containers_now \
        L/app/0=RUNNING J/job/0=EXITED E/app/0=EXITED
expect_field "guard pass 2: no runtime GC action at all" "$WORK/g2.json" \
        "[a['kind'] for a in r['actions'] if a['kind'] in ('remove-container', 'remove-sandbox', 'stop-container')]" "[]"

# G's pod dir back: the rule is on again, and E's clock starts now, not at its first sighting.
mkdir -p "$NODE/kubelet/pods/$G"
reap_json g3
expect_field "guard fixed: the rule is on, E within a fresh grace" "$WORK/g3.json" \
        "(r['deleted_pods']['rule'], [(p['pod_uid'], p['verdict'], p['for_seconds'] < 3) for p in r['deleted_pods']['pods']])" \
        "('on', [('$E', 'grace', True)])"
expect "guard fixed: E keeps its sandbox within the grace" sandboxes_now \
        L/sb0=READY J/sb0=NOTREADY G/sb0=READY E/sb0=NOTREADY
reaper check >"$WORK/check-on.out" 2>/dev/null
CHECK_RC=$?
check "guard fixed: check no longer names a ready pod without its pod dir" \
        bash -c "[ $CHECK_RC -ne 1 ] || ! grep -q 'deleted-pod GC off' '$WORK/check-on.out'"
sleep "$GRACE_WAIT"
reap_json g4
expect "guard fixed, past the grace: E's sandbox goes" sandboxes_now L/sb0=READY J/sb0=NOTREADY G/sb0=READY
expect "guard fixed, past the grace: E's container goes" containers_now L/app/0=RUNNING J/job/0=EXITED

echo "1..$n"
[ "$failed" -eq 0 ]
