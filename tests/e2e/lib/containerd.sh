# shellcheck shell=bash
# A private containerd for podreaper's e2e tests: its own config, root, state and socket under a
# fresh temp dir, hand-built OCI images (no registry is reachable), and a teardown that ends exactly
# what it started, by pid. Facts behind the choices: ../../../../shared/DESIGN.md §6.
#
#   ctd_start
#       Start containerd and import registry.k8s.io/pause:3.9 (the CRI sandbox image, runs
#       `sleep infinity`) and docker.io/library/busybox:1.35 (entrypoint /bin/sh). Exports
#       CTD_DIR (the temp dir), CTD_SOCK (its CRI/containerd socket), CTD_PID, CTD_KUBEPODS.
#       Inputs, all optional:
#         CTD_KUBEPODS     top-level cgroup name tests use as cgroup_parent base (default kpe2e$$);
#                          ctd_stop kills and removes <it>, <it>.* and <it>-* in every hierarchy
#         CTD_TMPDIR       where the temp dir is made (default /tmp)
#         CTD_ROOT_TMPFS   a size (e.g. 256M): put containerd's root (content store, snapshots,
#                          the image filesystem ImageFsInfo reports) on a tmpfs of that size, so
#                          image-GC thresholds can be reached with padded images
#         CTD_START_TIMEOUT seconds to wait for the socket (default 10)
#   ctd_build_image REF [--size-bytes N] [--cmd] [--] ARG...
#       Build a one-layer OCI image (static busybox + one symlink per applet in /bin) and import
#       it into the k8s.io namespace. ARG... is the config's Entrypoint (CRI `command` replaces
#       it), or its Cmd with --cmd (CRI `args` replaces it). --size-bytes N adds a file /padding
#       of N bytes in a layer of the image's own, so the image's size grows by N and removing it
#       frees them. REF needs an explicit tag. Every REF gets its own image id (a label holds
#       REF); a second tag for the same id: `ctr -n k8s.io images tag`.
#   ctd_crash, ctd_restart
#       SIGKILL containerd and its shims, leaving the containers running (a runtime crash); start
#       containerd again on the same dir. See ctd_crash for making orphans nobody knows.
#   ctd_cleanup_stale
#       ctd_stop every earlier run whose owning shell is gone (with-containerd.sh SIGKILLed).
#   ctd_stop
#       SIGKILL containerd and its shims by pid, kill every process in the containers' cgroups
#       and in the CTD_KUBEPODS trees, remove those cgroups bottom-up, unmount everything
#       beneath CTD_DIR (deepest first), remove the shims' sockets in /run/containerd/s and
#       rm -rf CTD_DIR. Idempotent, and safe from a trap when ctd_start failed halfway.
#
# On success each function prints at most one line, on stderr (stdout stays the test's own);
# on failure the reason, with the tail of containerd's log, on stderr, and a non-zero status.
# Needs root, bash >= 4.4, containerd 1.6, ctr, runc, containerd-shim-runc-v2, a static busybox.

# The images ctd_start imports, for tests that list them.
# shellcheck disable=SC2034
CTD_DEFAULT_IMAGES="registry.k8s.io/pause:3.9 docker.io/library/busybox:1.35"
_CTD_MARK=.podreaper-ctd
_CTD_CRI_STATE=io.containerd.grpc.v1.cri
_CTD_TASKS=io.containerd.runtime.v2.task
_CTD_KILLED=()
_CTD_VERSION=""

# Runs a public function's body with the library's own shell settings, whatever the caller's
# (set -e, pipefail, a SIGPIPE from a closed stderr must not stop a teardown halfway), and puts
# the caller's back afterwards.
_ctd_run() {
        local errexit=0 pipefail=0 saved_pipe rc
        # from $- and shopt, not $(set +o): a command substitution does not inherit errexit
        [[ $- == *e* ]] && errexit=1
        shopt -qo pipefail && pipefail=1
        saved_pipe=$(trap -p PIPE)
        set +e +o pipefail
        trap '' PIPE
        "$@"
        rc=$?
        [ "$errexit" -eq 1 ] && set -e
        [ "$pipefail" -eq 1 ] && set -o pipefail
        eval "${saved_pipe:-trap - PIPE}"
        return "$rc"
}

_ctd_log() {
        printf 'containerd.sh: %s\n' "$*" >&2
}

# Microseconds since the epoch, and "S.SS" seconds since a start taken with it.
_ctd_now_us() {
        local t=${EPOCHREALTIME/[.,]/}
        printf '%s' "$t"
}
_ctd_since() {
        local us=$(($(_ctd_now_us) - $1))
        printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000))
}

_ctd_log_tail() {
        local log=${1:-${CTD_DIR:-}/containerd.log}
        [ -s "$log" ] || return 0
        printf 'containerd.sh: last lines of %s:\n' "$log" >&2
        tail -n "${2:-15}" "$log" | sed 's/^/    | /' >&2
}

