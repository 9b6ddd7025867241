#!/usr/bin/python3
"""cri-smoke.py: proves that the private containerd of tests/e2e/lib/containerd.sh serves what the
e2e tests need, through CRI itself (Debian's python3-grpcio, protobuf hand-encoded with the field
numbers of kubernetes/cri-api runtime/v1): Version, both images in ListImages, ImageFsInfo, a
host-network and a pod-network sandbox (CNI) with cgroup_parent under the test's kubepods name, a
running busybox container in each. It leaves them running, so that a teardown can be checked
(--remove stops and removes them instead). Prints one line per sandbox: "<sandbox id> <container
id> <pod uid> <ip>", then "ok".

    cri-smoke.py --endpoint unix:///path/containerd.sock --kubepods kpe2e123 --log-dir DIR [--pods N]
"""

import argparse
import os
import sys
import uuid

import grpc

RUNTIME = "/runtime.v1.RuntimeService/"
IMAGES = "/runtime.v1.ImageService/"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, n):
    return varint(num << 3) + varint(n)


def string_map(num, entries):
    return b"".join(field_bytes(num, field_bytes(1, k) + field_bytes(2, v)) for k, v in entries.items())


def parse(buf):
    """Generic protobuf decode: {field number: [int | bytes, ...]}."""
    out = {}
    i = 0
    while i < len(buf):
        key = 0
        shift = 0
        while True:
            b = buf[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        num, wire = key >> 3, key & 7
        if wire == 0:
            val = 0
            shift = 0
            while True:
                b = buf[i]
                i += 1
                val |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
        elif wire == 2:
            n = 0
            shift = 0
            while True:
                b = buf[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            val = bytes(buf[i:i + n])
            i += n
        elif wire == 1:
            val = buf[i:i + 8]
            i += 8
        elif wire == 5:
            val = buf[i:i + 4]
            i += 4
        else:
            raise ValueError(f"wire type {wire}")
        out.setdefault(num, []).append(val)
    return out


def sandbox_config(name, uid, kubepods, qos, log_dir, host_network):
    metadata = field_bytes(1, name) + field_bytes(2, uid) + field_bytes(3, "podreaper-e2e") + field_varint(4, 0)
    namespaces = field_varint(1, 2 if host_network else 0)  # NamespaceOption.network: NODE / POD
    linux = field_bytes(1, f"/{kubepods}/{qos}/pod{uid}" if qos else f"/{kubepods}/pod{uid}")
    linux += field_bytes(2, field_bytes(1, namespaces))
    labels = {"io.kubernetes.pod.uid": uid, "io.kubernetes.pod.name": name,
              "io.kubernetes.pod.namespace": "podreaper-e2e"}
    cfg = field_bytes(1, metadata)
    if not host_network:
        cfg += field_bytes(2, name)  # a host-network pod must have an empty hostname
    cfg += field_bytes(3, log_dir) + string_map(6, labels) + field_bytes(8, linux)
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default=os.environ.get("PODREAPER_TEST_CRI_ENDPOINT"))
    ap.add_argument("--kubepods", default=os.environ.get("PODREAPER_TEST_KUBEPODS"))
    ap.add_argument("--log-dir", default=os.path.join(os.environ.get("PODREAPER_TEST_CTD_DIR", "/nonexistent"), "pod-logs"))
    ap.add_argument("--pods", type=int, default=2, help="sandboxes to run, alternating host/pod network")
    ap.add_argument("--remove", action="store_true", help="stop and remove what was created")
    args = ap.parse_args()
    if not args.endpoint or not args.kubepods:
        ap.error("--endpoint and --kubepods (or PODREAPER_TEST_CRI_ENDPOINT/_KUBEPODS) are required")

    channel = grpc.insecure_channel(args.endpoint)

    def call(method, req=b"", timeout=30):
        return channel.unary_unary(method)(req, timeout=timeout)

    version = parse(call(RUNTIME + "Version"))
    if version[2][0] != b"containerd":
        sys.exit(f"runtime_name is {version[2][0]!r}, not containerd")

    images = parse(call(IMAGES + "ListImages"))
    tags = {t.decode() for img in images.get(1, []) for t in parse(img).get(2, [])}
    for want in ("registry.k8s.io/pause:3.9", "docker.io/library/busybox:1.35"):
        if want not in tags:
            sys.exit(f"ListImages lacks {want}: {sorted(tags)}")
    fs = parse(call(IMAGES + "ImageFsInfo"))
    mountpoint = parse(parse(fs[1][0])[2][0])[1][0].decode()  # image_filesystems[0].fs_id.mountpoint
    if not mountpoint.startswith(os.environ.get("PODREAPER_TEST_CTD_DIR", "/")):
        sys.exit(f"image filesystem {mountpoint} is not in the test's dir")

    created = []
    for n in range(args.pods):
        uid = str(uuid.uuid4())
        name = f"smoke-{n}"
        host_network = n % 2 == 0
        log_dir = os.path.join(args.log_dir, f"podreaper-e2e_{name}_{uid}")
        os.makedirs(log_dir, exist_ok=True)
        qos = ("besteffort", "burstable", "")[n % 3]
        cfg = sandbox_config(name, uid, args.kubepods, qos, log_dir, host_network)
        sandbox_id = parse(call(RUNTIME + "RunPodSandbox", field_bytes(1, cfg)))[1][0].decode()
        status = parse(parse(call(RUNTIME + "PodSandboxStatus", field_bytes(1, sandbox_id)))[1][0])
        ip = parse(status[5][0]).get(1, [b""])[0].decode() if 5 in status else ""
        if not host_network and not ip.startswith("10.88."):
            sys.exit(f"pod-network sandbox {sandbox_id} has no IP from the CNI plugin: {ip!r}")

        container = field_bytes(1, field_bytes(1, "sleeper") + field_varint(2, 0))
        container += field_bytes(2, field_bytes(1, "docker.io/library/busybox:1.35"))
        container += field_bytes(3, "/bin/sleep") + field_bytes(4, "3600") + field_bytes(11, "sleeper/0.log")
        req = field_bytes(1, sandbox_id) + field_bytes(2, container) + field_bytes(3, cfg)
        container_id = parse(call(RUNTIME + "CreateContainer", req))[1][0].decode()
        call(RUNTIME + "StartContainer", field_bytes(1, container_id))
        created.append((sandbox_id, container_id))
        print(sandbox_id, container_id, uid, ip or "host", flush=True)

    running = 0
    for c in parse(call(RUNTIME + "ListContainers")).get(1, []):
        if parse(c).get(6, [0])[0] == 1:  # Container.state CONTAINER_RUNNING
            running += 1
    if running < len(created):
        sys.exit(f"{running} containers running, expected {len(created)}")

    if args.remove:
        for sandbox_id, container_id in created:
            call(RUNTIME + "StopContainer", field_bytes(1, container_id) + field_varint(2, 0))
            call(RUNTIME + "RemoveContainer", field_bytes(1, container_id))
            call(RUNTIME + "StopPodSandbox", field_bytes(1, sandbox_id))
            call(RUNTIME + "RemovePodSandbox", field_bytes(1, sandbox_id))
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        sys.exit(f"cri-smoke.py: {e.code().name}: {e.details()}")
