#!/bin/bash
# packaging/ci-packages.sh: CI for everything under packaging/ (issue 7, items 5 and 6).
# Builds the .deb (dpkg-buildpackage) and the .rpm (rpmbuild) from the working tree in temporary
# directories, runs lintian, checks the man pages, the default config file, the bash completion,
# the NPD plugin config, the DaemonSet manifest and the systemd units, installs the .deb, runs
# the installed podreaper against a private containerd (tests/e2e/with-containerd.sh) and purges
# the package again, also when a check fails or the run is interrupted.
# One line per check; the last line is "packaging: N checks passed" (exit 0) or says what failed
# (exit 1). Needs root on Debian 12; installs what it needs with tools/install-deps.sh.
# PODREAPER_PKG_KEEP=1 keeps the temporary directory (packages, logs) for a look afterwards.
# shellcheck disable=SC2317 # the check functions are called through check()
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
SRC=$(pwd)
PY=/usr/bin/python3 # Debian's, with python3-yaml (python3 on PATH may be a pyenv build)
VERSION=$(cat VERSION)
SECURITY_MAX=3.0 # highest acceptable "systemd-analyze security" exposure of the services

if [ "$(id -u)" -ne 0 ]; then
        echo "ci-packages.sh: needs root (dpkg -i, cgroups, a private containerd)" >&2
        exit 2
fi
tools/install-deps.sh || exit 2

WORK=$(mktemp -d /tmp/podreaper-pkg.XXXXXX) || exit 2
chmod 0755 "$WORK" # lintian runs as nobody and must read the packages
LOG=$WORK/check.log
NOTE=$WORK/check.note
we_installed=0
passed=0
failed=0
skipped=0
failed_names=""

cleanup() {
        if [ "$we_installed" -eq 1 ]; then
                if ! dpkg --purge podreaper >"$WORK/purge-on-exit.log" 2>&1; then
                        echo "ci-packages.sh: dpkg --purge podreaper failed:" >&2
                        cat "$WORK/purge-on-exit.log" >&2
                else
                        echo "ci-packages.sh: purged the podreaper package on the way out" >&2
                fi
        fi
        if [ "${PODREAPER_PKG_KEEP:-0}" = 1 ]; then
                echo "ci-packages.sh: kept $WORK" >&2
        else
                rm -rf "$WORK"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }

# check NAME FUNCTION [ARG...]: runs FUNCTION with its output in $LOG; one line with the result,
# the time it took and what FUNCTION wrote to $NOTE; the log's tail when it failed.
check() {
        local name=$1 start end secs note
        shift
        : >"$NOTE"
        start=$(now)
        "$@" >"$LOG" 2>&1
        local rc=$?
        end=$(now)
        secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
        note=$(tr '\n' ' ' <"$NOTE" | sed 's/ *$//')
        if [ "$rc" -eq 0 ]; then
                passed=$((passed + 1))
                printf 'ok    %-34s %5ss  %s\n' "$name" "$secs" "$note"
        else
                failed=$((failed + 1))
                failed_names="$failed_names $name"
                printf 'FAIL  %-34s %5ss  %s\n' "$name" "$secs" "$note"
                tail -n 40 "$LOG" | sed 's/^/      | /'
        fi
        return "$rc"
}

skip() { # skip NAME REASON
        skipped=$((skipped + 1))
        failed_names="$failed_names $1"
        printf 'SKIP  %-34s         %s\n' "$1" "$2"
}

note() { echo "$*" >>"$NOTE"; }

# ---- static checks ---------------------------------------------------------------------------

versions_agree() {
        local deb spec man8 man5
        deb=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version) || return 1
        spec=$(sed -n 's/^Version: *//p' packaging/rpm/podreaper.spec)
        man8=$(sed -n 's/^\.TH .*"podreaper \([^"]*\)".*/\1/p' packaging/man/podreaper.8)
        man5=$(sed -n 's/^\.TH .*"podreaper \([^"]*\)".*/\1/p' packaging/man/podreaper.conf.5)
        echo "VERSION $VERSION, debian/changelog $deb, spec $spec, podreaper.8 $man8, podreaper.conf.5 $man5"
        note "$VERSION"
        [ "$deb" = "$VERSION" ] && [ "$spec" = "$VERSION" ] && [ "$man8" = "$VERSION" ] && [ "$man5" = "$VERSION" ]
}