_ctd_json_str() {
        local s=$1
        s=${s//\\/\\\\}
        s=${s//\"/\\\"}
        s=${s//$'\n'/\\n}
        s=${s//$'\t'/\\t}
        printf '"%s"' "$s"
}

# JSON array of strings from the arguments.
_ctd_json_array() {
        local a sep="" out="["
        for a in "$@"; do
                out+="$sep$(_ctd_json_str "$a")"
                sep=","
        done
        printf '%s]' "$out"
}

_ctd_arch() {
        case $(uname -m) in
        x86_64) echo amd64 ;;
        aarch64) echo arm64 ;;
        armv7l | armv6l) echo arm ;;
        i?86) echo 386 ;;
        *) uname -m ;;
        esac
}

# Moves FILE into the layout's blob store; prints "sha256:<hex> <size>".
_ctd_blob() {
        local layout=$1 file=$2 sum size
        sum=$(sha256sum "$file") || return 1
        sum=${sum%% *}
        size=$(stat -c %s "$file") || return 1
        mv "$file" "$layout/blobs/sha256/$sum" || return 1
        printf 'sha256:%s %s\n' "$sum" "$size"
}

# True if PID is alive (a zombie is dead) and one of its argv strings contains NEEDLE.
_ctd_pid_has_arg() {
        local pid=$1 needle=$2 a
        local -a argv=()
        _ctd_pid_alive "$pid" || return 1
        mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || return 1
        for a in "${argv[@]}"; do
                [[ $a == *"$needle"* ]] && return 0
        done
        return 1
}

_ctd_pid_alive() {
        local stat
        [[ $1 =~ ^[0-9]+$ ]] || return 1
        read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
        stat=${stat##*) }
        [ "${stat%% *}" != Z ] && [ "${stat%% *}" != X ]
}

# Start time of PID in clock ticks since boot (field 22 of /proc/PID/stat); empty if gone.
_ctd_starttime() {
        local stat
        local -a f
        read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
        read -r -a f <<<"${stat##*) }"
        printf '%s' "${f[19]:-}"
}

# Waits up to $1 tenths of a second until none of the other pids is alive; false if some still is.
_ctd_wait_dead() {
        local tenths=$1 p alive i
        shift
        for ((i = 0; i <= tenths; i++)); do
                alive=0
                for p in "$@"; do
                        _ctd_pid_alive "$p" && alive=1 && break
                done
                [ "$alive" -eq 0 ] && return 0
                sleep 0.1
        done
        return 1
}

# Processes started for DIR that may outlive containerd: shims (-address DIR/containerd.sock),
# runc and ctr calls, CNI plugins from DIR. Matched by argv, never by name alone.
_ctd_find_helpers() {
        local dir=$1 p pid base
        local -a argv
        for p in /proc/[0-9]*; do
                pid=${p#/proc/}
                [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
                argv=()
                mapfile -d '' -t argv 2>/dev/null <"$p/cmdline" || continue
                [ "${#argv[@]}" -gt 0 ] || continue
                base=${argv[0]##*/}
                case $base in
                containerd | containerd-shim-runc-v2 | runc | ctr) ;;
                *) [[ ${argv[0]} == "$dir/"* ]] || continue ;;
                esac
                [[ "${argv[*]}" == *"$dir/"* ]] && _ctd_pid_alive "$pid" && echo "$pid"
        done
}

# The unix sockets PID listens on below /run/containerd/s (a shim's ttrpc socket).
_ctd_shim_sockets() {
        local pid=$1 fd link
        local -A inodes=()
        for fd in /proc/"$pid"/fd/*; do
                link=$(readlink "$fd" 2>/dev/null) || continue
                [[ $link == socket:\[*\] ]] || continue
                link=${link#socket:[}
                inodes[${link%]}]=1
        done
        [ "${#inodes[@]}" -gt 0 ] || return 0
        local _num _ref _proto _flags _type _st inode path
        while read -r _num _ref _proto _flags _type _st inode path; do
                if [ -z "$inode" ] || [ -z "${inodes[$inode]:-}" ]; then continue; fi
                [[ $path =~ ^/run/containerd/s/[0-9a-f]{64}$ ]] && echo "$path"
        done </proc/net/unix
}

# Mount points of every cgroup and cgroup2 mount (mountinfo's escapes decoded), one per line; with
# ROOT, only those at or beneath it. These are the hierarchies: /sys/fs/cgroup itself on pure v2,
# /sys/fs/cgroup/<controllers> and .../unified on hybrid. Not the top-level dirs of /sys/fs/cgroup:
# on pure v2 those are systemd's cgroups (init.scope, system.slice). tap.sh's cgroup_hierarchies.
# shellcheck disable=SC2120 # ROOT comes from tap.sh and test-infra.sh; here every mount counts
_ctd_cgroup_mounts() { # [ROOT]
        local root=${1:-} line mp fields i
        while IFS= read -r line; do
                read -r -a fields <<<"$line"
                for ((i = 6; i < ${#fields[@]}; i++)); do
                        [ "${fields[i]}" = - ] || continue
                        case ${fields[i + 1]:-} in
                        cgroup | cgroup2)
                                printf -v mp '%b' "${fields[4]//\\/\\0}"
                                if [ -z "$root" ] || [ "$mp" = "$root" ] || [[ $mp == "${root%/}/"* ]]; then
                                        echo "$mp"
                                fi
                                ;;
                        esac
                        break
                done
        done </proc/self/mountinfo
}

# Mount points at or beneath DIR, deepest first (path-boundary aware; mountinfo escapes decoded).
_ctd_mounts_beneath() {
        local dir=$1 mp slashes _a _b _c _d _rest
        while read -r _a _b _c _d mp _rest; do
                printf -v mp '%b' "${mp//\\/\\0}"
                [ "$mp" = "$dir" ] || [[ $mp == "$dir/"* ]] || continue
                slashes=${mp//[!\/]/}
                printf '%d\t%s\n' "${#slashes}" "$mp"
        done </proc/self/mountinfo | sort -t $'\t' -k1,1nr -s | cut -f2-
}

# Kills every process in the cgroup trees given (thawed first) until they are empty, for up to
# 2.5 s; the pids killed go to _CTD_KILLED.
_ctd_cgroups_kill() {
        local top d pid tries
        local -a dirs=() pids=()
        local -A pidset=()
        for top in "$@"; do
                [ -d "$top" ] && mapfile -t -O "${#dirs[@]}" dirs < <(find "$top" -depth -type d 2>/dev/null)
        done
        for d in "${dirs[@]}"; do
                [ -w "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
                [ -w "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
        done
        for ((tries = 0; tries < 50; tries++)); do
                pids=()
                for d in "${dirs[@]}"; do
                        [ -e "$d/cgroup.procs" ] || continue
                        mapfile -t -O "${#pids[@]}" pids 2>/dev/null <"$d/cgroup.procs"
                done
                [ "${#pids[@]}" -eq 0 ] && return 0
                # a pid is listed once per v1 hierarchy: one kill call for the distinct ones
                pidset=()
                for pid in "${pids[@]}"; do
                        pidset[$pid]=1
                done
                kill -KILL "${!pidset[@]}" 2>/dev/null
                [ "$tries" -eq 0 ] && _CTD_KILLED+=("${!pidset[@]}")
                sleep 0.05
        done
        return 1
}

# Removes the (empty) cgroup trees given bottom-up, retrying busy levels for up to 2.5 s.
_ctd_cgroups_remove() {
        local top d tries left=0
        local -a dirs=()
        for top in "$@"; do
                [ -d "$top" ] && mapfile -t -O "${#dirs[@]}" dirs < <(find "$top" -depth -type d 2>/dev/null)
        done
        for ((tries = 0; tries < 50; tries++)); do
                left=0
                for d in "${dirs[@]}"; do
                        [ -d "$d" ] || continue
                        rmdir "$d" 2>/dev/null || left=1
                done
                [ "$left" -eq 0 ] && break
                sleep 0.05
        done
        for top in "$@"; do
                [ -d "$top" ] && _ctd_log "ctd_stop: cannot remove cgroup $top" && left=1
        done
        [ "$left" -eq 0 ]
}

# First line of FILE (also without a trailing newline, as containerd writes them); empty if none.
_ctd_read_line() {
        local line=""
        [ -f "$1" ] && { read -r line <"$1" || true; } 2>/dev/null
        printf '%s' "$line"
}

# Container and sandbox ids (64 hex) this containerd knows or knew, from every place that names
# them: task bundles, runc state, the CRI plugin's dirs, and any runc state.json moved within DIR.
_ctd_known_ids() {
        local dir=$1 d f
        for d in "$dir/state/$_CTD_TASKS"/*/* "$dir/runc"/*/* \
                "$dir/root/$_CTD_CRI_STATE"/{containers,sandboxes}/* \
                "$dir/state/$_CTD_CRI_STATE"/{containers,sandboxes}/*; do
                [ -d "$d" ] && [[ ${d##*/} =~ ^[0-9a-f]{64}$ ]] && echo "${d##*/}"
        done
        while IFS= read -r f; do
                d=${f%/state.json}
                [[ ${d##*/} =~ ^[0-9a-f]{64}$ ]] && echo "${d##*/}"
        done < <(find "$dir" -xdev -name state.json 2>/dev/null)
}

# Shim sockets this run may have left: the bundles' address files, and the names containerd 1.6
# derives from (our socket, namespace, id) for every id known (a restarted containerd removes the
# bundles of dead shims, not their sockets). All contain this run's unique path.
_ctd_bundle_sockets() {
        local dir=$1 b p sum ns id
        local -A namespaces=([k8s.io]=1)
        for b in "$dir/state/$_CTD_TASKS"/*/*; do
                [ -d "$b" ] || continue
                p=$(_ctd_read_line "$b/address")
                p=${p#unix://}
                [[ $p =~ ^/run/containerd/s/[0-9a-f]{64}$ ]] && echo "$p"
                ns=${b%/*}
                namespaces[${ns##*/}]=1
        done
        while IFS= read -r id; do
                for ns in "${!namespaces[@]}"; do
                        sum=$(printf '%s' "$dir/containerd.sock/$ns/$id" | sha256sum)
                        echo "/run/containerd/s/${sum%% *}"
                done
        done < <(_ctd_known_ids "$dir" | sort -u)
}