man_renders() { # man_renders PAGE: groff -ww prints nothing on stderr
        local err=$WORK/groff.err
        groff -ww -man -Tutf8 "$1" >/dev/null 2>"$err" || return 1
        cat "$err"
        [ ! -s "$err" ]
}

# The shape node-problem-detector checks (pkg/custompluginmonitor/types: ApplyConfiguration and
# Validate) plus what podreaper's contract adds (80-byte line, 5 s, `podreaper check`).
npd_config_valid() {
        "$PY" - packaging/npd/podreaper-plugin.json <<'EOF'
import json, re, sys

c = json.load(open(sys.argv[1]))
errors = []
def err(m): errors.append(m)

unit = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
def go_duration(s, where):
    if not isinstance(s, str) or not re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", s):
        err(f"{where}: {s!r} is not a Go duration")
        return None
    return sum(float(n) * unit[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)", s))

for k in ("plugin", "pluginConfig", "source", "conditions", "rules"):
    if k not in c:
        err(f"missing key {k}")
if c.get("plugin") != "custom":
    err(f"plugin must be \"custom\", not {c.get('plugin')!r}")
pc = c.get("pluginConfig", {})
known = {"invoke_interval", "timeout", "max_output_length", "concurrency",
         "enable_message_change_based_condition_update", "skip_initial_status"}
for k in pc:
    if k not in known:
        err(f"pluginConfig: unknown key {k}")
interval = go_duration(pc.get("invoke_interval", "30s"), "invoke_interval")
timeout = go_duration(pc.get("timeout", "5s"), "timeout")
for k in ("max_output_length", "concurrency"):
    if k in pc and not (isinstance(pc[k], int) and not isinstance(pc[k], bool) and pc[k] > 0):
        err(f"pluginConfig.{k} must be a positive integer")
if not isinstance(pc.get("enable_message_change_based_condition_update", False), bool):
    err("enable_message_change_based_condition_update must be a boolean")
if pc.get("max_output_length", 80) > 80:
    err("max_output_length above the 80 bytes podreaper check promises")
if timeout and interval and timeout > interval:
    err("timeout longer than invoke_interval")
if not isinstance(c.get("metricsReporting", True), bool):
    err("metricsReporting must be a boolean")
if not c.get("source"):
    err("source is empty")
conds = c.get("conditions", [])
for i, cond in enumerate(conds):
    for k in ("type", "reason", "message"):
        if not isinstance(cond.get(k), str) or not cond.get(k):
            err(f"conditions[{i}].{k} missing")
types = {cond.get("type") for cond in conds}
rules = c.get("rules", [])
if not rules:
    err("no rules")
kinds = set()
for i, r in enumerate(rules):
    w = f"rules[{i}]"
    kinds.add(r.get("type"))
    if r.get("type") not in ("temporary", "permanent"):
        err(f"{w}.type must be temporary or permanent")
    if not r.get("reason"):
        err(f"{w}.reason missing")
    if not str(r.get("path", "")).startswith("/"):
        err(f"{w}.path must be absolute")
    if not isinstance(r.get("args", []), list) or not all(isinstance(a, str) for a in r.get("args", [])):
        err(f"{w}.args must be a list of strings")
    if r.get("args") != ["check"] or r.get("path") != "/usr/sbin/podreaper":
        err(f"{w} must run /usr/sbin/podreaper check")
    if "timeout" in r:
        t = go_duration(r["timeout"], f"{w}.timeout")
        if t and timeout and t > timeout:
            err(f"{w}.timeout is greater than the global timeout")
    if r.get("type") == "permanent" and r.get("condition") not in types:
        err(f"{w}: permanent problem {r.get('condition')!r} has no preset default condition")
if kinds != {"temporary", "permanent"}:
    err("expected one temporary and one permanent rule")
for e in errors:
    print(e)
print(f"{len(rules)} rules, conditions {sorted(types)}")
sys.exit(1 if errors else 0)
EOF
}

# Valid YAML, and the things a node cleaner's DaemonSet must have; its podreaper flags are
# checked against the binary later (daemonset_flags_parse).
daemonset_valid() {
        "$PY" - packaging/kubernetes/podreaper-daemonset.yaml "$WORK/daemonset-args" <<'EOF'
import sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
errors = []
def err(m): errors.append(m)
if len(docs) != 1:
    err(f"expected one document, got {len(docs)}")
d = docs[0]
if d.get("apiVersion") != "apps/v1" or d.get("kind") != "DaemonSet":
    err("not an apps/v1 DaemonSet")
if d["metadata"].get("namespace") != "kube-system":
    err("namespace is not kube-system")
spec = d["spec"]
tmpl = spec["template"]
if spec["selector"]["matchLabels"].items() - tmpl["metadata"]["labels"].items():
    err("selector does not match the template's labels")
ps = tmpl["spec"]
for k, v in (("hostPID", True), ("hostNetwork", True), ("priorityClassName", "system-node-critical")):
    if ps.get(k) != v:
        err(f"spec.{k} should be {v!r}")
if {"operator": "Exists"} not in ps.get("tolerations", []):
    err("no toleration for every taint (operator: Exists)")
(c,) = ps["containers"]
if not c.get("securityContext", {}).get("privileged"):
    err("container is not privileged")
if not c.get("resources", {}).get("requests"):
    err("no resource requests")
cmd = c["command"] + c.get("args", [])
if "/usr/sbin/podreaper" not in cmd:
    err("command does not run /usr/sbin/podreaper")
else:
    pr = cmd[cmd.index("/usr/sbin/podreaper") + 1:]
    if "daemon" not in pr:
        err("not podreaper daemon")
    if "--require-kubelet=true" not in pr:
        err("no --require-kubelet=true")
    open(sys.argv[2], "w").write("\n".join(pr) + "\n")
vols = {v["name"]: v for v in ps["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
want = {  # host path -> (mount path, propagation or None for "not HostToContainer needed")
    "/sys/fs/cgroup": None,
    "/var/lib/kubelet": "HostToContainer",
    "/var/log/pods": None,
    "/var/log/containers": None,
    "/run/containerd": None,
    "/var/lib/podreaper": None,
}
by_host = {v["hostPath"]["path"]: n for n, v in vols.items() if "hostPath" in v}
for host, prop in want.items():
    if host not in by_host:
        err(f"no hostPath volume for {host}")
        continue
    m = [m for m in c["volumeMounts"] if m["name"] == by_host[host]]
    if not m:
        err(f"volume for {host} is not mounted")
        continue
    if m[0].get("readOnly"):
        err(f"{host} is mounted read-only")
    if prop and m[0].get("mountPropagation") != prop:
        err(f"{host} must be mounted with mountPropagation {prop}")
if vols[by_host.get("/var/lib/podreaper", "")]["hostPath"].get("type") != "DirectoryOrCreate":
    err("state dir hostPath is not DirectoryOrCreate")
for e in errors:
    print(e)
print(f"{len(vols)} volumes, command: {' '.join(cmd)}")
sys.exit(1 if errors else 0)
EOF
}

# ---- the packages ----------------------------------------------------------------------------

DEB_TREE=$WORK/deb/podreaper-$VERSION # packaging/build-deb.sh builds there
DEB=""
build_deb() {
        DEB=$(packaging/build-deb.sh "$WORK/deb" | tail -n 1) || return 1
        [ -f "$DEB" ] || return 1
        note "$(basename "$DEB"), $(du -k "$DEB" | cut -f1) KiB"
}

lintian_clean() { # no E: lines; the others are listed
        local out=$WORK/lintian.out
        setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$WORK" \
                lintian --pedantic --display-info --show-overrides "$WORK"/deb/podreaper_"$VERSION"_*.changes >"$out" 2>&1
        local rc=$?
        cat "$out"
        if grep -q '^E: ' "$out"; then
                note "errors: $(grep -c '^E: ' "$out")"
                return 1
        fi
        [ "$rc" -eq 0 ] || return 1
        note "0 errors, $(grep -c '^W: ' "$out") warnings, $(grep -c '^[IPX]: ' "$out") info/pedantic," \
                "$(grep -c '^O: ' "$out") overridden"
        grep -E '^[WIPXO]: ' "$out" | sed 's/^/      /' >>"$WORK/lintian.listed"
        return 0
}

deb_contents() {
        local list=$WORK/deb.list f
        dpkg-deb -c "$DEB" | awk '{print $NF}' | sed 's,^\./,/,' >"$list" || return 1
        for f in /usr/sbin/podreaper /etc/podreaper/podreaper.conf \
                /lib/systemd/system/podreaper.service /lib/systemd/system/podreaper.timer \
                /lib/systemd/system/podreaper-daemon.service \
                /usr/share/man/man8/podreaper.8.gz /usr/share/man/man5/podreaper.conf.5.gz \
                /usr/share/bash-completion/completions/podreaper \
                /usr/share/podreaper/podreaper-plugin.json \
                /usr/share/doc/podreaper/examples/podreaper-daemonset.yaml \
                /usr/share/doc/podreaper/copyright; do
                grep -qx -- "$f" "$list" || {
                        echo "missing in the .deb: $f"
                        return 1
                }
        done
        dpkg-deb -f "$DEB" Depends
        dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles | grep -qx /etc/podreaper/podreaper.conf || {
                echo "/etc/podreaper/podreaper.conf is not a conffile"
                return 1
        }
        note "$(grep -c '[^/]$' "$list") files, conffile ok"
}

RPM_TOP=$WORK/rpm
RPM=""
build_rpm() {
        mkdir -p "$RPM_TOP/SOURCES" || return 1
        packaging/source-files.sh | (cd "$SRC" && tar --null -T - --transform "s,^,podreaper-$VERSION/," -czf \
                "$RPM_TOP/SOURCES/podreaper-$VERSION.tar.gz") || return 1
        # --nodeps: the BuildRequires name Fedora/RHEL packages, which a Debian rpm database lacks.
        rpmbuild -bb --nodeps --define "_topdir $RPM_TOP" packaging/rpm/podreaper.spec || return 1
        local r
        for r in "$RPM_TOP"/RPMS/*/podreaper-"$VERSION"-*.rpm; do [ -f "$r" ] && RPM=$r; done
        [ -n "$RPM" ] || return 1
        note "$(basename "$RPM"), $(du -k "$RPM" | cut -f1) KiB"
}

rpm_contents() {
        local list=$WORK/rpm.list f
        rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$RPM" >"$list" 2>/dev/null || return 1
        cat "$list"
        for f in /usr/sbin/podreaper /etc/podreaper/podreaper.conf \
                /usr/lib/systemd/system/podreaper.service /usr/lib/systemd/system/podreaper.timer \
                /usr/lib/systemd/system/podreaper-daemon.service \
                /usr/share/bash-completion/completions/podreaper \
                /usr/share/podreaper/podreaper-plugin.json \
                /usr/share/doc/podreaper/examples/podreaper-daemonset.yaml; do
                grep -q " $f\$" "$list" || {
                        echo "missing in the .rpm: $f"
                        return 1
                }
        done
        if ! grep -Eq ' /usr/share/man/man8/podreaper\.8(\.gz)?$' "$list" ||
                ! grep -Eq ' /usr/share/man/man5/podreaper\.conf\.5(\.gz)?$' "$list"; then
                echo "man pages missing in the .rpm"
                return 1
        fi
        grep -Eq '^c[^ ]*n[^ ]* /etc/podreaper/podreaper.conf$' "$list" || {
                echo "/etc/podreaper/podreaper.conf is not %config(noreplace)"
                return 1
        }
        note "$(wc -l <"$list") files, config(noreplace) ok"
}

# ---- the packaged files against the binary ---------------------------------------------------

BIN=$DEB_TREE/build/podreaper # the binary the .deb was built from
HELP=$WORK/help.txt

# podreaper with the default config file, or with every key uncommented, must fail only at the
# runtime (exit 2 naming the socket), never at the config file.
config_parses() { # config_parses FILE
        local node=$WORK/node sock=$WORK/no-such-runtime.sock err=$WORK/config.err
        mkdir -p "$node/kubelet/pods" "$node/pods" "$node/containers" "$node/state"
        "$BIN" --config "$1" plan --container-runtime-endpoint "unix://$sock" --root-dir "$node/kubelet" \
                --pod-logs-dir "$node/pods" --container-logs-dir "$node/containers" \
                --state-dir "$node/state" --require-kubelet=false --metrics-file "$node/m.prom" \
                >/dev/null 2>"$err"
        local rc=$?
        cat "$err"
        [ "$rc" -eq 2 ] || {
                echo "exit $rc, expected 2 (runtime not ready)"
                return 1
        }
        grep -q "$sock" "$err" || {
                echo "stderr does not name the runtime endpoint"
                return 1
        }
        if grep -q "$(basename "$1")" "$err"; then
                echo "stderr names the config file: a config error"
                return 1
        fi
        note "exit 2 from the runtime, not the config"
}

config_uncommented_parses() {
        local f=$WORK/podreaper-uncommented.conf
        sed -n 's/^#\([a-z][a-z-]* = \)/\1/p' packaging/podreaper.conf |
                sed "s|^metrics-file = .*|metrics-file = $WORK/node/metrics.prom|" >"$f"
        [ "$(wc -l <"$f")" -gt 20 ] || {
                echo "only $(wc -l <"$f") keys found"
                return 1
        }
        config_parses "$f" || return 1
        : >"$NOTE"
        note "$(wc -l <"$f") keys at their documented defaults parse"
}

# Every option of --help is in the config file (with --help's default), podreaper.8 (with the
# default), podreaper.conf.5 (with the default) and the completion.
options_documented() {
        "$BIN" --help >"$HELP" || return 1
        groff -man -Tutf8 -P-cbou packaging/man/podreaper.8 2>/dev/null >"$WORK/podreaper.8.txt"
        groff -man -Tutf8 -P-cbou packaging/man/podreaper.conf.5 2>/dev/null >"$WORK/podreaper.conf.5.txt"
        "$PY" - "$HELP" packaging/podreaper.conf "$WORK/podreaper.8.txt" "$WORK/podreaper.conf.5.txt" \
                packaging/bash-completion/podreaper <<'EOF'
import re, sys

help_text, conf, man8, man5, comp = (open(p, encoding="utf-8").read() for p in sys.argv[1:])
errors = []
opts = {}  # name -> default or None
for line in help_text.splitlines():
    m = re.match(r"^ +(?:-[a-z], )?--([a-z][a-z-]*)", line)
    if m:
        d = re.search(r"\[([^\]]*)\]\s*$", line)
        opts[m.group(1)] = d.group(1) if d else None
if len(opts) < 20:
    errors.append(f"only {len(opts)} options found in --help")

def simple(d):  # a default that is one token, comparable as text
    return d is not None and not re.search(r"[, ]", d) and d not in ("all", "none")

conf_keys = dict(re.findall(r"^#([a-z][a-z-]*) = (.*)$", conf, re.M))
for l in conf.splitlines():
    if re.match(r"^\s*[a-z][a-z-]*\s*=", l):
        errors.append(f"podreaper.conf sets a key (should be commented out): {l}")

def tag_blocks(text, tag_re):  # rendered man page: tag line at 7 spaces, body below it
    blocks, cur = {}, None
    for line in text.splitlines():
        m = re.match(tag_re, line)
        if m:
            cur = m.group(1)
            blocks[cur] = line
        elif cur and (line.startswith(" " * 8) or not line.strip()):
            blocks[cur] += " " + line.strip()
        else:
            cur = None
    return {k: re.sub(r"\s+", " ", v) for k, v in blocks.items()}

# A tag line is the option alone or with its one-word argument ("--max-deletions N"); running text
# that happens to start a line with an option goes on with words ("--max-deletions does not ...").
m8 = tag_blocks(man8, r"^ {7}(?:-[a-z], )?--([a-z][a-z-]*)(?:[ =]\S+)?\s*$")
m5 = tag_blocks(man5, r"^ {7}([a-z][a-z-]*) = ")

for o, d in opts.items():
    if o not in m8:
        errors.append(f"podreaper.8 does not describe --{o}")
    elif simple(d) and f"[{d}]" not in m8[o]:
        errors.append(f"podreaper.8: --{o} default is not [{d}]")
    if f"--{o}" not in comp:
        errors.append(f"completion does not know --{o}")
    if o in ("config", "help"):
        continue
    if o not in conf_keys:
        errors.append(f"podreaper.conf has no '#{o} = ' line")
    elif simple(d) and conf_keys[o] != d:
        errors.append(f"podreaper.conf: #{o} = {conf_keys[o]}, --help says [{d}]")
    if o not in m5:
        errors.append(f"podreaper.conf.5 does not describe {o}")
    elif simple(d) and f"[{d}]" not in m5[o]:
        errors.append(f"podreaper.conf.5: {o} default is not [{d}]")
for k in conf_keys:
    if k not in opts:
        errors.append(f"podreaper.conf documents '{k}', which --help does not know")
for k in m5:
    if k not in opts:
        errors.append(f"podreaper.conf.5 documents '{k}', which --help does not know")
for e in errors:
    print(e)
print(f"{len(opts)} options")
sys.exit(1 if errors else 0)
EOF
        local rc=$?
        note "$(tail -n 1 "$LOG") of --help in the conf, podreaper.8, podreaper.conf.5, completion"
        return "$rc"
}

# The completion as bash runs it (bash-completion's _init_completion), for a few command lines.
completion_works() {
        cat >"$WORK/complete.bash" <<'EOF'
. /usr/share/bash-completion/bash_completion
. "$1"
compopt() { :; } # outside a real completion
# complete LINE: COMPREPLY for the cursor at the end of LINE, split as readline would
complete_line() {
        COMP_LINE=$1
        COMP_POINT=${#1}
        local w=() x
        read -ra x <<<"$1"
        [[ $1 == *" " ]] && x+=("")
        for y in "${x[@]}"; do
                if [[ $y == --*=* ]]; then w+=("${y%%=*}" "=" "${y#*=}"); else w+=("$y"); fi
        done
        COMP_WORDS=("${w[@]}")
        COMP_CWORD=$((${#w[@]} - 1))
        COMPREPLY=()
        _podreaper podreaper "${w[COMP_CWORD]}" "${w[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
fails=0
expect() { # expect LINE WANT
        local got
        got=$(complete_line "$1")
        if [[ $got != "$2" ]]; then
                echo "'$1': got '$got', want '$2'"
                fails=$((fails + 1))
        fi
}
expect "podreaper " "check daemon plan reap-pod run version"
expect "podreaper --only pod-dirs,cg" "pod-dirs,cgroups"
expect "podreaper --only " "cgroups containers images logs pod-dirs sandboxes"
expect "podreaper plan --output " "json text"
expect "podreaper --cgroup-driver " "auto cgroupfs systemd"
expect "podreaper --require-kubelet=" "false true"
expect "podreaper run --max-orph" "--max-orphan-fraction"
expect "podreaper --dry-run r" "reap-pod run"
all=$(complete_line "podreaper --")
for o in $2; do
        case " $all " in
        *" --$o "* | *" --$o= "*) ;;
        *) echo "'podreaper --' does not offer --$o"; fails=$((fails + 1)) ;;
        esac
done
exit $fails
EOF
        local opts
        opts=$(sed -n 's/^ *\(-[a-z], \)\{0,1\}--\([a-z][a-z-]*\).*/\2/p' "$HELP" | tr '\n' ' ')
        [ -n "$opts" ] || return 1
        bash "$WORK/complete.bash" packaging/bash-completion/podreaper "$opts" || return 1
        note "commands, kinds, values and all $(echo "$opts" | wc -w) flags"
}

daemonset_flags_parse() { # the DaemonSet's podreaper flags, with `version`: exit 0
        [ -s "$WORK/daemonset-args" ] || return 1
        local args=()
        mapfile -t args <"$WORK/daemonset-args"
        args=("${args[@]/#daemon/version}")
        "$BIN" "${args[@]}" || return 1
        note "podreaper ${args[*]}"
}

# ---- the installed package -------------------------------------------------------------------

install_deb() {
        if dpkg-query -W -f='${Status}' podreaper 2>/dev/null | grep -q 'install ok installed'; then
                echo "podreaper is installed already (not by this run): not replacing it;"
                echo "remove it with dpkg --purge podreaper and run again"
                return 1
        fi
        we_installed=1
        if ! dpkg -i "$DEB"; then
                echo "dpkg -i failed; apt-get -f install for missing dependencies"
                DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq || return 1
        fi
        dpkg-query -W -f='${Status} ${Version}\n' podreaper | tee "$NOTE" | grep -q "install ok installed $VERSION"
}

installed_layout() {
        local f
        for f in /usr/sbin/podreaper /etc/podreaper/podreaper.conf /lib/systemd/system/podreaper.service \
                /lib/systemd/system/podreaper.timer /lib/systemd/system/podreaper-daemon.service \
                /usr/share/podreaper/podreaper-plugin.json /usr/share/bash-completion/completions/podreaper; do
                [ -e "$f" ] || {
                        echo "missing: $f"
                        return 1
                }
        done
        [ -x /usr/sbin/podreaper ] || return 1
        for f in /usr/share/man/man8/podreaper.8.gz /usr/share/man/man5/podreaper.conf.5.gz; do
                if [ -n "$(zcat "$f" | groff -ww -man -Tutf8 2>&1 >/dev/null)" ]; then
                        echo "$f: groff warnings"
                        return 1
                fi
        done
        # Shipped disabled: no unit is linked into a .wants directory.
        if find /etc/systemd/system -name 'podreaper*' | grep .; then
                echo "a podreaper unit is enabled after install"
                return 1
        fi
        # node-problem-detector's Validate(): every rule's path exists.
        "$PY" -c 'import json, os, sys
for r in json.load(open("/usr/share/podreaper/podreaper-plugin.json"))["rules"]:
    os.stat(r["path"])' || return 1
        note "files in place, man pages render, units not enabled, NPD rule paths exist"
}

units_verify() {
        local out=$WORK/verify.out
        systemd-analyze verify --man=no /lib/systemd/system/podreaper.service \
                /lib/systemd/system/podreaper.timer /lib/systemd/system/podreaper-daemon.service >"$out" 2>&1
        local rc=$?
        cat "$out"
        [ "$rc" -eq 0 ] || return 1
        ! grep -q podreaper "$out" || return 1
        note "$(systemd-analyze --version | head -n 1 | cut -d' ' -f1,2): 3 units, no findings"
}

units_security() {
        local u score all=""
        for u in podreaper.service podreaper-daemon.service; do
                systemd-analyze security --offline=yes --no-pager "/lib/systemd/system/$u" >"$WORK/sec.out" 2>&1
                score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$WORK/sec.out")
                echo "$u: ${score:-?}"
                [ -n "$score" ] || {
                        cat "$WORK/sec.out"
                        return 1
                }
                all="$all $u $score,"
                awk -v s="$score" -v m="$SECURITY_MAX" 'BEGIN { exit !(s <= m) }' || {
                        grep '✗' "$WORK/sec.out"
                        return 1
                }
        done
        note "exposure${all%,} (at most $SECURITY_MAX)"
}

installed_version() {
        local out
        out=$(/usr/sbin/podreaper version) || return 1
        echo "$out"
        note "$out"
        [ "$out" = "podreaper $VERSION" ]
}

# Under the private containerd: plan exits 0 on an empty node, check says OK in one short line
# within NPD's timeout. The installed /etc/podreaper/podreaper.conf is read as shipped.
installed_against_containerd() {
        cat >"$WORK/e2e.sh" <<'EOF'
set -u
node=$(mktemp -d "$PODREAPER_TEST_CTD_DIR/node.XXXXXX")
mkdir -p "$node/kubelet/pods" "$node/pods" "$node/containers" "$node/state"
flags=(--container-runtime-endpoint "$PODREAPER_TEST_CRI_ENDPOINT" --require-kubelet=false
        --root-dir "$node/kubelet" --pod-logs-dir "$node/pods" --container-logs-dir "$node/containers"
        --state-dir "$node/state" --kubepods-cgroup "$PODREAPER_TEST_KUBEPODS")
echo "+ /usr/sbin/podreaper plan ${flags[*]}"
/usr/sbin/podreaper plan "${flags[@]}"
rc=$?
echo "plan: exit $rc"
[ "$rc" -eq 0 ] || exit 1
start=$(date +%s%N)
line=$(/usr/sbin/podreaper check "${flags[@]}")
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "check: exit $rc in $ms ms: $line"
[ "$rc" -eq 0 ] || exit 1
[ "$(printf '%s\n' "$line" | wc -l)" -eq 1 ] && [ "${#line}" -le 80 ] || { echo "check: not one line of <= 80 bytes"; exit 1; }
[ "$ms" -lt 5000 ] || { echo "check: slower than NPD's 5 s timeout"; exit 1; }
echo "plan exit 0; check exit 0 in $ms ms" >"$PODREAPER_PKG_NOTE"
EOF
        PODREAPER_PKG_NOTE=$NOTE tests/e2e/with-containerd.sh bash "$WORK/e2e.sh"
}

purge_deb() {
        dpkg --purge podreaper || return 1
        we_installed=0
        if dpkg-query -W -f='${Status}' podreaper 2>/dev/null | grep -q installed; then
                echo "still installed"
                return 1
        fi
        local f
        for f in /usr/sbin/podreaper /etc/podreaper /lib/systemd/system/podreaper.service \
                /usr/share/podreaper; do
                [ ! -e "$f" ] || {
                        echo "left behind: $f"
                        return 1
                }
        done
        note "nothing left behind"
}

# ---- the run ---------------------------------------------------------------------------------

echo "packaging: podreaper $VERSION, work dir $WORK"
check versions versions_agree
check "man podreaper.8" man_renders packaging/man/podreaper.8
check "man podreaper.conf.5" man_renders packaging/man/podreaper.conf.5
check "npd plugin config" npd_config_valid
check "daemonset yaml" daemonset_valid
if check "deb build" build_deb; then
        check "deb lintian" lintian_clean
        [ -s "$WORK/lintian.listed" ] && cat "$WORK/lintian.listed"
        check "deb contents" deb_contents
else
        skip "deb lintian" "no .deb"
        skip "deb contents" "no .deb"
fi
if check "rpm build" build_rpm; then
        check "rpm contents" rpm_contents
else
        skip "rpm contents" "no .rpm"
fi
if [ -x "$BIN" ]; then
        check "config file parses" config_parses packaging/podreaper.conf
        check "config keys uncommented parse" config_uncommented_parses
        check "options documented" options_documented
        check "bash completion" completion_works
        check "daemonset flags parse" daemonset_flags_parse
else
        for c in "config file parses" "config keys uncommented parse" "options documented" \
                "bash completion" "daemonset flags parse"; do
                skip "$c" "no binary from the deb build"
        done
fi
if [ -n "$DEB" ] && check "deb install" install_deb; then
        check "installed layout" installed_layout
        check "systemd-analyze verify" units_verify
        check "systemd-analyze security" units_security
        check "installed version" installed_version
        check "installed plan+check (containerd)" installed_against_containerd
        check "deb purge" purge_deb
else
        for c in "installed layout" "systemd-analyze verify" "systemd-analyze security" \
                "installed version" "installed plan+check (containerd)"; do
                skip "$c" "not installed"
        done
        # A failed install may still have left the package half-configured: purge it.
        [ "$we_installed" -eq 1 ] && check "deb purge" purge_deb
fi

if [ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ]; then
        echo "packaging: $passed checks passed"
        exit 0
fi
echo "packaging: $passed checks passed, $failed failed, $skipped skipped:$failed_names"
exit 1