# The cgroup trees to destroy, one per line: <mount>/<kubepods>{,.*,-*} in every hierarchy; each
# known container's cgroup as runc's state recorded it; and <containerd's cgroup>/<id>, where runc
# puts a container whose sandbox had no cgroup_parent.
_ctd_container_cgroups() {
        local dir=$1 kubepods=$2 mnt cg id f path
        local -a mounts=() ids=() parents=()
        mapfile -t mounts < <(_ctd_cgroup_mounts)
        mapfile -t ids < <(_ctd_known_ids "$dir" | sort -u)
        if [ -f "$dir/containerd.cgroup" ]; then
                mapfile -t parents < <(cut -d: -f3- "$dir/containerd.cgroup" | sort -u)
        fi
        for mnt in "${mounts[@]}"; do
                if [ -n "$kubepods" ]; then
                        for cg in "$mnt/$kubepods" "$mnt/$kubepods."* "$mnt/$kubepods-"*; do
                                [ -d "$cg" ] && echo "$cg"
                        done
                fi
                for path in "${parents[@]}"; do
                        for id in "${ids[@]}"; do
                                cg=$mnt${path%/}/$id
                                [ -d "$cg" ] && echo "$cg"
                        done
                done
        done
        while IFS= read -r f; do
                # "cgroup_paths":{"blkio":"/sys/fs/cgroup/blkio/<parent>/<id>",...}
                grep -o '"cgroup_paths":{[^}]*}' "$f" 2>/dev/null | grep -o '"/[^"]*"' | tr -d '"' |
                        while IFS= read -r cg; do
                                [[ ${cg##*/} =~ [0-9a-f]{64} ]] && [ -d "$cg" ] && echo "$cg"
                        done
        done < <(find "$dir" -xdev -name state.json 2>/dev/null)
}

_ctd_unset() {
        unset CTD_DIR CTD_SOCK CTD_PID CTD_KUBEPODS
}

_ctd_write_cni() {
        local dir=$1
        mkdir -p "$dir/cni/bin" "$dir/cni/net.d" || return 1
        # Configures nothing; reports an address on the interface asked for, because the CRI plugin
        # refuses a pod-network sandbox without an IP on eth0. containerd also runs "loopback".
        cat >"$dir/cni/bin/podreaper-noop" <<'EOF' || return 1
#!/bin/sh
conf=$(cat)
ver=$(printf '%s' "$conf" | sed -n 's/.*"cniVersion"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 1)
case ${CNI_COMMAND:-} in
ADD)
        if [ "${CNI_IFNAME:-}" = lo ]; then
                addr=127.0.0.1/8
        else
                n=$(printf '%s' "${CNI_CONTAINERID:-}" | cksum)
                n=${n%% *}
                addr=10.88.$((n / 250 % 250)).$((n % 250 + 2))/16
        fi
        printf '{"cniVersion":"%s","interfaces":[{"name":"%s","sandbox":"%s"}],"ips":[{"version":"4","address":"%s","interface":0}],"dns":{}}\n' \
                "${ver:-0.4.0}" "${CNI_IFNAME:-eth0}" "${CNI_NETNS:-}" "$addr"
        ;;
VERSION)
        printf '{"cniVersion":"%s","supportedVersions":["0.3.0","0.3.1","0.4.0"]}\n' "${ver:-0.4.0}"
        ;;
esac
exit 0
EOF
        chmod 0755 "$dir/cni/bin/podreaper-noop" || return 1
        ln -sf podreaper-noop "$dir/cni/bin/loopback" || return 1
        cat >"$dir/cni/net.d/10-podreaper-e2e.conflist" <<'EOF'
{"cniVersion": "0.4.0", "name": "podreaper-e2e", "plugins": [{"type": "podreaper-noop"}]}
EOF
}

_ctd_write_config() {
        local dir=$1
        cat >"$dir/config.toml" <<EOF
# Written by tests/e2e/lib/containerd.sh for one e2e run; nothing outside $dir except the shims'
# sockets (/run/containerd/s, fixed in containerd 1.6).
version = 2
root = "$dir/root"
state = "$dir/state"
temp = "$dir/tmp"
oom_score = 0
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "$dir/containerd.sock"

[ttrpc]
  address = "$dir/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"

# unused by CRI, but the tasks service needs it loaded; keep its runc root here too
[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "$dir/runc-v1"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  # these VMs lack CAP_SYS_RESOURCE
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "$dir/runc"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$dir/cni/bin"
  conf_dir = "$dir/cni/net.d"
EOF
}

# The shared rootfs: static busybox and one symlink per applet, minimal /etc.
_ctd_build_rootfs() {
        local rootfs=$1 applet
        [ -x "$rootfs/bin/busybox" ] && return 0
        if ldd /bin/busybox >/dev/null 2>&1; then
                _ctd_log "/bin/busybox is dynamically linked; install busybox-static"
                return 1
        fi
        mkdir -p "$rootfs"/{bin,dev,etc,proc,sys,root,var,tmp} || return 1
        chmod 1777 "$rootfs/tmp"
        # busybox links its applets to where it runs from (/usr/bin/busybox on merged /usr): put the
        # binary there too. One process instead of ~270 ln calls.
        local target
        if /bin/busybox --install -s "$rootfs/bin" 2>/dev/null &&
                target=$(readlink "$rootfs/bin/sh") && [[ $target == /*/busybox ]]; then
                mkdir -p "$rootfs${target%/*}" &&
                        cp /bin/busybox "$rootfs$target" || return 1
                [ "$target" = /bin/busybox ] || ln -f "$rootfs$target" "$rootfs/bin/busybox" || return 1
        else
                rm -f "$rootfs"/bin/*
                cp /bin/busybox "$rootfs/bin/busybox" || return 1
                for applet in $(/bin/busybox --list); do
                        [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet" || return 1
                done
        fi
        printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
                >"$rootfs/etc/passwd"
        printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
}

ctd_build_image() {
        _ctd_run _ctd_build_image "$@"
}

_ctd_build_image() {
        local ref=${1:-} size_bytes="" as_cmd=0
        [ $# -gt 0 ] && shift
        while [ $# -gt 0 ]; do
                case $1 in
                --size-bytes) size_bytes=${2:-}; shift 2 || shift ;;
                --size-bytes=*) size_bytes=${1#*=}; shift ;;
                --cmd) as_cmd=1; shift ;;
                --) shift; break ;;
                *) break ;;
                esac
        done
        local repo=${ref%:*} tag=${ref##*:}
        if [ -z "$ref" ] || [ $# -eq 0 ] || [ "$repo" = "$ref" ] || [[ $tag == */* ]]; then
                _ctd_log "usage: ctd_build_image NAME:TAG [--size-bytes N] [--cmd] [--] ARG..."
                return 2
        fi
        if [ -n "$size_bytes" ] && ! [[ $size_bytes =~ ^[0-9]+$ ]]; then
                _ctd_log "ctd_build_image: --size-bytes needs a byte count, not '$size_bytes'"
                return 2
        fi
        if [ -z "${CTD_DIR:-}" ] || [ ! -S "${CTD_SOCK:-}" ]; then
                _ctd_log "ctd_build_image: no containerd running (call ctd_start first)"
                return 1
        fi

        local work rootfs="$CTD_DIR/images/rootfs" layer_src diff size config_json
        _ctd_build_rootfs "$rootfs" || return 1
        work=$(mktemp -d "$CTD_DIR/images/build.XXXXXX") || return 1
        mkdir -p "$work/layout/blobs/sha256" || return 1

        layer_src=$rootfs
        if [ -n "$size_bytes" ]; then
                # A layer of its own: removing this image really frees N bytes.
                layer_src=$work/rootfs
                cp -a "$rootfs" "$layer_src" || return 1
                truncate -s "$size_bytes" "$layer_src/padding" || return 1
                printf '%s\n' "$ref" >"$layer_src/etc/podreaper-image" || return 1
        fi
        tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu \
                -C "$layer_src" -cf "$work/layer.tar" . || { rm -rf "$work"; return 1; }
        read -r diff size < <(_ctd_blob "$work/layout" "$work/layer.tar") || return 1

        local argv_json='null' cmd_json='null'
        if [ "$as_cmd" -eq 1 ]; then
                cmd_json=$(_ctd_json_array "$@")
        else
                argv_json=$(_ctd_json_array "$@")
        fi
        local arch
        arch=$(_ctd_arch)
        config_json="{\"architecture\":\"$arch\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\","
        config_json+="\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
        config_json+="\"Entrypoint\":$argv_json,\"Cmd\":$cmd_json,\"WorkingDir\":\"/\","
        config_json+="\"Labels\":{\"io.podreaper.test.image\":$(_ctd_json_str "$ref")}},"
        config_json+="\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$diff\"]}}"
        printf '%s' "$config_json" >"$work/config.json"
        local config config_size manifest manifest_size
        read -r config config_size < <(_ctd_blob "$work/layout" "$work/config.json") || return 1

        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
                "$config" "$config_size" "$diff" "$size" >"$work/manifest.json"
        read -r manifest manifest_size < <(_ctd_blob "$work/layout" "$work/manifest.json") || return 1

        # io.containerd.image.name carries the full reference; ctr keeps ref.name (the tag) only
        # with --base-name, which it also uses as an import filter.
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":%s,"org.opencontainers.image.ref.name":%s}}]}' \
                "$manifest" "$manifest_size" "$arch" "$(_ctd_json_str "$ref")" "$(_ctd_json_str "$tag")" \
                >"$work/layout/index.json"
        printf '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"

        local out rc
        out=$(tar -C "$work/layout" -cf - . |
                timeout 120 ctr --address "$CTD_SOCK" -n k8s.io images import --base-name "$repo" - 2>&1)
        rc=$?
        rm -rf "$work"
        if [ "$rc" -ne 0 ]; then
                _ctd_log "ctd_build_image: importing $ref failed: $out"
                return 1
        fi
        if ! timeout 10 ctr --address "$CTD_SOCK" -n k8s.io images check "name==$ref" 2>/dev/null |
                grep -q 'complete'; then
                _ctd_log "ctd_build_image: $ref is not in the image store after the import: $out"
                return 1
        fi
}

# Starts containerd on DIR's config, waits (CTD_START_TIMEOUT) until its socket answers; exports
# CTD_PID, sets _CTD_VERSION. On failure: the reason and the log's tail on stderr.
_ctd_spawn() {
        local dir=$1
        containerd --config "$dir/config.toml" </dev/null >>"$dir/containerd.log" 2>&1 &
        export CTD_PID=$!
        # not a job of this shell: no "Killed" notice when ctd_stop ends it (bash still reaps it)
        disown "$CTD_PID"
        echo "$CTD_PID" >"$dir/containerd.pid"
        # runc puts a container without cgroup_parent below containerd's own cgroup
        cp "/proc/$CTD_PID/cgroup" "$dir/containerd.cgroup" 2>/dev/null

        local i version="" limit=$((${CTD_START_TIMEOUT:-10} * 10))
        for ((i = 0; i < limit; i++)); do
                if ! _ctd_pid_alive "$CTD_PID"; then
                        _ctd_log "ctd_start: containerd exited during startup"
                        break
                fi
                if [ -S "$dir/containerd.sock" ] &&
                        version=$(timeout 2 ctr --address "$dir/containerd.sock" version 2>/dev/null); then
                        break
                fi
                version=""
                sleep 0.1
        done
        if [ -z "$version" ]; then
                [ "$i" -ge "$limit" ] && _ctd_log "ctd_start: $dir/containerd.sock did not answer within ${CTD_START_TIMEOUT:-10} s"
                _ctd_log_tail "$dir/containerd.log"
                return 1
        fi
        version=${version##*Version:}
        version=${version%%$'\n'*}
        _CTD_VERSION=${version// /}
}

ctd_start() {
        _ctd_run _ctd_start
}

_ctd_start() {
        if [ -n "${CTD_DIR:-}" ] && [ -e "${CTD_DIR:-}" ]; then
                _ctd_log "ctd_start: already started (CTD_DIR=$CTD_DIR); call ctd_stop first"
                return 1
        fi
        if [ "$(id -u)" -ne 0 ]; then
                _ctd_log "ctd_start: needs root (containerd, runc, overlay mounts, cgroups)"
                return 1
        fi
        local tool missing=""
        for tool in containerd ctr runc containerd-shim-runc-v2 tar sha256sum; do
                command -v "$tool" >/dev/null 2>&1 || missing+=" $tool"
        done
        [ -x /bin/busybox ] || missing+=" /bin/busybox"
        if [ -n "$missing" ]; then
                _ctd_log "ctd_start: missing:$missing (tools/install-deps.sh installs them)"
                return 1
        fi

        local kubepods=${CTD_KUBEPODS:-kpe2e$$} mnt
        if ! [[ $kubepods =~ ^[A-Za-z0-9_]+$ ]]; then
                _ctd_log "ctd_start: CTD_KUBEPODS must be a plain name, not '$kubepods'"
                return 1
        fi
        while IFS= read -r mnt; do
                if [ -e "$mnt/$kubepods" ]; then
                        _ctd_log "ctd_start: cgroup $mnt/$kubepods exists already (left by an earlier run?); remove it or set CTD_KUBEPODS"
                        return 1
                fi
        done < <(_ctd_cgroup_mounts)

        local tmp=${CTD_TMPDIR:-/tmp} t0 t_img dir
        t0=$(_ctd_now_us)
        dir=$(mktemp -d "$tmp/podreaper-ctd.XXXXXX") || return 1
        # the socket path must fit sockaddr_un, and the dir is matched literally in argv and mountinfo
        if [ "${#dir}" -gt 80 ] || ! [[ $dir =~ ^[A-Za-z0-9/._-]+$ ]]; then
                _ctd_log "ctd_start: temp dir '$dir' is too long or has odd characters; set CTD_TMPDIR"
                rmdir "$dir"
                return 1
        fi
        : >"$dir/$_CTD_MARK"
        echo "$kubepods" >"$dir/kubepods"
        # the shell that owns this run, for ctd_cleanup_stale: pid and start time (pids are reused)
        echo "$$ $(_ctd_starttime $$)" >"$dir/owner"
        export CTD_DIR=$dir CTD_SOCK=$dir/containerd.sock CTD_KUBEPODS=$kubepods
        mkdir -p "$dir/root" "$dir/state" "$dir/tmp" "$dir/opt" "$dir/runc" "$dir/images" || {
                ctd_stop >/dev/null 2>&1
                return 1
        }
        if [ -n "${CTD_ROOT_TMPFS:-}" ] &&
                ! mount -t tmpfs -o "size=$CTD_ROOT_TMPFS,mode=0711" tmpfs "$dir/root"; then
                _ctd_log "ctd_start: cannot mount a tmpfs of $CTD_ROOT_TMPFS on $dir/root"
                ctd_stop >/dev/null 2>&1
                return 1
        fi
        if ! _ctd_write_cni "$dir" || ! _ctd_write_config "$dir"; then
                _ctd_log "ctd_start: cannot write the config into $dir"
                ctd_stop >/dev/null 2>&1
                return 1
        fi

        if ! _ctd_spawn "$dir"; then
                ctd_stop >/dev/null 2>&1
                return 1
        fi
        local t_up version=$_CTD_VERSION
        t_up=$(_ctd_since "$t0")
        if ! timeout 5 ctr --address "$CTD_SOCK" plugins ls 2>/dev/null |
                grep -Eq '^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok[[:space:]]*$'; then
                _ctd_log "ctd_start: the CRI plugin did not load"
                _ctd_log_tail "$dir/containerd.log"
                ctd_stop >/dev/null 2>&1
                return 1
        fi

        t_img=$(_ctd_now_us)
        if ! ctd_build_image registry.k8s.io/pause:3.9 /bin/sleep infinity ||
                ! ctd_build_image docker.io/library/busybox:1.35 /bin/sh; then
                _ctd_log_tail "$dir/containerd.log"
                ctd_stop >/dev/null 2>&1
                return 1
        fi
        _ctd_log "containerd${version:+ $version} pid $CTD_PID at $CTD_SOCK: up in ${t_up} s, 2 images in $(_ctd_since "$t_img") s, total $(_ctd_since "$t0") s"
}

ctd_stop() {
        _ctd_run _ctd_stop
}

_ctd_stop() {
        local dir=${CTD_DIR:-}
        if [ -z "$dir" ]; then
                return 0
        fi
        if [ ! -f "$dir/$_CTD_MARK" ]; then
                if [ -e "$dir" ]; then
                        _ctd_log "ctd_stop: '$dir' was not made by ctd_start; not touching it"
                        _ctd_unset
                        return 1
                fi
                _ctd_unset
                return 0
        fi
        local t0 sock=$dir/containerd.sock kubepods pid f p failed=0
        t0=$(_ctd_now_us)
        kubepods=$(_ctd_read_line "$dir/kubepods")

        # 1. containerd first, so that nothing restarts or re-creates what follows.
        pid=$(_ctd_read_line "$dir/containerd.pid")
        if [ -n "$pid" ] && _ctd_pid_has_arg "$pid" "$dir/config.toml"; then
                kill -KILL "$pid" 2>/dev/null
                _ctd_wait_dead 50 "$pid"
        fi

        # 2. Containers: every process in their cgroups and in the kubepods trees the tests used.
        #    Their shims are still alive and reap them (else they would be left to pid 1).
        local -a cgroups=() tops=()
        local -A cgset=()
        mapfile -t cgroups < <(_ctd_container_cgroups "$dir" "$kubepods" | sort -u)
        for p in "${cgroups[@]}"; do
                cgset[$p]=1
        done
        for p in "${cgroups[@]}"; do
                # only the topmost of nested trees
                f=${p%/*}
                while [ -n "$f" ] && [ -z "${cgset[$f]:-}" ]; do
                        f=${f%/*}
                done
                [ -z "$f" ] && tops+=("$p")
        done
        _CTD_KILLED=()
        if ! _ctd_cgroups_kill "${tops[@]}"; then
                _ctd_log "ctd_stop: processes left in ${tops[*]}"
                failed=1
        fi
        local nkilled=${#_CTD_KILLED[@]}
        _ctd_wait_dead 10 "${_CTD_KILLED[@]}"

        # 3. Shims (-address <our socket> in argv) and stray runc/ctr/CNI/publish calls. Note the
        #    shims' sockets first: a SIGKILLed shim leaves its socket in /run/containerd/s.
        local -a pids=() sockets=()
        local sweep
        for sweep in 1 2; do
                # a second round for helpers started while we were killing (a shim's last call)
                mapfile -t pids < <(_ctd_find_helpers "$dir")
                [ "${#pids[@]}" -gt 0 ] || break
                for p in "${pids[@]}"; do
                        mapfile -t -O "${#sockets[@]}" sockets < <(_ctd_shim_sockets "$p")
                done
                kill -KILL "${pids[@]}" 2>/dev/null
                nkilled=$((nkilled + ${#pids[@]}))
                if ! _ctd_wait_dead 50 "${pids[@]}"; then
                        _ctd_log "ctd_stop: shim or helper processes still alive after SIGKILL: ${pids[*]}"
                        failed=1
                fi
        done
        mapfile -t -O "${#sockets[@]}" sockets < <(_ctd_bundle_sockets "$dir")
        _ctd_cgroups_remove "${tops[@]}" || failed=1

        # 4. Mounts beneath the dir (rootfs overlays, sandbox shm, netns, the optional tmpfs root).
        local pass mp
        local -a mps=()
        for ((pass = 0; pass < 5; pass++)); do
                mapfile -t mps < <(_ctd_mounts_beneath "$dir")
                [ "${#mps[@]}" -eq 0 ] && break
                for mp in "${mps[@]}"; do
                        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
                done
        done
        mapfile -t mps < <(_ctd_mounts_beneath "$dir")
        if [ "${#mps[@]}" -gt 0 ]; then
                _ctd_log "ctd_stop: still mounted beneath $dir: ${mps[*]}"
                failed=1
        fi

        # 5. The sockets, then the dir, never across a file system boundary.
        local nsockets=0
        for p in "${sockets[@]}"; do
                [ -S "$p" ] && rm -f "$p" && nsockets=$((nsockets + 1))
        done
        rm -rf --one-file-system "$dir" 2>/dev/null
        if [ -e "$dir" ]; then
                _ctd_log "ctd_stop: cannot remove $dir"
                failed=1
        fi
        _ctd_unset
        _ctd_log "containerd stopped: ${nkilled} processes killed, ${#tops[@]} cgroup trees and ${nsockets} shim sockets removed in $(_ctd_since "$t0") s"
        [ "$failed" -eq 0 ]
}

# Tears down runs whose owner is gone (a test runner SIGKILLed with-containerd.sh): every
# <CTD_TMPDIR>/podreaper-ctd.* made by ctd_start whose owner shell (pid + start time) no longer
# exists. A run whose owner lives is never touched, whatever state its containerd is in.
ctd_cleanup_stale() {
        _ctd_run _ctd_cleanup_stale
}

_ctd_cleanup_stale() {
        local d owner start rc=0
        for d in "${CTD_TMPDIR:-/tmp}"/podreaper-ctd.*; do
                [ -f "$d/$_CTD_MARK" ] || continue
                read -r owner start 2>/dev/null <"$d/owner" || continue
                [ -n "$owner" ] && [ -n "$start" ] && [ "$(_ctd_starttime "$owner")" = "$start" ] && continue
                _ctd_log "ctd_cleanup_stale: $d (owner pid $owner is gone)"
                (CTD_DIR=$d ctd_stop) || rc=1
        done
        return "$rc"
}

# A runtime crash, for orphan tests: SIGKILL containerd and its shims (by pid, argv checked); the
# containers keep running, their state, mounts and cgroups stay. To make them processes nobody
# knows, move runc's state ($CTD_DIR/runc/k8s.io) elsewhere below $CTD_DIR (ctd_stop still finds
# it there) before ctd_restart: a restarted containerd cleans up after dead shims through runc.
ctd_crash() {
        _ctd_run _ctd_crash
}

_ctd_crash() {
        local dir=${CTD_DIR:-} pid
        local -a pids=()
        if [ -z "$dir" ] || [ ! -f "$dir/$_CTD_MARK" ]; then
                _ctd_log "ctd_crash: no containerd started"
                return 1
        fi
        pid=$(_ctd_read_line "$dir/containerd.pid")
        if [ -n "$pid" ] && _ctd_pid_has_arg "$pid" "$dir/config.toml"; then
                kill -KILL "$pid" 2>/dev/null
                _ctd_wait_dead 50 "$pid"
        fi
        local -a sockets=()
        local p
        mapfile -t pids < <(_ctd_find_helpers "$dir")
        for p in "${pids[@]}"; do
                mapfile -t -O "${#sockets[@]}" sockets < <(_ctd_shim_sockets "$p")
        done
        [ "${#pids[@]}" -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
        if ! _ctd_wait_dead 50 "${pids[@]}"; then
                _ctd_log "ctd_crash: still alive after SIGKILL: ${pids[*]}"
                return 1
        fi
        # what a dead shim's socket would tell a restarted containerd, ENOENT does too
        for p in "${sockets[@]}"; do
                [ -S "$p" ] && rm -f "$p"
        done
        _ctd_log "containerd crashed: pid $pid and ${#pids[@]} shims/helpers SIGKILLed"
}

# Starts containerd again on the same dir and config after ctd_crash (or after it died); exports
# the new CTD_PID.
ctd_restart() {
        _ctd_run _ctd_restart
}

_ctd_restart() {
        local dir=${CTD_DIR:-} pid t0
        if [ -z "$dir" ] || [ ! -f "$dir/$_CTD_MARK" ]; then
                _ctd_log "ctd_restart: no containerd started"
                return 1
        fi
        pid=$(_ctd_read_line "$dir/containerd.pid")
        if [ -n "$pid" ] && _ctd_pid_has_arg "$pid" "$dir/config.toml"; then
                _ctd_log "ctd_restart: containerd pid $pid is still running"
                return 1
        fi
        t0=$(_ctd_now_us)
        _ctd_spawn "$dir" || return 1
        _ctd_log "containerd restarted: pid $CTD_PID, up in $(_ctd_since "$t0") s"
}
